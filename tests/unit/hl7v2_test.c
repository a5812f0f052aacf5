/*
 * hl7v2_test.c - the HL7 v2 parser, accessors and ACK builder: delimiters
 * from MSH, escapes, segment endings, limits, hostile input, and ACKs.
 * (The golden files of tests/data/hl7v2 are checked by hl7v2_golden_test.c.)
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hub_err.h"
#include "hl7v2/hl7v2.h"

#define ADT_A01                                                          \
    "MSH|^~\\&|ADM|HOSP|LAB|LABFAC|20260322120000-0500||ADT^A01^ADT_A01|" \
    "MSG101|P|2.5.1\r"                                                   \
    "EVN|A01|20260322120000\r"                                           \
    "PID|1||12345^^^MRN^MR~999^^^SSA^SS||Smith^John^Q||19800315|M\r"     \
    "PV1|1|I|W^389^1\r"

static struct arena A;

static void setup(void)
{
    arena_init(&A, 16 * 1024);
}

static void teardown(void)
{
    arena_release(&A);
}

static struct hl7_msg *parse_ok(const char *s)
{
    struct hl7_msg *m = NULL;
    struct hub_err err = { 0 };
    int rc = hl7_parse(&A, s, strlen(s), &m, &err);
    cr_assert_eq(rc, HUB_OK, "parse failed: %s at %s offset %zu",
                 err.what ? err.what : "?", err.field, err.offset);
    cr_assert_not_null(m);
    return m;
}

static int slice_is(struct slice s, const char *want)
{
    return s.len == strlen(want) && (s.len == 0 || memcmp(s.p, want, s.len) == 0);
}

#define assert_slice(s, want)                                            \
    cr_assert(slice_is((s), (want)), "got \"%.*s\", want \"%s\"",        \
              (int)(s).len, (s).p ? (s).p : "", (want))

TestSuite(hl7_parse, .init = setup, .fini = teardown);
TestSuite(hl7_ack, .init = setup, .fini = teardown);

Test(hl7_parse, reads_msh_header_fields)
{
    struct hl7_msg *m = parse_ok(ADT_A01);
    assert_slice(hl7_control_id(m), "MSG101");
    assert_slice(hl7_message_type(m), "ADT");
    assert_slice(hl7_trigger(m), "A01");
    assert_slice(hl7_version(m), "2.5.1");
    assert_slice(hl7_sending_application(m), "ADM");
    assert_slice(hl7_sending_facility(m), "HOSP");
    assert_slice(hl7_get(&A, m, "MSH", 0, 1, 0, 0, 0), "|");
    assert_slice(hl7_get(&A, m, "MSH", 0, 2, 0, 0, 0), "^~\\&");
    assert_slice(hl7_get(&A, m, "MSH", 0, 7, 0, 0, 0),
                 "20260322120000-0500");
}

/* MSH-11.1 and where it is, for the hub's refusal of a processing ID it
 * does not take; empty when absent, the MSH segment's offset then */
Test(hl7_parse, reads_the_processing_id_and_its_offset)
{
    static const char msg[] = "MSH|^~\\&|A|B|C|D|20260101||ADT^A04|1| T ^A|2.5\r"
                              "PID|1||a1\r";
    size_t off = 99;
    struct hl7_msg *m = parse_ok(msg);
    assert_slice(hl7_processing_id(m, &off), "T");
    cr_expect_eq(off, (size_t)(strstr(msg, "T ^A") - msg));
    m = parse_ok("MSH|^~\\&|A|B|C|D|20260101||ADT^A04|1\rPID|1||a1\r");
    assert_slice(hl7_processing_id(m, &off), "");
    cr_expect_eq(off, 0);
    assert_slice(hl7_processing_id(NULL, NULL), "");
}

Test(hl7_parse, splits_repetitions_components_and_subcomponents)
{
    struct hl7_msg *m = parse_ok(
        "MSH|^~\\&|A|B|C|D|20260101||ADT^A04|1|P|2.5\r"
        "PID|1||a1^^^AUTH&1.2.3&ISO^MR~b2^^^SSA^SS||Doe^Jane\r");
    assert_slice(hl7_get(&A, m, "PID", 0, 3, 0, 1, 0), "a1");
    assert_slice(hl7_get(&A, m, "PID", 0, 3, 0, 4, 1), "AUTH");
    assert_slice(hl7_get(&A, m, "PID", 0, 3, 0, 4, 2), "1.2.3");
    assert_slice(hl7_get(&A, m, "PID", 0, 3, 0, 4, 3), "ISO");
    assert_slice(hl7_get(&A, m, "PID", 0, 3, 0, 4, 0), "AUTH&1.2.3&ISO");
    assert_slice(hl7_get(&A, m, "PID", 0, 3, 1, 1, 0), "b2");
    assert_slice(hl7_get(&A, m, "PID", 0, 3, 1, 5, 0), "SS");
    assert_slice(hl7_get(&A, m, "PID", 0, 3, 2, 1, 0), "");
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 2, 0), "Jane");
    assert_slice(hl7_get(&A, m, "PID", 0, 99, 0, 1, 0), "");
    assert_slice(hl7_get(&A, m, "PV1", 0, 2, 0, 0, 0), "");
}

Test(hl7_parse, takes_every_delimiter_from_msh_never_assumes_them)
{
    /* the same message with five other delimiter sets */
    static const char *sets[] = { "|^~\\&", "#$%!*", "|:;?@", "!@#$%",
                                  "*^~\\&" };
    for (size_t k = 0; k < sizeof(sets) / sizeof(sets[0]); k++) {
        const char *d = sets[k];
        /* written with the standard set, then each delimiter translated */
        const char *tpl = "MSH|^~\\&|A|B|C|D|20260101||ADT^A08|X|P|2.4\r"
                          "PID|1||a1^^^AU&TH^MR~b2||Smith\\F\\^Ann\r";
        char msg[512];
        size_t n = 0;
        for (const char *t = tpl; *t; t++) {
            const char *hit = strchr("|^~\\&", *t);
            msg[n++] = hit ? d[hit - "|^~\\&"] : *t;
        }
        msg[n] = '\0';
        struct hl7_msg *m = parse_ok(msg);
        assert_slice(hl7_trigger(m), "A08");
        assert_slice(hl7_control_id(m), "X");
        assert_slice(hl7_get(&A, m, "PID", 0, 3, 0, 4, 1), "AU");
        assert_slice(hl7_get(&A, m, "PID", 0, 3, 0, 4, 2), "TH");
        assert_slice(hl7_get(&A, m, "PID", 0, 3, 1, 1, 0), "b2");
        char want[16];
        snprintf(want, sizeof(want), "Smith%c", d[0]);
        assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 1, 0), want);
        assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 2, 0), "Ann");
    }
}

Test(hl7_parse, decodes_every_standard_escape)
{
    struct hl7_msg *m = parse_ok(
        "MSH|^~\\&|A|B|C|D|20260101||ADT^A08|1|P|2.7\r"
        "NTE|1|f\\F\\s\\S\\t\\T\\r\\R\\e\\E\\x\\X41420a\\end|"
        "A\\H\\bold\\N\\z|keep\\Q\\me|open\\X4|hex\\X4G\\|nul\\X00\\x|"
        "line\\.br\\two|cs\\C2842\\x\r");
    assert_slice(hl7_get(&A, m, "NTE", 0, 2, 0, 0, 0),
                 "f|s^t&r~e\\xAB\nend");
    assert_slice(hl7_get(&A, m, "NTE", 0, 3, 0, 0, 0), "Aboldz");
    assert_slice(hl7_get(&A, m, "NTE", 0, 4, 0, 0, 0), "keep\\Q\\me");
    assert_slice(hl7_get(&A, m, "NTE", 0, 5, 0, 0, 0), "open\\X4");
    assert_slice(hl7_get(&A, m, "NTE", 0, 6, 0, 0, 0), "hex\\X4G\\");
    assert_slice(hl7_get(&A, m, "NTE", 0, 7, 0, 0, 0), "nulx");
    assert_slice(hl7_get(&A, m, "NTE", 0, 8, 0, 0, 0), "line\ntwo");
    assert_slice(hl7_get(&A, m, "NTE", 0, 9, 0, 0, 0), "csx");
}

Test(hl7_parse, keeps_escape_sequences_of_missing_delimiters_literally)
{
    /* only component and repetition separators: no escape char at all */
    struct hl7_msg *m = parse_ok("MSH|^~|A|B|C|D|2026||ADT^A08|1|P|2.5\r"
                                 "NTE|1|a\\F\\b\r");
    assert_slice(hl7_get(&A, m, "NTE", 0, 2, 0, 0, 0), "a\\F\\b");
}

Test(hl7_parse, treats_the_hl7_null_as_empty)
{
    struct hl7_msg *m = parse_ok("MSH|^~\\&|A|B|C|D|2026||ADT^A08|1|P|2.5\r"
                                 "PID|1||\"\"|x\r");
    assert_slice(hl7_get(&A, m, "PID", 0, 3, 0, 0, 0), "");
}

Test(hl7_parse, accepts_cr_lf_and_crlf_segment_ends_alike)
{
    static const char *ends[] = { "\r", "\n", "\r\n", "\n\n", "\r\n\r\n" };
    for (size_t k = 0; k < 5; k++) {
        char msg[512];
        snprintf(msg, sizeof(msg),
                 "MSH|^~\\&|A|B|C|D|2026||ADT^A01|7|P|2.3%sPID|1||42%s"
                 "PV1|1|O%s",
                 ends[k], ends[k], ends[k]);
        struct hl7_msg *m = parse_ok(msg);
        assert_slice(hl7_control_id(m), "7");
        assert_slice(hl7_version(m), "2.3");
        assert_slice(hl7_get(&A, m, "PID", 0, 3, 0, 0, 0), "42");
        assert_slice(hl7_get(&A, m, "PV1", 0, 2, 0, 0, 0), "O");
    }
}

Test(hl7_parse, tolerates_bom_and_surrounding_whitespace)
{
    struct hl7_msg *m =
        parse_ok("\xef\xbb\xbf\r\nMSH|^~\\&|A|B|C|D|2026||ADT^A01|9|P|2.5\r"
                 "PID|1||42\r\n  \t\r\n");
    assert_slice(hl7_control_id(m), "9");
    assert_slice(hl7_get(&A, m, "PID", 0, 3, 0, 0, 0), "42");
}

/* tests/data/real/SOURCES.md F33: a message saved with its MLLP frame
 * (VT ... FS CR) or a file's end (SUB, NUL padding) is the message */
Test(hl7_parse, passes_over_an_mllp_frame_and_a_files_end)
{
    static const char *const wrapped[] = {
        "\x0bMSH|^~\\&|A|B|C|D|2026||ADT^A01|9|P|2.5\rPID|1||42\r\x1c\r",
        "\x0b\xef\xbb\xbfMSH|^~\\&|A|B|C|D|2026||ADT^A01|9|P|2.5\rPID|1||42",
        "\r\n\x0bMSH|^~\\&|A|B|C|D|2026||ADT^A01|9|P|2.5\nPID|1||42\n\x1a",
        "MSH|^~\\&|A|B|C|D|2026||ADT^A01|9|P|2.5\rPID|1||42\r\x1c\r\x1a",
    };
    for (size_t k = 0; k < sizeof(wrapped) / sizeof(wrapped[0]); k++) {
        struct hl7_msg *m = parse_ok(wrapped[k]);
        assert_slice(hl7_control_id(m), "9");
        assert_slice(hl7_get(&A, m, "PID", 0, 3, 0, 0, 0), "42");
    }
    /* NUL padding after the last segment, and only there */
    const char pad[] = "MSH|^~\\&|A|B|C|D|2026||ADT^A01|9|P|2.5\rPID|1||42\r"
                       "\0\0\0";
    struct hl7_msg *m = NULL;
    struct hub_err err = { 0 };
    cr_assert_eq(hl7_parse(&A, pad, sizeof(pad) - 1, &m, &err), HUB_OK);
    assert_slice(hl7_get(&A, m, "PID", 0, 3, 0, 0, 0), "42");
    const char mid[] = "MSH|^~\\&|A|B|C|D|2026||ADT^A01|9|P|2.5\r\x1c\r"
                       "PID|1||42\r";
    cr_assert_eq(hl7_parse(&A, mid, sizeof(mid) - 1, &m, &err), HUB_ESYNTAX,
                 "a frame byte between segments is not passed over");
}

Test(hl7_parse, passes_over_z_segments)
{
    struct hl7_msg *m = parse_ok("MSH|^~\\&|A|B|C|D|2026||ADT^A01|9|P|2.5\r"
                                 "ZPI|custom|x\rPID|1||42\rZZ1|y\r");
    assert_slice(hl7_get(&A, m, "PID", 0, 3, 0, 0, 0), "42");
    assert_slice(hl7_get(&A, m, "ZPI", 0, 1, 0, 0, 0), "custom");
}

/* found by hl7v2_fuzz: splitting an absent value did NULL + 0 (UB) */
Test(hl7_parse, splits_absent_values_into_absent_pieces)
{
    struct hl7_msg *m = parse_ok("MSH|^~\\&|A|B|C|D|1999||ADT|OLD4|P|2.2\r"
                                 "EVN|A05|1999\rPID|1|E^^^R|I9\r");
    assert_slice(hl7_trigger(m), "");
    assert_slice(hl7_message_type(m), "ADT");
    assert_slice(hl7_get(&A, m, "PV1", 0, 2, 0, 1, 1), "");
    assert_slice(hl7_get(&A, m, "PID", 0, 40, 3, 2, 1), "");
    assert_slice(hl7_get(&A, m, "PID", 0, 2, 0, 4, 1), "R");
    struct hl7_msg *none = NULL;
    assert_slice(hl7_control_id(none), "");
}

static int parse_rc(const char *p, size_t n, struct hub_err *err,
                    struct hl7_msg **m)
{
    memset(err, 0, sizeof(*err));
    return hl7_parse(&A, p, n, m, err);
}

/* A segment ID in lower case (cosyte/hl7's "segment-case" fixture,
 * tests/data/real/hl7v2/r64-cosyte_vq_segment_case_a01_lowercase_pid.hl7)
 * is refused at its index; the reason says what an ID must be, which
 * "pid" (three letters) did not learn from "three letters or digits"
 * (SOURCES.md F461). */
Test(hl7_parse, refuses_a_lowercase_segment_id_saying_capital)
{
    struct hub_err err;
    struct hl7_msg *m;
    const char *msg = "MSH|^~\\&|A|B|C|D|2026||ADT^A01|9|P|2.5\r"
                      "EVN|A01|2026\rpid|1||42\rPV1|1|I\r";
    cr_assert_eq(parse_rc(msg, strlen(msg), &err, &m), HUB_ESYNTAX);
    cr_assert_str_eq(err.field, "segment[2]");
    cr_assert_eq(err.offset, (size_t)(strstr(msg, "pid|") - msg));
    cr_assert_str_eq(err.what,
                     "segment ID is not three capital letters or digits");
}

/* F35: segments indented as a document or a string literal shows them */
Test(hl7_parse, passes_over_blanks_before_a_segment_id)
{
    struct hl7_msg *m =
        parse_ok("MSH|^~\\&|A|B|C|D|2026||ADT^A01|9|P|2.5\n"
                 "    EVN|A01|2026\n\t PID|1||42\r\n  \r\n   PV1|1|I\n");
    assert_slice(hl7_get(&A, m, "PID", 0, 3, 0, 0, 0), "42");
    assert_slice(hl7_get(&A, m, "PV1", 0, 2, 0, 0, 0), "I");
    assert_slice(hl7_get(&A, m, "EVN", 0, 1, 0, 0, 0), "A01");
    /* a blank inside an ID is no blank before it */
    struct hub_err err;
    const char *bad = "MSH|^~\\&|A|B|C|D|2026||ADT^A01|9|P|2.5\rP ID|1\r";
    cr_assert_eq(parse_rc(bad, strlen(bad), &err, &m), HUB_ESYNTAX);
    cr_assert_str_eq(err.field, "segment[1]");
}

Test(hl7_parse, rejects_message_without_msh)
{
    struct hub_err err;
    struct hl7_msg *m;
    const char *s = "PID|1||42\r";
    cr_assert_eq(parse_rc(s, strlen(s), &err, &m), HUB_ESYNTAX);
    cr_assert_null(m);
    cr_assert_str_eq(err.field, "MSH");
    cr_assert_eq(parse_rc("", 0, &err, &m), HUB_ESYNTAX);
    cr_assert_eq(parse_rc(NULL, 0, &err, &m), HUB_ESYNTAX);
}

/* A batch file (FHS/BHS ... BTS/FTS, HL7 v2.5.1 ch. 2.10.3) is well-formed
 * HL7 but not one message: hl7_parse (an MLLP frame, answered by one ACK)
 * refuses it as unsupported at its header, not as a malformed message;
 * POST /v1/hl7v2 unwraps it with hl7_batch_read (hl7v2_batch_test.c). */
Test(hl7_parse, refuses_a_batch_file_as_unsupported_at_its_header)
{
    struct hub_err err;
    struct hl7_msg *m;
    const char *fhs = "FHS|^~\\&||A\rBHS|^~\\&||A\r"
                      "MSH|^~\\&|A|B|C|D|2026||ADT^A04|7|P|2.3\rPID|1||42\r"
                      "BTS|1\rFTS|1\r";
    cr_assert_eq(parse_rc(fhs, strlen(fhs), &err, &m), HUB_EUNSUPPORTED);
    cr_assert_null(m);
    cr_assert_str_eq(err.field, "FHS");
    cr_assert_eq(err.offset, 0);
    cr_assert_str_eq(err.what,
                     "a batch file is taken whole by POST /v1/hl7v2, not as "
                     "one message: send each message alone");
    const char *bhs = "\r\nBHS|^~\\&||A\rMSH|^~\\&|A|B|C|D|2026||ADT^A04|7|"
                      "P|2.3\rBTS|1\r";
    cr_assert_eq(parse_rc(bhs, strlen(bhs), &err, &m), HUB_EUNSUPPORTED);
    cr_assert_str_eq(err.field, "BHS");
    cr_assert_eq(err.offset, 2);
    struct slice ack;
    cr_assert_eq(hl7_ack(&A, NULL, "AR", &err, "K", "2026", &ack), HUB_OK);
    cr_assert(strstr(ack.p, "ERR||BHS^1|200^Unsupported message type^HL70357|E|||"
                            "byte offset 2|a batch file is taken whole by POST /v1/hl7v2, "
                            "not as one message: send each message alone\r") != NULL, "%.*s", (int)ack.len, ack.p);
    /* FHS as the start of other text is still no MSH */
    cr_assert_eq(parse_rc("FHSX|1", 6, &err, &m), HUB_ESYNTAX);
    cr_assert_str_eq(err.field, "MSH");
}

/* MSH-18 (HL7 table 0211) names the character set. A message whose bytes
 * are not UTF-8 is read as its UTF-8 translation: "Pe\xf1a" must not
 * become "Pe\uFFFDa" in every event, where no subscriber could match the
 * name again. 8859/15 as itself; 8859/1, ASCII (7-bit, so not what was
 * sent) and no MSH-18 as Windows-1252, as the WHATWG Encoding Standard
 * reads Latin-1 (US feeds often leave MSH-18 empty and send Windows text).
 * A message that is valid UTF-8 is read as it is whatever MSH-18 says
 * (ansforge's 8859/15 sample is UTF-8); another declared set (8859/2, ...)
 * is not guessed at. */
Test(hl7_parse, reads_latin_text_after_valid_utf8_sequences_whole)
{
    /* valid four-byte UTF-8 sequences, then a byte that is not UTF-8: the
     * whole message is Windows-1252, and every one of its high bytes
     * grows (F0 9F 98 80 take 9 bytes, not 4 + 2 for one "sequence"); the
     * fields after them must come out as sent, not overwritten */
    struct hl7_msg *m = parse_ok(
        "MSH|^~\\&|A|B|C|D|2026||ADT^A08|12|P|2.5\r"
        "PID|1||42||Doe^J||"
        "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
        "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
        "\xa9|F|||1 Main St||(27\r");
    assert_slice(hl7_get(&A, m, "PID", 0, 7, 0, 0, 0),
                 "\xc3\xb0\xc5\xb8\xcb\x9c\xe2\x82\xac\xc3\xb0\xc5\xb8\xcb\x9c"
                 "\xe2\x82\xac\xc3\xb0\xc5\xb8\xcb\x9c\xe2\x82\xac\xc3\xb0\xc5\xb8"
                 "\xcb\x9c\xe2\x82\xac\xc3\xb0\xc5\xb8\xcb\x9c\xe2\x82\xac\xc3\xb0"
                 "\xc5\xb8\xcb\x9c\xe2\x82\xac\xc3\xb0\xc5\xb8\xcb\x9c\xe2\x82\xac"
                 "\xc3\xb0\xc5\xb8\xcb\x9c\xe2\x82\xac\xc2\xa9");
    assert_slice(hl7_get(&A, m, "PID", 0, 13, 0, 0, 0), "(27");
    assert_slice(hl7_get(&A, m, "PID", 0, 11, 0, 1, 0), "1 Main St");
}

Test(hl7_parse, reads_latin_text_as_utf8_unless_it_is_utf8)
{
    struct hl7_msg *m = parse_ok(
        "MSH|^~\\&|A|B|C|D|2026||ADT^A08|7|P|2.5|||||USA|8859/1\r"
        "PID|1||42||Pe\xf1" "a^Jos\xe9^^^^^L||19700101|M|||"
        "Stra\xdf" "e 1^^K\xf6ln\r");
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 1, 0), "Pe\xc3\xb1" "a");
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 2, 0), "Jos\xc3\xa9");
    assert_slice(hl7_get(&A, m, "PID", 0, 11, 0, 3, 0), "K\xc3\xb6ln");
    assert_slice(hl7_control_id(m), "7");
    /* 8859-15 differs from 8859-1 in eight places: the euro sign, oe */
    m = parse_ok("MSH|^~\\&|A|B|C|D|2026||ADT^A08|8|P|2.5|||||FRA|8859/15\r"
                 "PID|1||42||C\xbd" "ur^A\xa4\r");
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 1, 0), "C\xc5\x93ur");
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 2, 0), "A\xe2\x82\xac");
    /* declared 8859/1, sent as UTF-8: kept */
    m = parse_ok("MSH|^~\\&|A|B|C|D|2026||ADT^A08|9|P|2.5|||||USA|8859/1\r"
                 "PID|1||42||Pe\xc3\xb1" "a\r");
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 1, 0), "Pe\xc3\xb1" "a");
    /* no MSH-18, or ASCII: Windows-1252 (curly quotes in 0x80-0x9F) */
    m = parse_ok("MSH|^~\\&|A|B|C|D|2026||ADT^A08|10|P|2.5\r"
                 "PID|1||42||Pe\xf1" "a^\x93" "Bo\x94\r");
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 1, 0), "Pe\xc3\xb1" "a");
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 2, 0),
                 "\xe2\x80\x9c" "Bo\xe2\x80\x9d");
    m = parse_ok("MSH|^~\\&|A|B|C|D|2026||ADT^A08|11|P|2.5|||||USA|ASCII\r"
                 "PID|1||42||Pe\xf1" "a\r");
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 1, 0), "Pe\xc3\xb1" "a");
    /* a UTF-8 byte order mark before a Windows-1252 message */
    m = parse_ok("\xef\xbb\xbfMSH|^~\\&|A|B|C|D|2026||ADT^A08|13|P|2.5\r"
                 "PID|1||42||Pe\xf1" "a\r");
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 1, 0), "Pe\xc3\xb1" "a");
    /* 8859/2 by its table (F600): F1 is n acute there */
    m = parse_ok("MSH|^~\\&|A|B|C|D|2026||ADT^A08|12|P|2.5|||||POL|8859/2\r"
                 "PID|1||42||Pe\xf1" "a\r");
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 1, 0), "Pe\xc5\x84" "a");
    /* a set the hub does not read is not guessed at */
    m = parse_ok("MSH|^~\\&|A|B|C|D|2026||ADT^A08|14|P|2.5|||||KOR|"
                 "KS X 1001\rPID|1||42||Pe\xf1" "a\r");
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 1, 0), "Pe\xf1" "a");
}

/* \Xhh\ is hexadecimal data (HL7 v2 chapter 2): its bytes are text in the
 * set MSH-18 declares, as the same bytes sent unescaped are. A feed that
 * escapes what is past ASCII sends "M\XFC\ller" under 8859/1 for Müller:
 * read as UTF-8 it was "M" U+FFFD "ller" in every event, where no
 * subscriber could match the name again (F2500). Bytes that make UTF-8
 * stay UTF-8, split over two escapes too, as a UTF-8 message does
 * whatever MSH-18 says; under UTF-8 or a set the hub does not read, a
 * byte that is no UTF-8 is still left to become U+FFFD. */
Test(hl7_parse, reads_hex_data_in_the_declared_set)
{
    struct hl7_msg *m = parse_ok(
        "MSH|^~\\&|A|B|C|D|2026||ADT^A08|1|P|2.4||||||8859/1\r"
        "PID|1||42||M\\XFC\\ller^J\\XC3\\\\XB6\\rg^\\X93\\Bo\\X94\\\r");
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 1, 0), "M\xc3\xbcller");
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 2, 0), "J\xc3\xb6rg");
    /* Windows-1252 as for raw bytes: curly quotes in 0x80-0x9F */
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 3, 0),
                 "\xe2\x80\x9c" "Bo\xe2\x80\x9d");
    /* no MSH-18, and a message whose other bytes are Latin already */
    m = parse_ok("MSH|^~\\&|A|B|C|D|2026||ADT^A08|2|P|2.4\r"
                 "PID|1||42||K\xf6hler^J\\XF6\\rg\r");
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 1, 0), "K\xc3\xb6hler");
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 2, 0), "J\xc3\xb6rg");
    /* 8859/15 and 8859/2 by their tables */
    m = parse_ok("MSH|^~\\&|A|B|C|D|2026||ADT^A08|3|P|2.5||||||8859/15\r"
                 "PID|1||42||C\\XBD\\ur\r");
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 1, 0), "C\xc5\x93ur");
    m = parse_ok("MSH|^~\\&|A|B|C|D|2026||ADT^A08|4|P|2.5||||||8859/2\r"
                 "PID|1||42||\\XA3F3\\d\\XBC\\\r");
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 1, 0),
                 "\xc5\x81\xc3\xb3" "d\xc5\xba");
    /* UTF-8 declared: a byte that is no UTF-8 is not guessed at */
    m = parse_ok("MSH|^~\\&|A|B|C|D|2026||ADT^A08|5|P|2.5||||||"
                 "UNICODE UTF-8\rPID|1||42||M\\XFC\\ller^J\\XC3B6\\rg\r");
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 1, 0), "M\xfcller");
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 2, 0), "J\xc3\xb6rg");
    /* SS-MIX2's "~ISO IR87": the default set empty, the second ISO 2022 */
    m = parse_ok("MSH|^~\\&|A|B|C|D|2026||ADT^A08|6|P|2.5||||||"
                 "~ISO IR87\rPID|1||42||M\\XFC\\ller\r");
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 1, 0), "M\xfcller");
}

/* hl7_to_events refuses m (parsed from msg) for its empty PID-3, naming
 * the PID segment by its offset in the bytes sent; *err is the refusal. */
static void assert_pid3_refused(struct hl7_msg *m, const char *msg,
                                struct hub_err *err)
{
    struct canon_list l = { 0 };
    cr_assert_eq(hl7_to_events(&A, m, &l, err), HUB_EINVALID);
    cr_assert_str_eq(err->field, "PID-3");
    cr_assert_eq(err->offset, (size_t)(strstr(msg, "PID|") - msg),
                 "offset %zu", err->offset);
}

/* A Latin message is normalized from its UTF-8 translation, where each
 * accented letter takes two or three bytes; a refusal must still name the
 * place in the bytes sent (here PID, after "\xe9" and "\x80", which become
 * five bytes). */
Test(hl7_to_events, names_the_offset_in_the_bytes_sent_of_a_latin_message)
{
    static const char msg[] =
        "MSH|^~\\&|A|B|C|D|2026||ADT^A08|14|P|2.5\r"
        "EVN|A08|2026\r"
        "ZXX|Caf\xe9 \x80\r"
        "PID|1||\r";
    struct hl7_msg *m = parse_ok(msg);
    struct hub_err err = { 0 };
    assert_pid3_refused(m, msg, &err);
}

/* SS-MIX2 (Japan) sends ISO-2022-JP: MSH-18 "~ISO IR87" (the first
 * repetition, the default set, empty), MSH-20 "ISO 2022-1994", and kanji
 * and kana between ESC $ B and ESC ( B. The text is decoded before it is
 * split: HIRAGANA MA is 0x24 0x5E ("$^") and U is 0x24 0x26 ("$&"), bytes
 * of the component and subcomponent separators. */
#define JIS_YAMADA "\x1b$B;3ED\x1b(B"           /* 山田 */
#define JIS_TARO "\x1b$BB@O:\x1b(B"             /* 太郎 */
#define JIS_YAMADA_KANA "\x1b$B$d$^$@\x1b(B"    /* やまだ */
#define JIS_TARO_KANA "\x1b$B$?$m$&\x1b(B"      /* たろう */
#define U8_YAMADA "\xe5\xb1\xb1\xe7\x94\xb0"
#define U8_TARO "\xe5\xa4\xaa\xe9\x83\x8e"
#define U8_YAMADA_KANA "\xe3\x82\x84\xe3\x81\xbe\xe3\x81\xa0"
#define U8_TARO_KANA "\xe3\x81\x9f\xe3\x82\x8d\xe3\x81\x86"

Test(hl7_parse, reads_iso_2022_jp_text_as_utf8_when_msh_18_names_it)
{
    struct hl7_msg *m = parse_ok(
        "MSH|^~\\&|HIS|SEND|GW|RCV|2011||ADT^A08^ADT_A01|1|P|2.5||||||"
        "~ISO IR87||ISO 2022-1994\r"
        "PID|0001||9999013||" JIS_YAMADA "^" JIS_TARO "^^^^^L^I~"
        JIS_YAMADA_KANA "^" JIS_TARO_KANA "^^^^^L^P||19480405|M\r");
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 1, 0), U8_YAMADA);
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 2, 0), U8_TARO);
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 1, 1, 0), U8_YAMADA_KANA);
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 1, 2, 0), U8_TARO_KANA);
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 1, 8, 0), "P");
    assert_slice(hl7_get(&A, m, "PID", 0, 7, 0, 0, 0), "19480405");

    /* JIS X 0212 ("ISO IR159", ESC $ ( D) in the first repetition; a
     * segment that forgot its escape back to ASCII before CR does not
     * take the next one with it */
    m = parse_ok("MSH|^~\\&|A|B|C|D|2011||ADT^A08|2|P|2.5||||||"
                 "ISO IR159\r"
                 "PID|1||42||\x1b$(D0!\r"
                 "PV1|1|I\r");
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 1, 0), "\xe4\xb8\x82");
    assert_slice(hl7_get(&A, m, "PV1", 0, 2, 0, 0, 0), "I");

    /* not named in MSH-18: read as sent (7-bit, so "ASCII") */
    m = parse_ok("MSH|^~\\&|A|B|C|D|2011||ADT^A08|3|P|2.5\r"
                 "PID|1||42||" JIS_YAMADA "\r");
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 1, 0), JIS_YAMADA);
}

/* HL7 v2.3 ch. 2.9.2: \M2442\ is ESC $ B (JIS X 0208) as an HL7 escape,
 * \C2842\ back to ASCII; a kanji's bytes that are delimiters come as
 * their escapes (HIRAGANA MA is "$^": "$\S\"). */
#define HL7_MSH_JIS "MSH|^~\\&|A|B|C|D|2011||ADT^A08|5|P|2.5||||||"

Test(hl7_parse, decodes_charset_escapes_of_the_sets_msh_18_names)
{
    struct hl7_msg *m = parse_ok(
        HL7_MSH_JIS "~ISO IR87~ISO IR159~ISO IR14~ISO IR13||2.3\r"
        "NTE|1|\\M2442\\$3$s$K$A$O\\C2842\\|\\M2442\\$\\S\\\\C2842\\|"
        "A\\M2442\\0!\\C2842\\B|\\M2442\\0!|x\\M2442\\0!\\M242844\\0!|"
        "\\C284A\\\\E\\\\R\\\\C2842\\\\E\\|\\C2949\\12\\C2842\\|"
        "\\M2442\\0\\C2842\\z|\\C284a\\\\E\\\\C2842\\|"
        "\\M2442\\0!\\.br\\0!\r");
    /* こんにちは; ま; A亜B; a run to the value's end; one set after
     * another (亜, then 丂 of JIS X 0212) */
    assert_slice(hl7_get(&A, m, "NTE", 0, 2, 0, 0, 0),
                 "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1"
                 "\xe3\x81\xaf");
    assert_slice(hl7_get(&A, m, "NTE", 0, 3, 0, 0, 0), "\xe3\x81\xbe");
    assert_slice(hl7_get(&A, m, "NTE", 0, 4, 0, 0, 0), "A\xe4\xba\x9c" "B");
    assert_slice(hl7_get(&A, m, "NTE", 0, 5, 0, 0, 0), "\xe4\xba\x9c");
    assert_slice(hl7_get(&A, m, "NTE", 0, 6, 0, 0, 0),
                 "x\xe4\xba\x9c\xe4\xb8\x82");
    /* JIS X 0201 Roman: 0x5C (\E\) is YEN SIGN, 0x7E (\R\) OVERLINE;
     * back in ASCII a backslash again */
    assert_slice(hl7_get(&A, m, "NTE", 0, 7, 0, 0, 0),
                 "\xc2\xa5\xe2\x80\xbe\\");
    /* JIS X 0201 Katakana: ｱｲ */
    assert_slice(hl7_get(&A, m, "NTE", 0, 8, 0, 0, 0),
                 "\xef\xbd\xb1\xef\xbd\xb2");
    /* a character cut short: U+FFFD, then ASCII again */
    assert_slice(hl7_get(&A, m, "NTE", 0, 9, 0, 0, 0), "\xef\xbf\xbdz");
    /* the hex digits in either case */
    assert_slice(hl7_get(&A, m, "NTE", 0, 10, 0, 0, 0), "\xc2\xa5");
    /* a line break inside a run keeps the run's set */
    assert_slice(hl7_get(&A, m, "NTE", 0, 11, 0, 0, 0),
                 "\xe4\xba\x9c\n\xe4\xba\x9c");
}

Test(hl7_parse, keeps_charset_escapes_of_sets_msh_18_does_not_name_as_before)
{
    /* no MSH-18: the escapes are dropped, the bytes kept as sent */
    struct hl7_msg *m = parse_ok(
        "MSH|^~\\&|A|B|C|D|2011||ADT^A08|6|P|2.5\r"
        "NTE|1|\\M2442\\$3$s\\C2842\\|\r");
    assert_slice(hl7_get(&A, m, "NTE", 0, 2, 0, 0, 0), "$3$s");
    /* another set named (JIS X 0212 only): JIS X 0208 stays undecoded */
    m = parse_ok(HL7_MSH_JIS "~ISO IR159\r"
                 "NTE|1|\\M2442\\0!\\C2842\\x|\\M242844\\0!\r");
    assert_slice(hl7_get(&A, m, "NTE", 0, 2, 0, 0, 0), "0!x");
    assert_slice(hl7_get(&A, m, "NTE", 0, 3, 0, 0, 0), "\xe4\xb8\x82");
    /* sets the hub does not decode (ISO 8859-1 as G1, \C2D41\), an
     * escape that is no set, one cut short: dropped or kept as before,
     * and each ends a run */
    m = parse_ok(HL7_MSH_JIS "~ISO IR87~ISO IR100\r"
                 "NTE|1|\\C2D41\\a|\\M2442\\0!\\C2D41\\0!|\\M24\\0!|"
                 "\\M2442\\0!\\M24\r");
    assert_slice(hl7_get(&A, m, "NTE", 0, 2, 0, 0, 0), "a");
    assert_slice(hl7_get(&A, m, "NTE", 0, 3, 0, 0, 0), "\xe4\xba\x9c" "0!");
    assert_slice(hl7_get(&A, m, "NTE", 0, 4, 0, 0, 0), "0!");
    assert_slice(hl7_get(&A, m, "NTE", 0, 5, 0, 0, 0),
                 "\xe4\xba\x9c\\M24");
}

Test(hl7_parse, leaves_a_run_that_is_not_7_bit_as_it_was_sent)
{
    /* UTF-8 (or Latin read as UTF-8) after \M2442\ is no JIS text */
    struct hl7_msg *m = parse_ok(HL7_MSH_JIS "~ISO IR87\r"
                                 "NTE|1|\\M2442\\\xc3\xa9t\xc3\xa9\r");
    assert_slice(hl7_get(&A, m, "NTE", 0, 2, 0, 0, 0), "\xc3\xa9t\xc3\xa9");
}

/* A refusal names the place in the bytes sent, and the ACK echoes MSH
 * values as sent, escape sequences and all. */
Test(hl7_to_events, names_the_offset_in_the_bytes_sent_of_an_iso_2022_jp_message)
{
    static const char msg[] =
        "MSH|^~\\&|HIS|" JIS_YAMADA "|GW|RCV|2011||ADT^A08|4|P|2.5||||||"
        "~ISO IR87\r"
        "EVN||2011\r"
        "ZXX|" JIS_TARO_KANA "x\x1b$Bzz\x1b(B\r"
        "PID|1||\r";
    struct hl7_msg *m = parse_ok(msg);
    assert_slice(hl7_sending_facility(m), U8_YAMADA);
    struct hub_err err = { 0 };
    assert_pid3_refused(m, msg, &err);
    struct slice ack;
    cr_assert_eq(hl7_ack(&A, m, "AE", &err, "A1", "20260101000000", &ack),
                 HUB_OK);
    static const char want[] = "|GW|RCV|HIS|" JIS_YAMADA "|";
    bool found = false;
    for (size_t k = 0; !found && k + strlen(want) <= ack.len; k++)
        found = memcmp(ack.p + k, want, strlen(want)) == 0;
    cr_assert(found, "ACK: %.*s", (int)ack.len, ack.p);
}

Test(hl7_parse, rejects_msh_with_only_its_field_separator)
{
    struct hub_err err;
    struct hl7_msg *m;
    cr_assert_eq(parse_rc("MSH|", 4, &err, &m), HUB_ESYNTAX);
    cr_assert_eq(parse_rc("MSH||||||||", 11, &err, &m), HUB_ESYNTAX);
    cr_assert_str_eq(err.field, "MSH-2");
    cr_assert_null(m);
}

Test(hl7_parse, rejects_bad_delimiters)
{
    struct hub_err err;
    struct hl7_msg *m;
    const char *alnum = "MSHA^~\\&|x|y\r";
    cr_assert_eq(parse_rc(alnum, strlen(alnum), &err, &m), HUB_ESYNTAX);
    cr_assert_str_eq(err.field, "MSH-1");
    const char *dup = "MSH|^^\\&|A|B\r";
    cr_assert_eq(parse_rc(dup, strlen(dup), &err, &m), HUB_ESYNTAX);
    cr_assert_str_eq(err.field, "MSH-2");
    const char *six = "MSH|^~\\&#$|A|B\r";
    cr_assert_eq(parse_rc(six, strlen(six), &err, &m), HUB_ESYNTAX);
}

Test(hl7_parse, rejects_bad_segment_id_but_keeps_msh_for_the_ack)
{
    struct hub_err err;
    struct hl7_msg *m;
    const char *s = "MSH|^~\\&|A|B|C|D|2026||ADT^A01|77|P|2.5\r1ID|1\r";
    cr_assert_eq(parse_rc(s, strlen(s), &err, &m), HUB_ESYNTAX);
    cr_assert_not_null(m);
    assert_slice(hl7_control_id(m), "77");
    cr_assert_eq(err.offset, strlen("MSH|^~\\&|A|B|C|D|2026||ADT^A01|77|P|2.5\r"));
    const char *lower = "MSH|^~\\&|A|B|C|D|2026||ADT^A01|77|P|2.5\rpid|1\r";
    cr_assert_eq(parse_rc(lower, strlen(lower), &err, &m), HUB_ESYNTAX);
    const char *longid = "MSH|^~\\&|A|B|C|D|2026||ADT^A01|7|P|2.5\rPIDX|1\r";
    cr_assert_eq(parse_rc(longid, strlen(longid), &err, &m), HUB_ESYNTAX);
}

Test(hl7_parse, rejects_nul_byte_and_second_msh)
{
    struct hub_err err;
    struct hl7_msg *m;
    const char nul[] = "MSH|^~\\&|A|B|C|D|2026||ADT^A01|7|P|2.5\rPID|1|\0|x\r";
    cr_assert_eq(parse_rc(nul, sizeof(nul) - 1, &err, &m), HUB_ESYNTAX);
    cr_assert_str_eq(err.field, "PID-2");
    const char *two = "MSH|^~\\&|A|B|C|D|2026||ADT^A01|7|P|2.5\r"
                      "MSH|^~\\&|A|B|C|D|2026||ADT^A01|8|P|2.5\r";
    cr_assert_eq(parse_rc(two, strlen(two), &err, &m), HUB_ESYNTAX);
}

Test(hl7_parse, never_crashes_when_cut_at_every_byte)
{
    size_t n = strlen(ADT_A01);
    for (size_t cut = 0; cut <= n; cut++) {
        struct hub_err err;
        struct hl7_msg *m;
        /* a heap copy of exactly `cut` bytes, so ASan sees any overread */
        char *p = malloc(cut ? cut : 1);
        memcpy(p, ADT_A01, cut);
        int rc = parse_rc(p, cut, &err, &m);
        if (cut < 8)
            cr_assert_eq(rc, HUB_ESYNTAX, "cut %zu", cut);
        if (rc == HUB_OK) {
            struct canon_list l = { 0 };
            struct slice ack;
            int ev = hl7_to_events(&A, m, &l, &err);
            cr_assert(ev == HUB_OK || ev < 0);
            cr_assert_eq(hl7_ack(&A, m, "AA", NULL, "1", "2026", &ack),
                         HUB_OK);
        }
        free(p);
    }
}

Test(hl7_parse, enforces_segment_field_and_repetition_limits)
{
    struct hub_err err;
    struct hl7_msg *m;
    const char *head = "MSH|^~\\&|A|B|C|D|2026||ADT^A01|7|P|2.5\r";
    size_t hl = strlen(head);
    size_t cap = hl + 8 * (HL7_MAX_SEGMENTS + 2) + 2 * HL7_MAX_FIELDS + 16;
    char *s = malloc(cap);

    /* segments: exactly at the limit passes, one more fails */
    memcpy(s, head, hl);
    size_t n = hl;
    for (int k = 1; k < HL7_MAX_SEGMENTS; k++) {
        memcpy(s + n, "ZXX|1\r", 6);
        n += 6;
    }
    cr_assert_eq(parse_rc(s, n, &err, &m), HUB_OK);
    memcpy(s + n, "ZXX|1\r", 6);
    cr_assert_eq(parse_rc(s, n + 6, &err, &m), HUB_ELIMIT);
    cr_assert_not_null(m);

    /* fields: HL7_MAX_FIELDS counts the segment ID as field 0 */
    n = hl;
    memcpy(s + n, "ZXX", 3);
    n += 3;
    for (int k = 1; k < HL7_MAX_FIELDS; k++)
        s[n++] = '|';
    cr_assert_eq(parse_rc(s, n, &err, &m), HUB_OK);
    s[n++] = '|';
    cr_assert_eq(parse_rc(s, n, &err, &m), HUB_ELIMIT);
    cr_assert_str_eq(err.field, "ZXX");

    /* repetitions */
    n = hl;
    memcpy(s + n, "PID|1||", 7);
    n += 7;
    for (int k = 1; k < HL7_MAX_REPS; k++)
        s[n++] = '~';
    cr_assert_eq(parse_rc(s, n, &err, &m), HUB_OK);
    s[n++] = '~';
    cr_assert_eq(parse_rc(s, n, &err, &m), HUB_ELIMIT);
    cr_assert_str_eq(err.field, "PID-3");
    free(s);
}

Test(hl7_parse, counts_repetitions_per_field_not_per_segment)
{
    struct hub_err err;
    struct hl7_msg *m;
    char s[512];
    size_t n = (size_t)snprintf(s, sizeof(s), "%s",
                                "MSH|^~\\&|A|B|C|D|2026||ADT^A01|7|P|2.5\r"
                                "PID|1|");
    /* two fields, each one repetition separator short of the limit */
    for (int f = 0; f < 2; f++) {
        s[n++] = '|';
        for (int k = 1; k < HL7_MAX_REPS; k++)
            s[n++] = '~';
    }
    cr_assert_eq(parse_rc(s, n, &err, &m), HUB_OK);
}

Test(hl7_parse, rejects_message_over_the_size_limit_but_keeps_msh)
{
    struct hub_err err;
    struct hl7_msg *m;
    const char *head = "MSH|^~\\&|A|B|C|D|2026||ADT^A01|7|P|2.5\rNTE|1|";
    size_t hl = strlen(head), n = HL7_MAX_MESSAGE + 1;
    char *s = malloc(n);
    memcpy(s, head, hl);
    memset(s + hl, 'x', n - hl);
    cr_assert_eq(parse_rc(s, n, &err, &m), HUB_ELIMIT);
    cr_assert_not_null(m);
    assert_slice(hl7_control_id(m), "7");
    /* a huge field under the limit is fine */
    cr_assert_eq(parse_rc(s, n - 1, &err, &m), HUB_OK);
    free(s);
}

Test(hl7_parse, refuses_megabytes_of_whitespace_before_msh)
{
    struct hub_err err;
    struct hl7_msg *m;
    const char *msg = "MSH|^~\\&|A|B|C|D|2026||ADT^A01|7|P|2.5\rPID|1\r";
    size_t pad = HL7_MAX_MESSAGE + 1, ml = strlen(msg);
    char *s = malloc(pad + ml);
    memset(s, '\n', pad);
    memcpy(s + pad, msg, ml);
    cr_assert_eq(parse_rc(s, pad + ml, &err, &m), HUB_ELIMIT);
    cr_assert_null(m);
    /* at the limit it is still a message */
    cr_assert_eq(parse_rc(s + 1, pad - 1 + ml, &err, &m), HUB_OK);
    assert_slice(hl7_control_id(m), "7");
    free(s);
}

Test(hl7_parse, never_crashes_when_a_real_message_is_cut_at_every_byte)
{
    char path[4096];
    const char *root = getenv("HUB_ROOT");
    snprintf(path, sizeof(path), "%s/tests/data/hl7v2/ADT-A01-01.hl7",
             root && *root ? root : ".");
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot read %s", path);
    static char full[16384];
    size_t n = fread(full, 1, sizeof(full), f);
    fclose(f);
    cr_assert_gt(n, 6000);
    size_t ok = 0;
    for (size_t cut = 0; cut <= n; cut++) {
        struct arena a;
        struct hub_err err;
        struct hl7_msg *m;
        struct canon_list l = { 0 };
        struct slice ack;
        char *p = malloc(cut ? cut : 1);        /* exact size, for ASan */
        memcpy(p, full, cut);
        arena_init(&a, 16 * 1024);
        int rc = hl7_parse(&a, p, cut, &m, &err);
        if (rc == HUB_OK) {
            rc = hl7_to_events(&a, m, &l, &err);
            ok += rc == HUB_OK;
        }
        cr_assert_eq(hl7_ack(&a, m, rc ? "AE" : "AA", rc ? &err : NULL, "K",
                             "2026", &ack), HUB_OK, "cut %zu", cut);
        arena_release(&a);
        free(p);
    }
    cr_assert_gt(ok, n / 2, "most prefixes past PID should normalize");
}

Test(hl7_parse, survives_binary_junk_without_a_crash)
{
    unsigned char junk[4096];
    unsigned seed = 12345;
    for (int round = 0; round < 200; round++) {
        for (size_t k = 0; k < sizeof(junk); k++) {
            seed = seed * 1103515245u + 12345u;
            junk[k] = (unsigned char)(seed >> 16);
        }
        size_t off = round % 2 ? 0 : 10;
        memcpy(junk + off, "MSH|^~\\&|", 9);   /* half of them start well */
        struct hub_err err;
        struct hl7_msg *m;
        int rc = parse_rc((const char *)junk, sizeof(junk), &err, &m);
        cr_assert(rc == HUB_OK || rc < 0);
        if (rc != HUB_OK)
            cr_assert_not_null(err.what);
    }
}

Test(hl7_ack, echoes_control_id_in_senders_version_and_swaps_apps)
{
    struct hl7_msg *m = parse_ok(ADT_A01);
    struct slice ack;
    cr_assert_eq(hl7_ack(&A, m, "AA", NULL, "ACK1", "20260322120001+0000",
                         &ack), HUB_OK);
    const char *want =
        "MSH|^~\\&|LAB|LABFAC|ADM|HOSP|20260322120001+0000||ACK^A01^ACK|"
        "ACK1|P|2.5.1\rMSA|AA|MSG101\r";
    assert_slice(ack, want);
}

/* tests/data/real/SOURCES.md F114: ST is left justified, so the blanks
 * before a control id are the sender's (the ConnectingGTA test data of
 * Sunnybrook right-justifies its counter); the blanks after it too (F320) */
Test(hl7_ack, echoes_the_blanks_before_the_control_id)
{
    struct hl7_msg *m = parse_ok("MSH|^~\\&|A|B|C|D|2026||ADT^A08|          13 "
                                 "|T|2.5\rPID|1||42\r");
    struct slice ack;
    cr_assert_eq(hl7_ack(&A, m, "AA", NULL, "K", "2026", &ack), HUB_OK);
    cr_assert(strstr(ack.p, "\rMSA|AA|          13 \r") != NULL, "%.*s",
              (int)ack.len, ack.p);
    assert_slice(hl7_control_id(m), "13");
}

/* F320: MSA-2 is MSH-10 byte for byte, the blanks after it and its
 * escapes included: an engine compares it with what it sent */
Test(hl7_ack, echoes_the_control_id_byte_for_byte)
{
    struct hl7_msg *m = parse_ok("MSH|^~\\&|A|B|C|D|2026||ADT^A08|X\\T\\1  "
                                 "|T|2.5\rPID|1||42\r");
    struct slice ack;
    cr_assert_eq(hl7_ack(&A, m, "AA", NULL, "K", "2026", &ack), HUB_OK);
    cr_assert(strstr(ack.p, "\rMSA|AA|X\\T\\1  \r") != NULL, "%.*s",
              (int)ack.len, ack.p);
}

/* F321: the ACK is in the sender's character set (its echoed values are
 * the sender's bytes) and says so in MSH-18, as sent */
Test(hl7_ack, declares_the_senders_character_set)
{
    static const char msg[] = "MSH|^~\\&|A|H\xc3\xb4pital|C|D|2026||ADT^A08|"
                              "M1|P|2.5||||||UNICODE UTF-8|FR\rPID|1||42\r";
    struct hl7_msg *m = parse_ok(msg);
    struct slice ack;
    cr_assert_eq(hl7_ack(&A, m, "AA", NULL, "K", "2026", &ack), HUB_OK);
    assert_slice(ack, "MSH|^~\\&|C|D|A|H\xc3\xb4pital|2026||ACK^A08^ACK|K|P|"
                      "2.5||||||UNICODE UTF-8\rMSA|AA|M1\r");
    /* Latin-1 bytes under 8859/1 are answered in Latin-1, declared so */
    static const char latin[] = "MSH|^~\\&|A|H\xf4pital|C|D|2026||ADT^A08|"
                                "M1|P|2.3.1||||||8859/1\rPID|1||42\r";
    m = parse_ok(latin);
    cr_assert_eq(hl7_ack(&A, m, "AA", NULL, "K", "2026", &ack), HUB_OK);
    assert_slice(ack, "MSH|^~\\&|C|D|A|H\xf4pital|2026||ACK^A08^ACK|K|P|"
                      "2.3.1||||||8859/1\rMSA|AA|M1\r");
    /* none sent, none declared */
    m = parse_ok("MSH|^~\\&|A|B|C|D|2026||ADT^A08|M1|P|2.5\rPID|1||42\r");
    cr_assert_eq(hl7_ack(&A, m, "AA", NULL, "K", "2026", &ack), HUB_OK);
    assert_slice(ack, "MSH|^~\\&|C|D|A|B|2026||ACK^A08^ACK|K|P|2.5\r"
                      "MSA|AA|M1\r");
}

/* F324: MSH-10 is ST of 20 until v2.7; a 26-character id is cut to its
 * last 20 there, kept whole from v2.7 (199) */
Test(hl7_ack, keeps_its_control_id_within_the_versions_length)
{
    static const char id[] = "01M92TEJ486M7JESBZJ25XMGQC";
    struct slice ack;
    struct hl7_msg *m =
        parse_ok("MSH|^~\\&|A|B|C|D|2026||ADT^A08|M1|P|2.5\rPID|1||42\r");
    cr_assert_eq(hl7_ack(&A, m, "AA", NULL, id, "2026", &ack), HUB_OK);
    cr_assert(strstr(ack.p, "|ACK^A08^ACK|EJ486M7JESBZJ25XMGQC|P|") != NULL,
              "%.*s", (int)ack.len, ack.p);
    m = parse_ok("MSH|^~\\&|A|B|C|D|2026||ADT^A08|M1|P|2.7\rPID|1||42\r");
    cr_assert_eq(hl7_ack(&A, m, "AA", NULL, id, "2026", &ack), HUB_OK);
    cr_assert(strstr(ack.p, "|ACK^A08^ACK|01M92TEJ486M7JESBZJ25XMGQC|P|") !=
              NULL, "%.*s", (int)ack.len, ack.p);
    /* no MSH at all: the hub's v2.5 */
    cr_assert_eq(hl7_ack(&A, NULL, "AR", NULL, id, "2026", &ack), HUB_OK);
    cr_assert(strstr(ack.p, "||ACK|EJ486M7JESBZJ25XMGQC|P|2.5\r") != NULL,
              "%.*s", (int)ack.len, ack.p);
}

/* F321, found by the fuzzer: an ESC that opens JIS inside MSH-9 makes
 * the rest of the line JIS, and MSH-18, empty in the translation, mapped
 * back to a negative length: the ACK failed. It is still made. */
Test(hl7_ack, is_made_when_jis_swallows_the_rest_of_the_header)
{
    static const char msg[] = "MSH|^~\\&|HIS\x13|SEND|GW|RCV|2011||ADT^A0"
                              "\x1b$(ADT^A13D8^ADT_A01|1|P|2.5||||||~ISO IR87~"
                              "\r";
    struct hl7_msg *m = NULL;
    struct hub_err err = { 0 };
    struct slice ack;
    (void)!hl7_parse(&A, msg, sizeof(msg) - 1, &m, &err);
    cr_assert_not_null(m);
    cr_assert_eq(hl7_ack(&A, m, "AA", NULL, "K", "2026", &ack), HUB_OK);
    cr_assert(ack.len > 0 && memcmp(ack.p, "MSH|^~\\&|GW|RCV|", 16) == 0,
              "%.*s", (int)ack.len, ack.p);
}

/* F333: MSH-12 is echoed whole: a national profile's ACK carries its
 * internationalization code and international version too */
Test(hl7_ack, echoes_the_whole_version_id)
{
    struct hl7_msg *m = parse_ok("MSH|^~\\&|GAM|CHU|DPI|CHU|2024||ADT^A01^"
                                 "ADT_A01|3975|P|2.5^FRA^2.11\rPID|1||42\r");
    struct slice ack;
    cr_assert_eq(hl7_ack(&A, m, "AA", NULL, "K", "2026", &ack), HUB_OK);
    assert_slice(ack, "MSH|^~\\&|DPI|CHU|GAM|CHU|2026||ACK^A01^ACK|K|P|"
                      "2.5^FRA^2.11\rMSA|AA|3975\r");
}

Test(hl7_ack, writes_err_segment_with_location_code_and_static_text)
{
    struct hl7_msg *m = parse_ok(ADT_A01);
    struct hub_err err = { 0 };
    struct slice ack;
    hub_err_set(&err, HUB_EINVALID, "PID-7", 120, "date is not YYYYMMDD");
    cr_assert_eq(hl7_ack(&A, m, "AE", &err, "ACK2", "2026", &ack), HUB_OK);
    const char *want =
        "MSH|^~\\&|LAB|LABFAC|ADM|HOSP|2026||ACK^A01^ACK|ACK2|P|2.5.1\r"
        "MSA|AE|MSG101\r"
        "ERR||PID^1^7|102^Data type error^HL70357|E|||byte offset 120|"
        "date is not YYYYMMDD\r";
    assert_slice(ack, want);
}

Test(hl7_ack, uses_err_1_and_msa_3_for_old_versions)
{
    struct hl7_msg *m = parse_ok("MSH|^~\\&|A|B|C|D|2026||ADT^A01|M1|P|2.3\r"
                                 "PID|1\r");
    struct hub_err err = { 0 };
    struct slice ack;
    hub_err_set(&err, HUB_EINVALID, "PID-3", 0, "required field is missing");
    cr_assert_eq(hl7_ack(&A, m, "AE", &err, "K", "2026", &ack), HUB_OK);
    const char *want = "MSH|^~\\&|C|D|A|B|2026||ACK^A01|K|P|2.3\r"
                       "MSA|AE|M1|required field is missing\r"
                       "ERR|PID^1^3^101&Required field missing&HL70357\r";
    assert_slice(ack, want);
}

Test(hl7_ack, answers_unsupported_type_with_ar_and_code_200)
{
    struct hl7_msg *m = parse_ok("MSH|^~\\&|A|B|C|D|2026||SIU^S12|M2|P|2.6\r");
    struct hub_err err = { 0 };
    struct canon_list l = { 0 };
    struct slice ack;
    cr_assert_eq(hl7_to_events(&A, m, &l, &err), HUB_EUNSUPPORTED);
    cr_assert_str_eq(err.field, "MSH-9");
    cr_assert_eq(hl7_ack(&A, m, "AR", &err, "K", "2026", &ack), HUB_OK);
    cr_assert(strstr(ack.p, "MSA|AR|M2\r") != NULL);
    cr_assert(strstr(ack.p, "ERR||MSH^1^9|200^Unsupported message type^"
                            "HL70357|E|") != NULL);
}

Test(hl7_ack, uses_the_senders_delimiters_and_escapes_its_text)
{
    struct hl7_msg *m = parse_ok("MSH#:;!*#A#B#C#D#2026##ADT:A08#M3#P#2.6\r");
    struct hub_err err = { 0 };
    struct slice ack;
    hub_err_set(&err, HUB_ESYNTAX, "PID-5.1", 0, "bad #name: here");
    cr_assert_eq(hl7_ack(&A, m, "AE", &err, "K", "2026", &ack), HUB_OK);
    const char *want =
        "MSH#:;!*#C#D#A#B#2026##ACK:A08:ACK#K#P#2.6\r"
        "MSA#AE#M3\r"
        "ERR##PID:1:5:1:1#102:Data type error:HL70357#E###byte offset 0#"
        "bad !F!name!S! here\r";
    assert_slice(ack, want);
}

Test(hl7_ack, builds_a_default_ack_when_msh_was_unreadable)
{
    struct hub_err err = { 0 };
    struct slice ack;
    struct hl7_msg *m;
    cr_assert_eq(parse_rc("garbage", 7, &err, &m), HUB_ESYNTAX);
    cr_assert_eq(hl7_ack(&A, m, "AR", &err, "K", "2026", &ack), HUB_OK);
    const char *want = "MSH|^~\\&|||||2026||ACK|K|P|2.5\rMSA|AR|\r"
                       "ERR||MSH^1|100^Segment sequence error^HL70357|E|||"
                       "byte offset 0|message does not start with an MSH segment\r";
    assert_slice(ack, want);
}

/* HL7 table 0357: 100 is "required segments are missing", 101 "a
 * required field is missing from a segment" (F195) */
Test(hl7_ack, a_missing_required_segment_is_code_100_not_101)
{
    struct hl7_msg *m = parse_ok("MSH|^~\\&|A|B|C|D|2026||ADT^A01|M4|P|2.5\r"
                                 "EVN|A01|2026\rPV1|1|I\r");
    struct hub_err err = { 0 };
    struct canon_list l = { 0 };
    struct slice ack;
    cr_assert_eq(hl7_to_events(&A, m, &l, &err), HUB_EINVALID);
    cr_assert_str_eq(err.field, "PID");
    cr_assert_eq(hl7_ack(&A, m, "AE", &err, "K", "2026", &ack), HUB_OK);
    /* and no byte offset: the segment has no place in the message */
    cr_assert(strstr(ack.p, "ERR||PID^1|100^Segment sequence error^HL70357|E"
                            "||||required segment PID is missing\r") != NULL,
              "%.*s", (int)ack.len, ack.p);
    /* a field missing is still 101 */
    hub_err_set(&err, HUB_EINVALID, "MSH-10", 0,
                "required field message control id is missing");
    cr_assert_eq(hl7_ack(&A, m, "AE", &err, "K", "2026", &ack), HUB_OK);
    cr_assert(strstr(ack.p, "ERR||MSH^1^10|101^Required field missing^")
              != NULL, "%.*s", (int)ack.len, ack.p);
}

/* An MLLP sender reads where its message broke in the ACK: a segment ID
 * that is not one has no ERR-2 (ERL must name a segment), so ERR-7 says
 * the byte (F196) */
Test(hl7_ack, an_error_gives_its_byte_offset_in_err_7)
{
    const char *msg = "MSH|^~\\&|A|B|C|D|2026||ADT^A01|M5|P|2.5\r"
                      "EVN#A01#2026\r";
    struct hub_err err = { 0 };
    struct hl7_msg *m;
    struct slice ack;
    cr_assert_eq(parse_rc(msg, strlen(msg), &err, &m), HUB_ESYNTAX);
    cr_assert_eq(err.offset, 40);
    cr_assert_eq(hl7_ack(&A, NULL, "AE", &err, "K", "2026", &ack), HUB_OK);
    cr_assert(strstr(ack.p, "ERR|||100^Segment sequence error^HL70357|E|||"
                            "byte offset 40|segment ID is not three capital "
                            "letters or digits\r") != NULL, "%.*s", (int)ack.len,
              ack.p);
}

Test(hl7_ack, refuses_an_unknown_ack_code)
{
    struct slice ack;
    cr_assert_eq(hl7_ack(&A, NULL, "XX", NULL, "K", "2026", &ack),
                 HUB_EINVALID);
    cr_assert_eq(hl7_ack(&A, NULL, NULL, NULL, "K", "2026", &ack),
                 HUB_EINVALID);
}

/* The parser indexes the fields of the segments the normalizer reads, and
 * finds the others' on access (hl7v2_int.h): both give the same values,
 * and the same errors at the same offsets. */
Test(hl7_parse, reads_unindexed_segments_as_indexed_ones)
{
    static const char body[] =
        "|1|a~b^c&d~|\\F\\x^\\E\\|\"\"||plain|q\"t|last";
    char s[512];
    snprintf(s, sizeof(s), "MSH|^~\\&|A|B|C|D|2026||ADT^A01|7|P|2.5\r"
                           "PID%s\rIN1%s\rZZ9%s", body, body, body);
    struct hl7_msg *m = parse_ok(s);
    static const char *const other[] = { "IN1", "ZZ9" };
    for (unsigned k = 0; k < 2; k++)
        for (unsigned f = 0; f <= 10; f++)
            for (unsigned r = 0; r <= 2; r++)
                for (unsigned c = 0; c <= 2; c++) {
                    struct slice a = hl7_get(&A, m, "PID", 0, f, r, c, c);
                    struct slice b = hl7_get(&A, m, other[k], 0, f, r, c, c);
                    cr_assert(f == 0 || slice_eq_slice(a, b),
                              "%s-%u(%u).%u: \"%.*s\" vs \"%.*s\"", other[k],
                              f, r, c, (int)b.len, b.p ? b.p : "",
                              (int)a.len, a.p ? a.p : "");
                    cr_assert((a.p == NULL) == (b.p == NULL));
                }
    assert_slice(hl7_get(&A, m, "ZZ9", 0, 0, 0, 0, 0), "ZZ9");

    /* a NUL, and a field past the repetition limit */
    const char *ids[] = { "PID", "NK1" };
    size_t off[2];
    for (int k = 0; k < 2; k++) {
        struct hub_err err;
        char t[512];
        size_t n = (size_t)snprintf(t, sizeof(t), "%s",
                                    "MSH|^~\\&|A|B|C|D|2026||ADT^A01|7|P|2.5\r");
        /* inside PID-3, not after the last segment (a file's end, F33) */
        n += (size_t)snprintf(t + n, sizeof(t) - n, "%s|1|x|yz", ids[k]);
        t[n - 2] = '\0';
        cr_assert_eq(parse_rc(t, n, &err, &m), HUB_ESYNTAX);
        cr_assert_eq(strncmp(err.field, ids[k], 3), 0);
        cr_assert_str_eq(err.field + 3, "-3");
        off[k] = err.offset;
        t[n - 2] = 'y';
        t[n++] = '|';
        for (int r = 0; r < HL7_MAX_REPS; r++)
            t[n++] = '~';
        cr_assert_eq(parse_rc(t, n, &err, &m), HUB_ELIMIT);
        cr_assert_str_eq(err.field + 3, "-4");
        cr_assert_eq(err.offset, n - 1);
    }
    cr_assert_eq(off[0], off[1]);
}

/* An accepted message's warnings reach its sender: one ERR per warning,
 * severity W from v2.5 (ERR-1 alone before it), while MSA stays AA. */
Test(hl7_ack, carries_each_warning_as_an_err_segment_beside_aa)
{
    struct hl7_msg *m = parse_ok("MSH|^~\\&|A|B|C|D|2026||ADT^A01|M1|P|2.5\r"
                                 "PID|1||M1^^^F^MR||D^J||10131113|Z\r");
    struct canon_list l = { 0 };
    struct hl7_warnings w;
    struct hub_err err = { 0 };
    struct slice ack;
    cr_assert_eq(hl7_to_events_warn(&A, m, &l, &w, &err), HUB_OK);
    cr_assert_eq(w.n, 3);
    cr_assert_eq(hl7_ack_warn(&A, m, "AA", NULL, &w, "K", "2026", &ack),
                 HUB_OK);
    const char *want =
        "MSH|^~\\&|C|D|A|B|2026||ACK^A01^ACK|K|P|2.5\r"
        "MSA|AA|M1\r"
        "ERR||PID^1^7|102^Data type error^HL70357|W||||"
        "birth date is before 1880\r"
        "ERR||PID^1^8|103^Table value not found^HL70357|W||||"
        "sex is not in HL7 table 0001\r"
        "ERR||PV1^1|100^Segment sequence error^HL70357|W||||"
        "required segment PV1 is missing\r";
    assert_slice(ack, want);

    /* v2.3: ERR-1, no severity field; MSA-3 stays empty (no name and no
     * PV1: two required elements missing, each its ERR) */
    m = parse_ok("MSH|^~\\&|A|B|C|D|2026||ADT^A01|M2|P|2.3\r"
                 "PID|1||M1^^^F^MR\r");
    cr_assert_eq(hl7_to_events_warn(&A, m, &l, &w, &err), HUB_OK);
    cr_assert_eq(hl7_ack_warn(&A, m, "AA", NULL, &w, "K", "2026", &ack),
                 HUB_OK);
    assert_slice(ack, "MSH|^~\\&|C|D|A|B|2026||ACK^A01|K|P|2.3\r"
                      "MSA|AA|M2\r"
                      "ERR|PID^1^5^101&Required field missing&HL70357\r"
                      "ERR|PV1^1^^100&Segment sequence error&HL70357\r");

    /* none: the ACK hl7_ack makes */
    w.n = 0;
    struct slice plain;
    cr_assert_eq(hl7_ack_warn(&A, m, "AA", NULL, &w, "K", "2026", &ack),
                 HUB_OK);
    cr_assert_eq(hl7_ack(&A, m, "AA", NULL, "K", "2026", &plain), HUB_OK);
    cr_assert(slice_eq_slice(ack, plain));
}

/* F2964 (round 188's review of F2841): the ACK declares the sender's
 * truncation character (MSH-2's fifth) and wrote the hub's texts with it
 * bare, so a text ending with it ("... (MSH-10)" under a declared ')')
 * read as cut short there; the character is written escaped, \P\, as
 * the field, component and other separators are. */
Test(hl7_ack, escapes_the_senders_truncation_character_in_its_texts)
{
    struct hl7_msg *m = parse_ok(
        "MSH|^~\\&)|A|B|C|D|2026||ADT^A01|M1|P|2.7\r"
        "PID|1||123456789^^^NLMINBIZA^NNNLD||D^J||19800101|F\r"
        "PV1|1|I\r");
    struct canon_list l = { 0 };
    struct hl7_warnings w;
    struct hub_err err = { 0 };
    struct slice ack;
    cr_assert_eq(hl7_to_events_warn(&A, m, &l, &w, &err), HUB_OK);
    cr_assert_eq(hl7_ack_warn(&A, m, "AA", NULL, &w, "K", "2026", &ack),
                 HUB_OK);
    assert_slice(ack,
                 "MSH|^~\\&)|C|D|A|B|2026||ACK^A01^ACK|K|P|2.7\r"
                 "MSA|AA|M1\r"
                 "ERR||PID^1^3|102^Data type error^HL70357|W||||national "
                 "number is a placeholder; left out\r"
                 "ERR||PID^1^3|102^Data type error^HL70357|W||||no patient "
                 "identifier links; the patient is known by this message "
                 "alone (MSH-10\\P\\\r");
}

/* A Latin-1 message is read from its UTF-8 translation; its ACK echoes
 * MSH-3 to -6 and MSH-10 as the bytes the sender sent, in its own set,
 * and MSH-18 that names it (F321). */
Test(hl7_ack, echoes_a_latin_message_in_the_bytes_it_sent)
{
    static const char msg[] =
        "MSH|^~\\&|GAP\xc9|H\xd4PITAL|R\xc9" "C|F\xc2" "C|2026||ADT^A08|"
        "N\xb0" "1|P|2.5|||||FRA|8859/1\r"
        "PID|1||M1^^^F^MR||Pe\xf1" "a^J\rPV1|1|I\r";
    struct hl7_msg *m = parse_ok(msg);
    struct slice ack;
    cr_assert_eq(hl7_ack(&A, m, "AA", NULL, "K", "2026", &ack), HUB_OK);
    assert_slice(ack, "MSH|^~\\&|R\xc9" "C|F\xc2" "C|GAP\xc9|H\xd4PITAL|2026||"
                      "ACK^A08^ACK|K|P|2.5||||||8859/1\r"
                      "MSA|AA|N\xb0" "1\r");
    /* the events are UTF-8 all the same */
    struct canon_list l = { 0 };
    struct hub_err err = { 0 };
    cr_assert_eq(hl7_to_events(&A, m, &l, &err), HUB_OK);
    char *json = strndup(l.ev[0].json.p, l.ev[0].json.len);
    cr_assert(strstr(json, "Pe\xc3\xb1" "a") != NULL, "%s", json);
    free(json);
}

/* Segments run together past the field limit (tests/data/real/hl7v2/
 * node-hl7-complete_adt_one_line.hl7): the refusal says the separator is
 * likely missing and points at the first space that stands for one. */
Test(hl7_parse, says_the_segment_separator_is_likely_missing_at_the_limit)
{
    char msg[4096];
    size_t n = (size_t)snprintf(msg, sizeof(msg), "%s",
                                "MSH|^~\\&|A|B|C|D|2026||ADT^A01|M1|P|2.5 "
                                "PID|1||M1");
    size_t at = (size_t)(strstr(msg, " PID|") - msg);
    for (int k = 0; k < HL7_MAX_FIELDS; k++)
        msg[n++] = '|';
    struct hub_err err;
    struct hl7_msg *m;
    cr_assert_eq(parse_rc(msg, n, &err, &m), HUB_ELIMIT);
    cr_assert_str_eq(err.field, "MSH");
    cr_assert_str_eq(err.what, "too many fields in a segment: its segment "
                               "separator (CR) is likely missing");
    cr_assert_eq(err.offset, at);
    /* a segment that only has too many fields says that */
    msg[at] = 'x';
    cr_assert_eq(parse_rc(msg, n, &err, &m), HUB_ELIMIT);
    cr_assert_str_eq(err.what, "too many fields in a segment");
}

/* F2700: hex data is read in the declared set as a whole value: Cyrillic
 * letters of 8859-5 ("ТА" is C2 B0) and CP1251 ("ВІ" is C2 B2) that pair
 * as a UTF-8 sequence (U+00B0, U+00B2) are letters of the set, as the rest */
Test(hl7_parse, reads_hex_data_in_the_declared_set_as_a_whole_value)
{
    struct hl7_msg *m = parse_ok(
        "MSH|^~\\&|A|B|C|D|2026||ADT^A08|1|P|2.5||||||8859/5\r"
        "PID|1||42||\\XC2B0C2CCCFBDB0\\\r");
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 1, 0),
                 "\xd0\xa2\xd0\x90\xd0\xa2\xd0\xac\xd0\xaf\xd0\x9d\xd0\x90");
    m = parse_ok("MSH|^~\\&|A|B|C|D|2026||ADT^A08|2|P|2.5||||||CP1251\r"
                 "PID|1||42||\\XC2B2CAD2CED0\\\r");
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 1, 0),
                 "\xd0\x92\xd0\x86\xd0\x9a\xd0\xa2\xd0\x9e\xd0\xa0");
    /* raw text beside the hex data is not read again: raw CP1251 "Р"
     * (D0) is already UTF-8 "Р" (D0 A0) when the hex bytes are read */
    m = parse_ok("MSH|^~\\&|A|B|C|D|2026||ADT^A08|3|P|2.5||||||CP1251\r"
                 "PID|1||42||\xd0\\XC2B2\\\r");
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 1, 0),
                 "\xd0\xa0\xd0\x92\xd0\x86");
}

/* F2701: an empty default set and a multi-byte set in a later repetition
 * (Korean KS X 1001, DICOM's "ISO IR149"; Chinese GB 18030): neither raw
 * nor hex bytes (EUC-KR 김 is B1 E8) are Latin text, they are not read */
Test(hl7_parse, reads_no_latin_behind_a_later_multi_byte_set)
{
    static const char *const sets[] = { "~ISO IR149", "~KS X 1001",
                                        "~GB 18030-2000", "8859/1~BIG-5" };
    for (size_t k = 0; k < sizeof(sets) / sizeof(sets[0]); k++) {
        char msg[256];
        snprintf(msg, sizeof(msg),
                 "MSH|^~\\&|A|B|C|D|2026||ADT^A08|1|P|2.5||||||%s\r"
                 "PID|1||42||\\XB1E8\\^\xb1\xe8\r", sets[k]);
        struct hl7_msg *m = parse_ok(msg);
        assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 1, 0), "\xb1\xe8");
        assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 2, 0), "\xb1\xe8");
    }
    /* a later single-byte set keeps the reading */
    struct hl7_msg *m = parse_ok(
        "MSH|^~\\&|A|B|C|D|2026||ADT^A08|2|P|2.5||||||8859/1~8859/15\r"
        "PID|1||42||M\\XFC\\ller\r");
    assert_slice(hl7_get(&A, m, "PID", 0, 5, 0, 1, 0), "M\xc3\xbcller");
}

/* Round 190's probe of F2964 with F2842: the warning of a value cut short
 * holds the sender's declared character, ')', in its own words; the ACK
 * writes it escaped in ERR-8, and the value's own mark is no part of the
 * ACK (passes as written: kept). */
Test(hl7_ack, escapes_the_truncation_character_in_a_cut_short_warning)
{
    struct hl7_msg *m = parse_ok(
        "MSH|^~\\&)|A|B|C|D|2026||ADT^A01|M1|P|2.7\r"
        "PID|1||MRN1^^^FAC^MR||Smith)^Jo||19800101|F\r"
        "PV1|1|I\r");
    struct canon_list l = { 0 };
    struct hl7_warnings w;
    struct hub_err err = { 0 };
    struct slice ack;
    cr_assert_eq(hl7_to_events_warn(&A, m, &l, &w, &err), HUB_OK);
    cr_assert_eq(hl7_ack_warn(&A, m, "AA", NULL, &w, "K", "2026", &ack),
                 HUB_OK);
    assert_slice(ack,
                 "MSH|^~\\&)|C|D|A|B|2026||ACK^A01^ACK|K|P|2.7\r"
                 "MSA|AA|M1\r"
                 "ERR||PID^1^5|102^Data type error^HL70357|W||||value cut "
                 "short by the sender (truncation character\\P\\\r");
}

/* The ACK of m with its events' warnings */
static struct slice ack_of_warned(struct hl7_msg *m)
{
    struct canon_list l = { 0 };
    struct hl7_warnings w;
    struct hub_err err = { 0 };
    struct slice ack;
    cr_assert_eq(hl7_to_events_warn(&A, m, &l, &w, &err), HUB_OK,
                 "%s", err.what ? err.what : "");
    cr_assert_eq(hl7_ack_warn(&A, m, "AA", NULL, &w, "K", "2026", &ack),
                 HUB_OK);
    return ack;
}

/* F3140 (F3025): a warning carried only its field's name, so every ERR-2
 * named segment sequence 1: the second MRG of an A40 cut short read as
 * the first's, and the same warning of two groups was one ERR. A warning
 * names its segment's ordinal among the message's segments of its ID
 * (ERR-2.2, ELD.2 before v2.5); the events' warnings are as they were. */
Test(hl7_ack, names_the_segment_sequence_of_a_later_segments_warning)
{
    /* an A40 of three groups: the second's MRG-1 cut short and PID-8 not
     * in table 0001, the third's MRG-1 cut short as well */
    static const char a40[] =
        "MSH|^~\\&#|A|B|C|D|2026||ADT^A40^ADT_A39|M1|P|2.5\r"
        "EVN|A40|2026\r"
        "PID|1||NEW1^^^FAC^MR||Smith^Jo||19800101|F\r"
        "MRG|OLD1^^^FAC^MR\r"
        "PID|1||NEW2^^^FAC^MR||Jones^Al||19800101|Q\r"
        "MRG|OLD2#^^^FAC^MR\r"
        "PID|1||NEW3^^^FAC^MR||Brown^Bo||19800101|M\r"
        "MRG|OLD3#^^^FAC^MR\r";
    assert_slice(ack_of_warned(parse_ok(a40)),
                 "MSH|^~\\&#|C|D|A|B|2026||ACK^A40^ACK|K|P|2.5\r"
                 "MSA|AA|M1\r"
                 "ERR||MRG^2^1|102^Data type error^HL70357|W||||value cut "
                 "short by the sender (truncation character)\r"
                 "ERR||PID^2^8|103^Table value not found^HL70357|W||||sex "
                 "is not in HL7 table 0001\r"
                 "ERR||MRG^3^1|102^Data type error^HL70357|W||||value cut "
                 "short by the sender (truncation character)\r");
    /* each event says what it said: the field alone */
    struct canon_list l = { 0 };
    struct hub_err err = { 0 };
    cr_assert_eq(hl7_to_events(&A, parse_ok(a40), &l, &err), HUB_OK);
    cr_assert_eq(l.n, 3);
    char ev[2][4096];
    for (int k = 0; k < 2; k++)
        snprintf(ev[k], sizeof(ev[k]), "%.*s", (int)l.ev[k].json.len,
                 l.ev[k].json.p);
    cr_assert_null(strstr(ev[0], "warnings"), "%s", ev[0]);
    cr_assert_not_null(strstr(ev[1], "\"warnings\":[{\"field\":\"MRG-1\","
                                     "\"what\":\"value cut short by the "
                                     "sender (truncation character)\"},"
                                     "{\"field\":\"PID-8\","),
                       "%s", ev[1]);

    /* before v2.5, ELD.2 */
    static const char a40_v23[] =
        "MSH|^~\\&#|A|B|C|D|2026||ADT^A40|M2|P|2.3\r"
        "PID|1||NEW1^^^FAC^MR||Smith^Jo\r"
        "MRG|OLD1^^^FAC^MR\r"
        "PID|1||NEW2^^^FAC^MR||Jones^Al\r"
        "MRG|OLD2#^^^FAC^MR\r";
    assert_slice(ack_of_warned(parse_ok(a40_v23)),
                 "MSH|^~\\&#|C|D|A|B|2026||ACK^A40|K|P|2.3\r"
                 "MSA|AA|M2\r"
                 "ERR|MRG^2^1^102&Data type error&HL70357\r");

    /* of one event: its second DG1 cut short, its second ARV's action
     * not in table 0206, its second PD1's indicator neither Y nor N */
    assert_slice(
        ack_of_warned(parse_ok(
            "MSH|^~\\&#|A|B|C|D|2026||ADT^A01|M3|P|2.6\r"
            "PID|1||MRN1^^^FAC^MR||Smith^Jo||19800101|F\r"
            "PD1||||||||||||N\r"
            "PD1||||||||||||Q\r"
            "PV1|1|I\r"
            "DG1|1||I10^Hypertension^I10\r"
            "DG1|2||E11#^Diabetes^I10\r"
            "ARV|1|A|NO\r"
            "ARV|2|Z|NO\r")),
        "MSH|^~\\&#|C|D|A|B|2026||ACK^A01^ACK|K|P|2.6\r"
        "MSA|AA|M3\r"
        "ERR||DG1^2^3|102^Data type error^HL70357|W||||value cut short by "
        "the sender (truncation character)\r"
        "ERR||PD1^2^12|102^Data type error^HL70357|W||||protection "
        "indicator is not Y or N; read as protected\r"
        "ERR||ARV^2^2|102^Data type error^HL70357|W||||access restriction "
        "action code is not A, D, U, X or S; read as in force\r");
}

/* The AE of m, refused by its events at `field` */
static struct slice ack_of_refused(struct hl7_msg *m, const char *field)
{
    struct canon_list l = { 0 };
    struct hub_err err = { 0 };
    struct slice ack;
    cr_assert_eq(hl7_to_events(&A, m, &l, &err), HUB_EINVALID);
    cr_assert_str_eq(err.field, field);
    cr_assert_eq(hl7_ack(&A, m, "AE", &err, "K", "2026", &ack), HUB_OK);
    return ack;
}

/* F3141: an error's ERR-2 said segment sequence 1 as well: an A40 whose
 * second group has no prior identifier, or no patient identifier, read as
 * refused at its first MRG or PID. The segment of the ID that holds the
 * error's offset is named. */
Test(hl7_ack, names_the_segment_sequence_of_a_later_segments_error)
{
    static const char head[] =
        "MSH|^~\\&|A|B|C|D|2026||ADT^A40^ADT_A39|M1|P|2.5\r"
        "PID|1||NEW1^^^FAC^MR||Smith^Jo\r"
        "MRG|OLD1^^^FAC^MR\r";
    char msg[512], want[512];
    snprintf(msg, sizeof(msg), "%sPID|1||NEW2^^^FAC^MR||Jones^Al\rMRG|\r",
             head);
    snprintf(want, sizeof(want),
             "MSH|^~\\&|C|D|A|B|2026||ACK^A40^ACK|K|P|2.5\r"
             "MSA|AE|M1\r"
             "ERR||MRG^2^1|101^Required field missing^HL70357|E|||"
             "byte offset %zu|required field prior patient identifier is "
             "missing\r", (size_t)(strrchr(msg, 'M') - msg));
    assert_slice(ack_of_refused(parse_ok(msg), "MRG-1"), want);

    snprintf(msg, sizeof(msg), "%sPID|1||||Jones^Al\rMRG|OLD2^^^FAC^MR\r",
             head);
    snprintf(want, sizeof(want),
             "MSH|^~\\&|C|D|A|B|2026||ACK^A40^ACK|K|P|2.5\r"
             "MSA|AE|M1\r"
             "ERR||PID^2^3|101^Required field missing^HL70357|E|||"
             "byte offset %zu|required field patient identifier is "
             "missing\r", (size_t)(strstr(msg, "PID|1||||") - msg));
    assert_slice(ack_of_refused(parse_ok(msg), "PID-3"), want);

    /* the first group's: 1, as before */
    snprintf(msg, sizeof(msg),
             "MSH|^~\\&|A|B|C|D|2026||ADT^A40^ADT_A39|M1|P|2.5\r"
             "PID|1||||Smith^Jo\rMRG|OLD1^^^FAC^MR\r"
             "PID|1||NEW2^^^FAC^MR||Jones^Al\rMRG|OLD2^^^FAC^MR\r");
    snprintf(want, sizeof(want),
             "MSH|^~\\&|C|D|A|B|2026||ACK^A40^ACK|K|P|2.5\r"
             "MSA|AE|M1\r"
             "ERR||PID^1^3|101^Required field missing^HL70357|E|||"
             "byte offset %zu|required field patient identifier is "
             "missing\r", (size_t)(strstr(msg, "PID|") - msg));
    assert_slice(ack_of_refused(parse_ok(msg), "PID-3"), want);
}

/* r204 (F3321): F3141 named the segment that holds the error's offset,
 * else 1. A segment the parser stopped in is none of the message's (it
 * was not taken), and a required segment missing holds nothing: an A40
 * whose second PID held a NUL, or too many repetitions of PID-3, read
 * PID^1 (the first group's, which is whole), and one whose second group
 * has no MRG read MRG^1, the first group's MRG. Either is the next of
 * its ID after those before the offset. */
Test(hl7_ack, names_the_sequence_of_a_segment_not_taken_or_missing)
{
    static const char head[] =
        "MSH|^~\\&|A|B|C|D|2026||ADT^A40^ADT_A39|M1|P|2.5\r"
        "PID|1||NEW1^^^FAC^MR||Smith^Jo\r"
        "MRG|OLD1^^^FAC^MR\r";
    char msg[1024], want[512];
    struct hl7_msg *m = NULL;
    struct hub_err err = { 0 };
    struct slice ack;

    /* the parser stops at the second PID's NUL (PID-5) */
    int n = snprintf(msg, sizeof(msg), "%sPID|1||NEW2^^^FAC^MR||Jo#nes\r"
                     "MRG|OLD2^^^FAC^MR\r", head);
    char *nul = strchr(msg, '#');
    *nul = '\0';
    cr_assert_eq(hl7_parse(&A, msg, (size_t)n, &m, &err), HUB_ESYNTAX);
    cr_assert_not_null(m);
    cr_assert_str_eq(err.field, "PID-5");
    cr_assert_eq(hl7_ack(&A, m, "AE", &err, "K", "2026", &ack), HUB_OK);
    snprintf(want, sizeof(want),
             "MSH|^~\\&|C|D|A|B|2026||ACK^A40^ACK|K|P|2.5\r"
             "MSA|AE|M1\r"
             "ERR||PID^2^5|102^Data type error^HL70357|E|||"
             "byte offset %zu|message contains a NUL byte\r",
             (size_t)(nul - msg));
    assert_slice(ack, want);

    /* ... at too many repetitions of the second PID's PID-3 */
    n = snprintf(msg, sizeof(msg), "%sPID|1||", head);
    for (int k = 0; k <= HL7_MAX_REPS; k++)     /* one too many */
        n += snprintf(msg + n, sizeof(msg) - (size_t)n, "%s", k ? "~X" : "X");
    snprintf(msg + n, sizeof(msg) - (size_t)n, "\rMRG|OLD2\r");
    m = NULL;
    cr_assert_eq(hl7_parse(&A, msg, strlen(msg), &m, &err), HUB_ELIMIT);
    cr_assert_str_eq(err.field, "PID-3");
    cr_assert_eq(hl7_ack(&A, m, "AR", &err, "K", "2026", &ack), HUB_OK);
    cr_expect(strstr(ack.p, "ERR||PID^2^3|") != NULL, "%.*s", (int)ack.len,
              ack.p);

    /* the second group has no MRG: the second MRG is missing */
    snprintf(msg, sizeof(msg), "%sPID|1||NEW2^^^FAC^MR||Jones^Al\r", head);
    snprintf(want, sizeof(want),
             "MSH|^~\\&|C|D|A|B|2026||ACK^A40^ACK|K|P|2.5\r"
             "MSA|AE|M1\r"
             "ERR||MRG^2|100^Segment sequence error^HL70357|E||||"
             "required segment MRG is missing\r");
    assert_slice(ack_of_refused(parse_ok(msg), "MRG"), want);

    /* the first group's: 1, as before */
    snprintf(msg, sizeof(msg),
             "MSH|^~\\&|A|B|C|D|2026||ADT^A40^ADT_A39|M1|P|2.3\r"
             "PID|1||NEW1^^^FAC^MR||Smith^Jo\r"
             "PID|1||NEW2^^^FAC^MR||Jones^Al\rMRG|OLD2^^^FAC^MR\r");
    cr_expect(strstr(ack_of_refused(parse_ok(msg), "MRG").p,
                     "\rERR|MRG^1^^100&") != NULL);
}

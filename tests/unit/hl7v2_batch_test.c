/*
 * hl7v2_batch_test.c - the batch file envelope (hl7_batch_read) and the
 * response batch (hl7_batch_ack): each message handed back as sent alone,
 * every malformed envelope refused whole at its segment and byte offset,
 * and BTS-1/FTS-1 counts checked (adapters/hl7v2/README.md says why a
 * count that differs refuses the file rather than warns).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "common/hub_err.h"
#include "hl7v2/hl7v2.h"

#define MSG(id)                                                          \
    "MSH|^~\\&|ADM|HOSP|HUB|HUBFAC|20260322120000||ADT^A04^ADT_A01|" id  \
    "|P|2.5.1\rEVN|A04|20260322120000\rPID|1||" id "^^^MRN^MR||Doe^J\r"

static struct arena A;
static struct hl7_batch_file *F;
static struct slice M[16];

static void setup(void)
{
    arena_init(&A, 16 * 1024);
    F = malloc(sizeof(*F));
    cr_assert_not_null(F);
}

static void teardown(void)
{
    free(F);
    arena_release(&A);
}

TestSuite(hl7_batch, .init = setup, .fini = teardown);

static int rd(const char *s, struct hub_err *err)
{
    memset(err, 0, sizeof(*err));
    return hl7_batch_read(s, strlen(s), F, M, 16, err);
}

static bool slice_is(struct slice s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.p, want, s.len) == 0;
}

/* Refused at `field`, at the byte where `at` starts in s. */
static void refused(const char *s, int code, const char *field,
                    const char *at)
{
    struct hub_err err;
    cr_assert_eq(rd(s, &err), code, "%s: rc", field);
    cr_assert_str_eq(err.field, field);
    cr_assert_eq(err.offset, (size_t)(strstr(s, at) - s), "%s: offset %zu",
                 field, err.offset);
    cr_assert_not_null(err.what);
}

Test(hl7_batch, tells_a_batch_from_a_message_by_its_first_bytes)
{
    cr_assert(hl7_is_batch("FHS|^~\\&", 8));
    cr_assert(hl7_is_batch("\r\n BHS|^~\\&", 11));
    cr_assert(!hl7_is_batch(MSG("1"), strlen(MSG("1"))));
    cr_assert(!hl7_is_batch("FHSX|", 5));
    cr_assert(!hl7_is_batch("BHS", 3));
    cr_assert(!hl7_is_batch("", 0));
    /* a Windows export's byte order mark before the header */
    cr_assert(hl7_is_batch("\xef\xbb\xbf" "FHS|^~\\&", 11));
    cr_assert(!hl7_is_batch("\xef\xbb\xbf" "MSH|^~\\&", 11));
    struct hub_err err;
    const char *s = "\xef\xbb\xbf" "BHS|^~\\&\r\n" MSG("1") "BTS|1\r\n";
    cr_assert_eq(rd(s, &err), HUB_OK, "%s at %s", err.what, err.field);
    cr_assert_eq(F->n_msgs, 1);
    cr_assert(slice_is(M[0], MSG("1")));
    /* offsets still count the body's bytes, the mark's too */
    refused("\xef\xbb\xbf" "BHS|^~\\&\r" MSG("1"), HUB_ESYNTAX, "BHS", "BHS");
}

Test(hl7_batch, hands_back_each_message_as_if_sent_alone)
{
    const char *s = "FHS|^~\\&|ADM|HOSP|HUB|HUBFAC|20260322||||F1\r"
                    "BHS|^~\\&|ADM|HOSP|HUB|HUBFAC|20260322||||B1\r"
                    MSG("1") MSG("2")
                    "BTS|2\rBHS|^~\\&|ADM|HOSP\r" MSG("3") "BTS|1\rFTS|2\r";
    struct hub_err err;
    cr_assert_eq(rd(s, &err), HUB_OK, "%s at %s", err.what, err.field);
    cr_assert_eq(F->n_msgs, 3);
    cr_assert_eq(F->nb, 2);
    cr_assert(slice_is(M[0], MSG("1")), "%.*s", (int)M[0].len, M[0].p);
    cr_assert(slice_is(M[1], MSG("2")));
    cr_assert(slice_is(M[2], MSG("3")));
    cr_assert_eq(F->b[0].first, 0);
    cr_assert_eq(F->b[0].n, 2);
    cr_assert_eq(F->b[1].first, 2);
    cr_assert_eq(F->b[1].n, 1);
    /* each parses on its own, with its own MSH-10 */
    for (int i = 0; i < 3; i++) {
        struct hl7_msg *m;
        cr_assert_eq(hl7_parse(&A, M[i].p, M[i].len, &m, &err), HUB_OK);
        char id[2] = { (char)('1' + i), 0 };
        cr_assert(slice_is(hl7_control_id(m), id));
    }
}

Test(hl7_batch, takes_crlf_blank_lines_no_fhs_and_no_counts)
{
    const char *s = "\r\nBHS|^~\\&\r\n\r\nMSH|^~\\&|A||B||2026||ADT^A01|9|P|"
                    "2.3\r\nPID|1||9\r\n\r\nBTS\r\n";
    struct hub_err err;
    cr_assert_eq(rd(s, &err), HUB_OK, "%s at %s", err.what, err.field);
    cr_assert_eq(F->n_msgs, 1);
    cr_assert(slice_is(M[0], "MSH|^~\\&|A||B||2026||ADT^A01|9|P|2.3\r\n"
                             "PID|1||9\r"), "%.*s", (int)M[0].len, M[0].p);
    cr_assert(F->fhs.p == NULL);
    cr_assert_eq(F->b[0].declared, -1);
    /* FHS with messages and no BHS: the standard's BHS is optional */
    const char *f = "FHS|^~\\&\r" MSG("1") MSG("2") "FTS|1\r";
    cr_assert_eq(rd(f, &err), HUB_OK, "%s at %s", err.what, err.field);
    cr_assert_eq(F->n_msgs, 2);
    cr_assert_eq(F->nb, 1);
    cr_assert(!F->b[0].has_bhs);
}

/* A batch may hold no message (periodic submission, v2.3 ch. 2.23.3). */
Test(hl7_batch, takes_an_empty_batch)
{
    struct hub_err err;
    cr_assert_eq(rd("FHS|^~\\&\rBHS|^~\\&\rBTS|0\rFTS|1\r", &err), HUB_OK);
    cr_assert_eq(F->n_msgs, 0);
    cr_assert_eq(F->nb, 1);
}

/* BTS-1 is "the count of the individual messages contained within the
 * batch". HL7 rejects a batch as a whole only when it may be corrupt, and a
 * count that differs says messages were lost or added on the way: the file
 * is refused before any message is taken (decision: refusal, not warning;
 * a re-sent whole file is safe, its accepted messages are duplicates by
 * MSH-10). */
Test(hl7_batch, refuses_a_batch_whose_count_differs_naming_bts_1)
{
    const char *s = "BHS|^~\\&\r" MSG("1") MSG("2") "BTS|3\r";
    refused(s, HUB_EINVALID, "BTS-1", "BTS|3");
    struct hub_err err;
    rd(s, &err);
    cr_assert(strstr(err.what, "differs") != NULL);
    refused("BHS|^~\\&\r" MSG("1") "BTS|1x\r", HUB_EINVALID, "BTS-1",
            "BTS|1x");
    refused("FHS|^~\\&\rBHS|^~\\&\r" MSG("1") "BTS|1\rFTS|2\r", HUB_EINVALID,
            "FTS-1", "FTS|2");
    /* spaces around the count are no difference */
    cr_assert_eq(rd("BHS|^~\\&\r" MSG("1") "BTS| 1 \r", &err), HUB_OK);
}

/* FTS-1 is "the number of batches contained in this file". Messages
 * directly under FHS are one batch to the hub, but a file without any BHS
 * holds no batch header, and Oazis (a Belgian HIS, its A28 in a public
 * parser's test program) counts those: FHS, one message, FTS|0. The file
 * was refused whole at FTS-1 (F265); a count of 0 is taken where the file
 * has no BHS, and nowhere else. */
Test(hl7_batch, takes_an_fts_count_of_zero_for_a_file_without_bhs)
{
    struct hub_err err;
    const char *f = "FHS|^~\\&|OAZIS||||20140318114932||ADT||9568180\r"
                    MSG("1") "FTS|0|9568180\r";
    cr_assert_eq(rd(f, &err), HUB_OK, "%s at %s", err.what, err.field);
    cr_assert_eq(F->n_msgs, 1);
    cr_assert_eq(F->nb, 1);
    cr_assert(slice_is(M[0], MSG("1")));
    refused("FHS|^~\\&\rBHS|^~\\&\r" MSG("1") "BTS|1\rFTS|0\r", HUB_EINVALID,
            "FTS-1", "FTS|0");
    refused("FHS|^~\\&\r" MSG("1") "FTS|2\r", HUB_EINVALID, "FTS-1",
            "FTS|2");
}

Test(hl7_batch, refuses_a_malformed_envelope_at_its_segment_and_offset)
{
    refused("BHS|^~\\&\r" MSG("1"), HUB_ESYNTAX, "BHS", "BHS");
    refused("FHS|^~\\&\rBHS|^~\\&\r" MSG("1") "FTS|1\r", HUB_ESYNTAX, "BHS",
            "BHS");
    refused("BHS|^~\\&\r" MSG("1") "BHS|^~\\&\r" MSG("2") "BTS|1\r",
            HUB_ESYNTAX, "BHS", "BHS");
    refused("FHS|^~\\&\r" MSG("1"), HUB_ESYNTAX, "FHS", "FHS");
    refused("FHS|^~\\&\rFHS|^~\\&\r" MSG("1") "FTS\rFTS\r", HUB_ESYNTAX,
            "FHS", "FHS|^~\\&\r" "MSH");
    refused("BHS|^~\\&\r" MSG("1") "BTS|1\rFHS|^~\\&\rFTS\r", HUB_ESYNTAX,
            "FHS", "FHS");
    refused("BHS|^~\\&\r" MSG("1") "BTS|1\rBTS|0\r", HUB_ESYNTAX, "BTS",
            "BTS|0");
    refused("BHS|^~\\&\r" MSG("1") "BTS|1\rFTS|1\r", HUB_ESYNTAX, "FTS",
            "FTS");
    /* stray segments between messages: named by their ID, never data */
    refused("BHS|^~\\&\rEVN|A04\r" MSG("1") "BTS|1\r", HUB_ESYNTAX, "EVN",
            "EVN");
    refused("BHS|^~\\&\r" MSG("1") "BTS|1\rNTE|1\rBHS|^~\\&\rBTS\r",
            HUB_ESYNTAX, "NTE", "NTE");
    refused("BHS|^~\\&\r" MSG("1") "BTS|1\r" MSG("2"), HUB_ESYNTAX, "MSH",
            MSG("2"));
    refused("FHS|^~\\&\rBHS|^~\\&\rBTS\rFTS\rPID|1||secret\r", HUB_ESYNTAX,
            "PID", "PID");
    refused("BHS|^~\\&\rDoe^Jane|1980\r" MSG("1") "BTS\r", HUB_ESYNTAX,
            "segment", "Doe");
    struct hub_err err;
    rd("BHS|^~\\&\rDoe^Jane|1980\r" MSG("1") "BTS\r", &err);
    cr_assert(strstr(err.what, "Doe") == NULL);
    /* a name in capitals, as HL7 senders write names: no segment ID
     * (F4145); nor three digits of a number */
    refused("BHS|^~\\&\rDOE^JANE|1980\r" MSG("1") "BTS\r", HUB_ESYNTAX,
            "segment", "DOE");
    refused("BHS|^~\\&\r" MSG("1") "BTS\rFOO\r", HUB_ESYNTAX, "FOO", "FOO");
    refused("BHS|^~\\&\r" MSG("1") "BTS|1\r123-45-6789\r", HUB_ESYNTAX,
            "segment", "123");
}

Test(hl7_batch, stops_at_the_message_limit)
{
    struct hub_err err;
    const char *s = "BHS|^~\\&\r" MSG("1") MSG("2") MSG("3") "BTS\r";
    cr_assert_eq(hl7_batch_read(s, strlen(s), F, M, 2, &err), HUB_ELIMIT);
    cr_assert_str_eq(err.field, "MSH");
    cr_assert_eq(err.offset, (size_t)(strstr(s, MSG("3")) - s));
}

/* F324: FHS-11 and BHS-11 are ST of 20; a longer id keeps its last 20 */
Test(hl7_batch, its_response_control_id_fits_twenty_characters)
{
    const char *s = "BHS|^~\\&|ADM|HOSP|HUB|HUBFAC|20260322||||B1\r"
                    MSG("1") "BTS|1\r";
    struct hub_err err;
    cr_assert_eq(rd(s, &err), HUB_OK);
    struct slice acks[1] = { SLICE_LIT("MSH|^~\\&|HUB|HUBFAC|ADM|HOSP|2026||"
                                       "ACK|K1|P|2.5.1\rMSA|AA|1\r") };
    struct slice out;
    cr_assert_eq(hl7_batch_ack(&A, F, acks, "01M92TEJ486M7JESBZJ25XMGQC",
                               "20260101000000+0000", &out), HUB_OK);
    cr_assert(slice_is(out, "BHS|^~\\&|HUB|HUBFAC|ADM|HOSP|"
                            "20260101000000+0000||||EJ486M7JESBZJ25XMGQC|B1\r"
                            "MSH|^~\\&|HUB|HUBFAC|ADM|HOSP|2026||ACK|K1|P|"
                            "2.5.1\rMSA|AA|1\rBTS|1\r"),
              "%.*s", (int)out.len, out.p);
}

Test(hl7_batch, answers_with_a_response_batch_echoing_the_control_ids)
{
    const char *s = "FHS|^~\\&|ADM|HOSP|HUB|HUBFAC|20260322||||F1\r"
                    "BHS|^~\\&|ADM|HOSP|HUB|HUBFAC|20260322||||B1\r"
                    MSG("1") MSG("2") "BTS|2\rFTS|1\r";
    struct hub_err err;
    cr_assert_eq(rd(s, &err), HUB_OK);
    struct slice acks[2] = { SLICE_LIT("MSH|^~\\&|HUB|HUBFAC|ADM|HOSP|2026||"
                                       "ACK|K1|P|2.5.1\rMSA|AA|1\r"),
                             SLICE_LIT("MSH|^~\\&|HUB|HUBFAC|ADM|HOSP|2026||"
                                       "ACK|K2|P|2.5.1\rMSA|AE|2\r") };
    struct slice out;
    cr_assert_eq(hl7_batch_ack(&A, F, acks, "R9", "20260101000000+0000",
                               &out), HUB_OK);
    const char *want =
        "FHS|^~\\&|HUB|HUBFAC|ADM|HOSP|20260101000000+0000||||R9|F1\r"
        "BHS|^~\\&|HUB|HUBFAC|ADM|HOSP|20260101000000+0000||||R9|B1\r"
        "MSH|^~\\&|HUB|HUBFAC|ADM|HOSP|2026||ACK|K1|P|2.5.1\rMSA|AA|1\r"
        "MSH|^~\\&|HUB|HUBFAC|ADM|HOSP|2026||ACK|K2|P|2.5.1\rMSA|AE|2\r"
        "BTS|2\rFTS|1\r";
    cr_assert(slice_is(out, want), "%.*s", (int)out.len, out.p);
    /* the response is itself a batch this reader takes, counts and all */
    struct hl7_batch_file *g = malloc(sizeof(*g));
    struct slice m2[4];
    cr_assert_eq(hl7_batch_read(out.p, out.len, g, m2, 4, &err), HUB_OK);
    cr_assert_eq(g->n_msgs, 2);
    free(g);
}

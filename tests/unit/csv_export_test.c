/*
 * csv_export_test.c - the CSV layouts against what real exports hold
 * (Excel, Google Sheets, case-management systems, hand edits): header
 * names as people title them, duplicate and unknown columns, delimiters,
 * encodings, and dates as spreadsheets rewrite them. Each accepted oddity
 * is checked in the canonical event; each refusal by its place (row,
 * column, byte offset) and its static reason.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dict.h"
#include "common/hub_err.h"
#include "csv/csv.h"
#include "dict_files.h"
#include "../lib/csvrun.h"
#include "../lib/testdict.h"

static struct dict *D;
static struct arena A;

static void setup(void)
{
    D = testdict_load();
    arena_init(&A, 64 * 1024);
}

static void teardown(void)
{
    dict_free(D);
    arena_release(&A);
}

TestSuite(csv_export, .init = setup, .fini = teardown);

#define RUN(kind, lit) csvrun(&A, D, kind, "t.csv", lit, sizeof(lit) - 1)

/* The finding at `row` whose reason holds `what`, or NULL. */
static const struct csv_finding *finding(const struct csv_report *r,
                                         size_t row, const char *what)
{
    return csvrun_finding(r, row, what);
}

static const char *ev(const struct csvrun *r, size_t i)
{
    cr_assert_gt(r->out.n, i, "no event %zu (rc %d, %s: %s)", i, r->rc,
                 r->err.field, r->err.what ? r->err.what : "");
    return r->out.ev[i].json.p;
}

#define HAS(json, lit) cr_assert(strstr(json, lit) != NULL, "%s", json)

/* ---- header names ------------------------------------------------------ */

/* People title columns: "Screening ID", "Patient_Id", "SCREENED-AT". Case,
 * spaces, '_' and '-' do not count; the order is free. */
Test(csv_export, header_names_match_without_case_spaces_or_underscores)
{
    struct csvrun r = RUN("screenings",
        " Screened At ,Question,ANSWER,Screening ID,Patient_Id,instrument,"
        "Sender-Positive\r\n"
        "2026-01-02,71802-3,LA31994-9,S1,P1,96777-8,Y\r\n");
    cr_assert_eq(r.rc, HUB_OK, "%s: %s", r.err.field,
                 r.err.what ? r.err.what : "");
    cr_assert_eq(r.rep.rows_used, 1);
    cr_assert_eq(r.rep.warnings, 0);
    const char *e = ev(&r, 0);
    HAS(e, "\"occurred_at\":\"2026-01-02\"");
    HAS(e, "\"identifiers\":[{\"value\":\"P1\"}]");
    HAS(e, "\"id\":\"S1\"");
    HAS(e, "\"answer\":\"LA31994-9\"");
    HAS(e, "\"sender_positive\":true");
}

/* A header from another tool lacks several of the layout's columns: each
 * is a finding, so the sender renames them in one go; the error names the
 * first (F215: a hospital's AHC HRSN export, refused for screening_id
 * alone, then for patient_id, ...). */
Test(csv_export, every_missing_required_column_is_named_at_once)
{
    struct csvrun r = RUN("screenings",
        "PAT_MRN_ID,SURVEY_ID,RECORDED_TIME,QUESTION,ANSWER_CODE\r\n"
        "P1,S1,2026-01-02,71802-3,LA31993-1\r\n");
    cr_assert_eq(r.rc, HUB_EINVALID);
    cr_assert_str_eq(r.err.field, "0:screening_id");
    cr_assert_str_eq(r.err.what, "required column is missing");
    static const char *const missing[] = { "screening_id", "patient_id",
                                           "instrument", "screened_at" };
    cr_assert_eq(r.rep.errors, 4);
    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(r.rep.f[i].row, 1);
        cr_assert_eq(r.rep.f[i].col, 0);
        cr_assert_str_eq(r.rep.f[i].column, missing[i]);
        cr_assert_str_eq(r.rep.f[i].what, "required column is missing");
    }
    /* and the columns not read, by number, in the same report (F2400):
     * the missing ones are among them under the sender's names */
    static const size_t unread[] = { 1, 2, 3, 5 };
    cr_assert_eq(r.rep.warnings, 4);
    cr_assert_eq(r.rep.n, 8);
    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(r.rep.f[4 + i].row, 1);
        cr_assert_eq(r.rep.f[4 + i].col, unread[i]);
        cr_assert_null(r.rep.f[4 + i].column);
        cr_assert_str_eq(r.rep.f[4 + i].what,
                         "column is not one the layout knows; ignored");
    }
}

/* An instrument or a question the dictionary does not know is kept with a
 * warning that names its column, as every other row finding does (F217: a
 * hospital export whose "Question" column held the question's text had 27
 * such warnings by row alone; since F218 the wordings the dictionary
 * holds are read, so the question here is one it does not). */
Test(csv_export, codes_not_in_the_dictionary_are_warned_at_their_column)
{
    struct csvrun r = RUN("screenings",
        "screening_id,patient_id,screened_at,instrument,answer,question\r\n"
        "S1,P1,2026-01-02,AHCHRSN,LA31993-1,Where did you sleep last "
        "night?\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    const struct csv_finding *f = finding(&r.rep, 2, "instrument is not");
    cr_assert_not_null(f);
    cr_assert_eq(f->col, 4);
    cr_assert_str_eq(f->column, "instrument");
    f = finding(&r.rep, 2, "question is not");
    cr_assert_not_null(f);
    cr_assert_eq(f->col, 6);
    cr_assert_str_eq(f->column, "question");
}

/* Two columns that name the same layout column: which one is meant cannot
 * be told, so the file is refused, at the second one's place. */
Test(csv_export, a_layout_column_named_twice_refuses_the_file_at_the_second)
{
    static const char lit[] =
        "screening_id,patient_id,instrument,screened_at,question,"
        "Patient ID\r\n"
        "S1,P1,96777-8,2026-01-02,71802-3,P2\r\n";
    struct csvrun r = RUN("screenings", lit);
    cr_assert_eq(r.rc, HUB_EINVALID);
    cr_assert_str_eq(r.err.field, "0:row 1 col 6");
    cr_assert_eq(r.err.offset, (size_t)(strstr(lit, "Patient ID") - lit));
    cr_assert_eq(r.out.n, 0);
    const struct csv_finding *f = finding(&r.rep, 1, "twice");
    cr_assert_not_null(f);
    cr_assert_eq(f->col, 6);
    cr_assert_str_eq(f->column, "patient_id");
    cr_assert_eq(f->severity, CSV_SEV_ERROR);
}

/* A column the layout does not know is ignored with a warning by number
 * (one the layout calls otherwise, "DOB" for birth_date, would else vanish
 * unseen); unnamed padding columns (",,,") are not warned of. */
Test(csv_export, unknown_columns_are_ignored_with_a_warning_by_number)
{
    struct csvrun r = RUN("screenings",
        "screening_id,patient_id,instrument,screened_at,question,answer,"
        "DOB,Notes,,\r\n"
        "S1,P1,96777-8,2026-01-02,71802-3,LA31993-1,1980-01-01,call back,,\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.rows_used, 1);
    cr_assert_eq(r.rep.warnings, 2);
    cr_assert_eq(r.rep.f[0].row, 1);
    cr_assert_eq(r.rep.f[0].col, 7);
    cr_assert_null(r.rep.f[0].column, "a header name is not quoted back");
    cr_assert(strstr(r.rep.f[0].what, "not one the layout knows"));
    cr_assert_eq(r.rep.f[1].col, 8);
    cr_assert(strstr(ev(&r, 0), "birth") == NULL, "%s", ev(&r, 0));
}

/* A first row that is data, not a header, is refused as a missing column
 * and no finding repeats what it holds: the findings name the layout's
 * missing columns (F215), not the row's values. */
Test(csv_export, a_file_without_a_header_row_quotes_nothing_back)
{
    struct csvrun r = RUN("screenings",
        "S1,P1,96777-8,2026-01-02,71802-3,LA31994-9\r\n"
        "S1,P1,96777-8,2026-01-02,88122-7,LA28397-0\r\n");
    cr_assert_eq(r.rc, HUB_EINVALID);
    cr_assert_str_eq(r.err.field, "0:screening_id");
    static const char *const layout[] = { "screening_id", "patient_id",
                                          "instrument", "screened_at",
                                          "question" };
    cr_assert_eq(r.rep.n, 11);
    for (size_t i = 0; i < 5; i++) {
        cr_assert_str_eq(r.rep.f[i].column, layout[i]);
        cr_assert_str_eq(r.rep.f[i].what, "required column is missing");
    }
    for (size_t i = 5; i < 11; i++) {      /* by number, no value (F2400) */
        cr_assert_eq(r.rep.f[i].col, i - 4);
        cr_assert_null(r.rep.f[i].column);
        cr_assert_str_eq(r.rep.f[i].what,
                         "column is not one the layout knows; ignored");
    }
}

/* ---- delimiters --------------------------------------------------------- */

/* European Excel saves "CSV" with ';' (a comma in a value is then plain
 * text); "Unicode text" and some case-management systems use TAB. The
 * header tells which: the file is read so, with a warning on the file. */
Test(csv_export, semicolon_and_tab_files_are_read_by_their_header)
{
    struct csvrun s = RUN("screenings",
        "screening_id;patient_id;instrument;screened_at;question;answer;"
        "address_line\r\n"
        "S1;P1;96777-8;2026-01-02;71802-3;LA31994-9;5 Elm St, Apt 1\r\n"
        "S1;P1;96777-8;2026-01-02;88122-7;\"LA28397-0\"\r\n");
    cr_assert_eq(s.rc, HUB_OK);
    cr_assert_eq(s.rep.rows_used, 1);
    cr_assert_eq(s.rep.rows_rejected, 1);
    const struct csv_finding *f = finding(&s.rep, 3, "fewer columns");
    cr_assert_not_null(f);
    cr_assert_eq(f->col, 7);
    f = finding(&s.rep, 0, "semicolons");
    cr_assert_not_null(f);
    cr_assert_eq(f->severity, CSV_SEV_WARNING);
    HAS(ev(&s, 0), "\"lines\":[\"5 Elm St, Apt 1\"]");

    struct csvrun t = RUN("referral-status",
        "referral_id\tstatus\tupdated_at\tpatient_id\tstatus_reason\n"
        "R-1\tIn Progress\t2026-03-03T09:00:00Z\tC-1\tcalled, no answer\n");
    cr_assert_eq(t.rc, HUB_OK);
    cr_assert_eq(t.rep.rows_used, 1);
    cr_assert_not_null(finding(&t.rep, 0, "tabs"));
    HAS(ev(&t, 0), "\"status\":\"in-progress\"");
    HAS(ev(&t, 0), "\"status_reason\":\"called, no answer\"");

    /* a comma file with a ';' in a value is still a comma file */
    struct csvrun c = RUN("screenings",
        "screening_id,patient_id,instrument,screened_at,question,answer,"
        "address_line\r\n"
        "S1,P1,96777-8,2026-01-02,71802-3,LA31994-9,Unit 4; rear\r\n");
    cr_assert_eq(c.rc, HUB_OK);
    cr_assert_eq(c.rep.warnings, 0);
    HAS(ev(&c, 0), "\"lines\":[\"Unit 4; rear\"]");
}

/* A pipe file (the oldest SHIN-NY generation) is read as such and then
 * refused on the columns it lacks, by name. */
Test(csv_export, a_pipe_file_is_read_as_such_and_refused_by_its_columns)
{
    struct csvrun r = RUN("screenings",
        "PAT_MRN_ID|SDOH_DOMAIN|QUESTION_CODE\r\n"
        "M1|Housing|71802-3\r\n");
    cr_assert_eq(r.rc, HUB_EINVALID);
    cr_assert_str_eq(r.err.field, "0:screening_id");
    cr_assert_not_null(finding(&r.rep, 0, "'|'"));
}

/* A Summer'24 (QCS) SCREENING_ file, pipe-delimited, sent alone as a set:
 * recognised as a ScreeningObs by its header and refused as an older
 * generation, not for a missing PATIENT_MR_ID_VALUE (F57). */
Test(csv_export, an_older_generation_screening_file_is_refused_as_such)
{
    static const char scr[] =
        "PAT_MRN_ID|FACILITY_ID|ENCOUNTER_ID|SCREENING_CODE|RECORDED_TIME|"
        "QUESTION_CODE|ANSWER_CODE|POTENTIAL_NEED_INDICATED\n"
        "M1|F1|E1|96777-8|2023-04-02T08:41:20.000000+04:00|71802-3|"
        "LA31994-9|Yes\n";
    struct csv_file f = { "SCREENING_qcs-test-20240531-testcase1.csv", NULL,
                          scr, sizeof(scr) - 1 };
    struct csvrun r;
    memset(&r, 0, sizeof(r));
    r.rc = csv_to_events(&A, D, "shinny", &f, 1, &r.out, &r.rep, &r.err);
    cr_assert_eq(r.rc, HUB_EUNSUPPORTED);
    cr_assert_str_eq(r.err.field, "SCREENING_qcs-test-20240531-testcase1.csv");
    cr_assert(strstr(r.err.what, "older SHIN-NY generation") != NULL);
}

/* ---- encodings ---------------------------------------------------------- */

/* UTF-8 text `s` as UTF-16 (little- or big-endian), with or without a byte
 * order mark, in the arena. */
static char *u16(const char *s, bool be, bool bom, size_t *len)
{
    size_t n = strlen(s);
    unsigned char *o = arena_alloc(&A, 4 * n + 2), *p = o;
    unsigned units[2];
    if (bom) {
        *p++ = be ? 0xfe : 0xff;
        *p++ = be ? 0xff : 0xfe;
    }
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        unsigned cp, k = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
        cp = k == 1 ? c : k == 2 ? c & 0x1f : k == 3 ? c & 0x0f : c & 0x07;
        for (unsigned j = 1; j < k; j++)
            cp = cp << 6 | ((unsigned char)s[i + j] & 0x3f);
        i += k;
        size_t nu = 1;
        units[0] = cp;
        if (cp >= 0x10000) {
            units[0] = 0xd800 + ((cp - 0x10000) >> 10);
            units[1] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
            nu = 2;
        }
        for (size_t j = 0; j < nu; j++) {
            *p++ = (unsigned char)(be ? units[j] >> 8 : units[j] & 0xff);
            *p++ = (unsigned char)(be ? units[j] & 0xff : units[j] >> 8);
        }
    }
    *len = (size_t)(p - o);
    return (char *)o;
}

/* Excel's "Unicode text": UTF-16LE with a byte order mark, TAB-delimited.
 * It is read; letters beyond ASCII (and beyond the BMP) reach the event as
 * UTF-8; a rejected row is given back as the UTF-16 bytes sent, at their
 * offset as sent. */
Test(csv_export, excel_unicode_text_is_read_and_rows_kept_as_sent)
{
    static const char text[] =
        "screening_id\tpatient_id\tinstrument\tscreened_at\tquestion\t"
        "answer\tfamily_name\r\n"
        "S1\tP1\t96777-8\t2026-01-02\t71802-3\tLA31994-9\t"
        "Mu\xc3\xb1oz \xf0\x9f\x98\x80\r\n"
        "S2\tP\xc3\xa9\tshort\r\n";
    size_t len;
    char *p = u16(text, false, true, &len);
    struct csvrun r = csvrun(&A, D, "screenings", "t.csv", p, len);
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.rows_used, 1);
    cr_assert_not_null(finding(&r.rep, 0, "UTF-16"));
    cr_assert_not_null(finding(&r.rep, 0, "tabs"));
    HAS(ev(&r, 0), "\"family\":\"Mu\xc3\xb1oz \xf0\x9f\x98\x80\"");
    cr_assert_eq(r.rep.n_rejected, 1);
    const struct csv_rejected *rj = &r.rep.rejected[0];
    size_t head, row;
    u16(text, false, true, &head);
    char *want = u16("S2\tP\xc3\xa9\tshort", false, false, &row);
    size_t tail;
    u16("S2\tP\xc3\xa9\tshort\r\n", false, false, &tail);
    cr_assert_eq(rj->offset, len - tail);
    cr_assert_eq(rj->raw.len, row);
    cr_assert(memcmp(rj->raw.p, want, row) == 0);
    cr_assert_eq(rj->raw.p, p + rj->offset);

    /* big-endian without a byte order mark: the header's ASCII shows it */
    p = u16("screening_id,patient_id,instrument,screened_at,question\n"
            "S1,P1,96777-8,2026-01-02,93030-5\n", true, false, &len);
    struct csvrun b = csvrun(&A, D, "screenings", "t.csv", p, len);
    cr_assert_eq(b.rc, HUB_OK);
    cr_assert_eq(b.rep.rows_used, 1);
}

/* An unpaired surrogate becomes U+FFFD: no event holds what is not UTF-8.
 * An error that refuses the file names its offset in the bytes sent. */
Test(csv_export, utf16_damage_is_replaced_and_fatal_offsets_are_as_sent)
{
    size_t len;
    char *p = u16("screening_id,patient_id,instrument,screened_at,question,"
                  "family_name\r\nS1,P1,96777-8,2026-01-02,93030-5,AB\r\n",
                  false, true, &len);
    /* "AB" -> A, a lone high surrogate */
    char *b = NULL;
    for (size_t i = 0; i + 4 <= len && b == NULL; i++)
        if (memcmp(p + i, "B\0\r\0", 4) == 0)
            b = p + i;
    cr_assert_not_null(b);
    b[0] = 0x00;
    b[1] = (char)0xd8;
    struct csvrun r = csvrun(&A, D, "screenings", "t.csv", p, len);
    cr_assert_eq(r.rc, HUB_OK);
    HAS(ev(&r, 0), "\"family\":\"A\xef\xbf\xbd\"");

    static const char text[] =
        "screening_id,patient_id,instrument,screened_at,question,"
        "family_name\r\nS1,P1,96777-8,2026-01-02,93030-5,\"\xc3\xa9open\r\n";
    p = u16(text, false, true, &len);
    struct csvrun q = csvrun(&A, D, "screenings", "t.csv", p, len);
    cr_assert_eq(q.rc, HUB_ESYNTAX);
    cr_assert_str_eq(q.err.field, "0:row 2 col 6");
    size_t tail;
    u16("\"\xc3\xa9open\r\n", false, false, &tail);
    cr_assert_eq(q.err.offset, len - tail, "offset %zu", q.err.offset);
}

/* Rows pasted from a Windows-1252 file into a UTF-8 one: the UTF-8 stays
 * as it is (not turned into mojibake by reading all as Windows-1252), the
 * other bytes are read as Windows-1252, and the file says so. */
Test(csv_export, a_utf8_file_with_some_windows_1252_bytes_keeps_both)
{
    static const char lit[] =
        "\xef\xbb\xbfscreening_id,patient_id,instrument,screened_at,question,"
        "family_name\r\n"
        "S1,P1,96777-8,2026-01-02,93030-5,Mu\xc3\xb1oz\r\n"
        "S2,P2,96777-8,2026-01-02,93030-5,Pe\xf1" "a\r\n"
        "S3,P\xe9,96777-8\r\n";
    struct csvrun r = RUN("screenings", lit);
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.rows_used, 2);
    const struct csv_finding *f = finding(&r.rep, 0, "some bytes that are not");
    cr_assert_not_null(f);
    cr_assert_null(finding(&r.rep, 0, "not UTF-8: read as Windows-1252"));
    HAS(ev(&r, 0), "\"family\":\"Mu\xc3\xb1oz\"");
    HAS(ev(&r, 1), "\"family\":\"Pe\xc3\xb1" "a\"");
    cr_assert_eq(r.rep.n_rejected, 1);
    const struct csv_rejected *rj = &r.rep.rejected[0];
    cr_assert_eq(rj->raw.p, strstr(lit, "S3,"));
    cr_assert_eq(rj->offset, (size_t)(strstr(lit, "S3,") - lit));
    cr_assert_eq(rj->raw.len, strlen("S3,P\xe9,96777-8"));
}

/* Excel for Mac saves "CSV" and "CSV (Macintosh)" in Mac OS Roman, each
 * line ended by a CR alone (a cell's own line break stays LF): read as
 * Windows-1252, Jos\x8e had a Z-caron and Mu\x96oz an en dash in the
 * events (F2402).
 * Such a file is read as Mac OS Roman, and says so; its rejected row is
 * still quarantined as the bytes sent. A Windows-1252 file with CRLF, or
 * one whose first line ends in LF, is read as before. */
Test(csv_export, an_excel_for_mac_csv_is_read_as_mac_os_roman)
{
    static const char lit[] =
        "screening_id,patient_id,instrument,screened_at,question,"
        "given_name,family_name,address_line\r"
        "S1,P1,96777-8,2026-01-02,93030-5,Jos\x8e,Mu\x96oz,"
        "\"Calle Pe\x96" "a 4\nApt N\xbc 2\"\r"
        "S2,P\x87,96777-8\r";
    struct csvrun r = RUN("screenings", lit);
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.rows_used, 1);
    cr_assert_not_null(finding(&r.rep, 0, "read as Mac OS Roman"));
    cr_assert_null(finding(&r.rep, 0, "Windows-1252"));
    HAS(ev(&r, 0), "\"given\":[\"Jos\xc3\xa9\"]");
    HAS(ev(&r, 0), "\"family\":\"Mu\xc3\xb1oz\"");
    HAS(ev(&r, 0), "\"lines\":[\"Calle Pe\xc3\xb1" "a 4\\nApt N\xc2\xba 2\"]");
    cr_assert_eq(r.rep.n_rejected, 1);
    const struct csv_rejected *rj = &r.rep.rejected[0];
    cr_assert_eq(rj->offset, (size_t)(strstr(lit, "S2,") - lit));
    cr_assert_eq(rj->raw.len, strlen("S2,P\x87,96777-8"));

    struct csvrun w = RUN("screenings",
        "screening_id,patient_id,instrument,screened_at,question,"
        "family_name\r\n"
        "S1,P1,96777-8,2026-01-02,93030-5,Mu\xf1oz\r\n");
    cr_assert_not_null(finding(&w.rep, 0, "not UTF-8: read as Windows-1252"));
    HAS(ev(&w, 0), "\"family\":\"Mu\xc3\xb1oz\"");

    /* Python's csv.writer on Windows: CR CR LF, Windows-1252 (F2480) */
    struct csvrun p = RUN("screenings",
        "screening_id,patient_id,instrument,screened_at,question,"
        "given_name,family_name\r\r\n"
        "S1,P1,96777-8,2026-01-02,93030-5,Jos\xe9,Mu\xf1oz\r\r\n");
    cr_assert_null(finding(&p.rep, 0, "read as Mac OS Roman"));
    cr_assert_not_null(finding(&p.rep, 0, "not UTF-8: read as Windows-1252"));
    HAS(ev(&p, 0), "\"given\":[\"Jos\xc3\xa9\"]");
    HAS(ev(&p, 0), "\"family\":\"Mu\xc3\xb1oz\"");
}

/* ---- dates as spreadsheets write them ------------------------------------ */

/* Each form a spreadsheet or database writes becomes one ISO 8601 value in
 * the event; each form is a warning once per column, at its first row. */
Test(csv_export, spreadsheet_dates_reach_the_event_as_iso_8601)
{
    static const struct {
        const char *sent, *iso;
    } dt[] = {
        { "2/19/2024", "2024-02-19" },
        { "02/19/2024 1:05 PM", "2024-02-19T13:05:00" },
        { "2/19/2024 12:30 am", "2024-02-19T00:30:00" },
        { "2/19/2024 17:45:09", "2024-02-19T17:45:09" },
        { "2/19/24", "2024-02-19" },
        { "45341", "2024-02-19" },
        { "45341.75", "2024-02-19T18:00:00" },
        { "2024-02-19 10:00", "2024-02-19T10:00" },
        { "2024-02-19 10:00:00.123-05:00", "2024-02-19T10:00:00.123-05:00" },
        { "2024/02/19", "2024-02-19" },
        { "2024-02-19T10:00:00+0530", "2024-02-19T10:00:00+05:30" },
        /* PostgreSQL's timestamptz as psql's \copy writes it (F2401) */
        { "2024-02-19 10:00:00+00", "2024-02-19T10:00:00+00:00" },
        { "2024-02-19 10:00:00.25-05", "2024-02-19T10:00:00.25-05:00" },
    };
    for (size_t i = 0; i < sizeof(dt) / sizeof(dt[0]); i++) {
        char in[512];
        int n = snprintf(in, sizeof(in),
                         "screening_id,patient_id,instrument,screened_at,"
                         "question,answer\r\n"
                         "S1,P1,96777-8,%s,71802-3,LA31993-1\r\n"
                         "S1,P1,96777-8,%s,93030-5,LA32-8\r\n",
                         dt[i].sent, dt[i].sent);
        char *p = arena_strndup(&A, in, (size_t)n);
        struct csvrun r = csvrun(&A, D, "screenings", "t.csv", p, (size_t)n);
        cr_assert_eq(r.rc, HUB_OK);
        cr_assert_eq(r.rep.rows_used, 2, "%s", dt[i].sent);
        char want[128];
        snprintf(want, sizeof(want), "\"occurred_at\":\"%s\"", dt[i].iso);
        HAS(ev(&r, 0), want);
        cr_assert_eq(r.rep.warnings, 1, "%s: one warning per column and form",
                     dt[i].sent);
        cr_assert_eq(r.rep.f[0].row, 2);
        cr_assert_eq(r.rep.f[0].col, 4);
        cr_assert_str_eq(r.rep.f[0].column, "screened_at");
    }
}

/* What cannot be read for sure is refused by row and column: a day-first
 * date (never swapped), a two-digit year in a birth date (1926 or 2026),
 * a birth date with a time of day, a date not in the calendar. */
Test(csv_export, dates_that_cannot_be_read_for_sure_are_refused_by_place)
{
    struct csvrun r = RUN("screenings",
        "screening_id,patient_id,instrument,screened_at,question,birth_date\r\n"
        "S1,P1,96777-8,19/02/2024,71802-3,\r\n"
        "S2,P2,96777-8,2024-02-19,71802-3,1/2/26\r\n"
        "S3,P3,96777-8,2024-02-19,71802-3,1/2/1985 10:00\r\n"
        "S4,P4,96777-8,2/30/2024,71802-3,\r\n"
        "S5,P5,96777-8,2024-02-19,71802-3,1/2/1985 0:00\r\n"
        "S6,P6,96777-8,2024-02-19,71802-3,31048\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.rows_rejected, 5, "a birth date serial alone: 1900 "
                                         "or 1904 cannot be told");
    const struct csv_finding *f = finding(&r.rep, 2, "day/month/year");
    cr_assert_not_null(f);
    cr_assert_eq(f->col, 4);
    f = finding(&r.rep, 3, "two-digit year");
    cr_assert_not_null(f);
    cr_assert_str_eq(f->column, "birth_date");
    cr_assert_not_null(finding(&r.rep, 4, "date is not YYYY-MM-DD"));
    cr_assert_not_null(finding(&r.rep, 5, "date-time is not ISO 8601"));
    HAS(ev(&r, 0), "\"birth_date\":\"1985-01-02\"");
    cr_assert_eq(r.out.n, 1);
    cr_assert_not_null(finding(&r.rep, 7, "Mac 1904"));
}

/* A two-digit year is read 20YY, for when something happened; one that
 * puts the date after the upload (a day of slack for time zones) cannot
 * be, and Excel itself reads 96 as 1996: refused by place, never read as
 * 19YY (F216: a New York QE's export dated every screening 12/06/96,
 * which reached the event as 2096-12-06). csvrun's upload day is
 * 2026-12-04. */
Test(csv_export, a_two_digit_year_after_the_upload_is_refused_by_place)
{
    struct csvrun r = RUN("screenings",
        "screening_id,patient_id,instrument,screened_at,question,answer\r\n"
        "S1,P1,96777-8,12/06/96 05:40,71802-3,LA31993-1\r\n"
        "S2,P2,96777-8,09/26/07 20:56,71802-3,LA31993-1\r\n"
        "S3,P3,96777-8,12/05/26,71802-3,LA31993-1\r\n"
        "S4,P4,96777-8,12/06/26,71802-3,LA31993-1\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.rows_rejected, 2);
    const struct csv_finding *f = finding(&r.rep, 2, "after the upload");
    cr_assert_not_null(f);
    cr_assert_eq(f->col, 4);
    cr_assert_str_eq(f->column, "screened_at");
    cr_assert_not_null(finding(&r.rep, 5, "after the upload"));
    cr_assert_eq(r.out.n, 2);
    HAS(ev(&r, 0), "\"occurred_at\":\"2007-09-26T20:56:00\"");
    HAS(ev(&r, 1), "\"occurred_at\":\"2026-12-05\"");
}

/* Mac Excel's 1904 date system puts a serial 1,462 days before the 1900
 * reading's date, and a CSV does not say which. A file's serials are read
 * (1900) only when one of them, read 1904, would be after the upload; else
 * each is refused by place, never shifted; a workbook has one system, so
 * one recent serial settles the birth dates too. csvrun's upload day is
 * 2026-12-04 (serial 46360). */
Test(csv_export, excel_serials_are_read_only_when_the_1904_system_is_ruled_out)
{
    static const char hdr[] =
        "screening_id,patient_id,instrument,screened_at,question,birth_date\r\n";
    char in[512];
    /* 44000 is 2020-06-18, or 2024-06-19 in the 1904 system: both before
     * the upload; the birth date 31048 (1985 or 1989) cannot tell */
    int n = snprintf(in, sizeof(in), "%s"
                     "S1,P1,96777-8,44000,71802-3,31048\r\n"
                     "S2,P2,96777-8,2026-11-02,71802-3,\r\n", hdr);
    struct csvrun r = csvrun(&A, D, "screenings", "t.csv",
                             arena_strndup(&A, in, (size_t)n), (size_t)n);
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.rows_rejected, 1);
    const struct csv_finding *f = finding(&r.rep, 2, "Mac 1904");
    cr_assert_not_null(f);
    cr_assert_eq(f->severity, CSV_SEV_ERROR);
    cr_assert_str_eq(f->column, "screened_at");
    cr_assert_eq(f->col, 4);
    f = finding(&r.rep, 2, "Excel date serial");
    cr_assert_not_null(f);

    /* 44900 (2022-12-05) read 1904 is 2026-12-06, after the upload day
     * and the day of slack: every serial of the file is 1900 */
    n = snprintf(in, sizeof(in), "%s"
                 "S1,P1,96777-8,44000,71802-3,31048\r\n"
                 "S2,P2,96777-8,44900.5,71802-3,\r\n", hdr);
    r = csvrun(&A, D, "screenings", "t.csv",
               arena_strndup(&A, in, (size_t)n), (size_t)n);
    cr_assert_eq(r.rep.rows_rejected, 0);
    HAS(ev(&r, 0), "\"occurred_at\":\"2020-06-18\"");
    HAS(ev(&r, 0), "\"birth_date\":\"1985-01-01\"");
    HAS(ev(&r, 1), "\"occurred_at\":\"2022-12-05T12:00:00\"");
    cr_assert_not_null(finding(&r.rep, 2, "1900 date system"));

    /* 44899 read 1904 is the day after the upload: a time zone's worth
     * of doubt, still ambiguous */
    n = snprintf(in, sizeof(in), "%s"
                 "S1,P1,96777-8,44899,71802-3,\r\n", hdr);
    r = csvrun(&A, D, "screenings", "t.csv",
               arena_strndup(&A, in, (size_t)n), (size_t)n);
    cr_assert_eq(r.rep.rows_rejected, 1);

    /* no upload time: no serial can be settled */
    struct csv_file f1 = { "t.csv", NULL, "", 0 };
    n = snprintf(in, sizeof(in), "%s"
                 "S1,P1,96777-8,46000,71802-3,\r\n", hdr);
    f1.p = arena_strndup(&A, in, (size_t)n);
    f1.len = (size_t)n;
    memset(&r, 0, sizeof(r));
    r.rc = csv_to_events(&A, D, "screenings", &f1, 1, &r.out, &r.rep, &r.err);
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.rows_rejected, 1);
    cr_assert_not_null(finding(&r.rep, 2, "Mac 1904"));
    r.rc = csv_to_events_at(&A, D, "screenings", &f1, 1, CSVRUN_AT, &r.out,
                            &r.rep, &r.err);
    cr_assert_eq(r.rep.rows_rejected, 0);
    HAS(ev(&r, 0), "\"occurred_at\":\"2025-12-09\"");

    /* SHIN-NY: an encounter start is a warning when unread, and an
     * ambiguous serial there is dropped with one */
    static const char prof[] =
        "PATIENT_MR_ID_VALUE,ENCOUNTER_ID,ENCOUNTER_START_DATETIME\r\n"
        "M1,E1,40000\r\n";
    static const char obs[] =
        "PATIENT_MR_ID_VALUE,ENCOUNTER_ID,SCREENING_CODE,QUESTION_CODE,"
        "ANSWER_CODE,SCREENING_START_DATETIME\r\n"
        "M1,E1,96777-8,71802-3,LA31994-9,\r\n";
    struct csv_file fs[2] = {
        { "SDOH_ScreeningProf_X_1.csv", NULL, prof, sizeof(prof) - 1 },
        { "SDOH_ScreeningObs_X_1.csv", NULL, obs, sizeof(obs) - 1 },
    };
    memset(&r, 0, sizeof(r));
    r.rc = csv_to_events_at(&A, D, "shinny", fs, 2, CSVRUN_AT, &r.out,
                            &r.rep, &r.err);
    cr_assert_eq(r.rc, HUB_OK);
    f = finding(&r.rep, 2, "Mac 1904");
    cr_assert_not_null(f);
    cr_assert_eq(f->severity, CSV_SEV_WARNING);
    cr_assert_not_null(finding(&r.rep, 2, "no screening or encounter start"));
}

/* SHIN-NY files are read the same way: a PtInfo birth date of 10/4/2013
 * (seen in the spec's test data) is 2013-10-04, with the warning. */
Test(csv_export, shinny_dates_are_read_as_spreadsheets_write_them)
{
    static const char obs[] =
        "PATIENT_MR_ID_VALUE,FACILITY_ID,ENCOUNTER_ID,SCREENING_CODE,"
        "QUESTION_CODE,ANSWER_CODE,POTENTIAL_NEED_INDICATED,"
        "SCREENING_START_DATETIME\r\n"
        "M1,F1,E1,96777-8,71802-3,LA31994-9,POS,1/15/2026 9:30\r\n";
    static const char pt[] =
        "PATIENT_MR_ID_VALUE,FAMILY_NAME,GIVEN_NAME,PATIENT_BIRTH_DATE\r\n"
        "M1,Doe,Sam,10/4/2013 \r\n";
    struct csv_file f[2] = {
        { "SDOH_ScreeningObs_X_1.csv", NULL, obs, sizeof(obs) - 1 },
        { "SDOH_PtInfo_X_1.csv", NULL, pt, sizeof(pt) - 1 },
    };
    struct csvrun r;
    memset(&r, 0, sizeof(r));
    r.rc = csv_to_events(&A, D, "shinny", f, 2, &r.out, &r.rep, &r.err);
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.rows_rejected, 0);
    HAS(ev(&r, 0), "\"occurred_at\":\"2026-01-15T09:30:00\"");
    HAS(ev(&r, 0), "\"birth_date\":\"2013-10-04\"");
    const struct csv_finding *w = finding(&r.rep, 2, "M/D/YYYY");
    cr_assert_not_null(w);
    cr_assert_eq(w->severity, CSV_SEV_WARNING);
}

/* ---- quotes as people type them ----------------------------------------- */

/* A quote inside an unquoted field (a height, "the "blue" door") is text:
 * the row is used, the value keeps it, a warning names the column. Text
 * after a closing quote stays an error: what was meant is unclear. */
Test(csv_export, a_stray_quote_is_text_and_text_after_a_quote_an_error)
{
    struct csvrun r = RUN("screenings",
        "screening_id,patient_id,instrument,screened_at,question,"
        "address_line\r\n"
        "S1,P1,96777-8,2026-01-02,71802-3,the \"blue\" door\r\n"
        "S2,P2,96777-8,2026-01-02,71802-3,\"5 Elm\" St\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.rows_used, 1);
    cr_assert_eq(r.rep.rows_rejected, 1);
    const struct csv_finding *f = finding(&r.rep, 2, "kept as text");
    cr_assert_not_null(f);
    cr_assert_eq(f->severity, CSV_SEV_WARNING);
    cr_assert_eq(f->col, 6);
    cr_assert_str_eq(f->column, "address_line");
    HAS(ev(&r, 0), "\"lines\":[\"the \\\"blue\\\" door\"]");
    f = finding(&r.rep, 3, "text after a closing quote");
    cr_assert_not_null(f);
    cr_assert_eq(f->severity, CSV_SEV_ERROR);
}

/* Ids and ZIP codes exported as ="00123" keep their zeros in the event:
 * the formula is read as its text, with no warning; =00123 is kept as
 * written. */
Test(csv_export, excel_text_formulas_keep_leading_zeros)
{
    struct csvrun r = RUN("screenings",
        "screening_id,patient_id,instrument,screened_at,question,"
        "postal_code\r\n"
        "=\"0017\",=\"00123\",96777-8,2026-01-02,71802-3,\"=\"\"01234\"\"\"\r\n"
        "S2,=00456,96777-8,2026-01-02,71802-3,=\"02134\"\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.rows_used, 2);
    cr_assert_eq(r.rep.warnings, 0);
    HAS(ev(&r, 0), "\"value\":\"00123\"");
    HAS(ev(&r, 0), "\"postal_code\":\"01234\"");
    HAS(ev(&r, 0), "\"id\":\"0017\"");
    HAS(ev(&r, 1), "\"value\":\"=00456\"");
    HAS(ev(&r, 1), "\"postal_code\":\"02134\"");
}

/* ---- what the sender is told ------------------------------------------- */

/* A ZIP Excel read as a number lost its leading zero (07102 as 7102): it
 * reached the event with no word, while SHIN-NY's PtInfo warns of the same
 * (F150). A postal code of 3 or 4 digits now has a warning on its row and
 * is kept as sent (padding would guess); 5 digits, ZIP+4, ="07102" and
 * text (a Canadian code) say nothing. */
Test(csv_export, a_zip_short_of_its_leading_zeros_is_warned_and_kept)
{
    struct csvrun r = RUN("screenings",
        "screening_id,patient_id,postal_code,instrument,screened_at,"
        "question,answer\r\n"
        "S1,P1,7102,96777-8,2026-01-02,71802-3,LA31993-1\r\n"
        "S2,P2,=\"07102\",96777-8,2026-01-02,71802-3,LA31993-1\r\n"
        "S3,P3,12534-0001,96777-8,2026-01-02,71802-3,LA31993-1\r\n"
        "S4,P4,K1A 0B1,96777-8,2026-01-02,71802-3,LA31993-1\r\n"
        "S5,P5,501,96777-8,2026-01-02,71802-3,LA31993-1\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.rows_used, 5);
    cr_assert_eq(r.rep.warnings, 2);
    const struct csv_finding *f = finding(&r.rep, 2, "leading zeros");
    cr_assert_not_null(f);
    cr_assert_eq(f->severity, CSV_SEV_WARNING);
    cr_assert_str_eq(f->column, "postal_code");
    cr_assert_not_null(finding(&r.rep, 6, "leading zeros"));
    HAS(ev(&r, 0), "\"postal_code\":\"7102\"");
    HAS(ev(&r, 1), "\"postal_code\":\"07102\"");
}

/* A birth date an export filled with a no-value word (N/A, unknown, -)
 * rejected its row, and the screening answers on it with it (F149): it is
 * left out with a warning, the row used; a date that is no date still
 * rejects its row, and the words stay as written in text columns. */
Test(csv_export, a_birth_date_that_says_none_is_left_out_not_the_row)
{
    struct csvrun r = RUN("screenings",
        "screening_id,patient_id,family_name,birth_date,instrument,"
        "screened_at,question,answer\r\n"
        "S1,P1,Null,N/A,96777-8,2026-01-02,71802-3,LA31993-1\r\n"
        "S2,P2,Testa,unknown,96777-8,2026-01-02,71802-3,LA31993-1\r\n"
        "S3,P3,Testb,-,96777-8,2026-01-02,71802-3,LA31993-1\r\n"
        "S4,P4,Testc,1980-13-45,96777-8,2026-01-02,71802-3,LA31993-1\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.rows_used, 3);
    cr_assert_eq(r.rep.rows_rejected, 1);
    for (size_t row = 2; row <= 4; row++) {
        const struct csv_finding *f = finding(&r.rep, row, "says there is "
                                              "none");
        cr_assert_not_null(f, "row %zu", row);
        cr_assert_eq(f->severity, CSV_SEV_WARNING);
        cr_assert_str_eq(f->column, "birth_date");
    }
    cr_assert_not_null(finding(&r.rep, 5, "date is not YYYY-MM-DD"));
    HAS(ev(&r, 0), "\"family\":\"Null\"");
    cr_assert_null(strstr(ev(&r, 0), "birth_date"), "%s", ev(&r, 0));
}

/* Findings stop at CSV_MAX_FINDINGS; the report still names every row that
 * was not used, as ranges per file. */
Test(csv_export, the_report_names_every_rejected_row_past_the_findings_limit)
{
    static const char head[] =
        "screening_id,patient_id,instrument,screened_at,question\n";
    size_t cap = 64 * 3000 + sizeof(head);
    char *p = arena_alloc(&A, cap);
    size_t n = 0;
    memcpy(p, head, sizeof(head) - 1);
    n = sizeof(head) - 1;
    /* rows 2-2501 bad (a date not in the calendar), 2502 good, 2503 bad */
    for (unsigned i = 0; i < 2502; i++)
        n += (size_t)snprintf(p + n, cap - n, "S%u,P,96777-8,%s,71802-3\n",
                              i, i == 2500 ? "2026-01-02" : "2026-02-30");
    struct csvrun r = csvrun(&A, D, "screenings", "t.csv", p, n);
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.rows_rejected, 2501);
    cr_assert_gt(r.rep.dropped, 0);
    struct slice js;
    cr_assert_eq(csv_report_json(&A, &r.rep, &js), HUB_OK);
    HAS(js.p, "\"rejected_rows\":[{\"file\":\"t.csv\",\"rows\":\"2-2501,2503\"}]");
}

/* Blank lines above the header are skipped; rows keep the numbers a
 * spreadsheet shows (the header here is row 3). */
Test(csv_export, blank_lines_above_the_header_are_skipped)
{
    struct csvrun r = RUN("screenings",
        "\r\n,,,,\r\n"
        "screening_id,patient_id,instrument,screened_at,question,Notes\r\n"
        "S1,P1,96777-8,2026-01-02,71802-3,x\r\n"
        "S1,P1,96777-8,2026-01-02\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.rows, 2);
    cr_assert_eq(r.rep.rows_used, 1);
    cr_assert_eq(r.rep.rows_blank, 0);
    cr_assert_not_null(finding(&r.rep, 3, "not one the layout knows"));
    const struct csv_finding *f = finding(&r.rep, 5, "fewer columns");
    cr_assert_not_null(f);
    cr_assert_eq(f->col, 5);
    HAS(ev(&r, 0), "\"message_id\":\"t.csv#4\"");

    /* and the SHIN-NY set finds such a file by its header */
    static const char obs[] =
        "\n\nPATIENT_MR_ID_VALUE;ENCOUNTER_ID;SCREENING_CODE;QUESTION_CODE;"
        "ANSWER_CODE;SCREENING_START_DATETIME\n"
        "M1;E1;96777-8;71802-3;LA31994-9;2026-01-15T09:30:00Z\n";
    struct csv_file f1 = { "export.csv", NULL, obs, sizeof(obs) - 1 };
    struct csvrun s;
    memset(&s, 0, sizeof(s));
    s.rc = csv_to_events(&A, D, "shinny", &f1, 1, &s.out, &s.rep, &s.err);
    cr_assert_eq(s.rc, HUB_OK, "%s: %s", s.err.field,
                 s.err.what ? s.err.what : "");
    cr_assert_eq(s.rep.rows_used, 1);
}

/* Excel's `sep=X` first line (written by tools that export for Excel, and
 * by hand, so that Excel splits the file whatever the locale) names the
 * delimiter and is no header: the file was refused, its `sep=` line taken
 * as the header and every column "missing" (F146). It is skipped as a
 * blank line above the header is (the header keeps row 2); `sep=;` makes
 * a ';' file whatever its header counts, and a `sep=` that is a data
 * value further down is a value. */
Test(csv_export, excel_sep_line_names_the_delimiter_and_is_skipped)
{
    struct csvrun r = RUN("screenings",
        "sep=,\r\n"
        "screening_id,patient_id,instrument,screened_at,question,answer\r\n"
        "S1,P1,96777-8,2026-01-02,71802-3,LA31994-9\r\n"
        "S1,P1,96777-8,2026-01-02,88122-7\r\n");
    cr_assert_eq(r.rc, HUB_OK, "%s: %s", r.err.field,
                 r.err.what ? r.err.what : "");
    cr_assert_eq(r.rep.rows, 2);
    cr_assert_eq(r.rep.rows_used, 1);
    cr_assert_eq(r.rep.rows_blank, 0);
    const struct csv_finding *f = finding(&r.rep, 4, "fewer columns");
    cr_assert_not_null(f);
    cr_assert_eq(f->col, 6);
    HAS(ev(&r, 0), "\"message_id\":\"t.csv#3\"");

    /* with a byte order mark, ';' (the header alone would say ','),
     * upper case, a CR line end */
    struct csvrun s = RUN("referral-status",
        "\xef\xbb\xbfSEP=;\r"
        "referral_id;status;updated_at;patient_id;status_reason\r"
        "R-1;accepted;2026-03-03T09:00:00Z;C-1;called, then, texted\r");
    cr_assert_eq(s.rc, HUB_OK, "%s: %s", s.err.field,
                 s.err.what ? s.err.what : "");
    cr_assert_eq(s.rep.rows_used, 1);
    cr_assert_not_null(finding(&s.rep, 0, "semicolons"));
    HAS(ev(&s, 0), "\"status_reason\":\"called, then, texted\"");

    /* not the first line: a row like any other (here, one too short) */
    struct csvrun t = RUN("screenings",
        "screening_id,patient_id,instrument,screened_at,question\r\n"
        "sep=,\r\n"
        "S1,P1,96777-8,2026-01-02,71802-3\r\n");
    cr_assert_eq(t.rc, HUB_OK);
    cr_assert_eq(t.rep.rows_rejected, 1);
    cr_assert_not_null(finding(&t.rep, 2, "fewer columns"));
}

/* A no-break space (U+00A0, pasted from a web page or Word) at either end
 * of a value or a header name is trimmed like a space: "LA31994-9\u00a0"
 * is the answer code, in a UTF-8 file or a Windows-1252 one (0xA0). */
Test(csv_export, no_break_spaces_at_the_ends_are_trimmed)
{
    struct csvrun r = RUN("screenings",
        "screening_id,patient_id,instrument,screened_at,question,"
        "answer\xc2\xa0\r\n"
        "S1,P1,96777-8,2026-01-02,\xc2\xa0" "71802-3,LA31994-9\xc2\xa0 \r\n"
        "S2,P2,96777-8,2026-01-02,71802-3,Caf\xc3\xa0\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.rows_used, 2);
    HAS(ev(&r, 0), "\"question\":\"71802-3\",\"answer\":\"LA31994-9\"");
    HAS(ev(&r, 0), "\"positive\":true");
    /* a value ending in a letter whose UTF-8 ends in A0 keeps it */
    HAS(ev(&r, 2), "\"answer\":\"Caf\xc3\xa0\"");

    struct csvrun w = RUN("screenings",
        "screening_id,patient_id,instrument,screened_at,question,answer\r\n"
        "S1,P1,96777-8,2026-01-02,71802-3,\xa0LA31994-9\xa0\r\n");
    cr_assert_eq(w.rc, HUB_OK);
    HAS(ev(&w, 0), "\"answer\":\"LA31994-9\"");
}

/* ---- answers and codes as people write them ------------------------------ */

/* An answer given as its text ("yes", "Already shut off") is the code of
 * the question's answer of that display, in any case, with one warning;
 * "Y" is no display and stays an unknown answer, never guessed. The
 * sender's flag is read in any case: yes, YES, Y, Pos, TRUE; n, No, NEG. */
Test(csv_export, answers_as_text_and_flags_in_any_case_are_read)
{
    struct csvrun r = RUN("screenings",
        "screening_id,patient_id,instrument,screened_at,question,answer,"
        "sender_positive\r\n"
        "S1,P1,96777-8,2026-01-02,93030-5,yes,YES\r\n"
        "S1,P1,96777-8,2026-01-02,96779-4,Already Shut Off,Pos\r\n"
        "S1,P1,96777-8,2026-01-02,71802-3,Y,TRUE\r\n"
        "S2,P2,96777-8,2026-01-02,93030-5,NO,n\r\n"
        "S3,P3,96777-8,2026-01-02,93030-5,LA33-6,No\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.rows_used, 5);
    const struct csv_finding *f = finding(&r.rep, 2, "given as their text");
    cr_assert_not_null(f);
    cr_assert_eq(f->col, 6);
    cr_assert_null(finding(&r.rep, 3, "given as their text"), "once a file");
    cr_assert_not_null(finding(&r.rep, 4, "not in the question's answer"));
    const char *e = ev(&r, 0);
    HAS(e, "{\"question\":\"93030-5\",\"answer\":\"LA33-6\"");
    HAS(e, "{\"question\":\"96779-4\",\"answer\":\"LA32002-0\"");
    HAS(e, "\"answer\":\"Y\"");
    HAS(e, "\"sender_positive\":true");
    HAS(ev(&r, 2), "\"answer\":\"LA32-8\",\"domain\":\"transportation-"
                   "insecurity\",\"positive\":false,\"sender_positive\":false");
    /* "No" on a positive answer is a disagreement, reported */
    cr_assert_not_null(finding(&r.rep, 6, "sender flags no need"));
}

/* A sender's flag the hub does not read (1/0 from a database export,
 * Spanish Si, "unknown", a dash) was dropped without a word: the sender
 * believed it compared (F148). It is still not read (what 1 meant is the
 * sender's to say), with one warning a file at its first row; "NA" and
 * "N/A" are none, as documented, and say nothing. */
Test(csv_export, a_sender_flag_not_read_is_said_once_a_file)
{
    struct csvrun r = RUN("screenings",
        "screening_id,patient_id,instrument,screened_at,question,answer,"
        "sender_positive\r\n"
        "S1,P1,88121-9,2026-01-02,88122-7,LA28397-0,NA\r\n"
        "S1,P1,88121-9,2026-01-02,88123-5,LA28398-8,1\r\n"
        "S2,P2,88121-9,2026-01-02,88122-7,LA28397-0,Si\r\n"
        "S2,P2,88121-9,2026-01-02,88123-5,LA28398-8,N/A\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.rows_used, 4);
    cr_assert_eq(r.rep.warnings, 1);
    const struct csv_finding *f = finding(&r.rep, 3, "flag is not");
    cr_assert_not_null(f);
    cr_assert_eq(f->severity, CSV_SEV_WARNING);
    cr_assert_str_eq(f->column, "sender_positive");
    cr_assert_null(strstr(ev(&r, 0), "sender_positive"), "%s", ev(&r, 0));

    struct csvrun n = RUN("screenings",
        "screening_id,patient_id,instrument,screened_at,question,answer,"
        "sender_positive\r\n"
        "S1,P1,88121-9,2026-01-02,88122-7,LA28398-8,na\r\n"
        "S1,P1,88121-9,2026-01-02,88123-5,LA28398-8,NEG\r\n");
    cr_assert_eq(n.rc, HUB_OK);
    cr_assert_eq(n.rep.warnings, 0);
}

/* A referral's domain as exports write it ("Food-Insecurity", "FOOD
 * INSECURITY") is the Gravity code; a word that is none is refused. */
Test(csv_export, referral_domains_in_any_case_are_read)
{
    struct csvrun r = RUN("referral-status",
        "referral_id,status,updated_at,patient_id,domain\r\n"
        "R1,COMPLETED,2026-01-02,P1,Food-Insecurity\r\n"
        "R2,Cancelled,1/3/2026,P1,FOOD INSECURITY\r\n"
        "R3,completed,2026-01-02,P1,groceries\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.rows_used, 2);
    HAS(ev(&r, 0), "\"domain\":\"food-insecurity\"");
    HAS(ev(&r, 1), "\"occurred_at\":\"2026-01-03\"");
    HAS(ev(&r, 1), "\"domain\":\"food-insecurity\"");
    cr_assert_not_null(finding(&r.rep, 4, "not a Gravity"));
}

/* An id Excel turned into a number shows in scientific notation: its
 * digits are lost, and ids that differed now read the same (linking by it
 * would merge patients). The row is refused by column; ids of digits or
 * with letters are not touched. */
Test(csv_export, ids_a_spreadsheet_rounded_refuse_their_row)
{
    struct csvrun r = RUN("referral-status",
        "referral_id,status,updated_at,patient_id\r\n"
        "R1,accepted,2026-01-02,1.23457E+11\r\n"
        "R2,accepted,2026-01-02,123456789012\r\n"
        "R3,accepted,2026-01-02,2E10-A\r\n"
        "R4,accepted,2026-01-02,4.46151e+14\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.rows_used, 2);
    const struct csv_finding *f = finding(&r.rep, 2, "scientific notation");
    cr_assert_not_null(f);
    cr_assert_str_eq(f->column, "patient_id");
    cr_assert_not_null(finding(&r.rep, 5, "scientific notation"));

    static const char obs[] =
        "PATIENT_MR_ID_VALUE,ENCOUNTER_ID,SCREENING_CODE,QUESTION_CODE,"
        "ANSWER_CODE,SCREENING_START_DATETIME\r\n"
        "4.46151E+14,E1,96777-8,71802-3,LA31994-9,2026-01-15T09:30:00Z\r\n"
        "446151000124109,E1,96777-8,71802-3,LA31994-9,2026-01-15T09:30:00Z\r\n";
    struct csv_file f1 = { "SDOH_ScreeningObs_X_1.csv", NULL, obs,
                           sizeof(obs) - 1 };
    struct csvrun s;
    memset(&s, 0, sizeof(s));
    s.rc = csv_to_events(&A, D, "shinny", &f1, 1, &s.out, &s.rep, &s.err);
    cr_assert_eq(s.rc, HUB_OK);
    cr_assert_eq(s.rep.rows_used, 1);
    f = finding(&s.rep, 2, "scientific notation");
    cr_assert_not_null(f);
    cr_assert_str_eq(f->column, "PATIENT_MR_ID_VALUE");
}

/* Exports joined one after another repeat the header, with its byte order
 * mark: not data, and not an error; skipped (counted blank) with a
 * warning at its row. */
Test(csv_export, a_repeated_header_is_skipped_with_a_warning)
{
    struct csvrun r = RUN("screenings",
        "\xef\xbb\xbfscreening_id,patient_id,instrument,screened_at,question\r\n"
        "S1,P1,96777-8,2026-01-02,71802-3\r\n"
        "\xef\xbb\xbfscreening_id,patient_id,instrument,screened_at,question\r\n"
        "S2,P2,96777-8,2026-01-02,71802-3\r\n"
        "screening_id,patient_id,instrument,screened_at,question\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.rows_used, 2);
    cr_assert_eq(r.rep.rows_rejected, 0);
    cr_assert_eq(r.rep.rows_blank, 2);
    const struct csv_finding *f = finding(&r.rep, 3, "repeats the header");
    cr_assert_not_null(f);
    cr_assert_eq(f->severity, CSV_SEV_WARNING);
    cr_assert_not_null(finding(&r.rep, 5, "repeats the header"));
}

/* ---- questions written as their wording (F218) ------------------------ */

/* The events of a file, joined, for comparing two runs. */
static char *all_events(const struct csvrun *r)
{
    size_t n = 1;
    for (size_t i = 0; i < r->out.n; i++)
        n += r->out.ev[i].json.len + 1;
    char *p = arena_alloc(&A, n), *q = p;
    for (size_t i = 0; i < r->out.n; i++) {
        memcpy(q, r->out.ev[i].json.p, r->out.ev[i].json.len);
        q += r->out.ev[i].json.len;
        *q++ = '\n';
    }
    *q = '\0';
    return p;
}

/* A screening whose question column holds the questions' wording (the
 * CMS tool as printed, LOINC's names; any case, punctuation and spacing)
 * gives the events the same file gives with the codes: domains and
 * positives, the Hunger Vital Sign's derived risk, the safety sum. One
 * warning a file says so, at its first such row and its column. */
Test(csv_export, questions_as_their_wording_give_the_events_of_their_codes)
{
#define HDR "screening_id,patient_id,instrument,screened_at,question,answer\r\n"
    struct csvrun c = RUN("screenings", HDR
        "S1,P1,96777-8,2026-01-02,71802-3,LA31994-9\r\n"
        "S1,P1,96777-8,2026-01-02,96778-6,LA28580-1\r\n"
        "S1,P1,96777-8,2026-01-02,88122-7,LA6729-3\r\n"
        "S1,P1,96777-8,2026-01-02,88123-5,LA28398-8\r\n"
        "S1,P1,96777-8,2026-01-02,93030-5,LA32-8\r\n"
        "S1,P1,96777-8,2026-01-02,95618-5,LA16644-9\r\n"
        "S1,P1,96777-8,2026-01-02,95617-7,LA6482-9\r\n"
        "S1,P1,96777-8,2026-01-02,95616-9,LA6270-8\r\n"
        "S1,P1,96777-8,2026-01-02,95615-1,LA10082-8\r\n"
        "S2,P2,88121-9,2026-01-02,88122-7,LA28398-8\r\n"
        "S2,P2,88121-9,2026-01-02,88123-5,LA6729-3\r\n");
    struct csvrun w = RUN("screenings", HDR
        "S1,P1,96777-8,2026-01-02,What is your living situation today?,"
        "LA31994-9\r\n"
        "S1,P1,96777-8,2026-01-02,\"Think about the place you live. Do you "
        "have problems with any of the following?\",LA28580-1\r\n"
        "S1,P1,96777-8,2026-01-02,\"WITHIN THE PAST 12 MONTHS, YOU WORRIED "
        "THAT YOUR FOOD WOULD RUN OUT BEFORE YOU GOT MONEY TO BUY MORE.\","
        "LA6729-3\r\n"
        "S1,P1,96777-8,2026-01-02,\"  Within the past 12 months,  the food "
        "you bought just didn\xe2\x80\x99t last and you didn\xe2\x80\x99t "
        "have money to get more\",LA28398-8\r\n"
        "S1,P1,96777-8,2026-01-02,\"Has lack of transportation kept you from "
        "medical appointments, meetings, work, or from getting things needed "
        "for daily living\",LA32-8\r\n"
        "S1,P1,96777-8,2026-01-02,\"How often does anyone, including family "
        "and friends, physically hurt you?\",LA16644-9\r\n"
        "S1,P1,96777-8,2026-01-02,Insult you or talk down to you [HITS],"
        "LA6482-9\r\n"
        "S1,P1,96777-8,2026-01-02,\"How often does anyone, including family "
        "and friends, threaten you with harm?\",LA6270-8\r\n"
        "S1,P1,96777-8,2026-01-02,\"How often does anyone, including family "
        "and friends, scream or curse at you?\",LA10082-8\r\n"
        "S2,P2,88121-9,2026-01-02,Within the past 12 months we worried "
        "whether our food would run out before we got money to buy more,"
        "LA28398-8\r\n"
        "S2,P2,88121-9,2026-01-02,within the past 12 months the food we "
        "bought just didn't last and we didn't have money to get more,"
        "LA6729-3\r\n");
#undef HDR
    cr_assert_eq(c.rc, HUB_OK);
    cr_assert_eq(w.rc, HUB_OK);
    cr_assert_eq(c.rep.warnings, 0);
    cr_assert_eq(w.rep.warnings, 1);
    const struct csv_finding *f = finding(&w.rep, 2, "given as their wording");
    cr_assert_not_null(f);
    cr_assert_eq(f->col, 5);
    cr_assert_str_eq(f->column, "question");
    cr_assert_eq(w.out.n, c.out.n);
    cr_assert_str_eq(all_events(&w), all_events(&c));
    /* what the codes give: housing, inadequate housing, food, safety */
    const char *e = all_events(&w);
    HAS(e, "\"type\":\"screening.positive\"");
    HAS(e, "{\"question\":\"71802-3\",\"answer\":\"LA31994-9\",\"domain\":"
           "\"housing-instability\",\"positive\":true");
    HAS(e, "{\"question\":\"88122-7\",\"answer\":\"LA6729-3\",\"domain\":"
           "\"food-insecurity\",\"positive\":true");
}

/* A wording the dictionary does not hold, or a prefix of one, stays a
 * question the dictionary does not know, at its row and column; a wording
 * that two questions of the dictionary read as (two instruments, and the
 * upload's instrument is none of them) is not guessed between: a warning
 * that says so, at its row and column. */
Test(csv_export, an_unknown_or_ambiguous_question_wording_is_warned_in_place)
{
    struct csvrun r = RUN("screenings",
        "screening_id,patient_id,instrument,screened_at,answer,question\r\n"
        "S1,P1,96777-8,2026-01-02,LA31994-9,What is your living situation\r\n"
        "S1,P1,96777-8,2026-01-02,LA33-6,\"Are you worried about losing your "
        "housing?\"\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    const struct csv_finding *f = finding(&r.rep, 2, "question is not in");
    cr_assert_not_null(f);
    cr_assert_eq(f->col, 6);
    /* a PRAPARE question is not the AHC tool's */
    f = finding(&r.rep, 3, "question is not in");
    cr_assert_not_null(f);
    cr_assert_eq(f->col, 6);
    cr_assert_null(finding(&r.rep, 2, "given as their wording"));
    HAS(ev(&r, 0), "\"question\":\"What is your living situation\"");

    static const char dom[] =
        "{\"ig\":{\"version\":\"t\"},\"domains\":["
        "{\"code\":\"food-insecurity\",\"display\":\"Food\"}]}";
    static const char ins[] =
        "{\"instruments\":["
        "{\"code\":\"X1\",\"system\":\"s\",\"name\":\"n\",\"items\":["
        "{\"question\":\"1-1\",\"display\":\"Do you have enough food?\","
        "\"domain\":\"food-insecurity\",\"answers\":[{\"code\":\"LA33-6\","
        "\"positive\":true}]}]},"
        "{\"code\":\"X2\",\"system\":\"s\",\"name\":\"n\",\"items\":["
        "{\"question\":\"2-2\",\"display\":\"Other\",\"texts\":[\"Do you have "
        "enough food\"],\"domain\":\"food-insecurity\",\"answers\":["
        "{\"code\":\"LA33-6\",\"positive\":true}]}]}]}";
    static const char zc[] =
        "{\"codes\":[{\"code\":\"Z59.4\",\"domain\":\"food-insecurity\"}]}";
    static const char ts[] = "{\"statuses\":[{\"code\":\"completed\","
                             "\"display\":\"C\",\"terminal\":true}]}";
    static const char sl[] =
        "{\"labels\":[{\"code\":\"ETH\",\"label\":\"sud\"}]}";
    const struct dict_file files[] = {
        { "domains.json", dom, sizeof(dom) - 1 },
        { "instruments.json", ins, sizeof(ins) - 1 },
        { "zcodes.json", zc, sizeof(zc) - 1 },
        { "task-status.json", ts, sizeof(ts) - 1 },
        { "security-labels.json", sl, sizeof(sl) - 1 },
    };
    struct dict *d;
    struct dict_err de;
    cr_assert_eq(dict_load(files, 5, &d, &de), HUB_OK, "%s %s %s", de.file,
                 de.path, de.what);
    static const char two[] =
        "screening_id,patient_id,instrument,screened_at,answer,question\r\n"
        "S1,P1,LOCAL,2026-01-02,LA33-6,do you have enough food?\r\n"
        "S2,P1,X2,2026-01-02,LA33-6,do you have enough food?\r\n";
    struct csvrun a = csvrun(&A, d, "screenings", "t.csv", two,
                             sizeof(two) - 1);
    cr_assert_eq(a.rc, HUB_OK);
    f = finding(&a.rep, 2, "reads as more than one question");
    cr_assert_not_null(f);
    cr_assert_eq(f->col, 6);
    cr_assert_str_eq(f->column, "question");
    cr_assert_null(finding(&a.rep, 2, "question is not in"), "one warning");
    HAS(ev(&a, 0), "\"question\":\"do you have enough food?\"");
    /* the upload's instrument says which */
    cr_assert_null(finding(&a.rep, 3, "more than one"));
    HAS(ev(&a, 1), "\"question\":\"2-2\"");
    dict_free(d);
}

/* Round 47's CUMC flat export (qe-collaborative-services/1115-hub
 * src/synthetic-content/ahc-hrsn-12-12-2023-valid.csv, commit 4cbffdb,
 * 27 rows, CRLF, its synthetic patient), with the header renamed as a CBO
 * staffer does after reading the README: once with its QUESTION column
 * (the CMS AHC HRSN tool's questions as printed, one with a leading TAB,
 * three with a leading space) as `question`, once with QUESTION_CODE.
 * The wording gives each item the code's domain and positivity (F218):
 * housing, inadequate housing, food, financial strain, employment,
 * education, substance use; the two physical activity items, which the
 * dictionary does not hold (F221), stay unknown questions either way. */
static const char cumc_rows[] =
    "11223344,CUMC,Jon,Doe,7/16/1981,1234567890,CUMC12345,AHCHRSN,AHCHR"
    "SN01,12/7/2023,What is your living situation today?,I have a stead"
    "y place to live,71802-3,LN,LA31993-1,LN,Homelessness,FALSE,FALSE,F"
    "ALSE,FALSE\r\n"
    "11223344,CUMC,Jon,Doe,7/16/1981,1234567890,CUMC12346,AHCHRSN,AHCHR"
    "SN01,12/7/2023,Think about the place you live. Do you have problem"
    "s with any of the following?,Mold,\"96778-6\t\",LN,LA28580-1,LN,In"
    "adequate Housng,TRUE,FALSE,FALSE,FALSE\r\n"
    "11223344,CUMC,Jon,Doe,7/16/1981,1234567890,CUMC12347,AHCHRSN,AHCHR"
    "SN01,12/7/2023,\"Within the past 12 months, you worried that your "
    "food would run out before you got money to buy more.\",Often true,"
    "88122-7,LN,LA28397-0,LN,Food Insecurity,TRUE,FALSE,FALSE,FALSE\r\n"
    "11223344,CUMC,Jon,Doe,7/16/1981,1234567890,CUMC12348,AHCHRSN,AHCHR"
    "SN01,12/7/2023,\"Within the past 12 months, the food you bought ju"
    "st didn't last and you didn't have money to get more.\",Often true"
    ",88123-5,LN,LA28397-0,LN,Food Insecurity,TRUE,FALSE,FALSE,FALSE\r"
    "\n"
    "11223344,CUMC,Jon,Doe,7/16/1981,1234567890,CUMC12349,AHCHRSN,AHCHR"
    "SN01,12/7/2023,\"In the past 12 months, has lack of reliable trans"
    "portation kept you from medical appointments, meetings, work or fr"
    "om getting things needed for daily living?\",No,93030-5,LN,LA32-8,"
    "LN,Transportation Insecurity,FALSE,FALSE,FALSE,FALSE\r\n"
    "11223344,CUMC,Jon,Doe,7/16/1981,1234567890,CUMC12350,AHCHRSN,AHCHR"
    "SN01,12/7/2023,\"In the past 12 months has the electric, gas, oil,"
    " or water company threatened to shut off services in your home?\","
    "No,96779-4,LN,LA32-8,LN,Utility Insecurity,FALSE,FALSE,FALSE,FALSE"
    "\r\n"
    "11223344,CUMC,Jon,Doe,7/16/1981,1234567890,CUMC12351,AHCHRSN,AHCHR"
    "SN01,12/7/2023,\" How often does anyone, including family and frie"
    "nds, physically hurt you?\",Never ,95618-5,LN,LA6270-8,LN,Safey,FA"
    "LSE,FALSE,FALSE,FALSE\r\n"
    "11223344,CUMC,Jon,Doe,7/16/1981,1234567890,CUMC12352,AHCHRSN,AHCHR"
    "SN01,12/7/2023,\" How often does anyone, including family and frie"
    "nds, insult or talk down to you?\",Never ,95617-7,LN,LA6270-8,LN,S"
    "afey,FALSE,FALSE,FALSE,FALSE\r\n"
    "11223344,CUMC,Jon,Doe,7/16/1981,1234567890,CUMC12353,AHCHRSN,AHCHR"
    "SN01,12/7/2023,\"How often does anyone, including family and frien"
    "ds, threaten you with harm?\",Never ,95616-9,LN,LA6270-8,LN,Safey,"
    "FALSE,FALSE,FALSE,FALSE\r\n"
    "11223344,CUMC,Jon,Doe,7/16/1981,1234567890,CUMC12354,AHCHRSN,AHCHR"
    "SN01,12/7/2023,\" How often does anyone, including family and frie"
    "nds, scream or curse at you?\",Never ,95615-1,LN,LA6270-8,LN,Safey"
    ",FALSE,FALSE,FALSE,FALSE\r\n"
    "11223344,CUMC,Jon,Doe,7/16/1981,1234567890,CUMC12355,AHCHRSN,AHCHR"
    "SN01,12/7/2023,\"How hard is it for you to pay for the very basics"
    " like food, housing, medical care, and heating?\",Somewhat Hard,76"
    "513-1,LN,LA22683-9,LN,Financial Insecurity,TRUE,FALSE,FALSE,FALSE"
    "\r\n"
    "11223344,CUMC,Jon,Doe,7/16/1981,1234567890,CUMC12356,AHCHRSN,AHCHR"
    "SN01,12/7/2023,Do you want help finding or keeping work or a job?,"
    "\"Yes, help finding work\",96780-2,LN,LA31981-6,LN,Employment Stat"
    "us,TRUE,FALSE,FALSE,FALSE\r\n"
    "11223344,CUMC,Jon,Doe,7/16/1981,1234567890,CUMC12357,AHCHRSN,AHCHR"
    "SN01,12/7/2023,\"If for any reason you need help with day-to-day a"
    "ctivities such as bathing, preparing meals, shopping, managing fin"
    "ances, etc., do you get the help you need?\",I don't need any help"
    ",96781-0,LN,LA31976-6,LN,Social Connection,FALSE,FALSE,FALSE,FALSE"
    "\r\n"
    "11223344,CUMC,Jon,Doe,7/16/1981,1234567890,CUMC12358,AHCHRSN,AHCHR"
    "SN01,12/7/2023,How often do you feel lonely or isolated from those"
    " around you?,Never ,\"93159-2\t\",LN,LA6270-8,LN,Social Connection"
    ",FALSE,FALSE,FALSE,FALSE\r\n"
    "11223344,CUMC,Jon,Doe,7/16/1981,1234567890,CUMC12359,AHCHRSN,AHCHR"
    "SN01,12/7/2023,Do you speak a language other than English at home?"
    ",Yes,97027-7,LN,LA33-6,LN,Language Accessibility,FALSE,FALSE,FALSE"
    ",FALSE\r\n"
    "11223344,CUMC,Jon,Doe,7/16/1981,1234567890,CUMC12360,AHCHRSN,AHCHR"
    "SN01,12/7/2023,\"Do you want help with school or training? For exa"
    "mple, starting or completing job training or getting a high school"
    " diploma, GED or equivalent.\",Yes,\"96782-8\t\",LN,\"\tLA33-6\",L"
    "N,Educational Attainment,TRUE,FALSE,FALSE,FALSE\r\n"
    "11223344,CUMC,Jon,Doe,7/16/1981,1234567890,CUMC12361,AHCHRSN,AHCHR"
    "SN01,12/7/2023,\"In the last 30 days, other than the activities yo"
    "u did for work, on average, how many days per week did you engage "
    "in moderate exercise (like walking fast, running, jogging, dancing"
    ", swimming, biking, or other similar activities)?\",3,89555-7,LN,"
    "\"\tLA6114-8\",LN,Physical Activity,FALSE,FALSE,FALSE,FALSE\r\n"
    "11223344,CUMC,Jon,Doe,7/16/1981,1234567890,CUMC12362,AHCHRSN,AHCHR"
    "SN01,12/7/2023,\"On average, how many minutes did you usually spen"
    "d exercising at this level on one of those days?\",40,\"68516-4\t"
    "\",LN,\"\tLA28858-1\",LN,Physical Activity,FALSE,FALSE,FALSE,FALSE"
    "\r\n"
    "11223344,CUMC,Jon,Doe,7/16/1981,1234567890,CUMC12363,AHCHRSN,AHCHR"
    "SN01,12/7/2023,How many times in the past 12 months have you had 5"
    " or more drinks in a day (males) or 4 or more drinks in a day (fem"
    "ales)?,Once or twice,68517-2,LN,LA26460-8,LN,Substance Use,TRUE,TR"
    "UE,FALSE,FALSE\r\n"
    "11223344,CUMC,Jon,Doe,7/16/1981,1234567890,CUMC12364,AHCHRSN,AHCHR"
    "SN01,12/7/2023,How often have you used any tobacco product in past"
    " 12 months?,Once or twice,96842-0,LN,LA26460-8,LN,Substance Use,TR"
    "UE,TRUE,FALSE,FALSE\r\n"
    "11223344,CUMC,Jon,Doe,7/16/1981,1234567890,CUMC12365,AHCHRSN,AHCHR"
    "SN01,12/7/2023,How many times in the past year have you used presc"
    "ription drugs for non-medical reasons?,Once or twice,95530-2,LN,LA"
    "26460-8,LN,Substance Use,TRUE,TRUE,FALSE,FALSE\r\n"
    "11223344,CUMC,Jon,Doe,7/16/1981,1234567890,CUMC12366,AHCHRSN,AHCHR"
    "SN01,12/7/2023,How many times in the past year have you used illeg"
    "al drugs?,Once or twice,68524-8,LN,LA26460-8,LN,Substance Use,TRUE"
    ",TRUE,FALSE,FALSE\r\n"
    "11223344,CUMC,Jon,Doe,7/16/1981,1234567890,CUMC12367,AHCHRSN,AHCHR"
    "SN01,12/7/2023,Little interest or pleasure in doing things?,Not at"
    " all,44250-9,LN,\"\tLA6568-5\",LN,Mental Health,FALSE,FALSE,FALSE,"
    "FALSE\r\n"
    "11223344,CUMC,Jon,Doe,7/16/1981,1234567890,CUMC12368,AHCHRSN,AHCHR"
    "SN01,12/7/2023,\"\tFeeling down, depressed, or hopeless?\",Not at "
    "all,44255-8,LN,\"\tLA6568-5\",LN,Mental Health,FALSE,FALSE,FALSE,F"
    "ALSE\r\n"
    "11223344,CUMC,Jon,Doe,7/16/1981,1234567890,CUMC12369,AHCHRSN,AHCHR"
    "SN01,12/7/2023,\"Stress means a situation in which a person feels "
    "tense, restless, nervous, or anxious, or is unable to sleep at nig"
    "ht because his or her mind is troubled all the time. Do you feel t"
    "his kind of stress these days?\",Not at all,93038-8,LN,\"\tLA6568-"
    "5\",LN,Mental Health,FALSE,FALSE,FALSE,FALSE\r\n"
    "11223344,CUMC,Jon,Doe,7/16/1981,1234567890,CUMC12370,AHCHRSN,AHCHR"
    "SN01,12/7/2023,\"Because of a physical, mental, or emotional condi"
    "tion, do you have serious difficulty concentrating, remembering, o"
    "r making decisions?\",No,69858-9,LN,LA32-8,LN,Disability,FALSE,FAL"
    "SE,FALSE,FALSE\r\n"
    "11223344,CUMC,Jon,Doe,7/16/1981,1234567890,CUMC12371,AHCHRSN,AHCHR"
    "SN01,12/7/2023,\"Because of a physical, mental, or emotional condi"
    "tion, do you have difficulty doing errands alone such as visiting "
    "a physician's office or shopping?\",No,\"69861-3\t\",LN,LA32-8,LN,"
    "Disability,FALSE,FALSE,FALSE,FALSE\r\n";

Test(csv_export, the_cumc_export_reads_by_its_question_wording_as_by_code)
{
    static const char by_text[] =
        "patient_id,FACILITY,FIRST_NAME,LAST_NAME,PAT_BIRTH_DATE,MEDICAID_CIN,"
        "ENCOUNTER_ID,instrument,screening_id ,screened_at,question,"
        "MEAS_VALUE,QUESTION_CODE,QUESTION_CODE_SYSTEM_NAME,answer,"
        "ANSWER_CODE_SYSTEM_NAME,SDOH_Domain ,sender_positive,"
        "VISIT_PART_2_FLAG,VISIT_OMH_FLAG,VISIT_OPWDD_FLAG\r\n";
    static const char by_code[] =
        "patient_id,FACILITY,FIRST_NAME,LAST_NAME,PAT_BIRTH_DATE,MEDICAID_CIN,"
        "ENCOUNTER_ID,instrument,screening_id ,screened_at,QUESTION_TEXT,"
        "MEAS_VALUE,question,QUESTION_CODE_SYSTEM_NAME,answer,"
        "ANSWER_CODE_SYSTEM_NAME,SDOH_Domain ,sender_positive,"
        "VISIT_PART_2_FLAG,VISIT_OMH_FLAG,VISIT_OPWDD_FLAG\r\n";
    size_t nr = sizeof(cumc_rows) - 1;
    char *t = arena_alloc(&A, sizeof(by_text) - 1 + nr);
    memcpy(t, by_text, sizeof(by_text) - 1);
    memcpy(t + sizeof(by_text) - 1, cumc_rows, nr);
    char *c = arena_alloc(&A, sizeof(by_code) - 1 + nr);
    memcpy(c, by_code, sizeof(by_code) - 1);
    memcpy(c + sizeof(by_code) - 1, cumc_rows, nr);
    struct csvrun w = csvrun(&A, D, "screenings", "t.csv", t,
                             sizeof(by_text) - 1 + nr);
    struct csvrun k = csvrun(&A, D, "screenings", "t.csv", c,
                             sizeof(by_code) - 1 + nr);
    cr_assert_eq(w.rc, HUB_OK, "%s", w.err.what ? w.err.what : "");
    cr_assert_eq(k.rc, HUB_OK, "%s", k.err.what ? k.err.what : "");
    cr_assert_eq(w.rep.rows_used, 27);
    cr_assert_eq(w.out.n, k.out.n);
    /* one warning for the wording, at the first row's question column */
    const struct csv_finding *f = finding(&w.rep, 2, "given as their wording");
    cr_assert_not_null(f);
    cr_assert_eq(f->col, 11);
    /* unknown: the physical activity items only (rows 18 and 19) */
    size_t unknown = 0;
    for (size_t i = 0; i < w.rep.n; i++)
        if (strstr(w.rep.f[i].what, "question is not in")) {
            unknown++;
            cr_assert(w.rep.f[i].row == 18 || w.rep.f[i].row == 19,
                      "row %zu", w.rep.f[i].row);
        }
    cr_assert_eq(unknown, 2);
    /* every item the codes give is in the wording's event, as given */
    static const char *const codes[] = {
        "71802-3", "96778-6", "88122-7", "88123-5", "93030-5", "96779-4",
        "95618-5", "95617-7", "95616-9", "95615-1", "76513-1", "96780-2",
        "96781-0", "93159-2", "97027-7", "96782-8", "68517-2", "96842-0",
        "95530-2", "68524-8", "44250-9", "44255-8", "93038-8", "69858-9",
        "69861-3",
    };
    const char *ek = ev(&k, 0), *ew = ev(&w, 0);
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        char key[40];
        snprintf(key, sizeof(key), "{\"question\":\"%s\"", codes[i]);
        const char *a = strstr(ek, key);
        cr_assert_not_null(a, "%s", codes[i]);
        const char *end = strchr(a, '}');
        cr_assert_not_null(end);
        char *item = arena_strndup(&A, a, (size_t)(end - a + 1));
        HAS(ew, item);
    }
    HAS(ew, "{\"question\":\"88122-7\",\"answer\":\"LA28397-0\",\"domain\":"
            "\"food-insecurity\",\"positive\":true");
    HAS(ew, "\"answer\":\"LA28580-1\",\"domain\":\"inadequate-housing\","
            "\"positive\":true");
    cr_assert_eq(ev(&w, 1) != NULL, true);
    HAS(ev(&w, 1), "\"type\":\"screening.positive\"");
}

/* Round 47's Healthelink test case 2 (qe-collaborative-services/1115-hub
 * support/assurance/ahc-hrsn-elt/screening/fixtures-sftp-simulator/
 * SCREENING_healthelink-20240305-testcase2.csv, commit 6f8f942): each
 * coded row's QUESTION_CODE_DESCRIPTION (the CMS tool's wording, "Would
 * you say it is" and the tobacco item's examples included) and answer,
 * in the hub's layout, once with the wording as `question` and once with
 * QUESTION_CODE: the same events. Its 95614-4 "Total Safety Score" row (a
 * sum the hub computes itself) and the "Calculated ..." rows without a
 * code are left out. */
Test(csv_export, healthelink_question_descriptions_read_as_their_codes)
{
    static const struct { const char *inst, *code, *text, *answer; } rows[] = {
        { "96777-8", "71802-3", "What is your living situation today?",
          "LA31993-1" },
        { "96777-8", "96778-6", "Think about the place you live. Do you "
          "have problems with any of the following?", "LA31997-2" },
        { "96777-8", "88122-7", "Within the past 12 months, you worried "
          "that your food would run out before you got money to buy more.",
          "LA28397-0" },
        { "96777-8", "88123-5", "Within the past 12 months, the food you "
          "bought just didn't last and you didn't have money to get more.",
          "LA28397-0" },
        { "96777-8", "93030-5", "In the past 12 months, has lack of reliable "
          "transportation kept you from medical appointments, meetings, work "
          "or from getting things needed for daily living?", "LA33-6" },
        { "96777-8", "96779-4", "In the past 12 months has the electric, "
          "gas, oil, or water company threatened to shut off services in "
          "your home?", "LA33-6" },
        { "96777-8", "95618-5", "How often does anyone, including family "
          "and friends, physically hurt you?", "LA6482-9" },
        { "96777-8", "95617-7", "How often does anyone, including family "
          "and friends, insult or talk down to you?", "LA16644-9" },
        { "96777-8", "95616-9", "How often does anyone, including family "
          "and friends, threaten you with harm?", "LA6482-9" },
        { "96777-8", "95615-1", "How often does anyone, including family "
          "and friends, scream or curse at you?", "LA6270-8" },
        { "97023-6", "76513-1", "How hard is it for you to pay for the very "
          "basics like food, housing, medical care, and heating? Would you "
          "say it is", "LA22683-9" },
        { "97023-6", "96780-2", "Do you want help finding or keeping work "
          "or a job?", "LA31983-2" },
        { "97023-6", "96781-0", "If for any reason you need help with "
          "day-to-day activities such as bathing, preparing meals, shopping, "
          "managing finances, etc., do you get the help you need?",
          "LA31979-0" },
        { "97023-6", "93159-2", "How often do you feel lonely or isolated "
          "from those around you?", "LA10044-8" },
        { "97023-6", "97027-7", "Do you speak a language other than English "
          "at home?", "LA32-8" },
        { "97023-6", "96782-8", "Do you want help with school or training? "
          "For example, starting or completing job training or getting a "
          "high school diploma, GED or equivalent.", "LA33-6" },
        { "97023-6", "68517-2", "How many times in the past 12 months have "
          "you had 5 or more drinks in a day (males) or 4 or more drinks in "
          "a day (females)?", "LA18891-4" },
        { "97023-6", "96842-0", "How many times in the past 12 months have "
          "you used tobacco products (like cigarettes, cigars, snuff, chew, "
          "electronic cigarettes)?", "LA18934-2" },
        { "97023-6", "95530-2", "How many times in the past year have you "
          "used prescription drugs for non-medical reasons?", "LA18876-5" },
        { "97023-6", "68524-8", "How many times in the past year have you "
          "used illegal drugs?", "LA18876-5" },
        { "97023-6", "44250-9", "Little interest or pleasure in doing "
          "things?", "LA6568-5" },
        { "97023-6", "44255-8", "Feeling down, depressed, or hopeless?",
          "LA6568-5" },
        { "97023-6", "93038-8", "Stress means a situation in which a person "
          "feels tense, restless, nervous, or anxious, or is unable to sleep "
          "at night because his or her mind is troubled all the time. Do you "
          "feel this kind of stress these days?", "LA13902-4" },
        { "97023-6", "69858-9", "Because of a physical, mental, or "
          "emotional condition, do you have serious difficulty "
          "concentrating, remembering, or making decisions?", "LA32-8" },
        { "97023-6", "69861-3", "Because of a physical, mental, or "
          "emotional condition, do you have difficulty doing errands alone "
          "such as visiting a physician's office or shopping", "LA33-6" },
    };
    static const char hdr[] =
        "screening_id|patient_id|instrument|screened_at|question|answer\r\n";
    size_t cap = 8192;
    char *t = arena_alloc(&A, cap), *c = arena_alloc(&A, cap);
    size_t nt = 0, nc = 0;
    nt += (size_t)snprintf(t, cap, "%s", hdr);
    nc += (size_t)snprintf(c, cap, "%s", hdr);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *enc = rows[i].inst[1] == '6' ? "E1" : "E2";
        nt += (size_t)snprintf(t + nt, cap - nt,
                               "%s|P1|%s|2007-09-26|%s|%s\r\n", enc,
                               rows[i].inst, rows[i].text,
                               rows[i].answer);
        nc += (size_t)snprintf(c + nc, cap - nc,
                               "%s|P1|%s|2007-09-26|%s|%s\r\n", enc,
                               rows[i].inst, rows[i].code,
                               rows[i].answer);
        cr_assert_lt(nt, cap);
    }
    struct csvrun w = csvrun(&A, D, "screenings", "t.csv", t, nt);
    struct csvrun k = csvrun(&A, D, "screenings", "t.csv", c, nc);
    cr_assert_eq(w.rc, HUB_OK);
    cr_assert_eq(k.rc, HUB_OK);
    /* the file's own warning: pipe-delimited */
    cr_assert_eq(k.rep.warnings, 1);
    cr_assert_eq(w.rep.warnings, 2, "and the once-a-file warning");
    cr_assert_not_null(finding(&w.rep, 2, "given as their wording"));
    cr_assert_str_eq(all_events(&w), all_events(&k));
    /* food, housing problems, transportation, utilities: flagged */
    HAS(all_events(&w), "\"type\":\"screening.positive\"");
    HAS(ev(&w, 0), "\"answer\":\"LA28397-0\",\"domain\":\"food-insecurity\","
                   "\"positive\":true");
}

/*
 * nophi_test.c - no personal data in what the adapters say back: many broken
 * and hostile variants of one message per adapter, every personal value of
 * it a canary (tests/lib/canary.h), and no error text, error field, warning,
 * HL7 ACK, FHIR OperationOutcome or CSV report may hold one. A refusal must
 * still say where (a field or a byte offset).
 *
 * Variants: the message cut at each of many positions; a byte near each
 * personal value (and every 61st elsewhere) replaced by a delimiter, an
 * escape, a quote, a NUL, a line end or a byte that is not UTF-8; values
 * of the wrong type; a value 64 KiB long. Seconds in all.
 */
#define _GNU_SOURCE             /* memmem */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccda/ccda.h"
#include "csv/csv.h"
#include "dict_files.h"
#include "fhir/fhir.h"
#include "hl7v2/hl7v2.h"
#include "../lib/canary.h"
#include "../lib/testfile.h"
#include "../lib/testdict.h"

static struct dict *D;
static struct arena A;
static size_t runs, refused;

static const char *root(void)
{
    const char *r = getenv("HUB_ROOT");
    return r ? r : ".";
}

static void setup(void)
{
    D = testdict_load();
    arena_init(&A, 64 * 1024);
    runs = refused = 0;
}

static void teardown(void)
{
    dict_free(D);
    arena_release(&A);
}

TestSuite(nophi, .init = setup, .fini = teardown, .timeout = 120);

/* ---- checks ----------------------------------------------------------- */

static const char *variant;             /* for the failure message */

static void clean(const char *what, const char *p, size_t n)
{
    const char *c = p ? canary_find(p, n) : NULL;
    cr_assert_null(c, "%s holds the personal value \"%s\" (%s): %.*s", what,
                   c, variant, (int)(n > 400 ? 400 : n), p);
}

static void clean_str(const char *what, const char *s)
{
    if (s)
        clean(what, s, strlen(s));
}

/* err of a refusal: no value in it, and a place in it */
static void clean_err(const struct hub_err *e)
{
    refused++;
    clean_str("error field", e->field);
    clean_str("error text", e->what);
    cr_assert(e->field[0] != '\0' || e->offset > 0,
              "a refusal that says neither field nor offset (%s): %s",
              variant, e->what ? e->what : "");
}

/* the "warnings" of each event (the events themselves carry the data);
 * and no event holds a \u0000, which PostgreSQL's jsonb refuses with a
 * CONTEXT line that quotes the JSON before it (a patient's name) */
static void clean_event_warnings(const struct canon_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        cr_assert_null(memmem(l->ev[i].json.p, l->ev[i].json.len, "\\u0000",
                              6), "event %zu holds \\u0000 (%s)", i, variant);
        cJSON *e = cJSON_ParseWithLength(l->ev[i].json.p, l->ev[i].json.len);
        cr_assert_not_null(e, "event %zu is not JSON (%s)", i, variant);
        cJSON *w = cJSON_GetObjectItemCaseSensitive(e, "warnings");
        char *t = w ? cJSON_PrintUnformatted(w) : NULL;
        clean_str("an event's warnings", t);
        free(t);
        cJSON_Delete(e);
    }
}

/* ---- variants --------------------------------------------------------- */

typedef void (*run_fn)(const char *p, size_t n);

/* true when i is within `near` bytes of a canary value in p */
static bool near_canary(const char *p, size_t n, size_t i, size_t near)
{
    size_t lo = i > near ? i - near : 0;
    size_t hi = i + near < n ? i + near : n;
    return canary_find(p + lo, hi - lo) != NULL;
}

/* cut at positions, and single bytes replaced by each of `bad` */
static void mutate(const char *p, size_t n, const char *bad, size_t nbad,
                   size_t cut_step, run_fn run)
{
    char *b = malloc(n + 1);
    char label[96];
    cr_assert_not_null(b);
    for (size_t k = 0; k < n; k += cut_step) {
        snprintf(label, sizeof(label), "cut at %zu", k);
        variant = label;
        memcpy(b, p, k);
        run(b, k);
    }
    for (size_t i = 0; i < n; i++) {
        if (i % 61 != 0 && !near_canary(p, n, i, 24))
            continue;
        for (size_t j = 0; j < nbad; j++) {
            snprintf(label, sizeof(label), "byte %zu = 0x%02x", i,
                     (unsigned char)bad[j]);
            variant = label;
            memcpy(b, p, n);
            b[i] = bad[j];
            run(b, n);
        }
    }
    free(b);
}

/* p with every `from` replaced by `to` (malloc'd) */
static char *replace(const char *p, const char *from, const char *to,
                     size_t *n)
{
    size_t fl = strlen(from), tl = strlen(to), cnt = 0;
    for (const char *q = strstr(p, from); q; q = strstr(q + fl, from))
        cnt++;
    char *out = malloc(strlen(p) + cnt * tl + 1), *w = out;
    cr_assert_not_null(out);
    for (const char *q; (q = strstr(p, from)) != NULL; p = q + fl) {
        memcpy(w, p, (size_t)(q - p));
        w += q - p;
        memcpy(w, to, tl);
        w += tl;
    }
    size_t rest = strlen(p);
    memcpy(w, p, rest + 1);
    *n = (size_t)(w - out) + rest;
    return out;
}

/* each of `from` replaced in turn by each of `to`: wrong types, hostile
 * values, a 64 KiB value made of a canary */
static void substitute(const char *p, const char *const *from,
                       const char *const *to, run_fn run)
{
    char label[160];
    for (size_t i = 0; from[i]; i++)
        for (size_t j = 0; to[j]; j++) {
            size_t n;
            char *v = replace(p, from[i], to[j], &n);
            snprintf(label, sizeof(label), "%s -> %.40s", from[i], to[j]);
            variant = label;
            run(v, n);
            free(v);
        }
}

static char *big_canary(void)
{
    static char big[65536 + 1];
    size_t l = strlen(CANARY_FAMILY);
    for (size_t i = 0; i + l < sizeof(big); i += l)
        memcpy(big + i, CANARY_FAMILY, l);
    big[sizeof(big) - 1 - (sizeof(big) - 1) % l] = '\0';
    return big;
}

/* ---- HL7 v2 ----------------------------------------------------------- */

#define HL7_MSG                                                              \
    "MSH|^~\\&|EHR|HOSP|HUB|HUB|20260115093000-0500||ADT^A01^ADT_A01|"      \
    "NP-1|P|2.5.1\r"                                                         \
    "EVN|A01|20260115093000-0500\r"                                          \
    "PID|1||" CANARY_MRN "77^^^HOSP^MR~" CANARY_MEDICAID "^^^NYMCD^MA||"     \
    CANARY_FAMILY "^" CANARY_GIVEN "^Q^^^^L||" CANARY_DOB "|F|||"            \
    CANARY_STREET "^Apt 2^" CANARY_CITY "^OH^44101^USA^H||"                  \
    CANARY_PHONE_HL7 "^PRN^PH|||||" CANARY_MRN "ACCT9||" CANARY_SSN "\r"     \
    "NK1|1|" CANARY_FAMILY "^" CANARY_GIVEN "|SPO|" CANARY_STREET "^^"       \
    CANARY_CITY "^OH|" CANARY_PHONE_HL7 "\r"                                 \
    "PV1|1|I|WARD^101^A^HOSP||||1234^DOC^TEST|||MED||||||||V77|||||||||||"   \
    "||||||||||||||20260115093000-0500\r"                                    \
    "DG1|1||Z59.41^Food insecurity^I10||20260115\r"

static void hl7_run(const char *p, size_t n)
{
    struct hl7_msg *m = NULL;
    struct hub_err err = { 0 };
    struct hl7_warnings warn = { .n = 0 };
    struct canon_list out = { 0 };
    struct slice ack;

    arena_reset(&A);
    runs++;
    int rc = hl7_parse(&A, p, n, &m, &err);
    if (rc == HUB_OK)
        rc = hl7_to_events_dict(&A, D, m, &out, &warn, &err);
    if (rc != HUB_OK)
        clean_err(&err);
    for (unsigned i = 0; i < warn.n; i++) {
        clean_str("an ACK warning's field", warn.w[i].field);
        clean_str("an ACK warning's text", warn.w[i].what);
    }
    if (rc == HUB_OK)
        clean_event_warnings(&out);
    const char *code = rc == HUB_OK ? "AA"
                       : rc == HUB_EUNSUPPORTED ? "AR" : "AE";
    cr_assert_eq(hl7_ack_warn(&A, m, code, rc == HUB_OK ? NULL : &err, &warn,
                              "ACK-1", "20260115093001-0500", &ack), HUB_OK);
    clean("the ACK", ack.p, ack.len);
}

Test(nophi, hl7v2_refusals_warnings_and_acks_hold_no_personal_value)
{
    static const char msg[] = HL7_MSG;
    static const char bad[] = { '|', '^', '~', '\\', '&', '\r', '\n', '\0',
                                (char)0xff, (char)0xc3 };
    variant = "as sent";
    hl7_run(msg, sizeof(msg) - 1);
    cr_assert_eq(refused, 0, "the canary message itself is taken");
    mutate(msg, sizeof(msg) - 1, bad, sizeof(bad), 1, hl7_run);
    static const char *const from[] = { CANARY_DOB, "|F|", "^MR", "HOSP^MR",
                                        "PV1|1|I|", "2.5.1", "^PRN^PH",
                                        NULL };
    const char *to[] = { CANARY_FAMILY, "|" CANARY_SSN "|",
                         "\\X" CANARY_FAMILY "\\", "\\E\\" CANARY_GIVEN,
                         CANARY_DOB "999", "^" CANARY_GIVEN "^",
                         big_canary(), NULL };
    substitute(msg, from, to, hl7_run);

    /* past the limits: repetitions, fields and segments of canaries */
    static const char *const unit[] = {
        "~" CANARY_MRN "9^^^HOSP^MR", "|" CANARY_FAMILY,
        "\rNK1|1|" CANARY_FAMILY "^" CANARY_GIVEN "|SPO",
    };
    const size_t times[] = { HL7_MAX_REPS + 1, HL7_MAX_FIELDS + 1,
                             HL7_MAX_SEGMENTS + 1 };
    const char *at[] = { "^^^HOSP^MR", "\rNK1|", "\rPV1|" };
    for (size_t k = 0; k < 3; k++) {
        size_t ul = strlen(unit[k]);
        char *big = malloc(sizeof(msg) + ul * times[k]);
        cr_assert_not_null(big);
        const char *cut = strstr(msg, at[k]) + (k == 0 ? strlen(at[k]) : 0);
        size_t head = (size_t)(cut - msg), n = head;
        memcpy(big, msg, head);
        for (size_t i = 0; i < times[k]; i++, n += ul)
            memcpy(big + n, unit[k], ul);
        memcpy(big + n, cut, sizeof(msg) - head);
        variant = k == 0 ? "repetitions" : k == 1 ? "fields" : "segments";
        size_t before = refused;
        hl7_run(big, n + sizeof(msg) - 1 - head);
        cr_expect_eq(refused, before + 1, "%s past the limit refused",
                     variant);
        free(big);
    }
    cr_log_info("hl7v2: %zu variants, %zu refused", runs, refused);
    cr_assert_gt(refused, runs / 10, "the variants exercise refusals");
}

/* ---- FHIR R4 JSON ------------------------------------------------------ */

static void fhir_run(const char *p, size_t n)
{
    struct hub_err err = { 0 };
    struct fhir_result res;
    struct canon_list out = { 0 };
    struct slice oo;

    arena_reset(&A);
    runs++;
    memset(&res, 0, sizeof(res));
    int rc = fhir_to_events(&A, D, p, n, &out, &res, &err);
    if (rc != HUB_OK) {
        clean_err(&err);
        clean_str("the resource type", res.resource_type);
        cr_assert_eq(fhir_operation_outcome(&A, &err, res.resource_type, &oo),
                     HUB_OK);
        clean("the OperationOutcome", oo.p, oo.len);
        return;
    }
    clean_event_warnings(&out);
    /* a refused entry's resource names it in the batch-response */
    for (size_t i = 0; i < res.n_entries; i++)
        if (res.entries[i].status != HUB_OK) {
            clean_str("a refused entry's resource", res.entries[i].resource);
            clean_err(&res.entries[i].err);
        }
    cr_assert_eq(fhir_result_outcome(&A, &res, &oo), HUB_OK);
    clean("the OperationOutcome", oo.p, oo.len);
}

static char *data(const char *rel, size_t *n)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/tests/data/%s", root(), rel);
    char *p = testfile_read(path, n);
    cr_assert_not_null(p, "%s", path);
    return p;
}

Test(nophi, fhir_refusals_and_outcomes_hold_no_personal_value)
{
    static const char bad[] = { '"', '\\', '{', ']', ',', '\0', (char)0xff,
                                (char)0xc3 };
    const char *files[] = { "fhir/bundle-ahc-panel-transaction.json",
                            "fhir/bundle-referral-batch-partial.json" };
    for (size_t f = 0; f < 2; f++) {
        size_t n;
        char *doc = data(files[f], &n);
        variant = files[f];
        fhir_run(doc, n);
        mutate(doc, n, bad, sizeof(bad), 13, fhir_run);
        static const char *const from[] = { "\"1987-02-20\"", "\"male\"",
                                            "\"ABBAS\"", "\"final\"",
                                            "\"Patient\"", "\"status\"",
                                            "\"code\"", "\"entry\"",
                                            "\"valueCodeableConcept\"",
                                            NULL };
        const char *to[] = { "19870220", "{\"x\":\"ABBAS\"}",
                             "\"BAXTER\\u0000\"", "\"\\uD800ABBAS\"",
                             "[\"1987-02-20\",1]", "\"1987-02-20T99\"",
                             "\"ABBAS\"", NULL };
        substitute(doc, from, to, fhir_run);
        free(doc);
    }
    /* a resource type that is a name: refused, and not named back */
    static const char odd[] = "{\"resourceType\":\"" CANARY_FAMILY "\","
                              "\"id\":\"p1\"}";
    variant = "resourceType " CANARY_FAMILY;
    fhir_run(odd, sizeof(odd) - 1);
    cr_log_info("fhir: %zu variants, %zu refused", runs, refused);
    cr_assert_gt(refused, runs / 10);
}

/* ---- C-CDA ------------------------------------------------------------- */

static void ccda_run(const char *p, size_t n)
{
    struct hub_err err = { 0 };
    struct canon_list out = { 0 };
    struct slice id = { 0 };

    arena_reset(&A);
    runs++;
    int rc = ccda_to_events(&A, D, p, n, &out, &id, &err);
    if (rc != HUB_OK)
        clean_err(&err);
    else
        clean_event_warnings(&out);
}

Test(nophi, ccda_refusals_and_warnings_hold_no_personal_value)
{
    static const char bad[] = { '<', '>', '&', '"', '/', '\0', (char)0xff };
    size_t n;
    char *doc = data("ccda/synthetic-ahc-hrsn.xml", &n);
    variant = "as sent";
    ccda_run(doc, n);
    cr_assert_eq(refused, 0);
    mutate(doc, n, bad, sizeof(bad), 7, ccda_run);
    /* element and attribute names too: an XPath in an error names them */
    static const char *const from[] = { "19800131", "Testa", "MRN-000123",
                                        "<family>", "10 Example Way",
                                        "recordTarget", "patientRole",
                                        "ClinicalDocument", "extension",
                                        "structuredBody", NULL };
    const char *to[] = { "Testa&#0;", "<b>Testa</b>", "Testa&bogus;",
                         "]]>Testa", "&#xD800;Testa", "Testa",
                         "x:Testa", big_canary(), NULL };
    substitute(doc, from, to, ccda_run);
    free(doc);
    cr_log_info("ccda: %zu variants, %zu refused", runs, refused);
    cr_assert_gt(refused, runs / 10);
}

/* ---- CSV ---------------------------------------------------------------- */

static const char *csv_kind;

static void csv_run(const char *p, size_t n)
{
    struct hub_err err = { 0 };
    struct csv_report rep;
    struct canon_list out = { 0 };
    struct csv_file f = { "upload.csv", NULL, p, n };
    struct slice js;

    arena_reset(&A);
    runs++;
    memset(&rep, 0, sizeof(rep));
    int rc = csv_to_events(&A, D, csv_kind, &f, 1, &out, &rep, &err);
    if (rc != HUB_OK)
        clean_err(&err);
    else
        clean_event_warnings(&out);
    for (size_t i = 0; i < rep.n; i++) {
        clean_str("a finding's column", rep.f[i].column);
        clean_str("a finding's text", rep.f[i].what);
    }
    cr_assert_eq(csv_report_json(&A, &rep, &js), HUB_OK);
    clean("the report", js.p, js.len);
}

Test(nophi, csv_refusals_and_reports_hold_no_personal_value)
{
    static const char csv[] =
        "screening_id,patient_id,instrument,screened_at,question,answer,"
        "family_name,given_name,birth_date,mrn,phone,address\r\n"
        "S-1," CANARY_MRN "1,88121-9,2026-03-01T10:00:00-05:00,88122-7,"
        "LA28397-0," CANARY_FAMILY "," CANARY_GIVEN "," CANARY_DOB_ISO ","
        CANARY_MRN "1," CANARY_PHONE ",\"" CANARY_STREET ", " CANARY_CITY
        "\"\r\n"
        "S-1," CANARY_MRN "1,88121-9,2026-03-01T10:00:00-05:00,88124-3,"
        "LA28397-0," CANARY_FAMILY "," CANARY_GIVEN "," CANARY_DOB_ISO ","
        CANARY_MRN "1," CANARY_PHONE ",\"" CANARY_STREET "\"\r\n";
    static const char bad[] = { ',', '"', '\r', '\n', ';', '\0', (char)0xff,
                                (char)0xc3 };
    csv_kind = "screenings";
    variant = "as sent";
    csv_run(csv, sizeof(csv) - 1);
    mutate(csv, sizeof(csv) - 1, bad, sizeof(bad), 1, csv_run);
    static const char *const from[] = { "2026-03-01T10:00:00-05:00",
                                        "screening_id,", "88121-9",
                                        "LA28397-0", "\r\nS-1,", NULL };
    const char *to[] = { CANARY_DOB_ISO, CANARY_FAMILY ",",
                         "\"" CANARY_FAMILY, CANARY_SSN ",,,,,,,,,,,,,,,",
                         big_canary(), NULL };
    substitute(csv, from, to, csv_run);

    /* the SHIN-NY patient file: a header that is a patient's row */
    size_t n;
    char *pt = data("csv/shinny-1115-lakeside-set1/"
                    "SDOH_PtInfo_LakesideSCN_set1_20260115093000.csv", &n);
    csv_kind = "shinny";
    const char *row = strchr(pt, '\n') + 1;
    variant = "SHIN-NY patient file without its header";
    csv_run(row, n - (size_t)(row - pt));
    mutate(pt, n, bad, sizeof(bad), 5, csv_run);
    free(pt);
    cr_log_info("csv: %zu variants, %zu refused", runs, refused);
    cr_assert_gt(refused, runs / 20);
}

/*
 * same_answers_test.c - the same screening answers sent as FHIR, C-CDA and
 * the hub's CSV layout give the same items, verdicts, domains and positive
 * domains (round 151's rule, F2260-F2263), the hub's derived items among
 * them (F2424: C-CDA and CSV wrote none that the sender had not sent),
 * and a derived item the sender sent, as sent, compared by all three
 * (F2680: C-CDA wrote the hub's verdict on it, CSV did not compare it).
 */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccda/ccda.h"
#include "common/dict.h"
#include "fhir/fhir.h"
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

TestSuite(same_answers, .init = setup, .fini = teardown);

/* Members `key` of the first event's screening, as compact JSON. */
static char *screening_member(const struct canon_list *l, const char *key)
{
    cr_assert_gt(l->n, 0, "no event");
    cJSON *e = cJSON_ParseWithLength(l->ev[0].json.p, l->ev[0].json.len);
    cr_assert_not_null(e);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(e, "screening"), key);
    char *s = m ? cJSON_PrintUnformatted(m) : strdup("(absent)");
    cJSON_Delete(e);
    return s;
}

static struct canon_list fhir_run(const char *json)
{
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    memset(&out, 0, sizeof(out));
    int rc = fhir_to_events(&A, D, json, strlen(json), &out, &res, &err);
    cr_assert_eq(rc, HUB_OK, "fhir: %s %s", err.field, err.what);
    return out;
}

static struct canon_list ccda_run(const char *xml)
{
    struct canon_list out;
    struct slice mid;
    struct hub_err err;
    memset(&out, 0, sizeof(out));
    int rc = ccda_to_events(&A, D, xml, strlen(xml), &out, &mid, &err);
    cr_assert_eq(rc, HUB_OK, "ccda: %s %s", err.field, err.what);
    return out;
}

static struct canon_list csv_run(const char *csv)
{
    struct csvrun r = csvrun(&A, D, "screenings", "screenings.csv", csv,
                             strlen(csv));
    cr_assert_eq(r.rc, HUB_OK, "csv: %s %s", r.err.field, r.err.what);
    return r.out;
}

/* The Hunger Vital Sign's two questions, answered a1 and a2, as a FHIR
 * QuestionnaireResponse, a C-CDA panel and CSV rows: no 88124-3 sent. */
#define QR_ITEM(q, a)                                                        \
    "{\"linkId\":\"/" q "\",\"answer\":[{\"valueCoding\":{\"system\":"       \
    "\"http://loinc.org\",\"code\":\"" a "\"}}]}"
#define HVS_FHIR_OF(items)                                                   \
    "{\"resourceType\":\"QuestionnaireResponse\",\"id\":\"q1\","             \
    "\"questionnaire\":\"http://loinc.org/q/88121-9\","                      \
    "\"status\":\"completed\",\"subject\":{\"reference\":\"Patient/p1\"},"   \
    "\"authored\":\"2026-01-15T09:30:00Z\",\"item\":[" items "]}"
#define HVS_FHIR(a1, a2)                                                     \
    HVS_FHIR_OF(QR_ITEM("88122-7", a1) "," QR_ITEM("88123-5", a2))
/* ... and the sender's 88124-3, a3 */
#define HVS3_FHIR(a1, a2, a3)                                                \
    HVS_FHIR_OF(QR_ITEM("88122-7", a1) "," QR_ITEM("88123-5", a2) ","      \
                QR_ITEM("88124-3", a3))

#define CCDA_ITEM(q, a)                                                      \
    "<entryRelationship typeCode=\"COMP\"><observation classCode=\"OBS\" "   \
    "moodCode=\"EVN\"><code code=\"" q "\" "                                 \
    "codeSystem=\"2.16.840.1.113883.6.1\"/><value xsi:type=\"CD\" code=\""   \
    a "\" codeSystem=\"2.16.840.1.113883.6.1\"/></observation>"             \
    "</entryRelationship>"
#define HVS_CCDA_OF(items)                                                   \
    "<ClinicalDocument xmlns=\"urn:hl7-org:v3\" "                            \
    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"               \
    "<id root=\"2.16.840.1.113883.19.5\" extension=\"D1\"/>"                 \
    "<effectiveTime value=\"20260115\"/>"                                    \
    "<recordTarget><patientRole><id root=\"2.16.840.1.113883.19.6\" "        \
    "extension=\"P1\"/></patientRole></recordTarget>"                        \
    "<component><structuredBody><component><section>"                        \
    "<templateId root=\"2.16.840.1.113883.10.20.22.2.17\"/>"                 \
    "<entry><observation classCode=\"OBS\" moodCode=\"EVN\">"                \
    "<templateId root=\"2.16.840.1.113883.10.20.22.4.69\"/>"                 \
    "<code code=\"88121-9\" codeSystem=\"2.16.840.1.113883.6.1\"/>"          \
    "<effectiveTime value=\"20260115093000+0000\"/>"                         \
    items "</observation></entry></section></component>"                    \
    "</structuredBody></component></ClinicalDocument>"
#define HVS_CCDA(a1, a2)                                                     \
    HVS_CCDA_OF(CCDA_ITEM("88122-7", a1) CCDA_ITEM("88123-5", a2))
#define HVS3_CCDA(a1, a2, a3)                                                \
    HVS_CCDA_OF(CCDA_ITEM("88122-7", a1) CCDA_ITEM("88123-5", a2)            \
                CCDA_ITEM("88124-3", a3))

#define HVS_CSV(a1, a2)                                                      \
    "screening_id,patient_id,instrument,screened_at,question,answer\r\n"     \
    "S1,P1,88121-9,2026-01-15,88122-7," a1 "\r\n"                            \
    "S1,P1,88121-9,2026-01-15,88123-5," a2 "\r\n"
#define HVS3_CSV(a1, a2, a3)                                                 \
    HVS_CSV(a1, a2) "S1,P1,88121-9,2026-01-15,88124-3," a3 "\r\n"

/* What the three say of one screening, member by member. */
static void expect_same(struct canon_list *f, struct canon_list *c,
                        struct canon_list *v, const char *items,
                        const char *positive)
{
    static const char *const keys[] = { "instrument", "items", "domains",
                                        "positive_domains", "scores",
                                        "sender_positive_domains" };
    for (size_t k = 0; k < sizeof(keys) / sizeof(*keys); k++) {
        char *fs = screening_member(f, keys[k]);
        char *cs = screening_member(c, keys[k]);
        char *vs = screening_member(v, keys[k]);
        cr_expect_str_eq(cs, fs, "C-CDA %s differs from FHIR's", keys[k]);
        cr_expect_str_eq(vs, fs, "CSV %s differs from FHIR's", keys[k]);
        if (strcmp(keys[k], "items") == 0)
            cr_expect_str_eq(fs, items);
        if (strcmp(keys[k], "positive_domains") == 0)
            cr_expect_str_eq(fs, positive);
        free(fs);
        free(cs);
        free(vs);
    }
    cr_expect_eq(c->n, f->n, "C-CDA events");
    cr_expect_eq(v->n, f->n, "CSV events");
}

#define HVS_ITEM(q, a, pos)                                                  \
    "{\"question\":\"" q "\",\"answer\":\"" a "\",\"domain\":"               \
    "\"food-insecurity\",\"positive\":" pos "}"

/* Often true, Never true: at risk, the hub's 88124-3 LA19952-3 in all
 * three; Never true twice: no risk, LA19983-8. */
Test(same_answers, a_hunger_vital_sign_of_two_items_gets_the_derived_item)
{
    struct canon_list f = fhir_run(HVS_FHIR("LA28397-0", "LA28398-8"));
    struct canon_list c = ccda_run(HVS_CCDA("LA28397-0", "LA28398-8"));
    struct canon_list v = csv_run(HVS_CSV("LA28397-0", "LA28398-8"));
    expect_same(&f, &c, &v,
                "[" HVS_ITEM("88122-7", "LA28397-0", "true") ","
                HVS_ITEM("88123-5", "LA28398-8", "false") ","
                "{\"question\":\"88124-3\",\"answer\":\"LA19952-3\","
                "\"domain\":\"food-insecurity\",\"positive\":true,"
                "\"derived\":true}]",
                "[\"food-insecurity\"]");
    cr_expect_eq(f.n, 2, "completed and positive");

    f = fhir_run(HVS_FHIR("LA28398-8", "LA28398-8"));
    c = ccda_run(HVS_CCDA("LA28398-8", "LA28398-8"));
    v = csv_run(HVS_CSV("LA28398-8", "LA28398-8"));
    expect_same(&f, &c, &v,
                "[" HVS_ITEM("88122-7", "LA28398-8", "false") ","
                HVS_ITEM("88123-5", "LA28398-8", "false") ","
                "{\"question\":\"88124-3\",\"answer\":\"LA19983-8\","
                "\"domain\":\"food-insecurity\",\"positive\":false,"
                "\"derived\":true}]",
                "[]");
    cr_expect_eq(f.n, 1, "completed only");
}

/* How many of the first event's warnings say `what`. */
static int warnings_saying(const struct canon_list *l, const char *what)
{
    cr_assert_gt(l->n, 0, "no event");
    cJSON *e = cJSON_ParseWithLength(l->ev[0].json.p, l->ev[0].json.len);
    cr_assert_not_null(e);
    int n = 0;
    const cJSON *wn;
    cJSON_ArrayForEach(wn, cJSON_GetObjectItemCaseSensitive(e, "warnings"))
        n += strcmp(cJSON_GetStringValue(
                        cJSON_GetObjectItemCaseSensitive(wn, "what")), what) == 0;
    cJSON_Delete(e);
    return n;
}

static void expect_derived_warnings(struct canon_list *f, struct canon_list *c,
                                    struct canon_list *v, int n)
{
    cr_expect_eq(warnings_saying(f, DICT_DERIVED_DISAGREES), n, "FHIR");
    cr_expect_eq(warnings_saying(c, DICT_DERIVED_DISAGREES), n, "C-CDA");
    cr_expect_eq(warnings_saying(v, DICT_DERIVED_DISAGREES), n, "CSV");
}

/* 88124-3 sent beside the two questions is the sender's item, as sent: its
 * own answer's verdict, no `derived`, in all three (F2680). When it says
 * other than the hub derives (no risk beside Often true, at risk beside
 * Never true twice) all three warn so; the domains and positive_domains
 * are the hub's scoring as before. */
Test(same_answers, a_sent_derived_item_is_the_senders_and_compared)
{
    /* disagreeing: no risk sent, Often true answered */
    struct canon_list f = fhir_run(HVS3_FHIR("LA28397-0", "LA28398-8",
                                             "LA19983-8"));
    struct canon_list c = ccda_run(HVS3_CCDA("LA28397-0", "LA28398-8",
                                             "LA19983-8"));
    struct canon_list v = csv_run(HVS3_CSV("LA28397-0", "LA28398-8",
                                           "LA19983-8"));
    expect_same(&f, &c, &v,
                "[" HVS_ITEM("88122-7", "LA28397-0", "true") ","
                HVS_ITEM("88123-5", "LA28398-8", "false") ","
                HVS_ITEM("88124-3", "LA19983-8", "false") "]",
                "[\"food-insecurity\"]");
    expect_derived_warnings(&f, &c, &v, 1);
    /* and CSV's report says so at the 88124-3 row's answer */
    static const char up[] = HVS3_CSV("LA28397-0", "LA28398-8", "LA19983-8");
    struct csvrun cr = csvrun(&A, D, "screenings", "screenings.csv", up,
                              strlen(up));
    const struct csv_finding *fd = csvrun_finding(&cr.rep, 4,
                                                  DICT_DERIVED_DISAGREES);
    cr_assert_not_null(fd, "CSV report");
    cr_expect_str_eq(fd->column, "answer");

    /* disagreeing: at risk sent, Never true twice */
    f = fhir_run(HVS3_FHIR("LA28398-8", "LA28398-8", "LA19952-3"));
    c = ccda_run(HVS3_CCDA("LA28398-8", "LA28398-8", "LA19952-3"));
    v = csv_run(HVS3_CSV("LA28398-8", "LA28398-8", "LA19952-3"));
    expect_same(&f, &c, &v,
                "[" HVS_ITEM("88122-7", "LA28398-8", "false") ","
                HVS_ITEM("88123-5", "LA28398-8", "false") ","
                HVS_ITEM("88124-3", "LA19952-3", "true") "]",
                "[\"food-insecurity\"]");
    expect_derived_warnings(&f, &c, &v, 1);

    /* agreeing: at risk beside Often true; no risk beside Never true */
    f = fhir_run(HVS3_FHIR("LA28397-0", "LA28398-8", "LA19952-3"));
    c = ccda_run(HVS3_CCDA("LA28397-0", "LA28398-8", "LA19952-3"));
    v = csv_run(HVS3_CSV("LA28397-0", "LA28398-8", "LA19952-3"));
    expect_same(&f, &c, &v,
                "[" HVS_ITEM("88122-7", "LA28397-0", "true") ","
                HVS_ITEM("88123-5", "LA28398-8", "false") ","
                HVS_ITEM("88124-3", "LA19952-3", "true") "]",
                "[\"food-insecurity\"]");
    expect_derived_warnings(&f, &c, &v, 0);

    f = fhir_run(HVS3_FHIR("LA28398-8", "LA28398-8", "LA19983-8"));
    c = ccda_run(HVS3_CCDA("LA28398-8", "LA28398-8", "LA19983-8"));
    v = csv_run(HVS3_CSV("LA28398-8", "LA28398-8", "LA19983-8"));
    expect_same(&f, &c, &v,
                "[" HVS_ITEM("88122-7", "LA28398-8", "false") ","
                HVS_ITEM("88123-5", "LA28398-8", "false") ","
                HVS_ITEM("88124-3", "LA19983-8", "false") "]",
                "[]");
    expect_derived_warnings(&f, &c, &v, 0);
}

/* A HARK total of 1 sent alone (F2802, F2803, as the lead decided them):
 * a FHIR Observation coded 76504-0, and in C-CDA an Assessment Scale
 * Observation coded 76504-0 or 76499-3 with its own value and no
 * components, a Social History Observation coded 76504-0 and a Result
 * Observation coded 76504-0. Each is the HARK screening its panel would
 * be: the instrument named, the total its one item as a panel's total is
 * written, intimate-partner-violence positive, labelled sdv. */
#define HARK_FHIR_OF(value)                                                  \
    "{\"resourceType\":\"Observation\",\"id\":\"o1\",\"status\":\"final\","  \
    "\"category\":[{\"coding\":[{\"system\":\"http://terminology.hl7.org/"   \
    "CodeSystem/observation-category\",\"code\":\"survey\"}]}],"             \
    "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":"       \
    "\"76504-0\"}]},\"subject\":{\"reference\":\"Patient/p1\"},"             \
    "\"effectiveDateTime\":\"2026-01-15\"," value "}"
#define HARK_FHIR                                                            \
    HARK_FHIR_OF("\"valueQuantity\":{\"value\":1,\"unit\":\"{score}\","       \
                 "\"system\":\"http://unitsofmeasure.org\","                 \
                 "\"code\":\"{score}\"}")
#define LONE_OBS(tmpl, code)                                                 \
    "<entry><observation classCode=\"OBS\" moodCode=\"EVN\">"                \
    "<templateId root=\"2.16.840.1.113883.10.20.22.4." tmpl "\"/>"           \
    "<id root=\"1.2.3\" extension=\"T1\"/>"                                  \
    "<code code=\"" code "\" codeSystem=\"2.16.840.1.113883.6.1\"/>"         \
    "<statusCode code=\"completed\"/><effectiveTime value=\"20260115\"/>"    \
    "<value xsi:type=\"PQ\" value=\"1\" unit=\"{score}\"/>"                  \
    "</observation></entry>"
#define LONE_CCDA(section, entry)                                            \
    "<ClinicalDocument xmlns=\"urn:hl7-org:v3\" "                            \
    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"               \
    "<id root=\"2.16.840.1.113883.19.5\" extension=\"D1\"/>"                 \
    "<effectiveTime value=\"20260115\"/>"                                    \
    "<recordTarget><patientRole><id root=\"2.16.840.1.113883.19.6\" "        \
    "extension=\"P1\"/></patientRole></recordTarget>"                        \
    "<component><structuredBody><component><section>"                        \
    "<templateId root=\"2.16.840.1.113883.10.20.22.2." section "\"/>"        \
    entry "</section></component></structuredBody></component>"              \
    "</ClinicalDocument>"
#define HARK_CSV                                                             \
    "screening_id,patient_id,instrument,screened_at,question,answer,value\r\n" \
    "S1,P1,76499-3,2026-01-15,76504-0,,1\r\n"

/* The members that must agree between `f` and `c`, and the labels. */
static void expect_same_two(struct canon_list *f, struct canon_list *c,
                            const char *what)
{
    static const char *const keys[] = { "instrument", "items", "domains",
                                        "positive_domains", "scores",
                                        "sender_positive_domains" };
    for (size_t k = 0; k < sizeof(keys) / sizeof(*keys); k++) {
        char *fs = screening_member(f, keys[k]);
        char *cs = screening_member(c, keys[k]);
        cr_expect_str_eq(cs, fs, "%s: %s differs from FHIR's", what, keys[k]);
        free(fs);
        free(cs);
    }
    cr_expect_eq(c->n, f->n, "%s: events", what);
    for (size_t i = 0; i < f->n && i < c->n; i++) {
        cJSON *fe = cJSON_ParseWithLength(f->ev[i].json.p, f->ev[i].json.len);
        cJSON *ce = cJSON_ParseWithLength(c->ev[i].json.p, c->ev[i].json.len);
        char *fl = cJSON_PrintUnformatted(
            cJSON_GetObjectItemCaseSensitive(fe, "sensitivity"));
        char *cl = cJSON_PrintUnformatted(
            cJSON_GetObjectItemCaseSensitive(ce, "sensitivity"));
        cr_expect_str_eq(cl ? cl : "", fl ? fl : "", "%s: labels", what);
        free(fl);
        free(cl);
        cJSON_Delete(fe);
        cJSON_Delete(ce);
    }
}

Test(same_answers, a_lone_hark_total_is_the_hark_screening_in_every_form)
{
    static const struct { const char *what, *doc; } forms[] = {
        { "4.69 coded 76504-0", LONE_CCDA("17", LONE_OBS("69", "76504-0")) },
        { "4.69 coded 76499-3", LONE_CCDA("17", LONE_OBS("69", "76499-3")) },
        { "4.38 coded 76504-0", LONE_CCDA("17", LONE_OBS("38", "76504-0")) },
        { "4.2 coded 76504-0", LONE_CCDA("3.1", LONE_OBS("2", "76504-0")) },
    };
    struct canon_list f = fhir_run(HARK_FHIR);
    cr_expect_eq(f.n, 2, "completed and positive");
    char *inst = screening_member(&f, "instrument");
    cr_expect_str_eq(inst, "\"76499-3\"", "the total's instrument");
    free(inst);
    char *items = screening_member(&f, "items");
    cr_expect_str_eq(items, "[{\"question\":\"76504-0\",\"value\":1,"
                            "\"unit\":\"{score}\",\"domain\":"
                            "\"intimate-partner-violence\",\"positive\":true}]");
    free(items);
    char *pos = screening_member(&f, "positive_domains");
    cr_expect_str_eq(pos, "[\"intimate-partner-violence\"]");
    free(pos);
    for (size_t i = 0; i < sizeof(forms) / sizeof(*forms); i++) {
        struct canon_list c = ccda_run(forms[i].doc);
        cr_assert_gt(c.n, 0, "%s: no event", forms[i].what);
        expect_same_two(&f, &c, forms[i].what);
    }
    /* CSV names the instrument on every row: its HARK of the total alone
     * is the same screening (a number with no unit, as valueInteger) */
    f = fhir_run(HARK_FHIR_OF("\"valueInteger\":1"));
    struct canon_list v = csv_run(HARK_CSV);
    expect_same_two(&f, &v, "CSV's HARK of its total");
    /* the same number in the answer column is its value, warned (F2942):
     * it was an answer code "1", scored nothing, nothing positive */
    struct canon_list a = csv_run(
        "screening_id,patient_id,instrument,screened_at,question,answer,"
        "value\r\nS1,P1,76499-3,2026-01-15,76504-0,1,\r\n");
    expect_same_two(&f, &a, "CSV's total in the answer column");
    cr_assert_gt(a.n, 0);
    cJSON *ev = cJSON_ParseWithLength(a.ev[0].json.p, a.ev[0].json.len);
    char *w = cJSON_PrintUnformatted(
        cJSON_GetObjectItemCaseSensitive(ev, "warnings"));
    cr_expect(w && strstr(w, "total written in the answer column"),
              "warned: %s", w ? w : "(none)");
    free(w);
    cJSON_Delete(ev);
    /* round 190 (F3022): "01", which the `value` column refuses, is kept
     * as words, "not scored"; it was also said to be read as its value */
    static const char zero_one[] =
        "screening_id,patient_id,instrument,screened_at,question,"
        "answer\r\nS1,P1,76499-3,2026-01-15,76504-0,01\r\n";
    struct csvrun z = csvrun(&A, D, "screenings", "screenings.csv", zero_one,
                             strlen(zero_one));
    cr_assert_eq(z.rc, HUB_OK);
    a = z.out;
    cr_assert_gt(a.n, 0);
    /* the row's finding names the column it was written in, not `value`,
     * which the upload has not */
    const struct csv_finding *fd =
        csvrun_finding(&z.rep, 2, "kept as its words, not scored");
    cr_assert_not_null(fd);
    cr_expect_str_eq(fd->column ? fd->column : "(none)", "answer");
    ev = cJSON_ParseWithLength(a.ev[0].json.p, a.ev[0].json.len);
    w = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(ev, "warnings"));
    cr_expect(w && strstr(w, "read as its value") == NULL &&
                  strstr(w, "kept as its words, not scored"),
              "warnings: %s", w ? w : "(none)");
    free(w);
    cJSON_Delete(ev);
}

/* F4060, F4061: the PHQ-2 items of the AHC supplemental questions
 * (44250-9 "More than half the days" 2, 44255-8 "Several days" 1) and the
 * sender's own PHQ-2 total 55758-7 = `total`, as a FHIR response, a C-CDA
 * panel and CSV rows of 97023-6. */
#define SUP_FHIR(total)                                                      \
    "{\"resourceType\":\"QuestionnaireResponse\",\"id\":\"q1\","             \
    "\"questionnaire\":\"http://loinc.org/q/97023-6\","                      \
    "\"status\":\"completed\",\"subject\":{\"reference\":\"Patient/p1\"},"   \
    "\"authored\":\"2026-01-15T09:30:00Z\",\"item\":["                       \
    QR_ITEM("44250-9", "LA6570-1") "," QR_ITEM("44255-8", "LA6569-3") ","    \
    "{\"linkId\":\"/55758-7\",\"answer\":[{\"valueInteger\":" total "}]}]}"
#define SUP_CCDA(total)                                                      \
    LONE_CCDA("17",                                                          \
              "<entry><observation classCode=\"OBS\" moodCode=\"EVN\">"      \
              "<templateId root=\"2.16.840.1.113883.10.20.22.4.69\"/>"       \
              "<code code=\"97023-6\" "                                      \
              "codeSystem=\"2.16.840.1.113883.6.1\"/>"                       \
              "<effectiveTime value=\"20260115093000+0000\"/>"               \
              CCDA_ITEM("44250-9", "LA6570-1")                               \
              CCDA_ITEM("44255-8", "LA6569-3")                               \
              "<entryRelationship typeCode=\"COMP\"><observation "           \
              "classCode=\"OBS\" moodCode=\"EVN\"><code code=\"55758-7\" "   \
              "codeSystem=\"2.16.840.1.113883.6.1\"/><value xsi:type=\"INT\" " \
              "value=\"" total "\"/></observation></entryRelationship>"     \
              "</observation></entry>")
#define SUP_CSV(total)                                                       \
    "screening_id,patient_id,instrument,screened_at,question,answer,value\r\n" \
    "S1,P1,97023-6,2026-01-15,44250-9,LA6570-1,\r\n"                         \
    "S1,P1,97023-6,2026-01-15,44255-8,LA6569-3,\r\n"                         \
    "S1,P1,97023-6,2026-01-15,55758-7,," total "\r\n"
#define SUP_ITEM(q, a)                                                       \
    "{\"question\":\"" q "\",\"answer\":\"" a "\",\"domain\":"               \
    "\"sdoh-category-unspecified\",\"label\":\"Mental Health\"}"
#define SUP_ITEMS(total)                                                     \
    "[" SUP_ITEM("44250-9", "LA6570-1") "," SUP_ITEM("44255-8", "LA6569-3")  \
    ",{\"question\":\"55758-7\",\"value\":" total ",\"domain\":"            \
    "\"sdoh-category-unspecified\",\"label\":\"Mental Health\","            \
    "\"positive\":true}]"
#define CSV_TOTAL_DIFFERS "sender's total differs from the sum of the answers"

/* The hub's PHQ-2 sum is published under LOINC's total score 55758-7 in
 * all three (it was the panel's code 55757-9, F4060); the sender's own
 * 55758-7 beside the items is the sender's total, not an unknown
 * question: written with the sum's domain, label and verdict, and a total
 * other than the hub's sum warned in all three (F4061: C-CDA said it was
 * a question not in the dictionary, and compared no total). */
Test(same_answers, the_phq2_total_is_55758_7_and_the_senders_is_compared)
{
    static const char scores[] =
        "[{\"code\":\"55758-7\",\"display\":\"Patient Health Questionnaire 2 "
        "item (PHQ-2) total score\",\"value\":3,\"positive\":true,\"domain\":"
        "\"sdoh-category-unspecified\",\"label\":\"Mental Health\"}]";
    struct canon_list f = fhir_run(SUP_FHIR("5"));
    struct canon_list c = ccda_run(SUP_CCDA("5"));
    struct canon_list v = csv_run(SUP_CSV("5"));
    expect_same(&f, &c, &v, SUP_ITEMS("5"), "[\"sdoh-category-unspecified\"]");
    char *s = screening_member(&f, "scores");
    cr_expect_str_eq(s, scores);
    free(s);
    cr_expect_eq(warnings_saying(&f, DICT_TOTAL_DISAGREES), 1, "FHIR");
    cr_expect_eq(warnings_saying(&c, DICT_TOTAL_DISAGREES), 1, "C-CDA");
    cr_expect_eq(warnings_saying(&v, CSV_TOTAL_DIFFERS), 1, "CSV");
    cr_expect_eq(warnings_saying(&c, "question not in the dictionary"), 0);

    /* the sender's total the hub's sum: nothing to say */
    f = fhir_run(SUP_FHIR("3"));
    c = ccda_run(SUP_CCDA("3"));
    v = csv_run(SUP_CSV("3"));
    expect_same(&f, &c, &v, SUP_ITEMS("3"), "[\"sdoh-category-unspecified\"]");
    s = screening_member(&c, "scores");
    cr_expect_str_eq(s, scores);
    free(s);
    cr_expect_eq(warnings_saying(&f, DICT_TOTAL_DISAGREES), 0, "FHIR");
    cr_expect_eq(warnings_saying(&c, DICT_TOTAL_DISAGREES), 0, "C-CDA");
    cr_expect_eq(warnings_saying(&v, CSV_TOTAL_DIFFERS), 0, "CSV");
}

/* F4060: a PHQ-2 total sent alone is a depression screening, outside the
 * dictionary (F2543, F2661): no screening of the AHC supplemental
 * questions in any form, as before the total was coded 55758-7. */
Test(same_answers, a_lone_phq2_total_is_no_screening_in_any_form)
{
    static const struct { const char *what, *doc; } forms[] = {
        { "4.69 coded 55758-7", LONE_CCDA("17", LONE_OBS("69", "55758-7")) },
        { "4.38 coded 55758-7", LONE_CCDA("17", LONE_OBS("38", "55758-7")) },
        { "4.2 coded 55758-7", LONE_CCDA("3.1", LONE_OBS("2", "55758-7")) },
    };
    for (size_t i = 0; i < sizeof(forms) / sizeof(*forms); i++) {
        struct canon_list c = ccda_run(forms[i].doc);
        cr_expect_eq(c.n, 0, "%s: %zu events", forms[i].what, c.n);
    }
    /* a survey Observation: nothing the dictionary knows (F3361) */
    static const char obs[] =
        "{\"resourceType\":\"Observation\",\"id\":\"o1\",\"status\":\"final\","
        "\"category\":[{\"coding\":[{\"system\":\"http://terminology.hl7.org/"
        "CodeSystem/observation-category\",\"code\":\"survey\"}]}],"
        "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":"
        "\"55758-7\"}]},\"subject\":{\"reference\":\"Patient/p1\"},"
        "\"effectiveDateTime\":\"2026-01-15\",\"valueInteger\":5}";
    struct canon_list f = fhir_run(obs);
    cr_expect_eq(f.n, 0, "FHIR: %zu events", f.n);
    /* CSV names an instrument on every row: the PHQ-2 panel's is none of
     * the dictionary's, so the total is a question it does not know */
    struct canon_list v = csv_run(
        "screening_id,patient_id,instrument,screened_at,question,answer,"
        "value\r\nS1,P1,55757-9,2026-01-15,55758-7,,5\r\n");
    cr_assert_eq(v.n, 1, "CSV: completed only, %zu events", v.n);
    char *s = screening_member(&v, "scores");
    cr_expect_str_eq(s, "(absent)");
    free(s);
    s = screening_member(&v, "positive_domains");
    cr_expect_str_eq(s, "[]");
    free(s);
}

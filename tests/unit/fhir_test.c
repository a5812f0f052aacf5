/*
 * fhir_test.c - the FHIR R4 adapter: every sample in tests/data/fhir gives
 * the events (or the error) checked by reading it, and hostile input (deep
 * nesting, huge arrays, wrong types, bad references, a bundle with a bad
 * entry, a partly accepted batch) is refused where it should be, with the
 * element path.
 */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "common/jsonscan.h"
#include "dict_files.h"
#include "fhir/fhir.h"
#include "../lib/testfile.h"
#include "../lib/testdict.h"

static struct dict *D;
static struct arena A;

static const char *root(void)
{
    const char *r = getenv("HUB_ROOT");
    return r ? r : ".";
}

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

/* Run the adapter on a C string. */
static int run(const char *json, struct canon_list *out,
               struct fhir_result *res, struct hub_err *err)
{
    memset(out, 0, sizeof(*out));
    return fhir_to_events(&A, D, json, strlen(json), out, res, err);
}

static cJSON *events_array(const struct canon_list *l)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < l->n; i++) {
        cJSON *e = cJSON_ParseWithLength(l->ev[i].json.p, l->ev[i].json.len);
        cr_assert_not_null(e, "event %zu is not JSON", i);
        cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "type");
        cr_assert(cJSON_IsString(t) && strcmp(t->valuestring, l->ev[i].type) == 0,
                  "event %zu type", i);
        cJSON_AddItemToArray(arr, e);
    }
    return arr;
}

TestSuite(fhir, .init = setup, .fini = teardown);

/* ---- goldens ------------------------------------------------------------------ */

static int check_one(const char *dir, const char *name)
{
    char in[600], want[600];
    size_t len, wlen;
    snprintf(in, sizeof(in), "%s/%s", dir, name);
    char *p = testfile_read(in, &len);
    cr_assert_not_null(p, "%s", in);
    struct canon_list out = { 0 };
    struct fhir_result res;
    struct hub_err err;
    arena_reset(&A);
    int rc = fhir_to_events(&A, D, p, len, &out, &res, &err);

    size_t base = strlen(name) - 5;     /* drop ".json" */
    snprintf(want, sizeof(want), "%s/%.*s.events.json", dir, (int)base, name);
    char *w = testfile_read(want, &wlen);
    if (w) {
        cr_assert_eq(rc, HUB_OK, "%s: rc %d at %s: %s", name, rc, err.field,
                     err.what ? err.what : "");
        cJSON *got = events_array(&out);
        cJSON *exp = cJSON_Parse(w);
        cr_assert_not_null(exp, "%s is not JSON", want);
        if (!cJSON_Compare(got, exp, 1)) {
            char *g = cJSON_Print(got);
            cr_assert_fail("%s: events differ from %s; got:\n%s", name, want, g);
        }
        cJSON_Delete(got);
        cJSON_Delete(exp);
    } else {
        snprintf(want, sizeof(want), "%s/%.*s.err.json", dir, (int)base, name);
        w = testfile_read(want, &wlen);
        cr_assert_not_null(w, "%s has neither .events.json nor .err.json", name);
        cJSON *exp = cJSON_Parse(w);
        cr_assert_neq(rc, HUB_OK, "%s: expected a refusal", name);
        cr_assert_eq(out.n, 0, "%s: events left after a refusal", name);
        cr_assert_str_eq(hub_strerror(rc),
                         cJSON_GetObjectItem(exp, "code")->valuestring, "%s", name);
        cr_assert_str_eq(err.field,
                         cJSON_GetObjectItem(exp, "field")->valuestring, "%s", name);
        cr_assert_str_eq(err.what,
                         cJSON_GetObjectItem(exp, "what")->valuestring, "%s", name);
        cJSON_Delete(exp);
    }
    free(w);
    free(p);
    return 1;
}

Test(fhir, every_sample_gives_the_events_checked_by_reading_it)
{
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/tests/data/fhir", root());
    DIR *dp = opendir(dir);
    cr_assert_not_null(dp, "%s", dir);
    struct dirent *de;
    int n = 0;
    while ((de = readdir(dp)) != NULL) {
        const char *s = de->d_name;
        size_t l = strlen(s);
        if (l < 6 || strcmp(s + l - 5, ".json") != 0 ||
            strstr(s, ".events.json") || strstr(s, ".err.json"))
            continue;
        n += check_one(dir, s);
    }
    closedir(dp);
    cr_assert_geq(n, 32, "only %d samples found", n);
}

/* ---- screening details -------------------------------------------------------- */

static const char *field_of(const struct canon_list *l, size_t i,
                            const char *path)
{
    static char buf[256];
    cJSON *e = cJSON_ParseWithLength(l->ev[i].json.p, l->ev[i].json.len);
    cJSON *cur = e;
    char tmp[256];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *tok = tmp, *next; cur && tok; tok = next) {
        next = strchr(tok, '.');
        if (next)
            *next++ = '\0';
        if (tok[0] >= '0' && tok[0] <= '9')
            cur = cJSON_GetArrayItem(cur, (int)strtol(tok, NULL, 10));
        else
            cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
    }
    buf[0] = '\0';
    if (cJSON_IsString(cur))
        snprintf(buf, sizeof(buf), "%s", cur->valuestring);
    else if (cur) {
        char *s = cJSON_PrintUnformatted(cur);
        snprintf(buf, sizeof(buf), "%s", s);
        free(s);
    } else {
        snprintf(buf, sizeof(buf), "(absent)");
    }
    cJSON_Delete(e);
    return buf;
}

#define OBS(extra)                                                          \
    "{\"resourceType\":\"Observation\",\"id\":\"o1\",\"status\":\"final\","  \
    "\"subject\":{\"reference\":\"Patient/p1\"}," extra "}"

/* ---- inline samples: one table, one loop ------------------------------------------ */

/* A path into event `ev` (field_of syntax) and the value it must hold:
 * a string as is, anything else as compact JSON, "(absent)" when missing. */
struct check {
    int ev;
    const char *path;
    const char *want;
};

/* One inline sample: the claim it makes, the body, how many events it
 * gives and of which types (NULL: not checked), and what they must say.
 * Pointers to literals are fine here: one Test walks the table itself
 * (no cr_make_param_array, see STYLE.md section 9). */
struct sample {
    const char *claim;
    const char *json;
    size_t n_events;
    const char *types[3];
    struct check checks[8];
};

#define GRAVITY "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/" \
                "SDOHCC-CodeSystemTemporaryCodes"
#define CL_TMP "https://hl7chile.cl/fhir/ig/gravitycl/CodeSystem/" \
               "SDOHCC-CodeSystemTemporaryCodesCL"
#define GOAL_X "{\"resourceType\":\"Goal\",\"lifecycleStatus\":\"active\"," \
               "\"description\":{\"text\":\"x\"},"

static const struct sample SAMPLES[] = {
    { "a sender's interpretation that disagrees is a warning, not an "
      "override (never-true is negative: no screening.positive)",
      OBS("\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"88122-7\"}]},"
          "\"valueCodeableConcept\":{\"coding\":[{\"system\":\"http://loinc.org\","
          "\"code\":\"LA28398-8\"}]},\"interpretation\":[{\"coding\":[{\"system\":"
          "\"http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation\","
          "\"code\":\"POS\"}]}]"),
      1, { NULL },
      { { 0, "screening.items.0.positive", "false" },
        { 0, "screening.items.0.sender_positive", "true" },
        { 0, "screening.sender_positive_domains", "[\"food-insecurity\"]" },
        { 0, "warnings.0.field", "Observation.interpretation" } } },
    /* F161: a quantity's unit stays with its number (SDOHCC NHANES 76508-1
     * "7 wk", SHIN-NY 77594-0 "120 minutes per week") */
    { "a quantity answer keeps its ucum code as unit",
      OBS("\"category\":[{\"coding\":[{\"system\":\"" GRAVITY "\",\"code\":"
          "\"social-connection\"}]}],"
          "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"76508-1\"}]},"
          "\"valueQuantity\":{\"value\":7,\"unit\":\"week\",\"system\":"
          "\"http://unitsofmeasure.org\",\"code\":\"wk\"}"),
      1, { NULL },
      { { 0, "screening.items.0.value", "7" },
        { 0, "screening.items.0.unit", "wk" } } },
    { "a quantity answer without a ucum code keeps its unit as written",
      OBS("\"category\":[{\"coding\":[{\"system\":\"" GRAVITY "\",\"code\":"
          "\"social-connection\"}]}],"
          "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"77594-0\"}]},"
          "\"valueQuantity\":{\"value\":120,\"unit\":\"minutes per week\","
          "\"system\":\"http://unitsofmeasure.org\"}"),
      1, { NULL },
      { { 0, "screening.items.0.value", "120" },
        { 0, "screening.items.0.unit", "minutes per week" } } },
    /* a decimal answer is written as sent (1.5 hours was written 2) */
    { "a decimal answer keeps its fraction",
      OBS("\"category\":[{\"coding\":[{\"system\":\"" GRAVITY "\",\"code\":"
          "\"social-connection\"}]}],"
          "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"77594-0\"}]},"
          "\"valueQuantity\":{\"value\":1.5,\"unit\":\"h\","
          "\"system\":\"http://unitsofmeasure.org\",\"code\":\"h\"}"),
      1, { NULL },
      { { 0, "screening.items.0.value", "1.5" },
        { 0, "screening.items.0.unit", "h" } } },
    { "a decimal that is an integer is written as one",
      OBS("\"category\":[{\"coding\":[{\"system\":\"" GRAVITY "\",\"code\":"
          "\"social-connection\"}]}],"
          "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"77594-0\"}]},"
          "\"valueDecimal\":3.0"),
      1, { NULL },
      { { 0, "screening.items.0.value", "3" } } },
    { "a bare number has no unit, and a unit that is no string is passed over",
      OBS("\"category\":[{\"coding\":[{\"system\":\"" GRAVITY "\",\"code\":"
          "\"social-connection\"}]}],"
          "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"77594-0\"}]},"
          "\"valueQuantity\":{\"value\":120,\"unit\":5}"),
      1, { NULL },
      { { 0, "screening.items.0.value", "120" },
        { 0, "screening.items.0.unit", "(absent)" } } },
    /* F166: HL7 Chile's copy of the Gravity temporary code system names
     * the same SDOH domains (SDOH-CL's food security Goal and food pantry
     * ServiceRequest); a code of it that is no domain, or another
     * system's copy, names none */
    { "a goal whose category is sdoh-cl's food-insecurity has that domain",
      "{\"resourceType\":\"Goal\",\"id\":\"g-cl\",\"lifecycleStatus\":"
      "\"active\",\"category\":[{\"coding\":[{\"system\":\"" CL_TMP "\","
      "\"code\":\"food-insecurity\"}]}],\"description\":{\"text\":"
      "\"Seguridad alimentaria\"},\"subject\":{\"reference\":\"Patient/p1\"}}",
      1, { "goal.updated" },
      { { 0, "goal.domain", "food-insecurity" } } },
    { "a referral whose only sdoh category is sdoh-cl's has that domain",
      "{\"resourceType\":\"ServiceRequest\",\"id\":\"sr-cl\",\"status\":"
      "\"active\",\"intent\":\"order\",\"category\":[{\"coding\":[{"
      "\"system\":\"" CL_TMP "\",\"code\":\"transportation-insecurity\"}]}],"
      "\"code\":{\"text\":\"Traslado\"},\"subject\":{\"reference\":"
      "\"Patient/p1\"}}",
      1, { "referral.created" },
      { { 0, "referral.domain", "transportation-insecurity" } } },
    { "an sdoh-cl code that is no domain, and another copy's, name none",
      "{\"resourceType\":\"Goal\",\"id\":\"g-x\",\"lifecycleStatus\":"
      "\"active\",\"category\":[{\"coding\":[{\"system\":\"" CL_TMP "\","
      "\"code\":\"resulting-activity\"}]},{\"coding\":[{\"system\":"
      "\"https://example.org/CodeSystem/SDOHCC-CodeSystemTemporaryCodes\","
      "\"code\":\"food-insecurity\"}]}],\"description\":{\"text\":\"x\"},"
      "\"subject\":{\"reference\":\"Patient/p1\"}}",
      1, { "goal.updated" },
      { { 0, "goal.domain", "(absent)" } } },
    /* F1162: an SDOHCC Observation Assessment filed under two Gravity
     * categories (HL7 Chile's "Transport too expensive") is a finding of
     * both: the item keeps the first as `domain` and lists both, and the
     * screening screens and finds positive both */
    { "a two-category assessment's finding counts in both domains",
      OBS("\"category\":[{\"coding\":[{\"system\":\"" CL_TMP "\",\"code\":"
          "\"transportation-insecurity\"}]},{\"coding\":[{\"system\":\""
          CL_TMP "\",\"code\":\"financial-insecurity\"}]}],"
          "\"code\":{\"coding\":[{\"system\":\"http://snomed.info/sct\","
          "\"code\":\"160695008\"}]},\"valueBoolean\":true"),
      2, { "screening.completed", "screening.positive" },
      { { 0, "screening.items.0.domain", "transportation-insecurity" },
        { 0, "screening.items.0.domains",
          "[\"transportation-insecurity\",\"financial-insecurity\"]" },
        { 0, "screening.items.0.asserted", "true" },
        { 0, "screening.domains",
          "[\"transportation-insecurity\",\"financial-insecurity\"]" },
        { 1, "screening.positive_domains",
          "[\"transportation-insecurity\",\"financial-insecurity\"]" } } },
    { "a two-category finding denied screens both, positive in neither",
      OBS("\"category\":[{\"coding\":[{\"system\":\"" GRAVITY "\",\"code\":"
          "\"transportation-insecurity\"},{\"system\":\"" GRAVITY "\","
          "\"code\":\"financial-insecurity\"}]}],"
          "\"code\":{\"coding\":[{\"system\":\"http://snomed.info/sct\","
          "\"code\":\"160695008\"}]},\"valueBoolean\":false"),
      1, { "screening.completed" },
      { { 0, "screening.items.0.domains",
          "[\"transportation-insecurity\",\"financial-insecurity\"]" },
        { 0, "screening.items.0.positive", "false" },
        { 0, "screening.domains",
          "[\"transportation-insecurity\",\"financial-insecurity\"]" },
        { 0, "screening.positive_domains", "[]" } } },
    { "one domain named twice is one: no item domains",
      OBS("\"category\":[{\"coding\":[{\"system\":\"" GRAVITY "\",\"code\":"
          "\"transportation-insecurity\"}]},{\"coding\":[{\"system\":\""
          CL_TMP "\",\"code\":\"transportation-insecurity\"}]}],"
          "\"code\":{\"coding\":[{\"system\":\"http://snomed.info/sct\","
          "\"code\":\"160695008\"}]},\"valueBoolean\":true"),
      2, { "screening.completed", "screening.positive" },
      { { 0, "screening.items.0.domain", "transportation-insecurity" },
        { 0, "screening.items.0.domains", "(absent)" },
        { 1, "screening.positive_domains", "[\"transportation-insecurity\"]" } } },
    /* F560: a Goal category of Cerner's (its own code set first, flagged
     * userSelected, then HL7 goal-category) gave the vendor's code, and
     * with the codings the other way round the HL7 one: FHIR gives
     * codings no order, so the pick is by system, the same either way */
    { "a category's hl7 coding is picked over a vendor's, vendor first",
      GOAL_X "\"category\":[{\"coding\":[{\"system\":\"https://fhir.cerner."
      "com/ec2458f2-1e24-41c8-b71b-0e701af7583d/codeSet/4003016\",\"code\":"
      "\"25481501\",\"userSelected\":true},{\"system\":\"http://terminology."
      "hl7.org/CodeSystem/goal-category\",\"code\":\"physiotherapy\"}],"
      "\"text\":\"Physiologic\"}],\"subject\":{\"reference\":\"Patient/p1\"}}",
      1, { "goal.updated" },
      { { 0, "goal.categories.0.code", "physiotherapy" },
        { 0, "goal.categories.0.text", "Physiologic" } } },
    { "a category's hl7 coding is picked over a vendor's, hl7 first",
      GOAL_X "\"category\":[{\"coding\":[{\"system\":\"http://terminology."
      "hl7.org/CodeSystem/goal-category\",\"code\":\"physiotherapy\"},"
      "{\"system\":\"https://fhir.cerner.com/ec2458f2-1e24-41c8-b71b-"
      "0e701af7583d/codeSet/4003016\",\"code\":\"25481501\"}]}],"
      "\"subject\":{\"reference\":\"Patient/p1\"}}",
      1, { "goal.updated" },
      { { 0, "goal.categories.0.code", "physiotherapy" } } },
    { "of two codings of local systems the pick is the same in any order",
      GOAL_X "\"category\":[{\"coding\":[{\"system\":\"urn:oid:1.2.3\","
      "\"code\":\"b\"},{\"system\":\"urn:oid:1.2.2\",\"code\":\"a\"}]}],"
      "\"subject\":{\"reference\":\"Patient/p1\"}}",
      1, { "goal.updated" },
      { { 0, "goal.categories.0.code", "a" } } },
    { "of two codings of local systems the pick is the same, reversed",
      GOAL_X "\"category\":[{\"coding\":[{\"system\":\"urn:oid:1.2.2\","
      "\"code\":\"a\"},{\"system\":\"urn:oid:1.2.3\",\"code\":\"b\"}]}],"
      "\"subject\":{\"reference\":\"Patient/p1\"}}",
      1, { "goal.updated" },
      { { 0, "goal.categories.0.code", "a" } } },
    /* F561: a Chilean transport IG asks PRAPARE 93030-5 as a boolean
     * item; "true" stays text, not scored (F52), and now the sender is
     * told so. A boolean to a question outside the dictionary (WellRx
     * 93671-6, filed under US Core's sdoh category, so a screening still:
     * F3361) has no answers to be scored against: no warning */
    { "a boolean answer to a coded question is kept, not scored, warned",
      OBS("\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"93030-5\"}]},"
          "\"valueBoolean\":true"),
      1, { NULL },
      { { 0, "screening.items.0.text", "true" },
        { 0, "screening.items.0.positive", "(absent)" },
        /* answered, if not in its list's terms: screened (F2040) */
        { 0, "screening.domains", "[\"transportation-insecurity\"]" },
        { 0, "warnings.0.field", "Observation.valueBoolean" } } },
    { "a boolean answer to a question outside the dictionary is no warning",
      OBS("\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"93671-6\"}]},"
          "\"category\":[{\"coding\":[{\"system\":\"http://terminology.hl7."
          "org/CodeSystem/observation-category\",\"code\":\"survey\"}]},"
          "{\"coding\":[{\"system\":\"http://hl7.org/fhir/us/core/CodeSystem/"
          "us-core-category\",\"code\":\"sdoh\"}]}],"
          "\"valueBoolean\":true"),
      1, { NULL },
      { { 0, "screening.items.0.text", "true" },
        { 0, "warnings", "(absent)" } } },
    { "a declined observation is marked and not scored",
      OBS("\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"71802-3\"}]},"
          "\"dataAbsentReason\":{\"coding\":[{\"system\":"
          "\"http://terminology.hl7.org/CodeSystem/data-absent-reason\","
          "\"code\":\"asked-declined\"}]}"),
      1, { NULL },
      { { 0, "screening.items.0.declined", "true" },
        { 0, "screening.items.0.positive", "(absent)" },
        { 0, "screening.domains", "[]" } } },
    { "an unknown answer (SHIN-NY 93030-5Unknown) is unanswered, not a "
      "refusal: no declined flag, its domain not screened (F23)",
      OBS("\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"93030-5\"}]},"
          "\"dataAbsentReason\":{\"coding\":[{\"system\":"
          "\"http://terminology.hl7.org/CodeSystem/data-absent-reason\","
          "\"code\":\"unknown\"}]}"),
      1, { NULL },
      { { 0, "screening.items.0.declined", "(absent)" },
        { 0, "screening.items.0.positive", "(absent)" },
        { 0, "screening.domains", "[]" } } },
    { "a multi-select item's answers sent as codings of one CodeableConcept "
      "are each an answer; the group row's POS goes to its component (F24, "
      "F25)",
      OBS("\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"96778-6\"}]},"
          "\"interpretation\":[{\"coding\":[{\"system\":"
          "\"http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation\","
          "\"code\":\"POS\"}]}],\"component\":[{\"code\":{\"coding\":[{\"system\":"
          "\"http://loinc.org\",\"code\":\"96778-6\"}]},\"valueCodeableConcept\":"
          "{\"coding\":[{\"code\":\"LA28580-1\"},{\"code\":\"LA31998-0\"},"
          "{\"system\":\"http://loinc.org\",\"code\":\"LA32001-2\"}]}}]"),
      2, { NULL, "screening.positive" },
      { { 0, "screening.items.0.answers",
          "[\"LA28580-1\",\"LA31998-0\",\"LA32001-2\"]" },
        { 0, "screening.items.0.positive", "true" },
        { 0, "screening.items.0.sender_positive", "true" },
        { 0, "screening.items.1", "(absent)" } } },
    { "codings of another system beside the answer are its translations, "
      "not more answers (F24)",
      OBS("\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"96778-6\"}]},"
          "\"valueCodeableConcept\":{\"coding\":[{\"system\":\"http://loinc.org\","
          "\"code\":\"LA9-3\"},{\"system\":\"http://snomed.info/sct\","
          "\"code\":\"260413007\"}]}"),
      1, { NULL },
      { { 0, "screening.items.0.answers", "[\"LA9-3\"]" },
        { 0, "screening.items.0.positive", "false" } } },
    { "a questionnaire answer that is a date is the answer, not a refusal "
      "(SHIN-NY outreach date, F28; beside a question the dictionary "
      "knows, else the response is context: F1722)",
      "{\"resourceType\":\"QuestionnaireResponse\",\"id\":\"q2\","
      "\"status\":\"completed\",\"subject\":{\"reference\":\"Patient/p1\"},"
      "\"authored\":\"2024-01-01T00:00:00Z\",\"item\":[{\"linkId\":"
      "\"patient-assessment-outreach-date\",\"answer\":[{\"valueDate\":"
      "\"2024-02-01\"}]},{\"linkId\":\"t\",\"answer\":[{\"valueDateTime\":"
      "\"2024-02-20T10:00:00Z\"}]},{\"linkId\":\"/88122-7\",\"answer\":"
      "[{\"valueCoding\":{\"code\":\"LA28398-8\"}}]}]}",
      1, { NULL },
      { { 0, "screening.items.0.text", "2024-02-01" },
        { 0, "screening.items.0.declined", "(absent)" },
        { 0, "screening.items.1.text", "2024-02-20T10:00:00Z" } } },
    { "an answer of a type the item has no field for (a Reference: NHS "
      "e-RS) is answered, never declined, with a warning; a URI is its text "
      "(F76; beside a question the dictionary knows: F1722)",
      "{\"resourceType\":\"QuestionnaireResponse\",\"id\":\"q3\","
      "\"status\":\"completed\",\"subject\":{\"reference\":\"Patient/p1\"},"
      "\"authored\":\"2024-01-01T00:00:00Z\",\"item\":[{\"linkId\":\"3.6\","
      "\"item\":[{\"linkId\":\"3.6.1\",\"answer\":[{\"valueReference\":"
      "{\"identifier\":{\"value\":\"021600556514\"},\"display\":\"x\"}}]}]},"
      "{\"linkId\":\"u\",\"answer\":[{\"valueUri\":\"http://x.org/a\"}]},"
      "{\"linkId\":\"f\",\"answer\":[{\"valueAttachment\":{\"title\":"
      "\"a\"}}]},{\"linkId\":\"/88122-7\",\"answer\":[{\"valueCoding\":"
      "{\"code\":\"LA28398-8\"}}]}]}",
      1, { NULL },
      { { 0, "screening.items.0.question", "3.6.1" },
        { 0, "screening.items.0.declined", "(absent)" },
        { 0, "screening.items.1.text", "http://x.org/a" },
        { 0, "screening.items.2.declined", "(absent)" },
        { 0, "warnings.0.field",
          "QuestionnaireResponse.item[0].item[0].answer[0].valueReference" } } },
    { "a questionnaire response with nested groups is scored and derives "
      "the Hunger Vital Sign",
      "{\"resourceType\":\"QuestionnaireResponse\",\"id\":\"q1\","
      "\"status\":\"completed\",\"subject\":{\"reference\":\"Patient/p1\"},"
      "\"authored\":\"2026-01-15T09:30:00-05:00\",\"item\":[{\"linkId\":\"g\","
      "\"item\":[{\"linkId\":\"/88122-7\",\"answer\":[{\"valueCoding\":"
      "{\"code\":\"LA28398-8\"}}]},{\"linkId\":\"/88123-5\",\"answer\":"
      "[{\"valueCoding\":{\"code\":\"LA6729-3\"}}]}]}]}",
      2, { NULL, "screening.positive" },
      { { 0, "occurred_at", "2026-01-15T09:30:00-05:00" },
        { 0, "screening.instrument", "88121-9" },
        { 0, "screening.items.2.question", "88124-3" },
        { 0, "screening.items.2.answer", "LA19952-3" },
        { 0, "screening.items.2.derived", "true" } } },
    { "an unfinished questionnaire response makes no event",
      "{\"resourceType\":\"QuestionnaireResponse\",\"status\":\"in-progress\","
      "\"subject\":{\"reference\":\"Patient/p1\"}}",
      0, { NULL }, { { 0 } } },
    { "a retracted observation makes no event",
      "{\"resourceType\":\"Observation\",\"status\":\"entered-in-error\","
      "\"code\":{\"coding\":[{\"code\":\"88122-7\"}]},"
      "\"subject\":{\"reference\":\"Patient/p1\"}}",
      0, { NULL }, { { 0 } } },
    { "meta.security labels and sud diagnoses become sensitivity",
      "{\"resourceType\":\"Condition\",\"id\":\"c1\",\"meta\":{\"security\":"
      "[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-Confidentiality\","
      "\"code\":\"R\"}]},\"subject\":{\"reference\":\"Patient/p1\"},"
      "\"code\":{\"coding\":[{\"system\":\"http://hl7.org/fhir/sid/icd-10-cm\","
      "\"code\":\"F11.20\"}]}}",
      1, { "condition.recorded" },
      { { 0, "sensitivity", "[\"restricted\",\"sud\"]" } } },
    /* shaped as the SHIFT Task Force's demo OUD Condition
     * (SHIFT-Task-Force/demo-fhir-data input/fsh/behavioral/OUD.fsh, as
     * sayan801/demo-fhir-data codes it): WHO ICD-10 F11.11 (sud since the
     * classifier is shared, F39: ICD-10's F10-F19 are the same block in
     * both) beside SNOMED CT 5602001 Opioid abuse, a member of the eCQM
     * value set Substance Use Disorder; one label */
    { "a substance use disorder coded in snomed ct is labelled sud",
      "{\"resourceType\":\"Condition\",\"id\":\"c2\",\"subject\":"
      "{\"reference\":\"Patient/p1\"},\"clinicalStatus\":{\"coding\":"
      "[{\"system\":\"http://terminology.hl7.org/CodeSystem/condition-clinical\","
      "\"code\":\"active\"}]},\"code\":{\"coding\":[{\"system\":"
      "\"http://hl7.org/fhir/sid/icd-10\",\"code\":\"F11.11\"},"
      "{\"system\":\"http://snomed.info/sct\",\"code\":\"5602001\","
      "\"display\":\"Opioid abuse\"}]},\"recordedDate\":\"2025-04-06\"}",
      1, { "condition.recorded" },
      { { 0, "sensitivity", "[\"sud\"]" } } },
    /* F39: ICD-9-CM 303.90 (alcohol dependence), as a Condition converted
     * from pre-2015 claims codes it, by its FHIR URI and by the C-CDA OID
     * with and without the dot: sud, as HL7 v2 DG1s already were (F36) */
    { "an icd-9-cm substance use condition is labelled sud",
      "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":"
      "\"Patient/p1\"},\"code\":{\"coding\":[{\"system\":"
      "\"http://hl7.org/fhir/sid/icd-9-cm\",\"code\":\"303.90\","
      "\"display\":\"Alcohol dependence\"}]}}",
      1, { "condition.recorded" },
      { { 0, "sensitivity", "[\"sud\"]" } } },
    { "an icd-9-cm code by its oid, no dot, is labelled sud",
      "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":"
      "\"Patient/p1\"},\"code\":{\"coding\":[{\"system\":"
      "\"urn:oid:2.16.840.1.113883.6.103\",\"code\":\"30400\"}]}}",
      1, { "condition.recorded" },
      { { 0, "sensitivity", "[\"sud\"]" } } },
    { "an icd-9-cm code outside 291-292 and 303-305 has no sensitivity",
      "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":"
      "\"Patient/p1\"},\"code\":{\"coding\":[{\"system\":"
      "\"http://hl7.org/fhir/sid/icd-9-cm\",\"code\":\"786.50\"}]}}",
      1, { "condition.recorded" },
      { { 0, "sensitivity", "(absent)" } } },
    { "icd-9-cm digits in another system have no sensitivity",
      "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":"
      "\"Patient/p1\"},\"code\":{\"coding\":[{\"system\":"
      "\"http://example.org/local\",\"code\":\"303.90\"}]}}",
      1, { "condition.recorded" },
      { { 0, "sensitivity", "(absent)" } } },
    { "a snomed ct condition outside the value set has no sensitivity",
      "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":"
      "\"Patient/p1\"},\"code\":{\"coding\":[{\"system\":"
      "\"http://snomed.info/sct\",\"code\":\"1297194009\"}]}}",
      1, { "condition.recorded" },
      { { 0, "sensitivity", "(absent)" } } },
    /* F80: SNOMED CT psychiatric disorders, the members of the eCQM value
     * sets of security-labels-psy-snomed.json, are psy as their ICD-10-CM
     * codes are; dementia is not, nor the organic member the table
     * leaves out */
    { "a major depressive disorder coded in snomed ct alone is labelled psy",
      "{\"resourceType\":\"Condition\",\"id\":\"c3\",\"subject\":"
      "{\"reference\":\"Patient/p1\"},\"category\":[{\"coding\":[{\"system\":"
      "\"http://terminology.hl7.org/CodeSystem/condition-category\","
      "\"code\":\"problem-list-item\"}]}],\"code\":{\"coding\":[{\"system\":"
      "\"http://snomed.info/sct\",\"code\":\"370143000\",\"display\":"
      "\"Major depressive disorder\"}]},\"recordedDate\":\"2025-04-06\"}",
      1, { "condition.recorded" },
      { { 0, "sensitivity", "[\"psy\"]" } } },
    { "a schizophrenia and an alcohol dependence coded in snomed ct are psy "
      "and sud",
      "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":"
      "\"Patient/p1\"},\"code\":{\"coding\":[{\"system\":"
      "\"http://snomed.info/sct\",\"code\":\"58214004\"},{\"system\":"
      "\"http://snomed.info/sct\",\"code\":\"66590003\"}]}}",
      1, { "condition.recorded" },
      { { 0, "sensitivity", "[\"psy\",\"sud\"]" } } },
    /* F185: a diagnosis of abuse is sdv without the sender's label, as
     * the SHIFT Task Force's demo Bundle labels its own; neglect is not */
    { "an adult physical abuse diagnosis is labelled sdv",
      "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":"
      "\"Patient/p1\"},\"code\":{\"coding\":[{\"system\":"
      "\"http://hl7.org/fhir/sid/icd-10-cm\",\"code\":\"T74.11XA\"},"
      "{\"system\":\"http://snomed.info/sct\",\"code\":\"706893006\"}]}}",
      1, { "condition.recorded" },
      { { 0, "sensitivity", "[\"sdv\"]" } } },
    { "an adult neglect diagnosis has no sensitivity",
      "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":"
      "\"Patient/p1\"},\"code\":{\"coding\":[{\"system\":"
      "\"http://hl7.org/fhir/sid/icd-10-cm\",\"code\":\"T74.01XA\"}]}}",
      1, { "condition.recorded" },
      { { 0, "sensitivity", "(absent)" } } },
    /* F189: a referral and a care plan activity tell their service and
     * the referral its reasons; a diagnosis or a SUD treatment among them
     * labels the event as the Condition or the Procedure would */
    { "a referral whose reason is a depressive disorder is labelled psy",
      "{\"resourceType\":\"ServiceRequest\",\"id\":\"sr1\",\"status\":"
      "\"active\",\"intent\":\"order\",\"subject\":{\"reference\":"
      "\"Patient/p1\"},\"code\":{\"coding\":[{\"system\":"
      "\"http://snomed.info/sct\",\"code\":\"183524004\"}]},"
      "\"reasonCode\":[{\"text\":\"low mood\"},{\"coding\":[{\"system\":"
      "\"http://hl7.org/fhir/sid/icd-10-cm\",\"code\":\"F32.9\"}]}]}",
      1, { "referral.created" },
      { { 0, "sensitivity", "[\"psy\"]" } } },
    { "a referral to alcoholism counseling is labelled sud",
      "{\"resourceType\":\"ServiceRequest\",\"id\":\"sr2\",\"status\":"
      "\"active\",\"intent\":\"order\",\"subject\":{\"reference\":"
      "\"Patient/p1\"},\"code\":{\"coding\":[{\"system\":"
      "\"http://snomed.info/sct\",\"code\":\"24165007\"}]}}",
      1, { "referral.created" },
      { { 0, "sensitivity", "[\"sud\"]" } } },
    { "a care plan activity of alcoholism counseling is labelled sud",
      "{\"resourceType\":\"CarePlan\",\"id\":\"cp1\",\"status\":"
      "\"active\",\"intent\":\"plan\",\"subject\":{\"reference\":"
      "\"Patient/p1\"},\"activity\":[{\"detail\":{\"status\":"
      "\"scheduled\",\"code\":{\"coding\":[{\"system\":"
      "\"http://snomed.info/sct\",\"code\":\"24165007\"}]}}}]}",
      1, { "careplan.updated" },
      { { 0, "sensitivity", "[\"sud\"]" } } },
    /* F2001: CPT's psychiatry section and HCPCS Level II's behavioral
     * health and alcohol and drug services label the request or the
     * procedure that codes them, under either system (F1947: senders put
     * HCPCS codes under CPT's URI) or CPT's OID */
    { "a referral coded only cpt 90791 is labelled psy",
      "{\"resourceType\":\"ServiceRequest\",\"id\":\"sr4\",\"status\":"
      "\"active\",\"intent\":\"order\",\"subject\":{\"reference\":"
      "\"Patient/p1\"},\"code\":{\"coding\":[{\"system\":"
      "\"http://www.ama-assn.org/go/cpt\",\"code\":\"90791\"}]}}",
      1, { "referral.created" },
      { { 0, "sensitivity", "[\"psy\"]" } } },
    { "a referral for psychotherapy by cpt's oid is labelled psy",
      "{\"resourceType\":\"ServiceRequest\",\"id\":\"sr5\",\"status\":"
      "\"active\",\"intent\":\"order\",\"subject\":{\"reference\":"
      "\"Patient/p1\"},\"code\":{\"coding\":[{\"system\":"
      "\"urn:oid:2.16.840.1.113883.6.12\",\"code\":\"90899\"}]}}",
      1, { "referral.created" },
      { { 0, "sensitivity", "[\"psy\"]" } } },
    { "a procedure of hcpcs h0020 methadone is labelled sud in its care plan "
      "event",
      "{\"resourceType\":\"Procedure\",\"id\":\"pr9\",\"status\":"
      "\"completed\",\"subject\":{\"reference\":\"Patient/p1\"},"
      "\"code\":{\"coding\":[{\"system\":"
      "\"https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets\","
      "\"code\":\"H0020\"}]}}",
      1, { "careplan.updated" },
      { { 0, "sensitivity", "[\"sud\"]" } } },
    { "an hcpcs alcohol and drug assessment sent under cpt is labelled sud",
      "{\"resourceType\":\"ServiceRequest\",\"id\":\"sr6\",\"status\":"
      "\"active\",\"intent\":\"order\",\"subject\":{\"reference\":"
      "\"Patient/p1\"},\"code\":{\"coding\":[{\"system\":"
      "\"http://www.ama-assn.org/go/cpt\",\"code\":\"H0001\"}]}}",
      1, { "referral.created" },
      { { 0, "sensitivity", "[\"sud\"]" } } },
    { "a referral for transport or supported housing in hcpcs has no "
      "sensitivity",
      "{\"resourceType\":\"ServiceRequest\",\"id\":\"sr7\",\"status\":"
      "\"active\",\"intent\":\"order\",\"subject\":{\"reference\":"
      "\"Patient/p1\"},\"code\":{\"coding\":[{\"system\":"
      "\"http://www.ama-assn.org/go/cpt\",\"code\":\"T2003\"},"
      "{\"system\":\"urn:oid:2.16.840.1.113883.6.285\",\"code\":"
      "\"H0043\"},{\"system\":\"http://www.ama-assn.org/go/cpt\","
      "\"code\":\"90900\"}]}}",
      1, { "referral.created" },
      { { 0, "sensitivity", "(absent)" } } },
    { "a referral to psychiatry with no reason has no sensitivity",
      "{\"resourceType\":\"ServiceRequest\",\"id\":\"sr3\",\"status\":"
      "\"active\",\"intent\":\"order\",\"subject\":{\"reference\":"
      "\"Patient/p1\"},\"code\":{\"coding\":[{\"system\":"
      "\"http://snomed.info/sct\",\"code\":\"183524004\"}]}}",
      1, { "referral.created" },
      { { 0, "sensitivity", "(absent)" } } },
    { "a dementia coded in snomed ct has no sensitivity",
      "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":"
      "\"Patient/p1\"},\"code\":{\"coding\":[{\"system\":"
      "\"http://snomed.info/sct\",\"code\":\"52448006\",\"display\":"
      "\"Dementia\"}]}}",
      1, { "condition.recorded" },
      { { 0, "sensitivity", "(absent)" } } },
    { "the organic bipolar disorder the psy table leaves out has no "
      "sensitivity",
      "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":"
      "\"Patient/p1\"},\"code\":{\"coding\":[{\"system\":"
      "\"http://snomed.info/sct\",\"code\":\"231444002\"}]}}",
      1, { "condition.recorded" },
      { { 0, "sensitivity", "(absent)" } } },
    /* F160: the depressive disorders of CMS2's "Depression Diagnosis"
     * that no other table has (security-labels-psy-depression-snomed.json),
     * the parent concept "Depressive disorder" among them, are psy; the
     * mood disorders due to a general medical condition are not */
    { "a depressive disorder coded in snomed ct alone is labelled psy",
      "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":"
      "\"Patient/p1\"},\"code\":{\"coding\":[{\"system\":"
      "\"http://snomed.info/sct\",\"code\":\"35489007\",\"display\":"
      "\"Depressive disorder\"}]},\"recordedDate\":\"2005-02-12\"}",
      1, { "condition.recorded" },
      { { 0, "sensitivity", "[\"psy\"]" } } },
    { "a mixed anxiety and depressive disorder in snomed ct is labelled psy",
      "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":"
      "\"Patient/p1\"},\"code\":{\"coding\":[{\"system\":"
      "\"http://snomed.info/sct\",\"code\":\"231504006\"}]}}",
      1, { "condition.recorded" },
      { { 0, "sensitivity", "[\"psy\"]" } } },
    { "a mood disorder due to a general medical condition has no "
      "sensitivity",
      "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":"
      "\"Patient/p1\"},\"code\":{\"coding\":[{\"system\":"
      "\"http://snomed.info/sct\",\"code\":\"75837004\"}]}}",
      1, { "condition.recorded" },
      { { 0, "sensitivity", "(absent)" } } },
    { "a Z code gives the condition its domain and no sensitivity",
      "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":\"Patient/p1\"},"
      "\"code\":{\"coding\":[{\"system\":\"http://hl7.org/fhir/sid/icd-10-cm\","
      "\"code\":\"Z59.01\"}]}}",
      1, { "condition.recorded" },
      { { 0, "condition.domain", "homelessness" },
        { 0, "sensitivity", "(absent)" } } },
    { "Bundle.meta.security applies to every event",
      "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"meta\":"
      "{\"security\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\","
      "\"code\":\"42CFRPart2\"}]},\"entry\":[{\"resource\":" GOAL_X
      "\"subject\":{\"reference\":\"Patient/p1\"}}}]}",
      1, { "goal.updated" },
      { { 0, "sensitivity", "[\"sud\"]" } } },
    { "references resolve by urn:uuid and by relative id",
      "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
      "{\"fullUrl\":\"urn:uuid:11111111-1111-1111-1111-111111111111\",\"resource\":"
      "{\"resourceType\":\"Patient\",\"id\":\"p9\",\"birthDate\":\"1970-01-01\"}},"
      "{\"resource\":{\"resourceType\":\"Goal\",\"lifecycleStatus\":\"active\","
      "\"description\":{\"text\":\"x\"},\"subject\":{\"reference\":"
      "\"urn:uuid:11111111-1111-1111-1111-111111111111\"}}},"
      "{\"resource\":{\"resourceType\":\"Goal\",\"lifecycleStatus\":\"active\","
      "\"description\":{\"text\":\"y\"},\"subject\":{\"reference\":\"Patient/p9\"}}}]}",
      2, { "goal.updated", "goal.updated" },
      { { 0, "patient.birth_date", "1970-01-01" },
        { 1, "patient.birth_date", "1970-01-01" } } },
    { "hasMember cycles and repeats are visited once (b is listed twice "
      "but counted once)",
      "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":["
      "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"a\","
      "\"status\":\"final\",\"subject\":{\"reference\":\"Patient/p\"},"
      "\"code\":{\"coding\":[{\"code\":\"96777-8\"}]},"
      "\"hasMember\":[{\"reference\":\"Observation/b\"},"
      "{\"reference\":\"Observation/b\"},{\"reference\":\"Observation/a\"}]}},"
      "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"b\","
      "\"status\":\"final\",\"subject\":{\"reference\":\"Patient/p\"},"
      "\"code\":{\"coding\":[{\"code\":\"93030-5\"}]},"
      "\"valueCodeableConcept\":{\"coding\":[{\"code\":\"LA33-6\"}]},"
      "\"hasMember\":[{\"reference\":\"Observation/a\"}]}}]}",
      2, { NULL },
      { { 0, "screening.items.1.question", "(absent)" },
        { 0, "screening.items.0.positive", "true" } } },
    { "loose items of one patient in a bundle form one screening, "
      "positive (5+5+1+1 = 12)",
      "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":["
      "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"a\",\"status\":"
      "\"final\",\"subject\":{\"reference\":\"Patient/p\"},\"code\":{\"coding\":"
      "[{\"system\":\"http://loinc.org\",\"code\":\"95618-5\"}]},"
      "\"valueCodeableConcept\":{\"coding\":[{\"code\":\"LA6482-9\"}]}}},"
      "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"b\",\"status\":"
      "\"final\",\"subject\":{\"reference\":\"Patient/p\"},\"code\":{\"coding\":"
      "[{\"system\":\"http://loinc.org\",\"code\":\"95617-7\"}]},"
      "\"valueCodeableConcept\":{\"coding\":[{\"code\":\"LA6482-9\"}]}}},"
      "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"c\",\"status\":"
      "\"final\",\"subject\":{\"reference\":\"Patient/p\"},\"code\":{\"coding\":"
      "[{\"system\":\"http://loinc.org\",\"code\":\"95616-9\"}]},"
      "\"valueCodeableConcept\":{\"coding\":[{\"code\":\"LA6270-8\"}]}}},"
      "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"d\",\"status\":"
      "\"final\",\"subject\":{\"reference\":\"Patient/p\"},\"code\":{\"coding\":"
      "[{\"system\":\"http://loinc.org\",\"code\":\"95615-1\"}]},"
      "\"valueCodeableConcept\":{\"coding\":[{\"code\":\"LA6270-8\"}]}}}]}",
      2, { NULL },
      { { 0, "screening.scores.0.value", "12" },
        /* the total named as C-CDA and CSV name it (F503) */
        { 0, "screening.scores.0.display", "Total score [HITS]" },
        { 0, "screening.positive_domains", "[\"sdoh-category-unspecified\"]" } } },
    { "a consent gives its provision, actors and policy",
      "{\"resourceType\":\"Consent\",\"id\":\"c1\",\"status\":\"active\","
      "\"scope\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/"
      "consentscope\",\"code\":\"patient-privacy\"}]},\"category\":[{\"coding\":"
      "[{\"system\":\"http://loinc.org\",\"code\":\"59284-0\"}]}],"
      "\"patient\":{\"reference\":\"Patient/p1\"},\"dateTime\":\"2026-01-15\","
      "\"policy\":[{\"uri\":\"http://www.ecfr.gov/cgi-bin/text-idx?node=pt42.1.2\"}],"
      "\"provision\":{\"type\":\"permit\",\"period\":{\"start\":\"2026-01-15\","
      "\"end\":\"2027-01-15\"},\"actor\":[{\"role\":{\"coding\":[{\"code\":\"IRCP\"}]},"
      "\"reference\":{\"reference\":\"Organization/cbo1\"}}],\"purpose\":[{\"system\":"
      "\"http://terminology.hl7.org/CodeSystem/v3-ActReason\",\"code\":\"TREAT\"}]}}",
      1, { "consent.updated" },
      { { 0, "consent.provision", "permit" },
        { 0, "consent.actors.0.reference", "Organization/cbo1" },
        { 0, "consent.actors.0.role.code", "IRCP" },
        { 0, "consent.period.end", "2027-01-15" },
        { 0, "consent.purposes.0.code", "TREAT" },
        { 0, "occurred_at", "2026-01-15" } } },
    { "a care plan lists its activities, goals and domain",
      "{\"resourceType\":\"CarePlan\",\"id\":\"cp\",\"status\":\"active\","
      "\"intent\":\"plan\",\"subject\":{\"reference\":\"Patient/p1\"},"
      "\"category\":[{\"coding\":[{\"system\":\"" GRAVITY "\",\"code\":"
      "\"housing-instability\"}]}],\"goal\":[{\"reference\":\"Goal/g1\"}],"
      "\"activity\":[{\"reference\":{\"reference\":\"ServiceRequest/s1\"}},"
      "{\"detail\":{\"status\":\"scheduled\",\"code\":{\"text\":\"housing navigation\"}}}]}",
      1, { "careplan.updated" },
      { { 0, "careplan.domains", "[\"housing-instability\"]" },
        { 0, "careplan.goals", "[\"Goal/g1\"]" },
        { 0, "careplan.activities.0.reference", "ServiceRequest/s1" },
        { 0, "careplan.activities.1.status", "scheduled" } } },
    { "a patient task (questionnaire) is context, no event",
      "{\"resourceType\":\"Task\",\"status\":\"completed\","
      "\"intent\":\"order\",\"code\":{\"coding\":[{\"code\":"
      "\"complete-questionnaire\"}]},\"for\":{\"reference\":\"Patient/p\"}}",
      0, { NULL }, { { 0 } } },
    { "a cancelled referral task is terminal, keyed by its request",
      "{\"resourceType\":\"Task\",\"status\":\"cancelled\","
      "\"intent\":\"order\",\"focus\":{\"reference\":"
      "\"ServiceRequest/s\"},\"for\":{\"reference\":\"Patient/p\"},"
      "\"lastModified\":\"2026-02-01T10:00:00Z\"}",
      1, { "referral.updated" },
      { { 0, "referral.terminal", "true" },
        { 0, "referral.id", "ServiceRequest/s" },
        { 0, "occurred_at", "2026-02-01T10:00:00Z" } } },
    { "a questionnaire URL names the instrument",
      "{\"resourceType\":\"QuestionnaireResponse\",\"status\":\"completed\","
      "\"questionnaire\":\"http://loinc.org/q/96777-8|2.0\","
      "\"subject\":{\"reference\":\"Patient/p\"},\"item\":[{\"linkId\":\"1\","
      "\"code\":[{\"system\":\"http://loinc.org\",\"code\":\"93030-5\"}],"
      "\"answer\":[{\"valueCoding\":{\"code\":\"LA33-6\"}}]}]}",
      2, { "screening.completed", "screening.positive" },
      { { 0, "screening.instrument", "96777-8" },
        /* a completed response is a final result, as a panel
         * Observation's status says it (F504) */
        { 0, "screening.status", "final" },
        { 0, "screening.positive_domains", "[\"transportation-insecurity\"]" } } },
    { "a panel's components are its items and the panel code the instrument",
      OBS("\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":"
          "\"96777-8\"}]},\"component\":[{\"code\":{\"coding\":[{\"system\":"
          "\"http://loinc.org\",\"code\":\"96779-4\"}]},\"valueCodeableConcept\":"
          "{\"coding\":[{\"code\":\"LA32002-0\"}]}}]"),
      2, { NULL },
      { { 0, "screening.instrument", "96777-8" },
        { 0, "screening.items.0.question", "96779-4" },
        { 0, "screening.items.0.positive", "true" } } },
    { "a document bundle is read like a collection",
      "{\"resourceType\":\"Bundle\",\"type\":\"document\",\"entry\":["
      "{\"resource\":{\"resourceType\":\"Composition\",\"status\":\"final\"}},"
      "{\"resource\":" GOAL_X "\"subject\":{\"reference\":\"Patient/p\"}}}]}",
      1, { "goal.updated" },
      { { 0, "source.resource", "Bundle.entry[1].resource" } } },
    { "a SHIN-NY panel is found by its local code beside LOINC 100698-0",
      "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
      "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"g\",\"status\":"
      "\"final\",\"subject\":{\"reference\":\"Patient/p\"},\"code\":{\"coding\":["
      "{\"system\":\"http://loinc.org\",\"code\":\"100698-0\"},{\"system\":"
      "\"http://shinny.org/us/ny/hrsn/CodeSystem/NYS-HRSN-Questionnaire\","
      "\"code\":\"NYS-AHC-HRSN\"}]},\"hasMember\":[{\"reference\":\"Observation/i\"}]}},"
      "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"i\",\"status\":"
      "\"final\",\"subject\":{\"reference\":\"Patient/p\"},\"code\":{\"coding\":"
      "[{\"system\":\"http://loinc.org\",\"code\":\"96782-8\"}]},"
      "\"valueCodeableConcept\":{\"coding\":[{\"code\":\"LA33-6\"}]}}}]}",
      2, { NULL },
      { { 0, "screening.instrument", "NYSAHCHRSN" },
        { 0, "screening.items.0.positive", "true" } } },
    { "a Procedure alone is a care-plan activity: its plan, goal, domain, "
      "performer and when",
      "{\"resourceType\":\"Procedure\",\"id\":\"pr1\",\"status\":\"completed\","
      "\"extension\":[{\"url\":\"http://hl7.org/fhir/StructureDefinition/"
      "resource-pertainsToGoal\",\"valueReference\":{\"reference\":\"Goal/g1\"}}],"
      "\"basedOn\":[{\"reference\":\"CarePlan/cp1\"},{\"reference\":"
      "\"ServiceRequest/sr9\"}],\"category\":{\"coding\":[{\"system\":\"" GRAVITY
      "\",\"code\":\"transportation-insecurity\"}]},\"code\":{\"text\":\"ride\"},"
      "\"subject\":{\"reference\":\"Patient/p\"},\"performedPeriod\":{\"start\":"
      "\"2026-02-03T08:00:00-05:00\",\"end\":\"2026-02-03T09:00:00-05:00\"},"
      "\"performer\":[{\"actor\":{\"reference\":\"Practitioner/x\"},"
      "\"onBehalfOf\":{\"reference\":\"Organization/rides\"}}]}",
      1, { "careplan.updated" },
      { { 0, "careplan.id", "CarePlan/cp1" },
        { 0, "careplan.goals", "[\"Goal/g1\"]" },
        { 0, "careplan.domains", "[\"transportation-insecurity\"]" },
        { 0, "careplan.activities.0.reference", "Procedure/pr1" },
        { 0, "careplan.activities.0.performer", "Practitioner/x" },
        { 0, "careplan.activities.0.performed_period.end",
          "2026-02-03T09:00:00-05:00" },
        { 0, "careplan.activities.0.based_on",
          "[\"CarePlan/cp1\",\"ServiceRequest/sr9\"]" },
        { 0, "occurred_at", "2026-02-03T08:00:00-05:00" } } },
    { "a Procedure basedOn a ServiceRequest of the message is told in that "
      "referral's event, not in an event of its own",
      "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":["
      "{\"resource\":{\"resourceType\":\"Procedure\",\"id\":\"pr2\","
      "\"status\":\"in-progress\",\"basedOn\":[{\"reference\":\"ServiceRequest/s\"}],"
      "\"code\":{\"text\":\"case management\"},\"subject\":{\"reference\":\"Patient/p\"}}},"
      "{\"resource\":{\"resourceType\":\"ServiceRequest\",\"id\":\"s\",\"status\":"
      "\"completed\",\"intent\":\"order\",\"subject\":{\"reference\":\"Patient/p\"},"
      "\"requester\":{\"reference\":\"Organization/o\"}}},"
      "{\"resource\":{\"resourceType\":\"Organization\",\"id\":\"o\",\"name\":"
      "\"Clinic\",\"identifier\":[{\"system\":\"http://hl7.org/fhir/sid/us-npi\","
      "\"value\":\"1234567893\"}]}}]}",
      1, { "referral.updated" },
      { { 0, "source.resource", "ServiceRequest/s" },
        { 0, "referral.performed.0.procedure", "Procedure/pr2" },
        { 0, "referral.performed.0.status", "in-progress" },
        { 0, "referral.organizations.0.role", "requester" },
        { 0, "referral.organizations.0.name", "Clinic" },
        { 0, "referral.organizations.0.identifiers.0.value", "1234567893" } } },
    { "a substance use disorder treatment told in a referral's event labels "
      "that event sud (eCQM value set Substance Use Disorder Treatment)",
      "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":["
      "{\"resource\":{\"resourceType\":\"Procedure\",\"id\":\"pr3\","
      "\"status\":\"in-progress\",\"basedOn\":[{\"reference\":\"ServiceRequest/s\"}],"
      "\"code\":{\"coding\":[{\"system\":\"http://snomed.info/sct\",\"code\":"
      "\"20093000\"}]},\"subject\":{\"reference\":\"Patient/p\"}}},"
      "{\"resource\":{\"resourceType\":\"ServiceRequest\",\"id\":\"s\",\"status\":"
      "\"active\",\"intent\":\"order\",\"subject\":{\"reference\":\"Patient/p\"}}}]}",
      1, { "referral.created" },
      { { 0, "referral.performed.0.procedure", "Procedure/pr3" },
        { 0, "sensitivity", "[\"sud\"]" } } },
    { "a care plan's author Organization of the message is resolved",
      "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":["
      "{\"fullUrl\":\"urn:uuid:0a\",\"resource\":{\"resourceType\":"
      "\"Organization\",\"id\":\"cbo\",\"name\":\"Eastside Pantry\",\"type\":"
      "[{\"coding\":[{\"code\":\"cg\"}]}]}},{\"resource\":{\"resourceType\":"
      "\"CarePlan\",\"id\":\"cp\",\"status\":\"active\",\"intent\":\"plan\","
      "\"subject\":{\"reference\":\"Patient/p\"},\"author\":{\"reference\":"
      "\"urn:uuid:0a\"}}}]}",
      1, { "careplan.updated" },
      { { 0, "careplan.author", "Organization/cbo" },
        { 0, "careplan.organizations.0.role", "author" },
        { 0, "careplan.organizations.0.reference", "Organization/cbo" },
        { 0, "careplan.organizations.0.name", "Eastside Pantry" },
        { 0, "careplan.organizations.0.type", "cg" } } },
    { "an Organization alone is accepted with no event",
      "{\"resourceType\":\"Organization\",\"id\":\"o\",\"name\":\"CBO\"}",
      0, { NULL }, { { 0 } } },
    { "a bundle of Patients only is accepted with no event",
      "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
      "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"a\"}},"
      "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"b\"}}]}",
      0, { NULL }, { { 0 } } },
};

Test(fhir, every_inline_sample_gives_its_event_types_and_paths)
{
    for (size_t i = 0; i < sizeof(SAMPLES) / sizeof(SAMPLES[0]); i++) {
        const struct sample *s = &SAMPLES[i];
        struct canon_list out;
        struct hub_err err;
        int rc = run(s->json, &out, NULL, &err);
        cr_assert_eq(rc, HUB_OK, "%s: rc %d at %s: %s", s->claim, rc,
                     err.field, err.what ? err.what : "");
        cr_assert_eq(out.n, s->n_events, "%s: %zu events", s->claim, out.n);
        for (size_t k = 0; k < 3 && k < out.n; k++)
            if (s->types[k])
                cr_assert_str_eq(out.ev[k].type, s->types[k], "%s: event %zu",
                                 s->claim, k);
        for (size_t k = 0; k < 8 && s->checks[k].path; k++) {
            const struct check *c = &s->checks[k];
            cr_assert_str_eq(field_of(&out, (size_t)c->ev, c->path), c->want,
                             "%s: event %d %s", s->claim, c->ev, c->path);
        }
    }
}

/* what the table cannot say: the refusals beside the samples above */

Test(fhir, consent_with_a_status_out_of_its_value_set_is_refused)
{
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run("{\"resourceType\":\"Consent\",\"status\":\"maybe\"}", &out,
                     NULL, &err), HUB_EINVALID);
    cr_assert_str_eq(err.field, "Consent.status");
}

Test(fhir, referral_task_status_must_be_a_fhir_taskstatus)
{
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run("{\"resourceType\":\"Task\",\"status\":\"canceled\","
                     "\"intent\":\"order\",\"focus\":{\"reference\":"
                     "\"ServiceRequest/s\"},\"for\":{\"reference\":\"Patient/p\"}}",
                     &out, NULL, &err), HUB_EINVALID,
                 "the IG prose spells it canceled; FHIR says cancelled");
    cr_assert_str_eq(err.field, "Task.status");
}

/* JSON between systems is UTF-8 (RFC 8259 8.1). A body with a Latin-1
 * byte was read with U+FFFD in its place ("Sin hogar \uFFFD" in the
 * condition): refused instead, at the byte, whatever follows it. */
Test(fhir, a_body_that_is_not_utf8_is_refused_at_the_byte)
{
    struct canon_list out;
    struct hub_err err;
    const char *j =
        "{\"resourceType\":\"Condition\",\"id\":\"c1\",\"subject\":"
        "{\"reference\":\"Patient/p1\"},\"code\":{\"coding\":[{\"system\":"
        "\"http://hl7.org/fhir/sid/icd-10-cm\",\"code\":\"Z59.0\"}],"
        "\"text\":\"Sin hogar \xf1" "o\"}}";
    cr_assert_eq(run(j, &out, NULL, &err), HUB_ESYNTAX);
    cr_assert_eq(out.n, 0);
    cr_assert_str_eq(err.field, "$");
    cr_assert_eq(err.offset, (size_t)(strchr(j, '\xf1') - j));
    cr_assert_str_eq(err.what, "body is not UTF-8 text");
    /* the same in UTF-8, a 4-byte character too, is read */
    const char *u =
        "{\"resourceType\":\"Condition\",\"id\":\"c1\",\"subject\":"
        "{\"reference\":\"Patient/p1\"},\"code\":{\"coding\":[{\"system\":"
        "\"http://hl7.org/fhir/sid/icd-10-cm\",\"code\":\"Z59.0\"}],"
        "\"text\":\"Sin hogar \xc3\xb1o \xf0\x9f\x8f\xa0\"}}";
    cr_assert_eq(run(u, &out, NULL, &err), HUB_OK);
    cr_assert_eq(out.n, 1);
    cr_assert(strstr(out.ev[0].json.p, "Sin hogar \xc3\xb1o \xf0\x9f\x8f\xa0"));
}

/* history and the response types are a server's record of what it did,
 * not data sent to the hub (searchset and message are read since F14) */
Test(fhir, history_and_response_bundles_are_not_supported)
{
    static const char *const types[] = { "history", "batch-response",
                                         "transaction-response" };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        char j[128];
        struct canon_list out;
        struct hub_err err;
        snprintf(j, sizeof(j), "{\"resourceType\":\"Bundle\",\"type\":\"%s\"}",
                 types[i]);
        cr_assert_eq(run(j, &out, NULL, &err), HUB_EUNSUPPORTED, "%s",
                     types[i]);
        cr_assert_str_eq(err.field, "type");
    }
}

Test(fhir, procedure_folded_into_a_referral_task_fails_with_its_own_path)
{
    struct canon_list out;
    struct hub_err err;
    const char *j =
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        "{\"resource\":{\"resourceType\":\"Task\",\"id\":\"t\",\"status\":"
        "\"completed\",\"intent\":\"order\",\"focus\":{\"reference\":"
        "\"ServiceRequest/s\"},\"for\":{\"reference\":\"Patient/p\"},"
        "\"output\":[{\"valueReference\":{\"reference\":\"Procedure/pr\"}}]}},"
        "{\"resource\":{\"resourceType\":\"Procedure\",\"id\":\"pr\","
        "\"status\":\"done\",\"subject\":{\"reference\":\"Patient/p\"}}}]}";
    cr_assert_eq(run(j, &out, NULL, &err), HUB_EINVALID);
    cr_assert_str_eq(err.field, "entry[1].resource.status");
    cr_assert_eq(out.n, 0);
}

Test(fhir, batch_procedure_of_a_refused_referral_task_is_refused_with_it)
{
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    /* the Procedure comes first: it is refused after its Task failed */
    const char *j =
        "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
        "{\"resource\":{\"resourceType\":\"Procedure\",\"id\":\"pr\","
        "\"status\":\"completed\",\"subject\":{\"reference\":\"Patient/p\"}}},"
        "{\"resource\":{\"resourceType\":\"Task\",\"id\":\"t\",\"status\":"
        "\"done\",\"intent\":\"order\",\"focus\":{\"reference\":"
        "\"ServiceRequest/s\"},\"for\":{\"reference\":\"Patient/p\"},"
        "\"output\":[{\"valueReference\":{\"reference\":\"Procedure/pr\"}}]}},"
        "{\"resource\":" GOAL_X "\"subject\":{\"reference\":\"Patient/p\"}}}]}";
    cr_assert_eq(run(j, &out, &res, &err), HUB_OK, "%s %s", err.field, err.what);
    cr_assert_eq(res.n_failed, 2);
    cr_assert_str_eq(res.entries[1].err.field, "entry[1].resource.status");
    cr_assert_eq(res.entries[0].status, HUB_EINVALID);
    cr_assert_str_eq(res.entries[0].err.field, "entry[0].resource");
    cr_assert_str_eq(res.entries[0].err.what, "the referral it fulfils was refused");
    cr_assert_gt(res.entries[0].raw.len, 0, "quarantined with its bytes");
    cr_assert_eq(out.n, 1, "the Goal only");
}

Test(fhir, context_only_message_says_so_in_its_outcome)
{
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    struct slice oo;
    cr_assert_eq(run("{\"resourceType\":\"Organization\",\"id\":\"o\"}", &out,
                     &res, &err), HUB_OK);
    cr_assert_eq(fhir_result_outcome(&A, &res, &oo), HUB_OK);
    cr_assert_not_null(strstr(oo.p, "\"severity\":\"information\""), "%s", oo.p);
    cr_assert_not_null(strstr(oo.p, "accepted with no event"), "%s", oo.p);
    cr_assert_eq(run(GOAL_X "\"subject\":{\"reference\":\"Patient/p\"}}", &out,
                     &res, &err), HUB_OK);
    cr_assert_eq(fhir_result_outcome(&A, &res, &oo), HUB_OK);
    cr_assert_not_null(strstr(oo.p, "all entries accepted"), "%s", oo.p);
}

/* F2000 (F1944 decided): a ServiceRequest whose categories make it a
 * laboratory, imaging or surgical order is no referral: no
 * referral.created for every referral subscriber, but context with an
 * informational issue that says why. A referral-like or SDOH category
 * beside it, another code, a category of text alone or none at all keeps
 * it a referral. */
#define SR_CAT(id, cats)                                                    \
    "{\"resourceType\":\"ServiceRequest\",\"id\":\"" id "\",\"status\":"   \
    "\"active\",\"intent\":\"order\",\"subject\":{\"reference\":"          \
    "\"Patient/p1\"}" cats ",\"code\":{\"coding\":[{\"system\":"           \
    "\"http://loinc.org\",\"code\":\"9318-7\"}]}}"
#define SCT_CAT(code) "{\"coding\":[{\"system\":\"http://snomed.info/sct\"," \
                      "\"code\":\"" code "\"}]}"
Test(fhir, a_lab_imaging_or_surgical_order_is_context_not_a_referral)
{
    static const char *const orders[] = {
        SR_CAT("o1", ",\"category\":[" SCT_CAT("108252007") "]"),
        SR_CAT("o2", ",\"category\":[" SCT_CAT("363679005") "]"),
        SR_CAT("o3", ",\"category\":[" SCT_CAT("387713003") ","
                     SCT_CAT("108252007") "]"),
        /* SNOMED CT by its OID, as a converted C-CDA order sends it */
        SR_CAT("o4", ",\"category\":[{\"coding\":[{\"system\":"
                     "\"urn:oid:2.16.840.1.113883.6.96\",\"code\":"
                     "\"108252007\",\"display\":\"Laboratory procedure\"}]}]"),
    };
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    struct slice oo;
    for (size_t i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
        cr_assert_eq(run(orders[i], &out, &res, &err), HUB_OK, "%zu: %s %s",
                     i, err.field, err.what ? err.what : "");
        cr_assert_eq(out.n, 0, "%zu: no referral event", i);
        cr_assert_eq(res.entries[0].status, HUB_OK, "%zu", i);
        cr_assert_eq(res.entries[0].n_warnings, 0, "%zu: context", i);
        cr_assert_not_null(res.entries[0].note.what, "%zu", i);
        cr_assert_eq(fhir_result_outcome(&A, &res, &oo), HUB_OK);
        cr_assert_not_null(strstr(oo.p, "\"severity\":\"information\""),
                           "%s", oo.p);
        cr_assert_not_null(strstr(oo.p, "order is not a referral"), "%s",
                           oo.p);
        cr_assert_not_null(strstr(oo.p, "[\"ServiceRequest\"]"), "%s", oo.p);
    }
    static const char *const referrals[] = {
        SR_CAT("r1", ""),                                   /* none */
        SR_CAT("r2", ",\"category\":[" SCT_CAT("3457005") "]"),
        SR_CAT("r3", ",\"category\":[" SCT_CAT("409063005") "]"),
        SR_CAT("r4", ",\"category\":[" SCT_CAT("409073007") "]"),
        SR_CAT("r5", ",\"category\":[" SCT_CAT("108252007") ",{\"coding\":"
                     "[{\"system\":\"http://hl7.org/fhir/us/sdoh-clinicalcare/"
                     "CodeSystem/SDOHCC-CodeSystemTemporaryCodes\",\"code\":"
                     "\"food-insecurity\"}]}]"),
        SR_CAT("r6", ",\"category\":[{\"coding\":[{\"system\":"
                     "\"http://snomed.info/sct\",\"code\":\"108252007\"},"
                     "{\"system\":\"http://snomed.info/sct\",\"code\":"
                     "\"410606002\"}]}]"),
        SR_CAT("r7", ",\"category\":[" SCT_CAT("108252007")
                     ",{\"text\":\"referral\"}]"),
        /* the order's code under another system is no SNOMED CT order */
        SR_CAT("r8", ",\"category\":[{\"coding\":[{\"system\":"
                     "\"http://example.org/cat\",\"code\":\"108252007\"}]}]"),
    };
    for (size_t i = 0; i < sizeof(referrals) / sizeof(referrals[0]); i++) {
        cr_assert_eq(run(referrals[i], &out, &res, &err), HUB_OK,
                     "%zu: %s %s", i, err.field, err.what ? err.what : "");
        cr_assert_eq(out.n, 1, "%zu: still a referral", i);
        cr_assert_str_eq(out.ev[0].type, "referral.created", "%zu", i);
        cr_assert_null(res.entries[0].note.what, "%zu", i);
    }
    /* in a transaction: the order alone is context, the referral beside
     * it an event, and the note names the order's entry */
    const char *b =
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        "{\"resource\":" SR_CAT("o5", ",\"category\":[" SCT_CAT("108252007")
                                "]") "},"
        "{\"resource\":" SR_CAT("r9", ",\"category\":[" SCT_CAT("3457005")
                                "]") "}]}";
    cr_assert_eq(run(b, &out, &res, &err), HUB_OK, "%s %s", err.field,
                 err.what ? err.what : "");
    cr_assert_eq(out.n, 1);
    cr_assert_not_null(strstr(out.ev[0].json.p, "ServiceRequest/r9"));
    cr_assert_str_eq(res.entries[0].note.field, "entry[0].resource");
    cr_assert_null(res.entries[1].note.what);
    /* a malformed order is refused as any request is: read first */
    cr_assert_eq(run("{\"resourceType\":\"ServiceRequest\",\"id\":\"o6\","
                     "\"status\":\"bogus\",\"intent\":\"order\",\"subject\":"
                     "{\"reference\":\"Patient/p1\"},\"category\":["
                     SCT_CAT("108252007") "]}", &out, &res, &err),
                 HUB_EINVALID);
}

/* F2003 (round 139): the fulfilment Task of such an order in the same
 * message still gave referral.updated, its service read through the
 * focus. It is context as its order is; a Task whose focus is a referral,
 * or a request not in the message, is read as before. */
#define TASK_OF(id, focus)                                                  \
    "{\"resourceType\":\"Task\",\"id\":\"" id "\",\"status\":"      \
    "\"in-progress\",\"intent\":\"order\",\"code\":{\"coding\":[{"      \
    "\"code\":\"fulfill\"}]},\"focus\":{\"reference\":\"" focus "\"},"  \
    "\"for\":{\"reference\":\"Patient/p1\"}}"
Test(fhir, the_task_of_a_lab_order_is_context_as_its_order_is)
{
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    const char *b =
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        "{\"resource\":" SR_CAT("o7", ",\"category\":[" SCT_CAT("108252007")
                                "]") "},"
        "{\"resource\":" TASK_OF("t7", "ServiceRequest/o7") "},"
        "{\"resource\":" SR_CAT("r10", ",\"category\":[" SCT_CAT("3457005")
                                "]") "},"
        "{\"resource\":" TASK_OF("t10", "ServiceRequest/r10") "}]}";
    cr_assert_eq(run(b, &out, &res, &err), HUB_OK, "%s %s", err.field,
                 err.what ? err.what : "");
    cr_assert_eq(out.n, 2, "the referral and its task only");
    for (size_t i = 0; i < out.n; i++)
        cr_assert_not_null(strstr(out.ev[i].json.p, "ServiceRequest/r10"),
                           "%s", out.ev[i].json.p);
    cr_assert_not_null(res.entries[1].note.what);
    cr_assert_not_null(strstr(res.entries[1].note.what, "focus"), "%s",
                       res.entries[1].note.what);
    cr_assert_null(res.entries[3].note.what);
    /* the order not in the message: an update, as before */
    cr_assert_eq(run(TASK_OF("t8", "ServiceRequest/elsewhere"), &out, &res,
                     &err), HUB_OK);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(out.ev[0].type, "referral.updated");
}

/* F2321 (decided, round 167): a request categorised only as SNOMED CT
 * 103693007 "Diagnostic procedure" (FHIR's Procedure Category Codes; the
 * Health Care Surveys IG's chest CT order) is an order as F2000's three
 * are: context with the informational issue, and its Task in the same
 * message too. Beside a referral category, with no category, or as US
 * Core's 386053000 "Evaluation procedure", it stays a referral. */
Test(fhir, a_diagnostic_procedure_order_is_context_not_a_referral)
{
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    struct slice oo;
    /* the HCS sample's shape: display and a text of its own */
    const char *ct = SR_CAT("d1", ",\"category\":[{\"coding\":[{\"system\":"
                                  "\"http://snomed.info/sct\",\"code\":"
                                  "\"103693007\",\"display\":\"Diagnostic "
                                  "procedure (procedure)\"}],\"text\":"
                                  "\"Diagnostics Procedure\"}]");
    cr_assert_eq(run(ct, &out, &res, &err), HUB_OK, "%s %s", err.field,
                 err.what ? err.what : "");
    cr_assert_eq(out.n, 0, "no referral event");
    cr_assert_not_null(res.entries[0].note.what);
    cr_assert_eq(fhir_result_outcome(&A, &res, &oo), HUB_OK);
    cr_assert_not_null(strstr(oo.p, "imaging, diagnostic or surgical order "
                                     "is not a referral"), "%s", oo.p);
    static const char *const referrals[] = {
        SR_CAT("d2", ",\"category\":[" SCT_CAT("103693007") ","
                     SCT_CAT("3457005") "]"),
        SR_CAT("d3", ",\"category\":[" SCT_CAT("386053000") "]"),
        SR_CAT("d4", ""),
    };
    for (size_t i = 0; i < sizeof(referrals) / sizeof(referrals[0]); i++) {
        cr_assert_eq(run(referrals[i], &out, &res, &err), HUB_OK,
                     "%zu: %s %s", i, err.field, err.what ? err.what : "");
        cr_assert_eq(out.n, 1, "%zu: still a referral", i);
        cr_assert_str_eq(out.ev[0].type, "referral.created", "%zu", i);
    }
    const char *b =
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        "{\"resource\":" SR_CAT("d5", ",\"category\":[" SCT_CAT("103693007")
                                "]") "},"
        "{\"resource\":" TASK_OF("t11", "ServiceRequest/d5") "}]}";
    cr_assert_eq(run(b, &out, &res, &err), HUB_OK, "%s %s", err.field,
                 err.what ? err.what : "");
    cr_assert_eq(out.n, 0, "the order and its task are context");
    cr_assert_not_null(res.entries[1].note.what);
}

/* F2320 (round 154): R4 ServiceRequest.doNotPerform is a modifier, "true
 * indicates that the service/procedure should NOT be performed" (HRSA's
 * UDS+ examples send it, false); a request not to perform was read as a
 * referral to perform, sent to every referral subscriber. It is context
 * with an informational issue, as an order is (F2000), and so is its
 * Task in the same message; false reads as before, and a value that is
 * no boolean is refused, as a modifier the hub cannot read must be. */
#define SR_DNP(id, dnp)                                                     \
    "{\"resourceType\":\"ServiceRequest\",\"id\":\"" id "\",\"status\":"   \
    "\"active\",\"intent\":\"order\",\"doNotPerform\":" dnp ","          \
    "\"subject\":{\"reference\":\"Patient/p1\"},\"code\":{\"coding\":[{" \
    "\"system\":\"http://snomed.info/sct\",\"code\":\"467771000124109\"}]}}"
Test(fhir, a_request_not_to_perform_is_no_referral)
{
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    struct slice oo;
    cr_assert_eq(run(SR_DNP("n1", "true"), &out, &res, &err), HUB_OK,
                 "%s %s", err.field, err.what ? err.what : "");
    cr_assert_eq(out.n, 0, "no referral to perform what is not to be");
    cr_assert_eq(res.entries[0].n_warnings, 0);
    cr_assert_not_null(res.entries[0].note.what);
    cr_assert_eq(fhir_result_outcome(&A, &res, &oo), HUB_OK);
    cr_assert_not_null(strstr(oo.p, "\"severity\":\"information\""), "%s",
                       oo.p);
    cr_assert_not_null(strstr(oo.p, "doNotPerform"), "%s", oo.p);
    cr_assert_eq(run(SR_DNP("n2", "false"), &out, &res, &err), HUB_OK);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(out.ev[0].type, "referral.created");
    cr_assert_null(res.entries[0].note.what);
    cr_assert_eq(run(SR_DNP("n3", "\"true\""), &out, &res, &err),
                 HUB_EINVALID);
    cr_assert_str_eq(err.field, "ServiceRequest.doNotPerform");
    /* its Task in the message is context too; a referral's Task beside
     * it is read */
    const char *b =
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        "{\"resource\":" SR_DNP("n4", "true") "},"
        "{\"resource\":" TASK_OF("t4", "ServiceRequest/n4") "},"
        "{\"resource\":" SR_DNP("n5", "false") "},"
        "{\"resource\":" TASK_OF("t5", "ServiceRequest/n5") "}]}";
    cr_assert_eq(run(b, &out, &res, &err), HUB_OK, "%s %s", err.field,
                 err.what ? err.what : "");
    cr_assert_eq(out.n, 2, "the referral and its task only");
    for (size_t i = 0; i < out.n; i++)
        cr_assert_not_null(strstr(out.ev[i].json.p, "ServiceRequest/n5"),
                           "%s", out.ev[i].json.p);
    cr_assert_not_null(res.entries[0].note.what);
    cr_assert_not_null(res.entries[1].note.what);
    cr_assert_not_null(strstr(res.entries[1].note.what, "not to perform"),
                       "%s", res.entries[1].note.what);
    cr_assert_null(res.entries[3].note.what);
}

/* F2322: CarePlan.activity.detail.doNotPerform is a modifier ("must NOT
 * be engaged in"); it was not read, so "do not do X" went out as an
 * activity X of the plan. As C-CDA's negated planned entry (F822), such
 * an activity is none: left out, warned at the field; the plan and its
 * other activities go out. Not a boolean: refused there. */
#define CP_DNP(dnp)                                                         \
    "{\"resourceType\":\"CarePlan\",\"id\":\"cp\",\"status\":\"active\","  \
    "\"intent\":\"plan\",\"subject\":{\"reference\":\"Patient/p1\"},"       \
    "\"activity\":[{\"detail\":{\"status\":\"scheduled\",\"code\":"         \
    "{\"text\":\"not this\"},\"doNotPerform\":" dnp "}},"                   \
    "{\"detail\":{\"status\":\"scheduled\",\"code\":{\"text\":\"this\"}}}]}"
Test(fhir, an_activity_not_to_be_performed_is_no_activity_of_the_plan)
{
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    cr_assert_eq(run(CP_DNP("true"), &out, &res, &err), HUB_OK, "%s",
                 err.field);
    cr_assert_eq(out.n, 1);
    cr_expect_str_eq(field_of(&out, 0, "careplan.activities"),
                     "[{\"code\":{\"text\":\"this\"},\"status\":\"scheduled\"}]");
    const char *w = field_of(&out, 0, "warnings");
    cr_expect(strstr(w, "activity[0].detail.doNotPerform") &&
                  strstr(w, "(doNotPerform)"), "%s", w);
    cr_assert_eq(run(CP_DNP("false"), &out, &res, &err), HUB_OK);
    cr_assert_eq(out.n, 1);
    cr_expect(strstr(field_of(&out, 0, "careplan.activities"), "not this"),
              "false: the activity is read");
    cr_assert_eq(run(CP_DNP("\"true\""), &out, &res, &err), HUB_EINVALID);
    cr_expect_str_eq(err.field, "CarePlan.activity[0].detail.doNotPerform");
    cr_expect_str_eq(err.what, "expected true or false");
}
#undef CP_DNP
#undef SR_DNP
#undef TASK_OF

/* F2540: an activity of which the hub reads nothing (Chile's MINSAL plan
 * names its prescription by a reference with a display alone) was written
 * {}, which the careplan schema refuses (minProperties 1). As C-CDA's
 * planned entry that says nothing (F2341): left out, warned at the
 * activity; the plan and its other activities go out. */
#define CP_ACTS(acts)                                                       \
    "{\"resourceType\":\"CarePlan\",\"id\":\"cp\",\"status\":\"active\","  \
    "\"intent\":\"plan\",\"subject\":{\"reference\":\"Patient/p1\"},"       \
    "\"activity\":[" acts "]}"
Test(fhir, an_activity_that_says_nothing_is_no_activity_of_the_plan)
{
    static const char *const silent[] = {
        "{\"reference\":{\"display\":\"http://link-a-mi-receta.cl/ID\"}}",
        "{}",
        "{\"detail\":{\"doNotPerform\":false,\"kind\":\"Appointment\"}}",
        "{\"progress\":[{\"text\":\"called twice\"}],"
        "\"outcomeReference\":[{\"reference\":\"Observation/o1\"}]}",
        /* F2542: R4 requires detail.status, so a status alone says no
         * more than the detail's presence */
        "{\"detail\":{\"status\":\"scheduled\",\"kind\":\"Task\"}}",
    };
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    char json[512];
    for (size_t i = 0; i < sizeof(silent) / sizeof(silent[0]); i++) {
        snprintf(json, sizeof(json), CP_ACTS("%s,%s"), silent[i],
                 "{\"reference\":{\"reference\":\"Appointment/a1\"}}");
        cr_assert_eq(run(json, &out, &res, &err), HUB_OK, "%s", err.field);
        cr_assert_eq(out.n, 1);
        cr_expect_str_eq(field_of(&out, 0, "careplan.activities"),
                         "[{\"reference\":\"Appointment/a1\"}]", "case %zu",
                         i);
        const char *w = field_of(&out, 0, "warnings");
        cr_expect(strstr(w, "CarePlan.activity[0]") &&
                      strstr(w, "activity says nothing") &&
                      !strstr(w, "receta") && !strstr(w, "called"),
                  "case %zu: %s", i, w);
        snprintf(json, sizeof(json), CP_ACTS("%s"), silent[i]);
        cr_assert_eq(run(json, &out, &res, &err), HUB_OK);
        cr_assert_eq(out.n, 1, "the plan itself still goes out");
        cr_expect_str_eq(field_of(&out, 0, "careplan.activities"),
                         "(absent)", "case %zu alone", i);
    }
    /* one thing read is enough: a code's words, a reason's domain each
     * keep the activity, and a status beside them */
    cr_assert_eq(run(CP_ACTS("{\"detail\":{\"status\":\"scheduled\","
                             "\"description\":\"call back\"}},"
                             "{\"detail\":{\"code\":{\"text\":\"walk\"}}},"
                             "{\"detail\":{\"reasonCode\":[{\"coding\":[{"
                             "\"system\":\"http://hl7.org/fhir/us/"
                             "sdoh-clinicalcare/CodeSystem/"
                             "SDOHCC-CodeSystemTemporaryCodes\",\"code\":"
                             "\"food-insecurity\"}]}]}}"),
                     &out, &res, &err),
                 HUB_OK, "%s", err.field);
    cr_expect_str_eq(field_of(&out, 0, "careplan.activities"),
                     "[{\"status\":\"scheduled\",\"description\":"
                     "\"call back\"},{\"code\":{\"text\":"
                     "\"walk\"}},{\"domain\":\"food-insecurity\"}]");
    cr_expect_str_eq(field_of(&out, 0, "warnings"), "(absent)");
}
#undef CP_ACTS

Test(fhir, bare_patient_id_gets_the_callers_scope_not_the_orgs_mrn_scope)
{
    struct canon_list out = { 0 };
    struct hub_err err;
    const char *j = "{\"resourceType\":\"Bundle\",\"type\":\"collection\","
                    "\"entry\":[{\"resource\":{\"resourceType\":\"Patient\","
                    "\"id\":\"123\",\"identifier\":[{\"value\":\"123\"}]}},"
                    "{\"resource\":" GOAL_X "\"subject\":{\"reference\":"
                    "\"Patient/123\"}}},{\"resource\":" GOAL_X "\"subject\":"
                    "{\"reference\":\"Patient/456\"}}}]}";
    cr_assert_eq(fhir_to_events_scoped(&A, D, "urn:hub:org:hosp:fhir", j,
                                       strlen(j), &out, NULL, &err), HUB_OK,
                 "%s %s", err.field, err.what);
    cr_assert_eq(out.n, 2);
    /* the Patient's own identifier without system stays the org's (an
     * MRN "123"); its logical id "123" has a system of its own */
    cr_assert_str_eq(field_of(&out, 0, "patient.identifiers"),
                     "[{\"value\":\"123\"},{\"value\":\"123\",\"system\":"
                     "\"urn:hub:org:hosp:fhir:Patient\",\"type\":\"fhir-id\"}]");
    cr_assert_str_eq(field_of(&out, 1, "patient.identifiers.0.system"),
                     "urn:hub:org:hosp:fhir:Patient", "a reference alone too");
    out.n = 0;
    cr_assert_eq(run(j, &out, NULL, &err), HUB_OK);
    cr_assert_str_eq(field_of(&out, 1, "patient.identifiers.0.system"),
                     "(absent)", "no scope given: no system");
}

/* F75: Denmark's eHealth CarePlan service PUTs a CarePlan whose subject is
 * an absolute URL on the patient service ("https://patient.../fhir/
 * Patient/24787"). Its id "24787" was scoped as the sender's own, where it
 * is another patient of the sender: a wrong link. An absolute reference to
 * a Patient the message does not hold keeps its server as the system; a
 * relative one, and a Patient the message holds, keep the sender's scope. */
Test(fhir, a_patient_on_another_server_is_that_servers_not_the_senders)
{
    struct canon_list out = { 0 };
    struct hub_err err;
    static const struct {
        char ref[96], system[64];
    } c[] = {
        {"https://patient.example.org/fhir/Patient/24787",
         "https://patient.example.org/fhir/Patient"},
        {"http://x.org/Patient/24787/_history/2", "http://x.org/Patient"},
        {"Patient/24787", "urn:hub:org:hosp:fhir:Patient"},
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        char j[1024];
        snprintf(j, sizeof(j), GOAL_X "\"subject\":{\"reference\":\"%s\"}}",
                 c[i].ref);
        out.n = 0;
        cr_assert_eq(fhir_to_events_scoped(&A, D, "urn:hub:org:hosp:fhir", j,
                                           strlen(j), &out, NULL, &err),
                     HUB_OK, "%s %s", err.field, err.what);
        cr_assert_str_eq(field_of(&out, 0, "patient.identifiers.0.system"),
                         c[i].system, "%s", c[i].ref);
        cr_assert_str_eq(field_of(&out, 0, "patient.identifiers.0.value"),
                         "24787");
    }
    /* held in the message under an absolute fullUrl: the sender's */
    const char *b = "{\"resourceType\":\"Bundle\",\"type\":\"collection\","
                    "\"entry\":[{\"fullUrl\":\"https://patient.example.org/"
                    "fhir/Patient/24787\",\"resource\":{\"resourceType\":"
                    "\"Patient\",\"id\":\"24787\"}},{\"resource\":" GOAL_X
                    "\"subject\":{\"reference\":\"https://patient.example.org/"
                    "fhir/Patient/24787\"}}}]}";
    out.n = 0;
    cr_assert_eq(fhir_to_events_scoped(&A, D, "urn:hub:org:hosp:fhir", b,
                                       strlen(b), &out, NULL, &err), HUB_OK,
                 "%s %s", err.field, err.what);
    cr_assert_str_eq(field_of(&out, 0, "patient.identifiers.0.system"),
                     "urn:hub:org:hosp:fhir:Patient");
}

Test(fhir, warnings_reach_the_senders_outcome_once_per_entry)
{
    char path[512];
    size_t len;
    snprintf(path, sizeof(path),
             "%s/tests/data/fhir/bundle-ahc-panel-transaction.json", root());
    char *p = testfile_read(path, &len);
    struct canon_list out = { 0 };
    struct fhir_result res;
    struct hub_err err;
    cr_assert_eq(fhir_to_events(&A, D, p, len, &out, &res, &err), HUB_OK);
    cr_assert_eq(out.n, 2, "completed and positive");
    cr_assert_eq(res.entries[1].n_warnings, 1, "not once per event");
    cr_assert_str_eq(res.entries[1].warnings[0].field,
                     "entry[3].resource.interpretation");
    struct slice oo;
    cr_assert_eq(fhir_result_outcome(&A, &res, &oo), HUB_OK);
    cr_assert_not_null(strstr(oo.p, "\"severity\":\"warning\""), "%s", oo.p);
    cr_assert_not_null(strstr(oo.p, "\"Bundle.entry[3].resource.interpretation\""),
                       "%s", oo.p);
    free(p);
}

Test(fhir, message_id_is_bundle_identifier_or_resource_version)
{
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    const char *j =
        "{\"resourceType\":\"Bundle\",\"id\":\"b\",\"identifier\":{\"system\":"
        "\"urn:x\",\"value\":\"42\"},\"type\":\"batch\",\"entry\":[]}";
    cr_assert_eq(run(j, &out, &res, &err), HUB_OK);
    cr_assert_str_eq(res.message_id, "urn:x|42");
    cr_assert_str_eq(res.bundle_type, "batch");
    j = "{\"resourceType\":\"Goal\",\"id\":\"g1\",\"meta\":{\"versionId\":\"7\"},"
        "\"lifecycleStatus\":\"active\",\"description\":{\"text\":\"x\"},"
        "\"subject\":{\"reference\":\"Patient/p1\"}}";
    cr_assert_eq(run(j, &out, &res, &err), HUB_OK);
    cr_assert_str_eq(res.message_id, "Goal/g1/_history/7");
    cr_assert_str_eq(field_of(&out, 0, "source.message_id"), "Goal/g1/_history/7");
}

/* F88: a transaction Bundle with neither identifier nor id (a developer's
 * test bundle of the Michigan CIE IG; Synthea writes its bundles so too)
 * gave events with no source.message_id, which the canonical schema
 * requires of every event. An unnamed message is named by its type, as an
 * entry without id is; the result's message_id stays NULL, so the hub
 * still keys it by its content hash. */
Test(fhir, an_unnamed_message_is_named_by_its_type)
{
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    const char *j =
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{"
        "\"fullUrl\":\"urn:uuid:0d3f2a56-4c1b-4e8a-9f7e-1a2b3c4d5e6f\","
        "\"request\":{\"method\":\"POST\",\"url\":\"ServiceRequest\"},"
        "\"resource\":{\"resourceType\":\"ServiceRequest\",\"status\":"
        "\"active\",\"intent\":\"order\",\"subject\":{\"reference\":"
        "\"Patient/p1\"}}}]}";
    cr_assert_eq(run(j, &out, &res, &err), HUB_OK, "%s", err.field);
    cr_assert_null(res.message_id);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(field_of(&out, 0, "source.message_id"), "Bundle");
    j = "{\"resourceType\":\"Goal\",\"lifecycleStatus\":\"active\","
        "\"description\":{\"text\":\"x\"},\"subject\":{\"reference\":"
        "\"Patient/p1\"}}";
    cr_assert_eq(run(j, &out, &res, &err), HUB_OK, "%s", err.field);
    cr_assert_null(res.message_id);
    cr_assert_str_eq(field_of(&out, 0, "source.message_id"), "Goal");
}

/* ---- bundles: references, a bad entry, batch ------------------------------------ */

Test(fhir, unresolved_urn_reference_refuses_the_bundle_with_its_path)
{
    struct canon_list out;
    struct hub_err err;
    const char *j =
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        "{\"resource\":{\"resourceType\":\"Goal\",\"lifecycleStatus\":\"active\","
        "\"description\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/p1\"}}},"
        "{\"resource\":{\"resourceType\":\"Goal\",\"lifecycleStatus\":\"active\","
        "\"description\":{\"text\":\"x\"},\"subject\":{\"reference\":"
        "\"urn:uuid:00000000-0000-0000-0000-000000000000\"}}}]}";
    cr_assert_eq(run(j, &out, NULL, &err), HUB_EINVALID);
    cr_assert_str_eq(err.field, "entry[1].resource.subject.reference");
    cr_assert_eq(out.n, 0, "the good entry's event is rolled back");
}

Test(fhir, references_with_spaces_or_no_type_are_refused)
{
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run(OBS("\"code\":{\"coding\":[{\"code\":\"88122-7\"}]},"
                         "\"hasMember\":[{\"reference\":\"Observation/a b\"}]"),
                     &out, NULL, &err), HUB_EINVALID);
    cr_assert_str_eq(err.field, "Observation.hasMember[0].reference");
    cr_assert_eq(run("{\"resourceType\":\"Goal\",\"lifecycleStatus\":\"active\","
                     "\"description\":{\"text\":\"x\"},\"subject\":{\"reference\":"
                     "\"p1\"}}", &out, NULL, &err), HUB_EINVALID);
    cr_assert_str_eq(err.field, "Goal.subject.reference");
}

Test(fhir, subject_that_is_not_a_patient_is_refused)
{
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run("{\"resourceType\":\"Goal\",\"lifecycleStatus\":\"active\","
                     "\"description\":{\"text\":\"x\"},\"subject\":{\"reference\":"
                     "\"Group/g1\"}}", &out, NULL, &err), HUB_EINVALID);
    cr_assert_str_eq(err.field, "Goal.subject");
    cr_assert_str_eq(err.what, "reference is not to a Patient");
}

/* F1381: a urn:uuid reference resolves only in a Bundle (FHIR R4
 * references.html); a lone resource that keeps one (a Synthea entry posted
 * alone, tests/data/real/fhir/r110-synthea-...-alone.json) is refused at the
 * reference and told that the bundle is missing, not that the bundle does
 * not hold it. In a Bundle the reference still must resolve. */
Test(fhir, a_urn_reference_without_a_bundle_says_the_bundle_is_missing)
{
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run("{\"resourceType\":\"Goal\",\"lifecycleStatus\":\"active\","
                     "\"description\":{\"text\":\"x\"},\"subject\":{\"reference\":"
                     "\"urn:uuid:9d92805b-c25a-c7ad-60ca-80c93ffb80b1\"}}",
                     &out, NULL, &err), HUB_EINVALID);
    cr_assert_str_eq(err.field, "Goal.subject.reference");
    cr_assert_str_eq(err.what, "urn reference in a resource sent without its bundle");
    cr_assert_eq(out.n, 0);
    cr_assert_eq(run("{\"resourceType\":\"Bundle\",\"type\":\"transaction\","
                     "\"entry\":[{\"fullUrl\":\"urn:uuid:0b6e7c2a-1f0e-4c1e-9d1a-3a1b2c3d4e5f\","
                     "\"resource\":{\"resourceType\":\"Goal\",\"lifecycleStatus\":"
                     "\"active\",\"description\":{\"text\":\"x\"},\"subject\":"
                     "{\"reference\":\"urn:uuid:9d92805b-c25a-c7ad-60ca-80c93ffb80b1\"}},"
                     "\"request\":{\"method\":\"POST\",\"url\":\"Goal\"}}]}",
                     &out, NULL, &err), HUB_EINVALID);
    cr_assert_str_eq(err.what, "reference is not resolved inside the bundle");
}

/* F1720: a conditional reference ("Patient?identifier=system|value", R4
 * http.html "Conditional References", the way Medplum's documentation
 * links a Condition to its patient and Synthea-style transactions name
 * theirs) names the patient by an identifier, as a logical reference
 * does: read so, percent-decoded, with the token's system. A search by
 * demographics (MaxMD's 2020 Gravity message, tests/data/real) is
 * refused at the reference saying what it is, and so is a conditional
 * reference of any other type; before, all were "reference is not
 * Type/id or a URL". */
Test(fhir, a_conditional_patient_reference_names_the_patient_by_identifier)
{
    static const struct {
        const char *ref, *value, *system;
    } ok[] = {
        { "Patient?identifier=http://your-source-system.com/patients|P001",
          "P001", "http://your-source-system.com/patients" },
        { "Patient?identifier=http%3A%2F%2Fx.org%2Fmrn%7C123", "123",
          "http://x.org/mrn" },
        { "Patient?identifier=%7C9", "9", NULL },
        { "Patient?identifier=77", "77", NULL },
        { "Patient?identifier=urn:oid:2.16.840.1.113883.4.1|219099999",
          "219099999", "http://hl7.org/fhir/sid/us-ssn" },
        /* the search's own escapes (R4 search.html, "Escaping Search
         * Parameters"), after percent-decoding, are the character
         * (F1823) */
        { "Patient?identifier=a|1\\\\,2", "1,2", "a" },
        { "Patient?identifier=a|1%5C%2C2", "1,2", "a" },
        { "Patient?identifier=a\\\\|b|x\\\\$y\\\\\\\\", "x$y\\", "a|b" },
        { "Patient?identifier=a|%C3%A9", "\xc3\xa9", "a" },
        /* a '|' in the value escaped, as R4 asks (F1829) */
        { "Patient?identifier=a|1\\\\|2", "1|2", "a" },
    };
    static const struct {
        const char *ref, *what;
    } bad[] = {
        { "Patient?given=A&family=B&birthdate=1970-05-01",
          "conditional reference to a patient by other than one identifier" },
        { "Patient?identifier=a|1&_tag=x",
          "conditional reference to a patient by other than one identifier" },
        { "Patient?identifier=", "conditional reference names no identifier value" },
        { "Patient?identifier=x%2", "conditional reference has a bad percent-encoding" },
        { "Patient?identifier=x%00y", "conditional reference has a bad percent-encoding" },
        { "Practitioner?identifier=x|1",
          "conditional reference (a search) is not resolved" },
        /* a ',' is an OR of several identifiers, which names no one
         * patient (F1823: it was linked on as the value "1,b|2") */
        { "Patient?identifier=a|1,b|2",
          "conditional reference to a patient by other than one identifier" },
        { "Patient?identifier=a|1%2Cb|2",
          "conditional reference to a patient by other than one identifier" },
        /* decoded, no UTF-8 (F1824: written as U+FFFD, one identifier for
         * "%FF" and "%FE" alike) */
        { "Patient?identifier=a|%FF", "conditional reference has a bad percent-encoding" },
        { "Patient?identifier=a|%C3", "conditional reference has a bad percent-encoding" },
        /* F1829: R4 defines conditional references as relative; written
         * as an absolute URL, one is refused saying so, not "reference is
         * not to a Patient" */
        { "https://ex.org/fhir/Patient?identifier=a|1",
          "conditional reference is absolute: R4 defines only relative ones "
          "(Patient?identifier=...)" },
        { "http://ex.org/Patient?identifier=a%7C1",
          "conditional reference is absolute: R4 defines only relative ones "
          "(Patient?identifier=...)" },
        /* ... and a second unescaped '|' makes no token (system|value):
         * it was read as the value "1|2" */
        { "Patient?identifier=a|1|2",
          "conditional reference has a second '|' in its identifier" },
        { "Patient?identifier=a|1%7C2",
          "conditional reference has a second '|' in its identifier" },
        { "Patient?identifier=|1|2",
          "conditional reference has a second '|' in its identifier" },
    };
    char j[1024];
    struct canon_list out;
    struct hub_err err;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        snprintf(j, sizeof(j),
                 "{\"resourceType\":\"Goal\",\"id\":\"g\",\"lifecycleStatus\":"
                 "\"active\",\"description\":{\"text\":\"x\"},\"subject\":"
                 "{\"reference\":\"%s\"}}", ok[i].ref);
        cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "%s: %s at %s",
                     ok[i].ref, err.what, err.field);
        cr_assert_eq(out.n, 1);
        cJSON *e = cJSON_ParseWithLength(out.ev[0].json.p, out.ev[0].json.len);
        const cJSON *ids = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(e, "patient"), "identifiers");
        cr_assert_eq(cJSON_GetArraySize(ids), 1, "%s", ok[i].ref);
        const cJSON *id0 = cJSON_GetArrayItem(ids, 0);
        cr_assert_str_eq(cJSON_GetStringValue(
                             cJSON_GetObjectItemCaseSensitive(id0, "value")),
                         ok[i].value);
        const char *sys = cJSON_GetStringValue(
            cJSON_GetObjectItemCaseSensitive(id0, "system"));
        if (ok[i].system)
            cr_assert(sys && strcmp(sys, ok[i].system) == 0, "%s: %s",
                      ok[i].ref, sys ? sys : "(none)");
        else
            cr_assert_null(sys, "%s", ok[i].ref);
        cJSON_Delete(e);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(j, sizeof(j),
                 "{\"resourceType\":\"Goal\",\"id\":\"g\",\"lifecycleStatus\":"
                 "\"active\",\"description\":{\"text\":\"x\"},\"subject\":"
                 "{\"reference\":\"%s\"}}", bad[i].ref);
        cr_assert_eq(run(j, &out, NULL, &err), HUB_EINVALID, "%s", bad[i].ref);
        cr_assert_str_eq(err.field, "Goal.subject.reference", "%s", bad[i].ref);
        cr_assert_str_eq(err.what, bad[i].what, "%s", bad[i].ref);
        cr_assert_eq(out.n, 0);
    }
}

Test(fhir, batch_keeps_good_entries_and_reports_the_bad_one)
{
    char path[512];
    size_t len;
    snprintf(path, sizeof(path), "%s/tests/data/fhir/bundle-referral-batch-partial.json",
             root());
    char *p = testfile_read(path, &len);
    cr_assert_not_null(p);
    struct canon_list out = { 0 };
    struct fhir_result res;
    struct hub_err err;
    cr_assert_eq(fhir_to_events(&A, D, p, len, &out, &res, &err), HUB_OK);
    cr_assert_eq(res.n_entries, 4);
    cr_assert_eq(res.n_failed, 1);
    cr_assert_eq(res.entries[2].status, HUB_EINVALID);
    cr_assert_str_eq(res.entries[2].err.field, "entry[2].resource.status");
    cr_assert_eq(res.entries[1].n_events, 1);
    cr_assert_eq(res.entries[3].n_events, 1);
    cr_assert_eq(res.entries[0].n_events, 0, "a Patient is context only");
    cr_assert_eq(out.n, 2);
    cr_assert_str_eq(out.ev[res.entries[3].first_event].type, "referral.updated");
    struct slice oo;
    cr_assert_eq(fhir_result_outcome(&A, &res, &oo), HUB_OK);
    cr_assert_not_null(strstr(oo.p, "\"Bundle.entry[2].resource.status\""), "%s", oo.p);
    free(p);
}

Test(fhir, refused_batch_entries_carry_their_own_bytes)
{
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    /* odd but valid spacing and strings holding brackets and quotes */
    const char *j =
        "{ \"resourceType\" : \"Bundle\", \"meta\": {\"tag\": [{\"code\": \"]}\"}]},"
        " \"type\":\"batch\",\n \"entry\" : [\n"
        "  {\"resource\":{\"resourceType\":\"Goal\",\"lifecycleStatus\":\"active\","
        "\"description\":{\"text\":\"x \\\" ]\"},\"subject\":{\"reference\":"
        "\"Patient/p\"}}} ,\n"
        "  {\"resource\":{\"resourceType\":\"Goal\",\"lifecycleStatus\":\"done\"}},"
        "{\"resource\":{\"resourceType\":\"Consent\",\"status\":7}}\n ] }";
    cr_assert_eq(run(j, &out, &res, &err), HUB_OK, "%s %s", err.field, err.what);
    cr_assert_eq(res.n_failed, 2);
    cr_assert_eq(res.entries[0].raw.len, 0, "an accepted entry has none");
    const char *w1 = "{\"resource\":{\"resourceType\":\"Goal\","
                     "\"lifecycleStatus\":\"done\"}}";
    const char *w2 = "{\"resource\":{\"resourceType\":\"Consent\","
                     "\"status\":7}}";
    cr_assert_eq(res.entries[1].raw.len, strlen(w1));
    cr_assert(memcmp(res.entries[1].raw.p, w1, strlen(w1)) == 0, "%.*s",
              (int)res.entries[1].raw.len, res.entries[1].raw.p);
    cr_assert_eq(res.entries[2].raw.len, strlen(w2));
    cr_assert(memcmp(res.entries[2].raw.p, w2, strlen(w2)) == 0, "%.*s",
              (int)res.entries[2].raw.len, res.entries[2].raw.p);
    cr_assert(res.entries[1].raw.p > j && res.entries[2].raw.p < j + strlen(j),
              "they point into the input");
}

Test(fhir, refused_entry_bytes_follow_the_parser_over_control_bytes)
{
    /* found by fhir_fuzz: cJSON skips NUL and other controls as white
     * space between tokens, so the spans must too */
    static const char j[] =
        "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[\x01"
        "{\"resource\":" GOAL_X "\"subject\":{\"reference\":\"Patient/p\"}}}"
        "\0\0,\x1f{\"resource\":{\"resourceType\":\"Goal\"}}\0]}";
    struct canon_list out = { 0 };
    struct fhir_result res;
    struct hub_err err;
    cr_assert_eq(fhir_to_events(&A, D, j, sizeof(j) - 1, &out, &res, &err),
                 HUB_OK, "%s %s", err.field, err.what);
    cr_assert_eq(res.n_failed, 1);
    const char *w = "{\"resource\":{\"resourceType\":\"Goal\"}}";
    cr_assert_eq(res.entries[1].raw.len, strlen(w));
    cr_assert(memcmp(res.entries[1].raw.p, w, strlen(w)) == 0);
}

Test(fhir, batch_entry_referring_to_a_refused_entry_is_refused_too)
{
    /* found by fhir_fuzz: a refused entry without resourceType was still
     * found by its fullUrl */
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    const char *j =
        "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
        "{\"fullUrl\":\"urn:uuid:1\",\"resource\":{\"resourceTywe\":\"Patient\"}},"
        "{\"resource\":{\"resourceType\":\"Goal\",\"lifecycleStatus\":\"active\","
        "\"description\":{\"text\":\"x\"},\"subject\":{\"reference\":\"urn:uuid:1\"}}},"
        "{\"resource\":{\"resourceType\":\"Goal\",\"lifecycleStatus\":\"active\","
        "\"description\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/p\"}}}]}";
    cr_assert_eq(run(j, &out, &res, &err), HUB_OK);
    cr_assert_eq(res.n_failed, 2);
    cr_assert_str_eq(res.entries[0].err.field, "entry[0].resource.resourceType");
    cr_assert_str_eq(res.entries[1].err.field, "entry[1].resource.subject.reference");
    cr_assert_eq(out.n, 1);
}

Test(fhir, transaction_with_a_bad_entry_is_refused_whole)
{
    char path[512];
    size_t len;
    snprintf(path, sizeof(path),
             "%s/tests/data/fhir/bundle-referral-transaction-bad-entry.json", root());
    char *p = testfile_read(path, &len);
    struct canon_list out = { 0 };
    struct hub_err err;
    cr_assert_eq(fhir_to_events(&A, D, p, len, &out, NULL, &err), HUB_EINVALID);
    cr_assert_str_eq(err.field, "entry[2].resource.status");
    cr_assert_eq(out.n, 0);
    free(p);
}

Test(fhir, failure_leaves_earlier_events_of_the_caller_alone)
{
    struct canon_list out = { 0 };
    struct hub_err err;
    const char *good = "{\"resourceType\":\"Goal\",\"lifecycleStatus\":\"active\","
                       "\"description\":{\"text\":\"x\"},\"subject\":"
                       "{\"reference\":\"Patient/p1\"}}";
    cr_assert_eq(fhir_to_events(&A, D, good, strlen(good), &out, NULL, &err), HUB_OK);
    const char *bad = "{\"resourceType\":\"Goal\",\"lifecycleStatus\":\"done\"}";
    cr_assert_eq(fhir_to_events(&A, D, bad, strlen(bad), &out, NULL, &err),
                 HUB_EINVALID);
    cr_assert_str_eq(err.field, "Goal.lifecycleStatus");
    cr_assert_eq(out.n, 1);
}

Test(fhir, bundle_entry_without_resource_is_named)
{
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run("{\"resourceType\":\"Bundle\",\"type\":\"collection\","
                     "\"entry\":[{\"fullUrl\":\"urn:x\"},7]}", &out, NULL, &err),
                 HUB_EINVALID);
    cr_assert_str_eq(err.field, "entry[0].resource");
    cr_assert_eq(run("{\"resourceType\":\"Bundle\",\"type\":\"collection\","
                     "\"entry\":[{\"resource\":{\"resourceType\":\"Bundle\"}}]}",
                     &out, NULL, &err), HUB_EUNSUPPORTED);
}

/* ---- hostile input ------------------------------------------------------------------ */

Test(fhir, deep_nesting_is_refused_before_parsing)
{
    size_t n = 100000;
    char *p = malloc(2 * n + 64);
    size_t k = (size_t)snprintf(p, 64, "{\"resourceType\":\"Goal\",\"x\":");
    for (size_t i = 0; i < n; i++)
        p[k++] = '[';
    for (size_t i = 0; i < n; i++)
        p[k++] = ']';
    p[k++] = '}';
    struct canon_list out = { 0 };
    struct hub_err err;
    cr_assert_eq(fhir_to_events(&A, D, p, k, &out, NULL, &err), HUB_ELIMIT);
    cr_assert_str_eq(err.what, "nesting is deeper than the limit");
    /* the prefix is 27 bytes and its '{' is the first level */
    cr_assert_eq(err.offset, 27 + FHIR_MAX_DEPTH - 1,
                 "offset %zu names the bracket past the limit", err.offset);
    free(p);
}

Test(jsonscan, depth_exactly_at_the_limit_passes_and_one_more_fails)
{
    struct json_limits lim = { .max_bytes = 100, .max_depth = 3, .max_array = 10,
                               .max_members = 10, .max_values = 100,
                               .max_string = 10 };
    struct hub_err err;
    cr_assert_eq(json_prescan("[[[]]]", 6, &lim, &err), HUB_OK);
    cr_assert_eq(json_prescan("[[[[]]]]", 8, &lim, &err), HUB_ELIMIT);
    cr_assert_eq(err.offset, 3);
    cr_assert_eq(json_prescan("[\"[[[[\"]", 8, &lim, &err), HUB_OK,
                 "brackets in strings do not count");
    cr_assert_eq(json_prescan("[\"\\\"[[[[\"]", 10, &lim, &err), HUB_OK,
                 "an escaped quote does not end the string");
    cr_assert_eq(json_prescan("[1,2,3,4,5,6,7,8,9,10]", 22, &lim, &err), HUB_OK);
    cr_assert_eq(json_prescan("[1,2,3,4,5,6,7,8,9,10,11]", 25, &lim, &err),
                 HUB_ELIMIT);
    cr_assert_eq(json_prescan("[\"0123456789\"]", 14, &lim, &err), HUB_OK);
    cr_assert_eq(json_prescan("[\"0123456789a\"]", 15, &lim, &err), HUB_ELIMIT);
    cr_assert_eq(json_prescan("[\"\\\\\",[[[[]]]]]", 14, &lim, &err), HUB_ELIMIT,
                 "an escaped backslash does not escape the quote after it");
    cr_assert_eq(json_prescan("[\"\\\\\\\"\"]", 8, &lim, &err), HUB_OK,
                 "three backslashes: the third escapes the quote");
    cr_assert_eq(json_prescan("[\"abc", 5, &lim, &err), HUB_ESYNTAX);
    cr_assert_eq(json_prescan("[}", 2, &lim, &err), HUB_ESYNTAX);
}

Test(fhir, huge_arrays_are_refused_before_parsing)
{
    size_t n = FHIR_MAX_ARRAY + 1;
    char *p = malloc(2 * n + 64);
    size_t k = (size_t)snprintf(p, 64, "{\"resourceType\":\"Goal\",\"x\":[");
    for (size_t i = 0; i < n; i++) {
        p[k++] = '0';
        p[k++] = ',';
    }
    p[k - 1] = ']';
    p[k++] = '}';
    struct canon_list out = { 0 };
    struct hub_err err;
    cr_assert_eq(fhir_to_events(&A, D, p, k, &out, NULL, &err), HUB_ELIMIT);
    cr_assert_str_eq(err.what, "array has too many elements");
    free(p);
}

Test(fhir, too_many_bundle_entries_are_refused)
{
    size_t n = FHIR_MAX_ENTRIES + 1;
    const char *e = "{\"resource\":{\"resourceType\":\"Patient\"}},";
    char *p = malloc(n * strlen(e) + 128);
    size_t k = (size_t)snprintf(p, 128,
        "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[");
    for (size_t i = 0; i < n; i++) {
        memcpy(p + k, e, strlen(e));
        k += strlen(e);
    }
    p[k - 1] = ']';
    p[k++] = '}';
    struct canon_list out = { 0 };
    struct hub_err err;
    cr_assert_eq(fhir_to_events(&A, D, p, k, &out, NULL, &err), HUB_ELIMIT);
    cr_assert_str_eq(err.field, "entry");
    free(p);
}

Test(fhir, wrong_json_types_are_refused_with_the_element)
{
    static const struct { char json[200]; char field[64]; } cases[] = {
        { "{\"resourceType\":\"Observation\",\"status\":5}", "Observation.status" },
        { "{\"resourceType\":\"Goal\",\"lifecycleStatus\":\"active\",\"description\":"
          "{\"text\":\"x\"},\"subject\":\"Patient/p1\"}", "Goal.subject" },
        { "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":\"Patient/p1\"},"
          "\"category\":{\"coding\":7}}", "Condition.category.coding" },
        { "{\"resourceType\":7}", "resourceType" },
        { "{\"resourceType\":\"Task\",\"status\":\"requested\",\"intent\":\"order\","
          "\"focus\":{\"reference\":\"ServiceRequest/s\"},\"for\":{\"reference\":"
          "\"Patient/p\"},\"authoredOn\":\"2020/01/01\"}", "Task.authoredOn" },
        { "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":{}}",
          "entry" },
        { "{\"resourceType\":\"Procedure\",\"status\":\"done\",\"subject\":"
          "{\"reference\":\"Patient/p\"}}", "Procedure.status" },
        { "{\"resourceType\":\"Procedure\",\"status\":\"completed\","
          "\"subject\":{\"reference\":\"Patient/p\"},\"performer\":[7]}",
          "Procedure.performer[0]" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct canon_list out;
        struct hub_err err;
        int rc = run(cases[i].json, &out, NULL, &err);
        cr_assert_eq(rc, HUB_EINVALID, "case %zu: rc %d", i, rc);
        cr_assert_str_eq(err.field, cases[i].field, "case %zu", i);
        cr_assert_eq(out.n, 0);
    }
}

Test(fhir, not_json_and_not_a_resource_are_refused)
{
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run("", &out, NULL, &err), HUB_ESYNTAX);
    cr_assert_eq(run("{\"resourceType\":", &out, NULL, &err), HUB_ESYNTAX);
    cr_assert_eq(run("[1]", &out, NULL, &err), HUB_EINVALID);
    cr_assert_eq(run("{\"resourceType\":\"Encounter\"}", &out, NULL, &err),
                 HUB_EUNSUPPORTED);
    cr_assert_str_eq(err.field, "Encounter.resourceType");
    cr_assert_eq(run(OBS("\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
                         "\"code\":\"8867-4\"}]}"), &out, NULL, &err),
                 HUB_EUNSUPPORTED, "a heart rate is not a screening");
}

Test(fhir, has_member_chains_stop_at_the_depth_limit)
{
    char j[8192];
    size_t k = (size_t)snprintf(j, sizeof(j),
        "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[");
    for (int i = 0; i < 15; i++) {
        char code[16];
        snprintf(code, sizeof(code), i ? "x%d" : "96777-8", i);
        k += (size_t)snprintf(j + k, sizeof(j) - k,
            "%s{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"o%d\","
            "\"status\":\"final\",\"subject\":{\"reference\":\"Patient/p\"},"
            "\"code\":{\"coding\":[{\"code\":\"%s\"}]},"
            "\"hasMember\":[{\"reference\":\"Observation/o%d\"}]}}",
            i ? "," : "", i, code, i + 1);
    }
    snprintf(j + k, sizeof(j) - k, "]}");
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run(j, &out, NULL, &err), HUB_ELIMIT);
    cr_assert_str_eq(err.what, "hasMember nesting is deeper than 12");
}

Test(fhir, operation_outcome_names_the_resource_and_element)
{
    struct hub_err err;
    struct canon_list out;
    struct slice oo;
    cr_assert_eq(run("{\"resourceType\":\"Goal\",\"lifecycleStatus\":\"x\"}",
                     &out, NULL, &err), HUB_EINVALID);
    cr_assert_eq(fhir_operation_outcome(&A, &err, "Goal", &oo), HUB_OK);
    cJSON *j = cJSON_ParseWithLength(oo.p, oo.len);
    cr_assert_not_null(j);
    cJSON *issue = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "issue"), 0);
    cr_assert_str_eq(cJSON_GetObjectItem(issue, "code")->valuestring, "invalid");
    cr_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(issue, "expression"),
                                        0)->valuestring, "Goal.lifecycleStatus");
    cJSON_Delete(j);
    struct hub_err e2 = { .code = HUB_ELIMIT, .field = "entry[3].resource",
                          .what = "too big" };
    cr_assert_eq(fhir_operation_outcome(&A, &e2, "Bundle", &oo), HUB_OK);
    cr_assert_not_null(strstr(oo.p, "\"Bundle.entry[3].resource\""), "%s", oo.p);
    cr_assert_not_null(strstr(oo.p, "\"too-costly\""));
}

/* ---- the other resources ------------------------------------------------------------ */

Test(fhir, thousands_of_references_to_one_member_cost_one_visit, .timeout = 5)
{
    size_t n = 9000;
    size_t cap = n * 40 + 1024;
    char *j = malloc(cap);
    size_t k = (size_t)snprintf(j, cap,
        "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":["
        "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"a\","
        "\"status\":\"final\",\"subject\":{\"reference\":\"Patient/p\"},"
        "\"code\":{\"coding\":[{\"code\":\"96777-8\"}]},\"hasMember\":[");
    for (size_t i = 0; i < n; i++)
        k += (size_t)snprintf(j + k, cap - k, "%s{\"reference\":\"Observation/b\"}",
                              i ? "," : "");
    k += (size_t)snprintf(j + k, cap - k,
        "]}},{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"b\","
        "\"status\":\"final\",\"subject\":{\"reference\":\"Patient/p\"},"
        "\"code\":{\"coding\":[{\"code\":\"88122-7\"}]},"
        "\"valueCodeableConcept\":{\"coding\":[{\"code\":\"LA28398-8\"}]}}}]}");
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "%s %s", err.field, err.what);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(field_of(&out, 0, "screening.items.1.question"), "(absent)");
    free(j);
}


Test(fhir, entry_name_of_a_resource_without_id_outlives_the_tree)
{
    /* res.entries[i].resource named the type inside the cJSON tree when
     * the resource had no id: the tree's arena is freed before return */
    struct canon_list out = { 0 };
    struct fhir_result res;
    struct hub_err err;
    const char *j =
        "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
        "{\"resource\":{\"resourceType\":\"Goal\",\"lifecycleStatus\":\"done\"}}]}";
    cr_assert_eq(run(j, &out, &res, &err), HUB_OK, "%s %s", err.field, err.what);
    cr_assert_eq(res.n_failed, 1);
    /* reuse what the tree's arena gave back, so a stale pointer shows */
    void *blk[16];
    for (int i = 0; i < 16; i++) {
        blk[i] = malloc(16384 + 32);
        cr_assert_not_null(blk[i]);
        memset(blk[i], 'Z', 16384 + 32);
    }
    int same = res.entries[0].resource &&
               strcmp(res.entries[0].resource, "Bundle.entry[0].resource") == 0;
    for (int i = 0; i < 16; i++)
        free(blk[i]);
    cr_assert(same, "the entry's name lives in the caller's arena");
}

Test(fhir, refused_entry_bytes_are_never_another_members)
{
    /* cJSON reads an escaped key as the text it means: "\u0065ntry" and
     * "entry" are one name twice. The second array was once left unread
     * (and its bytes had to be kept apart from the first's); now such a
     * body is refused whole, at the name, before any entry is read (F49) */
    struct canon_list out = { 0 };
    struct fhir_result res;
    struct hub_err err;
    const char *j =
        "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"\\u0065ntry\":["
        "{\"resource\":{\"resourceType\":\"Goal\",\"lifecycleStatus\":\"done\"}}],"
        "\"entry\":[{\"resource\":{\"resourceType\":\"Consent\",\"status\":7}}]}";
    cr_assert_eq(run(j, &out, &res, &err), HUB_ESYNTAX);
    cr_expect_str_eq(err.field, "entry");
    cr_expect_eq(out.n, 0);
}

/* ---- found on real samples (tests/data/real/SOURCES.md) ---------------------- */

#define SDOH_CAT(dom)                                                       \
    "\"category\":[{\"coding\":[{\"system\":\"http://terminology.hl7.org/"  \
    "CodeSystem/observation-category\",\"code\":\"social-history\"}]},"     \
    "{\"coding\":[{\"system\":\"" GRAVITY "\",\"code\":\"" dom "\"}]}],"
#define SCT_CODE(c)                                                         \
    "\"code\":{\"coding\":[{\"system\":\"http://snomed.info/sct\","         \
    "\"code\":\"" c "\"}]},"

/* Finding 6: a period is the span the answers speak of ("within the past
 * 12 months"); the screening took place at its end, else when issued. */
Test(fhir, a_screening_over_a_period_occurred_at_its_end_else_when_issued)
{
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run(OBS("\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
                         "\"code\":\"88122-7\"}]},\"effectivePeriod\":{\"start\":"
                         "\"2019-08-18\",\"end\":\"2020-08-18T14:31:36Z\"},"
                         "\"issued\":\"2020-08-19\",\"valueCodeableConcept\":"
                         "{\"coding\":[{\"code\":\"LA28398-8\"}]}"),
                     &out, NULL, &err), HUB_OK);
    cr_assert_str_eq(field_of(&out, 0, "occurred_at"), "2020-08-18T14:31:36Z");
    cr_assert_str_eq(field_of(&out, 0, "screening.effective_period"),
                     "{\"start\":\"2019-08-18\",\"end\":\"2020-08-18T14:31:36Z\"}");
    cr_assert_eq(run(OBS("\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
                         "\"code\":\"88122-7\"}]},\"effectivePeriod\":{\"start\":"
                         "\"2019-08-18\"},\"issued\":\"2020-08-19\","
                         "\"valueCodeableConcept\":{\"coding\":[{\"code\":"
                         "\"LA28398-8\"}]}"),
                     &out, NULL, &err), HUB_OK);
    cr_assert_str_eq(field_of(&out, 0, "occurred_at"), "2020-08-19");
    cr_assert_eq(run(OBS("\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
                         "\"code\":\"88122-7\"}]},\"effectivePeriod\":{\"start\":"
                         "\"2019-08-18\"},\"valueCodeableConcept\":{\"coding\":"
                         "[{\"code\":\"LA28398-8\"}]}"),
                     &out, NULL, &err), HUB_OK);
    cr_assert_str_eq(field_of(&out, 0, "occurred_at"), "2019-08-18");
}

/* Finding 9: an SDOHCC Observation Assessment asserts its finding. */
Test(fhir, an_sdohcc_assessment_asserts_its_finding_in_its_domain)
{
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run(OBS(SDOH_CAT("transportation-insecurity")
                         SCT_CODE("160695008") "\"valueBoolean\":true"),
                     &out, NULL, &err), HUB_OK);
    cr_assert_eq(out.n, 2);
    cr_assert_str_eq(out.ev[1].type, "screening.positive");
    cr_assert_str_eq(field_of(&out, 1, "screening.positive_domains"),
                     "[\"transportation-insecurity\"]");
    cr_assert_str_eq(field_of(&out, 1, "screening.items.0.positive"), "true");
    cr_assert_str_eq(field_of(&out, 1, "screening.items.0.asserted"), "true");

    /* false: the finding does not hold, a negative item, no positive */
    cr_assert_eq(run(OBS(SDOH_CAT("transportation-insecurity")
                         SCT_CODE("160695008") "\"valueBoolean\":false"),
                     &out, NULL, &err), HUB_OK);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(field_of(&out, 0, "screening.items.0.positive"), "false");
    cr_assert_str_eq(field_of(&out, 0, "screening.positive_domains"), "[]");

    /* a SNOMED CT finding as the value asserts it */
    cr_assert_eq(run(OBS(SDOH_CAT("food-insecurity")
                         "\"code\":{\"text\":\"food assessment\",\"coding\":[{"
                         "\"system\":\"http://loinc.org\",\"code\":\"LP264604-2\"}]},"
                         "\"valueCodeableConcept\":{\"coding\":[{\"system\":"
                         "\"http://snomed.info/sct\",\"code\":\"733423003\"}]}"),
                     &out, NULL, &err), HUB_OK);
    cr_assert_eq(out.n, 2);
    cr_assert_str_eq(field_of(&out, 1, "screening.positive_domains"),
                     "[\"food-insecurity\"]");

    /* a status domain names which status, not a need: not scored */
    cr_assert_eq(run(OBS(SDOH_CAT("veteran-status")
                         SCT_CODE("8745002") "\"valueBoolean\":true"),
                     &out, NULL, &err), HUB_OK);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(field_of(&out, 0, "screening.items.0.positive"), "(absent)");

    /* without a Gravity category, or with no value: not an assessment */
    cr_assert_eq(run(OBS(SDOH_CAT("transportation-insecurity")
                         SCT_CODE("160695008") "\"dataAbsentReason\":{\"coding\":"
                         "[{\"code\":\"asked-declined\"}]}"),
                     &out, NULL, &err), HUB_OK);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(field_of(&out, 0, "screening.items.0.asserted"), "(absent)");

    /* a LOINC-scored item keeps the dictionary's verdict: Never true is
     * negative, whatever its category says */
    cr_assert_eq(run(OBS(SDOH_CAT("food-insecurity")
                         "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
                         "\"code\":\"88122-7\"}]},\"valueCodeableConcept\":"
                         "{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":"
                         "\"LA28398-8\"}]}"),
                     &out, NULL, &err), HUB_OK);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(field_of(&out, 0, "screening.items.0.asserted"), "(absent)");
}

/* F282: the 2020 SDOH-CC examples send the finding in code and its
 * presence in value, SNOMED CT qualifier values: 410515003 "Known
 * present" asserts it, 410516002 "Known absent" denies it (before, any
 * SNOMED CT value asserted it: a false screening.positive), "Unknown"
 * says nothing. */
#define SH_FINDING(val)                                                     \
    "\"category\":[{\"coding\":[{\"system\":\"http://terminology.hl7.org/"  \
    "CodeSystem/observation-category\",\"code\":\"social-history\"}]}],"    \
    SCT_CODE("733423003") "\"valueCodeableConcept\":{\"coding\":[{"         \
    "\"system\":\"http://snomed.info/sct\",\"code\":\"" val "\"}]}"
Test(fhir, a_finding_valued_known_absent_is_denied)
{
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run(OBS(SH_FINDING("410515003")), &out, NULL, &err), HUB_OK);
    cr_assert_eq(out.n, 2);
    cr_assert_str_eq(field_of(&out, 1, "screening.positive_domains"),
                     "[\"food-insecurity\"]");

    static const char *const denied[] = { "410516002", "2667000",
                                          "373067005" };
    char json[1024];
    for (size_t i = 0; i < 3; i++) {
        snprintf(json, sizeof(json), OBS(SH_FINDING("%s")), denied[i]);
        cr_assert_eq(run(json, &out, NULL, &err), HUB_OK);
        cr_assert_eq(out.n, 1, "%s", denied[i]);
        cr_assert_str_eq(field_of(&out, 0, "screening.items.0.positive"),
                         "false", "%s", denied[i]);
        cr_assert_str_eq(field_of(&out, 0, "screening.items.0.asserted"),
                         "true");
        cr_assert_str_eq(field_of(&out, 0, "screening.domains"),
                         "[\"food-insecurity\"]");
        cr_assert_str_eq(field_of(&out, 0, "screening.positive_domains"), "[]");
    }

    cr_assert_eq(run(OBS(SH_FINDING("261665006")), &out, NULL, &err), HUB_OK);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(field_of(&out, 0, "screening.items.0.positive"), "(absent)");
    cr_assert_str_eq(field_of(&out, 0, "screening.items.0.asserted"), "(absent)");
}

/* F281: a question of the dictionary answered with a SNOMED CT finding of
 * the question's own domain, not one of its answers (the Czech HDR's SDOH
 * Observation: 88124-3 "Food insecurity risk" valued 733423003 "Food
 * insecurity"), is the sender's statement of the need: asserted, positive
 * in that domain. A finding of another domain, or of a status domain, is
 * still an answer the hub cannot read. */
#define HVS_RISK(val)                                                       \
    "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":"      \
    "\"88124-3\"}]},\"valueCodeableConcept\":{\"coding\":[{\"system\":"     \
    "\"http://snomed.info/sct\",\"code\":\"" val "\"}]}"
Test(fhir, a_question_answered_with_its_domains_finding_asserts_it)
{
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run(OBS(HVS_RISK("733423003")), &out, NULL, &err), HUB_OK);
    cr_assert_eq(out.n, 2);
    cr_assert_str_eq(out.ev[1].type, "screening.positive");
    cr_assert_str_eq(field_of(&out, 1, "screening.domains"),
                     "[\"food-insecurity\"]");
    cr_assert_str_eq(field_of(&out, 1, "screening.positive_domains"),
                     "[\"food-insecurity\"]");
    cr_assert_str_eq(field_of(&out, 1, "screening.items.0.answer"), "733423003");
    cr_assert_str_eq(field_of(&out, 1, "screening.items.0.positive"), "true");
    cr_assert_str_eq(field_of(&out, 1, "screening.items.0.asserted"), "true");

    /* homelessness is not the question's domain: unread, as before */
    cr_assert_eq(run(OBS(HVS_RISK("32911000")), &out, NULL, &err), HUB_OK);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(field_of(&out, 0, "screening.positive_domains"), "[]");
    cr_assert_str_eq(field_of(&out, 0, "screening.items.0.asserted"), "(absent)");

    /* a status domain's question (PRAPARE employment) answered with its
     * finding (Unemployed) names a status, not a need */
    cr_assert_eq(run(OBS("\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
                         "\"code\":\"67875-5\"}]},\"valueCodeableConcept\":{"
                         "\"coding\":[{\"system\":\"http://snomed.info/sct\","
                         "\"code\":\"73438004\"}]}"),
                     &out, NULL, &err), HUB_OK);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(field_of(&out, 0, "screening.items.0.positive"), "(absent)");

    /* beside the two questions it is derived from, the finding agrees with
     * the hub's own "At risk": no warning */
    cr_assert_eq(run("{\"resourceType\":\"Bundle\",\"type\":\"collection\","
                     "\"entry\":[{\"resource\":" OBS("\"code\":{\"coding\":[{"
                     "\"system\":\"http://loinc.org\",\"code\":\"88122-7\"}]},"
                     "\"valueCodeableConcept\":{\"coding\":[{\"system\":"
                     "\"http://loinc.org\",\"code\":\"LA28397-0\"}]}") "},"
                     "{\"resource\":{\"resourceType\":\"Observation\",\"id\":"
                     "\"o2\",\"status\":\"final\",\"subject\":{\"reference\":"
                     "\"Patient/p1\"}," HVS_RISK("733423003") "}}]}",
                     &out, NULL, &err), HUB_OK);
    cr_assert_eq(out.n, 2);
    cr_assert_str_eq(field_of(&out, 0, "warnings"), "(absent)");
    cr_assert_str_eq(field_of(&out, 1, "screening.positive_domains"),
                     "[\"food-insecurity\"]");
}

/* Finding F19: the SDOHCC personal characteristic Observations (gender
 * identity, sexual orientation, race, pronouns: category
 * "personal-characteristic" of the SDOHCC code system) are no screening:
 * alone, not one the hub knows; in a bundle, context. A category of that
 * system that names a domain still makes a screening of an unknown code. */
Test(fhir, a_personal_characteristic_observation_is_not_a_screening)
{
    struct canon_list out;
    struct hub_err err;
    static const char pc[] =
        OBS("\"category\":[{\"coding\":[{\"system\":\"" GRAVITY "\","
            "\"code\":\"personal-characteristic\"}]}],"
            "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
            "\"code\":\"76691-5\"}]},\"effectiveDateTime\":\"2022-04-10\","
            "\"valueCodeableConcept\":{\"coding\":[{\"system\":"
            "\"http://snomed.info/sct\",\"code\":\"446151000124109\"}]}");
    cr_assert_eq(run(pc, &out, NULL, &err), HUB_EUNSUPPORTED);
    cr_assert_str_eq(err.field, "Observation");
    cr_assert_eq(out.n, 0);
    cr_assert_eq(run(OBS(SDOH_CAT("food-insecurity")
                         "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
                         "\"code\":\"99999-9\"}]},\"valueString\":\"x\""),
                     &out, NULL, &err), HUB_OK);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(out.ev[0].type, "screening.completed");
}

/* Finding F67: an SDOHCC Observation Enrollment Status (STU3; its only
 * category US Core's "sdoh", which made it a screening.completed with no
 * domain, counted among screenings) says whether the person is enrolled
 * in a social care program: no screening. Alone, not one the hub knows;
 * in a bundle, context. Its earlier form (the code in category) too. */
#define ENROLL(where)                                                       \
    OBS("\"category\":[{\"coding\":[{\"system\":\"http://hl7.org/fhir/us/" \
        "core/CodeSystem/us-core-category\",\"code\":\"sdoh\"}]}" where   \
        "\"effectivePeriod\":{\"start\":\"2025-05-21\",\"end\":"       \
        "\"2029-05-20\"},\"focus\":[{\"reference\":\"HealthcareService/" \
        "h1\"}],\"valueCodeableConcept\":{\"coding\":[{\"system\":\""    \
        GRAVITY "\",\"code\":\"is-enrolled\"}]}")
#define GRAVITY_CC(c)                                                       \
    "{\"coding\":[{\"system\":\"" GRAVITY "\",\"code\":\"" c "\"}]}"
Test(fhir, an_enrollment_status_observation_is_not_a_screening)
{
    struct canon_list out;
    struct hub_err err;
    static const char as_code[] =
        ENROLL("],\"code\":" GRAVITY_CC("enrollment-status") ",");
    static const char as_category[] =
        ENROLL("," GRAVITY_CC("enrollment-status") "],\"code\":{\"text\":"
               "\"enrollment\"},");
    cr_assert_eq(run(as_code, &out, NULL, &err), HUB_EUNSUPPORTED);
    cr_assert_str_eq(err.field, "Observation");
    cr_assert_eq(out.n, 0);
    cr_assert_eq(run(as_category, &out, NULL, &err), HUB_EUNSUPPORTED);
    cr_assert_eq(out.n, 0);
    /* in a bundle it is context: no event, no refusal */
    char bundle[2048];
    snprintf(bundle, sizeof(bundle),
             "{\"resourceType\":\"Bundle\",\"type\":\"collection\","
             "\"entry\":[{\"resource\":%s}]}", as_code);
    cr_assert_eq(run(bundle, &out, NULL, &err), HUB_OK);
    cr_assert_eq(out.n, 0);
    /* the same Observation with another SDOHCC code is still a screening */
    cr_assert_eq(run(ENROLL("],\"code\":" GRAVITY_CC("food-insecurity") ","),
                     &out, NULL, &err), HUB_OK);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(out.ev[0].type, "screening.completed");
}

/* F860: OASIS-E B1300, the Single Item Literacy Screener (93157-6), sent
 * as a US Core screening Observation: Often screens personal health
 * literacy positive, Rarely negative; before the dictionary listed the
 * item, neither named a domain. */
#define SILS_OBS(answer)                                                    \
    OBS("\"category\":[{\"coding\":[{\"system\":\"http://terminology.hl7" \
        ".org/CodeSystem/observation-category\",\"code\":\"survey\"}]}],"  \
        "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":" \
        "\"93157-6\"}]},\"effectiveDateTime\":\"2024-05-02\","              \
        "\"valueCodeableConcept\":{\"coding\":[{\"system\":"                \
        "\"http://loinc.org\",\"code\":\"" answer "\"}]}")
Test(fhir, a_health_literacy_screener_names_its_domain)
{
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run(SILS_OBS("LA10044-8"), &out, NULL, &err), HUB_OK);
    cr_assert_eq(out.n, 2);
    cr_assert_str_eq(out.ev[0].type, "screening.completed");
    cr_assert_str_eq(out.ev[1].type, "screening.positive");
    cr_assert_str_eq(field_of(&out, 0, "screening.domains"),
                     "[\"personal-health-literacy\"]");
    cr_assert_str_eq(field_of(&out, 0, "screening.positive_domains"),
                     "[\"personal-health-literacy\"]");
    cr_assert_str_eq(field_of(&out, 0, "screening.items.0.positive"), "true");
    cr_assert_eq(run(SILS_OBS("LA10066-1"), &out, NULL, &err), HUB_OK);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(out.ev[0].type, "screening.completed");
    cr_assert_str_eq(field_of(&out, 0, "screening.domains"),
                     "[\"personal-health-literacy\"]");
    cr_assert_str_eq(field_of(&out, 0, "screening.items.0.positive"), "false");
}

/* F1040: HARK (76499-3), as the Behavioral Health Profiles' example
 * sends it, a QuestionnaireResponse whose `questionnaire` names no
 * instrument (the instrument is inferred from its LOINC items), and as
 * Synthea-generated FHIR sends it, loose social-history Observations:
 * one Yes is a positive intimate-partner-violence screen labelled sdv,
 * four No a negative one with no label. Before, only 76501-6, PRAPARE's,
 * was read: a Yes to being kicked gave no positive screen. */
#define HARK_ITEM(code, ans)                                                \
    "{\"linkId\":\"/" code "\",\"answer\":[{\"valueCoding\":{\"system\":"   \
    "\"http://loinc.org\",\"code\":\"" ans "\"}}]}"
#define HARK_QR(kick)                                                       \
    "{\"resourceType\":\"QuestionnaireResponse\",\"id\":\"h1\",\"status\":" \
    "\"completed\",\"questionnaire\":\"https://example.org/hark.pdf\","     \
    "\"authored\":\"2024-02-01\",\"subject\":{\"reference\":\"Patient/p1\"}" \
    ",\"item\":[" HARK_ITEM("76500-8", "LA32-8") ","                         \
    HARK_ITEM("76501-6", "LA32-8") "," HARK_ITEM("76502-4", "LA32-8") ","    \
    HARK_ITEM("76503-2", kick) "]}"
#define HARK_OBS(id, code, ans)                                             \
    "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"" id "\","    \
    "\"status\":\"final\",\"category\":[{\"coding\":[{\"system\":"          \
    "\"http://terminology.hl7.org/CodeSystem/observation-category\","      \
    "\"code\":\"social-history\"}]}],\"code\":{\"coding\":[{\"system\":"    \
    "\"http://loinc.org\",\"code\":\"" code "\"}]},\"subject\":"            \
    "{\"reference\":\"Patient/p1\"},\"effectiveDateTime\":\"2024-04-08\","  \
    "\"valueCodeableConcept\":{\"coding\":[{\"system\":\"http://loinc.org\"" \
    ",\"code\":\"" ans "\"}]}}}"
#define HARK_BUNDLE(kick)                                                   \
    "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":["      \
    HARK_OBS("o1", "76500-8", "LA32-8") ","                                  \
    HARK_OBS("o2", "76501-6", "LA32-8") ","                                  \
    HARK_OBS("o3", "76502-4", "LA32-8") ","                                  \
    HARK_OBS("o4", "76503-2", kick) "]}"
Test(fhir, a_hark_screening_is_positive_at_any_yes_and_labelled_sdv)
{
    struct canon_list out;
    struct hub_err err;
    static const struct { const char *body; bool yes; } cases[] = {
        { HARK_QR("LA33-6"), true },     { HARK_QR("LA32-8"), false },
        { HARK_BUNDLE("LA33-6"), true }, { HARK_BUNDLE("LA32-8"), false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cr_assert_eq(run(cases[i].body, &out, NULL, &err), HUB_OK,
                     "body %zu", i);
        cr_assert_eq(out.n, cases[i].yes ? 2 : 1, "body %zu", i);
        cr_assert_str_eq(out.ev[0].type, "screening.completed");
        if (cases[i].yes)
            cr_assert_str_eq(out.ev[1].type, "screening.positive");
        cr_assert_str_eq(field_of(&out, 0, "screening.instrument"),
                         "76499-3", "body %zu", i);
        cr_assert_str_eq(field_of(&out, 0, "screening.domains"),
                         "[\"intimate-partner-violence\"]");
        cr_assert_str_eq(field_of(&out, 0, "screening.positive_domains"),
                         cases[i].yes ? "[\"intimate-partner-violence\"]"
                                      : "[]", "body %zu", i);
        cr_assert_str_eq(field_of(&out, 0, "screening.items.3.positive"),
                         cases[i].yes ? "true" : "false", "body %zu", i);
        cr_assert_str_eq(field_of(&out, 0, "sensitivity"),
                         cases[i].yes ? "[\"sdv\"]" : "(absent)",
                         "body %zu", i);
    }
}

/* F861: a WE CARE survey (96447-8) names the domains it screened, food
 * and housing here, "No" to enough food and "Yes" to being at risk of
 * homelessness alike, and never a positive one: no published rule says
 * which answer is a need. Before, it screened no domain. */
#define WE_CARE_QR(food, homeless)                                          \
    "{\"resourceType\":\"QuestionnaireResponse\",\"status\":\"completed\"," \
    "\"questionnaire\":\"http://loinc.org/q/96447-8\",\"authored\":"      \
    "\"2024-05-02\",\"subject\":{\"reference\":\"Patient/p1\"},\"item\":["  \
    "{\"linkId\":\"1\",\"code\":[{\"system\":\"http://loinc.org\","       \
    "\"code\":\"96434-6\"}],\"answer\":[{\"valueCoding\":{\"system\":"    \
    "\"http://loinc.org\",\"code\":\"" food "\"}}]},"                       \
    "{\"linkId\":\"2\",\"code\":[{\"system\":\"http://loinc.org\","       \
    "\"code\":\"96441-1\"}],\"answer\":[{\"valueCoding\":{\"system\":"    \
    "\"http://loinc.org\",\"code\":\"" homeless "\"}}]}]}"
/* F1000 (F821): a WE CARE QuestionnaireResponse is positive for the need
 * its answer reports: "No" to enough food (food), "Yes" to being at risk
 * of homelessness (housing); the other answers are negative. F861 made
 * both bodies screening.completed with no positive domain. */
Test(fhir, a_we_care_survey_is_positive_where_a_need_is_reported)
{
    struct canon_list out;
    struct hub_err err;
    static const struct { const char *body, *positive; size_t n; } cases[] = {
        { WE_CARE_QR("LA32-8", "LA33-6"),
          "[\"food-insecurity\",\"housing-instability\"]", 2 },
        { WE_CARE_QR("LA33-6", "LA32-8"), "[]", 1 },
        { WE_CARE_QR("LA32-8", "LA32-8"), "[\"food-insecurity\"]", 2 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cr_assert_eq(run(cases[i].body, &out, NULL, &err), HUB_OK);
        cr_assert_eq(out.n, cases[i].n, "body %zu", i);
        cr_assert_str_eq(out.ev[0].type, "screening.completed");
        if (cases[i].n == 2)
            cr_assert_str_eq(out.ev[1].type, "screening.positive");
        cr_assert_str_eq(field_of(&out, 0, "screening.instrument"),
                         "96447-8");
        cr_assert_str_eq(field_of(&out, 0, "screening.domains"),
                         "[\"food-insecurity\",\"housing-instability\"]");
        cr_assert_str_eq(field_of(&out, 0, "screening.positive_domains"),
                         cases[i].positive, "body %zu", i);
    }
}

/* Finding F20: an instrument is inferred from a QuestionnaireResponse's
 * items only when the dictionary knows at least half of its questions. A
 * PHQ-9 (the behavioral health IG's phq-9-example-1) opens with the two
 * PHQ-2 items of the AHC HRSN supplemental questions and was sent on as
 * "AHC HRSN Screening Tool supplemental questions". */
#define QR_ITEM(q, a)                                                       \
    "{\"linkId\":\"/" q "\",\"answer\":[{\"valueCoding\":{\"system\":"     \
    "\"http://loinc.org\",\"code\":\"" a "\"}}]}"
#define QR(items)                                                           \
    "{\"resourceType\":\"QuestionnaireResponse\",\"id\":\"q9\","            \
    "\"status\":\"completed\",\"subject\":{\"reference\":\"Patient/p1\"},"  \
    "\"authored\":\"2024-02-01\",\"item\":[" items "]}"
Test(fhir, an_instrument_is_not_inferred_from_a_minority_of_its_items)
{
    struct canon_list out;
    struct hub_err err;
    /* the two PHQ-2 items alone: the AHC HRSN supplemental questions */
    cr_assert_eq(run(QR(QR_ITEM("44250-9", "LA6570-1") ","
                        QR_ITEM("44255-8", "LA6570-1")),
                     &out, NULL, &err), HUB_OK);
    cr_assert_str_eq(field_of(&out, 0, "screening.instrument"), "97023-6");
    /* with five more PHQ-9 items the dictionary does not know: none */
    cr_assert_eq(run(QR(QR_ITEM("44250-9", "LA6570-1") ","
                        QR_ITEM("44255-8", "LA6570-1") ","
                        QR_ITEM("44259-0", "LA6570-1") ","
                        QR_ITEM("44254-1", "LA6570-1") ","
                        QR_ITEM("44251-7", "LA6569-3")),
                     &out, NULL, &err), HUB_OK);
    cr_assert_str_eq(field_of(&out, 0, "screening.instrument"), "(absent)");
}

/* F1722: a completed response of no known instrument none of whose
 * questions or answers the dictionary knows cannot be labelled: LHC-Forms'
 * SDC PHQ-9 (local link ids, code-less answers) was sent on as a screening
 * with its self-harm answer and no `psy` label. It is context: no event,
 * and the sender is told why in an informational issue. */
#define LOCAL_ITEM(l, a)                                                    \
    "{\"linkId\":\"" l "\",\"answer\":[{\"valueCoding\":{\"code\":\""  \
    a "\"}}]}"
Test(fhir, a_response_of_nothing_the_dictionary_knows_is_context_and_says_why)
{
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    struct slice oo;
    cr_assert_eq(run(QR(LOCAL_ITEM("H1/T1/Q1", "Not-at-all") ","
                        LOCAL_ITEM("H1/T1/Q9", "Several-days") ","
                        "{\"linkId\":\"H1/TS\",\"answer\":[{\"valueQuantity\":"
                        "{\"value\":13,\"unit\":\"{score}\"}}]}"),
                     &out, &res, &err), HUB_OK, "%s %s", err.field, err.what);
    cr_assert_eq(out.n, 0, "no screening of what the hub cannot read");
    cr_assert_eq(res.entries[0].status, HUB_OK);
    cr_assert_eq(res.entries[0].n_warnings, 0, "no warning: context");
    cr_assert_not_null(res.entries[0].note.what);
    cr_assert_eq(fhir_result_outcome(&A, &res, &oo), HUB_OK);
    cJSON *o = cJSON_ParseWithLength(oo.p, oo.len);
    const cJSON *issues = cJSON_GetObjectItem(o, "issue");
    cr_assert_eq(cJSON_GetArraySize(issues), 1, "%.*s", (int)oo.len, oo.p);
    const cJSON *i0 = cJSON_GetArrayItem(issues, 0);
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(i0, "severity")),
                     "information");
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(i0, "code")),
                     "informational");
    const char *why =
        cJSON_GetStringValue(cJSON_GetObjectItem(i0, "diagnostics"));
    cr_assert_not_null(strstr(why, "accepted with no event"), "%s", why);
    cr_assert_not_null(strstr(why, "not read as a screening"), "%s", why);
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetArrayItem(
                         cJSON_GetObjectItem(i0, "expression"), 0)),
                     "QuestionnaireResponse");
    cJSON_Delete(o);
    /* an unknown `questionnaire` changes nothing: it names no instrument */
    cr_assert_eq(run("{\"resourceType\":\"QuestionnaireResponse\",\"id\":\"q8\","
                     "\"questionnaire\":\"http://x.org/Questionnaire/phq9\","
                     "\"status\":\"amended\",\"subject\":{\"reference\":"
                     "\"Patient/p1\"},\"item\":[" LOCAL_ITEM("q9", "2") "]}",
                     &out, &res, &err), HUB_OK);
    cr_assert_eq(out.n, 0);
    cr_assert_not_null(res.entries[0].note.what);
}

Test(fhir, a_response_with_one_known_question_or_answer_is_a_screening)
{
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    /* one question of an instrument beside local ones */
    cr_assert_eq(run(QR(LOCAL_ITEM("a", "x") ","
                        QR_ITEM("88122-7", "LA28398-8")),
                     &out, &res, &err), HUB_OK);
    cr_assert_eq(out.n, 1);
    cr_assert_null(res.entries[0].note.what);
    /* a question known only by the label its answer implies (PHQ-9 item
     * 9): a screening, and labelled */
    cr_assert_eq(run(QR(LOCAL_ITEM("a", "x") ","
                        QR_ITEM("44260-8", "LA6569-3")),
                     &out, &res, &err), HUB_OK);
    cr_assert_eq(out.n, 1);
    cr_assert_not_null(strstr(out.ev[0].json.p, "\"psy\""), "%.*s",
                       (int)out.ev[0].json.len, out.ev[0].json.p);
    /* local link ids answered with a SNOMED CT finding of a domain
     * (733423003 Food insecurity) */
    cr_assert_eq(run(QR(LOCAL_ITEM("a", "733423003")), &out, &res, &err),
                 HUB_OK);
    cr_assert_eq(out.n, 1);
    /* a known instrument by `questionnaire`, whatever the link ids */
    cr_assert_eq(run("{\"resourceType\":\"QuestionnaireResponse\",\"id\":\"q7\","
                     "\"questionnaire\":\"http://loinc.org/q/88121-9\","
                     "\"status\":\"completed\",\"subject\":{\"reference\":"
                     "\"Patient/p1\"},\"item\":[" LOCAL_ITEM("q1", "x") "]}",
                     &out, &res, &err), HUB_OK);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(field_of(&out, 0, "screening.instrument"), "88121-9");
}

/* F2860: MyCarePlanner's AHC response (tests/data/real/fhir, refused as
 * published for its empty subject) given a subject and its Questionnaire's
 * canonical: a screening of the AHC HRSN whose nine items are the app's
 * numeric link ids, among them "How often does anyone ... scream or curse
 * at you?" answered Frequently. It went out with no label; it carries
 * every label a question of the AHC not placed can (`sdv`), and a warning
 * says why without quoting any answer. A coded response is labelled by
 * its answers alone, as before. */
Test(fhir, an_ahc_response_of_items_not_placed_carries_the_ahc_labels)
{
    char path[600];
    size_t len;
    snprintf(path, sizeof(path), "%s/tests/data/real/fhir/"
             "r182-mycareplanner_QuestionnaireResponse-AHC.json", root());
    char *p = testfile_read(path, &len);
    cr_assert_not_null(p, "%s", path);
    cJSON *qr = cJSON_ParseWithLength(p, len);
    free(p);
    cr_assert_not_null(qr);
    cJSON_ReplaceItemInObject(qr, "subject",
                              cJSON_Parse("{\"reference\":\"Patient/p1\"}"));
    cJSON_AddStringToObject(qr, "questionnaire", "http://loinc.org/q/96777-8");
    char *json = cJSON_PrintUnformatted(qr);
    cJSON_Delete(qr);
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    cr_assert_eq(run(json, &out, &res, &err), HUB_OK, "%s %s", err.field,
                 err.what);
    free(json);
    cr_assert_eq(out.n, 1, "completed, nothing placed to be positive");
    cr_assert_str_eq(field_of(&out, 0, "screening.instrument"), "96777-8");
    cr_assert_str_eq(field_of(&out, 0, "screening.items.0.question"),
                     "123825");
    cr_assert_str_eq(field_of(&out, 0, "sensitivity"), "[\"sdv\"]");
    cr_assert_str_eq(field_of(&out, 0, "warnings.0.field"),
                     "QuestionnaireResponse");
    const char *why = field_of(&out, 0, "warnings.0.what");
    cr_assert_str_eq(why, DICT_UNPLACED_LABELLED);
    cr_assert_null(strstr(why, "LA"), "no answer in the warning: %s", why);
    cr_assert_null(strstr(why, "1238"), "no link id in the warning: %s", why);
    cr_assert_eq(res.entries[0].n_warnings, 1);

    /* every item placed: its own labels, exactly, and no such warning */
    static const char coded_never[] =
        "{\"resourceType\":\"QuestionnaireResponse\",\"id\":\"q9\","
        "\"questionnaire\":\"http://loinc.org/q/96777-8\","
        "\"status\":\"completed\","
        "\"subject\":{\"reference\":\"Patient/p1\"},"
        "\"authored\":\"2024-02-01\",\"item\":["
        QR_ITEM("71802-3", "LA31994-9") "," QR_ITEM("95618-5", "LA6270-8") ","
        QR_ITEM("95617-7", "LA6270-8") ","
        QR_ITEM("95616-9", "LA6270-8") "," QR_ITEM("95615-1", "LA6270-8")
        "]}";
    cr_assert_eq(run(coded_never, &out, &res, &err), HUB_OK);
    for (size_t i = 0; i < out.n; i++) {
        cr_assert_str_eq(field_of(&out, i, "sensitivity"), "(absent)", "%zu",
                         i);
        cr_assert_str_eq(field_of(&out, i, "warnings"), "(absent)", "%zu", i);
    }
    static const char coded_frequently[] =
        "{\"resourceType\":\"QuestionnaireResponse\",\"id\":\"q9\","
        "\"questionnaire\":\"http://loinc.org/q/96777-8\","
        "\"status\":\"completed\","
        "\"subject\":{\"reference\":\"Patient/p1\"},"
        "\"authored\":\"2024-02-01\",\"item\":["
        QR_ITEM("95618-5", "LA6482-9") "]}";
    cr_assert_eq(run(coded_frequently, &out, &res, &err), HUB_OK);
    cr_assert_geq(out.n, 1);
    cr_assert_str_eq(field_of(&out, 0, "sensitivity"), "[\"sdv\"]");
    cr_assert_str_eq(field_of(&out, 0, "warnings"), "(absent)");
}

/* F1801: a generic answer (Yes LA33-6, No LA32-8, "Often true", the
 * derived "At risk") is in the dictionary's lists but names nothing
 * without a question the dictionary knows: a form of the sender's own so
 * answered (SHIN-NY's referral approval, its service-duplication form)
 * is context. An answer that carries a domain of its own still reads. */
Test(fhir, a_generic_answer_to_a_question_of_the_senders_own_is_context)
{
    static const char *const context[] = {
        QR(LOCAL_ITEM("patient-assessment-approval-indicator", "LA33-6")),
        QR(LOCAL_ITEM("a", "LA32-8") "," LOCAL_ITEM("b", "LA32-8") ","
           LOCAL_ITEM("c", "LA32-8")),
        /* a LOINC question no table has (69859-7) is the sender's too */
        QR(QR_ITEM("69859-7", "LA32-8")),
        QR(LOCAL_ITEM("a", "LA28398-8")),
        QR(LOCAL_ITEM("a", "LA19952-3")),
    };
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    for (size_t i = 0; i < sizeof(context) / sizeof(*context); i++) {
        cr_assert_eq(run(context[i], &out, &res, &err), HUB_OK, "%zu", i);
        cr_assert_eq(out.n, 0, "%zu: no screening", i);
        cr_assert_not_null(res.entries[0].note.what, "%zu: says why", i);
    }
    /* an answer with a domain of its own (PRAPARE's "Food" LA30125-1) */
    cr_assert_eq(run(QR(LOCAL_ITEM("a", "LA30125-1")), &out, &res, &err),
                 HUB_OK);
    cr_assert_eq(out.n, 1);
    cr_assert_null(res.entries[0].note.what);
    /* Yes to a question the dictionary knows (AHC 93030-5, transport)
     * is read: a positive screening */
    cr_assert_eq(run(QR(LOCAL_ITEM("a", "LA33-6") ","
                        QR_ITEM("93030-5", "LA33-6")),
                     &out, &res, &err), HUB_OK);
    cr_assert_eq(out.n, 2, "completed and positive");
    cr_assert_str_eq(field_of(&out, 1, "type"), "screening.positive");
    cr_assert_null(res.entries[0].note.what);
}

Test(fhir, an_unread_response_in_a_bundle_says_why_beside_the_other_events)
{
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    struct slice oo;
    const char *j =
        "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":["
        "{\"resource\":" GOAL_X "\"subject\":{\"reference\":\"Patient/p\"}}},"
        "{\"resource\":" QR(LOCAL_ITEM("H1/T1/Q9", "Several-days")) "}]}";
    cr_assert_eq(run(j, &out, &res, &err), HUB_OK, "%s %s", err.field, err.what);
    cr_assert_eq(out.n, 1, "the Goal's event only");
    cr_assert_null(res.entries[0].note.what);
    cr_assert_not_null(res.entries[1].note.what);
    cr_assert_eq(fhir_result_outcome(&A, &res, &oo), HUB_OK);
    cr_assert_not_null(strstr(oo.p, "\"expression\":[\"Bundle.entry[1].resource\"]"),
                       "%.*s", (int)oo.len, oo.p);
    cr_assert_null(strstr(oo.p, "all entries accepted"), "%.*s", (int)oo.len,
                   oo.p);
}

/* F27: loose answers of one encounter without a panel Observation (the
 * SHIN-NY declined bundle's twelve NYS AHC HRSN questions) are named by
 * their questions, by the rule of a QuestionnaireResponse's: the smallest
 * instrument holding every known question. Not when they come from
 * several encounters, nor when two instruments of that size hold them. */
#define LOOSE(id, enc, q, a)                                                \
    "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"" id "\","     \
    "\"status\":\"final\",\"category\":[{\"coding\":[{\"code\":"            \
    "\"survey\"}]}],\"subject\":{\"reference\":\"Patient/p1\"}," enc        \
    "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\""    \
    q "\"}]},\"effectiveDateTime\":\"2024-02-23\",\"valueCodeableConcept\":" \
    "{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"" a "\"}]}}}"
#define ENC(e) "\"encounter\":{\"reference\":\"Encounter/" e "\"},"
#define COLLECTION(entries)                                                 \
    "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":["      \
    entries "]}"

/* F1802: an Observation derivedFrom a response of the same message is
 * folded into the response's screening only when the response gives one.
 * A response the hub cannot read (local link ids) is context, and the
 * Observation extracted from it, coded LOINC 44260-8 (PHQ-9 item 9) =
 * LA6569-3, is read as if it stood alone: a screening, labelled psy by
 * the dictionary. Derived from a response that is read, it is still
 * folded into that response's event. */
#define DERIVED_OBS(id, from)                                               \
    "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"" id "\","    \
    "\"status\":\"final\",\"category\":[{\"coding\":[{\"system\":"          \
    "\"http://terminology.hl7.org/CodeSystem/observation-category\","     \
    "\"code\":\"survey\"}]}],\"code\":{\"coding\":[{\"system\":"            \
    "\"http://loinc.org\",\"code\":\"44260-8\"}]},\"subject\":{"            \
    "\"reference\":\"Patient/p1\"},\"effectiveDateTime\":\"2024-02-01\","    \
    "\"valueCodeableConcept\":{\"coding\":[{\"system\":\"http://loinc.org\"," \
    "\"code\":\"LA6569-3\"}]},\"derivedFrom\":[{\"reference\":"             \
    "\"QuestionnaireResponse/" from "\"}]}}"
Test(fhir, an_observation_derived_from_an_unread_response_stands_alone)
{
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    const char *unread =
        COLLECTION("{\"resource\":" QR(LOCAL_ITEM("H1/T1/Q9", "Several-days"))
                   "}," DERIVED_OBS("o9", "q9"));
    cr_assert_eq(run(unread, &out, &res, &err), HUB_OK, "%s %s", err.field,
                 err.what);
    cr_assert_eq(out.n, 1, "the Observation's screening");
    cr_assert_str_eq(field_of(&out, 0, "type"), "screening.completed");
    cr_assert_str_eq(field_of(&out, 0, "source.resource"), "Observation/o9");
    cr_assert_not_null(strstr(out.ev[0].json.p, "\"psy\""), "%.*s",
                       (int)out.ev[0].json.len, out.ev[0].json.p);
    cr_assert_not_null(res.entries[0].note.what, "the response says why");
    cr_assert_eq(res.entries[1].n_events, 1);
    /* the Observation first: the same */
    const char *before =
        COLLECTION(DERIVED_OBS("o9", "q9") ",{\"resource\":"
                   QR(LOCAL_ITEM("H1/T1/Q9", "Several-days")) "}");
    cr_assert_eq(run(before, &out, &res, &err), HUB_OK);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(field_of(&out, 0, "source.resource"), "Observation/o9");
    /* derived from a response that is read: folded into its event */
    const char *read =
        COLLECTION("{\"resource\":" QR(QR_ITEM("44260-8", "LA6569-3")) "},"
                   DERIVED_OBS("o9", "q9"));
    cr_assert_eq(run(read, &out, &res, &err), HUB_OK);
    cr_assert_eq(out.n, 1, "the response's screening only");
    cr_assert_str_eq(field_of(&out, 0, "source.resource"),
                     "QuestionnaireResponse/q9");
    cr_assert_eq(res.entries[1].n_events, 0);
}

/* F2061: an Observation read alone in the second pass (F1802) gathered the
 * loose items after it as if none had been read yet: one the first pass
 * had already told as a screening of its own (an HVS item of the same
 * patient and day, not derived) was told a second time, in the derived
 * item's event; and two items derived from the same unread response were
 * two screenings, each read before the other was released, where read
 * alone they are one. */
#define HVS_ITEM(id)                                                        \
    "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"" id "\","    \
    "\"status\":\"final\",\"category\":[{\"coding\":[{\"code\":"            \
    "\"survey\"}]}],\"subject\":{\"reference\":\"Patient/p1\"},"            \
    "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":"      \
    "\"88122-7\"}]},\"effectiveDateTime\":\"2024-02-01\","                  \
    "\"valueCodeableConcept\":{\"coding\":[{\"system\":\"http://loinc.org\"," \
    "\"code\":\"LA28397-0\"}]}}}"
static size_t events_naming(const struct canon_list *out, const char *what)
{
    size_t n = 0;
    for (size_t i = 0; i < out->n; i++)
        if (strstr(out->ev[i].json.p, what))
            n++;
    return n;
}

/* r189's probe: F2821's slip in derivedFrom. An Observation derivedFrom
 * its response written "QuestionnaireResponse/urn:uuid:X" (the slip F2323
 * reads as the bundle's entry it names) is folded into the response's
 * screening as one derived by a reference written right is, in either
 * order: not told a second time on its own. */
Test(fhir, an_observation_derived_from_a_response_by_the_slip_is_folded)
{
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    const char *forms[2] = {
        COLLECTION("{\"fullUrl\":\"urn:uuid:q9\",\"resource\":"
                   QR(QR_ITEM("44260-8", "LA6569-3")) "},"
                   DERIVED_OBS("o9", "urn:uuid:q9")),
        COLLECTION(DERIVED_OBS("o9", "urn:uuid:q9") ",{\"fullUrl\":"
                   "\"urn:uuid:q9\",\"resource\":"
                   QR(QR_ITEM("44260-8", "LA6569-3")) "}"),
    };
    for (size_t k = 0; k < 2; k++) {
        cr_assert_eq(run(forms[k], &out, &res, &err), HUB_OK, "%s %s",
                     err.field, err.what);
        cr_expect_eq(out.n, 1, "order %zu: the response's screening only, "
                     "not %zu events", k, out.n);
        cr_expect_eq(events_naming(&out, "Observation/o9"), 0, "order %zu",
                     k);
    }
}

/* F2623 (round 169, the lead's): an Observation of another patient
 * derivedFrom a response of the message was folded into that response
 * (F1802) and gave nothing: p2's positive PHQ-9 item 9 was lost beside
 * p1's response. It is now read on its own, as p2's screening; p1's
 * response gives its own, in either order. */
Test(fhir, an_observation_of_another_patient_is_not_folded_into_a_response)
{
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    static const char obs_p2[] =
        "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"o9\","
        "\"status\":\"final\",\"category\":[{\"coding\":[{\"system\":"
        "\"http://terminology.hl7.org/CodeSystem/observation-category\","
        "\"code\":\"survey\"}]}],\"code\":{\"coding\":[{\"system\":"
        "\"http://loinc.org\",\"code\":\"44260-8\"}]},\"subject\":{"
        "\"reference\":\"Patient/p2\"},\"effectiveDateTime\":\"2024-02-01\","
        "\"valueCodeableConcept\":{\"coding\":[{\"system\":"
        "\"http://loinc.org\",\"code\":\"LA6569-3\"}]},\"derivedFrom\":[{"
        "\"reference\":\"QuestionnaireResponse/q9\"}]}}";
    static const char qr[] =
        "{\"resource\":" QR(QR_ITEM("44260-8", "LA6573-5")) "}";
    char body[4096];
    for (int order = 0; order < 2; order++) {
        snprintf(body, sizeof(body),
                 "{\"resourceType\":\"Bundle\",\"type\":\"collection\","
                 "\"entry\":[%s,%s]}", order ? obs_p2 : qr,
                 order ? qr : obs_p2);
        cr_assert_eq(run(body, &out, &res, &err), HUB_OK, "%s %s", err.field,
                     err.what);
        cr_assert_eq(out.n, 2, "order %d: one screening each", order);
        cr_expect_eq(events_naming(&out, "\"Observation/o9\""), 1,
                     "order %d: p2's item is read on its own", order);
        cr_expect_eq(events_naming(&out, "\"QuestionnaireResponse/q9\""), 1,
                     "order %d", order);
    }
}

Test(fhir, an_observation_read_alone_gathers_no_item_told_already)
{
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    const char *j =
        COLLECTION("{\"resource\":" QR(LOCAL_ITEM("H1/T1/Q9", "Several-days"))
                   "}," DERIVED_OBS("o9", "q9") "," HVS_ITEM("h1"));
    cr_assert_eq(run(j, &out, &res, &err), HUB_OK, "%s %s", err.field,
                 err.what);
    size_t with_hvs = events_naming(&out, "88122-7");
    cr_assert_gt(with_hvs, 0, "the HVS item is told");
    cr_assert_eq(with_hvs, events_naming(&out, "\"Observation/h1\""),
                 "the HVS item is told in its own screening only, not "
                 "again in the derived item's (%zu events name it)",
                 with_hvs);
    cr_assert_eq(res.entries[1].n_events + res.entries[2].n_events, out.n);
    /* two items derived from the unread response, of one patient and day:
     * one screening, as if the response were not there */
    const char *two =
        COLLECTION("{\"resource\":" QR(LOCAL_ITEM("H1/T1/Q9", "Several-days"))
                   "}," DERIVED_OBS("o9", "q9") ","
                   DERIVED_OBS("o10", "q9"));
    cr_assert_eq(run(two, &out, &res, &err), HUB_OK, "%s %s", err.field,
                 err.what);
    cr_assert_eq(res.entries[2].n_events, 0, "o10 is gathered into o9's");
    cr_assert_eq(events_naming(&out, "\"Observation/o10\""), 0);
    cr_assert_gt(res.entries[1].n_events, 0);
}
#undef HVS_ITEM
#undef DERIVED_OBS

static struct dict *dict_with(const char *name, const char *text)
{
    static const char *const files[] = { "domains.json", "instruments.json",
        "zcodes.json", "task-status.json", "security-labels.json" };
    struct dict_file f[6];
    char *keep[5];
    for (size_t i = 0; i < 5; i++) {
        char path[600];
        size_t len;
        snprintf(path, sizeof(path), "%s/schemas/dict/%s", root(), files[i]);
        keep[i] = testfile_read(path, &len);
        cr_assert_not_null(keep[i], "%s", path);
        f[i] = (struct dict_file){ files[i], keep[i], len };
    }
    f[5] = (struct dict_file){ name, text, strlen(text) };
    struct dict *d;
    struct dict_err e;
    cr_assert_eq(dict_load(f, 6, &d, &e), HUB_OK, "%s %s", e.path, e.what);
    for (size_t i = 0; i < 5; i++)
        free(keep[i]);
    return d;
}

Test(fhir, loose_answers_of_one_encounter_are_named_by_their_questions)
{
    struct canon_list out;
    struct hub_err err;
    /* employment is asked by the NYS twelve and the AHC supplemental
     * questions, living situation by the NYS twelve, AHC core and
     * PRAPARE: only the NYS twelve hold both */
    cr_assert_eq(run(COLLECTION(LOOSE("a", ENC("e1"), "71802-3", "LA31993-1")
                                "," LOOSE("b", ENC("e1"), "96780-2",
                                          "LA31981-6")),
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_str_eq(field_of(&out, 0, "screening.instrument"), "NYSAHCHRSN");
    cr_assert_str_eq(field_of(&out, 0, "screening.items.1.question"),
                     "96780-2");
    /* neither names an encounter: one screening too */
    cr_assert_eq(run(COLLECTION(LOOSE("a", "", "71802-3", "LA31993-1") ","
                                LOOSE("b", "", "96780-2", "LA31981-6")),
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_str_eq(field_of(&out, 0, "screening.instrument"), "NYSAHCHRSN");
    /* the two Hunger Vital Sign questions: the HVS (three items) before
     * the AHC core (ten) and the NYS twelve that ask them too */
    cr_assert_eq(run(COLLECTION(LOOSE("a", ENC("e1"), "88122-7", "LA28397-0")
                                "," LOOSE("b", ENC("e1"), "88123-5",
                                          "LA28398-8")),
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_str_eq(field_of(&out, 0, "screening.instrument"), "88121-9");
    /* answers of two encounters gathered as one: not named */
    cr_assert_eq(run(COLLECTION(LOOSE("a", ENC("e1"), "71802-3", "LA31993-1")
                                "," LOOSE("b", ENC("e2"), "96780-2",
                                          "LA31981-6")),
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_eq(out.n, 2);
    cr_assert_str_eq(field_of(&out, 0, "screening.instrument"), "(absent)");
    cr_assert_eq(run(COLLECTION(LOOSE("a", ENC("e1"), "71802-3", "LA31993-1")
                                "," LOOSE("b", "", "96780-2", "LA31981-6")),
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_str_eq(field_of(&out, 0, "screening.instrument"), "(absent)");
    /* one answer says too little */
    cr_assert_eq(run(COLLECTION(LOOSE("a", ENC("e1"), "96780-2", "LA31981-6")),
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_str_eq(field_of(&out, 0, "screening.instrument"), "(absent)");

    /* a site's instrument of the same three questions as the HVS: which
     * of the two was asked is a guess, so neither (a response too) */
    struct dict *keep = D;
    D = dict_with("instruments-tie.json",
        "{\"instruments\":[{\"code\":\"TIE-3\",\"system\":\"urn:x\","
        "\"name\":\"three food questions\",\"items\":["
        "{\"question\":\"88122-7\",\"domain\":\"food-insecurity\","
        "\"answers\":[{\"code\":\"LA28397-0\",\"positive\":true}]},"
        "{\"question\":\"88123-5\",\"domain\":\"food-insecurity\","
        "\"answers\":[{\"code\":\"LA28397-0\",\"positive\":true}]},"
        "{\"question\":\"88124-3\",\"domain\":\"food-insecurity\","
        "\"answers\":[{\"code\":\"LA19952-3\",\"positive\":true}]}]}]}");
    int rc = run(COLLECTION(LOOSE("a", ENC("e1"), "88122-7", "LA28397-0") ","
                            LOOSE("b", ENC("e1"), "88123-5", "LA28398-8")),
                 &out, NULL, &err);
    const char *got = rc == HUB_OK ? field_of(&out, 0, "screening.instrument")
                                   : "(refused)";
    char obs_got[64];
    snprintf(obs_got, sizeof(obs_got), "%s", got);
    rc = run(QR(QR_ITEM("88122-7", "LA28397-0") ","
                QR_ITEM("88123-5", "LA28398-8")), &out, NULL, &err);
    got = rc == HUB_OK ? field_of(&out, 0, "screening.instrument") : "(refused)";
    char qr_got[64];
    snprintf(qr_got, sizeof(qr_got), "%s", got);
    dict_free(D);
    D = keep;
    cr_assert_str_eq(obs_got, "(absent)");
    cr_assert_str_eq(qr_got, "(absent)");
}

/* F31: a screening names the encounter it was taken in and who took it
 * (Observation.performer, QuestionnaireResponse.author), as the CSV
 * adapter carries ENCOUNTER_ID; a reference that is no string is left
 * out, not refused. */
Test(fhir, a_screening_names_its_encounter_and_performer)
{
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run(OBS("\"encounter\":{\"reference\":\"Encounter/e1\"},"
                         "\"performer\":[{\"reference\":\"Organization/scn\"},"
                         "{\"reference\":\"Practitioner/p\"}],"
                         "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
                         "\"code\":\"88122-7\"}]},\"valueCodeableConcept\":"
                         "{\"coding\":[{\"code\":\"LA28398-8\"}]}"),
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_str_eq(field_of(&out, 0, "screening.encounter"), "Encounter/e1");
    cr_assert_str_eq(field_of(&out, 0, "screening.performer"),
                     "Organization/scn");
    cr_assert_eq(run("{\"resourceType\":\"QuestionnaireResponse\",\"id\":\"q\","
                     "\"status\":\"completed\",\"subject\":{\"reference\":"
                     "\"Patient/p1\"},\"encounter\":{\"reference\":"
                     "\"Encounter/e2\"},\"author\":{\"reference\":"
                     "\"Practitioner/cw\"},\"item\":[" QR_ITEM("88122-7",
                     "LA28398-8") "]}", &out, NULL, &err), HUB_OK, "%s",
                 err.field);
    cr_assert_str_eq(field_of(&out, 0, "screening.encounter"), "Encounter/e2");
    cr_assert_str_eq(field_of(&out, 0, "screening.performer"),
                     "Practitioner/cw");
    cr_assert_eq(run(OBS("\"encounter\":{\"reference\":7},\"performer\":{},"
                         "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
                         "\"code\":\"88122-7\"}]},\"valueCodeableConcept\":"
                         "{\"coding\":[{\"code\":\"LA28398-8\"}]}"),
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_str_eq(field_of(&out, 0, "screening.encounter"), "(absent)");
    cr_assert_str_eq(field_of(&out, 0, "screening.performer"), "(absent)");
}

/* F135: a QuestionnaireResponse with no author names who answered it in
 * source (FHIR R4: "the person who answered the questions"); the SDOHCC
 * Hunger Vital Sign response does so, and the Observations derived from
 * it carry that person as performer, so the same screening sent as
 * Observations named a performer and sent as the response did not. The
 * author still comes first; an Observation has no source, and one sent
 * with such a member does not take it as performer. */
#define QR_WHO(who)                                                         \
    "{\"resourceType\":\"QuestionnaireResponse\",\"id\":\"q\","             \
    "\"status\":\"completed\",\"subject\":{\"reference\":\"Patient/p1\"},"  \
    who "\"item\":[" QR_ITEM("88122-7", "LA28398-8") "]}"
Test(fhir, a_questionnaire_response_without_author_names_its_source)
{
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run(QR_WHO("\"source\":{\"reference\":\"Patient/p1\"},"),
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_str_eq(field_of(&out, 0, "screening.performer"), "Patient/p1");
    cr_assert_eq(run(QR_WHO("\"source\":{\"reference\":\"RelatedPerson/m\"},"
                            "\"author\":{\"reference\":\"Practitioner/cw\"},"),
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_str_eq(field_of(&out, 0, "screening.performer"),
                     "Practitioner/cw");
    cr_assert_eq(run(QR_WHO("\"source\":{\"display\":\"the patient\"},"),
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_str_eq(field_of(&out, 0, "screening.performer"), "(absent)");
    cr_assert_eq(run(OBS("\"source\":{\"reference\":\"Patient/p1\"},"
                         "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
                         "\"code\":\"88122-7\"}]},\"valueCodeableConcept\":"
                         "{\"coding\":[{\"code\":\"LA28398-8\"}]}"),
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_str_eq(field_of(&out, 0, "screening.performer"), "(absent)");
}

/* Whether event k of `l` warns `what` at a field that holds `field` */
static bool event_warns(const struct canon_list *l, size_t k,
                        const char *field, const char *what)
{
    cJSON *e = cJSON_ParseWithLength(l->ev[k].json.p, l->ev[k].json.len);
    bool warned = false;
    const cJSON *ws = cJSON_GetObjectItemCaseSensitive(e, "warnings");
    for (const cJSON *w = ws ? ws->child : NULL; w; w = w->next) {
        const char *f = cJSON_GetStringValue(
            cJSON_GetObjectItemCaseSensitive(w, "field"));
        const char *t = cJSON_GetStringValue(
            cJSON_GetObjectItemCaseSensitive(w, "what"));
        warned |= f && t && strstr(f, field) && strstr(t, what);
    }
    cJSON_Delete(e);
    return warned;
}

/* F1942: a referral whose categories and code name no domain (SNOMED CT
 * 3457005 "Patient referral", as a demo care platform's transaction
 * sends it: round 136's robert-chen sample) but whose reasonReference is
 * a Condition of the message with one is for that need: its events name
 * the Condition's domain, so a subscription to financial-insecurity gets
 * the referral as it gets the Condition. */
#define REASON_COND(id, code)                                               \
    "{\"resourceType\":\"Condition\",\"id\":\"" id "\",\"subject\":"         \
    "{\"reference\":\"urn:uuid:p\"},\"code\":{\"coding\":[{\"system\":"     \
    "\"http://hl7.org/fhir/sid/icd-10-cm\",\"code\":\"" code "\"}]}}"
#define REASON_SR(extra, reason)                                            \
    "{\"resourceType\":\"ServiceRequest\",\"id\":\"sr\",\"status\":"       \
    "\"active\",\"intent\":\"order\",\"subject\":{\"reference\":"          \
    "\"urn:uuid:p\"}," extra "\"code\":{\"coding\":[{\"system\":"          \
    "\"http://snomed.info/sct\",\"code\":\"3457005\"}]},"                  \
    "\"reasonReference\":[{\"reference\":\"" reason "\"}]}"
#define REASON_BUNDLE(cond, sr)                                             \
    "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["          \
    "{\"fullUrl\":\"urn:uuid:p\",\"resource\":{\"resourceType\":"          \
    "\"Patient\",\"identifier\":[{\"system\":\"urn:x\",\"value\":\"1\"}]},"  \
    "\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}},"                \
    "{\"fullUrl\":\"urn:uuid:c\",\"resource\":" cond ",\"request\":"        \
    "{\"method\":\"POST\",\"url\":\"Condition\"}},"                         \
    "{\"fullUrl\":\"urn:uuid:s\",\"resource\":" sr ",\"request\":"          \
    "{\"method\":\"POST\",\"url\":\"ServiceRequest\"}}]}"
Test(fhir, a_referral_of_no_domain_takes_its_reason_conditions)
{
    static const struct {
        const char *json, *domain;
    } cases[] = {
        { REASON_BUNDLE(REASON_COND("c1", "Z59.86"),
                        REASON_SR("", "urn:uuid:c")),
          "financial-insecurity" },
        { REASON_BUNDLE(REASON_COND("c1", "Z59.86"),
                        REASON_SR("", "Condition/c1")),
          "financial-insecurity" },
        /* a contained Condition */
        { REASON_BUNDLE(REASON_COND("c1", "I10"),
                        REASON_SR("\"contained\":[" REASON_COND("k", "Z59.41")
                                  "],", "#k")),
          "food-insecurity" },
        /* the referral's own category still wins */
        { REASON_BUNDLE(REASON_COND("c1", "Z59.86"),
                        REASON_SR("\"category\":[{\"coding\":[{\"system\":"
                                  "\"http://hl7.org/fhir/us/sdoh-clinicalcare/"
                                  "CodeSystem/SDOHCC-CodeSystemTemporaryCodes\","
                                  "\"code\":\"housing-instability\"}]}],",
                                  "urn:uuid:c")),
          "housing-instability" },
        /* a reason of no domain, or not in the message: none */
        { REASON_BUNDLE(REASON_COND("c1", "I10"),
                        REASON_SR("", "urn:uuid:c")), "(absent)" },
        { REASON_BUNDLE(REASON_COND("c1", "Z59.86"),
                        REASON_SR("", "Condition/elsewhere")), "(absent)" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct canon_list out;
        struct hub_err err;
        arena_reset(&A);
        cr_assert_eq(run(cases[i].json, &out, NULL, &err), HUB_OK,
                     "case %zu: %s %s", i, err.field,
                     err.what ? err.what : "");
        size_t k = 0;
        while (k < out.n && strcmp(out.ev[k].type, "referral.created") != 0)
            k++;
        cr_assert_lt(k, out.n, "case %zu: no referral", i);
        cr_assert_str_eq(field_of(&out, k, "referral.domain"),
                         cases[i].domain, "case %zu", i);
    }
}
/* F3306 (round 211): a reason Condition refuted or entered in error is
 * no need of the patient: the referral takes no domain from it, warned at
 * the reference; the Condition's own event still tells its status */
#define WITHDRAWN_COND(id, status)                                          \
    "{\"resourceType\":\"Condition\",\"id\":\"" id "\",\"subject\":"         \
    "{\"reference\":\"urn:uuid:p\"},\"verificationStatus\":{\"coding\":"  \
    "[{\"system\":\"http://terminology.hl7.org/CodeSystem/"                 \
    "condition-ver-status\",\"code\":\"" status "\"}]},\"code\":{"         \
    "\"coding\":[{\"system\":\"http://hl7.org/fhir/sid/icd-10-cm\","        \
    "\"code\":\"Z59.41\"}]}}"
Test(fhir, a_referral_takes_no_domain_from_a_refuted_reason)
{
    static const struct {
        const char *json, *domain;
        bool warned;
    } cases[] = {
        { REASON_BUNDLE(WITHDRAWN_COND("c1", "refuted"),
                        REASON_SR("", "urn:uuid:c")), "(absent)", true },
        { REASON_BUNDLE(REASON_COND("c1", "I10"),
                        REASON_SR("\"contained\":["
                                  WITHDRAWN_COND("k", "entered-in-error")
                                  "],", "#k")), "(absent)", true },
        /* confirmed, and unconfirmed (a need still to be looked at) */
        { REASON_BUNDLE(WITHDRAWN_COND("c1", "confirmed"),
                        REASON_SR("", "urn:uuid:c")), "food-insecurity",
          false },
        { REASON_BUNDLE(WITHDRAWN_COND("c1", "unconfirmed"),
                        REASON_SR("", "urn:uuid:c")), "food-insecurity",
          false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct canon_list out;
        struct hub_err err;
        arena_reset(&A);
        cr_assert_eq(run(cases[i].json, &out, NULL, &err), HUB_OK,
                     "case %zu: %s %s", i, err.field,
                     err.what ? err.what : "");
        size_t k = 0;
        while (k < out.n && strcmp(out.ev[k].type, "referral.created") != 0)
            k++;
        cr_assert_lt(k, out.n, "case %zu: no referral", i);
        cr_assert_str_eq(field_of(&out, k, "referral.domain"),
                         cases[i].domain, "case %zu", i);
        cr_assert_eq(event_warns(&out, k, "reasonReference[0]",
                                 "refuted or entered in error"),
                     cases[i].warned, "case %zu", i);
        /* the entry's Condition still tells its status */
        if (i == 0)
            cr_assert_str_eq(field_of(&out, 0,
                                      "condition.verification_status"),
                             "refuted");
    }
}
/* F4101 (round 246): a reason Condition contained in the referral has no
 * pass of its own; one whose category, or (with no category domain) code,
 * cannot be read gives the referral no domain: warned at the reference,
 * so the sender learns why no subscription of that need got it */
#define CONTAINED_REASON(member)                                            \
    "\"contained\":[{\"resourceType\":\"Condition\",\"id\":\"k\","         \
    "\"subject\":{\"reference\":\"urn:uuid:p\"}," member "}],"
Test(fhir, an_unreadable_contained_reason_is_warned)
{
    static const struct {
        const char *json, *what;
    } cases[] = {
        { REASON_BUNDLE(REASON_COND("c1", "I10"),
                        REASON_SR(CONTAINED_REASON(
                                      "\"category\":\"x\",\"code\":{"
                                      "\"coding\":[{\"system\":\"http://hl7."
                                      "org/fhir/sid/icd-10-cm\",\"code\":"
                                      "\"Z59.41\"}]}"), "#k")),
          "category cannot be read: no domain" },
        { REASON_BUNDLE(REASON_COND("c1", "I10"),
                        REASON_SR(CONTAINED_REASON("\"code\":\"Z59.41\""),
                                  "#k")),
          "code is not a CodeableConcept: no domain" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct canon_list out;
        struct hub_err err;
        arena_reset(&A);
        cr_assert_eq(run(cases[i].json, &out, NULL, &err), HUB_OK,
                     "case %zu: %s %s", i, err.field,
                     err.what ? err.what : "");
        size_t k = 0;
        while (k < out.n && strcmp(out.ev[k].type, "referral.created") != 0)
            k++;
        cr_assert_lt(k, out.n, "case %zu: no referral", i);
        cr_assert_str_eq(field_of(&out, k, "referral.domain"), "(absent)",
                         "case %zu", i);
        cr_assert(event_warns(&out, k, "reasonReference[0]", cases[i].what),
                  "case %zu", i);
    }
}
/* F2004 (round 139): a referral whose reasonReference names a Condition
 * the dictionary labels (F32.1, a depressive episode: psy) went out
 * unlabelled while the Condition's own event was labelled, so every
 * referral subscriber was told the diagnosis. It carries the Condition's
 * labels, as a reasonCode's (F189); a reason of no label adds none. */
Test(fhir, a_referral_carries_the_labels_of_its_reason_conditions)
{
    static const struct {
        const char *json, *sensitivity;
    } cases[] = {
        { REASON_BUNDLE(REASON_COND("c1", "F32.1"),
                        REASON_SR("", "urn:uuid:c")), "[\"psy\"]" },
        { REASON_BUNDLE(REASON_COND("c1", "I10"),
                        REASON_SR("\"contained\":[" REASON_COND("k", "F10.20")
                                  "],", "#k")), "[\"sud\"]" },
        { REASON_BUNDLE(REASON_COND("c1", "Z59.86"),
                        REASON_SR("", "urn:uuid:c")), "(absent)" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct canon_list out;
        struct hub_err err;
        arena_reset(&A);
        cr_assert_eq(run(cases[i].json, &out, NULL, &err), HUB_OK,
                     "case %zu: %s %s", i, err.field,
                     err.what ? err.what : "");
        size_t k = 0;
        while (k < out.n && strcmp(out.ev[k].type, "referral.created") != 0)
            k++;
        cr_assert_lt(k, out.n, "case %zu: no referral", i);
        cr_assert_str_eq(field_of(&out, k, "sensitivity"),
                         cases[i].sensitivity, "case %zu", i);
    }
}
/* F2065: in a batch, a Condition refused in its own turn (its
 * recordedDate no date) resolved to nothing only once that turn had
 * come: a referral before it took its domain and its labels, one after
 * it did not, and a Task before its request took what the request said
 * though the response refused the request. Entry order decided the
 * routing. Every order of the entries now gives one outcome: the
 * referral takes nothing from what the response refuses. */
#define BAD_COND(code)                                                      \
    "{\"resourceType\":\"Condition\",\"id\":\"c1\",\"recordedDate\":"        \
    "\"yesterday\",\"subject\":{\"reference\":\"urn:uuid:p\"},\"code\":"    \
    "{\"coding\":[{\"system\":\"http://hl7.org/fhir/sid/icd-10-cm\","       \
    "\"code\":\"" code "\"}]}}"
#define FOCUS_TASK(focus)                                                   \
    "{\"resourceType\":\"Task\",\"id\":\"t\",\"status\":\"requested\","    \
    "\"intent\":\"order\",\"for\":{\"reference\":\"urn:uuid:p\"},"          \
    "\"code\":{\"coding\":[{\"code\":\"fulfill\"}]},\"focus\":"             \
    "{\"reference\":\"" focus "\"}}"

/* Bundle `type` of the Patient urn:uuid:p and then ents[order[k]] */
static void batch_of(char *j, size_t cap, const char *const *ents,
                     const size_t *order, size_t n)
{
    static const char *const urls[] = { "urn:uuid:s", "urn:uuid:c",
                                         "urn:uuid:t" };
    size_t len = (size_t)snprintf(
        j, cap, "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
        "{\"fullUrl\":\"urn:uuid:p\",\"resource\":{\"resourceType\":"
        "\"Patient\",\"identifier\":[{\"system\":\"urn:x\",\"value\":\"1\"}]}}");
    for (size_t k = 0; k < n; k++)
        len += (size_t)snprintf(j + len, cap - len,
                                ",{\"fullUrl\":\"%s\",\"resource\":%s}",
                                urls[order[k]], ents[order[k]]);
    snprintf(j + len, cap - len, "]}");
}

/* What the response says of the batch: each event's type, domain,
 * labels and identifiers, each refused entry's name and the place in it
 * that refused it; sorted, so that every order of the entries may say
 * the same */
static void outcome_of(const char *j, char *got, size_t cap)
{
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    cr_assert_eq(run(j, &out, &res, &err), HUB_OK, "%s", err.field);
    char items[8][256];
    size_t n = 0;
    for (size_t k = 0; k < out.n && n < 8; k++) {
        char dom[64];
        snprintf(dom, sizeof(dom), "%s", field_of(&out, k, "referral.domain"));
        char lab[64];
        snprintf(lab, sizeof(lab), "%s", field_of(&out, k, "sensitivity"));
        snprintf(items[n++], sizeof(items[0]), "%s %s %s %s", out.ev[k].type,
                 dom, lab, field_of(&out, k, "referral.identifiers"));
    }
    size_t refused = 0;
    for (size_t k = 0; k < res.n_entries && n < 8; k++)
        if (res.entries[k].status != HUB_OK) {
            const char *at = strchr(res.entries[k].err.field, ']');
            snprintf(items[n++], sizeof(items[0]), "refused %s at %s",
                     res.entries[k].resource, at ? at + 1 : "?");
            refused++;
        }
    cr_expect_eq(res.n_failed, refused, "each refusal counted once");
    qsort(items, n, sizeof(items[0]), (int (*)(const void *, const void *))strcmp);
    size_t len = 0;
    got[0] = '\0';
    for (size_t k = 0; k < n; k++)
        len += (size_t)snprintf(got + len, cap - len, "%s; ", items[k]);
}

Test(fhir, a_referral_takes_nothing_from_a_condition_the_batch_refuses)
{
    static const size_t perms[6][3] = { { 0, 1, 2 }, { 1, 0, 2 }, { 0, 2, 1 },
                                        { 2, 0, 1 }, { 1, 2, 0 },
                                        { 2, 1, 0 } };
    static const struct {
        const char *ents[3];
        size_t n;
        const char *want;
    } cases[] = {
        /* the domain (Z59.86), by Type/id: the referral has none */
        { { REASON_SR("", "Condition/c1"), BAD_COND("Z59.86") }, 2,
          "referral.created (absent) (absent) (absent); "
          "refused Condition/c1 at .resource.recordedDate; " },
        /* by urn:uuid: refused as a reference to nothing is */
        { { REASON_SR("", "urn:uuid:c"), BAD_COND("Z59.86") }, 2,
          "refused Condition/c1 at .resource.recordedDate; "
          "refused ServiceRequest/sr at .resource.reasonReference[0]"
          ".reference; " },
        /* the labels (F32.1 psy, F2004) */
        { { REASON_SR("", "Condition/c1"), BAD_COND("F32.1") }, 2,
          "referral.created (absent) (absent) (absent); "
          "refused Condition/c1 at .resource.recordedDate; " },
        /* the Task, through its request's reasonReference */
        { { REASON_SR("", "Condition/c1"), BAD_COND("Z59.86"),
            FOCUS_TASK("ServiceRequest/sr") }, 3,
          "referral.created (absent) (absent) (absent); "
          "referral.updated (absent) (absent) (absent); "
          "refused Condition/c1 at .resource.recordedDate; " },
        /* the Task of a request the batch refuses takes nothing from it */
        { { REASON_SR("\"category\":[{\"coding\":[{\"system\":"
                      "\"http://hl7.org/fhir/us/sdoh-clinicalcare/"
                      "CodeSystem/SDOHCC-CodeSystemTemporaryCodes\","
                      "\"code\":\"food-insecurity\"}]}],\"authoredOn\":\"x\",",
                      "Condition/c9"),
            REASON_COND("c2", "I10"), FOCUS_TASK("ServiceRequest/sr") }, 3,
          "condition.recorded (absent) (absent) (absent); "
          "referral.updated (absent) (absent) (absent); "
          "refused ServiceRequest/sr at .resource.authoredOn; " },
        /* a request that names itself is never read ahead of itself:
         * refused where its own turn refuses it, once */
        { { REASON_SR("\"authoredOn\":\"x\",", "urn:uuid:s") }, 1,
          "refused ServiceRequest/sr at .resource.authoredOn; " },
        /* nor the number its basedOn gives a request the batch refuses */
        { { REASON_SR("\"authoredOn\":\"x\",", "Condition/c9"),
            REASON_COND("c2", "I10"),
            "{\"resourceType\":\"Task\",\"id\":\"t\",\"status\":"
            "\"requested\",\"intent\":\"order\",\"for\":{\"reference\":"
            "\"urn:uuid:p\"},\"code\":{\"coding\":[{\"code\":\"fulfill\"}]},"
            "\"basedOn\":[{\"reference\":\"urn:uuid:s\",\"identifier\":"
            "{\"value\":\"R1\"}}]}" }, 3,
          "condition.recorded (absent) (absent) (absent); "
          "referral.updated (absent) (absent) (absent); "
          "refused ServiceRequest/sr at .resource.authoredOn; " },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        for (size_t p = 0; p < 6; p++) {
            if ((cases[i].n == 2 && perms[p][2] != 2) ||
                (cases[i].n == 1 && p != 0))
                continue;       /* fewer entries: their orders */
            char j[4096], got[1024];
            arena_reset(&A);
            batch_of(j, sizeof(j), cases[i].ents, perms[p], cases[i].n);
            outcome_of(j, got, sizeof(got));
            cr_expect_str_eq(got, cases[i].want, "case %zu, order %zu%zu%zu",
                             i, perms[p][0], perms[p][1], perms[p][2]);
        }
}

/* F2621 (round 169, F2582's way): a referral took the domain and the
 * labels of the Condition its reasonReference names whoever its patient:
 * a request of p1 whose reason is p2's F32.1 and Z59.41 was p1's
 * food-insecurity referral labelled psy. The referral now takes nothing
 * from that reason (no domain, no label), in every order, with a warning
 * at it; it is kept (the lead's ruling: a referral dropped costs a person
 * a service), and so is its Task's update. The Condition gives p2 its own
 * event. The same patient by another form is no slip. */
#define OTHER_COND(id, subj)                                                \
    "{\"resourceType\":\"Condition\",\"id\":\"" id "\",\"subject\":"         \
    "{\"reference\":\"" subj "\"},\"code\":{\"coding\":[{\"system\":"       \
    "\"http://hl7.org/fhir/sid/icd-10-cm\",\"code\":\"F32.1\"},{\"system\":" \
    "\"http://hl7.org/fhir/sid/icd-10-cm\",\"code\":\"Z59.41\"}]}}"
Test(fhir, a_referral_takes_nothing_from_another_patients_condition)
{
    static const size_t perms[6][3] = { { 0, 1, 2 }, { 1, 0, 2 }, { 0, 2, 1 },
                                        { 2, 0, 1 }, { 1, 2, 0 },
                                        { 2, 1, 0 } };
    static const struct {
        const char *ents[3];
        const char *want;
    } cases[] = {
        { { REASON_SR("", "Condition/c2"), OTHER_COND("c2", "Patient/p2"),
            FOCUS_TASK("urn:uuid:s") },
          "condition.recorded (absent) [\"psy\"] (absent); "
          "referral.created (absent) (absent) (absent); "
          "referral.updated (absent) (absent) (absent); " },
        { { REASON_SR("", "urn:uuid:c"), OTHER_COND("c2", "Patient/p2"),
            FOCUS_TASK("ServiceRequest/sr") },
          "condition.recorded (absent) [\"psy\"] (absent); "
          "referral.created (absent) (absent) (absent); "
          "referral.updated (absent) (absent) (absent); " },
        /* the request's patient by urn, the Condition's by Type/urn */
        { { REASON_SR("", "Condition/c2"),
            OTHER_COND("c2", "Patient/urn:uuid:p"),
            FOCUS_TASK("urn:uuid:s") },
          "condition.recorded (absent) [\"psy\"] (absent); "
          "referral.created food-insecurity [\"psy\"] (absent); "
          "referral.updated food-insecurity [\"psy\"] (absent); " },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        for (size_t p = 0; p < 6; p++) {
            char j[4096], got[1024];
            arena_reset(&A);
            batch_of(j, sizeof(j), cases[i].ents, perms[p], 3);
            outcome_of(j, got, sizeof(got));
            cr_expect_str_eq(got, cases[i].want, "case %zu, order %zu%zu%zu: %s",
                             i, perms[p][0], perms[p][1], perms[p][2], got);
        }
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    char j[4096];
    static const size_t first[3] = { 0, 1, 2 };
    batch_of(j, sizeof(j), cases[0].ents, first, 3);
    arena_reset(&A);
    cr_assert_eq(run(j, &out, &res, &err), HUB_OK);
    cr_assert_eq(out.n, 3);
    cr_assert_str_eq(field_of(&out, 0, "type"), "referral.created");
    const char *w = field_of(&out, 0, "warnings");
    cr_expect(strstr(w, "reasonReference[0]") &&
                  strstr(w, "reason names another patient than the "
                            "request: nothing taken from it") &&
                  !strstr(w, "p2") && !strstr(w, "F32"),
              "%s", w);
    cr_assert_str_eq(field_of(&out, 2, "type"), "referral.updated");
    w = field_of(&out, 2, "warnings");
    cr_expect(strstr(w, "another patient") == NULL,
              "said once, by the request: %s", w);
}

/* F2104 (decided, round 167): an AHC panel whose hasMember names an HVS
 * panel (an instrument of its own, read in its own turn) that the batch
 * refuses gathered the HVS answers when it came first, and, after the
 * refusal, warned "members not in this message" and gave
 * screening.completed alone (by urn:uuid it was refused: "not resolved
 * inside the bundle"): the HVS items, the refused panel's members, then
 * gave nothing at all. Every order of the three now gives what the panel
 * first gave; the HVS panel is refused at its own date. */
#define SUBJ_OBS(id, code, subject, extra)                                  \
    "{\"resourceType\":\"Observation\",\"id\":\"" id "\",\"status\":"      \
    "\"final\",\"category\":[{\"coding\":[{\"system\":\"http://terminology" \
    ".hl7.org/CodeSystem/observation-category\",\"code\":\"survey\"}]}],"  \
    subject "\"code\":{\"coding\":[{"                                      \
    "\"system\":\"http://loinc.org\",\"code\":\"" code "\"}]}," extra "}"
#define SURVEY_OBS(id, code, extra)                                         \
    SUBJ_OBS(id, code, "\"subject\":{\"reference\":\"Patient/p1\"},", extra)
#define AHC_OF(member)                                                      \
    SURVEY_OBS("ahc", "96777-8", "\"effectiveDateTime\":\"2026-01-08\","   \
               "\"hasMember\":[{\"reference\":\"" member "\"}]")

/* The batch of ents[order[k]], each under its urn:uuid, as the sender is
 * told it: each event's type, source, first question, positive domains
 * and warnings, each refusal's entry and place; sorted, so that every
 * order of the entries may say the same. */
static void panel_outcome(const char *const *ents, const size_t *order,
                          char *got, size_t cap)
{
    static const char *const urls[3] = { "urn:uuid:ahc", "urn:uuid:hvs",
                                         "urn:uuid:i1" };
    char j[4096];
    size_t len = (size_t)snprintf(j, sizeof(j), "{\"resourceType\":\"Bundle\","
                                                "\"type\":\"batch\",\"entry\":[");
    for (size_t k = 0; k < 3; k++)
        len += (size_t)snprintf(j + len, sizeof(j) - len,
                                "%s{\"fullUrl\":\"%s\",\"resource\":%s}",
                                k ? "," : "", urls[order[k]], ents[order[k]]);
    snprintf(j + len, sizeof(j) - len, "]}");
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    arena_reset(&A);
    cr_assert_eq(run(j, &out, &res, &err), HUB_OK, "%s", err.field);
    char items[6][256];
    size_t n = 0;
    for (size_t k = 0; k < out.n && n < 5; k++) {
        char type[32], src[32], q[16], dom[64], warn[64];
        snprintf(type, sizeof(type), "%s", out.ev[k].type);
        snprintf(src, sizeof(src), "%s", field_of(&out, k, "source.resource"));
        snprintf(q, sizeof(q), "%s",
                 field_of(&out, k, "screening.items.0.question"));
        snprintf(dom, sizeof(dom), "%s",
                 field_of(&out, k, "screening.positive_domains"));
        snprintf(warn, sizeof(warn), "%s", field_of(&out, k, "warnings"));
        snprintf(items[n++], sizeof(items[0]), "%s %s %s %s %s", type, src, q,
                 dom, warn);
    }
    size_t refused = 0;
    for (size_t k = 0; k < res.n_entries && n < 6; k++)
        if (res.entries[k].status != HUB_OK) {
            const char *at = strchr(res.entries[k].err.field, ']');
            snprintf(items[n++], sizeof(items[0]), "refused %s at %s",
                     res.entries[k].resource, at ? at + 1 : "?");
            refused++;
        }
    cr_expect_eq(res.n_failed, refused, "each refusal counted once");
    qsort(items, n, sizeof(items[0]),
          (int (*)(const void *, const void *))strcmp);
    len = 0;
    got[0] = '\0';
    for (size_t k = 0; k < n; k++)
        len += (size_t)snprintf(got + len, cap - len, "%s; ", items[k]);
}

Test(fhir, a_panel_gathers_a_member_panel_the_batch_refuses_in_any_order)
{
    static const size_t perms[6][3] = { { 0, 1, 2 }, { 1, 0, 2 }, { 0, 2, 1 },
                                        { 2, 0, 1 }, { 1, 2, 0 },
                                        { 2, 1, 0 } };
    /* the member named by Type/id, and by urn:uuid */
    static const char *const ahcs[2] = { AHC_OF("Observation/hvs"),
                                         AHC_OF("urn:uuid:hvs") };
    const char *ents[3] = {
        NULL,
        SURVEY_OBS("hvs", "88121-9", "\"effectiveDateTime\":\"yesterday\","
                   "\"hasMember\":[{\"reference\":\"Observation/i1\"}]"),
        SURVEY_OBS("i1", "88122-7", "\"effectiveDateTime\":\"2026-01-08\","
                   "\"valueCodeableConcept\":{\"coding\":[{\"system\":"
                   "\"http://loinc.org\",\"code\":\"LA28397-0\"}]}"),
    };
    const char *want =
        "refused Observation/hvs at .resource.effectiveDateTime; "
        "screening.completed Observation/ahc 88122-7 [\"food-insecurity\"] "
        "(absent); "
        "screening.positive Observation/ahc 88122-7 [\"food-insecurity\"] "
        "(absent); ";
    for (size_t v = 0; v < 2; v++) {
        ents[0] = ahcs[v];
        for (size_t p = 0; p < 6; p++) {
            char got[1024];
            panel_outcome(ents, perms[p], got, sizeof(got));
            cr_expect_str_eq(got, want, "member %zu, order %zu%zu%zu: %s", v,
                             perms[p][0], perms[p][1], perms[p][2], got);
        }
    }
}

/* F2582 (decided, round 169): an AHC panel of Patient/p1 gathered,
 * through hasMember, an HVS panel of Patient/p2 and scored p1's
 * screening with p2's answer. The panel is now refused at the member's
 * place, and the member is read on its own, as if no panel named it: the
 * HVS panel gives p2 its screening, an item its own (a batch gathers no
 * loose items); an item of p1 stays the refused panel's, as any member
 * of a refused panel does. Every order of the three, the member named by
 * Type/id and by urn:uuid. */
#define P2_OBS(id, code, extra)                                             \
    SUBJ_OBS(id, code, "\"subject\":{\"reference\":\"Patient/p2\"},", extra)
#define AHC_OF2(member)                                                     \
    SURVEY_OBS("ahc", "96777-8", "\"effectiveDateTime\":\"2026-01-08\","   \
               "\"hasMember\":[{\"reference\":\"Observation/elsewhere\"},"  \
               "{\"reference\":\"" member "\"}]")
#define FOOD_ITEM(id, subj)                                                 \
    SUBJ_OBS(id, "88122-7", subj, "\"effectiveDateTime\":\"2026-01-08\","  \
             "\"valueCodeableConcept\":{\"coding\":[{\"system\":"          \
             "\"http://loinc.org\",\"code\":\"LA28397-0\"}]}")
Test(fhir, a_panel_member_of_another_patient_refuses_the_panel_in_any_order)
{
    static const size_t perms[6][3] = { { 0, 1, 2 }, { 1, 0, 2 }, { 0, 2, 1 },
                                        { 2, 0, 1 }, { 1, 2, 0 },
                                        { 2, 1, 0 } };
    static const char *const ahcs[2][2] = {
        { AHC_OF2("Observation/hvs"), AHC_OF2("urn:uuid:hvs") },
        { AHC_OF2("Observation/i1"), AHC_OF2("urn:uuid:i1") },
    };
    /* the finding: p2's HVS panel (and its item) under p1's AHC panel */
    const char *panel[3] = {
        NULL,
        P2_OBS("hvs", "88121-9", "\"effectiveDateTime\":\"2026-01-08\","
               "\"hasMember\":[{\"reference\":\"Observation/i1\"}]"),
        FOOD_ITEM("i1", "\"subject\":{\"reference\":\"Patient/p2\"},"),
    };
    /* an item of p2 beside one of p1, both named by the AHC panel's
     * members (the p1 item by its first, "hvs" by its id) */
    const char *items[3] = {
        NULL,
        FOOD_ITEM("hvs", "\"subject\":{\"reference\":\"Patient/p1\"},"),
        FOOD_ITEM("i1", "\"subject\":{\"reference\":\"Patient/p2\"},"),
    };
    const char *const want[2] = {
        "refused Observation/ahc at .resource.hasMember[1]; "
        "screening.completed Observation/hvs 88122-7 [\"food-insecurity\"] "
        "(absent); "
        "screening.positive Observation/hvs 88122-7 [\"food-insecurity\"] "
        "(absent); ",
        "refused Observation/ahc at .resource.hasMember[1]; "
        "screening.completed Observation/i1 88122-7 [\"food-insecurity\"] "
        "(absent); "
        "screening.positive Observation/i1 88122-7 [\"food-insecurity\"] "
        "(absent); ",
    };
    for (size_t c = 0; c < 2; c++) {
        const char **ents = c == 0 ? panel : items;
        for (size_t v = 0; v < 2; v++) {
            ents[0] = ahcs[c][v];
            if (c == 1)         /* the p1 item is the first member */
                ents[0] = v == 0 ? AHC_OF("Observation/hvs\"},{\"reference"
                                          "\":\"Observation/i1")
                                 : AHC_OF("urn:uuid:hvs\"},{\"reference"
                                          "\":\"urn:uuid:i1");
            for (size_t p = 0; p < 6; p++) {
                char got[1024];
                panel_outcome(ents, perms[p], got, sizeof(got));
                cr_expect_str_eq(got, want[c], "case %zu member %zu, order "
                                 "%zu%zu%zu: %s", c, v, perms[p][0],
                                 perms[p][1], perms[p][2], got);
            }
        }
    }
    /* a grouping Observation with no subject between the panel and an
     * item of p2 takes the panel's patient: the panel is refused at the
     * grouping's member (hasMember[0] of the grouping's entry), and the
     * item is read on its own */
    const char *group[3] = {
        AHC_OF("Observation/hvs"),
        "{\"resourceType\":\"Observation\",\"id\":\"hvs\",\"status\":"
        "\"final\",\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
        "\"code\":\"x-group\"}]},\"hasMember\":[{\"reference\":"
        "\"urn:uuid:i1\"}]}",
        FOOD_ITEM("i1", "\"subject\":{\"reference\":\"Patient/p2\"},"),
    };
    for (size_t p = 0; p < 6; p++) {
        char got[1024];
        panel_outcome(group, perms[p], got, sizeof(got));
        cr_expect_str_eq(got, "refused Observation/ahc at .resource."
                         "hasMember[0]; screening.completed Observation/i1 "
                         "88122-7 [\"food-insecurity\"] (absent); "
                         "screening.positive Observation/i1 88122-7 "
                         "[\"food-insecurity\"] (absent); ",
                         "grouping, order %zu%zu%zu", perms[p][0],
                         perms[p][1], perms[p][2]);
    }
    /* the refusal's words name no one */
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    char j[4096];
    snprintf(j, sizeof(j), "{\"resourceType\":\"Bundle\",\"type\":\"batch\","
             "\"entry\":[{\"fullUrl\":\"urn:uuid:ahc\",\"resource\":%s},"
             "{\"fullUrl\":\"urn:uuid:hvs\",\"resource\":%s},"
             "{\"fullUrl\":\"urn:uuid:i1\",\"resource\":%s}]}",
             AHC_OF2("Observation/hvs"), panel[1], panel[2]);
    arena_reset(&A);
    cr_assert_eq(run(j, &out, &res, &err), HUB_OK);
    cr_expect_str_eq(res.entries[0].err.field, "entry[0].resource.hasMember[1]");
    cr_expect_str_eq(res.entries[0].err.what,
                     "member names another patient than the panel");
}

/* F2582: "the same patient" is the same entry of the bundle, whatever
 * form each reference takes; outside it, the same reference, or the same
 * identifier (system and value); a member with no subject takes the
 * panel's. A transaction of a Patient (urn:uuid:pt, id pt, not always
 * sent), the AHC panel and its one member item: "" when the panel
 * gathers the item, else where it is refused. */
static const char *member_subject_outcome(bool with_patient,
                                          const char *panel_subj,
                                          const char *item_subj)
{
    static char got[256];
    char ahc[2048], item[2048], j[8192];
    snprintf(ahc, sizeof(ahc), SUBJ_OBS("ahc", "96777-8", "%s",
             "\"effectiveDateTime\":\"2026-01-08\",\"hasMember\":[{"
             "\"reference\":\"urn:uuid:i1\"}]"), panel_subj);
    snprintf(item, sizeof(item), FOOD_ITEM("i1", "%s"), item_subj);
    snprintf(j, sizeof(j), "{\"resourceType\":\"Bundle\",\"type\":"
             "\"transaction\",\"entry\":[%s{\"fullUrl\":\"urn:uuid:ahc\","
             "\"resource\":%s},{\"fullUrl\":\"urn:uuid:i1\",\"resource\":%s}]}",
             with_patient ? "{\"fullUrl\":\"urn:uuid:pt\",\"resource\":{"
                            "\"resourceType\":\"Patient\",\"id\":\"pt\","
                            "\"identifier\":[{\"system\":\"urn:x\","
                            "\"value\":\"1\"}]}}," : "", ahc, item);
    struct canon_list out;
    struct hub_err err;
    arena_reset(&A);
    if (run(j, &out, NULL, &err) != HUB_OK) {
        snprintf(got, sizeof(got), "%s: %s", err.field, err.what);
        return got;
    }
    cr_expect_str_eq(field_of(&out, 0, "screening.items.0.question"),
                     "88122-7", "the member gathered");
    return "";
}

Test(fhir, a_panel_member_is_held_to_the_panels_patient_by_any_form)
{
    static const char urn[] = "\"subject\":{\"reference\":\"urn:uuid:pt\"},",
        tid[] = "\"subject\":{\"reference\":\"Patient/pt\"},",
        slip[] = "\"subject\":{\"reference\":\"Patient/urn:uuid:pt\"},",
        other[] = "\"subject\":{\"reference\":\"Patient/p2\"},",
        ident[] = "\"subject\":{\"identifier\":{\"system\":\"urn:x\","
                  "\"value\":\"1\"}},",
        ident2[] = "\"subject\":{\"identifier\":{\"system\":\"urn:y\","
                   "\"value\":\"1\"}},",
        none[] = "";
    static const char refused[] = "entry[1].resource.hasMember[0]: member "
                                  "names another patient than the panel",
        refused0[] = "entry[0].resource.hasMember[0]: member names another "
                     "patient than the panel";
    /* one entry of the bundle, whatever the form */
    cr_expect_str_eq(member_subject_outcome(true, urn, tid), "");
    cr_expect_str_eq(member_subject_outcome(true, tid, urn), "");
    cr_expect_str_eq(member_subject_outcome(true, urn, slip), "");
    cr_expect_str_eq(member_subject_outcome(true, urn, none), "");
    cr_expect_str_eq(member_subject_outcome(true, urn, other), refused);
    cr_expect_str_eq(member_subject_outcome(true, tid, other), refused);
    /* an identifier the message's Patient lists is that Patient, in
     * either place (F2960, reversing F2582's line); one it does not list
     * is another */
    cr_expect_str_eq(member_subject_outcome(true, urn, ident), "");
    cr_expect_str_eq(member_subject_outcome(true, ident, tid), "");
    cr_expect_str_eq(member_subject_outcome(true, urn, ident2), refused);
    /* outside the bundle: the same reference, or identifier */
    cr_expect_str_eq(member_subject_outcome(false, tid, tid), "");
    cr_expect_str_eq(member_subject_outcome(false, tid, other), refused0);
    cr_expect_str_eq(member_subject_outcome(false, ident, ident), "");
    cr_expect_str_eq(member_subject_outcome(false, ident, ident2), refused0);
    cr_expect_str_eq(member_subject_outcome(false, ident, tid), refused0);
    cr_expect_str_eq(member_subject_outcome(false, ident, none), "");
}

/* F2740 (round 176's review of F2620): one patient named in two forms was
 * two. With the Patient not in the message, `Patient/pt` and its
 * `_history` or absolute form were compared as strings and the panel
 * refused; with it in the message, a panel's reference and identifier
 * against a member's same identifier alone was refused too. The same
 * Type/id, and the same identifier, are the same patient. */
Test(fhir, one_patient_in_two_forms_is_one_panels_patient)
{
    static const char tid[] = "\"subject\":{\"reference\":\"Patient/pt\"},",
        hist[] = "\"subject\":{\"reference\":\"Patient/pt/_history/2\"},",
        absu[] = "\"subject\":{\"reference\":"
                 "\"https://ehr.example/fhir/Patient/pt\"},",
        other[] = "\"subject\":{\"reference\":\"Patient/p2\"},",
        both_urn[] = "\"subject\":{\"reference\":\"urn:uuid:pt\","
                     "\"identifier\":{\"system\":\"urn:x\",\"value\":\"1\"}},",
        both_tid[] = "\"subject\":{\"reference\":\"Patient/pt\","
                     "\"identifier\":{\"system\":\"urn:x\",\"value\":\"1\"}},",
        ident[] = "\"subject\":{\"identifier\":{\"system\":\"urn:x\","
                  "\"value\":\"1\"}},";
    static const struct {
        bool in_bundle;
        const char *panel, *member;
    } same[] = {
        { false, tid, hist }, { false, tid, absu }, { true, tid, hist },
        { true, both_urn, ident }, { false, both_tid, ident },
    };
    for (size_t k = 0; k < sizeof(same) / sizeof(same[0]); k++) {
        const char *g = member_subject_outcome(same[k].in_bundle,
                                               same[k].panel, same[k].member);
        cr_expect_str_eq(g, "", "case %zu: %s", k, g);
    }
    /* another Type/id is still another patient */
    const char *g = member_subject_outcome(false, absu, other);
    cr_expect(strstr(g, "member names another patient") != NULL, "%s", g);
}

/* F2821 (round 180): a member written "Observation/urn:uuid:X" (F2323's
 * slip) was gathered by its panel but never marked consumed, so it was
 * read again as a screening of its own: the same answer told twice. In
 * every order, the panel's screening alone. */
Test(fhir, a_member_written_type_before_urn_is_its_panels_alone)
{
    static const size_t perms[6][3] = { { 0, 1, 2 }, { 1, 0, 2 }, { 0, 2, 1 },
                                        { 2, 0, 1 }, { 1, 2, 0 },
                                        { 2, 1, 0 } };
    const char *ents[3] = {
        AHC_OF("Observation/urn:uuid:i1"),
        "{\"resourceType\":\"Patient\",\"id\":\"p1\"}",
        FOOD_ITEM("i1", "\"subject\":{\"reference\":\"Patient/p1\"},"),
    };
    for (size_t p = 0; p < 6; p++) {
        char got[1024];
        panel_outcome(ents, perms[p], got, sizeof(got));
        cr_expect(strstr(got, "Observation/ahc 88122-7") &&
                      !strstr(got, "Observation/i1"),
                  "order %zu%zu%zu: %s", perms[p][0], perms[p][1],
                  perms[p][2], got);
    }
}

/* The batch of ents[order[k]] (k < n, n <= 5, each under urn:uuid:eK for
 * its place in ents) as its sender is told it: each event's type,
 * source, first question, the Procedure it tells (a referral's performed,
 * a screening's procedures) and its warnings (the place past the entry,
 * the words); each refusal's entry and place; sorted, so that every order
 * may say the same. */
static void ents_outcome(const char *const *ents, const size_t *order,
                         size_t n, char *got, size_t cap)
{
    char j[8192];
    size_t len = (size_t)snprintf(j, sizeof(j), "{\"resourceType\":\"Bundle\","
                                                "\"type\":\"batch\",\"entry\":[");
    for (size_t k = 0; k < n; k++)
        len += (size_t)snprintf(j + len, sizeof(j) - len,
                                "%s{\"fullUrl\":\"urn:uuid:e%zu\",\"resource\":"
                                "%s}", k ? "," : "", order[k], ents[order[k]]);
    snprintf(j + len, sizeof(j) - len, "]}");
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    arena_reset(&A);
    cr_assert_eq(run(j, &out, &res, &err), HUB_OK, "%s", err.field);
    char items[8][512];
    size_t m = 0;
    for (size_t k = 0; k < out.n && m < 8; k++) {
        char src[64], q[16], proc[64], warns[320] = "";
        snprintf(src, sizeof(src), "%s", field_of(&out, k, "source.resource"));
        snprintf(q, sizeof(q), "%s",
                 field_of(&out, k, "screening.items.0.question"));
        snprintf(proc, sizeof(proc), "%s",
                 field_of(&out, k, "referral.performed.0.procedure"));
        if (strcmp(proc, "(absent)") == 0)
            snprintf(proc, sizeof(proc), "%s",
                     field_of(&out, k, "screening.procedures.0.procedure"));
        size_t wl = 0;
        for (int w = 0; w < 4; w++) {
            char path[32], field[128];
            snprintf(path, sizeof(path), "warnings.%d.field", w);
            snprintf(field, sizeof(field), "%s", field_of(&out, k, path));
            if (strcmp(field, "(absent)") == 0)
                break;
            const char *at = strchr(field, ']');
            snprintf(path, sizeof(path), "warnings.%d.what", w);
            wl += (size_t)snprintf(warns + wl, sizeof(warns) - wl, " [%s %s]",
                                   at ? at + 1 : field,
                                   field_of(&out, k, path));
        }
        snprintf(items[m++], sizeof(items[0]), "%s %s %s %s%s",
                 out.ev[k].type, src, q, proc, warns);
    }
    size_t refused = 0;
    for (size_t k = 0; k < res.n_entries && m < 8; k++)
        if (res.entries[k].status != HUB_OK) {
            const char *at = strchr(res.entries[k].err.field, ']');
            snprintf(items[m++], sizeof(items[0]), "refused %s at %s",
                     res.entries[k].resource, at ? at + 1 : "?");
            refused++;
        }
    cr_expect_eq(res.n_failed, refused, "each refusal counted once");
    qsort(items, m, sizeof(items[0]),
          (int (*)(const void *, const void *))strcmp);
    len = 0;
    got[0] = '\0';
    for (size_t k = 0; k < m; k++)
        len += (size_t)snprintf(got + len, cap - len, "%s; ", items[k]);
}

/* Expects `want` of ents_outcome in every order of the n entries. */
static void expect_in_every_order(const char *const *ents, size_t n,
                                  const char *want, const char *what)
{
    size_t order[5] = { 0, 1, 2, 3, 4 };
    size_t c[5] = { 0 }, k = 1;
    char got[4096];
    /* Heap's permutations, each once */
    for (bool more = true; more;) {
        ents_outcome(ents, order, n, got, sizeof(got));
        cr_expect_str_eq(got, want, "%s, order %zu%zu%zu%zu%zu: %s", what,
                         order[0], order[1], order[2], order[3], order[4],
                         got);
        more = false;
        while (k < n && !more) {
            if (c[k] < k) {
                size_t a = k % 2 ? c[k] : 0, t = order[a];
                order[a] = order[k];
                order[k] = t;
                c[k]++;
                k = 1;
                more = true;
            } else {
                c[k++] = 0;
            }
        }
    }
}

/* F2741 (round 176's review of F2620), decided: a grouping Observation
 * with no subject that panels of two patients name took the patient of
 * the first panel in the message's order, so which panel gathered its
 * item, which was refused for it, and whether the item was also read on
 * its own hung on the order. Such a grouping is neither's: each panel is
 * read without it, warned at its hasMember; the grouping's item of its
 * own patient is read on its own, as if no grouping named it. Named by
 * two panels of one patient, both gather it, as before. Every order. */
#define GROUPING_OF(member)                                                 \
    "{\"resourceType\":\"Observation\",\"id\":\"g\",\"status\":\"final\","  \
    "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":"     \
    "\"x-group\"}]},\"hasMember\":[{\"reference\":\"" member "\"}]}"
Test(fhir, a_grouping_two_patients_panels_name_is_neithers_in_any_order)
{
    static const char p1_item[] = FOOD_ITEM(
        "gi", "\"subject\":{\"reference\":\"Patient/p1\"},");
    const char *ents[4] = {
        AHC_OF("Observation/g"),
        P2_OBS("hvs", "88121-9", "\"effectiveDateTime\":\"2026-01-08\","
               "\"hasMember\":[{\"reference\":\"Observation/g\"}]"),
        GROUPING_OF("Observation/gi"), p1_item,
    };
    static const char neithers[] =
        "screening.completed Observation/ahc (absent) (absent) "
        "[.resource.hasMember[0] member has no subject and another "
        "patient's panel names it too: nothing taken from it]; "
        "screening.completed Observation/gi 88122-7 (absent); "
        "screening.completed Observation/hvs (absent) (absent) "
        "[.resource.hasMember[0] member has no subject and another "
        "patient's panel names it too: nothing taken from it]; "
        "screening.positive Observation/gi 88122-7 (absent); ";
    expect_in_every_order(ents, 4, neithers, "two patients");
    /* two panels of one patient (in two forms): both gather the item */
    ents[1] = SUBJ_OBS("hvs", "88121-9",
                       "\"subject\":{\"reference\":\"Patient/p1/_history/3\"},",
                       "\"effectiveDateTime\":\"2026-01-08\",\"hasMember\":"
                       "[{\"reference\":\"Observation/g\"}]");
    expect_in_every_order(ents, 4,
                          "screening.completed Observation/ahc 88122-7 "
                          "(absent); screening.completed Observation/hvs "
                          "88122-7 (absent); screening.positive "
                          "Observation/ahc 88122-7 (absent); "
                          "screening.positive Observation/hvs 88122-7 "
                          "(absent); ", "one patient");
    /* a grouping under that grouping is no one's too */
    ents[2] = GROUPING_OF("Observation/g2");
    ents[3] = "{\"resourceType\":\"Observation\",\"id\":\"g2\",\"status\":"
              "\"final\",\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
              "\"code\":\"x-group\"}]},\"hasMember\":[{\"reference\":"
              "\"Observation/gi\"}]}";
    const char *deep[5] = { ents[0], P2_OBS("hvs", "88121-9",
        "\"effectiveDateTime\":\"2026-01-08\",\"hasMember\":[{\"reference\":"
        "\"Observation/g\"}]"), ents[2], ents[3], p1_item };
    expect_in_every_order(deep, 5, neithers, "deeper");
}

/* F2763, decided as F2741: a plain item with no subject that panels of
 * two patients name was gathered by each (F2620), one answer scoring two
 * people's screenings. It is neither's, as such a grouping is: each panel
 * warns at its hasMember and takes nothing from it, and the item, which
 * has no patient of its own, gives nothing. Named by two panels of one
 * patient (in two forms), both gather it, as before. Every order. */
Test(fhir, an_item_two_patients_panels_name_is_neithers_in_any_order)
{
    const char *ents[3] = {
        AHC_OF("Observation/gi"),
        P2_OBS("hvs", "88121-9", "\"effectiveDateTime\":\"2026-01-08\","
               "\"hasMember\":[{\"reference\":\"Observation/gi\"}]"),
        FOOD_ITEM("gi", ""),
    };
    expect_in_every_order(ents, 3,
                          "screening.completed Observation/ahc (absent) "
                          "(absent) [.resource.hasMember[0] member has no "
                          "subject and another patient's panel names it "
                          "too: nothing taken from it]; "
                          "screening.completed Observation/hvs (absent) "
                          "(absent) [.resource.hasMember[0] member has no "
                          "subject and another patient's panel names it "
                          "too: nothing taken from it]; ", "two patients");
    ents[1] = SUBJ_OBS("hvs", "88121-9",
                       "\"subject\":{\"reference\":\"Patient/p1/_history/3\"},",
                       "\"effectiveDateTime\":\"2026-01-08\",\"hasMember\":"
                       "[{\"reference\":\"Observation/gi\"}]");
    expect_in_every_order(ents, 3,
                          "screening.completed Observation/ahc 88122-7 "
                          "(absent); screening.completed Observation/hvs "
                          "88122-7 (absent); screening.positive "
                          "Observation/ahc 88122-7 (absent); "
                          "screening.positive Observation/hvs 88122-7 "
                          "(absent); ", "one patient");
}

/* r189's probe of the merge of rounds 177 and 180 with F2821: round 177's
 * conditions hold on round 180's member list when the members are written
 * Type/urn:uuid (the slip, read as the entry it names): a grouping two
 * patients' panels name, one by the slip, is neither's in every order;
 * a panel listing its member twice (by urn and by the slip) gathers it
 * once. */
Test(fhir, round_177s_conditions_hold_for_members_written_type_before_urn)
{
    static const char p1_item[] = FOOD_ITEM(
        "gi", "\"subject\":{\"reference\":\"Patient/p1\"},");
    const char *ents[4] = {
        AHC_OF("Observation/g"),
        P2_OBS("hvs", "88121-9", "\"effectiveDateTime\":\"2026-01-08\","
               "\"hasMember\":[{\"reference\":\"Observation/urn:uuid:e2\"}]"),
        GROUPING_OF("Observation/urn:uuid:e3"), p1_item,
    };
    static const char slip[] = " [.resource.hasMember[0].reference "
        "reference written Type/urn:uuid: read as the bundle's entry it "
        "names]";
    static const char neither[] = " [.resource.hasMember[0] member has no "
        "subject and another patient's panel names it too: nothing taken "
        "from it]";
    char want[1024];
    snprintf(want, sizeof(want),
             "screening.completed Observation/ahc (absent) (absent)%s; "
             "screening.completed Observation/gi 88122-7 (absent); "
             "screening.completed Observation/hvs (absent) (absent)%s%s; "
             "screening.positive Observation/gi 88122-7 (absent); ",
             neither, slip, neither);
    expect_in_every_order(ents, 4, want, "two patients, one by the slip");
    const char *twice[2] = {
        SURVEY_OBS("ahc", "96777-8", "\"effectiveDateTime\":\"2026-01-08\","
                   "\"hasMember\":[{\"reference\":\"urn:uuid:e1\"},"
                   "{\"reference\":\"Observation/urn:uuid:e1\"}]"),
        p1_item,
    };
    expect_in_every_order(twice, 2,
                          "screening.completed Observation/ahc 88122-7 "
                          "(absent) [.resource.hasMember[1].reference "
                          "reference written Type/urn:uuid: read as the "
                          "bundle's entry it names]; screening.positive "
                          "Observation/ahc 88122-7 (absent) "
                          "[.resource.hasMember[1].reference reference "
                          "written Type/urn:uuid: read as the bundle's "
                          "entry it names]; ", "listed twice");
}

/* F2103: an entry that names by urn:uuid, in a reference that carries
 * only a name, an entry the batch refuses is accepted in every order of
 * the two, carrying the refused entry's name: it was refused ("reference
 * is not resolved inside the bundle") when the refused entry came first
 * and accepted when it came after. Nothing is read ahead for it. */
#define NAMING_TASK(extra)                                                  \
    "{\"resourceType\":\"Task\",\"id\":\"t\",\"status\":\"requested\","    \
    "\"intent\":\"order\",\"for\":{\"reference\":\"urn:uuid:p\"},"          \
    "\"code\":{\"coding\":[{\"code\":\"fulfill\"}]},\"focus\":"             \
    "{\"reference\":\"ServiceRequest/elsewhere\"}," extra "}"
#define NAMING_PROC(extra)                                                  \
    "{\"resourceType\":\"Procedure\",\"id\":\"pr\",\"status\":"            \
    "\"completed\",\"subject\":{\"reference\":\"urn:uuid:p\"},"             \
    "\"code\":{\"coding\":[{\"system\":\"http://snomed.info/sct\","         \
    "\"code\":\"3457005\"}]}," extra "}"
/* Each of naming[0..n), in a batch with a Condition the batch refuses
 * that it names by urn:uuid:c, in both orders: only the Condition is
 * refused, the outcome is the same, and the event carries its name. */
static void expect_named_in_every_order(const char *const *naming, size_t n)
{
    static const size_t orders[2][2] = { { 0, 1 }, { 1, 0 } };
    for (size_t i = 0; i < n; i++) {
        const char *ents[2] = { naming[i], BAD_COND("I10") };
        char first[1024] = "";
        for (size_t o = 0; o < 2; o++) {
            char j[4096], got[1024];
            arena_reset(&A);
            batch_of(j, sizeof(j), ents, orders[o], 2);
            outcome_of(j, got, sizeof(got));
            const char *ref = strstr(got, "refused ");
            cr_expect(ref && strncmp(ref, "refused Condition/c1 ", 21) == 0 &&
                          strstr(ref + 1, "refused ") == NULL,
                      "case %zu order %zu: only the Condition is refused: %s",
                      i, o, got);
            if (o == 0)
                snprintf(first, sizeof(first), "%s", got);
            else
                cr_expect_str_eq(got, first, "case %zu: the same either way",
                                 i);
            struct canon_list out;
            struct fhir_result res;
            struct hub_err err;
            arena_reset(&A);
            cr_assert_eq(run(j, &out, &res, &err), HUB_OK);
            cr_expect_eq(res.n_failed, 1, "case %zu order %zu", i, o);
            bool named = false;
            for (size_t k = 0; k < out.n; k++)
                named |= strstr(out.ev[k].json.p, "\"Condition/c1\"") != NULL;
            cr_expect(named, "case %zu order %zu: it carries the name", i, o);
        }
    }
}
Test(fhir, a_name_of_an_entry_the_batch_refuses_is_accepted_in_every_order)
{
    static const char *const naming[] = {
        GOAL_X "\"id\":\"g\",\"subject\":{\"reference\":\"urn:uuid:p\"},"
        "\"addresses\":[{\"reference\":\"urn:uuid:c\"}]}",
        "{\"resourceType\":\"CarePlan\",\"id\":\"cp\",\"status\":\"active\","
        "\"intent\":\"plan\",\"subject\":{\"reference\":\"urn:uuid:p\"},"
        "\"addresses\":[{\"reference\":\"urn:uuid:c\"}]}",
        "{\"resourceType\":\"Condition\",\"id\":\"c2\",\"subject\":"
        "{\"reference\":\"urn:uuid:p\"},\"code\":{\"coding\":[{\"system\":"
        "\"http://hl7.org/fhir/sid/icd-10-cm\",\"code\":\"I10\"}]},"
        "\"evidence\":[{\"detail\":[{\"reference\":\"urn:uuid:c\"}]}]}",
        NAMING_PROC("\"reasonReference\":[{\"reference\":\"urn:uuid:c\"}]"),
        NAMING_PROC("\"basedOn\":[{\"reference\":\"urn:uuid:c\"}]"),
        NAMING_TASK("\"output\":[{\"type\":{\"text\":\"x\"},"
                    "\"valueReference\":{\"reference\":\"urn:uuid:c\"}}]"),
        NAMING_TASK("\"partOf\":[{\"reference\":\"urn:uuid:c\"}]"),
        REASON_SR("\"basedOn\":[{\"reference\":\"urn:uuid:c\"}],",
                  "Condition/c9"),
        REASON_SR("\"supportingInfo\":[{\"reference\":\"urn:uuid:c\"}],",
                  "Condition/c9"),
    };
    expect_named_in_every_order(naming, sizeof(naming) / sizeof(naming[0]));
}

/* F2382: the lead widened F2381 to every reference that carries only a
 * name: each was refused when the Condition it names came first and was
 * refused, accepted when it came after. A requester's and an owner's
 * organizations are read from Organization and PractitionerRole entries,
 * which the batch refuses before any entry is read, so they stay the
 * same in every order. */
#define NAMING_CP(extra)                                                    \
    "{\"resourceType\":\"CarePlan\",\"id\":\"cp\",\"status\":\"active\","  \
    "\"intent\":\"plan\",\"subject\":{\"reference\":\"urn:uuid:p\"},"      \
    extra "}"
#define NAMING_COND(extra)                                                  \
    "{\"resourceType\":\"Condition\",\"id\":\"c2\",\"subject\":"         \
    "{\"reference\":\"urn:uuid:p\"},\"code\":{\"coding\":[{\"system\":"   \
    "\"http://hl7.org/fhir/sid/icd-10-cm\",\"code\":\"I10\"}]}," extra "}"
#define NAMING_CONSENT(extra)                                               \
    "{\"resourceType\":\"Consent\",\"id\":\"k\",\"status\":\"active\","    \
    "\"scope\":{\"coding\":[{\"code\":\"patient-privacy\"}]},\"category\":" \
    "[{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"59284-0\"}]}]," \
    "\"patient\":{\"reference\":\"urn:uuid:p\"}," extra "}"
#define C_REF "{\"reference\":\"urn:uuid:c\"}"
Test(fhir, every_name_only_reference_is_accepted_in_every_order)
{
    static const char *const naming[] = {
        NAMING_CP("\"goal\":[" C_REF "]"),
        NAMING_CP("\"contributor\":[" C_REF "]"),
        NAMING_CP("\"careTeam\":[" C_REF "]"),
        NAMING_CP("\"author\":" C_REF),
        NAMING_CP("\"activity\":[{\"reference\":" C_REF "}]"),
        NAMING_COND("\"asserter\":" C_REF),
        NAMING_COND("\"recorder\":" C_REF),
        GOAL_X "\"id\":\"g\",\"subject\":{\"reference\":\"urn:uuid:p\"},"
        "\"expressedBy\":" C_REF "}",
        NAMING_CONSENT("\"organization\":[" C_REF "]"),
        NAMING_CONSENT("\"sourceReference\":" C_REF),
        REASON_SR("\"requester\":" C_REF ",", "Condition/c9"),
        NAMING_TASK("\"requester\":" C_REF),
        NAMING_TASK("\"owner\":" C_REF),
    };
    expect_named_in_every_order(naming, sizeof(naming) / sizeof(naming[0]));
}
#undef C_REF
#undef NAMING_CONSENT
#undef NAMING_COND
#undef NAMING_CP
#undef NAMING_TASK
#undef NAMING_PROC

/* F2323: "Patient/urn:uuid:X" (Tech by Design's SHIN-NY bundles) is no R4
 * reference (an id holds no ':'); the hub took it for a patient whose id
 * is "urn:uuid:X", so a message's screening and its referral went to two
 * patients. It names the bundle's entry of that Type under fullUrl
 * urn:uuid:X (or, as in that bundle, of that Type and id X), with a
 * warning at the field; with no such entry it is refused as malformed. */
#define SLIP_BUNDLE(url, subject)                                           \
    "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["          \
    "{\"fullUrl\":\"" url "\",\"resource\":{\"resourceType\":\"Patient\","  \
    "\"id\":\"p\",\"identifier\":[{\"system\":\"urn:x\",\"value\":\"1\"}]}}," \
    "{\"fullUrl\":\"urn:uuid:c\",\"resource\":{\"resourceType\":"           \
    "\"Condition\",\"id\":\"c\",\"subject\":{\"reference\":\"" subject "\"}," \
    "\"code\":{\"coding\":[{\"system\":\"http://hl7.org/fhir/sid/icd-10-cm\"," \
    "\"code\":\"I10\"}]}}}]}"
Test(fhir, a_type_before_a_urn_names_the_bundles_entry_of_that_urn)
{
    static const char *const named[] = {
        SLIP_BUNDLE("urn:uuid:p", "Patient/urn:uuid:p"),
        SLIP_BUNDLE("p", "Patient/urn:uuid:p"),
    };
    for (size_t i = 0; i < 2; i++) {
        struct canon_list out;
        struct fhir_result res;
        struct hub_err err;
        arena_reset(&A);
        cr_assert_eq(run(named[i], &out, &res, &err), HUB_OK, "case %zu: %s",
                     i, err.field);
        cr_assert_eq(out.n, 1, "case %zu", i);
        cr_expect_str_eq(field_of(&out, 0, "patient.identifiers.0.value"), "1",
                         "case %zu: the bundle's patient", i);
        const char *w = field_of(&out, 0, "warnings");
        cr_expect(strstr(w, "entry[1].resource.subject.reference") &&
                      strstr(w, "Type/urn:uuid:") && !strstr(w, "uuid:p"),
                  "case %zu: warned at the field, no value: %s", i, w);
    }
    static const char *const refused[] = {
        SLIP_BUNDLE("urn:uuid:p", "Patient/urn:uuid:z"),
        SLIP_BUNDLE("urn:uuid:p", "Group/urn:uuid:p"),
        "{\"resourceType\":\"Condition\",\"id\":\"c\",\"subject\":"
        "{\"reference\":\"Patient/urn:uuid:p\"},\"code\":{\"text\":\"x\"}}",
    };
    static const char *const at[] = {
        "entry[1].resource.subject.reference",
        "entry[1].resource.subject.reference",
        "Condition.subject.reference",
    };
    for (size_t i = 0; i < 3; i++) {
        struct canon_list out;
        struct fhir_result res;
        struct hub_err err;
        arena_reset(&A);
        int rc = run(refused[i], &out, &res, &err);
        const struct hub_err *e = i < 2 ? &res.entries[1].err : &err;
        if (i < 2) {
            cr_assert_eq(rc, HUB_OK, "case %zu", i);
            cr_assert_eq(res.entries[1].status, HUB_EINVALID, "case %zu", i);
        } else {
            cr_assert_eq(rc, HUB_EINVALID, "case %zu", i);
        }
        cr_expect_str_eq(e->field, at[i], "case %zu", i);
        cr_expect_str_eq(e->what, "reference is not Type/id or a URL",
                         "case %zu", i);
    }
}
#undef SLIP_BUNDLE

/* Reading ahead is one level deep (F2065's read-ahead, reviewed): a
 * request read ahead for what a referral takes reads no other ahead.
 * A batch of requests, each naming the next as its reason, nested a
 * read of every one inside the one before: about 8 KB of stack each,
 * so a sender's 1,000 entries overran a reader thread's stack. Run with
 * a stack far below that, so that the nesting crashes the test. */
Test(fhir, a_chain_of_requests_naming_each_other_is_read_one_level_ahead)
{
    struct rlimit lim = { 1024 * 1024, 1024 * 1024 };
    struct rlimit old;
    cr_assert_eq(getrlimit(RLIMIT_STACK, &old), 0);
    if (old.rlim_max != RLIM_INFINITY && old.rlim_max < lim.rlim_max)
        lim.rlim_cur = lim.rlim_max = old.rlim_max;
    cr_assert_eq(setrlimit(RLIMIT_STACK, &lim), 0);
    enum { N = FHIR_MAX_ENTRIES - 1 };
    size_t cap = (size_t)N * 400 + 512;
    char *j = malloc(cap);
    cr_assert_not_null(j);
    size_t len = (size_t)snprintf(
        j, cap, "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
        "{\"fullUrl\":\"urn:uuid:p\",\"resource\":{\"resourceType\":"
        "\"Patient\",\"identifier\":[{\"system\":\"urn:x\",\"value\":\"1\"}]}}");
    for (int k = 0; k < N; k++)
        len += (size_t)snprintf(
            j + len, cap - len,
            ",{\"fullUrl\":\"urn:uuid:s%d\",\"resource\":{\"resourceType\":"
            "\"ServiceRequest\",\"id\":\"s%d\",\"status\":\"active\","
            "\"intent\":\"order\",\"subject\":{\"reference\":\"urn:uuid:p\"},"
            "\"code\":{\"coding\":[{\"system\":\"http://snomed.info/sct\","
            "\"code\":\"3457005\"}]},\"reasonReference\":[{\"reference\":"
            "\"ServiceRequest/s%d\"}]}}",
            k, k, k + 1);
    snprintf(j + len, cap - len, "]}");
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    cr_assert_eq(run(j, &out, &res, &err), HUB_OK, "%s", err.field);
    cr_expect_eq(res.n_failed, 0);
    cr_expect_eq(out.n, (size_t)N, "a referral a request");
    free(j);
    setrlimit(RLIMIT_STACK, &old);
}
#undef BAD_COND
#undef FOCUS_TASK
#undef REASON_COND
#undef REASON_SR
#undef REASON_BUNDLE

/* Finding 10: a sub-referral names its parent request; a sub-task its
 * parent task. */
Test(fhir, a_subreferral_carries_the_request_it_is_based_on)
{
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run("{\"resourceType\":\"ServiceRequest\",\"id\":\"sub\","
                     "\"status\":\"active\",\"intent\":\"order\","
                     "\"basedOn\":[{\"reference\":\"ServiceRequest/parent\"}],"
                     "\"subject\":{\"reference\":\"Patient/p1\"}}",
                     &out, NULL, &err), HUB_OK);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(field_of(&out, 0, "referral.based_on"),
                     "[\"ServiceRequest/parent\"]");
    cr_assert_eq(run("{\"resourceType\":\"Task\",\"id\":\"t2\","
                     "\"status\":\"accepted\",\"intent\":\"order\","
                     "\"code\":{\"coding\":[{\"code\":\"fulfill\"}]},"
                     "\"focus\":{\"reference\":\"ServiceRequest/sub\"},"
                     "\"partOf\":[{\"reference\":\"Task/t1\"}],"
                     "\"for\":{\"reference\":\"Patient/p1\"}}",
                     &out, NULL, &err), HUB_OK);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(field_of(&out, 0, "referral.part_of"), "[\"Task/t1\"]");
}

/* Finding F68: the SDOHCC Task For Referral Management (STU3) sends the
 * content that comes with a referral as input[AdditionalContent] (type
 * additional-content, a Reference to any resource): it was dropped. The
 * references are the referral's supporting_info, after the focus
 * request's supportingInfo when the request is in the message, each once;
 * an input that is no Reference adds nothing. */
#define TASK_IN(inputs)                                                     \
    "{\"resourceType\":\"Task\",\"id\":\"t1\",\"status\":\"accepted\","     \
    "\"intent\":\"order\",\"code\":{\"coding\":[{\"code\":\"fulfill\"}]},"  \
    "\"focus\":{\"reference\":\"ServiceRequest/sr1\"},"                    \
    "\"for\":{\"reference\":\"Patient/p1\"},\"input\":[" inputs "]}"
#define ADDL(ref)                                                           \
    "{\"type\":{\"coding\":[{\"system\":\"" GRAVITY "\",\"code\":"         \
    "\"additional-content\"}]},\"valueReference\":{\"reference\":\"" ref   \
    "\"}}"
Test(fhir, a_referral_task_input_is_supporting_info)
{
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run(TASK_IN(ADDL("Observation/lab") ","
                             "{\"type\":{\"text\":\"note\"},"
                             "\"valueString\":\"x\"},"
                             ADDL("Immunization/imm")),
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(field_of(&out, 0, "referral.supporting_info"),
                     "[\"Observation/lab\",\"Immunization/imm\"]");
    /* with its request in the message: the request's first, each once */
    cr_assert_eq(run("{\"resourceType\":\"Bundle\",\"type\":\"collection\","
                     "\"entry\":[{\"resource\":{\"resourceType\":"
                     "\"ServiceRequest\",\"id\":\"sr1\",\"status\":\"active\","
                     "\"intent\":\"order\",\"subject\":{\"reference\":"
                     "\"Patient/p1\"},\"supportingInfo\":[{\"reference\":"
                     "\"Observation/lab\"}]}},{\"resource\":"
                     TASK_IN(ADDL("Observation/lab") "," ADDL("Observation/hgt"))
                     "}]}",
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_eq(out.n, 2);
    cr_assert_str_eq(field_of(&out, 0, "referral.supporting_info"),
                     "[\"Observation/lab\"]");
    cr_assert_str_eq(field_of(&out, 1, "type"), "referral.updated");
    cr_assert_str_eq(field_of(&out, 1, "referral.supporting_info"),
                     "[\"Observation/lab\",\"Observation/hgt\"]");
    /* an input that is not an object is refused where it is */
    cr_assert_eq(run(TASK_IN("\"x\""), &out, NULL, &err), HUB_EINVALID);
    cr_assert_str_eq(err.field, "Task.input[0]");
    /* no input that is a Reference: no supporting_info */
    cr_assert_eq(run(TASK_IN("{\"type\":{\"text\":\"n\"},\"valueString\":"
                             "\"x\"}"),
                     &out, NULL, &err), HUB_OK);
    cr_assert_str_eq(field_of(&out, 0, "referral.supporting_info"),
                     "(absent)");
}

/* Finding F69: a Condition whose asserter is a Device (the software that
 * derived the finding) names it in the SDOHCC Extension Condition
 * Asserter, since R4's Condition.asserter cannot: it was dropped. It is
 * the asserter when Condition.asserter is absent; Condition.asserter wins
 * when both are sent. */
#define COND_EXT(asserter)                                                  \
    "{\"resourceType\":\"Condition\",\"id\":\"c1\",\"extension\":[{"        \
    "\"url\":\"http://example.org/other\",\"valueString\":\"x\"},{"          \
    "\"url\":\"http://hl7.org/fhir/us/sdoh-clinicalcare/StructureDefinition/" \
    "SDOHCC-ExtensionConditionAsserter\",\"valueReference\":{"               \
    "\"reference\":\"Device/d1\"}}]," asserter "\"code\":{\"coding\":[{"   \
    "\"system\":\"http://snomed.info/sct\",\"code\":\"733423003\"}]},"       \
    "\"subject\":{\"reference\":\"Patient/p1\"}}"
Test(fhir, a_device_asserter_extension_is_the_conditions_asserter)
{
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run(COND_EXT(""), &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_str_eq(field_of(&out, 0, "condition.asserter"), "Device/d1");
    cr_assert_eq(run(COND_EXT("\"asserter\":{\"reference\":\"Patient/p1\"},"),
                     &out, NULL, &err), HUB_OK);
    cr_assert_str_eq(field_of(&out, 0, "condition.asserter"), "Patient/p1");
}

/* F280: a US Core Condition that gives only the condition-assertedDate
 * extension (PACIO Transitions of Care's depression diagnosis) occurred
 * then: before, it had no occurred_at, and a feed read with since= never
 * showed it. recordedDate, when sent, still wins; a malformed extension
 * date is left out with a warning, the Condition kept. */
#define COND_ASSERTED(date, more)                                           \
    "{\"resourceType\":\"Condition\",\"id\":\"c1\",\"extension\":[{"        \
    "\"url\":\"http://hl7.org/fhir/StructureDefinition/condition-"         \
    "assertedDate\",\"valueDateTime\":\"" date "\"}]," more                 \
    "\"code\":{\"coding\":[{\"system\":\"http://snomed.info/sct\","         \
    "\"code\":\"733423003\"}]},\"subject\":{\"reference\":\"Patient/p1\"}}"
Test(fhir, a_condition_asserted_on_a_date_occurred_then)
{
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run(COND_ASSERTED("2005-02", ""), &out, NULL, &err), HUB_OK,
                 "%s", err.field);
    cr_assert_str_eq(field_of(&out, 0, "occurred_at"), "2005-02");
    cr_assert_str_eq(field_of(&out, 0, "warnings"), "(absent)");
    /* before the onset, after the record */
    cr_assert_eq(run(COND_ASSERTED("2005-02-12", "\"onsetDateTime\":"
                                   "\"2004-11-01\","), &out, NULL, &err),
                 HUB_OK);
    cr_assert_str_eq(field_of(&out, 0, "occurred_at"), "2005-02-12");
    cr_assert_eq(run(COND_ASSERTED("2005-02-12", "\"recordedDate\":"
                                   "\"2005-03-01\","), &out, NULL, &err),
                 HUB_OK);
    cr_assert_str_eq(field_of(&out, 0, "occurred_at"), "2005-03-01");
    /* not a date: left out, the onset is the time, a warning names it */
    cr_assert_eq(run(COND_ASSERTED("Feb 2005", "\"onsetDateTime\":"
                                   "\"2004-11-01\","), &out, NULL, &err),
                 HUB_OK);
    cr_assert_str_eq(field_of(&out, 0, "occurred_at"), "2004-11-01");
    cr_assert_str_eq(field_of(&out, 0, "warnings.0.field"),
                     "Condition.extension[0].valueDateTime");
}

/* F3360: R4's dateTime ("Dates SHALL be valid dates"; its regex bounds
 * every part) is checked part by part, not only for its digits. PACIO's
 * eLTSS need is onset "2020-07-06T12:15:00-05:07", a real offset; a month
 * 13, a 30 February, an hour 24, a minute 60 or an offset past 14:00 was
 * carried to subscribers as the Condition's time, and stored as none. */
static int cond_onset(const char *when, struct canon_list *out,
                      struct hub_err *err)
{
    char j[512];
    snprintf(j, sizeof(j),
             "{\"resourceType\":\"Condition\",\"id\":\"c1\","
             "\"onsetDateTime\":\"%s\",\"code\":{\"coding\":[{"
             "\"system\":\"http://snomed.info/sct\",\"code\":"
             "\"713458007\"}]},\"subject\":{\"reference\":\"Patient/p1\"}}",
             when);
    return run(j, out, NULL, err);
}

Test(fhir, a_date_that_is_no_calendar_date_is_not_iso_8601)
{
    static const char *const bad[] = {
        "0000-07-06", "2020-13", "2020-00-10", "2020-13-06", "2020-02-30",
        "2021-02-29", "2020-04-31", "2020-07-00", "2020-07-06T24:00:00Z",
        "2020-07-06T12:60:00Z", "2020-07-06T12:15:61Z",
        "2020-07-06T12:15:00-05:60", "2020-07-06T12:15:00+14:30",
        "2020-07-06T12:15:00+15:00", NULL
    };
    static const char *const good[] = {
        "2020-02-29", "2000-02-29", "2020-12-31", "2020-07-06T23:59:60Z",
        "2020-07-06T12:15:00-05:07", "2020-07-06T12:15:00+14:00",
        "2020-07-06T12:15:00-13:59", "2020-07-06T00:00", NULL
    };
    struct canon_list out;
    struct hub_err err;
    for (size_t i = 0; bad[i]; i++) {
        cr_assert_eq(cond_onset(bad[i], &out, &err), HUB_EINVALID, "%s",
                     bad[i]);
        cr_assert_str_eq(err.field, "Condition.onsetDateTime", "%s", bad[i]);
        cr_assert_str_eq(err.what, "date is not ISO 8601", "%s", bad[i]);
        cr_assert_eq(out.n, 0);
    }
    for (size_t i = 0; good[i]; i++) {
        cr_assert_eq(cond_onset(good[i], &out, &err), HUB_OK, "%s: %s",
                     good[i], err.field);
        cr_assert_str_eq(field_of(&out, 0, "occurred_at"), good[i]);
    }
}

/* r209 (F3424): Patient.birthDate is a FHIR date, of no time; a dateTime
 * sent there passed fx_date (which takes a dateTime wherever a date is
 * read) and was carried whole as birth_date, which the contract
 * (canonical-event.schema.json) has as a date alone. Its date as written
 * is kept, with a warning, as HL7 v2's PID-7 and C-CDA's birthTime give
 * a birth date. */
Test(fhir, a_birth_date_with_a_time_gives_its_date)
{
    static const char *const sent[][2] = {
        { "1980-01-01T10:00:00Z", "1980-01-01" },
        { "1980-01-01T23:30-05:00", "1980-01-01" },
        { "1980-01-01", NULL }, { "1980-01", NULL },
    };
    char j[1024];
    struct canon_list out;
    struct hub_err err;
    for (size_t i = 0; i < sizeof(sent) / sizeof(sent[0]); i++) {
        snprintf(j, sizeof(j),
                 "{\"resourceType\":\"Bundle\",\"type\":\"collection\","
                 "\"entry\":[{\"fullUrl\":\"urn:uuid:0a1b2c3d-0000-4000-"
                 "8000-000000000001\",\"resource\":{\"resourceType\":"
                 "\"Patient\",\"id\":\"p1\",\"birthDate\":\"%s\"}},"
                 "{\"resource\":{\"resourceType\":\"Condition\",\"id\":"
                 "\"c1\",\"onsetDateTime\":\"2016-12-31\",\"code\":{"
                 "\"coding\":[{\"system\":\"http://snomed.info/sct\","
                 "\"code\":\"713458007\"}]},\"subject\":{\"reference\":"
                 "\"urn:uuid:0a1b2c3d-0000-4000-8000-000000000001\"}}}]}",
                 sent[i][0]);
        cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "%s: %s", err.field,
                     err.what);
        cr_expect_str_eq(field_of(&out, 0, "patient.birth_date"),
                         sent[i][1] ? sent[i][1] : sent[i][0]);
        cr_expect_str_eq(field_of(&out, 0, "warnings"),
                         sent[i][1] ? "[{\"field\":\"entry[0].resource."
                                      "birthDate\",\"what\":\"birth date "
                                      "has a time; its date kept\"}]"
                                    : "(absent)", "%s", sent[i][0]);
    }
}

/* Finding 14: SHIN-NY sends the middle name in an extension of the name. */
Test(fhir, a_middle_name_extension_is_a_further_given_name)
{
    static const char fmt[] =
        "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":["
        "{\"fullUrl\":\"urn:uuid:0a1b2c3d-0000-4000-8000-000000000001\","
        "\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p1\",\"name\":[{"
        "\"extension\":[{\"url\":\"http://shinny.org/us/ny/hrsn/"
        "StructureDefinition/middle-name\",\"valueString\":\"%s\"}],"
        "\"family\":\"Doe\",\"given\":[\"Jon\"%s]}]}},"
        "{\"resource\":" OBS("\"code\":{\"coding\":[{\"system\":"
        "\"http://loinc.org\",\"code\":\"88122-7\"}]},\"valueCodeableConcept\":"
        "{\"coding\":[{\"code\":\"LA28398-8\"}]}") "}]}";
    char json[1024];
    struct canon_list out;
    struct hub_err err;
    snprintf(json, sizeof(json), fmt, "Bob", "");
    cr_assert_eq(run(json, &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_str_eq(field_of(&out, 0, "patient.names.0.given"),
                     "[\"Jon\",\"Bob\"]");
    /* already a given name: not twice */
    snprintf(json, sizeof(json), fmt, "bob", ",\"Bob\"");
    cr_assert_eq(run(json, &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_str_eq(field_of(&out, 0, "patient.names.0.given"),
                     "[\"Jon\",\"Bob\"]");
}

/* JP Core sends each name twice, in kanji and in kana, told apart only by
 * the extension iso21090-EN-representation (IDE, SYL; ABC for romaji), as
 * HL7 v2 does with XPN-8: the canonical name carries it. */
Test(fhir, a_name_representation_extension_is_carried)
{
    static const char fmt[] =
        "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":["
        "{\"fullUrl\":\"urn:uuid:0a1b2c3d-0000-4000-8000-000000000001\","
        "\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p1\",\"name\":[{"
        "\"extension\":[{\"url\":\"http://hl7.org/fhir/StructureDefinition/"
        "iso21090-EN-representation\",\"valueCode\":\"IDE\"}],"
        "\"family\":\"A\"},{\"extension\":[{\"url\":\"http://hl7.org/fhir/"
        "StructureDefinition/iso21090-EN-representation\",\"valueCode\":"
        "\"%s\"}],\"family\":\"B\"}]}},"
        "{\"resource\":" OBS("\"code\":{\"coding\":[{\"system\":"
        "\"http://loinc.org\",\"code\":\"88122-7\"}]},\"valueCodeableConcept\":"
        "{\"coding\":[{\"code\":\"LA28398-8\"}]}") "}]}";
    static const struct {
        const char *code, *want;
    } c[] = { { "SYL", "phonetic" }, { "ABC", "alphabetic" },
              { "XYZ", "(absent)" } };
    char json[1024];
    struct canon_list out;
    struct hub_err err;
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        snprintf(json, sizeof(json), fmt, c[i].code);
        cr_assert_eq(run(json, &out, NULL, &err), HUB_OK, "%s", err.field);
        cr_assert_str_eq(field_of(&out, 0, "patient.names.0.representation"),
                         "ideographic");
        cr_assert_str_eq(field_of(&out, 0, "patient.names.1.representation"),
                         c[i].want, "%s", c[i].code);
    }
}

/* HumanName.text and Address.text are all some senders give (JP Core: a
 * name only as text, the street only in the address text): they stand as
 * the family name and the line; an empty name or address is left out,
 * never written as {} (the schema's minProperties). */
Test(fhir, a_name_or_address_sent_only_as_text_is_kept)
{
    static const char fmt[] =
        "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":["
        "{\"fullUrl\":\"urn:uuid:0a1b2c3d-0000-4000-8000-000000000001\","
        "\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p1\","
        "\"name\":[%s],\"address\":[%s]}},"
        "{\"resource\":" OBS("\"code\":{\"coding\":[{\"system\":"
        "\"http://loinc.org\",\"code\":\"88122-7\"}]},\"valueCodeableConcept\":"
        "{\"coding\":[{\"code\":\"LA28398-8\"}]}") "}]}";
    static const struct {
        const char *names, *addrs, *want_names, *want_addrs;
    } c[] = {
        { "{\"text\":\"Tanaka Hiroshi\"}",
          "{\"text\":\"1-2-3 Shinbashi\",\"city\":\"Minato\"}",
          "[{\"family\":\"Tanaka Hiroshi\"}]",
          "[{\"lines\":[\"1-2-3 Shinbashi\"],\"city\":\"Minato\"}]" },
        /* parts win over the text */
        { "{\"text\":\"Dr Jon Doe\",\"family\":\"Doe\"}",
          "{\"text\":\"1 Main St, Albany\",\"line\":[\"1 Main St\"]}",
          "[{\"family\":\"Doe\"}]", "[{\"lines\":[\"1 Main St\"]}]" },
        /* nothing in them: left out */
        { "{\"use\":\"official\"},{\"family\":\"\"}",
          "{\"use\":\"home\"},{\"line\":[\"\"]}", "(absent)", "(absent)" },
    };
    char json[2048];
    struct canon_list out;
    struct hub_err err;
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        snprintf(json, sizeof(json), fmt, c[i].names, c[i].addrs);
        cr_assert_eq(run(json, &out, NULL, &err), HUB_OK, "%s", err.field);
        cr_assert_str_eq(field_of(&out, 0, "patient.names"), c[i].want_names,
                         "case %zu", i);
        cr_assert_str_eq(field_of(&out, 0, "patient.addresses"),
                         c[i].want_addrs, "case %zu", i);
    }
}

/* FHIR R4 contained resources: a "#id" reference names a resource inside
 * the one that holds it (SDC form fillers contain the Patient in the
 * QuestionnaireResponse; senders without a directory contain the
 * requesting Organization). Its id means nothing outside its container, so
 * it is never written as a fhir-id identifier. */
Test(fhir, a_contained_patient_or_organization_is_read_from_its_container)
{
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run("{\"resourceType\":\"QuestionnaireResponse\",\"id\":\"q1\","
                     "\"contained\":[{\"resourceType\":\"Patient\",\"id\":\"pat\","
                     "\"identifier\":[{\"system\":\"urn:mrn\",\"value\":\"42\"}],"
                     "\"name\":[{\"family\":\"Lee\"}]}],\"status\":\"completed\","
                     "\"subject\":{\"reference\":\"#pat\"},\"authored\":\"2024-01-01\","
                     "\"item\":[{\"linkId\":\"/88122-7\",\"answer\":[{\"valueCoding\":"
                     "{\"system\":\"http://loinc.org\",\"code\":\"LA28397-0\"}}]}]}",
                     &out, NULL, &err), HUB_OK, "%s: %s", err.field, err.what);
    cr_assert_str_eq(field_of(&out, 0, "patient.identifiers"),
                     "[{\"value\":\"42\",\"system\":\"urn:mrn\"}]");
    cr_assert_str_eq(field_of(&out, 0, "patient.names.0.family"), "Lee");

    /* no identifier at all: none is made up from the local id */
    cr_assert_eq(run("{\"resourceType\":\"QuestionnaireResponse\",\"id\":\"q1\","
                     "\"contained\":[{\"resourceType\":\"Patient\",\"id\":\"pat\"}],"
                     "\"status\":\"completed\",\"subject\":{\"reference\":\"#pat\"},"
                     "\"item\":[{\"linkId\":\"/88122-7\",\"answer\":[{\"valueCoding\":"
                     "{\"code\":\"LA28397-0\"}}]}]}",
                     &out, NULL, &err), HUB_OK);
    cr_assert_str_eq(field_of(&out, 0, "patient.identifiers"), "(absent)");

    /* a missing or non-Patient contained subject is refused at subject */
    cr_assert_eq(run("{\"resourceType\":\"QuestionnaireResponse\",\"status\":"
                     "\"completed\",\"subject\":{\"reference\":\"#nope\"}}",
                     &out, NULL, &err), HUB_EINVALID);
    cr_assert_str_eq(err.field, "QuestionnaireResponse.subject");

    cr_assert_eq(run("{\"resourceType\":\"ServiceRequest\",\"id\":\"s1\","
                     "\"contained\":[{\"resourceType\":\"Organization\",\"id\":"
                     "\"org1\",\"name\":\"Food Bank\"}],\"status\":\"active\","
                     "\"intent\":\"order\",\"subject\":{\"reference\":\"Patient/p\"},"
                     "\"performer\":[{\"reference\":\"#org1\"}]}",
                     &out, NULL, &err), HUB_OK);
    cr_assert_str_eq(field_of(&out, 0, "referral.organizations"),
                     "[{\"role\":\"performer\",\"reference\":\"#org1\","
                     "\"name\":\"Food Bank\"}]");
}

/* SHIN-NY's TaskCompletedExample: the Task is "for" Patient/CBOPatientExample
 * while the ServiceRequest it fulfils is about Patient/PatientExample. Both
 * events keep what was sent; the Task's says the two disagree. */
Test(fhir, a_task_for_another_patient_than_its_request_warns)
{
    static const char fmt[] =
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        "{\"resource\":{\"resourceType\":\"ServiceRequest\",\"id\":\"sr\","
        "\"status\":\"completed\",\"intent\":\"order\",\"subject\":"
        "{\"reference\":\"Patient/a\"}}},"
        "{\"resource\":{\"resourceType\":\"Task\",\"id\":\"t\",\"status\":"
        "\"completed\",\"intent\":\"order\",\"focus\":{\"reference\":"
        "\"ServiceRequest/sr\"},\"for\":{\"reference\":\"Patient/%s\"}}}]}";
    char json[1024];
    struct canon_list out;
    struct hub_err err;
    snprintf(json, sizeof(json), fmt, "b");
    cr_assert_eq(run(json, &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_eq(out.n, 2);
    cr_assert_str_eq(field_of(&out, 1, "warnings.0.field"),
                     "entry[1].resource.for");
    cr_assert_str_eq(field_of(&out, 1, "patient.identifiers.0.value"), "b");
    snprintf(json, sizeof(json), fmt, "a");
    cr_assert_eq(run(json, &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_str_eq(field_of(&out, 1, "warnings"), "(absent)");
    /* one patient in two forms is one (fx_same_patient, F2740): the
     * Task's Type/urn:uuid slip for the Patient its request names by
     * urn (F2762) */
    static const char slip[] =
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        "{\"fullUrl\":\"urn:uuid:pa\",\"resource\":{\"resourceType\":"
        "\"Patient\",\"id\":\"a\"}},"
        "{\"resource\":{\"resourceType\":\"ServiceRequest\",\"id\":\"sr\","
        "\"status\":\"completed\",\"intent\":\"order\",\"subject\":"
        "{\"reference\":\"urn:uuid:pa\"}}},"
        "{\"resource\":{\"resourceType\":\"Task\",\"id\":\"t\",\"status\":"
        "\"completed\",\"intent\":\"order\",\"focus\":{\"reference\":"
        "\"ServiceRequest/sr\"},\"for\":{\"reference\":"
        "\"Patient/urn:uuid:pa\"}}}]}";
    cr_assert_eq(run(slip, &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_eq(out.n, 2);
    const char *w = field_of(&out, 1, "warnings");
    cr_expect(strstr(w, "another patient") == NULL, "%s", w);
    /* F3021: a Task "for" an identifier that another Patient of the
     * message lists is for that other Patient (F2960), though only one
     * side is a reference; an identifier of the request's own Patient,
     * or of no Patient of the message (one person in two forms, F2740),
     * is no other patient */
    static const char by_id[] =
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        "{\"fullUrl\":\"urn:uuid:pa\",\"resource\":{\"resourceType\":"
        "\"Patient\",\"id\":\"a\",\"identifier\":[{\"system\":"
        "\"urn:oid:1.2.3\",\"value\":\"MRN1\"}]}},"
        "{\"fullUrl\":\"urn:uuid:pb\",\"resource\":{\"resourceType\":"
        "\"Patient\",\"id\":\"b\",\"identifier\":[{\"system\":"
        "\"urn:oid:1.2.3\",\"value\":\"MRN2\"}]}},"
        "{\"resource\":{\"resourceType\":\"ServiceRequest\",\"id\":\"sr\","
        "\"status\":\"completed\",\"intent\":\"order\",\"subject\":"
        "{\"reference\":\"urn:uuid:pa\"}}},"
        "{\"resource\":{\"resourceType\":\"Task\",\"id\":\"t\",\"status\":"
        "\"completed\",\"intent\":\"order\",\"focus\":{\"reference\":"
        "\"ServiceRequest/sr\"},\"for\":{\"identifier\":{\"system\":"
        "\"urn:oid:1.2.3\",\"value\":\"%s\"}}}}]}";
    static const struct {
        const char *mrn;
        bool warned;
    } ids[] = { { "MRN2", true }, { "MRN1", false }, { "MRN9", false } };
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        snprintf(json, sizeof(json), by_id, ids[i].mrn);
        cr_assert_eq(run(json, &out, NULL, &err), HUB_OK, "%s", err.field);
        cr_assert_eq(out.n, 2);
        w = field_of(&out, 1, "warnings");
        cr_expect_eq(strstr(w, "task is for another patient") != NULL,
                     ids[i].warned, "%s: %s", ids[i].mrn, w);
    }
}

/* F81: the Nigeria Core referral Task (r24-ngcore_Task-NgTask-001) is
 * urgent, as its ServiceRequest is; the Task's referral.updated said
 * nothing of it. It carries the Task's own priority, else the request's
 * when that is in the message; neither, none. */
Test(fhir, a_referral_task_carries_its_priority_else_its_requests)
{
    static const char fmt[] =
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        "{\"resource\":{\"resourceType\":\"ServiceRequest\",\"id\":\"sr\","
        "\"status\":\"active\",\"intent\":\"order\",%s\"subject\":"
        "{\"reference\":\"Patient/a\"}}},"
        "{\"resource\":{\"resourceType\":\"Task\",\"id\":\"t\",\"status\":"
        "\"requested\",\"intent\":\"order\",%s\"focus\":{\"reference\":"
        "\"ServiceRequest/sr\"},\"for\":{\"reference\":\"Patient/a\"}}}]}";
    static const struct {
        const char *sr, *task, *want;
    } c[] = {
        { "", "\"priority\":\"urgent\",", "urgent" },
        { "\"priority\":\"stat\",", "", "stat" },
        { "\"priority\":\"routine\",", "\"priority\":\"asap\",", "asap" },
        { "", "", "(absent)" },
    };
    char json[1024];
    struct canon_list out;
    struct hub_err err;
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        snprintf(json, sizeof(json), fmt, c[i].sr, c[i].task);
        cr_assert_eq(run(json, &out, NULL, &err), HUB_OK, "%s", err.field);
        cr_assert_eq(out.n, 2);
        cr_assert_str_eq(field_of(&out, 1, "type"), "referral.updated");
        cr_assert_str_eq(field_of(&out, 1, "referral.priority"), c[i].want,
                         "case %zu", i);
    }
    /* a Task alone, its request elsewhere */
    cr_assert_eq(run("{\"resourceType\":\"Task\",\"id\":\"t\",\"status\":"
                     "\"requested\",\"intent\":\"order\",\"priority\":"
                     "\"urgent\",\"focus\":{\"reference\":"
                     "\"ServiceRequest/sr\"},\"for\":{\"reference\":"
                     "\"Patient/a\"}}", &out, NULL, &err), HUB_OK, "%s",
                 err.field);
    cr_assert_str_eq(field_of(&out, 0, "referral.priority"), "urgent");
}

/* The same sample's Task is requested by the SCN that coordinates the
 * referral while its ServiceRequest names the practitioner who ordered
 * the service: the SCN is kept as task_requester (not when the same). */
Test(fhir, a_task_requester_other_than_its_requests_is_kept)
{
    static const char fmt[] =
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        "{\"resource\":{\"resourceType\":\"Organization\",\"id\":\"scn\","
        "\"name\":\"SCN\"}},"
        "{\"resource\":{\"resourceType\":\"ServiceRequest\",\"id\":\"sr\","
        "\"status\":\"completed\",\"intent\":\"order\",\"subject\":"
        "{\"reference\":\"Patient/a\"},\"requester\":{\"reference\":"
        "\"%s\"}}},"
        "{\"resource\":{\"resourceType\":\"Task\",\"id\":\"t\",\"status\":"
        "\"completed\",\"intent\":\"order\",\"focus\":{\"reference\":"
        "\"ServiceRequest/sr\"},\"for\":{\"reference\":\"Patient/a\"},"
        "\"requester\":{\"reference\":\"Organization/scn\"}}}]}";
    char json[1024];
    struct canon_list out;
    struct hub_err err;
    snprintf(json, sizeof(json), fmt, "Practitioner/dr");
    cr_assert_eq(run(json, &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_eq(out.n, 2);
    cr_assert_str_eq(field_of(&out, 1, "referral.requester"), "Practitioner/dr");
    cr_assert_str_eq(field_of(&out, 1, "referral.task_requester"),
                     "Organization/scn");
    cr_assert_str_eq(field_of(&out, 1, "referral.organizations.0.role"),
                     "task_requester");
    snprintf(json, sizeof(json), fmt, "Organization/scn");
    cr_assert_eq(run(json, &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_str_eq(field_of(&out, 1, "referral.task_requester"), "(absent)");
}

/* F3880: the Philippine eReferral IG numbers its referral only in the
 * ServiceRequest's requisition (REF-2026-001234), which the hub read
 * nowhere: the receiving facility's event had no number of the referral.
 * It is carried as "requisition", apart from the request's own
 * identifiers (requests made together share it), by the request's event
 * and by its Task's when the request is in the message; one with no value
 * names nothing. */
Test(fhir, a_requests_requisition_is_carried_apart_from_its_identifiers)
{
    static const char fmt[] =
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        "{\"resource\":{\"resourceType\":\"ServiceRequest\",\"id\":\"sr\","
        "\"identifier\":[{\"system\":\"urn:x:plac\",\"value\":\"P1\"}],"
        "%s\"status\":\"active\",\"intent\":\"order\",\"subject\":"
        "{\"reference\":\"Patient/a\"}}},"
        "{\"resource\":{\"resourceType\":\"Task\",\"id\":\"t\",\"status\":"
        "\"received\",\"intent\":\"order\",\"focus\":{\"reference\":"
        "\"ServiceRequest/sr\"},\"for\":{\"reference\":\"Patient/a\"}}}]}";
    char json[1024];
    struct canon_list out;
    struct hub_err err;
    snprintf(json, sizeof(json), fmt,
             "\"requisition\":{\"system\":\"urn:oid:1.2.3\","
             "\"value\":\"REF-1\"},");
    cr_assert_eq(run(json, &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_eq(out.n, 2);
    for (size_t i = 0; i < 2; i++) {
        cr_assert_str_eq(field_of(&out, i, "referral.requisition.value"),
                         "REF-1", "event %zu", i);
        cr_assert_str_eq(field_of(&out, i, "referral.requisition.system"),
                         "urn:oid:1.2.3", "event %zu", i);
        cr_assert_str_eq(field_of(&out, i, "referral.identifiers.0.value"),
                         "P1", "event %zu", i);
        cr_assert_str_eq(field_of(&out, i, "referral.identifiers.1"),
                         "(absent)", "event %zu", i);
    }
    snprintf(json, sizeof(json), fmt,
             "\"requisition\":{\"system\":\"urn:oid:1.2.3\"},");
    cr_assert_eq(run(json, &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_str_eq(field_of(&out, 0, "referral.requisition"), "(absent)");
}

/* F3960: a requisition that is no Identifier refused the whole request
 * (and its Task), though the hub read no requisition before F3880: a
 * referral accepted the day before was refused for a member it can do
 * without. Left out with a warning now, as the occurrence (F30) and the
 * categories (F3581) are; the rest of the referral is carried. */
Test(fhir, a_requisition_that_is_no_identifier_is_left_out_not_refused)
{
    static const char fmt[] =
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        "{\"resource\":{\"resourceType\":\"ServiceRequest\",\"id\":\"sr\","
        "\"identifier\":[{\"system\":\"urn:x:plac\",\"value\":\"P1\"}],"
        "\"requisition\":%s,\"status\":\"active\",\"intent\":\"order\","
        "\"subject\":{\"reference\":\"Patient/a\"}}},"
        "{\"resource\":{\"resourceType\":\"Task\",\"id\":\"t\",\"status\":"
        "\"received\",\"intent\":\"order\",\"focus\":{\"reference\":"
        "\"ServiceRequest/sr\"},\"for\":{\"reference\":\"Patient/a\"}}}]}";
    static const char *const shapes[] = {
        "\"REF-1\"",                                 /* a string */
        "[{\"system\":\"urn:oid:1.2.3\",\"value\":\"REF-1\"}]", /* as identifier */
        "{\"value\":7}",                             /* a value not a string */
        "{\"value\":\"REF-1\",\"type\":\"PLAC\"}",   /* a type not a concept */
    };
    char json[1024];
    struct canon_list out;
    struct hub_err err;
    for (size_t k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
        snprintf(json, sizeof(json), fmt, shapes[k]);
        cr_assert_eq(run(json, &out, NULL, &err), HUB_OK, "%s: %s %s",
                     shapes[k], err.field, err.what);
        cr_assert_eq(out.n, 2, "%s", shapes[k]);
        for (size_t i = 0; i < 2; i++) {
            cr_assert_str_eq(field_of(&out, i, "referral.requisition"),
                             "(absent)", "%s, event %zu", shapes[k], i);
            cr_assert_str_eq(field_of(&out, i, "referral.identifiers.0.value"),
                             "P1", "%s, event %zu", shapes[k], i);
            cr_assert_str_eq(field_of(&out, i, "warnings.0.what"),
                             "not an Identifier; left out", "%s, event %zu",
                             shapes[k], i);
        }
        cr_assert_str_eq(field_of(&out, 0, "warnings.0.field"),
                         "entry[0].resource.requisition", "%s", shapes[k]);
    }
    /* a JSON null is no requisition: nothing to say */
    snprintf(json, sizeof(json), fmt, "null");
    cr_assert_eq(run(json, &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_str_eq(field_of(&out, 0, "referral.requisition"), "(absent)");
    cr_assert_str_eq(field_of(&out, 0, "warnings"), "(absent)");
}

/* F30: SHIN-NY's ServiceRequest asks for the food pantry from 2024-02-20
 * to 2024-08-20 (occurrencePeriod), for 6 month (quantityQuantity). Both
 * are carried, by the request's own event and by its Task's; a date or
 * Quantity that is not one is left out with a warning, not refused. */
#define SR_OCC(members)                                                     \
    "{\"resourceType\":\"ServiceRequest\",\"id\":\"sr\",\"status\":"        \
    "\"active\",\"intent\":\"order\",\"subject\":{\"reference\":"           \
    "\"Patient/a\"}" members "}"

Test(fhir, a_referral_carries_when_and_how_much_of_the_service)
{
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run(SR_OCC(",\"occurrencePeriod\":{\"start\":\"2024-02-20T00:"
                            "00:00Z\",\"end\":\"2024-08-20T00:00:00Z\"},"
                            "\"quantityQuantity\":{\"value\":6,\"unit\":"
                            "\"month\",\"system\":\"http://unitsofmeasure.org\","
                            "\"code\":\"mo\"}"),
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_str_eq(field_of(&out, 0, "referral.occurrence_at"),
                     "2024-02-20T00:00:00Z");
    cr_assert_str_eq(field_of(&out, 0, "referral.occurrence_period"),
                     "{\"start\":\"2024-02-20T00:00:00Z\","
                     "\"end\":\"2024-08-20T00:00:00Z\"}");
    cr_assert_str_eq(field_of(&out, 0, "referral.quantity"),
                     "{\"value\":6,\"unit\":\"month\",\"system\":"
                     "\"http://unitsofmeasure.org\",\"code\":\"mo\"}");
    cr_assert_str_eq(field_of(&out, 0, "warnings"), "(absent)");

    /* a dateTime; a decimal quantity keeps its fraction */
    cr_assert_eq(run(SR_OCC(",\"occurrenceDateTime\":\"2024-03-01\","
                            "\"quantityQuantity\":{\"value\":1.5,\"unit\":"
                            "\"h\"}"),
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_str_eq(field_of(&out, 0, "referral.occurrence_at"), "2024-03-01");
    cr_assert_str_eq(field_of(&out, 0, "referral.occurrence_period"),
                     "(absent)");
    char raw[2048];
    snprintf(raw, sizeof(raw), "%.*s", (int)out.ev[0].json.len,
             out.ev[0].json.p);
    cr_assert_not_null(strstr(raw, "\"quantity\":{\"value\":1.5,\"unit\":\"h\"}"),
                       "%s", raw);

    /* an end alone is a period without occurrence_at */
    cr_assert_eq(run(SR_OCC(",\"occurrencePeriod\":{\"end\":\"2024-08\"}"),
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_str_eq(field_of(&out, 0, "referral.occurrence_at"), "(absent)");
    cr_assert_str_eq(field_of(&out, 0, "referral.occurrence_period"),
                     "{\"end\":\"2024-08\"}");

    /* not a date, not a Quantity: left out, said, the referral kept */
    cr_assert_eq(run(SR_OCC(",\"occurrencePeriod\":{\"start\":\"20/02/2024\","
                            "\"end\":\"2024-08-20\"},\"quantityQuantity\":"
                            "{\"value\":\"6\",\"unit\":\"month\"}"),
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(field_of(&out, 0, "referral.occurrence_at"), "(absent)");
    cr_assert_str_eq(field_of(&out, 0, "referral.occurrence_period"),
                     "{\"end\":\"2024-08-20\"}");
    cr_assert_str_eq(field_of(&out, 0, "referral.quantity"), "(absent)");
    cr_assert_str_eq(field_of(&out, 0, "warnings.0.field"),
                     "ServiceRequest.occurrencePeriod.start");
    cr_assert_str_eq(field_of(&out, 0, "warnings.1.field"),
                     "ServiceRequest.quantityQuantity");
    cr_assert_eq(run(SR_OCC(",\"occurrenceDateTime\":7,\"occurrencePeriod\":"
                            "[],\"quantityQuantity\":{}"),
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_str_eq(field_of(&out, 0, "referral.occurrence_at"), "(absent)");
    cr_assert_str_eq(field_of(&out, 0, "referral.quantity"), "(absent)");
    cr_assert_str_eq(field_of(&out, 0, "warnings.1.field"),
                     "ServiceRequest.occurrencePeriod");

    /* an occurrenceTiming: its outer bounds are the period (F56) */
    cr_assert_eq(run(SR_OCC(",\"occurrenceTiming\":{\"repeat\":{"
                            "\"boundsPeriod\":{\"start\":\"2024-03-01\","
                            "\"end\":\"2024-06-30\"},\"frequency\":1,"
                            "\"period\":1,\"periodUnit\":\"wk\"}}"),
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_str_eq(field_of(&out, 0, "referral.occurrence_at"), "2024-03-01");
    cr_assert_str_eq(field_of(&out, 0, "referral.occurrence_period"),
                     "{\"start\":\"2024-03-01\",\"end\":\"2024-06-30\"}");
    cr_assert_str_eq(field_of(&out, 0, "warnings"), "(absent)");
    /* bounds of a wrong shape: left out, said where; a duration: not read */
    cr_assert_eq(run(SR_OCC(",\"occurrenceTiming\":{\"repeat\":{"
                            "\"boundsPeriod\":{\"start\":\"1 March\"}}}"),
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_str_eq(field_of(&out, 0, "referral.occurrence_period"),
                     "(absent)");
    cr_assert_str_eq(field_of(&out, 0, "warnings.0.field"),
                     "ServiceRequest.occurrenceTiming.repeat.boundsPeriod.start");
    cr_assert_eq(run(SR_OCC(",\"occurrenceTiming\":{\"repeat\":{"
                            "\"boundsDuration\":{\"value\":3,\"unit\":\"mo\"},"
                            "\"boundsPeriod\":\"2024\"}}"),
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_str_eq(field_of(&out, 0, "referral.occurrence_at"), "(absent)");
    cr_assert_str_eq(field_of(&out, 0, "warnings.0.field"),
                     "ServiceRequest.occurrenceTiming.repeat.boundsPeriod");

    /* the Task of a request in the message tells the same */
    cr_assert_eq(run("{\"resourceType\":\"Bundle\",\"type\":\"transaction\","
                     "\"entry\":[{\"resource\":" SR_OCC(",\"occurrenceDateTime\":"
                     "\"2024-03-01\"") "},{\"resource\":{\"resourceType\":"
                     "\"Task\",\"id\":\"t\",\"status\":\"accepted\",\"intent\":"
                     "\"order\",\"focus\":{\"reference\":\"ServiceRequest/sr\"},"
                     "\"for\":{\"reference\":\"Patient/a\"}}}]}",
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_eq(out.n, 2);
    cr_assert_str_eq(field_of(&out, 1, "referral.occurrence_at"), "2024-03-01");
}

/* F3581 (ruled (b), round 228): a ServiceRequest's categories are carried
 * as sent, in order, in the referral body's "categories" (as a Condition's
 * are). With no code they are the one statement of what is asked (the UMZH
 * orthopaedic referral); before, they were read for a domain and dropped.
 * The hub did not read them before, so one of a wrong shape is left out
 * with a warning, not refused (as the occurrence, F30). */
#define ORTHO_CAT                                                           \
    "{\"coding\":[{\"system\":\"http://snomed.info/sct\",\"code\":"            \
    "\"183545006\",\"display\":\"Referral to orthopedic service "              \
    "(procedure)\"}]}"
Test(fhir, a_referral_carries_its_categories_as_sent)
{
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run(SR_OCC(",\"category\":[" ORTHO_CAT ",{\"coding\":[{"
                            "\"system\":\"http://snomed.info/sct\",\"code\":"
                            "\"410606002\"}],\"text\":\"Social service\"}]"),
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(field_of(&out, 0, "referral.service"), "(absent)");
    cr_assert_str_eq(field_of(&out, 0, "referral.categories.0"),
                     "{\"code\":\"183545006\",\"system\":"
                     "\"http://snomed.info/sct\",\"display\":"
                     "\"Referral to orthopedic service (procedure)\"}");
    cr_assert_str_eq(field_of(&out, 0, "referral.categories.1"),
                     "{\"code\":\"410606002\",\"system\":"
                     "\"http://snomed.info/sct\",\"text\":\"Social service\"}");
    cr_assert_str_eq(field_of(&out, 0, "referral.categories.2"), "(absent)");
    cr_assert_str_eq(field_of(&out, 0, "warnings"), "(absent)");

    /* none sent, none written */
    cr_assert_eq(run(SR_OCC(""), &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_str_eq(field_of(&out, 0, "referral.categories"), "(absent)");
    cr_assert_eq(run(SR_OCC(",\"category\":[]"), &out, NULL, &err), HUB_OK,
                 "%s", err.field);
    cr_assert_str_eq(field_of(&out, 0, "referral.categories"), "(absent)");

    /* one that is no CodeableConcept: left out, said, the others kept */
    cr_assert_eq(run(SR_OCC(",\"category\":[{\"coding\":[{\"code\":7}]},"
                            ORTHO_CAT "]"),
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(field_of(&out, 0, "referral.categories.0.code"),
                     "183545006");
    cr_assert_str_eq(field_of(&out, 0, "referral.categories.1"), "(absent)");
    cr_assert_str_eq(field_of(&out, 0, "warnings.0.field"),
                     "ServiceRequest.category[0]");
    cr_assert_str_eq(field_of(&out, 0, "warnings.1"), "(absent)");
    /* a lone CodeableConcept where R4 has an array */
    cr_assert_eq(run(SR_OCC(",\"category\":" ORTHO_CAT), &out, NULL, &err),
                 HUB_OK, "%s", err.field);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(field_of(&out, 0, "referral.categories"), "(absent)");
    cr_assert_str_eq(field_of(&out, 0, "warnings.0.field"),
                     "ServiceRequest.category");

    /* the Task of a request in the message carries them too */
    cr_assert_eq(run("{\"resourceType\":\"Bundle\",\"type\":\"transaction\","
                     "\"entry\":[{\"resource\":" SR_OCC(",\"category\":["
                     ORTHO_CAT "]") "},{\"resource\":{\"resourceType\":"
                     "\"Task\",\"id\":\"t\",\"status\":\"accepted\",\"intent\":"
                     "\"order\",\"focus\":{\"reference\":\"ServiceRequest/sr\"},"
                     "\"for\":{\"reference\":\"Patient/a\"}}}]}",
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_eq(out.n, 2);
    cr_assert_str_eq(field_of(&out, 1, "referral.categories.0.code"),
                     "183545006");
}
#undef ORTHO_CAT

/* Probe of round 234 (F3961): a category with no coding but its text (a
 * sender with no code for what it asks) is carried as that text, the
 * one statement of what is asked; an empty one ({}, a text of "") is no
 * category. */
Test(fhir, a_category_of_text_alone_is_carried)
{
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run(SR_OCC(",\"category\":[{},{\"text\":\"\"},"
                            "{\"text\":\"Orthopaedic referral\"}]"),
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(field_of(&out, 0, "referral.categories.0"),
                     "{\"text\":\"Orthopaedic referral\"}");
    cr_assert_str_eq(field_of(&out, 0, "referral.categories.1"), "(absent)");
    cr_assert_str_eq(field_of(&out, 0, "warnings"), "(absent)");
}

/* F99: a Goal target's detailRange and detailQuantity as C-CDA writes an
 * IVL_PQ and a PQ target (F95): detail_text the quantity with its unit
 * (UCUM code first) and comparator, a range with both its ends;
 * detail_value only a whole number with no comparator. Before, a range was
 * not read at all and a quantity kept its number cut to an integer ("< 7
 * %" was 7, 7.5 h was 7). A quantity of the wrong shape is left out with a
 * warning; a target with nothing read is not written as {}. */
#define GOAL_T(targets)                                                     \
    GOAL_X "\"subject\":{\"reference\":\"Patient/p\"},\"target\":[" targets "]}"
#define UCUM_Q(v, unit, code)                                               \
    "{\"value\":" v ",\"unit\":\"" unit "\",\"system\":"                    \
    "\"http://unitsofmeasure.org\",\"code\":\"" code "\"}"

Test(fhir, a_goal_target_keeps_its_range_units_and_comparator)
{
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run(GOAL_T("{\"measure\":{\"coding\":[{\"system\":"
                            "\"http://loinc.org\",\"code\":\"8310-5\"}]},"
                            "\"detailRange\":{\"low\":" UCUM_Q("98.6", "F",
                            "[degF]") ",\"high\":" UCUM_Q("100.4", "F",
                            "[degF]") "}},"
                            "{\"detailQuantity\":{\"value\":7,\"comparator\":"
                            "\"<\",\"unit\":\"%\",\"system\":"
                            "\"http://unitsofmeasure.org\",\"code\":\"%\"}},"
                            "{\"detailQuantity\":{\"value\":160,\"unit\":"
                            "\"lb\"}},"
                            "{\"detailQuantity\":" UCUM_Q("7.5", "hours", "h")
                            "},"
                            "{\"detailRange\":{\"high\":{\"value\":3}}},"
                            "{\"detailInteger\":5}"),
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_str_eq(field_of(&out, 0, "goal.targets.0.detail_text"),
                     ">= 98.6 [degF], <= 100.4 [degF]");
    cr_assert_str_eq(field_of(&out, 0, "goal.targets.0.detail_value"),
                     "(absent)");
    cr_assert_str_eq(field_of(&out, 0, "goal.targets.0.measure.code"),
                     "8310-5");
    cr_assert_str_eq(field_of(&out, 0, "goal.targets.1"),
                     "{\"detail_text\":\"< 7 %\"}");
    cr_assert_str_eq(field_of(&out, 0, "goal.targets.2"),
                     "{\"detail_value\":160,\"detail_text\":\"160 lb\"}");
    cr_assert_str_eq(field_of(&out, 0, "goal.targets.3"),
                     "{\"detail_text\":\"7.5 h\"}");
    cr_assert_str_eq(field_of(&out, 0, "goal.targets.4"),
                     "{\"detail_text\":\"<= 3\"}");
    cr_assert_str_eq(field_of(&out, 0, "goal.targets.5"),
                     "{\"detail_value\":5}");
    cr_assert_str_eq(field_of(&out, 0, "warnings"), "(absent)");

    /* not a Quantity (a value in quotes; a comparator in a range, whose
     * ends are SimpleQuantity): left out, said where, the goal kept; a
     * target with nothing the hub reads is left out */
    cr_assert_eq(run(GOAL_T("{\"measure\":{\"text\":\"weight\"},"
                            "\"detailQuantity\":{\"value\":\"160\"}},"
                            "{\"detailRange\":{\"low\":{\"value\":1,"
                            "\"comparator\":\">\"},\"high\":{\"value\":2}}},"
                            "{\"detailBoolean\":true}"),
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_str_eq(field_of(&out, 0, "goal.targets"),
                     "[{\"measure\":{\"text\":\"weight\"}},"
                     "{\"detail_text\":\"<= 2\"}]");
    cr_assert_str_eq(field_of(&out, 0, "warnings.0.field"),
                     "Goal.target[0].detailQuantity");
    cr_assert_str_eq(field_of(&out, 0, "warnings.1.field"),
                     "Goal.target[1].detailRange.low");
    cr_assert_eq(run(GOAL_T("{\"detailBoolean\":true}"), &out, NULL, &err),
                 HUB_OK, "%s", err.field);
    cr_assert_str_eq(field_of(&out, 0, "goal.targets"), "(absent)");
}

/* F46: Michigan CIE POSTs its ServiceRequest without an id, named by its
 * entry's fullUrl urn:uuid:sr-1, and the CBO it is for only by the
 * performer's display. The referral is that urn (by its type alone two
 * would be one, and a Task whose focus is the urn would name another
 * referral), and the CBO is kept by name among the organizations. */
#define CIE_SR(url, perf)                                                   \
    "{\"fullUrl\":\"" url "\",\"resource\":{\"resourceType\":"              \
    "\"ServiceRequest\",\"status\":\"active\",\"intent\":\"original-order\"," \
    "\"subject\":{\"reference\":\"Patient/p\"},\"performer\":[" perf "]}}"

/* A ServiceRequest alone gives the referral a status of the Task status
 * subset of the Gravity closed loop, as a Task, a C-CDA referral and a CSV
 * row do: active is requested, revoked cancelled (F506); the topic and
 * terminal follow the request's own status. */
Test(fhir, a_service_request_alone_has_a_task_status)
{
    static const char *const c[][4] = {
        { "active", "requested", "false", "referral.created" },
        { "revoked", "cancelled", "true", "referral.updated" },
        { "completed", "completed", "true", "referral.updated" },
        { "on-hold", "on-hold", "false", "referral.created" },
        { "draft", "draft", "false", "referral.created" },
        { "entered-in-error", "entered-in-error", "true",
          "referral.updated" },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        char j[512];
        struct canon_list out;
        struct hub_err err;
        snprintf(j, sizeof(j),
                 "{\"resourceType\":\"ServiceRequest\",\"id\":\"s\","
                 "\"status\":\"%s\",\"intent\":\"order\",\"subject\":"
                 "{\"reference\":\"Patient/p\"}}", c[i][0]);
        cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "%s", err.field);
        cr_expect_str_eq(field_of(&out, 0, "referral.status"), c[i][1],
                         "%s", c[i][0]);
        cr_expect_str_eq(field_of(&out, 0, "referral.terminal"), c[i][2],
                         "%s", c[i][0]);
        cr_expect_str_eq(field_of(&out, 0, "type"), c[i][3], "%s", c[i][0]);
    }
}

Test(fhir, an_entry_without_id_is_its_urn_and_a_performer_its_display)
{
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run("{\"resourceType\":\"Bundle\",\"type\":\"transaction\","
                     "\"entry\":[" CIE_SR("urn:uuid:sr-1", "{\"display\":"
                     "\"United Way of Bay County\",\"extension\":[{\"url\":"
                     "\"https://directory.mi-cie.org/or_org_id\","
                     "\"valueString\":\"38562\"}]}") ","
                     CIE_SR("urn:uuid:sr-2", "{\"display\":\"Dr Who\","
                     "\"type\":\"Practitioner\"}") ","
                     "{\"resource\":{\"resourceType\":\"Task\",\"id\":\"t\","
                     "\"status\":\"accepted\",\"intent\":\"order\",\"focus\":"
                     "{\"reference\":\"urn:uuid:sr-1\"},\"for\":{\"reference\":"
                     "\"Patient/p\"}}}]}", &out, NULL, &err), HUB_OK, "%s",
                 err.field);
    cr_assert_eq(out.n, 3);
    cr_assert_str_eq(field_of(&out, 0, "referral.id"), "urn:uuid:sr-1");
    cr_assert_str_eq(field_of(&out, 0, "source.resource"), "urn:uuid:sr-1");
    cr_assert_str_eq(field_of(&out, 1, "referral.id"), "urn:uuid:sr-2");
    cr_assert_str_eq(field_of(&out, 2, "referral.id"), "urn:uuid:sr-1");
    cr_assert_str_eq(field_of(&out, 0, "referral.performer"), "(absent)");
    cr_assert_str_eq(field_of(&out, 0, "referral.organizations"),
                     "[{\"role\":\"performer\",\"name\":"
                     "\"United Way of Bay County\"}]");
    /* a display that says it is a Practitioner is no organization */
    cr_assert_str_eq(field_of(&out, 1, "referral.organizations"), "(absent)");
    /* a fullUrl that is no urn leaves the entry its place (F3362) */
    cr_assert_eq(run("{\"resourceType\":\"Bundle\",\"type\":\"transaction\","
                     "\"entry\":[" CIE_SR("http://x.org/fhir/ServiceRequest",
                     "") "]}", &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_str_eq(field_of(&out, 0, "referral.id"),
                     "Bundle.entry[0].resource");
}

/* F74: NHS BARS addresses a referral to a service by a logical reference
 * alone (FHIR R4 Reference.identifier: its DoS service id, a display and
 * type HealthcareService, no reference). Who the referral is for was
 * dropped; it is kept among the organizations by name and identifier, as a
 * display alone is (F46), unless the Reference says it is a person. */
Test(fhir, a_performer_named_by_its_identifier_is_kept_among_organizations)
{
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run("{\"resourceType\":\"Bundle\",\"type\":\"transaction\","
                     "\"entry\":[" CIE_SR("urn:uuid:sr-1", "{\"type\":"
                     "\"HealthcareService\",\"identifier\":{\"system\":"
                     "\"http://fhir.nhs.uk/Id/dos-service-id\",\"value\":"
                     "\"111111111\"},\"display\":\"Emergency Department\"}") ","
                     CIE_SR("urn:uuid:sr-2", "{\"identifier\":{\"system\":"
                     "\"http://hl7.org/fhir/sid/us-npi\",\"value\":"
                     "\"1234567893\"}}") ","
                     CIE_SR("urn:uuid:sr-3", "{\"type\":\"PractitionerRole\","
                     "\"identifier\":{\"value\":\"G823658\"},\"display\":"
                     "\"Dr Who\"}") ","
                     CIE_SR("urn:uuid:sr-4", "{\"type\":\"HealthcareService\","
                     "\"display\":\"Food pantry\"}") "]}",
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_eq(out.n, 4);
    cr_assert_str_eq(field_of(&out, 0, "referral.performer"), "(absent)");
    cr_assert_str_eq(field_of(&out, 0, "referral.organizations"),
                     "[{\"role\":\"performer\",\"name\":"
                     "\"Emergency Department\",\"identifiers\":[{\"system\":"
                     "\"http://fhir.nhs.uk/Id/dos-service-id\",\"value\":"
                     "\"111111111\"}]}]");
    cr_assert_str_eq(field_of(&out, 1, "referral.organizations"),
                     "[{\"role\":\"performer\",\"identifiers\":[{\"system\":"
                     "\"http://hl7.org/fhir/sid/us-npi\",\"value\":"
                     "\"1234567893\"}]}]");
    /* a reference that says it is a person is no organization */
    cr_assert_str_eq(field_of(&out, 2, "referral.organizations"), "(absent)");
    cr_assert_str_eq(field_of(&out, 3, "referral.organizations"),
                     "[{\"role\":\"performer\",\"name\":\"Food pantry\"}]");
}

/* A Task whose owner is named by its identifier alone, as the Dutch shared
 * care plan's SCPTask requires (orca's Bundle-cps-bundle-01: URA-2): the
 * organization the referral is addressed to is kept among organizations,
 * as owner and, the request naming no performer, as performer. */
Test(fhir, a_task_owner_named_by_its_identifier_is_kept_among_organizations)
{
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run("{\"resourceType\":\"Bundle\",\"type\":\"transaction\","
                     "\"entry\":[{\"fullUrl\":\"urn:uuid:t\",\"resource\":{"
                     "\"resourceType\":\"Task\",\"id\":\"t\",\"status\":"
                     "\"accepted\",\"intent\":\"order\",\"focus\":{"
                     "\"reference\":\"urn:uuid:s\"},\"for\":{\"reference\":"
                     "\"Patient/p\"},\"owner\":{\"type\":\"Organization\","
                     "\"identifier\":{\"system\":"
                     "\"http://fhir.nl/fhir/NamingSystem/ura\",\"value\":"
                     "\"URA-2\"}}}},{\"fullUrl\":\"urn:uuid:s\",\"resource\":{"
                     "\"resourceType\":\"ServiceRequest\",\"id\":\"s\","
                     "\"status\":\"active\",\"intent\":\"order\",\"subject\":"
                     "{\"reference\":\"Patient/p\"}}}]}",
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_eq(out.n, 2);
    cr_assert_str_eq(field_of(&out, 0, "type"), "referral.updated");
    cr_assert_str_eq(field_of(&out, 0, "referral.status"), "accepted");
    cr_assert_str_eq(field_of(&out, 0, "referral.organizations"),
                     "[{\"role\":\"performer\",\"identifiers\":[{\"system\":"
                     "\"http://fhir.nl/fhir/NamingSystem/ura\",\"value\":"
                     "\"URA-2\"}]},{\"role\":\"owner\",\"identifiers\":[{"
                     "\"system\":\"http://fhir.nl/fhir/NamingSystem/ura\","
                     "\"value\":\"URA-2\"}]}]");
}

/* Task.for is 0..1 in FHIR R4 and the Dutch shared care plan's Tasks leave
 * it out (SanteonNL's minimal enrollment Bundle): a referral Task without
 * it whose focal ServiceRequest is in the message is about that request's
 * subject. Without the request there is no patient, and the refusal says
 * where. */
Test(fhir, a_task_without_for_is_about_its_focal_requests_subject)
{
    struct canon_list out;
    struct hub_err err;
    const char *sr = "{\"fullUrl\":\"urn:uuid:s\",\"resource\":{"
                     "\"resourceType\":\"ServiceRequest\",\"id\":\"s\","
                     "\"status\":\"active\",\"intent\":\"order\","
                     "\"subject\":{\"reference\":\"Patient/p7\"}}}";
    char j[1024];
    snprintf(j, sizeof(j),
             "{\"resourceType\":\"Bundle\",\"type\":\"transaction\","
             "\"entry\":[{\"fullUrl\":\"urn:uuid:t\",\"resource\":{"
             "\"resourceType\":\"Task\",\"id\":\"t\",\"status\":"
             "\"requested\",\"intent\":\"order\",\"focus\":{"
             "\"reference\":\"urn:uuid:s\"}}},%s]}", sr);
    cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "%s: %s", err.field,
                 err.what ? err.what : "");
    cr_assert_eq(out.n, 2);
    cr_assert_str_eq(field_of(&out, 0, "type"), "referral.updated");
    cr_assert_str_eq(field_of(&out, 0, "patient.identifiers"),
                     "[{\"value\":\"p7\",\"type\":\"fhir-id\"}]");
    cr_assert_str_eq(field_of(&out, 0, "referral.service_request"),
                     "ServiceRequest/s");
    /* the request's own patient must be one: its error is its own place */
    snprintf(j, sizeof(j),
             "{\"resourceType\":\"Bundle\",\"type\":\"transaction\","
             "\"entry\":[{\"fullUrl\":\"urn:uuid:t\",\"resource\":{"
             "\"resourceType\":\"Task\",\"id\":\"t\",\"status\":"
             "\"requested\",\"intent\":\"order\",\"focus\":{"
             "\"reference\":\"urn:uuid:s\"}}},{\"fullUrl\":\"urn:uuid:s\","
             "\"resource\":{\"resourceType\":\"ServiceRequest\",\"id\":"
             "\"s\",\"status\":\"active\",\"intent\":\"order\","
             "\"subject\":{\"reference\":\"Group/g\"}}}]}");
    cr_assert_neq(run(j, &out, NULL, &err), HUB_OK);
    cr_assert_str_eq(err.field, "entry[1].resource.subject");
    /* a Task alone without for still names no patient */
    cr_assert_eq(run("{\"resourceType\":\"Task\",\"id\":\"t\",\"status\":"
                     "\"requested\",\"intent\":\"order\",\"focus\":{"
                     "\"reference\":\"ServiceRequest/s\"}}",
                     &out, NULL, &err), HUB_EINVALID);
    cr_assert_str_eq(err.field, "Task.for");
}

/* A completed QuestionnaireResponse (one AHC housing answer) about a
 * contained Patient whose members after "id" are `members`. */
#define QR_OF_PATIENT(members)                                               \
    "{\"resourceType\":\"QuestionnaireResponse\",\"id\":\"q1\","              \
    "\"contained\":[{\"resourceType\":\"Patient\",\"id\":\"pat\"," members   \
    "}],\"status\":\"completed\",\"subject\":{\"reference\":\"#pat\"},"      \
    "\"authored\":\"2024-01-01\",\"item\":[{\"linkId\":"                    \
    "\"/88122-7\",\"answer\":[{\"valueCoding\":{\"system\":"                \
    "\"http://loinc.org\",\"code\":\"LA28397-0\"}}]}]}"

/* As every adapter: an identifier of system us-ssn that is nine digits
 * once dashes and spaces are left out is written as the nine digits, so
 * that 444-22-2222 and 444222222 link; one the SSA never issues (000-00-
 * 0000, 9xx, 123-45-6789, one digit nine times) or that is no SSN at all
 * is left out with a warning: it would link strangers (common/ssn.h).
 * Another system's number is written as sent. */
Test(fhir, an_ssn_is_written_as_nine_digits)
{
    static const struct {
        const char *sys, *v, *want;     /* want NULL: left out */
    } c[] = {
        { "http://hl7.org/fhir/sid/us-ssn", "444-22-2222", "444222222" },
        { "http://hl7.org/fhir/sid/us-ssn", "444 22 2222", "444222222" },
        { "http://hl7.org/fhir/sid/us-ssn", "444222222", "444222222" },
        { "http://hl7.org/fhir/sid/us-ssn", "44-22-2222", NULL },
        { "http://hl7.org/fhir/sid/us-ssn", "444-22-2222x", NULL },
        { "http://hl7.org/fhir/sid/us-ssn", "000-00-0000", NULL },
        { "http://hl7.org/fhir/sid/us-ssn", "999-34-2964", NULL },
        { "http://hl7.org/fhir/sid/us-ssn", "666-12-3456", NULL },
        { "http://hl7.org/fhir/sid/us-ssn", "111-00-2330", NULL },
        { "http://hl7.org/fhir/sid/us-ssn", "444-22-0000", NULL },
        { "http://hl7.org/fhir/sid/us-ssn", "123-45-6789", NULL },
        { "http://hl7.org/fhir/sid/us-ssn", "111111111", NULL },
        { "urn:mrn", "444-22-2222", "444-22-2222" },
        { "urn:mrn", "000-00-0000", "000-00-0000" },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        char j[1024];
        struct canon_list out;
        struct hub_err err;
        snprintf(j, sizeof(j),
                 QR_OF_PATIENT("\"identifier\":[{\"system\":\"%s\","
                               "\"value\":\"%s\"},{\"system\":"
                               "\"urn:other\",\"value\":\"M1\"}]"),
                 c[i].sys, c[i].v);
        cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "%s: %s", err.field,
                     err.what);
        if (c[i].want) {
            cr_expect_str_eq(field_of(&out, 0, "patient.identifiers.0.value"),
                             c[i].want, "case %zu", i);
            cr_expect_str_eq(field_of(&out, 0, "warnings"), "(absent)",
                             "case %zu", i);
            continue;
        }
        cr_expect_str_eq(field_of(&out, 0, "patient.identifiers.0.value"),
                         "M1", "case %zu", i);
        cr_expect_str_eq(field_of(&out, 0, "patient.identifiers.1"),
                         "(absent)", "case %zu", i);
        cr_expect_str_eq(field_of(&out, 0, "warnings.0.field"),
                         "QuestionnaireResponse.contained[0].identifier[0]"
                         ".value", "case %zu", i);
    }
}

/* An Identifier.system in the hub's own space (urn:hub:, scheme and NID in
 * any case) names some organization's scope, another's as easily as the
 * sender's: left out with a warning at its system that names no value,
 * as an unusable SSN is; so is a conditional reference's. A system that
 * only starts alike is kept (F2240). */
Test(fhir, an_identifier_in_the_hubs_own_space_is_left_out)
{
    static const struct {
        const char *sys;
        bool out;
    } c[] = {
        { "urn:hub:org:hosp:ns:MRN", true },
        { "URN:HUB:org:hosp:ns:MRN", true },
        { "urn:Hub:org:hosp:fhir", true },
        { "urn:hubx:a", false },
        { "urn:mrn", false },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        char j[1024];
        struct canon_list out;
        struct hub_err err;
        snprintf(j, sizeof(j),
                 QR_OF_PATIENT("\"identifier\":[{\"system\":\"%s\","
                               "\"value\":\"1234\"},{\"system\":"
                               "\"urn:other\",\"value\":\"M1\"}]"),
                 c[i].sys);
        cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "%s: %s", err.field,
                     err.what);
        if (!c[i].out) {
            cr_expect_str_eq(field_of(&out, 0, "patient.identifiers.0.value"),
                             "1234", "case %zu", i);
            cr_expect_str_eq(field_of(&out, 0, "warnings"), "(absent)",
                             "case %zu", i);
            continue;
        }
        cr_expect_str_eq(field_of(&out, 0, "patient.identifiers.0.value"),
                         "M1", "case %zu", i);
        cr_expect_str_eq(field_of(&out, 0, "patient.identifiers.1"),
                         "(absent)", "case %zu", i);
        cr_expect_str_eq(field_of(&out, 0, "warnings.0.field"),
                         "QuestionnaireResponse.contained[0].identifier[0]"
                         ".system", "case %zu", i);
        cr_expect_str_eq(field_of(&out, 0, "warnings.0.what"),
                         "identifier system is in the hub's own space "
                         "(urn:hub:); left out", "case %zu", i);
    }
}

/* The same national number in every format is one identifier: a FHIR
 * system that names the SSN, NPI or MBI by its OID (as converters from
 * C-CDA write urn:oid:2.16.840.1.113883.4.1), or the SSN by the SSA's web
 * address (SHIN-NY's FHIR), is written with the URI HL7 v2 and C-CDA
 * write (common/idsys.h), its type when none is coded; the SSN is then
 * checked as one (an unissued one left out, with its warning). */
Test(fhir, a_national_system_named_by_its_oid_or_the_ssa_is_its_uri)
{
    static const struct {
        const char *sys, *type, *v, *want_sys, *want_type, *want_v;
    } c[] = {
        { "urn:oid:2.16.840.1.113883.4.1", "", "444-22-2222",
          "http://hl7.org/fhir/sid/us-ssn", "SS", "444222222" },
        { "http://www.ssa.gov/", "SS", "444-22-2222",
          "http://hl7.org/fhir/sid/us-ssn", "SS", "444222222" },
        { "https://www.ssa.gov", "", "444222222",
          "http://hl7.org/fhir/sid/us-ssn", "SS", "444222222" },
        { "urn:oid:2.16.840.1.113883.4.927", "", "1EG4TE5MK73",
          "http://hl7.org/fhir/sid/us-mbi", "MC", "1EG4TE5MK73" },
        { "urn:oid:2.16.840.1.113883.4.927", "MB", "1EG4TE5MK73",
          "http://hl7.org/fhir/sid/us-mbi", "MB", "1EG4TE5MK73" },
        { "urn:oid:2.16.840.1.113883.4.6", "", "1234567893",
          "http://hl7.org/fhir/sid/us-npi", "NPI", "1234567893" },
        /* the URI itself, with no type coded: the type too (F507) */
        { "http://hl7.org/fhir/sid/us-ssn", "", "444-22-2222",
          "http://hl7.org/fhir/sid/us-ssn", "SS", "444222222" },
        { "http://hl7.org/fhir/sid/us-mbi", "", "1EG4TE5MK73",
          "http://hl7.org/fhir/sid/us-mbi", "MC", "1EG4TE5MK73" },
        /* the same arcs under another parent, or another web address */
        { "urn:oid:2.16.840.1.113883.4.10", "", "44", "urn:oid:"
          "2.16.840.1.113883.4.10", "(absent)", "44" },
        { "http://www.ssa.gov/x", "", "44", "http://www.ssa.gov/x",
          "(absent)", "44" },
        /* an unissued SSN under the SSA's address is left out */
        { "http://www.ssa.gov/", "SS", "999-34-2964", NULL, NULL, NULL },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        char j[1024], type[200] = "";
        struct canon_list out;
        struct hub_err err;
        if (c[i].type[0])
            snprintf(type, sizeof(type),
                     "\"type\":{\"coding\":[{\"system\":\"http://"
                     "terminology.hl7.org/CodeSystem/v2-0203\",\"code\":"
                     "\"%s\"}]},", c[i].type);
        snprintf(j, sizeof(j),
                 QR_OF_PATIENT("\"identifier\":[{%s\"system\":\"%s\","
                               "\"value\":\"%s\"},{\"system\":"
                               "\"urn:other\",\"value\":\"M1\"}]"),
                 type, c[i].sys, c[i].v);
        cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "%s: %s", err.field,
                     err.what);
        if (c[i].want_sys == NULL) {
            cr_expect_str_eq(field_of(&out, 0, "patient.identifiers.0.value"),
                             "M1", "case %zu", i);
            cr_expect_str_eq(field_of(&out, 0, "warnings.0.what"),
                             "SSN is not nine digits the SSA could have issued"
                             "; left out", "case %zu", i);
            continue;
        }
        cr_expect_str_eq(field_of(&out, 0, "patient.identifiers.0.system"),
                         c[i].want_sys, "case %zu", i);
        cr_expect_str_eq(field_of(&out, 0, "patient.identifiers.0.type"),
                         c[i].want_type, "case %zu", i);
        cr_expect_str_eq(field_of(&out, 0, "patient.identifiers.0.value"),
                         c[i].want_v, "case %zu", i);
    }
}

/* A national number that fails its check digit (F744, common/natid.h) is
 * kept as sent, marked inactive (the linker passes it by), with a warning
 * that names the scheme and quotes no digit; one that passes links. */
Test(fhir, a_national_number_that_fails_its_check_is_kept_and_not_linked)
{
    static const struct {
        const char *sys, *v, *want_inactive, *want_what;
    } c[] = {
        { "https://fhir.nhs.uk/Id/nhs-number", "3478526985", "true",
          "NHS number fails its modulus 11 check; not linked" },
        { "https://fhir.nhs.uk/Id/nhs-number", "9434765919", "(absent)",
          "(absent)" },
        { "urn:oid:2.16.840.1.113883.4.6", "1234567890", "true",
          "NPI fails its Luhn check; not linked" },
        { "http://hl7.org/fhir/sid/us-mbi", "1SG4TE5MK73", "true",
          "MBI is not in the CMS format; not linked" },
        { "urn:oid:2.16.840.1.113883.3.4424.1.1.616", "44051401358", "true",
          "PESEL fails its check digit; not linked" },
        { "urn:oid:2.16.840.1.113883.3.4424.1.1.616", "44051401359",
          "(absent)", "(absent)" },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        char j[1024];
        struct canon_list out;
        struct hub_err err;
        snprintf(j, sizeof(j),
                 QR_OF_PATIENT("\"identifier\":[{\"system\":\"%s\","
                               "\"value\":\"%s\"},{\"system\":"
                               "\"urn:other\",\"value\":\"M1\"}]"),
                 c[i].sys, c[i].v);
        cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "%s: %s", err.field,
                     err.what);
        cr_expect_str_eq(field_of(&out, 0, "patient.identifiers.0.value"),
                         c[i].v, "case %zu: kept as sent", i);
        cr_expect_str_eq(field_of(&out, 0, "patient.identifiers.0.inactive"),
                         c[i].want_inactive, "case %zu", i);
        cr_expect_str_eq(field_of(&out, 0, "patient.identifiers.1.inactive"),
                         "(absent)", "case %zu", i);
        cr_expect_str_eq(field_of(&out, 0, "warnings.0.what"),
                         c[i].want_what, "case %zu", i);
    }
}

/* F843: a placeholder in a Medicaid, Medicare, national or health-card
 * number (one digit throughout, or counted up) was linked on by the FHIR
 * adapter, where HL7 v2 leaves it out (F116): every patient a sender
 * sent with Medicaid id 00000000 under the state's OID was one person.
 * Kept, marked inactive, with a warning; an MRN of the same digits and a
 * real Medicaid id link as before. */
Test(fhir, a_placeholder_national_number_is_kept_but_never_links)
{
    static const struct {
        const char *type, *v, *want;
    } c[] = {
        { "MA", "00000000", "true" }, { "MC", "999999999", "true" },
        { "JHN", "1234567890", "true" }, { "NH", "1111111111", "true" },
        { "MR", "00000000", "(absent)" }, { "MA", "AB12345C", "(absent)" },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        char j[1024];
        struct canon_list out;
        struct hub_err err;
        snprintf(j, sizeof(j),
                 QR_OF_PATIENT("\"identifier\":[{\"type\":{\"coding\":[{"
                               "\"system\":\"http://terminology.hl7.org/"
                               "CodeSystem/v2-0203\",\"code\":\"%s\"}]},"
                               "\"system\":\"urn:oid:2.16.840.1.113883.4.3.36\","
                               "\"value\":\"%s\"},{\"system\":"
                               "\"urn:other\",\"value\":\"M1\"}]"),
                 c[i].type, c[i].v);
        cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "%s: %s", err.field,
                     err.what);
        cr_expect_str_eq(field_of(&out, 0, "patient.identifiers.0.value"),
                         c[i].v, "case %zu", i);
        cr_expect_str_eq(field_of(&out, 0, "patient.identifiers.0.inactive"),
                         c[i].want, "case %zu", i);
        cr_expect_str_eq(field_of(&out, 0, "warnings.0.what"),
                         strcmp(c[i].want, "true") == 0
                             ? "national number is a placeholder; not linked"
                             : "(absent)", "case %zu", i);
    }
}

/* F841 (idsys_type_links): an Identifier typed as an account, a visit
 * or the insurance subscriber's number is kept, marked inactive (never
 * linked on): others share it. */
Test(fhir, an_account_or_visit_number_is_kept_but_never_links)
{
    static const struct {
        const char *type, *want;
    } c[] = {
        { "AN", "true" }, { "VN", "true" }, { "SN", "true" },
        { "MR", "(absent)" }, { "MB", "(absent)" },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        char j[1024];
        struct canon_list out;
        struct hub_err err;
        snprintf(j, sizeof(j),
                 QR_OF_PATIENT("\"identifier\":[{\"type\":{\"coding\":[{"
                               "\"system\":\"http://terminology.hl7.org/"
                               "CodeSystem/v2-0203\",\"code\":\"%s\"}]},"
                               "\"system\":\"urn:oid:1.2.3.4\","
                               "\"value\":\"A1\"},{\"system\":"
                               "\"urn:other\",\"value\":\"M1\"}]"),
                 c[i].type);
        cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "%s: %s", err.field,
                     err.what);
        cr_expect_str_eq(field_of(&out, 0, "patient.identifiers.0.value"),
                         "A1", "case %zu", i);
        cr_expect_str_eq(field_of(&out, 0, "patient.identifiers.0.inactive"),
                         c[i].want, "case %zu", i);
        cr_expect_str_eq(field_of(&out, 0, "patient.identifiers.1.inactive"),
                         "(absent)", "case %zu", i);
    }
}

/* As every adapter (common/postal.h): a ZIP+4 sent with an empty +4 is
 * the ZIP; anything else as sent. */
Test(fhir, a_zip_plus_4_with_an_empty_plus_4_is_the_zip)
{
    static const struct {
        const char *zip, *want;
    } c[] = {
        { "61550-    ", "61550" },
        { "61550-", "61550" },
        { "61550-1234", "61550-1234" },
        { "K1A 0B1", "K1A 0B1" },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        char j[1024];
        struct canon_list out;
        struct hub_err err;
        snprintf(j, sizeof(j),
                 QR_OF_PATIENT("\"address\":[{\"city\":\"Morton\","
                               "\"postalCode\":\"%s\"}]"),
                 c[i].zip);
        cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "%s: %s", err.field,
                     err.what);
        cr_expect_str_eq(field_of(&out, 0, "patient.addresses.0.postal_code"),
                         c[i].want, "case %zu", i);
    }
}

/* A searchset is a server's answer to a query, as an EHR exports it: its
 * match and include entries are taken like a collection's; an entry of
 * search.mode outcome (the server's OperationOutcome on the search) is
 * left out. */
Test(fhir, a_searchset_bundle_is_read_without_its_outcome_entries)
{
    struct canon_list out = { 0 };
    struct hub_err err;
    struct fhir_result res;
    const char *j =
        "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":1,"
        "\"entry\":[{\"fullUrl\":\"https://ehr.example/fhir/Condition/c1\","
        "\"resource\":{\"resourceType\":\"Condition\",\"id\":\"c1\","
        "\"subject\":{\"reference\":\"Patient/p1\"},\"code\":{\"coding\":[{"
        "\"system\":\"http://hl7.org/fhir/sid/icd-10-cm\",\"code\":\"Z59.01\"}]}},"
        "\"search\":{\"mode\":\"match\"}},"
        "{\"fullUrl\":\"https://ehr.example/fhir/Patient/p1\",\"resource\":{"
        "\"resourceType\":\"Patient\",\"id\":\"p1\",\"birthDate\":\"1970-01-01\"},"
        "\"search\":{\"mode\":\"include\"}},"
        "{\"resource\":{\"resourceType\":\"OperationOutcome\",\"issue\":[{"
        "\"severity\":\"warning\",\"code\":\"incomplete\"}]},"
        "\"search\":{\"mode\":\"outcome\"}},"
        /* a result only by mistake: mode outcome is never read */
        "{\"resource\":{\"resourceType\":\"Condition\",\"id\":\"c2\","
        "\"subject\":{\"reference\":\"Patient/p1\"},\"code\":{\"coding\":[{"
        "\"system\":\"http://hl7.org/fhir/sid/icd-10-cm\",\"code\":\"Z59.41\"}]}},"
        "\"search\":{\"mode\":\"outcome\"}}]}";
    cr_assert_eq(fhir_to_events(&A, D, j, strlen(j), &out, &res, &err), HUB_OK,
                 "%s: %s", err.field, err.what);
    cr_assert_eq(out.n, 1, "%zu", out.n);
    cr_expect_str_eq(field_of(&out, 0, "condition.domain"), "homelessness");
    cr_expect_str_eq(field_of(&out, 0, "patient.birth_date"), "1970-01-01",
                     "the included Patient");
    cr_expect_str_eq(res.bundle_type, "searchset");
}

/* A message is a MessageHeader and its content (FHIR R4 Bundle: the first
 * resource of a message is its MessageHeader), shaped as an eReferral
 * message (HL7 BSeR: MessageHeader, ServiceRequest, Task). The header
 * gives no event, as other context; a message that does not start with
 * one is refused. */
Test(fhir, a_message_bundle_is_read_after_its_message_header)
{
    struct canon_list out;
    struct hub_err err;
    static const char fmt[] =
        "{\"resourceType\":\"Bundle\",\"type\":\"message\",\"timestamp\":"
        "\"2026-01-02T10:00:00Z\",\"entry\":[%s"
        "{\"fullUrl\":\"urn:uuid:1b2c3d4e-0000-4000-8000-000000000002\","
        "\"resource\":{\"resourceType\":\"ServiceRequest\",\"id\":\"sr1\","
        "\"status\":\"active\",\"intent\":\"order\",\"subject\":{\"reference\":"
        "\"Patient/p1\"}}}]}";
    static const char header[] =
        "{\"fullUrl\":\"urn:uuid:1b2c3d4e-0000-4000-8000-000000000001\","
        "\"resource\":{\"resourceType\":\"MessageHeader\",\"id\":\"mh1\","
        "\"eventCoding\":{\"system\":\"http://example.org/events\",\"code\":"
        "\"referral-request\"},\"source\":{\"endpoint\":\"https://ehr.example\"},"
        "\"focus\":[{\"reference\":\"urn:uuid:1b2c3d4e-0000-4000-8000-"
        "000000000002\"}]}},";
    char j[2048];
    snprintf(j, sizeof(j), fmt, header);
    cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "%s: %s", err.field,
                 err.what);
    cr_assert_eq(out.n, 1, "%zu", out.n);
    cr_expect_str_eq(out.ev[0].type, "referral.created");

    snprintf(j, sizeof(j), fmt, "");
    cr_assert_eq(run(j, &out, NULL, &err), HUB_EINVALID);
    cr_expect_str_eq(err.field, "entry[0].resource.resourceType");
    cr_expect_str_eq(err.what,
                     "a message bundle does not start with a MessageHeader");
}

/* ---- the shapes real senders use (F48) ------------------------------------- */

/* One Observation item (AHC HRSN transportation, "No"), %s before its end. */
static const char obs_fmt[] =
    "{\"resourceType\":\"Observation\",\"id\":\"o1\",\"status\":\"final\","
    "\"category\":[{\"coding\":[{\"system\":\"http://hl7.org/fhir/us/core/"
    "CodeSystem/us-core-category\",\"code\":\"sdoh\"}]}],"
    "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":"
    "\"93030-5\"}]},\"subject\":{\"reference\":\"Patient/p1\"},"
    "\"effectiveDateTime\":\"2026-01-02\",\"valueCodeableConcept\":"
    "{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"LA32-8\"%s}]}%s}";

Test(fhir, an_unknown_modifier_extension_refuses_its_resource_at_its_path)
{
    struct canon_list out;
    struct hub_err err;
    char j[2048];
    static const char mod[] =
        ",\"modifierExtension\":[{\"url\":\"http://example.org/not-asked\","
        "\"valueBoolean\":true}]";
    /* on the resource */
    snprintf(j, sizeof(j), obs_fmt, "", mod);
    cr_assert_eq(run(j, &out, NULL, &err), HUB_EUNSUPPORTED);
    cr_expect_str_eq(err.field, "Observation.modifierExtension[0]");
    cr_expect_eq(out.n, 0);
    /* deep inside it */
    snprintf(j, sizeof(j), obs_fmt, mod, "");
    cr_assert_eq(run(j, &out, NULL, &err), HUB_EUNSUPPORTED);
    cr_expect_str_eq(err.field,
                     "Observation.valueCodeableConcept.coding[0]."
                     "modifierExtension[0]");
    /* its name escaped is the same name */
    snprintf(j, sizeof(j), obs_fmt, "",
             ",\"\\u006dodifierExtension\":[{\"url\":\"http://x.example/m\","
             "\"valueBoolean\":true}]");
    cr_assert_eq(run(j, &out, NULL, &err), HUB_EUNSUPPORTED);
    /* an empty one says nothing; a plain extension is read past */
    snprintf(j, sizeof(j), obs_fmt, "",
             ",\"modifierExtension\":[],\"extension\":[{\"url\":"
             "\"http://example.org/x\",\"valueString\":\"y\"}]");
    cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "%s %s", err.field,
                 err.what);
    cr_expect_eq(out.n, 1);
    /* the error never names the sender's own keys on the way */
    snprintf(j, sizeof(j), obs_fmt, "",
             ",\"Jane Doe 1970\":{\"modifierExtension\":[{\"url\":\"u\"}]}");
    cr_assert_eq(run(j, &out, NULL, &err), HUB_EUNSUPPORTED);
    cr_expect_str_eq(err.field, "Observation.*.modifierExtension[0]");
}

Test(fhir, a_batch_entry_with_an_unknown_modifier_is_refused_alone)
{
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    char o1[1024], o2[1024], j[4096];
    snprintf(o1, sizeof(o1), obs_fmt, "",
             ",\"modifierExtension\":[{\"url\":\"http://example.org/m\","
             "\"valueBoolean\":true}]");
    snprintf(o2, sizeof(o2), obs_fmt, "", "");
    snprintf(j, sizeof(j),
             "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
             "{\"resource\":%s,\"request\":{\"method\":\"POST\",\"url\":"
             "\"Observation\"}},{\"resource\":%s,\"request\":{\"method\":"
             "\"POST\",\"url\":\"Observation\"},\"modifierExtension\":[{"
             "\"url\":\"http://example.org/m\"}]},{\"resource\":%s}]}",
             o1, o2, o2);
    cr_assert_eq(run(j, &out, &res, &err), HUB_OK, "%s %s", err.field,
                 err.what);
    cr_expect_eq(res.n_failed, 2);
    cr_expect_eq(res.entries[0].status, HUB_EUNSUPPORTED);
    cr_expect_str_eq(res.entries[0].err.field,
                     "entry[0].resource.modifierExtension[0]");
    /* Bundle.entry is a BackboneElement: its own modifier counts too */
    cr_expect_str_eq(res.entries[1].err.field, "entry[1].modifierExtension[0]");
    cr_expect_eq(res.entries[2].status, HUB_OK);
    cr_expect_eq(out.n, 1);
}

Test(fhir, a_member_name_twice_in_one_object_is_refused_at_it)
{
    struct canon_list out;
    struct hub_err err;
    char j[8192];
    /* two statuses: which did the sender mean? neither is guessed */
    snprintf(j, sizeof(j), obs_fmt, "",
             ",\"status\":\"entered-in-error\"");
    cr_assert_eq(run(j, &out, NULL, &err), HUB_ESYNTAX);
    cr_expect_str_eq(err.field, "Observation.status");
    cr_expect_eq(out.n, 0);
    /* deep, and in a bundle: the entry's path */
    snprintf(j, sizeof(j),
             "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":"
             "[{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p1\"}},"
             "{\"resource\":%s}]}", "{\"resourceType\":\"Observation\","
             "\"status\":\"final\",\"code\":{\"coding\":[{\"system\":"
             "\"http://loinc.org\",\"code\":\"93030-5\",\"code\":\"x\"}]},"
             "\"subject\":{\"reference\":\"Patient/p1\"}}");
    cr_assert_eq(run(j, &out, NULL, &err), HUB_ESYNTAX);
    cr_expect_str_eq(err.field, "entry[1].resource.code.coding[0].code");
    /* an object of many members: found the same way */
    size_t n = (size_t)snprintf(j, sizeof(j),
                                "{\"resourceType\":\"Patient\",\"id\":\"p\"");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(j + n, sizeof(j) - n, ",\"_x%d\":1", i);
    snprintf(j + n, sizeof(j) - n, ",\"_x7\":2}");
    cr_assert_eq(run(j, &out, NULL, &err), HUB_ESYNTAX);
    cr_expect_str_eq(err.field, "Patient._x7");
    j[n] = '}';
    j[n + 1] = '\0';
    cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "%s %s", err.field,
                 err.what);
}

/* A batch's entries are independent (FHIR R4 http): a name twice inside
 * one refuses that entry alone; in a transaction, all or nothing. */
Test(fhir, a_member_name_twice_in_a_batch_entry_refuses_that_entry_alone)
{
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    char dup[1024], mod[1024], ok[1024], j[8192];
    snprintf(dup, sizeof(dup), obs_fmt, "", ",\"status\":\"entered-in-error\"");
    snprintf(mod, sizeof(mod), obs_fmt, "",
             ",\"modifierExtension\":[{\"url\":\"http://example.org/m\"}]");
    snprintf(ok, sizeof(ok), obs_fmt, "", "");
    static const char fmt[] =
        "{\"resourceType\":\"Bundle\",\"type\":\"%s\",\"entry\":["
        "{\"resource\":%s,\"request\":{\"method\":\"POST\",\"url\":"
        "\"Observation\"}},"
        "{\"resource\":%s,\"request\":{\"method\":\"POST\",\"method\":"
        "\"DELETE\",\"url\":\"Observation\"}},"
        "{\"resource\":%s,\"request\":{\"method\":\"POST\",\"url\":"
        "\"Observation\"}},"
        "{\"resource\":%s,\"request\":{\"method\":\"POST\",\"url\":"
        "\"Observation\"}}]}";
    snprintf(j, sizeof(j), fmt, "batch", dup, ok, ok, mod);
    cr_assert_eq(run(j, &out, &res, &err), HUB_OK, "%s %s", err.field,
                 err.what);
    cr_expect_eq(res.n_failed, 3);
    cr_expect_eq(res.entries[0].status, HUB_ESYNTAX);
    cr_expect_str_eq(res.entries[0].err.field, "entry[0].resource.status");
    cr_expect_gt(res.entries[0].raw.len, 0);
    cr_expect_eq(res.entries[1].status, HUB_ESYNTAX);
    cr_expect_str_eq(res.entries[1].err.field, "entry[1].request.method");
    cr_expect_eq(res.entries[2].status, HUB_OK);
    /* the walk of one entry still finds a modifier in it (F48) */
    cr_expect_eq(res.entries[3].status, HUB_EUNSUPPORTED);
    cr_expect_str_eq(res.entries[3].err.field,
                     "entry[3].resource.modifierExtension[0]");
    cr_expect_eq(out.n, 1);
    /* a transaction is all or nothing: refused whole, at the first */
    snprintf(j, sizeof(j), fmt, "transaction", ok, dup, ok, ok);
    cr_assert_eq(run(j, &out, &res, &err), HUB_ESYNTAX);
    cr_expect_str_eq(err.field, "entry[1].resource.status");
    cr_expect_eq(out.n, 0);
    /* a name twice in the batch itself: which type, which entries? whole */
    snprintf(j, sizeof(j), fmt, "batch\",\"type\":\"transaction", ok, ok, ok,
             ok);
    cr_assert_eq(run(j, &out, &res, &err), HUB_ESYNTAX);
    cr_expect_str_eq(err.field, "type");
}

/* The Procedure a screening was taken as part of (Observation or
 * QuestionnaireResponse partOf: the assessment's administration, HCPCS
 * G0136 from SHIN-NY) is told in the screening's event, not as a second
 * event about the same screening; any other link leaves it its own. */
static const char g0136[] =
    "{\"resourceType\":\"Procedure\",\"id\":\"pr1\",\"status\":\"completed\","
    "\"code\":{\"coding\":[{\"system\":\"urn:oid:2.16.840.1.113883.6.285\","
    "\"code\":\"G0136\"}]},\"subject\":{\"reference\":\"Patient/p1\"},"
    "\"performedPeriod\":{\"start\":\"2026-01-02T10:00:00Z\",\"end\":"
    "\"2026-01-02T10:12:00Z\"},\"performer\":[{\"actor\":{\"reference\":"
    "\"Practitioner/cw\"}}]%s}";

static void two_entries(char *j, size_t n, const char *type, const char *a,
                        const char *b)
{
    snprintf(j, n, "{\"resourceType\":\"Bundle\",\"type\":\"%s\",\"entry\":["
             "{\"resource\":%s},{\"resource\":%s}]}", type, a, b);
}

/* r189's probe: F2821's slip in a screening's partOf. A screening (an
 * Observation or a QuestionnaireResponse host) naming the Procedure it
 * was part of as "Procedure/urn:uuid:pr1" carries it, as one naming it
 * right does, and the Procedure is not told again as its own event. */
Test(fhir, a_screening_carries_its_procedure_named_by_the_slip)
{
    struct canon_list out;
    struct hub_err err;
    char pr[1024], o[2048], q[2048], j[4096];
    static const char part_of[] =
        ",\"partOf\":[{\"reference\":\"Procedure/urn:uuid:pr1\"}]";
    static const char qr[] = QR(QR_ITEM("88122-7", "LA28398-8"));
    snprintf(pr, sizeof(pr), g0136, "");
    snprintf(o, sizeof(o), obs_fmt, "", part_of);
    snprintf(q, sizeof(q), "%.*s%s}", (int)sizeof(qr) - 2, qr, part_of);
    const char *hosts[2] = { o, q };
    for (size_t h = 0; h < 2; h++)
        for (size_t k = 0; k < 2; k++) {
            snprintf(j, sizeof(j), "{\"resourceType\":\"Bundle\",\"type\":"
                     "\"collection\",\"entry\":[{\"fullUrl\":\"urn:uuid:%s\","
                     "\"resource\":%s},{\"fullUrl\":\"urn:uuid:%s\","
                     "\"resource\":%s}]}", k ? "pr1" : "h", k ? pr : hosts[h],
                     k ? "h" : "pr1", k ? hosts[h] : pr);
            cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "%s %s",
                         err.field, err.what);
            cr_expect_eq(out.n, 1, "host %zu order %zu: %zu events", h, k,
                         out.n);
            cr_expect_str_eq(field_of(&out, 0,
                                      "screening.procedures.0.procedure"),
                             "Procedure/pr1", "host %zu order %zu", h, k);
        }
}

/* r189's probe: the slip in a Procedure's basedOn. A Procedure basedOn
 * "ServiceRequest/urn:uuid:s" of the message is told in that referral's
 * event, as one basedOn "ServiceRequest/s" is (the table above), in
 * either order. */
Test(fhir, a_procedure_based_on_a_request_named_by_the_slip_is_the_referrals)
{
    static const char pr[] =
        "{\"fullUrl\":\"urn:uuid:pr2\",\"resource\":{\"resourceType\":"
        "\"Procedure\",\"id\":\"pr2\",\"status\":\"in-progress\",\"basedOn\":"
        "[{\"reference\":\"ServiceRequest/urn:uuid:s\"}],\"code\":{\"text\":"
        "\"case management\"},\"subject\":{\"reference\":\"Patient/p\"}}}";
    static const char sr[] =
        "{\"fullUrl\":\"urn:uuid:s\",\"resource\":{\"resourceType\":"
        "\"ServiceRequest\",\"id\":\"s\",\"status\":\"completed\",\"intent\":"
        "\"order\",\"subject\":{\"reference\":\"Patient/p\"}}}";
    for (size_t k = 0; k < 2; k++) {
        char j[2048];
        struct canon_list out;
        struct hub_err err;
        snprintf(j, sizeof(j), "{\"resourceType\":\"Bundle\",\"type\":"
                 "\"collection\",\"entry\":[%s,%s]}", k ? sr : pr,
                 k ? pr : sr);
        cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "%s %s", err.field,
                     err.what);
        cr_expect_eq(out.n, 1, "order %zu: %zu events", k, out.n);
        cr_expect_str_eq(field_of(&out, 0, "referral.performed.0.procedure"),
                         "Procedure/pr2", "order %zu", k);
    }
}

/* r189's probe: the slip in a referral Task's output. A Procedure the
 * Task names "Procedure/urn:uuid:pr" is told in the Task's event, as one
 * named "Procedure/pr" is, in either order. */
Test(fhir, a_procedure_a_task_names_by_the_slip_is_the_referrals)
{
    static const char task[] =
        "{\"resource\":{\"resourceType\":\"Task\",\"id\":\"t\",\"status\":"
        "\"completed\",\"intent\":\"order\",\"focus\":{\"reference\":"
        "\"ServiceRequest/s\"},\"for\":{\"reference\":\"Patient/p\"},"
        "\"output\":[{\"valueReference\":{\"reference\":"
        "\"Procedure/urn:uuid:pr\"}}]}}";
    static const char pr[] =
        "{\"fullUrl\":\"urn:uuid:pr\",\"resource\":{\"resourceType\":"
        "\"Procedure\",\"id\":\"pr\",\"status\":\"completed\",\"subject\":"
        "{\"reference\":\"Patient/p\"}}}";
    for (size_t k = 0; k < 2; k++) {
        char j[2048];
        struct canon_list out;
        struct hub_err err;
        snprintf(j, sizeof(j), "{\"resourceType\":\"Bundle\",\"type\":"
                 "\"transaction\",\"entry\":[%s,%s]}", k ? pr : task,
                 k ? task : pr);
        cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "%s %s", err.field,
                     err.what);
        cr_expect_eq(out.n, 1, "order %zu: %zu events", k, out.n);
        cr_expect_str_eq(field_of(&out, 0, "referral.performed.0.procedure"),
                         "Procedure/pr", "order %zu", k);
    }
    /* one of another patient so named is warned of, as by "Procedure/pr"
     * (F2760): the warnings look the slip up as the marking does */
    static const char pr_q[] =
        "{\"fullUrl\":\"urn:uuid:pr\",\"resource\":{\"resourceType\":"
        "\"Procedure\",\"id\":\"pr\",\"status\":\"completed\",\"subject\":"
        "{\"reference\":\"Patient/q\"}}}";
    for (size_t k = 0; k < 2; k++) {
        char j[2048];
        struct canon_list out;
        struct hub_err err;
        snprintf(j, sizeof(j), "{\"resourceType\":\"Bundle\",\"type\":"
                 "\"transaction\",\"entry\":[%s,%s]}", k ? pr_q : task,
                 k ? task : pr_q);
        cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "%s %s", err.field,
                     err.what);
        cr_expect_eq(out.n, 2, "order %zu: %zu events", k, out.n);
        bool warned = false;
        for (size_t i = 0; i < out.n; i++)
            warned = warned || strstr(field_of(&out, i, "warnings"),
                                      "procedure names another patient");
        cr_expect(warned, "order %zu: the Task's event warns", k);
    }
}

Test(fhir, a_screening_carries_the_procedure_it_was_part_of)
{
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    char pr[1024], o[2048], j[4096];
    static const char part_of[] =
        ",\"partOf\":[{\"reference\":\"Procedure/pr1\"}]";
    snprintf(pr, sizeof(pr), g0136, "");
    snprintf(o, sizeof(o), obs_fmt, "", part_of);
    /* the Procedure first or last: one event, the screening's */
    two_entries(j, sizeof(j), "collection", pr, o);
    cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "%s %s", err.field,
                 err.what);
    cr_assert_eq(out.n, 1);
    cr_expect_str_eq(out.ev[0].type, "screening.completed");
    cr_expect_str_eq(field_of(&out, 0, "screening.procedures.0.procedure"),
                     "Procedure/pr1");
    cr_expect_str_eq(field_of(&out, 0, "screening.procedures.0.code.code"),
                     "G0136");
    cr_expect_str_eq(field_of(&out, 0, "screening.procedures.0.status"),
                     "completed");
    cr_expect_str_eq(field_of(&out, 0, "screening.procedures.0.performed_at"),
                     "2026-01-02T10:00:00Z");
    cr_expect_str_eq(field_of(&out, 0,
                              "screening.procedures.0.performed_period.end"),
                     "2026-01-02T10:12:00Z");
    cr_expect_str_eq(field_of(&out, 0, "screening.procedures.0.performer"),
                     "Practitioner/cw");
    two_entries(j, sizeof(j), "transaction", o, pr);
    cr_assert_eq(run(j, &out, NULL, &err), HUB_OK);
    cr_assert_eq(out.n, 1);
    cr_expect_str_eq(field_of(&out, 0, "screening.procedures.0.code.code"),
                     "G0136");
    /* a loose answer gathered into another's screening brings it along */
    char o2[2048], j3[8192];
    snprintf(o2, sizeof(o2), obs_fmt, "", "");
    char *id = strstr(o2, "\"o1\"");
    cr_assert_not_null(id);
    id[2] = '2';
    snprintf(j3, sizeof(j3), "{\"resourceType\":\"Bundle\",\"type\":"
             "\"collection\",\"entry\":[{\"resource\":%s},{\"resource\":%s},"
             "{\"resource\":%s}]}", o2, o, pr);
    cr_assert_eq(run(j3, &out, NULL, &err), HUB_OK, "%s %s", err.field,
                 err.what);
    cr_assert_eq(out.n, 1);
    cr_expect_str_eq(field_of(&out, 0, "screening.id"), "Observation/o2");
    cr_expect_str_eq(field_of(&out, 0, "screening.procedures.0.procedure"),
                     "Procedure/pr1");
    /* a QuestionnaireResponse's partOf too */
    char q[2048];
    static const char qr[] = QR(QR_ITEM("88122-7", "LA28398-8"));
    snprintf(q, sizeof(q), "%.*s%s}", (int)sizeof(qr) - 2, qr, part_of);
    two_entries(j, sizeof(j), "collection", q, pr);
    cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "%s %s", err.field,
                 err.what);
    cr_assert_eq(out.n, 1);
    cr_expect_str_eq(field_of(&out, 0, "screening.procedures.0.procedure"),
                     "Procedure/pr1");
    /* a screening that tells nothing (preliminary): its own event, as before */
    char pre[2048];
    snprintf(pre, sizeof(pre), "%s", o);
    char *st = strstr(pre, "\"final\"");
    cr_assert_not_null(st);
    memcpy(st, "\"amend\"", 7);     /* no status: refused, for the batch */
    snprintf(o2, sizeof(o2), obs_fmt, "", part_of);
    st = strstr(o2, "\"final\"");
    memmove(st + 13, st + 7, strlen(st + 7) + 1);
    memcpy(st, "\"preliminary\"", 13);
    two_entries(j, sizeof(j), "collection", o2, pr);
    cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "%s %s", err.field,
                 err.what);
    cr_assert_eq(out.n, 1);
    cr_expect_str_eq(out.ev[0].type, "careplan.updated");
    /* a Procedure done for a screening (reasonReference) is an
     * intervention: its own event */
    snprintf(pr, sizeof(pr), g0136, ",\"reasonReference\":[{\"reference\":"
             "\"Observation/o1\"}]");
    snprintf(o, sizeof(o), obs_fmt, "", "");
    two_entries(j, sizeof(j), "collection", o, pr);
    cr_assert_eq(run(j, &out, NULL, &err), HUB_OK);
    cr_assert_eq(out.n, 2);
    cr_expect_str_eq(field_of(&out, 0, "screening.procedures"), "(absent)");
    cr_expect_str_eq(out.ev[1].type, "careplan.updated");
    /* batch: refused with the screening it was part of */
    snprintf(pr, sizeof(pr), g0136, "");
    two_entries(j, sizeof(j), "batch", pre, pr);
    cr_assert_eq(run(j, &out, &res, &err), HUB_OK, "%s %s", err.field,
                 err.what);
    cr_assert_eq(out.n, 0);
    cr_expect_eq(res.n_failed, 2);
    cr_expect_str_eq(res.entries[1].err.field, "entry[1].resource");
    cr_expect_str_eq(res.entries[1].err.what,
                     "the screening it was part of was refused");
}

/* F2622 (round 169), decided in F2621's way: a Procedure was folded into
 * the referral Task whose output names it, the request its basedOn names
 * or the screening whose partOf names it, whoever its patient: p2's
 * Procedure was told in p1's referral or screening and in no event of its
 * own. Now the referral or screening is kept, takes nothing from it and
 * warns once at the reference; the Procedure gives its own event, as if
 * nothing named it. One patient in two forms (F2740) is no slip; a Task
 * "for" another patient than its request is carried as sent (F2), so a
 * Procedure of either is the referral's. Every order. */
#define PR_OF(subj, extra)                                                  \
    "{\"resourceType\":\"Procedure\",\"id\":\"pr\",\"status\":"            \
    "\"completed\",\"subject\":{\"reference\":\"" subj "\"},\"code\":"     \
    "{\"coding\":[{\"system\":\"http://snomed.info/sct\",\"code\":"        \
    "\"3457005\"}]}" extra "}"
#define SR_OF(subj)                                                         \
    "{\"resourceType\":\"ServiceRequest\",\"id\":\"s\",\"status\":"        \
    "\"active\",\"intent\":\"order\",\"subject\":{\"reference\":\"" subj   \
    "\"},\"code\":{\"coding\":[{\"system\":\"http://snomed.info/sct\","    \
    "\"code\":\"3457005\"}]}}"
#define OUTPUT_TASK(who)                                                    \
    "{\"resourceType\":\"Task\",\"id\":\"t\",\"status\":\"completed\","    \
    "\"intent\":\"order\",\"for\":{\"reference\":\"" who "\"},\"code\":"   \
    "{\"coding\":[{\"code\":\"fulfill\"}]},\"focus\":{\"reference\":"      \
    "\"ServiceRequest/s\"},\"output\":[{\"type\":{\"text\":\"done\"},"     \
    "\"valueReference\":{\"reference\":\"Procedure/pr\"}}]}"
#define PART_OF_PR ",\"partOf\":[{\"reference\":\"Procedure/pr\"}]"
Test(fhir, a_procedure_of_another_patient_is_not_folded_into_a_referral_or_screening)
{
    static const struct {
        const char *ents[3];
        size_t n;
        const char *want;
    } cases[] = {
        /* 0: a Task's output */
        { { OUTPUT_TASK("Patient/p1"), SR_OF("Patient/p1"),
            PR_OF("Patient/p2", "") }, 3,
          "careplan.updated Procedure/pr (absent) (absent); "
          "referral.created ServiceRequest/s (absent) (absent); "
          "referral.updated Task/t (absent) (absent) "
          "[.resource.output[0].valueReference procedure names another "
          "patient than the referral: nothing taken from it]; " },
        /* 1: the same patient in another form: folded */
        { { OUTPUT_TASK("Patient/p1"), SR_OF("Patient/p1"),
            PR_OF("https://ehr.example/fhir/Patient/p1/_history/2", "") }, 3,
          "referral.created ServiceRequest/s (absent) (absent); "
          "referral.updated Task/t (absent) Procedure/pr; " },
        /* 2: a Task for another patient than its request (F2): a
         * Procedure of the request's patient is the referral's */
        { { OUTPUT_TASK("Patient/cbo"), SR_OF("Patient/p1"),
            PR_OF("Patient/p1", "") }, 3,
          "referral.created ServiceRequest/s (absent) (absent); "
          "referral.updated Task/t (absent) Procedure/pr [.resource.for "
          "task is for another patient than its focus ServiceRequest's "
          "subject]; " },
        /* 3: a Procedure's basedOn */
        { { SR_OF("Patient/p1"),
            PR_OF("Patient/p2", ",\"basedOn\":[{\"reference\":"
                                "\"ServiceRequest/s\"}]") }, 2,
          "careplan.updated Procedure/pr (absent) (absent) "
          "[.resource.basedOn[0] request names another patient than the "
          "procedure: not told in that referral]; "
          "referral.created ServiceRequest/s (absent) (absent); " },
        /* 4: a screening Observation's partOf */
        { { SUBJ_OBS("o1", "88122-7", "\"subject\":{\"reference\":"
                     "\"Patient/p1\"},", "\"effectiveDateTime\":"
                     "\"2026-01-08\",\"valueCodeableConcept\":{\"coding\":"
                     "[{\"system\":\"http://loinc.org\",\"code\":"
                     "\"LA28397-0\"}]}" PART_OF_PR),
            PR_OF("Patient/p2", "") }, 2,
          "careplan.updated Procedure/pr (absent) (absent); "
          "screening.completed Observation/o1 88122-7 (absent) "
          "[.resource.partOf[0] procedure names another patient than the "
          "screening: nothing taken from it]; "
          "screening.positive Observation/o1 88122-7 (absent) "
          "[.resource.partOf[0] procedure names another patient than the "
          "screening: nothing taken from it]; " },
        /* 5: a QuestionnaireResponse's partOf */
        { { "{\"resourceType\":\"QuestionnaireResponse\",\"id\":\"q9\","
            "\"status\":\"completed\",\"subject\":{\"reference\":"
            "\"Patient/p1\"},\"authored\":\"2024-02-01\"" PART_OF_PR
            ",\"item\":[" QR_ITEM("88122-7", "LA28397-0") "]}",
            PR_OF("Patient/p2", "") }, 2,
          "careplan.updated Procedure/pr (absent) (absent); "
          "screening.completed QuestionnaireResponse/q9 88122-7 (absent) "
          "[.resource.partOf[0] procedure names another patient than the "
          "screening: nothing taken from it]; "
          "screening.positive QuestionnaireResponse/q9 88122-7 (absent) "
          "[.resource.partOf[0] procedure names another patient than the "
          "screening: nothing taken from it]; " },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char what[16];
        snprintf(what, sizeof(what), "case %zu", i);
        expect_in_every_order(cases[i].ents, cases[i].n, cases[i].want, what);
    }
}

/* F60: the language the screening was taken in, from SHIN-NY's
 * observation-language extension; never Resource.language. */
Test(fhir, a_screening_carries_the_language_it_was_taken_in)
{
    struct canon_list out;
    struct hub_err err;
    char j[2048];
    static const char ext[] =
        ",\"language\":\"en\",\"extension\":[{\"url\":\"http://example.org/x\","
        "\"valueString\":\"y\"},{\"url\":\"http://shinny.org/us/ny/hrsn/"
        "StructureDefinition/shinny-observation-language\",%s}]";
    char e[512];
    snprintf(e, sizeof(e), ext, "\"valueCodeableConcept\":{\"coding\":"
             "[{\"code\":\"kmv\"}]}");
    snprintf(j, sizeof(j), obs_fmt, "", e);
    cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "%s %s", err.field,
                 err.what);
    cr_expect_str_eq(field_of(&out, 0, "screening.language"), "kmv");
    snprintf(e, sizeof(e), ext, "\"valueCode\":\"es-419\"");
    snprintf(j, sizeof(j), obs_fmt, "", e);
    cr_assert_eq(run(j, &out, NULL, &err), HUB_OK);
    cr_expect_str_eq(field_of(&out, 0, "screening.language"), "es-419");
    /* Resource.language alone is the text's language: not carried */
    snprintf(j, sizeof(j), obs_fmt, "", ",\"language\":\"es\"");
    cr_assert_eq(run(j, &out, NULL, &err), HUB_OK);
    cr_expect_str_eq(field_of(&out, 0, "screening.language"), "(absent)");
    /* no language tag: left out, said where */
    snprintf(e, sizeof(e), ext, "\"valueCode\":\"Spanish (Mexico)\"");
    snprintf(j, sizeof(j), obs_fmt, "", e);
    cr_assert_eq(run(j, &out, NULL, &err), HUB_OK);
    cr_expect_str_eq(field_of(&out, 0, "screening.language"), "(absent)");
    cr_expect_str_eq(field_of(&out, 0, "warnings.0.field"),
                     "Observation.extension[1]");
}

/* Observation o1 with `subj` as its subject, for the reference shapes. */
static void obs_with_subject(char *j, size_t n, const char *subj)
{
    static const char was[] = "{\"reference\":\"Patient/p1\"}";
    char o[2048];
    snprintf(o, sizeof(o), obs_fmt, "", "");
    char *at = strstr(o, was);
    cr_assert_not_null(at);
    *at = '\0';
    snprintf(j, n, "%s%s%s", o, subj, at + strlen(was));
}

Test(fhir, a_patient_by_identifier_alone_is_that_identifier)
{
    struct canon_list out;
    struct hub_err err;
    char j[2048];
    /* FHIR R4 logical reference: no resource, an MRN */
    obs_with_subject(j, sizeof(j), "{\"identifier\":{\"system\":"
                     "\"urn:oid:1.2.3\",\"value\":\"MRN7\"}}");
    cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "%s %s", err.field,
                 err.what);
    cr_expect_str_eq(field_of(&out, 0, "patient.identifiers.0.value"), "MRN7");
    cr_expect_str_eq(field_of(&out, 0, "patient.identifiers.0.system"),
                     "urn:oid:1.2.3");
    /* beside a Patient not in the message: the id and the MRN, both */
    obs_with_subject(j, sizeof(j), "{\"reference\":\"Patient/9\","
                     "\"identifier\":{\"system\":\"urn:oid:1.2.3\","
                     "\"value\":\"MRN7\"}}");
    cr_assert_eq(run(j, &out, NULL, &err), HUB_OK);
    cr_expect_str_eq(field_of(&out, 0, "patient.identifiers.0.type"),
                     "fhir-id");
    cr_expect_str_eq(field_of(&out, 0, "patient.identifiers.1.value"), "MRN7");
    /* of another type, or a display alone: refused, saying what is missing */
    obs_with_subject(j, sizeof(j), "{\"type\":\"Group\",\"identifier\":"
                     "{\"value\":\"G1\"}}");
    cr_assert_eq(run(j, &out, NULL, &err), HUB_EINVALID);
    cr_expect_str_eq(err.field, "Observation.subject");
    obs_with_subject(j, sizeof(j), "{\"display\":\"Jane Doe\"}");
    cr_assert_eq(run(j, &out, NULL, &err), HUB_EINVALID);
    cr_expect_str_eq(err.what, "no patient reference (neither reference nor "
                               "identifier.value)");
    cr_expect(strstr(err.what, "Jane") == NULL);
}

/* AU Core's suppressed-subject test data (F3580): a subject that is only
 * the data-absent-reason extension is valid R4 (a Reference with an
 * extension), withheld by the sender. Nothing can be routed without a
 * patient, so it is still refused, saying that it was withheld, not that
 * the sender forgot it. */
Test(fhir, a_withheld_subject_is_refused_saying_it_was_withheld)
{
    struct canon_list out;
    struct hub_err err;
    char j[2048];
    obs_with_subject(j, sizeof(j), "{\"extension\":[{\"url\":\"http://hl7.org"
                     "/fhir/StructureDefinition/data-absent-reason\","
                     "\"valueCode\":\"masked\"}]}");
    cr_assert_eq(run(j, &out, NULL, &err), HUB_EINVALID);
    cr_expect_str_eq(err.field, "Observation.subject");
    cr_expect_str_eq(err.what, "no patient: the sender withheld the "
                               "reference (data-absent-reason)");
    cr_expect_eq(out.n, 0);
    /* another extension is no reason given: the words of any empty one */
    obs_with_subject(j, sizeof(j), "{\"extension\":[{\"url\":\"http://example"
                     ".org/ext\",\"valueCode\":\"masked\"}]}");
    cr_assert_eq(run(j, &out, NULL, &err), HUB_EINVALID);
    cr_expect_str_eq(err.what, "no patient reference (neither reference nor "
                               "identifier.value)");
    /* withheld beside an identifier: the identifier is the patient */
    obs_with_subject(j, sizeof(j), "{\"extension\":[{\"url\":\"http://hl7.org"
                     "/fhir/StructureDefinition/data-absent-reason\","
                     "\"valueCode\":\"masked\"}],\"identifier\":{\"system\":"
                     "\"urn:oid:1.2.3\",\"value\":\"MRN7\"}}");
    cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "%s %s", err.field,
                 err.what);
    cr_expect_str_eq(field_of(&out, 0, "patient.identifiers.0.value"), "MRN7");
}

Test(fhir, references_absolute_versioned_or_urn_reach_the_bundles_patient)
{
    static const char *const refs[] = {
        "https://ehr.example/fhir/Patient/123",
        "Patient/123/_history/4",
        "https://ehr.example/fhir/Patient/123/_history/4",
        "urn:uuid:7f2c1a52-8f0e-4b3c-9d1e-1a2b3c4d5e6f",
    };
    for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
        struct canon_list out;
        struct hub_err err;
        char subj[160], o[2048], j[4096];
        snprintf(subj, sizeof(subj), "{\"reference\":\"%s\"}", refs[i]);
        obs_with_subject(o, sizeof(o), subj);
        snprintf(j, sizeof(j),
                 "{\"resourceType\":\"Bundle\",\"type\":\"collection\","
                 "\"entry\":[{\"fullUrl\":\"%s\",\"resource\":{\"resourceType\":"
                 "\"Patient\",\"id\":\"123\",\"identifier\":[{\"system\":"
                 "\"urn:oid:1.2.3\",\"value\":\"MRN1\"}]}},{\"resource\":%s}]}",
                 i == 3 ? refs[3] : "https://ehr.example/fhir/Patient/123", o);
        cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "%s: %s %s", refs[i],
                     err.field, err.what);
        cr_expect_str_eq(field_of(&out, 0, "patient.identifiers.0.value"),
                         "MRN1", "%s", refs[i]);
    }
}

Test(fhir, a_document_bundle_starts_with_its_composition)
{
    struct canon_list out;
    struct hub_err err;
    char o[2048], j[4096];
    static const char comp[] =
        "{\"resource\":{\"resourceType\":\"Composition\",\"id\":\"c1\","
        "\"status\":\"final\",\"type\":{\"coding\":[{\"system\":"
        "\"http://loinc.org\",\"code\":\"11503-0\"}]},\"date\":\"2026-01-02\","
        "\"title\":\"t\",\"author\":[{\"display\":\"clinic\"}]}},";
    snprintf(o, sizeof(o), obs_fmt, "", "");
    snprintf(j, sizeof(j), "{\"resourceType\":\"Bundle\",\"type\":\"document\","
             "\"entry\":[%s{\"resource\":%s}]}", comp, o);
    cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "%s %s", err.field,
                 err.what);
    cr_expect_eq(out.n, 1);
    snprintf(j, sizeof(j), "{\"resourceType\":\"Bundle\",\"type\":\"document\","
             "\"entry\":[{\"resource\":%s}]}", o);
    cr_assert_eq(run(j, &out, NULL, &err), HUB_EINVALID);
    cr_expect_str_eq(err.field, "entry[0].resource.resourceType");
}

/* Shapes read as they are, checked so they stay so: a BOM (RFC 8259 lets a
 * parser ignore it), unknown members and extensions, narrative with HTML,
 * a meta.profile list, an answer as text or boolean; comments are not JSON
 * and are refused at their byte. */
Test(fhir, shapes_that_are_read_past_or_refused_at_their_byte)
{
    struct canon_list out;
    struct hub_err err;
    char o[2048], j[4096];
    snprintf(o, sizeof(o), obs_fmt, "",
             ",\"meta\":{\"profile\":[\"http://hl7.org/fhir/us/core/"
             "StructureDefinition/us-core-observation-screening-assessment\","
             "\"http://hl7.org/fhir/us/sdoh-clinicalcare/StructureDefinition/"
             "SDOHCC-ObservationScreeningResponse\"]},\"text\":{\"status\":"
             "\"generated\",\"div\":\"<div xmlns=\\\"http://www.w3.org/1999/"
             "xhtml\\\"><p>Jo &amp; <b>x</b></p></div>\"},\"futureElement\":"
             "{\"a\":[1,2,{\"b\":1e308}]},\"extension\":[{\"url\":"
             "\"http://example.org/e\",\"valueInteger\":2147483648}]");
    cr_assert_eq(run(o, &out, NULL, &err), HUB_OK, "%s %s", err.field,
                 err.what);
    cr_expect_eq(out.n, 1);
    snprintf(j, sizeof(j), "\xef\xbb\xbf%s", o);
    cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "BOM: %s %s", err.field,
                 err.what);
    snprintf(j, sizeof(j), "// exported\n%s", o);
    cr_assert_eq(run(j, &out, NULL, &err), HUB_ESYNTAX);
    cr_expect_eq(err.offset, 0);
    snprintf(j, sizeof(j), "{/* c */%s", o + 1);
    cr_assert_eq(run(j, &out, NULL, &err), HUB_ESYNTAX);
    /* where cJSON stopped: inside the comment's opening */
    cr_expect(err.offset >= 1 && err.offset <= 2, "%zu", err.offset);
}

Test(fhir, an_answer_sent_as_its_text_is_read_as_that_answers_code)
{
    struct canon_list out;
    struct hub_err err;
    char j[2048];
    /* 93030-5 transportation: "YES" is the display of LA33-6, positive */
    snprintf(j, sizeof(j), obs_fmt, "", "");
    char *v = strstr(j, "\"valueCodeableConcept\"");
    cr_assert_not_null(v);
    snprintf(v, sizeof(j) - (size_t)(v - j),
             "%s", "\"valueString\":\"YES\"}");
    cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "%s %s", err.field,
                 err.what);
    cr_expect_str_eq(field_of(&out, 0, "screening.items.0.answer"), "LA33-6");
    cr_expect_str_eq(field_of(&out, 0, "screening.items.0.text"), "YES");
    cr_expect_str_eq(field_of(&out, 0, "screening.positive_domains.0"),
                     "transportation-insecurity");
    cr_expect_str_eq(field_of(&out, 0, "warnings.0.field"),
                     "Observation.valueString");
    /* a CodeableConcept of text alone, likewise */
    snprintf(v, sizeof(j) - (size_t)(v - j),
             "%s", "\"valueCodeableConcept\":{\"text\":\"no\"}}");
    cr_assert_eq(run(j, &out, NULL, &err), HUB_OK);
    cr_expect_str_eq(field_of(&out, 0, "screening.items.0.answer"), "LA32-8");
    /* trimmed, as C-CDA's and CSV's words are (F2263) */
    snprintf(v, sizeof(j) - (size_t)(v - j),
             "%s", "\"valueString\":\" yes \"}");
    cr_assert_eq(run(j, &out, NULL, &err), HUB_OK);
    cr_expect_str_eq(field_of(&out, 0, "screening.items.0.answer"), "LA33-6");
    cr_expect_str_eq(field_of(&out, 0, "screening.items.0.text"), " yes ");
    /* "Y" is no answer's display: kept as text, never guessed */
    snprintf(v, sizeof(j) - (size_t)(v - j),
             "%s", "\"valueString\":\"Y\"}");
    cr_assert_eq(run(j, &out, NULL, &err), HUB_OK);
    cr_expect_str_eq(field_of(&out, 0, "screening.items.0.text"), "Y");
    cr_expect_str_eq(field_of(&out, 0, "screening.items.0.answer"),
                     "(absent)");
}

/* Words that are an answer's display in the instrument the screening
 * turns out to be (PRAPARE's 71802-3, not AHC's, the first to list it) are
 * read as that answer, as C-CDA and CSV read them: FHIR reads the answer
 * before it knows the instrument, so the look-up spans every instrument's
 * list (F2481, r162's review of F2263). */
Test(fhir, words_of_the_screenings_own_instrument_are_read_as_its_answer)
{
    struct canon_list out;
    struct hub_err err;
    const char *qr =
        "{\"resourceType\":\"QuestionnaireResponse\",\"id\":\"q1\","
        "\"status\":\"completed\",\"subject\":{\"reference\":\"Patient/p1\"},"
        "\"authored\":\"2024-01-01T00:00:00Z\",\"item\":[{\"linkId\":\"a\","
        "\"code\":[{\"system\":\"http://loinc.org\",\"code\":\"71802-3\"}],"
        "\"answer\":[{\"valueString\":\"I do not have housing (staying "
        "with others, in a hotel, in a shelter, living outside on the street, "
        "on a beach, in a car, or in a park)\"}]},{\"linkId\":\"b\","
        "\"code\":[{\"system\":\"http://loinc.org\",\"code\":\"93033-9\"}],"
        "\"answer\":[{\"valueCoding\":{\"system\":\"http://loinc.org\","
        "\"code\":\"LA32-8\"}}]}]}";
    cr_assert_eq(run(qr, &out, NULL, &err), HUB_OK, "%s %s", err.field,
                 err.what);
    cr_assert_str_eq(field_of(&out, 0, "screening.instrument"), "93025-5");
    cr_expect_str_eq(field_of(&out, 0, "screening.items.0.answer"),
                     "LA30190-5");
    cr_expect_str_eq(field_of(&out, 0, "screening.items.0.positive"), "true");
    cr_expect_str_eq(field_of(&out, 0, "screening.positive_domains.0"),
                     "homelessness");
}

Test(fhir, a_delete_or_read_entry_is_refused_at_its_method)
{
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    char o[2048], j[4096];
    snprintf(o, sizeof(o), obs_fmt, "", "");
    snprintf(j, sizeof(j), "{\"resourceType\":\"Bundle\",\"type\":\"batch\","
             "\"entry\":[{\"request\":{\"method\":\"DELETE\",\"url\":"
             "\"Observation/o0\"}},{\"request\":{\"method\":\"GET\",\"url\":"
             "\"Patient?identifier=x\"}},{\"resource\":%s,\"request\":"
             "{\"method\":\"POST\",\"url\":\"Observation\"}},{\"request\":"
             "{\"method\":\"POST\",\"url\":\"Observation\"}}]}", o);
    cr_assert_eq(run(j, &out, &res, &err), HUB_OK, "%s %s", err.field,
                 err.what);
    cr_expect_eq(out.n, 1);
    cr_expect_eq(res.entries[0].status, HUB_EUNSUPPORTED);
    cr_expect_str_eq(res.entries[0].err.field, "entry[0].request.method");
    cr_expect_str_eq(res.entries[1].err.field, "entry[1].request.method");
    /* a POST without its resource is still a missing resource */
    cr_expect_eq(res.entries[3].status, HUB_EINVALID);
    cr_expect_str_eq(res.entries[3].err.field, "entry[3].resource");
}

/* A Condition coded in SNOMED CT alone, with no Gravity category and no
 * Z code (US Core's SDOH problem example: 445281000124101 and the us-core
 * "sdoh" category), takes its domain from schemas/dict/snomed-domains.json:
 * one finding of each domain family the table has. It had none before. */
#define SCT_CONDITION(code, extra)                                          \
    "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":"          \
    "\"Patient/p1\"},\"category\":[{\"coding\":[{\"system\":"              \
    "\"http://hl7.org/fhir/us/core/CodeSystem/us-core-category\","         \
    "\"code\":\"sdoh\"}]}],\"code\":{\"coding\":[" extra "{\"system\":"    \
    "\"http://snomed.info/sct\",\"code\":\"" code "\"}]}}"
Test(fhir, a_snomed_only_condition_takes_its_domain_from_the_finding)
{
    static const struct {
        const char *json, *domain;
    } cases[] = {
        { SCT_CONDITION("733423003", ""), "food-insecurity" },
        { SCT_CONDITION("445281000124101", ""), "food-insecurity" },
        { SCT_CONDITION("32911000", ""), "homelessness" },
        { SCT_CONDITION("713458007", ""), "transportation-insecurity" },
        { SCT_CONDITION("551721000124101", ""), "transportation-insecurity" },
        { SCT_CONDITION("73438004", ""), "employment-status" },
        { SCT_CONDITION("422650009", ""), "social-connection" },
        { SCT_CONDITION("73595000", ""), "stress" },
        { SCT_CONDITION("706893006", ""), "intimate-partner-violence" },
        { SCT_CONDITION("1137434003", ""), "protective-factor" },
        /* F1542: the SHIFT demonstration data pairs these with Z59.811
         * and Z59.86; without their rows they named no domain */
        { SCT_CONDITION("1156191002", ""), "housing-instability" },
        { SCT_CONDITION("1184702004", ""), "financial-insecurity" },
        /* a Z code still comes first: the domain it always gave */
        { SCT_CONDITION("733423003", "{\"system\":"
                        "\"http://hl7.org/fhir/sid/icd-10-cm\",\"code\":"
                        "\"Z59.01\"},"), "homelessness" },
        /* a concept the table leaves out names nothing: Synthea's housing
         * worry finding could be instability or inadequate housing */
        { SCT_CONDITION("105531004", ""), "(absent)" },
        /* the code of another system is not read as SNOMED CT */
        { "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":"
          "\"Patient/p1\"},\"code\":{\"coding\":[{\"system\":"
          "\"http://example.org/local\",\"code\":\"733423003\"}]}}",
          "(absent)" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct canon_list out;
        struct hub_err err;
        arena_reset(&A);
        cr_assert_eq(run(cases[i].json, &out, NULL, &err), HUB_OK,
                     "case %zu: %s", i, err.what ? err.what : "");
        cr_assert_eq(out.n, 1, "case %zu", i);
        cr_assert_str_eq(out.ev[0].type, "condition.recorded", "case %zu", i);
        cr_assert_str_eq(field_of(&out, 0, "condition.domain"),
                         cases[i].domain, "case %zu", i);
    }
}

/* F1940: the SDOHCC category `sdoh-category-unspecified` means no domain of
 * the value set fits (SDOHCC IG 2.x, Observation.category guidance); a
 * code the dictionary files under a domain is more precise. A demo care
 * platform's transaction bundle (round 136's robert-chen sample) sends
 * Z59.86 "Financial insecurity" so; its condition was filed under the
 * catch-all, and a subscription to financial-insecurity missed it. */
#define UNSPEC_CONDITION(codings)                                           \
    "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":"          \
    "\"Patient/p1\"},\"category\":[{\"coding\":[{\"system\":"              \
    "\"http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/"                 \
    "SDOHCC-CodeSystemTemporaryCodes\",\"code\":"                          \
    "\"sdoh-category-unspecified\"}]}],\"code\":{\"coding\":[" codings "]}}"
#define TWO_CATEGORIES(codings)                                             \
    "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":"          \
    "\"Patient/p1\"},\"category\":[{\"coding\":[{\"system\":"              \
    "\"http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/"                 \
    "SDOHCC-CodeSystemTemporaryCodes\",\"code\":"                          \
    "\"sdoh-category-unspecified\"}]},{\"coding\":[{\"system\":"           \
    "\"http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/"                 \
    "SDOHCC-CodeSystemTemporaryCodes\",\"code\":\"food-insecurity\"}]}],"  \
    "\"code\":{\"coding\":[" codings "]}}"
#define ICD(c) "{\"system\":\"http://hl7.org/fhir/sid/icd-10-cm\",\"code\":\"" \
    c "\"}"
#define SCT(c) "{\"system\":\"http://snomed.info/sct\",\"code\":\"" c "\"}"
Test(fhir, an_unspecified_sdoh_category_gives_way_to_the_codes_domain)
{
    static const struct {
        const char *json, *domain;
    } cases[] = {
        { UNSPEC_CONDITION(ICD("Z59.86")), "financial-insecurity" },
        { UNSPEC_CONDITION(SCT("733423003")), "food-insecurity" },
        { UNSPEC_CONDITION(SCT("105531004") "," ICD("Z59.01")),
          "homelessness" },
        /* a code the dictionary does not file keeps the catch-all */
        { UNSPEC_CONDITION(ICD("Z65.8")), "sdoh-category-unspecified" },
        { UNSPEC_CONDITION(SCT("105531004")), "sdoh-category-unspecified" },
        /* a named Gravity category still wins over the code */
        { "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":"
          "\"Patient/p1\"},\"category\":[{\"coding\":[{\"system\":"
          "\"http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/"
          "SDOHCC-CodeSystemTemporaryCodes\",\"code\":\"food-insecurity\"}]}],"
          "\"code\":{\"coding\":[" ICD("Z59.86") "]}}", "food-insecurity" },
        /* F2062: so it does after the catch-all: the named one, wherever
         * it stands (the catch-all first gave the code's domain, or kept
         * the catch-all for a code the dictionary does not file) */
        { TWO_CATEGORIES(ICD("Z59.86")), "food-insecurity" },
        { TWO_CATEGORIES(ICD("Z65.8")), "food-insecurity" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct canon_list out;
        struct hub_err err;
        arena_reset(&A);
        cr_assert_eq(run(cases[i].json, &out, NULL, &err), HUB_OK,
                     "case %zu: %s", i, err.what ? err.what : "");
        cr_assert_eq(out.n, 1, "case %zu", i);
        cr_assert_str_eq(field_of(&out, 0, "condition.domain"),
                         cases[i].domain, "case %zu", i);
    }
}
#undef ICD
#undef SCT
#undef TWO_CATEGORIES

/* The SDOHCC IG's social isolation Observation Assessment puts its domain
 * in a category of http://example.org/CodeSystem/other-code-system ("a
 * category code that may not yet be included in the SDOHCC ValueSet SDOH
 * Category"); the profile's SDOH category is 0..*, its social-history one
 * 1..1. It was refused alone as no screening; its SNOMED CT finding
 * (422650009 Social isolation) now names the domain, social-connection.
 * Social history with a finding the table does not know stays refused. */
#define ISOLATION(code, cat)                                                \
    OBS("\"category\":[{\"coding\":[{\"system\":"                          \
        "\"http://terminology.hl7.org/CodeSystem/observation-category\","  \
        "\"code\":\"social-history\"}]},{\"coding\":[{\"system\":"         \
        "\"http://example.org/CodeSystem/other-code-system\",\"code\":"    \
        "\"" cat "\"}]}],\"code\":{\"coding\":[{\"system\":"               \
        "\"http://snomed.info/sct\",\"code\":\"" code "\"}]},"             \
        "\"effectiveDateTime\":\"2021-05-10\",\"valueBoolean\":true")
Test(fhir, a_social_history_assessment_of_a_known_finding_is_a_screening)
{
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run(ISOLATION("422650009", "social-connection"), &out, NULL,
                     &err), HUB_OK, "%s at %s", err.what ? err.what : "",
                 err.field);
    cr_assert_eq(out.n, 2);
    cr_assert_str_eq(out.ev[0].type, "screening.completed");
    cr_assert_str_eq(out.ev[1].type, "screening.positive");
    cr_assert_str_eq(field_of(&out, 0, "screening.items.0.domain"),
                     "social-connection");
    cr_assert_str_eq(field_of(&out, 0, "screening.items.0.asserted"), "true");
    cr_assert_str_eq(field_of(&out, 0, "screening.positive_domains"),
                     "[\"social-connection\"]");
    /* the foreign category's code is not read as a domain */
    cr_assert_eq(run(ISOLATION("422650009", "food-insecurity"), &out, NULL,
                     &err), HUB_OK);
    cr_assert_str_eq(field_of(&out, 0, "screening.domains"),
                     "[\"social-connection\"]");
    /* a finding the table does not have: no screening, as before */
    cr_assert_eq(run(ISOLATION("105531004", "social-connection"), &out, NULL,
                     &err), HUB_EUNSUPPORTED);
    cr_assert_str_eq(err.field, "Observation");
}

/* F143: C-CDA on FHIR maps the Companion Guide's SDOH Social History
 * Observation (code 160476009 / 8689-2, the finding as its value) to a
 * social-history Observation whose valueCodeableConcept is the finding,
 * with no SDOH category: an assessment in the finding's domain, as the
 * C-CDA adapter reads the same statement; an SDOH Z code as the value too.
 * A value no table names is still refused. */
#define SH_VALUE(coding)                                                     \
    "{\"resourceType\":\"Observation\",\"id\":\"sh1\",\"status\":\"final\"," \
    "\"category\":[{\"coding\":[{\"system\":\"http://terminology.hl7.org/"  \
    "CodeSystem/observation-category\",\"code\":\"social-history\"}]}],"     \
    "\"code\":{\"coding\":[{\"system\":\"http://snomed.info/sct\",\"code\":" \
    "\"160476009\"},{\"system\":\"http://loinc.org\",\"code\":\"8689-2\"}]}," \
    "\"subject\":{\"reference\":\"Patient/p1\"},"                            \
    "\"effectiveDateTime\":\"2021-04-12\","                                  \
    "\"valueCodeableConcept\":{\"coding\":[" coding "]}}"

Test(fhir, a_social_history_observation_whose_value_is_a_finding_is_an_assessment)
{
    static const struct {
        const char *json, *answer, *domain;
    } c[] = {
        { SH_VALUE("{\"system\":\"http://snomed.info/sct\","
                   "\"code\":\"733423003\"}"), "733423003", "food-insecurity" },
        { SH_VALUE("{\"system\":\"http://hl7.org/fhir/sid/icd-10-cm\","
                   "\"code\":\"Z59.4\"}"), "Z59.4", "food-insecurity" },
        /* a finding no table names, the Z code its translation */
        { SH_VALUE("{\"system\":\"http://snomed.info/sct\","
                   "\"code\":\"706875005\"},{\"system\":"
                   "\"http://hl7.org/fhir/sid/icd-10-cm\",\"code\":\"Z59.4\"}"),
          "706875005", "food-insecurity" },
        /* F3223: the value's Z code in any coding first, as a Condition's
         * code and as F143 said (the first coding of a domain before) */
        { SH_VALUE("{\"system\":\"http://snomed.info/sct\","
                   "\"code\":\"733423003\"},{\"system\":"
                   "\"http://hl7.org/fhir/sid/icd-10-cm\",\"code\":\"Z59.01\"}"),
          "733423003", "homelessness" },
    };
    struct canon_list out;
    struct hub_err err;
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        cr_assert_eq(run(c[i].json, &out, NULL, &err), HUB_OK, "%zu: %s at %s",
                     i, err.what ? err.what : "", err.field);
        cr_assert_eq(out.n, 2, "%zu", i);
        cr_expect_str_eq(out.ev[1].type, "screening.positive");
        cr_expect_str_eq(field_of(&out, 0, "screening.items.0.question"),
                         "8689-2");
        cr_expect_str_eq(field_of(&out, 0, "screening.items.0.answer"),
                         c[i].answer, "%zu", i);
        cr_expect_str_eq(field_of(&out, 0, "screening.items.0.domain"),
                         c[i].domain, "%zu", i);
        cr_expect_str_eq(field_of(&out, 0, "screening.items.0.asserted"),
                         "true");
        cr_expect_str_eq(field_of(&out, 0, "screening.items.0.positive"),
                         "true");
    }
    /* a value no table names: no screening, as before */
    cr_assert_eq(run(SH_VALUE("{\"system\":\"http://snomed.info/sct\","
                              "\"code\":\"706875005\"}"), &out, NULL, &err),
                 HUB_EUNSUPPORTED);
    cr_assert_str_eq(err.field, "Observation");
}

/* An Identifier that was out of effect when the body was made
 * (Bundle.timestamp, else meta.lastUpdated: 2026-01-15 here): use "old",
 * or a period that ended before that day or starts after it. It is kept,
 * marked "inactive", which the linker passes by: an old member id or a
 * superseded MRN may since name someone else. The day itself is in
 * effect, and so is a date of less precision that holds it; a period date
 * that is not ISO 8601 is a warning. Without a time of the body only "old"
 * says so. A logical reference's identifier likewise. */
Test(fhir, an_identifier_out_of_effect_when_sent_is_marked_inactive)
{
    static const char fmt[] =
        "{\"resourceType\":\"Bundle\",\"type\":\"collection\",%s"
        "\"entry\":[{\"resource\":{\"resourceType\":\"Patient\","
        "\"id\":\"p1\",\"identifier\":[{\"system\":\"urn:x\",\"value\":"
        "\"X1\"%s},{\"system\":\"urn:x\",\"value\":\"X2\"}]}},"
        "{\"resource\":" GOAL_X "\"subject\":{\"reference\":"
        "\"Patient/p1\"}}},{\"resource\":" GOAL_X "\"subject\":"
        "{\"identifier\":{\"system\":\"urn:x\",\"value\":\"X3\"%s}}}}]}";
    static const char ts[] = "\"timestamp\":\"2026-01-15T09:30:00+01:00\",";
    static const char lu[] = "\"meta\":{\"lastUpdated\":\"2026-01-15\"},";
    static const struct {
        const char *when, *ident;
        bool inactive;
    } c[] = {
        { ts, ",\"period\":{\"end\":\"2026-01-14\"}", true },
        { ts, ",\"period\":{\"end\":\"2026-01-15T00:00:00Z\"}", false },
        { ts, ",\"period\":{\"end\":\"2025\"}", true },
        { ts, ",\"period\":{\"end\":\"2026-01\"}", false },
        { ts, ",\"period\":{\"start\":\"2026-01-16\"}", true },
        { ts, ",\"period\":{\"start\":\"2026-01-15\",\"end\":\"2027\"}",
          false },
        { ts, ",\"period\":{\"start\":\"2025-01-01\",\"end\":\"2025-12-31\"}",
          true },
        { ts, ",\"use\":\"old\"", true },
        { ts, ",\"use\":\"official\"", false },
        { lu, ",\"period\":{\"end\":\"2026-01-14\"}", true },
        { "", ",\"period\":{\"end\":\"2026-01-14\"}", false },
        { "", ",\"use\":\"old\"", true },
        { "\"timestamp\":\"soon\",", ",\"period\":{\"end\":\"2020\"}", false },
    };
    char json[4096];
    struct canon_list out;
    struct hub_err err;
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        snprintf(json, sizeof(json), fmt, c[i].when, c[i].ident,
                 c[i].ident);
        cr_assert_eq(run(json, &out, NULL, &err), HUB_OK, "%s %s", err.field,
                     err.what);
        cr_assert_eq(out.n, 2);
        cr_assert_str_eq(field_of(&out, 0, "patient.identifiers.0.inactive"),
                         c[i].inactive ? "true" : "(absent)", "case %zu", i);
        cr_assert_str_eq(field_of(&out, 0, "patient.identifiers.1.inactive"),
                         "(absent)", "case %zu", i);
        cr_assert_str_eq(field_of(&out, 0, "patient.identifiers.0.value"),
                         "X1");
        cr_assert_str_eq(field_of(&out, 1, "patient.identifiers.0.inactive"),
                         c[i].inactive ? "true" : "(absent)",
                         "case %zu: the reference's", i);
        cr_assert_str_eq(field_of(&out, 0, "warnings"), "(absent)",
                         "case %zu", i);
    }

    snprintf(json, sizeof(json), fmt, ts,
             ",\"period\":{\"end\":\"14/01/2026\"}", "");
    cr_assert_eq(run(json, &out, NULL, &err), HUB_OK);
    cr_assert_str_eq(field_of(&out, 0, "patient.identifiers.0.inactive"),
                     "(absent)");
    cr_assert_str_eq(field_of(&out, 0, "warnings"),
                     "[{\"field\":\"entry[0].resource.identifier[0].period."
                     "end\",\"what\":\"date is not ISO 8601; left unread\"}]");
}

/* NHS BaRS (UK Core) sends the patient's own phones in a Patient.contact
 * whose relationship is "self" (v3 RoleCode ONESELF; v2 table 0063 SEL
 * likewise): they are the patient's, after Patient.telecom's, each once.
 * Another contact's (an emergency contact, next of kin) are not, nor is
 * an e-mail address. */
Test(fhir, phones_of_a_contact_that_is_the_patient_are_the_patients)
{
    static const char fmt[] =
        "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":["
        "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p1\","
        "\"telecom\":[%s],\"contact\":[%s]}},"
        "{\"resource\":" GOAL_X "\"subject\":{\"reference\":"
        "\"Patient/p1\"}}}]}";
#define SELF(sys, code, tel)                                                 \
    "{\"relationship\":[{\"coding\":[{\"system\":\"" sys "\",\"code\":\""   \
    code "\"}]}],\"telecom\":[" tel "]}"
#define V3 "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
#define PHONE(v, use) "{\"system\":\"phone\",\"value\":\"" v "\",\"use\":\"" \
                      use "\"}"
    static const struct {
        const char *telecom, *contact, *want;
    } c[] = {
        { "", SELF(V3, "ONESELF", PHONE("5550100", "home") ","
                   "{\"system\":\"email\",\"value\":\"zz@example.org\"},"
                   PHONE("5550101", "mobile")),
          "[{\"value\":\"5550100\",\"use\":\"home\"},"
          "{\"value\":\"5550101\",\"use\":\"mobile\"}]" },
        /* after the patient's own, a number they both give once */
        { PHONE("5550100", "home"),
          SELF(V3, "ONESELF", PHONE("5550100", "home") ","
               PHONE("5550102", "work")),
          "[{\"value\":\"5550100\",\"use\":\"home\"},"
          "{\"value\":\"5550102\",\"use\":\"work\"}]" },
        { "", SELF("http://terminology.hl7.org/CodeSystem/v2-0063", "SEL",
                   PHONE("5550103", "home")),
          "[{\"value\":\"5550103\",\"use\":\"home\"}]" },
        /* someone else's */
        { "", SELF(V3, "ECON", PHONE("5550104", "mobile")) ","
              SELF("http://terminology.hl7.org/CodeSystem/v2-0131", "N",
                   PHONE("5550105", "mobile")) ","
              SELF("urn:x", "ONESELF", PHONE("5550106", "mobile")),
          "(absent)" },
        { PHONE("5550100", "home"),
          "{\"telecom\":[" PHONE("5550107", "home") "]}",
          "[{\"value\":\"5550100\",\"use\":\"home\"}]" },
    };
#undef SELF
#undef V3
#undef PHONE
    char json[4096];
    struct canon_list out;
    struct hub_err err;
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        snprintf(json, sizeof(json), fmt, c[i].telecom, c[i].contact);
        cr_assert_eq(run(json, &out, NULL, &err), HUB_OK, "%s %s", err.field,
                     err.what);
        cr_assert_eq(out.n, 1);
        cr_assert_str_eq(field_of(&out, 0, "patient.phones"), c[i].want,
                         "case %zu", i);
    }
}

/* A refusal deep in a QuestionnaireResponse names its whole place (the
 * path was cut at 127 bytes: "...item[10].an"), in the error and in the
 * OperationOutcome's expression. */
Test(fhir, a_refusal_deep_in_nested_items_names_its_whole_place)
{
    char j[16384], want[1024];
    size_t n = 0, w = 0;
    n += (size_t)snprintf(j + n, sizeof(j) - n,
        "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[{"
        "\"fullUrl\":\"urn:uuid:11111111-1111-1111-1111-111111111111\","
        "\"resource\":{\"resourceType\":\"QuestionnaireResponse\","
        "\"status\":\"completed\",\"subject\":{\"reference\":\"Patient/p1\"},"
        "\"authored\":\"2026-01-01T00:00:00Z\",\"item\":[");
    w += (size_t)snprintf(want + w, sizeof(want) - w,
                          "entry[0].resource.item[0]");
    for (int d = 0; d < 11; d++) {
        n += (size_t)snprintf(j + n, sizeof(j) - n, "{\"linkId\":\"g\","
                              "\"item\":[");
        for (int k = 0; k < 10; k++)
            n += (size_t)snprintf(j + n, sizeof(j) - n, "{\"linkId\":\"p\"},");
        w += (size_t)snprintf(want + w, sizeof(want) - w, ".item[10]");
    }
    n += (size_t)snprintf(j + n, sizeof(j) - n, "{\"linkId\":\"q\",\"answer\":"
                          "[{\"valueCoding\":\"oops\"}]}");
    for (int d = 0; d < 11; d++)
        n += (size_t)snprintf(j + n, sizeof(j) - n, "]}");
    n += (size_t)snprintf(j + n, sizeof(j) - n, "]}}]}");
    cr_assert_lt(n, sizeof(j) - 1);
    w += (size_t)snprintf(want + w, sizeof(want) - w,
                          ".answer[0].valueCoding");
    cr_assert_gt(strlen(want), 127);

    struct hub_err err;
    struct canon_list out;
    struct slice oo;
    cr_assert_eq(run(j, &out, NULL, &err), HUB_EINVALID);
    cr_assert_str_eq(hub_err_field(&err), want);
    cr_assert_eq(fhir_operation_outcome(&A, &err, "Bundle", &oo), HUB_OK);
    char expr[1100];
    snprintf(expr, sizeof(expr), "\"Bundle.%s\"", want);
    cr_assert_not_null(strstr(oo.p, expr), "%s", oo.p);
}

/* F3083: a ServiceRequest whose need is said only by its coded reason
 * (reasonCode Z59.41 "Food insecurity", the code in words, no SDOH
 * category) took no domain, so no food-insecurity subscriber heard of
 * it, where a reasonReference to a Condition so coded routes it and a
 * C-CDA referral's reason does; a CarePlan activity's reasonCode was read
 * for a Gravity code only. The reason is read last, as a Condition's code
 * is (a Z code, else a SNOMED CT finding): a category or the request's
 * own code still wins; a reason of no domain names none. */
#define RC_SR(extra, reason)                                                \
    "{\"resourceType\":\"ServiceRequest\",\"id\":\"s1\",\"status\":"       \
    "\"active\",\"intent\":\"order\"," extra "\"code\":{\"text\":"         \
    "\"Food pantry referral\"},\"subject\":{\"reference\":\"Patient/p1\"},"  \
    "\"reasonCode\":[" reason "]}"
#define RC_CODE(sys, code)                                                  \
    "{\"coding\":[{\"system\":\"" sys "\",\"code\":\"" code "\"}]}"
Test(fhir, a_referral_whose_need_is_only_its_reason_code_takes_its_domain)
{
    static const struct {
        const char *body, *domain;
    } cases[] = {
        { RC_SR("", RC_CODE("http://hl7.org/fhir/sid/icd-10-cm", "Z59.41")),
          "food-insecurity" },
        { RC_SR("", RC_CODE("http://snomed.info/sct", "733423003")),
          "food-insecurity" },
        /* the first reason that names a domain */
        { RC_SR("", "{\"text\":\"hungry\"}," RC_CODE(
                        "http://hl7.org/fhir/sid/icd-10-cm", "F32.9") ","
                    RC_CODE("http://hl7.org/fhir/sid/icd-10-cm", "Z59.41")),
          "food-insecurity" },
        /* a category still wins */
        { RC_SR("\"category\":[{\"coding\":[{\"system\":\"" GRAVITY
                "\",\"code\":\"housing-instability\"}]}],",
                RC_CODE("http://hl7.org/fhir/sid/icd-10-cm", "Z59.41")),
          "housing-instability" },
        /* no domain in any reason */
        { RC_SR("", RC_CODE("http://hl7.org/fhir/sid/icd-10-cm", "F32.9")),
          "(absent)" },
        { RC_SR("", "{\"text\":\"Food insecurity\"}"), "(absent)" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct canon_list out;
        struct hub_err err;
        cr_assert_eq(run(cases[i].body, &out, NULL, &err), HUB_OK,
                     "case %zu: %s", i, err.field);
        cr_assert_eq(out.n, 1);
        cr_assert_str_eq(field_of(&out, 0, "referral.domain"),
                         cases[i].domain, "case %zu", i);
    }
    /* a CarePlan activity's reason, read for a Gravity code only */
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run("{\"resourceType\":\"CarePlan\",\"id\":\"cp1\","
                     "\"status\":\"active\",\"intent\":\"plan\",\"subject\":"
                     "{\"reference\":\"Patient/p1\"},\"activity\":[{\"detail\":"
                     "{\"status\":\"scheduled\",\"description\":\"Food pantry\","
                     "\"reasonCode\":[" RC_CODE("http://hl7.org/fhir/sid/icd-10-cm",
                                               "Z59.41") "]}}]}",
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(field_of(&out, 0, "careplan.activities.0.domain"),
                     "food-insecurity");
}

/* F3226: the catch-all category `sdoh-category-unspecified` (SDOHCC
 * Temporary Codes: "not further specified with respect to category")
 * says no domain fits. A ServiceRequest so categorized kept it and never
 * read its code or reasons, while a Condition so categorized takes its
 * code's domain (F1940): the catch-all is now read last, after the code,
 * the reasonReference and the reasonCode, and stays when none names one. */
#define UNSPEC_CAT                                                          \
    "{\"coding\":[{\"system\":\"" GRAVITY                                    \
    "\",\"code\":\"sdoh-category-unspecified\"}]}"
Test(fhir, a_referrals_unspecified_category_gives_way_to_its_code_or_reasons)
{
    static const struct {
        const char *body, *domain;
    } cases[] = {
        { RC_SR("\"category\":[" UNSPEC_CAT "],",
                RC_CODE("http://hl7.org/fhir/sid/icd-10-cm", "Z59.41")),
          "food-insecurity" },
        { RC_SR("\"category\":[" UNSPEC_CAT "],",
                RC_CODE("http://snomed.info/sct", "733423003")),
          "food-insecurity" },
        /* a named category after the catch-all wins, as a Condition's */
        { RC_SR("\"category\":[" UNSPEC_CAT ",{\"coding\":[{\"system\":\""
                GRAVITY "\",\"code\":\"housing-instability\"}]}],",
                RC_CODE("http://hl7.org/fhir/sid/icd-10-cm", "Z59.41")),
          "housing-instability" },
        /* nothing else names one: the catch-all stays */
        { RC_SR("\"category\":[" UNSPEC_CAT "],",
                RC_CODE("http://hl7.org/fhir/sid/icd-10-cm", "F32.9")),
          "sdoh-category-unspecified" },
        /* the request's own SNOMED CT intervention */
        { "{\"resourceType\":\"ServiceRequest\",\"id\":\"s1\",\"status\":"
          "\"active\",\"intent\":\"order\",\"category\":[" UNSPEC_CAT "],"
          "\"code\":{\"coding\":[{\"system\":\"http://snomed.info/sct\","
          "\"code\":\"467771000124109\"}]},\"subject\":{\"reference\":"
          "\"Patient/p1\"}}", "food-insecurity" },
        /* a reasonReference to a Condition coded Z59.41 */
        { "{\"resourceType\":\"ServiceRequest\",\"id\":\"s1\",\"status\":"
          "\"active\",\"intent\":\"order\",\"category\":[" UNSPEC_CAT "],"
          "\"code\":{\"text\":\"Food pantry referral\"},\"subject\":"
          "{\"reference\":\"Patient/p1\"},\"reasonReference\":[{"
          "\"reference\":\"#c1\"}],\"contained\":[{\"resourceType\":"
          "\"Condition\",\"id\":\"c1\",\"subject\":{\"reference\":"
          "\"Patient/p1\"},\"code\":{\"coding\":[{\"system\":"
          "\"http://hl7.org/fhir/sid/icd-10-cm\",\"code\":\"Z59.41\"}]}}]}",
          "food-insecurity" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct canon_list out;
        struct hub_err err;
        cr_assert_eq(run(cases[i].body, &out, NULL, &err), HUB_OK,
                     "case %zu: %s", i, err.field);
        cr_assert_eq(out.n, 1);
        cr_assert_str_eq(field_of(&out, 0, "referral.domain"),
                         cases[i].domain, "case %zu", i);
    }
    /* a CarePlan activity whose reasons are the catch-all and Z59.41, in
     * either order; the catch-all alone stays */
    static const char *const reasons[][2] = {
        { UNSPEC_CAT "," RC_CODE("http://hl7.org/fhir/sid/icd-10-cm", "Z59.41"),
          "food-insecurity" },
        { RC_CODE("http://hl7.org/fhir/sid/icd-10-cm", "Z59.41") "," UNSPEC_CAT,
          "food-insecurity" },
        { UNSPEC_CAT, "sdoh-category-unspecified" },
    };
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
        char body[1024];
        snprintf(body, sizeof(body),
                 "{\"resourceType\":\"CarePlan\",\"id\":\"cp1\","
                 "\"status\":\"active\",\"intent\":\"plan\",\"subject\":"
                 "{\"reference\":\"Patient/p1\"},\"activity\":[{\"detail\":"
                 "{\"status\":\"scheduled\",\"description\":\"Food pantry\","
                 "\"reasonCode\":[%s]}}]}", reasons[i][0]);
        struct canon_list out;
        struct hub_err err;
        cr_assert_eq(run(body, &out, NULL, &err), HUB_OK, "%s", err.field);
        cr_assert_eq(out.n, 1);
        cr_assert_str_eq(field_of(&out, 0, "careplan.activities.0.domain"),
                         reasons[i][1], "activity %zu", i);
    }
}
#undef UNSPEC_CAT
#undef RC_SR
#undef RC_CODE

/* F102: a ServiceRequest for an SDOH intervention whose categories name
 * no Gravity domain (US Core's food pantry referral: category `sdoh`
 * only) took no domain, so a food-insecurity subscriber never saw it; the
 * intervention code 467771000124109 is food-insecurity in
 * snomed-domains.json (the SDOHCC IG's ServiceRequest example). A Gravity
 * category still comes first. */
Test(fhir, a_service_request_for_an_sdoh_intervention_takes_its_domain)
{
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run("{\"resourceType\":\"ServiceRequest\",\"id\":\"fp\","
                     "\"status\":\"active\",\"intent\":\"order\","
                     "\"category\":[{\"coding\":[{\"system\":\"http://hl7.org"
                     "/fhir/us/core/CodeSystem/us-core-category\",\"code\":"
                     "\"sdoh\"}]}],\"code\":{\"coding\":[{\"system\":"
                     "\"http://snomed.info/sct\",\"code\":\"467771000124109\"}]},"
                     "\"subject\":{\"reference\":\"Patient/p1\"}}",
                     &out, NULL, &err), HUB_OK);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(field_of(&out, 0, "referral.domain"), "food-insecurity");
    cr_assert_eq(run("{\"resourceType\":\"ServiceRequest\",\"id\":\"fp\","
                     "\"status\":\"active\",\"intent\":\"order\","
                     "\"category\":[{\"coding\":[{\"system\":\"" GRAVITY
                     "\",\"code\":\"housing-instability\"}]}],"
                     "\"code\":{\"coding\":[{\"system\":"
                     "\"http://snomed.info/sct\",\"code\":\"467771000124109\"}]},"
                     "\"subject\":{\"reference\":\"Patient/p1\"}}",
                     &out, NULL, &err), HUB_OK);
    cr_assert_str_eq(field_of(&out, 0, "referral.domain"),
                     "housing-instability");
    /* F1543: the other food interventions the SDOHCC and SHIN-NY examples
     * file under food-insecurity took no domain with US Core's category */
    static const char *const food[] = { "464031000124101", "467681000124101",
                                        "467751000124104" };
    for (size_t i = 0; i < sizeof(food) / sizeof(food[0]); i++) {
        char body[512];
        snprintf(body, sizeof(body),
                 "{\"resourceType\":\"ServiceRequest\",\"id\":\"fp\","
                 "\"status\":\"active\",\"intent\":\"order\","
                 "\"category\":[{\"coding\":[{\"system\":\"http://hl7.org"
                 "/fhir/us/core/CodeSystem/us-core-category\",\"code\":"
                 "\"sdoh\"}]}],\"code\":{\"coding\":[{\"system\":"
                 "\"http://snomed.info/sct\",\"code\":\"%s\"}]},"
                 "\"subject\":{\"reference\":\"Patient/p1\"}}", food[i]);
        arena_reset(&A);
        cr_assert_eq(run(body, &out, NULL, &err), HUB_OK, "%s", food[i]);
        cr_assert_str_eq(field_of(&out, 0, "referral.domain"),
                         "food-insecurity", "%s", food[i]);
    }
}

/* F83: a Consent's provision.purpose is a list of Codings: each keeps its
 * display (NHS Reasonable Adjustments: SNOMED CT 370856009 "Limiting
 * access to confidential patient information"); one with no code is
 * left out, and a list left with none is not written (an empty purposes
 * broke the schema's minItems), nor an empty security_labels. */
Test(fhir, a_consent_purpose_keeps_its_display_and_no_list_is_left_empty)
{
    struct canon_list out;
    struct hub_err err;
#define CONSENT_P(prov)                                                       \
    "{\"resourceType\":\"Consent\",\"id\":\"c1\",\"status\":\"active\","      \
    "\"patient\":{\"reference\":\"Patient/p1\"},\"provision\":" prov "}"
    cr_assert_eq(run(CONSENT_P("{\"purpose\":[{\"system\":\"http://snomed."
                               "info/sct\",\"code\":\"370856009\",\"display\":"
                               "\"Limiting access\"},{\"display\":\"x\"}]}"),
                     &out, NULL, &err), HUB_OK);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(field_of(&out, 0, "consent.purposes"),
                     "[{\"code\":\"370856009\",\"system\":\"http://snomed."
                     "info/sct\",\"display\":\"Limiting access\"}]");
    cr_assert_eq(run(CONSENT_P("{\"type\":\"deny\",\"purpose\":[{\"display\":"
                               "\"treatment\"}],\"securityLabel\":[{\"display\":"
                               "\"restricted\"}]}"),
                     &out, NULL, &err), HUB_OK);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(field_of(&out, 0, "consent.provision"), "deny");
    cr_assert_str_eq(field_of(&out, 0, "consent.purposes"), "(absent)");
    cr_assert_str_eq(field_of(&out, 0, "consent.security_labels"), "(absent)");
    cr_assert_eq(run(CONSENT_P("{\"securityLabel\":[{\"code\":\"R\"}]}"),
                     &out, NULL, &err), HUB_OK);
    cr_assert_str_eq(field_of(&out, 0, "consent.security_labels"),
                     "[{\"code\":\"R\"}]");
    /* an empty system matches the code in any (dict_security_label) */
    cr_assert_str_eq(field_of(&out, 0, "consent.labels"), "[\"restricted\"]");
    cr_assert_eq(run(CONSENT_P("{\"purpose\":[\"TREAT\"]}"), &out, NULL, &err),
                 HUB_EINVALID);
    cr_assert_str_eq(err.field, "Consent.provision.purpose[0]");
    cr_assert_eq(run(CONSENT_P("{\"securityLabel\":[\"R\"]}"), &out, NULL,
                     &err), HUB_EINVALID);
    cr_assert_str_eq(err.field, "Consent.provision.securityLabel[0]");
#undef CONSENT_P
}

/* F564: what a consent permits or denies is in its provision: the actions
 * (consentaction disclose, access, correct), and the nested provisions,
 * each an exception to the rule holding it, with their own actors,
 * purposes, security labels (42 CFR Part 2), classes, codes, data and
 * data period. The event carried the root's type, period, actors and
 * purposes only, so a later check could not tell "disclose to the CBO
 * for treatment, but not Part 2 data" from "disclose everything"; and
 * policyRule went into "policy" as a bare code. */
Test(fhir, a_consent_carries_its_actions_nested_rules_and_labels)
{
    struct canon_list out;
    struct hub_err err;
    const char *c =
        "{\"resourceType\":\"Consent\",\"id\":\"c1\",\"status\":\"active\","
        "\"patient\":{\"reference\":\"Patient/p1\"},"
        "\"policyRule\":{\"coding\":[{\"system\":\"http://snomed.info/sct\","
        "\"code\":\"425691002\"}]},"
        "\"provision\":{\"type\":\"deny\",\"action\":[{\"coding\":[{\"system\":"
        "\"http://terminology.hl7.org/CodeSystem/consentaction\",\"code\":"
        "\"disclose\"}]}],\"provision\":[{\"type\":\"permit\",\"actor\":[{"
        "\"role\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/"
        "CodeSystem/v3-ParticipationType\",\"code\":\"IRCP\"}]},\"reference\":"
        "{\"reference\":\"Organization/cbo1\"}}],\"purpose\":[{\"system\":"
        "\"http://terminology.hl7.org/CodeSystem/v3-ActReason\",\"code\":"
        "\"TREAT\"}],\"class\":[{\"system\":\"http://hl7.org/fhir/"
        "resource-types\",\"code\":\"Observation\"}],\"code\":[{\"coding\":[{"
        "\"system\":\"http://loinc.org\",\"code\":\"88122-7\"}]}],"
        "\"dataPeriod\":{\"start\":\"2026-01-01\"},\"data\":[{\"meaning\":"
        "\"related\",\"reference\":{\"reference\":\"Encounter/e1\"}}],"
        "\"provision\":[{\"type\":\"deny\",\"securityLabel\":[{\"system\":"
        "\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":"
        "\"42CFRPart2\"},{\"system\":\"http://terminology.hl7.org/CodeSystem/"
        "v3-ActCode\",\"code\":\"ETH\"}]}]}]}}";
    cr_assert_eq(run(c, &out, NULL, &err), HUB_OK, "%s", err.what);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(field_of(&out, 0, "consent.provision"), "deny");
    cr_assert_str_eq(field_of(&out, 0, "consent.actions.0.code"), "disclose");
    cr_assert_str_eq(field_of(&out, 0, "consent.policy"), "(absent)");
    cr_assert_str_eq(field_of(&out, 0, "consent.policy_rule"),
                     "{\"code\":\"425691002\",\"system\":"
                     "\"http://snomed.info/sct\"}");
    cr_assert_str_eq(field_of(&out, 0, "consent.provisions.0.type"), "permit");
    cr_assert_str_eq(field_of(&out, 0,
                              "consent.provisions.0.actors.0.reference"),
                     "Organization/cbo1");
    cr_assert_str_eq(field_of(&out, 0,
                              "consent.provisions.0.actors.0.role.code"),
                     "IRCP");
    cr_assert_str_eq(field_of(&out, 0,
                              "consent.provisions.0.purposes.0.code"),
                     "TREAT");
    cr_assert_str_eq(field_of(&out, 0, "consent.provisions.0.classes.0.code"),
                     "Observation");
    cr_assert_str_eq(field_of(&out, 0, "consent.provisions.0.codes.0.code"),
                     "88122-7");
    cr_assert_str_eq(field_of(&out, 0,
                              "consent.provisions.0.data_period.start"),
                     "2026-01-01");
    cr_assert_str_eq(field_of(&out, 0, "consent.provisions.0.data"),
                     "[{\"meaning\":\"related\",\"reference\":"
                     "\"Encounter/e1\"}]");
    cr_assert_str_eq(field_of(&out, 0,
                              "consent.provisions.0.provisions.0.type"),
                     "deny");
    /* two Part 2 labels name one hub label, the events' own name */
    cr_assert_str_eq(field_of(&out, 0,
                              "consent.provisions.0.provisions.0.labels"),
                     "[\"sud\"]");
    cr_assert_str_eq(field_of(&out, 0, "consent.provisions.0.provisions.0."
                                       "security_labels.0.code"),
                     "42CFRPart2");
    /* what FHIR binds required is checked where it is */
    const char *bad = "{\"resourceType\":\"Consent\",\"id\":\"c1\","
        "\"status\":\"active\",\"patient\":{\"reference\":\"Patient/p1\"},"
        "\"provision\":{\"provision\":[{\"data\":[{\"meaning\":\"all\","
        "\"reference\":{\"reference\":\"Encounter/e1\"}}]}]}}";
    cr_assert_eq(run(bad, &out, NULL, &err), HUB_EINVALID);
    cr_assert_str_eq(err.field, "Consent.provision.provision[0].data[0]."
                                "meaning");
}

/* Nested provisions are read with a depth: nine levels below the root are
 * refused at the ninth, eight are taken. */
Test(fhir, consent_provisions_nested_past_the_limit_are_refused)
{
    struct canon_list out;
    struct hub_err err;
    char buf[2048];
    for (int levels = 8; levels <= 9; levels++) {
        size_t n = (size_t)snprintf(buf, sizeof(buf),
            "{\"resourceType\":\"Consent\",\"id\":\"c1\",\"status\":"
            "\"active\",\"patient\":{\"reference\":\"Patient/p1\"},"
            "\"provision\":{");
        for (int i = 0; i < levels; i++)
            n += (size_t)snprintf(buf + n, sizeof(buf) - n,
                                  "\"provision\":[{\"type\":\"deny\",");
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\"action\":[]");
        for (int i = 0; i < levels; i++)
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, "}]");
        snprintf(buf + n, sizeof(buf) - n, "}}");
        int rc = run(buf, &out, NULL, &err);
        if (levels == 8) {
            cr_assert_eq(rc, HUB_OK, "%s at %s", err.what, err.field);
            cr_assert_str_eq(field_of(&out, 0, "consent.provisions.0."
                                               "provisions.0.provisions.0."
                                               "provisions.0.provisions.0."
                                               "provisions.0.provisions.0."
                                               "provisions.0.type"),
                             "deny");
        } else {
            /* the place is the ninth level's (the field is cut short) */
            cr_assert_eq(rc, HUB_ELIMIT);
            cr_assert_str_eq(err.what, "provisions are nested deeper than 8");
            cr_assert(strncmp(err.field, "Consent.provision.provision[0]."
                              "provision[0].provision[0]", 55) == 0,
                      "%s", err.field);
        }
    }
}

/* F640: a Reference may name its target by identifier alone (FHIR R4
 * Reference.identifier). Da Vinci HRex's payer-to-payer Consent names
 * both payers so, by NPI: the hub refused the whole Consent ("reference
 * is missing"). The actor is now kept by its identifier; one that names
 * neither a resource nor an identifier is still refused, as a permit to
 * an unknown grantee cannot be honoured. */
Test(fhir, a_consent_actor_named_by_identifier_is_kept)
{
    struct canon_list out;
    struct hub_err err;
#define CONSENT_A(ref)                                                        \
    "{\"resourceType\":\"Consent\",\"id\":\"c1\",\"status\":\"active\","      \
    "\"patient\":{\"reference\":\"Patient/p1\"},\"provision\":{\"type\":"     \
    "\"permit\",\"actor\":[{\"role\":{\"coding\":[{\"code\":\"IRCP\"}]},"     \
    "\"reference\":" ref "}]}}"
    cr_assert_eq(run(CONSENT_A("{\"identifier\":{\"system\":\"http://hl7.org/"
                               "fhir/sid/us-npi\",\"value\":\"0123456789\"},"
                               "\"type\":\"Organization\",\"display\":"
                               "\"New Health Plan\"}"),
                     &out, NULL, &err), HUB_OK, "%s at %s", err.what,
                 err.field);
    cr_assert_str_eq(field_of(&out, 0, "consent.actors.0"),
                     "{\"role\":{\"code\":\"IRCP\"},\"identifier\":{"
                     "\"system\":\"http://hl7.org/fhir/sid/us-npi\","
                     "\"value\":\"0123456789\"},\"type\":\"Organization\"}");
    cr_assert_eq(run(CONSENT_A("{\"display\":\"New Health Plan\"}"), &out,
                     NULL, &err), HUB_EINVALID);
    cr_assert_str_eq(err.field, "Consent.provision.actor[0].reference");
    cr_assert_eq(run(CONSENT_A("{\"identifier\":{\"system\":\"http://hl7.org/"
                               "fhir/sid/us-npi\"}}"), &out, NULL, &err),
                 HUB_EINVALID);
#undef CONSENT_A
}

/* F84: an Identifier's type is written as the schema's table 0203 type only
 * when coded in table 0203 (R4's or STU3's URL, or no system): the MII /
 * German base profile's KVID-10 is typed KVZ10 of identifier-type-de-basis,
 * which went out as if it were a table 0203 code. */
Test(fhir, an_identifier_type_of_another_code_system_is_not_a_table_0203_type)
{
    struct canon_list out;
    struct hub_err err;
#define TYPED(ty1, ty2, ty3)                                                  \
    "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":["       \
    "{\"fullUrl\":\"urn:uuid:p\",\"resource\":{\"resourceType\":\"Patient\","  \
    "\"identifier\":[{\"type\":{\"coding\":[" ty1 "]},\"system\":\"urn:x:a\","  \
    "\"value\":\"1\"},{\"type\":{\"coding\":[" ty2 "]},\"system\":\"urn:x:b\"," \
    "\"value\":\"2\"},{\"type\":{\"coding\":[" ty3 "]},\"system\":\"urn:x:c\"," \
    "\"value\":\"3\"}]}},{\"resource\":{\"resourceType\":\"Condition\","       \
    "\"subject\":{\"reference\":\"urn:uuid:p\"},\"code\":{\"text\":\"x\"}}}]}"
    cr_assert_eq(run(TYPED("{\"system\":\"http://fhir.de/CodeSystem/identifier-"
                           "type-de-basis\",\"code\":\"KVZ10\"}",
                           "{\"system\":\"http://fhir.de/CodeSystem/identifier-"
                           "type-de-basis\",\"code\":\"GKV\"},{\"system\":\"http:"
                           "//terminology.hl7.org/CodeSystem/v2-0203\",\"code\":"
                           "\"MR\"}",
                           "{\"code\":\"MR\"}"),
                     &out, NULL, &err), HUB_OK);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(field_of(&out, 0, "patient.identifiers.0.value"), "1");
    cr_assert_str_eq(field_of(&out, 0, "patient.identifiers.0.type"), "(absent)");
    cr_assert_str_eq(field_of(&out, 0, "patient.identifiers.1.type"), "MR");
    cr_assert_str_eq(field_of(&out, 0, "patient.identifiers.2.type"), "MR");
    cr_assert_eq(run(TYPED("{\"system\":\"http://hl7.org/fhir/v2/0203\","
                           "\"code\":\"NI\"}",
                           "{\"system\":\"urn:oid:2.16.840.1.113883.18.108\","
                           "\"code\":\"PI\"}",
                           "{\"system\":\"urn:x:local\",\"code\":\"MR\"}"),
                     &out, NULL, &err), HUB_OK);
    cr_assert_str_eq(field_of(&out, 0, "patient.identifiers.0.type"), "NI");
    cr_assert_str_eq(field_of(&out, 0, "patient.identifiers.1.type"), "PI");
    cr_assert_str_eq(field_of(&out, 0, "patient.identifiers.2.type"), "(absent)");
#undef TYPED
}

/* F85: a Condition coded in ICD-10 (WHO) and SNOMED CT (the IPS's problem)
 * is written with its SNOMED CT code whichever coding comes first (FHIR
 * gives their order no meaning); ICD-10-CM still comes before both. */
Test(fhir, a_condition_code_does_not_depend_on_the_order_of_its_codings)
{
    struct canon_list out;
    struct hub_err err;
#define COND(codings)                                                         \
    "{\"resourceType\":\"Condition\",\"id\":\"c1\",\"subject\":{\"reference\":" \
    "\"Patient/p1\"},\"code\":{\"coding\":[" codings "]}}"
#define SCT "{\"system\":\"http://snomed.info/sct\",\"code\":\"198436008\"}"
#define ICD "{\"system\":\"http://hl7.org/fhir/sid/icd-10\",\"code\":\"N95.1\"}"
#define CM "{\"system\":\"http://hl7.org/fhir/sid/icd-10-cm\",\"code\":\"N95.1\"}"
    static const char *const docs[] = { COND(SCT "," ICD), COND(ICD "," SCT) };
    for (size_t i = 0; i < 2; i++) {
        cr_assert_eq(run(docs[i], &out, NULL, &err), HUB_OK);
        cr_assert_eq(out.n, 1);
        cr_assert_str_eq(field_of(&out, 0, "condition.code.code"), "198436008",
                         "document %zu", i);
        cr_assert_str_eq(field_of(&out, 0, "condition.codes.1.code"),
                         i == 0 ? "N95.1" : "198436008");
    }
    cr_assert_eq(run(COND(ICD "," SCT "," CM), &out, NULL, &err), HUB_OK);
    cr_assert_str_eq(field_of(&out, 0, "condition.code.system"),
                     "http://hl7.org/fhir/sid/icd-10-cm");
    cr_assert_eq(run(COND("{\"system\":\"urn:x\",\"code\":\"1\"}," ICD),
                     &out, NULL, &err), HUB_OK);
    cr_assert_str_eq(field_of(&out, 0, "condition.code.code"), "N95.1");
    /* MII: ICD-10-GM before Orphanet whichever comes first; SNOMED CT by
     * its OID before both */
#define GM "{\"system\":\"http://fhir.de/CodeSystem/bfarm/icd-10-gm\",\"code\":\"H83.8\"}"
#define ORPHA "{\"system\":\"http://www.orpha.net\",\"code\":\"420402\"}"
    cr_assert_eq(run(COND(ORPHA "," GM), &out, NULL, &err), HUB_OK);
    cr_assert_str_eq(field_of(&out, 0, "condition.code.code"), "H83.8");
    cr_assert_eq(run(COND(ORPHA "," GM ",{\"system\":\"urn:oid:2.16.840.1."
                          "113883.6.96\",\"code\":\"1\"}"),
                     &out, NULL, &err), HUB_OK);
    cr_assert_str_eq(field_of(&out, 0, "condition.code.code"), "1");
#undef GM
#undef ORPHA
#undef COND
#undef SCT
#undef ICD
#undef CM
}

/* F86: a German Condition coded in ICD-10-GM takes the label its WHO
 * chapter gives (F10.2 alcohol dependence: sud), as one in ICD-10-CM. */
Test(fhir, a_condition_in_icd_10_gm_takes_its_sensitivity)
{
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run("{\"resourceType\":\"Condition\",\"id\":\"c1\","
                     "\"subject\":{\"reference\":\"Patient/p1\"},\"code\":"
                     "{\"coding\":[{\"system\":\"http://fhir.de/CodeSystem/"
                     "bfarm/icd-10-gm\",\"version\":\"2020\",\"code\":"
                     "\"F10.2\"}]}}", &out, NULL, &err), HUB_OK);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(field_of(&out, 0, "sensitivity"), "[\"sud\"]");
}

/* F3082: a Z code named its domain only under ICD-10-CM's FHIR URI, where
 * its label (F10.2 sud) and HL7 v2's DG1 read every name of ICD-10: a
 * Condition Z59.0 in WHO ICD-10's URI (as the IPA and IPS IGs code
 * problems) or in ICD-10-CM's OID, and a social history Observation
 * valued so, went out with no domain. An unknown system still names
 * none. */
#define ZCOND(sys)                                                          \
    "{\"resourceType\":\"Condition\",\"id\":\"c1\",\"subject\":"            \
    "{\"reference\":\"Patient/p1\"},\"code\":{\"coding\":[{\"system\":\""   \
    sys "\",\"code\":\"Z59.0\"}]}}"
#define ZOBS(sys)                                                           \
    "{\"resourceType\":\"Observation\",\"id\":\"o1\",\"status\":\"final\"," \
    "\"category\":[{\"coding\":[{\"system\":\"http://terminology.hl7.org/"  \
    "CodeSystem/observation-category\",\"code\":\"social-history\"}]}],"    \
    "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":"      \
    "\"8689-2\"}]},\"subject\":{\"reference\":\"Patient/p1\"},"             \
    "\"effectiveDateTime\":\"2024-01-02\",\"valueCodeableConcept\":"        \
    "{\"coding\":[{\"system\":\"" sys "\",\"code\":\"Z59.0\"}]}}"
Test(fhir, a_z_code_in_any_name_of_icd10_names_its_domain)
{
    static const char *const conds[] = {
        ZCOND("http://hl7.org/fhir/sid/icd-10-cm"),
        ZCOND("http://hl7.org/fhir/sid/icd-10"),
        ZCOND("urn:oid:2.16.840.1.113883.6.90"),
        ZCOND("urn:oid:2.16.840.1.113883.6.3"),
    };
    static const char *const obs[] = {
        ZOBS("http://hl7.org/fhir/sid/icd-10-cm"),
        ZOBS("http://hl7.org/fhir/sid/icd-10"),
        ZOBS("urn:oid:2.16.840.1.113883.6.90"),
    };
    struct canon_list out;
    struct hub_err err;
    for (size_t i = 0; i < sizeof(conds) / sizeof(conds[0]); i++) {
        cr_assert_eq(run(conds[i], &out, NULL, &err), HUB_OK, "%zu", i);
        cr_assert_eq(out.n, 1);
        cr_assert_str_eq(field_of(&out, 0, "condition.domain"),
                         "homelessness", "condition %zu", i);
    }
    for (size_t i = 0; i < sizeof(obs) / sizeof(obs[0]); i++) {
        cr_assert_eq(run(obs[i], &out, NULL, &err), HUB_OK, "%zu", i);
        cr_assert_eq(out.n, 2, "observation %zu", i);
        cr_assert_str_eq(out.ev[1].type, "screening.positive");
        cr_assert_str_eq(field_of(&out, 1, "screening.positive_domains"),
                         "[\"homelessness\"]", "observation %zu", i);
    }
    cr_assert_eq(run(ZCOND("http://example.org/codes"), &out, NULL, &err),
                 HUB_OK);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(field_of(&out, 0, "condition.domain"), "(absent)");
}
#undef ZCOND
#undef ZOBS

/* F370: a transaction that sends a QuestionnaireResponse and again, as
 * Observations without derivedFrom, some of its answers (a developer's NY
 * HRSN bundle: the response, then transportation, employment, education
 * and the safety total as SHIN-NY screening-response Observations of the
 * same encounter) gave two screenings of one visit, each with its own
 * screening.positive for transportation. An Observation of the same
 * patient and encounter that answers a question of such a response with
 * the same value is folded into it, as one derived from it is. Not folded:
 * another answer (the sender says something else), no encounter named on
 * either side, another encounter. */
#define QR_ENC(enc, items)                                                  \
    "{\"resource\":{\"resourceType\":\"QuestionnaireResponse\",\"id\":"     \
    "\"q7\",\"status\":\"completed\",\"subject\":{\"reference\":"           \
    "\"Patient/p1\"}," enc "\"authored\":\"2024-02-23\",\"item\":["         \
    items "]}}"
Test(fhir, an_observation_repeating_a_response_of_its_encounter_is_folded)
{
    struct canon_list out;
    struct hub_err err;
    const char *same = COLLECTION(
        QR_ENC(ENC("e1"), QR_ITEM("93030-5", "LA33-6") ","
                          QR_ITEM("88122-7", "LA28398-8")) ","
        LOOSE("o1", ENC("e1"), "93030-5", "LA33-6"));
    cr_assert_eq(run(same, &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_eq(out.n, 2);
    cr_assert_str_eq(out.ev[1].type, "screening.positive");
    cr_assert_str_eq(field_of(&out, 1, "screening.id"),
                     "QuestionnaireResponse/q7");

    /* another answer to the same question: the sender's, kept apart */
    const char *other = COLLECTION(
        QR_ENC(ENC("e1"), QR_ITEM("93030-5", "LA33-6")) ","
        LOOSE("o1", ENC("e1"), "93030-5", "LA32-8"));
    cr_assert_eq(run(other, &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_eq(out.n, 3);
    cr_assert_str_eq(field_of(&out, 2, "screening.id"), "Observation/o1");

    /* no encounter on either side, or another encounter: kept apart */
    const char *none = COLLECTION(
        QR_ENC("", QR_ITEM("93030-5", "LA33-6")) ","
        LOOSE("o1", "", "93030-5", "LA33-6"));
    cr_assert_eq(run(none, &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_eq(out.n, 4);
    const char *elsewhere = COLLECTION(
        QR_ENC(ENC("e1"), QR_ITEM("93030-5", "LA33-6")) ","
        LOOSE("o1", ENC("e2"), "93030-5", "LA33-6"));
    cr_assert_eq(run(elsewhere, &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_eq(out.n, 4);
}

/* The feedback names a resource by its type when the type is one of FHIR
 * R4's that bundles carry here, and "Resource" otherwise (a sender's own
 * text may be anything): every known type, and near misses, by the
 * answer's resource_type. */
Test(fhir, the_answer_names_each_known_resource_type_and_no_other)
{
    static const char *const known[] = {
        "Task", "AllergyIntolerance", "Slot", "Appointment", "Subscription",
        "AuditEvent", "Specimen", "Basic", "ServiceRequest", "Binary",
        "Schedule", "Bundle", "RiskAssessment", "CarePlan", "RelatedPerson",
        "CareTeam", "QuestionnaireResponse", "Claim", "Questionnaire",
        "ClinicalImpression", "Provenance", "Communication", "Procedure",
        "CommunicationRequest", "PractitionerRole", "Composition",
        "Practitioner", "Condition", "Person", "Consent", "Patient",
        "Contract", "Parameters", "Coverage", "Organization", "Device",
        "OperationOutcome", "DiagnosticReport", "Observation",
        "DocumentReference", "NutritionOrder", "Encounter", "MessageHeader",
        "Endpoint", "MedicationStatement", "EpisodeOfCare",
        "MedicationRequest", "ExplanationOfBenefit", "Medication",
        "FamilyMemberHistory", "Media", "Flag", "Location", "Goal", "List",
        "Group", "Immunization", "HealthcareService",
    };
    static const char *const unknown[] = {
        "Foo", "A", "Zzz", "Patien", "Patients", "patient", "Medicatio",
        "MedicationX", "CarePlanX", "Resource", "",
    };
    char json[160];
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        snprintf(json, sizeof(json), "{\"resourceType\":\"%s\"}", known[i]);
        memset(&res, 0, sizeof(res));
        run(json, &out, &res, &err);
        cr_assert(res.resource_type && strcmp(res.resource_type, known[i]) == 0,
                  "%s named %s", known[i],
                  res.resource_type ? res.resource_type : "(null)");
    }
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        snprintf(json, sizeof(json), "{\"resourceType\":\"%s\"}", unknown[i]);
        memset(&res, 0, sizeof(res));
        run(json, &out, &res, &err);
        if (res.resource_type)
            cr_assert_str_eq(res.resource_type, "Resource", "%s", unknown[i]);
    }
}

/* Reference.reference may be "an absolute URL that resolves to the
 * location where the resource is found" (FHIR R4), and not every URL ends
 * in Type/id: the SDOHCC Task For Patient example to review material
 * focuses on a CDC PDF (SDOHCC-TaskPatientReviewInformationCompletedExample,
 * F800). Such a Task is read (a patient's task gives no event), and a URL
 * reference is carried as sent; a bare word or a scheme with nothing after
 * it is still no reference. */
Test(fhir, an_absolute_url_that_names_no_type_and_id_is_a_reference)
{
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run("{\"resourceType\":\"Task\",\"id\":\"t\",\"status\":"
                     "\"completed\",\"intent\":\"order\",\"focus\":{"
                     "\"reference\":\"https://www.cdc.gov/diabetes/pdfs/"
                     "managing/Managing-Diabetes_CMS-CDC_English-508.pdf\"},"
                     "\"for\":{\"reference\":\"Patient/p\"}}",
                     &out, NULL, &err), HUB_OK, "%s: %s", err.field,
                 err.what ? err.what : "");
    cr_assert_eq(out.n, 0);
    cr_assert_eq(run("{\"resourceType\":\"Procedure\",\"id\":\"pr\","
                     "\"status\":\"completed\",\"basedOn\":[{\"reference\":"
                     "\"http://example.org/orders/17.pdf\"}],\"code\":{"
                     "\"text\":\"Food pantry application\"},\"subject\":{"
                     "\"reference\":\"Patient/p\"},\"performedDateTime\":"
                     "\"2024-03-23\"}", &out, NULL, &err), HUB_OK, "%s: %s",
                 err.field, err.what ? err.what : "");
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(field_of(&out, 0, "careplan.activities.0.based_on"),
                     "[\"http://example.org/orders/17.pdf\"]");
    const char *bad[] = { "orders-17", "https://", "http:/orders/17" };
    for (size_t i = 0; i < 3; i++) {
        char j[512];
        snprintf(j, sizeof(j),
                 "{\"resourceType\":\"Task\",\"id\":\"t\",\"status\":"
                 "\"completed\",\"intent\":\"order\",\"focus\":{"
                 "\"reference\":\"%s\"},\"for\":{\"reference\":"
                 "\"Patient/p\"}}", bad[i]);
        cr_assert_eq(run(j, &out, NULL, &err), HUB_EINVALID, "%s", bad[i]);
        cr_assert_str_eq(err.field, "Task.focus.reference");
        cr_assert_str_eq(err.what, "reference is not Type/id or a URL");
    }
}

/* F880: a member name with a raw NUL byte is that name up to the NUL for
 * the adapter's reading (strcmp): "gender" and "gender<NUL>zz" are one
 * name twice, "modifierExtension<NUL>" a modifierExtension. The parse's
 * notes read the bytes and called the body plain, so both were read as
 * if the second member were not there. Both are refused as the walk
 * refuses them. */
Test(fhir, a_member_name_cut_by_a_nul_byte_is_checked_as_it_is_read)
{
    static const char dup[] = "{\"resourceType\":\"Patient\",\"id\":\"p\","
                              "\"gender\":\"male\",\"gender\0zz\":\"female\"}";
    static const char mod[] = "{\"resourceType\":\"Patient\",\"id\":\"p\","
                              "\"modifierExtension\0\":[{\"url\":\"http://x\"}]}";
    struct canon_list out = { 0 };
    struct hub_err err;
    cr_assert_eq(fhir_to_events(&A, D, dup, sizeof(dup) - 1, &out, NULL,
                                &err), HUB_ESYNTAX);
    cr_expect_str_eq(err.field, "Patient.gender");
    memset(&out, 0, sizeof(out));
    cr_assert_eq(fhir_to_events(&A, D, mod, sizeof(mod) - 1, &out, NULL,
                                &err), HUB_EUNSUPPORTED);
    cr_expect_str_eq(err.field, "Patient.modifierExtension[0]");
}

/* F882, F883: what F800 let through and what stood before it. A URL
 * reference names a host (an http URI's host is never empty, RFC 9110
 * 4.2.1); no scheme but http(s) stands before Type/id (FHIR R4
 * references.html: a relative Type/id or an absolute http(s) URL), so
 * "javascript:...//Patient/1", a data: URI or a first segment with a colon
 * (a scheme, RFC 3986 4.2) is refused where it was carried to partners as
 * sent. The scheme's case is not its meaning (RFC 3986 3.1): "HTTPS://"
 * is read as "https://". */
Test(fhir, a_reference_is_type_id_or_an_http_url_with_a_host)
{
    static const char *const bad[] = {
        "http://?q=1", "https://#frag", "http://:8080/x.pdf",
        "javascript:alert(1)//Patient/1", "data:text/html,x/Patient/1",
        "file:///etc/Patient/1", "Patient:1/Observation/2",
        "ftp://example.org/fhir/Patient/1",
    };
    static const char *const good[] = {
        "Patient/p", "http://example.org/fhir/Patient/p",
        "HTTPS://example.org/orders/17.pdf", "https://[::1]/o.pdf",
        "http://example.org", "Patient/p/_history/2",
    };
    struct canon_list out;
    struct hub_err err;
    char j[512];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(j, sizeof(j),
                 "{\"resourceType\":\"Task\",\"id\":\"t\",\"status\":"
                 "\"completed\",\"intent\":\"order\",\"focus\":{"
                 "\"reference\":\"%s\"},\"for\":{\"reference\":"
                 "\"Patient/p\"}}", bad[i]);
        cr_assert_eq(run(j, &out, NULL, &err), HUB_EINVALID, "%s", bad[i]);
        cr_expect_str_eq(err.field, "Task.focus.reference", "%s", bad[i]);
    }
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(j, sizeof(j),
                 "{\"resourceType\":\"Task\",\"id\":\"t\",\"status\":"
                 "\"completed\",\"intent\":\"order\",\"focus\":{"
                 "\"reference\":\"%s\"},\"for\":{\"reference\":"
                 "\"Patient/p\"}}", good[i]);
        cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "%s: %s %s", good[i],
                     err.field, err.what ? err.what : "");
    }
}

/* ---- functional and disability assessments (F802, decided) ------------------- */

#define CAT(sys, code) \
    "{\"coding\":[{\"system\":\"" sys "\",\"code\":\"" code "\"}]}"
#define OBS_CATS "http://terminology.hl7.org/CodeSystem/observation-category"
#define USCORE_CATS "http://hl7.org/fhir/us/core/CodeSystem/us-core-category"
/* PACIO's functional goal "Walk 50 feet with two turns", partial help */
#define WALK50                                                              \
    "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":"      \
    "\"89381-8\"}]},\"valueCodeableConcept\":{\"coding\":[{\"system\":"     \
    "\"http://loinc.org\",\"code\":\"LA10055-4\"}]}"
#define FUNC_OBS(cat)                                                       \
    OBS("\"category\":[" CAT(OBS_CATS, "survey") "," CAT(USCORE_CATS, cat)  \
        "]," WALK50)

Test(fhir, a_functional_or_disability_assessment_gives_no_screening_and_says_why)
{
    static const char *const alone[] = { FUNC_OBS("functional-status"),
                                         FUNC_OBS("disability-status") };
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    struct slice oo;
    for (size_t i = 0; i < 2; i++) {
        cr_assert_eq(run(alone[i], &out, &res, &err), HUB_OK, "%zu: %s %s", i,
                     err.field, err.what ? err.what : "");
        cr_assert_eq(out.n, 0, "%zu: no screening.completed", i);
        cr_assert_eq(res.n_entries, 1);
        cr_assert_eq(res.entries[0].n_warnings, 1, "%zu: told why", i);
        cr_assert_str_eq(res.entries[0].warnings[0].field,
                         "Observation.category[1]");
        cr_assert_not_null(strstr(res.entries[0].warnings[0].what,
                                  "not a social-needs screening"));
        cr_assert_eq(fhir_result_outcome(&A, &res, &oo), HUB_OK);
        cr_assert_not_null(strstr(oo.p, "\"severity\":\"warning\","
                                        "\"code\":\"business-rule\""),
                           "%s", oo.p);
        cr_assert_not_null(strstr(oo.p, "[\"Observation.category[1]\"]"),
                           "%s", oo.p);
    }
    /* the only entry of a transaction: accepted with no event, as a
     * bundle of a heart rate alone is, and the warning names the entry */
    const char *b = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\","
                    "\"entry\":[{\"resource\":" FUNC_OBS("functional-status")
                    "}]}";
    cr_assert_eq(run(b, &out, &res, &err), HUB_OK, "%s %s", err.field,
                 err.what ? err.what : "");
    cr_assert_eq(out.n, 0);
    cr_assert_eq(res.n_failed, 0);
    cr_assert_eq(res.entries[0].status, HUB_OK);
    cr_assert_eq(res.entries[0].n_warnings, 1);
    cr_assert_str_eq(res.entries[0].warnings[0].field,
                     "entry[0].resource.category[1]");
    const char *hr = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\","
                     "\"entry\":[{\"resource\":" OBS("\"code\":{\"coding\":["
                     "{\"system\":\"http://loinc.org\",\"code\":\"8867-4\"}]}")
                     "}]}";
    cr_assert_eq(run(hr, &out, &res, &err), HUB_OK);
    cr_assert_eq(out.n, 0);
    cr_assert_eq(res.entries[0].status, HUB_OK);
    cr_assert_eq(res.entries[0].n_warnings, 0, "context says nothing");
}

Test(fhir, assessment_categories_beside_an_sdoh_domain_stay_a_screening)
{
    static const char *const cases[] = {
        /* US Core's sdoh category beside functional-status */
        OBS("\"category\":[" CAT(OBS_CATS, "survey") ","
            CAT(USCORE_CATS, "functional-status") ","
            CAT(USCORE_CATS, "sdoh") "]," WALK50),
        /* a Gravity domain as category */
        OBS("\"category\":[" CAT(OBS_CATS, "survey") ","
            CAT(USCORE_CATS, "disability-status") ","
            CAT(DICT_SDOH_SYSTEM, "food-insecurity") "]," WALK50),
        /* a question of the dictionary (HVS, Often true) */
        OBS("\"category\":[" CAT(OBS_CATS, "survey") ","
            CAT(USCORE_CATS, "disability-status") "],"
            "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
            "\"code\":\"88122-7\"}]},\"valueCodeableConcept\":{\"coding\":"
            "[{\"system\":\"http://loinc.org\",\"code\":\"LA28397-0\"}]}"),
        /* an answer that is a Z code of a domain */
        OBS("\"category\":[" CAT(OBS_CATS, "survey") ","
            CAT(USCORE_CATS, "functional-status") "],"
            "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
            "\"code\":\"89381-8\"}]},\"valueCodeableConcept\":{\"coding\":"
            "[{\"system\":\"http://hl7.org/fhir/sid/icd-10-cm\","
            "\"code\":\"Z59.4\"}]}"),
        /* a component that is a question of the dictionary */
        OBS("\"category\":[" CAT(OBS_CATS, "survey") ","
            CAT(USCORE_CATS, "functional-status") "]," WALK50 ","
            "\"component\":[{\"code\":{\"coding\":[{\"system\":"
            "\"http://loinc.org\",\"code\":\"88122-7\"}]},"
            "\"valueCodeableConcept\":{\"coding\":[{\"system\":"
            "\"http://loinc.org\",\"code\":\"LA28397-0\"}]}}]"),
    };
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cr_assert_eq(run(cases[i], &out, &res, &err), HUB_OK, "%zu: %s %s", i,
                     err.field, err.what ? err.what : "");
        cr_assert_geq(out.n, 1, "case %zu", i);
        cr_assert_str_eq(out.ev[0].type, "screening.completed", "case %zu", i);
        cr_assert_eq(res.entries[0].n_warnings, 0, "case %zu", i);
    }
}

/* F3361: a survey Observation of no instrument, question, answer or
 * domain the dictionary knows is context, as a QuestionnaireResponse of
 * an unknown form is (F1722), and the sender gets the same note: PACIO's
 * functional and cognitive panels, the BHP's M3 and MMSE, a loose item
 * of a code the hub cannot read. Anything the dictionary knows stays a
 * screening. */
#define UNKNOWN_PANEL                                                       \
    "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","               \
    "\"code\":\"83254-3\"}]},\"hasMember\":[{\"reference\":"                \
    "\"Observation/m1\"}]"
Test(fhir, a_survey_observation_the_dictionary_cannot_read_is_context)
{
    static const char *const context[] = {
        /* a panel whose members are not sent (PACIO's Self-Care) */
        OBS("\"category\":[" CAT(OBS_CATS, "survey") "]," UNKNOWN_PANEL),
        /* a loose item, its code and answer unknown */
        OBS("\"category\":[" CAT(OBS_CATS, "survey") "]," WALK50),
        /* the code in a system that is not US Core's: not its category */
        OBS("\"category\":[" CAT(OBS_CATS, "survey") ","
            CAT("http://example.org/category", "functional-status") "],"
            WALK50),
        /* cognitive-status is not in F802's decision, and now context */
        OBS("\"category\":[" CAT(OBS_CATS, "survey") ","
            CAT(USCORE_CATS, "cognitive-status") "]," WALK50),
        /* components of unknown questions (the BHP's M3) */
        OBS("\"category\":[" CAT(OBS_CATS, "survey") "],"
            "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
            "\"code\":\"71891-6\"}]},\"component\":[{\"code\":{\"coding\":"
            "[{\"system\":\"http://loinc.org\",\"code\":\"71816-3\"}]},"
            "\"valueCodeableConcept\":{\"coding\":[{\"system\":"
            "\"http://loinc.org\",\"code\":\"LA14734-0\"}]}}]"),
        /* `sdoh` with no system says nothing */
        OBS("\"category\":[{\"coding\":[{\"code\":\"sdoh\"}]}]," WALK50),
    };
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    struct slice oo;
    for (size_t i = 0; i < sizeof(context) / sizeof(context[0]); i++) {
        cr_assert_eq(run(context[i], &out, &res, &err), HUB_OK, "%zu: %s %s",
                     i, err.field, err.what ? err.what : "");
        cr_assert_eq(out.n, 0, "case %zu: no event", i);
        cr_assert_not_null(res.entries[0].note.what, "case %zu", i);
        cr_assert_eq(fhir_result_outcome(&A, &res, &oo), HUB_OK);
        cr_assert_not_null(strstr(oo.p, "\"severity\":\"information\""),
                           "%s", oo.p);
        /* the words a response of an unknown form gets */
        cr_assert_not_null(strstr(oo.p, "accepted with no event: a response "
                                        "of no instrument, question or "
                                        "answer the hub knows is not read as "
                                        "a screening"), "%s", oo.p);
        cr_assert_not_null(strstr(oo.p, "[\"Observation\"]"), "%s", oo.p);
    }
    static const char *const screening[] = {
        /* a question of an instrument (HVS) */
        OBS("\"category\":[" CAT(OBS_CATS, "survey") "],"
            "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
            "\"code\":\"88122-7\"}]},\"valueString\":\"sometimes\""),
        /* a question known by its label alone (PHQ-9 item 9: psy) */
        OBS("\"category\":[" CAT(OBS_CATS, "survey") "],"
            "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
            "\"code\":\"44260-8\"}]},\"valueInteger\":2"),
        /* an answer that names a domain (a Z code) */
        OBS("\"category\":[" CAT(OBS_CATS, "survey") "],"
            "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
            "\"code\":\"89381-8\"}]},\"valueCodeableConcept\":{\"coding\":"
            "[{\"system\":\"http://hl7.org/fhir/sid/icd-10-cm\","
            "\"code\":\"Z59.4\"}]}"),
        /* a Gravity domain as category */
        OBS("\"category\":[" CAT(OBS_CATS, "survey") ","
            CAT(DICT_SDOH_SYSTEM, "food-insecurity") "]," WALK50),
        /* US Core's sdoh category: the sender's SDOH item (F3400) */
        OBS("\"category\":[" CAT(OBS_CATS, "survey") ","
            CAT(USCORE_CATS, "sdoh") "]," WALK50),
        /* a panel of an instrument, its members not sent */
        OBS("\"category\":[" CAT(OBS_CATS, "survey") "],"
            "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
            "\"code\":\"88121-9\"}]},\"hasMember\":[{\"reference\":"
            "\"Observation/m1\"}]"),
    };
    for (size_t i = 0; i < sizeof(screening) / sizeof(screening[0]); i++) {
        cr_assert_eq(run(screening[i], &out, &res, &err), HUB_OK,
                     "%zu: %s %s", i, err.field, err.what ? err.what : "");
        cr_assert_geq(out.n, 1, "case %zu", i);
        cr_assert_str_eq(out.ev[0].type, "screening.completed", "case %zu", i);
        cr_assert_null(res.entries[0].note.what, "case %zu", i);
    }
    /* a panel of an unknown code whose member the dictionary knows is
     * read; loose unknown items of one patient and day are one context,
     * noted at the first */
    const char *b =
        "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":["
        "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"p\","
        "\"status\":\"final\",\"subject\":{\"reference\":\"Patient/p1\"},"
        "\"category\":[" CAT(OBS_CATS, "survey") "]," UNKNOWN_PANEL "}},"
        "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"m1\","
        "\"status\":\"final\",\"subject\":{\"reference\":\"Patient/p1\"},"
        "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
        "\"code\":\"88122-7\"}]},\"valueString\":\"sometimes\"}},"
        "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"a\","
        "\"status\":\"final\",\"subject\":{\"reference\":\"Patient/p2\"},"
        "\"effectiveDateTime\":\"2024-01-01\","
        "\"category\":[" CAT(OBS_CATS, "survey") "]," WALK50 "}},"
        "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"b\","
        "\"status\":\"final\",\"subject\":{\"reference\":\"Patient/p2\"},"
        "\"effectiveDateTime\":\"2024-01-01\","
        "\"category\":[" CAT(OBS_CATS, "survey") "],"
        "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
        "\"code\":\"71816-3\"}]},\"valueString\":\"x\"}}]}";
    cr_assert_eq(run(b, &out, &res, &err), HUB_OK, "%s %s", err.field,
                 err.what ? err.what : "");
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(field_of(&out, 0, "screening.id"), "Observation/p");
    cr_assert_str_eq(field_of(&out, 0, "screening.items.0.question"),
                     "88122-7");
    cr_assert_null(res.entries[0].note.what);
    cr_assert_str_eq(res.entries[2].note.field, "entry[2].resource");
    cr_assert_null(res.entries[3].note.what);
}

/* F3362: entries with neither id nor urn fullUrl are named by their place
 * in the bundle, as the outcome names them: two screenings of one message
 * (the BigQuery ML demo's PRAPARE items, dated apart) were both
 * "Observation" */
Test(fhir, entries_without_id_nor_urn_are_named_by_their_place)
{
#define PRAPARE_ITEM(day, code, ans)                                        \
    "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\"," \
    "\"subject\":{\"reference\":\"Patient/p1\"},\"effectiveDateTime\":\""   \
    day "\",\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","        \
    "\"code\":\"" code "\"}]},\"valueCodeableConcept\":{\"coding\":[{"      \
    "\"system\":\"http://loinc.org\",\"code\":\"" ans "\"}]}}}"
    const char *b =
        "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":["
        PRAPARE_ITEM("2021-01-01", "82589-3", "LA38-5") ","
        PRAPARE_ITEM("2021-02-01", "67875-5", "LA17956-6") "]}";
#undef PRAPARE_ITEM
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    cr_assert_eq(run(b, &out, &res, &err), HUB_OK, "%s %s", err.field,
                 err.what ? err.what : "");
    cr_assert_geq(out.n, 2);
    cr_assert_str_eq(field_of(&out, 0, "screening.id"),
                     "Bundle.entry[0].resource");
    cr_assert_str_eq(field_of(&out, 0, "source.resource"),
                     "Bundle.entry[0].resource");
    const char *second = field_of(&out, out.n - 1, "screening.id");
    cr_assert_str_eq(second, "Bundle.entry[1].resource");
    cr_assert_str_eq(res.entries[1].resource, "Bundle.entry[1].resource");
    /* a lone resource without id is still its type */
    cr_assert_eq(run(GOAL_X "\"subject\":{\"reference\":\"Patient/p\"}}",
                     &out, &res, &err), HUB_OK, "%s %s", err.field,
                 err.what ? err.what : "");
    cr_assert_str_eq(field_of(&out, 0, "source.resource"), "Goal");
}

Test(fhir, a_functional_assessment_joins_no_loose_screening)
{
    /* an HVS item and the functional goal of one patient, loose in one
     * transaction: the screening holds the HVS item alone */
    const char *b =
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"h\","
        "\"status\":\"final\",\"subject\":{\"reference\":\"Patient/p1\"},"
        "\"category\":[" CAT(OBS_CATS, "survey") "],"
        "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
        "\"code\":\"88122-7\"}]},\"valueCodeableConcept\":{\"coding\":"
        "[{\"system\":\"http://loinc.org\",\"code\":\"LA28398-8\"}]}}},"
        "{\"resource\":" FUNC_OBS("functional-status") "}]}";
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    cr_assert_eq(run(b, &out, &res, &err), HUB_OK, "%s %s", err.field,
                 err.what ? err.what : "");
    cr_assert_eq(out.n, 1, "completed, never true: negative");
    cr_assert_str_eq(field_of(&out, 0, "screening.items.0.question"),
                     "88122-7");
    cr_assert_str_eq(field_of(&out, 0, "screening.items.1.question"),
                     "88124-3", "the hub's HVS risk from it");
    cr_assert_str_eq(field_of(&out, 0, "screening.items.2"), "(absent)");
    char *ev = strndup(out.ev[0].json.p, out.ev[0].json.len);
    cr_assert_null(strstr(ev, "89381-8"), "the functional goal is no item");
    free(ev);
    cr_assert_eq(res.entries[0].n_warnings, 0);
    cr_assert_eq(res.entries[1].n_events, 0);
    cr_assert_eq(res.entries[1].n_warnings, 1);
    cr_assert_str_eq(res.entries[1].warnings[0].field,
                     "entry[1].resource.category[1]");
}

/* F1941: loose screening Observations of one patient joined one screening
 * whatever their dates, dated by the first: a demo care platform's
 * transaction (round 136's robert-chen sample) sent its AHC items of
 * 2026-01-08 and an AUDIT-C score of 2026-03-15, and the score was
 * reported as screened in January. Items of the same day (effective[x],
 * else issued, as sent) still join; another day is another screening. */
#define LOOSE_HVS(id, when, q, a)                                           \
    "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"" id "\","  \
    "\"status\":\"final\",\"subject\":{\"reference\":\"Patient/p1\"},"     \
    "\"category\":[" CAT(OBS_CATS, "survey") "]," when                      \
    "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\""   \
    q "\"}]},\"valueCodeableConcept\":{\"coding\":[{\"system\":"           \
    "\"http://loinc.org\",\"code\":\"" a "\"}]}}}"
/* A derived item the dictionary computes (HVS 88124-3) sent with nothing
 * in it is no refusal (F2404): left out as if not sent, the hub's own
 * risk written in its place; a question sent empty stays declined
 * (F2123). */
#define LOOSE_EMPTY(id, q)                                                  \
    "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"" id "\","  \
    "\"status\":\"final\",\"category\":[{\"coding\":[{\"code\":"            \
    "\"survey\"}]}],\"subject\":{\"reference\":\"Patient/p1\"},"           \
    "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\""    \
    q "\"}]},\"effectiveDateTime\":\"2024-02-23\"}}"
#define LOOSE_INTERP(id, q, i)                                              \
    "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"" id "\","  \
    "\"status\":\"final\",\"category\":[{\"coding\":[{\"code\":"            \
    "\"survey\"}]}],\"subject\":{\"reference\":\"Patient/p1\"},"           \
    "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\""    \
    q "\"}]},\"effectiveDateTime\":\"2024-02-23\",\"interpretation\":"      \
    "[{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/"     \
    "v3-ObservationInterpretation\",\"code\":\"" i "\"}]}]}}"
Test(fhir, an_empty_computed_item_is_left_out_an_empty_question_declined)
{
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run(COLLECTION(LOOSE("a", "", "88122-7", "LA28397-0") ","
                                LOOSE_EMPTY("b", "88123-5") ","
                                LOOSE_EMPTY("c", "88124-3")),
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_assert_eq(out.n, 2, "completed and positive");
    cr_expect_str_eq(field_of(&out, 0, "screening.items.0.question"),
                     "88122-7");
    cr_expect_str_eq(field_of(&out, 0, "screening.items.1.question"),
                     "88123-5");
    cr_expect_str_eq(field_of(&out, 0, "screening.items.1.declined"), "true");
    cr_expect_str_eq(field_of(&out, 0, "screening.items.2.question"),
                     "88124-3");
    cr_expect_str_eq(field_of(&out, 0, "screening.items.2.answer"),
                     "LA19952-3");
    cr_expect_str_eq(field_of(&out, 0, "screening.items.2.derived"), "true");
    cr_expect_str_eq(field_of(&out, 0, "screening.items.2.declined"),
                     "(absent)");
    cr_expect_str_eq(field_of(&out, 0, "screening.items.3"), "(absent)");
    cr_expect_str_eq(field_of(&out, 0, "screening.positive_domains"),
                     "[\"food-insecurity\"]");
    /* the sender's interpretation of it, and no answer: kept for what the
     * sender said, and no refusal either */
    cr_assert_eq(run(COLLECTION(LOOSE("a", "", "88122-7", "LA28397-0") ","
                                LOOSE_INTERP("c", "88124-3", "POS")),
                     &out, NULL, &err), HUB_OK, "%s", err.field);
    cr_expect_str_eq(field_of(&out, 0, "screening.items.1.question"),
                     "88124-3");
    cr_expect_str_eq(field_of(&out, 0, "screening.items.1.sender_positive"),
                     "true");
    cr_expect_str_eq(field_of(&out, 0, "screening.items.1.declined"),
                     "(absent)");
}

Test(fhir, loose_items_of_other_days_are_other_screenings)
{
    static const struct {
        const char *json;
        size_t n;               /* screening.completed events */
        const char *first_at;
        int first_items;        /* items of the first screening */
    } cases[] = {
        /* two days: two screenings, each of its own date */
        { "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
          LOOSE_HVS("a", "\"effectiveDateTime\":\"2026-01-08\",", "88122-7",
                    "LA28397-0") ","
          LOOSE_HVS("b", "\"effectiveDateTime\":\"2026-03-15\",", "88123-5",
                    "LA28397-0") "]}",
          2, "2026-01-08", 2 },
        /* one day, other times: one screening (the HVS risk derived) */
        { "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
          LOOSE_HVS("a", "\"effectiveDateTime\":\"2026-01-08T09:00:00Z\",",
                    "88122-7", "LA28397-0") ","
          LOOSE_HVS("b", "\"issued\":\"2026-01-08T09:20:00Z\",", "88123-5",
                    "LA28397-0") "]}",
          1, "2026-01-08T09:00:00Z", 3 },
        /* neither dated: one screening, as before */
        { "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
          LOOSE_HVS("a", "", "88122-7", "LA28397-0") ","
          LOOSE_HVS("b", "", "88123-5", "LA28397-0") "]}",
          1, "(absent)", 3 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct canon_list out;
        struct hub_err err;
        arena_reset(&A);
        cr_assert_eq(run(cases[i].json, &out, NULL, &err), HUB_OK,
                     "case %zu: %s", i, err.what ? err.what : "");
        size_t n = 0, first = out.n;
        for (size_t k = 0; k < out.n; k++)
            if (strcmp(out.ev[k].type, "screening.completed") == 0 &&
                n++ == 0)
                first = k;
        cr_assert_eq(n, cases[i].n, "case %zu: %zu screenings", i, n);
        cr_assert_str_eq(field_of(&out, first, "occurred_at"),
                         cases[i].first_at, "case %zu", i);
        char path[40];
        snprintf(path, sizeof(path), "screening.items.%d",
                 cases[i].first_items);
        cr_assert_str_eq(field_of(&out, first, path), "(absent)",
                         "case %zu: items", i);
        snprintf(path, sizeof(path), "screening.items.%d",
                 cases[i].first_items - 1);
        cr_assert_str_neq(field_of(&out, first, path), "(absent)",
                          "case %zu: items", i);
    }
}
#undef LOOSE_HVS

/* F1160: eCR's US Public Health Characteristics of Home Environment
 * (HL7/case-reporting) sends LOINC 75274-1 "Characteristics of residence"
 * valued 32911000 "Homeless" with no category at all. The code says it is
 * social history, as C-CDA's 4.109 template does (F1001): the same
 * homelessness screening as with a category, alone and inside a document
 * Bundle (where it was context, no event). A value of no domain, or
 * another code with the same value and no category, stays no screening. */
#define HOME_ENV(val)                                                       \
    "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":"      \
    "\"75274-1\"}]},\"valueCodeableConcept\":{\"coding\":[{\"system\":"     \
    "\"http://snomed.info/sct\",\"code\":\"" val "\"}]}"
Test(fhir, a_home_environment_that_says_homeless_needs_no_category)
{
    struct canon_list out;
    struct hub_err err;
    cr_assert_eq(run(OBS(HOME_ENV("32911000")), &out, NULL, &err), HUB_OK);
    cr_assert_eq(out.n, 2);
    cr_assert_str_eq(out.ev[1].type, "screening.positive");
    cr_assert_str_eq(field_of(&out, 0, "screening.items.0.question"),
                     "75274-1");
    cr_assert_str_eq(field_of(&out, 0, "screening.items.0.domain"),
                     "homelessness");
    cr_assert_str_eq(field_of(&out, 0, "screening.items.0.asserted"), "true");
    cr_assert_str_eq(field_of(&out, 1, "screening.positive_domains"),
                     "[\"homelessness\"]");

    const char *doc =
        "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":["
        "{\"fullUrl\":\"urn:uuid:1\",\"resource\":" OBS(HOME_ENV("32911000"))
        "}]}";
    cr_assert_eq(run(doc, &out, NULL, &err), HUB_OK);
    cr_assert_eq(out.n, 2);
    cr_assert_str_eq(field_of(&out, 1, "screening.positive_domains"),
                     "[\"homelessness\"]");

    /* 308899009 "Unsatisfactory living conditions": in no table */
    cr_assert_eq(run(OBS(HOME_ENV("308899009")), &out, NULL, &err),
                 HUB_EUNSUPPORTED);
    cr_assert_eq(run(OBS("\"code\":{\"coding\":[{\"system\":"
                         "\"http://loinc.org\",\"code\":\"8302-2\"}]},"
                         "\"valueCodeableConcept\":{\"coding\":[{\"system\":"
                         "\"http://snomed.info/sct\",\"code\":\"32911000\"}]}"),
                     &out, NULL, &err),
                 HUB_EUNSUPPORTED);
}

/* F1383: the Gravity Patient App RI's referral outcome form
 * (components/referrals/ReferralOutcome.tsx) answers its own feedback
 * questions under Hunger Vital Sign link ids, Yes/No (LA33-6/LA32-8),
 * with no `questionnaire`. No answer is one the dictionary lists for its
 * question: the link ids alone do not make it a Hunger Vital Sign, and
 * no item gets the food-insecurity domain. Before, it was a Hunger Vital
 * Sign screening.completed whose items were in food-insecurity, which a
 * food-insecurity subscription on screening.completed matched. */
#define FEEDBACK_ITEM(link, ans)                                            \
    "{\"linkId\":\"" link "\",\"text\":\"x\",\"answer\":[{\"valueCoding\":" \
    "{\"system\":\"http://loinc.org\",\"code\":\"" ans "\"}}]}"
#define FEEDBACK_QR(qn, items)                                              \
    "{\"resourceType\":\"QuestionnaireResponse\",\"status\":\"completed\"," \
    qn "\"subject\":{\"reference\":\"Patient/p1\"},\"authored\":"         \
    "\"2024-03-01T10:00:00Z\",\"source\":{\"reference\":\"Patient/p1\"},"   \
    "\"item\":[" items "]}"
Test(fhir, referral_feedback_under_hvs_link_ids_is_no_food_screening)
{
    struct canon_list out;
    struct hub_err err;
    static const char *const bodies[] = {
        FEEDBACK_QR("", FEEDBACK_ITEM("/88122-7", "LA32-8") ","
                    FEEDBACK_ITEM("/88124-3", "LA33-6") ","
                    FEEDBACK_ITEM("/88124-3", "LA33-6")),
        FEEDBACK_QR("", FEEDBACK_ITEM("/88122-7", "LA33-6") ","
                    FEEDBACK_ITEM("/88124-3", "LA32-8")),
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        cr_assert_eq(run(bodies[i], &out, NULL, &err), HUB_OK, "body %zu", i);
        cr_assert_eq(out.n, 0, "body %zu", i);
    }
}

/* F1383's rule is the response's, not the item's: a Hunger Vital Sign
 * with one listed answer (Often true) and one unlisted (LA32-8) is still
 * inferred and scored, positive on the listed one, and a response that
 * names the Hunger Vital Sign's Questionnaire is read as it was. */
Test(fhir, an_hvs_with_one_unlisted_answer_is_still_a_screening)
{
    struct canon_list out;
    struct hub_err err;
    static const char *const bodies[] = {
        FEEDBACK_QR("", FEEDBACK_ITEM("/88122-7", "LA28397-0") ","
                    FEEDBACK_ITEM("/88123-5", "LA32-8")),
        FEEDBACK_QR("\"questionnaire\":\"http://loinc.org/q/88121-9\",",
                    FEEDBACK_ITEM("/88122-7", "LA32-8") ","
                    FEEDBACK_ITEM("/88124-3", "LA33-6")),
    };
    cr_assert_eq(run(bodies[0], &out, NULL, &err), HUB_OK);
    cr_assert_eq(out.n, 2);
    cr_assert_str_eq(out.ev[1].type, "screening.positive");
    cr_assert_str_eq(field_of(&out, 0, "screening.instrument"), "88121-9");
    cr_assert_str_eq(field_of(&out, 0, "screening.items.0.positive"), "true");
    cr_assert_str_eq(field_of(&out, 0, "screening.items.1.domain"),
                     "food-insecurity");
    cr_assert_str_eq(field_of(&out, 0, "screening.items.1.positive"),
                     "(absent)");
    cr_assert_str_eq(field_of(&out, 0, "screening.positive_domains"),
                     "[\"food-insecurity\"]");
    cr_assert_eq(run(bodies[1], &out, NULL, &err), HUB_OK);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(field_of(&out, 0, "screening.instrument"), "88121-9");
    cr_assert_str_eq(field_of(&out, 0, "screening.items.0.domain"),
                     "food-insecurity");
}

/* F1943, decided (F2040): an item of a question the dictionary knows,
 * answered only by free text (valueString) or by an answer its list does
 * not have, counts its domain as screened; it is not positive. A declined
 * item (dataAbsentReason asked-declined) still screens nothing. */
#define TEXT_ITEM(link, val)                                                \
    "{\"linkId\":\"" link "\",\"text\":\"x\",\"answer\":[{\"valueString\":" \
    "\"" val "\"}]}"
Test(fhir, an_item_answered_only_by_text_screens_its_domain)
{
    struct canon_list out;
    struct hub_err err;
    static const char body[] = FEEDBACK_QR(
        "", TEXT_ITEM("/71802-3", "Stable - rents apartment") ","
            FEEDBACK_ITEM("/88122-7", "LA99999-9") ","
            FEEDBACK_ITEM("/93030-5", "LA32-8") ","
            "{\"linkId\":\"/96779-4\",\"text\":\"x\"}");
    cr_assert_eq(run(body, &out, NULL, &err), HUB_OK, "%s", err.what);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(out.ev[0].type, "screening.completed");
    cr_assert_str_eq(field_of(&out, 0, "screening.items.0.domain"),
                     "housing-instability");
    cr_assert_str_eq(field_of(&out, 0, "screening.items.0.positive"),
                     "(absent)");
    cr_assert_str_eq(field_of(&out, 0, "screening.domains"),
                     "[\"transportation-insecurity\",\"housing-instability\","
                     "\"food-insecurity\"]");
    cr_assert_str_eq(field_of(&out, 0, "screening.positive_domains"), "[]");
}

/* F1904, decided (F2041): an absolute conditional reference on a Task's
 * owner or requester, or a ServiceRequest's requester or performer, is
 * one search the hub does not run, as the relative one is: refused in
 * the patient's words (it was written as the referral's performer, URL,
 * search and all), where the relative one is refused, as an error. */
Test(fhir, an_absolute_conditional_org_reference_is_refused_as_the_relative_one)
{
    static const char *const absr[] = {
        "https://x/fhir/Organization?identifier=http://x/org|1",
        "http://x/Organization?identifier=a%7C1",
    };
    static const struct {
        const char *pre, *post, *field;
    } at[] = {
        { "{\"resourceType\":\"Task\",\"status\":\"accepted\",\"intent\":"
          "\"order\",\"focus\":{\"reference\":\"ServiceRequest/s\"},\"for\":"
          "{\"reference\":\"Patient/p\"},\"owner\":{\"reference\":\"", "\"}}",
          "Task.owner.reference" },
        { "{\"resourceType\":\"Task\",\"status\":\"accepted\",\"intent\":"
          "\"order\",\"focus\":{\"reference\":\"ServiceRequest/s\"},\"for\":"
          "{\"reference\":\"Patient/p\"},\"requester\":{\"reference\":\"", "\"}}",
          "Task.requester.reference" },
        { "{\"resourceType\":\"ServiceRequest\",\"id\":\"s\",\"status\":"
          "\"active\",\"intent\":\"order\",\"subject\":{\"reference\":"
          "\"Patient/p\"},\"requester\":{\"reference\":\"", "\"}}",
          "ServiceRequest.requester.reference" },
        { "{\"resourceType\":\"ServiceRequest\",\"id\":\"s\",\"status\":"
          "\"active\",\"intent\":\"order\",\"subject\":{\"reference\":"
          "\"Patient/p\"},\"performer\":[{\"reference\":\"", "\"}]}",
          "ServiceRequest.performer[0].reference" },
    };
    char j[1024];
    struct canon_list out;
    struct hub_err err;
    for (size_t k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
        /* the relative one, as today */
        snprintf(j, sizeof(j), "%s%s%s", at[k].pre, "Organization?identifier=a|1",
                 at[k].post);
        cr_assert_eq(run(j, &out, NULL, &err), HUB_EINVALID, "%s", j);
        cr_assert_str_eq(err.field, at[k].field);
        for (size_t i = 0; i < sizeof(absr) / sizeof(absr[0]); i++) {
            snprintf(j, sizeof(j), "%s%s%s", at[k].pre, absr[i], at[k].post);
            cr_assert_eq(run(j, &out, NULL, &err), HUB_EINVALID, "%s", j);
            cr_assert_str_eq(err.field, at[k].field, "%s", j);
            cr_assert_str_eq(err.what,
                             "conditional reference is absolute: R4 defines "
                             "only relative ones (Type?identifier=...)");
        }
    }
    /* an absolute URL with no search is still read, as its Type/id */
    snprintf(j, sizeof(j), "%s%s%s", at[0].pre,
             "https://x/fhir/Organization/o1", at[0].post);
    cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "%s", err.what);
    cr_assert_str_eq(field_of(&out, 0, "referral.performer"),
                     "Organization/o1");
}

/* F2521: a FHIR Goal that says nothing (lifecycleStatus and a subject, no
 * description text or coding, no target, no id) is no goal.updated, as the
 * C-CDA goal of nullFlavors alone is none: Goal.description is 1..1, so the
 * resource is refused at it (in a batch, that entry alone). C-CDA's goal
 * is conformant with its nullFlavors, so there it is left out with a
 * warning instead. This pins the agreement; nothing changed here. */
Test(fhir, a_goal_that_says_nothing_is_no_goal)
{
    static const char *const silent[] = {
        "{\"resourceType\":\"Goal\",\"lifecycleStatus\":\"active\","
        "\"subject\":{\"reference\":\"Patient/p\"}}",
        "{\"resourceType\":\"Goal\",\"lifecycleStatus\":\"active\","
        "\"description\":{},\"subject\":{\"reference\":\"Patient/p\"}}",
        "{\"resourceType\":\"Goal\",\"lifecycleStatus\":\"active\","
        "\"description\":{\"coding\":[{\"system\":\"http://loinc.org\"}]},"
        "\"subject\":{\"reference\":\"Patient/p\"}}",
    };
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    for (size_t i = 0; i < sizeof(silent) / sizeof(silent[0]); i++) {
        cr_expect_eq(run(silent[i], &out, NULL, &err), HUB_EINVALID,
                     "case %zu", i);
        cr_expect_str_eq(err.field, "Goal.description", "case %zu", i);
        cr_expect_eq(out.n, 0, "case %zu", i);
    }
    char j[1024];
    snprintf(j, sizeof(j),
             "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
             "{\"resource\":%s},{\"resource\":" GOAL_X
             "\"subject\":{\"reference\":\"Patient/p\"}}}]}", silent[0]);
    cr_assert_eq(run(j, &out, &res, &err), HUB_OK, "%s", err.field);
    cr_expect_eq(res.n_failed, 1);
    cr_expect_eq(out.n, 1, "the goal that says something");
}

/* Round 190's probe of F2960 with two patients in the message: the
 * identifier the Task's Patient lists is that Patient whether the Task
 * names it by its urn or by the Type/urn:uuid: slip, in either order of
 * the entries; the identifier the other Patient lists is the other
 * patient: the Procedure is read on its own, with the warning (passes as
 * written: kept). */
Test(fhir, an_identifier_a_patient_lists_is_that_patient_among_two)
{
    static const char pats[] =
        "{\"fullUrl\":\"urn:uuid:p1\",\"resource\":{\"resourceType\":"
        "\"Patient\",\"id\":\"p1\",\"identifier\":[{\"system\":"
        "\"urn:oid:1.2.3\",\"value\":\"MRN9\"}]}},"
        "{\"fullUrl\":\"urn:uuid:p2\",\"resource\":{\"resourceType\":"
        "\"Patient\",\"id\":\"p2\",\"identifier\":[{\"system\":"
        "\"urn:oid:1.2.3\",\"value\":\"MRN8\"}]}}";
    /* the referral: its request and the Task, for the same patient */
    static const char task_fmt[] =
        "{\"fullUrl\":\"urn:uuid:s\",\"resource\":{\"resourceType\":"
        "\"ServiceRequest\",\"id\":\"s\",\"status\":\"active\",\"intent\":"
        "\"order\",\"code\":{\"coding\":[{\"system\":\"http://snomed.info/sct\","
        "\"code\":\"464131000124100\"}]},\"subject\":{\"reference\":\"%s\"}}},"
        "{\"fullUrl\":\"urn:uuid:t\",\"resource\":{\"resourceType\":\"Task\","
        "\"id\":\"t\",\"status\":\"completed\",\"intent\":\"order\","
        "\"focus\":{\"reference\":\"urn:uuid:s\"},"
        "\"for\":{\"reference\":\"%s\"},\"output\":[{\"type\":{\"text\":"
        "\"x\"},\"valueReference\":{\"reference\":\"urn:uuid:pr\"}}]}}";
    static const char pr[] =
        "{\"fullUrl\":\"urn:uuid:pr\",\"resource\":{\"resourceType\":"
        "\"Procedure\",\"id\":\"pr\",\"status\":\"completed\",\"subject\":"
        "{\"identifier\":{\"system\":\"urn:oid:1.2.3\",\"value\":"
        "\"MRN9\"}}}}";
    static const struct { const char *task_for; bool folded; } cases[] = {
        { "urn:uuid:p1", true },
        { "Patient/urn:uuid:p1", true },
        { "urn:uuid:p2", false },
        { "Patient/urn:uuid:p2", false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        for (size_t k = 0; k < 2; k++) {
            char task[2048], j[8192];
            struct canon_list out;
            struct hub_err err;
            snprintf(task, sizeof(task), task_fmt, cases[i].task_for,
                     cases[i].task_for);
            snprintf(j, sizeof(j), "{\"resourceType\":\"Bundle\",\"type\":"
                     "\"collection\",\"entry\":[%s,%s,%s]}", pats,
                     k ? pr : task, k ? task : pr);
            cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "%s %s",
                         err.field, err.what);
            /* referral.created and .updated, the Procedure in it; or
             * beside them its own careplan.updated */
            cr_expect_eq(out.n, cases[i].folded ? 2 : 3, "%s order %zu: %zu",
                         cases[i].task_for, k, out.n);
            bool warned = false;
            for (size_t e = 0; e < out.n; e++)
                warned = warned ||
                         strstr(field_of(&out, e, "warnings"),
                                "procedure names another patient");
            cr_expect_eq(warned, !cases[i].folded, "%s order %zu",
                         cases[i].task_for, k);
        }
}

/* F3023: a referral Task with no `for` is its focus request's patient's;
 * a focus written by the Type/urn:uuid: slip names that request as the
 * urn does (F2981's look-up), so a Procedure of another patient in its
 * output is read on its own, with the warning: it was found no request,
 * so any patient's Procedure was the referral's, folded into it. */
Test(fhir, a_task_focus_named_by_the_slip_holds_its_procedures_to_the_patient)
{
    static const char rest[] =
        "{\"fullUrl\":\"urn:uuid:p1\",\"resource\":{\"resourceType\":"
        "\"Patient\",\"id\":\"p1\"}},"
        "{\"fullUrl\":\"urn:uuid:p2\",\"resource\":{\"resourceType\":"
        "\"Patient\",\"id\":\"p2\"}},"
        "{\"fullUrl\":\"urn:uuid:s\",\"resource\":{\"resourceType\":"
        "\"ServiceRequest\",\"id\":\"s\",\"status\":\"active\",\"intent\":"
        "\"order\",\"code\":{\"coding\":[{\"system\":"
        "\"http://snomed.info/sct\",\"code\":\"464131000124100\"}]},"
        "\"subject\":{\"reference\":\"urn:uuid:p1\"}}},"
        "{\"fullUrl\":\"urn:uuid:pr\",\"resource\":{\"resourceType\":"
        "\"Procedure\",\"id\":\"pr\",\"status\":\"completed\",\"subject\":"
        "{\"reference\":\"urn:uuid:p2\"}}}";
    static const char task_fmt[] =
        "{\"fullUrl\":\"urn:uuid:t\",\"resource\":{\"resourceType\":\"Task\","
        "\"id\":\"t\",\"status\":\"completed\",\"intent\":\"order\","
        "\"focus\":{\"reference\":\"%s\"},\"output\":[{\"type\":{\"text\":"
        "\"x\"},\"valueReference\":{\"reference\":\"urn:uuid:pr\"}}]}}";
    static const char *const focus[] = { "urn:uuid:s",
                                         "ServiceRequest/urn:uuid:s" };
    for (size_t i = 0; i < 2; i++)
        for (size_t k = 0; k < 2; k++) {
            char task[1024], j[4096];
            struct canon_list out;
            struct hub_err err;
            snprintf(task, sizeof(task), task_fmt, focus[i]);
            snprintf(j, sizeof(j), "{\"resourceType\":\"Bundle\",\"type\":"
                     "\"collection\",\"entry\":[%s,%s]}", k ? task : rest,
                     k ? rest : task);
            cr_assert_eq(run(j, &out, NULL, &err), HUB_OK, "%s %s",
                         err.field, err.what);
            /* referral.created, .updated, and the Procedure's own */
            cr_expect_eq(out.n, 3, "%s order %zu: %zu events", focus[i], k,
                         out.n);
            bool warned = false, performed = false;
            for (size_t e = 0; e < out.n; e++) {
                warned = warned ||
                         strstr(field_of(&out, e, "warnings"),
                                "procedure names another patient");
                performed = performed ||
                            strcmp(field_of(&out, e,
                                            "referral.performed.0.procedure"),
                                   "Procedure/pr") == 0;
            }
            cr_expect(warned, "%s order %zu: warned", focus[i], k);
            cr_expect(!performed, "%s order %zu: folded", focus[i], k);
        }
}

/*
 * fhir_notify_test.c - the Da Vinci Unsolicited Notifications message
 * (F3080, F3160): the Encounter a notification-admit, -discharge or
 * -transfer MessageHeader names in focus gives adt.admit, adt.discharge
 * or adt.transfer with the encounter body HL7 v2 ADT gives for the same
 * visit, member by member; any other Encounter stays context (F516).
 */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dict.h"
#include "fhir/fhir.h"
#include "hl7v2/hl7v2.h"
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

TestSuite(fhir_notify, .init = setup, .fini = teardown);

#define EVENT_SYSTEM \
    "http://hl7.org/fhir/us/davinci-alerts/CodeSystem/notification-event"
#define V2_0203 "http://terminology.hl7.org/CodeSystem/v2-0203"
#define PHYS "http://terminology.hl7.org/CodeSystem/location-physical-type"

/* The entries every message here carries beside its Encounter: the
 * patient, the attending, the bed in its room, ward and site, the
 * hospital, and an encounter-diagnosis Condition (Z59.01) of the visit */
#define CONTEXT_ENTRIES \
    "{\"fullUrl\":\"https://ex.org/fhir/Patient/p1\",\"resource\":{" \
    "\"resourceType\":\"Patient\",\"id\":\"p1\",\"identifier\":[{\"system\":" \
    "\"urn:oid:1.2.3\",\"type\":{\"coding\":[{\"system\":\"" V2_0203 "\"," \
    "\"code\":\"MR\"}]},\"value\":\"MRN1\"}],\"name\":[{\"family\":\"Doe\"," \
    "\"given\":[\"Jo\"]}],\"birthDate\":\"1980-01-31\",\"gender\":" \
    "\"female\"}}," \
    "{\"fullUrl\":\"https://ex.org/fhir/Patient/p2\",\"resource\":{" \
    "\"resourceType\":\"Patient\",\"id\":\"p2\",\"identifier\":[{\"system\":" \
    "\"urn:oid:1.2.3\",\"value\":\"MRN2\"}]}}," \
    "{\"fullUrl\":\"https://ex.org/fhir/Practitioner/d1\",\"resource\":{" \
    "\"resourceType\":\"Practitioner\",\"id\":\"d1\",\"identifier\":[{" \
    "\"system\":\"urn:oid:9.9\",\"value\":\"L7\"},{\"system\":" \
    "\"http://hl7.org/fhir/sid/us-npi\",\"value\":\"1234567893\"}]," \
    "\"name\":[{\"family\":\"Smith\",\"given\":[\"Ann\",\"B\"]}]}}," \
    "{\"fullUrl\":\"https://ex.org/fhir/Location/bed1\",\"resource\":{" \
    "\"resourceType\":\"Location\",\"id\":\"bed1\",\"name\":\"1\"," \
    "\"physicalType\":{\"coding\":[{\"system\":\"" PHYS "\",\"code\":" \
    "\"bd\"}]},\"partOf\":{\"reference\":\"Location/room1\"}}}," \
    "{\"fullUrl\":\"https://ex.org/fhir/Location/room1\",\"resource\":{" \
    "\"resourceType\":\"Location\",\"id\":\"room1\",\"name\":\"101\"," \
    "\"physicalType\":{\"coding\":[{\"system\":\"" PHYS "\",\"code\":" \
    "\"ro\"}]},\"partOf\":{\"reference\":\"Location/ward1\"}}}," \
    "{\"fullUrl\":\"https://ex.org/fhir/Location/ward1\",\"resource\":{" \
    "\"resourceType\":\"Location\",\"id\":\"ward1\",\"name\":\"4W\"," \
    "\"physicalType\":{\"coding\":[{\"system\":\"" PHYS "\",\"code\":" \
    "\"wa\"}]},\"partOf\":{\"reference\":\"Location/site1\"}}}," \
    "{\"fullUrl\":\"https://ex.org/fhir/Location/site1\",\"resource\":{" \
    "\"resourceType\":\"Location\",\"id\":\"site1\",\"name\":\"GENERAL\"," \
    "\"physicalType\":{\"coding\":[{\"system\":\"" PHYS "\",\"code\":" \
    "\"si\"}]}}}," \
    "{\"fullUrl\":\"https://ex.org/fhir/Location/er\",\"resource\":{" \
    "\"resourceType\":\"Location\",\"id\":\"er\",\"name\":\"ER\"," \
    "\"physicalType\":{\"coding\":[{\"system\":\"" PHYS "\",\"code\":" \
    "\"wa\"}]}}}," \
    "{\"fullUrl\":\"https://ex.org/fhir/Organization/o1\",\"resource\":{" \
    "\"resourceType\":\"Organization\",\"id\":\"o1\",\"name\":" \
    "\"GENERAL HOSPITAL\"}}," \
    "{\"fullUrl\":\"https://ex.org/fhir/Condition/c1\",\"resource\":{" \
    "\"resourceType\":\"Condition\",\"id\":\"c1\",\"subject\":{" \
    "\"reference\":\"Patient/p1\"},\"encounter\":{\"reference\":" \
    "\"Encounter/e1\"},\"category\":[{\"coding\":[{\"system\":" \
    "\"http://terminology.hl7.org/CodeSystem/condition-category\"," \
    "\"code\":\"encounter-diagnosis\"}]}],\"code\":{\"coding\":[{" \
    "\"system\":\"http://hl7.org/fhir/sid/icd-10-cm\",\"code\":\"Z59.01\"," \
    "\"display\":\"Sheltered homelessness\"}]},\"recordedDate\":" \
    "\"2026-01-15\"}}"

/* The Encounter's members every message here has: visit number,
 * patient, attending, service */
#define ENCOUNTER_HEAD \
    "\"resourceType\":\"Encounter\",\"id\":\"e1\",\"identifier\":[{" \
    "\"system\":\"urn:oid:1.2.3.4\",\"type\":{\"coding\":[{\"system\":\"" \
    V2_0203 "\",\"code\":\"AN\"}]},\"value\":\"ACC9\"},{\"system\":" \
    "\"urn:oid:1.2.3.5\",\"type\":{\"coding\":[{\"system\":\"" V2_0203 \
    "\",\"code\":\"VN\"}]},\"value\":\"V100\"}],\"subject\":{" \
    "\"reference\":\"Patient/p1\"},\"participant\":[{\"type\":[{" \
    "\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/" \
    "v3-ParticipationType\",\"code\":\"ATND\"}]}],\"individual\":{" \
    "\"reference\":\"Practitioner/d1\"}}],\"serviceType\":{\"coding\":[{" \
    "\"code\":\"MED\"}]},\"serviceProvider\":{\"reference\":" \
    "\"Organization/o1\"}"

#define ADMIT_ENCOUNTER \
    "{" ENCOUNTER_HEAD ",\"status\":\"in-progress\",\"class\":{\"system\":" \
    "\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":" \
    "\"IMP\"},\"period\":{\"start\":\"2026-01-15T08:00:00-05:00\"}," \
    "\"location\":[{\"location\":{\"reference\":\"Location/bed1\"}," \
    "\"status\":\"active\"}],\"diagnosis\":[{\"condition\":{\"reference\":" \
    "\"Condition/c1\"},\"use\":{\"coding\":[{\"system\":\"http://" \
    "terminology.hl7.org/CodeSystem/diagnosis-role\",\"code\":\"AD\"}]}}]}"

/* A notification message of event `code` (in `system`) whose header
 * names `focus`, with the Encounter `enc` and the context entries */
static const char *message(const char *type, const char *system,
                           const char *code, const char *focus,
                           const char *enc)
{
    size_t n = strlen(enc) + strlen(CONTEXT_ENTRIES) + 1024;
    char *s = arena_alloc(&A, n);
    snprintf(s, n,
             "{\"resourceType\":\"Bundle\",\"id\":\"m1\",\"type\":\"%s\","
             "\"timestamp\":\"2026-01-15T09:30:00-05:00\",\"entry\":["
             "{\"fullUrl\":\"urn:uuid:1b0e7bd8-0d1c-4e0f-9a44-3f7a5d3c2b10\","
             "\"resource\":{\"resourceType\":\"MessageHeader\",\"id\":\"h1\","
             "\"eventCoding\":{\"system\":\"%s\",\"code\":\"%s\"},"
             "\"source\":{\"endpoint\":\"https://ex.org/src\"},"
             "\"focus\":[{\"reference\":\"%s\"}]}},"
             "{\"fullUrl\":\"https://ex.org/fhir/Encounter/e1\","
             "\"resource\":%s},%s]}",
             type, system, code, focus, enc, CONTEXT_ENTRIES);
    return s;
}

static const char *notification(const char *code, const char *enc)
{
    return message("message", EVENT_SYSTEM, code, "Encounter/e1", enc);
}

/* The events of a FHIR body the adapter accepts */
static struct canon_list fhir_events(const char *body)
{
    struct canon_list out = { 0 };
    struct hub_err err;
    int rc = fhir_to_events(&A, D, body, strlen(body), &out, NULL, &err);
    cr_assert_eq(rc, HUB_OK, "refused: %s at %s: %s", hub_strerror(rc),
                 err.field, err.what ? err.what : "");
    return out;
}

/* The event of type `type` among them (the caller deletes it), or NULL */
static cJSON *event_of_type(const struct canon_list *l, const char *type)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->ev[i].type, type) == 0)
            return cJSON_ParseWithLength(l->ev[i].json.p,
                                         l->ev[i].json.len);
    return NULL;
}

static size_t count_prefix(const struct canon_list *l, const char *prefix)
{
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        n += strncmp(l->ev[i].type, prefix, strlen(prefix)) == 0;
    return n;
}

/* The value at a dotted path ("encounter.diagnoses.0.code"), as text;
 * NULL when absent */
static const char *at(const cJSON *j, const char *path)
{
    char key[128];
    for (const char *p = path; j && *p;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        snprintf(key, sizeof(key), "%.*s", (int)n, p);
        j = key[0] >= '0' && key[0] <= '9'
                ? cJSON_GetArrayItem(j, (int)strtol(key, NULL, 10))
                : cJSON_GetObjectItemCaseSensitive(j, key);
        p += n + (dot != NULL);
    }
    return cJSON_GetStringValue(j);
}

static bool has_warning(const cJSON *ev, const char *field, const char *what)
{
    const cJSON *ws = cJSON_GetObjectItemCaseSensitive(ev, "warnings");
    for (const cJSON *w = ws ? ws->child : NULL; w; w = w->next)
        if (strcmp(at(w, "field"), field) == 0 &&
            strstr(at(w, "what"), what))
            return true;
    return false;
}

/* ---- one admission, both ways ---- */

/* The same admission as HL7 v2 ADT^A01 sends it */
#define A01 \
    "MSH|^~\\&|APP|FAC|HUB|HUB|20260115093000-0500||ADT^A01|C1|P|2.5\r" \
    "EVN|A01|20260115080000-0500\r" \
    "PID|1||MRN1^^^FAC^MR||Doe^Jo||19800131|F\r" \
    "PV1|1|I|4W^101^1^GENERAL||||1234567893^Smith^Ann|||MED|||||||||V100" \
    "|||||||||||||||||||||||||20260115080000-0500\r" \
    "DG1|1||Z59.01^Sheltered homelessness^I10|||A\r"

Test(fhir_notify, an_admit_message_gives_the_encounter_hl7_v2_a01_gives)
{
    struct hl7_msg *m;
    struct canon_list hl = { 0 };
    struct hub_err err;
    cr_assert_eq(hl7_parse(&A, A01, strlen(A01), &m, &err), HUB_OK);
    cr_assert_eq(hl7_to_events_dict(&A, D, m, &hl, NULL, &err), HUB_OK);
    cJSON *v2 = event_of_type(&hl, "adt.admit");
    struct canon_list fl =
        fhir_events(notification("notification-admit", ADMIT_ENCOUNTER));
    cJSON *fh = event_of_type(&fl, "adt.admit");
    cr_assert_not_null(v2);
    cr_assert_not_null(fh, "no adt.admit from the notification");
    /* every member both formats carry; the diagnosis system is each
     * format's own name (I10, a URI: F515) */
    static const char *const same[] = {
        "occurred_at",
        "patient.names.0.family", "patient.names.0.given.0",
        "patient.birth_date", "patient.sex",
        "encounter.patient_class", "encounter.class", "encounter.facility",
        "encounter.location.point_of_care", "encounter.location.room",
        "encounter.location.bed", "encounter.location.facility",
        "encounter.attending.0.id", "encounter.attending.0.family",
        "encounter.attending.0.given", "encounter.hospital_service",
        "encounter.admitted_at", "encounter.visit_number",
        "encounter.diagnoses.0.code", "encounter.diagnoses.0.display",
        "encounter.diagnoses.0.type", "encounter.diagnoses.0.domain",
    };
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        const char *a = at(v2, same[i]), *b = at(fh, same[i]);
        cr_assert_not_null(a, "HL7 v2 has no %s", same[i]);
        cr_assert_not_null(b, "FHIR has no %s (HL7 v2: %s)", same[i], a);
        cr_assert_str_eq(b, a, "%s", same[i]);
    }
    cr_assert_str_eq(at(fh, "encounter.patient_class"), "I");
    cr_assert_str_eq(at(fh, "encounter.facility"), "GENERAL");
    cr_assert_str_eq(at(fh, "encounter.visit_number"), "V100");
    cr_assert_str_eq(at(fh, "encounter.id"), "Encounter/e1");
    cr_assert_str_eq(at(fh, "encounter.diagnoses.0.domain"), "homelessness");
    cr_assert_null(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
                       cJSON_GetObjectItemCaseSensitive(fh, "encounter"),
                       "diagnoses"), 1),
                   "the Condition is told once (named twice)");
    cr_assert_str_eq(at(fh, "source.resource"), "Encounter/e1");
    /* the Condition still gives its own event */
    cr_assert_eq(fl.n, 2);
    cJSON *cond = event_of_type(&fl, "condition.recorded");
    cr_assert_not_null(cond);
    cJSON_Delete(cond);
    cJSON_Delete(v2);
    cJSON_Delete(fh);
}

/* ---- discharge and transfer ---- */

Test(fhir_notify, a_discharge_message_gives_adt_discharge_at_the_visit_end)
{
    static const char enc[] =
        "{" ENCOUNTER_HEAD ",\"status\":\"finished\",\"class\":{\"system\":"
        "\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":"
        "\"EMER\"},\"period\":{\"start\":\"2026-01-15T08:00:00-05:00\","
        "\"end\":\"2026-01-17T11:00:00-05:00\"},\"hospitalization\":{"
        "\"dischargeDisposition\":{\"coding\":[{\"system\":\"http://"
        "terminology.hl7.org/CodeSystem/discharge-disposition\",\"code\":"
        "\"home\"}]}},\"location\":[{\"location\":{\"reference\":"
        "\"Location/er\"}}]}";
    struct canon_list l = fhir_events(notification("notification-discharge",
                                                   enc));
    cJSON *ev = event_of_type(&l, "adt.discharge");
    cr_assert_not_null(ev);
    cr_assert_str_eq(at(ev, "occurred_at"), "2026-01-17T11:00:00-05:00");
    cr_assert_str_eq(at(ev, "encounter.discharged_at"),
                     "2026-01-17T11:00:00-05:00");
    cr_assert_str_eq(at(ev, "encounter.admitted_at"),
                     "2026-01-15T08:00:00-05:00");
    cr_assert_str_eq(at(ev, "encounter.discharge_disposition"), "home");
    cr_assert_str_eq(at(ev, "encounter.patient_class"), "E");
    cr_assert_str_eq(at(ev, "encounter.class"), "EMER");
    cr_assert_str_eq(at(ev, "encounter.location.point_of_care"), "ER");
    /* no site in the location: the servicing facility */
    cr_assert_str_eq(at(ev, "encounter.facility"), "GENERAL HOSPITAL");
    /* the encounter-diagnosis Condition that names this Encounter */
    cr_assert_str_eq(at(ev, "encounter.diagnoses.0.code"), "Z59.01");
    cr_assert_null(at(ev, "encounter.diagnoses.0.type"));
    cJSON_Delete(ev);
}

Test(fhir_notify, a_transfer_message_names_where_the_patient_was)
{
    static const char enc[] =
        "{" ENCOUNTER_HEAD ",\"status\":\"in-progress\",\"class\":{"
        "\"code\":\"IMP\"},\"period\":{\"start\":\"2026-01-15T08:00:00-05:00"
        "\"},\"location\":[{\"location\":{\"reference\":\"Location/er\"},"
        "\"status\":\"completed\",\"period\":{\"end\":\"2026-01-16T10:00:00"
        "-05:00\"}},{\"location\":{\"reference\":\"Location/bed1\"},"
        "\"status\":\"active\",\"period\":{\"start\":\"2026-01-16T10:05:00"
        "-05:00\"}}]}";
    struct canon_list l = fhir_events(notification("notification-transfer",
                                                   enc));
    cJSON *ev = event_of_type(&l, "adt.transfer");
    cr_assert_not_null(ev);
    cr_assert_str_eq(at(ev, "occurred_at"), "2026-01-16T10:05:00-05:00");
    cr_assert_str_eq(at(ev, "encounter.prior_location.point_of_care"), "ER");
    cr_assert_str_eq(at(ev, "encounter.location.bed"), "1");
    cr_assert_str_eq(at(ev, "encounter.location.room"), "101");
    cr_assert_str_eq(at(ev, "encounter.class"), "IMP");
    cr_assert_null(at(ev, "encounter.discharged_at"));
    cJSON_Delete(ev);
}

/* ---- what stays as it was ---- */

Test(fhir_notify, an_encounter_no_notification_names_stays_context)
{
    /* the same Encounter in a collection, under another event code, in
     * another code system, and a notification whose focus is not it */
    const char *bodies[] = {
        message("collection", EVENT_SYSTEM, "notification-admit",
                "Encounter/e1", ADMIT_ENCOUNTER),
        message("message", EVENT_SYSTEM, "notification-referral",
                "Encounter/e1", ADMIT_ENCOUNTER),
        message("message", "http://example.org/events",
                "notification-admit", "Encounter/e1", ADMIT_ENCOUNTER),
        message("message", EVENT_SYSTEM, "notification-admit",
                "Condition/c1", ADMIT_ENCOUNTER),
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        struct canon_list l = fhir_events(bodies[i]);
        cr_assert_eq(count_prefix(&l, "adt."), 0, "body %zu", i);
        cr_assert_eq(l.n, 1, "body %zu: the Condition's event alone", i);
    }
}

Test(fhir_notify, an_end_of_a_visit_still_going_on_is_no_discharge)
{
    static const char enc[] =
        "{" ENCOUNTER_HEAD ",\"status\":\"in-progress\",\"class\":{"
        "\"code\":\"AMB\"},\"period\":{\"start\":\"2026-01-15T08:00:00-05:00"
        "\",\"end\":\"2026-01-15T09:00:00-05:00\"}}";
    struct canon_list l = fhir_events(notification("notification-admit",
                                                   enc));
    cJSON *ev = event_of_type(&l, "adt.admit");
    cr_assert_not_null(ev);
    cr_assert_null(at(ev, "encounter.discharged_at"));
    cr_assert(has_warning(ev, "entry[1].resource.period.end",
                          "not finished"));
    cr_assert_str_eq(at(ev, "encounter.patient_class"), "O");
    cJSON_Delete(ev);
}

Test(fhir_notify, a_class_with_no_one_code_of_table_0004_has_none)
{
    static const char *const classes[][3] = {
        { "OBSENC", "OBSENC", NULL }, { "ACUTE", "ACUTE", NULL },
        { "PRENC", "PRENC", "P" }, { "XYZ", NULL, NULL },
    };
    for (size_t i = 0; i < 4; i++) {
        char enc[1024];
        snprintf(enc, sizeof(enc),
                 "{" ENCOUNTER_HEAD ",\"status\":\"planned\",\"class\":{"
                 "\"code\":\"%s\"}}", classes[i][0]);
        struct canon_list l = fhir_events(notification("notification-admit",
                                                       enc));
        /* planned: a pre-admission (F3305), its class as an admission's */
        cJSON *ev = event_of_type(&l, "adt.register");
        cr_assert_not_null(ev);
        const char *cls = at(ev, "encounter.class"),
                   *pc = at(ev, "encounter.patient_class");
        cr_assert(cls == classes[i][1] ||
                      (cls && classes[i][1] && !strcmp(cls, classes[i][1])),
                  "%s: class %s", classes[i][0], cls ? cls : "(none)");
        cr_assert(pc == classes[i][2] ||
                      (pc && classes[i][2] && !strcmp(pc, classes[i][2])),
                  "%s: patient_class %s", classes[i][0], pc ? pc : "(none)");
        cJSON_Delete(ev);
    }
}

Test(fhir_notify, a_diagnosis_of_another_patient_gives_nothing)
{
    static const char enc[] =
        "{\"resourceType\":\"Encounter\",\"id\":\"e1\",\"status\":"
        "\"in-progress\",\"subject\":{\"reference\":\"Patient/p2\"},"
        "\"diagnosis\":[{\"condition\":{\"reference\":\"Condition/c1\"}}]}";
    struct canon_list l = fhir_events(notification("notification-admit",
                                                   enc));
    cJSON *ev = event_of_type(&l, "adt.admit");
    cr_assert_not_null(ev);
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(ev, "encounter"), "diagnoses"));
    cr_assert(has_warning(ev, "entry[1].resource.diagnosis[0].condition",
                          "another patient"));
    cr_assert_str_eq(at(ev, "patient.identifiers.0.value"), "MRN2");
    cJSON_Delete(ev);
}

Test(fhir_notify, a_diagnosis_labels_the_event_as_its_condition_would)
{
    /* an alcohol use disorder as the admit reason (reasonCode), and the
     * Encounter's own restricted label */
    static const char enc[] =
        "{\"resourceType\":\"Encounter\",\"id\":\"e1\",\"meta\":{"
        "\"security\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/"
        "v3-Confidentiality\",\"code\":\"R\"}]},\"status\":\"arrived\","
        "\"subject\":{\"reference\":\"Patient/p1\"},\"reasonCode\":[{"
        "\"coding\":[{\"system\":\"http://hl7.org/fhir/sid/icd-10-cm\","
        "\"code\":\"F10.20\",\"display\":\"Alcohol dependence\"}]}]}";
    struct canon_list l = fhir_events(notification("notification-admit",
                                                   enc));
    cJSON *ev = event_of_type(&l, "adt.admit");
    cr_assert_not_null(ev);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(ev, "sensitivity");
    bool sud = false, restricted = false;
    for (const cJSON *k = s ? s->child : NULL; k; k = k->next) {
        sud |= strcmp(k->valuestring, "sud") == 0;
        restricted |= strcmp(k->valuestring, "restricted") == 0;
    }
    cr_assert(sud && restricted, "labels sud and restricted");
    /* the Condition of the visit (Z59.01) and the reason */
    cr_assert_str_eq(at(ev, "encounter.diagnoses.0.code"), "Z59.01");
    cr_assert_str_eq(at(ev, "encounter.diagnoses.1.code"), "F10.20");
    /* no period: when the message was made */
    cr_assert_str_eq(at(ev, "occurred_at"), "2026-01-15T09:30:00-05:00");
    cJSON_Delete(ev);
}

Test(fhir_notify, an_encounter_with_no_patient_or_in_error_gives_no_event)
{
    static const char *const encs[] = {
        "{\"resourceType\":\"Encounter\",\"id\":\"e1\",\"status\":"
        "\"in-progress\"}",
        "{\"resourceType\":\"Encounter\",\"id\":\"e1\",\"status\":"
        "\"entered-in-error\",\"subject\":{\"reference\":\"Patient/p1\"}}",
    };
    for (size_t i = 0; i < 2; i++) {
        struct fhir_result res;
        struct canon_list out = { 0 };
        struct hub_err err;
        const char *body = notification("notification-admit", encs[i]);
        cr_assert_eq(fhir_to_events(&A, D, body, strlen(body), &out, &res,
                                     &err), HUB_OK);
        cr_assert_eq(count_prefix(&out, "adt."), 0);
        cr_assert_not_null(res.entries[1].note.what, "%zu: a note says why",
                           i);
    }
}

/* ---- round 203's review (F3300-F3303) ---- */

/* R4's location.physicalType lets a sender list the ward, the room and
 * the bed as elements of their own, each active: the place is all of
 * them, as PV1-3 carries them (F3300) */
Test(fhir_notify, each_active_location_gives_its_level_of_the_place)
{
    static const char enc[] =
        "{" ENCOUNTER_HEAD ",\"status\":\"in-progress\",\"class\":{"
        "\"code\":\"IMP\"},\"contained\":[{\"resourceType\":\"Location\","
        "\"id\":\"r9\",\"name\":\"209\"},{\"resourceType\":\"Location\","
        "\"id\":\"b9\",\"name\":\"B\"}],\"location\":[{\"location\":{"
        "\"reference\":\"Location/er\"},\"status\":\"active\"},{"
        "\"location\":{\"reference\":\"#r9\"},\"status\":\"active\","
        "\"physicalType\":{\"coding\":[{\"system\":\"" PHYS "\",\"code\":"
        "\"ro\"}]}},{\"location\":{\"reference\":\"#b9\"},\"status\":"
        "\"active\",\"physicalType\":{\"coding\":[{\"system\":\"" PHYS
        "\",\"code\":\"bd\"}]},\"period\":{\"start\":\"2026-01-16T10:05:00"
        "-05:00\"}},{\"location\":{\"reference\":\"Location/ward1\"},"
        "\"status\":\"planned\"}]}";
    struct canon_list l = fhir_events(notification("notification-admit",
                                                   enc));
    cJSON *ev = event_of_type(&l, "adt.admit");
    cr_assert_not_null(ev);
    cr_assert_str_eq(at(ev, "encounter.location.point_of_care"), "ER");
    cr_assert_str_eq(at(ev, "encounter.location.room"), "209",
                     "the second active element's room");
    cr_assert_str_eq(at(ev, "encounter.location.bed"), "B");
    /* a planned one is not where the patient is */
    cr_assert_null(at(ev, "encounter.location.facility"));
    cr_assert_str_eq(at(ev, "encounter.facility"), "GENERAL HOSPITAL");
    cJSON_Delete(ev);
}

/* A finished Encounter's locations are all completed (R4: "the patient
 * was at this location"): the last is where the visit ended, PV1-3 of
 * an A03, not a prior location, and its site the facility routing
 * reads (F3301) */
Test(fhir_notify, a_finished_encounter_ended_in_its_last_completed_location)
{
    static const char enc[] =
        "{" ENCOUNTER_HEAD ",\"status\":\"finished\",\"class\":{\"code\":"
        "\"IMP\"},\"period\":{\"start\":\"2026-01-15T08:00:00-05:00\","
        "\"end\":\"2026-01-17T11:00:00-05:00\"},\"location\":[{"
        "\"location\":{\"reference\":\"Location/er\"},\"status\":"
        "\"completed\"},{\"location\":{\"reference\":\"Location/bed1\"},"
        "\"status\":\"completed\"}]}";
    struct canon_list l = fhir_events(notification("notification-discharge",
                                                   enc));
    cJSON *ev = event_of_type(&l, "adt.discharge");
    cr_assert_not_null(ev);
    cr_assert_str_eq(at(ev, "encounter.location.bed"), "1");
    cr_assert_str_eq(at(ev, "encounter.location.point_of_care"), "4W");
    cr_assert_str_eq(at(ev, "encounter.location.facility"), "GENERAL");
    cr_assert_str_eq(at(ev, "encounter.facility"), "GENERAL",
                     "the site, as PV1-3.4, not the servicing facility");
    cr_assert_str_eq(at(ev, "encounter.prior_location.point_of_care"), "ER");
    cJSON_Delete(ev);
    /* one still going on with no active location: where it is is not
     * known, so the completed one stays where the patient was */
    static const char going[] =
        "{" ENCOUNTER_HEAD ",\"status\":\"in-progress\",\"location\":[{"
        "\"location\":{\"reference\":\"Location/er\"},\"status\":"
        "\"completed\"}]}";
    l = fhir_events(notification("notification-transfer", going));
    ev = event_of_type(&l, "adt.transfer");
    cr_assert_not_null(ev);
    cr_assert_null(at(ev, "encounter.location.point_of_care"));
    cr_assert_str_eq(at(ev, "encounter.prior_location.point_of_care"), "ER");
    cJSON_Delete(ev);
}

/* An attending contained in the Encounter is read as a contained
 * Location, Condition or Organization is (F3302) */
Test(fhir_notify, a_contained_attending_is_the_attending)
{
    static const char enc[] =
        "{\"resourceType\":\"Encounter\",\"id\":\"e1\",\"status\":"
        "\"in-progress\",\"subject\":{\"reference\":\"Patient/p1\"},"
        "\"contained\":[{\"resourceType\":\"Practitioner\",\"id\":\"dx\","
        "\"identifier\":[{\"system\":\"http://hl7.org/fhir/sid/us-npi\","
        "\"value\":\"1999999992\"}],\"name\":[{\"family\":\"Jones\","
        "\"given\":[\"Al\"]}]},{\"resourceType\":\"Location\",\"id\":"
        "\"dx2\",\"name\":\"not a person\"}],\"participant\":[{\"type\":[{"
        "\"coding\":[{\"code\":\"ATND\"}]}],\"individual\":{\"reference\":"
        "\"#dx2\"}},{\"type\":[{\"coding\":[{\"code\":\"ATND\"}]}],"
        "\"individual\":{\"reference\":\"#dx\"}}]}";
    struct canon_list l = fhir_events(notification("notification-admit",
                                                   enc));
    cJSON *ev = event_of_type(&l, "adt.admit");
    cr_assert_not_null(ev);
    cr_assert_str_eq(at(ev, "encounter.attending.0.id"), "1999999992");
    cr_assert_str_eq(at(ev, "encounter.attending.0.family"), "Jones");
    cr_assert_str_eq(at(ev, "encounter.attending.0.given"), "Al");
    cJSON_Delete(ev);
}

#define MANY_CONDITIONS 40

/* A Condition named both ways is one diagnosis however many the visit
 * has: past 32 they were told twice (F3303) */
Test(fhir_notify, a_condition_is_one_diagnosis_however_many_the_visit_has)
{
    size_t n = 64 * 1024;
    char *enc = arena_alloc(&A, n), *p = enc, *end = enc + n;
    p += snprintf(p, (size_t)(end - p),
                  "{\"resourceType\":\"Encounter\",\"id\":\"e1\",\"status\":"
                  "\"in-progress\",\"subject\":{\"reference\":\"Patient/p1\"},"
                  "\"diagnosis\":[");
    for (int i = 0; i < MANY_CONDITIONS; i++)
        p += snprintf(p, (size_t)(end - p),
                      "%s{\"condition\":{\"reference\":\"Condition/q%d\"}}",
                      i ? "," : "", i);
    p += snprintf(p, (size_t)(end - p), "]}},");
    /* each Condition an entry naming the Encounter too */
    for (int i = 0; i < MANY_CONDITIONS; i++)
        p += snprintf(p, (size_t)(end - p),
                      "%s{\"fullUrl\":\"https://ex.org/fhir/Condition/q%d\","
                      "\"resource\":{\"resourceType\":\"Condition\",\"id\":"
                      "\"q%d\",\"subject\":{\"reference\":\"Patient/p1\"},"
                      "\"encounter\":{\"reference\":\"Encounter/e1\"},"
                      "\"category\":[{\"coding\":[{\"code\":"
                      "\"encounter-diagnosis\"}]}],\"code\":{\"coding\":[{"
                      "\"system\":\"http://hl7.org/fhir/sid/icd-10-cm\","
                      "\"code\":\"R%02d.0\"}]}}}",
                      i ? "," : "", i, i, i);
    /* notification() closes the Encounter's entry after it: the
     * Encounter's is closed above, and the last Condition's left for it */
    cr_assert(p < end - 2);
    p[-1] = '\0';
    struct canon_list l = fhir_events(notification("notification-admit",
                                                   enc));
    cJSON *ev = event_of_type(&l, "adt.admit");
    cr_assert_not_null(ev);
    const cJSON *dx = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(ev, "encounter"), "diagnoses");
    /* the context's c1 names the Encounter too */
    cr_assert_eq(cJSON_GetArraySize(dx), MANY_CONDITIONS + 1);
    cJSON_Delete(ev);
}

#define THOUSANDS_OF_CONDITIONS 3000

/* Thousands of diagnoses, each Condition named twice (F3481: the set of
 * those told is a hash set, not a scan): each is told once, in the order
 * first named, then the entries' Conditions that name the visit; the
 * same Condition twice is one diagnosis. A behaviour check, not a timing. */
Test(fhir_notify, thousands_of_diagnoses_are_each_told_once_in_order)
{
    const int n = THOUSANDS_OF_CONDITIONS;
    size_t cap = (size_t)n * 200 + 4096;
    char *enc = arena_alloc(&A, cap), *p = enc, *end = enc + cap;
    p += snprintf(p, (size_t)(end - p),
                  "{\"resourceType\":\"Encounter\",\"id\":\"e1\",\"status\":"
                  "\"in-progress\",\"subject\":{\"reference\":\"Patient/p1\"},"
                  "\"contained\":[");
    for (int i = 0; i < n; i++)
        p += snprintf(p, (size_t)(end - p),
                      "%s{\"resourceType\":\"Condition\",\"id\":\"c%d\","
                      "\"code\":{\"coding\":[{\"system\":\"urn:oid:9.9.9\","
                      "\"code\":\"k%d\"}]}}",
                      i ? "," : "", i, i);
    p += snprintf(p, (size_t)(end - p), "],\"diagnosis\":[");
    /* each in order, then each again backwards, the entry's q in the
     * middle of the second pass */
    for (int i = 0; i < 2 * n; i++) {
        int k = i < n ? i : 2 * n - 1 - i;
        if (i == n + n / 2)
            p += snprintf(p, (size_t)(end - p),
                          ",{\"condition\":{\"reference\":\"Condition/q\"}}");
        p += snprintf(p, (size_t)(end - p),
                      "%s{\"condition\":{\"reference\":\"#c%d\"}}",
                      i ? "," : "", k);
    }
    /* q names the Encounter too: told once, by diagnosis[] */
    p += snprintf(p, (size_t)(end - p),
                  "]}},{\"fullUrl\":\"https://ex.org/fhir/Condition/q\","
                  "\"resource\":{\"resourceType\":\"Condition\",\"id\":\"q\","
                  "\"subject\":{\"reference\":\"Patient/p1\"},\"encounter\":{"
                  "\"reference\":\"Encounter/e1\"},\"category\":[{\"coding\":"
                  "[{\"code\":\"encounter-diagnosis\"}]}],\"code\":{"
                  "\"coding\":[{\"system\":\"urn:oid:9.9.9\",\"code\":"
                  "\"kq\"}]}}}");
    /* notification() closes the last entry */
    cr_assert(p < end - 2);
    p[-1] = '\0';
    struct canon_list l = fhir_events(notification("notification-admit",
                                                   enc));
    cJSON *ev = event_of_type(&l, "adt.admit");
    cr_assert_not_null(ev);
    const cJSON *dx = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(ev, "encounter"), "diagnoses");
    /* c0..c2999, q, then the context's c1 (which names the Encounter) */
    cr_assert_eq(cJSON_GetArraySize(dx), n + 2);
    char want[32];
    int i = 0;
    for (const cJSON *d = dx->child; d; d = d->next, i++) {
        if (i < n)
            snprintf(want, sizeof(want), "k%d", i);
        else
            snprintf(want, sizeof(want), "%s", i == n ? "kq" : "Z59.01");
        cr_assert_str_eq(at(d, "code"), want, "diagnosis %d", i);
    }
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(ev, "warnings"));
    cJSON_Delete(ev);
}

/* The same discharge as HL7 v2 ADT^A03 sends it: PV1-36 of table 0112 */
#define A03 \
    "MSH|^~\\&|APP|FAC|HUB|HUB|20260117113000-0500||ADT^A03|C3|P|2.5\r" \
    "EVN|A03|20260117110000-0500\r" \
    "PID|1||MRN1^^^FAC^MR||Doe^Jo||19800131|F\r" \
    "PV1|1|I|4W^101^1^GENERAL||||||||||||||||V100|||||||||||||||||01" \
    "||||||||20260115080000-0500|20260117110000-0500\r"

/* A disposition sent as table 0112's code and as FHIR's own: the table's,
 * which the A03 of the same discharge carries, not whichever coding's
 * system sorts first (F3304) */
Test(fhir_notify, a_discharge_disposition_of_table_0112_is_the_a03s)
{
    struct hl7_msg *m;
    struct canon_list hl = { 0 };
    struct hub_err err;
    cr_assert_eq(hl7_parse(&A, A03, strlen(A03), &m, &err), HUB_OK);
    cr_assert_eq(hl7_to_events_dict(&A, D, m, &hl, NULL, &err), HUB_OK);
    cJSON *v2 = event_of_type(&hl, "adt.discharge");
    cr_assert_not_null(v2);
    static const char enc[] =
        "{" ENCOUNTER_HEAD ",\"status\":\"finished\",\"class\":{\"code\":"
        "\"IMP\"},\"period\":{\"start\":\"2026-01-15T08:00:00-05:00\","
        "\"end\":\"2026-01-17T11:00:00-05:00\"},\"hospitalization\":{"
        "\"dischargeDisposition\":{\"coding\":[{\"system\":\"http://"
        "terminology.hl7.org/CodeSystem/v2-0112\",\"code\":\"01\"},{"
        "\"system\":\"http://terminology.hl7.org/CodeSystem/"
        "discharge-disposition\",\"code\":\"home\"}]}},\"location\":[{"
        "\"location\":{\"reference\":\"Location/bed1\"},\"status\":"
        "\"completed\"}]}";
    struct canon_list l = fhir_events(notification("notification-discharge",
                                                   enc));
    cJSON *fh = event_of_type(&l, "adt.discharge");
    cr_assert_not_null(fh);
    static const char *const same[] = {
        "occurred_at", "encounter.patient_class", "encounter.facility",
        "encounter.location.point_of_care", "encounter.location.room",
        "encounter.location.bed", "encounter.location.facility",
        "encounter.admitted_at", "encounter.discharged_at",
        "encounter.discharge_disposition", "encounter.visit_number",
    };
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        const char *a = at(v2, same[i]), *b = at(fh, same[i]);
        cr_assert_not_null(a, "HL7 v2 has no %s", same[i]);
        cr_assert_not_null(b, "FHIR has no %s (HL7 v2: %s)", same[i], a);
        cr_assert_str_eq(b, a, "%s", same[i]);
    }
    cJSON_Delete(v2);
    cJSON_Delete(fh);
}

/* ---- round 211: the lead's rulings on F3305-F3309 ---- */

/* ADMIT_ENCOUNTER of another status */
static const char *admit_encounter(const char *status)
{
    static const char from[] = "\"status\":\"in-progress\"";
    const char *at_status = strstr(ADMIT_ENCOUNTER, from);
    size_t head = (size_t)(at_status - ADMIT_ENCOUNTER),
           n = sizeof(ADMIT_ENCOUNTER) + strlen(status);
    char *s = arena_alloc(&A, n);
    snprintf(s, n, "%.*s\"status\":\"%s\"%s", (int)head, ADMIT_ENCOUNTER,
             status, at_status + strlen(from));
    return s;
}

/* The same visit as HL7 v2 sends its cancel (A11) and its pre-admission
 * (A05): `trigger`, the visit's PV1 and DG1, told when the message was
 * made */
static cJSON *hl7_event(const char *trigger, const char *type)
{
    char msg[1024];
    struct hl7_msg *m;
    struct canon_list hl = { 0 };
    struct hub_err err;
    snprintf(msg, sizeof(msg),
             "MSH|^~\\&|APP|FAC|HUB|HUB|20260115093000-0500||ADT^%s|C9|P|"
             "2.5\rEVN|%s|20260115093000-0500\r"
             "PID|1||MRN1^^^FAC^MR||Doe^Jo||19800131|F\r"
             "PV1|1|I|4W^101^1^GENERAL||||1234567893^Smith^Ann|||MED|||||||"
             "||V100|||||||||||||||||||||||||20260115080000-0500\r"
             "DG1|1||Z59.01^Sheltered homelessness^I10|||A\r",
             trigger, trigger);
    cr_assert_eq(hl7_parse(&A, msg, strlen(msg), &m, &err), HUB_OK);
    cr_assert_eq(hl7_to_events_dict(&A, D, m, &hl, NULL, &err), HUB_OK);
    cJSON *ev = event_of_type(&hl, type);
    cr_assert_not_null(ev, "%s gives no %s", trigger, type);
    return ev;
}

/* A cancelled visit's admission is A11's adt.update cancelling A01, and a
 * planned one A05's adt.register: the same visit means the same event in
 * both formats (F3305, ruled (c)) */
Test(fhir_notify, a_cancelled_or_planned_visit_gives_the_event_hl7_v2_gives)
{
    static const struct {
        const char *status, *trigger, *type;
    } cases[] = {
        { "cancelled", "A11", "adt.update" },
        { "planned", "A05", "adt.register" },
    };
    static const char *const same[] = {
        "occurred_at", "encounter.cancel_of", "encounter.patient_class",
        "encounter.class", "encounter.facility",
        "encounter.location.point_of_care", "encounter.location.room",
        "encounter.location.bed", "encounter.attending.0.id",
        "encounter.hospital_service", "encounter.admitted_at",
        "encounter.visit_number", "encounter.diagnoses.0.code",
        "encounter.diagnoses.0.type", "encounter.diagnoses.0.domain",
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        cJSON *v2 = hl7_event(cases[c].trigger, cases[c].type);
        struct canon_list fl = fhir_events(notification(
            "notification-admit", admit_encounter(cases[c].status)));
        cr_assert_eq(count_prefix(&fl, "adt.admit"), 0, "%s: no admission",
                     cases[c].status);
        cJSON *fh = event_of_type(&fl, cases[c].type);
        cr_assert_not_null(fh, "%s: no %s", cases[c].status, cases[c].type);
        for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
            const char *a = at(v2, same[i]), *b = at(fh, same[i]);
            cr_assert((a == NULL) == (b == NULL), "%s: %s: HL7 v2 %s, FHIR %s",
                      cases[c].status, same[i], a ? a : "(none)",
                      b ? b : "(none)");
            if (a)
                cr_assert_str_eq(b, a, "%s: %s", cases[c].status, same[i]);
        }
        cJSON_Delete(v2);
        cJSON_Delete(fh);
    }
    /* the cancel names what it cancels */
    static const char *const cancels[][2] = {
        { "notification-transfer", "A02" },
        { "notification-discharge", "A03" },
        { "notification-admit", "A01" },
    };
    for (size_t i = 0; i < 3; i++) {
        struct canon_list l = fhir_events(
            notification(cancels[i][0], admit_encounter("cancelled")));
        cr_assert_eq(l.n, 2, "%s: the update and the Condition's event",
                     cancels[i][0]);
        cJSON *ev = event_of_type(&l, "adt.update");
        cr_assert_not_null(ev, "%s", cancels[i][0]);
        cr_assert_str_eq(at(ev, "encounter.cancel_of"), cancels[i][1]);
        cr_assert_str_eq(at(ev, "occurred_at"), "2026-01-15T09:30:00-05:00");
        cJSON_Delete(ev);
    }
    /* planned under a transfer or a discharge has not happened: no adt
     * event, the sender told why (F3464; HL7 v2's A15 and A16 are
     * refused) */
    static const char *const pending[] = { "notification-transfer",
                                           "notification-discharge" };
    for (size_t i = 0; i < 2; i++) {
        struct fhir_result res;
        struct canon_list l = { 0 };
        struct hub_err err;
        const char *body =
            notification(pending[i], admit_encounter("planned"));
        cr_assert_eq(fhir_to_events(&A, D, body, strlen(body), &l, &res,
                                     &err), HUB_OK);
        cr_assert_eq(count_prefix(&l, "adt."), 0, "%s", pending[i]);
        int noted = 0;
        for (size_t k = 0; k < res.n_entries; k++)
            noted += res.entries[k].note.what &&
                     strstr(res.entries[k].note.what,
                            "planned transfer or discharge") != NULL;
        cr_assert_eq(noted, 1, "%s: the sender told why", pending[i]);
    }
}

/* A contained refuted Condition the Encounter names, and an entry one
 * entered in error that names the Encounter: no diagnosis of the visit,
 * each warned at its reference, the latter's own event still told with
 * its verification status (F3306) */
#define WITHDRAWN_CONDITIONS \
    "\"contained\":[{\"resourceType\":\"Condition\",\"id\":\"r1\"," \
    "\"subject\":{\"reference\":\"Patient/p1\"},\"verificationStatus\":{" \
    "\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/" \
    "condition-ver-status\",\"code\":\"refuted\"}]},\"code\":{\"coding\":[{" \
    "\"system\":\"http://hl7.org/fhir/sid/icd-10-cm\",\"code\":\"Z59.41\"}]}" \
    "}],\"diagnosis\":[{\"condition\":{\"reference\":\"#r1\"}}]}}," \
    "{\"fullUrl\":\"https://ex.org/fhir/Condition/c2\",\"resource\":{" \
    "\"resourceType\":\"Condition\",\"id\":\"c2\",\"subject\":{" \
    "\"reference\":\"Patient/p1\"},\"encounter\":{\"reference\":" \
    "\"Encounter/e1\"},\"verificationStatus\":{\"coding\":[{\"code\":" \
    "\"entered-in-error\"}]},\"category\":[{\"coding\":[{\"code\":" \
    "\"encounter-diagnosis\"}]}],\"code\":{\"coding\":[{\"system\":" \
    "\"http://hl7.org/fhir/sid/icd-10-cm\",\"code\":\"Z59.86\"}]}}"

/* The adt.admit event of a notification of Encounter `enc` (its events
 * into *l), checked: its diagnoses are the context's c1 (Z59.01) alone,
 * and it warns `what` at the Encounter's diagnosis[0].condition. The
 * caller deletes it. */
static cJSON *admit_with_c1_alone(const char *enc, const char *what,
                                  struct canon_list *l)
{
    *l = fhir_events(notification("notification-admit", enc));
    cJSON *ev = event_of_type(l, "adt.admit");
    cr_assert_not_null(ev);
    cr_assert_str_eq(at(ev, "encounter.diagnoses.0.code"), "Z59.01");
    cr_assert_null(at(ev, "encounter.diagnoses.1.code"));
    cr_assert(has_warning(ev, "entry[1].resource.diagnosis[0].condition",
                          what));
    return ev;
}

Test(fhir_notify, a_refuted_condition_is_no_diagnosis_of_the_visit)
{
    static const char enc[] =
        "{\"resourceType\":\"Encounter\",\"id\":\"e1\",\"status\":"
        "\"in-progress\",\"subject\":{\"reference\":\"Patient/p1\"},"
        WITHDRAWN_CONDITIONS;
    struct canon_list l;
    cJSON *ev = admit_with_c1_alone(enc, "refuted or entered in error", &l);
    cr_assert(has_warning(ev, "entry[2].resource.encounter",
                          "refuted or entered in error"));
    cJSON_Delete(ev);
    /* the receiver learns of the withdrawal from the Condition's own */
    size_t told = 0;
    for (size_t i = 0; i < l.n; i++) {
        cJSON *c = cJSON_ParseWithLength(l.ev[i].json.p, l.ev[i].json.len);
        const char *code = at(c, "condition.code.code");
        if (code && strcmp(code, "Z59.86") == 0) {
            cr_assert_str_eq(at(c, "condition.verification_status"),
                             "entered-in-error");
            cr_assert_str_eq(at(c, "condition.domain"),
                             "financial-insecurity");
            told++;
        }
        cJSON_Delete(c);
    }
    cr_assert_eq(told, 1);
}

#define GRAVITY "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/" \
                "SDOHCC-CodeSystemTemporaryCodes"

/* A named Condition's diagnosis has the domain its own event has (a
 * Gravity category first, the catch-all last); a reasonCode its code's
 * (F3307) */
Test(fhir_notify, a_diagnosis_has_the_domain_of_its_conditions_own_event)
{
    static const char enc[] =
        "{\"resourceType\":\"Encounter\",\"id\":\"e1\",\"status\":"
        "\"in-progress\",\"subject\":{\"reference\":\"Patient/p1\"},"
        "\"reasonCode\":[{\"coding\":[{\"system\":\"http://hl7.org/fhir/sid/"
        "icd-10-cm\",\"code\":\"Z59.01\"}]}],"
        "\"diagnosis\":[{\"condition\":{\"reference\":\"Condition/f1\"}},"
        "{\"condition\":{\"reference\":\"Condition/h1\"}},"
        "{\"condition\":{\"reference\":\"Condition/u1\"}}]}},"
        /* food-insecurity by its category, coded locally */
        "{\"fullUrl\":\"https://ex.org/fhir/Condition/f1\",\"resource\":{"
        "\"resourceType\":\"Condition\",\"id\":\"f1\",\"subject\":{"
        "\"reference\":\"Patient/p1\"},\"category\":[{\"coding\":[{"
        "\"system\":\"" GRAVITY "\",\"code\":\"food-insecurity\"}]}],"
        "\"code\":{\"coding\":[{\"system\":\"urn:local\",\"code\":\"F9\"}]}}},"
        /* housing-instability by its category, its code homelessness */
        "{\"fullUrl\":\"https://ex.org/fhir/Condition/h1\",\"resource\":{"
        "\"resourceType\":\"Condition\",\"id\":\"h1\",\"subject\":{"
        "\"reference\":\"Patient/p1\"},\"category\":[{\"coding\":[{"
        "\"system\":\"" GRAVITY "\",\"code\":\"housing-instability\"}]}],"
        "\"code\":{\"coding\":[{\"system\":\"http://hl7.org/fhir/sid/"
        "icd-10-cm\",\"code\":\"Z59.02\"}]}}},"
        /* the catch-all category: its code's domain */
        "{\"fullUrl\":\"https://ex.org/fhir/Condition/u1\",\"resource\":{"
        "\"resourceType\":\"Condition\",\"id\":\"u1\",\"subject\":{"
        "\"reference\":\"Patient/p1\"},\"category\":[{\"coding\":[{"
        "\"system\":\"" GRAVITY "\",\"code\":\"sdoh-category-unspecified\"}]}"
        "],\"code\":{\"coding\":[{\"system\":\"http://hl7.org/fhir/sid/"
        "icd-10-cm\",\"code\":\"Z59.86\"}]}}";
    struct canon_list l = fhir_events(notification("notification-admit",
                                                   enc));
    cJSON *ev = event_of_type(&l, "adt.admit");
    cr_assert_not_null(ev);
    static const char *const want[][2] = {
        { "F9", "food-insecurity" },
        { "Z59.02", "housing-instability" },
        { "Z59.86", "financial-insecurity" },
    };
    for (size_t i = 0; i < 3; i++) {
        char path[64];
        snprintf(path, sizeof(path), "encounter.diagnoses.%zu.code", i);
        cr_assert_str_eq(at(ev, path), want[i][0]);
        snprintf(path, sizeof(path), "encounter.diagnoses.%zu.domain", i);
        cr_assert_str_eq(at(ev, path), want[i][1], "%s", want[i][0]);
        /* as the Condition's own event */
        bool seen = false;
        for (size_t k = 0; k < l.n; k++) {
            cJSON *c = cJSON_ParseWithLength(l.ev[k].json.p,
                                             l.ev[k].json.len);
            const char *code = at(c, "condition.code.code");
            if (code && strcmp(code, want[i][0]) == 0 &&
                strcmp(l.ev[k].type, "condition.recorded") == 0) {
                cr_assert_str_eq(at(c, "condition.domain"), want[i][1]);
                seen = true;
            }
            cJSON_Delete(c);
        }
        cr_assert(seen, "%s has its own event", want[i][0]);
    }
    /* then the context's c1 (its code's), then the reasonCode Z59.01:
     * no category, the code's domain */
    cr_assert_str_eq(at(ev, "encounter.diagnoses.3.domain"), "homelessness");
    cr_assert_str_eq(at(ev, "encounter.diagnoses.4.code"), "Z59.01");
    cr_assert_str_eq(at(ev, "encounter.diagnoses.4.domain"), "homelessness");
    cJSON_Delete(ev);
}

/* A notification whose focus names no Encounter of the message gives no
 * adt event, and its sender's outcome says why at the MessageHeader
 * (F3309) */
Test(fhir_notify, a_focus_on_no_encounter_tells_the_sender_why)
{
    static const char *const focus[] = {
        "Condition/c1", "Encounter/elsewhere", "#e1",
    };
    for (size_t i = 0; i < sizeof(focus) / sizeof(focus[0]); i++) {
        struct fhir_result res;
        struct canon_list out = { 0 };
        struct hub_err err;
        const char *body = message("message", EVENT_SYSTEM,
                                   "notification-discharge", focus[i],
                                   ADMIT_ENCOUNTER);
        cr_assert_eq(fhir_to_events(&A, D, body, strlen(body), &out, &res,
                                     &err), HUB_OK);
        cr_assert_eq(count_prefix(&out, "adt."), 0);
        const char *what = res.entries[0].note.what;
        cr_assert_not_null(what, "%s: the header says why", focus[i]);
        cr_assert(strstr(what, "no admission, discharge or transfer event") &&
                      strstr(what, "focus names no Encounter"),
                  "%s", what);
        cr_assert_str_eq(res.entries[0].note.field, "entry[0].resource");
    }
    /* one that names its Encounter, and a message of no notification:
     * no note */
    const char *bodies[] = {
        notification("notification-admit", ADMIT_ENCOUNTER),
        message("message", EVENT_SYSTEM, "notification-referral",
                "Condition/c1", ADMIT_ENCOUNTER),
    };
    for (size_t i = 0; i < 2; i++) {
        struct fhir_result res;
        struct canon_list out = { 0 };
        struct hub_err err;
        cr_assert_eq(fhir_to_events(&A, D, bodies[i], strlen(bodies[i]),
                                     &out, &res, &err), HUB_OK);
        cr_assert_null(res.entries[0].note.what, "body %zu", i);
    }
}

/* ---- round 241 (F4100) ---- */

/* A Condition contained in the Encounter has no pass of its own: when its
 * meta.security cannot be read (an item that is no Coding before its
 * restricted label), which labels it carries is not known, and its
 * diagnosis is left out with a warning, not told without its labels */
Test(fhir_notify, a_diagnosis_whose_labels_cannot_be_read_is_left_out)
{
    static const char enc[] =
        "{\"resourceType\":\"Encounter\",\"id\":\"e1\",\"status\":"
        "\"in-progress\",\"subject\":{\"reference\":\"Patient/p1\"},"
        "\"contained\":[{\"resourceType\":\"Condition\",\"id\":\"x1\","
        "\"meta\":{\"security\":[\"R\",{\"system\":\"http://"
        "terminology.hl7.org/CodeSystem/v3-Confidentiality\",\"code\":"
        "\"R\"}]},\"subject\":{\"reference\":\"Patient/p1\"},\"code\":{"
        "\"coding\":[{\"system\":\"http://hl7.org/fhir/sid/icd-10-cm\","
        "\"code\":\"Z59.41\"}]}}],"
        "\"diagnosis\":[{\"condition\":{\"reference\":\"#x1\"}}]}";
    struct canon_list l;
    cJSON_Delete(admit_with_c1_alone(enc, "security labels", &l));
}

/* ---- round 246 (F4101) ---- */

/* A Condition contained in the Encounter, and the Encounter's own
 * reasonCode, have no pass of their own: what their reading refuses is
 * left out with a warning at its place, never in silence */
#define CONTAINED_DX(member)                                                \
    "{\"resourceType\":\"Encounter\",\"id\":\"e1\",\"status\":"           \
    "\"in-progress\",\"subject\":{\"reference\":\"Patient/p1\"},"         \
    "\"contained\":[{\"resourceType\":\"Condition\",\"id\":\"x1\","       \
    "\"subject\":{\"reference\":\"Patient/p1\"}," member "}],"            \
    "\"diagnosis\":[{\"condition\":{\"reference\":\"#x1\"}}]}"
#define Z5941 "{\"coding\":[{\"system\":\"http://hl7.org/fhir/sid/" \
              "icd-10-cm\",\"code\":\"Z59.41\"}]}"
Test(fhir_notify, a_contained_diagnosis_of_no_codeable_code_is_warned)
{
    struct canon_list l;
    cJSON_Delete(admit_with_c1_alone(CONTAINED_DX("\"code\":\"Z59.41\""),
                                     "code is not a CodeableConcept", &l));
}

Test(fhir_notify, a_contained_diagnosis_of_unreadable_category_is_warned)
{
    struct canon_list l =
        fhir_events(notification("notification-admit",
                                 CONTAINED_DX("\"category\":\"x\",\"code\":"
                                              Z5941)));
    cJSON *ev = event_of_type(&l, "adt.admit");
    cr_assert_not_null(ev);
    /* told, without the domain its category would have given */
    cr_assert_str_eq(at(ev, "encounter.diagnoses.0.code"), "Z59.41");
    cr_assert_null(at(ev, "encounter.diagnoses.0.domain"));
    cr_assert(has_warning(ev, "entry[1].resource.diagnosis[0].condition",
                          "category cannot be read"));
    cJSON_Delete(ev);
}

Test(fhir_notify, a_malformed_reason_code_of_the_encounter_is_warned)
{
    static const char enc[] =
        "{\"resourceType\":\"Encounter\",\"id\":\"e1\",\"status\":"
        "\"in-progress\",\"subject\":{\"reference\":\"Patient/p1\"},"
        "\"reasonCode\":[\"Z59.86\"," Z5941 "]}";
    struct canon_list l = fhir_events(notification("notification-admit", enc));
    cJSON *ev = event_of_type(&l, "adt.admit");
    cr_assert_not_null(ev);
    cr_assert_str_eq(at(ev, "encounter.diagnoses.1.code"), "Z59.41");
    cr_assert(has_warning(ev, "entry[1].resource.reasonCode[0]",
                          "not a CodeableConcept"));
    cJSON_Delete(ev);
}

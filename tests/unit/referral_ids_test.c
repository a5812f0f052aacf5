/*
 * referral_ids_test.c - a referral's business identifiers (F700): the
 * numbers by which the referrer's and the community organization's
 * systems know a referral (BSeR's placer PLAC and filler FILL, an NHS
 * e-RS UBRN, a platform's id) reach the referral body's "identifiers"
 * from FHIR, C-CDA and the hub's CSV layout alike, so that a CBO finds
 * the referral it serves in the events the hub sends it.
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

TestSuite(referral_ids, .init = setup, .fini = teardown);

/* Member `key` of event `i`'s referral as compact JSON, "(absent)" when
 * missing. */
static const char *ref_member(const struct canon_list *l, size_t i,
                              const char *key)
{
    static char buf[1024];
    cr_assert_lt(i, l->n, "no event %zu", i);
    cJSON *e = cJSON_ParseWithLength(l->ev[i].json.p, l->ev[i].json.len);
    cr_assert_not_null(e);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(e, "referral"), key);
    if (m == NULL) {
        snprintf(buf, sizeof(buf), "(absent)");
    } else {
        char *s = cJSON_PrintUnformatted(m);
        snprintf(buf, sizeof(buf), "%s", s);
        free(s);
    }
    cJSON_Delete(e);
    return buf;
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
    struct csvrun r = csvrun(&A, D, "referral-status", "status.csv", csv,
                             strlen(csv));
    cr_assert_eq(r.rc, HUB_OK, "csv: %s %s", r.err.field, r.err.what);
    return r.out;
}

#define PLAC "{\"system\":\"http://terminology.hl7.org/CodeSystem/v2-0203\"," \
             "\"code\":\"PLAC\"}"
#define FILL "{\"system\":\"http://terminology.hl7.org/CodeSystem/v2-0203\"," \
             "\"code\":\"FILL\"}"

/* A ServiceRequest and the Task that fulfils it, each with the referral's
 * two numbers (as BSeR sends them), the request also with a number whose
 * type is of another system (its code is no table 0203 code: left out)
 * and one with no value (names nothing). */
static const char bundle[] =
    "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":["
    "{\"fullUrl\":\"http://x/ServiceRequest/sr1\",\"resource\":{"
    "\"resourceType\":\"ServiceRequest\",\"id\":\"sr1\",\"identifier\":["
    "{\"system\":\"urn:oid:2.16.840.1.113883.19.5.99999.13\",\"type\":"
    "{\"coding\":[" PLAC "]},\"value\":\"REF-7\"},"
    "{\"type\":{\"coding\":[{\"system\":\"http://example.org/t\","
    "\"code\":\"X\"}]},\"value\":\"local-9\"},"
    "{\"system\":\"urn:example:empty\"}],"
    "\"status\":\"active\",\"intent\":\"order\","
    "\"subject\":{\"reference\":\"Patient/p1\"}}},"
    "{\"fullUrl\":\"http://x/Task/t1\",\"resource\":{\"resourceType\":"
    "\"Task\",\"id\":\"t1\",\"identifier\":["
    "{\"system\":\"urn:oid:2.16.840.1.113883.19.5.99999.13\",\"type\":"
    "{\"coding\":[" PLAC "]},\"value\":\"REF-7\"},"
    "{\"system\":\"urn:example:pantry\",\"type\":{\"coding\":[" FILL "]},"
    "\"value\":\"P-55\"}],"
    "\"status\":\"accepted\",\"intent\":\"order\","
    "\"focus\":{\"reference\":\"ServiceRequest/sr1\"},"
    "\"for\":{\"reference\":\"Patient/p1\"}}}]}";

Test(referral_ids, fhir_request_and_task_carry_their_numbers_once)
{
    struct canon_list out = fhir_run(bundle);
    cr_assert_eq(out.n, 2);
    cr_assert_str_eq(ref_member(&out, 0, "identifiers"),
                     "[{\"value\":\"REF-7\",\"system\":\"urn:oid:2.16.840.1."
                     "113883.19.5.99999.13\",\"type\":\"PLAC\"},"
                     "{\"value\":\"local-9\"}]");
    /* the Task's own, then its request's not said already */
    cr_assert_str_eq(ref_member(&out, 1, "identifiers"),
                     "[{\"value\":\"REF-7\",\"system\":\"urn:oid:2.16.840.1."
                     "113883.19.5.99999.13\",\"type\":\"PLAC\"},"
                     "{\"value\":\"P-55\",\"system\":\"urn:example:pantry\","
                     "\"type\":\"FILL\"},{\"value\":\"local-9\"}]");
}

/* A Task whose request is elsewhere names it by identifier (FHIR R4
 * Reference.identifier): in focus, or in basedOn of type ServiceRequest
 * (an NHS e-RS referral by its UBRN). A basedOn CarePlan's number is not
 * the referral's. */
Test(referral_ids, fhir_task_names_its_request_by_identifier)
{
    struct canon_list out = fhir_run(
        "{\"resourceType\":\"Task\",\"id\":\"t2\",\"status\":\"completed\","
        "\"intent\":\"order\",\"code\":{\"coding\":[{\"system\":"
        "\"http://hl7.org/fhir/CodeSystem/task-code\",\"code\":\"fulfill\"}]},"
        "\"focus\":{\"type\":\"ServiceRequest\",\"identifier\":{\"system\":"
        "\"urn:example:cbo-platform\",\"value\":\"CP-301\"}},"
        "\"basedOn\":[{\"type\":\"CarePlan\",\"identifier\":{\"value\":"
        "\"PLAN-1\"}},{\"type\":\"ServiceRequest\",\"identifier\":{"
        "\"system\":\"https://fhir.nhs.uk/Id/UBRN\",\"value\":"
        "\"000000070000\"}},{\"reference\":\"ServiceRequest/sr9\","
        "\"identifier\":{\"system\":\"urn:example:cbo-platform\",\"value\":"
        "\"CP-301\"}}],\"for\":{\"reference\":\"Patient/p1\"}}");
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(ref_member(&out, 0, "identifiers"),
                     "[{\"value\":\"CP-301\",\"system\":"
                     "\"urn:example:cbo-platform\"},{\"value\":\"000000070000\","
                     "\"system\":\"https://fhir.nhs.uk/Id/UBRN\"}]");
}

/* An identifier that is not an Identifier refuses the resource, at its
 * path, as every other member of a wrong type does. */
Test(referral_ids, fhir_identifier_of_a_wrong_type_is_refused_at_its_path)
{
    struct canon_list out;
    struct fhir_result res;
    struct hub_err err;
    static const char sr[] =
        "{\"resourceType\":\"ServiceRequest\",\"id\":\"sr\",\"identifier\":"
        "[{\"value\":\"A\"},{\"value\":7}],\"status\":\"active\",\"intent\":"
        "\"order\",\"subject\":{\"reference\":\"Patient/a\"}}";
    memset(&out, 0, sizeof(out));
    cr_assert_neq(fhir_to_events(&A, D, sr, strlen(sr), &out, &res, &err),
                  HUB_OK);
    cr_assert_str_eq(err.field, "ServiceRequest.identifier[1].value");
}

#define CCDA_HEAD                                                            \
    "<ClinicalDocument xmlns=\"urn:hl7-org:v3\">"                            \
    "<id root=\"2.16.840.1.113883.19.5\" extension=\"D1\"/>"                 \
    "<effectiveTime value=\"20240102\"/>"                                    \
    "<recordTarget><patientRole><id root=\"2.16.840.1.113883.19.6\" "        \
    "extension=\"P1\"/></patientRole></recordTarget>"

/* Each id of the referral entry: root and extension, a UUID root alone,
 * a nullFlavor id (left out); the order a document fulfils likewise. */
Test(referral_ids, ccda_referral_and_fulfilled_order_carry_their_ids)
{
    struct canon_list out = ccda_run(
        CCDA_HEAD
        "<inFulfillmentOf><order><id root=\"2.16.840.1.113883.19.5.99999.13\""
        " extension=\"REF-7\"/></order></inFulfillmentOf>"
        "<component><structuredBody><component><section>"
        "<code code=\"18776-5\"/>"
        "<entry><act classCode=\"ACT\" moodCode=\"RQO\">"
        "<id root=\"2.16.840.1.113883.19.5.99999.13\" extension=\"REF-8\"/>"
        "<id root=\"9A6D1BAC-17D3-4195-89A4-1121BC809B4E\"/>"
        "<id nullFlavor=\"UNK\"/>"
        "<code code=\"710925007\" codeSystem=\"2.16.840.1.113883.6.96\"/>"
        "<statusCode code=\"active\"/></act></entry>"
        "</section></component></structuredBody></component>"
        "</ClinicalDocument>");
    size_t created = out.n, updated = out.n;
    for (size_t i = 0; i < out.n; i++) {
        if (strcmp(out.ev[i].type, "referral.created") == 0)
            created = i;
        if (strcmp(out.ev[i].type, "referral.updated") == 0)
            updated = i;
    }
    cr_assert_lt(created, out.n);
    cr_assert_lt(updated, out.n);
    cr_assert_str_eq(ref_member(&out, created, "identifiers"),
                     "[{\"value\":\"REF-8\",\"system\":\"urn:oid:2.16.840.1."
                     "113883.19.5.99999.13\"},{\"value\":\"urn:uuid:9a6d1bac-"
                     "17d3-4195-89a4-1121bc809b4e\",\"system\":"
                     "\"urn:ietf:rfc:3986\"}]");
    cr_assert_str_eq(ref_member(&out, updated, "identifiers"),
                     "[{\"value\":\"REF-7\",\"system\":\"urn:oid:2.16.840.1."
                     "113883.19.5.99999.13\"}]");
}

#define CSV_HEADER                                                           \
    "referral_id,status,updated_at,patient_id,referral_identifier,"          \
    "referral_identifier_system,referral_identifier_type\r\n"

/* The referral-status layout's referral_identifier columns; a type other
 * than PLAC or FILL is left out with a warning, the row kept. */
Test(referral_ids, csv_row_carries_the_referral_identifier)
{
    static const char csv[] = CSV_HEADER
        "R-1,accepted,2026-03-03,C-1,P-55,urn:example:pantry,fill\r\n"
        "R-2,accepted,2026-03-03,C-1,P-56,,XX\r\n"
        "R-3,accepted,2026-03-03,C-1,,,\r\n";
    struct csvrun r = csvrun(&A, D, "referral-status", "status.csv", csv,
                             sizeof(csv) - 1);
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.out.n, 3);
    cr_assert_str_eq(ref_member(&r.out, 0, "identifiers"),
                     "[{\"value\":\"P-55\",\"system\":\"urn:example:pantry\","
                     "\"type\":\"FILL\"}]");
    cr_assert_str_eq(ref_member(&r.out, 1, "identifiers"),
                     "[{\"value\":\"P-56\"}]");
    cr_assert_not_null(csvrun_finding(&r.rep, 3, "referral_identifier_type"));
    cr_assert_str_eq(ref_member(&r.out, 2, "identifiers"), "(absent)");
}

/* One referral, numbered REF-7 by the referrer (an OID it assigns under),
 * sent as a FHIR ServiceRequest, a C-CDA planned act and a CBO's CSV
 * status row: one set of identifiers, so that a CBO matches them. */
Test(referral_ids, one_referral_in_fhir_ccda_and_csv_has_one_identifier)
{
    static const char want[] =
        "[{\"value\":\"REF-7\",\"system\":\"urn:oid:2.16.840.1.113883.19.5."
        "99999.13\"}]";
    struct canon_list f = fhir_run(
        "{\"resourceType\":\"ServiceRequest\",\"id\":\"sr1\",\"identifier\":"
        "[{\"system\":\"urn:oid:2.16.840.1.113883.19.5.99999.13\",\"value\":"
        "\"REF-7\"}],\"status\":\"active\",\"intent\":\"order\","
        "\"subject\":{\"reference\":\"Patient/p1\"}}");
    cr_assert_str_eq(ref_member(&f, 0, "identifiers"), want);
    struct canon_list c = ccda_run(
        CCDA_HEAD "<component><structuredBody><component><section>"
                  "<code code=\"18776-5\"/>"
                  "<entry><act classCode=\"ACT\" moodCode=\"RQO\">"
                  "<id root=\"2.16.840.1.113883.19.5.99999.13\" "
                  "extension=\"REF-7\"/><code code=\"710925007\" "
                  "codeSystem=\"2.16.840.1.113883.6.96\"/>"
                  "<statusCode code=\"active\"/></act></entry>"
                  "</section></component></structuredBody></component>"
                  "</ClinicalDocument>");
    size_t i = 0;
    while (i < c.n && strcmp(c.ev[i].type, "referral.created") != 0)
        i++;
    cr_assert_str_eq(ref_member(&c, i, "identifiers"), want);
    struct canon_list v = csv_run(
        CSV_HEADER "R-1,accepted,2026-03-03,C-1,REF-7,"
                   "urn:oid:2.16.840.1.113883.19.5.99999.13,\r\n");
    cr_assert_str_eq(ref_member(&v, 0, "identifiers"), want);
}

/*
 * route_domains_test.c - the SDOH-domain filter of subscriptions against a
 * real PostgreSQL (hub_route_match, 001_init.sql): an event is routed to a
 * subscription filtered on domain X when X sits at any domain path of its
 * body (screening, referral, condition, goal, careplan, an encounter's
 * diagnoses; single or array, top level or inside items (domain and
 * domains)/scores/performed/
 * activities/diagnoses), and not to one
 * filtered on a domain it does not carry. Once with minimal canonical
 * bodies, one path each, and once with the adapters' own output (the
 * goldens of tests/data). hub_sub_matches(), the reference matcher, must
 * agree with the routing statement on every (event, subscription) pair.
 */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hub_err.h"
#include "store.h"
#include "subs.h"
#include "../lib/storetest.h"
#include "../lib/testdb.h"

static char *url;
static struct store *s;

static void setup(void)
{
    s = storetest_open(&url, storetest_hosp_cbo, 2);
}

static void teardown(void)
{
    storetest_close(&s, &url);
}

TestSuite(route_domains, .init = setup, .fini = teardown, .timeout = 60);

static long qlong(const char *sql)
{
    return storetest_long(s, sql);
}

/* A webhook subscription of "cbo" to every topic, filtered on one domain,
 * opted in to the `restricted` label when `restricted` (the C-CDA goldens
 * carry it); returns its id in `id`. */
static void sub_domain(const char *domain, bool restricted, char id[64])
{
    char json[320];
    snprintf(json, sizeof(json), "{\"url\":\"http://a.example/\","
             "\"topics\":[\"*\"],\"filters\":{\"domains\":[\"%s\"]%s}}", domain,
             restricted ? ",\"sensitivity\":[\"restricted\"]" : "");
    if (restricted)             /* an operator's grant (hubctl --labels) */
        cr_assert_eq(store_org_set_labels(s, "test", "cbo", "restricted"),
                     HUB_OK);
    storetest_sub(s, "cbo", json, id);
}

/* Ingest one message from "hosp" carrying one event (no hub fields). */
static void ingest(const char *key, const char *type, const char *body)
{
    storetest_ingest(s, "hosp", "fhir", key, type, body);
}

static long routed(const char *sub_id, const char *key)
{
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM deliveries d JOIN events e "
             "ON e.seq = d.event_seq JOIN messages m ON m.id = e.message_id "
             "WHERE d.subscription_id = '%s' AND m.idem_key = '%s'",
             sub_id, key);
    return qlong(sql);
}

/* (event, subscription) pairs on which hub_sub_matches() and the routing
 * statement disagree: 0 when the reference reads the same paths. */
static long matcher_disagreements(void)
{
    return qlong("SELECT count(*) FROM events e CROSS JOIN subscriptions u "
                 "WHERE u.deleted_at IS NULL AND "
                 "hub_sub_matches(u.topics, u.filters, e.type, e.org_id, "
                 "e.body::jsonb) <> EXISTS (SELECT 1 FROM deliveries d "
                 "WHERE d.event_seq = e.seq AND d.subscription_id = u.id)");
}

#define PAT \
    "\"patient\":{\"identifiers\":[{\"system\":\"MRN\",\"value\":\"7\"}]}"
#define FOOD "\"food-insecurity\""

/* One event per domain path, food-insecurity at that path and nowhere else
 * (items, scores, performed and activities put it in their second member,
 * so the whole list is read, not its first element). */
static const struct {
    const char *key, *type, *body, *path;
} one_path[] = {
    { "scr-domains", "screening.completed",
      "\"screening\":{\"items\":[{\"question\":\"88122-7\"}],"
      "\"domains\":[\"stress\"," FOOD "]}", "screening.domains[*]" },
    { "scr-positive", "screening.positive",
      "\"screening\":{\"items\":[{\"question\":\"88122-7\"}],"
      "\"positive_domains\":[" FOOD "]}", "screening.positive_domains[*]" },
    { "scr-sender", "screening.completed",
      "\"screening\":{\"items\":[{\"question\":\"88122-7\"}],"
      "\"sender_positive_domains\":[" FOOD "]}",
      "screening.sender_positive_domains[*]" },
    { "scr-item", "screening.completed",
      "\"screening\":{\"items\":[{\"question\":\"93030-5\"},"
      "{\"question\":\"88122-7\",\"domain\":" FOOD ",\"declined\":true}]}",
      "screening.items[*].domain" },
    /* F1162: a declined item filed under two categories, the second
     * named only in its domains */
    { "scr-item-domains", "screening.completed",
      "\"screening\":{\"items\":[{\"question\":\"93030-5\"},"
      "{\"question\":\"160695008\",\"domain\":\"stress\","
      "\"domains\":[\"stress\"," FOOD "],\"declined\":true}]}",
      "screening.items[*].domains[*]" },
    { "scr-score", "screening.completed",
      "\"screening\":{\"items\":[{\"question\":\"88122-7\"}],"
      "\"scores\":[{\"code\":\"x\",\"value\":1},"
      "{\"code\":\"88124-3\",\"value\":2,\"domain\":" FOOD "}]}",
      "screening.scores[*].domain" },
    { "ref-domain", "referral.created",
      "\"referral\":{\"status\":\"requested\",\"domain\":" FOOD "}",
      "referral.domain" },
    { "ref-domains", "referral.created",
      "\"referral\":{\"status\":\"requested\",\"domains\":[" FOOD "]}",
      "referral.domains[*]" },
    { "ref-performed", "referral.updated",
      "\"referral\":{\"status\":\"completed\",\"performed\":["
      "{\"procedure\":\"Procedure/a\"},"
      "{\"procedure\":\"Procedure/b\",\"domain\":" FOOD "}]}",
      "referral.performed[*].domain" },
    { "cond-domain", "condition.recorded",
      "\"condition\":{\"clinical_status\":\"active\",\"domain\":" FOOD "}",
      "condition.domain" },
    { "cond-domains", "condition.recorded",
      "\"condition\":{\"clinical_status\":\"active\",\"domains\":[" FOOD "]}",
      "condition.domains[*]" },
    { "goal-domain", "goal.updated",
      "\"goal\":{\"lifecycle_status\":\"active\",\"domain\":" FOOD "}",
      "goal.domain" },
    { "goal-domains", "goal.updated",
      "\"goal\":{\"lifecycle_status\":\"active\",\"domains\":[" FOOD "]}",
      "goal.domains[*]" },
    { "cp-domains", "careplan.updated",
      "\"careplan\":{\"status\":\"active\",\"domains\":[" FOOD "]}",
      "careplan.domains[*]" },
    { "cp-activity", "careplan.updated",
      "\"careplan\":{\"status\":\"active\",\"activities\":["
      "{\"description\":\"x\"},"
      "{\"status\":\"completed\",\"domain\":" FOOD "}]}",
      "careplan.activities[*].domain" },
    { "enc-diagnosis", "adt.admit",
      "\"encounter\":{\"patient_class\":\"E\",\"diagnoses\":["
      "{\"code\":\"R07.9\"},"
      "{\"code\":\"Z59.41\",\"domain\":" FOOD "}]}",
      "encounter.diagnoses[*].domain" },
};

Test(route_domains, every_domain_path_routes_to_its_filter_and_no_other)
{
    char food[64], housing[64];
    char body[1024];

    sub_domain("food-insecurity", false, food);
    sub_domain("housing-instability", false, housing);
    for (size_t i = 0; i < sizeof(one_path) / sizeof(one_path[0]); i++) {
        snprintf(body, sizeof(body), "{\"type\":\"%s\"," PAT ",%s}",
                 one_path[i].type, one_path[i].body);
        ingest(one_path[i].key, one_path[i].type, body);
        cr_expect_eq(routed(food, one_path[i].key), 1,
                     "%s: food-insecurity there, not routed to its filter",
                     one_path[i].path);
        cr_expect_eq(routed(housing, one_path[i].key), 0,
                     "%s: routed to a domain the event does not carry",
                     one_path[i].path);
    }

    /* the other way round: housing deep in a careplan, food nowhere */
    ingest("cp-housing", "careplan.updated",
           "{\"type\":\"careplan.updated\"," PAT ",\"careplan\":{"
           "\"activities\":[{\"domain\":\"housing-instability\"}]}}");
    cr_expect_eq(routed(housing, "cp-housing"), 1);
    cr_expect_eq(routed(food, "cp-housing"), 0);

    /* a domain's name outside a domain path is no domain; consent bodies
     * carry none, nor an encounter without a diagnosis naming one */
    ingest("cp-title", "careplan.updated",
           "{\"type\":\"careplan.updated\"," PAT ",\"careplan\":{"
           "\"title\":\"food-insecurity\",\"activities\":[{\"description\":"
           "\"food-insecurity\"}]}}");
    ingest("consent", "consent.updated",
           "{\"type\":\"consent.updated\"," PAT ",\"consent\":{"
           "\"status\":\"active\",\"policy\":[\"food-insecurity\"]}}");
    ingest("adt", "adt.admit",
           "{\"type\":\"adt.admit\"," PAT ",\"encounter\":{"
           "\"patient_class\":\"I\"}}");
    cr_expect_eq(routed(food, "cp-title") + routed(housing, "cp-title"), 0);
    cr_expect_eq(routed(food, "consent") + routed(housing, "consent"), 0);
    cr_expect_eq(routed(food, "adt") + routed(housing, "adt"), 0);

    cr_expect_eq(matcher_disagreements(), 0,
                 "hub_sub_matches() reads other domain paths than routing");
}

/* A golden of tests/data (the adapter's output, checked by the golden
 * tests): its `index`th event, with a domain it carries and where. */
static const struct {
    const char *file;
    int index;
    const char *domain, *where;
} goldens[] = {
    /* FHIR Procedure (a performed SDOH intervention) as a careplan */
    { "fhir/SDOHCC-Procedure-HungerVitalSign-Example-1.events.json", 0,
      "food-insecurity", "careplan.domains, activities[*].domain" },
    { "ccda/synthetic-sdoh-care-plan.events.json", 3,
      "food-insecurity", "careplan.domains, activities[*].domain" },
    { "fhir/Goal-SDOHCC-GoalFoodSecurityExample.events.json", 0,
      "food-insecurity", "goal.domain" },
    { "ccda/synthetic-sdoh-problems-goals-plan.events.json", 3,
      "inadequate-housing", "goal.domain" },
    { "fhir/bundle-referral-fulfilled.events.json", 1,
      "food-insecurity", "referral.domain, performed[*].domain" },
    { "ccda/synthetic-sdoh-problems-goals-plan.events.json", 0,
      "homelessness", "condition.domain" },
    /* an item whose answer is outside the dictionary: domains is empty */
    { "fhir/Observation-AHC-HRSN-item-example-96778-6.events.json", 0,
      "inadequate-housing", "screening.items[*].domain" },
    /* an assessment filed under two categories (HL7 Chile's "Transport
     * too expensive"): its second domain routes too (F1162) */
    { "real/fhir/r99-sdohcl_Observation-Ejemplo-EvObsTransporte.events.json",
      1, "financial-insecurity",
      "screening.domains, positive_domains, items[*].domains" },
    /* a declined item the sender called positive */
    { "csv/screenings-simple.events.json", 2,
      "transportation-insecurity",
      "screening.items[*].domain, sender_positive_domains" },
};

static cJSON *load_json(const char *rel)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/tests/data/%s", testdb_root(), rel);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    cr_assert(n > 0 && n < (16L << 20), "%s: size %ld", path, n);
    rewind(f);
    char *text = malloc((size_t)n + 1);
    cr_assert_not_null(text);
    cr_assert_eq(fread(text, 1, (size_t)n, f), (size_t)n);
    text[n] = '\0';
    fclose(f);
    cJSON *doc = cJSON_Parse(text);
    free(text);
    cr_assert_not_null(doc, "%s: not JSON", path);
    return doc;
}

Test(route_domains, adapter_output_of_each_body_kind_routes_by_its_domains)
{
    static const char *const domains[] = {
        "food-insecurity", "inadequate-housing", "homelessness",
        "transportation-insecurity", "financial-insecurity", "elder-abuse",
    };
    enum { N_DOM = sizeof(domains) / sizeof(domains[0]) };
    char ids[N_DOM][64];
    const char *elder = ids[N_DOM - 1];      /* no golden carries it */

    for (size_t d = 0; d < N_DOM; d++)
        sub_domain(domains[d], true, ids[d]);
    for (size_t i = 0; i < sizeof(goldens) / sizeof(goldens[0]); i++) {
        cJSON *doc = load_json(goldens[i].file);
        cJSON *ev = cJSON_GetArrayItem(doc, goldens[i].index);
        cr_assert_not_null(ev, "%s[%d]", goldens[i].file, goldens[i].index);
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "type");
        cr_assert(cJSON_IsString(type), "%s: no type", goldens[i].file);
        char *body = cJSON_PrintUnformatted(ev);
        char key[32];
        snprintf(key, sizeof(key), "golden-%zu", i);
        ingest(key, type->valuestring, body);
        free(body);

        const char *want = NULL;
        for (size_t d = 0; d < N_DOM; d++)
            if (strcmp(domains[d], goldens[i].domain) == 0)
                want = ids[d];
        cr_assert_not_null(want);
        cr_expect_eq(routed(want, key), 1, "%s[%d] %s: %s (%s) not routed",
                     goldens[i].file, goldens[i].index, type->valuestring,
                     goldens[i].domain, goldens[i].where);
        cr_expect_eq(routed(elder, key), 0, "%s[%d]: routed to elder-abuse",
                     goldens[i].file, goldens[i].index);
        cJSON_Delete(doc);
    }
    cr_expect_eq(matcher_disagreements(), 0,
                 "hub_sub_matches() reads other domain paths than routing");
}

/*
 * routing_test.c - routing inside the ingest transaction (001_init.sql)
 * against a real PostgreSQL: topic wildcards and every filter route or do
 * not, one delivery row per (event, subscription), the URL snapshot, pull
 * subscriptions and feed visibility, audit rows; then the dispatcher's SQL:
 * claims with leases, order per (subscription, patient), lease takeover,
 * 410, pause, replay, and subscription validation through subs.h; the
 * claim's per-endpoint cap, released claims, one flush of many outcomes
 * (attempt and audit rows in order), and NOTIFY only when an outcome
 * unblocks a later delivery (hub_claim_deliveries, hub_deliveries_done).
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/hub_err.h"
#include "store.h"
#include "subs.h"
#include "../lib/storetest.h"

static char *url;
static struct store *s;

static void setup(void)
{
    static const struct storetest_org orgs[] = {
        { "hosp", "Hospital", "hospital", SCOPE_INGEST },
        { "clinic", "Clinic", "clinic", SCOPE_INGEST },
        { "cbo", "CBO", "cbo", SCOPE_SUBSCRIBE },
        { "plan", "Plan", "plan", SCOPE_SUBSCRIBE },
    };
    s = storetest_open(&url, orgs, sizeof(orgs) / sizeof(orgs[0]));
}

static void teardown(void)
{
    storetest_close(&s, &url);
}

TestSuite(routing, .init = setup, .fini = teardown, .timeout = 60);

static char *q1(const char *sql)
{
    return storetest_text(s, sql);
}

static long qlong(const char *sql)
{
    return storetest_long(s, sql);
}

/* Create a subscription of `org` from JSON; returns its id (static slot). */
static const char *sub(const char *org, const char *json)
{
    static char ids[16][64];
    static int next;
    char *slot = ids[next++ % 16];
    storetest_sub(s, org, json, slot);
    return slot;
}

/* Ingest one message from `org` carrying one event (body JSON without the
 * hub fields); returns nothing, the event is found by its type. */
static void ingest(const char *org, const char *key, const char *type,
                   const char *body)
{
    storetest_ingest(s, org, "hl7v2", key, type, body);
}

static long routed(const char *sub_id, const char *key)
{
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM deliveries d JOIN events e "
             "ON e.seq = d.event_seq JOIN messages m ON m.id = e.message_id "
             "WHERE d.subscription_id = '%s' AND m.idem_key = '%s'",
             sub_id, key);
    return qlong(sql);
}

#define PAT(v) "\"patient\":{\"identifiers\":[{\"system\":\"MRN\",\"value\":\"" v "\"}]"

Test(routing, topic_wildcards_route_exactly_the_matching_types)
{
    const char *all = sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"*\"]}");
    const char *adt = sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"adt.*\"]}");
    const char *pos = sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"*.positive\"]}");
    const char *two = sub("cbo", "{\"url\":\"http://a.example/\","
                          "\"topics\":[\"adt.discharge\",\"referral.created\"]}");

    ingest("hosp", "k1", "adt.admit", "{\"type\":\"adt.admit\"," PAT("1") "}}");
    ingest("hosp", "k2", "adt.discharge", "{\"type\":\"adt.discharge\"," PAT("1") "}}");
    ingest("hosp", "k3", "screening.positive",
           "{\"type\":\"screening.positive\"," PAT("1") "}}");
    ingest("hosp", "k4", "referral.created",
           "{\"type\":\"referral.created\"," PAT("1") "}}");

    cr_assert_eq(routed(all, "k1") + routed(all, "k2") + routed(all, "k3") +
                 routed(all, "k4"), 4);
    cr_assert_eq(routed(adt, "k1"), 1);
    cr_assert_eq(routed(adt, "k2"), 1);
    cr_assert_eq(routed(adt, "k3"), 0);
    cr_assert_eq(routed(adt, "k4"), 0);
    cr_assert_eq(routed(pos, "k3"), 1);
    cr_assert_eq(routed(pos, "k1") + routed(pos, "k2") + routed(pos, "k4"), 0);
    cr_assert_eq(routed(two, "k2") + routed(two, "k4"), 2);
    cr_assert_eq(routed(two, "k1") + routed(two, "k3"), 0);
}

/* HAPI FHIR #5208: one update notified 19 times. An event that matches one
 * subscription in many ways (three topic patterns, two domains each named
 * in several places of the body, a county in two spellings) is routed to
 * it once: one delivery row, one routing audit row, and the ingest is not
 * refused for a duplicate row. */
Test(routing, an_event_matching_a_subscription_many_ways_is_routed_once)
{
    const char *a = sub("cbo", "{\"url\":\"http://a.example/\","
                        "\"topics\":[\"*\",\"screening.*\",\"screening.positive\"],"
                        "\"filters\":{\"domains\":[\"food-insecurity\","
                        "\"housing-instability\"],\"counties\":[\"Kings\",\"kings\"]}}");

    ingest("hosp", "k1", "screening.positive",
           "{\"type\":\"screening.positive\","
           PAT("1") ",\"addresses\":[{\"county\":\"Kings\"},"
           "{\"county\":\"KINGS\"}]},"
           "\"screening\":{\"domains\":[\"food-insecurity\","
           "\"housing-instability\"],\"positive_domains\":[\"food-insecurity\","
           "\"housing-instability\"],\"items\":[{\"domain\":\"food-insecurity\"},"
           "{\"domain\":\"food-insecurity\"}]}}");
    cr_assert_eq(routed(a, "k1"), 1);
    cr_assert_eq(qlong("SELECT count(*) FROM deliveries"), 1);
    cr_assert_eq(qlong("SELECT count(*) FROM audit WHERE action = "
                       "'event.routed'"), 1);
    cr_assert_eq(qlong("SELECT count(*) FROM messages WHERE status = "
                       "'quarantined'"), 0);
}

Test(routing, each_filter_routes_only_matching_events)
{
    const char *org = sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"*\"],"
                          "\"filters\":{\"orgs\":[\"clinic\"]}}");
    const char *fac = sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"*\"],"
                          "\"filters\":{\"facilities\":[\"NORTH\"]}}");
    const char *cls = sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"*\"],"
                          "\"filters\":{\"patient_classes\":[\"E\"]}}");
    const char *dom = sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"*\"],"
                          "\"filters\":{\"domains\":[\"food-insecurity\"]}}");
    const char *cty = sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"*\"],"
                          "\"filters\":{\"counties\":[\"Kings\"]}}");
    const char *cty2 = sub("cbo", "{\"url\":\"http://a.example/\","
                           "\"topics\":[\"*\"],\"filters\":{\"counties\":"
                           "[\"Kings County\",\"Orleans Parish\"]}}");
    const char *both = sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"adt.*\"],"
                           "\"filters\":{\"orgs\":[\"hosp\"],"
                           "\"patient_classes\":[\"I\"]}}");

    /* k1: hosp, facility NORTH in MSH-4, inpatient, Kings county */
    ingest("hosp", "k1", "adt.admit",
           "{\"type\":\"adt.admit\",\"source\":{\"sending_facility\":\"NORTH\"},"
           PAT("1") ",\"addresses\":[{\"county\":\"kings\"}]},"
           "\"encounter\":{\"patient_class\":\"I\"}}");
    /* k2: clinic, facility NORTH in the encounter, emergency */
    ingest("clinic", "k2", "adt.admit",
           "{\"type\":\"adt.admit\"," PAT("2") "},"
           "\"encounter\":{\"patient_class\":\"E\",\"facility\":\"NORTH\"}}");
    /* k3: screening positive for food insecurity, Queens */
    ingest("clinic", "k3", "screening.positive",
           "{\"type\":\"screening.positive\"," PAT("3")
           ",\"addresses\":[{\"county\":\"Queens\"}]},"
           "\"screening\":{\"positive_domains\":[\"food-insecurity\"]}}");
    /* k4: referral for housing, no facility or class or county */
    ingest("hosp", "k4", "referral.created",
           "{\"type\":\"referral.created\"," PAT("4") "},"
           "\"referral\":{\"domain\":\"housing-instability\"}}");
    /* k5: condition in the food domain */
    ingest("hosp", "k5", "condition.recorded",
           "{\"type\":\"condition.recorded\"," PAT("5") "},"
           "\"condition\":{\"domain\":\"food-insecurity\"}}");
    /* k6, k7: the county with its kind, as C-CDA and FHIR senders write it */
    ingest("clinic", "k6", "screening.completed",
           "{\"type\":\"screening.completed\"," PAT("6")
           ",\"addresses\":[{\"county\":\" KINGS COUNTY \"}]},"
           "\"screening\":{}}");
    ingest("clinic", "k7", "screening.completed",
           "{\"type\":\"screening.completed\"," PAT("7")
           ",\"addresses\":[{\"county\":\"Orleans\"}]},"
           "\"screening\":{}}");

    cr_assert_eq(routed(org, "k1"), 0);
    cr_assert_eq(routed(org, "k2"), 1);
    cr_assert_eq(routed(org, "k3"), 1);
    cr_assert_eq(routed(org, "k4"), 0);

    cr_assert_eq(routed(fac, "k1"), 1, "source.sending_facility");
    cr_assert_eq(routed(fac, "k2"), 1, "encounter.facility");
    cr_assert_eq(routed(fac, "k3") + routed(fac, "k4"), 0);

    cr_assert_eq(routed(cls, "k2"), 1);
    cr_assert_eq(routed(cls, "k1") + routed(cls, "k3"), 0);

    cr_assert_eq(routed(dom, "k3"), 1, "screening.positive_domains");
    cr_assert_eq(routed(dom, "k5"), 1, "condition.domain");
    cr_assert_eq(routed(dom, "k4") + routed(dom, "k1"), 0);

    cr_assert_eq(routed(cty, "k1"), 1, "county compared without case");
    cr_assert_eq(routed(cty, "k6"), 1, "nor its kind or spaces");
    cr_assert_eq(routed(cty, "k3") + routed(cty, "k4") + routed(cty, "k7"),
                 0);
    cr_assert_eq(routed(cty2, "k1") + routed(cty2, "k6") + routed(cty2, "k7"),
                 3, "a filter that names the kind");
    cr_assert_eq(routed(cty2, "k3"), 0);

    cr_assert_eq(routed(both, "k1"), 1);
    cr_assert_eq(routed(both, "k2"), 0, "filters are ANDed");
}

/* A county by its FIPS code or by its name (002_us_counties.sql): "36047",
 * "047" with state NY and "Kings County" in "New York" are one county to a
 * filter of "Kings" or of "36047"; Kings in California is not 36047; a
 * five-digit value whose state is another (a ZIP code in the county field)
 * names no county; a code with no state is taken as it is written. */
Test(routing, a_county_filter_knows_fips_codes_and_names)
{
    const char *fips = sub("plan", "{\"url\":\"http://a.example/\","
                           "\"topics\":[\"*\"],\"filters\":{\"counties\":"
                           "[\"36047\"]}}");
    const char *name = sub("plan", "{\"url\":\"http://a.example/\","
                           "\"topics\":[\"*\"],\"filters\":{\"counties\":"
                           "[\"Kings\"]}}");
    const char *wi = sub("plan", "{\"url\":\"http://a.example/\","
                         "\"topics\":[\"*\"],\"filters\":{\"counties\":"
                         "[\"Ozaukee County\"]}}");
    const char *kent = sub("plan", "{\"url\":\"http://a.example/\","
                           "\"topics\":[\"*\"],\"filters\":{\"counties\":"
                           "[\"Kent\"]}}");
    const char *ct = sub("plan", "{\"url\":\"http://a.example/\","
                         "\"topics\":[\"*\"],\"filters\":{\"counties\":"
                         "[\"09110\"]}}");
    const char *kent_de = sub("plan", "{\"url\":\"http://a.example/\","
                              "\"topics\":[\"*\"],\"filters\":{"
                              "\"counties\":[\"10001\"]}}");
    /* names as people write them, the Census's in ASCII (004) */
    const char *pr = sub("plan", "{\"url\":\"http://a.example/\","
                         "\"topics\":[\"*\"],\"filters\":{\"counties\":"
                         "[\"72021\"]}}");
    const char *pr_name = sub("plan", "{\"url\":\"http://a.example/\","
                              "\"topics\":[\"*\"],\"filters\":{"
                              "\"counties\":[\"Bayamón\"]}}");
    const char *nm_md = sub("plan", "{\"url\":\"http://a.example/\","
                            "\"topics\":[\"*\"],\"filters\":{"
                            "\"counties\":[\"Dona Ana County\",\"24033\"]}}");
    static const struct { const char *key, *county, *state; } addr[] = {
        { "f1", "36047", NULL },
        { "f2", "047", "NY" },
        { "f3", "Kings County", "New York" },
        { "f4", "KINGS", "CA" },
        { "f5", "55089", "55" },
        { "f6", "10001", "NY" },
        { "f7", "047", NULL },
        { "f8", "Capitol Planning Region", "CT" },
        { "f9", "10001", "DE" },
        { "f10", "Bayamón", "PR" },
        { "f11", "BAYAMÓN MUNICIPIO", "72" },
        { "f12", "Doña Ana", "NM" },
        { "f13", "Prince George’s County", "MD" },
    };
    for (size_t i = 0; i < sizeof(addr) / sizeof(addr[0]); i++) {
        char body[512], st[64] = "";
        if (addr[i].state)
            snprintf(st, sizeof(st), ",\"state\":\"%s\"", addr[i].state);
        snprintf(body, sizeof(body), "{\"type\":\"screening.completed\","
                 "\"patient\":{\"identifiers\":[{\"system\":\"MRN\","
                 "\"value\":\"%s\"}],\"addresses\":[{\"county\":\"%s\"%s}]},"
                 "\"screening\":{}}", addr[i].key, addr[i].county, st);
        ingest("clinic", addr[i].key, "screening.completed", body);
    }

    for (int i = 1; i <= 3; i++) {
        char key[8];
        snprintf(key, sizeof(key), "f%d", i);
        cr_assert_eq(routed(fips, key), 1, "%s to 36047", key);
        cr_assert_eq(routed(name, key), 1, "%s to Kings", key);
    }
    cr_assert_eq(routed(fips, "f4"), 0, "Kings County, CA is 06031");
    cr_assert_eq(routed(name, "f4"), 1, "a name filter takes every Kings");
    cr_assert_eq(routed(wi, "f5"), 1, "55089 is Ozaukee County, WI");
    cr_assert_eq(routed(kent, "f6"), 0, "10001 in NY is no county (a ZIP)");
    cr_assert_eq(routed(fips, "f7") + routed(name, "f7"), 0,
                 "a three-digit code without its state is no county");
    cr_assert_eq(routed(ct, "f8"), 1, "a planning region by its name");
    cr_assert_eq(routed(fips, "f5") + routed(name, "f5") + routed(wi, "f1") +
                 routed(kent, "f1") + routed(ct, "f3"), 0);
    /* nor by the five digits as written: 10001 is Kent County, DE, and a
     * plan of Kent County, DE by its code gets no New York patient whose
     * county field holds the ZIP 10001 */
    cr_assert_eq(routed(kent_de, "f6"), 0,
                 "10001 in NY is not Kent County, DE (a ZIP)");
    cr_assert_eq(routed(kent_de, "f9"), 1, "10001 in DE is Kent County, DE");
    cr_assert_eq(routed(pr, "f10"), 1, "Bayamón, PR is 72021");
    cr_assert_eq(routed(pr, "f11"), 1, "in capitals, by the state's FIPS");
    cr_assert_eq(routed(pr_name, "f10") + routed(pr_name, "f11"), 2,
                 "a filter written with the accent");
    cr_assert_eq(routed(nm_md, "f12"), 1, "Doña Ana is Dona Ana County");
    cr_assert_eq(routed(nm_md, "f13"), 1, "a curly apostrophe is 24033's");
    cr_assert_eq(routed(pr, "f12") + routed(nm_md, "f10"), 0);
    /* the reference matcher agrees with routing (topics_test.c) */
    cr_assert_eq(qlong("SELECT count(*) FROM events e JOIN subscriptions s "
                       "ON s.org_id = 'plan' WHERE hub_sub_matches(s.topics, "
                       "s.filters, e.type, e.org_id, e.body::jsonb)"),
                 qlong("SELECT count(*) FROM deliveries"));
}

/* County names as senders' systems type them (F540-F542): the okina or
 * apostrophe as U+2018, U+02BC or U+00B4 as well as ' ’ ʻ; letters with
 * marks as a base letter and a combining mark (NFD, as macOS and some
 * engines write them) as well as precomposed; and the state with them too
 * (Hawaiʻi). */
Test(routing, county_names_as_senders_type_them)
{
    const char *hi = sub("plan", "{\"url\":\"http://a.example/\","
                         "\"topics\":[\"*\"],\"filters\":{\"counties\":"
                         "[\"15001\",\"15003\"]}}");
    const char *pr = sub("plan", "{\"url\":\"http://a.example/\","
                         "\"topics\":[\"*\"],\"filters\":{\"counties\":"
                         "[\"72021\",\"24033\"]}}");
    static const struct { const char *key, *county, *state; } addr[] = {
        { "g1", "Hawai\u2018i County", "HI" },     /* left quote as okina */
        { "g2", "Prince George\u02bcs", "MD" },    /* modifier apostrophe */
        { "g3", "Prince George\u00b4s County", "MD" },   /* acute accent */
        { "g4", "Bayamo\u0301n", "PR" },           /* o + combining acute */
        { "g5", "Honolulu", "Hawai\u02bbi" },      /* the state's okina */
        { "g6", "Honolulu County", "Hawai\u2018i" },
        { "g7", "Bayam\u00f3n\u00a0Municipio", "PR" },  /* no-break space */
        { "g8", " Prince  George's\\tCounty\u00a0", "MD" },  /* runs, tab */
        { "g9", "Honolulu", "HI\u00a0" },      /* a padded export's state */
    };
    for (size_t i = 0; i < sizeof(addr) / sizeof(addr[0]); i++) {
        char body[512];
        snprintf(body, sizeof(body), "{\"type\":\"screening.completed\","
                 "\"patient\":{\"identifiers\":[{\"system\":\"MRN\","
                 "\"value\":\"%s\"}],\"addresses\":[{\"county\":\"%s\","
                 "\"state\":\"%s\"}]},\"screening\":{}}", addr[i].key,
                 addr[i].county, addr[i].state);
        ingest("clinic", addr[i].key, "screening.completed", body);
    }
    cr_assert_eq(routed(hi, "g1"), 1, "Hawai\u2018i County is 15001");
    cr_assert_eq(routed(pr, "g2"), 1, "U+02BC is an apostrophe");
    cr_assert_eq(routed(pr, "g3"), 1, "U+00B4 is an apostrophe");
    cr_assert_eq(routed(pr, "g4"), 1, "a decomposed \u00f3 is an o");
    cr_assert_eq(routed(hi, "g5"), 1, "Honolulu, Hawai\u02bbi is 15003");
    cr_assert_eq(routed(hi, "g6"), 1, "Honolulu, Hawai\u2018i is 15003");
    cr_assert_eq(routed(pr, "g7"), 1, "U+00A0 is a space");
    cr_assert_eq(routed(pr, "g8"), 1, "spaces and a tab are one space");
    cr_assert_eq(routed(hi, "g9"), 1, "HI and a no-break space is HI");
    cr_assert_eq(routed(pr, "g1") + routed(pr, "g5") + routed(hi, "g4") +
                 routed(hi, "g7") + routed(hi, "g8") + routed(pr, "g9"), 0);
    /* the reference matcher agrees with routing (topics_test.c) */
    cr_assert_eq(qlong("SELECT count(*) FROM events e JOIN subscriptions s "
                       "ON s.org_id = 'plan' WHERE hub_sub_matches(s.topics, "
                       "s.filters, e.type, e.org_id, e.body::jsonb)"),
                 qlong("SELECT count(*) FROM deliveries"));
}

/* F720: the spaces a county or state name folds are Unicode's White_Space,
 * whatever the database's LC_CTYPE. Past ASCII, PostgreSQL's \s is the
 * locale's: a database made with the C locale kept the em space of
 * "Kings<U+2003>County", which one made with C.UTF-8 folded, so the same
 * address matched 36047 on one hub and no county on another. COLLATE "C"
 * reads the key as a C-locale database does. A zero-width space is no
 * space (not White_Space) and stays. */
Test(routing, county_spaces_are_the_same_in_every_locale)
{
    static const char *const white =
        "ARRAY[9, 10, 11, 12, 13, 32, 133, 160, 5760, 8192, 8193, 8194, "
        "8195, 8196, 8197, 8198, 8199, 8200, 8201, 8202, 8232, 8233, 8239, "
        "8287, 12288]";
    char sql[512];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM unnest(%s) cp "
             "WHERE hub_county_key(('Kings' || chr(cp) || 'County') "
             "COLLATE \"C\") = 'kings'", white);
    cr_assert_eq(qlong(sql), 25, "each White_Space code point is a space");
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM unnest(%s) cp "
             "WHERE '36047' IN (SELECT hub_county_keys('Kings', "
             "('New' || chr(cp) || 'York') COLLATE \"C\"))", white);
    cr_assert_eq(qlong(sql), 25, "and in a state's name");
    cr_assert_eq(qlong("SELECT count(*) WHERE hub_county_key(('Kings' || "
                       "chr(8203) || 'County') COLLATE \"C\") = 'kings'"),
                 0, "U+200B is no space");
}

Test(routing, sensitive_events_go_only_to_who_opted_in_to_the_label)
{
    const char *plain = sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"*\"]}");
    /* the opt-in is an operator's grant to the organization */
    cr_assert_eq(store_org_set_labels(s, "test", "plan", "sud"), HUB_OK);
    const char *sud = sub("plan", "{\"url\":\"http://b.example/\",\"topics\":[\"*\"],"
                          "\"filters\":{\"sensitivity\":[\"sud\"]}}");

    ingest("hosp", "k1", "condition.recorded",
           "{\"type\":\"condition.recorded\"," PAT("1") "},"
           "\"sensitivity\":[\"sud\"]}");
    ingest("hosp", "k2", "condition.recorded",
           "{\"type\":\"condition.recorded\"," PAT("1") "}}");
    cr_assert_eq(routed(plain, "k1"), 0);
    cr_assert_eq(routed(sud, "k1"), 1);
    cr_assert_eq(routed(plain, "k2"), 1);
    cr_assert_eq(routed(sud, "k2"), 1);
}

Test(routing, one_delivery_per_event_and_subscription_with_url_snapshot)
{
    const char *a = sub("cbo", "{\"url\":\"http://a.example/hook\",\"topics\":[\"*\"]}");
    const char *b = sub("plan", "{\"url\":\"https://b.example:8443/in\",\"topics\":[\"adt.*\"]}");
    char sql[512];

    ingest("hosp", "k1", "adt.admit", "{\"type\":\"adt.admit\"," PAT("1") "}}");
    cr_assert_eq(qlong("SELECT count(*) FROM deliveries"), 2);
    snprintf(sql, sizeof(sql), "SELECT url || ' ' || endpoint FROM deliveries "
             "WHERE subscription_id = '%s'", a);
    char *v = q1(sql);
    cr_assert_str_eq(v, "http://a.example/hook http://a.example:80");
    free(v);
    snprintf(sql, sizeof(sql), "SELECT url || ' ' || endpoint FROM deliveries "
             "WHERE subscription_id = '%s'", b);
    v = q1(sql);
    cr_assert_str_eq(v, "https://b.example:8443/in https://b.example:8443");
    free(v);

    /* routing the same events again makes no second row */
    cr_assert_eq(store_exec(s, "SELECT hub_route_events(ARRAY(SELECT seq "
                               "FROM events))"), HUB_OK);
    cr_assert_eq(qlong("SELECT count(*) FROM deliveries"), 2);
    cr_assert_eq(store_exec(s, "INSERT INTO deliveries (event_seq, event_id, "
                               "subscription_id, org_id, url, endpoint) "
                               "SELECT event_seq, event_id, subscription_id, "
                               "org_id, url, endpoint FROM deliveries"),
                 HUB_EINVALID, "UNIQUE (event, subscription)");

    /* a delivered row keeps the URL it went to when the subscriber moves;
     * one still waiting follows the move */
    snprintf(sql, sizeof(sql), "DELETE FROM delivery_queue WHERE "
             "subscription_id = '%s'", a);  /* delivered, as an outcome does */
    cr_assert_eq(store_exec(s, sql), HUB_OK);
    ingest("hosp", "k2", "adt.admit", "{\"type\":\"adt.admit\"," PAT("1") "}}");
    char *out = NULL;
    struct hub_err e;
    const char *mv = "{\"url\":\"http://moved.example/x\"}";
    cr_assert_eq(subs_update(s, "test", "cbo", a, mv, strlen(mv), &out, &e),
                 HUB_OK);
    free(out);
    snprintf(sql, sizeof(sql), "SELECT string_agg(status || '=' || url, ' ' "
             "ORDER BY id) FROM delivery_state WHERE subscription_id = '%s'", a);
    v = q1(sql);
    cr_assert_str_eq(v, "delivered=http://a.example/hook "
                        "pending=http://moved.example/x");
    free(v);
}

Test(routing, routing_is_audited_and_the_chain_holds)
{
    sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"adt.*\"]}");
    ingest("hosp", "k1", "adt.admit", "{\"type\":\"adt.admit\"," PAT("1") "}}");
    ingest("hosp", "k2", "goal.updated", "{\"type\":\"goal.updated\"," PAT("1") "}}");
    cr_assert_eq(qlong("SELECT count(*) FROM audit WHERE action = "
                       "'event.routed' AND patient_hub_id IS NOT NULL"), 1);
    cr_assert_eq(qlong("SELECT count(*) FROM audit WHERE action = "
                       "'subscription.created'"), 1);
    struct store_audit_check c;
    cr_assert_eq(store_audit_verify(s, &c), HUB_OK);
    cr_assert(c.ok);
}

Test(routing, pull_subscription_makes_routed_events_visible_in_the_feed)
{
    struct principal cbo = { .org_id = "cbo", .scopes = SCOPE_SUBSCRIBE };
    char *page = NULL;

    ingest("hosp", "k0", "referral.created",
           "{\"type\":\"referral.created\"," PAT("1") "}}");
    sub("cbo", "{\"mode\":\"pull\",\"topics\":[\"referral.*\"]}");
    ingest("hosp", "k1", "referral.created",
           "{\"type\":\"referral.created\"," PAT("1") "}}");
    ingest("hosp", "k2", "adt.admit", "{\"type\":\"adt.admit\"," PAT("1") "}}");
    cr_assert_eq(qlong("SELECT count(*) FROM deliveries"), 0,
                 "a pull subscription sends nothing");
    cr_assert_eq(store_events_page(s, &cbo, 0, NULL, NULL, NULL, 100, &page),
                 HUB_OK);
    /* only k1: k0 came before the subscription, k2 is another topic */
    cr_assert_eq(qlong("SELECT count(*) FROM event_routes WHERE org_id='cbo'"), 1);
    char *first = strstr(page, "\"referral.created\"");
    cr_assert_not_null(first, "%s", page);
    cr_assert_null(strstr(first + 1, "\"referral.created\""), "%s", page);
    cr_assert_null(strstr(page, "adt.admit"), "%s", page);
    free(page);
}

/* The feed's contract (F1964, kept): an organization's pull feed holds
 * what was routed to it while its subscriptions lived, by any of them
 * (pull or webhook). A delete stops routing from then on and cancels a
 * webhook's open deliveries; it takes back nothing already routed: those
 * events stay readable by GET /v1/events, the later ones are not there. */
static char *event_of(const char *key)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT e.id FROM events e JOIN messages m "
             "ON m.id = e.message_id WHERE m.idem_key = '%s'", key);
    return q1(sql);
}

Test(routing, a_deleted_subscription_stops_routing_and_keeps_what_it_routed)
{
    struct principal cbo = { .org_id = "cbo", .scopes = SCOPE_SUBSCRIBE };
    const char *pull = sub("cbo", "{\"mode\":\"pull\",\"topics\":"
                           "[\"referral.*\"]}");
    const char *web = sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":"
                          "[\"adt.*\"]}");
    const char *keys[] = { "k1", "k2", "k3", "k4" };
    char *page = NULL, sql[256];

    ingest("hosp", "k1", "referral.created",
           "{\"type\":\"referral.created\"," PAT("1") "}}");
    ingest("hosp", "k2", "adt.admit", "{\"type\":\"adt.admit\"," PAT("1") "}}");
    cr_assert_eq(routed(web, "k2"), 1);
    cr_assert_eq(subs_delete(s, "test", "cbo", pull), HUB_OK);
    cr_assert_eq(subs_delete(s, "test", "cbo", web), HUB_OK);
    snprintf(sql, sizeof(sql), "SELECT string_agg(status, ' ') FROM "
             "delivery_state WHERE subscription_id = '%s'", web);
    char *st = q1(sql);
    cr_assert_str_eq(st, "cancelled", "the open delivery ends at the delete");
    free(st);
    ingest("hosp", "k3", "referral.created",
           "{\"type\":\"referral.created\"," PAT("1") "}}");
    ingest("hosp", "k4", "adt.admit", "{\"type\":\"adt.admit\"," PAT("1") "}}");
    cr_assert_eq(routed(web, "k4"), 0);
    cr_assert_eq(store_events_page(s, &cbo, 0, NULL, NULL, NULL, 100, &page),
                 HUB_OK);
    for (size_t i = 0; i < 4; i++) {
        char *id = event_of(keys[i]);
        cr_assert_not_null(id, "%s", keys[i]);
        /* routed before the delete (k1, k2): in the feed; after: not */
        cr_assert_eq(strstr(page, id) != NULL, i < 2, "%s: %s", keys[i],
                     page);
        free(id);
    }
    free(page);
}

Test(routing, paused_subscriptions_queue_and_disabled_or_deleted_do_not)
{
    const char *p = sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"*\"],"
                        "\"status\":\"paused\"}");
    const char *g = sub("cbo", "{\"url\":\"http://b.example/\",\"topics\":[\"*\"]}");
    const char *d = sub("cbo", "{\"url\":\"http://c.example/\",\"topics\":[\"*\"]}");
    char sql[256];

    snprintf(sql, sizeof(sql), "UPDATE subscriptions SET status = 'disabled' "
             "WHERE id = '%s'", g);
    cr_assert_eq(store_exec(s, sql), HUB_OK);
    cr_assert_eq(subs_delete(s, "test", "cbo", d), HUB_OK);
    cr_assert_eq(subs_delete(s, "test", "cbo", d), HUB_ENOTFOUND);
    ingest("hosp", "k1", "adt.admit", "{\"type\":\"adt.admit\"," PAT("1") "}}");
    cr_assert_eq(routed(p, "k1"), 1);
    cr_assert_eq(routed(g, "k1"), 0);
    cr_assert_eq(routed(d, "k1"), 0);
}

Test(routing, invalid_subscriptions_are_refused_with_the_field)
{
    char *out = NULL;
    struct hub_err e = { 0 };
    const char *nourl = "{\"topics\":[\"adt.*\"]}";
    const char *badtopic = "{\"url\":\"http://a.example/\",\"topics\":[\"adt.nope\"]}";
    const char *scheme = "{\"url\":\"ftp://a.example/\",\"topics\":[\"*\"]}";

    cr_assert_eq(subs_create(s, "t", "cbo", nourl, strlen(nourl), NULL, &out,
                             &e), HUB_EINVALID);
    cr_assert_str_eq(e.field, "url");
    cr_assert_eq(subs_create(s, "t", "cbo", badtopic, strlen(badtopic), NULL,
                             &out, &e), HUB_EINVALID);
    cr_assert_str_eq(e.field, "topics[0]");
    cr_assert_eq(subs_create(s, "t", "cbo", scheme, strlen(scheme), NULL,
                             &out, &e), HUB_EINVALID);
    cr_assert_str_eq(e.what, "url scheme is not http or https");
    cr_assert_eq(qlong("SELECT count(*) FROM subscriptions"), 0);
    /* a subscriber sees and changes only its own */
    const char *id = sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"*\"]}");
    cr_assert_eq(subs_get(s, "plan", id, &out), HUB_ENOTFOUND);
    cr_assert_eq(subs_set_status(s, "plan", "plan", id, "paused", &out),
                 HUB_ENOTFOUND);
    cr_assert_eq(subs_get(s, "cbo", id, &out), HUB_OK);
    cr_assert_not_null(strstr(out, "whsec_"), "owner sees its secret");
    free(out);
    cr_assert_eq(subs_list(s, NULL, &out), HUB_OK);
    cr_assert_null(strstr(out, "whsec_"), "lists never show secrets");
    free(out);
}

/* Medplum #2400: a subscription with no URL was silently ignored. An
 * update that would leave a webhook subscription without a usable URL or
 * topic is refused with the field, as a creation is, and changes nothing.
 * (An active webhook subscription left without a URL once matched events
 * with nowhere to send them: every ingest it matched failed on the
 * delivery row's NOT NULL url and was quarantined.) */
Test(routing, an_update_that_would_leave_a_subscription_unusable_is_refused)
{
    static const struct { const char *doc, *field; } bad[] = {
        { "{\"url\":null}", "url" },
        { "{\"url\":\"\"}", "url" },
        { "{\"url\":\"ftp://a.example/\"}", "url" },
        { "{\"topics\":[]}", "topics" },
        { "{\"topics\":[\"adt.nope\"]}", "topics[0]" },
        { "{\"mode\":\"pull\"}", "mode" },
    };
    const char *a = sub("cbo", "{\"url\":\"http://a.example/in\",\"topics\":[\"*\"]}");
    char sql[256];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *out = NULL;
        struct hub_err e = { 0 };
        int rc = subs_update(s, "t", "cbo", a, bad[i].doc,
                             strlen(bad[i].doc), &out, &e);
        cr_expect_eq(rc, HUB_EINVALID, "%s was taken", bad[i].doc);
        if (rc == HUB_EINVALID)
            cr_expect_str_eq(e.field, bad[i].field, "%s", bad[i].doc);
        free(out);
    }
    /* and the table refuses one too, whatever path writes it (a CHECK
     * that meets a NULL URL must not pass it as "unknown") */
    snprintf(sql, sizeof(sql), "UPDATE subscriptions SET url = NULL WHERE "
             "id = '%s'", a);
    cr_assert_eq(store_exec(s, sql), HUB_EINVALID);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM subscriptions WHERE id = "
             "'%s' AND url = 'http://a.example/in' AND status = 'active'", a);
    cr_assert_eq(qlong(sql), 1, "the subscription is as it was");
    /* clearing the url is for a switch to pull mode, and only that */
    const char *pull = "{\"mode\":\"pull\",\"url\":null}";
    char *out = NULL;
    struct hub_err e = { 0 };
    cr_assert_eq(subs_update(s, "t", "cbo", a, pull, strlen(pull), &out, &e),
                 HUB_OK);
    free(out);
    ingest("hosp", "k1", "adt.admit", "{\"type\":\"adt.admit\"," PAT("1") "}}");
    cr_assert_eq(qlong("SELECT count(*) FROM deliveries"), 0);
    cr_assert_eq(routed(a, "k1"), 0);
    cr_assert_eq(qlong("SELECT count(*) FROM event_routes WHERE org_id = "
                       "'cbo'"), 1, "a pull subscription's route");
    /* back to webhook: a pull subscription has no url and no secret, and
     * the switch names the one it lacks; the table's CHECK said "update
     * leaves the subscription inconsistent", field mode (F305) */
#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static const struct { const char *doc, *field, *what; } back[] = {
        { "{\"mode\":\"webhook\",\"url\":\"http://a.example/in\"}",
          "secrets", "no secret" },
        { "{\"mode\":\"webhook\",\"secrets\":[\"" SECRET "\"]}", "url",
          "no url" },
        { "{\"mode\":\"webhook\"}", "url", "no url" },
    };
    const char *p = sub("cbo", "{\"mode\":\"pull\",\"topics\":[\"*\"]}");
    for (size_t i = 0; i < sizeof(back) / sizeof(back[0]); i++) {
        e = (struct hub_err){ 0 };
        out = NULL;
        cr_expect_eq(subs_update(s, "t", "cbo", p, back[i].doc,
                                 strlen(back[i].doc), &out, &e),
                     HUB_EINVALID, "%s", back[i].doc);
        cr_expect_str_eq(e.field, back[i].field, "%s", back[i].doc);
        cr_expect_not_null(e.what && strstr(e.what, back[i].what) ? e.what
                                                                  : NULL,
                           "%s: %s", back[i].doc, e.what);
        free(out);
    }
    const char *hook = "{\"mode\":\"webhook\",\"url\":\"http://a.example/"
                       "in\",\"secrets\":[\"" SECRET "\"]}";
    out = NULL;
    cr_assert_eq(subs_update(s, "t", "cbo", p, hook, strlen(hook), &out, &e),
                 HUB_OK, "%s", e.what);
    free(out);
}

/* --- the dispatcher's SQL ------------------------------------------------- */

/* ids and tokens have room for at least `max` entries */
/* A claim whose per-endpoint cap cannot bind, as a dispatcher's (it asks
 * for at most per_endpoint x 64): hub_claim_deliveries' walk that locks
 * as it goes. claim_per() below makes the cap bind (candidates ranked). */
static int claim(const char *owner, int lease_ms, int max, long *ids,
                 long *tokens)
{
    return storetest_claim(s, owner, lease_ms, max, max, ids, tokens);
}

/* The outcome of attempt `attempt` (what the claim said it was). */
static void done_n(long id, long token, int attempt, int code,
                   const char *outcome)
{
    char sql[512];
    snprintf(sql, sizeof(sql), "SELECT hub_deliveries_done('n', "
             "'[{\"id\":%ld,\"token\":%ld,\"attempt\":%d,\"code\":%d,"
             "\"latency_ms\":1,\"outcome\":\"%s\",\"delay_ms\":0}]')",
             id, token, attempt, code, outcome);
    cr_assert_eq(store_exec(s, sql), HUB_OK);
}

static void done(long id, long token, int code, const char *outcome)
{
    done_n(id, token, 1, code, outcome);
}

Test(routing, claims_keep_order_per_subscription_and_patient)
{
    long ids[8], tok[8];

    sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"*\"]}");
    ingest("hosp", "k1", "adt.admit", "{\"type\":\"adt.admit\"," PAT("1") "}}");
    ingest("hosp", "k2", "adt.discharge", "{\"type\":\"adt.discharge\"," PAT("1") "}}");
    ingest("hosp", "k3", "adt.admit", "{\"type\":\"adt.admit\"," PAT("2") "}}");
    /* patient 1's second event waits behind its first; patient 2 does not */
    cr_assert_eq(claim("a", 60000, 10, ids, tok), 2);
    cr_assert_eq(claim("b", 60000, 5, ids + 2, tok + 2), 0,
                 "leased work is not claimed twice");
    done(ids[0], tok[0], 500, "retry");
    cr_assert_eq(claim("b", 60000, 5, ids + 2, tok + 2), 1,
                 "a failed first delivery still holds the second back");
    cr_assert_eq(ids[2], ids[0], "the retry comes first");
    done(ids[2], tok[2], 0, "dead");
    cr_assert_eq(claim("b", 60000, 5, ids + 3, tok + 3), 1,
                 "a dead letter releases the patient's next event");
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_attempts"), 2);
    cr_assert_eq(qlong("SELECT count(*) FROM audit WHERE action = "
                       "'delivery.attempt' AND patient_hub_id IS NOT NULL"), 2);
}

/* A claim that leased rows commits synchronously (hub_durable()) before the
 * dispatcher sends them: the ingest that wrote them committed without
 * waiting for its flush. */
Test(routing, a_claim_that_leased_rows_waits_for_durability)
{
    long ids[8], tok[8];

    sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"*\"]}");
    ingest("hosp", "k1", "adt.admit", "{\"type\":\"adt.admit\"," PAT("1") "}}");
    char *from = storetest_wal_insert(s);
    cr_assert_eq(claim("a", 60000, 10, ids, tok), 1);
    char *flushed = storetest_wal_flushed(s);
    cr_assert(storetest_durable_between(s, from, flushed));
    free(from);
    free(flushed);
}

/* An outcome flush commits without waiting for its WAL flush (it holds
 * the chain lock to its end, and every ingest waits for that lock); what
 * it makes due is sent only after a claim that waits for durability, and
 * that claim's commit follows the flush's in the WAL. */
Test(routing, a_flush_commits_asynchronously_and_what_it_unblocks_waits)
{
    long ids[8], tok[8];

    sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"*\"]}");
    ingest("hosp", "k1", "adt.admit", "{\"type\":\"adt.admit\"," PAT("1") "}}");
    ingest("hosp", "k2", "adt.discharge", "{\"type\":\"adt.discharge\"," PAT("1") "}}");
    cr_assert_eq(claim("a", 60000, 10, ids, tok), 1);
    cr_assert_eq(store_exec(s, "BEGIN"), HUB_OK);
    done(ids[0], tok[0], 200, "delivered");
    char *sync = q1("SELECT current_setting('synchronous_commit')");
    cr_assert_str_eq(sync, "off", "the flush's commit waits for no flush");
    free(sync);
    cr_assert_eq(store_exec(s, "COMMIT"), HUB_OK);
    char *from = storetest_wal_insert(s);
    cr_assert_eq(claim("a", 60000, 10, ids + 1, tok + 1), 1,
                 "the patient's next event is due once the first is done");
    char *flushed = storetest_wal_flushed(s);
    cr_assert(storetest_durable_between(s, from, flushed));
    free(from);
    free(flushed);
}

/* The deliveries page shows what an ingest wrote, which is visible before
 * its flush: it answers only after a synchronous commit that follows. */
Test(routing, the_deliveries_page_waits_for_durability)
{
    char *page = NULL;

    sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"*\"]}");
    ingest("hosp", "k1", "adt.admit", "{\"type\":\"adt.admit\"," PAT("1") "}}");
    char *from = storetest_wal_insert(s);
    cr_assert_eq(deliveries_list(s, "cbo", NULL, NULL, 0, 10, &page), HUB_OK);
    char *flushed = storetest_wal_flushed(s);
    cr_assert(storetest_durable_between(s, from, flushed));
    cr_assert_not_null(strstr(page, "dlv_"), "%s", page);
    free(page);
    free(from);
    free(flushed);
}

Test(routing, expired_lease_is_taken_over_and_the_late_outcome_is_lost)
{
    long ids[8], tok[8];

    sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"*\"]}");
    ingest("hosp", "k1", "adt.admit", "{\"type\":\"adt.admit\"," PAT("1") "}}");
    cr_assert_eq(claim("dead-node", 50, 10, ids, tok), 1);
    usleep(120 * 1000);
    cr_assert_eq(claim("live-node", 60000, 5, ids + 1, tok + 1), 1);
    cr_assert_eq(ids[1], ids[0]);
    done(ids[0], tok[0], 200, "delivered");     /* the old node wakes up */
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_state WHERE status = "
                       "'delivering' AND lease_owner = 'live-node'"), 1);
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_attempts WHERE outcome "
                       "= 'lost'"), 1);
    done_n(ids[1], tok[1], 2, 200, "delivered");
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_state WHERE status = "
                       "'delivered' AND attempts = 2 AND last_status = 200 "
                       "AND delivered_at IS NOT NULL"), 1);
}

/* A delivered outcome writes no deliveries row (its queue row goes, its
 * attempt row is written): the state operators see is derived, and reads
 * as it did when the row was written; a replay keeps what was shown. */
Test(routing, delivered_outcome_leaves_the_deliveries_row_and_reads_the_same)
{
    long ids[4], tok[4];
    char *page = NULL;

    sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"*\"]}");
    ingest("hosp", "k1", "adt.admit", "{\"type\":\"adt.admit\"," PAT("1") "}}");
    cr_assert_eq(claim("n", 60000, 5, ids, tok), 1);
    done_n(ids[0], tok[0], 1, 500, "retry");
    char *row = q1("SELECT xmin::text || ctid::text FROM deliveries");
    cr_assert_eq(claim("n", 60000, 5, ids + 1, tok + 1), 1);
    done_n(ids[1], tok[1], 2, 204, "delivered");
    /* the same flush again (its first answer lost, F1120): nothing more */
    done_n(ids[1], tok[1], 2, 204, "delivered");
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_attempts"), 2);
    /* another node's late outcome of its expired lease: 'lost' */
    char late[256];
    snprintf(late, sizeof(late), "SELECT hub_deliveries_done('m', '[{\"id\":"
             "%ld,\"token\":%ld,\"attempt\":2,\"code\":204,"
             "\"latency_ms\":1,\"outcome\":\"delivered\","
             "\"delay_ms\":0}]')", ids[1], tok[0]);
    cr_assert_eq(store_exec(s, late), HUB_OK);
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_attempts WHERE "
                       "outcome = 'lost' AND node = 'm'"), 1);
    char *after = q1("SELECT xmin::text || ctid::text FROM deliveries");
    cr_assert_str_eq(after, row, "the deliveries row was not written");
    free(row);
    free(after);
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_state WHERE status = "
                       "'delivered' AND attempts = 2 AND last_status = 204 "
                       "AND last_error IS NULL AND delivered_at IS NOT NULL"),
                 1);
    cr_assert_eq(deliveries_list(s, "cbo", NULL, "delivered", 0, 10, &page),
                 HUB_OK);
    cr_assert_not_null(strstr(page, "\"status\": \"delivered\""), "%s", page);
    cr_assert_not_null(strstr(page, "\"attempts\": 2,"), "%s", page);
    cr_assert_not_null(strstr(page, "\"last_status\": 204,"), "%s", page);
    cr_assert_not_null(strstr(page, "\"delivered_at\": "), "%s", page);
    cr_assert_not_null(strstr(page, "\"outcome\": \"lost\""), "%s", page);
    free(page);
    cr_assert_eq(deliveries_list(s, "cbo", NULL, "failed", 0, 10, &page),
                 HUB_OK);
    cr_assert_null(strstr(page, "dlv_"), "%s", page);
    free(page);

    /* replayed: pending again, attempts reset, the last outcome kept */
    char dlv[32];
    snprintf(dlv, sizeof(dlv), "dlv_%ld", ids[0]);
    cr_assert_eq(deliveries_replay(s, "op", NULL, dlv), HUB_OK);
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_state WHERE status = "
                       "'pending' AND attempts = 0 AND replays = 1 AND "
                       "last_status = 204 AND delivered_at IS NOT NULL"), 1);
    cr_assert_eq(claim("n", 60000, 5, ids + 2, tok + 2), 1);
    done_n(ids[2], tok[2], 1, 500, "dead");
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_state WHERE status = "
                       "'dead' AND attempts = 1 AND last_status = 500 AND "
                       "delivered_at IS NULL"), 1);
    struct store_audit_check c;
    cr_assert_eq(store_audit_verify(s, &c), HUB_OK);
    cr_assert(c.ok);
}

Test(routing, gone_disables_and_pause_stops_claims_and_replay_resends)
{
    long ids[8], tok[8];
    char *out = NULL;
    const char *a = sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"*\"]}");
    const char *b = sub("plan", "{\"url\":\"http://b.example/\",\"topics\":[\"*\"]}");
    char sql[256];

    ingest("hosp", "k1", "adt.admit", "{\"type\":\"adt.admit\"," PAT("1") "}}");
    cr_assert_eq(subs_set_status(s, "plan", "plan", b, "paused", &out), HUB_OK);
    free(out);
    cr_assert_eq(claim("n", 60000, 10, ids, tok), 1, "paused: not claimed");
    done(ids[0], tok[0], 410, "gone");
    snprintf(sql, sizeof(sql), "SELECT status || '/' || status_reason FROM "
             "subscriptions WHERE id = '%s'", a);
    char *v = q1(sql);
    cr_assert_str_eq(v, "disabled/gone");
    free(v);
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_state WHERE status = 'dead'"),
                 1);
    /* resume b: its delivery flows; replay the dead one of a (disabled:
     * replayed but not claimed until the subscriber re-enables it) */
    cr_assert_eq(subs_set_status(s, "plan", "plan", b, "active", &out), HUB_OK);
    free(out);
    cr_assert_eq(claim("n", 60000, 5, ids + 1, tok + 1), 1);
    char dlv[32];
    snprintf(dlv, sizeof(dlv), "dlv_%ld", ids[0]);
    cr_assert_eq(deliveries_replay(s, "op", NULL, dlv), HUB_OK);
    cr_assert_eq(deliveries_replay(s, "op", NULL, dlv), HUB_ENOTFOUND,
                 "pending: nothing to replay");
    cr_assert_eq(claim("n", 60000, 5, ids + 2, tok + 2), 0);
    cr_assert_eq(subs_set_status(s, "cbo", "cbo", a, "active", &out), HUB_OK);
    free(out);
    cr_assert_eq(claim("n", 60000, 5, ids + 2, tok + 2), 1);
    cr_assert_eq(ids[2], ids[0]);
    cr_assert_eq(qlong("SELECT count(*) FROM audit WHERE action IN "
                       "('delivery.replayed', 'subscription.paused', "
                       "'subscription.resumed', 'subscription.disabled')"), 5);
}

Test(routing, replay_by_range_is_bounded_and_audited)
{
    long ids[8], tok[8];
    int n = 0;
    struct hub_err e;
    const char *a = sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"*\"]}");

    for (int i = 0; i < 3; i++) {
        char key[8], body[128];
        snprintf(key, sizeof(key), "k%d", i);
        snprintf(body, sizeof(body), "{\"type\":\"adt.admit\"," PAT("%d") "}}", i);
        ingest("hosp", key, "adt.admit", body);
    }
    cr_assert_eq(claim("n", 60000, 10, ids, tok), 3);
    for (int i = 0; i < 3; i++)
        done(ids[i], tok[i], 500, "dead");
    cr_assert_eq(deliveries_replay_range(s, "op", NULL, a, "2000-01-01",
                                         "2999-01-01", "dead", 2, &n, &e),
                 HUB_OK);
    cr_assert_eq(n, 2, "bounded by max");
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_state WHERE status = "
                       "'pending' AND replays = 1 AND attempts = 0"), 2);
    cr_assert_eq(deliveries_replay_range(s, "op", "plan", a, "2000-01-01",
                                         "2999-01-01", "dead", 10, &n, &e),
                 HUB_ENOTFOUND, "another org's subscription is not there");
    cr_assert_eq(n, 0, "another org cannot replay it");
    cr_assert_eq(deliveries_replay_range(s, "op", NULL, a, "2000-01-01",
                                         "2999-01-01", NULL, 0, &n, &e),
                 HUB_EINVALID);
    cr_assert_str_eq(e.field, "max");
    /* each end is an ISO 8601 time, named when it is not; a cast took
     * "tomorrow", "epoch" and 12/05/2026 (DateStyle's order), and a bad
     * "to" was named "from" (F301) */
    static const struct {
        const char *from, *to, *field;
    } bad[] = {
        { "2000-01-01", "garbage", "to" },
        { "2000-01-01", "tomorrow", "to" },
        { "epoch", "2999-01-01", "from" },
        { "12/05/2026", "2999-01-01", "from" },
        { "2000-01-01", "infinity", "to" },
        { "2999-01-01", "2000-01-01", "to" },   /* ends before it starts */
        { "2000-01-01", "2000-01-01", "to" },   /* [t, t): nothing */
        /* the pattern's shape, an offset the cast refuses (F390) */
        { "2000-01-01", "2026-12-05T04:00:00+16:00", "to" },
        { "2026-12-05T04:00:00+16:00", "2999-01-01", "from" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        n = -1;
        cr_assert_eq(deliveries_replay_range(s, "op", NULL, a, bad[i].from,
                                             bad[i].to, "dead", 10, &n, &e),
                     HUB_EINVALID, "%s %s", bad[i].from, bad[i].to);
        cr_assert_str_eq(e.field, bad[i].field, "%s %s", bad[i].from,
                         bad[i].to);
        cr_assert_eq(n, 0);
    }
    cr_assert_eq(qlong("SELECT count(*) FROM audit WHERE action = "
                       "'delivery.replay_range'"), 1,
                 "another org's attempt is not accounted as a replay");
    char *page = NULL;
    cr_assert_eq(deliveries_list(s, NULL, a, "dead", 0, 10, &page), HUB_OK);
    cr_assert_not_null(strstr(page, "\"history\""), "%s", page);
    /* a finished delivery has no next attempt; it showed its creation
     * time (F310) */
    cr_assert_null(strstr(page, "next_attempt_at"), "%s", page);
    free(page);
    cr_assert_eq(deliveries_list(s, NULL, a, "pending", 0, 10, &page),
                 HUB_OK);
    cr_assert_not_null(strstr(page, "next_attempt_at"), "%s", page);
    free(page);
}

/* OpenHIM #1185 and PR #1058: auto-retry could not be stopped, and turning
 * it on replayed every past failure. Here a resume sends nothing that is
 * dead, and a replay takes only the dead letters of its subscription that
 * were routed in its time range [from, to), and says so in the audit. */
Test(routing, resume_revives_no_dead_letter_and_a_replay_takes_only_its_range)
{
    long ids[16], tok[16];
    int n = 0;
    char *out = NULL;
    char sql[512];
    struct hub_err e;
    const char *a = sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"*\"]}");
    const char *b = sub("plan", "{\"url\":\"http://b.example/\",\"topics\":[\"*\"]}");

    for (int i = 0; i < 3; i++) {
        char key[8], body[128];
        snprintf(key, sizeof(key), "k%d", i);
        snprintf(body, sizeof(body), "{\"type\":\"adt.admit\"," PAT("%d") "}}", i);
        ingest("hosp", key, "adt.admit", body);
    }
    cr_assert_eq(claim("n", 60000, 16, ids, tok), 6);
    for (int i = 0; i < 6; i++)
        done(ids[i], tok[i], 500, "dead");
    /* routed on three days: k0 on the 1st, k1 on the 2nd, k2 on the 3rd */
    cr_assert_eq(store_exec(s, "UPDATE deliveries d SET created_at = "
                               "'2026-03-01T12:00:00Z'::timestamptz + "
                               "(right(m.idem_key, 1)::int || ' days')::interval "
                               "FROM events ev JOIN messages m ON m.id = "
                               "ev.message_id WHERE ev.seq = d.event_seq"),
                 HUB_OK);

    /* paused and resumed: the dead stay dead, nothing is claimable */
    cr_assert_eq(subs_set_status(s, "cbo", "cbo", a, "paused", &out), HUB_OK);
    free(out);
    cr_assert_eq(subs_set_status(s, "cbo", "cbo", a, "active", &out), HUB_OK);
    free(out);
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_state WHERE status = "
                       "'dead'"), 6);
    cr_assert_eq(claim("n", 60000, 16, ids, tok), 0, "a resume replays nothing");

    /* the 2nd of March only, subscription a only */
    cr_assert_eq(deliveries_replay_range(s, "op", "cbo", a,
                                         "2026-03-02T00:00:00Z",
                                         "2026-03-03T00:00:00Z", "dead", 100,
                                         &n, &e), HUB_OK);
    cr_assert_eq(n, 1);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM delivery_state d JOIN "
             "events ev ON ev.seq = d.event_seq JOIN messages m ON m.id = "
             "ev.message_id WHERE d.status = 'pending' AND d.replays = 1 AND "
             "d.subscription_id = '%s' AND m.idem_key = 'k1'", a);
    cr_assert_eq(qlong(sql), 1, "the one routed in the range");
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_state WHERE status = "
                       "'dead'"), 5, "the others, and b's, stay dead");
    cr_assert_eq(claim("n", 60000, 16, ids, tok), 1);
    /* the range is half open: one that ends at the moment k1 was routed
     * takes k0 alone */
    cr_assert_eq(deliveries_replay_range(s, "op", NULL, b, "2026-03-01",
                                         "2026-03-02T12:00:00Z", "dead", 100,
                                         &n, &e), HUB_OK);
    cr_assert_eq(n, 1);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit WHERE action = "
             "'delivery.replay_range' AND object_id IN ('%s', '%s') AND "
             "(detail::jsonb->>'count')::int = 1", a, b);
    cr_assert_eq(qlong(sql), 2, "every replay is audited with its count");
    cr_assert_eq(qlong("SELECT count(*) FROM audit WHERE action = "
                       "'delivery.replayed'"), 2);
}

/* Round 244's 031 and 032, the way back: a webhook subscription moved to
 * the pull feed and back to a webhook at another URL. Its delivery made
 * before the switch is refused a replay while it is pull, and replayed to
 * the URL it has now once it is a webhook again, as its new events go;
 * one disabled by a 410 before the switch comes back active. */
Test(routing, a_replay_after_a_switch_to_pull_and_back_goes_to_the_new_url)
{
    long ids[8], tok[8];
    char dlv[32], sql[256], *out = NULL;
    struct hub_err e = { 0 };

    const char *a = sub("cbo", "{\"url\":\"http://a.example/in\","
                               "\"topics\":[\"*\"]}");
    ingest("hosp", "k1", "adt.admit", "{\"type\":\"adt.admit\"," PAT("1") "}}");
    ingest("hosp", "k2", "adt.admit", "{\"type\":\"adt.admit\"," PAT("2") "}}");
    cr_assert_eq(claim("n", 60000, 10, ids, tok), 2);
    done(ids[0], tok[0], 200, "delivered");
    done(ids[1], tok[1], 410, "gone");
    snprintf(sql, sizeof(sql), "SELECT status FROM subscriptions "
             "WHERE id = '%s'", a);
    char *v = q1(sql);
    cr_assert_str_eq(v, "disabled", "a 410 disables it");
    free(v);
    const char *pull = "{\"mode\":\"pull\",\"url\":null}";
    cr_assert_eq(subs_update(s, "t", "cbo", a, pull, strlen(pull), &out, &e),
                 HUB_OK);
    free(out);
    snprintf(dlv, sizeof(dlv), "dlv_%ld", ids[0]);
    cr_assert_eq(deliveries_replay(s, "op", NULL, dlv), HUB_EUNSUPPORTED,
                 "pull: nowhere to send it");
    const char *hook = "{\"mode\":\"webhook\",\"url\":\"http://b.example/"
                       "in\",\"secrets\":[\"" SECRET "\"]}";
    cr_assert_eq(subs_update(s, "t", "cbo", a, hook, strlen(hook), &out, &e),
                 HUB_OK, "%s", e.what);
    free(out);
    v = q1(sql);
    cr_assert_str_eq(v, "active", "pull made it active; webhook keeps it");
    free(v);
    ingest("hosp", "k3", "adt.admit", "{\"type\":\"adt.admit\"," PAT("3") "}}");
    cr_assert_eq(routed(a, "k3"), 1, "a webhook again: routed");
    cr_assert_eq(deliveries_replay(s, "op", NULL, dlv), HUB_OK);
    snprintf(dlv, sizeof(dlv), "dlv_%ld", ids[1]);
    cr_assert_eq(deliveries_replay(s, "op", NULL, dlv), HUB_OK,
                 "the 410's delivery too");
    v = q1("SELECT string_agg(DISTINCT url || ' ' || endpoint, ',') FROM "
           "hub_claim_deliveries('n', 60000, 10, 10, '{}')");
    cr_assert_str_eq(v, "http://b.example/in http://b.example:80",
                     "the replays and k3 go to the URL it has now");
    free(v);
}

/* --- the claim's caps, set-based outcomes, NOTIFY ----------------------- */

static int claim_per(int max, int per, long *ids, long *tokens)
{
    return storetest_claim(s, "n", 60000, max, per, ids, tokens);
}

/* One flush of several outcomes: `json` is the results array. */
static void flush(const char *json)
{
    const char *params[1] = { json };
    struct store_rows *r = NULL;
    cr_assert_eq(store_query(s, "SELECT hub_deliveries_done('n', $1::json)",
                             1, params, &r), HUB_OK, "%s", json);
    store_rows_free(r);
}

Test(routing, a_claim_caps_each_endpoint_and_fills_from_the_others)
{
    long ids[16], tok[16];
    char key[16], body[160];

    sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"*\"]}");
    sub("plan", "{\"url\":\"https://b.example/\",\"topics\":[\"*\"]}");
    for (int i = 0; i < 4; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        snprintf(body, sizeof(body), "{\"type\":\"adt.admit\","
                 "\"patient\":{\"identifiers\":[{\"system\":\"MRN\","
                 "\"value\":\"p%d\"}]}}", i);
        ingest("hosp", key, "adt.admit", body);
    }
    cr_assert_eq(qlong("SELECT count(*) FROM deliveries"), 8);
    cr_assert_eq(claim_per(10, 2, ids, tok), 4,
                 "two per endpoint, from both endpoints");
    cr_assert_eq(qlong("SELECT count(DISTINCT endpoint) FROM delivery_state "
                       "WHERE status = 'delivering'"), 2);
    cr_assert_eq(qlong("SELECT max(n) FROM (SELECT count(*) n FROM "
                       "delivery_state WHERE status = 'delivering' "
                       "GROUP BY endpoint) x"), 2);
    cr_assert_eq(claim_per(3, 4, ids + 4, tok + 4), 3, "p_max caps the claim");
    cr_assert_eq(qlong("SELECT min(id) FROM delivery_state WHERE status = "
                       "'pending'"), qlong("SELECT max(id) FROM deliveries"),
                 "the oldest due rows go first");
}

/* More active subscriptions than hub_claim_deliveries() keeps in its
 * array of them (64): each row's subscription is then probed, and a
 * paused one still holds its deliveries back, in both forms of the claim
 * (the per-endpoint cap binding or not). */
Test(routing, with_many_active_subscriptions_pause_still_stops_claims)
{
    long ids[8], tok[8];
    char *out = NULL;

    for (int i = 0; i < 65; i++)
        sub("plan", "{\"url\":\"http://c.example/\","
            "\"topics\":[\"goal.updated\"]}");
    const char *b = sub("plan", "{\"url\":\"http://b.example/\",\"topics\":[\"*\"]}");
    sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"*\"]}");
    cr_assert_gt(qlong("SELECT count(*) FROM subscriptions "
                       "WHERE status = 'active'"), 64);
    ingest("hosp", "k1", "adt.admit", "{\"type\":\"adt.admit\"," PAT("1") "}}");
    ingest("hosp", "k2", "adt.admit", "{\"type\":\"adt.admit\"," PAT("2") "}}");
    cr_assert_eq(subs_set_status(s, "plan", "plan", b, "paused", &out), HUB_OK);
    free(out);
    cr_assert_eq(claim_per(10, 1, ids, tok), 1, "a's first, b's paused");
    cr_assert_eq(claim("n", 60000, 10, ids + 1, tok + 1), 1, "a's second");
    cr_assert_eq(claim("n", 60000, 10, ids + 2, tok + 2), 0, "b's paused");
    cr_assert_eq(subs_set_status(s, "plan", "plan", b, "active", &out), HUB_OK);
    free(out);
    cr_assert_eq(claim("n", 60000, 10, ids + 2, tok + 2), 2, "b's resumed");
}

/* --- a claim with a skip list (033) --------------------------------------- */

/* A claim that passes by the endpoints of `skip_urls` (a SQL array of
 * URLs), as a dispatcher's when an endpoint is held, open or at its share;
 * the count of rows it leased. With per >= max the due walk comes first,
 * then each endpoint not skipped on its own; with per < max only the
 * latter (033). */
static long claim_skip(int max, int per, const char *skip_urls)
{
    char sql[512];
    snprintf(sql, sizeof(sql), "SELECT count(id) FROM hub_claim_deliveries("
             "'n', 60000, %d, %d, ARRAY(SELECT hub_url_endpoint(u) FROM "
             "unnest('%s'::text[]) u))", max, per, skip_urls);
    return qlong(sql);
}

/* The lease owner of the delivery of subscription `sub_id` for the event
 * of message `key`: "-" when not leased, "gone" when not queued. */
static char *owner_of(const char *sub_id, const char *key)
{
    char sql[512];
    snprintf(sql, sizeof(sql), "SELECT coalesce((SELECT coalesce("
             "q.lease_owner, '-') FROM delivery_queue q JOIN deliveries d "
             "ON d.id = q.delivery_id JOIN events e ON e.seq = d.event_seq "
             "JOIN messages m ON m.id = e.message_id WHERE "
             "d.subscription_id = '%s' AND m.idem_key = '%s'), 'gone')",
             sub_id, key);
    return q1(sql);
}

static void assert_owner(const char *sub_id, const char *key,
                         const char *want, const char *why)
{
    char *v = owner_of(sub_id, key);
    cr_assert_str_eq(v, want, "%s/%s: %s", sub_id, key, why);
    free(v);
}

/* The per-patient order across endpoints: a row leased at the old URL is
 * left there by a move (hub_sub_update), so one subscription's patient
 * can have its first row at an endpoint a claim skips and its next at one
 * it walks. The next waits, in both of 033's walks. */
Test(routing, a_skip_list_keeps_a_patients_next_row_behind_one_at_a_skipped_endpoint)
{
    long ids[8], tok[8];
    char sql[512], *out = NULL;
    struct hub_err e;

    const char *a = sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"*\"]}");
    ingest("hosp", "k1", "adt.admit", "{\"type\":\"adt.admit\"," PAT("1") "}}");
    cr_assert_eq(claim("x", 60000, 10, ids, tok), 1);
    const char *mv = "{\"url\":\"http://b.example/\"}";
    cr_assert_eq(subs_update(s, "test", "cbo", a, mv, strlen(mv), &out, &e),
                 HUB_OK);
    free(out);
    ingest("hosp", "k2", "adt.discharge", "{\"type\":\"adt.discharge\"," PAT("1") "}}");
    ingest("hosp", "k3", "adt.admit", "{\"type\":\"adt.admit\"," PAT("2") "}}");
    cr_assert_eq(qlong("SELECT count(DISTINCT endpoint) FROM delivery_queue"),
                 2, "k1's leased row stays at a, the others are at b");
    /* k1's node died: its lease is over, its row still at a */
    snprintf(sql, sizeof(sql), "UPDATE delivery_queue SET lease_until = "
             "now() - interval '1 s' WHERE delivery_id = %ld", ids[0]);
    cr_assert_eq(store_exec(s, sql), HUB_OK);
    cr_assert_eq(claim_skip(10, 1, "{http://a.example/}"), 1,
                 "per endpoint: patient 2's row only");
    assert_owner(a, "k3", "n", "patient 2 is free");
    assert_owner(a, "k2", "-", "patient 1's next waits behind k1 at a");
    snprintf(sql, sizeof(sql), "UPDATE delivery_queue SET lease_owner = "
             "NULL, lease_until = NULL, lease_token = NULL WHERE "
             "lease_owner = 'n'");
    cr_assert_eq(store_exec(s, sql), HUB_OK);
    cr_assert_eq(claim_skip(10, 10, "{http://a.example/}"), 1,
                 "due walk first: patient 2's row only");
    assert_owner(a, "k2", "-", "patient 1's next waits behind k1 at a");
    cr_assert_eq(claim_skip(10, 10, "{http://a.example/}"), 0);
    /* without the skip list the takeover comes first, then k2 */
    cr_assert_eq(claim("y", 60000, 10, ids, tok), 1);
    assert_owner(a, "k1", "y", "taken over");
    assert_owner(a, "k2", "-", "still behind k1");
}

/* What a claim with a skip list leaves, as the claim without one: leased
 * rows, a paused or deleted subscription's rows, rows due later, the
 * skipped endpoint's rows; and the per-endpoint cap. */
static void skip_claim_leaves_what_a_claim_leaves(int per)
{
    char sql[512], *out = NULL;

    const char *a = sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"*\"]}");
    const char *b = sub("cbo", "{\"url\":\"http://b.example/\",\"topics\":[\"*\"]}");
    const char *c = sub("plan", "{\"url\":\"http://c.example/\",\"topics\":[\"*\"]}");
    const char *d = sub("plan", "{\"url\":\"http://d.example/\",\"topics\":[\"*\"]}");
    const char *f = sub("plan", "{\"url\":\"http://f.example/\",\"topics\":[\"*\"]}");
    ingest("hosp", "k1", "adt.admit", "{\"type\":\"adt.admit\"," PAT("1") "}}");
    ingest("hosp", "k2", "adt.admit", "{\"type\":\"adt.admit\"," PAT("2") "}}");
    ingest("hosp", "k3", "adt.admit", "{\"type\":\"adt.admit\"," PAT("3") "}}");
    cr_assert_eq(subs_set_status(s, "cbo", "cbo", b, "paused", &out), HUB_OK);
    free(out);
    cr_assert_eq(subs_delete(s, "plan", "plan", d), HUB_OK);
    /* f's row of patient 3 waits for a retry's backoff */
    snprintf(sql, sizeof(sql), "UPDATE delivery_queue SET due_at = now() + "
             "interval '1 hour' WHERE subscription_id = '%s' AND "
             "patient_hub_id = (SELECT max(patient_hub_id) FROM "
             "delivery_queue WHERE subscription_id = '%s')", f, f);
    cr_assert_eq(store_exec(s, sql), HUB_OK);
    /* (b's rows are held: due at infinity) */
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM delivery_queue WHERE "
             "subscription_id = '%s' AND due_at > now()", f);
    cr_assert_eq(qlong(sql), 1);
    long n = 0, got;
    while ((got = claim_skip(4, per, "{http://a.example/}")) > 0) {
        cr_assert_leq(got, 2 * per, "at most %d an endpoint", per);
        n += got;
    }
    cr_assert_eq(n, 5, "c's three and f's two due");
    const char *keys[] = { "k1", "k2", "k3" };
    for (int i = 0; i < 3; i++) {
        assert_owner(a, keys[i], "-", "a skipped");
        assert_owner(b, keys[i], "-", "b paused");
        assert_owner(d, keys[i], "gone", "d deleted");
        assert_owner(c, keys[i], "n", "c walked");
    }
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_queue WHERE "
                       "due_at > now() AND lease_owner IS NOT NULL"), 0,
                 "a row due later is not taken");
    cr_assert_eq(claim_skip(4, per, "{}"), per < 3 ? per : 3,
                 "a's, once not skipped (%d at most)", per);
}

Test(routing, a_claim_with_a_skip_list_leaves_what_a_claim_leaves_due_walk)
{
    skip_claim_leaves_what_a_claim_leaves(4);
}

Test(routing, a_claim_with_a_skip_list_leaves_what_a_claim_leaves_per_endpoint)
{
    skip_claim_leaves_what_a_claim_leaves(1);
}

/* A claim takes the endpoints' due rows in turns (035, F4222): every
 * endpoint's first before any endpoint's second, a turn's rows oldest
 * first when it has more than are wanted. In due order, a new row of one
 * endpoint came after every older row of the others. Four rows at a, then
 * one at b and one at c; with and without a skip list. */
Test(routing, a_claim_takes_each_endpoints_first_row_before_any_second)
{
    long ids[8], tok[8];
    const char *a = sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"adt.admit\"]}");
    const char *b = sub("plan", "{\"url\":\"http://b.example/\",\"topics\":[\"adt.update\"]}");
    const char *c = sub("plan", "{\"url\":\"http://c.example/\",\"topics\":[\"adt.discharge\"]}");
    const char *akeys[] = { "k1", "k2", "k3", "k4" };
    for (int i = 0; i < 4; i++) {
        char pat[128];
        snprintf(pat, sizeof(pat), "{\"type\":\"adt.admit\"," PAT("%d") "}}",
                 i + 1);
        ingest("hosp", akeys[i], "adt.admit", pat);
    }
    ingest("hosp", "k5", "adt.update", "{\"type\":\"adt.update\"," PAT("5") "}}");
    ingest("hosp", "k6", "adt.discharge", "{\"type\":\"adt.discharge\"," PAT("6") "}}");
    const char *unlease = "UPDATE delivery_queue SET lease_owner = NULL, "
                          "lease_until = NULL, lease_token = NULL";

    cr_assert_eq(claim("n", 60000, 2, ids, tok), 2);
    assert_owner(a, "k1", "n", "a's first");
    assert_owner(b, "k5", "n", "b's first, before a's second");
    assert_owner(a, "k2", "-", "a's second after every first");
    assert_owner(c, "k6", "-", "the turn's rows oldest first: b's before c's");

    cr_assert_eq(store_exec(s, unlease), HUB_OK);
    cr_assert_eq(claim_skip(2, 2, "{http://c.example/}"), 2);
    assert_owner(a, "k1", "n", "with a skip list: a's first");
    assert_owner(b, "k5", "n", "with a skip list: b's first");
    assert_owner(a, "k2", "-", "with a skip list: a's second after");
    assert_owner(c, "k6", "-", "c skipped");

    cr_assert_eq(store_exec(s, unlease), HUB_OK);
    cr_assert_eq(claim("n", 60000, 3, ids, tok), 3);
    assert_owner(c, "k6", "n", "each endpoint's first");
    /* only a is left: its next three in a turn of its own */
    cr_assert_eq(claim("n", 60000, 3, ids, tok), 3);
    for (int i = 0; i < 4; i++)
        assert_owner(a, akeys[i], "n", "a's rows, in turns");
}

/* 033's walk per endpoint reads the endpoints' rows by their own index
 * (not the due index with every skipped row's heap fetched). */
Test(routing, a_claim_with_a_skip_list_reads_the_endpoint_index)
{
    sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"*\"]}");
    sub("plan", "{\"url\":\"http://b.example/\",\"topics\":[\"*\"]}");
    ingest("hosp", "k1", "adt.admit", "{\"type\":\"adt.admit\"," PAT("1") "}}");
    const char *scans = "SELECT coalesce(sum(idx_scan), 0) FROM "
                        "pg_stat_user_indexes WHERE indexrelname = "
                        "'delivery_queue_endpoint_due'";
    cr_assert_eq(store_exec(s, "SELECT pg_stat_force_next_flush()"), HUB_OK);
    long before = qlong(scans);
    cr_assert_eq(claim_skip(4, 1, "{http://a.example/}"), 1);
    cr_assert_eq(store_exec(s, "SELECT pg_stat_force_next_flush()"), HUB_OK);
    cr_assert_eq(store_exec(s, "SELECT pg_stat_clear_snapshot()"), HUB_OK);
    cr_assert_gt(qlong(scans), before, "the endpoint index was read");
}

Test(routing, a_released_claim_is_handed_back_uncounted_and_unaudited)
{
    long ids[4], tok[4];
    char json[256];

    sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"*\"]}");
    ingest("hosp", "k1", "adt.admit", "{\"type\":\"adt.admit\"," PAT("1") "}}");
    cr_assert_eq(claim("n", 60000, 5, ids, tok), 1);
    snprintf(json, sizeof(json), "[{\"id\":%ld,\"token\":%ld,\"attempt\":1,"
             "\"code\":null,\"error\":null,\"latency_ms\":0,"
             "\"outcome\":\"release\",\"delay_ms\":0}]", ids[0], tok[0]);
    flush(json);
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_state WHERE status = "
                       "'pending' AND attempts = 0 AND lease_until IS NULL"), 1);
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_attempts"), 0);
    cr_assert_eq(qlong("SELECT count(*) FROM audit WHERE action = "
                       "'delivery.attempt'"), 0);
    cr_assert_eq(claim("n", 60000, 5, ids + 1, tok + 1), 1);
    cr_assert_eq(ids[1], ids[0]);
    cr_assert_eq(qlong("SELECT attempts FROM delivery_state"), 1);
    flush(json);        /* a stale release (old token) changes nothing */
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_state WHERE status = "
                       "'delivering'"), 1);
}

Test(routing, one_flush_records_each_outcome_in_order_with_its_audit_row)
{
    long ids[8], tok[8];
    char json[2048];
    size_t n = 0;
    const char *a = sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"*\"]}");
    const char *b = sub("plan", "{\"url\":\"http://b.example/\",\"topics\":[\"*\"]}");

    ingest("hosp", "k1", "adt.admit", "{\"type\":\"adt.admit\"," PAT("1") "}}");
    ingest("hosp", "k2", "adt.admit", "{\"type\":\"adt.admit\"," PAT("2") "}}");
    ingest("hosp", "k3", "adt.admit", "{\"type\":\"adt.admit\"," PAT("3") "}}");
    cr_assert_eq(claim("n", 60000, 8, ids, tok), 6);
    /* in reverse id order, so that the audit order is the flush's, not the
     * table's: a's three get delivered, 500-retry, dead; b's three get
     * gone, gone (one disable only), 204 */
    static const char *const out_a[] = { "delivered", "retry", "dead" };
    static const char *const out_b[] = { "gone", "gone", "delivered" };
    static const int code_a[] = { 200, 500, 500 }, code_b[] = { 410, 410, 204 };
    int ka = 0, kb = 0;
    char order[8][32];
    n += (size_t)snprintf(json + n, sizeof(json) - n, "[");
    for (int i = 5; i >= 0; i--) {
        char q[128];
        snprintf(q, sizeof(q), "SELECT subscription_id FROM deliveries "
                 "WHERE id = %ld", ids[i]);
        char *sid = q1(q);
        bool is_a = strcmp(sid, a) == 0;
        free(sid);
        const char *o = is_a ? out_a[ka] : out_b[kb];
        int c = is_a ? code_a[ka++] : code_b[kb++];
        snprintf(order[5 - i], sizeof(order[0]), "dlv_%ld", ids[i]);
        n += (size_t)snprintf(json + n, sizeof(json) - n,
                              "%s{\"id\":%ld,\"token\":%ld,\"attempt\":1,"
                              "\"code\":%d,\"error\":null,\"latency_ms\":3,"
                              "\"outcome\":\"%s\",\"delay_ms\":60000}",
                              i == 5 ? "" : ",", ids[i], tok[i], c, o);
    }
    snprintf(json + n, sizeof(json) - n, "]");
    cr_assert_eq(ka, 3);
    flush(json);

    cr_assert_eq(qlong("SELECT count(*) FROM delivery_attempts"), 6);
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_attempts WHERE "
                       "latency_ms = 3 AND node = 'n'"), 6);
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_state WHERE status = "
                       "'delivered'"), 2);
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_state WHERE status = "
                       "'failed' AND last_status = 500 AND next_attempt_at > "
                       "now() + interval '50 s'"), 1);
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_state WHERE status = "
                       "'dead'"), 3);
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT status FROM subscriptions WHERE id = "
             "'%s'", b);
    char *st = q1(sql);
    cr_assert_str_eq(st, "disabled");
    free(st);
    /* the audit rows: one per attempt in flush order, and the one disable
     * right after the first 410 */
    char *got = q1("SELECT string_agg(object_id, ' ' ORDER BY seq) FROM audit "
                   "WHERE action IN ('delivery.attempt', "
                   "'subscription.disabled')");
    char want[512] = "";
    size_t w = 0;
    bool disabled = false;
    kb = 0;
    for (int i = 0; i < 6; i++) {
        w += (size_t)snprintf(want + w, sizeof(want) - w, "%s%s",
                              i ? " " : "", order[i]);
        char q[384];
        snprintf(q, sizeof(q), "SELECT subscription_id FROM deliveries "
                 "WHERE 'dlv_' || id = '%s'", order[i]);
        char *sid = q1(q);
        if (strcmp(sid, b) == 0 && kb++ == 0 && !disabled) {
            w += (size_t)snprintf(want + w, sizeof(want) - w, " %s", b);
            disabled = true;
        }
        free(sid);
    }
    cr_assert_str_eq(got, want);
    free(got);
    cr_assert_eq(qlong("SELECT count(*) FROM audit WHERE action = "
                       "'delivery.attempt' AND detail::jsonb->>'outcome' = "
                       "'gone' AND detail::jsonb->>'code' = '410' AND "
                       "detail::jsonb->>'node' = 'n'"),
                 2);
    cr_assert_eq(qlong("SELECT count(*) FROM hub_audit_verify() WHERE ok"), 1);
}

/* hub_deliveries_done writes each attempt row's detail and canonical text
 * itself (as jsonb prints them): strings that need escaping, a missing
 * status code, an outcome whose lease was lost and an event without a
 * patient must still give rows that hub_audit_verify() recomputes alike. */
Test(routing, attempt_rows_hold_their_detail_exactly_whatever_the_strings)
{
    long ids[4], tok[4];
    char json[1024];
    const char *odd = "a \\\"q\\\" \\\\ \\u00e9\\u0001\\t/";

    sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"*\"]}");
    ingest("hosp", "k1", "adt.admit", "{\"type\":\"adt.admit\"," PAT("1") "}}");
    ingest("hosp", "k2", "adt.admit", "{\"type\":\"adt.admit\"}");
    cr_assert_eq(claim("n", 60000, 4, ids, tok), 2);
    snprintf(json, sizeof(json),
             "[{\"id\":%ld,\"token\":%ld,\"attempt\":1,\"code\":null,"
             "\"error\":\"%s\",\"latency_ms\":7,\"outcome\":\"retry\","
             "\"delay_ms\":1000},"
             "{\"id\":%ld,\"token\":%ld,\"attempt\":2,\"code\":200,"
             "\"error\":null,\"latency_ms\":0,\"outcome\":\"delivered\","
             "\"delay_ms\":0}]", ids[0], tok[0], odd, ids[1], tok[1] + 1000);
    const char *params[2] = { "node \"x\" \xc3\xa9\\", json };
    struct store_rows *r = NULL;
    cr_assert_eq(store_query(s, "SELECT hub_deliveries_done($1, $2::json)", 2,
                             params, &r), HUB_OK);
    store_rows_free(r);
    cr_assert_eq(qlong("SELECT count(*) FROM audit WHERE action = "
                       "'delivery.attempt'"), 2);
    cr_assert_eq(qlong("SELECT count(*) FROM audit WHERE action = "
                       "'delivery.attempt' AND detail::jsonb->>'error' = "
                       "E'a \\\"q\\\" \\\\ \\u00e9\\u0001\\t/' AND "
                       "detail::jsonb->'code' = 'null' AND "
                       "detail::jsonb->>'outcome' = 'retry' AND "
                       "detail::jsonb->>'latency_ms' = '7' AND "
                       "detail::jsonb->>'node' = E'node \"x\" \\u00e9\\\\'"), 1);
    cr_assert_eq(qlong("SELECT count(*) FROM audit WHERE action = "
                       "'delivery.attempt' AND detail::jsonb->>'outcome' = "
                       "'lost' AND detail::jsonb->>'code' = '200' AND "
                       "detail::jsonb->>'attempt' = '2' AND "
                       "patient_hub_id IS NULL"), 1,
                 "another node's lease: recorded as lost");
    /* stored as jsonb prints it (audit.detail is that text) */
    cr_assert_eq(qlong("SELECT count(*) FROM audit "
                       "WHERE detail <> detail::jsonb::text"), 0);
    cr_assert_eq(qlong("SELECT count(*) FROM audit a WHERE a.action = "
                       "'delivery.attempt' AND a.detail::jsonb ?& ARRAY['event', "
                       "'subscription', 'recipient', 'attempt', 'code', "
                       "'error', 'latency_ms', 'outcome', 'node'] AND "
                       "(SELECT count(*) FROM "
                       "jsonb_object_keys(a.detail::jsonb)) = 9"), 2);
    cr_assert_eq(qlong("SELECT count(*) FROM hub_audit_verify() WHERE ok"), 1);
    /* each delivery's history, with a patient and without one (found by
     * different indexes: hub_attempt_rows) */
    char *page = NULL;
    cr_assert_eq(deliveries_list(s, "cbo", NULL, NULL, 0, 10, &page), HUB_OK);
    char *lost = strstr(page, "\"outcome\": \"lost\"");
    char *retry = strstr(page, "\"outcome\": \"retry\"");
    cr_assert(lost && retry && lost < retry, "newest first: %s", page);
    free(page);
}

/* s as the inside of a quoted array element (static buffer, one at a
 * time per call site: copied by the caller's snprintf) */
static const char *arr_escape(const char *v)
{
    static char out[2][512];
    static int k;
    char *o = out[k++ % 2], *p = o;
    for (; *v && p < o + sizeof(out[0]) - 2; v++) {
        if (*v == '"' || *v == '\\')
            *p++ = '\\';
        *p++ = *v;
    }
    *p = '\0';
    return o;
}

/* The count `sql` gives with $1 = v. */
static long count_where(const char *sql, const char *v)
{
    const char *pa[1] = { v };
    struct store_rows *r = NULL;
    cr_assert_eq(store_query(s, sql, 1, pa, &r), HUB_OK);
    long n = strtol(store_rows_get(r, 0, 0), NULL, 10);
    store_rows_free(r);
    return n;
}

/* The details hubd writes (p_detail) are stored as they are; one whose
 * lease another node took over is recorded with outcome 'lost'; one left
 * NULL is written by the flush; the chain verifies. */
Test(routing, attempt_details_written_by_the_dispatcher_are_kept_or_made_lost)
{
    long ids[4], tok[4];
    char sql[512];

    sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"*\"]}");
    for (int i = 0; i < 3; i++) {
        char key[8], body[128];
        snprintf(key, sizeof(key), "k%d", i);
        snprintf(body, sizeof(body), "{\"type\":\"adt.admit\"," PAT("%d") "}}", i);
        ingest("hosp", key, "adt.admit", body);
    }
    cr_assert_eq(claim_per(3, 3, ids, tok), 3);
    /* as dispatch_db.c writes them: keys by length, then bytes */
    snprintf(sql, sizeof(sql),
             "SELECT '{\"code\": 204, \"node\": \"n\", \"error\": null, "
             "\"event\": ' || to_json(event_id) || ', \"attempt\": 1, "
             "\"outcome\": \"delivered\", \"recipient\": \"cbo\", "
             "\"latency_ms\": 3, \"subscription\": ' || "
             "to_json(subscription_id) || '}' FROM deliveries WHERE id = $1");
    char *det[3];
    for (int i = 0; i < 3; i++) {
        char id[24];
        snprintf(id, sizeof(id), "%ld", ids[i]);
        const char *pa[1] = { id };
        struct store_rows *r = NULL;
        cr_assert_eq(store_query(s, sql, 1, pa, &r), HUB_OK);
        det[i] = strdup(store_rows_get(r, 0, 0));
        store_rows_free(r);
    }
    char a_id[96], a_tok[96];
    snprintf(a_id, sizeof(a_id), "{%ld,%ld,%ld}", ids[0], ids[1], ids[2]);
    snprintf(a_tok, sizeof(a_tok), "{%ld,%ld,%ld}", tok[0], tok[1] + 1000,
             tok[2]);
    char a_det[1024];
    snprintf(a_det, sizeof(a_det), "{\"%s\",\"%s\",NULL}",
             arr_escape(det[0]), arr_escape(det[1]));
    const char *params[3] = { a_id, a_tok, a_det };
    struct store_rows *r = NULL;
    cr_assert_eq(store_query(s, "SELECT hub_deliveries_done('n', "
                             "$1::bigint[], $2::bigint[], '{1,1,1}', "
                             "'{204,204,204}', '{NULL,NULL,NULL}', '{3,3,3}', "
                             "'{delivered,delivered,delivered}', '{0,0,0}', "
                             "$3::text[])", 3, params, &r), HUB_OK);
    store_rows_free(r);
    char expect[512];
    snprintf(expect, sizeof(expect), "SELECT count(*) FROM audit WHERE "
             "object_id = 'dlv_%ld' AND detail = $1", ids[0]);
    cr_assert_eq(count_where(expect, det[0]), 1, "kept as written");
    const char *o = strstr(det[1], "\"outcome\": \"delivered\"");
    cr_assert_not_null(o);
    char lost[512];
    snprintf(lost, sizeof(lost), "%.*s\"outcome\": \"lost\"%s",
             (int)(o - det[1]), det[1], o + strlen("\"outcome\": \"delivered\""));
    snprintf(expect, sizeof(expect), "SELECT count(*) FROM audit WHERE "
             "object_id = 'dlv_%ld' AND detail = $1", ids[1]);
    cr_assert_eq(count_where(expect, lost), 1, "%s", lost);
    snprintf(expect, sizeof(expect), "SELECT count(*) FROM audit WHERE "
             "object_id = 'dlv_%ld' AND detail::jsonb->>'node' = 'n' AND "
             "detail::jsonb->>'outcome' = 'delivered' AND detail = $1::jsonb::text",
             ids[2]);
    cr_assert_eq(count_where(expect, det[2]), 1, "NULL: written by the flush");
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_state WHERE status = "
                       "'delivered'"), 2);
    cr_assert_eq(qlong("SELECT count(*) FROM hub_audit_verify() WHERE ok"), 1);
    for (int i = 0; i < 3; i++)
        free(det[i]);
}

/* Notifications sent to `l` by now (drained). A round trip on `l` makes
 * its backend send, before it answers, every notification committed
 * before the query (PostgreSQL delivers pending notifies before
 * ReadyForQuery): no waiting, so no late one from an earlier commit is
 * counted later (a 100 ms pause was meant to drain them), and none that
 * was sent can be missed by a short window. */
static int notified(struct store *l)
{
    cr_assert_eq(store_ping(l), HUB_OK);
    int n = store_notifications(l);
    cr_assert_geq(n, 0);
    return n;
}

Test(routing, an_outcome_notifies_only_when_a_later_delivery_waits_for_it)
{
    long ids[4], tok[4];
    struct store *l = NULL;

    sub("cbo", "{\"url\":\"http://a.example/\",\"topics\":[\"*\"]}");
    cr_assert_eq(store_connect(url, &l), HUB_OK);
    cr_assert_eq(store_listen(l, "hub_deliveries"), HUB_OK);
    ingest("hosp", "k1", "adt.admit", "{\"type\":\"adt.admit\"," PAT("1") "}}");
    ingest("hosp", "k2", "adt.discharge", "{\"type\":\"adt.discharge\"," PAT("1") "}}");
    ingest("hosp", "k3", "adt.admit", "{\"type\":\"adt.admit\"," PAT("2") "}}");
    cr_assert_gt(notified(l), 0, "routing wakes the dispatchers");
    cr_assert_eq(claim("n", 60000, 5, ids, tok), 2);
    done(ids[1], tok[1], 200, "delivered");     /* patient 2: none waits */
    cr_assert_eq(notified(l), 0);
    done(ids[0], tok[0], 500, "retry");         /* still holds the next */
    cr_assert_eq(notified(l), 0);
    cr_assert_eq(claim("n", 60000, 5, ids + 2, tok + 2), 1,
                 "the retry (delay 0: due at once), not the event behind it");
    cr_assert_eq(ids[2], ids[0]);
    done(ids[2], tok[2], 200, "delivered");
    cr_assert_gt(notified(l), 0, "patient 1's next event is due now");
    store_free(l);
}

/* One outcome through hub_health_apply (as a flush of one node hands it):
 * delivery `id` of sub, its attempt and lease token. */
static void health_step(const char *sub_id, const char *outcome, int id,
                        int attempt, long token)
{
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM (SELECT hub_health_apply(ARRAY['%s'], "
             "ARRAY[%d::bigint], ARRAY['%s'], ARRAY[true], ARRAY['%s'], "
             "ARRAY[1::bigint], ARRAY['p1'], ARRAY[%d], ARRAY[500], "
             "ARRAY[NULL::text], 3, ARRAY[%ld::bigint])) x",
             sub_id, id, outcome, sub_id, attempt, token);
    cr_assert_eq(qlong(sql), 1);
}

/* Health moves by the news, not by the order two nodes flush it: a
 * failure of an attempt claimed before the success that made the
 * subscription healthy again (a smaller lease token; the other node's
 * flush brought it late) changes nothing; a later one does. Seen in CI:
 * two hubd, an endpoint failing its first requests, alerted twice. */
Test(routing, a_failure_older_than_the_recovery_does_not_alert_again)
{
    const char *w = sub("cbo", "{\"url\":\"http://127.0.0.1:9/h\","
                        "\"topics\":[\"adt.*\"]}");
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT health FROM subscriptions "
             "WHERE id = '%s'", w);
    health_step(w, "retry", 1, 3, 5);
    char *h = q1(sql);
    cr_assert_str_eq(h, "failing");
    free(h);
    health_step(w, "delivered", 2, 4, 10);
    h = q1(sql);
    cr_assert_str_eq(h, "healthy");
    free(h);
    health_step(w, "retry", 3, 3, 7);           /* claimed before 10 */
    h = q1(sql);
    cr_assert_str_eq(h, "healthy");
    free(h);
    health_step(w, "retry", 4, 3, 12);          /* claimed after */
    h = q1(sql);
    cr_assert_str_eq(h, "failing");
    free(h);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit WHERE action = "
             "'subscription.health' AND object_id = '%s'", w);
    cr_assert_eq(qlong(sql), 3);
}

/* Sensitive data is opt-in by an operator's grant: a subscription may list
 * in filters.sensitivity only labels its organization holds; a label a
 * live subscription lists cannot be taken away from under it. */
Test(routing, a_label_opted_in_must_be_granted_to_the_organization)
{
    static const char doc[] = "{\"url\":\"http://a.example/\","
        "\"topics\":[\"*\"],\"filters\":{\"sensitivity\":[\"sud\"]}}";
    char *out = NULL;
    struct hub_err err = { 0 };

    cr_assert_eq(subs_create(s, "test", "cbo", doc, strlen(doc), NULL, &out,
                             &err), HUB_EAUTH);
    cr_assert_null(out);
    cr_assert_str_eq(err.field, "filters.sensitivity");
    cr_assert_eq(qlong("SELECT count(*) FROM subscriptions"), 0);

    cr_assert_eq(store_org_set_labels(s, "test", "cbo", "sud,psy"), HUB_OK);
    cr_assert_eq(subs_create(s, "test", "cbo", doc, strlen(doc), NULL, &out,
                             &err), HUB_OK);
    char id[64];
    storetest_json_id(out, id);
    free(out);
    /* psy is not listed: it may go; sud is: it stays */
    cr_assert_eq(store_org_set_labels(s, "test", "cbo", "sud"), HUB_OK);
    cr_assert_eq(store_org_set_labels(s, "test", "cbo", ""), HUB_EINVALID);
    cr_assert_str_eq(store_last_sqlstate(s), "23H01");
    /* an update that adds a label not granted is refused too */
    static const char upd[] = "{\"filters\":{\"sensitivity\":"
                              "[\"sud\",\"psy\"]}}";
    cr_assert_eq(subs_update(s, "test", NULL, id, upd, strlen(upd), &out,
                             &err), HUB_EAUTH);
    cr_assert_eq(qlong("SELECT count(*) FROM audit WHERE action = "
                       "'org.labels'"), 2);
    cr_assert_eq(store_org_set_labels(s, "test", "nobody", "sud"),
                 HUB_ENOTFOUND);
}

/* The county tables (001_init.sql, filled by 002_us_counties.sql) are
 * whole: every county's state is a state of us_states, no state has two
 * counties of one name key (a name finds one county), and the Census
 * file's 3,235 rows and the 13 codes made since are all there, each by
 * every form of it. */
Test(routing, the_county_table_is_consistent)
{
    cr_assert_eq(qlong("SELECT count(*) FROM us_counties c WHERE NOT EXISTS "
                       "(SELECT 1 FROM us_states s WHERE s.code = c.state "
                       "AND left(c.fips, 2) = s.fips)"), 0);
    cr_assert_eq(qlong("SELECT count(*) FROM (SELECT 1 FROM us_counties "
                       "GROUP BY state, name_key HAVING count(*) > 1) d"), 0);
    cr_assert_eq(qlong("SELECT count(*) FROM us_counties"), 3235 + 13);
    /* each by its five digits alone, and by three forms of it (five
     * digits, three, its name) with three of its state's (USPS, FIPS,
     * name) */
    cr_assert_eq(qlong("SELECT count(*) FROM us_county_keys"),
                 (3235 + 13) * 10);
    cr_assert_eq(qlong("SELECT count(*) FROM us_counties WHERE fips !~ "
                       "'^[0-9]{5}$' OR name_key = ''"), 0);
}

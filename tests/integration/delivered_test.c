/*
 * delivered_test.c - a flush of deliveries alone (hub_deliveries_delivered,
 * 036) on real PostgreSQL: it records what hub_deliveries_done records for
 * the same outcomes, and keeps its guarantees: an outcome of a lease another
 * node holds is lost, a flush sent again records nothing twice, a delivery
 * releases the next of its (subscription, patient) and wakes the
 * dispatchers, a delivery makes its subscription healthy, and any other
 * batch takes the full flush.
 */
#include <criterion/criterion.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hub_err.h"
#include "store.h"
#include "../lib/storetest.h"

static char *url;
static struct store *s;
static char sub[64];

static void setup(void)
{
    s = storetest_open(&url, storetest_hosp_cbo, 2);
    storetest_sub(s, "cbo", "{\"url\":\"http://cbo.example/h\","
                  "\"topics\":[\"adt.*\"]}", sub);
}

static void teardown(void)
{
    storetest_close(&s, &url);
}

TestSuite(delivered, .init = setup, .fini = teardown, .timeout = 60);

static long qlong(const char *sql)
{
    return storetest_long(s, sql);
}

/* One event of the patient with MRN `mrn`, message key `key`. */
static void ingest(const char *key, const char *mrn)
{
    char body[256];
    snprintf(body, sizeof(body), "{\"type\":\"adt.admit\",\"patient\":"
             "{\"identifiers\":[{\"system\":\"MRN\",\"value\":\"%s\"}]}}",
             mrn);
    storetest_ingest(s, "hosp", "hl7v2", key, "adt.admit", body);
}

/* The flush `fn` of n outcomes (`outcome` each, first attempts) as hubd
 * sends it: each detail written as hubd writes it (jsonb's text), the
 * batch's subscriptions named. Returns what it returned. */
static long flush(const char *fn, const long *ids, const long *tok, int n,
                  const char *outcome)
{
    char a_id[512] = "", a_tok[512] = "", sql[4096];
    for (int i = 0; i < n; i++) {
        size_t l = strlen(a_id), m = strlen(a_tok);
        snprintf(a_id + l, sizeof(a_id) - l, "%s%ld", i ? "," : "", ids[i]);
        snprintf(a_tok + m, sizeof(a_tok) - m, "%s%ld", i ? "," : "",
                 tok[i]);
    }
    snprintf(sql, sizeof(sql),
             "SELECT %s('node', array_agg(o.id ORDER BY o.k), "
             "array_agg(o.tok ORDER BY o.k), array_agg(1 ORDER BY o.k), "
             "array_agg(200 ORDER BY o.k), array_agg(NULL::text), "
             "array_agg(5), array_agg('%s'::text), array_agg(0::bigint), "
             "array_agg(jsonb_build_object('code', 200, 'node', 'node', "
             "'error', NULL, 'event', d.event_id, 'attempt', 1, "
             "'outcome', '%s', 'recipient', d.org_id, 'latency_ms', 5, "
             "'subscription', d.subscription_id)::text ORDER BY o.k), "
             "array_agg(DISTINCT d.subscription_id)) "
             "FROM unnest('{%s}'::bigint[], '{%s}'::bigint[]) "
             "WITH ORDINALITY AS o(id, tok, k) "
             "JOIN deliveries d ON d.id = o.id",
             fn, outcome, outcome, a_id, a_tok);
    return qlong(sql);
}

static void chain_whole(void)
{
    struct store_audit_check c;
    cr_assert_eq(store_audit_verify(s, &c), HUB_OK);
    cr_assert(c.ok, "audit chain broken at %lld (%s)", (long long)c.bad_seq,
              c.problem);
}

/* Two deliveries by the lean path and one by the full one: each queue row
 * gone, each delivery delivered, one attempt row each with the detail hubd
 * wrote, in outcome order, the chain whole. */
Test(delivered, records_what_the_full_flush_records)
{
    long ids[3], tok[3];
    ingest("k1", "p1");
    ingest("k2", "p2");
    ingest("k3", "p3");
    cr_assert_eq(storetest_claim(s, "node", 60000, 3, 3, ids, tok), 3);
    cr_assert_eq(flush("hub_deliveries_delivered", ids, tok, 2,
                       "delivered"), 2);
    cr_assert_eq(flush("hub_deliveries_done", ids + 2, tok + 2, 1,
                       "delivered"), 1);
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_queue"), 0);
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_state "
                       "WHERE status = 'delivered'"), 3);
    /* the rows of both paths alike: what each says, in id order */
    cr_assert_eq(qlong("SELECT count(*) FROM audit a "
                       "JOIN deliveries d ON a.object_id = 'dlv_' || d.id "
                       "WHERE a.action = 'delivery.attempt' "
                       "AND a.actor = 'hubd' AND a.object_kind = 'delivery' "
                       "AND a.patient_hub_id = d.patient_hub_id "
                       "AND a.detail::jsonb->>'outcome' = 'delivered' "
                       "AND a.detail::jsonb->>'event' = d.event_id "
                       "AND a.detail = a.detail::jsonb::text"), 3);
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT (string_agg(object_id, ',' ORDER BY "
             "seq) = 'dlv_%ld,dlv_%ld,dlv_%ld')::int FROM audit WHERE action = "
             "'delivery.attempt'", ids[0], ids[1], ids[2]);
    cr_assert_eq(qlong(sql), 1, "attempt rows in outcome order");
    chain_whole();
}

/* An outcome whose lease token is not the queue row's (another node took
 * the lease over): its queue row stays, its attempt row says 'lost', as
 * the full flush records it (which the lean path hands it to first, before
 * the chain lock: its row comes first); the other is delivered. */
Test(delivered, an_outcome_of_a_lease_not_ours_is_lost)
{
    long ids[2], tok[2];
    ingest("k1", "p1");
    ingest("k2", "p2");
    cr_assert_eq(storetest_claim(s, "node", 60000, 2, 2, ids, tok), 2);
    long bad[2] = { tok[0], tok[1] + 1000 };
    cr_assert_eq(flush("hub_deliveries_delivered", ids, bad, 2,
                       "delivered"), 1);
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM delivery_queue WHERE "
             "delivery_id = %ld AND lease_token = %ld", ids[1], tok[1]);
    cr_assert_eq(qlong(sql), 1, "the lease not ours is left as it was");
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_queue"), 1);
    snprintf(sql, sizeof(sql), "SELECT (string_agg(object_id || ':' || "
             "(detail::jsonb->>'outcome'), ',' ORDER BY seq) = "
             "'dlv_%ld:lost,dlv_%ld:delivered')::int FROM audit WHERE action "
             "= 'delivery.attempt'", ids[1], ids[0]);
    cr_assert_eq(qlong(sql), 1);
    chain_whole();
}

/* The same flush sent again (its first answer lost to a reconnect): it
 * records nothing twice and returns none as its own. */
Test(delivered, a_flush_sent_again_records_nothing_twice)
{
    long ids[2], tok[2];
    ingest("k1", "p1");
    ingest("k2", "p2");
    cr_assert_eq(storetest_claim(s, "node", 60000, 2, 2, ids, tok), 2);
    cr_assert_eq(flush("hub_deliveries_delivered", ids, tok, 2,
                       "delivered"), 2);
    cr_assert_eq(flush("hub_deliveries_delivered", ids, tok, 2,
                       "delivered"), 0);
    cr_assert_eq(qlong("SELECT count(*) FROM audit WHERE action = "
                       "'delivery.attempt'"), 2);
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_state "
                       "WHERE status = 'delivered'"), 2);
    chain_whole();
}

/* Two events of one patient: the second waits for the first; the first's
 * delivery releases it and wakes the dispatchers (NOTIFY hub_deliveries). */
Test(delivered, a_delivery_releases_the_next_of_its_patient)
{
    long ids[2], tok[2];
    ingest("k1", "p1");
    ingest("k2", "p1");
    cr_assert_eq(storetest_claim(s, "node", 60000, 2, 2, ids, tok), 1,
                 "the second waits for the first");
    PGconn *c = PQconnectdb(url);
    cr_assert_eq(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, "LISTEN hub_deliveries");
    cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    cr_assert_eq(flush("hub_deliveries_delivered", ids, tok, 1,
                       "delivered"), 1);
    r = PQexec(c, "SELECT 1");          /* reads what came meanwhile */
    PQclear(r);
    PGnotify *nt = PQnotifies(c);
    cr_assert_not_null(nt, "no NOTIFY hub_deliveries");
    PQfreemem(nt);
    PQfinish(c);
    cr_assert_eq(storetest_claim(s, "node", 60000, 2, 2, ids, tok), 1);
}

/* A subscription that was failing is healthy again after a delivery, and
 * says so (one change, after the attempt row). */
Test(delivered, a_delivery_makes_its_subscription_healthy)
{
    long ids[1], tok[1];
    char sql[256];
    ingest("k1", "p1");
    snprintf(sql, sizeof(sql), "UPDATE subscriptions SET health = 'failing' "
             "WHERE id = '%s'", sub);
    cr_assert_eq(store_exec(s, sql), HUB_OK);
    cr_assert_eq(storetest_claim(s, "node", 60000, 1, 1, ids, tok), 1);
    cr_assert_eq(flush("hub_deliveries_delivered", ids, tok, 1,
                       "delivered"), 1);
    snprintf(sql, sizeof(sql), "SELECT (string_agg(action || ':' || "
             "coalesce(detail::jsonb->>'to', ''), ',' ORDER BY seq) = "
             "'delivery.attempt:,subscription.health:healthy')::int FROM audit "
             "WHERE action IN ('delivery.attempt', 'subscription.health')");
    cr_assert_eq(qlong(sql), 1);
    cr_assert_eq(qlong("SELECT count(*) FROM subscriptions "
                       "WHERE health = 'healthy'"), 1);
    chain_whole();
}

/* A batch with an outcome other than a delivery goes to the full flush:
 * the retry's queue row stays, due again, its delivery failed. */
Test(delivered, any_other_batch_takes_the_full_flush)
{
    long ids[1], tok[1];
    ingest("k1", "p1");
    cr_assert_eq(storetest_claim(s, "node", 60000, 1, 1, ids, tok), 1);
    cr_assert_eq(flush("hub_deliveries_delivered", ids, tok, 1, "retry"), 1);
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_queue "
                       "WHERE lease_token IS NULL"), 1);
    cr_assert_eq(qlong("SELECT count(*) FROM deliveries "
                       "WHERE status = 'failed'"), 1);
    chain_whole();
}

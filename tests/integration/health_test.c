/*
 * health_test.c - subscription health in the outcome flush
 * (hub_deliveries_done, 001_init.sql "Health") on real PostgreSQL, with the
 * interleavings forced rather than hoped for: two flushes of one
 * subscription's outcomes, the second sent while the first is still open,
 * make one change; one flush with several outcomes makes its changes in
 * outcome order. libpq directly for the statement left in flight.
 */
#include <criterion/criterion.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

TestSuite(health, .init = setup, .fini = teardown, .timeout = 60);

static long qlong(const char *sql)
{
    return storetest_long(s, sql);
}

static void ingest(const char *key)
{
    char body[256];
    snprintf(body, sizeof(body), "{\"type\":\"adt.admit\",\"patient\":"
             "{\"identifiers\":[{\"system\":\"MRN\",\"value\":\"%s\"}]}}",
             key);
    storetest_ingest(s, "hosp", "hl7v2", key, "adt.admit", body);
}

/* One outcome of delivery `id` (claimed with `token`), as hubd records it. */
static void done_sql(char *sql, size_t size, const char *node, long id,
                     long token, int attempt, const char *outcome)
{
    snprintf(sql, size, "SELECT hub_deliveries_done('%s', "
             "'[{\"id\":%ld,\"token\":%ld,\"attempt\":%d,\"code\":%d,"
             "\"latency_ms\":1,\"outcome\":\"%s\",\"delay_ms\":0}]')", node,
             id, token, attempt, strcmp(outcome, "delivered") ? 500 : 200,
             outcome);
}

/* The changes of `sub` in chain order, "from>to,..." (malloc'd). */
static char *changes(void)
{
    char sql[512];
    snprintf(sql, sizeof(sql), "SELECT coalesce(string_agg((detail::jsonb->>"
             "'from') || '>' || (detail::jsonb->>'to'), ',' ORDER BY seq), "
             "'') FROM audit WHERE action = 'subscription.health' AND "
             "object_id = '%s'", sub);
    return storetest_text(s, sql);
}

static PGconn *conn(void)
{
    PGconn *c = PQconnectdb(url);
    cr_assert_eq(PQstatus(c), CONNECTION_OK, "connect");
    PGresult *r = PQexec(c, "SET lock_timeout = '8s'; "
                            "SET statement_timeout = '10s'");
    cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    return c;
}

static void ok(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    cr_assert(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK, "%s: %s", sql,
              PQerrorMessage(c));
    PQclear(r);
}

/* Two nodes flush the third failed attempt of two deliveries of one
 * subscription; the second flush is sent while the first's transaction
 * (its change made, not committed) is open, and waits for it. One change
 * (healthy>failing), not one per flush; one event, one audit row. */
Test(health, two_flushes_of_one_subscription_make_one_change)
{
    long ids[2], tok[2];
    char sql[512];

    ingest("p1");
    ingest("p2");
    cr_assert_eq(storetest_claim(s, "node-x", 60000, 2, 2, ids, tok), 2);
    PGconn *a = conn(), *b = conn();
    ok(a, "BEGIN");
    done_sql(sql, sizeof(sql), "node-a", ids[0], tok[0], 3, "retry");
    ok(a, sql);
    done_sql(sql, sizeof(sql), "node-b", ids[1], tok[1], 3, "retry");
    cr_assert_eq(PQsendQuery(b, sql), 1);
    /* b waits for a's locks (the subscription row, the chain) */
    char wait[128];
    snprintf(wait, sizeof(wait), "SELECT count(*) FROM pg_stat_activity "
             "WHERE pid = %d AND wait_event_type = 'Lock'", PQbackendPID(b));
    int i;
    for (i = 0; i < 500 && qlong(wait) != 1; i++)
        usleep(10 * 1000);
    cr_assert_lt(i, 500, "the second flush never waited for the first");
    ok(a, "COMMIT");
    PGresult *r;
    int results = 0;
    while ((r = PQgetResult(b)) != NULL) {
        cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s",
                     PQresultErrorMessage(r));
        results++;
        PQclear(r);
    }
    cr_assert_eq(results, 1);
    PQfinish(a);
    PQfinish(b);

    char *ch = changes();
    cr_assert_str_eq(ch, "healthy>failing");
    free(ch);
    cr_assert_eq(qlong("SELECT count(*) FROM events WHERE type = "
                       "'hub.health'"), 1);
    cr_assert_eq(qlong("SELECT count(*) FROM audit WHERE action = "
                       "'delivery.attempt'"), 2, "both outcomes recorded");
}

/* One flush holding a third failed attempt and then a success: two
 * changes, in outcome order; the attempt's status and number are in the
 * audit row and the event. Attempts other than the third change nothing. */
Test(health, changes_follow_the_outcomes_in_order)
{
    long ids[3], tok[3];
    char sql[1024];

    ingest("p1");
    ingest("p2");
    ingest("p3");
    cr_assert_eq(storetest_claim(s, "node", 60000, 3, 3, ids, tok), 3);
    snprintf(sql, sizeof(sql), "SELECT hub_deliveries_done('node', '["
             "{\"id\":%ld,\"token\":%ld,\"attempt\":2,\"code\":503,"
             "\"latency_ms\":1,\"outcome\":\"retry\",\"delay_ms\":0},"
             "{\"id\":%ld,\"token\":%ld,\"attempt\":3,\"code\":502,"
             "\"latency_ms\":1,\"outcome\":\"retry\",\"delay_ms\":0},"
             "{\"id\":%ld,\"token\":%ld,\"attempt\":1,\"code\":200,"
             "\"latency_ms\":1,\"outcome\":\"delivered\",\"delay_ms\":0}]')",
             ids[0], tok[0], ids[1], tok[1], ids[2], tok[2]);
    cr_assert_eq(store_exec(s, sql), HUB_OK);
    char *ch = changes();
    cr_assert_str_eq(ch, "healthy>failing,failing>healthy");
    free(ch);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE type = "
             "'hub.health' AND body::jsonb->'health' @> "
             "'{\"to\":\"failing\",\"code\":502,\"attempt\":3,"
             "\"reason\":\"failed_attempts\",\"delivery\":\"dlv_%ld\"}'",
             ids[1]);
    cr_assert_eq(qlong(sql), 1);
    cr_assert_eq(qlong("SELECT count(*) FROM subscriptions WHERE "
                       "health = 'healthy' AND health_since IS NOT NULL"), 1);
    struct store_audit_check c;
    cr_assert_eq(store_audit_verify(s, &c), HUB_OK);
    cr_assert(c.ok, "audit chain broken at %lld (%s)", (long long)c.bad_seq,
              c.problem);
}

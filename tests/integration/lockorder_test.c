/*
 * lockorder_test.c - the lock order of the delivery functions (001_init.sql,
 * "Lock order" in the routing section): a replay by range, and a
 * subscription URL change, each interleaved with the dispatcher's outcome
 * flush (hub_deliveries_done) on the same delivery rows, in the order that
 * deadlocked when replays and updates took the audit-chain lock first and
 * the flush took it last. Both must finish, with no 40P01, and the chain
 * must verify.
 *
 * The interleaving is forced, not hoped for: a third connection holds a row
 * lock that stalls the replay (or update) after its statement has read the
 * rows but before it has locked them all; the delivery is then claimed and
 * its outcome flushed; then the blocker commits. Every wait is bounded
 * (lock_timeout, statement_timeout, and a poll of pg_stat_activity), so a
 * regression fails in seconds instead of hanging.
 * Also: a delivery routed while a URL changes follows the move; an ingest
 * routes to a subscription held FOR NO KEY UPDATE; an ingest that matched
 * its events before the chain lock routes by the subscriptions as they
 * are once it holds the lock; a job handed back follows a URL change that
 * ran while the hand-back was under way or still open, and releases lock
 * their subscriptions in id order with the health locks (F2060, F2063);
 * a job a dead node held across a URL change follows it when another
 * node's claim takes the expired lease over, without waiting (F2220);
 * and the store re-runs a statement cancelled with 40P01/40001 (bounded,
 * never inside a caller's transaction).
 * libpq is used directly: the store's calls are synchronous, and this test
 * needs three statements in flight on three connections.
 */
#include <criterion/criterion.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/canon.h"
#include "common/hub_err.h"
#include "common/slice.h"
#include "store.h"
#include "subs.h"
#include "../lib/storetest.h"

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

TestSuite(lockorder, .init = setup, .fini = teardown, .timeout = 60);

static long qlong(const char *sql)
{
    return storetest_long(s, sql);
}

/* A subscription of cbo to every topic at `u`; its id in `id`. */
static void sub(const char *u, char id[64])
{
    char json[128];
    snprintf(json, sizeof(json), "{\"url\":\"%s\",\"topics\":[\"*\"]}", u);
    storetest_sub(s, "cbo", json, id);
}

/* One event of patient `mrn`: one delivery per subscription. */
static void ingest(const char *key, const char *mrn)
{
    char body[256];
    snprintf(body, sizeof(body), "{\"type\":\"adt.admit\",\"patient\":"
             "{\"identifiers\":[{\"system\":\"MRN\",\"value\":\"%s\"}]}}",
             mrn);
    storetest_ingest(s, "hosp", "hl7v2", key, "adt.admit", body);
}

/* Claim what is due; ids and tokens by delivery id. Returns the count. */
static int claim(long *ids, long *tokens, int max)
{
    return storetest_claim(s, "node", 60000, max, max, ids, tokens);
}

/* One outcome as hub_deliveries_done's JSON form takes it. */
static void outcome_json(char *buf, size_t size, long id, long token,
                         const char *outcome, long delay_ms)
{
    snprintf(buf, size, "{\"id\":%ld,\"token\":%ld,\"attempt\":1,"
             "\"code\":200,\"latency_ms\":1,\"outcome\":\"%s\","
             "\"delay_ms\":%ld}", id, token, outcome, delay_ms);
}

static void done_sql(char *sql, size_t size, long id, long token,
                     const char *outcome, long delay_ms)
{
    char o[256];
    outcome_json(o, sizeof(o), id, token, outcome, delay_ms);
    snprintf(sql, size, "SELECT hub_deliveries_done('node', '[%s]')", o);
}

static void done(long id, long token, const char *outcome, long delay_ms)
{
    char sql[512];
    done_sql(sql, sizeof(sql), id, token, outcome, delay_ms);
    cr_assert_eq(store_exec(s, sql), HUB_OK, "%s", sql);
}

/* A libpq connection whose waits are bounded: a deadlock is reported by
 * PostgreSQL after deadlock_timeout (1 s); a lock wait that is not one
 * ends at lock_timeout, and the whole statement at statement_timeout. */
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

/* Wait (at most ~5 s) until backend `pid` waits for a lock. */
static void wait_blocked(int pid)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_stat_activity "
             "WHERE pid = %d AND wait_event_type = 'Lock'", pid);
    for (int i = 0; i < 500; i++) {
        if (qlong(sql) == 1)
            return;
        usleep(10 * 1000);
    }
    cr_assert_fail("backend %d never waited for a lock", pid);
}

/* Wait (at most ~3 s) until `c`'s statement either finished or waits for a
 * lock; true when it finished. */
static bool finished_or_blocked(PGconn *c)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_stat_activity "
             "WHERE pid = %d AND wait_event_type = 'Lock'", PQbackendPID(c));
    for (int i = 0; i < 300; i++) {
        cr_assert_eq(PQconsumeInput(c), 1);
        if (!PQisBusy(c))
            return true;
        if (qlong(sql) == 1)
            return false;
        usleep(10 * 1000);
    }
    cr_assert_fail("statement neither finished nor waited");
    return false;
}

/* X, due and not locked, is claimed, and its outcome flush ("delivered")
 * is sent on `flush`: it finishes or waits, as the lock order says. */
static void claim_and_flush(PGconn *flush, long x)
{
    char sql[512];
    long ids[4], tok[4];

    cr_assert_eq(claim(ids, tok, 4), 1, "X is due and not locked");
    cr_assert_eq(ids[0], x);
    done_sql(sql, sizeof(sql), x, tok[0], "delivered", 0);
    cr_assert_eq(PQsendQuery(flush, sql), 1);
    (void)finished_or_blocked(flush);
}

/* The result of the statement sent on `c`: it must have succeeded; its
 * first value (or -1). Names the SQLSTATE when it did not (40P01: the
 * deadlock this file is about). */
static long collect(PGconn *c, const char *what)
{
    long v = -1;
    PGresult *r, *first = NULL;
    while ((r = PQgetResult(c)) != NULL) {
        if (first == NULL)
            first = r;
        else
            PQclear(r);
    }
    cr_assert_not_null(first, "%s: no result", what);
    const char *st = PQresultErrorField(first, PG_DIAG_SQLSTATE);
    cr_assert_eq(PQresultStatus(first), PGRES_TUPLES_OK,
                 "%s failed: sqlstate %s", what, st ? st : "-");
    if (PQntuples(first) > 0 && !PQgetisnull(first, 0, 0))
        v = strtol(PQgetvalue(first, 0, 0), NULL, 10);
    PQclear(first);
    return v;
}

static void chain_verifies(void)
{
    struct store_audit_check c;
    cr_assert_eq(store_audit_verify(s, &c), HUB_OK);
    cr_assert(c.ok, "audit chain broken at %lld (%s)", (long long)c.bad_seq,
              c.problem);
}

/* W (lower id): dead; X: failed and due now, so the next claim takes it. */
static void two_deliveries(const char *sub_url, char sid[64], long *w,
                           long *x, long w_retry_delay_ms)
{
    long ids[4], tok[4];
    sub(sub_url, sid);
    ingest("k1", "1");
    ingest("k2", "2");
    cr_assert_eq(claim(ids, tok, 4), 2);
    *w = ids[0];
    *x = ids[1];
    if (w_retry_delay_ms < 0)
        done(*w, tok[0], "dead", 0);
    else
        done(*w, tok[0], "retry", w_retry_delay_ms);
    done(*x, tok[1], "retry", 0);
}

Test(lockorder, replay_by_range_and_an_outcome_flush_on_the_same_rows_both_finish)
{
    char sid[64], sql[512];
    long w, x;

    two_deliveries("http://a.example/", sid, &w, &x, -1);
    PGconn *blocker = conn(), *replay = conn(), *flush = conn();

    /* the blocker holds W: the replay reads W and X, then waits at W */
    ok(blocker, "BEGIN");
    snprintf(sql, sizeof(sql),
             "SELECT 1 FROM deliveries WHERE id = %ld FOR UPDATE", w);
    ok(blocker, sql);
    snprintf(sql, sizeof(sql), "SELECT hub_replay_range('op', NULL, '%s', "
             "'-infinity', 'infinity', '{failed,dead}', 100)", sid);
    cr_assert_eq(PQsendQuery(replay, sql), 1);
    wait_blocked(PQbackendPID(replay));

    /* meanwhile X is claimed and its outcome flushed */
    claim_and_flush(flush, x);

    /* the replay goes on: it now meets X, which the flush has written */
    ok(blocker, "COMMIT");
    long n_flush = collect(flush, "outcome flush");
    long n_replay = collect(replay, "replay");

    cr_assert_eq(n_flush, 1, "the outcome was recorded");
    cr_assert_eq(n_replay, 1, "W replayed; X was delivered meanwhile");
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM delivery_state WHERE "
             "id = %ld AND status = 'delivered'", x);
    cr_assert_eq(qlong(sql), 1);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM delivery_state WHERE "
             "id = %ld AND status = 'pending' AND replays = 1", w);
    cr_assert_eq(qlong(sql), 1);
    chain_verifies();
    PQfinish(blocker);
    PQfinish(replay);
    PQfinish(flush);
}

Test(lockorder, url_change_and_an_outcome_flush_on_the_same_rows_both_finish)
{
    char sid[64], sql[512];
    long w, x;

    /* W: failed, due in an hour (open, not claimable now) */
    two_deliveries("http://a.example/", sid, &w, &x, 3600 * 1000L);
    PGconn *blocker = conn(), *update = conn(), *flush = conn();

    /* the blocker holds W's queue row: the update reads W and X as open
     * and not leased, then waits at W */
    ok(blocker, "BEGIN");
    snprintf(sql, sizeof(sql), "SELECT 1 FROM delivery_queue "
             "WHERE delivery_id = %ld FOR UPDATE", w);
    ok(blocker, sql);
    snprintf(sql, sizeof(sql), "SELECT hub_sub_update('op', NULL, '%s', "
             "'{\"url\":\"http://b.example/\"}')", sid);
    cr_assert_eq(PQsendQuery(update, sql), 1);
    wait_blocked(PQbackendPID(update));

    claim_and_flush(flush, x);

    ok(blocker, "COMMIT");
    long n_flush = collect(flush, "outcome flush");
    (void)collect(update, "url change");

    cr_assert_eq(n_flush, 1, "the outcome was recorded");
    snprintf(sql, sizeof(sql), "SELECT url || ' ' || status FROM delivery_state "
             "WHERE id = %ld", x);
    char *v = NULL;
    cr_assert_eq(store_query_text(s, sql, 0, NULL, &v), HUB_OK);
    cr_assert_str_eq(v, "http://a.example/ delivered",
                     "X was sent (leased) before the move: its URL stays");
    free(v);
    snprintf(sql, sizeof(sql), "SELECT url || ' ' || q.endpoint FROM "
             "deliveries d JOIN delivery_queue q ON q.delivery_id = d.id "
             "WHERE d.id = %ld", w);
    cr_assert_eq(store_query_text(s, sql, 0, NULL, &v), HUB_OK);
    cr_assert_str_eq(v, "http://b.example/ http://b.example:80",
                     "W, open and not leased, follows the move");
    free(v);
    chain_verifies();
    PQfinish(blocker);
    PQfinish(update);
    PQfinish(flush);
}

/* The update no longer holds the chain lock while it moves the open
 * deliveries, so an ingest may route to the old URL meanwhile: what it
 * routed must follow the move all the same (no gap). The ingest is played
 * by a connection that holds the chain lock and writes a delivery as
 * hub_route_events does, uncommitted while the update runs. */
Test(lockorder, a_delivery_routed_while_the_url_changes_follows_the_move)
{
    char sid[64], sql[1024];

    ingest("k1", "1");                  /* no subscription yet: no delivery */
    sub("http://a.example/", sid);
    PGconn *ing = conn(), *update = conn();
    ok(ing, "BEGIN");
    ok(ing, "SELECT hub_chain_lock()");
    snprintf(sql, sizeof(sql),
             "WITH d AS (INSERT INTO deliveries (event_seq, event_id, "
             "subscription_id, org_id, patient_hub_id, url, endpoint) "
             "SELECT seq, id, '%s', 'cbo', patient_hub_id, "
             "'http://a.example/', 'http://a.example:80' FROM events "
             "RETURNING *) "
             "INSERT INTO delivery_queue (delivery_id, subscription_id, "
             "patient_hub_id, event_seq, endpoint, due_at) "
             "SELECT id, subscription_id, patient_hub_id, event_seq, "
             "endpoint, now() FROM d", sid);
    ok(ing, sql);
    snprintf(sql, sizeof(sql), "SELECT hub_sub_update('op', NULL, '%s', "
             "'{\"url\":\"http://b.example/\"}')", sid);
    cr_assert_eq(PQsendQuery(update, sql), 1);
    wait_blocked(PQbackendPID(update));  /* at the chain lock */
    ok(ing, "COMMIT");
    (void)collect(update, "url change");

    char *v = NULL;
    cr_assert_eq(store_query_text(s, "SELECT d.url || ' ' || q.endpoint "
                 "FROM deliveries d JOIN delivery_queue q "
                 "ON q.delivery_id = d.id", 0, NULL, &v), HUB_OK);
    cr_assert_str_eq(v, "http://b.example/ http://b.example:80");
    free(v);
    chain_verifies();
    PQfinish(ing);
    PQfinish(update);
}

/* A subscription locked by an update (or a 410 outcome) waiting for the
 * chain lock must not stop an ingest that holds the chain lock and routes
 * to it: routing locks no subscription row (deliveries.subscription_id has
 * no foreign key; when it had one, its FOR KEY SHARE was left alone by FOR
 * NO KEY UPDATE, and FOR UPDATE would have blocked it). */
Test(lockorder, an_ingest_routes_to_a_subscription_locked_for_update)
{
    char sid[64], sql[256];

    sub("http://a.example/", sid);
    PGconn *upd = conn();
    ok(upd, "BEGIN");
    snprintf(sql, sizeof(sql), "SELECT 1 FROM subscriptions WHERE id = '%s' "
             "FOR NO KEY UPDATE", sid);
    ok(upd, sql);
    cr_assert_eq(store_exec(s, "SET lock_timeout = '3s'"), HUB_OK);
    ingest("k1", "1");                  /* fails with 55P03 if it waits */
    cr_assert_eq(qlong("SELECT count(*) FROM deliveries"), 1);
    ok(upd, "ROLLBACK");
    PQfinish(upd);
}

/* An ingest of one event on a connection of its own, in a thread: it
 * waits for the chain lock while the test holds it. */
struct bg_ingest {
    const char *url;
    int rc;
};

static void *bg_ingest_main(void *arg)
{
    struct bg_ingest *b = arg;
    struct store *s2 = NULL;

    b->rc = store_connect(b->url, &s2);
    if (b->rc != HUB_OK)
        return NULL;
    b->rc = storetest_ingest_rc(s2, "hosp", "hl7v2", "bg1", "adt.admit",
                                "{\"type\":\"adt.admit\",\"patient\":"
                                "{\"identifiers\":[{\"system\":\"MRN\","
                                "\"value\":\"9\"}]}}");
    store_free(s2);
    return NULL;
}

/* Backends of this test's database waiting for an advisory lock. The
 * view covers the whole cluster: a test of another database running
 * alongside (concurrent ingests wait for their own chain lock) must not
 * count, or the change below could commit before our ingest waits. */
#define ADVISORY_WAITERS "SELECT count(*) FROM pg_stat_activity WHERE " \
    "datname = current_database() AND wait_event_type = 'Lock' AND " \
    "wait_event = 'advisory'"

/* hub_ingest_fast matches its events to the subscriptions before the
 * chain lock. `change` (an UPDATE of the subscription sid) commits while the ingest, matched
 * already, waits for that lock: what the ingest writes must be what
 * routing under the lock would write, as the subscriptions now are. */
static void ingest_across_a_change(const char *change, char sid[64])
{
    char sql[512];
    struct bg_ingest b = { url, -1 };
    pthread_t t;

    sub("http://a.example/", sid);
    PGconn *holder = conn();
    ok(holder, "BEGIN");
    ok(holder, "SELECT hub_chain_lock()");
    cr_assert_eq(pthread_create(&t, NULL, bg_ingest_main, &b), 0);
    for (int i = 0; i < 500 && qlong(ADVISORY_WAITERS) < 1; i++)
        usleep(10 * 1000);
    cr_assert_eq(qlong(ADVISORY_WAITERS), 1,
                 "the ingest waits for the chain lock");
    snprintf(sql, sizeof(sql), "%s WHERE id = '%s'", change, sid);
    ok(holder, sql);
    ok(holder, "COMMIT");
    pthread_join(t, NULL);
    cr_assert_eq(b.rc, HUB_OK);
    PQfinish(holder);
    chain_verifies();
}

Test(lockorder, an_ingest_matched_before_a_url_change_routes_to_the_new_url)
{
    char sid[64];
    ingest_across_a_change("UPDATE subscriptions SET url = "
                           "'http://b.example/', updated_at = now()", sid);
    char *v = storetest_text(s, "SELECT string_agg(d.url || ' ' || "
                                "q.endpoint, ',') FROM deliveries d JOIN "
                                "delivery_queue q ON q.delivery_id = d.id");
    cr_assert_str_eq(v, "http://b.example/ http://b.example:80");
    free(v);
    cr_assert_eq(qlong("SELECT count(*) FROM audit "
                       "WHERE action = 'event.routed'"), 1);
}

Test(lockorder, an_ingest_matched_before_a_delete_routes_nowhere)
{
    char sid[64];
    ingest_across_a_change("UPDATE subscriptions SET deleted_at = now(), "
                           "status = 'disabled'", sid);
    cr_assert_eq(qlong("SELECT count(*) FROM events"), 1);
    cr_assert_eq(qlong("SELECT count(*) FROM deliveries"), 0);
    cr_assert_eq(qlong("SELECT count(*) FROM event_routes"), 0);
    cr_assert_eq(qlong("SELECT count(*) FROM audit "
                       "WHERE action = 'event.routed'"), 0);
}

/* --- held rows ("Held rows" in 001_init.sql) ------------------------------ */

/* A pause does not hold the chain lock while it holds the subscription's
 * queue rows, so an ingest may route to it as active meanwhile: what it
 * routed is held all the same (the pause's pass under the chain lock),
 * and a delete cancels what was routed so. The ingest is played by a
 * connection that holds the chain lock and writes a delivery as routing
 * does, uncommitted while the pause (or delete) runs. */
static void route_across(const char *change_sql, const char *sid)
{
    char sql[1024];
    PGconn *ing = conn(), *change = conn();
    ok(ing, "BEGIN");
    ok(ing, "SELECT hub_chain_lock()");
    snprintf(sql, sizeof(sql),
             "WITH d AS (INSERT INTO deliveries (event_seq, event_id, "
             "subscription_id, org_id, patient_hub_id, url, endpoint) "
             "SELECT seq, id, '%s', 'cbo', patient_hub_id, "
             "'http://a.example/', 'http://a.example:80' FROM events "
             "RETURNING *) "
             "INSERT INTO delivery_queue (delivery_id, subscription_id, "
             "patient_hub_id, event_seq, endpoint, due_at) "
             "SELECT id, subscription_id, patient_hub_id, event_seq, "
             "endpoint, now() FROM d", sid);
    ok(ing, sql);
    cr_assert_eq(PQsendQuery(change, change_sql), 1);
    wait_blocked(PQbackendPID(change));  /* at the chain lock */
    ok(ing, "COMMIT");
    (void)collect(change, change_sql);
    chain_verifies();
    PQfinish(ing);
    PQfinish(change);
}

Test(lockorder, a_delivery_routed_while_a_pause_waits_is_held)
{
    char sid[64], sql[256];

    ingest("k1", "1");                  /* no subscription yet: no delivery */
    sub("http://a.example/", sid);
    snprintf(sql, sizeof(sql), "SELECT hub_sub_update('op', NULL, '%s', "
             "'{\"status\":\"paused\"}')", sid);
    route_across(sql, sid);
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_queue WHERE due_at = 'infinity'"), 1);
}

Test(lockorder, a_delivery_routed_while_a_delete_waits_is_cancelled)
{
    char sid[64], sql[256];

    ingest("k1", "1");
    sub("http://a.example/", sid);
    snprintf(sql, sizeof(sql), "SELECT hub_sub_delete('op', NULL, '%s')",
             sid);
    route_across(sql, sid);
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_queue"), 0);
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_state "
                       "WHERE status = 'cancelled'"), 1);
    cr_assert_eq(qlong("SELECT (detail::jsonb->>'cancelled')::int FROM audit "
                       "WHERE action = 'subscription.deleted'"), 1);
}

/* A replay by range waits for a pause of its subscription (it takes the
 * subscription FOR SHARE first), then writes the rows it reopens held;
 * both finish. */
Test(lockorder, a_replay_behind_a_pause_writes_its_rows_held)
{
    char sid[64], sql[512];
    long w, x;

    two_deliveries("http://a.example/", sid, &w, &x, -1);
    PGconn *blocker = conn(), *pause = conn(), *replay = conn();

    /* the blocker holds X's queue row: the pause, holding the
     * subscription, waits there */
    ok(blocker, "BEGIN");
    snprintf(sql, sizeof(sql), "SELECT 1 FROM delivery_queue "
             "WHERE delivery_id = %ld FOR UPDATE", x);
    ok(blocker, sql);
    snprintf(sql, sizeof(sql), "SELECT hub_sub_update('op', NULL, '%s', "
             "'{\"status\":\"paused\"}')", sid);
    cr_assert_eq(PQsendQuery(pause, sql), 1);
    wait_blocked(PQbackendPID(pause));
    snprintf(sql, sizeof(sql), "SELECT hub_replay_range('op', NULL, '%s', "
             "'-infinity', 'infinity', '{dead}', 100)", sid);
    cr_assert_eq(PQsendQuery(replay, sql), 1);
    wait_blocked(PQbackendPID(replay));
    ok(blocker, "COMMIT");
    (void)collect(pause, "pause");
    cr_assert_eq(collect(replay, "replay"), 1, "W replayed");
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_queue WHERE due_at = 'infinity'"), 2,
                 "X held by the pause, W by the replay");
    chain_verifies();
    PQfinish(blocker);
    PQfinish(pause);
    PQfinish(replay);
}

/* --- the store's retry of a statement cancelled by a conflict (store.c) --- */

/* A function that fails with `code` until its sequence (not rolled back
 * with the failed transaction) passes `fails`, then returns the count. */
static void flaky(const char *code, int fails)
{
    char sql[512];
    snprintf(sql, sizeof(sql),
             "CREATE SEQUENCE flaky_n; "
             "CREATE FUNCTION flaky() RETURNS bigint LANGUAGE plpgsql AS $$ "
             "DECLARE n bigint := nextval('flaky_n'); BEGIN "
             "IF n <= %d THEN RAISE EXCEPTION 'conflict' USING ERRCODE = "
             "'%s'; END IF; RETURN n; END $$", fails, code);
    cr_assert_eq(store_exec(s, sql), HUB_OK);
}

Test(lockorder, a_statement_cancelled_by_a_deadlock_is_run_again)
{
    flaky("40P01", 2);
    cr_assert_eq(qlong("SELECT flaky()"), 3, "ran three times, answered once");
}

Test(lockorder, a_serialization_failure_is_run_again_but_not_for_ever)
{
    flaky("40001", 100);
    char *v = NULL;
    cr_assert_eq(store_query_text(s, "SELECT flaky()", 0, NULL, &v), HUB_EDB);
    cr_assert_str_eq(store_last_sqlstate(s), "40001");
    cr_assert_eq(qlong("SELECT last_value FROM flaky_n"), 4,
                 "four tries in all");
}

Test(lockorder, a_conflict_inside_an_open_transaction_is_not_run_again)
{
    flaky("40P01", 1);
    char *v = NULL;
    cr_assert_eq(store_exec(s, "BEGIN"), HUB_OK);
    cr_assert_eq(store_query_text(s, "SELECT flaky()", 0, NULL, &v), HUB_EDB,
                 "the transaction is the caller's to re-run");
    cr_assert_eq(store_exec(s, "ROLLBACK"), HUB_OK);
    cr_assert_eq(qlong("SELECT last_value FROM flaky_n"), 1);
}

/* F1343: a flush whose outcome is not ours (a lease taken over) sent
 * again while its first try still runs (F1120: its answer cut, the
 * statement not yet committed on the server). Neither sees the other's
 * attempt row before the chain lock; the one that takes it second finds
 * the first's row among those appended since (hub_deliveries_done's look
 * under the lock, 011_retry_once.sql) and records nothing. The tests of
 * round 97 committed the first try before the second began: with that
 * look removed they still passed. */
Test(lockorder, a_lost_outcome_flushed_twice_at_once_is_recorded_once)
{
    char id_s[64], sql[512];
    long ids[2], tok[2];

    sub("http://a.example/", id_s);
    ingest("lost-1", "700");
    cr_assert_eq(claim(ids, tok, 2), 1);
    /* a token the queue row does not hold: another node's lease now */
    done_sql(sql, sizeof(sql), ids[0], tok[0] + 1, "retry", 1000);
    PGconn *holder = conn(), *first = conn(), *again = conn();
    ok(holder, "BEGIN");
    ok(holder, "SELECT hub_chain_lock()");
    cr_assert_eq(PQsendQuery(first, sql), 1);
    wait_blocked(PQbackendPID(first));
    cr_assert_eq(PQsendQuery(again, sql), 1);
    wait_blocked(PQbackendPID(again));
    cr_assert_eq(qlong(ADVISORY_WAITERS), 2, "both wait for the chain lock");
    ok(holder, "COMMIT");
    (void)collect(first, "the first try");
    (void)collect(again, "the flush sent again");
    PQfinish(holder);
    PQfinish(first);
    PQfinish(again);
    cr_assert_eq(qlong("SELECT count(*) FROM audit WHERE action = "
                       "'delivery.attempt'"), 1, "the attempt recorded twice");
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_attempts WHERE "
                       "outcome = 'lost'"), 1);
    chain_verifies();
}

/* F2060: a held job handed back while a URL change is under way. The
 * change read X as open and not leased, locked its deliveries row, and
 * then found it claimed (the claim committed meanwhile): X was left where
 * it was, for the node that held it to move at the change's NOTIFY. But
 * the node handed X back before that NOTIFY (a stop, an earlier change):
 * the release passed X's row by (SKIP LOCKED: the change held it), then
 * waited for the change at X's queue row, and X went back to the queue
 * with the old URL, which no one would move again: the next claim sent it
 * to the URL the partner had moved away from. The release must read the
 * subscription once that wait is over. */
Test(lockorder, a_job_released_while_a_url_change_waits_follows_the_move)
{
    char sid[64], sql[512];

    sub("http://a.example/", sid);
    ingest("k1", "1");
    long x = qlong("SELECT max(id) FROM deliveries");
    PGconn *claimer = conn(), *update = conn(), *flush = conn();

    /* the claim leases X, uncommitted: the change reads X as not leased,
     * locks its deliveries row, and waits at its queue row */
    ok(claimer, "BEGIN");
    PGresult *r = PQexec(claimer, "SELECT token FROM hub_claim_deliveries("
                                  "'node', 60000, 4, 4, '{}')");
    cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s",
                 PQerrorMessage(claimer));
    cr_assert_eq(PQntuples(r), 1, "X is claimed");
    long token = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    ok(update, "BEGIN");
    snprintf(sql, sizeof(sql), "SELECT hub_sub_update('op', NULL, '%s', "
             "'{\"url\":\"http://b.example/\"}')", sid);
    cr_assert_eq(PQsendQuery(update, sql), 1);
    wait_blocked(PQbackendPID(update));
    ok(claimer, "COMMIT");
    (void)collect(update, "url change");    /* X leased now: not moved */

    /* the node hands X back before the change commits */
    done_sql(sql, sizeof(sql), x, token, "release", 0);
    cr_assert_eq(PQsendQuery(flush, sql), 1);
    cr_assert(!finished_or_blocked(flush),
              "the release waits for the change");
    ok(update, "COMMIT");
    cr_assert_eq(collect(flush, "release"), 1, "X handed back");

    snprintf(sql, sizeof(sql), "SELECT d.url || ' ' || q.endpoint || ' ' "
             "|| (q.lease_until IS NULL) FROM deliveries d JOIN "
             "delivery_queue q ON q.delivery_id = d.id WHERE d.id = %ld", x);
    char *v = NULL;
    cr_assert_eq(store_query_text(s, sql, 0, NULL, &v), HUB_OK);
    cr_assert_str_eq(v, "http://b.example/ http://b.example:80 true",
                     "X, handed back unsent, goes where its subscription "
                     "sends now");
    free(v);
    chain_verifies();
    PQfinish(claimer);
    PQfinish(update);
    PQfinish(flush);
}

/* F2063: a release still open while a URL change runs. The change read X
 * as leased (the hand-back had not committed), in its first pass and in
 * its late one, so it left X for the node that held it; the release had
 * read the subscription before the change committed, so it did not move X
 * either; the change's NOTIFY found X held by no node, and the next claim
 * sent X to the URL the partner had moved away from. The release now
 * holds the subscription's row until it commits: the change waits for it,
 * and then reads X handed back. */
Test(lockorder, a_job_released_before_a_url_change_follows_the_move)
{
    char sid[64], sql[512];
    long ids[4], tok[4];

    sub("http://a.example/", sid);
    ingest("k1", "1");
    cr_assert_eq(claim(ids, tok, 4), 1, "X is claimed");
    PGconn *flush = conn(), *update = conn();

    /* X handed back, uncommitted; then the change, in full if it can */
    ok(flush, "BEGIN");
    done_sql(sql, sizeof(sql), ids[0], tok[0], "release", 0);
    ok(flush, sql);
    snprintf(sql, sizeof(sql), "SELECT hub_sub_update('op', NULL, '%s', "
             "'{\"url\":\"http://b.example/\"}')", sid);
    cr_assert_eq(PQsendQuery(update, sql), 1);
    bool ran_whole = finished_or_blocked(update);
    ok(flush, "COMMIT");
    (void)collect(update, "url change");

    char *v = storetest_text(s, "SELECT url || ' ' || endpoint FROM "
                                "hub_claim_deliveries('node', 60000, 4, 4, "
                                "'{}')");
    cr_assert(v && strcmp(v, "http://b.example/ http://b.example:80") == 0,
              "X, handed back unsent, goes where its subscription sends "
              "now: claimed for %s", v ? v : "(nothing claimed)");
    free(v);
    cr_assert(!ran_whole, "the change waits for the release's commit");
    chain_verifies();
    PQfinish(flush);
    PQfinish(update);
}

/* The subscription that owns delivery `id`, into sid[64]. */
static void sub_of(long id, char sid[64])
{
    char sql[128];
    snprintf(sql, sizeof(sql),
             "SELECT subscription_id FROM deliveries WHERE id = %ld", id);
    char *v = storetest_text(s, sql);
    cr_assert_not_null(v);
    snprintf(sid, 64, "%s", v);
    free(v);
}

/* The lock order F2063 adds: a flush locks the subscriptions of the jobs it
 * hands back in the statement that locks, by id, those whose health it may
 * change (a dead letter here). Flush A hands back a job of S1 and dead
 * letters one of S2; flush B the other way round. Taken in two statements,
 * A would hold S2 (health) while it waits for S1 (release), and B, queued
 * first at S1, would then wait for S2: a deadlock once S1 is free. */
Test(lockorder, two_flushes_each_releasing_what_the_other_dead_letters_both_finish)
{
    char s1[64], s2[64], sid[64], sql[1024], o1[256], o2[256];
    long ids[4], tok[4];
    long rel1 = 0, dead1 = 0, rel2 = 0, dead2 = 0;
    long t_rel1 = 0, t_dead1 = 0, t_rel2 = 0, t_dead2 = 0;

    sub("http://a.example/", s1);
    sub("http://b.example/", s2);
    ingest("k1", "1");
    ingest("k2", "2");
    cr_assert_eq(claim(ids, tok, 4), 4, "two jobs of each subscription");
    /* of each subscription, the first job is handed back, the other one
     * dead lettered */
    for (int i = 0; i < 4; i++) {
        sub_of(ids[i], sid);
        if (strcmp(sid, s1) == 0 && rel1 == 0) {
            rel1 = ids[i];
            t_rel1 = tok[i];
        } else if (strcmp(sid, s1) == 0) {
            dead1 = ids[i];
            t_dead1 = tok[i];
        } else if (rel2 == 0) {
            rel2 = ids[i];
            t_rel2 = tok[i];
        } else {
            dead2 = ids[i];
            t_dead2 = tok[i];
        }
    }
    cr_assert(rel1 && dead1 && rel2 && dead2);
    PGconn *blocker = conn(), *a = conn(), *b = conn();

    /* S1 held: B waits there first, then A */
    ok(blocker, "BEGIN");
    snprintf(sql, sizeof(sql),
             "SELECT 1 FROM subscriptions WHERE id = '%s' FOR SHARE", s1);
    ok(blocker, sql);
    outcome_json(o1, sizeof(o1), dead1, t_dead1, "dead", 0);
    outcome_json(o2, sizeof(o2), rel2, t_rel2, "release", 0);
    snprintf(sql, sizeof(sql),
             "SELECT hub_deliveries_done('node', '[%s,%s]')", o1, o2);
    cr_assert_eq(PQsendQuery(b, sql), 1);
    wait_blocked(PQbackendPID(b));
    outcome_json(o1, sizeof(o1), rel1, t_rel1, "release", 0);
    outcome_json(o2, sizeof(o2), dead2, t_dead2, "dead", 0);
    snprintf(sql, sizeof(sql),
             "SELECT hub_deliveries_done('node', '[%s,%s]')", o1, o2);
    cr_assert_eq(PQsendQuery(a, sql), 1);
    wait_blocked(PQbackendPID(a));

    ok(blocker, "COMMIT");
    cr_assert_eq(collect(b, "flush B"), 2);
    cr_assert_eq(collect(a, "flush A"), 2);
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_queue WHERE "
                       "lease_until IS NULL"), 2, "both jobs handed back");
    cr_assert_eq(qlong("SELECT count(*) FROM deliveries WHERE "
                       "status = 'dead'"), 2, "both dead letters written");
    chain_verifies();
    PQfinish(blocker);
    PQfinish(a);
    PQfinish(b);
}

/* A node claims X with a 50 ms lease and dies (it never hands X back);
 * the URL changes; the change leaves X, leased, for its node to hand back
 * at the NOTIFY. Returns X's id and the subscription's in sid. */
static long held_by_a_dead_node_across_a_url_change(char sid[64])
{
    char sql[256];
    long ids[4], tok[4];

    sub("http://a.example/", sid);
    ingest("k1", "1");
    cr_assert_eq(storetest_claim(s, "dead", 50, 4, 4, ids, tok), 1,
                 "X is claimed by the node that dies");
    snprintf(sql, sizeof(sql), "SELECT hub_sub_update('op', NULL, '%s', "
             "'{\"url\":\"http://b.example/\"}')", sid);
    cr_assert_eq(store_exec(s, sql), HUB_OK, "%s", sql);
    cr_assert_eq(qlong("SELECT count(*) FROM deliveries WHERE "
                       "url = 'http://a.example/'"), 1,
                 "the change leaves X, leased, where it was");
    usleep(100 * 1000);                 /* the lease expires */
    return ids[0];
}

/* F2201, F2220: a dead node never hands its jobs back, and the job that a
 * URL change left for it to hand back was taken over once its lease
 * expired, and sent to the URL the partner had moved away from. The claim
 * that takes over an expired lease moves the row first. */
Test(lockorder, a_job_a_dead_node_held_across_a_url_change_follows_the_move)
{
    char sid[64];
    long x = held_by_a_dead_node_across_a_url_change(sid);

    char *v = storetest_text(s, "SELECT id || ' ' || url || ' ' || endpoint "
                                "FROM hub_claim_deliveries('node', 60000, 4, "
                                "4, '{}')");
    char want[128];
    snprintf(want, sizeof(want), "%ld http://b.example/ http://b.example:80",
             x);
    cr_assert(v && strcmp(v, want) == 0,
              "X, taken over, goes where its subscription sends now: "
              "claimed %s", v ? v : "(nothing)");
    free(v);
    cr_assert_eq(qlong("SELECT count(*) FROM deliveries d JOIN delivery_queue "
                       "q ON q.delivery_id = d.id WHERE d.url = "
                       "'http://b.example/' AND q.endpoint = "
                       "'http://b.example:80' AND q.lease_owner = 'node'"),
                 1, "its rows name the new URL");
    chain_verifies();
}

/* The takeover's move never waits (a claim never does): when X's
 * deliveries row is locked (here by a third session, as an outcome flush
 * of the old holder or a cancel would lock it), X is left as it was, its
 * lease expired, and a later claim takes it over and moves it. */
Test(lockorder, a_takeover_whose_row_is_locked_leaves_the_job_for_a_later_claim)
{
    char sid[64], sql[256];
    long x = held_by_a_dead_node_across_a_url_change(sid);
    PGconn *blocker = conn();

    ok(blocker, "BEGIN");
    snprintf(sql, sizeof(sql), "SELECT 1 FROM deliveries WHERE id = %ld "
             "FOR NO KEY UPDATE", x);
    ok(blocker, sql);
    cr_assert_eq(qlong("SELECT count(*) FROM hub_claim_deliveries('node', "
                       "60000, 4, 4, '{}')"), 0,
                 "X is not sent to the old URL, and the claim did not wait");
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM delivery_queue WHERE "
             "delivery_id = %ld AND lease_until < clock_timestamp() "
             "AND attempts = 1", x);
    cr_assert_eq(qlong(sql), 1, "X left with its lease expired, uncounted");
    ok(blocker, "COMMIT");

    char *v = storetest_text(s, "SELECT url FROM hub_claim_deliveries("
                                "'node', 60000, 4, 4, '{}')");
    cr_assert(v && strcmp(v, "http://b.example/") == 0,
              "the next claim takes X over and moves it: claimed %s",
              v ? v : "(nothing)");
    free(v);
    chain_verifies();
    PQfinish(blocker);
}

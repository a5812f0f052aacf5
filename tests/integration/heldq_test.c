/*
 * heldq_test.c - a subscription that is not active (paused, disabled by a
 * 410, deleted) holds its open deliveries out of the claims' walk ("Held
 * rows" in schemas/migrations/001_init.sql): a claim for another, active
 * subscription reads a bounded number of index entries however many rows
 * it holds; a resume makes them claimable again, in order; a delete
 * cancels them (audited with the count); the /metrics gauges count them
 * as held, not due.
 *
 * The cost is measured in the claim's own transaction by the index
 * entries it read (pg_stat_get_xact_tuples_returned of every index of
 * delivery_queue), not by time: before the held rows, each claim read one
 * entry per row of the paused backlog (30,000 here).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hub_err.h"
#include "store.h"
#include "subs.h"
#include "../lib/storetest.h"

#define BACKLOG 30000
/* what a claim of one row may read: the row, a few leases and neighbours;
 * a claim that walks the backlog reads BACKLOG */
#define CLAIM_READ_MAX 100

static char *url;
static struct store *s;

static void setup(void)
{
    static const struct storetest_org orgs[] = {
        { "hosp", "Hospital", "hospital", SCOPE_INGEST },
        { "cbo", "CBO", "cbo", SCOPE_SUBSCRIBE },
        { "plan", "Plan", "plan", SCOPE_SUBSCRIBE },
    };
    s = storetest_open(&url, orgs, sizeof(orgs) / sizeof(orgs[0]));
}

static void teardown(void)
{
    storetest_close(&s, &url);
}

TestSuite(heldq, .init = setup, .fini = teardown, .timeout = 120);

static long qlong(const char *sql)
{
    return storetest_long(s, sql);
}

static void exec(const char *sql)
{
    cr_assert_eq(store_exec(s, sql), HUB_OK, "%s", sql);
}

/* The active subscription (adt.*) and the one that will hold a backlog
 * (goal.updated only: the ingests below do not route to it). */
static void subs_make(char a[64], char p[64])
{
    storetest_sub(s, "cbo", "{\"url\":\"http://a.example/\","
                  "\"topics\":[\"adt.*\"]}", a);
    storetest_sub(s, "plan", "{\"url\":\"http://p.example/\","
                  "\"topics\":[\"goal.updated\"]}", p);
}

/* `n` open deliveries of subscription `sub`, due over the last hour (ahead
 * of anything routed now in the due order), 50 patients, in event order:
 * the rows routing writes, written in one statement. */
static void backlog(const char *sub, int n)
{
    char sql[2048];
    snprintf(sql, sizeof(sql),
        "WITH d AS (INSERT INTO deliveries (event_seq, event_id, "
        "subscription_id, org_id, patient_hub_id, url, endpoint, "
        "next_attempt_at) "
        "SELECT 1000000 + i, 'evt_bl' || i, '%s', 'plan', 'pp' || (i %% 50), "
        "'http://p.example/', 'http://p.example:80', "
        "now() - interval '1 hour' + i * interval '1 ms' "
        "FROM generate_series(1, %d) i "
        "RETURNING id, event_seq, subscription_id, patient_hub_id, endpoint, "
        "next_attempt_at) "
        "INSERT INTO delivery_queue (delivery_id, subscription_id, "
        "patient_hub_id, event_seq, endpoint, due_at) "
        "SELECT id, subscription_id, patient_hub_id, event_seq, endpoint, "
        "next_attempt_at FROM d", sub, n);
    exec(sql);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM delivery_queue WHERE "
             "subscription_id = '%s'", sub);
    cr_assert_eq(qlong(sql), n);
}

static void ingest_a(const char *key, const char *mrn)
{
    char body[256];
    snprintf(body, sizeof(body), "{\"type\":\"adt.admit\",\"patient\":{"
             "\"identifiers\":[{\"system\":\"MRN\",\"value\":\"%s\"}]}}", mrn);
    storetest_ingest(s, "hosp", "hl7v2", key, "adt.admit", body);
}

/* One claim (max rows, per endpoint: per >= max is the walk that locks as
 * it goes, per < max ranks candidates), in one statement with the count
 * of index entries it read; the claimed rows' subscriptions into subs
 * (space-separated). Returns the number claimed. */
static int claim_counted(int max, int per, long *read, long *blocks,
                         char *subs, size_t cap)
{
    char sql[1024];
    struct store_rows *r = NULL;
    /* the counts so far flushed as the backend goes idle, so that the
     * transaction's own (pg_stat_get_xact_*) are the claim's alone */
    exec("SELECT pg_stat_force_next_flush()");
    snprintf(sql, sizeof(sql),
        "WITH c AS MATERIALIZED (SELECT * FROM hub_claim_deliveries('n', "
        "60000, %d, %d, '{}')) "
        "SELECT (SELECT count(*) FROM c), "
        "(SELECT coalesce(string_agg(c.subscription, ' ' ORDER BY c.id), '') "
        "FROM c), "
        "(SELECT sum(pg_stat_get_xact_tuples_returned(i.indexrelid)) "
        "FROM pg_index i WHERE i.indrelid = 'delivery_queue'::regclass "
        "AND (SELECT count(*) FROM c) >= 0), "
        "(SELECT pg_stat_get_xact_blocks_fetched("
        "'delivery_queue_due'::regclass) "
        "WHERE (SELECT count(*) FROM c) >= 0)", max, per);
    cr_assert_eq(store_query(s, sql, 0, NULL, &r), HUB_OK);
    cr_assert_eq(store_rows_count(r), 1);
    int n = (int)strtol(store_rows_get(r, 0, 0), NULL, 10);
    snprintf(subs, cap, "%s", store_rows_get(r, 0, 1));
    *read = strtol(store_rows_get(r, 0, 2), NULL, 10);
    if (blocks)
        *blocks = strtol(store_rows_get(r, 0, 3), NULL, 10);
    store_rows_free(r);
    return n;
}

/* A VACUUM of delivery_queue that removes every row version this test
 * made dead, and their entries in the due index. It may remove them only
 * when no snapshot that could still see them is open in this database.
 * The database is the test's own and its one link is ours, but an
 * autovacuum worker's ANALYZE of a table the test filled (30,000 rows in
 * deliveries and delivery_queue) holds a snapshot while it runs, as old as
 * the oldest transaction then running anywhere on the server (another
 * test's, in a parallel run): a VACUUM meanwhile left them, and the claim
 * read every one (F3523). So: wait until every snapshot of this database
 * older than the test's writes has ended, vacuum (index cleanup forced:
 * PostgreSQL skips it when few pages hold dead items), and again if one
 * that began meanwhile kept any (after a VACUUM the table's dead tuples
 * are those it could not remove). The claim is then measured as it would
 * be on a server with nothing else open. */
static void vacuum_dead_versions(void)
{
    char sql[512];
    /* an xid after every write of the test: a snapshot whose xmin is
     * older may still see what they made dead */
    char *x = storetest_text(s, "SELECT (pg_current_xact_id()::text::numeric "
                             "% 4294967296)::text");
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_stat_activity "
             "WHERE datname = current_database() AND pid <> pg_backend_pid() "
             "AND greatest(age(backend_xmin), age(backend_xid)) > "
             "age('%s'::xid)", x);
    free(x);
    /* the test's own counts of dead rows flushed before the VACUUM
     * counts what it left */
    exec("SELECT pg_stat_force_next_flush()");
    for (int i = 0;; i++) {
        cr_assert_eq(storetest_wait_long(s, sql, 0, 60000), 0,
                     "a snapshot older than the test's writes is still open");
        exec("VACUUM (INDEX_CLEANUP ON) delivery_queue");
        if (qlong("SELECT pg_stat_get_dead_tuples("
                  "'delivery_queue'::regclass)") == 0)
            return;
        cr_assert_lt(i, 10, "VACUUM left %ld dead row versions", qlong(
                     "SELECT pg_stat_get_dead_tuples('delivery_queue'::"
                     "regclass)"));
    }
}

/* A claim of a's one due row in both forms of the claim reads a bounded
 * number of index entries and pages of the due index, whatever p holds.
 * `tag` names the step. */
static void a_claim_is_bounded(const char *a, const char *key,
                               const char *tag)
{
    long read, blocks;
    char subs[256];

    /* the rows' old entries in the due index (of the versions before they
     * were held or deleted) go as vacuum runs, which this table's
     * settings start after 2% of it changed (or the first walk marks them
     * dead, when no older snapshot is open anywhere) */
    vacuum_dead_versions();
    ingest_a(key, key);
    cr_assert_eq(claim_counted(10, 10, &read, &blocks, subs, sizeof(subs)),
                 1, "%s: a's row", tag);
    cr_assert_str_eq(subs, a, "%s", tag);
    cr_assert_lt(read, CLAIM_READ_MAX, "%s: the claim read %ld index "
                 "entries", tag, read);
    cr_assert_lt(blocks, 10, "%s: the claim read %ld pages of the due "
                 "index", tag, blocks);
    /* and the ranked form (the per-endpoint cap binds) */
    char key2[32];
    snprintf(key2, sizeof(key2), "%s-2", key);
    ingest_a(key2, key2);
    cr_assert_eq(claim_counted(10, 1, &read, &blocks, subs, sizeof(subs)),
                 1, "%s: a's second row", tag);
    cr_assert_str_eq(subs, a, "%s", tag);
    cr_assert_lt(read, CLAIM_READ_MAX, "%s: the ranked claim read %ld "
                 "index entries", tag, read);
    cr_assert_lt(blocks, 10, "%s: the ranked claim read %ld pages of the "
                 "due index", tag, blocks);
}

Test(heldq, a_paused_backlog_is_not_walked_and_a_resume_sends_it_in_order)
{
    char a[64], p[64], sql[512], *out = NULL;
    long read;
    char subs[64 * 60];

    subs_make(a, p);
    backlog(p, BACKLOG);
    cr_assert_eq(subs_set_status(s, "plan", "plan", p, "paused", &out),
                 HUB_OK);
    free(out);
    a_claim_is_bounded(a, "k1", "paused");
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM delivery_queue WHERE "
             "subscription_id = '%s' AND due_at = 'infinity'", p);
    cr_assert_eq(qlong(sql), BACKLOG, "the pause holds every row");

    /* resumed: p's rows are claimable again, in due order, one per patient
     * at a time (the earliest of each of its 50 patients first) */
    cr_assert_eq(subs_set_status(s, "plan", "plan", p, "active", &out),
                 HUB_OK);
    free(out);
    cr_assert_eq(qlong(sql), 0, "the resume releases every row");
    cr_assert_eq(claim_counted(60, 60, &read, NULL, subs, sizeof(subs)), 50,
                 "one row per patient: the later ones wait for it");
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_queue q "
                       "WHERE q.lease_until IS NOT NULL AND "
                       "q.event_seq > 1000050"), 0,
                 "the first 50 events, each its patient's first");
}

/* Routing into a paused subscription writes its rows held: its backlog,
 * made by ingests while paused, is not walked either. */
Test(heldq, rows_routed_to_a_paused_subscription_are_held)
{
    char a[64], p[64], sql[256], body[256], key[32], *out = NULL;

    subs_make(a, p);
    cr_assert_eq(subs_set_status(s, "plan", "plan", p, "paused", &out),
                 HUB_OK);
    free(out);
    for (int i = 0; i < 400; i++) {
        snprintf(key, sizeof(key), "g%d", i);
        snprintf(body, sizeof(body), "{\"type\":\"goal.updated\","
                 "\"patient\":{\"identifiers\":[{\"system\":\"MRN\","
                 "\"value\":\"g%d\"}]}}", i % 7);
        storetest_ingest(s, "hosp", "hl7v2", key, "goal.updated", body);
    }
    long read;
    char subs[256];
    ingest_a("k1", "m1");
    cr_assert_eq(claim_counted(10, 10, &read, NULL, subs, sizeof(subs)), 1);
    cr_assert_str_eq(subs, a);
    cr_assert_lt(read, 20, "the claim read %ld index entries", read);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM delivery_queue WHERE "
             "subscription_id = '%s' AND due_at = 'infinity'", p);
    cr_assert_eq(qlong(sql), 400);
}

/* A 410 disables the subscription inside the outcome flush, which holds
 * nothing; the dispatcher's sweep (hub_queue_sweep, as hubd runs it)
 * holds the backlog in bounded batches, and a re-enable releases it. */
Test(heldq, after_a_410_the_sweep_holds_the_backlog)
{
    char a[64], p[64], sql[512], *out = NULL;
    long ids[4], tok[4];

    subs_make(a, p);
    backlog(p, BACKLOG);
    cr_assert_eq(storetest_claim(s, "n", 60000, 1, 1, ids, tok), 1);
    snprintf(sql, sizeof(sql), "SELECT hub_deliveries_done('n', "
             "'[{\"id\":%ld,\"token\":%ld,\"attempt\":1,\"code\":410,"
             "\"latency_ms\":1,\"outcome\":\"gone\",\"delay_ms\":0}]')",
             ids[0], tok[0]);
    exec(sql);
    snprintf(sql, sizeof(sql), "SELECT status FROM subscriptions WHERE "
             "id = '%s'", p);
    char *st = storetest_text(s, sql);
    cr_assert_str_eq(st, "disabled");
    free(st);
    /* batches of at most 10,000, until nothing is left */
    long n, total = 0;
    int turns = 0;
    while ((n = qlong("SELECT hub_queue_sweep(10000, 100000)")) > 0) {
        cr_assert_leq(n, 10000);
        total += n;
        cr_assert_lt(++turns, 10);
    }
    cr_assert_eq(total, BACKLOG - 1, "the dead letter left the queue");
    a_claim_is_bounded(a, "k1", "disabled by a 410");

    cr_assert_eq(subs_set_status(s, "plan", "plan", p, "active", &out),
                 HUB_OK);
    free(out);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM delivery_queue WHERE "
             "subscription_id = '%s' AND due_at <> 'infinity'", p);
    cr_assert_eq(qlong(sql), BACKLOG - 1, "re-enabled: released");
}

/* Delete ends the open deliveries: cancelled (a terminal state, shown as
 * such), their queue rows gone, one audit row with the count; a leased
 * one too, whose late outcome is then 'lost'; nothing is left to walk. */
Test(heldq, delete_cancels_the_open_deliveries_and_audits_the_count)
{
    char a[64], p[64], sql[512];
    long ids[4], tok[4];

    subs_make(a, p);
    backlog(p, BACKLOG);
    cr_assert_eq(storetest_claim(s, "n", 60000, 1, 1, ids, tok), 1,
                 "one of p's being sent as it is deleted");
    cr_assert_eq(subs_delete(s, "test", "plan", p), HUB_OK);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM delivery_queue WHERE "
             "subscription_id = '%s'", p);
    cr_assert_eq(qlong(sql), 0);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM delivery_state WHERE "
             "subscription_id = '%s' AND status = 'cancelled'", p);
    cr_assert_eq(qlong(sql), BACKLOG);
    snprintf(sql, sizeof(sql), "SELECT (detail::jsonb->>'cancelled')::int "
             "FROM audit WHERE action = 'subscription.deleted' AND "
             "object_id = '%s'", p);
    cr_assert_eq(qlong(sql), BACKLOG);
    a_claim_is_bounded(a, "k1", "deleted");

    /* the attempt under way finishes: recorded as lost, still cancelled */
    snprintf(sql, sizeof(sql), "SELECT hub_deliveries_done('n', "
             "'[{\"id\":%ld,\"token\":%ld,\"attempt\":1,\"code\":200,"
             "\"latency_ms\":1,\"outcome\":\"delivered\",\"delay_ms\":0}]')",
             ids[0], tok[0]);
    exec(sql);
    snprintf(sql, sizeof(sql), "SELECT status FROM delivery_state WHERE "
             "id = %ld", ids[0]);
    char *st = storetest_text(s, sql);
    cr_assert_str_eq(st, "cancelled");
    free(st);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM delivery_attempts "
             "WHERE delivery_id = %ld AND outcome = 'lost'", ids[0]);
    cr_assert_eq(qlong(sql), 1);

    /* listed as cancelled; not replayable (nothing to send it to) */
    char *page = NULL;
    cr_assert_eq(deliveries_list(s, NULL, p, "cancelled", 0, 5, &page),
                 HUB_OK);
    cr_assert_not_null(strstr(page, "\"status\": \"cancelled\""), "%s", page);
    free(page);
    char dlv[32];
    snprintf(dlv, sizeof(dlv), "dlv_%ld", ids[0]);
    cr_assert_eq(deliveries_replay(s, "op", NULL, dlv), HUB_ENOTFOUND);
    struct store_audit_check c;
    cr_assert_eq(store_audit_verify(s, &c), HUB_OK);
    cr_assert(c.ok);
}

/* A replay of a deleted subscription's delivered delivery is recorded
 * (as the API answers: replayed, never sent) and ends cancelled at once:
 * no queue row is left behind. */
Test(heldq, a_replay_into_a_deleted_subscription_is_cancelled_at_once)
{
    char a[64], p[64], dlv[32];
    long ids[4], tok[4];

    subs_make(a, p);
    ingest_a("k1", "m1");
    cr_assert_eq(storetest_claim(s, "n", 60000, 1, 1, ids, tok), 1);
    char sql[512];
    snprintf(sql, sizeof(sql), "SELECT hub_deliveries_done('n', "
             "'[{\"id\":%ld,\"token\":%ld,\"attempt\":1,\"code\":200,"
             "\"latency_ms\":1,\"outcome\":\"delivered\",\"delay_ms\":0}]')",
             ids[0], tok[0]);
    exec(sql);
    cr_assert_eq(subs_delete(s, "test", "cbo", a), HUB_OK);
    snprintf(dlv, sizeof(dlv), "dlv_%ld", ids[0]);
    cr_assert_eq(deliveries_replay(s, "op", NULL, dlv), HUB_OK);
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_queue"), 0);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM delivery_state WHERE "
             "id = %ld AND status = 'cancelled' AND replays = 1", ids[0]);
    cr_assert_eq(qlong(sql), 1);
}

/* The sweep also mends what the other paths leave: a row leased at the
 * pause that came back for a retry (not held: the pause passes leased
 * rows by), and a held row of an active subscription. */
Test(heldq, the_sweep_holds_a_retried_row_of_a_paused_subscription)
{
    char a[64], p[64], sql[512], *out = NULL;
    long ids[4], tok[4];

    subs_make(a, p);
    backlog(p, 3);
    cr_assert_eq(storetest_claim(s, "n", 60000, 1, 1, ids, tok), 1);
    cr_assert_eq(subs_set_status(s, "plan", "plan", p, "paused", &out),
                 HUB_OK);
    free(out);
    snprintf(sql, sizeof(sql), "SELECT hub_deliveries_done('n', "
             "'[{\"id\":%ld,\"token\":%ld,\"attempt\":1,\"code\":500,"
             "\"latency_ms\":1,\"outcome\":\"retry\",\"delay_ms\":0}]')",
             ids[0], tok[0]);
    exec(sql);
    snprintf(sql, sizeof(sql), "SELECT (due_at = 'infinity')::text FROM delivery_queue "
             "WHERE delivery_id = %ld", ids[0]);
    char *v = storetest_text(s, sql);
    cr_assert_str_eq(v, "false");
    free(v);
    cr_assert_eq(qlong("SELECT hub_queue_sweep(100, 1000)"), 1);
    v = storetest_text(s, sql);
    cr_assert_str_eq(v, "true");
    free(v);
    /* a held row of an active subscription is released */
    snprintf(sql, sizeof(sql), "UPDATE delivery_queue SET due_at = 'infinity' "
             "WHERE subscription_id = '%s'", a);
    ingest_a("k1", "m1");
    exec(sql);
    cr_assert_eq(qlong("SELECT hub_queue_sweep(100, 1000)"), 1);
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_queue WHERE due_at = 'infinity'"), 3);
}

/* The gauges: due counts only what a claim may take (the rows of active
 * subscriptions); the rows of paused or disabled ones are held, whether
 * or not the sweep has held them yet. */
Test(heldq, the_backlog_gauges_count_held_rows_apart_from_due_ones)
{
    char a[64], p[64], g[64], sql[256], *out = NULL;
    struct deliveries_backlog b;

    subs_make(a, p);
    storetest_sub(s, "plan", "{\"url\":\"http://g.example/\","
                  "\"topics\":[\"goal.updated\"]}", g);
    backlog(p, 500);
    cr_assert_eq(subs_set_status(s, "plan", "plan", p, "paused", &out),
                 HUB_OK);
    free(out);
    backlog(g, 20);
    /* disabled, its rows not yet held (as a 410 leaves them) */
    snprintf(sql, sizeof(sql), "UPDATE subscriptions SET status = "
             "'disabled' WHERE id = '%s'", g);
    exec(sql);
    ingest_a("k1", "m1");
    ingest_a("k2", "m2");
    cr_assert_eq(deliveries_backlog(s, true, &b), HUB_OK);
    cr_assert_eq(b.due, 2);
    cr_assert_eq(b.held, 520);
    cr_assert_eq(b.scheduled, 0);
    cr_assert_eq(b.leased, 0);
    cr_assert_eq(b.dead, 0);
    cr_assert_lt(b.oldest_due_s, 600, "a's, not p's hour-old rows: %g",
                 b.oldest_due_s);
}

/* A patient's later deliveries wait behind its first while that one is in
 * a retry's back-off (the per-patient order): they are due by their time,
 * but no claim takes them. Counted as due, they made
 * hub_deliveries_oldest_due_seconds grow through the whole retry schedule
 * (days) while the dispatcher was well, paging on-call for a partner's
 * failing endpoint: they are blocked, and the oldest due is that of a row
 * a claim can take. */
Test(heldq, rows_behind_their_patient_earlier_delivery_are_blocked_not_due)
{
    char a[64], p[64];
    struct deliveries_backlog b;

    subs_make(a, p);
    backlog(a, 150);        /* 50 patients, 3 rows each, due an hour ago */
    /* the first row of each patient in a back-off, due in 10 minutes */
    exec("UPDATE delivery_queue q SET due_at = now() + interval '10 min' "
         "WHERE NOT EXISTS (SELECT 1 FROM delivery_queue o WHERE "
         "o.subscription_id = q.subscription_id AND "
         "o.patient_hub_id = q.patient_hub_id AND o.event_seq < q.event_seq)");
    cr_assert_eq(deliveries_backlog(s, true, &b), HUB_OK);
    cr_assert_eq(b.scheduled, 50);
    cr_assert_eq(b.blocked, 100);
    cr_assert_eq(b.due, 0);
    cr_assert_eq(b.oldest_due_s, 0, "%g", b.oldest_due_s);
    cr_assert_eq(qlong("SELECT count(*) FROM hub_claim_deliveries('n', "
                       "60000, 100, 8, '{}')"), 0, "no claim takes them");
    /* another patient's row, claimable: due, and the oldest due is its */
    ingest_a("k1", "m1");
    cr_assert_eq(deliveries_backlog(s, true, &b), HUB_OK);
    cr_assert_eq(b.due, 1);
    cr_assert_eq(b.blocked, 100);
    cr_assert_lt(b.oldest_due_s, 600, "%g", b.oldest_due_s);
}

/* The dead-letter gauge reads the dead letters (deliveries_dead), not the
 * table: 6,000 deliveries, 7 of them dead; the count is right and reads at
 * most 20 of the table's pages (a scan read all of them), and follows a
 * replay and a new dead letter. */
Test(heldq, the_dead_gauge_reads_the_dead_letters_not_the_table)
{
    char a[64], p[64], g[64];
    struct deliveries_backlog b;

    subs_make(a, p);
    storetest_sub(s, "plan", "{\"url\":\"http://g.example/\","
                  "\"topics\":[\"goal.updated\"]}", g);
    backlog(g, 6000);
    exec("WITH d AS (UPDATE deliveries SET status = 'dead' WHERE id IN "
         "(SELECT id FROM deliveries ORDER BY id DESC LIMIT 7) RETURNING id) "
         "DELETE FROM delivery_queue q USING d WHERE q.delivery_id = d.id");
    exec("ANALYZE deliveries");
    long pages = qlong("SELECT pg_relation_size('deliveries') / 8192");
    cr_assert_gt(pages, 100);
    for (int round = 0; round < 3; round++) {
        exec("BEGIN");
        long b0 = qlong("SELECT pg_stat_get_xact_blocks_fetched("
                        "'deliveries'::regclass)");
        cr_assert_eq(deliveries_backlog(s, true, &b), HUB_OK);
        long read = qlong("SELECT pg_stat_get_xact_blocks_fetched("
                          "'deliveries'::regclass)") - b0;
        exec("COMMIT");
        cr_log_info("dead gauge: %lld dead, %ld of %ld pages read",
                    b.dead, read, pages);
        cr_assert_eq(b.dead, round == 1 ? 6 : 7, "round %d", round);
        cr_assert_leq(read, 20, "read %ld of %ld pages", read, pages);
        cr_assert_eq(b.held + b.due + b.blocked + b.scheduled + b.leased,
                     round == 1 ? 5994 : 5993, "round %d", round);
        if (round == 0)             /* one replayed: open again */
            cr_assert_eq(qlong("SELECT hub_replay_delivery('test', NULL, "
                               "(SELECT max(id) FROM deliveries))::int"), 1);
        if (round == 1)             /* and dead again, another way */
            exec("WITH d AS (UPDATE deliveries SET status = 'dead' WHERE "
                 "id = (SELECT max(id) FROM deliveries) RETURNING id) "
                 "DELETE FROM delivery_queue q USING d WHERE "
                 "q.delivery_id = d.id");
    }
    /* with no gauge of dead asked for, no dead count */
    cr_assert_eq(deliveries_backlog(s, false, &b), HUB_OK);
    cr_assert_eq(b.dead, -1);
}

/* A row of a deleted subscription left open (an attempt under way at the
 * delete whose lease the delete's pass under the chain lock passed by,
 * back for a retry): the sweep cancels it, with an audit row that counts
 * it, and nothing of it is left to walk. */
Test(heldq, the_sweep_cancels_what_a_delete_left_open)
{
    char a[64], p[64], sql[512];

    subs_make(a, p);
    cr_assert_eq(subs_delete(s, "test", "plan", p), HUB_OK);
    backlog(p, 3);                      /* as if routed before the delete */
    cr_assert_eq(qlong("SELECT hub_queue_sweep(100, 1000)"), 3);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM delivery_state WHERE "
             "subscription_id = '%s' AND status = 'cancelled'", p);
    cr_assert_eq(qlong(sql), 3);
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_queue"), 0);
    snprintf(sql, sizeof(sql), "SELECT (detail::jsonb->>'cancelled')::int "
             "FROM audit WHERE action = 'subscription.cancelled' AND "
             "object_id = '%s'", p);
    cr_assert_eq(qlong(sql), 3);
    cr_assert_eq(qlong("SELECT hub_queue_sweep(100, 1000)"), 0);
    struct store_audit_check c;
    cr_assert_eq(store_audit_verify(s, &c), HUB_OK);
    cr_assert(c.ok);
}

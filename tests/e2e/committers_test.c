/*
 * committers_test.c - hubd's two group-commit committers (commit_threads =
 * 2) when the database connection of one of them breaks: a committer that
 * cannot commit leaves its work to one that can, so a quiet feed's few
 * messages are not held through its reconnect back-off; and after a
 * database outage both committers reconnect, /readyz returns by itself and
 * each committer commits again, without a restart.
 *
 * One committer is singled out by its application_name (hubd-commit-N in
 * pg_stat_activity): its backend is terminated while the database refuses
 * new connections (ALLOW_CONNECTIONS false), so that it cannot reconnect
 * while the other committer keeps its working connection.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/hubproc.h"
#include "../lib/testfile.h"
#include "common/hub_err.h"
#include "store.h"

static struct hubproc hub;
/* the test's own connection to database "postgres" (PostgreSQL refuses
 * ALLOW_CONNECTIONS false for the database one is connected to) */
static struct store *admin;
static char dbname[64];             /* the test database's name */

/* admin and dbname, from the test database's URL: its name is the path
 * (testdb: hubtest_<digits and _>), "postgres" the admin database */
static void connect_admin(void)
{
    const char *u = hub.db_url, *host = strstr(u, "://");
    const char *slash = strchr(host ? host + 3 : u, '/');
    cr_assert_not_null(slash);
    size_t n = strcspn(slash + 1, "?");
    cr_assert(n > 0 && n < sizeof(dbname));
    memcpy(dbname, slash + 1, n);
    dbname[n] = '\0';
    cr_assert_eq(strspn(dbname, "abcdefghijklmnopqrstuvwxyz0123456789_"), n,
                 "a plain database name");
    char url[1100];
    snprintf(url, sizeof(url), "%.*s/postgres%s", (int)(slash - u), u,
             slash + 1 + n);
    cr_assert_eq(store_connect(url, &admin), HUB_OK);
}

static void start_direct(void)
{
    cr_assert_eq(hub_start(&hub, "commit_threads = 2", false), 0,
                 "hubd did not start");
    connect_admin();
}

static void start_proxied(void)
{
    cr_assert_eq(hub_start(&hub, "commit_threads = 2", true), 0,
                 "hubd did not start");
    connect_admin();
}

static int allow_connections(bool allow);

static void stop(void)
{
    if (admin) {
        /* DROP DATABASE needs no connection, but leave it as found */
        (void)allow_connections(true);
        store_free(admin);
        admin = NULL;
    }
    hub_cleanup(&hub);
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* New connections to the test database: refused (existing ones stay). */
static int allow_connections(bool allow)
{
    char sql[160];
    snprintf(sql, sizeof(sql), "ALTER DATABASE %s ALLOW_CONNECTIONS %s",
             dbname, allow ? "true" : "false");
    return store_exec(admin, sql);
}

/* Terminate (and wait for) the backends of hubd's connections named
 * `app`; returns how many, or -1. */
static long terminate(const char *app)
{
    const char *p[2] = { dbname, app };
    char *out = NULL;
    long n = -1;
    if (store_query_text(admin, "SELECT count(pg_terminate_backend(pid, "
                                "5000)) FROM pg_stat_activity WHERE datname "
                                "= $1 AND application_name = $2", 2, p,
                         &out) == HUB_OK && out)
        n = strtol(out, NULL, 10);
    free(out);
    return n;
}

/* hubd's connections named `app` (to the test database), or -1. */
static long backends(const char *app)
{
    const char *p[2] = { dbname, app };
    char *out = NULL;
    long n = -1;
    if (store_query_text(admin, "SELECT count(*) FROM pg_stat_activity "
                                "WHERE datname = $1 AND application_name = "
                                "$2", 2, p, &out) == HUB_OK && out)
        n = strtol(out, NULL, 10);
    free(out);
    return n;
}

/* Wait (bounded by ms) until `app` is connected again. */
static bool wait_backend(const char *app, int ms)
{
    for (int t = 0; t < ms; t += 100) {
        if (backends(app) == 1)
            return true;
        hub_sleep_ms(100);
    }
    return false;
}

/* Send `id` and expect its AA within `ms`. */
static void expect_aa(struct mllp_client *c, const char *id, int ms)
{
    char msg[2048], ack[4096], code[3], ctrl[64];
    hl7_sample(msg, sizeof(msg), id, "MRN-CM1");
    cr_assert_eq(mllp_send(c, msg), 0);
    cr_assert_gt(mllp_read(c, ack, sizeof(ack), ms), 0,
                 "no ACK for %s within %d ms", id, ms);
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AA");
    cr_expect_str_eq(ctrl, id);
}

/* Committer 0 takes a quiet feed's messages alone (the other starts a
 * batch only for 16 or more); here its connection is gone and it cannot
 * reconnect, while committer 1's connection works: the messages must still
 * be answered at once, not after committer 0's back-off (which, while the
 * database refuses it, never ends). */
/* F1080: behind a relay the cut sessions are not terminated (their
 * client is not hubd's link); the log says so once, and only there. */
Test(committers, a_relayed_link_says_once_that_cut_sessions_get_the_cancel_alone,
     .fini = stop, .timeout = 60)
{
    start_proxied();
    cr_assert(hub_wait_status(&hub, "/readyz", 200, 15000), "not ready");
    cr_expect(hub_wait_log(&hub, "store.fence_off", 1, 5000));
    hub_sleep_ms(300);
    cr_expect_eq(hub_log_count(&hub, "store.fence_off"), 1);
    stop();
    start_direct();
    cr_assert(hub_wait_status(&hub, "/readyz", 200, 15000), "not ready");
    hub_sleep_ms(500);
    cr_expect_eq(hub_log_count(&hub, "store.fence_off"), 0);
}

Test(committers, a_committer_without_a_connection_leaves_its_work_to_another,
     .init = start_direct, .fini = stop, .timeout = 60)
{
    struct mllp_client c;
    char msg[2048], ack[4096], code[3], ctrl[64];

    cr_assert(hub_wait_status(&hub, "/readyz", 200, 10000), "ready at start");
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    expect_aa(&c, "CM-0", 10000);

    cr_assert_eq(allow_connections(false), HUB_OK);
    cr_assert_eq(terminate("hubd-commit-0"), 1, "committer 0's backend");
    /* three messages of a quiet feed, pipelined */
    for (int i = 1; i <= 3; i++) {
        char id[16];
        snprintf(id, sizeof(id), "CM-%d", i);
        hl7_sample(msg, sizeof(msg), id, "MRN-CM1");
        cr_assert_eq(mllp_send(&c, msg), 0);
    }
    long t0 = now_ms();
    for (int i = 1; i <= 3; i++) {
        char want[16];
        snprintf(want, sizeof(want), "CM-%d", i);
        long left = 3000 - (now_ms() - t0);
        cr_assert_gt(mllp_read(&c, ack, sizeof(ack), left > 0 ? (int)left : 1),
                     0, "no ACK for %s within 3 s: committer 0 holds it", want);
        ack_fields(ack, code, ctrl, sizeof(ctrl));
        cr_expect_str_eq(code, "AA");
        cr_expect_str_eq(ctrl, want);
    }
    /* readiness still says a committer has no connection */
    cr_expect_eq(hub_get_status(&hub, "/readyz"), 503);

    cr_assert_eq(allow_connections(true), HUB_OK);
    cr_expect(wait_backend("hubd-commit-0", 10000), "committer 0 reconnects");
    cr_expect(hub_wait_status(&hub, "/readyz", 200, 10000), "ready again");
    expect_aa(&c, "CM-4", 5000);
    mllp_close(&c);
    cr_expect_eq(hub_sql_long(&hub, "select count(*) from messages where "
                                    "idem_key like 'CM-%'"), 5,
                 "each message stored once");
}

/* The database goes away for everyone and comes back: readiness returns
 * without a restart once both committers have reconnected (ingest_ready
 * asks every committer), the message kept through the outage commits, and
 * then each committer is shown to commit on its own: the other one's
 * connection is taken away and new ones refused. */
Test(committers, after_an_outage_both_committers_reconnect_and_commit,
     .init = start_proxied, .fini = stop, .timeout = 90)
{
    struct mllp_client c;
    char msg[2048], ack[4096], code[3], ctrl[64];

    cr_assert(hub_wait_status(&hub, "/readyz", 200, 10000), "ready at start");
    dbproxy_set_down(hub.proxy, true);
    cr_expect(hub_wait_status(&hub, "/readyz", 503, 15000), "not ready without the database");
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    hl7_sample(msg, sizeof(msg), "OUT-1", "MRN-CM2");
    cr_assert_eq(mllp_send(&c, msg), 0);
    cr_expect_lt(mllp_read(&c, ack, sizeof(ack), 1000), 0,
                 "an ACK without a commit");
    dbproxy_set_down(hub.proxy, false);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 15000), 0,
                 "the message kept through the outage commits");
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AA");
    cr_expect_str_eq(ctrl, "OUT-1");
    cr_assert(hub_wait_status(&hub, "/readyz", 200, 15000), "ready again, no restart");

    for (int k = 0; k < 2; k++) {
        char other[32], id[16];
        snprintf(other, sizeof(other), "hubd-commit-%d", 1 - k);
        snprintf(id, sizeof(id), "OUT-C%d", k);
        cr_assert_eq(allow_connections(false), HUB_OK);
        cr_assert_eq(terminate(other), 1, "%s's backend", other);
        expect_aa(&c, id, 3000);    /* committed by committer k alone */
        cr_assert_eq(allow_connections(true), HUB_OK);
        /* (readiness alone may not know yet: an idle committer finds its
         * link broken at its next ping, within a second) */
        cr_assert(wait_backend(other, 10000), "%s reconnects", other);
        cr_assert(hub_wait_status(&hub, "/readyz", 200, 10000), "ready again");
    }
    mllp_close(&c);
    cr_expect_eq(hub_sql_long(&hub, "select count(*) from messages where "
                                    "idem_key like 'OUT-%'"), 3);
}

/* Svix #1844: a worker stuck after its queue store restarted. Through a
 * 4 s outage hubd keeps trying to reach the database, with backoff (each
 * committer from 50 ms doubling to 2 s, the dispatcher once per poll, 1 s):
 * a bounded number of connection attempts, not a tight loop, and not
 * none. Readiness is false meanwhile and returns by itself; a message
 * sent during the outage commits after it. */
Test(committers, an_outage_is_retried_with_backoff_and_readiness_returns,
     .init = start_proxied, .fini = stop, .timeout = 60)
{
    struct mllp_client c;
    char msg[2048], ack[4096], code[3], ctrl[64];

    cr_assert(hub_wait_status(&hub, "/readyz", 200, 10000), "ready at start");
    dbproxy_set_down(hub.proxy, true);
    cr_assert(hub_wait_status(&hub, "/readyz", 503, 15000), "not ready without the database");
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    hl7_sample(msg, sizeof(msg), "BACKOFF-1", "MRN-CM4");
    cr_assert_eq(mllp_send(&c, msg), 0);
    int before = dbproxy_refused(hub.proxy);
    hub_sleep_ms(4000);
    int tries = dbproxy_refused(hub.proxy) - before;
    cr_log_info("%d connection attempts in 4 s of outage", tries);
    cr_expect_geq(tries, 3, "it keeps trying (%d)", tries);
    cr_expect_leq(tries, 40, "a reconnect storm: %d in 4 s", tries);
    cr_expect_eq(hub_get_status(&hub, "/readyz"), 503, "still not ready");
    dbproxy_set_down(hub.proxy, false);
    cr_assert(hub_wait_status(&hub, "/readyz", 200, 15000), "ready again by itself");
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 15000), 0,
                 "the message sent during the outage commits");
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AA");
    cr_expect_str_eq(ctrl, "BACKOFF-1");
    mllp_close(&c);
}

/* SIGTERM while the database is down and a message waits: the committers
 * retry until the shutdown timeout (3 s here), then hubd exits on its own
 * without an ACK for what never committed; and with nothing pending, a
 * committer without a connection does not hold the exit up. */
Test(committers, stops_within_its_timeout_while_the_database_is_down,
     .init = start_proxied, .fini = stop, .timeout = 60)
{
    struct mllp_client c;
    char msg[2048], ack[4096];

    cr_assert(hub_wait_status(&hub, "/readyz", 200, 10000), "ready at start");
    dbproxy_set_down(hub.proxy, true);
    /* (once the links are cut: a commit racing the cut may be stored and
     * yet never answered, which is allowed, but not what this checks) */
    cr_assert(hub_wait_status(&hub, "/readyz", 503, 5000), "the committers noticed");
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    hl7_sample(msg, sizeof(msg), "DOWN-1", "MRN-CM3");
    cr_assert_eq(mllp_send(&c, msg), 0);
    cr_expect_lt(mllp_read(&c, ack, sizeof(ack), 500), 0, "no ACK yet");
    long t0 = now_ms();
    cr_expect_neq(hub_stop(&hub), -1, "exited by itself");
    long took = now_ms() - t0;
    cr_expect_lt(took, 8000, "stopped in %ld ms", took);
    /* no AA for it: the connection ends without one */
    long n = mllp_read(&c, ack, sizeof(ack), 1000);
    cr_expect(n <= 0 || strstr(ack, "MSA|AA") == NULL, "an AA: %s", ack);
    mllp_close(&c);
    dbproxy_set_down(hub.proxy, false);
    cr_expect_eq(hub_sql_long(&hub, "select count(*) from messages where "
                                    "idem_key = 'DOWN-1'"), 0);
}

/* Occurrences of `what` in hubd.log past its first `from` bytes, from the
 * first `after` on (or from there when after is NULL; -1 when after is not
 * there). */
static int log_count(const char *what, const char *after, size_t from)
{
    size_t len;
    char *log = testfile_read(hub_path(&hub, "hubd.log"), &len);
    cr_assert_not_null(log);
    const char *p = log + (from < len ? from : len);
    p = after ? strstr(p, after) : p;
    int n = p ? 0 : -1;
    while (p && (p = strstr(p, what)) != NULL) {
        n++;
        p += strlen(what);
    }
    free(log);
    return n;
}

/* The SIGTERM comes 3.3 s into the outage, when each committer's reconnect
 * back-off (50 ms doubling to 2 s) sleeps its longest: the sleep ends at
 * the shutdown, not 2 s later, and nothing reconnects after the stop. */
Test(committers, stops_at_once_with_nothing_pending_while_the_database_is_down,
     .init = start_proxied, .fini = stop, .timeout = 60)
{
    cr_assert(hub_wait_status(&hub, "/readyz", 200, 10000), "ready at start");
    dbproxy_set_down(hub.proxy, true);
    cr_expect(hub_wait_status(&hub, "/readyz", 503, 5000), "the committers noticed");
    struct timespec ts = { 3, 300000000L };
    nanosleep(&ts, NULL);
    long t0 = now_ms();
    cr_expect_neq(hub_stop(&hub), -1, "exited by itself");
    long took = now_ms() - t0;
    cr_expect_lt(took, 1000, "stopped in %ld ms (back-off 2 s)", took);
    cr_expect_eq(log_count("store.connect_failed", "hubd.stopped", 0), 0,
                 "a reconnect attempt after the stop");
}

/* An outage long enough for the dispatcher's queue sweep (every 5 s) to
 * fail too: once the outage is established, the dispatcher never reports
 * the database available while it is not (a failed sweep alone once read
 * as a working link); the failed reconnects are a line, not a line each.
 * (At the cut itself a claim answered just before it may be taken after
 * another worker's failure: a flap there is a true report of each reply.) */
Test(committers, the_dispatcher_reports_an_outage_once,
     .init = start_proxied, .fini = stop, .timeout = 60)
{
    cr_assert(hub_wait_status(&hub, "/readyz", 200, 10000), "ready at start");
    dbproxy_set_down(hub.proxy, true);
    cr_expect(hub_wait_status(&hub, "/readyz", 503, 5000), "the committers noticed");
    struct timespec settle = { 1, 0 }, ts = { 6, 0 };
    nanosleep(&settle, NULL);
    size_t mark;
    free(testfile_read(hub_path(&hub, "hubd.log"), &mark));
    nanosleep(&ts, NULL);
    cr_expect_eq(hub_stop(&hub), 0);
    cr_expect_geq(log_count("dispatch.db_unavailable", NULL, 0), 1);
    cr_expect_eq(log_count("dispatch.db_available", NULL, mark), 0,
                 "the dispatcher saw the database back while it was down");
    /* every connection retried on its own back-off all along; the log has
     * one line for them within 10 s (store.c, LINK_LOG_MS) */
    int lines = log_count("store.connect_failed", NULL, 0) +
                log_count("store.reconnect_failed", NULL, 0);
    cr_expect(lines >= 1 && lines <= 2, "%d lines of failed connects", lines);
}

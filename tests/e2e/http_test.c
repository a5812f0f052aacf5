/*
 * http_test.c - hubd's HTTPS API end to end with libcurl: tokens and client
 * certificates, scopes, POST /v1/hl7v2 and the pull feed, operations routes,
 * readiness while the database is unreachable, and back-pressure (503 with
 * Retry-After) when the in-flight cap is reached.
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/hubproc.h"
#include "common/hub_err.h"
#include "store.h"

static struct hubproc hub;

static void start_default(void)
{
    cr_assert_eq(hub_start(&hub, NULL, false), 0, "hubd did not start");
}

static void start_proxied(void)
{
    cr_assert_eq(hub_start(&hub, "inflight_max = 1\nretry_after = 2", true),
                 0, "hubd did not start");
}

static void start_small_body(void)
{
    cr_assert_eq(hub_start(&hub, "max_body = 4K", false), 0,
                 "hubd did not start");
}

static void start_rate_limited(void)
{
    cr_assert_eq(hub_start(&hub, "rate_limit = 1\nrate_burst = 3", false), 0,
                 "hubd did not start");
}

static void start_short_timeout(void)
{
    cr_assert_eq(hub_start(&hub, "http_timeout = 1\n"
                           "max_messages_per_request = 2", false), 0,
                 "hubd did not start");
}

static void stop(void)
{
    hub_cleanup(&hub);
}

/* the first "event_ids":["..."] value of a response, or "" */
static void first_event_id(const char *body, char *out, size_t size)
{
    const char *p = strstr(body, "\"event_ids\":[\"");
    out[0] = '\0';
    if (p == NULL)
        return;
    p += 14;
    size_t n = strcspn(p, "\"");
    if (n < size) {
        memcpy(out, p, n);
        out[n] = '\0';
    }
}

Test(http, post_hl7v2_with_token_then_read_it_from_the_feed,
     .init = start_default, .fini = stop, .timeout = 30)
{
    struct http_resp r;
    char msg[2048], id[64];

    hl7_sample(msg, sizeof(msg), "HTTP-1", "MRN-H1");
    cr_assert_eq(http_call(&hub, true, "POST", "/v1/hl7v2", "tok-hosp", NULL,
                           msg, strlen(msg), NULL, &r), 0);
    cr_expect_eq(r.status, 202, "body: %s", r.body);
    cr_expect(strstr(r.body, "\"ack_code\":\"AA\"") != NULL, "%s", r.body);
    first_event_id(r.body, id, sizeof(id));
    cr_assert_eq(strlen(id), 26, "an event id in %s", r.body);
    http_resp_free(&r);

    cr_assert_eq(http_call(&hub, true, "GET", "/v1/events?after=0&limit=10",
                           "tok-hosp", NULL, NULL, 0, NULL, &r), 0);
    cr_expect_eq(r.status, 200);
    cr_expect(strstr(r.body, id) != NULL, "the sender sees its event");
    cr_expect(strstr(r.body, "\"next\"") != NULL);
    http_resp_free(&r);

    /* another org sees nothing it was not sent or routed */
    cr_assert_eq(http_call(&hub, true, "GET", "/v1/events", "tok-cbo", NULL,
                           NULL, 0, NULL, &r), 0);
    cr_expect_eq(r.status, 200);
    cr_expect(strstr(r.body, id) == NULL, "cbo must not see hosp's event");
    http_resp_free(&r);
    cr_expect_eq(hub_stop(&hub), 0, "clean exit on SIGTERM");
}

Test(http, client_certificate_authenticates_without_token,
     .init = start_default, .fini = stop, .timeout = 30)
{
    struct http_resp r;
    char msg[2048];

    hl7_sample(msg, sizeof(msg), "HTTP-CERT", "MRN-H2");
    cr_assert_eq(http_call(&hub, true, "POST", "/v1/hl7v2", NULL, "hosp", msg,
                           strlen(msg), NULL, &r), 0);
    cr_expect_eq(r.status, 202, "body: %s", r.body);
    http_resp_free(&r);
    cr_expect_eq(hub_sql_long(&hub, "select count(*) from messages where "
                                    "org_id = 'hosp' and idem_key = "
                                    "'HTTP-CERT'"), 1);
}

Test(http, refuses_missing_credentials_and_missing_scope,
     .init = start_default, .fini = stop, .timeout = 30)
{
    struct http_resp r;
    char msg[2048];

    hl7_sample(msg, sizeof(msg), "HTTP-NO", "MRN-H3");
    cr_assert_eq(http_call(&hub, true, "POST", "/v1/hl7v2", NULL, NULL, msg,
                           strlen(msg), NULL, &r), 0);
    cr_expect_eq(r.status, 401);
    cr_expect(strstr(r.body, "\"error\"") != NULL);
    http_resp_free(&r);
    cr_assert_eq(http_call(&hub, true, "POST", "/v1/hl7v2", "not-a-token",
                           NULL, msg, strlen(msg), NULL, &r), 0);
    cr_expect_eq(r.status, 401);
    http_resp_free(&r);
    /* cbo may subscribe but not ingest */
    cr_assert_eq(http_call(&hub, true, "POST", "/v1/hl7v2", "tok-cbo", NULL,
                           msg, strlen(msg), NULL, &r), 0);
    cr_expect_eq(r.status, 403);
    cr_expect(strstr(r.body, "\"code\":\"forbidden\"") != NULL, "%s",
              r.body);
    cr_expect(strstr(r.body, "needs (ingest)") != NULL,
              "the refusal names the scope: %s", r.body);
    http_resp_free(&r);
    cr_expect_eq(hub_sql_long(&hub, "select count(*) from messages"), 0);
}

Test(http, several_messages_in_one_body_get_one_ack_each,
     .init = start_default, .fini = stop, .timeout = 30)
{
    struct http_resp r;
    char a[2048], b[2048], body[4200];

    hl7_sample(a, sizeof(a), "MULTI-1", "MRN-M1");
    hl7_sample(b, sizeof(b), "MULTI-2", "MRN-M2");
    snprintf(body, sizeof(body), "%s\n\n%s", a, b);
    cr_assert_eq(http_call(&hub, false, "POST", "/v1/hl7v2", "tok-hosp", NULL,
                           body, strlen(body), "text/plain", &r), 0);
    cr_expect_eq(r.status, 202, "%s", r.body);
    cr_expect(strstr(r.body, "MSA|AA|MULTI-1") != NULL);
    cr_expect(strstr(r.body, "MSA|AA|MULTI-2") != NULL);
    http_resp_free(&r);
    /* a body with one bad message: 400, the good one still stored */
    snprintf(body, sizeof(body), "%s\rMSH|^~\\&|X|Y|HUB|HUB|20260101||"
             "ADT^A01|MULTI-BAD|P|2.5.1\rEVN|A01|20260101\r", a);
    cr_assert_eq(http_call(&hub, false, "POST", "/v1/hl7v2", "tok-hosp", NULL,
                           body, strlen(body), NULL, &r), 0);
    cr_expect_eq(r.status, 400, "%s", r.body);
    cr_expect(strstr(r.body, "\"duplicate\":true") != NULL, "%s", r.body);
    cr_expect(strstr(r.body, "\"field\":\"messages[1]\"") != NULL, "%s",
              r.body);
    http_resp_free(&r);
    cr_expect_eq(hub_sql_long(&hub, "select count(*) from messages where "
                                    "status = 'quarantined'"), 1);
}

Test(http, health_and_metrics_are_public, .init = start_default, .fini = stop,
     .timeout = 30)
{
    struct http_resp r;
    struct mllp_client c;
    char msg[2048], ack[4096];

    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    hl7_sample(msg, sizeof(msg), "MET-1", "MRN-X1");
    cr_assert_eq(mllp_send(&c, msg), 0);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
    cr_assert_eq(http_call(&hub, false, "GET", "/healthz", NULL, NULL, NULL, 0,
                           NULL, &r), 0);
    cr_expect_eq(r.status, 200);
    http_resp_free(&r);
    cr_assert_eq(http_call(&hub, true, "GET", "/readyz", NULL, NULL, NULL, 0,
                           NULL, &r), 0);
    cr_expect_eq(r.status, 200);
    http_resp_free(&r);
    cr_assert_eq(http_call(&hub, false, "GET", "/metrics", NULL, NULL, NULL, 0,
                           NULL, &r), 0);
    cr_expect_eq(r.status, 200);
    cr_expect(strstr(r.body, "hub_messages_total{outcome=\"accepted\"} 1") !=
                  NULL, "%s", r.body);
    cr_expect(strstr(r.body, "hub_ack_latency_seconds_count 1") != NULL);
    cr_expect(strstr(r.body, "hub_commit_batch_size_bucket") != NULL);
    cr_expect(strstr(r.body, "hub_open_connections 1") != NULL);
    http_resp_free(&r);
    cr_assert_eq(http_call(&hub, false, "GET", "/v1/nothing", "tok-hosp",
                           NULL, NULL, 0, NULL, &r), 0);
    cr_expect_eq(r.status, 404);
    http_resp_free(&r);
    /* a method the path does not take: 405 naming those it does */
    cr_assert_eq(http_call(&hub, false, "DELETE", "/v1/hl7v2", "tok-hosp",
                           NULL, NULL, 0, NULL, &r), 0);
    cr_expect_eq(r.status, 405);
    cr_expect_str_eq(r.allow, "POST");
    cr_expect(strstr(r.body, "\"method_not_allowed\"") != NULL, "%s", r.body);
    http_resp_free(&r);
    mllp_close(&c);
}

Test(http, readyz_is_false_while_the_database_is_unreachable,
     .init = start_proxied, .fini = stop, .timeout = 60)
{
    cr_assert(hub_wait_status(&hub, "/readyz", 200, 10000), "ready at start");
    dbproxy_set_down(hub.proxy, true);
    cr_expect(hub_wait_status(&hub, "/readyz", 503, 15000), "not ready without db");
    cr_expect_eq(hub_get_status(&hub, "/healthz"), 200, "still alive");
    dbproxy_set_down(hub.proxy, false);
    cr_expect(hub_wait_status(&hub, "/readyz", 200, 15000), "ready again by itself");
    /* the API's database workers recover too, on the first request */
    struct http_resp r;
    hub_sleep_ms(1200);                 /* past the token cache's TTL */
    cr_assert_eq(http_call(&hub, false, "GET", "/v1/events", "tok-hosp", NULL,
                           NULL, 0, NULL, &r), 0);
    cr_expect_eq(r.status, 200, "%s", r.body);
    http_resp_free(&r);
}

Test(http, pushes_back_with_503_and_acks_nothing_until_commit,
     .init = start_proxied, .fini = stop, .timeout = 60)
{
    struct mllp_client c;
    struct http_resp r;
    char msg[2048], ack[4096], code[3], ctrl[64];

    cr_assert(hub_wait_status(&hub, "/readyz", 200, 10000));
    dbproxy_set_down(hub.proxy, true);
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    hl7_sample(msg, sizeof(msg), "BP-1", "MRN-B1");
    cr_assert_eq(mllp_send(&c, msg), 0);
    /* no ACK while the commit cannot happen */
    cr_expect_lt(mllp_read(&c, ack, sizeof(ack), 1500), 0,
                 "an ACK without a commit");
    /* the one in-flight slot is taken: HTTP is told to come back */
    hl7_sample(msg, sizeof(msg), "BP-2", "MRN-B2");
    cr_assert_eq(http_call(&hub, false, "POST", "/v1/hl7v2", "tok-hosp", NULL,
                           msg, strlen(msg), NULL, &r), 0);
    cr_expect_eq(r.status, 503, "%s", r.body);
    cr_expect_str_eq(r.retry_after, "2");
    http_resp_free(&r);
    /* a second MLLP sender is simply not read meanwhile */
    struct mllp_client d;
    cr_assert_eq(mllp_connect(&d, hub.mllp, &hub, NULL), 0);
    hl7_sample(msg, sizeof(msg), "BP-3", "MRN-B3");
    cr_assert_eq(mllp_send(&d, msg), 0);
    cr_expect_lt(mllp_read(&d, ack, sizeof(ack), 500), 0);
    dbproxy_set_down(hub.proxy, false);
    /* the kept batch commits after the reconnect, then the AA goes out */
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 20000), 0);
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AA");
    cr_expect_str_eq(ctrl, "BP-1");
    /* and the paused sender is read again once there is room */
    cr_assert_gt(mllp_read(&d, ack, sizeof(ack), 20000), 0);
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AA");
    cr_expect_str_eq(ctrl, "BP-3");
    cr_expect_eq(hub_sql_long(&hub, "select count(*) from messages where "
                                    "idem_key in ('BP-1', 'BP-3')"), 2);
    mllp_close(&c);
    mllp_close(&d);
}

Test(http, mllp_framed_body_and_limits, .init = start_small_body,
     .fini = stop, .timeout = 30)
{
    struct http_resp r;
    char a[1200], b[1200], body[4000];
    static char big[8192];

    hl7_sample(a, sizeof(a), "FR-1", "MRN-F1");
    hl7_sample(b, sizeof(b), "FR-2", "MRN-F2");
    int n = snprintf(body, sizeof(body), "\x0b%s\x1c\r\x0b%s\x1c\r", a, b);
    cr_assert_eq(http_call(&hub, false, "POST", "/v1/hl7v2", "tok-hosp", NULL,
                           body, (size_t)n, NULL, &r), 0);
    cr_expect_eq(r.status, 202, "%s", r.body);
    cr_expect(strstr(r.body, "\"accepted\":2") != NULL, "%s", r.body);
    http_resp_free(&r);
    /* broken framing: 400, no message taken, the body quarantined (F4040) */
    n = snprintf(body, sizeof(body), "\x0b%s\x1cX", a);
    cr_assert_eq(http_call(&hub, false, "POST", "/v1/hl7v2", "tok-hosp", NULL,
                           body, (size_t)n, NULL, &r), 0);
    cr_expect_eq(r.status, 400, "%s", r.body);
    http_resp_free(&r);
    /* over max_body: refused by evhttp before any parsing */
    memset(big, 'M', sizeof(big));
    cr_assert_eq(http_call(&hub, false, "POST", "/v1/hl7v2", "tok-hosp", NULL,
                           big, sizeof(big), NULL, &r), 0);
    cr_expect_eq(r.status, 413);
    http_resp_free(&r);
    /* feed parameters are checked whole */
    cr_assert_eq(http_call(&hub, false, "GET", "/v1/events?limit=5000",
                           "tok-hosp", NULL, NULL, 0, NULL, &r), 0);
    cr_expect_eq(r.status, 400);
    cr_expect(strstr(r.body, "\"field\":\"limit\"") != NULL, "%s", r.body);
    http_resp_free(&r);
    cr_assert_eq(http_call(&hub, false, "GET", "/v1/events?after=abc",
                           "tok-hosp", NULL, NULL, 0, NULL, &r), 0);
    cr_expect_eq(r.status, 400);
    http_resp_free(&r);
    /* a topic that is no topic is refused, not read as an empty feed */
    cr_assert_eq(http_call(&hub, false, "GET", "/v1/events?topic=adt.admitted",
                           "tok-hosp", NULL, NULL, 0, NULL, &r), 0);
    cr_expect_eq(r.status, 400, "%s", r.body);
    cr_expect(strstr(r.body, "no known topic") != NULL, "%s", r.body);
    cr_expect(strstr(r.body, "\"field\":\"topic\"") != NULL, "%s", r.body);
    http_resp_free(&r);
    cr_assert_eq(http_call(&hub, false, "GET", "/v1/events?topic=adt.*",
                           "tok-hosp", NULL, NULL, 0, NULL, &r), 0);
    cr_expect_eq(r.status, 200, "%s", r.body);
    cr_expect(strstr(r.body, "adt.admit") != NULL);
    http_resp_free(&r);
    cr_expect_eq(hub_sql_long(&hub, "select count(*) from messages where "
                                    "status = 'accepted'"), 2);
    cr_expect_eq(hub_sql_long(&hub, "select count(*) from messages where "
                                    "status = 'quarantined'"), 1);
}

/* rate_ok's slot of an org id: its FNV-1a hash mod 256 */
static unsigned rate_slot(const char *org)
{
    uint32_t h = 2166136261u;
    for (const char *p = org; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h % 256;
}

/* An org whose id lands in hosp's rate slot, with the token tok-peer */
static void add_slot_peer(void)
{
    struct store *s;
    char id[32], sha[65];
    unsigned n = 0;
    do
        snprintf(id, sizeof(id), "peer%u", n++);
    while (rate_slot(id) != rate_slot("hosp"));
    cr_assert_eq(store_connect(hub.db_url, &s), HUB_OK);
    cr_assert_eq(store_org_add(s, "test", id, "Slot Peer", "cbo",
                               SCOPE_SUBSCRIBE), HUB_OK);
    store_sha256_hex("tok-peer", 8, sha);
    cr_assert_eq(store_token_add(s, "test", id, sha, "peer-t1",
                                 SCOPE_SUBSCRIBE, 0), HUB_OK);
    store_free(s);
}

Test(http, per_org_rate_limit_answers_429, .init = start_rate_limited,
     .fini = stop, .timeout = 30)
{
    struct http_resp r;
    long st[5];

    add_slot_peer();

    /* five requests within a second (a token a second comes back): each
     * one refused by the feed's own check (400), which needs no database.
     * Served feed reads each wait for a WAL flush (three took 430 ms where
     * a flush takes 100 ms): past a second, the fifth is rightly served */
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(http_call(&hub, false, "GET", "/v1/events?limit=5000",
                               "tok-hosp", NULL, NULL, 0, NULL, &r), 0);
        st[i] = r.status;
        if (i == 4)
            cr_expect_str_eq(r.retry_after, "1");
        http_resp_free(&r);
    }
    cr_expect_eq(st[0], 400, "served (and refused by the feed)");
    cr_expect_eq(st[2], 400, "the burst allows three");
    cr_expect_eq(st[4], 429, "then the rate applies");
    /* another organization has its own bucket, also one whose id hashes
     * to hosp's slot; and its request leaves hosp's bucket as it was */
    cr_assert_eq(http_call(&hub, false, "GET", "/v1/events?limit=5000",
                           "tok-peer", NULL, NULL, 0, NULL, &r), 0);
    cr_expect_eq(r.status, 400, "served (and refused by the feed)");
    http_resp_free(&r);
    cr_assert_eq(http_call(&hub, false, "GET", "/v1/events?limit=5000",
                           "tok-hosp", NULL, NULL, 0, NULL, &r), 0);
    cr_expect_eq(r.status, 429, "hosp's bucket was not reset");
    http_resp_free(&r);
    cr_assert_eq(http_call(&hub, false, "GET", "/v1/events", "tok-cbo", NULL,
                           NULL, 0, NULL, &r), 0);
    cr_expect_eq(r.status, 200);
    http_resp_free(&r);
}

static void start_stuck(void)
{
    cr_assert_eq(hub_start(&hub, "commit_stuck_timeout = 1", false), 0,
                 "hubd did not start");
}

Test(http, readyz_is_false_while_a_commit_is_stuck, .init = start_stuck,
     .fini = stop, .timeout = 60)
{
    struct store *s;
    struct mllp_client c;
    char msg[2048], ack[4096], code[3], ctrl[64];

    /* reachable but stuck: a transaction holds the messages table */
    cr_assert_eq(store_connect(hub.db_url, &s), HUB_OK);
    cr_assert_eq(store_exec(s, "BEGIN; LOCK TABLE messages IN ACCESS "
                               "EXCLUSIVE MODE"), HUB_OK);
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    hl7_sample(msg, sizeof(msg), "STUCK-1", "MRN-S1");
    cr_assert_eq(mllp_send(&c, msg), 0);
    cr_expect_lt(mllp_read(&c, ack, sizeof(ack), 1000), 0, "no ACK yet");
    cr_expect(hub_wait_status(&hub, "/readyz", 503, 5000), "stuck commit: not ready");
    cr_assert_eq(store_exec(s, "COMMIT"), HUB_OK);
    store_free(s);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AA");
    cr_expect(hub_wait_status(&hub, "/readyz", 200, 5000), "ready again");
    mllp_close(&c);
}

/* one database worker; a request waits a second for it, four for a lock */
static void start_db_bounded(void)
{
    cr_assert_eq(hub_start(&hub, "db_threads = 1\ndb_wait_timeout = 1\n"
                           "db_lock_timeout = 4\nretry_after = 2", false),
                 0, "hubd did not start");
}

/* F582: a lock held by another session (a migration, an operator's open
 * transaction) used to hold the one worker, and every request queued
 * behind it, until the lock went: the clients timed out with no answer.
 * Now the request on the worker gives up at db_lock_timeout and the one
 * queued behind it at db_wait_timeout, each with 503 and Retry-After. */
Test(http, a_request_waits_a_bounded_time_for_a_held_database,
     .init = start_db_bounded, .fini = stop, .timeout = 60)
{
    struct store *s;
    struct feed_call held = { .h = &hub }, queued = { .h = &hub },
                     after = { .h = &hub };
    pthread_t t;

    hub_read_feed(&after);              /* the token cached, the worker linked */
    cr_assert_eq(after.rc, 0);
    cr_assert_eq(after.resp.status, 200);
    http_resp_free(&after.resp);

    cr_assert_eq(store_connect(hub.db_url, &s), HUB_OK);
    cr_assert_eq(store_exec(s, "BEGIN; LOCK TABLE events IN ACCESS "
                               "EXCLUSIVE MODE"), HUB_OK);
    cr_assert_eq(pthread_create(&t, NULL, hub_read_feed, &held), 0);
    hub_sleep_ms(300);                  /* it has the worker, waiting on the lock */
    hub_read_feed(&queued);
    cr_expect_eq(queued.rc, 0);
    cr_expect_eq(queued.resp.status, 503, "queued: %ld", queued.resp.status);
    cr_expect_str_eq(queued.resp.retry_after, "2");
    cr_expect_lt(queued.ms, 3000, "answered after %.0f ms", queued.ms);
    pthread_join(t, NULL);
    cr_expect_eq(held.rc, 0);
    cr_expect_eq(held.resp.status, 503, "held: %ld", held.resp.status);
    cr_expect_str_eq(held.resp.retry_after, "2");
    cr_expect(held.ms > 3000 && held.ms < 9000, "answered after %.0f ms",
              held.ms);
    cr_expect(hub_wait_log(&hub, "db.wait_expired", 1, 2000));
    cr_expect(hub_wait_log(&hub, "sqlstate=55P03", 1, 2000));
    cr_assert_eq(store_exec(s, "COMMIT"), HUB_OK);
    store_free(s);
    /* on-call sees both in /metrics */
    struct http_resp m = { 0 };
    cr_assert_eq(http_call(&hub, true, "GET", "/metrics", NULL, NULL, NULL, 0,
                           NULL, &m), 0);
    cr_expect_not_null(strstr(m.body, "hub_db_busy_total{reason=\"wait\"} 1\n"));
    cr_expect_not_null(strstr(m.body, "hub_db_busy_total{reason=\"lock\"} 1\n"));
    http_resp_free(&m);

    hub_read_feed(&after);              /* and the worker serves again */
    cr_expect_eq(after.resp.status, 200);
    cr_expect_lt(after.ms, 3000);
    http_resp_free(&after.resp);
    http_resp_free(&held.resp);
    http_resp_free(&queued.resp);
}

/* DESIGN.md's limits on the HTTP side: a client that stops in the middle
 * of its request is closed after http_timeout (a slow or stalled client
 * cannot hold a connection for ever, as the MLLP slow-sender timeout does
 * for MLLP), and a body of more HL7 messages than max_messages_per_request
 * is refused whole with a 413 naming the body, nothing stored. */
Test(http, a_stalled_request_is_closed_and_too_many_messages_are_413,
     .init = start_short_timeout, .fini = stop, .timeout = 30)
{
    struct mllp_client c;
    struct http_resp r;
    const char *part = "POST /v1/hl7v2 HTTP/1.1\r\nHost: 127.0.0.1\r\n";

    cr_assert_eq(mllp_connect(&c, hub.http, &hub, NULL), 0);
    cr_assert_eq(mllp_send_raw(&c, part, strlen(part)), 0);
    double t0 = hub_mono_ms();
    cr_assert(mllp_closed(&c, 8000), "a stalled request is closed");
    double waited = hub_mono_ms() - t0;
    cr_expect_geq(waited, 800, "closed by the timeout (1 s), not at once: "
                  "%.0f ms", waited);
    mllp_close(&c);

    char a[1200], b[1200], d[1200], body[4000];
    hl7_sample(a, sizeof(a), "MX-1", "MRN-M1");
    hl7_sample(b, sizeof(b), "MX-2", "MRN-M2");
    hl7_sample(d, sizeof(d), "MX-3", "MRN-M3");
    int n = snprintf(body, sizeof(body), "%s%s%s", a, b, d);
    cr_assert_eq(http_call(&hub, false, "POST", "/v1/hl7v2", "tok-hosp", NULL,
                           body, (size_t)n, NULL, &r), 0);
    cr_expect_eq(r.status, 413, "%s", r.body);
    cr_expect(strstr(r.body, "{\"error\":{\"code\":\"limit\"") != NULL, "%s",
              r.body);
    cr_expect(strstr(r.body, "\"field\":\"body\"") != NULL, "%s", r.body);
    http_resp_free(&r);
    cr_expect_eq(hub_sql_long(&hub, "select count(*) from messages"), 0);
    n = snprintf(body, sizeof(body), "%s%s", a, b);
    cr_assert_eq(http_call(&hub, false, "POST", "/v1/hl7v2", "tok-hosp", NULL,
                           body, (size_t)n, NULL, &r), 0);
    cr_expect_eq(r.status, 202, "%s", r.body);
    cr_expect(strstr(r.body, "\"accepted\":2") != NULL, "%s", r.body);
    http_resp_free(&r);
}

/* ---- a body over max_body is refused before it is read -------------------
 * libevent refuses it (413) from the Content-Length, right after the head,
 * and for a chunked body at the first chunk-size line that takes it past
 * max_body; hubd cuts a connection whose unread input passes max_body +
 * 256 KiB, which only a chunk-size line that never ends (held whole by
 * libevent 2.1) or a client that sends without reading its answers gets
 * to. Each over plain HTTP and HTTPS, hubd's peak memory checked after.
 * The 413 and a 400 for a request libevent cannot parse are libevent's own
 * HTML pages, not the hub's JSON: libevent 2.1 answers them before the
 * request reaches the hub and has no hook for them (README.md). */

static int raw_connect(struct mllp_client *c, bool tls)
{
    return mllp_connect(c, tls ? hub.https : hub.http, &hub, tls ? "" : NULL);
}

/* Send `head`, then `piece` again and again, up to `total` bytes, until
 * hubd answers or closes; returns the bytes of pieces sent. */
static size_t send_until_answered(struct mllp_client *c, const char *head,
                                  const char *piece, size_t len,
                                  size_t total)
{
    size_t sent = 0;
    cr_assert_eq(mllp_send_raw(c, head, strlen(head)), 0);
    while (sent < total && !mllp_readable(c) &&
           mllp_send_raw(c, piece, len) == 0)
        sent += len;
    return sent;
}

Test(http, a_body_over_max_body_is_refused_before_it_is_read,
     .init = start_small_body, .fini = stop, .timeout = 90)
{
    static char piece[16384 + 16], resp[4096];
    const size_t total = 64u << 20;         /* 16384 times max_body */
    const char *post = "POST /v1/hl7v2 HTTP/1.1\r\nHost: hub\r\n"
                       "Authorization: Bearer tok-hosp\r\n";
    char head[256];

    for (int tls = 0; tls < 2; tls++) {
        struct mllp_client c;
        long peak0 = hub_peak_kib(&hub);

        /* a Content-Length of 64 MiB and no body at all: answered */
        snprintf(head, sizeof(head), "%sContent-Length: %zu\r\n\r\n", post,
                 total);
        cr_assert_eq(raw_connect(&c, tls), 0);
        cr_assert_eq(mllp_send_raw(&c, head, strlen(head)), 0);
        cr_assert_gt(http_raw_response(&c, resp, sizeof(resp), 10000), 0,
                     "tls=%d", tls);
        cr_expect(strncmp(resp, "HTTP/1.1 413 ", 13) == 0, "%s", resp);
        cr_expect(mllp_closed(&c, 5000), "tls=%d: closed after the 413", tls);
        mllp_close(&c);

        /* 64 MiB in chunks of 16 KiB: answered after the first one */
        int n = snprintf(piece, sizeof(piece), "%x\r\n", 16384);
        memset(piece + n, 'M', 16384);
        memcpy(piece + n + 16384, "\r\n", 2);
        snprintf(head, sizeof(head), "%sTransfer-Encoding: chunked\r\n\r\n",
                 post);
        cr_assert_eq(raw_connect(&c, tls), 0);
        size_t sent = send_until_answered(&c, head, piece,
                                          (size_t)n + 16384 + 2, total);
        cr_assert_gt(http_raw_response(&c, resp, sizeof(resp), 10000), 0,
                     "tls=%d: no answer after %zu bytes", tls, sent);
        cr_expect(strncmp(resp, "HTTP/1.1 413 ", 13) == 0, "%s", resp);
        cr_expect_lt(sent, total / 2, "tls=%d: %zu bytes taken", tls, sent);
        mllp_close(&c);

        /* a chunk-size line that never ends: cut, not held (how much the
         * client could send first depends on the kernels' buffers; hubd's
         * memory is what counts, below) */
        memset(piece, '1', 16384);
        cr_assert_eq(raw_connect(&c, tls), 0);
        sent = send_until_answered(&c, head, piece, 16384, total);
        cr_expect_lt(sent, total, "tls=%d: all %zu bytes taken", tls, sent);
        cr_expect(mllp_closed(&c, 10000), "tls=%d: cut", tls);
        mllp_close(&c);

        long peak = hub_peak_kib(&hub);
        cr_expect(peak0 > 0 && peak - peak0 < 16 * 1024, "tls=%d: hubd's "
                  "peak memory grew by %ld KiB", tls, peak - peak0);
    }
    cr_expect_eq(hub_sql_long(&hub, "select count(*) from messages"), 0);
    char line[512];
    FILE *f = fopen(hub_path(&hub, "hubd.log"), "r");
    int cuts = 0;
    while (f && fgets(line, sizeof(line), f))
        cuts += strstr(line, "http.input_cut") != NULL;
    if (f)
        fclose(f);
    /* at least one per line; a client that goes on sending while its 413 is
     * being written may be cut too */
    cr_expect_geq(cuts, 2, "a cut per endless chunk-size line: %d", cuts);
}

/* hub_http_responses_total{class="4xx"} as /metrics says it now (over
 * plain HTTP: its own answer is a 2xx) */
static long count_4xx(void)
{
    struct http_resp r;
    const char *key = "hub_http_responses_total{class=\"4xx\"} ";
    cr_assert_eq(http_call(&hub, false, "GET", "/metrics", NULL, NULL, NULL, 0,
                           NULL, &r), 0);
    const char *at = strstr(r.body, key);
    cr_assert_not_null(at, "%s", r.body);
    long n = strtol(at + strlen(key), NULL, 10);
    http_resp_free(&r);
    return n;
}

/* The answers libevent 2.1 writes itself, before the hub sees the request
 * (a body over max_body: 413, a request line it cannot parse: 400), were
 * missing from hub_http_responses_total, and so from an operator's share
 * of 4xx (F1401). Over HTTPS and plain HTTP each is counted once in 4xx,
 * with a log line; an answer of the hub's own is counted once too, not
 * twice, and a 100 Continue not at all; an Expect over max_body gets the
 * 413 and it is counted. */
Test(http, answers_libevent_writes_itself_are_counted_in_4xx,
     .init = start_small_body, .fini = stop, .timeout = 60)
{
    char head[256], resp[4096];
    const char *post = "POST /v1/hl7v2 HTTP/1.1\r\nHost: hub\r\n"
                       "Authorization: Bearer tok-hosp\r\n";

    for (int tls = 0; tls < 2; tls++) {
        struct mllp_client c;
        long before = count_4xx();

        /* a Content-Length over max_body (4 KiB): 413 */
        snprintf(head, sizeof(head), "%sContent-Length: 65536\r\n\r\n",
                 post);
        cr_assert_eq(raw_connect(&c, tls), 0);
        cr_assert_eq(mllp_send_raw(&c, head, strlen(head)), 0);
        cr_assert_gt(http_raw_response(&c, resp, sizeof(resp), 10000), 0);
        cr_assert(strncmp(resp, "HTTP/1.1 413 ", 13) == 0, "%s", resp);
        mllp_close(&c);
        cr_expect_eq(count_4xx(), before + 1, "tls=%d: the 413", tls);

        /* a request line that is not one: 400 */
        cr_assert_eq(raw_connect(&c, tls), 0);
        cr_assert_eq(mllp_send_raw(&c, "NOT A REQUEST LINE AT ALL\r\n\r\n",
                                   29), 0);
        cr_assert_gt(http_raw_response(&c, resp, sizeof(resp), 10000), 0);
        cr_assert(strncmp(resp, "HTTP/1.1 400 ", 13) == 0 ||
                  strncmp(resp, "HTTP/1.0 400 ", 13) == 0, "%s", resp);
        mllp_close(&c);
        cr_expect_eq(count_4xx(), before + 2, "tls=%d: the 400", tls);

        /* a body within max_body sent after a 100 Continue, refused by
         * the hub (no credentials): one 401, the interim 100 not counted */
        snprintf(head, sizeof(head), "POST /v1/hl7v2 HTTP/1.1\r\nHost: hub"
                 "\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
        cr_assert_eq(raw_connect(&c, tls), 0);
        cr_assert_eq(mllp_send_raw(&c, head, strlen(head)), 0);
        cr_assert_gt(http_raw_response(&c, resp, sizeof(resp), 10000), 0);
        cr_assert(strncmp(resp, "HTTP/1.1 100 ", 13) == 0, "%s", resp);
        cr_assert_eq(mllp_send_raw(&c, "{}", 2), 0);
        cr_assert_gt(http_raw_response(&c, resp, sizeof(resp), 10000), 0);
        cr_assert(strncmp(resp, "HTTP/1.1 401 ", 13) == 0, "%s", resp);
        mllp_close(&c);
        cr_expect_eq(count_4xx(), before + 3, "tls=%d: the 401 once", tls);

        /* the same over max_body: evhttp's 413 in place of its 100 */
        snprintf(head, sizeof(head), "POST /v1/hl7v2 HTTP/1.1\r\nHost: hub"
                 "\r\nExpect: 100-continue\r\nContent-Length: 65536\r\n"
                 "\r\n");
        cr_assert_eq(raw_connect(&c, tls), 0);
        cr_assert_eq(mllp_send_raw(&c, head, strlen(head)), 0);
        cr_assert_gt(http_raw_response(&c, resp, sizeof(resp), 10000), 0);
        cr_assert(strncmp(resp, "HTTP/1.1 413 ", 13) == 0, "%s", resp);
        mllp_close(&c);
        cr_expect_eq(count_4xx(), before + 4, "tls=%d: the 413 after an "
                     "Expect", tls);
    }
    cr_expect_eq(hub_log_count(&hub, "http.answered_by_libevent status=413"),
                 4);
    cr_expect_eq(hub_log_count(&hub, "http.answered_by_libevent status=400"),
                 2);
    cr_expect_eq(hub_log_count(&hub, "http.answered_by_libevent"), 6);
}

/* ---- a request whose length is unclear is refused, and its connection
 * closed (F421) ---------------------------------------------------------
 * Behind an HTTP load balancer (deploy/multi-node.md) that reads a
 * request's length another way than libevent does, the rest of one
 * partner's request became the start of the next request on the shared
 * connection (request smuggling). libevent 2.1 read the first of two
 * Content-Length headers (another reader takes the last, or refuses) and
 * "+36" as 36. RFC 9112 6.3: a 400 and a close. Each request below
 * carries a second, smuggled one (GET /healthz) where one reading or the
 * other puts it: the answer is one 400 naming the header, then the close,
 * over plain HTTP and HTTPS. Four that libevent refuses and closes itself
 * (with its HTML page, before the hub sees the request: two
 * Transfer-Encoding headers, one that is not chunked, Content-Length with
 * chunked) are held to that. */
Test(http, a_request_whose_length_is_unclear_is_refused_and_closed,
     .init = start_default, .fini = stop, .timeout = 120)
{
    static const struct { const char *head, *field, *body; } cases[] = {
        { "Content-Length: 0\r\nContent-Length: 36\r\n", "Content-Length",
          "" },
        { "Content-Length: 36\r\nContent-Length: 0\r\n", "Content-Length",
          "" },
        { "Content-Length: +36\r\n", "Content-Length", "" },
        /* libevent's own refusals */
        { "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n",
          NULL, "0\r\n\r\n" },
        { "Transfer-Encoding: gzip, chunked\r\n", NULL, "" },
        { "Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n",
          NULL, "" },
        { "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", NULL,
          "0\r\n\r\n" },
    };
    const char *smuggled = "GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n";
    char req[1024], resp[4096], field[64];

    cr_assert_eq(strlen(smuggled), 36);
    for (int tls = 0; tls < 2; tls++) {
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            struct mllp_client c;
            int n = snprintf(req, sizeof(req), "POST /v1/hl7v2 HTTP/1.1\r\n"
                             "Host: hub\r\nAuthorization: Bearer tok-hosp\r\n"
                             "%s\r\n%s%s", cases[i].head, cases[i].body,
                             smuggled);
            cr_assert_eq(raw_connect(&c, tls), 0);
            cr_assert_eq(mllp_send_raw(&c, req, (size_t)n), 0);
            cr_assert_gt(http_raw_response(&c, resp, sizeof(resp), 10000), 0,
                         "tls=%d case %zu: no answer", tls, i);
            if (cases[i].field) {
                snprintf(field, sizeof(field), "\"field\":\"%s\"",
                         cases[i].field);
                cr_expect(strncmp(resp, "HTTP/1.1 400 ", 13) == 0 &&
                          strstr(resp, field) != NULL,
                          "tls=%d case %zu: %s", tls, i, resp);
            } else {
                cr_expect(strncmp(resp, "HTTP/1.1 4", 10) == 0,
                          "tls=%d case %zu: %s", tls, i, resp);
            }
            cr_expect(mllp_closed(&c, 5000), "tls=%d case %zu: closed, the "
                      "smuggled request not answered", tls, i);
            mllp_close(&c);
        }
    }
    cr_expect_eq(hub_sql_long(&hub, "select count(*) from messages"), 0);
}

/* ---- a HEAD or TRACE that says it has a body (F3320) ----------------------
 * libevent reads no body for HEAD and TRACE: the bytes a Content-Length or
 * Transfer-Encoding announced were answered as the next request on the
 * connection (here a GET of /healthz: two answers), where a load balancer
 * in front reads them as the body, F421's smuggling. Such a request is
 * now 400 naming the header, and its connection closed; a HEAD of
 * Content-Length 0 is answered as any. */
static size_t read_to_close(struct mllp_client *c, char *buf, size_t size);

Test(http, a_head_or_trace_that_says_it_has_a_body_is_refused_and_closed,
     .init = start_default, .fini = stop, .timeout = 120)
{
    static const struct { const char *method, *head, *body, *field; } cases[] = {
        { "HEAD", "Content-Length: 36\r\n", "", "Content-Length" },
        { "HEAD", "Transfer-Encoding: chunked\r\n", "0\r\n\r\n",
          "Transfer-Encoding" },
        { "TRACE", "Content-Length: 36\r\n", "", "Content-Length" },
        { "HEAD", "Content-Length: 0\r\n", "", NULL },
    };
    const char *smuggled = "GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n";
    const char *last = "GET /readyz HTTP/1.1\r\nHost: hub\r\n"
                       "Connection: close\r\n\r\n";
    char req[1024], resp[8192], field[64];

    cr_assert_eq(strlen(smuggled), 36);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mllp_client c;
        int n = snprintf(req, sizeof(req), "%s /healthz HTTP/1.1\r\n"
                         "Host: hub\r\n%s\r\n%s%s%s", cases[i].method,
                         cases[i].head, cases[i].body, smuggled, last);
        cr_assert_eq(raw_connect(&c, false), 0);
        cr_assert_eq(mllp_send_raw(&c, req, (size_t)n), 0);
        if (cases[i].field == NULL) {
            /* the GETs after it: answered, as after any HEAD */
            read_to_close(&c, resp, sizeof(resp));
            mllp_close(&c);
            const char *next = strstr(resp, "\r\n\r\n");
            cr_expect(strncmp(resp, "HTTP/1.1 200 ", 13) == 0 && next &&
                      strncmp(next + 4, "HTTP/1.1 200 ", 13) == 0,
                      "case %zu: %s", i, resp);
            continue;
        }
        read_to_close(&c, resp, sizeof(resp));
        mllp_close(&c);
        snprintf(field, sizeof(field), "\"field\":\"%s\"", cases[i].field);
        cr_expect(strncmp(resp, "HTTP/1.1 400 ", 13) == 0,
                  "case %zu: %s", i, resp);
        cr_expect(strstr(resp + 1, "HTTP/1.1 ") == NULL,
                  "case %zu: the body was answered as a request: %s", i, resp);
        if (i == 2)     /* a TRACE's answer has its body */
            cr_expect(strstr(resp, field) != NULL, "case %zu: %s", i, resp);
    }
    /* over TLS: the TRACE's body */
    struct mllp_client c;
    int n = snprintf(req, sizeof(req), "TRACE /healthz HTTP/1.1\r\n"
                     "Host: hub\r\nContent-Length: 36\r\n\r\n%s",
                     smuggled);
    cr_assert_eq(raw_connect(&c, true), 0);
    cr_assert_eq(mllp_send_raw(&c, req, (size_t)n), 0);
    cr_assert_gt(http_raw_response(&c, resp, sizeof(resp), 10000), 0);
    cr_expect(strncmp(resp, "HTTP/1.1 400 ", 13) == 0 &&
              strstr(resp, "\"field\":\"Content-Length\"") != NULL,
              "tls: %s", resp);
    cr_expect(mllp_closed(&c, 5000), "tls: closed, the body not answered");
    mllp_close(&c);
}

/* ---- %00 in a request's target is refused (F423) --------------------------
 * A decoded NUL ends a C string: "/v1/events%00x" was served as /v1/events,
 * and a filter "since=%00" or "subscription=%00" was read as absent, so
 * the answer, unfiltered, looked filtered to the partner that sent it. */
Test(http, a_nul_in_the_path_or_a_query_parameter_is_refused,
     .init = start_default, .fini = stop)
{
    static const char *const targets[][2] = {
        { "/v1/events%00x", "path" },
        { "/v1/events?since=%00", "query" },
        { "/v1/events?topic=adt.%00", "query" },
        { "/v1/deliveries?subscription=%00", "query" },
    };
    struct http_resp r;
    char field[32];

    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
        cr_assert_eq(http_call(&hub, false, "GET", targets[i][0], "tok-hosp",
                               NULL, NULL, 0, NULL, &r), 0);
        snprintf(field, sizeof(field), "\"field\":\"%s\"", targets[i][1]);
        cr_expect(r.status == 400 && strstr(r.body, field) != NULL,
                  "%s: %ld %s", targets[i][0], r.status, r.body);
        http_resp_free(&r);
    }
    /* %2500 is the text "%00", not a NUL */
    cr_assert_eq(http_call(&hub, false, "GET", "/v1/events?topic=%2500",
                           "tok-hosp", NULL, NULL, 0, NULL, &r), 0);
    cr_expect(r.status == 400 && strstr(r.body, "\"field\":\"topic\"") != NULL,
              "%ld %s", r.status, r.body);
    http_resp_free(&r);
}

/* ---- a HEAD is answered without a body (F3120) ----------------------------
 * evhttp 2.1 wrote the GET's body after a HEAD's head, with no
 * Content-Length: a client or load balancer that rightly reads no body
 * after a HEAD took it for the start of the next answer on the connection
 * ('{"status":"ok"}HTTP/1.1 200 OK'). Each HEAD below is followed on its
 * connection by a GET: the stream is the HEAD's head, with the length its
 * GET's body has, then at once the GET's answer. */

/* Every byte of a plain connection until the peer closes it. */
static size_t read_to_close(struct mllp_client *c, char *buf, size_t size)
{
    struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
    size_t n = 0;

    while (n + 1 < size && poll(&pfd, 1, 10000) == 1) {
        ssize_t got = read(c->fd, buf + n, size - 1 - n);
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    buf[n] = '\0';
    return n;
}

Test(http, a_head_is_answered_with_no_body, .init = start_default,
     .fini = stop)
{
    static const char *const heads[] = {
        "HEAD /healthz HTTP/1.1\r\nHost: hub\r\n\r\n",
        "HEAD /v1/events?after=0 HTTP/1.1\r\nHost: hub\r\n"
        "Authorization: Bearer tok-hosp\r\n\r\n",
        "HEAD /v1/events?limit=0 HTTP/1.1\r\nHost: hub\r\n"
        "Authorization: Bearer tok-hosp\r\n\r\n",
    };
    const char *next = "GET /healthz HTTP/1.1\r\nHost: hub\r\n"
                       "Connection: close\r\n\r\n";
    char buf[8192];

    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
        struct mllp_client c;
        cr_assert_eq(raw_connect(&c, false), 0);
        cr_assert_eq(mllp_send_raw(&c, heads[i], strlen(heads[i])), 0);
        cr_assert_eq(mllp_send_raw(&c, next, strlen(next)), 0);
        read_to_close(&c, buf, sizeof(buf));
        mllp_close(&c);
        const char *end = strstr(buf, "\r\n\r\n");
        cr_assert_not_null(end, "case %zu: %s", i, buf);
        cr_expect(strncmp(end + 4, "HTTP/1.1 200 ", 13) == 0,
                  "case %zu: the HEAD's answer has a body: %s", i, buf);
        const char *cl = strstr(buf, "\r\nContent-Length:");
        cr_expect(cl != NULL && cl < end && strtol(cl + 17, NULL, 10) > 0,
                  "case %zu: the length of its GET's body: %s", i, buf);
        if (i == 0)
            cr_expect_not_null(strstr(buf, "Content-Length: 15\r\n"), "%s",
                               buf);
    }
}

/* ---- a method no route takes is answered in the API's shape (F3124) ------
 * OPTIONS, TRACE and CONNECT were answered by libevent, 501 with its HTML
 * page (to CONNECT with no Content-Length, and no close though it said
 * "Connection: close": the client waited out http_timeout for the end of
 * the body): a client reading the error's code found none. Each is now
 * 405 with the path's methods in Allow, or 404 on a path that has no
 * route, as JSON with its length, over plain HTTP and HTTPS; a request
 * after it on the connection is answered. */
Test(http, a_method_no_route_takes_is_405_in_json, .init = start_default,
     .fini = stop)
{
    static const struct { const char *line, *status, *allow; } cases[] = {
        { "OPTIONS /v1/events", "405", "Allow: GET\r\n" },
        { "OPTIONS /v1/subscriptions", "405", "Allow: GET, POST\r\n" },
        { "TRACE /healthz", "405", "Allow: GET\r\n" },
        { "OPTIONS *", "404", NULL },
        { "CONNECT localhost:9", "404", NULL },
    };
    const char *next = "GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n";
    char req[256], resp[4096], want[32];

    for (int tls = 0; tls < 2; tls++) {
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            struct mllp_client c;
            int n = snprintf(req, sizeof(req), "%s HTTP/1.1\r\nHost: hub\r\n"
                             "Authorization: Bearer tok-hosp\r\n\r\n",
                             cases[i].line);
            cr_assert_eq(raw_connect(&c, tls), 0);
            cr_assert_eq(mllp_send_raw(&c, req, (size_t)n), 0);
            cr_assert_gt(http_raw_response(&c, resp, sizeof(resp), 10000), 0,
                         "tls=%d %s: no answer", tls, cases[i].line);
            snprintf(want, sizeof(want), "HTTP/1.1 %s ", cases[i].status);
            cr_expect(strncmp(resp, want, strlen(want)) == 0 &&
                      strstr(resp, "application/json") != NULL &&
                      strstr(resp, "{\"error\":{\"code\":\"") != NULL,
                      "tls=%d %s: %s", tls, cases[i].line, resp);
            if (cases[i].allow)
                cr_expect_not_null(strstr(resp, cases[i].allow),
                                   "tls=%d %s: %s", tls, cases[i].line, resp);
            cr_assert_eq(mllp_send_raw(&c, next, strlen(next)), 0);
            cr_expect_gt(http_raw_response(&c, resp, sizeof(resp), 5000), 0,
                         "tls=%d %s: the next request", tls, cases[i].line);
            cr_expect(strncmp(resp, "HTTP/1.1 200 ", 13) == 0,
                      "tls=%d %s: %s", tls, cases[i].line, resp);
            mllp_close(&c);
        }
    }
    cr_expect_eq(hub_log_count(&hub, "http.answered_by_libevent"), 0);
}

/* r200 probe of F3120 and F3124: requests pipelined in one write, a HEAD
 * (answered 200, and one answered 405 and one 404), an OPTIONS and a
 * TRACE, then a GET: each answer is framed by its length (a HEAD's none),
 * in order, so the stream holds exactly one answer per request and the
 * GET's body last. */
Test(http, pipelined_head_and_refused_methods_keep_the_framing,
     .init = start_default, .fini = stop)
{
    static const char reqs[] =
        "HEAD /healthz HTTP/1.1\r\nHost: hub\r\n\r\n"
        "HEAD /v1/nothing-here HTTP/1.1\r\nHost: hub\r\n"
        "Authorization: Bearer tok-hosp\r\n\r\n"
        "HEAD /v1/subscriptions/sub_00/pause HTTP/1.1\r\nHost: hub\r\n"
        "Authorization: Bearer tok-hosp\r\n\r\n"
        "OPTIONS /v1/events HTTP/1.1\r\nHost: hub\r\n"
        "Authorization: Bearer tok-hosp\r\n\r\n"
        "TRACE /healthz HTTP/1.1\r\nHost: hub\r\n\r\n"
        "GET /healthz HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n";
    static const struct { const char *status; bool head; } want[] = {
        { "200", true }, { "404", true }, { "405", true },
        { "405", false }, { "405", false }, { "200", false },
    };
    char buf[16384];
    struct mllp_client c;
    cr_assert_eq(raw_connect(&c, false), 0);
    cr_assert_eq(mllp_send_raw(&c, reqs, sizeof(reqs) - 1), 0);
    size_t n = read_to_close(&c, buf, sizeof(buf));
    mllp_close(&c);
    const char *p = buf;
    for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
        char line[32];
        snprintf(line, sizeof(line), "HTTP/1.1 %s ", want[k].status);
        cr_assert(strncmp(p, line, strlen(line)) == 0, "answer %zu: %s", k,
                  p);
        const char *end = strstr(p, "\r\n\r\n");
        cr_assert_not_null(end, "answer %zu", k);
        const char *cl = strstr(p, "\r\nContent-Length:");
        cr_assert(cl && cl < end, "answer %zu has no length: %s", k, p);
        long len = strtol(cl + 17, NULL, 10);
        p = end + 4 + (want[k].head ? 0 : len);
        cr_assert(p <= buf + n, "answer %zu cut short", k);
    }
    cr_expect_eq(p, buf + n, "bytes after the last answer: %s", p);
}

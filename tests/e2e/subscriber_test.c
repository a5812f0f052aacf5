/*
 * subscriber_test.c - the subscriber's side of the contract as a partner
 * meets it (round 244's probes): what a replay does once a webhook
 * subscription has moved to the pull feed, and filters that would match
 * nothing. Real hubd, real PostgreSQL, a real signing receiver over
 * loopback.
 */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/hub_err.h"
#include "store.h"
#include "../lib/hubproc.h"
#include "../lib/testctl.h"
#include "../lib/webhook_rx.h"

#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

static struct hubproc hub;

/* hubd as the e2e tests run it (clock 1000x, 50 ms polls), with an
 * operator's token, tok-ops */
static void start(void)
{
    struct store *s;
    char sha[65];

    evthread_use_pthreads();
    setenv("HUB_TIME_SCALE", "1000", 1);
    setenv("HUB_DISPATCH_POLL_MS", "50", 1);
    cr_assert_eq(hub_start(&hub, NULL, false), 0, "hubd did not start");
    cr_assert_eq(store_connect(hub.db_url, &s), HUB_OK);
    cr_assert_eq(store_org_add(s, "test", "ops", "Operator", "operator",
                               SCOPE_ADMIN), HUB_OK);
    store_sha256_hex("tok-ops", 7, sha);
    cr_assert_eq(store_token_add(s, "test", "ops", sha, "ops-t1", SCOPE_ADMIN,
                                 0), HUB_OK);
    store_free(s);
}

static struct hubproc peer;

static void stop(void)
{
    hub_cleanup(&peer);         /* a no-op unless a test started it */
    hub_cleanup(&hub);
}

static long call(const char *method, const char *path, const char *token,
                 const char *body, struct http_resp *r)
{
    cr_assert_eq(http_call(&hub, true, method, path, token, NULL, body,
                           body ? strlen(body) : 0, "application/json", r),
                 0, "%s %s", method, path);
    return r->status;
}

static long delivered(void)
{
    return hub_sql_long(&hub, "SELECT count(*) FROM delivery_state WHERE "
                        "status = 'delivered'");
}

/* cbo's webhook subscription of adt.* to rx (its id into id), and one
 * admit over MLLP, delivered */
static void subscribe_and_deliver(struct rx *rx, char *id, size_t id_size)
{
    struct http_resp r;
    struct mllp_client c;
    char body[512], msg[2048], ack[4096];

    snprintf(body, sizeof(body),
             "{\"url\":\"http://127.0.0.1:%d/hook\",\"topics\":[\"adt.*\"],"
             "\"secrets\":[\"" SECRET "\"]}", rx->port);
    cr_assert_eq(call("POST", "/v1/subscriptions", "tok-cbo", body, &r), 201,
                 "%s", r.body);
    hub_json_str(r.body, "id", id, id_size);
    http_resp_free(&r);
    hl7_sample(msg, sizeof(msg), "SUBR-1", "MRN-R1");
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    cr_assert_eq(mllp_send(&c, msg), 0);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
    mllp_close(&c);
    int64_t end = rx_now_ms() + 15000;
    while (delivered() < 1 && rx_now_ms() < end)
        usleep(20000);
    cr_assert_eq(delivered(), 1);
    cr_assert_eq(rx_requests(rx), 1);
}

/*
 * A webhook subscription switched to the pull feed sends nothing more
 * (deploy/webhooks.md): its events are in the feed. A replay of one of its
 * past deliveries, one or by range, was queued with the URL the delivery
 * had, and the dispatcher signed it with the secrets the switch kept and
 * sent it to the old endpoint, which the partner may no longer hold.
 * Refused as its pause and its test are (409), nothing queued or audited.
 */
Test(subscriber, a_replay_of_a_subscription_moved_to_pull_is_not_sent,
     .init = start, .fini = stop, .timeout = 90)
{
    struct http_resp r;
    struct rx *rx = rx_start(RX_OK, SECRET);
    char id[80], path[160], body[512], dlv[40];

    cr_assert_not_null(rx);
    subscribe_and_deliver(rx, id, sizeof(id));
    snprintf(dlv, sizeof(dlv), "%s", rx->ids[0]);
    snprintf(path, sizeof(path), "/v1/subscriptions/%s", id);
    cr_assert_eq(call("PATCH", path, "tok-cbo",
                      "{\"mode\":\"pull\",\"url\":null}", &r), 200, "%s",
                 r.body);
    http_resp_free(&r);
    long audit_before = hub_sql_long(&hub, "SELECT count(*) FROM audit "
                                     "WHERE action = 'delivery.replayed'");

    snprintf(path, sizeof(path), "/v1/deliveries/%s/replay", dlv);
    cr_expect_eq(call("POST", path, "tok-cbo", "", &r), 409, "%s", r.body);
    cr_expect_not_null(strstr(r.body, "\"code\":\"conflict\""), "%s",
                       r.body);
    http_resp_free(&r);
    snprintf(body, sizeof(body), "{\"subscription\":\"%s\",\"from\":"
             "\"2000-01-01\",\"to\":\"2100-01-01\",\"status\":"
             "\"delivered\"}", id);
    cr_expect_eq(call("POST", "/v1/deliveries/replay", "tok-ops", body, &r),
                 409, "%s", r.body);
    http_resp_free(&r);

    /* hubctl, the operator's door, refuses them too, exit 1 */
    char env[1200], args[200];
    snprintf(env, sizeof(env), "DATABASE_URL='%s'", hub.db_url);
    snprintf(args, sizeof(args), "deliveries replay %s", dlv);
    cr_expect_eq(testctl_run(env, args, "/dev/null", NULL, 0), 1);
    snprintf(args, sizeof(args), "deliveries replay-range --subscription %s "
             "--from 2000-01-01 --to 2100-01-01 --status delivered", id);
    cr_expect_eq(testctl_run(env, args, "/dev/null", NULL, 0), 1);

    /* nothing reaches the old endpoint, nothing waits to */
    usleep(1500 * 1000);
    cr_expect_eq(rx_requests(rx), 1, "a replay reached the old url");
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM delivery_queue"),
                 0);
    cr_expect_eq(delivered(), 1);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM audit WHERE "
                              "action = 'delivery.replayed'"), audit_before);
    rx_stop(rx);
}

/*
 * A filter lists the values an event may have; an empty list is one no
 * event meets (an event without the field does not match either), so the
 * subscription was made, answered 201, and never matched anything: the
 * peer failure of a subscription silently ignored (Medplum #2400).
 * Refused naming the filter, at creation and by an update, as a filter
 * no event of the topics carries is. `sensitivity` is no such list (the
 * labels opted in to: none is the default) and stays as it was.
 */
Test(subscriber, a_filter_with_no_value_is_refused_naming_it,
     .init = start, .fini = stop, .timeout = 60)
{
    static const char *const names[] = { "orgs", "facilities",
        "patient_classes", "domains", "counties" };
    struct http_resp r;
    char body[512], field[64], id[80], path[160];

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(body, sizeof(body), "{\"mode\":\"pull\",\"topics\":"
                 "[\"adt.*\",\"screening.*\"],\"filters\":{\"%s\":[]}}",
                 names[i]);
        cr_expect_eq(call("POST", "/v1/subscriptions", "tok-cbo", body, &r),
                     400, "%s: %s", names[i], r.body);
        snprintf(field, sizeof(field), "\"field\":\"filters.%s\"", names[i]);
        cr_expect_not_null(strstr(r.body, field), "%s", r.body);
        http_resp_free(&r);
    }
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM subscriptions"),
                 0);

    cr_assert_eq(call("POST", "/v1/subscriptions", "tok-cbo",
                      "{\"mode\":\"pull\",\"topics\":[\"adt.*\"],"
                      "\"filters\":{\"sensitivity\":[]}}", &r), 201, "%s",
                 r.body);
    hub_json_str(r.body, "id", id, sizeof(id));
    http_resp_free(&r);
    snprintf(path, sizeof(path), "/v1/subscriptions/%s", id);
    cr_expect_eq(call("PATCH", path, "tok-cbo",
                      "{\"filters\":{\"orgs\":[]}}", &r), 400, "%s", r.body);
    cr_expect_not_null(strstr(r.body, "\"field\":\"filters.orgs\""), "%s",
                       r.body);
    http_resp_free(&r);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM subscriptions "
                              "WHERE filters ? 'orgs'"), 0);
}

/* an admit over MLLP (control id ctrl) */
static void send_admit(const char *ctrl, const char *mrn)
{
    struct mllp_client c;
    char msg[2048], ack[4096];

    hl7_sample(msg, sizeof(msg), ctrl, mrn);
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    cr_assert_eq(mllp_send(&c, msg), 0);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
    mllp_close(&c);
}

/*
 * A subscription disabled by its endpoint's 410 and then moved to the
 * pull feed kept its status, disabled: routing passes a disabled
 * subscription by, so its events were not in the feed, and its resume
 * was refused (409) as a pull subscription's, saying its events are in
 * the feed as they are routed. A switch to pull leaves nothing to hold
 * (F4165): the subscription is active, as the pause's refusal asks.
 */
Test(subscriber, a_disabled_subscription_moved_to_pull_is_routed_to_the_feed,
     .init = start, .fini = stop, .timeout = 90)
{
    struct http_resp r;
    struct rx *rx = rx_start(RX_GONE, SECRET);
    char id[80], path[160], body[512];

    cr_assert_not_null(rx);
    snprintf(body, sizeof(body),
             "{\"url\":\"http://127.0.0.1:%d/hook\",\"topics\":[\"adt.*\"],"
             "\"secrets\":[\"" SECRET "\"]}", rx->port);
    cr_assert_eq(call("POST", "/v1/subscriptions", "tok-cbo", body, &r), 201,
                 "%s", r.body);
    hub_json_str(r.body, "id", id, sizeof(id));
    http_resp_free(&r);
    send_admit("SUBG-1", "MRN-G1");
    int64_t end = rx_now_ms() + 15000;
    while (hub_sql_long(&hub, "SELECT count(*) FROM subscriptions WHERE "
                        "status = 'disabled'") < 1 && rx_now_ms() < end)
        usleep(20000);
    cr_assert_eq(hub_sql_long(&hub, "SELECT count(*) FROM subscriptions "
                              "WHERE status = 'disabled'"), 1);

    snprintf(path, sizeof(path), "/v1/subscriptions/%s", id);
    cr_assert_eq(call("PATCH", path, "tok-cbo",
                      "{\"mode\":\"pull\",\"url\":null}", &r), 200, "%s",
                 r.body);
    cr_expect_not_null(strstr(r.body, "\"status\": \"active\""), "%s",
                       r.body);
    http_resp_free(&r);
    send_admit("SUBG-2", "MRN-G2");
    cr_assert_eq(call("GET", "/v1/events?after=0&topic=adt.*", "tok-cbo",
                      NULL, &r), 200);
    /* both: the first routed before the 410, the second to the feed */
    cJSON *page = cJSON_Parse(r.body);
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
                     page, "events")), 2, "%s", r.body);
    cJSON_Delete(page);
    http_resp_free(&r);
    rx_stop(rx);
}

/*
 * Health changes where delivery outcomes are recorded, and a pull
 * subscription has none: one moved to the feed kept the health its
 * endpoint gave it (disabled by a 410, failing) for ever, in its answer
 * and in hub_subscriptions{health}, and an alert on the gauge never
 * cleared. The switch makes it healthy, told as any health change is: one
 * audit row subscription.health (reason pull) and a hub.health event in
 * the owner's feed (F4180).
 */
static void moved_to_pull_is_healthy(enum rx_mode mode, const char *was)
{
    struct http_resp r;
    struct rx *rx = rx_start(mode, SECRET);
    char id[80], path[160], body[512], q[256], gauge[96];

    cr_assert_not_null(rx);
    rx->fail_n = 1000000;
    snprintf(body, sizeof(body),
             "{\"url\":\"http://127.0.0.1:%d/hook\",\"topics\":[\"adt.*\"],"
             "\"secrets\":[\"" SECRET "\"]}", rx->port);
    cr_assert_eq(call("POST", "/v1/subscriptions", "tok-cbo", body, &r), 201,
                 "%s", r.body);
    hub_json_str(r.body, "id", id, sizeof(id));
    http_resp_free(&r);
    send_admit("SUBH-1", "MRN-H1");
    snprintf(q, sizeof(q), "SELECT count(*) FROM subscriptions WHERE "
             "health = '%s'", was);
    int64_t end = rx_now_ms() + 20000;
    while (hub_sql_long(&hub, q) < 1 && rx_now_ms() < end)
        usleep(20000);
    cr_assert_eq(hub_sql_long(&hub, q), 1, "never %s", was);

    snprintf(path, sizeof(path), "/v1/subscriptions/%s", id);
    cr_assert_eq(call("PATCH", path, "tok-cbo",
                      "{\"mode\":\"pull\",\"url\":null}", &r), 200, "%s",
                 r.body);
    cr_expect_not_null(strstr(r.body, "\"health\": \"healthy\""), "%s",
                       r.body);
    http_resp_free(&r);
    cr_assert_eq(call("GET", path, "tok-cbo", NULL, &r), 200);
    cr_expect_not_null(strstr(r.body, "\"health\": \"healthy\""), "%s",
                       r.body);
    http_resp_free(&r);
    cr_assert_eq(call("GET", "/metrics", NULL, NULL, &r), 200);
    cr_expect_not_null(strstr(r.body,
                              "hub_subscriptions{health=\"healthy\"} 1\n"),
                       "%s", r.body);
    snprintf(gauge, sizeof(gauge), "hub_subscriptions{health=\"%s\"} 0\n",
             was);
    cr_expect_not_null(strstr(r.body, gauge), "%s", r.body);
    http_resp_free(&r);
    snprintf(q, sizeof(q), "SELECT count(*) FROM audit WHERE action = "
             "'subscription.health' AND object_id = '%s' AND "
             "detail::jsonb @> '{\"from\":\"%s\",\"to\":\"healthy\","
             "\"reason\":\"pull\"}'", id, was);
    cr_expect_eq(hub_sql_long(&hub, q), 1);
    cr_assert_eq(call("GET", "/v1/events?after=0&topic=hub.health", "tok-cbo",
                      NULL, &r), 200);
    cr_expect_not_null(strstr(r.body, "\"reason\": \"pull\""), "%s", r.body);
    http_resp_free(&r);

    /* a pull subscription already healthy: nothing changes, nothing told */
    cr_assert_eq(call("PATCH", path, "tok-cbo", "{\"topics\":[\"adt.*\",\"screening.*\"]}",
                      &r), 200, "%s", r.body);
    http_resp_free(&r);
    cr_expect_eq(hub_sql_long(&hub, q), 1);
    rx_stop(rx);
}

Test(subscriber, a_subscription_disabled_by_a_410_moved_to_pull_is_healthy,
     .init = start, .fini = stop, .timeout = 90)
{
    moved_to_pull_is_healthy(RX_GONE, "disabled");
}

Test(subscriber, a_failing_subscription_moved_to_pull_is_healthy,
     .init = start, .fini = stop, .timeout = 90)
{
    moved_to_pull_is_healthy(RX_FAIL_N, "failing");
}

/* ---- the feed while two hubd ingest ----------------------------------- */

#define FEED_SENDERS 4
#define FEED_EACH 30
#define FEED_MAX (FEED_SENDERS * FEED_EACH * 2)

struct sender {
    const struct hubproc *h;
    int k;
    int acked;
};

/* FEED_EACH admits over one MLLP connection, each its own control id */
static void *send_many(void *arg)
{
    struct sender *sd = arg;
    struct mllp_client c;
    char msg[2048], ack[4096], ctrl[32], mrn[32];

    if (mllp_connect(&c, sd->h->mllp, sd->h, NULL) != 0)
        return NULL;
    for (int i = 0; i < FEED_EACH; i++) {
        snprintf(ctrl, sizeof(ctrl), "FEED-%d-%d", sd->k, i);
        snprintf(mrn, sizeof(mrn), "MRN-F%d-%d", sd->k, i % 5);
        hl7_sample(msg, sizeof(msg), ctrl, mrn);
        if (mllp_send(&c, msg) != 0 ||
            mllp_read(&c, ack, sizeof(ack), 15000) <= 0)
            break;
        sd->acked++;
    }
    mllp_close(&c);
    return NULL;
}

struct poller {
    volatile bool stop;
    int n, dup, pages;
    char ids[FEED_MAX][32];
};

/* cbo's feed, a few events a page, passed back by `next` as a partner
 * reads it, every event id kept (and a second sight of one counted) */
static void *poll_feed(void *arg)
{
    struct poller *pl = arg;
    char path[96], next[32] = "0";
    bool last = false;

    while (!last) {
        struct http_resp r;
        last = pl->stop;            /* one more page after the senders */
        snprintf(path, sizeof(path), "/v1/events?after=%s&limit=7&topic="
                 "adt.*", next);
        if (http_call(&hub, true, "GET", path, "tok-cbo", NULL, NULL, 0,
                      "application/json", &r) != 0)
            continue;
        cJSON *page = r.status == 200 ? cJSON_Parse(r.body) : NULL;
        const cJSON *ev;
        int got = 0;
        cJSON_ArrayForEach(ev, cJSON_GetObjectItemCaseSensitive(page,
                                                                "events")) {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(ev, "id");
            got++;
            if (!cJSON_IsString(id))
                continue;
            for (int i = 0; i < pl->n; i++)
                if (strcmp(pl->ids[i], id->valuestring) == 0)
                    pl->dup++;
            if (pl->n < FEED_MAX)
                snprintf(pl->ids[pl->n++], sizeof(pl->ids[0]), "%s",
                         id->valuestring);
        }
        const cJSON *nx = cJSON_GetObjectItemCaseSensitive(page, "next");
        if (cJSON_IsString(nx))
            snprintf(next, sizeof(next), "%s", nx->valuestring);
        pl->pages++;
        cJSON_Delete(page);
        http_resp_free(&r);
        if (got == 7)
            last = false;           /* a full page: more may follow */
        else if (!last)
            usleep(5000);
    }
    return NULL;
}

/*
 * A partner polling its feed while events commit from two hubd at once,
 * several senders each, takes every event routed to it exactly once:
 * `next` neither skips an event that commits after a page was read with
 * a higher one (seq order is commit order, 001_init.sql) nor serves one
 * twice. The store's tests hold one such interleaving (an ingest waiting
 * behind an uncommitted lower seq); this one reads the feed over HTTPS
 * as a partner does, against real concurrent ingest on two nodes.
 */
Test(subscriber, a_feed_read_during_ingest_on_two_nodes_serves_each_event_once,
     .init = start, .fini = stop, .timeout = 180)
{
    struct http_resp r;
    struct sender sd[FEED_SENDERS];
    pthread_t ts[FEED_SENDERS], tp;
    static struct poller pl;

    cr_assert_eq(hub_start_peer(&peer, &hub, NULL), 0,
                 "the second hubd did not start");
    cr_assert_eq(call("POST", "/v1/subscriptions", "tok-cbo",
                      "{\"mode\":\"pull\",\"topics\":[\"adt.*\"]}", &r), 201,
                 "%s", r.body);
    http_resp_free(&r);
    cr_assert_eq(pthread_create(&tp, NULL, poll_feed, &pl), 0);
    for (int k = 0; k < FEED_SENDERS; k++) {
        sd[k] = (struct sender){ .h = k % 2 ? &peer : &hub, .k = k };
        cr_assert_eq(pthread_create(&ts[k], NULL, send_many, &sd[k]), 0);
    }
    int acked = 0;
    for (int k = 0; k < FEED_SENDERS; k++) {
        pthread_join(ts[k], NULL);
        acked += sd[k].acked;
    }
    pl.stop = true;
    pthread_join(tp, NULL);

    cr_assert_eq(acked, FEED_SENDERS * FEED_EACH);
    long stored = hub_sql_long(&hub, "SELECT count(*) FROM events WHERE "
                               "type LIKE 'adt.%'");
    cr_assert_geq(stored, acked);
    cr_log_info("served %d events in %d pages", pl.n, pl.pages);
    cr_expect_eq(pl.dup, 0, "events served twice");
    cr_expect_eq(pl.n, stored, "served %d of %ld events in %d pages", pl.n,
                 stored, pl.pages);
}

/*
 * An operator's ?org= names the organization a subscription is made for
 * or listed of. Given empty (a script's variable that came up empty) it
 * was read as absent: the list was every organization's, and a creation
 * made the subscription the operator's own, whose events its partner
 * would never get. Read as the id it is, which no organization has:
 * 404 for the list, 400 for a creation, each naming org (F4166).
 */
Test(subscriber, an_empty_org_parameter_names_no_organization,
     .init = start, .fini = stop, .timeout = 60)
{
    struct http_resp r;

    cr_expect_eq(call("GET", "/v1/subscriptions?org=", "tok-ops", NULL, &r),
                 404, "%s", r.body);
    cr_expect_not_null(strstr(r.body, "\"field\":\"org\""), "%s", r.body);
    http_resp_free(&r);
    cr_expect_eq(call("POST", "/v1/subscriptions?org=", "tok-ops",
                      "{\"mode\":\"pull\",\"topics\":[\"adt.*\"]}", &r), 400,
                 "%s", r.body);
    cr_expect_not_null(strstr(r.body, "\"field\":\"org\""), "%s", r.body);
    http_resp_free(&r);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM subscriptions"),
                 0);
}

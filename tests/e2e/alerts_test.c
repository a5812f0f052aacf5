/*
 * alerts_test.c - subscription health and its alerts end to end (README,
 * "Subscription health and alerts"; 001_init.sql, "Health"): real
 * PostgreSQL, real loopback webhook receivers (lib/webhook_rx.c) that check
 * every signature, the dispatcher in process or two real hubd, and the
 * accelerated clock (time_scale). Each retry of a stuck delivery is not an
 * alert: a change of health is, once (Mirth #5664); alerts reach only the
 * owner's and operators' subscriptions of the hub family; an alert endpoint
 * that fails does not feed alerts to itself; digests count right.
 */
#include <criterion/criterion.h>
#include <event2/thread.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/hub_err.h"
#include "dispatch.h"
#include "store.h"
#include "webhook.h"
#include "../lib/hubproc.h"
#include "../lib/storetest.h"
#include "../lib/testdb.h"
#include "../lib/webhook_rx.h"

#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

static const struct storetest_org orgs[4] = {
    { "hosp", "Hospital", "hospital", SCOPE_INGEST },
    { "cbo", "CBO", "cbo", SCOPE_SUBSCRIBE },
    { "cbo2", "Another CBO", "cbo", SCOPE_SUBSCRIBE },
    { "ops", "Operator", "operator", SCOPE_SUBSCRIBE | SCOPE_ADMIN },
};

static char *url;
static struct store *s;
static struct dispatch *disp[2];
static pid_t children[2];

static void setup(void)
{
    evthread_use_pthreads();
    s = storetest_open(&url, orgs, 4);
}

static void teardown(void)
{
    for (int i = 0; i < 2; i++) {
        hub_node_stop(children[i], SIGKILL);
        children[i] = 0;
        dispatch_stop(disp[i]);
        disp[i] = NULL;
    }
    storetest_close(&s, &url);
}

TestSuite(alerts, .init = setup, .fini = teardown, .timeout = 90);

static void start_dispatcher(int i, double scale, int digest_ms)
{
    struct dispatch_config c;
    dispatch_config_defaults(&c);
    c.database_url = url;
    c.timeout_ms = 2000;
    c.connect_timeout_ms = 2000;
    c.lease_ms = 4000;
    c.poll_ms = 50;
    c.time_scale = scale;
    c.per_endpoint = 4;
    c.digest_ms = digest_ms;
    snprintf(c.node, sizeof(c.node), "alerts-node-%d", i);
    cr_assert_eq(dispatch_start(&c, &disp[i]), HUB_OK);
}

static const char *sub_of(const char *org, int port, const char *topics)
{
    static char ids[16][64];
    static int next;
    char json[512];

    snprintf(json, sizeof(json),
             "{\"url\":\"http://127.0.0.1:%d/\",\"topics\":%s,"
             "\"secrets\":[\"" SECRET "\"]}", port, topics);
    char *slot = ids[next++ % 16];
    storetest_sub(s, org, json, slot);
    return slot;
}

static void ingest(const char *key, const char *patient)
{
    char body[512];
    snprintf(body, sizeof(body),
             "{\"type\":\"adt.admit\",\"k\": \"%s\",\"patient\":"
             "{\"identifiers\":[{\"system\":\"MRN\",\"value\":\"%s\"}]}}",
             key, patient);
    storetest_ingest(s, "hosp", "hl7v2", key, "adt.admit", body);
}

static long qlong(const char *sql)
{
    return storetest_long(s, sql);
}

/* A query made by printf, in one buffer (one at a time). */
static char qbuf[1024];
#define Q(...) (snprintf(qbuf, sizeof(qbuf), __VA_ARGS__), qbuf)

static long wait_for(const char *sql, long want, int timeout_ms)
{
    return storetest_wait_long(s, sql, want, timeout_ms);
}

/* The health changes of `sub` as its audit rows say, "from>to" joined by
 * commas, in chain order (malloc'd, "" for none). */
static char *changes(const char *sub)
{
    char sql[512];
    snprintf(sql, sizeof(sql), "SELECT coalesce(string_agg((detail::jsonb->>"
             "'from') || '>' || (detail::jsonb->>'to'), ',' ORDER BY seq), "
             "'') FROM audit WHERE action = 'subscription.health' AND "
             "object_id = '%s'", sub);
    return storetest_text(s, sql);
}

/* Each health change is a hub.health event of the owner naming its audit
 * row, and the chain verifies. */
static void events_match_audit_rows(void)
{
    cr_assert_eq(qlong("SELECT count(*) FROM audit a JOIN events e ON "
                       "e.body::jsonb->'source'->>'message_id' = "
                       "'audit:' || a.seq WHERE a.action = "
                       "'subscription.health' AND e.type = 'hub.health' AND "
                       "e.body::jsonb->'health' = a.detail::jsonb - "
                       "'alert_delivery' AND e.patient_hub_id IS NULL AND "
                       "e.org_id = (SELECT org_id FROM subscriptions WHERE "
                       "id = a.object_id)"),
                 qlong("SELECT count(*) FROM audit WHERE action = "
                       "'subscription.health'"));
    cr_assert_eq(qlong("SELECT count(*) FROM audit WHERE action = "
                       "'subscription.health'"),
                 qlong("SELECT count(*) FROM events WHERE type = "
                       "'hub.health'"));
    struct store_audit_check c;
    cr_assert_eq(store_audit_verify(s, &c), HUB_OK);
    cr_assert(c.ok, "audit chain broken at %lld (%s)", (long long)c.bad_seq,
              c.problem);
}

/* The hub events stored validate against the canonical schema with its
 * health and digest bodies (tests/tools/validate.js, as docs_test does). */
static void hub_events_validate(long at_least)
{
    char *json = storetest_text(s, "SELECT json_agg(body::json ORDER BY seq) "
                                   "FROM events WHERE type LIKE 'hub.%'");
    cr_assert_not_null(json);
    char dir[] = "/tmp/hub-alerts-XXXXXX", cmd[2048], path[1024];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s/tests/data' && ln -s "
             "'%s/schemas' '%s/schemas'", dir, testdb_root(), dir);
    cr_assert_eq(system(cmd), 0);
    snprintf(path, sizeof(path), "%s/tests/data/hub.json", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(json, f);
    fclose(f);
    free(json);
    snprintf(cmd, sizeof(cmd), "node '%s/tests/tools/validate.js' '%s' > "
             "'%s/out.txt' 2>&1", testdb_root(), dir, dir);
    int st = system(cmd);
    static char out[8192];
    snprintf(path, sizeof(path), "%s/out.txt", dir);
    f = fopen(path, "r");
    size_t n = f ? fread(out, 1, sizeof(out) - 1, f) : 0;
    out[n] = '\0';
    if (f)
        fclose(f);
    cr_expect_eq(st, 0, "schema validation failed:\n%s", out);
    const char *c = strstr(out, "validate: ");
    cr_assert_not_null(c, "%s", out);
    cr_expect_geq(strtol(c + 10, NULL, 10), 2 * at_least, "%s", out);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}

/* --- the tests ------------------------------------------------------------- */

/* Mirth #5664: eight failed attempts of one delivery, one alert. The
 * alerts reach the owner's and the operator's subscriptions of the hub
 * family, and nobody else's: not another organization's, not a "*". */
Test(alerts, many_retries_of_one_delivery_give_one_failing_then_one_healthy)
{
    struct rx *bad = rx_start(RX_FAIL_N, SECRET);
    bad->fail_n = 8;
    const char *sub = sub_of("cbo", bad->port, "[\"adt.*\"]");
    struct rx *own = rx_start(RX_OK, SECRET), *ops = rx_start(RX_OK, SECRET),
              *other = rx_start(RX_OK, SECRET), *all = rx_start(RX_OK, SECRET);
    const char *own_sub = sub_of("cbo", own->port, "[\"hub.health\"]");
    const char *ops_sub = sub_of("ops", ops->port, "[\"hub.*\"]");
    const char *other_sub = sub_of("cbo2", other->port, "[\"hub.*\"]");
    const char *all_sub = sub_of("cbo", all->port, "[\"*\"]");
    start_dispatcher(0, 100000.0, 0);

    ingest("k1", "p1");
    cr_assert_eq(wait_for(Q("SELECT count(*) FROM delivery_state WHERE "
                           "subscription_id = '%s' AND status = 'delivered'",
                           sub), 1, 20000), 1);
    cr_assert_eq(rx_requests(bad), 9);
    char *ch = changes(sub);
    cr_assert_str_eq(ch, "healthy>failing,failing>healthy");
    free(ch);
    cr_assert_eq(qlong(Q("SELECT count(*) FROM audit WHERE action = "
                        "'subscription.health' AND object_id = '%s' AND "
                        "detail::jsonb->>'reason' = 'failed_attempts' AND "
                        "(detail::jsonb->>'attempt')::int = 3 AND "
                        "(detail::jsonb->>'code')::int = 500", sub)), 1);
    cr_assert_eq(qlong(Q("SELECT count(*) FROM subscriptions s WHERE id = '%s' "
                        "AND hub_sub_json(s, false)->>'health' = 'healthy' "
                        "AND hub_sub_json(s, false) ? 'health_since'", sub)),
                 1);
    /* the owner's alert subscription and the operator's: two each */
    cr_assert_eq(wait_for(Q("SELECT count(*) FROM delivery_state WHERE "
                           "subscription_id = '%s' AND status = 'delivered'",
                           own_sub), 2, 10000), 2);
    cr_assert_eq(wait_for(Q("SELECT count(*) FROM delivery_state WHERE "
                           "subscription_id = '%s' AND status = 'delivered'",
                           ops_sub), 2, 10000), 2);
    cr_assert_eq(qlong(Q("SELECT count(*) FROM deliveries WHERE "
                        "subscription_id = '%s'", other_sub)), 0,
                 "another organization's alerts are not routed to it");
    cr_assert_eq(qlong(Q("SELECT count(*) FROM deliveries WHERE "
                        "subscription_id = '%s'", all_sub)), 1,
                 "\"*\" is the data events only");
    cr_assert_eq(rx_requests(own), 2);
    cr_assert_eq(rx_requests(ops), 2);
    cr_assert_eq(rx_requests(other), 0);
    cr_assert_eq(own->bad_sigs + ops->bad_sigs, 0);
    /* in the owner's pull feed too, and not in another's */
    cr_assert_eq(qlong("SELECT count(*) FROM hub_visible_events('cbo', false, "
                       "0) WHERE type = 'hub.health'"), 2);
    cr_assert_eq(qlong("SELECT count(*) FROM hub_visible_events('cbo2', "
                       "false, 0) WHERE type = 'hub.health'"), 0);
    /* the feed's topic=*: the data events, as a subscription's "*" */
    cr_assert_eq(qlong("SELECT count(*) FROM json_array_elements("
                       "hub_feed_page('cbo', false, 0, '{%}', NULL, 100)::json"
                       "->'events') e WHERE e->>'type' LIKE 'hub.%'"), 0);
    cr_assert_eq(qlong("SELECT count(*) FROM json_array_elements("
                       "hub_feed_page('cbo', false, 0, '{hub.%}', NULL, 100)"
                       "::json->'events') e WHERE e->>'type' = 'hub.health'"),
                 2);
    cr_assert_eq(qlong("SELECT count(*) FROM json_array_elements("
                       "hub_feed_page('cbo', false, 0, NULL, NULL, 100)::json"
                       "->'events') e WHERE e->>'type' = 'hub.health'"), 2);
    events_match_audit_rows();
    hub_events_validate(2);
    rx_stop(bad);
    rx_stop(own);
    rx_stop(ops);
    rx_stop(other);
    rx_stop(all);
}

/* Two deliveries die: one dead-lettering (after the one failing), not
 * two; then a delivery succeeds: healthy. */
Test(alerts, dead_letters_give_one_dead_lettering)
{
    struct rx *bad = rx_start(RX_FAIL_N, SECRET);
    bad->fail_n = 2 * (WEBHOOK_RETRIES + 1);
    const char *sub = sub_of("cbo", bad->port, "[\"adt.*\"]");
    start_dispatcher(0, 1000000.0, 0);

    ingest("k1", "p1");
    ingest("k2", "p2");
    cr_assert_eq(wait_for(Q("SELECT count(*) FROM delivery_state WHERE "
                           "subscription_id = '%s' AND status = 'dead'",
                           sub), 2, 20000), 2);
    char *ch = changes(sub);
    cr_assert_str_eq(ch, "healthy>failing,failing>dead-lettering");
    free(ch);
    cr_assert_eq(qlong(Q("SELECT count(*) FROM subscriptions WHERE id = '%s' "
                        "AND health = 'dead-lettering'", sub)), 1);
    ingest("k3", "p3");
    cr_assert_eq(wait_for(Q("SELECT count(*) FROM delivery_state WHERE "
                           "subscription_id = '%s' AND status = 'delivered'",
                           sub), 1, 20000), 1);
    ch = changes(sub);
    cr_assert_str_eq(ch, "healthy>failing,failing>dead-lettering,"
                         "dead-lettering>healthy");
    free(ch);
    events_match_audit_rows();
    rx_stop(bad);
}

/* Three deliveries answered 410: one disabled. */
Test(alerts, gone_gives_one_disabled)
{
    struct rx *gone = rx_start(RX_GONE, SECRET);
    const char *sub = sub_of("cbo", gone->port, "[\"adt.*\"]");
    for (int i = 0; i < 3; i++) {
        char k[8];
        snprintf(k, sizeof(k), "k%d", i);
        ingest(k, k);
    }
    start_dispatcher(0, 1000.0, 0);
    cr_assert_eq(wait_for(Q("SELECT count(*) FROM subscriptions WHERE id = "
                           "'%s' AND status = 'disabled' AND health = "
                           "'disabled'", sub), 1, 20000), 1);
    usleep(300 * 1000);
    char *ch = changes(sub);
    cr_assert_str_eq(ch, "healthy>disabled");
    free(ch);
    cr_assert_eq(qlong(Q("SELECT count(*) FROM audit WHERE action = "
                        "'subscription.health' AND object_id = '%s' AND "
                        "detail::jsonb->>'reason' = 'gone' AND "
                        "(detail::jsonb->>'code')::int = 410", sub)), 1);
    events_match_audit_rows();
    rx_stop(gone);
}

/* hubd `node` on the test database, its dispatcher on the accelerated
 * clock (hub_spawn_node), no digests. */
static pid_t spawn_hubd(int i, const char *node)
{
    static const char *const env[] = {"HUB_ALERT_DIGEST_S=0", NULL};
    pid_t pid = hub_spawn_node(url, node, env);
    cr_assert_neq(pid, -1);
    children[i] = pid;
    return pid;
}

/* Two hubd share one failing subscription's deliveries (both flush
 * outcomes of it, each past the failing threshold): still one failing and
 * one healthy, whichever node's flush came first. */
Test(alerts, two_hubd_flushing_one_subscription_alert_once_per_change,
     .timeout = 120)
{
    struct rx *bad = rx_start(RX_FAIL_N, SECRET);
    const int n_events = 40;
    bad->fail_n = 4 * n_events;
    const char *sub = sub_of("cbo", bad->port, "[\"adt.*\"]");
    spawn_hubd(0, "node-a");
    spawn_hubd(1, "node-b");
    cr_assert_eq(wait_for("SELECT count(*) FROM pg_stat_activity WHERE "
                          "datname = current_database() AND query = "
                          "'LISTEN hub_deliveries'", 2, 60000), 2,
                 "both dispatchers listening");
    for (int i = 0; i < n_events; i++) {
        char k[8];
        snprintf(k, sizeof(k), "m%d", i);
        ingest(k, k);
    }
    cr_assert_eq(wait_for(Q("SELECT count(*) FROM delivery_state WHERE "
                           "subscription_id = '%s' AND status = 'delivered'",
                           sub), n_events, 60000), n_events);
    /* both nodes recorded attempts of it past the threshold */
    cr_assert_eq(qlong("SELECT count(DISTINCT detail::jsonb->>'node') FROM "
                       "audit WHERE action = 'delivery.attempt' AND "
                       "(detail::jsonb->>'attempt')::int >= 3 AND "
                       "detail::jsonb->>'outcome' = 'retry'"), 2);
    char *ch = changes(sub);
    cr_assert_str_eq(ch, "healthy>failing,failing>healthy");
    free(ch);
    events_match_audit_rows();
    rx_stop(bad);
}

/* An alert subscription whose endpoint fails for ever: its own failures
 * change its health (recorded, in the feed) but are sent to nobody, so
 * the alerts stop; they do not feed themselves. */
Test(alerts, an_alert_endpoint_that_fails_does_not_loop)
{
    struct rx *data = rx_start(RX_FAIL_N, SECRET);
    data->fail_n = 3;
    const char *sub = sub_of("cbo", data->port, "[\"adt.*\"]");
    struct rx *sink = rx_start(RX_FAIL_N, SECRET);
    sink->fail_n = 1000000;
    const char *alert_sub = sub_of("cbo", sink->port, "[\"hub.*\"]");
    start_dispatcher(0, 1000000.0, 0);

    ingest("k1", "p1");
    cr_assert_eq(wait_for(Q("SELECT count(*) FROM delivery_state WHERE "
                           "subscription_id = '%s' AND status = 'delivered'",
                           sub), 1, 20000), 1);
    /* both alerts about sub went to the alert endpoint and died there */
    cr_assert_eq(wait_for(Q("SELECT count(*) FROM delivery_state WHERE "
                           "subscription_id = '%s' AND status = 'dead'",
                           alert_sub), 2, 30000), 2);
    cr_assert_eq(wait_for("SELECT count(*) FROM delivery_queue", 0, 10000), 0);
    usleep(500 * 1000);
    char *ch = changes(sub);
    cr_assert_str_eq(ch, "healthy>failing,failing>healthy");
    free(ch);
    ch = changes(alert_sub);
    cr_assert_str_eq(ch, "healthy>failing,failing>dead-lettering");
    free(ch);
    cr_assert_eq(qlong("SELECT count(*) FROM events WHERE type = "
                       "'hub.health'"), 4);
    cr_assert_eq(qlong(Q("SELECT count(*) FROM deliveries WHERE "
                        "subscription_id = '%s'", alert_sub)), 2,
                 "its own changes are not sent to it");
    cr_assert_eq(qlong("SELECT count(*) FROM delivery_queue"), 0);
    cr_assert_eq(rx_requests(sink), 2 * (WEBHOOK_RETRIES + 1));
    /* the owner still reads them in its feed */
    cr_assert_eq(qlong("SELECT count(*) FROM hub_visible_events('cbo', false, "
                       "0) WHERE type = 'hub.health'"), 4);
    events_match_audit_rows();
    rx_stop(data);
    rx_stop(sink);
}

/* The digest counts each subscription's outcomes since the last one, per
 * owner, and is sent only when there is something to say. */
Test(alerts, digest_counts_outcomes_per_subscription_since_the_last)
{
    struct rx *flaky = rx_start(RX_FAIL_N, SECRET);
    flaky->fail_n = 2;
    struct rx *good = rx_start(RX_OK, SECRET), *ops = rx_start(RX_OK, SECRET);
    const char *a = sub_of("cbo", flaky->port, "[\"adt.*\"]");
    const char *b = sub_of("cbo", good->port, "[\"adt.*\"]");
    const char *c = sub_of("cbo2", good->port, "[\"adt.*\"]");
    const char *ops_sub = sub_of("ops", ops->port, "[\"hub.digest\"]");
    start_dispatcher(0, 100000.0, 0);
    for (int i = 0; i < 3; i++) {
        char k[8];
        snprintf(k, sizeof(k), "k%d", i);
        ingest(k, "p1");
    }
    cr_assert_eq(wait_for("SELECT count(*) FROM delivery_state WHERE "
                          "status = 'delivered'", 9, 20000), 9);
    /* cbo's subscriptions failed: its digest; cbo2's did not: none */
    cr_assert_eq(qlong("SELECT hub_digest(1, false)"), 1);
    char sql[1024];
    snprintf(sql, sizeof(sql), "SELECT body::jsonb->'digest'->'subscriptions' "
             "= jsonb_build_array(x, y) FROM events, (SELECT "
             "jsonb_build_object('subscription', '%s', 'health', 'healthy', "
             "'delivered', 3, 'failed', 2, 'dead', 0) AS x, "
             "jsonb_build_object('subscription', '%s', 'health', 'healthy', "
             "'delivered', 3, 'failed', 0, 'dead', 0) AS y) v WHERE "
             "type = 'hub.digest' AND org_id = 'cbo'",
             strcmp(a, b) < 0 ? a : b, strcmp(a, b) < 0 ? b : a);
    if (strcmp(a, b) > 0) {
        /* x is the flaky one's counts: swap them when b sorts first */
        snprintf(sql, sizeof(sql), "SELECT body::jsonb->'digest'->"
                 "'subscriptions' = jsonb_build_array(y, x) FROM events, "
                 "(SELECT jsonb_build_object('subscription', '%s', "
                 "'health', 'healthy', 'delivered', 3, 'failed', 2, "
                 "'dead', 0) AS x, jsonb_build_object('subscription', '%s', "
                 "'health', 'healthy', 'delivered', 3, 'failed', 0, "
                 "'dead', 0) AS y) v WHERE type = 'hub.digest' AND "
                 "org_id = 'cbo'", a, b);
    }
    char *eq = storetest_text(s, sql);
    cr_assert_not_null(eq);
    cr_assert_str_eq(eq, "t", "the digest's counts");
    free(eq);
    cr_assert_eq(qlong(Q("SELECT count(*) FROM events WHERE type = "
                        "'hub.digest' AND body LIKE '%%%s%%'", c)), 0);
    /* the operator's digest subscription gets it */
    cr_assert_eq(wait_for(Q("SELECT count(*) FROM delivery_state WHERE "
                           "subscription_id = '%s' AND status = 'delivered'",
                           ops_sub), 1, 10000), 1);
    /* nothing since: no digest, even when asked for every activity */
    usleep(5 * 1000);
    cr_assert_eq(qlong("SELECT hub_digest(1, true)"), 0);
    /* new deliveries only: a digest only when asked for every activity,
     * counting only what came after the last one */
    ingest("k9", "p9");
    cr_assert_eq(wait_for("SELECT count(*) FROM delivery_state WHERE "
                          "status = 'delivered'", 13, 20000), 13);
    usleep(5 * 1000);
    cr_assert_eq(qlong("SELECT hub_digest(1, false)"), 0);
    ingest("k10", "p10");
    cr_assert_eq(wait_for("SELECT count(*) FROM delivery_state WHERE "
                          "status = 'delivered'", 16, 20000), 16);
    usleep(5 * 1000);
    cr_assert_eq(qlong("SELECT hub_digest(1, true)"), 2);
    cr_assert_eq(qlong(Q("SELECT count(*) FROM events WHERE type = "
                        "'hub.digest' AND org_id = 'cbo2' AND "
                        "body::jsonb->'digest'->'subscriptions'->0->>"
                        "'delivered' = '1' AND body LIKE '%%%s%%'", c)), 1);
    /* not yet due: nothing */
    cr_assert_eq(qlong("SELECT hub_digest(3600000, true)"), 0);
    hub_events_validate(3);
    rx_stop(flaky);
    rx_stop(good);
    rx_stop(ops);
}

/* hubd's own timer makes the digests (alert_digest_s, scaled): one per
 * interval with something to say, sent to the operator. */
Test(alerts, the_dispatcher_makes_the_digest_when_due)
{
    struct rx *flaky = rx_start(RX_FAIL_N, SECRET);
    flaky->fail_n = 1;
    struct rx *ops = rx_start(RX_OK, SECRET);
    sub_of("cbo", flaky->port, "[\"adt.*\"]");
    const char *ops_sub = sub_of("ops", ops->port, "[\"hub.digest\"]");
    /* an hour in 0.4 s */
    start_dispatcher(0, 9000.0, 3600 * 1000);
    ingest("k1", "p1");
    cr_assert_eq(wait_for(Q("SELECT count(*) FROM delivery_state WHERE "
                           "subscription_id = '%s' AND status = 'delivered'",
                           ops_sub), 1, 20000), 1);
    usleep(1500 * 1000);
    cr_assert_eq(qlong("SELECT count(*) FROM events WHERE type = "
                       "'hub.digest'"), 1, "nothing new to say: one digest");
    rx_stop(flaky);
    rx_stop(ops);
}

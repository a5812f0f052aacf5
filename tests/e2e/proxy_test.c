/*
 * proxy_test.c - webhook deliveries through the egress proxy (key
 * webhook_proxy, dispatch.h): real PostgreSQL, real loopback receivers
 * (lib/webhook_rx.c), and a real HTTP CONNECT proxy (tests/tools/
 * connect_proxy.c, built as $HUB_BUILD/bin/connect-proxy) that logs the
 * target of every request it is asked for. What the proxy was asked shows
 * that the hub resolved the name and checked the address itself: the
 * CONNECT names the address, never the name; a refused address reaches no
 * proxy at all; a proxy's refusal or absence is an attempt's error that
 * names the proxy, retried as any network error.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <event2/thread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/hub_err.h"
#include "dispatch.h"
#include "store.h"
#include "../lib/hubproc.h"
#include "../lib/storetest.h"
#include "../lib/testdb.h"
#include "../lib/webhook_rx.h"

#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

static char *url;
static struct store *s;
static struct dispatch *disp;

/* --- the proxy ------------------------------------------------------------ */

struct proxy {
    pid_t pid;
    int port;
    char log[256];
    char url[128];
};

static struct proxy px;

/* Start connect-proxy with `args` (NULL terminated, after its name). */
static void proxy_start(struct proxy *p, const char *const *args)
{
    char bin[1024];
    const char *build = getenv("HUB_BUILD");
    int out[2];

    if (build && build[0] == '/')
        snprintf(bin, sizeof(bin), "%s/bin/connect-proxy", build);
    else
        snprintf(bin, sizeof(bin), "%s/%s/bin/connect-proxy", testdb_root(),
                 build && *build ? build : "build");
    snprintf(p->log, sizeof(p->log), "/tmp/hub-proxy-%d-XXXXXX", getpid());
    int lfd = mkstemp(p->log);
    cr_assert_geq(lfd, 0);
    close(lfd);
    cr_assert_eq(pipe(out), 0);
    const char *argv[16] = { bin, "--log", p->log };
    int n = 3;
    for (int i = 0; args && args[i] && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    pid_t parent = getpid();
    p->pid = fork();
    cr_assert_geq(p->pid, 0);
    if (p->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    char line[64] = "";
    FILE *f = fdopen(out[0], "r");
    cr_assert_not_null(f);
    cr_assert_not_null(fgets(line, sizeof(line), f), "%s did not start",
                       bin);
    fclose(f);
    char *end = NULL;
    cr_assert_eq(strncmp(line, "port ", 5), 0, "%s", line);
    errno = 0;
    long port = strtol(line + 5, &end, 10);
    cr_assert(!errno && end != line + 5 && *end == '\n' && port > 0 &&
              port < 65536, "%s", line);
    p->port = (int)port;
    snprintf(p->url, sizeof(p->url), "http://127.0.0.1:%d", p->port);
}

static void proxy_stop(struct proxy *p)
{
    if (p->pid > 0) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
        p->pid = 0;
    }
    if (p->log[0])
        unlink(p->log);
    p->log[0] = '\0';
}

/* The proxy's log, as text (malloc'd, "" when empty). */
static char *proxy_log(const struct proxy *p)
{
    FILE *f = fopen(p->log, "r");
    cr_assert_not_null(f);
    char *buf = calloc(1, 65536);
    cr_assert_not_null(buf);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* --- database and dispatcher ------------------------------------------------ */

static void setup(void)
{
    evthread_use_pthreads();
    s = storetest_open(&url, storetest_hosp_cbo, 2);
}

static void teardown(void)
{
    dispatch_stop(disp);
    disp = NULL;
    proxy_stop(&px);
    storetest_close(&s, &url);
}

TestSuite(proxy, .init = setup, .fini = teardown, .timeout = 90);

/* A dispatcher that sends through `proxy`, the retry schedule fast. */
/* Retries 100,000 times faster than in production: the three days of the
 * schedule pass in 2.6 s. */
static double time_scale = 100000.0;

static void start_dispatcher_ca(const char *proxy, const char *proxy_ca,
                                bool production, bool allow_private)
{
    struct dispatch_config c;
    dispatch_config_defaults(&c);
    c.database_url = url;
    c.timeout_ms = 3000;
    c.connect_timeout_ms = 3000;
    c.lease_ms = 5000;
    c.poll_ms = 50;
    c.time_scale = time_scale;
    c.production = production;
    c.allow_private = allow_private;
    c.proxy = proxy;
    c.proxy_ca = proxy_ca;
    snprintf(c.node, sizeof(c.node), "proxy-test");
    cr_assert_eq(dispatch_start(&c, &disp), HUB_OK);
}

static void start_dispatcher(const char *proxy, bool production,
                             bool allow_private)
{
    start_dispatcher_ca(proxy, NULL, production, allow_private);
}

static const char *sub_url(const char *endpoint, const char *extra)
{
    static char ids[16][64];
    static int next;
    char json[1024];
    snprintf(json, sizeof(json), "{\"url\":\"%s\",\"topics\":[\"*\"],"
             "\"secrets\":[\"" SECRET "\"]%s}", endpoint, extra ? extra : "");
    char *slot = ids[next++ % 16];
    storetest_sub(s, "cbo", json, slot);
    return slot;
}

static void ingest(const char *key)
{
    char body[512];
    snprintf(body, sizeof(body),
             "{\"type\":\"adt.admit\",\"k\": \"%s\",\"patient\":"
             "{\"identifiers\":[{\"system\":\"MRN\",\"value\":\"p1\"}]}}",
             key);
    storetest_ingest(s, "hosp", "hl7v2", key, "adt.admit", body);
}

static long wait_for(const char *sql, long want, int ms)
{
    return storetest_wait_long(s, sql, want, ms);
}

/* --- the tests ------------------------------------------------------------- */

/* The endpoint is named (localhost); the proxy is asked to CONNECT to the
 * address the hub resolved and checked (127.0.0.1), never to the name,
 * which it would resolve again (DNS rebinding); the delivery arrives
 * signed. A plain http endpoint is tunnelled too: no forwarded request. */
Test(proxy, a_delivery_goes_through_the_proxy_to_the_checked_address)
{
    struct rx *r = rx_start(RX_OK, SECRET);
    char ep[128], want[64];
    const char *const none[] = { NULL };

    cr_assert_not_null(r);
    proxy_start(&px, none);
    snprintf(ep, sizeof(ep), "http://localhost:%d/hook", r->port);
    const char *sub = sub_url(ep, NULL);
    ingest("k1");
    /* production: the policy applies, the operator allows loopback */
    start_dispatcher(px.url, true, true);

    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM delivery_state WHERE "
             "subscription_id = '%s' AND status = 'delivered'", sub);
    cr_assert_eq(wait_for(sql, 1, 15000), 1);
    cr_assert_eq(rx_requests(r), 1);
    cr_assert_eq(r->bad_sigs, 0);
    char *log = proxy_log(&px);
    snprintf(want, sizeof(want), "CONNECT 127.0.0.1:%d auth=no\n", r->port);
    cr_assert_str_eq(log, want, "the proxy was asked: %s", log);
    free(log);
    rx_stop(r);
}

/* The production policy holds through the proxy: a name that resolves to
 * loopback (and the loopback address itself) is refused by the hub,
 * before the proxy is contacted at all (its log stays empty), and the
 * attempt says "ssrf". Once the operator allows private addresses, the
 * same deliveries' retries go through the proxy. */
Test(proxy, production_refuses_a_name_resolving_to_loopback_before_the_proxy)
{
    struct rx *r = rx_start(RX_OK, SECRET);
    char ep[128];
    const char *const none[] = { NULL };

    cr_assert_not_null(r);
    proxy_start(&px, none);
    snprintf(ep, sizeof(ep), "http://localhost:%d/hook", r->port);
    sub_url(ep, NULL);
    snprintf(ep, sizeof(ep), "http://127.0.0.1:%d/ip", r->port);
    sub_url(ep, NULL);
    ingest("k1");
    start_dispatcher(px.url, true, false);

    cr_assert_geq(wait_for("SELECT count(DISTINCT delivery_id) FROM "
                           "delivery_attempts WHERE error = 'ssrf'", 2,
                           15000), 2);
    cr_assert_eq(storetest_long(s, "SELECT count(*) FROM delivery_attempts "
                                "WHERE error IS DISTINCT FROM 'ssrf'"), 0);
    dispatch_stop(disp);
    disp = NULL;
    char *log = proxy_log(&px);
    cr_assert_str_eq(log, "", "the proxy was contacted: %s", log);
    free(log);
    cr_assert_eq(rx_requests(r), 0);

    start_dispatcher(px.url, true, true);
    cr_assert_eq(wait_for("SELECT count(*) FROM delivery_state WHERE status "
                          "= 'delivered'", 2, 15000), 2);
    cr_assert_eq(rx_requests(r), 2);
    char want[64];
    log = proxy_log(&px);
    snprintf(want, sizeof(want), "CONNECT 127.0.0.1:%d auth=no\n", r->port);
    cr_assert_not_null(strstr(log, want), "%s", log);
    cr_assert_null(strstr(log, "localhost"), "%s", log);
    free(log);
    rx_stop(r);
}

/* Every way to write an internal address in a URL (as in
 * dispatch::production_profile_refuses_every_spelling_of_an_internal_address)
 * is refused through the proxy too, by the address hubd resolved it to:
 * "ssrf" for each ("dns" where the resolver does not know "localhost."),
 * and the proxy hears of none. */
Test(proxy, production_refuses_every_spelling_of_an_internal_address)
{
    static const char *const hosts[] = {
        "2130706433", "0x7f000001", "0177.0.0.1", "127.1", "localhost",
        "localhost.", "[::1]", "[::ffff:127.0.0.1]",
        "[0:0:0:0:0:ffff:7f00:1]", "0.0.0.0", "[::]", "[fe80::1%25lo]",
        "10.255.255.1", "169.254.169.254",
    };
    enum { N = sizeof(hosts) / sizeof(hosts[0]) };
    /* a proxy that refuses every tunnel: were an address let through by
     * mistake, nothing would be dialled (10/8 and 169.254/16 included) */
    const char *const refuse[] = { "--answer", "403", NULL };
    int port = rx_down_port();

    proxy_start(&px, refuse);
    for (int i = 0; i < N; i++) {
        char ep[128];
        snprintf(ep, sizeof(ep), "http://%s:%d/", hosts[i], port);
        sub_url(ep, NULL);
    }
    ingest("k1");
    start_dispatcher(px.url, true, false);
    cr_assert_eq(wait_for("SELECT count(DISTINCT delivery_id) FROM "
                          "delivery_attempts", N, 20000), N);
    dispatch_stop(disp);
    disp = NULL;
    char *bad = storetest_text(s, "SELECT coalesce(string_agg(DISTINCT "
                               "d.url || ' ' || coalesce(t.error, '-'), "
                               "', '), '') FROM delivery_attempts t JOIN "
                               "deliveries d ON d.id = t.delivery_id WHERE "
                               "t.error IS DISTINCT FROM 'ssrf' AND NOT "
                               "(t.error = 'dns' AND d.url LIKE "
                               "'http://localhost.:%')");
    cr_assert_str_eq(bad, "", "not refused as ssrf: %s", bad);
    free(bad);
    char *log = proxy_log(&px);
    cr_assert_str_eq(log, "", "the proxy was contacted: %s", log);
    free(log);
    proxy_stop(&px);

    /* the operator allows private addresses: the retries go to the proxy
     * as the addresses checked, never as a name */
    proxy_start(&px, refuse);
    start_dispatcher(px.url, true, true);
    char want[64];
    snprintf(want, sizeof(want), "CONNECT 127.0.0.1:%d auth=no", port);
    int64_t end = rx_now_ms() + 15000;
    do {
        log = proxy_log(&px);
        if (strstr(log, want))
            break;
        free(log);
        log = NULL;
        usleep(50000);
    } while (rx_now_ms() < end);
    cr_assert_not_null(log, "no CONNECT to the address of localhost");
    cr_assert_null(strstr(log, "localhost"), "%s", log);
    free(log);
}

/* A proxy that refuses the tunnel (407: it wants credentials the hub does
 * not have) fails the attempt with an error naming the proxy and no
 * receiver's status; the delivery is retried as after any network error.
 * With the credentials in webhook_proxy's URL, the next try goes
 * through. */
Test(proxy, a_proxy_answering_407_fails_the_attempt_naming_the_proxy_then_retries)
{
    struct rx *r = rx_start(RX_OK, SECRET);
    char ep[128], with_auth[160];
    const char *const auth[] = { "--auth", "hub:pr0xy-pw", NULL };

    cr_assert_not_null(r);
    proxy_start(&px, auth);
    snprintf(ep, sizeof(ep), "http://127.0.0.1:%d/hook", r->port);
    sub_url(ep, NULL);
    ingest("k1");
    start_dispatcher(px.url, false, false);

    cr_assert_geq(wait_for("SELECT count(*) FROM delivery_attempts WHERE "
                           "error = 'proxy_auth' AND outcome = 'retry' AND "
                           "coalesce(status_code, 0) = 0", 4,
                           15000), 4, "four attempts refused by the proxy");
    cr_assert_eq(storetest_long(s, "SELECT count(*) FROM delivery_attempts "
                                "WHERE error IS DISTINCT FROM "
                                "'proxy_auth'"), 0);
    cr_assert_eq(rx_requests(r), 0);
    /* the hub's own way out failed, not the partner: its subscription
     * stays healthy past alert_failing_after (3), no hub.health alert */
    cr_assert_eq(storetest_long(s, "SELECT count(*) FROM subscriptions "
                                "WHERE health <> 'healthy'"), 0);
    dispatch_stop(disp);
    disp = NULL;

    snprintf(with_auth, sizeof(with_auth), "http://hub:pr0xy-pw@127.0.0.1:%d",
             px.port);
    start_dispatcher(with_auth, false, false);
    cr_assert_eq(wait_for("SELECT count(*) FROM delivery_state WHERE status "
                          "= 'delivered'", 1, 15000), 1);
    cr_assert_eq(rx_requests(r), 1);
    char *log = proxy_log(&px);
    cr_assert_not_null(strstr(log, "auth=yes"), "%s", log);
    free(log);
    rx_stop(r);
}

/* An IPv6 address goes to the proxy in brackets, as CONNECT's
 * authority-form writes it (RFC 9110 9.3.6, RFC 3986 3.2.2): nobody
 * listens there, so the proxy answers 502, named as the proxy's. */
Test(proxy, an_ipv6_address_is_asked_for_in_brackets)
{
    char ep[128], want[64];
    const char *const none[] = { NULL };
    int port = rx_down_port();

    proxy_start(&px, none);
    snprintf(ep, sizeof(ep), "http://[::1]:%d/hook", port);
    sub_url(ep, NULL);
    ingest("k1");
    start_dispatcher(px.url, false, false);
    cr_assert_geq(wait_for("SELECT count(*) FROM delivery_attempts WHERE "
                           "error = 'proxy_bad_gateway'", 1, 15000), 1);
    char *log = proxy_log(&px);
    snprintf(want, sizeof(want), "CONNECT [::1]:%d auth=no\n", port);
    cr_assert_not_null(strstr(log, want), "%s", log);
    free(log);
}

/* Other refusals of the tunnel name the proxy too (403, 502). */
Test(proxy, a_proxy_answering_403_or_502_is_named_in_the_attempt)
{
    static const char *const codes[][2] = { { "403", "proxy_forbidden" },
                                            { "502", "proxy_bad_gateway" } };
    for (int i = 0; i < 2; i++) {
        const char *const args[] = { "--answer", codes[i][0], NULL };
        char ep[128], sql[256];
        proxy_start(&px, args);
        snprintf(ep, sizeof(ep), "http://127.0.0.1:%d/%d", rx_down_port(), i);
        sub_url(ep, NULL);
        char key[8];
        snprintf(key, sizeof(key), "k%d", i);
        ingest(key);
        start_dispatcher(px.url, false, false);
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM delivery_attempts "
                 "WHERE error = '%s' AND outcome = 'retry'", codes[i][1]);
        cr_assert_geq(wait_for(sql, 1, 15000), 1, "%s", codes[i][1]);
        dispatch_stop(disp);
        disp = NULL;
        proxy_stop(&px);
    }
}

/* The proxy down: the attempt says so ("proxy_connect", not the
 * receiver's "connect"), and the delivery is retried; once the proxy is
 * back, it arrives. */
Test(proxy, a_proxy_that_is_down_fails_the_attempt_naming_the_proxy_then_retries)
{
    struct rx *r = rx_start(RX_OK, SECRET);
    char ep[128], down[64];

    cr_assert_not_null(r);
    /* 1,000 times faster only: at the default, a loaded machine that is
     * slow to stop the first dispatcher let the whole schedule pass, and
     * the delivery was dead before the proxy came back; here its first
     * retries come 5, 30 and 120 ms apart, the dead letter after 259 s */
    time_scale = 1000.0;
    snprintf(ep, sizeof(ep), "http://127.0.0.1:%d/hook", r->port);
    sub_url(ep, NULL);
    ingest("k1");
    snprintf(down, sizeof(down), "http://127.0.0.1:%d", rx_down_port());
    start_dispatcher(down, false, false);

    cr_assert_geq(wait_for("SELECT count(*) FROM delivery_attempts WHERE "
                           "error = 'proxy_connect' AND outcome = 'retry'",
                           2, 15000), 2);
    cr_assert_eq(storetest_long(s, "SELECT count(*) FROM delivery_attempts "
                                "WHERE error IS DISTINCT FROM "
                                "'proxy_connect'"), 0);
    cr_assert_eq(rx_requests(r), 0);
    dispatch_stop(disp);
    disp = NULL;

    const char *const none[] = { NULL };
    proxy_start(&px, none);
    start_dispatcher(px.url, false, false);
    cr_assert_eq(wait_for("SELECT count(*) FROM delivery_state WHERE status "
                          "= 'delivered'", 1, 15000), 1);
    cr_assert_eq(rx_requests(r), 1);
    rx_stop(r);
}

/* An https endpoint through the proxy: the tunnel goes to the address,
 * TLS inside it to the name, verified against the subscription's CA
 * (another subscription without it fails "tls_verify": the check is on),
 * and the request arrives. */
Test(proxy, an_https_endpoint_is_verified_by_its_name_through_the_tunnel)
{
    char dir[] = "/tmp/hub-proxy-certs-XXXXXX", cmd[512], crt[300], key[300];
    char ca[300], ep[128], extra[400], want[64];
    const char *const none[] = { NULL };

    cr_assert_not_null(mkdtemp(dir));
    snprintf(cmd, sizeof(cmd), "'%s/certs/mkcerts.sh' '%s' cbo >/dev/null",
             testdb_root(), dir);
    cr_assert_eq(system(cmd), 0, "mkcerts.sh");
    snprintf(crt, sizeof(crt), "%s/server.crt", dir);
    snprintf(key, sizeof(key), "%s/server.key", dir);
    snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
    struct rx *r = rx_start_tls(RX_OK, SECRET, crt, key, NULL);
    cr_assert_not_null(r);
    proxy_start(&px, none);
    snprintf(ep, sizeof(ep), "https://localhost:%d/tls", r->port);
    snprintf(extra, sizeof(extra), ",\"ca_bundle\":\"%s\"", ca);
    const char *good = sub_url(ep, extra);
    snprintf(ep, sizeof(ep), "https://localhost:%d/noca", r->port);
    const char *noca = sub_url(ep, NULL);
    ingest("k1");
    start_dispatcher(px.url, false, false);

    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM delivery_state WHERE "
             "subscription_id = '%s' AND status = 'delivered'", good);
    cr_assert_eq(wait_for(sql, 1, 15000), 1);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM delivery_attempts a "
             "JOIN deliveries d ON d.id = a.delivery_id WHERE "
             "d.subscription_id = '%s' AND a.error = 'tls_verify'", noca);
    cr_assert_geq(wait_for(sql, 1, 15000), 1);
    cr_assert_eq(rx_requests(r), 1);
    cr_assert_eq(r->bad_sigs, 0);
    char *log = proxy_log(&px);
    snprintf(want, sizeof(want), "CONNECT 127.0.0.1:%d auth=no", r->port);
    cr_assert_not_null(strstr(log, want), "%s", log);
    cr_assert_null(strstr(log, "localhost"), "%s", log);
    free(log);
    rx_stop(r);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* An https:// proxy: TLS to the proxy, verified against webhook_proxy_ca
 * (without it, against the system's CAs, which do not know the test CA:
 * "proxy_tls", the proxy's, not the receiver's "tls"), the CONNECT inside
 * it to the checked address. */
Test(proxy, an_https_proxy_is_reached_over_tls_verified_by_its_ca)
{
    char dir[] = "/tmp/hub-proxy-certs-XXXXXX", cmd[512], crt[300], key[300];
    char ca[300], ep[128], purl[128], want[64];

    cr_assert_not_null(mkdtemp(dir));
    snprintf(cmd, sizeof(cmd), "'%s/certs/mkcerts.sh' '%s' cbo >/dev/null",
             testdb_root(), dir);
    cr_assert_eq(system(cmd), 0, "mkcerts.sh");
    snprintf(crt, sizeof(crt), "%s/server.crt", dir);
    snprintf(key, sizeof(key), "%s/server.key", dir);
    snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
    const char *const args[] = { "--tls", crt, key, NULL };
    struct rx *r = rx_start(RX_OK, SECRET);
    cr_assert_not_null(r);
    proxy_start(&px, args);
    snprintf(purl, sizeof(purl), "https://localhost:%d", px.port);
    snprintf(ep, sizeof(ep), "http://localhost:%d/hook", r->port);
    sub_url(ep, NULL);
    ingest("k1");

    start_dispatcher(purl, false, false);
    cr_assert_geq(wait_for("SELECT count(*) FROM delivery_attempts WHERE "
                           "error = 'proxy_tls'", 1, 15000), 1);
    cr_assert_eq(storetest_long(s, "SELECT count(*) FROM delivery_attempts "
                                "WHERE error IS DISTINCT FROM 'proxy_tls'"),
                 0);
    dispatch_stop(disp);
    disp = NULL;
    char *log = proxy_log(&px);
    cr_assert_str_eq(log, "", "a CONNECT before TLS was verified: %s", log);
    free(log);

    start_dispatcher_ca(purl, ca, false, false);
    cr_assert_eq(wait_for("SELECT count(*) FROM delivery_state WHERE status "
                          "= 'delivered'", 1, 15000), 1);
    cr_assert_eq(rx_requests(r), 1);
    cr_assert_eq(r->bad_sigs, 0);
    log = proxy_log(&px);
    snprintf(want, sizeof(want), "CONNECT 127.0.0.1:%d auth=no\n", r->port);
    cr_assert_str_eq(log, want, "%s", log);
    free(log);
    rx_stop(r);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* hubd with webhook_proxy = proxy_url (from its environment), a
 * subscription of cbo to receiver r's /hook, and its test event sent
 * (POST /v1/subscriptions/{id}/test answered 202). */
static void hub_sends_a_test_through(struct hubproc *hub,
                                     const char *proxy_url,
                                     const struct rx *r)
{
    struct http_resp resp;
    char body[512], path[sizeof(resp.location) + 8];

    setenv("HUB_WEBHOOK_PROXY", proxy_url, 1);
    setenv("HUB_DISPATCH_POLL_MS", "50", 1);
    int started = hub_start(hub, NULL, false);
    unsetenv("HUB_WEBHOOK_PROXY");
    cr_assert_eq(started, 0, "hubd did not start");

    snprintf(body, sizeof(body), "{\"url\":\"http://localhost:%d/hook\","
             "\"topics\":[\"screening.positive\"],\"secrets\":[\"" SECRET
             "\"]}", r->port);
    cr_assert_eq(http_call(hub, true, "POST", "/v1/subscriptions", "tok-cbo",
                           NULL, body, strlen(body), "application/json",
                           &resp), 0);
    cr_assert_eq(resp.status, 201, "%s", resp.body);
    snprintf(path, sizeof(path), "%s/test", resp.location);
    http_resp_free(&resp);
    cr_assert_eq(http_call(hub, true, "POST", path, "tok-cbo", NULL, "", 0,
                           "application/json", &resp), 0);
    cr_assert_eq(resp.status, 202, "%s", resp.body);
    http_resp_free(&resp);
}

/* hubd itself: webhook_proxy from its environment (credentials in the
 * URL), and POST /v1/subscriptions/{id}/test goes through the proxy as any
 * delivery; the proxy's password is in no line of hubd.log. */
Test(proxy, hubd_sends_the_subscription_test_through_the_proxy)
{
    struct hubproc hub;
    char env[160], want[64];
    const char *const auth[] = { "--auth", "hub:pr0xy-pw", NULL };
    struct rx *r = rx_start(RX_OK, SECRET);

    cr_assert_not_null(r);
    proxy_start(&px, auth);
    snprintf(env, sizeof(env), "http://hub:pr0xy-pw@127.0.0.1:%d", px.port);
    hub_sends_a_test_through(&hub, env, r);

    int64_t end = rx_now_ms() + 15000;
    while (rx_requests(r) < 1 && rx_now_ms() < end)
        usleep(20000);
    cr_assert_eq(rx_requests(r), 1);
    cr_assert_eq(r->bad_sigs, 0);
    char *log = proxy_log(&px);
    snprintf(want, sizeof(want), "CONNECT 127.0.0.1:%d auth=yes\n", r->port);
    cr_assert_str_eq(log, want, "the proxy was asked: %s", log);
    free(log);
    cr_assert(hub_wait_log(&hub, "proxy=http://127.0.0.1:", 1, 5000),
              "the proxy is named in the start line");
    cr_assert_eq(hub_log_count(&hub, "pr0xy-pw"), 0,
                 "the proxy's password is in hubd.log");
    hub_cleanup(&hub);
    rx_stop(r);
}

/* A proxy that refuses the tunnel (407: hubd has no credentials for it) is
 * counted in /metrics as hub_webhook_failures_total{reason="proxy"}, so
 * on-call tells the hub's way out from a partner's endpoint. */
Test(proxy, a_proxy_refusal_is_counted_as_a_proxy_failure)
{
    struct hubproc hub;
    struct http_resp resp;
    char env[160];
    const char *const auth[] = { "--auth", "hub:pr0xy-pw", NULL };
    struct rx *r = rx_start(RX_OK, SECRET);

    cr_assert_not_null(r);
    proxy_start(&px, auth);
    snprintf(env, sizeof(env), "http://127.0.0.1:%d", px.port);
    hub_sends_a_test_through(&hub, env, r);

    const char *pat = "hub_webhook_failures_total{reason=\"proxy\"} ";
    unsigned long long n = 0;
    int64_t end = rx_now_ms() + 15000;
    while (n == 0 && rx_now_ms() < end) {
        usleep(50000);
        cr_assert_eq(http_call(&hub, true, "GET", "/metrics", NULL, NULL,
                               NULL, 0, NULL, &resp), 0);
        const char *p = strstr(resp.body, pat);
        cr_assert_not_null(p, "%s", resp.body);
        n = strtoull(p + strlen(pat), NULL, 10);
        http_resp_free(&resp);
    }
    cr_assert_geq(n, 1, "no failure counted as the proxy's");
    cr_assert_eq(rx_requests(r), 0, "delivered past a refusing proxy");
    hub_cleanup(&hub);
    rx_stop(r);
}

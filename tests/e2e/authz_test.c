/*
 * authz_test.c - the HTTPS API and MLLP as another organization sees them:
 * each route with a partner's credentials against the objects of another
 * (subscriptions, deliveries, replays, the feed, the audit trail), tokens
 * that lack the scope, expired or revoked ones, a client certificate bound
 * to another organization, no credentials; and hostile bodies that must be
 * bounded before they are looked at.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/hub_err.h"
#include "store.h"
#include "../lib/hubproc.h"
#include "../lib/webhook_rx.h"

#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

static struct hubproc hub;

static void add_token(struct store *s, const char *org, const char *token,
                      const char *prefix, unsigned scopes)
{
    char sha[65];
    store_sha256_hex(token, strlen(token), sha);
    cr_assert_eq(store_token_add(s, "test", org, sha, prefix, scopes, 0),
                 HUB_OK, "%s", prefix);
}

/* hosp and cbo as hub_start seeds them, plus: an operator (tok-ops), a
 * token of hosp narrowed to ingest (tok-hosp-in), the client certificate
 * "cbo" bound to cbo */
static void start_with(bool via_proxy)
{
    struct store *s;
    char fp[128];
    FILE *f;

    evthread_use_pthreads();
    setenv("HUB_TIME_SCALE", "1000", 1);
    setenv("HUB_DISPATCH_POLL_MS", "50", 1);
    cr_assert_eq(hub_start(&hub, NULL, via_proxy), 0, "hubd did not start");
    cr_assert_eq(store_connect(hub.db_url, &s), HUB_OK);
    cr_assert_eq(store_org_add(s, "test", "ops", "Operator", "operator",
                               SCOPE_ADMIN), HUB_OK);
    add_token(s, "ops", "tok-ops", "ops-t1", SCOPE_ADMIN);
    add_token(s, "hosp", "tok-hosp-in", "hosp-t2", SCOPE_INGEST);
    f = fopen(hub_path(&hub, "certs/cbo.fp"), "r");
    cr_assert_not_null(f);
    cr_assert_not_null(fgets(fp, sizeof(fp), f));
    fclose(f);
    fp[strcspn(fp, "\n")] = '\0';
    cr_assert_eq(store_cert_bind(s, "test", "cbo", fp), HUB_OK);
    store_free(s);
}

static void start(void)
{
    start_with(false);
}

/* hubd reaches the database through a proxy the test can take away */
static void start_proxied(void)
{
    start_with(true);
}

static void stop(void)
{
    hub_cleanup(&hub);
}

/* a call with a token (or, when cert is set, a client certificate) */
static long call_as(const char *method, const char *path, const char *token,
                    const char *cert, const char *body, struct http_resp *r)
{
    cr_assert_eq(http_call(&hub, true, method, path, token, cert, body,
                           body ? strlen(body) : 0, "application/json", r),
                 0, "%s %s", method, path);
    return r->status;
}

static long call(const char *method, const char *path, const char *token,
                 const char *body, struct http_resp *r)
{
    return call_as(method, path, token, NULL, body, r);
}

/* the status only */
static long status_of(const char *method, const char *path,
                      const char *token, const char *cert, const char *body)
{
    struct http_resp r;
    long st = call_as(method, path, token, cert, body, &r);
    http_resp_free(&r);
    return st;
}

static long audit_rows(void)
{
    return hub_sql_long(&hub, "SELECT count(*) FROM audit");
}

/*
 * hosp owns a webhook subscription with a delivered delivery; cbo, by
 * token and by its client certificate, reaches none of it through any
 * route: not found (or an empty list), nothing changed, nothing audited
 * in hosp's name or about hosp's objects.
 */
Test(authz, another_organizations_objects_are_not_found_by_any_route,
     .init = start, .fini = stop, .timeout = 90)
{
    struct http_resp r;
    struct rx *rx = rx_start(RX_OK, SECRET);
    char body[512], sub[80], dlv[40], path[200], event[80];

    cr_assert_not_null(rx);
    snprintf(body, sizeof(body),
             "{\"url\":\"http://127.0.0.1:%d/hook\",\"topics\":[\"adt.*\"],"
             "\"secrets\":[\"" SECRET "\"]}", rx->port);
    cr_assert_eq(call("POST", "/v1/subscriptions", "tok-hosp", body, &r), 201,
                 "%s", r.body);
    hub_json_str(r.body, "id", sub, sizeof(sub));
    http_resp_free(&r);

    struct mllp_client c;
    char msg[2048], ack[4096];
    hl7_sample(msg, sizeof(msg), "AUTHZ-1", "MRN-Z1");
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    cr_assert_eq(mllp_send(&c, msg), 0);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
    mllp_close(&c);
    int64_t end = rx_now_ms() + 15000;
    while (hub_sql_long(&hub, "SELECT count(*) FROM delivery_state WHERE "
                        "status = 'delivered'") < 1 && rx_now_ms() < end)
        usleep(20000);
    cr_assert_eq(rx_requests(rx), 1);
    snprintf(dlv, sizeof(dlv), "%s", rx->ids[0]);
    cr_assert_eq(call("GET", "/v1/events", "tok-hosp", NULL, &r), 200);
    hub_json_str(r.body, "id", event, sizeof(event));
    http_resp_free(&r);

    long audit_before = audit_rows();
    static const char *const as[][2] = { { "tok-cbo", NULL },
                                         { NULL, "cbo" } };
    for (size_t k = 0; k < 2; k++) {
        const char *tok = as[k][0], *cert = as[k][1];
        snprintf(path, sizeof(path), "/v1/subscriptions/%s", sub);
        cr_expect_eq(status_of("GET", path, tok, cert, NULL), 404, "%zu", k);
        cr_expect_eq(status_of("PATCH", path, tok, cert,
                               "{\"url\":\"http://127.0.0.1:1/x\"}"), 404);
        cr_expect_eq(status_of("DELETE", path, tok, cert, NULL), 404);
        static const char *const acts[] = { "pause", "resume", "test" };
        for (size_t i = 0; i < 3; i++) {
            snprintf(path, sizeof(path), "/v1/subscriptions/%s/%s", sub,
                     acts[i]);
            cr_expect_eq(status_of("POST", path, tok, cert, ""), 404, "%s",
                         acts[i]);
        }
        cr_assert_eq(call_as("GET", "/v1/subscriptions", tok, cert, NULL,
                             &r), 200);
        cr_expect_null(strstr(r.body, sub), "%s", r.body);
        http_resp_free(&r);

        /* 404 as for none: nothing said of another's (F3129) */
        snprintf(path, sizeof(path), "/v1/deliveries?subscription=%s", sub);
        cr_assert_eq(call_as("GET", path, tok, cert, NULL, &r), 404);
        cr_expect_null(strstr(r.body, dlv), "%s", r.body);
        struct http_resp none;
        cr_assert_eq(call_as("GET", "/v1/deliveries?subscription=sub_"
                             "0123456789abcdef0123456789abcdef", tok, cert,
                             NULL, &none), 404);
        cr_expect_str_eq(r.body, none.body);
        http_resp_free(&none);
        http_resp_free(&r);
        cr_assert_eq(call_as("GET", "/v1/deliveries?status=delivered", tok,
                             cert, NULL, &r), 200);
        cr_expect_null(strstr(r.body, dlv), "%s", r.body);
        http_resp_free(&r);
        snprintf(path, sizeof(path), "/v1/deliveries/%s/replay", dlv);
        cr_expect_eq(status_of("POST", path, tok, cert, ""), 404);
        snprintf(body, sizeof(body), "{\"subscription\":\"%s\",\"from\":"
                 "\"2000-01-01T00:00:00Z\",\"to\":\"2100-01-01T00:00:00Z\","
                 "\"status\":\"delivered\"}", sub);
        cr_expect_eq(status_of("POST", "/v1/deliveries/replay", tok, cert,
                               body), 404,
                     "another organization's subscription is not found");

        cr_assert_eq(call_as("GET", "/v1/events", tok, cert, NULL, &r), 200);
        cr_expect_null(strstr(r.body, event), "%s", r.body);
        http_resp_free(&r);
        cr_expect_eq(status_of("GET", "/v1/audit?patient=x", tok, cert,
                               NULL), 403);
        cr_expect_eq(status_of("GET", "/v1/audit/verify", tok, cert, NULL),
                     403);
        snprintf(path, sizeof(path), "/v1/subscriptions?org=hosp");
        cr_expect_eq(status_of("POST", path, tok, cert, "{\"mode\":\"pull\","
                               "\"topics\":[\"*\"]}"), 403);
    }
    /* nothing happened to hosp's objects, and the feed reads of cbo are
     * the only audit rows (one each, about no event of hosp's) */
    cr_expect_eq(audit_rows() - audit_before, 2,
                 "only cbo's two feed reads are audited");
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM audit WHERE "
                              "actor = 'cbo' AND object_id LIKE 'sub_%'"),
                 0);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM subscriptions "
                              "WHERE status = 'active' AND deleted_at IS "
                              "NULL AND url LIKE '%/hook'"), 1);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM deliveries WHERE "
                              "replays > 0"), 0);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events WHERE "
                              "type = 'hub.test'"), 0);
    rx_stop(rx);
}

/*
 * A token narrowed to ingest opens no subscribe route; an expired token
 * and a revoked one (after auth_cache_ttl, 1 s here) open nothing; no
 * credentials open nothing but the public routes.
 */
Test(authz, scopes_expiry_and_revocation_bound_every_route, .init = start,
     .fini = stop, .timeout = 60)
{
    static const char *const routes[][2] = {
        { "GET", "/v1/subscriptions" },
        { "POST", "/v1/subscriptions" },
        { "GET", "/v1/subscriptions/sub_00" },
        { "PATCH", "/v1/subscriptions/sub_00" },
        { "DELETE", "/v1/subscriptions/sub_00" },
        { "POST", "/v1/subscriptions/sub_00/pause" },
        { "POST", "/v1/subscriptions/sub_00/resume" },
        { "POST", "/v1/subscriptions/sub_00/test" },
        { "GET", "/v1/deliveries" },
        { "POST", "/v1/deliveries/dlv_1/replay" },
        { "POST", "/v1/deliveries/replay" },
        { "GET", "/v1/events" },
        { "GET", "/v1/audit?patient=x" },
        { "GET", "/v1/audit/verify" },
        { "POST", "/v1/hl7v2" },
        { "POST", "/v1/fhir" },
        { "POST", "/v1/ccda" },
        { "POST", "/v1/csv/screenings" },
    };
    size_t n = sizeof(routes) / sizeof(routes[0]);

    for (size_t i = 0; i < n; i++) {
        const char *m = routes[i][0], *p = routes[i][1];
        bool ingest = strncmp(p, "/v1/subscriptions", 17) != 0 &&
                      strncmp(p, "/v1/deliveries", 14) != 0 &&
                      strncmp(p, "/v1/events", 10) != 0 &&
                      strncmp(p, "/v1/audit", 9) != 0;
        bool admin = strncmp(p, "/v1/audit", 9) == 0;
        cr_expect_eq(status_of(m, p, NULL, NULL, "{}"), 401, "%s %s", m, p);
        cr_expect_eq(status_of(m, p, "tok-nobody", NULL, "{}"), 401, "%s %s",
                     m, p);
        if (!ingest)
            cr_expect_eq(status_of(m, p, "tok-hosp-in", NULL, "{}"), 403,
                         "%s %s", m, p);
        if (ingest || admin)
            cr_expect_eq(status_of(m, p, "tok-cbo", NULL, "{}"), 403,
                         "%s %s", m, p);
    }
    cr_expect_eq(status_of("GET", "/healthz", NULL, NULL, NULL), 200);

    /* expired: as if revoked */
    cr_assert_eq(status_of("GET", "/v1/events", "tok-cbo", NULL, NULL), 200);
    cr_assert_eq(hub_sql_long(&hub, "WITH u AS (UPDATE api_tokens SET "
                              "expires_at = now() - interval '1 second' "
                              "WHERE prefix = 'cbo-t1' RETURNING 1) "
                              "SELECT count(*) FROM u"), 1);
    usleep(1300 * 1000);            /* auth_cache_ttl = 1 */
    cr_expect_eq(status_of("GET", "/v1/events", "tok-cbo", NULL, NULL), 401);
    /* the certificate of cbo still works, and is cbo's */
    cr_expect_eq(status_of("GET", "/v1/events", NULL, "cbo", NULL), 200);
    cr_expect_eq(status_of("POST", "/v1/hl7v2", NULL, "cbo", "x"), 403);
    /* revoked */
    struct store *s;
    cr_assert_eq(status_of("GET", "/v1/events", "tok-hosp", NULL, NULL), 200);
    cr_assert_eq(store_connect(hub.db_url, &s), HUB_OK);
    char sha[65];
    store_sha256_hex("tok-hosp", 8, sha);
    sha[12] = '\0';                 /* a prefix of its hash */
    cr_assert_eq(store_token_revoke(s, "test", sha), HUB_OK);
    store_free(s);
    usleep(1300 * 1000);
    cr_expect_eq(status_of("GET", "/v1/events", "tok-hosp", NULL, NULL), 401);
    cr_expect_eq(hub_log_count(&hub, "tok-"), 0, "no token in the log");
}

/* An MLLP over TLS connection as hosp, one message of it acknowledged
 * (key), then hosp's certificate binding revoked behind its back. */
static void open_then_revoke(struct mllp_client *c, const char *key)
{
    struct store *s;
    char msg[2048], ack[4096], fp[128], code[3], ctrl[32];
    FILE *f;

    cr_assert_eq(mllp_connect(c, hub.mllps, &hub, "hosp"), 0);
    hl7_sample(msg, sizeof(msg), key, "MRN-R1");
    cr_assert_eq(mllp_send(c, msg), 0);
    cr_assert_gt(mllp_read(c, ack, sizeof(ack), 10000), 0);
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_assert_str_eq(code, "AA");

    f = fopen(hub_path(&hub, "certs/hosp.fp"), "r");
    cr_assert_not_null(f);
    cr_assert_not_null(fgets(fp, sizeof(fp), f));
    fclose(f);
    fp[strcspn(fp, "\n")] = '\0';
    cr_assert_eq(store_connect(hub.db_url, &s), HUB_OK);
    cr_assert_eq(store_cert_revoke(s, "test", fp), HUB_OK);
    store_free(s);
}

/*
 * An MLLP over TLS connection is authenticated by its client certificate
 * at the handshake; a sender that keeps its connection busy must not keep
 * an identity revoked since. Once the binding is revoked (auth_cache_ttl
 * is 1 s here) the next frame is not taken: no ACK, nothing stored, the
 * connection closed.
 */
Test(authz, a_revoked_certificate_ends_an_open_mllp_tls_connection,
     .init = start, .fini = stop, .timeout = 60)
{
    struct mllp_client c;
    char msg[2048], ack[4096];

    open_then_revoke(&c, "REVOKE-1");
    usleep(2300 * 1000);            /* the cache's 1 s, and a second */

    hl7_sample(msg, sizeof(msg), "REVOKE-2", "MRN-R2");
    cr_assert_eq(mllp_send(&c, msg), 0);
    cr_expect_leq(mllp_read(&c, ack, sizeof(ack), 5000), 0,
                  "no answer after the revocation: %s", ack);
    mllp_close(&c);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "idem_key = 'REVOKE-2'"), 0);
    cr_expect(hub_wait_log(&hub, "mllp.auth_refused", 1, 5000));
    /* a new connection is refused at once */
    if (mllp_connect(&c, hub.mllps, &hub, "hosp") == 0) {
        (void)mllp_send(&c, msg);
        cr_expect_leq(mllp_read(&c, ack, sizeof(ack), 5000), 0);
        mllp_close(&c);
    }
}

/*
 * A look-up again that cannot tell (the database away, or the look-ups
 * at their cap) must not let frames in under an identity revoked
 * meanwhile: they wait for an answer. Revoked, then the database taken
 * away past the cache's second: the frame sent then is not taken, and
 * once the database is back the look-up refuses the connection; the
 * frame is never stored nor acknowledged (F235).
 */
Test(authz, a_frame_waits_while_the_certificate_cannot_be_looked_up,
     .init = start_proxied, .fini = stop, .timeout = 60)
{
    struct mllp_client c;
    char msg[2048], ack[4096];

    open_then_revoke(&c, "REVOKE-DB-1");
    dbproxy_set_down(hub.proxy, true);
    usleep(2300 * 1000);            /* the cache's 1 s, and a second */

    hl7_sample(msg, sizeof(msg), "REVOKE-DB-2", "MRN-R2");
    cr_assert_eq(mllp_send(&c, msg), 0);
    cr_expect_leq(mllp_read(&c, ack, sizeof(ack), 2500), 0,
                  "no answer while the database is away: %s", ack);
    dbproxy_set_down(hub.proxy, false);
    cr_expect_leq(mllp_read(&c, ack, sizeof(ack), 8000), 0,
                  "no answer once the look-up refuses: %s", ack);
    mllp_close(&c);
    cr_expect(hub_wait_log(&hub, "mllp.auth_refused", 1, 5000));
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "idem_key = 'REVOKE-DB-2'"), 0,
                 "the frame sent after the revocation is not stored");
}

/*
 * POST /v1/deliveries/replay takes five short members; its body is bounded
 * before it is parsed: a body of max_body bytes of JSON (millions of
 * values, parsed into a tree on the thread that serves every connection)
 * is refused unread, and the hub answers the next request at once.
 */
Test(authz, a_replay_body_is_bounded_before_it_is_parsed, .init = start,
     .fini = stop, .timeout = 60)
{
    struct http_resp r;
    size_t n = 15u << 20;
    char *big = malloc(n + 1);

    cr_assert_not_null(big);
    memcpy(big, "{\"x\":[", 6);
    for (size_t i = 6; i + 2 < n; i += 2)
        memcpy(big + i, "0,", 2);
    memcpy(big + n - 3, "0]}", 3);
    big[n] = '\0';
    int64_t t0 = rx_now_ms();
    cr_assert_eq(http_call(&hub, true, "POST", "/v1/deliveries/replay",
                           "tok-cbo", NULL, big, n, "application/json", &r),
                 0);
    int64_t ms = rx_now_ms() - t0;
    free(big);
    cr_expect_eq(r.status, 413, "%s (%lld ms)", r.body, (long long)ms);
    cr_expect_not_null(strstr(r.body, "\"field\":\"body\""), "%s", r.body);
    http_resp_free(&r);
    /* the same members, in a body of ordinary size, are still read */
    cr_assert_eq(call("POST", "/v1/deliveries/replay", "tok-cbo",
                      "{\"subscription\":\"sub_00\",\"from\":\"2000-01-01\","
                      "\"to\":\"2100-01-01\"}", &r), 404, "%s", r.body);
    http_resp_free(&r);
}

/* GET /v1/events with `token` on a plain HTTP connection of its own; the
 * answer is not read here */
static int send_unanswered(int port, const char *token)
{
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port) };
    char req[256];
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_geq(fd, 0);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    int n = snprintf(req, sizeof(req), "GET /v1/events HTTP/1.1\r\n"
                     "Host: localhost\r\nAuthorization: Bearer %s\r\n\r\n",
                     token);
    cr_assert_eq(write(fd, req, (size_t)n), n);
    return fd;
}

/* the status of the answer on fd within ms, 0 when none came */
static int status_within(int fd, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    char buf[64] = "";

    if (poll(&p, 1, ms) != 1 || read(fd, buf, sizeof(buf) - 1) < 12)
        return 0;
    return (int)strtol(buf + 9, NULL, 10);
}

/* api_tokens locked in *lock's open transaction, then `n` distinct
 * unknown tokens sent, each on a plain HTTP connection of its own (fds,
 * unanswered while the lock holds), then probes with more until one is
 * refused at once. Returns the status that last probe got: 503 once the
 * look-ups are at their cap. */
static int flood_lookups(struct store **lock, int *fds, int n)
{
    char tok[32];
    int got = 0;

    cr_assert_eq(store_connect(hub.db_url, lock), HUB_OK);
    cr_assert_eq(store_exec(*lock, "BEGIN"), HUB_OK);
    cr_assert_eq(store_exec(*lock, "LOCK TABLE api_tokens IN ACCESS "
                            "EXCLUSIVE MODE"), HUB_OK);
    for (int i = 0; i < n; i++) {
        snprintf(tok, sizeof(tok), "tok-flood-%d", i);
        fds[i] = send_unanswered(hub.http, tok);
    }
    int64_t end = rx_now_ms() + 20000;
    for (int i = 0; got != 503 && rx_now_ms() < end; i++) {
        snprintf(tok, sizeof(tok), "tok-probe-%d", i);
        int fd = send_unanswered(hub.http, tok);
        got = status_within(fd, 500);
        close(fd);
    }
    return got;
}

/*
 * Sending a token takes no credentials, and each unknown one is a query:
 * while the database is slow to answer them (here: api_tokens locked), a
 * flood of distinct tokens waits in at most 256 look-ups, and the next
 * one is answered 503 at once instead of queueing ahead of every
 * partner's database work.
 */
Test(authz, a_flood_of_unknown_tokens_waits_in_a_bounded_number_of_lookups,
     .init = start, .fini = stop, .timeout = 90)
{
    enum { FLOOD = 256 };
    static int fds[FLOOD];
    struct store *lock;

    cr_expect_eq(flood_lookups(&lock, fds, FLOOD), 503,
                 "a look-up past the bound is refused at once");
    cr_assert_eq(store_exec(lock, "COMMIT"), HUB_OK);
    store_free(lock);
    /* those that waited are answered once the database answers */
    cr_expect_eq(status_within(fds[0], 10000), 401);
    for (int i = 0; i < FLOOD; i++)
        close(fds[i]);
    cr_expect_eq(status_of("GET", "/v1/events", "tok-cbo", NULL, NULL), 200);
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * A credential is cached auth_cache_ttl seconds from its look-up, whatever
 * second of the wall clock it was looked up in (F580: the entry ended when
 * time() next turned, so with auth_cache_ttl = 1, as here, a token looked
 * up late in a second was looked up again a few milliseconds later, on a
 * database worker; behind a worker held by a lock, an HTTPS request went
 * unanswered while the same token had just been served). tok-cbo looked up
 * 200 ms before a second turns, api_tokens then locked: 300 ms later,
 * in the next second, tok-cbo is still served at once, from the cache.
 */
Test(authz, a_credential_is_cached_for_its_whole_ttl_across_a_second,
     .init = start, .fini = stop, .timeout = 60)
{
    struct store *lock;

    usleep(500 * 1000);             /* the seeding's flushes heard */
    cr_assert_eq(store_connect(hub.db_url, &lock), HUB_OK);
    usleep((useconds_t)((1800 - wall_ms() % 1000) % 1000) * 1000);
    int64_t asked = wall_ms();      /* .800 of a second */
    int fd = send_unanswered(hub.http, "tok-cbo");
    cr_assert_eq(status_within(fd, 2000), 200);
    close(fd);
    cr_assert_eq(store_exec(lock, "BEGIN"), HUB_OK);
    cr_assert_eq(store_exec(lock, "LOCK TABLE api_tokens IN ACCESS "
                            "EXCLUSIVE MODE"), HUB_OK);
    int64_t next = asked - asked % 1000 + 1100;     /* .100 of the next */
    if (wall_ms() < next)
        usleep((useconds_t)(next - wall_ms()) * 1000);
    int64_t age = wall_ms() - asked;
    fd = send_unanswered(hub.http, "tok-cbo");
    int got = status_within(fd, 2000);
    close(fd);
    cr_assert_eq(store_exec(lock, "COMMIT"), HUB_OK);
    store_free(lock);
    cr_assert_lt(age, 800, "too slow to tell: %lld ms", (long long)age);
    cr_expect_eq(got, 200, "a cached token waited for a look-up (%d)", got);
}

/*
 * Such a flood must not cut a hospital's feed off (F236). A certificate
 * is looked up only once the partners' CA has vouched for it in the
 * handshake, so only a partner makes certificate look-ups: an MLLP over
 * TLS connection's look-up past the cap waits for the next slot, ahead of
 * any token, where it was refused as busy and the connection closed. The
 * cap held full by unknown tokens (api_tokens locked), hosp connects
 * (its binding not cached yet) and sends a frame: the connection stays
 * open and unanswered while tokens are still refused 503, and the frame
 * is answered AA once the database answers.
 */
Test(authz, a_certificate_lookup_waits_through_a_flood_of_unknown_tokens,
     .init = start, .fini = stop, .timeout = 90)
{
    enum { FLOOD = 256 };
    static int fds[FLOOD];
    struct store *lock;
    struct mllp_client c;
    char msg[2048], ack[4096], code[3], ctrl[64];

    cr_assert_eq(flood_lookups(&lock, fds, FLOOD), 503,
                 "the look-ups are at their cap");
    cr_assert_eq(mllp_connect(&c, hub.mllps, &hub, "hosp"), 0);
    hl7_sample(msg, sizeof(msg), "FLOOD-CERT-1", "MRN-F1");
    cr_assert_eq(mllp_send(&c, msg), 0);
    cr_expect_eq(mllp_read(&c, ack, sizeof(ack), 1500), -1,
                 "neither closed nor answered while its look-up waits");
    int fd = send_unanswered(hub.http, "tok-probe-after");
    cr_expect_eq(status_within(fd, 2000), 503,
                 "a token still finds the look-ups at their cap");
    close(fd);
    /* a sender that gives up while its look-up waits is closed at once
     * (its look-up dropped: under ASan, nothing is left that points to
     * the connection) */
    struct mllp_client gone;
    cr_assert_eq(mllp_connect(&gone, hub.mllps, &hub, "hosp"), 0);
    cr_assert_eq(mllp_send(&gone, msg), 0);
    usleep(300 * 1000);
    mllp_close(&gone);
    cr_expect(hub_wait_log(&hub, "why=eof", 1, 5000));
    cr_assert_eq(store_exec(lock, "COMMIT"), HUB_OK);
    store_free(lock);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 15000), 0,
                 "the frame is answered once the database answers");
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AA");
    cr_expect_str_eq(ctrl, "FLOOD-CERT-1");
    mllp_close(&c);
    cr_expect_eq(hub_log_count(&hub, "mllp.auth_refused"), 0);
    cr_expect_eq(status_within(fds[0], 10000), 401);
    for (int i = 0; i < FLOOD; i++)
        close(fds[i]);
}

/* POST /v1/hl7v2 of one HL7 message on c (TLS to the HTTPS port with a
 * client certificate, no token) */
static void post_hl7_raw(struct mllp_client *c, const char *control_id)
{
    char msg[2048], req[3072];

    hl7_sample(msg, sizeof(msg), control_id, "MRN-F340");
    int n = snprintf(req, sizeof(req), "POST /v1/hl7v2 HTTP/1.1\r\n"
                     "Host: hub\r\nContent-Type: x-application/hl7-v2+er7"
                     "\r\nContent-Length: %zu\r\n\r\n%s", strlen(msg), msg);
    cr_assert_eq(mllp_send_raw(c, req, (size_t)n), 0);
}

/*
 * The same flood must not cut off a hospital that posts over HTTPS with
 * its client certificate either (F340): the request's certificate
 * look-up (binding not cached) waits for a slot, ahead of tokens, where
 * it was answered 503. While the cap is full it is unanswered and tokens
 * are still 503; once the database answers it is 202, and so is a second
 * request pipelined behind it. A client that goes while its request
 * waits leaves hubd serving (under ASan: nothing touches a freed
 * request).
 */
Test(authz, an_https_certificate_lookup_waits_through_a_flood_of_tokens,
     .init = start, .fini = stop, .timeout = 90)
{
    enum { FLOOD = 256 };
    static int fds[FLOOD];
    struct store *lock;
    struct mllp_client c, gone;
    char resp[8192];

    cr_assert_eq(flood_lookups(&lock, fds, FLOOD), 503,
                 "the look-ups are at their cap");
    cr_assert_eq(mllp_connect(&c, hub.https, &hub, "hosp"), 0);
    /* two requests pipelined: evhttp reads the second only once the
     * first is answered, so a connection has one look-up out at most */
    post_hl7_raw(&c, "HTTPS-CERT-1");
    post_hl7_raw(&c, "HTTPS-CERT-2");
    usleep(1500 * 1000);
    cr_expect(!mllp_readable(&c), "neither closed nor answered while its "
              "look-up waits");
    int fd = send_unanswered(hub.http, "tok-probe-after");
    cr_expect_eq(status_within(fd, 2000), 503,
                 "a token still finds the look-ups at their cap");
    close(fd);
    cr_assert_eq(mllp_connect(&gone, hub.https, &hub, "hosp"), 0);
    post_hl7_raw(&gone, "HTTPS-CERT-GONE");
    usleep(300 * 1000);
    mllp_close(&gone);
    cr_assert_eq(store_exec(lock, "COMMIT"), HUB_OK);
    store_free(lock);
    cr_assert_gt(http_raw_response(&c, resp, sizeof(resp), 15000), 0,
                 "answered once the database answers");
    cr_expect(strncmp(resp, "HTTP/1.1 202 ", 13) == 0, "%.200s", resp);
    cr_assert_gt(http_raw_response(&c, resp, sizeof(resp), 15000), 0,
                 "the pipelined request is answered after it");
    cr_expect(strncmp(resp, "HTTP/1.1 202 ", 13) == 0, "%.200s", resp);
    mllp_close(&c);
    cr_expect_eq(status_within(fds[0], 10000), 401);
    for (int i = 0; i < FLOOD; i++)
        close(fds[i]);
    /* hubd still serves; the request of the client that went was whole
     * and is served like one whose client goes while it is stored (evhttp
     * 2.1 does not read, so does not see, a close meanwhile): three kept,
     * and a re-send would be a duplicate by its MSH-10 */
    long kept = 0;
    for (int i = 0; i < 250 && kept < 3; i++) {
        usleep(20 * 1000);
        kept = hub_sql_long(&hub, "select count(*) from messages where "
                            "org_id = 'hosp'");
    }
    cr_expect_eq(kept, 3, "kept %ld", kept);
    cr_expect_eq(status_of("GET", "/v1/events", "tok-cbo", NULL, NULL), 200);
    /* and stops cleanly (under ASan: no error, no leak at exit) */
    cr_expect_eq(hub_stop(&hub), 0);
}

/* hubd with a drain of 1 s (shutdown_timeout 0 and its second) */
static void start_short_drain(void)
{
    evthread_use_pthreads();
    cr_assert_eq(hub_start(&hub, "shutdown_timeout = 0", false), 0,
                 "hubd did not start");
}

/*
 * A token's look-up still out when the drain's deadline ends hubd's loop
 * (the database slow at shutdown: api_tokens locked) is answered while
 * the pool stops, after the ingest pipeline was freed: its handler must
 * submit nothing, where it reached the freed pipeline (F391; under ASan
 * a use after free in ingest_has_room), and hubd exits cleanly.
 */
Test(authz, a_lookup_answered_after_the_loop_ended_submits_nothing,
     .init = start_short_drain, .fini = stop, .timeout = 60)
{
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_port = htons((uint16_t)hub.http) };
    struct store *lock;
    char msg[2048], req[3072];

    cr_assert_eq(store_connect(hub.db_url, &lock), HUB_OK);
    cr_assert_eq(store_exec(lock, "BEGIN"), HUB_OK);
    cr_assert_eq(store_exec(lock, "LOCK TABLE api_tokens IN ACCESS "
                            "EXCLUSIVE MODE"), HUB_OK);
    hl7_sample(msg, sizeof(msg), "DRAIN-LOOKUP-1", "MRN-F391");
    int n = snprintf(req, sizeof(req), "POST /v1/hl7v2 HTTP/1.1\r\n"
                     "Host: localhost\r\nAuthorization: Bearer tok-hosp\r\n"
                     "Content-Type: x-application/hl7-v2+er7\r\n"
                     "Content-Length: %zu\r\n\r\n%s", strlen(msg), msg);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_geq(fd, 0);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(write(fd, req, (size_t)n), n);
    usleep(500 * 1000);             /* read, its look-up out */
    cr_assert_eq(kill(hub.pid, SIGTERM), 0);
    cr_expect(hub_wait_log(&hub, "hubd.drained", 1, 10000));
    usleep(300 * 1000);             /* the loop has ended */
    cr_assert_eq(store_exec(lock, "COMMIT"), HUB_OK);
    store_free(lock);
    cr_expect_eq(hub_wait(&hub, 20000), 0, "hubd exits cleanly");
    close(fd);
    cr_expect_eq(hub_sql_long(&hub, "select count(*) from messages"), 0,
                 "nothing taken after the pipeline stopped");
}

/*
 * A token's look-up still out at the drain's deadline: the request is
 * answered 503 (retry later) there, so its handler must not run when the
 * look-up comes back. In the flush that writes that answer it ran with the
 * request detached (no method, no body), and a body-less mutation such as
 * a delivery's replay was done after the client had been told to retry it
 * (and done again on the retry): seen here as the replay's statement
 * waiting on a lock held on deliveries. After the loop had ended
 * (dbpool_free's last answers) its statement was refused and its answer
 * scheduled on the loop that no longer runs: the request leaked (under
 * ASan, hubd does not exit cleanly).
 */
static void answered_at_the_deadline(bool after_the_loop)
{
    static const char req[] = "POST /v1/deliveries/dlv_1/replay HTTP/1.1\r\n"
                              "Host: localhost\r\n"
                              "Authorization: Bearer tok-cbo\r\n"
                              "Content-Length: 0\r\n\r\n";
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_port = htons((uint16_t)hub.http) };
    struct store *tokens, *deliveries;
    long waiting = 0;

    cr_assert_eq(store_connect(hub.db_url, &tokens), HUB_OK);
    cr_assert_eq(store_connect(hub.db_url, &deliveries), HUB_OK);
    cr_assert_eq(store_exec(deliveries, "BEGIN"), HUB_OK);
    cr_assert_eq(store_exec(deliveries, "LOCK TABLE deliveries IN ACCESS "
                            "EXCLUSIVE MODE"), HUB_OK);
    cr_assert_eq(store_exec(tokens, "BEGIN"), HUB_OK);
    cr_assert_eq(store_exec(tokens, "LOCK TABLE api_tokens IN ACCESS "
                            "EXCLUSIVE MODE"), HUB_OK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_geq(fd, 0);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(write(fd, req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
    usleep(500 * 1000);             /* read, its look-up out */
    cr_assert_eq(kill(hub.pid, SIGTERM), 0);
    cr_assert(hub_wait_log(&hub, "answered_busy=1", 1, 10000));
    /* the look-up comes back within the flush (the loop still runs), or
     * once the loop has ended (the flush is 250 ms) */
    if (after_the_loop)
        usleep(400 * 1000);
    cr_assert_eq(store_exec(tokens, "COMMIT"), HUB_OK);
    store_free(tokens);
    cr_expect_eq(status_within(fd, 2000), 503, "answered at the deadline");
    for (int i = 0; i < 20 && waiting == 0; i++) {
        usleep(50 * 1000);
        waiting = hub_sql_long(&hub, "select count(*) from pg_locks where "
                               "relation = 'deliveries'::regclass and "
                               "not granted");
    }
    cr_expect_eq(waiting, 0, "the replay ran after its 503");
    cr_assert_eq(store_exec(deliveries, "COMMIT"), HUB_OK);
    store_free(deliveries);
    cr_expect_eq(hub_wait(&hub, 20000), 0, "hubd exits cleanly");
    close(fd);
}

Test(authz, a_request_answered_at_the_deadline_runs_no_handler_after,
     .init = start_short_drain, .fini = stop, .timeout = 60)
{
    answered_at_the_deadline(false);
}

Test(authz, a_request_answered_at_the_deadline_runs_no_handler_after_the_loop,
     .init = start_short_drain, .fini = stop, .timeout = 60)
{
    answered_at_the_deadline(true);
}

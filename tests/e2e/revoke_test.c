/*
 * revoke_test.c - a revoked credential stops working at once on every
 * node (F211). Two hubd on one database, auth_cache_ttl = 600 so that the
 * cache alone would keep a credential for ten minutes: a token, a scope
 * and a client-certificate binding, each used on both nodes (so both
 * cache it), then changed with hubctl; the very next request on each node
 * is refused, and an open MLLP over TLS connection's next frame is not
 * taken. A change made without the notification (triggers off) is still
 * served from the cache: the cache is in play, the notification is what
 * ends it. And a revocation made while a node's LISTEN link is cut (the
 * node stopped, its listener's backend terminated) holds once it is back.
 */
#include <criterion/criterion.h>
#include <event2/thread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/hub_err.h"
#include "store.h"
#include "../lib/hubproc.h"
#include "../lib/testctl.h"

#define LONG_TTL "auth_cache_ttl = 600\n"

static struct hubproc hub, peer;

static void start_one(void)
{
    evthread_use_pthreads();
    cr_assert_eq(hub_start(&hub, LONG_TTL, false), 0, "hubd did not start");
    /* the link is up before anything is cached: what follows is the
     * notification's doing, not the short life of entries cached while a
     * node does not listen */
    cr_assert(hub_wait_log(&hub, "auth.listening", 1, 20000));
}

static void start_two(void)
{
    start_one();
    cr_assert_eq(hub_start_peer(&peer, &hub, LONG_TTL), 0,
                 "the second hubd did not start");
    cr_assert(hub_wait_log(&peer, "auth.listening", 1, 20000));
}

static void stop(void)
{
    hub_cleanup(&peer);
    hub_cleanup(&hub);
}

static long status_at(const struct hubproc *h, const char *method,
                      const char *path, const char *token, const char *cert)
{
    struct http_resp r;
    cr_assert_eq(http_call(h, true, method, path, token, cert, NULL, 0,
                           "application/json", &r), 0, "%s %s", method, path);
    long st = r.status;
    http_resp_free(&r);
    return st;
}

/* hubctl ARGS against the hubs' database; its exit status */
static int hubctl(const char *args)
{
    char env[1200], out[2048];
    snprintf(env, sizeof(env), "DATABASE_URL='%s'", hub.db_url);
    int rc = testctl_run(env, args, "&1", out, sizeof(out));
    cr_log_info("hubctl %s: %s", args, out);
    return rc;
}

/* SQL that changes credentials without telling anyone (triggers off, as a
 * restore or a replica's apply would run): only the TTL would end it */
static void silently(const char *sql)
{
    struct store *s;
    char *out = NULL;
    cr_assert_eq(store_connect(hub.db_url, &s), HUB_OK);
    cr_assert_eq(store_query_text(s, "SET session_replication_role = "
                                  "replica", 0, NULL, &out), HUB_OK);
    free(out);
    out = NULL;
    cr_assert_eq(store_query_text(s, sql, 0, NULL, &out), HUB_OK, "%s", sql);
    free(out);
    store_free(s);
}

/* hubctl token revoke by a prefix of the token's hash (the seeded
 * prefixes, "hosp-t1", are shorter than the 8 characters it asks for) */
static int revoke_token(const char *token)
{
    char sha[65], arg[96];
    store_sha256_hex(token, strlen(token), sha);
    sha[12] = '\0';
    snprintf(arg, sizeof(arg), "token revoke %s", sha);
    return hubctl(arg);
}

/* Each node read the notification of the n-th change (it logs each
 * flush): the wait is on the event, not a sleep, and its bound (5 s) is
 * far inside the TTL (600 s) that would end the cached entry otherwise.
 * The notification is on its way when hubctl has exited, but a request
 * can still overtake it by a few milliseconds. */
static void wait_flushed(const struct hubproc *const *nodes, int n_nodes,
                         int n)
{
    for (int i = 0; i < n_nodes; i++)
        cr_assert(hub_wait_log(nodes[i], "auth.flushed", n, 5000),
                  "node %d did not hear change %d", i, n);
}

static void read_fp(char *fp, size_t n, const char *org)
{
    char name[64];
    snprintf(name, sizeof(name), "certs/%s.fp", org);
    FILE *f = fopen(hub_path(&hub, name), "r");
    cr_assert_not_null(f);
    cr_assert_not_null(fgets(fp, (int)n, f));
    fclose(f);
    fp[strcspn(fp, "\n")] = '\0';
}

Test(revoke, a_revoked_token_or_scope_is_refused_at_once_by_both_nodes,
     .init = start_two, .fini = stop, .timeout = 90)
{
    const struct hubproc *nodes[] = { &hub, &peer };

    for (int i = 0; i < 2; i++) {
        cr_assert_eq(status_at(nodes[i], "GET", "/v1/events", "tok-hosp",
                               NULL), 200, "node %d", i);
        cr_assert_eq(status_at(nodes[i], "GET", "/v1/events", "tok-cbo",
                               NULL), 200, "node %d", i);
    }
    /* unannounced, the cache keeps serving them (the TTL is 600 s) */
    silently("UPDATE api_tokens SET revoked_at = now() "
             "WHERE prefix = 'hosp-t1'");
    silently("UPDATE organizations SET scopes = '{}' WHERE id = 'cbo'");
    for (int i = 0; i < 2; i++) {
        cr_expect_eq(status_at(nodes[i], "GET", "/v1/events", "tok-hosp",
                               NULL), 200, "node %d: cached", i);
        cr_expect_eq(status_at(nodes[i], "GET", "/v1/events", "tok-cbo",
                               NULL), 200, "node %d: cached", i);
    }
    silently("UPDATE api_tokens SET revoked_at = NULL "
             "WHERE prefix = 'hosp-t1'");
    silently("UPDATE organizations SET scopes = '{subscribe}' "
             "WHERE id = 'cbo'");

    /* hubctl token revoke: the next request on each node is 401 */
    cr_assert_eq(revoke_token("tok-hosp"), 0);
    wait_flushed(nodes, 2, 1);
    for (int i = 0; i < 2; i++)
        cr_expect_eq(status_at(nodes[i], "GET", "/v1/events", "tok-hosp",
                               NULL), 401, "node %d: revoked", i);
    /* cbo loses the subscribe scope: its token is 403 on the feed */
    cr_assert_eq(hubctl("org update cbo --scopes ingest"), 0);
    wait_flushed(nodes, 2, 2);
    for (int i = 0; i < 2; i++)
        cr_expect_eq(status_at(nodes[i], "GET", "/v1/events", "tok-cbo",
                               NULL), 403, "node %d: scope withdrawn", i);
    /* and gets it back as fast */
    cr_assert_eq(hubctl("org update cbo --scopes subscribe"), 0);
    wait_flushed(nodes, 2, 3);
    for (int i = 0; i < 2; i++)
        cr_expect_eq(status_at(nodes[i], "GET", "/v1/events", "tok-cbo",
                               NULL), 200, "node %d: scope back", i);
    cr_expect_eq(hub_log_count(&hub, "tok-"), 0, "no token in the log");
    cr_expect_eq(hub_log_count(&peer, "tok-"), 0, "no token in the log");
}

Test(revoke, a_revoked_binding_is_refused_at_once_over_https_and_mllp_tls,
     .init = start_two, .fini = stop, .timeout = 90)
{
    const struct hubproc *nodes[] = { &hub, &peer };
    struct mllp_client c[2];
    char msg[2048], ack[4096], code[3], ctrl[32], fp[128], id[32], arg[256];

    for (int i = 0; i < 2; i++) {
        cr_assert_eq(status_at(nodes[i], "GET", "/v1/events", NULL, "hosp"),
                     200, "node %d", i);
        cr_assert_eq(mllp_connect(&c[i], nodes[i]->mllps, &hub, "hosp"), 0);
        snprintf(id, sizeof(id), "REVOKE-A%d", i);
        hl7_sample(msg, sizeof(msg), id, "MRN-RA");
        cr_assert_eq(mllp_send(&c[i], msg), 0);
        cr_assert_gt(mllp_read(&c[i], ack, sizeof(ack), 10000), 0);
        ack_fields(ack, code, ctrl, sizeof(ctrl));
        cr_assert_str_eq(code, "AA", "node %d", i);
    }
    /* unannounced, the cache and the open connections keep the identity */
    read_fp(fp, sizeof(fp), "hosp");
    char sql[256];
    snprintf(sql, sizeof(sql), "UPDATE cert_bindings SET revoked_at = now() "
             "WHERE fingerprint = '%s'", fp);
    silently(sql);
    for (int i = 0; i < 2; i++)
        cr_expect_eq(status_at(nodes[i], "GET", "/v1/events", NULL, "hosp"),
                     200, "node %d: cached", i);
    snprintf(sql, sizeof(sql), "UPDATE cert_bindings SET revoked_at = NULL "
             "WHERE fingerprint = '%s'", fp);
    silently(sql);

    snprintf(arg, sizeof(arg), "cert revoke --cert '%s'",
             hub_path(&hub, "certs/hosp.crt"));
    cr_assert_eq(hubctl(arg), 0);
    wait_flushed(nodes, 2, 1);
    for (int i = 0; i < 2; i++) {
        cr_expect_eq(status_at(nodes[i], "GET", "/v1/events", NULL, "hosp"),
                     401, "node %d: revoked", i);
        /* the open connection's next frame: no ACK, not stored, closed */
        snprintf(id, sizeof(id), "REVOKE-B%d", i);
        hl7_sample(msg, sizeof(msg), id, "MRN-RB");
        cr_assert_eq(mllp_send(&c[i], msg), 0);
        cr_expect_leq(mllp_read(&c[i], ack, sizeof(ack), 5000), 0,
                      "node %d: no answer after the revocation: %s", i, ack);
        mllp_close(&c[i]);
        cr_expect(hub_wait_log(nodes[i], "mllp.auth_refused", 1, 5000),
                  "node %d", i);
    }
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "idem_key LIKE 'REVOKE-B%'"), 0);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "idem_key LIKE 'REVOKE-A%'"), 2);
}

/*
 * The node is stopped (SIGSTOP) while its listener's backend is
 * terminated and the token revoked: the notification goes to no one. Once
 * it runs again it sees the link gone, listens again and then empties its
 * cache; the token is 401 (without that flush it would be cached for
 * 600 s).
 */
Test(revoke, a_revocation_while_the_link_is_down_holds_after_it_is_back,
     .init = start_one, .fini = stop, .timeout = 90)
{
    cr_assert_eq(status_at(&hub, "GET", "/v1/events", "tok-hosp", NULL), 200);
    cr_assert_eq(kill(hub.pid, SIGSTOP), 0);
    long cut = hub_sql_long(&hub,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = current_database() "
        "AND application_name = 'hub-auth-listen'");
    cr_expect_eq(cut, 1, "the listener's backend");
    /* its backend is gone before the revocation commits */
    for (int i = 0; i < 200 &&
         hub_sql_long(&hub, "SELECT count(*) FROM pg_stat_activity "
                      "WHERE datname = current_database() AND "
                      "application_name = 'hub-auth-listen'") > 0; i++)
        usleep(20 * 1000);
    int rc = revoke_token("tok-hosp");
    cr_assert_eq(kill(hub.pid, SIGCONT), 0);
    cr_assert_eq(rc, 0);
    cr_expect(hub_wait_log(&hub, "auth.listen_lost", 1, 10000));
    cr_assert(hub_wait_log(&hub, "auth.listening", 2, 20000),
              "listening again");
    cr_expect_eq(status_at(&hub, "GET", "/v1/events", "tok-hosp", NULL), 401);
    /* and a notification after the reconnection arrives as before */
    cr_assert_eq(status_at(&hub, "GET", "/v1/events", "tok-cbo", NULL), 200);
    cr_assert_eq(revoke_token("tok-cbo"), 0);
    const struct hubproc *one[] = { &hub };
    wait_flushed(one, 1, 1);
    cr_expect_eq(status_at(&hub, "GET", "/v1/events", "tok-cbo", NULL), 401);
}

/* A token's expiry is no change anyone makes, so nothing is notified: its
 * cached entry (TTL 600 s here) ends when the token does. Set to expire in
 * 3 s before its first use (that change is notified, and heard), the
 * token works, then is refused once the 3 s have passed. */
Test(revoke, an_expired_token_is_refused_whatever_the_cache_holds,
     .init = start_one, .fini = stop, .timeout = 60)
{
    const struct hubproc *one[] = { &hub };
    char *out = NULL;
    struct store *s;

    cr_assert_eq(store_connect(hub.db_url, &s), HUB_OK);
    cr_assert_eq(store_query_text(s, "UPDATE api_tokens SET expires_at = "
                                  "now() + interval '3 seconds' WHERE "
                                  "prefix = 'hosp-t1'", 0, NULL, &out),
                 HUB_OK);
    free(out);
    store_free(s);
    wait_flushed(one, 1, 1);
    cr_assert_eq(status_at(&hub, "GET", "/v1/events", "tok-hosp", NULL), 200,
                 "valid for 3 s more");
    sleep(4);
    cr_expect_eq(status_at(&hub, "GET", "/v1/events", "tok-hosp", NULL), 401,
                 "expired, though cached for 600 s");
    cr_expect_eq(status_at(&hub, "GET", "/v1/events", "tok-cbo", NULL), 200);
}

/*
 * fence_test.c - which server sessions a link notes to be terminated once
 * it is cut (hub/store_fence.c, F1061), and which it must not (F1080).
 *
 * A pooler that hands the client the server's own pid (Pgpool-II does)
 * passed the pid check, yet keeps that server session for its next client
 * once hubd's link ends: terminating it later ended another client's
 * work. The loopback relay here passes the pid just as such a pooler
 * does; the session it reaches sees the relay, not hubd, as its client.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "store_int.h"
#include "../lib/hubproc.h"
#include "../lib/testdb.h"

static char *url;

static void setup(void) { url = testdb_create(); }
static void teardown(void) { testdb_drop(url); }

TestSuite(fence, .init = setup, .fini = teardown, .timeout = 30);

/* a link with a deadline, and whether it noted its server session */
static int noted(const char *u, int *backend_pid)
{
    struct store *s = NULL;
    cr_assert_eq(store_connect(u, &s), 0, "connect %s", u);
    store_set_statement_timeout(s, 5000);
    int pid = s->fence_pid;
    *backend_pid = PQbackendPID(s->c);
    store_free(s);
    return pid;
}

Test(fence, only_a_session_whose_client_is_this_link_is_noted)
{
    int port = 0, pid;
    char db[256], u[512];

    cr_assert_not_null(url);
    const char *at = strstr(url, "127.0.0.1:");
    cr_assert_not_null(at, "%s", url);
    cr_assert_eq(sscanf(at, "127.0.0.1:%d/%255[^?]", &port, db), 2);

    /* direct, over the Unix socket and over TCP: noted */
    cr_expect_neq(noted(url, &pid), 0);
    snprintf(u, sizeof(u), "postgresql://postgres@127.0.0.1:%d/%s", port,
             db);
    int got = noted(u, &pid);
    cr_expect_eq(got, pid, "direct TCP: noted %d, backend %d", got, pid);

    /* through a relay that hands on the server's pid: not noted */
    struct dbproxy *p = dbproxy_start(port);
    cr_assert_not_null(p);
    snprintf(u, sizeof(u), "postgresql://postgres@127.0.0.1:%d/%s",
             dbproxy_port(p), db);
    got = noted(u, &pid);
    cr_expect_neq(pid, 0, "the relay passes the server's pid");
    cr_expect_eq(got, 0, "relayed: noted %d", got);
    dbproxy_stop(p);
}

/*
 * fence_test.c - which server sessions a link notes to be terminated once
 * it is cut (hub/store_fence.c, F1061), and which it must not (F1080).
 *
 * A pooler that hands the client the server's own pid (Pgpool-II does)
 * passed the pid check, yet keeps that server session for its next client
 * once hubd's link ends: terminating it later ended another client's
 * work. The loopback relay here passes the pid just as such a pooler
 * does; the session it reaches sees the relay, not hubd, as its client
 * (over TCP), or is no child of the relay listening (over a Unix socket).
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

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

/* One client on a Unix socket relayed to PostgreSQL's own socket, as a
 * pooler on sockets both sides does: bytes both ways until either ends. */
struct urelay {
    int lfd;
    struct sockaddr_un pg;
    pthread_t t;
};

static void *urelay_run(void *arg)
{
    struct urelay *r = arg;
    int c = accept(r->lfd, NULL, NULL), u = socket(AF_UNIX, SOCK_STREAM, 0);
    if (c >= 0 && u >= 0 &&
        connect(u, (struct sockaddr *)&r->pg, sizeof(r->pg)) == 0) {
        struct pollfd pf[2] = { { c, POLLIN, 0 }, { u, POLLIN, 0 } };
        char buf[8192];
        for (int live = 1; live && poll(pf, 2, 5000) > 0;) {
            for (int i = 0; i < 2 && live; i++) {
                if (!pf[i].revents)
                    continue;
                ssize_t n = read(pf[i].fd, buf, sizeof(buf));
                live = n > 0 && write(pf[1 - i].fd, buf, (size_t)n) == n;
            }
        }
    }
    if (c >= 0)
        close(c);
    if (u >= 0)
        close(u);
    return NULL;
}

Test(fence, only_a_session_whose_client_is_this_link_is_noted)
{
    int port = 0, pid;
    char db[256], u[512];

    cr_assert_not_null(url);
    const char *at = strstr(url, "127.0.0.1:");
    cr_assert_not_null(at, "%s", url);
    char *end;
    port = (int)strtol(at + 10, &end, 10);
    cr_assert_eq(*end, '/', "%s", url);
    snprintf(db, sizeof(db), "%.*s", (int)strcspn(end + 1, "?"), end + 1);

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

    /* through a relay on a Unix socket: not noted either */
    char dir[] = "/tmp/hub-fence-XXXXXX";
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct urelay r = { .pg = { .sun_family = AF_UNIX } };
    const char *h = strstr(url, "host=");
    cr_assert_not_null(h, "%s", url);
    snprintf(r.pg.sun_path, sizeof(r.pg.sun_path), "%.*s/.s.PGSQL.%d",
             (int)strcspn(h + 5, "&"), h + 5, port);
    cr_assert_not_null(mkdtemp(dir));
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/.s.PGSQL.5999", dir);
    r.lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    cr_assert_eq(bind(r.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    cr_assert_eq(listen(r.lfd, 1), 0);
    cr_assert_eq(pthread_create(&r.t, NULL, urelay_run, &r), 0);
    snprintf(u, sizeof(u), "postgresql://postgres@/%s?host=%s&port=5999", db,
             dir);
    got = noted(u, &pid);
    cr_expect_neq(pid, 0, "the relay passes the server's pid");
    cr_expect_eq(got, 0, "relayed on a socket: noted %d", got);
    pthread_join(r.t, NULL);
    close(r.lfd);
    unlink(sa.sun_path);
    rmdir(dir);
}

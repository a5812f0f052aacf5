/*
 * pgrestart_test.c - hubd across a real PostgreSQL restart: the server's own
 * fast shutdown (every session ended with 57P01), no server at all, then a
 * server starting up, where the proxy of the other tests only cuts sockets.
 * /readyz goes false and comes back by itself, a message sent while the
 * server is down is answered once it is back, and every acknowledged
 * message reaches its subscriber, without a restart of hubd.
 *
 * The suite's server is shared with the tests running alongside, so this
 * test runs a PostgreSQL of its own: initdb in a temp dir, a unix socket
 * there and no TCP listener (no port to collide with).
 */
#include <criterion/criterion.h>
#include <event2/thread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/hub_err.h"
#include "store.h"
#include "subs.h"
#include "../lib/hubproc.h"
#include "../lib/webhook_rx.h"

#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

static struct hubproc hub;
static char pgdir[64];                  /* data/, the socket, the logs */

/* Run a PostgreSQL program (PG_BIN, as devdb.sh does) with `args`; as the
 * postgres user when we are root (PostgreSQL refuses to run as root). */
static int pg(const char *prog, const char *args)
{
    const char *bin = getenv("PG_BIN");
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "%s'%s/%s' %s >>'%s/pg.log' 2>&1",
             geteuid() == 0 ? "runuser -u postgres -- " : "",
             bin && *bin ? bin : "/usr/lib/postgresql/15/bin", prog, args,
             pgdir);
    return system(cmd);
}

static int pg_ctl(const char *what)
{
    char args[512];
    snprintf(args, sizeof(args), "-D '%s/data' -l '%s/server.log' -w -t 60 "
             "-m fast %s", pgdir, pgdir, what);
    return pg("pg_ctl", args);
}

static void start(void)
{
    char args[512], url[256];

    evthread_use_pthreads();
    snprintf(pgdir, sizeof(pgdir), "/tmp/hub-pg-XXXXXX");
    cr_assert_not_null(mkdtemp(pgdir));
    if (geteuid() == 0) {
        struct passwd *pw = getpwnam("postgres");
        cr_assert_not_null(pw, "no postgres user");
        cr_assert_eq(chown(pgdir, pw->pw_uid, pw->pw_gid), 0);
    }
    snprintf(args, sizeof(args), "-D '%s/data' -U postgres -A trust -E UTF8 "
             "--locale=C.UTF-8 --no-sync", pgdir);
    cr_assert_eq(pg("initdb", args), 0, "initdb (see %s/pg.log)", pgdir);
    char conf[128];
    snprintf(conf, sizeof(conf), "%s/data/postgresql.conf", pgdir);
    FILE *f = fopen(conf, "a");
    cr_assert_not_null(f);
    fprintf(f, "listen_addresses = ''\nunix_socket_directories = '%s'\n"
            "port = 5432\nmax_connections = 50\n", pgdir);
    fclose(f);
    cr_assert_eq(pg_ctl("start"), 0, "start (see %s/server.log)", pgdir);
    /* testdb (through hub_start) creates the test database there */
    snprintf(url, sizeof(url), "postgresql://postgres@/postgres?host=%s"
             "&port=5432", pgdir);
    setenv("HUB_TEST_ADMIN_URL", url, 1);
    setenv("HUB_TIME_SCALE", "1000", 1);
    setenv("HUB_DISPATCH_POLL_MS", "50", 1);
    cr_assert_eq(hub_start(&hub, NULL, false), 0, "hubd did not start");
}

static void stop(void)
{
    char cmd[128], args[128];
    snprintf(args, sizeof(args), "-D '%s/data' status", pgdir);
    if (pg("pg_ctl", args) != 0)        /* a failed test may leave it down */
        (void)pg_ctl("start");
    hub_cleanup(&hub);
    (void)pg_ctl("stop");
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pgdir);
    (void)!system(cmd);
}

/* Send `id` on c and expect its AA within ms. */
static void expect_aa(struct mllp_client *c, const char *id, int ms)
{
    char msg[2048], ack[4096], code[3], ctrl[64];
    hl7_sample(msg, sizeof(msg), id, "MRN-PGR");
    cr_assert_eq(mllp_send(c, msg), 0);
    cr_assert_gt(mllp_read(c, ack, sizeof(ack), ms), 0, "no ACK for %s", id);
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_assert_str_eq(code, "AA");
    cr_assert_str_eq(ctrl, id);
}

Test(pgrestart, hubd_rides_over_a_postgresql_restart, .init = start,
     .fini = stop, .timeout = 180)
{
    struct rx *rx = rx_start(RX_OK, SECRET);
    struct store *s;
    struct hub_err e = { 0 };
    struct mllp_client c;
    char json[256], *out = NULL, msg[2048], ack[4096], code[3], ctrl[64];

    cr_assert_not_null(rx);
    snprintf(json, sizeof(json), "{\"url\":\"http://127.0.0.1:%d/hook\","
             "\"topics\":[\"adt.*\"],\"secrets\":[\"" SECRET "\"]}", rx->port);
    cr_assert_eq(store_connect(hub.db_url, &s), HUB_OK);
    cr_assert_eq(subs_create(s, "test", "cbo", json, strlen(json), NULL, &out,
                             &e), HUB_OK);
    free(out);
    store_free(s);

    cr_assert(hub_wait_status(&hub, "/readyz", 200, 30000), "ready at start");
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    expect_aa(&c, "PGR-1", 30000);
    cr_assert(rx_wait_distinct(rx, 1, 30000), "delivered before the restart");

    cr_assert_eq(pg_ctl("stop"), 0);
    cr_assert(hub_wait_status(&hub, "/readyz", 503, 30000), "not ready without the server");
    hl7_sample(msg, sizeof(msg), "PGR-2", "MRN-PGR");
    cr_assert_eq(mllp_send(&c, msg), 0);
    cr_assert_lt(mllp_read(&c, ack, sizeof(ack), 1000), 0,
                 "an ACK with no server to commit to");

    cr_assert_eq(pg_ctl("start"), 0);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 60000), 0,
                 "the message kept through the restart commits");
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_assert_str_eq(code, "AA");
    cr_assert_str_eq(ctrl, "PGR-2");
    cr_assert(hub_wait_status(&hub, "/readyz", 200, 30000), "ready again by itself");
    expect_aa(&c, "PGR-3", 30000);
    mllp_close(&c);

    /* the dispatcher reconnected too: everything acknowledged arrives,
     * each once at least and with its own webhook-id */
    cr_assert(rx_wait_distinct(rx, 3, 60000), "%d of 3 delivered",
              rx_distinct_ids(rx, NULL));
    cr_assert_eq(rx->bad_sigs, 0);
    cr_assert_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "idem_key LIKE 'PGR-%'"), 3,
                 "each message stored once");
    cr_assert_eq(hub_sql_long(&hub, "SELECT count(*) FROM deliveries"), 3);
    cr_assert_eq(hub_stop(&hub), 0, "a clean exit after it all");
    rx_stop(rx);
}

/*
 * demo_test.c - `make run` (deploy/demo.sh), the first command a person
 * types: on free ports, in a demo directory and a fresh database of its
 * own (a developer's own `make run` is left alone), it must seed the
 * demo, print the how-to, take the sample ADT its how-to sends over MLLP,
 * show it on the pull feed to the hospital's token from credentials.json,
 * and stop cleanly on Ctrl-C (SIGINT); run again, it must keep a
 * certificate binding an operator revoked revoked; run after the schema
 * changed, it must make its private database anew; run while one of its
 * ports is taken, it must say which and how to move it, and stop.
 */
#include <criterion/criterion.h>
#include <cJSON.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "../lib/hubproc.h"
#include "../lib/testctl.h"
#include "../lib/testdb.h"
#include "../lib/testfile.h"

extern char **environ;

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}


/* "name=N" of the ports file, a line each; 0 when absent. */
/* The whole file, NUL-terminated, or NULL (testfile_read). */
static char *read_whole(const char *path)
{
    size_t len;
    return testfile_read(path, &len);
}

static int port_in(const char *ports, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = ports; p && *p;) {
        if (strncmp(p, name, n) == 0 && p[n] == '=')
            return (int)strtol(p + n + 1, NULL, 10);
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return 0;
}

/* The sample's segments as MLLP sends them: its line ends as CR. */
static void sample_message(char *out, size_t size)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/tests/data/hl7v2/ADT-A01-01.hl7",
             testdb_root());
    char *m = read_whole(path);
    cr_assert_not_null(m, "cannot read %s", path);
    size_t n = 0;
    for (const char *p = m; *p && n + 1 < size; p++)
        if (*p != '\r')
            out[n++] = *p == '\n' ? '\r' : *p;
    out[n] = '\0';
    free(m);
}

/* deploy/demo.sh in `dir` with every port free on database `db_url` (a
 * fresh one of the test's own), its output in dir/out.txt; returns hubd's
 * pid (demo.sh execs it) once its ports file is there, into *ports. */
static pid_t demo_start(const char *dir, const char *db_url, char **ports)
{
    char out_path[512], ports_path[512], script[4096];
    snprintf(out_path, sizeof(out_path), "%s/out.txt", dir);
    snprintf(ports_path, sizeof(ports_path), "%s/ports", dir);
    unlink(ports_path);
    setenv("HUB_DEMO_DIR", dir, 1);
    setenv("DATABASE_URL", db_url, 1);
    const char *const port_vars[] = { "HUB_MLLP_PORT", "HUB_MLLPS_PORT",
                                      "HUB_HTTPS_PORT", "HUB_HTTP_PORT",
                                      "HUB_DEMO_CLINIC_PORT" };
    for (size_t i = 0; i < 5; i++)
        setenv(port_vars[i], "0", 1);
    snprintf(script, sizeof(script), "%s/deploy/demo.sh", testdb_root());
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_path,
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    char *argv[] = { "bash", script, NULL };
    pid_t pid;
    cr_assert_eq(posix_spawnp(&pid, "bash", &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);

    /* up when hubd wrote its ports (certificates are made on a first run) */
    *ports = NULL;
    for (int i = 0; i < 1500 && *ports == NULL; i++) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            char *o = read_whole(out_path);
            cr_assert_fail("demo.sh exited (%d) before serving:\n%s",
                           WIFEXITED(st) ? WEXITSTATUS(st) : -1, o ? o : "");
        }
        *ports = read_whole(ports_path);
        if (*ports == NULL)
            sleep_ms(100);
    }
    if (*ports == NULL) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        cr_assert_fail("no ports file after 150 s");
    }
    return pid;
}

/* Ctrl-C: hubd stops cleanly within 30 s (else killed, and the test
 * fails: never a hubd left behind). */
static void demo_stop(pid_t pid)
{
    cr_assert_eq(kill(pid, SIGINT), 0);
    int st = 0;
    bool gone = false;
    for (int i = 0; i < 300 && !gone; i++) {
        gone = waitpid(pid, &st, WNOHANG) == pid;
        if (!gone)
            sleep_ms(100);
    }
    if (!gone) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        cr_assert_fail("hubd did not stop on SIGINT within 30 s");
    }
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
              "hubd did not stop cleanly on SIGINT");
}

/* "hubctl ARGS" against the demo's database; its stdout and stderr in
 * out. */
static int demo_hubctl(const char *db_url, const char *args, char *out,
                       size_t size)
{
    char env[1200];
    snprintf(env, sizeof(env), "DATABASE_URL='%s'", db_url);
    return testctl_run(env, args, "&1", out, size);
}

/* One test, so that two demo.sh never make the certificates at once. */
Test(demo, make_run_serves_what_its_how_to_prints, .timeout = 240)
{
    char dir[] = "/tmp/hub-demo-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char out_path[512], creds_path[512];
    snprintf(out_path, sizeof(out_path), "%s/out.txt", dir);
    snprintf(creds_path, sizeof(creds_path), "%s/credentials.json", dir);

    char *db_url = testdb_create();
    cr_assert_not_null(db_url, "cannot create a test database");
    char *ports;
    pid_t pid = demo_start(dir, db_url, &ports);
    struct hubproc h = { .pid = pid };
    h.mllp = port_in(ports, "mllp");
    h.http = port_in(ports, "http");
    cr_assert_gt(h.mllp, 0, "%s", ports);
    cr_assert_gt(h.http, 0, "%s", ports);
    free(ports);

    char *how = read_whole(out_path);
    cr_assert_not_null(strstr(how, "Send a sample ADT over MLLP"), "%s", how);
    cr_assert_not_null(strstr(how, "Read it back from the pull feed"));
    free(how);

    /* the how-to's sample over MLLP: an AA */
    char msg[8192], ack[4096];
    sample_message(msg, sizeof(msg));
    struct mllp_client c;
    cr_assert_eq(mllp_connect(&c, h.mllp, &h, NULL), 0);
    cr_assert_eq(mllp_send(&c, msg), 0);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
    cr_assert_not_null(strstr(ack, "MSA|AA|MSG00001"), "%s", ack);
    mllp_close(&c);

    /* the hospital's token from credentials.json reads it on the feed */
    char *creds = read_whole(creds_path);
    cr_assert_not_null(creds);
    cJSON *j = cJSON_Parse(creds);
    cr_assert_not_null(j, "credentials.json is not JSON");
    const cJSON *hosp = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "organizations"), "hospital");
    const char *token = cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(hosp, "token"));
    const char *fp = cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(hosp, "fingerprint"));
    const char *db = cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(j, "database_url"));
    cr_assert(token && fp && db);
    struct http_resp r;
    cr_assert_eq(http_call(&h, false, "GET", "/v1/events?after=0", token,
                           NULL, NULL, 0, NULL, &r), 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"adt.admit\""), "%s", r.body);
    http_resp_free(&r);
    demo_stop(pid);

    /* an operator revokes the hospital's certificate; the next make run
     * keeps it revoked (it binds only what was never bound) */
    char out[8192], args[256];
    snprintf(args, sizeof(args), "cert revoke %s", fp);
    cr_assert_eq(demo_hubctl(db, args, out, sizeof(out)), 0, "%s", out);
    /* and its token: the next make run makes a new one (it keeps a token
     * only while token list shows it with no revoked_at) */
    snprintf(args, sizeof(args), "token revoke %.12s", token);
    cr_assert_eq(demo_hubctl(db, args, out, sizeof(out)), 0, "%s", out);
    char old_token[128];
    snprintf(old_token, sizeof(old_token), "%s", token);
    pid = demo_start(dir, db_url, &ports);
    free(ports);
    demo_stop(pid);
    char *creds2 = read_whole(creds_path);
    cr_assert_not_null(creds2);
    cr_assert_null(strstr(creds2, old_token),
                   "make run kept the revoked token in credentials.json");
    free(creds2);
    /* the tour's subscriptions opt in to sdv: the CBOs hold the grant */
    cr_assert_eq(demo_hubctl(db, "org list", out, sizeof(out)), 0, "%s", out);
    const char *housing = strstr(out, "\nhousing\t");
    cr_assert_not_null(housing, "%s", out);
    cr_assert(strncmp(housing + strcspn(housing + 1, "\n") - 6, "[\"sdv\"]",
                      7) == 0, "%s", out);
    cr_assert_eq(demo_hubctl(db, "cert list", out, sizeof(out)), 0, "%s", out);
    /* fingerprint, org, created_at, revoked_at ("-": live) */
    const char *line = strstr(out, fp);
    cr_assert_not_null(line, "%s", out);
    const char *eol = strchr(line, '\n');
    const char *last = eol ? eol : line + strlen(line);
    while (last > line && last[-1] != '\t')
        last--;
    cr_assert(last[0] != '-' && last[0] != '\n',
              "the revoked binding is live again:\n%s", out);
    cJSON_Delete(j);
    free(creds);

    /* a pull edited the schema since the demo database was made (the
     * migration is not applied again): make run makes its private
     * database anew, and says so. Here the test's database stands in for
     * the private one (HUB_PG_DB names it to deploy/devdb.sh). */
    struct hubproc q = { .pid = 0 };
    snprintf(q.db_url, sizeof(q.db_url), "%s", db_url);
    cr_assert_eq(hub_sql_long(&q, "WITH u AS (UPDATE schema_migrations SET "
                                  "sha256 = 'edited' WHERE version = '001' "
                                  "RETURNING 1) "
                                  "SELECT count(*) FROM u"), 1);
    const char *name = strstr(db_url, "://");
    cr_assert_not_null(name);
    name = strchr(name + 3, '/');           /* the path: the database */
    cr_assert_not_null(name);
    char dbname[128];
    snprintf(dbname, sizeof(dbname), "%.*s", (int)strcspn(name + 1, "?"),
             name + 1);
    setenv("HUB_PG_DB", dbname, 1);
    pid = demo_start(dir, db_url, &ports);
    free(ports);
    demo_stop(pid);
    unsetenv("HUB_PG_DB");
    how = read_whole(out_path);
    cr_assert_not_null(strstr(how, "making it anew"), "%s", how);
    free(how);
    cr_assert_eq(hub_sql_long(&q, "SELECT count(*) FROM schema_migrations "
                                  "WHERE sha256 = 'edited'"), 0);
    cr_assert_eq(hub_sql_long(&q, "SELECT count(*) FROM organizations"), 7,
                 "the demo seeded again");

    testdb_drop(db_url);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* A port someone else listens on is named before anything is set up, with
 * the variable that moves it (hubd's own bind_failed came after the whole
 * how-to, and said nothing of HUB_MLLP_PORT). */
Test(demo, a_port_in_use_is_named_with_the_variable_that_moves_it,
     .timeout = 60)
{
    char dir[] = "/tmp/hub-demo-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    int s = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(s, 0);
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof(a);
    cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(listen(s, 4), 0);
    cr_assert_eq(getsockname(s, (struct sockaddr *)&a, &alen), 0);
    char port[16], script[4096], out_path[512];
    snprintf(port, sizeof(port), "%d", ntohs(a.sin_port));
    snprintf(out_path, sizeof(out_path), "%s/out.txt", dir);
    snprintf(script, sizeof(script), "%s/deploy/demo.sh", testdb_root());
    setenv("HUB_DEMO_DIR", dir, 1);
    const char *const port_vars[] = { "HUB_MLLPS_PORT", "HUB_HTTPS_PORT",
                                      "HUB_HTTP_PORT",
                                      "HUB_DEMO_CLINIC_PORT" };
    for (size_t i = 0; i < 4; i++)
        setenv(port_vars[i], "0", 1);
    setenv("HUB_MLLP_PORT", port, 1);
    /* a database nobody serves: a demo.sh that went on would stop at its
     * migration, before the certificates, touching nothing shared */
    setenv("DATABASE_URL", "postgresql://127.0.0.1:1/none", 1);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_path,
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    char *argv[] = { "bash", script, NULL };
    pid_t pid;
    cr_assert_eq(posix_spawnp(&pid, "bash", &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    int st = 0;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    close(s);
    char *out = read_whole(out_path);
    cr_assert_not_null(out);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 1, "%s", out);
    char want[64];
    snprintf(want, sizeof(want), "127.0.0.1:%s is in use", port);
    cr_expect_not_null(strstr(out, want), "%s", out);
    cr_expect_not_null(strstr(out, "HUB_MLLP_PORT="), "%s", out);
    cr_expect_null(strstr(out, "Care hub demo"), "the how-to was printed:\n%s",
                   out);
    free(out);
    char creds[600];
    snprintf(creds, sizeof(creds), "%s/credentials.json", dir);
    cr_expect_neq(access(creds, F_OK), 0, "set up although it cannot serve");
    unsetenv("HUB_MLLP_PORT");
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

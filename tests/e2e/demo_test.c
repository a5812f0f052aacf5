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
#include <sys/file.h>
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

/* Held by each test that runs demo.sh through to its certificates: two
 * at once would make var/certs at once (one's CA, the other's server
 * certificate). Released when the test's process ends. */
static void demo_lock(void)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/var/demo-test.lock", testdb_root());
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    cr_assert_geq(fd, 0, "cannot open %s", path);
    cr_assert_eq(flock(fd, LOCK_EX), 0);
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
            hub_sleep_ms(100);
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
            hub_sleep_ms(100);
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

Test(demo, make_run_serves_what_its_how_to_prints, .timeout = 240)
{
    demo_lock();
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

/* A TCP socket bound to a free loopback port, into *port. */
static int bind_loopback(int *port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(s, 0);
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof(a);
    cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(getsockname(s, (struct sockaddr *)&a, &alen), 0);
    *port = ntohs(a.sin_port);
    return s;
}

/* A port someone else listens on is named before anything is set up, with
 * the variable that moves it (hubd's own bind_failed came after the whole
 * how-to, and said nothing of HUB_MLLP_PORT). */
Test(demo, a_port_in_use_is_named_with_the_variable_that_moves_it,
     .timeout = 60)
{
    char dir[] = "/tmp/hub-demo-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    int bound;
    int s = bind_loopback(&bound);
    cr_assert_eq(listen(s, 4), 0);
    char port[16], script[4096], out_path[512];
    snprintf(port, sizeof(port), "%d", bound);
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

/* --- the README's quick tour, run as written ------------------------------ */

/* A free loopback port (bound and closed: the receivers take it next). */
static int free_port(void)
{
    int port;
    close(bind_loopback(&port));
    return port;
}

/* Every `from` in *text replaced by `to` (a new string; *text freed). */
static void replace_all(char **text, const char *from, const char *to)
{
    size_t nf = strlen(from), nt = strlen(to), count = 0;
    for (const char *p = *text; (p = strstr(p, from)) != NULL; p += nf)
        count++;
    char *out = malloc(strlen(*text) + count * nt + 1);
    cr_assert_not_null(out);
    char *w = out;
    const char *p = *text, *hit;
    while ((hit = strstr(p, from)) != NULL) {
        memcpy(w, p, (size_t)(hit - p));
        w += hit - p;
        memcpy(w, to, nt);
        w += nt;
        p = hit + nf;
    }
    memcpy(w, p, strlen(p) + 1);
    free(*text);
    *text = out;
}

/* The first ``` block after the heading "## A quick tour" of README.md. */
static char *tour_block(void)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/README.md", testdb_root());
    char *readme = read_whole(path);
    cr_assert_not_null(readme);
    const char *h = strstr(readme, "\n## A quick tour\n");
    cr_assert_not_null(h, "README.md has no quick tour");
    const char *open = strstr(h, "\n```\n");
    cr_assert_not_null(open);
    open += 5;
    const char *close = strstr(open, "\n```\n");
    cr_assert_not_null(close);
    char *block = strndup(open, (size_t)(close - open + 1));
    free(readme);
    return block;
}

/* The count of lines of `text` holding every one of the NULL-ended
 * needles. */
static int lines_with(const char *text, const char *const *needles)
{
    int n = 0;
    for (const char *p = text; p && *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        char *line = strndup(p, len);
        bool all = true;
        for (const char *const *q = needles; *q && all; q++)
            all = strstr(line, *q) != NULL;
        n += all;
        free(line);
        p = eol ? eol + 1 : NULL;
    }
    return n;
}

/* A pause after each command of a shell text (not after a comment, a
 * blank line or a line continued by a backslash): a person types or
 * pastes one command, reads what it says, then the next; half a second,
 * as one who pastes them quickly (nothing of the tour may need more). */
static void pause_after_commands(char **text)
{
    size_t n = strlen(*text);
    char *out = malloc(n * 6 + 64), *w = out;
    cr_assert_not_null(out);
    for (const char *p = *text; *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        memcpy(w, p, len);
        w += len;
        *w++ = '\n';
        const char *s = p + strspn(p, " ");
        if (len && *s != '#' && *s != '\n' && p[len - 1] != '\\') {
            memcpy(w, "sleep 0.5\n", 10);
            w += 10;
        }
        p = eol ? eol + 1 : p + len;
    }
    *w = '\0';
    free(*text);
    *text = out;
}

/* Whether the file at path comes to hold a line with every needle within
 * ms (polled). */
static bool file_gets(const char *path, const char *const *needles, int want,
                      int ms)
{
    for (int waited = 0;; waited += 100) {
        char *text = read_whole(path);
        bool ok = text && lines_with(text, needles) >= want;
        free(text);
        if (ok || waited >= ms)
            return ok;
        hub_sleep_ms(100);
    }
}

/*
 * What a person reads first after `make run`: every command of README's
 * quick tour, in order, a second apart (as typed), against a demo hub on
 * free ports, with only what the README tells a person to fill in filled
 * in: the ports it printed, the subscription id `sub add` printed, and a
 * patient's hub id from the feed; each receiver waited for until it says
 * it listens. Each command must succeed (a curl answered 2xx), and what
 * the tour's comments promise must happen.
 */
Test(demo, the_readme_quick_tour_runs_as_written, .timeout = 240)
{
    demo_lock();
    char dir[] = "/tmp/hub-tour-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char *db_url = testdb_create();
    cr_assert_not_null(db_url, "cannot create a test database");
    char *ports;
    pid_t pid = demo_start(dir, db_url, &ports);
    struct hubproc h = { .pid = pid };
    int mllp = port_in(ports, "mllp"), https = port_in(ports, "https");
    h.http = port_in(ports, "http");
    cr_assert(mllp > 0 && h.http > 0 && https > 0, "%s", ports);
    free(ports);
    int rx1 = free_port(), rx2 = free_port();
    cr_assert_neq(rx1, rx2);

    char *tour = tour_block(), v[1024];
    const char *build = getenv("HUB_BUILD") ? getenv("HUB_BUILD") : "build";
    /* what the README says to fill in, and where the test's demo lives */
    snprintf(v, sizeof(v), "'%s'", db_url);
    replace_all(&tour, "$(deploy/devdb.sh url)", v);
    snprintf(v, sizeof(v), "127.0.0.1 %d", mllp);
    replace_all(&tour, "127.0.0.1 2575", v);
    snprintf(v, sizeof(v), "localhost:%d", https);
    replace_all(&tour, "localhost:8443", v);
    snprintf(v, sizeof(v), "127.0.0.1:%d", h.http);
    replace_all(&tour, "127.0.0.1:8080", v);
    snprintf(v, sizeof(v), "webhook-rx.js %d \"$secret\" >$T/rx1.log 2>&1 &"
             "\nlistening $T/rx1.log", rx1);
    replace_all(&tour, "webhook-rx.js 9000 \"$secret\" &", v);
    snprintf(v, sizeof(v), "webhook-rx.js %d \"$secret\" 410 >$T/rx2.log "
             "2>&1 &\nlistening $T/rx2.log", rx2);
    replace_all(&tour, "webhook-rx.js 9001 \"$secret\" 410 &", v);
    snprintf(v, sizeof(v), "127.0.0.1:%d/", rx1);
    replace_all(&tour, "127.0.0.1:9000/", v);
    snprintf(v, sizeof(v), "127.0.0.1:%d/", rx2);
    replace_all(&tour, "127.0.0.1:9001/", v);
    snprintf(v, sizeof(v), "%s/", dir);
    replace_all(&tour, "var/demo/", v);
    replace_all(&tour, "build/hubctl", "hubctl_t");
    replace_all(&tour, "curl ", "curl_t ");
    replace_all(&tour, "SUB_ID", "$(sub_id_t)");
    replace_all(&tour, "HUBID", "$(hub_id_t)");
    pause_after_commands(&tour);

    char script_path[512], log_path[512];
    snprintf(script_path, sizeof(script_path), "%s/tour.sh", dir);
    snprintf(log_path, sizeof(log_path), "%s/tour.log", dir);
    FILE *f = fopen(script_path, "w");
    cr_assert_not_null(f);
    fprintf(f,
        "set -e -x\ncd '%s'\nT='%s'\n"
        /* the receivers' pids, however the tour ends */
        "trap 'jobs -p >\"$T/rx.pids\"' EXIT\n"
        "hubctl_t() { '%s/hubctl' \"$@\" | tee -a \"$T/hubctl.log\"; "
        "return ${PIPESTATUS[0]}; }\n"
        /* curl as typed, failing unless answered 2xx */
        "curl_t() { local c; c=$(command curl -sS -o \"$T/curl.body\" "
        "-w '%%{http_code}' \"$@\") || return 1; cat \"$T/curl.body\"; "
        "echo; case $c in 2[0-9][0-9]) ;; *) echo \"HTTP $c\" >&2; "
        "return 1;; esac; }\n"
        "listening() { for i in $(seq 300); do grep -q listening \"$1\" "
        "2>/dev/null && return 0; sleep 0.1; done; return 1; }\n"
        "sub_id_t() { grep -o 'sub_[0-9a-f]\\{32\\}' \"$T/hubctl.log\" | "
        "head -1; }\n"
        "hub_id_t() { command curl -s -H \"Authorization: Bearer $(cat "
        "$T/tokens/operator)\" 'http://127.0.0.1:%d/v1/events?after=0' | "
        "grep -o '\"hub_id\": *\"[^\"]*\"' | head -1 | cut -d'\"' -f4; }\n"
        "%s\necho tour: done\n",
        testdb_root(), dir, build, h.http, tour);
    fclose(f);
    free(tour);

    char cmd[1100];
    snprintf(cmd, sizeof(cmd), "timeout 200 bash '%s' >'%s' 2>&1",
             script_path, log_path);
    int rc = system(cmd);
    char *log = read_whole(log_path);
    cr_assert_not_null(log);
    size_t n = strlen(log);
    const char *tail = n > 6000 ? log + n - 6000 : log;
    cr_expect_eq(rc, 0, "a command of the tour failed:\n%s", tail);
    cr_expect_not_null(strstr(log, "tour: done"), "%s", tail);
    cr_expect_not_null(strstr(log, "MSA|AA|"), "the MLLP admit's ACK");
    free(log);

    /* what the tour's comments promise, given the time to happen */
    char p1[512], p2[512];
    snprintf(p1, sizeof(p1), "%s/rx1.log", dir);
    snprintf(p2, sizeof(p2), "%s/rx2.log", dir);
    const char *const test_ok[] = { "signature=ok", "type=hub.test", NULL };
    const char *const screening[] = { "signature=ok", "type=screening.",
                                      NULL };
    const char *const bad[] = { "signature=BAD", NULL };
    const char *const gone[] = { "answer=410", NULL };
    int wait_ms = rc == 0 ? 30000 : 0;      /* not after a failed tour */
    cr_expect(file_gets(p1, test_ok, 1, wait_ms), "the signed test event");
    cr_expect(file_gets(p1, screening, 2, wait_ms), "two deliveries");
    cr_expect(file_gets(p2, gone, 1, wait_ms), "the 410 receiver");
    char *r1 = read_whole(p1);
    cr_expect(r1 && lines_with(r1, bad) == 0, "%s", r1 ? r1 : "");
    free(r1);
    bool disabled = false;
    for (int i = 0; i <= wait_ms / 100 && !disabled; i++) {
        struct http_resp r;
        if (http_call(&h, false, "GET", "/metrics", NULL, NULL, NULL, 0,
                      NULL, &r) == 0) {
            disabled = strstr(r.body, "hub_subscriptions{health="
                                      "\"disabled\"} 1") != NULL;
            http_resp_free(&r);
        }
        if (!disabled)
            hub_sleep_ms(100);
    }
    cr_expect(disabled, "the 410 disabled the food bank's subscription");

    /* the receivers, as the README stops them */
    snprintf(cmd, sizeof(cmd), "kill $(cat '%s/rx.pids') 2>/dev/null", dir);
    cr_expect_eq(system(cmd), 0, "the receivers were gone before the end");
    demo_stop(pid);
    testdb_drop(db_url);
    snprintf(v, sizeof(v), "rm -rf '%s'", dir);
    cr_assert_eq(system(v), 0);
}

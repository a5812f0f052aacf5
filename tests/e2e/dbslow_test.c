/*
 * dbslow_test.c - the API's database work when the database is slow or
 * held, as deployed: a DATABASE_URL with its own session options, a
 * PgBouncer in front (a real one, the Debian package), an ingest whose
 * commit waits on a lock another session holds. Each request is answered
 * in a bounded time (success, or 503 with Retry-After), and nothing is
 * acknowledged before its commit.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/thread.h>

#include "common/hub_err.h"
#include "store.h"
#include "subs.h"
#include "../lib/hubproc.h"
#include "../lib/testdb.h"
#include "../lib/webhook_rx.h"

static struct hubproc hub;

struct bouncer {
    pid_t pid;
    int port;
    char dir[64];
};
static struct bouncer bouncer;      /* stopped by stop() when started */
static void bouncer_stop(struct bouncer *b);

/* Backends of the test's database stopped by SIGSTOP, by their pid in
 * pg_stat_activity: a backend that does not run, as one blocked on a hung
 * volume (F663, F664). stop() gives each SIGCONT first, whatever the test
 * did; and a detached watchdog does too after BACKENDS_HELD_S, should the
 * test process be killed at its timeout (Criterion then skips .fini) and
 * leave the shared server with processes it cannot stop. */
#define BACKENDS_MAX 64
#define BACKENDS_HELD_S 60
static int stopped[BACKENDS_MAX];
static int n_stopped;
static pid_t watchdog;

static void resume_backends(void)
{
    for (int i = 0; i < n_stopped; i++)
        kill(stopped[i], SIGCONT);
    n_stopped = 0;
    if (watchdog > 0) {             /* not needed now: its pids may be reused */
        kill(watchdog, SIGKILL);
        waitpid(watchdog, NULL, 0);
        watchdog = 0;
    }
}

static void stop(void)
{
    resume_backends();
    hub_cleanup(&hub);
    bouncer_stop(&bouncer);
}

/* The client backends of the test's database (not this query's own) whose
 * application_name is LIKE app, stopped; returns how many. */
static int stop_backends(const char *app)
{
    struct store *s;
    struct store_rows *rows;
    const char *p[] = { app };
    int first = n_stopped;

    cr_assert_eq(store_connect(hub.db_url, &s), HUB_OK);
    cr_assert_eq(store_query(s, "SELECT pid FROM pg_stat_activity WHERE "
                             "datname = current_database() AND pid <> "
                             "pg_backend_pid() AND backend_type = 'client "
                             "backend' AND application_name LIKE $1", 1, p,
                             &rows), HUB_OK);
    for (int i = 0; i < store_rows_count(rows) && n_stopped < BACKENDS_MAX;
         i++) {
        int pid = (int)strtol(store_rows_get(rows, i, 0), NULL, 10);
        stopped[n_stopped++] = pid;     /* before: a failure resumes it */
        cr_assert_eq(kill(pid, SIGSTOP), 0, "pid %d", pid);
    }
    store_rows_free(rows);
    store_free(s);
    if (watchdog > 0) {
        kill(watchdog, SIGKILL);
        waitpid(watchdog, NULL, 0);
    }
    watchdog = fork();
    cr_assert(watchdog >= 0);
    if (watchdog == 0) {            /* in a session of its own: it outlives
                                       a test process killed at its timeout */
        setsid();
        sleep(BACKENDS_HELD_S);
        for (int i = 0; i < n_stopped; i++)
            kill(stopped[i], SIGCONT);
        _exit(0);
    }
    return n_stopped - first;
}

/* The value of `line` (a /metrics sample's name and labels) */
static long metric(const char *line)
{
    struct http_resp m = { 0 };
    long v = -1;
    cr_assert_eq(http_call(&hub, false, "GET", "/metrics", NULL, NULL, NULL,
                           0, NULL, &m), 0);
    const char *at = m.body ? strstr(m.body, line) : NULL;
    if (at)
        v = strtol(at + strlen(line), NULL, 10);
    http_resp_free(&m);
    return v;
}

/* hubd again on the same dir with `line` in its config in place of its
 * key's: a database URL the test makes from the one it was given */
static char also_log[128] = "";     /* shown too when hubd fails */

static void restart_with(const char *line)
{
    cr_assert_eq(hub_stop(&hub), 0);
    cr_assert_eq(hub_conf_set(&hub, line), 0);
    if (hub_restart(&hub) != 0) {
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "tail -n 20 '%s' %s >&2",
                 hub_path(&hub, "hubd.log"), also_log);
        cr_assert_eq(system(cmd), 0);
        cr_assert_fail("hubd did not start again");
    }
    cr_assert(hub_wait_status(&hub, "/readyz", 200, 15000), "not ready");
}

/* F660: the pool's lock bound went to the server as the `options` startup
 * parameter placed before the URL, whose own options (an operator's
 * search_path, statement_timeout) replaced it: the request on the worker
 * waited for as long as another session held the lock. */
Test(dbslow, a_database_url_with_its_own_options_keeps_the_lock_bound,
     .fini = stop, .timeout = 90)
{
    char line[1200];
    struct feed_call held = { .h = &hub };
    struct store *s;

    cr_assert_eq(hub_start(&hub, "db_threads = 1\ndb_wait_timeout = 1\n"
                           "db_lock_timeout = 2\nretry_after = 2\n"
                           "auth_cache_ttl = 300", false), 0);
    snprintf(line, sizeof(line), "database_url = %s%soptions=-c%%20"
             "search_path%%3Dpublic", hub.db_url,
             strchr(hub.db_url, '?') ? "&" : "?");
    restart_with(line);
    hub_read_feed(&held);               /* the token cached, the worker linked */
    cr_assert_eq(held.resp.status, 200, "%s", held.resp.body);
    http_resp_free(&held.resp);

    cr_assert_eq(store_connect(hub.db_url, &s), HUB_OK);
    cr_assert_eq(store_exec(s, "BEGIN; LOCK TABLE events IN ACCESS "
                               "EXCLUSIVE MODE"), HUB_OK);
    hub_read_feed(&held);               /* the client gives up at 15 s */
    cr_expect_eq(held.rc, 0);
    cr_expect_eq(held.resp.status, 503, "held: %ld after %.0f ms",
                 held.resp.status, held.ms);
    cr_expect_str_eq(held.resp.retry_after, "2");
    cr_expect_lt(held.ms, 6000, "answered after %.0f ms", held.ms);
    cr_expect(hub_wait_log(&hub, "sqlstate=55P03", 1, 2000));
    http_resp_free(&held.resp);
    cr_assert_eq(store_exec(s, "COMMIT"), HUB_OK);
    store_free(s);
    hub_read_feed(&held);
    cr_expect_eq(held.resp.status, 200);
    http_resp_free(&held.resp);
}

/* ---- a real PgBouncer in front of the test's database ------------------ */

static int free_port(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t n = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert(fd >= 0);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &n), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* PgBouncer in transaction mode, with its Debian defaults otherwise (it
 * takes no `options` startup parameter), forwarding every database to the
 * test server; run as postgres when the tests run as root (it refuses
 * root), as deploy/devdb.sh does for PostgreSQL. */
static void bouncer_start(struct bouncer *b)
{
    char path[128];
    const char *pg = getenv("HUB_PG_PORT");

    cr_assert_eq(access("/usr/sbin/pgbouncer", X_OK), 0,
                 "pgbouncer is not installed (make deps)");
    snprintf(b->dir, sizeof(b->dir), "/tmp/hub-pgb-XXXXXX");
    cr_assert_not_null(mkdtemp(b->dir));
    b->port = free_port();
    snprintf(path, sizeof(path), "%s/pgb.ini", b->dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "[databases]\n* = host=127.0.0.1 port=%s\n[pgbouncer]\n"
            "listen_addr = 127.0.0.1\nlisten_port = %d\nunix_socket_dir =\n"
            "auth_type = trust\nauth_file = %s/users.txt\n"
            "pool_mode = transaction\nlogfile = %s/pgb.log\n",
            pg ? pg : "5432", b->port, b->dir, b->dir);
    cr_assert_eq(fclose(f), 0);
    snprintf(path, sizeof(path), "%s/users.txt", b->dir);
    f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "\"postgres\" \"\"\n");
    cr_assert_eq(fclose(f), 0);
    if (geteuid() == 0) {
        char cmd[160];
        snprintf(cmd, sizeof(cmd), "chown -R postgres '%s'", b->dir);
        cr_assert_eq(system(cmd), 0);
    }
    b->pid = fork();
    cr_assert(b->pid >= 0);
    if (b->pid == 0) {
        snprintf(path, sizeof(path), "%s/pgb.ini", b->dir);
        struct passwd *pw = geteuid() == 0 ? getpwnam("postgres") : NULL;
        if (geteuid() == 0 && (pw == NULL || setgid(pw->pw_gid) != 0 ||
                               setuid(pw->pw_uid) != 0))
            _exit(126);
        int null = open("/dev/null", O_RDWR);
        dup2(null, 1);              /* not Criterion's pipes */
        dup2(null, 2);
        execl("/usr/sbin/pgbouncer", "pgbouncer", "-q", path, (char *)NULL);
        _exit(127);
    }
    /* listening: a connection is accepted */
    for (int i = 0; i < 100; i++) {
        struct sockaddr_in a = { .sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)b->port) };
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        int ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
        close(fd);
        if (ok)
            return;
        usleep(50 * 1000);
    }
    cr_assert_fail("pgbouncer did not listen (see %s/pgb.log)", b->dir);
}

static void bouncer_stop(struct bouncer *b)
{
    char cmd[128];
    if (b->dir[0] == '\0')
        return;
    if (b->pid > 0) {
        kill(b->pid, SIGTERM);
        waitpid(b->pid, NULL, 0);
        b->pid = 0;
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", b->dir);
    b->dir[0] = '\0';
    if (system(cmd) != 0)
        fprintf(stderr, "dbslow: cannot remove %s\n", b->dir);
}

/* F661: deploy/postgresql.md puts PgBouncer in transaction mode in front
 * of many nodes; it refuses a connection that sends `options` ("FATAL:
 * unsupported startup parameter: options"), so after the lock bound came
 * every pool worker failed to connect and every credential look-up and
 * API read was answered 503, for as long as hubd ran. */
Test(dbslow, behind_pgbouncer_the_api_pool_connects, .fini = stop,
     .timeout = 90)
{
    struct bouncer *b = &bouncer;
    char line[1200], db[256] = "";
    struct feed_call f = { .h = &hub };

    cr_assert_eq(hub_start(&hub, "db_threads = 1\ndb_lock_timeout = 2",
                           false), 0);
    PQconninfoOption *opts = PQconninfoParse(hub.db_url, NULL);
    cr_assert_not_null(opts);
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (strcmp(o->keyword, "dbname") == 0 && o->val)
            snprintf(db, sizeof(db), "%s", o->val);
    PQconninfoFree(opts);
    bouncer_start(b);
    snprintf(also_log, sizeof(also_log), "'%s/pgb.log'", b->dir);
    snprintf(line, sizeof(line), "database_url = postgresql://postgres@"
             "127.0.0.1:%d/%s", b->port, db);
    restart_with(line);
    /* not cached: the token is looked up by a pool worker */
    hub_read_feed(&f);
    cr_expect_eq(f.rc, 0);
    cr_expect_eq(f.resp.status, 200, "%ld: %s", f.resp.status,
                 f.resp.body ? f.resp.body : "");
    http_resp_free(&f.resp);
    cr_expect_eq(hub_log_count(&hub, "store.lock_timeout_refused"), 1);
}

struct post_call {
    const char *path, *ctype;
    const char *body;
    struct http_resp resp;
    int rc;
    double ms;
};

static void *post(void *arg)
{
    struct post_call *p = arg;
    char ct[128];
    const char *hd[] = { ct, NULL };
    snprintf(ct, sizeof(ct), "Content-Type: %s", p->ctype);
    double t0 = hub_mono_ms();
    memset(&p->resp, 0, sizeof(p->resp));
    p->rc = http_call_h(&hub, true, "POST", p->path, "tok-hosp", hd, p->body,
                        strlen(p->body), &p->resp);
    p->ms = hub_mono_ms() - t0;
    return NULL;
}

/* F662: an ingest request handed to the committers before their commit
 * met another session's lock (an operator's open transaction, a
 * migration) waited for as long as the lock was held, though /readyz said
 * not ready and new requests were answered 503 at once: its client timed
 * out with no answer. Now it is answered 503 with Retry-After at
 * db_wait_timeout, nothing acknowledged; its message commits once the lock
 * goes, and the client's retry is answered as the duplicate it is. */
Test(dbslow, an_ingest_held_by_a_lock_is_answered_503_and_its_retry_is_a_duplicate,
     .fini = stop, .timeout = 90)
{
    char msg[2048];
    struct store *s;
    struct mllp_client c;
    char ack[4096], code[3], ctrl[64];
    static const char csv[] =
        "screening_id,patient_id,instrument,screened_at,question,answer\r\n"
        "S-1,C-001,88121-9,2026-03-01T10:00:00-05:00,88122-7,LA28397-0\r\n";
    char fhir[65536];
    char path[1024];
    snprintf(path, sizeof(path), "%s/tests/data/fhir/"
             "bundle-ahc-panel-transaction.json", testdb_root());
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    size_t fn = fread(fhir, 1, sizeof(fhir) - 1, f);
    fclose(f);
    cr_assert(fn > 0 && fn < sizeof(fhir) - 1);
    fhir[fn] = '\0';

    cr_assert_eq(hub_start(&hub, "db_wait_timeout = 2\n"
                           "commit_stuck_timeout = 1\nretry_after = 2\n"
                           "auth_cache_ttl = 300", false), 0);
    cr_assert(hub_wait_status(&hub, "/readyz", 200, 15000));
    hl7_sample(msg, sizeof(msg), "HELD-1", "MRN-H1");
    struct post_call calls[] = {
        { "/v1/hl7v2", "x-application/hl7-v2+er7", msg, { 0 }, 0, 0 },
        { "/v1/csv/screenings", "text/csv", csv, { 0 }, 0, 0 },
        { "/v1/fhir", "application/fhir+json", fhir, { 0 }, 0, 0 },
    };
    size_t n = sizeof(calls) / sizeof(calls[0]);
    pthread_t t[3];

    post(&calls[0]);                /* the credential cached */
    cr_assert_eq(calls[0].resp.status, 202, "%s", calls[0].resp.body);
    http_resp_free(&calls[0].resp);
    hl7_sample(msg, sizeof(msg), "HELD-2", "MRN-H2");

    cr_assert_eq(store_connect(hub.db_url, &s), HUB_OK);
    cr_assert_eq(store_exec(s, "BEGIN; LOCK TABLE messages IN ACCESS "
                               "EXCLUSIVE MODE"), HUB_OK);
    /* an MLLP sender beside them: no ACK while nothing commits */
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    char m2[2048];
    hl7_sample(m2, sizeof(m2), "HELD-M", "MRN-HM");
    cr_assert_eq(mllp_send(&c, m2), 0);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, post, &calls[i]), 0);
    for (size_t i = 0; i < n; i++)
        pthread_join(t[i], NULL);   /* the lock is held all along */
    for (size_t i = 0; i < n; i++) {
        cr_expect_eq(calls[i].rc, 0, "%s", calls[i].path);
        cr_expect_eq(calls[i].resp.status, 503, "%s: %ld after %.0f ms",
                     calls[i].path, calls[i].resp.status, calls[i].ms);
        cr_expect_str_eq(calls[i].resp.retry_after, "2", "%s",
                         calls[i].path);
        cr_expect_lt(calls[i].ms, 6000, "%s answered after %.0f ms",
                     calls[i].path, calls[i].ms);
        http_resp_free(&calls[i].resp);
    }
    cr_expect_lt(mllp_read(&c, ack, sizeof(ack), 200), 0, "an early ACK");
    cr_expect_eq(hub_get_status(&hub, "/readyz"), 503);
    cr_assert_eq(store_exec(s, "COMMIT"), HUB_OK);
    store_free(s);

    /* what was handed over commits; the MLLP sender gets its AA */
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 15000), 0);
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AA");
    cr_expect_str_eq(ctrl, "HELD-M");
    mllp_close(&c);
    cr_assert(hub_wait_status(&hub, "/readyz", 200, 15000));
    /* each retry: the duplicate's answer, and the message stored once */
    for (size_t i = 0; i < n; i++) {
        post(&calls[i]);
        cr_expect_eq(calls[i].resp.status, 202, "%s: %ld %s", calls[i].path,
                     calls[i].resp.status, calls[i].resp.body);
        http_resp_free(&calls[i].resp);
    }
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "idem_key IN ('HELD-2', 'HELD-M')"), 2);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "format = 'csv'"), 1);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "format = 'fhir'"), 1);
}

/* F663: a pool job running on a backend that does not answer was not
 * bounded: lock_timeout is the backend's own clock, which a stopped process
 * does not run, and its kernel still acknowledged every segment, so the
 * feed waited for as long as the backend was stopped. Now the statement is
 * cut at db_statement_timeout on hubd's clock: 503 with Retry-After, the
 * link closed; the next job opens a new one (and cancels the old
 * statement), so the feed is served again while the old backend is still
 * stopped, and after it runs again. */
Test(dbslow, a_backend_that_does_not_answer_is_cut_at_the_statement_deadline,
     .fini = stop, .timeout = 120)
{
    struct feed_call f = { .h = &hub };

    cr_assert_eq(hub_start(&hub, "db_threads = 1\ndb_wait_timeout = 2\n"
                           "db_lock_timeout = 1\ndb_statement_timeout = 2\n"
                           "retry_after = 2\nauth_cache_ttl = 300", false), 0);
    cr_assert(hub_wait_status(&hub, "/readyz", 200, 15000), "not ready");
    hub_read_feed(&f);                  /* the token cached, the worker linked */
    cr_assert_eq(f.resp.status, 200, "%s", f.resp.body);
    http_resp_free(&f.resp);

    /* the pool's backend (application_name hub; the dispatcher's too) */
    cr_assert_gt(stop_backends("hub"), 0);
    hub_read_feed(&f);                  /* the client gives up at 15 s */
    cr_expect_eq(f.rc, 0);
    cr_expect_eq(f.resp.status, 503, "stopped: %ld after %.0f ms",
                 f.resp.status, f.ms);
    cr_expect_str_eq(f.resp.retry_after, "2");
    cr_expect_lt(f.ms, 6000, "answered after %.0f ms", f.ms);
    http_resp_free(&f.resp);
    cr_expect(hub_wait_log(&hub, "store.deadline op=feed", 1, 2000));
    cr_expect_eq(metric("hub_db_busy_total{reason=\"deadline\"} "), 1);
    cr_expect_eq(metric("hub_db_busy_total{reason=\"lock\"} "), 0);

    /* a new link while the old backend is still stopped */
    hub_read_feed(&f);
    cr_expect_eq(f.resp.status, 200, "while stopped: %ld after %.0f ms",
                 f.resp.status, f.ms);
    cr_expect_lt(f.ms, 6000, "answered after %.0f ms", f.ms);
    http_resp_free(&f.resp);
    resume_backends();
    hub_read_feed(&f);
    cr_expect_eq(f.resp.status, 200, "resumed: %ld", f.resp.status);
    cr_expect_lt(f.ms, 6000, "answered after %.0f ms", f.ms);
    http_resp_free(&f.resp);
}

/* An MLLP frame for control id `ctrl`, its ACK read within ms: its code
 * ("" when none came) and how long it took */
static double send_frame(struct mllp_client *c, const char *ctrl,
                         const char *mrn, int ms, char code[3])
{
    char msg[2048], ack[4096], got[64];

    hl7_sample(msg, sizeof(msg), ctrl, mrn);
    double t0 = hub_mono_ms();
    cr_assert_eq(mllp_send(c, msg), 0);
    code[0] = '\0';
    if (mllp_read(c, ack, sizeof(ack), ms) > 0) {
        ack_fields(ack, code, got, sizeof(got));
        cr_expect_str_eq(got, ctrl);
    }
    return hub_mono_ms() - t0;
}

/* A subscription of "cbo" to every ADT event, sent to rx */
static void subscribe_adt(const struct rx *rx)
{
    struct store *s;
    struct hub_err e = { 0 };
    char json[256], *out = NULL;

    snprintf(json, sizeof(json), "{\"url\":\"http://127.0.0.1:%d/hook\","
             "\"topics\":[\"adt.*\"],\"secrets\":[\"whsec_MfKQ9r8GKYqrTwjUP"
             "D8ILPZIo2LaLaSw\"]}", rx->port);
    cr_assert_eq(store_connect(hub.db_url, &s), HUB_OK);
    cr_assert_eq(subs_create(s, "test", "cbo", json, strlen(json), NULL,
                             &out, &e), HUB_OK);
    free(out);
    store_free(s);
}

/* A frame of a type the hub does not take, for `ctrl`: sent, and its
 * answer read (a refusal, never AA): a message without an idempotency key */
static void send_refused(struct mllp_client *c, const char *ctrl,
                         const char *mrn)
{
    char msg[2048], ack[4096], code[3], got[64], *p;

    hl7_sample(msg, sizeof(msg), ctrl, mrn);
    p = strstr(msg, "ADT^A01^ADT_A01");
    cr_assert_not_null(p);
    memcpy(p, "ZZZ^Z01^ZZZ_Z01", 15);
    cr_assert_eq(mllp_send(c, msg), 0);
    cr_assert_gt(mllp_read(c, ack, sizeof(ack), 15000), 0, "no answer");
    ack_fields(ack, code, got, sizeof(got));
    cr_expect_str_neq(code, "AA");
}

/* The quarantined messages and their audit rows: n each */
static void expect_quarantined(long n)
{
    long rows = hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                             "status <> 'accepted'");
    long audits = hub_sql_long(&hub, "SELECT count(*) FROM audit WHERE "
                               "action = 'message.quarantined'");
    cr_expect_eq(rows, n, "%ld quarantined rows", rows);
    cr_expect_eq(audits, n, "%ld audit rows", audits);
}

/* the late-answer tests' start: one committer whose wait is cut at 1 s,
 * an accepted LATE-1, and call (a refused FHIR post) sent once, so that
 * its credential is cached and the held batch needs no lookup */
static void start_late(struct mllp_client *c, struct post_call *call)
{
    char code[3];

    cr_assert_eq(hub_start(&hub, "commit_threads = 1\ndb_commit_timeout = 1\n"
                           "commit_stuck_timeout = 30\nauth_cache_ttl = 300",
                           true), 0);
    cr_assert(hub_wait_status(&hub, "/readyz", 200, 15000), "not ready");
    cr_assert_eq(mllp_connect(c, hub.mllp, &hub, NULL), 0);
    send_frame(c, "LATE-1", "MRN-L1", 15000, code);
    cr_assert_str_eq(code, "AA");
    post(call);
    cr_assert_eq(call->resp.status, 422, "%s", call->resp.body);
    http_resp_free(&call->resp);
}

/* F765: a committer's statements had no bound while hubd ran: with its
 * backend stopped the node ingested nothing until the backend ran again
 * (its MLLP senders got no ACK, its HTTPS senders 503). Now a statement
 * past db_commit_timeout is cut as the API's are: the batch goes back to
 * the queue, unanswered, and is committed on a new link (a duplicate, by
 * its key, should the cut one have committed), while the old backend is
 * still stopped; and the cut backend, run again, stores nothing twice. */
Test(dbslow, a_committer_whose_backend_does_not_answer_is_cut_and_ingests_on,
     .fini = stop, .timeout = 120)
{
    struct mllp_client c;
    char code[3];

    cr_assert_eq(hub_start(&hub, "commit_threads = 1\ndb_commit_timeout = 2\n"
                           "commit_stuck_timeout = 30", false), 0);
    cr_assert(hub_wait_status(&hub, "/readyz", 200, 15000), "not ready");
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    send_frame(&c, "CUT-1", "MRN-C1", 15000, code);
    cr_assert_str_eq(code, "AA");

    cr_assert_eq(stop_backends("hubd-commit-%"), 1);
    /* sent to the stopped backend, cut at 2 s, committed on a new link */
    double ms = send_frame(&c, "CUT-2", "MRN-C2", 15000, code);
    cr_expect_str_eq(code, "AA", "no AA for CUT-2 after %.0f ms", ms);
    cr_expect(ms >= 1900 && ms < 8000, "CUT-2 answered after %.0f ms", ms);
    cr_expect(hub_wait_log(&hub, "store.deadline op=ingest", 1, 2000));
    cr_expect_eq(metric("hub_db_busy_total{reason=\"commit_deadline\"} "), 1);
    cr_expect_eq(metric("hub_db_busy_total{reason=\"deadline\"} "), 0);
    /* the node ingests on, the old backend still stopped */
    ms = send_frame(&c, "CUT-3", "MRN-C3", 15000, code);
    cr_expect_str_eq(code, "AA", "no AA for CUT-3 after %.0f ms", ms);
    cr_expect_lt(ms, 1500, "CUT-3 answered after %.0f ms", ms);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "idem_key IN ('CUT-2', 'CUT-3')"), 2);

    /* run again, the old backend finds its batch stored (or was
     * cancelled): each message once, its events once */
    resume_backends();
    hub_sleep_ms(1000);
    ms = send_frame(&c, "CUT-4", "MRN-C4", 15000, code);
    cr_expect_str_eq(code, "AA");
    mllp_close(&c);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "idem_key LIKE 'CUT-%'"), 4);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "idem_key = 'CUT-2'"), 1);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events e JOIN "
                              "messages m ON m.id = e.message_id WHERE "
                              "m.idem_key = 'CUT-2'"),
                 hub_sql_long(&hub, "SELECT count(*) FROM events e JOIN "
                              "messages m ON m.id = e.message_id WHERE "
                              "m.idem_key = 'CUT-1'"));
}

/* Deliveries recorded delivered, waited for until there are want */
static long delivered(long want, int ms)
{
    long n = 0;
    for (double end = hub_mono_ms() + ms; hub_mono_ms() < end;) {
        n = hub_sql_long(&hub, "SELECT count(*) FROM delivery_state WHERE "
                         "status = 'delivered'");
        if (n >= want)
            break;
        hub_sleep_ms(50);
    }
    return n;
}

/* F765, the dispatcher: its claim and its outcome flush had no bound while
 * hubd ran, so with its backends stopped nothing was delivered until they
 * ran again. Now each is cut at db_commit_timeout: the claim's rows wait
 * for their lease, the flush's outcomes go again on a new link, and a new
 * event is delivered and recorded while the old backends are still
 * stopped, with one webhook-id. */
Test(dbslow, a_dispatcher_whose_backends_do_not_answer_is_cut_and_delivers_on,
     .fini = stop, .timeout = 120)
{
    struct rx *rx;
    struct mllp_client c;
    char code[3];
    int all;

    evthread_use_pthreads();
    cr_assert_eq(hub_start(&hub, "db_commit_timeout = 2\n"
                           "dispatch_poll_ms = 100", false), 0);
    rx = rx_start(RX_OK, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    cr_assert_not_null(rx);
    subscribe_adt(rx);
    cr_assert(hub_wait_status(&hub, "/readyz", 200, 15000), "not ready");
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    send_frame(&c, "DSP-1", "MRN-D1", 15000, code);
    cr_assert_str_eq(code, "AA");
    cr_assert(rx_wait_distinct(rx, 1, 15000), "DSP-1 not delivered");
    cr_assert_eq(delivered(1, 5000), 1);

    /* the claim's, the flush's and the LISTEN link's backends */
    cr_assert_eq(stop_backends("hubd-dispatch"), 3);
    send_frame(&c, "DSP-2", "MRN-D2", 15000, code);
    cr_assert_str_eq(code, "AA");
    double t0 = hub_mono_ms();
    cr_expect(rx_wait_distinct(rx, 2, 15000), "DSP-2 not delivered");
    double ms = hub_mono_ms() - t0;
    cr_expect_lt(ms, 10000, "delivered after %.0f ms", ms);
    cr_expect_eq(delivered(2, 15000), 2,
                 "DSP-2's outcome not recorded while stopped");
    cr_expect(hub_wait_log(&hub, "store.deadline op=", 1, 2000));
    cr_expect_geq(metric("hub_db_busy_total{reason=\"dispatch_deadline\"} "),
                  1);
    cr_expect_eq(metric("hub_db_busy_total{reason=\"commit_deadline\"} "), 0);

    resume_backends();
    send_frame(&c, "DSP-3", "MRN-D3", 15000, code);
    cr_expect_str_eq(code, "AA");
    mllp_close(&c);
    cr_expect(rx_wait_distinct(rx, 3, 15000), "DSP-3 not delivered");
    hub_sleep_ms(500);
    /* at least once, each event under one webhook-id */
    cr_expect_eq(rx_distinct_ids(rx, &all), 3, "%d requests", all);
    cr_expect_eq(rx->bad_sigs, 0);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM deliveries"), 3);
    /* F1061: a cut flush, run by its backend once resumed, audited its
     * attempts a second time ("lost") */
    long attempts = hub_sql_long(&hub, "SELECT count(*) FROM audit WHERE "
                                 "action = 'delivery.attempt'");
    cr_expect_eq(attempts, 3, "%ld attempt audit rows", attempts);
    rx_stop(rx);
}

/* Sockets that fill the hung proxy's accept queue (closed in the fini,
 * whatever the test did) */
#define FILLERS 128
static int fillers[FILLERS];
static int n_fillers;

static void stop_and_unfill(void)
{
    for (int i = 0; i < n_fillers; i++)
        close(fillers[i]);
    n_fillers = 0;
    if (hub.proxy)
        dbproxy_set_hung(hub.proxy, false);
    stop();
}

/* A non-blocking connect to 127.0.0.1:port; whether it completed within
 * ms (the socket is kept in fillers) */
static bool connect_within(int port, int ms)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    cr_assert(fd >= 0 && n_fillers < FILLERS);
    fillers[n_fillers++] = fd;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
        return true;
    cr_assert_eq(errno, EINPROGRESS);
    struct pollfd pf = { fd, POLLOUT, 0 };
    return poll(&pf, 1, ms) == 1;
}

/* F767: libpq 15's PQcancel connects with a blocking connect(), which
 * nothing bounds but the kernel's SYN retries. On a server whose address
 * drops packets (here: the proxy hung, its accept queue full, so that the
 * kernel drops every new SYN) the cancel of a cut statement held the
 * worker's next job until the HTTP client gave up. Now the cancel runs on
 * a thread of its own and is waited for at most 1 s: the next read is
 * answered (503: the new link cannot be opened either, within the URL's
 * connect_timeout of 2 s) in about 3 s. */
Test(dbslow, a_cancel_to_a_server_that_drops_packets_is_waited_for_a_bounded_time,
     .fini = stop_and_unfill, .timeout = 120)
{
    struct feed_call f = { .h = &hub };

    cr_assert_eq(hub_start(&hub, "db_threads = 1\ndb_wait_timeout = 30\n"
                           "db_lock_timeout = 1\ndb_statement_timeout = 1\n"
                           "retry_after = 2\nauth_cache_ttl = 300", true), 0);
    cr_assert(hub_wait_status(&hub, "/readyz", 200, 15000), "not ready");
    hub_read_feed(&f);                  /* the token cached, the worker linked */
    cr_assert_eq(f.resp.status, 200, "%s", f.resp.body);
    http_resp_free(&f.resp);

    dbproxy_set_hung(hub.proxy, true);
    /* fill the accept queue (64) until a connect does not complete within
     * 200 ms, and one more not within 500 ms: one completes at once while
     * the queue has room (a 0 ms wait took a loaded machine's slow
     * handshake for a full queue), and a queue found not full after all
     * is filled on. All of it well within 2 s, past which the worker pings
     * its idle link first (dbpool.c): a ping through the hung proxy, not
     * the feed's statement, would be cut, its answer seconds later */
    bool full = false;
    for (int round = 0; round < 4 && !full; round++) {
        bool took = true;
        while (took && n_fillers < FILLERS - 2)
            took = connect_within(dbproxy_port(hub.proxy), 200);
        full = !took && !connect_within(dbproxy_port(hub.proxy), 500);
    }
    cr_assert(full, "the proxy's port still takes connections");

    hub_read_feed(&f);                  /* cut at 1 s */
    cr_expect_eq(f.resp.status, 503, "%ld after %.0f ms", f.resp.status, f.ms);
    cr_expect_lt(f.ms, 4000, "answered after %.0f ms", f.ms);
    http_resp_free(&f.resp);
    cr_expect(hub_wait_log(&hub, "store.deadline op=feed", 1, 2000));

    /* the cancel (1 s at most), then a connect that fails (2 s) */
    hub_read_feed(&f);                  /* the client gives up at 15 s */
    cr_expect_eq(f.rc, 0, "no answer after %.0f ms", f.ms);
    cr_expect_eq(f.resp.status, 503, "%ld after %.0f ms", f.resp.status, f.ms);
    cr_expect_lt(f.ms, 6000, "answered after %.0f ms", f.ms);
    http_resp_free(&f.resp);
    cr_expect(hub_wait_log(&hub, "store.cancel_unanswered", 1, 2000));
}

/* F664: with its backends stopped, SIGTERM drained for shutdown_timeout
 * and then hubd stayed up, joined on the dispatcher's claim and a pool
 * worker's query, both in libpq's wait, until the backends ran again.
 * db_statement_timeout = 0 here, so that only the bound after the drain
 * (store_stop_waiting, 2 s) ends them: hubd exits 0 within
 * shutdown_timeout + 3 s, acknowledging nothing it did not commit. */
Test(dbslow, sigterm_while_the_backends_do_not_answer_exits_within_its_bound,
     .fini = stop, .timeout = 120)
{
    struct feed_call held = { .h = &hub }, warm = { .h = &hub };
    struct mllp_client c;
    char msg[2048], ack[4096], code[3], ctrl[64];
    pthread_t t;

    cr_assert_eq(hub_start(&hub, "db_threads = 1\ndb_statement_timeout = 0\n"
                           "db_wait_timeout = 0\nshutdown_timeout = 2\n"
                           "dispatch_poll_ms = 100\nauth_cache_ttl = 300",
                           false), 0);
    cr_assert(hub_wait_status(&hub, "/readyz", 200, 15000), "not ready");
    hub_read_feed(&warm);
    cr_assert_eq(warm.resp.status, 200, "%s", warm.resp.body);
    http_resp_free(&warm.resp);
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    hl7_sample(msg, sizeof(msg), "STOP-1", "MRN-S1");
    cr_assert_eq(mllp_send(&c, msg), 0);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 15000), 0);
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_assert_str_eq(code, "AA");

    /* every backend of hubd: the pool's, the committers', the
     * dispatcher's, the listeners' */
    cr_assert_gt(stop_backends("%"), 3);
    cr_assert_eq(pthread_create(&t, NULL, hub_read_feed, &held), 0);
    hl7_sample(msg, sizeof(msg), "STOP-2", "MRN-S2");
    cr_assert_eq(mllp_send(&c, msg), 0);
    hub_sleep_ms(500);                  /* a claim is out by now */
    double t0 = hub_mono_ms();
    cr_assert_eq(kill(hub.pid, SIGTERM), 0);
    int rc = hub_wait(&hub, 20000);     /* SIGKILL past it */
    double ms = hub_mono_ms() - t0;
    cr_expect_eq(rc, 0, "exit %d after %.0f ms", rc, ms);
    cr_expect_lt(ms, 9000, "exited after %.0f ms (shutdown_timeout 2)", ms);
    /* STOP-2 never committed: no ACK went out for it */
    long n = mllp_read(&c, ack, sizeof(ack), 500);
    cr_expect_leq(n, 0, "an ACK for a message not committed: %.40s", ack);
    mllp_close(&c);
    pthread_join(t, NULL);
    cr_expect_neq(held.resp.status, 200);
    http_resp_free(&held.resp);

    resume_backends();
    /* what was acknowledged is there, once */
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "idem_key = 'STOP-1'"), 1);
    cr_assert_eq(hub_restart(&hub), 0);
    cr_assert(hub_wait_status(&hub, "/readyz", 200, 15000), "not ready");
}

/* F664, the rest: on a server that answers nothing, not even a new
 * connection (the proxy hung), the links cut after the drain were opened
 * again, each waiting in libpq's connect: the pool's worker once for each
 * feed read still queued, one after the other, and the dispatcher's.
 * Now no link is opened once hubd stopped waiting (store_stop_waiting). */
Test(dbslow, sigterm_with_reads_queued_on_a_hung_server_exits_within_its_bound,
     .fini = stop, .timeout = 120)
{
    struct feed_call calls[4], warm = { .h = &hub };
    pthread_t t[4];
    size_t n = sizeof(calls) / sizeof(calls[0]);

    cr_assert_eq(hub_start(&hub, "db_threads = 1\ndb_statement_timeout = 0\n"
                           "db_wait_timeout = 0\nshutdown_timeout = 2\n"
                           "dispatch_poll_ms = 100\nauth_cache_ttl = 300",
                           true), 0);
    cr_assert(hub_wait_status(&hub, "/readyz", 200, 15000), "not ready");
    hub_read_feed(&warm);
    cr_assert_eq(warm.resp.status, 200, "%s", warm.resp.body);
    http_resp_free(&warm.resp);

    dbproxy_set_hung(hub.proxy, true);
    for (size_t i = 0; i < n; i++) {
        memset(&calls[i], 0, sizeof(calls[i]));
        calls[i].h = &hub;
        cr_assert_eq(pthread_create(&t[i], NULL, hub_read_feed, &calls[i]),
                     0);
    }
    hub_sleep_ms(500);                  /* one on the worker, three queued */
    double t0 = hub_mono_ms();
    cr_assert_eq(kill(hub.pid, SIGTERM), 0);
    int rc = hub_wait(&hub, 40000);     /* SIGKILL past it */
    double ms = hub_mono_ms() - t0;
    cr_expect_eq(rc, 0, "exit %d after %.0f ms", rc, ms);
    cr_expect_lt(ms, 8000, "exited after %.0f ms (shutdown_timeout 2)", ms);
    for (size_t i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
        cr_expect_neq(calls[i].resp.status, 200);
        http_resp_free(&calls[i].resp);
    }
    dbproxy_set_hung(hub.proxy, false);
}

/* F1060: a batch whose commit was reported but whose wait for durability
 * (hub_durable(), its own transaction in the same round trip) was cut at
 * db_commit_timeout, and cut again on the new link, went back to the
 * queue whole and was ingested again: a message with no idempotency key
 * (a refused one, quarantined with its AE) was stored once more at each
 * try, each with its audit row. Now only the wait is tried again, on a new
 * link, until it returns: one row. The wait is held here by hub_durable()
 * made to sleep while a row of durable_hold exists (the test's database
 * only; the real function's body follows the sleep). */
Test(dbslow, a_batch_committed_whose_durable_wait_is_cut_is_not_stored_again,
     .fini = stop, .timeout = 60)
{
    struct mllp_client c;
    struct store *s;
    char msg[2048], ack[4096], code[3], ctrl[64], *p;

    cr_assert_eq(hub_start(&hub, "commit_threads = 1\ndb_commit_timeout = 1\n"
                           "commit_stuck_timeout = 30", false), 0);
    cr_assert(hub_wait_status(&hub, "/readyz", 200, 15000), "not ready");
    cr_assert_eq(store_connect(hub.db_url, &s), HUB_OK);
    cr_assert_eq(store_exec(s,
        "CREATE TABLE durable_hold (x int);"
        "INSERT INTO durable_hold VALUES (1);"
        "CREATE OR REPLACE FUNCTION hub_durable() RETURNS void "
        "LANGUAGE plpgsql AS $$ DECLARE v_lsn pg_lsn; BEGIN "
        "IF EXISTS (SELECT 1 FROM durable_hold) THEN "
        "PERFORM pg_sleep(3); END IF; "
        "IF current_setting('synchronous_commit') = 'off' THEN "
        "PERFORM set_config('synchronous_commit', 'on', true); END IF; "
        "v_lsn := pg_logical_emit_message(true, 'hub.durable', ''); "
        "END $$"), HUB_OK);

    /* a message type the hub does not take: refused, quarantined, no key */
    hl7_sample(msg, sizeof(msg), "HOLD-1", "MRN-H1");
    p = strstr(msg, "ADT^A01^ADT_A01");
    cr_assert_not_null(p);
    memcpy(p, "ZZZ^Z01^ZZZ_Z01", 15);
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    cr_assert_eq(mllp_send(&c, msg), 0);
    /* the wait cut on the first link, then again on new ones */
    cr_expect(hub_wait_log(&hub, "store.deadline op=", 4, 15000),
              "%d cuts", hub_log_count(&hub, "store.deadline op="));
    cr_expect(hub_wait_log(&hub, "store.durable_retry", 1, 2000));
    cr_expect_lt(mllp_read(&c, ack, sizeof(ack), 100), 0, "an early answer");
    cr_assert_eq(store_exec(s, "DELETE FROM durable_hold"), HUB_OK);
    store_free(s);

    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 15000), 0, "no answer");
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_neq(code[0], '\0');
    cr_expect_str_neq(code, "AA");
    mllp_close(&c);
    hub_sleep_ms(3500);             /* a cut backend's sleep ends */
    long rows = hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                             "status <> 'accepted'");
    long audits = hub_sql_long(&hub, "SELECT count(*) FROM audit WHERE "
                               "action LIKE 'message.%'");
    cr_expect_eq(rows, 1, "%ld quarantined rows", rows);
    cr_expect_eq(audits, 1, "%ld audit rows", audits);
}

/* F1061: a statement sent to a backend stopped while it waited for its
 * next command is cut at db_commit_timeout and its cancel sent; but a
 * backend reading a command ignores a cancel (PostgreSQL's
 * ProcessInterrupts), so once it runs again it reads the cut statement
 * from its socket and runs it, after the retry on a new link committed.
 * A refused message (no idempotency key: MLLP, HTTPS FHIR, C-CDA, CSV
 * alike) was then stored twice, with two audit rows. */
Test(dbslow, a_cut_batch_is_not_run_again_by_its_backend_when_it_resumes,
     .fini = stop, .timeout = 60)
{
    struct mllp_client c;
    char code[3];

    cr_assert_eq(hub_start(&hub, "commit_threads = 1\ndb_commit_timeout = 1\n"
                           "commit_stuck_timeout = 30", false), 0);
    cr_assert(hub_wait_status(&hub, "/readyz", 200, 15000), "not ready");
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    send_frame(&c, "RUN-1", "MRN-R1", 15000, code);
    cr_assert_str_eq(code, "AA");

    /* refused documents over HTTPS beside it: none has a key either */
    struct post_call calls[] = {
        { "/v1/fhir", "application/fhir+json",
          "{\"resourceType\":\"NoSuchResource\"}", { 0 }, 0, 0 },
        { "/v1/ccda", "application/xml", "<NotAClinicalDocument/>",
          { 0 }, 0, 0 },
        { "/v1/csv/screenings", "text/csv",
          "screening_id,patient_id,instrument,screened_at,question,answer"
          "\r\n", { 0 }, 0, 0 },
    };
    size_t n = sizeof(calls) / sizeof(calls[0]);
    pthread_t t[3];
    post(&calls[2]);                /* the credential cached, and a row */
    cr_assert_eq(calls[2].resp.status, 422, "%s", calls[2].resp.body);
    http_resp_free(&calls[2].resp);

    cr_assert_eq(stop_backends("hubd-commit-%"), 1);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, post, &calls[i]), 0);
    send_refused(&c, "RUN-2", "MRN-R2");
    for (size_t i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
        cr_expect(calls[i].resp.status >= 400 && calls[i].resp.status < 500,
                  "%s: %ld", calls[i].path, calls[i].resp.status);
        http_resp_free(&calls[i].resp);
    }
    cr_expect(hub_wait_log(&hub, "store.deadline op=ingest", 1, 2000));

    cr_expect(hub_wait_log(&hub, "store.fenced pid=", 1, 2000));
    resume_backends();
    hub_sleep_ms(1500);             /* the old backend runs what it holds */
    send_frame(&c, "RUN-3", "MRN-R3", 15000, code);
    cr_expect_str_eq(code, "AA");
    mllp_close(&c);
    expect_quarantined(5);
}

/* F1121: a batch whose commit completed on the server but whose answer
 * came past db_commit_timeout (here: held back by the proxy, as by a
 * stalled network path) was cut, went back to the queue and was sent
 * again whole on a new link: its refused messages (no idempotency key:
 * MLLP and HTTPS alike) were quarantined a second time, each with a
 * second audit row. Now each carries its job's retry token, stored with
 * its quarantine row, and the retry stores nothing new. */
Test(dbslow, a_batch_whose_commit_answer_comes_late_stores_its_refused_messages_once,
     .fini = stop, .timeout = 60)
{
    struct mllp_client c;
    char code[3];

    struct post_call call = {
        "/v1/fhir", "application/fhir+json",
        "{\"resourceType\":\"NoSuchResource\"}", { 0 }, 0, 0 };
    pthread_t t;
    start_late(&c, &call);

    /* the committer's link: its next batch commits, its answer held */
    dbproxy_hold_answers(hub.proxy, true);
    cr_assert_eq(pthread_create(&t, NULL, post, &call), 0);
    send_refused(&c, "LATE-2", "MRN-L2");
    pthread_join(t, NULL);
    cr_expect_eq(call.resp.status, 422, "%ld", call.resp.status);
    http_resp_free(&call.resp);
    cr_expect(hub_wait_log(&hub, "store.deadline op=ingest", 1, 2000));
    dbproxy_hold_answers(hub.proxy, false);

    send_frame(&c, "LATE-3", "MRN-L3", 15000, code);
    cr_expect_str_eq(code, "AA");
    mllp_close(&c);
    expect_quarantined(3);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "idem_key LIKE 'LATE-%'"), 2);
}

/* F1122: the accepted messages of such a batch were duplicates by their
 * keys at its retry, and each got a 'message.duplicate' audit row with the
 * sender as actor: a re-send the sender never made. Now each carries its
 * job's retry token, stored with its row; the retry is answered as the
 * first try was, audited once ('message.received'), while a sender's own
 * re-send of the same message is still a duplicate, audited as one. */
Test(dbslow, a_batch_whose_commit_answer_comes_late_audits_its_accepted_messages_once,
     .fini = stop, .timeout = 60)
{
    struct mllp_client c;
    char code[3];
    static const char csv[] =
        "screening_id,patient_id,instrument,screened_at,question,answer\r\n"
        "S-1,C-001,88121-9,2026-03-01T10:00:00-05:00,88122-7,LA28397-0\r\n";

    struct post_call call = {
        "/v1/fhir", "application/fhir+json",
        "{\"resourceType\":\"NoSuchResource\"}", { 0 }, 0, 0 };
    pthread_t t;
    start_late(&c, &call);

    /* the committer's link: its next batch commits, its answer held */
    call = (struct post_call){ "/v1/csv/screenings", "text/csv", csv,
                               { 0 }, 0, 0 };
    dbproxy_hold_answers(hub.proxy, true);
    cr_assert_eq(pthread_create(&t, NULL, post, &call), 0);
    send_frame(&c, "LATE-2", "MRN-L2", 15000, code);
    cr_expect_str_eq(code, "AA");
    pthread_join(t, NULL);
    cr_expect_eq(call.resp.status, 202, "%ld", call.resp.status);
    http_resp_free(&call.resp);
    cr_expect(hub_wait_log(&hub, "store.deadline op=ingest", 1, 2000));
    dbproxy_hold_answers(hub.proxy, false);

    send_frame(&c, "LATE-3", "MRN-L3", 15000, code);
    cr_expect_str_eq(code, "AA");
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages"), 5);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM audit WHERE "
                              "action = 'message.received'"), 4);
    long dups = hub_sql_long(&hub, "SELECT count(*) FROM audit WHERE "
                             "action = 'message.duplicate'");
    cr_expect_eq(dups, 0, "%ld message.duplicate rows for no re-send", dups);
    /* the sender sends LATE-2 again: a duplicate, audited */
    send_frame(&c, "LATE-2", "MRN-L2", 15000, code);
    cr_expect_str_eq(code, "AA");
    mllp_close(&c);
    dups = hub_sql_long(&hub, "SELECT count(*) FROM audit WHERE "
                        "action = 'message.duplicate' AND object_id = "
                        "(SELECT id::text FROM messages "
                        "WHERE idem_key = 'LATE-2')");
    cr_expect_eq(dups, 1, "%ld message.duplicate rows for LATE-2", dups);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM audit WHERE "
                              "action = 'message.duplicate'"), 1);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages"), 5);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM hub_audit_verify() "
                              "WHERE ok"), 1);
}

/* F1260: a message the database refused (here a CHECK on its key, as a
 * value past hubd's checks would be) is committed again alone, quarantined
 * (commit_singly); that commit went without its job's retry token, so when
 * its answer came late (held by the proxy) the batch's retry, which carries
 * the token, found none recorded and quarantined the message a second time,
 * with a second audit row. */
Test(dbslow, a_requarantine_whose_commit_answer_comes_late_stores_it_once,
     .fini = stop, .timeout = 60)
{
    struct mllp_client c;
    struct store *s;
    char code[3];

    cr_assert_eq(hub_start(&hub, "commit_threads = 1\ndb_commit_timeout = 1\n"
                           "commit_stuck_timeout = 30", true), 0);
    cr_assert(hub_wait_status(&hub, "/readyz", 200, 15000), "not ready");
    cr_assert_eq(store_connect(hub.db_url, &s), HUB_OK);
    /* the refusal; and a quarantine that takes 0.4 s on the server, time
     * enough to hold its answer once hubd has logged the refusal */
    cr_assert_eq(store_exec(s,
        "ALTER TABLE messages ADD CONSTRAINT r104_refuse "
        "CHECK (idem_key NOT LIKE '%REFUSE-1%') NOT VALID;"
        "CREATE FUNCTION r104_slow() RETURNS trigger LANGUAGE plpgsql AS "
        "$$BEGIN PERFORM pg_sleep(0.4); RETURN NEW; END$$;"
        "CREATE TRIGGER r104_slow BEFORE INSERT ON messages FOR EACH ROW "
        "WHEN (NEW.status <> 'accepted') EXECUTE FUNCTION r104_slow();"),
        HUB_OK);
    store_free(s);
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    send_frame(&c, "LATE-1", "MRN-L1", 15000, code);
    cr_assert_str_eq(code, "AA");

    char msg[2048], ack[4096], ctrl[64];
    hl7_sample(msg, sizeof(msg), "REFUSE-1", "MRN-F1");
    cr_assert_eq(mllp_send(&c, msg), 0);
    cr_assert(hub_wait_log(&hub, "ingest.value_refused", 1, 10000));
    dbproxy_hold_answers(hub.proxy, true);
    cr_expect(hub_wait_log(&hub, "store.deadline op=ingest", 1, 5000));
    dbproxy_hold_answers(hub.proxy, false);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 15000), 0, "no answer");
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_neq(code, "AA");

    send_frame(&c, "LATE-3", "MRN-L3", 15000, code);
    cr_expect_str_eq(code, "AA");
    mllp_close(&c);
    expect_quarantined(1);
}

/* F1120: the dispatcher's outcome flush whose commit completed but whose
 * answer came past db_commit_timeout was sent again on a new link; its
 * queue rows no longer held the lease token (the first recording had
 * deleted them), so each outcome was recorded again as a 'lost' attempt:
 * a second 'delivery.attempt' audit row for a request sent once. Now an
 * outcome whose attempt is recorded already is left out. */
Test(dbslow, a_flush_whose_commit_answer_comes_late_audits_each_attempt_once,
     .fini = stop, .timeout = 90)
{
    struct rx *rx;
    struct mllp_client c;
    char code[3];

    evthread_use_pthreads();
    cr_assert_eq(hub_start(&hub, "db_commit_timeout = 1\n"
                           "dispatch_poll_ms = 100", true), 0);
    rx = rx_start(RX_SLOW, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    cr_assert_not_null(rx);
    rx->delay_ms = 0;
    subscribe_adt(rx);
    cr_assert(hub_wait_status(&hub, "/readyz", 200, 15000), "not ready");
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    /* the first outcome flushed: the flush link has its statement
     * prepared (a prepare cut would run nothing) */
    send_frame(&c, "LOST-1", "MRN-O1", 15000, code);
    cr_assert_str_eq(code, "AA");
    cr_assert(rx_wait_distinct(rx, 1, 15000), "LOST-1 not delivered");
    cr_assert_eq(delivered(1, 5000), 1);
    rx->delay_ms = 1500;
    send_frame(&c, "LOST-2", "MRN-O2", 15000, code);
    cr_assert_str_eq(code, "AA");
    mllp_close(&c);

    /* the request is at the receiver: the flush of its outcome commits
     * on a link whose answers are held */
    cr_assert(rx_wait_distinct(rx, 2, 15000), "LOST-2 not delivered");
    dbproxy_hold_answers(hub.proxy, true);
    cr_expect(hub_wait_log(&hub, "store.deadline op=", 1, 10000));
    /* the premise: a flush with the outcome in it was cut */
    cr_expect(hub_wait_log(&hub, "pending_outcomes=1", 1, 10000));
    cr_expect_eq(delivered(2, 15000), 2, "the outcome not recorded");
    hub_sleep_ms(2500);             /* the flush again, on a new link */
    dbproxy_hold_answers(hub.proxy, false);
    hub_sleep_ms(500);
    cr_expect_eq(rx_requests(rx), 2);
    long attempts = hub_sql_long(&hub, "SELECT count(*) FROM audit WHERE "
                                 "action = 'delivery.attempt'");
    long lost = hub_sql_long(&hub, "SELECT count(*) FROM delivery_attempts "
                             "WHERE outcome = 'lost'");
    cr_expect_eq(attempts, 2, "%ld attempt audit rows", attempts);
    cr_expect_eq(lost, 0, "%ld lost", lost);
    rx_stop(rx);
}

/*
 * store.c - the store's session: connecting, running statements (named
 * and prepared on first use, retried after a deadlock), logging failures
 * by SQLSTATE only, ids and hashes, plain SQL and LISTEN/NOTIFY. The
 * ingest batch, the administration and the migrations are in the other
 * store files (store_int.h).
 *
 * Errors are logged as SQLSTATE and constraint name, never PQerrorMessage(),
 * whose DETAIL can quote row values. A broken connection is reset at the
 * start of the next call, so a caller that got HUB_EDB simply retries.
 */
#include "store_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/hub_err.h"
#include "log.h"

/* --- small helpers ------------------------------------------------------- */

void *db_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        abort();                    /* STYLE.md 4: out of memory aborts */
    return p;
}

char *db_xstrndup(const char *p, size_t n)
{
    char *s = db_xmalloc(n + 1);
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* Notices can quote values: dropped, but for the health changes that
 * hub_health_apply() and hub_sub_update() (a switch to pull) report
 * ("hub.health subscription=... from=... to=... reason=... [delivery=...]"),
 * which carry ids and states only; logged with any other byte than those
 * of ids and states replaced. */
static void quiet_notice(void *arg, const PGresult *res)
{
    static const char prefix[] = "hub.health ";
    const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    char line[256];
    size_t n = 0;

    (void)arg;
    if (!m || strncmp(m, prefix, sizeof(prefix) - 1) != 0)
        return;
    for (m += sizeof(prefix) - 1; *m && n < sizeof(line) - 1; m++)
        line[n++] = (isalnum((unsigned char)*m) || strchr(" =_-.", *m))
                    ? *m : '?';
    line[n] = '\0';
    log_info("subscription.health", "%s", line);
}

/* The feed's answers to a reader's cursor (hub_feed_page: 22H10 past the
 * head, 22H11 below what the retention removed), which store_feed reads
 * and hubd answers 409 cursor_ahead and 410 cursor_pruned: the partner's
 * condition, no fault of the store's (F2162) */
static bool feed_answer(const char *st)
{
    return strcmp(st, "22H10") == 0 || strcmp(st, "22H11") == 0;
}

/*
 * Classify a failed result, log it as SQLSTATE + constraint, remember the
 * SQLSTATE. Data exceptions (22), constraint violations (23) and program
 * limits (54: an index entry over its 2.7 kB, as a 9 kB identifier value
 * makes) are the caller's values: HUB_EINVALID, which the ingest answers
 * by quarantining the message that holds them; a lock not granted within
 * the session's lock_timeout (55P03, store_connect_limited) outside an
 * explicit transaction, so that the link is as good as before, is
 * HUB_EBUSY; everything else HUB_EDB, retried. A 54 retried was retried
 * for ever, and held every sender's batch with it. The feed's answers are
 * logged at debug only.
 */
int db_fail(struct store *s, const char *op, const PGresult *r)
{
    const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *cons = r ? PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME)
                         : NULL;

    if (st == NULL)
        st = PQstatus(s->c) == CONNECTION_OK ? "XX000" : "08006";
    memcpy(s->sqlstate, st, strlen(st) < 5 ? strlen(st) : 5);
    s->sqlstate[strlen(st) < 5 ? strlen(st) : 5] = '\0';
    snprintf(s->constraint, sizeof(s->constraint), "%s", cons ? cons : "");
    bool refused = (st[0] == '2' && (st[1] == '2' || st[1] == '3')) ||
                   (st[0] == '5' && st[1] == '4');
    if (feed_answer(s->sqlstate))
        log_debug("store.db_error", "op=%s sqlstate=%s constraint=%s", op,
                  s->sqlstate, cons ? cons : "-");
    else if (!refused || !s->quiet_refusals)
        log_warn("store.db_error", "op=%s sqlstate=%s constraint=%s", op,
                 s->sqlstate, cons ? cons : "-");
    if (refused)
        return HUB_EINVALID;
    if (strcmp(s->sqlstate, "55P03") == 0 &&
        PQtransactionStatus(s->c) == PQTRANS_IDLE)
        return HUB_EBUSY;
    return HUB_EDB;
}

void store_quiet_refusals(struct store *s, bool on)
{
    s->quiet_refusals = on;
}

/* Failed connects, logged at most once per LINK_LOG_MS for the whole
 * process, with failures=N the connects and resets that failed since the
 * last line (this one's included): in an outage every
 * connection of hubd retries on its own back-off (committers, dispatcher,
 * API pool), which logged several lines a second for as long as it lasted. */
#define LINK_LOG_MS 10000
static pthread_mutex_t link_mu = PTHREAD_MUTEX_INITIALIZER;
static long link_failures;              /* since the last line */
static int64_t link_logged_ms;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void link_failed(const char *event, const char *sqlstate)
{
    int64_t now = mono_ms();
    pthread_mutex_lock(&link_mu);
    long n = ++link_failures;
    bool due = link_logged_ms == 0 || now - link_logged_ms >= LINK_LOG_MS;
    if (due) {
        link_logged_ms = now;
        link_failures = 0;
    }
    pthread_mutex_unlock(&link_mu);
    if (due)
        log_warn(event, "sqlstate=%s failures=%ld", sqlstate, n);
}

/* A working link again: the next failure is logged at once. */
static void link_ok(void)
{
    pthread_mutex_lock(&link_mu);
    link_logged_ms = 0;
    link_failures = 0;
    pthread_mutex_unlock(&link_mu);
}

/* --- waiting for the server, bounded (F663, F664) ------------------------ */

int64_t db_now_ms(void)
{
    return mono_ms();
}

/* store_stop_waiting: when it was called (0: not yet) and its grace; a
 * pipe made readable then wakes every wait in poll() at once */
static _Atomic int64_t stop_at_ms;
static atomic_int stop_grace_ms;
static int stop_pipe[2] = { -1, -1 };
static pthread_once_t stop_pipe_once = PTHREAD_ONCE_INIT;

static void stop_pipe_open(void)
{
    if (pipe(stop_pipe) != 0) {
        stop_pipe[0] = stop_pipe[1] = -1;   /* waits then see it late */
        return;
    }
    for (int i = 0; i < 2; i++) {
        (void)fcntl(stop_pipe[i], F_SETFD, FD_CLOEXEC);
        (void)fcntl(stop_pipe[i], F_SETFL, O_NONBLOCK);
    }
}

void store_stop_waiting(int grace_ms)
{
    pthread_once(&stop_pipe_once, stop_pipe_open);
    int64_t none = 0;
    atomic_store(&stop_grace_ms, grace_ms);
    if (!atomic_compare_exchange_strong(&stop_at_ms, &none, mono_ms()))
        return;
    if (stop_pipe[1] >= 0 && write(stop_pipe[1], "s", 1) != 1)
        log_warn("store.stop_wake_failed", "errno=%d", errno);
}

void store_set_statement_timeout(struct store *s, int ms)
{
    s->statement_ms = ms > 0 ? ms : 0;
    db_fence_note(s);               /* a link that may be cut (F1061) */
}

unsigned long store_cuts(const struct store *s)
{
    return s->cuts;
}

/* When a statement started at start must have been answered; INT64_MAX:
 * never. */
static int64_t due_ms(const struct store *s, int64_t start, int64_t stop)
{
    int64_t due = s->statement_ms ? start + s->statement_ms : INT64_MAX;
    if (stop) {
        int64_t by = (start > stop ? start : stop) +
                     atomic_load(&stop_grace_ms);
        if (by < due)
            due = by;
    }
    return due;
}

/* Close the link on this side: libpq reads its end, so the session is
 * bad and the next call opens it again (db_ensure_conn). The backend,
 * should it run again, finds its client gone; the cancel, kept for the
 * next call, stops a live one's work before that. */
void db_end_link(struct store *s)
{
    if (s->cancel == NULL)
        s->cancel = PQgetCancel(s->c);
    db_fence_keep(s);               /* terminated from a new link */
    s->fence_asked = false;         /* the next session is noted anew */
    (void)shutdown(PQsocket(s->c), SHUT_RDWR);
    /* buffered bytes first, then the end: a few reads at most */
    for (int i = 0; i < 16 && PQstatus(s->c) == CONNECTION_OK; i++)
        (void)PQconsumeInput(s->c);
    s->cut = true;
}

/* A statement past its deadline: the link ended, counted, logged */
static void cut_link(struct store *s, const char *op, int64_t waited_ms)
{
    db_end_link(s);
    s->cuts++;
    memcpy(s->sqlstate, "57014", 6);     /* query_canceled, ours */
    log_warn("store.deadline", "op=%s waited_ms=%lld", op,
             (long long)waited_ms);
}

int db_await(struct store *s, const char *op, int64_t start_ms)
{
    PGconn *c = s->c;

    pthread_once(&stop_pipe_once, stop_pipe_open);
    for (;;) {
        int flushed = PQflush(c);       /* 1: more to send */
        if (flushed < 0)
            return HUB_EDB;
        if (!PQconsumeInput(c))
            return PQstatus(c) == CONNECTION_OK ? HUB_EDB : HUB_OK;
        if (flushed == 0 && !PQisBusy(c))
            return HUB_OK;
        int64_t stop = atomic_load(&stop_at_ms);
        int64_t now = mono_ms(), due = due_ms(s, start_ms, stop);
        if (now >= due) {
            cut_link(s, op, now - start_ms);
            return HUB_EBUSY;
        }
        struct pollfd pf[2] = {
            { PQsocket(c), (short)(POLLIN | (flushed ? POLLOUT : 0)), 0 },
            { stop_pipe[0], POLLIN, 0 },
        };
        /* the stop pipe only until the stop came: it stays readable */
        nfds_t n = stop == 0 && stop_pipe[0] >= 0 ? 2 : 1;
        int64_t left = due == INT64_MAX ? -1 : due - now;
        if (poll(pf, n, left > INT_MAX ? INT_MAX : (int)left) < 0 &&
            errno != EINTR)
            return HUB_EDB;
    }
}

/*
 * The store sends no COPY data and reads none, but a statement may start a
 * COPY (a migration file's COPY ... FROM stdin): libpq then hands its
 * COPY result back at every PQgetResult, never NULL, so a loop waiting
 * for the end spun for ever (PQexec stopped there, leaving the link in
 * COPY). A COPY in is ended with a failure: the server answers 57014,
 * which stands as the statement's error, and the link serves the next
 * call. A COPY out is not read: the link is closed on this side as a cut
 * is (not counted as one), the statement fails and the next call opens
 * the link again. 0: r is no COPY; 1: r was freed, read on; -1: r was
 * freed, the link is closed.
 */
static int copy_refused(struct store *s, const char *op, PGresult *r)
{
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COPY_IN && st != PGRES_COPY_OUT && st != PGRES_COPY_BOTH)
        return 0;
    PQclear(r);
    log_warn("store.copy_refused", "op=%s in=%d", op, st == PGRES_COPY_IN);
    if (st == PGRES_COPY_IN &&
        PQputCopyEnd(s->c, "the hub sends no COPY data") == 1)
        return 1;                   /* queued: db_await flushes it */
    db_end_link(s);
    return -1;
}

PGresult *db_result(struct store *s, const char *op, int64_t start_ms,
                    int sent)
{
    PGresult *last = NULL, *r;

    if (!sent)
        return NULL;
    for (;;) {
        if (db_await(s, op, start_ms) != HUB_OK) {
            PQclear(last);
            return NULL;
        }
        if ((r = PQgetResult(s->c)) == NULL)
            return last;
        int copy = copy_refused(s, op, r);
        if (copy > 0)
            continue;
        if (copy < 0) {             /* an error of its own, not a cut's */
            PQclear(last);
            return PQmakeEmptyPGresult(s->c, PGRES_FATAL_ERROR);
        }
        /* as PQexec: the first error stands, else the last result */
        if (last && PQresultStatus(last) == PGRES_FATAL_ERROR) {
            PQclear(r);
            continue;
        }
        PQclear(last);
        last = r;
    }
}

/*
 * The cancel of a cut statement, bounded (F767). libpq 15's PQcancel
 * connects with a blocking connect() that nothing bounds but the kernel's
 * SYN retries (about two minutes; tcp_user_timeout, 30 s, where it applies),
 * and a host that drops packets held the cut store's next call that long.
 * It runs on a thread of its own, which owns the PGcancel; the caller waits
 * for it at most CANCEL_WAIT_MS (a live server answers in a round trip, so
 * the cancel still goes before the new session) and then goes on without
 * it. At most CANCEL_THREADS_MAX run at once: past that a cancel is not
 * sent (the backend ends the statement when it next writes to its closed
 * client).
 */
#define CANCEL_WAIT_MS 1000
#define CANCEL_THREADS_MAX 8

struct cancel_job {
    PGcancel *pc;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done, sent, abandoned;
};

static atomic_int cancels_running;

static void cancel_job_free(struct cancel_job *j)
{
    PQfreeCancel(j->pc);
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
    free(j);
}

static void *cancel_main(void *arg)
{
    struct cancel_job *j = arg;
    char why[128];                  /* libpq's words: not logged */
    bool sent = PQcancel(j->pc, why, sizeof(why)) != 0;

    pthread_mutex_lock(&j->mu);
    j->done = true;
    j->sent = sent;
    bool abandoned = j->abandoned;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    if (abandoned) {                /* the caller went on: ours to free */
        if (!sent)
            log_warn("store.cancel_failed", "sqlstate=08006 late=1");
        cancel_job_free(j);
    }
    atomic_fetch_sub(&cancels_running, 1);
    return NULL;
}

/* Send the cancel a cut kept (s->cancel), waiting at most CANCEL_WAIT_MS. */
static void send_cancel(struct store *s)
{
    PGcancel *pc = s->cancel;
    pthread_condattr_t ca;
    pthread_attr_t ta;
    pthread_t t;

    s->cancel = NULL;
    if (pc == NULL)
        return;
    if (atomic_fetch_add(&cancels_running, 1) >= CANCEL_THREADS_MAX) {
        atomic_fetch_sub(&cancels_running, 1);
        log_warn("store.cancel_skipped", "running=%d", CANCEL_THREADS_MAX);
        PQfreeCancel(pc);
        return;
    }
    struct cancel_job *j = db_xmalloc(sizeof(*j));
    memset(j, 0, sizeof(*j));
    j->pc = pc;
    pthread_mutex_init(&j->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&j->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_attr_init(&ta);
    pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
    int made = pthread_create(&t, &ta, cancel_main, j);
    pthread_attr_destroy(&ta);
    if (made != 0) {
        atomic_fetch_sub(&cancels_running, 1);
        log_warn("store.cancel_failed", "sqlstate=08006 thread=0");
        cancel_job_free(j);
        return;
    }
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += CANCEL_WAIT_MS / 1000;
    until.tv_nsec += (long)(CANCEL_WAIT_MS % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&j->mu);
    while (!j->done &&
           pthread_cond_timedwait(&j->cv, &j->mu, &until) == 0)
        ;
    bool done = j->done, sent = j->sent;
    if (!done)
        j->abandoned = true;
    pthread_mutex_unlock(&j->mu);
    if (!done) {
        log_warn("store.cancel_unanswered", "waited_ms=%d", CANCEL_WAIT_MS);
        return;                     /* the thread frees it */
    }
    if (!sent)
        log_warn("store.cancel_failed", "sqlstate=08006");
    cancel_job_free(j);
}

/* Make sure the link is up: reset a broken connection once, after
 * cancelling what a cut left running on the old one. */
int db_ensure_conn(struct store *s)
{
    if (PQstatus(s->c) == CONNECTION_OK && !s->cut) {
        db_fence_send(s);           /* what cut links left (F1061) */
        return s->cut ? HUB_EDB : HUB_OK;
    }
    /* not once hubd stops: no new link then (store_stop_waiting), and no
     * cancel to a server that may not answer */
    if (atomic_load(&stop_at_ms) != 0)
        return HUB_EDB;
    send_cancel(s);
    PQreset(s->c);
    s->ingest_prepared = false;     /* a new session */
    s->n_prepared = 0;
    if (PQstatus(s->c) != CONNECTION_OK) {
        link_failed("store.reconnect_failed", "08006");
        return HUB_EDB;
    }
    (void)PQsetnonblocking(s->c, 1);
    s->cut = false;
    link_ok();
    log_info("store.reconnected", "ok=1");
    s->fence_asked = false;
    db_fence_note(s);
    db_fence_send(s);
    return s->cut || PQstatus(s->c) != CONNECTION_OK ? HUB_EDB : HUB_OK;
}

/*
 * A batch whose commit was reported but whose wait for durability did not
 * return (cut at db_commit_timeout, the link lost): the wait alone again,
 * on a new link when the old one is gone, until it returns or hubd stops
 * waiting (store_stop_waiting). Sending the batch again stored each of its
 * messages without a key (the refused ones, quarantined) once more, with
 * its audit row, at every try (F1060). A later transaction's synchronous
 * commit flushes the WAL past the batch's commit whatever its session.
 */
int db_durable_again(struct store *s)
{
    pthread_once(&stop_pipe_once, stop_pipe_open);
    for (int delay = 50;; delay = delay * 2 > 2000 ? 2000 : delay * 2) {
        if (db_ensure_conn(s) == HUB_OK && store_durable(s) == HUB_OK)
            return HUB_OK;
        if (atomic_load(&stop_at_ms) != 0)
            return HUB_EDB;
        log_warn("store.durable_retry", "sqlstate=%s delay_ms=%d",
                 s->sqlstate, delay);
        struct pollfd pf = { stop_pipe[0], POLLIN, 0 };
        if (stop_pipe[0] < 0 || poll(&pf, 1, delay) < 0)
            (void)poll(NULL, 0, delay);
    }
}

int db_exec_cmd(struct store *s, const char *op, const char *sql)
{
    PGresult *r = db_result(s, op, mono_ms(), PQsendQuery(s->c, sql));
    int rc = HUB_OK;
    if (r == NULL && s->cut)
        return HUB_EBUSY;
    ExecStatusType st = PQresultStatus(r);

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = db_fail(s, op, r);
    PQclear(r);
    return rc;
}

/* Run a parameterised statement (text in, text out); NULL on failure with
 * *rc set. */
/* Times a statement cancelled by a deadlock or a serialization failure is
 * run again before the failure is returned. */
#define STORE_CONFLICT_TRIES 4

/*
 * One statement. When it is a transaction of its own (no transaction open
 * on the connection) and PostgreSQL cancelled it with 40P01 (deadlock) or
 * 40001 (serialization failure), it was rolled back whole: it is run again,
 * up to STORE_CONFLICT_TRIES times in all, and each retry logged by op and
 * SQLSTATE only. So the dispatcher's outcome flush, the API's and hubctl's
 * subscription and replay writes neither lose their work nor answer 500 for
 * a conflict another transaction caused (the delivery functions keep one
 * lock order, 001_init.sql, so this is the safety net, not the plan).
 */
static bool is_prepared(const struct store *s, const char *name)
{
    for (int i = 0; i < s->n_prepared; i++)
        if (s->prepared[i] == name)
            return true;
    return false;
}

/*
 * sql as the statement `name`, prepared on its first use in a session (the
 * unnamed statement is parsed, analysed and planned again on every call),
 * or unnamed when name is NULL, when STORE_PREPARED_MAX names are in use,
 * or when preparing fails. A session that does not know the name (26000:
 * behind a transaction-mode pooler the next call may reach another server
 * session) gets it prepared again, once; no session state is required.
 */
static PGresult *exec_one(struct store *s, const char *op, const char *name,
                          const char *sql, int n, const char *const *params,
                          int64_t start)
{
    for (int tries = 0; name && tries < 2; tries++) {
        if (!is_prepared(s, name)) {
            if (s->n_prepared == STORE_PREPARED_MAX)
                break;
            PGresult *p = db_result(s, op, start,
                                    PQsendPrepare(s->c, name, sql, n, NULL));
            if (p == NULL && s->cut)
                return NULL;
            const char *st = PQresultErrorField(p, PG_DIAG_SQLSTATE);
            /* 42P05: it exists after all (a pooler's other session) */
            bool ok = PQresultStatus(p) == PGRES_COMMAND_OK ||
                      (st && strcmp(st, "42P05") == 0);
            PQclear(p);
            if (!ok)
                break;
            s->prepared[s->n_prepared++] = name;
        }
        PGresult *r = db_result(s, op, start,
                                PQsendQueryPrepared(s->c, name, n, params,
                                                    NULL, NULL, 0));
        const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (r == NULL || st == NULL || strcmp(st, "26000") != 0)
            return r;
        PQclear(r);
        s->n_prepared = 0;          /* another session: none of them */
    }
    return db_result(s, op, start,
                     PQsendQueryParams(s->c, sql, n, NULL, params, NULL,
                                       NULL, 0));
}

PGresult *db_run_named(struct store *s, const char *op, const char *name,
                           const char *sql, int n, const char *const *params,
                           int *rc)
{
    *rc = db_ensure_conn(s);
    if (*rc != HUB_OK)
        return NULL;
    bool own_txn = PQtransactionStatus(s->c) == PQTRANS_IDLE;
    int64_t start = mono_ms();      /* the deadline is the whole call's */
    PGresult *r;
    ExecStatusType st;
    for (int attempt = 1;; attempt++) {
        r = exec_one(s, op, name, sql, n, params, start);
        if (r == NULL && s->cut) {
            *rc = HUB_EBUSY;
            return NULL;
        }
        st = PQresultStatus(r);
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
            break;
        const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (!own_txn || attempt == STORE_CONFLICT_TRIES || code == NULL ||
            (strcmp(code, "40P01") != 0 && strcmp(code, "40001") != 0))
            break;
        log_warn("store.conflict_retry", "op=%s sqlstate=%s attempt=%d",
                 op, code, attempt);
        PQclear(r);
    }
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        *rc = db_fail(s, op, r);
        PQclear(r);
        return NULL;
    }
    *rc = HUB_OK;
    return r;
}

PGresult *db_run(struct store *s, const char *op, const char *sql,
                     int n, const char *const *params, int *rc)
{
    return db_run_named(s, op, NULL, sql, n, params, rc);
}

/* --- connection ---------------------------------------------------------- */

/* The session options to send with a lock_timeout of ms (> 0): the URL's
 * own `options`, else PGOPTIONS (libpq reads the environment only for a
 * key not given), then ours, which PostgreSQL applies last. Sent alone, ours
 * replaced an operator's search_path; sent before dbname, the URL's
 * options replaced ours, and the pool waited on locks for ever (F660).
 * `own` gets the operator's part alone. Both malloc'd. */
static char *session_options(const char *url, int ms, char **own)
{
    const char *o = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, NULL);

    for (PQconninfoOption *k = opts; k && k->keyword; k++)
        if (strcmp(k->keyword, "options") == 0 && k->val && *k->val)
            o = k->val;
    if (o == NULL)
        o = getenv("PGOPTIONS");
    if (o == NULL)
        o = "";
    size_t n = strlen(o) + 48;
    char *all = db_xmalloc(n);
    snprintf(all, n, "%s%s-c lock_timeout=%d", o, *o ? " " : "", ms);
    *own = db_xmalloc(strlen(o) + 1);
    memcpy(*own, o, strlen(o) + 1);
    PQconninfoFree(opts);
    return all;
}

/* A pooler that takes no `options` startup parameter (PgBouncer answers
 * "unsupported startup parameter: options" unless told to ignore it)
 * refused every pool connection, so every API read and credential look-up
 * was 503 (F661): the session is opened without the lock bound, said once
 * in the log; db_wait_timeout still bounds the jobs queued behind it. */
static bool options_refused(const PGconn *c)
{
    static atomic_bool said;
    if (c == NULL || strstr(PQerrorMessage(c), "unsupported startup "
                                                "parameter") == NULL)
        return false;
    if (!atomic_exchange(&said, true))
        log_warn("store.lock_timeout_refused", "why=\"the server or pooler "
                 "takes no options startup parameter\"");
    return true;
}

static int connect_as(const char *url, const char *app, int lock_timeout_ms,
                      struct store **out, char *why, size_t n)
{
    struct store *s;

    *out = NULL;
    if (url == NULL || *url == '\0')
        return HUB_EINVALID;
    if (atomic_load(&stop_at_ms) != 0)
        return HUB_EDB;             /* see store_stop_waiting */
    s = db_xmalloc(sizeof(*s));
    memset(s, 0, sizeof(*s));
    /* defaults that the URL may override (dbname is expanded after them):
     * do not wait forever for a server that is gone, and notice a dead TCP
     * link in seconds rather than the kernel's two hours. The options come
     * after dbname, so that the URL's own cannot drop the lock bound. */
    static const char *const keys[] = {
        "connect_timeout", "keepalives_idle", "keepalives_interval",
        "keepalives_count", "tcp_user_timeout", "application_name",
        "dbname", "options", NULL };
    /* as a connection option, not a SET: a link reset keeps it */
    char *own = NULL;
    char *options = lock_timeout_ms > 0
                        ? session_options(url, lock_timeout_ms, &own) : NULL;
    const char *vals[] = { "5", "15", "5", "3", "30000", app, url, options,
                           NULL };
    s->c = PQconnectdbParams(keys, vals, 1);
    if (options && PQstatus(s->c) != CONNECTION_OK &&
        options_refused(s->c)) {
        PQfinish(s->c);
        vals[7] = own;
        s->c = PQconnectdbParams(keys, vals, 1);
    }
    free(options);
    free(own);
    if (s->c == NULL || PQstatus(s->c) != CONNECTION_OK) {
        link_failed("store.connect_failed", "08001");
        if (why && n)
            snprintf(why, n, "%s", s->c ? PQerrorMessage(s->c)
                                        : "out of memory");
        PQfinish(s->c);
        free(s);
        return HUB_EDB;
    }
    link_ok();
    PQsetNoticeReceiver(s->c, quiet_notice, NULL);
    /* sent and waited for by db_await, never blocking in libpq */
    (void)PQsetnonblocking(s->c, 1);
    *out = s;
    return HUB_OK;
}

int store_connect(const char *url, struct store **out)
{
    return store_connect_as(url, "hub", out);
}

int store_connect_as(const char *url, const char *app, struct store **out)
{
    return connect_as(url, app, 0, out, NULL, 0);
}

int store_connect_limited(const char *url, const char *app,
                          int lock_timeout_ms, struct store **out)
{
    return connect_as(url, app, lock_timeout_ms, out, NULL, 0);
}

int store_url_check(const char *url, char *why, size_t n)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &perr);

    why[0] = '\0';
    PQfreemem(perr);            /* it may quote the URL, password and all */
    if (opts == NULL) {
        snprintf(why, n, "DATABASE_URL is not a libpq URL "
                 "(postgresql://USER@HOST:PORT/DB) or key=value string");
        return HUB_EINVALID;
    }
    PQconninfoFree(opts);
    return HUB_OK;
}

int store_connect_why(const char *url, struct store **out, char *why,
                      size_t n)
{
    if (store_url_check(url, why, n) != HUB_OK) {
        *out = NULL;
        return HUB_EINVALID;
    }
    return connect_as(url, "hub", 0, out, why, n);
}

void store_free(struct store *s)
{
    if (s == NULL)
        return;
    /* a committer frees its store after a cut (F765): the backend, should
     * it run again, is told to stop the work nobody waits for; not once
     * hubd stops, as in db_ensure_conn */
    if (atomic_load(&stop_at_ms) == 0)
        send_cancel(s);
    PQfreeCancel(s->cancel);
    PQfinish(s->c);
    free(s);
}

int store_ping(struct store *s)
{
    int rc = db_ensure_conn(s);
    if (rc != HUB_OK)
        return rc;
    rc = db_exec_cmd(s, "ping", "SELECT 1");
    if (rc != HUB_OK && PQstatus(s->c) != CONNECTION_OK)
        rc = db_ensure_conn(s) == HUB_OK ? db_exec_cmd(s, "ping", "SELECT 1")
                                      : HUB_EDB;
    return rc;
}

int store_durable(struct store *s)
{
    int rc;
    PGresult *r = db_run(s, "durable", DURABLE_SQL, 0, NULL, &rc);
    PQclear(r);
    return rc;
}

const char *store_last_sqlstate(const struct store *s)
{
    return s->sqlstate;
}

/* --- ids and hashes ------------------------------------------------------ */

/*
 * The random part of ids comes from RAND_bytes in blocks of ID_POOL bytes,
 * one block per thread: each RAND_bytes call costs more than the bytes (a
 * fork check, which is a getpid() system call, and the DRBG's locking and
 * parameter lookups), and an ingest needs two or three ids a message. A
 * fork makes every thread's block stale: the child would hand out the
 * same bytes as the parent, so a child draws a new block first.
 */
#define ID_POOL 320                 /* 32 ids of 10 bytes */

static unsigned id_fork_gen;        /* bumped in the child of a fork */
static pthread_once_t id_once = PTHREAD_ONCE_INIT;

static _Thread_local struct {
    unsigned char b[ID_POOL];
    size_t used;                    /* ID_POOL until the first draw */
    unsigned gen;
} id_pool = { .used = ID_POOL };

static void id_after_fork(void)
{
    __atomic_add_fetch(&id_fork_gen, 1, __ATOMIC_RELAXED);
}

static void id_register_fork(void)
{
    if (pthread_atfork(NULL, NULL, id_after_fork) != 0)
        abort();
}

static void id_random(unsigned char out[10])
{
    unsigned gen = __atomic_load_n(&id_fork_gen, __ATOMIC_RELAXED);

    if (id_pool.used + 10 > ID_POOL || id_pool.gen != gen) {
        pthread_once(&id_once, id_register_fork);
        /* after the registration: a fork from now on bumps the count */
        gen = __atomic_load_n(&id_fork_gen, __ATOMIC_RELAXED);
        if (RAND_bytes(id_pool.b, ID_POOL) != 1)
            abort();                /* no entropy: ids would collide */
        id_pool.used = 0;
        id_pool.gen = gen;
    }
    memcpy(out, id_pool.b + id_pool.used, 10);
    /* spent bytes are not left behind for anyone to read back */
    memset(id_pool.b + id_pool.used, 0, 10);
    id_pool.used += 10;
}

void store_new_id(char out[STORE_ID_LEN + 1])
{
    static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; /* Crockford */
    unsigned char rnd[10];
    struct timespec ts;
    __extension__ unsigned __int128 v;

    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    id_random(rnd);
    v = ms & 0xffffffffffffull;
    for (size_t i = 0; i < sizeof(rnd); i++)
        v = (v << 8) | rnd[i];
    /* 128 bits in 26 digits of 5 bits: the first digit holds the top 3 */
    for (int i = STORE_ID_LEN - 1; i >= 0; i--) {
        out[i] = b32[(unsigned)(v & 31u)];
        v >>= 5;
    }
    out[STORE_ID_LEN] = '\0';
}

/* SHA-256 fetched once: EVP_sha256() makes every digest look the
 * implementation up again (a provider query with its locks and string
 * compares, about as long as hashing a short message). */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void store_sha256_hex(const void *p, size_t n, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int mdlen = 0;

    pthread_once(&sha256_once, sha256_fetch);
    if (sha256_md == NULL ||
        EVP_Digest(p, n, md, &mdlen, sha256_md, NULL) != 1 || mdlen != 32)
        abort();
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

/* --- plain SQL ----------------------------------------------------------- */

int store_exec(struct store *s, const char *sql)
{
    int rc = db_ensure_conn(s);
    if (rc != HUB_OK)
        return rc;
    return db_exec_cmd(s, "exec", sql);
}

int store_query(struct store *s, const char *sql, int nparams,
                const char *const *params, struct store_rows **out)
{
    int rc;

    *out = NULL;
    PGresult *r = db_run(s, "query", sql, nparams, params, &rc);
    if (r == NULL)
        return rc;
    *out = db_xmalloc(sizeof(**out));
    (*out)->r = r;
    return HUB_OK;
}

int store_query_prepared(struct store *s, const char *name, const char *sql,
                         int nparams, const char *const *params,
                         struct store_rows **out)
{
    int rc;

    *out = NULL;
    PGresult *r = db_run_named(s, "query", name, sql, nparams, params, &rc);
    if (r == NULL)
        return rc;
    *out = db_xmalloc(sizeof(**out));
    (*out)->r = r;
    return HUB_OK;
}

int store_rows_count(const struct store_rows *r)
{
    return r ? PQntuples(r->r) : 0;
}

const char *store_rows_get(const struct store_rows *r, int row, int col)
{
    if (r == NULL || row < 0 || row >= PQntuples(r->r) || col < 0 ||
        col >= PQnfields(r->r) || PQgetisnull(r->r, row, col))
        return NULL;
    return PQgetvalue(r->r, row, col);
}

void store_rows_free(struct store_rows *r)
{
    if (r == NULL)
        return;
    PQclear(r->r);
    free(r);
}

int store_query_text(struct store *s, const char *sql, int nparams,
                     const char *const *params, char **out)
{
    int rc;

    *out = NULL;
    PGresult *r = db_run(s, "query", sql, nparams, params, &rc);
    if (r == NULL)
        return rc;
    if (PQntuples(r) > 0 && PQnfields(r) > 0 && !PQgetisnull(r, 0, 0))
        *out = db_xstrndup(PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0));
    PQclear(r);
    return HUB_OK;
}

/* --- LISTEN/NOTIFY wake-ups (issue 4, dispatch) ------------------------- */

int store_listen(struct store *s, const char *channel)
{
    char sql[96];
    size_t n = channel ? strlen(channel) : 0;

    /* an identifier we write ourselves, never input: checked anyway */
    if (n == 0 || n > 63 ||
        strspn(channel, "abcdefghijklmnopqrstuvwxyz_") != n)
        return HUB_EINVALID;
    snprintf(sql, sizeof(sql), "LISTEN %s", channel);
    return store_exec(s, sql);
}

int store_socket(const struct store *s)
{
    return PQstatus(s->c) == CONNECTION_OK ? PQsocket(s->c) : -1;
}

int store_notifications(struct store *s)
{
    return store_notifications_each(s, NULL, NULL);
}

int store_notifications_each(struct store *s, store_notify_fn fn, void *arg)
{
    PGnotify *nt;
    int n = 0;

    if (!PQconsumeInput(s->c))
        return HUB_EDB;
    while ((nt = PQnotifies(s->c)) != NULL) {
        n++;
        if (fn)
            fn(arg, nt->relname, nt->extra ? nt->extra : "");
        PQfreemem(nt);
    }
    /* the server's FATAL (pg_terminate_backend, a shutdown) may come in
     * one read with its close: the link is gone even though the read was */
    if (PQstatus(s->c) != CONNECTION_OK)
        return HUB_EDB;
    return n;
}

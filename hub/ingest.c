/*
 * ingest.c - committer threads and group commit.
 *
 * Queues (each under its own mutex):
 *   pending: loop thread -> committers. A committer takes everything pending
 *            up to commit_batch_max as ONE transaction (group commit: what
 *            arrived while the previous commit was in fsync shares the next).
 *            Right after a commit it first waits, at most INGEST_GATHER_NS
 *            after that commit, for as many jobs as that commit answered:
 *            their senders answer within a round trip, and without the wait
 *            closed-loop senders split into two cohorts that alternate
 *            half-size commits, each paying the commit's fixed cost.
 *            With several committers (commit_threads > 1), committer 0
 *            works as a lone one would; another takes a batch only when at
 *            least INGEST_MIN_SHARE jobs are pending, and each batch takes
 *            at most its share of what is in flight: the senders settle
 *            into one cohort per committer, and one cohort's batch runs
 *            its work outside the chain lock (hub_ingest_fast) while
 *            another's holds the lock or waits for its flush. While
 *            committer 0 has no working connection, the others work as it
 *            would (any pending job), so that a quiet feed's few jobs do
 *            not wait for its reconnect.
 *   done:    committers -> loop thread, then event_active(done_ev).
 * Counters of what is in flight are touched by the loop thread only (the
 * committers read an atomic copy of the count).
 *
 * A database failure never drops a batch: the committer puts it back at the
 * head of the queue, in order, frees its connection and reconnects with
 * exponential backoff (50 ms .. 2 s); a committer takes jobs only while it
 * holds a connection, so the batch is retried by one that does (at once, if
 * another committer's link works; after the reconnect if the database is
 * down). A retry after an unknown commit outcome is safe because the store
 * de-duplicates on (org, key). A statement the server does not answer
 * within db_commit_timeout is such a failure (the link cut, a cancel sent
 * as the store is freed, the batch retried on a new link: F765), so a
 * backend that does not run holds the node's ingest no longer than that.
 * Meanwhile ingest_ready() is false and the in-flight caps (which count
 * queued jobs too) make the listeners push back. At shutdown, what the
 * database never took by the deadline is answered as not committed.
 */
#include "ingest.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/jw.h"
#include "config.h"
#include "log.h"
#include "metrics.h"

/* How long after a commit a committer waits for the senders it just
 * answered (see the header). A bound on the latency it can add; a loopback
 * round trip plus parsing is well under it. */
#define INGEST_GATHER_NS 1000000u

/* The smallest share of the in-flight jobs a committer takes when there are
 * several (see committer_main): below it, a batch's fixed cost (about a
 * millisecond of database time) outweighs what overlapping two batches
 * wins, measured at 8 and 32 closed-loop MLLP senders. */
#define INGEST_MIN_SHARE 16u

struct waiter {
    void (*cb)(void *);
    void *arg;
    struct waiter *next;
};

struct committer {
    struct ingest *ing;
    pthread_t tid;
    int idx;
    char app[32];                   /* application_name: hubd-commit-N */
    int healthy;                    /* atomic: has a working connection */
    uint64_t commit_since_ns;       /* atomic: 0, or when the running
                                       store_ingest_batch started */
    unsigned long cuts_seen;        /* store_cuts of its store, counted */
    size_t wake_at;                 /* under ing->mu: while it waits on its
                                       condition, the pending count worth
                                       waking it for; 0: not waiting */
};



struct ingest {
    struct event_base *base;
    struct event *done_ev;
    char url[1024];
    size_t batch_max;
    int wait_us;
    int shutdown_timeout;
    /* a commit running longer than this makes the process not ready: the
     * database is reachable but stuck (locks, full disk), and a load
     * balancer should send senders elsewhere */
    uint64_t stuck_ns;
    /* each statement of a committer is cut past this on hubd's clock
     * (db_commit_timeout; 0: none): a backend that does not run answers
     * nothing, and the node ingested nothing until it ran again (F765) */
    int commit_ms;

    pthread_mutex_t mu;             /* pending + stop */
    pthread_cond_t cv;              /* committer 0: a job is pending */
    pthread_cond_t cv_help;         /* the others: a share is pending */
    pthread_cond_t cv_stop;         /* a reconnect back-off: stopping */
    struct ingest_job *pend_head, *pend_tail;
    size_t pend_n;                  /* jobs in the pending list */
    int stopping;
    struct timespec stop_deadline;

    pthread_mutex_t done_mu;
    struct ingest_job *done_head, *done_tail;

    /* loop thread only */
    size_t inflight, inflight_bytes;
    size_t inflight_now;            /* atomic copy of inflight, for the
                                       committers' share (see below) */
    size_t max_msgs, max_bytes;
    struct waiter *waiters, *waiters_tail;
    uint64_t unready_logged_ns;     /* ingest_log_unready's last line */
    uint64_t unready_refused;       /* requests refused while not ready */

    struct committer *c;
    int n_c;
};

uint64_t ingest_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct ingest_job *ingest_job_new(void)
{
    struct ingest_job *j = calloc(1, sizeof(*j));
    if (j == NULL)
        abort();
    arena_init(&j->a, 16 * 1024);
    return j;
}

void ingest_job_free(struct ingest_job *j)
{
    if (j == NULL)
        return;
    store_msg_result_release(&j->res);
    arena_release(&j->a);
    free(j);
}

/* Now as ISO 8601 UTC with milliseconds ("2026-01-02T03:04:05.678Z"). The
 * part down to the second is formatted once a second per thread (gmtime_r
 * and strftime are most of the cost of a message's timestamp). */
static void received_now(char out[32])
{
    static _Thread_local time_t sec_of = -1;
    static _Thread_local char sec[24];
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != sec_of) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        if (strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
            sec[0] = '\0';
        sec_of = ts.tv_sec;
    }
    unsigned ms = (unsigned)(ts.tv_nsec / 1000000);
    size_t n = strnlen(sec, 20);
    memcpy(out, sec, n);
    out[n] = '.';
    out[n + 1] = (char)('0' + ms / 100);
    out[n + 2] = (char)('0' + ms / 10 % 10);
    out[n + 3] = (char)('0' + ms % 10);
    out[n + 4] = 'Z';
    out[n + 5] = '\0';
}

void ingest_job_init(struct ingest_job *j, const char *org_id,
                     const char *format, const char *p, size_t len)
{
    char *raw = arena_alloc(&j->a, len + 1);

    snprintf(j->org_id, sizeof(j->org_id), "%s", org_id);
    if (len)
        memcpy(raw, p, len);
    raw[len] = '\0';
    j->msg.org_id = j->org_id;
    j->msg.format = format;
    j->msg.raw = (struct slice){ raw, len };
    store_sha256_hex(raw, len, j->msg.sha256);
    received_now(j->msg.received_at);
    j->bytes = len + sizeof(*j);
    if (j->t_start_ns == 0)
        j->t_start_ns = ingest_now_ns();
}

/* A key longer than this is stored as "sha256:" and its hash. The
 * idempotency index (messages_org_key_accepted) takes an entry of at most
 * about 2.7 kB: a longer key (an MSH-10 of 9 kB that does not compress)
 * failed the whole group commit with SQLSTATE 54000, and the committers
 * retried it for ever, answering no sender of any organization. 512
 * bytes, three times that once invalid bytes become U+FFFD, stay well
 * under; HL7 v2.7 gives MSH-10 199 characters. The same key still hashes
 * the same, so a re-send is still found. */
#define INGEST_KEY_MAX 512

static struct slice key_capped(struct ingest_job *j, struct slice key)
{
    if (key.len > INGEST_KEY_MAX) {
        char *k = arena_alloc(&j->a, 7 + 65);
        memcpy(k, "sha256:", 7);
        store_sha256_hex(key.p, key.len, k + 7);
        key = (struct slice){ k, 7 + 64 };
    }
    return key;
}

void ingest_job_accept(struct ingest_job *j, struct slice key,
                       struct slice reply)
{
    key = key_capped(j, key);
    char(*ids)[STORE_ID_LEN + 1] =
        arena_alloc(&j->a, (j->events.n + 1) * sizeof(*ids));
    for (size_t i = 0; i < j->events.n; i++)
        store_new_id(ids[i]);
    memcpy(j->ack_code, "AA", 3);
    j->msg.accepted = true;
    j->msg.key = key;
    j->msg.reply = (struct slice){ arena_strndup(&j->a, reply.p, reply.len),
                                   reply.len };
    j->msg.ev = j->events.ev;
    j->msg.n_ev = j->events.n;
    j->msg.ev_id = (const char(*)[STORE_ID_LEN + 1])ids;
}

void ingest_job_old_key(struct ingest_job *j, struct slice key)
{
    /* capped as the older code capped it, so that it is found */
    j->msg.old_key = key.len ? key_capped(j, key) : SLICE_NULL;
}

/* The quarantined message's stored error, in j's arena */
static struct slice error_json(struct ingest_job *j, const struct hub_err *err,
                               const char *what)
{
    struct jw w;
    struct slice out = SLICE_NULL;

    jw_init(&w, &j->a, 4096);
    jw_obj_begin(&w);
    jw_kv_cstr(&w, "code", hub_strerror(err->code));
    jw_kv_cstr(&w, "field", hub_err_field(err));
    jw_key(&w, "offset");
    jw_int(&w, (int64_t)err->offset);
    jw_kv_cstr(&w, "message", what);
    jw_obj_end(&w);
    if (jw_finish(&w, &out) != HUB_OK)
        out = SLICE_LIT("{\"code\":\"limit\"}");
    return out;
}

void ingest_job_reject(struct ingest_job *j, const struct hub_err *err,
                       struct slice reply)
{
    j->err = *err;
    if (j->err.what == NULL)
        j->err.what = "rejected";
    memcpy(j->ack_code, "AE", 3);
    j->msg.accepted = false;
    j->msg.key = SLICE_NULL;
    j->msg.old_key = SLICE_NULL;
    j->msg.ev = NULL;
    j->msg.n_ev = 0;
    j->n_parts = 0;             /* the whole raw message holds them */
    j->msg.error_json = error_json(j, err, j->err.what);
    j->msg.reply = (struct slice){ arena_strndup(&j->a, reply.p, reply.len),
                                   reply.len };
}

struct slice ingest_job_answer(const struct ingest_job *j)
{
    if (j->res.duplicate && j->res.reply)
        return (struct slice){ j->res.reply, j->res.reply_len };
    return j->msg.reply;
}

void ingest_job_ack_code(const struct ingest_job *j, char out[3])
{
    struct slice a = ingest_job_answer(j);

    memcpy(out, j->ack_code, 3);
    if (!j->res.duplicate)
        return;
    /* MSA-1 of the stored ACK: "MSA" <field separator> code */
    for (size_t i = 0; i + 6 <= a.len; i++) {
        if ((i == 0 || a.p[i - 1] == '\r' || a.p[i - 1] == '\n') &&
            memcmp(a.p + i, "MSA", 3) == 0) {
            out[0] = a.p[i + 4];
            out[1] = a.p[i + 5];
            out[2] = '\0';
            return;
        }
    }
}

/* ---- committer threads ------------------------------------------------ */

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static bool past(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return now.tv_sec > t->tv_sec ||
           (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

static bool give_up(struct ingest *ing)
{
    bool r;
    pthread_mutex_lock(&ing->mu);
    r = ing->stopping && past(&ing->stop_deadline);
    pthread_mutex_unlock(&ing->mu);
    return r;
}

/* Shutting down and nothing is pending: a committer without a connection
 * need not wait for the database to exit. */
static bool stop_idle(struct ingest *ing)
{
    bool r;
    pthread_mutex_lock(&ing->mu);
    r = ing->stopping && ing->pend_head == NULL;
    pthread_mutex_unlock(&ing->mu);
    return r;
}

/* Sleep ms, or less when the shutdown begins meanwhile: a committer in
 * its 2 s back-off would otherwise hold the exit up that long. */
static void backoff_sleep(struct ingest *ing, long ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&ing->mu);
    int was_stopping = ing->stopping;
    while (ing->stopping == was_stopping &&
           pthread_cond_timedwait(&ing->cv_stop, &ing->mu, &until) == 0)
        ;
    pthread_mutex_unlock(&ing->mu);
}

/* Connect, with backoff, until connected or giving up at shutdown. */
static struct store *connect_backoff(struct committer *c)
{
    struct ingest *ing = c->ing;
    long delay = 50;
    struct store *s = NULL;

    for (;;) {
        if (store_connect_as(ing->url, c->app, &s) == HUB_OK) {
            store_set_statement_timeout(s, ing->commit_ms);
            c->cuts_seen = 0;
            __atomic_store_n(&c->healthy, 1, __ATOMIC_RELAXED);
            log_info("ingest.db_connected", "committer=%d", c->idx);
            return s;
        }
        __atomic_store_n(&c->healthy, 0, __ATOMIC_RELAXED);
        if (give_up(ing) || stop_idle(ing))
            return NULL;
        backoff_sleep(ing, delay);
        if (stop_idle(ing))
            return NULL;
        delay = delay * 2 > 2000 ? 2000 : delay * 2;
    }
}

/* The statements of s cut at db_commit_timeout since the last look,
 * counted (hub_db_busy_total{reason="commit_deadline"}) */
static void count_cuts(struct committer *c, const struct store *s)
{
    for (unsigned long n = store_cuts(s); c->cuts_seen < n; c->cuts_seen++)
        metrics_db_busy(METRIC_DB_COMMIT_DEADLINE);
}

static void deliver(struct ingest *ing, struct ingest_job *head,
                    struct ingest_job *tail)
{
    pthread_mutex_lock(&ing->done_mu);
    if (ing->done_tail)
        ing->done_tail->next = head;
    else
        ing->done_head = head;
    ing->done_tail = tail;
    pthread_mutex_unlock(&ing->done_mu);
    event_active(ing->done_ev, EV_READ, 0);
}

/* Committer 0 holds a working connection. While it does not, another
 * committer works as it would (takes any pending job), so that a quiet
 * feed's jobs are not left to wait for its reconnect. */
static bool first_healthy(const struct ingest *ing)
{
    return __atomic_load_n(&ing->c[0].healthy, __ATOMIC_RELAXED) != 0;
}

/* A committer other than 0 waits for what is pending now (ing->mu held):
 * what it waits for, and never less than a share worth its batch. */
static bool helper_wanted(const struct ingest *ing)
{
    for (int i = 1; i < ing->n_c; i++) {
        size_t at = ing->c[i].wake_at;
        if (at && ing->pend_n >= (at > INGEST_MIN_SHARE ? at : INGEST_MIN_SHARE))
            return true;
    }
    return false;
}

/* A batch whose commit failed goes back to the head of the queue, in its
 * order, for the first committer with a working connection to take; the
 * one that failed it reconnects with backoff meanwhile. */
static void requeue(struct ingest *ing, struct ingest_job *head,
                    struct ingest_job *tail, size_t n)
{
    pthread_mutex_lock(&ing->mu);
    tail->next = ing->pend_head;
    ing->pend_head = head;
    if (ing->pend_tail == NULL)
        ing->pend_tail = tail;
    ing->pend_n += n;
    pthread_cond_broadcast(&ing->cv);
    pthread_cond_broadcast(&ing->cv_help);
    pthread_mutex_unlock(&ing->mu);
}

/* Shutting down past the deadline with the database still down: what is
 * pending is answered as not committed (HUB_EDB: no ACK goes out). */
static void fail_pending(struct ingest *ing)
{
    struct ingest_job *head, *tail;

    pthread_mutex_lock(&ing->mu);
    head = ing->pend_head;
    tail = ing->pend_tail;
    ing->pend_head = ing->pend_tail = NULL;
    ing->pend_n = 0;
    pthread_mutex_unlock(&ing->mu);
    for (struct ingest_job *j = head; j; j = j->next)
        j->rc = HUB_EDB;
    if (head)
        deliver(ing, head, tail);
}

/* The first of n retry tokens never given before by any hubd: a counter
 * from a random start, so that two nodes (or two runs) do not share one;
 * a token is looked for only with its message's received_at too
 * (011_retry_once.sql), so a coincidence would need that as well. */
static uint64_t token_next;
static pthread_once_t token_once = PTHREAD_ONCE_INIT;

static void token_seed(void)
{
    uint64_t r = 0;
    if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
        struct timespec ts;         /* no entropy yet: time and pid */
        clock_gettime(CLOCK_REALTIME, &ts);
        r = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
        r ^= (uint64_t)getpid() << 40;
    }
    token_next = r;
}

static int64_t token_take(size_t n)
{
    pthread_once(&token_once, token_seed);
    for (;;) {
        uint64_t t = __atomic_fetch_add(&token_next, n, __ATOMIC_RELAXED);
        t &= INT64_MAX;
        if (t != 0 && t <= (uint64_t)INT64_MAX - n)
            return (int64_t)t;
    }
}

/* A job's messages into m[at]: its own, then its quarantined parts, each
 * with its retry token (the job's are given here once, and kept across
 * its retries). Returns how many. */
static size_t job_msgs(struct ingest_job *j, struct store_msg *m)
{
    if (j->retry_token == 0)
        j->retry_token = token_take(1 + j->n_parts);
    m[0] = j->msg;
    m[0].retry_token = j->retry_token;
    for (size_t k = 0; k < j->n_parts; k++) {
        m[1 + k] = j->parts[k];
        m[1 + k].retry_token = j->retry_token + 1 + (int64_t)k;
    }
    return 1 + j->n_parts;
}

/* Why the database refused a job's value: the hub's own refusal by its
 * reason and place (store_ingest_refusal, F2242), any other as a value */
static void refusal_err(struct store *s, struct hub_err *err)
{
    const char *field = "", *what = "the database refused a value of the "
                                    "message";

    (void)store_ingest_refusal(s, &field, &what);
    hub_err_set(err, HUB_EINVALID, field, 0, what);
}

/* The database refused a value of the batch: commit the jobs one by one
 * (each with its parts), and quarantine (with an AE) the ones it refuses
 * again. at[i] is where job i's messages start in m and res. */
static int commit_singly(struct committer *c, struct store *s,
                         struct ingest_job **jobs, const size_t *at,
                         struct store_msg *m, struct store_msg_result *res,
                         size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t nm = 1 + jobs[i]->n_parts;
        int rc = store_ingest_batch(s, &m[at[i]], nm, &res[at[i]]);
        if (rc == HUB_EINVALID) {
            struct hub_err err;
            refusal_err(s, &err);
            log_warn("ingest.value_refused",
                     "committer=%d sha=%.12s sqlstate=%s field=%s",
                     c->idx, jobs[i]->msg.sha256, store_last_sqlstate(s),
                     err.field[0] ? err.field : "-");
            if (jobs[i]->requarantine)
                jobs[i]->requarantine(jobs[i], &err);
            else {
                /* refused by its adapter already: its answer stays */
                jobs[i]->msg.accepted = false;
                jobs[i]->msg.n_ev = 0;
                jobs[i]->msg.ev = NULL;
                jobs[i]->msg.key = SLICE_NULL;
                jobs[i]->msg.error_json = error_json(jobs[i], &err, err.what);
            }
            /* quarantined whole: its raw bytes hold the parts too */
            jobs[i]->n_parts = 0;
            m[at[i]] = jobs[i]->msg;
            /* its job's token (job_msgs): should this commit's answer come
             * late, the batch's retry finds it stored (F1260) */
            m[at[i]].retry_token = jobs[i]->retry_token;
            rc = store_ingest_batch(s, &m[at[i]], 1, &res[at[i]]);
        }
        if (rc != HUB_OK) {
            for (size_t k = 0; k < at[i]; k++) {
                store_msg_result_release(&res[k]);
                memset(&res[k], 0, sizeof(res[k]));
            }
            /* what committed stays committed: the retry finds duplicates */
            return rc == HUB_EINVALID ? HUB_EDB : rc;
        }
    }
    return HUB_OK;
}

static void *committer_main(void *arg)
{
    struct committer *c = arg;
    struct ingest *ing = c->ing;
    struct store *s = NULL;
    size_t cap = ing->batch_max;
    /* messages of a batch: its jobs plus their quarantined parts */
    size_t mcap = cap + INGEST_MAX_PARTS < STORE_BATCH_MAX
                      ? cap + INGEST_MAX_PARTS : STORE_BATCH_MAX;
    struct store_msg *m = calloc(mcap, sizeof(*m));
    struct store_msg_result *res = calloc(mcap, sizeof(*res));
    struct ingest_job **jobs = calloc(cap, sizeof(*jobs));
    size_t *at = calloc(cap, sizeof(*at));

    pthread_cond_t *cv = c->idx ? &ing->cv_help : &ing->cv;
    size_t last_n = 0;              /* jobs answered by the last commit */
    struct timespec last_at = { 0, 0 };     /* when (CLOCK_REALTIME) */
    long delay = 50;                /* after a failed commit: 50 ms .. 2 s */

    if (m == NULL || res == NULL || jobs == NULL || at == NULL)
        abort();
    for (;;) {
        struct ingest_job *head, *tail;
        size_t n = 0;

        /* no job is taken without a working connection: meanwhile the
         * others take them (first_healthy) */
        if (s == NULL && (s = connect_backoff(c)) == NULL) {
            /* shutting down: with nothing pending, or past the deadline
             * with the database still down (a batch another committer
             * puts back before then is still its own to retry) */
            if (give_up(ing))
                fail_pending(ing);
            break;
        }
        pthread_mutex_lock(&ing->mu);
        /* what the gather below waits for: what is pending now, plus one
         * job from each sender the last commit answered */
        size_t want = last_n ? ing->pend_n + last_n : 0;
        while (ing->pend_head == NULL && !ing->stopping && s != NULL) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            c->wake_at = 1;
            int w = pthread_cond_timedwait(cv, &ing->mu, &ts);
            c->wake_at = 0;
            if (w != 0 && ing->pend_head == NULL) {
                /* idle: check the link, so that readiness tells the truth
                 * even when nobody sends (store_ping reconnects once) */
                pthread_mutex_unlock(&ing->mu);
                int pinged = store_ping(s);
                count_cuts(c, s);
                if (pinged != HUB_OK) {
                    __atomic_store_n(&c->healthy, 0, __ATOMIC_RELAXED);
                    store_free(s);
                    s = NULL;       /* reconnects with backoff, above */
                }
                pthread_mutex_lock(&ing->mu);
            }
        }
        if (s == NULL) {
            pthread_mutex_unlock(&ing->mu);
            continue;
        }
        if (ing->pend_head == NULL && ing->stopping) {
            pthread_mutex_unlock(&ing->mu);
            break;
        }
        /* Several committers: each batch takes at most its share of what
         * is in flight, and waits (as below) for that share. The closed-
         * loop senders then settle into one cohort per committer: one
         * cohort's batch prepares (outside the chain lock) while another's
         * holds the lock or waits for its flush; without a share the
         * first committer to wake took a few jobs, the next the rest, and
         * the many small batches cost more than the overlap won. */
        size_t lim = cap;
        /* a helper works as committer 0 while committer 0 cannot */
        bool helper = c->idx > 0 && first_healthy(ing);
        if (ing->n_c > 1) {
            size_t infl = __atomic_load_n(&ing->inflight_now,
                                          __ATOMIC_RELAXED);
            size_t share = (infl + (size_t)ing->n_c - 1) / (size_t)ing->n_c;
            if (share < INGEST_MIN_SHARE)
                share = INGEST_MIN_SHARE;
            lim = share < cap ? share : cap;
            if (helper) {
                /* a helper gathers its share */
                want = lim;
                if (last_n == 0)
                    clock_gettime(CLOCK_REALTIME, &last_at);
            } else if (want > lim) {
                /* committer 0 gathers as a lone one, up to its share (not
                 * what is in flight now: right after a commit that is only
                 * the first senders to answer) */
                want = lim;
            }
        }
        if (want > 0 && !ing->stopping) {
            /* gather the senders just answered (see the header) */
            struct timespec until = last_at;
            until.tv_nsec += INGEST_GATHER_NS;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            if (want > cap)
                want = cap;
            while (ing->pend_n < want && !ing->stopping) {
                c->wake_at = want;
                int w = pthread_cond_timedwait(cv, &ing->mu, &until);
                c->wake_at = 0;
                if (w != 0)
                    break;
            }
            last_n = 0;
        }
        if (ing->wait_us > 0 && ing->pend_head &&
            ing->pend_head->next == NULL && !ing->stopping) {
            /* linger briefly to gather a bigger batch */
            pthread_mutex_unlock(&ing->mu);
            struct timespec ts = { 0, (long)ing->wait_us * 1000L };
            nanosleep(&ts, NULL);
            pthread_mutex_lock(&ing->mu);
        }
        if (ing->pend_head == NULL) {
            /* another committer took them while this one waited (the
             * mutex is released inside the waits above) */
            pthread_mutex_unlock(&ing->mu);
            continue;
        }
        if (helper && ing->pend_n < INGEST_MIN_SHARE && !ing->stopping) {
            /* committer 0 takes what is pending, as a lone committer
             * would; another starts a batch beside it only when one is
             * worth its fixed cost (stragglers split off into batches of
             * one or two cost more than the overlap won) */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 5000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            c->wake_at = INGEST_MIN_SHARE;
            (void)pthread_cond_timedwait(cv, &ing->mu, &ts);
            c->wake_at = 0;
            pthread_mutex_unlock(&ing->mu);
            continue;
        }
        head = tail = ing->pend_head;
        size_t nm = 0;
        while (ing->pend_head && n < lim &&
               (n == 0 || nm + 1 + ing->pend_head->n_parts <= mcap)) {
            tail = ing->pend_head;
            nm += 1 + tail->n_parts;
            jobs[n++] = tail;
            ing->pend_head = tail->next;
            ing->pend_n--;
        }
        if (ing->pend_head == NULL)
            ing->pend_tail = NULL;
        tail->next = NULL;
        pthread_mutex_unlock(&ing->mu);

        /* (made at each take: on an earlier, failed try commit_singly may
         * have quarantined a job whole, and then its parts are not stored) */
        nm = 0;
        for (size_t i = 0; i < n; i++) {
            at[i] = nm;
            nm += job_msgs(jobs[i], &m[nm]);
        }
        memset(res, 0, nm * sizeof(*res));
        uint64_t t0 = ingest_now_ns();
        __atomic_store_n(&c->commit_since_ns, t0, __ATOMIC_RELAXED);
        int rc = store_ingest_batch(s, m, nm, res);
        __atomic_store_n(&c->commit_since_ns, 0, __ATOMIC_RELAXED);
        log_debug("ingest.batch", "committer=%d n=%zu us=%llu rc=%s",
                  c->idx, nm,
                  (unsigned long long)((ingest_now_ns() - t0) / 1000),
                  hub_strerror(rc));
        if (rc == HUB_EINVALID)
            rc = commit_singly(c, s, jobs, at, m, res, n);
        count_cuts(c, s);
        if (rc != HUB_OK) {
            /* the batch is not lost: it goes back to the queue (retried by
             * whoever has a connection; safe after an unknown outcome, as
             * the store de-duplicates on (org, key)), and this committer
             * reconnects after a backoff */
            __atomic_store_n(&c->healthy, 0, __ATOMIC_RELAXED);
            metrics_commit_retry();
            log_warn("ingest.commit_failed", "committer=%d batch=%zu code=%s",
                     c->idx, n, hub_strerror(rc));
            for (size_t i = 0; i < nm; i++)
                store_msg_result_release(&res[i]);
            store_free(s);
            s = NULL;
            last_n = 0;
            requeue(ing, head, tail, n);
            if (!give_up(ing))
                sleep_ms(delay);
            delay = delay * 2 > 2000 ? 2000 : delay * 2;
            continue;
        }
        delay = 50;
        metrics_commit_batch(n);
        last_n = n;
        clock_gettime(CLOCK_REALTIME, &last_at);
        for (size_t i = 0; i < n; i++) {
            jobs[i]->rc = HUB_OK;
            jobs[i]->res = res[at[i]];
            for (size_t k = 1; k <= jobs[i]->n_parts; k++)
                store_msg_result_release(&res[at[i] + k]);
        }
        deliver(ing, head, tail);
    }
    store_free(s);
    free(m);
    free(res);
    free(jobs);
    free(at);
    return NULL;
}

/* ---- loop thread ------------------------------------------------------ */

static void run_waiters(struct ingest *ing)
{
    while (ing->waiters && ingest_has_room(ing, 1, 0)) {
        struct waiter *w = ing->waiters;
        ing->waiters = w->next;
        if (ing->waiters == NULL)
            ing->waiters_tail = NULL;
        void (*cb)(void *) = w->cb;
        void *arg = w->arg;
        free(w);
        cb(arg);
    }
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
    struct ingest *ing = arg;
    struct ingest_job *j;
    (void)fd;
    (void)what;

    pthread_mutex_lock(&ing->done_mu);
    j = ing->done_head;
    ing->done_head = ing->done_tail = NULL;
    pthread_mutex_unlock(&ing->done_mu);

    while (j) {
        struct ingest_job *next = j->next;
        j->next = NULL;
        ing->inflight--;
        __atomic_store_n(&ing->inflight_now, ing->inflight, __ATOMIC_RELAXED);
        ing->inflight_bytes -= j->bytes;
        if (j->rc == HUB_OK) {
            /* answered as the duplicate it claims to be, but other bytes:
             * a sender whose control ids restarted would see AA after AA
             * while its messages go to quarantine, so the operator is told
             * (the key itself is not logged: hubctl quarantine list) */
            bool reused = j->res.duplicate && j->res.kept;
            if (reused)
                log_warn("ingest.key_reused", "org=%s format=%s sha=%.12s "
                         "kept=quarantine", j->org_id, j->msg.format,
                         j->msg.sha256);
            if (j->res.duplicate)
                j->outcome = INGEST_DUPLICATE;
            else
                j->outcome = j->msg.accepted ? INGEST_ACCEPTED
                                             : INGEST_REJECTED;
            metrics_message(reused ? METRIC_KEY_REUSED
                                   : (enum metrics_outcome)j->outcome);
        }
        j->done(j, j->arg);         /* may free j */
        j = next;
    }
    metrics_inflight_set(ing->inflight);
    run_waiters(ing);
}

int ingest_new(struct event_base *base, const struct hub_config *cfg,
               struct ingest **out)
{
    struct ingest *ing = calloc(1, sizeof(*ing));
    if (ing == NULL)
        abort();
    ing->base = base;
    snprintf(ing->url, sizeof(ing->url), "%s", cfg->database_url);
    ing->batch_max = cfg->commit_batch_max < STORE_BATCH_MAX
                         ? cfg->commit_batch_max
                         : STORE_BATCH_MAX;
    ing->wait_us = cfg->commit_wait_us;
    ing->shutdown_timeout = cfg->shutdown_timeout;
    ing->stuck_ns = (uint64_t)cfg->commit_stuck_timeout * 1000000000u;
    ing->commit_ms = cfg->db_commit_timeout * 1000;
    ing->max_msgs = cfg->inflight_max;
    ing->max_bytes = cfg->inflight_max_bytes;
    pthread_mutex_init(&ing->mu, NULL);
    pthread_cond_init(&ing->cv, NULL);
    pthread_cond_init(&ing->cv_help, NULL);
    pthread_cond_init(&ing->cv_stop, NULL);
    pthread_mutex_init(&ing->done_mu, NULL);
    ing->done_ev = event_new(base, -1, 0, on_done, ing);
    if (ing->done_ev == NULL) {
        free(ing);
        return HUB_EIO;
    }
    ing->n_c = cfg->commit_threads;
    ing->c = calloc((size_t)ing->n_c, sizeof(*ing->c));
    if (ing->c == NULL)
        abort();
    for (int i = 0; i < ing->n_c; i++) {
        ing->c[i].ing = ing;
        ing->c[i].idx = i;
        snprintf(ing->c[i].app, sizeof(ing->c[i].app), "hubd-commit-%d", i);
        if (pthread_create(&ing->c[i].tid, NULL, committer_main,
                           &ing->c[i]) != 0) {
            log_error("ingest.thread_failed", "committer=%d", i);
            abort();
        }
    }
    *out = ing;
    return HUB_OK;
}

void ingest_stop(struct ingest *ing)
{
    pthread_mutex_lock(&ing->mu);
    if (!ing->stopping) {
        ing->stopping = 1;
        clock_gettime(CLOCK_REALTIME, &ing->stop_deadline);
        ing->stop_deadline.tv_sec += ing->shutdown_timeout;
    }
    pthread_cond_broadcast(&ing->cv);
    pthread_cond_broadcast(&ing->cv_help);
    pthread_cond_broadcast(&ing->cv_stop);
    pthread_mutex_unlock(&ing->mu);
}

void ingest_free(struct ingest *ing)
{
    if (ing == NULL)
        return;
    ingest_stop(ing);
    for (int i = 0; i < ing->n_c; i++)
        pthread_join(ing->c[i].tid, NULL);
    /* jobs answered after the loop ended: their owners are gone too */
    struct ingest_job *j = ing->done_head;
    while (j) {
        struct ingest_job *next = j->next;
        j->rc = HUB_EDB;
        j->done(j, j->arg);
        j = next;
    }
    while (ing->waiters) {
        struct waiter *w = ing->waiters;
        ing->waiters = w->next;
        free(w);
    }
    ing->waiters_tail = NULL;
    event_free(ing->done_ev);
    pthread_mutex_destroy(&ing->mu);
    pthread_cond_destroy(&ing->cv);
    pthread_cond_destroy(&ing->cv_help);
    pthread_cond_destroy(&ing->cv_stop);
    pthread_mutex_destroy(&ing->done_mu);
    free(ing->c);
    free(ing);
}

void ingest_submit(struct ingest *ing, struct ingest_job *j,
                   ingest_done_fn done, void *arg)
{
    j->done = done;
    j->arg = arg;
    j->next = NULL;
    ing->inflight++;
    __atomic_store_n(&ing->inflight_now, ing->inflight, __ATOMIC_RELAXED);
    ing->inflight_bytes += j->bytes;
    metrics_inflight_set(ing->inflight);
    pthread_mutex_lock(&ing->mu);
    if (ing->pend_tail)
        ing->pend_tail->next = j;
    else
        ing->pend_head = j;
    ing->pend_tail = j;
    ing->pend_n++;
    /* committer 0 takes any job; the others wake only for a share (each
     * waits on its own condition, so a wake-up never lands on a committer
     * that would leave the job lying), or for any job while committer 0
     * has no working connection. A committer is woken only once what it
     * waits for is pending (wake_at): one that gathers a batch was woken by
     * every job and went back to sleep, a futex call and two context
     * switches a message. */
    if (ing->c[0].wake_at && ing->pend_n >= ing->c[0].wake_at)
        pthread_cond_signal(&ing->cv);
    if (ing->n_c > 1 && (!first_healthy(ing) || helper_wanted(ing)))
        pthread_cond_broadcast(&ing->cv_help);
    pthread_mutex_unlock(&ing->mu);
}

bool ingest_has_room(const struct ingest *ing, size_t msgs, size_t bytes)
{
    return ing->inflight + msgs <= ing->max_msgs &&
           ing->inflight_bytes + bytes <= ing->max_bytes;
}

void ingest_wait_room(struct ingest *ing, void (*cb)(void *), void *arg)
{
    struct waiter *w = malloc(sizeof(*w));
    if (w == NULL)
        abort();
    w->cb = cb;
    w->arg = arg;
    w->next = NULL;
    /* FIFO: the first to wait resumes first */
    if (ing->waiters_tail)
        ing->waiters_tail->next = w;
    else
        ing->waiters = w;
    ing->waiters_tail = w;
}

void ingest_cancel_wait(struct ingest *ing, void *arg)
{
    struct waiter **pp = &ing->waiters;
    ing->waiters_tail = NULL;
    while (*pp) {
        if ((*pp)->arg == arg) {
            struct waiter *w = *pp;
            *pp = w->next;
            free(w);
        } else {
            ing->waiters_tail = *pp;
            pp = &(*pp)->next;
        }
    }
}

size_t ingest_inflight(const struct ingest *ing)
{
    return ing->inflight;
}

bool ingest_commit_stuck(uint64_t since, uint64_t now, uint64_t stuck_ns)
{
    /* A committer stamps `since` on its own thread, so it may be later than
     * the `now` a caller read just before: that commit has only begun, and
     * now - since would wrap around to an age of centuries (a spurious
     * "not ready", answered 503 under ordinary load). */
    return since != 0 && now > since && now - since > stuck_ns;
}

/* Why the pipeline is not ready ("unhealthy", "stuck"), or NULL; *who is the
 * committer, *age_ms how long its commit has run (stuck). */
static const char *unready_why(const struct ingest *ing, int *who,
                               uint64_t *age_ms)
{
    uint64_t now = ingest_now_ns();
    for (int i = 0; i < ing->n_c; i++) {
        *who = i;
        if (!__atomic_load_n(&ing->c[i].healthy, __ATOMIC_RELAXED))
            return "unhealthy";
        uint64_t since =
            __atomic_load_n(&ing->c[i].commit_since_ns, __ATOMIC_RELAXED);
        if (ingest_commit_stuck(since, now, ing->stuck_ns)) {
            *age_ms = (now - since) / 1000000u;
            return "stuck";
        }
    }
    return NULL;
}

bool ingest_ready(const struct ingest *ing)
{
    int who = 0;
    uint64_t age_ms = 0;
    return unready_why(ing, &who, &age_ms) == NULL;
}

void ingest_log_unready(struct ingest *ing)
{
    int who = 0;
    uint64_t age_ms = 0, now = ingest_now_ns();
    const char *why = unready_why(ing, &who, &age_ms);

    ing->unready_refused++;
    /* at most one line a second: while the database is away every request
     * is refused, and the count says how many were */
    if (ing->unready_logged_ns && now - ing->unready_logged_ns < 1000000000u)
        return;
    ing->unready_logged_ns = now;
    log_warn("ingest.not_ready", "why=%s committer=%d commit_ms=%llu "
             "refused=%llu", why ? why : "recovered", who,
             (unsigned long long)age_ms,
             (unsigned long long)ing->unready_refused);
}

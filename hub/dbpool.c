/*
 * dbpool.c - worker threads with their own database connections.
 * Same hand-off as ingest.c: a mutex-protected queue in, a mutex-protected
 * list out and event_active() to wake the loop thread.
 */
#include "dbpool.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "metrics.h"

struct dbjob {
    dbpool_work_fn work;
    dbpool_done_fn done;
    void *arg;
    int rc;
    uint64_t queued_ns;
    struct dbjob *next;
};

struct dbpool {
    struct event_base *base;
    struct event *done_ev;
    struct event *expire_ev;        /* the oldest queued job's deadline */
    uint64_t wait_ns;
    int lock_timeout_ms;
    int statement_ms;
    char url[1024];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct dbjob *head, *tail;
    size_t queued, max_queue;
    int stopping;
    pthread_mutex_t done_mu;
    struct dbjob *done_head, *done_tail;
    pthread_t *tids;
    int n;
};

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double mono_s(void)
{
    return (double)mono_ns() / 1e9;
}

static void *worker(void *arg)
{
    struct dbpool *p = arg;
    struct store *s = NULL;
    double last_used = 0;

    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->head == NULL && !p->stopping)
            pthread_cond_wait(&p->cv, &p->mu);
        struct dbjob *j = p->head;
        if (j == NULL) {
            pthread_mutex_unlock(&p->mu);
            break;
        }
        p->head = j->next;
        if (p->head == NULL)
            p->tail = NULL;
        p->queued--;
        pthread_mutex_unlock(&p->mu);

        /* a link idle for a while may have died with a database restart:
         * check it (store_ping reconnects once) rather than fail the job */
        if (s && mono_s() - last_used > 2.0 && store_ping(s) != HUB_OK) {
            store_free(s);
            s = NULL;
        }
        if (s == NULL &&
            store_connect_limited(p->url, "hub", p->lock_timeout_ms, &s) !=
                HUB_OK)
            s = NULL;
        if (s)
            store_set_statement_timeout(s, p->statement_ms);
        last_used = mono_s();
        unsigned long cuts = s ? store_cuts(s) : 0;
        j->rc = s ? j->work(s, j->arg) : HUB_EDB;
        if (j->rc == HUB_EBUSY)     /* cut on this side, or the lock bound */
            metrics_db_busy(store_cuts(s) != cuts ? METRIC_DB_DEADLINE
                                                   : METRIC_DB_LOCK);
        if (j->rc == HUB_EDB && s) {
            store_free(s);          /* reconnect before the next job */
            s = NULL;
        }
        j->next = NULL;
        pthread_mutex_lock(&p->done_mu);
        if (p->done_tail)
            p->done_tail->next = j;
        else
            p->done_head = j;
        p->done_tail = j;
        pthread_mutex_unlock(&p->done_mu);
        event_active(p->done_ev, EV_READ, 0);
    }
    store_free(s);
    return NULL;
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
    struct dbpool *p = arg;
    (void)fd;
    (void)what;
    pthread_mutex_lock(&p->done_mu);
    struct dbjob *j = p->done_head;
    p->done_head = p->done_tail = NULL;
    pthread_mutex_unlock(&p->done_mu);
    while (j) {
        struct dbjob *next = j->next;
        j->done(j->rc, j->arg);
        free(j);
        j = next;
    }
}

/* Set the timer for the deadline of the oldest job still queued, unless it
 * is set: it is then for that job or an older one, taken since (the queue
 * is in order of submission, and only its head leaves by a worker). */
static void arm_expiry(struct dbpool *p)
{
    if (p->wait_ns == 0 || evtimer_pending(p->expire_ev, NULL))
        return;
    pthread_mutex_lock(&p->mu);
    uint64_t queued_ns = p->head ? p->head->queued_ns : 0;
    bool any = p->head != NULL;
    pthread_mutex_unlock(&p->mu);
    if (!any)
        return;
    uint64_t now = mono_ns(), due = queued_ns + p->wait_ns;
    uint64_t in = due > now ? due - now : 0;
    struct timeval tv = { (time_t)(in / 1000000000u),
                          (suseconds_t)(in % 1000000000u / 1000u) };
    evtimer_add(p->expire_ev, &tv);
}

/* Answer busy the jobs that waited longer than wait_ms for a worker: each
 * is taken off the queue before any worker starts it, so it never ran. */
static void on_expire(evutil_socket_t fd, short what, void *arg)
{
    struct dbpool *p = arg;
    struct dbjob *gone = NULL, **tail = &gone;
    size_t n = 0;
    (void)fd;
    (void)what;

    uint64_t now = mono_ns();
    pthread_mutex_lock(&p->mu);
    while (p->head && now - p->head->queued_ns >= p->wait_ns) {
        struct dbjob *j = p->head;
        p->head = j->next;
        if (p->head == NULL)
            p->tail = NULL;
        p->queued--;
        j->next = NULL;
        *tail = j;
        tail = &j->next;
        n++;
    }
    pthread_mutex_unlock(&p->mu);
    if (n)
        log_warn("db.wait_expired", "jobs=%zu wait_ms=%llu", n,
                 (unsigned long long)(p->wait_ns / 1000000u));
    while (gone) {
        struct dbjob *next = gone->next;
        metrics_db_busy(METRIC_DB_WAIT);
        gone->done(HUB_EBUSY, gone->arg);
        free(gone);
        gone = next;
    }
    arm_expiry(p);
}

int dbpool_new(struct event_base *base, const char *url,
               const struct dbpool_limits *limits, struct dbpool **out)
{
    int threads = limits->threads;
    struct dbpool *p = calloc(1, sizeof(*p));
    if (p == NULL)
        abort();
    p->base = base;
    snprintf(p->url, sizeof(p->url), "%s", url);
    p->max_queue = limits->max_queue;
    p->wait_ns = (uint64_t)limits->wait_ms * 1000000u;
    p->lock_timeout_ms = limits->lock_timeout_ms;
    p->statement_ms = limits->statement_ms;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    pthread_mutex_init(&p->done_mu, NULL);
    p->done_ev = event_new(base, -1, 0, on_done, p);
    p->expire_ev = evtimer_new(base, on_expire, p);
    p->n = threads;
    p->tids = calloc((size_t)threads, sizeof(*p->tids));
    if (p->done_ev == NULL || p->expire_ev == NULL || p->tids == NULL)
        abort();
    for (int i = 0; i < threads; i++)
        if (pthread_create(&p->tids[i], NULL, worker, p) != 0)
            abort();
    *out = p;
    return HUB_OK;
}

void dbpool_free(struct dbpool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n; i++)
        pthread_join(p->tids[i], NULL);
    on_done(-1, 0, p);              /* finished jobs still get their done */
    event_free(p->done_ev);
    event_free(p->expire_ev);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->done_mu);
    free(p->tids);
    free(p);
}

int dbpool_submit(struct dbpool *p, dbpool_work_fn work, dbpool_done_fn done,
                  void *arg)
{
    struct dbjob *j;

    pthread_mutex_lock(&p->mu);
    if (p->queued >= p->max_queue || p->stopping) {
        pthread_mutex_unlock(&p->mu);
        return HUB_EBUSY;
    }
    j = calloc(1, sizeof(*j));
    if (j == NULL)
        abort();
    j->work = work;
    j->done = done;
    j->arg = arg;
    j->queued_ns = mono_ns();
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    p->queued++;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    arm_expiry(p);
    return HUB_OK;
}

/*
 * dbpool.c - worker threads with their own database connections.
 * Same hand-off as ingest.c: a mutex-protected queue in, a mutex-protected
 * list out and event_active() to wake the loop thread.
 */
#include "dbpool.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"

struct dbjob {
    dbpool_work_fn work;
    dbpool_done_fn done;
    void *arg;
    int rc;
    struct dbjob *next;
};

struct dbpool {
    struct event_base *base;
    struct event *done_ev;
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

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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
        if (s == NULL && store_connect(p->url, &s) != HUB_OK)
            s = NULL;
        last_used = mono_s();
        j->rc = s ? j->work(s, j->arg) : HUB_EDB;
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

int dbpool_new(struct event_base *base, const char *url, int threads,
               size_t max_queue, struct dbpool **out)
{
    struct dbpool *p = calloc(1, sizeof(*p));
    if (p == NULL)
        abort();
    p->base = base;
    snprintf(p->url, sizeof(p->url), "%s", url);
    p->max_queue = max_queue;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    pthread_mutex_init(&p->done_mu, NULL);
    p->done_ev = event_new(base, -1, 0, on_done, p);
    p->n = threads;
    p->tids = calloc((size_t)threads, sizeof(*p->tids));
    if (p->done_ev == NULL || p->tids == NULL)
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
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    p->queued++;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return HUB_OK;
}

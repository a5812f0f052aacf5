/*
 * dbpool.h - run short database work off the event loop. A few threads, each
 * with its own struct store, take jobs from one bounded queue; `work` runs on
 * a worker thread, `done` later on the loop thread with work's result. The
 * loop thread never waits on libpq.
 *
 * A worker whose connection broke reconnects before its next job; a job that
 * meets a dead database gets HUB_EDB (reads are not retried: the caller
 * answers 503 and the client retries).
 *
 * Nothing waits for ever behind a held lock (F582): a job not started within
 * wait_ms of its submission gets HUB_EBUSY without running (so a write never
 * half happens), and each worker's session has lock_timeout_ms, so that a
 * statement queued behind another session's lock gives up with HUB_EBUSY
 * (store.h) and frees its worker. A backend that does not answer at all
 * (stopped, on a hung volume) runs no such clock: each statement of a job
 * is also bounded on this side, statement_ms (store_set_statement_timeout:
 * cut, HUB_EBUSY, the link opened again for the next job), so that a job
 * on a worker ends within it whatever the server does (F663). A job's
 * argument lives until its done runs, as ever: the answer waits for the
 * work to return, never the other way round.
 */
#ifndef HUB_DBPOOL_H
#define HUB_DBPOOL_H

#include "common/hub_err.h"
#include "store.h"

struct event_base;
struct dbpool;

typedef int (*dbpool_work_fn)(struct store *s, void *arg);
typedef void (*dbpool_done_fn)(int rc, void *arg);

struct dbpool_limits {
    int threads;
    size_t max_queue;
    int wait_ms;                    /* 0: a queued job waits as it must */
    int lock_timeout_ms;            /* 0: PostgreSQL's own (none) */
    int statement_ms;               /* 0: a statement waits as it must */
};

int dbpool_new(struct event_base *base, const char *url,
               const struct dbpool_limits *limits, struct dbpool **out)
    __attribute__((warn_unused_result));
/* Stop the threads after the queued jobs (their done callbacks still run
 * while the loop runs; jobs left at free get HUB_EDB). */
void dbpool_free(struct dbpool *p);

/* Queue a job, from the loop thread; HUB_EBUSY when the queue is full (done
 * will not run). */
int dbpool_submit(struct dbpool *p, dbpool_work_fn work, dbpool_done_fn done,
                  void *arg) __attribute__((warn_unused_result));

#endif

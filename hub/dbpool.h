/*
 * dbpool.h - run short database work off the event loop. A few threads, each
 * with its own struct store, take jobs from one bounded queue; `work` runs on
 * a worker thread, `done` later on the loop thread with work's result. The
 * loop thread never waits on libpq.
 *
 * A worker whose connection broke reconnects before its next job; a job that
 * meets a dead database gets HUB_EDB (reads are not retried: the caller
 * answers 503 and the client retries).
 */
#ifndef HUB_DBPOOL_H
#define HUB_DBPOOL_H

#include "common/hub_err.h"
#include "store.h"

struct event_base;
struct dbpool;

typedef int (*dbpool_work_fn)(struct store *s, void *arg);
typedef void (*dbpool_done_fn)(int rc, void *arg);

int dbpool_new(struct event_base *base, const char *url, int threads,
               size_t max_queue, struct dbpool **out)
    __attribute__((warn_unused_result));
/* Stop the threads after the queued jobs (their done callbacks still run
 * while the loop runs; jobs left at free get HUB_EDB). */
void dbpool_free(struct dbpool *p);

/* Queue a job; HUB_EBUSY when the queue is full (done will not run). */
int dbpool_submit(struct dbpool *p, dbpool_work_fn work, dbpool_done_fn done,
                  void *arg) __attribute__((warn_unused_result));

#endif

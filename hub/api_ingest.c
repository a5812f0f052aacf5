/*
 * api_ingest.c - api_ingest(): a request's jobs through the committers,
 * answered once all of them came back (api.h). The request is answered by
 * the route's done callback, never before every job's transaction ended,
 * so a 2xx can only follow a commit.
 *
 * A request does not wait for ever on a pipeline that is not ready (a
 * commit held by another session's lock, the link lost after the jobs
 * were handed over): past db_wait_timeout it is answered 503 with
 * Retry-After while its jobs go on; one that commits later answers the
 * client's retry as a duplicate (F662).
 */
#include <event2/event.h>
#include <stdlib.h>

#include "api.h"
#include "config.h"
#include "ingest.h"
#include "server.h"

struct api_batch {
    struct api_req *r;              /* NULL once answered busy */
    struct server *srv;
    struct ingest_job **jobs;
    size_t n, left;
    api_ingest_done_fn done;
    api_busy_fn busy;
    void *arg;
    struct event *deadline;
};

static void batch_free(struct api_batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        ingest_job_free(b->jobs[i]);
    if (b->deadline)
        event_free(b->deadline);
    free(b->jobs);
    free(b);
}

static void on_job(struct ingest_job *j, void *arg)
{
    struct api_batch *b = arg;
    (void)j;
    if (--b->left == 0) {
        if (b->r)
            b->done(b->r, b->jobs, b->n, b->arg);
        batch_free(b);
    }
}

/* The wait is over: answered busy if the pipeline is not ready (a commit
 * that merely takes long, the pipeline ready, is waited for a second
 * more). The jobs stay where they are: a 503 acknowledges nothing. */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct api_batch *b = arg;
    struct timeval second = { 1, 0 };
    (void)fd;
    (void)what;

    if (ingest_ready(b->srv->ing)) {
        evtimer_add(b->deadline, &second);
        return;
    }
    ingest_log_unready(b->srv->ing);
    struct api_req *r = b->r;
    b->r = NULL;
    b->busy(r, "database not ready, retry later");
}

void api_ingest(struct api_req *r, struct ingest_job **jobs, size_t n,
                api_ingest_done_fn done, api_busy_fn busy, void *arg)
{
    struct server *srv = api_server(r);

    if (busy == NULL)
        busy = api_reply_busy;

    /* the loop has ended and the pipeline is freed: a credential look-up
     * or a worker's step answered only then (the database slow past the
     * drain's deadline; dbpool_free hands out the last answers after
     * ingest_free) submits nothing (F391) */
    if (srv->down) {
        for (size_t i = 0; i < n; i++)
            ingest_job_free(jobs[i]);
        free(jobs);
        busy(r, "hubd is stopping, retry later");
        return;
    }
    /* room for one more is enough: a request may overshoot the cap by its
     * own size, which max_body bounds; each check asked once, so that
     * the answer names the one that failed */
    bool room = n > 0 && ingest_has_room(srv->ing, 1, 0);
    bool ready = room && ingest_ready(srv->ing);
    if (!ready) {
        for (size_t i = 0; i < n; i++)
            ingest_job_free(jobs[i]);
        free(jobs);
        if (n == 0) {
            api_reply_error(r, 400, "invalid", "nothing to ingest", "body");
        } else if (room) {
            ingest_log_unready(srv->ing);
            busy(r, "database unreachable, retry later");
        } else {
            busy(r, "ingest is at capacity, retry later");
        }
        return;
    }
    struct api_batch *b = calloc(1, sizeof(*b));
    if (b == NULL)
        abort();
    b->r = r;
    b->srv = srv;
    b->jobs = jobs;
    b->n = b->left = n;
    b->done = done;
    b->busy = busy;
    b->arg = arg;
    if (srv->cfg->db_wait_timeout > 0) {
        struct timeval wait = { srv->cfg->db_wait_timeout, 0 };
        b->deadline = evtimer_new(srv->base, on_deadline, b);
        if (b->deadline == NULL || evtimer_add(b->deadline, &wait) != 0)
            abort();
    }
    for (size_t i = 0; i < n; i++)
        ingest_submit(srv->ing, jobs[i], on_job, b);
}

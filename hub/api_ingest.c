/*
 * api_ingest.c - api_ingest(): a request's jobs through the committers,
 * answered once all of them came back (api.h). The request is answered by
 * the route's done callback, never before every job's transaction ended,
 * so a 2xx can only follow a commit.
 */
#include <stdlib.h>

#include "api.h"
#include "ingest.h"
#include "server.h"

struct api_batch {
    struct api_req *r;
    struct ingest_job **jobs;
    size_t n, left;
    api_ingest_done_fn done;
    void *arg;
};

static void batch_free(struct api_batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        ingest_job_free(b->jobs[i]);
    free(b->jobs);
    free(b);
}

static void on_job(struct ingest_job *j, void *arg)
{
    struct api_batch *b = arg;
    (void)j;
    if (--b->left == 0) {
        b->done(b->r, b->jobs, b->n, b->arg);
        batch_free(b);
    }
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
    b->jobs = jobs;
    b->n = b->left = n;
    b->done = done;
    b->arg = arg;
    for (size_t i = 0; i < n; i++)
        ingest_submit(srv->ing, jobs[i], on_job, b);
}

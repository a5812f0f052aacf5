/*
 * api_core.c - operations routes: GET /healthz (the process answers),
 * GET /readyz (the database is reachable, and the hub_auth link has been
 * up since start: 503 otherwise, so that a load balancer sends traffic
 * elsewhere), GET /metrics (Prometheus text).
 * Public: they reveal counts and states only.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "api.h"
#include "auth.h"
#include "ingest.h"
#include "metrics.h"
#include "server.h"
#include "subs.h"

/* The delivery backlog gauges are read on a database worker by a scrape,
 * at most every BACKLOG_NS (the dead letters, a scan of deliveries, every
 * DEAD_NS); scrapes in between, or while one reads, render what is known. */
#define BACKLOG_NS (5 * 1000000000LL)
#define DEAD_NS (60 * 1000000000LL)

static int64_t backlog_at_ns, dead_at_ns;   /* last read; loop thread */
static bool backlog_reading;

struct backlog_job {
    bool with_dead;
    struct deliveries_backlog b;
    long long health[4];                /* subscriptions by health */
    int health_rc;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void healthz(struct api_req *r)
{
    static const char ok[] = "{\"status\":\"ok\"}";
    api_reply_json(r, 200, ok, sizeof(ok) - 1);
}

static void readyz(struct api_req *r)
{
    static const char ok[] = "{\"status\":\"ready\"}";
    struct server *srv = api_server(r);

    if (srv->stopping) {
        api_reply_busy(r, "shutting down");
    } else if (!ingest_ready(srv->ing)) {
        api_reply_busy(r, "database unreachable");
    } else if (srv->auth && !auth_ready(srv->auth)) {
        api_reply_busy(r, "not yet listening for credential changes");
    } else {
        api_reply_json(r, 200, ok, sizeof(ok) - 1);
    }
}

static void metrics_reply(struct api_req *r)
{
    size_t len;
    char *text = metrics_render(&len);
    api_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
}

static int backlog_work(struct store *s, void *arg)
{
    struct backlog_job *j = arg;
    j->health_rc = subs_health_counts(s, j->health);
    return deliveries_backlog(s, j->with_dead, &j->b);
}

static void backlog_done(struct api_req *r, int rc, void *arg)
{
    struct backlog_job *j = arg;

    if (j->health_rc == HUB_OK)
        metrics_health_set(j->health);
    if (rc == HUB_OK) {
        metrics_deliveries_set(j->b.due, j->b.scheduled, j->b.leased,
                               j->b.held, j->b.dead, j->b.blocked,
                               j->b.oldest_due_s);
        if (j->with_dead)
            dead_at_ns = now_ns();
    }
    backlog_reading = false;
    free(j);
    metrics_reply(r);
}

static void metrics(struct api_req *r)
{
    int64_t now = now_ns();

    if (backlog_reading || (backlog_at_ns && now - backlog_at_ns < BACKLOG_NS)) {
        metrics_reply(r);
        return;
    }
    struct backlog_job *j = calloc(1, sizeof(*j));
    if (!j)
        abort();
    /* a failed read waits its turn too: a down database is not asked on
     * every scrape */
    backlog_at_ns = now;
    backlog_reading = true;
    j->with_dead = !dead_at_ns || now - dead_at_ns >= DEAD_NS;
    /* until backlog_work ran: a job the pool never ran (its queue full,
     * its link down) read nothing, and the gauges keep what they showed
     * (calloc's 0 is HUB_OK: they were set to 0 each, F523) */
    j->health_rc = HUB_EDB;
    api_db(r, backlog_work, backlog_done, j);
}

const struct api_route api_core_routes[] = {
    { API_GET, "/healthz", API_PUBLIC, healthz },
    { API_GET, "/readyz", API_PUBLIC, readyz },
    { API_GET, "/metrics", API_PUBLIC, metrics },
    { 0, NULL, 0, NULL },
};

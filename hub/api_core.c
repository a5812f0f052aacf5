/*
 * api_core.c - operations routes: GET /healthz (the process answers),
 * GET /readyz (the database is reachable: 503 otherwise, so that a load
 * balancer sends traffic elsewhere), GET /metrics (Prometheus text).
 * Public: they reveal counts and states only.
 */
#include <stdlib.h>

#include "api.h"
#include "ingest.h"
#include "metrics.h"
#include "server.h"

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
    } else {
        api_reply_json(r, 200, ok, sizeof(ok) - 1);
    }
}

static void metrics(struct api_req *r)
{
    size_t len;
    char *text = metrics_render(&len);
    api_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
}

const struct api_route api_core_routes[] = {
    { API_GET, "/healthz", API_PUBLIC, healthz },
    { API_GET, "/readyz", API_PUBLIC, readyz },
    { API_GET, "/metrics", API_PUBLIC, metrics },
    { 0, NULL, 0, NULL },
};

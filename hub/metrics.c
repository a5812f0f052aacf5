/*
 * metrics.c - fixed Prometheus metrics with relaxed atomics. Histograms keep
 * cumulative-at-render buckets: each observation increments one bucket, the
 * render sums them, so recording stays one atomic add.
 */
#include "metrics.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADD(x, v) __atomic_fetch_add(&(x), (v), __ATOMIC_RELAXED)
#define GET(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

static uint64_t messages[METRIC_OUTCOMES];

static const double lat_bounds[] = { 0.001, 0.0025, 0.005, 0.01, 0.025,
                                     0.05,  0.1,    0.25,  0.5,  1,
                                     2.5,   5,      10 };
#define NLAT (sizeof(lat_bounds) / sizeof(lat_bounds[0]))
static uint64_t lat_bucket[NLAT + 1];
static uint64_t lat_sum_us;

static const double batch_bounds[] = { 1, 2, 4, 8, 16, 32, 64, 128, 256, 512 };
#define NBATCH (sizeof(batch_bounds) / sizeof(batch_bounds[0]))
static uint64_t batch_bucket[NBATCH + 1];
static uint64_t batch_sum;
static uint64_t commit_retries;
static uint64_t db_busy[METRIC_DB_BUSY_N];

static int64_t open_conns;
static uint64_t https_open, https_max, https_paused, https_pauses;
static uint64_t inflight;
static uint64_t http_by_class[6];   /* 1xx..5xx, index 0 unused */
static uint64_t http_client_closed;
static uint64_t http_pending;
static uint64_t wh_attempts[4];
static uint64_t wh_lat_bucket[NLAT + 1];
static uint64_t wh_lat_sum_us;
static uint64_t wh_fail[METRIC_WHF_N];
static int64_t breakers_open;           /* this node's endpoints */
/* delivery backlog gauges: -1 until read (left out of the text) */
static int64_t dlv_state[6] = { -1, -1, -1, -1, -1, -1 };
static int64_t dlv_oldest_ms = -1;
/* subscriptions by health: -1 until read */
static int64_t sub_health[4] = { -1, -1, -1, -1 };
/* TLS certificates' notAfter: -1 until loaded */
static int64_t tls_not_after[2] = { -1, -1 };

void metrics_message(enum metrics_outcome o)
{
    if ((unsigned)o < METRIC_OUTCOMES)
        ADD(messages[o], 1);
}

void metrics_ack_latency(double s)
{
    size_t i = 0;
    while (i < NLAT && s > lat_bounds[i])
        i++;
    ADD(lat_bucket[i], 1);
    ADD(lat_sum_us, (uint64_t)(s * 1e6));
}

void metrics_commit_batch(size_t n)
{
    size_t i = 0;
    while (i < NBATCH && (double)n > batch_bounds[i])
        i++;
    ADD(batch_bucket[i], 1);
    ADD(batch_sum, n);
}

void metrics_commit_retry(void)
{
    ADD(commit_retries, 1);
}

void metrics_db_busy(enum metrics_db_busy why)
{
    if ((unsigned)why < METRIC_DB_BUSY_N)
        ADD(db_busy[why], 1);
}

void metrics_connections(int delta)
{
    ADD(open_conns, delta);
}

void metrics_https_connections(size_t open, size_t max)
{
    __atomic_store_n(&https_open, open, __ATOMIC_RELAXED);
    __atomic_store_n(&https_max, max, __ATOMIC_RELAXED);
}

void metrics_https_paused(int paused)
{
    __atomic_store_n(&https_paused, paused ? 1 : 0, __ATOMIC_RELAXED);
    if (paused)
        ADD(https_pauses, 1);
}

void metrics_inflight_set(size_t n)
{
    __atomic_store_n(&inflight, n, __ATOMIC_RELAXED);
}

void metrics_http_pending(size_t n)
{
    __atomic_store_n(&http_pending, n, __ATOMIC_RELAXED);
}

void metrics_http_request(int status)
{
    int c = status / 100;
    if (c >= 1 && c <= 5)
        ADD(http_by_class[c], 1);
}

void metrics_http_client_closed(void)
{
    ADD(http_client_closed, 1);
}

void metrics_webhook_attempt(enum metrics_webhook o, double s)
{
    size_t i = 0;
    if ((unsigned)o < 4)
        ADD(wh_attempts[o], 1);
    while (i < NLAT && s > lat_bounds[i])
        i++;
    ADD(wh_lat_bucket[i], 1);
    ADD(wh_lat_sum_us, (uint64_t)(s * 1e6));
}

void metrics_webhook_failure(enum metrics_wh_fail reason)
{
    if ((unsigned)reason < METRIC_WHF_N)
        ADD(wh_fail[reason], 1);
}

void metrics_breakers_open(int delta)
{
    ADD(breakers_open, delta);
}

void metrics_deliveries_set(long long due, long long scheduled,
                            long long leased, long long held,
                            long long dead, long long blocked,
                            double oldest_due_s)
{
    long long v[6] = { due, scheduled, leased, held, dead, blocked };
    for (int i = 0; i < 6; i++)
        if (v[i] >= 0)
            __atomic_store_n(&dlv_state[i], v[i], __ATOMIC_RELAXED);
    __atomic_store_n(&dlv_oldest_ms, (int64_t)(oldest_due_s * 1000),
                     __ATOMIC_RELAXED);
}

void metrics_health_set(const long long n[4])
{
    for (int i = 0; i < 4; i++)
        __atomic_store_n(&sub_health[i], n[i], __ATOMIC_RELAXED);
}

void metrics_tls_not_after(enum metrics_tls_listener l, long long not_after)
{
    if ((unsigned)l < 2)
        __atomic_store_n(&tls_not_after[l], (int64_t)not_after,
                         __ATOMIC_RELAXED);
}

struct out {
    char *p;
    size_t len, cap;
};

static void put(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if ((size_t)n < o->cap - o->len) {
            o->len += (size_t)n;
            return;
        }
        o->cap = o->cap * 2 + (size_t)n;
        o->p = realloc(o->p, o->cap);
        if (o->p == NULL)
            abort();
    }
}

/* A histogram's _sum, a count of micro-units (us_sum: microseconds, shown
 * as seconds) or of units, printed whole: "%g" kept six digits, so a
 * month's sum moved only in steps of many seconds or messages and a
 * rate() of it over a scrape interval read 0 or a jump (F3660) */
static void histogram(struct out *o, const char *name, const double *bounds,
                      size_t nb, const uint64_t *bucket, uint64_t sum,
                      bool us_sum)
{
    uint64_t cum = 0;
    for (size_t i = 0; i < nb; i++) {
        cum += GET(bucket[i]);
        put(o, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i],
            (unsigned long long)cum);
    }
    cum += GET(bucket[nb]);
    put(o, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
    if (us_sum)
        put(o, "%s_sum %llu.%06llu\n", name,
            (unsigned long long)(sum / 1000000),
            (unsigned long long)(sum % 1000000));
    else
        put(o, "%s_sum %llu\n", name, (unsigned long long)sum);
    put(o, "%s_count %llu\n", name, (unsigned long long)cum);
}

char *metrics_render(size_t *len)
{
    static const char *const names[METRIC_OUTCOMES] = {
        "accepted", "rejected", "duplicate", "key_reused"
    };
    struct out o = { malloc(4096), 0, 4096 };
    if (o.p == NULL)
        abort();

    put(&o, "# HELP hub_messages_total Inbound messages by outcome.\n"
            "# TYPE hub_messages_total counter\n");
    for (int i = 0; i < METRIC_OUTCOMES; i++)
        put(&o, "hub_messages_total{outcome=\"%s\"} %llu\n", names[i],
            (unsigned long long)GET(messages[i]));
    put(&o, "# HELP hub_ack_latency_seconds From a complete message to its "
            "answer, commit included.\n# TYPE hub_ack_latency_seconds "
            "histogram\n");
    histogram(&o, "hub_ack_latency_seconds", lat_bounds, NLAT, lat_bucket,
              GET(lat_sum_us), true);
    put(&o, "# HELP hub_commit_batch_size Messages per ingest transaction.\n"
            "# TYPE hub_commit_batch_size histogram\n");
    histogram(&o, "hub_commit_batch_size", batch_bounds, NBATCH, batch_bucket,
              GET(batch_sum), false);
    put(&o, "# HELP hub_commit_retries_total Ingest transactions retried "
            "after a database failure.\n# TYPE hub_commit_retries_total "
            "counter\nhub_commit_retries_total %llu\n",
        (unsigned long long)GET(commit_retries));
    put(&o, "# HELP hub_db_busy_total API database work answered 503: it "
            "waited past db_wait_timeout for a worker (never run), past "
            "db_lock_timeout for a lock, or past db_statement_timeout for "
            "the server's answer (cut); and statements of the committers "
            "(commit_deadline) and the dispatcher (dispatch_deadline) cut "
            "past db_commit_timeout, retried on a new link.\n"
            "# TYPE hub_db_busy_total counter\n"
            "hub_db_busy_total{reason=\"wait\"} %llu\n"
            "hub_db_busy_total{reason=\"lock\"} %llu\n"
            "hub_db_busy_total{reason=\"deadline\"} %llu\n"
            "hub_db_busy_total{reason=\"commit_deadline\"} %llu\n"
            "hub_db_busy_total{reason=\"dispatch_deadline\"} %llu\n",
        (unsigned long long)GET(db_busy[METRIC_DB_WAIT]),
        (unsigned long long)GET(db_busy[METRIC_DB_LOCK]),
        (unsigned long long)GET(db_busy[METRIC_DB_DEADLINE]),
        (unsigned long long)GET(db_busy[METRIC_DB_COMMIT_DEADLINE]),
        (unsigned long long)GET(db_busy[METRIC_DB_DISPATCH_DEADLINE]));
    put(&o, "# HELP hub_open_connections Open MLLP connections.\n"
            "# TYPE hub_open_connections gauge\nhub_open_connections %lld\n",
        (long long)GET(open_conns));
    put(&o, "# HELP hub_https_open_connections Open HTTPS connections (each "
            "an SSL object, from accept until freed).\n"
            "# TYPE hub_https_open_connections gauge\n"
            "hub_https_open_connections %llu\n"
            "# HELP hub_https_max_connections The limit of open HTTPS "
            "connections (https_max_connections).\n"
            "# TYPE hub_https_max_connections gauge\n"
            "hub_https_max_connections %llu\n"
            "# HELP hub_https_accept_paused 1 while the HTTPS listener does "
            "not accept, at the limit (new clients wait in the listen "
            "queue).\n# TYPE hub_https_accept_paused gauge\n"
            "hub_https_accept_paused %llu\n"
            "# HELP hub_https_accept_pauses_total Times the HTTPS listener "
            "stopped accepting at the limit.\n"
            "# TYPE hub_https_accept_pauses_total counter\n"
            "hub_https_accept_pauses_total %llu\n",
        (unsigned long long)GET(https_open),
        (unsigned long long)GET(https_max),
        (unsigned long long)GET(https_paused),
        (unsigned long long)GET(https_pauses));
    put(&o, "# HELP hub_inflight_messages Messages received, not yet "
            "answered.\n# TYPE hub_inflight_messages gauge\n"
            "hub_inflight_messages %llu\n",
        (unsigned long long)GET(inflight));
    put(&o, "# HELP hub_http_pending_requests HTTP requests received, not "
            "yet answered.\n# TYPE hub_http_pending_requests gauge\n"
            "hub_http_pending_requests %llu\n",
        (unsigned long long)GET(http_pending));
    put(&o, "# HELP hub_http_responses_total HTTP responses by status "
            "class; client_closed: answers to a client that had closed its "
            "connection before them, in no status class.\n"
            "# TYPE hub_http_responses_total counter\n");
    for (int c = 1; c <= 5; c++)
        put(&o, "hub_http_responses_total{class=\"%dxx\"} %llu\n", c,
            (unsigned long long)GET(http_by_class[c]));
    /* a label value of the same family, as nginx's 499 is a status of its
     * own: sum() over the family is still every request answered, and a
     * ratio of class="5xx" to it loses the answers nobody received */
    put(&o, "hub_http_responses_total{class=\"client_closed\"} %llu\n",
        (unsigned long long)GET(http_client_closed));
    static const char *const wh[] = { "delivered", "retry", "dead", "gone" };
    put(&o, "# HELP hub_webhook_attempts_total Webhook attempts by outcome.\n"
            "# TYPE hub_webhook_attempts_total counter\n");
    for (int i = 0; i < 4; i++)
        put(&o, "hub_webhook_attempts_total{outcome=\"%s\"} %llu\n", wh[i],
            (unsigned long long)GET(wh_attempts[i]));
    static const char *const whf[] = METRICS_WH_FAIL_NAMES;
    put(&o, "# HELP hub_webhook_failures_total Failed webhook attempts "
            "(retried or dead; a 410 is outcome gone) by reason: timeout, "
            "connect (refused, unreachable, no DNS answer), tls, throttled "
            "(429), redirect (3xx: not followed), http_4xx, http_5xx, "
            "refused (an address the SSRF check refuses), proxy (the hub's egress proxy refused, failed or was "
            "down), other (the connection cut, an empty answer).\n"
            "# TYPE hub_webhook_failures_total counter\n");
    for (int i = 0; i < METRIC_WHF_N; i++)
        put(&o, "hub_webhook_failures_total{reason=\"%s\"} %llu\n", whf[i],
            (unsigned long long)GET(wh_fail[i]));
    put(&o, "# HELP hub_webhook_breakers_open Endpoints (scheme://host:port) "
            "whose circuit breaker this node holds open: deliveries to them "
            "wait, one probe at a time (the log's dispatch.breaker_open names "
            "them); counted from the opening to the next success, so one "
            "nothing is sent to since stays counted (until a full "
            "endpoint table forgets it).\n# TYPE hub_webhook_breakers_open gauge\n"
            "hub_webhook_breakers_open %lld\n",
        (long long)GET(breakers_open));
    put(&o, "# HELP hub_webhook_latency_seconds One webhook request, from "
            "send to answer or error.\n# TYPE hub_webhook_latency_seconds "
            "histogram\n");
    histogram(&o, "hub_webhook_latency_seconds", lat_bounds, NLAT,
              wh_lat_bucket, GET(wh_lat_sum_us), true);
    static const char *const ds[] = { "due", "scheduled", "leased", "held",
                                       "dead", "blocked" };
    if (GET(dlv_state[0]) >= 0) {
        put(&o, "# HELP hub_deliveries Webhook deliveries by state: due "
                "(waiting for a sender), scheduled (a retry's back-off), "
                "leased (being sent), held (of a paused, disabled or "
                "deleted subscription), dead (dead letters), blocked (due "
                "but behind an earlier delivery of the same patient and "
                "subscription); read from the "
                "database at most every 5 s (dead: 60 s).\n"
                "# TYPE hub_deliveries gauge\n");
        for (int i = 0; i < 6; i++)
            if (GET(dlv_state[i]) >= 0)
                put(&o, "hub_deliveries{state=\"%s\"} %lld\n", ds[i],
                    (long long)GET(dlv_state[i]));
        put(&o, "# HELP hub_deliveries_oldest_due_seconds How long the "
                "oldest due delivery has waited.\n# TYPE "
                "hub_deliveries_oldest_due_seconds gauge\n"
                "hub_deliveries_oldest_due_seconds %g\n",
            (double)GET(dlv_oldest_ms) / 1000);
    }
    static const char *const hs[] = { "healthy", "failing",
                                      "dead-lettering", "disabled" };
    if (GET(sub_health[0]) >= 0) {
        put(&o, "# HELP hub_subscriptions Live subscriptions by health "
                "(what their deliveries' outcomes say; a change is a "
                "hub.health event); read with the delivery gauges.\n"
                "# TYPE hub_subscriptions gauge\n");
        for (int i = 0; i < 4; i++)
            put(&o, "hub_subscriptions{health=\"%s\"} %lld\n", hs[i],
                (long long)GET(sub_health[i]));
    }
    static const char *const tl[] = { "https", "mllps" };
    if (GET(tls_not_after[0]) >= 0 || GET(tls_not_after[1]) >= 0) {
        put(&o, "# HELP hub_tls_certificate_expiry_seconds When the server "
                "certificate a TLS listener presents expires (Unix time); "
                "SIGHUP loads a renewed one.\n"
                "# TYPE hub_tls_certificate_expiry_seconds gauge\n");
        for (int i = 0; i < 2; i++)
            if (GET(tls_not_after[i]) >= 0)
                put(&o, "hub_tls_certificate_expiry_seconds{listener=\"%s\"} "
                        "%lld\n", tl[i], (long long)GET(tls_not_after[i]));
    }
    *len = o.len;
    return o.p;
}

/*
 * metrics.h - process-wide counters, gauges and histograms, rendered as
 * Prometheus text for GET /metrics. Lock-free (relaxed atomics): any thread
 * may record. Names and labels are fixed here; values are counts only.
 */
#ifndef HUB_METRICS_H
#define HUB_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* key_reused: answered as a duplicate, but with other bytes, which were
 * kept in quarantine (a sender whose control ids restarted) */
enum metrics_outcome { METRIC_ACCEPTED, METRIC_REJECTED, METRIC_DUPLICATE,
                       METRIC_KEY_REUSED, METRIC_OUTCOMES };

void metrics_message(enum metrics_outcome o);
/* seconds from a complete message to its answer being written */
void metrics_ack_latency(double seconds);
void metrics_commit_batch(size_t messages);
void metrics_commit_retry(void);
/* API database work answered busy (dbpool.c): it waited past
 * db_wait_timeout for a worker (never run), past db_lock_timeout for a
 * lock, or past db_statement_timeout for the server's answer (cut); a
 * committer's or the dispatcher's statement cut past db_commit_timeout
 * (ingest.c, dispatch_db.c: retried on a new link, F765) */
enum metrics_db_busy { METRIC_DB_WAIT, METRIC_DB_LOCK, METRIC_DB_DEADLINE,
                       METRIC_DB_COMMIT_DEADLINE,
                       METRIC_DB_DISPATCH_DEADLINE, METRIC_DB_BUSY_N };
void metrics_db_busy(enum metrics_db_busy why);
void metrics_connections(int delta);       /* open MLLP connections */
/* open HTTPS connections (SSL objects) and their limit (listen_http.c) */
void metrics_https_connections(size_t open, size_t max);
/* the HTTPS listener stopped accepting at the limit (counted) or accepts
 * again */
void metrics_https_paused(int paused);
void metrics_inflight_set(size_t n);
/* an API answer, counted by its status' class; or, when its client had
 * closed the connection before it (nginx's 499), as client_closed and not
 * by its status: it reached nobody (F1202) */
void metrics_http_request(int status);
void metrics_http_client_closed(void);
void metrics_http_pending(size_t n);      /* requests not yet answered */

/* webhook attempts by outcome, with their latency (dispatch.c) */
enum metrics_webhook { METRIC_WH_DELIVERED, METRIC_WH_RETRY, METRIC_WH_DEAD,
                       METRIC_WH_GONE };
void metrics_webhook_attempt(enum metrics_webhook o, double seconds);
/* a failed attempt (retried or dead; not a 410) by what failed, so that
 * on-call tells an endpoint that hangs from one that refuses or answers
 * 5xx: names in METRICS_WH_FAIL_NAMES order */
enum metrics_wh_fail { METRIC_WHF_TIMEOUT, METRIC_WHF_CONNECT,
                       METRIC_WHF_TLS, METRIC_WHF_THROTTLED,
                       METRIC_WHF_REDIRECT, METRIC_WHF_HTTP_4XX, METRIC_WHF_HTTP_5XX,
                       METRIC_WHF_REFUSED, METRIC_WHF_PROXY, METRIC_WHF_OTHER,
                       METRIC_WHF_N };
#define METRICS_WH_FAIL_NAMES { "timeout", "connect", "tls", "throttled", \
    "redirect", "http_4xx", "http_5xx", "refused", "proxy", "other" }
void metrics_webhook_failure(enum metrics_wh_fail reason);
/* endpoints whose breaker opened (+1) or closed or was forgotten (-1) */
void metrics_breakers_open(int delta);

/* the delivery backlog as last read (api_core.c); dead < 0: keep the
 * last dead-letter count. Not rendered before the first call. */
void metrics_deliveries_set(long long due, long long scheduled,
                            long long leased, long long held,
                            long long dead, long long blocked,
                            double oldest_due_s);

/* subscriptions by health as last read (api_core.c), in the order of
 * SUBS_HEALTH_NAMES (subs.h). Not rendered before the first call. */
void metrics_health_set(const long long n[4]);

/* the notAfter (Unix time) of a TLS listener's certificate as loaded at
 * start or by the last reload (hubd.c); a listener never set is left out */
enum metrics_tls_listener { METRIC_TLS_HTTPS, METRIC_TLS_MLLPS };
void metrics_tls_not_after(enum metrics_tls_listener l, long long not_after);

/* malloc'd text/plain; version=0.0.4 exposition; caller frees */
char *metrics_render(size_t *len);

#endif

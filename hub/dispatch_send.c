/*
 * dispatch_send.c - the dispatcher's transfers: a claimed delivery becomes
 * a job in its endpoint's queue, starts when the endpoint has a free slot
 * and its breaker is closed (jobs_pump), is signed and sent by libcurl
 * multi on the loop, and ends as an outcome (job_finish) that
 * dispatch_db.c records. The SSRF guard runs here, on every address a
 * connection is about to use.
 */
#include "dispatch_int.h"

#include <arpa/inet.h>
#include <assert.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/hub_err.h"
#include "log.h"
#include "metrics.h"

/* --- endpoints ------------------------------------------------------------ */

/* May a full table forget this endpoint? One with nothing claimed or
 * sending whose breaker is closed; when none is (`lapsed`), one whose open
 * time is over, a probe due that nothing has claimed. One still open (a
 * Retry-After's hold, failures) would be sent to at once by the next claim
 * as if it were new (F3825). Every opening leaves the breaker half open
 * until a success (endpoint_open), so an endpoint that failed and then
 * had no more work (its subscription deleted, its deliveries dead) was
 * never forgotten, and a table full of such kept every new endpoint out
 * for good (F4140); forgotten, it starts again from a closed breaker. */
static bool endpoint_forgettable(const struct endpoint *e, int64_t now,
                                 bool lapsed)
{
    if (e->inflight != 0 || e->queued != 0)
        return false;
    return !e->half_open || (lapsed && e->open_until_ms <= now);
}

/* Forget one endpoint of a full table, a closed one first; false: none
 * may be. */
static bool endpoint_forget_one(struct dispatch *d)
{
    int64_t now = mono_ms();
    for (int lapsed = 0; lapsed < 2; lapsed++)
        for (size_t i = 0; i < d->n_eps; i++) {
            struct endpoint *e = d->eps[i];
            if (!endpoint_forgettable(e, now, lapsed))
                continue;
            if (e->counted_open)
                metrics_breakers_open(-1);
            free(e);
            d->eps[i] = d->eps[--d->n_eps];
            return true;
        }
    return false;
}

struct endpoint *endpoint_get(struct dispatch *d, const char *key)
{
    size_t max = (size_t)d->cfg.max_endpoints;
    for (size_t i = 0; i < d->n_eps; i++)
        if (strcmp(d->eps[i]->key, key) == 0)
            return d->eps[i];
    /* forget an idle endpoint to stay bounded; none: the caller hands the
     * job back, to be claimed again later */
    if (d->n_eps == max && !endpoint_forget_one(d))
        return NULL;
    struct endpoint *e = calloc(1, sizeof(*e));
    if (!e)
        abort();
    snprintf(e->key, sizeof(e->key), "%s", key);
    if (!d->eps) {
        d->eps = calloc(max, sizeof(*d->eps));
        if (!d->eps)
            abort();
    }
    d->eps[d->n_eps++] = e;
    return e;
}

/* May this endpoint start one more transfer now? */
static bool endpoint_can_send(struct dispatch *d, struct endpoint *e,
                              int64_t now)
{
    if (e->inflight >= d->cfg.per_endpoint)
        return false;
    if (e->open_until_ms > now)
        return false;
    if (e->half_open && e->inflight > 0)
        return false;               /* one probe at a time */
    return true;
}

/* The breaker's log lines name the endpoint (scheme://host:port: no
 * path, which may carry a partner's token) and the attempt's delivery and
 * subscription, so that on-call knows whose endpoint it is. The
 * subscription of job `j`, its length into *len. */
static const char *job_sub_id(const struct job *j, int *len)
{
    int sbl = (int)j->ids.sb;
    const char *sb = j->ids.buf + j->ids.ev + j->ids.rc;

    if (sbl >= 2 && sb[0] == '"') {     /* held as a JSON string */
        sb++;
        sbl -= 2;
    }
    *len = sbl;
    return sb;
}

/* Opens the breaker until `until` (monotonic), unless it is open longer;
 * after the pause, one probe. */
static void endpoint_open(struct endpoint *e, int64_t until)
{
    if (until > e->open_until_ms)
        e->open_until_ms = until;
    e->half_open = true;
    e->opened_ms = mono_ms();
    if (!e->counted_open) {
        e->counted_open = true;
        metrics_breakers_open(1);
    }
}

static void endpoint_outcome(struct dispatch *d, struct endpoint *e, bool ok,
                             const struct job *j)
{
    int sbl;
    const char *sb = job_sub_id(j, &sbl);

    if (e->held_until_ms > mono_ms() &&
        (ok || j->started_ms <= e->opened_ms)) {
        /* the answer to a transfer sent before the endpoint asked for
         * the pause: the time it asked stands, and the probe after it
         * closes the breaker (F3760) or opens it; a failure (the rest of
         * a burst of 429s) counts none, or per_endpoint >=
         * breaker_failures of them opened it for breaker_open_ms (F3964) */
        if (ok)
            e->failures = 0;
        return;
    }
    if (ok) {
        if (e->half_open || e->failures >= d->cfg.breaker_failures)
            log_info("dispatch.breaker_closed", "endpoint=%s "
                     "subscription=%.*s delivery=dlv_%" PRId64 " inflight=%d",
                     e->key, sbl, sb, j->id, e->inflight);
        e->failures = 0;
        e->half_open = false;
        e->open_until_ms = 0;
        if (e->counted_open) {
            e->counted_open = false;
            metrics_breakers_open(-1);
        }
        return;
    }
    e->failures++;
    /* the probe is a transfer started after the opening: one already
     * under way then (the other answers of a burst of 429s) fails as any
     * transfer does, or a Retry-After of 1 s held the endpoint for
     * breaker_open_ms (F3821) */
    bool probe = e->half_open && j->started_ms > e->opened_ms;
    if (probe || e->failures >= d->cfg.breaker_failures) {
        endpoint_open(e, mono_ms() + scaled(d, d->cfg.breaker_open_ms));
        if (e->failures == d->cfg.breaker_failures)
            log_warn("dispatch.breaker_open", "endpoint=%s "
                     "subscription=%.*s delivery=dlv_%" PRId64 " failures=%d "
                     "open_ms=%" PRId64, e->key, sbl, sb, j->id, e->failures,
                     scaled(d, d->cfg.breaker_open_ms));
    }
}

/* A 429 or 503 whose Retry-After asks `asked_ms` (> 0) is the endpoint's
 * answer, not only the delivery's: its breaker opens until then (at most
 * DISPATCH_RETRY_AFTER_HOLD_MAX_MS), so that its other deliveries wait in
 * the queue unattempted instead of each spending an attempt on the same
 * answer (F3623). Transfers already under way finish, and a 2xx of theirs
 * does not end the hold (endpoint_outcome, F3760). In this process's
 * memory: each hubd learns it from its own answers. */
static void endpoint_hold(struct dispatch *d, struct endpoint *e,
                          long code, int64_t asked_ms, const struct job *j)
{
    int sbl;
    const char *sb = job_sub_id(j, &sbl);
    int64_t ms = scaled(d, asked_ms < DISPATCH_RETRY_AFTER_HOLD_MAX_MS
                               ? asked_ms
                               : DISPATCH_RETRY_AFTER_HOLD_MAX_MS);

    int64_t until = mono_ms() + ms;

    endpoint_open(e, until);
    if (until > e->held_until_ms)
        e->held_until_ms = until;
    log_info("dispatch.breaker_open", "endpoint=%s subscription=%.*s "
             "delivery=dlv_%" PRId64 " code=%ld retry_after_ms=%" PRId64,
             e->key, sbl, sb, j->id, code, ms);
}

/* --- curl glue ------------------------------------------------------------ */

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct job *j = arg;
    (void)p;
    j->resp_bytes += size * n;
    if (j->resp_bytes > DISPATCH_RESPONSE_MAX)
        return 0;                   /* a receiver cannot make us read for ever */
    return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct job *j = arg;
    size_t len = size * n;
    static const char name[] = "retry-after:";
    /* the receiver's final status line (the proxy's CONNECT answer never
     * comes here: CURLOPT_SUPPRESS_CONNECT_HEADERS); curl hands us every
     * answer's fields, a 1xx's before it and the trailers after its body:
     * a Retry-After counts only in the final answer's header block
     * (F3822) */
    if (len > 9 && memcmp(p, "HTTP/", 5) == 0) {
        const char *sp = memchr(p, ' ', len);
        if (sp && sp + 1 < p + len && sp[1] >= '2' && sp[1] <= '9')
            j->answered = true;
        j->retry_after[0] = '\0';
        return len;
    }
    if (len > 0 && (p[0] == '\r' || p[0] == '\n')) {  /* a block's end */
        j->head_done = j->answered;
        return len;
    }
    if (!j->head_done && len > sizeof(name) &&
        strncasecmp(p, name, sizeof(name) - 1) == 0) {
        size_t v = sizeof(name) - 1;
        while (v < len && (p[v] == ' ' || p[v] == '\t'))   /* OWS */
            v++;
        size_t e = len;
        while (e > v && (p[e - 1] == '\r' || p[e - 1] == '\n' ||
                         p[e - 1] == ' ' || p[e - 1] == '\t'))
            e--;
        size_t l = e - v < sizeof(j->retry_after) - 1 ? e - v
                                                      : sizeof(j->retry_after) - 1;
        memcpy(j->retry_after, p + v, l);
        j->retry_after[l] = '\0';
    }
    return len;
}

/* SSRF: whether the job may reach `ip` (text); a refusal is marked on the
 * job and logged. */
bool ssrf_refuse(struct job *j, const char *ip)
{
    const struct dispatch *d = j->d;
    enum webhook_addr_class c = webhook_addr_classify(ip);
    if (webhook_addr_allowed(c, d->cfg.production, d->cfg.allow_private,
                             j->cleartext))
        return false;
    if (webhook_addr_allowed(c, d->cfg.production, d->cfg.allow_private,
                             false)) {
        j->cleartext_refused = true;        /* F424 */
        log_warn("dispatch.cleartext_refused", "delivery=dlv_%" PRId64
                 " class=%s", j->id, webhook_addr_class_name(c));
        return true;
    }
    j->ssrf_refused = true;
    log_warn("dispatch.ssrf_refused", "delivery=dlv_%" PRId64 " class=%s",
             j->id, webhook_addr_class_name(c));
    return true;
}

/* SSRF, again: called once connected (after DNS, before a byte of the
 * request is sent), with the address actually connected to, also for a
 * reused connection. on_open has refused a new connection's address
 * already; DNS rebinding cannot slip past either. Through the proxy the
 * address connected to is the proxy's (the operator's, not checked): the
 * receiver's was checked before the transfer began (lookup_done), and
 * the proxy was told that address, not the name. */
static int on_prereq(void *arg, char *primary_ip, char *local_ip,
                     int primary_port, int local_port)
{
    struct job *j = arg;
    (void)local_ip;
    (void)primary_port;
    (void)local_port;
    if (j->d->proxied)
        return CURL_PREREQFUNC_OK;
    return ssrf_refuse(j, primary_ip) ? CURL_PREREQFUNC_ABORT
                                      : CURL_PREREQFUNC_OK;
}

void running_unlink(struct dispatch *d, struct job *j)
{
    if (j->rprev)
        j->rprev->rnext = j->rnext;
    else
        d->running = j->rnext;
    if (j->rnext)
        j->rnext->rprev = j->rprev;
    inflight_note(d);
    j->ep->inflight--;
    d->inflight--;
    if (j->ep->capped && j->ep->inflight + j->ep->queued < d->ep_cap) {
        j->ep->capped = false;          /* below its share: a refill */
        d->ep_refill = true;
    }
    atomic_store(&d->inflight_pub, d->inflight);
}

static size_t signer_bucket(const char *text)
{
    uint32_t h = 2166136261u;           /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % DISPATCH_SIGNER_BUCKETS;
}

/* The signer of a claimed secrets column (space-separated whsec_
 * strings), held once more; NULL when none of them is usable. */
struct signer *signer_get(struct dispatch *d, const char *text)
{
    struct signer **b = &d->signers[signer_bucket(text)];
    for (struct signer *g = *b; g; g = g->next) {
        if (strcmp(g->text, text) == 0) {
            g->jobs++;
            return g;
        }
    }
    struct webhook_secret k[WEBHOOK_MAX_SECRETS];
    size_t n = 0;
    const char *sp = text;
    while (*sp && n < WEBHOOK_MAX_SECRETS) {
        char one[128];
        size_t l = strcspn(sp, " ");
        if (l < sizeof(one)) {
            memcpy(one, sp, l);
            one[l] = '\0';
            if (webhook_secret_parse(one, &k[n], NULL) == HUB_OK)
                n++;
            OPENSSL_cleanse(one, sizeof(one));
        }
        sp += l;
        while (*sp == ' ')
            sp++;
    }
    struct webhook_signer *ws = n ? webhook_signer_new(k, n) : NULL;
    OPENSSL_cleanse(k, sizeof(k));
    if (!ws)
        return NULL;
    struct signer *g = calloc(1, sizeof(*g));
    if (!g || !(g->text = strdup(text)))
        abort();
    g->ws = ws;
    g->jobs = 1;
    g->next = *b;
    *b = g;
    return g;
}

static void signer_put(struct dispatch *d, struct signer *g)
{
    if (!g || --g->jobs > 0)
        return;
    struct signer **p = &d->signers[signer_bucket(g->text)];
    while (*p != g)
        p = &(*p)->next;
    *p = g->next;
    OPENSSL_cleanse(g->text, strlen(g->text));
    free(g->text);
    webhook_signer_free(g->ws);
    free(g);
}

void rows_put(struct claim_rows *c)
{
    if (!c || --c->holders > 0)
        return;
    store_rows_free(c->rows);
    free(c);
}

void job_free(struct job *j)
{
    if (!j)
        return;
    if (j->easy) {
        struct dispatch *d = j->d;
        curl_multi_remove_handle(d->multi, j->easy);
        if (d->proxied)                 /* points into j */
            curl_easy_setopt(j->easy, CURLOPT_CONNECT_TO, NULL);
        if (d->n_easy_pool < d->easy_pool_cap) {
            d->easy_pool_tls[d->n_easy_pool] = j->easy_tls;
            d->easy_pool[d->n_easy_pool++] = j->easy;
        } else {
            curl_easy_cleanup(j->easy);
        }
    }
    if (j->lookup)
        j->lookup->j = NULL;        /* freed when it comes back */
    if (j->dns_timer)
        event_free(j->dns_timer);
    rows_put(j->rows);
    free(j->url);
    free(j->client_cert);
    free(j->client_key);
    free(j->ca_bundle);
    signer_put(j->d, j->signer);
    free(j);
}

/* A failure that was the proxy's, or NULL: the CONNECT's own answer
 * (CURLINFO_HTTP_CONNECTCODE: a status other than 2xx, the proxy refused
 * the tunnel), or, with no answer to a CONNECT, what curl could not do
 * with the proxy itself (every socket is the proxy's: a refused connect
 * is the proxy down). A reused tunnel has no CONNECT answer, and its
 * errors are the receiver's. */
static const char *proxy_error_token(CURLcode rc, const struct job *j)
{
    long cc = 0;

    curl_easy_getinfo(j->easy, CURLINFO_HTTP_CONNECTCODE, &cc);
    if (cc >= 200 && cc < 300)
        return NULL;                /* the tunnel was up */
    switch (cc) {
    case 0: break;
    case 407: return "proxy_auth";
    case 403: return "proxy_forbidden";
    case 502: return "proxy_bad_gateway";
    case 503: return "proxy_unavailable";
    case 504: return "proxy_gateway_timeout";
    default: return "proxy_refused";
    }
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_PROXY: return "proxy_dns";
    case CURLE_COULDNT_CONNECT: return "proxy_connect";
    case CURLE_PROXY: return "proxy_refused";
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
        /* before any CONNECT answer, the only TLS is the proxy's own */
        return j->d->proxy_tls ? "proxy_tls" : NULL;
    default: return NULL;
    }
}

static const char *curl_error_token(CURLcode rc, const struct job *j)
{
    if (j->d->proxied) {
        const char *p = proxy_error_token(rc, j);
        if (p)
            return p;
    }
    /* an address refused, and none other reached: on_open's refusal
     * leaves curl nothing to connect to, on_prereq's aborts (a refused
     * IPv6 address before an IPv4 one that then timed out is a timeout) */
    if ((j->ssrf_refused || j->cleartext_refused) &&
        (rc == CURLE_COULDNT_CONNECT || rc == CURLE_ABORTED_BY_CALLBACK))
        return j->ssrf_refused ? "ssrf" : "cleartext";
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT: return "timeout";
    case CURLE_COULDNT_RESOLVE_HOST: return "dns";
    case CURLE_COULDNT_CONNECT: return "connect";
    case CURLE_SEND_ERROR: return "send";
    case CURLE_RECV_ERROR: return "recv";
    case CURLE_GOT_NOTHING: return "empty_reply";
    case CURLE_WRITE_ERROR: return "response_too_big";
    case CURLE_SSL_CONNECT_ERROR: return "tls";
    case CURLE_PEER_FAILED_VERIFICATION: return "tls_verify";
    case CURLE_SSL_CERTPROBLEM: return "tls_client_cert";
    case CURLE_SSL_CACERT_BADFILE: return "tls_ca_bundle";
    case CURLE_UNSUPPORTED_PROTOCOL: return "protocol";
    default: return "network";
    }
}

/* An error of the hub's own egress proxy (proxy_error_token's proxy_*):
 * no answer of the receiver's, and no fault of the partner's. */
static bool is_proxy_error(const char *err)
{
    return err != NULL && strncmp(err, "proxy_", 6) == 0;
}

/* what failed, for hub_webhook_failures_total: the error token of
 * curl_error_token(), else the HTTP status */
static enum metrics_wh_fail fail_reason(const char *err, long code)
{
    if (err == NULL)
        return code == 429 ? METRIC_WHF_THROTTLED
             : code >= 500 ? METRIC_WHF_HTTP_5XX
             : code >= 400 ? METRIC_WHF_HTTP_4XX
             : code >= 300 ? METRIC_WHF_REDIRECT : METRIC_WHF_OTHER;
    if (is_proxy_error(err))
        return METRIC_WHF_PROXY;
    if (strcmp(err, "timeout") == 0)
        return METRIC_WHF_TIMEOUT;
    if (strcmp(err, "connect") == 0 || strcmp(err, "dns") == 0)
        return METRIC_WHF_CONNECT;
    if (strncmp(err, "tls", 3) == 0)
        return METRIC_WHF_TLS;
    if (strcmp(err, "ssrf") == 0 || strcmp(err, "cleartext") == 0)
        return METRIC_WHF_REFUSED;
    return METRIC_WHF_OTHER;
}

/* The outcome of an attempt: the receiver's status `code` (0: none) and
 * the static error token (NULL: none). */
void job_finish(struct dispatch *d, struct job *j, long code,
                const char *err)
{
    int64_t latency = mono_ms() - j->started_ms;
    const char *outcome;
    enum metrics_webhook m;
    int64_t delay = 0;
    int64_t asked = -1;             /* a 429's or 503's Retry-After */

    if (!err && code >= 200 && code < 300) {
        outcome = "delivered";
        m = METRIC_WH_DELIVERED;
        stat_add(d, &d->stats.delivered, 1);
    } else if (!err && code == 410) {
        /* Gone: the receiver asks us to stop; disable the subscription */
        outcome = "gone";
        m = METRIC_WH_GONE;
        stat_add(d, &d->stats.gone, 1);
    } else {
        if (!err && (code == 429 || code == 503))
            asked = webhook_retry_after_ms(
                j->retry_after[0] ? j->retry_after : NULL, (int64_t)time(NULL));
        int64_t b = webhook_backoff_ms(j->attempt,
                                       (double)rand_r(&d->rand_state) /
                                           ((double)RAND_MAX + 1.0));
        if (b < 0) {
            outcome = "dead";
            m = METRIC_WH_DEAD;
            stat_add(d, &d->stats.dead, 1);
        } else {
            if (asked > b)
                b = asked;
            outcome = "retry";
            m = METRIC_WH_RETRY;
            delay = scaled(d, b);
            stat_add(d, &d->stats.retried, 1);
        }
        if (err && strcmp(err, "ssrf") == 0)
            stat_add(d, &d->stats.refused_ssrf, 1);
        metrics_webhook_failure(fail_reason(err, code));
    }
    /* the breaker counts what says "this endpoint is unwell": network
     * errors, timeouts, 5xx and 429; not a 4xx about one payload, nor a
     * failure of the hub's own egress proxy (proxy_*: every endpoint would
     * open its breaker at once, for a fault that is none of theirs) */
    bool unwell = err != NULL || code >= 500 || code == 429;
    /* a 429 or 503 that says when to come back is the receiver's own
     * schedule: the hold keeps it, and the breaker neither counts it nor
     * reopens for breaker_open_ms over it (a burst of eight, or the probe
     * after a hold, asking 1 s was left alone 30 s; F3800) */
    if (asked > 0)
        endpoint_hold(d, j->ep, code, asked, j);
    else if (!is_proxy_error(err))  /* 0 or none: the breaker as it was */
        endpoint_outcome(d, j->ep, !unwell, j);
    /* a success is in the database and the metrics; the log line is for
     * what needs a look (thousands of successes a second would drown it) */
    log_write(m == METRIC_WH_DELIVERED ? LOG_DEBUG : LOG_INFO,
              "dispatch.attempt",
              "delivery=dlv_%" PRId64 " attempt=%d code=%ld error=%s "
              "latency_ms=%" PRId64 " outcome=%s delay_ms=%" PRId64,
              j->id, j->attempt, code, err ? err : "-", latency, outcome,
              delay);
    result_add(d, j, code, err, latency, outcome, delay);
    if (m == METRIC_WH_GONE)
        sub_changed(d, j->sub, true);   /* its queued jobs are not sent */
    metrics_webhook_attempt(m, (double)latency / 1000.0);
    running_unlink(d, j);
    job_free(j);
}

static void job_done(struct dispatch *d, struct job *j, CURLcode rc)
{
    long code = 0;
    const char *err = NULL;

    curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &code);
    if (rc != CURLE_OK) {
        err = curl_error_token(rc, j);
        /* the answer's status had come, and the transfer failed in its
         * body: on_body stopped reading a long one, or it never ended
         * (the timeout) or was cut short (fewer bytes than announced, a
         * reset); or in ours: a 2xx that came before the receiver read
         * the whole request (curl stops sending only for a status of 300
         * or more, or one that says it closes), which then closed unread
         * and reset what was still being sent. The status decides (a 2xx
         * is delivered, a 410 gone, a 503's Retry-After waited for, if
         * its headers came): the body is nothing the hub reads, and a 2xx
         * retried would be sent again at every step of the schedule */
        if (j->answered && code >= 200 && !is_proxy_error(err) &&
            (rc == CURLE_WRITE_ERROR || rc == CURLE_OPERATION_TIMEDOUT ||
             rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR ||
             rc == CURLE_SEND_ERROR))
            err = NULL;
        else if (is_proxy_error(err))
            code = 0;               /* no answer of the receiver's */
    }
    job_finish(d, j, code, err);
}

static void check_multi(struct dispatch *d)
{
    CURLMsg *m;
    int left;
    bool any = false;

    while ((m = curl_multi_info_read(d->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct job *j = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&j);
        CURLcode rc = m->data.result;
        job_done(d, j, rc);
        any = true;
    }
    if (any)
        jobs_finished(d);
}

/* After outcomes were added: the next sends, a refill, the flush. */
void jobs_finished(struct dispatch *d)
{
    jobs_pump(d);            /* the next claimed sends at once, no database */
    /* refill while the queue runs low, if the last claim left work behind
     * or a NOTIFY of new work met the room full (one claim for all the
     * answers that freed it, F4124), or once an endpoint the claim passed
     * by at its share is below it (new work wakes us by NOTIFY, the rest
     * by the poll) */
    if (((d->more_due || d->notify_missed) &&
         d->queued < d->cfg.max_inflight * DISPATCH_CLAIMED_FACTOR /
                         DISPATCH_REFILL_DIV) ||
        d->ep_refill)
        claim_turn(d);
    if (d->n_results >= DISPATCH_FLUSH_BATCH || d->flush_now) {
        flush_turn(d);
    } else if (!evtimer_pending(d->turn, NULL)) {
        struct timeval tv = { d->cfg.linger_ms / 1000,
                              (d->cfg.linger_ms % 1000) * 1000 };
        evtimer_add(d->turn, &tv);
    }
}

static void on_sock_event(evutil_socket_t fd, short what, void *arg)
{
    struct sock_ev *se = arg;
    struct dispatch *d = se->d;
    int running, flags = 0;
    if (se->idle) {
        event_del(se->ev);              /* until a transfer wants it */
        se->kind = 0;
        return;
    }
    if (what & EV_READ)
        flags |= CURL_CSELECT_IN;
    if (what & EV_WRITE)
        flags |= CURL_CSELECT_OUT;
    /* se may be gone after this (curl closed the connection) */
    curl_multi_socket_action(d->multi, fd, flags, &running);
    check_multi(d);
}

void sock_free(struct sock_ev *se)
{
    if (se->ev)
        event_free(se->ev);
    free(se);
}

/* The connection socket entry of fd, or NULL. */
static struct sock_ev *conn_sock(struct dispatch *d, curl_socket_t fd)
{
    return fd >= 0 && fd < d->n_conns ? d->conns[fd] : NULL;
}

int multi_on_socket(CURL *e, curl_socket_t s, int what, void *arg,
                    void *sockp)
{
    struct dispatch *d = arg;
    struct sock_ev *se = sockp ? sockp : conn_sock(d, s);
    (void)e;

    if (what == CURL_POLL_REMOVE) {
        if (se && se->conn) {
            se->idle = true;            /* watched on, see struct sock_ev */
        } else if (se) {
            sock_free(se);
            curl_multi_assign(d->multi, s, NULL);
        }
        return 0;
    }
    short kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
                 ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
    if (!se) {
        se = calloc(1, sizeof(*se));
        if (!se)
            abort();
        se->d = d;
        se->fd = s;
    }
    if (!sockp)
        curl_multi_assign(d->multi, s, se);
    se->idle = false;
    if (se->kind == kind)
        return 0;                       /* as it was: no syscall */
    if (se->ev) {
        event_del(se->ev);
        event_assign(se->ev, d->base, s, kind, on_sock_event, se);
    } else {
        se->ev = event_new(d->base, s, kind, on_sock_event, se);
        if (!se->ev)
            abort();
    }
    event_add(se->ev, NULL);
    se->kind = kind;
    return 0;
}

/* curl's connection sockets: made (as curl makes them) and closed here, so
 * that their events can outlive a transfer. The SSRF check runs first, on
 * the address about to be connected to (after DNS): a refused address is
 * never connected, so no TCP handshake (nor, for https, a TLS one with
 * the client certificate) reaches it, and no error tells an open internal
 * port from a closed one (on_prereq alone saw "ssrf" for an open port,
 * "connect" for a closed one). curl tries the next address, if any. */
static curl_socket_t on_open(void *arg, curlsocktype purpose,
                             struct curl_sockaddr *addr)
{
    struct job *j = arg;
    struct dispatch *d = j->d;
    char ip[INET6_ADDRSTRLEN] = "";
    (void)purpose;
    if (addr->family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)&addr->addr)->sin_addr,
                  ip, sizeof(ip));
    else if (addr->family == AF_INET6)
        inet_ntop(AF_INET6,
                  &((const struct sockaddr_in6 *)&addr->addr)->sin6_addr, ip,
                  sizeof(ip));
    /* through the proxy, every socket is the proxy's (CURLOPT_NOPROXY ""
     * leaves no host to reach directly): its address is the operator's */
    if (!d->proxied && ssrf_refuse(j, ip))  /* another family: "" is invalid */
        return CURL_SOCKET_BAD;
    curl_socket_t s = socket(addr->family, addr->socktype, addr->protocol);
    if (s < 0)
        return CURL_SOCKET_BAD;
    if (s >= d->n_conns) {
        int n = d->n_conns ? d->n_conns : 64;
        while (n <= s)
            n *= 2;
        d->conns = realloc(d->conns, (size_t)n * sizeof(*d->conns));
        if (!d->conns)
            abort();
        memset(d->conns + d->n_conns, 0,
               (size_t)(n - d->n_conns) * sizeof(*d->conns));
        d->n_conns = n;
    }
    if (d->conns[s])
        sock_free(d->conns[s]);         /* cannot happen: closed by on_close */
    struct sock_ev *se = calloc(1, sizeof(*se));
    if (!se)
        abort();
    se->d = d;
    se->fd = s;
    se->conn = true;
    se->idle = true;
    d->conns[s] = se;
    return s;
}

static int on_close(void *arg, curl_socket_t s)
{
    struct dispatch *d = arg;
    struct sock_ev *se = conn_sock(d, s);
    if (se) {
        sock_free(se);                  /* off epoll before the fd goes */
        d->conns[s] = NULL;
    }
    return close(s);
}

void multi_on_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct dispatch *d = arg;
    int running;
    (void)fd;
    (void)what;
    curl_multi_socket_action(d->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_multi(d);
}

int multi_on_timer(CURLM *multi, long timeout_ms, void *arg)
{
    struct dispatch *d = arg;
    (void)multi;
    if (timeout_ms < 0) {
        evtimer_del(d->curl_timer);
    } else {
        struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
        evtimer_add(d->curl_timer, &tv);
    }
    return 0;
}

/* --- subscriptions that changed ------------------------------------------- */

/* A pause, a delete or a 410 stops sends "at once" (README, "Webhooks"):
 * the claim checks a subscription's status, but what this node claimed
 * before (less than twice endpoint_share jobs an endpoint,
 * sent for as long as their lease allows) waits in the endpoint queues,
 * and a claim out at that moment brings more. Those are handed back
 * unsent: the release makes them claimable again, and the claim (and the
 * sweep, which holds them) reads the new status. So it is for a new URL
 * (the release moves the row to it: 018), new secrets or TLS files, which
 * the next claim reads. The trigger names only such changes, not a
 * change of health, topics or filters (018). */

static struct sub_change *change_at(struct dispatch *d, unsigned k)
{
    return &d->changes[k % DISPATCH_SUB_CHANGES];
}

int sub_changed(struct dispatch *d, const char *sub, bool gone)
{
    if (!sub || !*sub || strlen(sub) >= DISPATCH_SUB_ID_MAX)
        return 0;
    struct sub_change *c = change_at(d, d->n_changes++);
    snprintf(c->sub, sizeof(c->sub), "%s", sub);
    c->at_us = mono_us();
    c->held = gone;
    int n = 0;
    for (size_t i = 0; i < d->n_eps; i++) {
        struct endpoint *e = d->eps[i];
        struct job **pp = &e->queue, *last = NULL;
        while (*pp) {
            struct job *j = *pp;
            if (strcmp(j->sub, sub) != 0) {
                last = j;
                pp = &j->next;
                continue;
            }
            *pp = j->next;
            e->queued--;
            d->queued--;
            result_add(d, j, 0, NULL, 0, "release", 0);
            job_free(j);
            n++;
        }
        e->queue_tail = last;
    }
    if (n > 0)
        stat_add(d, &d->stats.released, (uint64_t)n);
    return n;
}

void sub_gone_recorded(struct dispatch *d, const struct outcome *o, int n)
{
    for (int i = 0; i < n; i++) {
        if (strcmp(o[i].outcome, "gone") != 0)
            continue;
        /* the subscription as the claim named it, a JSON string; none
         * (ids too long to keep): every hold ends, rather than one that
         * would never end and keep a resumed subscription unsent */
        const char *sb = o[i].ids.buf + o[i].ids.ev + o[i].ids.rc;
        size_t sbl = o[i].ids.sb;
        unsigned first = d->n_changes > DISPATCH_SUB_CHANGES
                         ? d->n_changes - DISPATCH_SUB_CHANGES : 0;
        for (unsigned k = first; k < d->n_changes; k++) {
            struct sub_change *c = change_at(d, k);
            if (c->held && (sbl < 2 || (strlen(c->sub) == sbl - 2 &&
                                        memcmp(c->sub, sb + 1,
                                               sbl - 2) == 0))) {
                c->held = false;        /* disabled for every later claim */
                c->at_us = mono_us();   /* the claims out until now */
            }
        }
    }
}

bool subs_changed_since(const struct dispatch *d, int64_t went_us)
{
    unsigned first = d->n_changes > DISPATCH_SUB_CHANGES
                     ? d->n_changes - DISPATCH_SUB_CHANGES : 0;
    for (unsigned k = first; k < d->n_changes; k++) {
        const struct sub_change *c = &d->changes[k % DISPATCH_SUB_CHANGES];
        if (c->held || c->at_us >= went_us)
            return true;
    }
    return false;
}

bool sub_stopped(const struct dispatch *d, const char *sub, int64_t went_us)
{
    unsigned first = d->n_changes > DISPATCH_SUB_CHANGES
                     ? d->n_changes - DISPATCH_SUB_CHANGES : 0;
    /* turned over since the claim went: a change of it may be lost */
    if (first > 0 &&
        d->changes[first % DISPATCH_SUB_CHANGES].at_us >= went_us)
        return true;
    for (unsigned k = first; k < d->n_changes; k++) {
        const struct sub_change *c = &d->changes[k % DISPATCH_SUB_CHANGES];
        if ((c->held || c->at_us >= went_us) && strcmp(c->sub, sub) == 0)
            return true;
    }
    return false;
}

/* --- starting transfers ------------------------------------------------------ */

/* The options every transfer sets alike: once per handle (made, or
 * reset because TLS options were or will be set on it). */
static void easy_setup(struct dispatch *d, CURL *e)
{
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    if (d->proxied) {
        /* the operator's proxy, for every host (NOPROXY "": no_proxy of
         * hubd's environment exempts none, so no socket bypasses it and
         * on_open's exemption holds); a tunnel (CONNECT) for http://
         * endpoints too, so that the proxy is always told the address
         * checked here (CURLOPT_CONNECT_TO, set per job), where a
         * forwarded "POST http://name/" would have it resolve the name
         * again. The CONNECT's headers are the proxy's: not the
         * receiver's Retry-After. */
        curl_easy_setopt(e, CURLOPT_PROXY, d->cfg.proxy);
        curl_easy_setopt(e, CURLOPT_NOPROXY, "");
        curl_easy_setopt(e, CURLOPT_HTTPPROXYTUNNEL, 1L);
        curl_easy_setopt(e, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
        if (d->cfg.proxy_ca && d->cfg.proxy_ca[0])
            curl_easy_setopt(e, CURLOPT_PROXY_CAINFO, d->cfg.proxy_ca);
    } else {
        /* straight to the subscription's address: libcurl would follow
         * http_proxy & co. of hubd's environment, and the SSRF guard would
         * then see only the proxy's address, never the one the proxy
         * reaches */
        curl_easy_setopt(e, CURLOPT_PROXY, "");
    }
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)d->cfg.timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)d->cfg.connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_open);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, on_close);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, d);
}

/* Copy src (no more than cap - 1 bytes) after the literal prefix pre into
 * buf, and make it header node k of the job. */
static void job_header(struct job *j, int k, char *buf, size_t cap,
                       const char *pre, const char *src)
{
    size_t pl = strlen(pre), sl = strlen(src);
    if (pl + sl >= cap)
        sl = cap - 1 - pl;          /* cannot happen: sizes fit their values */
    memcpy(buf, pre, pl);
    memcpy(buf + pl, src, sl);
    buf[pl + sl] = '\0';
    j->hdr[k].data = buf;
    j->hdr[k].next = k + 1 < DISPATCH_HEADERS ? &j->hdr[k + 1] : NULL;
}

static int job_start(struct dispatch *d, struct job *j)
{
    char id[40], ts_text[24], sig[WEBHOOK_SIG_HEADER_MAX];
    int64_t ts = (int64_t)time(NULL);

    memcpy(id, "dlv_", 4);
    *put_i64(id + 4, j->id) = '\0';
    *put_i64(ts_text, ts) = '\0';
    if (webhook_signer_sign(j->signer->ws, id, ts, j->body, j->body_len,
                            sig, sizeof(sig)) != HUB_OK)
        return HUB_EINVALID;
    bool tls = j->ca_bundle || j->client_cert;
    if (d->n_easy_pool > 0) {
        j->easy = d->easy_pool[--d->n_easy_pool];
        if (tls || d->easy_pool_tls[d->n_easy_pool]) {
            curl_easy_reset(j->easy);   /* no option of the last transfer */
            easy_setup(d, j->easy);
        }
    } else {
        j->easy = curl_easy_init();
        if (j->easy)
            easy_setup(d, j->easy);
    }
    if (!j->easy)
        abort();
    j->easy_tls = tls;
    job_header(j, 0, j->h_id, sizeof(j->h_id), "webhook-id: ", id);
    job_header(j, 1, j->h_ts, sizeof(j->h_ts), "webhook-timestamp: ",
               ts_text);
    job_header(j, 2, j->h_sig, sizeof(j->h_sig), "webhook-signature: ", sig);
    job_header(j, 3, j->h_type, sizeof(j->h_type), "content-type: ",
               "application/json");
    job_header(j, 4, j->h_expect, sizeof(j->h_expect), "Expect:", "");
    j->hdr[5].data = d->h_ua;           /* read only, lives with d */
    j->hdr[5].next = NULL;

    CURL *e = j->easy;
    curl_easy_setopt(e, CURLOPT_URL, j->url);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->body_len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, &j->hdr[0]);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, j);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, j);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, j);
    curl_easy_setopt(e, CURLOPT_PRIVATE, j);
    if (j->ca_bundle)
        curl_easy_setopt(e, CURLOPT_CAINFO, j->ca_bundle);
    if (j->client_cert) {
        curl_easy_setopt(e, CURLOPT_SSLCERT, j->client_cert);
        curl_easy_setopt(e, CURLOPT_SSLKEY,
                         j->client_key ? j->client_key : "");
    }
    j->started_ms = mono_ms();
    inflight_note(d);
    j->ep->inflight++;
    d->inflight++;
    atomic_store(&d->inflight_pub, d->inflight);
    j->rnext = d->running;
    if (d->running)
        d->running->rprev = j;
    d->running = j;
    stat_add(d, &d->stats.attempts, 1);
    if (d->proxied) {
        lookup_start(d, j);             /* the transfer starts once it is
                                           back: lookup_done */
        return HUB_OK;
    }
    if (curl_multi_add_handle(d->multi, e) != CURLM_OK)
        abort();
    return HUB_OK;
}

/* Start what the slots allow; hand back claims whose lease could no longer
 * cover a whole transfer. */
void jobs_pump(struct dispatch *d)
{
    int64_t now = mono_ms();
    /* a claim is started only while its lease still covers a whole
     * transfer (plus a margin), so the lease never runs out mid-send */
    int64_t spare = d->cfg.lease_ms - d->cfg.timeout_ms;   /* > 0 */
    int64_t stale = spare - (spare / 2 < 1000 ? spare / 2 : 1000);

    for (size_t i = 0; i < d->n_eps; i++) {
        struct endpoint *e = d->eps[i];
        while (e->queue) {
            struct job *j = e->queue;
            bool stopping = atomic_load(&d->stopping);
            /* its breaker open (a Retry-After's hold, failures): handed
             * back, uncounted, as what a queue keeps counts against every
             * claim's room, and the claims pass the endpoint by until it
             * opens (F3820) */
            bool open = e->open_until_ms > now;
            if (!stopping && now - j->claimed_ms < stale && !open &&
                !endpoint_can_send(d, e, now))
                break;
            e->queue = j->next;
            if (!e->queue)
                e->queue_tail = NULL;
            e->queued--;
            d->queued--;
            if (stopping || now - j->claimed_ms >= stale || open) {
                result_add(d, j, 0, NULL, 0, "release", 0);
                job_free(j);
                continue;
            }
            if (job_start(d, j) != HUB_OK) {
                result_add(d, j, 0, "signing", 0, "retry",
                           scaled(d, webhook_backoff_nominal_ms(1)));
                job_free(j);
            }
        }
    }
}

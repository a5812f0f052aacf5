/*
 * dispatch.c - webhook dispatcher: libcurl multi on a libevent loop in a
 * thread of its own (see dispatch.h). The only file that includes curl.h.
 *
 * Threads: the loop thread (curl, the endpoint queues, LISTEN on a
 * connection of its own) and two database workers, each with a connection
 * of its own: one claims, one records outcomes. The loop never waits on
 * PostgreSQL: it hands each worker one request at a time and keeps sending
 * meanwhile; replies come back through pipes. Claims never wait behind
 * outcomes (which wait for the audit-chain lock and a WAL flush), so new
 * work goes out as soon as its NOTIFY arrives.
 *
 * A delivery, seen from here:
 *   CLAIMED (leased to us, in an endpoint queue)
 *     --slot free on its endpoint--> SENDING (curl transfer)
 *     --lease can no longer cover a transfer, or stop--> released
 *   SENDING --done--> outcome: delivered | retry (delay) | dead | gone
 *   outcomes are buffered and written in one transaction per flush
 *   (hub_deliveries_done): the audit row (also the attempt's record; its
 *   detail written here, put_detail, from the ids the claim returned), the
 *   new state, the subscription's health when it changes; and, when due
 *   (digest_ms), the digests (hub_digest) after the outcomes.
 * Claims happen on a NOTIFY hub_deliveries (those that come while a
 * claim is out make one claim after it), after completions while the last
 * claim left due work behind, and every poll_ms; flushes linger_ms after
 * completions (at once when many outcomes wait, or for the outcome of a
 * delivery that rows wait behind: order_waits), one at a time, so they
 * batch themselves under load.
 *
 * Invariants: an endpoint never has more than per_endpoint transfers; a
 * transfer is only started while its lease covers a whole transfer; no
 * patient data is logged (delivery ids, codes, counts only).
 */
#include "dispatch.h"

#include <arpa/inet.h>
#include <assert.h>
#include <curl/curl.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/hub_err.h"
#include "common/arena.h"
#include "config.h"
#include "jcanon.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "webhook.h"

#define DISPATCH_MAX_ENDPOINTS 4096     /* remembered breaker states */
#define DISPATCH_ENDPOINT_MAX 300
#define DISPATCH_RESPONSE_MAX (64 * 1024)   /* read and dropped */
/* Claimed work kept ready per endpoint (x per_endpoint) and in all (x
 * max_inflight): enough that one claim round trip feeds many sends, so the
 * database's commit latency does not set the delivery rate. A refill is
 * asked for once half of it is used (DISPATCH_REFILL_DIV), so the next
 * claim is back before the queue runs dry: with a refill at max_inflight
 * left, the sends stopped for every claim (x4/x32, refill at 64: 14.0k and
 * 15.3k deliveries/s from a backlog with 1 and 10 subscriptions; x8/x64,
 * refill at half: 15.6k and 17.8k, same machine and run). */
#define DISPATCH_QUEUE_FACTOR 64
#define DISPATCH_CLAIMED_FACTOR 8
#define DISPATCH_REFILL_DIV 2
/* After a completion, outcomes wait this long (or for this many) so that one
 * transaction records many of them: the commit, not the send, is the cost.
 * The wait delays the record of a delivery, not the delivery (the receiver
 * has it), and each flush takes the audit-chain lock through its commit,
 * which ingest waits for: under a steady ingest of 1,000 msg/s, 10 ms made
 * a flush of ~10 outcomes a hundred times a second, each paying a call's
 * fixed cost (~1.5M instructions in PostgreSQL, 100k+ per delivery). */
#define DISPATCH_LINGER_MS 50
/* at most this many deliveries of ours that others wait behind, kept from
 * a claim (it looks at 64 waiting rows) */
#define DISPATCH_WAITS_MAX 64
#define DISPATCH_FLUSH_BATCH 64
/* At most this many outcomes per transaction: the chain lock is held for
 * their audit rows (ingest waits meanwhile), and every claim walks past
 * the leases not yet recorded. Under load a flush took all that waited
 * (2,675 outcomes once), which made it slower and the next one larger. */
#define DISPATCH_FLUSH_MAX 1024
/* The sweep of queue rows out of line with their subscription's status
 * (hub_queue_sweep, "Held rows" in 001_init.sql: a 410 disables a
 * subscription inside a flush, which holds none of its rows): on the flush
 * worker (with the outcomes that wait, or alone), at most every
 * DISPATCH_SWEEP_MS, or at the next turn while the last one changed its
 * full limit. A turn changes at most DISPATCH_SWEEP_LIMIT rows and walks
 * at most DISPATCH_SWEEP_WALK entries of the due index (the part that
 * claims walk): a bounded wait for the outcomes behind it. */
#define DISPATCH_SWEEP_MS 5000
#define DISPATCH_SWEEP_LIMIT 10000
#define DISPATCH_SWEEP_WALK 100000
/* Finished easy handles kept for the next transfers (x max_inflight): an
 * easy handle made and freed per delivery was a tenth of the loop's CPU
 * (allocation, defaults); connections stay in the multi handle's cache
 * either way. A pooled handle keeps the options every transfer sets alike;
 * one that had, or will have, a CA bundle or client certificate is
 * curl_easy_reset() and set up again, so that no TLS option carries over
 * to another subscription's transfer. */
#define DISPATCH_EASY_POOL_FACTOR 2
/* webhook-id, webhook-timestamp, webhook-signature, content-type, Expect
 * (removed), User-Agent. The User-Agent goes as a header of our own, not
 * as CURLOPT_USERAGENT: libcurl 7.88 formats that option into a header
 * string for every transfer (aprintf) and then copies it into the request,
 * both a byte at a time (about 110 instructions a byte under callgrind);
 * a header of ours is copied once. */
#define DISPATCH_HEADERS 6
#define DISPATCH_UA_MAX 256
/* The ids an attempt's audit detail names (event, recipient,
 * subscription), quoted: hub ids and organization ids, a few dozen bytes;
 * longer ones leave the detail to hub_deliveries_done. */
#define DISPATCH_DIDS_MAX 256

/* The ids of a delivery's audit detail, each as jsonb prints a string
 * (jcanon_quote), one after another in buf: lengths ev, rc, sb; all 0 when
 * they are not known here (the flush then writes that detail itself). */
struct detail_ids {
    char buf[DISPATCH_DIDS_MAX];
    uint16_t ev, rc, sb;
};

#define DISPATCH_SIGNER_BUCKETS 256     /* live signers, by secrets text */

/* A subscription's secrets ready to sign (webhook_signer: decoded, the
 * HMAC pad blocks hashed), shared by its jobs while any is queued or
 * sending, and found again by the secrets text the claim returns: decoded
 * and hashed once per drain instead of once per delivery. */
struct signer {
    struct signer *next;                /* hash chain */
    char *text;                         /* the claimed secrets column */
    struct webhook_signer *ws;
    int jobs;                           /* jobs holding it */
};

struct endpoint {
    char key[DISPATCH_ENDPOINT_MAX];    /* scheme://host:port */
    int inflight;
    int failures;                       /* consecutive */
    int64_t open_until_ms;              /* breaker open until (monotonic) */
    bool half_open;                     /* one probe at a time */
    bool counted_open;                  /* in hub_webhook_breakers_open */
    struct job *queue, *queue_tail;     /* claimed, waiting for a slot */
    int queued;
};

/* A claim's rows, held while any of its jobs is queued or sending: a
 * job's body points into them (it was copied per delivery). */
struct claim_rows {
    struct store_rows *rows;
    int holders;                        /* its jobs, and take_claimed */
};

struct job {
    struct dispatch *d;
    struct endpoint *ep;
    struct job *next;               /* endpoint queue */
    struct job *rprev, *rnext;      /* transfers running */
    CURL *easy;
    bool easy_tls;                  /* easy has TLS options of this job */
    const char *body;               /* in rows, or a literal */
    size_t body_len;
    struct claim_rows *rows;        /* held: rows_put when done */
    int64_t id, token;
    int attempt;
    struct detail_ids ids;          /* for its audit detail */
    int64_t claimed_ms, started_ms;
    size_t resp_bytes;
    bool ssrf_refused;
    bool cleartext;                 /* an http:// URL */
    bool cleartext_refused;         /* production: http:// to the Internet */
    char retry_after[64];
    /* the request headers: list nodes and text live here (curl only reads
     * them, until the transfer is done), no allocation per header */
    struct curl_slist hdr[DISPATCH_HEADERS];
    char h_id[48], h_ts[48], h_sig[WEBHOOK_SIG_HEADER_MAX + 24];
    char h_type[40], h_expect[8];
    /* heap strings, NULL when the subscription has none */
    char *url, *client_cert, *client_key, *ca_bundle;
    struct signer *signer;          /* held: signer_put when done */
    /* through the proxy: the endpoint's name resolved and checked here
     * (RESOLVING: lookup set, easy not yet in the multi), then the
     * address the proxy is told to CONNECT to, as CURLOPT_CONNECT_TO's
     * one entry "::ADDRESS:PORT" (any host and port of the URL) */
    struct lookup *lookup;
    struct event *dns_timer;
    struct curl_slist connect_to;
    char connect_to_text[INET6_ADDRSTRLEN + 16];
};

/* A lookup of an endpoint's name for the proxy path, on a thread of its
 * own (getaddrinfo blocks, and is what curl's own resolver calls without
 * a proxy, so the names resolve alike). The thread hands it back on the
 * resolver's done list and wakes the loop by its pipe; `j` is the loop's
 * alone: NULL once the job gave up waiting (its deadline, or the stop),
 * and the lookup is freed when it comes back. Only the loop frees a
 * lookup it may still point to (j->lookup): a lookup is never lost on the
 * way back, whatever the pipe holds. */
struct lookup {
    struct resolver *r;
    struct job *j;
    struct lookup *next;            /* on r->done */
    char host[256], port[8];
    struct addrinfo *res;
    int gai;
};

/* The lookups' way back, shared with their threads: freed by the last of
 * the dispatcher and the lookups still running (refs, under mu). `done`:
 * the lookups back and not yet taken by the loop (under mu); the pipe only
 * wakes the loop (a byte, or none when it is full: a wake-up is then
 * pending already). Once closed, a lookup that ends frees itself. */
struct resolver {
    pthread_mutex_t mu;
    int refs;
    bool closed;
    struct lookup *done;
    int pipe[2];
};

/* An attempt's outcome, until a flush records it (hub_deliveries_done). */
struct outcome {
    int64_t id, token;
    int attempt;
    long code;                      /* HTTP status, 0: none */
    const char *error;              /* static token or NULL */
    int64_t latency_ms;
    const char *outcome;            /* static token */
    int64_t delay_ms;
    struct detail_ids ids;          /* its job's */
};

/* A socket libevent watches for curl. A connection's socket (made by
 * on_open, closed by on_close) keeps its event from one transfer to the
 * next: curl drops a socket when a transfer ends (CURL_POLL_REMOVE) and
 * asks for it again when the next transfer reuses the connection, which
 * was an epoll_ctl DEL and ADD and an event freed and made per delivery.
 * While no transfer uses it (idle), a wake-up (the peer closed it or sent
 * something) only takes it off the watch: curl checks a connection before
 * it reuses one. Other sockets curl watches (a resolver's, closed without
 * on_close) are freed at CURL_POLL_REMOVE. */
struct sock_ev {
    struct dispatch *d;
    struct event *ev;                   /* NULL until first watched */
    curl_socket_t fd;
    short kind;                         /* flags watched, 0: none */
    bool conn;                          /* on_open's: lives until on_close */
    bool idle;                          /* curl does not want it now */
};

/* A database worker: a thread with a connection of its own that runs one
 * request at a time for the loop. Two of them, so that a claim (new work:
 * the latency of every delivery) never waits behind the recording of
 * outcomes (which waits for the audit-chain lock and a WAL flush). */
struct dbw {
    struct dispatch *d;
    bool is_claim;
    struct store *db;                   /* the worker's; the loop's after join */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool started, ready, done, quit;    /* under mu */
    bool busy, wanted;                  /* loop thread: out, and again after */
    int pipe[2];                        /* worker -> loop: a reply is in */
    struct event *ev;
    int rc;                             /* the request's outcome */
    int link_rc;                        /* the last statement's outcome:
                                           what note_db judges the link by
                                           (a digest or sweep alone leaves
                                           rc OK when it fails) */
    int64_t went_us, busy_us;           /* loop thread: request out, total */
};

struct dispatch {
    struct dispatch_config cfg;
    char node[64];
    char node_q[6 * 64 + 3];            /* node as jsonb prints it, or "" */
    char h_ua[DISPATCH_UA_MAX];         /* "User-Agent: ...", every job's */
    struct event_base *base;
    struct event *tick, *curl_timer, *wake_ev, *listen_ev;
    struct event *turn;                 /* a database turn, lingering */
    int listen_fd;                      /* -1: not listening */
    CURLM *multi;
    pthread_t thread;
    int wake_pipe[2];
    atomic_bool stopping;
    /* the database workers: req_* written by the loop before it signals
     * one, rep_rows by the claim worker before it writes its pipe */
    struct store *listen_db;            /* LISTEN only, loop thread */
    struct dbw flushw, claimw;
    bool db_ok;                         /* the last request reached the database */
    bool db_seen;                       /* ... and some request ever did */
    bool more_due;                      /* the last claim may have left some */
    /* the deliveries of ours that due rows wait behind (same subscription
     * and patient), as the last claim that looked named them: the outcome
     * of one is recorded at once, without the linger, as its commit lets
     * those rows go (flush_now); other outcomes keep the linger */
    int64_t waits_on[DISPATCH_WAITS_MAX];
    int n_waits_on;
    bool flush_now;
    struct outcome *req_results;        /* or NULL (flush worker) */
    int req_n_results;
    bool req_digest;                    /* flush worker: digests too */
    int64_t digest_next_ms;             /* loop: next look for a digest */
    bool req_sweep;                     /* flush worker: sweep after */
    long long rep_swept;                /* ... rows it changed */
    int64_t sweep_at_ms;                /* loop: the next sweep from */
    int req_room;                       /* claim worker */
    char req_lease[16], req_max[16], req_per[16];
    char *req_skip;
    struct store_rows *rep_rows;
    bool stop_seen;
    int64_t stop_deadline_ms;
    int inflight;
    atomic_int inflight_pub;            /* inflight, for dispatch_stats() */
    int64_t inflight_at_us;             /* last change of inflight */
    int64_t sending_us, inflight_area;  /* time with any running; x count */
    int queued;
    struct job *running;
    CURL **easy_pool;                   /* finished handles, loop thread */
    bool *easy_pool_tls;                /* ... that have TLS options set */
    int n_easy_pool, easy_pool_cap;
    struct endpoint **eps;
    size_t n_eps;
    struct signer *signers[DISPATCH_SIGNER_BUCKETS];   /* loop thread */
    bool proxied;                       /* cfg.proxy: every delivery by it */
    bool proxy_tls;                     /* ... an https:// one */
    char proxy_log[WEBHOOK_PROXY_MAX + 1];  /* no credentials */
    struct resolver *resolver;          /* proxied: the lookups' pipe */
    struct event *resolve_ev;
    struct sock_ev **conns;             /* connection sockets, by fd */
    int n_conns;
    struct outcome *results;            /* buffered, in order of completion */
    int n_results, results_cap;
    pthread_mutex_t stats_mu;
    struct dispatch_stats stats;
    unsigned rand_state;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Before inflight changes: the time since the last change, counted. */
static void inflight_note(struct dispatch *d)
{
    int64_t now = mono_us();
    if (d->inflight > 0) {
        d->sending_us += now - d->inflight_at_us;
        d->inflight_area += (now - d->inflight_at_us) * d->inflight;
    }
    d->inflight_at_us = now;
}

/* The loop's time accounts, into the stats dispatch_stats() copies. */
static void stats_publish(struct dispatch *d)
{
    pthread_mutex_lock(&d->stats_mu);
    d->stats.claim_busy_ms = (uint64_t)(d->claimw.busy_us / 1000);
    d->stats.flush_busy_ms = (uint64_t)(d->flushw.busy_us / 1000);
    d->stats.sending_ms = (uint64_t)(d->sending_us / 1000);
    d->stats.inflight_ms = (uint64_t)(d->inflight_area / 1000);
    pthread_mutex_unlock(&d->stats_mu);
}

static int64_t scaled(const struct dispatch *d, int64_t ms)
{
    return webhook_scale_ms(ms, d->cfg.time_scale);
}

static void stat_add(struct dispatch *d, uint64_t *field, uint64_t n)
{
    pthread_mutex_lock(&d->stats_mu);
    *field += n;
    pthread_mutex_unlock(&d->stats_mu);
}

void dispatch_config_defaults(struct dispatch_config *c)
{
    memset(c, 0, sizeof(*c));
    c->max_inflight = 64;
    c->per_endpoint = 8;
    c->timeout_ms = 15000;
    c->connect_timeout_ms = 5000;
    c->lease_ms = 0;                    /* 0: timeout + 30 s */
    c->poll_ms = 1000;
    c->linger_ms = DISPATCH_LINGER_MS;
    c->time_scale = 1.0;
    c->breaker_failures = 5;
    c->breaker_open_ms = 30000;
    c->failing_after = 3;
    c->digest_ms = 0;                   /* hubd: alert_digest_s */
    c->user_agent = "care-hub-webhooks/1";
    c->enabled = true;
}

void dispatch_config_from(struct dispatch_config *c,
                          const struct hub_config *h)
{
    dispatch_config_defaults(c);
    c->enabled = h->dispatch;
    c->database_url = h->database_url;
    c->production = h->profile == PROFILE_PRODUCTION;
    c->max_inflight = h->dispatch_max_inflight;
    c->per_endpoint = h->dispatch_per_endpoint;
    c->timeout_ms = h->dispatch_timeout_ms;
    c->lease_ms = h->dispatch_lease_ms;
    c->poll_ms = h->dispatch_poll_ms;
    c->breaker_failures = h->dispatch_breaker_failures;
    c->breaker_open_ms = h->dispatch_breaker_open_ms;
    c->failing_after = h->alert_failing_after;
    c->digest_ms = h->alert_digest_s * 1000;
    c->digest_all = h->alert_digest_all;
    c->allow_private = h->webhook_allow_private;
    c->proxy = h->webhook_proxy;
    c->proxy_ca = h->webhook_proxy_ca;
    c->time_scale = h->time_scale;
    snprintf(c->node, sizeof(c->node), "%s", h->dispatch_node);
}

/* --- results: buffered, written in one transaction ---------------------- */

/* Decimal digits of v at p; returns the end (not terminated). */
static char *put_i64(char *p, int64_t v)
{
    char tmp[24];
    int n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *p++ = '-';
    while (n)
        *p++ = tmp[--n];
    return p;
}

static char *put_str(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

static void outcomes_room(struct outcome **v, int *cap, int need)
{
    if (need <= *cap)
        return;
    int c = *cap ? *cap * 2 : 256;
    while (c < need)
        c *= 2;
    *v = realloc(*v, (size_t)c * sizeof(**v));
    if (!*v)
        abort();
    *cap = c;
}

/* Delivery `id` off d->waits_on, if there: rows wait for its outcome's
 * commit, so the next flush goes at once (flush_now). */
static void waits_on_take(struct dispatch *d, int64_t id)
{
    for (int k = 0; k < d->n_waits_on; k++)
        if (d->waits_on[k] == id) {
            d->flush_now = true;
            d->waits_on[k] = d->waits_on[--d->n_waits_on];
            return;
        }
}

/* error is a static token ("timeout", "connect", ...) or NULL; so is
 * outcome: neither needs escaping. */
static void result_add(struct dispatch *d, const struct job *j, long code,
                       const char *error, int64_t latency_ms,
                       const char *outcome, int64_t delay_ms)
{
    assert(strlen(outcome) < 32 && (!error || strlen(error) < 32));
    waits_on_take(d, j->id);
    outcomes_room(&d->results, &d->results_cap, d->n_results + 1);
    d->results[d->n_results++] = (struct outcome){
        .id = j->id, .token = j->token, .attempt = j->attempt,
        .code = code, .error = error, .latency_ms = latency_ms,
        .outcome = outcome, .delay_ms = delay_ms, .ids = j->ids };
}

/* Outcomes the database did not take: back in front of the buffer, for
 * the next turn (if our leases expire first, another node re-sends:
 * at-least-once, same webhook-id). */
static void results_readd(struct dispatch *d, const struct outcome *failed,
                          int n)
{
    if (n <= 0)
        return;
    outcomes_room(&d->results, &d->results_cap, d->n_results + n);
    memmove(d->results + n, d->results,
            (size_t)d->n_results * sizeof(*d->results));
    memcpy(d->results, failed, (size_t)n * sizeof(*failed));
    d->n_results += n;
}

/* Hand the first `max` outcomes to the flush worker (req_results), keep
 * the rest. */
static void results_take(struct dispatch *d, int max)
{
    int n = d->n_results < max ? d->n_results : max;
    struct outcome *take = malloc((size_t)n * sizeof(*take));
    if (!take)
        abort();
    memcpy(take, d->results, (size_t)n * sizeof(*take));
    d->req_results = take;              /* handed over until the reply */
    d->req_n_results = n;
    d->n_results -= n;
    memmove(d->results, d->results + n,
            (size_t)d->n_results * sizeof(*d->results));
}

static char *put_mem(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

/* The attempt row's detail of o, as jsonb prints it (keys by length, then
 * bytes; ", " and ": "), into p (room for DETAIL_MAX(node_q)); what
 * hub_deliveries_done writes when given none, and hub_audit_verify chains
 * byte for byte. Returns the end. */
#define DETAIL_MAX(node_q_len) (200 + 2 * 32 + 2 * 20 + (node_q_len) + \
                                DISPATCH_DIDS_MAX)
static char *put_detail(char *p, const struct outcome *x, const char *node_q)
{
    const char *ids = x->ids.buf;
    p = put_str(p, "{\"code\": ");
    p = x->code > 0 ? put_i64(p, x->code) : put_str(p, "null");
    p = put_str(p, ", \"node\": ");
    p = put_str(p, node_q);
    p = put_str(p, ", \"error\": ");
    if (x->error) {
        *p++ = '"';
        p = put_str(p, x->error);
        *p++ = '"';
    } else {
        p = put_str(p, "null");
    }
    p = put_str(p, ", \"event\": ");
    p = put_mem(p, ids, x->ids.ev);
    p = put_str(p, ", \"attempt\": ");
    p = put_i64(p, x->attempt);
    p = put_str(p, ", \"outcome\": \"");
    p = put_str(p, x->outcome);
    p = put_str(p, "\", \"recipient\": ");
    p = put_mem(p, ids + x->ids.ev, x->ids.rc);
    p = put_str(p, ", \"latency_ms\": ");
    p = put_i64(p, x->latency_ms);
    p = put_str(p, ", \"subscription\": ");
    p = put_mem(p, ids + x->ids.ev + x->ids.rc, x->ids.sb);
    *p++ = '}';
    return p;
}

/* Whether o[i] names a subscription that no outcome before it named (a
 * batch holds few: the compare of each with the ones before mostly ends at
 * the first outcome). */
static bool sub_first(const struct outcome *o, int i)
{
    const struct outcome *x = &o[i];
    const char *id = x->ids.buf + x->ids.ev + x->ids.rc;
    if (x->ids.sb == 0)
        return false;
    for (int k = 0; k < i; k++) {
        const struct outcome *y = &o[k];
        if (y->ids.sb == x->ids.sb &&
            memcmp(y->ids.buf + y->ids.ev + y->ids.rc, id, x->ids.sb) == 0)
            return false;
    }
    return true;
}

/* The outcomes as the eight array literals hub_deliveries_done() takes,
 * then the details one a line ("": none; canonical JSON text holds no raw
 * line feed), then the batch's subscriptions, each once (an array
 * literal: the flush reads their health, and locks those that may change,
 * before anything else), one after another in buf (each NUL-terminated), their starts
 * in arg. Written by hand: snprintf was a fifth of what the loop spent per
 * delivery outside curl and signing. The details are not an array
 * literal: array_in() reads every byte twice through its state machine
 * (about 30 instructions a byte, 10k a delivery); string_to_array() on a
 * line feed finds each with memchr(). */
static char *outcome_arrays(const struct outcome *o, int n,
                            const char *node_q, const char *arg[10])
{
    size_t node_q_len = strlen(node_q);
    /* per outcome and array at most 20 digits or a 31-byte token, quotes
     * and a separator; a detail and a line feed; a subscription id */
    char *buf = malloc((size_t)n * (8 * 36 + DETAIL_MAX(node_q_len) + 1 +
                                    DISPATCH_DIDS_MAX + 1) + 10 * 3);
    if (!buf)
        abort();
    char *p = buf;
    int n_subs = 0;
    for (int f = 0; f < 10; f++) {
        arg[f] = p;
        if (f != 8)
            *p++ = '{';
        for (int i = 0; i < n; i++) {
            const struct outcome *x = &o[i];
            const char *tok = f == 4 ? x->error : x->outcome;
            if (f == 9 && !sub_first(o, i))
                continue;
            if (f == 9 ? n_subs++ > 0 : i > 0)
                *p++ = f != 8 ? ',' : '\n';
            switch (f) {
            case 0: p = put_i64(p, x->id); break;
            case 1: p = put_i64(p, x->token); break;
            case 2: p = put_i64(p, x->attempt); break;
            case 3: p = x->code > 0 ? put_i64(p, x->code) : put_str(p, "NULL");
                    break;
            case 5: p = put_i64(p, x->latency_ms); break;
            case 7: p = put_i64(p, x->delay_ms); break;
            case 8:                     /* "": the flush writes it */
                if (x->ids.ev != 0 && node_q_len != 0)
                    p = put_detail(p, x, node_q);
                break;
            case 9:                     /* its subscription, if new */
                /* as jsonb quotes it: the hub's ids need no escape, in
                 * JSON or in an array literal */
                p = put_mem(p, x->ids.buf + x->ids.ev + x->ids.rc,
                            x->ids.sb);
                break;
            default:                    /* 4: error, 6: outcome */
                if (!tok) {
                    p = put_str(p, "NULL");
                } else {
                    *p++ = '"';
                    p = put_str(p, tok);
                    *p++ = '"';
                }
            }
        }
        if (f != 8)
            *p++ = '}';
        *p++ = '\0';
    }
    return buf;
}

/* Worker side: the outcomes, one transaction. */
static int db_flush(struct dispatch *d, struct store *db,
                    const struct outcome *o, int n)
{
    char failing_after[16];
    const char *params[12] = { d->node };
    char *buf = outcome_arrays(o, n, d->node_q, &params[1]);
    struct store_rows *rows = NULL;
    snprintf(failing_after, sizeof(failing_after), "%d",
             d->cfg.failing_after);
    params[11] = failing_after;
    for (int i = 0; i < n; i++)
        if (o[i].ids.sb == 0)
            params[10] = NULL;          /* not all known: the flush reads them */
    int rc = store_query_prepared(db, "hub_deliveries_done",
        "SELECT hub_deliveries_done($1, $2::bigint[], $3::bigint[], "
        "$4::int[], $5::int[], $6::text[], $7::int[], $8::text[], "
        "$9::bigint[], string_to_array($10, E'\\n', ''), $11::text[], "
        "$12::int)", 12, params, &rows);
    store_rows_free(rows);
    free(buf);
    return rc;
}

/* Worker side: the digests, when due (hub_digest: one node makes them per
 * interval, the others find them made). Its failure is only logged: the
 * outcomes flushed before it stand, and the next look tries again. */
static int db_digest(struct dispatch *d, struct store *db)
{
    char every[24];
    const char *params[2] = { every, d->cfg.digest_all ? "true" : "false" };
    struct store_rows *rows = NULL;
    snprintf(every, sizeof(every), "%" PRId64,
             scaled(d, d->cfg.digest_ms));
    int rc = store_query_prepared(db, "hub_digest",
        "SELECT hub_digest($1::bigint, $2::boolean)", 2, params, &rows);
    const char *n = rc == HUB_OK && store_rows_count(rows) == 1
                    ? store_rows_get(rows, 0, 0) : NULL;
    if (rc != HUB_OK)
        log_warn("dispatch.digest_failed", "code=%s", hub_strerror(rc));
    else if (n && strcmp(n, "0") != 0)
        log_info("hub.digest", "events=%s", n);
    store_rows_free(rows);
    return rc;
}

/* Worker side: the sweep (DISPATCH_SWEEP_MS). */
static int db_sweep(struct dispatch *d, struct store *db)
{
    char lim[16], walk[16];
    snprintf(lim, sizeof(lim), "%d", DISPATCH_SWEEP_LIMIT);
    snprintf(walk, sizeof(walk), "%d", DISPATCH_SWEEP_WALK);
    const char *params[2] = { lim, walk };
    struct store_rows *rows = NULL;
    int rc = store_query_prepared(db, "hub_queue_sweep",
        "SELECT hub_queue_sweep($1::int, $2::int)", 2, params, &rows);
    d->rep_swept = rc == HUB_OK && store_rows_count(rows) == 1
                   ? strtoll(store_rows_get(rows, 0, 0), NULL, 10) : 0;
    store_rows_free(rows);
    return rc;
}

/* --- endpoints ------------------------------------------------------------ */

static struct endpoint *endpoint_get(struct dispatch *d, const char *key)
{
    for (size_t i = 0; i < d->n_eps; i++)
        if (strcmp(d->eps[i]->key, key) == 0)
            return d->eps[i];
    if (d->n_eps == DISPATCH_MAX_ENDPOINTS) {
        /* forget an idle endpoint to stay bounded */
        for (size_t i = 0; i < d->n_eps; i++) {
            struct endpoint *e = d->eps[i];
            if (e->inflight == 0 && e->queued == 0) {
                if (e->counted_open)
                    metrics_breakers_open(-1);
                free(e);
                d->eps[i] = d->eps[--d->n_eps];
                break;
            }
        }
        if (d->n_eps == DISPATCH_MAX_ENDPOINTS)
            return NULL;
    }
    struct endpoint *e = calloc(1, sizeof(*e));
    if (!e)
        abort();
    snprintf(e->key, sizeof(e->key), "%s", key);
    if (!d->eps) {
        d->eps = calloc(DISPATCH_MAX_ENDPOINTS, sizeof(*d->eps));
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
 * subscription, so that on-call knows whose endpoint it is. */
static void endpoint_outcome(struct dispatch *d, struct endpoint *e, bool ok,
                             const struct job *j)
{
    int sbl = (int)j->ids.sb;
    const char *sb = j->ids.buf + j->ids.ev + j->ids.rc;

    if (sbl >= 2 && sb[0] == '"') {     /* held as a JSON string */
        sb++;
        sbl -= 2;
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
    if (e->half_open || e->failures >= d->cfg.breaker_failures) {
        e->open_until_ms = mono_ms() + scaled(d, d->cfg.breaker_open_ms);
        e->half_open = true;        /* after the pause: one probe */
        if (!e->counted_open) {
            e->counted_open = true;
            metrics_breakers_open(1);
        }
        if (e->failures == d->cfg.breaker_failures)
            log_warn("dispatch.breaker_open", "endpoint=%s "
                     "subscription=%.*s delivery=dlv_%" PRId64 " failures=%d "
                     "open_ms=%" PRId64, e->key, sbl, sb, j->id, e->failures,
                     scaled(d, d->cfg.breaker_open_ms));
    }
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
    if (len > sizeof(name) && strncasecmp(p, name, sizeof(name) - 1) == 0) {
        size_t v = sizeof(name) - 1;
        while (v < len && p[v] == ' ')
            v++;
        size_t e = len;
        while (e > v && (p[e - 1] == '\r' || p[e - 1] == '\n' ||
                         p[e - 1] == ' '))
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
static bool ssrf_refuse(struct job *j, const char *ip)
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

static void running_unlink(struct dispatch *d, struct job *j)
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
static struct signer *signer_get(struct dispatch *d, const char *text)
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

static void rows_put(struct claim_rows *c)
{
    if (!c || --c->holders > 0)
        return;
    store_rows_free(c->rows);
    free(c);
}

static void job_free(struct job *j)
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
static void job_finish(struct dispatch *d, struct job *j, long code,
                       const char *err)
{
    int64_t latency = mono_ms() - j->started_ms;
    const char *outcome;
    enum metrics_webhook m;
    int64_t delay = 0;

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
        int64_t b = webhook_backoff_ms(j->attempt,
                                       (double)rand_r(&d->rand_state) /
                                           ((double)RAND_MAX + 1.0));
        if (b < 0) {
            outcome = "dead";
            m = METRIC_WH_DEAD;
            stat_add(d, &d->stats.dead, 1);
        } else {
            if (!err && (code == 429 || code == 503)) {
                int64_t ra = webhook_retry_after_ms(
                    j->retry_after[0] ? j->retry_after : NULL,
                    (int64_t)time(NULL));
                if (ra > b)
                    b = ra;
            }
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
    if (!is_proxy_error(err))
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
        if (rc == CURLE_WRITE_ERROR && code >= 200 && code < 300)
            err = NULL;             /* 2xx with a huge body is still 2xx */
        else if (is_proxy_error(err))
            code = 0;               /* no answer of the receiver's */
    }
    job_finish(d, j, code, err);
}

static void pump(struct dispatch *d);
static void claim_turn(struct dispatch *d);
static void flush_turn(struct dispatch *d);

static void jobs_finished(struct dispatch *d);

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
static void jobs_finished(struct dispatch *d)
{
    pump(d);            /* the next claimed sends at once, no database */
    /* refill while the queue runs low, if the last claim left work behind
     * (new work wakes us by NOTIFY, the rest by the poll) */
    if (d->more_due && d->queued < d->cfg.max_inflight *
                                       DISPATCH_CLAIMED_FACTOR /
                                       DISPATCH_REFILL_DIV)
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

static void sock_free(struct sock_ev *se)
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

static int on_socket(CURL *e, curl_socket_t s, int what, void *arg,
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

static void on_curl_timer(evutil_socket_t fd, short what, void *arg)
{
    struct dispatch *d = arg;
    int running;
    (void)fd;
    (void)what;
    curl_multi_socket_action(d->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_multi(d);
}

static int on_timer(CURLM *multi, long timeout_ms, void *arg)
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

/* --- through the proxy: the endpoint's name resolved and checked here --------
 * A job RESOLVING has its easy handle set up but not in the multi. Its
 * lookup runs on a thread; the loop takes it back from the resolver's done
 * list when its pipe wakes it (on_resolved), refuses the addresses the SSRF policy refuses, as on_open
 * does without a proxy, and has the proxy CONNECT to the first address
 * allowed (CURLOPT_CONNECT_TO "::ADDRESS:PORT"): the proxy never resolves
 * the name itself, so a name that answers another address to it (DNS
 * rebinding) changes nothing. The attempt's whole time, the lookup
 * included, stays within timeout_ms (the lease is sized for it): the
 * lookup waits at most connect_timeout_ms, and the transfer gets what is
 * left. */

static void lookup_free(struct lookup *l)
{
    if (l->res)
        freeaddrinfo(l->res);
    free(l);
}

/* Drop one reference; the last frees the resolver. */
static void resolver_put(struct resolver *r)
{
    pthread_mutex_lock(&r->mu);
    bool last = --r->refs == 0;
    pthread_mutex_unlock(&r->mu);
    if (!last)
        return;
    close(r->pipe[0]);
    close(r->pipe[1]);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static void *lookup_main(void *arg)
{
    struct lookup *l = arg;
    struct resolver *r = l->r;
    struct addrinfo hints;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    l->gai = getaddrinfo(l->host, l->port, &hints, &l->res);
    pthread_mutex_lock(&r->mu);
    if (r->closed) {
        lookup_free(l);
    } else {
        l->next = r->done;
        r->done = l;
        /* full (EAGAIN): the loop has a wake-up to read already */
        (void)!write(r->pipe[1], "", 1);
    }
    pthread_mutex_unlock(&r->mu);
    resolver_put(r);
    return NULL;
}

static void on_lookup_late(evutil_socket_t fd, short what, void *arg)
{
    struct job *j = arg;
    struct dispatch *d = j->d;
    (void)fd;
    (void)what;
    if (j->lookup) {
        j->lookup->j = NULL;            /* freed when it comes back */
        j->lookup = NULL;
    }
    job_finish(d, j, 0, "dns");
    jobs_finished(d);
}

/* Start resolving the job's endpoint; on a failure to, the job is
 * finished (its outcome recorded) here. */
static void lookup_start(struct dispatch *d, struct job *j)
{
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL;
    const char *err = "protocol";
    struct lookup *l = NULL;

    if (!u)
        abort();
    /* the host as curl sends it (IDN as punycode); the port the URL's or
     * its scheme's */
    if (curl_url_set(u, CURLUPART_URL, j->url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, CURLU_PUNYCODE) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
            CURLUE_OK)
        goto fail;
    const char *h = host;
    size_t hl = strlen(host);
    if (hl >= 2 && host[0] == '[') {    /* an IPv6 literal, bracketed */
        h++;
        hl -= 2;
    }
    l = calloc(1, sizeof(*l));
    if (!l)
        abort();
    err = "dns";
    if (hl == 0 || hl >= sizeof(l->host) || strlen(port) >= sizeof(l->port))
        goto fail;
    memcpy(l->host, h, hl);
    memcpy(l->port, port, strlen(port) + 1);
    l->r = d->resolver;
    l->j = j;
    j->dns_timer = evtimer_new(d->base, on_lookup_late, j);
    if (!j->dns_timer)
        abort();
    pthread_attr_t at;
    pthread_t th;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_mutex_lock(&d->resolver->mu);
    d->resolver->refs++;
    pthread_mutex_unlock(&d->resolver->mu);
    if (pthread_create(&th, &at, lookup_main, l) != 0) {
        pthread_attr_destroy(&at);
        resolver_put(d->resolver);
        log_warn("dispatch.lookup_thread_failed", "delivery=dlv_%" PRId64,
                 j->id);
        goto fail;
    }
    pthread_attr_destroy(&at);
    j->lookup = l;
    int64_t wait = d->cfg.connect_timeout_ms < d->cfg.timeout_ms
                       ? d->cfg.connect_timeout_ms : d->cfg.timeout_ms;
    struct timeval tv = { wait / 1000, (wait % 1000) * 1000 };
    evtimer_add(j->dns_timer, &tv);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return;
fail:
    free(l);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    job_finish(d, j, 0, err);
}

/* A lookup is back for job j: the first address the SSRF policy allows
 * goes to the proxy, an IPv4 one before any IPv6 one (one address only
 * can be given to the proxy, which has no second try as curl's happy
 * eyeballs have; IPv4 is what a proxy reaches wherever it reaches the
 * Internet, and the hub's own routes, which order getaddrinfo's answer,
 * say nothing of the proxy's); or the job fails ("ssrf": every address
 * refused, each logged by its class; "dns": none). */
static void lookup_done(struct dispatch *d, struct job *j, struct lookup *l)
{
    char ip[INET6_ADDRSTRLEN] = "";
    const struct addrinfo *ai = NULL;
    static const int families[2] = { AF_INET, AF_INET6 };

    event_free(j->dns_timer);
    j->dns_timer = NULL;
    for (int f = 0; f < 2 && !ai; f++) {
        for (ai = l->gai == 0 ? l->res : NULL; ai; ai = ai->ai_next) {
            if (ai->ai_family != families[f])
                continue;
            if (ai->ai_family == AF_INET)
                inet_ntop(AF_INET,
                          &((const struct sockaddr_in *)ai->ai_addr)->sin_addr,
                          ip, sizeof(ip));
            else
                inet_ntop(AF_INET6,
                          &((const struct sockaddr_in6 *)ai->ai_addr)
                               ->sin6_addr,
                          ip, sizeof(ip));
            if (!ssrf_refuse(j, ip))
                break;
        }
    }
    if (!ai) {
        job_finish(d, j, 0, j->ssrf_refused        ? "ssrf"
                            : j->cleartext_refused ? "cleartext"
                                                   : "dns");
        return;
    }
    snprintf(j->connect_to_text, sizeof(j->connect_to_text),
             ai->ai_family == AF_INET6 ? "::[%s]:%s" : "::%s:%s", ip,
             l->port);
    j->connect_to.data = j->connect_to_text;
    j->connect_to.next = NULL;
    curl_easy_setopt(j->easy, CURLOPT_CONNECT_TO, &j->connect_to);
    int64_t left = d->cfg.timeout_ms - (mono_ms() - j->started_ms);
    curl_easy_setopt(j->easy, CURLOPT_TIMEOUT_MS, (long)(left > 1 ? left : 1));
    if (curl_multi_add_handle(d->multi, j->easy) != CURLM_OK)
        abort();
}

static void on_resolved(evutil_socket_t fd, short what, void *arg)
{
    struct dispatch *d = arg;
    struct lookup *l, *next;
    char wake[256];
    bool any = false;
    (void)what;

    if (!d->resolver)
        return;                         /* closed: the stop */
    /* the wake-ups first: one written after this read comes with a
     * lookup that the next call takes, if this one does not */
    while (read(fd, wake, sizeof(wake)) > 0)
        ;
    pthread_mutex_lock(&d->resolver->mu);
    l = d->resolver->done;
    d->resolver->done = NULL;
    pthread_mutex_unlock(&d->resolver->mu);
    for (; l; l = next) {
        next = l->next;
        struct job *j = l->j;
        if (j) {
            j->lookup = NULL;
            lookup_done(d, j, l);
            any = true;
        }
        lookup_free(l);
    }
    if (any)
        jobs_finished(d);
}

/* The stop: no lookup comes back to the loop any more (those on the way
 * are freed here, those still running free themselves); the jobs that
 * waited for one are the caller's. */
static void resolver_close(struct dispatch *d)
{
    struct resolver *r = d->resolver;
    struct lookup *l, *next;

    if (!r)
        return;
    for (struct job *j = d->running; j; j = j->rnext) {
        if (j->lookup) {
            j->lookup->j = NULL;
            j->lookup = NULL;
        }
    }
    pthread_mutex_lock(&r->mu);
    r->closed = true;
    l = r->done;
    r->done = NULL;
    pthread_mutex_unlock(&r->mu);
    for (; l; l = next) {
        next = l->next;
        lookup_free(l);
    }
    d->resolver = NULL;
    resolver_put(r);
}

int dispatch_proxy_usable(const char *proxy, const char **why)
{
    *why = NULL;
    if (!proxy || !*proxy)
        return HUB_OK;
    if (webhook_proxy_check(proxy, NULL) != HUB_OK) {
        *why = "not http[s]://[user:password@]host:port";
        return HUB_EINVALID;
    }
    if (strncasecmp(proxy, "https://", 8) == 0) {
        const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
        if (!(v->features & CURL_VERSION_HTTPS_PROXY)) {
            *why = "this libcurl has no TLS to a proxy (https://)";
            return HUB_EUNSUPPORTED;
        }
    }
    return HUB_OK;
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
static void pump(struct dispatch *d)
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
            if (!stopping && now - j->claimed_ms < stale &&
                !endpoint_can_send(d, e, now))
                break;
            e->queue = j->next;
            if (!e->queue)
                e->queue_tail = NULL;
            e->queued--;
            d->queued--;
            if (stopping || now - j->claimed_ms >= stale) {
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

/* A copy of a claimed text of at most max bytes (the limit its
 * validation set), NULL for NULL or "" when empty_is_null. */
static char *copy_field(const char *src, size_t max, bool empty_is_null)
{
    if (!src || (empty_is_null && !*src))
        return NULL;
    size_t n = strnlen(src, max);
    char *c = malloc(n + 1);
    if (!c)
        abort();
    memcpy(c, src, n);
    c[n] = '\0';
    return c;
}

/* The skip list of a claim: endpoints that cannot take more now (breaker
 * open, or enough work claimed already), as a PostgreSQL array literal.
 * *capped: some endpoint was left out for the work it already has. */
static char *skip_list(struct dispatch *d, int64_t now, int ep_cap,
                       bool *capped)
{
    size_t skip_len = 2;
    char *skip = malloc(2);
    if (!skip)
        abort();
    memcpy(skip, "{", 2);
    bool first = true;
    for (size_t i = 0; i < d->n_eps; i++) {
        struct endpoint *e = d->eps[i];
        if (e->open_until_ms <= now && e->inflight + e->queued < ep_cap)
            continue;
        if (e->inflight + e->queued >= ep_cap)
            *capped = true;
        /* each element quoted and escaped */
        size_t need = strlen(e->key) * 2 + 4;
        skip = realloc(skip, skip_len + need);
        if (!skip)
            abort();
        char *p = skip + skip_len - 1;
        if (!first)
            *p++ = ',';
        *p++ = '"';
        for (const char *k = e->key; *k; k++) {
            if (*k == '"' || *k == '\\')
                *p++ = '\\';
            *p++ = *k;
        }
        *p++ = '"';
        *p = '\0';
        skip_len = (size_t)(p - skip) + 1;
        first = false;
    }
    skip = realloc(skip, skip_len + 1);
    if (!skip)
        abort();
    skip[skip_len - 1] = '}';
    skip[skip_len] = '\0';
    return skip;
}

/* The ids of an attempt's detail, quoted (all 0: left to the flush). */
static void detail_ids_set(struct detail_ids *ids, struct arena *a,
                           const char *ev, const char *rc, const char *sb)
{
    struct slice q[3];
    const char *v[3] = { ev, rc, sb };

    ids->ev = ids->rc = ids->sb = 0;
    size_t len = 0;
    for (int i = 0; i < 3; i++) {
        if (!v[i] || !jcanon_quote(a, v[i], strlen(v[i]), &q[i]))
            return;
        len += q[i].len;
    }
    if (len > sizeof(ids->buf))
        return;
    char *p = ids->buf;
    for (int i = 0; i < 3; i++)
        p = put_mem(p, q[i].p, q[i].len);
    ids->ev = (uint16_t)q[0].len;
    ids->rc = (uint16_t)q[1].len;
    ids->sb = (uint16_t)q[2].len;
}

/* Worker side: claim due work (the request's room and skip list). */
static int db_claim(struct dispatch *d, struct store *db,
                    struct store_rows **rows)
{
    const char *params[5] = { d->node, d->req_lease, d->req_max, d->req_per,
                              d->req_skip };
    return store_query_prepared(db, "hub_claim_deliveries",
        "SELECT id, token, attempt, url, endpoint, secrets, client_cert, "
        "client_key, ca_bundle, body, event, subscription, recipient, "
        "order_waits FROM hub_claim_deliveries($1, $2::int, $3::int, "
        "$4::int, $5::text[], true)",
        5, params, rows);
}

/* A claim's order_waits ("{12,15}": the deliveries of ours that rows
 * wait behind) as d->waits_on; an outcome of one already buffered is
 * recorded at once (flush_now). */
static void waits_on_set(struct dispatch *d, const char *text)
{
    const char *p = text + (*text == '{');
    d->n_waits_on = 0;
    while (*p && *p != '}' && d->n_waits_on < DISPATCH_WAITS_MAX) {
        char *end;
        long long id = strtoll(p, &end, 10);
        if (end == p)
            break;
        d->waits_on[d->n_waits_on++] = id;
        p = end + (*end == ',');
    }
    for (int r = 0; r < d->n_results; r++)
        waits_on_take(d, d->results[r].id);
}

/* The rows a claim leased: its reply's, less the one row with no id that
 * says only that rows wait (order_waits, nothing leased). */
static int claimed_count(const struct store_rows *rows)
{
    int n = store_rows_count(rows);
    return n == 1 && store_rows_get(rows, 0, 0) == NULL ? 0 : n;
}

/* Loop side: claimed rows become queued jobs (which hold the rows: taken,
 * freed with the last of them). */
static void take_claimed(struct dispatch *d, struct store_rows *rows)
{
    int64_t now = mono_ms();
    int n = claimed_count(rows);
    struct claim_rows *held = calloc(1, sizeof(*held));
    if (!held)
        abort();
    held->rows = rows;
    held->holders = 1;                  /* ours, until the loop is done */
    /* order_waits: the same in every row; NULL when not looked for */
    const char *waits = store_rows_get(rows, 0, 13);
    if (waits)
        waits_on_set(d, waits);
    if (n > 0)
        stat_add(d, &d->stats.claims, (uint64_t)n);
    /* a NULL body: the same event as the row before (see
     * hub_claim_deliveries), whose body is converted and sent once */
    const char *last_body = NULL;
    struct signer *last_signer = NULL;
    struct arena a;
    arena_init(&a, 4096);
    for (int r = 0; r < n; r++) {
        struct job *j = calloc(1, sizeof(*j));
        if (!j)
            abort();
        j->d = d;
        j->id = strtoll(store_rows_get(rows, r, 0), NULL, 10);
        j->token = strtoll(store_rows_get(rows, r, 1), NULL, 10);
        j->attempt = (int)strtol(store_rows_get(rows, r, 2), NULL, 10);
        j->claimed_ms = now;
        arena_reset(&a);
        detail_ids_set(&j->ids, &a, store_rows_get(rows, r, 10),
                       store_rows_get(rows, r, 12),
                       store_rows_get(rows, r, 11));
        j->url = copy_field(store_rows_get(rows, r, 3), WEBHOOK_URL_MAX,
                            false);
        if (!j->url)
            j->url = copy_field("", 0, false);
        j->cleartext = strncasecmp(j->url, "http://", 7) == 0;
        const char *epk = store_rows_get(rows, r, 4);
        j->client_cert = copy_field(store_rows_get(rows, r, 6),
                                    WEBHOOK_PATH_MAX, true);
        j->client_key = copy_field(store_rows_get(rows, r, 7),
                                   WEBHOOK_PATH_MAX, true);
        j->ca_bundle = copy_field(store_rows_get(rows, r, 8),
                                  WEBHOOK_PATH_MAX, true);
        const char *body = store_rows_get(rows, r, 9);
        if (body)
            last_body = body;
        else
            body = last_body;
        j->body = body ? body : "{}";
        j->body_len = strlen(j->body);
        j->rows = held;
        held->holders++;
        /* secrets: rows of one subscription follow each other */
        const char *secrets = store_rows_get(rows, r, 5);
        if (last_signer && secrets && strcmp(secrets, last_signer->text) == 0) {
            last_signer->jobs++;
            j->signer = last_signer;
        } else if (secrets) {
            j->signer = signer_get(d, secrets);
            if (j->signer)
                last_signer = j->signer;
        }
        struct endpoint *e = endpoint_get(d, epk ? epk : "");
        if (!e || !j->signer) {
            /* no usable secret (cannot happen past the CHECK) or too many
             * endpoints: try again later rather than send unsigned */
            result_add(d, j, 0, e ? "no_secret" : "busy", 0,
                       e ? "retry" : "release",
                       scaled(d, webhook_backoff_nominal_ms(1)));
            last_signer = NULL;         /* job_free may free it */
            job_free(j);
            continue;
        }
        j->ep = e;
        if (e->queue_tail)
            e->queue_tail->next = j;
        else
            e->queue = j;
        e->queue_tail = j;
        e->queued++;
        d->queued++;
    }
    arena_release(&a);
    rows_put(held);
}

/* --- the database workers ---------------------------------------------------
 * The loop never waits on PostgreSQL: a request (the outcomes so far, or a
 * claim for the free room) goes to a worker thread, which runs it on its
 * own connection while transfers go on, and writes a byte to its pipe when
 * done. One request per worker is out at a time; the claim worker and the
 * flush worker run side by side. */

static void *db_main(void *arg)
{
    struct dbw *w = arg;
    struct dispatch *d = w->d;

    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->ready && !w->quit)
            pthread_cond_wait(&w->cv, &w->mu);
        if (!w->ready)
            break;                      /* quit, nothing asked */
        w->ready = false;
        pthread_mutex_unlock(&w->mu);

        int rc = HUB_OK, link_rc;
        if (!w->db && store_connect(d->cfg.database_url, &w->db) != HUB_OK)
            w->db = NULL;
        if (!w->db)
            rc = HUB_EDB;
        else if (w->is_claim)
            rc = db_claim(d, w->db, &d->rep_rows);
        else if (d->req_n_results > 0)
            rc = db_flush(d, w->db, d->req_results, d->req_n_results);
        link_rc = rc;
        if (w->db && rc == HUB_OK && !w->is_claim && d->req_digest)
            link_rc = db_digest(d, w->db);
        /* (its own transaction: a failed sweep leaves the outcomes
         * recorded, rc theirs) */
        if (w->db && rc == HUB_OK && !w->is_claim && d->req_sweep &&
            (link_rc = db_sweep(d, w->db)) != HUB_OK) {
            d->rep_swept = 0;
            (void)store_ping(w->db);
        }
        if (w->db && rc != HUB_OK)
            (void)store_ping(w->db);    /* reconnect for the next request */
        /* rc and rep_rows are published by the mutex, the pipe only wakes
         * the loop */
        pthread_mutex_lock(&w->mu);
        w->rc = rc;
        w->link_rc = link_rc;
        w->done = true;
        pthread_mutex_unlock(&w->mu);
        if (write(w->pipe[1], "r", 1) < 0)
            log_warn("dispatch.reply_lost", "errno=%d", errno);

        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void worker_go(struct dbw *w)
{
    w->busy = true;
    w->went_us = mono_us();
    pthread_mutex_lock(&w->mu);
    w->ready = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* Loop side: a reply is in (true once per request). */
static bool worker_reply(struct dbw *w)
{
    char buf[16];
    if (read(w->pipe[0], buf, sizeof(buf)) <= 0 || !w->busy)
        return false;
    pthread_mutex_lock(&w->mu);
    bool done = w->done;
    w->done = false;
    pthread_mutex_unlock(&w->mu);
    if (!done)
        return false;
    w->busy = false;
    w->busy_us += mono_us() - w->went_us;
    stats_publish(w->d);
    return true;
}

/* Loop side: record whether the database answered; one log line per change
 * of state, not one per request of an outage. */
static void note_db(struct dispatch *d, int rc)
{
    bool was_ok = d->db_ok;
    d->db_ok = rc == HUB_OK;
    if (!d->db_ok)
        stat_add(d, &d->stats.db_errors, 1);
    if (was_ok && !d->db_ok)
        log_warn("dispatch.db_unavailable", "code=%s pending_outcomes=%d",
                 hub_strerror(rc), d->req_n_results + d->n_results);
    else if (!was_ok && d->db_ok && d->db_seen)
        log_info("dispatch.db_available", "node=%s", d->node);
    if (d->db_ok)
        d->db_seen = true;
}

/* Loop side: hand the outcomes so far to the flush worker. */
static void flush_turn(struct dispatch *d)
{
    int64_t now = mono_ms();
    bool digest = d->cfg.digest_ms > 0 && now >= d->digest_next_ms &&
                  !atomic_load(&d->stopping);
    bool sweep = now >= d->sweep_at_ms && !atomic_load(&d->stopping);
    if (d->n_results == 0 && !digest && !sweep)
        return;
    d->flush_now = false;               /* taken now, or when this is back */
    if (d->flushw.busy) {
        d->flushw.wanted = true;        /* again when this one is back */
        return;
    }
    if (digest) {
        /* looked for ten times an interval (at most a minute apart): a
         * digest comes at most a tenth of its interval late */
        int64_t every = scaled(d, d->cfg.digest_ms) / 10;
        if (every > 60000)
            every = 60000;
        if (every < d->cfg.poll_ms)
            every = d->cfg.poll_ms;
        d->digest_next_ms = now + every;
    }
    d->req_digest = digest;
    if (sweep)
        d->sweep_at_ms = now + DISPATCH_SWEEP_MS;
    d->req_sweep = sweep;
    if (d->n_results > 0)
        results_take(d, DISPATCH_FLUSH_MAX);
    worker_go(&d->flushw);
}

/* Loop side: claim for the free room. */
static void claim_turn(struct dispatch *d)
{
    if (atomic_load(&d->stopping))
        return;
    if (d->claimw.busy) {
        d->claimw.wanted = true;        /* again when this one is back */
        return;
    }
    int room = d->cfg.max_inflight * DISPATCH_CLAIMED_FACTOR - d->inflight -
               d->queued;
    int ep_cap = d->cfg.per_endpoint * DISPATCH_QUEUE_FACTOR;
    bool capped = false;
    if (room <= 0)
        return;
    free(d->req_skip);
    d->req_skip = skip_list(d, mono_ms(), ep_cap, &capped);
    d->req_room = room;
    d->more_due = capped;               /* and a full claim, see on_claim */
    snprintf(d->req_lease, sizeof(d->req_lease), "%d", d->cfg.lease_ms);
    snprintf(d->req_max, sizeof(d->req_max), "%d", room);
    snprintf(d->req_per, sizeof(d->req_per), "%d", ep_cap);
    worker_go(&d->claimw);
}

/* Loop side: both, as a tick does. */
static void db_turn(struct dispatch *d)
{
    flush_turn(d);
    claim_turn(d);
}

/* Loop side: the flush worker's reply. */
static void take_flush(struct dispatch *d)
{
    note_db(d, d->flushw.link_rc);
    if (d->req_sweep) {
        d->req_sweep = false;
        /* more to do: again at the next tick */
        if (d->flushw.rc == HUB_OK && d->rep_swept >= DISPATCH_SWEEP_LIMIT)
            d->sweep_at_ms = 0;
    }
    if (d->req_results) {
        if (d->flushw.rc != HUB_OK)
            results_readd(d, d->req_results, d->req_n_results);
        free(d->req_results);
        d->req_results = NULL;
        d->req_n_results = 0;
    }
}

/* Loop side: the claim worker's reply. */
static void take_claim(struct dispatch *d)
{
    note_db(d, d->claimw.link_rc);
    if (d->rep_rows) {
        /* a full claim may have left due work behind */
        if (claimed_count(d->rep_rows) >= d->req_room)
            d->more_due = true;
        take_claimed(d, d->rep_rows);   /* takes them */
        d->rep_rows = NULL;
    }
    pump(d);
    /* an outcome already buffered may be what holds rows back */
    if (d->flush_now && d->n_results > 0)
        flush_turn(d);
}

static void on_flush_reply(evutil_socket_t fd, short what, void *arg)
{
    struct dispatch *d = arg;
    (void)fd;
    (void)what;
    if (!worker_reply(&d->flushw))
        return;
    take_flush(d);
    /* more to record at once: asked meanwhile, or a full batch waiting;
     * after a database failure the next tick (poll_ms) tries again */
    if (d->flushw.rc == HUB_OK &&
        (d->flushw.wanted || d->n_results >= DISPATCH_FLUSH_BATCH)) {
        d->flushw.wanted = false;
        flush_turn(d);
    }
}

static void on_claim_reply(evutil_socket_t fd, short what, void *arg)
{
    struct dispatch *d = arg;
    (void)fd;
    (void)what;
    if (!worker_reply(&d->claimw))
        return;
    take_claim(d);
    if (d->claimw.rc == HUB_OK && d->claimw.wanted) {
        d->claimw.wanted = false;
        claim_turn(d);
    }
}

static void ensure_listen(struct dispatch *d);

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct dispatch *d = arg;
    (void)fd;
    (void)what;

    ensure_listen(d);
    stats_publish(d);
    if (d->listen_ev && store_notifications(d->listen_db) < 0) {
        /* broken: forget it; ensure_listen reconnects once the worker
         * reaches the database again */
        event_free(d->listen_ev);
        d->listen_ev = NULL;
        d->listen_fd = -1;
    }
    pump(d);
    db_turn(d);
    if (atomic_load(&d->stopping)) {
        if (!d->stop_seen) {
            d->stop_seen = true;
            d->stop_deadline_ms = mono_ms() + d->cfg.timeout_ms + 1000;
        }
        if ((d->inflight == 0 && d->queued == 0 && d->n_results == 0 &&
             !d->flushw.busy && !d->claimw.busy) ||
            mono_ms() > d->stop_deadline_ms) {
            event_base_loopbreak(d->base);
            return;
        }
    }
    struct timeval tv = { d->cfg.poll_ms / 1000, (d->cfg.poll_ms % 1000) * 1000 };
    if (atomic_load(&d->stopping))
        tv = (struct timeval){ 0, 50000 };
    evtimer_add(d->tick, &tv);
}

/* the lingering flush of outcomes */
static void on_tick_turn(evutil_socket_t fd, short what, void *arg)
{
    struct dispatch *d = arg;
    (void)fd;
    (void)what;
    flush_turn(d);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    struct dispatch *d = arg;
    char buf[64];
    (void)what;
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    event_active(d->tick, EV_TIMEOUT, 0);
}

/* A NOTIFY on hub_deliveries (new work, an outcome that unblocks a later
 * delivery, a resumed subscription) asks for a claim at once; while one
 * is out, the NOTIFYs that come meanwhile make one claim after it (see
 * claim_turn), so claims batch themselves under load without a timer.
 * Outcomes keep their own pace (DISPATCH_LINGER_MS): a NOTIFY used to run
 * the whole tick, a flush of the few outcomes buffered included, once per
 * ingest commit. */
static void on_listen(evutil_socket_t fd, short what, void *arg)
{
    struct dispatch *d = arg;
    (void)fd;
    (void)what;
    int n = store_notifications(d->listen_db);
    if (n < 0) {
        /* link broken: stop watching a dead descriptor (it would fire for
         * ever); the tick reconnects and listens again */
        event_free(d->listen_ev);
        d->listen_ev = NULL;
        d->listen_fd = -1;
    }
    if (n < 0) {
        event_active(d->tick, EV_TIMEOUT, 0);
    } else if (n > 0) {
        claim_turn(d);
    }
}

/* LISTEN on a connection of its own (again, after a reconnect changed the
 * descriptor). Connecting blocks the loop, but only while the database is
 * down, once per poll. */
static void ensure_listen(struct dispatch *d)
{
    /* connect only once the worker reached the database: a connect to a
     * host that drops packets would hold the loop (and every transfer) */
    if (!d->listen_db && d->db_ok && !atomic_load(&d->stopping) &&
        store_connect(d->cfg.database_url, &d->listen_db) != HUB_OK)
        d->listen_db = NULL;
    if (!d->listen_db)
        return;
    int fd = store_socket(d->listen_db);
    if (fd >= 0 && fd == d->listen_fd && d->listen_ev)
        return;
    if (d->listen_ev) {
        event_free(d->listen_ev);
        d->listen_ev = NULL;
        d->listen_fd = -1;
    }
    if (fd < 0 && (!d->db_ok || store_ping(d->listen_db) != HUB_OK))
        return;
    if (store_listen(d->listen_db, "hub_deliveries") != HUB_OK)
        return;
    fd = store_socket(d->listen_db);
    d->listen_ev = event_new(d->base, fd, EV_READ | EV_PERSIST, on_listen, d);
    if (d->listen_ev) {
        event_add(d->listen_ev, NULL);
        d->listen_fd = fd;
    }
}

/* Worker set-up: the pipe and its event; the thread comes with
 * worker_start. HUB_EIO when either cannot be made. */
static int worker_init(struct dispatch *d, struct dbw *w, bool is_claim,
                       event_callback_fn on_reply)
{
    w->d = d;
    w->is_claim = is_claim;
    w->pipe[0] = w->pipe[1] = -1;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pipe(w->pipe) != 0) {
        w->pipe[0] = w->pipe[1] = -1;
        return HUB_EIO;
    }
    fcntl(w->pipe[0], F_SETFL, O_NONBLOCK);
    w->ev = event_new(d->base, w->pipe[0], EV_READ | EV_PERSIST, on_reply, d);
    if (!w->ev)
        return HUB_EIO;
    event_add(w->ev, NULL);
    return HUB_OK;
}

static int worker_start(struct dbw *w)
{
    if (pthread_create(&w->thread, NULL, db_main, w) != 0)
        return HUB_EIO;
    w->started = true;
    return HUB_OK;
}

/* The worker finishes its request (if any) and stops; its connection stays
 * for the caller (the last outcomes are written on it). */
static void worker_join(struct dbw *w)
{
    if (!w->started)
        return;
    pthread_mutex_lock(&w->mu);
    w->quit = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    w->started = false;
}

/* After worker_join (or when it never started). */
static void worker_release(struct dbw *w)
{
    store_free(w->db);
    w->db = NULL;
    if (!w->d)
        return;                         /* worker_init never ran */
    if (w->ev)
        event_free(w->ev);
    w->ev = NULL;
    if (w->pipe[0] >= 0) {
        close(w->pipe[0]);
        close(w->pipe[1]);
    }
    w->pipe[0] = w->pipe[1] = -1;
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
}

static void *run(void *arg)
{
    struct dispatch *d = arg;
    event_active(d->tick, EV_TIMEOUT, 0);
    event_base_dispatch(d->base);

    /* the workers finish their requests and stop; replies taken here */
    worker_join(&d->claimw);
    if (d->claimw.busy && d->claimw.done)
        take_claim(d);
    worker_join(&d->flushw);
    if (d->flushw.busy && d->flushw.done) {
        take_flush(d);
    } else if (d->flushw.busy && d->req_results) {
        results_readd(d, d->req_results, d->req_n_results);   /* not run */
        free(d->req_results);
        d->req_results = NULL;
    }

    resolver_close(d);
    /* transfers cut short by the stop deadline: recorded as an attempt
     * to retry at once; another node (or this one, restarted) sends it */
    while (d->running) {
        struct job *j = d->running;
        result_add(d, j, 0, "shutdown", mono_ms() - j->started_ms, "retry", 0);
        running_unlink(d, j);
        job_free(j);
    }
    for (size_t i = 0; i < d->n_eps; i++) {
        struct endpoint *e = d->eps[i];
        while (e->queue) {
            struct job *j = e->queue;
            e->queue = j->next;
            result_add(d, j, 0, NULL, 0, "release", 0);
            job_free(j);
        }
    }
    /* the last outcomes, on this thread now that the worker is gone */
    if (d->n_results > 0 && !d->flushw.db &&
        store_connect(d->cfg.database_url, &d->flushw.db) != HUB_OK)
        d->flushw.db = NULL;
    if (d->n_results > 0 && d->flushw.db) {
        if (db_flush(d, d->flushw.db, d->results, d->n_results) != HUB_OK)
            log_warn("dispatch.results_unsaved", "n=%d code=%s",
                     d->n_results, hub_strerror(HUB_EDB));
    }
    return NULL;
}

int dispatch_start(const struct dispatch_config *c, struct dispatch **out)
{
    struct dispatch *d = calloc(1, sizeof(*d));
    int rc = HUB_EIO;

    if (!d)
        abort();
    d->cfg = *c;
    d->wake_pipe[0] = d->wake_pipe[1] = -1;
    if (d->cfg.max_inflight < 1)
        d->cfg.max_inflight = 64;
    if (d->cfg.per_endpoint < 1)
        d->cfg.per_endpoint = 8;
    if (d->cfg.timeout_ms < 100)
        d->cfg.timeout_ms = 15000;
    if (d->cfg.connect_timeout_ms < 100)
        d->cfg.connect_timeout_ms = 5000;
    if (d->cfg.lease_ms <= d->cfg.timeout_ms)
        d->cfg.lease_ms = d->cfg.timeout_ms + 30000;
    if (d->cfg.poll_ms < 10)
        d->cfg.poll_ms = 1000;
    if (d->cfg.breaker_failures < 1)
        d->cfg.breaker_failures = 5;
    if (d->cfg.failing_after < 1)
        d->cfg.failing_after = 3;
    /* a header line of its own: no CR or LF, and it fits */
    if (!d->cfg.user_agent || strpbrk(d->cfg.user_agent, "\r\n") ||
        strlen(d->cfg.user_agent) + 13 > sizeof(d->h_ua))
        d->cfg.user_agent = "care-hub-webhooks/1";
    snprintf(d->h_ua, sizeof(d->h_ua), "User-Agent: %s", d->cfg.user_agent);
    if (c->node[0]) {
        snprintf(d->node, sizeof(d->node), "%s", c->node);
    } else {
        char host[40] = "hub";
        gethostname(host, sizeof(host) - 1);
        host[sizeof(host) - 1] = '\0';
        snprintf(d->node, sizeof(d->node), "%s:%d", host, (int)getpid());
    }
    {
        /* quoted once for every attempt's detail; "" (invalid UTF-8):
         * the flush writes the details */
        struct arena a;
        struct slice q;
        arena_init(&a, 1024);
        if (jcanon_quote(&a, d->node, strlen(d->node), &q) &&
            q.len < sizeof(d->node_q))
            memcpy(d->node_q, q.p, q.len + 1);
        arena_release(&a);
    }
    const char *why;
    if (dispatch_proxy_usable(c->proxy, &why) != HUB_OK) {
        log_error("dispatch.proxy_unusable", "reason=\"%s\"", why);
        free(d);
        return HUB_EINVALID;
    }
    d->proxied = c->proxy && c->proxy[0];
    d->proxy_tls = d->proxied && strncasecmp(c->proxy, "https://", 8) == 0;
    webhook_proxy_redact(c->proxy, d->proxy_log, sizeof(d->proxy_log));
    d->rand_state = (unsigned)time(NULL) ^ (unsigned)getpid();
    pthread_mutex_init(&d->stats_mu, NULL);
    atomic_init(&d->stopping, false);

    /* no database yet is not fatal: the workers and the tick connect when
     * they can */
    if (store_connect(d->cfg.database_url, &d->flushw.db) != HUB_OK)
        d->flushw.db = NULL;
    if (d->flushw.db &&
        store_connect(d->cfg.database_url, &d->claimw.db) != HUB_OK)
        d->claimw.db = NULL;
    if (d->claimw.db &&
        store_connect(d->cfg.database_url, &d->listen_db) != HUB_OK)
        d->listen_db = NULL;
    d->db_ok = d->db_seen = d->flushw.db != NULL;
    if (!d->flushw.db)
        log_warn("dispatch.db_unavailable", "code=%s pending_outcomes=0",
                 hub_strerror(HUB_EDB));
    d->flushw.pipe[0] = d->flushw.pipe[1] = -1;
    d->claimw.pipe[0] = d->claimw.pipe[1] = -1;
    rc = HUB_EIO;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        goto fail;
    if (pipe(d->wake_pipe) != 0)
        goto fail;
    fcntl(d->wake_pipe[0], F_SETFL, O_NONBLOCK);
    fcntl(d->wake_pipe[1], F_SETFL, O_NONBLOCK);
    d->base = event_base_new();
    d->multi = curl_multi_init();
    if (!d->base || !d->multi)
        goto fail;
    d->easy_pool_cap = d->cfg.max_inflight * DISPATCH_EASY_POOL_FACTOR;
    d->easy_pool = calloc((size_t)d->easy_pool_cap, sizeof(*d->easy_pool));
    d->easy_pool_tls = calloc((size_t)d->easy_pool_cap,
                              sizeof(*d->easy_pool_tls));
    if (!d->easy_pool || !d->easy_pool_tls)
        abort();
    d->tick = evtimer_new(d->base, on_tick, d);
    d->curl_timer = evtimer_new(d->base, on_curl_timer, d);
    d->turn = evtimer_new(d->base, on_tick_turn, d);
    d->wake_ev = event_new(d->base, d->wake_pipe[0], EV_READ | EV_PERSIST,
                           on_wake, d);
    if (!d->tick || !d->curl_timer || !d->turn || !d->wake_ev)
        goto fail;
    if (d->proxied) {
        struct resolver *r = calloc(1, sizeof(*r));
        if (!r)
            abort();
        if (pipe(r->pipe) != 0) {
            free(r);
            goto fail;
        }
        fcntl(r->pipe[0], F_SETFL, O_NONBLOCK);
        fcntl(r->pipe[1], F_SETFL, O_NONBLOCK);
        pthread_mutex_init(&r->mu, NULL);
        r->refs = 1;
        d->resolver = r;
        d->resolve_ev = event_new(d->base, r->pipe[0], EV_READ | EV_PERSIST,
                                  on_resolved, d);
        if (!d->resolve_ev)
            goto fail;
        event_add(d->resolve_ev, NULL);
    }
    if (worker_init(d, &d->flushw, false, on_flush_reply) != HUB_OK ||
        worker_init(d, &d->claimw, true, on_claim_reply) != HUB_OK)
        goto fail;
    event_add(d->wake_ev, NULL);
    d->listen_fd = -1;
    if (d->listen_db)
        ensure_listen(d);
    curl_multi_setopt(d->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(d->multi, CURLMOPT_SOCKETDATA, d);
    curl_multi_setopt(d->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(d->multi, CURLMOPT_TIMERDATA, d);
    /* keep-alive: enough cached connections for every endpoint slot */
    curl_multi_setopt(d->multi, CURLMOPT_MAXCONNECTS,
                      (long)d->cfg.max_inflight * 2);
    if (worker_start(&d->flushw) != HUB_OK ||
        worker_start(&d->claimw) != HUB_OK)
        goto fail;
    if (pthread_create(&d->thread, NULL, run, d) != 0)
        goto fail;
    log_info("dispatch.started", "node=%s max_inflight=%d per_endpoint=%d "
             "timeout_ms=%d time_scale=%g proxy=%s", d->node,
             d->cfg.max_inflight, d->cfg.per_endpoint, d->cfg.timeout_ms,
             d->cfg.time_scale, d->proxied ? d->proxy_log : "none");
    *out = d;
    return HUB_OK;
fail:
    worker_join(&d->flushw);
    worker_join(&d->claimw);
    worker_release(&d->flushw);
    worker_release(&d->claimw);
    if (d->listen_ev)
        event_free(d->listen_ev);
    store_free(d->listen_db);
    if (d->wake_ev)
        event_free(d->wake_ev);
    if (d->tick)
        event_free(d->tick);
    if (d->curl_timer)
        event_free(d->curl_timer);
    if (d->turn)
        event_free(d->turn);
    if (d->resolve_ev)
        event_free(d->resolve_ev);
    if (d->resolver)
        resolver_put(d->resolver);      /* no lookup ran */
    if (d->multi)
        curl_multi_cleanup(d->multi);
    free(d->easy_pool);                 /* empty: nothing ran */
    free(d->easy_pool_tls);
    if (d->base)
        event_base_free(d->base);
    if (d->wake_pipe[0] >= 0) {
        close(d->wake_pipe[0]);
        close(d->wake_pipe[1]);
    }
    pthread_mutex_destroy(&d->stats_mu);
    free(d);
    return rc;
}

void dispatch_kick(struct dispatch *d)
{
    if (d && write(d->wake_pipe[1], "k", 1) < 0 && errno != EAGAIN)
        log_warn("dispatch.kick_failed", "errno=%d", errno);
}

void dispatch_stats(struct dispatch *d, struct dispatch_stats *out)
{
    pthread_mutex_lock(&d->stats_mu);
    *out = d->stats;
    pthread_mutex_unlock(&d->stats_mu);
    out->inflight = atomic_load(&d->inflight_pub);
}

void dispatch_stop(struct dispatch *d)
{
    if (!d)
        return;
    atomic_store(&d->stopping, true);
    dispatch_kick(d);
    pthread_join(d->thread, NULL);
    for (size_t i = 0; i < d->n_eps; i++) {
        if (d->eps[i]->counted_open)
            metrics_breakers_open(-1);
        free(d->eps[i]);
    }
    free(d->eps);
    for (int i = 0; i < d->n_easy_pool; i++)
        curl_easy_cleanup(d->easy_pool[i]);     /* out of the multi already */
    free(d->easy_pool);
    free(d->easy_pool_tls);
    curl_multi_cleanup(d->multi);       /* closes its connections: on_close */
    for (int i = 0; i < d->n_conns; i++)
        if (d->conns[i])
            sock_free(d->conns[i]);     /* cannot happen */
    free(d->conns);
    if (d->listen_ev)
        event_free(d->listen_ev);
    event_free(d->wake_ev);
    worker_release(&d->flushw);
    worker_release(&d->claimw);
    event_free(d->tick);
    event_free(d->curl_timer);
    event_free(d->turn);
    if (d->resolve_ev)
        event_free(d->resolve_ev);
    event_base_free(d->base);
    close(d->wake_pipe[0]);
    close(d->wake_pipe[1]);
    store_free(d->listen_db);
    free(d->results);
    free(d->req_results);
    free(d->req_skip);
    store_rows_free(d->rep_rows);
    pthread_mutex_destroy(&d->stats_mu);
    log_info("dispatch.stopped", "node=%s", d->node);
    free(d);
}

/*
 * dispatch_int.h - what the dispatcher's files share, and nothing else
 * includes: its tuning constants, its state (struct dispatch and the jobs,
 * endpoints, outcomes and workers it holds) and the calls between
 *   dispatch.c        its life (start, stop, the loop's tick, LISTEN),
 *   dispatch_send.c   transfers: jobs, endpoints and their breakers,
 *                     signing, libcurl multi on the loop, the SSRF guard,
 *   dispatch_db.c     the database side: claims, the outcomes and their
 *                     flush, the two worker threads that run them,
 *   dispatch_proxy.c  the endpoint's name resolved for the egress proxy.
 * Everything here runs on the loop thread unless it says otherwise. These
 * files alone include <curl/curl.h>.
 */
#ifndef HUB_DISPATCH_INT_H
#define HUB_DISPATCH_INT_H

#include <curl/curl.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "dispatch.h"
#include "store.h"
#include "webhook.h"

/* The dispatcher's links (claim, flush, LISTEN), as pg_stat_activity
 * names them: an operator (and a test) tells them from the API pool's */
#define DISPATCH_DB_APP "hubd-dispatch"

/* A link of the dispatcher, its statements bounded by commit_ms (F765).
 * HUB_OK or HUB_EDB (*out NULL). */
int dispatch_db_connect(const struct dispatch *d, struct store **out);

#define DISPATCH_MAX_ENDPOINTS 4096     /* max_endpoints' default */
/* The longest a 429's or 503's Retry-After holds its whole endpoint (the
 * delivery it answered still waits all it asked, up to 24 h): the hold
 * stops every subscription that shares the scheme://host:port, a
 * multi-tenant receiver's other tenants too, so one answer (a wrong
 * header, a date far ahead) stops them for an hour at most, on the
 * schedule's scale (F3623). */
#define DISPATCH_RETRY_AFTER_HOLD_MAX_MS (3600 * 1000)
#define DISPATCH_ENDPOINT_MAX 300
#define DISPATCH_RESPONSE_MAX (64 * 1024)   /* read and dropped */
/* Claimed work kept ready per endpoint (x per_endpoint) and in all (x
 * max_inflight): enough that one claim round trip feeds many sends, so the
 * database's commit latency does not set the delivery rate. A refill is
 * asked for once half of it is used (DISPATCH_REFILL_DIV), so the next
 * claim is back before the queue runs dry: with a refill at max_inflight
 * left, the sends stopped for every claim (x4/x32, refill at 64: 14.0k and
 * 15.3k deliveries/s from a backlog with 1 and 10 subscriptions; x8/x64,
 * refill at half: 15.6k and 17.8k, same machine and run). One endpoint
 * is served a share of the room at a time (DISPATCH_ENDPOINT_ROOM_DIV):
 * x32 in all, so that this share (256 by default) is what one endpoint's
 * drain claimed and refilled at with x8 (F3823). */
#define DISPATCH_QUEUE_FACTOR 64
#define DISPATCH_CLAIMED_FACTOR 32
#define DISPATCH_REFILL_DIV 2
/* One endpoint's share of the claim room: a claim takes at most the room
 * / DISPATCH_ENDPOINT_ROOM_DIV rows (never fewer than per_endpoint, never
 * more than per_endpoint x DISPATCH_QUEUE_FACTOR), and passes an endpoint
 * by while it holds that many, so that one holds less than twice that, a
 * quarter of the room: a slow endpoint's backlog leaves the rest of the
 * room to the others (F3823; 256 of 2,048 by default, a claim as large as
 * one endpoint's drain made before, with a refill as early: 64 and 128
 * halved and quartered the claims and slowed the drain); the divisor
 * grows by one for each endpoint at its share (endpoint_share, F3941) */
#define DISPATCH_ENDPOINT_ROOM_DIV 8
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

/* Subscriptions that changed lately (a NOTIFY hub_subscriptions, or a 410
 * here), remembered for the claims that were out meanwhile: a claim whose
 * snapshot came before a pause, a delete or a 410 brings rows of it back
 * after the change was seen, and those are handed back, not sent. A ring:
 * when it has turned over since a claim went out, that claim's rows are
 * all handed back (one change may have been lost). */
#define DISPATCH_SUB_CHANGES 64
#define DISPATCH_SUB_ID_MAX 64          /* "sub_" + 32 hex digits, NUL */

struct sub_change {
    char sub[DISPATCH_SUB_ID_MAX];
    int64_t at_us;                      /* seen (mono_us) */
    bool held;                          /* a 410 here: every claim's rows
                                           of it handed back until the
                                           flush that records it is back */
};

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
    int64_t held_until_ms;              /* a Retry-After's part of it */
    int64_t opened_ms;                  /* its last opening (monotonic) */
    bool half_open;                     /* one probe at a time */
    bool counted_open;                  /* in hub_webhook_breakers_open */
    struct job *queue, *queue_tail;     /* claimed, waiting for a slot */
    int queued;
    bool capped;                        /* at its share (F3823) */
    bool claimed_now;                   /* in the claim being taken */
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
    char sub[DISPATCH_SUB_ID_MAX];  /* its subscription ("": too long) */
    int64_t claimed_ms, started_ms;
    size_t resp_bytes;
    bool answered;                  /* the receiver's final status came */
    bool ssrf_refused;
    bool cleartext;                 /* an http:// URL */
    bool cleartext_refused;         /* production: http:// to the Internet */
    bool head_done;                 /* the final answer's header block
                                       ended: a field after it is a
                                       trailer */
    char retry_after[64];           /* the final answer's */
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
    bool notify_missed;                 /* a claim asked for (a NOTIFY of
                                           new work) met a full room: one
                                           when the queue is below half of
                                           it (jobs_finished, F4124) */
    int ep_cap;                         /* an endpoint's share of a claim */
    bool ep_refill;                     /* a capped endpoint fell below it */
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
    struct sub_change changes[DISPATCH_SUB_CHANGES];   /* loop thread */
    unsigned n_changes;                 /* ever: the next is % the size */
    int n_released;                     /* by the NOTIFYs being drained */
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


static inline int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A duration of the schedule as the time source runs it (time_scale). */
static inline int64_t scaled(const struct dispatch *d, int64_t ms)
{
    return webhook_scale_ms(ms, d->cfg.time_scale);
}

/* Decimal digits of v at p; returns the end (not terminated). */
static inline char *put_i64(char *p, int64_t v)
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

/* dispatch.c: the accounts of dispatch_stats() */
void inflight_note(struct dispatch *d);
void stats_publish(struct dispatch *d);
void stat_add(struct dispatch *d, uint64_t *field, uint64_t n);

/* dispatch_send.c: jobs and their transfers */
struct endpoint *endpoint_get(struct dispatch *d, const char *key);
struct signer *signer_get(struct dispatch *d, const char *text);
void rows_put(struct claim_rows *c);
void job_free(struct job *j);
void job_finish(struct dispatch *d, struct job *j, long code,
                const char *err);
void jobs_finished(struct dispatch *d);
void jobs_pump(struct dispatch *d);
void running_unlink(struct dispatch *d, struct job *j);
bool ssrf_refuse(struct job *j, const char *ip);
/* Subscription `sub` changed in a way its held jobs carry (paused,
 * deleted, disabled, its URL, secrets, TLS files or format: the changes
 * hub_subscriptions_notify() names) or answered 410 here (`gone`: its rows
 * of every claim are handed back until sub_gone_recorded, as the flush
 * that disables it has not committed yet): the jobs of it waiting in
 * endpoint queues are handed back unsent ("release"). Returns how many. */
int sub_changed(struct dispatch *d, const char *sub, bool gone);
/* The flush that recorded the 410s among o[n] has committed: their
 * subscriptions are disabled for every claim from now on. */
void sub_gone_recorded(struct dispatch *d, const struct outcome *o, int n);
/* Whether a claimed row of `sub` from a claim that went out at went_us
 * (mono_us) is to be handed back rather than sent (sub_changed since). */
bool sub_stopped(const struct dispatch *d, const char *sub, int64_t went_us);
/* Whether any subscription changed since went_us, or is held by a 410:
 * when not, no row of that claim is looked up (sub_stopped). */
bool subs_changed_since(const struct dispatch *d, int64_t went_us);
/* libcurl multi on the loop: its socket and timer callbacks */
int multi_on_socket(CURL *e, curl_socket_t s, int what, void *arg,
                    void *sockp);
int multi_on_timer(CURLM *multi, long timeout_ms, void *arg);
void multi_on_timeout(evutil_socket_t fd, short what, void *arg);
void sock_free(struct sock_ev *se);

/* dispatch_db.c: outcomes, claims and the database workers */
void result_add(struct dispatch *d, const struct job *j, long code,
                const char *error, int64_t latency_ms, const char *outcome,
                int64_t delay_ms);
void results_readd(struct dispatch *d, const struct outcome *failed, int n);
int db_flush(struct dispatch *d, struct store *db, const struct outcome *o,
             int n);
void flush_turn(struct dispatch *d);
void claim_turn(struct dispatch *d);
int endpoint_share(const struct dispatch_config *c, int at_share);
void take_flush(struct dispatch *d);
void take_claim(struct dispatch *d);
int workers_init(struct dispatch *d);
int worker_start(struct dbw *w);
void worker_join(struct dbw *w);
void worker_release(struct dbw *w);

/* dispatch_proxy.c: the lookups of the proxy path */
int resolver_open(struct dispatch *d);
void resolver_close(struct dispatch *d);
void lookup_start(struct dispatch *d, struct job *j);

#endif

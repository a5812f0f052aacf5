/*
 * dispatch.h - the webhook dispatcher: claims due deliveries from the
 * outbox (deliveries table, 001_init.sql) and sends them, signed the
 * Standard Webhooks way, with libcurl multi on its own libevent loop.
 * Only its own files (dispatch*.c, dispatch_int.h) include <curl/curl.h>.
 *
 * One dispatcher per hubd process, any number of processes per database:
 * claims are leases (FOR UPDATE SKIP LOCKED); a process that dies loses its
 * leases when they expire and another finishes the work. Delivery is
 * at-least-once with a stable webhook-id ("dlv_<delivery id>").
 *
 * The dispatcher runs in a thread of its own with its own event loop, and
 * does its database work on a worker thread with connections of its own,
 * so a slow database round trip stalls neither the listeners nor the
 * transfers in flight.
 *
 * Isolation: at most `per_endpoint` transfers per endpoint (scheme, host,
 * port) and a circuit breaker per endpoint (after `breaker_failures`
 * consecutive failures the endpoint is left alone for `breaker_open_ms`,
 * then probed with one request), so a failing or slow receiver never
 * delays deliveries to the others.
 */
#ifndef HUB_DISPATCH_H
#define HUB_DISPATCH_H

#include <stdbool.h>
#include <stdint.h>

struct dispatch;
struct hub_config;

struct dispatch_config {
    bool enabled;               /* key dispatch (HUB_DISPATCH=0: off) */
    const char *database_url;
    char node[64];              /* lease owner; default "<host>:<pid>" */
    int max_inflight;           /* transfers at once, all endpoints (64) */
    int per_endpoint;           /* transfers at once per endpoint (8) */
    int max_endpoints;          /* endpoints remembered (breaker, hold,
                                   transfers) at once (4096) */
    int timeout_ms;             /* whole request (15000) */
    int connect_timeout_ms;     /* (5000) */
    int lease_ms;               /* claim lease (timeout + 30 s) */
    int commit_ms;              /* each claim, flush, digest or sweep is
                                   cut past it, on a new link next time
                                   (hubd: db_commit_timeout; 0: none) */
    int poll_ms;                /* look for due work without NOTIFY (1000) */
    int linger_ms;              /* outcomes gathered this long before a
                                   flush, unless rows wait behind one (50;
                                   not a hubd key: tests lengthen it) */
    double time_scale;          /* key time_scale: >1 speeds up the retry
                                   schedule, Retry-After, the breaker and
                                   the digest interval */
    bool production;            /* SSRF: refuse internal addresses ... */
    bool allow_private;         /* ... unless the operator allows them */
    /* The egress proxy (key webhook_proxy; NULL or "": none): every
     * delivery goes through it by CONNECT (a tunnel for http:// endpoints
     * too). The dispatcher resolves the endpoint's name itself, applies
     * the SSRF policy above to the addresses, and has the proxy connect to
     * the address it checked (CURLOPT_CONNECT_TO), never to the name; TLS
     * to an https endpoint still verifies its name and sends it as SNI and
     * Host. The proxy's own address is the operator's and is not checked.
     * proxy_ca: the CA bundle of an https:// proxy (NULL or "": the
     * system's). Both borrowed. */
    const char *proxy;
    const char *proxy_ca;
    int breaker_failures;       /* consecutive failures that open (5) */
    int breaker_open_ms;        /* how long it stays open (30000, scaled) */
    int failing_after;          /* health: failing at this failed attempt
                                   of one delivery (3) */
    int digest_ms;              /* hub.digest every (scaled; 0: none from
                                   this process; hubd: alert_digest_s) */
    bool digest_all;            /* also when nothing failed (false) */
    const char *user_agent;
};

/* The built-in defaults (the numbers in parentheses above), enabled. */
void dispatch_config_defaults(struct dispatch_config *c);

/* The defaults, then hubd's settings (keys dispatch, dispatch_*,
 * webhook_allow_private, time_scale of hub/config.h, overridden as any key
 * by HUB_<KEY>, e.g. HUB_DISPATCH=0). The URL is borrowed from h. */
void dispatch_config_from(struct dispatch_config *c,
                          const struct hub_config *h);

/* Start the dispatcher thread. The database need not be up: the
 * dispatcher connects (and reconnects) on its own, every poll_ms (once a
 * second by default), and sends nothing meanwhile. HUB_EIO when a thread or the loop cannot be
 * made. The config is copied. */
int dispatch_start(const struct dispatch_config *c, struct dispatch **out)
    __attribute__((warn_unused_result));

/* Look for due work now (thread-safe). dispatch_stop uses it; routing in
 * an ingest wakes every dispatcher by NOTIFY hub_deliveries instead. */
void dispatch_kick(struct dispatch *d);

struct dispatch_stats {
    uint64_t attempts, delivered, retried, dead, gone, refused_ssrf;
    uint64_t claims, db_errors;
    /* claimed jobs handed back unsent because their subscription changed
     * in a way they carry (paused, deleted, disabled, a 410 here, its URL,
     * secrets, TLS files or format: hub_subscriptions_notify) */
    uint64_t released;
    /* claims asked for (by a NOTIFY of new work, mostly) while the claim
     * room was full: max_inflight x 32 jobs claimed and not yet done */
    uint64_t room_full;
    int inflight;
    /* where the time went (ms, as of the last database reply or tick):
     * the claim and flush workers busy with a request; transfers running
     * (any); and transfers x time, so inflight_ms / sending_ms is the
     * average number running while any was. Says whether claims or the
     * loop bound a drain (tests/bench/deliver_bench prints them). */
    uint64_t claim_busy_ms, flush_busy_ms, sending_ms, inflight_ms;
};
/* A snapshot (thread-safe), for the benchmarks (tests/bench/deliver_bench);
 * /metrics reads the counters of metrics.h instead. */
void dispatch_stats(struct dispatch *d, struct dispatch_stats *out);

/* Whether this libcurl can use `proxy` (an https:// proxy needs TLS to
 * proxies, CURL_VERSION_HTTPS_PROXY): HUB_OK, or HUB_EUNSUPPORTED with a
 * static reason in *why. hubd --check-config and hubd's start call it. */
int dispatch_proxy_usable(const char *proxy, const char **why);

/* Stop claiming, let transfers in flight finish (at most timeout_ms), record
 * their outcomes, hand back claimed work not yet started, join the thread
 * and free. NULL is a no-op. */
void dispatch_stop(struct dispatch *d);

#endif

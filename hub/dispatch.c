/*
 * dispatch.c - webhook dispatcher: libcurl multi on a libevent loop in a
 * thread of its own (see dispatch.h). This file: its life (start, stop),
 * the loop's tick and LISTEN; the rest is in the files dispatch_int.h
 * names.
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
 *     --lease can no longer cover a transfer, its endpoint's breaker is
 *       open (F3820), or stop--> released
 *   SENDING --done--> outcome: delivered | retry (delay) | dead | gone
 *   outcomes are buffered and written in one transaction per flush
 *   (hub_deliveries_done): the audit row (also the attempt's record; its
 *   detail written here, put_detail, from the ids the claim returned), the
 *   new state, the subscription's health when it changes; and, when due
 *   (digest_ms), the digests (hub_digest) after the outcomes.
 * Claims happen on a NOTIFY hub_deliveries (those that come while a
 * claim is out make one claim after it), after completions while the last
 * claim left due work behind or a NOTIFY met the claim room full (once
 * the claimed queue is below half the room, F4124), or once an endpoint
 * the last claim passed by at its share (endpoint_share: a slow
 * endpoint's backlog leaves the room to the others, F3823; the share
 * shrinks as more endpoints hold theirs, F3941) is below it, and every
 * poll_ms; flushes linger_ms after
 * completions (at once when many outcomes wait, or for the outcome of a
 * delivery that rows wait behind: order_waits), one at a time, so they
 * batch themselves under load.
 *
 * Invariants: an endpoint never has more than per_endpoint transfers, nor
 * twice its share claimed; a
 * transfer is only started while its lease covers a whole transfer; no
 * patient data is logged (delivery ids, codes, counts only).
 */
#include "dispatch_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/hub_err.h"
#include "config.h"
#include "jcanon.h"
#include "log.h"
#include "metrics.h"

/* Before inflight changes: the time since the last change, counted. */
void inflight_note(struct dispatch *d)
{
    int64_t now = mono_us();
    if (d->inflight > 0) {
        d->sending_us += now - d->inflight_at_us;
        d->inflight_area += (now - d->inflight_at_us) * d->inflight;
    }
    d->inflight_at_us = now;
}

/* The loop's time accounts, into the stats dispatch_stats() copies. */
void stats_publish(struct dispatch *d)
{
    pthread_mutex_lock(&d->stats_mu);
    d->stats.claim_busy_ms = (uint64_t)(d->claimw.busy_us / 1000);
    d->stats.flush_busy_ms = (uint64_t)(d->flushw.busy_us / 1000);
    d->stats.sending_ms = (uint64_t)(d->sending_us / 1000);
    d->stats.inflight_ms = (uint64_t)(d->inflight_area / 1000);
    pthread_mutex_unlock(&d->stats_mu);
}

void stat_add(struct dispatch *d, uint64_t *field, uint64_t n)
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
    c->max_endpoints = DISPATCH_MAX_ENDPOINTS;
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
    c->max_endpoints = h->dispatch_max_endpoints;
    c->timeout_ms = h->dispatch_timeout_ms;
    c->lease_ms = h->dispatch_lease_ms;
    c->commit_ms = h->db_commit_timeout * 1000;
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

/* Loop side: both, as a tick does. */
static void db_turn(struct dispatch *d)
{
    flush_turn(d);
    claim_turn(d);
}

static void ensure_listen(struct dispatch *d);

/* Each NOTIFY drained: hub_subscriptions names a subscription that changed
 * in a way its held jobs carry (paused, deleted, disabled, resumed, its
 * URL, secrets, TLS files or format; not its health, topics or filters),
 * whose jobs waiting in endpoint queues are handed back (sub_changed);
 * hub_deliveries (new work) asks only for the claim that any NOTIFY
 * makes. */
static void on_note(void *arg, const char *channel, const char *payload)
{
    struct dispatch *d = arg;
    if (strcmp(channel, "hub_subscriptions") == 0)
        d->n_released += sub_changed(d, payload, false);
}

/* Drain the LISTEN link's notifications: how many, or < 0 when it broke.
 * Jobs handed back are recorded like any outcome (jobs_finished). */
static int drain_notes(struct dispatch *d)
{
    d->n_released = 0;
    int n = store_notifications_each(d->listen_db, on_note, d);
    if (d->n_released > 0)
        jobs_finished(d);
    return n;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct dispatch *d = arg;
    (void)fd;
    (void)what;

    ensure_listen(d);
    stats_publish(d);
    if (d->listen_ev && drain_notes(d) < 0) {
        /* broken: forget it; ensure_listen reconnects once the worker
         * reaches the database again */
        event_free(d->listen_ev);
        d->listen_ev = NULL;
        d->listen_fd = -1;
    }
    jobs_pump(d);
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
    int n = drain_notes(d);
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
        dispatch_db_connect(d, &d->listen_db) != HUB_OK)
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
    /* hub_deliveries last: its LISTEN is what says, in pg_stat_activity,
     * that this dispatcher hears both (tests wait for it) */
    if (store_listen(d->listen_db, "hub_subscriptions") != HUB_OK ||
        store_listen(d->listen_db, "hub_deliveries") != HUB_OK)
        return;
    fd = store_socket(d->listen_db);
    d->listen_ev = event_new(d->base, fd, EV_READ | EV_PERSIST, on_listen, d);
    if (d->listen_ev) {
        event_add(d->listen_ev, NULL);
        d->listen_fd = fd;
    }
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
        dispatch_db_connect(d, &d->flushw.db) != HUB_OK)
        d->flushw.db = NULL;
    if (d->n_results > 0 && d->flushw.db) {
        if (db_flush(d, d->flushw.db, d->results, d->n_results) != HUB_OK)
            log_warn("dispatch.results_unsaved", "n=%d code=%s",
                     d->n_results, hub_strerror(HUB_EDB));
    }
    return NULL;
}

/* What one claim takes of an endpoint's rows at most, and what it holds
 * before the claims pass it by (so less than twice this): the room /
 * (DISPATCH_ENDPOINT_ROOM_DIV + the endpoints at their share), at least its
 * per_endpoint (it can always send that many at once), at most
 * per_endpoint x DISPATCH_QUEUE_FACTOR (F3823). The share shrinks as more
 * endpoints reach it, so that slow endpoints at their share never hold the
 * whole room between them (F3941): eight at 256 each did. */
int endpoint_share(const struct dispatch_config *c, int at_share)
{
    int share = c->max_inflight * DISPATCH_CLAIMED_FACTOR /
                (DISPATCH_ENDPOINT_ROOM_DIV + at_share);
    if (share < c->per_endpoint)
        share = c->per_endpoint;
    if (share > c->per_endpoint * DISPATCH_QUEUE_FACTOR)
        share = c->per_endpoint * DISPATCH_QUEUE_FACTOR;
    return share;
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
    if (d->cfg.max_endpoints < 1)
        d->cfg.max_endpoints = DISPATCH_MAX_ENDPOINTS;
    d->ep_cap = endpoint_share(&d->cfg, 0);
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
    if (dispatch_db_connect(d, &d->flushw.db) != HUB_OK)
        d->flushw.db = NULL;
    if (d->flushw.db &&
        dispatch_db_connect(d, &d->claimw.db) != HUB_OK)
        d->claimw.db = NULL;
    if (d->claimw.db &&
        dispatch_db_connect(d, &d->listen_db) != HUB_OK)
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
    d->curl_timer = evtimer_new(d->base, multi_on_timeout, d);
    d->turn = evtimer_new(d->base, on_tick_turn, d);
    d->wake_ev = event_new(d->base, d->wake_pipe[0], EV_READ | EV_PERSIST,
                           on_wake, d);
    if (!d->tick || !d->curl_timer || !d->turn || !d->wake_ev)
        goto fail;
    if (d->proxied && resolver_open(d) != HUB_OK)
        goto fail;
    if (workers_init(d) != HUB_OK)
        goto fail;
    event_add(d->wake_ev, NULL);
    d->listen_fd = -1;
    if (d->listen_db)
        ensure_listen(d);
    curl_multi_setopt(d->multi, CURLMOPT_SOCKETFUNCTION, multi_on_socket);
    curl_multi_setopt(d->multi, CURLMOPT_SOCKETDATA, d);
    curl_multi_setopt(d->multi, CURLMOPT_TIMERFUNCTION, multi_on_timer);
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
    resolver_close(d);                  /* no lookup ran */
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

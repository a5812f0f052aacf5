/*
 * auth.c - token and certificate lookups with a direct-mapped TTL cache.
 * The cache lives on the loop thread only (no locks). Keys are hashes
 * already ("t:" + SHA-256 of the token, "c:" + certificate fingerprint), so
 * a collision simply evicts. Unknown credentials are cached for a shorter
 * time, so that a new token works quickly and one bad token sent again
 * and again is one query. Distinct bad tokens are a query each, and
 * sending one takes no credentials: at most AUTH_INFLIGHT_MAX look-ups
 * wait for the database at once, so that such a flood cannot queue ahead
 * of every partner's database work; past it a token's look-up is refused
 * as busy (503 with Retry-After), and credentials in the cache still pass.
 * A certificate's look-up for an MLLP over TLS connection or an HTTPS
 * request (auth_cert_wait) is not refused there (F236, F340: a flood of
 * tokens, which anyone can send, cut off hospital feeds): it waits in a
 * FIFO for the next slot that a finished look-up frees, ahead of any new
 * token. Only a partner can make one (the handshake verified its
 * certificate against the partners' CA), each connection has at most one
 * out (an MLLP one that closes takes its own back, auth_cancel; evhttp
 * reads nothing more of an HTTPS one until its request is answered), so
 * the queue is bounded by the two connection limits and the database
 * work by AUTH_INFLIGHT_MAX as before.
 *
 * Revocation at once (F211): a connection of its own LISTENs on hub_auth,
 * which the triggers of api_tokens, cert_bindings and organizations
 * notify in the transaction that changes a credential or a scope. A
 * notification flushes the whole cache: changes are operators' acts (a
 * few a day), a flush is one increment (each slot keeps the generation it
 * was filled in, a lookup in flight across a flush is not cached), and it
 * costs one query per credential in use on the next request; dropping
 * single entries would have to know which tokens and certificates an
 * organization's scope change touches. The link is connected and LISTENs
 * on a pool thread; the loop only reads what arrived (PQconsumeInput,
 * which does not block) when its descriptor is readable and before each
 * cache hit. While it is down (not yet up, lost, reconnecting: every
 * AUTH_RELISTEN_S) nothing new is cached longer than AUTH_UNHEARD_TTL,
 * what was cached before the loss stays, and the whole cache is flushed
 * once LISTEN is back, since notifications may have been missed
 * meanwhile. auth_cache_ttl stays the backstop (a link that died without
 * a word: TCP keepalives end it within a minute or so; a link that cannot
 * be made again while the database answers otherwise).
 */
#include "auth.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dbpool.h"
#include "log.h"

#define AUTH_SLOTS 1024
#define AUTH_INFLIGHT_MAX 256
#define AUTH_UNHEARD_TTL 1          /* seconds, while not listening */
#define AUTH_RELISTEN_S 1           /* between attempts to LISTEN again */
#define AUTH_CHANNEL "hub_auth"

struct slot {
    char key[72];
    int rc;                         /* HUB_OK or HUB_EAUTH */
    struct principal who;
    uint64_t expires_ns;            /* monotonic (mono_ns) */
    uint64_t gen;                   /* a->gen when filled */
};

struct auth {
    struct dbpool *db;
    int ttl;
    size_t inflight;                /* look-ups submitted, not yet done */
    struct lookup *wait_head;       /* certificates waiting for a slot */
    struct lookup *wait_tail;
    uint64_t gen;                   /* a flush makes every slot stale */
    /* the LISTEN hub_auth link (auth_listen), loop thread only */
    struct event_base *base;
    char *url;
    struct store *listen_db;        /* NULL while down */
    struct event *listen_ev;        /* its descriptor readable */
    struct event *retry_ev;         /* connect again */
    bool connecting;                /* a connect job is out */
    bool heard;                     /* listened once since auth_listen */
    struct slot slots[AUTH_SLOTS];
};

struct lookup {
    struct auth *a;
    char key[72];
    struct principal who;
    uint64_t gen;                   /* a->gen when submitted */
    uint64_t asked_ns;              /* submitted: its entry's age counts */
    auth_cb cb;
    void *arg;
    struct lookup *next;            /* in the waiting queue */
};

struct listen_job {
    struct auth *a;
    struct store *s;                /* connected and listening, or NULL */
};

/* The cache's clock: an entry lives `ttl` seconds from its look-up's
 * submission, before the database read it, so never longer than that
 * after the read; not whole seconds of time(), which gave an entry
 * between ttl - 1 and ttl (none at all for a look-up answered just
 * before a second turned, with auth_cache_ttl = 1: F580), and a wall
 * clock stepped back kept entries past any revocation's bound. */
static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void auth_sha256_hex(const char *s, size_t len, char out[65])
{
    store_sha256_hex(s, len, out);
}

int auth_new(struct dbpool *db, int ttl, struct auth **out)
{
    struct auth *a = calloc(1, sizeof(*a));
    if (a == NULL)
        abort();
    a->db = db;
    a->ttl = ttl;
    *out = a;
    return HUB_OK;
}

static void listen_down(struct auth *a)
{
    if (a->listen_ev)
        event_free(a->listen_ev);
    a->listen_ev = NULL;
    store_free(a->listen_db);
    a->listen_db = NULL;
}

void auth_free(struct auth *a)
{
    if (a == NULL)
        return;
    while (a->wait_head) {          /* never submitted: no callback */
        struct lookup *l = a->wait_head;
        a->wait_head = l->next;
        free(l);
    }
    listen_down(a);
    if (a->retry_ev)
        event_free(a->retry_ev);
    free(a->url);
    free(a);
}

/* Forget every cached answer (a lookup in flight is not cached either). */
static void auth_flush(struct auth *a)
{
    a->gen++;
}

bool auth_ready(const struct auth *a)
{
    return a->heard;
}

/* Read what the link has (never waits): flush on a notification; on a
 * broken link, drop it and connect again (the flush comes once it is
 * back). */
static void listen_poll(struct auth *a)
{
    if (a->listen_db == NULL)
        return;
    int n = store_notifications(a->listen_db);
    if (n > 0) {
        auth_flush(a);
        log_info("auth.flushed", "why=notify n=%d", n);
    } else if (n < 0) {
        /* what is cached holds as of now (every notification before is
         * read); what comes next may be missed: nothing new is cached long
         * and all is flushed once LISTEN is back. Kept meanwhile, since the
         * link usually goes with the database, and then cached
         * credentials still reach the ingest's own answer (503, why). */
        listen_down(a);
        log_warn("auth.listen_lost", "channel=%s", AUTH_CHANNEL);
        struct timeval now = { 0, 0 };
        evtimer_add(a->retry_ev, &now);
    }
}

uint64_t auth_generation(struct auth *a)
{
    listen_poll(a);
    return a->gen;
}

static void on_listen(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    listen_poll(arg);
}

/* pool thread: a connection of its own (the pool's serve requests). The
 * job checks the pool's link as well: it keeps a worker busy, so the
 * worker skips its idle check, and a link broken by an outage would
 * otherwise be left for the next request to fail on. */
static int listen_work(struct store *pool_s, void *arg)
{
    struct listen_job *j = arg;
    if (store_ping(pool_s) != HUB_OK)
        return HUB_EDB;             /* the pool connects again first */
    if (store_connect_as(j->a->url, "hub-auth-listen", &j->s) != HUB_OK) {
        j->s = NULL;
        return HUB_EDB;
    }
    int rc = store_listen(j->s, AUTH_CHANNEL);
    if (rc != HUB_OK) {
        store_free(j->s);
        j->s = NULL;
    }
    return rc;
}

static void listen_done(int rc, void *arg)
{
    struct listen_job *j = arg;
    struct auth *a = j->a;
    struct timeval later = { AUTH_RELISTEN_S, 0 };

    a->connecting = false;
    int fd = j->s ? store_socket(j->s) : -1;
    if (rc != HUB_OK || fd < 0) {
        store_free(j->s);
        free(j);
        evtimer_add(a->retry_ev, &later);
        return;
    }
    a->listen_db = j->s;
    free(j);
    a->listen_ev = event_new(a->base, fd, EV_READ | EV_PERSIST, on_listen, a);
    if (a->listen_ev == NULL || event_add(a->listen_ev, NULL) != 0) {
        listen_down(a);
        evtimer_add(a->retry_ev, &later);
        return;
    }
    /* what was cached while no one listened may have missed a revocation */
    auth_flush(a);
    a->heard = true;
    log_info("auth.listening", "channel=%s flushed=1", AUTH_CHANNEL);
    listen_poll(a);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    struct auth *a = arg;
    struct timeval later = { AUTH_RELISTEN_S, 0 };
    (void)fd;
    (void)what;

    if (a->listen_db || a->connecting)
        return;
    struct listen_job *j = calloc(1, sizeof(*j));
    if (j == NULL)
        abort();
    j->a = a;
    if (dbpool_submit(a->db, listen_work, listen_done, j) != HUB_OK) {
        free(j);                    /* the queue is full: later */
        evtimer_add(a->retry_ev, &later);
        return;
    }
    a->connecting = true;
}

int auth_listen(struct auth *a, struct event_base *base, const char *url)
{
    struct timeval now = { 0, 0 };

    a->base = base;
    a->url = strdup(url);
    a->retry_ev = evtimer_new(base, on_retry, a);
    if (a->url == NULL || a->retry_ev == NULL)
        abort();
    evtimer_add(a->retry_ev, &now);
    return HUB_OK;
}

static struct slot *slot_of(struct auth *a, const char *key)
{
    /* FNV-1a over the key; keys are already uniformly random hex */
    uint32_t h = 2166136261u;
    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return &a->slots[h % AUTH_SLOTS];
}

static int work(struct store *s, void *arg)
{
    struct lookup *l = arg;
    int rc = l->key[0] == 't' ? store_auth_token(s, l->key + 2, &l->who)
                              : store_auth_cert(s, l->key + 2, &l->who);
    if (rc == HUB_ENOTFOUND)
        rc = HUB_EAUTH;
    return rc;
}

static void done(int rc, void *arg);

/* Start look-ups that wait while there is a slot. Called before the
 * callback of the look-up that freed one runs, so that no look-up the
 * callback makes takes the slot first. One the pool cannot queue now (its
 * queue full) is answered busy, as it would have been at once. */
static void start_waiting(struct auth *a)
{
    while (a->wait_head && a->inflight < AUTH_INFLIGHT_MAX) {
        struct lookup *l = a->wait_head;
        a->wait_head = l->next;
        if (a->wait_head == NULL)
            a->wait_tail = NULL;
        l->next = NULL;
        l->gen = a->gen;
        l->asked_ns = mono_ns();
        if (dbpool_submit(a->db, work, done, l) != HUB_OK) {
            l->cb(HUB_EBUSY, NULL, l->arg);
            free(l);
            continue;
        }
        a->inflight++;
    }
}

static void done(int rc, void *arg)
{
    struct lookup *l = arg;
    struct auth *a = l->a;

    a->inflight--;
    start_waiting(a);
    /* an answer read before a flush may predate the revocation that
     * caused it: it serves this request, it is not kept */
    if ((rc == HUB_OK || rc == HUB_EAUTH) && l->gen == a->gen) {
        struct slot *s = slot_of(a, l->key);
        int ttl = rc == HUB_OK ? a->ttl : a->ttl / 6;
        if (a->listen_db == NULL && ttl > AUTH_UNHEARD_TTL)
            ttl = AUTH_UNHEARD_TTL;
        /* a token's expiry sends no notification: its entry ends with it */
        if (rc == HUB_OK && l->who.valid_s >= 0 && ttl > l->who.valid_s)
            ttl = (int)l->who.valid_s;
        snprintf(s->key, sizeof(s->key), "%s", l->key);
        s->rc = rc;
        s->who = l->who;
        s->expires_ns = l->asked_ns + (uint64_t)ttl * 1000000000u;
        s->gen = a->gen;
    }
    if (rc != HUB_OK && rc != HUB_EAUTH)
        log_warn("auth.lookup_failed", "kind=%c code=%s", l->key[0],
                 hub_strerror(rc));
    l->cb(rc, rc == HUB_OK ? &l->who : NULL, l->arg);
    free(l);
}

static int lookup(struct auth *a, const char *key, struct principal *out,
                  auth_cb cb, void *arg, bool wait)
{
    struct slot *s = slot_of(a, key);
    listen_poll(a);                 /* a revocation that just arrived */
    if (a->ttl > 0 && s->gen == a->gen && !strcmp(s->key, key) &&
        s->expires_ns > mono_ns()) {
        if (s->rc == HUB_OK)
            *out = s->who;
        return s->rc;
    }
    /* those already waiting go first */
    bool full = a->inflight >= AUTH_INFLIGHT_MAX || a->wait_head != NULL;
    if (full && !wait)
        return HUB_EBUSY;
    struct lookup *l = calloc(1, sizeof(*l));
    if (l == NULL)
        abort();
    l->a = a;
    l->gen = a->gen;
    snprintf(l->key, sizeof(l->key), "%s", key);
    l->cb = cb;
    l->arg = arg;
    if (full) {
        if (a->wait_tail)
            a->wait_tail->next = l;
        else
            a->wait_head = l;
        a->wait_tail = l;
        return HUB_ESHORT;
    }
    l->asked_ns = mono_ns();
    if (dbpool_submit(a->db, work, done, l) != HUB_OK) {
        free(l);
        return HUB_EBUSY;
    }
    a->inflight++;
    return HUB_ESHORT;
}

int auth_token(struct auth *a, const char *token, struct principal *out,
               auth_cb cb, void *arg)
{
    char key[72] = "t:";
    size_t n = strlen(token);
    if (n == 0 || n > 512)
        return HUB_EAUTH;
    auth_sha256_hex(token, n, key + 2);
    return lookup(a, key, out, cb, arg, false);
}

static int cert(struct auth *a, const char *fingerprint,
                struct principal *out, auth_cb cb, void *arg, bool wait)
{
    char key[72] = "c:";
    if (strlen(fingerprint) != 64)
        return HUB_EAUTH;
    memcpy(key + 2, fingerprint, 65);
    return lookup(a, key, out, cb, arg, wait);
}

int auth_cert(struct auth *a, const char *fingerprint, struct principal *out,
              auth_cb cb, void *arg)
{
    return cert(a, fingerprint, out, cb, arg, false);
}

int auth_cert_wait(struct auth *a, const char *fingerprint,
                   struct principal *out, auth_cb cb, void *arg)
{
    return cert(a, fingerprint, out, cb, arg, true);
}

bool auth_cancel(struct auth *a, void *arg)
{
    struct lookup **pp = &a->wait_head, *prev = NULL;

    for (; *pp; prev = *pp, pp = &(*pp)->next) {
        struct lookup *l = *pp;
        if (l->arg != arg)
            continue;
        *pp = l->next;
        if (a->wait_tail == l)
            a->wait_tail = prev;
        free(l);
        return true;
    }
    return false;
}

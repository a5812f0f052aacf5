/*
 * auth.c - token and certificate lookups with a direct-mapped TTL cache.
 * The cache lives on the loop thread only (no locks). Keys are hashes
 * already ("t:" + SHA-256 of the token, "c:" + certificate fingerprint), so
 * a collision simply evicts. Unknown credentials are cached for a shorter
 * time, so that a new token works quickly and one bad token sent again
 * and again is one query. Distinct bad tokens are a query each, and
 * sending one takes no credentials: at most AUTH_INFLIGHT_MAX look-ups
 * wait for the database at once, so that such a flood cannot queue ahead
 * of every partner's database work; past it a look-up is refused as busy
 * (503 with Retry-After), and credentials in the cache still pass.
 */
#include "auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dbpool.h"
#include "log.h"

#define AUTH_SLOTS 1024
#define AUTH_INFLIGHT_MAX 256

struct slot {
    char key[72];
    int rc;                         /* HUB_OK or HUB_EAUTH */
    struct principal who;
    time_t expires;
};

struct auth {
    struct dbpool *db;
    int ttl;
    size_t inflight;                /* look-ups submitted, not yet done */
    struct slot slots[AUTH_SLOTS];
};

struct lookup {
    struct auth *a;
    char key[72];
    struct principal who;
    auth_cb cb;
    void *arg;
};

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

void auth_free(struct auth *a)
{
    free(a);
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

static void done(int rc, void *arg)
{
    struct lookup *l = arg;
    struct auth *a = l->a;

    a->inflight--;
    if (rc == HUB_OK || rc == HUB_EAUTH) {
        struct slot *s = slot_of(a, l->key);
        snprintf(s->key, sizeof(s->key), "%s", l->key);
        s->rc = rc;
        s->who = l->who;
        s->expires = time(NULL) + (rc == HUB_OK ? a->ttl : a->ttl / 6);
    }
    if (rc != HUB_OK && rc != HUB_EAUTH)
        log_warn("auth.lookup_failed", "kind=%c code=%s", l->key[0],
                 hub_strerror(rc));
    l->cb(rc, rc == HUB_OK ? &l->who : NULL, l->arg);
    free(l);
}

static int lookup(struct auth *a, const char *key, struct principal *out,
                  auth_cb cb, void *arg)
{
    struct slot *s = slot_of(a, key);
    if (a->ttl > 0 && !strcmp(s->key, key) && s->expires > time(NULL)) {
        if (s->rc == HUB_OK)
            *out = s->who;
        return s->rc;
    }
    if (a->inflight >= AUTH_INFLIGHT_MAX)
        return HUB_EBUSY;
    struct lookup *l = calloc(1, sizeof(*l));
    if (l == NULL)
        abort();
    l->a = a;
    snprintf(l->key, sizeof(l->key), "%s", key);
    l->cb = cb;
    l->arg = arg;
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
    return lookup(a, key, out, cb, arg);
}

int auth_cert(struct auth *a, const char *fingerprint, struct principal *out,
              auth_cb cb, void *arg)
{
    char key[72] = "c:";
    if (strlen(fingerprint) != 64)
        return HUB_EAUTH;
    memcpy(key + 2, fingerprint, 65);
    return lookup(a, key, out, cb, arg);
}

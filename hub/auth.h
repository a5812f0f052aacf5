/*
 * auth.h - who is calling: bearer tokens (looked up by their SHA-256, never
 * stored or logged in clear) and client-certificate fingerprints, both
 * resolved to a principal (organization + scopes) through the store, with a
 * small TTL cache on the loop thread so that a busy sender does not cost a
 * query per request. Revocation takes effect within the TTL.
 */
#ifndef HUB_AUTH_H
#define HUB_AUTH_H

#include "common/hub_err.h"
#include "store.h"

struct auth;
struct dbpool;

typedef void (*auth_cb)(int rc, const struct principal *who, void *arg);

int auth_new(struct dbpool *db, int ttl_seconds, struct auth **out)
    __attribute__((warn_unused_result));
void auth_free(struct auth *a);

/*
 * Resolve a bearer token or a certificate fingerprint (hex SHA-256 of the
 * DER). Returns HUB_OK with *out filled when known from the cache,
 * HUB_EAUTH when known to be bad, HUB_EBUSY when it is not in the cache
 * and too many look-ups wait already (or the pool's queue is full), or
 * HUB_ESHORT when a lookup was started:
 * then cb(rc, who, arg) runs later on the loop thread with HUB_OK,
 * HUB_EAUTH, or HUB_EDB/HUB_EBUSY (cannot tell now). `arg` must stay valid
 * until then.
 */
int auth_token(struct auth *a, const char *token, struct principal *out,
               auth_cb cb, void *arg);
int auth_cert(struct auth *a, const char *fingerprint, struct principal *out,
              auth_cb cb, void *arg);

/* hex SHA-256 of a string (the form tokens are stored in) */
void auth_sha256_hex(const char *s, size_t len, char out[65]);

#endif

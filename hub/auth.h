/*
 * auth.h - who is calling: bearer tokens (looked up by their SHA-256, never
 * stored or logged in clear) and client-certificate fingerprints, both
 * resolved to a principal (organization + scopes) through the store, with a
 * small TTL cache on the loop thread so that a busy sender does not cost a
 * query per request. A credential revoked, or a scope withdrawn, takes
 * effect at once on every hubd that listens (auth_listen: NOTIFY hub_auth
 * from the database's triggers flushes the cache), within the TTL at worst.
 */
#ifndef HUB_AUTH_H
#define HUB_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "common/hub_err.h"
#include "store.h"

struct auth;
struct dbpool;
struct event_base;

typedef void (*auth_cb)(int rc, const struct principal *who, void *arg);

int auth_new(struct dbpool *db, int ttl_seconds, struct auth **out)
    __attribute__((warn_unused_result));
void auth_free(struct auth *a);

/*
 * LISTEN hub_auth on a connection of its own to `url`, made (and made
 * again whenever it breaks, every second until it works) by a job of the
 * pool: the loop never waits on it. Each notification flushes the cache,
 * and so does the link's return after a loss (notifications may have been
 * missed). Until it listens, nothing new is cached longer than a second.
 * Without auth_listen, the TTL alone bounds how long a revoked credential
 * works.
 */
int auth_listen(struct auth *a, struct event_base *base, const char *url)
    __attribute__((warn_unused_result));
/* Whether the hub_auth link has been up since auth_listen: until then
 * hubd is not ready (GET /readyz), so that no node takes traffic before it
 * can hear a revocation. A later loss does not make it unready (a node
 * that cannot open one more connection keeps serving; its cache waits for
 * the link, see above). */
bool auth_ready(const struct auth *a);
/* A number that changes with each flush (notifications read first): a
 * long-lived connection that checked its credential at one value checks it
 * again when it differs. */
uint64_t auth_generation(struct auth *a);

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
/*
 * As auth_cert, but at the cap the look-up is not refused: it waits for
 * the next slot a finished look-up frees (HUB_ESHORT, cb later), ahead of
 * any look-up made after it, token or certificate; HUB_EBUSY only when
 * the pool's queue is full. For certificates the partners' CA verified,
 * over MLLP over TLS (a closed connection is a feed down until the
 * sender's retry) and HTTPS (F340: a 503 cut partners off while anyone's
 * tokens held the cap): only a partner can make one, so floods of
 * look-ups that anyone can send stay refused at the cap. At most one per
 * `arg` should wait, and the caller bounds how many args there are (one
 * per connection).
 */
int auth_cert_wait(struct auth *a, const char *fingerprint,
                   struct principal *out, auth_cb cb, void *arg);
/* Drop the waiting look-up made with `arg`, if one has not started: its
 * cb will not run (returns true). One already started runs to its cb. */
bool auth_cancel(struct auth *a, void *arg);

/* hex SHA-256 of a string (the form tokens are stored in) */
void auth_sha256_hex(const char *s, size_t len, char out[65]);

#endif

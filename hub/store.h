/*
 * store.h - the hub's only door to PostgreSQL (store.c alone includes
 * <libpq-fe.h>). One `struct store` is one connection, used by one thread at
 * a time. Database errors are logged as SQLSTATE and constraint name, never
 * PQerrorMessage(), whose DETAIL can quote row values.
 *
 * All ingest writes go through store_ingest_batch(): ONE transaction writes
 * every message of a batch (raw bytes, or quarantine with its error), its
 * canonical events (with patient identity linked) and the audit rows, so a
 * caller may acknowledge a message only after it returned HUB_OK. Routing
 * (delivery rows, the outbox) joins the same transaction.
 */
#ifndef HUB_STORE_H
#define HUB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/canon.h"
#include "common/slice.h"

struct store;

#define STORE_ID_LEN 26             /* time-ordered ids, Crockford base32 */

enum store_scope {
    SCOPE_INGEST = 1u << 0,
    SCOPE_SUBSCRIBE = 1u << 1,
    SCOPE_ROSTER = 1u << 2,
    SCOPE_REPORT = 1u << 3,
    SCOPE_ADMIN = 1u << 4,
};

/* Who is calling: the organization an mTLS cert or a token is bound to. */
struct principal {
    char org_id[64];
    unsigned scopes;                /* enum store_scope bits */
};

/* Connect; HUB_EDB when the server is unreachable. */
int store_connect(const char *url, struct store **out)
    __attribute__((warn_unused_result));
void store_free(struct store *s);
/* Cheap liveness check (SELECT 1); reconnects once if the link broke. */
int store_ping(struct store *s);

/* Apply schemas/migrations/NNN_*.sql not yet recorded, in order, each in its
 * own transaction, under an advisory lock (safe with several hubd). */
int store_migrate(struct store *s, const char *dir);

/* One inbound message, as the ingest transaction sees it. */
struct store_msg {
    const char *org_id;             /* authenticated sender, never MSH-4 */
    const char *format;             /* "hl7v2", "fhir", "ccda", "csv" */
    struct slice key;               /* idempotency key within the org (MSH-10,
                                       Idempotency-Key...); empty: none */
    struct slice raw;               /* the exact bytes received */
    char sha256[65];                /* hex of raw, for logs and audit */
    char received_at[32];           /* ISO 8601 UTC with milliseconds */
    bool accepted;                  /* false: stored in quarantine */
    struct slice error_json;        /* when rejected: {"code","field",...} */
    struct slice reply;             /* the ACK / response body to the sender;
                                       kept so a re-send gets the same one */
    const struct canon_event *ev;   /* events of an accepted message */
    size_t n_ev;
    const char (*ev_id)[STORE_ID_LEN + 1]; /* hub ids given to ev[i] */
};

struct store_msg_result {
    bool duplicate;                 /* (org, key) seen before: nothing new */
    char *reply;                    /* malloc'd stored reply, when duplicate */
    size_t reply_len;
    char *event_ids_json;           /* malloc'd JSON array of the event ids
                                       (the first ones, when duplicate) */
    int64_t message_seq;            /* the stored message's id */
};

/*
 * Write a batch in one transaction. On HUB_OK every res[i] is filled; on
 * HUB_EDB nothing was committed and the caller retries (idempotency makes a
 * retry after an unknown outcome safe).
 */
int store_ingest_batch(struct store *s, const struct store_msg *m, size_t n,
                       struct store_msg_result *res)
    __attribute__((warn_unused_result));
void store_msg_result_release(struct store_msg_result *r);

/* Bearer token (hex SHA-256 of the token) or certificate fingerprint (hex
 * SHA-256 of the DER) to a principal; HUB_ENOTFOUND when unknown/revoked. */
int store_auth_token(struct store *s, const char *token_sha256,
                     struct principal *out);
int store_auth_cert(struct store *s, const char *fingerprint,
                    struct principal *out);

/*
 * The pull feed: events after `after` (0 = from the start) that `who` may
 * see (what it sent, what was routed to it, everything for admin), optional
 * topic pattern ("adt.*"), optional lower bound on occurred_at, at most
 * `limit`. *json_out is a malloc'd {"events":[...],"next":"<cursor>"}.
 * The read is audited.
 */
int store_events_page(struct store *s, const struct principal *who,
                      int64_t after, const char *topic, const char *since,
                      int limit, char **json_out);

/* Generate a time-ordered id (48-bit ms time + 80 random bits, base32). */
void store_new_id(char out[STORE_ID_LEN + 1]);

#endif

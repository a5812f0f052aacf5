/*
 * storetest.h - what the store-level tests share: a fresh database with the
 * store connected and the organizations a test needs, one-value queries
 * that fail the test on a database error, and subscriptions made through
 * subs.h (as the API and hubctl make them). Every helper asserts with
 * Criterion, so a failed step fails the calling test where it happened.
 */
#ifndef HUB_STORETEST_H
#define HUB_STORETEST_H

#include <stdbool.h>
#include <stddef.h>

struct store;

struct storetest_org {
    const char *id, *name, *kind;
    unsigned scopes;
};

/* The pair most routing and delivery tests need: "hosp" (hospital, may
 * ingest) and "cbo" (cbo, may subscribe). */
extern const struct storetest_org storetest_hosp_cbo[2];

/* A fresh migrated database (its URL, malloc'd, in *url), the store
 * connected to it, and orgs[0..n) added by actor "test". */
struct store *storetest_open(char **url, const struct storetest_org *orgs,
                             size_t n);
/* Frees the store and drops the database; both pointers become NULL. */
void storetest_close(struct store **s, char **url);

/* The first column of the first row, malloc'd; NULL for no row or NULL. */
char *storetest_text(struct store *s, const char *sql);
/* The same as a number; -1 for no row or NULL. */
long storetest_long(struct store *s, const char *sql);
/* storetest_long until it gives `want` or timeout_ms pass; the last value */
long storetest_wait_long(struct store *s, const char *sql, long want,
                         int timeout_ms);

/* Ingests one accepted message of `org` in `format` carrying one event
 * (its raw bytes are the body); `key` is the message key. */
void storetest_ingest(struct store *s, const char *org, const char *format,
                      const char *key, const char *type, const char *body);
/* The same, returning store_ingest_batch's code instead of asserting it
 * (usable from a thread other than the test's). */
int storetest_ingest_rc(struct store *s, const char *org, const char *format,
                        const char *key, const char *type, const char *body);
/* Claims up to `max` due deliveries (`per` per endpoint) for `node` with a
 * lease of lease_ms; their ids and lease tokens by id, into ids[] and
 * tokens[] (room for `max`). Returns the count. */
int storetest_claim(struct store *s, const char *node, int lease_ms, int max,
                    int per, long *ids, long *tokens);

/* The WAL's insert and flush positions now ("0/1A2B3C"), malloc'd. */
char *storetest_wal_insert(struct store *s);
char *storetest_wal_flushed(struct store *s);
/* Whether a transaction that ran hub_durable() (its 'hub.durable' logical
 * message) wrote that message at or after `from` and its commit record
 * before `flushed` (a flush position read earlier): the wait that makes
 * what a caller read durable before it is shown. Read from the WAL with
 * pg_walinspect (the extension is created here). */
bool storetest_durable_between(struct store *s, const char *from,
                               const char *flushed);

/* Creates a subscription of `org` from its JSON (actor "test") and writes
 * its id into id[64]. */
void storetest_sub(struct store *s, const char *org, const char *json,
                   char id[64]);
/* The value of the first "id" member of a JSON answer (subs.h, hubctl)
 * into id[64]. */
void storetest_json_id(const char *json, char id[64]);

#endif

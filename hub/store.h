/*
 * store.h - the hub's only door to PostgreSQL (the store files alone include
 * <libpq-fe.h>: store_int.h). One `struct store` is one connection, used by one thread at
 * a time. Database errors are logged as SQLSTATE and constraint name, never
 * PQerrorMessage(), whose DETAIL can quote row values.
 *
 * All ingest writes go through store_ingest_batch(): ONE transaction writes
 * every message of a batch (raw bytes, or quarantine with its error), its
 * canonical events (with patient identity linked) and the audit rows, so a
 * caller may acknowledge a message only after it returned HUB_OK. Routing
 * (delivery rows, the outbox) joins the same transaction.
 *
 * Durability: that transaction commits without waiting for its WAL flush
 * (the chain lock it holds is released at once); store_ingest_batch returns
 * HUB_OK only after a later transaction of its own (hub_durable()) committed
 * synchronously, which flushes the batch's commit too. Anything else that
 * shows ingested data outside (the feed, the audit and delivery reads) does
 * the same after its read: see "Durability" in 001_init.sql.
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
    long valid_s;                   /* a token: seconds before it expires,
                                       by the database's clock; -1: never */
};

/* Connect to a libpq URL, e.g. postgresql://postgres@127.0.0.1:54329/hub
 * ?host=/path/to/socket (deploy/devdb.sh url). Defaults the URL may
 * override: connect_timeout=5, TCP keepalives after 15 s, tcp_user_timeout
 * 30 s. HUB_EDB when the server is unreachable, HUB_EINVALID for "". */
int store_connect(const char *url, struct store **out)
    __attribute__((warn_unused_result));
/* store_connect with the application_name PostgreSQL shows for the
 * connection in pg_stat_activity ("hub" for store_connect), so that an
 * operator (or a test) can tell hubd's connections apart. */
int store_connect_as(const char *url, const char *app, struct store **out)
    __attribute__((warn_unused_result));
/* store_connect_as whose session waits at most lock_timeout_ms (0: as
 * long as PostgreSQL's default) for a lock: a statement that waited
 * longer fails with HUB_EBUSY and the link stays usable. The URL's own
 * `options` (else PGOPTIONS) are kept before it; a server or pooler that
 * takes no `options` (PgBouncer's default) gets a session without the
 * bound, said once in the log as store.lock_timeout_refused. */
int store_connect_limited(const char *url, const char *app,
                          int lock_timeout_ms, struct store **out)
    __attribute__((warn_unused_result));
/* store_connect, and on failure why in `why` (else ""), for an operator's
 * terminal (hubctl), never a log (STYLE.md 7): libpq's words, which name
 * the host, port, role and database but never the password; a URL that
 * does not parse is said to, not quoted (its text may hold a password). */
int store_connect_why(const char *url, struct store **out, char *why,
                      size_t n) __attribute__((warn_unused_result));
/* HUB_OK when libpq can parse `url`, else HUB_EINVALID and why (never the
 * URL): no connection is made, so hubd --check-config can refuse a URL
 * that no retry would ever connect with. */
int store_url_check(const char *url, char *why, size_t n)
    __attribute__((warn_unused_result));
void store_free(struct store *s);
/* Cheap liveness check (SELECT 1); reconnects once if the link broke. */
int store_ping(struct store *s);

/*
 * Client-side deadlines (F663, F664). The server's own bounds
 * (lock_timeout) run on the backend's clock, and a backend that does not
 * run (stopped, in uninterruptible I/O on a hung volume) answers nothing
 * while its kernel still acknowledges every TCP segment, so neither they
 * nor the keepalives end the wait. Every statement of the store is sent
 * and waited for on this side, with poll():
 *
 * store_set_statement_timeout: a statement (with its prepare and its
 * conflict retries) of this session not answered within ms (0: none) is
 * cut: HUB_EBUSY, the link closed on this side; the next call sends the
 * server a cancel for it (PQcancel, so that a live backend stops its
 * work) and opens the session again. Whether a cut write committed is
 * unknown, as with any lost link.
 */
void store_set_statement_timeout(struct store *s, int ms);
/* How many statements of this session were cut at their deadline. */
unsigned long store_cuts(const struct store *s);
/* For the whole process, from now on: a statement of any session waits
 * at most grace_ms past the later of its start and this call, then is cut
 * (those waiting are woken at once), and no link is opened or opened
 * again (HUB_EDB at once: a server that takes no connection would hold
 * each connect for connect_timeout). hubd calls it once its drain ended,
 * so that its threads can be joined within the grace whatever the
 * database does. Thread-safe; the first call holds. */
void store_stop_waiting(int grace_ms);
/* Wait until every commit this session could see so far is durable: a
 * transaction that runs hub_durable() and commits synchronously. Call it
 * after a read of ingested data (events, audit rows, deliveries) and before
 * the answer leaves the hub: an ingest is visible before its WAL flush. */
int store_durable(struct store *s) __attribute__((warn_unused_result));

/* Apply schemas/migrations/NNN_*.sql not yet recorded in schema_migrations,
 * in order, each in its own transaction under a transaction-scoped advisory
 * lock (safe with several hubd at once, and behind a transaction pooler).
 * An applied file that was edited since is logged, not applied again. */
int store_migrate(struct store *s, const char *dir);

/* The first file of `dir` (NNN_*.sql, in order) not recorded in
 * schema_migrations, copied to `name` ("" when every one is): a hubd that
 * does not migrate checks at start that `hubctl migrate` ran. HUB_EDB
 * when the database cannot be asked, HUB_EIO when `dir` cannot be read. */
int store_migration_missing(struct store *s, const char *dir, char *name,
                            size_t n) __attribute__((warn_unused_result));

/* One inbound message, as the ingest transaction sees it. */
struct store_msg {
    const char *org_id;             /* authenticated sender, never MSH-4 */
    const char *format;             /* "hl7v2", "fhir", "ccda", "csv" */
    struct slice key;               /* idempotency key within the org (MSH-10,
                                       Idempotency-Key...); empty: none */
    struct slice old_key;           /* the form `key` had before a change of
                                       it (a CSV upload's, with its file
                                       names: F4080); an accepted message
                                       that holds it makes this one its
                                       re-send, stored under it. Empty:
                                       none */
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
    bool part;                      /* a refused part (quarantined) of the
                                       nearest earlier message of the batch
                                       that is not one: not stored again
                                       when that message is a duplicate
                                       (its parts were stored with it) */
    int64_t retry_token;            /* the same at each retry of its
                                       job, never given again (0: none);
                                       a retry finds the row its first
                                       try stored by it and stores (and
                                       audits) nothing (011_retry_once,
                                       013_retry_accepted; a duplicate's
                                       is recorded: 014_retry_duplicates) */
};

struct store_msg_result {
    bool duplicate;                 /* (org, key) seen before: nothing new */
    bool kept;                      /* a duplicate with other bytes: the key
                                       used again for another message, its
                                       bytes kept in quarantine */
    char *reply;                    /* malloc'd stored reply, when duplicate */
    size_t reply_len;
    char *event_ids_json;           /* malloc'd JSON array of the event ids
                                       (the first ones, when duplicate) */
    int64_t message_seq;            /* the stored message's id */
};

/*
 * Write a batch in one transaction and one round trip (PL/pgSQL
 * hub_ingest_fast); an accepted message with an old_key first costs a
 * lookup of its own (the idempotency index, one row). Each event gets
 * "id", "source.org", "source.received_at" and "patient.hub_id" filled
 * in; identity linking is deterministic: a known (system, value) of
 * patient.identifiers links to its patient, else a new one is made; an
 * identifier without system is scoped by the sending org; adt.merge moves
 * patient.merged_from to the survivor.
 * On HUB_OK every res[i] is filled; on HUB_EDB nothing was committed and
 * the caller retries (idempotency makes a retry after an unknown outcome
 * safe; a batch whose identity linking raced another one is re-run here
 * at once). HUB_EINVALID:
 * the database refused a value of the batch (an event or error_json that is
 * not valid JSON, text it cannot store); nothing was committed, and retrying
 * the same batch will fail again, so retry its messages one at a time and
 * quarantine the one that fails. ev_id may be NULL: ids are then made here.
 * Duplicates inside one batch are detected too (the later one is the
 * duplicate). At most STORE_BATCH_MAX messages.
 */
#define STORE_BATCH_MAX 4096
int store_ingest_batch(struct store *s, const struct store_msg *m, size_t n,
                       struct store_msg_result *res)
    __attribute__((warn_unused_result));
/*
 * After store_ingest_batch's HUB_EINVALID: whether the refusal is one of
 * the hub's own (a SQLSTATE the migrations raise for a message's value,
 * or hubd's check of the same before the database is asked). True: *what
 * is its reason (static text, no value of the message) and *field the
 * event's member it is in ("" when not known); false for any other
 * refusal, which the caller names generically.
 */
bool store_ingest_refusal(const struct store *s, const char **field,
                          const char **what);
void store_msg_result_release(struct store_msg_result *r);

/* Bearer token (hex SHA-256 of the token) or certificate fingerprint (hex
 * SHA-256 of the DER) to a principal; HUB_ENOTFOUND when unknown/revoked. */
int store_auth_token(struct store *s, const char *token_sha256,
                     struct principal *out);
int store_auth_cert(struct store *s, const char *fingerprint,
                    struct principal *out);

/*
 * The pull feed: events after `after` (0 = from the start) that `who` may
 * see (what it sent, what was routed to it, everything for admin), in seq
 * order, which is commit order: a cursor never skips a later commit.
 * topic: NULL, or up to 16 comma-separated patterns of [a-z0-9.-] where '*'
 * matches anything ("adt.*,screening.positive"). since: NULL, or an ISO 8601
 * lower bound on occurred_at (no offset: UTC); until: NULL, or an exclusive
 * upper bound in the same forms (028); an event with no occurred_at is in
 * no page that either bounds. limit <= 0 means STORE_FEED_DEFAULT, capped
 * at STORE_FEED_MAX. *json_out is a malloc'd
 * {"events":[...],"next":"<cursor>"}: a full page's "next" is its last
 * event's seq; a page reads seqs up to `after` + 100,000 only, and a short
 * one's "next" passes the events there `who` does not see or the filters
 * leave out, up to the highest committed (027): it stays `after` only with
 * no event after it. HUB_EINVALID for a bad topic or bound; for a bound
 * hub_parse_ts cannot read, or an until not after since, *json_out is then
 * the malloc'd "since", "until" or "until_not_after_since". HUB_ENOTFOUND
 * for a cursor past every event the hub ever numbered (a database
 * restored from a backup, another hub's cursor): *json_out is then the
 * feed's head, the highest cursor there is, as decimal text. HUB_ELIMIT
 * for a cursor below the highest event the events retention removed that
 * `who` could read (feed_pruned, 020): *json_out is that seq, the cursor
 * to resume from, as decimal text (events below it still kept are not
 * served after the resume). The read is audited: one 'feed.read' row per
 * patient disclosed (hub_feed_page in SQL); a refusal discloses nothing and
 * writes none.
 */
int store_events_page(struct store *s, const struct principal *who,
                      int64_t after, const char *topic, const char *since,
                      const char *until, int limit, char **json_out);

/* Generate a time-ordered id (48-bit ms time + 80 random bits, base32). */
void store_new_id(char out[STORE_ID_LEN + 1]);

#define STORE_FEED_MAX 1000         /* largest page of the pull feed */
#define STORE_FEED_DEFAULT 100      /* page size when limit <= 0 */

/* Lowercase hex SHA-256 of (p, n). */
void store_sha256_hex(const void *p, size_t n, char out[65]);

/* "ingest,subscribe" <-> SCOPE_* bits. Parse: HUB_EINVALID on an unknown
 * name. Format writes a comma-separated list, truncated to fit. */
int store_scopes_parse(const char *csv, unsigned *out);
void store_scopes_format(unsigned scopes, char *out, size_t size);

/* --- administration (hubctl, the operator API); each change is audited
 * with `actor` (an org id, or "hubctl") ---------------------------------- */

/* HUB_EINVALID: bad id (^[a-z0-9][a-z0-9_.-]{0,62}$), kind, or id taken. */
int store_org_add(struct store *s, const char *actor, const char *id,
                  const char *name, const char *kind, unsigned scopes);
/* Change an org's name and/or scopes (NULL name: keep; scopes < 0: keep).
 * Its tokens keep their own scopes but are still narrowed to the org's.
 * HUB_ENOTFOUND when the org is unknown. */
int store_org_update(struct store *s, const char *actor, const char *id,
                     const char *name, long scopes);
/* Grant org exactly the sensitivity labels of `csv` ("sud,psy"; "" none)
 * that its subscriptions may opt in to (filters.sensitivity). HUB_ENOTFOUND
 * when the org is unknown; HUB_EINVALID for a label that is no
 * [a-z][a-z0-9-]*, or (store_last_sqlstate "23H01") one taken away that a
 * live subscription of the org still lists. */
int store_org_set_labels(struct store *s, const char *actor, const char *id,
                         const char *csv);
/* *json_out: malloc'd [{"id","name","kind","scopes":[..],"labels":[..],
 * "created_at"}] */
int store_org_list(struct store *s, char **json_out);
/* Say which authority org means by its own name `ns` (an HL7 v2
 * namespace): `system`, an absolute URI, or NULL to clear it
 * (hub_authority_set in the schema, 025: the identifiers org recorded
 * under the system in force before, its own name or the old map's, are
 * recorded under the one in force after too, F2783). *json_out: malloc'd
 * {"copied", "conflicts", "collisions": [{"patient", "linked"}]}: hub ids
 * of each pair left apart where the new system's value already named
 * another patient (not merged). HUB_ENOTFOUND: unknown org, or no map to clear;
 * HUB_EINVALID: ns empty, a URI or IDSYS_BY_MESSAGE (the hub's name for
 * a patient known by its message), system no URI or one in the hub's own
 * space (idsys_is_hub: "urn:hub:" in any case). */
int store_authority_set(struct store *s, const char *actor, const char *org,
                        const char *ns, const char *system, char **json_out);
/* *json_out: malloc'd [{"org","namespace","system","created_at"}], of one
 * org or (org NULL) all; HUB_ENOTFOUND for an org that does not exist */
int store_authority_list(struct store *s, const char *org, char **json_out);
/* Record a token by the hex SHA-256 of the whole token and its public
 * prefix. Its scopes are `scopes` narrowed to the org's; it expires
 * `expires_days` days from now (0: never; store_auth_token then refuses
 * it). HUB_ENOTFOUND when the org is unknown. */
int store_token_add(struct store *s, const char *actor, const char *org_id,
                    const char *token_sha256, const char *prefix,
                    unsigned scopes, int expires_days);
/* Revoke the one live token whose prefix is `prefix`, or whose hash starts
 * with it (at least 8 hex digits). HUB_ENOTFOUND when none, HUB_EINVALID
 * when several match. */
int store_token_revoke(struct store *s, const char *actor, const char *prefix);
/* *json_out: malloc'd [{"prefix","org","scopes","created_at","revoked_at"}] */
int store_token_list(struct store *s, char **json_out);
/* Bind a certificate (hex SHA-256 of its DER) to an org: a new binding,
 * a revoked one made live for this org, or this org's own again.
 * HUB_ENOTFOUND when the org is unknown; HUB_EINVALID when the
 * certificate is live-bound to another org (that binding is revoked
 * first: a certificate names one org, and a mistyped bind must not move
 * a partner's identity to another). */
int store_cert_bind(struct store *s, const char *actor, const char *org_id,
                    const char *fingerprint);
/* Revoke the live binding of a certificate (hex SHA-256 of its DER): it
 * authenticates no one from then on (hubd: at its next request, by NOTIFY
 * hub_auth; within auth_cache_ttl while its hub_auth link is down).
 * HUB_ENOTFOUND when no live binding has that fingerprint. */
int store_cert_revoke(struct store *s, const char *actor,
                      const char *fingerprint);
/* *json_out: malloc'd [{"fingerprint","org","created_at","revoked_at"}] */
int store_cert_list(struct store *s, char **json_out);

/* --- quarantine: what was refused, kept raw ------------------------------ */

/* The newest `limit` quarantined messages (of `org`, or every sender when
 * NULL), received before `before` (an ISO time as the feed's since= reads
 * it, hub_parse_ts: no offset is UTC; HUB_EINVALID when it is none; or
 * NULL: now). *json_out:
 * malloc'd [{"id","org","format","key","received_at","code","field",
 * "offset","message"}]: the hub's own error, never the message's bytes.
 * HUB_ENOTFOUND for an org that does not exist. */
int store_quarantine_list(struct store *s, const char *org,
                          const char *before, int limit, char **json_out);
/* The raw bytes of quarantined message `id` (malloc'd, *len of them), for
 * an operator to mend and send again; the reading is audited
 * ('quarantine.read' by `actor`): the bytes hold personal data.
 * HUB_ENOTFOUND when no quarantined message has that id. */
int store_quarantine_raw(struct store *s, const char *actor, const char *id,
                         char **raw, size_t *len);

/* --- the audit chain ---------------------------------------------------- */

/* Append one row (the chain lock is taken inside). detail_json: ids and
 * hashes only, never personal data; NULL for {}. patient may be NULL. */
int store_audit_append(struct store *s, const char *actor, const char *action,
                       const char *object_kind, const char *object_id,
                       const char *patient_hub_id, const char *detail_json);

struct store_audit_check {
    bool ok;
    int64_t rows_checked;           /* rows that held before the bad one */
    int64_t bad_seq;                /* first bad row (0 when ok) */
    char problem[16];               /* "changed", "removed", "reordered" */
    int64_t head_seq;               /* the last row that holds (0: none) */
    char head_hash[65];             /* its hash: record it elsewhere, and a
                                       removal of the newest rows shows */
    int64_t anchor_seq;             /* the retention anchor: the last row
                                       pruned (0: none); the walk starts
                                       after it */
};
/* Walk the chain from the retention anchor in one statement and one
 * snapshot; HUB_OK when the walk ran (see c->ok). A long chain outlasts
 * db_statement_timeout so: the route and hubctl walk in steps
 * (audit_walk.h). */
int store_audit_verify(struct store *s, struct store_audit_check *c);
/* One step of such a walk, a statement of its own: at most `limit` rows
 * after seq `after`, the first naming `prev` as its previous hash (NULL:
 * its own is taken, its content still checked against its hash; after <
 * 0: from the retention anchor, prev unused). c->rows_checked counts
 * this step's rows; c->head_seq/head_hash, the last row checked (0: none),
 * are where the next step starts; *done once the step reached the end of
 * the chain or a bad row (then durable: its head may be recorded). */
int store_audit_verify_step(struct store *s, int64_t after, const char *prev,
                            int limit, struct store_audit_check *c,
                            bool *done);
/* Does row `seq` still have hash `hash` (an anchor recorded earlier)?
 * HUB_OK yes, HUB_ENOTFOUND the row is gone, HUB_EINVALID it differs,
 * HUB_EUNSUPPORTED the retention pruned it (seq before the retention
 * anchor: nothing to compare; the anchor itself is compared). *anchor_seq
 * (may be NULL): the retention anchor seen by the same statement. */
int store_audit_check_anchor(struct store *s, int64_t seq, const char *hash,
                             int64_t *anchor_seq);
/* Audit rows after seq `after`, of one patient when patient_hub_id is not
 * NULL (the accounting of disclosures of the person: a merged-away id is
 * read as its survivor, and the rows of every patient merged into that
 * survivor are included), or of the patients an identifier names when
 * `identifier` is not NULL: "SYSTEM|VALUE" (SYSTEM as stored, or a
 * sender's own namespace as its message gave it) or "VALUE" in any system
 * (a hospital's MRN, as a patient's request for an accounting gives it).
 * *json_out: malloc'd {"audit":[{"seq","at","actor","action",
 * "object_kind","object_id","patient","detail"}],"next":"<seq>",
 * "patients":[the hub ids of the persons named, survivors] or null with
 * neither}. limit capped at STORE_FEED_MAX. HUB_EINVALID for an
 * identifier with no value; HUB_ENOTFOUND for a hub id no patient has;
 * HUB_EUNSUPPORTED for a VALUE with no SYSTEM that names more than one
 * person, *json_out NULL and *persons_out (may be NULL) their count: one
 * person's accounting never holds another's rows (F1963); HUB_ELIMIT for
 * an `after` past the chain's head, *json_out the head's seq (F3130). */
int store_audit_list(struct store *s, const char *patient_hub_id,
                     const char *identifier, int64_t after, int limit,
                     char **json_out, int *persons_out);

/* --- plain SQL, for hubctl commands, tests and small modules that need a
 * query without a dedicated function. Text parameters and results. --------
 * Errors are logged as SQLSTATE; HUB_EINVALID for SQLSTATE classes 22/23
 * (bad value, constraint), HUB_EDB otherwise. */
struct store_rows;
int store_exec(struct store *s, const char *sql);   /* may hold many stmts */
int store_query(struct store *s, const char *sql, int nparams,
                const char *const *params, struct store_rows **out)
    __attribute__((warn_unused_result));
/* store_query() as the named statement `name` (a static string, the same
 * sql at every call), prepared on its first use in each session: for a
 * statement run many times, whose parse and plan would otherwise be paid
 * at every call. Falls back to the unnamed statement when preparing fails;
 * at most 8 names per session are kept prepared. */
int store_query_prepared(struct store *s, const char *name, const char *sql,
                         int nparams, const char *const *params,
                         struct store_rows **out)
    __attribute__((warn_unused_result));
int store_rows_count(const struct store_rows *r);
/* The value at (row, col) as text, NULL when SQL NULL or out of range. */
const char *store_rows_get(const struct store_rows *r, int row, int col);
void store_rows_free(struct store_rows *r);
/* The first column of the first row, malloc'd, or NULL (no row / NULL). */
int store_query_text(struct store *s, const char *sql, int nparams,
                     const char *const *params, char **out);
/* A caller that explains a refused value itself (hubctl) turns off the
 * store.db_error line of a data exception or constraint violation (SQLSTATE
 * 22, 23: HUB_EINVALID); other database errors are still logged. */
void store_quiet_refusals(struct store *s, bool on);
/* SQLSTATE of the last failed statement ("" when none), for tests. */
const char *store_last_sqlstate(const struct store *s);


/* --- LISTEN/NOTIFY wake-ups (dispatch) ------------------------------------
 * LISTEN on a channel of ours (lowercase identifier). store_socket() is the
 * connection's descriptor to watch for readability (-1 when down; it changes
 * after a reconnect, which also forgets LISTEN: listen again).
 * store_notifications() reads what arrived and returns how many
 * notifications it drained, or HUB_EDB when the link broke. */
int store_listen(struct store *s, const char *channel);
int store_socket(const struct store *s);
int store_notifications(struct store *s);
/* The same, and fn(arg, channel, payload) for each notification drained
 * (payload "" when none; both valid only during the call). */
typedef void (*store_notify_fn)(void *arg, const char *channel,
                                const char *payload);
int store_notifications_each(struct store *s, store_notify_fn fn, void *arg);

#endif

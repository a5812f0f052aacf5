/*
 * store_int.h - what the store files share, and nothing else includes:
 * the session behind a struct store and the statement runners. The store
 * files (store.c: the session; store_ingest.c: the ingest batch;
 * store_admin.c: credentials, the feed, organizations and the audit;
 * store_migrate.c: migrations) are the hub's only door to PostgreSQL and
 * the only files that include <libpq-fe.h>.
 */
#ifndef HUB_STORE_INT_H
#define HUB_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "store.h"

/* The wait for durability (hub_durable(), 001_init.sql): a transaction of
 * its own, after the ingest's or the read's, which writes WAL and commits
 * synchronously; its commit record follows the commit record of all it
 * could see, so its flush covers them. */
#define DURABLE_STMT "hub_durable"
#define DURABLE_SQL "SELECT hub_durable()"

/* Statements store_query_prepared() keeps prepared on one session. */
#define STORE_PREPARED_MAX 8

struct store {
    PGconn *c;
    char sqlstate[6];
    char constraint[64];            /* the last failure's constraint name
                                       (PG_DIAG_CONSTRAINT_NAME), "" none */
    bool ingest_prepared;           /* INGEST_STMT exists on this session */
    bool quiet_refusals;            /* store_quiet_refusals */
    /* the names given to store_query_prepared() that exist on this session
     * (static strings, compared by address) */
    const char *prepared[STORE_PREPARED_MAX];
    int n_prepared;
    int statement_ms;               /* store_set_statement_timeout; 0 none */
    bool cut;                       /* the last wait ended at its deadline */
    unsigned long cuts;             /* store_cuts */
    PGcancel *cancel;               /* of the statement a cut left running:
                                       sent before the link opens again */
    int fence_pid;                  /* the server session, when reached
                                       directly with a deadline (0: not
                                       known; store_fence.c) */
    char fence_start[48];           /* its backend_start, as text */
    bool fence_asked;               /* this session's noted (once) */
    /* the last store_ingest_batch's refusal, one of ingest_refusals
     * (store_ingest.c), and the event's member it names; NULL: none */
    const struct ingest_refusal *refusal;
    const char *refusal_field;
};

struct store_rows {
    PGresult *r;
};

/* malloc and a copy of n bytes plus NUL; out of memory aborts (STYLE.md 4) */
void *db_xmalloc(size_t n);
char *db_xstrndup(const char *p, size_t n);

/* A failed result logged by SQLSTATE and constraint and remembered:
 * HUB_EINVALID for the caller's values (22, 23, 54), else HUB_EDB. */
int db_fail(struct store *s, const char *op, const PGresult *r);

/* Close the link on this side (s->cut set, the cancel kept): the next
 * call sends the cancel and opens the session again (db_ensure_conn). */
void db_end_link(struct store *s);

/* A committed batch's wait for durability alone again, on a new link if
 * need be, until it returns (HUB_OK) or hubd stops waiting (HUB_EDB). */
int db_durable_again(struct store *s);

/* store_fence.c (F1061): note the server session of a link with a
 * deadline; hand it, as its link ends on this side, to the list of those
 * to terminate; terminate those listed on a link that works (each only
 * while its pid has the backend_start noted). */
void db_fence_note(struct store *s);
void db_fence_keep(struct store *s);
void db_fence_send(struct store *s);

/* The link up, a broken connection reset once: HUB_OK or HUB_EDB. */
int db_ensure_conn(struct store *s);

/* Milliseconds on CLOCK_MONOTONIC: a statement's start for db_await. */
int64_t db_now_ms(void);

/* Wait, within the deadline of a statement started at start_ms
 * (store_set_statement_timeout, store_stop_waiting), until what was sent
 * on the session is flushed and its next result can be taken without
 * blocking (PQgetResult). HUB_OK; HUB_EBUSY when the deadline passed (the
 * link is then closed and s->cut set); HUB_EDB when the link failed. */
int db_await(struct store *s, const char *op, int64_t start_ms);

/* The result of what was just sent (sent: the PQsend* call's return), as
 * PQexec gives it: the last one, or the first error; NULL when nothing
 * came (a link lost, s->cut when cut at the deadline). */
PGresult *db_result(struct store *s, const char *op, int64_t start_ms,
                    int sent);

/* A statement without parameters whose rows are not wanted. */
int db_exec_cmd(struct store *s, const char *op, const char *sql);

/* A parameterised statement (text in, text out), prepared as `name` on
 * its first use in a session (NULL: unnamed), run again after a deadlock
 * or serialization failure when it is a transaction of its own. NULL on
 * failure with *rc set; else the result, which the caller clears. */
PGresult *db_run_named(struct store *s, const char *op, const char *name,
                       const char *sql, int n, const char *const *params,
                       int *rc);
PGresult *db_run(struct store *s, const char *op, const char *sql, int n,
                 const char *const *params, int *rc);

#endif

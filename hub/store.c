/*
 * store.c - the hub's one door to PostgreSQL (the only file that includes
 * <libpq-fe.h>).
 *
 * The ingest path is one round trip per batch: the batch travels as
 * parallel arrays in binary form (one element per message, one per event;
 * raw bytes and replies as bytea, no escaping) to the PL/pgSQL function
 * hub_ingest_fast() of schemas/migrations/001_init.sql, which runs in the
 * implicit transaction of that one statement and commits without waiting
 * for its WAL flush; in the same pipeline follows hub_durable() in a
 * transaction of its own, which commits synchronously, so the call returns
 * once the batch is durable (ingest_send). Before sending, each event
 * body gets the hub fields this side already knows written into its JSON
 * text, made jsonb's text form (body.c: id, source.org,
 * source.received_at, and the candidate patient.hub_id), and its
 * occurred_at parsed (occ_text), so the SQL does neither per event. Its
 * results come back in binary form too.
 *
 * Errors are logged as SQLSTATE and constraint name, never PQerrorMessage(),
 * whose DETAIL can quote row values. A broken connection is reset at the
 * start of the next call, so a caller that got HUB_EDB simply retries.
 */
#include "store.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/hub_err.h"
#include "common/jw.h"
#include "common/utf8.h"
#include "body.h"
#include "jcanon.h"
#include "log.h"
#include "readfile.h"

#define MIGRATION_MAX_BYTES (4u << 20)
#define MIGRATE_LOCK_KEY "7302100432"
#define BYTEAOID 17
#define TEXTOID 25
#define BYTEAARRAYOID 1001
#define JSONBOID 3802

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
    bool ingest_prepared;           /* INGEST_STMT exists on this session */
    bool quiet_refusals;            /* store_quiet_refusals */
    /* the names given to store_query_prepared() that exist on this session
     * (static strings, compared by address) */
    const char *prepared[STORE_PREPARED_MAX];
    int n_prepared;
};

struct store_rows {
    PGresult *r;
};

/* --- small helpers ------------------------------------------------------- */

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        abort();                    /* STYLE.md 4: out of memory aborts */
    return p;
}

static char *xstrndup(const char *p, size_t n)
{
    char *s = xmalloc(n + 1);
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* Notices can quote values: dropped, but for the health changes that
 * hub_health_apply() reports ("hub.health subscription=... from=... to=...
 * reason=... delivery=..."), which carry ids and states only; logged with
 * any other byte than those of ids and states replaced. */
static void quiet_notice(void *arg, const PGresult *res)
{
    static const char prefix[] = "hub.health ";
    const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    char line[256];
    size_t n = 0;

    (void)arg;
    if (!m || strncmp(m, prefix, sizeof(prefix) - 1) != 0)
        return;
    for (m += sizeof(prefix) - 1; *m && n < sizeof(line) - 1; m++)
        line[n++] = (isalnum((unsigned char)*m) || strchr(" =_-.", *m))
                    ? *m : '?';
    line[n] = '\0';
    log_info("subscription.health", "%s", line);
}

/*
 * Classify a failed result, log it as SQLSTATE + constraint, remember the
 * SQLSTATE. Data exceptions (22), constraint violations (23) and program
 * limits (54: an index entry over its 2.7 kB, as a 9 kB identifier value
 * makes) are the caller's values: HUB_EINVALID, which the ingest answers
 * by quarantining the message that holds them; everything else HUB_EDB,
 * retried. A 54 retried was retried for ever, and held every sender's
 * batch with it.
 */
static int db_fail(struct store *s, const char *op, const PGresult *r)
{
    const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *cons = r ? PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME)
                         : NULL;

    if (st == NULL)
        st = PQstatus(s->c) == CONNECTION_OK ? "XX000" : "08006";
    memcpy(s->sqlstate, st, strlen(st) < 5 ? strlen(st) : 5);
    s->sqlstate[strlen(st) < 5 ? strlen(st) : 5] = '\0';
    bool refused = (st[0] == '2' && (st[1] == '2' || st[1] == '3')) ||
                   (st[0] == '5' && st[1] == '4');
    if (!refused || !s->quiet_refusals)
        log_warn("store.db_error", "op=%s sqlstate=%s constraint=%s", op,
                 s->sqlstate, cons ? cons : "-");
    return refused ? HUB_EINVALID : HUB_EDB;
}

void store_quiet_refusals(struct store *s, bool on)
{
    s->quiet_refusals = on;
}

/* Failed connects, logged at most once per LINK_LOG_MS for the whole
 * process, with failures=N the connects and resets that failed since the
 * last line (this one's included): in an outage every
 * connection of hubd retries on its own back-off (committers, dispatcher,
 * API pool), which logged several lines a second for as long as it lasted. */
#define LINK_LOG_MS 10000
static pthread_mutex_t link_mu = PTHREAD_MUTEX_INITIALIZER;
static long link_failures;              /* since the last line */
static int64_t link_logged_ms;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void link_failed(const char *event, const char *sqlstate)
{
    int64_t now = mono_ms();
    pthread_mutex_lock(&link_mu);
    long n = ++link_failures;
    bool due = link_logged_ms == 0 || now - link_logged_ms >= LINK_LOG_MS;
    if (due) {
        link_logged_ms = now;
        link_failures = 0;
    }
    pthread_mutex_unlock(&link_mu);
    if (due)
        log_warn(event, "sqlstate=%s failures=%ld", sqlstate, n);
}

/* A working link again: the next failure is logged at once. */
static void link_ok(void)
{
    pthread_mutex_lock(&link_mu);
    link_logged_ms = 0;
    link_failures = 0;
    pthread_mutex_unlock(&link_mu);
}

/* Make sure the link is up: reset a broken connection once. */
static int ensure_conn(struct store *s)
{
    if (PQstatus(s->c) == CONNECTION_OK)
        return HUB_OK;
    PQreset(s->c);
    s->ingest_prepared = false;     /* a new session */
    s->n_prepared = 0;
    if (PQstatus(s->c) != CONNECTION_OK) {
        link_failed("store.reconnect_failed", "08006");
        return HUB_EDB;
    }
    link_ok();
    log_info("store.reconnected", "ok=1");
    return HUB_OK;
}

static int exec_cmd(struct store *s, const char *op, const char *sql)
{
    PGresult *r = PQexec(s->c, sql);
    int rc = HUB_OK;
    ExecStatusType st = PQresultStatus(r);

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = db_fail(s, op, r);
    PQclear(r);
    return rc;
}

/* Run a parameterised statement (text in, text out); NULL on failure with
 * *rc set. */
/* Times a statement cancelled by a deadlock or a serialization failure is
 * run again before the failure is returned. */
#define STORE_CONFLICT_TRIES 4

/*
 * One statement. When it is a transaction of its own (no transaction open
 * on the connection) and PostgreSQL cancelled it with 40P01 (deadlock) or
 * 40001 (serialization failure), it was rolled back whole: it is run again,
 * up to STORE_CONFLICT_TRIES times in all, and each retry logged by op and
 * SQLSTATE only. So the dispatcher's outcome flush, the API's and hubctl's
 * subscription and replay writes neither lose their work nor answer 500 for
 * a conflict another transaction caused (the delivery functions keep one
 * lock order, 001_init.sql, so this is the safety net, not the plan).
 */
static bool is_prepared(const struct store *s, const char *name)
{
    for (int i = 0; i < s->n_prepared; i++)
        if (s->prepared[i] == name)
            return true;
    return false;
}

/*
 * sql as the statement `name`, prepared on its first use in a session (the
 * unnamed statement is parsed, analysed and planned again on every call),
 * or unnamed when name is NULL, when STORE_PREPARED_MAX names are in use,
 * or when preparing fails. A session that does not know the name (26000:
 * behind a transaction-mode pooler the next call may reach another server
 * session) gets it prepared again, once; no session state is required.
 */
static PGresult *exec_one(struct store *s, const char *name, const char *sql,
                          int n, const char *const *params)
{
    for (int tries = 0; name && tries < 2; tries++) {
        if (!is_prepared(s, name)) {
            if (s->n_prepared == STORE_PREPARED_MAX)
                break;
            PGresult *p = PQprepare(s->c, name, sql, n, NULL);
            const char *st = PQresultErrorField(p, PG_DIAG_SQLSTATE);
            /* 42P05: it exists after all (a pooler's other session) */
            bool ok = PQresultStatus(p) == PGRES_COMMAND_OK ||
                      (st && strcmp(st, "42P05") == 0);
            PQclear(p);
            if (!ok)
                break;
            s->prepared[s->n_prepared++] = name;
        }
        PGresult *r = PQexecPrepared(s->c, name, n, params, NULL, NULL, 0);
        const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (st == NULL || strcmp(st, "26000") != 0)
            return r;
        PQclear(r);
        s->n_prepared = 0;          /* another session: none of them */
    }
    return PQexecParams(s->c, sql, n, NULL, params, NULL, NULL, 0);
}

static PGresult *run_named(struct store *s, const char *op, const char *name,
                           const char *sql, int n, const char *const *params,
                           int *rc)
{
    *rc = ensure_conn(s);
    if (*rc != HUB_OK)
        return NULL;
    bool own_txn = PQtransactionStatus(s->c) == PQTRANS_IDLE;
    PGresult *r;
    ExecStatusType st;
    for (int attempt = 1;; attempt++) {
        r = exec_one(s, name, sql, n, params);
        st = PQresultStatus(r);
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
            break;
        const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (!own_txn || attempt == STORE_CONFLICT_TRIES || code == NULL ||
            (strcmp(code, "40P01") != 0 && strcmp(code, "40001") != 0))
            break;
        log_warn("store.conflict_retry", "op=%s sqlstate=%s attempt=%d",
                 op, code, attempt);
        PQclear(r);
    }
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        *rc = db_fail(s, op, r);
        PQclear(r);
        return NULL;
    }
    *rc = HUB_OK;
    return r;
}

static PGresult *run(struct store *s, const char *op, const char *sql,
                     int n, const char *const *params, int *rc)
{
    return run_named(s, op, NULL, sql, n, params, rc);
}

/* --- connection ---------------------------------------------------------- */

int store_connect(const char *url, struct store **out)
{
    return store_connect_as(url, "hub", out);
}

int store_connect_as(const char *url, const char *app, struct store **out)
{
    struct store *s;

    *out = NULL;
    if (url == NULL || *url == '\0')
        return HUB_EINVALID;
    s = xmalloc(sizeof(*s));
    memset(s, 0, sizeof(*s));
    /* defaults that the URL may override (dbname is expanded last): do not
     * wait forever for a server that is gone, and notice a dead TCP link in
     * seconds rather than the kernel's two hours */
    static const char *const keys[] = {
        "connect_timeout", "keepalives_idle", "keepalives_interval",
        "keepalives_count", "tcp_user_timeout", "application_name", "dbname",
        NULL };
    const char *vals[] = { "5", "15", "5", "3", "30000", app, url, NULL };
    s->c = PQconnectdbParams(keys, vals, 1);
    if (s->c == NULL || PQstatus(s->c) != CONNECTION_OK) {
        link_failed("store.connect_failed", "08001");
        PQfinish(s->c);
        free(s);
        return HUB_EDB;
    }
    link_ok();
    PQsetNoticeReceiver(s->c, quiet_notice, NULL);
    *out = s;
    return HUB_OK;
}

void store_free(struct store *s)
{
    if (s == NULL)
        return;
    PQfinish(s->c);
    free(s);
}

int store_ping(struct store *s)
{
    int rc = ensure_conn(s);
    if (rc != HUB_OK)
        return rc;
    rc = exec_cmd(s, "ping", "SELECT 1");
    if (rc != HUB_OK && PQstatus(s->c) != CONNECTION_OK)
        rc = ensure_conn(s) == HUB_OK ? exec_cmd(s, "ping", "SELECT 1")
                                      : HUB_EDB;
    return rc;
}

int store_durable(struct store *s)
{
    int rc;
    PGresult *r = run(s, "durable", DURABLE_SQL, 0, NULL, &rc);
    PQclear(r);
    return rc;
}

const char *store_last_sqlstate(const struct store *s)
{
    return s->sqlstate;
}

/* --- ids and hashes ------------------------------------------------------ */

/*
 * The random part of ids comes from RAND_bytes in blocks of ID_POOL bytes,
 * one block per thread: each RAND_bytes call costs more than the bytes (a
 * fork check, which is a getpid() system call, and the DRBG's locking and
 * parameter lookups), and an ingest needs two or three ids a message. A
 * fork makes every thread's block stale: the child would hand out the
 * same bytes as the parent, so a child draws a new block first.
 */
#define ID_POOL 320                 /* 32 ids of 10 bytes */

static unsigned id_fork_gen;        /* bumped in the child of a fork */
static pthread_once_t id_once = PTHREAD_ONCE_INIT;

static _Thread_local struct {
    unsigned char b[ID_POOL];
    size_t used;                    /* ID_POOL until the first draw */
    unsigned gen;
} id_pool = { .used = ID_POOL };

static void id_after_fork(void)
{
    __atomic_add_fetch(&id_fork_gen, 1, __ATOMIC_RELAXED);
}

static void id_register_fork(void)
{
    if (pthread_atfork(NULL, NULL, id_after_fork) != 0)
        abort();
}

static void id_random(unsigned char out[10])
{
    unsigned gen = __atomic_load_n(&id_fork_gen, __ATOMIC_RELAXED);

    if (id_pool.used + 10 > ID_POOL || id_pool.gen != gen) {
        pthread_once(&id_once, id_register_fork);
        /* after the registration: a fork from now on bumps the count */
        gen = __atomic_load_n(&id_fork_gen, __ATOMIC_RELAXED);
        if (RAND_bytes(id_pool.b, ID_POOL) != 1)
            abort();                /* no entropy: ids would collide */
        id_pool.used = 0;
        id_pool.gen = gen;
    }
    memcpy(out, id_pool.b + id_pool.used, 10);
    /* spent bytes are not left behind for anyone to read back */
    memset(id_pool.b + id_pool.used, 0, 10);
    id_pool.used += 10;
}

void store_new_id(char out[STORE_ID_LEN + 1])
{
    static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; /* Crockford */
    unsigned char rnd[10];
    struct timespec ts;
    __extension__ unsigned __int128 v;

    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    id_random(rnd);
    v = ms & 0xffffffffffffull;
    for (size_t i = 0; i < sizeof(rnd); i++)
        v = (v << 8) | rnd[i];
    /* 128 bits in 26 digits of 5 bits: the first digit holds the top 3 */
    for (int i = STORE_ID_LEN - 1; i >= 0; i--) {
        out[i] = b32[(unsigned)(v & 31u)];
        v >>= 5;
    }
    out[STORE_ID_LEN] = '\0';
}

/* SHA-256 fetched once: EVP_sha256() makes every digest look the
 * implementation up again (a provider query with its locks and string
 * compares, about as long as hashing a short message). */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void store_sha256_hex(const void *p, size_t n, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int mdlen = 0;

    pthread_once(&sha256_once, sha256_fetch);
    if (sha256_md == NULL ||
        EVP_Digest(p, n, md, &mdlen, sha256_md, NULL) != 1 || mdlen != 32)
        abort();
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

static const char *const scope_names[] = { "ingest", "subscribe", "roster",
                                           "report", "admin" };
#define N_SCOPES (sizeof(scope_names) / sizeof(scope_names[0]))

int store_scopes_parse(const char *csv, unsigned *out)
{
    unsigned bits = 0;
    const char *p = csv ? csv : "";

    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        size_t i;
        if (len) {
            for (i = 0; i < N_SCOPES; i++)
                if (strlen(scope_names[i]) == len &&
                    memcmp(scope_names[i], p, len) == 0)
                    break;
            if (i == N_SCOPES)
                return HUB_EINVALID;
            bits |= 1u << i;
        }
        p += len + (end ? 1 : 0);
    }
    *out = bits;
    return HUB_OK;
}

void store_scopes_format(unsigned scopes, char *out, size_t size)
{
    size_t len = 0;

    if (size == 0)
        return;
    out[0] = '\0';
    for (size_t i = 0; i < N_SCOPES; i++) {
        if (!(scopes & (1u << i)))
            continue;
        int n = snprintf(out + len, size - len, "%s%s", len ? "," : "",
                         scope_names[i]);
        if (n < 0 || (size_t)n >= size - len) {
            out[len] = '\0';       /* whole names only */
            return;
        }
        len += (size_t)n;
    }
}

/* "{ingest,admin}" (a text[] in text form) to bits; unknown names ignored */
static unsigned scopes_from_array(const char *arr)
{
    unsigned bits = 0;
    const char *p = arr;

    if (p == NULL)
        return 0;
    while (*p) {
        while (*p == '{' || *p == ',' || *p == '}' || *p == '"')
            p++;
        size_t len = strcspn(p, ",}\"");
        for (size_t i = 0; i < N_SCOPES; i++)
            if (len && strlen(scope_names[i]) == len &&
                memcmp(scope_names[i], p, len) == 0)
                bits |= 1u << i;
        p += len;
    }
    return bits;
}

/* bits to a text[] literal "{ingest,admin}" */
static void scopes_to_array(unsigned scopes, char *out, size_t size)
{
    char csv[128];
    store_scopes_format(scopes, csv, sizeof(csv));
    snprintf(out, size, "{%s}", csv);
}

/* --- migrations ---------------------------------------------------------- */

static int is_migration_name(const struct dirent *d)
{
    const char *n = d->d_name;
    size_t len = strlen(n);

    return len > 8 && n[0] >= '0' && n[0] <= '9' && n[1] >= '0' &&
           n[1] <= '9' && n[2] >= '0' && n[2] <= '9' && n[3] == '_' &&
           strcmp(n + len - 4, ".sql") == 0;
}

/*
 * One migration, in one transaction that first takes a transaction-scoped
 * advisory lock: several hubd starting at once apply it once, and nothing
 * depends on a session, so a transaction-mode pooler in front is safe.
 */
static int apply_migration(struct store *s, const char *dir, const char *name)
{
    char path[4096];
    char version[4] = { name[0], name[1], name[2], '\0' };
    char sha[65];
    char recorded[65] = "";
    char *sql = NULL;
    size_t len = 0;
    bool done = false;
    int rc;

    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
        return HUB_ELIMIT;
    rc = read_file(path, MIGRATION_MAX_BYTES, &sql, &len);
    if (rc != HUB_OK) {
        log_error("store.migration_unreadable", "file=%s code=%s", name,
                  hub_strerror(rc));
        return rc;
    }
    store_sha256_hex(sql, len, sha);

    rc = exec_cmd(s, "migrate.begin", "BEGIN");
    if (rc == HUB_OK)
        rc = exec_cmd(s, "migrate.lock",
                      "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK_KEY ")");
    if (rc == HUB_OK)
        rc = exec_cmd(s, "migrate.table",
                      "CREATE TABLE IF NOT EXISTS schema_migrations ("
                      " version text PRIMARY KEY,"
                      " name text NOT NULL,"
                      " sha256 text NOT NULL,"
                      " applied_at timestamptz NOT NULL DEFAULT now())");
    if (rc == HUB_OK) {
        const char *q[] = { version };
        PGresult *r = run(s, "migrate.check",
                          "SELECT sha256 FROM schema_migrations "
                          "WHERE version = $1", 1, q, &rc);
        if (r && PQntuples(r) > 0) {
            done = true;
            snprintf(recorded, sizeof(recorded), "%s", PQgetvalue(r, 0, 0));
        }
        PQclear(r);
    }
    if (rc == HUB_OK && !done) {
        rc = exec_cmd(s, name, sql);
        if (rc == HUB_OK) {
            const char *p[] = { version, name, sha };
            PGresult *ins = run(s, "migrate.record",
                                "INSERT INTO schema_migrations (version, "
                                "name, sha256) VALUES ($1, $2, $3)", 3, p,
                                &rc);
            PQclear(ins);
        }
    }
    if (rc == HUB_OK)
        rc = exec_cmd(s, "migrate.commit", "COMMIT");
    if (rc != HUB_OK) {
        (void)exec_cmd(s, "migrate.rollback", "ROLLBACK");
        log_error("store.migration_failed", "file=%s sqlstate=%s", name,
                  s->sqlstate);
        rc = HUB_EDB;
    } else if (!done) {
        log_info("store.migrated", "file=%s sha=%.12s", name, sha);
    } else if (strcmp(recorded, sha) != 0) {
        /* an applied file was edited: it is not applied again, so the
         * database may lack what the binaries expect (a development tree
         * after a pull): say how to get a database that matches */
        log_warn("store.migration_changed", "file=%s recorded=%.12s "
                 "now=%.12s why=\"not applied again\" fix=\"a new "
                 "numbered file; for the private development database: "
                 "make db-stop && rm -rf var/pg && make run\"", name,
                 recorded, sha);
    }
    free(sql);
    return rc;
}

int store_migrate(struct store *s, const char *dir)
{
    struct dirent **list = NULL;
    int n, rc;

    rc = ensure_conn(s);
    if (rc != HUB_OK)
        return rc;
    n = scandir(dir, &list, is_migration_name, alphasort);
    if (n < 0) {
        log_error("store.migrations_missing", "errno=%d", errno);
        return HUB_EIO;
    }
    for (int i = 0; i < n; i++) {
        if (rc == HUB_OK)
            rc = apply_migration(s, dir, list[i]->d_name);
        free(list[i]);
    }
    free(list);
    return rc;
}

/* --- ingest -------------------------------------------------------------- */

/* A growable malloc'd byte buffer for the binary parameters. */
struct bin {
    char *p;
    size_t len, cap;
};

/* Room for n more bytes */
static void bin_grow(struct bin *b, size_t n)
{
    size_t cap = b->cap ? b->cap : 1024;
    while (n > cap - b->len)
        cap *= 2;
    char *q = realloc(b->p, cap);
    if (q == NULL)
        abort();
    b->p = q;
    b->cap = cap;
}

/* Inline: most puts are a few bytes of constant size (a length, an int),
 * which the compiler then copies without a call. */
static inline void bin_put(struct bin *b, const void *p, size_t n)
{
    if (n > b->cap - b->len)
        bin_grow(b, n);
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

static inline void bin_u32(struct bin *b, uint32_t v)
{
    unsigned char be[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
                            (unsigned char)(v >> 8), (unsigned char)v };
    bin_put(b, be, 4);
}



/*
 * jsonb refuses the escape \u0000 (text cannot hold NUL), and one such
 * string would fail the whole batch: write U+FFFD (\ufffd, the same length)
 * instead. Outside strings JSON has no backslash, so a scan that skips each
 * escape pair finds exactly the escapes.
 */
static struct slice json_no_nul(struct arena *a, struct slice j)
{
    char *copy = NULL;

    for (size_t i = 0; i + 1 < j.len; i++) {
        const char *bs = memchr(j.p + i, '\\', j.len - i);
        if (bs == NULL)
            break;
        i = (size_t)(bs - j.p);
        if (i + 6 <= j.len && j.p[i + 1] == 'u' &&
            memcmp(j.p + i + 2, "0000", 4) == 0) {
            if (copy == NULL) {
                copy = arena_alloc(a, j.len);
                memcpy(copy, j.p, j.len);
            }
            memcpy(copy + i + 2, "fffd", 4);
        }
        i++;                        /* skip the escaped character */
    }
    return copy ? (struct slice){ copy, j.len } : j;
}

static bool digits(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

static int num2(const char *p)
{
    return (p[0] - '0') * 10 + (p[1] - '0');
}

/*
 * hub_parse_ts() of 001 in C: ISO 8601 text that it turns into a
 * timestamptz, written to `out` as the text it casts (a time without an
 * offset is UTC: "Z" appended); false where it gives NULL. The same pattern
 *   YYYY-MM-DD[(T| )hh:mm[:ss[.f{1,9}]]][Z|(+|-)hh[:]mm]
 * with year 0000 refused, months 01-12, days up to the month's last, hours
 * 00-23, minutes and seconds 00-59. `out` holds at least n + 2 bytes.
 */
static bool occ_text(struct slice v, char *out)
{
    const char *p = v.p;
    size_t n = v.len, i = 10;
    static const int mdays[12] = { 31, 29, 31, 30, 31, 30,
                                   31, 31, 30, 31, 30, 31 };

    if (n < 10 || !digits(p, 4) || p[4] != '-' || !digits(p + 5, 2) ||
        p[7] != '-' || !digits(p + 8, 2) || memcmp(p, "0000", 4) == 0)
        return false;
    int y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + num2(p + 2);
    int mo = num2(p + 5), d = num2(p + 8);
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
        return false;
    if (mo == 2 && d == 29 &&
        !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return false;
    if (i < n && (p[i] == 'T' || p[i] == ' ')) {
        if (n - i < 6 || !digits(p + i + 1, 2) || p[i + 3] != ':' ||
            !digits(p + i + 4, 2) || num2(p + i + 1) > 23 ||
            num2(p + i + 4) > 59)
            return false;
        i += 6;
        if (i < n && p[i] == ':') {
            if (n - i < 3 || !digits(p + i + 1, 2) || num2(p + i + 1) > 59)
                return false;
            i += 3;
            if (i < n && p[i] == '.') {
                size_t f = 0;
                while (i + 1 + f < n && f < 10 && p[i + 1 + f] >= '0' &&
                       p[i + 1 + f] <= '9')
                    f++;
                if (f < 1 || f > 9)
                    return false;
                i += 1 + f;
            }
        }
    }
    bool zone = false;
    if (i < n && p[i] == 'Z') {
        zone = true;
        i++;
    } else if (i < n && (p[i] == '+' || p[i] == '-')) {
        if (n - i >= 6 && digits(p + i + 1, 2) && p[i + 3] == ':' &&
            digits(p + i + 4, 2))
            i += 6;
        else if (n - i >= 5 && digits(p + i + 1, 4))
            i += 5;
        else
            return false;
        zone = true;
    }
    if (i != n)
        return false;
    memcpy(out, p, n);
    if (!zone)
        out[n++] = 'Z';
    out[n] = '\0';
    return true;
}

/* 2026-12-02T01:40:34.654Z exactly: what hub_ingest_fast's to_char()
 * writes. */
static bool is_iso_ms(const char *t)
{
    static const char pat[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    for (size_t i = 0; i < sizeof(pat) - 1; i++) {
        if (pat[i] == 'd' ? !(t[i] >= '0' && t[i] <= '9') : t[i] != pat[i])
            return false;
    }
    return t[sizeof(pat) - 1] == '\0';
}

/*
 * A time occ_text() accepted, as PostgreSQL's timestamptz binary form
 * (microseconds since 2000-01-01 00:00 UTC): what its cast of that text
 * gives. False for what this does not reproduce exactly, left to the cast:
 * more than 6 digits of a second (the cast rounds them), an offset past
 * 15:59 (which the cast refuses). `p` has passed occ_text().
 */
static bool occ_micros(const char *p, size_t n, int64_t *out)
{
    int y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + num2(p + 2);
    int mo = num2(p + 5), d = num2(p + 8);
    int64_t sec = 0, us = 0;
    size_t i = 10;

    if (i < n && (p[i] == 'T' || p[i] == ' ')) {
        sec = num2(p + i + 1) * 3600 + num2(p + i + 4) * 60;
        i += 6;
        if (i < n && p[i] == ':') {
            sec += num2(p + i + 1);
            i += 3;
            if (i < n && p[i] == '.') {
                size_t f = 0;
                for (i++; i < n && p[i] >= '0' && p[i] <= '9'; i++, f++)
                    us = us * 10 + (p[i] - '0');
                if (f > 6)
                    return false;
                for (; f < 6; f++)
                    us *= 10;
            }
        }
    }
    if (i < n && (p[i] == '+' || p[i] == '-')) {
        int hh = num2(p + i + 1);
        int mm = num2(p + i + (p[i + 3] == ':' ? 4 : 3));
        if (hh > 15 || mm > 59)
            return false;
        int64_t off = hh * 3600 + mm * 60;
        sec += p[i] == '+' ? -off : off;
    }
    /* days from 1970-01-01 (H. Hinnant's days_from_civil), then 2000's */
    int yy = y - (mo <= 2);
    int era = (yy >= 0 ? yy : yy - 399) / 400;
    int yoe = yy - era * 400;
    int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = (int64_t)era * 146097 + doe - 719468 - 10957;
    *out = (days * 86400 + sec) * 1000000 + us;
    return true;
}

/* --- binary array parameters --------------------------------------------- */

#define BOOLOID 16
#define INT4OID 23
#define BOOLARRAYOID 1000
#define INT4ARRAYOID 1007
#define TEXTARRAYOID 1009
#define JSONBARRAYOID 3807
#define TIMESTAMPTZOID 1184
#define TIMESTAMPTZARRAYOID 1185

/* PostgreSQL binary array header: ndim, has-null flag, element type, then
 * (size, lower bound); an empty array has no dimension. Items follow as
 * (length | -1, bytes). */
static void arr_begin(struct bin *b, uint32_t elem, size_t n)
{
    bin_u32(b, n ? 1 : 0);
    bin_u32(b, 1);                  /* may hold NULLs */
    bin_u32(b, elem);
    if (n) {
        bin_u32(b, (uint32_t)n);
        bin_u32(b, 1);
    }
}

static void arr_null(struct bin *b)
{
    bin_u32(b, 0xffffffffu);
}

static void arr_bytes(struct bin *b, const char *p, size_t n)
{
    bin_u32(b, (uint32_t)n);
    bin_put(b, p, n);
}

static void arr_cstr(struct bin *b, const char *s)
{
    arr_bytes(b, s, strlen(s));
}

static void arr_bool(struct bin *b, bool v)
{
    unsigned char c = v;
    bin_u32(b, 1);
    bin_put(b, &c, 1);
}

static void arr_int4(struct bin *b, uint32_t v)
{
    bin_u32(b, 4);
    bin_u32(b, v);
}

static void arr_int8(struct bin *b, int64_t v)
{
    bin_u32(b, 8);
    bin_u32(b, (uint32_t)((uint64_t)v >> 32));
    bin_u32(b, (uint32_t)v);
}

/* A parameter given up on: NULL (its bin empty) */
static void bin_drop(struct bin *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

/* jsonb binary input is a version byte (1) and the JSON text */
static void arr_jsonb(struct bin *b, struct slice j)
{
    static const char one = 1;
    bin_u32(b, (uint32_t)j.len + 1);
    bin_put(b, &one, 1);
    bin_put(b, j.p, j.len);
}

/* text cannot hold NUL nor invalid UTF-8: both become U+FFFD, exactly as
 * the JSON writer (jw.c) makes them (common/utf8.h) */
static struct slice text_clean(struct arena *a, struct slice v)
{
    const unsigned char *s = (const unsigned char *)v.p;
    size_t i = 0;

    while (i < v.len && s[i] != 0 && s[i] < 0x80)
        i++;
    if (i == v.len)
        return v;
    struct buf b;
    buf_init(&b, a, v.len * 3 + 1);
    buf_append(&b, v.p, i);
    while (i < v.len) {
        unsigned char c = s[i];
        if (c != 0 && c < 0x80) {
            buf_putc(&b, (char)c);
            i++;
            continue;
        }
        size_t len = utf8_seq_len(s + i, v.len - i);
        if (len) {
            buf_append(&b, v.p + i, len);
            i += len;
        } else {
            buf_append(&b, UTF8_REPLACEMENT, 3);
            i++;
        }
    }
    return buf_slice(&b);
}

static int64_t be64(const char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | (unsigned char)p[i];
    return (int64_t)v;
}

static uint32_t be32(const char *p)
{
    return (uint32_t)(unsigned char)p[0] << 24 |
           (uint32_t)(unsigned char)p[1] << 16 |
           (uint32_t)(unsigned char)p[2] << 8 | (unsigned char)p[3];
}

/* A one-dimensional array of n elements in binary (array_send): each
 * element's bytes and length (-1: NULL) into v and l. false: not that. */
static bool arr_read(const char *p, size_t len, size_t n, const char **v,
                     int *l)
{
    size_t off = 20;

    if (len < 12 || be32(p) != (n ? 1u : 0u))
        return false;
    if (n == 0)
        return len == 12;
    if (len < 20 || be32(p + 12) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (len - off < 4)
            return false;
        uint32_t el = be32(p + off);
        off += 4;
        if (el == 0xffffffffu) {
            v[i] = NULL;
            l[i] = -1;
            continue;
        }
        if (el > len - off)
            return false;
        v[i] = p + off;
        l[i] = (int)el;
        off += el;
    }
    return off == len;
}

/* The parameters of hub_ingest_fast(), in its order (001_init.sql) */
enum {
    P_ORG, P_FMT, P_KEY, P_SHA, P_AT, P_OK, P_ERR, P_RAW, P_REPLY, P_PART,
    P_EMSG, P_EID, P_ETYPE, P_EPID, P_ECUR, P_EPREP, P_EOCC, P_EBODY,
    P_IK, P_ISYS, P_IVAL, P_IFIRST, P_MEVIDS, P_EPOS, P_ECANON, P_ADETAIL,
    P_ATB, P_EOCCB, P_N
};

static const Oid ingest_types[P_N] = {
    TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
    BOOLARRAYOID, JSONBARRAYOID, BYTEAARRAYOID, BYTEAARRAYOID, INT4ARRAYOID,
    INT4ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
    BOOLARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT4ARRAYOID, TEXTARRAYOID,
    TEXTARRAYOID, INT4ARRAYOID, TEXTARRAYOID, INT4ARRAYOID, BOOLARRAYOID,
    TEXTARRAYOID, TIMESTAMPTZARRAYOID, TIMESTAMPTZARRAYOID,
};

static void now_iso_ms(char out[32])
{
    struct timespec ts;
    struct tm tm;
    char sec[24];

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%.20s.%03dZ", sec, (int)(ts.tv_nsec / 1000000));
}

/*
 * The detail of message m's 'message.received' audit row, as jsonb prints
 * it: the SQL stores this very text (audit.detail) and chains it, so it
 * must be jsonb's text form, {"events": [...], "format": ..., "sha256": ...}
 * (keys of one length: in byte order), written here as jcanon() writes
 * it. cev: the event ids, each as jcanon_quote() writes it, joined by
 * ", "; !ok: one could not be (invalid UTF-8, as jcanon would refuse).
 * NULL then, or when a value is missing: the SQL builds the detail itself.
 */
static void put_received_detail(struct arena *a, struct bin *p,
                                const struct store_msg *m, struct slice cev,
                                bool ok)
{
    struct slice f, h;
    struct buf d;

    if (m->format == NULL || !ok ||
        !jcanon_quote(a, m->format, strlen(m->format), &f) ||
        !jcanon_quote(a, m->sha256, strlen(m->sha256), &h)) {
        arr_null(p);
        return;
    }
    buf_init(&d, a, cev.len + f.len + h.len + 48);
    buf_puts(&d, "{\"events\": [");
    buf_append(&d, cev.p, cev.len);
    buf_puts(&d, "], \"format\": ");
    buf_append(&d, f.p, f.len);
    buf_puts(&d, ", \"sha256\": ");
    buf_append(&d, h.p, h.len);
    buf_putc(&d, '}');
    arr_bytes(p, d.p, d.len);
}

/* Fill the arrays of one batch; evtext[i]: message i's event ids as
 * hub_ingest_fast answers them (jsonb's text form), NULL if not written. */
static void build_batch(struct arena *a, const struct store_msg *m, size_t n,
                        struct bin *p, const char **evtext)
{
    size_t n_ev = 0, k_ev = 0;
    size_t owner = 0;               /* 1-based: the message parts belong to */
    char now[32];
    struct idents ids = { NULL, 0, 0, true };
    /* what one event's (or message's) text needs only until it is in the
     * arrays: the written body, its canonical text (jcanon asks for six
     * times the body), the audit detail. Reset after each, so that a batch
     * of thousands of events (a CSV upload) reuses one chunk instead of
     * growing `a` by tens of megabytes that the allocator then keeps. */
    struct arena scratch;

    arena_init(&scratch, 64 * 1024);

    now[0] = '\0';
    size_t raw = 0, reply = 0, json = 0;
    for (size_t i = 0; i < n; i++) {
        raw += m[i].raw.len;
        reply += m[i].reply.len;
        if (m[i].accepted) {
            n_ev += m[i].n_ev;
            for (size_t k = 0; k < m[i].n_ev; k++)
                json += m[i].ev[k].json.len;
        }
    }
    /* the big arrays sized once (each realloc copies what is there): the
     * raw messages, the replies, and the bodies, whose canonical text with
     * the hub fields is rarely more than 1.25 times the adapter's */
    bin_grow(&p[P_RAW], raw + 4 * n + 32);
    bin_grow(&p[P_REPLY], reply + 4 * n + 32);
    bin_grow(&p[P_EBODY], json + json / 4 + 256 * n_ev + 32);
    arr_begin(&p[P_ORG], TEXTOID, n);
    arr_begin(&p[P_FMT], TEXTOID, n);
    arr_begin(&p[P_KEY], TEXTOID, n);
    arr_begin(&p[P_SHA], TEXTOID, n);
    arr_begin(&p[P_AT], TEXTOID, n);
    arr_begin(&p[P_OK], BOOLOID, n);
    arr_begin(&p[P_ERR], JSONBOID, n);
    arr_begin(&p[P_RAW], BYTEAOID, n);
    arr_begin(&p[P_REPLY], BYTEAOID, n);
    arr_begin(&p[P_PART], INT4OID, n);
    arr_begin(&p[P_EMSG], INT4OID, n_ev);
    arr_begin(&p[P_EID], TEXTOID, n_ev);
    arr_begin(&p[P_ETYPE], TEXTOID, n_ev);
    arr_begin(&p[P_EPID], TEXTOID, n_ev);
    arr_begin(&p[P_ECUR], TEXTOID, n_ev);
    arr_begin(&p[P_EPREP], BOOLOID, n_ev);
    arr_begin(&p[P_EOCC], TEXTOID, n_ev);
    arr_begin(&p[P_EBODY], TEXTOID, n_ev);
    arr_begin(&p[P_EPOS], INT4OID, n_ev);
    arr_begin(&p[P_ECANON], BOOLOID, n_ev);
    arr_begin(&p[P_MEVIDS], TEXTOID, n);
    arr_begin(&p[P_ADETAIL], TEXTOID, n);
    /* the times in binary too, while every one of them converts exactly */
    bool atb = true, eoccb = true;
    /* arrays the SQL does without when each element says the usual
     * (001_init.sql: p_eprep, p_ecanon, p_epid; p_at, p_eocc beside their
     * binary forms): sent NULL, one array fewer to receive */
    bool all_prep = true, all_canon = true, all_pid_in = true;
    arr_begin(&p[P_ATB], TIMESTAMPTZOID, n);
    arr_begin(&p[P_EOCCB], TIMESTAMPTZOID, n_ev);
    for (size_t i = 0; i < n; i++) {
        struct slice org = text_clean(a, slice_from_cstr(m[i].org_id));
        struct slice key = text_clean(a, m[i].key);
        const char *at = m[i].received_at;
        if (at[0] == '\0') {
            /* as the SQL's now() would: the time of this call */
            if (now[0] == '\0')
                now_iso_ms(now);
            at = now;
        }
        bool at_exact = is_iso_ms(at);

        arr_bytes(&p[P_ORG], org.p, org.len);
        arr_cstr(&p[P_FMT], m[i].format);
        if (key.len)
            arr_bytes(&p[P_KEY], key.p, key.len);
        else
            arr_null(&p[P_KEY]);
        arr_cstr(&p[P_SHA], m[i].sha256);
        arr_cstr(&p[P_AT], at);
        atb = atb && at_exact;          /* with its zone: "Z" */
        if (atb) {
            char t[40];
            int64_t us;
            size_t tl = strlen(at);
            atb = tl < sizeof(t) - 2 && occ_text((struct slice){ at, tl }, t) &&
                  occ_micros(at, tl, &us);
            if (atb)
                arr_int8(&p[P_ATB], us);
        }
        arr_bool(&p[P_OK], m[i].accepted);
        if (!m[i].accepted && m[i].error_json.len)
            arr_jsonb(&p[P_ERR], json_no_nul(a, m[i].error_json));
        else
            arr_null(&p[P_ERR]);
        arr_bytes(&p[P_RAW], m[i].raw.p ? m[i].raw.p : "", m[i].raw.len);
        if (m[i].reply.p)
            arr_bytes(&p[P_REPLY], m[i].reply.p, m[i].reply.len);
        else
            arr_null(&p[P_REPLY]);
        if (!m[i].part)
            owner = i + 1;
        if (m[i].part && owner)
            arr_int4(&p[P_PART], (uint32_t)owner);
        else
            arr_null(&p[P_PART]);
        evtext[i] = "[]";
        if (!m[i].accepted || m[i].n_ev == 0) {
            arr_null(&p[P_MEVIDS]);
            if (!m[i].accepted) {
                arr_null(&p[P_ADETAIL]);
                continue;
            }
        }
        /* org id as the body gets it: the cleaned text */
        char *org_c = arena_strndup(a, org.p, org.len);
        struct buf evids, cev;
        bool cev_ok = true;
        /* the ceiling fits any id: each byte escaped as \u00XX at most */
        buf_init(&evids, a, 2 + m[i].n_ev * (6 * STORE_ID_LEN + 3));
        buf_init(&cev, a, 2 + m[i].n_ev * (6 * STORE_ID_LEN + 4));
        buf_putc(&evids, '[');
        for (size_t k = 0; k < m[i].n_ev; k++) {
            char id[STORE_ID_LEN + 1], pid[STORE_ID_LEN + 1];
            const char *eid = id;
            struct slice body = json_no_nul(a, m[i].ev[k].json);

            if (m[i].ev_id)
                eid = m[i].ev_id[k];
            else
                store_new_id(id);
            store_new_id(pid);      /* used only if the patient is new */
            k_ev++;
            struct body_out e = { body, { OCC_SQL, SLICE_NULL }, false,
                                  false, false, 0 };
            struct body_hub h = { eid, org_c, at, pid };
            body_prepare(a, &scratch, at_exact, &h, (uint32_t)k_ev, &ids, &e);
            arr_int4(&p[P_EMSG], (uint32_t)(i + 1));
            arr_cstr(&p[P_EID], eid);
            if (m[i].ev[k].type)
                arr_cstr(&p[P_ETYPE], m[i].ev[k].type);
            else
                arr_null(&p[P_ETYPE]);
            arr_cstr(&p[P_EPID], pid);
            if (e.pid_in)
                arr_cstr(&p[P_ECUR], pid);
            else
                arr_null(&p[P_ECUR]);
            arr_bool(&p[P_EPREP], e.prep);
            all_prep = all_prep && e.prep;
            all_pid_in = all_pid_in && e.pid_in;
            /* occurred_at: parsed here, or "?" for hub_parse_ts() in SQL */
            if (e.occ.state == OCC_TEXT) {
                char *t = arena_alloc(&scratch, e.occ.v.len + 2);
                int64_t us;
                if (occ_text(e.occ.v, t)) {
                    arr_cstr(&p[P_EOCC], t);
                    if (eoccb && occ_micros(e.occ.v.p, e.occ.v.len, &us))
                        arr_int8(&p[P_EOCCB], us);
                    else
                        eoccb = false;
                } else {
                    arr_null(&p[P_EOCC]);
                    arr_null(&p[P_EOCCB]);
                }
            } else if (e.occ.state == OCC_SQL) {
                arr_cstr(&p[P_EOCC], "?");
                eoccb = false;
            } else {
                arr_null(&p[P_EOCC]);
                arr_null(&p[P_EOCCB]);
            }
            /* the text, cast to jsonb in SQL once the patient is known */
            arr_bytes(&p[P_EBODY], e.body.p, e.body.len);
            if (e.pid_in && body_id_only_at(e.body, pid, e.pid_at))
                arr_int4(&p[P_EPOS], (uint32_t)e.pid_at + 1);  /* 1-based */
            else
                arr_null(&p[P_EPOS]);
            arr_bool(&p[P_ECANON], e.canon);
            all_canon = all_canon && e.canon;
            if (k)
                buf_putc(&evids, ',');
            body_put_str(&evids, eid);
            struct slice q;
            if (k)
                buf_puts(&cev, ", ");
            if (jcanon_quote(&scratch, eid, strlen(eid), &q))
                buf_append(&cev, q.p, q.len);
            else
                cev_ok = false;
            arena_reset(&scratch);
        }
        if (m[i].n_ev) {
            buf_putc(&evids, ']');
            /* as jsonb prints the ids: the ids as jcanon quotes them,
             * stored as they are (messages.event_ids); else the plain
             * text, which the SQL casts (p_adetail is NULL then) */
            struct buf t;
            buf_init(&t, a, cev.len + 3);
            buf_putc(&t, '[');
            buf_append(&t, cev.p, cev.len);
            buf_putc(&t, ']');
            if (cev_ok)
                arr_bytes(&p[P_MEVIDS], t.p, t.len);
            else
                arr_bytes(&p[P_MEVIDS], evids.p, evids.len);
            buf_putc(&t, '\0');
            evtext[i] = cev_ok ? t.p : NULL;
        }
        put_received_detail(&scratch, &p[P_ADETAIL], &m[i], buf_slice(&cev),
                            cev_ok);
        arena_reset(&scratch);
    }
    bin_drop(atb ? &p[P_AT] : &p[P_ATB]);
    bin_drop(eoccb ? &p[P_EOCC] : &p[P_EOCCB]);
    if (all_prep)
        bin_drop(&p[P_EPREP]);
    if (all_canon)
        bin_drop(&p[P_ECANON]);
    if (all_pid_in)
        bin_drop(&p[P_EPID]);
    /* the identifiers as the SQL would read them, or NULL: it reads them */
    if (ids.ok) {
        body_idents_first(&ids);
        arr_begin(&p[P_IK], INT4OID, ids.n);
        arr_begin(&p[P_ISYS], TEXTOID, ids.n);
        arr_begin(&p[P_IVAL], TEXTOID, ids.n);
        arr_begin(&p[P_IFIRST], INT4OID, ids.n);
        bool all_first = true;      /* NULL p_ifirst: each is its p_ik */
        for (size_t x = 0; x < ids.n; x++) {
            arr_int4(&p[P_IK], ids.v[x].k);
            arr_bytes(&p[P_ISYS], ids.v[x].sys.p, ids.v[x].sys.len);
            arr_bytes(&p[P_IVAL], ids.v[x].val.p, ids.v[x].val.len);
            arr_int4(&p[P_IFIRST], ids.v[x].first);
            all_first = all_first && ids.v[x].first == ids.v[x].k;
        }
        if (all_first)
            bin_drop(&p[P_IFIRST]);
    }
    free(ids.v);
    arena_release(&scratch);
}

#define INGEST_STMT "hub_ingest_fast"
#define INGEST_SQL                                                         \
    "SELECT dups, message_ids, event_ids, replies, kept "                  \
    "FROM hub_ingest_fast($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "  \
    "$12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, " \
    "$26, $27, $28)"

/* The session's state is unknown (a pipeline that did not end as sent):
 * start a new one. */
static void drop_session(struct store *s)
{
    PQreset(s->c);
    s->ingest_prepared = false;
    s->n_prepared = 0;
}

/* Prepare the ingest call and the wait on this session. false: they could
 * not be (the batch then goes unnamed). */
static bool ingest_prepare(struct store *s)
{
    static const char *const names[] = { INGEST_STMT, DURABLE_STMT };
    static const char *const sqls[] = { INGEST_SQL, DURABLE_SQL };
    bool ok = true;

    for (int i = 0; i < 2 && ok; i++) {
        PGresult *p = PQprepare(s->c, names[i], sqls[i], i == 0 ? P_N : 0,
                                i == 0 ? ingest_types : NULL);
        const char *st = PQresultErrorField(p, PG_DIAG_SQLSTATE);
        /* 42P05: it exists after all (a pooler's other session) */
        ok = PQresultStatus(p) == PGRES_COMMAND_OK ||
             (st && strcmp(st, "42P05") == 0);
        PQclear(p);
    }
    s->ingest_prepared = ok;
    return ok;
}

/*
 * The batch and the wait for its durability in one round trip (libpq
 * pipeline mode): the ingest call and a Sync (its implicit transaction
 * commits there, without waiting for the flush: hub_ingest_fast), then
 * hub_durable() in a transaction of its own and a second Sync, whose
 * result comes back once the WAL is flushed past the batch's commit.
 * Returns the
 * ingest call's result (NULL if none came); *durable is HUB_OK only when
 * the wait returned, and nothing about the batch may be told before it
 * does. named: the prepared statements, else both unnamed.
 */
static PGresult *ingest_send(struct store *s, bool named,
                             const char *const *vals, const int *lens,
                             const int *fmts, int *durable)
{
    PGconn *c = s->c;
    PGresult *ing = NULL, *err = NULL;
    int syncs = 0, nulls = 0;

    *durable = HUB_EDB;
    if (!PQenterPipelineMode(c))
        return NULL;
    bool sent =
        (named ? PQsendQueryPrepared(c, INGEST_STMT, P_N, vals, lens, fmts, 1)
               : PQsendQueryParams(c, INGEST_SQL, P_N, ingest_types, vals,
                                   lens, fmts, 1)) &&
        PQpipelineSync(c) &&
        (named ? PQsendQueryPrepared(c, DURABLE_STMT, 0, NULL, NULL, NULL, 0)
               : PQsendQueryParams(c, DURABLE_SQL, 0, NULL, NULL, NULL, NULL,
                                   0)) &&
        PQpipelineSync(c);
    /* results: the ingest's, NULL, a sync, the wait's, NULL, a sync; two
     * NULLs in a row: nothing more will come (a broken link) */
    while (syncs < 2) {
        PGresult *r = PQgetResult(c);
        if (r == NULL) {
            if (++nulls == 2)
                break;
            continue;
        }
        nulls = 0;
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            syncs++;
            PQclear(r);
        } else if (syncs == 0 && ing == NULL) {
            ing = r;
        } else if (syncs == 0 && err == NULL && st == PGRES_FATAL_ERROR) {
            err = r;                /* the commit at the Sync failed */
        } else {
            if (syncs == 1 && st == PGRES_TUPLES_OK)
                *durable = HUB_OK;
            PQclear(r);
        }
    }
    if (!PQexitPipelineMode(c) || !sent || syncs < 2) {
        /* not all the pipeline came back: whatever it did, the next call
         * starts on a new session (the batch is retried; the store
         * de-duplicates) */
        *durable = HUB_EDB;
        if (PQstatus(c) == CONNECTION_OK)
            drop_session(s);
    }
    /* the call's rows count only once its commit was reported (the first
     * Sync's answer, with no error before it): else the outcome is unknown
     * and the batch failed */
    if (PQresultStatus(ing) == PGRES_TUPLES_OK && (syncs == 0 || err)) {
        PQclear(ing);
        ing = err;
        err = NULL;
    }
    PQclear(err);
    return ing;
}

/*
 * Run the ingest call and its wait. Named statements, prepared once per
 * session: the unnamed one was parsed, analysed and planned again for
 * every batch (about 60 us of the server's CPU, a tenth of a batch's fixed
 * cost). A session that does not know them (26000: behind a
 * transaction-mode pooler the next call may reach another server session)
 * gets them prepared again, and if that does not hold either the batch
 * goes unnamed, as before: no session state is required.
 */
static PGresult *ingest_exec(struct store *s, const char *const *vals,
                             const int *lens, const int *fmts, int *durable)
{
    for (int tries = 0; tries < 2; tries++) {
        if (!s->ingest_prepared && !ingest_prepare(s))
            break;
        PGresult *r = ingest_send(s, true, vals, lens, fmts, durable);
        const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (st == NULL || strcmp(st, "26000") != 0)
            return r;
        PQclear(r);
        s->ingest_prepared = false;
    }
    return ingest_send(s, false, vals, lens, fmts, durable);
}

int store_ingest_batch(struct store *s, const struct store_msg *m, size_t n,
                       struct store_msg_result *res)
{
    struct arena a;
    struct bin p[P_N];
    PGresult *r = NULL;
    int rc;

    if (n == 0)
        return HUB_OK;
    if (n > STORE_BATCH_MAX)
        return HUB_ELIMIT;
    for (size_t i = 0; i < n; i++)     /* bytea lengths travel as int32 */
        if (m[i].raw.len > INT32_MAX || m[i].reply.len > INT32_MAX ||
            m[i].org_id == NULL || m[i].format == NULL)
            return m[i].org_id && m[i].format ? HUB_ELIMIT : HUB_EINVALID;
    memset(res, 0, n * sizeof(*res));
    rc = ensure_conn(s);
    if (rc != HUB_OK)
        return rc;
    memset(p, 0, sizeof(p));
    arena_init(&a, 64 * 1024);
    const char **evtext = arena_alloc(&a, n * sizeof(*evtext));
    build_batch(&a, m, n, p, evtext);

    const char *vals[P_N];
    int lens[P_N], fmts[P_N];
    for (int i = 0; i < P_N; i++) {
        if (p[i].len > INT32_MAX) {
            rc = HUB_ELIMIT;
            goto out;
        }
        vals[i] = p[i].p;
        lens[i] = (int)p[i].len;
        fmts[i] = 1;
    }
    int durable = HUB_EDB;
    for (int attempt = 1;; attempt++) {
        r = ingest_exec(s, vals, lens, fmts, &durable);
        const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        /* 40001: linking raced another batch (hub_ingest_fast, 001);
         * 40P01: a deadlock cancelled it. Rolled back whole: run it again,
         * its probes now see the other batch. */
        if (PQresultStatus(r) == PGRES_TUPLES_OK || attempt == 4 ||
            st == NULL || (strcmp(st, "40001") != 0 &&
                           strcmp(st, "40P01") != 0))
            break;
        log_debug("store.ingest_retry", "sqlstate=%s attempt=%d", st,
                  attempt);
        PQclear(r);
    }
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = db_fail(s, "ingest", r);
        goto out;
    }
    /* committed; the wait did not return (a named statement lost, an
     * error): once more on its own, or the batch counts as failed (its
     * retry finds it stored and answers from there, after its own wait) */
    if (durable != HUB_OK && (ensure_conn(s) != HUB_OK ||
                              store_durable(s) != HUB_OK)) {
        log_warn("store.durable_failed", "batch=%zu", n);
        rc = HUB_EDB;
        goto out;
    }
    /* one row of arrays, an element per message (hub_ingest_fast): the
     * message ids always; dups, event_ids, replies and kept NULL when none
     * is a duplicate (event_ids then as build_batch wrote them) */
    const char **v = arena_alloc(&a, 5 * n * sizeof(*v));
    int *l = arena_alloc(&a, 5 * n * sizeof(*l));
    bool shape = PQntuples(r) == 1 && PQnfields(r) == 5 &&
                 !PQgetisnull(r, 0, 1);
    for (int c = 0; shape && c < 5; c++)
        shape = PQgetisnull(r, 0, c) ||
                arr_read(PQgetvalue(r, 0, c), (size_t)PQgetlength(r, 0, c),
                         n, v + c * n, l + c * n);
    for (size_t i = 0; shape && i < n; i++)
        shape = PQgetisnull(r, 0, 2) ? evtext[i] != NULL : l[2 * n + i] >= 0;
    if (!shape) {
        log_error("store.ingest_mismatch", "rows=%d want=%zu", PQntuples(r), n);
        rc = HUB_EDB;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        res[i].duplicate = !PQgetisnull(r, 0, 0) && l[i] == 1 && v[i][0] != 0;
        res[i].kept = !PQgetisnull(r, 0, 4) && l[4 * n + i] == 1 &&
                      v[4 * n + i][0] != 0;
        if (l[n + i] == 8)
            res[i].message_seq = be64(v[n + i]);
        res[i].event_ids_json =
            PQgetisnull(r, 0, 2)
                ? xstrndup(evtext[i], strlen(evtext[i]))
                : xstrndup(v[2 * n + i], (size_t)l[2 * n + i]);
        if (!PQgetisnull(r, 0, 3) && l[3 * n + i] >= 0) {
            res[i].reply_len = (size_t)l[3 * n + i];
            res[i].reply = xstrndup(v[3 * n + i], res[i].reply_len);
        }
    }
    rc = HUB_OK;
out:
    PQclear(r);
    for (int i = 0; i < P_N; i++)
        free(p[i].p);
    arena_release(&a);
    if (rc != HUB_OK)
        for (size_t i = 0; i < n; i++)
            store_msg_result_release(&res[i]);
    return rc;
}

void store_msg_result_release(struct store_msg_result *r)
{
    if (r == NULL)
        return;
    free(r->reply);
    free(r->event_ids_json);
    r->reply = NULL;
    r->event_ids_json = NULL;
    r->reply_len = 0;
}

/* --- auth ---------------------------------------------------------------- */

static bool is_hex64(const char *h)
{
    if (h == NULL || strlen(h) != 64)
        return false;
    for (int i = 0; i < 64; i++)
        if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
            return false;
    return true;
}

static int auth_query(struct store *s, const char *op, const char *sql,
                      const char *hash, struct principal *out)
{
    int rc;
    const char *p[] = { hash };

    if (!is_hex64(hash))
        return HUB_ENOTFOUND;
    PGresult *r = run(s, op, sql, 1, p, &rc);
    if (r == NULL)
        return rc;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return HUB_ENOTFOUND;
    }
    memset(out, 0, sizeof(*out));
    snprintf(out->org_id, sizeof(out->org_id), "%s", PQgetvalue(r, 0, 0));
    out->scopes = scopes_from_array(PQgetvalue(r, 0, 1));
    out->valid_s = -1;
    if (PQnfields(r) > 2)           /* a token narrows its org's scopes */
        out->scopes &= scopes_from_array(PQgetvalue(r, 0, 2));
    if (PQnfields(r) > 3 && !PQgetisnull(r, 0, 3))
        out->valid_s = strtol(PQgetvalue(r, 0, 3), NULL, 10);
    PQclear(r);
    return HUB_OK;
}

int store_auth_token(struct store *s, const char *token_sha256,
                     struct principal *out)
{
    return auth_query(s, "auth.token",
                      "SELECT o.id, o.scopes, t.scopes, "
                      "floor(extract(epoch FROM t.expires_at - now()))"
                      "::bigint FROM api_tokens t "
                      "JOIN organizations o ON o.id = t.org_id "
                      "WHERE t.token_sha256 = $1 AND t.revoked_at IS NULL "
                      "AND (t.expires_at IS NULL OR t.expires_at > now())",
                      token_sha256, out);
}

int store_auth_cert(struct store *s, const char *fingerprint,
                    struct principal *out)
{
    return auth_query(s, "auth.cert",
                      "SELECT o.id, o.scopes FROM cert_bindings c "
                      "JOIN organizations o ON o.id = c.org_id "
                      "WHERE c.fingerprint = $1 AND c.revoked_at IS NULL",
                      fingerprint, out);
}

/* --- pull feed ----------------------------------------------------------- */

/* "adt.*,screening.positive" to the text[] literal {adt.%,screening.positive}.
 * Topics are [a-z0-9.-] plus '*'; so nothing needs quoting in the literal
 * and nothing but '*' is special to LIKE. */
static int topics_to_like(const char *topic, char *out, size_t size)
{
    size_t len = 0, items = 0, item_len = 0;

    if (size < 3)
        return HUB_ELIMIT;
    out[len++] = '{';
    for (const char *p = topic; *p; p++) {
        char c = *p;
        if (c == ',') {
            if (item_len == 0)
                return HUB_EINVALID;
            item_len = 0;
        } else if (c == '*') {
            c = '%';
        } else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '.' || c == '-')) {
            return HUB_EINVALID;
        }
        if (c != ',' && item_len++ == 0 && ++items > 16)
            return HUB_ELIMIT;
        if (item_len > 64 || len + 2 >= size)
            return HUB_ELIMIT;
        out[len++] = c;
    }
    if (item_len == 0)
        return HUB_EINVALID;
    out[len++] = '}';
    out[len] = '\0';
    return HUB_OK;
}

int store_events_page(struct store *s, const struct principal *who,
                      int64_t after, const char *topic, const char *since,
                      int limit, char **json_out)
{
    char like[1200], after_s[24], limit_s[16];
    const char *topics = NULL;
    int rc;

    *json_out = NULL;
    if (after < 0)
        return HUB_EINVALID;
    if (topic && *topic) {
        rc = topics_to_like(topic, like, sizeof(like));
        if (rc != HUB_OK)
            return rc;
        topics = like;
    }
    if (since && *since == '\0')
        since = NULL;
    if (since && strlen(since) > 40)
        return HUB_EINVALID;
    if (limit <= 0)
        limit = STORE_FEED_DEFAULT;
    if (limit > STORE_FEED_MAX)
        limit = STORE_FEED_MAX;
    snprintf(after_s, sizeof(after_s), "%lld", (long long)after);
    snprintf(limit_s, sizeof(limit_s), "%d", limit);
    const char *p[] = { who->org_id, (who->scopes & SCOPE_ADMIN) ? "t" : "f",
                        after_s, topics, since, limit_s };
    /* NULL result: `since` was given but is not a time */
    PGresult *r = run(s, "feed",
                      "SELECT CASE WHEN $5::text IS NOT NULL AND "
                      "hub_parse_ts($5) IS NULL THEN NULL ELSE "
                      "hub_feed_page($1, $2, $3, $4::text[], hub_parse_ts($5),"
                      " $6) END",
                      6, p, &rc);
    if (r == NULL && strcmp(s->sqlstate, "22H10") == 0)
        return store_query_text(s, "SELECT CASE WHEN is_called THEN "
                                "last_value ELSE 0 END FROM events_seq", 0,
                                NULL, json_out) == HUB_OK && *json_out
                   ? HUB_ENOTFOUND : HUB_EDB;
    if (r == NULL)
        return rc;
    if (PQntuples(r) != 1 || PQgetisnull(r, 0, 0)) {
        PQclear(r);
        return HUB_EINVALID;
    }
    *json_out = xstrndup(PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0));
    PQclear(r);
    return HUB_OK;
}

/* --- administration ------------------------------------------------------ */

/* Run one statement that returns one row; HUB_ENOTFOUND when none. */
static int one_row(struct store *s, const char *op, const char *sql, int n,
                   const char *const *params)
{
    int rc;
    PGresult *r = run(s, op, sql, n, params, &rc);
    if (r == NULL)
        return rc;
    rc = PQntuples(r) >= 1 ? HUB_OK : HUB_ENOTFOUND;
    PQclear(r);
    return rc;
}

int store_org_add(struct store *s, const char *actor, const char *id,
                  const char *name, const char *kind, unsigned scopes)
{
    char arr[160];

    scopes_to_array(scopes, arr, sizeof(arr));
    const char *p[] = { id, name, kind, arr, actor };
    return one_row(s, "org.add",
                   "WITH o AS (INSERT INTO organizations (id, name, kind, "
                   "scopes) VALUES ($1, $2, $3, $4::text[]) RETURNING id, "
                   "kind, scopes) SELECT hub_audit_append($5, 'org.added', "
                   "'organization', o.id, NULL, jsonb_build_object('kind', "
                   "o.kind, 'scopes', o.scopes)) FROM o",
                   5, p);
}

int store_org_update(struct store *s, const char *actor, const char *id,
                     const char *name, long scopes)
{
    char arr[160];

    if (scopes >= 0)
        scopes_to_array((unsigned)scopes, arr, sizeof(arr));
    const char *p[] = { id, name, scopes >= 0 ? arr : NULL, actor };
    return one_row(s, "org.update",
                   "WITH o AS (UPDATE organizations SET "
                   "name = coalesce($2, name), "
                   "scopes = coalesce($3::text[], scopes) WHERE id = $1 "
                   "RETURNING id, scopes) SELECT hub_audit_append($4, "
                   "'org.updated', 'organization', o.id, NULL, "
                   "jsonb_build_object('scopes', o.scopes, 'renamed', "
                   "$2::text IS NOT NULL)) FROM o",
                   4, p);
}

int store_org_set_labels(struct store *s, const char *actor, const char *id,
                         const char *csv)
{
    const char *p[] = { id, csv, actor };
    return one_row(s, "org.labels",
                   "WITH o AS (UPDATE organizations SET labels = "
                   "ARRAY(SELECT DISTINCT btrim(x) FROM unnest("
                   "string_to_array($2, ',')) x WHERE btrim(x) <> '' "
                   "ORDER BY 1) WHERE id = $1 RETURNING id, labels) "
                   "SELECT hub_audit_append($3, 'org.labels', "
                   "'organization', o.id, NULL, jsonb_build_object("
                   "'labels', o.labels)) FROM o",
                   3, p);
}

int store_org_list(struct store *s, char **json_out)
{
    return store_query_text(s,
        "SELECT coalesce(json_agg(json_build_object('id', id, 'name', name, "
        "'kind', kind, 'scopes', scopes, 'labels', labels, 'created_at', "
        "created_at) ORDER BY id), '[]')::text FROM organizations", 0, NULL,
        json_out);
}

int store_authority_set(struct store *s, const char *actor, const char *org,
                        const char *ns, const char *system, char **json_out)
{
    const char *p[] = { actor, org, ns, system };
    *json_out = NULL;
    int rc = store_query_text(s, "SELECT hub_authority_set($1, $2, $3, $4)"
                              "::text", 4, p, json_out);
    const char *st = store_last_sqlstate(s);
    if (rc != HUB_OK && (!strcmp(st, "23503") || !strcmp(st, "P0002")))
        return HUB_ENOTFOUND;       /* no such org; no map to clear */
    return rc;
}

int store_authority_list(struct store *s, const char *org, char **json_out)
{
    const char *p[] = { org };
    return store_query_text(s,
        "SELECT coalesce(json_agg(json_build_object('org', org_id, "
        "'namespace', namespace, 'system', system, 'created_at', created_at) "
        "ORDER BY org_id, namespace), '[]')::text FROM org_authorities "
        "WHERE $1::text IS NULL OR org_id = $1", 1, p, json_out);
}

int store_token_add(struct store *s, const char *actor, const char *org_id,
                    const char *token_sha256, const char *prefix,
                    unsigned scopes, int expires_days)
{
    char arr[160], days[16];

    if (!is_hex64(token_sha256) || expires_days < 0)
        return HUB_EINVALID;
    scopes_to_array(scopes, arr, sizeof(arr));
    snprintf(days, sizeof(days), "%d", expires_days);
    const char *p[] = { token_sha256, prefix, org_id, arr, actor, days };
    return one_row(s, "token.add",
                   "WITH t AS (INSERT INTO api_tokens (token_sha256, prefix, "
                   "org_id, scopes, expires_at) SELECT $1, $2, o.id, "
                   "ARRAY(SELECT x FROM unnest($4::text[]) x "
                   "WHERE x = ANY (o.scopes)), CASE WHEN $6::int > 0 THEN "
                   "now() + make_interval(days => $6::int) END "
                   "FROM organizations o WHERE o.id = $3 "
                   "RETURNING prefix, org_id, scopes, expires_at) "
                   "SELECT hub_audit_append($5, 'token.created', 'token', "
                   "t.prefix, NULL, jsonb_strip_nulls(jsonb_build_object("
                   "'org', t.org_id, 'scopes', t.scopes, 'expires_at', "
                   "t.expires_at))) FROM t",
                   6, p);
}

int store_token_revoke(struct store *s, const char *actor, const char *prefix)
{
    int rc;
    char *count = NULL;

    if (prefix == NULL || strlen(prefix) < 8 || strlen(prefix) > 64)
        return HUB_EINVALID;
    const char *p[] = { prefix, actor };
    /* one statement: revoke only when exactly one live token matches */
    rc = store_query_text(s,
        "WITH m AS (SELECT token_sha256 FROM api_tokens "
        "  WHERE revoked_at IS NULL AND (prefix = $1 OR "
        "  (length($1) >= 8 AND token_sha256 LIKE "
        "   replace(replace($1, '%', ''), '_', '') || '%'))), "
        "n AS (SELECT count(*) AS c FROM m), "
        "u AS (UPDATE api_tokens SET revoked_at = now() "
        "  WHERE token_sha256 IN (SELECT token_sha256 FROM m) "
        "  AND (SELECT c FROM n) = 1 RETURNING prefix, org_id), "
        "a AS (SELECT hub_audit_append($2, 'token.revoked', 'token', "
        "  u.prefix, NULL, jsonb_build_object('org', u.org_id)) FROM u) "
        "SELECT (SELECT c FROM n)::text || ':' || (SELECT count(*) FROM a)",
        2, p, &count);
    if (rc != HUB_OK)
        return rc;
    if (count && strcmp(count, "1:1") == 0)
        rc = HUB_OK;
    else if (count && count[0] == '0')
        rc = HUB_ENOTFOUND;
    else
        rc = HUB_EINVALID;
    free(count);
    return rc;
}

int store_token_list(struct store *s, char **json_out)
{
    return store_query_text(s,
        "SELECT coalesce(json_agg(json_build_object('prefix', prefix, "
        "'org', org_id, 'scopes', scopes, 'created_at', created_at, "
        "'revoked_at', revoked_at, 'expires_at', expires_at) "
        "ORDER BY created_at), '[]')::text "
        "FROM api_tokens", 0, NULL, json_out);
}

int store_cert_bind(struct store *s, const char *actor, const char *org_id,
                    const char *fingerprint)
{
    if (!is_hex64(fingerprint))
        return HUB_EINVALID;
    const char *p[] = { fingerprint, org_id, actor };
    int rc = one_row(s, "cert.bind",
                     "WITH c AS (INSERT INTO cert_bindings (fingerprint, "
                     "org_id) VALUES ($1, $2) ON CONFLICT (fingerprint) DO "
                     "UPDATE SET org_id = EXCLUDED.org_id, revoked_at = NULL, "
                     "created_at = now() WHERE cert_bindings.revoked_at IS "
                     "NOT NULL OR cert_bindings.org_id = EXCLUDED.org_id "
                     "RETURNING fingerprint, org_id) "
                     "SELECT hub_audit_append($3, 'cert.bound', "
                     "'certificate', c.fingerprint, NULL, "
                     "jsonb_build_object('org', c.org_id)) FROM c",
                     3, p);
    if (rc == HUB_ENOTFOUND)
        return HUB_EINVALID;        /* no row: live-bound to another org */
    if (rc != HUB_OK && strcmp(store_last_sqlstate(s), "23503") == 0)
        return HUB_ENOTFOUND;       /* no such org */
    return rc;
}

int store_cert_revoke(struct store *s, const char *actor,
                      const char *fingerprint)
{
    if (!is_hex64(fingerprint))
        return HUB_EINVALID;
    const char *p[] = { fingerprint, actor };
    return one_row(s, "cert.revoke",
                   "WITH c AS (UPDATE cert_bindings SET revoked_at = now() "
                   "WHERE fingerprint = $1 AND revoked_at IS NULL "
                   "RETURNING fingerprint, org_id) "
                   "SELECT hub_audit_append($2, 'cert.revoked', "
                   "'certificate', c.fingerprint, NULL, "
                   "jsonb_build_object('org', c.org_id)) FROM c",
                   2, p);
}

int store_cert_list(struct store *s, char **json_out)
{
    return store_query_text(s,
        "SELECT coalesce(json_agg(json_build_object('fingerprint', "
        "fingerprint, 'org', org_id, 'created_at', created_at, "
        "'revoked_at', revoked_at) ORDER BY created_at, fingerprint), "
        "'[]')::text FROM cert_bindings", 0, NULL, json_out);
}

/* --- quarantine --------------------------------------------------------- */

int store_quarantine_list(struct store *s, const char *org,
                          const char *before, int limit, char **json_out)
{
    char lim[16];
    snprintf(lim, sizeof(lim), "%d", limit > 0 ? limit : 50);
    const char *p[] = { org, before, lim };
    /* by the partial index messages_quarantined (received_at) */
    return store_query_text(s,
        "SELECT coalesce(json_agg(json_build_object('id', q.id::text, "
        "'org', q.org_id, 'format', q.format, 'key', q.idem_key, "
        "'received_at', q.received_at, 'code', q.error->>'code', "
        "'field', q.error->>'field', 'offset', q.error->'offset', "
        "'message', q.error->>'message') ORDER BY q.received_at DESC, "
        "q.id DESC), '[]')::text FROM (SELECT * FROM messages m "
        "WHERE m.status = 'quarantined' "
        "AND ($1::text IS NULL OR m.org_id = $1) "
        "AND ($2::timestamptz IS NULL OR m.received_at < $2::timestamptz) "
        "ORDER BY m.received_at DESC, m.id DESC LIMIT $3::int) q",
        3, p, json_out);
}

int store_quarantine_raw(struct store *s, const char *actor, const char *id,
                         char **raw, size_t *len)
{
    char *text = NULL;
    const char *p[] = { id, actor };
    *raw = NULL;
    *len = 0;
    if (id == NULL || !*id || strspn(id, "0123456789") != strlen(id) ||
        strlen(id) > 18)
        return HUB_EINVALID;
    int rc = store_query_text(s,
        "WITH q AS (SELECT m.id, m.sha256, m.raw FROM messages m "
        "WHERE m.id = $1::bigint AND m.status = 'quarantined'), "
        "a AS (SELECT hub_audit_append($2, 'quarantine.read', 'message', "
        "q.id::text, NULL, jsonb_build_object('sha256', q.sha256)) FROM q) "
        "SELECT q.raw FROM q, a", 2, p, &text);
    if (rc != HUB_OK)
        return rc;
    if (text == NULL)
        return HUB_ENOTFOUND;
    /* bytea's text form (hex) to its bytes, by libpq */
    size_t n;
    unsigned char *b = PQunescapeBytea((const unsigned char *)text, &n);
    free(text);
    if (b == NULL)
        abort();                        /* out of memory, as xmalloc */
    *raw = xmalloc(n + 1);
    memcpy(*raw, b, n);
    (*raw)[n] = '\0';
    *len = n;
    PQfreemem(b);
    return HUB_OK;
}

/* --- audit --------------------------------------------------------------- */

int store_audit_append(struct store *s, const char *actor, const char *action,
                       const char *object_kind, const char *object_id,
                       const char *patient_hub_id, const char *detail_json)
{
    const char *p[] = { actor, action, object_kind, object_id, patient_hub_id,
                        detail_json };
    return one_row(s, "audit.append",
                   "SELECT hub_audit_append($1, $2, $3, $4, $5, $6::jsonb)",
                   6, p);
}

int store_audit_verify(struct store *s, struct store_audit_check *c)
{
    int rc;
    PGresult *r = run(s, "audit.verify",
                      "SELECT ok, rows_checked, bad_seq, problem, head_seq, "
                      "head_hash, anchor_seq FROM hub_audit_verify()", 0,
                      NULL, &rc);

    memset(c, 0, sizeof(*c));
    if (r == NULL)
        return rc;
    /* the head it reports may be recorded as an anchor: durable first */
    if ((rc = store_durable(s)) != HUB_OK) {
        PQclear(r);
        return rc;
    }
    if (PQntuples(r) != 1) {
        PQclear(r);
        return HUB_EDB;
    }
    c->ok = PQgetvalue(r, 0, 0)[0] == 't';
    c->rows_checked = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    c->bad_seq = PQgetisnull(r, 0, 2) ? 0
                                      : strtoll(PQgetvalue(r, 0, 2), NULL, 10);
    snprintf(c->problem, sizeof(c->problem), "%s", PQgetvalue(r, 0, 3));
    c->head_seq = PQgetisnull(r, 0, 4) ? 0
                                       : strtoll(PQgetvalue(r, 0, 4), NULL, 10);
    snprintf(c->head_hash, sizeof(c->head_hash), "%s", PQgetvalue(r, 0, 5));
    c->anchor_seq = strtoll(PQgetvalue(r, 0, 6), NULL, 10);
    PQclear(r);
    return HUB_OK;
}

int store_audit_check_anchor(struct store *s, int64_t seq, const char *hash)
{
    char seq_s[24], *got = NULL;
    int rc;

    snprintf(seq_s, sizeof(seq_s), "%lld", (long long)seq);
    const char *p[] = { seq_s };
    /* a row the retention pruned: the anchor is the last one, and what
     * went before it can no longer be compared */
    rc = store_query_text(s,
        "SELECT CASE WHEN $1::bigint < a.seq THEN 'pruned' "
        "ELSE coalesce((SELECT hash FROM audit WHERE seq = $1::bigint), "
        "CASE WHEN $1::bigint = a.seq THEN a.hash END) END "
        "FROM audit_anchor a", 1, p, &got);
    if (rc != HUB_OK)
        return rc;
    rc = got == NULL ? HUB_ENOTFOUND
         : !strcmp(got, "pruned") ? HUB_EUNSUPPORTED
         : (hash && strcmp(got, hash) == 0 ? HUB_OK : HUB_EINVALID);
    free(got);
    return rc;
}

int store_audit_list(struct store *s, const char *patient_hub_id,
                     const char *identifier, int64_t after, int limit,
                     char **json_out)
{
    char after_s[24], limit_s[16], system[512];
    const char *value = NULL, *sys = NULL;

    if (limit <= 0)
        limit = STORE_FEED_DEFAULT;
    if (limit > STORE_FEED_MAX)
        limit = STORE_FEED_MAX;
    if (identifier) {
        /* SYSTEM|VALUE (a FHIR token), or VALUE in every system */
        const char *bar = strchr(identifier, '|');
        value = bar ? bar + 1 : identifier;
        if (bar && bar > identifier) {
            if ((size_t)(bar - identifier) >= sizeof(system))
                return HUB_EINVALID;
            memcpy(system, identifier, (size_t)(bar - identifier));
            system[bar - identifier] = '\0';
            sys = system;
        }
        if (*value == '\0')
            return HUB_EINVALID;
    }
    snprintf(after_s, sizeof(after_s), "%lld", (long long)after);
    snprintf(limit_s, sizeof(limit_s), "%d", limit);
    const char *p[] = { patient_hub_id, after_s, limit_s, value, sys };
    /* the patients: the one named, or those the identifier names; each
     * with the patients merged into it */
    int rc = store_query_text(s,
        "WITH named AS ("
        "  SELECT $1::text AS id WHERE $1::text IS NOT NULL UNION "
        "  SELECT i.hub_id FROM patient_identifiers i WHERE $4::text IS NOT "
        "  NULL AND i.value = $4 AND ($5::text IS NULL OR i.system = $5)), "
        "ids AS (SELECT id FROM named UNION "
        "  SELECT hub_id FROM patients WHERE merged_into IN "
        "  (SELECT id FROM named)) "
        "SELECT json_build_object('audit', coalesce(json_agg(json_build_object("
        "'seq', a.seq, 'at', a.at, 'actor', a.actor, 'action', a.action, "
        "'object_kind', a.object_kind, 'object_id', a.object_id, "
        "'patient', a.patient_hub_id, 'detail', a.detail::json) ORDER BY a.seq), "
        "'[]'), 'next', coalesce(max(a.seq), $2::bigint)::text, "
        "'patients', CASE WHEN $4::text IS NOT NULL THEN (SELECT "
        "coalesce(json_agg(id ORDER BY id), '[]') FROM named) END)::text "
        "FROM (SELECT * FROM audit WHERE seq > $2::bigint AND "
        "(($1::text IS NULL AND $4::text IS NULL) OR patient_hub_id = ANY "
        "(ARRAY(SELECT id FROM ids))) "
        "ORDER BY seq LIMIT $3::int) a",
        5, p, json_out);
    /* the rows may be an ingest's not yet flushed: durable before shown */
    if (rc == HUB_OK && (rc = store_durable(s)) != HUB_OK) {
        free(*json_out);
        *json_out = NULL;
    }
    return rc;
}

/* --- plain SQL ----------------------------------------------------------- */

int store_exec(struct store *s, const char *sql)
{
    int rc = ensure_conn(s);
    if (rc != HUB_OK)
        return rc;
    return exec_cmd(s, "exec", sql);
}

int store_query(struct store *s, const char *sql, int nparams,
                const char *const *params, struct store_rows **out)
{
    int rc;

    *out = NULL;
    PGresult *r = run(s, "query", sql, nparams, params, &rc);
    if (r == NULL)
        return rc;
    *out = xmalloc(sizeof(**out));
    (*out)->r = r;
    return HUB_OK;
}

int store_query_prepared(struct store *s, const char *name, const char *sql,
                         int nparams, const char *const *params,
                         struct store_rows **out)
{
    int rc;

    *out = NULL;
    PGresult *r = run_named(s, "query", name, sql, nparams, params, &rc);
    if (r == NULL)
        return rc;
    *out = xmalloc(sizeof(**out));
    (*out)->r = r;
    return HUB_OK;
}

int store_rows_count(const struct store_rows *r)
{
    return r ? PQntuples(r->r) : 0;
}

const char *store_rows_get(const struct store_rows *r, int row, int col)
{
    if (r == NULL || row < 0 || row >= PQntuples(r->r) || col < 0 ||
        col >= PQnfields(r->r) || PQgetisnull(r->r, row, col))
        return NULL;
    return PQgetvalue(r->r, row, col);
}

void store_rows_free(struct store_rows *r)
{
    if (r == NULL)
        return;
    PQclear(r->r);
    free(r);
}

int store_query_text(struct store *s, const char *sql, int nparams,
                     const char *const *params, char **out)
{
    int rc;

    *out = NULL;
    PGresult *r = run(s, "query", sql, nparams, params, &rc);
    if (r == NULL)
        return rc;
    if (PQntuples(r) > 0 && PQnfields(r) > 0 && !PQgetisnull(r, 0, 0))
        *out = xstrndup(PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0));
    PQclear(r);
    return HUB_OK;
}

/* --- LISTEN/NOTIFY wake-ups (issue 4, dispatch) ------------------------- */

int store_listen(struct store *s, const char *channel)
{
    char sql[96];
    size_t n = channel ? strlen(channel) : 0;

    /* an identifier we write ourselves, never input: checked anyway */
    if (n == 0 || n > 63 ||
        strspn(channel, "abcdefghijklmnopqrstuvwxyz_") != n)
        return HUB_EINVALID;
    snprintf(sql, sizeof(sql), "LISTEN %s", channel);
    return store_exec(s, sql);
}

int store_socket(const struct store *s)
{
    return PQstatus(s->c) == CONNECTION_OK ? PQsocket(s->c) : -1;
}

int store_notifications(struct store *s)
{
    PGnotify *nt;
    int n = 0;

    if (!PQconsumeInput(s->c))
        return HUB_EDB;
    while ((nt = PQnotifies(s->c)) != NULL) {
        n++;
        PQfreemem(nt);
    }
    /* the server's FATAL (pg_terminate_backend, a shutdown) may come in
     * one read with its close: the link is gone even though the read was */
    if (PQstatus(s->c) != CONNECTION_OK)
        return HUB_EDB;
    return n;
}

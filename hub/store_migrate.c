/*
 * store_migrate.c - hubctl migrate and hubd's migration at start: the
 * numbered SQL files of schemas/migrations applied in order, each once,
 * under an advisory lock so that two at once do not race.
 */
#include "store_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hub_err.h"
#include "log.h"
#include "readfile.h"

#define MIGRATION_MAX_BYTES (4u << 20)
#define MIGRATE_LOCK_KEY "7302100432"

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

    rc = db_exec_cmd(s, "migrate.begin", "BEGIN");
    if (rc == HUB_OK)
        rc = db_exec_cmd(s, "migrate.lock",
                      "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK_KEY ")");
    if (rc == HUB_OK)
        rc = db_exec_cmd(s, "migrate.table",
                      "CREATE TABLE IF NOT EXISTS schema_migrations ("
                      " version text PRIMARY KEY,"
                      " name text NOT NULL,"
                      " sha256 text NOT NULL,"
                      " applied_at timestamptz NOT NULL DEFAULT now())");
    if (rc == HUB_OK) {
        const char *q[] = { version };
        PGresult *r = db_run(s, "migrate.check",
                          "SELECT sha256 FROM schema_migrations "
                          "WHERE version = $1", 1, q, &rc);
        if (r && PQntuples(r) > 0) {
            done = true;
            snprintf(recorded, sizeof(recorded), "%s", PQgetvalue(r, 0, 0));
        }
        PQclear(r);
    }
    if (rc == HUB_OK && !done) {
        rc = db_exec_cmd(s, name, sql);
        if (rc == HUB_OK) {
            const char *p[] = { version, name, sha };
            PGresult *ins = db_run(s, "migrate.record",
                                "INSERT INTO schema_migrations (version, "
                                "name, sha256) VALUES ($1, $2, $3)", 3, p,
                                &rc);
            PQclear(ins);
        }
    }
    if (rc == HUB_OK)
        rc = db_exec_cmd(s, "migrate.commit", "COMMIT");
    if (rc != HUB_OK) {
        (void)db_exec_cmd(s, "migrate.rollback", "ROLLBACK");
        /* the constraint names the table whose rows a migration refuses
         * (024: a map into the hub's space), which hubctl, its refusals
         * quiet, would not say otherwise */
        log_error("store.migration_failed", "file=%s sqlstate=%s "
                  "constraint=%s", name, s->sqlstate,
                  s->constraint[0] ? s->constraint : "-");
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

    rc = db_ensure_conn(s);
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

int store_migration_missing(struct store *s, const char *dir, char *name,
                            size_t n)
{
    struct dirent **list = NULL;
    int count, rc;
    bool table = false;

    name[0] = '\0';
    rc = db_ensure_conn(s);
    if (rc != HUB_OK)
        return rc;
    PGresult *t = db_run(s, "migrate.table_exists",
                         "SELECT to_regclass('schema_migrations') IS NOT "
                         "NULL", 0, NULL, &rc);
    if (t && PQntuples(t) == 1)
        table = PQgetvalue(t, 0, 0)[0] == 't';
    PQclear(t);
    if (rc != HUB_OK)
        return rc;
    count = scandir(dir, &list, is_migration_name, alphasort);
    if (count < 0)
        return HUB_EIO;
    for (int i = 0; i < count; i++) {
        const char *f = list[i]->d_name;
        char version[4] = { f[0], f[1], f[2], '\0' };
        bool have = false;
        if (rc == HUB_OK && name[0] == '\0' && table) {
            const char *p[] = { version };
            PGresult *r = db_run(s, "migrate.check",
                                 "SELECT 1 FROM schema_migrations "
                                 "WHERE version = $1", 1, p, &rc);
            have = r && PQntuples(r) > 0;
            PQclear(r);
        }
        if (rc == HUB_OK && name[0] == '\0' && !have)
            snprintf(name, n, "%s", f);
        free(list[i]);
    }
    free(list);
    return rc;
}

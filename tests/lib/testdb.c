/*
 * testdb.c - see testdb.h. Talks to PostgreSQL only through store.h, so that
 * libpq stays behind the store files (hub/store_int.h).
 */
#include "testdb.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/hub_err.h"
#include "readfile.h"
#include "store.h"

const char *testdb_root(void)
{
    const char *r = getenv("HUB_ROOT");
    return r && *r ? r : ".";
}

static char migrations_dir[4096];

static void migrations_dir_init(void)
{
    snprintf(migrations_dir, sizeof(migrations_dir), "%s/schemas/migrations",
             testdb_root());
}

/* Written once: tests call it from several threads at once (two migrating
 * processes), and a second snprintf into the buffer could be read half
 * written by the first caller. */
const char *testdb_migrations_dir(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, migrations_dir_init);
    return migrations_dir;
}

/* The admin URL: HUB_TEST_ADMIN_URL, or start the private server. */
static char *admin_url(void)
{
    const char *env = getenv("HUB_TEST_ADMIN_URL");
    char cmd[4200], line[1024];
    FILE *p;

    if (env && *env)
        return strdup(env);
    snprintf(cmd, sizeof(cmd), "'%s/deploy/devdb.sh' start >/dev/null && "
             "'%s/deploy/devdb.sh' url postgres", testdb_root(), testdb_root());
    p = popen(cmd, "r");
    if (p == NULL)
        return NULL;
    char *got = fgets(line, sizeof(line), p);
    if (pclose(p) != 0 || got == NULL)
        return NULL;
    line[strcspn(line, "\r\n")] = '\0';
    return strdup(line);
}

/* The same URL with another database name: the path after host[:port]. */
static char *with_db(const char *url, const char *db)
{
    const char *scheme = strstr(url, "://");
    const char *slash = strchr(scheme ? scheme + 3 : url, '/');
    const char *query = strchr(url, '?');
    size_t head = slash ? (size_t)(slash - url)
                        : (query ? (size_t)(query - url) : strlen(url));
    const char *tail = query ? query : "";
    size_t n = head + 1 + strlen(db) + strlen(tail) + 1;
    char *out = malloc(n);

    if (out == NULL)
        abort();
    snprintf(out, n, "%.*s/%s%s", (int)head, url, db, tail);
    return out;
}

static const char *db_name(const char *url, char *out, size_t size)
{
    const char *scheme = strstr(url, "://");
    const char *slash = strchr(scheme ? scheme + 3 : url, '/');
    const char *end;

    if (slash == NULL)
        return NULL;
    end = strchr(slash, '?');
    size_t len = end ? (size_t)(end - slash - 1) : strlen(slash + 1);
    if (len == 0 || len >= size)
        return NULL;
    memcpy(out, slash + 1, len);
    out[len] = '\0';
    return out;
}

/* A migrations file name, as store_migrate() picks them (NNN_*.sql). */
static int is_migration(const struct dirent *d)
{
    size_t len = strlen(d->d_name);
    return len > 8 && d->d_name[3] == '_' &&
           strspn(d->d_name, "0123456789") == 3 &&
           strcmp(d->d_name + len - 4, ".sql") == 0;
}

/* The template's name: hubtest_tpl_ and 12 hex digits of the SHA-256 of
 * every migration's name and text, so that an edited or added migration
 * makes a new template instead of reusing a stale one. */
static bool template_name(char *out, size_t size)
{
    struct dirent **list = NULL;
    char *all = NULL, *sql, hex[65];
    size_t len = 0, n;
    int count = scandir(testdb_migrations_dir(), &list, is_migration,
                        alphasort);
    bool ok = count > 0;

    for (int i = 0; i < count; i++) {
        char path[4400];
        snprintf(path, sizeof(path), "%s/%s", testdb_migrations_dir(),
                 list[i]->d_name);
        if (ok && read_file(path, 16u << 20, &sql, &n) == HUB_OK) {
            size_t name_len = strlen(list[i]->d_name) + 1;
            char *grown = realloc(all, len + name_len + n);
            if (grown == NULL)
                abort();
            all = grown;
            memcpy(all + len, list[i]->d_name, name_len);
            memcpy(all + len + name_len, sql, n);
            len += name_len + n;
            free(sql);
        } else {
            ok = false;
        }
        free(list[i]);
    }
    free(list);
    if (ok) {
        store_sha256_hex(all, len, hex);
        snprintf(out, size, "hubtest_tpl_%.12s", hex);
    }
    free(all);
    return ok;
}

/*
 * The migrated template that test databases are copied from (CREATE
 * DATABASE ... TEMPLATE: about half the time of migrating each one), made
 * once per migrations' state under an advisory lock, migrated under
 * another name and renamed when whole, so that no test copies a template
 * half made. Templates of other states are dropped. False: make each
 * database by migrating it, as before.
 */
static bool ensure_template(struct store *admin, const char *aurl,
                            const char *tpl)
{
    char sql[256], *found = NULL, *url;
    char building[64];
    struct store *s = NULL;
    const char *p[] = { tpl };
    bool ok = false;

    if (store_query_text(admin, "SELECT datname FROM pg_database "
                         "WHERE datname = $1", 1, p, &found) != HUB_OK)
        return false;
    if (found) {
        free(found);
        return true;
    }
    if (store_exec(admin, "SELECT pg_advisory_lock(7305620014)") != HUB_OK)
        return false;
    if (store_query_text(admin, "SELECT datname FROM pg_database "
                         "WHERE datname = $1", 1, p, &found) == HUB_OK &&
        found) {
        free(found);
        (void)store_exec(admin, "SELECT pg_advisory_unlock(7305620014)");
        return true;
    }
    snprintf(building, sizeof(building), "%s_b", tpl);
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
             building);
    (void)store_exec(admin, sql);
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", building);
    if (store_exec(admin, sql) == HUB_OK) {
        url = with_db(aurl, building);
        ok = store_connect(url, &s) == HUB_OK &&
             store_migrate(s, testdb_migrations_dir()) == HUB_OK;
        store_free(s);
        free(url);
        /* the migrating session's backend may not have left yet: a
         * database with a session cannot be renamed */
        snprintf(sql, sizeof(sql), "ALTER DATABASE %s RENAME TO %s",
                 building, tpl);
        bool renamed = false;
        for (int i = 0; ok && !renamed && i < 100; i++) {
            renamed = store_exec(admin, sql) == HUB_OK;
            if (!renamed)
                usleep(20000);
        }
        ok = renamed;
    }
    if (ok) {
        struct store_rows *old = NULL;
        if (store_query(admin, "SELECT datname FROM pg_database WHERE "
                             "datname LIKE 'hubtest\\_tpl\\_%' AND "
                             "datname <> $1", 1, p, &old) == HUB_OK) {
            for (int i = 0; i < store_rows_count(old); i++) {
                snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s",
                         store_rows_get(old, i, 0));
                (void)store_exec(admin, sql);
            }
        }
        store_rows_free(old);
    }
    (void)store_exec(admin, "SELECT pg_advisory_unlock(7305620014)");
    return ok;
}

char *testdb_create(void)
{
    static unsigned counter;
    char name[64], sql[160], tpl[32];
    struct store *admin = NULL, *s = NULL;
    char *aurl = admin_url();
    char *url = NULL;
    struct timespec ts;

    if (aurl == NULL)
        return NULL;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(name, sizeof(name), "hubtest_%ld_%u_%ld", (long)getpid(),
             counter++, (long)(ts.tv_nsec % 1000000));
    if (store_connect(aurl, &admin) != HUB_OK)
        goto out;
    if (template_name(tpl, sizeof(tpl)) &&
        ensure_template(admin, aurl, tpl)) {
        snprintf(sql, sizeof(sql), "CREATE DATABASE %s TEMPLATE %s", name,
                 tpl);
        if (store_exec(admin, sql) == HUB_OK) {
            url = with_db(aurl, name);
            goto out;
        }
    }
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
    if (store_exec(admin, sql) != HUB_OK)
        goto out;
    url = with_db(aurl, name);
    if (store_connect(url, &s) != HUB_OK ||
        store_migrate(s, testdb_migrations_dir()) != HUB_OK) {
        store_free(s);
        s = NULL;
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
                 name);
        (void)store_exec(admin, sql);
        free(url);
        url = NULL;
    }
    store_free(s);
out:
    store_free(admin);
    free(aurl);
    return url;
}

void testdb_drop(char *url)
{
    char name[64], sql[128];
    struct store *admin = NULL;
    char *aurl;

    if (url == NULL)
        return;
    aurl = admin_url();
    if (aurl && db_name(url, name, sizeof(name)) &&
        strncmp(name, "hubtest_", 8) == 0 &&
        store_connect(aurl, &admin) == HUB_OK) {
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
                 name);
        (void)store_exec(admin, sql);
    }
    store_free(admin);
    free(aurl);
    free(url);
}

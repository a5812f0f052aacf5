/*
 * testdb.c - see testdb.h. Talks to PostgreSQL only through store.h, so that
 * libpq stays behind hub/store.c.
 */
#include "testdb.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/hub_err.h"
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

char *testdb_create(void)
{
    static unsigned counter;
    char name[64], sql[128];
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
        goto fail;
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
    if (store_exec(admin, sql) != HUB_OK)
        goto fail;
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
fail:
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

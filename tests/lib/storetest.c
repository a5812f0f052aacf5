/*
 * storetest.c - see storetest.h.
 */
#include "storetest.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/canon.h"
#include "common/hub_err.h"
#include "common/slice.h"
#include "store.h"
#include "subs.h"
#include "testdb.h"

const struct storetest_org storetest_hosp_cbo[2] = {
    { "hosp", "Hospital", "hospital", SCOPE_INGEST },
    { "cbo", "CBO", "cbo", SCOPE_SUBSCRIBE },
};

struct store *storetest_open(char **url, const struct storetest_org *orgs,
                             size_t n)
{
    struct store *s = NULL;

    *url = testdb_create();
    cr_assert_not_null(*url, "cannot create a test database");
    cr_assert_eq(store_connect(*url, &s), HUB_OK);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(store_org_add(s, "test", orgs[i].id, orgs[i].name,
                                   orgs[i].kind, orgs[i].scopes), HUB_OK,
                     "org %s", orgs[i].id);
    return s;
}

void storetest_close(struct store **s, char **url)
{
    store_free(*s);
    *s = NULL;
    testdb_drop(*url);
    *url = NULL;
}

char *storetest_text(struct store *s, const char *sql)
{
    char *out = NULL;
    cr_assert_eq(store_query_text(s, sql, 0, NULL, &out), HUB_OK, "%s", sql);
    return out;
}

long storetest_long(struct store *s, const char *sql)
{
    char *v = storetest_text(s, sql);
    long n = v ? strtol(v, NULL, 10) : -1;
    free(v);
    return n;
}

long storetest_wait_long(struct store *s, const char *sql, long want,
                         int timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t end = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000 + timeout_ms;
    long v;
    while ((v = storetest_long(s, sql)) != want) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        if (ts.tv_sec * 1000LL + ts.tv_nsec / 1000000 >= end)
            break;
        usleep(20 * 1000);
    }
    return v;
}

char *storetest_wal_insert(struct store *s)
{
    return storetest_text(s, "SELECT pg_current_wal_insert_lsn()::text");
}

char *storetest_wal_flushed(struct store *s)
{
    return storetest_text(s, "SELECT pg_current_wal_flush_lsn()::text");
}

bool storetest_durable_between(struct store *s, const char *from,
                               const char *flushed)
{
    char sql[1024];

    cr_assert_eq(store_exec(s, "CREATE EXTENSION IF NOT EXISTS "
                               "pg_walinspect"), HUB_OK);
    snprintf(sql, sizeof(sql),
             "WITH w AS (SELECT * FROM pg_get_wal_records_info('%s', '%s')) "
             "SELECT count(*) FROM w m JOIN w c ON c.xid = m.xid "
             " AND c.resource_manager = 'Transaction' "
             " AND c.record_type = 'COMMIT' AND c.end_lsn <= '%s' "
             "WHERE m.resource_manager = 'LogicalMessage' "
             " AND m.description LIKE '%%prefix \"hub.durable\"%%' "
             " AND m.start_lsn >= '%s'",
             from, flushed, flushed, from);
    return storetest_long(s, sql) > 0;
}

int storetest_ingest_rc(struct store *s, const char *org, const char *format,
                        const char *key, const char *type, const char *body)
{
    struct canon_event ev = { type, slice_from_cstr(body) };
    struct store_msg m;
    struct store_msg_result r;

    memset(&m, 0, sizeof(m));
    m.org_id = org;
    m.format = format;
    m.key = slice_from_cstr(key);
    m.raw = slice_from_cstr(body);
    store_sha256_hex(m.raw.p, m.raw.len, m.sha256);
    m.accepted = true;
    m.reply = SLICE_LIT("ok");
    m.ev = &ev;
    m.n_ev = 1;
    int rc = store_ingest_batch(s, &m, 1, &r);
    if (rc == HUB_OK)
        store_msg_result_release(&r);
    return rc;
}

void storetest_ingest(struct store *s, const char *org, const char *format,
                      const char *key, const char *type, const char *body)
{
    cr_assert_eq(storetest_ingest_rc(s, org, format, key, type, body), HUB_OK,
                 "ingest %s", key);
}

int storetest_claim(struct store *s, const char *node, int lease_ms, int max,
                    int per, long *ids, long *tokens)
{
    char sql[256];
    struct store_rows *r = NULL;
    snprintf(sql, sizeof(sql), "SELECT id, token FROM hub_claim_deliveries("
             "'%s', %d, %d, %d, '{}') ORDER BY id", node, lease_ms, max, per);
    cr_assert_eq(store_query(s, sql, 0, NULL, &r), HUB_OK, "%s", sql);
    int n = store_rows_count(r);
    for (int i = 0; i < n && i < max; i++) {
        ids[i] = strtol(store_rows_get(r, i, 0), NULL, 10);
        tokens[i] = strtol(store_rows_get(r, i, 1), NULL, 10);
    }
    store_rows_free(r);
    return n;
}

void storetest_json_id(const char *json, char id[64])
{
    const char *p = strstr(json, "\"id\": \"");
    cr_assert_not_null(p, "no id in %s", json);
    size_t n = strcspn(p + 7, "\"");
    cr_assert_lt(n, 64);
    memcpy(id, p + 7, n);
    id[n] = '\0';
}

void storetest_sub(struct store *s, const char *org, const char *json,
                   char id[64])
{
    char *out = NULL;
    struct hub_err e = { 0 };
    int rc = subs_create(s, "test", org, json, strlen(json), NULL, &out,
                         &e);
    cr_assert_eq(rc, HUB_OK, "create %s: %s %s", json, e.field,
                 e.what ? e.what : "");
    storetest_json_id(out, id);
    free(out);
}

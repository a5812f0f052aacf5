/*
 * storetest.c - see storetest.h.
 */
#include "storetest.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "common/hub_err.h"
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
    int rc = subs_create(s, "test", org, json, strlen(json), &out, &e);
    cr_assert_eq(rc, HUB_OK, "create %s: %s %s", json, e.field,
                 e.what ? e.what : "");
    storetest_json_id(out, id);
    free(out);
}

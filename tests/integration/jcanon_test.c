/*
 * jcanon_test.c - hub/jcanon.c against PostgreSQL itself: for every
 * document it accepts, its text must be exactly `$1::jsonb::text`; every
 * document PostgreSQL refuses it must refuse too. Documents: the golden
 * canonical events of tests/data, edge cases, and generated documents
 * (keys of every length and order, duplicates, escapes, numbers, nesting,
 * whitespace) from a fixed seed.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/hub_err.h"
#include "jcanon.h"
#include "store.h"
#include "../lib/jsongen.h"
#include "../lib/testdb.h"
#include "../lib/testfile.h"

static char *url;
static struct store *s;

static void setup(void)
{
    url = testdb_create();
    cr_assert_not_null(url, "cannot create a test database");
    cr_assert_eq(store_connect(url, &s), HUB_OK);
}

static void teardown(void)
{
    store_free(s);
    s = NULL;
    testdb_drop(url);
    url = NULL;
}

TestSuite(jcanon_pg, .init = setup, .fini = teardown, .timeout = 120);

/* Compare one document; returns whether jcanon accepted it. */
static bool check(const char *doc, size_t n)
{
    struct arena a;
    struct slice out;
    char *pg = NULL;
    char *copy = malloc(n + 1);

    memcpy(copy, doc, n);
    copy[n] = '\0';
    arena_init(&a, 4096);
    bool ok = jcanon(&a, doc, n, &out);
    const char *params[1] = { copy };
    int rc = strlen(copy) == n
                 ? store_query_text(s, "SELECT $1::jsonb::text", 1, params,
                                    &pg)
                 : HUB_EINVALID;        /* text cannot hold NUL */
    if (rc != HUB_OK) {
        cr_assert_not(ok, "accepted what PostgreSQL refuses: %s", copy);
    } else if (ok) {
        cr_assert_not_null(pg);
        cr_assert(out.len == strlen(pg) && memcmp(out.p, pg, out.len) == 0,
                  "differs from jsonb:\n in:  %s\n c:   %.*s\n pg:  %s",
                  copy, (int)out.len, out.p, pg);
    }
    free(pg);
    free(copy);
    arena_release(&a);
    return ok;
}

static bool check_str(const char *doc)
{
    return check(doc, strlen(doc));
}

/* goldens are plain JSON: every one must take the fast way */
static int golden_check(const char *path, const char *doc, size_t n,
                        void *arg)
{
    (void)arg;
    cr_assert_not_null(doc, "%s", path);
    return check(doc, n);
}

Test(jcanon_pg, golden_events_are_accepted_and_equal)
{
    int files = testfile_each_golden_event(golden_check, NULL);
    cr_assert_gt(files, 20, "only %d golden files accepted", files);
}

Test(jcanon_pg, edge_cases_match_or_are_left_to_postgresql)
{
    static const char *const must_accept[] = {
        "{}", "[]", "{\"a\":1}", "{\"b\":1,\"a\":2}", "{\"aa\":1,\"b\":2}",
        "{\"a\":1,\"a\":2}", "{\"a\":{\"z\":1,\"y\":[]},\"a\":3,\"a\":[1]}",
        "  {\"x\" :\t[ 1 ,2,\n3 ] }\r\n", "\"s\"", "0", "-1.50", "true",
        "null", "[true,false,null]", "{\"\":1,\"a\":2}",
        "{\"k\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"}",
        "{\"k\":\"\\u0001\\u001F\\u0041\\u007f\"}",
        "{\"\\u0062\":1,\"a\\n\":2,\"a\":3}",
        "{\"k\":\"\xc3\xbc\xe2\x9c\x93\"}",
        "123456789012345678901234567890.000100", "[[[[[]]]]]",
        "{\"a\":\"\x7f\"}", "{\"a\\\"\":1}",
    };
    static const char *const must_refuse[] = {
        "", "{", "{\"a\"}", "{\"a\":}", "[1,]", "{\"a\":1,}", "01", "1.",
        "-", "tru", "truex", "nul", "\"\\u0000\"", "\"\\x\"", "\"a\tb\"",
        "{\"a\":1} x", "1e5", "-0", "-0.00", "\"\\u00e9\"",
        "\"\\ud83d\\ude00\"", "\"\xff\"", "[1 2]", "{\"a\" 1}", "1x",
    };
    for (size_t i = 0; i < sizeof(must_accept) / sizeof(must_accept[0]); i++)
        cr_assert(check_str(must_accept[i]), "refused: %s", must_accept[i]);
    for (size_t i = 0; i < sizeof(must_refuse) / sizeof(must_refuse[0]); i++)
        cr_assert_not(check_str(must_refuse[i]), "accepted: %s",
                      must_refuse[i]);
}

/* --- generated documents ------------------------------------------------- */

static struct jsongen g = { 42 };

Test(jcanon_pg, generated_documents_match_postgresql)
{
    int accepted = 0, total = 3000;

    for (int i = 0; i < total; i++) {
        struct arena a;
        struct buf b;
        arena_init(&a, 4096);
        buf_init(&b, &a, 1 << 20);
        jsongen_doc(&g, &b);
        cr_assert_eq(b.err, HUB_OK);
        if (check(b.p, b.len))
            accepted++;
        arena_release(&a);
    }
    /* both ways are exercised */
    cr_assert_gt(accepted, total / 4, "accepted %d of %d", accepted, total);
    cr_assert_lt(accepted, total, "accepted all %d", total);
}

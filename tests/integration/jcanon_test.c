/*
 * jcanon_test.c - hub/jcanon.c against PostgreSQL itself: for every
 * document it accepts, its text must be exactly `$1::jsonb::text`; every
 * document PostgreSQL refuses it must refuse too. Documents: the golden
 * canonical events of tests/data, edge cases, and generated documents
 * (keys of every length and order, duplicates, escapes, numbers, nesting,
 * whitespace) from a fixed seed.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/hub_err.h"
#include "jcanon.h"
#include "store.h"
#include "../lib/testdb.h"

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

Test(jcanon_pg, golden_events_are_accepted_and_equal)
{
    static const char *const dirs[] = { "tests/data/hl7v2", "tests/data/fhir",
                                        "tests/data/ccda", "tests/data/csv" };
    int files = 0;

    for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", testdb_root(), dirs[d]);
        DIR *dir = opendir(path);
        if (dir == NULL)
            continue;
        struct dirent *e;
        while ((e = readdir(dir)) != NULL) {
            size_t l = strlen(e->d_name);
            if (l < 5 || strcmp(e->d_name + l - 5, ".json") != 0)
                continue;
            char f[2048];
            snprintf(f, sizeof(f), "%s/%s", path, e->d_name);
            FILE *fp = fopen(f, "rb");
            cr_assert_not_null(fp);
            static char buf[1 << 20];
            size_t n = fread(buf, 1, sizeof(buf), fp);
            fclose(fp);
            /* goldens are plain JSON: every one must take the fast way */
            if (check(buf, n))
                files++;
        }
        closedir(dir);
    }
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

static unsigned long long rng = 42;

static unsigned rnd(unsigned n)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)((rng >> 33) % n);
}

static void gen_ws(struct buf *b)
{
    static const char *const w[] = { "", "", "", " ", "\n", "\t", "\r\n  " };
    buf_puts(b, w[rnd(7)]);
}

static void gen_str(struct buf *b)
{
    static const char *const parts[] = {
        "a", "b", "id", "hub_id", "patient", "\\n", "\\\"", "\\\\", "\\/",
        "\\u0041", "\\u001f", "\\u00e9", "\xc3\xa9", "\xe2\x9c\x93", "\\t",
        "\\b", " ", "source", "\x7f", "\\u0000", "\\ud83d\\ude00", "zz",
    };
    buf_putc(b, '"');
    unsigned n = rnd(4);
    for (unsigned i = 0; i < n; i++)
        buf_puts(b, parts[rnd(sizeof(parts) / sizeof(parts[0]))]);
    buf_putc(b, '"');
}

static void gen_value(struct buf *b, int depth)
{
    static const char *const nums[] = {
        "0", "1", "-1", "10", "1.0", "-2.50", "0.001", "-0", "-0.0", "1e3",
        "2E-2", "12345678901234567890", "3.14159265358979323846",
    };
    unsigned k = rnd(depth > 4 ? 5 : 8);
    switch (k) {
    case 0: buf_puts(b, nums[rnd(sizeof(nums) / sizeof(nums[0]))]); break;
    case 1: gen_str(b); break;
    case 2: buf_puts(b, rnd(2) ? "true" : "false"); break;
    case 3: buf_puts(b, "null"); break;
    case 4: gen_str(b); break;
    case 5:
    case 6: {
        unsigned n = rnd(6);
        buf_putc(b, '{');
        for (unsigned i = 0; i < n; i++) {
            if (i) {
                buf_putc(b, ',');
                gen_ws(b);
            }
            gen_str(b);
            gen_ws(b);
            buf_putc(b, ':');
            gen_ws(b);
            gen_value(b, depth + 1);
        }
        buf_putc(b, '}');
        break;
    }
    default: {
        unsigned n = rnd(4);
        buf_putc(b, '[');
        for (unsigned i = 0; i < n; i++) {
            if (i)
                buf_putc(b, ',');
            gen_ws(b);
            gen_value(b, depth + 1);
        }
        buf_putc(b, ']');
    }
    }
}

Test(jcanon_pg, generated_documents_match_postgresql)
{
    int accepted = 0, total = 3000;

    for (int i = 0; i < total; i++) {
        struct arena a;
        struct buf b;
        arena_init(&a, 4096);
        buf_init(&b, &a, 1 << 20);
        gen_ws(&b);
        /* mostly objects, as event bodies are */
        if (rnd(4))
            buf_putc(&b, '{'), gen_str(&b), buf_putc(&b, ':'),
                gen_value(&b, 1), buf_putc(&b, ','), gen_str(&b),
                buf_putc(&b, ':'), gen_value(&b, 1), buf_putc(&b, '}');
        else
            gen_value(&b, 0);
        gen_ws(&b);
        cr_assert_eq(b.err, HUB_OK);
        if (check(b.p, b.len))
            accepted++;
        arena_release(&a);
    }
    /* both ways are exercised */
    cr_assert_gt(accepted, total / 4, "accepted %d of %d", accepted, total);
    cr_assert_lt(accepted, total, "accepted all %d", total);
}

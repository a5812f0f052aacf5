/*
 * jsontree_test.c - json_prescan_copy and jsontree_parse: the copy without
 * white space means what the input means (same tree, same refusals, error
 * offsets into the input), and the tree lives in the arena.
 */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/hub_err.h"
#include "common/jsonscan.h"
#include "common/jsontree.h"

static const struct json_limits lim = {
    .max_bytes = 1 << 20, .max_depth = 20, .max_array = 1000,
    .max_members = 1000, .max_values = 100000, .max_string = 1 << 16,
};

static const char *copy_of(struct arena *a, const char *in)
{
    struct hub_err err;
    size_t n = 0, len = strlen(in);
    char *dst = arena_alloc(a, len + 1);
    cr_assert_eq(json_prescan_copy(in, len, &lim, dst, &n, &err), HUB_OK,
                 "prescan refused %s", in);
    dst[n] = '\0';
    return dst;
}

Test(json_prescan_copy, drops_white_space_between_tokens_only)
{
    struct arena a;
    arena_init(&a, 4096);
    cr_assert_str_eq(copy_of(&a, " {\n  \"a b\" : [ 1 ,\t2 ],\r\n \"c\": "
                                 "\"x \\\" y\" }  "),
                     "{\"a b\":[1,2],\"c\":\"x \\\" y\"}");
    cr_assert_str_eq(copy_of(&a, "{\"a\":1}"), "{\"a\":1}");
    /* long strings cross the 16-byte blocks; escapes at block edges */
    cr_assert_str_eq(copy_of(&a, "[ \"0123456789abcde\\\\\" , "
                                 "\"0123456789abcdef0123456789\\\"x\" ]"),
                     "[\"0123456789abcde\\\\\",\"0123456789abcdef"
                     "0123456789\\\"x\"]");
    arena_release(&a);
}

Test(json_prescan_copy, keeps_bare_scalars_apart)
{
    struct arena a;
    arena_init(&a, 4096);
    cr_assert_str_eq(copy_of(&a, "[tr ue, 1 2, -  1]"), "[tr ue,1 2,- 1]");
    cr_assert_str_eq(copy_of(&a, "[ true , null ]"), "[true,null]");
    arena_release(&a);
}

Test(json_prescan_copy, reports_the_same_errors_as_json_prescan)
{
    static const char *bad[] = { "[\"abc", "[}", "[\"a\\\"]", "[[[[[[[[[[[["
        "[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
        "[\"0123456789abcdef0123456789\\", NULL };
    struct arena a;
    arena_init(&a, 4096);
    for (size_t i = 0; bad[i]; i++) {
        struct hub_err e1, e2;
        size_t len = strlen(bad[i]), n;
        char *dst = arena_alloc(&a, len);
        int r1 = json_prescan(bad[i], len, &lim, &e1);
        int r2 = json_prescan_copy(bad[i], len, &lim, dst, &n, &e2);
        cr_assert_neq(r1, HUB_OK, "input %zu is refused", i);
        cr_assert_eq(r1, r2, "input %zu: same code", i);
        cr_assert_eq(e1.offset, e2.offset, "input %zu: same offset", i);
    }
    arena_release(&a);
}

/* jsontree_parse accepts exactly what json_prescan + cJSON accept, into the
 * same tree, and refuses with the same offset into the input. */
Test(jsontree, means_what_cjson_on_the_input_means)
{
    static const char *in[] = {
        "{ \"a\" : [ 1, 2.5e3 , true, false, null, \"s p\" ], \"b\": {} }",
        "\xef\xbb\xbf{\"bom\": 1}",
        "  \xef\xbb\xbf{\"bom after space\": 1}",
        "[tr ue]", "[1 2]", "[1, 2 ]  trailing", "{\"a\" 1}", "{ \"a\": x }",
        "[\"\\u00e9\\n\"]", "[ - 1 ]", "{\"a\":\"\x01\"}", "[1,\x01 2]",
        "[1\x01,2]", " ", "", "\"top string\"", "  42  ", NULL };
    struct arena a;
    arena_init(&a, 4096);
    for (size_t i = 0; in[i]; i++) {
        struct hub_err err = { 0 };
        size_t len = strlen(in[i]);
        cJSON *t = NULL;
        int rc = jsontree_parse(&a, in[i], len, &lim, &t, &err);
        cJSON *want = cJSON_ParseWithLength(in[i], len);
        if (want == NULL) {
            cr_assert_eq(rc, HUB_ESYNTAX, "input %zu is refused", i);
            cr_assert_null(t);
            const char *ep = cJSON_GetErrorPtr();
            cr_assert_eq(err.offset, (size_t)(ep - in[i]),
                         "input %zu: offset %zu into the input", i,
                         err.offset);
            continue;
        }
        cr_assert_eq(rc, HUB_OK, "input %zu is accepted", i);
        char *got_s = cJSON_PrintUnformatted(t);
        char *want_s = cJSON_PrintUnformatted(want);
        cr_assert_str_eq(got_s, want_s, "input %zu: same tree", i);
        cJSON_free(got_s);
        cJSON_free(want_s);
        cJSON_Delete(want);     /* a malloc tree: hooks pass through */
    }
    arena_release(&a);
}

Test(jsontree, refuses_past_the_limits_before_parsing)
{
    struct arena a;
    struct hub_err err;
    cJSON *t;
    struct json_limits small = lim;
    small.max_depth = 2;
    arena_init(&a, 4096);
    cr_assert_eq(jsontree_parse(&a, "[[[1]]]", 7, &small, &t, &err),
                 HUB_ELIMIT);
    cr_assert_eq(err.offset, 2);
    small.max_bytes = 4;
    cr_assert_eq(jsontree_parse(&a, "[1,2]", 5, &small, &t, &err),
                 HUB_ELIMIT);
    arena_release(&a);
}

Test(jsontree, tree_lives_in_the_arena)
{
    struct arena a;
    struct hub_err err;
    cJSON *t;
    arena_init(&a, 4096);
    size_t before = a.used;
    cr_assert_eq(jsontree_parse(&a, "{\"k\": \"v\"}", 10, &lim, &t, &err),
                 HUB_OK);
    cr_assert_gt(a.used, before + sizeof(cJSON) * 2, "nodes are in the arena");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(t, "k")->valuestring,
                     "v");
    arena_release(&a);          /* no cJSON_Delete: nothing leaks (ASan) */
}

/* ---- json_prescan_copy against json_prescan, on generated input --------- */

/* What json_prescan_copy promises (jsonscan.h), byte by byte. */
static size_t ref_copy(const char *p, size_t len, char *o)
{
    size_t n = 0;
    bool in_str = false, esc = false, gap = false, scalar = false;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (in_str) {
            o[n++] = c;
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            gap = true;
            continue;
        }
        bool bare = !strchr("{}[],:\"", c) || c == '\0';
        if (bare && gap && (scalar || n == 0))
            o[n++] = ' ';
        o[n++] = c;
        in_str = c == '"';
        gap = false;
        scalar = bare;
    }
    return n;
}

static const char *const pieces[] = {
    "{", "}", "[", "]", ",", ":", " ", "\n", "  ", "\t\r\n      ",
    "\"abc\"", "\"k\"", "\"a\\\"b\"", "\"\\\\\"", "\"0123456789abcdefghij\"",
    "\"0123456789abcdefghijk\"", "\"x y\"", "1", "-2.5e3", "true", "null",
    "tr ue", "\"", "\\", "\xef\xbb\xbf", "\x01", "{\"a\": [1, 2, {\"b\": "
    "\"c\"}]}", "                 ", "\"\\u00e9\"", "\"long string that "
    "crosses a block or two of sixteen bytes\"",
};

Test(json_prescan_copy, fails_where_and_as_json_prescan_fails)
{
    static const struct json_limits small = {
        .max_bytes = 4096, .max_depth = 6, .max_array = 8,
        .max_members = 8, .max_values = 60, .max_string = 20,
    };
    char in[4096], out[4096 + 16], want[4096 + 16];
    unsigned seed = 12345;
    size_t npieces = sizeof(pieces) / sizeof(pieces[0]);

    for (int t = 0; t < 20000; t++) {
        size_t len = 0;
        int n = (int)(seed % 60);
        for (int k = 0; k < n; k++) {
            seed = seed * 1103515245u + 12345u;
            const char *pc = pieces[(seed >> 8) % npieces];
            size_t pl = strlen(pc);
            if (len + pl >= 1024)
                break;
            memcpy(in + len, pc, pl);
            len += pl;
        }
        seed = seed * 1103515245u + 12345u;
        struct hub_err e1 = { 0 }, e2 = { 0 };
        size_t got = 0;
        int r1 = json_prescan(in, len, &small, &e1);
        int r2 = json_prescan_copy(in, len, &small, out, &got, &e2);
        cr_assert_eq(r1, r2, "case %d: same result (%d, %d)", t, r1, r2);
        if (r1 != HUB_OK) {
            cr_assert_eq(e1.offset, e2.offset, "case %d: same offset", t);
            cr_assert_str_eq(e1.what, e2.what, "case %d: same reason", t);
            continue;
        }
        size_t wn = ref_copy(in, len, want);
        cr_assert_eq(got, wn, "case %d: copy length %zu, want %zu", t, got,
                     wn);
        cr_assert_eq(memcmp(out, want, wn), 0, "case %d: copy bytes", t);
    }
}

/* Random documents, mostly valid, pretty or not, some with one byte
 * changed: long enough to cross many blocks. */
static unsigned rnd(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static void gen_ws(char *b, size_t *n, unsigned *s)
{
    static const char *const ws[] = { "", "", " ", "\n  ", "\n      ",
        "\n                    ", "\t" };
    const char *w = ws[rnd(s) % 7];
    memcpy(b + *n, w, strlen(w));
    *n += strlen(w);
}

static void gen_value(char *b, size_t *n, unsigned *s, int depth)
{
    static const char *const leaves[] = { "\"v\"", "\"a\\\"b\\\\\"", "12",
        "-0.5", "true", "false", "null", "\"http://example.org/fhir/"
        "Observation/AHC-HRSN-item-example-96778-6\"", "\"\"",
        "\"\\u00e9 x\"", "\"0123456789abcdefghijklmn\"" };
    unsigned k = rnd(s) % 14;
    if (*n > 3000 || depth > 5 || k < 9) {
        const char *l = leaves[rnd(s) % 11];
        memcpy(b + *n, l, strlen(l));
        *n += strlen(l);
        return;
    }
    bool obj = k % 2;
    int items = (int)(rnd(s) % 6);
    b[(*n)++] = obj ? '{' : '[';
    for (int i = 0; i < items; i++) {
        if (i)
            b[(*n)++] = ',';
        gen_ws(b, n, s);
        if (obj) {
            const char *key = rnd(s) % 2 ? "\"resourceType\"" : "\"k\"";
            memcpy(b + *n, key, strlen(key));
            *n += strlen(key);
            gen_ws(b, n, s);
            b[(*n)++] = ':';
            gen_ws(b, n, s);
        }
        gen_value(b, n, s, depth + 1);
    }
    gen_ws(b, n, s);
    b[(*n)++] = obj ? '}' : ']';
}

Test(json_prescan_copy, copies_generated_documents_as_json_prescan_reads_them)
{
    static const struct json_limits lim2 = {
        .max_bytes = 1 << 16, .max_depth = 5, .max_array = 5,
        .max_members = 5, .max_values = 200, .max_string = 40,
    };
    static char in[1 << 16], out[1 << 16], want[1 << 16];
    unsigned seed = 777;
    int ok = 0;

    for (int t = 0; t < 5000; t++) {
        size_t len = 0;
        gen_ws(in, &len, &seed);
        gen_value(in, &len, &seed, 0);
        gen_ws(in, &len, &seed);
        if (rnd(&seed) % 3 == 0)            /* one byte changed */
            in[rnd(&seed) % len] = "{}[],:\" \\x1\n"[rnd(&seed) % 12];
        struct hub_err e1 = { 0 }, e2 = { 0 };
        size_t got = 0;
        int r1 = json_prescan(in, len, &lim2, &e1);
        int r2 = json_prescan_copy(in, len, &lim2, out, &got, &e2);
        cr_assert_eq(r1, r2, "case %d: same result (%d, %d)", t, r1, r2);
        if (r1 != HUB_OK) {
            cr_assert_eq(e1.offset, e2.offset, "case %d: same offset", t);
            cr_assert_str_eq(e1.what, e2.what, "case %d: same reason", t);
            continue;
        }
        ok++;
        size_t wn = ref_copy(in, len, want);
        cr_assert_eq(got, wn, "case %d: copy length %zu, want %zu", t, got,
                     wn);
        cr_assert_eq(memcmp(out, want, wn), 0, "case %d: copy bytes", t);
    }
    cr_assert_gt(ok, 1000, "most generated documents are within the limits");
}

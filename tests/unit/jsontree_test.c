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

/* jsontree_parse accepts exactly what json_prescan + cJSON accept whole,
 * into the same tree, and refuses with the same offset into the input (at
 * the start of the token refused: json_fault_at), and a value followed by
 * other bytes at the first of them. */
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
        const char *ep = NULL;
        cJSON *want = cJSON_ParseWithLengthOpts(in[i], len, &ep, false);
        size_t after = want ? (size_t)(ep - in[i]) : len;
        while (after < len && in[i][after] &&
               strchr(" \t\r\n", in[i][after]))
            after++;
        if (want && after < len) {
            /* a value, then other bytes: refused at the first (F1502) */
            cr_assert_eq(rc, HUB_ESYNTAX, "input %zu is refused", i);
            cr_assert_eq(err.offset, after, "input %zu: offset %zu", i,
                         err.offset);
            cJSON_Delete(want);
            continue;
        }
        if (want == NULL) {
            cr_assert_eq(rc, HUB_ESYNTAX, "input %zu is refused", i);
            cr_assert_null(t);
            size_t at = (size_t)(ep - in[i]);
            cr_assert_eq(err.offset, json_fault_at(in[i], len, at),
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

/* ---- the error offset is this call's own ------------------------------- */

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

static atomic_bool other_stop;

/* Another cJSON user of the process (API bodies, webhooks, config): its
 * failed parses set cJSON's process-wide error position. */
static void *other_cjson_user(void *arg)
{
    static const char bad[] = "[1, 2, 3, 4, 5, 6, 7, 8, 9, ?]";
    (void)arg;
    while (!atomic_load(&other_stop)) {
        cJSON *j = cJSON_ParseWithLength(bad, sizeof(bad) - 1);
        cJSON_Delete(j);
    }
    return NULL;
}

Test(jsontree, error_offset_is_not_another_threads)
{
    static const char in[] = "{\"resourceType\": \"Bundle\", \"a\": x}";
    const size_t want = strchr(in, 'x') - in;
    struct arena a;
    pthread_t t;
    size_t wrong = 0, runs = 0;
    struct timespec t0, t1;

    arena_init(&a, 4096);
    atomic_store(&other_stop, false);
    cr_assert_eq(pthread_create(&t, NULL, other_cjson_user, NULL), 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        for (int k = 0; k < 1000; k++, runs++) {
            struct hub_err err = { 0 };
            cJSON *tree;
            cr_assert_eq(jsontree_parse(&a, in, sizeof(in) - 1, &lim, &tree,
                                        &err), HUB_ESYNTAX);
            if (err.offset != want)
                wrong++;
            arena_reset(&a);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
    } while (t1.tv_sec - t0.tv_sec < 1 && wrong == 0);
    atomic_store(&other_stop, true);
    pthread_join(t, NULL);
    arena_release(&a);
    cr_assert_eq(wrong, 0, "%zu of %zu refusals named another parse's offset",
                 wrong, runs);
}

/* ---- the one pass against cJSON ----------------------------------------- */

#include <dirent.h>
#include <stdio.h>

/* Node by node: every field cJSON sets, and the links (head->prev is the
 * last child, every other prev the one before). */
static bool same_tree(const cJSON *x, const cJSON *y)
{
    for (; x && y; x = x->next, y = y->next) {
        if (x->type != y->type || x->valueint != y->valueint ||
            memcmp(&x->valuedouble, &y->valuedouble, sizeof(double)) != 0 ||
            (x->string == NULL) != (y->string == NULL) ||
            (x->string && strcmp(x->string, y->string) != 0) ||
            (x->valuestring == NULL) != (y->valuestring == NULL) ||
            (x->valuestring && strcmp(x->valuestring, y->valuestring) != 0) ||
            (x->child == NULL) != (y->child == NULL))
            return false;
        if (x->child) {
            const cJSON *lx = x->child, *ly = y->child;
            while (lx->next && ly->next) {
                if (lx->next->prev != lx || ly->next->prev != ly)
                    return false;
                lx = lx->next;
                ly = ly->next;
            }
            if (x->child->prev != lx || y->child->prev != ly)
                return false;
            if (!same_tree(x->child, y->child))
                return false;
        }
    }
    return x == NULL && y == NULL;
}

/* jsontree_parse, the one pass and the cJSON way on one input: the one
 * pass, when it decides, builds cJSON's tree; jsontree_parse gives what
 * the cJSON way gives (code, reason, offset, tree). Returns whether the
 * one pass decided. */
static bool check_agrees(struct arena *a, const char *in, size_t len,
                         const struct json_limits *l, const char *label)
{
    struct hub_err e1 = { 0 }, e2 = { 0 };
    cJSON *t1 = NULL, *t2 = NULL;
    cJSON *plain = jsontree_parse_plain(a, in, len, l);
    int r1 = jsontree_parse(a, in, len, l, &t1, &e1);
    int r2 = jsontree_parse_cjson(a, in, len, l, &t2, &e2);

    cr_assert_eq(r1, r2, "%s: same result (%d, %d)", label, r1, r2);
    if (r2 != HUB_OK) {
        cr_assert_null(plain, "%s: the one pass took what cJSON refuses",
                       label);
        cr_assert_eq(e1.offset, e2.offset, "%s: same offset", label);
        cr_assert_str_eq(e1.what, e2.what, "%s: same reason", label);
        cr_assert_str_eq(e1.field, e2.field, "%s: same field", label);
        return false;
    }
    cr_assert(same_tree(t1, t2), "%s: same tree", label);
    if (plain)
        cr_assert(same_tree(plain, t2), "%s: the one pass's tree", label);
    return plain != NULL;
}

Test(jsontree, one_pass_builds_cjsons_tree_of_every_fhir_sample)
{
    static const struct json_limits fhir = {
        .max_bytes = 8u << 20, .max_depth = 40, .max_array = 10000,
        .max_members = 1000, .max_values = 1000000, .max_string = 2u << 20,
    };
    const char *dirs[] = { "tests/data/fhir", "tests/fuzz/corpus/fhir" };
    const char *r = getenv("HUB_ROOT");
    struct arena a;
    int files = 0;

    arena_init(&a, 1 << 16);
    for (size_t d = 0; d < 2; d++) {
        char dir[512];
        snprintf(dir, sizeof(dir), "%s/%s", r ? r : ".", dirs[d]);
        DIR *dp = opendir(dir);
        cr_assert_not_null(dp, "cannot open %s", dir);
        struct dirent *de;
        while ((de = readdir(dp)) != NULL) {
            size_t l = strlen(de->d_name);
            if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
                continue;
            char path[1024];
            snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
            FILE *f = fopen(path, "rb");
            cr_assert_not_null(f);
            static char buf[1 << 20];
            size_t n = fread(buf, 1, sizeof(buf), f);
            fclose(f);
            cr_assert(check_agrees(&a, buf, n, &fhir, de->d_name),
                      "%s: plain JSON, decided in one pass", de->d_name);
            files++;
            arena_reset(&a);
        }
        closedir(dp);
    }
    cr_assert_gt(files, 60, "the samples were found (%d)", files);
    arena_release(&a);
}

/* What only cJSON's leniency accepts, or what takes its exact refusal, is
 * left to cJSON; the one pass decodes what it takes as cJSON does. */
Test(jsontree, one_pass_leaves_cjsons_leniencies_to_cjson)
{
    static const char *const lenient[] = {
        "\xef\xbb\xbf{\"bom\": 1}", "[1,\x01 2]", "[1]\x01", "{} trailing",
        "[-01]", "[\"\\u0000\"]", "[\"\\u00G1\"]", "[\"\\u12\"]",
        "[1234567890123456789012345678901234567890123456789012345678901234]",
        "[\"\\ud800\"]", "[\"\\udc00\"]", "[\"\\ud800\\u0041\"]", "[1.]",
        "[.5]", "[+1]", "[1e]", "[01]", "[tru]", "[nul]", "[\"\\x\"]", "",
        "   ", "[\"a\"", "{\"a\" 1}", "{a: 1}", "[1,]", "{\"a\":1,}",
        "[\"tab\\", "\x00[]", NULL };
    static const char *const decoded[] = {
        "[\"\\u00e9\\n\\b\\f\\r\\t\\/\\\\\\\"\"]", "[\"\\ud83d\\ude00 x\"]",
        "[\"\\uFFFF\\u0800\\u07ff\\u0080\\u007f\"]", "[\"raw \x01\x7f\xff\"]",
        "[-0, 0.5, 1e400, -1e400, 2147483648, -2147483649, 1E+2, 3e-2]",
        "{\"a\":1,\"a\":2}", "\"top\"", "42", " true ", "null", "{}", "[]",
        "[[],{},[{}]]", "{\"k\\u0041\":{\"\":[false]}}", NULL };
    struct arena a;
    char label[32];

    arena_init(&a, 4096);
    for (size_t i = 0; lenient[i]; i++) {
        size_t len = strlen(lenient[i]) + (lenient[i][0] == '\0' && i > 20);
        snprintf(label, sizeof(label), "lenient %zu", i);
        cr_assert_not(check_agrees(&a, lenient[i], len, &lim, label),
                      "%s is left to cJSON", label);
    }
    for (size_t i = 0; decoded[i]; i++) {
        snprintf(label, sizeof(label), "decoded %zu", i);
        cr_assert(check_agrees(&a, decoded[i], strlen(decoded[i]), &lim,
                               label), "%s is decided in one pass", label);
    }
    arena_release(&a);
}

/* At each limit the one pass takes what json_prescan takes and leaves the
 * first step past it to json_prescan's refusal. */
Test(jsontree, one_pass_stops_where_json_prescan_stops)
{
    static const struct json_limits small = {
        .max_bytes = 4096, .max_depth = 3, .max_array = 4,
        .max_members = 3, .max_values = 12, .max_string = 5,
    };
    static const char *const at[] = {
        "[1,2,3,4]", "{\"a\":1,\"b\":2,\"c\":3}", "[[[1]]]", "[\"12345\"]",
        "[\"1\\\"34\"]", "{\"12345\":1}", "[1,[2,[3]],4]",
        "[1,2,{\"a\":[5,6]},[7,8,9]]", NULL };
    static const char *const past[] = {
        "[1,2,3,4,5]", "{\"a\":1,\"b\":2,\"c\":3,\"d\":4}", "[[[[1]]]]",
        "[\"123456\"]", "[\"1\\\"345\"]", "{\"123456\":1}",
        "[1,2,{\"a\":[5,6]},[7,8,9],{}]", "[1,2,{\"a\":[5,6]},[7,8,9,0]]",
        NULL };
    struct arena a;
    char label[32];

    arena_init(&a, 4096);
    for (size_t i = 0; at[i]; i++) {
        snprintf(label, sizeof(label), "at %zu", i);
        cr_assert(check_agrees(&a, at[i], strlen(at[i]), &small, label),
                  "%s is decided in one pass", label);
    }
    for (size_t i = 0; past[i]; i++) {
        struct hub_err err = { 0 };
        cJSON *t;
        snprintf(label, sizeof(label), "past %zu", i);
        cr_assert_not(check_agrees(&a, past[i], strlen(past[i]), &small,
                                   label), "%s is left to prescan", label);
        cr_assert_eq(jsontree_parse(&a, past[i], strlen(past[i]), &small, &t,
                                    &err), HUB_ELIMIT, "%s: a limit", label);
    }
    arena_release(&a);
}

Test(jsontree, one_pass_agrees_with_cjson_on_generated_documents)
{
    static const struct json_limits lim2 = {
        .max_bytes = 1 << 16, .max_depth = 5, .max_array = 5,
        .max_members = 5, .max_values = 200, .max_string = 40,
    };
    static char in[1 << 16];
    unsigned seed = 4242;
    int plain = 0;
    struct arena a;
    char label[32];

    arena_init(&a, 1 << 16);
    for (int t = 0; t < 5000; t++) {
        size_t len = 0;
        gen_ws(in, &len, &seed);
        gen_value(in, &len, &seed, 0);
        gen_ws(in, &len, &seed);
        if (rnd(&seed) % 3 == 0)            /* one byte changed */
            in[rnd(&seed) % len] = "{}[],:\" \\x1\n\x01"[rnd(&seed) % 13];
        snprintf(label, sizeof(label), "case %d", t);
        plain += check_agrees(&a, in, len, &lim2, label);
        arena_reset(&a);
    }
    for (int t = 0; t < 20000; t++) {       /* and the pieces, shuffled */
        size_t len = 0;
        int n = (int)(seed % 40);
        for (int k = 0; k < n; k++) {
            const char *pc = pieces[rnd(&seed) % (sizeof(pieces) /
                                                  sizeof(pieces[0]))];
            size_t pl = strlen(pc);
            if (len + pl >= 1024)
                break;
            memcpy(in + len, pc, pl);
            len += pl;
        }
        rnd(&seed);
        snprintf(label, sizeof(label), "pieces %d", t);
        check_agrees(&a, in, len, &lim2, label);
        arena_reset(&a);
    }
    cr_assert_gt(plain, 1000, "most generated documents are plain (%d)",
                 plain);
    arena_release(&a);
}

/* ---- what the one pass notices (jsontree_notes) ---- */

/* The reference: a walk of the tree, each object's names against each
 * other, every name against `watch`. */
static void walk_names(const cJSON *n, const char *watch, bool *rep,
                       bool *seen)
{
    for (const cJSON *c = n->child; c; c = c->next) {
        if (cJSON_IsObject(n)) {
            if (strcmp(c->string, watch) == 0)
                *seen = true;
            for (const cJSON *d = n->child; d != c; d = d->next)
                if (strcmp(d->string, c->string) == 0)
                    *rep = true;
        }
        walk_names(c, watch, rep, seen);
    }
}

static void gen_named(char *b, size_t *n, unsigned *s, int depth)
{
    /* names that share first bytes, lengths or middles, equal ones spelt
     * with an escape, the watched name and its near misses */
    static const char *const names[] = { "k", "\\u006b", "resourceType",
        "code", "coding", "system", "subject", "display", "modifierExtension",
        "modifierExtensio", "modifierExtensionX", "\\u006dodifierExtension",
        "", "a", "b", "ab", "ba", "url", "value", "valueCoding", "id", "di",
        "extension", "status", "text", "div", "use", "type", "entry",
        "resource" };
    unsigned k = rnd(s) % 10;
    if (*n > 3000 || depth > 5 || k < 4) {
        *n += (size_t)snprintf(b + *n, 8, "%u", rnd(s) % 100);
        return;
    }
    bool obj = k >= 6;
    int items = (int)(rnd(s) % 7);
    b[(*n)++] = obj ? '{' : '[';
    for (int i = 0; i < items; i++) {
        if (i)
            b[(*n)++] = ',';
        if (obj)
            *n += (size_t)snprintf(b + *n, 40, "\"%s\":",
                                  names[rnd(s) % (sizeof(names) /
                                                  sizeof(names[0]))]);
        gen_named(b, n, s, depth + 1);
    }
    b[(*n)++] = obj ? '}' : ']';
}

Test(jsontree, notes_repeated_names_and_the_watched_name_exactly)
{
    static char in[1 << 16];
    unsigned seed = 9090;
    int reps = 0, plain_objects = 0, watched = 0;
    struct arena a;
    struct hub_err err;

    arena_init(&a, 1 << 16);
    for (int t = 0; t < 20000; t++) {
        size_t len = 0;
        gen_named(in, &len, &seed, 0);
        in[len] = '\0';
        cJSON *ref = NULL, *tree = NULL;
        cr_assert_eq(jsontree_parse_cjson(&a, in, len, &lim, &ref, &err),
                     HUB_OK, "case %d", t);
        bool rep = false, seen = false;
        walk_names(ref, "modifierExtension", &rep, &seen);
        struct jsontree_notes notes = { .watch = "modifierExtension" };
        cr_assert_eq(jsontree_parse_noting(&a, in, len, &lim, &tree, &notes,
                                           &err), HUB_OK);
        cr_assert(notes.noticed, "case %d is plain JSON", t);
        cr_assert_eq(notes.repeated, rep, "case %d: %s", t, in);
        cr_assert_eq(notes.watched, seen, "case %d: %s", t, in);
        reps += rep;
        watched += seen;
        plain_objects += cJSON_IsObject(ref) && !rep &&
                         cJSON_GetArraySize(ref) > 3;
        arena_reset(&a);
    }
    /* each way round, many times */
    cr_assert_gt(reps, 1000);
    cr_assert_gt(watched, 1000);
    cr_assert_gt(plain_objects, 200);      /* 276 with this seed */
    cr_assert_lt(reps, 19000);

    /* nothing watched: none seen; cJSON's way: nothing noticed */
    struct jsontree_notes none = { 0 };
    cJSON *tree;
    cr_assert_eq(jsontree_parse_noting(&a, "{\"modifierExtension\":1}", 23,
                                       &lim, &tree, &none, &err), HUB_OK);
    cr_assert(none.noticed && !none.watched && !none.repeated);
    struct jsontree_notes lenient = { .watch = "a" };
    cr_assert_eq(jsontree_parse_noting(&a, "{\"a\":-01,\"a\":2}", 15, &lim,
                                       &tree, &lenient, &err), HUB_OK);
    cr_assert_not(lenient.noticed, "cJSON built it: nothing noticed");
    arena_release(&a);
}

/* F880: a raw NUL byte in a member name (cJSON keeps it; RFC 8259 does
 * not allow it) ends the name for every strcmp after the parse, so
 * "a<NUL>b" is "a" twice to the caller's walk. The notes read the bytes:
 * they said no name twice and nothing watched, and the FHIR adapter read a
 * second "gender" and a "modifierExtension<NUL>" that its walk refuses.
 * Noted, they must agree with the walk. */
Test(jsontree, notes_read_a_name_with_a_nul_byte_as_strcmp_does)
{
    static const char dup[] = "{\"a\":1,\"a\0xyz\":2}";
    static const char mod[] = "[{\"modifierExtension\0\":[{\"url\":\"u\"}]}]";
    static const char val[] = "{\"v\":\"x\0y\",\"w\":1}";
    const struct { const char *p; size_t n; bool rep, seen; } c[] = {
        { dup, sizeof(dup) - 1, true, false },
        { mod, sizeof(mod) - 1, false, true },
        { val, sizeof(val) - 1, false, false },
    };
    struct arena a;
    struct hub_err err;

    arena_init(&a, 1 << 14);
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        cJSON *ref = NULL, *tree = NULL;
        cr_assert_eq(jsontree_parse_cjson(&a, c[i].p, c[i].n, &lim, &ref,
                                          &err), HUB_OK, "case %zu", i);
        bool rep = false, seen = false;
        walk_names(ref, "modifierExtension", &rep, &seen);
        cr_assert(rep == c[i].rep && seen == c[i].seen, "case %zu", i);
        struct jsontree_notes notes = { .watch = "modifierExtension" };
        cr_assert_eq(jsontree_parse_noting(&a, c[i].p, c[i].n, &lim, &tree,
                                           &notes, &err), HUB_OK);
        if (notes.noticed)
            cr_assert(notes.repeated == rep && notes.watched == seen,
                      "case %zu: noticed, and not as the walk reads it", i);
        arena_reset(&a);
    }
    arena_release(&a);
}

/* F881: a new name whose bit an earlier member set is compared with every
 * member before it, n^2/2 strcmp an object: 490 objects of 1,000 names
 * sharing one bit took 5.8 s (the walk the notes spare, sorted, 0.35 s).
 * An object past 32 members that would need the compares leaves the
 * document unnoticed (the caller walks); a narrower one is still noted. */
Test(jsontree, an_object_too_wide_to_compare_is_left_to_the_walk)
{
    static char in[1 << 14];
    struct arena a;
    struct hub_err err;
    cJSON *tree;

    arena_init(&a, 1 << 16);
    for (int members = 30; members <= 40; members += 10) {
        /* "aNzNN": length, first and middle byte alike: one bit */
        size_t n = 0;
        in[n++] = '{';
        for (int i = 0; i < members; i++)
            n += (size_t)snprintf(in + n, sizeof(in) - n, "%s\"a%dz%02d\":0",
                                  i ? "," : "", i / 100, i % 100);
        in[n++] = '}';
        struct jsontree_notes notes = { .watch = "modifierExtension" };
        cr_assert_eq(jsontree_parse_noting(&a, in, n, &lim, &tree, &notes,
                                           &err), HUB_OK);
        if (members <= 32)
            cr_assert(notes.noticed && !notes.repeated, "%d members",
                      members);
        else
            cr_assert_not(notes.noticed, "%d members compared", members);
        arena_reset(&a);
    }
    arena_release(&a);
}

/* A refusal is placed at the first byte of the token that cannot be taken,
 * and is located (F1467): cJSON says one byte later for a member name
 * that is not a string ("{a:1}", a trailing comma), which the FHIR
 * OperationOutcome would have given a partner as is. */
Test(jsontree, a_refusal_is_placed_at_the_start_of_the_token_refused)
{
    static const struct { const char *in; size_t offset; } cases[] = {
        { "{\"a\":1,}", 7 },            /* '}' where a name is due */
        { "{ \"a\": 1 , }", 11 },
        { "{a:1}", 1 },
        { "[{\"a\":[1,{,}]}]", 10 },    /* a name due deep inside */
        { "[1,[,]]", 4 },               /* a value due: cJSON is right */
        { "{\"a\":\"x\\q\"}", 7 },       /* a bad escape: its backslash */
        { "{\"a\":\"\\q\"}", 6 },
        { "{\"a\":\"\\u12\"}", 6 },
        { "{\"a\" 1}", 5 },             /* ':' due */
        { "{\"a\":1 \"b\":2}", 7 },     /* ',' due */
        { "{\"a\":tru}", 5 },
        { "{\"k\\\"{\":x}", 8 },        /* a brace in a name is no brace */
    };
    struct arena a;

    arena_init(&a, 4096);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct hub_err err = { 0 };
        cJSON *t = NULL;
        cr_assert_eq(jsontree_parse(&a, cases[i].in, strlen(cases[i].in),
                                    &lim, &t, &err), HUB_ESYNTAX, "case %zu",
                     i);
        cr_expect(err.located, "case %zu", i);
        cr_expect_eq(err.offset, cases[i].offset, "case %zu: offset %zu", i,
                     err.offset);
        cr_expect_eq(json_fault_at(cases[i].in, strlen(cases[i].in),
                                   cases[i].offset), cases[i].offset,
                     "case %zu: a start is left where it is", i);
    }
    arena_release(&a);
}

/* F1502 refuses bytes after the value; what real senders put around one
 * is not such bytes: a line end (LF or CRLF) or blanks after it, a UTF-8
 * byte order mark before it. A byte that RFC 8259 does not call white
 * space (a form feed, the NUL a C sender counts in Content-Length) is, at
 * its own offset. */
Test(jsontree, line_ends_blanks_and_a_bom_are_not_bytes_after_the_value)
{
    static const char *ok[] = {
        "{\"a\":1}\r\n", "{\"a\":1}\n", "{\"a\":1}\n\n  \t",
        "{\"a\":1} \r\n", "\xEF\xBB\xBF{\"a\":1}", "\xEF\xBB\xBF{\"a\":1}\r\n",
        "\r\n{\"a\":1}\r\n",
    };
    struct arena a;
    struct hub_err err = { 0 };
    cJSON *t = NULL;

    arena_init(&a, 4096);
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        int rc = jsontree_parse(&a, ok[i], strlen(ok[i]), &lim, &t, &err);
        cr_assert_eq(rc, HUB_OK, "input %zu: %s at %zu", i,
                     rc ? err.what : "", err.offset);
        cr_assert_eq(cJSON_GetObjectItem(t, "a")->valueint, 1);
    }
    cr_assert_eq(jsontree_parse(&a, "{\"a\":1}\f", 8, &lim, &t, &err),
                 HUB_ESYNTAX);
    cr_assert_eq(err.offset, 7);
    cr_assert_eq(jsontree_parse(&a, "{\"a\":1}\0", 8, &lim, &t, &err),
                 HUB_ESYNTAX);
    cr_assert_eq(err.offset, 7);
    arena_release(&a);
}

/*
 * jcanon_ref_test.c - hub/jcanon.c against the writer it replaced
 * (tests/lib/jcanon_ref.c), byte for byte and refusal for refusal: on the
 * golden events, on the events of the bench corpus (gen_adt's messages
 * through the HL7 adapter), on generated documents and on mutations of
 * all of those. The former writer's agreement with PostgreSQL is
 * tests/integration/jcanon_test.c's.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/canon.h"
#include "common/hub_err.h"
#include "hl7v2/hl7v2.h"
#include "jcanon.h"
#include "../lib/jcanon_ref.h"
#include "../lib/testdb.h"
#include "../lib/testfile.h"

/* the bench corpus generator, its messages made here */
#define GEN_ADT_LIB
#include "../bench/gen_adt.c"

static unsigned long long rng = 7;

static unsigned rnd(unsigned n)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)((rng >> 33) % n);
}

/* Both writers on one document: the same answer and the same text.
 * Returns whether it was accepted. */
static bool same(const char *p, size_t n)
{
    struct arena a;
    struct slice x = SLICE_NULL, y = SLICE_NULL;

    arena_init(&a, 4096);
    bool ok = jcanon(&a, p, n, &x);
    bool ok_ref = jcanon_ref(&a, p, n, &y);
    cr_assert_eq(ok, ok_ref, "%s where the former writer %s: %.*s",
                 ok ? "accepted" : "refused", ok_ref ? "accepted" : "refused",
                 (int)n, p);
    if (ok)
        cr_assert(x.len == y.len && memcmp(x.p, y.p, x.len) == 0 &&
                      x.p[x.len] == '\0',
                  "differs:\n in:  %.*s\n new: %.*s\n ref: %.*s", (int)n, p,
                  (int)x.len, x.p, (int)y.len, y.p);
    arena_release(&a);
    return ok;
}

/* The document and some mutations of it: bytes replaced by ones that
 * matter to a JSON reader, cut short, a byte dropped. */
static void same_mutated(const char *p, size_t n, int rounds)
{
    static const char bytes[] = "\"\\{}[],:eE.-0u /\x01\x1f\x7f\x80\xc3\xff tn";
    char *m = malloc(n + 1);

    cr_assert_not_null(m);
    same(p, n);
    for (int r = 0; r < rounds && n > 0; r++) {
        memcpy(m, p, n);
        size_t at = rnd((unsigned)n), len = n;
        switch (rnd(3)) {
        case 0: m[at] = bytes[rnd(sizeof(bytes) - 1)]; break;
        case 1: len = at; break;
        default:
            memmove(m + at, m + at + 1, n - at - 1);
            len = n - 1;
        }
        same(m, len);
    }
    free(m);
}

Test(jcanon_ref, golden_events_and_their_mutations_match)
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
            size_t n;
            snprintf(f, sizeof(f), "%s/%s", path, e->d_name);
            char *doc = testfile_read(f, &n);
            cr_assert_not_null(doc, "%s", f);
            files += same(doc, n);
            same_mutated(doc, n, 300);
            free(doc);
        }
        closedir(dir);
    }
    cr_assert_gt(files, 20, "only %d golden files accepted", files);
}

Test(jcanon_ref, bench_corpus_events_match, .timeout = 60)
{
    struct rng top = { 42 };
    struct out o;
    int events = 0;

    for (uint64_t i = 0; i < 2000; i++) {
        struct arena a;
        struct hl7_msg *m;
        struct hub_err err;
        struct canon_list evs = { 0 };

        gen_message(&top, i, &o);
        arena_init(&a, 64 * 1024);
        cr_assert_eq(hl7_parse(&a, o.b, o.n, &m, &err), HUB_OK);
        cr_assert_eq(hl7_to_events(&a, m, &evs, &err), HUB_OK);
        for (size_t k = 0; k < evs.n; k++) {
            cr_assert(same(evs.ev[k].json.p, evs.ev[k].json.len));
            events++;
            if (i % 20 == 0)
                same_mutated(evs.ev[k].json.p, evs.ev[k].json.len, 50);
        }
        arena_release(&a);
    }
    cr_assert_geq(events, 2000);
}

/* --- generated documents (as tests/integration/jcanon_test.c makes) ---- */

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
        "a fairly long run of plain text, past one block",
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
        unsigned n = rnd(40) == 0 ? 40 : rnd(6);  /* past 32 members too */
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

Test(jcanon_ref, generated_documents_and_their_mutations_match)
{
    int accepted = 0, total = 20000;

    for (int i = 0; i < total; i++) {
        struct arena a;
        struct buf b;
        arena_init(&a, 4096);
        buf_init(&b, &a, 1 << 20);
        gen_ws(&b);
        if (rnd(4))
            buf_putc(&b, '{'), gen_str(&b), buf_putc(&b, ':'),
                gen_value(&b, 1), buf_putc(&b, ','), gen_str(&b),
                buf_putc(&b, ':'), gen_value(&b, 1), buf_putc(&b, '}');
        else
            gen_value(&b, 0);
        gen_ws(&b);
        cr_assert_eq(b.err, HUB_OK);
        accepted += same(b.p, b.len);
        if (i % 10 == 0)
            same_mutated(b.p, b.len, 20);
        arena_release(&a);
    }
    cr_assert_gt(accepted, total / 4, "accepted %d of %d", accepted, total);
    cr_assert_lt(accepted, total, "accepted all %d", total);
}

Test(jcanon_ref, nesting_at_and_past_the_depth_limit_matches)
{
    char deep[8 * JCANON_MAX_DEPTH];

    /* {"a":[{"a":[...{}...]}]}, d levels deep */
    for (int d = JCANON_MAX_DEPTH - 1; d <= JCANON_MAX_DEPTH + 1; d++) {
        size_t n = 0;
        for (int i = 0; i < d; i++) {
            if (i % 2 == 0 && i == d - 1) {
                deep[n++] = '{';
            } else if (i % 2 == 0) {
                memcpy(deep + n, "{\"a\":", 5);
                n += 5;
            } else {
                deep[n++] = '[';
            }
        }
        for (int i = d - 1; i >= 0; i--)
            deep[n++] = i % 2 == 0 ? '}' : ']';
        cr_assert_eq(same(deep, n), d <= JCANON_MAX_DEPTH);
    }
}

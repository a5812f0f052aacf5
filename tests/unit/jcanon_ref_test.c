/*
 * jcanon_ref_test.c - hub/jcanon.c against the writer it replaced
 * (tests/lib/jcanon_ref.c), byte for byte and refusal for refusal: on the
 * golden events, on the events of the bench corpus (gen_adt's messages
 * through the HL7 adapter), on generated documents and on mutations of
 * all of those. The former writer's agreement with PostgreSQL is
 * tests/integration/jcanon_test.c's.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/canon.h"
#include "common/hub_err.h"
#include "hl7v2/hl7v2.h"
#include "jcanon.h"
#include "../lib/jcanon_ref.h"
#include "../lib/jsongen.h"
#include "../lib/testdb.h"
#include "../lib/testfile.h"

/* the bench corpus generator, its messages made here */
#define GEN_ADT_LIB
#include "../bench/gen_adt.c"

static struct jsongen g = { 7 };

static unsigned rnd(unsigned n)
{
    return jsongen_rnd(&g, n);
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

static int golden_same(const char *path, const char *doc, size_t n,
                       void *arg)
{
    (void)arg;
    cr_assert_not_null(doc, "%s", path);
    int accepted = same(doc, n);
    same_mutated(doc, n, 300);
    return accepted;
}

Test(jcanon_ref, golden_events_and_their_mutations_match)
{
    int files = testfile_each_golden_event(golden_same, NULL);
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

Test(jcanon_ref, generated_documents_and_their_mutations_match)
{
    int accepted = 0, total = 20000;

    for (int i = 0; i < total; i++) {
        struct arena a;
        struct buf b;
        arena_init(&a, 4096);
        buf_init(&b, &a, 1 << 20);
        jsongen_doc(&g, &b);
        cr_assert_eq(b.err, HUB_OK);
        accepted += same(b.p, b.len);
        if (i % 10 == 0)
            same_mutated(b.p, b.len, 20);
        arena_release(&a);
    }
    cr_assert_gt(accepted, total / 4, "accepted %d of %d", accepted, total);
    cr_assert_lt(accepted, total, "accepted all %d", total);
}

/* An object of 100,000 members in reverse of jsonb's order, each key
 * twice (the later kept): both writers agree, and the reference answers
 * in time, which its insertion sort did not (past the 10 s timeout; the
 * fuzz harness that compares with it took 110 s on 40,000 members,
 * F1362). */
Test(jcanon_ref, many_members_in_reverse_order_match_in_time, .timeout = 10)
{
    enum { KEYS = 50000 };
    size_t cap = (size_t)KEYS * 2 * 24 + 2, n = 0;
    char *in = malloc(cap);
    struct timespec t0, t1;

    cr_assert_not_null(in);
    in[n++] = '{';
    for (int i = KEYS - 1; i >= 0; i--)
        n += (size_t)snprintf(in + n, cap - n, "\"k%d\":%d,\"k%d\":%d%s", i,
                              -i, i, i, i ? "," : "}");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert(same(in, n));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double sec = (double)(t1.tv_sec - t0.tv_sec) +
                 (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    cr_expect_lt(sec, 3.0, "%.2f s", sec);
    free(in);
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

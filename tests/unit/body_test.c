/*
 * body_test.c - hub/body.c: an event body read once from jcanon's nodes
 * (body_prepare) must go into the batch exactly as the reading of its text
 * (body_prepare_text, the former way) sends it: the same bytes, the same
 * flags, the same occurred_at, the same identifiers. Bodies: the events of
 * the bench corpus (gen_adt's messages through the HL7 adapter), the
 * golden events, hand-made shapes (those of tests/integration/store_test.c
 * among them), generated event-like documents, and mutations of all of
 * them; each with several sets of hub fields (org ids that need escapes or
 * that leave no room, ids jcanon would refuse, a received time not in 011's
 * form). What the SQL then does with either is tests/integration's.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/canon.h"
#include "common/hub_err.h"
#include "hl7v2/hl7v2.h"
#include "../lib/testdb.h"
#include "../lib/testfile.h"

/* the bench corpus generator, its messages made here */
#define GEN_ADT_LIB
#include "../bench/gen_adt.c"

static unsigned long long rng = 11;

static unsigned rnd(unsigned n)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)((rng >> 33) % n);
}

#define AT "2026-12-03T05:06:07.089Z"
#define PID "01KBN3Q4ZP8V2C6W0XJ5R7M9TA"

/* Hub fields to try each body with: the usual, strings that need escapes
 * (and that escape_json escapes otherwise than the writer: \t), text
 * beyond ASCII, an org id of the longest form (no room when "source" must
 * be made), an id jcanon refuses (invalid UTF-8), a time not in 011's
 * form (nothing written). */
static const struct {
    const char *id, *org, *at;
    bool exact;
} hubs[] = {
    { "01KBN3Q4ZP8V2C6W0XJ5R7M9TB", "org_a", AT, true },
    { "01KBN3Q4ZP8V2C6W0XJ5R7M9TB", "org \"q\" \\ \t\x01 \xc3\xa9", AT, true },
    { "01KBN3Q4ZP8V2C6W0XJ5R7M9TB",
      "org-with-the-longest-id-allowed.0123456789.0123456789.012345678", AT,
      true },
    { "01KBN3Q4ZP8V2C6W0XJ5R7M9\xff", "org_a", AT, true },
    { "01KBN3Q4ZP8V2C6W0XJ5R7M9TB", "org_a", "2026-12-03 05:06:07", false },
    /* org ids around the room's edge for a body without "source" whose
     * patient gets a hub_id (193 to 190 bytes added: 192 fit) */
    { "01KBN3Q4ZP8V2C6W0XJ5R7M9TB",
      "org-60.0123456789.0123456789.0123456789.0123456789.012345678", AT,
      true },
    { "01KBN3Q4ZP8V2C6W0XJ5R7M9TB",
      "org-59.0123456789.0123456789.0123456789.0123456789.01234567", AT,
      true },
    { "01KBN3Q4ZP8V2C6W0XJ5R7M9TB",
      "org-58.0123456789.0123456789.0123456789.0123456789.0123456", AT,
      true },
    { "01KBN3Q4ZP8V2C6W0XJ5R7M9TB",
      "org-57.0123456789.0123456789.0123456789.0123456789.012345", AT,
      true },
};
#define N_HUBS (sizeof(hubs) / sizeof(hubs[0]))

static int by_nodes_agreed;

static void same_idents(const struct idents *x, const struct idents *y)
{
    cr_assert_eq(x->ok, y->ok, "identifiers read %s",
                 x->ok ? "by nodes only" : "by text only");
    if (!x->ok)
        return;
    cr_assert_eq(x->n, y->n);
    cr_assert_eq(x->foreign, y->foreign);
    for (size_t i = 0; i < x->n; i++) {
        const struct ident *a = &x->v[i], *b = &y->v[i];
        cr_assert(a->k == b->k && a->first == b->first &&
                  a->sys.len == b->sys.len && a->val.len == b->val.len &&
                  memcmp(a->sys.p, b->sys.p, a->sys.len) == 0 &&
                  memcmp(a->val.p, b->val.p, a->val.len) == 0,
                  "identifier %zu differs", i);
    }
}

/* One body, one set of hub fields, both ways; `ok`: the list of
 * identifiers starts readable (else the SQL reads them anyway), with one
 * identifier of an earlier event unless `empty` (the batch's first: the
 * list not allocated yet). */
static void same_one_list(const char *p, size_t n, size_t hi, bool ok,
                          bool empty)
{
    struct arena a, s1, s2;
    struct idents x = { NULL, 0, 0, ok, false }, y = { NULL, 0, 0, ok, false };
    struct body_hub h = { hubs[hi].id, hubs[hi].org, hubs[hi].at, PID };
    struct body_out e1 = { { p, n }, { OCC_SQL, SLICE_NULL }, 0, 0, 0, 0 };
    struct body_out e2 = e1;

    arena_init(&a, 4096);
    arena_init(&s1, 4096);
    arena_init(&s2, 4096);
    /* an identifier of an earlier event: the lists are appended to */
    if (ok && !empty) {
        struct ident i0 = { 1, 1, SLICE_LIT("S"), SLICE_LIT("V") };
        x.v = malloc(64 * sizeof(*x.v));
        y.v = malloc(64 * sizeof(*y.v));
        cr_assert(x.v && y.v);
        x.cap = y.cap = 64;
        x.v[x.n++] = i0;
        y.v[y.n++] = i0;
    }
    body_prepare(&a, &s1, hubs[hi].exact, &h, 2, &x, &e1);
    body_prepare_text(&a, &s2, hubs[hi].exact, &h, 2, &y, &e2);
    cr_assert(e1.prep == e2.prep && e1.canon == e2.canon &&
                  e1.pid_in == e2.pid_in,
              "flags differ (prep %d/%d canon %d/%d pid %d/%d) for hubs "
              "%zu: %.*s", e1.prep, e2.prep, e1.canon, e2.canon, e1.pid_in,
              e2.pid_in, hi, (int)n, p);
    cr_assert(e1.body.len == e2.body.len &&
                  memcmp(e1.body.p, e2.body.p, e1.body.len) == 0,
              "bodies differ for hubs %zu:\n in:    %.*s\n nodes: %.*s\n "
              "text:  %.*s", hi, (int)n, p, (int)e1.body.len, e1.body.p,
              (int)e2.body.len, e2.body.p);
    if (e1.pid_in)
        cr_assert_eq(e1.pid_at, e2.pid_at);
    cr_assert_eq(e1.occ.state, e2.occ.state);
    if (e1.occ.state == OCC_TEXT)
        cr_assert(e1.occ.v.len == e2.occ.v.len &&
                  memcmp(e1.occ.v.p, e2.occ.v.p, e1.occ.v.len) == 0);
    same_idents(&x, &y);
    if (e1.canon && hi == 0)
        by_nodes_agreed++;
    free(x.v);
    free(y.v);
    arena_release(&s1);
    arena_release(&s2);
    arena_release(&a);
}

static void same_one(const char *p, size_t n, size_t hi, bool ok)
{
    same_one_list(p, n, hi, ok, false);
}

static void same(const char *p, size_t n)
{
    for (size_t hi = 0; hi < N_HUBS; hi++)
        same_one(p, n, hi, true);
    same_one(p, n, 0, false);
    same_one_list(p, n, 0, true, true);
}

/* some mutations: bytes that matter to a JSON reader, cut short, a byte
 * dropped, a key spelled with an escape */
static void same_mutated(const char *p, size_t n, int rounds)
{
    static const char bytes[] = "\"\\{}[],:eE.-0u /\x01\x7f\xc3\xff tn";
    char *m = malloc(n + 8);

    cr_assert_not_null(m);
    for (int r = 0; r < rounds && n > 0; r++) {
        size_t at = rnd((unsigned)n), len = n;
        memcpy(m, p, n);
        switch (rnd(4)) {
        case 0: m[at] = bytes[rnd(sizeof(bytes) - 1)]; break;
        case 1: len = at; break;
        case 2:
            memmove(m + at, m + at + 1, n - at - 1);
            len = n - 1;
            break;
        default: {
            /* "x..." -> "\u0078..." at some quote */
            const char *q = memchr(p + at, '"', n - at);
            if (q == NULL || (size_t)(q - p) + 2 > n)
                break;
            size_t k = (size_t)(q - p) + 1;
            char u[7];
            snprintf(u, sizeof(u), "\\u%04x", (unsigned char)p[k] & 0x7f);
            memcpy(m, p, k);
            memcpy(m + k, u, 6);
            memcpy(m + k + 6, p + k + 1, n - k - 1);
            len = n + 5;
        }
        }
        same_one(m, len, rnd(N_HUBS), rnd(4) != 0);
    }
    free(m);
}

Test(body, bench_corpus_events_go_in_the_same_both_ways, .timeout = 120)
{
    struct rng top = { 42 };
    struct out o;

    by_nodes_agreed = 0;
    for (uint64_t i = 0; i < 1000; i++) {
        struct arena a;
        struct hl7_msg *m;
        struct hub_err err;
        struct canon_list evs = { 0 };

        gen_message(&top, i, &o);
        arena_init(&a, 64 * 1024);
        cr_assert_eq(hl7_parse(&a, o.b, o.n, &m, &err), HUB_OK);
        cr_assert_eq(hl7_to_events(&a, m, &evs, &err), HUB_OK);
        for (size_t k = 0; k < evs.n; k++) {
            same(evs.ev[k].json.p, evs.ev[k].json.len);
            if (i % 10 == 0)
                same_mutated(evs.ev[k].json.p, evs.ev[k].json.len, 40);
        }
        arena_release(&a);
    }
    /* and the adapter's events do take the node reading */
    cr_assert_geq(by_nodes_agreed, 1000);
}

static int golden_same(const char *path, const char *doc, size_t n,
                       void *arg)
{
    (void)arg;
    cr_assert_not_null(doc, "%s", path);
    same(doc, n);
    same_mutated(doc, n, 200);
    return 1;
}

Test(body, golden_events_go_in_the_same_both_ways, .timeout = 120)
{
    cr_assert_gt(testfile_each_golden_event(golden_same, NULL), 20);
}

Test(body, hand_made_shapes_go_in_the_same_both_ways)
{
    static const char *const bodies[] = {
        /* tests/integration/store_test.c's */
        "{\"type\":\"adt.admit\",\"patient\":{\"identifiers\":"
        "[{\"value\":\"S1\",\"system\":\"MRN\"}]}}",
        " { \"type\" : \"adt.admit\" , \"source\" : { } ,"
        " \"patient\" : { } } ",
        "{\"type\":\"adt.admit\",\"source\":{\"format\":\"hl7v2\"},"
        "\"patient\":{\"names\":[{\"family\":\"X\"}]}}",
        "{\"patient\":{\"identifiers\":[{\"value\":\"S2\",\"system\":"
        "\"MRN\"}],\"x\":{\"a\":[1,{\"b\":\"}\\\"{\"}]}},\"type\":"
        "\"adt.admit\",\"source\":{\"format\":\"hl7v2\",\"n\":[{}]}}",
        "{}",
        "{\"type\":\"adt.admit\",\"patient\":{\"identifiers\":["
        "{\"system\":\"MRN\",\"value\":\"A1\"},{\"value\":\"L1\"},"
        "{\"system\":\"\",\"value\":\"L2\"},{\"system\":null,"
        "\"value\":\"L3\"}]}}",
        "{\"type\":\"adt.admit\",\"patient\":{\"name\":\"x\",\"identifiers\""
        " : [ {\"value\":\"B1\",\"system\":\"MRN\"} , {\"value\":\"B1\","
        "\"system\":\"MRN\"},\"str\",7,[{\"value\":\"Z\"}],{\"value\":\"\"},"
        "{\"value\":null,\"system\":\"MRN\"},{\"system\":\"MRN\"},"
        "{\"value\":\"B2\",\"system\":\"MRN\",\"use\":{\"value\":\"no\"}}]}}",
        "{\"type\":\"adt.update\",\"note\":\"Zo\xc3\xab \xe2\x9c\x93\","
        "\"patient\":{\"identifiers\":[{\"system\":\"MRN\",\"value\":\"C1\"},"
        "{\"system\":\"MRN\",\"value\":\"B2\"}]}}",
        "{\"type\":\"adt.update\",\"patient\":{\"identifiers\":\"none\"}}",
        "{\"type\":\"adt.update\",\"patient\":\"str\"}",
        "{\"type\":\"adt.update\"}",
        "{\"type\":\"adt.update\",\"patient\":{\"identifiers\":[]}}",
        "{\"type\":\"adt.update\",\"patient\":{\"identifiers\":["
        "{\"system\":\"MRN\",\"value\":\"A\\u0031\"}]}}",
        "{\"type\":\"adt.update\",\"patient\":{\"identifiers\":["
        "{\"system\":\"MRN\",\"value\":5}]}}",
        "{\"type\":\"adt.update\",\"patient\":{\"identifiers\":["
        "{\"system\":\"MRN\",\"value\":\"X\",\"value\":\"B1\"}]}}",
        "{\"type\":\"adt.admit\",\"source\":\"x\",\"patient\":{"
        "\"identifiers\":[{\"value\":\"U1\",\"system\":\"S\"}]}}",
        /* duplicates the hub fields win over, and repeats it refuses */
        "{\"id\":\"mine\",\"source\":{\"org\":\"x\",\"received_at\":1},"
        "\"patient\":{\"hub_id\":\"old\",\"identifiers\":[{\"value\":\"D\"}]},"
        "\"id\":2}",
        "{\"source\":{},\"source\":{}}",
        "{\"patient\":{},\"patient\":{\"identifiers\":[{\"value\":\"E\"}]}}",
        "{\"patient\":{\"identifiers\":[],\"identifiers\":[]}}",
        "{\"p\\u0061tient\":{\"identifiers\":[{\"value\":\"F\"}]}}",
        "{\"patient\":{\"identifier\\u0073\":[{\"value\":\"F\"}]}}",
        "{\"patient\":{\"identifiers\":[{\"v\\u0061lue\":\"F\"}]}}",
        "{\"patient\":{\"identifiers\":[{\"value\":\"G\",\"system\":true}]}}",
        "{\"patient\":{\"identifiers\":[{\"value\":\"G\",\"system\":\"a\\/b\"}]}}",
        /* marked inactive: true only, once, its key plain */
        "{\"patient\":{\"identifiers\":[{\"value\":\"I1\",\"inactive\":true},"
        "{\"value\":\"I2\",\"inactive\":false},{\"value\":\"I3\","
        "\"inactive\":\"true\"},{\"inactive\" : true ,\"value\":\"I4\"}]}}",
        "{\"patient\":{\"identifiers\":[{\"value\":\"I5\",\"inactive\":true,"
        "\"inactive\":false}]}}",
        "{\"patient\":{\"identifiers\":[{\"value\":\"I6\",\"in\\u0061ctive\":"
        "true}]}}",
        /* occurred_at in every form, the last one counting */
        "{\"occurred_at\":\"2026-01-02T03:04:05Z\"}",
        "{\"occurred_at\":\"2026-01-02\",\"occurred_at\":null}",
        "{\"occurred_at\":5,\"occurred_at\":\"2026-01-02\"}",
        "{\"occurred_at\":\"2026\\u002d01-02\"}",
        "{\"occurred_at\":{\"at\":\"2026-01-02\"}}",
        /* not an object, or not JSON jcanon reads */
        "[]", "\"s\"", "7", "{\"n\":1e3,\"patient\":{\"identifiers\":"
        "[{\"value\":\"H\"}]}}", "{\"s\":\"\\u00e9\"}", "{\"a\":1,}",
        "{\"a\":\"\\u0000\"}", "",
    };

    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        same(bodies[i], strlen(bodies[i]));
        same_mutated(bodies[i], strlen(bodies[i]), 100);
    }
}

/* An identifier marked "inactive": true (out of effect when sent) is not
 * read for linking, either way; false, or any other value, is. */
Test(body, identifiers_marked_inactive_are_not_read_for_linking)
{
    static const char body[] =
        "{\"patient\":{\"identifiers\":[{\"value\":\"A\",\"system\":\"S\","
        "\"inactive\":true},{\"value\":\"B\",\"system\":\"S\",\"inactive\":"
        "false},{\"inactive\":true,\"value\":\"C\"}]}}";
    for (int way = 0; way < 2; way++) {
        struct arena a, sc;
        struct idents l = { NULL, 0, 0, true, false };
        struct body_hub h = { hubs[0].id, hubs[0].org, hubs[0].at, PID };
        struct body_out e = { { body, sizeof(body) - 1 },
                              { OCC_SQL, SLICE_NULL }, 0, 0, 0, 0 };
        arena_init(&a, 4096);
        arena_init(&sc, 4096);
        if (way == 0)
            body_prepare(&a, &sc, true, &h, 1, &l, &e);
        else
            body_prepare_text(&a, &sc, true, &h, 1, &l, &e);
        cr_assert(l.ok, "way %d", way);
        cr_assert_eq(l.n, 1, "way %d: %zu identifiers", way, l.n);
        cr_assert(slice_eq(l.v[0].val, "B"));
        cr_assert(e.pid_in, "way %d: a patient that links gets a candidate",
                  way);
        free(l.v);
        arena_release(&sc);
        arena_release(&a);
    }
}

/* A system in the hub's space outside the sending organization's scope
 * (another organization's, in any case of "urn:hub:", one whose org id
 * only starts with the sender's) marks the batch foreign, either way and
 * whether or not the list is read here; the sender's own scope (the FHIR
 * adapter's "urn:hub:org:<org>:fhir") and any other URI do not (F2241). */
Test(body, a_system_in_another_organizations_scope_marks_the_batch)
{
    static const struct {
        const char *sys;
        bool foreign;
    } cases[] = {
        { "urn:hub:org:hosp:ns:MRN", true },
        { "URN:Hub:org:hosp:ns:MRN", true },
        { "urn:hub:org:org_ab:ns:MRN", true },
        { "urn:hub:org", true },
        { "urn:hub:offset", true },
        { "urn:hub:org:org_a:fhir", false },
        { "urn:hub:org:org_a", false },
        { "urn:oid:1.2.3.4", false },
        { "urn:hubx:org:hosp", false },
        { "MRN", false },
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        char body[256];
        int n = snprintf(body, sizeof(body),
                         "{\"patient\":{\"identifiers\":[{\"value\":\"1\","
                         "\"system\":\"M\"},{\"value\":\"1234\",\"system\":"
                         "\"%s\",\"inactive\":true}]}}", cases[c].sys);
        for (int way = 0; way < 4; way++) {
            struct arena a, sc;
            struct idents l = { NULL, 0, 0, way < 2, false };
            struct body_hub h = { hubs[0].id, hubs[0].org, hubs[0].at, PID };
            struct body_out e = { { body, (size_t)n },
                                  { OCC_SQL, SLICE_NULL }, 0, 0, 0, 0 };
            arena_init(&a, 4096);
            arena_init(&sc, 4096);
            if (way % 2 == 0)
                body_prepare(&a, &sc, true, &h, 1, &l, &e);
            else
                body_prepare_text(&a, &sc, true, &h, 1, &l, &e);
            cr_assert_eq(l.foreign, cases[c].foreign, "%s, way %d",
                         cases[c].sys, way);
            cr_assert_eq(l.ok, way < 2, "%s, way %d", cases[c].sys, way);
            cr_assert_eq(l.n, way < 2 ? 1u : 0u, "%s, way %d", cases[c].sys,
                         way);
            free(l.v);
            arena_release(&sc);
            arena_release(&a);
        }
    }
}

/* --- generated event-like documents ---------------------------------------- */

static void gen_key(struct buf *b, const char *const *keys, size_t n)
{
    const char *k = keys[rnd((unsigned)n)];
    if (rnd(40) == 0 && k[0]) {     /* the same key, one letter escaped */
        buf_printf(b, "\"\\u%04x%s\"", (unsigned char)k[0], k + 1);
        return;
    }
    buf_printf(b, "\"%s\"", k);
}

static void gen_scalar(struct buf *b)
{
    static const char *const v[] = {
        "\"x\"", "\"\"", "null", "true", "7", "-1.5", "\"a\\\"b\"",
        "\"\\u0041\"", "\"\xc3\xa9\"", "\"2026-01-02T03:04:05+01:00\"",
        "\"2026-01-02\"", "\"MRN\"", "\"urn:x\"", "{}", "[]", "\"\\t\"",
    };
    buf_puts(b, v[rnd(sizeof(v) / sizeof(v[0]))]);
}

static void gen_ident(struct buf *b)
{
    static const char *const keys[] = { "system", "value", "type", "use" };
    unsigned n = rnd(4);
    if (rnd(10) == 0) {
        gen_scalar(b);
        return;
    }
    buf_putc(b, '{');
    for (unsigned i = 0; i < n; i++) {
        if (i)
            buf_putc(b, ',');
        gen_key(b, keys, 4);
        buf_putc(b, ':');
        gen_scalar(b);
    }
    buf_putc(b, '}');
}

static void gen_patient(struct buf *b)
{
    static const char *const keys[] = { "identifiers", "names", "hub_id",
                                        "sex" };
    if (rnd(8) == 0) {
        gen_scalar(b);
        return;
    }
    unsigned n = rnd(4);
    buf_putc(b, '{');
    for (unsigned i = 0; i < n; i++) {
        if (i)
            buf_puts(b, rnd(4) ? "," : " , ");
        gen_key(b, keys, 4);
        buf_putc(b, ':');
        if (rnd(6)) {
            unsigned m = rnd(4);
            buf_putc(b, '[');
            for (unsigned j = 0; j < m; j++) {
                if (j)
                    buf_putc(b, ',');
                gen_ident(b);
            }
            buf_putc(b, ']');
        } else {
            gen_scalar(b);
        }
    }
    buf_putc(b, '}');
}

static void gen_event(struct buf *b)
{
    static const char *const keys[] = { "type", "source", "occurred_at",
                                        "patient", "id", "encounter" };
    unsigned n = rnd(6);
    buf_putc(b, '{');
    for (unsigned i = 0; i < n; i++) {
        if (i)
            buf_putc(b, ',');
        size_t k = rnd(6);
        if (rnd(40) == 0) {
            gen_key(b, keys, 6);
        } else {
            buf_printf(b, "\"%s\"", keys[k]);
        }
        buf_puts(b, rnd(8) ? ":" : " : ");
        if (k == 3) {
            gen_patient(b);
        } else if (k == 1 && rnd(6)) {
            buf_puts(b, rnd(3) ? "{\"format\":\"hl7v2\"}" : "{}");
        } else {
            gen_scalar(b);
        }
    }
    buf_putc(b, '}');
}

Test(body, generated_events_go_in_the_same_both_ways, .timeout = 120)
{
    for (int i = 0; i < 4000; i++) {
        struct arena a;
        struct buf b;
        arena_init(&a, 4096);
        buf_init(&b, &a, 1 << 16);
        gen_event(&b);
        cr_assert_eq(b.err, HUB_OK);
        same(b.p, b.len);
        if (i % 4 == 0)
            same_mutated(b.p, b.len, 10);
        arena_release(&a);
    }
}

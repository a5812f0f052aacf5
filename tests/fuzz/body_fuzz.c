/*
 * body_fuzz.c - libFuzzer harness for hub/body.c: on any bytes taken as an
 * adapter's event body, body_prepare() (the body read once from jcanon's
 * nodes) must give the batch exactly what body_prepare_text() (the
 * reading of the text, the former way) gives: the same bytes, flags,
 * occurred_at and identifiers; and neither may crash or read out of
 * bounds (ASan). The first input byte picks the hub fields (an org id
 * that needs escapes, one that fills the room, an id jcanon refuses, a
 * received time not in 011's form). The fuzz build links adapters only,
 * so the modules are compiled into this harness.
 */
#define _GNU_SOURCE             /* memmem, for body.c: before any header */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../hub/jcanon.c"
#include "../../hub/body.c"

static const struct {
    const char *id, *org, *at;
    bool exact;
} hubs[] = {
    { "01KBN3Q4ZP8V2C6W0XJ5R7M9TB", "org_a", "2026-12-03T05:06:07.089Z",
      true },
    { "01KBN3Q4ZP8V2C6W0XJ5R7M9TB", "o \"q\" \\ \t\x01 \xc3\xa9",
      "2026-12-03T05:06:07.089Z", true },
    { "01KBN3Q4ZP8V2C6W0XJ5R7M9TB",
      "org-59.0123456789.0123456789.0123456789.0123456789.01234567",
      "2026-12-03T05:06:07.089Z", true },
    { "01KBN3Q4ZP8V2C6W0XJ5R7M9\xff", "org_a", "2026-12-03T05:06:07.089Z",
      true },
    { "01KBN3Q4ZP8V2C6W0XJ5R7M9TB", "org_a", "2026-12-03 05:06:07",
      false },
};

static bool same_slice(struct slice a, struct slice b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t hi = data[0] % (sizeof(hubs) / sizeof(hubs[0]));
    bool ok = data[0] & 0x80;
    struct body_hub h = { hubs[hi].id, hubs[hi].org, hubs[hi].at,
                          "01KBN3Q4ZP8V2C6W0XJ5R7M9TA" };
    struct slice in = { (const char *)data + 1, size - 1 };
    struct body_out e1 = { in, { OCC_SQL, SLICE_NULL }, 0, 0, 0, 0 };
    struct body_out e2 = e1;
    struct idents x = { NULL, 0, 0, ok, false }, y = { NULL, 0, 0, ok, false };
    struct arena a, s1, s2;

    arena_init(&a, 4096);
    arena_init(&s1, 4096);
    arena_init(&s2, 4096);
    body_prepare(&a, &s1, hubs[hi].exact, &h, 1, &x, &e1);
    body_prepare_text(&a, &s2, hubs[hi].exact, &h, 1, &y, &e2);
    if (e1.prep != e2.prep || e1.canon != e2.canon ||
        e1.pid_in != e2.pid_in || (e1.pid_in && e1.pid_at != e2.pid_at) ||
        !same_slice(e1.body, e2.body) || e1.occ.state != e2.occ.state ||
        (e1.occ.state == OCC_TEXT && !same_slice(e1.occ.v, e2.occ.v)) ||
        x.ok != y.ok)
        abort();
    if (x.ok) {
        if (x.n != y.n || x.foreign != y.foreign)
            abort();
        for (size_t i = 0; i < x.n; i++)
            if (x.v[i].k != y.v[i].k || !same_slice(x.v[i].sys, y.v[i].sys) ||
                !same_slice(x.v[i].val, y.v[i].val))
                abort();
    }
    free(x.v);
    free(y.v);
    arena_release(&s1);
    arena_release(&s2);
    arena_release(&a);
    return 0;
}

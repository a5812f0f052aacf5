/*
 * jcanon_fuzz.c - libFuzzer harness for hub/jcanon.c, which turns the
 * adapters' JSON (made from outside input) into jsonb's text form with no
 * room checks in its writes. Properties, on any bytes:
 *   - no crash, no out-of-bounds access (ASan);
 *   - what jcanon accepts is JSON: cJSON parses it and the canonical text;
 *   - the canonical text is a fixed point: jcanon(jcanon(x)) == jcanon(x);
 *   - it is no longer than the bound the writer relies on (3n + 2);
 *   - jcanon_find_str only finds offsets inside the text, just after a '"';
 *   - it answers as the writer it replaced does (tests/lib/jcanon_ref.c):
 *     the same refusals, the same text.
 * The byte-for-byte agreement with PostgreSQL is the integration test's
 * (tests/integration/jcanon_test.c); it needs a server. The fuzz build
 * links adapters only, so the module is compiled into this harness.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../hub/jcanon.c"
#include "../lib/jcanon_ref.c"

static void check_find(const struct slice *t, const char *k1, const char *k2)
{
    size_t at = 0;
    if (jcanon_find_str(t->p, t->len, k1, k2, &at) &&
        (at == 0 || at > t->len || t->p[at - 1] != '"'))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena a;
    struct slice t1, t2;
    const char *p = (const char *)data;

    arena_init(&a, 16 * 1024);
    bool ok = jcanon(&a, p, size, &t1);
    if (ok != jcanon_ref(&a, p, size, &t2) ||
        (ok && (t1.len != t2.len || memcmp(t1.p, t2.p, t1.len) != 0)))
        abort();
    if (ok) {
        if (t1.len > 3 * size + 2)
            abort();
        cJSON *in = cJSON_ParseWithLength(p, size);
        cJSON *out = cJSON_ParseWithLength(t1.p, t1.len);
        if (in == NULL || out == NULL)
            abort();
        cJSON_Delete(in);
        cJSON_Delete(out);
        if (!jcanon(&a, t1.p, t1.len, &t2) || t2.len != t1.len ||
            memcmp(t1.p, t2.p, t1.len) != 0)
            abort();
        check_find(&t1, "patient", "hub_id");
        check_find(&t1, "source", "format");
    }
    arena_release(&a);
    return 0;
}

/*
 * common_test.c - arena, buf and the JSON writer every adapter builds on.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "common/utf8.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/canon.h"
#include "common/hub_err.h"
#include "common/jw.h"

Test(arena, big_allocation_gets_its_own_chunk_and_small_ones_continue)
{
    struct arena a;
    arena_init(&a, 1024);
    char *small = arena_alloc(&a, 16);
    char *big = arena_alloc(&a, 100000);
    char *small2 = arena_alloc(&a, 16);
    memset(big, 'x', 100000);
    cr_assert_eq(small2, small + 16);
    cr_assert_eq(((uintptr_t)big) % 16, 0);
    arena_release(&a);
}

/* A buffer sized by a guess gives back what it did not fill, only when it
 * is the newest allocation: nothing made after it is ever overwritten. */
Test(arena, shrink_gives_back_the_tail_of_the_newest_allocation_only)
{
    struct arena a;
    arena_init(&a, 4096);
    char *p = arena_alloc(&a, 1000);
    size_t used = a.used;
    arena_shrink(&a, p, 1000, 100);
    cr_assert_eq(a.used, used - (1008 - 112));
    char *q = arena_alloc(&a, 16);
    cr_assert_eq(q, p + 112, "the next allocation follows the kept part");
    char *r = arena_alloc(&a, 16);
    used = a.used;
    arena_shrink(&a, q, 16, 0);        /* not the newest: r follows it */
    cr_assert_eq(a.used, used);
    cr_assert_eq(arena_alloc(&a, 16), r + 16);
    arena_shrink(&a, r, 16, 32);       /* more than it had: nothing */
    cr_assert_eq(arena_alloc(&a, 16), r + 32);
    arena_release(&a);
}

Test(buf, refuses_growth_past_its_ceiling_and_keeps_contents)
{
    struct arena a;
    struct buf b;
    arena_init(&a, 1024);
    buf_init(&b, &a, 8);
    cr_assert_eq(buf_puts(&b, "12345678"), HUB_OK);
    cr_assert_eq(buf_putc(&b, '9'), HUB_ELIMIT);
    cr_assert_str_eq(b.p, "12345678");
    arena_release(&a);
}

Test(jw, writes_nested_objects_with_commas_in_the_right_places)
{
    struct arena a;
    struct jw w;
    struct slice out;
    arena_init(&a, 1024);
    jw_init(&w, &a, 4096);
    jw_obj_begin(&w);
    jw_kv_cstr(&w, "a", "x");
    jw_kv_cstr(&w, "skipped", "");
    jw_key(&w, "list");
    jw_arr_begin(&w);
    jw_int(&w, 1);
    jw_obj_begin(&w);
    jw_key(&w, "b");
    jw_bool(&w, true);
    jw_obj_end(&w);
    jw_null(&w);
    jw_arr_end(&w);
    jw_key(&w, "c");
    jw_cstr(&w, "y");
    jw_obj_end(&w);
    cr_assert_eq(jw_finish(&w, &out), HUB_OK);
    cr_assert_str_eq(out.p, "{\"a\":\"x\",\"list\":[1,{\"b\":true},null],\"c\":\"y\"}");
    arena_release(&a);
}

Test(jw, escapes_controls_and_replaces_invalid_utf8)
{
    struct arena a;
    struct jw w;
    struct slice out;
    arena_init(&a, 1024);
    jw_init(&w, &a, 4096);
    jw_str(&w, (struct slice){ "q\"\\\n\x01\xff\xc3\xa9\xed\xa0\x80", 11 });
    cr_assert_eq(jw_finish(&w, &out), HUB_OK);
    cr_assert_str_eq(out.p, "\"q\\\"\\\\\\n\\u0001\xef\xbf\xbd\xc3\xa9"
                            "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
    arena_release(&a);
}

Test(jw, nesting_past_the_limit_is_an_error_not_a_crash)
{
    struct arena a;
    struct jw w;
    struct slice out;
    arena_init(&a, 1024);
    jw_init(&w, &a, 4096);
    for (int i = 0; i < JW_MAX_DEPTH + 5; i++)
        jw_arr_begin(&w);
    cr_assert_eq(jw_finish(&w, &out), HUB_ELIMIT);
    arena_release(&a);
}

Test(canon, knows_every_design_topic_and_nothing_else)
{
    cr_assert(canon_topic_known("adt.admit"));
    cr_assert(canon_topic_known("consent.updated"));
    cr_assert_not(canon_topic_known("adt.*"));
    cr_assert_not(canon_topic_known("adt.admit "));
}

Test(jw, writes_a_nul_byte_as_the_replacement_character_jsonb_accepts)
{
    struct arena a;
    struct jw w;
    struct slice out;
    arena_init(&a, 1024);
    jw_init(&w, &a, 4096);
    jw_str(&w, (struct slice){ "a\0b", 3 });
    cr_assert_eq(jw_finish(&w, &out), HUB_OK);
    cr_assert_str_eq(out.p, "\"a\xef\xbf\xbd" "b\"");
    arena_release(&a);
}

/* utf8_valid_prefix against the byte-at-a-time reading it speeds up: a
 * bad byte, and a good sequence, at every place around its 64- and
 * 8-byte steps, in inputs of every length up to 200 bytes. */
static size_t valid_prefix_ref(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t q = utf8_seq_len(s + i, n - i);
        if (q == 0)
            return i;
        i += q;
    }
    return n;
}

Test(utf8, valid_prefix_stops_at_the_first_bad_byte_wherever_it_is)
{
    static const char *const inserts[] = { "\xff", "\xc3\xa9", "\xc3",
        "\xe2\x82\xac", "\xed\xa0\x80", "\xf0\x9f\x98\x80", "\x80" };
    unsigned char buf[256];
    for (size_t n = 0; n <= 200; n++)
        for (size_t at = 0; at < n; at++)
            for (size_t k = 0; k < sizeof(inserts) / sizeof(inserts[0]); k++) {
                memset(buf, 'a', n);
                size_t m = strlen(inserts[k]);
                memcpy(buf + at, inserts[k], at + m <= n ? m : n - at);
                cr_assert_eq(utf8_valid_prefix(buf, n), valid_prefix_ref(buf, n),
                             "length %zu, insert %zu at %zu", n, k, at);
            }
    memset(buf, 'a', 200);
    cr_assert_eq(utf8_valid_prefix(buf, 200), 200);
    buf[130] = 0x80;
    cr_assert_eq(utf8_valid_prefix(buf, 200), 130);
}

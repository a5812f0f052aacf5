/*
 * jw_fast_test.c - the JSON writer's fast paths (word-at-a-time plain check,
 * one-go key/value members) agree with the byte-by-byte escaper: every byte
 * value at every position of strings of every length up to 24, through
 * jw_str and jw_kv_str.
 */
#include <criterion/criterion.h>
#include <cJSON.h>
#include <string.h>

#include "common/hub_err.h"
#include "common/jw.h"

static int plain_byte(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

Test(jw_fast, escapes_every_unsafe_byte_at_every_position)
{
    struct arena a;
    arena_init(&a, 64 * 1024);
    for (size_t n = 1; n <= 24; n++) {
        for (size_t pos = 0; pos < n; pos++) {
            for (int b = 1; b < 256; b++) {
                char s[32];
                memset(s, 'a', n);
                s[pos] = (char)b;
                struct jw w;
                struct slice out;
                jw_init(&w, &a, 1024);
                jw_obj_begin(&w);
                jw_kv_str(&w, "k", (struct slice){ s, n });
                jw_key(&w, "v");
                jw_str(&w, (struct slice){ s, n });
                jw_obj_end(&w);
                cr_assert_eq(jw_finish(&w, &out), HUB_OK);
                if (b < 0x20)   /* control bytes never appear raw */
                    cr_assert_null(memchr(out.p, b, out.len),
                                   "n=%zu pos=%zu b=%d: raw control byte", n,
                                   pos, b);
                cJSON *j = cJSON_ParseWithLength(out.p, out.len);
                cr_assert_not_null(j, "n=%zu pos=%zu b=%d: not JSON", n, pos,
                                   b);
                const char *k = cJSON_GetStringValue(
                    cJSON_GetObjectItemCaseSensitive(j, "k"));
                const char *v = cJSON_GetStringValue(
                    cJSON_GetObjectItemCaseSensitive(j, "v"));
                cr_assert(k && v && strcmp(k, v) == 0);
                if (plain_byte((unsigned char)b) || b == '"' || b == '\\' ||
                    b < 0x80)
                    cr_assert(strlen(k) == n && memcmp(k, s, n) == 0,
                              "n=%zu pos=%zu b=%d: value changed", n, pos, b);
                else    /* a lone byte >= 0x80 is not UTF-8: U+FFFD */
                    cr_assert(strstr(k, "\xef\xbf\xbd") != NULL);
                cJSON_Delete(j);
                arena_reset(&a);
            }
        }
    }
    arena_release(&a);
}

/* The literal-key members and jw_str_text: a separator only after the first
 * member, a plain value copied, any other value checked and escaped, an
 * empty member left out: the same bytes as jw_kv_str and jw_str write. */
Test(jw_fast, literal_key_members_match_jw_kv_str)
{
    struct arena a;
    arena_init(&a, 64 * 1024);
    static const char *const vals[] = { "x", "two words", "q\"uote",
                                        "back\\slash", "tab\there",
                                        "\xc3\xa9", "\xff", "" };
    for (size_t k = 0; k < sizeof(vals) / sizeof(vals[0]); k++) {
        struct jw w1, w2;
        struct slice o1, o2, v = slice_from_cstr(vals[k]);
        int plain = 1;
        for (size_t i = 0; i < v.len; i++)
            plain &= plain_byte((unsigned char)v.p[i]);
        jw_init(&w1, &a, 1024);
        jw_init(&w2, &a, 1024);
        jw_obj_begin(&w1);
        jw_obj_begin(&w2);
        jw_kv_chunk(&w1, JW_KV("a"), v, plain);
        jw_kv_str(&w2, "a", v);
        jw_key_chunk(&w1, JW_KEY("list"));
        jw_key(&w2, "list");
        jw_arr_begin(&w1);
        jw_arr_begin(&w2);
        jw_str_text(&w1, v, plain);     /* array elements, too */
        jw_str(&w2, v);
        jw_str_text(&w1, v, false);
        jw_str(&w2, v);
        jw_arr_end(&w1);
        jw_arr_end(&w2);
        jw_kv_chunk(&w1, JW_KV("b"), v, false);
        jw_kv_str(&w2, "b", v);
        jw_obj_end(&w1);
        jw_obj_end(&w2);
        cr_assert_eq(jw_finish(&w1, &o1), HUB_OK);
        cr_assert_eq(jw_finish(&w2, &o2), HUB_OK);
        cr_assert(slice_eq_slice(o1, o2), "value %zu: %.*s vs %.*s", k,
                  (int)o1.len, o1.p, (int)o2.len, o2.p);
        cJSON *j = cJSON_ParseWithLength(o1.p, o1.len);
        cr_assert_not_null(j, "value %zu: not JSON", k);
        cJSON_Delete(j);
    }
    arena_release(&a);
}

Test(jw_fast, literal_key_members_respect_the_limit_and_grow)
{
    struct arena a;
    arena_init(&a, 64 * 1024);
    char big[600];
    memset(big, 'v', sizeof(big));
    struct jw w;
    struct slice out;
    jw_init(&w, &a, 4096);
    jw_obj_begin(&w);
    for (int k = 0; k < 6; k++)     /* past the first 256-byte buffer */
        jw_kv_chunk(&w, JW_KV("k"), (struct slice){ big, sizeof(big) },
                    true);
    jw_obj_end(&w);
    cr_assert_eq(jw_finish(&w, &out), HUB_OK);
    cr_assert_eq(out.len, 2 + 6 * (sizeof(big) + 6) + 5);   /* 5 commas */
    jw_init(&w, &a, 512);
    jw_reserve(&w, 4096);           /* a hint past max: no error */
    jw_obj_begin(&w);
    jw_kv_chunk(&w, JW_KV("k"), (struct slice){ big, sizeof(big) }, true);
    jw_obj_end(&w);
    cr_assert_eq(jw_finish(&w, &out), HUB_ELIMIT);
    arena_release(&a);
}

/* One document through every inline path: brackets, literal keys, plain and
 * escaped members, array strings. */
static int write_doc(struct arena *a, size_t max, struct slice *out)
{
    struct jw w;
    jw_init(&w, a, max);
    jw_obj_begin(&w);
    jw_kv_chunk(&w, JW_KV("id"), SLICE_LIT("12345"), true);
    for (int k = 0; k < 20; k++) {
        jw_key_chunk(&w, JW_KEY("list"));
        jw_arr_begin(&w);
        jw_obj_begin(&w);
        jw_kv_chunk(&w, JW_KV("a"), SLICE_LIT("plain value"), true);
        jw_kv_chunk(&w, JW_KV("b"), SLICE_LIT("q\"uote"), false);
        jw_obj_end(&w);
        jw_str_text(&w, SLICE_LIT("x"), true);
        jw_arr_begin(&w);
        jw_arr_end(&w);
        jw_arr_end(&w);
    }
    jw_obj_end(&w);
    return jw_finish(&w, out);
}

/* The inline paths keep to the writer's ceiling at every size, as the
 * buffer grows: a document that fits is written whole, byte for byte, one
 * a byte larger than the ceiling is refused. */
Test(jw_fast, inline_paths_stop_exactly_at_the_limit)
{
    struct arena a;
    arena_init(&a, 64 * 1024);
    struct slice full, out;
    cr_assert_eq(write_doc(&a, 1u << 20, &full), HUB_OK);
    cr_assert_gt(full.len, 600);    /* past the first 256-byte buffer */
    for (size_t max = 0; max <= full.len + 2; max++) {
        int rc = write_doc(&a, max, &out);
        if (max >= full.len) {
            cr_assert_eq(rc, HUB_OK, "max %zu", max);
            cr_assert(slice_eq_slice(out, full), "max %zu", max);
        } else {
            cr_assert_eq(rc, HUB_ELIMIT, "max %zu", max);
        }
    }
    arena_release(&a);
}

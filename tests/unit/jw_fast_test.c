/*
 * jw_fast_test.c - the JSON writer's fast paths (word-at-a-time plain check,
 * one-go key/value members) agree with the byte-by-byte escaper: every byte
 * value at every position of strings of every length up to 24, through
 * jw_str and jw_kv_str.
 */
#include <criterion/criterion.h>
#include <cJSON.h>
#include <inttypes.h>
#include <stdio.h>
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

/* One document as the checked calls write it (span = 0), or with its
 * objects as spans (span = 1): the same bytes, or the same error. */
static int write_spans(struct arena *a, size_t max, int span,
                       struct slice v, bool plain, struct slice *out)
{
    struct jw w;
    jw_init(&w, a, max);
    jw_obj_begin(&w);
    jw_kv_chunk(&w, JW_KV("id"), SLICE_LIT("12345"), true);
    jw_key_chunk(&w, JW_KEY("list"));
    jw_arr_begin(&w);
    for (int k = 0; k < 12; k++) {
        if (!span) {
            jw_obj_begin(&w);
            jw_kv_chunk(&w, JW_KV("a"), v, plain);
            jw_kv_chunk(&w, JW_KV("empty"), SLICE_NULL, true);
            jw_key_chunk(&w, JW_KEY("given"));
            jw_arr_begin(&w);
            jw_str_text(&w, v, plain);
            jw_str_text(&w, SLICE_LIT("x"), true);
            jw_arr_end(&w);
            jw_kv_chunk(&w, JW_KV("b"), SLICE_LIT("plain"), true);
            jw_obj_end(&w);
            continue;
        }
        size_t room = JW_ROOM_KV(sizeof(",\"a\":\"") - 1, v, plain) +
                      sizeof(",\"given\":[]") + JW_ROOM_STR(v, plain) + 4 +
                      JW_ROOM_KV(sizeof(",\"b\":\"") - 1, SLICE_LIT("plain"),
                                 true) + 3;
        char *o = jw_room(&w, room), *start = o;
        bool first = true, first_given = true;
        o = jw_put_open(&w, o, '{');
        o = jw_put_kv(o, &first, JW_KV("a"), v, plain);
        o = jw_put_kv(o, &first, JW_KV("empty"), SLICE_NULL, true);
        o = jw_put_key(o, &first, JW_KEY("given"));
        *o++ = '[';
        o = jw_put_str(o, &first_given, v, plain);
        o = jw_put_str(o, &first_given, SLICE_LIT("x"), true);
        *o++ = ']';
        o = jw_put_kv(o, &first, JW_KV("b"), SLICE_LIT("plain"), true);
        *o++ = '}';
        jw_commit(&w, start, o);
    }
    jw_arr_end(&w);
    jw_obj_end(&w);
    return jw_finish(&w, out);
}

/* Spans write what the checked calls write, escaped or not, at every
 * ceiling around the document's size (in place, grown, or written aside
 * and refused), and jw_put_escaped agrees with jw_str for every byte at
 * every position. */
Test(jw_fast, spans_write_what_the_checked_calls_write)
{
    struct arena a;
    arena_init(&a, 64 * 1024);
    static const char *const vals[] = { "x", "two words", "q\"uote",
                                        "tab\there", "\xc3\xa9\x01\x7f",
                                        "\xff\xc3", "" };
    for (size_t k = 0; k < sizeof(vals) / sizeof(vals[0]); k++) {
        struct slice v = slice_from_cstr(vals[k]), full, o1, o2;
        bool plain = k < 2;
        cr_assert_eq(write_spans(&a, 1u << 20, 0, v, plain, &full), HUB_OK);
        for (size_t max = full.len - 300; max <= full.len + 2; max++) {
            int r1 = write_spans(&a, max, 0, v, plain, &o1);
            int r2 = write_spans(&a, max, 1, v, plain, &o2);
            cr_assert_eq(r1, r2, "value %zu max %zu", k, max);
            if (r1 == HUB_OK)
                cr_assert(slice_eq_slice(o1, o2), "value %zu max %zu: %.*s",
                          k, max, (int)o2.len, o2.p);
        }
        arena_reset(&a);
    }
    for (size_t n = 1; n <= 12; n++) {
        for (size_t pos = 0; pos < n; pos++) {
            for (int b = 0; b < 256; b++) {
                char s[16], buf[16 * 6 + 8];
                struct jw w;
                struct slice out;
                memset(s, 'a', n);
                s[pos] = (char)b;
                if (pos + 1 < n && b >= 0xc2)
                    s[pos + 1] = (char)0xa9;    /* sometimes valid UTF-8 */
                jw_init(&w, &a, 1024);
                jw_str(&w, (struct slice){ s, n });
                cr_assert_eq(jw_finish(&w, &out), HUB_OK);
                char *e = jw_put_escaped(buf, (const unsigned char *)s, n);
                cr_assert((size_t)(e - buf) <= 6 * n);
                cr_assert(out.len == (size_t)(e - buf) + 2 &&
                              memcmp(out.p + 1, buf, out.len - 2) == 0,
                          "n=%zu pos=%zu b=%d", n, pos, b);
                arena_reset(&a);
            }
        }
    }
    arena_release(&a);
}

/* jw_int writes its digits by hand: what "%" PRId64 writes, for the ends
 * of the range, each power of ten and its neighbours, and within the
 * writer's limit or past it. */
Test(jw_fast, integers_are_written_as_printf_writes_them)
{
    struct arena a;
    arena_init(&a, 64 * 1024);
    int64_t vals[64 * 3 + 4];
    size_t n = 0;
    vals[n++] = 0;
    vals[n++] = INT64_MIN;
    vals[n++] = INT64_MAX;
    vals[n++] = INT64_MIN + 1;
    /* 10^0 .. 10^18; p is multiplied only while the next power fits */
    for (int64_t p = 1, k = 0; k < 19; k++) {
        vals[n++] = p;
        vals[n++] = p - 1;
        vals[n++] = -p;
        vals[n++] = -(p + 1);
        if (k < 18)
            p *= 10;
    }
    for (size_t i = 0; i < n; i++) {
        char want[48];
        snprintf(want, sizeof(want), "[1,%" PRId64 "]", vals[i]);
        struct jw w;
        struct slice out;
        jw_init(&w, &a, 1024);
        jw_arr_begin(&w);
        jw_int(&w, 1);
        jw_int(&w, vals[i]);
        jw_arr_end(&w);
        cr_assert_eq(jw_finish(&w, &out), HUB_OK);
        cr_assert_str_eq(out.p, want);
        /* one byte short of the number: the document is refused */
        jw_init(&w, &a, strlen(want) - 2);
        jw_arr_begin(&w);
        jw_int(&w, 1);
        jw_int(&w, vals[i]);
        cr_assert_eq(jw_finish(&w, &out), HUB_ELIMIT, "%s", want);
    }
    arena_release(&a);
}

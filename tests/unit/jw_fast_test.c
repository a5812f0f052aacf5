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

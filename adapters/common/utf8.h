/*
 * utf8.h - the one UTF-8 check shared by the JSON writer and the store.
 *
 * Why one: jw.c (canonical JSON) and store.c (text parameters) must turn
 * exactly the same bytes into U+FFFD, or a key would compare differently
 * after it travelled one way or the other.
 */
#ifndef HUB_UTF8_H
#define HUB_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* U+FFFD, what an invalid byte (or a NUL, which text cannot hold) becomes */
#define UTF8_REPLACEMENT "\xef\xbf\xbd"

/*
 * The length (2-4) of the valid multi-byte sequence at s (n bytes left),
 * or 0 when s[0] does not start one (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF). ASCII is the caller's: 0 for it too.
 */
static inline size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len = 0;
    uint32_t cp = 0;

    if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
    if (len == 0 || len > n)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

#endif

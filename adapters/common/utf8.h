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

/*
 * The Unicode code point of Windows-1252 byte c: 0x80-0x9F as Windows
 * maps them (the five it leaves undefined stay C1 controls), the rest as
 * ISO 8859-1. The WHATWG Encoding Standard reads "iso-8859-1" this way too:
 * senders that say Latin-1 type curly quotes and the euro sign.
 */
static inline unsigned cp1252_code_point(unsigned char c)
{
    static const uint16_t c1[32] = {
        0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
        0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d, 0x017d, 0x008f,
        0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
        0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178,
    };
    return c >= 0x80 && c < 0xa0 ? c1[c - 0x80] : c;
}

/* Code point cp (below 0x10000) as UTF-8 at o; returns the end. */
static inline char *utf8_put(char *o, unsigned cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xc0 | cp >> 6);
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *o++ = (char)(0xe0 | cp >> 12);
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    }
    return o;
}

#endif

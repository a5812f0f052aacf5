/*
 * utf8.h - the one UTF-8 check shared by the JSON writer and the store,
 * and the one reading of Latin text (Windows-1252, ISO 8859-15) that the
 * HL7 v2 and CSV adapters apply to input that is not UTF-8.
 *
 * Why one check: jw.c (canonical JSON) and store_ingest.c (text parameters) must
 * turn exactly the same bytes into U+FFFD, or a key would compare
 * differently after it travelled one way or the other.
 */
#ifndef HUB_UTF8_H
#define HUB_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

/* The length of the longest prefix of s (n bytes) that is valid UTF-8: n
 * when all of it is. ASCII, nearly all input, is passed 64 bytes at a
 * time (one test of four 16-byte loads), then eight. */
static inline size_t utf8_valid_prefix(const unsigned char *s, size_t n)
{
    size_t i = 0;

    if (s == NULL)
        return n;
    for (;;) {
#if defined(__SSE2__)
        while (i + 64 <= n) {
            const __m128i *v = (const __m128i *)(const void *)(s + i);
            __m128i any = _mm_or_si128(
                _mm_or_si128(_mm_loadu_si128(v), _mm_loadu_si128(v + 1)),
                _mm_or_si128(_mm_loadu_si128(v + 2), _mm_loadu_si128(v + 3)));
            if (_mm_movemask_epi8(any))
                break;
            i += 64;
        }
#endif
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ull)
                break;
            i += 8;
        }
        while (i < n && s[i] < 0x80)
            i++;
        if (i >= n)
            return n;
        /* a run of letters past ASCII read through, not a 64-byte test
         * per letter: text in Chinese is such a run (F886) */
        do {
            size_t q = utf8_seq_len(s + i, n - i);
            if (q == 0)
                return i;
            i += q;
        } while (i < n && s[i] >= 0x80);
    }
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

/* 8859-15 differs from 8859-1 in eight code points (A4 A6 A8 B4 B8 BC BD
 * BE): the euro sign, S/Z caron, OE and Y diaeresis. */
static inline unsigned latin9_code_point(unsigned char c)
{
    switch (c) {
    case 0xa4: return 0x20ac;
    case 0xa6: return 0x0160;
    case 0xa8: return 0x0161;
    case 0xb4: return 0x017d;
    case 0xb8: return 0x017e;
    case 0xbc: return 0x0152;
    case 0xbd: return 0x0153;
    case 0xbe: return 0x0178;
    default: return c;
    }
}

static inline bool utf8_has_bom(const unsigned char *s, size_t n)
{
    return n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0;
}

/* Bytes latin_to_utf8 writes for s[i] (a byte order mark is copied). */
static inline size_t latin_utf8_width(const unsigned char *s, size_t n,
                                      size_t i, bool l9)
{
    if (s[i] < 0x80 || (i < 3 && utf8_has_bom(s, n)))
        return 1;
    unsigned cp = l9 ? latin9_code_point(s[i]) : cp1252_code_point(s[i]);
    return cp < 0x800 ? 2 : 3;
}

/* s (n bytes) read as Windows-1252, or ISO 8859-15 when l9, written as
 * UTF-8 at o (room for 3n bytes); a UTF-8 byte order mark is kept as it
 * is. Returns the end. */
static inline char *latin_to_utf8(char *o, const unsigned char *s, size_t n,
                                  bool l9)
{
    size_t i = 0;
    if (utf8_has_bom(s, n)) {
        memcpy(o, s, 3);
        o += 3;
        i = 3;
    }
    for (; i < n; i++)
        o = utf8_put(o, l9 ? latin9_code_point(s[i])
                           : cp1252_code_point(s[i]));
    return o;
}

/* An offset t into latin_to_utf8's output as an offset into s, the bytes
 * sent, so that an error names the place the sender can find. */
static inline size_t latin_sent_offset(const unsigned char *s, size_t n,
                                       bool l9, size_t t)
{
    size_t o = 0, u = 0;
    while (o < n && u < t)
        u += latin_utf8_width(s, n, o++, l9);
    return o;
}

#endif

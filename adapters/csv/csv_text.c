/*
 * csv_text.c - what a file's bytes are as text: UTF-8 (nearly all), or
 * what spreadsheets save otherwise, read into UTF-8 so that no event ever
 * holds bytes that are not UTF-8:
 *
 *   Windows-1252  Excel on Windows, "CSV" (no byte of it forms UTF-8);
 *   mixed         UTF-8 with some bytes that are not (rows pasted in from
 *                 a Windows-1252 file): the UTF-8 is kept, each other byte
 *                 read as Windows-1252, rather than turn the good accents
 *                 into mojibake;
 *   UTF-16        Excel's "Unicode text" (little-endian, a byte order
 *                 mark, TAB-delimited), or big-endian; without a byte
 *                 order mark when the header's ASCII shows it (every
 *                 other byte NUL). Unpaired surrogates become U+FFFD.
 *   Mac OS Roman  Excel for Mac, "CSV" and "CSV (Macintosh)": no UTF-8,
 *                 and the header's line ends in CR alone, which no
 *                 Windows tool writes (F2402: its 0x8e is e-acute, not
 *                 Windows-1252's Z-caron).
 *
 * Places stay the sender's: an offset into the translation is turned back
 * into one into the bytes sent, and a rejected row is given back as the
 * bytes sent (what the hub quarantines).
 */
#include <stdint.h>
#include <string.h>

#include "common/utf8.h"
#include "csv/csv_int.h"

/* Mac OS Roman's 0x80 to 0xff (0xdb the euro, as since Mac OS 8.5). */
static const uint16_t mac_roman[128] = {
    0x00c4, 0x00c5, 0x00c7, 0x00c9, 0x00d1, 0x00d6, 0x00dc, 0x00e1,
    0x00e0, 0x00e2, 0x00e4, 0x00e3, 0x00e5, 0x00e7, 0x00e9, 0x00e8,
    0x00ea, 0x00eb, 0x00ed, 0x00ec, 0x00ee, 0x00ef, 0x00f1, 0x00f3,
    0x00f2, 0x00f4, 0x00f6, 0x00f5, 0x00fa, 0x00f9, 0x00fb, 0x00fc,
    0x2020, 0x00b0, 0x00a2, 0x00a3, 0x00a7, 0x2022, 0x00b6, 0x00df,
    0x00ae, 0x00a9, 0x2122, 0x00b4, 0x00a8, 0x2260, 0x00c6, 0x00d8,
    0x221e, 0x00b1, 0x2264, 0x2265, 0x00a5, 0x00b5, 0x2202, 0x2211,
    0x220f, 0x03c0, 0x222b, 0x00aa, 0x00ba, 0x03a9, 0x00e6, 0x00f8,
    0x00bf, 0x00a1, 0x00ac, 0x221a, 0x0192, 0x2248, 0x2206, 0x00ab,
    0x00bb, 0x2026, 0x00a0, 0x00c0, 0x00c3, 0x00d5, 0x0152, 0x0153,
    0x2013, 0x2014, 0x201c, 0x201d, 0x2018, 0x2019, 0x00f7, 0x25ca,
    0x00ff, 0x0178, 0x2044, 0x20ac, 0x2039, 0x203a, 0xfb01, 0xfb02,
    0x2021, 0x00b7, 0x201a, 0x201e, 0x2030, 0x00c2, 0x00ca, 0x00c1,
    0x00cb, 0x00c8, 0x00cd, 0x00ce, 0x00cf, 0x00cc, 0x00d3, 0x00d4,
    0xf8ff, 0x00d2, 0x00da, 0x00db, 0x00d9, 0x0131, 0x02c6, 0x02dc,
    0x00af, 0x02d8, 0x02d9, 0x02da, 0x00b8, 0x02dd, 0x02db, 0x02c7,
};

/* Whether the first line of s[0..n) ends in a CR alone: the line end a
 * Mac "CSV" has throughout (a cell's own line break, LF, may not be).
 * CRs before an LF are Windows's: Python's csv.writer on Windows, its
 * file opened without newline='', writes CR CR LF, in Windows-1252
 * (F2480). */
static bool first_line_ends_in_cr(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\r' || s[i] == '\n') {
            while (i < n && s[i] == '\r')
                i++;
            return i == n || s[i] != '\n';
        }
    return false;
}

/* A byte of 0x80 or more in s[0..n): most files are ASCII, so eight bytes
 * a test (the byte count of the loop it replaced was a tenth of the
 * adapter's work). */
static bool any_high(const unsigned char *s, size_t n)
{
    uint64_t x, acc = 0;
    size_t i = 0;
    /* 32 bytes a turn, four words or'd together: the loop's own count
     * and branch were most of its cost */
    for (; i + 32 <= n; i += 32) {
        uint64_t w[4];
        memcpy(w, s + i, 32);
        acc |= (w[0] | w[1]) | (w[2] | w[3]);
    }
    for (; i + 8 <= n; i += 8) {
        memcpy(&x, s + i, 8);
        acc |= x;
    }
    for (; i < n; i++)
        acc |= s[i];
    return (acc & 0x8080808080808080u) != 0;
}

enum csv_enc csv_encoding(const char *p, size_t len)
{
    const unsigned char *s = (const unsigned char *)p;

    if (p == NULL)
        return CSV_ENC_ASCII;
    if (len >= 2 && s[0] == 0xff && s[1] == 0xfe)
        return CSV_ENC_UTF16LE;
    if (len >= 2 && s[0] == 0xfe && s[1] == 0xff)
        return CSV_ENC_UTF16BE;
    if (len >= 4 && s[0] && !s[1] && s[2] && !s[3])
        return CSV_ENC_UTF16LE;
    if (len >= 4 && !s[0] && s[1] && !s[2] && s[3])
        return CSV_ENC_UTF16BE;
    if (!any_high(s, len))
        return CSV_ENC_ASCII;
    size_t i = utf8_valid_prefix(s, len);
    if (i == len)
        return CSV_ENC_UTF8;
    /* UTF-8 before the first bad byte (a byte order mark aside), or after
     * it, makes the file mixed */
    for (size_t k = utf8_has_bom(s, len) ? 3 : 0; k < i; k++)
        if (s[k] >= 0x80)
            return CSV_ENC_MIXED;
    for (; i < len; i++)
        if (s[i] >= 0x80 && utf8_seq_len(s + i, len - i) > 1)
            return CSV_ENC_MIXED;
    return first_line_ends_in_cr(s, len) ? CSV_ENC_MACROMAN : CSV_ENC_CP1252;
}

/* The UTF-16 code unit at s[i], i + 1 < n. */
static unsigned unit(const unsigned char *s, size_t i, bool be)
{
    return be ? (unsigned)s[i] << 8 | s[i + 1]
              : (unsigned)s[i + 1] << 8 | s[i];
}

static bool is_high(unsigned u) { return u >= 0xd800 && u <= 0xdbff; }
static bool is_low(unsigned u) { return u >= 0xdc00 && u <= 0xdfff; }

/* Code point cp (any) as UTF-8 at o; returns the end. */
static char *put_cp(char *o, uint32_t cp)
{
    if (cp < 0x10000)
        return utf8_put(o, cp);
    *o++ = (char)(0xf0 | cp >> 18);
    *o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
    *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
    *o++ = (char)(0x80 | (cp & 0x3f));
    return o;
}

static char *utf16_to_utf8(char *o, const unsigned char *s, size_t n,
                           bool be)
{
    size_t i = 0;
    while (i + 1 < n) {
        unsigned u = unit(s, i, be);
        i += 2;
        if (is_high(u) && i + 1 < n && is_low(unit(s, i, be))) {
            o = put_cp(o, 0x10000 + ((uint32_t)(u - 0xd800) << 10) +
                              (unit(s, i, be) - 0xdc00));
            i += 2;
        } else if (is_high(u) || is_low(u)) {
            o = utf8_put(o, 0xfffd);
        } else {
            o = utf8_put(o, u);
        }
    }
    if (i < n)                      /* an odd last byte */
        o = utf8_put(o, 0xfffd);
    return o;
}

/* UTF-8 where it is valid, each other byte as Windows-1252. */
static char *mixed_to_utf8(char *o, const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t q = s[i] < 0x80 ? 1 : utf8_seq_len(s + i, n - i);
        if (q) {
            memcpy(o, s + i, q);
            o += q;
            i += q;
        } else {
            o = utf8_put(o, cp1252_code_point(s[i++]));
        }
    }
    return o;
}

static char *mac_roman_to_utf8(char *o, const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        o = s[i] < 0x80 ? (*o = (char)s[i], o + 1)
                        : utf8_put(o, mac_roman[s[i] - 0x80]);
    return o;
}

bool csv_to_utf8(struct arena *a, enum csv_enc e, const char *p, size_t len,
                 const char **out, size_t *out_len)
{
    const unsigned char *s = (const unsigned char *)p;
    char *u, *o;

    switch (e) {
    case CSV_ENC_ASCII:
    case CSV_ENC_UTF8:
        return false;
    case CSV_ENC_UTF16LE:
    case CSV_ENC_UTF16BE:
        /* a unit of two bytes becomes at most three, a pair of four four */
        u = arena_alloc(a, len / 2 * 3 + 4);
        o = utf16_to_utf8(u, s, len, e == CSV_ENC_UTF16BE);
        break;
    case CSV_ENC_MACROMAN:
        u = arena_alloc(a, 3 * len + 1);
        o = mac_roman_to_utf8(u, s, len);
        break;
    case CSV_ENC_CP1252:
    case CSV_ENC_MIXED:
    default:
        /* each byte becomes at most three; with no UTF-8 in the file this
         * is what reading it all as Windows-1252 gives */
        u = arena_alloc(a, 3 * len + 1);
        o = mixed_to_utf8(u, s, len);
        break;
    }
    *out = u;
    *out_len = (size_t)(o - u);
    return true;
}

/*
 * The bytes of the translation that byte s[i] of the file as sent
 * accounts for, given to the last byte of what it is part of (a UTF-16
 * unit or pair, a UTF-8 sequence byte by byte), so that a walk summing
 * them stops after a whole character.
 */
static size_t sent_width(enum csv_enc e, const unsigned char *s, size_t n,
                         size_t i)
{
    if (e == CSV_ENC_UTF16LE || e == CSV_ENC_UTF16BE) {
        bool be = e == CSV_ENC_UTF16BE;
        if (i % 2 == 0)
            return i + 1 == n ? 3 : 0;  /* an odd last byte: U+FFFD */
        unsigned u = unit(s, i - 1, be);
        if (is_high(u))
            return i + 2 < n && is_low(unit(s, i + 1, be)) ? 0 : 3;
        if (is_low(u))
            return i >= 3 && is_high(unit(s, i - 3, be)) ? 4 : 3;
        return u < 0x80 ? 1 : u < 0x800 ? 2 : 3;
    }
    if (s[i] < 0x80)
        return 1;
    if (e == CSV_ENC_MACROMAN)
        return mac_roman[s[i] - 0x80] < 0x800 ? 2 : 3;
    /* inside a valid UTF-8 sequence (its lead byte up to three back) */
    for (size_t k = 0; k <= 3 && k <= i; k++)
        if (utf8_seq_len(s + i - k, n - i + k) > k)
            return 1;
    return cp1252_code_point(s[i]) < 0x800 ? 2 : 3;
}

size_t csv_sent_offset(const struct csv_file *sent, size_t t)
{
    const unsigned char *s = (const unsigned char *)sent->p;
    enum csv_enc e = csv_encoding(sent->p, sent->len);
    size_t o = 0, u = 0;
    if (e == CSV_ENC_ASCII || e == CSV_ENC_UTF8)
        return t;
    while (o < sent->len && u < t)
        u += sent_width(e, s, sent->len, o++);
    return o;
}

void csv_untranslate_rejected(struct csv_report *rep,
                              const struct csv_file *files,
                              const struct csv_file *tf, size_t n)
{
    unsigned cur = (unsigned)-1;
    size_t o = 0, t = 0;            /* original and translated positions */
    enum csv_enc e = CSV_ENC_ASCII;
    for (size_t i = 0; i < rep->n_rejected; i++) {
        struct csv_rejected *r = &rep->rejected[i];
        if (r->file >= n || tf[r->file].p == files[r->file].p)
            continue;
        const struct csv_file *f = &files[r->file];
        const unsigned char *s = (const unsigned char *)f->p;
        if (r->file != cur || r->offset < t) {
            cur = r->file;
            o = t = 0;
            e = csv_encoding(f->p, f->len);
        }
        while (o < f->len && t < r->offset)
            t += sent_width(e, s, f->len, o++);
        size_t start = o, end_t = r->offset + r->raw.len;
        while (o < f->len && t < end_t)
            t += sent_width(e, s, f->len, o++);
        r->offset = start;
        r->raw = (struct slice){ f->p + start, o - start };
    }
}

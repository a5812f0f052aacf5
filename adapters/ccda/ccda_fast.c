/*
 * ccda_fast.c - a one-pass reader for plain C-CDA documents, next to the
 * libxml2 parse of ccda_xml.c, building the same compact tree (ccda_int.h).
 *
 * Why it exists: libxml2's reading alone cost ~636k instructions per bench
 * document (~2.7k per element) of the adapter's ~797k, which leaves no room
 * for the target of normalizing 10x faster than the hub commits documents.
 * This reader does the same work for the documents the hub actually gets in
 * one pass over the bytes, straight into the arena.
 *
 * libxml2 stays the authority: this reader accepts ONLY plain documents and
 * gives up (returns false, having built nothing anyone sees) on anything
 * else, which then goes through libxml2 exactly as before, so every refusal,
 * message and offset, and the security properties (no DTD, no external
 * entity, no entity expansion), are libxml2's. Accepted: UTF-8 (no BOM or a
 * UTF-8 BOM), an XML declaration of version 1.0 with no encoding or UTF-8,
 * no DOCTYPE, elements and attributes with ASCII names (NCName or
 * prefix:NCName; a prefix no xmlns declares, a namespace error ccda_xml.c
 * lets pass, names the node "p:local" in no namespace, as libxml2 does;
 * the prefix xml only on attributes), text, comments, processing
 * instructions, CDATA, the five predefined entities and character
 * references to XML Chars, valid UTF-8 of XML Chars only; no duplicate
 * attribute or namespace declaration; depth and element count within the
 * limits of ccda.h (so check_shape would pass). Any doubt: give up.
 *
 * What it must reproduce of libxml2 (2.9, options of ccda_xml.c):
 * - attribute values: references decoded, literal tab and newline become a
 *   space (a literal CR: give up);
 * - text: CRLF and a lone CR read as LF, references and CDATA as text
 *   (CDATA with a CR: give up), comments and PIs leave nothing;
 * - XML_PARSE_NOBLANKS: libxml2 hands text over in chunks (xmlParseCharData
 *   splits at each CRLF and where it meets a non-ASCII byte, which goes to
 *   xmlParseCharDataComplex, chunked by 300 bytes), and for chunks that
 *   start with a blank asks areBlanks, which drops an all-blank chunk by
 *   xml:space, the byte after it and whether the open element has children
 *   and whether its first and last are text; a kept blank-led chunk marks
 *   the element (space -1 -> -2) so that later blanks in it are kept. This
 *   file replays those chunks and that rule (blank_dropped); where the
 *   replay would need libxml2's 300-byte pieces of blanks, it gives up.
 * The proof is tests/unit/ccda_tree_test.c (every test and corpus document
 * and edge cases, both routes), tests/fuzz/ccda_tree_fuzz.c (both routes
 * on mutated documents: equal trees, or this reader gave up) and
 * tests/tools/ccda-equiv.sh (the adapter's whole output, old vs new).
 */
#include "ccda/ccda_int.h"

#include <stdint.h>
#include <string.h>

/* CCDA_FAST_NO_SIMD builds the byte-by-byte loops alone (ccda-equiv.sh
 * checks that both give the same output) */
#if defined(__SSE2__) && !defined(CCDA_FAST_NO_SIMD)
#define FAST_SSE2 1
#include <emmintrin.h>
#endif

#include "ccda/ccda.h"

#define FAST_MAX_ATTRS 64       /* per element, more: give up */
#define FAST_MAX_NS 128         /* namespace declarations in scope */
#define FAST_MAX_NAME 1000      /* bytes of a name */

#define XML_NS_URI "http://www.w3.org/XML/1998/namespace"

struct fast_attr {
    const unsigned char *name;  /* qname in the input */
    size_t len, plen;           /* qname bytes; prefix bytes (0: none) */
    const unsigned char *v, *ve;/* raw value */
    bool plain;                 /* value needs no rewriting */
    size_t skip;                /* bytes of "prefix:" left out of name */
    const char *ns;
};

struct fast_ns {
    const unsigned char *prefix;    /* NULL: the default namespace */
    size_t plen;
    const char *uri;                /* NULL: none (xmlns="") */
    bool v3;
};

struct fast {
    const unsigned char *p, *end;
    struct arena *a;
    struct ccda_node *root, *cur;
    int depth;
    size_t count;
    /* per open element (index depth): xml:space state as libxml2 keeps it
     * (-1, -2, 0 default, 1 preserve), its qname, namespaces in scope */
    signed char space[CCDA_MAX_DEPTH + 2];
    const unsigned char *qn[CCDA_MAX_DEPTH + 2];
    size_t qlen[CCDA_MAX_DEPTH + 2];
    int ns_mark[CCDA_MAX_DEPTH + 2];
    const struct fast_ns *def[CCDA_MAX_DEPTH + 2];  /* default in scope */
    struct fast_ns ns[FAST_MAX_NS];
    int nns;
    /* text of the open element not yet made a node */
    char *tx;
    size_t tlen;
    struct fast_attr at[FAST_MAX_ATTRS];
};

/* Byte classes, one table lookup per byte in the loops that matter. */
enum {
    C_NS = 1,       /* name start: A-Z a-z _ */
    C_NC = 2,       /* name: those, 0-9 - . */
    C_TX = 4,       /* text libxml2's xmlParseCharData takes in its fast
                     * loop (test_char_data, and LF): tab, LF, 0x20..0x7E
                     * but '&', '<', ']' (0x7F: the reader gives up) */
    C_AV = 8,       /* attribute value as it is: 0x20..0x7E but '<', '&'
                     * and the quotes */
    C_CM = 16,      /* ASCII XML Char: tab, LF, CR, 0x20..0x7F */
    C_S = 32,       /* white space: space, tab, LF, CR */
};

/* generated from the definitions above, row by row 0x00..0xFF */
static const unsigned char cls[256] = {
     0,  0,  0,  0,  0,  0,  0,  0,  0, 52, 52,  0,  0, 48,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
    60, 28, 20, 28, 28, 28, 16, 20, 28, 28, 28, 28, 28, 30, 30, 28,
    30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 28, 28, 16, 28, 28, 28,
    28, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31,
    31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 28, 28, 24, 28, 31,
    28, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31,
    31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 28, 28, 28, 28, 16,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
};

static bool is_blank(unsigned char c)
{
    return cls[c] & C_S;
}

/*
 * The byte loops, 16 bytes a turn where SSE2 is there (always on x86-64),
 * then byte by byte by the table; each returns the first byte that is not
 * of its kind (or end). Bytes 0x80 and up compare below 0x20 as signed
 * chars, so "< 0x20" catches control bytes and non-ASCII at once.
 */

/* ' ' and LF: what libxml2's xmlParseCharData skips first */
static const unsigned char *skip_indent(const unsigned char *p,
                                        const unsigned char *end)
{
#if defined(FAST_SSE2)
    const __m128i sp = _mm_set1_epi8(' '), lf = _mm_set1_epi8('\n');
    while (end - p >= 16) {
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)p);
        unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(b, sp), _mm_cmpeq_epi8(b, lf)));
        if (m != 0xFFFF)
            return p + __builtin_ctz(~m);
        p += 16;
    }
#endif
    while (p < end && (*p == ' ' || *p == '\n'))
        p++;
    return p;
}

/* C_NC bytes (ASCII name characters: A-Z a-z 0-9 _ - .) */
static const unsigned char *skip_name(const unsigned char *p,
                                      const unsigned char *end)
{
#if defined(FAST_SSE2)
    if (end - p >= 16) {
        const __m128i b = _mm_loadu_si128((const __m128i *)(const void *)p);
        const __m128i t = _mm_or_si128(b, _mm_set1_epi8(0x20));
        __m128i ok = _mm_and_si128(_mm_cmpgt_epi8(t, _mm_set1_epi8('a' - 1)),
                                   _mm_cmplt_epi8(t, _mm_set1_epi8('z' + 1)));
        ok = _mm_or_si128(ok, _mm_and_si128(
                                  _mm_cmpgt_epi8(b, _mm_set1_epi8('0' - 1)),
                                  _mm_cmplt_epi8(b, _mm_set1_epi8('9' + 1))));
        ok = _mm_or_si128(ok, _mm_or_si128(
                                  _mm_cmpeq_epi8(b, _mm_set1_epi8('_')),
                                  _mm_cmpeq_epi8(b, _mm_set1_epi8('-'))));
        ok = _mm_or_si128(ok, _mm_cmpeq_epi8(b, _mm_set1_epi8('.')));
        unsigned m = (unsigned)_mm_movemask_epi8(ok);
        if (m != 0xFFFF)
            return p + __builtin_ctz(~m);
        p += 16;                /* a long name: the rest byte by byte */
    }
#endif
    while (p < end && (cls[*p] & C_NC))
        p++;
    return p;
}

/* ' ', tab and LF: a chunk that is all blank */
static const unsigned char *skip_blank(const unsigned char *p,
                                       const unsigned char *end)
{
#if defined(FAST_SSE2)
    const __m128i sp = _mm_set1_epi8(' '), lf = _mm_set1_epi8('\n'),
                  tab = _mm_set1_epi8('\t');
    while (end - p >= 16) {
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)p);
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(b, sp), _mm_cmpeq_epi8(b, lf)),
            _mm_cmpeq_epi8(b, tab)));
        if (m != 0xFFFF)
            return p + __builtin_ctz(~m);
        p += 16;
    }
#endif
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n'))
        p++;
    return p;
}

/* C_TX bytes */
static const unsigned char *skip_text(const unsigned char *p,
                                      const unsigned char *end)
{
#if defined(FAST_SSE2)
    const __m128i lo = _mm_set1_epi8(0x20), tab = _mm_set1_epi8('\t'),
                  lf = _mm_set1_epi8('\n'), amp = _mm_set1_epi8('&'),
                  lt = _mm_set1_epi8('<'), rb = _mm_set1_epi8(']'),
                  del = _mm_set1_epi8(0x7F);
    while (end - p >= 16) {
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i bad = _mm_andnot_si128(
            _mm_or_si128(_mm_cmpeq_epi8(b, tab), _mm_cmpeq_epi8(b, lf)),
            _mm_cmplt_epi8(b, lo));
        bad = _mm_or_si128(bad, _mm_or_si128(_mm_cmpeq_epi8(b, amp),
                                             _mm_cmpeq_epi8(b, lt)));
        bad = _mm_or_si128(bad, _mm_or_si128(_mm_cmpeq_epi8(b, rb),
                                             _mm_cmpeq_epi8(b, del)));
        unsigned m = (unsigned)_mm_movemask_epi8(bad);
        if (m)
            return p + __builtin_ctz(m);
        p += 16;
    }
#endif
    while (p < end && (cls[*p] & C_TX))
        p++;
    return p;
}

/* C_CM bytes (ASCII XML Chars) */
static const unsigned char *skip_chars(const unsigned char *p,
                                       const unsigned char *end)
{
#if defined(FAST_SSE2)
    const __m128i lo = _mm_set1_epi8(0x20), tab = _mm_set1_epi8('\t'),
                  lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
    while (end - p >= 16) {
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i ok = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(b, tab), _mm_cmpeq_epi8(b, lf)),
            _mm_cmpeq_epi8(b, cr));
        unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_andnot_si128(ok, _mm_cmplt_epi8(b, lo)));
        if (m)
            return p + __builtin_ctz(m);
        p += 16;
    }
#endif
    while (p < end && (cls[*p] & C_CM))
        p++;
    return p;
}

/* Attribute value bytes copied as they are (C_AV and the other quote),
 * up to the quote q */
static const unsigned char *skip_value(const unsigned char *p,
                                       const unsigned char *end,
                                       unsigned char q)
{
#if defined(FAST_SSE2)
    const __m128i lo = _mm_set1_epi8(0x20), qq = _mm_set1_epi8((char)q),
                  amp = _mm_set1_epi8('&'), lt = _mm_set1_epi8('<'),
                  del = _mm_set1_epi8(0x7F);
    while (end - p >= 16) {
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i bad = _mm_or_si128(_mm_cmplt_epi8(b, lo),
                                   _mm_cmpeq_epi8(b, qq));
        bad = _mm_or_si128(bad, _mm_or_si128(_mm_cmpeq_epi8(b, amp),
                                             _mm_cmpeq_epi8(b, lt)));
        bad = _mm_or_si128(bad, _mm_cmpeq_epi8(b, del));
        unsigned m = (unsigned)_mm_movemask_epi8(bad);
        if (m)
            return p + __builtin_ctz(m);
        p += 16;
    }
#endif
    while (p < end && *p != q && ((cls[*p] & C_AV) || *p == '"' || *p == '\''))
        p++;
    return p;
}

/* One UTF-8 sequence at p (< end) that encodes an XML Char: its length,
 * or 0. */
static size_t utf8_char(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    uint32_t v;
    size_t n;

    if (c < 0xC2)
        return 0;
    if (c < 0xE0) {
        n = 2;
        v = c & 0x1F;
    } else if (c < 0xF0) {
        n = 3;
        v = c & 0x0F;
    } else if (c < 0xF5) {
        n = 4;
        v = c & 0x07;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3F);
    }
    if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) || v > 0x10FFFF ||
        (v >= 0xD800 && v <= 0xDFFF) || v == 0xFFFE || v == 0xFFFF)
        return 0;
    return n;
}

static size_t put_utf8(char *o, uint32_t v)
{
    if (v < 0x80) {
        o[0] = (char)v;
        return 1;
    }
    if (v < 0x800) {
        o[0] = (char)(0xC0 | (v >> 6));
        o[1] = (char)(0x80 | (v & 0x3F));
        return 2;
    }
    if (v < 0x10000) {
        o[0] = (char)(0xE0 | (v >> 12));
        o[1] = (char)(0x80 | ((v >> 6) & 0x3F));
        o[2] = (char)(0x80 | (v & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (v >> 18));
    o[1] = (char)(0x80 | ((v >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((v >> 6) & 0x3F));
    o[3] = (char)(0x80 | (v & 0x3F));
    return 4;
}

/* A reference at p ('&'): decoded into o (room for 4 bytes); returns its
 * output length and moves *pp past ';', or 0 (give up). */
static size_t reference(const unsigned char **pp, const unsigned char *end,
                        char *o)
{
    const unsigned char *p = *pp + 1;
    size_t left = (size_t)(end - p);

    if (left >= 3 && p[0] == '#') {
        uint32_t v = 0;
        const unsigned char *q = p + 1;
        int digits = 0;
        if (*q == 'x') {
            for (q++; q < end && digits < 8; q++, digits++) {
                unsigned c = *q;
                if (c >= '0' && c <= '9')
                    v = v * 16 + (c - '0');
                else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
                    v = v * 16 + ((c | 0x20) - 'a' + 10);
                else
                    break;
            }
        } else {
            for (; q < end && digits < 8; q++, digits++) {
                if (*q < '0' || *q > '9')
                    break;
                v = v * 10 + (uint32_t)(*q - '0');
            }
        }
        if (digits == 0 || q >= end || *q != ';')
            return 0;
        if (!(v == 0x9 || v == 0xA || v == 0xD ||
              (v >= 0x20 && v <= 0xD7FF) || (v >= 0xE000 && v <= 0xFFFD) ||
              (v >= 0x10000 && v <= 0x10FFFF)))
            return 0;
        *pp = q + 1;
        return put_utf8(o, v);
    }
    static const struct {
        const char *name;
        size_t len;
        char c;
    } pre[] = { { "lt;", 3, '<' }, { "gt;", 3, '>' }, { "amp;", 4, '&' },
                { "quot;", 5, '"' }, { "apos;", 5, '\'' } };
    for (size_t i = 0; i < sizeof(pre) / sizeof(pre[0]); i++)
        if (left >= pre[i].len && memcmp(p, pre[i].name, pre[i].len) == 0) {
            *pp = p + pre[i].len;
            o[0] = pre[i].c;
            return 1;
        }
    return 0;
}

/* QName at p: NCName or NCName:NCName, ASCII. Returns its length (and
 * the prefix's in *plen, 0 for none), or 0. */
static size_t qname_at(const unsigned char *p, const unsigned char *end,
                       size_t *plen)
{
    const unsigned char *q = p;

    *plen = 0;
    if (q >= end || !(cls[*q] & C_NS))
        return 0;
    q = skip_name(q + 1, end);
    if (q < end && *q == ':') {
        *plen = (size_t)(q - p);
        q++;
        if (q >= end || !(cls[*q] & C_NS))
            return 0;
        q = skip_name(q + 1, end);
    }
    /* a second ':' or a non-ASCII name byte: libxml2's to judge */
    if (q < end && (*q == ':' || *q >= 0x80))
        return 0;
    if ((size_t)(q - p) > FAST_MAX_NAME)
        return 0;
    return (size_t)(q - p);
}

/* ---- text and areBlanks ------------------------------------------------ */

/*
 * libxml2's areBlanks for an all-blank chunk in the open element, with no
 * document (myDoc NULL) and a tree of ours: true when the chunk is dropped.
 * raw is the byte after the chunk, nxt the one after that.
 */
static bool blank_dropped(const struct fast *s, unsigned char raw,
                          unsigned char nxt)
{
    const struct ccda_node *e = s->cur;
    signed char sp = s->space[s->depth];
    bool any = e->children != NULL || s->tlen > 0;

    if (sp == 1 || sp == -2)
        return false;
    if (raw != '<' && raw != '\r')
        return false;
    if (!any && raw == '<' && nxt == '/')
        return false;
    if (!any)
        return true;            /* no last child, an element node */
    if (s->tlen > 0 || e->last->type == CCDA_TEXT)
        return false;           /* last child is text */
    if (e->children && e->children->type == CCDA_TEXT)
        return false;           /* first child is text */
    return true;
}

static unsigned char at(const struct fast *s, const unsigned char *p)
{
    return p < s->end ? *p : 0;
}

static void keep(struct fast *s, const unsigned char *b, size_t n)
{
    memcpy(s->tx + s->tlen, b, n);
    s->tlen += n;
}

/* A kept chunk that went through areBlanks: the element now keeps blanks */
static void mark_text(struct fast *s)
{
    if (s->space[s->depth] == -1)
        s->space[s->depth] = -2;
}

/* An all-blank chunk [b, e) that areBlanks judges. */
static void blank_chunk(struct fast *s, const unsigned char *b,
                        const unsigned char *e)
{
    if (blank_dropped(s, at(s, e), at(s, e + 1)))
        return;
    keep(s, b, (size_t)(e - b));
    mark_text(s);
}

/*
 * xmlParseCharDataComplex from `cur` to the next '<' or '&': CR and CRLF
 * read as LF, every chunk through areBlanks. Gives up on anything that is
 * not an XML Char, on "]]>", and on 300 blank bytes in a row (libxml2 would
 * judge a 300-byte piece of blanks by the byte inside it).
 */
static bool text_complex(struct fast *s, const unsigned char *cur)
{
    const unsigned char *p = cur;
    size_t start = s->tlen, run = 0;
    bool blank = true;

    while (p < s->end && *p != '<' && *p != '&') {
        unsigned c = *p;
        if (c < 0x80) {
            if (c == '\r') {
                p += p + 1 < s->end && p[1] == '\n' ? 2 : 1;
                c = '\n';
            } else if (c == '\t' || c == '\n' || (c >= 0x20 && c < 0x7F)) {
                if (c == ']' && s->end - p >= 3 && p[1] == ']' && p[2] == '>')
                    return false;
                p++;
            } else {
                return false;
            }
            s->tx[s->tlen++] = (char)c;
            if (c == ' ' || c == '\t' || c == '\n') {
                if (++run >= 300)
                    return false;
            } else {
                run = 0;
                blank = false;
            }
        } else {
            size_t n = utf8_char(p, s->end);
            if (n == 0)
                return false;
            keep(s, p, n);
            p += n;
            run = 0;
            blank = false;
        }
    }
    if (p >= s->end)
        return false;
    if (s->tlen > start) {
        if (blank && s->tlen - start < 300) {
            /* one chunk, all blank: areBlanks on it (s->tlen must not
             * count it while it is judged) */
            size_t n = s->tlen - start;
            s->tlen = start;
            if (!blank_dropped(s, *p, at(s, p + 1))) {
                s->tlen = start + n;
                mark_text(s);
            }
        } else {
            mark_text(s);
        }
    }
    s->p = p;
    return true;
}

/*
 * Character data from s->p to the next '<' or '&', as libxml2's
 * xmlParseCharData hands it over (see the file header).
 */
static bool text(struct fast *s)
{
    const unsigned char *cur = s->p, *in = cur, *end = s->end;

    for (;;) {
        in = skip_indent(in, end);
        if (in < end && *in == '<') {
            if (in > cur)
                blank_chunk(s, cur, in);
            s->p = in;
            return true;
        }
        /* [cur, sp) is blank: the chunk is all blank when [sp, in) is */
        const unsigned char *sp = in;
        for (;;) {
            in = skip_text(in, end);
            if (in < end && *in == ']') {
                if (end - in >= 3 && in[1] == ']' && in[2] == '>')
                    return false;
                in++;
                continue;
            }
            break;
        }
        if (in > cur) {
            if (*cur == ' ' || *cur == '\t' || *cur == '\n') {
                if (skip_blank(sp, in) == in) {
                    blank_chunk(s, cur, in);
                } else {
                    keep(s, cur, (size_t)(in - cur));
                    mark_text(s);
                }
            } else {
                keep(s, cur, (size_t)(in - cur));
            }
        }
        cur = in;
        if (in >= end)
            return false;
        if (*in == '\r') {
            if (in + 1 < end && in[1] == '\n') {
                cur = in + 1;
                in += 2;
                if (in < end && ((*in >= 0x20 && *in <= 0x7F) ||
                                 *in == '\t' || *in == '\n'))
                    continue;
            }
            return text_complex(s, cur);
        }
        if (*in == '<' || *in == '&') {
            s->p = in;
            return true;
        }
        return text_complex(s, cur);
    }
}

/* The open element's text so far becomes its text node. */
static void flush_text(struct fast *s)
{
    struct ccda_node *n, *e = s->cur;
    char *c;

    if (s->tlen == 0)
        return;
    n = arena_alloc(s->a, sizeof(*n) + s->tlen + 1);
    c = (char *)(n + 1);
    memcpy(c, s->tx, s->tlen);
    c[s->tlen] = '\0';
    memset(n, 0, sizeof(*n));
    n->type = CCDA_TEXT;
    n->content = c;
    n->len = s->tlen;
    n->parent = e;
    if (e->last)
        e->last->next = n;
    else
        e->children = n;
    e->last = n;
    s->tlen = 0;
}

/* ---- markup ------------------------------------------------------------- */

/* Copy n bytes of the input at p to o, where o has 16 bytes of room past
 * n: short names and values (most of them) in one 16-byte move, without a
 * call. */
static void copy_short(char *o, const unsigned char *p, size_t n,
                       const unsigned char *end)
{
#if defined(FAST_SSE2)
    if (n <= 16 && end - p >= 16) {
        _mm_storeu_si128((__m128i *)(void *)o,
                         _mm_loadu_si128((const __m128i *)(const void *)p));
        return;
    }
#endif
    (void)end;
    memcpy(o, p, n);
}

static const unsigned char *skip_s(const unsigned char *p,
                                   const unsigned char *end)
{
    while (p < end && is_blank(*p))
        p++;
    return p;
}

/* Bytes [p, end) are XML Chars (any of them, CR included). */
static bool chars_ok(const unsigned char *p, const unsigned char *end)
{
    while (p < end) {
        p = skip_chars(p, end);
        if (p >= end)
            break;
        if (*p < 0x80) {
            return false;       /* controls */
        } else {
            size_t n = utf8_char(p, end);
            if (n == 0)
                return false;
            p += n;
        }
    }
    return true;
}

/* "<!--" at s->p */
static bool comment(struct fast *s)
{
    const unsigned char *b = s->p + 4, *q = b;

    for (;;) {
        q = memchr(q, '-', (size_t)(s->end - q));
        if (q == NULL || s->end - q < 3)
            return false;
        if (q[1] == '-')
            break;
        q++;
    }
    if (q[2] != '>' || !chars_ok(b, q))
        return false;
    s->p = q + 3;
    return true;
}

/* "<?" at s->p (not the XML declaration) */
static bool pi(struct fast *s)
{
    const unsigned char *p = s->p + 2, *q;
    size_t plen, n = qname_at(p, s->end, &plen);

    if (n == 0 || plen != 0)
        return false;
    /* "xml" in any case is reserved (libxml2 only warns about longer
     * names that start so, xml-stylesheet among them); the catalog PI is
     * libxml2's */
    if (n == 3 && (p[0] | 0x20) == 'x' && (p[1] | 0x20) == 'm' &&
        (p[2] | 0x20) == 'l')
        return false;
    if (n == 17 && memcmp(p, "oasis-xml-catalog", 17) == 0)
        return false;
    p += n;
    if (s->end - p >= 2 && p[0] == '?' && p[1] == '>') {
        s->p = p + 2;
        return true;
    }
    if (p >= s->end || !is_blank(*p))
        return false;
    for (q = p;; q++) {
        q = memchr(q, '?', (size_t)(s->end - q));
        if (q == NULL || s->end - q < 2)
            return false;
        if (q[1] == '>')
            break;
    }
    if (!chars_ok(p, q))
        return false;
    s->p = q + 2;
    return true;
}

/* "<![CDATA[" at s->p: its content is text (no areBlanks) */
static bool cdata(struct fast *s)
{
    const unsigned char *b = s->p + 9, *q = b;

    for (;;) {
        q = memchr(q, ']', (size_t)(s->end - q));
        if (q == NULL || s->end - q < 3)
            return false;
        if (q[1] == ']' && q[2] == '>')
            break;
        q++;
    }
    if (memchr(b, '\r', (size_t)(q - b)) || !chars_ok(b, q))
        return false;
    keep(s, b, (size_t)(q - b));
    s->p = q + 3;
    return true;
}

/* Namespace in scope for a prefix of plen bytes at p (plen 0: default) */
static const struct fast_ns *ns_find(const struct fast *s,
                                     const unsigned char *p, size_t plen)
{
    for (int i = s->nns - 1; i >= 0; i--) {
        const struct fast_ns *b = &s->ns[i];
        if (plen == 0 ? b->prefix == NULL
                      : b->prefix && b->plen == plen &&
                            memcmp(b->prefix, p, plen) == 0)
            return b;
    }
    return NULL;
}

/* An attribute value: [v, ve) between the quotes. Checks it; *plain when
 * it is copied as it is (no reference, tab or newline). */
static bool value_scan(const unsigned char *v, const unsigned char *ve,
                       bool *plain)
{
    *plain = true;
    for (const unsigned char *p = v; p < ve;) {
        unsigned c = *p;
        if (cls[c] & C_AV) {
            p++;
        } else if (c == '"' || c == '\'' || c == 0x7F) {
            p++;
        } else if (c >= 0x20 && c < 0x80) {
            if (c == '<')
                return false;
            if (c == '&')
                *plain = false;
            p++;
        } else if (c == '\t' || c == '\n') {
            *plain = false;
            p++;
        } else if (c >= 0x80) {
            size_t n = utf8_char(p, ve);
            if (n == 0)
                return false;
            p += n;
        } else {
            return false;       /* CR, other controls */
        }
    }
    return true;
}

/* The value decoded into o; returns its end (NUL written there). */
static char *value_copy(char *o, const unsigned char *v,
                        const unsigned char *ve)
{
    for (const unsigned char *p = v; p < ve;) {
        if (*p == '&') {
            o += reference(&p, ve, o);  /* checked by start_tag */
        } else if (*p == '\t' || *p == '\n') {
            *o++ = ' ';
            p++;
        } else {
            *o++ = (char)*p++;
        }
    }
    *o = '\0';
    return o;
}

/* A namespace URI: printable ASCII without '&', '<', quotes or blanks,
 * and not one of the two that libxml2 refuses to bind. */
static bool ns_uri_ok(const unsigned char *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] <= 0x20 || v[i] >= 0x7F || v[i] == '&' || v[i] == '<')
            return false;
    if ((n == sizeof(XML_NS_URI) - 1 && memcmp(v, XML_NS_URI, n) == 0) ||
        (n == 29 && memcmp(v, "http://www.w3.org/2000/xmlns/", 29) == 0))
        return false;
    return true;
}

static const char *dup_str(struct arena *a, const unsigned char *p, size_t n)
{
    char *d = arena_alloc(a, n + 1);
    memcpy(d, p, n);
    d[n] = '\0';
    return d;
}

/* "<" name at s->p */
static bool start_tag(struct fast *s)
{
    const unsigned char *p = s->p + 1, *end = s->end, *name = p;
    size_t nlen, nplen, na = 0, size;
    int nns0 = s->nns, space;
    const struct fast_ns *def = s->def[s->depth];
    bool empty;

    nlen = qname_at(p, end, &nplen);
    if (nlen == 0)
        return false;
    p += nlen;
    if (s->depth >= CCDA_MAX_DEPTH || ++s->count > CCDA_MAX_ELEMENTS)
        return false;
    /* libxml2's space stack: a child of a -2 element starts at -1 */
    space = s->space[s->depth] == -2 ? -1 : s->space[s->depth];
    for (;;) {
        const unsigned char *q = skip_s(p, end);
        if (q >= end)
            return false;
        if (*q == '>' || *q == '/')
            break;
        if (q == p)
            return false;       /* attributes need white space between */
        struct fast_attr *a = &s->at[na];
        size_t alen, aplen;
        alen = qname_at(q, end, &aplen);
        if (alen == 0)
            return false;
        p = skip_s(q + alen, end);
        if (p >= end || *p != '=')
            return false;
        p = skip_s(p + 1, end);
        if (p >= end || (*p != '"' && *p != '\''))
            return false;
        const unsigned char *v = p + 1, *ve = skip_value(v, end, *p);
        bool plain = true;
        if (ve >= end)
            return false;
        if (*ve != *p) {
            /* not plain: to the quote, then checked byte by byte */
            const unsigned char *x = ve;
            ve = memchr(x, *p, (size_t)(end - x));
            if (ve == NULL || !value_scan(x, ve, &plain))
                return false;
        }
        p = ve + 1;
        if (!plain) {
            /* every reference must decode */
            char tmp[4];
            for (const unsigned char *r = v; r < ve;) {
                if (*r == '&') {
                    if (reference(&r, ve, tmp) == 0)
                        return false;
                } else {
                    r++;
                }
            }
        }
        /* namespace declarations */
        if ((alen == 5 && aplen == 0 && memcmp(q, "xmlns", 5) == 0) ||
            (aplen == 5 && memcmp(q, "xmlns", 5) == 0)) {
            const unsigned char *pre = aplen ? q + 6 : NULL;
            size_t pl = aplen ? alen - 6 : 0;
            size_t vl = (size_t)(ve - v);
            if (pre && ((pl == 3 && memcmp(pre, "xml", 3) == 0) ||
                        (pl == 5 && memcmp(pre, "xmlns", 5) == 0) || vl == 0))
                return false;
            if (!ns_uri_ok(v, vl) || s->nns >= FAST_MAX_NS)
                return false;
            for (int i = nns0; i < s->nns; i++)
                if ((pre == NULL) == (s->ns[i].prefix == NULL) &&
                    (pre == NULL || (s->ns[i].plen == pl &&
                                     memcmp(s->ns[i].prefix, pre, pl) == 0)))
                    return false;   /* declared twice */
            struct fast_ns *b = &s->ns[s->nns++];
            if (pre == NULL)
                def = b;
            b->prefix = pre;
            b->plen = pl;
            b->uri = vl ? dup_str(s->a, v, vl) : NULL;
            b->v3 = vl == sizeof(CCDA_NS_V3) - 1 &&
                    memcmp(v, CCDA_NS_V3, vl) == 0;
            continue;
        }
        if (na >= FAST_MAX_ATTRS)
            return false;
        a->name = q;
        a->len = alen;
        a->plen = aplen;
        a->v = v;
        a->ve = ve;
        a->plain = plain;
        na++;
    }
    p = skip_s(p, end);
    empty = *p == '/';
    if (empty) {
        if (end - p < 2 || p[1] != '>')
            return false;
        p += 2;
    } else {
        p++;
    }
    /* resolve prefixes; xml:space; duplicates; sizes */
    const struct fast_ns *ens = nplen ? ns_find(s, name, nplen) : def;
    if ((nplen == 3 && memcmp(name, "xml", 3) == 0) ||
        (nplen == 5 && memcmp(name, "xmlns", 5) == 0))
        return false;           /* xml:x, xmlns:x elements: libxml2's */
    /* an undeclared prefix is a namespace error that ccda_xml.c lets
     * pass: libxml2 then names the element "p:local", in no namespace */
    size_t nskip = nplen && ens ? nplen + 1 : 0;
    size = sizeof(struct ccda_node) + na * sizeof(struct ccda_attr) +
           nlen - nskip + 1 + 16;   /* 16: copy_short's room */
    for (size_t i = 0; i < na; i++) {
        struct fast_attr *a = &s->at[i];
        a->ns = NULL;
        a->skip = a->plen ? a->plen + 1 : 0;
        if (a->plen) {
            if (a->plen == 3 && memcmp(a->name, "xml", 3) == 0) {
                a->ns = XML_NS_URI;
                if (a->len == 9 && memcmp(a->name + 4, "space", 5) == 0) {
                    size_t vl = (size_t)(a->ve - a->v);
                    if (vl == 7 && memcmp(a->v, "default", 7) == 0)
                        space = 0;
                    else if (vl == 8 && memcmp(a->v, "preserve", 8) == 0)
                        space = 1;
                    else
                        return false;
                }
            } else {
                /* undeclared (xsi:type without xmlns:xsi, as in HL7's
                 * own examples): "p:local" in no namespace, as libxml2 */
                const struct fast_ns *b = ns_find(s, a->name, a->plen);
                if (b)
                    a->ns = b->uri;
                else
                    a->skip = 0;
            }
        }
        /* duplicates by local name and namespace, undeclared prefixes
         * counted as no namespace: stricter than libxml2, never looser */
        const unsigned char *al = a->name + a->plen + (a->plen ? 1 : 0);
        size_t ll = a->len - a->plen - (a->plen ? 1 : 0);
        for (size_t j = 0; j < i; j++) {
            const struct fast_attr *o = &s->at[j];
            size_t ol = o->len - o->plen - (o->plen ? 1 : 0);
            if (ol == ll &&
                memcmp(o->name + o->plen + (o->plen ? 1 : 0), al, ll) == 0 &&
                (o->ns == a->ns ||
                 (o->ns && a->ns && strcmp(o->ns, a->ns) == 0)))
                return false;   /* duplicate */
        }
        size += a->len - a->skip + 1 + (size_t)(a->ve - a->v) + 1;
    }
    /* the element: one block with its attributes, names and values */
    flush_text(s);
    struct ccda_node *n = arena_alloc(s->a, size);
    struct ccda_attr *at = (struct ccda_attr *)(n + 1);
    char *o = (char *)(at + na);
    copy_short(o, name + nskip, nlen - nskip, end);
    n->name = o;
    o += nlen - nskip;
    *o++ = '\0';
    n->ns = ens ? ens->uri : NULL;
    n->v3 = ens == NULL || ens->uri == NULL || ens->v3;
    n->children = n->last = n->next = NULL;
    n->attrs = na ? at : NULL;
    n->content = NULL;
    n->len = 0;
    n->type = CCDA_ELEMENT;
    for (size_t i = 0; i < na; i++) {
        const struct fast_attr *a = &s->at[i];
        size_t skip = a->skip, ll = a->len - skip;
        at[i].next = i + 1 < na ? &at[i + 1] : NULL;
        at[i].ns = a->ns;
        copy_short(o, a->name + skip, ll, end);
        o[ll] = '\0';
        at[i].name = o;
        o += ll + 1;
        at[i].value = o;
        if (a->plain) {
            size_t vl = (size_t)(a->ve - a->v);
            copy_short(o, a->v, vl, end);
            o[vl] = '\0';
            o += vl + 1;
        } else {
            o = value_copy(o, a->v, a->ve) + 1;
        }
    }
    n->parent = s->cur;
    if (s->cur) {
        struct ccda_node *e = s->cur;
        if (e->last)
            e->last->next = n;
        else
            e->children = n;
        e->last = n;
    } else {
        s->root = n;
    }
    s->p = p;
    if (empty) {
        s->nns = nns0;          /* its declarations end with it */
        return true;
    }
    s->depth++;
    s->cur = n;
    s->space[s->depth] = (signed char)space;
    s->qn[s->depth] = name;
    s->qlen[s->depth] = nlen;
    s->ns_mark[s->depth] = nns0;
    s->def[s->depth] = def;
    return true;
}

/* "</" at s->p */
static bool end_tag(struct fast *s)
{
    const unsigned char *p = s->p + 2;
    size_t n = s->qlen[s->depth];

    if (s->depth == 0 || (size_t)(s->end - p) < n + 1 ||
        memcmp(p, s->qn[s->depth], n) != 0)
        return false;
    p = skip_s(p + n, s->end);
    if (p >= s->end || *p != '>')
        return false;
    flush_text(s);
    s->nns = s->ns_mark[s->depth];
    s->depth--;
    s->cur = s->cur->parent;
    s->p = p + 1;
    return true;
}

/* Comments, PIs and white space before or after the root. */
static bool misc(struct fast *s)
{
    for (;;) {
        s->p = skip_s(s->p, s->end);
        if (s->end - s->p >= 4 && memcmp(s->p, "<!--", 4) == 0) {
            if (!comment(s))
                return false;
        } else if (s->end - s->p >= 2 && memcmp(s->p, "<?", 2) == 0) {
            if (!pi(s))
                return false;
        } else {
            return true;
        }
    }
}

/* <?xml version="1.0" [encoding="UTF-8"] [standalone="yes|no"] ?> */
static bool xml_decl(struct fast *s)
{
    static const char *const keys[] = { "version", "encoding", "standalone" };
    const unsigned char *p = s->p + 5, *end = s->end;
    int k = 0;

    for (;;) {
        const unsigned char *q = skip_s(p, end);
        if (end - q >= 2 && q[0] == '?' && q[1] == '>') {
            if (k == 0)
                return false;
            s->p = q + 2;
            return true;
        }
        if (q == p)
            return false;
        size_t kl;
        for (;; k++) {
            if (k >= 3)
                return false;
            kl = strlen(keys[k]);
            if ((size_t)(end - q) > kl && memcmp(q, keys[k], kl) == 0)
                break;
            if (k == 0)
                return false;   /* version comes first */
        }
        p = skip_s(q + kl, end);
        if (p >= end || *p != '=')
            return false;
        p = skip_s(p + 1, end);
        if (p >= end || (*p != '"' && *p != '\''))
            return false;
        const unsigned char *v = p + 1, *ve = memchr(v, *p, (size_t)(end - v));
        if (ve == NULL)
            return false;
        size_t vl = (size_t)(ve - v);
        if (k == 0 && !(vl == 3 && memcmp(v, "1.0", 3) == 0))
            return false;
        if (k == 1 && !(vl == 5 && (v[0] | 0x20) == 'u' &&
                        (v[1] | 0x20) == 't' && (v[2] | 0x20) == 'f' &&
                        v[3] == '-' && v[4] == '8'))
            return false;
        if (k == 2 && !((vl == 3 && memcmp(v, "yes", 3) == 0) ||
                        (vl == 2 && memcmp(v, "no", 2) == 0)))
            return false;
        k++;
        p = ve + 1;
    }
}

bool ccda_xml_parse_fast(struct arena *xa, const char *doc, size_t len,
                         struct ccda_tree *t)
{
    struct fast s;

    t->root = NULL;
    t->ctxt = NULL;
    s.p = (const unsigned char *)doc;
    s.end = s.p + len;
    s.a = xa;
    s.root = s.cur = NULL;
    s.depth = 0;
    s.count = 0;
    s.space[0] = -1;
    s.def[0] = NULL;
    s.nns = 0;
    s.tlen = 0;
    s.tx = NULL;
    if (len >= 3 && memcmp(s.p, "\xef\xbb\xbf", 3) == 0)
        s.p += 3;
    if (s.end - s.p >= 6 && memcmp(s.p, "<?xml", 5) == 0 && is_blank(s.p[5]) &&
        !xml_decl(&s))
        return false;
    if (!misc(&s) || s.p >= s.end || *s.p != '<')
        return false;
    /* text is never longer than the input it comes from */
    s.tx = arena_alloc(xa, len + 1);
    if (!start_tag(&s))
        return false;
    while (s.depth > 0) {
        const unsigned char *p = s.p;
        bool ok;
        if (p >= s.end)
            return false;
        if (*p == '<') {
            unsigned char c = at(&s, p + 1);
            if (c == '/')
                ok = end_tag(&s);
            else if (c == '!')
                ok = s.end - p >= 4 && memcmp(p, "<!--", 4) == 0
                         ? comment(&s)
                         : s.end - p >= 9 && memcmp(p, "<![CDATA[", 9) == 0
                               ? cdata(&s)
                               : false;
            else if (c == '?')
                ok = pi(&s);
            else
                ok = start_tag(&s);
        } else if (*p == '&') {
            char o[4];
            size_t n = reference(&s.p, s.end, o);
            ok = n > 0;
            keep(&s, (const unsigned char *)o, n);
        } else {
            ok = text(&s);
        }
        if (!ok)
            return false;
    }
    if (!misc(&s) || s.p != s.end)
        return false;
    t->root = s.root;
    return true;
}

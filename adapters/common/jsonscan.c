/*
 * jsonscan.c - one pass over untrusted JSON counting depth, elements and
 * values, so cJSON is only given input it can parse in bounded stack and
 * memory. Strings are skipped whole (escapes included) so brackets inside
 * them do not count.
 *
 * The pass goes token to token: white space and string bodies are crossed
 * 16 bytes at a time (SSE2 where the compiler has it, else a byte loop), so
 * its cost follows the number of tokens more than the number of bytes.
 * Byte-at-a-time over indentation was a fifth of the FHIR adapter's time.
 */
#include "common/jsonscan.h"

#include <stdbool.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define SCAN_STACK 64               /* hard ceiling on max_depth */

/* The first byte at or after i that is not JSON white space, or len. */
static inline size_t skip_ws(const char *p, size_t i, size_t len)
{
    if (i < len && !json_is_ws((unsigned char)p[i]))
        return i;                   /* minified input: no white space */
#if defined(__SSE2__)
    const __m128i sp = _mm_set1_epi8(' '), nl = _mm_set1_epi8('\n'),
                  cr = _mm_set1_epi8('\r'), tb = _mm_set1_epi8('\t');
    while (i + 16 <= len) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        __m128i ws = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(v, sp), _mm_cmpeq_epi8(v, nl)),
            _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, tb)));
        unsigned m = (unsigned)_mm_movemask_epi8(ws) ^ 0xffffu;
        if (m)
            return i + (size_t)__builtin_ctz(m);
        i += 16;
    }
#endif
    while (i < len && json_is_ws((unsigned char)p[i]))
        i++;
    return i;
}

/*
 * The closing quote of the string whose opening quote is at `start`, or len
 * when it is not terminated. A backslash escapes the byte after it, whatever
 * it is. With `o`, the bytes from the opening quote up to (not including)
 * the closing one are copied there, and *op is advanced. Whole blocks are
 * stored and then cut: that stays within the copy's room because the copy
 * never runs ahead of the input (it only ever leaves bytes out).
 */
static inline size_t string_end(const char *p, size_t start, size_t len,
                                char **op)
{
    size_t i = start + 1;
    char *o = op ? *op : NULL;
    if (o)
        *o++ = '"';
    for (;;) {
#if defined(__SSE2__)
        const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
        while (i + 16 <= len) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
            unsigned m = (unsigned)_mm_movemask_epi8(
                _mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs)));
            if (o)
                _mm_storeu_si128((__m128i *)(void *)o, v);
            if (m) {
                unsigned k = (unsigned)__builtin_ctz(m);
                i += k;
                if (o)
                    o += k;
                goto found;
            }
            i += 16;
            if (o)
                o += 16;
        }
#endif
        while (i < len && p[i] != '"' && p[i] != '\\') {
            if (o)
                *o++ = p[i];
            i++;
        }
#if defined(__SSE2__)
    found:
#endif
        if (i >= len)
            return len;
        if (p[i] == '"')
            break;
        if (i + 1 >= len)           /* a backslash as the last byte */
            return len;
        if (o) {
            o[0] = p[i];
            o[1] = p[i + 1];
            o += 2;
        }
        i += 2;
    }
    if (op)
        *op = o;
    return i;
}

/* The one scan, inlined twice: without a copy (json_prescan) and with
 * (json_prescan_copy), so that neither pays for the other's branches. */
static inline __attribute__((always_inline)) int
scan(const char *p, size_t len, const struct json_limits *lim, char *dst,
     size_t *dlen, struct hub_err *err)
{
    size_t count[SCAN_STACK];       /* elements seen at each open level */
    bool is_obj[SCAN_STACK];
    int depth = 0;
    int max_depth = lim->max_depth < SCAN_STACK ? lim->max_depth : SCAN_STACK;
    size_t values = 0;
    bool pending = false;           /* a value started at this level */
    char *o = dst;                  /* copy: next byte out */
    bool gap = false;               /* copy: white space skipped since */
    bool scalar = false;            /* copy: last byte out was a bare one */

    if (len > lim->max_bytes)
        return hub_err_set_at(err, HUB_ELIMIT, "$", lim->max_bytes,
                              "document is larger than the limit");
    for (size_t i = 0;; i++) {
        size_t j = skip_ws(p, i, len);
        if (dst && j != i)
            gap = true;
        i = j;
        if (i >= len)
            break;
        unsigned char c = (unsigned char)p[i];
        switch (c) {
        case '"': {
            size_t start = i;
            i = string_end(p, start, len, dst ? &o : NULL);
            if (i >= len)
                return hub_err_set_at(err, HUB_ESYNTAX, "$", start,
                                      "string is not terminated");
            if (i - start - 1 > lim->max_string)
                return hub_err_set_at(err, HUB_ELIMIT, "$", start,
                                      "string is longer than the limit");
            if (dst) {
                *o++ = '"';
                gap = scalar = false;
            }
            /* keys count as values too: harmless, and cJSON allocates them */
            if (++values > lim->max_values)
                return hub_err_set_at(err, HUB_ELIMIT, "$", start,
                                      "document has too many values");
            pending = true;
            break;
        }
        case '{':
        case '[':
            if (depth >= max_depth)
                return hub_err_set_at(err, HUB_ELIMIT, "$", i,
                                      "nesting is deeper than the limit");
            if (++values > lim->max_values)
                return hub_err_set_at(err, HUB_ELIMIT, "$", i,
                                      "document has too many values");
            is_obj[depth] = (c == '{');
            count[depth] = 0;
            depth++;
            pending = false;
            if (dst) {
                *o++ = (char)c;
                gap = scalar = false;
            }
            break;
        case '}':
        case ']':
            if (depth == 0 || is_obj[depth - 1] != (c == '}'))
                return hub_err_set_at(err, HUB_ESYNTAX, "$", i,
                                      "brackets do not balance");
            depth--;
            pending = true;         /* the closed container is a value */
            if (dst) {
                *o++ = (char)c;
                gap = scalar = false;
            }
            break;
        case ',':
            if (depth > 0) {
                size_t cap = is_obj[depth - 1] ? lim->max_members
                                               : lim->max_array;
                if (++count[depth - 1] >= cap)
                    return hub_err_set_at(err, HUB_ELIMIT, "$", i,
                                          is_obj[depth - 1]
                                              ? "object has too many members"
                                              : "array has too many elements");
            }
            pending = false;
            if (dst) {
                *o++ = ',';
                gap = scalar = false;
            }
            break;
        case ':':
            pending = false;
            if (dst) {
                *o++ = ':';
                gap = scalar = false;
            }
            break;
        default:
            /* a scalar: count it once, at its first byte */
            if (!pending) {
                if (++values > lim->max_values)
                    return hub_err_set_at(err, HUB_ELIMIT, "$", i,
                                          "document has too many values");
                pending = true;
            }
            if (dst) {
                /* bytes of a bare scalar (number, literal, or junk for
                 * cJSON to refuse) keep one space from the white space
                 * between them, so "tr ue" and "1 2" stay two tokens;
                 * leading white space keeps one too, so a BOM after it
                 * is still not at offset 0 */
                if (gap && (scalar || o == dst))
                    *o++ = ' ';
                *o++ = (char)c;
                gap = false;
                scalar = true;
            }
            break;
        }
    }
    if (depth != 0)
        return hub_err_set_at(err, HUB_ESYNTAX, "$", len,
                              "brackets do not balance");
    if (dst)
        *dlen = (size_t)(o - dst);
    return HUB_OK;
}

int json_prescan(const char *p, size_t len, const struct json_limits *lim,
                 struct hub_err *err)
{
    return scan(p, len, lim, NULL, NULL, err);
}

int json_prescan_copy(const char *p, size_t len, const struct json_limits *lim,
                      char *dst, size_t *dlen, struct hub_err *err)
{
    return scan(p, len, lim, dst, dlen, err);
}

#define FAULT_DEPTH 1024            /* cJSON's own nesting limit is 1000 */

size_t json_fault_at(const char *p, size_t len, size_t r)
{
    unsigned char obj[FAULT_DEPTH / 8] = { 0 };
    size_t depth = 0, k, i;
    unsigned char prev = 0;         /* last byte of a token before i */
    bool in_str = false;

    if (r == 0 || r > len)
        return r;
    k = r - 1;                      /* where the token cJSON refused starts */
    for (i = 0; i < k; i++) {
        unsigned char c = (unsigned char)p[i];
        if (in_str) {
            if (c == '\\')
                i++;                /* the escaped byte */
            else if (c == '"') {
                in_str = false;
                prev = c;
            }
            continue;
        }
        if (c <= ' ')
            continue;               /* cJSON's white space: up to ' ' */
        if (c == '"') {
            in_str = true;
            continue;
        }
        if (c == '{' || c == '[') {
            if (depth == FAULT_DEPTH)
                return r;
            if (c == '{')
                obj[depth / 8] |= (unsigned char)(1u << depth % 8);
            else
                obj[depth / 8] &= (unsigned char)~(1u << depth % 8);
            depth++;
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
        prev = c;
    }
    if (in_str || i > k)
        return r;                   /* k is inside a string */
    unsigned char c = (unsigned char)p[k];
    /* a string starting at k (a value or a name) that is not terminated:
     * cJSON says the byte after its opening quote (a bad escape it places
     * at its backslash, which may be that byte) */
    if (c == '"')
        return r < len && p[r] == '\\' ? r : k;
    /* a member name that is not a string ("{a:1}", "{\"a\":1,}"): it says
     * the byte after it */
    bool in_obj = depth > 0 && (obj[(depth - 1) / 8] >> (depth - 1) % 8 & 1);
    if (in_obj && (prev == '{' || prev == ',') && c > ' ')
        return k;
    return r;
}

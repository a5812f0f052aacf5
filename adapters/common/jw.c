/*
 * jw.c - JSON writer. Nesting past JW_MAX_DEPTH is an error, not a crash.
 */
#include "common/jw.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/hub_err.h"
#include "common/utf8.h"

/* w->lim after anything that may have grown the buffer or failed. */
static void jw_sync(struct jw *w)
{
    const struct buf *b = &w->b;
    if (b->err || b->cap == 0)
        w->lim = 0;
    else
        w->lim = b->cap - 1 < b->max ? b->cap - 1 : b->max;
}

void jw_init(struct jw *w, struct arena *a, size_t max)
{
    buf_init(&w->b, a, max);
    w->lim = 0;
    w->depth = 0;
    w->first[0] = true;
}

/* Separator before a value in an array or before a key in an object. */
static void jw_sep(struct jw *w)
{
    if (!w->first[w->depth])
        buf_putc(&w->b, ',');
    w->first[w->depth] = false;
}

void jw_open_slow(struct jw *w, char c)
{
    jw_sep(w);
    buf_putc(&w->b, c);
    if (w->depth + 1 >= JW_MAX_DEPTH)
        w->b.err = HUB_ELIMIT;
    else
        w->first[++w->depth] = true;
    jw_sync(w);
}

void jw_close_slow(struct jw *w, char c)
{
    buf_putc(&w->b, c);
    if (w->depth > 0)
        w->depth--;
    jw_sync(w);
}

/* Printable ASCII other than '"' and '\\': copied as is. */
static const unsigned char json_plain[256] = {
    [0x20] = 1, [0x21] = 1, [0x23 ... 0x5b] = 1, [0x5d ... 0x7e] = 1,
};

/*
 * True when s[0..n) needs no escaping. A word has a byte below 0x20, equal
 * to '"', '\\' or 0x7f, or at or above 0x80 exactly when one of these terms
 * has a high bit set ("has zero byte" arithmetic, exact for "any"): eight
 * bytes at a time with an overlapping last word, two overlapping 4-byte
 * words for 4 to 7 bytes, the table below that.
 */
static inline uint64_t unsafe_bytes64(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101u;
    uint64_t q = x ^ (ones * '"'), e = x ^ (ones * '\\'),
             d = x ^ (ones * 0x7f);
    return (((x - ones * 0x20) & ~x) | ((q - ones) & ~q) |
            ((e - ones) & ~e) | ((d - ones) & ~d) | x) &
           0x8080808080808080u;
}

static inline uint32_t unsafe_bytes32(uint32_t x)
{
    const uint32_t ones = 0x01010101u;
    uint32_t q = x ^ (ones * '"'), e = x ^ (ones * '\\'),
             d = x ^ (ones * 0x7f);
    return (((x - ones * 0x20) & ~x) | ((q - ones) & ~q) |
            ((e - ones) & ~e) | ((d - ones) & ~d) | x) & 0x80808080u;
}

#if defined(__SSE2__)
/* The unsafe bytes of s[0..16) as a bit mask: a signed compare with 0x20
 * takes both the control bytes and those at or above 0x80. */
static inline unsigned unsafe_bytes128(__m128i x)
{
    __m128i bad = _mm_cmplt_epi8(x, _mm_set1_epi8(0x20));
    bad = _mm_or_si128(bad, _mm_cmpeq_epi8(x, _mm_set1_epi8('"')));
    bad = _mm_or_si128(bad, _mm_cmpeq_epi8(x, _mm_set1_epi8('\\')));
    bad = _mm_or_si128(bad, _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f)));
    return (unsigned)_mm_movemask_epi8(bad);
}

static inline __m128i load16(const unsigned char *s)
{
    return _mm_loadu_si128((const __m128i *)(const void *)s);
}

static inline __m128i load8(const unsigned char *s)
{
    return _mm_loadl_epi64((const __m128i *)(const void *)s);
}
#endif

/* Inline in its callers (jw_plain, put_plain, jw_kv_str): a call a value
 * was an eighth of what it costs. */
static inline __attribute__((always_inline)) bool
is_plain(const unsigned char *s, size_t n)
{
#if defined(__SSE2__)
    /* 16 bytes a test (the 8-byte words were a tenth of the CSV adapter):
     * from 16 with an overlapping last block, 8 to 15 as two overlapping
     * halves of one block */
    if (n >= 16) {
        for (size_t i = 0; i + 16 <= n; i += 16)
            if (unsafe_bytes128(load16(s + i)))
                return false;
        return unsafe_bytes128(load16(s + n - 16)) == 0;
    }
    if (n >= 8)
        return unsafe_bytes128(_mm_unpacklo_epi64(load8(s),
                                                  load8(s + n - 8))) == 0;
    if (n >= 4) {
        /* the two overlapping words in the low 8 lanes (the others are 0,
         * which reads as unsafe: masked off) */
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        __m128i x = _mm_unpacklo_epi32(_mm_cvtsi32_si128((int)a),
                                       _mm_cvtsi32_si128((int)b));
        return (unsafe_bytes128(x) & 0xff) == 0;
    }
#endif
    if (n >= 8) {
        uint64_t x;
        size_t i;
        for (i = 0; i + 8 <= n; i += 8) {
            memcpy(&x, s + i, 8);
            if (unsafe_bytes64(x))
                return false;
        }
        memcpy(&x, s + n - 8, 8);       /* the tail, overlapping */
        return unsafe_bytes64(x) == 0;
    }
    if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        return (unsafe_bytes32(a) | unsafe_bytes32(b)) == 0;
    }
    for (size_t i = 0; i < n; i++)
        if (!json_plain[s[i]])
            return false;
    return true;
}

bool jw_plain(struct slice s)
{
    return is_plain((const unsigned char *)s.p, s.len);
}

/*
 * Fast path for the common string (plain ASCII, nothing to escape): one
 * scan, then the quotes and the bytes written straight into the buffer.
 * Returns false, having written nothing, when the slow path is needed.
 */
static bool put_plain(struct buf *b, const unsigned char *s, size_t n,
                      char tail)
{
    if (b->err || n + 3 > b->max - b->len || b->len + n + 4 > b->cap ||
        !is_plain(s, n))
        return false;
    char *o = b->p + b->len;
    *o++ = '"';
    if (n)
        memcpy(o, s, n);
    o += n;
    *o++ = '"';
    if (tail)
        *o++ = tail;
    *o = '\0';
    b->len = (size_t)(o - b->p);
    return true;
}

static void put_escaped(struct buf *b, const unsigned char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0, run = 0;

    if (put_plain(b, s, n, 0))
        return;

    buf_putc(b, '"');
    while (i < n) {
        unsigned char c = s[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            i++;
            run++;
            continue;
        }
        buf_append(b, s + i - run, run);
        run = 0;
        if (c < 0x80) {
            char esc[6] = { '\\', 0 };
            switch (c) {
            case '"': esc[1] = '"'; buf_append(b, esc, 2); break;
            case '\\': esc[1] = '\\'; buf_append(b, esc, 2); break;
            case '\n': esc[1] = 'n'; buf_append(b, esc, 2); break;
            case '\r': esc[1] = 'r'; buf_append(b, esc, 2); break;
            case '\t': esc[1] = 't'; buf_append(b, esc, 2); break;
            case '\0':
                /* PostgreSQL's jsonb refuses \u0000: a NUL is U+FFFD */
                buf_append(b, "\xef\xbf\xbd", 3);
                break;
            default:
                esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
                esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
                buf_append(b, esc, 6);
            }
            i++;
            continue;
        }
        size_t len = utf8_seq_len(s + i, n - i);
        if (len) {
            buf_append(b, s + i, len);
            i += len;
        } else {
            buf_append(b, UTF8_REPLACEMENT, 3);
            i++;
        }
    }
    buf_append(b, s + i - run, run);
    buf_putc(b, '"');
}

/* put_escaped's bytes between the quotes, without a check: the caller
 * made room for 6n (a control byte becomes \u00XX). */
char *jw_put_escaped(char *o, const unsigned char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0;

    while (i < n) {
        unsigned char c = s[i];
        /* put_escaped's test: DEL is copied as it is */
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            *o++ = (char)c;
            i++;
            continue;
        }
        i++;
        if (c == '\0') {       /* as put_escaped: a NUL is U+FFFD */
            memcpy(o, UTF8_REPLACEMENT, 3);
            o += 3;
            continue;
        }
        if (c < 0x80) {
            *o++ = '\\';
            switch (c) {
            case '"': *o++ = '"'; break;
            case '\\': *o++ = '\\'; break;
            case '\n': *o++ = 'n'; break;
            case '\r': *o++ = 'r'; break;
            case '\t': *o++ = 't'; break;
            default:
                *o++ = 'u'; *o++ = '0'; *o++ = '0';
                *o++ = hex[c >> 4]; *o++ = hex[c & 15];
            }
            continue;
        }
        size_t len = utf8_seq_len(s + i - 1, n - i + 1);
        if (len) {
            memcpy(o, s + i - 1, len);
            o += len;
            i += len - 1;
        } else {
            memcpy(o, UTF8_REPLACEMENT, 3);
            o += 3;
        }
    }
    return o;
}

char *jw_room_slow(struct jw *w, size_t n)
{
    if (!w->b.err && n <= w->b.max - w->b.len &&
        buf_reserve(&w->b, n) == HUB_OK) {
        jw_sync(w);
        return w->b.p + w->b.len;
    }
    /* aside: jw_commit_slow appends it as the checked calls would */
    return arena_alloc(w->b.a, n + 1);
}

void jw_commit_slow(struct jw *w, const char *start, const char *o)
{
    buf_append(&w->b, start, (size_t)(o - start));
    jw_sync(w);
}

void jw_key(struct jw *w, const char *key)
{
    size_t n = strlen(key);
    jw_sep(w);
    if (!put_plain(&w->b, (const unsigned char *)key, n, ':')) {
        put_escaped(&w->b, (const unsigned char *)key, n);
        buf_putc(&w->b, ':');
    }
    /* the value that follows takes no comma; jw_sep then clears this */
    w->first[w->depth] = true;
    jw_sync(w);
}

void jw_str(struct jw *w, struct slice s)
{
    jw_sep(w);
    put_escaped(&w->b, (const unsigned char *)s.p, s.len);
    jw_sync(w);
}

void jw_str_text(struct jw *w, struct slice s, bool plain)
{
    struct buf *b = &w->b;
    if (!plain || b->len + s.len + 3 > w->lim) {
        jw_str(w, s);
        return;
    }
    char *o = b->p + b->len;
    *o = ',';
    o += !w->first[w->depth];
    w->first[w->depth] = false;
    *o++ = '"';
    if (s.len)
        memcpy(o, s.p, s.len);
    o += s.len;
    *o++ = '"';
    *o = '\0';
    b->len = (size_t)(o - b->p);
}

void jw_cstr(struct jw *w, const char *s)
{
    jw_str(w, slice_from_cstr(s));
}

void jw_int(struct jw *w, int64_t v)
{
    /* "%" PRId64 by hand: snprintf cost about 700 instructions a number */
    char tmp[24];
    char *end = tmp + sizeof(tmp), *o = end;
    uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
    do {
        *--o = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--o = '-';
    jw_sep(w);
    buf_append(&w->b, o, (size_t)(end - o));
    jw_sync(w);
}

void jw_number(struct jw *w, double v)
{
    char tmp[32];
    snprintf(tmp, sizeof(tmp), "%1.15g", v);
    if (strtod(tmp, NULL) != v)
        snprintf(tmp, sizeof(tmp), "%1.17g", v);
    jw_sep(w);
    buf_puts(&w->b, tmp);
    jw_sync(w);
}

void jw_bool(struct jw *w, bool v)
{
    jw_sep(w);
    buf_puts(&w->b, v ? "true" : "false");
    jw_sync(w);
}

void jw_null(struct jw *w)
{
    jw_sep(w);
    buf_puts(&w->b, "null");
    jw_sync(w);
}

void jw_raw(struct jw *w, struct slice json)
{
    jw_sep(w);
    buf_append(&w->b, json.p, json.len);
    jw_sync(w);
}

void jw_kv_str(struct jw *w, const char *key, struct slice s)
{
    if (s.len == 0)
        return;
    /* the common member, written in one go: ,"key":"value" (the key is a
     * trusted literal, see jw.h, so only the value is checked) */
    struct buf *b = &w->b;
    size_t kl = strlen(key), need = kl + s.len + 6;
    if (!b->err && need <= b->max - b->len && b->len + need + 1 <= b->cap &&
        is_plain((const unsigned char *)s.p, s.len)) {
        char *o = b->p + b->len;
        if (!w->first[w->depth])
            *o++ = ',';
        w->first[w->depth] = false;
        *o++ = '"';
        memcpy(o, key, kl);
        o += kl;
        memcpy(o, "\":\"", 3);
        o += 3;
        memcpy(o, s.p, s.len);
        o += s.len;
        *o++ = '"';
        *o = '\0';
        b->len = (size_t)(o - b->p);
        return;
    }
    jw_key(w, key);
    jw_str(w, s);
}

void jw_kv_chunk_slow(struct jw *w, const char *chunk, size_t n,
                      struct slice s)
{
    jw_sep(w);
    buf_append(&w->b, chunk + 1, n - 2);    /* "key": without the quote */
    put_escaped(&w->b, (const unsigned char *)s.p, s.len);
    jw_sync(w);
}

void jw_key_chunk_slow(struct jw *w, const char *chunk, size_t n)
{
    jw_sep(w);
    buf_append(&w->b, chunk + 1, n - 1);
    /* the value that follows takes no comma; jw_sep then clears this */
    w->first[w->depth] = true;
    jw_sync(w);
}

void jw_reserve(struct jw *w, size_t n)
{
    if (n <= w->b.max - w->b.len)   /* a hint: never an error itself */
        (void)buf_reserve(&w->b, n);
    jw_sync(w);
}

void jw_init_cap(struct jw *w, struct arena *a, size_t max, size_t cap)
{
    if (cap == 0 || cap - 1 > max) {
        jw_init(w, a, max);
        return;
    }
    /* jw_init's and buf_init's fields, set here: no calls */
    w->b.a = a;
    w->b.p = arena_alloc(a, cap);
    w->b.len = 0;
    w->b.cap = cap;
    w->b.max = max;
    w->b.err = HUB_OK;
    w->lim = cap - 1;
    w->depth = 0;
    w->first[0] = true;
}

void jw_kv_cstr(struct jw *w, const char *key, const char *s)
{
    jw_kv_str(w, key, slice_from_cstr(s));
}

int jw_finish(struct jw *w, struct slice *out)
{
    if (w->b.err == HUB_OK && w->depth != 0)
        w->b.err = HUB_ESYNTAX;
    jw_sync(w);
    if (w->b.err)
        return w->b.err;
    *out = buf_slice(&w->b);
    if (out->p == NULL)
        *out = SLICE_LIT("");
    return HUB_OK;
}

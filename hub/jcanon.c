/*
 * jcanon.c - jsonb's text form of a JSON document, in C (see jcanon.h).
 *
 * Two passes. The first reads the document once into an array of nodes in
 * document order (each value's text in the input, an object member's key,
 * where the value's subtree ends), refusing all that jcanon.h says is
 * refused. The second writes the canonical text once: each object's
 * members sorted on the way out, each string without an escape copied as
 * it is. Every output byte is written once (the former writer, kept in
 * tests/lib/jcanon_ref.c, moved each byte once per enclosing object).
 * The rules reproduced are those of PostgreSQL 15's json lexer (json.c,
 * jsonapi.c), jsonb's key order and uniqueness (jsonb_util.c:
 * lengthCompareJsonbStringValue, uniqueifyJsonbObject), its output
 * (jsonb.c: JsonbToCStringWorker, escape_json) and numeric_out.
 */
#include "jcanon.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "common/digits.h"
#include "common/utf8.h"

#define JCANON_MAX_NUMBER 64        /* longer numbers: left to PostgreSQL */
/* jsonb cannot hold a document near this size (its limit is 256 MB), and
 * node fields stay 32 bits */
#define JCANON_MAX_INPUT (1u << 30)

struct jp {
    const char *p;
    size_t n, i;
    struct jcanon_node *v;
    uint32_t nv, cap;
    struct arena *a;
};

/* Bytes a string's plain run may hold: 0; '"', '\\', controls and bytes
 * above 0x7f stop the run. */
static const unsigned char stop[256] = {
    [0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x80 ... 0xff] = 1,
};

/* The first byte at or after p[i] that stops a plain run, or n. Sixteen
 * at a time where sixteen are left: most strings end in the first block. */
static inline size_t plain_run(const char *p, size_t i, size_t n)
{
#ifdef __SSE2__
    const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
    const __m128i ctl = _mm_set1_epi8(0x1f);
    while (n - i >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        /* max(v, 0x1f) == 0x1f: v <= 0x1f unsigned; the sign bit: >= 0x80 */
        __m128i m = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs)),
            _mm_or_si128(_mm_cmpeq_epi8(_mm_max_epu8(v, ctl), ctl), v));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (mask)
            return i + (unsigned)__builtin_ctz(mask);
        i += 16;
    }
#endif
    while (i < n && !stop[(unsigned char)p[i]])
        i++;
    return i;
}

/* JSON's whitespace: space, tab, LF, CR */
static const unsigned char wsp[256] = {
    [' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1,
};

static inline size_t skip_ws(const char *p, size_t i, size_t n)
{
    while (i < n && wsp[(unsigned char)p[i]])
        i++;
    return i;
}

static void ws(struct jp *c)
{
    c->i = skip_ws(c->p, c->i, c->n);
}

/* jsonapi.c's JSON_ALPHANUMERIC_CHAR: what may not follow a literal */
static bool alnum_json(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || ch == '_' || ch >= 0x80;
}

/* The character an escape at p[0] ('\\') stands for and its length in *len;
 * 0 for one this writer does not reproduce. p[1] exists; a \u escape may
 * run past `left` bytes. */
static unsigned char unescape(const char *p, size_t left, size_t *len)
{
    *len = 2;
    switch (p[1]) {
    case '"': return '"';
    case '\\': return '\\';
    case '/': return '/';
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'u': {
        if (left < 6)
            return 0;
        int v = 0;
        for (int k = 2; k < 6; k++) {
            int h = hex_digit((unsigned char)p[k]);
            if (h < 0)
                return 0;
            v = v * 16 + h;
        }
        /* NUL cannot be text; beyond ASCII depends on the database
         * encoding (and surrogate pairs): PostgreSQL's */
        if (v == 0 || v >= 0x80)
            return 0;
        *len = 6;
        return (unsigned char)v;
    }
    default:
        return 0;
    }
}

/*
 * The characters of the string whose opening quote is just before p[i]:
 * the index of its closing quote, and whether they hold an escape in
 * *esc; 0 when it is not one this writer reproduces.
 */
static inline size_t scan_str(const char *p, size_t i, size_t n, bool *esc)
{
    bool e = false;

    for (;;) {
        i = plain_run(p, i, n);
        if (i >= n)
            return 0;
        unsigned char ch = (unsigned char)p[i];
        if (ch == '"')
            break;
        if (ch >= 0x80) {
            size_t len8 = utf8_seq_len((const unsigned char *)p + i, n - i);
            if (len8 == 0)
                return 0;
            i += len8;
            continue;
        }
        if (ch < 0x20)
            return 0;               /* must be escaped: jsonb_in refuses */
        if (i + 1 >= n)
            return 0;
        size_t elen;
        if (unescape(p + i, n - i, &elen) == 0)
            return 0;
        e = true;
        i += elen;
    }
    *esc = e;
    return i;
}

/* A key's characters decoded (a string() accepted them): into arena
 * memory; the decoded text is never longer. */
static const char *decode(struct arena *a, const char *s, size_t n,
                          uint32_t *len)
{
    char *d = arena_alloc(a, n + 1);
    size_t k = 0;

    for (size_t i = 0; i < n;) {
        if (s[i] != '\\') {
            d[k++] = s[i++];
            continue;
        }
        size_t elen;
        d[k++] = (char)unescape(s + i, n - i, &elen);
        i += elen;
    }
    *len = (uint32_t)k;
    return d;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)? and not a negative zero: numeric_out prints
 * it as written */
static bool number(struct jp *c)
{
    const char *p = c->p;
    size_t i = c->i, s = i;
    bool nonzero = false;

    if (i < c->n && p[i] == '-')
        i++;
    if (i >= c->n)
        return false;
    if (p[i] == '0') {
        i++;
    } else if (p[i] >= '1' && p[i] <= '9') {
        nonzero = true;
        while (i < c->n && p[i] >= '0' && p[i] <= '9')
            i++;
    } else {
        return false;
    }
    if (i < c->n && p[i] == '.') {
        size_t f = ++i;
        while (i < c->n && p[i] >= '0' && p[i] <= '9') {
            nonzero |= p[i] != '0';
            i++;
        }
        if (i == f)
            return false;
    }
    /* an exponent, or anything glued on (jsonb_in refuses "1x") */
    if (i < c->n && (p[i] == 'e' || p[i] == 'E' || p[i] == '.' ||
                     alnum_json((unsigned char)p[i])))
        return false;
    if (i - s > JCANON_MAX_NUMBER || (p[s] == '-' && !nonzero))
        return false;
    c->i = i;
    return true;
}

static bool literal(struct jp *c, const char *word, size_t len)
{
    if (c->n - c->i < len || memcmp(c->p + c->i, word, len) != 0)
        return false;
    if (c->i + len < c->n && alnum_json((unsigned char)c->p[c->i + len]))
        return false;
    c->i += len;
    return true;
}

static inline uint32_t node_new(struct jp *c)
{
    if (c->nv == c->cap) {
        uint32_t cap = c->cap * 2;
        struct jcanon_node *v = arena_alloc(c->a, (size_t)cap * sizeof(*v));
        memcpy(v, c->v, (size_t)c->nv * sizeof(*v));
        c->v = v;
        c->cap = cap;
    }
    return c->nv++;
}

/* A string value whose opening quote is p[i], as node x (no member of its
 * own); the index past its closing quote, or 0. */
static inline size_t string_node(struct jp *c, size_t i, uint32_t x)
{
    bool esc;
    size_t e = scan_str(c->p, i + 1, c->n, &esc);

    if (e == 0)
        return 0;
    c->v[x] = (struct jcanon_node){ c->p + i + 1, NULL, (uint32_t)(e - i - 1),
                                    0, x + 1, JCANON_STRING, esc, false };
    return e + 1;
}

static bool value(struct jp *c, int depth);

/* The value at p[i] as the next node, at `depth`: a string here, anything
 * else by value() */
static inline size_t any_value(struct jp *c, size_t i, int depth,
                               uint32_t *x)
{
    if (i < c->n && c->p[i] == '"' && depth <= JCANON_MAX_DEPTH) {
        *x = node_new(c);
        return string_node(c, i, *x);
    }
    *x = c->nv;
    c->i = i;
    return value(c, depth) ? c->i : 0;
}

static bool object(struct jp *c, int depth)
{
    const char *p = c->p;
    size_t n = c->n, i = skip_ws(p, c->i + 1, n);    /* past '{' */

    if (i < n && p[i] == '}') {
        c->i = i + 1;
        return true;
    }
    for (;;) {
        bool kesc;
        if (i >= n || p[i] != '"')
            return false;
        size_t ks = i + 1, ke = scan_str(p, ks, n, &kesc);
        if (ke == 0)
            return false;
        /* the structural character is looked for first: whitespace is
         * rare (none in the adapters' JSON) */
        i = ke + 1;
        if (i >= n || p[i] != ':') {
            i = skip_ws(p, i, n);
            if (i >= n || p[i] != ':')
                return false;
        }
        i = skip_ws(p, i + 1, n);
        uint32_t x;
        i = any_value(c, i, depth + 1, &x);
        if (i == 0)
            return false;
        struct jcanon_node *m = &c->v[x];
        m->kesc = kesc;
        if (kesc) {
            m->key = decode(c->a, p + ks, ke - ks, &m->klen);
        } else {
            m->key = p + ks;
            m->klen = (uint32_t)(ke - ks);
        }
        if (i >= n || (p[i] != ',' && p[i] != '}'))
            i = skip_ws(p, i, n);
        if (i < n && p[i] == ',') {
            i = skip_ws(p, i + 1, n);
            continue;
        }
        if (i < n && p[i] == '}') {
            c->i = i + 1;
            return true;
        }
        return false;
    }
}

static bool array(struct jp *c, int depth)
{
    const char *p = c->p;
    size_t n = c->n, i = skip_ws(p, c->i + 1, n);    /* past '[' */

    if (i < n && p[i] == ']') {
        c->i = i + 1;
        return true;
    }
    for (;;) {
        uint32_t x;
        i = any_value(c, i, depth + 1, &x);
        if (i == 0)
            return false;
        if (i >= n || (p[i] != ',' && p[i] != ']'))
            i = skip_ws(p, i, n);
        if (i < n && p[i] == ',') {
            i = skip_ws(p, i + 1, n);
            continue;
        }
        if (i < n && p[i] == ']') {
            c->i = i + 1;
            return true;
        }
        return false;
    }
}

/* One value at p[i], and its subtree, as nodes from c->nv on. */
static bool value(struct jp *c, int depth)
{
    if (depth > JCANON_MAX_DEPTH || c->i >= c->n)
        return false;
    uint32_t x = node_new(c);
    size_t s = c->i;
    bool ok;
    uint8_t type = JCANON_OTHER;

    switch (c->p[s]) {
    case '{': type = JCANON_OBJECT; ok = object(c, depth); break;
    case '[': type = JCANON_ARRAY; ok = array(c, depth); break;
    case '"': {
        size_t e = string_node(c, s, x);
        c->i = e;
        return e != 0;
    }
    case 't': ok = literal(c, "true", 4); break;
    case 'f': ok = literal(c, "false", 5); break;
    case 'n': ok = literal(c, "null", 4); break;
    default: ok = number(c); break;
    }
    if (!ok)
        return false;
    c->v[x] = (struct jcanon_node){ c->p + s, NULL, (uint32_t)(c->i - s), 0,
                                    c->nv, type, false, false };
    return true;
}

/* --- writing ------------------------------------------------------------- */

/* The writer's fixed state; the output cursor travels as an argument and
 * a return value, so that it stays in a register (a store through a char
 * pointer would make the compiler reload it from memory). */
struct jw_c {
    char *o;                        /* the output's start */
    const struct jcanon_node *v;
    uint32_t nv;
    struct jcanon_add *add;
    size_t n_add;
    struct arena *a;
};

/* Most of what is copied is a key or a short value: copied inline, in
 * two overlapping words where it can be, without a call */
static inline char *put(char *d, const void *src, size_t n)
{
    const char *p = src;

    if (n >= 8 && n <= 16) {
        uint64_t x, y;
        memcpy(&x, p, 8);
        memcpy(&y, p + n - 8, 8);
        memcpy(d, &x, 8);
        memcpy(d + n - 8, &y, 8);
    } else if (n >= 4 && n < 8) {
        uint32_t x, y;
        memcpy(&x, p, 4);
        memcpy(&y, p + n - 4, 4);
        memcpy(d, &x, 4);
        memcpy(d + n - 4, &y, 4);
    } else if (n > 0 && n < 4) {   /* 1, 2 or 3 bytes, no loop */
        d[0] = p[0];
        d[n / 2] = p[n / 2];
        d[n - 1] = p[n - 1];
    } else if (n > 16) {
        memcpy(d, p, n);
    }
    return d + n;
}

/* escape_json() of one decoded byte below 0x80 (at most 6 bytes) */
static char *put_escaped(char *o, unsigned char ch)
{
    static const char hex[] = "0123456789abcdef";

    switch (ch) {
    case '\b': return put(o, "\\b", 2);
    case '\f': return put(o, "\\f", 2);
    case '\n': return put(o, "\\n", 2);
    case '\r': return put(o, "\\r", 2);
    case '\t': return put(o, "\\t", 2);
    case '"': return put(o, "\\\"", 2);
    case '\\': return put(o, "\\\\", 2);
    default:
        if (ch < 0x20) {
            char u[6] = { '\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15] };
            return put(o, u, 6);
        }
        *o++ = (char)ch;
        return o;
    }
}

/* A string's characters as written (scan_str() accepted them), each
 * escape decoded and escaped again as escape_json() does. */
static char *put_reescaped(char *o, const char *s, size_t n)
{
    size_t run = 0;

    for (size_t i = 0; i < n;) {
        if (s[i] != '\\') {
            i++;
            continue;
        }
        o = put(o, s + run, i - run);
        size_t elen;
        o = put_escaped(o, unescape(s + i, n - i, &elen));
        i += elen;
        run = i;
    }
    return put(o, s + run, n - run);
}

/* Decoded text, escaped as escape_json() does */
static char *put_text(char *o, const char *k, size_t n)
{
    size_t run = 0;

    for (size_t q = 0; q < n; q++) {
        unsigned char ch = (unsigned char)k[q];
        if (ch < 0x20 || ch == '"' || ch == '\\') {
            o = put(o, k + run, q - run);
            o = put_escaped(o, ch);
            run = q + 1;
        }
    }
    return put(o, k + run, n - run);
}

/* One member of an object being written: a node, or add[node - nv] */
struct member {
    const char *key;
    uint32_t klen;
    uint32_t node;
};

/* jsonb's key order; equal keys: the later one first (it is kept). Members
 * are listed in document order, the added ones after them, so the later
 * is the higher node. */
static inline bool member_before(const struct member *a,
                                 const struct member *b)
{
    if (a->klen != b->klen)
        return a->klen < b->klen;
    /* keys are short: compared here, not by a call */
    for (uint32_t q = 0; q < a->klen; q++)
        if (a->key[q] != b->key[q])
            return (unsigned char)a->key[q] < (unsigned char)b->key[q];
    return a->node > b->node;
}

static inline bool same_key(const struct member *a, const struct member *b)
{
    if (a->klen != b->klen)
        return false;
    for (uint32_t q = 0; q < a->klen; q++)
        if (a->key[q] != b->key[q])
            return false;
    return true;
}

static int member_cmp(const void *pa, const void *pb)
{
    const struct member *a = pa, *b = pb;
    return member_before(a, b) ? -1 : member_before(b, a) ? 1 : 0;
}

/* Insertion sort for the few dozen members objects hold in practice;
 * qsort past that, as a body with thousands of members in reverse order
 * took seconds (F1362). member_before is a total order (ties broken by
 * node), so the sort need not be stable. */
static void sort_members(struct member *m, size_t n)
{
    if (n > 32) {
        qsort(m, n, sizeof(*m), member_cmp);
        return;
    }
    for (size_t k = 1; k < n; k++) {
        struct member x = m[k];
        size_t j = k;
        while (j > 0 && member_before(&x, &m[j - 1])) {
            m[j] = m[j - 1];
            j--;
        }
        m[j] = x;
    }
}

static struct member *members_grow(struct arena *a, struct member *m,
                                   size_t nm, size_t *cap)
{
    struct member *nmv = arena_alloc(a, 2 * *cap * sizeof(*nmv));
    memcpy(nmv, m, nm * sizeof(*m));
    *cap *= 2;
    return nmv;
}

static char *emit(const struct jw_c *w, char *o, uint32_t x);

static char *emit_object(const struct jw_c *w, char *o, uint32_t x)
{
    const struct jcanon_node *v = w->v;
    struct member local[32], *m = local;
    size_t nm = 0, cap = 32;

    for (uint32_t k = x + 1; k < v[x].end; k = v[k].end) {
        if (nm == cap)
            m = members_grow(w->a, m, nm, &cap);
        m[nm++] = (struct member){ v[k].key, v[k].klen, k };
    }
    for (size_t k = 0; k < w->n_add; k++) {
        if (w->add[k].obj != x)
            continue;
        if (nm == cap)
            m = members_grow(w->a, m, nm, &cap);
        m[nm++] = (struct member){ w->add[k].key,
                                   (uint32_t)strlen(w->add[k].key),
                                   w->nv + (uint32_t)k };
    }
    sort_members(m, nm);
    *o++ = '{';
    for (size_t k = 0; k < nm; k++) {
        if (k > 0 && same_key(&m[k], &m[k - 1]))
            continue;               /* an earlier duplicate: dropped */
        if (o[-1] != '{')
            o = put(o, ", ", 2);
        *o++ = '"';
        if (m[k].node >= w->nv) {
            struct jcanon_add *ad = &w->add[m[k].node - w->nv];
            o = put(o, m[k].key, m[k].klen);
            o = put(o, "\": ", 3);
            ad->at = (size_t)(o - w->o);
            o = put(o, ad->val.p, ad->val.len);
            continue;
        }
        if (v[m[k].node].kesc)
            o = put_text(o, m[k].key, m[k].klen);
        else                        /* nothing in it needs an escape */
            o = put(o, m[k].key, m[k].klen);
        o = put(o, "\": ", 3);
        o = emit(w, o, m[k].node);
    }
    *o++ = '}';
    return o;
}

static char *emit(const struct jw_c *w, char *o, uint32_t x)
{
    const struct jcanon_node *v = &w->v[x];

    switch (v->type) {
    case JCANON_STRING:
        *o++ = '"';
        o = v->esc ? put_reescaped(o, v->p, v->len) : put(o, v->p, v->len);
        *o++ = '"';
        return o;
    case JCANON_OTHER:
        return put(o, v->p, v->len);
    case JCANON_ARRAY:
        *o++ = '[';
        for (uint32_t k = x + 1; k < v->end; k = w->v[k].end) {
            if (k > x + 1)
                o = put(o, ", ", 2);
            o = emit(w, o, k);
        }
        *o++ = ']';
        return o;
    default:
        return emit_object(w, o, x);
    }
}

bool jcanon_parse(struct arena *a, const char *p, size_t n,
                  struct jcanon_doc *d)
{
    struct jp c = { p, n, 0, NULL, 0, 0, a };

    if (n > JCANON_MAX_INPUT)
        return false;
    c.cap = (uint32_t)(n / 16 + 16);
    c.v = arena_alloc(a, (size_t)c.cap * sizeof(*c.v));
    ws(&c);
    if (!value(&c, 1))
        return false;
    ws(&c);
    if (c.i != n)
        return false;
    d->v = c.v;
    d->n = c.nv;
    return true;
}

void jcanon_write(struct arena *a, const struct jcanon_doc *d,
                  struct jcanon_add *add, size_t n_add, struct slice *out)
{
    /* never longer than the input plus one byte for each ',' and ':' of
     * it (", " and ": "), so 2n; strings never grow: an escape decoded and
     * written again is at most as long as it was. Each added member:
     * ", " '"' key '": ' value. (A string's len leaves out its quotes.) */
    size_t cap = 2 * ((size_t)d->v[0].len + 2) + 1;
    for (size_t k = 0; k < n_add; k++)
        cap += strlen(add[k].key) + add[k].val.len + 6;
    struct jw_c w = { arena_alloc(a, cap), d->v, d->n, add, n_add, a };
    char *end = emit(&w, w.o, 0);
    *end = '\0';
    *out = (struct slice){ w.o, (size_t)(end - w.o) };
}

bool jcanon(struct arena *a, const char *p, size_t n, struct slice *out)
{
    struct jcanon_doc d;

    if (!jcanon_parse(a, p, n, &d))
        return false;
    jcanon_write(a, &d, NULL, 0, out);
    return true;
}

bool jcanon_quote(struct arena *a, const char *s, size_t n,
                  struct slice *out)
{
    size_t plain = plain_run(s, 0, n);

    if (plain == n) {               /* the usual: an id, a time, a code */
        char *q = arena_alloc(a, n + 3);
        q[0] = '"';
        memcpy(q + 1, s, n);
        q[n + 1] = '"';
        q[n + 2] = '\0';
        *out = (struct slice){ q, n + 2 };
        return true;
    }
    for (size_t i = plain; i < n;) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == 0)
            return false;
        if (ch < 0x80) {
            i++;
            continue;
        }
        size_t len = utf8_seq_len((const unsigned char *)s + i, n - i);
        if (len == 0)
            return false;
        i += len;
    }
    /* each byte becomes at most 6 (\u00XX), and the quotes */
    char *q = arena_alloc(a, 6 * n + 3), *o = q;
    *o++ = '"';
    o = put_text(o, s, n);
    *o++ = '"';
    *o = '\0';
    *out = (struct slice){ q, (size_t)(o - q) };
    return true;
}

/* --- reading canonical text back ------------------------------------------ */

/* One past the string opening at p[i] */
static size_t skip_str(const char *p, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        if (p[i] == '\\')
            i++;
        else if (p[i] == '"')
            return i + 1;
    }
    return 0;
}

/* One past the value at p[i] (canonical text: well formed) */
static size_t skip_value(const char *p, size_t n, size_t i)
{
    int depth = 0;

    do {
        if (i >= n)
            return 0;
        char ch = p[i];
        if (ch == '"') {
            i = skip_str(p, n, i);
            if (i == 0)
                return 0;
        } else if (ch == '{' || ch == '[') {
            depth++;
            i++;
        } else if (ch == '}' || ch == ']') {
            depth--;
            i++;
        } else if (depth == 0) {
            while (i < n && p[i] != ',' && p[i] != '}' && p[i] != ']')
                i++;
        } else {
            i++;
        }
    } while (depth > 0);
    return i;
}

/* In the object at p[i], the value of key k: its offset, or 0 */
static size_t member_at(const char *p, size_t n, size_t i, const char *k)
{
    size_t klen = strlen(k);

    if (i >= n || p[i] != '{')
        return 0;
    i++;
    while (i < n && p[i] == '"') {
        size_t ke = skip_str(p, n, i);
        if (ke == 0 || ke + 2 > n)
            return 0;
        bool hit = ke - i - 2 == klen && memcmp(p + i + 1, k, klen) == 0;
        i = ke + 2;                 /* past '": ' */
        if (hit)
            return i;
        i = skip_value(p, n, i);
        if (i == 0 || i >= n || p[i] != ',')
            return 0;
        i += 2;                     /* ", " */
    }
    return 0;
}

bool jcanon_find_str(const char *p, size_t n, const char *k1, const char *k2,
                     size_t *at)
{
    size_t v = member_at(p, n, 0, k1);
    if (v == 0)
        return false;
    v = member_at(p, n, v, k2);
    if (v == 0 || v >= n || p[v] != '"')
        return false;
    *at = v + 1;
    return true;
}

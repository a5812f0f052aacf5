/*
 * jcanon_ref.c - hub/jcanon.c as it was before its single-pass rewrite
 * (2026-12-03: one recursive descent writing each object's members, then
 * sorting and moving them), kept as the reference that the new one must
 * match byte for byte and refusal for refusal (tests/unit/jcanon_test.c,
 * tests/fuzz/jcanon_fuzz.c). Its rules were checked against PostgreSQL
 * itself (tests/integration/jcanon_test.c). Names carry ref_ so that the
 * fuzz harness can include this file beside hub/jcanon.c.
 */
#include "jcanon_ref.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"

#define REF_MAX_DEPTH 64
#define REF_MAX_NUMBER 64        /* longer numbers: left to PostgreSQL */

/*
 * The output is one array sized once: the canonical text is at most
 * 3n + 2 bytes (a value never grows, ", " and ": " add one byte to each
 * ',' and ':' of the input), and an object's members and its final text
 * sit there side by side for a moment, so twice that always fits (each
 * enclosing object's members are already final). No write checks room.
 */
struct ref_jc {
    const char *p;
    size_t n, i;
    char *o;                        /* output */
    size_t len;
    struct arena *a;
};

/* One member of an object being read: its key (decoded) and where its
 * canonical value sits in the output. */
struct ref_member {
    const char *key;
    size_t klen;
    size_t voff, vlen;
    size_t order;
};

/* Bytes a string's plain run may hold: 0; '"', '\\', controls and bytes
 * above 0x7f stop the run. */
static const unsigned char ref_stop[256] = {
    [0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x80 ... 0xff] = 1,
};

static inline void ref_put(struct ref_jc *c, const void *p, size_t n)
{
    memcpy(c->o + c->len, p, n);
    c->len += n;
}

static inline void ref_putc1(struct ref_jc *c, char ch)
{
    c->o[c->len++] = ch;
}

static void ref_ws(struct ref_jc *c)
{
    while (c->i < c->n && (c->p[c->i] == ' ' || c->p[c->i] == '\t' ||
                           c->p[c->i] == '\n' || c->p[c->i] == '\r'))
        c->i++;
}

/* jsonapi.c's JSON_ALPHANUMERIC_CHAR: what may not follow a literal */
static bool ref_alnum_json(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || ch == '_' || ch >= 0x80;
}

static int ref_hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* escape_json() of one decoded byte below 0x80 (at most 6 bytes) */
static void ref_put_escaped(struct ref_jc *c, unsigned char ch)
{
    static const char hex[] = "0123456789abcdef";

    switch (ch) {
    case '\b': ref_put(c, "\\b", 2); return;
    case '\f': ref_put(c, "\\f", 2); return;
    case '\n': ref_put(c, "\\n", 2); return;
    case '\r': ref_put(c, "\\r", 2); return;
    case '\t': ref_put(c, "\\t", 2); return;
    case '"': ref_put(c, "\\\"", 2); return;
    case '\\': ref_put(c, "\\\\", 2); return;
    default:
        if (ch < 0x20) {
            char u[6] = { '\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15] };
            ref_put(c, u, 6);
        } else {
            ref_putc1(c, (char)ch);
        }
    }
}

/*
 * The string that opens at p[i] ('"'): written escaped to the output when
 * `key` is NULL; else decoded for a key into *key (the input itself when
 * it holds no escape, else arena memory). False when it is not one this
 * writer reproduces. Runs of plain bytes are copied whole.
 */
static bool ref_string(struct ref_jc *c, struct slice *key)
{
    const char *p = c->p;
    size_t i = c->i + 1, start = i, run = i;
    char *dec = NULL;               /* a key's decoded bytes, once escaped */
    size_t dlen = 0;

    if (!key)
        ref_putc1(c, '"');
    for (;;) {
        while (i < c->n && !ref_stop[(unsigned char)p[i]])
            i++;
        if (i >= c->n)
            return false;
        unsigned char ch = (unsigned char)p[i];
        if (ch >= 0x80) {
            size_t len = utf8_seq_len((const unsigned char *)p + i, c->n - i);
            if (len == 0)
                return false;
            i += len;
            continue;
        }
        if (ch < 0x20)
            return false;           /* must be escaped: jsonb_in refuses */
        /* '"' or '\\': the plain run before it */
        if (!key) {
            ref_put(c, p + run, i - run);
        } else if (dec || ch == '\\') {
            if (dec == NULL)        /* decoded is never longer */
                dec = arena_alloc(c->a, c->n - start + 1);
            memcpy(dec + dlen, p + run, i - run);
            dlen += i - run;
        }
        if (ch == '"')
            break;
        if (i + 1 >= c->n)
            return false;
        unsigned char d;
        size_t len = 2;
        switch (p[i + 1]) {
        case '"': d = '"'; break;
        case '\\': d = '\\'; break;
        case '/': d = '/'; break;
        case 'b': d = '\b'; break;
        case 'f': d = '\f'; break;
        case 'n': d = '\n'; break;
        case 'r': d = '\r'; break;
        case 't': d = '\t'; break;
        case 'u': {
            if (c->n - i < 6)
                return false;
            int v = 0;
            for (int k = 2; k < 6; k++) {
                int h = ref_hexval(p[i + k]);
                if (h < 0)
                    return false;
                v = v * 16 + h;
            }
            /* NUL cannot be text; beyond ASCII depends on the database
             * encoding (and surrogate pairs): PostgreSQL's */
            if (v == 0 || v >= 0x80)
                return false;
            d = (unsigned char)v;
            len = 6;
            break;
        }
        default:
            return false;
        }
        if (key)
            dec[dlen++] = (char)d;
        else
            ref_put_escaped(c, d);
        i += len;
        run = i;
    }
    if (key)
        *key = dec ? (struct slice){ dec, dlen }
                   : (struct slice){ p + start, i - start };
    else
        ref_putc1(c, '"');
    c->i = i + 1;
    return true;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)? and not a negative zero: numeric_out prints
 * it as written */
static bool ref_number(struct ref_jc *c)
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
                     ref_alnum_json((unsigned char)p[i])))
        return false;
    if (i - s > REF_MAX_NUMBER || (p[s] == '-' && !nonzero))
        return false;
    ref_put(c, p + s, i - s);
    c->i = i;
    return true;
}

static bool ref_literal(struct ref_jc *c, const char *word, size_t len)
{
    if (c->n - c->i < len || memcmp(c->p + c->i, word, len) != 0)
        return false;
    if (c->i + len < c->n && ref_alnum_json((unsigned char)c->p[c->i + len]))
        return false;
    ref_put(c, word, len);
    c->i += len;
    return true;
}

/* jsonb's key order; equal keys: the later one first (it is kept). A
 * total order (`order` is each member's own), so qsort needs no stability. */
static int ref_member_cmp(const void *pa, const void *pb)
{
    const struct ref_member *a = pa, *b = pb;

    if (a->klen != b->klen)
        return a->klen < b->klen ? -1 : 1;
    int r = memcmp(a->key, b->key, a->klen);
    if (r)
        return r;
    return a->order == b->order ? 0 : a->order > b->order ? -1 : 1;
}

static bool ref_value(struct ref_jc *c, int depth);

static bool ref_object(struct ref_jc *c, int depth)
{
    size_t start = c->len;
    struct ref_member local[32], *m = local;
    size_t nm = 0, cap = 32;

    c->i++;                         /* '{' */
    ref_ws(c);
    if (c->i < c->n && c->p[c->i] == '}') {
        c->i++;
        ref_put(c, "{}", 2);
        return true;
    }
    for (;;) {
        struct slice key;
        if (c->i >= c->n || c->p[c->i] != '"' || !ref_string(c, &key))
            return false;
        ref_ws(c);
        if (c->i >= c->n || c->p[c->i] != ':')
            return false;
        c->i++;
        ref_ws(c);
        if (nm == cap) {
            struct ref_member *nmv = arena_alloc(c->a, 2 * cap * sizeof(*nmv));
            memcpy(nmv, m, nm * sizeof(*m));
            m = nmv;
            cap *= 2;
        }
        size_t voff = c->len;
        if (!ref_value(c, depth + 1))
            return false;
        m[nm] = (struct ref_member){ key.p, key.len, voff, c->len - voff, nm };
        nm++;
        ref_ws(c);
        if (c->i < c->n && c->p[c->i] == ',') {
            c->i++;
            ref_ws(c);
            continue;
        }
        if (c->i < c->n && c->p[c->i] == '}') {
            c->i++;
            break;
        }
        return false;
    }
    qsort(m, nm, sizeof(*m), ref_member_cmp);
    size_t fin = c->len;
    ref_putc1(c, '{');
    for (size_t k = 0; k < nm; k++) {
        if (k > 0 && m[k].klen == m[k - 1].klen &&
            memcmp(m[k].key, m[k - 1].key, m[k].klen) == 0)
            continue;               /* an earlier duplicate: dropped */
        if (c->len > fin + 1)
            ref_put(c, ", ", 2);
        ref_putc1(c, '"');
        const char *kp = m[k].key;
        size_t run = 0;
        for (size_t q = 0; q < m[k].klen; q++) {
            unsigned char ch = (unsigned char)kp[q];
            if (ch < 0x20 || ch == '"' || ch == '\\') {
                ref_put(c, kp + run, q - run);
                ref_put_escaped(c, ch);
                run = q + 1;
            }
        }
        ref_put(c, kp + run, m[k].klen - run);
        ref_put(c, "\": ", 3);
        ref_put(c, c->o + m[k].voff, m[k].vlen);
    }
    ref_putc1(c, '}');
    size_t flen = c->len - fin;
    memmove(c->o + start, c->o + fin, flen);
    c->len = start + flen;
    return true;
}

static bool ref_array(struct ref_jc *c, int depth)
{
    c->i++;                         /* '[' */
    ref_putc1(c, '[');
    ref_ws(c);
    if (c->i < c->n && c->p[c->i] == ']') {
        c->i++;
        ref_putc1(c, ']');
        return true;
    }
    for (;;) {
        if (!ref_value(c, depth + 1))
            return false;
        ref_ws(c);
        if (c->i < c->n && c->p[c->i] == ',') {
            c->i++;
            ref_ws(c);
            ref_put(c, ", ", 2);
            continue;
        }
        if (c->i < c->n && c->p[c->i] == ']') {
            c->i++;
            ref_putc1(c, ']');
            return true;
        }
        return false;
    }
}

static bool ref_value(struct ref_jc *c, int depth)
{
    if (depth > REF_MAX_DEPTH || c->i >= c->n)
        return false;
    switch (c->p[c->i]) {
    case '{': return ref_object(c, depth);
    case '[': return ref_array(c, depth);
    case '"': return ref_string(c, NULL);
    case 't': return ref_literal(c, "true", 4);
    case 'f': return ref_literal(c, "false", 5);
    case 'n': return ref_literal(c, "null", 4);
    default: return ref_number(c);
    }
}

bool jcanon_ref(struct arena *a, const char *p, size_t n, struct slice *out)
{
    struct ref_jc c = { p, n, 0, NULL, 0, a };

    if (n > (SIZE_MAX - 64) / 6)
        return false;
    c.o = arena_alloc(a, 6 * n + 64);
    ref_ws(&c);
    if (!ref_value(&c, 1))
        return false;
    ref_ws(&c);
    if (c.i != n)
        return false;
    c.o[c.len] = '\0';
    *out = (struct slice){ c.o, c.len };
    return true;
}


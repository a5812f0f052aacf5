/*
 * jcanon.c - jsonb's text form of a JSON document, in C (see jcanon.h).
 *
 * One recursive descent over the input writes the canonical text to one
 * buffer. An object's members are written there one after another as they
 * are read (their values already canonical), then sorted and written again
 * in jsonb's order right after them, and that final text is moved down over
 * the members: each byte moves once per enclosing object.
 * The rules reproduced are those of PostgreSQL 15's json lexer (json.c,
 * jsonapi.c), jsonb's key order and uniqueness (jsonb_util.c:
 * lengthCompareJsonbStringValue, uniqueifyJsonbObject), its output
 * (jsonb.c: JsonbToCStringWorker, escape_json) and numeric_out.
 */
#include "jcanon.h"

#include <stdint.h>
#include <string.h>

#include "common/utf8.h"

#define JCANON_MAX_NUMBER 64        /* longer numbers: left to PostgreSQL */

/*
 * The output is one array sized once: the canonical text is at most
 * 3n + 2 bytes (a value never grows, ", " and ": " add one byte to each
 * ',' and ':' of the input), and an object's members and its final text
 * sit there side by side for a moment, so twice that always fits (each
 * enclosing object's members are already final). No write checks room.
 */
struct jc {
    const char *p;
    size_t n, i;
    char *o;                        /* output */
    size_t len;
    struct arena *a;
};

/* One member of an object being read: its key (decoded) and where its
 * canonical value sits in the output. */
struct member {
    const char *key;
    size_t klen;
    size_t voff, vlen;
    size_t order;
};

/* Bytes a string's plain run may hold: 0; '"', '\\', controls and bytes
 * above 0x7f stop the run. */
static const unsigned char stop[256] = {
    [0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x80 ... 0xff] = 1,
};

static inline void put(struct jc *c, const void *p, size_t n)
{
    memcpy(c->o + c->len, p, n);
    c->len += n;
}

static inline void putc1(struct jc *c, char ch)
{
    c->o[c->len++] = ch;
}

static void ws(struct jc *c)
{
    while (c->i < c->n && (c->p[c->i] == ' ' || c->p[c->i] == '\t' ||
                           c->p[c->i] == '\n' || c->p[c->i] == '\r'))
        c->i++;
}

/* jsonapi.c's JSON_ALPHANUMERIC_CHAR: what may not follow a literal */
static bool alnum_json(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || ch == '_' || ch >= 0x80;
}

static int hexval(char ch)
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
static void put_escaped(struct jc *c, unsigned char ch)
{
    static const char hex[] = "0123456789abcdef";

    switch (ch) {
    case '\b': put(c, "\\b", 2); return;
    case '\f': put(c, "\\f", 2); return;
    case '\n': put(c, "\\n", 2); return;
    case '\r': put(c, "\\r", 2); return;
    case '\t': put(c, "\\t", 2); return;
    case '"': put(c, "\\\"", 2); return;
    case '\\': put(c, "\\\\", 2); return;
    default:
        if (ch < 0x20) {
            char u[6] = { '\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15] };
            put(c, u, 6);
        } else {
            putc1(c, (char)ch);
        }
    }
}

/*
 * The string that opens at p[i] ('"'): written escaped to the output when
 * `key` is NULL; else decoded for a key into *key (the input itself when
 * it holds no escape, else arena memory). False when it is not one this
 * writer reproduces. Runs of plain bytes are copied whole.
 */
static bool string(struct jc *c, struct slice *key)
{
    const char *p = c->p;
    size_t i = c->i + 1, start = i, run = i;
    char *dec = NULL;               /* a key's decoded bytes, once escaped */
    size_t dlen = 0;

    if (!key)
        putc1(c, '"');
    for (;;) {
        while (i < c->n && !stop[(unsigned char)p[i]])
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
            put(c, p + run, i - run);
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
                int h = hexval(p[i + k]);
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
            put_escaped(c, d);
        i += len;
        run = i;
    }
    if (key)
        *key = dec ? (struct slice){ dec, dlen }
                   : (struct slice){ p + start, i - start };
    else
        putc1(c, '"');
    c->i = i + 1;
    return true;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)? and not a negative zero: numeric_out prints
 * it as written */
static bool number(struct jc *c)
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
    put(c, p + s, i - s);
    c->i = i;
    return true;
}

static bool literal(struct jc *c, const char *word, size_t len)
{
    if (c->n - c->i < len || memcmp(c->p + c->i, word, len) != 0)
        return false;
    if (c->i + len < c->n && alnum_json((unsigned char)c->p[c->i + len]))
        return false;
    put(c, word, len);
    c->i += len;
    return true;
}

/* jsonb's key order; equal keys: the later one first (it is kept) */
static int member_cmp(const struct member *a, const struct member *b)
{
    if (a->klen != b->klen)
        return a->klen < b->klen ? -1 : 1;
    int r = memcmp(a->key, b->key, a->klen);
    if (r)
        return r;
    return a->order > b->order ? -1 : 1;
}

/* Insertion sort: objects hold a few dozen members at most in practice,
 * and the order of equal keys is settled by `order` anyway. */
static void sort_members(struct member *m, size_t n)
{
    for (size_t k = 1; k < n; k++) {
        struct member x = m[k];
        size_t j = k;
        while (j > 0 && member_cmp(&m[j - 1], &x) > 0) {
            m[j] = m[j - 1];
            j--;
        }
        m[j] = x;
    }
}

static bool value(struct jc *c, int depth);

static bool object(struct jc *c, int depth)
{
    size_t start = c->len;
    struct member local[32], *m = local;
    size_t nm = 0, cap = 32;

    c->i++;                         /* '{' */
    ws(c);
    if (c->i < c->n && c->p[c->i] == '}') {
        c->i++;
        put(c, "{}", 2);
        return true;
    }
    for (;;) {
        struct slice key;
        if (c->i >= c->n || c->p[c->i] != '"' || !string(c, &key))
            return false;
        ws(c);
        if (c->i >= c->n || c->p[c->i] != ':')
            return false;
        c->i++;
        ws(c);
        if (nm == cap) {
            struct member *nmv = arena_alloc(c->a, 2 * cap * sizeof(*nmv));
            memcpy(nmv, m, nm * sizeof(*m));
            m = nmv;
            cap *= 2;
        }
        size_t voff = c->len;
        if (!value(c, depth + 1))
            return false;
        m[nm] = (struct member){ key.p, key.len, voff, c->len - voff, nm };
        nm++;
        ws(c);
        if (c->i < c->n && c->p[c->i] == ',') {
            c->i++;
            ws(c);
            continue;
        }
        if (c->i < c->n && c->p[c->i] == '}') {
            c->i++;
            break;
        }
        return false;
    }
    sort_members(m, nm);
    size_t fin = c->len;
    putc1(c, '{');
    for (size_t k = 0; k < nm; k++) {
        if (k > 0 && m[k].klen == m[k - 1].klen &&
            memcmp(m[k].key, m[k - 1].key, m[k].klen) == 0)
            continue;               /* an earlier duplicate: dropped */
        if (c->len > fin + 1)
            put(c, ", ", 2);
        putc1(c, '"');
        const char *kp = m[k].key;
        size_t run = 0;
        for (size_t q = 0; q < m[k].klen; q++) {
            unsigned char ch = (unsigned char)kp[q];
            if (ch < 0x20 || ch == '"' || ch == '\\') {
                put(c, kp + run, q - run);
                put_escaped(c, ch);
                run = q + 1;
            }
        }
        put(c, kp + run, m[k].klen - run);
        put(c, "\": ", 3);
        put(c, c->o + m[k].voff, m[k].vlen);
    }
    putc1(c, '}');
    size_t flen = c->len - fin;
    memmove(c->o + start, c->o + fin, flen);
    c->len = start + flen;
    return true;
}

static bool array(struct jc *c, int depth)
{
    c->i++;                         /* '[' */
    putc1(c, '[');
    ws(c);
    if (c->i < c->n && c->p[c->i] == ']') {
        c->i++;
        putc1(c, ']');
        return true;
    }
    for (;;) {
        if (!value(c, depth + 1))
            return false;
        ws(c);
        if (c->i < c->n && c->p[c->i] == ',') {
            c->i++;
            ws(c);
            put(c, ", ", 2);
            continue;
        }
        if (c->i < c->n && c->p[c->i] == ']') {
            c->i++;
            putc1(c, ']');
            return true;
        }
        return false;
    }
}

static bool value(struct jc *c, int depth)
{
    if (depth > JCANON_MAX_DEPTH || c->i >= c->n)
        return false;
    switch (c->p[c->i]) {
    case '{': return object(c, depth);
    case '[': return array(c, depth);
    case '"': return string(c, NULL);
    case 't': return literal(c, "true", 4);
    case 'f': return literal(c, "false", 5);
    case 'n': return literal(c, "null", 4);
    default: return number(c);
    }
}

bool jcanon(struct arena *a, const char *p, size_t n, struct slice *out)
{
    struct jc c = { p, n, 0, NULL, 0, a };

    if (n > (SIZE_MAX - 64) / 6)
        return false;
    c.o = arena_alloc(a, 6 * n + 64);
    ws(&c);
    if (!value(&c, 1))
        return false;
    ws(&c);
    if (c.i != n)
        return false;
    c.o[c.len] = '\0';
    *out = (struct slice){ c.o, c.len };
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

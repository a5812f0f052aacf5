/*
 * body.c - an event body on its way into the ingest batch (see body.h).
 *
 * Two readings of one body that give the same answers. The text reading
 * (body_scan, body_idents, body_write, then jcanon of the written text)
 * takes any body and scans it several times. The node reading
 * (doc_scan, doc_idents, doc_write) takes a body jcanon_parse() accepts,
 * reads it once and writes jsonb's text with the hub fields in it; on
 * such a body (it is JSON) both readings see the same members, so they
 * agree, and tests/unit/body_test.c holds them to it.
 */
#define _GNU_SOURCE                 /* memmem */
#include "body.h"

#include <stdlib.h>
#include <string.h>

#include "common/hub_err.h"
#include "common/idsys.h"
#include "common/utf8.h"
#include "jcanon.h"
#include "store.h"

static size_t json_ws(const char *p, size_t i, size_t n)
{
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
                     p[i] == '\r'))
        i++;
    return i;
}

/* One past the string that opens at p[i] ('"'), or 0; *esc when it holds
 * an escape. A byte loop: an event's strings are a few bytes each (keys,
 * codes, names), too short for memchr's setup to pay, and a body has a
 * hundred of them. */
static size_t json_skip_str(const char *p, size_t i, size_t n, bool *esc)
{
    for (i++; i < n; i++) {
        if (p[i] == '"')
            return i + 1;
        if (p[i] == '\\') {
            *esc = true;
            i++;                        /* the escaped character */
        }
    }
    return 0;
}

#define JSON_SCAN_DEPTH 64

/* One past the JSON value that starts at p[i], or 0 when it is not one
 * (brackets checked, nesting bounded by JSON_SCAN_DEPTH; scalars are left
 * to PostgreSQL, which parses the whole body anyway). */
static size_t json_skip_value(const char *p, size_t i, size_t n)
{
    uint64_t objs = 0;              /* bit d: depth d+1 is an object */
    int depth = 0;
    bool esc = false;

    do {
        if (i >= n)
            return 0;
        char c = p[i];
        if (c == '"') {
            i = json_skip_str(p, i, n, &esc);
            if (i == 0)
                return 0;
        } else if (c == '{' || c == '[') {
            if (depth == JSON_SCAN_DEPTH)
                return 0;
            objs = (objs & ~(1ull << depth)) |
                   ((uint64_t)(c == '{') << depth);
            depth++;
            i++;
        } else if (c == '}' || c == ']') {
            if (depth == 0 || ((objs >> (depth - 1)) & 1) != (c == '}'))
                return 0;
            depth--;
            i++;
        } else if (depth == 0) {
            size_t s0 = i;
            while (i < n && p[i] != ',' && p[i] != '}' && p[i] != ']' &&
                   p[i] != ' ' && p[i] != '\t' && p[i] != '\n' &&
                   p[i] != '\r' && p[i] != '"' && p[i] != '{' && p[i] != '[')
                i++;
            return i > s0 ? i : 0;
        } else {
            i++;
        }
    } while (depth > 0);
    return i;
}

/* JSON string of a text that needs no more than quotes, '"', '\\' and
 * control characters escaped (ids, org ids, timestamps). */
void body_put_str(struct buf *b, const char *s)
{
    buf_putc(b, '"');
    for (;;) {
        size_t k = 0;               /* a run that needs no escape */
        while (s[k] != '\0' && s[k] != '"' && s[k] != '\\' &&
               (unsigned char)s[k] >= 0x20)
            k++;
        buf_append(b, s, k);
        s += k;
        if (*s == '\0')
            break;
        unsigned char c = (unsigned char)*s++;
        if (c == '"' || c == '\\') {
            buf_putc(b, '\\');
            buf_putc(b, (char)c);
        } else {
            buf_printf(b, "\\u%04x", c);
        }
    }
    buf_putc(b, '"');
}



/* Where body_scan() found the top-level members that body_write() adds
 * to, and the body's "occurred_at". */
struct body_top {
    size_t top_close, src_close, pat_close;
    size_t pat_vs;                  /* where the "patient" value starts */
    bool src, pat, pat_obj;
    bool top_empty, src_empty, pat_empty;
    struct occ occ;
};

/*
 * Read a canonical event's top level for body_write() (and body_idents(),
 * which starts at its "patient"). False for a shape read otherwise: not
 * one object, an escaped or repeated "source"/"patient" key, a "source"
 * that is not an object; hub_ingest_fast then does it itself.
 */
static bool body_scan(struct slice j, struct body_top *t)
{
    const char *p = j.p;
    size_t n = j.len, i;

    memset(t, 0, sizeof(*t));
    t->occ.state = OCC_ABSENT;
    i = json_ws(p, 0, n);
    if (i >= n || p[i] != '{')
        return false;
    i = json_ws(p, i + 1, n);
    if (i < n && p[i] == '}') {
        t->top_empty = true;
        t->top_close = i;
    } else {
        for (;;) {
            bool esc = false;
            if (i >= n || p[i] != '"')
                return false;
            size_t ks = i + 1;
            i = json_skip_str(p, i, n, &esc);
            if (i == 0 || esc)
                return false;
            size_t klen = i - 1 - ks;
            i = json_ws(p, i, n);
            if (i >= n || p[i] != ':')
                return false;
            size_t vs = json_ws(p, i + 1, n);
            size_t ve = json_skip_value(p, vs, n);
            if (ve == 0)
                return false;
            if (klen == 6 && memcmp(p + ks, "source", 6) == 0) {
                if (t->src || p[vs] != '{')
                    return false;
                t->src = true;
                t->src_close = ve - 1;
                t->src_empty = json_ws(p, vs + 1, n) == t->src_close;
            } else if (klen == 11 && memcmp(p + ks, "occurred_at", 11) == 0) {
                /* the last one counts, as in jsonb; a plain string is read
                 * here, anything else in SQL */
                bool vesc = false;
                t->occ.state = OCC_SQL;
                if (p[vs] == '"' && json_skip_str(p, vs, n, &vesc) == ve &&
                    !vesc) {
                    t->occ.state = OCC_TEXT;
                    t->occ.v = (struct slice){ p + vs + 1, ve - vs - 2 };
                }
            } else if (klen == 7 && memcmp(p + ks, "patient", 7) == 0) {
                if (t->pat)
                    return false;
                t->pat = true;
                t->pat_vs = vs;
                t->pat_obj = p[vs] == '{';
                t->pat_close = ve - 1;
                t->pat_empty = json_ws(p, vs + 1, n) == t->pat_close;
            }
            i = json_ws(p, ve, n);
            if (i < n && p[i] == ',') {
                i = json_ws(p, i + 1, n);
                continue;
            }
            if (i < n && p[i] == '}') {
                t->top_close = i;
                break;
            }
            return false;
        }
    }
    return json_ws(p, t->top_close + 1, n) == n;
}

/*
 * Whether the id of STORE_ID_LEN bytes at byte offset `at` of the text is
 * its only occurrence: the SQL then writes the linked patient over it with
 * replace(), a byte search (an overlay at a position needed the body
 * converted to bytea and back, each way a copy and a UTF-8 check).
 */
bool body_id_only_at(struct slice t, const char *id, size_t at)
{
    if (at > t.len || t.len - at < STORE_ID_LEN ||
        memcmp(t.p + at, id, STORE_ID_LEN) != 0)
        return false;
    /* the first occurrence is this one, and none starts after it */
    return memmem(t.p, t.len, id, STORE_ID_LEN) == t.p + at &&
           memmem(t.p + at + 1, t.len - at - 1, id, STORE_ID_LEN) == NULL;
}

/* The bytes body_write() may add to a body: past them it gives up, and
 * the SQL sets the fields (an org id of the longest form and a made
 * "source" are too many) */
#define BODY_HUB_ROOM 192

/*
 * Write the hub fields into a canonical event's JSON text that body_scan()
 * read into *t: "id" at the top, "org" and "received_at" into "source"
 * (made when absent), "hub_id" = h->pid into "patient" when that is an
 * object and h->pid is set (*pid_in then, and *pid_at is the byte offset
 * of its first character). Each is appended as the last member of its
 * object, and jsonb keeps the last of duplicate keys, so the stored jsonb
 * equals what hub_ingest_fast makes of a body not prepared here,
 *   body || {id, source: (body->'source' or {}) || {org, received_at}}
 * with patient.hub_id set. False (nothing written) when the text did not
 * fit.
 */
static bool body_write(struct arena *a, struct slice j,
                       const struct body_top *t, const struct body_hub *h,
                       struct slice *out, bool *pid_in, size_t *pid_at)
{
    const char *p = j.p;
    size_t n = j.len;

    *pid_in = false;
    struct buf b;
    buf_init(&b, a, n + BODY_HUB_ROOM);
    size_t at = 0;
    /* the two inner insertions in text order, then the top one */
    size_t first =
        t->src && (!t->pat_obj || t->src_close < t->pat_close) ? 0 : 1;
    for (int step = 0; step < 2; step++) {
        bool do_src = (step == 0) == (first == 0);
        if (do_src && t->src) {
            buf_append(&b, p + at, t->src_close - at);
            at = t->src_close;
            buf_puts(&b, t->src_empty ? "\"org\":" : ",\"org\":");
            body_put_str(&b, h->org);
            buf_puts(&b, ",\"received_at\":");
            body_put_str(&b, h->received_at);
        } else if (!do_src && t->pat_obj && h->pid) {
            buf_append(&b, p + at, t->pat_close - at);
            at = t->pat_close;
            buf_puts(&b, t->pat_empty ? "\"hub_id\":" : ",\"hub_id\":");
            *pid_at = b.len + 1;    /* past the opening quote */
            body_put_str(&b, h->pid);
            *pid_in = true;
        }
    }
    buf_append(&b, p + at, t->top_close - at);
    buf_puts(&b, t->top_empty ? "\"id\":" : ",\"id\":");
    body_put_str(&b, h->id);
    if (!t->src) {
        buf_puts(&b, ",\"source\":{\"org\":");
        body_put_str(&b, h->org);
        buf_puts(&b, ",\"received_at\":");
        body_put_str(&b, h->received_at);
        buf_putc(&b, '}');
    }
    buf_append(&b, p + t->top_close, n - t->top_close);
    if (b.err != HUB_OK) {
        *pid_in = false;
        return false;
    }
    *out = buf_slice(&b);
    return true;
}

/* --- patient identifiers, read in C --------------------------------------- */

/* Byte order, shorter first on a tie: text's COLLATE "C" comparison */
static int slice_cmp_c(struct slice a, struct slice b)
{
    int c = memcmp(a.p, b.p, a.len < b.len ? a.len : b.len);
    if (c != 0)
        return c;
    return a.len < b.len ? -1 : a.len > b.len;
}

static int ident_cmp(const void *x, const void *y)
{
    const struct ident *a = x, *b = y;
    if (a->k != b->k)
        return a->k < b->k ? -1 : 1;
    int c = slice_cmp_c(a->sys, b->sys);
    return c ? c : slice_cmp_c(a->val, b->val);
}

/* by pair, then k: the first of each run of equal pairs is the lowest k */
static int ident_cmp_pair(const void *x, const void *y)
{
    const struct ident *a = *(const struct ident *const *)x;
    const struct ident *b = *(const struct ident *const *)y;
    int c = slice_cmp_c(a->sys, b->sys);
    if (c == 0)
        c = slice_cmp_c(a->val, b->val);
    if (c == 0 && a->k != b->k)
        c = a->k < b->k ? -1 : 1;
    return c;
}

/*
 * The next member of the object whose members start at p[*i] (just past
 * '{' or past a ','): key at [ks, ks + klen), value at [vs, ve). Returns 1
 * for a member, 0 at the closing '}', -1 for anything not read here (a key
 * with an escape, whose meaning only a JSON parser knows, included).
 */
static int json_member(const char *p, size_t n, size_t *i, size_t *ks,
                       size_t *klen, size_t *vs, size_t *ve)
{
    bool esc = false;
    size_t j = json_ws(p, *i, n);

    if (j < n && p[j] == ',')
        j = json_ws(p, j + 1, n);
    if (j < n && p[j] == '}') {
        *i = j + 1;
        return 0;
    }
    if (j >= n || p[j] != '"')
        return -1;
    *ks = j + 1;
    j = json_skip_str(p, j, n, &esc);
    if (j == 0 || esc)
        return -1;
    *klen = j - 1 - *ks;
    j = json_ws(p, j, n);
    if (j >= n || p[j] != ':')
        return -1;
    *vs = json_ws(p, j + 1, n);
    *ve = json_skip_value(p, *vs, n);
    if (*ve == 0)
        return -1;
    *i = *ve;
    return 1;
}

static bool key_is(const char *p, size_t ks, size_t klen, const char *name)
{
    return klen == strlen(name) && memcmp(p + ks, name, klen) == 0;
}

/* A member value read as ->> gives it: a string without escapes (*out),
 * null or absent (out->p NULL); false for anything else. */
static bool json_plain_str(const char *p, size_t n, size_t vs, size_t ve,
                           struct slice *out)
{
    bool esc = false;

    if (ve - vs == 4 && memcmp(p + vs, "null", 4) == 0) {
        *out = SLICE_NULL;
        return true;
    }
    if (p[vs] != '"' || json_skip_str(p, vs, n, &esc) != ve || esc)
        return false;
    *out = (struct slice){ p + vs + 1, ve - vs - 2 };
    return true;
}

static void idents_push(struct idents *l, struct ident v)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct ident *q = realloc(l->v, cap * sizeof(*q));
        if (q == NULL)
            abort();
        l->v = q;
        l->cap = cap;
    }
    l->v[l->n++] = v;
}

/*
 * The system an identifier links by, as the SQL's hub_id_system() makes
 * it: an absolute URI names one authority for everyone; any other name
 * (an HL7 v2 namespace, a CSV facility code) is the sender's own, scoped
 * by its organization, so that two hospitals' "MRN" 1234 never link; none
 * at all is the sender's.
 */
static struct slice id_system(struct arena *a, const char *org,
                              struct slice sys)
{
    static const char ns[] = ":ns:";
    bool local = sys.p != NULL && sys.len > 0;
    if (local && idsys_is_uri(sys))
        return sys;
    size_t ol = strlen(org), n = 12 + ol + (local ? 4 + sys.len : 0);
    char *u = arena_alloc(a, n);
    memcpy(u, "urn:hub:org:", 12);
    memcpy(u + 12, org, ol);
    if (local) {
        memcpy(u + 12 + ol, ns, 4);
        memcpy(u + 16 + ol, sys.p, sys.len);
    }
    return (struct slice){ u, n };
}

/* this event's pairs (from l->v[n0] on) in (system, value) order, once
 * each */
static void idents_sort(struct idents *l, size_t n0)
{
    if (l->n == n0)
        return;                     /* none (and l->v may be NULL) */
    qsort(l->v + n0, l->n - n0, sizeof(*l->v), ident_cmp);
    size_t w = n0;
    for (size_t x = n0; x < l->n; x++)
        if (w == n0 || ident_cmp(&l->v[w - 1], &l->v[x]) != 0)
            l->v[w++] = l->v[x];
    l->n = w;
}

/*
 * Append the identifiers of event k (body j, whose top level body_scan()
 * read into *t) to l, sorted and without repeats, less those marked
 * "inactive": true (never linked on). False when the body holds a shape
 * read otherwise: an escaped key on the way, a repeated "identifiers",
 * "system", "value" or "inactive", a system or value that is not a plain
 * string or null. Then nothing is appended and the SQL reads the
 * identifiers of the whole batch.
 */
static bool body_idents(struct arena *a, struct slice j,
                        const struct body_top *t, const char *org,
                        uint32_t k, struct idents *l)
{
    const char *p = j.p;
    size_t n = j.len, i, ks, klen, vs, ve, pvs = t->pat_vs, ivs = 0;
    size_t n0 = l->n;
    bool ids = false;
    int r;

    if (!t->pat || p[pvs] != '{')
        return true;                /* no patient object: none */
    for (i = pvs + 1; (r = json_member(p, n, &i, &ks, &klen, &vs, &ve)) == 1;) {
        if (key_is(p, ks, klen, "identifiers")) {
            if (ids)
                return false;
            ids = true;
            ivs = vs;
        }
    }
    if (r < 0)
        return false;
    if (!ids || p[ivs] != '[')
        return true;
    i = json_ws(p, ivs + 1, n);
    if (i < n && p[i] == ']')
        return true;
    for (;;) {
        size_t es = i, ee = json_skip_value(p, es, n);
        if (ee == 0)
            goto fail;
        if (p[es] == '{') {
            struct slice sys = SLICE_NULL, val = SLICE_NULL;
            bool has_sys = false, has_val = false, has_off = false;
            bool off = false;
            size_t m = es + 1;
            while ((r = json_member(p, n, &m, &ks, &klen, &vs, &ve)) == 1) {
                bool is_sys = key_is(p, ks, klen, "system");
                bool is_val = key_is(p, ks, klen, "value");
                bool is_off = key_is(p, ks, klen, "inactive");
                if ((is_sys && has_sys) || (is_val && has_val) ||
                    (is_off && has_off))
                    goto fail;
                if (is_sys && !json_plain_str(p, n, vs, ve, &sys))
                    goto fail;
                if (is_val && !json_plain_str(p, n, vs, ve, &val))
                    goto fail;
                if (is_off)
                    off = ve - vs == 4 && memcmp(p + vs, "true", 4) == 0;
                has_sys |= is_sys;
                has_val |= is_val;
                has_off |= is_off;
            }
            if (r < 0)
                goto fail;
            l->foreign |= idsys_hub_foreign(sys, org);
            if (val.p != NULL && val.len > 0 && !off) {
                sys = id_system(a, org, sys);
                idents_push(l, (struct ident){ k, k, sys, val });
            }
        }
        i = json_ws(p, ee, n);
        if (i < n && p[i] == ',') {
            i = json_ws(p, i + 1, n);
            continue;
        }
        if (i < n && p[i] == ']')
            break;
        goto fail;
    }
    idents_sort(l, n0);
    return true;
fail:
    l->n = n0;
    return false;
}

/* --- the same, read from the nodes of a body jcanon_parse() accepted ----- */

/*
 * A body that jcanon_parse() accepts is JSON, where the text scans above
 * and the nodes see the same members: doc_scan(), doc_idents() and
 * doc_write() give what body_scan(), body_idents(), body_write() and
 * jcanon() of the written text give, without reading the text again.
 */

static bool node_key_is(const struct jcanon_node *m, const char *name,
                        size_t len)
{
    return m->klen == len && memcmp(m->key, name, len) == 0;
}

/* body_scan() from the nodes; *src and *pat: the nodes of "source" and
 * "patient" (0: none) */
static bool doc_scan(const struct jcanon_doc *d, struct body_top *t,
                     uint32_t *src, uint32_t *pat)
{
    const struct jcanon_node *v = d->v;

    memset(t, 0, sizeof(*t));
    t->occ.state = OCC_ABSENT;
    *src = *pat = 0;
    if (v[0].type != JCANON_OBJECT)
        return false;
    t->top_empty = v[0].end == 1;
    for (uint32_t k = 1; k < v[0].end; k = v[k].end) {
        const struct jcanon_node *m = &v[k];
        if (m->kesc)
            return false;
        if (node_key_is(m, "source", 6)) {
            if (t->src || m->type != JCANON_OBJECT)
                return false;
            t->src = true;
            t->src_empty = m->end == k + 1;
            *src = k;
        } else if (node_key_is(m, "occurred_at", 11)) {
            t->occ.state = OCC_SQL;
            if (m->type == JCANON_STRING && !m->esc) {
                t->occ.state = OCC_TEXT;
                t->occ.v = (struct slice){ m->p, m->len };
            }
        } else if (node_key_is(m, "patient", 7)) {
            if (t->pat)
                return false;
            t->pat = true;
            t->pat_obj = m->type == JCANON_OBJECT;
            t->pat_empty = m->end == k + 1;
            *pat = k;
        }
    }
    return true;
}

/* json_plain_str() of a member's value */
static bool node_plain_str(const struct jcanon_node *m, struct slice *out)
{
    if (m->type == JCANON_OTHER && m->len == 4 &&
        memcmp(m->p, "null", 4) == 0) {
        *out = SLICE_NULL;
        return true;
    }
    if (m->type != JCANON_STRING || m->esc)
        return false;
    *out = (struct slice){ m->p, m->len };
    return true;
}

/* body_idents() from the nodes (pat: the "patient" member, 0: none) */
static bool doc_idents(struct arena *a, const struct jcanon_doc *d,
                       uint32_t pat, const char *org, uint32_t k,
                       struct idents *l)
{
    const struct jcanon_node *v = d->v;
    size_t n0 = l->n;
    uint32_t idn = 0;

    if (pat == 0 || v[pat].type != JCANON_OBJECT)
        return true;                /* no patient object: none */
    for (uint32_t x = pat + 1; x < v[pat].end; x = v[x].end) {
        if (v[x].kesc)
            return false;
        if (node_key_is(&v[x], "identifiers", 11)) {
            if (idn)
                return false;
            idn = x;
        }
    }
    if (idn == 0 || v[idn].type != JCANON_ARRAY)
        return true;
    for (uint32_t e = idn + 1; e < v[idn].end; e = v[e].end) {
        if (v[e].type != JCANON_OBJECT)
            continue;
        struct slice sys = SLICE_NULL, val = SLICE_NULL;
        bool has_sys = false, has_val = false, has_off = false, off = false;
        for (uint32_t x = e + 1; x < v[e].end; x = v[x].end) {
            if (v[x].kesc)
                goto fail;
            bool is_sys = node_key_is(&v[x], "system", 6);
            bool is_val = node_key_is(&v[x], "value", 5);
            bool is_off = node_key_is(&v[x], "inactive", 8);
            if ((is_sys && has_sys) || (is_val && has_val) ||
                (is_off && has_off))
                goto fail;
            if (is_sys && !node_plain_str(&v[x], &sys))
                goto fail;
            if (is_val && !node_plain_str(&v[x], &val))
                goto fail;
            if (is_off)
                off = v[x].type == JCANON_OTHER && v[x].len == 4 &&
                      memcmp(v[x].p, "true", 4) == 0;
            has_sys |= is_sys;
            has_val |= is_val;
            has_off |= is_off;
        }
        l->foreign |= idsys_hub_foreign(sys, org);
        if (val.p != NULL && val.len > 0 && !off) {
            sys = id_system(a, org, sys);
            idents_push(l, (struct ident){ k, k, sys, val });
        }
    }
    idents_sort(l, n0);
    return true;
fail:
    l->n = n0;
    return false;
}

/* The length body_put_str() gives s */
static size_t json_str_len(const char *s)
{
    size_t n = 2;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        n += c == '"' || c == '\\' ? 2 : c < 0x20 ? 6 : 1;
    }
    return n;
}

/* Valid UTF-8 (a C string: no NUL), as jcanon takes a string's bytes */
static bool utf8_text(const char *s)
{
    size_t n = strlen(s);
    return utf8_valid_prefix((const unsigned char *)s, n) == n;
}

static struct slice quote(struct arena *a, const char *s)
{
    struct slice q = SLICE_NULL;
    /* the caller checked utf8_text(): it cannot fail */
    (void)!jcanon_quote(a, s, strlen(s), &q);
    return q;
}

/*
 * The body's canonical text with the hub fields as body_write() writes
 * them (the same members, each last in its object, so it wins as there);
 * false where body_write() finds no room for them. h's strings are
 * utf8_text(). *pid_at: where the hub_id's characters start.
 */
static bool doc_write(struct arena *a, const struct jcanon_doc *d,
                      const struct body_top *t, uint32_t src, uint32_t pat,
                      const struct body_hub *h, struct slice *out,
                      bool *pid_in, size_t *pid_at)
{
    size_t org = json_str_len(h->org), at = json_str_len(h->received_at);
    size_t room = (t->top_empty ? 0 : 1) + 5 + json_str_len(h->id);
    bool hub = t->pat_obj && h->pid;

    *pid_in = false;
    if (t->src)
        room += (t->src_empty ? 0 : 1) + 6 + org + 15 + at;
    else
        room += 17 + org + 15 + at + 1;
    if (hub)
        room += (t->pat_empty ? 0 : 1) + 9 + json_str_len(h->pid);
    if (room > BODY_HUB_ROOM)
        return false;

    struct jcanon_add add[5];
    size_t n = 0, at_hub = 0;
    struct slice qorg = quote(a, h->org), qat = quote(a, h->received_at);
    if (t->src) {
        add[n++] = (struct jcanon_add){ src, "org", qorg, 0 };
        add[n++] = (struct jcanon_add){ src, "received_at", qat, 0 };
    }
    if (hub) {
        at_hub = n;
        add[n++] = (struct jcanon_add){ pat, "hub_id", quote(a, h->pid), 0 };
    }
    add[n++] = (struct jcanon_add){ 0, "id", quote(a, h->id), 0 };
    if (!t->src) {
        /* {"org": ..., "received_at": ...}: jsonb's order and spacing */
        struct buf b;
        buf_init(&b, a, qorg.len + qat.len + 32);
        buf_puts(&b, "{\"org\": ");
        buf_append(&b, qorg.p, qorg.len);
        buf_puts(&b, ", \"received_at\": ");
        buf_append(&b, qat.p, qat.len);
        buf_putc(&b, '}');
        add[n++] = (struct jcanon_add){ 0, "source", buf_slice(&b), 0 };
    }
    jcanon_write(a, d, add, n, out);
    if (hub) {
        *pid_in = true;
        *pid_at = add[at_hub].at + 1;   /* past the opening quote */
    }
    return true;
}

/* first: the lowest k carrying each pair (the list is in k order) */
void body_idents_first(struct idents *l)
{
    if (l->n < 2)
        return;
    struct ident **ix = malloc(l->n * sizeof(*ix));
    if (ix == NULL)
        abort();
    for (size_t x = 0; x < l->n; x++)
        ix[x] = &l->v[x];
    qsort(ix, l->n, sizeof(*ix), ident_cmp_pair);
    for (size_t x = 1; x < l->n; x++)
        if (slice_cmp_c(ix[x]->sys, ix[x - 1]->sys) == 0 &&
            slice_cmp_c(ix[x]->val, ix[x - 1]->val) == 0)
            ix[x]->first = ix[x - 1]->first;
    free(ix);
}


/*
 * The hub fields into a body jcanon_parse() read (as d), and its
 * identifiers into *ids, or ids->ok cleared when they are left to the
 * SQL: the top level read for both; an event without any identifier links
 * to nobody, so gets no candidate hub_id (h->pid).
 */
static void body_from_nodes(struct arena *a, struct arena *scratch,
                            const struct jcanon_doc *d,
                            const struct body_hub *h, uint32_t k,
                            struct idents *ids, struct body_out *e)
{
    struct body_top top;
    uint32_t src, pat;
    bool scanned = doc_scan(d, &top, &src, &pat);
    size_t n0 = ids->n;
    /* read even when the SQL reads the batch's, for ids->foreign */
    bool mine = scanned && doc_idents(a, d, pat, h->org, k, ids) &&
                ids->ok;

    if (!mine) {
        ids->ok = false;
        ids->n = n0;
    }
    if (scanned) {
        struct body_hub hh = *h;
        struct slice out;
        if (mine && ids->n == n0)
            hh.pid = NULL;
        e->prep = doc_write(scratch, d, &top, src, pat, &hh, &out,
                            &e->pid_in, &e->pid_at);
        if (e->prep) {
            e->body = out;
            e->occ = top.occ;
            e->canon = true;
        }
    }
    if (!e->prep)
        ids->ok = false;
}

/* body_scan(): a body it does not read is left to the SQL, identifiers
 * and all */
void body_prepare_text(struct arena *a, struct arena *scratch,
                       bool at_exact, const struct body_hub *h, uint32_t k,
                       struct idents *ids, struct body_out *e)
{
    struct body_top top;
    bool scanned = at_exact && body_scan(e->body, &top);
    size_t n0 = ids->n;
    /* read even when the SQL reads the batch's, for ids->foreign */
    bool mine = scanned && body_idents(a, e->body, &top, h->org, k, ids) &&
                ids->ok;

    if (!mine) {
        ids->ok = false;
        ids->n = n0;
    }
    if (scanned) {
        struct body_hub hh = *h;
        struct slice out;
        if (mine && ids->n == n0)
            hh.pid = NULL;
        e->prep = body_write(scratch, e->body, &top, &hh, &out, &e->pid_in,
                             &e->pid_at);
        if (e->prep) {
            e->body = out;
            e->occ = top.occ;
        }
    }
    if (!e->prep)
        ids->ok = false;
    /* jsonb's text form, made here: stored as it is (the candidate found
     * again in it, where jsonb put it) */
    struct slice ct;
    if (e->prep && jcanon(scratch, e->body.p, e->body.len, &ct)) {
        size_t at2 = 0;
        if (!e->pid_in ||
            (jcanon_find_str(ct.p, ct.len, "patient", "hub_id", &at2) &&
             ct.len - at2 > STORE_ID_LEN &&
             memcmp(ct.p + at2, h->pid, STORE_ID_LEN) == 0 &&
             ct.p[at2 + STORE_ID_LEN] == '"')) {
            e->body = ct;
            e->pid_at = at2;
            e->canon = true;
        }
    }
}

void body_prepare(struct arena *a, struct arena *scratch, bool at_exact,
                  const struct body_hub *h, uint32_t k, struct idents *ids,
                  struct body_out *e)
{
    struct jcanon_doc d;

    /* the hub's strings go into the canonical text as they are: what
     * jcanon would refuse in them is left to the text's way too */
    if (at_exact && utf8_text(h->id) && utf8_text(h->org) &&
        jcanon_parse(scratch, e->body.p, e->body.len, &d))
        body_from_nodes(a, scratch, &d, h, k, ids, e);
    else
        body_prepare_text(a, scratch, at_exact, h, k, ids, e);
}

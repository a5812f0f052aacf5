/*
 * adt_int.h - what the parts of the ADT normalizer share (adt.c, the
 * event; adt_time.c, adt_codes.c, adt_protect.c, adt_patient.c,
 * adt_visit.c): the context of one event, the warning list, and the
 * accessors that read a value and write it into the event's JSON. Not an
 * API: hl7v2.h is the adapter's.
 *
 * The accessors run for every value and are inline here, so that they
 * stay inlined in each part (the measured choices of ADT_ALWAYS_INLINE).
 * A function that one part defines for another is ADT_FN: extern between
 * the parts' objects; in the x86-64-v3 build (adt_v3.c), which compiles
 * every part in one unit, static, so that its copies neither clash with
 * the baseline's nor call them, and GCC inlines across the parts there
 * as in one file. A new part is included by adt_v3.c too: otherwise its
 * ADT_FN functions are declared static there and never defined, which
 * -Werror refuses.
 */
#ifndef HUB_ADT_INT_H
#define HUB_ADT_INT_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/dict.h"
#include "common/jw.h"
#include "hl7v2/hl7v2_int.h"

#if defined(ADT_V3)
#define ADT_FN static
#else
#define ADT_FN
#endif

/* A helper of this header that some parts do not call (not inline: GCC
 * chooses, as when it was file-local). */
#define ADT_HELPER static __attribute__((unused))

/*
 * The byte searches below compare VEC_BYTES bytes at a time: 32 with AVX2
 * (the x86-64-v3 build, adt_v3.c), 16 with SSE2. vec_set(c) is c in every
 * byte; vec_eq(q, x) the bit mask of the bytes at q equal to x's.
 */
#if defined(__AVX2__)
#include <immintrin.h>
#define ADT_VEC 1
#define VEC_BYTES 32
typedef __m256i vec;
#define vec_set(c) _mm256_set1_epi8((char)(c))
#define vec_load(q) _mm256_loadu_si256((const __m256i *)(q))
#define vec_mask(v) ((uint64_t)(uint32_t)_mm256_movemask_epi8(v))
#define vec_eq(v, x) _mm256_cmpeq_epi8((v), (x))
#define vec_or(a, b) _mm256_or_si256((a), (b))
#define vec_and(a, b) _mm256_and_si256((a), (b))
#define vec_sub(a, b) _mm256_sub_epi8((a), (b))
#define vec_zero() _mm256_setzero_si256()
/* the sum of the bytes of v */
static inline unsigned vec_sum(vec v)
{
    __m256i s = _mm256_sad_epu8(v, _mm256_setzero_si256());
    __m128i h = _mm_add_epi64(_mm256_castsi256_si128(s),
                              _mm256_extracti128_si256(s, 1));
    return (unsigned)_mm_cvtsi128_si32(h) +
           (unsigned)_mm_extract_epi16(h, 4);
}
#elif defined(__SSE2__)
#define ADT_VEC 1
#define VEC_BYTES 16
typedef __m128i vec;
#define vec_set(c) _mm_set1_epi8((char)(c))
#define vec_load(q) _mm_loadu_si128((const __m128i *)(q))
#define vec_mask(v) ((uint64_t)(uint32_t)_mm_movemask_epi8(v))
#define vec_eq(v, x) _mm_cmpeq_epi8((v), (x))
#define vec_or(a, b) _mm_or_si128((a), (b))
#define vec_and(a, b) _mm_and_si128((a), (b))
#define vec_sub(a, b) _mm_sub_epi8((a), (b))
#define vec_zero() _mm_setzero_si128()
static inline unsigned vec_sum(vec v)
{
    __m128i s = _mm_sad_epu8(v, _mm_setzero_si128());
    return (unsigned)_mm_cvtsi128_si32(s) + (unsigned)_mm_extract_epi16(s, 4);
}
#endif

#define ADT_MAX_WARNINGS HL7_MAX_WARNINGS
/* The labels of an event: as many as the dictionary may name, restricted
 * counted; a label left out would send the event where it must not go
 * (F781) */
#define ADT_MAX_LABELS DICT_MAX_LABELS
#define ADT_MAX_JSON (1u << 20)

struct ctx {
    struct arena *a;
    const struct dict *d;       /* the labels of DG1 codes; NULL: ICD-9-CM
                                   only */
    const struct hl7_msg *m;
    struct jw w;
    uint32_t lo, hi;            /* segment index range of this event */
    uint32_t dg1;               /* its first DG1, or hi */
    struct hl7_warning warn[ADT_MAX_WARNINGS];
    unsigned nwarn;
    struct hl7_warnings *all;   /* every event's warnings, for the ACK
                                   (NULL: not wanted) */
    bool pv1_required;          /* the trigger's message structure has PV1
                                   (HL7 v2.5 ch. 3) */
    bool evn1_differs;          /* EVN-1 names another trigger than
                                   MSH-9.2, which was taken */
    const char *labels[ADT_MAX_LABELS]; /* sensitivity, in the order met:
                                   from DG1 codes, from ARV-3
                                   (arv_labels), then restricted
                                   (access_restricted), which always fits */
    size_t nlabels;
    bool merged;                /* merged_from was written */
    bool merged_kept;           /* a prior identifier was the patient's
                                   own, not written (pid_keeps) */
    bool has_id[4];             /* PID-3, -2, -4 (write_identifiers): an
                                   id of the field was written, or (PID-3)
                                   CX.1 of its first repetition is not
                                   empty; the fourth pads to one store */
    bool by_message;            /* no identifier sent links: the patient
                                   is known by MSH-10 alone
                                   (write_identifiers) */
    const struct text *message_id; /* MSH-10, as the event's source has
                                   it (one_event) */
    uintptr_t in;               /* m->p, and how many of its bytes start */
    uintptr_t in16_end;         /* where the bytes that start 16 readable
                                   ones end (see put_bytes), */
    size_t invec;               /* and VEC_BYTES (find2) */
    int cs, rs;                 /* m's, or m->fs for one omitted (find2) */
#if defined(ADT_VEC)
    vec x_cs, x_rs, x_ss, x_sp; /* cs, rs, m->ss and ' ' in every byte, made
                                   once (find2, match3) */
#endif
};

/* Adds a warning (field and reason, both static text), once an event;
 * of the first segment of the field's ID that the event reads. */
ADT_FN __attribute__((noinline)) void adt_warn(struct ctx *c, const char *field,
                                               const char *what);
/* adt_warn of segment s, for a writer that reads several of an ID (PD1,
 * PV2, ARV, DG1) */
ADT_FN __attribute__((noinline)) void adt_warn_at(struct ctx *c,
                                                  const struct hl7_seg *s,
                                                  const char *field,
                                                  const char *what);

/* ---- access ------------------------------------------------------------- */

/* A value ready to write: trimmed and unescaped. `plain` when it came from
 * a field the parser found plain (see hl7v2_int.h), so that jw copies it
 * without a look; a value decoded from a special field is checked, and so
 * is one made in the arena: a plain value lies in the input (put_bytes
 * counts on it), or is a literal that only put_lit writes, or one longer
 * than 16 bytes (put_bytes copies those as they are). */
struct text {
    struct slice s;
    bool plain;
};

#define TEXT_LIT(lit) ((struct text){ SLICE_LIT(lit), true })
#define TEXT_NONE ((struct text){ SLICE_NULL, true })

/* The accessors below run for every value: inline, so that their small
 * results stay in registers. Where is left to the compiler: forced
 * everywhere, they made more code (and more instruction cache misses) for
 * no fewer instructions. */
#define ADT_INLINE static inline
/* Forced where measured to pay (callgrind over the bench corpus): the
 * split, the field lookup, a CX, a timestamp. */
#define ADT_ALWAYS_INLINE static inline __attribute__((always_inline))

ADT_ALWAYS_INLINE struct text text_of(const struct ctx *c, struct slice v,
                               int special)
{
    return (struct text){ hl7_text(c->a, c->m, v, special), !special };
}


/*
 * Objects are written as jw spans (see jw.h): their values read first, then
 * one check of room for all. ROOM_MEMBER covers a member's key, separator
 * and quotes (the longest key here is 21 bytes), room() its value at most.
 */
#define ROOM_MEMBER 32
/* put_bytes may write 16 bytes where fewer were due: every span's room
 * has that much more (span_room) */
#define ROOM_OVER 16

ADT_ALWAYS_INLINE size_t room(struct text t)
{
    /* as if escaped (6 bytes a byte at most), plain or not: one term less
     * to work out for each member, and room is only a bound */
    return ROOM_MEMBER + 6 * t.s.len;
}

ADT_ALWAYS_INLINE char *span_room(struct ctx *c, size_t n)
{
    return jw_room(&c->w, n + ROOM_OVER);
}

/*
 * A plain value to o: it lies in the input (see struct text). Most are
 * short, with at least 16 bytes of the input from their start: such a
 * value is moved as one 16-byte block, without a branch on its length
 * (the bytes moved past its end are overwritten by what follows, or lie
 * in the span's ROOM_OVER). Others go through jw_put_bytes.
 */
ADT_ALWAYS_INLINE char *put_bytes(const struct ctx *c, char *o, struct slice s)
{
#if defined(__SANITIZE_ADDRESS__)
    /* the sanitizer builds check what the tests below count on: a value
     * of 16 bytes or less lies in the input (one longer may be a literal:
     * it takes jw_put_bytes) */
    assert(s.len > 16 || (uintptr_t)s.p >= c->in);
#endif
    if (s.len <= 16 && (uintptr_t)s.p < c->in16_end) {
        memcpy(o, s.p, 16);
        return o + s.len;
    }
    if (s.len >= 4 && s.len <= 8) {
        uint32_t x, y;
        memcpy(&x, s.p, 4);
        memcpy(&y, s.p + s.len - 4, 4);
        memcpy(o, &x, 4);
        memcpy(o + s.len - 4, &y, 4);
        return o + s.len;
    }
    return jw_put_bytes(o, s.p, s.len);
}

/*
 * Members and elements in a span are written each with its comma before
 * it (the JW_KV and JW_KEY chunks start with one), and the container's
 * opening bracket is written last, over the first one's comma (span_seal):
 * no "first member" to track for each.
 */

/* ,"key":t when t is not empty (jw_put_kv, with put_bytes). */
ADT_ALWAYS_INLINE char *put_kv(const struct ctx *c, char *o, const char *chunk,
                        size_t n, struct text t)
{
    if (t.s.len == 0)
        return o;
    memcpy(o, chunk, n);
    o += n;
    if (t.plain)
        o = put_bytes(c, o, t.s);
    else
        o = jw_put_escaped(o, (const unsigned char *)t.s.p, t.s.len);
    *o++ = '"';
    return o;
}

/* put_kv for a code map's answer: a literal (TEXT_LIT, plain) or
 * nothing, never in the input, so jw_put_bytes at once. */
ADT_ALWAYS_INLINE char *put_lit(char *o, const char *chunk, size_t n,
                                struct text t)
{
    if (t.s.len == 0)
        return o;
    memcpy(o, chunk, n);
    o = jw_put_bytes(o + n, t.s.p, t.s.len);
    *o++ = '"';
    return o;
}

/* ,"t": a string element of an array (jw_put_str, with put_bytes). */
ADT_ALWAYS_INLINE char *put_str(const struct ctx *c, char *o, struct text t)
{
    o[0] = ',';
    o[1] = '"';
    o += 2;
    if (t.plain)
        o = put_bytes(c, o, t.s);
    else
        o = jw_put_escaped(o, (const unsigned char *)t.s.p, t.s.len);
    *o++ = '"';
    return o;
}

/* Close the container opened at `at` and filled up to o: its bracket
 * `open` goes over the comma of its first member, or before the closing
 * one when it has none. */
ADT_ALWAYS_INLINE char *span_seal(char *at, char *o, char open, char close)
{
    if (o == at)
        *o++ = open;
    else
        *at = open;
    *o++ = close;
    return o;
}

/* jw_key_chunk then jw_arr_begin or jw_obj_begin (open: '[' or '{'), with
 * one room and depth check: the same bytes and state as the two calls,
 * which it makes instead when either check might fail. */
ADT_ALWAYS_INLINE void key_open(struct ctx *c, const char *chunk, size_t n,
                                char open)
{
    struct jw *w = &c->w;
    struct buf *b = &w->b;
    /* no depth check: the writers here nest four deep at most */
    if (b->len + n + 2 > w->lim) {
        jw_key_chunk(w, chunk, n);
        if (open == '[')
            jw_arr_begin(w);
        else
            jw_obj_begin(w);
        return;
    }
    char *o = b->p + b->len;
    *o = ',';
    o += !w->first[w->depth];
    memcpy(o, chunk + 1, n - 1);
    o += n - 1;
    *o++ = open;
    *o = '\0';
    b->len = (size_t)(o - b->p);
    w->first[w->depth] = false;
    w->first[++w->depth] = true;
}

/* jw_arr_end, without its depth check (the writers here close only what
 * they opened). */
ADT_ALWAYS_INLINE void arr_end(struct ctx *c)
{
    struct jw *w = &c->w;
    struct buf *b = &w->b;
    if (b->len + 1 > w->lim) {
        jw_arr_end(w);
        return;
    }
    b->p[b->len++] = ']';
    b->p[b->len] = '\0';
    w->depth--;
}

/* Where a span's container starts: after the writer's separator. */
ADT_ALWAYS_INLINE char *span_open(struct ctx *c, char *o)
{
    return jw_put_sep(o, &c->w.first[c->w.depth]);
}

/*
 * The first byte of [q, end) that is c1 or c2, or end; [q, end) lies in a
 * field of the input, so a delimiter the sender omitted is given as the
 * field separator (found in no field). Values are short: VEC_BYTES are
 * looked at in one compare while that many of the input can be read at q
 * (hits past end are dropped), the last ones one by one.
 */
#if defined(ADT_VEC)
#define FIND2(c, q, end, b1, b2) find2(c, q, end, (c)->x_##b1, (c)->x_##b2, \
                                       (c)->b1, (c)->b2)
#else
#define FIND2(c, q, end, b1, b2) find2(c, q, end, (c)->b1, (c)->b2)
#endif

/* find2(c, q, end, c1, c2): FIND2 with the names of two of c's bytes,
 * each also given in every byte of a vector under SSE2 */
ADT_ALWAYS_INLINE const char *find2(const struct ctx *c, const char *q,
                                    const char *end,
#if defined(ADT_VEC)
                                    vec x1, vec x2,
#endif
                                    int c1, int c2)
{
#if defined(ADT_VEC)
    while ((uintptr_t)q - c->in < c->invec) {
        vec b = vec_load(q);
        uint64_t hit = vec_mask(vec_or(vec_eq(b, x1), vec_eq(b, x2)));
        size_t left = (size_t)(end - q);
        if (hit) {
            size_t k = (size_t)__builtin_ctzll(hit);
            return q + (k < left ? k : left);
        }
        if (left <= VEC_BYTES)
            return end;
        q += VEC_BYTES;
    }
#endif
    while (q < end && (unsigned char)*q != c1 && (unsigned char)*q != c2)
        q++;
    return q;
}

/* Whether byte ch is in v: one compare when v is short and lies in the
 * input with VEC_BYTES of it readable at v.p (a phone number), else
 * hl7_find_byte. */
ADT_ALWAYS_INLINE bool has_byte(const struct ctx *c, struct slice v, int ch)
{
#if defined(ADT_VEC)
    if (v.len <= VEC_BYTES && (uintptr_t)v.p - c->in < c->invec)
        return (vec_mask(vec_eq(vec_load(v.p), vec_set(ch))) &
                hl7_low_bits(v.len)) != 0;
#endif
    return hl7_find_byte(v.p, v.p + v.len, ch) != NULL;
}

/* A raw (still escaped) field repetition, and whether its field is
 * special (the parser noted it; most are not). */
struct raw {
    struct slice v;
    int special;
};

/* hl7_seg_field_flags for a segment that is not MSH (the callers below
 * are given PID, PV1, DG1, MRG or EVN, found by ID; a message has one MSH,
 * its first segment): no MSH numbering to look for. */
ADT_ALWAYS_INLINE struct slice seg_field(const struct ctx *c,
                                         const struct hl7_seg *s,
                                         unsigned f, unsigned *flags)
{
    const struct hl7_msg *m = c->m;
    if (s == NULL || f >= s->nf)
        return hl7_seg_field_flags(m, s, f, flags);
    uint32_t a = m->fld[s->f0 + f], b = m->fld[s->f0 + f + 1];
    *flags = a & (HL7_FLD_REP | HL7_FLD_SPECIAL);
    return (struct slice){ m->p + (a & HL7_FLD_OFF),
                           (b & HL7_FLD_OFF) - 1 - (a & HL7_FLD_OFF) };
}

/* Whether field f of s (PID, PV1, MRG: indexed, not MSH) is empty or
 * absent, by its two entries alone: a field whose next entry follows its
 * start at once. A writer passes such a field by before it sets up its
 * repetitions, which costs more (PID-2 and PID-4, withdrawn in v2.7, are
 * empty in most messages). */
ADT_ALWAYS_INLINE bool field_empty(const struct ctx *c,
                                   const struct hl7_seg *s, unsigned f)
{
    return f >= s->nf || ((c->m->fld[s->f0 + f + 1] -
                           c->m->fld[s->f0 + f]) & HL7_FLD_OFF) == 1;
}

ADT_ALWAYS_INLINE struct raw rep_raw(const struct ctx *c,
                                     const struct hl7_seg *s, unsigned f,
                                     unsigned r)
{
    unsigned fl;
    struct slice v = seg_field(c, s, f, &fl);
    if (fl & HL7_FLD_REP)
        v = hl7_piece(v, c->m->rs, r);
    else if (r > 0)
        v = SLICE_NULL;
    return (struct raw){ v, (fl & HL7_FLD_SPECIAL) != 0 };
}

/*
 * A repetition split into its components once, for the data types read
 * component by component (CX, XPN, XAD, XTN, PL, XCN). The highest component
 * read is 9 (XAD-9), so ten pieces suffice: the tenth holds the rest.
 */
#define ADT_MAX_COMPS 10

struct parts {
    const char *base;           /* the repetition (NULL: absent) */
    uint32_t st[ADT_MAX_COMPS + 1];     /* component k is base[st[k - 1],
                                           st[k] - 1) */
    unsigned n;                 /* components, 1 to ADT_MAX_COMPS */
    int special;
    bool masked;                /* a repetition of at most 64 bytes, */
    uint64_t subs;              /* and where its subcomponent separators are
                                   (bit i: base[i]) */
    bool quick;                 /* masked, not special, no subcomponent
                                   separator, no space at either end of a
                                   component: each component is its own
                                   text, as it is */
};

/*
 * Where the component and subcomponent separators and the spaces are in
 * v, a raw value of c->m of at most 64 bytes (bit i: v.p[i]); a separator
 * the sender omitted is found nowhere. One pass, VEC_BYTES at a time
 * when the 64 bytes at v.p lie inside the input (the blocks past v.len are
 * not looked at, the bits past it are dropped), else byte by byte.
 */
ADT_ALWAYS_INLINE void match3(const struct ctx *c, struct slice v,
                              uint64_t *comps, uint64_t *subs,
                              uint64_t *spaces)
{
    const struct hl7_msg *m = c->m;
    uint64_t a = 0, b = 0, d = 0;
#if defined(ADT_VEC)
    if ((size_t)(m->p + m->len - v.p) >= 64) {
        for (unsigned k = 0; k < v.len; k += VEC_BYTES) {
            vec q = vec_load(v.p + k);
            a |= vec_mask(vec_eq(q, c->x_cs)) << k;
            b |= vec_mask(vec_eq(q, c->x_ss)) << k;
            d |= vec_mask(vec_eq(q, c->x_sp)) << k;
        }
        /* an omitted separator is found nowhere: x_cs is then the field
         * separator, which v (in a field) does not hold, and x_ss a NUL,
         * which the parser refused */
        uint64_t keep = hl7_low_bits(v.len);
        *comps = a & keep;
        *subs = b & keep;
        *spaces = d & keep;
        return;
    }
#endif
    for (size_t i = 0; i < v.len; i++) {
        int ch = (unsigned char)v.p[i];
        a |= (uint64_t)(ch == m->cs) << i;
        b |= (uint64_t)(ch == m->ss) << i;
        d |= (uint64_t)(ch == ' ') << i;
    }
    *comps = a;
    *subs = b;
    *spaces = d;
}

/* Components 1 to `last` (below ADT_MAX_COMPS) and the rest after them:
 * no more than the reader of a data type needs. Most repetitions are
 * short: one look at their bytes finds both their component and their
 * subcomponent separators. */
ADT_ALWAYS_INLINE void split_as(const struct ctx *c, struct raw rep,
                                struct parts *pt, unsigned last, bool quick)
{
    unsigned n = 1;
    pt->special = rep.special;
    pt->base = rep.v.p;
    pt->st[0] = 0;
    pt->subs = 0;
    pt->quick = false;
    pt->masked = rep.v.p != NULL && rep.v.len <= 64;
    if (pt->masked) {
        uint64_t comps, spaces;
        if (quick) {
            match3(c, rep.v, &comps, &pt->subs, &spaces);
            /* the bytes that start or end a component (bit 63 of the
             * shift counts only when there are spaces: v is not empty) */
            uint64_t edges = comps << 1 | comps >> 1 | 1 |
                             (uint64_t)1 << ((rep.v.len - 1) & 63);
            pt->quick = !rep.special && pt->subs == 0 &&
                        (spaces & edges) == 0;
        } else {
            match3(c, rep.v, &comps, &pt->subs, &spaces);   /* spaces unused */
        }
        /* two a turn while both fit (one loop test less each, as the
         * parser's scan_take_fields), then the last one */
        while (comps && n < last) {
            pt->st[n] = (uint32_t)__builtin_ctzll(comps) + 1;
            comps &= comps - 1;
            if (comps == 0) {
                n++;
                break;
            }
            pt->st[n + 1] = (uint32_t)__builtin_ctzll(comps) + 1;
            comps &= comps - 1;
            n += 2;
        }
        if (comps && n <= last)
            pt->st[n++] = (uint32_t)__builtin_ctzll(comps) + 1;
    } else if (rep.v.p != NULL && c->m->cs != HL7_NO_SEP) {
        const char *q = rep.v.p, *end = rep.v.p + rep.v.len;
        while (n <= last) {
            const char *x = hl7_find_byte(q, end, c->m->cs);
            if (x == NULL)
                break;
            pt->st[n++] = (uint32_t)(x - rep.v.p) + 1;
            q = x + 1;
        }
    }
    pt->st[n] = (uint32_t)rep.v.len + 1;
    pt->n = n;
}

ADT_ALWAYS_INLINE void split(const struct ctx *c, struct raw rep,
                             struct parts *pt, unsigned last)
{
    split_as(c, rep, pt, last, false);
}

/* split, and pt->quick found: it costs a look at the spaces, and pays
 * where first subcomponents are read (part(..., 1)), which it skips. */
ADT_ALWAYS_INLINE void split_quick(const struct ctx *c, struct raw rep,
                                   struct parts *pt, unsigned last)
{
    split_as(c, rep, pt, last, true);
}

/* Component k (1 to pt->n) of pt, raw. */
ADT_ALWAYS_INLINE struct slice raw_part(const struct parts *pt, unsigned k)
{
    if (pt->base == NULL)
        return SLICE_NULL;          /* absent: no pointer arithmetic on NULL */
    return (struct slice){ pt->base + pt->st[k - 1],
                           pt->st[k] - 1 - pt->st[k - 1] };
}

/* The first subcomponent of component v of pt. */
ADT_ALWAYS_INLINE struct slice first_sub(const struct ctx *c, const struct parts *pt,
                                  struct slice v)
{
    if (!pt->masked)
        return hl7_piece(v, c->m->ss, 0);
    if (v.len == 0)
        return v;
    uint64_t in = (pt->subs >> (size_t)(v.p - pt->base)) &
                  hl7_low_bits(v.len);
    if (in)
        v.len = (size_t)__builtin_ctzll(in);
    return v;
}

/* Component k (1-based, below ADT_MAX_COMPS), subcomponent sub (0 = all). */
ADT_ALWAYS_INLINE struct text part(const struct ctx *c, const struct parts *pt,
                            unsigned k, unsigned sub)
{
    if (k == 0 || k > pt->n)
        return TEXT_NONE;
    if (pt->quick) {            /* what the lines below would make of it */
        if (sub > 1)
            return TEXT_NONE;
        /* raw_part, whose base is not NULL here */
        return (struct text){ { pt->base + pt->st[k - 1],
                                pt->st[k] - 1 - pt->st[k - 1] }, true };
    }
    struct slice v = raw_part(pt, k);
    if (sub == 1)
        v = first_sub(c, pt, v);
    else if (sub)
        v = hl7_piece(v, c->m->ss, sub - 1);
    return text_of(c, v, pt->special);
}

/* val1 for what its fast path below leaves: MSH, MRG, a field not
 * indexed, a special field. Out of line: the fast path then needs no
 * callee-saved registers. */
ADT_HELPER __attribute__((noinline)) struct text
val1_slow(const struct ctx *c, const struct hl7_seg *s, unsigned f)
{
    const struct hl7_msg *m = c->m;
    struct slice v;
    unsigned fl;
    if (s != NULL && f < s->nf && s->id[0] != 'M') {
        /* the common case, an indexed field of a segment other than MSH
         * (whose numbering is off by one): between its start and the next
         * entry, as hl7_seg_field_flags says */
        uint32_t a = m->fld[s->f0 + f], b = m->fld[s->f0 + f + 1];
        v = (struct slice){ m->p + (a & HL7_FLD_OFF),
                            (b & HL7_FLD_OFF) - 1 - (a & HL7_FLD_OFF) };
        fl = a & HL7_FLD_SPECIAL;
    } else {
        v = hl7_seg_field_flags(m, s, f, &fl);
    }
    /* up to the first component or repetition separator: a repetition
     * separator is in the field only when the parser flagged it */
    if (v.len)
        v.len = (size_t)(FIND2(c, v.p, v.p + v.len, cs, rs) - v.p);
    return text_of(c, v, (fl & HL7_FLD_SPECIAL) != 0);
}

/* SEG-f.1, the first component of its first repetition, unescaped. */
ADT_INLINE struct text val1(const struct ctx *c, const struct hl7_seg *s,
                            unsigned f)
{
    const struct hl7_msg *m = c->m;
    if (s != NULL && f < s->nf && s->id[0] != 'M') {
        uint32_t a = m->fld[s->f0 + f], b = m->fld[s->f0 + f + 1];
        if (!(a & HL7_FLD_SPECIAL)) {
            /* plain: hl7_text's trim only */
            struct slice v = { m->p + (a & HL7_FLD_OFF),
                               (b & HL7_FLD_OFF) - 1 - (a & HL7_FLD_OFF) };
            if (v.len)
                v.len = (size_t)(FIND2(c, v.p, v.p + v.len, cs, rs) - v.p);
            return text_of(c, v, 0);
        }
    }
    return val1_slow(c, s, f);
}

/*
 * val1 of the fields f[0..n) of s, into out[0..n): a segment's values read
 * in one pass (PID, PV1: a dozen a message) from a table of the fields
 * wanted, the segment's checks made once, the fields val1 would hand to
 * val1_slow handed to it. Inline: both callers' loops then run on
 * constant tables.
 */
ADT_ALWAYS_INLINE void vals1(const struct ctx *c, const struct hl7_seg *s,
                             const unsigned char *f, unsigned n,
                             struct text *out)
{
    const struct hl7_msg *m = c->m;
    if (s == NULL || s->id[0] == 'M') {
        for (unsigned k = 0; k < n; k++)
            out[k] = val1_slow(c, s, f[k]);
        return;
    }
    const uint32_t *fld = m->fld + s->f0;
    for (unsigned k = 0; k < n; k++) {
        unsigned fk = f[k];
        if (fk >= s->nf || (fld[fk] & HL7_FLD_SPECIAL)) {
            out[k] = val1_slow(c, s, fk);
            continue;
        }
        /* val1's plain case */
        uint32_t a = fld[fk], b = fld[fk + 1];
        struct slice v = { m->p + (a & HL7_FLD_OFF),
                           (b & HL7_FLD_OFF) - 1 - (a & HL7_FLD_OFF) };
        if (v.len)
            v.len = (size_t)(FIND2(c, v.p, v.p + v.len, cs, rs) - v.p);
        out[k] = text_of(c, v, 0);
    }
}

/*
 * MSH-f (f >= 3) raw, for the few MSH fields read once a message: the
 * field as hl7_seg_field_flags gives it (MSH is always indexed, its
 * field f at index f - 1), cut at its first repetition separator when it
 * has one (rep_raw's first repetition), or, with comp1, at its first
 * component or repetition separator (val1's value).
 */
ADT_ALWAYS_INLINE struct raw msh_raw(const struct ctx *c, unsigned f,
                                     bool comp1)
{
    const struct hl7_msg *m = c->m;
    const struct hl7_seg *s = &m->seg[0];
    unsigned idx = f - 1;
    if (idx >= s->nf)
        return (struct raw){ SLICE_NULL, 0 };
    uint32_t a = m->fld[s->f0 + idx];
    uint32_t start = a & HL7_FLD_OFF;
    uint32_t stop = (m->fld[s->f0 + idx + 1] & HL7_FLD_OFF) - 1;
    struct slice v = { m->p + start, stop - start };
    if (comp1)
        v.len = (size_t)(FIND2(c, v.p, v.p + v.len, cs, rs) - v.p);
    else if (a & HL7_FLD_REP)
        v.len = (size_t)(FIND2(c, v.p, v.p + v.len, rs, rs) - v.p);
    return (struct raw){ v, (a & HL7_FLD_SPECIAL) != 0 };
}

/* The byte offset of v in the message, or the MSH segment's when v is
 * not there (a field the header does not have): ERR-7 says where an MSH
 * field's error is, which was always the segment's 0 (F328). */
ADT_HELPER size_t msh_field_at(const struct ctx *c, struct slice v)
{
    const struct hl7_msg *m = c->m;
    if (v.p != NULL && v.p >= m->p && v.p <= m->p + m->len)
        return (size_t)(v.p - m->p);
    return m->seg[0].off;
}

/* text_of for the MSH values read once a message (msh_raw): a plain one
 * (most are) is trimmed here, inline; text_of's hl7_text is called out of
 * line there (GCC's choice), a call each. */
ADT_ALWAYS_INLINE struct text msh_text(const struct ctx *c, struct raw r)
{
    if (r.special)
        return (struct text){ hl7_unescape(c->a, c->m, r.v), false };
    struct slice v = r.v;
    /* hl7_text's plain case: a space at either end, or nothing */
    if (v.len && (v.p[0] == ' ' || v.p[v.len - 1] == ' '))
        v = slice_trim(v);
    return (struct text){ v, true };
}

/* slice_trim, inline for a value with no space or tab at either end (the
 * MSH values read once a message): that one is returned as it is. */
ADT_ALWAYS_INLINE struct slice trim(struct slice v)
{
    /* one compare an end: a byte up to ' ' that is no space or tab
     * (another control byte) is left by slice_trim too */
    if (v.len == 0 || ((unsigned char)v.p[0] > ' ' &&
                       (unsigned char)v.p[v.len - 1] > ' '))
        return v;
    return slice_trim(v);
}

/* Components 1 and 2 of v, raw: hl7_piece(v, cs, 0) and (v, cs, 1).
 * Inline: its two calls (MSH-9, MSH-12) take constant pointers. */
ADT_ALWAYS_INLINE void comps12(const struct ctx *c, struct slice v,
                               struct slice *c1, struct slice *c2)
{
    if (v.p == NULL) {
        *c1 = *c2 = SLICE_NULL;
        return;
    }
    const char *end = v.p + v.len, *x = FIND2(c, v.p, end, cs, cs);
    *c1 = (struct slice){ v.p, (size_t)(x - v.p) };
    if (x == end) {
        *c2 = SLICE_NULL;
        return;
    }
    const char *y = FIND2(c, x + 1, end, cs, cs);
    *c2 = (struct slice){ x + 1, (size_t)(y - x - 1) };
}

/* Walks the repetitions of a field in one pass (the parser bounded their
 * number by HL7_MAX_REPS). */
struct rep_iter {
    const char *q, *end;
    int reps, special, more;    /* reps: the field holds repetition
                                   separators */
};

ADT_ALWAYS_INLINE void reps_init(const struct ctx *c, const struct hl7_seg *s,
                          unsigned f, struct rep_iter *it)
{
    unsigned fl;
    struct slice v = seg_field(c, s, f, &fl);
    it->q = v.p;
    it->end = v.p ? v.p + v.len : NULL;
    it->reps = (fl & HL7_FLD_REP) != 0;
    it->special = (fl & HL7_FLD_SPECIAL) != 0;
    it->more = v.p != NULL;
}

ADT_ALWAYS_INLINE int reps_next(const struct ctx *c, struct rep_iter *it,
                         struct raw *out)
{
    if (!it->more)
        return 0;
    const char *x = it->reps ? FIND2(c, it->q, it->end, rs, rs) : it->end;
    if (x == it->end) {
        *out = (struct raw){ { it->q, (size_t)(it->end - it->q) },
                             it->special };
        it->more = 0;
    } else {
        *out = (struct raw){ { it->q, (size_t)(x - it->q) }, it->special };
        it->q = x + 1;
    }
    return 1;
}

/* s equals the upper-case string literal `lit` (only a literal compiles),
 * ignoring the case of s. */
#define upper_eq(s, lit) upper_eq_lit((s), "" lit, sizeof(lit) - 1)

ADT_HELPER int upper_eq_chars(const char *p, const char *lit, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 32);
        if (ch != lit[i])
            return 0;
    }
    return 1;
}

/* Inline: most comparisons in the code maps fail on the length or on the
 * first byte (c | 0x20 is the same for both cases of a letter, and equal
 * bytes stay equal), before a call. */
ADT_ALWAYS_INLINE int upper_eq_n(struct slice s, const char *lit, size_t n)
{
    return s.len == n && (s.p[0] | 0x20) == (lit[0] | 0x20) &&
           upper_eq_chars(s.p, lit, n);
}

/* Byte i of an upper-case literal of n bytes, 0x20 added: a letter's
 * lower case (made by the compiler from the literal). */
#define LIT_B(lit, n, i) \
    ((uint64_t)((i) < (n) ? ((unsigned char)(lit)[(i) < (n) ? (i) : 0] | \
                             0x20) : 0) << (8 * (i)))

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ADT_LITTLE_ENDIAN 1     /* memcpy puts byte i at bit 8i */
#else
#define ADT_LITTLE_ENDIAN 0
#endif

/* Whether byte i of the literal, if it has one, is a capital. */
#define LIT_L(lit, n, i) \
    ((i) >= (n) || ((lit)[(i) < (n) ? (i) : 0] >= 'A' && \
                    (lit)[(i) < (n) ? (i) : 0] <= 'Z'))

/* upper_eq of a literal: when it is 1 to 8 capital letters (the codes of
 * the maps; the compiler folds the test), its bytes and s's with 0x20
 * added are compared as words: a byte with 0x20 added is a capital's only
 * when it is that capital or its lower case. */
ADT_ALWAYS_INLINE int upper_eq_lit(struct slice s, const char *lit, size_t n)
{
    bool letters = ADT_LITTLE_ENDIAN && n >= 1 && n <= 8 &&
                   LIT_L(lit, n, 0) && LIT_L(lit, n, 1) &&
                   LIT_L(lit, n, 2) && LIT_L(lit, n, 3) && LIT_L(lit, n, 4) &&
                   LIT_L(lit, n, 5) && LIT_L(lit, n, 6) && LIT_L(lit, n, 7);
    if (!letters)
        return upper_eq_n(s, lit, n);
    if (s.len != n)
        return 0;
    uint64_t x = 0;
    memcpy(&x, s.p, n);
    uint64_t low = n == 8 ? 0x2020202020202020u
                          : 0x2020202020202020u &
                                (((uint64_t)1 << (8 * n)) - 1);
    uint64_t y = LIT_B(lit, n, 0) | LIT_B(lit, n, 1) | LIT_B(lit, n, 2) |
                 LIT_B(lit, n, 3) | LIT_B(lit, n, 4) | LIT_B(lit, n, 5) |
                 LIT_B(lit, n, 6) | LIT_B(lit, n, 7);
    return (x | low) == y;
}

/*
 * Members of the container the writer has open, several in one span:
 * `first` is the container's "no member yet" (w->first[w->depth]), kept
 * in a local while the span is written and stored back once. The
 * separator is jw_put_sep's.
 */
ADT_ALWAYS_INLINE char *put_member(const struct ctx *c, char *o, bool *first,
                                   const char *chunk, size_t n,
                                   struct text t)
{
    if (t.s.len == 0)
        return o;
    o = jw_put_sep(o, first);
    return put_kv(c, o, chunk + 1, n - 1, t);
}

/* put_member of a code map's answer (put_lit). */
ADT_ALWAYS_INLINE char *put_member_lit(char *o, bool *first,
                                       const char *chunk, size_t n,
                                       struct text t)
{
    if (t.s.len == 0)
        return o;
    o = jw_put_sep(o, first);
    return put_lit(o, chunk + 1, n - 1, t);
}

/* ---- the parts' entry points ------------------------------------------ */

/* adt_patient.c */

/* Fills the "patient" object one_event opened, from PID, and its
 * merged_from from MRG (mrg NULL: not a merge); the brace is left for
 * adt_write_encounter to close. */
ADT_FN void adt_write_patient(struct ctx *c, const struct hl7_seg *pid,
                              const struct hl7_seg *mrg);

/* adt_visit.c */

/* The encounter from PV1 (pv1 NULL: none sent), the diagnoses of the
 * event's DG1s and cancel_of (the trigger an A11, A12, A13, A27 or A38
 * cancels); closes what adt_write_patient left open. */
ADT_FN void adt_write_encounter(struct ctx *c, const struct hl7_seg *pv1,
                                const char *cancel_of);

/* adt_protect.c */

/*
 * Whether the sender asks that access to this event be restricted: the
 * patient's protection indicator (PD1-12, with its effective date
 * PD1-13), the visit's (PV2-22), or an access restriction in force (ARV,
 * from index `arv` of the event's segments). A value that is neither Y
 * nor N, and an N whose effective date is after the message's day (or
 * cannot be read), are read as protected, with a warning; nothing quotes
 * a value. Every PD1 and PV2 of the event is read (one says protected:
 * protected), not only the first: a message repeats them rarely, and the
 * parser says so (hl7_msg.noted_again). Out of line: half the messages
 * have a PD1 or a PV2, few say anything in these fields.
 */
ADT_FN __attribute__((noinline)) bool adt_access_restricted(struct ctx *c);

/* Whether access_restricted has anything to read (one of PD1, PV2 or ARV
 * is in the message): an ARV, or a PD1 with PD1-12 or a PV2 with PV2-22,
 * or a second PD1, PV2 or ARV; for an A40's group, any of the three in
 * the message. Most PD1 and PV2
 * end before those fields. Out of line: one_event then saves no more
 * registers for it. */
ADT_FN __attribute__((noinline)) bool adt_may_restrict(const struct ctx *c);

#endif

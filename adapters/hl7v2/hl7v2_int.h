/*
 * hl7v2_int.h - what hl7v2.c (parser, ACK) shares with adt.c (normalizer).
 * Not a public API: callers outside adapters/hl7v2 use hl7v2.h.
 *
 * The parsed message is two flat arrays made in one pass over the input:
 * segments, and the start offset of every field of every segment. A value is
 * found by index arithmetic, then split into repetitions, components and
 * subcomponents on demand (no copy); only unescaping copies, and only when
 * the value holds the escape character.
 *
 * Most fields are plain: printable ASCII without the escape character, '"'
 * or '\\'. The parser flags the others (HL7_FLD_SPECIAL), so that a plain
 * value is neither searched for escapes nor checked again by the JSON
 * writer: it is copied as it is.
 */
#ifndef HUB_HL7V2_INT_H
#define HUB_HL7V2_INT_H

#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "hl7v2/hl7v2.h"

#define HL7_NO_SEP 256          /* an encoding character the sender omitted */

/* Blank between segments or around a message: the parser's and the batch
 * envelope reader's (batch.c) */
static inline int hl7_is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* HL7 v2.5.1 ch. 2.5.4: delimiters are printable, non-alphanumeric (MSH's,
 * and FHS's and BHS's in a batch file) */
static inline int hl7_delim_ok(unsigned char c)
{
    return c > 0x20 && c < 0x7f && !((c >= '0' && c <= '9') ||
                                     (c >= 'A' && c <= 'Z') ||
                                     (c >= 'a' && c <= 'z'));
}

/* adt.c is built a second time for x86-64-v3 CPUs (adt_v3.c) where GCC
 * targets x86-64; HL7_SCAN_NO_AVX2 (the SSE2 check of hl7-equiv.sh) leaves
 * it out, so that the baseline build is the one checked there. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(HL7_SCAN_NO_AVX2)
#define HL7_HAVE_V3 1
#else
#define HL7_HAVE_V3 0
#endif

#if HL7_HAVE_V3
/* Whether the _v3 builds may run here: every feature they are compiled for
 * (x86-64-v3: AVX2, BMI1/2, LZCNT, MOVBE, FMA, F16C, ...), not only the two
 * they are chosen for, so that a CPU or VM short of one never meets an
 * illegal instruction. */
static inline int hl7_cpu_v3(void)
{
    return __builtin_cpu_supports("x86-64-v3");
}
#endif

/* m->fld[] entries: the offset, plus what the parser saw in the field, so
 * that most values are neither re-scanned for repetitions nor for escapes.
 * Offsets fit: the parser never looks past HL7_MAX_MESSAGE (< 2^30). */
#define HL7_FLD_REP (1u << 31)  /* holds a repetition separator */
#define HL7_FLD_SPECIAL (1u << 30)  /* holds the escape character or a byte
                                       JSON escapes: '"', '\\', a control
                                       byte, DEL or a byte above 0x7f (or
                                       the truncation character) */
#define HL7_FLD_OFF 0x3fffffffu

struct hl7_seg {
    uint32_t off;               /* of the segment ID in the input */
    uint32_t end;               /* one past the last byte, before CR/LF */
    uint32_t f0;                /* index of field 0 (the ID) in m->fld, or
                                   HL7_SEG_LAZY */
    uint32_t nf;                /* fields, counting the ID as field 0 (0
                                   when lazy) */
    char id[4];                 /* NUL-terminated: compared as 4 bytes */
};

/*
 * Only the segments the normalizer reads (hl7_seg_indexed) have their
 * fields indexed by the parser; the others (IN1, NK1, AL1, PV2, Z-segments:
 * a third of a typical ADT message) are checked for the same limits and
 * errors but their fields are found on access, by a scan
 * (hl7_seg_field_lazy).
 */
#define HL7_SEG_LAZY UINT32_MAX
int hl7_seg_indexed(const char id[4]);
struct slice hl7_seg_field_lazy(const struct hl7_msg *m,
                                const struct hl7_seg *s, unsigned n,
                                unsigned *flags);

/* A segment ID as one number: byte 0 in the low bits. */
#define HL7_ID3(a, b, c) \
    ((uint32_t)(unsigned char)(a) | (uint32_t)(unsigned char)(b) << 8 | \
     (uint32_t)(unsigned char)(c) << 16)

/*
 * The IDs of the segments the parser indexes (what adt.c reads; MSH, the
 * first segment, always) and of those it notes without indexing (PD1,
 * PV2, ARV: read for their protection indicators and access restrictions,
 * a field or two, in the messages that have them) each have a slot, 0 to
 * 15, by a perfect hash: the multiplier was searched for, so that the top
 * four bits of k * 0x61f8f263 differ for the nine. Any other ID lands on a
 * slot too: compare the ID.
 */
enum { HL7_SLOT_ARV = 0, HL7_SLOT_PD1 = 2, HL7_SLOT_MSH = 5,
       HL7_SLOT_MRG = 6, HL7_SLOT_DG1 = 7, HL7_SLOT_PV2 = 9,
       HL7_SLOT_PV1 = 10, HL7_SLOT_EVN = 14, HL7_SLOT_PID = 15 };

static inline unsigned hl7_id_slot(uint32_t k)
{
    return (uint32_t)(k * 0x61f8f263u) >> 28;
}

struct hl7_msg {
    const char *p;              /* the whole input, as given */
    size_t len;
    int fs, cs, rs, ec, ss, tc; /* field, component, repetition, escape,
                                   subcomponent, truncation (2.7+) */
    struct hl7_seg *seg;
    uint32_t nseg;
    uint32_t *fld;              /* field start offsets into p, and flags;
                                   after an indexed segment's nf fields,
                                   its end + 1 */
    uint32_t nfld;
    uint32_t first[16];         /* 1 + the index of the first segment of
                                   each indexed or noted ID, by
                                   hl7_id_slot; 0: none */
    unsigned char high;         /* HL7_HIGH_*: the bytes the character
                                   set check of hl7_parse looks for */
    bool noted_again;           /* a second PD1, PV2 or ARV: the
                                   normalizer reads each (adt_protect.c) */
    bool sent_l9;               /* sent: read as ISO 8859-15, else cp1252
                                   (here, where it takes no room) */
    const char *sent;           /* when p is the UTF-8 translation of a
                                   Latin or ISO 2022 text (hl7_parse): the
                                   bytes sent */
    size_t sent_len;
    const uint16_t *sent_sb;    /* ... read by this table of sbcs.h */
    const struct hl7_jis_run *jis;  /* ... read as ISO-2022-JP: its runs */
    uint32_t njis;
    struct hl7_cut *cut;        /* with HL7_HIGH_CUT (mark_truncation):
                                   who hears of the marks hl7_unescape
                                   takes off; else NULL */
};

/*
 * Who hears of a truncation character hl7_unescape takes off a value's
 * end (the sender cut the value short there): heard(arg, at), `at` the
 * mark in m->p, while `heard` is set (adt.c sets it while it writes an
 * event of a message with HL7_HIGH_CUT, and clears it after).
 */
struct hl7_cut {
    void (*heard)(void *arg, const char *at);
    void *arg;
};

/* m->high: a byte from 0x80 up was read; an ESC (0x1B) was read */
#define HL7_HIGH_8BIT 1u
#define HL7_HIGH_ESC 2u
/* ... and the text is not UTF-8 in a set MSH-18 names that hl7_parse does
 * not read (its letters past ASCII are written as U+FFFD: adt.c warns) */
#define HL7_HIGH_UNREAD 4u
/* ... or, MSH-18 declaring UTF-8, the text has bytes that are not UTF-8
 * (each is written as U+FFFD, the rest kept: adt.c warns) */
#define HL7_HIGH_BAD_UTF8 16u
/* a byte after MSH-2 is the truncation character MSH-2 declares
 * (mark_truncation; m->cut is set): adt.c warns of the values it marks */
#define HL7_HIGH_CUT 8u

/*
 * One run of an ISO-2022-JP text read through its UTF-8 translation: from
 * m->p offset u on, each code point is w bytes sent, from offset s (the
 * run's escape sequence, when it has one, starts at esc). A run starts at
 * each escape sequence, at each segment's end and after each byte that
 * could not be read, so the place of an error and the bytes an ACK echoes
 * are those sent.
 */
struct hl7_jis_run {
    uint32_t u, s, esc;
    uint32_t w;
};

/* An offset into m->p as an offset into the bytes the sender sent (they
 * differ after a Latin translation, hl7_parse), so that an error names
 * the place in what was sent. */
size_t hl7_sent_offset(const struct hl7_msg *m, size_t off);

/* Where, in m->p[from, to) (a segment), a space stands for a segment
 * separator (" PID|": a space, a segment ID, the field separator), or
 * SIZE_MAX. For refusals: a message whose CRs became spaces. */
size_t hl7_segment_run_on(const struct hl7_msg *m, size_t from, size_t to);

/* The first segment of an indexed ID, by its slot, or NULL. */
static inline const struct hl7_seg *hl7_first_seg(const struct hl7_msg *m,
                                                  unsigned slot)
{
    return m->first[slot] ? &m->seg[m->first[slot] - 1] : NULL;
}

/* The nth (0-based) segment with this ID, or NULL. */
const struct hl7_seg *hl7_seg_find(const struct hl7_msg *m, const char *id,
                                   unsigned nth);
/*
 * Field n of a segment, raw (still escaped). HL7 numbering: for MSH, field 1
 * is the field separator itself and field 2 the encoding characters.
 */
struct slice hl7_seg_field(const struct hl7_msg *m, const struct hl7_seg *s,
                           unsigned n);
/* The same, and *flags = HL7_FLD_REP | HL7_FLD_SPECIAL as seen in that
 * field. Inline, as the accessors below: the normalizer calls them for
 * every value it reads. */
static inline struct slice hl7_seg_field_flags(const struct hl7_msg *m,
                                               const struct hl7_seg *s,
                                               unsigned n, unsigned *flags)
{
    unsigned idx = n;

    *flags = 0;
    if (s == NULL)
        return SLICE_NULL;
    if (s->id[0] == 'M' && s->id[1] == 'S' && s->id[2] == 'H') {
        if (n == 1)
            return (struct slice){ m->p + s->off + 3, 1 };
        if (n >= 2)
            idx = n - 1;
    }
    if (idx >= s->nf)
        return s->f0 == HL7_SEG_LAZY ? hl7_seg_field_lazy(m, s, n, flags)
                                     : SLICE_NULL;
    uint32_t f = m->fld[s->f0 + idx];
    uint32_t start = f & HL7_FLD_OFF;
    /* the next entry: a field's start, or after the last field the end
     * of the segment + 1; for field 0 (the ID) the first one's start, or
     * the segment's end + 1 when it has none: s->off + 4 either way */
    uint32_t stop = (m->fld[s->f0 + idx + 1] & HL7_FLD_OFF) - 1;
    *flags = f & (HL7_FLD_REP | HL7_FLD_SPECIAL);
    return (struct slice){ m->p + start, stop - start };
}

/*
 * The first byte c in [q, end), or NULL. Values are short (a name, a code):
 * eight bytes at a time in a word beats memchr's set-up, and the last few
 * one by one. In a word, the lowest byte that equals c is the lowest high
 * bit of (t - ones) & ~t with t = word ^ c...c ("has zero byte"; a borrow
 * can only mark bytes above the first match).
 */
static inline const char *hl7_find_byte(const char *q, const char *end, int c)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101u;
    const uint64_t cc = ones * (unsigned char)c;
    for (; end - q >= 8; q += 8) {
        uint64_t t;
        memcpy(&t, q, 8);
        t ^= cc;
        uint64_t hit = (t - ones) & ~t & (ones << 7);
        if (hit)
            return q + __builtin_ctzll(hit) / 8;
    }
#endif
    for (; q < end; q++)
        if ((unsigned char)*q == c)
            return q;
    return NULL;
}

/* The rth (0-based) piece of v split at `sep`; empty past the end. */
static inline struct slice hl7_piece(struct slice v, int sep, unsigned r)
{
    if (v.p == NULL)
        return SLICE_NULL;          /* absent: no pointer arithmetic on NULL */
    if (sep == HL7_NO_SEP)
        return r == 0 ? v : SLICE_NULL;
    const char *q = v.p, *end = v.p + v.len;
    while (r > 0) {
        const char *x = hl7_find_byte(q, end, sep);
        if (x == NULL)
            return SLICE_NULL;
        q = x + 1;
        r--;
    }
    const char *x = hl7_find_byte(q, end, sep);
    return (struct slice){ q, (size_t)((x ? x : end) - q) };
}

/*
 * Split v at `sep` into at most `max` pieces (the last one keeps the rest)
 * in one pass; returns how many. Pieces past the count are not written.
 */
static inline unsigned hl7_split(struct slice v, int sep, struct slice *out,
                                 unsigned max)
{
    unsigned n = 0;
    if (max == 0)
        return 0;
    if (v.p == NULL || sep == HL7_NO_SEP) {
        out[0] = v;
        return 1;
    }
    const char *q = v.p, *end = v.p + v.len;
    while (n + 1 < max) {
        const char *x = hl7_find_byte(q, end, sep);
        if (x == NULL)
            break;
        out[n++] = (struct slice){ q, (size_t)(x - q) };
        q = x + 1;
    }
    out[n++] = (struct slice){ q, (size_t)(end - q) };
    return n;
}

/* The n lowest bits set (n <= 64). */
static inline uint64_t hl7_low_bits(size_t n)
{
    return n >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << n) - 1;
}

/* Number of pieces of v split at sep (1 for an empty value). */
unsigned hl7_count(struct slice v, int sep);
/*
 * Decode escape sequences (\F\ \S\ \T\ \R\ \E\ \Xhh..\ \P\); highlighting
 * (\H\ \N\) is dropped. A character set switch (\Cxxyy\, \Mxxyy[zz]\)
 * to a Japanese set that MSH-18 names (JIS X 0208, 0212, 0201 Roman or
 * Katakana) turns the text after it, up to the next switch or the end of
 * the value, into UTF-8 (glibc iconv; up to 3 bytes a byte, U+FFFD for
 * what cannot be read); other switches are dropped. Anything else unknown
 * or unterminated is kept literally. Returns v itself when it holds no
 * escape character; the HL7 null "" becomes empty; spaces at both ends are
 * trimmed, and so is the truncation character (MSH-2's fifth) at its end.
 */
struct slice hl7_unescape(struct arena *a, const struct hl7_msg *m,
                          struct slice v);
/* hl7_unescape for a value of a special field; for one of a plain field
 * (no escape character, no '"', so no HL7 null either) only the trim. */
static inline struct slice hl7_text(struct arena *a, const struct hl7_msg *m,
                                    struct slice v, int special)
{
    if (special)
        return hl7_unescape(a, m, v);
    /* a plain value holds no tab: a space at either end, or nothing */
    if (v.len && (v.p[0] == ' ' || v.p[v.len - 1] == ' '))
        return slice_trim(v);
    return v;
}

#endif

/*
 * hl7v2.c - HL7 v2.x parser, value accessors and the ACK builder.
 *
 * Parsing is one pass over the bytes: the structural bytes of the sender's
 * own delimiters (MSH-1, MSH-2), and the bytes that make a field special
 * (see hl7v2_int.h), are found 32 or 16 at a time (AVX2 where the CPU has
 * it, SSE2, else through a class table), and the pass records where each
 * segment and each field starts (a run of plain fields in one go),
 * flags fields that hold repetitions or special bytes, and enforces every
 * count limit on the way (HL7_MAX_SEGMENTS, HL7_MAX_FIELDS, HL7_MAX_REPS,
 * HL7_MAX_MESSAGE). Fields are recorded only for the segments the
 * normalizer reads; the others' field separators are passed over a block at
 * a time, and their fields found on access (hl7v2_int.h). Nothing is
 * copied; repetitions, components and subcomponents are split on demand,
 * and only values holding the escape character are decoded into the arena.
 *
 * Tolerated: a UTF-8 BOM, leading and trailing whitespace, an MLLP frame's
 * VT before MSH and FS after the last segment, SUB and NUL bytes after it
 * (a file's end), segments ended by CR, LF or CRLF, blank lines between
 * segments, blanks before a segment ID, an escape character doubled in
 * MSH-2 (a message copied out of a string literal). Refused: no MSH first,
 * bad delimiters, a segment ID that is not three letters/digits, a NUL
 * byte within the message, a second MSH (batches are split by the
 * caller), anything over a limit.
 */
#include "hl7v2/hl7v2_int.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
/* HL7_SCAN_NO_AVX2 leaves the AVX2 blocks out, so that the SSE2 path can
 * be checked on a CPU that has AVX2 (tests/tools/hl7-equiv.sh) */
#if defined(__SSE2__) && defined(__x86_64__) && defined(__GNUC__) && \
    !defined(HL7_SCAN_NO_AVX2)
#include <immintrin.h>
#define HL7_SCAN_AVX2 1         /* compiled in, used where the CPU has it */
#endif

#include "common/buf.h"
#include "common/digits.h"
#include "common/sbcs.h"
#include "common/utf8.h"

enum { C_PLAIN = 0, C_FS, C_EOL, C_NUL, C_RS, C_SPECIAL };

/* m->high of a special byte: what the character set check looks for (one
 * load, no compare, in the parse loop) */
static const unsigned char high_of[256] = {
    [0x1b] = HL7_HIGH_ESC, [0x80 ... 0xff] = HL7_HIGH_8BIT,
};

static inline int seg_id_char(unsigned char c, int first)
{
    return (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9');
}

/* seg_id_char as a table, for the parse loop: bit 0, a first byte; bit 1,
 * a second or third one. */
static const unsigned char seg_id_cls[256] = {
    ['0' ... '9'] = 2, ['A' ... 'Z'] = 3,
};

static inline uint32_t seg_id3(const char *p)
{
    return HL7_ID3(p[0], p[1], p[2]);
}

/* The ID of each slot of hl7_id_slot: an indexed ID as it is, a noted one
 * (not indexed, its first segment's place kept) with SEG_NOTED set, which
 * no ID of three bytes has. */
#define SEG_NOTED (1u << 24)
static const uint32_t seg_id_of[16] = {
    [HL7_SLOT_MSH] = HL7_ID3('M', 'S', 'H'),
    [HL7_SLOT_EVN] = HL7_ID3('E', 'V', 'N'),
    [HL7_SLOT_PID] = HL7_ID3('P', 'I', 'D'),
    [HL7_SLOT_PV1] = HL7_ID3('P', 'V', '1'),
    [HL7_SLOT_DG1] = HL7_ID3('D', 'G', '1'),
    [HL7_SLOT_MRG] = HL7_ID3('M', 'R', 'G'),
    [HL7_SLOT_PD1] = HL7_ID3('P', 'D', '1') | SEG_NOTED,
    [HL7_SLOT_PV2] = HL7_ID3('P', 'V', '2') | SEG_NOTED,
    [HL7_SLOT_ARV] = HL7_ID3('A', 'R', 'V') | SEG_NOTED,
};

/* Whether the parser indexes the fields of segment k (hl7_id_slot). */
static inline int seg_indexed(uint32_t k)
{
    return seg_id_of[hl7_id_slot(k)] == k;
}

/* "PID-3" for split index `idx` of segment `id` (MSH is off by one). */
static void field_name(char *dst, size_t n, const char *id, uint32_t idx)
{
    uint32_t f = strcmp(id, "MSH") == 0 ? idx + 1 : idx;
    snprintf(dst, n, "%s-%u", id, (unsigned)f);
}

/*
 * Finds the bytes that matter (field and repetition separators, CR, LF, NUL,
 * and the special bytes: escape character, '"', '\\', other control bytes,
 * DEL and above) 64 at a time with SSE2 where the compiler has it (AVX2
 * where the CPU has it too), then 16 near the end, keeping the hits of the
 * current block as a bit mask; byte by byte through the class table
 * otherwise, and for the last bytes. All find the same set: the bytes whose
 * class is not C_PLAIN. Why 64: when a block runs out of hits the CPU has
 * mispredicted the loop over them, most likely (how many hits a block holds
 * varies all the time); a large block runs out four times less often. The
 * masks of the next SCAN_BATCH blocks are made in one go, apart from the
 * loop that takes the hits: the two then keep their registers.
 */
#define SCAN_BATCH 8

/* The current block: what each hit reads and writes, apart from the
 * scanner (whose address scan_fill takes), so that it can stay in
 * registers. */
struct scan_cur {
    size_t base;                /* offset of bit 0 of mask */
    size_t span;                /* mask covers [base, base + span) */
    uint64_t mask;              /* hits in it not yet used */
    uint64_t fsmask;            /* those of mask that are field separators
                                   (SSE2 only; else 0) */
};

struct scanner {
    const unsigned char *p;
    size_t pos;                 /* next byte not yet loaded */
    size_t end;
    const unsigned char *cls;
    /* blocks [bnext, bcount) of the batch: the 64-byte blocks at pos */
    uint64_t bhits[SCAN_BATCH], bfs[SCAN_BATCH];
    unsigned bnext, bcount;
#if defined(__SSE2__)
    __m128i fs, rs, ec, quote, bslash, one, after_del;
#endif
#if defined(HL7_SCAN_AVX2)
    int avx2;                   /* this CPU has AVX2 */
    /* scan_fill_avx2's nibble tables (both lanes alike): a byte's class
     * bits are lo32[its low nibble] & hi32[its high nibble] */
    unsigned char lo32[32], hi32[32];
#endif
};

#if defined(HL7_SCAN_AVX2)
/* A byte of its own class in scan_fill_avx2's tables: class bit `bit`
 * at its low nibble and at its high one. */
static inline void nibble_byte(unsigned char lo[16], unsigned char hi[16],
                               unsigned c, unsigned char bit)
{
    lo[c & 15] |= bit;
    hi[c >> 4] |= bit;
}

/* The same set as scan16 in two 16-byte tables: class bit 0 for the
 * control bytes (below ' ') and those from 0x80 up (their high nibbles,
 * any low one), one bit for each single byte (DEL, '"', '\\', the
 * repetition separator, the escape character), and bit 7 for the field
 * separator alone, so that one movemask gives the field separators and a
 * compare to zero the hits. A byte has a bit only when both its nibbles
 * have it: each class is a set of high nibbles times one of low ones, so
 * the bits of a byte are exactly its classes'. */
static void nibble_tables(unsigned char lo[16], unsigned char hi[16], int fs,
                          int rs, int ec)
{
    static const unsigned char lo0[16] = {
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    };
    static const unsigned char hi0[16] = {
        1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
    };
    memcpy(lo, lo0, 16);
    memcpy(hi, hi0, 16);
    nibble_byte(lo, hi, 0x7f, 0x02);
    nibble_byte(lo, hi, '"', 0x04);
    nibble_byte(lo, hi, '\\', 0x08);
    if (rs != HL7_NO_SEP)
        nibble_byte(lo, hi, (unsigned)rs, 0x10);
    if (ec != HL7_NO_SEP)
        nibble_byte(lo, hi, (unsigned)ec, 0x20);
    nibble_byte(lo, hi, (unsigned)fs, 0x80);
}

/* nibble_tables for the delimiters nearly every sender uses ("|", "~",
 * "\\" as the escape character), both lanes, made by the compiler instead
 * of at each message */
#define STD_LO 0x01, 0x01, 0x05, 0x01, 0x01, 0x01, 0x01, 0x01, \
               0x01, 0x01, 0x01, 0x01, 0xa9, 0x01, 0x11, 0x03
#define STD_HI 0x01, 0x01, 0x04, 0x00, 0x00, 0x28, 0x00, 0x92, \
               0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01
/* low nibble 2: '"'; c: '\\' (and the escape), '|'; e: '~'; f: DEL.
 * High nibble 2: '"'; 5: '\\'; 7: DEL, '~', '|'. */
static const unsigned char std_lo32[32] = { STD_LO, STD_LO };
static const unsigned char std_hi32[32] = { STD_HI, STD_HI };
#undef STD_LO
#undef STD_HI
#endif

/* The scanner at `from`; its current block (cur) is made empty there by
 * the caller: (struct scan_cur){ from, 0, 0, 0 }. */
static void scan_init(struct scanner *sc, const char *p, size_t from,
                      size_t end, const unsigned char *cls, int fs, int rs,
                      int ec)
{
    sc->p = (const unsigned char *)p;
    sc->pos = from;
    sc->end = end;
    sc->cls = cls;
    sc->bnext = sc->bcount = 0;
#if defined(__SSE2__)
    sc->fs = _mm_set1_epi8((char)fs);
    sc->rs = _mm_set1_epi8((char)(rs == HL7_NO_SEP ? fs : rs));
    sc->ec = _mm_set1_epi8((char)(ec == HL7_NO_SEP ? fs : ec));
    sc->quote = _mm_set1_epi8('"');
    sc->bslash = _mm_set1_epi8('\\');
    sc->one = _mm_set1_epi8(1);
    sc->after_del = _mm_set1_epi8('!');
#if defined(HL7_SCAN_AVX2)
#if defined(__AVX2__)
    sc->avx2 = 1;               /* the x86-64-v3 build runs where it has */
#else
    sc->avx2 = __builtin_cpu_supports("avx2");
#endif
    if (fs == '|' && rs == '~' && ec == '\\') {
        memcpy(sc->lo32, std_lo32, 32);
        memcpy(sc->hi32, std_hi32, 32);
    } else {
        nibble_tables(sc->lo32, sc->hi32, fs, rs, ec);
        memcpy(sc->lo32 + 16, sc->lo32, 16);
        memcpy(sc->hi32 + 16, sc->hi32, 16);
    }
#endif
#else
    (void)fs;
    (void)rs;
    (void)ec;
#endif
}

#if defined(__SSE2__)
/* The hits among the 16 bytes at q, one bit each; *fsm = those that are
 * field separators. */
static inline __attribute__((always_inline)) uint64_t
scan16(const struct scanner *sc, const unsigned char *q, uint64_t *fsm)
{
    __m128i v = _mm_loadu_si128((const __m128i *)q);
    __m128i f = _mm_cmpeq_epi8(v, sc->fs);
    /* DEL, the bytes above it and the control bytes are, after adding 1,
     * the (signed) ones below '!' */
    __m128i h = _mm_or_si128(
        _mm_or_si128(f, _mm_or_si128(_mm_cmpeq_epi8(v, sc->rs),
                                     _mm_cmpeq_epi8(v, sc->ec))),
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, sc->quote),
                                  _mm_cmpeq_epi8(v, sc->bslash)),
                     _mm_cmplt_epi8(_mm_add_epi8(v, sc->one),
                                    sc->after_del)));
    *fsm = (uint64_t)(uint32_t)_mm_movemask_epi8(f);
    return (uint64_t)(uint32_t)_mm_movemask_epi8(h);
}
#endif

#if defined(HL7_SCAN_AVX2)
/* scan16 for the 32 bytes at q, on a CPU that has AVX2, by the nibble
 * tables (nibble_tables): each byte's class bits in two shuffles, the
 * field separators (bit 7) in one movemask, the bytes with no bit in
 * another (*nonhits: the complement of the hits). */
__attribute__((target("avx2"), always_inline)) static inline uint64_t
scan32_avx2(__m256i lo, __m256i hi, const unsigned char *q, uint64_t *nonhits)
{
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    __m256i v = _mm256_loadu_si256((const __m256i *)q);
    __m256i cl = _mm256_and_si256(
        _mm256_shuffle_epi8(lo, _mm256_and_si256(v, low4)),
        _mm256_shuffle_epi8(hi,
                            _mm256_and_si256(_mm256_srli_epi16(v, 4), low4)));
    *nonhits = (uint64_t)(uint32_t)_mm256_movemask_epi8(
        _mm256_cmpeq_epi8(cl, _mm256_setzero_si256()));
    return (uint64_t)(uint32_t)_mm256_movemask_epi8(cl);
}

/* The batch as scan_fill makes it, 32 bytes at a time: the same bits in a
 * quarter of the instructions (a function of its own: compiled for AVX2). */
__attribute__((target("avx2"))) static void
scan_fill_avx2(struct scanner *sc, unsigned n)
{
    const __m256i lo = _mm256_loadu_si256((const __m256i *)sc->lo32);
    const __m256i hi = _mm256_loadu_si256((const __m256i *)sc->hi32);
    const unsigned char *q = sc->p + sc->pos;
    for (unsigned b = 0; b < n; b++, q += 64) {
        uint64_t n0, n1;
        sc->bfs[b] = scan32_avx2(lo, hi, q, &n0) |
                     scan32_avx2(lo, hi, q + 32, &n1) << 32;
        sc->bhits[b] = ~(n0 | n1 << 32);
    }
}
#endif

#if defined(__SSE2__)
/* The masks of the next 64-byte blocks at pos, as many as fit in the batch
 * and before `end` (the caller checked that one does). */
static void scan_fill(struct scanner *sc)
{
    size_t room = (sc->end - sc->pos) / 64;
    unsigned n = room < SCAN_BATCH ? (unsigned)room : SCAN_BATCH;
    sc->bnext = 0;
    sc->bcount = n;
#if defined(HL7_SCAN_AVX2)
    if (sc->avx2) {
        scan_fill_avx2(sc, n);
        return;
    }
#endif
    const unsigned char *q = sc->p + sc->pos;
    for (unsigned b = 0; b < n; b++, q += 64) {
        uint64_t f0, f1, f2, f3;
        sc->bhits[b] = scan16(sc, q, &f0) | scan16(sc, q + 16, &f1) << 16 |
                       scan16(sc, q + 32, &f2) << 32 |
                       scan16(sc, q + 48, &f3) << 48;
        sc->bfs[b] = f0 | f1 << 16 | f2 << 32 | f3 << 48;
    }
}
#endif

/* Make the next 64-byte block the current one; false when fewer than 64
 * bytes are left (or without SSE2). */
static inline __attribute__((always_inline)) int
scan_load64(struct scanner *sc, struct scan_cur *cur)
{
#if defined(__SSE2__)
    if (sc->bnext == sc->bcount) {
        if (sc->end - sc->pos < 64)
            return 0;
        scan_fill(sc);
    }
    cur->mask = sc->bhits[sc->bnext];
    cur->fsmask = sc->bfs[sc->bnext++];
    cur->base = sc->pos;
    cur->span = 64;
    sc->pos += 64;
    return 1;
#else
    (void)sc;
    (void)cur;
    return 0;
#endif
}

/* The offset of the next structural byte after the last one returned, or
 * `end`. Inlined: it runs once per field of every message. */
static inline __attribute__((always_inline)) size_t
scan_next(struct scanner *sc, struct scan_cur *cur)
{
    for (;;) {
        if (cur->mask) {
            size_t at = cur->base + (size_t)__builtin_ctzll(cur->mask);
            cur->mask &= cur->mask - 1;
            return at;
        }
        if (scan_load64(sc, cur))
            continue;
#if defined(__SSE2__)
        if (sc->end - sc->pos >= 16) {
            cur->mask = scan16(sc, sc->p + sc->pos, &cur->fsmask);
            cur->base = sc->pos;
            cur->span = 16;
            sc->pos += 16;
            continue;
        }
#endif
        while (sc->pos < sc->end && sc->cls[sc->p[sc->pos]] == C_PLAIN)
            sc->pos++;
        if (sc->pos >= sc->end)
            return sc->end;
        return sc->pos++;
    }
}

/* scan_next for a segment whose fields are not indexed: its field
 * separators are passed over a block at a time (those of the current block
 * up to the hit returned are dropped, no further: the next segment may start
 * in the same block). */
static inline __attribute__((always_inline)) size_t
scan_next_other(struct scanner *sc, struct scan_cur *cur)
{
    for (;;) {
        uint64_t other = cur->mask & ~cur->fsmask;
        if (other) {
            uint64_t low = other & (0 - other);
            cur->mask &= ~(low | (low - 1));
            return cur->base + (size_t)__builtin_ctzll(other);
        }
        cur->mask = 0;
        if (scan_load64(sc, cur))
            continue;
#if defined(__SSE2__)
        if (sc->end - sc->pos >= 16) {
            cur->mask = scan16(sc, sc->p + sc->pos, &cur->fsmask);
            cur->base = sc->pos;
            cur->span = 16;
            sc->pos += 16;
            continue;
        }
#endif
        while (sc->pos < sc->end && (sc->cls[sc->p[sc->pos]] == C_PLAIN ||
                                     sc->cls[sc->p[sc->pos]] == C_FS))
            sc->pos++;
        if (sc->pos >= sc->end)
            return sc->end;
        return sc->pos++;
    }
}

/* The offset of the first structural byte at or after `from`, or `end`.
 * Blocks of the batch are taken in turn (their masks are made), the last
 * bytes are jumped over. */
static inline __attribute__((always_inline)) size_t
scan_seek(struct scanner *sc, struct scan_cur *cur, size_t from)
{
    for (;;) {
        if (from < cur->base + cur->span) {
            if (from > cur->base)
                cur->mask &= ~(((uint64_t)1 << (from - cur->base)) - 1);
            break;
        }
        cur->mask = 0;
        if (!scan_load64(sc, cur)) {
            if (from > sc->pos)
                sc->pos = from;
            break;
        }
    }
    return scan_next(sc, cur);
}

/*
 * After a field separator: the hits of the current block up to its next
 * one that is not a field separator (a CR, a repetition separator, a
 * special byte) are field starts, taken here in one go; most fields are
 * plain, so this is most of them. When that uses the block up, the run
 * goes on in the next block (a segment's fields span several: each
 * would otherwise cost a round of the caller's loop). One test per block:
 * a block holds at most 64 hits, so when `lim` is 64 fields ahead none of
 * them can reach it (else the caller takes them one by one, and meets
 * `lim`). Returns the new field count.
 */
static inline __attribute__((always_inline)) uint32_t
scan_take_fields(struct scanner *sc, struct scan_cur *cur, uint32_t *fld,
                 uint32_t nfld, uint32_t lim)
{
    for (;;) {
        uint64_t other = cur->mask & ~cur->fsmask;
        uint64_t run = cur->mask & ((other & (0 - other)) - 1);
        if (run == 0 || nfld + 64 > lim)
            return nfld;
        cur->mask &= ~run;
        uint32_t at = (uint32_t)cur->base + 1;  /* offsets fit: < 2^30 */
        uint32_t *o = fld + nfld;
        for (;;) {              /* two a turn: one loop test less each */
            o[0] = at + (uint32_t)__builtin_ctzll(run);
            run &= run - 1;
            if (run == 0) {
                o += 1;
                break;
            }
            o[1] = at + (uint32_t)__builtin_ctzll(run);
            run &= run - 1;
            o += 2;
            if (run == 0)
                break;
        }
        nfld = (uint32_t)(o - fld);
        /* the block is used up: the next one may go on with field
         * separators (scan_next would load it just the same) */
        if (cur->mask || !scan_load64(sc, cur))
            return nfld;
    }
}

/* The first field index at which the array of capacity `cap` must grow
 * or the segment whose field 0 is at `f0` has too many fields. */
static uint32_t field_limit(uint32_t f0, uint32_t cap)
{
    return cap < f0 + HL7_MAX_FIELDS ? cap : f0 + HL7_MAX_FIELDS;
}

static void *grow(struct arena *a, void *old, uint32_t n, uint32_t *cap,
                  size_t elem)
{
    uint32_t ncap = *cap * 2;
    void *p = arena_alloc(a, (size_t)ncap * elem);
    if (n)
        memcpy(p, old, (size_t)n * elem);
    *cap = ncap;
    return p;
}

/*
 * The truncation character (MSH-2's fifth, HL7 v2.7 2.5.5.2; ELR's v2.5.1
 * borrows it): a field that holds it is flagged special, so that its
 * values are read through hl7_unescape, which takes the mark off a value's
 * end. The scanner looks only for the bytes every message may hold; this
 * one few senders declare, so it is looked for here, after the parse, and
 * only then. MSH-2 declares it and is never read as a value. A message
 * that holds it anywhere else is noted (HL7_HIGH_CUT), with the m->cut
 * through which adt.c hears of the values it marks (F2842).
 */
static __attribute__((noinline, cold)) void mark_truncation(struct arena *a,
                                                            struct hl7_msg *m)
{
    bool held = false;
    for (uint32_t s = 0; s < m->nseg; s++) {
        const struct hl7_seg *sg = &m->seg[s];
        if (sg->f0 == HL7_SEG_LAZY) {
            /* hl7_seg_field_lazy flags its own fields */
            held = held || memchr(m->p + sg->off, m->tc, sg->end - sg->off);
            continue;
        }
        uint32_t k = sg->f0 + (s == 0 ? 2 : 1);     /* MSH: MSH-3 on */
        for (; k < sg->f0 + sg->nf; k++) {
            const char *q = m->p + (m->fld[k] & HL7_FLD_OFF);
            const char *stop = m->p + (m->fld[k + 1] & HL7_FLD_OFF) - 1;
            if (q < stop && memchr(q, m->tc, (size_t)(stop - q))) {
                m->fld[k] |= HL7_FLD_SPECIAL;
                held = true;
            }
        }
    }
    if (held) {
        m->cut = arena_zalloc(a, sizeof(*m->cut));
        m->high |= HL7_HIGH_CUT;
    }
}

/* hl7_parse itself, or (in hl7v2_v3.c) its x86-64-v3 build */
#if defined(HL7_V3)
#define HL7_PARSE hl7_parse_v3
int hl7_parse_v3(struct arena *a, const char *p, size_t len,
                 struct hl7_msg **out, struct hub_err *err);
#else
#define HL7_PARSE parse
static
#endif
int HL7_PARSE(struct arena *a, const char *p, size_t len,
              struct hl7_msg **out, struct hub_err *err)
{
    size_t i = 0, end = len;
    char name[32];

    *out = NULL;
    if (p == NULL)
        len = end = 0;
    /* MLLP's frame (VT before, FS CR after: a message saved or posted
     * with the bytes of its transport) and a file's end (SUB, NUL
     * padding) are no part of the message */
    if (end > 0 && p[0] != 'M') {   /* nearly every message starts MSH */
        while (i < end &&
               (hl7_is_space((unsigned char)p[i]) || p[i] == '\x0b'))
            i++;
        if (end - i >= 3 && memcmp(p + i, "\xef\xbb\xbf", 3) == 0)
            i += 3;
        while (i < end && hl7_is_space((unsigned char)p[i]))
            i++;
    }
    while (end > i && (hl7_is_space((unsigned char)p[end - 1]) ||
                       p[end - 1] == '\x1c' || p[end - 1] == '\x1a' ||
                       p[end - 1] == '\0'))
        end--;
    if (i > HL7_MAX_MESSAGE)        /* keeps every offset below 2^30 */
        return hub_err_set(err, HUB_ELIMIT, "message", 0,
                           "too much whitespace before MSH");
    if (end - i < 8 || memcmp(p + i, "MSH", 3) != 0) {
        /* a batch file (FHS/BHS header, v2.5.1 ch. 2.10.3) is not one
         * message: POST /v1/hl7v2 unwraps it (batch.c); as an MLLP frame,
         * which is answered by one ACK, it is refused, not malformed */
        if (end - i >= 4 && (memcmp(p + i, "FHS", 3) == 0 ||
                             memcmp(p + i, "BHS", 3) == 0) &&
            hl7_delim_ok((unsigned char)p[i + 3]))
            return hub_err_set(err, HUB_EUNSUPPORTED,
                               p[i] == 'F' ? "FHS" : "BHS", i,
                               "a batch file is taken whole by POST "
                               "/v1/hl7v2, not as one message: send each "
                               "message alone");
        return hub_err_set(err, HUB_ESYNTAX, "MSH", i,
                           "message does not start with an MSH segment");
    }

    /* HL7 v2.5.1 ch. 2.14.9.1: MSH-1 is the field separator itself, and
     * MSH-2 holds component, repetition, escape, subcomponent (and from
     * v2.7 truncation) characters, in that order. */
    unsigned char fs = (unsigned char)p[i + 3];
    if (!hl7_delim_ok(fs))
        return hub_err_set(err, HUB_ESYNTAX, "MSH-1", i + 3,
                           "field separator is not a valid delimiter");
    size_t e = i + 4;
    int enc[5] = { HL7_NO_SEP, HL7_NO_SEP, HL7_NO_SEP, HL7_NO_SEP,
                   HL7_NO_SEP };
    size_t nenc = 0;
    /* the delimiters nearly every sender uses: what the loop below would
     * find, without it */
    int standard = end - i >= 9 && memcmp(p + i + 3, "|^~\\&|", 6) == 0;
    if (standard) {
        enc[0] = '^';
        enc[1] = '~';
        enc[2] = '\\';
        enc[3] = '&';
        nenc = 4;
    } else {
        while (e < end && (unsigned char)p[e] != fs && p[e] != '\r' &&
               p[e] != '\n')
            e++;
    }
    for (size_t k = i + 4; k < e; k++) {
        unsigned char c = (unsigned char)p[k];
        /* "^~\\&": a doubled escape character, the mark of a message
         * copied out of a string literal; read it as one */
        if (nenc == 3 && enc[2] == c && k == i + 7)
            continue;
        if (nenc == 5)
            return hub_err_set(err, HUB_ESYNTAX, "MSH-2", k,
                               "encoding characters are too many");
        if (!hl7_delim_ok(c) || c == fs)
            return hub_err_set(err, HUB_ESYNTAX, "MSH-2", k,
                               "encoding character is not a valid delimiter");
        for (size_t q = 0; q < nenc; q++)
            if (enc[q] == c)
                return hub_err_set(err, HUB_ESYNTAX, "MSH-2", k,
                                   "encoding characters repeat");
        enc[nenc++] = c;
    }
    if (nenc == 0)
        return hub_err_set(err, HUB_ESYNTAX, "MSH-2", i + 4,
                           "encoding characters are missing");

    /* sized from the input (at most one field per 4 bytes in real feeds) so
     * that a typical message never grows them; growth stays possible */
    uint32_t segcap = (uint32_t)((end - i) / 64 + 8);
    uint32_t fldcap = (uint32_t)((end - i) / 4 + 32);
    if (end - i > HL7_MAX_MESSAGE) {
        segcap = HL7_MAX_SEGMENTS;
        fldcap = HL7_MAX_MESSAGE / 7;
    }
    /* the message, its segments and its field offsets: one allocation
     * (each part a multiple of the next one's alignment) */
    char *blk = arena_alloc(a, sizeof(struct hl7_msg) +
                                   (size_t)segcap * sizeof(struct hl7_seg) +
                                   (size_t)fldcap * sizeof(uint32_t));
    struct hl7_msg *m = (struct hl7_msg *)(void *)blk;
    memset(m, 0, sizeof(*m));
    m->seg = (struct hl7_seg *)(void *)(blk + sizeof(*m));
    m->fld = (uint32_t *)(void *)(blk + sizeof(*m) +
                                  (size_t)segcap * sizeof(struct hl7_seg));
    m->p = p;
    m->len = len;
    m->fs = fs;
    m->cs = enc[0];
    m->rs = enc[1];
    m->ec = enc[2];
    m->ss = enc[3];
    m->tc = enc[4];

    /* each byte's class (see the scanner): the standard delimiters' table
     * is made once, by the compiler */
    static const unsigned char std_cls[256] = {
        [0] = C_NUL, [1 ... '\n' - 1] = C_SPECIAL, ['\n'] = C_EOL,
        ['\n' + 1 ... '\r' - 1] = C_SPECIAL, ['\r'] = C_EOL,
        ['\r' + 1 ... ' ' - 1] = C_SPECIAL, ['"'] = C_SPECIAL,
        ['\\'] = C_SPECIAL, ['|'] = C_FS, ['~'] = C_RS,
        [0x7f ... 0xff] = C_SPECIAL,
    };
    unsigned char cls_buf[256];
    const unsigned char *cls = std_cls;
    if (!standard) {
        memset(cls_buf, C_PLAIN, sizeof(cls_buf));
        memset(cls_buf, C_SPECIAL, ' ');
        memset(cls_buf + 0x7f, C_SPECIAL, 0x81);
        cls_buf['"'] = C_SPECIAL;
        cls_buf['\\'] = C_SPECIAL;
        cls_buf[fs] = C_FS;
        cls_buf['\r'] = C_EOL;
        cls_buf['\n'] = C_EOL;
        cls_buf[0] = C_NUL;
        if (m->rs != HL7_NO_SEP)
            cls_buf[m->rs] = C_RS;
        if (m->ec != HL7_NO_SEP)
            cls_buf[m->ec] = C_SPECIAL;
        cls = cls_buf;
    }


    int too_big = end - i > HL7_MAX_MESSAGE;
    if (too_big)
        end = i + HL7_MAX_MESSAGE;  /* only MSH is read, for the ACK */
    struct scanner sc;
    struct scan_cur cur;
    scan_init(&sc, p, i, end, cls, fs, m->rs, m->ec);
    cur = (struct scan_cur){ i, 0, 0, 0 };
    /* where the segment array must grow or the message has too many
     * segments, whichever comes first */
    uint32_t seglim = segcap < HL7_MAX_SEGMENTS ? segcap : HL7_MAX_SEGMENTS;
    size_t s = i;
    while (s < end) {
        /* CRLF, blank lines, and blanks before a segment ID (segments
         * indented in a document or a string literal) are passed by
         * where the ID is refused (bad_id), and below before a limit is
         * checked: a test for them at the top of this loop cost 70
         * instructions a message (callgrind, bench corpus) */
        if (m->nseg == seglim) {    /* one test: see seglim */
            if (hl7_is_space((unsigned char)p[s])) {
                s++;
                continue;
            }
            if (m->nseg == HL7_MAX_SEGMENTS)
                return hub_err_set(err, HUB_ELIMIT, "message", s,
                                   "too many segments");
            m->seg = grow(a, m->seg, m->nseg, &segcap, sizeof(*m->seg));
            seglim = segcap < HL7_MAX_SEGMENTS ? segcap : HL7_MAX_SEGMENTS;
        }
        struct hl7_seg *sg = &m->seg[m->nseg];
        sg->off = (uint32_t)s;
        sg->f0 = m->nfld;
        /* three ID bytes, then a field separator, CR or LF (C_EOL), or
         * the end. The ID as one number: one 4-byte load when a fourth
         * byte follows (almost always). An ID the parser indexes is made
         * of letters and digits: only the others are checked byte by
         * byte. */
        uint32_t id;
        unsigned char c3 = (unsigned char)fs;   /* the byte after the ID */
        if (end - s < 3)
            goto bad_id;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        if (end - s > 3) {
            memcpy(&id, p + s, 4);
            c3 = (unsigned char)(id >> 24);
            id &= 0xffffffu;
        } else {
            id = seg_id3(p + s);
        }
#else
        id = seg_id3(p + s);
        if (end - s > 3)
            c3 = (unsigned char)p[s + 3];
#endif
        int known = seg_indexed(id);
        if ((!known && (!(seg_id_cls[(unsigned char)p[s]] & 1) ||
                        !(seg_id_cls[(unsigned char)p[s + 1]] &
                          seg_id_cls[(unsigned char)p[s + 2]] & 2))) ||
            (c3 != fs && cls[c3] != C_EOL)) {
        bad_id:
            if (hl7_is_space((unsigned char)p[s])) {
                s++;
                continue;
            }
            snprintf(name, sizeof(name), "segment[%u]", (unsigned)m->nseg);
            /* "capital": a lowercase "pid" is three letters, and the
             * sender reads this text (ERR-8) to find what is wrong */
            return hub_err_set(err, HUB_ESYNTAX, name, s,
                               "segment ID is not three capital letters "
                               "or digits");
        }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        memcpy(sg->id, &id, 4);         /* with its NUL */
#else
        memset(sg->id, 0, sizeof(sg->id));
        memcpy(sg->id, p + s, 3);
#endif
        if (id == HL7_ID3('M', 'S', 'H') && m->nseg > 0)
            return hub_err_set(err, HUB_ESYNTAX, "MSH", s,
                               "second MSH segment: one message at a time");

        size_t j;
        int indexed = m->nseg == 0 || known;
        if (!indexed) {
            /* a noted ID: where its first segment is, for the normalizer
             * (one compare a segment not indexed) */
            unsigned slot = hl7_id_slot(id);
            if (seg_id_of[slot] == (id | SEG_NOTED)) {
                if (m->first[slot] == 0)
                    m->first[slot] = m->nseg + 1;
                else
                    m->noted_again = true;
            }
            /* Not indexed: only its end is found, and whether it might
             * break a limit or hold a NUL. It cannot when it is shorter
             * than HL7_MAX_FIELDS bytes (a field takes a separator) and
             * holds fewer than HL7_MAX_REPS repetition separators; else
             * it is scanned again below, as any segment, for the precise
             * error (or for its fields). */
            uint32_t nrs = 0;
            for (j = scan_seek(&sc, &cur, s + 3); j < end;
                 j = scan_next_other(&sc, &cur)) {
                int k = cls[(unsigned char)p[j]];
                if (k == C_SPECIAL)
                    m->high |= high_of[(unsigned char)p[j]];
                if (k == C_FS || k == C_SPECIAL || k == C_PLAIN)
                    continue;
                if (k == C_RS && ++nrs < HL7_MAX_REPS)
                    continue;
                break;
            }
            if ((j >= end || cls[(unsigned char)p[j]] == C_EOL) &&
                j - s - 3 < HL7_MAX_FIELDS) {
                sg->f0 = HL7_SEG_LAZY;
                sg->end = (uint32_t)j;
                sg->nf = 0;
                m->nseg++;
                s = j + (j < end);  /* past its CR or LF */
                continue;
            }
            scan_init(&sc, p, s, end, cls, fs, m->rs, m->ec);
            cur = (struct scan_cur){ s, 0, 0, 0 };
        }

        /* locals, not m->fld[m->nfld++]: a store through a uint32_t
         * pointer could alias m->nfld, and would force reloads */
        uint32_t *fld = m->fld, nfld = m->nfld;
        if (nfld == fldcap)
            fld = grow(a, fld, nfld, &fldcap, sizeof(*fld));
        fld[nfld++] = (uint32_t)s;
        /* one test per field: `lim` is where the array must grow or the
         * segment has too many fields, whichever comes first */
        uint32_t f0 = sg->f0, lim = field_limit(f0, fldcap);
        uint32_t reps = 0, reps_of = 0;     /* repetitions of field reps_of */
        for (j = scan_seek(&sc, &cur, s + 3); j < end;
             j = scan_next(&sc, &cur)) {
            if ((unsigned char)p[j] == fs) {    /* the common case first */
                if (nfld == lim) {
                    if (nfld - f0 == HL7_MAX_FIELDS) {
                        snprintf(name, sizeof(name), "%s", sg->id);
                        /* most likely segments run together: copied from
                         * a web page, their CRs became spaces */
                        size_t at = hl7_segment_run_on(m, s, j);
                        if (at != SIZE_MAX)
                            return hub_err_set(
                                err, HUB_ELIMIT, name, at,
                                "too many fields in a segment: its segment "
                                "separator (CR) is likely missing");
                        return hub_err_set(err, HUB_ELIMIT, name, j,
                                           "too many fields in a segment");
                    }
                    fld = grow(a, fld, nfld, &fldcap, sizeof(*fld));
                    lim = field_limit(f0, fldcap);
                }
                fld[nfld++] = (uint32_t)(j + 1);
                nfld = scan_take_fields(&sc, &cur, fld, nfld, lim);
                continue;
            }
            switch (cls[(unsigned char)p[j]]) {
            case C_PLAIN:
            case C_FS:
                continue;
            case C_SPECIAL:
                fld[nfld - 1] |= HL7_FLD_SPECIAL;
                m->high |= high_of[(unsigned char)p[j]];
                continue;
            case C_RS:
                fld[nfld - 1] |= HL7_FLD_REP;
                if (reps_of != nfld) {
                    reps_of = nfld;
                    reps = 0;
                }
                if (++reps >= HL7_MAX_REPS) {
                    field_name(name, sizeof(name), sg->id, nfld - 1 - f0);
                    return hub_err_set(err, HUB_ELIMIT, name, j,
                                       "too many repetitions in a field");
                }
                continue;
            case C_NUL:
                field_name(name, sizeof(name), sg->id, nfld - 1 - f0);
                return hub_err_set(err, HUB_ESYNTAX, name, j,
                                   "message contains a NUL byte");
            case C_EOL:
                break;
            }
            break;
        }
        uint32_t nf = nfld - f0;
        /* after the fields, one past the segment's end, where a field
         * after the last would start: the stop of every field is then the
         * next entry, the last one's too (not counted in nf) */
        if (nfld == fldcap)
            fld = grow(a, fld, nfld, &fldcap, sizeof(*fld));
        fld[nfld++] = (uint32_t)j + 1;
        m->fld = fld;
        m->nfld = nfld;
        sg->end = (uint32_t)j;
        sg->nf = nf;
        m->nseg++;
        if (indexed && m->first[hl7_id_slot(id)] == 0)
            m->first[hl7_id_slot(id)] = m->nseg;
        if (m->nseg == 1) {
            /* MSH is readable: the caller can answer in the sender's
             * version and delimiters even if the rest fails */
            *out = m;
            if (too_big)
                return hub_err_set(err, HUB_ELIMIT, "message", i,
                                   "message is larger than the limit");
        }
        s = j + (j < end);      /* past its CR or LF */
    }
    if (m->tc != HL7_NO_SEP)
        mark_truncation(a, m);
    return HUB_OK;
}

/* The rest is built once (hl7v2_v3.c takes the parser alone). */
#if !defined(HL7_V3)
#if HL7_HAVE_V3
int hl7_parse_v3(struct arena *a, const char *p, size_t len,
                 struct hl7_msg **out, struct hub_err *err);
#endif

static int parse_any(struct arena *a, const char *p, size_t len,
                     struct hl7_msg **out, struct hub_err *err)
{
#if HL7_HAVE_V3
    if (hl7_cpu_v3())
        return hl7_parse_v3(a, p, len, out, err);
#endif
    return parse(a, p, len, out, err);
}

static struct slice msh(const struct hl7_msg *m, unsigned field,
                        unsigned comp);

/* Whether a repetition of MSH-18 names a Japanese set of ISO 2022: JIS X
 * 0208 ("ISO IR87") or JIS X 0212 ("ISO IR159"), table 0211. SS-MIX2
 * sends "~ISO IR87": the first repetition (the default set, ASCII) empty,
 * the second the set its escape sequences switch to. */
static bool names_iso2022_jp(const struct hl7_msg *m)
{
    struct slice f = hl7_seg_field(m, &m->seg[0], 18);
    for (unsigned k = 0, n = hl7_count(f, m->rs); k < n && k < 8; k++) {
        struct slice r = slice_trim(hl7_piece(f, m->rs, k));
        if (slice_eq(r, "ISO IR87") || slice_eq(r, "ISO IR159"))
            return true;
    }
    return false;
}

struct jis_out {
    struct arena *a;
    char *o;                    /* the UTF-8 text, room for 3 bytes a byte */
    size_t n;
    struct hl7_jis_run *run;
    uint32_t nrun, cap;
    uint32_t w;                 /* bytes a character in the current set */
};

static void jis_run(struct jis_out *j, size_t s, size_t esc)
{
    if (j->nrun && j->run[j->nrun - 1].u == j->n &&
        j->run[j->nrun - 1].esc == esc) {
        j->run[j->nrun - 1].s = (uint32_t)s;    /* the same place */
        j->run[j->nrun - 1].w = j->w;
        return;
    }
    if (j->nrun == j->cap)
        j->run = grow(j->a, j->run, j->nrun, &j->cap, sizeof(*j->run));
    j->run[j->nrun++] = (struct hl7_jis_run){ (uint32_t)j->n, (uint32_t)s,
                                              (uint32_t)esc, j->w };
}

/* p[from, to), which holds no ESC and no line end, through cd; a byte
 * that cannot be read becomes U+FFFD, and so does a character cut short.
 * Returns false when the output would not fit (it always does: no
 * character of these sets takes more than 3 UTF-8 bytes a byte). */
static bool jis_text(struct jis_out *j, iconv_t cd, const char *p,
                     size_t from, size_t to, size_t cap)
{
    char *in = (char *)p + from;
    size_t inleft = to - from;
    while (inleft) {
        char *out = j->o + j->n;
        size_t outleft = cap - j->n;
        size_t r = iconv(cd, &in, &inleft, &out, &outleft);
        j->n = (size_t)(out - j->o);
        if (r != (size_t)-1)
            break;
        if (errno == E2BIG || cap - j->n < 3)
            return false;
        /* EILSEQ, or EINVAL (half a character before an escape or a line
         * end): one character's bytes, or what is left of them */
        size_t skip = j->w < inleft ? j->w : inleft;
        memcpy(j->o + j->n, UTF8_REPLACEMENT, 3);
        j->n += 3;
        in += skip;
        inleft -= skip;
        jis_run(j, (size_t)(in - p), (size_t)(in - p));
    }
    return true;
}

/*
 * A 7-bit message with an ESC byte whose MSH-18 names a Japanese set
 * (names_iso2022_jp), as UTF-8 in `a` (else NULL), with its runs.
 * MSH-20 "ISO 2022-1994" (table 0356): escape sequences switch sets, HL7's
 * delimiters are single bytes of the default set. So the text is decoded
 * before it is split: a JIS X 0208 character can hold '^', '&', '~', '|'
 * or '\' among its two bytes (0x24 0x5E is HIRAGANA MA). glibc's iconv
 * reads it (ISO-2022-JP-2: JIS X 0208 and 0212, JIS X 0201 Roman and
 * Katakana, ASCII); iconv_open costs, so only such a message pays it.
 * Each segment starts in ASCII, whatever the last one left (the standard
 * wants ASCII at every delimiter; a sender that forgot the escape back
 * before CR would otherwise turn every segment ID after it into kanji).
 */
static const char *from_iso2022_jp(struct arena *a, const struct hl7_msg *m,
                                   const char *p, size_t len,
                                   size_t *out_len, struct jis_out *j)
{
    if (p == NULL || (m->high & (HL7_HIGH_ESC | HL7_HIGH_8BIT)) !=
                         HL7_HIGH_ESC ||
        len > HL7_MAX_MESSAGE || !names_iso2022_jp(m))
        return NULL;
    iconv_t cd = iconv_open("UTF-8", "ISO-2022-JP-2");
    if (cd == (iconv_t)-1)
        return NULL;
    size_t cap = 3 * len;
    *j = (struct jis_out){ .a = a, .o = arena_alloc(a, cap), .w = 1,
                           .cap = 16 };
    j->run = arena_alloc(a, j->cap * sizeof(*j->run));
    jis_run(j, 0, 0);
    bool ok = true;
    size_t i = 0;
    while (ok && i < len) {
        size_t k = i;
        while (k < len && p[k] != '\x1b' && p[k] != '\r' && p[k] != '\n')
            k++;
        ok = jis_text(j, cd, p, i, k, cap);
        if (!ok || k == len)
            break;
        if (p[k] != '\x1b') {
            /* a line end: back to ASCII, then the CR or LF itself */
            iconv(cd, NULL, NULL, NULL, NULL);
            if (j->w != 1) {
                j->w = 1;
                jis_run(j, k, k);
            }
            j->o[j->n++] = p[k];
            i = k + 1;
            continue;
        }
        /* an escape sequence (ISO 2022: ESC, intermediate bytes 0x20-0x2F,
         * a final byte 0x30-0x7E); ESC N and ESC O (single shifts) take
         * the character after them too */
        size_t e = k + 1;
        while (e < len && (unsigned char)p[e] >= 0x20 &&
               (unsigned char)p[e] <= 0x2f)
            e++;
        bool whole = e < len && (unsigned char)p[e] >= 0x30 &&
                     (unsigned char)p[e] <= 0x7e;
        bool shift = whole && e == k + 1 && (p[e] == 'N' || p[e] == 'O');
        e += whole ? 1u + shift : 0u;
        if (e > len)
            e = len;
        char *in = (char *)p + k, *out = j->o + j->n;
        size_t inleft = e - k, outleft = cap - j->n;
        uint32_t w = j->w;
        if (!whole ||
            iconv(cd, &in, &inleft, &out, &outleft) == (size_t)-1) {
            /* a sequence iconv does not know: U+FFFD, and ASCII after it */
            iconv(cd, NULL, NULL, NULL, NULL);
            if (cap - j->n < 3) {
                ok = false;
                break;
            }
            memcpy(j->o + j->n, UTF8_REPLACEMENT, 3);
            j->n += 3;
            j->w = 1;
            jis_run(j, e, k);
            i = e;
            continue;
        }
        if (shift) {
            /* one character of 3 bytes sent, then the set before */
            j->w = 3;
            jis_run(j, k, k);
            j->n = (size_t)(out - j->o);
            j->w = w;
            jis_run(j, e, e);
        } else {
            j->w = p[k + 1] == '$' ? 2 : 1;
            jis_run(j, e, k);
        }
        i = e;
    }
    iconv_close(cd);
    if (!ok)
        return NULL;
    *out_len = j->n;
    return j->o;
}

/* Whether cs is one of the n charset names of `names`, in any case */
static bool charset_one_of(struct slice cs, const char *const *names,
                           size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (cs.len == strlen(names[k]) &&
            strncasecmp(cs.p, names[k], cs.len) == 0)
            return true;
    return false;
}

/*
 * The Latin set an MSH-18 that is no table 0211 code names by its IANA
 * name, as engines that hand MSH-18 to their platform's charset lookup
 * write it (HAPI falls back to Java's Charset.forName: "CP1252",
 * "ISO-8859-1"): 1 for ISO 8859-1 or Windows-1252, 2 for ISO 8859-15,
 * 0 for anything else. Case does not matter in those names.
 */
static int latin_alias(struct slice cs)
{
    static const char *const l1[] = { "CP1252", "WINDOWS-1252",
                                      "ISO-8859-1", "ISO_8859-1",
                                      "ISO8859-1", "LATIN1" };
    static const char *const l9[] = { "ISO-8859-15", "ISO_8859-15",
                                      "ISO8859-15", "LATIN9" };
    if (charset_one_of(cs, l1, sizeof(l1) / sizeof(l1[0])))
        return 1;
    if (charset_one_of(cs, l9, sizeof(l9) / sizeof(l9[0])))
        return 2;
    return 0;
}

/*
 * Whether cs, an MSH-18 repetition, names a single-byte set this reads:
 * "8859/15" ISO 8859-15 (*l9); "8859/1", "ASCII" (7-bit: not what was
 * sent) or none Windows-1252, as the WHATWG Encoding Standard reads
 * Latin-1 (US feeds often leave MSH-18 empty and send Windows text); the
 * IANA names of those sets as the codes (latin_alias); the other
 * single-byte sets of table 0211 ("8859/2" to "8859/9") and the Windows
 * pages named for them ("CP1250", "CP1251") by their tables (sbcs.h; *sb).
 */
static bool names_sbcs(struct slice cs, bool *l9, const uint16_t **sb)
{
    int alias;
    *l9 = false;
    *sb = NULL;
    if (slice_eq(cs, "8859/15"))
        *l9 = true;
    else if (cs.len == 0 || slice_eq(cs, "8859/1") || slice_eq(cs, "ASCII"))
        ;
    else if ((alias = latin_alias(cs)) != 0)
        *l9 = alias == 2;
    else if ((*sb = sbcs_by_name(cs.p, cs.len)) == NULL)
        return false;
    return true;
}

/*
 * The single-byte set MSH-18 (table 0211) declares, as a message whose
 * bytes are not UTF-8 is read in it: its first repetition, the default
 * set (names_sbcs; *l9 and *sb say which). False for any other set
 * (UTF-8, the multi-byte sets), whose bytes are not guessed at, and when
 * a later repetition, a set the message switches to, is not single-byte:
 * "KS X 1001" (and DICOM's "ISO IR149"), "GB 18030-2000", "BIG-5",
 * "CNS 11643-1992", "UNICODE ..." and the Japanese sets ("ISO IR87",
 * "ISO IR159"; "ISO IR14", JIS X 0201, has no table here): behind an
 * empty default set their bytes are not Latin text.
 */
static bool declared_sbcs(const struct hl7_msg *m, bool *l9,
                          const uint16_t **sb)
{
    if (!names_sbcs(msh(m, 18, 0), l9, sb))
        return false;
    struct slice f = hl7_seg_field(m, &m->seg[0], 18);
    for (unsigned k = 1, n = hl7_count(f, m->rs); k < n && k < 8; k++) {
        struct slice r = slice_trim(hl7_piece(f, m->rs, k));
        bool l9k;
        const uint16_t *sbk;
        if (r.len && !names_sbcs(r, &l9k, &sbk))
            return false;
    }
    return true;
}

/* Whether cs, MSH-18's first repetition, declares UTF-8: table 0211's
 * "UNICODE UTF-8" (v2.5 on) or the IANA name an engine writes ("UTF-8",
 * "UTF8"), in any case. "UNICODE" alone (v2.3, ISO/IEC 10646) names no
 * encoding. */
static bool names_utf8(struct slice cs)
{
    static const char *const utf8[] = { "UNICODE UTF-8", "UTF-8", "UTF8" };
    return charset_one_of(cs, utf8, sizeof(utf8) / sizeof(utf8[0]));
}

/*
 * A message whose bytes are not valid UTF-8, as UTF-8 in `a` (else NULL),
 * read in the set MSH-18 declares (declared_sbcs; *out_l9 and *out_sb say
 * which). A message that is valid UTF-8 stays as it is whatever MSH-18
 * says (senders declare 8859/1 and send UTF-8: reading that as Latin-1
 * would garble it); another declared set is not guessed at, and m->high
 * says so (HL7_HIGH_UNREAD: its letters past ASCII become U+FFFD), and
 * a text declared UTF-8 is told apart (HL7_HIGH_BAD_UTF8: only its bytes
 * that are not UTF-8 become U+FFFD).
 */
static const char *from_latin(struct arena *a, struct hl7_msg *m,
                              const char *p, size_t len, size_t *out_len,
                              bool *out_l9, const uint16_t **out_sb)
{
    /* the parse noted a byte from 0x80 up in the message (none can be
     * outside what it read but a BOM, which is UTF-8); asked only then */
    if (p == NULL || len > HL7_MAX_MESSAGE ||
        utf8_valid_prefix((const unsigned char *)p, len) == len ||
        names_iso2022_jp(m))
        return NULL;
    bool l9;
    const uint16_t *sb;
    if (!declared_sbcs(m, &l9, &sb)) {
        /* adt.c warns: of the stray bytes of a text declared UTF-8 (its
         * letters that are UTF-8 are kept), else of a set not read */
        m->high |= names_utf8(msh(m, 18, 0)) ? HL7_HIGH_BAD_UTF8
                                              : HL7_HIGH_UNREAD;
        return NULL;
    }
    /* every byte of p becomes at most three (U+20AC, the euro sign, and
     * the other cp1252 code points above U+07FF) */
    char *u = arena_alloc(a, 3 * len);
    char *o = sb ? sbcs_to_utf8(sb, u, (const unsigned char *)p, len)
                 : latin_to_utf8(u, (const unsigned char *)p, len, l9);
    *out_len = (size_t)(o - u);
    if (sb)
        *out_sb = sb;
    else
        *out_l9 = l9;
    return u;
}

int hl7_parse(struct arena *a, const char *p, size_t len,
              struct hl7_msg **out, struct hub_err *err)
{
    int rc = parse_any(a, p, len, out, err);
    if (rc != HUB_OK)
        return rc;
    size_t ulen;
    bool l9 = false;
    const uint16_t *sb = NULL;
    struct jis_out j;
    j.nrun = 0;
    const char *u = NULL;
    if ((*out)->high & HL7_HIGH_8BIT)
        u = from_latin(a, *out, p, len, &ulen, &l9, &sb);
    if (u == NULL && ((*out)->high & HL7_HIGH_ESC))
        u = from_iso2022_jp(a, *out, p, len, &ulen, &j);
    /* the same message, two bytes for each accented letter: it parsed once,
     * so it parses again (a limit aside: then it stays as sent). An ISO
     * 2022 text may not have: it can hold delimiter bytes inside its
     * characters, which its translation no longer has. */
    struct hl7_msg *m2;
    struct hub_err e2 = { 0 };
    if (u && parse_any(a, u, ulen, &m2, &e2) == HUB_OK) {
        m2->sent = p;
        m2->sent_len = len;
        m2->sent_l9 = l9;
        m2->sent_sb = sb;
        m2->jis = j.nrun ? j.run : NULL;
        m2->njis = j.nrun;
        *out = m2;
    }
    return HUB_OK;
}

size_t hl7_segment_run_on(const struct hl7_msg *m, size_t from, size_t to)
{
    /* " PID|": a space, a segment ID, the field separator; a field's
     * text ending in a space and three capitals is rare, and this is
     * only asked of a segment that is already refused */
    for (size_t k = from + 3; k + 4 < to && k + 4 < m->len; k++)
        if (m->p[k] == ' ' && seg_id_char((unsigned char)m->p[k + 1], 1) &&
            seg_id_char((unsigned char)m->p[k + 2], 0) &&
            seg_id_char((unsigned char)m->p[k + 3], 0) &&
            (unsigned char)m->p[k + 4] == m->fs)
            return k;
    return SIZE_MAX;
}

/* An offset into the translation of an ISO-2022-JP text as one into the
 * bytes sent: in the last run that starts at or before it, or, when
 * `open` and a run starts there, at that run's escape sequence (a value
 * echoed from there holds the escape into its set). */
static size_t jis_sent_offset(const struct hl7_msg *m, size_t off, bool open)
{
    uint32_t lo = 0, hi = m->njis;      /* runs[0].u is 0 */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (m->jis[mid].u <= off)
            lo = mid;
        else
            hi = mid;
    }
    if (open)
        while (lo > 0 && m->jis[lo - 1].u == off)
            lo--;
    const struct hl7_jis_run *r = &m->jis[lo];
    if (open && r->u == off)
        return r->esc;
    size_t cp = 0;
    for (size_t k = r->u; k < off && k < m->len; k++)
        cp += ((unsigned char)m->p[k] & 0xc0) != 0x80;
    size_t s = r->s + cp * r->w;
    return s < m->sent_len ? s : m->sent_len;
}

size_t hl7_sent_offset(const struct hl7_msg *m, size_t off)
{
    if (m == NULL || m->sent == NULL)
        return off;
    if (m->jis)
        return jis_sent_offset(m, off, false);
    if (m->sent_sb)
        return sbcs_sent_offset(m->sent_sb, (const unsigned char *)m->sent,
                                m->sent_len, off);
    return latin_sent_offset((const unsigned char *)m->sent, m->sent_len,
                             m->sent_l9, off);
}

const struct hl7_seg *hl7_seg_find(const struct hl7_msg *m, const char *id,
                                   unsigned nth)
{
    if (m == NULL)
        return NULL;
    for (uint32_t k = 0; k < m->nseg; k++) {
        const struct hl7_seg *s = &m->seg[k];
        if (s->id[0] == id[0] && s->id[1] == id[1] && s->id[2] == id[2] &&
            nth-- == 0)
            return s;
    }
    return NULL;
}

int hl7_seg_indexed(const char id[4])
{
    return seg_indexed(seg_id3(id));
}

struct slice hl7_seg_field_lazy(const struct hl7_msg *m,
                                const struct hl7_seg *s, unsigned n,
                                unsigned *flags)
{
    /* the field and its flags, as the parser would have indexed them (it
     * checked this segment's bytes: no NUL, no CR or LF inside) */
    const char *q = m->p + s->off + 3, *end = m->p + s->end;
    *flags = 0;
    if (n == 0)
        return (struct slice){ m->p + s->off, 3 };
    for (unsigned k = 0; k < n; k++) {
        q = hl7_find_byte(q, end, m->fs);
        if (q == NULL)
            return SLICE_NULL;
        q++;
    }
    const char *stop = hl7_find_byte(q, end, m->fs);
    if (stop == NULL)
        stop = end;
    for (const char *x = q; x < stop; x++) {
        unsigned char c = (unsigned char)*x;
        if (c == m->rs)
            *flags |= HL7_FLD_REP;
        else if (c == m->ec || c < 0x20 || c >= 0x7f || c == '"' ||
                 c == '\\' || c == m->tc)   /* mark_truncation's */
            *flags |= HL7_FLD_SPECIAL;
    }
    return (struct slice){ q, (size_t)(stop - q) };
}

struct slice hl7_seg_field(const struct hl7_msg *m, const struct hl7_seg *s,
                           unsigned n)
{
    unsigned flags;
    return hl7_seg_field_flags(m, s, n, &flags);
}

unsigned hl7_count(struct slice v, int sep)
{
    unsigned n = 1;
    if (sep == HL7_NO_SEP || v.len == 0)
        return 1;
    for (const char *q = v.p, *end = v.p + v.len;
         (q = memchr(q, sep, (size_t)(end - q))) != NULL; q++)
        n++;
    return n;
}

/*
 * HL7 v2.3 ch. 2.9.2 (v2.5 ch. 2.7.2): \Cxxyy\ and \Mxxyy[zz]\ switch a
 * PN or XPN value to another character set: the hex digits are the bytes
 * after ESC of its ISO 2022 escape sequence (MSH-20 "2.3", table 0356:
 * HL7 escapes instead of ESC). The sets below are those glibc's
 * ISO-2022-JP-2 reads, each decoded only when a repetition of MSH-18
 * (table 0211) names it; any other switch is dropped and the text after it
 * kept as sent, as before. \C2842\ (ASCII) ends a run.
 */
struct charset {
    const char *hex;            /* the escape's digits, upper case */
    const char *msh18;          /* the MSH-18 code that declares the set */
    const char *esc;            /* its ISO 2022 escape sequence */
    unsigned char w;            /* bytes a character */
};

static const struct charset charsets[] = {
    { "2442", "ISO IR87", "\x1b$B", 2 },        /* JIS X 0208 */
    { "242844", "ISO IR159", "\x1b$(D", 2 },    /* JIS X 0212 */
    { "284A", "ISO IR14", "\x1b(J", 1 },        /* JIS X 0201 Roman */
    /* JIS X 0201 Katakana, designated to G1; its 7-bit bytes are read
     * as they would be in G0 (ESC ( I): HL7 has no shift to invoke G1 */
    { "2949", "ISO IR13", "\x1b(I", 1 },
};

/* The set of \Cxxyy\ or \Mxxyy[zz]\ (q: its code and digits), or NULL;
 * `ascii` is set for \C2842\. */
static const struct charset *charset_of(const char *q, size_t ql, bool *ascii)
{
    char hex[8];
    *ascii = false;
    if (ql < 5 || ql > 7 || ql % 2 == 0)
        return NULL;
    for (size_t k = 1; k < ql; k++) {
        if (hex_digit((unsigned char)q[k]) < 0)
            return NULL;
        hex[k - 1] = q[k] >= 'a' ? (char)(q[k] - 32) : q[k];
    }
    hex[ql - 1] = '\0';
    if (q[0] == 'C' && strcmp(hex, "2842") == 0) {
        *ascii = true;
        return NULL;
    }
    for (size_t k = 0; k < sizeof(charsets) / sizeof(charsets[0]); k++)
        if ((q[0] == 'M') == (charsets[k].w == 2) &&
            strcmp(hex, charsets[k].hex) == 0)
            return &charsets[k];
    return NULL;
}

/* Whether a repetition of MSH-18 is `code`. */
static bool msh18_names(const struct hl7_msg *m, const char *code)
{
    struct slice f = hl7_seg_field(m, &m->seg[0], 18);
    for (unsigned k = 0, n = hl7_count(f, m->rs); k < n && k < 8; k++)
        if (slice_eq(slice_trim(hl7_piece(f, m->rs, k)), code))
            return true;
    return false;
}

/*
 * raw[0..n), the bytes of a run in set cs, as UTF-8 at o (room for 3 bytes
 * a byte); returns the bytes written. A character that cannot be read
 * becomes U+FFFD (and a cut one at the end); a control byte or a space is
 * kept as it is (a \.br\ line break inside a run).
 */
static size_t charset_run(iconv_t cd, const struct charset *cs,
                          const char *raw, size_t n, char *o)
{
    char *out = o;
    size_t outleft = 3 * n + 3;
    char *in = (char *)cs->esc;
    size_t inleft = strlen(cs->esc);
    iconv(cd, NULL, NULL, NULL, NULL);
    (void)iconv(cd, &in, &inleft, &out, &outleft);    /* switch: no output */
    in = (char *)raw;
    inleft = n;
    while (inleft) {
        if (iconv(cd, &in, &inleft, &out, &outleft) != (size_t)-1)
            break;
        if (errno == E2BIG)
            break;                      /* cannot happen: see the room */
        if ((unsigned char)*in <= ' ') {
            *out++ = *in;
            outleft--;
            in++;
            inleft--;
            continue;
        }
        size_t skip = cs->w < inleft ? cs->w : inleft;
        memcpy(out, UTF8_REPLACEMENT, 3);
        out += 3;
        outleft -= 3;
        in += skip;
        inleft -= skip;
    }
    iconv(cd, NULL, NULL, NULL, NULL);
    return (size_t)(out - o);
}

/* Whether the \Xhh\ bytes from 0x80 up of o[0..n) (hex[i] true), each
 * run of them side by side, are UTF-8: a letter may be split across two
 * escapes ("\XC3\\XB6\"), not across other text. */
static bool hex_is_utf8(const unsigned char *o, size_t n, const bool *hex)
{
    for (size_t i = 0; i < n;) {
        if (!hex[i]) {
            i++;
            continue;
        }
        size_t e = i;
        while (e < n && hex[e])
            e++;
        if (utf8_valid_prefix(o + i, e - i) != e - i)
            return false;
        i = e;
    }
    return true;
}

/*
 * o[0..*n), a value with \Xhh\ bytes from 0x80 up (hl7_unescape; hex[i]
 * true for each), with those bytes read in the set MSH-18 declares, as the
 * same bytes sent unescaped are (from_latin): a Latin-1 feed's
 * "M\XFC\ller" is "Müller", not "M" U+FFFD "ller". Decided once for the
 * value, as from_latin decides once for the message: hex bytes that are
 * all UTF-8 stay UTF-8, as a message in UTF-8 does whatever MSH-18 says;
 * else every one is read in the declared set (8859-5 "ТА" is C2 B0, which
 * alone would be UTF-8 for U+00B0), and so is each of a message whose raw
 * bytes were (m->sent: it was sent in that set). In a set that is not single-byte
 * (UTF-8, the ISO 2022 sets SS-MIX2 names in MSH-18's second repetition)
 * they are left to become U+FFFD. Returns the text, *n its length.
 */
static char *hex_in_declared_set(struct arena *a, const struct hl7_msg *m,
                                 char *o, size_t *n, const bool *hex)
{
    const unsigned char *s = (const unsigned char *)o;
    bool l9;
    const uint16_t *sb;
    if ((m->sent == NULL && hex_is_utf8(s, *n, hex)) ||
        names_iso2022_jp(m) || !declared_sbcs(m, &l9, &sb))
        return o;
    char *u = arena_alloc(a, 3 * *n);   /* a byte becomes at most three */
    char *w = u;
    for (size_t i = 0; i < *n; i++) {
        if (!hex[i]) {
            *w++ = o[i];
            continue;
        }
        w = utf8_put(w, sb ? sb[s[i] - 0x80]
                           : l9 ? latin9_code_point(s[i])
                                : cp1252_code_point(s[i]));
    }
    *n = (size_t)(w - u);
    return u;
}

struct slice hl7_unescape(struct arena *a, const struct hl7_msg *m,
                          struct slice v)
{
    v = slice_trim(v);
    /* the truncation character last: the sender cut the value short
     * there, and the mark is no part of it (mark_truncation); within a
     * value it is the character itself, and escaped (\P\) always is */
    if (v.len && (unsigned char)v.p[v.len - 1] == m->tc) {
        if (m->cut && m->cut->heard)    /* adt.c warns of it (F2842) */
            m->cut->heard(m->cut->arg, v.p + v.len - 1);
        v = slice_trim((struct slice){ v.p, v.len - 1 });
    }
    if (v.len == 2 && v.p[0] == '"' && v.p[1] == '"')
        return SLICE_NULL;          /* HL7 null: "delete this value" */
    if (v.len == 0 || m->ec == HL7_NO_SEP ||
        !hl7_find_byte(v.p, v.p + v.len, m->ec))
        return v;

    /* decoded text is never longer than the escaped text, but for the
     * runs of another character set: then 3 times (run, below) */
    char *o = arena_alloc(a, v.len);
    size_t n = 0, i = 0;
    const char *s = v.p;
    const struct charset *run = NULL;   /* the set of the run at o[r..n) */
    size_t r = 0;
    bool grown = false;
    bool *hex = NULL;   /* the \Xhh\ bytes from 0x80 up, by place in o */
    iconv_t cd = (iconv_t)-1;
    for (;;) {
        if (run && (i == v.len || ((unsigned char)s[i] == m->ec &&
                                   i + 1 < v.len &&
                                   (s[i + 1] == 'C' || s[i + 1] == 'M')))) {
            /* the run ends: at the value's end, or at the next switch
             * (even one not understood: what follows is not this set).
             * Its bytes are those of a 7-bit set: a run that holds a byte
             * from 0x80 up (text read through its UTF-8 translation) or an
             * ESC is left as it was sent, as before */
            bool seven = true;
            for (size_t k = r; k < n && seven; k++)
                seven = (unsigned char)o[k] < 0x80 && o[k] != '\x1b';
            if (seven) {
                char *u = arena_alloc(a, 3 * (n - r) + 3);
                size_t un = charset_run(cd, run, o + r, n - r, u);
                memcpy(o + r, u, un);
                n = r + un;
            }
            run = NULL;
        }
        if (i == v.len)
            break;
        if ((unsigned char)s[i] != m->ec) {
            o[n++] = s[i++];
            continue;
        }
        const char *close = memchr(s + i + 1, m->ec, v.len - i - 1);
        if (close == NULL) {        /* unterminated: keep literally */
            memcpy(o + n, s + i, v.len - i);
            n += v.len - i;
            i = v.len;
            continue;
        }
        const char *q = s + i + 1;
        size_t ql = (size_t)(close - q);
        int sep = -1;               /* -1: keep the sequence literally */
        if (ql == 1) {
            switch (q[0]) {
            case 'F': sep = m->fs; break;
            case 'S': sep = m->cs; break;
            case 'T': sep = m->ss; break;
            case 'R': sep = m->rs; break;
            case 'E': sep = m->ec; break;
            case 'P': sep = m->tc; break;
            case 'H': case 'N': sep = -2; break;    /* highlighting: drop */
            }
            if (sep == HL7_NO_SEP)
                sep = -1;
        } else if (ql >= 3 && ql % 2 == 1 && q[0] == 'X') {
            size_t k;
            for (k = 1; k < ql && hex_digit((unsigned char)q[k]) >= 0; k++)
                ;
            if (k == ql) {
                for (k = 1; k < ql; k += 2) {
                    int b = hex_digit((unsigned char)q[k]) << 4 |
                            hex_digit((unsigned char)q[k + 1]);
                    if (b == 0)     /* NUL cannot reach jsonb */
                        continue;
                    if (b >= 0x80 && hex == NULL)   /* o's most: run */
                        hex = arena_zalloc(a, 3 * v.len + 3);
                    if (b >= 0x80)
                        hex[n] = true;
                    o[n++] = (char)b;
                }
                sep = -3;
            }
        } else if (ql == 3 && memcmp(q, ".br", 3) == 0) {
            sep = '\n';             /* formatted text line break */
        } else if (ql >= 1 && (q[0] == 'C' || q[0] == 'M')) {
            sep = -2;               /* charset switch: drop */
            bool ascii;
            const struct charset *cs = charset_of(q, ql, &ascii);
            if (cs && msh18_names(m, cs->msh18)) {
                if (cd == (iconv_t)-1)
                    cd = iconv_open("UTF-8", "ISO-2022-JP-2");
                if (cd != (iconv_t)-1) {
                    if (!grown) {
                        /* a run's UTF-8 takes at most 3 bytes a byte
                         * (charset_run): the text, 3 times what it
                         * came from */
                        char *big = arena_alloc(a, 3 * v.len + 3);
                        memcpy(big, o, n);
                        o = big;
                        grown = true;
                    }
                    run = cs;
                    r = n;
                }
            }
        } else if (ql >= 1 && q[0] == '.') {
            sep = -2;               /* formatting: drop */
        }
        if (sep >= 0) {
            o[n++] = (char)sep;
        } else if (sep == -1) {
            memcpy(o + n, s + i, ql + 2);
            n += ql + 2;
        }
        i += ql + 2;
    }
    if (cd != (iconv_t)-1)
        iconv_close(cd);
    if (hex)
        o = hex_in_declared_set(a, m, o, &n, hex);
    return slice_trim((struct slice){ o, n });
}

struct slice hl7_get(struct arena *a, const struct hl7_msg *m, const char *seg,
                     unsigned nth, unsigned field, unsigned rep, unsigned comp,
                     unsigned sub)
{
    const struct hl7_seg *s = hl7_seg_find(m, seg, nth);
    if (s == NULL)
        return SLICE_NULL;
    struct slice v = hl7_seg_field(m, s, field);
    if (!(s->id[0] == 'M' && s->id[1] == 'S' && s->id[2] == 'H' &&
          field <= 2))
        v = hl7_piece(v, m->rs, rep);
    else
        return v;                   /* MSH-1, MSH-2: never split */
    if (comp) {
        v = hl7_piece(v, m->cs, comp - 1);
        if (sub)
            v = hl7_piece(v, m->ss, sub - 1);
    }
    return hl7_unescape(a, m, v);
}

static struct slice msh(const struct hl7_msg *m, unsigned field, unsigned comp)
{
    if (m == NULL || m->nseg == 0)
        return SLICE_NULL;
    struct slice v = hl7_seg_field(m, &m->seg[0], field);
    v = hl7_piece(v, m->rs, 0);
    if (comp)
        v = hl7_piece(v, m->cs, comp - 1);
    return slice_trim(v);
}

struct slice hl7_control_id(const struct hl7_msg *m)
{
    return msh(m, 10, 0);
}

struct slice hl7_message_type(const struct hl7_msg *m)
{
    return msh(m, 9, 1);
}

struct slice hl7_trigger(const struct hl7_msg *m)
{
    return msh(m, 9, 2);
}

struct slice hl7_version(const struct hl7_msg *m)
{
    return msh(m, 12, 1);
}

struct slice hl7_processing_id(const struct hl7_msg *m, size_t *offset)
{
    struct slice v = msh(m, 11, 1);
    if (offset) {
        size_t off = 0;
        if (m && m->nseg)
            off = v.p ? (size_t)(v.p - m->p) : m->seg[0].off;
        *offset = hl7_sent_offset(m, off);
    }
    return v;
}

struct slice hl7_sending_application(const struct hl7_msg *m)
{
    return msh(m, 3, 1);
}

struct slice hl7_sending_facility(const struct hl7_msg *m)
{
    return msh(m, 4, 1);
}

/* ---- ACK ---------------------------------------------------------------- */

/* "2.3.1" -> 231, "2.5" -> 250, "2.8.2" -> 282; 0 when not a 2.x version. */
static int version_num(struct slice v)
{
    if (v.len < 3 || v.p[0] != '2' || v.p[1] != '.' || v.p[2] < '0' ||
        v.p[2] > '9')
        return 0;
    int n = 200 + (v.p[2] - '0') * 10;
    if (v.len >= 5 && v.p[3] == '.' && v.p[4] >= '0' && v.p[4] <= '9')
        n += v.p[4] - '0';
    return n;
}

/* Write static text with the sender's delimiters escaped. */
static void put_escaped(struct buf *b, const struct hl7_msg *m,
                        const char *s, int fs, int cs, int rs, int ec, int ss)
{
    /* the truncation character too, which the ACK declares as the
     * sender did: bare at a text's end it reads as the text cut short */
    int tc = m ? m->tc : HL7_NO_SEP;
    for (; *s; s++) {
        int c = (unsigned char)*s;
        char code = c == fs ? 'F' : c == cs ? 'S' : c == rs ? 'R' :
                    c == ec ? 'E' : c == ss ? 'T' : c == tc ? 'P' : 0;
        if (code && ec != HL7_NO_SEP) {
            char e[3] = { (char)ec, code, (char)ec };
            buf_append(b, e, 3);
        } else if (code || c == '\r' || c == '\n') {
            buf_putc(b, ' ');
        } else {
            buf_putc(b, (char)c);
        }
    }
}

/* HL7 table 0357, message error condition codes. */
static int err_0357(const struct hub_err *e, const char **text)
{
    const char *f = e->field;
    switch (e->code) {
    case HUB_EUNSUPPORTED:
        if (strncmp(f, "MSH-9.2", 7) == 0) {
            *text = "Unsupported event code";
            return 201;
        }
        if (strncmp(f, "MSH-11", 6) == 0) {
            *text = "Unsupported processing id";
            return 202;
        }
        if (strncmp(f, "MSH-12", 6) == 0) {
            *text = "Unsupported version id";
            return 203;
        }
        *text = "Unsupported message type";
        return 200;
    case HUB_ESYNTAX:
        if (strchr(f, '-') == NULL) {
            *text = "Segment sequence error";
            return 100;
        }
        *text = "Data type error";
        return 102;
    case HUB_EINVALID:
        /* a place that is a segment alone ("PID", "MRG") is a required
         * segment missing: 100 says "required segments are missing",
         * 101 "a required field is missing from a segment" */
        if (e->what && strstr(e->what, "missing") && f[0] &&
            strchr(f, '-') == NULL) {
            *text = "Segment sequence error";
            return 100;
        }
        if (e->what && strstr(e->what, "missing")) {
            *text = "Required field missing";
            return 101;
        }
        if (e->what && strstr(e->what, "table")) {
            *text = "Table value not found";
            return 103;
        }
        *text = "Data type error";
        return 102;
    default:
        *text = "Application internal error";
        return 207;
    }
}

/*
 * Split "PID-7.1.2" into segment, field, component, subcomponent.
 * Returns 0 when the field names no place in the message.
 */
static int err_location(const char *f, char seg[4], unsigned loc[3])
{
    loc[0] = loc[1] = loc[2] = 0;
    if (!seg_id_char((unsigned char)f[0], 1) ||
        !seg_id_char((unsigned char)f[1], 0) ||
        !seg_id_char((unsigned char)f[2], 0))
        return 0;
    memcpy(seg, f, 3);
    seg[3] = '\0';
    f += 3;
    for (int k = 0; k < 3 && (*f == '-' || *f == '.'); k++) {
        unsigned v = 0;
        f++;
        if (*f < '0' || *f > '9')
            return 0;
        while (*f >= '0' && *f <= '9' && v < 10000)
            v = v * 10 + (unsigned)(*f++ - '0');
        loc[k] = v;
    }
    return *f == '\0' || *f == '[';
}

/* v, a value of m->p, as the bytes the sender sent: a Latin message is
 * read from its UTF-8 translation (hl7_parse), and an ACK echoes what was
 * sent, in the sender's set. */
static struct slice as_sent(const struct hl7_msg *m, struct slice v)
{
    if (m == NULL || m->sent == NULL || v.p == NULL)
        return v;
    size_t off = (size_t)(v.p - m->p);
    size_t from = m->jis ? jis_sent_offset(m, off, true)
                         : hl7_sent_offset(m, off);
    size_t to = hl7_sent_offset(m, off + v.len);
    /* an empty value where ISO-2022-JP runs meet maps to no bytes (its
     * run's escape sequence may start after it) */
    return (struct slice){ m->sent + from, to > from ? to - from : 0 };
}

/* One ERR segment for `e`, severity `sev` ('E' or 'W'): ERR-1 (ELD) before
 * v2.5, ERR-2, -3, -4 and -8 from it; `seq` the segment sequence of its
 * place (ELD.2, ERL.2: which of the message's segments of that ID). */
static void put_err(struct buf *b, const struct hl7_msg *m, int vn,
                    const struct hub_err *e, unsigned seq, char sev, int fs,
                    int cs, int rs, int ec, int ss)
{
    const char *text = "";
    int ecode = err_0357(e, &text);
    char seg[4] = "";
    unsigned loc[3];
    int have_loc = err_location(e->field, seg, loc);
    char num[64];

    buf_puts(b, "ERR");
    buf_putc(b, (char)fs);
    if (vn < 250) {
        /* ERR-1 (ELD): segment^sequence^field^code&text&HL70357 */
        if (have_loc) {
            buf_puts(b, seg);
            buf_printf(b, "%c%u%c", cs, seq, cs);
            if (loc[0])
                buf_printf(b, "%u", loc[0]);
        } else {
            buf_putc(b, (char)cs);
            buf_putc(b, (char)cs);
        }
        buf_putc(b, (char)cs);
        snprintf(num, sizeof(num), "%d", ecode);
        buf_puts(b, num);
        if (ss != HL7_NO_SEP) {
            buf_putc(b, (char)ss);
            put_escaped(b, m, text, fs, cs, rs, ec, ss);
            buf_putc(b, (char)ss);
            buf_puts(b, "HL70357");
        }
    } else {
        /* ERR-2 location, ERR-3 code, ERR-4 severity, ERR-8 text */
        buf_putc(b, (char)fs);
        if (have_loc) {
            buf_puts(b, seg);
            buf_printf(b, "%c%u", cs, seq);
            if (loc[0])
                buf_printf(b, "%c%u", cs, loc[0]);
            if (loc[1])
                buf_printf(b, "%c1%c%u", cs, cs, loc[1]);
            if (loc[1] && loc[2])
                buf_printf(b, "%c%u", cs, loc[2]);
        }
        buf_putc(b, (char)fs);
        buf_printf(b, "%d%c", ecode, cs);
        put_escaped(b, m, text, fs, cs, rs, ec, ss);
        buf_printf(b, "%cHL70357", cs);
        buf_putc(b, (char)fs);
        buf_putc(b, sev);
        for (int k = 0; k < 3; k++)
            buf_putc(b, (char)fs);
        /* ERR-7 diagnostic information: the byte offset of an error, for
         * the analyst who mends the message (a bad segment ID has no
         * ERR-2, as ERL must name a segment); warnings have no offset, nor
         * has a required segment that is missing (it has no place in the
         * bytes: "byte offset 0" pointed at MSH), nor a refusal with no
         * place in the message (the database's, F2602: its field names
         * the event, offset 0) */
        if (sev == 'E' && !(ecode == 100 && e->code == HUB_EINVALID) &&
            (have_loc || e->located || e->offset > 0))
            buf_printf(b, "byte offset %zu", e->offset);
        buf_putc(b, (char)fs);
        if (e->what)
            put_escaped(b, m, e->what, fs, cs, rs, ec, ss);
    }
    buf_putc(b, '\r');
}

/* The segment sequence of an error's place: the ordinal, among m's
 * segments of its ID, of the one that holds its offset (an A40's second
 * group refused at its PID or MRG; its end, the CR, is its own); else the
 * next after those before the offset: a segment the parser stopped in is
 * none of m's, and a required one missing holds nothing (an A40's second
 * MRG, F3321). Offsets are of the bytes sent (hl7_to_events_dict): so are
 * the segments' bounds compared. */
static unsigned err_seq(const struct hl7_msg *m, const struct hub_err *e)
{
    char seg[4];
    unsigned loc[3], n = 0;
    if (m == NULL || !err_location(e->field, seg, loc))
        return 1;
    for (uint32_t k = 0; k < m->nseg; k++) {
        if (memcmp(m->seg[k].id, seg, 4) != 0)
            continue;
        if (e->offset < hl7_sent_offset(m, m->seg[k].off))
            break;
        n++;
        if (e->offset <= hl7_sent_offset(m, m->seg[k].end))
            return n;
    }
    return n + 1;
}

/* MSH-10 for MSA-2: its first repetition byte for byte, blanks and
 * escapes included. ST is left justified with trailing blanks optional
 * (HL7 v2.5.1 2.A.74), so a blank before the value is part of it:
 * Sunnybrook's feed in the ConnectingGTA test data right-justifies its
 * counter ("          13"), and a sender matches the ACK by what it sent
 * (F114). Nor are the blanks after it dropped: an engine that compares
 * MSA-2 with the MSH-10 it keeps (a Mirth response transformer, a
 * Cloverleaf or Rhapsody match on the control id) compares strings, and
 * one that trims matches the exact echo as well (F320). hl7_control_id
 * (the event's message_id, the idempotency key) still trims both ends. */
static struct slice control_id_sent(const struct hl7_msg *m)
{
    if (m == NULL || m->nseg == 0)
        return SLICE_NULL;
    return hl7_piece(hl7_seg_field(m, &m->seg[0], 10), m->rs, 0);
}

int hl7_ack(struct arena *a, const struct hl7_msg *m, const char *code,
            const struct hub_err *err, const char *ack_id, const char *now,
            struct slice *out)
{
    return hl7_ack_warn(a, m, code, err, NULL, ack_id, now, out);
}

int hl7_ack_warn(struct arena *a, const struct hl7_msg *m, const char *code,
                 const struct hub_err *err, const struct hl7_warnings *warn,
                 const char *ack_id, const char *now, struct slice *out)
{
    int fs = '|', cs = '^', rs = '~', ec = '\\', ss = '&';
    struct slice enc = SLICE_LIT("^~\\&");
    struct slice ver = SLICE_LIT("2.5");
    struct buf b;

    if (code == NULL || strlen(code) != 2 || code[0] != 'A' ||
        (code[1] != 'A' && code[1] != 'E' && code[1] != 'R'))
        return HUB_EINVALID;
    if (m) {
        fs = m->fs;
        cs = m->cs;
        rs = m->rs;
        ec = m->ec;
        ss = m->ss;
        /* from the parsed set, so a doubled escape is not echoed */
        char *e = arena_alloc(a, 5);
        size_t ne = 0;
        const int set[5] = { m->cs, m->rs, m->ec, m->ss, m->tc };
        for (int k = 0; k < 5 && set[k] != HL7_NO_SEP; k++)
            e[ne++] = (char)set[k];
        enc = (struct slice){ e, ne };
        /* MSH-12 whole, its internationalization code and international
         * version (IHE PAM France's "2.5^FRA^2.11") with it: the ACK is of
         * the same version and national profile (F333) */
        if (version_num(hl7_version(m)))
            ver = as_sent(m, msh(m, 12, 0));
    }
    int vn = version_num(ver);
    buf_init(&b, a, 64 * 1024);

    /* MSH: the sender's receiving app/facility become ours (HL7 2.9.2) */
    buf_puts(&b, "MSH");
    buf_putc(&b, (char)fs);
    buf_append(&b, enc.p, enc.len);
    static const unsigned swap[4] = { 5, 6, 3, 4 };
    for (int k = 0; k < 4; k++) {
        struct slice v = m ? as_sent(m, slice_trim(hl7_seg_field(
                                            m, &m->seg[0], swap[k])))
                           : SLICE_NULL;
        buf_putc(&b, (char)fs);
        buf_append(&b, v.p, v.len);
    }
    buf_putc(&b, (char)fs);
    buf_puts(&b, now ? now : "");
    buf_putc(&b, (char)fs);
    buf_putc(&b, (char)fs);
    buf_puts(&b, "ACK");
    struct slice trig = as_sent(m, hl7_trigger(m));
    if (trig.len && cs != HL7_NO_SEP) {
        buf_putc(&b, (char)cs);
        buf_append(&b, trig.p, trig.len);
        if (vn >= 231) {            /* MSH-9.3 message structure */
            buf_putc(&b, (char)cs);
            buf_puts(&b, "ACK");
        }
    }
    buf_putc(&b, (char)fs);
    /* MSH-10 is ST of 20 characters until v2.7 (199 from it), and an
     * engine that validates the ACK by its version refuses a longer one
     * ("field too long"): the id's last 20, its most varying (F324) */
    const char *id = ack_id ? ack_id : "";
    size_t idlen = strlen(id);
    if (vn < 270 && idlen > HL7_ACK_ID_MAX)
        id += idlen - HL7_ACK_ID_MAX;
    buf_puts(&b, id);
    buf_putc(&b, (char)fs);
    struct slice pid = as_sent(m, msh(m, 11, 0));
    if (pid.len)
        buf_append(&b, pid.p, pid.len);
    else
        buf_putc(&b, 'P');
    buf_putc(&b, (char)fs);
    buf_append(&b, ver.p, ver.len);
    /* MSH-18: the ACK echoes the sender's values in the sender's bytes, so
     * it is in the sender's character set and says so; an engine that
     * decodes by MSH-18 (HAPI's MLLP reader) would read an ACK without
     * it as ASCII or its default (F321) */
    struct slice cset = m ? as_sent(m, slice_trim(hl7_seg_field(
                                           m, &m->seg[0], 18)))
                          : SLICE_NULL;
    if (cset.len) {
        for (int k = 13; k <= 18; k++)
            buf_putc(&b, (char)fs);
        buf_append(&b, cset.p, cset.len);
    }
    buf_putc(&b, '\r');

    /* MSA-2 echoes MSH-10 so the sender can match ACK to message */
    struct slice cid = as_sent(m, control_id_sent(m));
    buf_puts(&b, "MSA");
    buf_putc(&b, (char)fs);
    buf_puts(&b, code);
    buf_putc(&b, (char)fs);
    buf_append(&b, cid.p, cid.len);
    if (err && err->what && vn < 250) {
        buf_putc(&b, (char)fs);     /* MSA-3 text, before ERR-8 existed */
        put_escaped(&b, m, err->what, fs, cs, rs, ec, ss);
    }
    buf_putc(&b, '\r');

    if (err)
        put_err(&b, m, vn, err, err_seq(m, err), code[1] == 'A' ? 'W' : 'E',
                fs, cs, rs, ec, ss);
    for (unsigned k = 0; warn && k < warn->n && k < HL7_MAX_WARNINGS; k++) {
        /* HL7 table 0357 by the same reading as an error's: a value that
         * is not in its table, is malformed or is missing */
        struct hub_err w = { .code = HUB_EINVALID,
                             .what = warn->w[k].what };
        snprintf(w.field, sizeof(w.field), "%s",
                 warn->w[k].field ? warn->w[k].field : "");
        put_err(&b, m, vn, &w, warn->w[k].seq ? warn->w[k].seq : 1, 'W', fs,
                cs, rs, ec, ss);
    }
    if (b.err)
        return b.err;
    *out = buf_slice(&b);
    return HUB_OK;
}
#endif /* !HL7_V3 */

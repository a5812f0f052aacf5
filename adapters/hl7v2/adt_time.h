/*
 * adt_time.h - HL7 DTM to ISO 8601 for the ADT normalizer's parts: the
 * common DTM forms, converted inline where each value is written (every
 * caller's date_only is a constant), and the writers of a time member.
 * What the inline path refuses goes to adt_time.c: the ISO 8601 extended
 * form some senders use, and the warning for a DTM that stays unread.
 */
#ifndef HUB_ADT_TIME_H
#define HUB_ADT_TIME_H

#include "hl7v2/adt_int.h"

ADT_HELPER int num2(const char *p)
{
    return (p[0] - '0') * 10 + (p[1] - '0');
}

/*
 * HL7 DTM "YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]" to ISO 8601,
 * keeping the precision and the offset that were sent; seconds are padded
 * once an hour is given. `date_only` drops the time (birth dates).
 * Returns 0, or -1 when v is not a DTM.
 */
#define ISO_MAX 40              /* "YYYY-MM-DDTHH:MM:SS.SSSS+HH:MM" fits */

/* The bytes of the word at p that are not ASCII digits, as high bits, but
 * for the lowest one exact only: with t = byte ^ '0', a byte is a digit
 * when t < 10, that is when neither t nor t + 0x76 has its high bit set;
 * a carry out of a byte comes only from one that is not a digit. */
static inline uint64_t non_digits8(const char *p)
{
    const uint64_t ones = 0x0101010101010101u;
    uint64_t t;
    memcpy(&t, p, 8);
    t ^= ones * '0';
    return ((t + ones * 0x76) | t) & (ones << 7);
}

/* The number of ASCII digits p[0..n) starts with: eight at a time, the
 * last word overlapping the one before. */
ADT_HELPER size_t digits_at(const char *p, size_t n)
{
    size_t i = 0;
    if (n < 8) {
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
        return i;
    }
    for (; i + 8 <= n; i += 8) {
        uint64_t bad = non_digits8(p + i);
        if (bad)
            return i + (size_t)__builtin_ctzll(bad) / 8;
    }
    if (i == n)
        return n;
    /* bytes [n - 8, i) are digits already: only the rest may flag */
    uint64_t bad = non_digits8(p + n - 8) >> (8 * (i - (n - 8)));
    return bad ? i + (size_t)__builtin_ctzll(bad) / 8 : n;
}

#if defined(__AVX2__)
/*
 * iso_time for the common shape, YYYYMMDDHHMMSS+ZZZZ (p[0..19)), in the
 * x86-64-v3 build (SSSE3 byte shuffles, SSE4.1 blends): 1 when p is not
 * of that shape (iso_time then reads it as before), else what iso_time
 * returns. The 19 bytes are two overlapping loads; the digits are checked
 * at once, their pairs made numbers by one multiply-add (tens and units)
 * and held to their ranges by two compares, and the output is two
 * shuffles of the input with the punctuation put in by an or.
 */
ADT_HELPER int iso_time_dtm19(char o[ISO_MAX], const char *p, int date_only,
                          size_t *out_len)
{
    const __m128i a = _mm_loadu_si128((const __m128i *)p);         /* 0-15 */
    const __m128i b = _mm_loadu_si128((const __m128i *)(p + 3));   /* 3-18 */
    const __m128i zero = _mm_set1_epi8('0'), nine = _mm_set1_epi8(9);
    __m128i da = _mm_sub_epi8(a, zero), db = _mm_sub_epi8(b, zero);
    /* digits: d == min(d, 9) unsigned; a: bytes 0-13, b: 12-15 (p 15-18) */
    unsigned dig = (unsigned)_mm_movemask_epi8(
                       _mm_cmpeq_epi8(_mm_min_epu8(da, nine), da)) & 0x3fff;
    unsigned digb = (unsigned)_mm_movemask_epi8(
                        _mm_cmpeq_epi8(_mm_min_epu8(db, nine), db)) & 0xf000;
    if (dig != 0x3fff || digb != 0xf000 || (p[14] != '+' && p[14] != '-'))
        return 1;
    /* pairs as numbers: a's YY YY MM DD HH MM SS (lane 7 unused), b's
     * lanes 6 and 7 the offset's hours and minutes */
    const __m128i tens = _mm_set1_epi16(0x010a);       /* bytes 10, 1 */
    __m128i na = _mm_maddubs_epi16(da, tens), nb = _mm_maddubs_epi16(db, tens);
    __m128i n = _mm_blend_epi16(na, nb, 0xc0);  /* lane 6 was SS: check */
    const __m128i hi = _mm_setr_epi16(99, 99, 12, 31, 23, 59, 14, 59);
    const __m128i lo = _mm_setr_epi16(0, 0, 1, 1, 0, 0, 0, 0);
    __m128i bad = _mm_or_si128(_mm_cmpgt_epi16(n, hi), _mm_cmpgt_epi16(lo, n));
    bad = _mm_or_si128(bad, _mm_cmpgt_epi16(na, _mm_setr_epi16(
                                99, 99, 99, 99, 99, 99, 60, 32767)));
    if (_mm_movemask_epi8(bad))
        return -1;
    /* YYYY-MM-DDTHH:MM, then :SS+HH:MM (from b: p 12-18 at 9-15) */
    const __m128i s1 = _mm_setr_epi8(0, 1, 2, 3, -1, 4, 5, -1, 6, 7, -1, 8, 9,
                                     -1, 10, 11);
    const __m128i c1 = _mm_setr_epi8(0, 0, 0, 0, '-', 0, 0, '-', 0, 0, 'T', 0,
                                     0, ':', 0, 0);
    _mm_storeu_si128((__m128i *)o,
                     _mm_or_si128(_mm_shuffle_epi8(a, s1), c1));
    if (date_only) {
        *out_len = 10;
        return 0;
    }
    const __m128i s2 = _mm_setr_epi8(-1, 9, 10, 11, 12, 13, -1, 14, 15, -1,
                                     -1, -1, -1, -1, -1, -1);
    const __m128i c2 = _mm_setr_epi8(':', 0, 0, 0, 0, 0, ':', 0, 0, 0, 0, 0, 0,
                                     0, 0, 0);
    _mm_storeu_si128((__m128i *)(o + 16),
                     _mm_or_si128(_mm_shuffle_epi8(b, s2), c2));
    *out_len = 25;
    return 0;
}
#endif

/* Inline: each caller's date_only is a constant (and the birth date's
 * check below too): measured to pay, callgrind over the bench corpus. */
ADT_ALWAYS_INLINE int iso_time(char o[ISO_MAX], struct slice v,
                               int date_only, size_t *out_len)
{
    const char *p = v.p;
    size_t n = v.len, body = n, whole;
    size_t k = 0;

#if defined(__AVX2__)
    if (n == 19) {
        int rc = iso_time_dtm19(o, p, date_only, out_len);
        if (rc <= 0)
            return rc;
    }
#endif
    if (n == 19 && (p[14] == '+' || p[14] == '-') &&
        (non_digits8(p) | non_digits8(p + 6) |
         (non_digits8(p + 11) & ~((uint64_t)0x80 << 24))) == 0) {
        /* the common shape, YYYYMMDDHHMMSS+ZZZZ, in three words: the sign
         * is byte 3 of the last one (its own flag is masked; '+' and '-'
         * carry into no other byte); checked and written as below, in
         * straight line */
        if (num2(p + 15) > 14 || num2(p + 17) > 59 || num2(p + 4) < 1 ||
            num2(p + 4) > 12 || num2(p + 6) < 1 || num2(p + 6) > 31 ||
            num2(p + 8) > 23 || num2(p + 10) > 59 || num2(p + 12) > 60)
            return -1;
        memcpy(o, p, 4);
        o[4] = '-';
        memcpy(o + 5, p + 4, 2);
        o[7] = '-';
        memcpy(o + 8, p + 6, 2);
        if (date_only) {
            *out_len = 10;
            return 0;
        }
        o[10] = 'T';
        memcpy(o + 11, p + 8, 2);
        o[13] = ':';
        memcpy(o + 14, p + 10, 2);
        o[16] = ':';
        memcpy(o + 17, p + 12, 2);
        o[19] = p[14];
        memcpy(o + 20, p + 15, 2);
        o[22] = ':';
        memcpy(o + 23, p + 17, 2);
        *out_len = 25;
        return 0;
    } else if (n == 8 && non_digits8(p) == 0) {
        /* YYYYMMDD (birth dates): checked and written as below, in
         * straight line */
        if (num2(p + 4) < 1 || num2(p + 4) > 12 || num2(p + 6) < 1 ||
            num2(p + 6) > 31)
            return -1;
        memcpy(o, p, 4);
        o[4] = '-';
        memcpy(o + 5, p + 4, 2);
        o[7] = '-';
        memcpy(o + 8, p + 6, 2);
        *out_len = 10;
        return 0;
    } else {
        /* digits, then maybe '.' and digits, then maybe the sign (from
         * byte 4 on) that starts the offset, and digits */
        whole = digits_at(p, n);
        size_t i = whole;
        if (i < n && p[i] == '.')
            i += 1 + digits_at(p + i + 1, n - i - 1);
        else
            whole = n;              /* no fraction, for now */
        if (i < n && (p[i] == '+' || p[i] == '-') && i >= 4) {
            body = i;
            i += 1 + digits_at(p + i + 1, n - i - 1);
        }
        if (i < n)
            return -1;
        if (whole > body)
            whole = body;           /* no fraction */
    }
    if (!(whole == 4 || whole == 6 || whole == 8 || whole == 10 ||
          whole == 12 || whole == 14))
        return -1;
    if (whole < body && (whole != 14 || body - whole < 2 || body - whole > 5))
        return -1;
    if (body < n && (n - body != 5 || num2(p + body + 1) > 14 ||
                     num2(p + body + 3) > 59))
        return -1;
    if ((whole >= 6 && (num2(p + 4) < 1 || num2(p + 4) > 12)) ||
        (whole >= 8 && (num2(p + 6) < 1 || num2(p + 6) > 31)) ||
        (whole >= 10 && num2(p + 8) > 23) ||
        (whole >= 12 && num2(p + 10) > 59) ||
        (whole >= 14 && num2(p + 12) > 60))
        return -1;

    memcpy(o, p, 4);
    k = 4;
    if (whole >= 6) {
        o[k++] = '-';
        memcpy(o + k, p + 4, 2);
        k += 2;
    }
    if (whole >= 8) {
        o[k++] = '-';
        memcpy(o + k, p + 6, 2);
        k += 2;
    }
    if (whole >= 10 && !date_only) {
        o[k++] = 'T';
        memcpy(o + k, p + 8, 2);
        k += 2;
        o[k++] = ':';
        memcpy(o + k, whole >= 12 ? p + 10 : "00", 2);
        k += 2;
        o[k++] = ':';
        memcpy(o + k, whole >= 14 ? p + 12 : "00", 2);
        k += 2;
        if (whole < body) {
            memcpy(o + k, p + whole, body - whole);
            k += body - whole;
        }
        if (body < n) {
            o[k++] = p[body];
            memcpy(o + k, p + body + 1, 2);
            k += 2;
            o[k++] = ':';
            memcpy(o + k, p + body + 3, 2);
            k += 2;
        }
    }
    *out_len = k;
    return 0;
}

/* The ASCII digits v starts with, up to 8 (digits_at): a date's eight
 * (YYYYMMDD...) in one word test. */
static inline size_t digits8(struct slice v)
{
    if (v.len >= 8 && non_digits8(v.p) == 0)
        return 8;
    return digits_at(v.p, v.len < 8 ? v.len : 8);
}

/* The eight bytes at p as a big-endian number: memcmp's order. */
static inline uint64_t be8(const char *p)
{
    uint64_t x;
    memcpy(&x, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    x = __builtin_bswap64(x);
#endif
    return x;
}

/* Whether DTM a is earlier than DTM b to the precision both have (their
 * first digits, up to the day), each in its sender's own time; false when
 * either has no year (MSH-7 is not checked as a DTM). Most often both
 * have eight digits: compared as numbers. */
ADT_HELPER bool before(struct slice a, struct slice b)
{
    size_t n = digits8(a);
    size_t nb = digits8(b);
    if (nb < n)
        n = nb;
    if (n == 8)
        return be8(a.p) < be8(b.p);
    return n >= 4 && memcmp(a.p, b.p, n) < 0;
}

/* The ISO 8601 extended form of a DTM field (adt_time.c): out of line,
 * only a value iso_time refused comes there. Returns as iso_time. */
ADT_FN __attribute__((noinline)) int adt_iso_time_ext(char o[ISO_MAX],
                                                      struct slice v,
                                                      int date_only,
                                                      size_t *out_len);
/* The ISO time of DTM v at `iso`, or -1 (and a warning for `field`)
 * when it is neither a DTM nor the extended form (adt_time.c). */
ADT_FN __attribute__((noinline)) int adt_iso_time_repair(struct ctx *c,
                                                         char *iso,
                                                         struct slice v,
                                                         const char *field,
                                                         int date_only,
                                                         size_t *len);

/* MSH-7 as an ISO time into `sent`, read on the first call (*slen is 0
 * until then), so that a field with no date never reads it: false when
 * MSH-7 is no date. */
ADT_FN bool adt_msh_time_once(struct ctx *c, char sent[ISO_MAX], size_t *slen);

/* Write "key" (from JW_KV): ISO time of a DTM value; warn and omit when
 * malformed. */
ADT_ALWAYS_INLINE int kv_time(struct ctx *c, const char *chunk, size_t n,
                              struct text v, const char *field,
                              int date_only)
{
    size_t len;
    if (v.s.len == 0)
        return 0;
    /* formatted in place, where the value goes after the separator (if
     * one is due) and the key; nothing is kept when it is malformed.
     * Plain: iso_time checked every digit and writes only -T:.+ besides */
    struct jw *w = &c->w;
    bool *first = &w->first[w->depth];
    char *o = jw_room(w, n + ISO_MAX + 1), *start = o;
    char *iso = o + !*first + n - 1;
    if (iso_time(iso, v.s, date_only, &len) < 0 &&
        adt_iso_time_repair(c, iso, v.s, field, date_only, &len) < 0)
        return 0;
    o = jw_put_key(o, first, chunk, n);
    o += len;
    *o++ = '"';
    jw_commit(w, start, o);
    return 1;
}

/* put_member for kv_time: the ISO time of DTM v, or nothing (and a
 * warning) when it is malformed. Room: ROOM_MEMBER + ISO_MAX. */
ADT_ALWAYS_INLINE char *put_time(struct ctx *c, char *o, bool *first,
                                 const char *chunk, size_t n, struct text v,
                                 const char *field, int date_only)
{
    size_t len;
    if (v.s.len == 0)
        return o;
    /* formatted where the value goes after the separator and the key;
     * nothing is kept when it is malformed */
    char *iso = o + !*first + n - 1;
    if (iso_time(iso, v.s, date_only, &len) < 0 &&
        adt_iso_time_repair(c, iso, v.s, field, date_only, &len) < 0)
        return o;
    o = jw_put_key(o, first, chunk, n);
    o += len;
    *o++ = '"';
    return o;
}

#define ROOM_TIME (ROOM_MEMBER + ISO_MAX)

#endif

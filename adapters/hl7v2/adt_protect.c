/*
 * adt_protect.c - protection indicators and access restrictions of an ADT
 * message. A protection indicator (PD1-12, PV2-22) or an access
 * restriction in force (ARV) labels every event of the message
 * "restricted" (access_restricted), as FHIR's confidentiality R and V do;
 * with a dictionary, an ARV in force whose ARV-3 names a sensitive kind of
 * data (table 0717 HIV, PSY, STD, DRG...: security-labels.json "v2-0717")
 * adds that label too (arv_labels).
 */
#include "common/strset.h"
#include "hl7v2/adt_time.h"

/* What a Yes/No field (HL7 table 0136) said, as bits: a repetition read Y,
 * N, or something else (neither, nor empty, nor the HL7 null ""). */
#define YN_YES 1u
#define YN_NO 2u
#define YN_OTHER 4u

/*
 * PD1-12 or PV2-22 (ID, HL7 table 0136: "Y protect access to patient
 * information, N normal access"; v2.3 on, kept from v2.6 for backward
 * compatibility beside ARV): the first component of each repetition (the
 * field does not repeat: a sender that repeats it is read at its most
 * protective), case aside.
 */
static unsigned yes_no(const struct ctx *c, const struct hl7_seg *s,
                       unsigned f)
{
    unsigned yn = 0;
    for (unsigned r = 0;; r++) {
        struct raw rep = rep_raw(c, s, f, r);
        if (rep.v.p == NULL)
            break;
        struct slice v =
            text_of(c, hl7_piece(rep.v, c->cs, 0), rep.special).s;
        if (v.len == 0)
            continue;               /* empty or "": no indicator */
        if (v.len == 1 && (v.p[0] | 0x20) == 'y')
            yn |= YN_YES;
        else if (v.len == 1 && (v.p[0] | 0x20) == 'n')
            yn |= YN_NO;
        else
            yn |= YN_OTHER;
    }
    return yn;
}

/* Whether the date v (DT, or DTM: its day) is after the day MSH-7 says
 * (to the precision both have: cx_out_of_effect's compare): 1 after, 0 on
 * or before, -1 when either is no date. */
static int after_message_day(struct ctx *c, struct slice v,
                             char sent[ISO_MAX], size_t *slen)
{
    char d[ISO_MAX];
    size_t dlen;
    if (!adt_msh_time_once(c, sent, slen) || iso_time(d, v, 1, &dlen) < 0)
        return -1;
    return memcmp(d, sent, dlen < *slen ? dlen : *slen) > 0;
}

/*
 * Whether an ARV segment (HL7 v2.6 on: access restrictions) restricts
 * access now. ARV-2 (CNE, table 0206 A add, D delete, U update, X no
 * change, S snapshot): D takes the restriction back, the others keep it.
 * ARV-3 (CWE, user-defined table 0717: ALL, DEM, LOC, HIV, PSY, STD, DRG,
 * SMD, PID-7, PID-17, OO opt out of all registries, ...; v2.9 adds
 * policies): every value restricts but NO (none) and OI (opt in to all
 * registries), unless ARV-7 (v2.9, table 0952) classes it R or V.
 * ARV-6 (DR, "the date from which an access restriction commences until
 * the date it is specifically rescinded"): one whose end is before the
 * message's day has ended; one that has not begun still restricts, as
 * the event is kept and read after it begins. What cannot be read is
 * read as restricting, with a warning.
 */
static bool arv_in_force(struct ctx *c, const struct hl7_seg *s,
                         char sent[ISO_MAX], size_t *slen)
{
    struct slice act = val1(c, s, 2).s, val = val1(c, s, 3).s;
    if (act.len == 1 && (act.p[0] | 0x20) == 'd')
        return false;
    if (act.len != 1 || !memchr("AUXSauxs", act.p[0], 8))
        adt_warn_at(c, s, "ARV-2", "access restriction action code is not "
                                   "A, D, U, X or S; read as in force");
    if (val.len == 0) {
        adt_warn_at(c, s, "ARV-3", "required field access restriction "
                                   "value is missing; read as restricting "
                                   "all");
    } else if (upper_eq(val, "NO") || upper_eq(val, "OI")) {
        struct slice cls = val1(c, s, 7).s;
        if (!(cls.len == 1 && ((cls.p[0] | 0x20) == 'r' ||
                               (cls.p[0] | 0x20) == 'v')))
            return false;
    }
    /* the range's end: DR.2, its first subcomponent (a TS before v2.6) */
    struct slice end = slice_trim(hl7_piece(
        hl7_piece(rep_raw(c, s, 6, 0).v, c->m->cs, 1), c->m->ss, 0));
    if (end.len == 0 || slice_eq(end, "\"\""))
        return true;
    char d[ISO_MAX];
    size_t dlen;
    if (iso_time(d, end, 1, &dlen) < 0) {
        adt_warn_at(c, s, "ARV-6", "access restriction end date is not an "
                                   "HL7 date; read as in force");
        return true;
    }
    if (!adt_msh_time_once(c, sent, slen))
        return true;                /* no day to compare with */
    return memcmp(d, sent, dlen < *slen ? dlen : *slen) >= 0;
}

/*
 * The labels of what an ARV in force restricts: each repetition of ARV-3
 * (the field does not repeat; one that does is read whole) by the
 * dictionary's "v2-0717" rows (HIV -> hiv, DRG -> sud, ...), beside
 * `restricted`, so that a subscription granted `restricted` but not `hiv`
 * does not receive what the sender restricted as HIV data. ALL, DEM, LOC
 * and codes no row names add nothing. Cold: few messages have an ARV,
 * and a cold function leaves the unit's inlining budget to the hot path
 * (without it write_identifiers ran 36k more instructions of the bench).
 */
static __attribute__((cold, noinline)) void arv_labels(struct ctx *c,
                                                      const struct hl7_seg *s)
{
    for (unsigned r = 0;; r++) {
        struct raw rep = rep_raw(c, s, 3, r);
        if (rep.v.p == NULL)
            break;
        struct slice v =
            text_of(c, hl7_piece(rep.v, c->cs, 0), rep.special).s;
        const char *l[ADT_MAX_LABELS];
        size_t n = v.len ? dict_access_restriction_labels(c->d, v, l,
                                                          ADT_MAX_LABELS)
                         : 0;
        for (size_t k = 0; k < n; k++)
            strset_add(c->labels, &c->nlabels, ADT_MAX_LABELS - 1, l[k]);
    }
}

/* Whether PD1 `s` protects: PD1-12 Y (or what is neither Y nor N), or N
 * that takes effect after the message (PD1-13). `warned` holds the
 * warnings given (bit 0 PD1-12, 1 and 2 PD1-13): each once a message. */
static bool pd1_protects(struct ctx *c, const struct hl7_seg *s,
                         char sent[ISO_MAX], size_t *slen, unsigned *warned)
{
    unsigned yn = yes_no(c, s, 12);
    if ((yn & YN_OTHER) && !(*warned & 1u)) {
        *warned |= 1u;
        adt_warn_at(c, s, "PD1-12", "protection indicator is not Y or N; "
                                    "read as protected");
    }
    if (yn & (YN_YES | YN_OTHER))
        return true;
    if (!(yn & YN_NO))
        return false;
    /* PD1-13 (DT, v2.5 on): "the effective date for PD1-12" */
    struct slice eff = val1(c, s, 13).s;
    int after = eff.len ? after_message_day(c, eff, sent, slen) : 0;
    if (after > 0 && !(*warned & 2u)) {
        *warned |= 2u;
        adt_warn_at(c, s, "PD1-13", "protection indicator N takes effect "
                                    "after the message; read as protected");
    } else if (after < 0 && !(*warned & 4u)) {
        *warned |= 4u;
        adt_warn_at(c, s, "PD1-13", "effective date of the protection "
                                    "indicator cannot be compared with "
                                    "MSH-7; read as protected");
    }
    return after != 0;
}

/* Whether PV2 `s` protects: PV2-22 Y, or what is neither Y nor N (bit 3
 * of `warned`: its warning given). */
static bool pv2_protects(struct ctx *c, const struct hl7_seg *s,
                         unsigned *warned)
{
    unsigned yn = yes_no(c, s, 22);
    if ((yn & YN_OTHER) && !(*warned & 8u)) {
        *warned |= 8u;
        adt_warn_at(c, s, "PV2-22", "visit protection indicator is not Y "
                                    "or N; read as protected");
    }
    return (yn & (YN_YES | YN_OTHER)) != 0;
}

ADT_FN __attribute__((noinline)) bool adt_access_restricted(struct ctx *c)
{
    const struct hl7_msg *m = c->m;
    char sent[ISO_MAX];
    size_t slen = 0;
    unsigned warned = 0;
    bool r = false;
    uint32_t arv = c->hi;           /* the first ARV of the event, or hi */
    if (c->lo == 0 && c->hi == m->nseg && !m->noted_again) {
        /* one PD1, PV2 and ARV at most: where the parser noted them */
        const struct hl7_seg *pd1 = hl7_first_seg(m, HL7_SLOT_PD1),
                             *pv2 = hl7_first_seg(m, HL7_SLOT_PV2);
        if (m->first[HL7_SLOT_ARV])
            arv = m->first[HL7_SLOT_ARV] - 1;
        if (pd1 && pd1_protects(c, pd1, sent, &slen, &warned))
            r = true;
        if (pv2 && pv2_protects(c, pv2, &warned))
            r = true;
    } else {
        /* an A40's PID group, or a message that repeats PD1 or PV2 (each
         * is one a message, or a PID group: a sender that sends another,
         * an empty one before the visit's own, is read at its most
         * protective, as a repeated indicator is: the first alone
         * dropped the visit's Y, F1920). Cold: both are rare. */
        for (uint32_t k = c->lo; k < c->hi; k++) {
            const struct hl7_seg *s = &m->seg[k];
            if (memcmp(s->id, "PD1", 4) == 0)
                r |= pd1_protects(c, s, sent, &slen, &warned);
            else if (memcmp(s->id, "PV2", 4) == 0)
                r |= pv2_protects(c, s, &warned);
            else if (memcmp(s->id, "ARV", 4) == 0 && arv == c->hi)
                arv = k;
        }
    }
    for (uint32_t k = arv; k < c->hi; k++)
        if (memcmp(m->seg[k].id, "ARV", 4) == 0 &&
            arv_in_force(c, &m->seg[k], sent, &slen)) {
            r = true;
            if (c->d)
                arv_labels(c, &m->seg[k]);
        }
    return r;
}

/*
 * Whether segment s has field f (f >= 1): f field separators. PD1 and PV2
 * are not indexed by the parser (hl7v2_int.h): theirs are counted here,
 * a vector at a time.
 */
ADT_ALWAYS_INLINE bool has_field(const struct ctx *c, const struct hl7_seg *s,
                                 unsigned f)
{
    if (s == NULL)
        return false;
    if (s->f0 != HL7_SEG_LAZY)      /* a long one, indexed after all */
        return f < s->nf;
    const struct hl7_msg *m = c->m;
    size_t q = s->off + 3, end = s->end;
    unsigned n = 0;
#if defined(ADT_VEC)
    /* each byte lane counts the separators it met (one a vector, so it
     * holds 255 vectors), the lanes summed once; the last vector's bytes
     * past the segment masked off by a window of vec_window. Where a
     * vector can be read past the segment's end. */
    static const unsigned char vec_window[2 * VEC_BYTES] = {
        [0 ... VEC_BYTES - 1] = 0xff
    };
    if (m->len - end >= VEC_BYTES && end - q <= 255 * VEC_BYTES) {
        const vec x_fs = vec_set(m->fs);
        vec acc = vec_zero();
        for (; end - q > VEC_BYTES; q += VEC_BYTES)
            acc = vec_sub(acc, vec_eq(vec_load(m->p + q), x_fs));
        acc = vec_sub(acc, vec_and(vec_eq(vec_load(m->p + q), x_fs),
                                   vec_load(vec_window + VEC_BYTES -
                                            (end - q))));
        return vec_sum(acc) >= f;
    }
#endif
    for (; q < end; q++)
        if ((unsigned char)m->p[q] == m->fs && ++n >= f)
            return true;
    return false;
}

ADT_FN __attribute__((noinline)) bool adt_may_restrict(const struct ctx *c)
{
    const struct hl7_msg *m = c->m;
    if (c->lo != 0 || c->hi != m->nseg || m->noted_again)
        return true;
    return m->first[HL7_SLOT_ARV] ||
           has_field(c, hl7_first_seg(m, HL7_SLOT_PD1), 12) ||
           has_field(c, hl7_first_seg(m, HL7_SLOT_PV2), 22);
}

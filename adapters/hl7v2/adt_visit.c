/*
 * adt_visit.c - the encounter of an ADT event, from PV1 (class, locations,
 * attending, admit and discharge) and PV2, with its diagnoses (DG1) and
 * the sensitivity labels and SDOH domains their codes imply.
 */
#include "common/strset.h"
#include "hl7v2/adt_codes.h"
#include "hl7v2/adt_time.h"

#define ADT_PL_LAST 9            /* PL components read */

/* PL, split up to ADT_PL_LAST: point of care, room, bed, facility,
 * building, floor; each the first subcomponent, as v2.7 made several of
 * them HD (namespace&oid&type); and PL-9, the description (ST), which
 * some senders give alone. A sender that puts a repetition separator
 * inside a location still gets its first part (see adt.hl7 in tests/data). */
/* The PL values written, read once: the encounter writes "location" in
 * a span of its own members. */
struct pl {
    struct text poc, rm, bed, fac, bldg, floor, desc;
};

ADT_ALWAYS_INLINE void pl_read(const struct ctx *c, const struct parts *pt,
                               struct pl *l)
{
    l->poc = part(c, pt, 1, 1);
    l->rm = part(c, pt, 2, 1);
    l->bed = part(c, pt, 3, 1);
    l->fac = part(c, pt, 4, 1);
    l->bldg = part(c, pt, 7, 1);
    l->floor = part(c, pt, 8, 1);
    l->desc = part(c, pt, 9, 0);
}

ADT_ALWAYS_INLINE bool pl_empty(const struct pl *l)
{
    return !l->poc.s.len && !l->rm.s.len && !l->bed.s.len &&
           !l->fac.s.len && !l->bldg.s.len && !l->floor.s.len &&
           !l->desc.s.len;
}

ADT_ALWAYS_INLINE size_t pl_room(const struct pl *l)
{
    return ROOM_MEMBER + room(l->poc) + room(l->rm) + room(l->bed) +
           room(l->fac) + room(l->bldg) + room(l->floor) + room(l->desc);
}

/* In a span: "key":{...} (key from JW_KEY) when l is not empty, `first`
 * as jw_put_key takes it. */
ADT_ALWAYS_INLINE char *put_pl(const struct ctx *c, char *o, bool *first,
                               const char *chunk, size_t n,
                               const struct pl *l)
{
    if (pl_empty(l))
        return o;
    char *obj = o = jw_put_key(o, first, chunk, n);
    o = put_kv(c, o, JW_KV("point_of_care"), l->poc);
    o = put_kv(c, o, JW_KV("room"), l->rm);
    o = put_kv(c, o, JW_KV("bed"), l->bed);
    o = put_kv(c, o, JW_KV("facility"), l->fac);
    o = put_kv(c, o, JW_KV("building"), l->bldg);
    o = put_kv(c, o, JW_KV("floor"), l->floor);
    o = put_kv(c, o, JW_KV("description"), l->desc);
    return span_seal(obj, o, '{', '}');
}

static void write_location(struct ctx *c, const char *chunk, size_t n,
                           const struct parts *pt)
{
    struct pl l;
    pl_read(c, pt, &l);
    if (pl_empty(&l))
        return;
    char *o = span_room(c, pl_room(&l)), *start = o;
    o = put_pl(c, o, &c->w.first[c->w.depth], chunk, n, &l);
    jw_commit(&c->w, start, o);
}

/* Leaves its list open (returns whether it wrote one): adt_write_encounter
 * closes it with the encounter. */
static bool write_diagnoses(struct ctx *c)
{
    static const uint16_t none[26];
    unsigned n = 0;
    const uint16_t *pre =
        c->d && c->dg1 < c->hi ? dict_icd10_label_prefixes(c->d) : none;
    for (uint32_t k = c->dg1; k < c->hi; k++) {
        const struct hl7_seg *dg1 = &c->m->seg[k];
        if (memcmp(dg1->id, "DG1", 4) != 0)
            continue;
        struct parts ce;
        split(c, rep_raw(c, dg1, 3, 0), &ce, 6);
        struct text code = part(c, &ce, 1, 0);
        struct text system = part(c, &ce, 3, 0);
        struct text display = part(c, &ce, 2, 0);
        /* DG1-2 (ID) and DG1-4 (ST) have no components: a component
         * separator in them ends the value, as HL7 has receivers ignore
         * components they do not expect (F602; Auriga's Infinity A01
         * sends "Appendicitis^Inflammation of ...") */
        if (!system.s.len)
            system = val1(c, dg1, 2);   /* DG1-2 coding method */
        if (!display.s.len)
            display = val1(c, dg1, 4);  /* DG1-4 description */
        if (!code.s.len && !display.s.len)
            continue;
        /* the alternate code (CE/CWE 4-6) too: a local primary code
         * with its ICD-10 or SNOMED CT beside it is the same diagnosis */
        strset_add(c->labels, &c->nlabels, ADT_MAX_LABELS - 1,
                   dg1_label(c, pre, code.s, system.s));
        const char *domain = dg1_domain(c, code.s, system.s);
        if (ce.n > 3) {
            struct slice alt = part(c, &ce, 4, 0).s,
                         alt_system = part(c, &ce, 6, 0).s;
            strset_add(c->labels, &c->nlabels, ADT_MAX_LABELS - 1,
                       dg1_label(c, pre, alt, alt_system));
            if (!domain)
                domain = dg1_domain(c, alt, alt_system);
        }
        struct text dom = { domain ? slice_from_cstr(domain) : SLICE_NULL,
                            true };
        if (n++ == 0) {
            key_open(c, JW_KEY("diagnoses"), '[');
        }
        /* DG1-6: IS to v2.5, CWE from v2.6 ("A^Admitting^HL70052") */
        struct text type = val1(c, dg1, 6);
        char *o = span_room(c, room(code) + room(system) + room(display) +
                                     room(type) + room(dom)),
             *start = o;
        char *obj = o = span_open(c, o);
        o = put_kv(c, o, JW_KV("code"), code);
        o = put_kv(c, o, JW_KV("system"), system);
        o = put_kv(c, o, JW_KV("display"), display);
        o = put_kv(c, o, JW_KV("type"), type);
        o = put_lit(o, JW_KV("domain"), dom);
        o = span_seal(obj, o, '{', '}');
        jw_commit(&c->w, start, o);
    }
    return n != 0;
}

/* PV1-7's repetitions are one physician's names and ids (HL7 v2.3-2.8:
 * "the field sequences are not used to indicate multiple attending
 * doctors"; the legal name first, or an empty first repetition): the first
 * that holds one is the attending. Epic sends the same doctor under each
 * of its ids (CONS, CDS, PROVID), which were three attendings.
 * Leaves its list open (returns whether it wrote one): the next span
 * closes it. */
ADT_ALWAYS_INLINE bool write_attending(struct ctx *c,
                                       const struct hl7_seg *pv1)
{
    unsigned n = 0;
    struct rep_iter it;
    struct raw rep;
    reps_init(c, pv1, 7, &it);
    while (n == 0 && reps_next(c, &it, &rep)) {
        struct parts pt;
        split_quick(c, rep, &pt, 3);
        struct text id = part(c, &pt, 1, 0);
        struct text family = part(c, &pt, 2, 1);
        struct text given = part(c, &pt, 3, 0);
        if (!id.s.len && !family.s.len && !given.s.len)
            continue;
        if (n++ == 0) {
            key_open(c, JW_KEY("attending"), '[');
        }
        char *o = span_room(c, room(id) + room(family) + room(given)),
             *start = o;
        char *obj = o = span_open(c, o);
        o = put_kv(c, o, JW_KV("id"), id);
        o = put_kv(c, o, JW_KV("family"), family);
        o = put_kv(c, o, JW_KV("given"), given);
        o = span_seal(obj, o, '{', '}');
        jw_commit(&c->w, start, o);
    }
    return n != 0;
}

ADT_FN void adt_write_encounter(struct ctx *c, const struct hl7_seg *pv1,
                                const char *cancel_of)
{
    /* PV1-2, -10, -44, -45, -36, -19 */
    static const unsigned char pv1_fields[] = { 2, 10, 44, 45, 36, 19 };
    struct text pv[6];
    struct parts loc, prior;
    struct text pclass = TEXT_NONE, cls = TEXT_NONE, fac = TEXT_NONE;
    struct pl l = { TEXT_NONE, TEXT_NONE, TEXT_NONE, TEXT_NONE, TEXT_NONE,
                    TEXT_NONE, TEXT_NONE };
    if (pv1) {
        vals1(c, pv1, pv1_fields, 6, pv);
        pclass = pv[0];
        /* R in every version (2.1-2.8), whatever the trigger: an A28 or
         * A31 with no visit sends "N" (not applicable), a value */
        if (!pclass.s.len)
            adt_warn(c, "PV1-2", "required field PV1-2 patient class is "
                                 "missing; accepted without it");
        cls = adt_class_of(pclass.s);
        split_quick(c, rep_raw(c, pv1, 3, 0), &loc, ADT_PL_LAST);
        pl_read(c, &loc, &l);
        fac = l.fac;
        if (!fac.s.len)
            fac = val1(c, pv1, 39);     /* PV1-39 servicing facility */
    }
    /* the patient's brace closed, "encounter":{ opened (jw_obj_end's and
     * key_open's bytes and state: at depth 2, after "patient"), and its
     * first members, in one span */
    struct jw *w = &c->w;
    char *o = span_room(c, 2 * ROOM_MEMBER + room(pclass) + room(cls) +
                               room(fac) + pl_room(&l)),
         *start = o;
    *o++ = '}';
    memcpy(o, JW_KEY("encounter"));
    o += sizeof(",\"encounter\":") - 1;
    *o++ = '{';
    bool f = true;
    o = put_member(c, o, &f, JW_KV("patient_class"), pclass);
    o = put_member_lit(o, &f, JW_KV("class"), cls);
    o = put_member(c, o, &f, JW_KV("facility"), fac);
    o = put_pl(c, o, &f, JW_KEY("location"), &l);
    w->first[2] = f;
    jw_commit(w, start, o);
    if (pv1) {
        struct raw pl = rep_raw(c, pv1, 6, 0);
        if (pl.v.len) {             /* empty: nothing to write (most are) */
            split_quick(c, pl, &prior, ADT_PL_LAST);
            write_location(c, JW_KEY("prior_location"), &prior);
        }
        bool att = write_attending(c, pv1);
        struct text svc = pv[1], adm = pv[2], dis = pv[3], disp = pv[4],
                    visit = pv[5];
        o = span_room(c, 1 + room(svc) + 2 * ROOM_TIME + room(disp) +
                             room(visit));
        start = o;
        if (att) {                  /* jw_arr_end's, the depth known */
            *o++ = ']';
            w->depth = 2;
        }
        bool *first = &w->first[2];
        f = *first;
        o = put_member(c, o, &f, JW_KV("hospital_service"), svc);
        o = put_time(c, o, &f, JW_KV("admitted_at"), adm, "PV1-44", 0);
        o = put_time(c, o, &f, JW_KV("discharged_at"), dis, "PV1-45", 0);
        /* as a death date before the birth: a discharge dated before the
         * admission (to the day, each in its sender's own time) is kept
         * as sent, with a warning (F154) */
        if (dis.s.len && adm.s.len && before(dis.s, adm.s))
            adt_warn(c, "PV1-45",
                     "discharge time is before the admission time");
        o = put_member(c, o, &f, JW_KV("discharge_disposition"), disp);
        o = put_member(c, o, &f, JW_KV("visit_number"), visit);
        *first = f;
        jw_commit(&c->w, start, o);
    }
    bool dg = write_diagnoses(c);
    /* the diagnoses closed, cancel_of, the encounter closed (jw_arr_end's
     * and jw_obj_end's bytes and state, the depth known) */
    struct text cancel = { cancel_of ? slice_from_cstr(cancel_of)
                                     : SLICE_NULL, true };
    o = span_room(c, 2 + room(cancel));
    start = o;
    if (dg)
        *o++ = ']';
    f = w->first[2];
    o = put_member_lit(o, &f, JW_KV("cancel_of"), cancel);
    *o++ = '}';
    w->depth = 1;
    jw_commit(w, start, o);
}

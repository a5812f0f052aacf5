/*
 * adt.c - HL7 v2 ADT messages to canonical events (see /CANON in
 * adapters/common/canon.h and schemas/canonical-event.schema.json).
 *
 * Topics by trigger (MSH-9.2, or EVN-1 when MSH-9 has no event; "A11_A09",
 * the trigger and structure joined, is read as A11; an EVN-1 that names
 * another trigger than MSH-9.2 is a warning):
 *   A01 -> adt.admit           A02 -> adt.transfer     A03 -> adt.discharge
 *   A04, A28 -> adt.register   A08, A31 -> adt.update  A40 -> adt.merge
 *   A18, A34, A36, A39 -> adt.merge   the older patient merges (2.2-2.6,
 *       still sent by v2.3/2.4 systems): same PID/MRG groups as A40, so
 *       a merge is not lost to an AR because the sender predates A40.
 *   A46, A47, A48 -> adt.merge   change patient id / identifier list /
 *       alternate id (ADT_A30): the id in MRG-4 / MRG-1 / MRG-2 was wrong
 *       and is now PID-2's / PID-3's / PID-4's; a subscriber that knows
 *       the patient by the old id re-keys as for a merge (Epic sends A47
 *       for a corrected MRN). merged_from holds MRG-1, -4 and -2, less
 *       any id the PID still carries (the superior ids HL7 repeats in
 *       both segments): only what was retired.
 *   A05, A14 -> adt.register   pre-admit / pending admit: the patient is
 *       registered for a visit but not in a bed; a subscriber (care manager,
 *       health plan) acts on adt.admit as "this member is in the hospital
 *       now", so a pre-admission must not look like one.
 *   A06, A07 -> adt.transfer   change outpatient<->inpatient: the patient
 *       moves to another level of care (an ED visit that becomes an inpatient
 *       stay is the common A06). Subscribers filter transfers by
 *       encounter.patient_class; as adt.update this clinical event would be
 *       buried among demographic corrections.
 *   A11, A12, A13 -> adt.update with encounter.cancel_of = "A01", "A02",
 *       "A03": the earlier event did not happen; the subscriber corrects
 *       its view of the visit. A27, A38 likewise cancel the pending admit
 *       (A14) and the pre-admission (A05) taken as adt.register.
 * Other ADT triggers: HUB_EUNSUPPORTED at MSH-9.2 (AR, quarantined: the
 * sender learns at once which triggers of its feed to filter out); other
 * message types: HUB_EUNSUPPORTED at MSH-9. Among them A15/A26 and
 * A16/A25 (pending transfer or discharge, and their cancels; Epic sends
 * A15 from its ED): a plan, not a move. The patient is where adt.admit or
 * adt.transfer put them until the A02 or A03 that follows, which is what
 * a care manager acts on; as adt.update the plan would look like a change
 * of the visit, and the canonical encounter has no pending location.
 *
 * One event per message, except A40, which may merge several patients: one
 * adt.merge per PID/MRG group. Values are written as sent (unescaped,
 * trimmed); codes are mapped only where the mapping is obvious. A value that
 * cannot be read (a malformed date, an unknown sex code, a PID-19 that is
 * no SSN, an identifier of marks alone: "*****") is left out and named in
 * "warnings" by field, never by value; a doubtful one (a birth date
 * before 1880 or after MSH-7) is kept as sent with a warning, and so is
 * a message without the PV1 its trigger requires (an empty encounter), or
 * without a field HL7 marks required among those read (PID-3 when PID-2
 * or PID-4 stands in, PID-5, PV1-2 of a PV1 sent): its events are the
 * same, the warning named by the field.
 * Identifiers out of effect or failing their check digit: adt_patient.c;
 * so is the identifier of a patient none of whose identifiers links
 * (MSH-10 and MSH-7, write_by_message), and a merge into such a patient
 * is refused at PID-3 (one_event).
 * A protection indicator or an access restriction labels every event of
 * the message "restricted" (adt_protect.c).
 * hl7_to_events_warn gives the warnings to the ACK too (ERR segments of
 * severity W).
 *
 * This file is the event: the trigger, MSH and EVN, one event per PID
 * group, the labels and the warnings. Its parts: adt_int.h (the context
 * and the value accessors they share), adt_time (HL7 DTM to ISO 8601),
 * adt_codes (code maps), adt_patient (PID, MRG), adt_visit (PV1, PV2,
 * DG1), adt_protect (PD1-12, PV2-22, ARV). adt_v3.c compiles them all
 * again, in one unit, for x86-64-v3.
 */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "common/dict.h"
#include "common/jw.h"
#include "common/strset.h"
#include "hl7v2/adt_codes.h"
#include "hl7v2/adt_int.h"
#include "hl7v2/adt_time.h"
#include "hl7v2/hl7v2_int.h"

/* The warning, once an event (by field and reason: the first segment
 * that warns it is the one named) */
static void warn_seq(struct ctx *c, const char *field, const char *what,
                     unsigned seq)
{
    for (unsigned k = 0; k < c->nwarn; k++)
        if (c->warn[k].field == field && c->warn[k].what == what)
            return;
    if (c->nwarn < ADT_MAX_WARNINGS)
        c->warn[c->nwarn++] = (struct hl7_warning){ field, what, seq };
}

/* Segment k's ordinal among m's segments of its ID, from 1 (HL7's ERR-2.2
 * segment sequence) */
static unsigned seg_seq(const struct hl7_msg *m, uint32_t k)
{
    unsigned n = 1;
    for (uint32_t i = 0; i < k; i++)
        n += memcmp(m->seg[i].id, m->seg[k].id, 4) == 0;
    return n;
}

/* The segment a warning of `field` ("PID-7", "PV1") is of, when the
 * writer did not say (adt_warn): the event reads the first of its ID in
 * its group (one_event), and MSH and EVN, before any group, the message's
 * first; 0 for none (a segment missing) */
static unsigned field_seq(const struct ctx *c, const char *field)
{
    const struct hl7_msg *m = c->m;
    char id[4] = { 0 };
    for (int i = 0; i < 3 && field[i]; i++)
        id[i] = field[i];
    for (uint32_t k = c->lo; k < c->hi; k++)
        if (memcmp(m->seg[k].id, id, 4) == 0)
            return seg_seq(m, k);
    for (uint32_t k = 0; k < c->lo; k++)
        if (memcmp(m->seg[k].id, id, 4) == 0)
            return seg_seq(m, k);
    return 0;
}

/* Out of line: the writers call it on their rare paths, and it measured
 * to pay so (callgrind over the bench corpus). Its segment is found when
 * the ACK's list is made (warn_all): a larger body here cost the callers
 * of every message (GCC keeps their values in the registers it leaves). */
ADT_FN __attribute__((noinline)) void adt_warn(struct ctx *c,
                                               const char *field,
                                               const char *what)
{
    warn_seq(c, field, what, 0);
}

ADT_FN __attribute__((noinline)) void adt_warn_at(struct ctx *c,
                                                  const struct hl7_seg *s,
                                                  const char *field,
                                                  const char *what)
{
    warn_seq(c, field, what, seg_seq(c->m, (uint32_t)(s - c->m->seg)));
}

/* ---- the event ---------------------------------------------------------- */

/* What every event of a message says about its source: MSH and the trigger,
 * read once. */
struct source {
    struct text message_id, application, facility, version, trigger;
};

/* An ADT event is 1-3 KB: room for that up front saves the buffer's
 * doublings (a 4 KB buffer; an A40 with many patients pays that per
 * event, so no more). */
#define ADT_JSON_CAP 4096

/* Where "PID" and the field separator stand inside segment k, past its
 * own ID; SIZE_MAX if nowhere. */
static size_t pid_inside(const struct hl7_msg *m, uint32_t k)
{
    size_t end = m->seg[k].end < m->len ? m->seg[k].end : m->len;
    for (size_t i = m->seg[k].off + 3; i + 3 < end; i++)
        if (m->p[i] == 'P' && m->p[i + 1] == 'I' && m->p[i + 2] == 'D' &&
            (unsigned char)m->p[i + 3] == m->fs)
            return i;
    return SIZE_MAX;
}

/* The refusal of a message without PID; when its segments seem to run
 * together (spaces where CRs belong, or nothing at all: a string joined
 * without its CRs, "...^UUIDPID|1||..."), the reason says so and the
 * offset is the first such space, else the PID inside another segment.
 * Out of line: the error path. */
static __attribute__((noinline)) int pid_missing(const struct hl7_msg *m,
                                                 struct hub_err *err)
{
    size_t at = SIZE_MAX;
    for (uint32_t k = 0; k < m->nseg && at == SIZE_MAX; k++)
        at = hl7_segment_run_on(m, m->seg[k].off, m->seg[k].end);
    for (uint32_t k = 0; k < m->nseg && at == SIZE_MAX; k++)
        at = pid_inside(m, k);
    if (at != SIZE_MAX)
        return hub_err_set(err, HUB_EINVALID, "PID", at,
                           "required segment PID is missing: segment "
                           "separators (CR) are likely missing");
    return hub_err_set(err, HUB_EINVALID, "PID", 0,
                       "required segment PID is missing");
}

/* ---- values the sender cut short (F2842) ------------------------------- */

/* one string, so that cut_fields finds its warnings by the pointer */
static const char CUT_SHORT_WHAT[] =
    "value cut short by the sender (truncation character)";

/* "SEG-0" to "SEG-59": the names of the fields of the segments the
 * normalizer reads, static as a warning's field is (hl7v2.h) */
#define CUT_TEN(seg, t) \
    seg "-" #t "0", seg "-" #t "1", seg "-" #t "2", seg "-" #t "3", \
    seg "-" #t "4", seg "-" #t "5", seg "-" #t "6", seg "-" #t "7", \
    seg "-" #t "8", seg "-" #t "9"
#define CUT_NAMES(seg) { CUT_TEN(seg, ), CUT_TEN(seg, 1), CUT_TEN(seg, 2), \
                         CUT_TEN(seg, 3), CUT_TEN(seg, 4), CUT_TEN(seg, 5) }
#define CUT_SEGS "MSHEVNPIDPD1MRGPV1PV2DG1ARV"
#define CUT_NSEG (sizeof(CUT_SEGS) / 3)
#define CUT_NFIELD 60u
static const char cut_names[CUT_NSEG][CUT_NFIELD][7] = {
    CUT_NAMES("MSH"), CUT_NAMES("EVN"), CUT_NAMES("PID"), CUT_NAMES("PD1"),
    CUT_NAMES("MRG"), CUT_NAMES("PV1"), CUT_NAMES("PV2"), CUT_NAMES("DG1"),
    CUT_NAMES("ARV"),
};

/* The field of m that holds byte `at` of m->p, as "PID-5", or NULL (none
 * the normalizer reads), and its segment in *seg. Its segment's field
 * separators before it count its field: they are never escaped; MSH's
 * first is MSH-1. */
static __attribute__((cold)) const char *field_at(const struct hl7_msg *m,
                                                  const char *at,
                                                  const struct hl7_seg **seg)
{
    if (at < m->p || at >= m->p + m->len)
        return NULL;
    uint32_t off = (uint32_t)(at - m->p);
    for (uint32_t k = 0; k < m->nseg; k++) {
        const struct hl7_seg *s = &m->seg[k];
        if (off < s->off || off >= s->end)
            continue;
        unsigned f = k == 0;
        for (const char *q = m->p + s->off; q < at; q++)
            f += (unsigned char)*q == m->fs;
        *seg = s;
        for (unsigned i = 0; i < CUT_NSEG; i++)
            if (memcmp(s->id, &CUT_SEGS[3 * i], 3) == 0 && s->id[3] == '\0')
                return f < CUT_NFIELD ? cut_names[i][f] : NULL;
        return NULL;
    }
    return NULL;
}

/* hl7_unescape took a mark off a value the event reads (cut_fields' run):
 * between the event's brace and its end; a value read after, to refuse or
 * accept the event, is not carried */
static __attribute__((cold)) void cut_heard(void *arg, const char *at)
{
    struct ctx *c = arg;
    const struct hl7_seg *s = NULL;
    const char *field = field_at(c->m, at, &s);
    if (c->w.depth > 0 && field)
        adt_warn_at(c, s, field, CUT_SHORT_WHAT);
}

/* HL7 v2.5 ch. 3: PV1 is required in the message structure of every
 * trigger taken but the merges and identifier changes of ADT_A30 (A34,
 * A36, A46-A48) and ADT_A39 (A39, A40); topic_of took "Ann" only */
ADT_ALWAYS_INLINE bool pv1_required(struct slice trig)
{
    return !(trig.p[1] == '3' && (trig.p[2] == '4' || trig.p[2] == '6' ||
                                  trig.p[2] == '9')) &&
           !(trig.p[1] == '4' && (trig.p[2] == '0' ||
                                  (trig.p[2] >= '6' && trig.p[2] <= '8')));
}

/* v, trimmed, ends with the sender's mark of a value cut short */
static __attribute__((cold)) bool ends_cut(const struct hl7_msg *m,
                                           struct slice v)
{
    v = slice_trim(v);
    return v.len && (unsigned char)v.p[v.len - 1] == m->tc;
}

/* A value of MSH or EVN read raw (to_events), trimmed and with the
 * sender's mark of a value cut short taken off its end, as hl7_unescape
 * takes it off the others (F2922). Out of line: asked only of a value
 * that is no type, event or version as it stands. */
static __attribute__((noinline, cold)) struct slice uncut(
    const struct hl7_msg *m, struct slice v)
{
    v = slice_trim(v);
    if (ends_cut(m, v))
        v = slice_trim((struct slice){ v.p, v.len - 1 });
    return v;
}

/* EVN-1 names another event than the trigger taken: its first component,
 * trimmed, the mark off ("a08" and "A08" name one event: topic_of reads
 * either). Out of line: asked only when the two differ as sent. */
static __attribute__((noinline, cold)) bool evn1_other(const struct ctx *c,
                                                       struct slice e1,
                                                       struct slice trig)
{
    e1 = uncut(c->m, hl7_piece(e1, c->m->cs, 0));
    return e1.len && (e1.len != trig.len ||
                      strncasecmp(e1.p, trig.p, e1.len) != 0);
}

/* The values of MSH every event carries, read once before the events
 * (to_events: MSH-10, MSH-3.1, MSH-4.1, through msh_text): a mark at the
 * end of one, as hl7_unescape would take it off. */
static __attribute__((cold)) void source_cut(struct ctx *c)
{
    static const struct { unsigned char f; bool comp1; } src[] = {
        { 10, false }, { 3, true }, { 4, true },
    };
    for (size_t k = 0; k < sizeof(src) / sizeof(src[0]); k++)
        if (ends_cut(c->m, msh_raw(c, src[k].f, src[k].comp1).v))
            adt_warn(c, cut_names[0][src[k].f], CUT_SHORT_WHAT);
    /* the type, trigger and version, read raw and trimmed (to_events,
     * uncut): MSH-9.1, MSH-9.2 (EVN-1.1 when it is empty), MSH-12.1 */
    struct slice t1, t2, v1, v2;
    comps12(c, msh_raw(c, 9, false).v, &t1, &t2);
    if (ends_cut(c->m, t1) || ends_cut(c->m, t2))
        adt_warn(c, cut_names[0][9], CUT_SHORT_WHAT);
    else if (trim(t2).len == 0 &&
             ends_cut(c->m, hl7_piece(rep_raw(c, hl7_seg_find(c->m, "EVN", 0),
                                              1, 0).v, c->m->cs, 0)))
        adt_warn(c, cut_names[1][1], CUT_SHORT_WHAT);
    comps12(c, msh_raw(c, 12, false).v, &v1, &v2);
    if (ends_cut(c->m, v1))
        adt_warn(c, cut_names[0][12], CUT_SHORT_WHAT);
}

static int one_event(struct ctx *c, const char *topic, const char *cancel_of,
                     const struct source *src, struct canon_list *out,
                     struct hub_err *err);

/* The event's warnings into the ACK's list of the message's, once each
 * by field, reason and segment: an A40's groups that warn alike are each
 * told. Rare: a message with a warning. */
static __attribute__((noinline, cold)) void warn_all(struct ctx *c)
{
    struct hl7_warnings *all = c->all;
    for (unsigned k = 0; k < c->nwarn; k++) {
        struct hl7_warning w = c->warn[k];
        if (w.seq == 0)
            w.seq = field_seq(c, w.field);
        unsigned q = 0;
        while (q < all->n && !(all->w[q].field == w.field &&
                               all->w[q].what == w.what &&
                               all->w[q].seq == w.seq))
            q++;
        if (q == all->n && all->n < HL7_MAX_WARNINGS)
            all->w[all->n++] = w;
    }
}

/*
 * The fields this event carries whose value the sender cut short, warned
 * of in c: the event is written once beforehand, on a copy of the context
 * and into a list of its own, while hl7_unescape tells cut_heard of each
 * mark it takes off (the hearing ends with that run: nothing hears once
 * the context is gone); the source's values, read before, by source_cut.
 * Twice the work, for the few messages that hold the character.
 */
static __attribute__((cold)) void cut_fields(struct ctx *c,
                                             const char *topic,
                                             const char *cancel_of,
                                             const struct source *src)
{
    struct ctx k = *c;
    k.all = NULL;                   /* no ACK: this event is not sent */
    struct canon_list scratch = { 0 };
    struct hub_err err = { 0 };
    struct hl7_cut *h = c->m->cut;
    h->heard = cut_heard;
    h->arg = &k;
    (void)one_event(&k, topic, cancel_of, src, &scratch, &err);
    h->heard = NULL;
    h->arg = NULL;
    source_cut(c);
    for (unsigned n = 0; n < k.nwarn; n++)
        if (k.warn[n].what == CUT_SHORT_WHAT)
            warn_seq(c, k.warn[n].field, CUT_SHORT_WHAT, k.warn[n].seq);
}

/* What one_event says of a message with HL7_HIGH_UNREAD, HL7_HIGH_BAD_UTF8
 * or HL7_HIGH_CUT; out of line and rare, so that one_event's code is that
 * of every other message. */
static __attribute__((noinline)) void event_rare(struct ctx *c,
                                                 const char *topic,
                                                 const char *cancel_of,
                                                 const struct source *src)
{
    const struct hl7_msg *m = c->m;
    /* hl7_parse read the text in none of the sets it knows (hl7v2.c,
     * from_latin): its letters past ASCII are U+FFFD on the event */
    if (m->high & HL7_HIGH_UNREAD)
        adt_warn(c, "MSH-18", "text is not UTF-8 nor in a character set read "
                              "here; letters past ASCII replaced");
    /* declared UTF-8: only the bytes that are not UTF-8 were replaced */
    if (m->high & HL7_HIGH_BAD_UTF8)
        adt_warn(c, "MSH-18", "text declared UTF-8 has bytes that are not "
                              "UTF-8; each replaced");
    /* values the sender cut short; not again in the run of cut_fields */
    if ((m->high & HL7_HIGH_CUT) && m->cut->heard == NULL)
        cut_fields(c, topic, cancel_of, src);
}

static int one_event(struct ctx *c, const char *topic, const char *cancel_of,
                     const struct source *src, struct canon_list *out,
                     struct hub_err *err)
{
    const struct hl7_msg *m = c->m;
    const struct hl7_seg *msh = &m->seg[0];
    const struct hl7_seg *pid = NULL, *mrg = NULL, *pv1 = NULL;
    const struct hl7_seg *evn = hl7_first_seg(m, HL7_SLOT_EVN);

    /* the first PID, MRG and PV1 of the group: of the message, as the
     * parser noted them, unless the group is an A40's, in one pass */
    c->dg1 = c->hi;
    if (c->lo == 0 && c->hi == m->nseg) {
        pid = hl7_first_seg(m, HL7_SLOT_PID);
        mrg = hl7_first_seg(m, HL7_SLOT_MRG);
        pv1 = hl7_first_seg(m, HL7_SLOT_PV1);
        if (m->first[HL7_SLOT_DG1])
            c->dg1 = m->first[HL7_SLOT_DG1] - 1;
    } else {
        for (uint32_t k = c->hi; k-- > c->lo;) {
            const struct hl7_seg *s = &m->seg[k];
            if (memcmp(s->id, "PID", 4) == 0)
                pid = s;
            else if (memcmp(s->id, "MRG", 4) == 0)
                mrg = s;
            else if (memcmp(s->id, "PV1", 4) == 0)
                pv1 = s;
            else if (memcmp(s->id, "DG1", 4) == 0)
                c->dg1 = k;
        }
    }

    if (pid == NULL)
        return pid_missing(m, err);
    c->nwarn = 0;
    c->nlabels = 0;
    if (c->evn1_differs)
        adt_warn(c, "EVN-1",
                 "event type differs from MSH-9.2, which was taken");
    /* text not read, values cut short (event_rare) */
    if (__builtin_expect(m->high & (HL7_HIGH_UNREAD | HL7_HIGH_BAD_UTF8 |
                                   HL7_HIGH_CUT), 0))
        event_rare(c, topic, cancel_of, src);
    jw_init_cap(&c->w, c->a, ADT_MAX_JSON, ADT_JSON_CAP);
    struct jw *w = &c->w;
    {
        struct text type = { slice_from_cstr(topic), true };
        char *o = span_room(c, room(type) + 3 * ROOM_MEMBER + ROOM_TIME +
                                 room(src->message_id) +
                                 room(src->application) +
                                 room(src->facility) + room(src->version) +
                                 room(src->trigger)),
             *start = o;
        /* the event's brace: jw_obj_begin's bytes and state, the writer
         * being empty (jw_init_cap) */
        *o++ = '{';
        w->first[0] = false;
        w->depth = 1;
        w->first[1] = true;
        /* "format" comes first, a constant */
        static const char format[] = "{\"format\":\"hl7v2\"";
        o = jw_put_kv(o, &w->first[w->depth], JW_KV("type"), type.s, true);
        o = jw_put_key(o, &w->first[w->depth], JW_KEY("source"));
        memcpy(o, format, sizeof(format) - 1);
        o += sizeof(format) - 1;
        o = put_kv(c, o, JW_KV("message_id"), src->message_id);
        o = put_kv(c, o, JW_KV("sending_application"),
                   src->application);
        o = put_kv(c, o, JW_KV("sending_facility"), src->facility);
        o = put_kv(c, o, JW_KV("version"), src->version);
        o = put_kv(c, o, JW_KV("trigger"), src->trigger);
        *o++ = '}';
        /* EVN-6 event occurred, else EVN-2 recorded, else MSH-7 (after
         * "source": a member came before) */
        bool f = false;
        char *t = put_time(c, o, &f, JW_KV("occurred_at"), val1(c, evn, 6),
                           "EVN-6", 0);
        if (t == o)
            t = put_time(c, o, &f, JW_KV("occurred_at"), val1(c, evn, 2),
                         "EVN-2", 0);
        if (t == o)
            t = put_time(c, o, &f, JW_KV("occurred_at"), val1(c, msh, 7),
                         "MSH-7", 0);
        /* "patient":{, which adt_write_patient fills: key_open's bytes and
         * state (a member came before) */
        memcpy(t, JW_KEY("patient"));
        t += sizeof(",\"patient\":") - 1;
        *t++ = '{';
        w->first[2] = true;
        w->depth = 2;
        jw_commit(w, start, t);
    }

    bool merge = memcmp(topic, "adt.merge", 9) == 0;
    c->merged = c->merged_kept = false;
    c->message_id = &src->message_id;
    adt_write_patient(c, pid, merge ? mrg : NULL);
    /* a merge that names no prior identifier (MRG, MRG-1 and MRG-4 are
     * required in ADT_A39 and ADT_A30) cannot be applied by anyone: the
     * sender is told, as for a missing PID */
    if (merge && !c->merged)
        return hub_err_set(err, HUB_EINVALID, mrg ? "MRG-1" : "MRG",
                           mrg ? mrg->off : pid->off,
                           !mrg ? "required segment MRG is missing"
                           : c->merged_kept
                               ? "prior patient identifier is one the "
                                 "patient keeps: nothing was merged"
                               : "required field prior patient identifier "
                                 "is missing");
    /* a merge into a patient no identifier of the message links (each
     * one left out or unlinked, so known by its message alone) merges into
     * no one the sender or a subscriber knows: the prior patient's record
     * would move under this message's id, and the groups of one A40
     * would all be that one patient. The sender is told, as for a merge
     * with no prior identifier. A message whose PID-3 is empty is refused
     * below, as any other. */
    if (merge && c->by_message && (c->has_id[0] || c->has_id[1] ||
                                   c->has_id[2] ||
                                   val1(c, pid, 2).s.len ||
                                   val1(c, pid, 4).s.len))
        return hub_err_set(err, HUB_EINVALID, "PID-3", pid->off,
                           "no patient identifier links: a merge needs "
                           "the surviving patient's");
    /* accepted as HL7 v2 receivers commonly do (the patient is news
     * enough), with an empty visit: said so, to the sender and on the
     * event */
    if (pv1 == NULL && c->pv1_required)
        adt_warn(c, "PV1", "required segment PV1 is missing");
    adt_write_encounter(c, pv1, cancel_of);
    /* HL7's protection indicators and access restrictions: the label an
     * operator grants, as FHIR's confidentiality R and V give */
    if ((m->first[HL7_SLOT_PD1] | m->first[HL7_SLOT_PV2] |
         m->first[HL7_SLOT_ARV]) &&
        adt_may_restrict(c) && adt_access_restricted(c))
        strset_add(c->labels, &c->nlabels, ADT_MAX_LABELS, "restricted");

    if (c->nlabels) {
        key_open(c, JW_KEY("sensitivity"), '[');
        for (size_t k = 0; k < c->nlabels; k++)
            jw_cstr(w, c->labels[k]);
        jw_arr_end(w);
    }
    if (c->nwarn) {
        key_open(c, JW_KEY("warnings"), '[');
        for (unsigned k = 0; k < c->nwarn; k++) {
            jw_obj_begin(w);
            jw_kv_cstr(w, "field", c->warn[k].field);
            jw_kv_cstr(w, "what", c->warn[k].what);
            jw_obj_end(w);
        }
        jw_arr_end(w);
    }
    jw_obj_end(w);

    /* PID-3.1 of the first repetition, or any id written from PID-2, -3
     * or -4, else PID-2.1 or PID-4.1: checked here, as the identifiers
     * read PID-3 already (the event written so far is dropped when it
     * fails) */
    if (!c->has_id[0] && !c->has_id[1] && !c->has_id[2] &&
        val1(c, pid, 2).s.len == 0 &&
        val1(c, pid, 4).s.len == 0)
        return hub_err_set(err, HUB_EINVALID, "PID-3", pid->off,
                           "required field patient identifier is missing");

    struct slice json;
    int rc = jw_finish(w, &json);
    if (rc != HUB_OK)
        return hub_err_set(err, rc, "message", 0,
                           "canonical event is larger than the limit");
    rc = canon_list_push(c->a, out, topic, json);
    if (rc != HUB_OK)
        return hub_err_set(err, rc, "message", 0, "too many events");
    if (c->all && c->nwarn)
        warn_all(c);
    return HUB_OK;
}

/* The events of a message whose topic is known: one, or (A40 and the
 * older merges) one per PID group (PID, PD1, MRG, PV1); a group refused
 * refuses the message, leaving no event. */
ADT_ALWAYS_INLINE int events_of(struct ctx *c, const char *topic,
                                const char *cancel_of,
                                const struct source *src,
                                struct canon_list *out, struct hub_err *err)
{
    const struct hl7_msg *m = c->m;
    /* every topic is a literal of at least 9 bytes and its NUL */
    if (memcmp(topic, "adt.merge", 10) != 0)
        return one_event(c, topic, cancel_of, src, out, err);

    int groups = 0;
    size_t n0 = out->n;
    for (uint32_t k = 0; k < m->nseg; k++) {
        if (memcmp(m->seg[k].id, "PID", 4) != 0)
            continue;
        uint32_t e = k + 1;
        while (e < m->nseg && memcmp(m->seg[e].id, "PID", 4) != 0)
            e++;
        c->lo = k;
        c->hi = e;
        int rc = one_event(c, topic, NULL, src, out, err);
        if (rc != HUB_OK) {
            out->n = n0;
            return rc;
        }
        groups++;
    }
    if (groups == 0)
        return pid_missing(m, err);
    return HUB_OK;
}

/*
 * The events of a message whose trigger (src->trigger) is no topic as
 * sent: with the sender's mark of a value cut short taken off ("A01#",
 * "A11_A09#", F2922), EVN-1 compared again with what MSH-9.2 then says;
 * or the refusal, at `place`. Out of line, apart from to_events' every
 * message.
 */
static __attribute__((noinline, cold)) int
events_uncut(struct ctx *c, struct source *src, bool from_msh, size_t place,
             struct canon_list *out, struct hub_err *err)
{
    struct slice trig = uncut(c->m, src->trigger.s);
    const char *cancel_of = NULL, *topic = NULL;
    if (trig.len != src->trigger.s.len) {
        if (trig.len == 7 && trig.p[3] == '_')
            trig.len = 3;
        topic = topic_of(trig, &cancel_of);
    }
    if (topic == NULL) {
        /* neither MSH-9.2 nor EVN-1 says the event: missing, as an empty
         * MSH-9 is, not an event the hub does not take */
        if (trig.len == 0 ||        /* or the HL7 null "" */
            (trig.len == 2 && trig.p[0] == '"' && trig.p[1] == '"'))
            return hub_err_set(err, HUB_EINVALID, "MSH-9.2", place,
                               "required field trigger event is missing");
        return hub_err_set(err, HUB_EUNSUPPORTED, "MSH-9.2", place,
                           "event type is not supported");
    }
    src->trigger.s = trig;
    if (from_msh)
        c->evn1_differs = evn1_other(
            c, rep_raw(c, hl7_first_seg(c->m, HL7_SLOT_EVN), 1, 0).v, trig);
    c->pv1_required = pv1_required(trig);
    return events_of(c, topic, cancel_of, src, out, err);
}

/* hl7_to_events itself, or (in adt_v3.c) its x86-64-v3 build */
#if defined(ADT_V3)
#define ADT_TO_EVENTS hl7_to_events_v3
int hl7_to_events_v3(struct arena *a, const struct dict *d,
                     const struct hl7_msg *m, struct canon_list *out,
                     struct hl7_warnings *warn, struct hub_err *err);
#else
#define ADT_TO_EVENTS to_events
static
#endif
int ADT_TO_EVENTS(struct arena *a, const struct dict *d,
                  const struct hl7_msg *m, struct canon_list *out,
                  struct hl7_warnings *warn, struct hub_err *err)
{
    if (m == NULL || m->nseg == 0)
        return hub_err_set(err, HUB_EINVALID, "MSH", 0,
                           "message was not parsed");

    /* not zeroed as a whole: jw_init and one_event set the rest (the
     * warnings alone are 512 bytes) */
    struct ctx c;
    c.a = a;
    c.d = d;
    c.m = m;
    c.lo = 0;
    c.hi = m->nseg;
    c.nwarn = 0;
    c.all = warn;
    c.nlabels = 0;
    c.in = (uintptr_t)m->p;
    c.in16_end = c.in + (m->len >= 16 ? m->len - 15 : 0);
#if defined(ADT_VEC)
    c.invec = m->len >= VEC_BYTES ? m->len - (VEC_BYTES - 1) : 0;
#endif
    c.cs = m->cs == HL7_NO_SEP ? m->fs : m->cs;
    c.rs = m->rs == HL7_NO_SEP ? m->fs : m->rs;
#if defined(ADT_VEC)
    c.x_cs = vec_set(c.cs);
    c.x_rs = vec_set(c.rs);
    /* no subcomponent separator: a NUL, found nowhere (match3) */
    c.x_ss = vec_set(m->ss == HL7_NO_SEP ? 0 : m->ss);
    c.x_sp = vec_set(' ');
#endif

    /* MSH-9 (type, trigger), -10 and -12 read once, raw and trimmed as
     * hl7v2.h's accessors give them */
    struct raw type = msh_raw(&c, 9, false);
    struct slice type1, type2;
    comps12(&c, type.v, &type1, &type2);
    if (!upper_eq(trim(type1), "ADT") &&
        !upper_eq(uncut(m, type1), "ADT")) {
        /* an empty MSH-9 is a broken header, not a type the hub does not
         * take (a field added before it shifts every later field) */
        if (trim(type1).len == 0 && trim(type2).len == 0)
            return hub_err_set(err, HUB_EINVALID, "MSH-9",
                               msh_field_at(&c, type.v),
                               "required field message type is missing");
        return hub_err_set(err, HUB_EUNSUPPORTED, "MSH-9",
                           msh_field_at(&c, type.v),
                           "message type is not supported");
    }

    struct raw vers = msh_raw(&c, 12, false);
    struct slice ver, ver2;
    comps12(&c, vers.v, &ver, &ver2);
    ver = trim(ver);
    if (ver.len == 0)
        return hub_err_set(err, HUB_EINVALID, "MSH-12",
                           msh_field_at(&c, vers.v),
                           "required field version id is missing");
    if (ver.len < 3 || ver.p[0] != '2' || ver.p[1] != '.' ||
        ver.p[2] < '1' || ver.p[2] > '9')
        return hub_err_set(err, HUB_EUNSUPPORTED, "MSH-12",
                           msh_field_at(&c, vers.v),
                           "version is not HL7 v2.1 to v2.9");
    struct raw ctrl = msh_raw(&c, 10, false);
    if (trim(ctrl.v).len == 0)
        return hub_err_set(err, HUB_EINVALID, "MSH-10",
                           msh_field_at(&c, ctrl.v),
                           "required field message control id is missing");

    struct source src;
    src.message_id = msh_text(&c, ctrl);
    struct raw app = msh_raw(&c, 3, true), fac = msh_raw(&c, 4, true);
    src.application = msh_text(&c, app);
    src.facility = msh_text(&c, fac);
    /* a version with a mark or an escape: the mark off ("2.7#") */
    src.version = vers.special ? (struct text){ uncut(m, ver), false }
                               : (struct text){ ver, true };
    struct slice trig = trim(type2);
    /* "A11_A09": the trigger and the message structure (MSG.3) joined by
     * an underscore in one component, as ORBIS sends them */
    if (trig.len == 7 && trig.p[3] == '_')
        trig.len = 3;
    c.evn1_differs = false;
    if (trig.len) {
        src.trigger = (struct text){ trig, !type.special };
        /* HL7 v2.5 ch. 3: EVN-1 is kept for backward compatibility only,
         * MSH-9.2 says the event; a sender whose two disagree (ORBIS:
         * ADT^A08 with EVN-1 A04) is told which was taken */
        struct slice e1 =
            rep_raw(&c, hl7_first_seg(m, HL7_SLOT_EVN), 1, 0).v;
        bool same = e1.len == trig.len;     /* "A08" as sent: most do */
        if (same && trig.len == 3)          /* no loop for those */
            same = e1.p[0] == trig.p[0] && e1.p[1] == trig.p[1] &&
                   e1.p[2] == trig.p[2];
        else
            for (size_t k = 0; same && k < trig.len; k++)
                same = e1.p[k] == trig.p[k];
        if (!same)
            c.evn1_differs = evn1_other(&c, e1, trig);
    } else {
        /* v2.1/2.2 senders may leave MSH-9.2 empty: EVN-1 then says it */
        struct raw evn1 = rep_raw(&c, hl7_seg_find(m, "EVN", 0), 1, 0);
        trig = slice_trim(hl7_piece(evn1.v, m->cs, 0));
        src.trigger = (struct text){ trig, !evn1.special };
    }
    const char *cancel_of = NULL;
    const char *topic = topic_of(trig, &cancel_of);
    if (topic == NULL)          /* the mark off, or refused (F2922) */
        return events_uncut(&c, &src, trim(type2).len != 0,
                            msh_field_at(&c, type2.p ? type2 : type.v),
                            out, err);
    c.pv1_required = pv1_required(trig);
    return events_of(&c, topic, cancel_of, &src, out, err);
}

#if !defined(ADT_V3)
#if HL7_HAVE_V3
int hl7_to_events_v3(struct arena *a, const struct dict *d,
                     const struct hl7_msg *m, struct canon_list *out,
                     struct hl7_warnings *warn, struct hub_err *err);
#endif

int hl7_to_events(struct arena *a, const struct hl7_msg *m,
                  struct canon_list *out, struct hub_err *err)
{
    return hl7_to_events_warn(a, m, out, NULL, err);
}

int hl7_to_events_warn(struct arena *a, const struct hl7_msg *m,
                       struct canon_list *out, struct hl7_warnings *warn,
                       struct hub_err *err)
{
    return hl7_to_events_dict(a, NULL, m, out, warn, err);
}

int hl7_to_events_dict(struct arena *a, const struct dict *d,
                       const struct hl7_msg *m, struct canon_list *out,
                       struct hl7_warnings *warn, struct hub_err *err)
{
    int rc;
    if (warn)
        warn->n = 0;
#if HL7_HAVE_V3
    if (hl7_cpu_v3())
        rc = hl7_to_events_v3(a, d, m, out, warn, err);
    else
#endif
        rc = to_events(a, d, m, out, warn, err);
    if (rc != HUB_OK && warn)
        warn->n = 0;                /* no events: nothing was kept */
    /* offsets name the place in the bytes sent, not in a translation */
    if (rc != HUB_OK && m && m->sent)
        err->offset = hl7_sent_offset(m, err->offset);
    return rc;
}
#endif

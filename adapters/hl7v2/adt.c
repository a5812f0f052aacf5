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
 * An identifier of PID-2, -3 or -4 that was out of effect at MSH-7 (CX-8
 * expiration date before it, CX-7 effective date after it) is kept and
 * marked "inactive": the linker passes it by. So is a national number
 * that fails its check digit (common/natid.h: an NHS number under NHS,
 * NHSNBR, NHSNMBR or its OID, an NPI, an MBI...), with a warning.
 * A protection indicator or an access restriction labels every event of
 * the message "restricted" (adt_protect.c).
 * hl7_to_events_warn gives the warnings to the ACK too (ERR segments of
 * severity W).
 */
#include <assert.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "common/dict.h"
#include "common/idsys.h"
#include "common/jw.h"
#include "common/natid.h"
#include "common/postal.h"
#include "common/ssn.h"
#include "common/strset.h"
#include "hl7v2/adt_codes.h"
#include "hl7v2/adt_int.h"
#include "hl7v2/adt_time.h"
#include "hl7v2/hl7v2_int.h"

/* Out of line: the writers call it on their rare paths, and it measured
 * to pay so (callgrind over the bench corpus). */
ADT_FN __attribute__((noinline)) void adt_warn(struct ctx *c,
                                               const char *field,
                                               const char *what)
{
    for (unsigned k = 0; k < c->nwarn; k++)
        if (c->warn[k].field == field && c->warn[k].what == what)
            return;
    if (c->nwarn < ADT_MAX_WARNINGS)
        c->warn[c->nwarn++] = (struct hl7_warning){ field, what };
}

/* ---- writers ------------------------------------------------------------ */

/* Whether v (not empty) is among seen[0..n): `lens` has bit len % 64 of
 * each, so that most are ruled out by one test (their lengths differ),
 * then the lengths, then the bytes. */
static inline bool seen_has(const struct slice *seen, unsigned n,
                            uint64_t lens, struct slice v)
{
    if (!((lens >> (v.len & 63)) & 1))
        return false;
    for (unsigned k = 0; k < n; k++) {
        if (seen[k].len != v.len)
            continue;
        if (v.len >= 8) {       /* the first eight bytes first, no call */
            uint64_t a, b;
            memcpy(&a, seen[k].p, 8);
            memcpy(&b, v.p, 8);
            if (a != b)
                continue;
        }
        /* (two empty ones are the same, and may be NULL: no memcmp) */
        if (v.len == 0 || memcmp(seen[k].p, v.p, v.len) == 0)
            return true;
    }
    return false;
}

/* pre (n bytes) and s, in the arena; lower: s in lower case (a UUID) */
static struct text prefixed(const struct ctx *c, const char *pre, size_t n,
                            struct slice s, bool lower)
{
    char *p = arena_alloc(c->a, n + s.len);
    memcpy(p, pre, n);
    for (size_t i = 0; i < s.len; i++)
        p[n + i] = lower && s.p[i] >= 'A' && s.p[i] <= 'Z'
                       ? (char)(s.p[i] | 0x20)
                       : s.p[i];
    return (struct text){ { p, n + s.len }, false };   /* checked */
}

/* An ISO OID as a system: the FHIR URI of the NPI's or the MBI's OID, as
 * C-CDA and FHIR write them (idsys_national), so that a Medicare number
 * sent by a hospital and by a plan's C-CDA is one identifier; any other
 * OID as urn:oid:. The SSN's OID stays urn:oid: here: it becomes the
 * us-ssn URI only for CX-5 SS, whose value is checked as an SSN
 * (ssa_system). */
static struct text oid_system(const struct ctx *c, struct slice oid)
{
    const struct idsys_national *nat = idsys_national(oid);
    if (nat && strcmp(nat->type, "SS") != 0) {
        _Static_assert(sizeof("http://hl7.org/fhir/sid/us-npi") - 1 > 16,
                       "put_bytes: a plain literal");
        return (struct text){ slice_from_cstr(nat->uri), true };
    }
    return prefixed(c, "urn:oid:", 8, oid, false);
}

/*
 * CX-4, the assigning authority, as the identifier's system. A universal
 * id (HD-2, its type in HD-3) names the authority for everyone: an ISO
 * OID is written urn:oid:, as C-CDA and FHIR write it, a UUID urn:uuid:,
 * a URI as it is. A namespace (HD-1: HL7 v2 table 0363 is user-defined)
 * names it only inside the sender and is written as sent; the hub scopes
 * a system that is no URI by the sending organization, so two hospitals'
 * "MRN" 1234 never link (hub_id_system). So HD-2 first: a sender that
 * writes the authority as its OID alone, or as both, gets one system
 * (F113). An OID in HD-1 with no HD-2 is an OID too. With no CX-4 at
 * all, CX-9 (the assigning jurisdiction, 2.5 on: a province's health
 * card is often sent as `^^^^JHN^^^^CANON`) stands in as the namespace,
 * so that its numbers are not taken for the sender's unqualified ones and
 * an operator can map it (hubctl org authority; F115). Out of line: most
 * CX carry a namespace alone.
 */
static __attribute__((noinline)) struct text
cx_authority(const struct ctx *c, struct text ns, const struct parts *pt)
{
    struct text uid = part(c, pt, 4, 2);
    if (ns.s.len == 0 && uid.s.len == 0 && pt->n > 5) {
        /* CX-9.1: the CX is split at 5, its rest (CX-6 on) component 6 */
        struct slice j = hl7_piece(raw_part(pt, 6), c->m->cs, 3);
        ns = text_of(c, hl7_piece(j, c->m->ss, 0), pt->special);
    }
    if (uid.s.len) {
        struct slice type = trim(part(c, pt, 4, 3).s);
        if (idsys_is_oid(uid.s) && (type.len == 0 || upper_eq(type, "ISO")))
            return oid_system(c, uid.s);
        if ((upper_eq(type, "UUID") || upper_eq(type, "GUID")) &&
            idsys_is_uuid(uid.s))
            return prefixed(c, "urn:uuid:", 9, uid.s, true);   /* as C-CDA */
        if (idsys_is_uri(uid.s))
            return uid;
        if (ns.s.len == 0)
            return uid;         /* another kind (DNS, L): the sender's */
    }
    if (idsys_is_oid(ns.s))
        return oid_system(c, ns.s);
    return ns;
}

/* The system write_cx writes for CX `pt`, split at 5 (split_as) */
ADT_ALWAYS_INLINE struct text cx_system(const struct ctx *c,
                                        const struct parts *pt)
{
    struct text ns = part(c, pt, 4, 1);
    /* the common case inline: a namespace alone, that is no OID, or none
     * and no CX-9 */
    if (pt->quick && (ns.s.len ? ns.s.p[0] < '0' || ns.s.p[0] > '2'
                               : pt->n < 6))
        return ns;              /* no subcomponent, so no HD-2 */
    return cx_authority(c, ns, pt);
}

/* The system of an SSN (CX-5 SS) whose authority names the US Social
 * Security Administration (HL7 table 0363 USSSA, or SSA, or the SSN's
 * OID): the us-ssn URI that PID-19 and the other adapters write, so that
 * one SSN is one identifier whichever field or format carried it. Any
 * other authority as it is. */
ADT_ALWAYS_INLINE struct text ssa_system(struct text sys)
{
    _Static_assert(sizeof(SSN_SYSTEM) - 1 > 16, "put_bytes: a plain literal");
    if (upper_eq(sys.s, "USSSA") || upper_eq(sys.s, "SSA") ||
        slice_eq(sys.s, "urn:oid:2.16.840.1.113883.4.1"))
        return TEXT_LIT(SSN_SYSTEM);    /* plain: longer than 16 bytes */
    return sys;
}

/* CX: value, assigning authority (cx_system), identifier type, and
 * "inactive" when it was not in effect as the message was sent
 * (cx_out_of_effect). `v` is CX.1 and `type` CX.5, already read; v not
 * empty. */
ADT_ALWAYS_INLINE void write_cx(struct ctx *c, struct text v, struct text sys,
                                struct text type, bool inactive)
{
    static const char mark[] = ",\"inactive\":true";
    char *o = span_room(c, room(v) + room(sys) + room(type) + ROOM_MEMBER),
         *start = o;
    char *obj = o = span_open(c, o);
    o = put_kv(c, o, JW_KV("value"), v);
    o = put_kv(c, o, JW_KV("system"), sys);
    o = put_kv(c, o, JW_KV("type"), type);
    if (inactive) {
        memcpy(o, mark, sizeof(mark) - 1);
        o += sizeof(mark) - 1;
    }
    o = span_seal(obj, o, '{', '}');
    jw_commit(&c->w, start, o);
}

/* Whether a and b are the same number once the dashes and spaces that
 * format an SSN ("123-45-6789") are left out. */
static bool same_ssn(struct slice a, struct slice b)
{
    size_t i = 0, j = 0;
    for (;;) {
        while (i < a.len && (a.p[i] == '-' || a.p[i] == ' '))
            i++;
        while (j < b.len && (b.p[j] == '-' || b.p[j] == ' '))
            j++;
        if (i == a.len || j == b.len)
            return i == a.len && j == b.len;
        if (a.p[i++] != b.p[j++])
            return false;
    }
}

/* An SSN in the form every adapter writes (common/ssn.h): nine digits,
 * when v is nine digits once dashes and spaces are left out; else v.
 * Cold: most SSNs come as nine digits, which callers pass by (len > 9). */
__attribute__((noinline, cold)) static struct text
ssn_canon(struct ctx *c, struct text v)
{
    char d[9];
    if (!ssn_digits(v.s.p, v.s.len, d))
        return v;
    char *p = arena_alloc(c->a, sizeof(d));
    memcpy(p, d, sizeof(d));
    return (struct text){ { p, sizeof(d) }, false };   /* not in the input */
}

/* Whether v is an SSN as the SSA issues them (common/ssn.h), dashes and
 * spaces aside. Senders fill PID-19 with placeholders ("PSSN123121234",
 * "34-13-312", "123-45-6789"): written with the us-ssn system they would
 * link people wrongly. */
static bool ssn_valid(struct slice v)
{
    char d[9];
    return ssn_usable(v.p, v.len, d);
}

/* Whether XAD-6 value v can be a country: ISO 3166's numeric code (three
 * digits), else a code or a name, which holds a letter and no digit (a
 * byte past ASCII counts as a letter). An iSOFT feed sends a locality
 * code there ("ZZ993CZ", r58), a mask sends "*": neither is a country,
 * and written as one a subscriber would show it as the patient's. */
static bool country_like(struct slice v)
{
    if (v.len == 3 && v.p[0] >= '0' && v.p[0] <= '9' && v.p[1] >= '0' &&
        v.p[1] <= '9' && v.p[2] >= '0' && v.p[2] <= '9')
        return true;
    bool letter = false;
    for (size_t k = 0; k < v.len; k++) {
        unsigned char ch = (unsigned char)v.p[k];
        if (ch >= '0' && ch <= '9')
            return false;
        letter |= ch >= 0x80 || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z');
    }
    return letter;
}

/* Whether the patient lives outside the US: the country of the first
 * PID-11 address (XAD-6), else MSH-17, names another country (ISO 3166
 * alpha: test feeds fill MSH-17 with dialling codes, "44", "+91").
 * Asked only of a PID-19 that is no SSN. */
static bool outside_us(const struct ctx *c, const struct hl7_seg *pid)
{
    /* decoded, as the address is written: "\X55\SA" is USA too */
    struct parts pt;
    split(c, rep_raw(c, pid, 11, 0), &pt, 6);
    struct slice cc = trim(part(c, &pt, 6, 0).s);
    if (!country_like(cc))
        cc.len = 0;                 /* no country: MSH-17's */
    if (cc.len == 0) {
        cc = trim(msh_text(c, msh_raw(c, 17, true)).s);
        for (size_t k = 0; k < cc.len; k++)
            if (!((cc.p[k] >= 'A' && cc.p[k] <= 'Z') ||
                  (cc.p[k] >= 'a' && cc.p[k] <= 'z')))
                return false;
    }
    return cc.len && !upper_eq(cc, "USA") && !upper_eq(cc, "US");
}

/* A national number as other countries put it in PID-19: six digits or
 * more, with dashes or spaces at most (the Emirates ID, 784-YYYY-...). */
static bool national_number(struct slice v)
{
    size_t digits = 0;
    for (size_t k = 0; k < v.len; k++) {
        if (v.p[k] >= '0' && v.p[k] <= '9')
            digits++;
        else if (v.p[k] != '-' && v.p[k] != ' ')
            return false;
    }
    return digits >= 6;
}

/* Whether v holds neither a letter nor a digit: a mask ("*********", a
 * Portuguese A34 published with every value starred), "-", "?". A byte
 * past ASCII counts as a letter: an id in kanji or Cyrillic is an id.
 * Kept, such an id would link every patient it stands for into one, as a
 * placeholder number would (identity links on system + value). Cold: the
 * first byte of an id is nearly always a letter or a digit. */
static bool no_alnum(struct slice v)
{
    for (size_t k = 0; k < v.len; k++) {
        unsigned char ch = (unsigned char)v.p[k];
        if (ch >= 0x80 || (ch >= '0' && ch <= '9') ||
            ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z'))
            return false;
    }
    return true;
}

/* Whether CX `pt`'s CX.1 `v` holds no digit while its CX.2 holds the
 * number: CX.2 is the check digit (ST: one character, two for ISO 7064's
 * mod 97), so a value of three or more with a digit in it is the id the
 * sender meant, and CX.1 a label before it: Cerebral Plus's PID-4
 * "PP^N7356938", passport. Linked on, "PP" would join every patient whose
 * passport the sender writes so into one (F1141). Cold: CX.1 nearly always
 * has a digit. */
static __attribute__((noinline, cold)) bool
cx_number_after_label(struct ctx *c, const struct parts *pt, struct slice v)
{
    for (size_t k = 0; k < v.len; k++)
        if (v.p[k] >= '0' && v.p[k] <= '9')
            return false;
    struct slice cd = part(c, pt, 2, 0).s;
    if (cd.len < 3)
        return false;
    for (size_t k = 0; k < cd.len; k++)
        if (cd.p[k] >= '0' && cd.p[k] <= '9')
            return true;
    return false;
}

/*
 * Whether the CX `rep` (of PID-3, -2 or -4: f indexes cx_field below; its
 * CX-6 was found) was out of effect when the message was sent (MSH-7):
 * its expiration date (CX-8) before the message's day, or its effective
 * date (CX-7) after it (HL7 v2.5 2.A.14: the first and the last date the
 * identifier is valid, so the day of either is in effect; HL7's v2-to-FHIR
 * map makes them Identifier.period). Each is a DT in the sender's own time, as
 * MSH-7 is, compared to the precision both have. An old member id or a
 * superseded MRN may have been given to another person since, and linked
 * on it would join two people: it is kept, marked inactive, and the
 * linker passes it by. A date that is no HL7 date is left unread, with a
 * warning (the identifier stays in effect); so is everything when MSH-7
 * is no date. Cold: most CX end at CX-5.
 */
static __attribute__((noinline, cold)) bool
cx_out_of_effect(struct ctx *c, struct raw rep, unsigned f)
{
    static const char *const field[3][2] = { { "PID-3.7", "PID-3.8" },
                                             { "PID-2.7", "PID-2.8" },
                                             { "PID-4.7", "PID-4.8" } };
    char sent[ISO_MAX], d[ISO_MAX];
    size_t slen = 0, dlen;
    struct parts pt;
    split(c, rep, &pt, 8);
    if (pt.n < 7)
        return false;           /* CX-6 alone, as most senders write */
    for (unsigned k = 0; k < 2; k++) {
        struct slice v = part(c, &pt, 7 + k, 0).s;
        if (v.len == 0 || slice_eq(v, "\"\""))     /* "": HL7's null */
            continue;
        if (!adt_msh_time_once(c, sent, &slen))
            return false;
        if (iso_time(d, v, 1, &dlen) < 0 &&
            adt_iso_time_repair(c, d, v, field[f][k], 1, &dlen) < 0)
            continue;
        int cmp = memcmp(d, sent, dlen < slen ? dlen : slen);
        if (k == 0 ? cmp > 0 : cmp < 0)
            return true;
    }
    return false;
}

static void write_identifiers(struct ctx *c, const struct hl7_seg *pid,
                              struct text ssn)
{
    /* PID-3 is the list; PID-2 (external id) and PID-4 (alternate id) were
     * withdrawn in v2.7 but older senders still fill them. */
    static const unsigned fields[] = { 3, 2, 4 };
    static const char *const cx_field[] = { "PID-3", "PID-2", "PID-4" };
    struct slice seen[64];
    uint64_t lens = 0;
    unsigned nseen = 0, n = 0;
    /* ssn: PID-19 (val1), the SSN (v2.2 to 2.6, still sent by US
     * systems): an identifier as the C-CDA and CSV adapters give it,
     * unless PID-3 has it already (type SS); a value that is no SSN is
     * left out, with a warning */
    /* outside the US PID-19 holds the country's own number (Malaffi, Abu
     * Dhabi: the Emirates ID): a number is kept as sent, type SS, with no
     * system (the sender scopes it, as any identifier without one) */
    bool foreign = false;
    if (ssn.s.len && !ssn_valid(ssn.s)) {
        if (!outside_us(c, pid))
            adt_warn(c, "PID-19", SSN_NOT_ISSUABLE);
        else if (!national_number(ssn.s))
            adt_warn(c, "PID-19", "national number is not a number");
        else if (natid_placeholder(ssn.s))
            adt_warn(c, "PID-19", "national number is a placeholder; left out");
        else
            foreign = true;
        if (!foreign)
            ssn = TEXT_NONE;
    } else if (ssn.s.len > 9) {
        ssn = ssn_canon(c, ssn);
    }

    memset(c->has_id, 0, sizeof(c->has_id));
    for (unsigned f = 0; f < 3; f++) {
        struct rep_iter it;
        struct raw rep;
        if (f > 0 && field_empty(c, pid, fields[f]))
            continue;               /* PID-3 most often is not */
        reps_init(c, pid, fields[f], &it);
        for (unsigned r = 0; reps_next(c, &it, &rep); r++) {
            if (rep.v.len == 0)
                continue;
            struct parts pt;
            split_quick(c, rep, &pt, 5);
            /* a quick repetition has no space or tab at either end */
            struct slice whole = pt.quick ? rep.v : slice_trim(rep.v);
            if (whole.len == 0)     /* no CX.1 either */
                continue;
            /* escapes compared by what they stand for, trailing
             * separators left out (v2.5.1 2.5.3): PID-2 "1^^^H" and PID-3
             * "1^^^\X48\^^" are one identifier */
            if (rep.special)
                whole = hl7_unescape(c->a, c->m, whole);
            while (whole.len && (whole.p[whole.len - 1] == c->m->cs ||
                                 whole.p[whole.len - 1] == c->m->ss))
                whole.len--;
            if (seen_has(seen, nseen, lens, whole))
                continue;
            struct text v = part(c, &pt, 1, 0);
            if (v.s.len == 0)
                continue;
            if (f == 0 && r == 0)
                c->has_id[0] = true;    /* PID-3.1 of its first repetition */
            if (no_alnum(v.s)) {
                adt_warn(c, cx_field[f], "identifier has no letter or digit; "
                                         "left out");
                continue;
            }
            /* type SS: the SSN's nine digits (one that is already nine
             * long needs nothing), or left out when the SSA never issues
             * it: the classic example's 123456789^^^USSSA^SS, copied by
             * test feeds, would link strangers (common/ssn.h). CX-5 is
             * one code (ID, table 0203): its first subcomponent, as an
             * Epic feed sends "MR&1.2.3.4" (F261) */
            struct text type = part(c, &pt, 5, 1), sys;
            bool unlinked = false;
            if (!upper_eq(type.s, "SS")) {
                /* a national, health-card or Medicaid number (F116): a
                 * placeholder in it is left out, as in PID-19 */
                if (natid_national_type(type.s) && natid_placeholder(v.s)) {
                    adt_warn(c, cx_field[f], "national number is a "
                                             "placeholder; left out");
                    continue;
                }
                sys = cx_system(c, &pt);
                /* a national number that fails its check digit was never
                 * issued: kept as sent, but never linked on (F744) */
                const char *flaw = natid_flaw(sys.s, type.s, v.s);
                if (flaw)
                    adt_warn(c, cx_field[f], flaw);
                /* an account's, a visit's, a guarantor's number: others
                 * share it; kept, never linked on (idsys_type_links) */
                unlinked = flaw || !idsys_type_links(type.s);
                if (!unlinked && !(v.s.p[0] >= '0' && v.s.p[0] <= '9') &&
                    cx_number_after_label(c, &pt, v.s)) {
                    adt_warn(c, cx_field[f],
                             "identifier holds no number and its "
                             "check digit does; not linked");
                    unlinked = true;
                }
            } else {
                char d[9];
                if (!ssn_usable(v.s.p, v.s.len, d)) {
                    adt_warn(c, cx_field[f], SSN_NOT_ISSUABLE "; left out");
                    continue;
                }
                if (ssn.s.len && same_ssn(v.s, ssn.s))
                    ssn = TEXT_NONE;
                if (v.s.len > 9)
                    v = ssn_canon(c, v);
                sys = ssa_system(cx_system(c, &pt));
            }
            if (nseen < 64) {
                seen[nseen++] = whole;
                lens |= (uint64_t)1 << (whole.len & 63);
            }
            if (n++ == 0) {
                key_open(c, JW_KEY("identifiers"), '[');
            }
            /* CX-7 and CX-8 follow CX-6 in split_quick's rest: asked only
             * when a component separator there says they may be sent */
            struct slice rest = pt.n > 5 ? raw_part(&pt, 6) : SLICE_NULL;
            write_cx(c, v, sys, type,
                     unlinked ||
                         (rest.len && memchr(rest.p, c->m->cs, rest.len) &&
                          cx_out_of_effect(c, rep, f)));
            /* an id in a later repetition, after an empty first one
             * ("~123^^^H^MR", `""~...`), identifies the patient too */
            c->has_id[f] = true;
        }
    }
    /* PID-3 is R in every version (2.1-2.8); PID-2 and PID-4 (B from
     * v2.3.1, W from v2.7) may stand in for it (one_event's check): the
     * sender is told which did. With neither, one_event refuses the
     * message. */
    if (!c->has_id[0] && (c->has_id[1] || c->has_id[2]))
        adt_warn(c, "PID-3",
                 !c->has_id[2] ? "required field PID-3 patient identifier list "
                                 "is missing; PID-2 used"
                 : !c->has_id[1] ? "required field PID-3 patient identifier "
                                   "list is missing; PID-4 used"
                                 : "required field PID-3 patient identifier "
                                   "list is missing; PID-2 and PID-4 used");
    if (ssn.s.len) {
        if (n++ == 0)
            key_open(c, JW_KEY("identifiers"), '[');
        /* {"value":ssn,"system":...,"type":"SS"} */
        static const char rest[] =
            ",\"system\":\"http://hl7.org/fhir/sid/us-ssn\",\"type\":\"SS\"}";
        static const char rest_foreign[] = ",\"type\":\"SS\"}";
        const char *r = foreign ? rest_foreign : rest;
        size_t rlen = foreign ? sizeof(rest_foreign) - 1 : sizeof(rest) - 1;
        char *o = span_room(c, room(ssn) + sizeof(rest)), *start = o;
        char *obj = o = span_open(c, o);
        o = put_kv(c, o, JW_KV("value"), ssn);
        *obj = '{';                 /* over the value's comma */
        memcpy(o, r, rlen);
        o += rlen;
        jw_commit(&c->w, start, o);
    }
    if (n)
        arr_end(c);
}

/*
 * Whether the XPN `rep` (of PID-5) had ended when the message was sent
 * (MSH-7): its expiration date (XPN-13, v2.7+) or the end of its validity
 * range (XPN-10, DR, v2.3-2.6: range start & range end) before the
 * message's day. HL7's v2-to-FHIR map makes them HumanName.period; the
 * canonical name has no period, so such a name is written with use "old"
 * (FHIR: no longer in use), as an address of type BA is: written as the
 * type's use, a name the sender closed in 1924 read as the official one.
 * Compared as cx_out_of_effect compares CX-8. A value that is no HL7 date
 * is passed by without a warning: ORBIS (DE) sends "B" in XPN-13 of every
 * name, and the field is read for nothing else. Cold: most XPN end by
 * XPN-7.
 */
static __attribute__((noinline, cold)) bool
xpn_ended(struct ctx *c, struct raw rep)
{
    char sent[ISO_MAX], d[ISO_MAX];
    size_t slen = 0, dlen;
    struct parts pt;
    split(c, rep, &pt, 9);
    if (pt.n < 10)
        return false;
    struct slice rest = raw_part(&pt, 10);  /* XPN-10 and after, raw */
    struct slice ends[2] = {
        hl7_piece(hl7_piece(rest, c->m->cs, 0), c->m->ss, 1),
        hl7_piece(hl7_piece(rest, c->m->cs, 3), c->m->ss, 0),
    };
    for (unsigned k = 0; k < 2; k++) {
        struct slice v = slice_trim(ends[k]);
        if (v.len == 0 || slice_eq(v, "\"\""))  /* "": HL7's null */
            continue;
        if (!adt_msh_time_once(c, sent, &slen))
            return false;
        if (iso_time(d, v, 1, &dlen) < 0)
            continue;
        if (memcmp(d, sent, dlen < slen ? dlen : slen) < 0)
            return true;
    }
    return false;
}

static void write_names(struct ctx *c, const struct hl7_seg *pid)
{
    unsigned n = 0;
    struct rep_iter it;
    struct raw rep;
    reps_init(c, pid, 5, &it);
    while (reps_next(c, &it, &rep)) {
        struct parts pt;
        split_quick(c, rep, &pt, 8);
        struct text family = part(c, &pt, 1, 1);   /* FN.1 surname */
        struct text given = part(c, &pt, 2, 0);
        struct text middle = part(c, &pt, 3, 0);
        if (!family.s.len && !given.s.len && !middle.s.len)
            continue;
        if (n++ == 0) {
            key_open(c, JW_KEY("names"), '[');
        }
        struct text prefix = part(c, &pt, 5, 0);
        struct text suffix = part(c, &pt, 4, 0);
        struct text use = adt_name_use(part(c, &pt, 7, 0).s);
        /* XPN-10's range or XPN-13 follow in split_quick's rest: read
         * only when a component separator there says they may be sent */
        struct slice rest = pt.n > 8 ? raw_part(&pt, 9) : SLICE_NULL;
        if (rest.len && memchr(rest.p, c->m->cs, rest.len) &&
            xpn_ended(c, rep))
            use = TEXT_LIT("old");
        struct text repr = pt.n >= 8 ? adt_name_representation(
                                               part(c, &pt, 8, 0).s)
                                     : TEXT_NONE;
        char *o = span_room(c, room(family) + room(given) + room(middle) +
                                     room(prefix) + room(suffix) + room(use) +
                                     room(repr)),
             *start = o;
        char *obj = o = span_open(c, o);
        o = put_kv(c, o, JW_KV("family"), family);
        if (given.s.len || middle.s.len) {
            memcpy(o, JW_KEY("given"));
            char *arr = o += sizeof(",\"given\":") - 1;
            if (given.s.len)
                o = put_str(c, o, given);
            if (middle.s.len)
                o = put_str(c, o, middle);
            o = span_seal(arr, o, '[', ']');
        }
        o = put_kv(c, o, JW_KV("prefix"), prefix);
        o = put_kv(c, o, JW_KV("suffix"), suffix);
        o = put_lit(o, JW_KV("use"), use);
        o = put_lit(o, JW_KV("representation"), repr);
        o = span_seal(obj, o, '{', '}');
        jw_commit(&c->w, start, o);
    }
    if (n)
        arr_end(c);
    else                            /* R in every version (2.1-2.8) */
        adt_warn(c, "PID-5", "required field PID-5 patient name is missing; "
                             "accepted without it");
}

/* Whether `part` (not empty) occurs in `whole`. */
static bool holds(struct slice whole, struct slice part)
{
    for (size_t i = 0; i + part.len <= whole.len; i++)
        if (memcmp(whole.p + i, part.p, part.len) == 0)
            return true;
    return false;
}

/* The n pieces that are not empty (unescaped: HL7's null "" is empty
 * too), joined by spaces. */
static __attribute__((noinline, cold)) struct text
join_subs(struct ctx *c, const struct text *parts, unsigned n)
{
    size_t l = 0, q = 0;
    for (unsigned k = 0; k < n; k++)
        l += parts[k].s.len + 1;
    char *o = arena_alloc(c->a, l);
    for (unsigned k = 0; k < n; k++) {
        if (!parts[k].s.len)
            continue;
        if (q)
            o[q++] = ' ';
        memcpy(o + q, parts[k].s.p, parts[k].s.len);
        q += parts[k].s.len;
    }
    return (struct text){ { o, q }, false };    /* not in the input */
}

/* XAD.1 is SAD since v2.5: street or mailing address, street name,
 * dwelling number. Most senders that split it (German KIS: "Büchenweg
 * 12&Büchenweg&12") give the whole line in SAD.1 and its parts after it:
 * SAD.1 then stands alone. Others give the parts only ("1000&Hospital
 * Lane", the standard's own example): they are joined by spaces. */
ADT_ALWAYS_INLINE struct text street(struct ctx *c, const struct parts *pt)
{
    struct slice sad = raw_part(pt, 1);
    struct slice sad1 = first_sub(c, pt, sad);
    if (sad1.len == sad.len)        /* not split: the common case */
        return text_of(c, sad, pt->special);
    struct text parts[3];
    for (unsigned k = 0; k < 3; k++)
        parts[k] = text_of(c, hl7_piece(sad, c->m->ss, k), pt->special);
    if (!parts[1].s.len && !parts[2].s.len)
        return parts[0];
    if (holds(parts[0].s, parts[1].s.len ? parts[1].s : parts[2].s))
        return parts[0];
    return join_subs(c, parts, 3);
}

/* XAD-2, other designation, is ST: it has no subcomponents. A Polish HIS
 * (Eskulap) splits the number there into house and flat ("112a&2b"), and
 * writes HL7's null in each (""&""): read whole, the separator and the
 * quotes became the address line. Its subcomponents are joined by a
 * space, as SAD's parts are, nulls left out (the eighth keeps the rest);
 * else `whole`, XAD-2 as read. Cold: asked only of an XAD-2 with text in
 * a repetition that split_quick() could not take the quick way. */
static __attribute__((noinline, cold)) struct text
designation(struct ctx *c, const struct parts *pt, struct text whole)
{
    struct slice v = raw_part(pt, 2);
    if ((pt->masked && pt->subs == 0) || first_sub(c, pt, v).len == v.len)
        return whole;
    struct slice s[8];
    struct text parts[8];
    unsigned n = hl7_split(v, c->m->ss, s, 8);
    for (unsigned k = 0; k < n; k++)
        parts[k] = text_of(c, s[k], pt->special);
    return join_subs(c, parts, n);
}

static void write_addresses(struct ctx *c, const struct hl7_seg *pid)
{
    unsigned n = 0, r = 0;
    struct rep_iter it;
    struct raw rep;
    reps_init(c, pid, 11, &it);
    while (reps_next(c, &it, &rep)) {
        struct parts pt;
        split_quick(c, rep, &pt, 9);
        struct slice type = part(c, &pt, 7, 0).s;  /* XAD-7, once */
        if (addr_is_birthplace(type)) {
            r++;                    /* PID-12 stays with the first one */
            continue;
        }
        struct text line2 = part(c, &pt, 2, 0);
        if (!pt.quick && line2.s.len)
            line2 = designation(c, &pt, line2);
        struct text line1 = street(c, &pt);
        struct text city = part(c, &pt, 3, 0);
        struct text state = part(c, &pt, 4, 0);
        struct text zip = part(c, &pt, 5, 0);
        zip.s = postal_code(zip.s);     /* "61550-": the ZIP */
        struct text country = part(c, &pt, 6, 0);
        if (country.s.len && !country_like(country.s)) {
            adt_warn(c, "PID-11", "country is neither an ISO 3166 code nor a "
                                  "name; left out");
            country.s.len = 0;
        }
        struct text county = part(c, &pt, 9, 1);   /* XAD-9 county/parish */
        /* XAD-8, other geographic designation: where it is the only text
         * of the address (SS-MIX2 sends the whole address there), a line */
        if (!line1.s.len && !line2.s.len && !city.s.len && !state.s.len)
            line1 = part(c, &pt, 8, 0);
        if (!county.s.len && r == 0)
            county = val1(c, pid, 12);  /* PID-12, pre-2.6 */
        r++;
        struct text use = adt_addr_use(type);
        if (!line1.s.len && !line2.s.len && !city.s.len && !state.s.len &&
            !zip.s.len && !county.s.len && !country.s.len)
            continue;
        if (n++ == 0) {
            key_open(c, JW_KEY("addresses"), '[');
        }
        char *o = span_room(c, room(line1) + room(line2) + room(city) +
                                     room(state) + room(zip) + room(county) +
                                     room(country) + room(use)),
             *start = o;
        char *obj = o = span_open(c, o);
        if (line1.s.len || line2.s.len) {
            memcpy(o, JW_KEY("lines"));
            char *arr = o += sizeof(",\"lines\":") - 1;
            if (line1.s.len)
                o = put_str(c, o, line1);
            if (line2.s.len)
                o = put_str(c, o, line2);
            o = span_seal(arr, o, '[', ']');
        }
        o = put_kv(c, o, JW_KV("city"), city);
        o = put_kv(c, o, JW_KV("state"), state);
        o = put_kv(c, o, JW_KV("postal_code"), zip);
        o = put_kv(c, o, JW_KV("county"), county);
        o = put_kv(c, o, JW_KV("country"), country);
        o = put_lit(o, JW_KV("use"), use);
        o = span_seal(obj, o, '{', '}');
        jw_commit(&c->w, start, o);
    }
    if (n)
        arr_end(c);
}

/* XTN: XTN.1 as sent, else [+country ][(area) ]local[ xext], else XTN.12,
 * the unformatted number (v2.5+; Japanese SS-MIX2 sends only that). E-mail
 * addresses (XTN.4; XTN.1 of a repetition whose use is NET, table 0201,
 * or that holds an '@', as senders of "a@b.de^NET^X.400" do) have no
 * place in "phones" and are left out, and so are the numbers whose
 * equipment (XTN.3, table 0202) is no telephone: a fax (FX), a modem
 * (MD), a pager (BP), as the FHIR adapter takes only telecom of system
 * "phone" and C-CDA only tel: URLs (IHE PAM France senders list the fax
 * among the phones, "^WPN^FX^..."; digits sent as Internet stay, F38).
 * `pt` is split up to component 8. */
static bool xtn_not_a_phone(struct slice use, struct slice equip)
{
    return upper_eq(use, "NET") || upper_eq(equip, "FX") ||
           upper_eq(equip, "MD") || upper_eq(equip, "BP");
}

ADT_ALWAYS_INLINE struct text xtn_value(struct ctx *c,
                                        const struct parts *pt,
                                        struct slice use)
{
    if (xtn_not_a_phone(use, part(c, pt, 3, 0).s))
        return TEXT_NONE;
    struct text v = part(c, pt, 1, 0);
    if (v.s.len && has_byte(c, v.s, '@'))
        return TEXT_NONE;
    if (v.s.len)
        return v;
    struct slice cc = part(c, pt, 5, 0).s, area = part(c, pt, 6, 0).s,
                 local = part(c, pt, 7, 0).s, ext = part(c, pt, 8, 0).s;
    if (!local.len) {
        /* the rest after component 8: components 9, 10, 11, 12 */
        struct slice rest = pt->n > 8 ? raw_part(pt, 9) : SLICE_NULL;
        return text_of(c, hl7_piece(rest, c->m->cs, 3), pt->special);
    }
    struct buf b;
    buf_init(&b, c->a, 256);
    if (cc.len) {
        buf_putc(&b, '+');
        buf_append(&b, cc.p, cc.len);
        buf_putc(&b, ' ');
    }
    if (area.len) {
        buf_putc(&b, '(');
        buf_append(&b, area.p, area.len);
        buf_puts(&b, ") ");
    }
    buf_append(&b, local.p, local.len);
    if (ext.len) {
        buf_puts(&b, " x");
        buf_append(&b, ext.p, ext.len);
    }
    if (b.err)
        return TEXT_NONE;
    return (struct text){ buf_slice(&b), false };   /* not in the input */
}

/* Whether the message is v2.7 or later: MSH-12 passed hl7_to_events's
 * check ("2." and a digit 1-9), so its third byte says. Out of line: asked
 * only of a PID-40 with content. */
static __attribute__((noinline)) bool v27_or_later(const struct ctx *c)
{
    struct slice ver, ver2;
    comps12(c, msh_raw(c, 12, false).v, &ver, &ver2);
    ver = trim(ver);
    return ver.len >= 3 && ver.p[2] >= '7';
}

/* Why v is no phone number, or NULL: no digit in it (a word where the
 * number belongs), or zeros alone (a placeholder for no number, as
 * ORBIS's "0000000000000"). Out of line: asked only of a value with no
 * digit 1-9 in its first two bytes. */
static __attribute__((noinline)) const char *phone_not_a_number(
    struct slice v)
{
    bool zero = false;
    for (size_t i = 0; i < v.len; i++) {
        if (v.p[i] >= '1' && v.p[i] <= '9')
            return NULL;
        zero |= v.p[i] == '0';
    }
    return zero ? "phone number is a placeholder of zeros; left out"
                : "phone number has no digit; left out";
}

static void write_phones(struct ctx *c, const struct hl7_seg *pid)
{
    /* PID-13 home, PID-14 business, PID-40 (v2.7+) replaces both */
    static const struct {
        unsigned f;
        const char *dflt, *name;
    } src[] = { { 13, "home", "PID-13" },
                { 14, "work", "PID-14" },
                { 40, NULL, "PID-40" } };
    struct slice seen[32];
    uint64_t lens = 0;
    unsigned nseen = 0, n = 0;

    for (unsigned s = 0; s < 3; s++) {
        struct rep_iter it;
        struct raw rep;
        reps_init(c, pid, src[s].f, &it);
        while (reps_next(c, &it, &rep)) {
            if (rep.v.len == 0)     /* no XTN.1, no number: nothing */
                continue;
            /* PID-40 came in v2.7; before it, PID ends at PID-39 (v2.5),
             * and what a sender has past it is no phone of the patient
             * (HAPI's v2.2 example runs its PV1 into PID: PID-40 holds a
             * doctor) */
            if (s == 2 && !v27_or_later(c))
                break;
            struct parts pt;
            split(c, rep, &pt, 8);
            struct slice use = part(c, &pt, 2, 0).s;   /* XTN.2 */
            struct text v = xtn_value(c, &pt, use);
            if (!v.s.len)
                continue;
            /* no number: a word, as from a sender writing XTN one
             * component early ("PRN^PH^0145123456", "Internet^X.400^a@b"),
             * or zeros alone; most numbers have a digit 1-9 first or
             * second ("(555)", "+1", "0151") and are not asked */
            if ((unsigned char)(v.s.p[0] - '1') > 8 &&
                (v.s.len < 2 || (unsigned char)(v.s.p[1] - '1') > 8)) {
                const char *why = phone_not_a_number(v.s);
                if (why) {
                    adt_warn(c, src[s].name, why);
                    continue;
                }
            }
            if (seen_has(seen, nseen, lens, v.s))
                continue;
            if (nseen < 32) {
                seen[nseen++] = v.s;
                lens |= (uint64_t)1 << (v.s.len & 63);
            }
            if (n++ == 0) {
                key_open(c, JW_KEY("phones"), '[');
            }
            struct text use_as = adt_phone_use(use, part(c, &pt, 3, 0).s,
                                               src[s].dflt);
            char *o = span_room(c, room(v) + room(use_as)), *start = o;
            char *obj = o = span_open(c, o);
            o = put_kv(c, o, JW_KV("value"), v);
            o = put_lit(o, JW_KV("use"), use_as);
            o = span_seal(obj, o, '{', '}');
            jw_commit(&c->w, start, o);
        }
    }
    if (n)
        arr_end(c);
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
static bool before(struct slice a, struct slice b)
{
    size_t n = digits8(a);
    size_t nb = digits8(b);
    if (nb < n)
        n = nb;
    if (n == 8)
        return be8(a.p) < be8(b.p);
    return n >= 4 && memcmp(a.p, b.p, n) < 0;
}

/*
 * Whether DTM `v` (at least four digits) is after the message was sent
 * (MSH-7), compared to the precision both have, in the sender's own time.
 */
static bool after_message(struct ctx *c, struct slice v)
{
    /* before() when both have eight digits (most do): MSH-7's first
     * component and its trim then start with MSH-7's own eight */
    struct slice t = msh_raw(c, 7, false).v;
    if (t.len >= 8 && v.len >= 8 &&
        (non_digits8(t.p) | non_digits8(v.p)) == 0)
        return be8(t.p) < be8(v.p);
    return before(trim(msh_raw(c, 7, true).v), v);
}

/*
 * A birth date that cannot be true (before 1880, or after the message was
 * sent: MSH-7, compared to the precision both have, in the sender's own
 * time) is kept as sent, since the sender may mean it (masked test data,
 * a placeholder), with a warning. `v` is a DTM iso_time took: at least
 * four digits.
 */
ADT_ALWAYS_INLINE void check_birth_date(struct ctx *c, struct slice v)
{
    /* memcmp(v.p, "1880", 4) < 0, as numbers: no call */
    uint32_t y;
    memcpy(&y, v.p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    y = __builtin_bswap32(y);
#endif
    if (y < ((uint32_t)'1' << 24 | (uint32_t)'8' << 16 | (uint32_t)'8' << 8 |
             '0')) {
        adt_warn(c, "PID-7", "birth date is before 1880");
        return;
    }
    if (after_message(c, v))
        adt_warn(c, "PID-7", "birth date is after the message time");
}

/* Whether PID-2, -3 or -4 of pid carries value v under system sys (both
 * as write_cx writes them): an identifier the patient keeps. Asked of a
 * merge's prior identifiers only. */
static bool pid_keeps(struct ctx *c, const struct hl7_seg *pid, struct text v,
                      struct text sys)
{
    static const unsigned fields[] = { 3, 2, 4 };
    for (unsigned f = 0; f < 3; f++) {
        struct rep_iter it;
        struct raw rep;
        reps_init(c, pid, fields[f], &it);
        while (reps_next(c, &it, &rep)) {
            struct parts pt;
            split(c, rep, &pt, 5);
            if (slice_eq_slice(part(c, &pt, 1, 0).s, v.s) &&
                slice_eq_slice(cx_system(c, &pt).s, sys.s))
                return true;
        }
    }
    return false;
}

static void write_patient(struct ctx *c, const struct hl7_seg *pid,
                          const struct hl7_seg *mrg)
{
    /* PID-19, -7, -8, -29, -30 */
    static const unsigned char pid_fields[] = { 19, 7, 8, 29, 30 };
    struct text pv[5];
    vals1(c, pid, pid_fields, 5, pv);
    /* "patient":{ is open (one_event) */
    write_identifiers(c, pid, pv[0]);
    write_names(c, pid);
    struct text born = pv[1];
    struct slice sex = pv[2].s;
    struct text sx = sex.len ? adt_sex_of(sex) : TEXT_NONE;
    bool *first = &c->w.first[c->w.depth], fm = *first;
    char *o = span_room(c, ROOM_TIME + room(sx)), *start = o;
    char *o2 = put_time(c, o, &fm, JW_KV("birth_date"), born, "PID-7", 1);
    bool born_ok = o2 != o;
    if (born_ok)
        check_birth_date(c, born.s);
    if (sex.len && !sx.s.len)
        adt_warn(c, "PID-8", "sex is not in HL7 table 0001");
    o = put_member_lit(o2, &fm, JW_KV("sex"), sx);
    *first = fm;
    jw_commit(&c->w, start, o);
    write_addresses(c, pid);
    write_phones(c, pid);
    struct text died = pv[3];
    struct slice dead = pv[4].s;
    bool said_dead = upper_eq(dead, "Y") || upper_eq(dead, "TRUE");
    if (!said_dead && died.s.len) {
        /* PID-29 says a death only when it reads as a time: a sender
         * whose fields run one late puts PID-30's "N" or PID-28's
         * nationality there, and a living patient sent as dead would
         * close a care team's work */
        char iso[ISO_MAX];
        size_t ilen;
        said_dead = iso_time(iso, died.s, 0, &ilen) == 0 ||
                    adt_iso_time_repair(c, iso, died.s, NULL, 0, &ilen) == 0;
        if (!said_dead)
            adt_warn(c, "PID-29", "death date is not an HL7 DTM; not read as "
                                  "a death");
    }
    if (said_dead) {
        jw_key_chunk(&c->w, JW_KEY("deceased"));
        jw_bool(&c->w, true);
        /* as a birth date: an impossible death date that PID-30's Y
         * vouches for is kept as sent, with a warning (a typo of the
         * year, a placeholder); alone it said no death (above) */
        if (kv_time(c, JW_KV("deceased_at"), died, "PID-29", 0)) {
            if (born_ok && before(died.s, born.s))
                adt_warn(c, "PID-29", "death date is before the birth date");
            else if (after_message(c, died.s))
                adt_warn(c, "PID-29", "death date is after the message time");
        }
    }
    if (mrg) {
        /* MRG-1 prior identifiers; MRG-4 prior patient id and MRG-2
         * prior alternate patient id (pre-2.7), the counterparts of
         * PID-3, PID-2 and PID-4, which write_identifiers wrote */
        static const unsigned fields[] = { 1, 4, 2 };
        static const char *const mrg_field[] = { "MRG-1", "MRG-4", "MRG-2" };
        struct text done[16][2];    /* value and system written */
        unsigned n = 0;
        for (unsigned f = 0; f < 3; f++) {
            struct rep_iter it;
            struct raw rep;
            reps_init(c, mrg, fields[f], &it);
            while (reps_next(c, &it, &rep)) {
                struct parts pt;
                split(c, rep, &pt, 5);
                struct text v = part(c, &pt, 1, 0);
                if (v.s.len == 0)
                    continue;
                struct text sys = cx_system(c, &pt),
                            type = part(c, &pt, 5, 1);
                /* an id the patient keeps was not merged away: HL7 v2.5
                 * 3.3.40 and 3.3.48 send the superior identifiers "with
                 * the same value in both the PID and MRG segments" (an
                 * A48 changes PID-4 and names PID-3's id in MRG-1) */
                if (pid_keeps(c, pid, v, sys)) {
                    c->merged_kept = true;
                    continue;
                }
                /* what links no one in PID links no one here: a merge on
                 * it would merge whoever holds it into the survivor
                 * (hub_merge_patient passes "inactive" by, F842); an SSN
                 * in the one form PID's is written in */
                bool unlinked = no_alnum(v.s) || !idsys_type_links(type.s);
                if (upper_eq(type.s, "SS")) {
                    char d[9];
                    if (ssn_usable(v.s.p, v.s.len, d)) {
                        if (v.s.len > 9)
                            v = ssn_canon(c, v);
                        sys = ssa_system(sys);
                    } else {
                        unlinked = true;
                    }
                } else if (!unlinked) {
                    const char *flaw = natid_flaw(sys.s, type.s, v.s);
                    if (flaw)
                        adt_warn(c, mrg_field[f], flaw);
                    unlinked = flaw || (natid_national_type(type.s) &&
                                        natid_placeholder(v.s));
                    /* a label in CX.1, the number in CX.2 (F1141, F1341) */
                    if (!unlinked && !(v.s.p[0] >= '0' && v.s.p[0] <= '9') &&
                        cx_number_after_label(c, &pt, v.s)) {
                        adt_warn(c, mrg_field[f], "identifier holds no number "
                                                  "and its check digit does; "
                                                  "not linked");
                        unlinked = true;
                    }
                }
                /* one id once: ORBIS repeats MRG-1 in MRG-4, as it
                 * repeats PID-3 in PID-2 */
                unsigned k = 0;
                while (k < n && k < 16 &&
                       !(slice_eq_slice(done[k][0].s, v.s) &&
                         slice_eq_slice(done[k][1].s, sys.s)))
                    k++;
                if (k < n && k < 16)
                    continue;
                if (n < 16) {
                    done[n][0] = v;
                    done[n][1] = sys;
                }
                if (n++ == 0) {
                    key_open(c, JW_KEY("merged_from"), '[');
                }
                write_cx(c, v, sys, type, unlinked);
            }
        }
        if (n)
            arr_end(c);
        c->merged = n > 0;
    }
    /* the brace is closed by write_encounter */
}

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

/* Leaves its list open (returns whether it wrote one): write_encounter
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

static void write_encounter(struct ctx *c, const struct hl7_seg *pv1,
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
    /* hl7_parse read the text in none of the sets it knows (hl7v2.c,
     * from_latin): its letters past ASCII are U+FFFD on the event */
    if (__builtin_expect(m->high & HL7_HIGH_UNREAD, 0))
        adt_warn(c, "MSH-18", "text is not UTF-8 nor in a character set read "
                              "here; letters past ASCII replaced");
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
        /* "patient":{, which write_patient fills: key_open's bytes and
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
    write_patient(c, pid, merge ? mrg : NULL);
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
    /* accepted as HL7 v2 receivers commonly do (the patient is news
     * enough), with an empty visit: said so, to the sender and on the
     * event */
    if (pv1 == NULL && c->pv1_required)
        adt_warn(c, "PV1", "required segment PV1 is missing");
    write_encounter(c, pv1, cancel_of);
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
    for (unsigned k = 0; c->all && k < c->nwarn; k++) {
        struct hl7_warnings *all = c->all;
        unsigned q = 0;
        while (q < all->n && !(all->w[q].field == c->warn[k].field &&
                               all->w[q].what == c->warn[k].what))
            q++;
        if (q == all->n && all->n < HL7_MAX_WARNINGS)
            all->w[all->n++] = c->warn[k];
    }
    return HUB_OK;
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
    if (!upper_eq(trim(type1), "ADT")) {
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
        if (!same) {
            e1 = trim(hl7_piece(e1, m->cs, 0));
            /* "a08" and "A08" name one event (topic_of reads either) */
            c.evn1_differs = e1.len && (e1.len != trig.len ||
                                        strncasecmp(e1.p, trig.p,
                                                    e1.len) != 0);
        }
    } else {
        /* v2.1/2.2 senders may leave MSH-9.2 empty: EVN-1 then says it */
        struct raw evn1 = rep_raw(&c, hl7_seg_find(m, "EVN", 0), 1, 0);
        trig = slice_trim(hl7_piece(evn1.v, m->cs, 0));
        src.trigger = (struct text){ trig, !evn1.special };
    }
    const char *cancel_of = NULL;
    const char *topic = topic_of(trig, &cancel_of);
    if (topic == NULL) {
        /* neither MSH-9.2 nor EVN-1 says the event: missing, as an empty
         * MSH-9 is, not an event the hub does not take */
        if (trig.len == 0 ||        /* or the HL7 null "" */
            (trig.len == 2 && trig.p[0] == '"' && trig.p[1] == '"'))
            return hub_err_set(err, HUB_EINVALID, "MSH-9.2",
                               msh_field_at(&c, type2.p ? type2 : type.v),
                               "required field trigger event is missing");
        return hub_err_set(err, HUB_EUNSUPPORTED, "MSH-9.2",
                           msh_field_at(&c, type2.p ? type2 : type.v),
                           "event type is not supported");
    }
    /* HL7 v2.5 ch. 3: PV1 is required in the message structure of every
     * trigger taken but the merges and identifier changes of ADT_A30 (A34,
     * A36, A46-A48) and ADT_A39 (A39, A40); topic_of took "Ann" only */
    c.pv1_required = !(trig.p[1] == '3' && (trig.p[2] == '4' ||
                                            trig.p[2] == '6' ||
                                            trig.p[2] == '9')) &&
                     !(trig.p[1] == '4' && (trig.p[2] == '0' ||
                                            (trig.p[2] >= '6' &&
                                             trig.p[2] <= '8')));

    src.message_id = msh_text(&c, ctrl);
    struct raw app = msh_raw(&c, 3, true), fac = msh_raw(&c, 4, true);
    src.application = msh_text(&c, app);
    src.facility = msh_text(&c, fac);
    src.version = (struct text){ ver, !vers.special };
    /* every topic is a literal of at least 9 bytes and its NUL */
    if (memcmp(topic, "adt.merge", 10) != 0)
        return one_event(&c, topic, cancel_of, &src, out, err);

    /* A40 (and the older merges): one event per PID group (PID, PD1, MRG,
     * PV1); a group refused refuses the message, leaving no event */
    int groups = 0;
    size_t n0 = out->n;
    for (uint32_t k = 0; k < m->nseg; k++) {
        if (memcmp(m->seg[k].id, "PID", 4) != 0)
            continue;
        uint32_t e = k + 1;
        while (e < m->nseg && memcmp(m->seg[e].id, "PID", 4) != 0)
            e++;
        c.lo = k;
        c.hi = e;
        int rc = one_event(&c, topic, NULL, &src, out, err);
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

/*
 * adt_patient.c - the patient of an ADT event, from PID (and MRG for a
 * merge): identifiers with their systems, names, addresses, phones, birth
 * and death, and merged_from.
 * An identifier of PID-2, -3 or -4 that was out of effect at MSH-7 (CX-8
 * expiration date before it, CX-7 effective date after it) is kept and
 * marked "inactive": the linker passes it by. So is a national number
 * that fails its check digit (common/natid.h: an NHS number under NHS,
 * NHSNBR, NHSNMBR or its OID, an NPI, an MBI...), with a warning. A
 * patient none of whose identifiers links is known by its message alone,
 * MSH-10 and MSH-7 (write_by_message).
 */
#include "common/idsys.h"
#include "common/natid.h"
#include "common/postal.h"
#include "common/ssn.h"
#include "hl7v2/adt_codes.h"
#include "hl7v2/adt_time.h"

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

/* Whether an SS (table 0203: "Social Security number", of no country)
 * names another country's number: its authority (cx_system) is an ISO
 * OID under another country's arc, 1.2.N (ISO member bodies) or 2.16.N
 * (ISO-ITU countries), N an ISO 3166 numeric code (4 to 999) other than
 * the US's 840, as Switzerland's AHVN13 under 2.16.756.5.32 (F3340).
 * Such a number is no US SSN: the SSA's rules do not apply to it, and it
 * is kept as any national number is. An SS under a namespace, a US OID,
 * an enterprise's (1.3.6.1.4.1) or an example's (1.2.3.4) is read as the
 * US SSN, as before. Out of line: asked only of an SS whose authority is
 * a urn:oid:. */
static __attribute__((noinline)) bool ss_of_another_country_oid(
    struct slice sys)
{
    const char *p = sys.p + 8, *end = sys.p + sys.len;
    if (end - p > 4 && memcmp(p, "1.2.", 4) == 0)
        p += 4;
    else if (end - p > 5 && memcmp(p, "2.16.", 5) == 0)
        p += 5;
    else
        return false;
    unsigned n = 0, digits = 0;
    for (; p < end && *p >= '0' && *p <= '9' && digits < 4; p++, digits++)
        n = n * 10 + (unsigned)(*p - '0');
    return digits && digits < 4 && (p == end || *p == '.') && n >= 4 &&
           n != 840;
}

ADT_ALWAYS_INLINE bool ss_of_another_country(struct text sys)
{
    return sys.s.len > 8 && memcmp(sys.s.p, "urn:oid:", 8) == 0 &&
           ss_of_another_country_oid(sys.s);
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

/* Whether CX `sys` is in the hub's own space (idsys_is_hub): another
 * organization's scope as easily as the sender's, so the CX is left out,
 * with a warning at `field` (F2240) */
static bool cx_system_is_hub(struct ctx *c, const char *field,
                             struct text sys)
{
    if (!idsys_is_hub(sys.s))
        return false;
    adt_warn(c, field, IDSYS_HUB_LEFT_OUT);
    return true;
}

/* An identifier as write_cx writes it: two with the same bytes are one
 * member of "identifiers", whatever else their CX carried. */
struct cx_out {
    struct slice v, sys, type;
    bool inactive;
};

/* Whether out[0..n) holds x: the value compared first (most differ
 * there). Escapes were resolved by part(), so the bytes are what is
 * written. One written in effect also stands for a later copy out of
 * effect (Cerner's PID-4 repeats a PID-3 MRN with a CX-8 of years ago,
 * F1827): the patient holds it now, and the linker reads it so; one out
 * of effect written first cannot be taken back, so an in-effect copy
 * after it is written too. */
static bool cx_written(const struct cx_out *out, unsigned n,
                       const struct cx_out *x)
{
    for (unsigned k = 0; k < n; k++)
        if ((!out[k].inactive || x->inactive) &&
            slice_eq_slice(out[k].v, x->v) &&
            slice_eq_slice(out[k].sys, x->sys) && slice_eq_slice(out[k].type, x->type))
            return true;
    return false;
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

/* Whether a PID-3 repetition's CX-1 is v (decoded, trimmed), dashes and
 * spaces aside: a PID-19 that only repeats an identifier of the list
 * (Alder Hey's NHS number, typed NH there; NHS numbers are also shown
 * "943 476 5919") is that identifier, no SSN to warn of (F1701, F1820).
 * A repetition typed SS does not count: v is no SSN, so write_identifiers
 * leaves that one out, and PID-19 would be lost with it (F1821). Asked
 * only of a PID-19 that is no SSN. */
static __attribute__((noinline, cold)) bool
pid3_repeats(struct ctx *c, const struct hl7_seg *pid, struct slice v)
{
    struct rep_iter it;
    struct raw rep;
    reps_init(c, pid, 3, &it);
    while (reps_next(c, &it, &rep)) {
        struct parts pt;
        split(c, rep, &pt, 5);
        if (same_ssn(trim(part(c, &pt, 1, 0).s), v) &&
            !upper_eq(part(c, &pt, 5, 1).s, "SS"))
            return true;
    }
    return false;
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

/*
 * The value the patient known by its message alone is known by: MSH-10,
 * then "@" and MSH-7 (its first component, trimmed and unescaped: the
 * time as sent) when MSH-7 holds one (F2140). MSH-10 alone is unique
 * only while its message is kept; a sender whose control ids restart
 * after the message was pruned sends a later time, so only the same
 * message sent again (same MSH-10, same MSH-7) names the same patient.
 * Control id first: it is what the sender's log and ACK (MSA-2) name.
 * The time last, and "@" no character of a time (HL7's DTM, or the ISO
 * forms read with a warning), so the value splits at its last "@" into
 * the two it was made of, whatever the control id holds (an MSH-7 that
 * holds one is no time: two such messages of one sender could meet). As
 * sent, not as read: a reading of times a later version repairs would
 * make a re-send of an old message another patient. With no MSH-7 (or
 * HL7's null "") MSH-10 alone, as before.
 */
static struct text by_message_value(const struct ctx *c)
{
    struct text t = msh_text(c, msh_raw(c, 7, true)), id = *c->message_id;
    if (t.s.len == 0 || (t.s.len == 2 && t.s.p[0] == '"' && t.s.p[1] == '"'))
        return id;
    char *p = arena_alloc(c->a, id.s.len + 1 + t.s.len);
    memcpy(p, id.s.p, id.s.len);
    p[id.s.len] = '@';
    memcpy(p + id.s.len + 1, t.s.p, t.s.len);
    return (struct text){ { p, id.s.len + 1 + t.s.len }, false }; /* checked */
}

/*
 * The identifier of a patient whose every identifier was left out (an
 * SSN the SSA never issues, a placeholder national number, marks alone)
 * or is never linked on (out of effect, failing its check digit, an
 * account's): the message's (by_message_value), under the system
 * "MSH-10", so that the patient gets a hub id and every disclosure of
 * the event is in its accounting (F1980). The patient is known by this
 * message alone, as C-CDA's is by its document id (ccda_header.c): the
 * name is no URI, so the hub scopes it to the sending organization
 * ('urn:hub:org:<org>:ns:MSH-10', hub_id_system), apart from its
 * identifiers with no authority; an accepted message's MSH-10 is the
 * sender's idempotency key, held by no other message of it while kept
 * (one sent again with other bytes is quarantined), and MSH-7 tells a
 * message under a control id used again after a prune (F1982, F2140).
 * n: the identifiers written before it (the array is open when n > 0).
 * Cold: nearly every patient has one.
 */
static __attribute__((noinline, cold)) void write_by_message(struct ctx *c,
                                                             unsigned n)
{
    if (n == 0)
        key_open(c, JW_KEY("identifiers"), '[');
    /* not plain: put_bytes takes a plain value of 16 bytes or less from
     * the input */
    const struct text sys = { SLICE_LIT(IDSYS_BY_MESSAGE), false };
    write_cx(c, by_message_value(c), sys, TEXT_NONE, false);
    arr_end(c);
    adt_warn(c, "PID-3", "no patient identifier links; the patient is "
                         "known by this message alone (MSH-10)");
}

static void write_identifiers(struct ctx *c, const struct hl7_seg *pid,
                              struct text ssn)
{
    /* PID-3 is the list; PID-2 (external id) and PID-4 (alternate id) were
     * withdrawn in v2.7 but older senders still fill them. */
    static const unsigned fields[] = { 3, 2, 4 };
    static const char *const cx_field[] = { "PID-3", "PID-2", "PID-4" };
    /* as many as seen: past out's end a repeat would be written again
     * (F1822) */
    struct slice seen[64];
    struct cx_out out[64];
    uint64_t lens = 0, vlens = 0;   /* vlens: the values written, by length */
    unsigned nseen = 0, n = 0, nout = 0, linked = 0;
    /* ssn: PID-19 (val1), the SSN (v2.2 to 2.6, still sent by US
     * systems): an identifier as the C-CDA and CSV adapters give it,
     * unless PID-3 has it already (type SS); a value that is no SSN is
     * left out, with a warning */
    /* outside the US PID-19 holds the country's own number (Malaffi, Abu
     * Dhabi: the Emirates ID): a number is kept as sent, type SS, with no
     * system (the sender scopes it, as any identifier without one) */
    bool foreign = false;
    if (ssn.s.len && !ssn_valid(ssn.s)) {
        if (pid3_repeats(c, pid, ssn.s))
            ;                       /* the list has it: nothing to add */
        else if (!outside_us(c, pid))
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
            struct text type = part(c, &pt, 5, 1), sys = TEXT_NONE;
            bool unlinked = false, ss = upper_eq(type.s, "SS"),
                 abroad = false;
            if (ss) {
                sys = cx_system(c, &pt);
                ss = !(abroad = ss_of_another_country(sys));
            }
            if (!ss) {
                /* a national, health-card or Medicaid number (F116), or
                 * another country's SS (F3340): a placeholder in it is
                 * left out, as in PID-19 */
                if ((abroad || natid_national_type(type.s)) &&
                    natid_placeholder(v.s)) {
                    adt_warn(c, cx_field[f], "national number is a "
                                             "placeholder; left out");
                    continue;
                }
                if (!abroad)
                    sys = cx_system(c, &pt);
                if (cx_system_is_hub(c, cx_field[f], sys))
                    continue;
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
                sys = ssa_system(sys);
                if (cx_system_is_hub(c, cx_field[f], sys))
                    continue;
            }
            if (nseen < 64) {
                seen[nseen++] = whole;
                lens |= (uint64_t)1 << (whole.len & 63);
            }
            /* CX-7 and CX-8 follow CX-6 in split_quick's rest: asked only
             * when a component separator there says they may be sent */
            struct slice rest = pt.n > 5 ? raw_part(&pt, 6) : SLICE_NULL;
            struct cx_out x = {
                v.s, sys.s, type.s,
                unlinked || (rest.len && memchr(rest.p, c->m->cs, rest.len) &&
                             cx_out_of_effect(c, rep, f)) };
            /* what differs only past what is written (CX-6, the
             * assigning facility: Cerner's PID-2 repeats a PID-3 MRN with
             * its own) is the same identifier: written once */
            uint64_t vbit = (uint64_t)1 << (x.v.len & 63);
            if ((vlens & vbit) && cx_written(out, nout, &x)) {
                c->has_id[f] = true;
                continue;
            }
            vlens |= vbit;
            if (nout < sizeof(out) / sizeof(*out))
                out[nout++] = x;
            if (n++ == 0) {
                key_open(c, JW_KEY("identifiers"), '[');
            }
            write_cx(c, v, sys, type, x.inactive);
            linked += !x.inactive;
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
        linked++;
    }
    c->by_message = linked == 0;
    if (__builtin_expect(c->by_message, 0))
        write_by_message(c, n);
    else if (n)
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
        struct text use = name_use(part(c, &pt, 7, 0).s);
        /* XPN-10's range or XPN-13 follow in split_quick's rest: read
         * only when a component separator there says they may be sent */
        struct slice rest = pt.n > 8 ? raw_part(&pt, 9) : SLICE_NULL;
        if (rest.len && memchr(rest.p, c->m->cs, rest.len) &&
            xpn_ended(c, rep))
            use = TEXT_LIT("old");
        struct text repr = pt.n >= 8 ? name_representation(
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
        struct text use = addr_use(type);
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

/* Whether an XTN that gave no number holds one in XTN.4, the e-mail
 * address ("^^CP^0831234567", a component late): no address and not read
 * as the number, but said rather than dropped unsaid (F3341). Out of
 * line: asked only of a repetition that gave no number. An X.400 address
 * there is where it belongs, digits or not ("C=DE;A=VIAT;P=AOK2;S=Lee"),
 * and was called a phone number (F3423). */
/* Its parts are passed as slices, not the XTN's parts: a pointer to
 * those, passed out of line, kept them out of registers in the whole
 * phone loop (+50 instructions a message). */
static __attribute__((noinline)) bool number_as_email(struct slice use,
                                                      struct slice equip,
                                                      struct slice e)
{
    if (xtn_not_a_phone(use, equip) || upper_eq(equip, "X.400"))
        return false;
    if (!e.len || memchr(e.p, '@', e.len))
        return false;
    for (size_t i = 0; i < e.len; i++)
        if (e.p[i] >= '0' && e.p[i] <= '9')
            return true;
    return false;
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
            if (!v.s.len) {
                if (number_as_email(use, part(c, &pt, 3, 0).s,
                                    part(c, &pt, 4, 0).s))
                    adt_warn(c, src[s].name,
                             "phone number sent in the e-mail component "
                             "(XTN.4); left out");
                continue;
            }
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
            struct text use_as = phone_use(use, part(c, &pt, 3, 0).s,
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

ADT_FN void adt_write_patient(struct ctx *c, const struct hl7_seg *pid,
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
    struct text sx = sex.len ? sex_of(sex) : TEXT_NONE;
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
    /* an explicit "not deceased" outweighs a death date (F2501): of two
     * fields that contradict each other, the one that closes a care
     * team's work is the one not believed */
    bool said_alive = upper_eq(dead, "N") || upper_eq(dead, "FALSE");
    if (!said_dead && died.s.len) {
        /* PID-29 says a death only when it reads as a time: a sender
         * whose fields run one late puts PID-30's "N" or PID-28's
         * nationality there, and a living patient sent as dead would
         * close a care team's work */
        char iso[ISO_MAX];
        size_t ilen;
        bool is_time = iso_time(iso, died.s, 0, &ilen) == 0 ||
                       adt_iso_time_repair(c, iso, died.s, NULL, 0,
                                           &ilen) == 0;
        if (!is_time)
            adt_warn(c, "PID-29", "death date is not an HL7 DTM; not read as "
                                  "a death");
        else if (said_alive)
            adt_warn(c, "PID-29", "death date beside PID-30 \"N\" (not "
                                  "deceased); not read as a death");
        said_dead = is_time && !said_alive;
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
                if (cx_system_is_hub(c, mrg_field[f], sys))
                    continue;
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
                if (upper_eq(type.s, "SS") && !ss_of_another_country(sys)) {
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
    /* the brace is closed by adt_write_encounter */
}

/*
 * adt.c - HL7 v2 ADT messages to canonical events (see /CANON in
 * adapters/common/canon.h and schemas/canonical-event.schema.json).
 *
 * Topics by trigger (MSH-9.2, or EVN-1 when MSH-9 has no event):
 *   A01 -> adt.admit           A02 -> adt.transfer     A03 -> adt.discharge
 *   A04, A28 -> adt.register   A08, A31 -> adt.update  A40 -> adt.merge
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
 *       its view of the visit.
 * Other ADT triggers: HUB_EUNSUPPORTED at MSH-9.2; other message types:
 * HUB_EUNSUPPORTED at MSH-9.
 *
 * One event per message, except A40, which may merge several patients: one
 * adt.merge per PID/MRG group. Values are written as sent (unescaped,
 * trimmed); codes are mapped only where the mapping is obvious. A value that
 * cannot be read (a malformed date, an unknown sex code) is left out and
 * named in "warnings" by field, never by value.
 */
#include <stdio.h>
#include <string.h>

#include "common/jw.h"
#include "hl7v2/hl7v2_int.h"

#define ADT_MAX_WARNINGS 32
#define ADT_MAX_JSON (1u << 20)

struct warning {
    const char *field;          /* static: "PID-7" */
    const char *what;           /* static */
};

struct ctx {
    struct arena *a;
    const struct hl7_msg *m;
    struct jw w;
    uint32_t lo, hi;            /* segment index range of this event */
    struct warning warn[ADT_MAX_WARNINGS];
    unsigned nwarn;
    int sud;
};

static void warn(struct ctx *c, const char *field, const char *what)
{
    for (unsigned k = 0; k < c->nwarn; k++)
        if (c->warn[k].field == field && c->warn[k].what == what)
            return;
    if (c->nwarn < ADT_MAX_WARNINGS)
        c->warn[c->nwarn++] = (struct warning){ field, what };
}

/* ---- access ------------------------------------------------------------- */

/* The first segment `id` in [lo, hi). */
static const struct hl7_seg *seg_in(const struct ctx *c, const char *id)
{
    for (uint32_t k = c->lo; k < c->hi; k++) {
        const struct hl7_seg *s = &c->m->seg[k];
        if (memcmp(s->id, id, 3) == 0)
            return s;
    }
    return NULL;
}

/* A raw (still escaped) field repetition, and whether its field holds the
 * escape character at all (the parser noted it; most do not). */
struct raw {
    struct slice v;
    int esc;
};

static struct raw rep_raw(const struct ctx *c, const struct hl7_seg *s,
                          unsigned f, unsigned r)
{
    unsigned fl;
    struct slice v = hl7_seg_field_flags(c->m, s, f, &fl);
    if (fl & HL7_FLD_REP)
        v = hl7_piece(v, c->m->rs, r);
    else if (r > 0)
        v = SLICE_NULL;
    return (struct raw){ v, (fl & HL7_FLD_ESC) != 0 };
}

/* Component (1-based) and subcomponent (1-based, 0 = whole) of a raw
 * repetition, unescaped. */
static struct slice comp(const struct ctx *c, struct raw rep, unsigned k,
                         unsigned sub)
{
    struct slice v = k ? hl7_piece(rep.v, c->m->cs, k - 1) : rep.v;
    if (sub)
        v = hl7_piece(v, c->m->ss, sub - 1);
    return hl7_text(c->a, c->m, v, rep.esc);
}

/*
 * A repetition split into its components once, for the data types read
 * component by component (CX, XPN, XAD, XTN, PL, XCN). The highest component
 * read is 9 (XAD-9), so ten pieces suffice: the tenth holds the rest.
 */
#define ADT_MAX_COMPS 10

struct parts {
    struct slice c[ADT_MAX_COMPS];
    unsigned n;
    int esc;
};

static void split(const struct ctx *c, struct raw rep, struct parts *pt)
{
    pt->n = hl7_split(rep.v, c->m->cs, pt->c, ADT_MAX_COMPS);
    pt->esc = rep.esc;
}

/* Component k (1-based, below ADT_MAX_COMPS), subcomponent sub (0 = all). */
static struct slice part(const struct ctx *c, const struct parts *pt,
                         unsigned k, unsigned sub)
{
    if (k == 0 || k > pt->n)
        return SLICE_NULL;
    struct slice v = pt->c[k - 1];
    if (sub)
        v = hl7_piece(v, c->m->ss, sub - 1);
    return hl7_text(c->a, c->m, v, pt->esc);
}

/* SEG-f.k.sub of the first repetition, unescaped. */
static struct slice val(const struct ctx *c, const struct hl7_seg *s,
                        unsigned f, unsigned k, unsigned sub)
{
    return comp(c, rep_raw(c, s, f, 0), k, sub);
}

/* Walks the repetitions of a field in one pass (the parser bounded their
 * number by HL7_MAX_REPS). */
struct rep_iter {
    const char *q, *end;
    int sep, esc, more;
};

static void reps_init(const struct ctx *c, const struct hl7_seg *s,
                      unsigned f, struct rep_iter *it)
{
    unsigned fl;
    struct slice v = hl7_seg_field_flags(c->m, s, f, &fl);
    it->q = v.p;
    it->end = v.p ? v.p + v.len : NULL;
    it->sep = fl & HL7_FLD_REP ? c->m->rs : HL7_NO_SEP;
    it->esc = (fl & HL7_FLD_ESC) != 0;
    it->more = v.p != NULL;
}

static int reps_next(struct rep_iter *it, struct raw *out)
{
    if (!it->more)
        return 0;
    const char *x = NULL;
    if (it->sep != HL7_NO_SEP)
        for (const char *q = it->q; q < it->end && !x; q++)
            if ((unsigned char)*q == it->sep)
                x = q;
    if (x == NULL) {
        *out = (struct raw){ { it->q, (size_t)(it->end - it->q) }, it->esc };
        it->more = 0;
    } else {
        *out = (struct raw){ { it->q, (size_t)(x - it->q) }, it->esc };
        it->q = x + 1;
    }
    return 1;
}

static int upper_eq(struct slice s, const char *lit)
{
    size_t n = strlen(lit);
    if (s.len != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s.p[i];
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 32);
        if (ch != lit[i])
            return 0;
    }
    return 1;
}

/* ---- HL7 DTM to ISO 8601 ------------------------------------------------ */

static int digits(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return 0;
    return 1;
}

static int num2(const char *p)
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

static int iso_time(char o[ISO_MAX], struct slice v, int date_only,
                    size_t *out_len)
{
    const char *p = v.p;
    size_t n = v.len, body = n;
    size_t k = 0;

    for (size_t i = 4; i < n; i++)
        if (p[i] == '+' || p[i] == '-') {
            body = i;
            break;
        }
    size_t whole = body;
    for (size_t i = 0; i < body; i++)
        if (p[i] == '.') {
            whole = i;
            break;
        }
    if (!(whole == 4 || whole == 6 || whole == 8 || whole == 10 ||
          whole == 12 || whole == 14) || !digits(p, whole))
        return -1;
    if (whole < body && (whole != 14 || body - whole < 2 ||
                         body - whole > 5 || !digits(p + whole + 1,
                                                     body - whole - 1)))
        return -1;
    if (body < n && (n - body != 5 || !digits(p + body + 1, 4) ||
                     num2(p + body + 1) > 14 || num2(p + body + 3) > 59))
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

/* Write "key": ISO time of a raw DTM value; warn and omit when malformed. */
static int kv_time(struct ctx *c, const char *key, struct slice v,
                   const char *field, int date_only)
{
    char iso[ISO_MAX];
    size_t n;
    if (v.len == 0)
        return 0;
    if (iso_time(iso, v, date_only, &n) < 0) {
        warn(c, field, date_only ? "date is not an HL7 date"
                                 : "timestamp is not an HL7 DTM");
        return 0;
    }
    jw_kv_str(&c->w, key, (struct slice){ iso, n });
    return 1;
}

/* ---- code maps ---------------------------------------------------------- */

static const char *topic_of(struct slice trig, const char **cancel_of)
{
    static const struct {
        const char *trig, *topic, *cancel_of;
    } map[] = {
        { "A01", "adt.admit", NULL },     { "A02", "adt.transfer", NULL },
        { "A03", "adt.discharge", NULL }, { "A04", "adt.register", NULL },
        { "A05", "adt.register", NULL },  { "A14", "adt.register", NULL },
        { "A06", "adt.transfer", NULL },  { "A07", "adt.transfer", NULL },
        { "A08", "adt.update", NULL },    { "A31", "adt.update", NULL },
        { "A11", "adt.update", "A01" },   { "A12", "adt.update", "A02" },
        { "A13", "adt.update", "A03" },   { "A28", "adt.register", NULL },
        { "A40", "adt.merge", NULL },
    };
    for (size_t k = 0; k < sizeof(map) / sizeof(map[0]); k++)
        if (upper_eq(trig, map[k].trig)) {
            *cancel_of = map[k].cancel_of;
            return map[k].topic;
        }
    return NULL;
}

/* HL7 table 0001 administrative sex to the canonical F/M/O/U. */
static const char *sex_of(struct slice v)
{
    if (upper_eq(v, "F") || upper_eq(v, "FEMALE"))
        return "F";
    if (upper_eq(v, "M") || upper_eq(v, "MALE"))
        return "M";
    if (upper_eq(v, "O") || upper_eq(v, "A") || upper_eq(v, "X") ||
        upper_eq(v, "OTHER"))
        return "O";                 /* other, ambiguous, non-binary */
    if (upper_eq(v, "U") || upper_eq(v, "N") || upper_eq(v, "UNKNOWN"))
        return "U";                 /* unknown, not applicable */
    return NULL;
}

/* HL7 table 0004 patient class to v3 ActEncounterCode. */
static const char *class_of(struct slice v)
{
    if (upper_eq(v, "I") || upper_eq(v, "B") || upper_eq(v, "INPATIENT"))
        return "IMP";               /* B obstetrics is an inpatient stay */
    if (upper_eq(v, "O") || upper_eq(v, "R") || upper_eq(v, "C") ||
        upper_eq(v, "OUTPATIENT"))
        return "AMB";               /* R recurring, C commercial account */
    if (upper_eq(v, "E") || upper_eq(v, "EMERGENCY"))
        return "EMER";
    if (upper_eq(v, "P") || upper_eq(v, "PREADMIT"))
        return "PRENC";
    return NULL;
}

/* HL7 table 0200 name type to FHIR HumanName.use. */
static const char *name_use(struct slice v)
{
    static const char *const map[][2] = {
        { "L", "official" }, { "D", "usual" },  { "A", "usual" },
        { "M", "maiden" },   { "N", "nickname" }, { "S", "anonymous" },
        { "T", "temp" },     { "C", "official" }, { "B", "official" },
    };
    for (size_t k = 0; k < sizeof(map) / sizeof(map[0]); k++)
        if (upper_eq(v, map[k][0]))
            return map[k][1];
    return NULL;
}

/* HL7 table 0190 address type to FHIR Address.use. */
static const char *addr_use(struct slice v)
{
    if (upper_eq(v, "H") || upper_eq(v, "P") || upper_eq(v, "HOME"))
        return "home";              /* home, permanent */
    if (upper_eq(v, "B") || upper_eq(v, "O") || upper_eq(v, "WORK"))
        return "work";              /* business, office */
    if (upper_eq(v, "C"))
        return "temp";              /* current or temporary */
    if (upper_eq(v, "BA"))
        return "old";               /* bad address */
    return NULL;
}

/* HL7 tables 0201 (use) and 0202 (equipment) to FHIR ContactPoint.use;
 * else what the field itself says (PID-13 home, PID-14 business). */
static const char *phone_use(struct slice use, struct slice equip,
                             const char *dflt)
{
    if (upper_eq(equip, "CP"))
        return "mobile";
    if (upper_eq(use, "PRN") || upper_eq(use, "ORN") ||
        upper_eq(use, "VHN") || upper_eq(use, "HOME"))
        return "home";
    if (upper_eq(use, "WPN") || upper_eq(use, "WORK"))
        return "work";
    return dflt;
}

/* ICD-10 (-CM) F10-F19: mental and behavioural disorders due to
 * psychoactive substance use, protected by 42 CFR Part 2. */
static int is_sud(struct slice code, struct slice system)
{
    static const char *const icd10[] = {
        "I10", "I10C", "ICD10", "ICD-10", "ICD10CM", "ICD-10-CM",
        "2.16.840.1.113883.6.90", "2.16.840.1.113883.6.3",
        "http://hl7.org/fhir/sid/icd-10-cm", "http://hl7.org/fhir/sid/icd-10",
    };
    int known = system.len == 0;    /* unlabelled: err on the safe side */
    for (size_t k = 0; !known && k < sizeof(icd10) / sizeof(icd10[0]); k++)
        known = upper_eq(system, icd10[k]);
    if (!known || code.len < 3)
        return 0;
    char c0 = code.p[0];
    return (c0 == 'F' || c0 == 'f') && code.p[1] == '1' &&
           code.p[2] >= '0' && code.p[2] <= '9' &&
           (code.len == 3 || code.p[3] == '.' ||
            (code.p[3] >= '0' && code.p[3] <= '9') ||
            (code.p[3] >= 'A' && code.p[3] <= 'Z'));
}

/* ---- writers ------------------------------------------------------------ */

/* CX: value, assigning authority (HD.1 namespace, else HD.2 universal id),
 * identifier type. */
static int write_cx(struct ctx *c, struct raw rep)
{
    struct parts pt;
    split(c, rep, &pt);
    struct slice v = part(c, &pt, 1, 0);
    if (v.len == 0)
        return 0;
    struct slice sys = part(c, &pt, 4, 1);
    if (sys.len == 0)
        sys = part(c, &pt, 4, 2);
    jw_obj_begin(&c->w);
    jw_kv_str(&c->w, "value", v);
    jw_kv_str(&c->w, "system", sys);
    jw_kv_str(&c->w, "type", part(c, &pt, 5, 0));
    jw_obj_end(&c->w);
    return 1;
}

static void write_identifiers(struct ctx *c, const struct hl7_seg *pid)
{
    /* PID-3 is the list; PID-2 (external id) and PID-4 (alternate id) were
     * withdrawn in v2.7 but older senders still fill them. */
    static const unsigned fields[] = { 3, 2, 4 };
    struct slice seen[64];
    unsigned nseen = 0, n = 0;

    for (unsigned f = 0; f < 3; f++) {
        struct rep_iter it;
        struct raw rep;
        reps_init(c, pid, fields[f], &it);
        while (reps_next(&it, &rep)) {
            int dup = 0;
            for (unsigned k = 0; k < nseen && !dup; k++)
                dup = slice_eq_slice(seen[k], slice_trim(rep.v));
            if (dup || comp(c, rep, 1, 0).len == 0)
                continue;
            if (nseen < 64)
                seen[nseen++] = slice_trim(rep.v);
            if (n++ == 0) {
                jw_key(&c->w, "identifiers");
                jw_arr_begin(&c->w);
            }
            write_cx(c, rep);
        }
    }
    if (n)
        jw_arr_end(&c->w);
}

static void write_names(struct ctx *c, const struct hl7_seg *pid)
{
    unsigned n = 0;
    struct rep_iter it;
    struct raw rep;
    reps_init(c, pid, 5, &it);
    while (reps_next(&it, &rep)) {
        struct parts pt;
        split(c, rep, &pt);
        struct slice family = part(c, &pt, 1, 1);  /* FN.1 surname */
        struct slice given = part(c, &pt, 2, 0);
        struct slice middle = part(c, &pt, 3, 0);
        struct slice suffix = part(c, &pt, 4, 0);
        struct slice prefix = part(c, &pt, 5, 0);
        const char *use = name_use(part(c, &pt, 7, 0));
        if (!family.len && !given.len && !middle.len)
            continue;
        if (n++ == 0) {
            jw_key(&c->w, "names");
            jw_arr_begin(&c->w);
        }
        jw_obj_begin(&c->w);
        jw_kv_str(&c->w, "family", family);
        if (given.len || middle.len) {
            jw_key(&c->w, "given");
            jw_arr_begin(&c->w);
            if (given.len)
                jw_str(&c->w, given);
            if (middle.len)
                jw_str(&c->w, middle);
            jw_arr_end(&c->w);
        }
        jw_kv_str(&c->w, "prefix", prefix);
        jw_kv_str(&c->w, "suffix", suffix);
        jw_kv_cstr(&c->w, "use", use);
        jw_obj_end(&c->w);
    }
    if (n)
        jw_arr_end(&c->w);
}

static void write_addresses(struct ctx *c, const struct hl7_seg *pid)
{
    unsigned n = 0, r = 0;
    struct rep_iter it;
    struct raw rep;
    reps_init(c, pid, 11, &it);
    while (reps_next(&it, &rep)) {
        struct parts pt;
        split(c, rep, &pt);
        /* XAD.1 is SAD since v2.5: street, street name, dwelling number;
         * senders that split it get the parts joined by spaces */
        struct slice sad = pt.c[0];
        struct slice parts[3], line1 = SLICE_NULL;
        size_t l1 = 0;
        for (unsigned k = 0; k < 3; k++) {
            parts[k] = hl7_text(c->a, c->m, hl7_piece(sad, c->m->ss, k),
                                pt.esc);
            l1 += parts[k].len + 1;
        }
        if (parts[1].len || parts[2].len) {
            char *o = arena_alloc(c->a, l1);
            size_t q = 0;
            for (unsigned k = 0; k < 3; k++) {
                if (!parts[k].len)
                    continue;
                if (q)
                    o[q++] = ' ';
                memcpy(o + q, parts[k].p, parts[k].len);
                q += parts[k].len;
            }
            line1 = (struct slice){ o, q };
        } else {
            line1 = parts[0];
        }
        struct slice line2 = part(c, &pt, 2, 0);
        struct slice city = part(c, &pt, 3, 0);
        struct slice state = part(c, &pt, 4, 0);
        struct slice zip = part(c, &pt, 5, 0);
        struct slice country = part(c, &pt, 6, 0);
        struct slice county = part(c, &pt, 9, 1);  /* XAD-9 county/parish */
        if (!county.len && r == 0)
            county = val(c, pid, 12, 1, 0);         /* PID-12, pre-2.6 */
        r++;
        const char *use = addr_use(part(c, &pt, 7, 0));
        if (!line1.len && !line2.len && !city.len && !state.len &&
            !zip.len && !county.len && !country.len)
            continue;
        if (n++ == 0) {
            jw_key(&c->w, "addresses");
            jw_arr_begin(&c->w);
        }
        jw_obj_begin(&c->w);
        if (line1.len || line2.len) {
            jw_key(&c->w, "lines");
            jw_arr_begin(&c->w);
            if (line1.len)
                jw_str(&c->w, line1);
            if (line2.len)
                jw_str(&c->w, line2);
            jw_arr_end(&c->w);
        }
        jw_kv_str(&c->w, "city", city);
        jw_kv_str(&c->w, "state", state);
        jw_kv_str(&c->w, "postal_code", zip);
        jw_kv_str(&c->w, "county", county);
        jw_kv_str(&c->w, "country", country);
        jw_kv_cstr(&c->w, "use", use);
        jw_obj_end(&c->w);
    }
    if (n)
        jw_arr_end(&c->w);
}

/* XTN: XTN.1 as sent, else [+country ][(area) ]local[ xext]. E-mail
 * addresses (XTN.4) have no place in "phones" and are left out. */
static struct slice xtn_value(struct ctx *c, const struct parts *pt)
{
    struct slice v = part(c, pt, 1, 0);
    if (v.len)
        return v;
    struct slice cc = part(c, pt, 5, 0), area = part(c, pt, 6, 0),
                 local = part(c, pt, 7, 0), ext = part(c, pt, 8, 0);
    if (!local.len)
        return SLICE_NULL;
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
    return b.err ? SLICE_NULL : buf_slice(&b);
}

static void write_phones(struct ctx *c, const struct hl7_seg *pid)
{
    /* PID-13 home, PID-14 business, PID-40 (v2.7+) replaces both */
    static const struct {
        unsigned f;
        const char *dflt;
    } src[] = { { 13, "home" }, { 14, "work" }, { 40, NULL } };
    struct slice seen[32];
    unsigned nseen = 0, n = 0;

    for (unsigned s = 0; s < 3; s++) {
        struct rep_iter it;
        struct raw rep;
        reps_init(c, pid, src[s].f, &it);
        while (reps_next(&it, &rep)) {
            struct parts pt;
            split(c, rep, &pt);
            struct slice v = xtn_value(c, &pt);
            if (!v.len)
                continue;
            int dup = 0;
            for (unsigned k = 0; k < nseen && !dup; k++)
                dup = slice_eq_slice(seen[k], v);
            if (dup)
                continue;
            if (nseen < 32)
                seen[nseen++] = v;
            if (n++ == 0) {
                jw_key(&c->w, "phones");
                jw_arr_begin(&c->w);
            }
            jw_obj_begin(&c->w);
            jw_kv_str(&c->w, "value", v);
            jw_kv_cstr(&c->w, "use", phone_use(part(c, &pt, 2, 0),
                                               part(c, &pt, 3, 0),
                                               src[s].dflt));
            jw_obj_end(&c->w);
        }
    }
    if (n)
        jw_arr_end(&c->w);
}

static void write_patient(struct ctx *c, const struct hl7_seg *pid,
                          const struct hl7_seg *mrg)
{
    jw_key(&c->w, "patient");
    jw_obj_begin(&c->w);
    write_identifiers(c, pid);
    write_names(c, pid);
    kv_time(c, "birth_date", val(c, pid, 7, 1, 0), "PID-7", 1);
    struct slice sex = val(c, pid, 8, 1, 0);
    if (sex.len) {
        const char *s = sex_of(sex);
        if (s)
            jw_kv_cstr(&c->w, "sex", s);
        else
            warn(c, "PID-8", "sex is not in HL7 table 0001");
    }
    write_addresses(c, pid);
    write_phones(c, pid);
    struct slice died = val(c, pid, 29, 1, 0);
    struct slice dead = val(c, pid, 30, 1, 0);
    if (upper_eq(dead, "Y") || upper_eq(dead, "TRUE") || died.len) {
        jw_key(&c->w, "deceased");
        jw_bool(&c->w, true);
        kv_time(c, "deceased_at", died, "PID-29", 0);
    }
    if (mrg) {
        /* MRG-1 prior identifiers; MRG-4 prior patient id (pre-2.7) */
        static const unsigned fields[] = { 1, 4 };
        unsigned n = 0;
        for (unsigned f = 0; f < 2; f++) {
            struct rep_iter it;
            struct raw rep;
            reps_init(c, mrg, fields[f], &it);
            while (reps_next(&it, &rep)) {
                if (comp(c, rep, 1, 0).len == 0)
                    continue;
                if (n++ == 0) {
                    jw_key(&c->w, "merged_from");
                    jw_arr_begin(&c->w);
                }
                write_cx(c, rep);
            }
        }
        if (n)
            jw_arr_end(&c->w);
    }
    jw_obj_end(&c->w);
}

/* PL: point of care, room, bed, facility, building, floor; each the first
 * subcomponent, as v2.7 made several of them HD (namespace&oid&type). */
static void write_location(struct ctx *c, const char *key, struct raw rep)
{
    static const struct {
        const char *key;
        unsigned comp, sub;
    } parts[] = { { "point_of_care", 1, 1 }, { "room", 2, 1 },
                  { "bed", 3, 1 },           { "facility", 4, 1 },
                  { "building", 7, 1 },      { "floor", 8, 1 } };
    struct slice v[6];
    struct parts pt;
    int any = 0;
    split(c, rep, &pt);
    for (unsigned k = 0; k < 6; k++) {
        v[k] = part(c, &pt, parts[k].comp, parts[k].sub);
        /* a sender that puts a repetition separator inside a location
         * still gets its first part (see adt.hl7 in tests/data) */
        any |= v[k].len != 0;
    }
    if (!any)
        return;
    jw_key(&c->w, key);
    jw_obj_begin(&c->w);
    for (unsigned k = 0; k < 6; k++)
        jw_kv_str(&c->w, parts[k].key, v[k]);
    jw_obj_end(&c->w);
}

static void write_diagnoses(struct ctx *c)
{
    unsigned n = 0;
    for (uint32_t k = c->lo; k < c->hi; k++) {
        const struct hl7_seg *dg1 = &c->m->seg[k];
        if (memcmp(dg1->id, "DG1", 3) != 0)
            continue;
        struct slice code = val(c, dg1, 3, 1, 0);
        struct slice system = val(c, dg1, 3, 3, 0);
        struct slice display = val(c, dg1, 3, 2, 0);
        if (!system.len)
            system = val(c, dg1, 2, 0, 0);  /* DG1-2 coding method */
        if (!display.len)
            display = val(c, dg1, 4, 0, 0); /* DG1-4 description */
        if (!code.len && !display.len)
            continue;
        if (is_sud(code, system))
            c->sud = 1;
        if (n++ == 0) {
            jw_key(&c->w, "diagnoses");
            jw_arr_begin(&c->w);
        }
        jw_obj_begin(&c->w);
        jw_kv_str(&c->w, "code", code);
        jw_kv_str(&c->w, "system", system);
        jw_kv_str(&c->w, "display", display);
        jw_kv_str(&c->w, "type", val(c, dg1, 6, 0, 0));
        jw_obj_end(&c->w);
    }
    if (n)
        jw_arr_end(&c->w);
}

static void write_encounter(struct ctx *c, const struct hl7_seg *pv1,
                            const char *cancel_of)
{
    jw_key(&c->w, "encounter");
    jw_obj_begin(&c->w);
    if (pv1) {
        struct slice pclass = val(c, pv1, 2, 1, 0);
        jw_kv_str(&c->w, "patient_class", pclass);
        jw_kv_cstr(&c->w, "class", class_of(pclass));
        struct slice fac = val(c, pv1, 3, 4, 1);
        if (!fac.len)
            fac = val(c, pv1, 39, 1, 0);    /* PV1-39 servicing facility */
        jw_kv_str(&c->w, "facility", fac);
        write_location(c, "location", rep_raw(c, pv1, 3, 0));
        write_location(c, "prior_location", rep_raw(c, pv1, 6, 0));
        unsigned n = 0;
        struct rep_iter it;
        struct raw rep;
        reps_init(c, pv1, 7, &it);
        while (reps_next(&it, &rep)) {
            struct parts pt;
            split(c, rep, &pt);
            struct slice id = part(c, &pt, 1, 0);
            struct slice family = part(c, &pt, 2, 1);
            struct slice given = part(c, &pt, 3, 0);
            if (!id.len && !family.len && !given.len)
                continue;
            if (n++ == 0) {
                jw_key(&c->w, "attending");
                jw_arr_begin(&c->w);
            }
            jw_obj_begin(&c->w);
            jw_kv_str(&c->w, "id", id);
            jw_kv_str(&c->w, "family", family);
            jw_kv_str(&c->w, "given", given);
            jw_obj_end(&c->w);
        }
        if (n)
            jw_arr_end(&c->w);
        jw_kv_str(&c->w, "hospital_service", val(c, pv1, 10, 1, 0));
        kv_time(c, "admitted_at", val(c, pv1, 44, 1, 0), "PV1-44", 0);
        kv_time(c, "discharged_at", val(c, pv1, 45, 1, 0), "PV1-45", 0);
        jw_kv_str(&c->w, "discharge_disposition", val(c, pv1, 36, 1, 0));
        jw_kv_str(&c->w, "visit_number", val(c, pv1, 19, 1, 0));
    }
    write_diagnoses(c);
    jw_kv_cstr(&c->w, "cancel_of", cancel_of);
    jw_obj_end(&c->w);
}

/* ---- the event ---------------------------------------------------------- */

static int one_event(struct ctx *c, const char *topic, const char *cancel_of,
                     struct slice trig, struct canon_list *out,
                     struct hub_err *err)
{
    const struct hl7_msg *m = c->m;
    const struct hl7_seg *msh = &m->seg[0];
    const struct hl7_seg *pid = seg_in(c, "PID");
    const struct hl7_seg *evn = hl7_seg_find(m, "EVN", 0);

    if (pid == NULL)
        return hub_err_set(err, HUB_EINVALID, "PID", 0,
                           "required segment PID is missing");
    if (comp(c, rep_raw(c, pid, 3, 0), 1, 0).len == 0 &&
        comp(c, rep_raw(c, pid, 2, 0), 1, 0).len == 0 &&
        comp(c, rep_raw(c, pid, 4, 0), 1, 0).len == 0)
        return hub_err_set(err, HUB_EINVALID, "PID-3", pid->off,
                           "required field patient identifier is missing");

    c->nwarn = 0;
    c->sud = 0;
    jw_init(&c->w, c->a, ADT_MAX_JSON);
    struct jw *w = &c->w;
    jw_obj_begin(w);
    jw_kv_cstr(w, "type", topic);

    jw_key(w, "source");
    jw_obj_begin(w);
    jw_kv_cstr(w, "format", "hl7v2");
    jw_kv_str(w, "message_id", hl7_unescape(c->a, m, hl7_control_id(m)));
    jw_kv_str(w, "sending_application", val(c, msh, 3, 1, 0));
    jw_kv_str(w, "sending_facility", val(c, msh, 4, 1, 0));
    jw_kv_str(w, "version", hl7_version(m));
    jw_kv_str(w, "trigger", trig);
    jw_obj_end(w);

    /* EVN-6 event occurred, else EVN-2 recorded, else MSH-7 */
    if (!kv_time(c, "occurred_at", val(c, evn, 6, 1, 0), "EVN-6", 0) &&
        !kv_time(c, "occurred_at", val(c, evn, 2, 1, 0), "EVN-2", 0))
        kv_time(c, "occurred_at", val(c, msh, 7, 1, 0), "MSH-7", 0);

    const struct hl7_seg *mrg = seg_in(c, "MRG");
    write_patient(c, pid, memcmp(topic, "adt.merge", 9) == 0 ? mrg : NULL);
    write_encounter(c, seg_in(c, "PV1"), cancel_of);

    if (c->sud) {
        jw_key(w, "sensitivity");
        jw_arr_begin(w);
        jw_cstr(w, "sud");
        jw_arr_end(w);
    }
    if (c->nwarn) {
        jw_key(w, "warnings");
        jw_arr_begin(w);
        for (unsigned k = 0; k < c->nwarn; k++) {
            jw_obj_begin(w);
            jw_kv_cstr(w, "field", c->warn[k].field);
            jw_kv_cstr(w, "what", c->warn[k].what);
            jw_obj_end(w);
        }
        jw_arr_end(w);
    }
    jw_obj_end(w);

    struct slice json;
    int rc = jw_finish(w, &json);
    if (rc != HUB_OK)
        return hub_err_set(err, rc, "message", 0,
                           "canonical event is larger than the limit");
    rc = canon_list_push(c->a, out, topic, json);
    if (rc != HUB_OK)
        return hub_err_set(err, rc, "message", 0, "too many events");
    return HUB_OK;
}

int hl7_to_events(struct arena *a, const struct hl7_msg *m,
                  struct canon_list *out, struct hub_err *err)
{
    if (m == NULL || m->nseg == 0)
        return hub_err_set(err, HUB_EINVALID, "MSH", 0,
                           "message was not parsed");
    if (!upper_eq(hl7_message_type(m), "ADT"))
        return hub_err_set(err, HUB_EUNSUPPORTED, "MSH-9", m->seg[0].off,
                           "message type is not supported");

    struct slice ver = hl7_version(m);
    if (ver.len == 0)
        return hub_err_set(err, HUB_EINVALID, "MSH-12", m->seg[0].off,
                           "required field version id is missing");
    if (ver.len < 3 || ver.p[0] != '2' || ver.p[1] != '.' ||
        ver.p[2] < '1' || ver.p[2] > '9')
        return hub_err_set(err, HUB_EUNSUPPORTED, "MSH-12", m->seg[0].off,
                           "version is not HL7 v2.1 to v2.9");
    if (hl7_control_id(m).len == 0)
        return hub_err_set(err, HUB_EINVALID, "MSH-10", m->seg[0].off,
                           "required field message control id is missing");

    struct slice trig = hl7_trigger(m);
    if (trig.len == 0) {
        /* v2.1/2.2 senders may leave MSH-9.2 empty: EVN-1 then says it */
        const struct hl7_seg *evn = hl7_seg_find(m, "EVN", 0);
        trig = slice_trim(hl7_piece(
            hl7_piece(hl7_seg_field(m, evn, 1), m->rs, 0), m->cs, 0));
    }
    const char *cancel_of = NULL;
    const char *topic = topic_of(trig, &cancel_of);
    if (topic == NULL)
        return hub_err_set(err, HUB_EUNSUPPORTED, "MSH-9.2", m->seg[0].off,
                           "event type is not supported");

    struct ctx c = { .a = a, .m = m, .lo = 0, .hi = m->nseg };
    if (strcmp(topic, "adt.merge") != 0)
        return one_event(&c, topic, cancel_of, trig, out, err);

    /* A40: one event per PID group (PID, PD1, MRG, PV1) */
    int groups = 0;
    for (uint32_t k = 0; k < m->nseg; k++) {
        if (memcmp(m->seg[k].id, "PID", 3) != 0)
            continue;
        uint32_t e = k + 1;
        while (e < m->nseg && memcmp(m->seg[e].id, "PID", 3) != 0)
            e++;
        c.lo = k;
        c.hi = e;
        int rc = one_event(&c, topic, NULL, trig, out, err);
        if (rc != HUB_OK)
            return rc;
        groups++;
    }
    if (groups == 0)
        return hub_err_set(err, HUB_EINVALID, "PID", 0,
                           "required segment PID is missing");
    return HUB_OK;
}

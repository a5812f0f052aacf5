/*
 * ccda_screen.c - screenings in a C-CDA document: an Assessment Scale
 * Observation (4.69) whose code is an instrument of the dictionary, or one
 * of whose items is a question it knows, gives screening.completed (and
 * screening.positive when a domain is positive), scored by the dictionary;
 * items sent loose in Social History, outside any scale, are gathered by
 * instrument and given once the body is read, and so are assessments (a
 * Social History Observation that asserts an SDOH finding: an item in the
 * finding's domain, as the FHIR adapter reads an SDOHCC Observation).
 * A Result Observation whose code is an instrument's total, sent as a
 * number, is that instrument's screening too (F2800).
 * A screening the document already gave, or a loose item one holds, is
 * told once (F2804).
 */
#include "ccda/ccda_doc.h"

#include <limits.h>
#include <math.h>

#define MAX_RESPONSES 200       /* items of one screening */
#define MAX_ANSWERS 16          /* values of one multi-select item */
#define MAX_LOOSE 200           /* loose screening items per document */

/* template ids (C-CDA R2.1) */
#define T_HOME_ENV "2.16.840.1.113883.10.20.22.4.109"
#define T_SCALE_SUPPORT "2.16.840.1.113883.10.20.22.4.86"
#define T_RESULT_OBS "2.16.840.1.113883.10.20.22.4.2"

#define W_REPEAT "document repeats this screening (same instrument, day " \
                 "and answers); told once"
#define W_UNREAD "document holds more screening entries than the hub " \
                 "reads; the rest are ignored"
#define W_ANSWERS "item has more answers than the hub reads; the rest are " \
                  "ignored"
#define W_SKIPPED "component coded in another system than LOINC: not an item"
#define W_SKIPPED_MORE "more components coded in another system than LOINC " \
                       "than are warned of; none is an item"

struct resp {
    struct dict_response r;
    struct slice ans[MAX_ANSWERS];
    const struct ccda_node *obs;
    const struct ccda_node *unread;     /* the first value past MAX_ANSWERS */
    int sender;                 /* interpretation: 1 positive, -1 negative */
    const char *assessed;       /* an assessment's domain, else NULL */
    bool asserted;              /* its finding asserted (not a status) */
    bool absent;                /* its finding denied (negationInd) */
    bool decimal;               /* r.value is `dvalue` rounded (REAL, PQ) */
    double dvalue;
    const char *unit;           /* a PQ's unit (UCUM), "1" left out */
    struct slice text;          /* an answer in words (ST, originalText) */
    bool boolean;               /* text is a BL value: "true", "false" */
    const char *why_none;       /* why unanswered: a data-absent reason */
    bool words_read;            /* ans[0]: the code whose display `text`
                                   is (F2263) */
    bool settled;               /* settle_item done */
};

#define DAY_UNREAD LONG_MIN     /* a day not yet read (read when compared) */

/* A screening given (F2804): what a later one is compared with, and its
 * events as written, written again when a warning comes after them. */
struct told {
    const struct dict_instrument *inst;
    struct slice code;          /* the panel's own code when inst is NULL */
    long day;                   /* its time's, -1 undated; DAY_UNREAD */
    const struct resp *rs;      /* its items, as scored */
    size_t n;
    struct ev ev;               /* labels and warnings as written */
    const char *occurred;
    struct slice body;
    const struct ccda_node *where;
    size_t at;                  /* screening.completed's place in dc->out */
    bool positive;              /* screening.positive follows it */
    bool repeated;              /* warned of a repeat */
    bool stale;                 /* warned since it was written */
    bool printed;               /* print read (the first comparison) */
    uint64_t print;             /* items_print of its items (F3225) */
    struct told *next;
};

/* The first screening entry a limit leaves unread (F2962): warned of once
 * the body is read (tell_unread). */
static void unread(struct doc *dc, const struct ccda_node *n)
{
    if (dc->unread == NULL)
        dc->unread = n;
}

static int interp_of(const struct ccda_node *obs)
{
    const char *c = ccda_attr(ccda_child(obs, "interpretationCode"), "code");
    if (c == NULL)
        return 0;
    if (strcmp(c, "POS") == 0 || strcmp(c, "A") == 0 ||
        strcmp(c, "AA") == 0 || strcmp(c, "H") == 0)
        return 1;
    if (strcmp(c, "NEG") == 0 || strcmp(c, "N") == 0)
        return -1;
    return 0;
}

/* A REAL or PQ value that is no integer (1.5 hours): whole, finite, in the
 * bounds parse_int keeps. */
static bool parse_decimal(const char *s, double *v)
{
    char *end;

    if (s == NULL || *s == '\0')
        return false;
    errno = 0;
    double d = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(d) || d < -1e6 || d > 1e6)
        return false;
    *v = d;
    return true;
}

/* The words of a value that is neither a code nor a number: an ST's
 * text, else a CD's originalText ("Stable - rents apartment" where no
 * answer of the list fits), as FHIR's valueString or CodeableConcept.text
 * (F2121). A reference to the narrative is not followed. */
static struct slice value_words(struct arena *a, const struct ccda_node *v)
{
    struct slice t = ccda_text(a, v);
    return slice_empty(t) ? ccda_text(a, ccda_child(v, "originalText")) : t;
}

/* A BL value's "true" or "false" (HL7 v3 BL, xsi:type="BL"), else NULL. */
static const char *value_bl(const struct ccda_node *v)
{
    const char *t = ccda_attr_ns(v, CCDA_NS_XSI, "type");
    const char *colon = t ? strchr(t, ':') : NULL;
    if (t == NULL || strcmp(colon ? colon + 1 : t, "BL") != 0)
        return NULL;
    struct slice b = ccda_token(ccda_attr(v, "value"));
    return slice_eq(b, "true") ? "true" : slice_eq(b, "false") ? "false" : NULL;
}

/* The FHIR data-absent reason a value's nullFlavor gives (F2281), for
 * dict_item_refused as FHIR's dataAbsentReason is passed: ASKU is the
 * refusal (v3 has no "declined"; C-CDA and US Core write ASKU for "declined
 * to answer"); NI says no more than no value (NULL: declined, as with no
 * reason sent, F2123); NASK, UNK, MSK and NA as the C-CDA on FHIR
 * ConceptMap CF-NullFlavorDataAbsentReason maps them; any other (NAV, QS,
 * TRC, NP, UNC, OTH...) the answer is not known: "unknown". */
static const char *null_reason(const char *flavor)
{
    static const struct { const char *flavor, *reason; } map[] = {
        { "ASKU", "asked-declined" }, { "NASK", "not-asked" },
        { "UNK", "unknown" },         { "MSK", "masked" },
        { "NA", "not-applicable" },
    };
    struct slice f = ccda_token(flavor);
    if (slice_eq(f, "NI"))
        return NULL;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (slice_eq(f, map[i].flavor))
            return map[i].reason;
    return "unknown";
}

/* The first value of `obs` of nullFlavor OTH: HL7 v3's "the value is
 * outside the code system", given in a translation or in words. */
static const struct ccda_node *oth_value(const struct ccda_node *obs)
{
    CCDA_FOREACH(v, obs, "value")
        if (slice_eq(ccda_token(ccda_attr(v, "nullFlavor")), "OTH"))
            return v;
    return NULL;
}

/* The code an OTH value carries in a translation: a LOINC one before any
 * other (as FHIR's coding of LOINC before the rest), else the first with a
 * code; NULL when none has one. */
static const char *oth_code(const struct ccda_node *v)
{
    const char *first = NULL;
    if (v == NULL || !value_cd_type(v))
        return NULL;
    CCDA_FOREACH(t, v, "translation") {
        const char *c = ccda_attr(t, "code");
        if (slice_empty(ccda_token(c)))
            continue;
        if (ccda_attr_eq(t, "codeSystem", OID_LOINC))
            return c;
        if (first == NULL)
            first = c;
    }
    return first;
}

/* An item no other value answers, read from its OTH value (F2342): the
 * translation's code is its answer, else the literal words of its
 * originalText are (F2121; words_by_display may make them a code). A
 * reference into the narrative is not followed: Epic's OTH values point
 * at "Not on file" cells, which are no answer. */
static void read_oth(struct arena *a, const struct ccda_node *v,
                     struct resp *r)
{
    const char *code = oth_code(v);
    if (code) {
        r->ans[r->r.n_answers++] = ccda_token(code);
    } else {
        r->text = value_words(a, v);
        r->r.has_text = !slice_empty(r->text);
    }
    if (r->r.n_answers || r->r.has_text)
        r->why_none = NULL;
}

/* Read one answered question into *r. */
static void read_response(struct arena *a, const struct ccda_node *obs,
                          struct resp *r)
{
    memset(r, 0, sizeof(*r));
    r->obs = obs;
    r->r.question = ccda_token(ccda_code_of(obs));
    r->r.answers = r->ans;
    r->sender = interp_of(obs);
    CCDA_FOREACH(v, obs, "value") {
        /* a nullFlavor is no answer but says why (null_reason); the item
         * is unanswered when no other value answers it (Epic writes a
         * nullFlavor OTH value, the code in a translation, beside a coded
         * one: F93; read_oth below). An ASKU anywhere is the refusal; else
         * the first. */
        if (ccda_attr(v, "nullFlavor")) {
            const char *why = null_reason(ccda_attr(v, "nullFlavor"));
            if (why && (!r->why_none || strcmp(why, "asked-declined") == 0))
                r->why_none = why;
            continue;
        }
        if (value_coded(v)) {
            if (r->r.n_answers < MAX_ANSWERS)
                r->ans[r->r.n_answers++] = ccda_token(ccda_attr(v, "code"));
            else if (r->unread == NULL)
                r->unread = v;  /* warned of (F3046) */
        } else if (parse_int(ccda_attr(v, "value"), &r->r.value)) {
            r->r.has_value = true;
        } else if (parse_decimal(ccda_attr(v, "value"), &r->dvalue)) {
            /* scored rounded, written as sent (a decimal was read as no
             * answer at all: declined) */
            r->r.has_value = true;
            r->r.value = (int64_t)llround(r->dvalue);
            r->decimal = (double)r->r.value != r->dvalue;
        } else if (value_bl(v) && !r->r.has_text) {
            /* a boolean: kept as its text, not scored (which "Yes" of a
             * coded question it means is not guessed), as FHIR keeps a
             * valueBoolean (F561, F2124); emit_screening warns */
            r->text = slice_from_cstr(value_bl(v));
            r->r.has_text = r->boolean = true;
        } else if (!r->r.has_text) {
            /* answered in words: not a refusal, not scored, its domain
             * screened (F2040, F2120) */
            r->text = value_words(a, v);
            r->r.has_text = !slice_empty(r->text);
        }
        if (r->r.has_value && !r->unit) {
            const char *u = ccda_attr(v, "unit");
            if (u && *u && strcmp(u, "1") != 0)
                r->unit = u;        /* as FHIR's valueQuantity code (F161) */
        }
    }
    /* OTH says the value is elsewhere: read only when no value answers
     * (Epic's OTH beside a LOINC value says the same again: F93) */
    if (r->r.n_answers == 0 && !r->r.has_value && !r->r.has_text &&
        oth_value(obs))
        read_oth(a, oth_value(obs), r);
    if (r->r.n_answers == 0 && !r->r.has_value && !r->r.has_text)
        r->r.declined = true;
}

/* Collect the items of a scale: component observations, through nested
 * groups (PRAPARE sections) up to MAX_ER_NEST levels. */
static void collect_items(struct doc *dc, const struct ccda_node *scale,
                          struct resp *rs, size_t *n, int depth,
                          bool *truncated)
{
    if (depth > MAX_ER_NEST)
        return;
    CCDA_FOREACH(er, scale, "entryRelationship") {
        const struct ccda_node *o = held_obs(dc, er);
        /* an answer the sender took back is none, as its panel would be
         * (F2961) and as FHIR leaves out such a member (F3020) */
        if (o == NULL || ccda_code_of(o) == NULL || voided(o))
            continue;
        /* an item is a LOINC question (screening.schema.json); a component
         * coded in another system is the sender's own note on the panel
         * (Epic's "Domain ID", X-SDOH-DOMAIN-ID of 1.2.840.114350.1.72.1.8.1):
         * left out, with a warning (F91) */
        const char *cs = ccda_attr(ccda_child(o, "code"), "codeSystem");
        if (cs && *cs && strcmp(cs, OID_LOINC) != 0) {
            if (dc->n_skipped < MAX_SKIPPED)
                dc->skipped[dc->n_skipped++] = o;
            else if (dc->skipped_more == NULL)
                dc->skipped_more = o;   /* warned of once (F3046) */
            continue;
        }
        bool group = false;
        CCDA_FOREACH(er2, o, "entryRelationship")
            if (ccda_child(er2, "observation"))
                group = true;
        if (group && ccda_child(o, "value") == NULL) {
            collect_items(dc, o, rs, n, depth + 1, truncated);
            continue;
        }
        if (*n >= MAX_RESPONSES) {
            *truncated = true;
            return;
        }
        read_response(dc->a, o, &rs[*n]);
        (*n)++;
    }
}

/* A participant's id as ccda_ii_string writes it: the role's own (an
 * NPI), else the organization it acts for; a device's own id is not a
 * party (FHIR's Observation.performer names no Device). NULL when none. */
static const char *party_id(struct doc *dc, const struct ccda_node *role)
{
    if (ccda_child(role, "assignedAuthoringDevice") == NULL) {
        CCDA_FOREACH(id, role, "id") {
            const char *s = ccda_ii_string(dc->a, id);
            if (s)
                return s;
        }
    }
    CCDA_FOREACH(id, ccda_child(role, "representedOrganization"), "id") {
        const char *s = ccda_ii_string(dc->a, id);
        if (s)
            return s;
    }
    return NULL;
}

/* Who took the screening entry `n` (F59): its own author (C-CDA Author
 * Participation, 4.119: the entry's author overrides the header's), else
 * its performer (who carried the observation out). The C-CDA on FHIR
 * mapping takes an observation's author to Observation.performer. The
 * header's author is not read: it propagates to every entry, and is often
 * the EHR or who signed the document, not who screened (F31). */
static const char *entry_performer(struct doc *dc, const struct ccda_node *n)
{
    CCDA_FOREACH(au, n, "author") {
        const char *s = party_id(dc, ccda_child(au, "assignedAuthor"));
        if (s)
            return s;
    }
    CCDA_FOREACH(pf, n, "performer") {
        const char *s = party_id(dc, ccda_child(pf, "assignedEntity"));
        if (s)
            return s;
    }
    return NULL;
}

/* Days since 1970-01-01 of an ISO time of at least day precision
 * ("2021-06-18..."), or -1. */
static long iso_day(const char *iso)
{
    size_t n = strlen(iso);
    for (size_t i = 0; i < 10; i++)
        if (i >= n || (i == 4 || i == 7 ? iso[i] != '-'
                                         : iso[i] < '0' || iso[i] > '9'))
            return -1;
    long y = strtol(iso, NULL, 10), m = strtol(iso + 5, NULL, 10),
         d = strtol(iso + 8, NULL, 10);
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* A screening dated `iso` falls outside the document's encounter: more
 * than a day before its start or after its end (a day either way for
 * offsets; only day-precise times are compared, a bound unknown is no
 * bound). */
static bool outside_encounter(const struct doc *dc, const char *iso)
{
    long d = iso_day(iso), lo = iso_day(dc->enc_lo), hi = iso_day(dc->enc_hi);
    return d >= 0 && ((lo >= 0 && d < lo - 1) || (hi >= 0 && d > hi + 1));
}

/* The day of an item: its own effectiveTime's, else its panel's; -1 when
 * neither is day precise. */
static long item_day(const struct ccda_node *obs, const struct ccda_node *panel)
{
    char iso[48];
    const char *ts = ts_of(ccda_child(obs, "effectiveTime"));
    if (ts == NULL && panel)
        ts = ts_of(ccda_child(panel, "effectiveTime"));
    return ts && ccda_ts_iso(ts, iso, sizeof(iso)) ? iso_day(iso) : -1;
}

/* The number an item was answered with, as sent (a decimal unrounded). */
static double resp_number(const struct resp *r)
{
    return r->decimal ? r->dvalue : (double)r->r.value;
}

/* The total the document already sent that `t` says again: the same
 * code and value on the same day; NULL when none. */
static const struct sent_total *total_sent(const struct doc *dc,
                                           const struct sent_total *t)
{
    for (size_t i = 0; i < dc->n_totals; i++)
        if (slice_eq_slice(dc->totals[i].code, t->code) &&
            dc->totals[i].value == t->value && dc->totals[i].day == t->day)
            return &dc->totals[i];
    return NULL;
}

static void note_total(struct doc *dc, const struct sent_total *t,
                       const struct ccda_node *obs)
{
    if (dc->n_totals >= MAX_LOOSE) {
        unread(dc, obs);
        return;
    }
    if (dc->totals == NULL)
        dc->totals = arena_alloc(dc->a, MAX_LOOSE * sizeof(*dc->totals));
    dc->totals[dc->n_totals++] = *t;
}

/* The totals a scale's items sent as numbers, remembered for the results
 * that say the same again (F2800). */
static void note_scale_totals(struct doc *dc, const struct ccda_node *scale,
                              const struct resp *rs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (rs[i].r.has_value &&
            dict_sum_find(dc->d, NULL, rs[i].r.question))
            note_total(dc,
                       &(struct sent_total){ rs[i].r.question,
                                             resp_number(&rs[i]),
                                             item_day(rs[i].obs, scale),
                                             NULL },
                       rs[i].obs);
}

/*
 * A question of the dictionary answered with a finding of the question's
 * own domain instead of one of its answers (88124-3 "Food insecurity risk"
 * valued SNOMED CT 733423003 "Food insecurity", as the Czech HDR's FHIR
 * SDOH Observation sends it): the sender's statement of the need, read as
 * an assessment of that finding (asserted, positive), as the FHIR adapter
 * reads the same Observation (F281). Not for an answer of the list, a
 * finding of another domain or of a status domain (dict.h), a number, or
 * a negated observation. Sets rs->assessed and rs->asserted when so.
 */
static void question_finding(struct doc *dc, const struct dict_instrument *inst,
                             struct resp *rs)
{
    if (rs->assessed || rs->obs == NULL || rs->r.declined ||
        rs->r.has_value || negated(rs->obs))
        return;
    const struct dict_item *it = dict_item_find(dc->d, inst, rs->r.question);
    if (it == NULL)
        it = dict_item_find(dc->d, NULL, rs->r.question);
    if (it == NULL || it->domain == NULL)
        return;
    const struct dict_domain *dm =
        dict_domain_find(dc->d, slice_from_cstr(it->domain));
    if (dm == NULL || dm->status)
        return;
    for (size_t k = 0; k < rs->r.n_answers; k++)
        if (dict_answer_find(it, rs->ans[k]))
            return;
    bool found = false;
    CCDA_FOREACH(v, rs->obs, "value") {
        const struct ccda_node *coded;
        const char *dom = ccda_problem_domain(dc, v, &coded);
        found |= dom != NULL && strcmp(dom, it->domain) == 0;
    }
    if (!found)
        return;
    rs->assessed = it->domain;
    rs->asserted = true;
}

/* An item answered in words that are one answer's display ("Never
 * true" for 88122-7): that answer's code, the words kept as its text, as
 * FHIR reads a valueString and CSV a description (F2263);
 * emit_screening warns. A boolean's "true" is no answer's words (F561). */
static void words_by_display(struct doc *dc, struct resp *rs)
{
    if (rs->r.n_answers || !rs->r.has_text || rs->boolean)
        return;
    const struct dict_answer *hit =
        dict_answer_by_display(dc->d, rs->r.question, rs->text);
    if (hit) {
        rs->ans[rs->r.n_answers++] = slice_from_cstr(hit->code);
        rs->words_read = true;
    }
}

/* An item as it is scored: its words read as the answer they display
 * (F2263), a finding answering its question read as an assessment (F281).
 * Done again, it changes nothing. */
static void settle_item(struct doc *dc, const struct dict_instrument *inst,
                        struct resp *rs)
{
    rs->r.answers = rs->ans;
    if (rs->settled)
        return;
    rs->settled = true;
    words_by_display(dc, rs);
    question_finding(dc, inst, rs);
}

/* A total or derived item sent empty is left out, as FHIR and CSV leave
 * it (F2404): the hub's own stands, no one declined it; one the sender
 * interpreted is kept. */
static bool left_out(const struct doc *dc, const struct dict_instrument *inst,
                     const struct resp *rs)
{
    return !rs->sender && !rs->assessed &&
           dict_item_computed_empty(dc->d, inst, &rs->r);
}

static bool has_answer(const struct resp *r, struct slice code)
{
    for (size_t k = 0; k < r->r.n_answers; k++)
        if (slice_eq_slice(r->ans[k], code))
            return true;
    return false;
}

/* Whether two settled items say the same (F2804): the question and the
 * answer (its codes in any order, its number, its words, why none was
 * given), a finding denied or not. What the sender made of it
 * (interpretation) and who answered are not the answer. */
static bool same_item(const struct resp *a, const struct resp *b)
{
    if (!slice_eq_slice(a->r.question, b->r.question) ||
        a->r.n_answers != b->r.n_answers ||
        a->r.has_value != b->r.has_value || a->r.has_text != b->r.has_text ||
        a->absent != b->absent || a->r.declined != b->r.declined)
        return false;
    if (a->r.has_value && resp_number(a) != resp_number(b))
        return false;
    if (a->r.has_text && !slice_eq_slice(a->text, b->text))
        return false;
    for (size_t k = 0; k < a->r.n_answers; k++)
        if (!has_answer(b, a->ans[k]) || !has_answer(a, b->ans[k]))
            return false;
    return !a->r.declined || (a->why_none && b->why_none
                                  ? strcmp(a->why_none, b->why_none) == 0
                                  : a->why_none == b->why_none);
}

/* FNV-1a of `len` bytes, from `h` */
static uint64_t fnv(uint64_t h, const void *p, size_t len)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < len; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The sum of the distinct values of h[0..n) (sorted in place): one of a
 * set, whatever the order and the repeats. */
static uint64_t sum_distinct(uint64_t *h, size_t n)
{
    uint64_t sum = 0;
    qsort(h, n, sizeof(*h), cmp_u64);
    for (size_t i = 0; i < n; i++)
        if (i == 0 || h[i] != h[i - 1])
            sum += h[i];
    return sum;
}

/* A hash of what same_item compares: two items it finds the same hash
 * alike (the answer's codes as a set, a number by its value). */
static uint64_t item_hash(const struct resp *r)
{
    uint64_t codes[MAX_ANSWERS];
    uint64_t h = fnv(0xcbf29ce484222325ull, r->r.question.p,
                     r->r.question.len);
    unsigned flags = (unsigned)r->r.n_answers << 5 |
                     (unsigned)r->r.has_value << 4 |
                     (unsigned)r->r.has_text << 3 | (unsigned)r->absent << 2 |
                     (unsigned)r->r.declined << 1;
    h = fnv(h, &flags, sizeof(flags));
    if (r->r.has_value) {
        double v = resp_number(r);
        if (v == 0)
            v = 0;              /* -0.0 is 0.0 */
        h = fnv(h, &v, sizeof(v));
    }
    if (r->r.has_text)
        h = fnv(h, r->text.p, r->text.len);
    if (r->r.declined && r->why_none)
        h = fnv(h, r->why_none, strlen(r->why_none));
    for (size_t k = 0; k < r->r.n_answers; k++)
        codes[k] = fnv(0xcbf29ce484222325ull, r->ans[k].p, r->ans[k].len);
    return h ^ sum_distinct(codes, r->r.n_answers);
}

/* An order-free print of items rs[0..n) (when `scored`, those left_out
 * are not, as same_items reads a new panel's): two sets of items same_items finds the same
 * print alike, so a print apart spares the comparison (F3225: a document
 * of many near-alike panels compared each with every one told). */
static uint64_t items_print(const struct doc *dc,
                            const struct dict_instrument *inst,
                            const struct resp *rs, size_t n, bool scored)
{
    uint64_t *h = arena_alloc(dc->a, (n ? n : 1) * sizeof(*h));
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!scored || !left_out(dc, inst, &rs[i]))
            h[m++] = item_hash(&rs[i]);
    return sum_distinct(h, m);
}

/* Whether items rs[0..n) hold one that says what x says. */
static bool holds(const struct resp *rs, size_t n, const struct resp *x)
{
    for (size_t i = 0; i < n; i++)
        if (same_item(&rs[i], x))
            return true;
    return false;
}

/* Whether the items of a screening (those scored) are told screening t's:
 * each said by the other. */
static bool same_items(const struct doc *dc, const struct dict_instrument *inst,
                       const struct resp *rs, size_t n, const struct told *t)
{
    for (size_t i = 0; i < n; i++)
        if (!left_out(dc, inst, &rs[i]) && !holds(t->rs, t->n, &rs[i]))
            return false;
    for (size_t k = 0; k < t->n; k++) {
        bool said = false;
        for (size_t i = 0; i < n && !said; i++)
            said = !left_out(dc, inst, &rs[i]) && same_item(&rs[i], &t->rs[k]);
        if (!said)
            return false;
    }
    return true;
}

/* The sum a sender's total answers (an item that is no question but a
 * sum's code: 76504-0 beside or without HARK's questions), as scored; its
 * item is written with the sum's domain, label and verdict, as the FHIR
 * and CSV adapters write it (F2803). NULL for any other item. */
static const struct dict_sum_result *
sent_sum(const struct doc *dc, const struct dict_instrument *inst,
         const struct dict_scoring *sc, size_t i, const struct resp *r)
{
    const struct dict_sum *sum = sc->items[i].item || r->assessed ? NULL
        : dict_sum_find(dc->d, inst, r->r.question);
    for (size_t k = 0; sum && k < sc->n_sums; k++)
        if (sc->sums[k].sum == sum ||
            strcmp(sc->sums[k].sum->code, sum->code) == 0)
            return &sc->sums[k];
    return NULL;
}

/* Screening *t, written, remembered for the repeats that follow (its
 * time copied: emit_screening's is on its stack); the totals noted for it
 * (note_total, just before it was written) are its. */
static void remember(struct doc *dc, const struct told *t)
{
    struct told *c = arena_alloc(dc->a, sizeof(*c));
    *c = *t;
    if (t->occurred)
        c->occurred = arena_strndup(dc->a, t->occurred, strlen(t->occurred));
    c->next = NULL;
    if (dc->told_last)
        dc->told_last->next = c;
    else
        dc->told = c;
    dc->told_last = c;
    for (size_t i = dc->n_totals; i > 0 && dc->totals[i - 1].told == NULL; i--)
        dc->totals[i - 1].told = c;
}

/* Told t's day (read the first time it is compared). */
static long told_day(struct told *t)
{
    if (t->day == DAY_UNREAD)
        t->day = t->occurred ? iso_day(t->occurred) : -1;
    return t->day;
}

/* Told t's items' print (read the first time it is compared): all its
 * items, as same_items asks each of them to be said. */
static uint64_t told_print(const struct doc *dc, struct told *t)
{
    if (!t->printed) {
        t->print = items_print(dc, NULL, t->rs, t->n, false);
        t->printed = true;
    }
    return t->print;
}

/* Told t takes the labels of entry `n`, which repeats what it says: the
 * sender's marks on either copy (a restricted section) reach the event
 * told (F96: a label too many only holds data back). */
static void take_labels(struct doc *dc, struct told *t,
                        const struct ccda_node *n)
{
    size_t had = t->ev.n_sens;
    ccda_entry_labels(dc, &t->ev, n);
    t->stale |= t->ev.n_sens != had;
}

/* Told t is said again by entry `n`: warned of, once however many
 * repeats, and given the repeat's labels. */
static void told_again(struct doc *dc, struct told *t,
                       const struct ccda_node *n)
{
    if (!t->repeated) {
        warn_add(&t->ev, n, NULL, W_REPEAT);
        t->repeated = t->stale = true;
    }
    take_labels(dc, t, n);
}

/* A screening of the same instrument (the panel's own code when the
 * dictionary names none) as told t. */
static bool same_instrument(const struct told *t,
                            const struct dict_instrument *inst,
                            struct slice code)
{
    return t->inst == inst && (inst || slice_eq_slice(t->code, code));
}

/* Whether scale `panel`, items rs[0..n), repeats a screening the document
 * gave (F2804): the same instrument and day, the same items. That one
 * warns, once, that the document repeats it; the repeat adds nothing. A
 * panel of other answers is another screening (another person's, another
 * sitting). */
static bool repeats_told(struct doc *dc, const struct dict_instrument *inst,
                         const struct ccda_node *panel, struct resp *rs,
                         size_t n)
{
    struct slice code = inst ? SLICE_NULL : ccda_token(ccda_code_of(panel));
    long day = DAY_UNREAD;
    uint64_t print = 0;

    for (struct told *t = dc->told; t; t = t->next) {
        if (!same_instrument(t, inst, code))
            continue;
        if (day == DAY_UNREAD) {
            day = item_day(panel, NULL);
            for (size_t i = 0; i < n; i++)
                settle_item(dc, inst, &rs[i]);
            print = items_print(dc, inst, rs, n, true);
        }
        if (told_day(t) != day || told_print(dc, t) != print ||
            !same_items(dc, inst, rs, n, t))
            continue;
        told_again(dc, t, panel);
        return true;
    }
    return false;
}

/* Once the body is read: the screenings warned of (or labelled) since
 * they were written, written again (both events: they carry one body); a
 * limit that left screening entries unread is warned of on the first
 * (F2962). */
static int tell_again(struct doc *dc)
{
    int rc = HUB_OK;

    if (dc->unread && dc->told) {
        warn_add(&dc->told->ev, dc->unread, NULL, W_UNREAD);
        dc->told->stale = true;
    }
    for (struct told *t = dc->told; rc == HUB_OK && t; t = t->next) {
        if (!t->stale)
            continue;
        rc = ccda_ev_rewrite(dc, &t->ev, t->at, t->occurred, "screening",
                             t->body, t->where);
        if (rc == HUB_OK && t->positive)
            rc = ccda_ev_rewrite(dc, &t->ev, t->at + 1, t->occurred,
                                 "screening", t->body, t->where);
    }
    return rc;
}

/* The components of the scale read last that are no items (F91), warned
 * of by its screening or by none. */
static void forget_skipped(struct doc *dc)
{
    dc->n_skipped = 0;
    dc->skipped_more = NULL;
}

/* One screening event from `n` responses. */
static int emit_screening(struct doc *dc, const struct dict_instrument *inst,
                          struct resp *rs, size_t n,
                          const struct ccda_node *panel, bool truncated)
{
    const struct ccda_node *where = panel ? panel : rs[0].obs;
    struct dict_response *r = arena_alloc(dc->a, (n ? n : 1) * sizeof(*r));
    struct dict_scoring sc;
    struct ev e;
    char when[48];
    const char *occurred = NULL;
    const char *said_pos[MAX_RESPONSES + 1], *said_neg[MAX_RESPONSES + 1];
    const struct ccda_node *said_pos_at[MAX_RESPONSES + 1],
        *said_neg_at[MAX_RESPONSES + 1];
    size_t n_pos = 0, n_neg = 0;
    int rc;

    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        settle_item(dc, inst, &rs[i]);
        if (left_out(dc, inst, &rs[i]))
            continue;
        if (kept != i) {
            rs[kept] = rs[i];
            rs[kept].r.answers = rs[kept].ans;
        }
        r[kept] = rs[kept].r;
        kept++;
    }
    n = kept;
    rc = dict_score(dc->d, dc->a, inst, r, n, &sc);
    if (rc != HUB_OK)
        return ccda_err_at(dc->err, dc->a, rc, where, NULL,
                           "screening has too many items");
    /* the domains scored, then those of the assessments' findings (in the
     * order the FHIR adapter lists them); an asserted finding is positive */
    size_t cap = n + sc.n_domains + sc.n_positive_domains + 1;
    size_t n_doms = 0, n_posd = 0;
    const char **doms = arena_alloc(dc->a, cap * sizeof(*doms));
    const char **posd = arena_alloc(dc->a, cap * sizeof(*posd));
    for (size_t k = 0; k < sc.n_domains; k++)
        strset_add(doms, &n_doms, cap, sc.domains[k]);
    for (size_t k = 0; k < sc.n_positive_domains; k++)
        strset_add(posd, &n_posd, cap, sc.positive_domains[k]);
    for (size_t i = 0; i < n; i++) {
        strset_add(doms, &n_doms, cap, rs[i].assessed);
        if (rs[i].asserted)
            strset_add(posd, &n_posd, cap, rs[i].assessed);
    }

    /* what the sender said: interpretation codes (a derived item sent is
     * an item, compared where it is written, F2680) */
    for (size_t i = 0; i < n; i++) {
        const struct dict_sum_result *sr = sent_sum(dc, inst, &sc, i, &rs[i]);
        const char *dom = rs[i].assessed ? rs[i].assessed
                          : sr           ? sr->sum->domain
                                         : sc.items[i].domain;
        int said = rs[i].sender;
        if (dom == NULL || said == 0)
            continue;
        if (n_pos >= MAX_RESPONSES || n_neg >= MAX_RESPONSES)
            break;
        if (said > 0 && !in_list(said_pos, n_pos, dom)) {
            said_pos_at[n_pos] = rs[i].obs;
            said_pos[n_pos++] = dom;
        } else if (said < 0 && !in_list(said_neg, n_neg, dom)) {
            said_neg_at[n_neg] = rs[i].obs;
            said_neg[n_neg++] = dom;
        }
    }
    if (panel) {
        int said = interp_of(panel);
        for (size_t k = 0; said && k < n_doms && n_pos < MAX_RESPONSES; k++) {
            if (said > 0 && !in_list(said_pos, n_pos, doms[k])) {
                said_pos_at[n_pos] = panel;
                said_pos[n_pos++] = doms[k];
            }
        }
    }

    const struct ccda_node *et =
        ccda_child(panel ? panel : rs[0].obs, "effectiveTime");
    const char *ts = ts_of(et);
    if (ts && ccda_ts_iso(ts, when, sizeof(when)))
        occurred = when;

    /* the body is written once and carried by screening.completed and,
     * when a domain is positive, screening.positive (as the FHIR and CSV
     * adapters do: subscribers choose either topic) */
    struct jw body;
    struct jw *w = &body;
    struct slice body_json;
    ccda_ev_init(dc, &e);
    for (size_t i = 0; i < n; i++)     /* loose items: an entry each */
        ccda_entry_labels(dc, &e, rs[i].obs);
    for (size_t k = 0; k < sc.n_labels; k++)
        sens_add(&e, sc.labels[k]);     /* an answer that is itself sensitive */
    if (sc.unplaced_labelled)           /* F2860 */
        warn_add(&e, where, NULL, DICT_UNPLACED_LABELLED);
    jw_init(&body, dc->a, CCDA_MAX_EVENT);
    jw_obj_begin(&body);
    if (ts && occurred == NULL)
        warn_add(&e, et, NULL, "time is not an HL7 TS");
    if (truncated)
        warn_add(&e, panel, NULL, "too many items; the rest are ignored");
    for (size_t k = 0; k < dc->n_skipped; k++)
        warn_add(&e, dc->skipped[k], "code", W_SKIPPED);
    if (dc->skipped_more)
        warn_add(&e, dc->skipped_more, "code", W_SKIPPED_MORE);
    forget_skipped(dc);
    for (size_t i = 0; i < n; i++)      /* once a screening (F3046) */
        if (rs[i].unread) {
            warn_add(&e, rs[i].unread, NULL, W_ANSWERS);
            break;
        }
    if (inst) {
        jw_kv_cstr(w, "instrument", inst->code);
        jw_kv_cstr(w, "instrument_system", inst->system);
        jw_kv_cstr(w, "instrument_name", inst->name);
    } else if (panel && ccda_code_of(panel) && *ccda_code_of(panel)) {
        /* a panel the dictionary does not know: its code as sent */
        const struct ccda_node *pc = ccda_child(panel, "code");
        char sysbuf[280];
        jw_kv_str(w, "instrument", ccda_token(ccda_code_of(panel)));
        jw_kv_cstr(w, "instrument_system",
                   ccda_system_uri(ccda_attr(pc, "codeSystem"), sysbuf,
                                   sizeof(sysbuf)));
        jw_kv_cstr(w, "instrument_name", ccda_attr(pc, "displayName"));
    }
    if (panel)
        jw_kv_cstr(w, "id", ccda_ii_string(dc->a, ccda_child(panel, "id")));
    jw_key(w, "items");
    jw_arr_begin(w);
    for (size_t i = 0; i < n; i++) {
        const struct dict_item_result *ir = &sc.items[i];
        jw_obj_begin(w);
        jw_kv_str(w, "question", rs[i].r.question);
        const struct dict_item *it = ir->item;
        if (rs[i].r.n_answers == 1 && !(it && it->multi)) {
            jw_kv_str(w, "answer", rs[i].ans[0]);
        } else if (rs[i].r.n_answers) {
            jw_key(w, "answers");
            jw_arr_begin(w);
            for (size_t k = 0; k < rs[i].r.n_answers; k++)
                jw_str(w, rs[i].ans[k]);
            jw_arr_end(w);
        }
        if (rs[i].r.has_value) {
            jw_key(w, "value");
            if (rs[i].decimal)
                jw_number(w, rs[i].dvalue);
            else
                jw_int(w, rs[i].r.value);
            jw_kv_cstr(w, "unit", rs[i].unit);
        }
        jw_kv_str(w, "text", rs[i].text);
        const char *dom = ir->domain;
        const char *label = it ? it->label : NULL;
        enum dict_verdict v = ir->verdict;
        const struct dict_sum_result *sr = sent_sum(dc, inst, &sc, i, &rs[i]);
        if (sr) {
            dom = sr->sum->domain;
            label = sr->sum->label;
            if (sr->complete)
                v = sr->verdict;
        }
        if (rs[i].assessed) {
            /* the sender's assertion of a finding, not an answer to score
             * (as the FHIR adapter reads an SDOHCC Observation Assessment);
             * a status domain's finding is carried, not scored */
            dom = rs[i].assessed;
            v = rs[i].asserted ? DICT_POSITIVE
                : rs[i].absent ? DICT_NEGATIVE : DICT_UNKNOWN;
        }
        jw_kv_cstr(w, "domain", dom);
        jw_kv_cstr(w, "label", label);
        if (v != DICT_UNKNOWN) {
            jw_key(w, "positive");
            jw_bool(w, v == DICT_POSITIVE);
        }
        if (rs[i].asserted || rs[i].absent) {
            jw_key(w, "asserted");
            jw_bool(w, true);
        }
        /* unanswered either way, a refusal as FHIR's dataAbsentReason
         * says (F2123): no value, NI or ASKU is one (F2281); a total the
         * sender interpreted, kept, is not (F2404) */
        if (dict_item_refused(ir, slice_from_cstr(rs[i].why_none)) &&
            !dict_item_computed_empty(dc->d, inst, &rs[i].r)) {
            jw_key(w, "declined");
            jw_bool(w, true);
        }
        if (rs[i].sender) {
            jw_key(w, "sender_positive");
            jw_bool(w, rs[i].sender > 0);
        }
        jw_obj_end(w);
        /* a derived item sent is the sender's, compared (F2680) */
        if (dict_derived_disagrees(&sc, &rs[i].r, v))
            warn_add(&e, rs[i].obs, "value", DICT_DERIVED_DISAGREES);
        /* a sender's total beside the answers it sums: the hub's sum is
         * published, a difference said, as FHIR and CSV say it (F4061) */
        if (sr && sr->complete && !sr->from_sender && rs[i].r.has_value &&
            rs[i].r.value != sr->value)
            warn_add(&e, rs[i].obs, "value", DICT_TOTAL_DISAGREES);
        if (rs[i].assessed)
            continue;
        if (ir->item == NULL && !dict_sum_find(dc->d, inst,
                                                   rs[i].r.question))
            warn_add(&e, rs[i].obs, "code",
                     "question not in the dictionary");
        else if (ir->unknown_answer)
            warn_add(&e, rs[i].obs, "value",
                     "answer not in the dictionary's answer list");
        else if (rs[i].boolean && it && it->n_answers > 0)
            warn_add(&e, rs[i].obs, "value",   /* FHIR's words (F561) */
                     "boolean answer to a question whose answers are codes "
                     "is not scored");
        else if (rs[i].words_read)
            warn_add(&e, rs[i].obs, "value", DICT_WORDS_READ_AS_CODE);
    }
    /* the hub's derived items the sender did not send, as FHIR and CSV
     * write them (F2424) */
    dict_write_derived_items(w, &sc, r, n);
    jw_arr_end(w);
    if (n_doms) {
        jw_key(w, "domains");
        jw_arr_begin(w);
        for (size_t k = 0; k < n_doms; k++)
            jw_cstr(w, doms[k]);
        jw_arr_end(w);
    }
    /* present even when empty, as FHIR and CSV write it (F172): "screened
     * and nothing positive" is a fact that partners and reports read */
    jw_key(w, "positive_domains");
    jw_arr_begin(w);
    for (size_t k = 0; k < n_posd; k++)
        jw_cstr(w, posd[k]);
    jw_arr_end(w);
    bool scores = false;
    for (size_t k = 0; k < sc.n_sums; k++) {
        if (!sc.sums[k].complete)
            continue;
        jw_arr_lazy(w, "scores", &scores);
        jw_obj_begin(w);
        const struct dict_sum *sum = sc.sums[k].sum;
        jw_kv_cstr(w, "code", sum->code);
        jw_kv_cstr(w, "display", sum->display);
        jw_key(w, "value");
        jw_int(w, sc.sums[k].value);
        jw_key(w, "positive");
        jw_bool(w, sc.sums[k].verdict == DICT_POSITIVE);
        jw_kv_cstr(w, "domain", sum->domain);
        jw_kv_cstr(w, "label", sum->label);
        if (sc.sums[k].from_sender) {
            jw_key(w, "from_sender");
            jw_bool(w, true);
        }
        jw_obj_end(w);
    }
    jw_arr_end_if(w, scores);
    if (n_pos) {
        jw_key(w, "sender_positive_domains");
        jw_arr_begin(w);
        for (size_t k = 0; k < n_pos; k++)
            jw_cstr(w, said_pos[k]);
        jw_arr_end(w);
    }
    /* who took it: the panel's, else the first item's that says */
    const char *perf = panel ? entry_performer(dc, panel) : NULL;
    for (size_t i = 0; perf == NULL && i < n; i++)
        perf = entry_performer(dc, rs[i].obs);
    jw_kv_cstr(w, "performer", perf);
    /* the visit the document tells (F31; FHIR's Observation.encounter),
     * unless the screening is dated outside it: a document also carries
     * screenings of earlier visits, as evidence of a problem (F141) */
    bool elsewhere = dc->encounter_id && occurred &&
                     outside_encounter(dc, occurred);
    if (elsewhere)
        warn_add(&e, et, NULL,
                 "screening is dated outside the document's encounter; "
                 "encounter left out");
    jw_kv_cstr(w, "encounter", elsewhere ? NULL : dc->encounter_id);
    /* disagreements are kept as warnings, never overridden either way */
    for (size_t k = 0; k < n_pos; k++)
        if (!in_list(posd, n_posd, said_pos[k]))
            warn_add(&e, said_pos_at[k], NULL,
                     "sender says positive, dictionary says not positive");
    for (size_t k = 0; k < n_neg; k++)
        if (in_list(posd, n_posd, said_neg[k]))
            warn_add(&e, said_neg_at[k], NULL,
                     "sender says negative, dictionary says positive");
    jw_obj_end(&body);
    if (jw_finish(&body, &body_json) != HUB_OK)
        return ccda_err_at(dc->err, dc->a, HUB_ELIMIT, where, NULL,
                           "event larger than the limit");
    size_t at = dc->out->n;
    rc = ccda_ev_write(dc, &e, "screening.completed", occurred, "screening",
                       body_json, where);
    if (rc == HUB_OK && n_posd)
        rc = ccda_ev_write(dc, &e, "screening.positive", occurred,
                           "screening", body_json, where);
    if (rc == HUB_OK)
        remember(dc, &(struct told){
            .inst = inst,
            .code = inst || panel == NULL ? SLICE_NULL
                                          : ccda_token(ccda_code_of(panel)),
            .day = DAY_UNREAD,
            .rs = rs, .n = n, .ev = e, .occurred = occurred,
            .body = body_json, .where = where, .at = at,
            .positive = n_posd != 0 });
    return rc;
}

/* Whether a scale is a screening: its code an instrument of the
 * dictionary, else (F90) one of its items a question the dictionary knows.
 * Epic sends each domain of the AHC HRSN as an Assessment Scale Observation
 * of its own whose code is nullFlavor OTH (the form's name in originalText,
 * Epic's code in a translation), its 4.86 items in LOINC; a clinical scale
 * (Braden, Glasgow) has none of the dictionary's questions. */
bool ccda_scale_is_screening(struct doc *dc, const struct ccda_node *obs,
                             int depth)
{
    if (dict_instrument_find(dc->d, slice_from_cstr(ccda_code_of(obs))))
        return true;
    if (depth > MAX_ER_NEST)
        return false;
    CCDA_FOREACH(er, obs, "entryRelationship") {
        const struct ccda_node *o = ccda_child(er, "observation");
        const char *q = o ? ccda_code_of(o) : NULL;
        /* a group of items (PRAPARE sections) as an item; a null one
         * says nothing (F3541) */
        if (((q && dict_item_find(dc->d, NULL, slice_from_cstr(q))) ||
             (o && ccda_child(o, "value") == NULL &&
              ccda_scale_is_screening(dc, o, depth + 1))) &&
            held_act(dc, o))
            return true;
    }
    return false;
}

int ccda_do_scale(struct doc *dc, const struct ccda_node *obs)
{
    const struct dict_instrument *inst =
        dict_instrument_find(dc->d, slice_from_cstr(ccda_code_of(obs)));
    struct resp *rs;
    size_t n = 0;
    bool truncated = false;

    /* a negated panel denies what it holds: its items are no answers
     * that were given (F170) */
    if (negated(obs) || voided(obs))
        return HUB_OK;
    if (inst == NULL && !ccda_scale_is_screening(dc, obs, 0))
        return HUB_OK;          /* not a screening the dictionary knows */
    rs = arena_alloc(dc->a, MAX_RESPONSES * sizeof(*rs));
    forget_skipped(dc);
    collect_items(dc, obs, rs, &n, 0, &truncated);
    /* a bare total (nothing to score) or a repeat (told once, F2804):
     * no screening warns of this scale's components (F3200, F3220) */
    if (n == 0 || repeats_told(dc, inst, obs, rs, n)) {
        forget_skipped(dc);
        return HUB_OK;
    }
    note_scale_totals(dc, obs, rs, n);
    /* a panel the dictionary does not name is a screening with no
     * instrument, or its own code as one, as FHIR carries a panel's
     * (F90); its items are scored each by the question */
    return emit_screening(dc, inst, rs, n, obs, truncated);
}

/* A total sent alone, in event mood and not negated: read once the body
 * is (ccda_flush_loose, give_result). */
static void note_total_entry(struct doc *dc, const struct ccda_node *obs)
{
    if (!mood_is(obs, "EVN") || negated(obs) || voided(obs))
        return;
    if (!push_node(dc->a, &dc->results, &dc->n_results, obs, MAX_LOOSE))
        unread(dc, obs);
}

/* Loose entry `l` kept for give_loose, unless the limit is reached
 * (F2962). */
static void keep_loose(struct doc *dc, struct loose l)
{
    if (dc->n_loose >= MAX_LOOSE) {
        unread(dc, l.obs);
        return;
    }
    if (dc->loose == NULL)
        dc->loose = arena_alloc(dc->a, MAX_LOOSE * sizeof(*dc->loose));
    dc->loose[dc->n_loose++] = l;
}

/* The question of an assessment: the observation's code, or its LOINC
 * translation when the code is in another system (the C-CDA Companion
 * Guide codes its SDOH Social History Observation 160476009 "Social /
 * personal history observable" with 8689-2 "History of Social function"
 * as a translation), as the FHIR adapter picks an Observation.code's
 * LOINC coding: the question is a LOINC code where there is one. */
static struct slice assessment_question(const struct ccda_node *obs)
{
    const struct ccda_node *c = ccda_child(obs, "code");
    if (c && !ccda_attr_eq(c, "codeSystem", OID_LOINC)) {
        CCDA_FOREACH(t, c, "translation")
            if (ccda_attr_eq(t, "codeSystem", OID_LOINC) &&
                ccda_token(ccda_attr(t, "code")).len)
                return ccda_token(ccda_attr(t, "code"));
    }
    return ccda_token(ccda_code_of(obs));
}

/*
 * A Social History Observation (4.38) that asserts an SDOH finding: its
 * value an ICD-10 Z code of zcodes.json or a SNOMED CT finding of
 * snomed-domains.json (ccda_problem_domain: the value or a translation), its
 * code no question, instrument, sum or derived item of the dictionary
 * (160476009 / 8689-2). The C-CDA Companion Guide's SDOH Social History
 * Observation is C-CDA's form of the SDOHCC Observation Assessment (C-CDA
 * on FHIR maps 4.38 to an Observation, its value to valueCodeableConcept),
 * which the FHIR adapter makes an asserted item of a screening in the
 * finding's domain: the same statement gives the same screening here
 * (F143). Remembered as a loose item with no instrument.
 *
 * So is a Characteristics of Home Environment (4.109, 75274-1), which
 * C-CDA gives "housing status (e.g., evicted, homeless, home owner)": the
 * same statement of a finding in a template of its own (F1001).
 *
 * A negated one (negationInd="true") is the same statement denied: CDA
 * R2's Observation.negationInd "is a positive assertion that the
 * Observation as a whole is negated" (a negated finding means the author
 * denies it), C-CDA's Problem Observation uses it "to indicate the
 * absence of the condition in observation/value". It is the item answered
 * negative for the finding's domain (positive false, asserted), as the
 * FHIR adapter reads an SDOHCC Observation Assessment whose valueBoolean
 * is false (F168): never a positive, and nothing for a status domain's
 * finding, whose denial names no status. One in another mood, or whose
 * value names no domain (a nullFlavor value other than OTH: no value),
 * gives nothing.
 */
static void note_assessment(struct doc *dc, const struct ccda_node *obs)
{
    struct slice q = assessment_question(obs), code =
        ccda_token(ccda_code_of(obs));
    const char *dom = NULL;
    const struct ccda_node *finding = NULL;

    if (q.len == 0 ||
        (!ccda_has_template(obs, T_SOCIAL_OBS) &&
         !ccda_has_template(obs, T_HOME_ENV)))
        return;
    for (size_t k = 0; k < 2; k++) {
        struct slice c = k ? code : q;
        if (dict_instrument_find(dc->d, c) ||
            dict_item_find(dc->d, NULL, c) || dict_sum_find(dc->d, NULL, c) ||
            dict_derived_find(dc->d, NULL, c))
            return;
    }
    CCDA_FOREACH(v, obs, "value")
        if (dom == NULL)
            dom = ccda_problem_domain(dc, v, &finding);
    if (dom == NULL)
        return;
    bool absent = negated(obs);
    if (absent) {
        const struct dict_domain *dm =
            dict_domain_find(dc->d, slice_from_cstr(dom));
        if (dm == NULL || dm->status)
            return;
    }
    keep_loose(dc, (struct loose){ obs, NULL, dom, finding, absent, false });
}

/* A loose observation whose code is a screening item: remember it, with
 * the instrument whose answer list knows its answer (71802-3 is in AHC and
 * in PRAPARE, with different answers), else the first that has the item.
 * Any other is read as an assessment (note_assessment). A negated answer
 * to a question is no answer (which other answer holds is not said); a
 * negated assessment is a denied finding (F168). */
void ccda_note_loose(struct doc *dc, const struct ccda_node *obs)
{
    struct slice q = slice_from_cstr(ccda_code_of(obs));
    struct slice ans = SLICE_NULL;
    const struct dict_instrument *inst = NULL, *first = NULL;

    if (q.len == 0 || voided(obs))
        return;
    inst = dict_sum_instrument(dc->d, q);
    if (inst) {                 /* a total (F2802): not denied */
        if (!negated(obs))
            keep_loose(dc, (struct loose){ obs, inst, NULL, NULL, false, true });
        return;
    }
    if (negated(obs)) {
        note_assessment(dc, obs);
        return;
    }
    CCDA_FOREACH(v, obs, "value")
        if (slice_empty(ans) && value_coded(v))
            ans = slice_from_cstr(ccda_attr(v, "code"));
    if (slice_empty(ans))       /* the answer read_oth would read */
        ans = ccda_token(oth_code(oth_value(obs)));
    for (size_t i = 0; i < dict_instrument_count(dc->d) && !inst; i++) {
        const struct dict_instrument *in = dict_instrument_at(dc->d, i);
        const struct dict_item *it = dict_item_find(dc->d, in, q);
        if (it == NULL)
            continue;
        if (first == NULL)
            first = in;
        if (!slice_empty(ans) && dict_answer_find(it, ans))
            inst = in;
    }
    if (inst == NULL)
        inst = first;
    if (inst == NULL) {
        note_assessment(dc, obs);
        return;
    }
    keep_loose(dc, (struct loose){ obs, inst, NULL, NULL, false, false });
}

/* An assessment as an item: its question (assessment_question), its
 * answer the value's code as sent (else the coding of a translation that
 * named the domain: a value of nullFlavor OTH), its domain the finding's,
 * asserted unless the domain names a status (dict.h), as the FHIR adapter
 * writes an SDOHCC Observation Assessment; a negated one denied (absent,
 * F168). */
static void read_assessment(struct doc *dc, const struct loose *l,
                            struct resp *r)
{
    read_response(dc->a, l->obs, r);
    r->r.question = assessment_question(l->obs);
    if (r->r.n_answers == 0 && l->finding) {
        r->ans[r->r.n_answers++] = ccda_token(ccda_attr(l->finding, "code"));
        r->r.declined = false;
    }
    const struct dict_domain *dm =
        dict_domain_find(dc->d, slice_from_cstr(l->domain));
    bool finding = dm != NULL && !dm->status;
    r->assessed = l->domain;
    r->asserted = finding && !l->absent;
    r->absent = finding && l->absent;
}

/* The total an observation coded `code` sends: `code` itself when it is a
 * sum (76504-0), the instrument's sum when `code` is a panel whose one sum
 * adds all its items (76499-3 valued is its total, F2802; AHC's 95614-4
 * is its safety questions' alone, no total of 96777-8); *inst the
 * instrument. SLICE_NULL when neither. */
static struct slice total_of(const struct dict *d, struct slice code,
                             const struct dict_instrument **inst)
{
    *inst = dict_sum_instrument(d, code);
    if (*inst)
        return code;
    *inst = dict_instrument_find(d, code);
    if (*inst && (*inst)->n_sums == 1 &&
        (*inst)->sums[0].n_items == (*inst)->n_items)
        return slice_from_cstr((*inst)->sums[0].code);
    *inst = NULL;
    return SLICE_NULL;
}

/* An Assessment Scale Observation holding no item: none of its
 * entryRelationships holds an observation, one of no information (its
 * own nullFlavor) being none, as held_act reads a nested act (F3541,
 * F3723; its nullFlavor test alone: this is asked before any reading,
 * and ccda_do_scale warns of the null item). Its value, if any, is all
 * it says. */
static bool bare_scale(const struct ccda_node *obs)
{
    if (!ccda_has_template(obs, T_ASSESSMENT_SCALE))
        return false;
    CCDA_FOREACH(er, obs, "entryRelationship")
        if (!ccda_null(ccda_child(er, "observation")))
            return false;
    return true;
}

/* A total of an instrument of the dictionary sent alone is that
 * instrument's screening however the document sends it (F2802): a Result
 * Observation (4.2) coded with the total (OpenEMR writes Synthea's HARK
 * 76504-0 so, a lab result in a Results section: F2661, F2800), or an
 * Assessment Scale Observation (4.69) with a value and no items, coded
 * with the total or with its panel (76499-3 valued). A Social History
 * observation coded with a total is noted by ccda_note_loose. Remembered,
 * and read once the body is (give_result), so that an assessment of the
 * same total anywhere in the document is known first. A result of any
 * other code (PHQ-9 44261-6, outside the dictionary: F2543) is none of
 * the hub's. */
bool ccda_is_result_total(const struct doc *dc, const struct ccda_node *obs)
{
    const struct dict_instrument *inst;
    if (obs == NULL)
        return false;
    struct slice code = ccda_token(ccda_code_of(obs));
    if (ccda_has_template(obs, T_RESULT_OBS))
        return dict_sum_instrument(dc->d, code) != NULL;
    return bare_scale(obs) && !slice_empty(total_of(dc->d, code, &inst));
}

void ccda_note_result(struct doc *dc, const struct ccda_node *obs)
{
    if (ccda_is_result_total(dc, obs))
        note_total_entry(dc, obs);
}

/* A total sent alone: its instrument's screening, the one item the total
 * (as a panel's total is written, F2803), scored as a scale holding it
 * alone is (the sender's total: its verdict by the dictionary's rule),
 * the observation its record (id, time, performer). Only a number is a
 * total; one the document already sent, as an assessment's item or alone,
 * on the same day with the same value, is said once: the screening that
 * told it warns of the repeat, as of a panel's (F3045). */
static int give_result(struct doc *dc, const struct ccda_node *obs)
{
    const struct dict_instrument *inst;
    struct resp *rs = arena_alloc(dc->a, sizeof(*rs));
    read_response(dc->a, obs, rs);
    rs->r.question = total_of(dc->d, rs->r.question, &inst);
    if (!rs->r.has_value)
        return HUB_OK;
    struct sent_total t = { rs->r.question, resp_number(rs),
                            item_day(obs, NULL), NULL };
    const struct sent_total *said = total_sent(dc, &t);
    if (said) {
        if (said->told)
            told_again(dc, said->told, obs);
        return HUB_OK;
    }
    note_total(dc, &t, obs);
    return emit_screening(dc, inst, rs, 1, obs, false);
}

/* Whether the loose entries of loose[i]'s instrument still to give are
 * all totals. */
static bool totals_alone(const struct doc *dc, const bool *done, size_t i)
{
    if (dc->loose[i].inst == NULL)
        return false;
    for (size_t j = i; j < dc->n_loose; j++)
        if (!done[j] && dc->loose[j].inst == dc->loose[i].inst &&
            !dc->loose[j].total)
            return false;
    return true;
}

/* Loose entry `l` read as an item, settled as it is scored. */
static void read_loose(struct doc *dc, const struct loose *l, struct resp *r)
{
    if (l->domain)
        read_assessment(dc, l, r);
    else
        read_response(dc->a, l->obs, r);
    settle_item(dc, l->inst, r);
}

/* Loose entry l's day, read the first time it is compared, into *day. */
static long loose_day(const struct loose *l, long *day)
{
    if (*day == DAY_UNREAD)
        *day = item_day(l->obs, NULL);
    return *day;
}

/* Whether a screening given holds loose item r (F2804): one of the same
 * day whose instrument is the item's, or has its question, and an item
 * that says the same. That one takes the item's labels. */
static bool folded(struct doc *dc, const struct loose *l, long *day,
                   const struct resp *r)
{
    if (l->inst == NULL)
        return false;
    for (struct told *t = dc->told; t; t = t->next)
        if (t->inst && holds(t->rs, t->n, r) &&
            (t->inst == l->inst ||
             dict_item_find(dc->d, t->inst, r->r.question)) &&
            told_day(t) == loose_day(l, day)) {
            take_labels(dc, t, l->obs);
            return true;
        }
    return false;
}

/* Whether an earlier loose entry of loose[j]'s instrument and day says
 * what `all[j]` says: the same item twice is kept once (F2804). */
static bool said_before(const struct doc *dc, const struct resp *all,
                        long *day, size_t j)
{
    for (size_t k = 0; k < j; k++)
        if (dc->loose[k].inst == dc->loose[j].inst &&
            same_item(&all[k], &all[j]) &&
            loose_day(&dc->loose[k], &day[k]) ==
                loose_day(&dc->loose[j], &day[j]))
            return true;
    return false;
}

/* The loose items: a screening of each instrument they answer (a total
 * among its items is one of them, F2802), and one of the assessments;
 * an item a screening given already holds, or an earlier loose item
 * says, adds nothing (F2804: the panels were all read first, so the order
 * of the entries does not matter). */
static int give_loose(struct doc *dc)
{
    size_t nl = dc->n_loose;

    if (nl == 0)
        return HUB_OK;
    bool *done = arena_zalloc(dc->a, nl * sizeof(*done));
    struct resp *all = arena_alloc(dc->a, nl * sizeof(*all));
    long *day = arena_alloc(dc->a, nl * sizeof(*day));
    for (size_t j = 0; j < nl; j++) {
        read_loose(dc, &dc->loose[j], &all[j]);
        day[j] = DAY_UNREAD;
        done[j] = folded(dc, &dc->loose[j], &day[j], &all[j]) ||
                  said_before(dc, all, day, j);
    }
    for (size_t i = 0; i < nl; i++) {
        if (done[i])
            continue;
        if (totals_alone(dc, done, i)) {
            /* a total with no item of its instrument: as a result is read
             * (its id and time, the rule against repeats) */
            for (size_t j = i; j < nl; j++)
                if (!done[j] && dc->loose[j].inst == dc->loose[i].inst) {
                    if (!push_node(dc->a, &dc->results, &dc->n_results,
                                   dc->loose[j].obs, MAX_LOOSE))
                        unread(dc, dc->loose[j].obs);
                    done[j] = true;
                }
            continue;
        }
        struct resp *rs = arena_alloc(dc->a, (nl - i) * sizeof(*rs));
        size_t n = 0;
        for (size_t j = i; j < nl; j++) {
            if (done[j] || dc->loose[j].inst != dc->loose[i].inst)
                continue;
            rs[n++] = all[j];
            done[j] = true;
        }
        note_scale_totals(dc, NULL, rs, n);
        int rc = emit_screening(dc, dc->loose[i].inst, rs, n, NULL, false);
        if (rc != HUB_OK)
            return rc;
    }
    return HUB_OK;
}

int ccda_flush_loose(struct doc *dc)
{
    int rc = give_loose(dc);
    for (size_t i = 0; rc == HUB_OK && i < dc->n_results; i++)
        rc = give_result(dc, dc->results[i]);
    return rc == HUB_OK ? tell_again(dc) : rc;
}

/*
 * ccda_entries.c - the clinical statements of a C-CDA body that are no
 * screening: an SDOH finding (a Problem Observation, in a concern act or
 * not, or a Social History finding) gives condition.recorded, a goal
 * goal.updated, a referral (a Patient Referral Act, or a planned entry
 * that requests a service) referral.created; the other planned entries and
 * interventions of a care plan are its activities, gathered into the one
 * careplan.updated given after the body. Each says its SDOH domain
 * (sdtc:category, a reason's Z code or finding, the concern it refers to).
 */
#include "ccda/ccda_doc.h"

#include <stdio.h>

#include "common/idsys.h"
#include "common/ptrset.h"

#define MAX_ACTIVITIES 500      /* activities of one care plan */
#define MAX_GOAL_REFS 16        /* what one goal addresses */

/* template ids (C-CDA R2.1) */
#define T_HANDOFF "2.16.840.1.113883.10.20.22.4.141"
#define T_PLANNED_INTERVENTION "2.16.840.1.113883.10.20.22.4.146"
#define T_PLANNED_COVERAGE "2.16.840.1.113883.10.20.22.4.129"
#define T_PROBLEM_STATUS "2.16.840.1.113883.10.20.22.4.6"

/* Write "key": ISO time of `ts`, or a warning when malformed. */
static void kv_time(struct ev *e, const char *key, const char *ts,
                    const struct ccda_node *where)
{
    char iso[48];

    if (ts == NULL || *ts == '\0')
        return;
    if (ccda_ts_iso(ts, iso, sizeof(iso)))
        jw_kv_cstr(&e->w, key, iso);
    else
        warn_add(e, where, NULL, "time is not an HL7 TS");
}

/* "codes": every coding of a problem value, its own code then each
 * translation's, when there are two or more, as the FHIR adapter lists a
 * Condition's codings. "code" is the ICD-10-CM one the domain comes from;
 * a problem sent in SNOMED CT with its Z code as a translation (C-CDA
 * Examples' "SDOH Problem": 445281000124101 and Z59.48) kept only the Z
 * code, so a receiver reading SNOMED CT had it from FHIR, not C-CDA (F70). */
static void write_value_codes(struct jw *w, const struct ccda_node *v)
{
    size_t n = ccda_attr(v, "code") && *ccda_attr(v, "code") ? 1 : 0;
    CCDA_FOREACH(t, v, "translation")
        n += ccda_attr(t, "code") && *ccda_attr(t, "code") ? 1 : 0;
    if (n < 2)
        return;
    jw_key(w, "codes");
    jw_arr_begin(w);
    ccda_write_cd(w, NULL, v);
    CCDA_FOREACH(t, v, "translation")
        ccda_write_cd(w, NULL, t);
    jw_arr_end(w);
}

/* The domain of a concern the document defines elsewhere, by id. */
static const char *concern_domain(const struct doc *dc, const char *id)
{
    for (size_t i = 0; id && i < dc->n_known; i++)
        if (strcmp(dc->known[i].id, id) == 0)
            return dc->known[i].domain;
    return NULL;
}

/* The domain an entry states or implies: sdtc:category with a Gravity
 * code, else the Z code or SNOMED CT finding of a reason (RSON), else the
 * domain of a concern it points to with an Entry Reference (4.122; C-CDA's
 * way to cite an entry of another section), else its own code when
 * snomed-domains.json names it (an intervention such as 467771000124109
 * "Assistance with application for food pantry program": a Planned
 * Procedure had no sdtc:category before C-CDA's 2022 templates, and the
 * ONC USCDI v3 test document sends it with no reason). */
static const char *entry_domain(struct doc *dc, const struct ccda_node *n,
                                const struct ccda_node **reason)
{
    *reason = NULL;
    for (const struct ccda_node *c = n->children; c; c = c->next) {
        if (!ccda_is_ns(c, CCDA_NS_SDTC, "category"))
            continue;
        const struct dict_domain *dom =
            dict_domain_find(dc->d, slice_from_cstr(ccda_attr(c, "code")));
        if (dom)
            return dom->code;
    }
    CCDA_FOREACH(er, n, "entryRelationship") {
        /* a reason turned round (inversionInd, F820) has this entry as
         * its reason: it is not the entry's, nor its domain (F885) */
        if (!ccda_attr_eq(er, "typeCode", "RSON") ||
            ccda_attr_eq(er, "inversionInd", "true"))
            continue;
        const struct ccda_node *o = held_obs(dc, er);
        if (o == NULL)
            continue;
        const struct ccda_node *coded;
        const char *dom =
            ccda_problem_domain(dc, ccda_child(o, "value"), &coded);
        if (dom) {
            *reason = coded;
            return dom;
        }
    }
    CCDA_FOREACH(er, n, "entryRelationship") {
        const struct ccda_node *act = ccda_child(er, "act");
        if (ccda_has_template(act, T_ENTRY_REFERENCE) && held_act(dc, act)) {
            const char *dom = concern_domain(
                dc, ccda_ii_string(dc->a, ccda_child(act, "id")));
            if (dom)
                return dom;
        }
    }
    const char *dom;
    (void)ccda_snomed_coding(dc, ccda_child(n, "code"), &dom);
    return dom;
}

/* What a Problem Status Observation (4.6, C-CDA R1.1's, deprecated in
 * R2.1 but still sent: OpenEMR writes one in every problem) says of its
 * problem when it is not active: SNOMED CT 413322009 "Resolved" or
 * 73425007 "Inactive" (its value set, HITSP Problem Status), the FHIR
 * clinical statuses of the same names (C-CDA on FHIR maps them so). A
 * finding the sender marks resolved was read active (F2660). */
static const char *problem_status(struct doc *dc,
                                  const struct ccda_node *obs)
{
    CCDA_FOREACH(er, obs, "entryRelationship") {
        const struct ccda_node *s = ccda_child(er, "observation");
        if (!ccda_has_template(s, T_PROBLEM_STATUS) ||
            (s = held_obs(dc, er)) == NULL)
            continue;
        const struct ccda_node *v = ccda_child(s, "value");
        const char *code = ccda_attr(v, "code");
        const char *sys = ccda_attr(v, "codeSystem");
        if (code == NULL || sys == NULL ||
            strcmp(sys, OID_SNOMED) != 0)
            continue;
        if (strcmp(code, "413322009") == 0)
            return "resolved";
        if (strcmp(code, "73425007") == 0)
            return "inactive";
    }
    return NULL;
}

static const char *clinical_status(struct doc *dc, const struct ccda_node *obs)
{
    const struct ccda_node *high = ccda_path(obs, "effectiveTime/high");
    if (high && ccda_attr(high, "value"))
        return "resolved";
    const char *st = problem_status(dc, obs);
    return st ? st : "active";
}

/* The labels a problem value implies, by its code and its translations
 * (dict_code_sensitivity): ICD-10-CM by range (F10-F19 -> sud), ICD-9-CM
 * 291-292 and 303-305 (sud, F39) and its psychiatric codes (psy, F153),
 * SNOMED CT by the concept tables of the dictionary (security-labels-*). */
static void cd_label(struct doc *dc, struct ev *e, const struct ccda_node *x)
{
    const char *code = ccda_attr(x, "code");
    const char *sys = ccda_attr(x, "codeSystem");
    if (code == NULL || sys == NULL)
        return;
    sens_add(e, dict_code_sensitivity(dc->d, slice_from_cstr(sys),
                                      slice_from_cstr(code)));
}

/* The label a reason (an encounter's or a referral's) implies: by its
 * codeSystem as a problem's; one without a codeSystem read as ICD-10-CM,
 * as it was before ICD-9-CM and SNOMED CT reasons were labelled. */
static const char *reason_label(const struct doc *dc,
                                const struct ccda_node *reason)
{
    const char *code = ccda_attr(reason, "code");
    const char *sys = ccda_attr(reason, "codeSystem");
    if (code == NULL)
        return NULL;
    if (sys == NULL)
        return dict_icd10_sensitivity(dc->d, slice_from_cstr(code));
    return dict_code_sensitivity(dc->d, slice_from_cstr(sys),
                                 slice_from_cstr(code));
}

static void cd_labels(struct doc *dc, struct ev *e, const struct ccda_node *v)
{
    if (v == NULL)
        return;
    cd_label(dc, e, v);
    CCDA_FOREACH(t, v, "translation")
        cd_label(dc, e, t);
}

/* The condition.recorded of an SDOH finding: `coded` is the coding its
 * domain came from, `codes` the element that holds it with its
 * translations (a problem's value, a social history entry's code),
 * `category` NULL when the entry states none. */
static int condition_event(struct doc *dc, const struct ccda_node *obs,
                           const struct ccda_node *codes,
                           const struct ccda_node *coded, const char *dom,
                           const char *category)
{
    struct ev e;

    ccda_ev_begin(dc, &e, "condition.recorded", NULL, "condition");
    jw_kv_cstr(&e.w, "id", ccda_ii_string(dc->a, ccda_child(obs, "id")));
    ccda_write_cd(&e.w, "code", coded);
    write_value_codes(&e.w, codes);
    jw_kv_cstr(&e.w, "domain", dom);
    jw_kv_cstr(&e.w, "category", category);
    jw_kv_cstr(&e.w, "clinical_status", clinical_status(dc, obs));
    const struct ccda_node *et = ccda_child(obs, "effectiveTime");
    kv_time(&e, "onset", ts_of(et), et);
    kv_time(&e, "abatement", ccda_attr(ccda_child(et, "high"), "value"), et);
    cd_labels(dc, &e, codes);
    return ccda_ev_end(dc, &e, obs);
}

int ccda_do_problem(struct doc *dc, const struct ccda_node *obs, bool concern)
{
    const struct ccda_node *v = ccda_child(obs, "value");
    const struct ccda_node *coded;
    const char *dom = ccda_problem_domain(dc, v, &coded);

    if (dom == NULL || negated(obs))
        return HUB_OK;          /* not an SDOH finding: no event */
    return condition_event(dc, obs, v, coded, dom,
                           concern ? "health-concern" : "problem-list-item");
}

/*
 * A Social History Observation (4.38) with no value whose code is itself
 * a SNOMED CT finding of snomed-domains.json (or has one as a
 * translation): Synthea's C-CDA template writes each social history entry
 * so (social_history.ftl: 73595000 "Stress (finding)" as the code, no
 * value), where its FHIR output sends the same finding as a Condition.
 * C-CDA binds the code to an observable and the value to the finding, so
 * with no value the code is the only statement: the finding asserted,
 * the condition.recorded the FHIR adapter gives that Condition (its code,
 * codings and domain, clinical status and onset as ccda_do_problem reads
 * them; no category: the entry states none). A negated one denies it: no
 * event, as a negated problem (F1384).
 */
const struct ccda_node *ccda_social_finding(struct doc *dc,
                                            const struct ccda_node *obs,
                                            const char **dom)
{
    *dom = NULL;
    if (!ccda_has_template(obs, T_SOCIAL_OBS) || ccda_child(obs, "value"))
        return NULL;
    const struct ccda_node *c = ccda_child(obs, "code");
    return c ? ccda_snomed_coding(dc, c, dom) : NULL;
}

int ccda_do_social_finding(struct doc *dc, const struct ccda_node *obs,
                           const struct ccda_node *coded, const char *dom)
{
    if (negated(obs))
        return HUB_OK;
    return condition_event(dc, obs, ccda_child(obs, "code"), coded, dom,
                           NULL);
}

/* A concern act: its problem observations, one level down. */
/* A concern act that denies all it holds: negated itself, or each of its
 * problem observations negated (by its own negationInd or its
 * entryRelationship's). C-CDA says "no known problems" so (a Problem
 * Concern Act whose observation is negated, 64572001 "Disease"), and a
 * Health Concern Act may say "no food insecurity" the same way: that is
 * no concern of the care plan (F169). A concern holding another act, or
 * nothing, is not denied. */
static bool concern_denied(struct doc *dc, const struct ccda_node *act)
{
    bool any = false;

    if (negated(act))
        return true;
    CCDA_FOREACH(er, act, "entryRelationship") {
        const struct ccda_node *c = ccda_first_elem(er);
        /* a null act says nothing, neither yes nor no (F3541) */
        if (c == NULL || ccda_has_template(c, T_PRIORITY_PREF) ||
            ccda_has_template(c, T_ENTRY_REFERENCE) || !held_act(dc, c))
            continue;
        if (!ccda_is(c, "observation") ? !negated(er)
                                       : held_obs(dc, er) != NULL)
            return false;
        any = true;
    }
    return any;
}

int ccda_do_concern(struct doc *dc, const struct ccda_node *act, bool concern)
{
    if (concern_denied(dc, act))
        return HUB_OK;
    if (dc->care_plan && concern)
        push_node(dc->a, &dc->concerns, &dc->n_concerns, act,
                  MAX_ACTIVITIES);
    CCDA_FOREACH(er, act, "entryRelationship") {
        const struct ccda_node *o = concern_problem(dc, er);
        if (o == NULL)
            continue;
        const struct ccda_node *coded;
        const char *dom =
            ccda_problem_domain(dc, ccda_child(o, "value"), &coded);
        if (dc->care_plan && dom &&
            dc->n_concern_doms < 16 &&
            !in_list(dc->concern_doms, dc->n_concern_doms, dom))
            dc->concern_doms[dc->n_concern_doms++] = dom;
        int rc = ccda_do_problem(dc, o, concern);
        if (rc != HUB_OK)
            return rc;
    }
    return HUB_OK;
}

/* A manufactured product's code: its material's, which C-CDA requires,
 * else its labeled drug's, CDA R2's other choice of the product, which
 * HL7's own CDA sample sends (F3980). */
static const struct ccda_node *manufactured_code(const struct ccda_node *mp)
{
    const struct ccda_node *c = ccda_path(mp, "manufacturedMaterial/code");

    return c ? c : ccda_path(mp, "manufacturedLabeledDrug/code");
}

/* The product's code of a planned medication or immunization
 * (substanceAdministration, 4.42 / 4.120) or a planned supply (4.43): the
 * drug or vaccine (RxNorm, CVX). */
static const struct ccda_node *product_code(const struct ccda_node *n)
{
    if (ccda_is(n, "substanceAdministration"))
        return manufactured_code(
            ccda_path(n, "consumable/manufacturedProduct"));
    if (ccda_is(n, "supply"))
        return manufactured_code(ccda_path(n, "product/manufacturedProduct"));
    return NULL;
}

/* What an activity is: its code, else its product's. An own code that is
 * a nullFlavor alone (no code, no translation) gives way to a product's:
 * the drug is what is planned (F2482). */
static const struct ccda_node *activity_code(const struct ccda_node *n)
{
    const struct ccda_node *c = ccda_child(n, "code");
    const struct ccda_node *p = product_code(n);

    if (c == NULL || (p && slice_empty(ccda_token(ccda_attr(c, "code"))) &&
                      ccda_child(c, "translation") == NULL))
        return p ? p : c;
    return c;
}

/* The node after `c` in document order within `top`, else NULL; each
 * step counted in dc->ref_steps, NULL past MAX_REF_STEPS. */
static const struct ccda_node *narrative_next(struct doc *dc,
                                              const struct ccda_node *c,
                                              const struct ccda_node *top)
{
    if (++dc->ref_steps >= MAX_REF_STEPS)
        return NULL;
    if (c->children)
        return c->children;
    while (c != top && c->next == NULL)
        c = c->parent;
    return c == top ? NULL : c->next;
}

/* Bytes of white space at p[i], else 0: the ASCII blanks, and the
 * no-break space (U+00A0, C2 A0) a table cell holds to look empty
 * (F2703: `<td ID="nb">&#160;</td>` is no goal). */
static size_t blank_at(const char *p, size_t i, size_t len)
{
    if (p[i] && strchr(" \t\r\n", p[i]))
        return 1;
    if ((unsigned char)p[i] == 0xC2 && i + 1 < len &&
        (unsigned char)p[i + 1] == 0xA0)
        return 2;
    return 0;
}

/* Whether a narrative element has words: a text node of more than
 * blanks anywhere under it. */
static bool narrative_has_words(struct doc *dc, const struct ccda_node *top)
{
    for (const struct ccda_node *c = top; c; c = narrative_next(dc, c, top))
        for (size_t i = 0, b; c->type == CCDA_TEXT && i < c->len; i += b)
            if ((b = blank_at(c->content, i, c->len)) == 0)
                return true;
    return false;
}

static int narr_id_cmp(const void *pa, const void *pb)
{
    const struct narr_id *x = pa, *y = pb;
    int c = strcmp(x->id, y->id);

    if (c)
        return c;
    return x->ord < y->ord ? -1 : x->ord > y->ord;
}

/* The slot of dc->narr that holds top's index, or the empty one where it
 * goes: a section's first reference looked for it among all the sections
 * indexed before (a list), 19,000 sections of an empty <text> each
 * 180 million steps (F3480). */
static struct narr_index **narr_slot(struct narr_index **tab, size_t mask,
                                     const struct ccda_node *top)
{
    size_t k = ptr_hash(top, mask);
    while (tab[k] && tab[k]->top != top)
        k = (k + 1) & mask;
    return &tab[k];
}

/* A slot for a new index, the table doubled when half full */
static struct narr_index **narr_slot_new(struct doc *dc,
                                         const struct ccda_node *top)
{
    if (2 * (dc->narr_n + 1) > dc->narr_mask + 1) {
        size_t cap = dc->narr ? 2 * (dc->narr_mask + 1) : 16;
        struct narr_index **t = arena_zalloc(dc->a, cap * sizeof(*t));
        for (size_t i = 0; dc->narr && i <= dc->narr_mask; i++)
            if (dc->narr[i])
                *narr_slot(t, cap - 1, dc->narr[i]->top) = dc->narr[i];
        dc->narr = t;
        dc->narr_mask = cap - 1;
    }
    dc->narr_n++;
    return narr_slot(dc->narr, dc->narr_mask, top);
}

/* The IDs of a section's narrative `top` (its own too, F2483), read once
 * the first time a reference under the section is followed: each
 * reference then costs a search, not a walk from the narrative's start
 * (F2704: 150 goals, each in its own row, ran the document's budget out).
 * The walk is counted in dc->ref_steps; at most MAX_NARR_IDS, past which
 * the budget is spent (a reference unread keeps its entry, warned of). */
static const struct narr_index *narrative_index(struct doc *dc,
                                                const struct ccda_node *top)
{
    struct narr_index *x;
    size_t cap = 0;

    if (dc->narr && (x = *narr_slot(dc->narr, dc->narr_mask, top)) != NULL)
        return x;
    x = arena_zalloc(dc->a, sizeof(*x));
    x->top = top;
    *narr_slot_new(dc, top) = x;
    for (const struct ccda_node *c = top; c && x->n < MAX_NARR_IDS;
         c = narrative_next(dc, c, top)) {
        const char *id = c->type == CCDA_ELEMENT ? ccda_attr(c, "ID") : NULL;
        if (id == NULL || *id == '\0')
            continue;
        if (x->n == cap) {      /* doubled: at most twice the room */
            cap = cap ? cap * 2 : 16;
            struct narr_id *m = arena_alloc(dc->a, cap * sizeof(*m));
            if (x->n)
                memcpy(m, x->ids, x->n * sizeof(*m));
            x->ids = m;
        }
        x->ids[x->n] = (struct narr_id){ id, c, x->n };
        x->n++;
    }
    if (x->n == MAX_NARR_IDS)   /* the rest unread: as past the budget */
        dc->ref_steps = MAX_REF_STEPS;
    if (x->n > 1)
        qsort(x->ids, x->n, sizeof(*x->ids), narr_id_cmp);
    return x;
}

/* The element the index names `id`, the first in document order, else
 * NULL. */
static const struct ccda_node *narrative_find(const struct narr_index *x,
                                              const char *id)
{
    size_t lo = 0, hi = x->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(x->ids[mid].id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < x->n && strcmp(x->ids[lo].id, id) == 0 ? x->ids[lo].node
                                                       : NULL;
}

/* The element of the section's narrative (its <text>) whose ID a
 * <reference value="#ID"/> under `n` names, else NULL. */
static const struct ccda_node *narrative_of(struct doc *dc,
                                            const struct ccda_node *n)
{
    const char *ref = ccda_attr(ccda_child(n, "reference"), "value");
    const struct ccda_node *sec = n;

    if (ref == NULL || *ref != '#' || ref[1] == '\0')
        return NULL;
    while (sec && !ccda_is(sec, "section"))
        sec = sec->parent;
    if (sec == NULL)
        return NULL;
    return narrative_find(narrative_index(dc, ccda_child(sec, "text")),
                          ref + 1);
}

/* Whether a narrative element parts words: the CDA R2 narrative block's
 * line, cell and list elements do; the inline ones (content, sub, sup,
 * linkHtml) and any other run on as written. */
static bool narrative_breaks(const struct ccda_node *c)
{
    static const char *const block[] = { "br", "paragraph", "list", "item",
        "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
        NULL };

    for (size_t i = 0; c->type == CCDA_ELEMENT && block[i]; i++)
        if (ccda_is(c, block[i]))
            return true;
    return false;
}

/* The words of a narrative element, white space collapsed to one blank
 * and trimmed; at most CCDA_MAX_DESCRIPTION + 1 bytes (a caller's sign
 * that they are too long). Empty past the document's narrative budget:
 * words cut there would say less than the sender wrote. */
static struct slice narrative_words(struct doc *dc,
                                    const struct ccda_node *top)
{
    char *out = arena_alloc(dc->a, CCDA_MAX_DESCRIPTION + 2);
    size_t k = 0;
    bool blank = false;

    for (const struct ccda_node *c = top;
         c && k <= CCDA_MAX_DESCRIPTION; c = narrative_next(dc, c, top)) {
        if (c != top && narrative_breaks(c))
            blank = true;
        for (size_t i = 0, b; c->type == CCDA_TEXT && i < c->len &&
                              k <= CCDA_MAX_DESCRIPTION; i++) {
            if ((b = blank_at(c->content, i, c->len)) != 0) {
                blank = true;
                i += b - 1;
                continue;
            }
            if (blank && k)
                out[k++] = ' ';
            blank = false;
            if (k <= CCDA_MAX_DESCRIPTION)
                out[k++] = c->content[i];
        }
    }
    if (dc->ref_steps >= MAX_REF_STEPS)
        return SLICE_NULL;
    out[k] = '\0';
    return (struct slice){ out, k };
}

/* The words of `t` (a <text> or <originalText>): its own, else those of
 * the narrative element its reference names (F2520: a goal or activity
 * said only in the section's narrative). Never a screening answer's: a
 * reference there is not followed (F2460). */
static struct slice words_of(struct doc *dc, const struct ccda_node *t)
{
    struct slice own = ccda_text(dc->a, t);

    if (!slice_empty(own) || t == NULL ||
        ccda_child(t, "reference") == NULL)
        return own;
    const struct ccda_node *x = narrative_of(dc, t);
    return x ? narrative_words(dc, x) : SLICE_NULL;
}

/* Words in `t` (a <text> or <originalText>): its own, or the narrative
 * its reference names. Past the document's budget of narrative read, a
 * reference is taken to have words (the entry kept, as before F2181). */
static bool has_words(struct doc *dc, const struct ccda_node *t)
{
    if (t == NULL)
        return false;
    if (!slice_empty(ccda_text(dc->a, t)))
        return true;
    if (ccda_child(t, "reference") == NULL)
        return false;
    const struct ccda_node *x = narrative_of(dc, t);
    bool words = x && narrative_has_words(dc, x);
    return words || dc->ref_steps >= MAX_REF_STEPS;
}

/* A code says what it codes by a code, a translation or words. */
static bool code_says(struct doc *dc, const struct ccda_node *c)
{
    return c && (!slice_empty(ccda_token(ccda_attr(c, "code"))) ||
                 ccda_child(c, "translation") ||
                 has_words(dc, ccda_child(c, "originalText")));
}

/* F2181: a planned entry says something by its code (or its product's,
 * for a medication, immunization or supply), an id, words of its own, a
 * time or the SDOH domain of its reason. One with none of these is no
 * activity: NextTech writes "No Information Entered" as an Instruction
 * whose code is nullFlavor NI and nothing else. */
static bool planned_says_something(struct doc *dc, const struct ccda_node *n)
{
    const struct ccda_node *reason;
    const struct ccda_node *et = ccda_child(n, "effectiveTime");

    if (code_says(dc, ccda_child(n, "code")) ||
        code_says(dc, product_code(n)) ||
        has_words(dc, ccda_child(n, "text")) ||
        ts_of(et) || ccda_attr(ccda_child(et, "high"), "value") ||
        entry_domain(dc, n, &reason))
        return true;
    CCDA_FOREACH(id, n, "id")
        if (ccda_ii_string(dc->a, id))
            return true;
    return false;
}

/* A planned entry that says nothing, left out: warned of where the plan
 * is written, by its place alone (never its content). */
static int leave_silent(struct doc *dc, const struct ccda_node *n)
{
    if (dc->n_silent < MAX_SILENT)
        dc->silent[dc->n_silent++] = n;
    return HUB_OK;
}

static const char *goal_status(const char *s)
{
    if (s == NULL || strcmp(s, "active") == 0 || strcmp(s, "new") == 0)
        return "active";
    if (strcmp(s, "completed") == 0)
        return "completed";
    if (strcmp(s, "cancelled") == 0 || strcmp(s, "aborted") == 0)
        return "cancelled";
    if (strcmp(s, "suspended") == 0 || strcmp(s, "held") == 0)
        return "on-hold";
    if (strcmp(s, "nullified") == 0)
        return "entered-in-error";
    return "active";
}

/* A PQ or IVL_PQ target as detail_value (a whole number) and detail_text
 * ("92 %", ">= 92 %", "<= 140 mm[Hg]", ">= 98 [degF], <= 99 [degF]": a
 * range keeps both its ends, F95). False when there is no value. */
static bool quantity_text(const struct ccda_node *pq, const char *op,
                          char *out, size_t cap)
{
    const char *val = ccda_attr(pq, "value");
    const char *unit = ccda_attr(pq, "unit");

    if (val == NULL || *val == '\0' || strlen(val) > 40)
        return false;
    int m = snprintf(out, cap, "%s%s%s%.60s", op, val,
                     unit && *unit ? " " : "", unit ? unit : "");
    return m > 0 && (size_t)m < cap;
}

static bool has_quantity(const struct ccda_node *v)
{
    return ccda_attr(v, "value") ||
           ccda_attr(ccda_child(v, "low"), "value") ||
           ccda_attr(ccda_child(v, "high"), "value");
}

static void write_quantity(struct jw *w, const struct ccda_node *v)
{
    const char *val = ccda_attr(v, "value");
    int64_t iv;
    char lo[160], hi[160], text[330];

    if (val) {
        if (parse_int(val, &iv)) {
            jw_key(w, "detail_value");
            jw_int(w, iv);
        }
        if (quantity_text(v, "", text, sizeof(text)))
            jw_kv_cstr(w, "detail_text", text);
        return;
    }
    bool l = quantity_text(ccda_child(v, "low"), ">= ", lo, sizeof(lo));
    bool h = quantity_text(ccda_child(v, "high"), "<= ", hi, sizeof(hi));
    if (l && h) {
        snprintf(text, sizeof(text), "%s, %s", lo, hi);
        jw_kv_cstr(w, "detail_text", text);
    } else if (l || h)
        jw_kv_cstr(w, "detail_text", l ? lo : hi);
}

static void write_description_text(struct jw *w, struct slice words)
{
    jw_key(w, "description");
    jw_obj_begin(w);
    jw_kv_str(w, "text", words);
    jw_obj_end(w);
}

/* The first translation of `c` with a code, else NULL. */
static const struct ccda_node *coded_translation(const struct ccda_node *c)
{
    CCDA_FOREACH(t, c, "translation")
        if (!slice_empty(ccda_token(ccda_attr(t, "code"))))
            return t;
    return NULL;
}

/* Whether a reference under `t` went unread, the document's budget of
 * narrative spent: its entry was kept on trust (has_words) and its words
 * cannot be written (F2704). */
static bool reference_unread(const struct doc *dc, const struct ccda_node *t)
{
    return dc->ref_steps >= MAX_REF_STEPS && ccda_child(t, "reference");
}

/* A goal that neither codes nor values itself is described by its words:
 * its <text>, else its code's <originalText>, else its value's, each its
 * own or the section narrative's its reference names (F2520: HL7's "Goals
 * Narrative Only" states the goal in the narrative alone); else by a
 * translation of its value or code (F2702: what value_says kept is
 * written). Words lost to the narrative budget are warned of. */
static void put_narrative_description(struct doc *dc, struct ev *e,
                                      const struct ccda_node *obs,
                                      const struct ccda_node *code,
                                      const struct ccda_node *v)
{
    const struct ccda_node *from[] = { ccda_child(obs, "text"),
        ccda_child(code, "originalText"), ccda_child(v, "originalText") };
    struct slice words = SLICE_NULL;
    bool unread = false;

    for (size_t i = 0; i < 3 && slice_empty(words); i++) {
        words = words_of(dc, from[i]);
        unread = unread || reference_unread(dc, from[i]);
    }
    const struct ccda_node *t = coded_translation(v);
    if (t == NULL)
        t = coded_translation(code);
    if (words.len > CCDA_MAX_DESCRIPTION)
        warn_add(e, obs, NULL, "goal text longer than 1024 bytes; "
                               "not written");
    else if (!slice_empty(words))
        write_description_text(&e->w, words);
    else if (t)
        ccda_write_cd(&e->w, "description", t);
    else if (unread)
        warn_add(e, obs, NULL, "section narrative too long to read; "
                               "goal text not written");
}

/* What a goal addresses: its reasons, as references (the reason
 * observation's id, or the concern an Entry Reference points to), into
 * `refs`; their count. */
static size_t goal_addresses(struct doc *dc, const struct ccda_node *obs,
                             const char **refs)
{
    size_t n_refs = 0;

    CCDA_FOREACH(er, obs, "entryRelationship") {
        const struct ccda_node *c = ccda_first_elem(er);
        /* inversionInd="true" turns the relationship round (CDA R2): the
         * entry inside has the goal as its reason, the goal does not
         * address it (F820) */
        bool rson = ccda_attr_eq(er, "typeCode", "RSON") &&
                    !ccda_attr_eq(er, "inversionInd", "true");
        /* C-CDA Care Plan: "Goal REFERS TO Health Concern" is a REFR
         * Entry Reference */
        bool refr = ccda_attr_eq(er, "typeCode", "REFR") &&
                    ccda_has_template(c, T_ENTRY_REFERENCE);
        if (c == NULL || n_refs >= MAX_GOAL_REFS || !(rson || refr) ||
            ccda_has_template(c, T_PRIORITY_PREF) ||
            negated(er) || (rson && negated(c)) || !held_act(dc, c))
            continue;           /* a denied reason is none (F170), nor a
                                   null one (F3541) */
        const char *rid = ccda_ii_string(dc->a, ccda_child(c, "id"));
        if (rid && !in_list(refs, n_refs, rid))
            refs[n_refs++] = rid;
    }
    return n_refs;
}

/* A goal's value says something by a code, a coded translation or words
 * in its originalText: each is what put_narrative_description writes when
 * nothing else describes the goal (F2702). */
static bool value_says(struct doc *dc, const struct ccda_node *v)
{
    return v && (!slice_empty(ccda_token(ccda_attr(v, "code"))) ||
                 coded_translation(v) ||
                 has_words(dc, ccda_child(v, "originalText")));
}

/* F2521: a goal says something by what a planned entry may (a code, id,
 * words, time or the SDOH domain of its reason), by a value that is no
 * nullFlavor alone, or by what it addresses. HL7's "Goals Narrative Only"
 * with its reference taken away (id, code UNK, a status) says nothing. */
static bool goal_says_something(struct doc *dc, const struct ccda_node *obs)
{
    const struct ccda_node *v = ccda_child(obs, "value");

    if (planned_says_something(dc, obs) || value_says(dc, v) ||
        (v && !ccda_null(v) &&
         (!slice_empty(ccda_text(dc->a, v)) || has_quantity(v))))
        return true;
    const char *refs[MAX_GOAL_REFS];
    return goal_addresses(dc, obs, refs) > 0;
}

int ccda_do_goal(struct doc *dc, const struct ccda_node *obs)
{
    struct ev e;
    const struct ccda_node *reason;
    const char *dom = entry_domain(dc, obs, &reason);
    const struct ccda_node *v = ccda_child(obs, "value");
    const struct ccda_node *et = ccda_child(obs, "effectiveTime");

    /* a negated goal is no goal (F131): Allscripts TouchWorks writes
     * "Planned Goals not documented" as <observation moodCode="GOL"
     * negationInd="true"> with a null code and id, which went out as a
     * goal.updated with a status and nothing else */
    if (negated(obs))
        return HUB_OK;
    if (!goal_says_something(dc, obs))
        return leave_silent(dc, obs);
    if (dc->care_plan)
        push_node(dc->a, &dc->goals, &dc->n_goals, obs, MAX_ACTIVITIES);
    const char *gid = ccda_ii_string(dc->a, ccda_child(obs, "id"));
    ccda_ev_begin(dc, &e, "goal.updated", NULL, "goal");
    jw_kv_cstr(&e.w, "id", gid);
    jw_kv_cstr(&e.w, "lifecycle_status",
               goal_status(ccda_attr(ccda_child(obs, "statusCode"), "code")));
    for (size_t i = 0; gid && i < dc->n_outcomes; i++)
        if (strcmp(dc->outcomes[i].goal_id, gid) == 0)
            jw_kv_cstr(&e.w, "achievement_status", dc->outcomes[i].status);
    /* C-CDA Goal Observation: code = what is measured, value = the target
     * (a coded state such as "Housing adequate", or a quantity), or the
     * goal in words (xsi:type ST: "Need to gain more energy", code
     * nullFlavor UNK), which is then its description (F94) */
    const struct ccda_node *code = ccda_child(obs, "code");
    bool coded = v && value_coded(v);
    bool measured = ccda_attr(code, "code") && *ccda_attr(code, "code");
    struct slice words = v && !coded && !ccda_null(v) ? ccda_text(dc->a, v)
                                                      : (struct slice){ 0 };
    bool quantity = v && !coded && !ccda_null(v) && has_quantity(v);
    const char *due = ccda_attr(ccda_child(et, "high"), "value");
    if (coded)
        ccda_write_cd(&e.w, "description", v);
    else if (measured)
        ccda_write_cd(&e.w, "description", code);
    else if (!slice_empty(words))
        write_description_text(&e.w, words);
    else
        put_narrative_description(dc, &e, obs, code, v);
    kv_time(&e, "start", ts_of(et), et);
    /* a target only with something in it (the schema: minProperties 1) */
    char due_iso[48];
    if (measured || coded || quantity ||
        (due && ccda_ts_iso(due, due_iso, sizeof(due_iso)))) {
        jw_key(&e.w, "targets");
        jw_arr_begin(&e.w);
        jw_obj_begin(&e.w);
        ccda_write_cd(&e.w, "measure", code);
        if (coded)
            ccda_write_cd(&e.w, "detail", v);
        else if (quantity)
            write_quantity(&e.w, v);
        else if (!slice_empty(words))
            jw_kv_str(&e.w, "detail_text", words);
        kv_time(&e, "due", due, et);
        jw_obj_end(&e.w);
        jw_arr_end(&e.w);
    }
    jw_kv_cstr(&e.w, "domain", dom);
    const char *refs[MAX_GOAL_REFS];
    size_t n_refs = goal_addresses(dc, obs, refs);
    if (n_refs) {
        jw_key(&e.w, "addresses");
        jw_arr_begin(&e.w);
        for (size_t i = 0; i < n_refs; i++)
            jw_cstr(&e.w, refs[i]);
        jw_arr_end(&e.w);
    }
    if (reason)
        sens_add(&e, reason_label(dc, reason));
    return ccda_ev_end(dc, &e, obs);
}

/* act statusCode -> FHIR Task status of the referral */
static const char *referral_status(const char *s)
{
    if (s == NULL || strcmp(s, "active") == 0 || strcmp(s, "new") == 0 ||
        strcmp(s, "normal") == 0)
        return "requested";
    if (strcmp(s, "completed") == 0)
        return "completed";
    if (strcmp(s, "cancelled") == 0 || strcmp(s, "aborted") == 0 ||
        strcmp(s, "obsolete") == 0)
        return "cancelled";
    if (strcmp(s, "held") == 0 || strcmp(s, "suspended") == 0)
        return "on-hold";
    if (strcmp(s, "nullified") == 0)
        return "entered-in-error";
    return NULL;
}

/* How soon (F133): the entry's priorityCode (HL7 v3 ActPriority,
 * 2.16.840.1.113883.5.7) as the schema's priority (FHIR RequestPriority),
 * for the four codes both systems define alike: R routine, UR urgent,
 * A ASAP, S stat. Others (EM, EL, callback, timing) name no one of them
 * and are left out, as is a code of another system. */
static const char *request_priority(const struct ccda_node *n)
{
    static const struct {
        const char *code, *priority;
    } map[] = {
        { "R", "routine" }, { "UR", "urgent" }, { "A", "asap" },
        { "S", "stat" },
    };
    const struct ccda_node *pc = ccda_child(n, "priorityCode");
    const char *code = ccda_attr(pc, "code");
    const char *sys = ccda_attr(pc, "codeSystem");

    if (code == NULL || ccda_null(pc) ||
        (sys && strcmp(sys, "2.16.840.1.113883.5.7") != 0))
        return NULL;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(code, map[i].code) == 0)
            return map[i].priority;
    return NULL;
}

/* The organization a planned entry names as performer, or empty. */
static struct slice performer_org(struct doc *dc, const struct ccda_node *n)
{
    CCDA_FOREACH(pf, n, "performer") {
        const struct ccda_node *ae = ccda_child(pf, "assignedEntity");
        struct slice s = ccda_text(
            dc->a, ccda_path(ae, "representedOrganization/name"));
        if (!slice_empty(s))
            return s;
    }
    return SLICE_NULL;
}

/* When the service is to be given (a planned entry's effectiveTime, as
 * FHIR's ServiceRequest.occurrence[x]; F30): "occurrence_at" its value or
 * low, "occurrence_period" its low and high when it is an interval. */
static void put_occurrence(struct ev *e, const struct ccda_node *et)
{
    if (et == NULL)
        return;
    kv_time(e, "occurrence_at", ts_of(et), et);
    const struct ccda_node *lo = ccda_child(et, "low");
    const struct ccda_node *hi = ccda_child(et, "high");
    char l[48], h[48];
    bool hl = ccda_ts_iso(ccda_attr(lo, "value"), l, sizeof(l));
    bool hh = ccda_ts_iso(ccda_attr(hi, "value"), h, sizeof(h));
    if (hi && ccda_attr(hi, "value") && !hh)
        warn_add(e, hi, NULL, "time is not an HL7 TS");
    if (!hl && !hh)
        return;
    jw_key(&e->w, "occurrence_period");
    jw_obj_begin(&e->w);
    if (hl)
        jw_kv_cstr(&e->w, "start", l);
    if (hh)
        jw_kv_cstr(&e->w, "end", h);
    jw_obj_end(&e->w);
}

/* When the request was written: its own author's time (C-CDA Planned
 * Procedure: "authorTime indicates when the documentation of the plan
 * occurred"; FHIR's ServiceRequest.authoredOn), else the document's. A
 * document often carries requests written long before it (F140). */
static void put_authored(struct doc *dc, struct ev *e,
                         const struct ccda_node *n)
{
    char iso[48];
    CCDA_FOREACH(au, n, "author") {
        const struct ccda_node *t = ccda_child(au, "time");
        const char *ts = ccda_attr(t, "value");
        if (ts == NULL || *ts == '\0')
            continue;
        if (ccda_ts_iso(ts, iso, sizeof(iso))) {
            jw_kv_cstr(&e->w, "authored_at", iso);
            return;
        }
        warn_add(e, t, NULL, "time is not an HL7 TS");
    }
    jw_kv_cstr(&e->w, "authored_at", dc->time);
}

/* The referral's business identifiers (F700): every usable id of the
 * entry (or order) `n`, as C-CDA on FHIR maps an II to an Identifier and
 * the patient's ids are written: root and extension as system (the OID's
 * URI, or the root as sent when it is no OID: the sender's own name) and
 * value; a root alone as the value (urn:oid:, urn:uuid:) in system
 * urn:ietf:rfc:3986 when it is a URI. An II has no type. A CBO's system
 * knows the referral by such a number; "id" keeps the first id alone. */
void ccda_put_ids(struct doc *dc, struct ev *e, const struct ccda_node *n)
{
    bool open = false;
    CCDA_FOREACH(id, n, "id") {
        const char *root = ccda_attr(id, "root");
        const char *ext = ccda_attr(id, "extension");
        char sys[300];
        if (ccda_null(id) || root == NULL || *root == '\0')
            continue;
        const char *system = ccda_system_uri(root, sys, sizeof(sys));
        const char *value = ext && *ext ? ext : ccda_ii_string(dc->a, id);
        if (system == NULL || value == NULL)
            continue;           /* a root too long for any system */
        jw_arr_lazy(&e->w, "identifiers", &open);
        jw_obj_begin(&e->w);
        jw_kv_cstr(&e->w, "value", value);
        if (ext && *ext)
            jw_kv_cstr(&e->w, "system", system);
        else if (system != root || idsys_is_uri(slice_from_cstr(root)))
            jw_kv_cstr(&e->w, "system", "urn:ietf:rfc:3986");
        jw_obj_end(&e->w);
    }
    jw_arr_end_if(&e->w, open);
}

int ccda_do_referral(struct doc *dc, const struct ccda_node *n)
{
    struct ev e;
    const struct ccda_node *reason;
    const char *dom = entry_domain(dc, n, &reason);
    const char *st = referral_status(
        ccda_attr(ccda_child(n, "statusCode"), "code"));

    ccda_ev_begin(dc, &e, "referral.created", NULL, "referral");
    jw_kv_cstr(&e.w, "id", ccda_ii_string(dc->a, ccda_child(n, "id")));
    ccda_put_ids(dc, &e, n);
    const struct dict_task_status *ts =
        st ? dict_task_status_find(dc->d, slice_from_cstr(st)) : NULL;
    if (ts) {
        jw_kv_cstr(&e.w, "status", ts->code);
        jw_key(&e.w, "terminal");
        jw_bool(&e.w, ts->terminal);
    } else
        warn_add(&e, ccda_child(n, "statusCode"), NULL,
                 "status has no referral status");
    jw_kv_cstr(&e.w, "intent", "order");
    jw_kv_cstr(&e.w, "priority", request_priority(n));
    jw_kv_cstr(&e.w, "domain", dom);
    ccda_write_cd(&e.w, "service", ccda_child(n, "code"));
    cd_labels(dc, &e, ccda_child(n, "code"));     /* F190 */
    /* who asks: the act's author's organization, else the document
     * author's, else the encounter's (C-CDA R2.1 US Realm Header). Not the
     * custodian: it keeps the document (the Referral Note's is an HIE) and
     * says nothing about who requests the service. */
    struct slice req = ccda_text(
        dc->a, ccda_path(n, "author/assignedAuthor/representedOrganization/"
                            "name"));
    if (slice_empty(req))
        req = slice_empty(dc->author_org) ? dc->encounter_org : dc->author_org;
    jw_kv_str(&e.w, "requester", req);
    jw_kv_str(&e.w, "performer", performer_org(dc, n));
    put_authored(dc, &e, n);
    put_occurrence(&e, ccda_child(n, "effectiveTime"));
    if (reason) {
        jw_key(&e.w, "reason");
        jw_arr_begin(&e.w);
        ccda_write_cd(&e.w, NULL, reason);
        jw_arr_end(&e.w);
        sens_add(&e, reason_label(dc, reason));
    }
    return ccda_ev_end(dc, &e, n);
}

/* A planned entry that requests a service: a procedure, act or encounter
 * in request mood (RQO) is a referral. */
static bool requests_service(const struct ccda_node *n)
{
    return mood_is(n, "RQO") && (ccda_is(n, "procedure") ||
                                 ccda_is(n, "act") || ccda_is(n, "encounter"));
}

/* A planned or intervention entry: a referral when it requests a service
 * (RQO procedure/act/encounter), else an activity of the plan; either is
 * left out when it says nothing (F2181, F2343). */
int ccda_do_planned(struct doc *dc, const struct ccda_node *n, int depth)
{
    /* negationInd="true" on a planned entry says it is not planned (the
     * C-CDA Examples' "No Planned Tests"): no activity, no referral (F822) */
    if (depth > MAX_ER_NEST || negated(n) ||
        ccda_has_template(n, T_ENTRY_REFERENCE) ||
        ccda_has_template(n, T_HANDOFF) ||
        ccda_has_template(n, T_PLANNED_COVERAGE))
        return HUB_OK;
    if (ccda_has_template(n, T_INTERVENTION) ||
        ccda_has_template(n, T_PLANNED_INTERVENTION)) {
        /* the intervention's parts are the activities */
        size_t before = dc->n_acts;
        size_t events = dc->out->n;
        CCDA_FOREACH(er, n, "entryRelationship") {
            if (!ccda_attr_eq(er, "typeCode", "REFR") &&
                !ccda_attr_eq(er, "typeCode", "COMP"))
                continue;
            const struct ccda_node *part = ccda_first_elem(er);
            if (part == NULL || (ccda_is(part, "observation") &&
                                 ccda_attr_eq(part, "moodCode", "GOL")) ||
                !held_act(dc, part))
                continue;
            int rc = ccda_do_planned(dc, part, depth + 1);
            if (rc != HUB_OK)
                return rc;
        }
        if (dc->n_acts == before && dc->out->n == events)
            push_node(dc->a, &dc->acts, &dc->n_acts, n, MAX_ACTIVITIES);
        return HUB_OK;
    }
    if (requests_service(n)) {
        /* a Patient Referral Act is a referral by its template, as where
         * do_entry reads it (F2461) */
        if (!ccda_has_template(n, T_PATIENT_REFERRAL) &&
            !planned_says_something(dc, n))
            return leave_silent(dc, n);
        return ccda_do_referral(dc, n);
    }
    if (ccda_is(n, "act") && ccda_has_template(n, T_PATIENT_REFERRAL) &&
        !mood_is(n, "EVN"))
        return ccda_do_referral(dc, n);  /* see do_entry */
    if (ccda_is(n, "observation") && mood_is(n, "EVN"))
        return HUB_OK;          /* a finding, not a plan item */
    if (!planned_says_something(dc, n))
        return leave_silent(dc, n);
    push_node(dc->a, &dc->acts, &dc->n_acts, n, MAX_ACTIVITIES);
    return HUB_OK;
}

static void write_activity(struct doc *dc, struct ev *e,
                           const struct ccda_node *n)
{
    struct jw *w = &e->w;
    const struct ccda_node *reason;
    const char *dom = entry_domain(dc, n, &reason);
    const struct ccda_node *et = ccda_child(n, "effectiveTime");

    jw_obj_begin(w);
    if (!ccda_write_cd(w, "code", activity_code(n))) {
        /* nothing codes what is planned: its words are what the care team
         * reads (the C-CDA Examples' Planned Medication Activity names its
         * drug only in <text>, its product left out): the code's
         * originalText, else the entry's own text, as written (F1741) or
         * in the narrative their reference names (F2520) */
        struct slice words = words_of(
            dc, ccda_child(activity_code(n), "originalText"));
        if (slice_empty(words))
            words = words_of(dc, ccda_child(n, "text"));
        if (words.len > CCDA_MAX_DESCRIPTION)
            warn_add(e, n, NULL, "activity text longer than 1024 bytes; "
                                 "not written");
        else if (!slice_empty(words))
            jw_kv_str(w, "description", words);
        else if (reference_unread(dc, ccda_child(n, "text")) ||
                 reference_unread(dc, ccda_child(activity_code(n),
                                                 "originalText")))
            warn_add(e, n, NULL, "section narrative too long to read; "
                                 "activity text not written");
    }
    /* a substance use disorder treatment planned or done is told in the
     * event: it carries the label, as FHIR's Procedure does (F190) */
    cd_labels(dc, e, activity_code(n));
    jw_kv_cstr(w, "reference", ccda_ii_string(dc->a, ccda_child(n, "id")));
    jw_kv_cstr(w, "status", ccda_attr(ccda_child(n, "statusCode"), "code"));
    /* an event-mood part (an Intervention Act's Procedure Activity) says
     * when it was done; a planned one when it is to be done */
    kv_time(e, mood_is(n, "EVN") ? "performed_at" : "scheduled", ts_of(et),
            et);
    jw_kv_cstr(w, "domain", dom);
    jw_obj_end(w);
}

/* "key": [ids of `n` entries], ids deduplicated; nothing when none. */
static void write_refs(struct doc *dc, struct jw *w, const char *key,
                       const struct ccda_node *const *ents, size_t n)
{
    const char **ids = arena_alloc(dc->a, (n ? n : 1) * sizeof(*ids));
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        const char *id = ccda_ii_string(dc->a, ccda_child(ents[i], "id"));
        if (id && !in_list(ids, k, id))
            ids[k++] = id;
    }
    if (k == 0)
        return;
    jw_key(w, key);
    jw_arr_begin(w);
    for (size_t i = 0; i < k; i++)
        jw_cstr(w, ids[i]);
    jw_arr_end(w);
}

/* A setId that is a root alone of one or two arcs ("1", as NextTech's
 * certification documents send it; "2.16", "2.25") names a registration
 * arc, never a document set: as the plan's id it would make every plan the
 * sender writes, of every patient, one plan (F2180). */
static bool set_id_is_an_arc(const struct ccda_node *set)
{
    const char *root = ccda_attr(set, "root");
    const char *ext = ccda_attr(set, "extension");
    int dots = 0;

    if (root == NULL || *root == '\0' || (ext && *ext))
        return false;
    for (const char *s = root; *s; s++) {
        if (*s == '.')
            dots++;
        else if (*s < '0' || *s > '9')
            return false;
    }
    return dots < 2;
}

/* What an entry left out for saying nothing is not (F2341, F2461, F2521). */
static const char *silent_what(const struct ccda_node *n)
{
    if (ccda_is(n, "observation") && mood_is(n, "GOL"))
        return "goal says nothing (no id, code, value, text or time): "
               "not a goal";
    return requests_service(n) ? "planned entry says nothing (no code, id, "
                                 "text or time): not a referral"
                               : "planned entry says nothing (no code, id, "
                                 "text or time): not an activity";
}

int ccda_emit_careplan(struct doc *dc)
{
    struct ev e;
    struct jw *w = &e.w;
    const char *doms[MAX_ACTIVITIES];
    size_t n_doms = 0;

    if (!dc->care_plan && dc->n_acts == 0)
        return HUB_OK;
    ccda_ev_begin(dc, &e, "careplan.updated", NULL, "careplan");
    /* the plan carries what its parts came from: each part's labels */
    for (size_t i = 0; i < dc->n_acts; i++)
        ccda_entry_labels(dc, &e, dc->acts[i]);
    for (size_t i = 0; i < dc->n_concerns; i++)
        ccda_entry_labels(dc, &e, dc->concerns[i]);
    for (size_t i = 0; i < dc->n_goals; i++)
        ccda_entry_labels(dc, &e, dc->goals[i]);
    /* CDA R2: setId is common to all revisions of a document, and a
     * replacement (relatedDocument RPLC) is a new version of its parent:
     * the plan is the set, each document one version of it; a set that is
     * an OID arc is none, and the document is the plan. */
    const struct ccda_node *set = ccda_child(dc->root, "setId");
    bool arc = dc->set_id && set_id_is_an_arc(set);
    if (arc)
        warn_add(&e, set, "@root", "setId is an OID arc, no document set; "
                                   "the plan is identified by the document");
    for (size_t i = 0; i < dc->n_silent; i++)
        warn_add(&e, dc->silent[i], NULL, silent_what(dc->silent[i]));
    jw_kv_cstr(w, "id", dc->set_id && !arc ? dc->set_id : dc->message_id);
    jw_kv_cstr(w, "status", "active");
    jw_kv_cstr(w, "intent", "plan");
    if (dc->care_plan) {
        jw_kv_str(w, "title", ccda_text(dc->a, ccda_child(dc->root, "title")));
        const struct ccda_node *se = ccda_path(dc->root,
                                      "documentationOf/serviceEvent/"
                                      "effectiveTime");
        if (se) {
            char lo[48], hi[48];
            const struct ccda_node *ln = ccda_child(se, "low");
            const struct ccda_node *hn = ccda_child(se, "high");
            bool l = ccda_ts_iso(ccda_attr(ln, "value"), lo, sizeof(lo));
            bool h = ccda_ts_iso(ccda_attr(hn, "value"), hi, sizeof(hi));
            /* a bound that is no TS (an offset of -5000, F107) is left
             * out, and said, as an entry's time is */
            if (!l && ccda_attr(ln, "value"))
                warn_add(&e, ln, NULL, "time is not an HL7 TS");
            if (!h && ccda_attr(hn, "value"))
                warn_add(&e, hn, NULL, "time is not an HL7 TS");
            if (l || h) {
                jw_key(w, "period");
                jw_obj_begin(w);
                if (l)
                    jw_kv_cstr(w, "start", lo);
                if (h)
                    jw_kv_cstr(w, "end", hi);
                jw_obj_end(w);
            }
        }
    }
    jw_kv_str(w, "author", dc->author_org);
    /* concerns and goals as references (their ids), as the schema has it;
     * SDOH concerns also came out as condition.recorded events */
    write_refs(dc, w, "addresses", dc->concerns, dc->n_concerns);
    write_refs(dc, w, "goals", dc->goals, dc->n_goals);
    for (size_t i = 0; i < dc->n_concern_doms; i++)
        if (!in_list(doms, n_doms, dc->concern_doms[i]))
            doms[n_doms++] = dc->concern_doms[i];
    if (dc->n_acts) {
        jw_key(w, "activities");
        jw_arr_begin(w);
        for (size_t i = 0; i < dc->n_acts; i++) {
            const struct ccda_node *reason;
            const char *dom = entry_domain(dc, dc->acts[i], &reason);
            if (dom && !in_list(doms, n_doms, dom) && n_doms < MAX_ACTIVITIES)
                doms[n_doms++] = dom;
            write_activity(dc, &e, dc->acts[i]);
        }
        jw_arr_end(w);
    }
    if (n_doms) {
        jw_key(w, "domains");
        jw_arr_begin(w);
        for (size_t i = 0; i < n_doms; i++)
            jw_cstr(w, doms[i]);
        jw_arr_end(w);
    }
    return ccda_ev_end(dc, &e, dc->root);
}

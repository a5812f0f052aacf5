/*
 * fhir_screen.c - screenings from QuestionnaireResponse and Observation.
 *
 * Both shapes are reduced to one list of responses (question LOINC, answer
 * codes, number, text, declined, the sender's POS/NEG and category) and
 * scored by dict_score(): positivity is the hub's. The sender's own
 * statements (interpretation, its 88124-3 answer, its 95614-4 total) are
 * compared with the hub's result and a disagreement becomes a warning.
 *
 * Observation shapes handled: a panel (code = instrument, hasMember items),
 * an item with hasMember "answer Observations" of the same code (US Core's
 * multi-select form), components as items, and loose items (one screening
 * per patient per message, instrument left out).
 */
#include "common/langtag.h"
#include "common/strset.h"
#include "fhir/fhir_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define LOINC "http://loinc.org"
#define UCUM "http://unitsofmeasure.org"
#define INTERP_SYS "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
#define MAX_ANSWERS 64              /* codes in one multi-select item */

struct rsp {
    const char *question;
    const char **answers;
    size_t n_answers;
    bool has_value;
    int64_t value;                  /* as scored: a decimal rounded */
    bool decimal;                   /* value is `dvalue` (1.5) rounded: */
    double dvalue;                  /* written as sent */
    const char *unit;               /* a Quantity's UCUM code, else its unit */
    const char *text;
    bool uncarried;                 /* answered with a value of a type the
                                       item has no field for (a Reference) */
    bool declined;
    const char *absent;             /* dataAbsentReason code, if sent */
    bool pending;                   /* answers are in members not sent */
    int sender_pos;                 /* -1 not said, 0 NEG, 1 POS */
    const char *cat_domain;         /* the sender's Gravity category */
    const char **cat_domains;       /* every one its categories name, the
                                       first cat_domain (F1162), or NULL */
    size_t n_cat;
    int asserted;                   /* an assessment's finding: -1 not an
                                       assessment, 0 absent, 1 present */
    const char *q_finding;          /* a question answered with a finding
                                       of its own domain: that domain */
    const char *field;              /* where it was read, for warnings */
};

struct scr {
    struct rsp *r;
    size_t n, cap;
    const char *instrument, *inst_system, *inst_name;
    size_t unresolved;
    const char *unresolved_field;
};

static const char *here(struct fx *x)
{
    return fx_path_text(x);
}

static int rsp_new(struct fx *x, struct scr *s, const char *question,
                   struct rsp **out)
{
    if (s->n == DICT_MAX_RESPONSES)
        return fx_fail(x, HUB_ELIMIT, "screening has more than 1000 items");
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        struct rsp *r = arena_zalloc(x->a, cap * sizeof(*r));
        if (s->n)
            memcpy(r, s->r, s->n * sizeof(*r));
        s->r = r;
        s->cap = cap;
    }
    struct rsp *r = &s->r[s->n++];
    memset(r, 0, sizeof(*r));
    r->question = question;
    r->sender_pos = -1;
    r->asserted = -1;
    r->field = here(x);
    r->answers = arena_alloc(x->a, MAX_ANSWERS * sizeof(*r->answers));
    *out = r;
    return HUB_OK;
}

static int rsp_answer(struct fx *x, struct rsp *r, const char *code)
{
    for (size_t i = 0; i < r->n_answers; i++)
        if (strcmp(r->answers[i], code) == 0)
            return HUB_OK;
    if (r->n_answers == MAX_ANSWERS)
        return fx_fail(x, HUB_ELIMIT, "item has more than 64 answers");
    r->answers[r->n_answers++] = code;
    return HUB_OK;
}

/* A JSON number as an answer: scored as an integer (a decimal rounded:
 * scores are integers, a decimal count is still a count), and written as
 * sent (1.5 hours stays 1.5: the item's value is a number). */
static int num_value(struct fx *x, const cJSON *v, const char *key,
                     struct rsp *r)
{
    if (!cJSON_IsNumber(v)) {
        fx_key(x, key);
        return fx_fail(x, HUB_EINVALID, "expected a number");
    }
    double d = v->valuedouble;
    if (!isfinite(d) || d > 1e12 || d < -1e12) {
        fx_key(x, key);
        return fx_fail(x, HUB_EINVALID, "number is out of range");
    }
    r->has_value = true;
    r->value = (int64_t)llround(d);
    r->dvalue = d;
    r->decimal = (double)r->value != d;
    r->unit = NULL;                 /* a Quantity sets its own after */
    return HUB_OK;
}

/* A multi-select item's answers sent as codings of one CodeableConcept
 * (SHIN-NY 96778-6: Mold, Lack of heat, Water leaks): each is an answer.
 * Only where the dictionary makes the item multi-select and no coding names
 * another system: codings of other systems are one answer's translations,
 * as FHIR reads a CodeableConcept. They replace the one fx_cc picked
 * (answers[before..]), in the sender's order. */
static int multi_codings(struct fx *x, const cJSON *cc, struct rsp *r,
                         size_t before)
{
    const struct dict_item *it =
        dict_item_find(x->d, NULL, slice_from_cstr(r->question));
    const cJSON *codings = fx_get(cc, "coding");
    if (it == NULL || !it->multi || !cJSON_IsArray(codings))
        return HUB_OK;
    const cJSON *c;
    cJSON_ArrayForEach(c, codings) {
        const char *sys = cJSON_GetStringValue(fx_get(c, "system"));
        if (sys && strcmp(sys, LOINC) != 0)
            return HUB_OK;
    }
    r->n_answers = before;
    cJSON_ArrayForEach(c, codings) {
        const char *code = cJSON_GetStringValue(fx_get(c, "code"));
        int rc;
        if (code && *code && (rc = rsp_answer(x, r, code)))
            return rc;
    }
    return HUB_OK;
}

static bool ascii_ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return false;
    return *a == *b;
}

/*
 * An answer sent as its text (valueString "Yes", a CodeableConcept with
 * text alone: EHR flowsheet rows are exported so) for a dictionary question:
 * the code of the question's one answer whose display is that text,
 * without regard to ASCII case, with a warning at `key`; the text stays
 * on the item. Anything else ("Y", two answers so displayed) is left as
 * text: nothing is guessed. As the CSV adapter reads its answer column.
 */
static int text_answer(struct fx *x, struct rsp *r, const char *key)
{
    const struct dict_item *it =
        dict_item_find(x->d, NULL, slice_from_cstr(r->question));
    const struct dict_answer *hit = NULL;
    for (size_t k = 0; it && k < it->n_answers; k++) {
        const struct dict_answer *an = &it->answers[k];
        if (an->display && ascii_ieq(r->text, an->display)) {
            if (hit)
                return HUB_OK;
            hit = an;
        }
    }
    if (hit == NULL)
        return HUB_OK;
    fx_warn(x, key, "answer given as its text read as the LOINC code of the "
                    "question's answer with that display");
    return rsp_answer(x, r, hit->code);
}

/* A Quantity's text member `key`, if it is a non-empty string. */
static const char *q_text(const cJSON *q, const char *key)
{
    const cJSON *t = fx_get(q, key);
    return cJSON_IsString(t) && t->valuestring && t->valuestring[0]
               ? t->valuestring
               : NULL;
}

/* Observation.value[x] / QuestionnaireResponse.item.answer.value[x]. */
static int read_value(struct fx *x, const cJSON *o, struct rsp *r, bool *any)
{
    const cJSON *v;
    int rc;
    *any = false;
    if ((v = fx_get(o, "valueCodeableConcept"))) {
        struct fx_code c;
        if ((rc = fx_cc(x, o, "valueCodeableConcept", LOINC, &c)))
            return rc;
        if (c.code) {
            size_t before = r->n_answers;
            *any = true;
            if ((rc = rsp_answer(x, r, c.code)))
                return rc;
            return multi_codings(x, v, r, before);
        }
        if (c.text) {
            r->text = c.text;
            *any = true;
            return text_answer(x, r, "valueCodeableConcept.text");
        }
        return HUB_OK;
    }
    if ((v = fx_get(o, "valueCoding"))) {
        const char *code;
        if (!cJSON_IsObject(v)) {
            fx_key(x, "valueCoding");
            return fx_fail(x, HUB_EINVALID, "expected a Coding object");
        }
        size_t old = fx_key(x, "valueCoding");
        if ((rc = fx_str(x, v, "code", false, &code)))
            return rc;
        fx_pop(x, old);
        if (code) {
            *any = true;
            return rsp_answer(x, r, code);
        }
        return HUB_OK;
    }
    static const char *const nums[] = { "valueInteger", "valueDecimal", NULL };
    for (size_t i = 0; nums[i]; i++)
        if ((v = fx_get(o, nums[i]))) {
            *any = true;
            return num_value(x, v, nums[i], r);
        }
    if ((v = fx_get(o, "valueQuantity"))) {
        const cJSON *q;
        if ((rc = fx_obj(x, o, "valueQuantity", false, &q)))
            return rc;
        const cJSON *qv = fx_get(q, "value");
        if (qv == NULL)
            return HUB_OK;
        size_t old = fx_key(x, "valueQuantity");
        if ((rc = num_value(x, qv, "value", r)))
            return rc;
        fx_pop(x, old);
        /* F161: the unit stays with the number ("7" of 76508-1 is 7 a
         * week, "2" of an exercise item may be hours): the UCUM code when
         * the system is UCUM, else the unit as written, else the code, as
         * a Goal's target quantity is read. A member that is not a
         * string is passed over, as before F161 (the number still counts) */
        const char *sys = q_text(q, "system"), *code = q_text(q, "code"),
                   *unit = q_text(q, "unit");
        r->unit = code && sys && strcmp(sys, UCUM) == 0 ? code
                  : unit                                 ? unit
                                                         : code;
        *any = true;
        return HUB_OK;
    }
    if ((v = fx_get(o, "valueBoolean"))) {
        int b;
        if ((rc = fx_bool(x, o, "valueBoolean", &b)))
            return rc;
        r->text = b ? "true" : "false";
        *any = true;
        /* F561: a boolean to a question whose answers are codes (a
         * Chilean IG's PRAPARE 93030-5, "true") is kept and not scored,
         * as F52 decided (which "Yes" it means is not guessed); the
         * sender is told, as for every answer the hub cannot read */
        const struct dict_item *it =
            dict_item_find(x->d, NULL, slice_from_cstr(r->question));
        if (it && it->n_answers > 0)
            fx_warn(x, "valueBoolean", "boolean answer to a question whose "
                                       "answers are codes is not scored");
        return HUB_OK;
    }
    /* a date or time is an answer too (SHIN-NY's outreach dates): kept as
     * sent, never read as unanswered */
    static const char *const strs[] = { "valueString", "valueDate",
        "valueDateTime", "valueTime", "valueUri", NULL };
    for (size_t i = 0; strs[i]; i++)
        if ((v = fx_get(o, strs[i]))) {
            if ((rc = fx_str(x, o, strs[i], false, &r->text)))
                return rc;
            *any = r->text != NULL;
            return i == 0 && r->text ? text_answer(x, r, strs[i]) : HUB_OK;
        }
    /* the other types R4 allows an answer (a Reference: NHS e-RS names the
     * clinician so; an Attachment) or an Observation's value (Range, Ratio,
     * Period, SampledData): an answer all the same, never a refusal, and
     * not carried (the item has no field for it), which the sender is told */
    static const char *const other[] = { "valueReference", "valueAttachment",
        "valueRange", "valueRatio", "valuePeriod", "valueSampledData", NULL };
    for (size_t i = 0; other[i]; i++)
        if (fx_get(o, other[i])) {
            *any = true;
            r->uncarried = true;
            fx_warn(x, other[i], "answer of this type is not carried; the "
                                 "item is answered");
            return HUB_OK;
        }
    return HUB_OK;
}

/* Observation.interpretation POS / NEG, if the sender said so. */
static int read_interpretation(struct fx *x, const cJSON *o, struct rsp *r)
{
    const cJSON *arr;
    size_t n;
    int rc;
    if ((rc = fx_arr(x, o, "interpretation", &arr, &n)))
        return rc;
    size_t old = fx_key(x, "interpretation");
    size_t i = 0;
    for (const cJSON *c = arr ? arr->child : NULL; c; c = c->next, i++) {
        size_t o2 = fx_idx(x, i);
        struct fx_code k;
        if ((rc = fx_cc_node(x, c, INTERP_SYS, &k)))
            return rc;
        if (k.code && strcmp(k.code, "POS") == 0)
            r->sender_pos = 1;
        else if (k.code && strcmp(k.code, "NEG") == 0)
            r->sender_pos = 0;
        fx_pop(x, o2);
    }
    fx_pop(x, old);
    return HUB_OK;
}

static bool obs_status_scores(const char *st)
{
    return strcmp(st, "final") == 0 || strcmp(st, "amended") == 0 ||
           strcmp(st, "corrected") == 0;
}

static const char *const OBS_STATUS[] = { "registered", "preliminary",
    "final", "amended", "corrected", "cancelled", "entered-in-error",
    "unknown", NULL };


/* The instrument an Observation.code names in any of its codings: SHIN-NY
 * sends LOINC 100698-0 (a report document code) beside NYSAHCHRSN. */
static const struct dict_instrument *code_instrument(struct fx *x,
                                                     const cJSON *o)
{
    const cJSON *code = fx_get(o, "code");
    const cJSON *cd = fx_get(code, "coding");
    for (const cJSON *k = cJSON_IsArray(cd) ? cd->child : NULL; k; k = k->next) {
        const cJSON *v = fx_get(k, "code");
        const struct dict_instrument *in =
            cJSON_IsString(v) ? dict_instrument_find(x->d,
                                    slice_from_cstr(v->valuestring))
                              : NULL;
        if (in)
            return in;
    }
    return NULL;
}

static int obs_collect(struct fx *x, const cJSON *o, struct scr *s,
                       int depth);

/* An answer Observation (same code as its parent item): its value joins
 * the parent's answers. */
static int obs_answer_member(struct fx *x, const cJSON *o, struct rsp *r)
{
    bool any;
    int rc;
    const char *st;
    if ((rc = fx_enum(x, o, "status", true, OBS_STATUS, &st)))
        return rc;
    if (!obs_status_scores(st))
        return HUB_OK;
    if ((rc = read_value(x, o, r, &any)) || (rc = read_interpretation(x, o, r)))
        return rc;
    return HUB_OK;
}

#define NO_SELF ((size_t)-1)

/* `self` is the index of the item whose same-code members are its answers
 * (an index: recursion may move s->r), or NO_SELF. */
static int obs_members(struct fx *x, const cJSON *o, const char *code,
                       struct scr *s, size_t self, int depth,
                       size_t *n_same)
{
    const cJSON *arr;
    size_t n;
    int rc;
    *n_same = 0;
    if ((rc = fx_arr(x, o, "hasMember", &arr, &n)))
        return rc;
    size_t old = fx_key(x, "hasMember");
    size_t i = 0;
    for (const cJSON *m = arr ? arr->child : NULL; m; m = m->next, i++) {
        size_t o2 = fx_idx(x, i);
        const char *ref;
        if ((rc = fx_ref_node(x, m, &ref)))
            return rc;
        struct fx_entry *me = fx_resolve(x, ref);
        if (me == NULL || me->failed) {
            if (s->unresolved++ == 0)
                s->unresolved_field = here(x);
            fx_pop(x, o2);
            continue;
        }
        if (strcmp(me->type, "Observation") != 0) {
            fx_key(x, "reference");
            return fx_fail(x, HUB_EINVALID, "member is not an Observation");
        }
        /* each Observation counts once per screening: a member listed
         * twice, or a cycle, must not multiply the work (10000 references
         * to a panel of 10000 references ...) */
        if (me->seen == x->gen) {
            fx_pop(x, o2);
            continue;
        }
        me->seen = x->gen;
        struct fx_saved_path sp;
        fx_path_save(x, &sp);
        fx_at_entry(x, me);
        struct fx_code mc;
        if ((rc = fx_cc(x, me->res, "code", LOINC, &mc)))
            return rc;
        if (code && mc.code && strcmp(mc.code, code) == 0 && self != NO_SELF) {
            rc = obs_answer_member(x, me->res, &s->r[self]);
            (*n_same)++;
        } else {
            rc = obs_collect(x, me->res, s, depth + 1);
        }
        if (rc)
            return rc;
        fx_path_restore(x, &sp);
        fx_pop(x, o2);
    }
    fx_pop(x, old);
    return HUB_OK;
}

/* Components are items of their own (question = component code). */
static int obs_components(struct fx *x, const cJSON *o, struct scr *s,
                          const char **doms, size_t n_dom, bool *any_comp)
{
    const cJSON *comps;
    size_t nc;
    int rc;
    bool any;
    *any_comp = false;
    if ((rc = fx_arr(x, o, "component", &comps, &nc)))
        return rc;
    size_t old = fx_key(x, "component");
    size_t i = 0;
    for (const cJSON *c = comps ? comps->child : NULL; c; c = c->next, i++) {
        size_t o2 = fx_idx(x, i);
        struct fx_code cc;
        struct rsp *cr;
        if (!cJSON_IsObject(c))
            return fx_fail(x, HUB_EINVALID, "expected a component object");
        if ((rc = fx_cc(x, c, "code", LOINC, &cc)))
            return rc;
        if (cc.code) {
            if ((rc = rsp_new(x, s, cc.code, &cr)))
                return rc;
            cr->cat_domain = n_dom ? doms[0] : NULL;
            cr->cat_domains = doms;
            cr->n_cat = n_dom;
            if ((rc = read_value(x, c, cr, &any)) ||
                (rc = read_interpretation(x, c, cr)))
                return rc;
            cr->declined = !any;
            *any_comp = true;
        }
        fx_pop(x, o2);
    }
    fx_pop(x, old);
    return HUB_OK;
}

#define SNOMED "http://snomed.info/sct"
#define OBS_CATEGORY "http://terminology.hl7.org/CodeSystem/observation-category"

/* LOINC 75274-1 "Characteristics of residence": the code of C-CDA's
 * Characteristics of Home Environment (4.109), which the C-CDA adapter
 * reads as an assessment when its value is a finding of a domain (F1001),
 * and of the US Public Health library's Characteristics of Home
 * Environment profile, which eCR (HL7/case-reporting) sends with no
 * category at all: "Homeless" there is the same statement (F1160). */
#define HOME_ENV_LOINC "75274-1"

#define ICD10CM "http://hl7.org/fhir/sid/icd-10-cm"

/* The domain coding `k` names: a SNOMED CT finding of snomed-domains.json
 * or, when `zcodes`, an ICD-10-CM code of zcodes.json; else NULL. */
static const char *coding_domain(struct fx *x, const cJSON *k, bool zcodes)
{
    const cJSON *sys = fx_get(k, "system"), *code = fx_get(k, "code");
    if (!cJSON_IsString(sys) || !cJSON_IsString(code))
        return NULL;
    struct slice c = slice_from_cstr(code->valuestring);
    if (dict_is_snomed(slice_from_cstr(sys->valuestring)))
        return dict_snomed_domain(x->d, c);
    if (zcodes && strcmp(sys->valuestring, ICD10CM) == 0)
        return dict_icd10_domain(x->d, c);
    return NULL;
}

/* The domain of an Observation's finding: its code when that is a SNOMED
 * CT finding of snomed-domains.json (422650009 Social isolation ->
 * social-connection), else its valueCodeableConcept's Z code or SNOMED CT
 * finding, as a C-CDA problem's value is read: C-CDA on FHIR maps the
 * Companion Guide's SDOH Social History Observation (code 160476009 /
 * 8689-2, the finding its value) so, and the C-CDA adapter reads that
 * observation as this assessment (F143); NULL else. */
static const char *finding_domain(struct fx *x, const cJSON *o)
{
    const cJSON *cc = fx_get(fx_get(o, "code"), "coding");
    for (const cJSON *k = cJSON_IsArray(cc) ? cc->child : NULL; k;
         k = k->next) {
        const char *dom = coding_domain(x, k, false);
        if (dom)
            return dom;
    }
    cc = fx_get(fx_get(o, "valueCodeableConcept"), "coding");
    for (int zcodes = 1; zcodes >= 0; zcodes--)
        for (const cJSON *k = cJSON_IsArray(cc) ? cc->child : NULL; k;
             k = k->next) {
            const char *dom = coding_domain(x, k, zcodes);
            if (dom)
                return dom;
        }
    return NULL;
}

/*
 * An SDOHCC Observation Assessment: an Observation with a Gravity SDOH
 * category whose code is not a question, sum or derived item of the
 * dictionary (typically a SNOMED CT finding, "Transport too expensive").
 * The SDOHCC IG makes it the assessor's statement of that finding, not an
 * answer to score, so its value says whether the finding holds: valueBoolean
 * true 1, false 0; a valueCodeableConcept that is a SNOMED CT finding
 * (value[x] < 441742003 |Evaluation finding| in the IG's mappings), or an
 * ICD-10-CM Z code of zcodes.json (a C-CDA Social History Observation
 * may send one: F143), asserts it, 1. -1 for anything else: not an
 * assessment, no value, a dataAbsentReason, or a status domain (dict.h),
 * where a finding names a status rather than a need.
 */
/*
 * SNOMED CT qualifier values that say whether the finding in
 * Observation.code holds, rather than name a finding: the 2020 SDOH-CC
 * examples send 733423003 "Food insecurity" valued 410515003 "Known
 * present" and, at the next visit, 410516002 "Known absent" (SNOMED CT's
 * finding status values, which its situation model and the IPS use for
 * an absent problem). An absence denies the finding, as valueBoolean
 * false does; "Unknown" asserts nothing (F282). Any other SNOMED CT value
 * (a finding, "Known present", "Yes") asserts it, as before.
 */
static const char *const SCT_DENIES[] = {
    "410516002",        /* Known absent (qualifier value) */
    "2667000",          /* Absent (qualifier value) */
    "373067005",        /* No (qualifier value) */
    NULL
};
static const char *const SCT_UNSAID[] = {
    "261665006",        /* Unknown (qualifier value) */
    NULL
};

static bool in_list(const char *const *l, const char *code)
{
    for (size_t i = 0; l[i]; i++)
        if (strcmp(l[i], code) == 0)
            return true;
    return false;
}

static int assessment(struct fx *x, const cJSON *o, const char *q,
                      const char *dom)
{
    struct slice qs = slice_from_cstr(q);
    const struct dict_domain *dm =
        dom ? dict_domain_find(x->d, slice_from_cstr(dom)) : NULL;
    if (dm == NULL || dm->status || fx_get(o, "dataAbsentReason") ||
        dict_item_find(x->d, NULL, qs) || dict_sum_find(x->d, NULL, qs) ||
        dict_derived_find(x->d, NULL, qs))
        return -1;
    const cJSON *b = fx_get(o, "valueBoolean");
    if (cJSON_IsBool(b))
        return cJSON_IsTrue(b) ? 1 : 0;
    const cJSON *cc = fx_get(fx_get(o, "valueCodeableConcept"), "coding");
    for (const cJSON *k = cJSON_IsArray(cc) ? cc->child : NULL; k;
         k = k->next) {
        const cJSON *sys = fx_get(k, "system"), *code = fx_get(k, "code");
        if (cJSON_IsString(sys) && cJSON_IsString(code) &&
            strcmp(sys->valuestring, SNOMED) == 0 && code->valuestring[0])
            return in_list(SCT_DENIES, code->valuestring)   ? 0
                   : in_list(SCT_UNSAID, code->valuestring) ? -1
                                                            : 1;
        if (cJSON_IsString(sys) && cJSON_IsString(code) &&
            strcmp(sys->valuestring, ICD10CM) == 0 &&
            dict_icd10_domain(x->d, slice_from_cstr(code->valuestring)))
            return 1;
    }
    return -1;
}

/*
 * A question of the dictionary answered with a finding of the question's
 * own domain instead of one of its answers: the Czech HDR's SDOH
 * Observation sends 88124-3 "Food insecurity risk [HVS]" valued SNOMED CT
 * 733423003 "Food insecurity". The finding is the sender's statement of
 * the need, as an SDOHCC Observation Assessment's is (assessment()): that
 * domain, which the caller makes the item's asserted positive when no
 * answer of the list was sent (F281). A finding of another domain, of a
 * status domain, or beside a dataAbsentReason says nothing the hub can
 * score: NULL.
 */
static const char *question_finding(struct fx *x, const cJSON *o,
                                    const char *q)
{
    const struct dict_item *it = dict_item_find(x->d, NULL,
                                                slice_from_cstr(q));
    if (it == NULL || it->domain == NULL || fx_get(o, "dataAbsentReason"))
        return NULL;
    const struct dict_domain *dm =
        dict_domain_find(x->d, slice_from_cstr(it->domain));
    if (dm == NULL || dm->status)
        return NULL;
    const cJSON *cc = fx_get(fx_get(o, "valueCodeableConcept"), "coding");
    for (const cJSON *k = cJSON_IsArray(cc) ? cc->child : NULL; k;
         k = k->next) {
        const char *dom = coding_domain(x, k, true);
        if (dom && strcmp(dom, it->domain) == 0)
            return it->domain;
    }
    return NULL;
}

/* One Observation: a panel (its members), an item, or both. */
static int obs_collect(struct fx *x, const cJSON *o, struct scr *s, int depth)
{
    struct fx_code code;
    const char *st, *dom;
    int rc;
    if (depth > FHIR_MAX_ITEM_DEPTH)
        return fx_fail(x, HUB_ELIMIT, "hasMember nesting is deeper than 12");
    /* every category's domain: one finding filed under two (HL7 Chile's
     * "Transport too expensive", transportation and financial) is a
     * finding of both (F1162) */
    size_t n_dom, max_dom = dict_domain_count(x->d);
    const char **doms = arena_alloc(x->a, (max_dom ? max_dom : 1) *
                                              sizeof(*doms));
    if ((rc = fx_enum(x, o, "status", true, OBS_STATUS, &st)) ||
        (rc = fx_cc(x, o, "code", LOINC, &code)) ||
        (rc = fx_domains_of(x, o, "category", doms, max_dom, &n_dom)))
        return rc;
    dom = n_dom ? doms[0] : NULL;
    if (code.code == NULL) {
        fx_key(x, "code");
        return fx_fail(x, HUB_EINVALID, "observation has no code");
    }
    if (!obs_status_scores(st))
        return HUB_OK;          /* a retracted or unfinished member */
    const struct dict_instrument *in = code_instrument(x, o);
    if (in) {
        if (s->instrument == NULL) {
            s->instrument = in->code;
            s->inst_system = in->system;
            s->inst_name = in->name;
        }
        size_t same;
        bool any_comp;
        if ((rc = obs_members(x, o, NULL, s, NO_SELF, depth, &same)) ||
            (rc = obs_components(x, o, s, doms, n_dom, &any_comp)))
            return rc;
        return HUB_OK;
    }
    /* an SDOHCC Observation Assessment needs no SDOH category (0..*, its
     * social-history one is 1..1): the IG's social isolation example puts
     * its domain in a code system of its own, so the finding names it */
    if (dom == NULL)
        dom = finding_domain(x, o);
    struct rsp *r;
    size_t before = s->n;
    if ((rc = rsp_new(x, s, code.code, &r)))
        return rc;
    r->cat_domain = dom;
    r->cat_domains = doms;
    r->n_cat = n_dom;
    bool any;
    if ((rc = read_value(x, o, r, &any)) || (rc = read_interpretation(x, o, r)))
        return rc;
    const cJSON *dar = fx_get(o, "dataAbsentReason");
    if (dar) {
        struct fx_code k;
        if ((rc = fx_cc(x, o, "dataAbsentReason", NULL, &k)))
            return rc;
        r->declined = true;
        r->absent = k.code;
    }
    r->asserted = assessment(x, o, code.code, dom);
    if (r->asserted < 0)
        r->q_finding = question_finding(x, o, code.code);
    size_t idx = (size_t)(r - s->r);
    size_t same;
    /* members may grow s->r: keep the index, not the pointer */
    if ((rc = obs_members(x, o, code.code, s, idx, depth, &same)))
        return rc;
    r = &s->r[idx];
    bool any_comp;
    if (n_dom == 0 && dom) {
        doms[0] = dom;          /* the finding's, as the item's */
        n_dom = 1;
    }
    if ((rc = obs_components(x, o, s, doms, n_dom, &any_comp)))
        return rc;
    r = &s->r[idx];
    bool is_group = s->n > before + 1 && same == 0 && !any && !dar;
    if (is_group) {
        /* a grouping Observation (not an instrument we know): its members
         * are the items; drop its own empty row, keeping its POS/NEG for a
         * component that asks its own question (SHIN-NY 96778-6) */
        for (size_t k = idx + 1; k < s->n; k++)
            if (s->r[k].sender_pos < 0 &&
                strcmp(s->r[k].question, r->question) == 0)
                s->r[k].sender_pos = r->sender_pos;
        memmove(&s->r[idx], &s->r[idx + 1], (s->n - idx - 1) * sizeof(*s->r));
        s->n--;
        return HUB_OK;
    }
    /* no answer of its own and none from members: declined, unless the
     * answers are in members that are not in this message */
    if (!any && r->n_answers == 0 && !r->has_value && !r->text) {
        if (fx_get(o, "hasMember"))
            r->pending = true;
        else
            r->declined = true;
    }
    return HUB_OK;
}

/* ---- QuestionnaireResponse ------------------------------------------------- */

/* "/88122-7" or "a/b/88122-7" -> "88122-7" when it looks like a LOINC code. */
static const char *linkid_code(struct fx *x, const char *link)
{
    const char *p = strrchr(link, '/');
    p = p ? p + 1 : link;
    size_t n = strlen(p);
    const char *dash = strchr(p, '-');
    if (n < 3 || n > 12 || dash == NULL || dash == p || dash[1] == '\0' ||
        dash[2] != '\0')
        return link;
    for (const char *q = p; q < dash; q++)
        if (*q < '0' || *q > '9')
            return link;
    if (dash[1] < '0' || dash[1] > '9')
        return link;
    return arena_strndup(x->a, p, n);
}

static int qr_items(struct fx *x, const cJSON *o, struct scr *s, int depth)
{
    const cJSON *arr;
    size_t n;
    int rc;
    if (depth > FHIR_MAX_ITEM_DEPTH)
        return fx_fail(x, HUB_ELIMIT, "item nesting is deeper than 12");
    if ((rc = fx_arr(x, o, "item", &arr, &n)))
        return rc;
    size_t old = fx_key(x, "item");
    size_t i = 0;
    for (const cJSON *it = arr ? arr->child : NULL; it; it = it->next, i++) {
        size_t o2 = fx_idx(x, i);
        const char *link;
        const cJSON *codes, *answers, *sub;
        size_t nc, na, ns;
        if (!cJSON_IsObject(it))
            return fx_fail(x, HUB_EINVALID, "expected an item object");
        if ((rc = fx_str(x, it, "linkId", true, &link)) ||
            (rc = fx_arr(x, it, "code", &codes, &nc)) ||
            (rc = fx_arr(x, it, "answer", &answers, &na)) ||
            (rc = fx_arr(x, it, "item", &sub, &ns)))
            return rc;
        const char *q = NULL;
        for (const cJSON *c = codes ? codes->child : NULL; c; c = c->next) {
            const cJSON *cs = fx_get(c, "system");
            const cJSON *cc = fx_get(c, "code");
            if (cJSON_IsString(cs) && cJSON_IsString(cc) &&
                strcmp(cs->valuestring, LOINC) == 0) {
                q = cc->valuestring;
                break;
            }
        }
        if (q == NULL)
            q = linkid_code(x, link);
        const struct dict_item *di =
            dict_item_find(x->d, NULL, slice_from_cstr(q));
        bool known = di || dict_sum_find(x->d, NULL, slice_from_cstr(q)) ||
                     dict_derived_find(x->d, NULL, slice_from_cstr(q));
        if (na > 0 || (ns == 0 && known)) {
            struct rsp *r;
            if ((rc = rsp_new(x, s, q, &r)))
                return rc;
            size_t idx = (size_t)(r - s->r);
            size_t o3 = fx_key(x, "answer");
            size_t j = 0;
            bool any_all = false;
            for (const cJSON *a = answers ? answers->child : NULL; a;
                 a = a->next, j++) {
                size_t o4 = fx_idx(x, j);
                bool any;
                if (!cJSON_IsObject(a))
                    return fx_fail(x, HUB_EINVALID, "expected an answer object");
                if ((rc = read_value(x, a, &s->r[idx], &any)))
                    return rc;
                any_all |= any;
                /* answers may carry nested items (R4 answer.item) */
                if (fx_get(a, "item") &&
                    (rc = qr_items(x, a, s, depth + 1)))
                    return rc;
                fx_pop(x, o4);
            }
            fx_pop(x, o3);
            s->r[idx].declined = !any_all;
        }
        if (ns && (rc = qr_items(x, it, s, depth + 1)))
            return rc;
        fx_pop(x, o2);
    }
    fx_pop(x, old);
    return HUB_OK;
}

/* The instrument that holds every known question, the smallest such;
 * needs two known questions (one item says too little), and known
 * questions for at least half of those answered: a form of other
 * questions that shares a few with an instrument is not that instrument
 * (a PHQ-9 opens with the two PHQ-2 items of the AHC HRSN supplemental
 * questions, and was sent on as an AHC HRSN screening). Two smallest of
 * one size are a guess between them: none (schemas/dict/README.md). */
static const struct dict_instrument *infer_instrument(struct fx *x,
                                                      const struct scr *s)
{
    const struct dict_instrument *best = NULL;
    bool tie = false;
    size_t known = 0;
    for (size_t i = 0; i < s->n; i++)
        if (dict_item_find(x->d, NULL, slice_from_cstr(s->r[i].question)))
            known++;
    if (known < 2 || 2 * known < s->n)
        return NULL;
    for (size_t k = 0; k < dict_instrument_count(x->d); k++) {
        const struct dict_instrument *in = dict_instrument_at(x->d, k);
        bool all = true;
        for (size_t i = 0; i < s->n && all; i++) {
            struct slice q = slice_from_cstr(s->r[i].question);
            if (dict_item_find(x->d, NULL, q) && !dict_item_find(x->d, in, q))
                all = false;
        }
        if (!all)
            continue;
        if (best && in->n_items == best->n_items)
            tie = true;
        else if (best == NULL || in->n_items < best->n_items) {
            best = in;
            tie = false;
        }
    }
    return tie ? NULL : best;
}

/* Whether an answer is one the dictionary lists for its question, in any
 * instrument that asks it (a number for a numeric item or a total). */
static bool answer_listed(struct fx *x, const struct rsp *r, const char *code)
{
    struct slice q = slice_from_cstr(r->question);
    const struct dict_derived *dv = dict_derived_find(x->d, NULL, q);
    if (dv && code && (strcmp(code, dv->positive_answer) == 0 ||
                       strcmp(code, dv->negative_answer) == 0))
        return true;
    if (code == NULL && dict_sum_find(x->d, NULL, q))
        return true;
    for (size_t k = 0; k < dict_instrument_count(x->d); k++) {
        const struct dict_item *it =
            dict_item_find(x->d, dict_instrument_at(x->d, k), q);
        if (it == NULL)
            continue;
        if (code == NULL ? it->numeric
                         : dict_answer_find(it, slice_from_cstr(code)) != NULL)
            return true;
    }
    return false;
}

/* F1383: items that answer the dictionary's questions only with codes it
 * does not list for them (the Gravity Patient App's referral feedback,
 * Yes/No under Hunger Vital Sign link ids) are another form that reuses
 * the link ids, not that instrument: true when some coded answer to a
 * known question is unlisted and no answer to one, coded or a number, is
 * listed. A response whose items are only declined or free text is not
 * judged by this. */
static bool foreign_answers(struct fx *x, const struct scr *s)
{
    bool unlisted = false;
    for (size_t i = 0; i < s->n; i++) {
        const struct rsp *r = &s->r[i];
        struct slice q = slice_from_cstr(r->question);
        if (!dict_item_find(x->d, NULL, q) &&
            !dict_derived_find(x->d, NULL, q) && !dict_sum_find(x->d, NULL, q))
            continue;           /* a question of the sender's own */
        if (r->has_value && answer_listed(x, r, NULL))
            return false;
        for (size_t k = 0; k < r->n_answers; k++) {
            if (answer_listed(x, r, r->answers[k]))
                return false;
            unlisted = true;
        }
    }
    return unlisted;
}

/* ---- scoring and the body ------------------------------------------------------ */

static const struct rsp *find_q(const struct scr *s, const char *q)
{
    for (size_t i = s->n; i-- > 0;)
        if (strcmp(s->r[i].question, q) == 0)
            return &s->r[i];
    return NULL;
}


static void dom_array(struct jw *w, const char *key, const char **l, size_t n,
                      bool even_empty)
{
    if (n == 0 && !even_empty)
        return;
    jw_key(w, key);
    jw_arr_begin(w);
    for (size_t i = 0; i < n; i++)
        jw_cstr(w, l[i]);
    jw_arr_end(w);
}

/* An item's category domains (cat_domain alone when the finding named
 * it) into a screening's list. */
static void add_cats(const char **set, size_t *n, size_t cap,
                     const struct rsp *r)
{
    if (r->n_cat == 0)
        strset_add(set, n, cap, r->cat_domain);
    for (size_t i = 0; i < r->n_cat; i++)
        strset_add(set, n, cap, r->cat_domains[i]);
}

/* A Reference member's reference, or NULL (also when it is no string:
 * these are carried, never checked, so a slip there costs nothing). */
static const char *ref_member(const cJSON *o, const char *key)
{
    const cJSON *r = fx_get(fx_get(o, key), "reference");
    return cJSON_IsString(r) ? r->valuestring : NULL;
}

static const char *ref_member_of(const cJSON *ref)
{
    const cJSON *r = fx_get(ref, "reference");
    return cJSON_IsString(r) ? r->valuestring : NULL;
}

/* Who took the screening: an Observation's first performer, a
 * QuestionnaireResponse's author (who recorded the answers), else its
 * source (FHIR R4: "the person who answered the questions"). The SDOHCC
 * Hunger Vital Sign response names only its source, and the Observations
 * derived from it carry that person as performer: without the source the
 * same screening named a performer as Observations and none as the
 * response (F135). An Observation has no source element. */
static const char *performer_ref(const struct fx_entry *e)
{
    const cJSON *p = fx_get(e->res, "performer");
    if (cJSON_IsArray(p))
        return p->child ? ref_member_of(p->child) : NULL;
    if (strcmp(e->type, "QuestionnaireResponse") != 0)
        return NULL;
    const char *a = ref_member(e->res, "author");
    return a ? a : ref_member(e->res, "source");
}

/*
 * The language the screening was taken in (F60), for a CBO that follows
 * up: SHIN-NY's observation-language extension, its code (valueCode, or
 * a valueCodeableConcept's first coding: BCP-47, "es", "kmv"). Not
 * Resource.language: FHIR R4 makes it the language the resource's text
 * is written in, which senders set once for everything (SHIN-NY's "en" on
 * the Patient, and on the panel whose extension says "kmv"). A code that
 * is no language tag is left out with a warning.
 */
#define LANG_EXT "/StructureDefinition/shinny-observation-language"

static const char *screening_language(struct fx *x, const cJSON *o)
{
    const cJSON *ext = fx_get(o, "extension");
    size_t i = 0;
    for (const cJSON *c = cJSON_IsArray(ext) ? ext->child : NULL; c;
         c = c->next, i++) {
        const char *url = cJSON_GetStringValue(fx_get(c, "url"));
        size_t n = url ? strlen(url) : 0;
        if (n < sizeof(LANG_EXT) - 1 ||
            strcmp(url + n - (sizeof(LANG_EXT) - 1), LANG_EXT) != 0)
            continue;
        const char *code = cJSON_GetStringValue(fx_get(c, "valueCode"));
        if (code == NULL) {
            const cJSON *k = fx_get(fx_get(c, "valueCodeableConcept"), "coding");
            code = cJSON_GetStringValue(
                fx_get(cJSON_IsArray(k) ? k->child : NULL, "code"));
        }
        if (code && langtag_ok(code, strlen(code)))
            return code;
        size_t old = fx_key(x, "extension");
        fx_idx(x, i);
        fx_warn(x, NULL, "screening language is not a BCP-47 tag; left out");
        fx_pop(x, old);
        return NULL;
    }
    return NULL;
}

static int finish(struct fx *x, struct fx_entry *e, struct scr *s,
                  const struct dict_instrument *in, const char *status,
                  const char *occurred, const char *pstart,
                  const char *pend, struct slice patient)
{
    struct dict_response *resp =
        arena_zalloc(x->a, (s->n ? s->n : 1) * sizeof(*resp));
    for (size_t i = 0; i < s->n; i++) {
        struct slice *codes =
            arena_alloc(x->a, (s->r[i].n_answers + 1) * sizeof(*codes));
        for (size_t k = 0; k < s->r[i].n_answers; k++)
            codes[k] = slice_from_cstr(s->r[i].answers[k]);
        resp[i] = (struct dict_response){
            .question = slice_from_cstr(s->r[i].question), .answers = codes,
            .n_answers = s->r[i].n_answers, .has_value = s->r[i].has_value,
            .value = s->r[i].value,
            .has_text = s->r[i].text != NULL || s->r[i].uncarried,
            .declined = s->r[i].declined };
    }
    struct dict_scoring sc;
    int rc = dict_score(x->d, x->a, in, resp, s->n, &sc);
    if (rc)
        return fx_fail(x, rc, "screening has too many items");
    for (size_t i = 0; i < sc.n_labels; i++)
        fx_label_add(x, sc.labels[i]);  /* an answer that is itself sensitive */

    size_t cap = s->n + sc.n_domains + sc.n_positive_domains + 8;
    for (size_t i = 0; i < s->n; i++)
        cap += s->r[i].n_cat;
    const char **domains = arena_alloc(x->a, cap * sizeof(*domains));
    const char **sender = arena_alloc(x->a, cap * sizeof(*sender));
    const char **positive = arena_alloc(x->a, cap * sizeof(*positive));
    size_t nd = 0, ns = 0, np = 0;
    bool sender_said = false;
    for (size_t i = 0; i < sc.n_domains; i++)
        strset_add(domains, &nd, cap, sc.domains[i]);
    for (size_t i = 0; i < sc.n_positive_domains; i++)
        strset_add(positive, &np, cap, sc.positive_domains[i]);

    if (s->unresolved && x->n_warns < FX_MAX_WARN)
        x->warns[x->n_warns++] = (struct fx_warn){
            s->unresolved_field, "members not in this message were not scored" };

    struct jw w;
    jw_init(&w, x->a, 1u << 20);
    jw_obj_begin(&w);
    jw_kv_cstr(&w, "id", fx_entry_name(x, e));
    if (in) {
        jw_kv_cstr(&w, "instrument", in->code);
        jw_kv_cstr(&w, "instrument_system", in->system);
        jw_kv_cstr(&w, "instrument_name", in->name);
    } else {
        jw_kv_cstr(&w, "instrument", s->instrument);
        jw_kv_cstr(&w, "instrument_system", s->inst_system);
        jw_kv_cstr(&w, "instrument_name", s->inst_name);
    }
    jw_kv_cstr(&w, "status", status);
    jw_kv_cstr(&w, "language", screening_language(x, e->res));
    if (pstart || pend) {
        jw_key(&w, "effective_period");
        jw_obj_begin(&w);
        jw_kv_cstr(&w, "start", pstart);
        jw_kv_cstr(&w, "end", pend);
        jw_obj_end(&w);
    }
    jw_key(&w, "items");
    jw_arr_begin(&w);
    for (size_t i = 0; i < s->n; i++) {
        const struct rsp *r = &s->r[i];
        const struct dict_item_result *ir = &sc.items[i];
        const char *dom = ir->domain ? ir->domain : r->cat_domain;
        const char *label = ir->item ? ir->item->label : NULL;
        enum dict_verdict verdict = ir->verdict;
        /* the sender's own total (95614-4): the sum's domain and verdict */
        struct slice q = slice_from_cstr(r->question);
        const struct dict_sum *sum = ir->item ? NULL
                                              : dict_sum_find(x->d, in, q);
        for (size_t k = 0; sum && k < sc.n_sums; k++)
            if (sc.sums[k].sum == sum || !strcmp(sc.sums[k].sum->code, sum->code)) {
                dom = sum->domain;
                label = sum->label;
                if (sc.sums[k].complete)
                    verdict = sc.sums[k].verdict;
            }
        if (!ir->item && r->cat_domain && !r->declined)
            add_cats(domains, &nd, cap, r);
        /* an assessment's finding, as the sender asserted it */
        bool asserted = !ir->item && r->cat_domain && r->asserted >= 0;
        if (asserted) {
            verdict = r->asserted ? DICT_POSITIVE : DICT_NEGATIVE;
            if (r->asserted)
                add_cats(positive, &np, cap, r);
        }
        /* a question answered with its domain's finding, no answer of its
         * list: the finding asserted (question_finding) */
        if (ir->item && r->q_finding && verdict == DICT_UNKNOWN &&
            ir->unknown_answer && !ir->declined && !r->has_value) {
            asserted = true;
            verdict = DICT_POSITIVE;
            dom = r->q_finding;
            strset_add(domains, &nd, cap, dom);
            strset_add(positive, &np, cap, dom);
        }
        jw_obj_begin(&w);
        jw_kv_cstr(&w, "question", r->question);
        bool multi = r->n_answers > 1 || (ir->item && ir->item->multi);
        if (r->n_answers && multi) {
            jw_key(&w, "answers");
            jw_arr_begin(&w);
            for (size_t k = 0; k < r->n_answers; k++)
                jw_cstr(&w, r->answers[k]);
            jw_arr_end(&w);
        } else if (r->n_answers) {
            jw_kv_cstr(&w, "answer", r->answers[0]);
        }
        if (r->has_value) {
            jw_key(&w, "value");
            if (r->decimal)
                jw_number(&w, r->dvalue);
            else
                jw_int(&w, r->value);
            jw_kv_cstr(&w, "unit", r->unit);
        }
        jw_kv_cstr(&w, "text", r->text);
        jw_kv_cstr(&w, "domain", dom);
        /* the item's domain is its categories' first: all of them when
         * more than one (F1162) */
        bool cats = !ir->item && dom && dom == r->cat_domain &&
                    r->n_cat > 1;
        if (cats)
            dom_array(&w, "domains", r->cat_domains, r->n_cat, false);
        jw_kv_cstr(&w, "label", label);
        if (verdict != DICT_UNKNOWN) {
            jw_key(&w, "positive");
            jw_bool(&w, verdict == DICT_POSITIVE);
        }
        if (asserted) {
            jw_key(&w, "asserted");
            jw_bool(&w, true);
        }
        /* unanswered either way, but only asked-declined is a refusal:
         * "unknown", "not-asked" or "masked" is not the person's "no" (as
         * the CSV adapter reads DATA_ABSENT_REASON) */
        bool refused = r->absent == NULL ||
                       strcmp(r->absent, "asked-declined") == 0;
        if (ir->declined && !r->pending && refused) {
            jw_key(&w, "declined");
            jw_bool(&w, true);
        }
        if (r->sender_pos >= 0) {
            jw_key(&w, "sender_positive");
            jw_bool(&w, r->sender_pos == 1);
            sender_said = true;
            if (r->sender_pos == 1 && cats)
                add_cats(sender, &ns, cap, r);
            else if (r->sender_pos == 1)
                strset_add(sender, &ns, cap, dom);
            if (verdict != DICT_UNKNOWN &&
                (verdict == DICT_POSITIVE) != (r->sender_pos == 1) &&
                x->n_warns < FX_MAX_WARN) {
                size_t n = strlen(r->field) + sizeof(".interpretation");
                char *fld = arena_alloc(x->a, n);
                snprintf(fld, n, "%s.interpretation", r->field);
                x->warns[x->n_warns++] = (struct fx_warn){
                    fld, "sender's interpretation disagrees with the dictionary" };
            }
        }
        jw_obj_end(&w);
    }
    /* derived items the sender did not send; compare those it did */
    for (size_t i = 0; i < sc.n_derived; i++) {
        const struct dict_derived_result *dr = &sc.derived[i];
        if (dr->answer == NULL)
            continue;
        const struct rsp *sent = find_q(s, dr->rule->code);
        if (sent) {
            bool same = (sent->n_answers == 1 &&
                         strcmp(sent->answers[0], dr->answer) == 0) ||
                        (sent->q_finding && dr->verdict == DICT_POSITIVE);
            if (!same && !sent->declined && x->n_warns < FX_MAX_WARN)
                x->warns[x->n_warns++] = (struct fx_warn){
                    sent->field,
                    "sender's derived answer disagrees with the dictionary" };
            continue;
        }
        jw_obj_begin(&w);
        jw_kv_cstr(&w, "question", dr->rule->code);
        jw_kv_cstr(&w, "answer", dr->answer);
        jw_kv_cstr(&w, "domain", dr->rule->domain);
        jw_key(&w, "positive");
        jw_bool(&w, dr->verdict == DICT_POSITIVE);
        jw_key(&w, "derived");
        jw_bool(&w, true);
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    dom_array(&w, "domains", domains, nd, true);
    dom_array(&w, "positive_domains", positive, np, true);
    bool scores = false;
    for (size_t i = 0; i < sc.n_sums; i++) {
        const struct dict_sum_result *sr = &sc.sums[i];
        if (!sr->complete)
            continue;
        jw_arr_lazy(&w, "scores", &scores);
        jw_obj_begin(&w);
        jw_kv_cstr(&w, "code", sr->sum->code);
        /* the dictionary's name of the total, as C-CDA and CSV write it */
        jw_kv_cstr(&w, "display", sr->sum->display);
        jw_key(&w, "value");
        jw_int(&w, sr->value);
        jw_key(&w, "positive");
        jw_bool(&w, sr->verdict == DICT_POSITIVE);
        jw_kv_cstr(&w, "domain", sr->sum->domain);
        jw_kv_cstr(&w, "label", sr->sum->label);
        if (sr->from_sender) {
            jw_key(&w, "from_sender");
            jw_bool(&w, true);
        } else {
            const struct rsp *sent = find_q(s, sr->sum->code);
            if (sent && sent->has_value && sent->value != sr->value &&
                x->n_warns < FX_MAX_WARN)
                x->warns[x->n_warns++] = (struct fx_warn){
                    sent->field, "sender's total disagrees with the hub's sum" };
        }
        jw_obj_end(&w);
    }
    jw_arr_end_if(&w, scores);
    if (sender_said)
        dom_array(&w, "sender_positive_domains", sender, ns, true);
    /* where and by whom it was taken (F31), as the CSV adapter carries
     * ENCOUNTER_ID: a subscriber ties the screening to its visit */
    jw_kv_cstr(&w, "performer", fx_ref_name(x, performer_ref(e)));
    jw_kv_cstr(&w, "encounter", fx_ref_name(x, ref_member(e->res, "encounter")));
    /* the Procedure it was taken as part of (its administration, G0136) */
    if ((rc = fx_put_screening_procedures(x, &w, e)))
        return rc;
    jw_obj_end(&w);
    struct slice body;
    if (jw_finish(&w, &body) != HUB_OK)
        return fx_fail(x, HUB_ELIMIT, "screening is larger than the limit");

    /* both events carry the same body, warnings and labels */
    struct fx_warn warns[FX_MAX_WARN];
    const char *labels[FX_MAX_LABELS];
    size_t nw = x->n_warns, nl = x->n_labels;
    memcpy(warns, x->warns, sizeof(warns));
    memcpy(labels, x->labels, sizeof(labels));
    if ((rc = fx_emit(x, e, "screening.completed", occurred, patient,
                      "screening", body)))
        return rc;
    if (np) {
        memcpy(x->warns, warns, sizeof(warns));
        memcpy(x->labels, labels, sizeof(labels));
        x->n_warns = nw;
        x->n_labels = nl;
        if ((rc = fx_emit(x, e, "screening.positive", occurred, patient,
                          "screening", body)))
            return rc;
    }
    fx_reset_event(x);
    return HUB_OK;
}

/* ---- entry points ---------------------------------------------------------------- */

int fx_screening_qr(struct fx *x, struct fx_entry *e)
{
    static const char *const st[] = { "in-progress", "completed", "amended",
        "entered-in-error", "stopped", NULL };
    const char *status, *authored, *qn;
    struct slice patient;
    struct scr s = { 0 };
    int rc;
    if ((rc = fx_enum(x, e->res, "status", true, st, &status)) ||
        (rc = fx_date(x, e->res, "authored", &authored)) ||
        (rc = fx_str(x, e->res, "questionnaire", false, &qn)) ||
        (rc = fx_labels(x, e->res)))
        return rc;
    if (strcmp(status, "completed") != 0 && strcmp(status, "amended") != 0)
        return HUB_OK;          /* nothing to score yet, or retracted */
    if ((rc = fx_patient(x, e->res, "subject", &patient)) ||
        (rc = qr_items(x, e->res, &s, 0)))
        return rc;
    fx_at_entry(x, e);
    const struct dict_instrument *in = NULL;
    if (qn) {
        /* ".../Questionnaire/88121-9|1.0": the tail may be a panel code */
        const char *tail = strrchr(qn, '/');
        tail = tail ? tail + 1 : qn;
        const char *bar = strchr(tail, '|');
        in = dict_instrument_find(x->d, (struct slice){
            tail, bar ? (size_t)(bar - tail) : strlen(tail) });
    }
    /* known link ids answered only with codes the dictionary does not
     * list for them: not a screening, the response is context */
    if (in == NULL && foreign_answers(x, &s))
        return HUB_OK;
    if (in == NULL)
        in = infer_instrument(x, &s);
    /* the screening's status in one vocabulary, FHIR ObservationStatus, as
     * an Observation panel and the CSV layouts give it: a completed
     * response is a final result (its amended one amended) */
    return finish(x, e, &s, in,
                  strcmp(status, "completed") == 0 ? "final" : status,
                  authored, NULL, NULL, patient);
}

/* When an Observation's screening took place. FHIR R4 effective[x] is "the
 * time or time-period the observed value is asserted as being true": a
 * period is the span the answers speak of ("within the past 12 months"),
 * which ends when the person is asked, so the screening occurred at its
 * end; without an end, at `issued` (when the result was made available),
 * and only then at its start. *pstart, *pend: the period as sent. */
static const char *obs_when(struct fx *x, const cJSON *o, const char **pstart,
                            const char **pend, int *rc)
{
    const char *t = NULL, *issued;
    const cJSON *per;
    *pstart = *pend = NULL;
    if ((*rc = fx_date(x, o, "effectiveDateTime", &t)) || t)
        return t;
    if ((*rc = fx_date(x, o, "effectiveInstant", &t)) || t)
        return t;
    if ((*rc = fx_obj(x, o, "effectivePeriod", false, &per)))
        return NULL;
    if (per) {
        size_t old = fx_key(x, "effectivePeriod");
        if ((*rc = fx_date(x, per, "start", pstart)) ||
            (*rc = fx_date(x, per, "end", pend)))
            return NULL;
        fx_pop(x, old);
        if (*pend)
            return *pend;
    }
    if ((*rc = fx_date(x, o, "issued", &issued)))
        return NULL;
    return issued ? issued : *pstart;
}

/* Whether a CodeableConcept (or an array of them) holds `code` of the
 * SDOHCC temporary code system (or its Chilean copy, F166). */
static bool has_sdohcc_code(const cJSON *v, const char *code)
{
    const cJSON *one = cJSON_IsArray(v) ? v->child : v;
    for (; one; one = cJSON_IsArray(v) ? one->next : NULL) {
        const cJSON *codings = fx_get(one, "coding");
        for (const cJSON *k = cJSON_IsArray(codings) ? codings->child : NULL;
             k; k = k->next) {
            const cJSON *c = fx_get(k, "code"), *sys = fx_get(k, "system");
            if (cJSON_IsString(c) && cJSON_IsString(sys) &&
                fx_is_sdoh_system(sys->valuestring) &&
                strcmp(c->valuestring, code) == 0)
                return true;
        }
    }
    return false;
}

/* US Core 6 and later (CodeSystem us-core-category): the categories of
 * its Observation Screening Assessment profile, beside sdoh and
 * cognitive-status, that say the assessment is of a person's function or
 * disability (US Core 5's us-core-observation-category has clinical-test
 * alone) */
#define USCORE_CATEGORY "http://hl7.org/fhir/us/core/CodeSystem/us-core-category"

/* Whether a component asks a question of the dictionary or is valued
 * with a finding of a domain: SDOH content, which keeps an Observation
 * a screening whatever its categories. */
static bool components_name_sdoh(struct fx *x, const cJSON *o)
{
    const cJSON *comps = fx_get(o, "component");
    for (const cJSON *c = cJSON_IsArray(comps) ? comps->child : NULL; c;
         c = c->next) {
        const cJSON *cd = fx_get(fx_get(c, "code"), "coding");
        for (const cJSON *k = cJSON_IsArray(cd) ? cd->child : NULL; k;
             k = k->next) {
            const cJSON *v = fx_get(k, "code");
            if (!cJSON_IsString(v))
                continue;
            struct slice q = slice_from_cstr(v->valuestring);
            if (dict_item_find(x->d, NULL, q) || dict_sum_find(x->d, NULL, q) ||
                dict_derived_find(x->d, NULL, q))
                return true;
        }
        cd = fx_get(fx_get(c, "valueCodeableConcept"), "coding");
        for (const cJSON *k = cJSON_IsArray(cd) ? cd->child : NULL; k;
             k = k->next)
            if (coding_domain(x, k, true))
                return true;
    }
    return false;
}

/* What an Observation is to the hub. OBS_FUNCTIONAL: an assessment of
 * function or disability, not of social needs (F802, decided): `survey`
 * is its only screening sign, a category names US Core functional-status
 * or disability-status, and nothing names an SDOH domain (no sdoh or
 * Gravity category, no code, component or answer of the dictionary).
 * The PACIO functional goal "Walk 50 feet with two turns" is one; the
 * same categories beside an sdoh category or a dictionary question stay
 * a screening. */
enum obs_kind { OBS_OTHER, OBS_SCREENING, OBS_FUNCTIONAL };

/* Is this Observation about screening at all? A category of the SDOHCC
 * temporary code system says so when it names an SDOH domain; its other
 * codes do not: "personal-characteristic" is the category of the SDOHCC
 * race, ethnicity, gender identity, sexual orientation, pronoun and
 * recorded-sex Observations, which are no screening (the C-CDA adapter
 * gives SOGI observations no event either). Nor is an SDOHCC Observation
 * Enrollment Status (STU3: code, in earlier builds category, the SDOHCC
 * "enrollment-status"; value is-enrolled, not-enrolled, ...; focus the
 * social care program), although US Core makes its category "sdoh": it
 * says whether the person is enrolled in a program, not what a screening
 * found, and would be counted as one (finding F67). A social-history
 * Observation whose code is a SNOMED CT finding of snomed-domains.json, or
 * whose value is one or a Z code of zcodes.json (finding_domain), is an
 * SDOHCC Observation Assessment even without an SDOH category, and so is
 * one coded 75274-1 (home environment) with no category at all. For
 * OBS_FUNCTIONAL, *fcat is the index of the category that says so. */
static enum obs_kind obs_kind(struct fx *x, const cJSON *o, size_t *fcat)
{
    struct fx_code c;
    struct hub_err keep = *x->err;
    size_t saved = x->nsteps;
    bool sign = false, survey = false, func = false;
    if (has_sdohcc_code(fx_get(o, "code"), "enrollment-status") ||
        has_sdohcc_code(fx_get(o, "category"), "enrollment-status"))
        return OBS_OTHER;
    if (fx_cc(x, o, "code", LOINC, &c) == HUB_OK && c.code) {
        struct slice q = slice_from_cstr(c.code);
        sign = code_instrument(x, o) || dict_item_find(x->d, NULL, q) ||
               dict_sum_find(x->d, NULL, q) || dict_derived_find(x->d, NULL, q);
        /* the code itself says social history: eCR's Characteristics of
         * Home Environment needs no category (F1160) */
        sign |= strcmp(c.code, HOME_ENV_LOINC) == 0 && c.system &&
                strcmp(c.system, LOINC) == 0 && finding_domain(x, o);
    }
    sign |= fx_get(o, "hasMember") != NULL;
    const cJSON *cat = fx_get(o, "category");
    size_t i = 0;
    for (const cJSON *cc = cJSON_IsArray(cat) ? cat->child : NULL; cc && !sign;
         cc = cc->next, i++) {
        const cJSON *codings = fx_get(cc, "coding");
        for (const cJSON *k = cJSON_IsArray(codings) ? codings->child : NULL; k;
             k = k->next) {
            const cJSON *code = fx_get(k, "code");
            const cJSON *sys = fx_get(k, "system");
            if (!cJSON_IsString(code))
                continue;
            if (strcmp(code->valuestring, "survey") == 0)
                survey = true;
            else if (strcmp(code->valuestring, "sdoh") == 0 ||
                     (cJSON_IsString(sys) &&
                      fx_is_sdoh_system(sys->valuestring) &&
                      dict_domain_find(x->d,
                                       slice_from_cstr(code->valuestring))))
                sign = true;
            /* social history that asserts a finding of a domain: the
             * SDOHCC Observation Assessment, whose SDOH category may be
             * missing or of another system */
            else if (strcmp(code->valuestring, "social-history") == 0 &&
                     cJSON_IsString(sys) &&
                     strcmp(sys->valuestring, OBS_CATEGORY) == 0 &&
                     finding_domain(x, o))
                sign = true;
            else if (!func && cJSON_IsString(sys) &&
                     strcmp(sys->valuestring, USCORE_CATEGORY) == 0 &&
                     (strcmp(code->valuestring, "functional-status") == 0 ||
                      strcmp(code->valuestring, "disability-status") == 0)) {
                func = true;
                *fcat = i;
            }
        }
    }
    enum obs_kind kind = sign || (survey && !func) ? OBS_SCREENING
                         : !survey                 ? OBS_OTHER
                         : finding_domain(x, o) || components_name_sdoh(x, o)
                             ? OBS_SCREENING
                             : OBS_FUNCTIONAL;
    *x->err = keep;
    x->nsteps = saved;
    return kind;
}

/* The one test the loose items of a message use to join a screening */
static bool obs_is_screening(struct fx *x, const cJSON *o)
{
    size_t fcat;
    return obs_kind(x, o, &fcat) == OBS_SCREENING;
}

static const char *subject_ref(const cJSON *o)
{
    return ref_member(o, "subject");
}

/* Both name the same encounter, or neither names one. */
static bool same_encounter(const cJSON *a, const cJSON *b)
{
    const char *ea = ref_member(a, "encounter"), *eb = ref_member(b, "encounter");
    return ea == eb || (ea && eb && strcmp(ea, eb) == 0);
}

int fx_screening_obs(struct fx *x, struct fx_entry *e)
{
    const char *status, *when;
    struct slice patient;
    struct scr s = { 0 };
    int rc;
    if ((rc = fx_enum(x, e->res, "status", true, OBS_STATUS, &status)))
        return rc;
    e->seen = ++x->gen;
    size_t fcat = 0;
    enum obs_kind kind = obs_kind(x, e->res, &fcat);
    if (kind == OBS_OTHER) {
        if (x->bundle)
            return HUB_OK;      /* vital signs and the like: context */
        return fx_fail(x, HUB_EUNSUPPORTED,
                       "observation is not a screening the hub knows");
    }
    if (!obs_status_scores(status))
        return HUB_OK;
    if (kind == OBS_FUNCTIONAL) {
        /* a US Core screening assessment the hub reads, of another
         * kind: accepted, as context is, and the sender told why no
         * screening came of it (alone too: it is no unknown type) */
        fx_at_entry(x, e);
        size_t old = fx_key(x, "category");
        fx_idx(x, fcat);
        fx_warn_entry(x, NULL, "functional or disability assessment with "
                               "no SDOH domain is not a social-needs "
                               "screening: no event");
        fx_pop(x, old);
        return HUB_OK;
    }
    const char *pstart, *pend;
    when = obs_when(x, e->res, &pstart, &pend, &rc);
    if (rc || (rc = fx_labels(x, e->res)) ||
        (rc = fx_patient(x, e->res, "subject", &patient)))
        return rc;
    fx_at_entry(x, e);
    if ((rc = obs_collect(x, e->res, &s, 0)))
        return rc;
    fx_at_entry(x, e);
    bool panel = s.instrument != NULL ||
                 fx_get(e->res, "hasMember");
    bool one_encounter = true;
    if (!panel && x->bundle && !x->batch) {
        /* loose items: the other loose screening Observations of the same
         * patient in this message join this screening */
        const char *subj = subject_ref(e->res);
        for (size_t i = e->index + 1; i < x->n_ents && subj; i++) {
            struct fx_entry *o = &x->ents[i];
            const char *os;
            if (o->consumed || o->failed || strcmp(o->type, "Observation") ||
                !(os = subject_ref(o->res)) || strcmp(os, subj) ||
                fx_get(o->res, "hasMember") ||
                !obs_is_screening(x, o->res))
                continue;
            struct fx_code oc;
            fx_at_entry(x, o);
            if ((rc = fx_cc(x, o->res, "code", LOINC, &oc)))
                return rc;
            if (code_instrument(x, o->res))
                continue;
            if (o->seen == x->gen)
                continue;
            o->seen = x->gen;
            if ((rc = fx_labels(x, o->res)) || (rc = obs_collect(x, o->res, &s, 0)))
                return rc;
            o->consumed = true;
            one_encounter &= same_encounter(e->res, o->res);
        }
        fx_at_entry(x, e);
    }
    const struct dict_instrument *in =
        s.instrument ? dict_instrument_find(x->d, slice_from_cstr(s.instrument))
                     : NULL;
    /* loose answers without a panel (SHIN-NY's declined bundle: the twelve
     * NYS AHC HRSN questions of one encounter): named by their questions,
     * as a QuestionnaireResponse's are (F27); answers of several
     * encounters, gathered as one screening, are not named */
    if (in == NULL && !panel && one_encounter)
        in = infer_instrument(x, &s);
    return finish(x, e, &s, in, status, when, pstart, pend, patient);
}

/* ---- consumption ------------------------------------------------------------------ */

/* The first LOINC code of a CodeableConcept member, or NULL. */
static const char *loinc_of(const cJSON *o, const char *key)
{
    const cJSON *codings = fx_get(fx_get(o, key), "coding");
    for (const cJSON *k = cJSON_IsArray(codings) ? codings->child : NULL; k;
         k = k->next) {
        const cJSON *cs = fx_get(k, "system"), *cc = fx_get(k, "code");
        if (cJSON_IsString(cs) && cJSON_IsString(cc) &&
            strcmp(cs->valuestring, LOINC) == 0)
            return cc->valuestring;
    }
    return NULL;
}

/* Whether an answer of a response is the Observation's value: a coding of
 * the same code (and system when both name one), the same number, boolean
 * or string. */
static bool answer_is_value(const cJSON *a, const cJSON *o)
{
    const cJSON *ac = fx_get(a, "valueCoding");
    if (ac) {
        const cJSON *code = fx_get(ac, "code"), *sys = fx_get(ac, "system");
        const cJSON *codings = fx_get(fx_get(o, "valueCodeableConcept"), "coding");
        if (!cJSON_IsString(code))
            return false;
        for (const cJSON *k = cJSON_IsArray(codings) ? codings->child : NULL;
             k; k = k->next) {
            const cJSON *kc = fx_get(k, "code"), *ks = fx_get(k, "system");
            if (cJSON_IsString(kc) && strcmp(kc->valuestring, code->valuestring) == 0 &&
                (!cJSON_IsString(ks) || !cJSON_IsString(sys) ||
                 strcmp(ks->valuestring, sys->valuestring) == 0))
                return true;
        }
        return false;
    }
    const cJSON *an = fx_get(a, "valueInteger");
    if (!an)
        an = fx_get(a, "valueDecimal");
    if (!an)
        an = fx_get(fx_get(a, "valueQuantity"), "value");
    if (cJSON_IsNumber(an)) {
        const cJSON *on = fx_get(o, "valueInteger");
        if (!on)
            on = fx_get(fx_get(o, "valueQuantity"), "value");
        return cJSON_IsNumber(on) && on->valuedouble == an->valuedouble;
    }
    const cJSON *ab = fx_get(a, "valueBoolean"), *ob = fx_get(o, "valueBoolean");
    if (cJSON_IsBool(ab))
        return cJSON_IsBool(ob) && cJSON_IsTrue(ab) == cJSON_IsTrue(ob);
    const cJSON *as = fx_get(a, "valueString"), *os = fx_get(o, "valueString");
    return cJSON_IsString(as) && cJSON_IsString(os) &&
           strcmp(as->valuestring, os->valuestring) == 0;
}

/* Whether a response's items (at any depth) answer question q as the
 * Observation o does; the question is an item's LOINC code, else its
 * linkId read as one (qr_items' rule). */
static bool items_answer(struct fx *x, const cJSON *parent, const char *q,
                         const cJSON *o, int depth)
{
    const cJSON *items = fx_get(parent, "item");
    if (depth > FHIR_MAX_ITEM_DEPTH || !cJSON_IsArray(items))
        return false;
    for (const cJSON *it = items->child; it; it = it->next) {
        const cJSON *link = fx_get(it, "linkId");
        const char *iq = NULL;     /* item.code is an array of Coding */
        const cJSON *codes = fx_get(it, "code");
        for (const cJSON *c = cJSON_IsArray(codes) ? codes->child : NULL;
             c && !iq; c = c->next) {
            const cJSON *cs = fx_get(c, "system"), *cc = fx_get(c, "code");
            if (cJSON_IsString(cs) && cJSON_IsString(cc) &&
                strcmp(cs->valuestring, LOINC) == 0)
                iq = cc->valuestring;
        }
        if (!iq && cJSON_IsString(link))
            iq = linkid_code(x, link->valuestring);
        const cJSON *answers = fx_get(it, "answer");
        for (const cJSON *a = cJSON_IsArray(answers) ? answers->child : NULL;
             a; a = a->next) {
            if (iq && strcmp(iq, q) == 0 && answer_is_value(a, o))
                return true;
            if (items_answer(x, a, q, o, depth + 1))
                return true;
        }
        if (items_answer(x, it, q, o, depth + 1))
            return true;
    }
    return false;
}

/* An Observation that says nothing a QuestionnaireResponse of the same
 * message does not: same patient, same encounter (both named), and an item
 * of the response answers its question with its value. A sender that
 * extracts Observations from the response without derivedFrom (a
 * developer's NY HRSN transaction of round 59 sends the response and four
 * of its answers again as Observations) would otherwise give the same
 * answers twice, two screening.positive events for one screening (F370). */
static bool repeats_a_response(struct fx *x, const struct fx_entry *e)
{
    const char *subj = ref_member(e->res, "subject");
    const char *enc = ref_member(e->res, "encounter");
    const char *q = loinc_of(e->res, "code");
    if (!subj || !enc || !q || fx_get(e->res, "hasMember") ||
        fx_get(e->res, "component"))
        return false;
    for (size_t i = 0; i < x->n_ents; i++) {
        const struct fx_entry *t = &x->ents[i];
        const char *ts, *te;
        if (t->failed || strcmp(t->type, "QuestionnaireResponse") != 0 ||
            !(ts = ref_member(t->res, "subject")) || strcmp(ts, subj) != 0 ||
            !(te = ref_member(t->res, "encounter")) || strcmp(te, enc) != 0)
            continue;
        if (items_answer(x, t->res, q, e->res, 0))
            return true;
    }
    return false;
}

void fx_mark_consumed(struct fx *x)
{
    for (size_t i = 0; i < x->n_ents; i++) {
        struct fx_entry *e = &x->ents[i];
        if (e->failed || strcmp(e->type, "Observation") != 0)
            continue;
        const cJSON *df = fx_get(e->res, "derivedFrom");
        for (const cJSON *r = cJSON_IsArray(df) ? df->child : NULL; r; r = r->next) {
            const cJSON *ref = fx_get(r, "reference");
            struct fx_entry *t =
                cJSON_IsString(ref) ? fx_resolve(x, ref->valuestring) : NULL;
            if (t && !t->failed && strcmp(t->type, "QuestionnaireResponse") == 0)
                e->consumed = true;
        }
        if (!e->consumed && x->bundle && repeats_a_response(x, e))
            e->consumed = true;
        const cJSON *hm = fx_get(e->res, "hasMember");
        for (const cJSON *r = cJSON_IsArray(hm) ? hm->child : NULL; r; r = r->next) {
            const cJSON *ref = fx_get(r, "reference");
            struct fx_entry *t =
                cJSON_IsString(ref) ? fx_resolve(x, ref->valuestring) : NULL;
            /* a panel of a known instrument always makes its own
             * screening: a hasMember cycle then hits the depth limit
             * instead of every member consuming every other */
            if (t && t != e && strcmp(t->type, "Observation") == 0 &&
                !code_instrument(x, t->res))
                t->consumed = true;
        }
    }
    fx_mark_procedures(x);
}

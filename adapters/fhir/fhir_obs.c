/*
 * fhir_obs.c - screenings from Observations (fhir_screen_int.h).
 *
 * Observation shapes handled: a panel (code = instrument, hasMember items),
 * an item with hasMember "answer Observations" of the same code (US Core's
 * multi-select form), components as items, and loose items (one screening
 * per patient and day per message, instrument left out). Also an SDOHCC
 * Observation Assessment (a finding, asserted or denied), what an
 * Observation is to the hub (a screening, a functional assessment,
 * context) and when it was taken. A survey Observation of nothing the
 * dictionary knows is context, as a response of an unknown form is
 * (F3361).
 */
#include "fhir/fhir_screen_int.h"

#include <string.h>

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
const struct dict_instrument *fx_code_instrument(struct fx *x,
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

static int obs_collect(struct fx *x, const struct fx_entry *e,
                       struct scr *s, int depth);

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
    if ((rc = fx_read_value(x, o, r, &any)) ||
        (rc = fx_read_interpretation(x, o, r)))
        return rc;
    return HUB_OK;
}

#define NO_SELF ((size_t)-1)

/* The entry of the panel's hasMember[i], whose reference reads `ref`: the
 * one fx_mark_consumed found for it before any entry was read, which
 * fx_resolve_read finds still (an entry refused since was refused in its
 * own reading); looked up when `ref` is another string (Type/urn:uuid
 * read as the entry it names) or the panel was never marked (a lone
 * resource) (F2708) */
static struct fx_entry *member_entry(struct fx *x,
                                     const struct fx_entry *panel, size_t i,
                                     const char *ref)
{
    if (i < panel->n_members && panel->members[i].ref == ref)
        return panel->members[i].e;
    return fx_resolve_read(x, ref);
}

/* `self` is the index of the item whose same-code members are its answers
 * (an index: recursion may move s->r), or NO_SELF. */
static int obs_members(struct fx *x, const struct fx_entry *panel,
                       const char *code, struct scr *s, size_t self,
                       int depth, size_t *n_same)
{
    const cJSON *arr;
    size_t n;
    int rc;
    *n_same = 0;
    if ((rc = fx_arr(x, panel->res, "hasMember", &arr, &n)))
        return rc;
    size_t old = fx_key(x, "hasMember");
    size_t i = 0;
    for (const cJSON *m = arr ? arr->child : NULL; m; m = m->next, i++) {
        size_t o2 = fx_idx(x, i);
        const char *ref;
        if ((rc = fx_member_node(x, m, &ref)))
            return rc;
        /* a member the batch refuses in its own turn is read whether
         * that turn came first or not (F2104): a panel of another
         * instrument gives its answers to this one in either order */
        struct fx_entry *me = member_entry(x, panel, i, ref);
        if (me == NULL) {
            if (s->unresolved++ == 0)
                s->unresolved_field = fx_here(x);
            fx_pop(x, o2);
            continue;
        }
        if (strcmp(me->type, "Observation") != 0) {
            fx_key(x, "reference");
            return fx_fail(x, HUB_EINVALID, "member is not an Observation");
        }
        /* one person's answers never score another's screening
         * (F2582): the member is read on its own (fx_mark_consumed) */
        if (!fx_same_patient(x, s->subject, fx_get(me->res, "subject")))
            return fx_fail(x, HUB_EINVALID, "member names another patient "
                                            "than the panel");
        /* nor a grouping or item with none that another patient's panel
         * names too: it is neither's, in whichever order they come
         * (F2741, F2763) */
        if (me->of_two_panels) {
            fx_warn(x, NULL, "member has no subject and another patient's "
                             "panel names it too: nothing taken from it");
            fx_pop(x, o2);
            continue;
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
            rc = obs_collect(x, me, s, depth + 1);
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
            if ((rc = fx_rsp_new(x, s, cc.code, &cr)))
                return rc;
            cr->cat_domain = n_dom ? doms[0] : NULL;
            cr->cat_domains = doms;
            cr->n_cat = n_dom;
            if ((rc = fx_read_value(x, c, cr, &any)) ||
                (rc = fx_read_interpretation(x, c, cr)))
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
        const char *dom = fx_coding_domain(x, k, FX_DOM_SNOMED);
        if (dom)
            return dom;
    }
    /* the value's Z code in any coding first, as a Condition's code
     * (F143 meant so; the two passes here once took the first coding
     * that named a domain: F3223) */
    return fx_cc_domain(x, fx_get(o, "valueCodeableConcept"));
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
            dict_is_icd10(slice_from_cstr(sys->valuestring)) &&
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
        const char *dom = fx_coding_domain(x, k, FX_DOM_SNOMED | FX_DOM_ICD10);
        if (dom && strcmp(dom, it->domain) == 0)
            return it->domain;
    }
    return NULL;
}

/* One Observation: a panel (its members), an item, or both. */
static int obs_collect(struct fx *x, const struct fx_entry *e,
                       struct scr *s, int depth)
{
    const cJSON *o = e->res;
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
    const struct dict_instrument *in = fx_code_instrument(x, o);
    if (in) {
        if (s->instrument == NULL) {
            s->instrument = in->code;
            s->inst_system = in->system;
            s->inst_name = in->name;
        }
        size_t same;
        bool any_comp;
        if ((rc = obs_members(x, e, NULL, s, NO_SELF, depth, &same)) ||
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
    if ((rc = fx_rsp_new(x, s, code.code, &r)))
        return rc;
    r->cat_domain = dom;
    r->cat_domains = doms;
    r->n_cat = n_dom;
    bool any;
    if ((rc = fx_read_value(x, o, r, &any)) ||
        (rc = fx_read_interpretation(x, o, r)))
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
    if ((rc = obs_members(x, e, code.code, s, idx, depth, &same)))
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
    return fx_has_code(v, fx_is_sdoh_system, code);
}

/* US Core 6 and later (CodeSystem us-core-category): the categories of
 * its Observation Screening Assessment profile, beside sdoh and
 * cognitive-status, that say the assessment is of a person's function or
 * disability (US Core 5's us-core-observation-category has clinical-test
 * alone) */
#define USCORE_CATEGORY "http://hl7.org/fhir/us/core/CodeSystem/us-core-category"
#define USCORE_TAGS "http://hl7.org/fhir/us/core/CodeSystem/us-core-tags"

static bool is_uscore_category(const char *sys)
{
    return strcmp(sys, USCORE_CATEGORY) == 0 || strcmp(sys, USCORE_TAGS) == 0;
}

/* Whether a category is US Core's `sdoh` (us-core-category, or
 * us-core-tags of US Core 5): the sender files the Observation as a
 * social-needs screening. A PRAPARE or AHC HRSN item the dictionary's
 * lists lack (household size 63512-8, income 63586-2, physical activity
 * 89555-7: F3400) is still one, and stays a screening of raw items. */
static bool uscore_sdoh(const cJSON *o)
{
    const cJSON *cat = fx_get(o, "category");
    return cJSON_IsArray(cat) && fx_has_code(cat, is_uscore_category, "sdoh");
}

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
            if (fx_coding_domain(x, k, FX_DOM_SNOMED | FX_DOM_ICD10))
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
    bool sign = false, survey = false, func = false;
    if (has_sdohcc_code(fx_get(o, "code"), "enrollment-status") ||
        has_sdohcc_code(fx_get(o, "category"), "enrollment-status"))
        return OBS_OTHER;
    struct fx_try t = fx_try_begin(x);
    if (fx_cc(x, o, "code", LOINC, &c) == HUB_OK && c.code) {
        struct slice q = slice_from_cstr(c.code);
        sign = fx_code_instrument(x, o) || dict_item_find(x->d, NULL, q) ||
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
    fx_try_forgive(x, &t, NULL);
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
    return fx_ref_member(o, "subject");
}

/* The day an Observation was taken, as sent (the first ten characters of
 * the member obs_when reads first), into day[11]; "" when it has none.
 * Read raw, without checks: the entry's own pass checks its dates. */
static void obs_day(const cJSON *o, char day[11])
{
    const cJSON *per = fx_get(o, "effectivePeriod");
    const cJSON *v = fx_get(o, "effectiveDateTime");
    if (!cJSON_IsString(v))
        v = fx_get(o, "effectiveInstant");
    if (!cJSON_IsString(v))
        v = fx_get(per, "end");
    if (!cJSON_IsString(v))
        v = fx_get(o, "issued");
    if (!cJSON_IsString(v))
        v = fx_get(per, "start");
    size_t n = cJSON_IsString(v) ? strnlen(v->valuestring, 10) : 0;
    memcpy(day, n ? v->valuestring : "", n);
    day[n] = '\0';
}

/* Both name the same encounter, or neither names one. */
static bool same_encounter(const cJSON *a, const cJSON *b)
{
    const char *ea = fx_ref_member(a, "encounter"),
               *eb = fx_ref_member(b, "encounter");
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
    s.subject = fx_get(e->res, "subject");
    if ((rc = obs_collect(x, e, &s, 0)))
        return rc;
    fx_at_entry(x, e);
    bool panel = s.instrument != NULL ||
                 fx_get(e->res, "hasMember");
    bool one_encounter = true;
    if (!panel && x->bundle && !x->batch) {
        /* loose items: the other loose screening Observations of the same
         * patient in this message join this screening */
        const char *subj = subject_ref(e->res);
        char day[11], oday[11];
        obs_day(e->res, day);
        for (size_t i = e->index + 1; i < x->n_ents && subj; i++) {
            struct fx_entry *o = &x->ents[i];
            const char *os;
            if (o->consumed || o->read || o->failed ||
                strcmp(o->type, "Observation") ||
                !(os = subject_ref(o->res)) || strcmp(os, subj) ||
                fx_get(o->res, "hasMember"))
                continue;
            /* of the same day only: an item taken weeks later is another
             * screening, not one dated by the first (F1941) */
            obs_day(o->res, oday);
            if (strcmp(day, oday) != 0 || !obs_is_screening(x, o->res))
                continue;
            struct fx_code oc;
            fx_at_entry(x, o);
            if ((rc = fx_cc(x, o->res, "code", LOINC, &oc)))
                return rc;
            if (fx_code_instrument(x, o->res))
                continue;
            if (o->seen == x->gen)
                continue;
            o->seen = x->gen;
            if ((rc = fx_labels(x, o->res)) || (rc = obs_collect(x, o, &s, 0)))
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
    /* nothing in it the dictionary knows: context, and the sender told,
     * as for a response (F3361), unless the sender files it under US
     * Core's SDOH category */
    if (in == NULL && !uscore_sdoh(e->res) && fx_unread_screening(x, e, &s))
        return HUB_OK;
    if (in == NULL && !panel && one_encounter)
        in = fx_infer_instrument(x, &s);
    return fx_screening_finish(x, e, &s, in, status, when, pstart, pend,
                               patient);
}

/*
 * fhir_res.c - Condition, Goal, CarePlan and Consent to their canonical
 * events (see fhir.h for which event each makes and schemas/bodies/ for
 * the bodies); ServiceRequest and Task, the referral, are
 * fhir_referral.c's and Procedure fhir_procedure.c's, which share the
 * small writers here (fhir_int.h).
 * Required elements and status codes are checked as FHIR R4 states them;
 * everything else is carried when present. Organizations (and a
 * PractitionerRole's organization) that a referral or care plan names and
 * the message holds are written out in the body's "organizations": who
 * asked, who performs, by name and identifier.
 */
#include "fhir/fhir_int.h"
#include "common/strset.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define ICD10CM "http://hl7.org/fhir/sid/icd-10-cm"
/* The Gravity domain code for "not further specified" (domains.json) */
#define SDOH_UNSPECIFIED "sdoh-category-unspecified"

/* ---- small writers ------------------------------------------------------------ */

/* The CodeableConcepts of array `arr` (the current path's) as an array
 * of code objects `out_key`. An item that is none refuses the resource;
 * `lenient`, it is left out with a warning. */
static int put_cc_items(struct fx *x, struct jw *w, const cJSON *arr,
                        const char *out_key, bool lenient)
{
    bool open = false;
    size_t i = 0;
    for (const cJSON *c = arr->child; c; c = c->next, i++) {
        size_t o2 = fx_idx(x, i);
        struct fx_try t = fx_try_begin(x);
        struct fx_code k;
        int rc = fx_cc_node(x, c, NULL, &k);
        if (rc && !lenient)
            return rc;
        if (rc) {
            fx_try_forgive(x, &t, "not a CodeableConcept; left out");
        } else if (!fx_code_empty(&k)) {
            jw_arr_lazy(w, out_key, &open);
            fx_jw_code(w, NULL, &k);
        }
        fx_pop(x, o2);
    }
    jw_arr_end_if(w, open);
    return HUB_OK;
}

/* An array of CodeableConcepts as an array of code objects. */
int fx_put_cc_array(struct fx *x, struct jw *w, const cJSON *o, const char *key,
                    const char *out_key)
{
    const cJSON *arr;
    size_t n;
    int rc;
    if ((rc = fx_arr(x, o, key, &arr, &n)) || n == 0)
        return rc;
    size_t old = fx_key(x, key);
    if ((rc = put_cc_items(x, w, arr, out_key, false)))
        return rc;
    fx_pop(x, old);
    return HUB_OK;
}

/* The same, for an element the hub did not read before: one that is not
 * an array of CodeableConcepts, or an item that is none, is left out with
 * a warning, not refused (as a referral's occurrence, F30). */
void fx_put_cc_array_lenient(struct fx *x, struct jw *w, const cJSON *o,
                             const char *key, const char *out_key)
{
    const cJSON *arr = fx_get(o, key);
    if (arr == NULL || cJSON_IsNull(arr))
        return;
    size_t old = fx_key(x, key);
    if (cJSON_IsArray(arr))
        (void)put_cc_items(x, w, arr, out_key, true);
    else
        fx_warn(x, NULL, "expected an array; left out");
    fx_pop(x, old);
}

void fx_put_period(struct jw *w, const char *key, const char *start,
                   const char *end)
{
    if (!start && !end)
        return;
    jw_key(w, key);
    jw_obj_begin(w);
    jw_kv_cstr(w, "start", start);
    jw_kv_cstr(w, "end", end);
    jw_obj_end(w);
}

/* ---- organizations named by a body ------------------------------------------ */

void fx_orgs_add(struct orgs *o, const char *role, const char *ref,
                 const cJSON *host)
{
    if (o && ref && o->n < ORGS_MAX) {
        o->r[o->n].role = role;
        o->r[o->n].ref = ref;
        o->r[o->n].name = NULL;
        o->r[o->n].host = host;
        o->r[o->n].ident = NULL;
        o->n++;
    }
}

/* An organization named by a Reference without a reference: by its display
 * (Michigan CIE sends a referral's performer so: "United Way of Bay County"
 * and a directory id in an extension) or by its identifier, a logical
 * reference (FHIR R4 Reference.identifier; NHS BARS addresses a referral to
 * a service so: its DoS service id and display, type HealthcareService).
 * Kept by name and identifier when the Reference does not say it is some
 * other type than an Organization or one of its HealthcareServices (a
 * Practitioner's name is no organization). */
void fx_orgs_add_logical(struct orgs *o, const char *role, const cJSON *refnode)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(refnode, "display");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(refnode, "type");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(refnode, "identifier");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(id, "value");
    bool named = cJSON_IsString(d) && d->valuestring[0] != '\0';
    bool ided = cJSON_IsObject(id) && cJSON_IsString(v) &&
                v->valuestring[0] != '\0';
    if (o == NULL || o->n >= ORGS_MAX || !(named || ided) ||
        (cJSON_IsString(t) && t->valuestring[0] &&
         strcmp(t->valuestring, "Organization") != 0 &&
         strcmp(t->valuestring, "HealthcareService") != 0))
        return;
    o->r[o->n].role = role;
    o->r[o->n].ref = NULL;
    o->r[o->n].name = named ? d->valuestring : NULL;
    o->r[o->n].host = NULL;
    o->r[o->n].ident = ided ? id : NULL;
    o->n++;
}

/* The resource a reference of `host` names: contained ("#id") or an entry
 * of the message; *type its resourceType. NULL when neither holds it. */
static const cJSON *org_target(struct fx *x, const cJSON *host,
                               const char *ref, const char **type)
{
    const cJSON *r;
    if (ref && ref[0] == '#') {
        r = fx_contained(x, host, ref, NULL);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "resourceType");
        *type = cJSON_IsString(t) ? t->valuestring : "";
        return r;
    }
    struct fx_entry *e = fx_resolve(x, ref);
    *type = e ? e->type : "";
    return e ? e->res : NULL;
}

/* "organizations": each named Organization the message holds (directly,
 * or as the organization of a named PractitionerRole), with its role in
 * the body, name, identifiers and type. Context resources are read
 * leniently: a member of the wrong type is left out, never an error. */
void fx_put_orgs(struct fx *x, struct jw *w, const struct orgs *o)
{
    const cJSON *done[ORGS_MAX];
    const char *done_role[ORGS_MAX];
    size_t nd = 0;
    bool open = false;

    for (size_t i = 0; o && i < o->n; i++) {
        const char *ref = o->r[i].ref, *via = NULL, *type;
        const cJSON *host = o->r[i].host;
        if (ref == NULL) {      /* named by display or identifier only */
            const cJSON *id = o->r[i].ident;
            jw_arr_lazy(w, "organizations", &open);
            jw_obj_begin(w);
            jw_kv_cstr(w, "role", o->r[i].role);
            jw_kv_cstr(w, "name", o->r[i].name);
            if (id) {
                jw_key(w, "identifiers");
                jw_arr_begin(w);
                jw_obj_begin(w);
                jw_kv_cstr(w, "system", fx_str_of(id, "system"));
                jw_kv_cstr(w, "value", fx_str_of(id, "value"));
                jw_obj_end(w);
                jw_arr_end(w);
            }
            jw_obj_end(w);
            continue;
        }
        const cJSON *res = org_target(x, host, ref, &type);
        if (res && strcmp(type, "PractitionerRole") == 0) {
            /* a contained role's "#org" is contained in the same host */
            struct fx_entry *re = ref[0] == '#' ? NULL : fx_resolve(x, ref);
            via = re ? fx_entry_name(x, re) : ref;
            if (re)
                host = re->res;
            ref = fx_ref_of(res, "organization");
            res = ref ? org_target(x, host, ref, &type) : NULL;
        }
        if (res == NULL || strcmp(type, "Organization") != 0)
            continue;
        bool dup = false;
        for (size_t k = 0; k < nd && !dup; k++)
            dup = done[k] == res && strcmp(done_role[k], o->r[i].role) == 0;
        if (dup)
            continue;
        done[nd] = res;
        done_role[nd++] = o->r[i].role;
        jw_arr_lazy(w, "organizations", &open);
        jw_obj_begin(w);
        jw_kv_cstr(w, "role", o->r[i].role);
        struct fx_entry *e = ref[0] == '#' ? NULL : fx_resolve(x, ref);
        jw_kv_cstr(w, "reference", e && e->id ? fx_entry_name(x, e) : ref);
        jw_kv_cstr(w, "via", via);
        jw_kv_cstr(w, "name", fx_str_of(res, "name"));
        const cJSON *ids = cJSON_GetObjectItemCaseSensitive(res, "identifier");
        bool iopen = false;
        for (const cJSON *c = cJSON_IsArray(ids) ? ids->child : NULL; c;
             c = c->next) {
            const char *v = fx_str_of(c, "value");
            if (v == NULL)
                continue;
            jw_arr_lazy(w, "identifiers", &iopen);
            jw_obj_begin(w);
            jw_kv_cstr(w, "system", fx_str_of(c, "system"));
            jw_kv_cstr(w, "value", v);
            jw_obj_end(w);
        }
        jw_arr_end_if(w, iopen);
        /* Organization.type: "cg" (community group) marks a CBO */
        const cJSON *types = cJSON_GetObjectItemCaseSensitive(res, "type");
        const cJSON *t0 = cJSON_IsArray(types) ? types->child : NULL;
        const cJSON *cd = cJSON_GetObjectItemCaseSensitive(t0, "coding");
        const cJSON *k0 = cJSON_IsArray(cd) ? cd->child : NULL;
        jw_kv_cstr(w, "type", fx_str_of(k0, "code"));
        jw_obj_end(w);
    }
    jw_arr_end_if(w, open);
}

/* ---- Condition ------------------------------------------------------------------ */

const char *fx_coding_domain(struct fx *x, const cJSON *k, unsigned systems)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(k, "system");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(k, "code");
    if (!cJSON_IsString(s) || !cJSON_IsString(c))
        return NULL;
    struct slice cs = slice_from_cstr(c->valuestring);
    struct slice ss = slice_from_cstr(s->valuestring);
    if ((systems & FX_DOM_SNOMED) && dict_is_snomed(ss))
        return dict_snomed_domain(x->d, cs);
    if ((systems & FX_DOM_ICD10) && dict_is_icd10(ss))
        return dict_icd10_domain(x->d, cs);
    return NULL;
}

/* The domain CodeableConcept `cc`'s codes name: an ICD-10 Z code of
 * zcodes.json in any coding first, else a SNOMED CT finding of
 * snomed-domains.json; NULL else */
static const char *cc_code_domain(struct fx *x, const cJSON *cc)
{
    static const unsigned passes[] = { FX_DOM_ICD10, FX_DOM_SNOMED };
    const cJSON *codings = cJSON_GetObjectItemCaseSensitive(cc, "coding");
    for (size_t p = 0; p < sizeof(passes) / sizeof(passes[0]); p++)
        for (const cJSON *k = cJSON_IsArray(codings) ? codings->child : NULL;
             k; k = k->next) {
            const char *dom = fx_coding_domain(x, k, passes[p]);
            if (dom)
                return dom;
        }
    return NULL;
}

bool fx_domain_settled(const char *dom)
{
    return dom && strcmp(dom, SDOH_UNSPECIFIED) != 0;
}

const char *fx_domain_after(const char *dom, const char *next)
{
    return fx_domain_settled(dom) || next == NULL ? dom : next;
}

int fx_category_domain(struct fx *x, const cJSON *o, const char *key,
                       const char **dom)
{
    /* the first named domain, wherever the catch-all stands among them
     * (two slots hold it: the catch-all is kept once; F2062) */
    const char *doms[2];
    size_t n;
    int rc = fx_domains_of(x, o, key, doms, 2, &n);
    *dom = NULL;
    if (rc)
        return rc;
    for (size_t k = 0; k < n; k++)
        *dom = fx_domain_after(*dom, doms[k]);
    return HUB_OK;
}

/* The domain of a Condition: its SDOH category, else an ICD-10 code
 * (zcodes.json; ICD-10-CM, or WHO ICD-10 and the OIDs by any name
 * dict_is_icd10 knows, as HL7 v2 DG1 and the labels read them: F3082),
 * else a SNOMED CT finding (snomed-domains.json): US Core's
 * SDOH problem example sends 445281000124101 alone, with the us-core
 * `sdoh` category and no Gravity one. The Z code goes first, as before
 * SNOMED CT was read, so a Condition coded in both keeps its domain.
 * The category `sdoh-category-unspecified` is the SDOHCC IG's "no
 * domain of the value set fits" (Observation.category guidance), so a
 * code the dictionary files under a domain names it: a Z59.86 so sent
 * is financial insecurity. */
int fx_condition_domain(struct fx *x, const cJSON *o, const char **dom)
{
    int rc = fx_category_domain(x, o, "category", dom);
    if (rc == HUB_OK && !fx_domain_settled(*dom))
        *dom = fx_domain_after(
            *dom, cc_code_domain(x, cJSON_GetObjectItemCaseSensitive(o, "code")));
    return rc;
}

const char *fx_reason_code_domain(struct fx *x, const cJSON *o)
{
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "reasonCode");
    for (const cJSON *k = cJSON_IsArray(r) ? r->child : NULL; k;
         k = k->next) {
        const char *dom = cc_code_domain(x, k);
        if (dom)
            return dom;
    }
    return NULL;
}

/* The Condition a reasonReference entry k of `o` names, contained or in
 * the message, or NULL: never one the response refuses, whether its turn
 * came before the referral's or comes after (F2065) */
static const cJSON *reason_condition_named(struct fx *x, const cJSON *o,
                                           const cJSON *k)
{
    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(k, "reference");
    if (!cJSON_IsString(ref))
        return NULL;
    const cJSON *c = fx_contained(x, o, ref->valuestring, NULL);
    if (c == NULL) {
        struct fx_entry *e = fx_resolve_settled(x, ref->valuestring);
        return e && e->type && strcmp(e->type, "Condition") == 0 ? e->res
                                                                 : NULL;
    }
    const cJSON *t = fx_get(c, "resourceType");
    return cJSON_IsString(t) && strcmp(t->valuestring, "Condition") == 0
               ? c : NULL;
}

/* Whether Condition `c` is of `o`'s own patient: another patient's
 * diagnosis, domain or labels must not reach this patient's event
 * (F2621) */
static bool of_its_patient(struct fx *x, const cJSON *o, const cJSON *c)
{
    return fx_same_patient(x, fx_get(o, "subject"), fx_get(c, "subject"));
}

/* That Condition when it is of `o`'s own patient, else NULL */
static const cJSON *reason_condition(struct fx *x, const cJSON *o,
                                     const cJSON *k)
{
    const cJSON *c = reason_condition_named(x, o, k);
    return c && of_its_patient(x, o, c) ? c : NULL;
}

#define CONDITION_VER_STATUS \
    "http://terminology.hl7.org/CodeSystem/condition-ver-status"
#define FX_WITHDRAWN_REASON "reason refuted or entered in error " \
                            "(verificationStatus): no domain taken from it"

bool fx_condition_withdrawn(const cJSON *c)
{
    const cJSON *cd = fx_get(fx_get(c, "verificationStatus"), "coding");
    for (const cJSON *k = cJSON_IsArray(cd) ? cd->child : NULL; k;
         k = k->next) {
        const char *s = fx_str_of(k, "system"), *v = fx_str_of(k, "code");
        if (v && (s == NULL || strcmp(s, CONDITION_VER_STATUS) == 0) &&
            (strcmp(v, "refuted") == 0 ||
             strcmp(v, "entered-in-error") == 0))
            return true;
    }
    return false;
}

void fx_warn_reasons_left_out(struct fx *x, const cJSON *o)
{
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "reasonReference");
    size_t i = 0;
    for (const cJSON *k = cJSON_IsArray(r) ? r->child : NULL; k;
         k = k->next, i++) {
        const cJSON *c = reason_condition_named(x, o, k);
        const char *why = c == NULL ? NULL
                          : !of_its_patient(x, o, c)
                              ? "reason names another patient than the "
                                "request: nothing taken from it"
                          : fx_condition_withdrawn(c)
                              ? FX_WITHDRAWN_REASON
                              : NULL;
        if (why) {
            size_t old = fx_key(x, "reasonReference");
            fx_idx(x, i);
            fx_warn(x, NULL, why);
            fx_pop(x, old);
        }
    }
}

/* The domain of reason Condition `c`, or NULL; one whose category or
 * (with no domain from it) code cannot be read gives none, warned at the
 * current path when `warn`: one contained in the request has no pass of
 * its own to report it, and the request then reaches no subscription
 * filtered on that domain (F4101) */
static const char *reason_domain(struct fx *x, const cJSON *c, bool warn)
{
    struct fx_try t = fx_try_begin(x);
    const char *dom = NULL;
    struct fx_code k;
    bool no_cat = fx_condition_domain(x, c, &dom) != HUB_OK;
    bool no_code = !no_cat && dom == NULL && fx_cc(x, c, "code", NULL, &k);
    fx_try_forgive(x, &t,
                   !warn     ? NULL
                   : no_cat  ? "reason Condition whose category cannot be "
                               "read: no domain taken from it"
                   : no_code ? "reason Condition whose code is not a "
                               "CodeableConcept: no domain taken from it"
                             : NULL);
    return no_cat ? NULL : dom;
}

const char *fx_reason_domain(struct fx *x, const cJSON *o, bool warn)
{
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "reasonReference");
    const char *dom = NULL;
    size_t old = fx_key(x, "reasonReference");
    size_t i = 0;
    for (const cJSON *k = cJSON_IsArray(r) ? r->child : NULL; k && !dom;
         k = k->next, i++) {
        const cJSON *c = reason_condition(x, o, k);
        /* one refuted or entered in error is no need (F3306) */
        if (c == NULL || fx_condition_withdrawn(c))
            continue;
        size_t o2 = fx_idx(x, i);
        dom = reason_domain(x, c, warn);
        fx_pop(x, o2);
    }
    fx_pop(x, old);
    return dom;
}

/* The domain snomed-domains.json gives the first SNOMED CT coding of
 * `o`.code it names, or NULL: a ServiceRequest for an SDOH intervention
 * (467771000124109 "Assistance with application for food pantry
 * program") whose categories name no Gravity domain, as US Core's
 * food pantry referral sends it (category `sdoh` only). */
const char *fx_code_snomed_domain(struct fx *x, const cJSON *o)
{
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(o, "code");
    const cJSON *codings = cJSON_GetObjectItemCaseSensitive(code, "coding");
    for (const cJSON *k = cJSON_IsArray(codings) ? codings->child : NULL; k;
         k = k->next) {
        const char *dom = fx_coding_domain(x, k, FX_DOM_SNOMED);
        if (dom)
            return dom;
    }
    return NULL;
}

/* The labels a diagnosis or a procedure implies, by each coding
 * (dict_code_sensitivity): ICD-10-CM by range (F10-F19 -> sud), ICD-9-CM
 * 291-292 and 303-305 (sud, F39) and its psychiatric codes (psy, F153),
 * SNOMED CT by the concept tables of the
 * dictionary (security-labels-*: substance use disorders and their
 * treatments -> sud, psychiatric disorders -> psy). */
static void cc_labels(struct fx *x, const cJSON *cc)
{
    const cJSON *codings = cJSON_GetObjectItemCaseSensitive(cc, "coding");
    for (const cJSON *k = cJSON_IsArray(codings) ? codings->child : NULL; k;
         k = k->next) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(k, "system");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(k, "code");
        if (!cJSON_IsString(s) || !cJSON_IsString(c))
            continue;
        fx_label_add(x, dict_code_sensitivity(
                            x->d, slice_from_cstr(s->valuestring),
                            slice_from_cstr(c->valuestring)));
    }
}

void fx_code_labels(struct fx *x, const cJSON *o)
{
    cc_labels(x, cJSON_GetObjectItemCaseSensitive(o, "code"));
}

void fx_cc_labels(struct fx *x, const cJSON *cc)
{
    cc_labels(x, cc);
}

const char *fx_cc_domain(struct fx *x, const cJSON *cc)
{
    return cc_code_domain(x, cc);
}

/* The labels of each reasonCode (0..* CodeableConcept): the event carries
 * them as "reason", so a request for a diagnosis discloses it as the
 * Condition would */
void fx_reason_labels(struct fx *x, const cJSON *o)
{
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "reasonCode");
    for (const cJSON *k = cJSON_IsArray(r) ? r->child : NULL; k; k = k->next)
        cc_labels(x, k);
    /* and those of each Condition a reasonReference names in the message:
     * a referral for a depression the message codes F32.1 discloses it as
     * the Condition's labelled event would (F2004) */
    r = cJSON_GetObjectItemCaseSensitive(o, "reasonReference");
    struct fx_try t = fx_try_begin(x);
    for (const cJSON *k = cJSON_IsArray(r) ? r->child : NULL; k; k = k->next) {
        const cJSON *c = reason_condition(x, o, k);
        if (c)
            cc_labels(x, cJSON_GetObjectItemCaseSensitive(c, "code"));
    }
    fx_try_forgive(x, &t, NULL);
}

#define SDOHCC_ASSERTER_EXT "http://hl7.org/fhir/us/sdoh-clinicalcare/" \
                            "StructureDefinition/SDOHCC-ExtensionConditionAsserter"

/* A Condition without asserter: the SDOHCC Extension Condition Asserter
 * names it instead when it is a Device ("the software device that uses
 * the answers to HVS questions 1 and 2 to derive the answer to HVS
 * question 3"), which R4's Condition.asserter cannot reference (F69). */
static int asserter_ext(struct fx *x, struct jw *w, const cJSON *o)
{
    const cJSON *exts;
    size_t n;
    int rc;
    if ((rc = fx_arr(x, o, "extension", &exts, &n)) || n == 0)
        return rc;
    size_t old = fx_key(x, "extension");
    size_t i = 0;
    for (const cJSON *c = exts->child; c; c = c->next, i++) {
        const cJSON *url = fx_get(c, "url");
        if (!cJSON_IsString(url) ||
            strcmp(url->valuestring, SDOHCC_ASSERTER_EXT) != 0)
            continue;
        size_t o2 = fx_idx(x, i);
        const char *r = NULL;
        if ((rc = fx_ref(x, c, "valueReference", false, &r)))
            return rc;
        fx_pop(x, o2);
        if (r) {
            jw_kv_cstr(w, "asserter", fx_ref_name(x, r));
            break;
        }
    }
    fx_pop(x, old);
    return HUB_OK;
}

#define ASSERTED_DATE_EXT "http://hl7.org/fhir/StructureDefinition/" \
                          "condition-assertedDate"

/*
 * A Condition's condition-assertedDate extension (FHIR R4 core, "the date
 * on which the existence of the Condition was first asserted or
 * acknowledged"; US Core's date of diagnosis): its valueDateTime, or NULL.
 * One that is no ISO 8601 date is left out with a warning, never the
 * Condition: an extension the hub reads for a time only.
 */
static const char *asserted_date(struct fx *x, const cJSON *o)
{
    const cJSON *exts = fx_get(o, "extension");
    size_t i = 0;
    for (const cJSON *c = cJSON_IsArray(exts) ? exts->child : NULL; c;
         c = c->next, i++) {
        const cJSON *url = fx_get(c, "url"), *v = fx_get(c, "valueDateTime");
        if (!cJSON_IsString(url) ||
            strcmp(url->valuestring, ASSERTED_DATE_EXT) != 0 ||
            !cJSON_IsString(v))
            continue;
        if (fx_iso_ok(v->valuestring))
            return v->valuestring;
        size_t old = fx_key(x, "extension");
        fx_idx(x, i);
        fx_warn(x, "valueDateTime", "asserted date is not ISO 8601; left out");
        fx_pop(x, old);
        return NULL;
    }
    return NULL;
}

/*
 * The system a Condition's code is written in when it has codings of
 * several: ICD-10-CM (its Z codes name SDOH domains), else SNOMED CT
 * (by any of its names), else another ICD-10 (WHO's, the German GM),
 * else the first coding's. FHIR gives the order of codings no meaning, so
 * an ICD-10 and a SNOMED CT coding of one problem (the IPS), or an
 * ICD-10-GM, Alpha-ID and Orphanet coding (MII), must give the same code
 * whichever comes first. The coding's own system string is returned, for
 * fx_cc's exact match.
 */
const char *fx_cc_best_system(const cJSON *cc)
{
    const cJSON *codings = cJSON_GetObjectItemCaseSensitive(cc, "coding");
    const char *best = NULL;
    int best_rank = 3;
    for (const cJSON *c = cJSON_IsArray(codings) ? codings->child : NULL; c;
         c = c->next) {
        const char *sys = cJSON_GetStringValue(fx_get(c, "system"));
        if (!sys || !(cJSON_GetStringValue(fx_get(c, "code")) ||
                      cJSON_GetStringValue(fx_get(c, "display"))))
            continue;
        struct slice ss = slice_from_cstr(sys);
        int rank = strcmp(sys, ICD10CM) == 0 ? 0
                   : dict_is_snomed(ss)      ? 1
                   : dict_is_icd10(ss)       ? 2
                                             : 3;
        if (rank < best_rank) {
            best = sys;
            best_rank = rank;
        }
    }
    return best;
}

static const char *condition_code_system(const cJSON *o)
{
    return fx_cc_best_system(cJSON_GetObjectItemCaseSensitive(o, "code"));
}

int fx_condition(struct fx *x, struct fx_entry *e)
{
    const cJSON *o = e->res;
    struct slice patient, body;
    struct jw w;
    struct fx_code cat, clin, ver;
    const char *dom, *recorded, *onset, *ostart, *oend, *abate, *astart, *aend;
    int rc;
    if ((rc = fx_prologue(x, e, "subject", &patient)) ||
        (rc = fx_condition_domain(x, o, &dom)))
        return rc;
    fx_code_labels(x, o);
    fx_begin_body(x, &w, e);
    if ((rc = fx_put_cc(x, &w, o, "code", "code", condition_code_system(o),
                     NULL)))
        return rc;
    /* all codings, for receivers that want SNOMED and ICD-10 both */
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(o, "code");
    const cJSON *codings = cJSON_GetObjectItemCaseSensitive(code, "coding");
    if (cJSON_GetArraySize(codings) > 1) {
        jw_key(&w, "codes");
        jw_arr_begin(&w);
        for (const cJSON *k = codings->child; k; k = k->next) {
            struct fx_code c = { 0 };
            const cJSON *v;
            if ((v = cJSON_GetObjectItemCaseSensitive(k, "code")) && cJSON_IsString(v))
                c.code = v->valuestring;
            if ((v = cJSON_GetObjectItemCaseSensitive(k, "system")) && cJSON_IsString(v))
                c.system = v->valuestring;
            if ((v = cJSON_GetObjectItemCaseSensitive(k, "display")) && cJSON_IsString(v))
                c.display = v->valuestring;
            fx_jw_code(&w, NULL, &c);
        }
        jw_arr_end(&w);
    }
    jw_kv_cstr(&w, "domain", dom);
    /* the category kind: health-concern, problem-list-item, ... */
    const cJSON *cats = cJSON_GetObjectItemCaseSensitive(o, "category");
    memset(&cat, 0, sizeof(cat));
    for (const cJSON *c = cJSON_IsArray(cats) ? cats->child : NULL; c; c = c->next) {
        const cJSON *cd = cJSON_GetObjectItemCaseSensitive(c, "coding");
        for (const cJSON *k = cJSON_IsArray(cd) ? cd->child : NULL; k; k = k->next) {
            const cJSON *s = cJSON_GetObjectItemCaseSensitive(k, "system");
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(k, "code");
            if (cJSON_IsString(s) && cJSON_IsString(v) && !cat.code &&
                strstr(s->valuestring, "condition-category"))
                cat.code = v->valuestring;
        }
    }
    jw_kv_cstr(&w, "category", cat.code);
    if ((rc = fx_put_cc_array(x, &w, o, "category", "categories")) ||
        (rc = fx_cc(x, o, "clinicalStatus", NULL, &clin)) ||
        (rc = fx_cc(x, o, "verificationStatus", NULL, &ver)))
        return rc;
    jw_kv_cstr(&w, "clinical_status", clin.code);
    jw_kv_cstr(&w, "verification_status", ver.code);
    if ((rc = fx_date(x, o, "onsetDateTime", &onset)) ||
        (rc = fx_period_start(x, o, "onsetPeriod", &ostart, &oend)) ||
        (rc = fx_date(x, o, "abatementDateTime", &abate)) ||
        (rc = fx_period_start(x, o, "abatementPeriod", &astart, &aend)) ||
        (rc = fx_put_date(x, &w, o, "recordedDate", "recorded_at", &recorded)))
        return rc;
    jw_kv_cstr(&w, "onset", onset ? onset : ostart);
    jw_kv_cstr(&w, "abatement", abate ? abate : astart);
    if ((rc = cJSON_GetObjectItemCaseSensitive(o, "asserter")
                  ? fx_put_name(x, &w, o, "asserter", "asserter", NULL)
                  : asserter_ext(x, &w, o)) ||
        (rc = fx_put_name(x, &w, o, "recorder", "recorder", NULL)))
        return rc;
    /* evidence[].detail[] references, flattened */
    const cJSON *ev;
    size_t nev;
    if ((rc = fx_arr(x, o, "evidence", &ev, &nev)))
        return rc;
    bool open = false;
    size_t i = 0;
    for (const cJSON *c = ev ? ev->child : NULL; c; c = c->next, i++) {
        size_t old = fx_key(x, "evidence");
        fx_idx(x, i);
        const cJSON *det;
        size_t nd;
        if (!cJSON_IsObject(c))
            return fx_fail(x, HUB_EINVALID, "expected an evidence object");
        if ((rc = fx_arr(x, c, "detail", &det, &nd)))
            return rc;
        size_t j = 0;
        for (const cJSON *d = det ? det->child : NULL; d; d = d->next, j++) {
            size_t o2 = fx_key(x, "detail");
            fx_idx(x, j);
            const char *r;
            if ((rc = fx_name_node(x, d, &r)))
                return rc;
            if (r) {
                jw_arr_lazy(&w, "evidence", &open);
                jw_cstr(&w, fx_name_of(x, r));
            }
            fx_pop(x, o2);
        }
        fx_pop(x, old);
    }
    jw_arr_end_if(&w, open);
    if ((rc = fx_end_body(x, &w, &body)))
        return rc;
    /* when it was recorded, else first asserted (a US Core Condition may
     * send only the extension: F280), else its onset */
    const char *asserted = recorded ? NULL : asserted_date(x, o);
    return fx_emit(x, e, "condition.recorded",
                   recorded ? recorded : asserted ? asserted
                   : onset ? onset : ostart, patient, "condition", body);
}

/* ---- Quantity (a Goal's target, a ServiceRequest's quantity) ------------- */

/* Whether `q` has a Quantity's shape: an object whose value, if any, is a
 * finite number of at most 1e12, and whose first `n` quantity_keys, where
 * present, are strings; their non-empty values go to txt[0..n-1] (else
 * NULL). */
bool fx_quantity_read(const cJSON *q, size_t n, const char **txt)
{
    const cJSON *v = fx_get(q, "value");
    bool ok = cJSON_IsObject(q) &&
              (v == NULL || (cJSON_IsNumber(v) && isfinite(v->valuedouble) &&
                             fabs(v->valuedouble) <= 1e12));
    for (size_t i = 0; i < n; i++)
        txt[i] = NULL;
    for (size_t i = 0; ok && i < n; i++) {
        const cJSON *t = fx_get(q, quantity_keys[i]);
        if (t && !(cJSON_IsString(t) && t->valuestring))
            ok = false;
        else if (t && t->valuestring[0])
            txt[i] = t->valuestring;
    }
    return ok;
}

/* ---- Goal --------------------------------------------------------------------------- */

#define UCUM "http://unitsofmeasure.org"

/* Quantity `q` (the current path's `key`) as C-CDA writes a PQ target:
 * "[op ]value[ unit]" in `out` ("92 %", "< 7 %", ">= 98.6 [degF]"), its
 * comparator for `op` when `op` is NULL; *whole set when the value is a
 * whole number with no comparator. The unit is the UCUM code, as C-CDA's
 * PQ unit is, else the unit as written, else the code. False when there is
 * no value. One that is not a FHIR Quantity (nor, where `op` is given, a
 * SimpleQuantity: no comparator) is left out with a warning: the hub read
 * no unit of a target before F99, and a sender's slip there must not now
 * cost the goal. */
static bool target_quantity(struct fx *x, const cJSON *q, const char *key,
                            const char *op, char *out, size_t cap,
                            bool *has_whole, int64_t *whole)
{
    const char *txt[4];
    if (q == NULL || cJSON_IsNull(q))
        return false;
    const cJSON *v = fx_get(q, "value");
    bool ok = fx_quantity_read(q, 4, txt);
    const char *c = txt[3];     /* FHIR R4 QuantityComparator */
    if (ok && c)
        ok = op == NULL && (strcmp(c, "<") == 0 || strcmp(c, "<=") == 0 ||
                            strcmp(c, ">=") == 0 || strcmp(c, ">") == 0);
    if (!ok) {
        size_t old = fx_key(x, key);
        fx_warn(x, NULL, "quantity is not a FHIR Quantity; left out");
        fx_pop(x, old);
        return false;
    }
    if (v == NULL)
        return false;
    const char *unit = txt[1] && txt[2] && strcmp(txt[1], UCUM) == 0 ? txt[2]
                       : txt[0]                                       ? txt[0]
                                                                      : txt[2];
    double d = v->valuedouble;
    if (has_whole && c == NULL && d == floor(d)) {
        *has_whole = true;
        *whole = (int64_t)d;
    }
    int m = snprintf(out, cap, "%s%s%.15g%s%.60s", op ? op : c ? c : "",
                     c ? " " : "", d, unit ? " " : "", unit ? unit : "");
    return m > 0 && (size_t)m < cap;
}

/* F99: a target's detailQuantity and detailRange as C-CDA writes a PQ and
 * an IVL_PQ (F95): the quantity with its unit in `text`, a range with both
 * its ends (">= 98.6 [degF], <= 100.4 [degF]"), and the number for
 * detail_value only where it stands alone (a whole number, no
 * comparator). Before, a range was not read, and a quantity kept only its
 * number, cut to an integer, without its unit or comparator ("< 7 %" was
 * 7). False when there is no quantity. */
static bool target_text(struct fx *x, const cJSON *t, char *text, size_t cap,
                        bool *has_whole, int64_t *whole)
{
    const cJSON *q = fx_get(t, "detailQuantity");
    const cJSON *r = fx_get(t, "detailRange");
    char lo[128], hi[128];

    if (q)
        return target_quantity(x, q, "detailQuantity", NULL, text, cap,
                               has_whole, whole);
    if (r == NULL || cJSON_IsNull(r))
        return false;
    if (!cJSON_IsObject(r)) {
        fx_warn(x, "detailRange", "expected an object; left out");
        return false;
    }
    size_t old = fx_key(x, "detailRange");
    bool l = target_quantity(x, fx_get(r, "low"), "low", ">= ", lo,
                             sizeof(lo), NULL, NULL);
    bool h = target_quantity(x, fx_get(r, "high"), "high", "<= ", hi,
                             sizeof(hi), NULL, NULL);
    fx_pop(x, old);
    int m = snprintf(text, cap, "%s%s%s", l ? lo : "", l && h ? ", " : "",
                     h ? hi : "");
    return (l || h) && m > 0 && (size_t)m < cap;
}

/* One Goal.target into "targets"; nothing when it holds nothing the hub
 * reads (detailRatio, detailBoolean): never {}, the schema's
 * minProperties. */
static int put_target(struct fx *x, struct jw *w, const cJSON *t, bool *open)
{
    struct fx_code measure, detail;
    const char *due, *dstr;
    char text[260];
    bool has_whole = false;
    int64_t whole = 0;
    int rc;
    if (!cJSON_IsObject(t))
        return fx_fail(x, HUB_EINVALID, "expected a target object");
    if ((rc = fx_cc(x, t, "measure", NULL, &measure)) ||
        (rc = fx_cc(x, t, "detailCodeableConcept", NULL, &detail)) ||
        (rc = fx_str(x, t, "detailString", false, &dstr)) ||
        (rc = fx_date(x, t, "dueDate", &due)))
        return rc;
    const cJSON *iv = fx_get(t, "detailInteger");
    if (cJSON_IsNumber(iv)) {
        has_whole = true;
        whole = (int64_t)iv->valuedouble;
    }
    if (dstr == NULL && target_text(x, t, text, sizeof(text), &has_whole,
                                    &whole))
        dstr = text;
    if (fx_code_empty(&measure) && fx_code_empty(&detail) && !dstr &&
        !due && !has_whole)
        return HUB_OK;
    jw_arr_lazy(w, "targets", open);
    jw_obj_begin(w);
    fx_jw_code(w, "measure", &measure);
    fx_jw_code(w, "detail", &detail);
    if (has_whole) {
        jw_key(w, "detail_value");
        jw_int(w, whole);
    }
    jw_kv_cstr(w, "detail_text", dstr);
    jw_kv_cstr(w, "due", due);
    jw_obj_end(w);
    return HUB_OK;
}

int fx_goal(struct fx *x, struct fx_entry *e)
{
    static const char *const life[] = { "proposed", "planned", "accepted",
        "active", "on-hold", "completed", "cancelled", "entered-in-error",
        "rejected", NULL };
    const cJSON *o = e->res;
    struct slice patient, body;
    struct jw w;
    const char *ls, *dom, *start, *sdate;
    struct fx_code ach, desc;
    int rc;
    if ((rc = fx_enum(x, o, "lifecycleStatus", true, life, &ls)) ||
        (rc = fx_prologue(x, e, "subject", &patient)) ||
        (rc = fx_domain_of(x, o, "category", &dom)))
        return rc;
    fx_begin_body(x, &w, e);
    jw_kv_cstr(&w, "lifecycle_status", ls);
    if ((rc = fx_cc(x, o, "achievementStatus", NULL, &ach)))
        return rc;
    jw_kv_cstr(&w, "achievement_status", ach.code);
    if ((rc = fx_put_cc(x, &w, o, "description", "description", NULL, &desc)))
        return rc;
    if (fx_code_empty(&desc)) {
        fx_key(x, "description");
        return fx_fail(x, HUB_EINVALID, "required element is missing");
    }
    jw_kv_cstr(&w, "domain", dom);
    if ((rc = fx_put_cc_array(x, &w, o, "category", "categories")) ||
        (rc = fx_put_date(x, &w, o, "startDate", "start", &start)) ||
        (rc = fx_put_date(x, &w, o, "statusDate", "status_date", &sdate)) ||
        (rc = fx_put_name(x, &w, o, "expressedBy", "expressed_by", NULL)) ||
        (rc = fx_put_names(x, &w, o, "addresses", "addresses")))
        return rc;
    const cJSON *tg;
    size_t nt;
    if ((rc = fx_arr(x, o, "target", &tg, &nt)))
        return rc;
    if (nt) {
        size_t old = fx_key(x, "target");
        bool open = false;
        size_t i = 0;
        for (const cJSON *t = tg->child; t; t = t->next, i++) {
            size_t o2 = fx_idx(x, i);
            if ((rc = put_target(x, &w, t, &open)))
                return rc;
            fx_pop(x, o2);
        }
        jw_arr_end_if(&w, open);
        fx_pop(x, old);
    }
    if ((rc = fx_end_body(x, &w, &body)))
        return rc;
    return fx_emit(x, e, "goal.updated", sdate ? sdate : start, patient,
                   "goal", body);
}

/* ---- CarePlan ----------------------------------------------------------------------- */

/* Whether activity detail `det` (the path at its activity) says the
 * activity is NOT to be done: R4 CarePlan.activity.detail.doNotPerform is
 * a modifier, "the described activity is one that must NOT be engaged
 * in". Such an activity is no activity of the plan, as C-CDA's negated
 * planned entry is none (F822, F2322): left out, with a warning at the
 * field; a value that is not a boolean is refused there (as
 * ServiceRequest.doNotPerform, F2320). */
static int activity_not_done(struct fx *x, const cJSON *det, bool *not_done)
{
    int dnp = -1, rc = HUB_OK;
    *not_done = false;
    if (det == NULL)
        return HUB_OK;
    size_t old = fx_key(x, "detail");
    if ((rc = fx_bool(x, det, "doNotPerform", &dnp)))
        return rc;
    if (dnp == 1) {
        *not_done = true;
        fx_warn(x, "doNotPerform", "activity not to be performed "
                                   "(doNotPerform) is no activity of the "
                                   "plan; left out");
    }
    fx_pop(x, old);
    return HUB_OK;
}

/* One CarePlan.activity into "activities" (the path at the activity).
 * Read whole before a byte is written: an activity of which the hub reads
 * nothing (a reference with a display alone, a detail of kind or schedule
 * only, progress notes, outcomes) is left out with a warning, as C-CDA's
 * planned entry that says nothing is (F2341), never written {} (the
 * schema's minProperties: F2540). */
static int put_activity(struct fx *x, struct jw *w, const cJSON *a,
                        bool *open)
{
    const cJSON *det;
    const char *ref, *dst = NULL, *ddesc = NULL, *ddom = NULL;
    struct fx_code dcode = { 0 };
    bool not_done;
    int rc;
    if (!cJSON_IsObject(a))
        return fx_fail(x, HUB_EINVALID, "expected an activity object");
    if ((rc = fx_name_ref(x, a, "reference", &ref)) ||
        (rc = fx_obj(x, a, "detail", false, &det)) ||
        (rc = activity_not_done(x, det, &not_done)))
        return rc;
    if (not_done)
        return HUB_OK;
    if (det) {
        size_t old = fx_key(x, "detail");
        if ((rc = fx_cc(x, det, "code", NULL, &dcode)) ||
            (rc = fx_str(x, det, "status", false, &dst)) ||
            (rc = fx_str(x, det, "description", false, &ddesc)) ||
            (rc = fx_category_domain(x, det, "reasonCode", &ddom)))
            return rc;
        /* a Gravity code first, else a Z code or finding (F3083); the
         * catch-all last (F3226) */
        if (!fx_domain_settled(ddom))
            ddom = fx_domain_after(ddom, fx_reason_code_domain(x, det));
        /* a planned SUD treatment is told in the event (F189) */
        fx_code_labels(x, det);
        fx_pop(x, old);
    }
    /* a status alone says nothing (F2542): R4 requires detail.status,
     * and C-CDA's planned entry of a statusCode alone is none (F2341) */
    if (!ref && fx_code_empty(&dcode) && !ddesc && !ddom) {
        fx_warn(x, NULL, "activity says nothing the hub reads (no "
                         "reference, code or description): not an "
                         "activity");
        return HUB_OK;
    }
    jw_arr_lazy(w, "activities", open);
    jw_obj_begin(w);
    jw_kv_cstr(w, "reference", fx_name_of(x, ref));
    fx_jw_code(w, "code", &dcode);
    jw_kv_cstr(w, "status", dst);
    jw_kv_cstr(w, "description", ddesc);
    jw_kv_cstr(w, "domain", ddom);
    jw_obj_end(w);
    return HUB_OK;
}

int fx_careplan(struct fx *x, struct fx_entry *e)
{
    static const char *const intents[] = { "proposal", "plan", "order",
        "option", NULL };
    const cJSON *o = e->res;
    struct slice patient, body;
    struct jw w;
    struct orgs orgs = { .n = 0 };
    const char *author;
    const char *st, *intent, *title, *desc, *created, *pstart, *pend, *dom;
    int rc;
    if ((rc = fx_enum(x, o, "status", true, REQUEST_STATUS, &st)) ||
        (rc = fx_enum(x, o, "intent", true, intents, &intent)) ||
        (rc = fx_prologue(x, e, "subject", &patient)) ||
        (rc = fx_domain_of(x, o, "category", &dom)))
        return rc;
    fx_begin_body(x, &w, e);
    jw_kv_cstr(&w, "status", st);
    jw_kv_cstr(&w, "intent", intent);
    if ((rc = fx_str(x, o, "title", false, &title)) ||
        (rc = fx_str(x, o, "description", false, &desc)))
        return rc;
    jw_kv_cstr(&w, "title", title);
    jw_kv_cstr(&w, "description", desc);
    if ((rc = fx_put_cc_array(x, &w, o, "category", "categories")))
        return rc;
    if (dom) {
        jw_key(&w, "domains");
        jw_arr_begin(&w);
        jw_cstr(&w, dom);
        jw_arr_end(&w);
    }
    if ((rc = fx_period_start(x, o, "period", &pstart, &pend)))
        return rc;
    fx_put_period(&w, "period", pstart, pend);
    if ((rc = fx_put_date(x, &w, o, "created", "created", &created)) ||
        (rc = fx_put_name(x, &w, o, "author", "author", &author)) ||
        (rc = fx_put_names(x, &w, o, "contributor", "contributors")) ||
        (rc = fx_put_names(x, &w, o, "careTeam", "care_team")) ||
        (rc = fx_put_names(x, &w, o, "addresses", "addresses")) ||
        (rc = fx_put_names(x, &w, o, "goal", "goals")))
        return rc;
    const cJSON *acts;
    size_t na;
    if ((rc = fx_arr(x, o, "activity", &acts, &na)))
        return rc;
    if (na) {
        size_t old = fx_key(x, "activity");
        bool open = false;
        size_t i = 0;
        for (const cJSON *a = acts->child; a; a = a->next, i++) {
            size_t o2 = fx_idx(x, i);
            if ((rc = put_activity(x, &w, a, &open)))
                return rc;
            fx_pop(x, o2);
        }
        jw_arr_end_if(&w, open);
        fx_pop(x, old);
    }
    fx_orgs_add(&orgs, "author", author, o);
    fx_put_orgs(x, &w, &orgs);
    if ((rc = fx_end_body(x, &w, &body)))
        return rc;
    return fx_emit(x, e, "careplan.updated", created ? created : pstart,
                   patient, "careplan", body);
}

/* ---- Consent -------------------------------------------------------------------------- */

/* A Reference that a consent check must be able to match (an actor, a
 * data item): "reference" as "Type/id" when literal, and/or "identifier"
 * {system, value} when logical (FHIR R4 Reference.identifier: Da Vinci
 * HRex names the payers of a payer-to-payer consent by NPI alone), and
 * its "type" when sent. One with neither is refused: a permit whose
 * grantee is unknown cannot be honoured, and dropping it would widen it
 * to everyone. */
static int put_consent_ref(struct fx *x, struct jw *w, const cJSON *o,
                           const char *key)
{
    const cJSON *ref, *id = NULL;
    const char *r, *type, *sys = NULL, *val = NULL;
    int rc;
    if ((rc = fx_obj(x, o, key, true, &ref)) ||
        (rc = fx_ref(x, o, key, false, &r)))
        return rc;
    size_t old = fx_key(x, key);
    if ((rc = fx_str(x, ref, "type", false, &type)) ||
        (rc = fx_obj(x, ref, "identifier", false, &id)))
        return rc;
    if (id) {
        size_t o2 = fx_key(x, "identifier");
        if ((rc = fx_str(x, id, "system", false, &sys)) ||
            (rc = fx_str(x, id, "value", false, &val)))
            return rc;
        fx_pop(x, o2);
    }
    if (r == NULL && val == NULL)
        return fx_fail(x, HUB_EINVALID,
                       "reference names no resource and no identifier");
    jw_kv_cstr(w, "reference", r ? fx_ref_name(x, r) : NULL);
    if (val) {
        jw_key(w, "identifier");
        jw_obj_begin(w);
        jw_kv_cstr(w, "system", sys);
        jw_kv_cstr(w, "value", val);
        jw_obj_end(w);
    }
    jw_kv_cstr(w, "type", type);
    fx_pop(x, old);
    return HUB_OK;
}

/* provision.actor[]: who the rule is about, each with its role. */
static int put_consent_actors(struct fx *x, struct jw *w, const cJSON *prov)
{
    const cJSON *actors;
    size_t n;
    int rc;
    if ((rc = fx_arr(x, prov, "actor", &actors, &n)) || n == 0)
        return rc;
    size_t old = fx_key(x, "actor");
    jw_key(w, "actors");
    jw_arr_begin(w);
    size_t i = 0;
    for (const cJSON *a = actors->child; a; a = a->next, i++) {
        size_t o2 = fx_idx(x, i);
        if (!cJSON_IsObject(a))
            return fx_fail(x, HUB_EINVALID, "expected an actor object");
        jw_obj_begin(w);
        if ((rc = fx_put_cc(x, w, a, "role", "role", NULL, NULL)) ||
            (rc = put_consent_ref(x, w, a, "reference")))
            return rc;
        jw_obj_end(w);
        fx_pop(x, o2);
    }
    jw_arr_end(w);
    fx_pop(x, old);
    return HUB_OK;
}

/* provision.purpose[], securityLabel[] and class[] are Codings: each with
 * a code, as a code object; a list with none is left out (the schema's
 * lists have minItems 1). A security label the dictionary knows also
 * gives its hub label ("sud" for 42CFRPart2 or ETH) in "labels", the
 * names events carry in "sensitivity", so that a consent check compares
 * like with like. */
static int put_consent_codings(struct fx *x, struct jw *w, const cJSON *prov,
                               const char *key, const char *out_key,
                               bool labels)
{
    const cJSON *arr;
    size_t n;
    int rc;
    if ((rc = fx_arr(x, prov, key, &arr, &n)) || n == 0)
        return rc;
    const char *lab[FX_MAX_LABELS];
    size_t nl = 0;
    bool open = false;
    size_t old = fx_key(x, key);
    size_t i = 0;
    for (const cJSON *p = arr->child; p; p = p->next, i++) {
        size_t o2 = fx_idx(x, i);
        struct fx_code c = { 0 };
        if ((rc = fx_coding(x, p, &c)))
            return rc;
        if (c.code) {
            jw_arr_lazy(w, out_key, &open);
            fx_jw_code(w, NULL, &c);
        }
        const char *l = labels && c.code ?
            dict_security_label(x->d, slice_from_cstr(c.system),
                                slice_from_cstr(c.code)) : NULL;
        if (l)
            strset_add(lab, &nl, FX_MAX_LABELS, l);
        fx_pop(x, o2);
    }
    jw_arr_end_if(w, open);
    fx_pop(x, old);
    if (nl) {
        jw_key(w, "labels");
        jw_arr_begin(w);
        for (size_t k = 0; k < nl; k++)
            jw_cstr(w, lab[k]);
        jw_arr_end(w);
    }
    return HUB_OK;
}

/* provision.data[]: resources the rule is about, by what they mean to it
 * (R4 consent-data-meaning, a required binding). */
static int put_consent_data(struct fx *x, struct jw *w, const cJSON *prov)
{
    static const char *const meanings[] = { "instance", "related",
        "dependents", "authoredby", NULL };
    const cJSON *arr;
    size_t n;
    int rc;
    if ((rc = fx_arr(x, prov, "data", &arr, &n)) || n == 0)
        return rc;
    size_t old = fx_key(x, "data");
    jw_key(w, "data");
    jw_arr_begin(w);
    size_t i = 0;
    for (const cJSON *d = arr->child; d; d = d->next, i++) {
        size_t o2 = fx_idx(x, i);
        const char *m;
        if (!cJSON_IsObject(d))
            return fx_fail(x, HUB_EINVALID, "expected a data object");
        if ((rc = fx_enum(x, d, "meaning", true, meanings, &m)))
            return rc;
        jw_obj_begin(w);
        jw_kv_cstr(w, "meaning", m);
        if ((rc = put_consent_ref(x, w, d, "reference")))
            return rc;
        jw_obj_end(w);
        fx_pop(x, o2);
    }
    jw_arr_end(w);
    fx_pop(x, old);
    return HUB_OK;
}

#define CONSENT_MAX_DEPTH 8     /* nested provisions (R4 sets no limit;
                                   IHE PCF allows two levels) */

/* One rule of Consent.provision, into the object being written: its
 * conditions (period, actors, actions, purposes, security labels, classes,
 * codes, data period, data) and its nested rules, each an exception to
 * the rule that holds it, under "provisions" with their own "type". The
 * root's type is written by the caller (as "provision"). */
static int put_consent_rule(struct fx *x, struct jw *w, const cJSON *prov,
                            int depth)
{
    static const char *const types[] = { "deny", "permit", NULL };
    const char *ps, *pe, *ds, *de;
    int rc;
    if ((rc = fx_period_start(x, prov, "period", &ps, &pe)))
        return rc;
    fx_put_period(w, "period", ps, pe);
    if ((rc = put_consent_actors(x, w, prov)) ||
        (rc = fx_put_cc_array(x, w, prov, "action", "actions")) ||
        (rc = put_consent_codings(x, w, prov, "purpose", "purposes",
                                  false)) ||
        (rc = put_consent_codings(x, w, prov, "securityLabel",
                                  "security_labels", true)) ||
        (rc = put_consent_codings(x, w, prov, "class", "classes", false)) ||
        (rc = fx_put_cc_array(x, w, prov, "code", "codes")) ||
        (rc = fx_period_start(x, prov, "dataPeriod", &ds, &de)))
        return rc;
    fx_put_period(w, "data_period", ds, de);
    if ((rc = put_consent_data(x, w, prov)))
        return rc;
    const cJSON *subs;
    size_t n;
    if ((rc = fx_arr(x, prov, "provision", &subs, &n)) || n == 0)
        return rc;
    size_t old = fx_key(x, "provision");
    if (depth >= CONSENT_MAX_DEPTH)
        return fx_fail(x, HUB_ELIMIT, "provisions are nested deeper than 8");
    jw_key(w, "provisions");
    jw_arr_begin(w);
    size_t i = 0;
    for (const cJSON *p = subs->child; p; p = p->next, i++) {
        size_t o2 = fx_idx(x, i);
        const char *t;
        if (!cJSON_IsObject(p))
            return fx_fail(x, HUB_EINVALID, "expected a provision object");
        if ((rc = fx_enum(x, p, "type", false, types, &t)))
            return rc;
        jw_obj_begin(w);
        jw_kv_cstr(w, "type", t);
        if ((rc = put_consent_rule(x, w, p, depth + 1)))
            return rc;
        jw_obj_end(w);
        fx_pop(x, o2);
    }
    jw_arr_end(w);
    fx_pop(x, old);
    return HUB_OK;
}

int fx_consent(struct fx *x, struct fx_entry *e)
{
    static const char *const sts[] = { "draft", "proposed", "active",
        "rejected", "inactive", "entered-in-error", NULL };
    const cJSON *o = e->res;
    struct slice patient, body;
    struct jw w;
    const char *st, *when;
    struct fx_code scope;
    int rc;
    if ((rc = fx_enum(x, o, "status", true, sts, &st)) ||
        (rc = fx_prologue(x, e, "patient", &patient)))
        return rc;
    fx_begin_body(x, &w, e);
    jw_kv_cstr(&w, "status", st);
    if ((rc = fx_cc(x, o, "scope", NULL, &scope)))
        return rc;
    jw_kv_cstr(&w, "scope", scope.code);
    if ((rc = fx_put_cc_array(x, &w, o, "category", "categories")))
        return rc;
    /* policy[]: the policies by URI (or authority); policyRule, a code,
     * keeps its system apart (F564: SNOMED CT 425691002 is no URI) */
    const cJSON *pol;
    size_t np;
    if ((rc = fx_arr(x, o, "policy", &pol, &np)))
        return rc;
    bool open = false;
    size_t i = 0;
    for (const cJSON *p = np ? pol->child : NULL; p; p = p->next, i++) {
        size_t old = fx_key(x, "policy");
        fx_idx(x, i);
        const char *uri, *auth;
        if (!cJSON_IsObject(p))
            return fx_fail(x, HUB_EINVALID, "expected a policy object");
        if ((rc = fx_str(x, p, "uri", false, &uri)) ||
            (rc = fx_str(x, p, "authority", false, &auth)))
            return rc;
        if (uri || auth) {
            jw_arr_lazy(&w, "policy", &open);
            jw_cstr(&w, uri ? uri : auth);
        }
        fx_pop(x, old);
    }
    jw_arr_end_if(&w, open);
    if ((rc = fx_put_cc(x, &w, o, "policyRule", "policy_rule", NULL, NULL)) ||
        (rc = fx_put_date(x, &w, o, "dateTime", "date_time", &when)) ||
        (rc = fx_put_names(x, &w, o, "organization", "organization")) ||
        (rc = fx_put_name(x, &w, o, "sourceReference", "source", NULL)))
        return rc;
    const cJSON *prov;
    if ((rc = fx_obj(x, o, "provision", false, &prov)))
        return rc;
    if (prov) {
        static const char *const types[] = { "deny", "permit", NULL };
        size_t old = fx_key(x, "provision");
        const char *ptype;
        if ((rc = fx_enum(x, prov, "type", false, types, &ptype)))
            return rc;
        jw_kv_cstr(&w, "provision", ptype);
        if ((rc = put_consent_rule(x, &w, prov, 0)))
            return rc;
        fx_pop(x, old);
    }
    if ((rc = fx_end_body(x, &w, &body)))
        return rc;
    return fx_emit(x, e, "consent.updated", when, patient, "consent", body);
}

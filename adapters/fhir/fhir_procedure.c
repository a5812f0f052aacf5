/*
 * fhir_procedure.c - Procedure, a performed intervention (see fhir.h):
 * where each is told (fx_mark_procedures: the referral it fulfils, the
 * screening it was the administration of, else its own careplan.updated)
 * and the members of one written into that event.
 */
#include "fhir/fhir_int.h"

#include <string.h>

/* FHIR R4 EventStatus */
static const char *const EVENT_STATUS[] = { "preparation", "in-progress",
    "not-done", "on-hold", "stopped", "completed", "entered-in-error",
    "unknown", NULL };

/* Whether Procedure `pe` is of the patient `subject` names
 * (fx_same_patient, F2740's forms): another patient's is not folded into
 * this one's referral or screening, whose event takes nothing from it;
 * it is read on its own (F2622, in F2621's way) */
static bool of_the_patient(struct fx *x, const cJSON *subject,
                           const struct fx_entry *pe)
{
    return fx_same_patient(x, subject, fx_get(pe->res, "subject"));
}

/* A referral Task's patient: its `for`, else its focus request's subject;
 * a Task for another patient than its request is carried as sent (F2:
 * either may be the slip), so a Procedure of either is the referral's.
 * The focus looked up as the reading names it, a Type/urn:uuid: slip
 * too: found no request, any patient's Procedure was the referral's
 * (F3023) */
static bool of_the_referral(struct fx *x, const cJSON *task,
                            const struct fx_entry *pe)
{
    const struct fx_entry *fe =
        fx_resolve_read(x, fx_unslip(x, fx_ref_of(task, "focus")));
    const cJSON *tf = fx_get(task, "for");
    const cJSON *ss = fe && strcmp(fe->type, "ServiceRequest") == 0
                          ? fx_get(fe->res, "subject") : NULL;
    return (!tf && !ss) || (tf && of_the_patient(x, tf, pe)) ||
           (ss && of_the_patient(x, ss, pe));
}

/* The entry of type `type` `ref` names, also one refused in its own
 * reading: what is warned of does not hang on which entry came first */
static const struct fx_entry *named_of_type(struct fx *x, const char *ref,
                                            const char *type)
{
    /* a Type/urn:uuid: slip as the marking reads it (F2981) */
    const struct fx_entry *e = fx_resolve_read(x, fx_unslip(x, ref));
    return e && strcmp(e->type, type) == 0 ? e : NULL;
}

void fx_warn_output_of_another(struct fx *x, const cJSON *task,
                               const char *ref)
{
    const struct fx_entry *pe = named_of_type(x, ref, "Procedure");
    if (pe && !of_the_referral(x, task, pe))
        fx_warn(x, "valueReference", "procedure names another patient than "
                                     "the referral: nothing taken from it");
}

/* Warns at each basedOn[i] of Procedure `pe` that names a request of the
 * message of another patient: it is not told in that referral */
static void warn_requests_of_others(struct fx *x, const struct fx_entry *pe)
{
    const cJSON *bo = fx_get(pe->res, "basedOn");
    size_t i = 0;
    for (const cJSON *c = cJSON_IsArray(bo) ? bo->child : NULL; c;
         c = c->next, i++) {
        const struct fx_entry *sr = named_of_type(
            x, fx_str_of(c, "reference"), "ServiceRequest");
        if (sr && !of_the_patient(x, fx_get(sr->res, "subject"), pe)) {
            size_t old = fx_key(x, "basedOn");
            fx_idx(x, i);
            fx_warn(x, NULL, "request names another patient than the "
                             "procedure: not told in that referral");
            fx_pop(x, old);
        }
    }
}

/* Warns at each partOf[i] of screening entry `h` that names a Procedure
 * of another patient than the screening's */
static void warn_parts_of_others(struct fx *x, const struct fx_entry *h)
{
    const cJSON *po = fx_get(h->res, "partOf");
    size_t i = 0;
    for (const cJSON *c = cJSON_IsArray(po) ? po->child : NULL; c;
         c = c->next, i++) {
        const struct fx_entry *pe = named_of_type(
            x, fx_str_of(c, "reference"), "Procedure");
        if (pe && !of_the_patient(x, fx_obs_subject(h), pe)) {
            struct fx_saved_path save;
            fx_path_save(x, &save);
            fx_at_entry(x, h);
            fx_key(x, "partOf");
            fx_idx(x, i);
            fx_warn(x, NULL, "procedure names another patient than the "
                             "screening: nothing taken from it");
            fx_path_restore(x, &save);
        }
    }
}

/* The members of a performed intervention (an SDOHCC Procedure) into the
 * object open in `w`: its reference under `ref_key`, code, status, domain,
 * when, who. The same shape is a careplan activity and an item of a
 * referral's "performed". Errors carry the Procedure's own element path,
 * also when it is written into another entry's event. */
static int put_procedure(struct fx *x, struct jw *w, struct fx_entry *pe,
                         const char *ref_key, struct orgs *orgs,
                         const char **domain, const char **when)
{
    const cJSON *o = pe->res, *perf;
    const char *st, *dom, *at, *ps, *pend, *actor = NULL, *behalf = NULL;
    struct fx_code reason;
    size_t np;
    struct fx_saved_path save;
    int rc;

    fx_path_save(x, &save);
    fx_at_entry(x, pe);
    if ((rc = fx_enum(x, o, "status", true, EVENT_STATUS, &st)) ||
        (rc = fx_domain_of(x, o, "category", &dom)))
        return rc;
    jw_kv_cstr(w, ref_key, fx_entry_name(x, pe));
    if ((rc = fx_put_cc(x, w, o, "code", "code", NULL, NULL)) ||
        (rc = fx_cc(x, o, "statusReason", NULL, &reason)) ||
        (rc = fx_date(x, o, "performedDateTime", &at)) ||
        (rc = fx_period_start(x, o, "performedPeriod", &ps, &pend)) ||
        (rc = fx_arr(x, o, "performer", &perf, &np)))
        return rc;
    /* a substance use disorder treatment (42 CFR Part 2 covers its
     * records too): the event it is told in carries the label */
    fx_code_labels(x, o);
    jw_kv_cstr(w, "status", st);
    jw_kv_cstr(w, "status_reason", reason.code ? reason.code : reason.text);
    jw_kv_cstr(w, "domain", dom);
    jw_kv_cstr(w, "performed_at", at ? at : ps);
    fx_put_period(w, "performed_period", ps, pend);
    if (np) {
        /* performer is 0..*: the first is who did it (or for whom) */
        size_t old = fx_key(x, "performer");
        fx_idx(x, 0);
        if (!cJSON_IsObject(perf->child))
            return fx_fail(x, HUB_EINVALID, "expected a performer object");
        if ((rc = fx_ref(x, perf->child, "actor", false, &actor)) ||
            (rc = fx_ref(x, perf->child, "onBehalfOf", false, &behalf)))
            return rc;
        fx_pop(x, old);
        jw_kv_cstr(w, "performer", fx_ref_name(x, actor ? actor : behalf));
        fx_orgs_add(orgs, "performer", actor, o);
        fx_orgs_add(orgs, "performer", behalf, o);
    }
    if ((rc = fx_put_names(x, w, o, "basedOn", "based_on")))
        return rc;
    warn_requests_of_others(x, pe);
    if (domain)
        *domain = dom;
    if (when)
        *when = at ? at : ps;
    fx_path_restore(x, &save);
    return HUB_OK;
}

/* "performed": the Procedures of this message folded into the referral
 * event of `host` (fx_mark_procedures), then, for a Task, the codes of its
 * outputs that name an activity without a Procedure (the IG's
 * PerformedActivityCode slice). */
int fx_put_performed(struct fx *x, struct jw *w, struct fx_entry *host,
                     struct orgs *orgs)
{
    bool open = false;
    int rc;

    for (size_t i = 0; i < x->n_ents; i++) {
        struct fx_entry *pe = &x->ents[i];
        if (pe->folded_into != host || pe->failed)
            continue;
        jw_arr_lazy(w, "performed", &open);
        jw_obj_begin(w);
        if ((rc = put_procedure(x, w, pe, "procedure", orgs, NULL, NULL)))
            return rc;
        jw_obj_end(w);
    }
    const cJSON *outs = strcmp(host->type, "Task") == 0
        ? cJSON_GetObjectItemCaseSensitive(host->res, "output") : NULL;
    size_t i = 0;
    for (const cJSON *c = cJSON_IsArray(outs) ? outs->child : NULL; c;
         c = c->next, i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "valueCodeableConcept");
        struct fx_code k;
        if (v == NULL)
            continue;
        size_t old = fx_key(x, "output");
        fx_idx(x, i);
        if ((rc = fx_cc(x, c, "valueCodeableConcept", NULL, &k)))
            return rc;
        fx_pop(x, old);
        if (fx_code_empty(&k))
            continue;
        jw_arr_lazy(w, "performed", &open);
        jw_obj_begin(w);
        fx_jw_code(w, "code", &k);
        jw_obj_end(w);
    }
    jw_arr_end_if(w, open);
    return HUB_OK;
}

bool fx_is_screening_host(const struct fx_entry *host)
{
    return strcmp(host->type, "Observation") == 0 ||
           strcmp(host->type, "QuestionnaireResponse") == 0;
}

int fx_put_screening_procedures(struct fx *x, struct jw *w,
                                struct fx_entry *e)
{
    bool open = false, obs = strcmp(e->type, "Observation") == 0;
    int rc;
    for (size_t i = 0; x->screening_procedures && i < x->n_ents; i++) {
        const struct fx_entry *h = &x->ents[i];
        if (h == e || (obs && h->seen == x->gen &&
                       strcmp(h->type, "Observation") == 0))
            warn_parts_of_others(x, h);
    }
    for (size_t i = 0; x->screening_procedures && i < x->n_ents; i++) {
        struct fx_entry *pe = &x->ents[i];
        const struct fx_entry *h = pe->folded_into;
        if (h == NULL || pe->failed || pe->carried_by ||
            !fx_is_screening_host(h) ||
            !(h == e || (obs && h->seen == x->gen &&
                         strcmp(h->type, "Observation") == 0)))
            continue;
        jw_arr_lazy(w, "procedures", &open);
        jw_obj_begin(w);
        if ((rc = put_procedure(x, w, pe, "procedure", NULL, NULL, NULL)))
            return rc;
        jw_obj_end(w);
        pe->carried_by = e;
    }
    jw_arr_end_if(w, open);
    return HUB_OK;
}

/* Where a Procedure is told: the referral it fulfils, when the message
 * holds that referral, so the closed loop arrives as one referral.updated
 * (or the request's own event) rather than two events about one fact:
 *   1. a referral Task of the message lists it in output -> that Task;
 *   2. else its basedOn is a ServiceRequest of the message -> that request;
 *   3. else a screening Observation or QuestionnaireResponse of the message
 *      names it in partOf -> that screening. FHIR R4 partOf is "a larger
 *      event of which this is a component or step": the screening was taken
 *      as part of that Procedure, the assessment's administration (SHIN-NY
 *      sends HCPCS G0136 so: F55), one fact with the screening. Its
 *      reasonReference is not such a link: a Procedure done for a screening
 *      response is an intervention (SDOHCC Procedure), told on its own.
 * Any other Procedure makes its own careplan.updated (fx_procedure), and
 * so does one whose screening tells nothing (fhir.c). */
void fx_mark_procedures(struct fx *x)
{
    for (size_t i = 0; i < x->n_ents; i++) {
        struct fx_entry *t = &x->ents[i];
        if (t->failed || strcmp(t->type, "Task") != 0)
            continue;
        const char *focus = fx_ref_of(t->res, "focus");
        struct fx_entry *fe = fx_resolve(x, focus);
        if (!fx_task_is_referral(t->res, focus) &&
            !(fe && strcmp(fe->type, "ServiceRequest") == 0))
            continue;
        const cJSON *outs = cJSON_GetObjectItemCaseSensitive(t->res, "output");
        for (const cJSON *c = cJSON_IsArray(outs) ? outs->child : NULL; c;
             c = c->next) {
            struct fx_entry *pe =
                fx_resolve_meant(x, fx_ref_of(c, "valueReference"));
            if (pe && !pe->failed && pe->folded_into == NULL &&
                strcmp(pe->type, "Procedure") == 0 &&
                of_the_referral(x, t->res, pe)) {
                pe->folded_into = t;
                pe->consumed = true;
            }
        }
    }
    for (size_t i = 0; i < x->n_ents; i++) {
        struct fx_entry *pe = &x->ents[i];
        if (pe->failed || pe->folded_into || strcmp(pe->type, "Procedure") != 0)
            continue;
        const cJSON *bo = cJSON_GetObjectItemCaseSensitive(pe->res, "basedOn");
        for (const cJSON *c = cJSON_IsArray(bo) ? bo->child : NULL; c;
             c = c->next) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "reference");
            struct fx_entry *sr =
                cJSON_IsString(v) ? fx_resolve_meant(x, v->valuestring) : NULL;
            if (sr && !sr->failed && strcmp(sr->type, "ServiceRequest") == 0 &&
                of_the_patient(x, fx_get(sr->res, "subject"), pe)) {
                pe->folded_into = sr;
                pe->consumed = true;
                break;
            }
        }
    }
    for (size_t i = 0; i < x->n_ents; i++) {
        struct fx_entry *h = &x->ents[i];
        if (h->failed || !fx_is_screening_host(h))
            continue;
        const cJSON *po = fx_get(h->res, "partOf");
        for (const cJSON *c = cJSON_IsArray(po) ? po->child : NULL; c;
             c = c->next) {
            struct fx_entry *pe =
                fx_resolve_meant(x, fx_str_of(c, "reference"));
            if (pe == NULL || pe->failed || strcmp(pe->type, "Procedure") != 0)
                continue;
            x->screening_procedures = true;     /* told, or warned of */
            if (pe->folded_into == NULL &&
                of_the_patient(x, fx_obs_subject(h), pe)) {
                pe->folded_into = h;
                pe->consumed = true;
            }
        }
    }
}

/*
 * A Procedure on its own (not folded into a referral of the message) ->
 * careplan.updated. Why a care-plan event: in the Gravity model a Procedure
 * is what was done to address a need (FHIR CarePlan.activity.outcome
 * points at such Procedures), and without the referral in the message the
 * hub knows no referral status to report; its basedOn stays in the
 * activity's "based_on" for receivers to tie it to their request. The body:
 * id (the CarePlan it is based on, else the Procedure), domains, addresses
 * (reasonReference), goals (pertainsToGoal extension), one activity with
 * the intervention's code, status, domain, performed_at, performer.
 */
int fx_procedure(struct fx *x, struct fx_entry *e)
{
    static const char goal_ext[] =
        "http://hl7.org/fhir/StructureDefinition/resource-pertainsToGoal";
    const cJSON *o = e->res;
    struct slice patient, body;
    struct jw w, act;
    struct orgs orgs = { .n = 0 };
    const char *dom = NULL, *when = NULL, *plan = NULL;
    int rc;

    if ((rc = fx_prologue(x, e, "subject", &patient)))
        return rc;
    /* the activity first: it checks status and names the domain */
    jw_init(&act, x->a, 1u << 20);
    jw_obj_begin(&act);
    if ((rc = put_procedure(x, &act, e, "reference", &orgs, &dom, &when)))
        return rc;
    struct slice activity;
    if ((rc = fx_end_body(x, &act, &activity)))
        return rc;
    const cJSON *bo = cJSON_GetObjectItemCaseSensitive(o, "basedOn");
    for (const cJSON *c = cJSON_IsArray(bo) ? bo->child : NULL; c && !plan;
         c = c->next) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "reference");
        struct fx_entry *pl =
            cJSON_IsString(v) ? fx_resolve(x, v->valuestring) : NULL;
        if (pl ? strcmp(pl->type, "CarePlan") == 0
               : cJSON_IsString(v) && strncmp(v->valuestring, "CarePlan/", 9) == 0)
            plan = fx_ref_name(x, v->valuestring);
    }
    fx_begin_body_id(x, &w, plan ? plan : fx_entry_name(x, e));
    if (dom) {
        jw_key(&w, "domains");
        jw_arr_begin(&w);
        jw_cstr(&w, dom);
        jw_arr_end(&w);
    }
    if ((rc = fx_put_names(x, &w, o, "reasonReference", "addresses")))
        return rc;
    /* extension pertainsToGoal: the SDOHCC Goal this addresses */
    const cJSON *ext = cJSON_GetObjectItemCaseSensitive(o, "extension");
    bool open = false;
    size_t i = 0;
    for (const cJSON *c = cJSON_IsArray(ext) ? ext->child : NULL; c;
         c = c->next, i++) {
        const char *url = fx_str_of(c, "url");
        const char *r;
        if (url == NULL || strcmp(url, goal_ext) != 0)
            continue;
        size_t old = fx_key(x, "extension");
        fx_idx(x, i);
        if ((rc = fx_ref(x, c, "valueReference", false, &r)))
            return rc;
        fx_pop(x, old);
        if (r == NULL)
            continue;
        jw_arr_lazy(&w, "goals", &open);
        jw_cstr(&w, fx_ref_name(x, r));
    }
    jw_arr_end_if(&w, open);
    jw_key(&w, "activities");
    jw_arr_begin(&w);
    jw_raw(&w, activity);
    jw_arr_end(&w);
    fx_put_orgs(x, &w, &orgs);
    if ((rc = fx_end_body(x, &w, &body)))
        return rc;
    return fx_emit(x, e, "careplan.updated", when, patient, "careplan", body);
}

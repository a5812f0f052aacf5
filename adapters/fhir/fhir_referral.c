/*
 * fhir_referral.c - ServiceRequest and Task, the referral, to their
 * canonical events (see fhir.h), with the referral's business identifiers
 * (the Task's, its request's and its basedOn's, each number once). The
 * small writers and the organizations they name are fhir_res.c's.
 */
#include "fhir/fhir_int.h"

#include <stdio.h>
#include <string.h>

/* A date of the request's occurrence[x], or NULL: one that is not a FHIR
 * date is left out with a warning, not refused. The hub read no occurrence
 * before F30, and a sender's slip there must not now cost the referral. */
static const char *lenient_date(struct fx *x, const cJSON *o, const char *key)
{
    const cJSON *v = fx_get(o, key);
    if (v == NULL || cJSON_IsNull(v))
        return NULL;
    if (cJSON_IsString(v) && v->valuestring && fx_iso_ok(v->valuestring))
        return v->valuestring;
    fx_warn(x, key, "date is not ISO 8601; left out");
    return NULL;
}

/* "quantity": how much of the service is asked for (quantityQuantity: 6
 * month, 10 visits), its value as the number sent. A Ratio or Range is not
 * read; a malformed Quantity is left out with a warning (as above). */
static void put_quantity(struct fx *x, struct jw *w, const cJSON *sr)
{
    const cJSON *q = fx_get(sr, "quantityQuantity");
    if (q == NULL || cJSON_IsNull(q))
        return;
    size_t old = fx_key(x, "quantityQuantity");
    const cJSON *v = fx_get(q, "value");
    const char *txt[3];
    bool ok = fx_quantity_read(q, 3, txt);
    if (!ok)
        fx_warn(x, NULL, "quantity is not a FHIR Quantity; left out");
    fx_pop(x, old);
    if (!ok || (v == NULL && !txt[0] && !txt[1] && !txt[2]))
        return;
    jw_key(w, "quantity");
    jw_obj_begin(w);
    if (v) {
        char num[32];
        int n = snprintf(num, sizeof(num), "%.15g", v->valuedouble);
        jw_key(w, "value");
        jw_raw(w, (struct slice){ num, (size_t)n });
    }
    for (size_t i = 0; i < 3; i++)
        jw_kv_cstr(w, quantity_keys[i], txt[i]);
    jw_obj_end(w);
}

/* The start and end of Period `p` (the current path's `key` of its
 * holder), leniently: a wrong shape is left out with a warning. */
static void lenient_period(struct fx *x, const cJSON *p, const char *key,
                           const char **ps, const char **pe)
{
    if (p == NULL || cJSON_IsNull(p))
        return;
    size_t old = fx_key(x, key);
    if (cJSON_IsObject(p)) {
        *ps = lenient_date(x, p, "start");
        *pe = lenient_date(x, p, "end");
    } else
        fx_warn(x, NULL, "expected an object; left out");
    fx_pop(x, old);
}

/* When and how much of the service is asked for (F30): a CBO plans its
 * capacity on both. "occurrence_at" is occurrenceDateTime, else the
 * period's start (as a Procedure's performed_at). The period is
 * occurrencePeriod, or an occurrenceTiming's repeat.boundsPeriod (FHIR R4
 * Timing: the outer bounds of the schedule, "weekly from March to June");
 * the schedule inside them (frequency, period, dayOfWeek), its event list
 * and a boundsDuration or boundsRange have no field and are not read. */
static void put_occurrence(struct fx *x, struct jw *w, const cJSON *sr)
{
    const char *at = lenient_date(x, sr, "occurrenceDateTime");
    const char *ps = NULL, *pe = NULL;
    lenient_period(x, fx_get(sr, "occurrencePeriod"), "occurrencePeriod",
                   &ps, &pe);
    const cJSON *t = fx_get(sr, "occurrenceTiming");
    if (t && !at && !ps && !pe) {
        size_t old = fx_key(x, "occurrenceTiming");
        const cJSON *r = fx_get(t, "repeat");
        if (r) {
            fx_key(x, "repeat");
            lenient_period(x, fx_get(r, "boundsPeriod"), "boundsPeriod", &ps,
                           &pe);
        }
        fx_pop(x, old);
    }
    jw_kv_cstr(w, "occurrence_at", at ? at : ps);
    fx_put_period(w, "occurrence_period", ps, pe);
    put_quantity(x, w, sr);
}

/* A ServiceRequest's status (FHIR RequestStatus) as the referral's, in the
 * FHIR Task status subset of the Gravity closed loop that a Task, a C-CDA
 * referral and a CSV row give it (schemas/dict/task-status.json): an
 * active request alone is requested (Gravity: the ServiceRequest is active
 * while its Task is requested), revoked is cancelled; draft, on-hold,
 * completed and entered-in-error are both systems' codes. "unknown" has
 * no Task status and stays. */
static const char *referral_status(const char *request_status)
{
    if (strcmp(request_status, "active") == 0)
        return "requested";
    if (strcmp(request_status, "revoked") == 0)
        return "cancelled";
    return request_status;
}

static void put_requisition(struct fx *x, struct jw *w, const cJSON *sr);

/* What a ServiceRequest says about the referral: domain, service, people.
 * Its supportingInfo too unless `authored` is NULL (a Task's focus: the
 * Task writes the request's and its own, supporting_refs). */
static int referral_from_sr(struct fx *x, struct jw *w, const cJSON *sr,
                            bool with_status, const char **authored,
                            struct orgs *orgs)
{
    const char *req;
    const char *dom, *st;
    struct fx_code svc;
    int rc;
    /* said once, by the request's own reading, not by a Task's */
    if (authored)
        fx_warn_reasons_left_out(x, sr);
    /* the catch-all category says no domain fits: the request's code or
     * a reason that names one goes before it, as a Condition's code does
     * (F3226) */
    if ((rc = fx_category_domain(x, sr, "category", &dom)))
        return rc;
    if (!fx_domain_settled(dom))
        dom = fx_domain_after(dom, fx_code_snomed_domain(x, sr));
    if (!fx_domain_settled(dom))
        dom = fx_domain_after(dom, fx_reason_domain(x, sr, authored != NULL));
    /* last: a referral whose need is only its coded reason, as a C-CDA
     * reason's Z code routes one (F3083) */
    if (!fx_domain_settled(dom))
        dom = fx_domain_after(dom, fx_reason_code_domain(x, sr));
    /* the service and its reasons go into the event: a referral for a
     * diagnosis or a treatment that the dictionary labels is labelled as
     * the Condition or the Procedure is (F189) */
    fx_code_labels(x, sr);
    fx_reason_labels(x, sr);
    if (with_status) {
        static const char *const intents[] = { "proposal", "plan",
            "directive", "order", "original-order", "reflex-order",
            "filler-order", "instance-order", "option", NULL };
        const char *intent, *prio;
        if ((rc = fx_enum(x, sr, "status", true, REQUEST_STATUS, &st)) ||
            (rc = fx_enum(x, sr, "intent", true, intents, &intent)) ||
            (rc = fx_str(x, sr, "priority", false, &prio)))
            return rc;
        jw_kv_cstr(w, "status", referral_status(st));
        bool terminal = strcmp(st, "completed") == 0 ||
                        strcmp(st, "revoked") == 0 ||
                        strcmp(st, "entered-in-error") == 0;
        jw_key(w, "terminal");
        jw_bool(w, terminal);
        jw_kv_cstr(w, "intent", intent);
        jw_kv_cstr(w, "priority", prio);
    }
    jw_kv_cstr(w, "domain", dom);
    if ((rc = fx_cc(x, sr, "code", NULL, &svc)))
        return rc;
    fx_jw_code(w, "service", &svc);
    /* its categories as sent: with no code, the one statement of what is
     * asked (the UMZH orthopaedic referral: F3581) */
    fx_put_cc_array_lenient(x, w, sr, "category", "categories");
    put_requisition(x, w, sr);
    if ((rc = fx_put_name(x, w, sr, "requester", "requester", &req)))
        return rc;
    fx_orgs_add(orgs, "requester", req, sr);
    /* performer is 0..* in R4: the first is the one the referral is to */
    const cJSON *perf;
    size_t np;
    if ((rc = fx_arr(x, sr, "performer", &perf, &np)))
        return rc;
    if (np) {
        size_t old = fx_key(x, "performer");
        fx_idx(x, 0);
        const char *r;
        if ((rc = fx_ref_node(x, perf->child, &r)))
            return rc;
        jw_kv_cstr(w, "performer", fx_ref_name(x, r));
        fx_orgs_add(orgs, "performer", r, sr);
        if (r == NULL)
            fx_orgs_add_logical(orgs, "performer", perf->child);
        fx_pop(x, old);
    }
    /* basedOn: the request this one fulfils (a sub-referral's parent) */
    if ((rc = fx_put_names(x, w, sr, "basedOn", "based_on")) ||
        (rc = fx_put_cc_array(x, w, sr, "reasonCode", "reason")) ||
        (rc = fx_put_refs(x, w, sr, "reasonReference", NULL, "reason_references")) ||
        (authored &&
         ((rc = fx_put_names(x, w, sr, "supportingInfo",
                             "supporting_info")) ||
          (rc = fx_put_date(x, w, sr, "authoredOn", "authored_at", authored)))))
        return rc;
    put_occurrence(x, w, sr);
    return HUB_OK;
}

/* ---- a referral's business identifiers ---------------------------------- */

/* The referral numbers written so far: a Task, its request and its
 * basedOn often repeat one number (BSeR sends PLAC and FILL on both), and
 * it is written once. Past REF_IDS_MAX, later ones are written unchecked. */
#define REF_IDS_MAX 16
struct ref_ids {
    const char *system[REF_IDS_MAX], *value[REF_IDS_MAX];
    size_t n;
    bool open;                  /* "identifiers" is open in the body */
};

static bool same_or_both_null(const char *a, const char *b)
{
    return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/* The Identifier `c` (the path at it) read as the referral's are written:
 * value, system, and the type as its HL7 table 0203 code (PLAC the
 * placer's number, FILL the filler's: BSeR), a type of another system
 * left out. *value is NULL for one with no value, which names nothing. */
static int ident_read(struct fx *x, const cJSON *c, const char **value,
                      const char **system, const char **type)
{
    struct fx_code t;
    int rc;
    *value = *system = *type = NULL;
    if (!cJSON_IsObject(c))
        return fx_fail(x, HUB_EINVALID, "expected an Identifier object");
    if ((rc = fx_str(x, c, "value", false, value)) ||
        (rc = fx_str(x, c, "system", false, system)) ||
        (rc = fx_cc(x, c, "type",
                    "http://terminology.hl7.org/CodeSystem/v2-0203", &t)))
        return rc;
    if (*value && **value == '\0')
        *value = NULL;
    if (*system && **system == '\0')
        *system = NULL;
    *type = t.system && !fx_is_table_0203(t.system) ? NULL : t.code;
    return HUB_OK;
}

/* One Identifier as ident_read gave it: {value, system, type} */
static void ident_write(struct jw *w, const char *value, const char *system,
                        const char *type)
{
    jw_obj_begin(w);
    jw_kv_cstr(w, "value", value);
    jw_kv_cstr(w, "system", system);
    jw_kv_cstr(w, "type", type);
    jw_obj_end(w);
}

/* The Identifier `c` (the path at it) as an item of the referral's
 * "identifiers" (ident_read), each number once. A CBO's system knows the
 * referral by such a number, not by the sender's resource id (F700). */
static int ref_ident(struct fx *x, struct jw *w, const cJSON *c,
                     struct ref_ids *ids)
{
    const char *value, *system, *type;
    int rc;
    if ((rc = ident_read(x, c, &value, &system, &type)) || value == NULL)
        return rc;
    for (size_t k = 0; k < ids->n; k++)
        if (strcmp(ids->value[k], value) == 0 &&
            same_or_both_null(ids->system[k], system))
            return HUB_OK;
    if (ids->n < REF_IDS_MAX) {
        ids->system[ids->n] = system;
        ids->value[ids->n++] = value;
    }
    jw_arr_lazy(w, "identifiers", &ids->open);
    ident_write(w, value, system, type);
    return HUB_OK;
}

/* ServiceRequest `sr`'s requisition (R4: the identifier it shares with
 * the requests authored with it, HL7 v2 ORC-4's placer group number) as
 * the referral's "requisition". It is apart from "identifiers": requests
 * sent together share it, so it names their group, not one referral; a
 * sender that numbers its referrals only there (the Philippine eReferral
 * IG's REF-2026-001234) still reaches the receiver (F3880). The hub read
 * no requisition before: one that is no Identifier (a string, an array as
 * `identifier` is) is left out with a warning, not refused, as the
 * occurrence and the categories are (F3960). */
static void put_requisition(struct fx *x, struct jw *w, const cJSON *sr)
{
    const cJSON *c = fx_get(sr, "requisition");
    const char *value, *system, *type;
    if (c == NULL || cJSON_IsNull(c))
        return;
    size_t old = fx_key(x, "requisition");
    struct fx_try t = fx_try_begin(x);
    if (ident_read(x, c, &value, &system, &type)) {
        fx_try_forgive(x, &t, "not an Identifier; left out");
    } else if (value) {
        jw_key(w, "requisition");
        ident_write(w, value, system, type);
    }
    fx_pop(x, old);
}

/* The identifiers of resource `o` (its "identifier" array; the path at
 * `o`) into the referral's "identifiers". */
static int ref_idents(struct fx *x, struct jw *w, const cJSON *o,
                      struct ref_ids *ids)
{
    const cJSON *arr;
    size_t n;
    int rc;
    if ((rc = fx_arr(x, o, "identifier", &arr, &n)) || n == 0)
        return rc;
    size_t old = fx_key(x, "identifier");
    size_t i = 0;
    for (const cJSON *c = arr->child; c; c = c->next, i++) {
        size_t o2 = fx_idx(x, i);
        if ((rc = ref_ident(x, w, c, ids)))
            return rc;
        fx_pop(x, o2);
    }
    fx_pop(x, old);
    return HUB_OK;
}

/* Whether Reference `ref` names a ServiceRequest: its type says so, or
 * its reference is one (of the message and not refused by it, whether
 * before the Task or after: F2065; or "ServiceRequest/id"). With
 * neither, `untyped` decides. */
static bool ref_is_request(struct fx *x, const cJSON *ref, bool untyped)
{
    const char *type = cJSON_GetStringValue(fx_get(ref, "type"));
    const char *r = cJSON_GetStringValue(fx_get(ref, "reference"));
    if (type)
        return strcmp(type, "ServiceRequest") == 0;
    if (r == NULL)
        return untyped;
    const struct fx_entry *re = fx_resolve_settled(x, r);
    if (re)
        return strcmp(re->type, "ServiceRequest") == 0;
    return strncmp(fx_ref_name(x, r), "ServiceRequest/", 15) == 0;
}

/* A Task's references to its request by identifier (FHIR R4
 * Reference.identifier): focus, which a referral Task's is, unless its
 * type names another resource, and each basedOn that names a
 * ServiceRequest (its type or reference says so: basedOn may be a
 * CarePlan, whose number is not the referral's). */
static int task_request_idents(struct fx *x, struct jw *w, const cJSON *task,
                               struct ref_ids *ids)
{
    const cJSON *focus = fx_get(task, "focus");
    const cJSON *bo = fx_get(task, "basedOn");
    int rc;
    if (cJSON_IsObject(focus) && fx_get(focus, "identifier") &&
        ref_is_request(x, focus, true)) {
        size_t old = fx_key(x, "focus");
        fx_key(x, "identifier");
        if ((rc = ref_ident(x, w, fx_get(focus, "identifier"), ids)))
            return rc;
        fx_pop(x, old);
    }
    size_t i = 0;
    for (const cJSON *c = cJSON_IsArray(bo) ? bo->child : NULL; c;
         c = c->next, i++) {
        if (!cJSON_IsObject(c) || fx_get(c, "identifier") == NULL ||
            !ref_is_request(x, c, false))
            continue;
        size_t old = fx_key(x, "basedOn");
        fx_idx(x, i);
        fx_key(x, "identifier");
        if ((rc = ref_ident(x, w, fx_get(c, "identifier"), ids)))
            return rc;
        fx_pop(x, old);
    }
    return HUB_OK;
}

/* Whether ServiceRequest `sr` is a diagnostic or procedural order, not a
 * referral (F2000): its categories code it as one of the kinds of FHIR
 * R4's Service Request Category Codes that order a test or an operation
 * (SNOMED CT 108252007 Laboratory procedure, 363679005 Imaging, 387713003
 * Surgical procedure) or SNOMED CT's 103693007 Diagnostic procedure
 * (FHIR's Procedure Category Codes; the Health Care Surveys IG's chest CT
 * order sends it, F2321), and code nothing else. Any other coding
 * (409063005 Counselling, 409073007 Education, 3457005 Patient referral,
 * US Core's 386053000 and 410606002, an SDOHCC category, a local code), a
 * category of text alone, or none at all keeps it a referral, as every
 * request was before: a referral dropped costs a person a service. */
static bool sr_is_order(const cJSON *sr)
{
    static const char *const orders[] = { "108252007", "363679005",
                                          "387713003", "103693007" };
    const size_t n_orders = sizeof(orders) / sizeof(orders[0]);
    const cJSON *cats = fx_get(sr, "category");
    bool order = false;
    for (const cJSON *c = cJSON_IsArray(cats) ? cats->child : NULL; c;
         c = c->next) {
        const cJSON *cd = fx_get(c, "coding");
        bool coded = false;
        for (const cJSON *k = cJSON_IsArray(cd) ? cd->child : NULL; k;
             k = k->next) {
            const char *sys = cJSON_GetStringValue(fx_get(k, "system"));
            const char *code = cJSON_GetStringValue(fx_get(k, "code"));
            if (code == NULL)
                continue;
            coded = true;
            bool known = false;
            if (sys && dict_is_snomed(slice_from_cstr(sys)))
                for (size_t i = 0; i < n_orders && !known; i++)
                    known = strcmp(code, orders[i]) == 0;
            if (!known)
                return false;
            order = true;
        }
        if (!coded)
            return false;
    }
    return order;
}

/* Whether ServiceRequest `sr` asks that its service NOT be performed
 * (F2320): R4 ServiceRequest.doNotPerform is a modifier element, "true
 * indicates that the service/procedure should NOT be performed"; read as
 * a referral, a "do not refer" is sent to every referral subscriber as
 * one to act on. */
static bool sr_do_not_perform(const cJSON *sr)
{
    return cJSON_IsTrue(fx_get(sr, "doNotPerform"));
}

int fx_service_request(struct fx *x, struct fx_entry *e)
{
    struct slice patient, body;
    struct jw w;
    struct orgs orgs = { .n = 0 };
    const char *authored, *st;
    int dnp, rc;
    if ((rc = fx_enum(x, e->res, "status", true, REQUEST_STATUS, &st)) ||
        (rc = fx_bool(x, e->res, "doNotPerform", &dnp)) ||
        (rc = fx_prologue(x, e, "subject", &patient)))
        return rc;
    if (dnp == 1) {
        fx_note_entry(x, e, "accepted with no event: a request not to "
                            "perform a service (doNotPerform) is not a "
                            "referral");
        return HUB_OK;
    }
    /* a lab, imaging, diagnostic or surgical order is context, as an
     * unreadable response is (F1800): no referral subscriber is sent it */
    if (sr_is_order(e->res)) {
        fx_note_entry(x, e, "accepted with no event: a laboratory, imaging, "
                            "diagnostic or surgical order is not a "
                            "referral");
        return HUB_OK;
    }
    fx_begin_body(x, &w, e);
    jw_kv_cstr(&w, "service_request", fx_entry_name(x, e));
    struct ref_ids ids = { .n = 0, .open = false };
    if ((rc = ref_idents(x, &w, e->res, &ids)))
        return rc;
    jw_arr_end_if(&w, ids.open);
    if ((rc = referral_from_sr(x, &w, e->res, true, &authored, &orgs)) ||
        (rc = fx_put_performed(x, &w, e, &orgs)))
        return rc;
    fx_put_orgs(x, &w, &orgs);
    if ((rc = fx_end_body(x, &w, &body)))
        return rc;
    /* a request still open is a new referral; a closed one is an update */
    bool open = strcmp(st, "draft") == 0 || strcmp(st, "active") == 0 ||
                strcmp(st, "on-hold") == 0;
    return fx_emit(x, e, open ? "referral.created" : "referral.updated",
                   authored, patient, "referral", body);
}

/* References of `arr` (its elements' `sub` member when `sub` is set) into
 * the open-as-needed array `key` of `w`, each name once: `seen` holds the
 * names written so far (at most `max`; past it, later names are written
 * without the check). */
static int refs_once(struct fx *x, struct jw *w, const cJSON *o,
                     const char *arr_key, const char *sub, const char *key,
                     bool *open, const char **seen, size_t *nseen, size_t max)
{
    const cJSON *arr;
    size_t n;
    int rc;
    if ((rc = fx_arr(x, o, arr_key, &arr, &n)) || n == 0)
        return rc;
    size_t old = fx_key(x, arr_key);
    size_t i = 0;
    for (const cJSON *c = arr->child; c; c = c->next, i++) {
        size_t o2 = fx_idx(x, i);
        const char *r = NULL;
        if (sub) {
            if (!cJSON_IsObject(c))
                return fx_fail(x, HUB_EINVALID, "expected an object");
            rc = fx_name_ref(x, c, sub, &r);
        } else {
            rc = fx_name_node(x, c, &r);    /* names only (F2103) */
        }
        if (rc)
            return rc;
        const char *name = r ? fx_name_of(x, r) : NULL;
        bool dup = false;
        for (size_t k = 0; name && k < *nseen && !dup; k++)
            dup = strcmp(seen[k], name) == 0;
        if (name && !dup) {
            jw_arr_lazy(w, key, open);
            jw_cstr(w, name);
            if (*nseen < max)
                seen[(*nseen)++] = name;
        }
        fx_pop(x, o2);
    }
    fx_pop(x, old);
    return HUB_OK;
}

/* supporting_info of a referral Task: its focus request's supportingInfo
 * (when the request is in the message, `sr`), then the resources the Task
 * gives as input. The SDOHCC Task For Referral Management (STU3) sends
 * the content that comes with a referral (lab results, immunizations, an
 * assessment) as input[AdditionalContent], type `additional-content`, a
 * Reference to any resource; FHIR R4 Task.input is the "information used
 * to perform the task". Every input that is a Reference is taken: the
 * hub carries references, not the resources (F68). */
static int supporting_refs(struct fx *x, struct jw *w, const struct fx_entry *sr,
                           const struct fx_entry *task)
{
    const char *seen[32];
    size_t nseen = 0;
    bool open = false;
    int rc;
    if (sr) {
        struct fx_saved_path sp;
        fx_path_save(x, &sp);
        fx_at_entry(x, sr);
        rc = refs_once(x, w, sr->res, "supportingInfo", NULL,
                       "supporting_info", &open, seen, &nseen, 32);
        if (rc)
            return rc;
        fx_path_restore(x, &sp);
    }
    if ((rc = refs_once(x, w, task->res, "input", "valueReference",
                        "supporting_info", &open, seen, &nseen, 32)))
        return rc;
    jw_arr_end_if(w, open);
    return HUB_OK;
}

bool fx_task_is_referral(const cJSON *o, const char *focus)
{
    if (focus && strstr(focus, "ServiceRequest/"))
        return true;
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(o, "code");
    const cJSON *cd = cJSON_GetObjectItemCaseSensitive(code, "coding");
    for (const cJSON *k = cJSON_IsArray(cd) ? cd->child : NULL; k; k = k->next) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(k, "code");
        if (cJSON_IsString(v) && strcmp(v->valuestring, "fulfill") == 0)
            return true;
    }
    return false;
}

/* Whether the Task and the request it fulfils are about two people:
 * both name theirs by reference and not one person in two forms (F2740),
 * or each names a Patient of the message, in whichever form, and they
 * are two (F3021). A reference beside an identifier of no Patient here
 * may be one person */
static bool task_names_another(struct fx *x, const cJSON *task,
                               const cJSON *request)
{
    const cJSON *who = fx_get(task, "for"), *subj = fx_get(request, "subject");
    if (fx_ref_of(task, "for") && fx_ref_of(request, "subject"))
        return !fx_same_patient(x, who, subj);
    const struct fx_entry *a = fx_patient_entry(x, who),
                          *b = fx_patient_entry(x, subj);
    return a && b && a != b;
}

int fx_task(struct fx *x, struct fx_entry *e)
{
    static const char *const intents[] = { "unknown", "proposal", "plan",
        "order", "original-order", "reflex-order", "filler-order",
        "instance-order", "option", NULL };
    const cJSON *o = e->res;
    struct slice patient, body;
    struct jw w;
    struct orgs orgs = { .n = 0 };
    const char *st, *intent, *focus, *authored, *modified, *req;
    struct fx_code reason, biz;
    int rc;
    /* a request of the batch refused in its turn gives the Task nothing,
     * whether that turn comes before the Task's or after (F2065) */
    fx_resolve_settled(x, fx_ref_of(o, "focus"));
    if ((rc = fx_str(x, o, "status", true, &st)) ||
        (rc = fx_enum(x, o, "intent", true, intents, &intent)) ||
        (rc = fx_ref(x, o, "focus", false, &focus)))
        return rc;
    const struct dict_task_status *ts =
        dict_task_status_find(x->d, slice_from_cstr(st));
    if (ts == NULL) {
        fx_key(x, "status");
        return fx_fail(x, HUB_EINVALID, "status is not a FHIR TaskStatus");
    }
    struct fx_entry *fe = fx_resolve(x, focus);
    if (!fx_task_is_referral(o, focus) &&
        !(fe && strcmp(fe->type, "ServiceRequest") == 0))
        return HUB_OK;          /* a patient task (questionnaire, ...) */
    bool sr_focus = fe && strcmp(fe->type, "ServiceRequest") == 0;
    if (sr_focus && fx_get(o, "for") == NULL) {
        /* Task.for is 0..1 in R4 (the Dutch shared care plan's Tasks leave
         * it out); the request's subject is 1..1: the referral's patient
         * is the one the ServiceRequest in this message names */
        if ((rc = fx_labels(x, o)))
            return rc;
        fx_at_entry(x, fe);
        if ((rc = fx_patient(x, fe->res, "subject", &patient)))
            return rc;
        fx_at_entry(x, e);
    } else if ((rc = fx_prologue(x, e, "for", &patient))) {
        return rc;
    }
    /* the fulfilment of a lab, imaging, diagnostic or surgical order of
     * this message is context as the order is (F2000, F2003); one whose
     * request is not in the message cannot be told apart and stays a
     * referral's update */
    if (sr_focus && sr_is_order(fe->res)) {
        fx_note_entry(x, e, "accepted with no event: the task's focus is a "
                            "laboratory, imaging, diagnostic or surgical "
                            "order, not a referral");
        return HUB_OK;
    }
    /* and so is the Task of a request not to perform (F2320) */
    if (sr_focus && sr_do_not_perform(fe->res)) {
        fx_note_entry(x, e, "accepted with no event: the task's focus is a "
                            "request not to perform a service, not a "
                            "referral");
        return HUB_OK;
    }
    /* the Task and the request it fulfils are about one person; a Task
     * "for" someone else (a copy-paste slip in a sender's template) is
     * carried as sent, with a warning, since either may be the mistake;
     * one person in two forms is no slip (F2740, F2762); two Patients of
     * the message are two, however each side names its own (F3021) */
    if (fe && strcmp(fe->type, "ServiceRequest") == 0 &&
        task_names_another(x, o, fe->res))
        fx_warn(x, "for", "task is for another patient than its focus "
                          "ServiceRequest's subject");
    /* the referral's id is its ServiceRequest, so that the request and
     * every Task update share one history */
    const char *sr_name = focus ? fx_ref_name(x, focus) : NULL;
    fx_begin_body_id(x, &w, sr_name ? sr_name : fx_entry_name(x, e));
    jw_kv_cstr(&w, "status", ts->code);
    jw_key(&w, "terminal");
    jw_bool(&w, ts->terminal);
    if ((rc = fx_cc(x, o, "statusReason", NULL, &reason)) ||
        (rc = fx_cc(x, o, "businessStatus", NULL, &biz)))
        return rc;
    jw_kv_cstr(&w, "status_reason", reason.code ? reason.code : reason.text);
    jw_kv_cstr(&w, "business_status", biz.code ? biz.code : biz.text);
    jw_kv_cstr(&w, "intent", intent);
    /* how soon: the Task's own priority (RequestPriority, as the
     * request's), else its request's when that is in the message. Before,
     * a Task's event had none, so the referral.updated of an urgent
     * referral read as if nobody had said (F81) */
    const char *prio;
    if ((rc = fx_str(x, o, "priority", false, &prio)))
        return rc;
    if (prio == NULL && fe && strcmp(fe->type, "ServiceRequest") == 0)
        prio = cJSON_GetStringValue(fx_get(fe->res, "priority"));
    jw_kv_cstr(&w, "priority", prio);
    if (fe && strcmp(fe->type, "ServiceRequest") == 0) {
        /* the focus is in this message: take domain and service from it */
        struct fx_saved_path sp;
        fx_path_save(x, &sp);
        fx_at_entry(x, fe);
        if ((rc = referral_from_sr(x, &w, fe->res, false, NULL, &orgs)))
            return rc;
        fx_path_restore(x, &sp);
    }
    if (!fe || !cJSON_GetObjectItemCaseSensitive(fe->res, "requester")) {
        if ((rc = fx_put_name(x, &w, o, "requester", "requester", &req)))
            return rc;
        fx_orgs_add(&orgs, "requester", req, o);
    } else {
        /* the request names who asked for the service; the Task names who
         * asked for it to be fulfilled (a coordination platform, an SCN):
         * kept apart when it is someone else */
        if ((rc = fx_name_ref(x, o, "requester", &req)))
            return rc;
        const char *tr = fx_name_of(x, req);
        const char *sr_req = fx_name_of(x, fx_ref_of(fe->res, "requester"));
        if (tr && !(sr_req && strcmp(tr, sr_req) == 0)) {
            jw_kv_cstr(&w, "task_requester", tr);
            fx_orgs_add(&orgs, "task_requester", req, o);
        }
    }
    const char *owner;
    if ((rc = fx_put_name(x, &w, o, "owner", "owner", &owner)))
        return rc;
    if (owner && !(fe && cJSON_GetObjectItemCaseSensitive(fe->res, "performer"))) {
        jw_kv_cstr(&w, "performer", fx_name_of(x, owner));
        fx_orgs_add(&orgs, "performer", owner, o);
    }
    fx_orgs_add(&orgs, "owner", owner, o);
    if (owner == NULL && fx_get(o, "owner")) {
        /* an owner named by its identifier alone (the Dutch shared care
         * plan's SCPTask requires owner.identifier, its URA number): the
         * organization the referral is addressed to, as a performer so
         * named is kept */
        const cJSON *on = fx_get(o, "owner");
        if (!(fe && cJSON_GetObjectItemCaseSensitive(fe->res, "performer")))
            fx_orgs_add_logical(&orgs, "performer", on);
        fx_orgs_add_logical(&orgs, "owner", on);
    }
    jw_kv_cstr(&w, "service_request", sr_name);
    jw_kv_cstr(&w, "task", fx_entry_name(x, e));
    /* the referral's numbers: the Task's own, its request's when the
     * message holds it, and the request's as the Task names it */
    struct ref_ids ids = { .n = 0, .open = false };
    if ((rc = ref_idents(x, &w, o, &ids)))
        return rc;
    if (fe && strcmp(fe->type, "ServiceRequest") == 0) {
        struct fx_saved_path sp;
        fx_path_save(x, &sp);
        fx_at_entry(x, fe);
        if ((rc = ref_idents(x, &w, fe->res, &ids)))
            return rc;
        fx_path_restore(x, &sp);
    }
    if ((rc = task_request_idents(x, &w, o, &ids)))
        return rc;
    jw_arr_end_if(&w, ids.open);
    /* partOf: the Task this one is a sub-task of */
    if ((rc = fx_put_names(x, &w, o, "partOf", "part_of")) ||
        (rc = supporting_refs(x, &w,
                              fe && strcmp(fe->type, "ServiceRequest") == 0
                                  ? fe : NULL, e)))
        return rc;
    if ((rc = fx_put_date(x, &w, o, "authoredOn", "authored_at", &authored)) ||
        (rc = fx_put_date(x, &w, o, "lastModified", "last_modified", &modified)))
        return rc;
    /* outputs: what was done (Procedure references) */
    const cJSON *outs;
    size_t no;
    if ((rc = fx_arr(x, o, "output", &outs, &no)))
        return rc;
    bool open = false;
    size_t i = 0;
    for (const cJSON *c = outs ? outs->child : NULL; c; c = c->next, i++) {
        size_t old = fx_key(x, "output");
        fx_idx(x, i);
        const char *r = NULL;
        if (!cJSON_IsObject(c))
            return fx_fail(x, HUB_EINVALID, "expected an output object");
        if (cJSON_GetObjectItemCaseSensitive(c, "valueReference") &&
            (rc = fx_name_ref(x, c, "valueReference", &r)))
            return rc;
        if (r) {
            jw_arr_lazy(&w, "outputs", &open);
            jw_cstr(&w, fx_name_of(x, r));
            fx_warn_output_of_another(x, o, fx_ref_of(c, "valueReference"));
        }
        fx_pop(x, old);
    }
    jw_arr_end_if(&w, open);
    if ((rc = fx_put_performed(x, &w, e, &orgs)))
        return rc;
    fx_put_orgs(x, &w, &orgs);
    if ((rc = fx_end_body(x, &w, &body)))
        return rc;
    return fx_emit(x, e, "referral.updated", modified ? modified : authored,
                   patient, "referral", body);
}

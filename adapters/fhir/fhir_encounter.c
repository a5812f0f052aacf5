/*
 * fhir_encounter.c - the admission, discharge or transfer of a Da Vinci
 * Unsolicited Notifications message (F3080, F3160): a `message` Bundle
 * whose MessageHeader.eventCoding (the IG's notification-event code
 * system) is notification-admit, -discharge or -transfer names in focus
 * the Encounter the notification is about. That Encounter gives adt.admit,
 * adt.discharge or adt.transfer with the encounter body HL7 v2 ADT gives
 * (adapters/hl7v2/adt_visit.c), member by member as far as FHIR carries
 * it, mapped as the IG's Direct-to-Da-Vinci table maps PV1 and DG1; a
 * cancelled or planned one the event HL7 v2 gives the same visit (A11-A13,
 * A05: F3305). Any other Encounter stays context (F516).
 */
#include <stddef.h>

#include "common/ptrset.h"
#include "fhir/fhir_int.h"

#define NOTIFICATION_EVENT \
    "http://hl7.org/fhir/us/davinci-alerts/CodeSystem/notification-event"
#define LOCATION_PHYSICAL_TYPE \
    "http://terminology.hl7.org/CodeSystem/location-physical-type"
#define V2_0112 "http://terminology.hl7.org/CodeSystem/v2-0112"
#define LOCATION_DEPTH 6        /* partOf steps followed: bed to site */

/* ---- the message's event ---- */

static const char *notification_topic(const char *code)
{
    if (strcmp(code, "notification-admit") == 0)
        return "adt.admit";
    if (strcmp(code, "notification-discharge") == 0)
        return "adt.discharge";
    if (strcmp(code, "notification-transfer") == 0)
        return "adt.transfer";
    return NULL;
}

void fx_mark_notification(struct fx *x)
{
    const struct fx_entry *h = x->n_ents ? &x->ents[0] : NULL;
    if (h == NULL || h->failed || h->type == NULL ||
        strcmp(h->type, "MessageHeader") != 0)
        return;
    const cJSON *ev = fx_get(h->res, "eventCoding");
    const char *sys = fx_str_of(ev, "system"), *code = fx_str_of(ev, "code");
    const char *topic = sys && code && strcmp(sys, NOTIFICATION_EVENT) == 0
                            ? notification_topic(code)
                            : NULL;
    if (topic == NULL)
        return;
    const cJSON *focus = fx_get(h->res, "focus");
    bool named = false;
    for (const cJSON *f = cJSON_IsArray(focus) ? focus->child : NULL; f;
         f = f->next) {
        const char *r = fx_str_of(f, "reference");
        struct fx_entry *e = r ? fx_resolve_meant(x, r) : NULL;
        if (e && !e->failed && e->type && strcmp(e->type, "Encounter") == 0) {
            e->adt_topic = topic;
            named = true;
        }
    }
    /* a sender whose focus names its Encounter otherwise (an identifier,
     * a resource contained in the header, an entry left out) learns why
     * its notification reached no one (F3309) */
    if (!named)
        x->ents[0].note = "no admission, discharge or transfer event: the "
                          "notification's focus names no Encounter entry "
                          "of the message";
}

/* ---- class ---- */

static bool is_act_code(const char *sys)
{
    return sys == NULL ||
           strcmp(sys, "http://terminology.hl7.org/CodeSystem/v3-ActCode") ==
               0 ||
           strcmp(sys, "http://hl7.org/fhir/v3/ActCode") == 0 ||
           strcmp(sys, "urn:oid:2.16.840.1.113883.5.4") == 0;
}

/* Encounter.class (a v3 ActEncounterCode Coding) as the schema's class,
 * and HL7 table 0004's code where adt_class_of maps exactly one code of
 * the table to it (I, O, E, P); OBSENC, ACUTE and the others have none */
static int put_class(struct fx *x, struct jw *w, const cJSON *o)
{
    static const char *const map[][2] = {
        { "IMP", "I" }, { "AMB", "O" }, { "EMER", "E" }, { "PRENC", "P" },
        { "SS", NULL }, { "VR", NULL }, { "HH", NULL }, { "ACUTE", NULL },
        { "NONAC", NULL }, { "OBSENC", NULL },
    };
    const cJSON *c;
    struct fx_code k = { 0 };
    int rc;
    if ((rc = fx_obj(x, o, "class", false, &c)) || c == NULL)
        return rc;
    size_t old = fx_key(x, "class");
    if ((rc = fx_coding(x, c, &k)))
        return rc;
    fx_pop(x, old);
    if (k.code == NULL || !is_act_code(k.system))
        return HUB_OK;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(k.code, map[i][0]) == 0) {
            jw_kv_cstr(w, "patient_class", map[i][1]);
            jw_kv_cstr(w, "class", map[i][0]);
            break;
        }
    return HUB_OK;
}

/* ---- location ---- */

/* The PL members, each a Location's name by its physicalType */
struct place {
    const char *poc, *room, *bed, *facility, *building, *floor, *desc;
};

/* The member of `p` a Location of physicalType `t` names: ward (a
 * nursing unit, PL-1's point of care), room, bed, level (floor),
 * building, site (PL-4's facility); NULL for the others */
static const char **place_slot(struct place *p, const char *t)
{
    static const struct { const char *code; size_t off; } map[] = {
        { "wa", offsetof(struct place, poc) },
        { "ro", offsetof(struct place, room) },
        { "bd", offsetof(struct place, bed) },
        { "lvl", offsetof(struct place, floor) },
        { "bu", offsetof(struct place, building) },
        { "si", offsetof(struct place, facility) },
    };
    for (size_t i = 0; t && i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(t, map[i].code) == 0)
            return (const char **)((char *)p + map[i].off);
    return NULL;
}

/* The location-physical-type code of CodeableConcept `cc`, or NULL */
static const char *physical_type(const cJSON *cc)
{
    const cJSON *cd = fx_get(cc, "coding");
    for (const cJSON *k = cJSON_IsArray(cd) ? cd->child : NULL; k;
         k = k->next) {
        const char *s = fx_str_of(k, "system"), *c = fx_str_of(k, "code");
        if (c && (s == NULL || strcmp(s, LOCATION_PHYSICAL_TYPE) == 0))
            return c;
    }
    return NULL;
}

/* The resource of `type` that `ref` of the Encounter `o` names: contained
 * in it ("#id"), or an entry of the message; NULL else */
static const cJSON *named_in(struct fx *x, const cJSON *o, const char *ref,
                             const char *type)
{
    const cJSON *r = NULL;
    if (ref && ref[0] == '#') {
        r = fx_contained(x, o, ref, NULL);
    } else if (ref) {
        const struct fx_entry *e = fx_resolve_meant(x, ref);
        r = e && !e->failed ? e->res : NULL;
    }
    const char *t = fx_str_of(r, "resourceType");
    return t && strcmp(t, type) == 0 ? r : NULL;
}

/* `*slot` takes `v` when it holds nothing yet */
static void fill(const char **slot, const char *v)
{
    if (*slot == NULL)
        *slot = v;
}

/* Encounter.location[] element `el` added to the place `p`: its
 * Location's name in the member its physicalType names (the description
 * when none does), then each Location it is partOf, up the chain, each in
 * a member still empty; a Location not in the message gives the
 * reference's display. Nothing for `el` NULL. */
static void place_add(struct fx *x, const cJSON *o, const cJSON *el,
                      struct place *p)
{
    const cJSON *ref = fx_get(el, "location");
    const char *r = fx_str_of(ref, "reference");
    const cJSON *l = named_in(x, o, r, "Location");
    if (l == NULL) {
        fill(&p->desc, fx_str_of(ref, "display"));
        return;
    }
    const char *t = physical_type(fx_get(l, "physicalType"));
    if (t == NULL)
        t = physical_type(fx_get(el, "physicalType"));
    const char **slot = place_slot(p, t);
    fill(slot ? slot : &p->desc, fx_str_of(l, "name"));
    for (int d = 0; d < LOCATION_DEPTH; d++) {
        r = fx_str_of(fx_get(l, "partOf"), "reference");
        if ((l = named_in(x, o, r, "Location")) == NULL)
            break;
        slot = place_slot(p, physical_type(fx_get(l, "physicalType")));
        if (slot)
            fill(slot, fx_str_of(l, "name"));
    }
}

static bool place_empty(const struct place *p)
{
    return !p->poc && !p->room && !p->bed && !p->facility && !p->building &&
           !p->floor && !p->desc;
}

static void put_place(struct jw *w, const char *key, const struct place *p)
{
    if (place_empty(p))
        return;
    jw_key(w, key);
    jw_obj_begin(w);
    jw_kv_cstr(w, "point_of_care", p->poc);
    jw_kv_cstr(w, "room", p->room);
    jw_kv_cstr(w, "bed", p->bed);
    jw_kv_cstr(w, "facility", p->facility);
    jw_kv_cstr(w, "building", p->building);
    jw_kv_cstr(w, "floor", p->floor);
    jw_kv_cstr(w, "description", p->desc);
    jw_obj_end(w);
}

/* Where the patient is, `here`, from Encounter.location[]: each active
 * element (R4: "the patient is currently at this location"; a sender may
 * list the ward, the room and the bed as elements of their own, each
 * with its physicalType: F3300), else the first with no status; once the
 * encounter is finished, none so, the last completed one (at a discharge
 * every location is completed: where the visit ended, F3301). `before`,
 * where the patient was (the IG's prior location of a transfer, PV1-6):
 * the last completed one before that. `*arrived` the element whose
 * period.start says when the patient came (the first of `here`'s), or
 * NULL. */
static void locations_read(struct fx *x, const cJSON *o, bool finished,
                           struct place *here, struct place *before,
                           const cJSON **arrived)
{
    const cJSON *locs = fx_get(o, "location"), *bare = NULL, *last = NULL,
                *earlier = NULL;
    memset(here, 0, sizeof(*here));
    memset(before, 0, sizeof(*before));
    *arrived = NULL;
    for (const cJSON *el = cJSON_IsArray(locs) ? locs->child : NULL; el;
         el = el->next) {
        const char *s = fx_str_of(el, "status");
        if (s == NULL && bare == NULL) {
            bare = el;
        } else if (s && strcmp(s, "active") == 0) {
            if (*arrived == NULL)
                *arrived = el;
            place_add(x, o, el, here);
        } else if (s && strcmp(s, "completed") == 0) {
            earlier = last;
            last = el;
        }
    }
    if (*arrived == NULL) {     /* no active one */
        if (bare) {
            *arrived = bare;
        } else if (finished && last) {
            *arrived = last;
            last = earlier;
        }
        place_add(x, o, *arrived, here);
    }
    place_add(x, o, last, before);
}

/* The name of the Organization `ref` of `o` names (serviceProvider),
 * else the reference's display */
static const char *org_name(struct fx *x, const cJSON *o, const char *key)
{
    const cJSON *ref = fx_get(o, key);
    const char *name = fx_str_of(
        named_in(x, o, fx_str_of(ref, "reference"), "Organization"), "name");
    return name ? name : fx_str_of(ref, "display");
}

/* ---- attending ---- */

static bool is_attender(const cJSON *participant)
{
    const cJSON *types = fx_get(participant, "type");
    return cJSON_IsArray(types) && fx_has_code(types, NULL, "ATND");
}

/* The first participant of type ATND (PV1-7's attending, as the IG maps
 * it) that names a Practitioner of the message or contained in the
 * Encounter (F3302): its NPI (else its first
 * identifier), its first name's family and first given name */
static void put_attending(struct fx *x, struct jw *w, const cJSON *o)
{
    const cJSON *ps = fx_get(o, "participant");
    for (const cJSON *p = cJSON_IsArray(ps) ? ps->child : NULL; p;
         p = p->next) {
        const char *r = fx_str_of(fx_get(p, "individual"), "reference");
        const cJSON *doc =
            is_attender(p) ? named_in(x, o, r, "Practitioner") : NULL;
        if (doc == NULL)
            continue;
        const char *id = NULL;
        const cJSON *ids = fx_get(doc, "identifier");
        for (const cJSON *k = cJSON_IsArray(ids) ? ids->child : NULL; k;
             k = k->next) {
            const char *s = fx_str_of(k, "system"), *v = fx_str_of(k, "value");
            if (v && s && strcmp(s, "http://hl7.org/fhir/sid/us-npi") == 0) {
                id = v;
                break;
            }
            if (v && id == NULL)
                id = v;
        }
        const cJSON *names = fx_get(doc, "name");
        const cJSON *n0 = cJSON_IsArray(names) ? names->child : NULL;
        const cJSON *given = fx_get(n0, "given");
        const cJSON *g0 = cJSON_IsArray(given) ? given->child : NULL;
        const char *family = fx_str_of(n0, "family");
        const char *g = cJSON_IsString(g0) && g0->valuestring[0]
                            ? g0->valuestring : NULL;
        if (!id && !family && !g)
            continue;
        jw_key(w, "attending");
        jw_arr_begin(w);
        jw_obj_begin(w);
        jw_kv_cstr(w, "id", id);
        jw_kv_cstr(w, "family", family);
        jw_kv_cstr(w, "given", g);
        jw_obj_end(w);
        jw_arr_end(w);
        return;
    }
}

/* ---- visit number ---- */

static bool typed_vn(const cJSON *ident)
{
    const cJSON *cd = fx_get(fx_get(ident, "type"), "coding");
    for (const cJSON *k = cJSON_IsArray(cd) ? cd->child : NULL; k;
         k = k->next) {
        const char *s = fx_str_of(k, "system"), *c = fx_str_of(k, "code");
        if (c && strcmp(c, "VN") == 0 && (s == NULL || fx_is_table_0203(s)))
            return true;
    }
    return false;
}

/* PV1-19: the identifier of type VN (the IG's visit number), else the
 * first with no type at all (an account number, AN, is not the visit) */
static const char *visit_number(const cJSON *o)
{
    const cJSON *ids = fx_get(o, "identifier");
    const char *untyped = NULL;
    for (const cJSON *k = cJSON_IsArray(ids) ? ids->child : NULL; k;
         k = k->next) {
        const char *v = fx_str_of(k, "value");
        if (v && typed_vn(k))
            return v;
        if (v && untyped == NULL && fx_get(k, "type") == NULL)
            untyped = v;
    }
    return untyped;
}

/* ---- diagnoses ---- */

/* One diagnosis as DG1 gives it: the code of `cc` the Condition's own
 * event would tell (fx_cc_best_system), its labels and its domain: that
 * of Condition `cond` as its own event tells it (F3307: a Gravity
 * category first, the catch-all last), else, for a reasonCode, its code's
 * by the dictionary (what DG1 reads); `type` table 0052's code. A concept
 * the reading refuses is left out, a category it refuses gives no domain,
 * each warned at the current path: a Condition contained in the
 * Encounter, or the Encounter's own reasonCode, has no pass of its own to
 * report it (F4101). */
static void put_diagnosis(struct fx *x, struct jw *w, bool *open,
                          const cJSON *cc, const cJSON *cond,
                          const char *type)
{
    struct fx_try t = fx_try_begin(x);
    struct fx_code k;
    const char *dom = NULL;
    int rc = fx_cc_node(x, cc, fx_cc_best_system(cc), &k);
    bool no_dom = rc == HUB_OK && cond && fx_condition_domain(x, cond, &dom);
    fx_try_forgive(x, &t,
                   rc && cond ? "diagnosis whose code is not a "
                                "CodeableConcept: left out"
                   : rc       ? "not a CodeableConcept; left out"
                   : no_dom   ? "diagnosis whose category cannot be read: "
                                "told without its domain"
                              : NULL);
    if (no_dom)
        dom = NULL;
    if (rc || (!k.code && !k.display))
        return;
    fx_cc_labels(x, cc);
    jw_arr_lazy(w, "diagnoses", open);
    jw_obj_begin(w);
    jw_kv_cstr(w, "code", k.code);
    jw_kv_cstr(w, "system", k.system);
    jw_kv_cstr(w, "display", k.display);
    jw_kv_cstr(w, "type", type);
    jw_kv_cstr(w, "domain", cond ? dom : fx_cc_domain(x, cc));
    jw_obj_end(w);
}

/* diagnosis.use (diagnosis-role) as table 0052: AD, admission diagnosis,
 * is A (admitting); no other role is one code of the table */
static const char *diagnosis_type(const cJSON *use)
{
    const cJSON *cd = fx_get(use, "coding");
    for (const cJSON *k = cJSON_IsArray(cd) ? cd->child : NULL; k;
         k = k->next) {
        const char *c = fx_str_of(k, "code");
        if (c && strcmp(c, "AD") == 0)
            return "A";
    }
    return NULL;
}


/* Whether Condition `c` is an encounter-diagnosis (condition-category) */
static bool encounter_diagnosis(const cJSON *c)
{
    const cJSON *cats = fx_get(c, "category");
    return cJSON_IsArray(cats) &&
           fx_has_code(cats, NULL, "encounter-diagnosis");
}

/* Condition `c` as a diagnosis of Encounter `o`, with its own labels;
 * NULL, or why it gives nothing: it is of another patient (F2621), or
 * refuted or entered in error, no diagnosis of the visit (F3306: its own
 * event tells the receiver so), or its labels cannot be read: told
 * without them, a restricted diagnosis would reach those its label keeps
 * it from (F4100; one contained in `o` has no pass of its own to refuse
 * it) */
static const char *put_condition(struct fx *x, struct jw *w, bool *open,
                                 const cJSON *o, const cJSON *c,
                                 const char *type)
{
    if (!fx_same_patient(x, fx_get(o, "subject"), fx_get(c, "subject")))
        return "diagnosis of another patient than the encounter's: "
               "nothing taken from it";
    if (fx_condition_withdrawn(c))
        return "diagnosis refuted or entered in error "
               "(verificationStatus): left out";
    struct fx_try t = fx_try_begin(x);
    if (fx_labels(x, c) != HUB_OK) {
        fx_try_forgive(x, &t, NULL);
        return "diagnosis whose security labels (meta.security) cannot "
               "be read: left out";
    }
    put_diagnosis(x, w, open, fx_get(c, "code"), c, type);
    return NULL;
}

/* "diagnoses": each Condition that Encounter.diagnosis names, then each
 * encounter-diagnosis Condition of the message whose `encounter` names
 * this one (the IG maps DG1 so: its own admit example links its
 * Condition that way alone), each once, with its own labels; then each
 * reasonCode (PV2-3's admit reason, which the IG maps there) */
static void put_diagnoses(struct fx *x, struct jw *w, struct fx_entry *e)
{
    const cJSON *o = e->res;
    const cJSON *dx = fx_get(o, "diagnosis");
    /* the Conditions told, each once: room for every one diagnosis[]
     * and the message's entries can name (F3303); a set, not a scan of
     * those told (F3481: 9,900 diagnoses were 49 million compares) */
    struct ptrset told;
    ptrset_init(&told, x->a,
                (size_t)cJSON_GetArraySize(cJSON_IsArray(dx) ? dx : NULL) +
                    x->n_ents);
    bool open = false;
    size_t i = 0;
    for (const cJSON *d = cJSON_IsArray(dx) ? dx->child : NULL; d;
         d = d->next, i++) {
        const char *r = fx_str_of(fx_get(d, "condition"), "reference");
        const cJSON *c = named_in(x, o, r, "Condition");
        if (c == NULL || ptrset_seen(&told, c))
            continue;
        /* what the reading leaves out is warned here, at the reference */
        size_t old = fx_key(x, "diagnosis");
        fx_idx(x, i);
        fx_key(x, "condition");
        const char *why = put_condition(x, w, &open, o, c,
                                        diagnosis_type(fx_get(d, "use")));
        if (why)
            fx_warn(x, NULL, why);
        fx_pop(x, old);
    }
    for (size_t k = 0; k < x->n_ents; k++) {
        const struct fx_entry *ce = &x->ents[k];
        if (ce->failed || ce->type == NULL ||
            strcmp(ce->type, "Condition") != 0 ||
            !encounter_diagnosis(ce->res))
            continue;
        const char *r = fx_str_of(fx_get(ce->res, "encounter"), "reference");
        if (r == NULL || fx_resolve_meant(x, r) != e ||
            ptrset_seen(&told, ce->res))
            continue;
        struct fx_saved_path here;
        fx_path_save(x, &here);
        fx_at_entry(x, ce);
        fx_key(x, "encounter");
        const char *why = put_condition(x, w, &open, o, ce->res, NULL);
        if (why)
            fx_warn(x, NULL, why);
        fx_path_restore(x, &here);
    }
    const cJSON *rc = fx_get(o, "reasonCode");
    size_t old = fx_key(x, "reasonCode");
    i = 0;
    for (const cJSON *k = cJSON_IsArray(rc) ? rc->child : NULL; k;
         k = k->next, i++) {
        size_t o2 = fx_idx(x, i);
        put_diagnosis(x, w, &open, k, NULL, NULL);
        fx_pop(x, o2);
    }
    fx_pop(x, old);
    jw_arr_end_if(w, open);
}

/* ---- the event ---- */

/* The event an Encounter of status `status` gives under the notification
 * `topic`, as HL7 v2 gives the same visit's (adt.c): a cancelled one
 * cancels the event the notification names (A11, A12, A13: adt.update,
 * `*cancel_of` the trigger cancelled); a planned one under an admission
 * is a pre-admission (A05: adt.register), not "in the hospital now"
 * (F3305). */
static const char *status_topic(const char *topic, const char *status,
                                const char **cancel_of)
{
    static const char *const trigger[][2] = {
        { "adt.admit", "A01" }, { "adt.transfer", "A02" },
        { "adt.discharge", "A03" },
    };
    *cancel_of = NULL;
    if (status && strcmp(status, "cancelled") == 0) {
        for (size_t i = 0; i < sizeof(trigger) / sizeof(trigger[0]); i++)
            if (strcmp(topic, trigger[i][0]) == 0)
                *cancel_of = trigger[i][1];
        return "adt.update";
    }
    if (status && strcmp(status, "planned") == 0 &&
        strcmp(topic, "adt.admit") == 0)
        return "adt.register";
    return topic;
}

/* R4 EncounterStatus */
static const char *const ENCOUNTER_STATUS[] = { "planned", "arrived",
    "triaged", "in-progress", "onleave", "finished", "cancelled",
    "entered-in-error", "unknown", NULL };

/* Whether date-time a is on a day before b's, each in its own time (as
 * HL7 v2's PV1-45 check, F154) */
static bool day_before(const char *a, const char *b)
{
    return strlen(a) >= 10 && strlen(b) >= 10 && strncmp(a, b, 10) < 0;
}

/* The Encounter's period: admitted_at from its start; discharged_at from
 * its end once the encounter is finished (the IG: a discharge sets the
 * end and status finished); an end on one still going on is no discharge,
 * left out with a warning */
static int put_period(struct fx *x, struct jw *w, const cJSON *o,
                      const char *status, const char **adm,
                      const char **dis)
{
    const char *end;
    int rc = fx_period_start(x, o, "period", adm, &end);
    if (rc)
        return rc;
    *dis = NULL;
    if (end && status && strcmp(status, "finished") == 0)
        *dis = end;
    else if (end)
        fx_warn(x, "period.end", "the encounter is not finished: its "
                                 "period end is no discharge time; left out");
    if (*dis && *adm && day_before(*dis, *adm))
        fx_warn(x, "period.end", "discharge time is before the admission "
                                 "time");
    jw_kv_cstr(w, "admitted_at", *adm);
    jw_kv_cstr(w, "discharged_at", *dis);
    return HUB_OK;
}

int fx_encounter(struct fx *x, struct fx_entry *e)
{
    const cJSON *o = e->res;
    struct slice patient, body;
    struct jw w;
    struct fx_code svc, disp;
    const char *status, *adm, *dis, *cancel_of;
    int rc;
    if (fx_get(o, "subject") == NULL) {
        fx_note_entry(x, e, "accepted with no event: the notification's "
                            "encounter names no patient (subject)");
        return HUB_OK;
    }
    if ((rc = fx_enum(x, o, "status", false, ENCOUNTER_STATUS, &status)))
        return rc;
    if (status && strcmp(status, "entered-in-error") == 0) {
        fx_note_entry(x, e, "accepted with no event: the encounter was "
                            "entered in error");
        return HUB_OK;
    }
    /* a pending transfer or discharge, which HL7 v2 sends as A15 or A16
     * and the hub refuses there: nothing has happened to route (F3464) */
    if (status && strcmp(status, "planned") == 0 &&
        strcmp(e->adt_topic, "adt.admit") != 0) {
        fx_note_entry(x, e, "accepted with no event: a planned transfer or "
                            "discharge has not happened yet");
        return HUB_OK;
    }
    if ((rc = fx_prologue(x, e, "subject", &patient)))
        return rc;
    fx_begin_body(x, &w, e);
    if ((rc = put_class(x, &w, o)))
        return rc;
    const cJSON *now;
    struct place here, before;
    locations_read(x, o, status && strcmp(status, "finished") == 0, &here,
                   &before, &now);
    /* PV1-3.4's facility, else PV1-39's servicing facility */
    jw_kv_cstr(&w, "facility", here.facility ? here.facility
                                             : org_name(x, o, "serviceProvider"));
    put_place(&w, "location", &here);
    put_place(&w, "prior_location", &before);
    put_attending(x, &w, o);
    if ((rc = fx_cc(x, o, "serviceType", NULL, &svc)))
        return rc;
    jw_kv_cstr(&w, "hospital_service", svc.code);
    if ((rc = put_period(x, &w, o, status, &adm, &dis)))
        return rc;
    const cJSON *hosp;
    if ((rc = fx_obj(x, o, "hospitalization", false, &hosp)))
        return rc;
    /* PV1-36 is table 0112's code: that coding when the sender gives it
     * beside another (F3304) */
    size_t old = fx_key(x, "hospitalization");
    if ((rc = fx_cc(x, hosp, "dischargeDisposition", V2_0112, &disp)))
        return rc;
    fx_pop(x, old);
    jw_kv_cstr(&w, "discharge_disposition", disp.code);
    jw_kv_cstr(&w, "visit_number", visit_number(o));
    put_diagnoses(x, &w, e);
    const char *topic = status_topic(e->adt_topic, status, &cancel_of);
    jw_kv_cstr(&w, "cancel_of", cancel_of);
    if ((rc = fx_end_body(x, &w, &body)))
        return rc;
    /* when the event happened, as the IG maps EVN-2: the admission's
     * start, the discharge's end, a transfer's arrival in its location;
     * else when the message was made (MSH-7's Bundle.timestamp), which is
     * when a cancel or a pre-admission was told: the period of a visit
     * cancelled or planned is when it was to be */
    const char *at = topic != e->adt_topic                        ? NULL
                     : strcmp(topic, "adt.admit") == 0            ? adm
                     : strcmp(topic, "adt.discharge") == 0        ? dis
                     : now ? fx_str_of(fx_get(now, "period"), "start")
                           : NULL;
    if (at && !fx_iso_ok(at))
        at = NULL;
    return fx_emit(x, e, topic, at ? at : x->sent_at, patient, "encounter",
                   body);
}

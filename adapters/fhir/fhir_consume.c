/*
 * fhir_consume.c - before events: the Observations of a message that a
 * QuestionnaireResponse or a panel of the same message already says
 * (derivedFrom, the same answers again, hasMember) are marked consumed
 * and make no screening of their own (fhir_screen_int.h); those said
 * only by a response that then gave no event are read alone (F1802).
 */
#include "fhir/fhir_screen_int.h"

#include <string.h>

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
            iq = fx_linkid_code(x, link->valuestring);
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
static bool repeats_a_response(struct fx *x, const struct fx_entry *e,
                               bool told)
{
    const char *subj = fx_ref_member(e->res, "subject");
    const char *enc = fx_ref_member(e->res, "encounter");
    const char *q = loinc_of(e->res, "code");
    if (!subj || !enc || !q || fx_get(e->res, "hasMember") ||
        fx_get(e->res, "component"))
        return false;
    for (size_t i = 0; i < x->n_ents; i++) {
        const struct fx_entry *t = &x->ents[i];
        const char *ts, *te;
        if (t->failed || (told && !t->told) ||
            strcmp(t->type, "QuestionnaireResponse") != 0 ||
            !(ts = fx_ref_member(t->res, "subject")) || strcmp(ts, subj) != 0 ||
            !(te = fx_ref_member(t->res, "encounter")) || strcmp(te, enc) != 0)
            continue;
        if (items_answer(x, t->res, q, e->res, 0))
            return true;
    }
    return false;
}

/* Whether the Observation is derivedFrom a QuestionnaireResponse of the
 * message (with `told`, one that gave an event). */
static bool derived_from_response(struct fx *x, const struct fx_entry *e,
                                  bool told)
{
    const cJSON *df = fx_get(e->res, "derivedFrom");
    for (const cJSON *r = cJSON_IsArray(df) ? df->child : NULL; r;
         r = r->next) {
        const cJSON *ref = fx_get(r, "reference");
        const struct fx_entry *t =
            cJSON_IsString(ref) ? fx_resolve_meant(x, ref->valuestring) : NULL;
        /* of the response's own patient: another's answer is read on
         * its own, not lost in this one's response (F2623) */
        if (t && !t->failed && (!told || t->told) &&
            strcmp(t->type, "QuestionnaireResponse") == 0 &&
            fx_same_patient(x, fx_get(e->res, "subject"),
                            fx_get(t->res, "subject")))
            return true;
    }
    return false;
}

/* F1802: the response's event carries what the Observation says; when no
 * response gave one (context: F1722, F1801; in progress: F1382; foreign
 * answers: F1383), nothing does, and the Observation is read alone (a
 * coded PHQ-9 item 9 extracted from a form of local link ids is a
 * screening, labelled psy). */
bool fx_said_by_a_told_response(struct fx *x, const struct fx_entry *e)
{
    return derived_from_response(x, e, true) ||
           (x->bundle && repeats_a_response(x, e, true));
}

const cJSON *fx_obs_subject(const struct fx_entry *e)
{
    const cJSON *s = fx_get(e->res, "subject");
    return s ? s : e->of_two_panels ? NULL : e->panel_subject;
}

/* Each panel's members looked up once, and their subjects read, for the
 * marking below and for the panel's reading (obs_members): every member
 * was looked up three times and its subject read as often (F2708) */
static void resolve_members(struct fx *x)
{
    for (size_t i = 0; i < x->n_ents; i++) {
        struct fx_entry *e = &x->ents[i];
        const cJSON *hm = fx_get(e->res, "hasMember");
        if (e->failed || !cJSON_IsArray(hm) || !hm->child ||
            strcmp(e->type, "Observation") != 0)
            continue;
        e->members = arena_alloc(x->a, (size_t)cJSON_GetArraySize(hm) *
                                           sizeof(*e->members));
        for (const cJSON *r = hm->child; r; r = r->next) {
            const cJSON *ref = fx_get(r, "reference");
            struct fx_member *m = &e->members[e->n_members++];
            m->ref = cJSON_IsString(ref) ? ref->valuestring : NULL;
            m->e = fx_resolve_meant(x, m->ref);
            m->subject = m->e ? fx_get(m->e->res, "subject") : NULL;
        }
    }
}

/* A member with no subject takes its panel's, as deep as hasMember nests
 * (a grouping Observation with none between a panel and its items): so
 * an item of another patient under it is not its panel's (F2582). A
 * grouping or item that panels of two patients name, and one under it, is
 * no one's (F2741, F2763): not the first panel's in the message's order,
 * nor one answer scoring two people's screenings */
static void mark_panel_subjects(struct fx *x)
{
    bool more = true;
    for (int depth = 0; more && depth <= FHIR_MAX_ITEM_DEPTH; depth++) {
        more = false;
        for (size_t i = 0; i < x->n_ents; i++) {
            const struct fx_entry *e = &x->ents[i];
            const cJSON *subj;
            if (!e->members ||
                !((subj = fx_obs_subject(e)) || e->of_two_panels))
                continue;
            for (size_t k = 0; k < e->n_members; k++) {
                const struct fx_member *m = &e->members[k];
                struct fx_entry *t = m->e;
                if (!t || t == e || t->of_two_panels ||
                    strcmp(t->type, "Observation") != 0 || m->subject)
                    continue;
                if (!t->panel_subject && subj) {
                    t->panel_subject = subj;
                    more = true;
                } else if (!subj ||
                           !fx_same_patient(x, t->panel_subject, subj)) {
                    t->of_two_panels = true;
                    more = true;
                }
            }
        }
    }
}

void fx_mark_consumed(struct fx *x)
{
    resolve_members(x);
    mark_panel_subjects(x);
    for (size_t i = 0; i < x->n_ents; i++) {
        struct fx_entry *e = &x->ents[i];
        if (e->failed || strcmp(e->type, "Observation") != 0)
            continue;
        /* not yet consumed: an earlier panel's member stays its member */
        if (!e->consumed && (derived_from_response(x, e, false) ||
                             (x->bundle && repeats_a_response(x, e, false))))
            e->consumed = e->of_response = true;
        const cJSON *subj = e->members ? fx_obs_subject(e) : NULL;
        for (size_t k = 0; k < e->n_members; k++) {
            const struct fx_member *m = &e->members[k];
            struct fx_entry *t = m->e;
            /* a panel of a known instrument always makes its own
             * screening: a hasMember cycle then hits the depth limit
             * instead of every member consuming every other */
            /* nor is a member of another patient, which refuses the
             * panel and is read on its own (F2582) */
            /* no one's grouping holds no one's members alone (F2741) */
            if (t && t != e && strcmp(t->type, "Observation") == 0 &&
                !fx_code_instrument(x, t->res) &&
                fx_same_patient(x, subj, m->subject) &&
                !(e->of_two_panels && m->subject)) {
                t->consumed = true;
                t->of_response = false;     /* the panel's, whatever else */
            }
        }
    }
    fx_mark_procedures(x);
}

/*
 * fhir_qr.c - screenings from QuestionnaireResponses (fhir_screen_int.h):
 * the items (nested, and under answers) as questions, a question being an
 * item's LOINC code, else its linkId read as one; the instrument named by
 * `questionnaire` or inferred from the questions; a response whose known
 * link ids are answered only with codes the dictionary does not list is
 * not a screening (F1383), nor is one of no known instrument none of
 * whose questions the dictionary knows and none of whose answers names
 * a domain (F1722, F1801).
 */
#include "fhir/fhir_screen_int.h"

#include <string.h>

/* "/88122-7" or "a/b/88122-7" -> "88122-7" when it looks like a LOINC code. */
const char *fx_linkid_code(struct fx *x, const char *link)
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
            q = fx_linkid_code(x, link);
        const struct dict_item *di =
            dict_item_find(x->d, NULL, slice_from_cstr(q));
        bool known = di || dict_sum_find(x->d, NULL, slice_from_cstr(q)) ||
                     dict_derived_find(x->d, NULL, slice_from_cstr(q));
        if (na > 0 || (ns == 0 && known)) {
            struct rsp *r;
            if ((rc = fx_rsp_new(x, s, q, &r)))
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
                if ((rc = fx_read_value(x, a, &s->r[idx], &any)))
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
 * one size are a guess between them: none (schemas/dict/README.md). A
 * sum's code alone names the sum's instrument (dict_sum_instrument). */
const struct dict_instrument *fx_infer_instrument(struct fx *x,
                                                  const struct scr *s)
{
    const struct dict_instrument *best = NULL;
    bool tie = false;
    size_t known = 0;
    /* a total sent alone (76504-0) is its instrument's screening, as the
     * C-CDA adapter names it (F2803) */
    if (s->n == 1)
        best = dict_sum_instrument(x->d, slice_from_cstr(s->r[0].question));
    if (best)
        return best;
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

/* Whether an answer names a domain whatever its question: one that
 * carries a domain of its own in an instrument, or a finding with a
 * domain (SNOMED CT, an ICD-10-CM Z code). A generic answer (Yes LA33-6,
 * No LA32-8, "Often true") is in the dictionary's lists but means
 * something only under a question the dictionary knows (F1801). */
static bool answer_names_domain(struct fx *x, const char *code)
{
    struct slice c = slice_from_cstr(code);
    return dict_answer_domain(x->d, c) || dict_snomed_domain(x->d, c) ||
           dict_icd10_domain(x->d, c);
}

/* Whether one item says something the dictionary knows: its question is
 * an item, a total or a derived item, or known by the label its answer
 * implies (PHQ-9 item 9, in security-labels.json "loinc"); an answer names
 * a domain; or, of an Observation, a category or finding names one. */
static bool item_known(struct fx *x, const struct rsp *r)
{
    struct slice q = slice_from_cstr(r->question);
    if (dict_item_find(x->d, NULL, q) || dict_sum_find(x->d, NULL, q) ||
        dict_derived_find(x->d, NULL, q) || dict_loinc_sensitivity(x->d, q))
        return true;
    if (r->cat_domain || r->n_cat || r->asserted >= 0 || r->q_finding)
        return true;
    for (size_t k = 0; k < r->n_answers; k++)
        if (answer_names_domain(x, r->answers[k]))
            return true;
    return false;
}

/* F1722: a response of no known instrument none of whose questions the
 * dictionary knows and none of whose answers names a domain (local link
 * ids, code-less or local answers: LHC-Forms' PHQ-9; a form of the
 * sender's own answered Yes or No, F1801) cannot be read. Sent on as a
 * screening of raw items, it carried a PHQ-9's self-harm answer with no
 * `psy` label to every screening subscriber: the hub cannot label what
 * it cannot read, so it forwards none of it (the response is context),
 * and the sender is told. A survey Observation, panel or loose items, is
 * held to the same rule (F3361): PACIO's functional and cognitive panels
 * reached every screening subscriber as items of no domain. */
bool fx_unread_screening(struct fx *x, const struct fx_entry *e,
                         const struct scr *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (item_known(x, &s->r[i]))
            return false;
    fx_note_entry(x, e, "accepted with no event: a response of no "
                        "instrument, question or answer the hub knows "
                        "is not read as a screening");
    return true;
}

/* ---- the entry point ---------------------------------------------------- */

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
    /* nothing in it the dictionary knows: context, and the sender told */
    if (in == NULL && fx_unread_screening(x, e, &s))
        return HUB_OK;
    if (in == NULL)
        in = fx_infer_instrument(x, &s);
    /* the screening's status in one vocabulary, FHIR ObservationStatus, as
     * an Observation panel and the CSV layouts give it: a completed
     * response is a final result (its amended one amended) */
    return fx_screening_finish(x, e, &s, in,
                               strcmp(status, "completed") == 0 ? "final"
                                                                : status,
                               authored, NULL, NULL, patient);
}

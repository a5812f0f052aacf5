/*
 * fhir_screen.c - a screening's scoring and its events (fhir_screen_int.h).
 *
 * A QuestionnaireResponse (fhir_qr.c) and an Observation (fhir_obs.c) are
 * both reduced to one list of responses (question LOINC, answer codes,
 * number, text, declined, the sender's POS/NEG and category) and scored
 * here by dict_score(): positivity is the hub's. The sender's own
 * statements (interpretation, its 88124-3 answer, its 95614-4 total) are
 * compared with the hub's result and a disagreement becomes a warning.
 * The body written is screening.completed's, and screening.positive's
 * when a domain is positive.
 */
#include "common/langtag.h"
#include "common/strset.h"
#include "fhir/fhir_screen_int.h"

#include <stdio.h>
#include <string.h>

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
    const char *a = fx_ref_member(e->res, "author");
    return a ? a : fx_ref_member(e->res, "source");
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

/* A total or derived item the dictionary computes, sent empty, is left
 * out as if not sent (F2404): the hub's own total or derived item stands,
 * and nothing says the person declined it. One whose answers are in
 * members not sent, or that the sender interpreted or asserted, is kept,
 * and not declined. */
static void drop_empty_computed(struct fx *x, const struct dict_instrument *in,
                                struct scr *s, struct dict_response *resp)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++) {
        const struct rsp *r = &s->r[i];
        if (!r->pending && r->sender_pos < 0 && r->asserted < 0 &&
            dict_item_computed_empty(x->d, in, &resp[i]))
            continue;
        s->r[n] = s->r[i];
        resp[n++] = resp[i];
    }
    s->n = n;
}

int fx_screening_finish(struct fx *x, struct fx_entry *e, struct scr *s,
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
    drop_empty_computed(x, in, s, resp);
    struct dict_scoring sc;
    int rc = dict_score(x->d, x->a, in, resp, s->n, &sc);
    if (rc)
        return fx_fail(x, rc, "screening has too many items");
    for (size_t i = 0; i < sc.n_labels; i++)
        fx_label_add(x, sc.labels[i]);  /* an answer that is itself sensitive */
    if (sc.unplaced_labelled)           /* F2860: at the resource */
        fx_warn(x, NULL, DICT_UNPLACED_LABELLED);

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
        /* unanswered either way, but only asked-declined is a refusal
         * (F23), the rule of every adapter (F2123); a total no one
         * answers (F2404) */
        if (dict_item_refused(ir, slice_from_cstr(r->absent)) && !r->pending &&
            !dict_item_computed_empty(x->d, in, &resp[i])) {
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
        /* a derived item sent is the sender's, compared (F2680) */
        if (dict_derived_disagrees(&sc, &resp[i], verdict) &&
            x->n_warns < FX_MAX_WARN)
            x->warns[x->n_warns++] = (struct fx_warn){
                r->field, DICT_DERIVED_DISAGREES };
        jw_obj_end(&w);
    }
    /* the hub's derived items the sender did not send, as every adapter
     * writes them */
    dict_write_derived_items(&w, &sc, resp, s->n);
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
            /* the item read as the sender's total (a borrowed sum's
             * only within its instrument, F4060) */
            const struct rsp *sent = find_q(s, sr->sum->code);
            if (sent && sent->has_value && sent->value != sr->value &&
                dict_sum_find(x->d, in, slice_from_cstr(sent->question)) &&
                x->n_warns < FX_MAX_WARN)
                x->warns[x->n_warns++] = (struct fx_warn){
                    sent->field, DICT_TOTAL_DISAGREES };
        }
        jw_obj_end(&w);
    }
    jw_arr_end_if(&w, scores);
    if (sender_said)
        dom_array(&w, "sender_positive_domains", sender, ns, true);
    /* where and by whom it was taken (F31), as the CSV adapter carries
     * ENCOUNTER_ID: a subscriber ties the screening to its visit */
    jw_kv_cstr(&w, "performer", fx_ref_name(x, performer_ref(e)));
    jw_kv_cstr(&w, "encounter",
               fx_ref_name(x, fx_ref_member(e->res, "encounter")));
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

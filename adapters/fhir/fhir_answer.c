/*
 * fhir_answer.c - an answer read into a screening's item (fhir_screen_int.h):
 * Observation.value[x] or QuestionnaireResponse.item.answer.value[x] (codes,
 * codings of a multi-select item, numbers and Quantities, an answer given
 * as its text, booleans, strings, dates, the types not carried) and
 * Observation.interpretation, the sender's POS / NEG.
 */
#include "fhir/fhir_screen_int.h"

#include <math.h>
#include <string.h>

#define UCUM "http://unitsofmeasure.org"
#define INTERP_SYS "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
#define MAX_ANSWERS 64              /* codes in one multi-select item */

int fx_rsp_new(struct fx *x, struct scr *s, const char *question,
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
    r->field = fx_here(x);
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

/*
 * An answer sent as its text (valueString "Yes", a CodeableConcept with
 * text alone: EHR flowsheet rows are exported so) for a dictionary question:
 * the code of the question's one answer whose display is that text
 * (dict_answer_by_display, as C-CDA's and CSV's words are read: F2263),
 * with a warning at `key`; the text stays on the item. Anything else
 * ("Y", two answers so displayed) is left as text: nothing is guessed.
 */
static int text_answer(struct fx *x, struct rsp *r, const char *key)
{
    const struct dict_answer *hit = dict_answer_by_display(
        x->d, slice_from_cstr(r->question), slice_from_cstr(r->text));
    if (hit == NULL)
        return HUB_OK;
    fx_warn(x, key, DICT_WORDS_READ_AS_CODE);
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
int fx_read_value(struct fx *x, const cJSON *o, struct rsp *r, bool *any)
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
int fx_read_interpretation(struct fx *x, const cJSON *o, struct rsp *r)
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

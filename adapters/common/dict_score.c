/*
 * dict_score.c - the instruments of the data dictionary: find an
 * instrument, an item, an answer, a sum or a derived rule, and score a
 * screening's responses (see dict.h; the parts of the module are in
 * dict_int.h). The look-ups live beside dict_score, their hottest caller,
 * so that GCC inlines them into it as it did in the one file.
 */
#include <stdint.h>
#include <string.h>

#include "common/dict_int.h"
#include "common/hub_err.h"
#include "common/jw.h"
#include "common/strset.h"

/* ---- instrument queries ------------------------------------------------------------ */

const struct dict_instrument *dict_instrument_find(const struct dict *d,
                                                   struct slice code)
{
    code = trim(code);
    for (size_t i = 0; i < d->n_inst; i++) {
        if (eq(d->inst[i].code, code))
            return &d->inst[i];
        for (size_t k = 0; k < d->inst[i].n_aliases; k++)
            if (eq(d->inst[i].aliases[k], code))
                return &d->inst[i];
    }
    return NULL;
}

size_t dict_instrument_count(const struct dict *d)
{
    return d->n_inst;
}

const struct dict_instrument *dict_instrument_at(const struct dict *d,
                                                 size_t i)
{
    return i < d->n_inst ? &d->inst[i] : NULL;
}

const struct dict_item *dict_item_find(const struct dict *d,
                                       const struct dict_instrument *inst,
                                       struct slice question)
{
    question = trim(question);
    if (inst)
        return item_in(inst, question);
    for (size_t i = 0; i < d->n_inst; i++) {
        const struct dict_item *it = item_in(&d->inst[i], question);
        if (it)
            return it;
    }
    return NULL;
}

const struct dict_answer *dict_answer_find(const struct dict_item *it,
                                           struct slice code)
{
    code = trim(code);
    struct dict_key k = key_of(code);
    for (size_t i = 0; i < it->n_answers; i++)
        if (key_is(&it->answers[i].key, it->answers[i].code, &k, code))
            return &it->answers[i];
    return NULL;
}

/* The sum of `in` coded `code`; a borrowed one only when `within`, the
 * instrument being known (F4060). */
static const struct dict_sum *sum_in(const struct dict_instrument *in,
                                     struct slice code, bool within)
{
    struct dict_key k = key_of(code);
    for (size_t j = 0; j < in->n_sums; j++)
        if (key_is(&in->sums[j].key, in->sums[j].code, &k, code) &&
            (within || !in->sums[j].borrowed))
            return &in->sums[j];
    return NULL;
}

const struct dict_sum *dict_sum_find(const struct dict *d,
                                     const struct dict_instrument *inst,
                                     struct slice code)
{
    code = trim(code);
    if (inst)
        return sum_in(inst, code, true);
    for (size_t i = 0; i < d->n_inst; i++) {
        const struct dict_sum *s = sum_in(&d->inst[i], code, false);
        if (s)
            return s;
    }
    return NULL;
}

const struct dict_instrument *dict_sum_instrument(const struct dict *d,
                                                  struct slice code)
{
    code = trim(code);
    for (size_t i = 0; i < d->n_inst; i++)
        if (sum_in(&d->inst[i], code, false))
            return &d->inst[i];
    return NULL;
}

const struct dict_derived *dict_derived_find(const struct dict *d,
                                             const struct dict_instrument *inst,
                                             struct slice code)
{
    code = trim(code);
    for (size_t i = 0; i < d->n_inst; i++) {
        const struct dict_instrument *in = &d->inst[i];
        if (inst && in != inst)
            continue;
        for (size_t j = 0; j < in->n_derived; j++)
            if (eq(in->derived[j].code, code))
                return &in->derived[j];
    }
    return NULL;
}

/* ---- scoring ------------------------------------------------------------------------- */

static bool item_knows_all(const struct dict_item *it,
                           const struct dict_response *r)
{
    for (size_t k = 0; k < r->n_answers; k++)
        if (dict_answer_find(it, r->answers[k]) == NULL)
            return false;
    return true;
}

/*
 * The item a response answers. The panel's own item comes first; a question
 * the panel lacks (or no panel) is looked up in every instrument, preferring
 * one whose answer list knows every code sent: 93030-5 has AHC answers in
 * one instrument and PRAPARE answers in another.
 */
static const struct dict_item *resolve_item(const struct dict *d,
                                            const struct dict_instrument *inst,
                                            const struct dict_response *r,
                                            const struct dict_key *k)
{
    struct slice q = trim(r->question);
    if (inst) {
        const struct dict_item *it = item_key_in(inst, q, k);
        if (it)
            return it;
    }
    const struct dict_item *first = NULL;
    for (size_t i = 0; i < d->n_inst; i++) {
        const struct dict_item *it = item_key_in(&d->inst[i], q, k);
        if (it == NULL)
            continue;
        if (first == NULL)
            first = it;
        if (item_knows_all(it, r))
            return it;
    }
    return first;
}

/* The lists are sized by dict_score for every domain it can meet. */
static void add_domain(const char **list, size_t *n, const char *dom)
{
    strset_add(list, n, SIZE_MAX, dom);
}

/* The value a response gives a summed item: its answer's points, or the
 * number sent; false when declined, absent or unknown. */
static bool part_value(const struct dict_item *it,
                       const struct dict_response *r, int64_t *v)
{
    if (r->declined)
        return false;
    for (size_t k = 0; k < r->n_answers; k++) {
        const struct dict_answer *a = dict_answer_find(it, r->answers[k]);
        if (a && a->has_value && !a->declined) {
            *v = a->value;
            return true;
        }
    }
    if (r->has_value) {
        *v = r->value;
        return true;
    }
    return false;
}

/* The response to code q (key qk); rk[] are the keys of the responses'
 * trimmed questions. The last answer wins when a question is sent twice. */
static const struct dict_response *find_resp(const struct dict_response *r,
                                             const struct dict_key *rk,
                                             size_t n, const char *q,
                                             const struct dict_key *qk)
{
    for (size_t i = n; i-- > 0;)
        if (key_eq(qk, &rk[i]) &&
            (qk->len <= 16 || memcmp(q, trim(r[i].question).p, qk->len) == 0))
            return &r[i];
    return NULL;
}

static void add_label(struct dict_scoring *out, const char *label)
{
    strset_add(out->labels, &out->n_labels, DICT_MAX_SCORE_LABELS, label);
}

/* Whether response `r` implies the label of a row with `rule`. */
static bool sens_implied(const struct dict_sens_rule *rule,
                         const struct dict_response *r)
{
    if (rule == NULL)
        return true;
    for (size_t i = 0; i < r->n_answers; i++)
        for (size_t k = 0; k < rule->n_answers; k++)
            if (slice_eq(trim(r->answers[i]), rule->answers[k]))
                return true;
    return rule->has_above && r->has_value && r->value > rule->above;
}

/* Whether the question `q` (key `qk`) was sent and placed. */
static bool placed(const struct dict_scoring *out,
                   const struct dict_response *r, const struct dict_key *rk,
                   size_t n, const char *q, const struct dict_key *qk)
{
    const struct dict_response *pr = find_resp(r, rk, n, q, qk);
    return pr && out->items[pr - r].item != NULL;
}

/* F2860: an answered item the dictionary cannot place (a link id of the
 * sender's own form, a code it does not know) may be any question of the
 * instrument the response did not place, a safety question among them;
 * what it discloses is not known, so the screening carries the label of
 * every such question, and of every total one of whose parts is such
 * (inst->labels, made at load, says whether there is any). A question the
 * response placed is not the unplaced item: its own answer labels it
 * (PRAPARE's 76501-6 answered No beside items of PRAPARE the dictionary
 * leaves out carries no "sdv"). */
static void label_unplaced(struct dict_scoring *out,
                           const struct dict_instrument *inst,
                           const struct dict_response *r,
                           const struct dict_key *rk, size_t n)
{
    size_t had = out->n_labels;
    for (size_t j = 0; j < inst->n_items; j++) {
        const struct dict_item *it = &inst->items[j];
        if (it->sensitivity && !placed(out, r, rk, n, it->question, &it->key))
            add_label(out, it->sensitivity);
    }
    for (size_t j = 0; j < inst->n_sums; j++) {
        const struct dict_sum *sm = &inst->sums[j];
        bool all = true;
        for (size_t k = 0; sm->sensitivity && k < sm->n_items; k++)
            all &= placed(out, r, rk, n, sm->items[k], &sm->item_keys[k]);
        if (sm->sensitivity && !all)
            add_label(out, sm->sensitivity);
    }
    out->unplaced_labelled = out->n_labels > had;
}

/*
 * A known question answered, if only in words or by an answer its list
 * lacks, was asked and answered: its domain was screened, not found
 * (F1943, F2040, F2120), for every adapter alike. Declined items (a
 * refusal, "I choose not to answer", no answer) and questions outside the
 * dictionary add none. After the scored domains, sums and rules, in the
 * items' order: the order FHIR wrote when it added them itself.
 */
static void add_answered_domains(struct dict_scoring *out)
{
    for (size_t i = 0; i < out->n_items; i++) {
        const struct dict_item_result *ir = &out->items[i];
        if (ir->item && !ir->declined)
            add_domain(out->domains, &out->n_domains, ir->domain);
    }
}

int dict_score(const struct dict *d, struct arena *a,
               const struct dict_instrument *inst,
               const struct dict_response *r, size_t n,
               struct dict_scoring *out)
{
    memset(out, 0, sizeof(*out));
    out->inst = inst;
    if (n > DICT_MAX_RESPONSES)
        return HUB_ELIMIT;

    /* upper bounds for the domain lists: one per answer, sum and rule */
    size_t n_ans = 0;
    for (size_t i = 0; i < n; i++)
        n_ans += r[i].n_answers + 1;
    size_t n_rules = 0;
    for (size_t i = 0; i < d->n_inst; i++)
        n_rules += d->inst[i].n_sums + d->inst[i].n_derived;
    size_t cap = n_ans + n_rules + 1;
    out->items = arena_zalloc(a, (n ? n : 1) * sizeof(*out->items));
    out->domains = arena_zalloc(a, cap * sizeof(*out->domains));
    out->positive_domains = arena_zalloc(a, cap * sizeof(*out->domains));
    out->sums = arena_zalloc(a, (n_rules + 1) * sizeof(*out->sums));
    out->derived = arena_zalloc(a, (n_rules + 1) * sizeof(*out->derived));
    out->n_items = n;
    /* the keys of the questions, for every lookup below */
    struct dict_key *rk = arena_alloc(a, (n ? n : 1) * sizeof(*rk));
    for (size_t i = 0; i < n; i++)
        rk[i] = key_of(trim(r[i].question));

    bool unplaced = false;
    for (size_t i = 0; i < n; i++) {
        struct dict_item_result *ir = &out->items[i];
        const struct dict_item *it = resolve_item(d, inst, &r[i], &rk[i]);
        ir->item = it;
        ir->declined = r[i].declined ||
                       (r[i].n_answers == 0 && !r[i].has_value && !r[i].has_text);
        if (it == NULL) {
            const struct sec_row *sr =
                ir->declined ? NULL : loinc_row(d, r[i].question);
            if (sr && sens_implied(sr->rule, &r[i]))
                add_label(out, sr->label);
            unplaced |= !ir->declined && sr == NULL &&
                        !(inst && dict_sum_find(d, inst, r[i].question)) &&
                        !dict_sum_find(d, NULL, r[i].question) &&
                        !dict_derived_find(d, NULL, r[i].question);
            continue;
        }
        ir->domain = it->domain;
        if (ir->declined)
            continue;
        bool has_rule = false;
        for (size_t k = 0; k < it->n_answers; k++)
            has_rule |= it->answers[k].positive;
        size_t known = 0, declined = 0;
        const char *pos_domain = NULL;
        for (size_t k = 0; k < r[i].n_answers; k++) {
            const struct dict_answer *an = dict_answer_find(it, r[i].answers[k]);
            if (an == NULL) {
                ir->unknown_answer = true;
                continue;
            }
            if (an->declined) {
                declined++;
                continue;
            }
            known++;
            if (an->positive) {
                const char *dom = an->domain ? an->domain : it->domain;
                if (pos_domain == NULL)
                    pos_domain = dom;
                add_domain(out->positive_domains, &out->n_positive_domains,
                           dom);
                add_domain(out->domains, &out->n_domains, dom);
            }
        }
        if (known == 0 && declined > 0 && !ir->unknown_answer) {
            ir->declined = true;        /* "I choose not to answer" */
            continue;
        }
        if (it->sensitivity && sens_implied(it->sens_rule, &r[i]))
            add_label(out, it->sensitivity);
        if (known == 0 && !r[i].has_value)
            continue;   /* words or unknown codes: UNKNOWN, domain below */
        add_domain(out->domains, &out->n_domains, it->domain);
        if (pos_domain) {
            ir->verdict = DICT_POSITIVE;
            ir->domain = pos_domain;
        } else if (has_rule && !ir->unknown_answer && known > 0) {
            ir->verdict = DICT_NEGATIVE;
        }
    }

    /* sums and derived rules: the panel's, or every instrument's when there
     * is no panel (loose items), each rule once */
    for (size_t i = 0; i < d->n_inst; i++) {
        const struct dict_instrument *in = &d->inst[i];
        if (inst && in != inst)
            continue;
        for (size_t j = 0; j < in->n_sums; j++) {
            const struct dict_sum *s = &in->sums[j];
            bool dup = false;
            for (size_t k = 0; k < out->n_sums; k++)
                dup |= strcmp(out->sums[k].sum->code, s->code) == 0;
            if (dup)
                continue;
            struct dict_sum_result sr = { .sum = s };
            size_t answered = 0;
            int64_t total = 0;
            for (size_t k = 0; k < s->n_items; k++) {
                const struct dict_key *ik = &s->item_keys[k];
                const struct dict_response *pr =
                    find_resp(r, rk, n, s->items[k], ik);
                if (pr == NULL)
                    continue;   /* unanswered: no item to look up */
                const struct dict_item *it = item_key_in(
                    in, (struct slice){ s->items[k], ik->len }, ik);
                int64_t v;
                if (it && part_value(it, pr, &v)) {
                    answered++;
                    total += v;
                }
            }
            /* a borrowed total is the sender's only within its
             * instrument (F4060) */
            const struct dict_response *own =
                inst || !s->borrowed ? find_resp(r, rk, n, s->code, &s->key)
                                     : NULL;
            bool complete = s->require_all ? answered == s->n_items
                                           : answered > 0;
            if (complete) {
                sr.complete = true;
                sr.value = total;
            } else if (own && own->has_value && !own->declined) {
                sr.complete = true;
                sr.from_sender = true;
                sr.value = own->value;
            }
            if (!inst && answered == 0 && !sr.complete)
                continue;               /* nothing of this rule was sent */
            if (sr.complete) {
                /* a total past a row's `above` implies its label however
                 * it was reached (HITS: insults and screams alone) */
                if (s->sensitivity && sr.value > s->sens_above)
                    add_label(out, s->sensitivity);
                sr.verdict = sr.value >= s->positive_at ? DICT_POSITIVE
                                                        : DICT_NEGATIVE;
                add_domain(out->domains, &out->n_domains, s->domain);
                if (sr.verdict == DICT_POSITIVE)
                    add_domain(out->positive_domains,
                               &out->n_positive_domains, s->domain);
            }
            out->sums[out->n_sums++] = sr;
        }
        for (size_t j = 0; j < in->n_derived; j++) {
            const struct dict_derived *dv = &in->derived[j];
            bool dup = false;
            for (size_t k = 0; k < out->n_derived; k++)
                dup |= strcmp(out->derived[k].rule->code, dv->code) == 0;
            if (dup)
                continue;
            struct dict_derived_result dr = { .rule = dv };
            bool any_answered = false, any_pos = false;
            for (size_t k = 0; k < dv->n_items; k++) {
                for (size_t m = 0; m < n; m++) {
                    if (!eq(dv->items[k], trim(r[m].question)))
                        continue;
                    const struct dict_item_result *ir = &out->items[m];
                    if (ir->verdict == DICT_POSITIVE)
                        any_pos = true;
                    if (ir->verdict != DICT_UNKNOWN)
                        any_answered = true;
                }
            }
            if (!inst && !any_answered)
                continue;
            if (any_pos) {
                dr.answer = dv->positive_answer;
                dr.verdict = DICT_POSITIVE;
                add_domain(out->positive_domains, &out->n_positive_domains,
                           dv->domain);
            } else if (any_answered) {
                dr.answer = dv->negative_answer;
                dr.verdict = DICT_NEGATIVE;
            }
            if (any_answered)
                add_domain(out->domains, &out->n_domains, dv->domain);
            out->derived[out->n_derived++] = dr;
        }
    }
    add_answered_domains(out);
    if (inst && inst->n_labels && unplaced)
        label_unplaced(out, inst, r, rk, n);
    return HUB_OK;
}

bool dict_item_refused(const struct dict_item_result *ir, struct slice reason)
{
    return ir->declined &&
           (slice_empty(reason) || slice_eq(reason, "asked-declined"));
}

bool dict_item_computed_empty(const struct dict *d,
                              const struct dict_instrument *inst,
                              const struct dict_response *r)
{
    if (r->n_answers || r->has_value || r->has_text)
        return false;
    struct slice q = trim(r->question);
    return dict_sum_find(d, inst, q) || dict_derived_find(d, inst, q);
}

void dict_write_derived_items(struct jw *w, const struct dict_scoring *sc,
                              const struct dict_response *r, size_t n)
{
    for (size_t i = 0; i < sc->n_derived; i++) {
        const struct dict_derived_result *dr = &sc->derived[i];
        bool sent = false;
        for (size_t k = 0; k < n && !sent; k++)
            sent = eq(dr->rule->code, trim(r[k].question));
        if (dr->answer == NULL || sent)
            continue;
        jw_obj_begin(w);
        jw_kv_cstr(w, "question", dr->rule->code);
        jw_kv_cstr(w, "answer", dr->answer);
        jw_kv_cstr(w, "domain", dr->rule->domain);
        jw_key(w, "positive");
        jw_bool(w, dr->verdict == DICT_POSITIVE);
        jw_key(w, "derived");
        jw_bool(w, true);
        jw_obj_end(w);
    }
}

bool dict_derived_disagrees(const struct dict_scoring *sc,
                            const struct dict_response *r,
                            enum dict_verdict own)
{
    if (r->declined)
        return false;
    for (size_t i = 0; i < sc->n_derived; i++) {
        const struct dict_derived_result *dr = &sc->derived[i];
        if (dr->answer && eq(dr->rule->code, trim(r->question)))
            return own != dr->verdict;
    }
    return false;
}

static bool ascii_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

const struct dict_answer *dict_answer_by_display(const struct dict *d,
                                                 struct slice question,
                                                 struct slice words)
{
    question = trim(question);
    while (words.len && ascii_space(words.p[0]))
        words.p++, words.len--;
    while (words.len && ascii_space(words.p[words.len - 1]))
        words.len--;
    const struct dict_answer *hit = NULL;
    /* every instrument's list of the question, not the screening's: FHIR
     * reads an answer before it knows the instrument (F2481) */
    for (size_t i = 0; words.len && i < d->n_inst; i++) {
        const struct dict_item *it = item_in(&d->inst[i], question);
        for (size_t k = 0; it && k < it->n_answers; k++) {
            const struct dict_answer *an = &it->answers[k];
            if (an->display && slice_ieq(words, an->display)) {
                if (hit && strcmp(hit->code, an->code) != 0)
                    return NULL;    /* two answers so displayed: none */
                hit = an;
            }
        }
    }
    return hit;
}

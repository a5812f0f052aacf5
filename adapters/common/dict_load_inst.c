/*
 * dict_load_inst.c - instruments*.json: each instrument's items (their
 * answers and wordings), sums and derived rules, appended to one table
 * whatever the number of files. See dict_ld.h for the loader's parts.
 */

#include "common/dict_ld.h"

/* ---- instruments*.json --------------------------------------------------------- */

static int load_answer(struct ld *l, const cJSON *e, struct dict_item *it,
                       struct dict_answer *an)
{
    static const char *const keys[] = { "code", "display", "domain",
        "positive", "declined", "value", NULL };
    int rc;
    if ((rc = ld_obj(l, e)) || (rc = ld_keys(l, e, keys)) ||
        (rc = ld_str(l, e, "code", true, &an->code)) ||
        (rc = ld_str(l, e, "display", false, &an->display)) ||
        (rc = ld_domain(l, e, "domain", false, &an->domain)) ||
        (rc = ld_bool(l, e, "positive", &an->positive)) ||
        (rc = ld_bool(l, e, "declined", &an->declined)) ||
        (rc = ld_int(l, e, "value", false, &an->has_value, &an->value)))
        return rc;
    an->key = cstr_key(an->code);
    if (an->positive && an->declined)
        return ld_fail(l, HUB_EINVALID,
                       "answer cannot be both positive and declined");
    if (dict_answer_find(it, slice_from_cstr(an->code))) {
        ld_key(l, "code");
        return ld_fail(l, HUB_EINVALID, "duplicate answer code in item");
    }
    return HUB_OK;
}

/* ---- question wordings ------------------------------------------------- */

/* The instrument's item (before `upto`) other than `self` that reads as
 * `text`, or NULL. */
static const struct dict_item *item_text_in(const struct dict_instrument *in,
                                            size_t upto, struct slice text,
                                            const struct dict_item *self)
{
    for (size_t i = 0; i < upto; i++)
        if (&in->items[i] != self && item_reads_as(&in->items[i], text))
            return &in->items[i];
    return NULL;
}

/* No wording of the item may be another item's of the same instrument:
 * the CSV adapter reads a question by its wording and never guesses. */
static int check_texts(struct ld *l, const struct dict_instrument *in,
                       size_t upto, const struct dict_item *it)
{
    if (it->display &&
        item_text_in(in, upto, slice_from_cstr(it->display), it)) {
        ld_key(l, "display");
        return ld_fail(l, HUB_EINVALID,
                       "wording of another item of this instrument");
    }
    for (size_t k = 0; k < it->n_texts; k++) {
        const unsigned char *t = (const unsigned char *)it->texts[k];
        while (*t && !word_byte(*t))
            t++;
        if (*t == '\0') {
            ld_key(l, "texts");
            ld_idx(l, k);
            return ld_fail(l, HUB_EINVALID, "wording has no word");
        }
    }
    for (size_t k = 0; k < it->n_texts; k++)
        if (item_text_in(in, upto, slice_from_cstr(it->texts[k]), it)) {
            ld_key(l, "texts");
            ld_idx(l, k);
            return ld_fail(l, HUB_EINVALID,
                           "wording of another item of this instrument");
        }
    return HUB_OK;
}

static int load_item(struct ld *l, const cJSON *e, struct dict_instrument *in,
                     struct dict_item *it)
{
    static const char *const keys[] = { "question", "display", "texts",
        "domain", "label", "multi", "numeric", "answers", NULL };
    int rc;
    if ((rc = ld_obj(l, e)) || (rc = ld_keys(l, e, keys)) ||
        (rc = ld_str(l, e, "question", true, &it->question)) ||
        (rc = ld_str(l, e, "display", false, &it->display)) ||
        (rc = ld_domain(l, e, "domain", true, &it->domain)) ||
        (rc = ld_str(l, e, "label", false, &it->label)) ||
        (rc = ld_bool(l, e, "multi", &it->multi)) ||
        (rc = ld_bool(l, e, "numeric", &it->numeric)))
        return rc;
    it->key = cstr_key(it->question);
    if (item_in(in, slice_from_cstr(it->question))) {
        ld_key(l, "question");
        return ld_fail(l, HUB_EINVALID, "duplicate question in instrument");
    }
    if (cJSON_GetObjectItemCaseSensitive(e, "texts") &&
        (rc = ld_strs(l, e, "texts", &it->texts, &it->n_texts)))
        return rc;
    /* the items before this one (n_items counts them while loading) */
    if ((rc = check_texts(l, in, in->n_items, it)))
        return rc;
    const cJSON *arr;
    size_t n;
    if ((rc = ld_arr(l, e, "answers", !it->numeric, &arr, &n)))
        return rc;
    if (!it->numeric && n == 0) {
        ld_key(l, "answers");
        return ld_fail(l, HUB_EINVALID, "item has no answers");
    }
    size_t old = ld_key(l, "answers");
    struct dict_answer *an = arena_zalloc(&l->d->a, (n ? n : 1) * sizeof(*an));
    it->answers = an;
    size_t i = 0;
    for (const cJSON *a = arr ? arr->child : NULL; a; a = a->next, i++) {
        size_t o2 = ld_idx(l, i);
        if ((rc = load_answer(l, a, it, &an[i])))
            return rc;
        it->n_answers = i + 1;
        ld_pop(l, o2);
    }
    ld_pop(l, old);
    return HUB_OK;
}

/* Every code a sum or derived rule names must be an item of the instrument;
 * a sum's items must give every (non-declined) answer a value. */
static int check_parts(struct ld *l, const struct dict_instrument *in,
                       const char *const *items, size_t n, bool need_values)
{
    size_t old = ld_key(l, "items");
    for (size_t i = 0; i < n; i++) {
        const struct dict_item *it = item_in(in, slice_from_cstr(items[i]));
        size_t o2 = ld_idx(l, i);
        if (it == NULL)
            return ld_fail(l, HUB_EINVALID, "not an item of this instrument");
        for (size_t j = 0; need_values && j < it->n_answers; j++)
            if (!it->answers[j].has_value && !it->answers[j].declined)
                return ld_fail(l, HUB_EINVALID,
                               "summed item has an answer without a value");
        for (size_t j = 0; j < i; j++)
            if (strcmp(items[j], items[i]) == 0)
                return ld_fail(l, HUB_EINVALID, "item is listed twice");
        ld_pop(l, o2);
    }
    ld_pop(l, old);
    return HUB_OK;
}

static int load_sum(struct ld *l, const cJSON *e, struct dict_instrument *in,
                    struct dict_sum *s)
{
    static const char *const keys[] = { "code", "display", "domain", "label",
        "items", "positive_at", "require_all", "borrowed", NULL };
    int rc;
    bool has;
    if ((rc = ld_obj(l, e)) || (rc = ld_keys(l, e, keys)) ||
        (rc = ld_str(l, e, "code", true, &s->code)) ||
        (rc = ld_str(l, e, "display", false, &s->display)) ||
        (rc = ld_domain(l, e, "domain", true, &s->domain)) ||
        (rc = ld_str(l, e, "label", false, &s->label)) ||
        (rc = ld_strs(l, e, "items", &s->items, &s->n_items)) ||
        (rc = ld_int(l, e, "positive_at", true, &has, &s->positive_at)) ||
        (rc = ld_bool(l, e, "require_all", &s->require_all)) ||
        (rc = ld_bool(l, e, "borrowed", &s->borrowed)))
        return rc;
    s->key = cstr_key(s->code);
    struct dict_key *ik = arena_alloc(&l->d->a,
                                      (s->n_items ? s->n_items : 1) *
                                          sizeof(*ik));
    for (size_t i = 0; i < s->n_items; i++)
        ik[i] = cstr_key(s->items[i]);
    s->item_keys = ik;
    return check_parts(l, in, s->items, s->n_items, true);
}

static int load_derived(struct ld *l, const cJSON *e,
                        struct dict_instrument *in, struct dict_derived *dv)
{
    static const char *const keys[] = { "code", "display", "domain", "items",
        "rule", "positive_answer", "negative_answer", NULL };
    int rc;
    const char *rule;
    if ((rc = ld_obj(l, e)) || (rc = ld_keys(l, e, keys)) ||
        (rc = ld_str(l, e, "code", true, &dv->code)) ||
        (rc = ld_str(l, e, "display", false, &dv->display)) ||
        (rc = ld_domain(l, e, "domain", true, &dv->domain)) ||
        (rc = ld_strs(l, e, "items", &dv->items, &dv->n_items)) ||
        (rc = ld_str(l, e, "rule", true, &rule)) ||
        (rc = ld_str(l, e, "positive_answer", true, &dv->positive_answer)) ||
        (rc = ld_str(l, e, "negative_answer", true, &dv->negative_answer)))
        return rc;
    if (strcmp(rule, "any-positive") != 0) {
        ld_key(l, "rule");
        return ld_fail(l, HUB_EINVALID, "rule is not \"any-positive\"");
    }
    return check_parts(l, in, dv->items, dv->n_items, false);
}

/*
 * The row arrays of an instrument ("items", "sums", "derived") load alike:
 * rows from the arena, the path naming each row while it loads, and the
 * count growing row by row, so that a row is checked against the rows before
 * it (a question asked twice). A table row says what differs: the member,
 * whether it must be there and non-empty, the row size, and `row`, which
 * points `in` at `rows`, loads rows[i] and counts it.
 */
struct inst_rows {
    const char *key;
    const char *empty;          /* required: the error when empty;
                                   NULL: optional, may be empty */
    size_t size;                /* of one row */
    int (*row)(struct ld *l, const cJSON *x, struct dict_instrument *in,
               void *rows, size_t i);
};

static int item_row(struct ld *l, const cJSON *x, struct dict_instrument *in,
                    void *rows, size_t i)
{
    struct dict_item *r = rows;
    int rc;

    in->items = r;              /* load_item looks for its question here */
    if ((rc = load_item(l, x, in, &r[i])) == HUB_OK)
        in->n_items = i + 1;
    return rc;
}

static int sum_row(struct ld *l, const cJSON *x, struct dict_instrument *in,
                   void *rows, size_t i)
{
    struct dict_sum *r = rows;
    int rc;

    in->sums = r;
    if ((rc = load_sum(l, x, in, &r[i])) == HUB_OK)
        in->n_sums = i + 1;
    return rc;
}

static int derived_row(struct ld *l, const cJSON *x,
                       struct dict_instrument *in, void *rows, size_t i)
{
    struct dict_derived *r = rows;
    int rc;

    in->derived = r;
    if ((rc = load_derived(l, x, in, &r[i])) == HUB_OK)
        in->n_derived = i + 1;
    return rc;
}

static int load_rows(struct ld *l, const cJSON *e, struct dict_instrument *in,
                     const struct inst_rows *k)
{
    const cJSON *arr;
    size_t n, i = 0;
    int rc;

    if ((rc = ld_arr(l, e, k->key, k->empty != NULL, &arr, &n)))
        return rc;
    if (k->empty && n == 0) {
        ld_key(l, k->key);
        return ld_fail(l, HUB_EINVALID, k->empty);
    }
    size_t old = ld_key(l, k->key);
    /* n <= DICT_MAX_ROWS (ld_arr): the product cannot wrap */
    void *rows = n ? arena_zalloc(&l->d->a, n * k->size) : NULL;
    for (const cJSON *x = arr ? arr->child : NULL; x; x = x->next, i++) {
        size_t o2 = ld_idx(l, i);
        if ((rc = k->row(l, x, in, rows, i)))
            return rc;
        ld_pop(l, o2);
    }
    ld_pop(l, old);
    return HUB_OK;
}

static int load_instrument(struct ld *l, const cJSON *e,
                           struct dict_instrument *in)
{
    static const char *const keys[] = { "code", "system", "name", "items",
        "sums", "derived", "aliases", NULL };
    int rc;
    if ((rc = ld_obj(l, e)) || (rc = ld_keys(l, e, keys)) ||
        (rc = ld_str(l, e, "code", true, &in->code)) ||
        (rc = ld_str(l, e, "system", true, &in->system)) ||
        (rc = ld_str(l, e, "name", true, &in->name)))
        return rc;
    if (dict_instrument_find(l->d, slice_from_cstr(in->code))) {
        ld_key(l, "code");
        return ld_fail(l, HUB_EINVALID, "duplicate instrument code");
    }
    if (cJSON_GetObjectItemCaseSensitive(e, "aliases")) {
        if ((rc = ld_strs(l, e, "aliases", &in->aliases, &in->n_aliases)))
            return rc;
        for (size_t k = 0; k < in->n_aliases; k++)
            if (dict_instrument_find(l->d, slice_from_cstr(in->aliases[k])) ||
                strcmp(in->aliases[k], in->code) == 0) {
                ld_key(l, "aliases");
                ld_idx(l, k);
                return ld_fail(l, HUB_EINVALID, "duplicate instrument code");
            }
    }

    /* items first: the sums and derived rules name them */
    static const struct inst_rows arrays[] = {
        { "items", "instrument has no items", sizeof(struct dict_item),
          item_row },
        { "sums", NULL, sizeof(struct dict_sum), sum_row },
        { "derived", NULL, sizeof(struct dict_derived), derived_row },
    };
    for (size_t k = 0; k < sizeof(arrays) / sizeof(arrays[0]); k++)
        if ((rc = load_rows(l, e, in, &arrays[k])))
            return rc;
    return HUB_OK;
}

/* Instrument files may be several: rows are appended to one growing table. */
int dict_ld_instruments(struct ld *l, const cJSON *root, size_t *cap)
{
    static const char *const top[] = { "instruments", NULL };
    int rc;
    const cJSON *arr;
    size_t n;
    if ((rc = ld_obj(l, root)) || (rc = ld_keys(l, root, top)) ||
        (rc = ld_arr(l, root, "instruments", true, &arr, &n)))
        return rc;
    size_t old = ld_key(l, "instruments");
    if (l->d->n_inst + n > *cap) {
        size_t ncap = l->d->n_inst + n + 8;
        struct dict_instrument *g = arena_zalloc(&l->d->a, ncap * sizeof(*g));
        if (l->d->n_inst)
            memcpy(g, l->d->inst, l->d->n_inst * sizeof(*g));
        l->d->inst = g;
        *cap = ncap;
    }
    size_t i = 0;
    for (const cJSON *x = arr->child; x; x = x->next, i++) {
        size_t o2 = ld_idx(l, i);
        struct dict_instrument *in = &l->d->inst[l->d->n_inst];
        if ((rc = load_instrument(l, x, in)))
            return rc;
        l->d->n_inst++;
        ld_pop(l, o2);
    }
    ld_pop(l, old);
    return HUB_OK;
}

/*
 * dict_load.c - load and validate the data dictionary (see dict.h; the
 * parts of the module are in dict_int.h).
 *
 * Each file is bounded (json_prescan), parsed with cJSON, walked with a
 * JSON-pointer path kept alongside so that any failure names the file, the
 * path and what is wrong; objects with a member we do not know are refused
 * (a typo like "postive" must not silently mean "not positive").
 * Everything the dict keeps is copied into its own arena, and the cJSON
 * trees are freed before dict_load returns. Files are processed in a fixed
 * order (domains first: the other tables name domains) whatever order they
 * come in.
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dict_int.h"
#include "common/hub_err.h"
#include "common/jsonscan.h"

/* ---- loader context: the JSON path of what is being read ------------------ */

struct ld {
    struct dict *d;
    struct dict_err *err;
    const char *file;
    char path[128];
    size_t plen;
};

static int ld_fail(struct ld *l, int code, const char *what)
{
    if (l->err) {
        snprintf(l->err->file, sizeof(l->err->file), "%s",
                 l->file ? l->file : "");
        snprintf(l->err->path, sizeof(l->err->path), "%s",
                 l->plen ? l->path : "/");
        l->err->what = what;
    }
    return code;
}

static size_t ld_key(struct ld *l, const char *k)
{
    size_t old = l->plen;
    int n = snprintf(l->path + l->plen, sizeof(l->path) - l->plen, "/%s", k);
    if (n > 0)
        l->plen += (size_t)n < sizeof(l->path) - l->plen
                       ? (size_t)n : sizeof(l->path) - l->plen - 1;
    return old;
}

static size_t ld_idx(struct ld *l, size_t i)
{
    char k[24];
    snprintf(k, sizeof(k), "%zu", i);
    return ld_key(l, k);
}

static void ld_pop(struct ld *l, size_t old)
{
    l->plen = old;
    l->path[old] = '\0';
}

/* Refuse members not in `allowed` (NULL-terminated). "$comment" and keys
 * starting with "_" are free for notes in the data. */
static int ld_keys(struct ld *l, const cJSON *obj, const char *const *allowed)
{
    for (const cJSON *m = obj->child; m; m = m->next) {
        if (m->string == NULL)
            continue;
        if (m->string[0] == '_' || strcmp(m->string, "$comment") == 0)
            continue;
        bool ok = false;
        for (size_t i = 0; allowed[i]; i++)
            if (strcmp(m->string, allowed[i]) == 0) {
                ok = true;
                break;
            }
        if (!ok) {
            size_t old = ld_key(l, m->string);
            int rc = ld_fail(l, HUB_EINVALID, "unknown member");
            ld_pop(l, old);
            return rc;
        }
    }
    return HUB_OK;
}

static int ld_obj(struct ld *l, const cJSON *v)
{
    return cJSON_IsObject(v) ? HUB_OK
                             : ld_fail(l, HUB_EINVALID, "expected an object");
}

/* A string member: copied into the dict's arena; absent -> NULL or error. */
static int ld_str(struct ld *l, const cJSON *obj, const char *key,
                  bool required, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    size_t old = ld_key(l, key);
    int rc = HUB_OK;
    if (v == NULL) {
        if (required)
            rc = ld_fail(l, HUB_EINVALID, "required member is missing");
    } else if (!cJSON_IsString(v) || v->valuestring == NULL) {
        rc = ld_fail(l, HUB_EINVALID, "expected a string");
    } else {
        size_t n = strlen(v->valuestring);
        if (n == 0)
            rc = ld_fail(l, HUB_EINVALID, "string is empty");
        else if (n > DICT_MAX_STR)
            rc = ld_fail(l, HUB_ELIMIT, "string is longer than 512 bytes");
        else
            *out = arena_strndup(&l->d->a, v->valuestring, n);
    }
    if (rc == HUB_OK)
        ld_pop(l, old);
    return rc;
}

static int ld_bool(struct ld *l, const cJSON *obj, const char *key,
                   bool *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = false;
    if (v == NULL)
        return HUB_OK;
    if (!cJSON_IsBool(v)) {
        ld_key(l, key);
        return ld_fail(l, HUB_EINVALID, "expected true or false");
    }
    *out = cJSON_IsTrue(v);
    return HUB_OK;
}

/* An integer member within [-1e9, 1e9]; *has says whether it was there. */
static int ld_int(struct ld *l, const cJSON *obj, const char *key,
                  bool required, bool *has, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *has = false;
    *out = 0;
    if (v == NULL) {
        if (!required)
            return HUB_OK;
        ld_key(l, key);
        return ld_fail(l, HUB_EINVALID, "required member is missing");
    }
    double x = v->valuedouble;
    if (!cJSON_IsNumber(v) || x != (double)(int64_t)x || x < -1e9 || x > 1e9) {
        ld_key(l, key);
        return ld_fail(l, HUB_EINVALID, "expected an integer");
    }
    *has = true;
    *out = (int64_t)x;
    return HUB_OK;
}

/* An array member (required), with its length capped. */
static int ld_arr(struct ld *l, const cJSON *obj, const char *key,
                  bool required, const cJSON **out, size_t *n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    *n = 0;
    if (v == NULL) {
        if (!required)
            return HUB_OK;
        ld_key(l, key);
        return ld_fail(l, HUB_EINVALID, "required member is missing");
    }
    if (!cJSON_IsArray(v)) {
        ld_key(l, key);
        return ld_fail(l, HUB_EINVALID, "expected an array");
    }
    size_t c = (size_t)cJSON_GetArraySize(v);
    if (c > DICT_MAX_ROWS) {
        ld_key(l, key);
        return ld_fail(l, HUB_ELIMIT, "array has more than 20000 rows");
    }
    *out = v;
    *n = c;
    return HUB_OK;
}

/* An array of strings (codes), copied. */
static int ld_strs(struct ld *l, const cJSON *obj, const char *key,
                   const char *const **out, size_t *n)
{
    const cJSON *arr;
    int rc = ld_arr(l, obj, key, true, &arr, n);
    if (rc)
        return rc;
    size_t old = ld_key(l, key);
    if (*n == 0)
        return ld_fail(l, HUB_EINVALID, "array is empty");
    const char **v = arena_alloc(&l->d->a, *n * sizeof(*v));
    size_t i = 0;
    for (const cJSON *e = arr->child; e; e = e->next, i++) {
        if (!cJSON_IsString(e) || e->valuestring == NULL ||
            e->valuestring[0] == '\0' ||
            strlen(e->valuestring) > DICT_MAX_STR) {
            ld_idx(l, i);
            return ld_fail(l, HUB_EINVALID, "expected a non-empty string");
        }
        v[i] = arena_strndup(&l->d->a, e->valuestring,
                             strlen(e->valuestring));
    }
    ld_pop(l, old);
    *out = v;
    return HUB_OK;
}

static struct dict_key cstr_key(const char *s)
{
    return key_of(slice_from_cstr(s));
}

static int ld_domain(struct ld *l, const cJSON *obj, const char *key,
                     bool required, const char **out)
{
    int rc = ld_str(l, obj, key, required, out);
    if (rc || *out == NULL)
        return rc;
    const struct dict_domain *dm = dict_domain_find(l->d, slice_from_cstr(*out));
    if (dm == NULL) {
        ld_key(l, key);
        return ld_fail(l, HUB_EINVALID, "domain is not in domains.json");
    }
    *out = dm->code;
    return HUB_OK;
}

/* ---- domains.json ------------------------------------------------------------ */

static int load_domains(struct ld *l, const cJSON *root)
{
    static const char *const top[] = { "ig", "system", "domains", NULL };
    static const char *const ig[] = { "name", "version", "source", NULL };
    static const char *const row[] = { "code", "display", "status", NULL };
    int rc;
    const char *s;

    if ((rc = ld_obj(l, root)) || (rc = ld_keys(l, root, top)))
        return rc;
    const cJSON *igv = cJSON_GetObjectItemCaseSensitive(root, "ig");
    size_t old = ld_key(l, "ig");
    if (igv == NULL)
        return ld_fail(l, HUB_EINVALID, "required member is missing");
    if ((rc = ld_obj(l, igv)) || (rc = ld_keys(l, igv, ig)) ||
        (rc = ld_str(l, igv, "name", false, &s)) ||
        (rc = ld_str(l, igv, "version", true, &l->d->ig_version)) ||
        (rc = ld_str(l, igv, "source", false, &s)))
        return rc;
    ld_pop(l, old);
    if ((rc = ld_str(l, root, "system", false, &s)))
        return rc;

    const cJSON *arr;
    size_t n;
    if ((rc = ld_arr(l, root, "domains", true, &arr, &n)))
        return rc;
    old = ld_key(l, "domains");
    if (n == 0)
        return ld_fail(l, HUB_EINVALID, "array is empty");
    l->d->domains = arena_zalloc(&l->d->a, n * sizeof(*l->d->domains));
    size_t i = 0;
    for (const cJSON *e = arr->child; e; e = e->next, i++) {
        size_t o2 = ld_idx(l, i);
        struct dict_domain *dm = &l->d->domains[i];
        if ((rc = ld_obj(l, e)) || (rc = ld_keys(l, e, row)) ||
            (rc = ld_str(l, e, "code", true, &dm->code)) ||
            (rc = ld_str(l, e, "display", true, &dm->display)) ||
            (rc = ld_bool(l, e, "status", &dm->status)))
            return rc;
        if (dict_domain_find(l->d, slice_from_cstr(dm->code))) {
            ld_key(l, "code");
            return ld_fail(l, HUB_EINVALID, "duplicate domain code");
        }
        l->d->n_domains = i + 1;
        ld_pop(l, o2);
    }
    ld_pop(l, old);
    return HUB_OK;
}

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
        "items", "positive_at", "require_all", NULL };
    int rc;
    bool has;
    if ((rc = ld_obj(l, e)) || (rc = ld_keys(l, e, keys)) ||
        (rc = ld_str(l, e, "code", true, &s->code)) ||
        (rc = ld_str(l, e, "display", false, &s->display)) ||
        (rc = ld_domain(l, e, "domain", true, &s->domain)) ||
        (rc = ld_str(l, e, "label", false, &s->label)) ||
        (rc = ld_strs(l, e, "items", &s->items, &s->n_items)) ||
        (rc = ld_int(l, e, "positive_at", true, &has, &s->positive_at)) ||
        (rc = ld_bool(l, e, "require_all", &s->require_all)))
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
static int load_instruments(struct ld *l, const cJSON *root, size_t *cap)
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

/* ---- ICD-10 tables (zcodes.json, security-labels.json "icd10") ------------- */

static int load_icd_rows(struct ld *l, const cJSON *arr, size_t n,
                         const char *value_key, bool value_is_domain,
                         struct icd_row **out, size_t *nout)
{
    static const char *const keys_dom[] = { "code", "from", "to", "domain",
        "display", NULL };
    static const char *const keys_lab[] = { "code", "from", "to", "label",
        "display", NULL };
    struct icd_row *rows = arena_zalloc(&l->d->a, (n ? n : 1) * sizeof(*rows));
    size_t i = 0;
    int rc;
    for (const cJSON *e = arr ? arr->child : NULL; e; e = e->next, i++) {
        size_t o2 = ld_idx(l, i);
        struct icd_row *r = &rows[i];
        const char *code, *from, *to, *disp;
        if ((rc = ld_obj(l, e)) ||
            (rc = ld_keys(l, e, value_is_domain ? keys_dom : keys_lab)) ||
            (rc = ld_str(l, e, "code", false, &code)) ||
            (rc = ld_str(l, e, "from", false, &from)) ||
            (rc = ld_str(l, e, "to", false, &to)) ||
            (rc = ld_str(l, e, "display", false, &disp)))
            return rc;
        if (value_is_domain)
            rc = ld_domain(l, e, value_key, true, &r->value);
        else
            rc = ld_str(l, e, value_key, true, &r->value);
        if (rc)
            return rc;
        size_t hl;
        if (code && !from && !to) {
            if (!icd_norm(slice_from_cstr(code), r->lo, &r->len, false)) {
                ld_key(l, "code");
                return ld_fail(l, HUB_EINVALID, "not an ICD-10 code");
            }
            memcpy(r->hi, r->lo, sizeof(r->hi));
        } else if (!code && from && to) {
            if (!icd_norm(slice_from_cstr(from), r->lo, &r->len, false)) {
                ld_key(l, "from");
                return ld_fail(l, HUB_EINVALID, "not an ICD-10 code");
            }
            if (!icd_norm(slice_from_cstr(to), r->hi, &hl, false) ||
                hl != r->len) {
                ld_key(l, "to");
                return ld_fail(l, HUB_EINVALID,
                               "range end is not an ICD-10 code as long as its start");
            }
            if (strcmp(r->lo, r->hi) > 0) {
                ld_key(l, "to");
                return ld_fail(l, HUB_EINVALID, "range ends before it starts");
            }
            r->range = true;
        } else {
            return ld_fail(l, HUB_EINVALID,
                           "row needs either \"code\" or both \"from\" and \"to\"");
        }
        if (r->len <= 8) {
            r->lo64 = icd_pack(r->lo, r->len);
            r->hi64 = icd_pack(r->hi, r->len);
            r->mask64 = ~(uint64_t)0 << (8 * (8 - r->len));
        }
        *nout = i + 1;
        ld_pop(l, o2);
    }
    *out = rows;
    return HUB_OK;
}

static int load_zcodes(struct ld *l, const cJSON *root)
{
    static const char *const top[] = { "system", "codes", NULL };
    int rc;
    const char *s;
    const cJSON *arr;
    size_t n;
    if ((rc = ld_obj(l, root)) || (rc = ld_keys(l, root, top)) ||
        (rc = ld_str(l, root, "system", false, &s)) ||
        (rc = ld_arr(l, root, "codes", true, &arr, &n)))
        return rc;
    size_t old = ld_key(l, "codes");
    if ((rc = load_icd_rows(l, arr, n, "domain", true, &l->d->zc, &l->d->n_zc)))
        return rc;
    ld_pop(l, old);
    return HUB_OK;
}

/* Bit 0-9 of pre[letter]: a row may match a code of that letter and that
 * second digit; bit 10: of another second byte. A superset, from the rows
 * as loaded: a range across letters or digits sets every bit between. */
static void icd_prefixes(const struct icd_row *rows, size_t n,
                         uint16_t pre[26])
{
    for (size_t i = 0; i < n; i++) {
        const struct icd_row *r = &rows[i];
        int l0 = r->lo[0] - 'A', l1 = r->hi[0] - 'A';
        int d0 = r->lo[1] - '0', d1 = r->hi[1] - '0';
        uint16_t bits = 0x7ff;
        if (l0 == l1 && d0 >= 0 && d0 <= 9 && d1 >= 0 && d1 <= 9)
            bits = (uint16_t)(((1u << (d1 + 1)) - 1) & ~((1u << d0) - 1));
        for (int l = l0 < 0 ? 0 : l0; l <= l1 && l < 26; l++)
            pre[l] |= bits;
    }
}

/* ---- task-status.json ---------------------------------------------------------- */

static int load_task_status(struct ld *l, const cJSON *root)
{
    static const char *const top[] = { "system", "statuses", NULL };
    static const char *const row[] = { "code", "display", "terminal",
        "referral", "aliases", NULL };
    int rc;
    const char *s;
    const cJSON *arr;
    size_t n;
    if ((rc = ld_obj(l, root)) || (rc = ld_keys(l, root, top)) ||
        (rc = ld_str(l, root, "system", false, &s)) ||
        (rc = ld_arr(l, root, "statuses", true, &arr, &n)))
        return rc;
    size_t old = ld_key(l, "statuses");
    if (n == 0)
        return ld_fail(l, HUB_EINVALID, "array is empty");
    l->d->ts = arena_zalloc(&l->d->a, n * sizeof(*l->d->ts));
    size_t i = 0;
    for (const cJSON *e = arr->child; e; e = e->next, i++) {
        size_t o2 = ld_idx(l, i);
        struct dict_task_status *t = &l->d->ts[i];
        if ((rc = ld_obj(l, e)) || (rc = ld_keys(l, e, row)) ||
            (rc = ld_str(l, e, "code", true, &t->code)) ||
            (rc = ld_str(l, e, "display", true, &t->display)) ||
            (rc = ld_bool(l, e, "terminal", &t->terminal)) ||
            (rc = ld_bool(l, e, "referral", &t->referral)))
            return rc;
        if (dict_task_status_find(l->d, slice_from_cstr(t->code)) ||
            dict_task_status_alias(l->d, slice_from_cstr(t->code))) {
            ld_key(l, "code");
            return ld_fail(l, HUB_EINVALID, "duplicate status code");
        }
        if (cJSON_GetObjectItemCaseSensitive(e, "aliases") &&
            (rc = ld_strs(l, e, "aliases", &t->aliases, &t->n_aliases)))
            return rc;
        for (size_t k = 0; k < t->n_aliases; k++) {
            struct slice a = slice_from_cstr(t->aliases[k]);
            bool lower = a.len > 0;
            for (size_t j = 0; j < a.len; j++)
                if (isupper((unsigned char)a.p[j]))
                    lower = false;
            const char *why = !lower ? "alias is not lowercase"
                              : dict_task_status_find(l->d, a) ||
                                        dict_task_status_alias(l->d, a) ||
                                        strcmp(t->aliases[k], t->code) == 0
                                  ? "duplicate status code"
                                  : NULL;
            for (size_t j = 0; !why && j < k; j++)
                if (strcmp(t->aliases[j], t->aliases[k]) == 0)
                    why = "duplicate status code";
            if (why) {
                ld_key(l, "aliases");
                ld_idx(l, k);
                return ld_fail(l, HUB_EINVALID, why);
            }
        }
        l->d->n_ts = i + 1;
        ld_pop(l, o2);
    }
    ld_pop(l, old);
    return HUB_OK;
}

/* ---- security-labels.json ------------------------------------------------------- */

static bool label_ok(const char *s)
{
    /* hub labels are short lowercase tokens: they become routing filters */
    size_t n = strlen(s);
    if (n == 0 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) ||
              s[i] == '-'))
            return false;
    return true;
}

/* A row's sensitivity label (its "label" member): a token, and one of at
 * most DICT_MAX_LABELS distinct ones (DICT_MAX_LABELS says why). */
static int ld_label(struct ld *l, const char *label)
{
    const char **set = l->d->labels;
    size_t *n = &l->d->n_labels;
    if (*n == 0)
        set[(*n)++] = "restricted";
    if (!label_ok(label)) {
        ld_key(l, "label");
        return ld_fail(l, HUB_EINVALID, "label is not a short lowercase token");
    }
    for (size_t i = 0; i < *n; i++)
        if (strcmp(set[i], label) == 0)
            return HUB_OK;
    if (*n == DICT_MAX_LABELS) {
        ld_key(l, "label");
        return ld_fail(l, HUB_ELIMIT, "more distinct sensitivity labels than "
                                      "an event can carry (8, restricted "
                                      "counted)");
    }
    set[(*n)++] = label;
    return HUB_OK;
}

/* A LOINC code: 1 to 7 digits, '-', and the check digit of the others
 * (LOINC's mod 10 rule, Luhn's): catches a digit mistyped in a table. */
static bool loinc_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 3 || n > 9 || s[n - 2] != '-' || !isdigit((unsigned char)s[n - 1]))
        return false;
    unsigned sum = (unsigned)(s[n - 1] - '0');
    for (size_t i = 0; i + 2 < n; i++) {
        unsigned char ch = (unsigned char)s[n - 3 - i];
        if (!isdigit(ch))
            return false;
        unsigned v = (unsigned)(ch - '0') * (i % 2 == 0 ? 2u : 1u);
        sum += v > 9 ? v - 9 : v;
    }
    return sum % 10 == 0;
}

/* A LOINC answer code: "LA", digits, '-', one digit (no check digit). */
static bool loinc_answer_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 5 || n > 12 || s[0] != 'L' || s[1] != 'A' || s[n - 2] != '-' ||
        !isdigit((unsigned char)s[n - 1]))
        return false;
    for (size_t i = 2; i + 2 < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* A "loinc" row's optional `answers` (LOINC answer codes) and `above` (a
 * number): the rule that only they imply its label. */
static int load_sens_rule(struct ld *l, const cJSON *e, struct sec_row *r)
{
    const cJSON *ans = cJSON_GetObjectItemCaseSensitive(e, "answers");
    const cJSON *above = cJSON_GetObjectItemCaseSensitive(e, "above");
    if (ans == NULL && above == NULL)
        return HUB_OK;
    struct dict_sens_rule *rule = arena_zalloc(&l->d->a, sizeof(*rule));
    if (ans) {
        size_t n = (size_t)cJSON_GetArraySize(ans);
        size_t old = ld_key(l, "answers");
        if (!cJSON_IsArray(ans) || n == 0)
            return ld_fail(l, HUB_EINVALID, "expected a non-empty array");
        rule->answers = arena_zalloc(&l->d->a, n * sizeof(*rule->answers));
        for (const cJSON *c = ans->child; c; c = c->next) {
            size_t o2 = ld_idx(l, rule->n_answers);
            if (!cJSON_IsString(c) || !loinc_answer_ok(c->valuestring))
                return ld_fail(l, HUB_EINVALID, "not a LOINC answer code");
            rule->answers[rule->n_answers++] = arena_strndup(
                &l->d->a, c->valuestring, strlen(c->valuestring));
            ld_pop(l, o2);
        }
        ld_pop(l, old);
    }
    if (above) {
        if (!cJSON_IsNumber(above) || above->valuedouble != (double)(int64_t)above->valuedouble) {
            ld_key(l, "above");
            return ld_fail(l, HUB_EINVALID, "expected an integer");
        }
        rule->has_above = true;
        rule->above = (int64_t)above->valuedouble;
    }
    r->rule = rule;
    return HUB_OK;
}

/* A table of security-labels.json whose rows are {"code", "label",
 * "display"} and what else `keys` names, each labelling the events that
 * carry its code of `system`. check_code: whether a row's code is one of
 * the table's (checked before its label); check_row: what else row i
 * holds or must meet (after its label), rows 0 to i - 1 loaded. Both
 * return HUB_OK or ld_fail's code, the key at fault pushed. */
struct label_table {
    const char *member;
    const char *const *keys;
    const char *system;
    int (*check_code)(struct ld *l, const struct sec_row *r);
    int (*check_row)(struct ld *l, const cJSON *e, struct sec_row *rows,
                     size_t i);
};

/* The rows of table t into *rows and *n_rows (left as they are when the
 * table is absent: it is optional). */
static int load_label_rows(struct ld *l, const cJSON *root,
                           const struct label_table *t, struct sec_row **rows,
                           size_t *n_rows)
{
    const cJSON *arr;
    size_t n;
    int rc;
    if ((rc = ld_arr(l, root, t->member, false, &arr, &n)) || arr == NULL)
        return rc;
    size_t old = ld_key(l, t->member);
    *rows = arena_zalloc(&l->d->a, (n ? n : 1) * sizeof(**rows));
    size_t i = 0;
    for (const cJSON *e = arr->child; e; e = e->next, i++) {
        size_t o2 = ld_idx(l, i);
        struct sec_row *r = &(*rows)[i];
        const char *disp;
        if ((rc = ld_obj(l, e)) || (rc = ld_keys(l, e, t->keys)) ||
            (rc = ld_str(l, e, "code", true, &r->code)) ||
            (rc = ld_str(l, e, "label", true, &r->label)) ||
            (rc = ld_str(l, e, "display", false, &disp)) ||
            (rc = t->check_code(l, r)) || (rc = ld_label(l, r->label)) ||
            (rc = t->check_row(l, e, *rows, i)))
            return rc;
        r->system = t->system;
        *n_rows = i + 1;
        ld_pop(l, o2);
    }
    ld_pop(l, old);
    return HUB_OK;
}

static int loinc_label_code(struct ld *l, const struct sec_row *r)
{
    if (loinc_ok(r->code))
        return HUB_OK;
    ld_key(l, "code");
    return ld_fail(l, HUB_EINVALID, "not a LOINC code");
}

static int loinc_label_rule(struct ld *l, const cJSON *e,
                            struct sec_row *rows, size_t i)
{
    return load_sens_rule(l, e, &rows[i]);
}

/* security-labels.json "loinc": questions whose answer is itself sensitive
 * (PHQ-9 item 9 on self-harm, the C-SSRS): a screening that answers one
 * carries the label, so it is routed only where the label is allowed. */
static int load_loinc_labels(struct ld *l, const cJSON *root)
{
    static const char *const row[] = { "code", "label", "display", "answers",
                                       "above", NULL };
    static const struct label_table t = { "loinc", row, "http://loinc.org",
                                          loinc_label_code, loinc_label_rule };
    int rc;
    if ((rc = load_label_rows(l, root, &t, &l->d->loinc, &l->d->n_loinc)) ||
        l->d->loinc == NULL)
        return rc;
    /* sorted for dict_loinc_label's bsearch: a code once */
    size_t old = ld_key(l, "loinc");
    qsort(l->d->loinc, l->d->n_loinc, sizeof(*l->d->loinc), code_cmp);
    for (size_t i = 1; i < l->d->n_loinc; i++)
        if (code_cmp(&l->d->loinc[i - 1], &l->d->loinc[i]) == 0)
            return ld_fail(l, HUB_EINVALID, "duplicate code");
    ld_pop(l, old);
    return HUB_OK;
}

/* a CWE identifier: no separator, no space, as ARV-3.1 carries it */
static int v2_0717_code(struct ld *l, const struct sec_row *r)
{
    for (const char *q = r->code; *q; q++)
        if (*q <= ' ' || *q == 0x7f || strchr("|^~\\&", *q)) {
            ld_key(l, "code");
            return ld_fail(l, HUB_EINVALID, "code has a space, a "
                                            "control or an HL7 delimiter");
        }
    return HUB_OK;
}

/* case aside, a code and label pair once */
static int v2_0717_once(struct ld *l, const cJSON *e, struct sec_row *rows,
                        size_t i)
{
    (void)e;
    for (size_t k = 0; k < i; k++)
        if (strcasecmp(rows[k].code, rows[i].code) == 0 &&
            strcmp(rows[k].label, rows[i].label) == 0)
            return ld_fail(l, HUB_EINVALID, "duplicate code and label");
    return HUB_OK;
}

/* security-labels.json "v2-0717": HL7 v2 access restriction values (ARV-3,
 * table 0717) that name a sensitive kind of data (HIV -> hiv): an ARV in
 * force labels its event with them beside `restricted`. A code may name
 * several labels (38 U.S.C. 7332 covers drug and alcohol abuse and HIV),
 * one row each; case aside, a code and label pair once. */
static int load_v2_0717(struct ld *l, const cJSON *root)
{
    static const char *const row[] = { "code", "label", "display", NULL };
    static const struct label_table t = {
        "v2-0717", row, "http://terminology.hl7.org/CodeSystem/v2-0717",
        v2_0717_code, v2_0717_once };
    return load_label_rows(l, root, &t, &l->d->v2_0717, &l->d->n_v2_0717);
}

static int load_security(struct ld *l, const cJSON *root)
{
    static const char *const top[] = { "labels", "icd10", "loinc", "v2-0717",
                                       NULL };
    static const char *const row[] = { "system", "code", "label", "display",
        NULL };
    int rc;
    const cJSON *arr;
    size_t n;
    if ((rc = ld_obj(l, root)) || (rc = ld_keys(l, root, top)) ||
        (rc = ld_arr(l, root, "labels", true, &arr, &n)))
        return rc;
    size_t old = ld_key(l, "labels");
    l->d->sec = arena_zalloc(&l->d->a, (n ? n : 1) * sizeof(*l->d->sec));
    size_t i = 0;
    for (const cJSON *e = arr->child; e; e = e->next, i++) {
        size_t o2 = ld_idx(l, i);
        struct sec_row *r = &l->d->sec[i];
        const char *disp;
        if ((rc = ld_obj(l, e)) || (rc = ld_keys(l, e, row)) ||
            (rc = ld_str(l, e, "system", false, &r->system)) ||
            (rc = ld_str(l, e, "code", true, &r->code)) ||
            (rc = ld_str(l, e, "label", true, &r->label)) ||
            (rc = ld_str(l, e, "display", false, &disp)))
            return rc;
        if ((rc = ld_label(l, r->label)))
            return rc;
        l->d->n_sec = i + 1;
        ld_pop(l, o2);
    }
    ld_pop(l, old);

    if ((rc = ld_arr(l, root, "icd10", false, &arr, &n)))
        return rc;
    old = ld_key(l, "icd10");
    if ((rc = load_icd_rows(l, arr, n, "label", false, &l->d->icd_sens,
                            &l->d->n_icd_sens)))
        return rc;
    for (i = 0; i < l->d->n_icd_sens; i++) {
        size_t o2 = ld_idx(l, i);
        if ((rc = ld_label(l, l->d->icd_sens[i].value)))
            return rc;
        ld_pop(l, o2);
    }
    icd_prefixes(l->d->icd_sens, l->d->n_icd_sens, l->d->icd_sens_pre);
    ld_pop(l, old);
    if ((rc = load_loinc_labels(l, root)))
        return rc;
    return load_v2_0717(l, root);
}

/* ---- security-labels-<x>.json: concepts that imply a label ------------------ */

/* A SNOMED CT identifier: 6 to 18 digits, no leading zero, whose last
 * digit is the Verhoeff check digit of the others (SNOMED CT Technical
 * Implementation Guide, 6.1 and 6.3); catches a digit mistyped or two
 * swapped when a table is made. */
static bool sctid_ok(const char *s)
{
    static const unsigned char dm[10][10] = {
        { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, { 1, 2, 3, 4, 0, 6, 7, 8, 9, 5 },
        { 2, 3, 4, 0, 1, 7, 8, 9, 5, 6 }, { 3, 4, 0, 1, 2, 8, 9, 5, 6, 7 },
        { 4, 0, 1, 2, 3, 9, 5, 6, 7, 8 }, { 5, 9, 8, 7, 6, 0, 4, 3, 2, 1 },
        { 6, 5, 9, 8, 7, 1, 0, 4, 3, 2 }, { 7, 6, 5, 9, 8, 2, 1, 0, 4, 3 },
        { 8, 7, 6, 5, 9, 3, 2, 1, 0, 4 }, { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0 },
    };
    static const unsigned char pm[8][10] = {
        { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, { 1, 5, 7, 6, 2, 8, 3, 0, 9, 4 },
        { 5, 8, 0, 3, 7, 9, 6, 1, 4, 2 }, { 8, 9, 1, 6, 0, 4, 3, 5, 2, 7 },
        { 9, 4, 5, 3, 1, 2, 6, 8, 7, 0 }, { 4, 2, 8, 6, 5, 7, 3, 9, 0, 1 },
        { 2, 7, 9, 3, 8, 0, 6, 4, 1, 5 }, { 7, 0, 4, 6, 9, 1, 3, 2, 5, 8 },
    };
    size_t n = strlen(s);
    if (n < 6 || n > 18 || s[0] == '0')
        return false;
    unsigned c = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[n - 1 - i];
        if (!isdigit(ch))
            return false;
        c = dm[c][pm[i % 8][ch - '0']];
    }
    return c == 0;
}

/* Where a table of concepts comes from: one value set (an object) or
 * several merged (a non-empty array of them). Required, not read. */
static int load_concept_source(struct ld *l, const cJSON *source)
{
    static const char *const src[] = { "valueset", "title", "version",
        "expansion", "repository", "path", "commit", NULL };
    int rc;
    size_t old = ld_key(l, "source");
    if (source == NULL)
        return ld_fail(l, HUB_EINVALID, "required member is missing");
    if (cJSON_IsArray(source)) {
        size_t i = 0;
        if (source->child == NULL)
            return ld_fail(l, HUB_EINVALID, "no value set named");
        for (const cJSON *e = source->child; e; e = e->next, i++) {
            size_t o2 = ld_idx(l, i);
            if ((rc = ld_obj(l, e)) || (rc = ld_keys(l, e, src)))
                return rc;
            ld_pop(l, o2);
        }
    } else if ((rc = ld_obj(l, source)) || (rc = ld_keys(l, source, src))) {
        return rc;
    }
    ld_pop(l, old);
    return HUB_OK;
}

/* The members of the value sets a table leaves out, each with its reason
 * (an organic disorder in a set of psychiatric ones): checked as the codes
 * are, never read, so that the reason stays beside the data. */
static int load_concept_excluded(struct ld *l, const cJSON *root)
{
    static const char *const row[] = { "code", "display", "reason", NULL };
    const cJSON *arr;
    size_t n, i = 0;
    int rc = ld_arr(l, root, "excluded", false, &arr, &n);
    if (rc || arr == NULL)
        return rc;
    size_t old = ld_key(l, "excluded");
    for (const cJSON *e = arr->child; e; e = e->next, i++) {
        size_t o2 = ld_idx(l, i);
        const char *code, *disp, *why;
        if ((rc = ld_obj(l, e)) || (rc = ld_keys(l, e, row)) ||
            (rc = ld_str(l, e, "code", true, &code)) ||
            (rc = ld_str(l, e, "display", false, &disp)) ||
            (rc = ld_str(l, e, "reason", true, &why)))
            return rc;
        if (!sctid_ok(code)) {
            ld_key(l, "code");
            return ld_fail(l, HUB_EINVALID, "not a SNOMED CT identifier");
        }
        ld_pop(l, o2);
    }
    ld_pop(l, old);
    return HUB_OK;
}

/* One table of concepts that imply a label (schemas/dict/README.md),
 * generated from one or more published value sets; only SNOMED CT is
 * read. */
static int load_concepts(struct ld *l, const cJSON *root)
{
    static const char *const top[] = { "source", "system", "label", "codes",
        "excluded", NULL };
    static const char *const row[] = { "code", "display", NULL };
    int rc;
    const char *sys, *label;
    const cJSON *arr;
    size_t n, old;
    if ((rc = ld_obj(l, root)) || (rc = ld_keys(l, root, top)) ||
        (rc = ld_str(l, root, "system", true, &sys)) ||
        (rc = ld_str(l, root, "label", true, &label)) ||
        (rc = ld_arr(l, root, "codes", true, &arr, &n)) ||
        (rc = load_concept_source(
             l, cJSON_GetObjectItemCaseSensitive(root, "source"))) ||
        (rc = load_concept_excluded(l, root)))
        return rc;
    if (strcmp(sys, DICT_SNOMED_SYSTEM) != 0) {
        ld_key(l, "system");
        return ld_fail(l, HUB_EINVALID, "only SNOMED CT concepts are read");
    }
    if ((rc = ld_label(l, label)))
        return rc;
    if (n > DICT_MAX_ROWS - l->d->n_sct) {
        ld_key(l, "codes");
        return ld_fail(l, HUB_ELIMIT, "too many rows");
    }
    if (l->d->n_sct + n > l->d->cap_sct) {
        size_t cap = l->d->n_sct + n;
        struct sec_row *rows = arena_zalloc(&l->d->a, (cap ? cap : 1) *
                                                          sizeof(*rows));
        if (l->d->n_sct)
            memcpy(rows, l->d->sct, l->d->n_sct * sizeof(*rows));
        l->d->sct = rows;
        l->d->cap_sct = cap;
    }
    old = ld_key(l, "codes");
    size_t i = 0;
    for (const cJSON *e = arr->child; e; e = e->next, i++) {
        size_t o2 = ld_idx(l, i);
        struct sec_row *r = &l->d->sct[l->d->n_sct];
        const char *disp;
        if ((rc = ld_obj(l, e)) || (rc = ld_keys(l, e, row)) ||
            (rc = ld_str(l, e, "code", true, &r->code)) ||
            (rc = ld_str(l, e, "display", false, &disp)))
            return rc;
        if (!sctid_ok(r->code)) {
            ld_key(l, "code");
            return ld_fail(l, HUB_EINVALID, "not a SNOMED CT identifier");
        }
        r->system = DICT_SNOMED_SYSTEM;
        r->label = label;
        l->d->n_sct++;
        ld_pop(l, o2);
    }
    ld_pop(l, old);
    qsort(l->d->sct, l->d->n_sct, sizeof(*l->d->sct), sct_cmp);
    for (i = 1; i < l->d->n_sct; i++)
        if (sct_cmp(&l->d->sct[i - 1], &l->d->sct[i]) == 0) {
            ld_key(l, "codes");
            return ld_fail(l, HUB_EINVALID, "duplicate code");
        }
    return HUB_OK;
}

/* ---- snomed-domains.json: SNOMED CT findings to SDOH domains ---------------- */

/* As zcodes.json for ICD-10-CM: a finding (a Condition's code, a C-CDA
 * problem's value, an SDOHCC Observation Assessment's code) to the domain
 * it names. Exact concepts only, each with the place it was read from
 * (`source`, required): the Gravity value sets are VSAC expansions, so a
 * row is a published pairing of the concept with its domain, never a
 * guess from a display. */
static int load_snomed_domains(struct ld *l, const cJSON *root)
{
    static const char *const top[] = { "system", "codes", NULL };
    static const char *const row[] = { "code", "domain", "display", "source",
        NULL };
    int rc;
    const char *sys;
    const cJSON *arr;
    size_t n;
    if ((rc = ld_obj(l, root)) || (rc = ld_keys(l, root, top)) ||
        (rc = ld_str(l, root, "system", true, &sys)) ||
        (rc = ld_arr(l, root, "codes", true, &arr, &n)))
        return rc;
    if (strcmp(sys, DICT_SNOMED_SYSTEM) != 0) {
        ld_key(l, "system");
        return ld_fail(l, HUB_EINVALID, "only SNOMED CT concepts are read");
    }
    struct sec_row *rows = arena_zalloc(&l->d->a, (n ? n : 1) * sizeof(*rows));
    size_t old = ld_key(l, "codes");
    size_t i = 0;
    for (const cJSON *e = arr->child; e; e = e->next, i++) {
        size_t o2 = ld_idx(l, i);
        struct sec_row *r = &rows[i];
        const char *disp, *src;
        if ((rc = ld_obj(l, e)) || (rc = ld_keys(l, e, row)) ||
            (rc = ld_str(l, e, "code", true, &r->code)) ||
            (rc = ld_domain(l, e, "domain", true, &r->label)) ||
            (rc = ld_str(l, e, "display", false, &disp)) ||
            (rc = ld_str(l, e, "source", true, &src)))
            return rc;
        if (!sctid_ok(r->code)) {
            ld_key(l, "code");
            return ld_fail(l, HUB_EINVALID, "not a SNOMED CT identifier");
        }
        r->system = DICT_SNOMED_SYSTEM;
        ld_pop(l, o2);
    }
    ld_pop(l, old);
    qsort(rows, n, sizeof(*rows), sct_cmp);
    for (i = 1; i < n; i++)
        if (sct_cmp(&rows[i - 1], &rows[i]) == 0) {
            ld_key(l, "codes");
            return ld_fail(l, HUB_EINVALID, "duplicate code");
        }
    l->d->sctdom = rows;
    l->d->n_sctdom = n;
    return HUB_OK;
}

/* Each instrument item carries its question's label, and each sum the
 * label of a total past its `above`, so that scoring costs no lookup. The
 * items and sums are the loader's own rows. */
static void link_item_labels(struct dict *d)
{
    for (size_t i = 0; i < d->n_inst; i++)
        for (size_t j = 0; j < d->inst[i].n_items; j++) {
            struct dict_item *it = (struct dict_item *)&d->inst[i].items[j];
            const struct sec_row *r =
                loinc_row(d, slice_from_cstr(it->question));
            it->sensitivity = r ? r->label : NULL;
            it->sens_rule = r ? r->rule : NULL;
        }
    for (size_t i = 0; i < d->n_inst; i++)
        for (size_t j = 0; j < d->inst[i].n_sums; j++) {
            struct dict_sum *sm = (struct dict_sum *)&d->inst[i].sums[j];
            const struct sec_row *r = loinc_row(d, slice_from_cstr(sm->code));
            if (r && r->rule && r->rule->has_above) {
                sm->sensitivity = r->label;
                sm->sens_above = r->rule->above;
            }
        }
}

static int str_cmp(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Every answer code of the instruments, once, sorted: whether a code is
 * the dictionary's at all is then a binary search (dict_answer_known),
 * not a scan of every item's list. */
static void index_answers(struct dict *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->n_inst; i++) {
        for (size_t j = 0; j < d->inst[i].n_items; j++)
            n += d->inst[i].items[j].n_answers;
        n += 2 * d->inst[i].n_derived;
    }
    const char **v = arena_alloc(&d->a, (n ? n : 1) * sizeof(*v));
    size_t k = 0;
    for (size_t i = 0; i < d->n_inst; i++) {
        const struct dict_instrument *in = &d->inst[i];
        for (size_t j = 0; j < in->n_items; j++)
            for (size_t a = 0; a < in->items[j].n_answers; a++)
                v[k++] = in->items[j].answers[a].code;
        for (size_t j = 0; j < in->n_derived; j++) {
            v[k++] = in->derived[j].positive_answer;
            v[k++] = in->derived[j].negative_answer;
        }
    }
    qsort(v, k, sizeof(*v), str_cmp);
    size_t m = 0;
    for (size_t i = 0; i < k; i++)
        if (m == 0 || strcmp(v[m - 1], v[i]) != 0)
            v[m++] = v[i];
    d->answers = v;
    d->n_answers = m;
}

/* ---- dict_load ----------------------------------------------------------------- */

enum kind { K_DOMAINS, K_INSTRUMENTS, K_ZCODES, K_TASK, K_SECURITY, K_N,
            K_CONCEPTS = K_N,       /* optional: after the required kinds */
            K_SCTDOM, K_LAST = K_SCTDOM };

static int file_kind(const char *name)
{
    if (strcmp(name, "domains.json") == 0)
        return K_DOMAINS;
    if (strncmp(name, "instruments", 11) == 0 &&
        strlen(name) >= 16 && strcmp(name + strlen(name) - 5, ".json") == 0)
        return K_INSTRUMENTS;
    if (strcmp(name, "zcodes.json") == 0)
        return K_ZCODES;
    if (strcmp(name, "task-status.json") == 0)
        return K_TASK;
    if (strcmp(name, "security-labels.json") == 0)
        return K_SECURITY;
    if (strcmp(name, "snomed-domains.json") == 0)
        return K_SCTDOM;
    if (strncmp(name, "security-labels-", 16) == 0 && strlen(name) >= 22 &&
        strcmp(name + strlen(name) - 5, ".json") == 0)
        return K_CONCEPTS;
    return -1;
}

static int parse_file(struct ld *l, const struct dict_file *f, cJSON **out)
{
    static const struct json_limits lim = {
        .max_bytes = DICT_MAX_FILE_BYTES, .max_depth = DICT_MAX_DEPTH,
        .max_array = DICT_MAX_ROWS, .max_members = 1000,
        .max_values = 1000000, .max_string = DICT_MAX_STR * 4,
    };
    struct hub_err he;
    l->file = f->name;
    l->plen = 0;
    l->path[0] = '\0';
    int rc = json_prescan(f->p, f->len, &lim, &he);
    if (rc)
        return ld_fail(l, rc, he.what);
    *out = cJSON_ParseWithLength(f->p, f->len);
    if (*out == NULL)
        return ld_fail(l, HUB_ESYNTAX, "file is not valid JSON");
    return HUB_OK;
}

int dict_load(const struct dict_file *files, size_t n, struct dict **out,
              struct dict_err *err)
{
    struct dict *d = calloc(1, sizeof(*d));
    struct ld l = { .d = d, .err = err };
    bool seen[K_LAST + 1] = { false };
    size_t inst_cap = 0;
    int rc = HUB_OK;

    *out = NULL;
    if (err) {
        err->file[0] = '\0';
        err->path[0] = '\0';
        err->what = NULL;
    }
    if (d == NULL) {
        fputs("dict: out of memory\n", stderr);
        abort();
    }
    arena_init(&d->a, 64 * 1024);
    for (size_t i = 0; i < n; i++) {
        l.file = files[i].name;
        if (files[i].name == NULL || file_kind(files[i].name) < 0) {
            rc = ld_fail(&l, HUB_EINVALID, "not a dictionary file name");
            goto out;
        }
        int k = file_kind(files[i].name);
        if (seen[k] && k != K_INSTRUMENTS && k != K_CONCEPTS) {
            rc = ld_fail(&l, HUB_EINVALID, "file given twice");
            goto out;
        }
        seen[k] = true;
    }
    for (int k = 0; k < K_N; k++) {
        if (seen[k])
            continue;
        static const char *const need[K_N] = { "domains.json",
            "instruments.json", "zcodes.json", "task-status.json",
            "security-labels.json" };
        l.file = need[k];
        l.plen = 0;
        rc = ld_fail(&l, HUB_EINVALID, "required file is missing");
        goto out;
    }
    /* domains first: every other table is checked against them */
    for (int k = 0; k <= K_LAST; k++) {
        for (size_t i = 0; i < n; i++) {
            if (file_kind(files[i].name) != k)
                continue;
            cJSON *root = NULL;
            if ((rc = parse_file(&l, &files[i], &root)))
                goto out;
            switch (k) {
            case K_DOMAINS: rc = load_domains(&l, root); break;
            case K_INSTRUMENTS: rc = load_instruments(&l, root, &inst_cap); break;
            case K_ZCODES: rc = load_zcodes(&l, root); break;
            case K_TASK: rc = load_task_status(&l, root); break;
            case K_SECURITY: rc = load_security(&l, root); break;
            case K_CONCEPTS: rc = load_concepts(&l, root); break;
            case K_SCTDOM: rc = load_snomed_domains(&l, root); break;
            }
            cJSON_Delete(root);
            if (rc)
                goto out;
        }
    }
    if (d->n_inst == 0) {
        l.file = "instruments.json";
        l.plen = 0;
        rc = ld_fail(&l, HUB_EINVALID, "no instrument is defined");
        goto out;
    }
    link_item_labels(d);
    index_answers(d);
    *out = d;
    d = NULL;
    rc = HUB_OK;
out:
    dict_free(d);
    return rc;
}

void dict_free(struct dict *d)
{
    if (d == NULL)
        return;
    arena_release(&d->a);
    free(d);
}

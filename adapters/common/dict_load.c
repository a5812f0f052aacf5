/*
 * dict_load.c - load and validate the data dictionary (see dict.h; the
 * layout is in dict_int.h, the loader's parts in dict_ld.h).
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
#include <stdlib.h>

#include "common/dict_ld.h"
#include "common/jsonscan.h"
#include "common/strset.h"

/* Each instrument item carries its question's label, and each sum the
 * label of a total past its `above`, so that scoring costs no lookup; each
 * instrument the labels of all of them (F2860). The items and sums are
 * the loader's own rows. */
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
    for (size_t i = 0; i < d->n_inst; i++) {
        struct dict_instrument *in = &d->inst[i];
        for (size_t j = 0; j < in->n_items; j++)
            strset_add(in->labels, &in->n_labels, DICT_MAX_LABELS,
                       in->items[j].sensitivity);
        for (size_t j = 0; j < in->n_sums; j++)
            strset_add(in->labels, &in->n_labels, DICT_MAX_LABELS,
                       in->sums[j].sensitivity);
    }
}

/* The answers that carry a domain of their own, once each, sorted by
 * code: whether an answer names a domain whatever its question is then a
 * binary search (dict_answer_domain). */
static void index_answers(struct dict *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->n_inst; i++)
        for (size_t j = 0; j < d->inst[i].n_items; j++)
            n += d->inst[i].items[j].n_answers;
    const struct dict_answer **v = arena_alloc(&d->a, (n ? n : 1) * sizeof(*v));
    size_t k = 0;
    for (size_t i = 0; i < d->n_inst; i++)
        for (size_t j = 0; j < d->inst[i].n_items; j++)
            for (size_t a = 0; a < d->inst[i].items[j].n_answers; a++)
                if (d->inst[i].items[j].answers[a].domain)
                    v[k++] = &d->inst[i].items[j].answers[a];
    qsort(v, k, sizeof(*v), dict_answerp_cmp);
    size_t m = 0;
    for (size_t i = 0; i < k; i++)
        if (m == 0 || strcmp(v[m - 1]->code, v[i]->code) != 0)
            v[m++] = v[i];
    d->dom_answers = v;
    d->n_dom_answers = m;
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
    /* max_array at max_values: the count of values bounds what cJSON
     * holds; a table past DICT_MAX_ROWS is the loader's to refuse, by
     * its member's name (ld_arr; the prescan's "/" named none: F1840) */
    static const struct json_limits lim = {
        .max_bytes = DICT_MAX_FILE_BYTES, .max_depth = DICT_MAX_DEPTH,
        .max_array = 1000000, .max_members = 1000,
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
            case K_DOMAINS: rc = dict_ld_domains(&l, root); break;
            case K_INSTRUMENTS:
                rc = dict_ld_instruments(&l, root, &inst_cap);
                break;
            case K_ZCODES: rc = dict_ld_zcodes(&l, root); break;
            case K_TASK: rc = dict_ld_task_status(&l, root); break;
            case K_SECURITY: rc = dict_ld_security(&l, root); break;
            case K_CONCEPTS: rc = dict_ld_concepts(&l, root); break;
            case K_SCTDOM: rc = dict_ld_snomed_domains(&l, root); break;
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

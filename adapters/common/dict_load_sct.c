/*
 * dict_load_sct.c - the SNOMED CT tables: security-labels-<x>.json
 * (concepts that imply a label, from published value sets) and
 * snomed-domains.json (findings to SDOH domains), each code checked by its
 * Verhoeff digit. See dict_ld.h for the loader's parts.
 */
#include <ctype.h>
#include <stdlib.h>

#include "common/dict_ld.h"

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
int dict_ld_concepts(struct ld *l, const cJSON *root)
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
    if ((rc = dict_ld_label(l, label)))
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
    /* none yet (a first table without codes): no rows to sort, and qsort
     * must not see their NULL base (F1843) */
    if (l->d->n_sct == 0)
        return HUB_OK;
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
int dict_ld_snomed_domains(struct ld *l, const cJSON *root)
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

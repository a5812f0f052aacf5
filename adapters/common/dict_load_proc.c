/*
 * dict_load_proc.c - security-labels.json "cpt" and "hcpcs": procedure
 * and service codes, alone or as ranges, that label the events carrying
 * them (a referral for a psychiatric evaluation, CPT 90791: F2001). Codes
 * and the table's own short words only: CPT's descriptors are the AMA's.
 * See dict_ld.h for the loader's parts.
 */
#include <stdlib.h>

#include "common/dict_ld.h"

/* by shape, then by the range's start: dict_proc_sensitivity's order */
static int proc_cmp(const void *x, const void *y)
{
    const struct proc_row *a = x, *b = y;
    if (a->shape != b->shape)
        return a->shape < b->shape ? -1 : 1;
    return strcmp(a->lo, b->lo);
}

/* Whether shape `s` is one of member `hcpcs`'s (HCPCS Level II, a letter
 * and four digits) or else of "cpt"'s (five digits, or four and F or T). */
static bool shape_of_member(int s, bool hcpcs)
{
    return s >= 0 && (hcpcs ? s >= 3 : s < 3);
}

/* A row's code, or its `key` ("code", "to"), into buf: a code of the
 * member's kind exactly as the table must write it (upper case). */
static int proc_code(struct ld *l, const char *key, const char *s, bool hcpcs,
                     char buf[6], int *shape)
{
    *shape = dict_proc_shape(slice_from_cstr(s), buf);
    if (!shape_of_member(*shape, hcpcs) || strcmp(buf, s) != 0) {
        ld_key(l, key);
        return ld_fail(l, HUB_EINVALID,
                       hcpcs ? "not an HCPCS Level II code (a letter A to V "
                               "and four digits)"
                             : "not a CPT code (five digits, or four and F "
                               "or T)");
    }
    return HUB_OK;
}

/* The rows of member `name` appended to l->d->proc (n_proc counted). */
static int load_member(struct ld *l, const cJSON *root, const char *name,
                       bool hcpcs, size_t cap)
{
    static const char *const row[] = { "code", "to", "label", "display",
                                       NULL };
    const cJSON *arr;
    size_t n;
    int rc;
    if ((rc = ld_arr(l, root, name, false, &arr, &n)) || arr == NULL)
        return rc;
    size_t old = ld_key(l, name);
    size_t i = 0;
    for (const cJSON *e = arr->child; e; e = e->next, i++) {
        size_t o2 = ld_idx(l, i);
        if (l->d->n_proc == cap)        /* cap counted both arrays */
            return ld_fail(l, HUB_ELIMIT, "more rows than the table holds");
        struct proc_row *r = &l->d->proc[l->d->n_proc];
        const char *code, *to, *disp;
        int to_shape;
        if ((rc = ld_obj(l, e)) || (rc = ld_keys(l, e, row)) ||
            (rc = ld_str(l, e, "code", true, &code)) ||
            (rc = ld_str(l, e, "to", false, &to)) ||
            (rc = ld_str(l, e, "label", true, &r->label)) ||
            (rc = ld_str(l, e, "display", false, &disp)) ||
            (rc = proc_code(l, "code", code, hcpcs, r->lo, &r->shape)))
            return rc;
        if (to == NULL)
            memcpy(r->hi, r->lo, sizeof(r->hi));
        else if ((rc = proc_code(l, "to", to, hcpcs, r->hi, &to_shape)))
            return rc;
        else if (to_shape != r->shape) {
            ld_key(l, "to");
            return ld_fail(l, HUB_EINVALID, "range ends in another kind of "
                                            "code than it starts");
        } else if (strcmp(r->hi, r->lo) < 0) {
            ld_key(l, "to");
            return ld_fail(l, HUB_EINVALID, "range ends before it starts");
        }
        if ((rc = dict_ld_label(l, r->label)))
            return rc;
        l->d->n_proc++;
        ld_pop(l, o2);
    }
    ld_pop(l, old);
    return HUB_OK;
}

int dict_ld_proc(struct ld *l, const cJSON *root)
{
    size_t cap = (size_t)cJSON_GetArraySize(
                     cJSON_GetObjectItemCaseSensitive(root, "cpt")) +
                 (size_t)cJSON_GetArraySize(
                     cJSON_GetObjectItemCaseSensitive(root, "hcpcs"));
    int rc;
    l->d->proc = arena_zalloc(&l->d->a, (cap ? cap : 1) * sizeof(*l->d->proc));
    l->d->n_proc = 0;
    if ((rc = load_member(l, root, "cpt", false, cap)))
        return rc;
    if ((rc = load_member(l, root, "hcpcs", true, cap)))
        return rc;
    /* sorted for the lookup's binary search; a code in two rows would
     * have two labels, one of them lost: refused (shapes never mix, so
     * each member is checked on its own rows) */
    qsort(l->d->proc, l->d->n_proc, sizeof(*l->d->proc), proc_cmp);
    for (size_t i = 1; i < l->d->n_proc; i++) {
        const struct proc_row *a = &l->d->proc[i - 1], *b = &l->d->proc[i];
        if (a->shape == b->shape && strcmp(b->lo, a->hi) <= 0) {
            ld_key(l, b->shape < 3 ? "cpt" : "hcpcs");
            return ld_fail(l, HUB_EINVALID, "two rows hold one code");
        }
    }
    return HUB_OK;
}

/*
 * dict_load_codes.c - the two flat code tables of the data dictionary:
 * domains.json (the SDOH domains every other table names) and
 * task-status.json (referral task statuses and their aliases). See
 * dict_ld.h for the loader's parts.
 */
#include <ctype.h>

#include "common/dict_ld.h"

/* ---- domains.json ------------------------------------------------------------ */

int dict_ld_domains(struct ld *l, const cJSON *root)
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

/* ---- task-status.json ---------------------------------------------------------- */

int dict_ld_task_status(struct ld *l, const cJSON *root)
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

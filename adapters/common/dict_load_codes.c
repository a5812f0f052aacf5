/*
 * dict_load_codes.c - the two flat code tables of the data dictionary:
 * domains.json (the SDOH domains every other table names) and
 * task-status.json (referral task statuses and their aliases). See
 * dict_ld.h for the loader's parts.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "common/dict_ld.h"

/* An alias or word of a flat file as the tables write it: lowercase (the
 * readers fold what they are sent before they look). */
static bool lowercase(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (isupper((unsigned char)*s))
            return false;
    return true;
}

/* ---- domains.json ------------------------------------------------------------ */

/* Why a domain alias (or ambiguous word) is not as the CSV reader looks
 * it up, or NULL: lowercase, with '-' where a sender wrote a space or '_'
 * (csv.c folds them so before it looks); one written otherwise would
 * never be found, so it is refused, not left dead (F2706). */
static const char *domain_word_form(const char *w, bool alias)
{
    if (!lowercase(w))
        return alias ? "alias is not lowercase" : "word is not lowercase";
    if (strpbrk(w, " _"))
        return alias ? "alias has a space or '_' (read as '-')"
                     : "word has a space or '_' (read as '-')";
    return NULL;
}

/* Whether `w` is taken: a domain code, an alias, or an ambiguous word. */
static bool domain_word_taken(const struct dict *d, const char *w)
{
    struct slice s = slice_from_cstr(w);
    return dict_domain_find(d, s) || dict_domain_alias(d, s) ||
           dict_domain_ambiguous(d, s);
}

/* A domain's aliases (F2423): lowercase words no other row takes. */
static int domain_aliases(struct ld *l, const cJSON *e, struct dict_domain *dm)
{
    int rc;
    if (cJSON_GetObjectItemCaseSensitive(e, "aliases") == NULL)
        return HUB_OK;
    if ((rc = ld_strs(l, e, "aliases", &dm->aliases, &dm->n_aliases)))
        return rc;
    for (size_t k = 0; k < dm->n_aliases; k++) {
        const char *a = dm->aliases[k];
        const char *form = domain_word_form(a, true);
        const char *why = form ? form
                          : domain_word_taken(l->d, a) ||
                                    strcmp(a, dm->code) == 0
                              ? "duplicate domain code"
                              : NULL;
        for (size_t j = 0; !why && j < k; j++)
            if (strcmp(dm->aliases[j], a) == 0)
                why = "duplicate domain code";
        if (why) {
            ld_key(l, "aliases");
            ld_idx(l, k);
            return ld_fail(l, HUB_EINVALID, why);
        }
    }
    return HUB_OK;
}

/* The refusal of an ambiguous word, naming the codes it could mean. */
static const char *ambiguous_why(struct ld *l, const struct dict_domain_word *w)
{
    static const char head[] = "domain is an ambiguous word (";
    size_t n = sizeof(head) + strlen(w->word) + 160;
    for (size_t k = 0; k < w->n_could_be; k++)
        n += strlen(w->could_be[k]) + 4;
    char *p = arena_alloc(&l->d->a, n);
    size_t o = (size_t)snprintf(p, n, "%s%s)", head, w->word);
    if (w->n_could_be == 0)
        o += (size_t)snprintf(p + o, n - o,
                              " with no Gravity SDOH category of its own");
    else
        o += (size_t)snprintf(p + o, n - o, ": it could be ");
    for (size_t k = 0; k < w->n_could_be; k++)
        o += (size_t)snprintf(p + o, n - o, "%s%s",
                              k == 0                     ? ""
                              : k + 1 == w->n_could_be ? " or "
                                                         : ", ",
                              w->could_be[k]);
    snprintf(p + o, n - o, "; send the Gravity code meant");
    return p;
}

/* "ambiguous": words flat files write for several domains or for none. */
static int domain_words(struct ld *l, const cJSON *root)
{
    static const char *const row[] = { "word", "could_be", NULL };
    const cJSON *arr;
    size_t n;
    int rc;
    if ((rc = ld_arr(l, root, "ambiguous", false, &arr, &n)) || arr == NULL)
        return rc;
    size_t old = ld_key(l, "ambiguous");
    l->d->dwords = arena_zalloc(&l->d->a, (n ? n : 1) * sizeof(*l->d->dwords));
    size_t i = 0;
    for (const cJSON *e = arr->child; e; e = e->next, i++) {
        size_t o2 = ld_idx(l, i);
        struct dict_domain_word *w = &l->d->dwords[i];
        if ((rc = ld_obj(l, e)) || (rc = ld_keys(l, e, row)) ||
            (rc = ld_str(l, e, "word", true, &w->word)))
            return rc;
        const char *form = domain_word_form(w->word, false);
        if (form || domain_word_taken(l->d, w->word)) {
            ld_key(l, "word");
            return ld_fail(l, HUB_EINVALID,
                           form ? form : "duplicate domain code");
        }
        if (cJSON_GetObjectItemCaseSensitive(e, "could_be") &&
            (rc = ld_strs(l, e, "could_be", &w->could_be, &w->n_could_be)))
            return rc;
        for (size_t k = 0; k < w->n_could_be; k++)
            if (dict_domain_find(l->d, slice_from_cstr(w->could_be[k])) ==
                NULL) {
                ld_key(l, "could_be");
                ld_idx(l, k);
                return ld_fail(l, HUB_EINVALID, "domain is not in domains.json");
            }
        w->why = ambiguous_why(l, w);
        l->d->n_dwords = i + 1;
        ld_pop(l, o2);
    }
    ld_pop(l, old);
    return HUB_OK;
}

int dict_ld_domains(struct ld *l, const cJSON *root)
{
    static const char *const top[] = { "ig", "system", "domains", "ambiguous",
                                       NULL };
    static const char *const ig[] = { "name", "version", "source", NULL };
    static const char *const row[] = { "code", "display", "status", "aliases",
                                       NULL };
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
        if (domain_word_taken(l->d, dm->code)) {
            ld_key(l, "code");
            return ld_fail(l, HUB_EINVALID, "duplicate domain code");
        }
        if ((rc = domain_aliases(l, e, dm)))
            return rc;
        l->d->n_domains = i + 1;
        ld_pop(l, o2);
    }
    ld_pop(l, old);
    return domain_words(l, root);
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
            const char *why = !lowercase(t->aliases[k])
                                  ? "alias is not lowercase"
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

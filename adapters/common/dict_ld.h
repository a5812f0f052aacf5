/*
 * dict_ld.h - what the loader's parts share: the context of a load (the
 * dict being filled, where an error goes, and the JSON path of what is
 * being read), the member readers every table uses, and each part's entry.
 * Not an API: dict.h is the module's (dict_int.h the dictionary's layout).
 *
 * The parts, a file or a kind of table each:
 *   dict_load.c        dict_load: the files by name, parsed, in order
 *                      (domains first), the item labels linked; dict_free
 *   dict_load_codes.c  domains.json and task-status.json (not to be
 *                      confused with dict_codes.c, a query: the label a
 *                      coded diagnosis implies)
 *   dict_load_inst.c   instruments*.json: items, answers, wordings, sums
 *                      and derived rules
 *   dict_load_icd.c    ICD-10 rows (zcodes.json, security-labels.json
 *                      "icd10") and the prefix bits of the latter
 *   dict_load_sec.c    security-labels.json: the labels, LOINC questions
 *                      and their rules, HL7 v2 table 0717
 *   dict_load_sct.c    SNOMED CT: security-labels-<x>.json concepts and
 *                      snomed-domains.json
 *   dict_load_proc.c   security-labels.json "cpt" and "hcpcs": procedure
 *                      codes and ranges
 *
 * The readers are file-local in each part (DICT_HELPER), as they were in
 * the one dict_load.c they came from, so that each part inlines them as
 * that file did. Each returns HUB_OK or the code ld_fail gave, the path
 * left at the member at fault.
 */
#ifndef HUB_DICT_LD_H
#define HUB_DICT_LD_H

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "common/dict_int.h"
#include "common/hub_err.h"

/* ---- loader context: the JSON path of what is being read ---------------- */

struct ld {
    struct dict *d;
    struct dict_err *err;
    const char *file;
    char path[128];
    size_t plen;
};

DICT_HELPER int ld_fail(struct ld *l, int code, const char *what)
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

DICT_HELPER size_t ld_key(struct ld *l, const char *k)
{
    size_t old = l->plen;
    int n = snprintf(l->path + l->plen, sizeof(l->path) - l->plen, "/%s", k);
    if (n > 0)
        l->plen += (size_t)n < sizeof(l->path) - l->plen
                       ? (size_t)n : sizeof(l->path) - l->plen - 1;
    return old;
}

DICT_HELPER size_t ld_idx(struct ld *l, size_t i)
{
    char k[24];
    snprintf(k, sizeof(k), "%zu", i);
    return ld_key(l, k);
}

DICT_HELPER void ld_pop(struct ld *l, size_t old)
{
    l->plen = old;
    l->path[old] = '\0';
}

/* Refuse members not in `allowed` (NULL-terminated). "$comment" and keys
 * starting with "_" are free for notes in the data. */
DICT_HELPER int ld_keys(struct ld *l, const cJSON *obj,
                        const char *const *allowed)
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

DICT_HELPER int ld_obj(struct ld *l, const cJSON *v)
{
    return cJSON_IsObject(v) ? HUB_OK
                             : ld_fail(l, HUB_EINVALID, "expected an object");
}

/* A string member: copied into the dict's arena; absent -> NULL or error. */
DICT_HELPER int ld_str(struct ld *l, const cJSON *obj, const char *key,
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

DICT_HELPER int ld_bool(struct ld *l, const cJSON *obj, const char *key,
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
DICT_HELPER int ld_int(struct ld *l, const cJSON *obj, const char *key,
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
DICT_HELPER int ld_arr(struct ld *l, const cJSON *obj, const char *key,
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
DICT_HELPER int ld_strs(struct ld *l, const cJSON *obj, const char *key,
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

DICT_HELPER struct dict_key cstr_key(const char *s)
{
    return key_of(slice_from_cstr(s));
}

DICT_HELPER int ld_domain(struct ld *l, const cJSON *obj, const char *key,
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

/* ---- each part's tables ------------------------------------------------ */

int dict_ld_domains(struct ld *l, const cJSON *root);
int dict_ld_task_status(struct ld *l, const cJSON *root);
int dict_ld_instruments(struct ld *l, const cJSON *root, size_t *cap);
int dict_ld_zcodes(struct ld *l, const cJSON *root);
/* ICD-10 rows of `arr` (n of them), each with value_key: a domain or a
 * label; dict_ld_icd_prefixes: the letters and digits they may match. */
int dict_ld_icd_rows(struct ld *l, const cJSON *arr, size_t n,
                     const char *value_key, bool value_is_domain,
                     struct icd_row **out, size_t *nout);
void dict_ld_icd_prefixes(const struct icd_row *rows, size_t n,
                          uint16_t pre[26]);
int dict_ld_security(struct ld *l, const cJSON *root);
/* security-labels.json "cpt" and "hcpcs" (both optional). */
int dict_ld_proc(struct ld *l, const cJSON *root);
/* A row's sensitivity label: a token, one of at most DICT_MAX_LABELS. */
int dict_ld_label(struct ld *l, const char *label);
int dict_ld_concepts(struct ld *l, const cJSON *root);
int dict_ld_snomed_domains(struct ld *l, const cJSON *root);

#endif

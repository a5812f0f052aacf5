/*
 * dict_load_icd.c - ICD-10 rows, a code or a range each, normalised and
 * packed for the look-ups: zcodes.json (to domains) and the "icd10" table
 * of security-labels.json (to labels). See dict_ld.h for the loader's
 * parts.
 */

#include "common/dict_ld.h"

/* ---- ICD-10 tables (zcodes.json, security-labels.json "icd10") ------------- */

int dict_ld_icd_rows(struct ld *l, const cJSON *arr, size_t n,
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

int dict_ld_zcodes(struct ld *l, const cJSON *root)
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
    if ((rc = dict_ld_icd_rows(l, arr, n, "domain", true, &l->d->zc,
                               &l->d->n_zc)))
        return rc;
    ld_pop(l, old);
    return HUB_OK;
}

/* Bit 0-9 of pre[letter]: a row may match a code of that letter and that
 * second digit; bit 10: of another second byte. A superset, from the rows
 * as loaded: a range across letters or digits sets every bit between. */
void dict_ld_icd_prefixes(const struct icd_row *rows, size_t n,
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

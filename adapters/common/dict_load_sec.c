/*
 * dict_load_sec.c - security-labels.json: the sensitivity labels (short
 * tokens, at most DICT_MAX_LABELS), the rows by system and code, the ICD-10
 * ones, the LOINC questions and what of their answers implies a label,
 * HL7 v2 table 0717; its CPT and HCPCS rows are dict_load_proc.c's. See
 * dict_ld.h for the loader's parts.
 */
#include <ctype.h>
#include <stdlib.h>

#include "common/dict_ld.h"

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
int dict_ld_label(struct ld *l, const char *label)
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
            (rc = t->check_code(l, r)) ||
            (rc = dict_ld_label(l, r->label)) ||
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

int dict_ld_security(struct ld *l, const cJSON *root)
{
    static const char *const top[] = { "labels", "icd10", "loinc", "v2-0717",
                                       "cpt", "hcpcs", NULL };
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
        if ((rc = dict_ld_label(l, r->label)))
            return rc;
        l->d->n_sec = i + 1;
        ld_pop(l, o2);
    }
    ld_pop(l, old);

    if ((rc = ld_arr(l, root, "icd10", false, &arr, &n)))
        return rc;
    old = ld_key(l, "icd10");
    if ((rc = dict_ld_icd_rows(l, arr, n, "label", false, &l->d->icd_sens,
                               &l->d->n_icd_sens)))
        return rc;
    for (i = 0; i < l->d->n_icd_sens; i++) {
        size_t o2 = ld_idx(l, i);
        if ((rc = dict_ld_label(l, l->d->icd_sens[i].value)))
            return rc;
        ld_pop(l, o2);
    }
    dict_ld_icd_prefixes(l->d->icd_sens, l->d->n_icd_sens,
                         l->d->icd_sens_pre);
    ld_pop(l, old);
    if ((rc = load_loinc_labels(l, root)) || (rc = load_v2_0717(l, root)))
        return rc;
    return dict_ld_proc(l, root);
}

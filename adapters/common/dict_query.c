/*
 * dict_query.c - the look-ups of the data dictionary other than the
 * instruments' (see dict.h; the parts of the module are in dict_int.h):
 * domains, question wordings, ICD-10 domains and sensitivity labels,
 * SNOMED CT and LOINC, task statuses, security labels and HL7 v2 table
 * 0717, and the listing of the tables' rows. Every one reads the loaded
 * dict and nothing else.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/dict_int.h"

/* ---- domains ------------------------------------------------------------ */

const struct dict_domain *dict_domain_find(const struct dict *d,
                                           struct slice code)
{
    code = trim(code);
    for (size_t i = 0; i < d->n_domains; i++)
        if (eq(d->domains[i].code, code))
            return &d->domains[i];
    return NULL;
}

const struct dict_domain *dict_domain_alias(const struct dict *d,
                                            struct slice word)
{
    word = trim(word);
    for (size_t i = 0; i < d->n_domains; i++)
        for (size_t k = 0; k < d->domains[i].n_aliases; k++)
            if (eq(d->domains[i].aliases[k], word))
                return &d->domains[i];
    return NULL;
}

const struct dict_domain_word *dict_domain_ambiguous(const struct dict *d,
                                                     struct slice word)
{
    word = trim(word);
    for (size_t i = 0; i < d->n_dwords; i++)
        if (eq(d->dwords[i].word, word))
            return &d->dwords[i];
    return NULL;
}

const struct dict_domain_word *dict_domain_ambiguous_at(const struct dict *d,
                                                        size_t i)
{
    return i < d->n_dwords ? &d->dwords[i] : NULL;
}

const char *dict_ig_version(const struct dict *d)
{
    return d->ig_version;
}

size_t dict_domain_count(const struct dict *d)
{
    return d->n_domains;
}

const struct dict_domain *dict_domain_at(const struct dict *d, size_t i)
{
    return i < d->n_domains ? &d->domains[i] : NULL;
}

/* ---- question wordings -------------------------------------------------- */

bool dict_text_eq(struct slice a, const char *b)
{
    const unsigned char *p = (const unsigned char *)a.p;
    const unsigned char *q = (const unsigned char *)b;
    size_t i = 0, n = a.len;
    for (;;) {
        while (i < n && !word_byte(p[i]))
            i++;
        while (*q && !word_byte(*q))
            q++;
        if (i == n || *q == '\0')
            return i == n && *q == '\0';
        /* one word each: letters compare without case */
        while (i < n && word_byte(p[i]) && word_byte(*q)) {
            if ((p[i] | 0x20) != (*q | 0x20))
                return false;
            i++;
            q++;
        }
        if ((i < n && word_byte(p[i])) || word_byte(*q))
            return false;       /* one word is longer */
    }
}

const struct dict_item *dict_item_by_text(const struct dict *d,
                                          const struct dict_instrument *inst,
                                          struct slice text, bool *ambiguous)
{
    const struct dict_item *hit = NULL;
    *ambiguous = false;
    size_t n = inst ? 1 : d->n_inst;
    for (size_t j = 0; j < n; j++) {
        const struct dict_instrument *in = inst ? inst : &d->inst[j];
        for (size_t i = 0; i < in->n_items; i++) {
            const struct dict_item *it = &in->items[i];
            if (!item_reads_as(it, text))
                continue;
            if (hit && strcmp(hit->question, it->question) != 0) {
                *ambiguous = true;
                return NULL;
            }
            if (hit == NULL)
                hit = it;
        }
    }
    return hit;
}

/* ---- ICD-10 tables (zcodes.json, security-labels.json "icd10") ---------- */

/* strncmp of two normalised keys (no NUL before n in `row`), inline: a
 * few bytes each */
static inline int key_cmp(const char *key, const char *row, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (key[i] != row[i])
            return (unsigned char)key[i] < (unsigned char)row[i] ? -1 : 1;
    return 0;
}

static inline __attribute__((always_inline)) const char *
icd_lookup(const struct icd_row *rows, size_t n, struct slice code, bool lead)
{
    char key[ICD_KEY_MAX];
    size_t len;
    if (!icd_norm(code, key, &len, lead))
        return NULL;
    const struct icd_row *best = NULL;
    size_t best_score = 0;
    uint64_t key64 = icd_pack(key, len);
    for (size_t i = 0; i < n; i++) {
        const struct icd_row *r = &rows[i];
        if (r->len > len)
            continue;
        bool hit;
        if (r->len <= 8) {
            uint64_t k = key64 & r->mask64;
            hit = r->range ? k >= r->lo64 && k <= r->hi64 : k == r->lo64;
        } else {
            hit = r->range ? (key_cmp(key, r->lo, r->len) >= 0 &&
                              key_cmp(key, r->hi, r->len) <= 0)
                           : key_cmp(key, r->lo, r->len) == 0;
        }
        if (!hit)
            continue;
        /* longer keys are more specific; a code beats a range of its
         * length; of two ranges of one length, the one inside the other */
        size_t score = r->len * 2 + (r->range ? 0 : 1);
        bool inside = best && score == best_score &&
                      strcmp(r->lo, best->lo) >= 0 &&
                      strcmp(r->hi, best->hi) <= 0;
        if (score > best_score || inside) {
            best = r;
            best_score = score;
        }
    }
    return best ? best->value : NULL;
}

const char *dict_icd10_domain(const struct dict *d, struct slice code)
{
    return icd_lookup(d->zc, d->n_zc, code, false);
}

const char *dict_icd10_sensitivity(const struct dict *d, struct slice code)
{
    /* a label errs on the safe side: "F10.2+" is read as F10.2 */
    return icd_lookup(d->icd_sens, d->n_icd_sens, code, true);
}

const uint16_t *dict_icd10_label_prefixes(const struct dict *d)
{
    return d->icd_sens_pre;
}

/* ---- SNOMED CT and LOINC ------------------------------------------------ */

static const struct sec_row *sct_find(const struct sec_row *rows, size_t n,
                                      struct slice code)
{
    char key[20];
    code = trim(code);
    /* no table loaded: bsearch must not see its NULL base */
    if (n == 0 || code.len == 0 || code.len >= sizeof(key))
        return NULL;
    memcpy(key, code.p, code.len);
    key[code.len] = '\0';
    struct sec_row probe = { .code = key };
    return bsearch(&probe, rows, n, sizeof(*rows), sct_cmp);
}

const char *dict_answer_domain(const struct dict *d, struct slice code)
{
    char key[DICT_MAX_STR + 1];
    if (code.len == 0 || code.len > DICT_MAX_STR || d->n_dom_answers == 0)
        return NULL;            /* no code loaded is longer (dict_load) */
    memcpy(key, code.p, code.len);
    key[code.len] = '\0';
    const struct dict_answer probe = { .code = key }, *pp = &probe;
    const struct dict_answer *const *r =
        bsearch(&pp, d->dom_answers, d->n_dom_answers,
                sizeof(*d->dom_answers), dict_answerp_cmp);
    return r ? (*r)->domain : NULL;
}

const char *dict_snomed_domain(const struct dict *d, struct slice code)
{
    const struct sec_row *r = sct_find(d->sctdom, d->n_sctdom, code);
    return r ? r->label : NULL;
}

bool dict_is_snomed(struct slice system)
{
    system = trim(system);
    return eq(DICT_SNOMED_SYSTEM, system) ||
           eq("https://snomed.info/sct", system) ||
           eq("2.16.840.1.113883.6.96", system) ||
           eq("urn:oid:2.16.840.1.113883.6.96", system) ||
           (system.len == 3 && strncasecmp(system.p, "SCT", 3) == 0);
}

const char *dict_snomed_sensitivity(const struct dict *d, struct slice code)
{
    const struct sec_row *r = sct_find(d->sct, d->n_sct, code);
    return r ? r->label : NULL;
}

const char *dict_loinc_sensitivity(const struct dict *d, struct slice code)
{
    const struct sec_row *r = loinc_row(d, code);
    return r ? r->label : NULL;
}

/* ---- task statuses and security labels ----------------------------------------- */

const struct dict_task_status *dict_task_status_find(const struct dict *d,
                                                     struct slice code)
{
    code = trim(code);
    for (size_t i = 0; i < d->n_ts; i++)
        if (eq(d->ts[i].code, code))
            return &d->ts[i];
    return NULL;
}

const struct dict_task_status *dict_task_status_alias(const struct dict *d,
                                                      struct slice word)
{
    word = trim(word);
    for (size_t i = 0; i < d->n_ts; i++)
        for (size_t k = 0; k < d->ts[i].n_aliases; k++)
            if (eq(d->ts[i].aliases[k], word))
                return &d->ts[i];
    return NULL;
}

size_t dict_task_status_count(const struct dict *d)
{
    return d->n_ts;
}

const struct dict_task_status *dict_task_status_at(const struct dict *d,
                                                   size_t i)
{
    return i < d->n_ts ? &d->ts[i] : NULL;
}

const char *dict_security_label(const struct dict *d, struct slice system,
                                struct slice code)
{
    system = trim(system);
    code = trim(code);
    for (size_t i = 0; i < d->n_sec; i++) {
        const struct sec_row *r = &d->sec[i];
        if (!eq(r->code, code))
            continue;
        if (r->system == NULL || system.len == 0 || eq(r->system, system))
            return r->label;
    }
    return NULL;
}

size_t dict_access_restriction_labels(const struct dict *d, struct slice code,
                                      const char **out, size_t max)
{
    size_t n = 0;
    code = trim(code);
    for (size_t i = 0; i < d->n_v2_0717 && n < max; i++) {
        const char *c = d->v2_0717[i].code;
        size_t k = 0;
        while (k < code.len && c[k] != '\0' &&
               tolower((unsigned char)c[k]) ==
                   tolower((unsigned char)code.p[k]))
            k++;
        if (k == code.len && c[k] == '\0')
            out[n++] = d->v2_0717[i].label;
    }
    return n;
}

/* ---- listing ------------------------------------------------------------------------ */

size_t dict_rows_count(const struct dict *d, enum dict_table t)
{
    switch (t) {
    case DICT_T_ZCODES: return d->n_zc;
    case DICT_T_LABELS: return d->n_sec;
    case DICT_T_ICD10_LABELS: return d->n_icd_sens;
    case DICT_T_SNOMED_LABELS: return d->n_sct;
    case DICT_T_LOINC_LABELS: return d->n_loinc;
    case DICT_T_SNOMED_DOMAINS: return d->n_sctdom;
    case DICT_T_V2_0717: return d->n_v2_0717;
    case DICT_T_PROC_LABELS: return d->n_proc;
    }
    return 0;
}

bool dict_rows_at(const struct dict *d, enum dict_table t, size_t i,
                  struct dict_row *out)
{
    const struct icd_row *r = NULL;
    memset(out, 0, sizeof(*out));
    if (i >= dict_rows_count(d, t))
        return false;
    if (t == DICT_T_LABELS || t == DICT_T_SNOMED_LABELS ||
        t == DICT_T_LOINC_LABELS || t == DICT_T_SNOMED_DOMAINS ||
        t == DICT_T_V2_0717) {
        const struct sec_row *s = t == DICT_T_LABELS ? &d->sec[i]
                                  : t == DICT_T_SNOMED_LABELS ? &d->sct[i]
                                  : t == DICT_T_SNOMED_DOMAINS ? &d->sctdom[i]
                                  : t == DICT_T_V2_0717 ? &d->v2_0717[i]
                                                        : &d->loinc[i];
        out->system = s->system;
        out->lo = out->hi = s->code;
        out->value = s->label;
        out->conditional = s->rule != NULL;
        return true;
    }
    if (t == DICT_T_PROC_LABELS) {
        out->lo = d->proc[i].lo;
        out->hi = d->proc[i].hi;
        out->value = d->proc[i].label;
        return true;
    }
    r = t == DICT_T_ZCODES ? &d->zc[i] : &d->icd_sens[i];
    out->lo = r->lo;
    out->hi = r->hi;
    out->value = r->value;
    return true;
}

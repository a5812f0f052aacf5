/*
 * dict_int.h - what the parts of the data dictionary share: the layout of
 * struct dict and its rows, and the small look-ups that loading and the
 * queries both use. Not an API: dict.h is the module's. The parts:
 * dict_load.c reads and checks the files (every failure a JSON path),
 * one part a kind of table, dict_load_*.c, which dict_ld.h lists;
 * dict_score.c looks up instruments, items and answers and scores a
 * screening, dict_query.c answers the other look-ups (domains, ICD-10,
 * SNOMED CT, LOINC, task statuses, security labels, wordings, listing).
 *
 * Queries are linear scans: the tables are small (tens of rows per
 * instrument) and a scan over contiguous rows beats hashing at this size.
 * The scans over codes (items, answers, sums, a screening's responses)
 * compare keys made once (struct dict_key: the length and two words) where
 * they compared byte by byte: dict_score's lookups were a sixth of the CSV
 * adapter's work.
 *
 * The helpers below are file-local in each part that includes them, as
 * they were in the one file dict.c they came from: `static inline` where
 * dict.c had it, DICT_HELPER (static, GCC chooses) where it did not, so
 * that each part inlines them as the one file did.
 */
#ifndef HUB_DICT_INT_H
#define HUB_DICT_INT_H

#include <stdlib.h>
#include <string.h>

#include "common/dict.h"

/* A helper of this header that some parts do not call (not inline: GCC
 * chooses, as when it was file-local). */
#define DICT_HELPER static __attribute__((unused))

#define DICT_MAX_STR 512            /* one code or display */
#define ICD_KEY_MAX 16

struct icd_row {
    char lo[ICD_KEY_MAX];           /* normalised: "Z5941" (no dot, upper) */
    char hi[ICD_KEY_MAX];           /* == lo for a single code */
    size_t len;                     /* compare this many leading bytes */
    bool range;
    const char *value;              /* domain or sensitivity label */
    /* lo, hi and the mask of their len leading bytes, as big-endian
     * numbers (icd_pack), when len <= 8 (every ICD-10-CM code: 7 at
     * most): a row is then two compares, not two byte loops */
    uint64_t lo64, hi64, mask64;
};

/* security-labels.json "loinc" `answers` / `above`: only these answers,
 * or a value above this, imply the label (a disclosure, not the question
 * asked: HITS "Never" discloses no abuse). */
struct dict_sens_rule {
    const char **answers;
    size_t n_answers;
    bool has_above;
    int64_t above;
};

struct sec_row {
    const char *system;             /* NULL: any system */
    const char *code;
    const char *label;
    const struct dict_sens_rule *rule;  /* loinc: NULL, any answer */
};

/* security-labels.json "cpt" and "hcpcs": a code or a range of codes of
 * one shape (dict_proc_shape), lo <= hi, no two rows of a shape
 * overlapping; sorted by shape, then lo (F2001). */
struct proc_row {
    char lo[6], hi[6];
    int shape;
    const char *label;
};

struct dict {
    struct arena a;
    const char *ig_version;
    struct dict_domain *domains;
    size_t n_domains;
    struct dict_domain_word *dwords;    /* domains.json "ambiguous" */
    size_t n_dwords;
    struct dict_instrument *inst;
    size_t n_inst;
    struct icd_row *zc;
    size_t n_zc;
    struct dict_task_status *ts;
    size_t n_ts;
    struct sec_row *sec;
    size_t n_sec;
    struct icd_row *icd_sens;
    size_t n_icd_sens;
    uint16_t icd_sens_pre[26];      /* dict_icd10_label_prefixes */
    struct sec_row *sct;            /* SNOMED CT concepts, sorted by code */
    size_t n_sct, cap_sct;
    struct sec_row *loinc;          /* LOINC questions, sorted by code */
    size_t n_loinc;
    struct sec_row *sctdom;         /* SNOMED CT findings to domains
                                       (snomed-domains.json; `label` is the
                                       domain), sorted by code */
    size_t n_sctdom;
    struct sec_row *v2_0717;        /* HL7 v2 table 0717 access restriction
                                       values, a code once per label */
    size_t n_v2_0717;
    struct proc_row *proc;          /* CPT and HCPCS Level II codes */
    size_t n_proc;
    const char *labels[DICT_MAX_LABELS];    /* every label named, distinct */
    size_t n_labels;
    const struct dict_answer **dom_answers; /* the answers that carry a
                                       domain of their own, sorted by
                                       code, distinct: dict_answer_domain */
    size_t n_dom_answers;
};

/* ---- small lookups used by both loading and queries ------------------------ */

/* qsort/bsearch order of an array of answers by code (d->dom_answers) */
static inline int dict_answerp_cmp(const void *x, const void *y)
{
    return strcmp((*(const struct dict_answer *const *)x)->code,
                  (*(const struct dict_answer *const *)y)->code);
}

DICT_HELPER struct slice trim(struct slice s)
{
    s = slice_trim(s);
    return s;
}

DICT_HELPER bool eq(const char *a, struct slice s)
{
    /* slice_eq without its strlen: item and answer lookups scan lists of
     * codes that mostly differ in the first bytes */
    size_t i;
    if (a == NULL)
        return false;
    for (i = 0; i < s.len; i++)
        if (a[i] == '\0' || a[i] != s.p[i])
            return false;
    return a[i] == '\0';
}

/* The key of s (struct dict_key): the two words are all of its bytes when
 * it is at most 16 long (overlapping when shorter), so equal keys are
 * equal codes up to that length. */
static inline struct dict_key key_of(struct slice s)
{
    struct dict_key k = { 0, 0, s.len };
    if (s.len >= 8) {
        memcpy(&k.a, s.p, 8);
        memcpy(&k.b, s.p + s.len - 8, 8);
    } else if (s.len >= 4) {
        uint32_t x, y;
        memcpy(&x, s.p, 4);
        memcpy(&y, s.p + s.len - 4, 4);
        k.a = x;
        k.b = y;
    } else {
        for (size_t i = 0; i < s.len; i++)
            k.a |= (uint64_t)(unsigned char)s.p[i] << (8 * i);
    }
    return k;
}

/* True when `code`, whose key is `k`, is s, whose key is `sk`: what eq()
 * says, the words deciding up to 16 bytes. A slice holding a NUL equals no
 * code, as for eq(): a code's key covers no NUL. */
static inline bool key_eq(const struct dict_key *x, const struct dict_key *y)
{
    return x->a == y->a && x->b == y->b && x->len == y->len;
}

static inline bool key_is(const struct dict_key *k, const char *code,
                          const struct dict_key *sk, struct slice s)
{
    return key_eq(k, sk) && (s.len <= 16 || memcmp(code, s.p, s.len) == 0);
}

/* ---- instruments: items by key ------------------------------------------ */

DICT_HELPER const struct dict_item *
item_key_in(const struct dict_instrument *in, struct slice q,
            const struct dict_key *k)
{
    for (size_t i = 0; i < in->n_items; i++)
        if (key_is(&in->items[i].key, in->items[i].question, k, q))
            return &in->items[i];
    return NULL;
}

DICT_HELPER const struct dict_item *
item_in(const struct dict_instrument *in, struct slice q)
{
    struct dict_key k = key_of(q);
    return item_key_in(in, q, &k);
}

/* ---- question wordings -------------------------------------------------- */

static inline bool word_byte(unsigned char c)
{
    return (unsigned char)((c | 0x20) - 'a') < 26 ||
           (unsigned char)(c - '0') < 10;
}

/* Does the item read as `text` (its display or one of its texts)? */
DICT_HELPER bool item_reads_as(const struct dict_item *it, struct slice text)
{
    if (it->display && dict_text_eq(text, it->display))
        return true;
    for (size_t k = 0; k < it->n_texts; k++)
        if (dict_text_eq(text, it->texts[k]))
            return true;
    return false;
}

/* ---- ICD-10 codes as keys ----------------------------------------------- */

/* A byte of an ICD-10 code as its key has it: letters in upper case,
 * digits; 0 for any other byte (the dot is passed by before). */
#define ICD_D(c) [c] = c
#define ICD_L(c) [c] = c, [c + 32] = c
static const unsigned char icd_byte[256] = {
    ICD_D('0'), ICD_D('1'), ICD_D('2'), ICD_D('3'), ICD_D('4'), ICD_D('5'),
    ICD_D('6'), ICD_D('7'), ICD_D('8'), ICD_D('9'), ICD_L('A'), ICD_L('B'),
    ICD_L('C'), ICD_L('D'), ICD_L('E'), ICD_L('F'), ICD_L('G'), ICD_L('H'),
    ICD_L('I'), ICD_L('J'), ICD_L('K'), ICD_L('L'), ICD_L('M'), ICD_L('N'),
    ICD_L('O'), ICD_L('P'), ICD_L('Q'), ICD_L('R'), ICD_L('S'), ICD_L('T'),
    ICD_L('U'), ICD_L('V'), ICD_L('W'), ICD_L('X'), ICD_L('Y'), ICD_L('Z'),
};
#undef ICD_D
#undef ICD_L

/* "z59.41 " -> "Z5941"; false when it is not an ICD-10 shaped code, or
 * `lead`: when its leading code bytes are none ("F10.20!x", "F10.2+" ->
 * "F1020", "F102": a label errs on the safe side). By a table: <ctype.h>'s
 * calls cost more than the code (HL7 v2 asks this for every F1x DG1). */
static inline bool icd_norm(struct slice s, char out[ICD_KEY_MAX],
                            size_t *len, bool lead)
{
    size_t n = 0;
    s = trim(s);
    if (s.len == 0)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.p[i], u = icd_byte[c];
        if (u == 0) {
            if (c == '.')
                continue;
            if (lead)
                break;
            return false;
        }
        if (n + 1 >= ICD_KEY_MAX)
            return false;
        out[n++] = (char)u;
    }
    out[n] = '\0';
    *len = n;
    return n >= 3 && out[0] >= 'A' && out[0] <= 'Z';
}

/* The first 8 bytes of a normalised key as a big-endian number, zeros
 * past its end: numbers compare as the keys do. */
static inline uint64_t icd_pack(const char *key, size_t len)
{
    unsigned char b[8] = { 0 };
    memcpy(b, key, len < 8 ? len : 8);
    uint64_t v;
    memcpy(&v, b, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* ---- sorted code tables (LOINC, SNOMED CT) ------------------------------ */

DICT_HELPER int code_cmp(const void *x, const void *y)
{
    const struct sec_row *a = x, *b = y;
    return strcmp(a->code, b->code);
}

DICT_HELPER int sct_cmp(const void *x, const void *y)
{
    const struct sec_row *a = x, *b = y;
    size_t la = strlen(a->code), lb = strlen(b->code);
    return la != lb ? (la < lb ? -1 : 1) : strcmp(a->code, b->code);
}

DICT_HELPER const struct sec_row *
loinc_row(const struct dict *d, struct slice code)
{
    char key[16];
    code = trim(code);
    if (d->n_loinc == 0 || code.len == 0 || code.len >= sizeof(key))
        return NULL;
    memcpy(key, code.p, code.len);
    key[code.len] = '\0';
    struct sec_row probe = { .code = key };
    return bsearch(&probe, d->loinc, d->n_loinc, sizeof(*d->loinc), code_cmp);
}

#endif /* HUB_DICT_INT_H */

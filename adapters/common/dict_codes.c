/*
 * dict_codes.c - the sensitivity a coded diagnosis implies, one classifier
 * for every adapter (HL7 v2 DG1, FHIR Condition and Procedure codings,
 * C-CDA problem values and reasons): ICD-10 by the dictionary's rows
 * (F10-F19 -> "sud"), ICD-9-CM by its frozen chapter 5 codes (below:
 * "sud", and "psy" as the dictionary's ICD-10 psy blocks),
 * SNOMED CT by the dictionary's concept tables, a procedure or service in
 * CPT or HCPCS Level II by its code ranges (F2001). The code lists live
 * here and in the dictionary, nowhere else.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "common/dict_int.h"

/* Whether s is one of names[0..n), case aside (no trimming: a system is
 * compared as sent). */
static bool name_is(struct slice s, const char *const *names, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        size_t l = strlen(names[k]);
        if (s.len == l && strncasecmp(s.p, names[k], l) == 0)
            return true;
    }
    return false;
}

bool dict_is_icd9(struct slice system)
{
    /* FHIR's URI; the OIDs of ICD-9-CM diagnoses (C-CDA codeSystem
     * 2.16.840.1.113883.6.103), of ICD-9-CM and of ICD-9, bare or as
     * urn:oid:; and what HL7 v2 feeds write (table 0396 I9, I9C, I9CM,
     * and I9CDX "ICD-9CM diagnosis codes", which NIST's syndromic
     * surveillance test messages and the EHRs that export to public
     * health write in every DG1: F152) */
    static const char *const names[] = {
        DICT_ICD9_SYSTEM, "2.16.840.1.113883.6.103",
        "urn:oid:2.16.840.1.113883.6.103", "2.16.840.1.113883.6.2",
        "urn:oid:2.16.840.1.113883.6.2", "2.16.840.1.113883.6.42",
        "urn:oid:2.16.840.1.113883.6.42", "I9", "I9C", "I9CM", "I9CDX",
        "ICD9", "ICD-9", "ICD9CM", "ICD-9-CM",
    };
    return name_is(system, names, sizeof(names) / sizeof(names[0]));
}

/* ICD-9-CM 291-292 and 303-305: the alcohol and drug induced mental
 * disorders, dependence and abuse of its chapter 5 (305.1 tobacco beside
 * ICD-10's F17), the codes F10-F19 replaced; US claims used them until
 * October 2015, and v2.3/2.4 feeds, archives and C-CDA/FHIR conversions of
 * them still send them. "303.90" or "30390"; a fourth byte that is neither
 * a dot nor a digit makes it no such code.
 * And "psy" for the chapter's codes of the ICD-10 blocks the dictionary
 * labels psy (F20-F48, F50-F69, F90-F99, R45.851; SOURCES.md F80, F153):
 * 295-298 (schizophrenic, episodic mood, delusional and other nonorganic
 * psychoses: F20-F39), 300-302 (anxiety, dissociative, somatoform;
 * personality; sexual and gender identity: F40-F48, F60-F66, F52),
 * 306-309 (physiological malfunction from mental factors, eating, sleep,
 * tics, acute stress and adjustment reactions: F45, F50-F51, F95, F98,
 * F43), 311 (depressive disorder NEC: F32.9), 312-314 (conduct, childhood
 * emotional, hyperkinetic: F91, F63, F93-F94, F90), 316 (psychic factors
 * in other diseases: F54) and V62.84 (suicidal ideation: R45.851). Not
 * the organic disorders 290, 293-294, 310 (F01-F09), autism 299 and the
 * developmental delays 315 (F80-F89), or intellectual disability 317-319
 * (F70-F79), which the dictionary leaves unlabelled too. */
static const char *icd9_v_sensitivity(struct slice code)
{
    /* V62.84 or V6284, what may follow as the numbers' tails may */
    size_t k = code.len > 3 && code.p[3] == '.' ? 4 : 3;
    return code.p[1] == '6' && code.p[2] == '2' && code.len >= k + 2 &&
                   code.p[k] == '8' && code.p[k + 1] == '4'
               ? "psy"
               : NULL;
}

const char *dict_icd9_sensitivity(struct slice code)
{
    if (code.len < 3 || (code.len > 3 && code.p[3] != '.' &&
                         !(code.p[3] >= '0' && code.p[3] <= '9')))
        return NULL;
    if ((code.p[0] | 0x20) == 'v')
        return icd9_v_sensitivity(code);
    for (int k = 0; k < 3; k++)
        if (code.p[k] < '0' || code.p[k] > '9')
            return NULL;
    int n = (code.p[0] - '0') * 100 + (code.p[1] - '0') * 10 +
            (code.p[2] - '0');
    if (n == 291 || n == 292 || (n >= 303 && n <= 305))
        return "sud";
    if ((n >= 295 && n <= 298) || (n >= 300 && n <= 302) ||
        (n >= 306 && n <= 309) || (n >= 311 && n <= 314) || n == 316)
        return "psy";
    return NULL;
}

bool dict_is_icd10(struct slice system)
{
    /* FHIR's URIs and the OIDs of ICD-10-CM and WHO ICD-10 (the
     * dictionary's ICD-10 rows are chapter and block codes, the same in
     * both), bare or as urn:oid:; the German modification ICD-10-GM by
     * its FHIR URIs (BfArM's, and DIMDI's before 2020: the same chapters
     * and blocks as WHO's); and what HL7 v2 feeds write (table 0396 I10,
     * I10C; ICD10, ICD-10, ICD10CM, ICD-10-CM) */
    static const char *const names[] = {
        "I10", "I10C", "ICD10", "ICD-10", "ICD10CM", "ICD-10-CM",
        "http://hl7.org/fhir/sid/icd-10-cm", "http://hl7.org/fhir/sid/icd-10",
        "http://fhir.de/CodeSystem/bfarm/icd-10-gm",
        "http://fhir.de/CodeSystem/dimdi/icd-10-gm",
        "2.16.840.1.113883.6.90", "urn:oid:2.16.840.1.113883.6.90",
        "2.16.840.1.113883.6.3", "urn:oid:2.16.840.1.113883.6.3",
    };
    /* I10, what nearly every feed's DG1 names, before the list (whose
     * case-blind compares cost about 70 instructions a call) */
    if (system.len == 3 && (system.p[0] | 0x20) == 'i' &&
        system.p[1] == '1' && system.p[2] == '0')
        return true;
    return name_is(system, names, sizeof(names) / sizeof(names[0]));
}

bool dict_is_cpt_or_hcpcs(struct slice system)
{
    /* CPT: its FHIR URI, OID, and v2 table 0396 C4 (CPT-4) with what feeds
     * write; HCPCS Level II: THO's URI (US Core names it https://), its
     * OID, the older OID of HCPCS as a whole, v2's HCPCS and HPC */
    static const char *const names[] = {
        DICT_CPT_SYSTEM, "https://www.ama-assn.org/go/cpt",
        "2.16.840.1.113883.6.12", "urn:oid:2.16.840.1.113883.6.12",
        "C4", "CPT", "CPT4", "CPT-4",
        "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
        "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
        "2.16.840.1.113883.6.285", "urn:oid:2.16.840.1.113883.6.285",
        "2.16.840.1.113883.6.14", "urn:oid:2.16.840.1.113883.6.14",
        "HCPCS", "HPC",
    };
    return name_is(system, names, sizeof(names) / sizeof(names[0]));
}

int dict_proc_shape(struct slice code, char key[6])
{
    code = trim(code);
    if (code.len != 5)
        return -1;
    for (size_t i = 0; i < 5; i++)
        key[i] = code.p[i];
    key[5] = '\0';
    for (size_t i = 1; i < 4; i++)
        if (!isdigit((unsigned char)key[i]))
            return -1;
    unsigned char first = (unsigned char)key[0];
    unsigned char last = (unsigned char)toupper((unsigned char)key[4]);
    if (isdigit(first) && isdigit(last))
        return 0;                       /* CPT Category I */
    if (isdigit(first) && (last == 'F' || last == 'T')) {
        key[4] = (char)last;
        return last == 'F' ? 1 : 2;     /* CPT Category II, III */
    }
    /* HCPCS Level II: a letter A to V (CMS), four digits */
    first = (unsigned char)toupper(first);
    if (first >= 'A' && first <= 'V' && isdigit(last)) {
        key[0] = (char)first;
        return 3 + (first - 'A');
    }
    return -1;
}

const char *dict_proc_sensitivity(const struct dict *d, struct slice code)
{
    char key[6];
    int shape = dict_proc_shape(code, key);
    if (d == NULL || d->n_proc == 0 || shape < 0)
        return NULL;
    /* the last row at or before (shape, key): rows of a shape do not
     * overlap, so only it may hold the code */
    size_t lo = 0, hi = d->n_proc;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct proc_row *r = &d->proc[mid];
        if (r->shape < shape || (r->shape == shape && strcmp(r->lo, key) <= 0))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const struct proc_row *r = &d->proc[lo - 1];
    return r->shape == shape && strcmp(key, r->hi) <= 0 ? r->label : NULL;
}

const char *dict_code_sensitivity(const struct dict *d, struct slice system,
                                  struct slice code)
{
    if (code.len == 0 || system.len == 0)
        return NULL;
    /* I10 (HL7 v2 table 0396), what nearly every feed's DG1 names, before
     * the lists */
    if (d && system.len == 3 && (system.p[0] | 0x20) == 'i' &&
        system.p[1] == '1' && system.p[2] == '0')
        return dict_icd10_sensitivity(d, code);
    if (dict_is_icd9(system))
        return dict_icd9_sensitivity(code);
    if (d == NULL)
        return NULL;
    if (dict_is_icd10(system))
        return dict_icd10_sensitivity(d, code);
    if (dict_is_snomed(system))
        return dict_snomed_sensitivity(d, code);
    if (dict_is_cpt_or_hcpcs(system))
        return dict_proc_sensitivity(d, code);
    return NULL;
}

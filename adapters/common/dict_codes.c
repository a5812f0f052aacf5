/*
 * dict_codes.c - the sensitivity a coded diagnosis implies, one classifier
 * for every adapter (HL7 v2 DG1, FHIR Condition and Procedure codings,
 * C-CDA problem values and reasons): ICD-10 by the dictionary's rows
 * (F10-F19 -> "sud"), ICD-9-CM by its frozen chapter 5 codes (below:
 * "sud", and "psy" as the dictionary's ICD-10 psy blocks),
 * SNOMED CT by the dictionary's concept tables. The code lists live here
 * and in the dictionary, nowhere else.
 */
#include <string.h>
#include <strings.h>

#include "common/dict.h"

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
    return name_is(system, names, sizeof(names) / sizeof(names[0]));
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
    return NULL;
}

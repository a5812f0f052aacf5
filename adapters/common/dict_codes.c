/*
 * dict_codes.c - the sensitivity a coded diagnosis implies, one classifier
 * for every adapter (HL7 v2 DG1, FHIR Condition and Procedure codings,
 * C-CDA problem values and reasons): ICD-10 by the dictionary's rows
 * (F10-F19 -> "sud"), ICD-9-CM by its frozen chapter 5 codes (below),
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
     * urn:oid:; and what HL7 v2 feeds write (table 0396 I9, I9C, I9CM) */
    static const char *const names[] = {
        DICT_ICD9_SYSTEM, "2.16.840.1.113883.6.103",
        "urn:oid:2.16.840.1.113883.6.103", "2.16.840.1.113883.6.2",
        "urn:oid:2.16.840.1.113883.6.2", "2.16.840.1.113883.6.42",
        "urn:oid:2.16.840.1.113883.6.42", "I9", "I9C", "I9CM", "ICD9",
        "ICD-9", "ICD9CM", "ICD-9-CM",
    };
    return name_is(system, names, sizeof(names) / sizeof(names[0]));
}

/* ICD-9-CM 291-292 and 303-305: the alcohol and drug induced mental
 * disorders, dependence and abuse of its chapter 5 (305.1 tobacco beside
 * ICD-10's F17), the codes F10-F19 replaced; US claims used them until
 * October 2015, and v2.3/2.4 feeds, archives and C-CDA/FHIR conversions of
 * them still send them. "303.90" or "30390"; a fourth byte that is neither
 * a dot nor a digit makes it no such code. */
const char *dict_icd9_sensitivity(struct slice code)
{
    if (code.len < 3 || (code.len > 3 && code.p[3] != '.' &&
                         !(code.p[3] >= '0' && code.p[3] <= '9')))
        return NULL;
    for (int k = 0; k < 3; k++)
        if (code.p[k] < '0' || code.p[k] > '9')
            return NULL;
    int n = (code.p[0] - '0') * 100 + (code.p[1] - '0') * 10 +
            (code.p[2] - '0');
    return n == 291 || n == 292 || (n >= 303 && n <= 305) ? "sud" : NULL;
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

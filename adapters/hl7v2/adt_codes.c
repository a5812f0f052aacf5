/*
 * adt_codes.c - the code maps of the ADT normalizer that are called out
 * of line (adt_codes.h says what each answers, and has the maps GCC
 * inlines): patient class to v3 ActCode, as HL7's v2-to-FHIR ConceptMap
 * maps it, and the DG1 lookups in the data dictionary.
 */
#include "hl7v2/adt_codes.h"

ADT_FN struct text adt_class_of(struct slice v)
{
    if (upper_eq(v, "I") || upper_eq(v, "INPATIENT"))
        return TEXT_LIT("IMP");
    if (upper_eq(v, "O") || upper_eq(v, "OUTPATIENT"))
        return TEXT_LIT("AMB");
    if (upper_eq(v, "E") || upper_eq(v, "EMERGENCY"))
        return TEXT_LIT("EMER");
    if (upper_eq(v, "P") || upper_eq(v, "PREADMIT"))
        return TEXT_LIT("PRENC");
    /* local codes US feeds send in PV1-2 (table 0004 is user-defined),
     * and the v3 codes themselves */
    if (upper_eq(v, "ER") || upper_eq(v, "ED") || upper_eq(v, "EMER"))
        return TEXT_LIT("EMER");
    if (upper_eq(v, "OBS") || upper_eq(v, "OBSERVATION") ||
        upper_eq(v, "OBSENC"))
        return TEXT_LIT("OBSENC");
    if (upper_eq(v, "IMP"))
        return TEXT_LIT("IMP");
    if (upper_eq(v, "AMB"))
        return TEXT_LIT("AMB");
    return TEXT_NONE;
}

/* Whether `system` is one of `names` (case aside). Out of line: inlined
 * into its one caller it moved GCC's inlining of the whole normalizer
 * (+19k instructions over the bench corpus in hl7_to_events). */
static __attribute__((noinline)) int
system_is(struct slice system, const char *const *names, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (upper_eq_n(system, names[k], strlen(names[k])))
            return 1;
    return 0;
}

/* HL7 v2 table 0396 names SNOMED CT "SCT" (dict_is_snomed); feeds also
 * label SNOMED CT concept ids "SNM" (SNOMED), "SNM3" (SNOMED
 * International: Google's Simulated Hospital) or spell the name out. The
 * label lookup is exact against SNOMED CT ids, all digits, which no code
 * of the older editions ("D3-12000") can equal. */
static int snomed_alias(struct slice system)
{
    static const char *const names[] = {
        "SNM", "SNM3", "SNOMED", "SNOMEDCT", "SNOMED CT", "SNOMED-CT",
    };
    return system_is(system, names, sizeof(names) / sizeof(names[0]));
}

ADT_FN __attribute__((noinline)) const char *
adt_dg1_label_ask(const struct ctx *c, struct slice code, struct slice system)
{
    unsigned char c0 = (unsigned char)code.p[0];
    if (c0 >= '0' && c0 <= '9' && c0 != '2' && c0 != '3') {
        if (!c->d || system.len == 0)
            return NULL;
        unsigned char s0 = (unsigned char)system.p[0];
        if (!((s0 | 0x20) == 's' || s0 == 'h' || s0 == 'u' || s0 == '2' ||
              s0 == ' ' || s0 == '\t'))
            return NULL;
    }
    if (system.len == 0)
        return c->d ? dict_icd10_sensitivity(c->d, code) : NULL;
    const char *l = dict_code_sensitivity(c->d, system, code);
    if (l == NULL && c->d && snomed_alias(system))
        l = dict_code_sensitivity(c->d, slice_from_cstr("SCT"), code);
    return l;
}

ADT_FN __attribute__((noinline)) const char *
adt_dg1_domain_ask(const struct ctx *c, struct slice code, struct slice system)
{
    if ((code.p[0] | 0x20) == 'z')
        return system.len == 0 || dict_is_icd10(system)
                   ? dict_icd10_domain(c->d, code)
                   : NULL;
    if (system.len && (dict_is_snomed(system) || snomed_alias(system)))
        return dict_snomed_domain(c->d, code);
    return NULL;
}

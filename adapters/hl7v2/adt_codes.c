/*
 * adt_codes.c - the code maps of the ADT normalizer (adt_codes.h says
 * what each answers): HL7 tables to FHIR's and v3's codes, as HL7's
 * v2-to-FHIR ConceptMaps map them, and the DG1 lookups in the data
 * dictionary.
 */
#include "hl7v2/adt_codes.h"

ADT_FN struct text adt_sex_of(struct slice v)
{
    if (upper_eq(v, "F") || upper_eq(v, "FEMALE"))
        return TEXT_LIT("F");
    if (upper_eq(v, "M") || upper_eq(v, "MALE"))
        return TEXT_LIT("M");
    if (upper_eq(v, "O") || upper_eq(v, "A") || upper_eq(v, "N") ||
        upper_eq(v, "X") || upper_eq(v, "OTHER"))
        return TEXT_LIT("O");       /* other, ambiguous, not applicable */
    if (upper_eq(v, "U") || upper_eq(v, "UNKNOWN"))
        return TEXT_LIT("U");
    return TEXT_NONE;
}

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

ADT_FN struct text adt_name_use(struct slice v)
{
    if (v.len != 1)
        return TEXT_NONE;
    switch (v.p[0] >= 'a' && v.p[0] <= 'z' ? v.p[0] - 32 : v.p[0]) {
    case 'L': case 'C': return TEXT_LIT("official");
    case 'D': case 'A': return TEXT_LIT("usual");
    case 'M': return TEXT_LIT("maiden");
    case 'N': return TEXT_LIT("nickname");
    case 'S': return TEXT_LIT("anonymous");
    }
    return TEXT_NONE;
}

ADT_FN struct text adt_name_representation(struct slice v)
{
    if (v.len != 1)
        return TEXT_NONE;
    switch (v.p[0]) {
    case 'A': return TEXT_LIT("alphabetic");
    case 'I': return TEXT_LIT("ideographic");
    case 'P': return TEXT_LIT("phonetic");
    }
    return TEXT_NONE;
}

ADT_FN struct text adt_addr_use(struct slice v)
{
    if (upper_eq(v, "H") || upper_eq(v, "P") || upper_eq(v, "HOME"))
        return TEXT_LIT("home");    /* home, permanent */
    if (upper_eq(v, "B") || upper_eq(v, "O") || upper_eq(v, "WORK"))
        return TEXT_LIT("work");    /* business, office */
    if (upper_eq(v, "C"))
        return TEXT_LIT("temp");    /* current or temporary */
    if (upper_eq(v, "BA"))
        return TEXT_LIT("old");     /* bad address */
    if (upper_eq(v, "BI"))
        return TEXT_LIT("billing"); /* as the v2-to-FHIR ConceptMap has it */
    /* Cerner Millennium (UK) writes its own words: "home", "Previous" for
     * an address the patient has left (table 0190 has no code for it) */
    if (upper_eq(v, "PREVIOUS"))
        return TEXT_LIT("old");
    return TEXT_NONE;
}

ADT_FN struct text adt_phone_use(struct slice use, struct slice equip,
                                 const char *dflt)
{
    /* EMR, an emergency number: most often another person's (a kin's,
     * SS-MIX2 sends it beside PRN); no use rather than PID-13's home, nor
     * the patient's mobile when it is a cellular phone (F1340) */
    if (upper_eq(use, "EMR"))
        return TEXT_NONE;
    /* CP, table 0202's cellular phone; M, Epic's: Epic writes XTN-3 H,
     * M or W (home, mobile, work) beside its XTN-2 P, so its mobile in
     * PID-13 ("(555)777-5554^P^M^^^555^7775554") would be read as home */
    if (upper_eq(equip, "CP") || upper_eq(equip, "M"))
        return TEXT_LIT("mobile");
    if (upper_eq(use, "PRN") || upper_eq(use, "ORN") ||
        upper_eq(use, "VHN") || upper_eq(use, "HOME"))
        return TEXT_LIT("home");
    if (upper_eq(use, "WPN") || upper_eq(use, "WORK"))
        return TEXT_LIT("work");
    /* PRS, personal: mobile, as HL7's v2-to-FHIR map (table 0201 to
     * ContactPoint.use) has it; asked last, as it is the rarest */
    if (upper_eq(use, "PRS"))
        return TEXT_LIT("mobile");
    /* Cerner Millennium (UK) names the use in words, as "HOME" above:
     * "Mobile Number" (in PID-13, which would make it home) */
    if (use.len >= 6 && upper_eq_chars(use.p, "MOBILE", 6))
        return TEXT_LIT("mobile");
    return dflt ? (struct text){ slice_from_cstr(dflt), true } : TEXT_NONE;
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

/*
 * natid_test.c - the national numbers' check digits and formats
 * (common/natid.h), with the valid and invalid numbers their issuers'
 * texts give as examples, and how a scheme is named.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "common/natid.h"

static bool ok(enum natid id, const char *v)
{
    return natid_check(id, slice_from_cstr(v));
}

/* NHS Connecting for Health's worked example, 943 476 5919: weights 10..2
 * give 299, remainder 2, check 9; one digit changed fails, and so does a
 * number whose check would be 10 (never issued) */
Test(natid, the_nhs_number_passes_modulus_11)
{
    cr_assert(ok(NATID_NHS, "9434765919"));
    cr_assert(ok(NATID_NHS, "943 476 5919"));
    cr_assert(ok(NATID_NHS, "943-476-5919"));
    cr_assert_not(ok(NATID_NHS, "9434765918"));
    cr_assert_not(ok(NATID_NHS, "9434765991"), "two digits swapped");
    /* PARIS's 7000000001 (F744) and the BaRS example's 3478526985 */
    cr_assert_not(ok(NATID_NHS, "7000000001"));
    cr_assert_not(ok(NATID_NHS, "3478526985"));
    for (char c = '0'; c <= '9'; c++) {
        char v[11] = "100000001";
        v[9] = c;
        cr_assert_not(ok(NATID_NHS, v), "check 10: %s", v);
    }
    /* remainder 0: check 0 (11 -> 0) */
    cr_assert(ok(NATID_NHS, "0000000000"));
    cr_assert_not(ok(NATID_NHS, "943476591"), "nine digits");
    cr_assert_not(ok(NATID_NHS, "94347659190"), "eleven digits");
    cr_assert_not(ok(NATID_NHS, "943476591X"));
    cr_assert_not(ok(NATID_NHS, ""));
}

/* python-stdnum's examples from BC's vol. 4B: 9698 658 215 valid, one
 * digit changed not, and a PHN always starts with 9 */
Test(natid, the_bc_phn_passes_its_weights)
{
    cr_assert(ok(NATID_BC_PHN, "9698658215"));
    cr_assert(ok(NATID_BC_PHN, "9698 658 215"));
    cr_assert_not(ok(NATID_BC_PHN, "9698648215"));
    cr_assert_not(ok(NATID_BC_PHN, "5736504210"));
    /* the Ministry's own FHIR example value 9999999999 */
    cr_assert_not(ok(NATID_BC_PHN, "9999999999"));
}

/* The PESEL's worked examples: 44051401358 (the weights give 101, check
 * 9, not 8) and 12345678901 (217, check 3) fail; 44051401359 and
 * 12345678903 pass */
Test(natid, the_pesel_passes_its_weights)
{
    cr_assert_not(ok(NATID_PESEL, "44051401358"));
    cr_assert(ok(NATID_PESEL, "44051401359"));
    cr_assert(ok(NATID_PESEL, "12345678903"));
    cr_assert_not(ok(NATID_PESEL, "12345678901"));
    cr_assert_not(ok(NATID_PESEL, "4405140135"), "ten digits");
}

/* The SIN of the Luhn description (046 454 286) and its last digit
 * changed; the NPI of CMS's text (123456789, check 3 with the 80840
 * prefix's 24) and another */
Test(natid, the_sin_and_the_npi_pass_luhn)
{
    cr_assert(ok(NATID_CA_SIN, "046454286"));
    cr_assert(ok(NATID_CA_SIN, "046 454 286"));
    cr_assert_not(ok(NATID_CA_SIN, "046454287"));
    cr_assert(ok(NATID_US_NPI, "1234567893"));
    cr_assert(ok(NATID_US_NPI, "1558598797"));
    cr_assert_not(ok(NATID_US_NPI, "1234567890"));
    cr_assert_not(ok(NATID_US_NPI, "123456789"), "nine digits");
    /* plain Luhn without the prefix passes 1234567897, the NPI rule not */
    cr_assert_not(ok(NATID_US_NPI, "1234567897"));
}

/* CMS's MBI format (C A AN N A AN N A A N N, no S L O I B Z) and its
 * example 1EG4-TE5-MK73 */
Test(natid, the_mbi_has_the_cms_format)
{
    cr_assert(ok(NATID_US_MBI, "1EG4TE5MK73"));
    cr_assert(ok(NATID_US_MBI, "1EG4-TE5-MK73"));
    cr_assert(ok(NATID_US_MBI, "1E94T95MK73"), "3rd and 6th may be digits");
    cr_assert_not(ok(NATID_US_MBI, "0EG4TE5MK73"), "first is 1-9");
    cr_assert_not(ok(NATID_US_MBI, "1SG4TE5MK73"), "no S");
    cr_assert_not(ok(NATID_US_MBI, "1EG4TE5MK7"), "ten characters");
    cr_assert_not(ok(NATID_US_MBI, "1EG4TE5MK733"), "twelve");
    cr_assert_not(ok(NATID_US_MBI, "1eg4te5mk73"), "upper case only");
    cr_assert_not(ok(NATID_US_MBI, "123456789A"), "a HICN");
}

/* F942: the BSN's elfproef, weights 9..2 and -1: 111222333 (66) and
 * 123456782 (154), the examples Dutch libraries and test data use; eight
 * digits read with the leading zero (012345672: 110); ScreenIT's test
 * BSN 888800000 (240, remainder 9) fails, and so does one digit changed */
Test(natid, the_bsn_passes_the_eleven_check)
{
    cr_assert(ok(NATID_NL_BSN, "111222333"));
    cr_assert(ok(NATID_NL_BSN, "123456782"));
    cr_assert(ok(NATID_NL_BSN, "12345672"), "eight digits");
    cr_assert(ok(NATID_NL_BSN, "1234.56.782") == false, "a dot is no digit");
    cr_assert_not(ok(NATID_NL_BSN, "888800000"));
    cr_assert_not(ok(NATID_NL_BSN, "123456783"));
    cr_assert_not(ok(NATID_NL_BSN, "1234567"), "seven digits");
    cr_assert_not(ok(NATID_NL_BSN, "1234567820"), "ten digits");
    cr_assert_not(ok(NATID_NL_BSN, ""));
}

Test(natid, a_scheme_is_named_by_its_system_its_authority_or_the_npi_type)
{
    static const struct {
        char sys[80], type[12];
        enum natid id;
    } c[] = {
        { "https://fhir.nhs.uk/Id/nhs-number", "", NATID_NHS },
        { "urn:oid:2.16.840.1.113883.2.1.4.1", "", NATID_NHS },
        { "2.16.840.1.113883.2.1.4.1", "NH", NATID_NHS },
        { "NHS", "NH", NATID_NHS },
        { "nhs", "", NATID_NHS },
        { "NHSNBR", "NHSNMBR", NATID_NHS },
        { "NHSNMBR", "", NATID_NHS },
        { "", "NHSNMBR", NATID_NHS },       /* CX-5 alone (F2300) */
        { "H", "nhsnmbr", NATID_NHS },
        { "https://fhir.infoway-inforoute.ca/NamingSystem/"
          "ca-bc-patient-healthcare-id", "JHN", NATID_BC_PHN },
        { "urn:oid:2.16.840.1.113883.3.4424.1.1.616", "", NATID_PESEL },
        { "https://fhir.infoway-inforoute.ca/NamingSystem/"
          "ca-social-insurance-number", "", NATID_CA_SIN },
        { "http://hl7.org/fhir/sid/us-npi", "", NATID_US_NPI },
        { "urn:oid:2.16.840.1.113883.4.6", "", NATID_US_NPI },
        { "H", "NPI", NATID_US_NPI },
        { "http://hl7.org/fhir/sid/us-mbi", "MC", NATID_US_MBI },
        { "2.16.840.1.113883.4.927", "", NATID_US_MBI },
        { "NLMINBIZA", "NNNLD", NATID_NL_BSN },
        { "nlminbiza", "", NATID_NL_BSN },
        { "NLMINBIZA", "nnnld", NATID_NL_BSN },
        { "ZIS", "NNNLD", NATID_NL_BSN },
        { "http://fhir.nl/fhir/NamingSystem/bsn", "", NATID_NL_BSN },
        { "urn:oid:2.16.840.1.113883.2.4.6.3", "NNNLD", NATID_NL_BSN },
        /* none of them */
        { "MRN", "MR", NATID_NONE },
        { "NHSX", "NH", NATID_NONE },
        { "", "NH", NATID_NONE },
        { "https://fhir.nhs.uk/Id/nhs-number-x", "", NATID_NONE },
        { "2.16.840.1.113883.2.1.4.10", "", NATID_NONE },
        { "urn:oid:2.16.840.1.113883.4.1", "SS", NATID_NONE },
        { "", "MC", NATID_NONE },
        { "NLMINBIZ", "", NATID_NONE },
        /* the ministry's other numbers (F2840): a passport, a licence */
        { "NLMINBIZA", "PPN", NATID_NONE },
        { "NLMINBIZA", "DL", NATID_NONE },
        { "", "NNBEL", NATID_NONE },
        { "", "NHSNBR", NATID_NONE },        /* an authority's name, no type */
        { "", "NHSNMBRX", NATID_NONE },
        { "2.16.840.1.113883.2.4.6.30", "", NATID_NONE },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
        cr_assert_eq(natid_scheme(slice_from_cstr(c[i].sys),
                                  slice_from_cstr(c[i].type)),
                     c[i].id, "%s %s", c[i].sys, c[i].type);
}

/* What natid_flaw says: the scheme's failure, a placeholder that passes
 * (9999999999 is a valid NHS number by modulus 11), nothing for a good
 * number or another scheme; never the value's digits */
Test(natid, the_flaw_names_the_scheme_and_quotes_no_digit)
{
    struct slice nhs = slice_from_cstr("NHS"), none = SLICE_NULL;
    const char *w = natid_flaw(nhs, none, slice_from_cstr("7000000001"));
    cr_assert_str_eq(w, "NHS number fails its modulus 11 check; not linked");
    cr_assert(ok(NATID_NHS, "9999999999"));
    cr_assert_str_eq(natid_flaw(nhs, none, slice_from_cstr("9999999999")),
                     "national number is a placeholder; not linked");
    cr_assert_null(natid_flaw(nhs, none, slice_from_cstr("9434765919")));
    cr_assert_null(natid_flaw(slice_from_cstr("MRN"), none,
                              slice_from_cstr("7000000001")));
    cr_assert_str_eq(natid_flaw(slice_from_cstr("NLMINBIZA"),
                                slice_from_cstr("NNNLD"),
                                slice_from_cstr("888800000")),
                     "BSN fails its eleven check; not linked");
    cr_assert_null(natid_flaw(slice_from_cstr("NLMINBIZA"),
                              slice_from_cstr("NNNLD"),
                              slice_from_cstr("123456782")));
    /* a Dutch passport number under the BSN's authority (F2840) */
    cr_assert_null(natid_flaw(slice_from_cstr("NLMINBIZA"),
                              slice_from_cstr("PPN"),
                              slice_from_cstr("AA1234567")));
    cr_assert_str_eq(natid_flaw(SLICE_NULL, slice_from_cstr("NNNLD"),
                                slice_from_cstr("000000000")),
                     "national number is a placeholder; not linked");
    cr_assert_str_eq(natid_flaw(slice_from_cstr("http://hl7.org/fhir/sid/"
                                                "us-mbi"), none,
                                slice_from_cstr("1EG4TE5MK7")),
                     "MBI is not in the CMS format; not linked");
    static const char *const vals[] = { "7000000001", "1234567890",
                                        "046454287" };
    static const char *const sys[] = { "NHS", "http://hl7.org/fhir/sid/us-npi",
                                       "https://fhir.infoway-inforoute.ca/"
                                       "NamingSystem/ca-social-insurance-"
                                       "number" };
    for (size_t i = 0; i < 3; i++) {
        w = natid_flaw(slice_from_cstr(sys[i]), none, slice_from_cstr(vals[i]));
        cr_assert_not_null(w, "%s", sys[i]);
        char head[5];
        memcpy(head, vals[i], 4);
        head[4] = '\0';
        cr_assert_null(strstr(w, head), "%s", w);
    }
}

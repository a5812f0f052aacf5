/*
 * natid.h - the national person and provider numbers whose issuer
 * publishes a check digit or a format, and whether a value can be one.
 * A number that fails its scheme's check was never issued to anyone:
 * linked on, it would join only the records that share the same error or
 * placeholder, people who are not one (a false merge is worse than a
 * missed link). The adapters keep such an identifier as sent, marked
 * "inactive" (the linker passes it by) with a warning that quotes no
 * digit. One place for every adapter, so that a number is judged the same
 * whichever format carried it.
 *
 * The scheme is read from the identifier's system as the adapters have it
 * (a FHIR URI, urn:oid:, an OID bare as C-CDA roots and HL7 v2 HD-2 give
 * it) or an HL7 v2 assigning authority's name (CX-4 HD-1), and for the
 * NPI from its table 0203 type too. Sources (each read from the issuer's
 * own text, as other libraries quote it):
 *   NHS number   NHS Connecting for Health, "NHS Number check digit"
 *                (tech_nn_check_digit): weights 10..2 over the first
 *                nine digits, 11 - (sum mod 11), 11 -> 0, 10: no number.
 *                https://fhir.nhs.uk/Id/nhs-number, 2.16.840.1.113883.2.1.4.1;
 *                HL7 v2 authority NHS (NHS England's ITK v2.4 ADT), and
 *                NHSNBR, NHSNMBR as Cerner UK feeds name it; NHSNMBR as
 *                the CX-5 type too, the authority left empty (Google's
 *                MLLP adapter test, F2300).
 *   BC PHN       BC Ministry of Health, conformance standards vol. 4B
 *                (client registry): ten digits, the first 9, weights
 *                2 4 8 5 10 9 7 3 over digits 2-9, 11 - (sum mod 11)
 *                (a remainder of 0 taken as check 0, as python-stdnum
 *                reads the rule; 1: no number).
 *                Infoway's ca-bc-patient-healthcare-id.
 *   PESEL        Poland's population register: weights 1 3 7 9 1 3 7 9
 *                1 3 over the first ten digits, (10 - sum mod 10) mod 10.
 *                OID 2.16.840.1.113883.3.4424.1.1.616 (P1's register).
 *   Canadian SIN Luhn over nine digits (Service Canada).
 *                Infoway's ca-social-insurance-number.
 *   NPI          CMS, "Requirements for NPI check digit": Luhn as if
 *                prefixed 80840 (the constant 24 added). us-npi, OID
 *                2.16.840.1.113883.4.6, HL7 v2 type NPI.
 *   MBI          CMS, "Understanding the Medicare Beneficiary Identifier
 *                (MBI) format": 11 characters, C A AN N A AN N A A N N
 *                (C 1-9, N 0-9, A a letter but S L O I B Z); no check
 *                digit. us-mbi, OID 2.16.840.1.113883.4.927.
 *   BSN          the Dutch citizen service number (burgerservicenummer):
 *                nine digits (eight with the leading zero left out), the
 *                "elfproef": weights 9 8 7 6 5 4 3 2 and -1, the sum a
 *                multiple of 11 (RvIG, Logisch Ontwerp BSN; as
 *                adieyal/id_validation and python-stdnum read it).
 *                http://fhir.nl/fhir/NamingSystem/bsn, OID
 *                2.16.840.1.113883.2.4.6.3 (Nictiz); HL7 v2 authority
 *                NLMINBIZA (the ministry of the interior, as Dutch feeds
 *                name it) with no type, and type NNNLD (table 0203:
 *                national person identifier of NLD).
 * Not here: the US SSN (common/ssn.h: issuance rules, left out), the
 * Ontario health number (its Ministry publishes no check digit rule).
 */
#ifndef HUB_NATID_H
#define HUB_NATID_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "common/slice.h"

enum natid {
    NATID_NONE,
    NATID_NHS,
    NATID_BC_PHN,
    NATID_PESEL,
    NATID_CA_SIN,
    NATID_US_NPI,
    NATID_US_MBI,
    NATID_NL_BSN,
};

/*
 * The scheme that `system` names (a URI, urn:oid:OID, a bare OID, or an
 * HL7 v2 assigning authority's name), else that `type` (table 0203)
 * names; NATID_NONE for any other. Either may be empty. Cheap for the
 * common case: a system or name whose first letter no scheme has.
 */
static inline enum natid natid_scheme(struct slice system, struct slice type)
{
    static const struct {
        const char *name;
        enum natid id;
    } known[] = {
        { "https://fhir.nhs.uk/Id/nhs-number", NATID_NHS },
        { "2.16.840.1.113883.2.1.4.1", NATID_NHS },
        { "https://fhir.infoway-inforoute.ca/NamingSystem/"
          "ca-bc-patient-healthcare-id", NATID_BC_PHN },
        { "2.16.840.1.113883.3.4424.1.1.616", NATID_PESEL },
        { "https://fhir.infoway-inforoute.ca/NamingSystem/"
          "ca-social-insurance-number", NATID_CA_SIN },
        { "http://hl7.org/fhir/sid/us-npi", NATID_US_NPI },
        { "2.16.840.1.113883.4.6", NATID_US_NPI },
        { "http://hl7.org/fhir/sid/us-mbi", NATID_US_MBI },
        { "2.16.840.1.113883.4.927", NATID_US_MBI },
        { "http://fhir.nl/fhir/NamingSystem/bsn", NATID_NL_BSN },
        { "2.16.840.1.113883.2.4.6.3", NATID_NL_BSN },
    };
    struct slice s = system;
    if (s.len > 8 && memcmp(s.p, "urn:oid:", 8) == 0) {
        s.p += 8;
        s.len -= 8;
    }
    if (s.len >= 21 && (s.p[0] == 'h' || s.p[0] == '2')) {
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            if (slice_eq(s, known[i].name))
                return known[i].id;
    } else if (s.len >= 3 && (s.p[0] | 0x20) == 'n') {
        /* HL7 v2 HD-1 as senders name the NHS number's authority */
        if (slice_ieq(s, "NHS") || slice_ieq(s, "NHSNBR") ||
            slice_ieq(s, "NHSNMBR"))
            return NATID_NHS;
        /* and the BSN's, as Dutch feeds name it, when CX-5 says no other
         * number: the ministry issues the passport too, sent under the
         * same authority (`^^^NLMINBIZA^PPN`, Nictiz's ZIS example), and
         * a type NNNLD is the BSN's whatever the authority (below) */
        if (slice_ieq(s, "NLMINBIZA") && type.len == 0)
            return NATID_NL_BSN;
    }
    if (type.len == 3 && slice_ieq(type, "NPI"))
        return NATID_US_NPI;
    if (type.len == 5 && slice_ieq(type, "NNNLD"))
        return NATID_NL_BSN;
    if (type.len == 7 && slice_ieq(type, "NHSNMBR"))
        return NATID_NHS;
    return NATID_NONE;
}

/* The digits of v into d (at most n), dashes and spaces passed by; the
 * count, or n + 1 when v holds anything else or more digits. */
static inline size_t natid_digits(struct slice v, unsigned char *d, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < v.len; i++) {
        char ch = v.p[i];
        if (ch == '-' || ch == ' ')
            continue;
        if (ch < '0' || ch > '9' || k == n)
            return n + 1;
        d[k++] = (unsigned char)(ch - '0');
    }
    return k;
}

/* Luhn over d[0..n), its last digit the check, plus `add` (the NPI's 24) */
static inline bool natid_luhn(const unsigned char *d, size_t n, unsigned add)
{
    unsigned sum = add;
    for (size_t i = 0; i < n; i++) {
        unsigned x = d[n - 1 - i];
        if (i & 1) {
            x *= 2;
            if (x > 9)
                x -= 9;
        }
        sum += x;
    }
    return sum % 10 == 0;
}

/* Whether ch is a letter an MBI uses: A-Z but S, L, O, I, B and Z */
static inline bool natid_mbi_alpha(char ch)
{
    return ch >= 'A' && ch <= 'Z' && !strchr("SLOIBZ", ch);
}

/* Whether v passes the check digit (or the format, for the MBI) of scheme
 * `id`; true for NATID_NONE. Dashes and spaces, as cards print them,
 * are passed by. */
static inline bool natid_check(enum natid id, struct slice v)
{
    unsigned char d[11];
    unsigned sum = 0;
    switch (id) {
    case NATID_NONE:
        return true;
    case NATID_NHS:
        if (natid_digits(v, d, 10) != 10)
            return false;
        for (unsigned i = 0; i < 9; i++)
            sum += d[i] * (10 - i);
        sum = 11 - sum % 11;
        return sum != 10 && (sum == 11 ? 0 : sum) == d[9];
    case NATID_BC_PHN: {
        static const unsigned w[8] = { 2, 4, 8, 5, 10, 9, 7, 3 };
        if (natid_digits(v, d, 10) != 10 || d[0] != 9)
            return false;
        for (unsigned i = 0; i < 8; i++)
            sum += d[i + 1] * w[i];
        sum = 11 - sum % 11;        /* remainder 0: 0, as for the NHS */
        return sum != 10 && (sum == 11 ? 0 : sum) == d[9];
    }
    case NATID_PESEL: {
        static const unsigned w[10] = { 1, 3, 7, 9, 1, 3, 7, 9, 1, 3 };
        if (natid_digits(v, d, 11) != 11)
            return false;
        for (unsigned i = 0; i < 10; i++)
            sum += d[i] * w[i];
        return (10 - sum % 10) % 10 == d[10];
    }
    case NATID_CA_SIN:
        return natid_digits(v, d, 9) == 9 && natid_luhn(d, 9, 0);
    case NATID_NL_BSN: {
        size_t n = natid_digits(v, d + 1, 9);
        if (n == 8)
            d[0] = 0;               /* the leading zero left out */
        else if (n == 9)
            memmove(d, d + 1, 9);
        else
            return false;
        for (unsigned i = 0; i < 8; i++)
            sum += d[i] * (9 - i);
        return (sum + 11 * 9 - d[8]) % 11 == 0;
    }
    case NATID_US_NPI:
        return natid_digits(v, d, 10) == 10 && natid_luhn(d, 10, 24);
    case NATID_US_MBI: {
        /* C A AN N A AN N A A N N */
        static const char form[] = "CAXNAXNAANN";
        size_t k = 0;
        for (size_t i = 0; i < v.len; i++) {
            char ch = v.p[i];
            if (ch == '-')
                continue;
            if (k == 11)
                return false;
            bool num = ch >= '0' && ch <= '9', alpha = natid_mbi_alpha(ch);
            switch (form[k++]) {
            case 'C':
                if (!num || ch == '0')
                    return false;
                break;
            case 'N':
                if (!num)
                    return false;
                break;
            case 'A':
                if (!alpha)
                    return false;
                break;
            default:
                if (!num && !alpha)
                    return false;
            }
        }
        return k == 11;
    }
    }
    return true;
}

/* Whether the digits of v (six or more; anything else passed by) are one
 * digit throughout or counted up from 1 ("111-11-1111", SAP IS-H's German
 * test message; "9999999999", "123456789"), on past 0 as a keyboard's
 * row goes ("12345678901", eleven digits for a Turkish TC Kimlik, F2301):
 * what senders put where the number is not known, which some schemes'
 * checks pass (9999999999 is a valid NHS number by modulus 11). Linked
 * on, it would join every patient who carries it (F110, F116). */
static inline bool natid_placeholder(struct slice v)
{
    static const char run[] = "1234567890";
    char first = 0;
    size_t n = 0;
    bool same = true, counted = true;
    for (size_t k = 0; k < v.len; k++) {
        char ch = v.p[k];
        if (ch < '0' || ch > '9')
            continue;
        if (n == 0)
            first = ch;
        same = same && ch == first;
        counted = counted && ch == run[n % (sizeof(run) - 1)];
        n++;
    }
    return n >= 6 && (same || counted);
}

/* Whether system or type may name a scheme of natid_scheme: its first
 * letter, which settles nearly every MRN's namespace ("HOSP", "MRN") at
 * once, before a call. */
static inline bool natid_may_name(struct slice system, struct slice type)
{
    /* the shortest OID or URI known is 21 bytes, the HL7 v2 names 3-7
     * and NLMINBIZA; the types NPI, NNNLD and NHSNMBR */
    if (system.len >= 21) {
        char c = system.p[0];
        if (c == '2' || c == 'h' || c == 'u')
            return true;
    } else if (system.len >= 3 && (system.p[0] | 0x20) == 'n' &&
               (system.len <= 7 ||
                (system.len == 9 && (system.p[1] | 0x20) == 'l'))) {
        return true;                /* NHS..., NLMINBIZA */
    }
    /* a length of 3, 5 or 7 (and 9, passed by natid_scheme) in one test */
    return ((type.len - 3) & ~(size_t)6) == 0 && (type.p[0] | 0x20) == 'n';
}

/* natid_flaw past natid_may_name: out of line, as few identifiers reach it */
static __attribute__((noinline, unused)) const char *
natid_flaw_named(struct slice system, struct slice type, struct slice v)
{
    static const char *const bad[] = {
        [NATID_NHS] = "NHS number fails its modulus 11 check; not linked",
        [NATID_BC_PHN] = "BC PHN fails its check digit; not linked",
        [NATID_PESEL] = "PESEL fails its check digit; not linked",
        [NATID_CA_SIN] = "SIN fails its Luhn check; not linked",
        [NATID_US_NPI] = "NPI fails its Luhn check; not linked",
        [NATID_US_MBI] = "MBI is not in the CMS format; not linked",
        [NATID_NL_BSN] = "BSN fails its eleven check; not linked",
    };
    enum natid id = natid_scheme(system, type);
    if (id == NATID_NONE)
        return NULL;
    if (!natid_check(id, v))
        return bad[id];
    if (id != NATID_US_MBI && natid_placeholder(v))
        return "national number is a placeholder; not linked";
    return NULL;
}

/* Whether type `t` (HL7 table 0203, CX-5 or a FHIR Identifier.type)
 * names a number one authority gives a whole nation,
 * province or programme (HL7 table 0203: JHN jurisdictional health
 * number, NH national health plan, NI national unique individual, NNxxx
 * national person identifier, MA Medicaid, MC Medicare), where a sender
 * fills an unknown one with a placeholder (F116; every adapter since F843).
 * Inline: most identifiers are MR or PI. */
static inline bool natid_national_type(struct slice t)
{
    if (t.len < 2 || t.len > 5)
        return false;
    char a = (char)(t.p[0] | 0x20), b = (char)(t.p[1] | 0x20);
    switch (t.len) {
    case 2:                         /* NH, NI, MA, MC */
        return (a == 'n' && (b == 'h' || b == 'i')) ||
               (a == 'm' && (b == 'a' || b == 'c'));
    case 3:                         /* JHN */
        return a == 'j' && b == 'h' && (t.p[2] | 0x20) == 'n';
    case 5:                         /* NNxxx */
        return a == 'n' && b == 'n';
    }
    return false;
}

/*
 * Why the identifier (system or HL7 v2 authority name, type, value) must
 * not link: a static warning that names the scheme and quotes no digit,
 * or NULL when it may (its scheme is none of these, or the value passes
 * and is no placeholder).
 */
static inline const char *natid_flaw(struct slice system, struct slice type,
                                     struct slice v)
{
    return natid_may_name(system, type) ? natid_flaw_named(system, type, v)
                                        : NULL;
}

#endif

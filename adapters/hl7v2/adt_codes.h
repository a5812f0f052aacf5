/*
 * adt_codes.h - the code maps of the ADT normalizer: HL7 tables to the
 * canonical codes (trigger to topic, sex, patient class, name, address
 * and phone use), and a DG1 code to its sensitivity label and SDOH
 * domain by the data dictionary. A map answers with a literal or NULL;
 * codes are mapped only where the mapping is obvious. Here: what runs for
 * a value of every message, which GCC inlines into its writer (the maps
 * of sex, name, address and phone use, as when they were file-local: out
 * of line in adt_codes.c they cost the baseline build 0.5% a message),
 * and the inline front ends of the DG1 lookups. In adt_codes.c: the
 * patient class (a call, as before), the DG1 lookups themselves.
 */
#ifndef HUB_ADT_CODES_H
#define HUB_ADT_CODES_H

#include "hl7v2/adt_int.h"

/* HL7 table 0001 administrative sex to the canonical F/M/O/U, FHIR's
 * female, male, other, unknown, as HL7's v2-to-FHIR ConceptMap
 * table-hl70001-to-administrative-gender maps it: A (ambiguous) and N
 * (not applicable) are other, as is X (non-binary, v2.9). */
ADT_HELPER struct text sex_of(struct slice v)
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

/* HL7 table 0004 patient class to v3 ActEncounterCode, as HL7's v2-to-FHIR
 * ConceptMap table-hl70004-to-v3-actcode (STU1) maps it: E, I, O and P
 * alone. It keeps R (recurring patient), B (obstetrics), C (commercial
 * account, a billing class), N and U in table 0004, with no ActCode: no
 * class here, the code itself in patient_class, which a subscription's
 * patient_classes filter matches as it matches class. */
ADT_FN struct text adt_class_of(struct slice v);

/* HL7 table 0200 name type to FHIR HumanName.use, as HL7's v2-to-FHIR
 * ConceptMap table-hl70200-to-name-use maps it (L official, D usual, M
 * maiden, N nickname), with C (adopted: the legal name) official, A
 * (alias) usual and S (a coded pseudo-name, for anonymity) anonymous. T
 * is an indigenous or tribal name, not a temporary one (FHIR's temp is
 * v2.9's TEMP), and B the name at birth, which is no longer the official
 * one when another is (FHIR has no use for it; maiden is a name before
 * marriage): neither has a use. */
ADT_HELPER struct text name_use(struct slice v)
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

/* XPN-8, HL7 table 4000: how the name is written. SS-MIX2 (Japan) sends
 * each name twice, in kanji (I) and in kana (P), both of type L. */
ADT_HELPER struct text name_representation(struct slice v)
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

/* HL7 table 0190 address type to FHIR Address.use. */
ADT_HELPER struct text addr_use(struct slice v)
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

/* HL7 tables 0201 (use) and 0202 (equipment) to FHIR ContactPoint.use;
 * else what the field itself says (PID-13 home, PID-14 business). */
ADT_HELPER struct text phone_use(struct slice use, struct slice equip,
                             const char *dflt)
{
    /* EMR, an emergency number: most often another person's (a kin's,
     * SS-MIX2 sends it beside PRN); no use rather than PID-13's home, nor
     * the patient's mobile when it is a cellular phone (F1340) */
    if (upper_eq(use, "EMR"))
        return TEXT_NONE;
    /* CP, table 0202's cellular phone; M, Epic's: Epic writes XTN-3 H,
     * M or W (home, mobile, work) beside its XTN-2 P, so its mobile in
     * PID-13 ("(555)777-5554^P^M^^^555^7775554") would be read as home;
     * CELL, the word other feeds write there ("(896)321-4545^PRN^CELL",
     * F3860) */
    if (upper_eq(equip, "CP") || upper_eq(equip, "M") ||
        upper_eq(equip, "CELL"))
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

/* The label a DG1 code implies, by the classifier every adapter asks
 * (dict_code_sensitivity): the HL7 v2 names of SNOMED CT read as SCT, and
 * a code in no system read as ICD-10, the safe side (as C-CDA reads a
 * reason without codeSystem). A number is asked only when it may be
 * ICD-9-CM 291-316 (sud, psy) or the system's first byte may start a name
 * of SNOMED CT. Out of line: most DG1s never get here. */
ADT_FN __attribute__((noinline)) const char *
adt_dg1_label_ask(const struct ctx *c, struct slice code, struct slice system);

/* The SDOH domain a DG1 code names, by the dictionary every adapter
 * reads (a Z code of ICD-10 by zcodes.json, a SNOMED CT finding by
 * snomed-domains.json), so that a hospital's Z59.0 counts as a clinic's
 * Condition does. A Z code in no system is read as ICD-10, as for the
 * labels; a number only in a system that names SNOMED CT. Out of line:
 * asked only for a Z code or a number. */
ADT_FN __attribute__((noinline)) const char *
adt_dg1_domain_ask(const struct ctx *c, struct slice code, struct slice system);

/* The trigger "Ann" (either case) by its number. */
/* Inline (as street and write_attending, each called once): measured to
 * pay, callgrind over the bench corpus. */
ADT_ALWAYS_INLINE const char *topic_of(struct slice trig,
                                       const char **cancel_of)
{
    static const struct {
        const char *topic, *cancel_of;
    } map[49] = {
        [1] = { "adt.admit", NULL },      [2] = { "adt.transfer", NULL },
        [3] = { "adt.discharge", NULL },  [4] = { "adt.register", NULL },
        [5] = { "adt.register", NULL },   [14] = { "adt.register", NULL },
        [6] = { "adt.transfer", NULL },   [7] = { "adt.transfer", NULL },
        [8] = { "adt.update", NULL },     [31] = { "adt.update", NULL },
        [11] = { "adt.update", "A01" },   [12] = { "adt.update", "A02" },
        [13] = { "adt.update", "A03" },   [28] = { "adt.register", NULL },
        [40] = { "adt.merge", NULL },     [39] = { "adt.merge", NULL },
        [18] = { "adt.merge", NULL },     [34] = { "adt.merge", NULL },
        [36] = { "adt.merge", NULL },
        [46] = { "adt.merge", NULL },     [47] = { "adt.merge", NULL },
        [48] = { "adt.merge", NULL },
        [27] = { "adt.update", "A14" },   [38] = { "adt.update", "A05" },
    };
    if (trig.len != 3 || (trig.p[0] != 'A' && trig.p[0] != 'a') ||
        trig.p[1] < '0' || trig.p[1] > '9' || trig.p[2] < '0' ||
        trig.p[2] > '9')
        return NULL;
    unsigned k = (unsigned)(trig.p[1] - '0') * 10 +
                 (unsigned)(trig.p[2] - '0');
    if (k >= sizeof(map) / sizeof(map[0]) || map[k].topic == NULL)
        return NULL;
    *cancel_of = map[k].cancel_of;
    return map[k].topic;
}

/* HL7 table 0190 types that are not where the patient lives: birth
 * delivery location (IHE PAM sends the birthplace as a PID-11 repetition),
 * residence at birth, birth (nee), country of origin. Written as addresses
 * they would match a routing filter on county or state. */
ADT_ALWAYS_INLINE bool addr_is_birthplace(struct slice v)
{
    return upper_eq(v, "BDL") || upper_eq(v, "BR") || upper_eq(v, "N") ||
           upper_eq(v, "F");
}

/* dg1_label_ask's answer, passed by inline where it is NULL for sure: a
 * code that starts with a letter can only be ICD-10 (a SNOMED CT id is all
 * digits, an ICD-9-CM code of 291-316 too), which no dictionary row may
 * label unless its first two bytes say so (`pre`, the dictionary's
 * dict_icd10_label_prefixes; all clear without one), or ICD-9-CM's V62.84
 * (suicidal ideation, psy: F153), asked whenever it starts "V6". No code
 * of fewer than three bytes is labelled. */
ADT_ALWAYS_INLINE const char *dg1_label(const struct ctx *c,
                                        const uint16_t *pre,
                                        struct slice code,
                                        struct slice system)
{
    if (code.len < 3)
        return NULL;
    unsigned char c0 = (unsigned char)code.p[0] | 0x20;
    if (c0 >= 'a' && c0 <= 'z') {
        unsigned char c1 = (unsigned char)code.p[1] - '0';
        if (!((pre[c0 - 'a'] >> (c1 <= 9 ? c1 : 10)) & 1) &&
            !(c0 == 'v' && c1 == 6))
            return NULL;
    }
    return adt_dg1_label_ask(c, code, system);
}

ADT_ALWAYS_INLINE const char *dg1_domain(const struct ctx *c,
                                         struct slice code,
                                         struct slice system)
{
    if (!c->d || code.len < 3)
        return NULL;
    unsigned char c0 = (unsigned char)code.p[0];
    if ((c0 | 0x20) != 'z' && !(c0 >= '1' && c0 <= '9'))
        return NULL;
    return adt_dg1_domain_ask(c, code, system);
}

#endif

/*
 * adt_codes.h - the code maps of the ADT normalizer: HL7 tables to the
 * canonical codes (trigger to topic, sex, patient class, name, address
 * and phone use), and a DG1 code to its sensitivity label and SDOH
 * domain by the data dictionary. A map answers with a literal or NULL;
 * codes are mapped only where the mapping is obvious. The front ends run
 * for every value, inline here; the maps are in adt_codes.c.
 */
#ifndef HUB_ADT_CODES_H
#define HUB_ADT_CODES_H

#include "hl7v2/adt_int.h"

/* HL7 table 0001 administrative sex to the canonical F/M/O/U, FHIR's
 * female, male, other, unknown, as HL7's v2-to-FHIR ConceptMap
 * table-hl70001-to-administrative-gender maps it: A (ambiguous) and N
 * (not applicable) are other, as is X (non-binary, v2.9). */
ADT_FN struct text adt_sex_of(struct slice v);

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
ADT_FN struct text adt_name_use(struct slice v);

/* XPN-8, HL7 table 4000: how the name is written. SS-MIX2 (Japan) sends
 * each name twice, in kanji (I) and in kana (P), both of type L. */
ADT_FN struct text adt_name_representation(struct slice v);

/* HL7 table 0190 address type to FHIR Address.use. */
ADT_FN struct text adt_addr_use(struct slice v);

/* HL7 tables 0201 (use) and 0202 (equipment) to FHIR ContactPoint.use;
 * else what the field itself says (PID-13 home, PID-14 business). */
ADT_FN struct text adt_phone_use(struct slice use, struct slice equip,
                                 const char *dflt);

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

/*
 * idsys.h - what an identifier's system says about its authority. The hub
 * links a person across organizations only by a system that names one
 * authority for everyone: an absolute URI (urn:oid:..., http://...). Any
 * other text is the sender's own name for its authority, which the hub
 * scopes by the sending organization (hub_id_system() in the schema,
 * hub/body.c in C); the adapters write what they can as a URI.
 */
#ifndef HUB_IDSYS_H
#define HUB_IDSYS_H

#include <stdbool.h>
#include <string.h>

#include "common/slice.h"
#include "common/ssn.h"

/* The system of the one identifier of an HL7 v2 patient none of whose
 * identifiers links: its message's (MSH-10, and MSH-7 in the value; the
 * HL7 v2 adapter's write_by_message). The sender's own name, so scoped to
 * it; no map of the operator's may make it a URI (store_authority_set):
 * a message's id is no authority's (F2141). */
#define IDSYS_BY_MESSAGE "MSH-10"

/* Whether s starts with a URI scheme and its colon (RFC 3986 3.1: a letter,
 * then letters, digits, '+', '-', '.'), as hub_id_system()'s pattern
 * '^[A-Za-z][A-Za-z0-9+.-]*:' asks */
static inline bool idsys_is_uri(struct slice s)
{
    for (size_t i = 0; i < s.len; i++) {
        unsigned char ch = (unsigned char)s.p[i];
        bool alpha = (ch | 0x20) >= 'a' && (ch | 0x20) <= 'z';
        if (i > 0 && ch == ':')
            return true;
        if (!alpha && (i == 0 || !((ch >= '0' && ch <= '9') || ch == '+' ||
                                   ch == '-' || ch == '.')))
            return false;
    }
    return false;
}

/* Whether s is a system in the hub's own space, the URN namespace "hub"
 * ("urn:hub:...", scheme and NID in any case: RFC 8141 3.1 compares them
 * so). The hub writes these (a sender's own name scoped by its
 * organization, hub_id_system); one sent by a sender would name some
 * organization's scope, another's as easily as its own, and link to its
 * patients: the adapters leave it out (F2240). */
#define IDSYS_HUB_LEFT_OUT "identifier system is in the hub's own space " \
                           "(urn:hub:); left out"
static inline bool idsys_is_hub(struct slice s)
{
    static const char pfx[] = "urn:hub:";
    if (s.p == NULL || s.len < sizeof(pfx) - 1)
        return false;
    for (size_t i = 0; i < sizeof(pfx) - 1; i++) {
        char c = s.p[i];
        if (pfx[i] == ':' ? c != ':' : (c | 0x20) != pfx[i])
            return false;
    }
    return true;
}

/* Whether s is in the hub's space but not in org's own scope
 * ("urn:hub:org:<org>", alone or followed by ':'), as the hub writes that
 * scope: the system of another organization's identifiers, which no
 * event of org may carry (F2241) */
static inline bool idsys_hub_foreign(struct slice s, const char *org)
{
    static const char own[] = "urn:hub:org:";
    size_t ol = strlen(org), n = sizeof(own) - 1;
    if (!idsys_is_hub(s))
        return false;
    return !(s.len >= n + ol && memcmp(s.p, own, n) == 0 &&
             memcmp(s.p + n, org, ol) == 0 &&
             (s.len == n + ol || s.p[n + ol] == ':'));
}

/* Whether s is an ISO OID as senders write one: arcs of digits with no
 * leading zero, the first 0, 1 or 2, at least three of them ("2.16.840";
 * a version or a ward "1.2" is none) */
static inline bool idsys_is_oid(struct slice s)
{
    size_t arcs = 0, i = 0;
    if (s.len < 5 || s.p[0] < '0' || s.p[0] > '2' || s.p[1] != '.')
        return false;
    while (i < s.len) {
        size_t st = i;
        while (i < s.len && s.p[i] >= '0' && s.p[i] <= '9')
            i++;
        if (i == st || (s.p[st] == '0' && i - st > 1))
            return false;
        arcs++;
        if (i < s.len && (s.p[i++] != '.' || i == s.len))
            return false;
    }
    return arcs >= 3;
}

/* Whether s is a UUID in its 8-4-4-4-12 hex form */
static inline bool idsys_is_uuid(struct slice s)
{
    if (s.len != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        char c = s.p[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' &&
                                                (c | 0x20) <= 'f'))) {
            return false;
        }
    }
    return true;
}

/*
 * Whether an identifier of HL7 table 0203 type `t` (ASCII case aside)
 * names the patient, so that it may link: false for the types whose value
 * is not the person's own but an account's, a visit's, a payer's or an
 * organization's, which other people share (a guarantor account and a
 * subscriber number cover the family, an employer number every employee,
 * a facility id every resident): AN, ANC, AND, ANT (accounts), BA, BC
 * (bank), CC (cost center), EN (employer), FI (facility), GI, GN
 * (guarantor), GL (ledger), SN (the insurance subscriber's, "the person's
 * family may be plan members, but are not the subscriber"), VN (visit),
 * XX (organization). Linked on, a mother and child under one account
 * would be one person. True for any other type, or none.
 */
static inline bool idsys_type_links(struct slice t)
{
    static const char never[][4] = { "AN", "ANC", "AND", "ANT", "BA", "BC",
                                     "CC", "EN", "FI", "GI", "GN", "GL",
                                     "SN", "VN", "XX" };
    if (t.len < 2 || t.len > 3)
        return true;
    switch (t.p[0] | 0x20) {
    case 'a': case 'b': case 'c': case 'e': case 'f': case 'g': case 's':
    case 'v': case 'x':
        break;
    default:
        return true;                /* MR, PI, MB, MA, NH, HC, JHN, ... */
    }
    char u[4] = { 0 };
    for (size_t i = 0; i < t.len; i++)
        u[i] = (t.p[i] >= 'a' && t.p[i] <= 'z') ? (char)(t.p[i] - 32) : t.p[i];
    for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
        if (strcmp(u, never[i]) == 0)
            return false;
    return true;
}

/*
 * A national identifier system that has a FHIR URI: its OID, the URI and
 * its HL7 table 0203 type. The same number sent as HL7 v2 (CX-4 HD-2),
 * C-CDA (id/@root) and FHIR (Identifier.system urn:oid:...) is one
 * identifier (system + value) only when each adapter writes this URI.
 */
struct idsys_national {
    const char *oid, *uri, *type;
};

/*
 * The national system (the SSN, NPI and MBI) that s names: its FHIR URI
 * itself, its OID bare (C-CDA's root, HL7 v2's HD-2) or as urn:oid: (FHIR,
 * and what HL7 v2 makes of HD-2), or, for the SSN, the SSA's web address,
 * which SHIN-NY's FHIR writes as the system of an identifier of type SS
 * (http://www.ssa.gov/); NULL for any other.
 */
static inline const struct idsys_national *idsys_national(struct slice s)
{
    static const struct idsys_national known[] = {
        { "2.16.840.1.113883.4.1", SSN_SYSTEM, "SS" },
        { "2.16.840.1.113883.4.6", "http://hl7.org/fhir/sid/us-npi", "NPI" },
        { "2.16.840.1.113883.4.927", "http://hl7.org/fhir/sid/us-mbi", "MC" },
    };
    static const char *const ssa[] = { "http://www.ssa.gov/",
                                       "http://www.ssa.gov",
                                       "https://www.ssa.gov/",
                                       "https://www.ssa.gov" };
    if (s.len > 8 && memcmp(s.p, "urn:oid:", 8) == 0) {
        s.p += 8;
        s.len -= 8;
    } else if (s.len >= 18 && s.p[0] == 'h') {
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            if (slice_eq(s, known[i].uri))
                return &known[i];
        for (size_t i = 0; i < sizeof(ssa) / sizeof(ssa[0]); i++)
            if (slice_eq(s, ssa[i]))
                return &known[0];
        return NULL;
    }
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (slice_eq(s, known[i].oid))
            return &known[i];
    return NULL;
}

#endif

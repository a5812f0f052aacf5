/*
 * canary.h - the personal values that the tests' fixtures carry, so that a
 * leak into a log line, an error text, an ACK or an HTTP error body is
 * found by a plain substring search (tests/README.md, "No personal data in
 * logs and errors").
 *
 * hl7_sample (hubproc.c) and the property tests (tests/unit/nophi_test.c)
 * write the CANARY_* values; the rest of canary_values are the personal
 * values of the tests/data files that the e2e tests post. Each is chosen so
 * that nothing but that fixture's value can hold it (no ULID, hash, date of
 * the hub's own or field name does).
 */
#ifndef HUB_TEST_CANARY_H
#define HUB_TEST_CANARY_H

#include <stddef.h>

#define CANARY_FAMILY "Zzcanaryfam"
#define CANARY_GIVEN "Zzcanarygiv"
#define CANARY_MRN "ZZCMRN"             /* prefix of every MRN */
#define CANARY_STREET "7 Zzcanary St"
#define CANARY_CITY "Zzcanaryton"
#define CANARY_DOB "19310217"           /* HL7 and C-CDA form */
#define CANARY_DOB_ISO "1931-02-17"     /* FHIR, CSV and canonical form */
#define CANARY_PHONE "5550142731"
#define CANARY_PHONE_HL7 "555-014-2731"
#define CANARY_SSN "900-31-4159"
#define CANARY_SSN_DIGITS "900314159"
#define CANARY_MEDICAID "ZZ31415Q"

/* NULL-terminated */
extern const char *const canary_values[];

/* The first canary value found in text[0..n), or NULL. */
const char *canary_find(const char *text, size_t n);

/* canary_find over a whole file (NULL when it cannot be read too); `line`
 * (may be NULL) gets the line that holds it, cut to `size`. */
const char *canary_find_file(const char *path, char *line, size_t size);

#endif

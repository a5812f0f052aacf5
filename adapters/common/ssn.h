/*
 * ssn.h - the one form in which every adapter writes a US Social Security
 * number: nine digits, no dashes. Identity links on system + value
 * (hub_link_patient), so "444-22-2222" from one sender and "444222222"
 * from another are one person only if both are written the same way.
 */
#ifndef HUB_SSN_H
#define HUB_SSN_H

#include <stdbool.h>
#include <stddef.h>

#include <string.h>

#define SSN_SYSTEM "http://hl7.org/fhir/sid/us-ssn"

/* Every adapter's warning for a value ssn_usable() refuses: a sender who
 * sent nine digits of a placeholder (000-00-0000) must not read it as a
 * count of digits (F467). */
#define SSN_NOT_ISSUABLE "SSN is not nine digits the SSA could have issued"

/*
 * The nine digits of p[0..len) into out (not NUL-terminated) when the
 * value is exactly nine digits once dashes and spaces are left out;
 * false otherwise (the caller then keeps the value as sent). Says nothing
 * of whether the SSA could have issued the number.
 */
static inline bool ssn_digits(const char *p, size_t len, char out[9])
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = p[i];
        if (ch == '-' || ch == ' ')
            continue;
        if (ch < '0' || ch > '9' || n == 9)
            return false;
        out[n++] = ch;
    }
    return n == 9;
}

/*
 * Whether the nine digits d could name one person: the SSA never issues
 * area 000, 666 or 900-999, group 00 or serial 0000 (POMS RM 10201.035),
 * and senders fill the field with placeholders: the same digit nine times,
 * 123-45-6789, and 078-05-1120 (the wallet-card number the SSA voided).
 * Written with the us-ssn system such a value would link every patient
 * who carries it into one (identity links on system + value), so the
 * adapters leave it out, with a warning.
 */
static inline bool ssn_issuable(const char d[9])
{
    if (memcmp(d, "000", 3) == 0 || memcmp(d, "666", 3) == 0 ||
        d[0] == '9' || memcmp(d + 3, "00", 2) == 0 ||
        memcmp(d + 5, "0000", 4) == 0)
        return false;
    if (memcmp(d, "123456789", 9) == 0 || memcmp(d, "078051120", 9) == 0)
        return false;
    for (int i = 1; i < 9; i++)
        if (d[i] != d[0])
            return true;
    return false;                   /* 111-11-1111 and the like */
}

/* ssn_digits() of an SSN that ssn_issuable() accepts. */
static inline bool ssn_usable(const char *p, size_t len, char out[9])
{
    return ssn_digits(p, len, out) && ssn_issuable(out);
}

#endif

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

#define SSN_SYSTEM "http://hl7.org/fhir/sid/us-ssn"

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

#endif

/*
 * digits.h - the two tests that every reader of dates and times makes (the
 * FHIR, C-CDA and CSV adapters, and the store's occurred_at parser): whether
 * bytes are all ASCII digits, and the number two of them write. ASCII only,
 * whatever the locale: an input's digits are never another script's. And
 * a hexadecimal digit's value, which every escape reader needs.
 */
#ifndef HUB_DIGITS_H
#define HUB_DIGITS_H

#include <stdbool.h>
#include <stddef.h>

/* True if each of the n bytes at p is '0'..'9' (and for n == 0). */
static inline bool ascii_digits(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

/* The value of the hexadecimal digit c (either case), or -1: HL7's \Xhh\,
 * JSON's \uXXXX and URLs' %XX escapes read their digits with it. */
static inline int hex_digit(unsigned char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* The two digits at p as a number (check them with ascii_digits first). */
static inline int ascii_num2(const char *p)
{
    return (p[0] - '0') * 10 + (p[1] - '0');
}

#endif

/*
 * digits.h - the two tests that every reader of dates and times makes (the
 * FHIR, C-CDA and CSV adapters, and the store's occurred_at parser): whether
 * bytes are all ASCII digits, and the number two of them write. ASCII only,
 * whatever the locale: an input's digits are never another script's. And
 * a hexadecimal digit's value, which every escape reader needs; and a
 * month's last day, which every reader of a date checks its day against.
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

/* The last day of month m (1-12) of the Gregorian year y: what a date's
 * day may be at most. */
static inline int days_in_month(int y, int m)
{
    static const int mdays[12] = { 31, 28, 31, 30, 31, 30,
                                   31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : mdays[m - 1];
}

#endif

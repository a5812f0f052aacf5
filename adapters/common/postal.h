/*
 * postal.h - one fix-up of postal codes that every adapter applies: a US
 * ZIP+4 whose +4 was left empty. Cerner's C-CDA sends "61550-    " (a
 * fixed-width field), which trimmed is "61550-": no such ZIP exists, and a
 * county or ZIP routing filter would not match it.
 */
#ifndef HUB_POSTAL_H
#define HUB_POSTAL_H

#include "common/slice.h"

/* "61550-", "61550-    " (after any trimming): the five digits; any other
 * value unchanged (a ZIP+4 with its four digits, a foreign postal code). */
static inline struct slice postal_code(struct slice s)
{
    if (s.len < 6 || s.p[5] != '-')
        return s;
    for (size_t i = 0; i < 5; i++)
        if (s.p[i] < '0' || s.p[i] > '9')
            return s;
    for (size_t i = 6; i < s.len; i++)
        if (s.p[i] != ' ')
            return s;
    return (struct slice){ s.p, 5 };
}

#endif

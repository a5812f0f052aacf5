/*
 * strset.h - a small set of strings in the caller's array: each string once,
 * in order of first appearance, at most `cap` of them (the rest are not
 * added). For the handful an event lists (the domains of a screening, its
 * sensitivity labels): a linear scan, and the pointer compared before the
 * text, since most strings come from the dictionary and are the same
 * pointer each time.
 */
#ifndef HUB_STRSET_H
#define HUB_STRSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>     /* SIZE_MAX: a caller that sized the array itself */
#include <string.h>

/* Add `s` (NULL is nothing) unless present; false when not added. */
static inline bool strset_add(const char **set, size_t *n, size_t cap,
                              const char *s)
{
    if (s == NULL)
        return false;
    for (size_t i = 0; i < *n; i++)
        if (set[i] == s || strcmp(set[i], s) == 0)
            return false;
    if (*n >= cap)
        return false;
    set[(*n)++] = s;
    return true;
}

#endif

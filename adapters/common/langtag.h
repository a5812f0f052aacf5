/*
 * langtag.h - the one test of a language tag that every adapter applies to
 * a screening's language (screening.language: FHIR's observation-language
 * extension, F60; SHIN-NY CSV's SCREENING_LANGUAGE_CODE, F65), so that the
 * field reads alike whoever sent it and always meets the schema's pattern.
 */
#ifndef HUB_LANGTAG_H
#define HUB_LANGTAG_H

#include <stdbool.h>
#include <stddef.h>

static inline bool langtag_alpha(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

/*
 * p[0..len) is a BCP-47 tag in form ("es", "en-US", "kmv"): alphanumeric
 * subtags of 1-8 joined by single '-', the first starting with a letter,
 * 2-35 bytes in all. Form only: no registry is read.
 */
static inline bool langtag_ok(const char *p, size_t len)
{
    size_t run = 0;
    bool ok = len > 1 && len <= 35 && langtag_alpha(p[0]);
    for (size_t k = 0; ok && k < len; k++) {
        char ch = p[k];
        run = ch == '-' ? 0 : run + 1;
        ok = run <= 8 && (ch == '-' ? k + 1 < len && p[k + 1] != '-'
                                    : langtag_alpha(ch) ||
                                          (ch >= '0' && ch <= '9'));
    }
    return ok;
}

#endif

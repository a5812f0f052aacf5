/*
 * jsonscan.c - one pass over untrusted JSON counting depth, elements and
 * values, so cJSON is only given input it can parse in bounded stack and
 * memory. Strings are skipped whole (escapes included) so brackets inside
 * them do not count.
 */
#include "common/jsonscan.h"

#include <stdbool.h>
#include <string.h>

#define SCAN_STACK 64               /* hard ceiling on max_depth */

int json_prescan(const char *p, size_t len, const struct json_limits *lim,
                 struct hub_err *err)
{
    size_t count[SCAN_STACK];       /* elements seen at each open level */
    bool is_obj[SCAN_STACK];
    int depth = 0;
    int max_depth = lim->max_depth < SCAN_STACK ? lim->max_depth : SCAN_STACK;
    size_t values = 0;
    bool pending = false;           /* a value started at this level */

    if (len > lim->max_bytes)
        return hub_err_set(err, HUB_ELIMIT, "$", lim->max_bytes,
                           "document is larger than the limit");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        switch (c) {
        case '"': {
            /* memchr to the next quote, then count the backslashes before
             * it: an odd count escapes it. Byte-at-a-time was a quarter of
             * the FHIR adapter's time. */
            size_t start = i++;
            for (;;) {
                const char *q = i < len ? memchr(p + i, '"', len - i) : NULL;
                if (q == NULL)
                    return hub_err_set(err, HUB_ESYNTAX, "$", start,
                                       "string is not terminated");
                size_t j = (size_t)(q - p), bs = 0;
                while (j - bs > start + 1 && p[j - bs - 1] == '\\')
                    bs++;
                i = j;
                if (bs % 2 == 0)
                    break;
                i++;
            }
            if (i - start - 1 > lim->max_string)
                return hub_err_set(err, HUB_ELIMIT, "$", start,
                                   "string is longer than the limit");
            /* keys count as values too: harmless, and cJSON allocates them */
            if (++values > lim->max_values)
                return hub_err_set(err, HUB_ELIMIT, "$", start,
                                   "document has too many values");
            pending = true;
            break;
        }
        case '{':
        case '[':
            if (depth >= max_depth)
                return hub_err_set(err, HUB_ELIMIT, "$", i,
                                   "nesting is deeper than the limit");
            if (++values > lim->max_values)
                return hub_err_set(err, HUB_ELIMIT, "$", i,
                                   "document has too many values");
            is_obj[depth] = (c == '{');
            count[depth] = 0;
            depth++;
            pending = false;
            break;
        case '}':
        case ']':
            if (depth == 0 || is_obj[depth - 1] != (c == '}'))
                return hub_err_set(err, HUB_ESYNTAX, "$", i,
                                   "brackets do not balance");
            depth--;
            pending = true;         /* the closed container is a value */
            break;
        case ',':
            if (depth > 0) {
                size_t cap = is_obj[depth - 1] ? lim->max_members
                                               : lim->max_array;
                if (++count[depth - 1] >= cap)
                    return hub_err_set(err, HUB_ELIMIT, "$", i,
                                       is_obj[depth - 1]
                                           ? "object has too many members"
                                           : "array has too many elements");
            }
            pending = false;
            break;
        case ':':
            pending = false;
            break;
        case ' ': case '\t': case '\r': case '\n':
            break;
        default:
            /* a scalar: count it once, at its first byte */
            if (!pending) {
                if (++values > lim->max_values)
                    return hub_err_set(err, HUB_ELIMIT, "$", i,
                                       "document has too many values");
                pending = true;
            }
            break;
        }
    }
    if (depth != 0)
        return hub_err_set(err, HUB_ESYNTAX, "$", len,
                           "brackets do not balance");
    return HUB_OK;
}

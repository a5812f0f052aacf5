/*
 * jsonscan.h - bound untrusted JSON before a tree parser sees it.
 * cJSON recurses once per nesting level (its own limit, 1000, is far more
 * than any FHIR resource needs) and allocates a node per value, so a sender
 * could make it use deep stacks or much memory. json_prescan() walks the
 * bytes once, without allocating, and refuses input past the limits.
 * It does not validate JSON fully: cJSON does that afterwards.
 */
#ifndef HUB_JSONSCAN_H
#define HUB_JSONSCAN_H

#include <stddef.h>

#include "common/hub_err.h"

struct json_limits {
    size_t max_bytes;           /* whole document */
    int max_depth;              /* nested objects and arrays */
    size_t max_array;           /* elements of one array */
    size_t max_members;         /* members of one object */
    size_t max_values;          /* values in the whole document */
    size_t max_string;          /* bytes of one string, escapes included */
};

/*
 * Returns HUB_OK when `p` stays within `lim`, HUB_ELIMIT (err->offset at the
 * byte that went past, err->field "$") or HUB_ESYNTAX for an unterminated
 * string or unbalanced brackets.
 */
int json_prescan(const char *p, size_t len, const struct json_limits *lim,
                 struct hub_err *err) __attribute__((warn_unused_result));

/*
 * json_prescan, and in the same pass a copy of `p` into `dst` (room for
 * `len` bytes) without the white space between tokens, *dlen its length:
 * what a tree parser then walks is shorter, and means the same (strings are
 * copied whole; two bare scalars keep one space between them, so that
 * "1 2" or "tr ue" is refused as before). Offsets in *err are into `p`.
 */
int json_prescan_copy(const char *p, size_t len, const struct json_limits *lim,
                      char *dst, size_t *dlen, struct hub_err *err)
    __attribute__((warn_unused_result));

/* RFC 8259's four white space bytes, around and between tokens */
static inline bool json_is_ws(unsigned char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* The first offset at or after i that is not JSON white space, or len. */
static inline size_t json_ws_skip(const char *p, size_t i, size_t len)
{
    while (i < len && json_is_ws((unsigned char)p[i]))
        i++;
    return i;
}

/*
 * Where the fault of JSON that cJSON refused lies: the first byte of the
 * token cJSON could not take, given `r`, the offset cJSON stopped at.
 * cJSON says one byte past that start when the token is a string that is
 * not terminated (the byte after its opening quote) or a member name that
 * is not a string ("{a:1}", "{\"a\":1,}": the byte after it); this gives
 * the start, and `r` for every other refusal (a value it does not know, a
 * missing ',' or ':', a bad escape at its backslash, the end of input).
 * Reads p[0, r]; no allocation.
 */
size_t json_fault_at(const char *p, size_t len, size_t r);

#endif

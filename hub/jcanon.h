/*
 * jcanon.h - the text PostgreSQL's jsonb prints for a JSON document, made
 * in C, so that the store can keep event bodies as that text (no jsonb
 * input on the ingest path) and still serve exactly the bytes `body::text`
 * served when bodies were jsonb.
 *
 * jsonb_in followed by jsonb_out: whitespace dropped; ", " between members
 * and elements, ": " after keys; the keys of each object sorted as jsonb
 * keeps them (shorter first, then byte order), the last of duplicate keys
 * kept; strings re-escaped as PostgreSQL's escape_json() does (\b \f \n \r
 * \t \" \\, other bytes below 0x20 as \u00xx, everything else as is);
 * numbers as numeric_out() prints them.
 *
 * Only documents this writer reproduces exactly are accepted; anything else
 * returns false and the caller lets PostgreSQL do it (jsonb_in refuses
 * what is not JSON): a \u escape of a character outside ASCII or of NUL, a
 * number with an exponent, a negative zero or over 64 bytes, invalid UTF-8,
 * a literal followed by a letter, nesting deeper than JCANON_MAX_DEPTH.
 */
#ifndef HUB_JCANON_H
#define HUB_JCANON_H

#include <stdbool.h>
#include <stddef.h>

#include "common/arena.h"
#include "common/slice.h"

#define JCANON_MAX_DEPTH 64

/* Canonical text of (p, n) into *out (memory from `a`), or false. */
bool jcanon(struct arena *a, const char *p, size_t n, struct slice *out);

/* In canonical text (jcanon's output), the byte offset of the first
 * character of the string value at top-level key k1, then key k2 inside
 * it (both plain keys without escapes); false when that is not there or
 * not a string. */
bool jcanon_find_str(const char *p, size_t n, const char *k1, const char *k2,
                     size_t *at);

#endif

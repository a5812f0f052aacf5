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
 * a literal followed by a letter, nesting deeper than JCANON_MAX_DEPTH, a
 * document over 1 GiB (more than jsonb holds).
 *
 * jcanon() is jcanon_parse() then jcanon_write(); the store calls the two
 * itself to read a body's members from the nodes and to write the hub's
 * fields into the canonical text as it is made, reading the body once.
 */
#ifndef HUB_JCANON_H
#define HUB_JCANON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/slice.h"

#define JCANON_MAX_DEPTH 64

/* Canonical text of (p, n) into *out (memory from `a`), or false. */
bool jcanon(struct arena *a, const char *p, size_t n, struct slice *out);

enum jcanon_type { JCANON_OBJECT, JCANON_ARRAY, JCANON_STRING, JCANON_OTHER };

/*
 * A document read by jcanon_parse(): its values as nodes in document
 * order, v[0] the document's own. The members of an object (the elements
 * of an array) are the node right after it and then each one at the
 * previous one's `end`, while below the container's own `end`.
 */
struct jcanon_node {
    const char *p;              /* a string's characters between its quotes
                                   as written; a container's text; else the
                                   number or literal */
    const char *key;            /* a member's key, decoded; else NULL */
    uint32_t len, klen;
    uint32_t end;               /* one past the last node of this value */
    uint8_t type;               /* enum jcanon_type */
    bool esc;                   /* a string holding an escape */
    bool kesc;                  /* a member whose key held an escape */
};

struct jcanon_doc {
    const struct jcanon_node *v;
    uint32_t n;
};

/* Read (p, n) as jcanon() does (false where it refuses); the nodes point
 * into p and into `a`. */
bool jcanon_parse(struct arena *a, const char *p, size_t n,
                  struct jcanon_doc *d);

/* A member added to an object as it is written: it comes last, so it wins
 * over a member of the same key, as jsonb keeps the last of duplicates. */
struct jcanon_add {
    uint32_t obj;               /* the object's node */
    const char *key;            /* nothing in it needs an escape */
    struct slice val;           /* canonical JSON text */
    size_t at;                  /* set: the offset of val in the output */
};

/* The canonical text of d with the members of add[] added, into *out. */
void jcanon_write(struct arena *a, const struct jcanon_doc *d,
                  struct jcanon_add *add, size_t n_add, struct slice *out);

/* s (n bytes of UTF-8 text) as a JSON string in canonical text, quoted,
 * into *out; false when s is not valid UTF-8 or holds a NUL. */
bool jcanon_quote(struct arena *a, const char *s, size_t n,
                  struct slice *out);

/* In canonical text (jcanon's output), the byte offset of the first
 * character of the string value at top-level key k1, then key k2 inside
 * it (both plain keys without escapes); false when that is not there or
 * not a string. */
bool jcanon_find_str(const char *p, size_t n, const char *k1, const char *k2,
                     size_t *at);

#endif

/*
 * slice.h - a borrowed (pointer, length) view into bytes someone else owns.
 * A slice never owns memory: it lives as long as the buffer it points into.
 */
#ifndef HUB_SLICE_H
#define HUB_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct slice {
    const char *p;
    size_t len;
};

#define SLICE_LIT(s) ((struct slice){ (s), sizeof(s) - 1 })
#define SLICE_NULL ((struct slice){ NULL, 0 })

static inline struct slice slice_from_cstr(const char *s)
{
    return (struct slice){ s, s ? strlen(s) : 0 };
}

static inline bool slice_empty(struct slice s)
{
    return s.len == 0;
}

static inline bool slice_eq(struct slice s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && (n == 0 || memcmp(s.p, lit, n) == 0);
}

static inline bool slice_eq_slice(struct slice a, struct slice b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* ASCII lower case (other bytes as they are) */
static inline unsigned char ascii_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* Whether s equals the NUL-terminated lit, ASCII case aside. One pass, no
 * strlen: the literal's NUL ends it (a NUL in s cannot match, as the
 * literal's own ends the loop first); most calls differ in the first
 * byte. The one compare of the kind: the CSV values, the HL7 v2 and other
 * national-number authorities (natid.h) and the dictionary's answer
 * displays (dict_score.c) all ask it (F2485). */
static inline bool slice_ieq(struct slice s, const char *lit)
{
    size_t i;
    for (i = 0; i < s.len; i++) {
        unsigned char x = (unsigned char)s.p[i], y = (unsigned char)lit[i];
        if (y == '\0' || ascii_lower(x) != ascii_lower(y))
            return false;
    }
    return lit[i] == '\0';
}

/* Remove ASCII spaces and tabs at both ends. */
static inline struct slice slice_trim(struct slice s)
{
    while (s.len && (s.p[0] == ' ' || s.p[0] == '\t')) {
        s.p++;
        s.len--;
    }
    while (s.len && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
        s.len--;
    return s;
}

#endif

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

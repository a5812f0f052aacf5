/*
 * ptrset.h - a set of pointers in the arena: open addressing, linear
 * probing, sized once for the most the caller can add (at most half
 * full, so a probe always ends). For "each once" over nodes of a parsed
 * input, where a scan of those seen so far was quadratic (F3481).
 * ptr_hash is also the C-CDA narrative indexes' (F3480).
 */
#ifndef HUB_PTRSET_H
#define HUB_PTRSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"

/* Multiply and take the high half: the low bits of a pointer are its
 * alignment, the same for every node. */
static inline size_t ptr_hash(const void *p, size_t mask)
{
    uint64_t h = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15u;
    return (size_t)(h >> 32) & mask;
}

struct ptrset {
    const void **slot;
    size_t n, max, mask;
};

/* Room for `max` pointers */
static inline void ptrset_init(struct ptrset *s, struct arena *a, size_t max)
{
    size_t cap = 16;
    while (cap < 2 * max)
        cap *= 2;
    s->slot = arena_zalloc(a, cap * sizeof(*s->slot));
    s->n = 0;
    s->max = max;
    s->mask = cap - 1;
}

/* Whether `p` is in the set, and now it is (unless the set holds `max`
 * already: then it is not added) */
static inline bool ptrset_seen(struct ptrset *s, const void *p)
{
    size_t k = ptr_hash(p, s->mask);
    for (; s->slot[k]; k = (k + 1) & s->mask)
        if (s->slot[k] == p)
            return true;
    if (s->n < s->max) {
        s->slot[k] = p;
        s->n++;
    }
    return false;
}

#endif

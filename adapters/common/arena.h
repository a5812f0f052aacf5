/*
 * arena.h - bump allocator: everything made for one inbound message lives in
 * one arena and dies with it (arena_release). Out of memory aborts: every
 * size that input controls is capped before it reaches the arena.
 */
#ifndef HUB_ARENA_H
#define HUB_ARENA_H

#include <stddef.h>

#include "common/slice.h"

struct arena_chunk;

struct arena {
    struct arena_chunk *head;   /* newest chunk first */
    size_t chunk_size;          /* default size of a new chunk */
    size_t used;                /* bytes handed out, for limits and stats */
};

void arena_init(struct arena *a, size_t chunk_size);
/* Free every chunk; the arena may be used again after arena_init. */
void arena_release(struct arena *a);
/* Forget every allocation but keep the first chunk, for reuse in loops. */
void arena_reset(struct arena *a);

/* 16-byte aligned, uninitialised; never returns NULL. */
void *arena_alloc(struct arena *a, size_t n);
/* Give back all but the first `keep` bytes of `p`, `n` bytes from
 * arena_alloc, when it is the newest allocation of the current chunk
 * (else nothing): for a buffer sized by a guess and then filled. */
void arena_shrink(struct arena *a, void *p, size_t n, size_t keep);
void *arena_zalloc(struct arena *a, size_t n);
/* Copies; the result is NUL-terminated. */
char *arena_strndup(struct arena *a, const char *p, size_t n);
static inline char *arena_slice_dup(struct arena *a, struct slice s)
{
    return arena_strndup(a, s.p, s.len);
}

#endif

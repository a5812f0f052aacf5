/*
 * arena.c - chunked bump allocator. A request larger than half the next
 * chunk gets a chunk of its own, so that one big field cannot waste a chunk.
 */
#include "common/arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena_chunk {
    struct arena_chunk *next;
    size_t size;
    size_t off;
    _Alignas(16) unsigned char data[];
};

static struct arena_chunk *chunk_new(size_t size)
{
    struct arena_chunk *c = malloc(sizeof(*c) + size);
    if (c == NULL) {
        fputs("arena: out of memory\n", stderr);
        abort();
    }
    c->next = NULL;
    c->size = size;
    c->off = 0;
    return c;
}

/*
 * A new chunk is as big as what the arena already holds, doubling from the
 * default size up to ARENA_CHUNK_MAX. An arena that grows to megabytes (a
 * CSV upload, a C-CDA document) then gets most of them in chunks that
 * malloc maps on their own (hubd maps blocks from 128 KB) and unmaps when
 * the arena is released, instead of hundreds of heap blocks of the default
 * size: those stayed resident after the job whenever anything newer sat
 * above them in the heap (10 to 15 MB after the bench's CSV uploads, by
 * chance of what was on top: F1180). A small arena is as before.
 */
#define ARENA_CHUNK_MAX ((size_t)1 << 20)

/* (An arena never initialised, all zero, gives every request a chunk of
 * its own, as it always did.) */
static size_t next_size(const struct arena *a)
{
    size_t n = a->chunk_size;
    while (n > 0 && n < a->used && n < ARENA_CHUNK_MAX)
        n *= 2;
    return n;
}

void arena_init(struct arena *a, size_t chunk_size)
{
    a->head = NULL;
    a->chunk_size = chunk_size < 256 ? 256 : chunk_size;
    a->used = 0;
}

void arena_release(struct arena *a)
{
    struct arena_chunk *c = a->head;
    while (c) {
        struct arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->used = 0;
}

void arena_reset(struct arena *a)
{
    struct arena_chunk *c = a->head;
    if (c == NULL)
        return;
    /* keep the oldest chunk: it has the default size */
    while (c->next) {
        struct arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    c->off = 0;
    a->head = c;
    a->used = 0;
}

void *arena_alloc(struct arena *a, size_t n)
{
    size_t need = (n + 15) & ~(size_t)15;
    if (need < n) {
        fputs("arena: size overflow\n", stderr);
        abort();
    }
    struct arena_chunk *c = a->head;
    if (c == NULL || c->size - c->off < need) {
        size_t size = next_size(a);
        if (need > size / 2) {
            /* big: own chunk, linked behind the current one */
            struct arena_chunk *big = chunk_new(need);
            big->off = need;
            if (c) {
                big->next = c->next;
                c->next = big;
            } else {
                a->head = big;
            }
            a->used += need;
            return big->data;
        }
        c = chunk_new(size);
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->off;
    c->off += need;
    a->used += need;
    return p;
}

void arena_shrink(struct arena *a, void *p, size_t n, size_t keep)
{
    struct arena_chunk *c = a->head;
    size_t need = (n + 15) & ~(size_t)15, k = (keep + 15) & ~(size_t)15;
    if (c == NULL || k >= need || c->off < need ||
        (unsigned char *)p != c->data + c->off - need)
        return;
    c->off -= need - k;
    a->used -= need - k;
}

void *arena_zalloc(struct arena *a, size_t n)
{
    void *p = arena_alloc(a, n);
    memset(p, 0, n);
    return p;
}

char *arena_strndup(struct arena *a, const char *p, size_t n)
{
    char *s = arena_alloc(a, n + 1);
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/*
 * arena.c - chunked bump allocator. A request larger than the chunk size
 * gets a chunk of its own, so that one big field cannot waste a chunk.
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
        if (need > a->chunk_size / 2) {
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
        c = chunk_new(a->chunk_size);
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

/*
 * buf.h - a growable byte buffer in an arena, with a ceiling. Growth past
 * `max` fails with HUB_ELIMIT (checked so that it cannot wrap) and leaves
 * the buffer as it was. Contents are always NUL-terminated.
 */
#ifndef HUB_BUF_H
#define HUB_BUF_H

#include <stddef.h>

#include "common/arena.h"
#include "common/slice.h"

struct buf {
    struct arena *a;
    char *p;
    size_t len;
    size_t cap;
    size_t max;
    int err;            /* sticky: first failure of any append */
};

void buf_init(struct buf *b, struct arena *a, size_t max);
/* Room for `n` more bytes (and the NUL); HUB_ELIMIT past max, sticky. */
int buf_reserve(struct buf *b, size_t n);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_putc(struct buf *b, char c);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline struct slice buf_slice(const struct buf *b)
{
    return (struct slice){ b->p, b->len };
}

#endif

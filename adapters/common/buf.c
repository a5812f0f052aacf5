/*
 * buf.c - arena-backed growable buffer. Old storage stays in the arena until
 * it is released: doubling keeps the waste under half of what is used.
 */
#include "common/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/hub_err.h"

void buf_init(struct buf *b, struct arena *a, size_t max)
{
    b->a = a;
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
    b->err = HUB_OK;
}

int buf_reserve(struct buf *b, size_t n)
{
    if (b->err)
        return b->err;
    if (n > b->max - b->len) {
        b->err = HUB_ELIMIT;
        return HUB_ELIMIT;
    }
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return HUB_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = arena_alloc(b->a, cap);
    if (b->len)
        memcpy(p, b->p, b->len);
    b->p = p;
    b->cap = cap;
    return HUB_OK;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
    int rc = buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
    return HUB_OK;
}

int buf_putc(struct buf *b, char c)
{
    if (b->len + 1 < b->cap && b->len < b->max && b->err == HUB_OK) {
        b->p[b->len++] = c;
        b->p[b->len] = '\0';
        return HUB_OK;
    }
    return buf_append(b, &c, 1);
}

int buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return b->err = HUB_ESYNTAX;
    if ((size_t)n < sizeof(small))
        return buf_append(b, small, (size_t)n);
    int rc = buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return HUB_OK;
}

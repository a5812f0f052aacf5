/*
 * heap_trim.c - malloc_trim after large API work (heap_trim.h).
 *
 *   IDLE --note(large)--> DUE --delay_ms--> malloc_trim(0), IDLE
 *   DUE --note(any)--> DUE (the trim already due covers it: it runs after)
 */
#define _GNU_SOURCE                 /* malloc_trim */
#include "heap_trim.h"

#include <inttypes.h>
#include <stdlib.h>
#include <time.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <event2/event.h>

#include "log.h"

struct heap_trim {
    struct event *ev;               /* pending: DUE */
    struct timeval delay;
    uint64_t count;
};

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void on_due(evutil_socket_t fd, short what, void *arg)
{
    struct heap_trim *t = arg;
    (void)fd;
    (void)what;
    t->count++;
#ifdef __GLIBC__
    /* every arena's free pages, not only the heap's top: madvise on the
     * whole free pages inside it, which a later allocation faults back */
    uint64_t t0 = mono_us();
    int gave = malloc_trim(0);
    log_debug("heap.trimmed", "n=%" PRIu64 " gave=%d us=%" PRIu64, t->count,
              gave, mono_us() - t0);
#endif
}

struct heap_trim *heap_trim_new(struct event_base *base, unsigned delay_ms)
{
    struct heap_trim *t = calloc(1, sizeof(*t));
    if (t == NULL)
        abort();
    t->delay = (struct timeval){ delay_ms / 1000, (delay_ms % 1000) * 1000 };
    t->ev = evtimer_new(base, on_due, t);
    if (t->ev == NULL)
        abort();
    return t;
}

void heap_trim_note(struct heap_trim *t, size_t bytes)
{
    /* evtimer_pending is also true once the timer has fired and before
     * on_due runs (libevent counts an active event as pending), so a note
     * there does not put off the trim about to run */
    if (t == NULL || bytes < HEAP_TRIM_MIN_BYTES ||
        evtimer_pending(t->ev, NULL))
        return;
    if (evtimer_add(t->ev, &t->delay) != 0)
        abort();
}

uint64_t heap_trim_count(const struct heap_trim *t)
{
    return t ? t->count : 0;
}

void heap_trim_free(struct heap_trim *t)
{
    if (t == NULL)
        return;
    event_free(t->ev);
    free(t);
}

/*
 * heap_trim_test.c - the heap's freed pages go back to the system after
 * large API work, once, from the loop; small work leaves the heap alone
 * (hub/heap_trim.c, F1400).
 */
#include <criterion/criterion.h>
#include <event2/event.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heap_trim.h"

/* glibc's allocator alone: AddressSanitizer brings its own */
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)

/* the resident anonymous kB of this process (RssAnon): the malloc arena
 * the test's thread allocates from is in it, the [heap] or a thread's */
static long anon_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;

    cr_assert_not_null(f);
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "RssAnon:", 8) == 0)
            kb = strtol(line + 8, NULL, 10);
    fclose(f);
    cr_assert_geq(kb, 0, "no RssAnon in /proc/self/status");
    return kb;
}

#define FRAG_BLOCKS 2048
#define FRAG_KEPT 16                /* one block in 16 stays */

static void *blocks[FRAG_BLOCKS];

/* 8 MB of 4 KB blocks (under hubd's 128 KB mmap threshold, so from an
 * arena, not mapped on their own), touched, then all freed but one in 16:
 * 60 KB runs of free memory between blocks still in use, as the small
 * blocks of a burst of uploads leave them (F1180), resident, which glibc's
 * own trim (the top of a heap only) never gives back */
static void fragment(void)
{
    for (int i = 0; i < FRAG_BLOCKS; i++) {
        blocks[i] = malloc(4000);
        cr_assert_not_null(blocks[i]);
        memset(blocks[i], 1, 4000);
    }
    for (int i = 0; i < FRAG_BLOCKS; i++)
        if (i % FRAG_KEPT != FRAG_KEPT - 1) {
            free(blocks[i]);
            blocks[i] = NULL;
        }
}

static struct event_base *base;
static struct heap_trim *trim;
static long before_kb;

/* hubd's thresholds (hubd.c malloc_limits), a trim 100 ms after large
 * work, and 7.5 MB freed inside the arena */
static void setup(void)
{
    cr_assert_eq(mallopt(M_MMAP_THRESHOLD, 128 * 1024), 1);
    cr_assert_eq(mallopt(M_TRIM_THRESHOLD, 1024 * 1024), 1);
    base = event_base_new();
    cr_assert_not_null(base);
    trim = heap_trim_new(base, 100);
    fragment();
    before_kb = anon_rss_kb();
    cr_assert_geq(before_kb, 6 * 1024, "the premise: 7.5 MB freed and "
                  "resident (%ld kB)", before_kb);
}

static void teardown(void)
{
    heap_trim_free(trim);
    event_base_free(base);
    for (int i = 0; i < FRAG_BLOCKS; i++)
        free(blocks[i]);
}

/* the loop for `ms` */
static void run_loop(long ms)
{
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    cr_assert_eq(event_base_loopexit(base, &tv), 0);
    cr_assert_geq(event_base_dispatch(base), 0);
}

Test(heap_trim, large_work_gives_the_freed_heap_back_after_its_delay,
     .init = setup, .fini = teardown)
{
    heap_trim_note(trim, HEAP_TRIM_MIN_BYTES);
    /* not on the request's path: nothing is trimmed before the loop runs */
    cr_expect_eq(heap_trim_count(trim), 0);
    cr_expect_geq(anon_rss_kb(), before_kb - 512);
    run_loop(300);
    long after_kb = anon_rss_kb();
    cr_expect_eq(heap_trim_count(trim), 1);
    cr_expect_lt(after_kb, before_kb - 5 * 1024, "%ld of %ld kB still "
                 "resident", after_kb, before_kb);
}

Test(heap_trim, a_burst_of_large_work_is_trimmed_once,
     .init = setup, .fini = teardown)
{
    for (int i = 0; i < 50; i++)
        heap_trim_note(trim, (size_t)1 << 20);
    run_loop(300);
    cr_expect_eq(heap_trim_count(trim), 1);
    cr_expect_lt(anon_rss_kb(), before_kb - 5 * 1024);
}

Test(heap_trim, small_work_leaves_the_heap_alone,
     .init = setup, .fini = teardown)
{
    for (int i = 0; i < 50; i++)
        heap_trim_note(trim, HEAP_TRIM_MIN_BYTES - 1);
    run_loop(300);
    cr_expect_eq(heap_trim_count(trim), 0);
    cr_expect_geq(anon_rss_kb(), before_kb - 512);
}
#endif

/* A note while a trim is due leaves it where it is: a steady stream of
 * uploads, each putting the trim off by another delay, would never have
 * it run. A trim 200 ms after the first note; the second, 100 ms later,
 * must not move it to 300. */
Test(heap_trim, a_note_while_a_trim_is_due_does_not_put_it_off)
{
    struct event_base *b = event_base_new();
    struct heap_trim *t;
    struct timeval first = { 0, 100 * 1000 }, then = { 0, 150 * 1000 };

    cr_assert_not_null(b);
    t = heap_trim_new(b, 200);
    heap_trim_note(t, HEAP_TRIM_MIN_BYTES);
    cr_assert_eq(event_base_loopexit(b, &first), 0);
    cr_assert_geq(event_base_dispatch(b), 0);
    cr_expect_eq(heap_trim_count(t), 0, "trimmed before its delay");
    heap_trim_note(t, HEAP_TRIM_MIN_BYTES);
    cr_assert_eq(event_base_loopexit(b, &then), 0);
    cr_assert_geq(event_base_dispatch(b), 0);
    cr_expect_eq(heap_trim_count(t), 1, "the second note put the trim off");
    heap_trim_free(t);
    event_base_free(b);
}

Test(heap_trim, null_and_free_are_safe)
{
    heap_trim_note(NULL, (size_t)1 << 20);
    cr_expect_eq(heap_trim_count(NULL), 0);
    heap_trim_free(NULL);
}

/*
 * heap_trim.h - give the heap's freed pages back after large API work.
 *
 * glibc gives back only the top of a heap (past M_TRIM_THRESHOLD, hubd.c
 * malloc_limits); memory a burst of uploads freed below a block still in
 * use stays resident: hubd read about 30 MB instead of 22 to 23 with 1,000
 * idle MLLP connections one time in four after the bench's uploads
 * (F1180, F1400). Once large work has been noted, malloc_trim(0) runs on
 * the loop `delay_ms` later: at most once per delay however much work
 * comes, always after the last of a burst, and never for small work (an
 * MLLP frame, one HL7 v2 message over HTTPS), whose path is untouched.
 * Loop thread only.
 */
#ifndef HUB_HEAP_TRIM_H
#define HUB_HEAP_TRIM_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct heap_trim;

/* an API request whose body is at least this large is large work: a CSV
 * upload, a C-CDA document, a FHIR Bundle; an HL7 v2 message is ~2 KB */
#define HEAP_TRIM_MIN_BYTES (16u << 10)
#define HEAP_TRIM_DELAY_MS 1000

struct heap_trim *heap_trim_new(struct event_base *base, unsigned delay_ms);
/* Work of `bytes` has just been done: from HEAP_TRIM_MIN_BYTES, a trim is
 * due delay_ms from now unless one is due already. */
void heap_trim_note(struct heap_trim *t, size_t bytes);
/* the trims run so far */
uint64_t heap_trim_count(const struct heap_trim *t);
/* accepts NULL; a trim still due is dropped */
void heap_trim_free(struct heap_trim *t);

#endif

/*
 * ingest_split.h - a body of HL7 v2 messages (POST /v1/hl7v2, a file given
 * to hubctl) cut into its messages. Pure and allocation-free, so hubd,
 * hubctl and the fuzzer (tests/fuzz/hl7split_fuzz.c) share it.
 */
#ifndef HUB_INGEST_SPLIT_H
#define HUB_INGEST_SPLIT_H

#include <stddef.h>

#include "common/slice.h"

/*
 * Split a body of HL7 v2 messages (POST /v1/hl7v2, a file) into messages:
 * MLLP frames when it starts with one (the CR after EB optional, as
 * mllp_frame takes it; CR, LF, spaces and tabs before, between and after
 * them skipped), else a new message at each "MSH" that begins a line
 * (blank lines between them ignored; each keeps its last segment's CR).
 * Fills out[0..n) with slices of `body`; returns n (<= max), -1 when
 * there are more than max, -2 for broken MLLP framing (a frame over
 * max_frame bytes among them). Not for batch files (hl7_batch_read).
 */
long ingest_hl7_split(struct slice body, size_t max_frame, struct slice *out,
                      size_t max);

#endif

/*
 * mllp.h - MLLP framing (HL7 v2 over TCP): <SB=0x0b> message <EB=0x1c><CR>.
 * Pure and allocation-free, so the listener and the fuzzer share it.
 */
#ifndef HUB_MLLP_H
#define HUB_MLLP_H

#include <sys/types.h>

#include "common/slice.h"

#define MLLP_SB 0x0b
#define MLLP_EB 0x1c
#define MLLP_CR 0x0d
#define MLLP_MAX_FRAME_DEFAULT (1u << 20)

/*
 * Find one frame at the start of p[0..len). Returns the bytes consumed and
 * sets *msg to the payload, 0 if more input is needed, or HUB_ESYNTAX (bytes
 * before SB) / HUB_ELIMIT (no EB within max payload bytes). The frame ends
 * at EB; the CR after it is consumed when present, never waited for (a
 * CR that comes later is whitespace before the next frame).
 * Whitespace (CR, LF) between frames is skipped and counted as consumed when
 * it comes before SB. A return > 0 always means a frame: whitespace alone
 * returns 0 (need more), or HUB_ELIMIT once there is more of it than `max`.
 */
ssize_t mllp_frame(const char *p, size_t len, size_t max, struct slice *msg);

#endif

/*
 * mllp.h - MLLP framing (HL7 v2 over TCP): <SB=0x0b> message <EB=0x1c><CR>.
 * Pure and allocation-free, so the listener and the fuzzer share it.
 */
#ifndef HUB_MLLP_H
#define HUB_MLLP_H

#include <stdbool.h>
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

/* The longest lead mllp_lead may ask more bytes for, plus one: "OPTIONS " */
#define MLLP_LEAD_MAX 8

enum mllp_lead {
    MLLP_LEAD_MORE,                 /* cannot tell yet: wait for more */
    MLLP_LEAD_FRAME,                /* SB: a frame starts */
    MLLP_LEAD_HTTP,                 /* an HTTP request line: wrong port */
    MLLP_LEAD_JUNK                  /* anything else before SB */
};

/*
 * What the bytes p[0..len) that start where a frame should (whitespace
 * between frames already skipped, as mllp_frame skips it) begin with:
 * a frame (SB), an HTTP request line (a method and its space, such as
 * "POST "), or junk. MLLP_LEAD_MORE when len is 0, or when p[0..len) is the
 * beginning of a method and its space and `eof` is false, so that the
 * answer does not depend on how the bytes were split across reads: at most
 * MLLP_LEAD_MAX - 1 bytes are held back, never a frame's (SB is no letter).
 * With eof (no byte will come) a beginning is junk. Once the answer is not
 * MLLP_LEAD_MORE, more bytes do not change it.
 */
enum mllp_lead mllp_lead(const char *p, size_t len, bool eof);

#endif

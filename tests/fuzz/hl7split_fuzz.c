/*
 * hl7split_fuzz.c - libFuzzer harness for ingest_hl7_split, which cuts the
 * body of POST /v1/hl7v2 (and a file given to hubctl normalize) into its
 * messages. The first byte picks the most messages taken (1..16), the
 * second the frame limit (small, so that the limit is met, or the hub's).
 * Checks besides memory safety: the messages lie inside the body, in
 * order; framed, each is a whole frame's payload (SB before it, EB
 * after) within the frame limit, and only whitespace lies around the
 * frames; unframed, each is not empty, the bytes left out are whitespace,
 * every message but the first starts with "MSH" at the start of a line,
 * and no line inside one starts with "MSH"; and the answer with room for
 * every message agrees (the same messages, or more than the smaller room
 * when that one said -1).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest_split.h"
#include "mllp.h"

static bool is_ws(char c)
{
    return c == '\r' || c == '\n' || c == ' ' || c == '\t';
}

static bool framed(const char *p, size_t len)
{
    size_t i = 0;
    while (i < len && is_ws(p[i]))
        i++;
    return i < len && p[i] == MLLP_SB;
}

/* framed: each message is a frame's payload within the limit, and what
 * lies around the frames is whitespace */
static void check_frames(const char *p, size_t len, const struct slice *m,
                         long n, size_t max_frame)
{
    const char *at = p, *end = p + len;
    for (long i = 0; i < n; i++) {
        if (m[i].len > max_frame || m[i].p - 1 < at ||
            m[i].p[-1] != MLLP_SB || m[i].p + m[i].len >= end ||
            m[i].p[m[i].len] != MLLP_EB)
            __builtin_trap();
        for (; at < m[i].p - 1; at++)
            if (!is_ws(*at))
                __builtin_trap();
        at = m[i].p + m[i].len + 1;     /* the CR after EB, if any, is ws */
    }
    for (; at < end; at++)
        if (!is_ws(*at))
            __builtin_trap();
}

/* unframed: what the cut leaves out is whitespace, and each message is
 * exactly one, from its "MSH" to the next */
static void check_lines(const char *p, size_t len, const struct slice *m,
                        long n)
{
    const char *at = p;
    for (long i = 0; i < n; i++) {
        for (; at < m[i].p; at++)
            if (!is_ws(*at))
                __builtin_trap();
        if (m[i].len == 0 || is_ws(m[i].p[0]))
            __builtin_trap();
        if (i > 0 && (memcmp(m[i].p, "MSH", 3) != 0 ||
                      (m[i].p[-1] != '\r' && m[i].p[-1] != '\n')))
            __builtin_trap();
        for (size_t k = 1; k + 3 <= m[i].len; k++)
            if ((m[i].p[k - 1] == '\r' || m[i].p[k - 1] == '\n') &&
                memcmp(m[i].p + k, "MSH", 3) == 0)
                __builtin_trap();
        at = m[i].p + m[i].len;
    }
    for (; at < p + len; at++)
        if (!is_ws(*at))
            __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t max = data[0] % 16 + 1;
    size_t max_frame = data[1] & 0x80 ? MLLP_MAX_FRAME_DEFAULT
                                      : (size_t)(data[1] % 64) + 1;
    struct slice body = { (const char *)data + 2, size - 2 };
    size_t room = body.len + 1;
    struct slice *m = calloc(max, sizeof(*m));
    struct slice *all = calloc(room, sizeof(*all));
    if (m == NULL || all == NULL)
        abort();

    long n = ingest_hl7_split(body, max_frame, m, max);
    long n_all = ingest_hl7_split(body, max_frame, all, room);
    if (n < -2 || n > (long)max || n_all < -2 || n_all == -1)
        __builtin_trap();
    if (n >= 0) {
        if (n_all != n)
            __builtin_trap();
        for (long i = 0; i < n; i++) {
            if (m[i].p != all[i].p || m[i].len != all[i].len ||
                m[i].p < body.p ||
                m[i].p + m[i].len > body.p + body.len ||
                (i > 0 && m[i].p < m[i - 1].p + m[i - 1].len))
                __builtin_trap();
        }
        if (framed(body.p, body.len)) {
            check_frames(body.p, body.len, m, n, max_frame);
        } else {
            check_lines(body.p, body.len, m, n);
        }
    } else if (n == -1 && n_all != -2 && n_all <= (long)max) {
        __builtin_trap();
    } else if (n == -2 && n_all != -2) {
        __builtin_trap();
    }
    free(m);
    free(all);
    return 0;
}

/*
 * mllp_test.c - the MLLP framer: frames split at every byte, pipelined
 * frames, the size limit exactly at and one past, junk before SB, and
 * whitespace between frames.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "common/hub_err.h"
#include "mllp.h"

#define MSG "MSH|^~\\&|A|B|C|D|20260101||ADT^A01|1|P|2.5\rPID|1\r"

static size_t frame_of(char *dst, const char *payload)
{
    size_t n = strlen(payload);
    dst[0] = MLLP_SB;
    memcpy(dst + 1, payload, n);
    dst[n + 1] = MLLP_EB;
    dst[n + 2] = MLLP_CR;
    return n + 3;
}

Test(mllp_frame, finds_one_whole_frame)
{
    char f[256];
    size_t n = frame_of(f, MSG);
    struct slice m;
    cr_assert_eq(mllp_frame(f, n, 1024, &m), (ssize_t)n);
    cr_assert_eq(m.len, strlen(MSG));
    cr_assert(memcmp(m.p, MSG, m.len) == 0);
}

Test(mllp_frame, needs_more_input_when_cut_at_every_byte)
{
    char f[256];
    size_t n = frame_of(f, MSG);
    struct slice m;
    for (size_t cut = 0; cut + 1 < n; cut++)
        cr_assert_eq(mllp_frame(f, cut, 1024, &m), 0, "cut at %zu", cut);
    /* cut before the CR: the frame ends at EB all the same */
    cr_assert_eq(mllp_frame(f, n - 1, 1024, &m), (ssize_t)n - 1);
    cr_assert_eq(m.len, strlen(MSG));
    cr_assert_eq(mllp_frame(f, n, 1024, &m), (ssize_t)n);
}

Test(mllp_frame, delivers_pipelined_frames_in_order_whatever_the_split)
{
    char in[1024], buf[1024];
    size_t n = 0;
    n += frame_of(in + n, "MSH|one");
    n += frame_of(in + n, "MSH|two");
    in[n++] = '\r';                 /* CRLF between frames */
    in[n++] = '\n';
    n += frame_of(in + n, "MSH|three");
    static const char *want[] = { "MSH|one", "MSH|two", "MSH|three" };

    /* feed the stream in chunks of every size from 1 to all of it */
    for (size_t chunk = 1; chunk <= n; chunk++) {
        size_t have = 0, fed = 0, got = 0;
        while (fed < n || have > 0) {
            size_t take = n - fed < chunk ? n - fed : chunk;
            memcpy(buf + have, in + fed, take);
            have += take;
            fed += take;
            for (;;) {
                struct slice m;
                ssize_t r = mllp_frame(buf, have, 64, &m);
                cr_assert_geq(r, 0, "chunk %zu", chunk);
                if (r == 0)
                    break;
                cr_assert_lt(got, 3);
                cr_assert_eq(m.len, strlen(want[got]), "chunk %zu", chunk);
                cr_assert(memcmp(m.p, want[got], m.len) == 0);
                got++;
                memmove(buf, buf + r, have - (size_t)r);
                have -= (size_t)r;
            }
            if (take == 0)
                break;
        }
        cr_assert_eq(got, 3, "chunk %zu", chunk);
        /* at most the last frame's CR, when it came after its EB: the
         * whitespace the next frame's call skips */
        cr_assert(have == 0 || (have == 1 && buf[0] == '\r'), "chunk %zu",
                  chunk);
    }
}

Test(mllp_frame, accepts_payload_exactly_at_the_limit)
{
    char f[64], p[17];
    memset(p, 'x', 16);
    p[16] = '\0';
    size_t n = frame_of(f, p);
    struct slice m;
    cr_assert_eq(mllp_frame(f, n, 16, &m), (ssize_t)n);
    cr_assert_eq(m.len, 16);
}

Test(mllp_frame, rejects_payload_one_past_the_limit)
{
    char f[64], p[18];
    memset(p, 'x', 17);
    p[17] = '\0';
    size_t n = frame_of(f, p);
    struct slice m;
    cr_assert_eq(mllp_frame(f, n, 16, &m), HUB_ELIMIT);
    /* and already before EB arrives, once max + 2 bytes are in */
    cr_assert_eq(mllp_frame(f, 18, 16, &m), HUB_ELIMIT);
    cr_assert_eq(mllp_frame(f, 17, 16, &m), 0);
}

Test(mllp_frame, rejects_frame_longer_than_limit)
{
    char big[64] = { MLLP_SB };     /* no EB within the first 16 bytes */
    struct slice m;
    cr_assert_eq(mllp_frame(big, sizeof(big), 16, &m), HUB_ELIMIT);
}

Test(mllp_frame, rejects_junk_before_start_block)
{
    char f[64] = "junk";
    size_t n = 4 + frame_of(f + 4, "MSH|x");
    struct slice m;
    cr_assert_eq(mllp_frame(f, n, 1024, &m), HUB_ESYNTAX);
    cr_assert_eq(mllp_frame(" ", 1, 1024, &m), HUB_ESYNTAX);
}

/* Some senders end a frame with EB alone (or EB LF): the frame ends at EB,
 * whose CR is taken when it is there and never waited for; what follows
 * is the next frame's business (junk there is refused as before SB). */
Test(mllp_frame, ends_a_frame_at_the_end_block_with_or_without_its_cr)
{
    struct slice m = { NULL, 0 };
    const char alone[] = "\x0bMSH|x\x1c";
    cr_assert_eq(mllp_frame(alone, sizeof(alone) - 1, 1024, &m), 7);
    cr_assert_eq(m.len, 5);
    cr_assert_eq(memcmp(m.p, "MSH|x", 5), 0);
    const char lf[] = "\x0bMSH|x\x1c\n\x0bMSH|y\x1c\r";
    cr_assert_eq(mllp_frame(lf, sizeof(lf) - 1, 1024, &m), 7);
    cr_assert_eq(mllp_frame(lf + 7, sizeof(lf) - 8, 1024, &m), 9,
                 "the LF skipped before the next frame");
    cr_assert_eq(memcmp(m.p, "MSH|y", 5), 0);
    const char next[] = "\x0bMSH|x\x1c\x0bMSH|y\x1c";
    cr_assert_eq(mllp_frame(next, sizeof(next) - 1, 1024, &m), 7);
    cr_assert_eq(mllp_frame(next + 7, sizeof(next) - 8, 1024, &m), 7);
    cr_assert_eq(memcmp(m.p, "MSH|y", 5), 0);
    const char junk[] = "\x0bMSH|x\x1cX";
    cr_assert_eq(mllp_frame(junk, sizeof(junk) - 1, 1024, &m), 7);
    cr_assert_eq(mllp_frame(junk + 7, 1, 1024, &m), HUB_ESYNTAX);
    const char cr[] = "\x0bMSH|x\x1c\r";
    cr_assert_eq(mllp_frame(cr, sizeof(cr) - 1, 1024, &m), 8, "CR taken");
}

Test(mllp_frame, accepts_an_empty_payload)
{
    const char f[] = "\x0b\x1c\r";
    struct slice m = { NULL, 99 };
    cr_assert_eq(mllp_frame(f, 3, 1024, &m), 3);
    cr_assert_eq(m.len, 0);
    cr_assert_not_null(m.p);
}

Test(mllp_frame, skips_newlines_before_start_block_and_counts_them)
{
    char f[64] = "\r\n\n";
    size_t n = 3 + frame_of(f + 3, "MSH|x");
    struct slice m;
    cr_assert_eq(mllp_frame(f, n, 1024, &m), (ssize_t)n);
    cr_assert_eq(m.len, 5);
}

Test(mllp_frame, waits_on_whitespace_alone_but_not_forever)
{
    char ws[40];
    memset(ws, '\n', sizeof(ws));
    struct slice m;
    cr_assert_eq(mllp_frame(ws, 16, 16, &m), 0);
    cr_assert_eq(mllp_frame(ws, 17, 16, &m), HUB_ELIMIT);
    cr_assert_eq(mllp_frame(ws, 0, 16, &m), 0);
}

/*
 * mllp_test.c - the MLLP framer: frames split at every byte, pipelined
 * frames, the size limit exactly at and one past, junk before SB, and
 * whitespace between frames; and what comes where a frame should (a
 * frame, an HTTP request at the wrong port, junk) whatever the split.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
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

/* ---- mllp_lead: a frame, an HTTP request sent to the wrong port, junk --- */

static const char *const methods[] = { "GET", "POST", "PUT", "HEAD",
                                       "DELETE", "PATCH", "OPTIONS",
                                       "CONNECT", "TRACE", "PRI" };

/* Every method, its request line cut at every byte: the beginning of the
 * method and its space waits for more, from the space on it is HTTP; with
 * no more to come (eof) a beginning is junk. Never more than
 * MLLP_LEAD_MAX - 1 bytes wait. */
Test(mllp_lead, tells_an_http_request_line_cut_at_every_byte)
{
    char req[128];

    for (size_t i = 0; i < sizeof(methods) / sizeof(*methods); i++) {
        size_t mlen = strlen(methods[i]) + 1;      /* with its space */
        size_t n = (size_t)snprintf(req, sizeof(req),
                                    "%s /v1/hl7v2 HTTP/1.1\r\nHost: h\r\n\r\n",
                                    methods[i]);
        for (size_t cut = 0; cut <= n; cut++) {
            enum mllp_lead got = mllp_lead(req, cut, false);
            if (cut < mlen) {
                cr_assert_eq(got, MLLP_LEAD_MORE, "%s cut at %zu",
                             methods[i], cut);
                cr_assert_lt(cut, MLLP_LEAD_MAX);
            } else {
                cr_assert_eq(got, MLLP_LEAD_HTTP, "%s cut at %zu",
                             methods[i], cut);
            }
            got = mllp_lead(req, cut, true);
            cr_assert_eq(got, cut == 0      ? MLLP_LEAD_MORE
                              : cut < mlen ? MLLP_LEAD_JUNK
                                           : MLLP_LEAD_HTTP,
                         "%s cut at %zu, eof", methods[i], cut);
        }
    }
}

/* Junk is told at its first byte that no method and space begins with;
 * a frame at its SB, whatever follows; methods are case-sensitive */
Test(mllp_lead, tells_junk_and_frames_as_soon_as_a_byte_shows_it)
{
    cr_assert_eq(mllp_lead("P", 1, false), MLLP_LEAD_MORE);
    cr_assert_eq(mllp_lead("PO", 2, false), MLLP_LEAD_MORE);
    cr_assert_eq(mllp_lead("POX", 3, false), MLLP_LEAD_JUNK);
    cr_assert_eq(mllp_lead("POST", 4, false), MLLP_LEAD_MORE);
    cr_assert_eq(mllp_lead("POST/", 5, false), MLLP_LEAD_JUNK);
    cr_assert_eq(mllp_lead("OPTIONSX", 8, false), MLLP_LEAD_JUNK);
    cr_assert_eq(mllp_lead("post ", 5, false), MLLP_LEAD_JUNK);
    cr_assert_eq(mllp_lead("MSH|^~\\&|", 9, false), MLLP_LEAD_JUNK);
    cr_assert_eq(mllp_lead(" GET ", 5, false), MLLP_LEAD_JUNK);
    cr_assert_eq(mllp_lead("PRI * HTTP/2.0\r\n", 16, false), MLLP_LEAD_HTTP);
    cr_assert_eq(mllp_lead("\x0b", 1, false), MLLP_LEAD_FRAME);
    cr_assert_eq(mllp_lead("\x0bGET ", 5, true), MLLP_LEAD_FRAME);
    cr_assert_eq(mllp_lead("", 0, false), MLLP_LEAD_MORE);
}

/*
 * What a reader that calls mllp_lead then mllp_frame, as the listener
 * does, makes of a stream given in two reads: the frames it takes, then
 * "http", "junk" or "bad" when it stops there. Whitespace between frames
 * is skipped first (the listener drains it; mllp_frame skips it too).
 * Checks on the way that a wait holds fewer than MLLP_LEAD_MAX bytes and
 * that no whole frame is held back: each is taken in the read its EB
 * comes in.
 */
static void read_stream(const char *in, size_t n, size_t cut, char *out,
                        size_t size)
{
    char buf[512];
    size_t have = 0, fed = 0, len = 0;
    bool stop = false;

    out[0] = '\0';
    for (int read = 0; read < 3 && !stop; read++) {
        size_t take = read == 0 ? cut : n - fed;
        bool eof = read == 2;
        memcpy(buf + have, in + fed, take);
        have += take;
        fed += take;
        while (!stop) {
            size_t ws = 0;
            while (ws < have && (buf[ws] == '\r' || buf[ws] == '\n'))
                ws++;
            memmove(buf, buf + ws, have - ws);
            have -= ws;
            enum mllp_lead lead = mllp_lead(
                buf, have < MLLP_LEAD_MAX ? have : MLLP_LEAD_MAX, eof);
            if (lead == MLLP_LEAD_MORE) {
                cr_assert_lt(have, MLLP_LEAD_MAX, "cut at %zu", cut);
                break;
            }
            if (lead != MLLP_LEAD_FRAME) {
                len += (size_t)snprintf(out + len, size - len, "%s",
                                        lead == MLLP_LEAD_HTTP ? "http"
                                                               : "junk");
                stop = true;
                break;
            }
            struct slice m;
            ssize_t r = mllp_frame(buf, have, 64, &m);
            if (r == 0) {
                cr_assert_null(memchr(buf, MLLP_EB, have), "cut at %zu",
                               cut);
                break;
            }
            if (r < 0) {
                len += (size_t)snprintf(out + len, size - len, "bad");
                stop = true;
                break;
            }
            len += (size_t)snprintf(out + len, size - len, "[%.*s]",
                                    (int)m.len, m.p);
            memmove(buf, buf + r, have - (size_t)r);
            have -= (size_t)r;
        }
    }
}

/* The same stream split in two at every byte reads as it does whole: an
 * HTTP request is "http" however its request line is cut (F240: "PO"
 * then "ST ..." was junk), frames before it are taken, junk is junk */
Test(mllp_lead, a_stream_split_at_every_byte_reads_as_it_does_whole)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        { "POST /v1/hl7v2 HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
          "http" },
        { "OPTIONS * HTTP/1.1\r\n\r\n", "http" },
        { "\x0bMSH|one\x1c\r\x0bMSH|two\x1c\r\nGET / HTTP/1.1\r\n\r\n",
          "[MSH|one][MSH|two]http" },
        { "\x0bMSH|one\x1c\r\x0bMSH|two\x1c\r\n", "[MSH|one][MSH|two]" },
        { "\x0bMSH|one\x1cPOX\x0bMSH|two\x1c\r", "[MSH|one]junk" },
        { "GETX / HTTP/1.1\r\n\r\n", "junk" },
        { "\r\nPUT", "junk" },        /* eof: a beginning is not a request */
    };
    char whole[256], split[256];

    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        size_t n = strlen(cases[i].in);
        read_stream(cases[i].in, n, n, whole, sizeof(whole));
        cr_assert_str_eq(whole, cases[i].want, "case %zu", i);
        for (size_t cut = 0; cut <= n; cut++) {
            read_stream(cases[i].in, n, cut, split, sizeof(split));
            cr_assert_str_eq(split, whole, "case %zu cut at %zu", i, cut);
        }
    }
}

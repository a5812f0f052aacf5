/*
 * ingest_split.c - a body of HL7 v2 messages cut into its messages: MLLP
 * frames (mllp_frame) or a new message at each "MSH" that begins a line.
 */
#include <string.h>

#include "ingest_split.h"
#include "mllp.h"

/* the blank a sender may put around its messages: before the first, and
 * (framed) between and after frames alike (F1361) */
static const char *skip_blank(const char *p, const char *end)
{
    while (p < end && (*p == '\r' || *p == '\n' || *p == ' ' || *p == '\t'))
        p++;
    return p;
}

long ingest_hl7_split(struct slice body, size_t max_frame, struct slice *out,
                      size_t max)
{
    const char *p = body.p, *end = body.p + body.len;
    size_t n = 0;

    p = skip_blank(p, end);
    if (p < end && *p == MLLP_SB) {
        while (p < end) {
            struct slice m;
            ssize_t used = mllp_frame(p, (size_t)(end - p), max_frame, &m);
            if (used <= 0)
                return -2;
            if (n == max)
                return -1;
            out[n++] = m;
            p = skip_blank(p + used, end);
        }
        return (long)n;
    }
    while (p < end) {
        /* the next "MSH" at the start of a line ends this message */
        const char *q = p + 1, *next = end;
        for (; q + 3 <= end; q++) {
            if ((q[-1] == '\r' || q[-1] == '\n') && memcmp(q, "MSH", 3) == 0) {
                next = q;
                break;
            }
        }
        const char *e = next;
        while (e > p && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
            e--;
        if (e > p) {
            if (n == max)
                return -1;
            /* keep the last segment's terminator when there was one */
            size_t len = (size_t)(e - p);
            if (e < next && e[0] == '\r')
                len++;
            out[n++] = (struct slice){ p, len };
        }
        p = next;                   /* at "MSH", or the end */
    }
    return (long)n;
}

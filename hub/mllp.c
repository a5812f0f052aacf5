/*
 * mllp.c - MLLP framing: <SB> payload <EB><CR>, HL7 v2 Implementation Guide
 * appendix C (MLLP release 2). Incremental and allocation-free: the caller
 * keeps unread bytes and calls again when more arrive. CR and LF before SB
 * are skipped (many senders end a frame with CRLF, or send a newline
 * keep-alive), but only up to `max` of them, so that a sender cannot grow
 * the caller's buffer with whitespace alone.
 * The frame ends at EB: its CR is taken when it is there, but not waited
 * for nor required. EB (0x1C) cannot occur in an HL7 message, and senders
 * that end a frame with EB alone, or EB LF, exist; waiting for their CR
 * would leave both sides waiting (they for the ACK) until a timeout.
 * mllp_lead tells a frame from an HTTP request sent to the wrong port and
 * from junk, from as many bytes as have come (F240: a request line whose
 * method was cut across reads was junk).
 */
#include "mllp.h"

#include <stdint.h>
#include <string.h>

#include "common/hub_err.h"

ssize_t mllp_frame(const char *p, size_t len, size_t max, struct slice *msg)
{
    size_t ws = 0;

    if (max > SIZE_MAX / 2)
        max = SIZE_MAX / 2;         /* keeps max + 2 and ws + frame exact */
    while (ws < len && (p[ws] == '\r' || p[ws] == '\n'))
        ws++;
    if (ws > max)
        return HUB_ELIMIT;
    if (ws == len)
        return 0;
    p += ws;
    len -= ws;
    if ((unsigned char)p[0] != MLLP_SB)
        return HUB_ESYNTAX;
    size_t window = len < max + 2 ? len : max + 2;    /* SB + payload + EB */
    const char *eb = memchr(p + 1, MLLP_EB, window - 1);
    if (eb == NULL)
        return len >= max + 2 ? HUB_ELIMIT : 0;
    size_t end = (size_t)(eb - p) + 1;                 /* past EB */
    if (end < len && p[end] == MLLP_CR)
        end++;
    *msg = (struct slice){ p + 1, (size_t)(eb - p) - 1 };
    return (ssize_t)(ws + end);
}

/* RFC 9110's methods, and HTTP/2's preface ("PRI * HTTP/2.0"); methods
 * are case-sensitive */
static const char *const http_methods[] = { "GET ",     "POST ",  "PUT ",
                                            "HEAD ",    "DELETE ", "PATCH ",
                                            "OPTIONS ", "CONNECT ", "TRACE ",
                                            "PRI " };

enum mllp_lead mllp_lead(const char *p, size_t len, bool eof)
{
    bool begun = false;

    if (len == 0)
        return MLLP_LEAD_MORE;
    if ((unsigned char)p[0] == MLLP_SB)
        return MLLP_LEAD_FRAME;
    for (size_t k = 0; k < sizeof(http_methods) / sizeof(*http_methods);
         k++) {
        size_t n = strlen(http_methods[k]);
        if (len >= n && memcmp(p, http_methods[k], n) == 0)
            return MLLP_LEAD_HTTP;
        if (len < n && memcmp(p, http_methods[k], len) == 0)
            begun = true;
    }
    return begun && !eof ? MLLP_LEAD_MORE : MLLP_LEAD_JUNK;
}

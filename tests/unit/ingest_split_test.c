/*
 * ingest_split_test.c - the cut of an HL7 v2 body (POST /v1/hl7v2, a file
 * given to hubctl normalize) into its messages: MLLP frames or lines that
 * begin with "MSH", and the whitespace around them.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "ingest_split.h"
#include "mllp.h"

#define M1 "MSH|^~\\&|S|F|R|F|20260101||ADT^A01|1|P|2.5\rPID|1||1^^^H^MR\r"
#define M2 "MSH|^~\\&|S|F|R|F|20260101||ADT^A08|2|P|2.5\rPID|1||2^^^H^MR\r"
#define FRAME(m) "\x0b" m "\x1c\r"

static long split(const char *s, struct slice *out, size_t max)
{
    return ingest_hl7_split((struct slice){ s, strlen(s) }, 1u << 20, out,
                            max);
}

Test(ingest_split, lines_cut_at_each_MSH_that_begins_a_line)
{
    struct slice m[4];
    long n = split("\r\n " M1 "\n\n" M2 "\r\n", m, 4);

    cr_assert_eq(n, 2);
    cr_expect_eq(m[0].len, strlen(M1));
    cr_expect_eq(memcmp(m[0].p, M1, m[0].len), 0);
    cr_expect_eq(m[1].len, strlen(M2));
    cr_expect_eq(memcmp(m[1].p, M2, m[1].len), 0);
    cr_expect_eq(split(M1 M2 M1, m, 2), -1, "three messages, room for two");
}

Test(ingest_split, frames_are_the_payloads_of_mllp)
{
    struct slice m[4];
    long n = split("\r\n" FRAME(M1) "\r\n" FRAME(M2), m, 4);

    cr_assert_eq(n, 2);
    cr_expect_eq(m[0].len, strlen(M1));
    cr_expect_eq(memcmp(m[1].p, M2, m[1].len), 0);
    cr_expect_eq(split(FRAME(M1) "\x0bMSH|", m, 4), -2, "a frame cut short");
    cr_expect_eq(split(FRAME(M1) "PID|", m, 4), -2, "bytes outside a frame");
}

/* F1361: spaces and tabs before the first frame were skipped, the same
 * after the last one made the body "broken MLLP framing" (400) */
Test(ingest_split, whitespace_after_the_last_frame_is_skipped_as_before_the_first)
{
    static const char *const bodies[] = {
        " \t" FRAME(M1) FRAME(M2),
        FRAME(M1) FRAME(M2) " ",
        FRAME(M1) FRAME(M2) "\t\n",
        FRAME(M1) "\r\n \t\r\n" FRAME(M2) "\r\n  \r\n",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        struct slice m[4];
        long n = split(bodies[i], m, 4);
        cr_assert_eq(n, 2, "body %zu: %ld", i, n);
        cr_expect_eq(m[0].len, strlen(M1), "body %zu", i);
        cr_expect_eq(m[1].len, strlen(M2), "body %zu", i);
        cr_expect_eq(memcmp(m[1].p, M2, m[1].len), 0, "body %zu", i);
    }
}

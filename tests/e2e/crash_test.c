/*
 * crash_test.c - kill -9 hubd while a sender streams over MLLP, restart it,
 * re-send everything that was not ACKed (what a real MLLP sender does), and
 * check in SQL that every message is stored exactly once: nothing ACKed was
 * lost, and the re-sends created no duplicates.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "../lib/hubproc.h"

enum { N = 400, WINDOW = 16, KILL_AT = 150, ACK_WAIT_MS = 30000 };

static struct hubproc hub;

static void start(void)
{
    cr_assert_eq(hub_start(&hub, NULL, false), 0, "hubd did not start");
}

static void stop(void)
{
    hub_cleanup(&hub);
}

/* Send messages idx[0..n) pipelined (at most WINDOW unanswered), mark the
 * AA'd ones; kill hubd after `kill_after` ACKs when > 0. Returns the number
 * of ACKs read. */
static int stream(const int *idx, int n, bool *acked, int kill_after)
{
    struct mllp_client c;
    char msg[2048], ack[4096], code[3], ctrl[64], id[32];
    int sent = 0, got = 0;

    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    while (got < n) {
        while (sent < n && sent - got < WINDOW) {
            snprintf(id, sizeof(id), "CRASH-%d", idx[sent]);
            hl7_sample(msg, sizeof(msg), id, id);
            if (mllp_send(&c, msg) != 0)
                break;
            sent++;
        }
        /* a bound on a condition: an ACK normally takes milliseconds; the
         * sanitizer build on a loaded machine may take seconds */
        long r = mllp_read(&c, ack, sizeof(ack), ACK_WAIT_MS);
        if (r == 0)
            break;                  /* the hub is gone (EOF or reset) */
        cr_assert_gt(r, 0, "no ACK for frame %d within %d ms (%d sent)",
                     got, ACK_WAIT_MS, sent);
        ack_fields(ack, code, ctrl, sizeof(ctrl));
        snprintf(id, sizeof(id), "CRASH-%d", idx[got]);
        cr_assert_str_eq(ctrl, id, "ACKs come in frame order");
        if (strcmp(code, "AA") == 0)
            acked[idx[got]] = true;
        got++;
        if (kill_after > 0 && got == kill_after)
            hub_kill9(&hub);        /* mid-stream: WINDOW frames in flight */
    }
    mllp_close(&c);
    return got;
}

Test(crash, every_acked_message_is_stored_exactly_once_after_kill9,
     .init = start, .fini = stop, .timeout = 120)
{
    static bool acked[N];
    static int idx[N], again[N];
    int n_again = 0;

    for (int i = 0; i < N; i++)
        idx[i] = i;
    /* ACKs already in our socket buffer when hubd died are still read:
     * they were written after their commit, so they count */
    int got = stream(idx, N, acked, KILL_AT);
    cr_assert_geq(got, KILL_AT, "the stream stops at the kill (got %d)", got);
    cr_assert_lt(got, N, "the kill came mid-stream (got %d)", got);
    /* some frames were in flight when hubd died */
    long stored = hub_sql_long(&hub, "select count(*) from messages");
    cr_expect_geq(stored, KILL_AT);

    cr_assert_eq(hub_restart(&hub), 0, "hubd restarts");
    for (int i = 0; i < N; i++)
        if (!acked[i])
            again[n_again++] = i;
    cr_assert_eq(n_again, N - got, "every ACK before the kill was AA");
    cr_assert_eq(stream(again, n_again, acked, 0), n_again,
                 "every re-sent frame answered");
    for (int i = 0; i < N; i++)
        cr_assert(acked[i], "message %d ACKed in the end", i);

    cr_expect_eq(hub_sql_long(&hub, "select count(*) from messages where "
                                    "idem_key like 'CRASH-%'"), N,
                 "each message stored once");
    cr_expect_eq(hub_sql_long(&hub, "select count(distinct idem_key) from "
                                    "messages where idem_key like "
                                    "'CRASH-%'"), N);
    cr_expect_eq(hub_sql_long(&hub, "select count(*) from events"), N,
                 "one event per message, none twice");
    cr_expect_eq(hub_stop(&hub), 0, "clean exit on SIGTERM");
}

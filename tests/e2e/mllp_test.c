/*
 * mllp_test.c - hubd over MLLP, end to end: the real binary, a fresh
 * database, a real MLLP client (plain TCP and TLS with client
 * certificates). Checks what the sender sees (the ACK) against what the
 * database holds (SQL counts).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/hub_err.h"
#include "store.h"
#include "subs.h"
#include "../lib/hubproc.h"
#include "../lib/webhook_rx.h"

static struct hubproc hub;

static void start_default(void)
{
    cr_assert_eq(hub_start(&hub, NULL, false), 0, "hubd did not start");
}

static void start_small_frames(void)
{
    cr_assert_eq(hub_start(&hub, "max_frame = 2048\nslow_sender_timeout = 1",
                           false), 0, "hubd did not start");
}

static void start_limited(void)
{
    cr_assert_eq(hub_start(&hub, "max_connections = 2\nidle_timeout = 2",
                           false), 0, "hubd did not start");
}

static void stop(void)
{
    hub_cleanup(&hub);
}

static long count(const char *sql)
{
    return hub_sql_long(&hub, sql);
}

static void pause_us(long us)
{
    struct timespec ts = { 0, us * 1000 };
    nanosleep(&ts, NULL);
}

Test(mllp, acks_AA_only_for_a_committed_message, .init = start_default,
     .fini = stop, .timeout = 30)
{
    struct mllp_client c;
    char msg[2048], ack[4096], code[3], ctrl[64];

    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    hl7_sample(msg, sizeof(msg), "CTRL-1", "MRN-1");
    cr_assert_eq(mllp_send(&c, msg), 0);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AA", "ack: %s", ack);
    cr_expect_str_eq(ctrl, "CTRL-1");
    /* the AA was written after the commit: the rows are there now */
    cr_expect_eq(count("select count(*) from messages where idem_key = "
                       "'CTRL-1' and status = 'accepted' and org_id = 'hosp'"),
                 1);
    cr_expect_eq(count("select count(*) from events e join messages m on "
                       "m.id = e.message_id where m.idem_key = 'CTRL-1'"),
                 1);
    mllp_close(&c);
    /* SIGTERM: a clean exit 0 (under ASan: no leak either), and the ports
     * file, which says "up", taken back */
    cr_expect_eq(hub_stop(&hub), 0);
    cr_expect_neq(access(hub_path(&hub, "ports"), F_OK), 0,
                  "the ports file outlived hubd");
}

/* Enhanced acknowledgment mode is not taken up (README, "What the hub
 * promises"): a message whose MSH-15/MSH-16 ask for it (NE/AL, AL/NE,
 * ER/SU) gets one original-mode AA after its commit, on its connection,
 * like any other, and the answer itself asks for no acknowledgment. */
Test(mllp, enhanced_mode_requests_get_one_original_mode_ack,
     .init = start_default, .fini = stop, .timeout = 30)
{
    static const char *const modes[3] = { "NE|AL", "AL|NE", "ER|SU" };
    struct mllp_client c;
    char msg[2048], ack[4096], code[3], ctrl[64], id[16];

    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    for (int i = 0; i < 3; i++) {
        snprintf(id, sizeof(id), "ENH-%d", i);
        hl7_sample(msg, sizeof(msg), id, "MRN-E");
        /* MSH-13 and -14 empty, then MSH-15 and MSH-16 */
        char *v = strstr(msg, "|P|2.5.1\r");
        cr_assert_not_null(v);
        char rest[2048];
        snprintf(rest, sizeof(rest), "|P|2.5.1|||%s%s", modes[i], v + 8);
        snprintf(v, sizeof(msg) - (size_t)(v - msg), "%s", rest);
        cr_assert_eq(mllp_send(&c, msg), 0);
        cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
        ack_fields(ack, code, ctrl, sizeof(ctrl));
        cr_expect_str_eq(code, "AA", "ack to %s: %s", modes[i], ack);
        cr_expect_str_eq(ctrl, id);
        /* the ACK's MSH ends at MSH-12: it asks for nothing back */
        cr_expect(strstr(ack, "|P|2.5.1\rMSA|") != NULL, "ack: %s", ack);
    }
    cr_expect(!mllp_readable(&c), "a second answer came");
    mllp_close(&c);
    cr_expect_eq(count("select count(*) from messages where idem_key like "
                       "'ENH-%' and status = 'accepted'"), 3);
}

/* The listener names the sending organization; MSH-4 is recorded (the
 * event's source.sending_facility) but never trusted as identity (issue
 * 3): a message whose MSH-4 names another organization of the hub ("cbo")
 * is still hosp's, on the plain listener bound to hosp and on TLS with
 * hosp's certificate. */
Test(mllp, msh_4_is_recorded_but_the_listener_names_the_org,
     .init = start_default, .fini = stop, .timeout = 30)
{
    static const char *const ids[2] = { "FAC-1", "FAC-2" };
    struct mllp_client c;
    char msg[2048], ack[4096], code[3], ctrl[64];

    for (int i = 0; i < 2; i++) {
        cr_assert_eq(mllp_connect(&c, i ? hub.mllps : hub.mllp, &hub,
                                  i ? "hosp" : NULL), 0);
        hl7_sample(msg, sizeof(msg), ids[i], "MRN-F");
        char *fac = strstr(msg, "|TESTFAC|");
        cr_assert_not_null(fac);
        memcpy(fac, "|cbo|", 5);
        memmove(fac + 5, fac + 9, strlen(fac + 9) + 1);
        cr_assert_eq(mllp_send(&c, msg), 0);
        cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
        ack_fields(ack, code, ctrl, sizeof(ctrl));
        cr_expect_str_eq(code, "AA", "ack: %s", ack);
        mllp_close(&c);
    }
    cr_expect_eq(count("select count(*) from messages where idem_key in "
                       "('FAC-1', 'FAC-2') and org_id = 'hosp'"), 2);
    cr_expect_eq(count("select count(*) from events e join messages m on "
                       "m.id = e.message_id where m.idem_key in ('FAC-1', "
                       "'FAC-2') and e.body::jsonb->'source'->>'org' = 'hosp' "
                       "and e.body::jsonb->'source'->>'sending_facility' = "
                       "'cbo'"), 2);
    cr_expect_eq(count("select count(*) from messages where org_id = 'cbo'"),
                 0);
}

static void start_quiet(void)
{
    cr_assert_eq(hub_start(&hub, "dispatch = off", false), 0,
                 "hubd did not start");
}

/* Mirth connect#2027: a positive ACK although the database write failed.
 * Here the write fails at the message's delivery row (a trigger raises
 * disk_full, after counting the try in a sequence, which no rollback
 * undoes): while it fails nothing of the message is stored and no ACK
 * goes out; once the write can succeed, the AA comes after the one commit
 * that holds the message, its event and its delivery. */
Test(mllp, a_failed_database_write_gets_no_ack_until_it_commits,
     .init = start_quiet, .fini = stop, .timeout = 60)
{
    struct store *s;
    struct mllp_client c;
    struct hub_err e;
    char *out = NULL;
    char msg[2048], ack[4096] = "", code[3], ctrl[64];
    const char *sub = "{\"url\":\"http://127.0.0.1:9/hook\","
                      "\"topics\":[\"adt.*\"]}";

    cr_assert_eq(store_connect(hub.db_url, &s), HUB_OK);
    cr_assert_eq(subs_create(s, "test", "cbo", sub, strlen(sub), NULL, &out,
                             &e), HUB_OK);
    free(out);
    cr_assert_eq(store_exec(s,
        "CREATE SEQUENCE test_tries; "
        "CREATE FUNCTION test_full() RETURNS trigger LANGUAGE plpgsql AS "
        "$$BEGIN PERFORM nextval('test_tries'); "
        "RAISE EXCEPTION 'no room' USING ERRCODE = 'disk_full'; END$$; "
        "CREATE TRIGGER test_full BEFORE INSERT ON deliveries FOR EACH ROW "
        "EXECUTE FUNCTION test_full()"), HUB_OK);

    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    hl7_sample(msg, sizeof(msg), "WFAIL-1", "MRN-W1");
    cr_assert_eq(mllp_send(&c, msg), 0);
    const char *tries = "select case when is_called then last_value else 0 "
                        "end from test_tries";
    for (int i = 0; i < 500 && count(tries) < 1; i++)
        pause_us(20000);
    cr_assert_geq(count(tries), 1, "the write was tried");
    cr_expect_lt(mllp_read(&c, ack, sizeof(ack), 1000), 0,
                 "an ACK although the write failed: %s", ack);
    for (int i = 0; i < 500 && count(tries) < 2; i++)
        pause_us(20000);
    cr_assert_geq(count(tries), 2, "and tried again, not given up");
    cr_expect_eq(count("select count(*) from messages"), 0);
    cr_expect_eq(count("select count(*) from events"), 0);

    cr_assert_eq(store_exec(s, "DROP TRIGGER test_full ON deliveries"),
                 HUB_OK);
    store_free(s);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 15000), 0,
                 "the kept message commits once the write can succeed");
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AA", "ack: %s", ack);
    cr_expect_str_eq(ctrl, "WFAIL-1");
    cr_expect_eq(count("select count(*) from messages m join events e on "
                       "e.message_id = m.id join deliveries d on d.event_seq "
                       "= e.seq where m.idem_key = 'WFAIL-1'"), 1,
                 "message, event and delivery committed together");
    cr_expect_eq(count("select count(*) from messages"), 1);
    mllp_close(&c);
}

Test(mllp, reassembles_a_frame_split_at_every_byte, .init = start_default,
     .fini = stop, .timeout = 60)
{
    struct mllp_client c;
    char msg[2048], frame[2100], ack[4096], code[3], ctrl[64];

    hl7_sample(msg, sizeof(msg), "SPLIT-1", "MRN-2");
    size_t n = strlen(msg);
    frame[0] = 0x0b;
    memcpy(frame + 1, msg, n);
    frame[n + 1] = 0x1c;
    frame[n + 2] = 0x0d;
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    for (size_t i = 0; i < n + 3; i++) {
        cr_assert_eq(mllp_send_raw(&c, frame + i, 1), 0);
        pause_us(200);              /* let each byte be its own read */
    }
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AA");
    cr_expect_str_eq(ctrl, "SPLIT-1");
    mllp_close(&c);
}

/* Senders that end a frame with EB alone (no CR), or EB LF, get their ACKs
 * at once: the frame ends at EB. Waiting for the CR left both sides
 * waiting (the sender for its ACK) until the idle timeout. */
Test(mllp, a_frame_ended_by_the_end_block_alone_is_answered,
     .init = start_default, .fini = stop, .timeout = 60)
{
    struct mllp_client c;
    char msg[2048], all[8192], ack[4096], code[3], ctrl[64];
    size_t len = 0;
    const char *ends[] = { "\x1c", "\x1c\n", "\x1c" };

    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    for (int i = 0; i < 3; i++) {       /* pipelined: EB, EB LF, EB */
        char id[16];
        snprintf(id, sizeof(id), "EBONLY-%d", i);
        hl7_sample(msg, sizeof(msg), id, "MRN-EB");
        all[len++] = 0x0b;
        memcpy(all + len, msg, strlen(msg));
        len += strlen(msg);
        memcpy(all + len, ends[i], strlen(ends[i]));
        len += strlen(ends[i]);
    }
    cr_assert_eq(mllp_send_raw(&c, all, len), 0);
    for (int i = 0; i < 3; i++) {
        char id[16];
        snprintf(id, sizeof(id), "EBONLY-%d", i);
        cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 5000), 0,
                     "no ACK for frame %d (its CR was waited for)", i);
        ack_fields(ack, code, ctrl, sizeof(ctrl));
        cr_expect_str_eq(code, "AA");
        cr_expect_str_eq(ctrl, id);
    }
    /* a CR that comes late is whitespace before the next frame */
    cr_assert_eq(mllp_send_raw(&c, "\r", 1), 0);
    hl7_sample(msg, sizeof(msg), "EBONLY-3", "MRN-EB");
    cr_assert_eq(mllp_send(&c, msg), 0);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 5000), 0);
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AA");
    cr_expect_str_eq(ctrl, "EBONLY-3");
    mllp_close(&c);
    cr_expect_eq(count("select count(*) from messages where idem_key like "
                       "'EBONLY-%'"), 4);
}

Test(mllp, answers_pipelined_frames_in_frame_order, .init = start_default,
     .fini = stop, .timeout = 60)
{
    enum { N = 40 };
    struct mllp_client c;
    static char all[N * 1200];
    char msg[1100], ack[4096], code[3], ctrl[64], want[32];
    size_t len = 0;

    for (int i = 0; i < N; i++) {
        char id[32], mrn[32];
        snprintf(id, sizeof(id), "PIPE-%d", i);
        snprintf(mrn, sizeof(mrn), "MRN-P%d", i % 7);
        hl7_sample(msg, sizeof(msg), id, mrn);
        all[len++] = 0x0b;
        memcpy(all + len, msg, strlen(msg));
        len += strlen(msg);
        all[len++] = 0x1c;
        all[len++] = 0x0d;
    }
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    /* everything in one write: the hub must not wait for our reads */
    cr_assert_eq(mllp_send_raw(&c, all, len), 0);
    for (int i = 0; i < N; i++) {
        cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0,
                     "no ack for frame %d", i);
        ack_fields(ack, code, ctrl, sizeof(ctrl));
        snprintf(want, sizeof(want), "PIPE-%d", i);
        cr_expect_str_eq(code, "AA");
        cr_expect_str_eq(ctrl, want, "ack %d out of order", i);
    }
    cr_expect_eq(count("select count(*) from messages where idem_key like "
                       "'PIPE-%'"), N);
    mllp_close(&c);
}

static void start_tight_caps(void)
{
    cr_assert_eq(hub_start(&hub, "inflight_max = 3\nconn_inflight_max = 2",
                           false), 0, "hubd did not start");
}

/* Mirth connect#1682: the 1001st message vanished at a queue limit. Two
 * connections pipeline far more frames than the in-flight caps (2 per
 * connection, 3 in all): the hub stops reading when full and reads on as
 * answers go out. Every frame gets its AA, in order, and is stored. */
Test(mllp, frames_beyond_the_in_flight_caps_wait_and_none_is_dropped,
     .init = start_tight_caps, .fini = stop, .timeout = 60)
{
    enum { C = 2, N = 120 };
    struct mllp_client c[C];
    static char all[N * 1200];
    char msg[1100], ack[4096], code[3], ctrl[64], want[32];

    for (int k = 0; k < C; k++) {
        size_t len = 0;
        for (int i = 0; i < N; i++) {
            char id[32], mrn[32];
            snprintf(id, sizeof(id), "CAP-%d-%d", k, i);
            snprintf(mrn, sizeof(mrn), "MRN-C%d", i % 9);
            hl7_sample(msg, sizeof(msg), id, mrn);
            all[len++] = 0x0b;
            memcpy(all + len, msg, strlen(msg));
            len += strlen(msg);
            all[len++] = 0x1c;
            all[len++] = 0x0d;
        }
        cr_assert_eq(mllp_connect(&c[k], hub.mllp, &hub, NULL), 0);
        cr_assert_eq(mllp_send_raw(&c[k], all, len), 0);
    }
    for (int k = 0; k < C; k++) {
        for (int i = 0; i < N; i++) {
            cr_assert_gt(mllp_read(&c[k], ack, sizeof(ack), 10000), 0,
                         "no ack for frame %d of connection %d", i, k);
            ack_fields(ack, code, ctrl, sizeof(ctrl));
            snprintf(want, sizeof(want), "CAP-%d-%d", k, i);
            cr_assert_str_eq(code, "AA", "ack: %s", ack);
            cr_assert_str_eq(ctrl, want);
        }
    }
    cr_expect_eq(count("select count(*) from messages where idem_key like "
                       "'CAP-%' and status = 'accepted'"), C * N);
    cr_expect_eq(count("select count(*) from events"), C * N);
    for (int k = 0; k < C; k++)
        mllp_close(&c[k]);
}

static void start_three_committers(void)
{
    cr_assert_eq(hub_start(&hub, "commit_threads = 3", false), 0,
                 "hubd did not start");
}

/* Closed-loop senders on several connections with three committers: a
 * committer gathering the senders it just answered often finds that
 * another committer took them (it once crashed on the empty queue). */
Test(mllp, several_committers_answer_every_sender_in_order,
     .init = start_three_committers, .fini = stop, .timeout = 60)
{
    enum { C = 6, N = 30 };
    struct mllp_client c[C];
    char msg[1100], ack[4096], code[3], ctrl[64], want[32];

    for (int k = 0; k < C; k++)
        cr_assert_eq(mllp_connect(&c[k], hub.mllp, &hub, NULL), 0);
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < C; k++) {
            char id[32], mrn[32];
            snprintf(id, sizeof(id), "MC-%d-%d", k, i);
            snprintf(mrn, sizeof(mrn), "MRN-M%d", (i + k) % 5);
            hl7_sample(msg, sizeof(msg), id, mrn);
            cr_assert_eq(mllp_send(&c[k], msg), 0);
        }
        for (int k = 0; k < C; k++) {
            cr_assert_gt(mllp_read(&c[k], ack, sizeof(ack), 10000), 0,
                         "no ack for %d on connection %d", i, k);
            ack_fields(ack, code, ctrl, sizeof(ctrl));
            snprintf(want, sizeof(want), "MC-%d-%d", k, i);
            cr_expect_str_eq(code, "AA");
            cr_expect_str_eq(ctrl, want);
        }
    }
    cr_expect_eq(count("select count(*) from messages where idem_key like "
                       "'MC-%'"), C * N);
    cr_expect_eq(count("select count(DISTINCT e.patient_hub_id) from events "
                       "e join messages m on m.id = e.message_id where "
                       "m.idem_key like 'MC-%'"), 5);
    for (int k = 0; k < C; k++)
        mllp_close(&c[k]);
    cr_expect_eq(hub_stop(&hub), 0);
}

Test(mllp, duplicate_gets_the_same_ack_and_no_second_event,
     .init = start_default, .fini = stop, .timeout = 30)
{
    struct mllp_client c;
    char msg[2048], ack1[4096], ack2[4096];

    hl7_sample(msg, sizeof(msg), "DUP-1", "MRN-3");
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    cr_assert_eq(mllp_send(&c, msg), 0);
    cr_assert_gt(mllp_read(&c, ack1, sizeof(ack1), 10000), 0);
    cr_assert_eq(mllp_send(&c, msg), 0);
    cr_assert_gt(mllp_read(&c, ack2, sizeof(ack2), 10000), 0);
    cr_expect_str_eq(ack2, ack1, "a re-send must get the stored ACK");
    cr_expect_eq(count("select count(*) from events e join messages m on "
                       "m.id = e.message_id where m.idem_key = 'DUP-1'"),
                 1);
    mllp_close(&c);
}

/* An MSH-10 too long for the idempotency index (9,000 characters that do
 * not compress) failed the group commit it was in, and the committers
 * retried it for ever: that sender, and every other, waited without an
 * answer and /readyz said the database was away. It is taken now (its
 * ACK echoes the control id whole), a re-send of it is the duplicate,
 * and another sender's message that follows is answered. */
Test(mllp, a_control_id_too_long_for_the_index_blocks_no_one,
     .init = start_default, .fini = stop, .timeout = 60)
{
    enum { KEY = 9000 };
    static char key[KEY + 1], msg[2 * KEY + 4096], ack1[KEY + 4096],
        ack2[KEY + 4096], ctrl[KEY + 1];
    char small[2048], ack[4096], code[3], sctrl[64];
    struct mllp_client c, d;
    unsigned x = 2463534242u;

    for (int i = 0; i < KEY; i++) {    /* xorshift: nothing to compress */
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        key[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
            [x % 62];
    }
    hl7_sample(msg, sizeof(msg), key, "MRN-LONG");
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    cr_assert_eq(mllp_send(&c, msg), 0);
    cr_assert_gt(mllp_read(&c, ack1, sizeof(ack1), 15000), 0,
                 "no answer to the long control id");
    ack_fields(ack1, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AA", "%.200s", ack1);
    cr_expect_str_eq(ctrl, key, "MSA-2 echoes MSH-10 whole");
    cr_assert_eq(mllp_send(&c, msg), 0);
    cr_assert_gt(mllp_read(&c, ack2, sizeof(ack2), 15000), 0);
    cr_expect_str_eq(ack2, ack1, "a re-send gets the stored ACK");
    cr_expect_eq(count("select count(*) from messages where org_id = 'hosp' "
                       "and status = 'accepted'"), 1);
    mllp_close(&c);

    hl7_sample(small, sizeof(small), "AFTER-1", "MRN-AFTER");
    cr_assert_eq(mllp_connect(&d, hub.mllp, &hub, NULL), 0);
    cr_assert_eq(mllp_send(&d, small), 0);
    cr_assert_gt(mllp_read(&d, ack, sizeof(ack), 15000), 0);
    ack_fields(ack, code, sctrl, sizeof(sctrl));
    cr_expect_str_eq(code, "AA");
    cr_expect_str_eq(sctrl, "AFTER-1");
    mllp_close(&d);
}

/* A value the database refuses for its size (a patient identifier of
 * 9,000 characters that do not compress: over the 2.7 kB an index entry
 * takes, SQLSTATE 54000) is the message's fault: it is quarantined with an
 * AE, as a refused value is, not retried for ever with every other
 * sender's messages waiting behind it. */
Test(mllp, a_value_too_long_for_an_index_is_quarantined_not_retried,
     .init = start_default, .fini = stop, .timeout = 60)
{
    enum { LEN = 9000 };
    static char mrn[LEN + 1], msg[2 * LEN + 4096];
    char small[2048], ack[4096], code[3], ctrl[64];
    struct mllp_client c;
    unsigned x = 88172645u;

    for (int i = 0; i < LEN; i++) {    /* xorshift: nothing to compress */
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        mrn[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
            [x % 62];
    }
    hl7_sample(msg, sizeof(msg), "LONG-MRN-1", mrn);
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    cr_assert_eq(mllp_send(&c, msg), 0);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 15000), 0,
                 "no answer: the batch is retried for ever");
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AE", "%s", ack);
    cr_expect_str_eq(ctrl, "LONG-MRN-1");
    cr_expect_eq(count("select count(*) from messages where org_id = 'hosp' "
                       "and status = 'quarantined'"), 1);
    cr_expect_eq(count("select count(*) from events"), 0);

    hl7_sample(small, sizeof(small), "AFTER-2", "MRN-AFTER");
    cr_assert_eq(mllp_send(&c, small), 0);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 15000), 0);
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AA", "%s", ack);
    cr_expect_str_eq(ctrl, "AFTER-2");
    mllp_close(&c);
}

/* A sender whose control ids restart (a counter reset) sends another
 * message under a used MSH-10: it is answered as the duplicate (the key is
 * what idempotency goes by), and its bytes are kept in quarantine with
 * the reason, never dropped; a byte-identical re-send keeps nothing. */
Test(mllp, a_used_control_id_with_other_bytes_is_kept_in_quarantine,
     .init = start_default, .fini = stop, .timeout = 30)
{
    struct mllp_client c;
    char msg[2048], other[2048], ack1[4096], ack2[4096], ack3[4096];

    hl7_sample(msg, sizeof(msg), "REUSED-1", "MRN-R1");
    hl7_sample(other, sizeof(other), "REUSED-1", "MRN-R2");
    cr_assert_str_neq(msg, other);
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    cr_assert_eq(mllp_send(&c, msg), 0);
    cr_assert_gt(mllp_read(&c, ack1, sizeof(ack1), 10000), 0);
    cr_assert_eq(mllp_send(&c, msg), 0);            /* a true re-send */
    cr_assert_gt(mllp_read(&c, ack2, sizeof(ack2), 10000), 0);
    cr_expect_eq(hub_log_count(&hub, "ingest.key_reused"), 0);
    cr_assert_eq(mllp_send(&c, other), 0);          /* another message */
    cr_assert_gt(mllp_read(&c, ack3, sizeof(ack3), 10000), 0);
    mllp_close(&c);
    /* the sender sees the AA it saw before; the operator is told (F202) */
    cr_expect(hub_wait_log(&hub, "ingest.key_reused org=hosp format=hl7v2 "
                           "sha=", 1, 5000));
    cr_expect_str_eq(ack2, ack1);
    cr_expect_str_eq(ack3, ack1, "answered as the duplicate");
    cr_expect_eq(count("select count(*) from events e join messages m on "
                       "m.id = e.message_id where m.idem_key = 'REUSED-1'"),
                 1);
    cr_expect_eq(count("select count(*) from messages where idem_key = "
                       "'REUSED-1' and status = 'quarantined' and "
                       "error->>'code' = 'conflict' and position("
                       "'MRN-R2'::bytea in raw) > 0"), 1,
                 "the other message's bytes kept, once");
    cr_expect_eq(count("select count(*) from audit where action = "
                       "'message.duplicate' and detail::jsonb->>'kept' = "
                       "'quarantine'"), 1);
    cr_expect_eq(count("select count(*) from audit where action = "
                       "'message.duplicate'"), 2);
    /* and counted apart from the true re-send */
    struct http_resp r;
    cr_assert_eq(http_call(&hub, false, "GET", "/metrics", NULL, NULL, NULL,
                           0, NULL, &r), 0);
    cr_expect(strstr(r.body, "hub_messages_total{outcome=\"duplicate\"} 1\n")
                  != NULL, "%s", r.body);
    cr_expect(strstr(r.body, "hub_messages_total{outcome=\"key_reused\"} "
                             "1\n") != NULL, "%s", r.body);
    http_resp_free(&r);
}

Test(mllp, bad_message_gets_AE_after_its_quarantine_commit,
     .init = start_default, .fini = stop, .timeout = 30)
{
    struct mllp_client c;
    char ack[4096], code[3], ctrl[64];
    /* an ADT without its required PID segment */
    const char *bad = "MSH|^~\\&|TESTAPP|TESTFAC|HUB|HUB|20260115093000||"
                      "ADT^A01^ADT_A01|BAD-1|P|2.5.1\r"
                      "EVN|A01|20260115093000\r"
                      "PV1|1|I\r";

    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    cr_assert_eq(mllp_send(&c, bad), 0);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AE", "ack: %s", ack);
    cr_expect(strstr(ack, "\rERR|") != NULL, "the AE says where");
    cr_expect_str_eq(ctrl, "BAD-1");
    cr_expect_eq(count("select count(*) from messages where status = "
                       "'quarantined' and error is not null"), 1);
    cr_expect_eq(count("select count(*) from events"), 0);
    /* the connection stays usable for the next message */
    char msg[2048];
    hl7_sample(msg, sizeof(msg), "GOOD-1", "MRN-10");
    cr_assert_eq(mllp_send(&c, msg), 0);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AA");
    mllp_close(&c);
}

Test(mllp, oversize_frame_gets_AR_then_close, .init = start_small_frames,
     .fini = stop, .timeout = 30)
{
    struct mllp_client c;
    static char big[8192];
    char ack[4096], code[3], ctrl[64], msg[2048];

    hl7_sample(msg, sizeof(msg), "BIG-1", "MRN-4");
    size_t n = strlen(msg);
    big[0] = 0x0b;
    memcpy(big + 1, msg, n);
    memset(big + 1 + n, 'X', sizeof(big) - 1 - n);   /* no EB within limit */
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    cr_assert_eq(mllp_send_raw(&c, big, sizeof(big)), 0);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AR");
    cr_expect_str_eq(ctrl, "BIG-1", "the AR echoes MSH-10 when readable");
    cr_expect(mllp_closed(&c, 5000), "connection must close after the AR");
    cr_expect_eq(count("select count(*) from messages where status = "
                       "'quarantined'"), 1);
    mllp_close(&c);
}

/* c's HTTP request was answered 400 wrong_port in HTTP, the connection
 * closed, and nothing kept (its headers held a bearer token). */
static void expect_wrong_port_answer(struct mllp_client *c)
{
    char resp[2048];
    cr_assert_gt(http_raw_response(c, resp, sizeof(resp), 10000), 0);
    cr_expect(strncmp(resp, "HTTP/1.1 400 ", 13) == 0, "%s", resp);
    cr_expect(strstr(resp, "\"code\":\"wrong_port\"") != NULL, "%s", resp);
    cr_expect(mllp_closed(c, 5000), "closed after the answer");
    mllp_close(c);
    cr_expect_eq(count("select count(*) from messages"), 0,
                 "the request, token and all, is not kept");
}

/* A client pointed at the MLLP port with HTTP (curl to 2575 instead of
 * 8443) is told so in HTTP, and its request, whose headers hold a bearer
 * token, is not kept in quarantine: the hub keeps tokens only as hashes */
Test(mllp, an_http_request_is_answered_in_http_and_not_kept,
     .init = start_default, .fini = stop, .timeout = 30)
{
    struct mllp_client c;
    const char req[] = "GET /v1/events HTTP/1.1\r\nHost: hub\r\n"
                       "Authorization: Bearer hub_test_wrongport_secret\r\n"
                       "\r\n";

    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    cr_assert_eq(mllp_send_raw(&c, req, sizeof(req) - 1), 0);
    expect_wrong_port_answer(&c);
    /* the port still takes MLLP */
    char msg[2048], ack[4096], code[3], ctrl[64];
    hl7_sample(msg, sizeof(msg), "AFTER-HTTP-1", "MRN-11");
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    cr_assert_eq(mllp_send(&c, msg), 0);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AA");
    mllp_close(&c);
}

/* The same mistake with the method cut across TCP segments ("PO", a
 * pause, then the rest, as a client may write it): the bytes tell, not
 * how they came, so it is answered in HTTP and not kept either (F240) */
Test(mllp, an_http_request_split_across_reads_is_answered_in_http,
     .init = start_default, .fini = stop, .timeout = 30)
{
    struct mllp_client c;
    const char req[] = "POST /v1/hl7v2 HTTP/1.1\r\nHost: hub\r\n"
                       "Authorization: Bearer hub_test_wrongport_secret\r\n"
                       "Content-Length: 0\r\n\r\n";

    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    cr_assert_eq(mllp_send_raw(&c, req, 2), 0);
    usleep(300 * 1000);             /* read alone by hubd */
    cr_expect(!mllp_readable(&c), "two bytes are neither answered nor "
              "refused");
    cr_assert_eq(mllp_send_raw(&c, req + 2, sizeof(req) - 3), 0);
    expect_wrong_port_answer(&c);
    /* a frame whose SB came alone is not held back by the wait */
    char msg[2048], ack[4096], code[3], ctrl[64];
    hl7_sample(msg, sizeof(msg), "AFTER-SPLIT-1", "MRN-12");
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    cr_assert_eq(mllp_send_raw(&c, "\x0b", 1), 0);
    usleep(300 * 1000);
    cr_assert_eq(mllp_send_raw(&c, msg, strlen(msg)), 0);
    cr_assert_eq(mllp_send_raw(&c, "\x1c\r", 2), 0);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AA");
    mllp_close(&c);
}

/* An HTTP request with a long body (256 KiB, still coming when hubd has
 * answered its head) still gets its 400 read by the client: hubd ends its
 * side (shutdown) and reads what is left before it closes, so the kernel
 * does not reset the connection over unread bytes (F341). Without that,
 * every round's later writes failed on the reset, and a client that
 * writes its whole request before it reads (curl, most engines) gave up
 * without reading its 400 (some systems also drop it from the client's
 * buffer). Plain and over TLS; nothing is kept. */
Test(mllp, an_http_request_with_a_long_body_still_reads_its_400,
     .init = start_default, .fini = stop, .timeout = 60)
{
    enum { BODY = 256 * 1024, PIECE = 32 * 1024, ROUNDS = 10 };
    static char req[BODY + 512];
    char resp[2048];
    int got = 0, sent = 0;

    int n = snprintf(req, sizeof(req), "POST /v1/hl7v2 HTTP/1.1\r\n"
                     "Host: hub\r\nContent-Type: x-application/hl7-v2+er7"
                     "\r\nContent-Length: %d\r\n\r\n", BODY);
    memset(req + n, 'X', BODY);
    for (int i = 0; i < ROUNDS; i++) {
        struct mllp_client c;
        /* the last rounds over MLLP/TLS (hosp's certificate) */
        bool tls = i >= ROUNDS - 3;
        cr_assert_eq(mllp_connect(&c, tls ? hub.mllps : hub.mllp, &hub,
                                  tls ? "hosp" : NULL), 0);
        /* a client writes its whole request, then reads; the body comes
         * in pieces, as over a network slower than loopback, so that
         * hubd has answered the head before the body is all in */
        int rc = mllp_send_raw(&c, req, (size_t)n + PIECE);
        for (size_t at = (size_t)n + PIECE; rc == 0 && at < (size_t)n + BODY;
             at += PIECE) {
            pause_us(20 * 1000);
            rc = mllp_send_raw(&c, req + at, PIECE);
        }
        if (rc == 0)
            sent++;
        if (http_raw_response(&c, resp, sizeof(resp), 10000) > 0 &&
            strncmp(resp, "HTTP/1.1 400 ", 13) == 0 &&
            strstr(resp, "\"code\":\"wrong_port\"") != NULL)
            got++;
        cr_expect(mllp_closed(&c, 5000), "closed after the answer");
        mllp_close(&c);
    }
    cr_expect_eq(sent, ROUNDS, "the whole request was taken each time");
    cr_expect_eq(got, ROUNDS, "the 400 was read each time");
    cr_expect_eq(count("select count(*) from messages"), 0,
                 "nothing of the requests is kept");
}

/* ... and the reading after the 400 is bounded: a client that never stops
 * sending is closed once 1 MiB or 1 s has gone (F341) */
Test(mllp, the_reading_after_an_http_400_is_bounded,
     .init = start_default, .fini = stop, .timeout = 60)
{
    enum { PIECE = 32 * 1024 };
    static char piece[PIECE];
    const char head[] = "POST /v1/hl7v2 HTTP/1.1\r\nHost: hub\r\n"
                        "Content-Length: 100000000\r\n\r\n";
    struct mllp_client c;
    char resp[2048];

    memset(piece, 'X', sizeof(piece));
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    cr_assert_eq(mllp_send_raw(&c, head, sizeof(head) - 1), 0);
    int64_t t0 = rx_now_ms();
    while (rx_now_ms() - t0 < 10000 &&
           mllp_send_raw(&c, piece, sizeof(piece)) == 0)
        pause_us(10 * 1000);
    int64_t ms = rx_now_ms() - t0;
    cr_expect_lt(ms, 5000, "closed after %lld ms", (long long)ms);
    cr_expect(hub_wait_log(&hub, "why=linger_", 1, 5000));
    cr_expect_gt(http_raw_response(&c, resp, sizeof(resp), 5000), 0);
    cr_expect(strncmp(resp, "HTTP/1.1 400 ", 13) == 0, "%s", resp);
    mllp_close(&c);
}

/* The beginning of a method waits for its end no longer than a frame
 * waits for its own (slow_sender_timeout), and no more than a few bytes:
 * "OPTIO" that stops is closed unanswered; "POX" is junk at its third
 * byte, quarantined and answered AE as before */
Test(mllp, the_beginning_of_a_method_waits_no_longer_than_a_frame,
     .init = start_small_frames, .fini = stop, .timeout = 30)
{
    struct mllp_client c;
    char ack[4096], code[3], ctrl[64];

    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    cr_assert_eq(mllp_send_raw(&c, "OPTIO", 5), 0);
    cr_expect(mllp_closed(&c, 5000));
    mllp_close(&c);
    cr_expect(hub_wait_log(&hub, "why=slow_sender pending=0 unread=5", 1,
                           2000));
    cr_expect_eq(count("select count(*) from messages"), 0);
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    cr_assert_eq(mllp_send_raw(&c, "PO", 2), 0);
    usleep(300 * 1000);
    cr_assert_eq(mllp_send_raw(&c, "X|not a frame\r", 14), 0);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AE");
    cr_expect(mllp_closed(&c, 5000));
    mllp_close(&c);
    cr_expect_eq(count("select count(*) from messages where status = "
                       "'quarantined'"), 1);
}

Test(mllp, slow_sender_is_closed, .init = start_small_frames, .fini = stop,
     .timeout = 30)
{
    struct mllp_client c;
    const char part[] = "\x0bMSH|^~\\&|TESTAPP";

    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    cr_assert_eq(mllp_send_raw(&c, part, sizeof(part) - 1), 0);
    /* slow_sender_timeout = 1: closed within a few seconds, no ACK */
    cr_expect(mllp_closed(&c, 5000));
    cr_expect_eq(count("select count(*) from messages"), 0);
    mllp_close(&c);
    /* the log says how much of a frame went unanswered, as it does for a
     * sender that closes mid-frame (F201) */
    cr_expect(hub_wait_log(&hub, "why=slow_sender pending=0 unread=17", 1,
                           2000));
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    cr_assert_eq(mllp_send_raw(&c, part, sizeof(part) - 1), 0);
    mllp_close(&c);
    cr_expect(hub_wait_log(&hub, "why=eof pending=0 unread=17", 1, 5000));
    cr_expect_eq(count("select count(*) from messages"), 0);
    /* a TLS client that never finishes its handshake is closed too */
    struct mllp_client t;
    cr_assert_eq(mllp_connect(&t, hub.mllps, &hub, NULL), 0);
    cr_expect(mllp_closed(&t, 5000), "stalled handshake closed");
    mllp_close(&t);
}

Test(mllp, sigterm_finishes_in_flight_commits_and_their_acks,
     .init = start_default, .fini = stop, .timeout = 30)
{
    enum { N = 30 };
    struct mllp_client c;
    static char all[N * 1200];
    char msg[1100], ack[4096], code[3], ctrl[64];
    size_t len = 0;
    int aa = 0;

    for (int i = 0; i < N; i++) {
        char id[32];
        snprintf(id, sizeof(id), "TERM-%d", i);
        hl7_sample(msg, sizeof(msg), id, "MRN-T");
        all[len++] = 0x0b;
        memcpy(all + len, msg, strlen(msg));
        len += strlen(msg);
        all[len++] = 0x1c;
        all[len++] = 0x0d;
    }
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    cr_assert_eq(mllp_send_raw(&c, all, len), 0);
    /* wait for the first answer so that frames are in flight, then stop */
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
    aa++;
    kill(hub.pid, SIGTERM);
    while (mllp_read(&c, ack, sizeof(ack), 10000) > 0) {
        ack_fields(ack, code, ctrl, sizeof(ctrl));
        cr_expect_str_eq(code, "AA");
        aa++;
    }
    cr_expect_eq(hub_wait(&hub, 10000), 0, "exit 0 after SIGTERM");
    /* every AA is a stored message; what was read before the stop was
     * answered rather than dropped */
    long stored = count("select count(*) from messages where idem_key like "
                        "'TERM-%'");
    cr_expect_geq(stored, aa);
    cr_expect_geq(aa, 1);
    mllp_close(&c);
}

/* The ports file says "up" (tests and scripts wait for it, `make run`'s
 * Ctrl-C comes any time after): a SIGINT as soon as it is there stops
 * hubd cleanly, exit 0. It was written before the signal handlers were
 * set, and such a SIGINT ended hubd with no shutdown at all (demo_test
 * met it, now and then). Five starts, each stopped at once. */
Test(mllp, sigint_as_soon_as_the_ports_file_is_there_is_a_clean_stop,
     .init = start_default, .fini = stop, .timeout = 60)
{
    cr_assert_eq(hub_stop(&hub), 0);
    for (int i = 0; i < 5; i++) {
        pid_t pid = hub_spawn_node(hub.db_url, "sigint-node", NULL);
        cr_assert_gt(pid, 0);
        char path[64];
        snprintf(path, sizeof(path), "/tmp/hub-e2e-ports-%d", (int)pid);
        struct timespec ms = { 0, 1000000 };
        int st = 0;
        bool gone = false;
        for (int t = 0; t < 30000 && access(path, F_OK) != 0; t++) {
            gone = waitpid(pid, &st, WNOHANG) == pid;
            cr_assert(!gone, "hubd exited before its ports file");
            nanosleep(&ms, NULL);
        }
        cr_assert_eq(access(path, F_OK), 0, "no ports file in 30 s");
        cr_assert_eq(kill(pid, SIGINT), 0);
        for (int t = 0; t < 10000 && !gone; t++) {
            gone = waitpid(pid, &st, WNOHANG) == pid;
            if (!gone)
                nanosleep(&ms, NULL);
        }
        if (!gone)
            hub_node_stop(pid, SIGKILL);
        unlink(path);
        cr_assert(gone, "hubd did not stop within 10 s of SIGINT");
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "start %d: %s %d", i, WIFEXITED(st) ? "exit" : "signal",
                  WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    }
}

Test(mllp, tls_client_certificate_names_the_org, .init = start_default,
     .fini = stop, .timeout = 30)
{
    struct mllp_client c;
    char msg[2048], ack[4096], code[3], ctrl[64];

    cr_assert_gt(hub.mllps, 0);
    cr_assert_eq(mllp_connect(&c, hub.mllps, &hub, "hosp"), 0,
                 "TLS handshake with the hosp certificate");
    hl7_sample(msg, sizeof(msg), "TLS-1", "MRN-5");
    cr_assert_eq(mllp_send(&c, msg), 0);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AA");
    cr_expect_eq(count("select count(*) from messages where idem_key = "
                       "'TLS-1' and org_id = 'hosp'"), 1);
    mllp_close(&c);
    cr_expect_eq(hub_stop(&hub), 0, "clean exit on SIGTERM");
}

Test(mllp, tls_refuses_unbound_or_missing_certificate, .init = start_default,
     .fini = stop, .timeout = 30)
{
    struct mllp_client c;
    char msg[2048], ack[4096];

    /* signed by the hub CA but bound to no organization */
    if (mllp_connect(&c, hub.mllps, &hub, "other") == 0) {
        hl7_sample(msg, sizeof(msg), "TLS-X", "MRN-6");
        (void)mllp_send(&c, msg);
        cr_expect_leq(mllp_read(&c, ack, sizeof(ack), 5000), 0,
                      "no ACK for an unbound certificate");
    }
    mllp_close(&c);
    /* no certificate at all: the handshake fails or the hub closes */
    if (mllp_connect(&c, hub.mllps, &hub, "") == 0) {
        hl7_sample(msg, sizeof(msg), "TLS-Y", "MRN-7");
        (void)mllp_send(&c, msg);
        cr_expect_leq(mllp_read(&c, ack, sizeof(ack), 5000), 0);
    }
    mllp_close(&c);
    cr_expect_eq(count("select count(*) from messages"), 0);
}

Test(mllp, connection_over_the_limit_is_closed, .init = start_limited,
     .fini = stop, .timeout = 30)
{
    struct mllp_client a, b, x;
    char msg[2048], ack[4096], code[3], ctrl[64];

    cr_assert_eq(mllp_connect(&a, hub.mllp, &hub, NULL), 0);
    cr_assert_eq(mllp_connect(&b, hub.mllp, &hub, NULL), 0);
    /* make sure both were accepted before the third arrives */
    hl7_sample(msg, sizeof(msg), "LIM-A", "MRN-LA");
    cr_assert_eq(mllp_send(&a, msg), 0);
    cr_assert_gt(mllp_read(&a, ack, sizeof(ack), 10000), 0);
    hl7_sample(msg, sizeof(msg), "LIM-B", "MRN-LB");
    cr_assert_eq(mllp_send(&b, msg), 0);
    cr_assert_gt(mllp_read(&b, ack, sizeof(ack), 10000), 0);
    cr_assert_eq(mllp_connect(&x, hub.mllp, &hub, NULL), 0);
    cr_expect(mllp_closed(&x, 3000), "the third connection is refused");
    mllp_close(&x);
    hl7_sample(msg, sizeof(msg), "LIM-A2", "MRN-LA");
    cr_assert_eq(mllp_send(&a, msg), 0);
    cr_assert_gt(mllp_read(&a, ack, sizeof(ack), 10000), 0);
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AA", "the others keep working");
    mllp_close(&a);
    mllp_close(&b);
}

static void start_org_limited(void)
{
    struct store *s;
    char fp[128];
    FILE *f;

    cr_assert_eq(hub_start(&hub, "max_connections_per_org = 2", false), 0,
                 "hubd did not start");
    /* a second sender, a clinic, on the TLS port with certificate "cbo" */
    cr_assert_eq(store_connect(hub.db_url, &s), HUB_OK);
    cr_assert_eq(store_org_add(s, "test", "clinic", "Test Clinic", "clinic",
                               SCOPE_INGEST), HUB_OK);
    f = fopen(hub_path(&hub, "certs/cbo.fp"), "r");
    cr_assert_not_null(f);
    cr_assert_not_null(fgets(fp, sizeof(fp), f));
    fclose(f);
    fp[strcspn(fp, "\n")] = '\0';
    cr_assert_eq(store_cert_bind(s, "test", "clinic", fp), HUB_OK);
    store_free(s);
}

/* c sends one message and reads its ACK: "AA", or "" when the connection
 * was closed instead */
static void send_one(struct mllp_client *c, const char *id, char code[3])
{
    char msg[2048], ack[4096], ctrl[64];

    hl7_sample(msg, sizeof(msg), id, "MRN-PO");
    code[0] = '\0';
    if (mllp_send(c, msg) == 0 && mllp_read(c, ack, sizeof(ack), 10000) > 0)
        ack_fields(ack, code, ctrl, sizeof(ctrl));
}

/* One sender's share of the MLLP connections (max_connections_per_org):
 * its third connection is closed, on its plain listener at accept and on
 * the TLS port once its certificate named it, and takes nothing; another
 * sender connects and is answered meanwhile; once one of the first two
 * has closed, the sender connects again. */
Test(mllp, one_senders_connections_are_capped_and_others_still_connect,
     .init = start_org_limited, .fini = stop, .timeout = 60)
{
    struct mllp_client a, b, x, t, k;
    char code[3];

    cr_assert_eq(mllp_connect(&a, hub.mllp, &hub, NULL), 0);
    send_one(&a, "ORG-A", code);
    cr_assert_str_eq(code, "AA");
    cr_assert_eq(mllp_connect(&b, hub.mllps, &hub, "hosp"), 0);  /* TLS */
    send_one(&b, "ORG-B", code);
    cr_assert_str_eq(code, "AA");
    /* hosp holds two: a third, plain or TLS, is closed unanswered */
    cr_assert_eq(mllp_connect(&x, hub.mllp, &hub, NULL), 0);
    cr_expect(mllp_closed(&x, 3000), "a third plain connection of hosp");
    mllp_close(&x);
    if (mllp_connect(&t, hub.mllps, &hub, "hosp") == 0) {
        send_one(&t, "ORG-T", code);
        cr_expect_str_eq(code, "", "a third TLS connection of hosp");
        mllp_close(&t);
    }
    /* the clinic is another sender */
    cr_assert_eq(mllp_connect(&k, hub.mllps, &hub, "cbo"), 0);
    send_one(&k, "ORG-K", code);
    cr_expect_str_eq(code, "AA", "another sender connects");
    mllp_close(&k);
    /* a share freed is taken again (hubd sees the close a moment later) */
    mllp_close(&a);
    code[0] = '\0';
    for (int i = 0; i < 30 && strcmp(code, "AA") != 0; i++) {
        pause_us(100000);
        cr_assert_eq(mllp_connect(&x, hub.mllp, &hub, NULL), 0);
        send_one(&x, "ORG-X", code);
        mllp_close(&x);
    }
    cr_expect_str_eq(code, "AA", "hosp connects again after a close");
    mllp_close(&b);
    cr_expect_eq(count("select count(*) from messages where idem_key = "
                       "'ORG-T'"), 0, "the refused connection took nothing");
    cr_expect_eq(count("select count(*) from messages where idem_key in "
                       "('ORG-A', 'ORG-B', 'ORG-K', 'ORG-X')"), 4);
}

Test(mllp, idle_connection_is_closed, .init = start_limited, .fini = stop,
     .timeout = 30)
{
    struct mllp_client c;

    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    /* idle_timeout = 2: closed after about 2 s, well before 8 */
    cr_expect(mllp_closed(&c, 8000));
    mllp_close(&c);
}

static void start_production_pids(void)
{
    /* the dev profile takes P, T and D; production's P alone, as here */
    cr_assert_eq(hub_start(&hub, "hl7_processing_ids = P\ndispatch = off",
                           false), 0, "hubd did not start");
}

/* hl7_sample with its MSH-11 ("|P|2.5.1") set to pid */
static void sample_pid(char *msg, size_t size, const char *ctrl,
                       const char *mrn, char pid)
{
    hl7_sample(msg, size, ctrl, mrn);
    char *p = strstr(msg, "|P|2.5.1\r");
    cr_assert_not_null(p);
    p[1] = pid;
}

/* HL7 v2 ch. 2: the receiver rejects a processing ID (MSH-11, table 0103)
 * it does not take with AR and ERR 202 "Unsupported processing id" (table
 * 0357). A hospital test system's training admission, sent to a hub that
 * takes production messages alone, is refused and quarantined, creates no
 * event and reaches no subscriber; a production one is taken. The same
 * over POST /v1/hl7v2, for a message and inside a batch file. */
Test(mllp, training_message_gets_AR_202_and_quarantine_on_a_production_hub,
     .init = start_production_pids, .fini = stop, .timeout = 30)
{
    struct mllp_client c;
    struct http_resp r;
    char msg[2048], ack[4096], code[3], ctrl[64];

    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    sample_pid(msg, sizeof(msg), "TRAIN-1", "MRN-T1", 'T');
    cr_assert_eq(mllp_send(&c, msg), 0);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AR", "ack: %s", ack);
    cr_expect_str_eq(ctrl, "TRAIN-1");
    cr_expect(strstr(ack, "\rERR||MSH^1^11|202^Unsupported processing id^"
                          "HL70357|E|") != NULL, "ack: %s", ack);
    cr_expect_eq(count("select count(*) from messages where status = "
                       "'quarantined' and error->>'field' = 'MSH-11' and "
                       "error->>'code' = 'unsupported'"), 1);
    cr_expect_eq(count("select count(*) from events"), 0);

    /* the connection stays usable: a production message is taken */
    sample_pid(msg, sizeof(msg), "PROD-1", "MRN-P1", 'P');
    cr_assert_eq(mllp_send(&c, msg), 0);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AA", "ack: %s", ack);
    cr_expect_str_eq(ctrl, "PROD-1");
    cr_expect_eq(count("select count(*) from messages where idem_key = "
                       "'PROD-1' and status = 'accepted'"), 1);
    cr_expect_eq(count("select count(*) from events"), 1);
    mllp_close(&c);

    /* POST /v1/hl7v2: a debugging message alone, then a batch file */
    sample_pid(msg, sizeof(msg), "DEBUG-1", "MRN-D1", 'D');
    cr_assert_eq(http_call(&hub, true, "POST", "/v1/hl7v2", "tok-hosp", NULL,
                           msg, strlen(msg), NULL, &r), 0);
    cr_expect_eq(r.status, 400, "%s", r.body);
    cr_expect(strstr(r.body, "MSA|AR|DEBUG-1") != NULL, "%s", r.body);
    cr_expect(strstr(r.body, "|202^Unsupported processing id^") != NULL,
              "%s", r.body);
    http_resp_free(&r);

    char a[2048], b[2048], body[8192];
    sample_pid(a, sizeof(a), "BATCH-P", "MRN-B1", 'P');
    sample_pid(b, sizeof(b), "BATCH-T", "MRN-B2", 'T');
    snprintf(body, sizeof(body),
             "BHS|^~\\&|TESTAPP|TESTFAC|HUB|HUB|20260115093000||||B-9\r"
             "%s%sBTS|2\r", a, b);
    cr_assert_eq(http_call(&hub, true, "POST", "/v1/hl7v2", "tok-hosp", NULL,
                           body, strlen(body), NULL, &r), 0);
    cr_expect_eq(r.status, 400, "%s", r.body);
    cr_expect(strstr(r.body, "MSA|AA|BATCH-P") != NULL, "%s", r.body);
    cr_expect(strstr(r.body, "MSA|AR|BATCH-T") != NULL, "%s", r.body);
    http_resp_free(&r);
    cr_expect_eq(count("select count(*) from messages where status = "
                       "'quarantined' and error->>'field' = 'MSH-11'"), 3);
    cr_expect_eq(count("select count(*) from events"), 2,
                 "PROD-1 and BATCH-P alone");
}

/*
 * hl7probe_test.c - the HL7 v2 ingest transports (MLLP, MLLP/TLS, POST
 * /v1/hl7v2) against issue 3's text, at the edges the other suites do not
 * walk: a frame exactly at the size limit and one byte over it, bytes
 * between frames, a pipelined burst of AA, AE and a duplicate whose ACKs
 * come back in frame order, one MSH-10 from two organizations, one MSH-10
 * over MLLP and then HTTPS, a body of several messages with LF separators
 * and a charset in its Content-Type, and the ACK's header for a v2.2 and
 * a v2.8 sender (round 236).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/hub_err.h"
#include "store.h"
#include "../lib/hubproc.h"

static struct hubproc hub;

static void start_small_frames(void)
{
    cr_assert_eq(hub_start(&hub, "max_frame = 2048", false), 0,
                 "hubd did not start");
}

/* a second ingesting organization, a clinic, on the TLS port with the
 * certificate "cbo" */
static void start_two_senders(void)
{
    struct store *s;
    char fp[128];
    FILE *f;

    cr_assert_eq(hub_start(&hub, NULL, false), 0, "hubd did not start");
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

static void stop(void)
{
    hub_cleanup(&hub);
}

static long count(const char *sql)
{
    return hub_sql_long(&hub, sql);
}

/* One MLLP frame of msg padded with Z segments so that its payload is
 * exactly `payload` bytes; returns the frame's length. */
static size_t frame_of_size(char *out, size_t size, const char *msg,
                            size_t payload)
{
    size_t n = strlen(msg);
    cr_assert(payload >= n + 8 && payload + 3 <= size);
    out[0] = 0x0b;
    memcpy(out + 1, msg, n);
    memcpy(out + 1 + n, "ZPD|", 4);
    memset(out + 1 + n + 4, 'x', payload - n - 5);
    out[payload] = '\r';
    out[payload + 1] = 0x1c;
    out[payload + 2] = 0x0d;
    return payload + 3;
}

Test(hl7probe, a_frame_at_the_limit_is_taken_and_one_byte_over_is_AR,
     .init = start_small_frames, .fini = stop, .timeout = 30)
{
    struct mllp_client c;
    static char fr[4096];
    char msg[2048], ack[4096], code[3], ctrl[64];

    hl7_sample(msg, sizeof(msg), "LIM-AT", "MRN-L1");
    size_t n = frame_of_size(fr, sizeof(fr), msg, 2048);
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    cr_assert_eq(mllp_send_raw(&c, fr, n), 0);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AA", "%s", ack);
    cr_expect_str_eq(ctrl, "LIM-AT");

    hl7_sample(msg, sizeof(msg), "LIM-OVER", "MRN-L2");
    n = frame_of_size(fr, sizeof(fr), msg, 2049);
    cr_assert_eq(mllp_send_raw(&c, fr, n), 0);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AR", "%s", ack);
    cr_expect_str_eq(ctrl, "LIM-OVER");
    cr_expect(strstr(ack, "\rERR|") != NULL, "%s", ack);
    cr_expect(mllp_closed(&c, 5000), "closed after the AR");
    mllp_close(&c);
    cr_expect_eq(count("select count(*) from messages where status = "
                       "'quarantined'"), 1, "the oversize frame is kept");
    cr_expect_eq(count("select count(*) from messages where status = "
                       "'accepted'"), 1);
}

Test(hl7probe, blank_lines_between_frames_are_skipped_and_junk_is_AR,
     .init = start_small_frames, .fini = stop, .timeout = 30)
{
    struct mllp_client c;
    char msg[2048], ack[4096], code[3], ctrl[64], buf[4096];

    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    hl7_sample(msg, sizeof(msg), "WS-1", "MRN-W1");
    int n = snprintf(buf, sizeof(buf), "\r\n\r\n\x0b%s\x1c\r\n\n", msg);
    cr_assert_eq(mllp_send_raw(&c, buf, (size_t)n), 0);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AA", "%s", ack);
    /* EB then LF, no CR: the frame still ends at EB */
    hl7_sample(msg, sizeof(msg), "WS-2", "MRN-W2");
    n = snprintf(buf, sizeof(buf), "\x0b%s\x1c\n", msg);
    cr_assert_eq(mllp_send_raw(&c, buf, (size_t)n), 0);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AA", "%s", ack);
    cr_expect_str_eq(ctrl, "WS-2");
    /* junk before SB: AE, kept, closed */
    cr_assert_eq(mllp_send_raw(&c, "junk\x0bMSH|", 9), 0);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AE", "%s", ack);
    cr_expect(mllp_closed(&c, 5000));
    mllp_close(&c);
    cr_expect_eq(count("select count(*) from messages where status = "
                       "'quarantined'"), 1);
    cr_expect_eq(count("select count(*) from messages where status = "
                       "'accepted'"), 2);
}

Test(hl7probe, a_pipelined_burst_is_answered_in_order_with_its_duplicate,
     .init = start_two_senders, .fini = stop, .timeout = 30)
{
    struct mllp_client c;
    static char buf[32768];
    char msg[2048], ack[4096], code[3], ctrl[64];
    const char *bad = "MSH|^~\\&|TESTAPP|TESTFAC|HUB|HUB|20260115093000||"
                      "ADT^A01^ADT_A01|P-BAD|P|2.5.1\rEVN|A01|20260115\r"
                      "PV1|1|I\r";
    const char *ids[] = { "P-1", "P-BAD", "P-2", "P-1", "P-3" };
    const char *want[] = { "AA", "AE", "AA", "AA", "AA" };
    size_t len = 0;

    for (size_t i = 0; i < 5; i++) {
        if (strcmp(ids[i], "P-BAD") == 0)
            snprintf(msg, sizeof(msg), "%s", bad);
        else
            hl7_sample(msg, sizeof(msg), ids[i], "MRN-P");
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "\x0b%s\x1c\r",
                                msg);
    }
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    cr_assert_eq(mllp_send_raw(&c, buf, len), 0);
    char first_ack[4096] = "";
    for (size_t i = 0; i < 5; i++) {
        cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
        ack_fields(ack, code, ctrl, sizeof(ctrl));
        cr_expect_str_eq(code, want[i], "ack %zu: %s", i, ack);
        cr_expect_str_eq(ctrl, ids[i], "ack %zu", i);
        if (i == 0)
            snprintf(first_ack, sizeof(first_ack), "%s", ack);
        if (i == 3)
            cr_expect_str_eq(ack, first_ack, "the duplicate's ACK is the "
                             "first's");
    }
    mllp_close(&c);
    cr_expect_eq(count("select count(*) from messages where org_id = 'hosp'"
                       " and status = 'accepted'"), 3);
    cr_expect_eq(count("select count(*) from events"), 3);

    /* the same MSH-10 from another organization is no duplicate */
    struct mllp_client t;
    hl7_sample(msg, sizeof(msg), "P-1", "MRN-P");
    cr_assert_eq(mllp_connect(&t, hub.mllps, &hub, "cbo"), 0);
    cr_assert_eq(mllp_send(&t, msg), 0);
    cr_assert_gt(mllp_read(&t, ack, sizeof(ack), 10000), 0);
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AA", "%s", ack);
    cr_expect_str_neq(ack, first_ack, "its own ACK");
    mllp_close(&t);
    cr_expect_eq(count("select count(*) from messages where org_id = "
                       "'clinic' and idem_key = 'P-1'"), 1);
    cr_expect_eq(count("select count(*) from events"), 4);

    /* the same MSH-10 over HTTPS from hosp: the MLLP ACK again */
    struct http_resp r;
    hl7_sample(msg, sizeof(msg), "P-1", "MRN-P");
    cr_assert_eq(http_call(&hub, true, "POST", "/v1/hl7v2", "tok-hosp", NULL,
                           msg, strlen(msg), "text/plain", &r), 0);
    cr_expect_eq(r.status, 202, "%s", r.body);
    cr_expect(strncmp(r.body, first_ack, strlen(first_ack)) == 0,
              "HTTPS: %s\nMLLP: %s", r.body, first_ack);
    http_resp_free(&r);
    cr_assert_eq(http_call(&hub, true, "POST", "/v1/hl7v2", "tok-hosp", NULL,
                           msg, strlen(msg), NULL, &r), 0);
    cr_expect_eq(r.status, 202, "%s", r.body);
    cr_expect(strstr(r.body, "\"duplicate\":true") != NULL, "%s", r.body);
    cr_expect(strstr(r.body, "\"event_ids\":[]") == NULL,
              "a duplicate names the events of its first: %s", r.body);
    http_resp_free(&r);
    cr_expect_eq(count("select count(*) from events"), 4);
}

Test(hl7probe, https_messages_with_lf_and_a_charset_one_bad,
     .init = start_two_senders, .fini = stop, .timeout = 30)
{
    struct http_resp r;
    char a[2048], b[2048], body[8192];
    const char *bad = "MSH|^~\\&|TESTAPP|TESTFAC|HUB|HUB|20260115093000||"
                      "ADT^A01^ADT_A01|H-BAD|P|2.5.1\rEVN|A01|20260115\r"
                      "PV1|1|I\r";
    const char *hdr[] = { "Content-Type: application/hl7-v2; charset=utf-8",
                          NULL };

    hl7_sample(a, sizeof(a), "H-1", "MRN-H1");
    hl7_sample(b, sizeof(b), "H-2", "MRN-H2");
    snprintf(body, sizeof(body), "%s\n%s\n%s\n", a, bad, b);
    for (char *p = body; *p; p++)
        if (*p == '\r')
            *p = '\n';
    cr_assert_eq(http_call_h(&hub, true, "POST", "/v1/hl7v2", "tok-hosp",
                             hdr, body, strlen(body), &r), 0);
    cr_expect_eq(r.status, 400, "%s", r.body);
    cr_expect(strstr(r.body, "MSA|AA|H-1") != NULL, "%s", r.body);
    cr_expect(strstr(r.body, "MSA|AE|H-BAD") != NULL, "%s", r.body);
    cr_expect(strstr(r.body, "MSA|AA|H-2") != NULL, "%s", r.body);
    cr_expect(strstr(r.body, "\"accepted\":2") != NULL, "%s", r.body);
    http_resp_free(&r);
    cr_expect_eq(count("select count(*) from messages where status = "
                       "'quarantined'"), 1);
    cr_expect_eq(count("select count(*) from events"), 2);
}

/* A v2.2 and a v2.8 sender with other separators: the ACK's MSH uses
 * theirs, their version, the applications swapped, MSA-2 their MSH-10 */
Test(hl7probe, the_ack_header_is_the_senders_for_v2_2_and_v2_8,
     .init = start_two_senders, .fini = stop, .timeout = 30)
{
    struct mllp_client c;
    char ack[4096], code[3], ctrl[64];
    const char *v22 = "MSH#$~\\&#OLDAPP#OLDFAC#HUB#HUBFAC#20260115093000##"
                      "ADT$A01#V22-1#P#2.2\r"
                      "EVN#A01#20260115093000\r"
                      "PID#1##MRN22$$$OLDFAC$MR##DOE$JANE##19800101#F\r"
                      "PV1#1#I\r";
    const char *v28 = "MSH|^~\\&|NEWAPP|NEWFAC|HUB|HUBFAC|20260115093000||"
                      "ADT^A01^ADT_A01|V28-1|P|2.8\r"
                      "EVN||20260115093000\r"
                      "PID|1||MRN28^^^NEWFAC^MR||DOE^JANE||19800101|F\r"
                      "PV1|1|I\r";

    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    cr_assert_eq(mllp_send(&c, v22), 0);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
    cr_expect(strncmp(ack, "MSH#$~\\&#HUB#HUBFAC#OLDAPP#OLDFAC#", 34) == 0,
              "%s", ack);
    cr_expect(strstr(ack, "#ACK$A01#") != NULL, "%s", ack);
    cr_expect(strstr(ack, "#P#2.2\r") != NULL, "%s", ack);
    cr_expect(strstr(ack, "\rMSA#AA#V22-1") != NULL, "%s", ack);
    cr_assert_eq(mllp_send(&c, v28), 0);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AA", "%s", ack);
    cr_expect(strncmp(ack, "MSH|^~\\&|HUB|HUBFAC|NEWAPP|NEWFAC|", 34) == 0,
              "%s", ack);
    cr_expect(strstr(ack, "|ACK^A01^ACK|") != NULL, "%s", ack);
    cr_expect(strstr(ack, "|P|2.8\r") != NULL, "%s", ack);
    mllp_close(&c);
}

/* A body refused whole over HTTPS (issue 3: "nothing refused is dropped",
 * F4040): no message of it is taken, and it is kept whole in quarantine
 * with its error before its 400, as the listener keeps junk; an empty body
 * is answered and not kept. */
Test(hl7probe, https_bodies_refused_whole, .init = start_two_senders,
     .fini = stop, .timeout = 30)
{
    struct http_resp r;
    char a[2048], body[8192], sql[512];

    hl7_sample(a, sizeof(a), "F-1", "MRN-F1");
    int n = snprintf(body, sizeof(body), "\x0b%sjunk", a);
    cr_assert_eq(http_call(&hub, true, "POST", "/v1/hl7v2", "tok-hosp", NULL,
                           body, (size_t)n, NULL, &r), 0);
    cr_expect_eq(r.status, 400, "%s", r.body);
    cr_expect(strstr(r.body, "broken MLLP framing") != NULL, "%s", r.body);
    http_resp_free(&r);
    snprintf(sql, sizeof(sql),
             "select count(*) from messages where status = 'quarantined' "
             "and org_id = 'hosp' and length(raw) = %d "
             "and get_byte(raw, 0) = 11 and error->>'code' = 'syntax'", n);
    cr_expect_eq(count(sql), 1, "the framing refused is kept as sent");
    n = snprintf(body, sizeof(body),
                 "FHS|^~\\&|TESTAPP|TESTFAC|HUB|HUB|20260115093000\r"
                 "BHS|^~\\&|TESTAPP|TESTFAC|HUB|HUB|20260115093000\r"
                 "%sBTS|3\rFTS|1\r", a);
    cr_assert_eq(http_call(&hub, true, "POST", "/v1/hl7v2", "tok-hosp", NULL,
                           body, (size_t)n, NULL, &r), 0);
    cr_expect_eq(r.status, 400, "%s", r.body);
    cr_expect(strstr(r.body, "\"field\":\"BTS-1\"") != NULL, "%s", r.body);
    http_resp_free(&r);
    snprintf(sql, sizeof(sql),
             "select count(*) from messages where status = 'quarantined' "
             "and length(raw) = %d and error->>'field' = 'BTS-1'", n);
    cr_expect_eq(count(sql), 1, "the batch refused is kept as sent");
    cr_assert_eq(http_call(&hub, true, "POST", "/v1/hl7v2", "tok-hosp", NULL,
                           "", 0, NULL, &r), 0);
    cr_expect_eq(r.status, 400, "%s", r.body);
    http_resp_free(&r);
    cr_expect_eq(count("select count(*) from messages"), 2,
                 "the empty body is not kept");
    cr_expect_eq(count("select count(*) from events"), 0);
    cr_expect_eq(count("select count(*) from audit "
                       "where action = 'message.quarantined' "
                       "and actor = 'hosp'"), 2);
}

static void start_proxied(void)
{
    cr_assert_eq(hub_start(&hub, NULL, true), 0, "hubd did not start");
}

/* A body refused whole while its quarantine cannot be committed is not
 * answered 400 (that would say it was kept): 503 with Retry-After, as
 * any ingest; re-sent once the database is back, it is kept (F4040). */
Test(hl7probe, a_body_refused_whole_waits_for_its_quarantine,
     .init = start_proxied, .fini = stop, .timeout = 60)
{
    struct http_resp r;
    char a[2048], body[4096];

    hl7_sample(a, sizeof(a), "F-2", "MRN-F2");
    int n = snprintf(body, sizeof(body), "\x0b%sjunk", a);
    cr_assert(hub_wait_status(&hub, "/readyz", 200, 10000), "ready");
    /* an empty body: the token is known (cached) before the outage */
    cr_assert_eq(http_call(&hub, true, "POST", "/v1/hl7v2", "tok-hosp", NULL,
                           "", 0, NULL, &r), 0);
    cr_expect_eq(r.status, 400, "%s", r.body);
    http_resp_free(&r);
    dbproxy_set_down(hub.proxy, true);
    cr_expect(hub_wait_status(&hub, "/readyz", 503, 15000), "not ready");
    cr_assert_eq(http_call(&hub, true, "POST", "/v1/hl7v2", "tok-hosp", NULL,
                           body, (size_t)n, NULL, &r), 0);
    cr_expect_eq(r.status, 503, "%s", r.body);
    cr_expect_neq(r.retry_after[0], '\0', "Retry-After");
    http_resp_free(&r);
    dbproxy_set_down(hub.proxy, false);
    cr_assert(hub_wait_status(&hub, "/readyz", 200, 15000), "ready again");
    cr_expect_eq(count("select count(*) from messages"), 0);
    /* re-sent as a sender does after a 503 (the credential look-up may
     * answer 503 a moment longer, while its connection comes back) */
    for (int k = 0; k < 50; k++) {
        cr_assert_eq(http_call(&hub, true, "POST", "/v1/hl7v2", "tok-hosp",
                               NULL, body, (size_t)n, NULL, &r), 0);
        if (r.status != 503)
            break;
        http_resp_free(&r);
        hub_sleep_ms(200);
    }
    cr_expect_eq(r.status, 400, "%s", r.body);
    http_resp_free(&r);
    cr_expect_eq(count("select count(*) from messages where status = "
                       "'quarantined'"), 1);
}

static void start_one_in_flight(void)
{
    cr_assert_eq(hub_start(&hub, "inflight_max = 1\nslow_sender_timeout = 1\n"
                           "idle_timeout = 1", true), 0, "hubd did not start");
}

/* n frames ROOM-<tag>-i in one write on c */
static void send_frames(struct mllp_client *c, const char *tag, int n)
{
    static char buf[8192];
    char msg[2048];
    size_t len = 0;

    for (int i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof(id), "ROOM-%s-%d", tag, i);
        hl7_sample(msg, sizeof(msg), id, "MRN-R");
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "\x0b%s\x1c\r",
                                msg);
    }
    cr_assert_eq(mllp_send_raw(c, buf, len), 0);
}

static void expect_acks(struct mllp_client *c, const char *tag, int n)
{
    char ack[4096], code[3], ctrl[64], want[16];

    for (int i = 0; i < n; i++) {
        snprintf(want, sizeof(want), "ROOM-%s-%d", tag, i);
        cr_assert_gt(mllp_read(c, ack, sizeof(ack), 10000), 0,
                     "no ack for %s", want);
        ack_fields(ack, code, ctrl, sizeof(ctrl));
        cr_expect_str_eq(code, "AA", "%s", ack);
        cr_expect_str_eq(ctrl, want);
    }
}

/* Back-pressure (issue 3: "MLLP stops reading"): a whole frame that waits
 * for room in the pipeline (inflight_max, the database slow) waits on the
 * hub, not on its sender. Neither its connection, with a frame in flight
 * before it (slow_sender_timeout), nor another with nothing in flight
 * (idle_timeout) is closed; every frame is answered once the database
 * answers again (F4000). */
Test(hl7probe, a_whole_frame_waiting_for_room_closes_no_connection,
     .init = start_one_in_flight, .fini = stop, .timeout = 30)
{
    struct mllp_client a, b;

    cr_assert_eq(mllp_connect(&a, hub.mllp, &hub, NULL), 0);
    cr_assert_eq(mllp_connect(&b, hub.mllp, &hub, NULL), 0);
    dbproxy_hold_answers(hub.proxy, true);
    send_frames(&a, "A", 2);
    hub_sleep_ms(200);              /* a's first frame takes the room */
    send_frames(&b, "B", 1);
    hub_sleep_ms(3000);             /* three of either timeout */
    dbproxy_hold_answers(hub.proxy, false);
    expect_acks(&a, "A", 2);
    expect_acks(&b, "B", 1);
    cr_expect_eq(hub_log_count(&hub, "why=slow_sender"), 0);
    cr_expect_eq(hub_log_count(&hub, "why=idle"), 0);
    mllp_close(&a);
    mllp_close(&b);
}

/* The hub's wait stops the sender's clocks (F4000), it does not end them:
 * once frames are taken again a frame begun during the wait is timed from
 * then (slow_sender_timeout), an idle connection is closed after
 * idle_timeout, and a sender that closed while its whole frame waited has
 * that frame taken once and its connection ended. Nothing stays open for
 * ever after the database comes back (probe of round 243). */
Test(hl7probe, after_the_hubs_wait_the_senders_clocks_run_again,
     .init = start_one_in_flight, .fini = stop, .timeout = 30)
{
    struct mllp_client a, b, d;
    static const char part[] = "\x0bMSH|^~\\&|PART";

    cr_assert_eq(mllp_connect(&a, hub.mllp, &hub, NULL), 0);
    cr_assert_eq(mllp_connect(&b, hub.mllp, &hub, NULL), 0);
    cr_assert_eq(mllp_connect(&d, hub.mllp, &hub, NULL), 0);
    dbproxy_hold_answers(hub.proxy, true);
    send_frames(&a, "C", 1);
    hub_sleep_ms(200);              /* a's frame takes the room */
    send_frames(&b, "D", 1);        /* whole, waits for room ... */
    cr_assert_eq(mllp_send_raw(&b, part, sizeof(part) - 1), 0); /* begun */
    send_frames(&d, "E", 1);        /* whole, waits; its sender leaves */
    hub_sleep_ms(200);
    mllp_close(&d);
    hub_sleep_ms(2500);             /* past either timeout: no close */
    cr_expect_eq(hub_log_count(&hub, "why=slow_sender"), 0);
    cr_expect_eq(hub_log_count(&hub, "why=idle"), 0);
    dbproxy_hold_answers(hub.proxy, false);
    expect_acks(&a, "C", 1);
    expect_acks(&b, "D", 1);
    cr_expect(mllp_closed(&b, 5000), "the frame begun during the wait is "
              "timed once frames are taken again");
    cr_expect(mllp_closed(&a, 5000), "idle after the wait: closed");
    cr_expect_eq(hub_log_count(&hub, "why=slow_sender"), 1);
    cr_expect_geq(hub_log_count(&hub, "why=idle"), 1);
    cr_expect_eq(count("select count(*) from messages where idem_key = "
                       "'ROOM-E-0'"), 1, "the whole frame of a sender that "
                 "left is taken once");
    /* its FIN is read once reading resumes, or its ACK meets its reset */
    cr_expect_eq(hub_log_count(&hub, "why=eof") +
                 hub_log_count(&hub, "why=error"), 1, "its connection ended");
    mllp_close(&a);
    mllp_close(&b);
}

static void start_two_connections(void)
{
    cr_assert_eq(hub_start(&hub, "max_connections = 2", false), 0,
                 "hubd did not start");
}

/* c sends one message and reads its ACK code ("" when closed instead) */
static void send_one(struct mllp_client *c, const char *id, char code[3])
{
    char msg[2048], ack[4096], ctrl[64];

    hl7_sample(msg, sizeof(msg), id, "MRN-S");
    code[0] = '\0';
    if (mllp_send(c, msg) == 0 && mllp_read(c, ack, sizeof(ack), 10000) > 0)
        ack_fields(ack, code, ctrl, sizeof(ctrl));
}

/* The connection limit: the extra sender is closed unanswered and takes
 * nothing; each way a connection ends (the sender's close, a refusal
 * after junk, a half-close with an ACK due) gives its slot back. */
Test(hl7probe, connection_slots_come_back_however_a_connection_ends,
     .init = start_two_connections, .fini = stop, .timeout = 60)
{
    struct mllp_client a, b, x;
    char code[3], ack[4096], msg[2048];

    for (int round = 0; round < 3; round++) {
        char id[32];
        cr_assert_eq(mllp_connect(&a, hub.mllp, &hub, NULL), 0);
        cr_assert_eq(mllp_connect(&b, hub.mllp, &hub, NULL), 0);
        snprintf(id, sizeof(id), "SLOT-%d-A", round);
        send_one(&a, id, code);
        cr_assert_str_eq(code, "AA", "round %d", round);
        snprintf(id, sizeof(id), "SLOT-%d-B", round);
        send_one(&b, id, code);
        cr_assert_str_eq(code, "AA", "round %d", round);
        cr_assert_eq(mllp_connect(&x, hub.mllp, &hub, NULL), 0);
        snprintf(id, sizeof(id), "SLOT-%d-X", round);
        hl7_sample(msg, sizeof(msg), id, "MRN-S");
        (void)mllp_send(&x, msg);
        cr_expect(mllp_closed(&x, 3000), "round %d: the third is refused",
                  round);
        mllp_close(&x);
        if (round == 0) {
            mllp_close(&a);
            mllp_close(&b);
        } else if (round == 1) {
            cr_assert_eq(mllp_send_raw(&a, "junk", 4), 0);
            cr_assert_gt(mllp_read(&a, ack, sizeof(ack), 10000), 0);
            cr_expect(mllp_closed(&a, 5000));
            mllp_close(&a);
            cr_assert_eq(mllp_send_raw(&b, "junk", 4), 0);
            cr_assert_gt(mllp_read(&b, ack, sizeof(ack), 10000), 0);
            cr_expect(mllp_closed(&b, 5000));
            mllp_close(&b);
        } else {
            snprintf(id, sizeof(id), "SLOT-%d-H", round);
            hl7_sample(msg, sizeof(msg), id, "MRN-S");
            cr_assert_eq(mllp_send(&a, msg), 0);
            cr_assert_eq(shutdown(a.fd, SHUT_WR), 0);
            cr_assert_gt(mllp_read(&a, ack, sizeof(ack), 10000), 0);
            cr_expect(mllp_closed(&a, 5000));
            mllp_close(&a);
            mllp_close(&b);
        }
        hub_sleep_ms(300);
    }
    cr_expect_eq(count("select count(*) from messages where idem_key like "
                       "'SLOT-%-X'"), 0, "the refused connections took none");
    cr_assert_eq(mllp_connect(&a, hub.mllp, &hub, NULL), 0);
    send_one(&a, "SLOT-END", code);
    cr_expect_str_eq(code, "AA");
    mllp_close(&a);
}

static void start_tls_short_cache(void)
{
    cr_assert_eq(hub_start(&hub, "auth_cache_ttl = 1\nidle_timeout = 2\n"
                           "slow_sender_timeout = 2", true), 0,
                 "hubd did not start");
}

/* A TLS sender's frame that waits while its certificate cannot be looked
 * up again (the database down) waits on the hub: is its connection kept
 * until the database is back, and the frame answered? */
Test(hl7probe, a_tls_frame_waiting_for_its_certificate_lookup,
     .init = start_tls_short_cache, .fini = stop, .timeout = 60)
{
    struct mllp_client t;
    char code[3];

    cr_assert_eq(mllp_connect(&t, hub.mllps, &hub, "hosp"), 0);
    send_one(&t, "AUTHW-1", code);
    cr_assert_str_eq(code, "AA");
    dbproxy_set_down(hub.proxy, true);
    hub_sleep_ms(1500);             /* the cache's entry has expired */
    char msg[2048], ack[4096], ctrl[64];
    hl7_sample(msg, sizeof(msg), "AUTHW-2", "MRN-S");
    cr_assert_eq(mllp_send(&t, msg), 0);
    hub_sleep_ms(4000);             /* two idle_timeouts */
    dbproxy_set_down(hub.proxy, false);
    cr_expect_eq(hub_log_count(&hub, "why=idle"), 0);
    cr_expect_eq(hub_log_count(&hub, "why=slow_sender"), 0);
    cr_expect_eq(hub_log_count(&hub, "why=auth"), 0);
    cr_assert_gt(mllp_read(&t, ack, sizeof(ack), 20000), 0,
                 "closed while it waited on the hub");
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AA", "%s", ack);
    mllp_close(&t);
}

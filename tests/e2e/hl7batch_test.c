/*
 * hl7batch_test.c - HL7 v2 batch files end to end: POST /v1/hl7v2 over
 * HTTPS with an FHS/BHS ... BTS/FTS body (each message committed and
 * acknowledged as if sent alone, the response batch echoing BHS-11), a
 * re-sent file (duplicates by MSH-10), a count that differs and a broken
 * envelope (refused whole: no message taken, the file quarantined as
 * sent), and a batch in an MLLP frame
 * (refused AR: an MLLP frame is answered by one ACK).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "../lib/hubproc.h"

static struct hubproc hub;

static void start_default(void)
{
    cr_assert_eq(hub_start(&hub, NULL, false), 0, "hubd did not start");
}

static void stop(void)
{
    hub_cleanup(&hub);
}

static long count(const char *sql)
{
    return hub_sql_long(&hub, sql);
}

/* FHS, one BHS with the given BTS-1, messages B-1 and B-2, FTS. */
static void batch_file(char *out, size_t size, const char *bts1,
                       const char *prefix)
{
    char a[2048], b[2048];
    char id1[32], id2[32];
    snprintf(id1, sizeof(id1), "%s-1", prefix);
    snprintf(id2, sizeof(id2), "%s-2", prefix);
    hl7_sample(a, sizeof(a), id1, "MRN-B1");
    hl7_sample(b, sizeof(b), id2, "MRN-B2");
    snprintf(out, size,
             "FHS|^~\\&|TESTAPP|TESTFAC|HUB|HUB|20260115093000||||FILE-7\r\n"
             "BHS|^~\\&|TESTAPP|TESTFAC|HUB|HUB|20260115093000||||BATCH-7\r\n"
             "%s%sBTS|%s\r\nFTS|1\r\n", a, b, bts1);
}

Test(hl7batch, https_batch_file_commits_and_acks_each_message_alone,
     .init = start_default, .fini = stop, .timeout = 30)
{
    struct http_resp r;
    char body[8192];

    batch_file(body, sizeof(body), "2", "BATCH");
    cr_assert_eq(http_call(&hub, true, "POST", "/v1/hl7v2", "tok-hosp", NULL,
                           body, strlen(body), NULL, &r), 0);
    cr_expect_eq(r.status, 202, "%s", r.body);
    cr_expect(strstr(r.body, "MSA|AA|BATCH-1") != NULL, "%s", r.body);
    cr_expect(strstr(r.body, "MSA|AA|BATCH-2") != NULL, "%s", r.body);
    cr_expect(strstr(r.body, "\"accepted\":2") != NULL, "%s", r.body);
    /* the response batch: our FHS/BHS with the sender's ids in -12 */
    cr_expect(strstr(r.body, "\"batch_ack\":\"FHS|^~\\\\&|HUB|HUB|TESTAPP|"
                             "TESTFAC|") != NULL, "%s", r.body);
    cr_expect(strstr(r.body, "|FILE-7\\rBHS|") != NULL, "%s", r.body);
    cr_expect(strstr(r.body, "|BATCH-7\\rMSH|") != NULL, "%s", r.body);
    cr_expect(strstr(r.body, "BTS|2\\rFTS|1\\r\"") != NULL, "%s", r.body);
    http_resp_free(&r);
    /* each its own message, idempotency key and event */
    cr_expect_eq(count("select count(*) from messages where idem_key in "
                       "('BATCH-1', 'BATCH-2') and status = 'accepted' "
                       "and org_id = 'hosp'"), 2);
    cr_expect_eq(count("select count(*) from events"), 2);
    /* stored as sent alone: no envelope segment in any message */
    cr_expect_eq(count("select count(*) from messages where position("
                       "'FHS|' in convert_from(raw, 'UTF8')) > 0 or "
                       "position('BTS|' in convert_from(raw, 'UTF8')) > 0"),
                 0);

    /* re-sent (hospitals re-send export files): duplicates, answered with
     * the stored ACKs; as text/plain, the response batch alone */
    cr_assert_eq(http_call(&hub, true, "POST", "/v1/hl7v2", "tok-hosp", NULL,
                           body, strlen(body), "text/plain", &r), 0);
    cr_expect_eq(r.status, 202, "%s", r.body);
    cr_expect(strncmp(r.body, "FHS|^~\\&|HUB|HUB|TESTAPP|TESTFAC|", 33) == 0,
              "%s", r.body);
    cr_expect(strstr(r.body, "MSA|AA|BATCH-1") != NULL, "%s", r.body);
    cr_expect(strstr(r.body, "\rBTS|2\rFTS|1\r") != NULL, "%s", r.body);
    http_resp_free(&r);
    cr_expect_eq(count("select count(*) from messages"), 2);
    cr_expect_eq(count("select count(*) from events"), 2);
}

Test(hl7batch, a_count_that_differs_or_a_broken_envelope_takes_nothing,
     .init = start_default, .fini = stop, .timeout = 30)
{
    struct http_resp r;
    char body[8192];

    batch_file(body, sizeof(body), "3", "COUNT");
    cr_assert_eq(http_call(&hub, true, "POST", "/v1/hl7v2", "tok-hosp", NULL,
                           body, strlen(body), NULL, &r), 0);
    cr_expect_eq(r.status, 400, "%s", r.body);
    cr_expect(strstr(r.body, "\"field\":\"BTS-1\"") != NULL, "%s", r.body);
    char want[64];
    snprintf(want, sizeof(want), "\"offset\":%zu",
             (size_t)(strstr(body, "BTS|3") - body));
    cr_expect(strstr(r.body, want) != NULL, "%s (want %s)", r.body, want);
    cr_expect(strstr(r.body, "differs") != NULL, "%s", r.body);
    http_resp_free(&r);
    size_t count_len = strlen(body);
    size_t count_at = (size_t)(strstr(body, "BTS|3") - body);

    /* BHS without BTS: refused at the BHS */
    batch_file(body, sizeof(body), "2", "BROKEN");
    char *bts = strstr(body, "BTS|2\r\n");
    memmove(bts, bts + 7, strlen(bts + 7) + 1);
    cr_assert_eq(http_call(&hub, true, "POST", "/v1/hl7v2", "tok-hosp", NULL,
                           body, strlen(body), NULL, &r), 0);
    cr_expect_eq(r.status, 400, "%s", r.body);
    cr_expect(strstr(r.body, "\"code\":\"syntax\"") != NULL, "%s", r.body);
    cr_expect(strstr(r.body, "\"field\":\"BHS\"") != NULL, "%s", r.body);
    snprintf(want, sizeof(want), "\"offset\":%zu",
             (size_t)(strstr(body, "BHS|") - body));
    cr_expect(strstr(r.body, want) != NULL, "%s (want %s)", r.body, want);
    http_resp_free(&r);
    /* no message of either file is taken, but nothing refused is dropped
     * (issue 3, F4040): each file is kept whole in quarantine, as sent,
     * with its error, and audited as the listener's junk is */
    cr_expect_eq(count("select count(*) from messages where status = "
                       "'accepted'"), 0);
    cr_expect_eq(count("select count(*) from events"), 0);
    char sql[512];
    snprintf(sql, sizeof(sql),
             "select count(*) from messages where status = 'quarantined' "
             "and format = 'hl7v2' and org_id = 'hosp' "
             "and length(raw) = %zu and error->>'field' = 'BTS-1' "
             "and (error->>'offset')::int = %zu "
             "and position('\\x4254537c33'::bytea in raw) = %zu + 1",
             count_len, count_at, count_at);
    cr_expect_eq(count(sql), 1, "%s", sql);
    snprintf(sql, sizeof(sql),
             "select count(*) from messages where status = 'quarantined' "
             "and length(raw) = %zu and error->>'field' = 'BHS' "
             "and error->>'code' = 'syntax' "
             "and position('\\x4648537c'::bytea in raw) = 1",
             strlen(body));
    cr_expect_eq(count(sql), 1, "%s", sql);
    cr_expect_eq(count("select count(*) from audit a join messages m "
                       "on a.object_id = m.id::text "
                       "where a.action = 'message.quarantined' "
                       "and a.object_kind = 'message' and a.actor = 'hosp' "
                       "and m.status = 'quarantined'"), 2);
}

/* MLLP: "all HL7 content (of any kind or type) is framed in a block"
 * (MLLP release 2), but the listener answers each frame with the one ACK
 * whose MSA-2 is the frame's MSH-10, which a batch does not have, and a
 * response batch is nothing an MLLP sender waits for: a batch in a frame
 * is refused AR at its FHS, the reason says where batches go. */
Test(hl7batch, a_batch_in_an_mllp_frame_gets_AR, .init = start_default,
     .fini = stop, .timeout = 30)
{
    struct mllp_client c;
    char body[8192], ack[4096], code[3], ctrl[64];

    batch_file(body, sizeof(body), "2", "MLLPB");
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    cr_assert_eq(mllp_send(&c, body), 0);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AR", "ack: %s", ack);
    cr_expect(strstr(ack, "ERR||FHS^1|200^") != NULL, "%s", ack);
    cr_expect(strstr(ack, "POST /v1/hl7v2") != NULL, "%s", ack);
    mllp_close(&c);
    cr_expect_eq(count("select count(*) from messages where status = "
                       "'accepted'"), 0);
    cr_expect_eq(count("select count(*) from events"), 0);
}

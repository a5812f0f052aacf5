/*
 * ingest_test.c - what the loop thread prepares for the committer, without
 * a database: an accepted HL7 message carries its events, ids, MSH-10 key
 * and an AA; a refused one carries no key (a corrected re-send is judged
 * afresh), a located error and an AE/AR echoing MSH-10. And when a running
 * commit counts as stuck (readiness).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/hub_err.h"
#include "ingest.h"

static const char adt[] =
    "MSH|^~\\&|TESTAPP|TESTFAC|HUB|HUB|20260115093000||ADT^A01^ADT_A01|"
    "UNIT-1|P|2.5.1\r"
    "EVN|A01|20260115093000\r"
    "PID|1||MRN-1^^^TESTFAC^MR||TESTPATIENT^ALPHA||19800101|F\r"
    "PV1|1|I|WARD^101^A\r";

static bool has(struct slice s, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= s.len; i++)
        if (memcmp(s.p + i, needle, n) == 0)
            return true;
    return false;
}

Test(ingest_prepare, accepted_message_has_events_ids_key_and_AA)
{
    struct ingest_job *j = ingest_job_new();
    char code[3];

    ingest_prepare_hl7(j, NULL, NULL, "hosp", adt, sizeof(adt) - 1);
    cr_assert(j->msg.accepted);
    cr_expect_str_eq(j->msg.org_id, "hosp");
    cr_expect_str_eq(j->msg.format, "hl7v2");
    cr_expect(slice_eq(j->msg.key, "UNIT-1"));
    cr_assert_eq(j->msg.n_ev, 1);
    cr_expect_eq(strlen(j->msg.ev_id[0]), STORE_ID_LEN);
    cr_expect_str_eq(j->msg.ev[0].type, "adt.admit");
    cr_expect_eq(strlen(j->msg.sha256), 64);
    cr_expect_eq(j->msg.raw.len, sizeof(adt) - 1);
    cr_expect(j->msg.raw.p != adt, "the job owns a copy of the bytes");
    ingest_job_ack_code(j, code);
    cr_expect_str_eq(code, "AA");
    cr_expect(has(j->msg.reply, "MSA|AA|UNIT-1"));
    ingest_job_free(j);
}

/* Accepted with warnings: still AA, and each warning an ERR of severity W
 * (an A01 without PV1, a birth date after the message) */
Test(ingest_prepare, accepted_message_with_warnings_gets_AA_and_err_w)
{
    static const char msg[] =
        "MSH|^~\\&|TESTAPP|TESTFAC|HUB|HUB|20260115093000||ADT^A01^ADT_A01|"
        "UNIT-W|P|2.5.1\r"
        "PID|1||MRN-1^^^TESTFAC^MR||TESTPATIENT^ALPHA||20270101|F\r";
    struct ingest_job *j = ingest_job_new();
    char code[3];

    ingest_prepare_hl7(j, NULL, NULL, "hosp", msg, sizeof(msg) - 1);
    cr_assert(j->msg.accepted);
    cr_assert_eq(j->msg.n_ev, 1);
    ingest_job_ack_code(j, code);
    cr_expect_str_eq(code, "AA");
    cr_expect(has(j->msg.reply, "MSA|AA|UNIT-W\r"), "%.*s",
              (int)j->msg.reply.len, j->msg.reply.p);
    cr_expect(has(j->msg.reply, "ERR||PID^1^7|102^Data type error^HL70357|W"
                                "||||birth date is after the message time\r"));
    cr_expect(has(j->msg.reply, "ERR||PV1^1|100^Segment sequence error^"
                                "HL70357|W||||required segment PV1 is "
                                "missing\r"));
    cr_expect_not(has(j->msg.reply, "20270101"));
    ingest_job_free(j);
}

Test(ingest_prepare, invalid_message_is_quarantined_without_key_with_AE)
{
    static const char bad[] =
        "MSH|^~\\&|TESTAPP|TESTFAC|HUB|HUB|20260115093000||ADT^A01^ADT_A01|"
        "UNIT-2|P|2.5.1\rEVN|A01|20260115093000\rPV1|1|I\r";
    struct ingest_job *j = ingest_job_new();
    char code[3];

    ingest_prepare_hl7(j, NULL, NULL, "hosp", bad, sizeof(bad) - 1);
    cr_assert_not(j->msg.accepted);
    cr_expect_eq(j->msg.key.len, 0, "no idempotency key when refused");
    cr_expect_eq(j->msg.n_ev, 0);
    ingest_job_ack_code(j, code);
    cr_expect_str_eq(code, "AE");
    cr_expect(has(j->msg.reply, "MSA|AE|UNIT-2"));
    cr_expect(has(j->msg.error_json, "\"field\":\"PID\""), "%.*s",
              (int)j->msg.error_json.len, j->msg.error_json.p);
    /* the error says where, never what: no value of the message */
    cr_expect_not(has(j->msg.error_json, "TESTAPP"));
    ingest_job_free(j);
}

Test(ingest_prepare, unsupported_type_gets_AR)
{
    static const char orm[] =
        "MSH|^~\\&|TESTAPP|TESTFAC|HUB|HUB|20260115093000||ORM^O01|"
        "UNIT-3|P|2.5.1\rPID|1||MRN-1\r";
    struct ingest_job *j = ingest_job_new();
    char code[3];

    ingest_prepare_hl7(j, NULL, NULL, "hosp", orm, sizeof(orm) - 1);
    cr_assert_not(j->msg.accepted);
    ingest_job_ack_code(j, code);
    cr_expect_str_eq(code, "AR");
    ingest_job_free(j);
}

/* F322: table 0008 gives AR to a problem with MSH-9, -11 or -12, the
 * acceptance checks, missing as much as not taken: a header whose fields
 * are shifted by one has no message type, one without MSH-12 no version */
Test(ingest_prepare, missing_type_or_version_gets_AR)
{
    static const char shifted[] =
        "MSH|^~\\&|TESTAPP|TESTFAC||||20260115093000||ADT^A04|UNIT-S|P|2.5\r"
        "PID|1||MRN-1\r";
    static const char noversion[] =
        "MSH|^~\\&|TESTAPP|TESTFAC|HUB|HUB|20260115093000||ADT^A34|UNIT-V\r"
        "PID|1||MRN-1\r";
    static const char notrigger[] =
        "MSH|^~\\&|TESTAPP|TESTFAC|HUB|HUB|20260115093000||ADT|UNIT-E|P|2.5\r"
        "PID|1||MRN-1\r";
    const char *msgs[] = { shifted, noversion, notrigger };
    const char *want[] = { "|101^Required field missing^",
                           "|101^Required field missing^",
                           "|101^Required field missing^" };
    char code[3];

    for (int k = 0; k < 3; k++) {
        struct ingest_job *j = ingest_job_new();
        ingest_prepare_hl7(j, NULL, NULL, "hosp", msgs[k], strlen(msgs[k]));
        cr_assert_not(j->msg.accepted);
        ingest_job_ack_code(j, code);
        cr_expect_str_eq(code, "AR", "message %d", k);
        cr_expect(has(j->msg.reply, want[k]), "%.*s", (int)j->msg.reply.len,
                  j->msg.reply.p);
        ingest_job_free(j);
    }
}

/* F323: a message on one line (its CRs became spaces) is MSH over the
 * field limit; the AR still echoes MSH-10, the version and the swapped
 * applications from the header's own bytes */
Test(ingest_prepare, one_line_message_gets_an_AR_that_echoes_its_header)
{
    char msg[4096];
    int n = snprintf(msg, sizeof(msg),
                     "MSH|^~\\&|TESTAPP|TESTFAC|HUB|HUBFAC|20260115093000||"
                     "ADT^A01|UNIT-L|P|2.3||| EVN|A01|20260115093000| PID|1||"
                     "MRN-1||TESTPATIENT^ALPHA");
    for (int k = 0; k < 300; k++)
        msg[n++] = '|';
    msg[n] = '\0';
    struct ingest_job *j = ingest_job_new();
    char code[3];

    ingest_prepare_hl7(j, NULL, NULL, "hosp", msg, (size_t)n);
    cr_assert_not(j->msg.accepted);
    ingest_job_ack_code(j, code);
    cr_expect_str_eq(code, "AR");
    cr_expect(has(j->msg.reply, "MSH|^~\\&|HUB|HUBFAC|TESTAPP|TESTFAC|"),
              "%.*s", (int)j->msg.reply.len, j->msg.reply.p);
    cr_expect(has(j->msg.reply, "||ACK^A01|"), "%.*s",
              (int)j->msg.reply.len, j->msg.reply.p);
    cr_expect(has(j->msg.reply, "|P|2.3\rMSA|AR|UNIT-L|"), "%.*s",
              (int)j->msg.reply.len, j->msg.reply.p);
    cr_expect(has(j->msg.error_json, "\"code\":\"limit\""));
    ingest_job_free(j);
}

/* HL7 v2 ch. 2: a receiver rejects a processing ID (MSH-11, table 0103) it
 * does not take with AR and ERR 202 "Unsupported processing id" (table
 * 0357). A hospital test system's training admission must not reach
 * production subscribers as a real one: refused whole, no events, no
 * idempotency key (a corrected re-send as P is judged afresh). */
static struct ingest_job *prepare_pid(const char *pids, const char *msg)
{
    struct ingest_job *j = ingest_job_new();
    ingest_prepare_hl7(j, NULL, pids, "hosp", msg, strlen(msg));
    return j;
}

#define ADT_PID(pid)                                                       \
    "MSH|^~\\&|TESTAPP|TESTFAC|HUB|HUB|20260115093000||ADT^A01^ADT_A01|"   \
    "UNIT-T|" pid "|2.5.1\r"                                               \
    "EVN|A01|20260115093000\r"                                             \
    "PID|1||MRN-1^^^TESTFAC^MR||TESTPATIENT^ALPHA||19800101|F\r"           \
    "PV1|1|I|WARD^101^A\r"

Test(ingest_prepare, processing_id_not_taken_gets_AR_202_and_no_events)
{
    static const char msg[] = ADT_PID("T");
    struct ingest_job *j = prepare_pid("P", msg);
    char code[3];

    cr_assert_not(j->msg.accepted);
    cr_expect_eq(j->msg.n_ev, 0, "a refused message creates no event");
    cr_expect_eq(j->msg.key.len, 0, "no idempotency key when refused");
    ingest_job_ack_code(j, code);
    cr_expect_str_eq(code, "AR");
    cr_expect(has(j->msg.reply, "MSA|AR|UNIT-T\r"), "%.*s",
              (int)j->msg.reply.len, j->msg.reply.p);
    cr_expect(has(j->msg.reply, "ERR||MSH^1^11|202^Unsupported processing "
                                "id^HL70357|E"), "%.*s",
              (int)j->msg.reply.len, j->msg.reply.p);
    cr_expect(has(j->msg.error_json, "\"code\":\"unsupported\""), "%.*s",
              (int)j->msg.error_json.len, j->msg.error_json.p);
    cr_expect(has(j->msg.error_json, "\"field\":\"MSH-11\""));
    /* the byte offset of MSH-11.1 in the bytes sent */
    char off[48];
    snprintf(off, sizeof(off), "\"offset\":%zu",
             (size_t)(strstr(msg, "|T|2.5.1") + 1 - msg));
    cr_expect(has(j->msg.error_json, off), "%.*s want %s",
              (int)j->msg.error_json.len, j->msg.error_json.p, off);
    ingest_job_free(j);

    /* D (debugging) too; and a value outside table 0103 */
    j = prepare_pid("P", ADT_PID("D"));
    cr_expect_not(j->msg.accepted);
    cr_expect(has(j->msg.reply, "|202^"));
    ingest_job_free(j);
    j = prepare_pid("P", ADT_PID("PROD"));
    cr_expect_not(j->msg.accepted);
    cr_expect(has(j->msg.reply, "|202^"));
    ingest_job_free(j);
}

Test(ingest_prepare, processing_ids_taken_and_empty_msh_11_counts_as_P)
{
    struct ingest_job *j;
    char code[3];

    /* P with its processing mode (MSH-11.2) still P */
    j = prepare_pid("P", ADT_PID("P^T"));
    cr_expect(j->msg.accepted);
    ingest_job_ack_code(j, code);
    cr_expect_str_eq(code, "AA");
    ingest_job_free(j);
    /* empty: today's behaviour, production */
    j = prepare_pid("P", ADT_PID(""));
    cr_expect(j->msg.accepted);
    cr_expect_eq(j->msg.n_ev, 1);
    ingest_job_free(j);
    /* the dev profile's set takes T and D */
    j = prepare_pid("PTD", ADT_PID("T"));
    cr_expect(j->msg.accepted);
    ingest_job_free(j);
    /* a test hub that takes test traffic alone refuses P and empty */
    j = prepare_pid("TD", ADT_PID("P"));
    cr_expect_not(j->msg.accepted);
    cr_expect(has(j->msg.reply, "|202^"));
    ingest_job_free(j);
    j = prepare_pid("TD", ADT_PID(""));
    cr_expect_not(j->msg.accepted);
    ingest_job_free(j);
    /* NULL takes any (library callers, benches) */
    j = prepare_pid(NULL, ADT_PID("X"));
    cr_expect(j->msg.accepted);
    ingest_job_free(j);
}

/* HL7's acceptance order: message type, version, then processing ID, then
 * the content; so a training message of a type the hub does not take says
 * its type, and a training message with a broken PID says its processing
 * ID (the content of a message not taken is not judged). */
Test(ingest_prepare, processing_id_is_checked_after_type_and_before_content)
{
    struct ingest_job *j = prepare_pid(
        "P", "MSH|^~\\&|TESTAPP|TESTFAC|HUB|HUB|20260115093000||ORM^O01|"
             "UNIT-O|T|2.5.1\rPID|1||MRN-1\r");
    cr_expect_not(j->msg.accepted);
    cr_expect(has(j->msg.reply, "|200^Unsupported message type^"), "%.*s",
              (int)j->msg.reply.len, j->msg.reply.p);
    ingest_job_free(j);
    j = prepare_pid("P", "MSH|^~\\&|TESTAPP|TESTFAC|HUB|HUB|20260115093000|"
                         "|ADT^A01^ADT_A01|UNIT-N|T|2.5.1\r"
                         "EVN|A01|20260115093000\rPV1|1|I\r");
    cr_expect_not(j->msg.accepted);
    cr_expect(has(j->msg.reply, "MSA|AR|UNIT-N"));
    cr_expect(has(j->msg.reply, "|202^Unsupported processing id^"), "%.*s",
              (int)j->msg.reply.len, j->msg.reply.p);
    ingest_job_free(j);
}

Test(ingest_prepare, garbage_still_gets_an_AR_without_MSH)
{
    static const char junk[] = "\x01\x02not hl7 at all";
    struct ingest_job *j = ingest_job_new();
    struct hub_err err;
    char code[3];

    hub_err_set(&err, HUB_ELIMIT, "MLLP", 0, "frame exceeds the size limit");
    ingest_prepare_hl7_refused(j, "hosp", junk, sizeof(junk) - 1, &err);
    cr_assert_not(j->msg.accepted);
    ingest_job_ack_code(j, code);
    cr_expect_str_eq(code, "AR");
    cr_expect(j->msg.reply.len > 0, "an ACK with the hub's defaults");
    cr_expect(has(j->msg.error_json, "\"code\":\"limit\""));
    ingest_job_free(j);
}

Test(ingest_prepare, duplicate_answer_and_code_come_from_the_stored_reply)
{
    struct ingest_job *j = ingest_job_new();
    static const char stored[] = "MSH|^~\\&|HUB|HUB|TESTAPP|TESTFAC|x||ACK|A|P|"
                                 "2.5.1\rMSA|AE|UNIT-1\r";
    char code[3];

    ingest_prepare_hl7(j, NULL, NULL, "hosp", adt, sizeof(adt) - 1);
    j->res.duplicate = true;
    j->res.reply = strdup(stored);
    j->res.reply_len = sizeof(stored) - 1;
    cr_expect(slice_eq(ingest_job_answer(j), stored));
    ingest_job_ack_code(j, code);
    cr_expect_str_eq(code, "AE");
    ingest_job_free(j);             /* frees res.reply too */
}

/* Readiness reads the clock, then each committer's commit stamp, which the
 * committer writes on its own thread: a commit begun between the two reads
 * carries a stamp later than the reader's clock. Its age is not a wrapped
 * now - since (about 584 years), which made the hub answer an ordinary
 * request 503 "database unreachable" (1 in 18,814 in the HTTPS bench). */
Test(ingest_commit_stuck, commit_stamped_after_the_clock_read_is_not_stuck)
{
    uint64_t now = 5000000000u, stuck = 10000000000u;

    cr_assert_not(ingest_commit_stuck(now + 1, now, stuck));
    cr_assert_not(ingest_commit_stuck(now + 250000, now, stuck));
}

Test(ingest_commit_stuck, commit_older_than_the_timeout_is_stuck)
{
    uint64_t stuck = 10000000000u, since = 7000000000u;

    cr_assert(ingest_commit_stuck(since, since + stuck + 1, stuck));
    cr_assert_not(ingest_commit_stuck(since, since + stuck, stuck));
    cr_assert_not(ingest_commit_stuck(since, since + 1000000, stuck));
}

Test(ingest_commit_stuck, no_running_commit_is_never_stuck)
{
    cr_assert_not(ingest_commit_stuck(0, UINT64_MAX, 1));
}

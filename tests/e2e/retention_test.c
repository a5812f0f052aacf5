/*
 * retention_test.c - hubd's own pruner (hub/prune.h): real HL7 v2 admits
 * over MLLP, made 100 days old in SQL, go by themselves within seconds on
 * hubd's timer (prune_interval = 1), in batches of 7 rows, with
 * 'retention.pruned' audit rows by hubd, counts only in its log, and an
 * audit chain that GET /v1/audit/verify still finds whole from the
 * retention anchor. Peer lesson: OpenHIM #1167 (storage grew despite a
 * retention setting).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/hub_err.h"
#include "store.h"
#include "../lib/hubproc.h"

static struct hubproc hub;

static void start(void)
{
    struct store *s;
    char sha[65];

    cr_assert_eq(hub_start(&hub, "prune_interval = 1\n"
                           "prune_batch = 7\n"
                           "retain_messages_days = 30\n"
                           "retain_events_days = 30\n"
                           "retain_deliveries_days = 30\n"
                           "retain_audit_days = 30", false), 0,
                 "hubd did not start");
    cr_assert_eq(store_connect(hub.db_url, &s), HUB_OK);
    cr_assert_eq(store_org_add(s, "test", "ops", "Operator", "operator",
                               SCOPE_ADMIN), HUB_OK);
    store_sha256_hex("tok-ops", 7, sha);
    cr_assert_eq(store_token_add(s, "test", "ops", sha, "ops-t1", SCOPE_ADMIN,
                                 0), HUB_OK);
    /* makes every row 100 days older, the audit chain rehashed from the
     * anchor under the chain lock (hubd's pruner appends meanwhile); the
     * retention's map of messages forgets what it read (rows changed by
     * hand) */
    cr_assert_eq(store_exec(s,
        "CREATE FUNCTION test_age(p_days int) RETURNS bigint "
        "LANGUAGE plpgsql AS $$ DECLARE r record; v_prev text; v_h text; "
        "v_n bigint := 0; BEGIN PERFORM hub_chain_lock(); "
        "UPDATE messages SET received_at = received_at - p_days * "
        "interval '1 day'; DELETE FROM message_chunks; "
        "UPDATE events SET received_at = received_at - p_days * "
        "interval '1 day'; "
        "UPDATE audit SET at = at - p_days * interval '1 day'; "
        "SELECT hash INTO v_prev FROM audit_anchor; "
        "FOR r IN SELECT * FROM audit WHERE seq > (SELECT seq FROM "
        "audit_anchor) ORDER BY seq LOOP "
        "v_h := hub_audit_hash(v_prev, hub_audit_text(r.seq, r.at, r.actor, "
        "r.action, r.object_kind, r.object_id, r.patient_hub_id, "
        "r.detail)); "
        "UPDATE audit SET prev_hash = v_prev, hash = v_h WHERE seq = r.seq; "
        "v_prev := v_h; v_n := v_n + 1; END LOOP; RETURN v_n; END $$"),
                 HUB_OK);
    store_free(s);
}

static void stop(void)
{
    hub_cleanup(&hub);
}

static long wait_for(const char *sql, long want, int ms)
{
    long v = -1;
    for (int waited = 0; waited <= ms; waited += 50) {
        if ((v = hub_sql_long(&hub, sql)) == want)
            break;
        usleep(50 * 1000);
    }
    return v;
}

Test(retention, hubd_prunes_on_its_timer_and_the_chain_still_verifies,
     .init = start, .fini = stop, .timeout = 60)
{
    struct mllp_client c;
    char msg[2048], ack[1024], id[32], code[3], ctrl[64];
    struct http_resp r;

    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    for (int i = 0; i < 20; i++) {
        snprintf(id, sizeof(id), "RET%04d", i);
        hl7_sample(msg, sizeof(msg), id, id);
        cr_assert_eq(mllp_send(&c, msg), 0);
        cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
        ack_fields(ack, code, ctrl, sizeof(ctrl));
        cr_assert_str_eq(code, "AA");
    }
    mllp_close(&c);
    cr_assert_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages"), 20);
    long events = hub_sql_long(&hub, "SELECT count(*) FROM events");
    cr_assert_geq(events, 20);
    /* the runs so far found nothing old: the rows stay */
    cr_assert_eq(wait_for("SELECT (count(*) > 0)::int FROM audit WHERE "
                          "action = 'retention.pruned'", 1, 5000), 1);
    cr_assert_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages"), 20);

    cr_assert_gt(hub_sql_long(&hub, "SELECT test_age(100)"), 20);
    cr_assert_eq(wait_for("SELECT count(*) FROM messages", 0, 15000), 0);
    cr_assert_eq(wait_for("SELECT count(*) FROM events", 0, 15000), 0);
    /* the runs that pruned them (one, or two when the aging committed in
     * the middle of one), by hubd, in their own audit rows */
    cr_assert_eq(wait_for("SELECT sum((detail::jsonb->>'messages')::int) "
                          "FROM audit WHERE action = 'retention.pruned' AND "
                          "actor = 'hubd'", 20, 5000), 20);
    cr_assert_gt(hub_sql_long(&hub, "SELECT seq FROM audit_anchor"), 0);

    cr_assert_eq(http_call(&hub, true, "GET", "/v1/audit/verify", "tok-ops",
                           NULL, NULL, 0, "application/json", &r), 0);
    cr_assert_eq(r.status, 200);
    cr_assert_not_null(strstr(r.body, "\"ok\":true"), "%s", r.body);
    cr_assert_null(strstr(r.body, "\"retention_anchor\":0"), "%s", r.body);
    http_resp_free(&r);

    /* the log says how many, per table, and nothing about anyone */
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "grep -c 'prune.table table=messages days=30 "
             "rows=[1-9]' '%s'", hub_path(&hub, "hubd.log"));
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    char line[32] = "";
    cr_assert_not_null(fgets(line, sizeof(line), p));
    pclose(p);
    cr_assert_geq(strtol(line, NULL, 10), 1, "%s", hub_path(&hub, "hubd.log"));
    snprintf(cmd, sizeof(cmd), "grep 'prune\\.' '%s' | grep -c RET00",
             hub_path(&hub, "hubd.log"));
    p = popen(cmd, "r");
    cr_assert_not_null(p);
    cr_assert_not_null(fgets(line, sizeof(line), p));
    pclose(p);
    cr_assert_eq(strtol(line, NULL, 10), 0);
}

/* Counts the lines of hubd's log that grep's pattern matches. */
static long log_count(const char *pattern)
{
    char cmd[512], line[32] = "";

    snprintf(cmd, sizeof(cmd), "grep -c '%s' '%s'", pattern,
             hub_path(&hub, "hubd.log"));
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    cr_assert_not_null(fgets(line, sizeof(line), p));
    pclose(p);
    return strtol(line, NULL, 10);
}

/* F2160 (F1966): a reader whose cursor is before events hubd's pruner
 * removed is answered 410 with the cursor to resume from, logged with ids
 * only (at info, no store.db_error at warn: F2162) and not audited as a
 * read; resumed there it is served. */
Test(retention, a_feed_cursor_before_what_was_pruned_is_answered_410,
     .init = start, .fini = stop, .timeout = 60)
{
    struct mllp_client c;
    char msg[2048], ack[1024], id[32], code[3], ctrl[64], path[96], want[64];
    struct http_resp r;

    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    for (int i = 0; i < 4; i++) {
        snprintf(id, sizeof(id), "GONE%04d", i);
        hl7_sample(msg, sizeof(msg), id, id);
        cr_assert_eq(mllp_send(&c, msg), 0);
        cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
        ack_fields(ack, code, ctrl, sizeof(ctrl));
        cr_assert_str_eq(code, "AA");
    }
    long mark = hub_sql_long(&hub, "SELECT max(seq) FROM events");
    cr_assert_gt(hub_sql_long(&hub, "SELECT test_age(100)"), 4);
    cr_assert_eq(wait_for("SELECT count(*) FROM events", 0, 15000), 0);
    long reads = hub_sql_long(&hub, "SELECT count(*) FROM audit WHERE "
                              "action = 'feed.read'");

    cr_assert_eq(http_call(&hub, true, "GET", "/v1/events?after=0",
                           "tok-ops", NULL, NULL, 0, "application/json", &r),
                 0);
    cr_assert_eq(r.status, 410, "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"code\":\"cursor_pruned\""), "%s",
                       r.body);
    snprintf(want, sizeof(want), "\"resume\":\"%ld\"", mark);
    cr_assert_not_null(strstr(r.body, want), "%s", r.body);
    http_resp_free(&r);
    cr_assert_eq(hub_sql_long(&hub, "SELECT count(*) FROM audit WHERE "
                              "action = 'feed.read'"), reads);
    snprintf(want, sizeof(want), "feed.pruned org=ops after=0 resume=%ld",
             mark);
    cr_assert_eq(log_count(want), 1);
    /* the partner's condition, no fault of the hub's: no warning (F2162) */
    cr_assert_eq(log_count("warn store.db_error op=feed"), 0);

    snprintf(path, sizeof(path), "/v1/events?after=%ld", mark);
    cr_assert_eq(http_call(&hub, true, "GET", path, "tok-ops", NULL, NULL, 0,
                           "application/json", &r), 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    snprintf(want, sizeof(want), "\"next\":\"%ld\"", mark);
    cr_assert_not_null(strstr(r.body, want), "%s", r.body);
    http_resp_free(&r);
}

/* Sends one A01 over MLLP whose only identifier (the textbook SSN, which
 * the adapter leaves out) links no one, so that its patient is known by
 * the message (F1980): control id ctrl, MSH-7 sent; AA. */
static void admit_known_by_message(const char *ctrl, const char *sent)
{
    struct mllp_client c;
    char msg[1024], ack[4096], code[3], got[64];

    snprintf(msg, sizeof(msg),
             "MSH|^~\\&|TESTAPP|TESTFAC|HUB|HUB|%s||ADT^A01^ADT_A01|%s|P|"
             "2.5.1\r"
             "EVN|A01|%s\r"
             "PID|1||123456789^^^USSSA^SS||Zzcanaryfam^Zzcanarygiv||"
             "19310217|F\r"
             "PV1|1|I|WARD^101^A^TESTFAC\r", sent, ctrl, sent);
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    cr_assert_eq(mllp_send(&c, msg), 0);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
    mllp_close(&c);
    ack_fields(ack, code, got, sizeof(got));
    cr_assert_str_eq(code, "AA", "%s", ack);
}

/* Ages every row 100 days and waits for hubd's pruner to take the
 * messages (quarantined ones too) and events: their control ids are free
 * again, the patients and their identifiers are kept. */
static void prune_all(void)
{
    cr_assert_geq(hub_sql_long(&hub, "SELECT test_age(100)"), 0);
    cr_assert_eq(wait_for("SELECT count(*) FROM messages", 0, 15000), 0);
    cr_assert_eq(wait_for("SELECT count(*) FROM events", 0, 15000), 0);
}

/* The hub id of the patient of the one adt.admit event there is. */
static void admit_patient(char *out, size_t n)
{
    struct store *st;
    char *p = NULL;
    cr_assert_eq(store_connect(hub.db_url, &st), HUB_OK);
    cr_assert_eq(store_query_text(st, "SELECT patient_hub_id FROM events "
                                      "WHERE type = 'adt.admit'", 0, NULL,
                                  &p), HUB_OK);
    cr_assert_not_null(p, "the patient has a hub id");
    snprintf(out, n, "%s", p);
    free(p);
    store_free(st);
}

/* A patient known by its message alone is known by MSH-10 and MSH-7
 * (F2140). The control id is the sender's idempotency key only while its
 * message is kept; the patient's identifiers are kept for good. A sender
 * whose counter restarted sends a used control id at a later time: while
 * the first message is kept, that admit is quarantined (a conflict) and
 * is no one; after the prune, it is another person, another hub id (with
 * MSH-10 alone it was the first patient: F1982). The same message sent
 * again after its prune is the same patient. */
Test(retention, a_control_id_used_again_after_its_prune_is_another_patient,
     .init = start, .fini = stop, .timeout = 90)
{
    static const char persons[] = "SELECT count(DISTINCT hub_id) FROM "
        "patient_identifiers WHERE system LIKE 'urn:hub:org:%:ns:MSH-10'";
    char one[64], two[64], again[64];

    admit_known_by_message("R145-1", "20260115093000-0500");
    admit_patient(one, sizeof(one));
    cr_assert_eq(hub_sql_long(&hub, persons), 1);

    /* the counter restarts while the first message is kept: a conflict */
    admit_known_by_message("R145-1", "20260301080000-0500");
    cr_assert_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                                    "status = 'quarantined'"), 1);
    cr_assert_eq(hub_sql_long(&hub, "SELECT count(*) FROM events"), 1);
    cr_assert_eq(hub_sql_long(&hub, persons), 1);

    /* after the prune: a new message, another patient */
    prune_all();
    admit_known_by_message("R145-1", "20260301080000-0500");
    cr_assert_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                                    "status = 'accepted'"), 1);
    admit_patient(two, sizeof(two));
    cr_assert_str_neq(two, one, "the restarted control id named the first "
                                "patient");
    cr_assert_eq(hub_sql_long(&hub, persons), 2);

    /* the same message again after its prune: the same patient */
    prune_all();
    admit_known_by_message("R145-1", "20260301080000-0500");
    cr_assert_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                                    "status = 'accepted'"), 1);
    admit_patient(again, sizeof(again));
    cr_assert_str_eq(again, two, "a re-send is the same patient");
    cr_assert_eq(hub_sql_long(&hub, persons), 2);
    /* each known by its control id and time as sent */
    cr_assert_eq(hub_sql_long(&hub, "SELECT count(*) FROM "
                                    "patient_identifiers WHERE value IN "
                                    "('R145-1@20260115093000-0500', "
                                    "'R145-1@20260301080000-0500')"), 2);
}

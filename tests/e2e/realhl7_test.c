/*
 * realhl7_test.c - public HL7 v2 ADT samples of tests/data/real/hl7v2
 * (tests/data/real/SOURCES.md says where each comes from) sent to the real
 * hubd over MLLP, as their senders would: each must be answered AA with
 * its own control id, and every event its checked golden expects
 * (<name>.events.json, which unit real_samples::* compares with the
 * adapter) must be what the hub stored, matched by jsonb containment (the
 * hub adds its ids and received time), and nothing more.
 */
#include <criterion/criterion.h>
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/hubproc.h"
#include "../lib/testfile.h"

static struct hubproc hub;

static void start(void)
{
    cr_assert_eq(hub_start(&hub, "dispatch = off", false), 0,
                 "hubd did not start");
}

static void stop(void)
{
    hub_cleanup(&hub);
}

/* s as an SQL string literal's body: quotes doubled, into out */
static void sql_quote(const char *s, char *out, size_t size)
{
    size_t n = 0;
    for (; *s && n + 2 < size; s++) {
        if (*s == '\'')
            out[n++] = '\'';
        out[n++] = *s;
    }
    cr_assert(*s == '\0', "literal too long for the test's buffer");
    out[n] = '\0';
}

/* The round's samples: sent one after another on one connection, then
 * each golden event looked for among what was stored. */
static void send_and_check(const char *const *names, size_t n)
{
    struct mllp_client c;
    char path[256], ack[4096], code[3], ctrl[128];
    long total = 0;

    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "tests/data/real/hl7v2/%s.hl7",
                 names[i]);
        char *msg = testfile_root_read(path);
        cr_assert_not_null(msg, "cannot read %s", path);
        snprintf(path, sizeof(path), "tests/data/real/hl7v2/%s.events.json",
                 names[i]);
        char *golden = testfile_root_read(path);
        cr_assert_not_null(golden, "cannot read %s", path);
        cJSON *want = cJSON_Parse(golden);
        cr_assert(cJSON_IsArray(want), "%s", path);
        const cJSON *first = cJSON_GetArrayItem(want, 0);
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(first, "source"), "message_id"));
        cr_assert_not_null(id, "%s: no source.message_id", path);

        cr_assert_eq(mllp_send(&c, msg), 0);
        cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0, "%s",
                     names[i]);
        ack_fields(ack, code, ctrl, sizeof(ctrl));
        cr_expect_str_eq(code, "AA", "%s: %s", names[i], ack);
        cr_expect_str_eq(ctrl, id, "%s: %s", names[i], ack);

        const cJSON *ev;
        cJSON_ArrayForEach(ev, want) {
            char *j = cJSON_PrintUnformatted(ev), q[16384], sql[17100];
            sql_quote(j, q, sizeof(q));
            snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE "
                     "body::jsonb @> '%s'::jsonb", q);
            cr_expect_eq(hub_sql_long(&hub, sql), 1,
                         "%s: stored events lack the golden's %s", names[i],
                         j);
            /* containment takes a list as a set: the number of
             * identifiers too (a duplicate is one too many, F1700) */
            int nid = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(ev, "patient"),
                "identifiers"));
            snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE "
                     "body::jsonb @> '%s'::jsonb AND coalesce(jsonb_array_"
                     "length(body::jsonb->'patient'->'identifiers'), 0) = %d",
                     q, nid);
            cr_expect_eq(hub_sql_long(&hub, sql), 1,
                         "%s: not %d identifiers stored", names[i], nid);
            free(j);
            total++;
        }
        cJSON_Delete(want);
        free(golden);
        free(msg);
    }
    mllp_close(&c);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events"), total);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "status = 'quarantined'"), 0);
}

/* Round 125 (SOURCES.md F1700-F1719): Alder Hey's MEDITECH A31 and A05
 * (MSH-11 D, the NHS number in PID-19, ROL), Cerner's A03 whose PID-2
 * repeats a PID-3 MRN with its own CX-6 (F1700), Cerner's Irish A01 with
 * no MSH-11 and `""` nulls, a Finnish A39 (8859/1, PID-8 `1`), a Saudi
 * TrakCare A01 (MSH-18 `UTF-8`, Arabic names, order segments after AL1). */
Test(realhl7, round_125_samples_are_acked_and_stored_as_checked,
     .init = start, .fini = stop, .timeout = 60)
{
    static const char *const names[] = {
        "r125-alderhey_meditech_a31_v24_nhs_number_in_pid19",
        "r125-alderhey_meditech_a05_v24_preadmit_rol",
        "r125-hl7apy_issue50_cerner_msk_a03_v23_pid2_cx6",
        "r125-nhapi_issue72_cerner_v500_ie_a01_v23_no_msh11",
        "r125-nhapi_issue131_pshp_a39_v23_sex_1",
        "r125-hapi_issue124_kings_trakcare_a01_v251_orders",
    };
    send_and_check(names, sizeof(names) / sizeof(names[0]));
}

/* Round 135 (SOURCES.md F1920-F1939): an IBM load generator's v2.3 A02
 * (MSH-11 T, a Canadian address, a placeholder national number in PID-19,
 * PV2 text with \T\ and \R\, LF ends), ProSolv's v2.6 A01 to IBM with
 * every PV1 and PV2 field filled (EVN-1 A04, PV2-22 Y), CommonWell's PIX
 * feed A01 and A40 (an OID as CX-4's namespace, a doctor's name in
 * PV1-7's id, the visit number one field late). */
Test(realhl7, round_135_samples_are_acked_and_stored_as_checked,
     .init = start, .fini = stop, .timeout = 60)
{
    static const char *const names[] = {
        "r135-lfh_whi_loadgen_a02_v23_training_pv2_escapes",
        "r135-lfh_prosolv_sentara_a01_v26_evn_a04_every_pv1_field",
        "r135-commonwell_pix_a01_v25_oid_namespace_doctor_as_text",
        "r135-commonwell_pix_a40_v25_mrg_oid_namespace",
    };
    send_and_check(names, sizeof(names) / sizeof(names[0]));
}

/*
 * dict_reload_test.c - the data dictionary is data (DESIGN.md section 4):
 * an edit to it takes effect on SIGHUP, without a restart, for every
 * message read after the signal; a dictionary that does not load keeps the
 * one in use. Observed through an ADT's DG1 Z59.0, whose domain comes from
 * schemas/dict/zcodes.json.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/hubproc.h"
#include "../lib/testdb.h"

static struct hubproc hub;
static char dict_dir[64];

/* hubd on a copy of schemas/dict whose zcodes.json lacks Z59.0's row (the
 * code then falls in the Z55-Z65 range: sdoh-category-unspecified) */
static void start(void)
{
    char cmd[1024], tmpl[] = "/tmp/hub-dict-XXXXXX";

    cr_assert_not_null(mkdtemp(tmpl));
    snprintf(dict_dir, sizeof(dict_dir), "%s/dict", tmpl);
    snprintf(cmd, sizeof(cmd), "cp -r '%s/schemas/dict' '%s' && "
             "cp '%s/zcodes.json' '%s/zcodes.json.full' && "
             "python3 -c 'import json,sys; p=sys.argv[1]; d=json.load(open(p));"
             " d[\"codes\"]=[c for c in d[\"codes\"] if c.get(\"code\")!="
             "\"Z59.0\"]; json.dump(d,open(p,\"w\"))' '%s/zcodes.json'",
             testdb_root(), dict_dir, dict_dir, dict_dir, dict_dir);
    cr_assert_eq(system(cmd), 0, "cannot make the dictionary copy");
    setenv("HUB_DICT_DIR", dict_dir, 1);
    cr_assert_eq(hub_start(&hub, NULL, false), 0, "hubd did not start");
    unsetenv("HUB_DICT_DIR");
}

static void stop(void)
{
    char cmd[128];
    hub_cleanup(&hub);
    snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(strlen(dict_dir) - 5),
             dict_dir);
    cr_expect_eq(system(cmd), 0);
}

static void wait_log(const char *what)
{
    cr_assert(hub_wait_log(&hub, what, 1, 10000), "no %s in the log", what);
}

/* An admit with DG1 Z59.0 over MLLP (AA), then the domain its event's
 * diagnosis was given. */
static long send_admit(const char *ctrl, const char *domain)
{
    struct mllp_client c;
    char msg[2400], ack[4096], code[3], got[64], sql[256];

    hl7_sample(msg, sizeof(msg) - 64, ctrl, "MRN-D");
    size_t n = strlen(msg);
    snprintf(msg + n, sizeof(msg) - n, "%s",
             "DG1|1||Z59.0^Homelessness^I10||20260115\r");
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    cr_assert_eq(mllp_send(&c, msg), 0);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
    ack_fields(ack, code, got, sizeof(got));
    cr_assert_str_eq(code, "AA", "%s", ack);
    mllp_close(&c);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM events e JOIN messages "
             "m ON m.id = e.message_id WHERE m.idem_key = '%s' AND "
             "e.body::jsonb #>> '{encounter,diagnoses,0,domain}' = '%s'",
             ctrl, domain);
    return hub_sql_long(&hub, sql);
}

Test(dict_reload, sighup_applies_an_edited_dictionary_to_later_messages,
     .init = start, .fini = stop, .timeout = 60)
{
    char cmd[512];

    cr_expect_eq(send_admit("DICT-1", "sdoh-category-unspecified"), 1);
    /* the row back, then the signal */
    snprintf(cmd, sizeof(cmd), "cp '%s/zcodes.json.full' '%s/zcodes.json'",
             dict_dir, dict_dir);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(kill(hub.pid, SIGHUP), 0);
    wait_log("hubd.dict_reloaded");
    cr_expect_eq(send_admit("DICT-2", "homelessness"), 1);
    /* the event stored before keeps what it was given */
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events WHERE "
                              "body::jsonb #>> '{encounter,diagnoses,0,"
                              "domain}' = 'sdoh-category-unspecified'"), 1);
}

Test(dict_reload, a_dictionary_that_does_not_load_keeps_the_one_in_use,
     .init = start, .fini = stop, .timeout = 60)
{
    char path[128];

    snprintf(path, sizeof(path), "%s/zcodes.json", dict_dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("{\"system\": \"http://hl7.org/fhir/sid/icd-10-cm\", \"codes\": [",
          f);                           /* cut off mid-write */
    fclose(f);
    cr_assert_eq(kill(hub.pid, SIGHUP), 0);
    wait_log("hubd.dict_reload_failed");
    cr_expect_eq(hub_log_count(&hub, "hubd.dict_reloaded"), 0);
    cr_expect_geq(hub_log_count(&hub, "zcodes.json"), 1, "the file is named");
    cr_expect_eq(send_admit("DICT-3", "sdoh-category-unspecified"), 1,
                 "the dictionary in use stays");
    cr_expect(hub_wait_status(&hub, "/readyz", 200, 5000));
}

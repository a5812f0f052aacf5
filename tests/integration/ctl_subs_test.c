/*
 * ctl_subs_test.c - hubctl sub and deliveries commands against a fresh
 * database: add (flags and JSON), refusals with the field, list without
 * secrets, pause/resume/delete audited, deliveries list and replay exit
 * codes. Runs $HUB_BUILD/hubctl (default build/hubctl).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../lib/storetest.h"
#include "../lib/testctl.h"
#include "../lib/testdb.h"
#include "common/hub_err.h"
#include "store.h"

static char *url;

static void setup(void)
{
    struct store *s;

    url = testdb_create();
    cr_assert_not_null(url, "cannot create a test database");
    setenv("DATABASE_URL", url, 1);
    cr_assert_eq(store_connect(url, &s), HUB_OK);
    cr_assert_eq(store_org_add(s, "test", "cbo", "CBO", "cbo",
                               SCOPE_SUBSCRIBE), HUB_OK);
    store_free(s);
}

static void teardown(void)
{
    testdb_drop(url);
    url = NULL;
}

TestSuite(ctl_subs, .init = setup, .fini = teardown, .timeout = 60);

/* run "hubctl ARGS"; exit status, stdout (and stderr) in out */
static int hubctl(char *out, size_t size, const char *args)
{
    return testctl_run(NULL, args, "&1", out, size);
}

static long qlong(const char *sql)
{
    struct store *s;
    char *v = NULL;
    cr_assert_eq(store_connect(url, &s), HUB_OK);
    cr_assert_eq(store_query_text(s, sql, 0, NULL, &v), HUB_OK);
    long n = v ? strtol(v, NULL, 10) : -1;
    free(v);
    store_free(s);
    return n;
}

Test(ctl_subs, add_list_pause_resume_delete)
{
    char out[8192], args[256], id[64];

    cr_assert_eq(hubctl(out, sizeof(out), "sub add --org cbo --url "
                        "http://cbo.example/h --topics 'adt.*,referral.*' "
                        "--counties Kings,Queens --domains food-insecurity"),
                 0, "%s", out);
    cr_assert_not_null(strstr(out, "whsec_"), "%s", out);
    cr_assert_not_null(strstr(out, "\"Queens\""), "%s", out);
    storetest_json_id(out, id);

    cr_assert_eq(hubctl(out, sizeof(out), "sub list"), 0);
    cr_assert_not_null(strstr(out, id), "%s", out);
    cr_assert_null(strstr(out, "whsec_"), "%s", out);
    cr_assert_not_null(strstr(out, "\tstatus\thealth\t"), "%s", out);
    cr_assert_not_null(strstr(out, "\tactive\thealthy\t"), "%s", out);

    /* get shows what each change did (issue 4: create, list, get,
     * update, pause, resume and delete) */
    char get[128];
    snprintf(get, sizeof(get), "sub get %s", id);
    cr_assert_eq(hubctl(out, sizeof(out), get), 0, "%s", out);
    cr_assert_not_null(strstr(out, "\"status\": \"active\""), "%s", out);
    cr_assert_not_null(strstr(out, "\"topics\": [\"adt.*\", \"referral.*\"]"),
                       "%s", out);
    snprintf(args, sizeof(args), "sub pause %s", id);
    cr_assert_eq(hubctl(out, sizeof(out), args), 0, "%s", out);
    cr_assert_eq(hubctl(out, sizeof(out), get), 0, "%s", out);
    cr_assert_not_null(strstr(out, "\"status\": \"paused\""), "%s", out);
    snprintf(args, sizeof(args), "sub resume %s", id);
    cr_assert_eq(hubctl(out, sizeof(out), args), 0, "%s", out);
    cr_assert_eq(hubctl(out, sizeof(out), get), 0, "%s", out);
    cr_assert_not_null(strstr(out, "\"status\": \"active\""), "%s", out);
    snprintf(args, sizeof(args), "sub update %s --json "
             "'{\"topics\":[\"*\"]}'", id);
    cr_assert_eq(hubctl(out, sizeof(out), args), 0, "%s", out);
    cr_assert_eq(hubctl(out, sizeof(out), get), 0, "%s", out);
    cr_assert_not_null(strstr(out, "\"topics\": [\"*\"]"), "%s", out);
    cr_assert_not_null(strstr(out, "\"Queens\""), "an update keeps the "
                       "members it does not name: %s", out);
    cr_assert_eq(hubctl(out, sizeof(out), "sub get sub_00000000000000000000"
                        "000000000000"), 1, "%s", out);
    /* one organization's list; one that does not exist (a typo) is no
     * empty table, read as "it has none" (F3125) */
    cr_assert_eq(hubctl(out, sizeof(out), "sub list --org cbo"), 0, "%s",
                 out);
    cr_assert_not_null(strstr(out, id), "%s", out);
    cr_assert_eq(hubctl(out, sizeof(out), "sub list --org cbbo"), 1, "%s",
                 out);
    cr_assert_not_null(strstr(out, "no organization has that id"), "%s", out);
    snprintf(args, sizeof(args), "sub delete %s", id);
    cr_assert_eq(hubctl(out, sizeof(out), args), 0, "%s", out);
    cr_assert_eq(hubctl(out, sizeof(out), args), 1, "deleted twice");
    cr_assert_eq(qlong("SELECT count(*) FROM audit WHERE actor = 'hubctl' "
                       "AND action LIKE 'subscription.%'"), 5);
}

/* --json is the whole subscription: an option beside it (--topics,
 * --paused) was ignored and the subscription made without it (F3132). It
 * is a usage error, and nothing is made. */
Test(ctl_subs, an_option_beside_json_is_a_usage_error)
{
    char out[4096];
    const char *doc = "--json '{\"mode\":\"pull\",\"topics\":[\"*\"]}'";
    char args[256];

    snprintf(args, sizeof(args), "sub add --org cbo %s --paused", doc);
    cr_assert_eq(hubctl(out, sizeof(out), args), 2, "%s", out);
    cr_assert_not_null(strstr(out, "give --paused in it"), "%s", out);
    snprintf(args, sizeof(args), "sub add --org cbo %s --topics 'adt.*'",
             doc);
    cr_assert_eq(hubctl(out, sizeof(out), args), 2, "%s", out);
    cr_assert_not_null(strstr(out, "give --topics in it"), "%s", out);
    cr_assert_eq(qlong("SELECT count(*) FROM subscriptions"), 0);
    snprintf(args, sizeof(args), "sub add --org cbo %s --idempotency-key k1",
             doc);
    cr_assert_eq(hubctl(out, sizeof(out), args), 0, "%s", out);
    cr_assert_eq(qlong("SELECT count(*) FROM subscriptions"), 1);
}

Test(ctl_subs, refuses_invalid_subscriptions_naming_the_field)
{
    char out[4096];

    cr_assert_eq(hubctl(out, sizeof(out), "sub add --org cbo --topics 'adt.*'"),
                 1);
    cr_assert_not_null(strstr(out, "url: webhook subscription has no url"),
                       "%s", out);
    cr_assert_eq(hubctl(out, sizeof(out), "sub add --org cbo --url "
                        "ftp://x.example/ --topics '*'"), 1);
    cr_assert_not_null(strstr(out, "scheme"), "%s", out);
    cr_assert_eq(hubctl(out, sizeof(out), "sub add --org cbo --json "
                        "'{\"url\":\"http://x.example/\",\"topics\":[\"*\"],"
                        "\"secrets\":[\"whsec_AAAA\"]}'"), 1);
    cr_assert_not_null(strstr(out, "secrets[0]"), "%s", out);
    cr_assert_eq(hubctl(out, sizeof(out), "sub add --org nobody --url "
                        "http://x.example/ --topics '*'"), 1,
                 "an unknown org is refused");
    cr_assert_not_null(strstr(out, "org: no such organization"), "%s", out);
    cr_assert_eq(hubctl(out, sizeof(out), "sub add --url http://x/"), 2,
                 "usage");
    cr_assert_eq(qlong("SELECT count(*) FROM subscriptions"), 0);
}

/* a value of 256 bytes or more in a list option was left out, exit 0:
 * the subscription made without that topic, or with a filter of the
 * values left (F4162); now the validation names it, as the API's */
Test(ctl_subs, a_long_value_in_a_list_option_is_refused_not_left_out)
{
    char out[4096], args[1024], big[301];

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    snprintf(args, sizeof(args), "sub add --org cbo --pull --topics "
             "'adt.*,%s'", big);
    cr_assert_eq(hubctl(out, sizeof(out), args), 1, "%s", out);
    cr_assert_not_null(strstr(out, "topics[1]"), "%s", out);
    snprintf(args, sizeof(args), "sub add --org cbo --pull --topics 'adt.*' "
             "--orgs 'hosp,%s'", big);
    cr_assert_eq(hubctl(out, sizeof(out), args), 1, "%s", out);
    cr_assert_not_null(strstr(out, "filters.orgs[1]"), "%s", out);
    cr_assert_eq(qlong("SELECT count(*) FROM subscriptions"), 0);
}

/* --org '' names no organization: a usage error, as quarantine list's
 * (README, "hubctl"), not a look-up of an id nobody has (F4163) */
Test(ctl_subs, sub_list_of_an_empty_org_is_a_usage_error)
{
    char out[4096];

    cr_assert_eq(hubctl(out, sizeof(out), "sub list --org ''"), 2, "%s", out);
    cr_assert_not_null(strstr(out, "usage: hubctl sub list"), "%s", out);
}

Test(ctl_subs, deliveries_list_and_replay_exit_codes)
{
    char out[4096];

    cr_assert_eq(hubctl(out, sizeof(out), "deliveries list --status dead"), 0,
                 "%s", out);
    cr_assert_not_null(strstr(out, "status"), "%s", out);
    cr_assert_eq(hubctl(out, sizeof(out), "deliveries list --status nope"), 1);
    /* a mistyped subscription is refused, not listed as having none */
    cr_assert_eq(hubctl(out, sizeof(out), "deliveries list --subscription "
                        "sub_XYZ"), 1, "%s", out);
    cr_assert_not_null(strstr(out, "subscription"), "%s", out);
    /* a well-formed id no subscription has listed nothing, exit 0: read
     * as "it has no deliveries" (F3129) */
    cr_assert_eq(hubctl(out, sizeof(out), "deliveries list --subscription "
                        "sub_0123456789abcdef0123456789abcdef"), 1, "%s",
                 out);
    cr_assert_not_null(strstr(out, "no subscription has that id"), "%s", out);
    cr_assert_eq(hubctl(out, sizeof(out), "deliveries replay dlv_42"), 1);
    cr_assert_eq(hubctl(out, sizeof(out), "deliveries replay-range "
                        "--subscription sub_00 --from 2000-01-01 "
                        "--to 2001-01-01 --max 0"), 2);
}

/* A replay's refusal is named as one (not "subscription refused"), and a
 * replay into a paused subscription says it waits and how to let it go. */
Test(ctl_subs, replay_says_when_it_waits_for_a_paused_subscription)
{
    char out[8192], args[512], id[64];
    struct store *s;

    cr_assert_eq(hubctl(out, sizeof(out), "sub add --org cbo --url "
                        "http://cbo.example/h --topics 'adt.*'"), 0, "%s", out);
    storetest_json_id(out, id);
    cr_assert_eq(store_connect(url, &s), HUB_OK);
    cr_assert_eq(store_org_add(s, "test", "hosp", "Hospital", "hospital",
                               SCOPE_INGEST), HUB_OK);
    storetest_ingest(s, "hosp", "hl7v2", "k1", "adt.admit",
                     "{\"type\":\"adt.admit\",\"patient\":{\"identifiers\":"
                     "[{\"system\":\"MRN\",\"value\":\"1\"}]}}");
    store_free(s);
    /* as the dispatcher leaves a dead letter */
    cr_assert_eq(qlong("WITH d AS (UPDATE deliveries SET status = 'dead' "
                       "RETURNING id), q AS (DELETE FROM delivery_queue) "
                       "SELECT count(*) FROM d"), 1);
    long dlv = qlong("SELECT id FROM deliveries");

    snprintf(args, sizeof(args), "sub pause %s", id);
    cr_assert_eq(hubctl(out, sizeof(out), args), 0, "%s", out);
    snprintf(args, sizeof(args), "deliveries replay dlv_%ld", dlv);
    cr_assert_eq(hubctl(out, sizeof(out), args), 0, "%s", out);
    cr_assert_not_null(strstr(out, "is paused: the replay waits"), "%s", out);
    cr_assert_not_null(strstr(out, "hubctl sub resume sub_"), "%s", out);

    /* of a deleted subscription, a replay is never sent: no resume hint */
    cr_assert_eq(qlong("WITH d AS (UPDATE deliveries SET status = 'dead' "
                       "RETURNING id), q AS (DELETE FROM delivery_queue) "
                       "SELECT count(*) FROM d"), 1);
    snprintf(args, sizeof(args), "sub delete %s", id);
    cr_assert_eq(hubctl(out, sizeof(out), args), 0, "%s", out);
    snprintf(args, sizeof(args), "deliveries replay dlv_%ld", dlv);
    cr_assert_eq(hubctl(out, sizeof(out), args), 0, "%s", out);
    cr_assert_not_null(strstr(out, "is deleted: the replay will not be sent"),
                       "%s", out);

    snprintf(args, sizeof(args), "deliveries replay-range --subscription %s "
             "--from yesterday-ish --to 2100-01-01", id);
    cr_assert_eq(hubctl(out, sizeof(out), args), 1, "%s", out);
    cr_assert_not_null(strstr(out, "replay refused: from:"), "%s", out);
    cr_assert_null(strstr(out, "subscription refused"), "%s", out);
    cr_assert_null(strstr(out, "store.db_error"), "hubctl's words only: %s",
                   out);
}

/* A range replay without --status takes the dead letters alone; its
 * answer said "0 deliveries replayed" whatever it looked for, which an
 * operator read as "nothing in that range" (F445). It names the status. */
Test(ctl_subs, a_range_replay_says_which_deliveries_it_took)
{
    char out[4096], args[512], id[64];
    struct store *s;

    cr_assert_eq(hubctl(out, sizeof(out), "sub add --org cbo --url "
                        "http://cbo.example/h --topics 'adt.*'"), 0, "%s", out);
    storetest_json_id(out, id);
    cr_assert_eq(store_connect(url, &s), HUB_OK);
    cr_assert_eq(store_org_add(s, "test", "hosp", "Hospital", "hospital",
                               SCOPE_INGEST), HUB_OK);
    storetest_ingest(s, "hosp", "hl7v2", "k1", "adt.admit",
                     "{\"type\":\"adt.admit\",\"patient\":{\"identifiers\":"
                     "[{\"system\":\"MRN\",\"value\":\"1\"}]}}");
    store_free(s);
    cr_assert_eq(qlong("WITH d AS (UPDATE deliveries SET status = 'dead' "
                       "RETURNING id), q AS (DELETE FROM delivery_queue) "
                       "SELECT count(*) FROM d"), 1);
    snprintf(args, sizeof(args), "deliveries replay-range --subscription %s "
             "--from 2000-01-01 --to 2100-01-01 --status delivered", id);
    cr_assert_eq(hubctl(out, sizeof(out), args), 0, "%s", out);
    cr_expect_not_null(strstr(out, "0 deliveries replayed (status "
                                   "delivered)"), "%s", out);
    snprintf(args, sizeof(args), "deliveries replay-range --subscription %s "
             "--from 2000-01-01 --to 2100-01-01", id);
    cr_assert_eq(hubctl(out, sizeof(out), args), 0, "%s", out);
    cr_expect_not_null(strstr(out, "1 deliveries replayed (status dead)"),
                       "%s", out);
}

/* hubctl deliveries list said how often a failed delivery was tried, not
 * when it will be tried next: on-call had to ask for --json. The last
 * column says it for an open delivery, "-" for a finished one. */
Test(ctl_subs, deliveries_list_says_when_a_failed_one_is_tried_next)
{
    char out[8192];
    struct store *s;

    cr_assert_eq(hubctl(out, sizeof(out), "sub add --org cbo --url "
                        "http://cbo.example/h --topics 'adt.*'"), 0, "%s", out);
    cr_assert_eq(store_connect(url, &s), HUB_OK);
    cr_assert_eq(store_org_add(s, "test", "hosp", "Hospital", "hospital",
                               SCOPE_INGEST), HUB_OK);
    storetest_ingest(s, "hosp", "hl7v2", "k1", "adt.admit",
                     "{\"type\":\"adt.admit\",\"patient\":{\"identifiers\":"
                     "[{\"system\":\"MRN\",\"value\":\"1\"}]}}");
    storetest_ingest(s, "hosp", "hl7v2", "k2", "adt.admit",
                     "{\"type\":\"adt.admit\",\"patient\":{\"identifiers\":"
                     "[{\"system\":\"MRN\",\"value\":\"2\"}]}}");
    store_free(s);
    /* one in a back-off until 2031, the other delivered */
    cr_assert_eq(qlong("WITH d AS (UPDATE deliveries SET status = 'failed', "
                       "attempts = 3, next_attempt_at = "
                       "'2031-01-02 03:04:05+00' WHERE id = (SELECT min(id) "
                       "FROM deliveries) RETURNING id) SELECT count(*) FROM d"),
                 1);
    cr_assert_eq(qlong("WITH d AS (UPDATE deliveries SET last_status = 200, "
                       "delivered_at = now() WHERE id = (SELECT "
                       "max(id) FROM deliveries) RETURNING id), q AS (DELETE "
                       "FROM delivery_queue WHERE delivery_id IN (SELECT id "
                       "FROM d)) SELECT count(*) FROM d"), 1);
    cr_assert_eq(hubctl(out, sizeof(out), "deliveries list"), 0, "%s", out);
    cr_assert_not_null(strstr(out, "\tnext_attempt\n"), "%s", out);
    cr_assert_not_null(strstr(out, "\tfailed\t"), "%s", out);
    cr_assert_not_null(strstr(out, "\t2031-01-02T03:04:05+00:00\n"), "%s",
                       out);
    cr_assert_not_null(strstr(out, "\tdelivered\t"), "%s", out);
    const char *dl = strstr(out, "\tdelivered\t");
    const char *eol = strchr(dl, '\n');
    cr_assert(eol - dl >= 2 && eol[-1] == '-' && eol[-2] == '\t',
              "a finished delivery has no next attempt: %s", out);
}

/* hubctl sub test: a hub.test delivery queued for that subscription alone
 * (held while it is paused, with the hint), none for a pull one. */
Test(ctl_subs, sub_test_queues_one_test_delivery)
{
    char out[8192], args[256], id[64], pull[64];

    cr_assert_eq(hubctl(out, sizeof(out), "sub add --org cbo --url "
                        "http://cbo.example/h --topics 'referral.*'"), 0,
                 "%s", out);
    storetest_json_id(out, id);
    snprintf(args, sizeof(args), "sub test %s", id);
    cr_assert_eq(hubctl(out, sizeof(out), args), 0, "%s", out);
    cr_assert_not_null(strstr(out, "\"delivery\": \"dlv_"), "%s", out);
    cr_expect_eq(qlong("SELECT count(*) FROM deliveries d JOIN events e ON "
                       "e.seq = d.event_seq JOIN delivery_queue q ON "
                       "q.delivery_id = d.id WHERE e.type = 'hub.test' AND "
                       "q.due_at < 'infinity' AND d.patient_hub_id IS NULL"),
                 1);
    snprintf(args, sizeof(args), "sub pause %s", id);
    cr_assert_eq(hubctl(out, sizeof(out), args), 0, "%s", out);
    snprintf(args, sizeof(args), "sub test %s", id);
    cr_assert_eq(hubctl(out, sizeof(out), args), 0, "%s", out);
    cr_assert_not_null(strstr(out, "the test waits until 'hubctl sub "
                              "resume"), "%s", out);
    cr_expect_eq(qlong("SELECT count(*) FROM delivery_queue WHERE due_at = "
                       "'infinity'"), 2, "the first is held by the pause too");
    cr_expect_eq(qlong("SELECT count(*) FROM audit WHERE action = "
                       "'subscription.tested' AND actor = 'hubctl'"), 2);
    cr_assert_eq(hubctl(out, sizeof(out), "sub add --org cbo --pull "
                        "--topics 'adt.*'"), 0, "%s", out);
    storetest_json_id(out, pull);
    snprintf(args, sizeof(args), "sub test %s", pull);
    cr_assert_eq(hubctl(out, sizeof(out), args), 1, "%s", out);
    cr_assert_not_null(strstr(out, "no endpoint to test"), "%s", out);
    /* nor deliveries to hold: pause and resume refused alike (F1965) */
    snprintf(args, sizeof(args), "sub pause %s", pull);
    cr_assert_eq(hubctl(out, sizeof(out), args), 1, "%s", out);
    cr_assert_not_null(strstr(out, "has nothing to hold"), "%s", out);
    cr_assert_not_null(strstr(out, "stops its routing"), "%s", out);
    snprintf(args, sizeof(args), "sub resume %s", pull);
    cr_assert_eq(hubctl(out, sizeof(out), args), 1, "%s", out);
    cr_assert_not_null(strstr(out, "has nothing to resume"), "%s", out);
    snprintf(args, sizeof(args), "SELECT count(*) FROM subscriptions WHERE "
             "id = '%s' AND status = 'active'", pull);
    cr_expect_eq(qlong(args), 1);
    cr_assert_eq(hubctl(out, sizeof(out), "sub test sub_00000000000000000000"
                        "000000000000"), 1, "%s", out);
}

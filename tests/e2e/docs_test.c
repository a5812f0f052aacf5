/*
 * docs_test.c - POST /v1/fhir, /v1/ccda and /v1/csv/{kind} against the real
 * hubd: every corpus kind becomes events on the durable path (readable in
 * the pull feed), a re-send gets the same answer and no new event, refused
 * input is answered 4xx and kept in quarantine only, a FHIR batch is
 * accepted in part, and a subscription to screening.positive gets the event
 * at a loopback webhook receiver.
 */
#include <criterion/criterion.h>
#include <event2/thread.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cjson/cJSON.h>

#include "common/hub_err.h"
#include "store.h"
#include "../lib/canary.h"
#include "../lib/hubproc.h"
#include "../lib/testdb.h"
#include "../lib/webhook_rx.h"

#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

static struct hubproc hub;

static void start_with(const char *extra, bool proxied)
{
    char conf[1024];

    evthread_use_pthreads();
    setenv("HUB_TIME_SCALE", "1000", 1);
    setenv("HUB_DISPATCH_POLL_MS", "50", 1);
    snprintf(conf, sizeof(conf), "dict_dir = %s/schemas/dict\n%s",
             testdb_root(), extra ? extra : "");
    cr_assert_eq(hub_start(&hub, conf, proxied), 0, "hubd did not start");
    /* the committers connect after the ports are written */
    cr_assert(hub_wait_status(&hub, "/readyz", 200, 15000), "hubd not ready");
}

static void start(void)
{
    start_with(NULL, false);
}

static void start_proxied(void)
{
    /* credentials stay cached while the database is away, so that the
     * answer comes from the ingest path, not from authentication */
    start_with("retry_after = 3\nauth_cache_ttl = 300\n", true);
}

static void start_small_body(void)
{
    start_with("max_body = 4K\n", false);
}

static void stop(void)
{
    hub_cleanup(&hub);
}

/* a file of tests/data, malloc'd and NUL-terminated */
static char *data_file(const char *rel, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/tests/data/%s", testdb_root(), rel);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    cr_assert_not_null(p);
    cr_assert_eq(fread(p, 1, (size_t)n, f), (size_t)n);
    p[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return p;
}

static long post(const char *path, const char *ctype, const char *idem,
                 const char *body, size_t len, struct http_resp *r)
{
    char ct[256], ik[300];
    const char *hd[3] = { NULL, NULL, NULL };
    size_t n = 0;

    if (ctype) {
        snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
        hd[n++] = ct;
    }
    if (idem) {
        snprintf(ik, sizeof(ik), "Idempotency-Key: %s", idem);
        hd[n++] = ik;
    }
    cr_assert_eq(http_call_h(&hub, true, "POST", path, "tok-hosp", hd, body,
                             len, r), 0, "POST %s", path);
    return r->status;
}

static long post_file(const char *path, const char *ctype, const char *rel,
                      struct http_resp *r)
{
    size_t len;
    char *p = data_file(rel, &len);
    long st = post(path, ctype, NULL, p, len, r);
    free(p);
    return st;
}

static cJSON *parse(const struct http_resp *r)
{
    cJSON *j = cJSON_Parse(r->body);
    cr_assert_not_null(j, "not JSON: %s", r->body);
    return j;
}

/* the string member `key` of a JSON object, "(none)" when it has none */
static const char *str_of(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : "(none)";
}

/* the string array `key` of a JSON object: its size, first item into out */
static int ids_of(const cJSON *obj, const char *key, char *first, size_t n)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(obj, key);
    cr_assert(cJSON_IsArray(a), "no array %s", key);
    if (first && n) {
        first[0] = '\0';
        if (cJSON_GetArraySize(a) > 0 &&
            cJSON_IsString(cJSON_GetArrayItem(a, 0)))
            snprintf(first, n, "%s", cJSON_GetArrayItem(a, 0)->valuestring);
    }
    return cJSON_GetArraySize(a);
}

static long events_total(void)
{
    return hub_sql_long(&hub, "SELECT count(*) FROM events");
}

/* count(*) of the rows of `from_where` (SQL text ending "... = ") whose
 * compared value is the literal `value` (no quotes in it) */
static long sql_count(const char *from_where, const char *value)
{
    char sql[1024];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s'%s'", from_where,
             value);
    return hub_sql_long(&hub, sql);
}

/* ---- FHIR ------------------------------------------------------------- */

Test(docs, fhir_positive_screening_bundle_is_in_the_feed_and_idempotent,
     .init = start, .fini = stop, .timeout = 60)
{
    struct http_resp r, r2;
    char first[64];

    cr_assert_eq(post_file("/v1/fhir", "application/fhir+json",
                           "fhir/bundle-ahc-panel-transaction.json", &r), 202,
                 "%s", r.body);
    cJSON *j = parse(&r);
    cr_expect_eq(ids_of(j, "event_ids", first, sizeof(first)), 2, "%s",
                 r.body);
    cr_expect_eq(strlen(first), 26);
    cr_expect_str_eq(cJSON_GetObjectItem(j, "message_id")->valuestring,
                     "urn:ietf:rfc:3986|urn:uuid:"
                     "0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0");
    cJSON_Delete(j);
    cr_expect_eq(events_total(), 2);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events WHERE type "
                              "= 'screening.positive' AND body::jsonb->'screening'"
                              "->'positive_domains' ? 'food-insecurity'"), 1);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "format = 'fhir' AND status = 'accepted'"), 1);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM audit WHERE action "
                              "= 'message.received'"), 1);

    /* the same bundle again: the same bytes back, nothing new */
    cr_assert_eq(post_file("/v1/fhir", "application/fhir+json",
                           "fhir/bundle-ahc-panel-transaction.json", &r2),
                 202);
    cr_expect_str_eq(r2.body, r.body);
    cr_expect(r2.replayed, "a re-send is marked as replayed");
    cr_expect(!r.replayed);
    cr_expect_eq(events_total(), 2, "no second event");
    http_resp_free(&r2);
    http_resp_free(&r);

    /* another bundle under the same Bundle.identifier: refused 422 naming
     * it, not given the first one's answer; its bytes kept in quarantine */
    size_t len;
    char *other = data_file("fhir/bundle-ahc-panel-transaction.json", &len);
    char *ts = strstr(other, "#rq5cL5w");
    cr_assert_not_null(ts);
    ts[1] = 'R';                    /* one byte else: meta.source */
    cr_assert_eq(post("/v1/fhir", "application/fhir+json", NULL, other, len,
                      &r2), 422, "%s", r2.body);
    free(other);
    cr_expect(!r2.replayed);
    cr_expect(strstr(r2.body, "Bundle.identifier") != NULL, "%s", r2.body);
    http_resp_free(&r2);
    cr_expect_eq(events_total(), 2);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "status = 'quarantined' AND error->>'code' = "
                              "'conflict'"), 1);

    cr_assert_eq(http_call(&hub, true, "GET",
                           "/v1/events?after=0&topic=screening.positive",
                           "tok-hosp", NULL, NULL, 0, NULL, &r), 0);
    cr_expect_eq(r.status, 200);
    j = parse(&r);
    const cJSON *evs = cJSON_GetObjectItem(j, "events");
    cr_assert_eq(cJSON_GetArraySize(evs), 1, "%s", r.body);
    const cJSON *ev = cJSON_GetArrayItem(evs, 0);
    cr_expect_str_eq(cJSON_GetObjectItem(ev, "type")->valuestring,
                     "screening.positive");
    const cJSON *src = cJSON_GetObjectItem(ev, "source");
    cr_expect_str_eq(cJSON_GetObjectItem(src, "format")->valuestring, "fhir");
    cr_expect_str_eq(cJSON_GetObjectItem(src, "org")->valuestring, "hosp");
    cJSON_Delete(j);
    http_resp_free(&r);
    cr_expect_eq(hub_stop(&hub), 0, "clean exit (LSan sees hubd leaks)");
}

Test(docs, fhir_task_is_referral_updated_and_idempotency_key_wins,
     .init = start, .fini = stop, .timeout = 60)
{
    struct http_resp r;
    size_t len;
    char *task = data_file(
        "fhir/Task-SDOHCC-TaskReferralManagementOrderFulfillmentAcceptedExample"
        ".json", &len);

    cr_assert_eq(post("/v1/fhir", "application/json", NULL, task, len, &r),
                 202, "%s", r.body);
    http_resp_free(&r);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events WHERE type "
                              "= 'referral.updated'"), 1);
    cr_expect_eq(sql_count("messages WHERE idem_key LIKE ",
                           "fhir:Task/SDOHCC-TaskReferralManagement"
                           "OrderFulfillmentAcceptedExample#sha256:%"), 1);
    /* the same Task (no versionId) with a new status is news, not a
     * re-send: a second referral.updated */
    char *upd = strdup(task);
    char *st = strstr(upd, "\"status\":\"accepted\"");
    cr_assert_not_null(st);
    memcpy(st, "\"status\":\"rejected\"", 19);
    cr_assert_eq(post("/v1/fhir", "application/json", NULL, upd, len, &r),
                 202, "%s", r.body);
    cr_expect(!r.replayed);
    http_resp_free(&r);
    free(upd);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events WHERE type "
                              "= 'referral.updated' AND body::jsonb->'referral'->>"
                              "'status' = 'rejected'"), 1);
    /* the sender's own key names another message: a new one */
    cr_assert_eq(post("/v1/fhir", "application/json", "retry-7f3a", task, len,
                      &r), 202);
    cr_expect(!r.replayed);
    http_resp_free(&r);
    cr_assert_eq(post("/v1/fhir", "application/json", "retry-7f3a", task, len,
                      &r), 202);
    cr_expect(r.replayed);
    http_resp_free(&r);
    /* the same key for another body: 422, not the first answer */
    static const char other[] = "{\"resourceType\":\"Patient\",\"id\":\"p9\"}";
    cr_assert_eq(post("/v1/fhir", "application/json", "retry-7f3a", other,
                      sizeof(other) - 1, &r), 422, "%s", r.body);
    cr_expect(!r.replayed);
    cr_expect(strstr(r.body, "Idempotency-Key") != NULL, "%s", r.body);
    http_resp_free(&r);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events WHERE type "
                              "= 'referral.updated'"), 3);
    /* a key with a space is refused before anything is stored */
    cr_assert_eq(post("/v1/fhir", "application/json", "two words", task, len,
                      &r), 400);
    cr_expect(strstr(r.body, "OperationOutcome") != NULL, "%s", r.body);
    http_resp_free(&r);
    /* not JSON by its media type: 415 */
    cr_assert_eq(post("/v1/fhir", "text/plain", NULL, task, len, &r), 415);
    http_resp_free(&r);
    /* an org without the ingest scope */
    const char *hd[] = { "Content-Type: application/fhir+json", NULL };
    cr_assert_eq(http_call_h(&hub, true, "POST", "/v1/fhir", "tok-cbo", hd,
                             task, len, &r), 0);
    cr_expect_eq(r.status, 403);
    http_resp_free(&r);
    /* three accepted; the other body under the used key kept, refused */
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages"), 4);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "status = 'quarantined' AND error->>'code' = "
                              "'conflict' AND idem_key LIKE '%retry-7f3a'"), 1);
    free(task);
}

Test(docs, fhir_bad_bundle_is_an_operation_outcome_and_quarantined,
     .init = start, .fini = stop, .timeout = 60)
{
    struct http_resp r;

    cr_assert_eq(post_file("/v1/fhir", "application/fhir+json",
                           "fhir/bundle-referral-transaction-bad-entry.json",
                           &r), 400, "%s", r.body);
    cr_expect(strstr(r.content_type, "application/fhir+json") != NULL);
    cJSON *j = parse(&r);
    cr_expect_str_eq(cJSON_GetObjectItem(j, "resourceType")->valuestring,
                     "OperationOutcome");
    const cJSON *issue = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "issue"), 0);
    const cJSON *expr = cJSON_GetArrayItem(
        cJSON_GetObjectItem(issue, "expression"), 0);
    cr_assert_not_null(expr, "%s", r.body);
    cr_expect_str_eq(expr->valuestring, "Bundle.entry[2].resource.status");
    cJSON_Delete(j);
    http_resp_free(&r);
    cr_expect_eq(events_total(), 0, "a refused bundle gives no event");
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "format = 'fhir' AND status = 'quarantined' AND "
                              "idem_key IS NULL AND error->>'field' = "
                              "'entry[2].resource.status'"), 1);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM audit WHERE action "
                              "= 'message.quarantined'"), 1);
    /* not JSON at all: quarantined too */
    cr_assert_eq(post("/v1/fhir", "application/fhir+json", NULL, "{\"a\":", 5,
                      &r), 400);
    http_resp_free(&r);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "status = 'quarantined'"), 2);
}

/* A FHIR body that is not JSON was told so, not where (F1467), and one
 * with bytes after its JSON value was accepted as its first value
 * (F1502): the OperationOutcome's issue carries the byte offset of the
 * fault as an extension (urn:hub:offset, valueInteger: FHIR R4's issue has
 * no element for it); a refusal of a value, at an element path, has
 * none. */
Test(docs, fhir_a_malformed_body_is_told_the_byte_offset_of_its_fault,
     .init = start, .fini = stop, .timeout = 60)
{
    static const struct { const char *body; int offset; } cases[] = {
        /* a comma missing: where the next member starts */
        { "{\"resourceType\":\"Patient\",\"id\":\"p1\" \"gender\":"
          "\"female\"}", 36 },
        /* a comma twice: the second, where a name is due */
        { "{\"resourceType\":\"Patient\",,\"id\":\"p1\"}", 26 },
        /* cut short: the body's end */
        { "{\"resourceType\":\"Patient\",\"id\":", 31 },
        /* a second resource after the first: the first byte after it,
         * which was taken as the first alone, the rest unread (F1502) */
        { "{\"resourceType\":\"Patient\",\"id\":\"p1\"}\n"
          "{\"resourceType\":\"Patient\",\"id\":\"p2\"}", 37 },
        /* not UTF-8: the first byte that is not */
        { "{\"resourceType\":\"Patient\",\"gender\":\"fe\xff" "male\"}",
          38 },
    };
    struct http_resp r;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cr_assert_eq(post("/v1/fhir", "application/fhir+json", NULL,
                          cases[i].body, strlen(cases[i].body), &r), 400,
                     "case %zu: %s", i, r.body);
        cJSON *j = parse(&r);
        const cJSON *issue =
            cJSON_GetArrayItem(cJSON_GetObjectItem(j, "issue"), 0);
        const cJSON *ext =
            cJSON_GetArrayItem(cJSON_GetObjectItem(issue, "extension"), 0);
        cr_assert_not_null(ext, "case %zu: %s", i, r.body);
        cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(ext, "url")),
                         "urn:hub:offset");
        const cJSON *v = cJSON_GetObjectItem(ext, "valueInteger");
        cr_assert(cJSON_IsNumber(v), "case %zu: %s", i, r.body);
        cr_expect_eq(v->valueint, cases[i].offset, "case %zu: %s", i, r.body);
        cJSON_Delete(j);
        http_resp_free(&r);
    }
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "status = 'quarantined'"), 5);
    cr_expect_eq(events_total(), 0);
    /* a value refused at its element: no offset */
    cr_assert_eq(post_file("/v1/fhir", "application/fhir+json",
                           "fhir/bundle-referral-transaction-bad-entry.json",
                           &r), 400, "%s", r.body);
    cr_expect_null(strstr(r.body, "urn:hub:offset"), "%s", r.body);
    http_resp_free(&r);
}

Test(docs, fhir_batch_is_accepted_in_part_with_per_entry_outcomes,
     .init = start, .fini = stop, .timeout = 60)
{
    struct http_resp r, r2;

    cr_assert_eq(post_file("/v1/fhir", "application/fhir+json",
                           "fhir/bundle-referral-batch-partial.json", &r), 200,
                 "%s", r.body);
    cJSON *j = parse(&r);
    cr_expect_str_eq(cJSON_GetObjectItem(j, "type")->valuestring,
                     "batch-response");
    const cJSON *entries = cJSON_GetObjectItem(j, "entry");
    cr_assert_eq(cJSON_GetArraySize(entries), 4, "%s", r.body);
    int ok = 0, bad = 0, ids = 0;
    for (int i = 0; i < 4; i++) {
        const cJSON *resp = cJSON_GetObjectItem(cJSON_GetArrayItem(entries, i),
                                                "response");
        const char *st = cJSON_GetObjectItem(resp, "status")->valuestring;
        if (strncmp(st, "202", 3) == 0)
            ok++;
        else if (strncmp(st, "400", 3) == 0) {
            bad++;
            cr_expect_eq(i, 2, "the Task with status 'done' is refused");
            cr_expect_not_null(cJSON_GetObjectItem(resp, "outcome"));
        }
        ids += cJSON_GetArraySize(cJSON_GetObjectItem(resp, "extension"));
    }
    cr_expect_eq(ok, 3);
    cr_expect_eq(bad, 1);
    cr_expect_eq(ids, 2, "one event id per good referral entry");
    cJSON_Delete(j);
    cr_expect_eq(events_total(), 2);
    /* the refused entry is quarantined on its own: its exact bytes (one
     * entry object), the element path, its index, the batch it came in */
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "status = 'quarantined'"), 1);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages q JOIN "
                              "messages a ON a.sha256 = q.error->>'part_of' "
                              "AND a.status = 'accepted' WHERE q.status = "
                              "'quarantined' AND q.format = 'fhir' AND "
                              "q.error->>'field' = 'entry[2].resource.status' "
                              "AND (q.error->>'entry')::int = 2 AND "
                              "q.error->>'resource' = 'Task/bad-task' AND "
                              "convert_from(q.raw, 'UTF8')::jsonb->'resource'"
                              "->>'id' = 'bad-task' AND "
                              "substring(convert_from(a.raw, 'UTF8') from "
                              "(q.error->>'offset')::int + 1 for "
                              "length(q.raw)) = convert_from(q.raw, 'UTF8')"),
                 1, "the entry's own bytes, at its offset in the batch");
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM audit WHERE action "
                              "= 'message.quarantined'"), 1);
    static const char quarantined[] =
        "SELECT hashtext(string_agg(id || ':' || sha256, ',' ORDER BY id)) "
        "FROM messages WHERE status = 'quarantined'";
    long first = hub_sql_long(&hub, quarantined);
    cr_assert_eq(post_file("/v1/fhir", "application/fhir+json",
                           "fhir/bundle-referral-batch-partial.json", &r2),
                 200);
    cr_expect_str_eq(r2.body, r.body);
    cr_expect_eq(events_total(), 2);
    /* a re-send is a duplicate (same answer, no event), and its refused
     * entry is not stored again: it was kept with the first send */
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "status = 'quarantined'"), 1);
    cr_expect_eq(hub_sql_long(&hub, quarantined), first,
                 "the quarantined parts are exactly those of the first send");
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM audit WHERE action "
                              "= 'message.quarantined'"), 1);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM audit WHERE action "
                              "= 'message.duplicate'"), 1);
    http_resp_free(&r2);
    http_resp_free(&r);
}

/* ---- FHIR: context only, and the scope of a bare Patient id ------------ */

Test(docs, fhir_context_only_is_accepted_with_no_event_and_says_so,
     .init = start, .fini = stop, .timeout = 60)
{
    static const char org[] =
        "{\"resourceType\":\"Organization\",\"id\":\"cbo-1\",\"name\":"
        "\"Eastside Food Pantry\"}";
    static const char pats[] =
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"a\"}},"
        "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"b\"}}]}";
    const char *bodies[] = { org, pats };
    const size_t lens[] = { sizeof(org) - 1, sizeof(pats) - 1 };
    struct http_resp r;

    for (int i = 0; i < 2; i++) {
        cr_assert_eq(post("/v1/fhir", "application/fhir+json", NULL, bodies[i],
                          lens[i], &r), 202, "%s", r.body);
        cJSON *j = parse(&r);
        cr_expect_eq(ids_of(j, "event_ids", NULL, 0), 0, "%s", r.body);
        cr_expect(strstr(r.body, "accepted with no event") != NULL, "%s",
                  r.body);
        cJSON_Delete(j);
        http_resp_free(&r);
    }
    cr_expect_eq(events_total(), 0);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "status = 'accepted'"), 2, "stored, not refused");
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "status = 'quarantined'"), 0);
}

/* F960 (F802 as decided): a US Core functional status survey is accepted
 * with no event, alone or as a Bundle's only entry, and the answer says why
 * at the category that decided it */
Test(docs, fhir_functional_assessment_is_accepted_with_no_event_and_a_warning,
     .init = start, .fini = stop, .timeout = 60)
{
#define WALK_OBS                                                            \
    "{\"resourceType\":\"Observation\",\"id\":\"walk-1\",\"status\":"       \
    "\"final\",\"subject\":{\"reference\":\"Patient/p1\"},\"category\":["   \
    "{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/"      \
    "observation-category\",\"code\":\"survey\"}]},{\"coding\":[{"          \
    "\"system\":\"http://hl7.org/fhir/us/core/CodeSystem/us-core-category\"," \
    "\"code\":\"functional-status\"}]}],\"code\":{\"coding\":[{\"system\":" \
    "\"http://loinc.org\",\"code\":\"89381-8\"}]},\"valueCodeableConcept\":" \
    "{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"LA10055-4\"}]}}"
    static const char alone[] = WALK_OBS;
    static const char bundle[] =
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        "{\"resource\":" WALK_OBS "}]}";
#undef WALK_OBS
    const char *bodies[] = { alone, bundle };
    const size_t lens[] = { sizeof(alone) - 1, sizeof(bundle) - 1 };
    const char *where[] = { "[\"Observation.category[1]\"]",
                            "[\"Bundle.entry[0].resource.category[1]\"]" };
    struct http_resp r;

    for (int i = 0; i < 2; i++) {
        cr_assert_eq(post("/v1/fhir", "application/fhir+json", NULL, bodies[i],
                          lens[i], &r), 202, "%s", r.body);
        cJSON *j = parse(&r);
        cr_expect_eq(ids_of(j, "event_ids", NULL, 0), 0, "%s", r.body);
        cr_expect(strstr(r.body, "not a social-needs screening") != NULL,
                  "%s", r.body);
        cr_expect(strstr(r.body, "\"business-rule\"") != NULL, "%s", r.body);
        cr_expect(strstr(r.body, where[i]) != NULL, "%s", r.body);
        cJSON_Delete(j);
        http_resp_free(&r);
    }
    cr_expect_eq(events_total(), 0);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "status = 'accepted'"), 2, "stored, not refused");
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "status = 'quarantined'"), 0);
}

/* The SHIN-NY hub's own declined, unknown and AHC HRSN questionnaire test
 * bundles (tests/data/real, SOURCES.md F23-F28) through hubd: what is
 * stored keeps a refusal apart from an unknown answer and every
 * multi-select coding; SHIN-NY's own forms are context. */
Test(docs, fhir_shinny_declined_and_unknown_bundles_keep_their_reasons,
     .init = start, .fini = stop, .timeout = 60)
{
    static const char *const files[] = {
        "real/fhir/shinny_NYScreeningResponseExampleDeclined9to12.json",
        "real/fhir/shinny_NYScreeningResponseExampleUnknown1to8.json",
        "real/fhir/shinny_AHCHRSNQuestionnaireResponse.json" };
    /* SHIN-NY's own forms are of nothing the dictionary knows, context
     * (F1722): administrative checks and an outreach date, and (F1801)
     * those answered only with a generic Yes or No (referral approval,
     * outreach, service duplication, the disability question 69859-7 in
     * each bundle) */
    static const int n_events[] = { 3, 3, 8 };
    struct http_resp r;

    for (int i = 0; i < 3; i++) {
        cr_assert_eq(post_file("/v1/fhir", "application/fhir+json", files[i],
                               &r), 202, "%s: %s", files[i], r.body);
        cJSON *j = parse(&r);
        cr_expect_eq(ids_of(j, "event_ids", NULL, 0), n_events[i], "%s",
                     r.body);
        cJSON_Delete(j);
        http_resp_free(&r);
    }
    cr_expect_eq(events_total(), 14);
#define ITEMS "SELECT count(*) FROM events WHERE type = 'screening.completed' " \
              "AND body::jsonb->'screening'->'items' @> "
    cr_expect_eq(hub_sql_long(&hub, ITEMS "'[{\"question\": \"95618-5\", "
                              "\"declined\": true}]'"), 1, "the refusal");
    cr_expect_eq(hub_sql_long(&hub, ITEMS "'[{\"question\": \"93030-5\"}]' "
                              "AND NOT body::jsonb->'screening'->'items' @> "
                              "'[{\"question\": \"93030-5\", \"answer\": "
                              "\"LA32-8\"}]'"), 1, "the unknown answer");
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events WHERE "
                              "body::jsonb->'screening'->'items' @> "
                              "'[{\"question\": \"93030-5\", \"declined\": "
                              "true}]'"), 0, "unknown is not declined");
    cr_expect_eq(hub_sql_long(&hub, ITEMS "'[{\"question\": \"96778-6\", "
                              "\"answers\": [\"LA28580-1\", \"LA31998-0\", "
                              "\"LA32001-2\"], \"sender_positive\": true}]'"),
                 3, "every coding, and the sender's POS");
    /* the outreach form (a date, a Yes, a local method) is context: no
     * event carries its answers (F1801) */
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events WHERE "
                              "body::jsonb->'screening'->'items' @> "
                              "'[{\"question\": "
                              "\"patient-assessment-outreach-date\"}]'"), 0,
                 "the outreach form is context");
#undef ITEMS
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events WHERE type "
                              "= 'screening.positive'"), 5);
}

/* F1722 as decided: a completed QuestionnaireResponse of no instrument,
 * question or answer the hub knows (LHC-Forms' SDC PHQ-9: local link
 * ids, code-less answers, item 9 the self-harm question) is accepted and
 * kept whole, gives no event (none on the pull feed, so no subscriber
 * gets an unlabelled self-harm answer), and the sender's outcome says why
 * in an informational issue. The same answers under the LOINC question
 * codes are a screening, labelled psy. */
Test(docs, fhir_a_response_the_hub_cannot_read_is_context_and_says_why,
     .init = start, .fini = stop, .timeout = 60)
{
    static const char *const file = "real/fhir/r126-lforms_QuestionnaireResponse-"
                                    "questionnaireresponse-sdc-profile-example-"
                                    "PHQ9.json";
    struct http_resp r;
    cr_assert_eq(post_file("/v1/fhir", "application/fhir+json", file, &r), 202,
                 "%s", r.body);
    cJSON *j = parse(&r);
    cr_expect_eq(ids_of(j, "event_ids", NULL, 0), 0, "%s", r.body);
    const cJSON *issues =
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "outcome"), "issue");
    cr_assert_eq(cJSON_GetArraySize(issues), 1, "%s", r.body);
    const cJSON *is = cJSON_GetArrayItem(issues, 0);
    cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(is, "severity")),
                     "information");
    const char *why = cJSON_GetStringValue(cJSON_GetObjectItem(is, "diagnostics"));
    cr_assert_not_null(why);
    cr_expect(strstr(why, "accepted with no event") != NULL, "%s", why);
    cr_expect(strstr(why, "not read as a screening") != NULL, "%s", why);
    cr_expect(strstr(r.body, "Several") == NULL, "no answer echoed: %s", r.body);
    cJSON_Delete(j);
    http_resp_free(&r);
    /* kept, whole, as accepted */
    size_t len;
    char *body = data_file(file, &len);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "status = 'accepted' AND format = 'fhir'"), 1);
    cr_expect_eq(hub_sql_long(&hub, "SELECT length(raw) FROM messages WHERE "
                              "status = 'accepted' AND format = 'fhir'"),
                 (long)len);
    free(body);
    cr_expect_eq(events_total(), 0);

    /* the same person's PHQ-9 item 9 sent under its LOINC code: read,
     * and labelled */
    static const char coded[] =
        "{\"resourceType\":\"QuestionnaireResponse\",\"id\":\"phq9-coded\","
        "\"status\":\"completed\",\"subject\":{\"reference\":"
        "\"Patient/proband\"},\"authored\":\"2024-02-01\",\"item\":[{"
        "\"linkId\":\"/44260-8\",\"answer\":[{\"valueCoding\":{\"system\":"
        "\"http://loinc.org\",\"code\":\"LA6569-3\"}}]}]}";
    cr_assert_eq(post("/v1/fhir", "application/fhir+json", NULL, coded,
                      sizeof(coded) - 1, &r), 202, "%s", r.body);
    http_resp_free(&r);
    cr_assert_eq(http_call(&hub, true, "GET", "/v1/events?after=0", "tok-hosp",
                           NULL, NULL, 0, NULL, &r), 0);
    cr_expect_eq(r.status, 200);
    j = parse(&r);
    const cJSON *evs = cJSON_GetObjectItem(j, "events");
    cr_assert_eq(cJSON_GetArraySize(evs), 1, "the coded response only: %s",
                 r.body);
    const cJSON *src = cJSON_GetObjectItem(cJSON_GetArrayItem(evs, 0), "source");
    cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(src, "resource")),
                     "QuestionnaireResponse/phq9-coded");
    cJSON_Delete(j);
    http_resp_free(&r);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events WHERE "
                              "body::jsonb->'sensitivity' ? 'psy'"), 1,
                 "labelled psy");
}

/* Round 126's samples (tests/data/real, SOURCES.md F1720-F1724) through
 * hubd: the 2020 SDOH-CC message whose patient is a search by name and
 * birth date is refused 400 at the reference saying it is a conditional
 * reference, and kept in quarantine; the others are taken as their
 * goldens say; and a Condition whose patient is a conditional reference
 * by identifier (F1720) is stored under that identifier, the same person
 * as a later logical reference to it. */
Test(docs, fhir_round_126_samples_and_a_conditional_patient_reference,
     .init = start, .fini = stop, .timeout = 60)
{
    static const struct {
        const char *file;
        long status;
        int events;
    } c[] = {
        { "real/fhir/r126-sdoh-cc-2020_Bundle-2360.json", 400, 0 },
        { "real/fhir/r126-lforms_QuestionnaireResponse-questionnaireresponse-"
          "sdc-profile-example-loinc.json", 400, 0 },
        { "real/fhir/r126-lforms_QuestionnaireResponse-questionnaireresponse-"
          "sdc-profile-example-PHQ9.json", 202, 0 },
        { "real/fhir/r126-inferno-uscore-test-kit_QuestionnaireResponse-"
          "fixture.json", 202, 0 },
        { "real/fhir/r126-sdoh-cc-2020_Observation-43373ef0-8fe3-403d-a62c-"
          "feb79700e1d5.json", 202, 1 },
        { "real/fhir/r126-uscore_Observation-PHQ9-item-example-44260-8.json",
          202, 0 },
    };
    struct http_resp r;
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        cr_assert_eq(post_file("/v1/fhir", "application/fhir+json", c[i].file,
                               &r), c[i].status, "%s: %s", c[i].file, r.body);
        if (c[i].status == 202) {
            cJSON *j = parse(&r);
            cr_expect_eq(ids_of(j, "event_ids", NULL, 0), c[i].events,
                         "%s: %s", c[i].file, r.body);
            cJSON_Delete(j);
        }
        http_resp_free(&r);
    }
    cr_assert_eq(post_file("/v1/fhir", "application/fhir+json",
                           "real/fhir/r126-sdoh-cc-2020_Bundle-2360.json", &r),
                 400);
    cr_expect(strstr(r.body, "conditional reference to a patient by other "
                             "than one identifier") != NULL, "%s", r.body);
    cr_expect(strstr(r.body, "Bundle.entry[5].resource.subject.reference")
              != NULL, "%s", r.body);
    cr_expect(strstr(r.body, "Newman") == NULL, "no value echoed: %s", r.body);
    http_resp_free(&r);
    cr_expect_eq(events_total(), 1, "the two responses are context (F1722)");
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "status = 'quarantined'"), 3,
                 "both refusals kept (the bundle twice, as sent twice)");

    static const char cond[] =
        "{\"resourceType\":\"Condition\",\"id\":\"c126\",\"category\":[{\"coding\":"
        "[{\"system\":\"http://hl7.org/fhir/us/core/CodeSystem/us-core-category\","
        "\"code\":\"sdoh\"}]}],\"code\":{\"coding\":[{\"system\":"
        "\"http://hl7.org/fhir/sid/icd-10-cm\",\"code\":\"Z59.41\"}]},"
        "\"subject\":{\"reference\":\"Patient?identifier=urn%3Aoid%3A1.2.3.126"
        "%7C" CANARY_MRN "126\"}}";
    static const char goal[] =
        "{\"resourceType\":\"Goal\",\"id\":\"g126\",\"lifecycleStatus\":\"active\","
        "\"description\":{\"text\":\"food\"},\"subject\":{\"identifier\":"
        "{\"system\":\"urn:oid:1.2.3.126\",\"value\":\"" CANARY_MRN "126\"}}}";
    cr_assert_eq(post("/v1/fhir", "application/fhir+json", NULL, cond,
                      sizeof(cond) - 1, &r), 202, "%s", r.body);
    http_resp_free(&r);
    cr_assert_eq(post("/v1/fhir", "application/fhir+json", NULL, goal,
                      sizeof(goal) - 1, &r), 202, "%s", r.body);
    http_resp_free(&r);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events WHERE type = "
                              "'condition.recorded' AND body::jsonb->'condition'"
                              "->>'domain' = 'food-insecurity'"), 1);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(DISTINCT body::jsonb->"
                              "'patient'->>'hub_id') FROM events WHERE type IN "
                              "('condition.recorded', 'goal.updated')"), 1,
                 "one person by the identifier");
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM patient_identifiers "
                              "WHERE system = 'urn:oid:1.2.3.126'"), 1);
}

/* Round 136's samples over POST /v1/fhir: a care platform's transaction
 * bundle of one person sent twice, by POST with urn:uuid references and
 * by PUT with client UUIDs (its Connect360 projection), and another
 * person's. The MRN names each person once; the Z59.86 Condition sent under
 * sdoh-category-unspecified is stored as financial-insecurity (F1940), so
 * is the CBO referral for it (F1942), and the AUDIT-C score of March is
 * not one of January's screening (F1941): a survey item of no question
 * the dictionary knows, it is context, the sender told (F3361). The lab order
 * (108252007) is no referral: accepted with no event, the sender told why
 * (F2000); the referral coded only CPT 90791 and its Task carry psy
 * (F2001). */
Test(docs, fhir_round_136_samples_store_domains_and_screening_days,
     .init = start, .fini = stop, .timeout = 60)
{
    static const struct {
        const char *file;
        int events;
    } c[] = {
        { "real/fhir/r136-rhtp_Bundle-robert-chen.json", 13 },
        { "real/fhir/r136-rhtp_Bundle-robert-chen-connect360.json", 13 },
        { "real/fhir/r136-rhtp_Bundle-dorothy-simmons.json", 19 },
    };
    struct http_resp r;
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        cr_assert_eq(post_file("/v1/fhir", "application/fhir+json", c[i].file,
                               &r), 202, "%s: %s", c[i].file, r.body);
        cJSON *j = parse(&r);
        cr_expect_eq(ids_of(j, "event_ids", NULL, 0), c[i].events, "%s: %s",
                     c[i].file, r.body);
        cr_expect((strstr(r.body, "order is not a referral") != NULL) ==
                      (i < 2), "%s: %s", c[i].file, r.body);
        cr_expect((strstr(r.body, "is not read as a screening") != NULL) ==
                      (i < 2), "%s: %s", c[i].file, r.body);
        cJSON_Delete(j);
        http_resp_free(&r);
    }
    cr_expect_eq(events_total(), 45);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events WHERE type "
                              "LIKE 'referral.%' AND body::jsonb->'referral'"
                              "->'service'->>'code' = '9318-7'"), 0,
                 "the lab order is no referral");
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events WHERE type "
                              "LIKE 'referral.%' AND body::jsonb->'referral'"
                              "->'service'->>'code' = '90791' AND "
                              "body::jsonb->'sensitivity' ? 'psy'"), 2,
                 "the behavioral health referral and its Task are psy");
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(DISTINCT body::jsonb->"
                              "'patient'->>'hub_id') FROM events"), 2,
                 "two people, each by the MRN");
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events WHERE type "
                              "LIKE 'referral.%' AND body::jsonb->'referral'"
                              "->>'domain' = 'transportation-insecurity'"), 2);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events WHERE type = "
                              "'condition.recorded' AND body::jsonb->'condition'"
                              "->>'domain' = 'transportation-insecurity'"), 1);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events WHERE type = "
                              "'condition.recorded' AND body::jsonb->'condition'"
                              "->>'domain' = 'financial-insecurity'"), 2);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events WHERE type "
                              "LIKE 'referral.%' AND body::jsonb->'referral'"
                              "->>'domain' = 'financial-insecurity'"), 4);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events WHERE type = "
                              "'screening.completed' AND body::jsonb->>"
                              "'occurred_at' = '2026-03-15' AND jsonb_array_"
                              "length(body::jsonb->'screening'->'items') = 1"),
                 0, "the AUDIT-C score is context (F3361)");
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events WHERE type = "
                              "'screening.completed' AND body::jsonb->>"
                              "'occurred_at' = '2026-01-08' AND jsonb_array_"
                              "length(body::jsonb->'screening'->'items') = 4"),
                 3, "the four AHC items of each bundle");
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "status = 'quarantined'"), 0);
}

/* Round 147's sample over POST /v1/ccda: NextTech's certification
 * Referral Note is accepted with its one careplan.updated, stored as its
 * golden (tests/data/real/ccda) says: the plan identified by the document,
 * not by its setId root "1" (F2180), with the warning naming the setId,
 * and the patient's "TEL:" numbers kept (F2182). Sent again, it is the
 * same answer and no new event. */
Test(docs, ccda_round_147_sample_is_stored_as_checked,
     .init = start, .fini = stop, .timeout = 60)
{
    static const char *const file =
        "real/ccda/r147-ccda-samples_NextTech_Bates-RefNote";
    char rel[256];
    struct http_resp r, r2;

    snprintf(rel, sizeof(rel), "%s.xml", file);
    cr_assert_eq(post_file("/v1/ccda", "application/xml", rel, &r), 202,
                 "%s", r.body);
    cJSON *j = parse(&r);
    cr_expect_eq(ids_of(j, "event_ids", NULL, 0), 1, "%s", r.body);
    cJSON_Delete(j);
    cr_assert_eq(post_file("/v1/ccda", "application/xml", rel, &r2), 202);
    cr_expect_str_eq(r2.body, r.body);
    http_resp_free(&r2);
    http_resp_free(&r);

    size_t len;
    snprintf(rel, sizeof(rel), "%s.events.json", file);
    char *golden = data_file(rel, &len);
    cJSON *want = cJSON_Parse(golden);
    cr_assert(cJSON_IsArray(want) && cJSON_GetArraySize(want) == 1, "%s", rel);
    char *ev = cJSON_PrintUnformatted(cJSON_GetArrayItem(want, 0));
    cr_assert_lt(strlen(ev), 8000);
    char sql[8192];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE "
             "body::jsonb @> '%s'::jsonb", ev);
    cr_expect(strchr(ev, '\'') == NULL, "the golden needs no SQL quoting");
    cr_expect_eq(hub_sql_long(&hub, sql), 1, "stored as the golden: %s", ev);
    free(ev);
    cJSON_Delete(want);
    free(golden);
    cr_expect_eq(events_total(), 1);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events WHERE "
                              "body::jsonb->'careplan'->>'id' = 'urn:oid:1'"),
                 0);
}

/* F3160 (F3080 as decided): the Da Vinci Unsolicited Notifications IG's
 * admit message over POST /v1/fhir is stored as adt.admit from its focus
 * Encounter (class EMER, patient class E, the hospital as facility) beside
 * its Condition's condition.recorded, one person for both */
Test(docs, fhir_davinci_admit_notification_is_an_adt_admit,
     .init = start, .fini = stop, .timeout = 60)
{
    struct http_resp r;
    cr_assert_eq(post_file("/v1/fhir", "application/fhir+json",
                           "real/fhir/r193-davinci-alerts_Bundle-admit-"
                           "notification-message-bundle-01.json", &r),
                 202, "%s", r.body);
    cJSON *j = parse(&r);
    cr_expect_eq(ids_of(j, "event_ids", NULL, 0), 2, "%s", r.body);
    cr_expect(strstr(r.body, "Bundle.entry[1].resource.period.end") != NULL,
              "the end of a visit in progress is told: %s", r.body);
    cJSON_Delete(j);
    http_resp_free(&r);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events WHERE type = "
                              "'adt.admit' AND body::jsonb->'encounter'->>"
                              "'class' = 'EMER' AND body::jsonb->'encounter'"
                              "->>'patient_class' = 'E' AND body::jsonb->"
                              "'encounter'->>'facility' = 'HOLY FAMILY "
                              "HOSPITAL'"), 1);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events WHERE type = "
                              "'condition.recorded'"), 1);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(DISTINCT body::jsonb->"
                              "'patient'->>'hub_id') FROM events"), 1,
                 "one person");
}

Test(docs, fhir_patient_id_never_meets_an_mrn_of_the_same_value,
     .init = start, .fini = stop, .timeout = 60)
{
    /* an HL7 PID-3 "12345" without assigning authority is the org's MRN;
     * FHIR Patient/12345 is the sender's server id: two people */
    static const char adt[] =
        "MSH|^~\\&|EHR|HOSP|HUB|HUB|20260101120000||ADT^A04|COLL-1|P|2.5.1\r"
        "EVN|A04|20260101120000\r"
        "PID|1||12345||" CANARY_FAMILY "^" CANARY_GIVEN "||" CANARY_DOB "|F\r"
        "PV1|1|O\r";
    static const char goal[] =
        "{\"resourceType\":\"Goal\",\"id\":\"g1\",\"lifecycleStatus\":"
        "\"active\",\"description\":{\"text\":\"food\"},\"subject\":"
        "{\"reference\":\"Patient/12345\"}}";
    static const char goal2[] =
        "{\"resourceType\":\"Goal\",\"id\":\"g2\",\"lifecycleStatus\":"
        "\"active\",\"description\":{\"text\":\"rent\"},\"subject\":"
        "{\"reference\":\"Patient/12345\"}}";
    struct http_resp r;

    cr_assert_eq(post("/v1/hl7v2", NULL, NULL, adt, sizeof(adt) - 1, &r), 202,
                 "%s", r.body);
    http_resp_free(&r);
    cr_assert_eq(post("/v1/fhir", "application/fhir+json", NULL, goal,
                      sizeof(goal) - 1, &r), 202, "%s", r.body);
    http_resp_free(&r);
    cr_assert_eq(post("/v1/fhir", "application/fhir+json", NULL, goal2,
                      sizeof(goal2) - 1, &r), 202, "%s", r.body);
    http_resp_free(&r);
    cr_expect_eq(events_total(), 3);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(DISTINCT body::jsonb->'patient'->>"
                              "'hub_id') FROM events"), 2,
                 "the MRN's person and the FHIR id's person");
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(DISTINCT body::jsonb->'patient'->>"
                              "'hub_id') FROM events WHERE body::jsonb->>'type' = "
                              "'goal.updated'"), 1,
                 "both FHIR messages name the same person");
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM patient_identifiers "
                              "WHERE value = '12345'"), 2);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM patient_identifiers "
                              "WHERE value = '12345' AND system = "
                              "'urn:hub:org:hosp:fhir:Patient'"), 1);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM audit WHERE action "
                              "= 'identity.conflict'"), 0);
}

/* F620: a C-CDA patient id under a root that is no OID is the sender's
 * namespace, as HL7 v2's CX-4 is: the hospital's MRN sent as an A04
 * (PID-3 `^^^MRN`) and as a C-CDA (`<id root="MRN"/>`) is one person, and
 * so is a number under a UUID authority (CX-4.2 with type UUID; the C-CDA
 * root in upper case). Before, the C-CDA's systems were urn:oid:MRN and
 * urn:oid:<UUID>, which met neither the A04's nor each other's. */
Test(docs, a_ccda_id_root_that_is_no_oid_links_as_the_hl7_namespace_does,
     .init = start, .fini = stop, .timeout = 60)
{
    static const char adt_fmt[] =
        "MSH|^~\\&|EHR|HOSP|HUB|HUB|20260101120000||ADT^A04|%s|P|2.5.1\r"
        "EVN|A04|20260101120000\r"
        "PID|1||%s||" CANARY_FAMILY "^" CANARY_GIVEN "||" CANARY_DOB "|F\r"
        "PV1|1|O\r";
    static const char doc_fmt[] =
        "<ClinicalDocument xmlns=\"urn:hl7-org:v3\">"
        "<templateId root=\"2.16.840.1.113883.10.20.22.1.15\"/>"
        "<id root=\"1.2.7\" extension=\"%s\"/>"
        "<effectiveTime value=\"20260101\"/>"
        "<recordTarget><patientRole><id root=\"%s\" extension=\"%s\"/>"
        "<patient/></patientRole></recordTarget>"
        "<component><structuredBody/></component></ClinicalDocument>";
    static const struct {
        const char *ctl, *cx, *doc_id, *root, *ext;
    } c[] = {
        { "ROOT-1", CANARY_MRN "1234^^^MRN", "D-ROOT-1", "MRN",
          CANARY_MRN "1234" },
        { "ROOT-2",
          CANARY_MRN "55^^^&9f27eaec-bbb7-4a5d-879f-ee1fe4ba2e59&UUID",
          "D-ROOT-2", "9F27EAEC-BBB7-4A5D-879F-EE1FE4BA2E59",
          CANARY_MRN "55" },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        char msg[512], doc[1024];
        struct http_resp r;
        snprintf(msg, sizeof(msg), adt_fmt, c[i].ctl, c[i].cx);
        cr_assert_eq(post("/v1/hl7v2", NULL, NULL, msg, strlen(msg), &r), 202,
                     "%s", r.body);
        http_resp_free(&r);
        snprintf(doc, sizeof(doc), doc_fmt, c[i].doc_id, c[i].root,
                 c[i].ext);
        cr_assert_eq(post("/v1/ccda", "application/xml", NULL, doc,
                          strlen(doc), &r), 202, "%s", r.body);
        http_resp_free(&r);
    }
    cr_expect_eq(events_total(), 4);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(DISTINCT body::jsonb->"
                              "'patient'->>'hub_id') FROM events"), 2,
                 "each number is one person in both formats");
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(DISTINCT hub_id) FROM "
                              "patient_identifiers WHERE system = "
                              "'urn:hub:org:hosp:ns:MRN'"), 1);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM patient_identifiers "
                              "WHERE system LIKE 'urn:oid:%'"), 0);
}

/* F2240: a sender's identifier under the hub's own urn:hub: space is left
 * out by the adapters. Through the real hubd and PostgreSQL: hosp's
 * patient of MRN ...1234 (PID-3 `^^^MRN`, stored as
 * urn:hub:org:hosp:ns:MRN); a second organization, clinic, sends an A04
 * whose PID-3 names that scoped system outright, and a C-CDA whose id
 * root is it: each is accepted, its patient known by its own message or
 * document, and neither is hosp's patient (before, both were linked to
 * it: the link that scoping two hospitals' "MRN" 1234 prevents). */
Test(docs, another_organization_naming_hosps_scoped_system_is_not_hosps_patient,
     .init = start, .fini = stop, .timeout = 60)
{
    static const char adt_fmt[] =
        "MSH|^~\\&|EHR|HOSP|HUB|HUB|20260101120000||ADT^A04|%s|P|2.5.1\r"
        "EVN|A04|20260101120000\r"
        "PID|1||%s||" CANARY_FAMILY "^" CANARY_GIVEN "||" CANARY_DOB "|F\r"
        "PV1|1|O\r";
    static const char doc[] =
        "<ClinicalDocument xmlns=\"urn:hl7-org:v3\">"
        "<templateId root=\"2.16.840.1.113883.10.20.22.1.15\"/>"
        "<id root=\"1.2.7\" extension=\"D-SCOPE-1\"/>"
        "<effectiveTime value=\"20260101\"/>"
        "<recordTarget><patientRole><id root=\"urn:hub:org:hosp:ns:MRN\" "
        "extension=\"" CANARY_MRN "1234\"/>"
        "<patient/></patientRole></recordTarget>"
        "<component><structuredBody/></component></ClinicalDocument>";
    struct store *st;
    char sha[65], msg[512];
    struct http_resp r;

    cr_assert_eq(store_connect(hub.db_url, &st), HUB_OK);
    cr_assert_eq(store_org_add(st, "test", "clinic", "Test Clinic", "clinic",
                               SCOPE_INGEST), HUB_OK);
    store_sha256_hex("tok-clinic", 10, sha);
    cr_assert_eq(store_token_add(st, "test", "clinic", sha, "clinic-t1",
                                 SCOPE_INGEST, 0), HUB_OK);
    store_free(st);

    snprintf(msg, sizeof(msg), adt_fmt, "SCOPE-1", CANARY_MRN "1234^^^MRN");
    cr_assert_eq(post("/v1/hl7v2", NULL, NULL, msg, strlen(msg), &r), 202,
                 "%s", r.body);
    http_resp_free(&r);
    snprintf(msg, sizeof(msg), adt_fmt, "SCOPE-2",
             CANARY_MRN "1234^^^urn:hub:org:hosp:ns:MRN^MR");
    cr_assert_eq(http_call_h(&hub, true, "POST", "/v1/hl7v2", "tok-clinic",
                             NULL, msg, strlen(msg), &r), 0);
    cr_assert_eq(r.status, 202, "%s", r.body);
    http_resp_free(&r);
    const char *hd[] = { "Content-Type: application/xml", NULL };
    cr_assert_eq(http_call_h(&hub, true, "POST", "/v1/ccda", "tok-clinic",
                             hd, doc, sizeof(doc) - 1, &r), 0);
    cr_assert_eq(r.status, 202, "%s", r.body);
    http_resp_free(&r);

    cr_expect_eq(events_total(), 3);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(DISTINCT body::jsonb->"
                              "'patient'->>'hub_id') FROM events"), 3,
                 "clinic's two patients are not hosp's");
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM patient_identifiers "
                              "WHERE system = 'urn:hub:org:hosp:ns:MRN'"), 1);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM patient_identifiers "
                              "WHERE org_id = 'clinic' AND system LIKE "
                              "'urn:hub:org:hosp%'"), 0);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events WHERE "
                              "org_id = 'clinic' AND body::text LIKE "
                              "'%urn:hub:org:hosp%'"), 0,
                 "no event of clinic carries hosp's scope");
}

/* F2242 (c): a message the database refuses for another organization's
 * urn:hub: scope (22H12, hub_id_system of 023) is quarantined with that
 * reason and the event's member it is in, and its sender is told the same:
 * over MLLP in the AE (ERR-8), over HTTPS in the message's error JSON. It
 * was "the database refused a value of the message". No adapter writes
 * such a system (F2240): a trigger asks hub_id_system for one as this
 * message's patient identifier is recorded, as a faulty adapter's event
 * makes the linking statement do. The message beside it is taken. */
Test(docs, a_message_naming_another_organizations_scope_is_told_why,
     .init = start, .fini = stop, .timeout = 60)
{
    static const char why[] =
        "identifier system names another organization's urn:hub: scope";
    struct store *st;
    struct mllp_client mc;
    struct http_resp r;
    char msg[4096], one[2048], ack[4096], code[3], ctrl[64];

    cr_assert_eq(store_connect(hub.db_url, &st), HUB_OK);
    cr_assert_eq(store_exec(st,
        "CREATE FUNCTION f2242_foreign() RETURNS trigger LANGUAGE plpgsql "
        "AS $$BEGIN PERFORM hub_id_system(NEW.org_id, "
        "'urn:hub:org:other:ns:MRN'); RETURN NEW; END$$;"
        "CREATE TRIGGER f2242_foreign BEFORE INSERT ON patient_identifiers "
        "FOR EACH ROW WHEN (NEW.value LIKE '%F2242%') "
        "EXECUTE FUNCTION f2242_foreign();"), HUB_OK);
    store_free(st);

    cr_assert_eq(mllp_connect(&mc, hub.mllp, &hub, NULL), 0);
    hl7_sample(msg, sizeof(msg), "F2242-1", "F2242-1");
    cr_assert_eq(mllp_send(&mc, msg), 0);
    cr_assert_gt(mllp_read(&mc, ack, sizeof(ack), 15000), 0, "no answer");
    mllp_close(&mc);
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AE");
    cr_expect_str_eq(ctrl, "F2242-1");
    cr_expect(strstr(ack, why) != NULL, "%s", ack);
    /* no place in the message: no ERR-7 pointing at MSH (F2602) */
    cr_expect(strstr(ack, "byte offset") == NULL, "%s", ack);

    /* over HTTPS, beside a message that is taken */
    hl7_sample(one, sizeof(one), "F2242-OK", "OK-1");
    size_t at = strlen(one);
    memcpy(msg, one, at);
    hl7_sample(msg + at, sizeof(msg) - at, "F2242-2", "F2242-2");
    cr_assert_eq(post("/v1/hl7v2", NULL, NULL, msg, strlen(msg), &r), 400,
                 "%s", r.body);
    cJSON *j = cJSON_Parse(r.body);
    cr_assert_not_null(j, "%s", r.body);
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(j, "messages");
    const cJSON *ok = cJSON_GetArrayItem(ms, 0);
    const cJSON *bad = cJSON_GetArrayItem(ms, 1);
    cr_assert(ok && bad, "%s", r.body);
    cr_expect_str_eq(str_of(ok, "ack_code"), "AA");
    cr_expect_str_eq(str_of(bad, "ack_code"), "AE");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(bad, "error");
    cr_assert_not_null(e, "%s", r.body);
    cr_expect_str_eq(str_of(e, "code"), "invalid");
    cr_expect_str_eq(str_of(e, "message"), why);
    cr_expect_str_eq(str_of(e, "field"), "patient.identifiers");
    cr_expect(strstr(str_of(bad, "ack"), why) != NULL, "%s", r.body);
    cr_expect(strstr(str_of(bad, "ack"), "byte offset") == NULL, "%s",
              r.body);
    cJSON_Delete(j);
    http_resp_free(&r);

    /* both quarantined with it; the other one taken */
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "status = 'quarantined' AND error->>'code' = "
                              "'invalid' AND error->>'field' = "
                              "'patient.identifiers' AND error->>'message' = "
                              "'identifier system names another "
                              "organization''s urn:hub: scope'"), 2);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages"), 3);
    cr_expect_eq(events_total(), 1);
    cr_expect(hub_wait_log(&hub, "ingest.value_refused", 2, 5000));
    cr_expect(hub_wait_log(&hub, "sqlstate=22H12 field=patient.identifiers",
                           2, 5000));
}

/* F744: a national number whose check digit fails was never issued, so
 * records that share it share an error or a placeholder, not a person.
 * Through the real hubd and PostgreSQL: two patients of hosp (their own
 * MRNs) sent with the same NHS number that fails modulus 11, in HL7 v2 and
 * in C-CDA, stay two people each, and the number is recorded for no one,
 * though each event keeps it as sent; two sent with a valid NHS number
 * are one person, as before. */
Test(docs, a_national_number_that_fails_its_check_links_no_one,
     .init = start, .fini = stop, .timeout = 60)
{
    static const char adt_fmt[] =
        "MSH|^~\\&|EHR|HOSP|HUB|HUB|20260101120000||ADT^A04|%s|P|2.5.1\r"
        "EVN|A04|20260101120000\r"
        "PID|1||%s^^^MRN^MR~%s^^^NHS^NH||" CANARY_FAMILY "^" CANARY_GIVEN
        "||" CANARY_DOB "|F\r"
        "PV1|1|O\r";
    static const char doc_fmt[] =
        "<ClinicalDocument xmlns=\"urn:hl7-org:v3\">"
        "<templateId root=\"2.16.840.1.113883.10.20.22.1.15\"/>"
        "<id root=\"1.2.7\" extension=\"%s\"/>"
        "<effectiveTime value=\"20260101\"/>"
        "<recordTarget><patientRole><id root=\"CCDMRN\" extension=\"%s\"/>"
        "<id root=\"2.16.840.1.113883.2.1.4.1\" extension=\"%s\"/>"
        "<patient/></patientRole></recordTarget>"
        "<component><structuredBody/></component></ClinicalDocument>";
    static const struct {
        const char *ctl, *mrn, *nhs;
    } adt[] = {
        { "NAT-1", CANARY_MRN "A1", "7000000001" },
        { "NAT-2", CANARY_MRN "B2", "7000000001" },
        { "NAT-3", CANARY_MRN "C3", "9434765919" },
        { "NAT-4", CANARY_MRN "D4", "9434765919" },
    };
    static const struct {
        const char *doc_id, *mrn, *nhs;
    } doc[] = {
        { "D-NAT-1", CANARY_MRN "E5", "3478526985" },
        { "D-NAT-2", CANARY_MRN "F6", "3478526985" },
    };
    for (size_t i = 0; i < sizeof(adt) / sizeof(adt[0]); i++) {
        char msg[512];
        struct http_resp r;
        snprintf(msg, sizeof(msg), adt_fmt, adt[i].ctl, adt[i].mrn,
                 adt[i].nhs);
        cr_assert_eq(post("/v1/hl7v2", NULL, NULL, msg, strlen(msg), &r), 202,
                     "%s", r.body);
        http_resp_free(&r);
    }
    for (size_t i = 0; i < sizeof(doc) / sizeof(doc[0]); i++) {
        char d[1024];
        struct http_resp r;
        snprintf(d, sizeof(d), doc_fmt, doc[i].doc_id, doc[i].mrn,
                 doc[i].nhs);
        cr_assert_eq(post("/v1/ccda", "application/xml", NULL, d, strlen(d),
                          &r), 202, "%s", r.body);
        http_resp_free(&r);
    }
    cr_assert_eq(events_total(), 6);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(DISTINCT patient_hub_id) "
                              "FROM events"), 5,
                 "the failed numbers joined no one; the valid one did");
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM patient_identifiers "
                              "WHERE value IN ('7000000001', '3478526985')"),
                 0, "a failed number is recorded for no one");
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(DISTINCT hub_id) FROM "
                              "patient_identifiers WHERE value = "
                              "'9434765919'"), 1);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events e, "
                              "jsonb_array_elements(e.body::jsonb->'patient'"
                              "->'identifiers') i WHERE i->>'value' IN "
                              "('7000000001', '3478526985') AND "
                              "i->'inactive' = 'true'"), 4,
                 "kept as sent in each event");
}

/* F841: a mother and her child registered under one guarantor account
 * (PID-3 `^^^H^AN`), and two patients under the same employer number,
 * are people of their own: the account's number is kept in each event but
 * links no one. Through the real hubd and PostgreSQL. */
Test(docs, an_account_number_shared_by_two_patients_links_no_one,
     .init = start, .fini = stop, .timeout = 60)
{
    static const char adt_fmt[] =
        "MSH|^~\\&|EHR|HOSP|HUB|HUB|20260101120000||ADT^A04|%s|P|2.5.1\r"
        "EVN|A04|20260101120000\r"
        "PID|1||%s^^^MRN^MR~%s||" CANARY_FAMILY "^" CANARY_GIVEN
        "||" CANARY_DOB "|F\r"
        "PV1|1|O\r";
    static const struct {
        const char *ctl, *mrn, *other;
    } c[] = {
        { "ACC-1", CANARY_MRN "M1", "ACC77^^^HOSP^AN" },
        { "ACC-2", CANARY_MRN "K2", "ACC77^^^HOSP^AN" },
        { "ACC-3", CANARY_MRN "E3", "EMP9^^^HOSP^EN" },
        { "ACC-4", CANARY_MRN "E4", "EMP9^^^HOSP^EN" },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        char msg[512];
        struct http_resp r;
        snprintf(msg, sizeof(msg), adt_fmt, c[i].ctl, c[i].mrn, c[i].other);
        cr_assert_eq(post("/v1/hl7v2", NULL, NULL, msg, strlen(msg), &r), 202,
                     "%s", r.body);
        http_resp_free(&r);
    }
    cr_assert_eq(events_total(), 4);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(DISTINCT patient_hub_id) "
                              "FROM events"), 4, "four people, not two");
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM patient_identifiers "
                              "WHERE value IN ('ACC77', 'EMP9')"), 0);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events e, "
                              "jsonb_array_elements(e.body::jsonb->'patient'"
                              "->'identifiers') i WHERE i->>'value' IN "
                              "('ACC77', 'EMP9') AND i->'inactive' = 'true'"),
                 4, "kept as sent in each event");
}

/* F842: two merges whose MRG-1 carries the classic example's placeholder
 * SSN (123456789^^^USSSA^SS, which test feeds copy) merged their two
 * survivors into one person: the first recorded the placeholder for its
 * survivor, the second found that survivor by it and merged it away. Now
 * such a prior id is kept, marked inactive, and merges no one; a real
 * prior MRN still merges. Through the real hubd and PostgreSQL. */
Test(docs, a_placeholder_in_mrg_merges_no_one,
     .init = start, .fini = stop, .timeout = 60)
{
    static const char a04[] =
        "MSH|^~\\&|EHR|HOSP|HUB|HUB|20260101120000||ADT^A04|%s|P|2.5.1\r"
        "EVN|A04|20260101120000\r"
        "PID|1||%s^^^MRN^MR||" CANARY_FAMILY "^" CANARY_GIVEN "||"
        CANARY_DOB "|F\r"
        "PV1|1|O\r";
    static const char a40[] =
        "MSH|^~\\&|EHR|HOSP|HUB|HUB|20260101120000||ADT^A40^ADT_A39|%s|P|"
        "2.5.1\r"
        "EVN|A40|20260101120000\r"
        "PID|1||%s^^^MRN^MR||" CANARY_FAMILY "^" CANARY_GIVEN "\r"
        "MRG|%s\r";
    static const struct {
        const char *ctl, *mrn, *mrg;
    } c[] = {
        { "PH-1", CANARY_MRN "S1", NULL },
        { "PH-2", CANARY_MRN "S2", NULL },
        { "PH-3", CANARY_MRN "O3", NULL },
        { "PH-4", CANARY_MRN "S1", "123456789^^^USSSA^SS" },
        { "PH-5", CANARY_MRN "S2", "123456789^^^USSSA^SS" },
        { "PH-6", CANARY_MRN "S2", CANARY_MRN "O3^^^MRN^MR" },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        char msg[512];
        struct http_resp r;
        if (c[i].mrg)
            snprintf(msg, sizeof(msg), a40, c[i].ctl, c[i].mrn, c[i].mrg);
        else
            snprintf(msg, sizeof(msg), a04, c[i].ctl, c[i].mrn);
        cr_assert_eq(post("/v1/hl7v2", NULL, NULL, msg, strlen(msg), &r), 202,
                     "%s", r.body);
        http_resp_free(&r);
    }
    cr_assert_eq(events_total(), 6);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM patients "
                              "WHERE merged_into IS NOT NULL"), 1,
                 "only the real prior MRN merged");
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM patients p JOIN "
                              "patient_identifiers i ON i.hub_id = p.hub_id "
                              "WHERE p.merged_into IS NOT NULL"), 0);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM patient_identifiers "
                              "WHERE value = '123456789'"), 0,
                 "the placeholder is recorded for no one");
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(DISTINCT i.hub_id) FROM "
                              "patient_identifiers i WHERE i.value IN ('"
                              CANARY_MRN "S1', '" CANARY_MRN "S2')"), 2,
                 "the two survivors are two people");
}

/* ---- C-CDA ------------------------------------------------------------ */

static const char laughs[] =
    "<?xml version=\"1.0\"?>\n"
    "<!DOCTYPE ClinicalDocument [\n"
    " <!ENTITY a \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\">\n"
    " <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n"
    " <!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n"
    " <!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">\n"
    " <!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">\n"
    " <!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">\n"
    " <!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">\n"
    " <!ENTITY h \"&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;\">\n"
    "]>\n"
    "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><title>&h;</title>"
    "</ClinicalDocument>\n";

Test(docs, ccda_document_is_stored_once_and_billion_laughs_only_quarantined,
     .init = start, .fini = stop, .timeout = 60)
{
    struct http_resp r, r2;

    cr_assert_eq(post_file("/v1/ccda", "application/xml",
                           "ccda/synthetic-ahc-hrsn.xml", &r), 202, "%s",
                 r.body);
    cJSON *j = parse(&r);
    cr_expect_eq(ids_of(j, "event_ids", NULL, 0), 4, "%s", r.body);
    cJSON_Delete(j);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events WHERE "
                              "body::jsonb->'source'->>'format' = 'ccda' AND type = "
                              "'screening.positive'"), 2);
    cr_assert_eq(post_file("/v1/ccda", "text/xml; charset=utf-8",
                           "ccda/synthetic-ahc-hrsn.xml", &r2), 202);
    cr_expect_str_eq(r2.body, r.body);
    cr_expect(r2.replayed);
    http_resp_free(&r2);
    http_resp_free(&r);
    cr_expect_eq(events_total(), 4, "no new event on a re-send");
    /* another document under the same ClinicalDocument/id: 422 naming it
     * (the sender must learn that this one was not accepted), its bytes in
     * quarantine, no event */
    size_t len;
    char *other = data_file("ccda/synthetic-ahc-hrsn.xml", &len);
    char *title = strstr(other, "<title>Synthetic");
    cr_assert_not_null(title);
    title[7] = 's';                 /* one byte else */
    cr_assert_eq(post("/v1/ccda", "application/xml", NULL, other, len, &r2),
                 422, "%s", r2.body);
    free(other);
    cr_expect(!r2.replayed);
    cr_expect(strstr(r2.body, "\"field\":\"/ClinicalDocument/id\"") != NULL,
              "%s", r2.body);
    http_resp_free(&r2);
    cr_expect_eq(events_total(), 4);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "status = 'quarantined' AND error->>'code' = "
                              "'conflict'"), 1);

    /* a DOCTYPE (entity expansion) is refused before expansion: 422 (well-
     * formed XML of a media type we take, refused by policy: C-CDA has no
     * DTD and the hub expands no entity; 400 is for bytes that are not
     * XML), error code, message and the XPath, at once (no hang), stored
     * in quarantine, no event */
    int64_t t0 = rx_now_ms();
    cr_assert_eq(post("/v1/ccda", "application/xml", NULL, laughs,
                      sizeof(laughs) - 1, &r), 422, "%s", r.body);
    cr_expect_lt(rx_now_ms() - t0, 5000, "answered at once, nothing expanded");
    j = parse(&r);
    const cJSON *err = cJSON_GetObjectItem(j, "error");
    cr_assert_not_null(err, "%s", r.body);
    cr_expect_str_eq(cJSON_GetObjectItem(err, "field")->valuestring, "/");
    cr_expect_str_eq(cJSON_GetObjectItem(err, "code")->valuestring,
                     "unsupported");
    cr_expect(strstr(cJSON_GetObjectItem(err, "message")->valuestring,
                     "entities are not accepted") != NULL, "%s", r.body);
    cJSON_Delete(j);
    http_resp_free(&r);
    cr_expect_eq(events_total(), 4);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "format = 'ccda' AND status = 'quarantined'"), 2);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "format = 'ccda'"), 3);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM audit WHERE action "
                              "= 'message.quarantined'"), 1);

    /* an external entity is never read: the same refusal, and nothing of
     * the file it names reaches the answer or the database */
    static const char xxe[] =
        "<?xml version=\"1.0\"?>\n<!DOCTYPE ClinicalDocument [<!ENTITY xxe "
        "SYSTEM \"file:///etc/passwd\">]>\n<ClinicalDocument xmlns=\"urn:hl7-"
        "org:v3\"><title>&xxe;</title></ClinicalDocument>\n";
    cr_assert_eq(post("/v1/ccda", "application/xml", NULL, xxe,
                      sizeof(xxe) - 1, &r), 422, "%s", r.body);
    cr_expect(strstr(r.body, "root:") == NULL, "%s", r.body);
    cr_expect(strstr(r.body, "\"field\":\"/\"") != NULL, "%s", r.body);
    http_resp_free(&r);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "status = 'quarantined' AND position('root:' in "
                              "convert_from(raw, 'UTF8') || error::text) = 0"),
                 3);
    cr_expect_eq(events_total(), 4);

    /* a document without a patient id: 400 naming the XPath */
    cr_assert_eq(post_file("/v1/ccda", "application/xml",
                           "ccda/synthetic-no-patient-id.xml", &r), 400, "%s",
                 r.body);
    cr_expect(strstr(r.body, "\"field\":\"/ClinicalDocument/recordTarget") !=
                  NULL, "%s", r.body);
    cr_expect(strstr(r.body, "\"offset\"") == NULL, "%s", r.body);
    http_resp_free(&r);
    /* not well-formed (an end tag missing, as in HL7's own Social History
     * Observation example): 400 with the byte libxml2 stopped at, past the
     * </observation> of bytes 69-82 (F1740) */
    static const char unclosed[] =
        "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><observation>"
        "<code code=\"x\"></observation></ClinicalDocument>";
    cr_assert_eq(post("/v1/ccda", "application/xml", NULL, unclosed,
                      sizeof(unclosed) - 1, &r), 400, "%s", r.body);
    cr_expect(strstr(r.body, "\"field\":\"/\",\"offset\":83") != NULL, "%s",
              r.body);
    http_resp_free(&r);
    /* JSON is not a C-CDA media type */
    cr_assert_eq(post("/v1/ccda", "application/json", NULL, "{}", 2, &r), 415);
    http_resp_free(&r);
}

/* ---- CSV -------------------------------------------------------------- */

static const char *const shinny_files[] = {
    "SDOH_PtInfo_LakesideSCN_set1_20260115093000.csv",
    "SDOH_QEadmin_LakesideSCN_set1_20260115093000.csv",
    "SDOH_ScreeningObs_LakesideSCN_set1_20260115093000.csv",
    "SDOH_ScreeningProf_LakesideSCN_set1_20260115093000.csv",
};

#define BOUNDARY "hubE2Eb0undary7"

/* the four files of the Lakeside set as one multipart/form-data body,
 * shinny_files[order[0]] first */
static char *shinny_body_in(const int order[4], size_t *len)
{
    size_t cap = 1 << 20, n = 0;
    char *body = malloc(cap);
    cr_assert_not_null(body);
    for (int k = 0; k < 4; k++) {
        int i = order[k];
        char rel[256];
        size_t flen;
        snprintf(rel, sizeof(rel), "csv/shinny-1115-lakeside-set1/%s",
                 shinny_files[i]);
        char *f = data_file(rel, &flen);
        cr_assert_lt(n + flen + 512, cap);
        n += (size_t)snprintf(body + n, cap - n,
                              "--" BOUNDARY "\r\nContent-Disposition: "
                              "form-data; name=\"f%d\"; filename=\"%s\"\r\n"
                              "Content-Type: text/csv\r\n\r\n",
                              i, shinny_files[i]);
        memcpy(body + n, f, flen);
        n += flen;
        n += (size_t)snprintf(body + n, cap - n, "\r\n");
        free(f);
    }
    n += (size_t)snprintf(body + n, cap - n, "--" BOUNDARY "--\r\n");
    *len = n;
    return body;
}

/* the four files of the Lakeside set as one multipart/form-data body */
static char *shinny_body(size_t *len)
{
    static const int in_order[4] = { 0, 1, 2, 3 };
    return shinny_body_in(in_order, len);
}

/* Round 240's key of a SHIN-NY set, its four hashes, is in the order of
 * the files' roles, not of the parts: the same set with its parts in
 * another order is a re-send, its first answer and no new event. */
Test(docs, csv_shinny_set_in_another_order_is_a_resend,
     .init = start, .fini = stop, .timeout = 60)
{
    static const int other[4] = { 3, 1, 0, 2 };
    struct http_resp r, r2;
    size_t len, len2;
    char *body = shinny_body(&len);
    char *body2 = shinny_body_in(other, &len2);

    cr_assert_eq(post("/v1/csv/shinny",
                      "multipart/form-data; boundary=" BOUNDARY, NULL, body,
                      len, &r), 202, "%s", r.body);
    long events = events_total();
    cr_assert_eq(post("/v1/csv/shinny",
                      "multipart/form-data; boundary=" BOUNDARY, NULL, body2,
                      len2, &r2), 202, "%s", r2.body);
    cr_expect(r2.replayed, "%s", r2.body);
    cr_expect_str_eq(r2.body, r.body);
    cr_expect_eq(events_total(), events);
    http_resp_free(&r);
    http_resp_free(&r2);
    free(body);
    free(body2);
}

Test(docs, csv_shinny_set_via_multipart_and_simple_layout_with_a_bad_row,
     .init = start, .fini = stop, .timeout = 60)
{
    struct http_resp r, r2;
    size_t len;
    char *body = shinny_body(&len);

    cr_assert_eq(post("/v1/csv/shinny",
                      "multipart/form-data; boundary=" BOUNDARY, NULL, body,
                      len, &r), 202, "%s", r.body);
    cJSON *j = parse(&r);
    cr_expect_eq(ids_of(j, "event_ids", NULL, 0), 6, "%s", r.body);
    const cJSON *rep = cJSON_GetObjectItem(j, "report");
    cr_assert_not_null(rep);
    cr_expect_eq(cJSON_GetObjectItem(rep, "events")->valueint, 6);
    cJSON_Delete(j);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events WHERE type "
                              "= 'screening.positive'"), 3);
    /* keyed by its four files' hashes, not its name (F4080) */
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "format = 'csv' AND idem_key ~ "
                              "'^csv:shinny:[0-9a-f]{64}(\\+[0-9a-f]{64}){3}$'"),
                 1);
    cr_assert_eq(post("/v1/csv/shinny",
                      "multipart/form-data; boundary=" BOUNDARY, NULL, body,
                      len, &r2), 202);
    cr_expect_str_eq(r2.body, r.body);
    cr_expect(r2.replayed);
    http_resp_free(&r2);
    /* the same files in another envelope (curl -F draws a new boundary
     * each time): a re-send too, not a conflict kept in quarantine */
    for (char *b = body; (b = strstr(b, BOUNDARY)) != NULL; b++)
        b[sizeof(BOUNDARY) - 2] = '8';
    cr_assert_eq(post("/v1/csv/shinny",
                      "multipart/form-data; boundary=hubE2Eb0undary8", NULL,
                      body, len, &r2), 202, "%s", r2.body);
    cr_expect_str_eq(r2.body, r.body);
    cr_expect(r2.replayed);
    http_resp_free(&r2);
    /* the same four files named for another day: a re-send too */
    for (char *b = body; (b = strstr(b, "filename=\"SDOH_")) != NULL; b++) {
        char *d = strstr(b, "_20260115093000.csv\"");
        cr_assert_not_null(d);
        d[8] = '6';
    }
    cr_assert_eq(post("/v1/csv/shinny",
                      "multipart/form-data; boundary=hubE2Eb0undary8", NULL,
                      body, len, &r2), 202, "%s", r2.body);
    cr_expect_str_eq(r2.body, r.body);
    cr_expect(r2.replayed);
    http_resp_free(&r2);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "error->>'code' = 'conflict'"), 0);
    http_resp_free(&r);
    free(body);
    cr_expect_eq(events_total(), 6, "the same set again: no new event");

    /* simple layout: two screenings, the second row has a bad date */
    static const char csv[] =
        "screening_id,patient_id,instrument,screened_at,question,answer\r\n"
        "S-1,C-001,88121-9,2026-03-01T10:00:00-05:00,88122-7,LA28397-0\r\n"
        "S-2,C-002,88121-9,2026-02-30,88122-7,LA28397-0\r\n"
        "S-3,C-003,88121-9,2026-03-02T11:00:00-05:00,88122-7,LA28398-8\r\n";
    const char *hd[] = { "Content-Type: text/csv",
                         "X-Filename: pantry-2026-03.csv", NULL };
    cr_assert_eq(http_call_h(&hub, true, "POST", "/v1/csv/screenings",
                             "tok-hosp", hd, csv, sizeof(csv) - 1, &r), 0);
    cr_assert_eq(r.status, 202, "%s", r.body);
    j = parse(&r);
    rep = cJSON_GetObjectItem(j, "report");
    cr_expect_eq(cJSON_GetObjectItem(rep, "rejected")->valueint, 1, "%s",
                 r.body);
    cr_expect_eq(cJSON_GetObjectItem(rep, "used")->valueint, 2);
    const cJSON *f = cJSON_GetArrayItem(cJSON_GetObjectItem(rep, "findings"),
                                        0);
    cr_assert_not_null(f, "%s", r.body);
    cr_expect_eq(cJSON_GetObjectItem(f, "row")->valueint, 3);
    cr_expect_eq(cJSON_GetObjectItem(f, "col")->valueint, 4);
    cr_expect_str_eq(cJSON_GetObjectItem(f, "severity")->valuestring, "error");
    int n = ids_of(j, "event_ids", NULL, 0);
    cr_expect_geq(n, 2, "the good rows became events");
    cJSON_Delete(j);
    http_resp_free(&r);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events WHERE "
                              "body::jsonb->'source'->>'message_id' LIKE "
                              "'pantry-2026-03.csv#%'"), n);
    /* keyed by its kind and bytes: csv:screenings:<sha256> (F4080) */
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "idem_key = 'csv:screenings:' || sha256"), 1);

    /* no usable row: 422 with the report, quarantined */
    static const char none[] =
        "screening_id,patient_id,instrument,screened_at,question,answer\n"
        "S-9,C-009,88121-9,yesterday,88122-7,LA28397-0\n";
    cr_assert_eq(http_call_h(&hub, true, "POST", "/v1/csv/screenings",
                             "tok-hosp", hd, none, sizeof(none) - 1, &r), 0);
    cr_expect_eq(r.status, 422, "%s", r.body);
    cr_expect(strstr(r.body, "\"report\"") != NULL, "%s", r.body);
    http_resp_free(&r);
    /* the bad row of the accepted file, and the refused file whole */
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "format = 'csv' AND status = 'quarantined'"), 2);
    /* an unknown kind is not a route */
    cr_assert_eq(post("/v1/csv/rosters", "text/csv", NULL, none,
                      sizeof(none) - 1, &r), 404);
    http_resp_free(&r);
    cr_expect_eq(hub_stop(&hub), 0, "clean exit (LSan sees hubd leaks)");
}

Test(docs, csv_rejected_rows_are_quarantined_one_by_one_with_the_good_rows,
     .init = start, .fini = stop, .timeout = 60)
{
    struct http_resp r;
    /* rows 3 (a date not in the calendar, column 4) and 5 (a column
     * short) are refused; rows 2 and 4 are good */
    static const char csv[] =
        "screening_id,patient_id,instrument,screened_at,question,answer\r\n"
        "S-1,C-001,88121-9,2026-03-01T10:00:00-05:00,88122-7,LA28397-0\r\n"
        "S-2,C-002,88121-9,2026-02-30,88122-7,LA28397-0\r\n"
        "S-3,C-003,88121-9,2026-03-02T11:00:00-05:00,88122-7,LA28398-8\r\n"
        "S-4,C-004,88121-9,2026-03-02T12:00:00-05:00,88122-7\r\n";
    const char *hd[] = { "Content-Type: text/csv",
                         "X-Filename: two-bad-rows.csv", NULL };

    cr_assert_eq(http_call_h(&hub, true, "POST", "/v1/csv/screenings",
                             "tok-hosp", hd, csv, sizeof(csv) - 1, &r), 0);
    cr_assert_eq(r.status, 202, "%s", r.body);
    cJSON *j = parse(&r);
    const cJSON *rep = cJSON_GetObjectItem(j, "report");
    cr_expect_eq(cJSON_GetObjectItem(rep, "rejected")->valueint, 2, "%s",
                 r.body);
    cr_expect_eq(cJSON_GetObjectItem(rep, "used")->valueint, 2);
    int n = ids_of(j, "event_ids", NULL, 0);
    cJSON_Delete(j);
    http_resp_free(&r);

    /* the good rows' events, from the accepted file */
    cr_expect_geq(n, 2);
    cr_expect_eq(sql_count("events WHERE body::jsonb->'source'->>'message_id' LIKE ",
                           "two-bad-rows.csv#%"), n);
    /* each refused row: a quarantined message of its own, its bytes, its
     * place and reason, tied to the file it came in, audited */
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "format = 'csv' AND status = 'quarantined'"), 2);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "status = 'quarantined' AND idem_key IS NULL "
                              "AND error->>'field' = '0:row 3 col 4' AND "
                              "(error->>'row')::int = 3 AND error->>'file' = "
                              "'two-bad-rows.csv' AND error->'errors'->0->>"
                              "'column' = 'screened_at' AND "
                              "convert_from(raw, 'UTF8') = 'S-2,C-002,88121-9,"
                              "2026-02-30,88122-7,LA28397-0'"), 1);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "status = 'quarantined' AND error->>'field' = "
                              "'0:row 5 col 6' AND error->>'message' = 'row "
                              "has fewer columns than the header' AND "
                              "convert_from(raw, 'UTF8') = 'S-4,C-004,88121-9,"
                              "2026-03-02T12:00:00-05:00,88122-7'"), 1);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages q JOIN "
                              "messages a ON a.sha256 = q.error->>'part_of' "
                              "AND a.status = 'accepted' AND a.id < q.id "
                              "WHERE q.status = 'quarantined'"), 2,
                 "stored after the file they came in, in its transaction");
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM audit WHERE action "
                              "= 'message.quarantined'"), 2);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "status = 'accepted'"), 1);

    /* the same file again: a duplicate, and its refused rows are not
     * stored again (they were kept with the first send) */
    static const char quarantined[] =
        "SELECT hashtext(string_agg(id || ':' || sha256, ',' ORDER BY id)) "
        "FROM messages WHERE status = 'quarantined'";
    long first = hub_sql_long(&hub, quarantined);
    long events = hub_sql_long(&hub, "SELECT count(*) FROM events");
    cr_assert_eq(http_call_h(&hub, true, "POST", "/v1/csv/screenings",
                             "tok-hosp", hd, csv, sizeof(csv) - 1, &r), 0);
    cr_expect_lt(r.status, 300, "%s", r.body);
    http_resp_free(&r);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "status = 'accepted'"), 1, "a duplicate");
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events"), events);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "format = 'csv' AND status = 'quarantined'"), 2);
    cr_expect_eq(hub_sql_long(&hub, quarantined), first,
                 "the quarantined rows are exactly those of the first send");
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM audit WHERE action "
                              "= 'message.quarantined'"), 2);
}

/* Round 237's probes over HTTPS of what a CBO's Excel exports meet: an
 * export with M/D/YYYY h:mm times and answers as their text, sent twice
 * under its name and then under a browser's "(1)" name and with no
 * X-Filename ("upload.csv"): each a re-send of the first, answered with
 * its answer and no new event, as an upload is keyed by its kind and its
 * bytes (F4080; F4022 pinned new events here). A UTF-16 TAB-delimited
 * export (Excel's Unicode text) with a bad row: the good row used, the
 * bad one quarantined as the bytes sent (UTF-16), with its row and
 * column. */
Test(docs, csv_same_bytes_under_another_name_and_a_utf16_bad_row,
     .init = start, .fini = stop, .timeout = 60)
{
    struct http_resp r, r1;
    static const char csv[] =
        "screening_id,patient_id,instrument,screened_at,question,answer\r\n"
        "S-1,C-001,96777-8,3/1/2026 10:05,71802-3,LA31994-9\r\n"
        "S-2,C-002,96777-8,3/1/2026 11:05,71802-3,I have a steady place to live\r\n";
    const char *h1[] = { "Content-Type: text/csv",
                         "X-Filename: export.csv", NULL };
    const char *h2[] = { "Content-Type: text/csv",
                         "X-Filename: export (1).csv", NULL };
    const char *h0[] = { "Content-Type: text/csv", NULL };
    const char *const *again[] = { h1, h2, h0 };

    cr_assert_eq(http_call_h(&hub, true, "POST", "/v1/csv/screenings",
                             "tok-hosp", h1, csv, sizeof(csv) - 1, &r1), 0);
    cr_assert_eq(r1.status, 202, "%s", r1.body);
    long events = events_total();
    for (size_t i = 0; i < sizeof(again) / sizeof(again[0]); i++) {
        cr_assert_eq(http_call_h(&hub, true, "POST", "/v1/csv/screenings",
                                 "tok-hosp", again[i], csv, sizeof(csv) - 1,
                                 &r), 0);
        cr_expect_eq(r.status, 202, "send %zu: %s", i, r.body);
        cr_expect_str_eq(r.body, r1.body, "send %zu: the first's answer", i);
        cr_expect(r.replayed, "send %zu", i);
        http_resp_free(&r);
        cr_expect_eq(events_total(), events, "send %zu: no new event", i);
    }
    http_resp_free(&r1);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "format = 'csv'"), 1);

    /* UTF-16LE with BOM, TAB-delimited (Excel's Unicode text), row 3 bad */
    static const char u8[] =
        "screening_id\tpatient_id\tinstrument\tscreened_at\tquestion\tanswer\r\n"
        "S-7\tC-007\t96777-8\t2026-03-01\t71802-3\tLA31994-9\r\n"
        "S-8\tC-008\t96777-8\t2026-02-30\t71802-3\tLA31994-9\r\n";
    char u16[2 * sizeof(u8) + 2];
    size_t n = 0;
    u16[n++] = (char)0xff;
    u16[n++] = (char)0xfe;
    for (size_t i = 0; i + 1 < sizeof(u8); i++) {
        u16[n++] = u8[i];
        u16[n++] = 0;
    }
    const char *h3[] = { "Content-Type: text/csv",
                         "X-Filename: unicode.txt", NULL };
    cr_assert_eq(http_call_h(&hub, true, "POST", "/v1/csv/screenings",
                             "tok-hosp", h3, u16, n, &r), 0);
    cr_assert_eq(r.status, 202, "%s", r.body);
    cJSON *j = parse(&r);
    const cJSON *rep = cJSON_GetObjectItem(j, "report");
    cr_expect_eq(cJSON_GetObjectItem(rep, "used")->valueint, 1, "%s", r.body);
    cr_expect_eq(cJSON_GetObjectItem(rep, "rejected")->valueint, 1);
    cJSON_Delete(j);
    http_resp_free(&r);
    /* row 3 is the header's width plus its own: 46 characters, 92 bytes */
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "status = 'quarantined' AND error->>'file' = "
                              "'unicode.txt' AND error->>'field' = "
                              "'0:row 3 col 4' AND length(raw) = 92 AND "
                              "get_byte(raw, 1) = 0"), 1);
}

/* a food-insecurity screening, positive (88122-7 "Often true") */
static const char pantry_csv[] =
    "screening_id,patient_id,instrument,screened_at,question,answer\r\n"
    "S-1,C-001,88121-9,2026-03-01T10:00:00-05:00,88122-7,LA28397-0\r\n";

/* POST pantry_csv and the rows `extra` (NULL: none) to /v1/csv/screenings
 * as the holder of `token`, with the Idempotency-Key `idem` (NULL: none) */
static long post_pantry_as(const char *token, const char *idem,
                           const char *extra, struct http_resp *r)
{
    char ik[128], body[1024];
    const char *hd[3] = { "Content-Type: text/csv", NULL, NULL };
    int n = snprintf(body, sizeof(body), "%s%s", pantry_csv,
                     extra ? extra : "");

    if (idem) {
        snprintf(ik, sizeof(ik), "Idempotency-Key: %s", idem);
        hd[1] = ik;
    }
    cr_assert_eq(http_call_h(&hub, true, "POST", "/v1/csv/screenings",
                             token, hd, body, (size_t)n, r), 0);
    return r->status;
}

/* POST pantry_csv and the rows `extra` (NULL: none) to /v1/csv/screenings
 * with X-Filename `name` (NULL: none) */
static long post_pantry(const char *name, const char *extra,
                        struct http_resp *r)
{
    char fn[128], body[1024];
    const char *hd[3] = { "Content-Type: text/csv", NULL, NULL };
    int n = snprintf(body, sizeof(body), "%s%s", pantry_csv,
                     extra ? extra : "");

    if (name) {
        snprintf(fn, sizeof(fn), "X-Filename: %s", name);
        hd[1] = fn;
    }
    cr_assert_eq(http_call_h(&hub, true, "POST", "/v1/csv/screenings",
                             "tok-hosp", hd, body, (size_t)n, r), 0);
    return r->status;
}

/* Round 240's key (csv:<kind>:<sha256>) is an organization's: the same
 * export sent by two organizations is two uploads, each with its events
 * (a pantry's template filled by two clinics is not one clinic's re-send);
 * each one's re-send is its own. An Idempotency-Key still wins over the
 * bytes: the same bytes under two keys are two uploads, and under one
 * key they are one whichever the name. */
Test(docs, csv_same_bytes_from_two_organizations_are_two_uploads,
     .init = start, .fini = stop, .timeout = 60)
{
    struct http_resp r, r1;
    struct store *st;
    char sha[65];

    cr_assert_eq(store_connect(hub.db_url, &st), HUB_OK);
    cr_assert_eq(store_org_add(st, "test", "clinic", "Test Clinic", "clinic",
                               SCOPE_INGEST), HUB_OK);
    store_sha256_hex("tok-clinic", 10, sha);
    cr_assert_eq(store_token_add(st, "test", "clinic", sha, "clinic-t1",
                                 SCOPE_INGEST, 0), HUB_OK);
    store_free(st);

    cr_assert_eq(post_pantry_as("tok-hosp", NULL, NULL, &r1), 202, "%s",
                 r1.body);
    long events = events_total();
    cr_assert_gt(events, 0);
    cr_assert_eq(post_pantry_as("tok-clinic", NULL, NULL, &r), 202, "%s",
                 r.body);
    cr_expect_not(r.replayed, "another organization's upload");
    cr_expect_eq(events_total(), 2 * events, "its own events");
    http_resp_free(&r);
    cr_assert_eq(post_pantry_as("tok-clinic", NULL, NULL, &r), 202, "%s",
                 r.body);
    cr_expect(r.replayed, "the clinic's re-send");
    http_resp_free(&r);
    http_resp_free(&r1);
    cr_expect_eq(events_total(), 2 * events);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(DISTINCT org_id) FROM "
                              "messages WHERE format = 'csv' AND idem_key = "
                              "'csv:screenings:' || sha256"), 2);

    /* an Idempotency-Key wins: two keys, two uploads of the same bytes */
    cr_assert_eq(post_pantry_as("tok-hosp", "pantry-k1", NULL, &r1), 202,
                 "%s", r1.body);
    cr_expect_not(r1.replayed, "its key is not its bytes'");
    long e1 = events_total();
    cr_expect_gt(e1, 2 * events);
    cr_assert_eq(post_pantry_as("tok-hosp", "pantry-k2", NULL, &r), 202,
                 "%s", r.body);
    cr_expect_not(r.replayed, "another key");
    http_resp_free(&r);
    cr_expect_gt(events_total(), e1);
    long e2 = events_total();
    cr_assert_eq(post_pantry("renamed.csv", NULL, &r), 202, "%s", r.body);
    cr_expect(r.replayed, "no key: its bytes' upload, sent first");
    http_resp_free(&r);
    cr_assert_eq(post_pantry_as("tok-hosp", "pantry-k1", NULL, &r), 202,
                 "%s", r.body);
    cr_expect(r.replayed, "the key's re-send");
    cr_expect_str_eq(r.body, r1.body);
    http_resp_free(&r);
    http_resp_free(&r1);
    cr_expect_eq(events_total(), e2);
}

/* F4080: the same export under another name (a browser's "(1)", a
 * script's dated X-Filename) is a re-send: the first's answer, no second
 * screening.completed or screening.positive in the events table or the
 * partner's feed, and no second delivery to its subscription. */
Test(docs, csv_renamed_resend_makes_no_event_and_no_delivery,
     .init = start, .fini = stop, .timeout = 60)
{
    struct http_resp r, r1;
    struct rx *rx = rx_start(RX_OK, SECRET);
    char sub[512];
    static const char *const names[] = { "export (1).csv",
                                         "pantry-2026-12-07.csv" };

    cr_assert_not_null(rx);
    snprintf(sub, sizeof(sub),
             "{\"url\":\"http://127.0.0.1:%d/hook\",\"topics\":"
             "[\"screening.positive\"],\"secrets\":[\"" SECRET "\"]}",
             rx->port);
    cr_assert_eq(http_call(&hub, true, "POST", "/v1/subscriptions", "tok-cbo",
                           NULL, sub, strlen(sub), "application/json", &r), 0);
    cr_assert_eq(r.status, 201, "%s", r.body);
    http_resp_free(&r);

    cr_assert_eq(post_pantry("export.csv", NULL, &r1), 202, "%s", r1.body);
    int64_t end = rx_now_ms() + 15000;
    while (hub_sql_long(&hub, "SELECT count(*) FROM delivery_state WHERE "
                        "status = 'delivered'") < 1 && rx_now_ms() < end)
        usleep(20000);
    cr_assert_eq(rx_requests(rx), 1, "the positive event delivered");
    long events = events_total();
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        cr_expect_eq(post_pantry(names[i], NULL, &r), 202, "%s", r.body);
        cr_expect_str_eq(r.body, r1.body, "%s: the first's answer", names[i]);
        cr_expect(r.replayed, "%s", names[i]);
        http_resp_free(&r);
    }
    http_resp_free(&r1);
    cr_expect_eq(events_total(), events, "no new event");
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events WHERE type "
                              "= 'screening.completed'"), 1);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events WHERE type "
                              "= 'screening.positive'"), 1);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "format = 'csv'"), 1);
    /* the partner's feed holds one of each */
    cr_assert_eq(http_call(&hub, true, "GET", "/v1/events", "tok-cbo", NULL,
                           NULL, 0, NULL, &r), 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    int positives = 0;
    for (const char *p = r.body; (p = strstr(p, "\"screening.positive\""));
         p++)
        positives++;
    cr_expect_eq(positives, 1, "%s", r.body);
    http_resp_free(&r);
    /* what a second event would have been delivered by now */
    usleep(500000);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM deliveries"), 1);
    cr_expect_eq(rx_requests(rx), 1, "no second delivery");
    rx_stop(rx);
}

/* F4080: an export sent with no X-Filename ("upload.csv") and again with
 * one is one upload, either way round; other bytes under the same name
 * are a new upload, with their own events. */
Test(docs, csv_with_and_without_a_file_name_is_one_upload,
     .init = start, .fini = stop, .timeout = 60)
{
    struct http_resp r, r1;
    static const char row2[] =
        "S-2,C-002,88121-9,2026-03-02T10:00:00-05:00,88122-7,LA28398-8\r\n";
    static const char row3[] =
        "S-3,C-003,88121-9,2026-03-03T10:00:00-05:00,88122-7,LA28398-8\r\n";

    cr_assert_eq(post_pantry(NULL, NULL, &r1), 202, "%s", r1.body);
    long events = events_total();
    cr_expect_eq(post_pantry("export.csv", NULL, &r), 202, "%s", r.body);
    cr_expect_str_eq(r.body, r1.body);
    cr_expect(r.replayed);
    http_resp_free(&r);
    http_resp_free(&r1);
    cr_expect_eq(events_total(), events, "no X-Filename, then one: a re-send");

    cr_assert_eq(post_pantry("export.csv", row2, &r1), 202, "%s", r1.body);
    cr_expect_not(r1.replayed, "other bytes under the same name");
    long events2 = events_total();
    cr_expect_gt(events2, events, "other bytes: new events");
    cr_expect_eq(post_pantry(NULL, row2, &r), 202, "%s", r.body);
    cr_expect_str_eq(r.body, r1.body);
    cr_expect(r.replayed);
    http_resp_free(&r);
    http_resp_free(&r1);
    cr_expect_eq(events_total(), events2, "one, then no X-Filename: a re-send");

    cr_assert_eq(post_pantry(NULL, row3, &r), 202, "%s", r.body);
    cr_expect_not(r.replayed, "other bytes with no X-Filename");
    http_resp_free(&r);
    cr_expect_gt(events_total(), events2);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "format = 'csv'"), 3);
}

/* F4080: an upload stored before the change holds its key with its file
 * name in it (csv:<kind>:<name>:<sha256>): re-sent under that name it is
 * still found, a re-send with no new event. Re-sent under another name
 * it is not (no index finds a key by its hash alone): new events, once,
 * under the new key, which a later re-send under any name finds. */
Test(docs, csv_upload_keyed_by_its_name_before_is_still_found,
     .init = start, .fini = stop, .timeout = 60)
{
    struct http_resp r, r1;

    cr_assert_eq(post_pantry("export.csv", NULL, &r1), 202, "%s", r1.body);
    /* its key as the code before the change stored it */
    cr_assert_eq(hub_sql_long(&hub, "WITH u AS (UPDATE messages SET idem_key "
                              "= 'csv:screenings:export.csv:' || sha256 WHERE "
                              "format = 'csv' AND idem_key = "
                              "'csv:screenings:' || sha256 RETURNING 1) "
                              "SELECT count(*) FROM u"), 1);
    long events = events_total();
    cr_expect_eq(post_pantry("export.csv", NULL, &r), 202, "%s", r.body);
    cr_expect_str_eq(r.body, r1.body);
    cr_expect(r.replayed);
    http_resp_free(&r);
    http_resp_free(&r1);
    cr_expect_eq(events_total(), events, "its old key found: no new event");
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "format = 'csv'"), 1);

    cr_assert_eq(post_pantry("export (1).csv", NULL, &r1), 202, "%s",
                 r1.body);
    cr_expect_not(r1.replayed);
    long events2 = events_total();
    cr_expect_eq(events2, 2 * events, "another name: not found, new events");
    cr_expect_eq(post_pantry("export (2).csv", NULL, &r), 202, "%s", r.body);
    cr_expect_str_eq(r.body, r1.body);
    cr_expect(r.replayed);
    http_resp_free(&r);
    http_resp_free(&r1);
    cr_expect_eq(events_total(), events2, "then keyed by its bytes");
}

Test(docs, large_csv_is_normalized_off_the_loop_and_stored_whole,
     .init = start, .fini = stop, .timeout = 120)
{
    struct http_resp r, r2;
    const int rows = 2000;
    size_t cap = 512u << 10, n = 0;
    char *csv = malloc(cap);

    cr_assert_not_null(csv);
    n += (size_t)snprintf(csv, cap, "screening_id,patient_id,"
                          "patient_id_system,instrument,screened_at,"
                          "question,answer\n");
    for (int i = 0; i < rows; i++)
        n += (size_t)snprintf(csv + n, cap - n,
                              "S-%05d,C-%05d,urn:example:pantry:clients:"
                              "a-system-uri-long-enough-to-pad-rows,88121-9,"
                              "2026-03-01T10:00:00-05:00,88122-7,LA28398-8\n",
                              i, i);
    cr_assert_gt(n, 256u << 10, "over the inline limit: %zu", n);
    const char *hd[] = { "Content-Type: text/csv", "X-Filename: big.csv",
                         NULL };
    cr_assert_eq(http_call_h(&hub, true, "POST", "/v1/csv/screenings",
                             "tok-hosp", hd, csv, n, &r), 0);
    cr_assert_eq(r.status, 202, "%s", r.status == 202 ? "" : r.body);
    cJSON *j = parse(&r);
    cr_expect_eq(ids_of(j, "event_ids", NULL, 0), rows);
    cr_expect_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "report"),
                                     "used")->valueint, rows);
    cJSON_Delete(j);
    cr_expect_eq(events_total(), rows);
    cr_assert_eq(http_call_h(&hub, true, "POST", "/v1/csv/screenings",
                             "tok-hosp", hd, csv, n, &r2), 0);
    cr_expect_eq(r2.status, 202);
    cr_expect(r2.replayed);
    cr_expect_eq(r2.len, r.len);
    cr_expect_eq(events_total(), rows, "a re-send: no new event");
    http_resp_free(&r2);
    http_resp_free(&r);
    free(csv);
}

/* The events as stored (hub fields filled by the ingest transaction) are
 * canonical events: tests/tools/validate.js checks them against
 * schemas/canonical-event.schema.json, from a scratch root whose
 * tests/data holds them and whose schemas/ is the repository's. */
Test(docs, stored_events_of_every_format_validate_against_the_schema,
     .init = start, .fini = stop, .timeout = 120)
{
    struct http_resp r;
    size_t len;
    char *body = shinny_body(&len);

    cr_assert_eq(post_file("/v1/fhir", "application/fhir+json",
                           "fhir/bundle-ahc-panel-transaction.json", &r), 202);
    http_resp_free(&r);
    cr_assert_eq(post_file("/v1/fhir", "application/fhir+json",
                           "fhir/bundle-referral-batch-partial.json", &r), 200);
    http_resp_free(&r);
    cr_assert_eq(post_file("/v1/ccda", "application/xml",
                           "ccda/synthetic-sdoh-problems-goals-plan.xml", &r),
                 202, "%s", r.body);
    http_resp_free(&r);
    cr_assert_eq(post("/v1/csv/shinny",
                      "multipart/form-data; boundary=" BOUNDARY, NULL, body,
                      len, &r), 202);
    http_resp_free(&r);
    free(body);
    cr_assert_gt(events_total(), 10);

    struct store *s;
    char *json = NULL;
    cr_assert_eq(store_connect(hub.db_url, &s), HUB_OK);
    cr_assert_eq(store_query_text(s, "SELECT json_agg(body::json ORDER BY seq) "
                                     "FROM events", 0, NULL, &json), HUB_OK);
    store_free(s);
    cr_assert_not_null(json);

    char dir[] = "/tmp/hub-schema-XXXXXX", cmd[2048], path[1024];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s/tests/data' && ln -s "
             "'%s/schemas' '%s/schemas'", dir, testdb_root(), dir);
    cr_assert_eq(system(cmd), 0);
    snprintf(path, sizeof(path), "%s/tests/data/stored.json", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(json, f);
    fclose(f);
    free(json);
    snprintf(cmd, sizeof(cmd), "node '%s/tests/tools/validate.js' '%s' > "
             "'%s/out.txt' 2>&1", testdb_root(), dir, dir);
    int st = system(cmd);
    snprintf(path, sizeof(path), "%s/out.txt", dir);
    static char out[8192];
    f = fopen(path, "r");
    size_t n = f ? fread(out, 1, sizeof(out) - 1, f) : 0;
    out[n] = '\0';
    if (f)
        fclose(f);
    cr_expect_eq(st, 0, "schema validation failed:\n%s", out);
    cr_expect(strstr(out, " 0 failed") != NULL, "%s", out);
    /* each stored event checked twice (as stored, and with test hub
     * fields), beside the schema's own self-checks */
    const char *c = strstr(out, "validate: ");
    cr_assert_not_null(c, "%s", out);
    long checks = strtol(c + 10, NULL, 10);
    cr_expect_geq(checks, 2 * events_total(), "%s", out);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}

/* ---- start-up, routing, limits, back-pressure -------------------------- */

Test(docs, refuses_to_start_when_the_dictionary_does_not_validate,
     .fini = stop, .timeout = 60)
{
    char dir[] = "/tmp/hub-dict-XXXXXX", cmd[2048], conf[512];

    cr_assert_not_null(mkdtemp(dir));
    snprintf(cmd, sizeof(cmd), "cp '%s'/schemas/dict/*.json '%s'/ && "
             "printf '{\"rows\": [' > '%s/zcodes.json'", testdb_root(), dir,
             dir);
    cr_assert_eq(system(cmd), 0);
    snprintf(conf, sizeof(conf), "dict_dir = %s\n", dir);
    cr_expect_eq(hub_start(&hub, conf, false), -1, "hubd must not start");
    FILE *f = fopen(hub_path(&hub, "hubd.log"), "r");
    cr_assert_not_null(f);
    static char log[16384];
    size_t n = fread(log, 1, sizeof(log) - 1, f);
    log[n] = '\0';
    fclose(f);
    cr_expect(strstr(log, "hubd.dict_invalid") != NULL, "%s", log);
    cr_expect(strstr(log, "file=zcodes.json") != NULL, "%s", log);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}

/* the text of hubd.log, into a static buffer */
static const char *hub_log(void)
{
    static char log[16384];
    FILE *f = fopen(hub_path(&hub, "hubd.log"), "r");
    size_t n = f ? fread(log, 1, sizeof(log) - 1, f) : 0;

    log[n] = '\0';
    if (f)
        fclose(f);
    return log;
}

Test(docs, a_port_in_use_is_named_with_the_reason,
     .fini = stop, .timeout = 60)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t len = sizeof(sa);
    char conf[128];
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    /* a port someone else holds, as a second hubd would find it */
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    cr_assert_eq(listen(fd, 1), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    snprintf(conf, sizeof(conf), "https_port = %d\n", ntohs(sa.sin_port));
    cr_expect_eq(hub_start(&hub, conf, false), -1, "hubd must not start");
    const char *log = hub_log();
    cr_expect(strstr(log, "http.bind_failed") != NULL, "%s", log);
    cr_expect(strstr(log, "why=\"Address already in use\"") != NULL, "%s",
              log);
    cr_expect(strstr(log, "hubd.start_failed") != NULL, "%s", log);
    close(fd);
}

/* a production configuration names its database (never connected to by
 * --check-config) */
#define DB_LINE "database_url = postgresql://hub@db.example/hub\n"

/* This build's hubd ($HUB_BUILD, absolute or under the repository root;
 * default build) run from the repository root as "PRE hubd ARGS 2>ERR"
 * (PRE: variable settings, a `timeout N`; ERR "&1" or "/dev/null"). Its
 * output goes into out (NUL-terminated, cut to size), the rest is read
 * and dropped so that hubd never dies of a closed pipe. Returns its exit
 * status, -1 when it did not exit. */
static int hubd_run(const char *pre, const char *args, const char *err,
                    char *out, size_t size)
{
    char cmd[4096], sink[512];
    const char *b = getenv("HUB_BUILD");

    if (b && b[0] == '/')
        snprintf(cmd, sizeof(cmd), "cd '%s' && %s '%s/hubd' %s 2>%s",
                 testdb_root(), pre, b, args, err);
    else
        snprintf(cmd, sizeof(cmd), "cd '%s' && %s '%s/%s/hubd' %s 2>%s",
                 testdb_root(), pre, testdb_root(), b && *b ? b : "build",
                 args, err);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    while (fread(sink, 1, sizeof(sink), p) > 0)
        ;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* `hubd --check-config` with the config text `conf`: its exit status,
 * stderr and stdout into out */
static int check_config(const char *conf, char *out, size_t size)
{
    char path[] = "/tmp/hub-conf-XXXXXX", args[256];
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, conf, strlen(conf)), (ssize_t)strlen(conf));
    close(fd);
    snprintf(args, sizeof(args), "-c '%s' --check-config", path);
    int rc = hubd_run("", args, "&1", out, size);
    unlink(path);
    return rc;
}

/* The production profile's TLS listeners without their certificate would
 * leave hubd with no API at all: it refuses to start, and --check-config
 * says so; with those listeners off it starts. */
Test(docs, production_without_its_certificate_refuses_to_start)
{
    char out[4096];

    cr_expect_eq(check_config("profile = production\n"
                              "tls_cert = /nonexistent/server.crt\n",
                              out, sizeof(out)), 2, "%s", out);
    cr_expect(strstr(out, "tls_cert (/nonexistent/server.crt) is not "
                          "readable") != NULL, "%s", out);
    cr_expect_eq(check_config("profile = production\nhttps_port = -1\n"
                              "mllps_port = -1\n" DB_LINE, out, sizeof(out)),
                 0, "%s", out);
    cr_expect(strstr(out, "configuration ok") != NULL, "%s", out);
}

/* The production profile has no private database to fall back on: a
 * configuration without database_url passed --check-config (systemd's
 * ExecStartPre) and hubd stopped at start with hubd.no_database (F447). */
Test(docs, production_without_a_database_url_fails_check_config)
{
    char out[4096];

    unsetenv("DATABASE_URL");
    cr_expect_eq(check_config("profile = production\nhttps_port = -1\n"
                              "mllps_port = -1\n", out, sizeof(out)), 2,
                 "%s", out);
    cr_expect(strstr(out, "database_url: the production profile needs "
                          "one") != NULL, "%s", out);
    cr_expect(strstr(out, "configuration ok") == NULL, "%s", out);
}

/* The dev profile starts without TLS when tls_cert is not readable: a
 * mistyped path passed --check-config as "configuration ok", and hubd's
 * log named no file (F1460). --check-config warns, naming the file and
 * the listeners that will not run, and still passes. */
Test(docs, check_config_names_a_dev_certificate_that_is_missing)
{
    char out[4096];

    unsetenv("DATABASE_URL");
    cr_expect_eq(check_config("tls_cert = /nonexistent/typo.crt\n", out,
                              sizeof(out)), 0, "%s", out);
    cr_expect(strstr(out, "tls_cert (/nonexistent/typo.crt) is not "
                          "readable: the dev profile starts without "
                          "https_port and mllps_port") != NULL, "%s", out);
    cr_expect(strstr(out, "configuration ok") != NULL, "%s", out);
    cr_expect_eq(check_config("tls_cert = /nonexistent/typo.crt\n"
                              "https_port = -1\nmllps_port = -1\n", out,
                              sizeof(out)), 0, "%s", out);
    cr_expect(strstr(out, "not readable") == NULL, "no listener needs it: %s",
              out);
}

/* A database_url libpq cannot parse (a typo in a parameter's name, a
 * word that is no URL) passed --check-config, and hubd started and
 * retried it for ever, its log saying only store.connect_failed
 * sqlstate=08001 (F1461): refused, exit 2, the key named and the URL,
 * which may hold a password, never quoted. */
Test(docs, check_config_refuses_a_database_url_libpq_cannot_parse)
{
    static const char *const bad[] = {
        "database_url = postgresql://hub:s3cretpw@db.example/hub"
        "?sslmod=require\n",
        "database_url = s3cretpw\n",
    };
    char out[4096];

    unsetenv("DATABASE_URL");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_expect_eq(check_config(bad[i], out, sizeof(out)), 2, "%s: %s",
                     bad[i], out);
        cr_expect(strstr(out, "database_url: DATABASE_URL is not a libpq "
                              "URL") != NULL, "%s", out);
        cr_expect(strstr(out, "s3cretpw") == NULL, "%s", out);
        cr_expect(strstr(out, "configuration ok") == NULL, "%s", out);
    }
    cr_expect_eq(check_config("database_url = postgresql://hub:s3cretpw@"
                              "db.example/hub?sslmode=require\n", out,
                              sizeof(out)), 0, "%s", out);
}

/* The dev profile migrates at start: on a database it cannot reach hubd
 * stopped with "hubd.migrate_failed why=cannot connect", the operator
 * left to guess what to try (F1465). The line names the tool that says
 * why (the log itself holds no URL, no server text). */
Test(docs, dev_start_on_a_database_it_cannot_reach_says_how_to_learn_why,
     .timeout = 30)
{
    char out[8192];
    int rc = hubd_run("DATABASE_URL='postgresql://hub:s3cretpw@127.0.0.1:1/"
                      "hub' HUB_HTTPS_PORT=-1 HUB_MLLPS_PORT=-1 "
                      "HUB_MLLP_PORT=-1 HUB_HTTP_PORT=-1 HUB_DISPATCH=0 "
                      "timeout 10", "", "&1", out, sizeof(out));

    cr_expect_eq(rc, 1, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "hubd.migrate_failed") != NULL, "%s", out);
    cr_expect(strstr(out, "hubctl org list with the same DATABASE_URL") !=
              NULL, "%s", out);
    cr_expect(strstr(out, "s3cretpw") == NULL, "%s", out);
}

/* hubd in the production profile (no migration at start) on `url` with no
 * listener, for at most two seconds: its exit status (124: still running
 * at the deadline) and its log into out */
static int run_production(const char *url, char *out, size_t size)
{
    char pre[2048];

    snprintf(pre, sizeof(pre), "DATABASE_URL='%s' HUB_PROFILE=production "
             "HUB_HTTPS_PORT=-1 HUB_MLLPS_PORT=-1 HUB_MLLP_PORT=-1 "
             "HUB_DISPATCH=0 HUB_PRUNE_INTERVAL=0 HUB_MIGRATIONS_DIR='%s' "
             "timeout 2", url, testdb_migrations_dir());
    return hubd_run(pre, "", "&1", out, size);
}

/* The production profile does not migrate at start: on a database that
 * `hubctl migrate` has not brought to the binary's files (a first start,
 * an upgrade) hubd stopped being useful without saying why, every query
 * failing with SQLSTATE 42883 or 42P01 in the log. It refuses to start,
 * naming the first file missing and the fix (F441); migrated, it runs. */
Test(docs, production_refuses_a_database_not_migrated, .timeout = 30)
{
    char out[8192], *url = testdb_create(), *gone = NULL;
    struct store *s;

    cr_assert_not_null(url);
    cr_assert_eq(store_connect(url, &s), HUB_OK);
    cr_assert_eq(store_query_text(s, "DELETE FROM schema_migrations WHERE "
                                  "version = '002' RETURNING name", 0, NULL,
                                  &gone), HUB_OK);
    cr_assert_not_null(gone);
    cr_expect_eq(run_production(url, out, sizeof(out)), 2, "%s", out);
    cr_expect(strstr(out, "hubd.not_migrated file=002_") != NULL, "%s", out);
    cr_expect(strstr(out, "hubctl migrate") != NULL, "%s", out);
    cr_expect(strstr(out, "hubd.started") == NULL, "%s", out);
    /* as `hubctl migrate` records it (the file itself is still applied) */
    const char *p[] = { gone };
    char *back = NULL;
    cr_assert_eq(store_query_text(s, "INSERT INTO schema_migrations "
                                  "(version, name, sha256) VALUES ('002', "
                                  "$1, '') RETURNING version", 1, p, &back),
                 HUB_OK);
    free(back);
    free(gone);
    cr_expect_eq(run_production(url, out, sizeof(out)), 124, "%s", out);
    cr_expect(strstr(out, "hubd.started profile=production") != NULL, "%s",
              out);
    cr_expect(strstr(out, "not_migrated") == NULL, "%s", out);
    store_free(s);
    testdb_drop(url);
}

/* --check-config validates the egress proxy (webhook_proxy): a URL it
 * could not use (no port, SOCKS, a path) is refused, exit 2, and the
 * message never quotes it (it may hold a password); a CA bundle for the
 * proxy must be readable and only goes with an https:// proxy; a good
 * one passes, credentials and all. */
Test(docs, check_config_validates_the_webhook_proxy)
{
    static const char *const bad[] = {
        "webhook_proxy = http://hub:s3cr3t-pw@proxy.example\n",
        "webhook_proxy = socks5://hub:s3cr3t-pw@proxy.example:1080\n",
        "webhook_proxy = http://hub:s3cr3t-pw@proxy.example:3128/x\n",
        "webhook_proxy = http://hub:s3cr3t-pw@:3128\n",
        "webhook_proxy = http://hub:s3cr3t-pw@proxy.example:99999\n",
        "webhook_proxy = https://hub:s3cr3t-pw@proxy.example:3128\n"
        "webhook_proxy_ca = /nonexistent/proxy-ca.crt\n",
        "webhook_proxy = http://hub:s3cr3t-pw@proxy.example:3128\n"
        "webhook_proxy_ca = /etc/hostname\n",
    };
    char out[4096];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_expect_eq(check_config(bad[i], out, sizeof(out)), 2, "%s: %s",
                     bad[i], out);
        cr_expect(strstr(out, "webhook_proxy") != NULL, "%s", out);
        cr_expect(strstr(out, "s3cr3t-pw") == NULL, "the password: %s", out);
    }
    cr_expect_eq(check_config("webhook_proxy = "
                              "http://hub:s3cr3t-pw@proxy.example:3128\n",
                              out, sizeof(out)), 0, "%s", out);
    cr_expect(strstr(out, "configuration ok") != NULL, "%s", out);
    cr_expect_eq(check_config("webhook_proxy = https://[2001:db8::1]:443/\n"
                              "webhook_proxy_ca = /etc/hostname\n", out,
                              sizeof(out)), 0, "%s", out);
}

/* --check-config (systemd's ExecStartPre) loads the TLS files as hubd
 * will: a key that is not the certificate's is refused there, with the
 * file named, instead of at start. */
Test(docs, check_config_loads_the_tls_files)
{
    char dir[] = "/tmp/hub-certs-XXXXXX", cmd[1024], conf[2048], out[4096];

    cr_assert_not_null(mkdtemp(dir));
    snprintf(cmd, sizeof(cmd), "'%s/certs/mkcerts.sh' '%s' hosp "
             ">/dev/null 2>&1", testdb_root(), dir);
    cr_assert_eq(system(cmd), 0, "mkcerts.sh failed");
    snprintf(conf, sizeof(conf), "profile = production\n"
             "tls_cert = %s/server.crt\ntls_key = %s/hosp.key\n"
             "tls_ca = %s/ca.crt\n", dir, dir, dir);
    /* a key that loads but is another certificate's is named as such,
     * not as unreadable (the operator looks at the pair, not the file) */
    cr_expect_eq(check_config(conf, out, sizeof(out)), 2, "%s", out);
    cr_expect(strstr(out, "hosp.key: not the private key of ") != NULL,
              "%s", out);
    cr_expect(strstr(out, "/server.crt") != NULL, "%s", out);
    /* a file that holds no key at all cannot be loaded */
    snprintf(conf, sizeof(conf), "profile = production\n"
             "tls_cert = %s/server.crt\ntls_key = %s/ca.crt\n"
             "tls_ca = %s/ca.crt\n", dir, dir, dir);
    cr_expect_eq(check_config(conf, out, sizeof(out)), 2, "%s", out);
    cr_expect(strstr(out, "ca.crt: cannot load the private key") != NULL,
              "%s", out);
    snprintf(conf, sizeof(conf), "profile = production\n" DB_LINE
             "tls_cert = %s/server.crt\ntls_key = %s/server.key\n"
             "tls_ca = %s/ca.crt\n", dir, dir, dir);
    cr_expect_eq(check_config(conf, out, sizeof(out)), 0, "%s", out);
    cr_expect(strstr(out, "configuration ok") != NULL, "%s", out);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}

Test(docs, hubd_help_prints_the_usage_on_stdout_and_exits_0)
{
    char out[2048];
    int rc = hubd_run("", "--help", "/dev/null", out, sizeof(out));

    cr_expect_eq(rc, 0, "exit %d", rc);
    cr_expect(strstr(out, "usage: hubd") != NULL, "%s", out);
    cr_expect(strstr(out, "deploy/hubd.conf.example") != NULL, "%s", out);
}

/* `hubd -c` with no FILE after it was refused as "unknown argument
 * '-c'", the option hubd's usage itself names (F1464): it says the FILE
 * is missing, exit 2. */
Test(docs, hubd_c_without_a_file_says_the_file_is_missing)
{
    char out[2048];
    int rc = hubd_run("", "-c", "&1", out, sizeof(out));

    cr_expect_eq(rc, 2, "exit %d", rc);
    cr_expect(strstr(out, "hubd: -c needs a FILE") != NULL, "%s", out);
    cr_expect(strstr(out, "unknown argument") == NULL, "%s", out);
}

Test(docs, screening_positive_subscription_gets_the_fhir_event,
     .init = start, .fini = stop, .timeout = 60)
{
    struct http_resp r;
    struct rx *rx = rx_start(RX_OK, SECRET);
    char sub[512], first[64];

    cr_assert_not_null(rx);
    /* the sample's HITS answers disclose violence (hurt Rarely): its
     * screening is labelled sdv (F61), so the subscriber opts in to it,
     * which an operator grants first (hubctl org update --labels); without
     * the grant the opt-in is refused, naming the filter */
    snprintf(sub, sizeof(sub),
             "{\"url\":\"http://127.0.0.1:%d/hook\",\"topics\":"
             "[\"screening.positive\"],\"filters\":{\"sensitivity\":"
             "[\"sdv\"]},\"secrets\":[\"" SECRET "\"]}", rx->port);
    cr_assert_eq(http_call(&hub, true, "POST", "/v1/subscriptions", "tok-cbo",
                           NULL, sub, strlen(sub), "application/json", &r), 0);
    cr_assert_eq(r.status, 403, "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"field\":\"filters.sensitivity\""),
                       "%s", r.body);
    http_resp_free(&r);
    cr_assert_eq(hub_sql_long(&hub, "WITH u AS (UPDATE organizations SET "
                              "labels = '{sdv}' WHERE id = 'cbo' RETURNING 1) "
                              "SELECT count(*) FROM u"), 1);
    snprintf(sub, sizeof(sub),
             "{\"url\":\"http://127.0.0.1:%d/hook\",\"topics\":"
             "[\"screening.positive\"],\"filters\":{\"domains\":"
             "[\"food-insecurity\"],\"sensitivity\":[\"sdv\"]},"
             "\"secrets\":[\"" SECRET "\"]}",
             rx->port);
    cr_assert_eq(http_call(&hub, true, "POST", "/v1/subscriptions", "tok-cbo",
                           NULL, sub, strlen(sub), "application/json", &r), 0);
    cr_assert_eq(r.status, 201, "%s", r.body);
    http_resp_free(&r);

    cr_assert_eq(post_file("/v1/fhir", "application/fhir+json",
                           "fhir/bundle-ahc-panel-transaction.json", &r), 202);
    cJSON *j = parse(&r);
    ids_of(j, "event_ids", first, sizeof(first));
    cJSON_Delete(j);
    http_resp_free(&r);
    int64_t end = rx_now_ms() + 15000;
    while (hub_sql_long(&hub, "SELECT count(*) FROM delivery_state WHERE status "
                        "= 'delivered'") < 1 && rx_now_ms() < end)
        usleep(20000);
    cr_expect_eq(rx_requests(rx), 1, "one delivery: the positive event");
    cr_expect_eq(rx->bad_sigs, 0);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM delivery_state d "
                              "JOIN events e ON e.seq = d.event_seq WHERE "
                              "d.status = 'delivered' AND e.type = "
                              "'screening.positive'"), 1);
    /* the completed event was not routed to the screening.positive sub */
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM deliveries"), 1);
    /* and the cbo reads it in its pull feed */
    cr_assert_eq(http_call(&hub, true, "GET", "/v1/events", "tok-cbo", NULL,
                           NULL, 0, NULL, &r), 0);
    cr_expect(strstr(r.body, "screening.positive") != NULL, "%s", r.body);
    http_resp_free(&r);
    rx_stop(rx);
}

/* F1162: HL7 Chile's "Transport too expensive" assessment is filed under
 * transportation-insecurity and financial-insecurity; a partner filtered
 * on the second domain's positives is routed it through hubd's adapter
 * and router, one filtered on a domain it does not name is not. */
Test(docs, a_two_category_assessment_reaches_the_second_domains_filter,
     .init = start, .fini = stop, .timeout = 60)
{
    struct http_resp r;
    struct rx *rx = rx_start(RX_OK, SECRET);
    char sub[512], fin[80], food[80];
    const char *const doms[2] = { "financial-insecurity", "food-insecurity" };
    char *ids[2] = { fin, food };

    cr_assert_not_null(rx);
    for (int i = 0; i < 2; i++) {
        snprintf(sub, sizeof(sub),
                 "{\"url\":\"http://127.0.0.1:%d/hook\",\"topics\":"
                 "[\"screening.positive\"],\"filters\":{\"domains\":"
                 "[\"%s\"]},\"secrets\":[\"" SECRET "\"]}", rx->port,
                 doms[i]);
        cr_assert_eq(http_call(&hub, true, "POST", "/v1/subscriptions",
                               "tok-cbo", NULL, sub, strlen(sub),
                               "application/json", &r), 0);
        cr_assert_eq(r.status, 201, "%s", r.body);
        hub_json_str(r.body, "id", ids[i], 80);
        http_resp_free(&r);
    }
    cr_assert_eq(post_file("/v1/fhir", "application/fhir+json",
                           "real/fhir/r99-sdohcl_Observation-Ejemplo-"
                           "EvObsTransporte.json", &r), 202, "%s", r.body);
    http_resp_free(&r);
    int64_t end = rx_now_ms() + 15000;
    while (hub_sql_long(&hub, "SELECT count(*) FROM delivery_state WHERE status "
                        "= 'delivered'") < 1 && rx_now_ms() < end)
        usleep(20000);
    cr_expect_eq(rx_requests(rx), 1, "one delivery: the positive event");
    cr_expect_eq(sql_count("deliveries d JOIN events e ON e.seq = "
                           "d.event_seq WHERE e.type = 'screening.positive' "
                           "AND d.subscription_id = ", fin), 1,
                 "the financial-insecurity filter was not routed the event");
    cr_expect_eq(sql_count("deliveries WHERE subscription_id = ", food), 0,
                 "routed to a domain the assessment does not name");
    rx_stop(rx);
}

/* F780: an HL7 v2 admit whose sender protects the patient (PD1-12 Y) or
 * restricts access (ARV) is labelled restricted, so it reaches only a
 * subscription that opted in to restricted, which an operator granted;
 * the same admit without them reaches both. Through the real hubd, its
 * router and database: the delivery rows each admit made. */
Test(docs, an_hl7_protection_indicator_reaches_only_who_opted_in,
     .init = start, .fini = stop, .timeout = 60)
{
    static const char *const adt[] = {
        "MSH|^~\\&|APP|FAC|HUB|HUB|20260115093000||ADT^A01|PROT-Y|P|2.5\r"
        "PID|1||PROT1^^^FAC^MR||Doe^Jo||19800131|F\r"
        "PD1||||||||||||Y\rPV1|1|I\r",
        "MSH|^~\\&|APP|FAC|HUB|HUB|20260115093000||ADT^A01|PROT-ARV|P|2.6\r"
        "PID|1||PROT2^^^FAC^MR||Doe^Jo||19800131|F\r"
        "ARV|1|A|DEM|PAT\rPV1|1|I\r",
        "MSH|^~\\&|APP|FAC|HUB|HUB|20260115093000||ADT^A01|PROT-N|P|2.5\r"
        "PID|1||PROT3^^^FAC^MR||Doe^Jo||19800131|F\r"
        "PD1||||||||||||N\rARV|1|D|DEM|PAT\rPV1|1|I\r",
    };
    struct http_resp r;
    static const char plain[] =
        "{\"url\":\"http://127.0.0.1:9/plain\",\"topics\":[\"adt.*\"]}";
    static const char opted[] =
        "{\"url\":\"http://127.0.0.1:9/opted\",\"topics\":[\"adt.*\"],"
        "\"filters\":{\"sensitivity\":[\"restricted\"]}}";

    cr_assert_eq(hub_sql_long(&hub, "WITH u AS (UPDATE organizations SET "
                              "labels = '{restricted}' WHERE id = 'cbo' "
                              "RETURNING 1) SELECT count(*) FROM u"), 1);
    cr_assert_eq(http_call(&hub, true, "POST", "/v1/subscriptions", "tok-cbo",
                           NULL, plain, sizeof(plain) - 1, "application/json",
                           &r), 0);
    cr_assert_eq(r.status, 201, "%s", r.body);
    http_resp_free(&r);
    cr_assert_eq(http_call(&hub, true, "POST", "/v1/subscriptions", "tok-cbo",
                           NULL, opted, sizeof(opted) - 1, "application/json",
                           &r), 0);
    cr_assert_eq(r.status, 201, "%s", r.body);
    http_resp_free(&r);
    for (size_t k = 0; k < 3; k++) {
        cr_assert_eq(post("/v1/hl7v2", NULL, NULL, adt[k], strlen(adt[k]),
                          &r), 202, "%s", r.body);
        http_resp_free(&r);
    }
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events WHERE "
                              "body::jsonb->'sensitivity' ? 'restricted'"), 2);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM deliveries WHERE "
                              "url LIKE '%/plain'"), 1, "the N admit only");
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM deliveries d JOIN "
                              "events e ON e.seq = d.event_seq WHERE d.url "
                              "LIKE '%/plain' AND e.body::jsonb->'source'->>"
                              "'message_id' = 'PROT-N'"), 1);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM deliveries WHERE "
                              "url LIKE '%/opted'"), 3, "all three");
}

/* F940: an access restriction of HIV data (ARV-3 HIV) labels the admit
 * hiv as well as restricted (security-labels.json "v2-0717"): a
 * subscription granted and listing restricted but not hiv does not
 * receive it, one listing both does; a restriction of demographics
 * reaches both, and one deleted (ARV-2 D) reaches the subscription with
 * no filter. Through the real hubd, its dictionary, router and database. */
Test(docs, an_hl7_restriction_of_hiv_data_reaches_only_who_has_hiv,
     .init = start, .fini = stop, .timeout = 60)
{
    static const char *const adt[] = {
        "MSH|^~\\&|APP|FAC|HUB|HUB|20260115093000||ADT^A01|ARV-HIV|P|2.6\r"
        "PID|1||ARVH1^^^FAC^MR||Doe^Jo||19800131|F\r"
        "ARV|1|A|HIV^HIV status and results^HL70717|PAT\rPV1|1|I\r",
        "MSH|^~\\&|APP|FAC|HUB|HUB|20260115093000||ADT^A01|ARV-DEM|P|2.6\r"
        "PID|1||ARVH2^^^FAC^MR||Doe^Jo||19800131|F\r"
        "ARV|1|A|DEM|PAT\rPV1|1|I\r",
        "MSH|^~\\&|APP|FAC|HUB|HUB|20260115093000||ADT^A01|ARV-DEL|P|2.6\r"
        "PID|1||ARVH3^^^FAC^MR||Doe^Jo||19800131|F\r"
        "ARV|1|D|HIV|PAT\rPV1|1|I\r",
    };
    struct http_resp r;
    static const char *const subs[] = {
        "{\"url\":\"http://127.0.0.1:9/plain\",\"topics\":[\"adt.*\"]}",
        "{\"url\":\"http://127.0.0.1:9/restricted\",\"topics\":[\"adt.*\"],"
        "\"filters\":{\"sensitivity\":[\"restricted\"]}}",
        "{\"url\":\"http://127.0.0.1:9/hiv\",\"topics\":[\"adt.*\"],"
        "\"filters\":{\"sensitivity\":[\"restricted\",\"hiv\"]}}",
    };

    cr_assert_eq(hub_sql_long(&hub, "WITH u AS (UPDATE organizations SET "
                              "labels = '{restricted,hiv}' WHERE id = 'cbo' "
                              "RETURNING 1) SELECT count(*) FROM u"), 1);
    for (size_t k = 0; k < 3; k++) {
        cr_assert_eq(http_call(&hub, true, "POST", "/v1/subscriptions",
                               "tok-cbo", NULL, subs[k], strlen(subs[k]),
                               "application/json", &r), 0);
        cr_assert_eq(r.status, 201, "%s", r.body);
        http_resp_free(&r);
    }
    for (size_t k = 0; k < 3; k++) {
        cr_assert_eq(post("/v1/hl7v2", NULL, NULL, adt[k], strlen(adt[k]),
                          &r), 202, "%s", r.body);
        http_resp_free(&r);
    }
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM events WHERE "
                              "body::jsonb->'sensitivity' = "
                              "'[\"hiv\",\"restricted\"]'::jsonb AND "
                              "body::jsonb->'source'->>'message_id' = "
                              "'ARV-HIV'"), 1);
    /* who received which: plain the deleted one; restricted also the
     * demographics one, never the HIV one; hiv all three */
    static const struct { const char *url, *id; long n; } want[] = {
        { "plain", "ARV-HIV", 0 }, { "plain", "ARV-DEM", 0 },
        { "plain", "ARV-DEL", 1 },
        { "restricted", "ARV-HIV", 0 }, { "restricted", "ARV-DEM", 1 },
        { "restricted", "ARV-DEL", 1 },
        { "hiv", "ARV-HIV", 1 }, { "hiv", "ARV-DEM", 1 },
        { "hiv", "ARV-DEL", 1 },
    };
    for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
        char sql[512];
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM deliveries d JOIN "
                 "events e ON e.seq = d.event_seq WHERE d.url LIKE '%%/%s' "
                 "AND e.body::jsonb->'source'->>'message_id' = '%s'",
                 want[k].url, want[k].id);
        cr_expect_eq(hub_sql_long(&hub, sql), want[k].n, "%s %s",
                     want[k].url, want[k].id);
    }
}

Test(docs, over_max_body_is_413, .init = start_small_body, .fini = stop,
     .timeout = 60)
{
    struct http_resp r;
    static char big[8192];

    memset(big, ' ', sizeof(big));
    big[0] = '{';
    big[sizeof(big) - 1] = '}';
    cr_assert_eq(post("/v1/fhir", "application/fhir+json", NULL, big,
                      sizeof(big), &r), 413);
    http_resp_free(&r);
    cr_assert_eq(post("/v1/ccda", "application/xml", NULL, big, sizeof(big),
                      &r), 413);
    http_resp_free(&r);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages"), 0);
}

/* hubd's log so far holds `needle` (the first 1 MiB is read) */
static bool log_has(const char *needle)
{
    static char text[1 << 20];
    FILE *f = fopen(hub_path(&hub, "hubd.log"), "r");
    size_t n;

    if (f == NULL)
        return false;
    n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    return strstr(text, needle) != NULL;
}

Test(docs, database_down_is_503_with_retry_after_and_nothing_stored,
     .init = start_proxied, .fini = stop, .timeout = 60)
{
    struct http_resp r;

    /* an authenticated call first: the token is cached from now on */
    cr_assert_eq(post("/v1/fhir", "application/fhir+json", NULL, "{}", 2, &r),
                 400, "%s", r.body);
    http_resp_free(&r);
    dbproxy_set_down(hub.proxy, true);
    cr_assert(hub_wait_status(&hub, "/readyz", 503, 15000), "not ready without the database");
    cr_assert_eq(post_file("/v1/fhir", "application/fhir+json",
                           "fhir/bundle-ahc-panel-transaction.json", &r), 503);
    cr_expect_str_eq(r.retry_after, "3");
    cr_expect(strstr(r.body, "OperationOutcome") != NULL, "%s", r.body);
    http_resp_free(&r);
    cr_assert_eq(post_file("/v1/ccda", "application/xml",
                           "ccda/synthetic-ahc-hrsn.xml", &r), 503);
    cr_expect_str_eq(r.retry_after, "3");
    http_resp_free(&r);
    /* a refusal for the hub's own state is in the log, with why (ids and
     * counts only), not just in the sender's answer */
    cr_expect(log_has("ingest.not_ready why=unhealthy committer="),
              "see %s", hub_path(&hub, "hubd.log"));
    cr_expect(log_has("http.busy req="), "see %s", hub_path(&hub, "hubd.log"));
    dbproxy_set_down(hub.proxy, false);
    cr_assert(hub_wait_status(&hub, "/readyz", 200, 15000), "ready again by itself");
    cr_assert_eq(post_file("/v1/fhir", "application/fhir+json",
                           "fhir/bundle-ahc-panel-transaction.json", &r), 202,
                 "%s", r.body);
    http_resp_free(&r);
    /* the "{}" refused at first (quarantined) and the bundle */
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages"), 2);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "status = 'accepted'"), 1);
}

Test(docs, csv_file_named_like_a_header_key_is_a_resend_in_a_new_envelope,
     .init = start, .fini = stop, .timeout = 60)
{
    /* a file whose name begins "idem:" in a multipart upload: its key is
     * the upload's own (the file's hash), so the same file in another
     * envelope is a re-send, not a key reused for another body (F521) */
    static const char csv[] =
        "screening_id,patient_id,instrument,screened_at,question,answer\r\n"
        "S-1,C-001,88121-9,2026-03-01T10:00:00-05:00,88122-7,LA28397-0\r\n";
    char body[1024];
    struct http_resp r, r2;
    int len = snprintf(body, sizeof(body),
                       "--" BOUNDARY "\r\nContent-Disposition: form-data; "
                       "name=\"f\"; filename=\"idem:pantry.csv\"\r\n"
                       "Content-Type: text/csv\r\n\r\n%s\r\n--" BOUNDARY
                       "--\r\n", csv);
    cr_assert_lt(len, (int)sizeof(body));
    cr_assert_eq(post("/v1/csv/screenings",
                      "multipart/form-data; boundary=" BOUNDARY, NULL, body,
                      (size_t)len, &r), 202, "%s", r.body);
    for (char *b = body; (b = strstr(b, BOUNDARY)) != NULL; b++)
        b[sizeof(BOUNDARY) - 2] = '8';
    cr_assert_eq(post("/v1/csv/screenings",
                      "multipart/form-data; boundary=hubE2Eb0undary8", NULL,
                      body, (size_t)len, &r2), 202, "%s", r2.body);
    cr_expect_str_eq(r2.body, r.body);
    cr_expect(r2.replayed);
    http_resp_free(&r);
    http_resp_free(&r2);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "error->>'code' = 'conflict'"), 0,
                 "a re-send kept as a conflict");
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM audit WHERE "
                              "detail::jsonb->>'kept' = 'quarantine'"), 0);
    cr_expect_eq(events_total(), 2, "%ld", events_total());
}

static void start_one_db_thread(void)
{
    start_with("db_threads = 1\n", false);
}

Test(docs, a_key_reused_for_another_body_is_422_even_when_a_read_fails,
     .init = start_one_db_thread, .fini = stop, .timeout = 60)
{
    /* the store decides, in the transaction that kept the other body in
     * quarantine, whether a re-send under a key is another message: the
     * answer follows that decision, not a second read that may fail
     * (F522: a failed read answered the first message's 202) */
    static const char a[] = "{\"resourceType\":\"Patient\",\"id\":\"pa\"}";
    static const char b[] = "{\"resourceType\":\"Patient\",\"id\":\"pb\"}";
    struct http_resp r;

    cr_assert_eq(post("/v1/fhir", "application/json", "k-522", a,
                      sizeof(a) - 1, &r), 202, "%s", r.body);
    http_resp_free(&r);
    cr_assert_eq(post("/v1/fhir", "application/json", "k-522", a,
                      sizeof(a) - 1, &r), 202, "%s", r.body);
    cr_expect(r.replayed);
    http_resp_free(&r);
    /* the database worker's link dies (its last use just now: no ping);
     * the committers' and the credential listener's stay */
    cr_assert_geq(hub_sql_long(&hub, "SELECT count(pg_terminate_backend(pid)) "
                               "FROM pg_stat_activity WHERE datname = "
                               "current_database() AND pid <> "
                               "pg_backend_pid() AND application_name NOT "
                               "LIKE 'hubd-commit%' AND application_name <> "
                               "'hub-auth-listen' AND backend_type = "
                               "'client backend'"), 1);
    cr_assert_eq(post("/v1/fhir", "application/json", "k-522", b,
                      sizeof(b) - 1, &r), 422, "%s", r.body);
    cr_expect(!r.replayed);
    cr_expect(strstr(r.body, "Idempotency-Key") != NULL, "%s", r.body);
    http_resp_free(&r);
    cr_expect_eq(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                              "status = 'quarantined' AND error->>'code' = "
                              "'conflict'"), 1);
}

/* a request on a thread of its own */
struct bg_call {
    pthread_t t;
    const char *method, *path, *token, *ctype;
    const char *body;
    size_t len;
    struct http_resp r;
    int rc;
};

static void *bg_run(void *arg)
{
    struct bg_call *c = arg;
    char ct[128];
    const char *hd[2] = { NULL, NULL };
    if (c->ctype) {
        snprintf(ct, sizeof(ct), "Content-Type: %s", c->ctype);
        hd[0] = ct;
    }
    c->rc = http_call_h(&hub, true, c->method, c->path, c->token, hd,
                        c->body, c->len, &c->r);
    return NULL;
}

static void bg_start(struct bg_call *c)
{
    cr_assert_eq(pthread_create(&c->t, NULL, bg_run, c), 0);
}

static void start_one_in_flight(void)
{
    start_with("db_threads = 1\ninflight_max = 1\n", false);
}

static void sql_ok(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    cr_assert(PQresultStatus(r) == PGRES_COMMAND_OK ||
              PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql,
              PQerrorMessage(c));
    PQclear(r);
}

/* A FHIR body the ingest has no room for once it was normalized (a large
 * one, on a worker, while another took the last place) is refused 503 as
 * every FHIR refusal is, an OperationOutcome (F526: api_ingest answered
 * the hub's JSON error) */
Test(docs, fhir_busy_after_normalizing_is_an_operation_outcome,
     .init = start_one_in_flight, .fini = stop, .timeout = 60)
{
    size_t big_len = 300u << 10;
    char *big = malloc(big_len + 128);
    int n = snprintf(big, 128, "{\"resourceType\":\"Patient\",\"id\":"
                     "\"pb\",\"text\":{\"status\":\"generated\",\"div\":\"");
    memset(big + n, 'x', big_len);
    size_t len = (size_t)n + big_len;
    len += (size_t)snprintf(big + len, 128, "\"}}");
    struct http_resp r;

    /* tok-hosp cached (after the flushes the seeding of the test's
     * organizations notified), so that B is admitted at once */
    usleep(500000);
    static const char p0[] = "{\"resourceType\":\"Patient\",\"id\":\"p0\"}";
    cr_assert_eq(post("/v1/fhir", "application/json", NULL, p0,
                      sizeof(p0) - 1, &r), 202, "%s", r.body);
    http_resp_free(&r);
    PGconn *db = PQconnectdb(hub.db_url);
    cr_assert_eq(PQstatus(db), CONNECTION_OK);
    /* the chain lock keeps a commit in flight; the lock on subscriptions
     * keeps the one database worker on a list of them */
    sql_ok(db, "SELECT pg_advisory_lock(7302100431)");
    sql_ok(db, "BEGIN");
    sql_ok(db, "LOCK TABLE subscriptions IN ACCESS EXCLUSIVE MODE");
    struct bg_call list = { .method = "GET", .path = "/v1/subscriptions",
                            .token = "tok-hosp" };
    bg_start(&list);
    int waited = 0;
    while (hub_sql_long(&hub, "SELECT count(*) FROM pg_stat_activity WHERE "
                        "application_name NOT LIKE 'hubd-commit%' AND "
                        "query LIKE '%hub_sub_json(s, false)%' AND "
                        "wait_event_type = 'Lock'") < 1 && waited++ < 500)
        usleep(10000);
    /* B: admitted with room; normalized on the worker, after the list */
    struct bg_call b = { .method = "POST", .path = "/v1/fhir",
                         .token = "tok-hosp", .ctype = "application/json",
                         .body = big, .len = len };
    bg_start(&b);
    usleep(300000);
    /* the last place, over the plain MLLP listener (no credential to look
     * up): its commit waits for the locks */
    struct mllp_client mc;
    char msg[2048];
    cr_assert_eq(mllp_connect(&mc, hub.mllp, &hub, NULL), 0);
    hl7_sample(msg, sizeof(msg), "F526-1", "MRN-F526");
    cr_assert_eq(mllp_send(&mc, msg), 0);
    waited = 0;
    while (hub_sql_long(&hub, "SELECT count(*) FROM pg_stat_activity WHERE "
                        "application_name LIKE 'hubd-commit%' AND "
                        "wait_event_type = 'Lock'") < 1 && waited++ < 500)
        usleep(10000);
    cr_expect_lt(waited, 500, "the commit never waited");
    sql_ok(db, "ROLLBACK");             /* the list ends, the worker goes on */
    pthread_join(b.t, NULL);
    cr_assert_eq(b.rc, 0);
    cr_expect_eq(b.r.status, 503, "%s", b.r.body);
    cr_expect(b.r.retry_after[0] != '\0');
    cr_expect_str_eq(b.r.content_type, "application/fhir+json");
    cr_expect(strstr(b.r.body, "\"OperationOutcome\"") != NULL, "%s",
              b.r.body);
    http_resp_free(&b.r);
    sql_ok(db, "SELECT pg_advisory_unlock(7302100431)");
    char ack[2048], code[3], ctrl[64];
    cr_assert_gt(mllp_read(&mc, ack, sizeof(ack), 10000), 0);
    ack_fields(ack, code, ctrl, sizeof(ctrl));
    cr_expect_str_eq(code, "AA");
    mllp_close(&mc);
    pthread_join(list.t, NULL);
    cr_expect_eq(list.r.status, 200, "%s", list.r.body);
    http_resp_free(&list.r);
    PQfinish(db);
    free(big);
}

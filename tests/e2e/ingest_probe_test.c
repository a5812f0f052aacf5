/*
 * ingest_probe_test.c - the document routes (POST /v1/fhir, /v1/ccda,
 * /v1/csv/{kind}) as a sender's integration engineer and an attacker meet
 * them, against the real hubd over TLS on loopback: content codings,
 * bodies at and past max_body, chunked and cut-off bodies, a key reused
 * after a refusal, the same document sent at once many times, Bundle
 * types the hub does not take, CSV line ends, XML entities and nesting,
 * and the audit rows of each receipt.
 */
#include <criterion/criterion.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/hub_err.h"
#include "store.h"
#include "../lib/canary.h"
#include "../lib/hubproc.h"
#include "../lib/testdb.h"

static struct hubproc hub;

static void start_with(const char *extra)
{
    char conf[1024];

    evthread_use_pthreads();
    snprintf(conf, sizeof(conf), "dict_dir = %s/schemas/dict\n%s",
             testdb_root(), extra ? extra : "");
    cr_assert_eq(hub_start(&hub, conf, false), 0, "hubd did not start");
    cr_assert(hub_wait_status(&hub, "/readyz", 200, 15000), "hubd not ready");
}

static void start(void)
{
    start_with(NULL);
}

static void start_small_body(void)
{
    start_with("max_body = 4K\n");
}

static void stop(void)
{
    hub_cleanup(&hub);
}

/* POST with up to three extra header lines (NULL: none) as hosp */
static long post_h(const char *path, const char *h1, const char *h2,
                   const char *h3, const char *body, size_t len,
                   struct http_resp *r)
{
    const char *hd[4] = { h1, h2, h3, NULL };
    cr_assert_eq(http_call_h(&hub, true, "POST", path, "tok-hosp", hd, body,
                             len, r), 0, "POST %s", path);
    return r->status;
}

static long sql(const char *q)
{
    return hub_sql_long(&hub, q);
}

/* one raw request over TLS (bearer tok-hosp) and its answer's status, or
 * -1 when the connection gave none */
static long raw_https(const char *head, const char *body, size_t len,
                      char *ans, size_t size)
{
    struct mllp_client c;
    cr_assert_eq(mllp_connect(&c, hub.https, &hub, ""), 0, "TLS connect");
    cr_assert_eq(mllp_send_raw(&c, head, strlen(head)), 0);
    if (len)
        cr_assert_eq(mllp_send_raw(&c, body, len), 0);
    long n = http_raw_response(&c, ans, size, 10000);
    mllp_close(&c);
    if (n < 12)
        return -1;
    return strtol(ans + 9, NULL, 10);
}

/* the three document routes, each with a media type it takes */
static const struct {
    const char *path, *ct;
} doc_routes[] = {
    { "/v1/fhir", "Content-Type: application/fhir+json" },
    { "/v1/ccda", "Content-Type: application/xml" },
    { "/v1/csv/screenings", "Content-Type: text/csv" },
};

static const char org_json[] =
    "{\"resourceType\":\"Organization\",\"id\":\"probe-org\","
    "\"name\":\"Probe Org\"}";

/* ---- content codings --------------------------------------------------- */

/* org_json's shape, gzip'd (python3 gzip.compress, mtime 0) */
static const char gz_body[] =
    "\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xab\x56\x2a\x4a\x2d\xce\x2f"
    "\x2d\x4a\x4e\x0d\xa9\x2c\x48\x55\xb2\x52\xf2\x2f\x4a\x4f\xcc\xcb\xac"
    "\x4a\x2c\xc9\xcc\xcf\x53\xd2\x51\xca\x4c\x01\x8a\xa5\x57\xe9\x1a\x02"
    "\xd9\x79\x89\xb9\x20\x15\xee\x55\x99\x05\x0a\x40\x65\x4a\xb5\x00\xe5"
    "\x4b\x3a\xb5\x3d\x00\x00\x00";

Test(ingest_probe, a_compressed_body_is_415_naming_content_encoding,
     .init = start, .fini = stop, .timeout = 60)
{
    struct http_resp r;

    for (size_t i = 0; i < sizeof(doc_routes) / sizeof(doc_routes[0]); i++) {
        cr_assert_eq(post_h(doc_routes[i].path, doc_routes[i].ct,
                            "Content-Encoding: gzip", NULL, gz_body,
                            sizeof(gz_body) - 1, &r), 415, "%s: %s",
                     doc_routes[i].path, r.body);
        cr_expect(strstr(r.body, "Content-Encoding") != NULL, "%s", r.body);
        http_resp_free(&r);
    }
    /* RFC 9110 8.4.1: the answer says which coding is taken */
    static const char head[] =
        "POST /v1/csv/screenings HTTP/1.1\r\nHost: localhost\r\n"
        "Authorization: Bearer tok-hosp\r\nContent-Type: text/csv\r\n"
        "Content-Encoding: br\r\nContent-Length: 4\r\n\r\n";
    char ans[4096];
    cr_assert_eq(raw_https(head, "abcd", 4, ans, sizeof(ans)), 415, "%s",
                 ans);
    cr_expect(strstr(ans, "\r\nAccept-Encoding: identity\r\n") != NULL,
              "%s", ans);
    /* nothing in it is wrong but its coding: answered, not kept, as a
     * wrong media type is */
    cr_expect_eq(sql("SELECT count(*) FROM messages"), 0);
    /* "identity" is no coding at all */
    cr_assert_eq(post_h("/v1/fhir", "Content-Type: application/fhir+json",
                        "Content-Encoding: identity", NULL, org_json,
                        sizeof(org_json) - 1, &r), 202, "%s", r.body);
    http_resp_free(&r);
}

/* ---- size limit, chunked and cut-off bodies ---------------------------- */

/* org_json padded with spaces to n bytes (n < size) */
static void padded(char *out, size_t n)
{
    size_t k = sizeof(org_json) - 1;
    memcpy(out, org_json, k - 1);
    memset(out + k - 1, ' ', n - k);
    out[n - 1] = '}';
}

Test(ingest_probe, a_body_of_max_body_is_taken_and_one_byte_more_is_413,
     .init = start_small_body, .fini = stop, .timeout = 60)
{
    static char b[4097];
    struct http_resp r;

    padded(b, 4096);
    cr_assert_eq(post_h("/v1/fhir", "Content-Type: application/fhir+json",
                        NULL, NULL, b, 4096, &r), 202, "%s", r.body);
    http_resp_free(&r);
    padded(b, 4097);
    cr_assert_eq(post_h("/v1/fhir", "Content-Type: application/fhir+json",
                        NULL, NULL, b, 4097, &r), 413, "%s", r.body);
    http_resp_free(&r);
    cr_expect_eq(sql("SELECT count(*) FROM messages"), 1);
}

Test(ingest_probe, a_chunked_body_is_read_whole_and_capped_by_max_body,
     .init = start_small_body, .fini = stop, .timeout = 60)
{
    static const char head[] =
        "POST /v1/fhir HTTP/1.1\r\nHost: localhost\r\n"
        "Authorization: Bearer tok-hosp\r\n"
        "Content-Type: application/fhir+json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n";
    char body[8192], ans[8192];
    size_t k = sizeof(org_json) - 1, half = k / 2;

    /* two chunks and the last one */
    int n = snprintf(body, sizeof(body), "%zx\r\n%.*s\r\n%zx\r\n%s\r\n0\r\n\r\n",
                     half, (int)half, org_json, k - half, org_json + half);
    cr_assert_eq(raw_https(head, body, (size_t)n, ans, sizeof(ans)), 202,
                 "%s", ans);
    cr_expect_eq(sql("SELECT count(*) FROM messages WHERE format = 'fhir' "
                     "AND status = 'accepted'"), 1);
    /* chunks that together pass max_body (4 KiB) */
    size_t at = 0;
    char pad[1200];
    memset(pad, ' ', sizeof(pad));
    for (int i = 0; i < 4; i++)
        at += (size_t)snprintf(body + at, sizeof(body) - at, "%zx\r\n%.*s\r\n",
                               sizeof(pad), (int)sizeof(pad), pad);
    at += (size_t)snprintf(body + at, sizeof(body) - at, "0\r\n\r\n");
    cr_assert_eq(raw_https(head, body, at, ans, sizeof(ans)), 413, "%s", ans);
    cr_expect_eq(sql("SELECT count(*) FROM messages"), 1);
}

Test(ingest_probe, a_client_that_leaves_mid_body_leaves_nothing_stored,
     .init = start, .fini = stop, .timeout = 60)
{
    static const char head[] =
        "POST /v1/ccda HTTP/1.1\r\nHost: localhost\r\n"
        "Authorization: Bearer tok-hosp\r\n"
        "Content-Type: application/xml\r\n"
        "Content-Length: 4000\r\n\r\n";
    static const char part[] = "<?xml version=\"1.0\"?><ClinicalDocument "
                               "xmlns=\"urn:hl7-org:v3\"><id root=\"1.2\"/>";
    struct mllp_client c;
    struct http_resp r;

    for (int i = 0; i < 3; i++) {
        cr_assert_eq(mllp_connect(&c, hub.https, &hub, ""), 0);
        cr_assert_eq(mllp_send_raw(&c, head, sizeof(head) - 1), 0);
        cr_assert_eq(mllp_send_raw(&c, part, sizeof(part) - 1), 0);
        mllp_close(&c);
    }
    /* the hub is still serving, and took nothing of the halves */
    cr_assert_eq(post_h("/v1/fhir", "Content-Type: application/fhir+json",
                        NULL, NULL, org_json, sizeof(org_json) - 1, &r), 202,
                 "%s", r.body);
    http_resp_free(&r);
    cr_expect_eq(sql("SELECT count(*) FROM messages"), 1);
    cr_expect_eq(sql("SELECT count(*) FROM messages WHERE format = 'ccda'"),
                 0);
}

/* ---- idempotency ------------------------------------------------------- */

/* A body refused under an Idempotency-Key keeps nothing under it: the
 * corrected body sent with the same key is taken, not answered 422 as a
 * key used for another body (the refused one is in quarantine, no key) */
Test(ingest_probe, a_key_refused_once_is_free_for_the_corrected_body,
     .init = start, .fini = stop, .timeout = 60)
{
    static const char bad[] = "{\"resourceType\":\"Organization\",\"id\":";
    struct http_resp r;

    cr_assert_eq(post_h("/v1/fhir", "Content-Type: application/fhir+json",
                        "Idempotency-Key: probe-k1", NULL, bad,
                        sizeof(bad) - 1, &r), 400, "%s", r.body);
    http_resp_free(&r);
    cr_assert_eq(post_h("/v1/fhir", "Content-Type: application/fhir+json",
                        "Idempotency-Key: probe-k1", NULL, org_json,
                        sizeof(org_json) - 1, &r), 202, "%s", r.body);
    cr_expect(!r.replayed);
    http_resp_free(&r);
    /* and the re-send of that one is the same answer, stored once */
    cr_assert_eq(post_h("/v1/fhir", "Content-Type: application/fhir+json",
                        "Idempotency-Key: probe-k1", NULL, org_json,
                        sizeof(org_json) - 1, &r), 202, "%s", r.body);
    cr_expect(r.replayed);
    http_resp_free(&r);
    cr_expect_eq(sql("SELECT count(*) FROM messages WHERE status = "
                     "'accepted'"), 1);
    cr_expect_eq(sql("SELECT count(*) FROM messages WHERE status = "
                     "'quarantined'"), 1);
}

/* Two Idempotency-Key lines: which one is the key? The first was taken
 * in silence, so a retry that sent the second alone was a new message,
 * stored again with its events. Refused as the hub refuses a query
 * parameter or a Content-Length given twice, nothing stored */
Test(ingest_probe, an_idempotency_key_given_twice_is_400,
     .init = start, .fini = stop, .timeout = 60)
{
    struct http_resp r;

    for (size_t i = 0; i < sizeof(doc_routes) / sizeof(doc_routes[0]); i++) {
        cr_assert_eq(post_h(doc_routes[i].path, doc_routes[i].ct,
                            "Idempotency-Key: k-a", "Idempotency-Key: k-b",
                            org_json, sizeof(org_json) - 1, &r), 400,
                     "%s: %s", doc_routes[i].path, r.body);
        cr_expect(strstr(r.body, "Idempotency-Key") != NULL, "%s", r.body);
        cr_expect(strstr(r.body, "more than once") != NULL, "%s", r.body);
        http_resp_free(&r);
    }
    cr_expect_eq(sql("SELECT count(*) FROM messages"), 0);
}

#define SAME_AT_ONCE 8

struct same_call {
    const char *body;
    size_t len;
    const char *key;                /* an Idempotency-Key line, or NULL */
    struct http_resp r;
    int rc;
};

static void *post_same(void *arg)
{
    struct same_call *c = arg;
    const char *hd[] = { "Content-Type: text/csv", c->key, NULL };
    c->rc = http_call_h(&hub, true, "POST", "/v1/csv/screenings", "tok-hosp",
                        hd, c->body, c->len, &c->r);
    return NULL;
}

/* the SAME_AT_ONCE calls of c, each on a thread of its own, all ended */
static void post_at_once(struct same_call *c)
{
    pthread_t t[SAME_AT_ONCE];

    for (int i = 0; i < SAME_AT_ONCE; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, post_same, &c[i]), 0);
    for (int i = 0; i < SAME_AT_ONCE; i++)
        pthread_join(t[i], NULL);
}

static const char csv_one[] =
    "screening_id,patient_id,instrument,screened_at,question,answer\r\n"
    "S-1,C-001,88121-9,2026-03-01T10:00:00-05:00,88122-7,LA28397-0\r\n";

/* The same upload sent eight times at once (a sender's retry storm, two
 * nodes of its engine): every one answered 202 with the same event ids,
 * stored once, one event set */
Test(ingest_probe, the_same_upload_sent_at_once_is_stored_once,
     .init = start, .fini = stop, .timeout = 90)
{
    struct same_call c[SAME_AT_ONCE];

    for (int i = 0; i < SAME_AT_ONCE; i++)
        c[i] = (struct same_call){ csv_one, sizeof(csv_one) - 1, NULL,
                                   { 0 }, 0 };
    post_at_once(c);
    cJSON *first = NULL;
    for (int i = 0; i < SAME_AT_ONCE; i++) {
        cr_assert_eq(c[i].rc, 0);
        cr_expect_eq(c[i].r.status, 202, "%d: %s", i, c[i].r.body);
        cJSON *j = cJSON_Parse(c[i].r.body);
        cr_assert_not_null(j, "%s", c[i].r.body);
        cJSON *ids = cJSON_GetObjectItem(j, "event_ids");
        if (first == NULL)
            first = cJSON_Duplicate(ids, 1);
        else
            cr_expect(cJSON_Compare(first, ids, 1), "%d: %s", i,
                      c[i].r.body);
        cJSON_Delete(j);
        http_resp_free(&c[i].r);
    }
    cr_expect_gt(cJSON_GetArraySize(first), 0);
    cr_expect_eq(sql("SELECT count(*) FROM events"),
                 cJSON_GetArraySize(first));
    cJSON_Delete(first);
    cr_expect_eq(sql("SELECT count(*) FROM messages WHERE status = "
                     "'accepted'"), 1);
    cr_expect_eq(sql("SELECT count(*) FROM messages"), 1);
    cr_expect_eq(sql("SELECT count(*) FROM audit WHERE action = "
                     "'message.received'"), 1);
    cr_expect_eq(sql("SELECT count(*) FROM audit WHERE action = "
                     "'message.duplicate'"), SAME_AT_ONCE - 1);
}

static const char csv_two[] =
    "screening_id,patient_id,instrument,screened_at,question,answer\r\n"
    "S-9,C-009,88121-9,2026-03-03T10:00:00-05:00,88122-7,LA28397-0\r\n";

/* Two bodies under one Idempotency-Key, sent at once, four of each: one
 * body is taken, its copies answered with its answer, and every copy of
 * the other 422 and kept in quarantine, whichever commits first */
Test(ingest_probe, one_key_for_two_bodies_at_once_takes_one_and_keeps_the_other,
     .init = start, .fini = stop, .timeout = 90)
{
    struct same_call c[SAME_AT_ONCE];

    for (int i = 0; i < SAME_AT_ONCE; i++) {
        const char *b = i % 2 ? csv_two : csv_one;
        c[i] = (struct same_call){ b, strlen(b), "Idempotency-Key: race-1",
                                   { 0 }, 0 };
    }
    post_at_once(c);
    int n202[2] = { 0, 0 }, n422[2] = { 0, 0 };
    for (int i = 0; i < SAME_AT_ONCE; i++) {
        cr_assert_eq(c[i].rc, 0);
        if (c[i].r.status == 202)
            n202[i % 2]++;
        else if (c[i].r.status == 422)
            n422[i % 2]++;
        else
            cr_expect_fail("%d: %ld %s", i, c[i].r.status, c[i].r.body);
        http_resp_free(&c[i].r);
    }
    int won = n202[0] ? 0 : 1;
    cr_expect_eq(n202[won], SAME_AT_ONCE / 2, "every copy of the winner");
    cr_expect_eq(n202[!won], 0);
    cr_expect_eq(n422[!won], SAME_AT_ONCE / 2, "every copy of the other");
    cr_expect_eq(sql("SELECT count(*) FROM messages WHERE status = "
                     "'accepted'"), 1);
    cr_expect_geq(sql("SELECT count(*) FROM messages WHERE status = "
                     "'quarantined' AND error->>'code' = 'conflict'"), 1,
                 "the other body kept");
}

/* ---- FHIR Bundle types -------------------------------------------------- */

Test(ingest_probe, bundle_types_the_hub_does_not_take_are_refused_naming_type,
     .init = start, .fini = stop, .timeout = 60)
{
    static const char *const types[] = { "transaction-response",
                                         "batch-response", "history",
                                         "no-such-type" };
    char b[512];
    struct http_resp r;

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        int n = snprintf(b, sizeof(b), "{\"resourceType\":\"Bundle\","
                         "\"type\":\"%s\",\"entry\":[{\"resource\":%s}]}",
                         types[i], org_json);
        long st = post_h("/v1/fhir", "Content-Type: application/fhir+json",
                         NULL, NULL, b, (size_t)n, &r);
        cr_expect_eq(st, 422, "%s: %s", types[i], r.body);
        cr_expect(strstr(r.body, "Bundle.type") != NULL, "%s: %s", types[i],
                  r.body);
        cr_expect(strstr(r.body, "OperationOutcome") != NULL, "%s", r.body);
        http_resp_free(&r);
    }
    cr_expect_eq(sql("SELECT count(*) FROM messages WHERE status = "
                     "'quarantined'"), 4);
}

/* ---- CSV line ends ------------------------------------------------------ */

Test(ingest_probe, csv_line_ends_crlf_lf_and_cr_give_the_same_rows,
     .init = start, .fini = stop, .timeout = 60)
{
    static const char *const ends[] = { "\r\n", "\n", "\r" };
    static const char *const rows[] = {
        "screening_id,patient_id,instrument,screened_at,question,answer",
        "S-2,C-002,88121-9,2026-03-01T10:00:00-05:00,88122-7,LA28397-0",
        "S-3,C-003,88121-9,2026-03-02T10:00:00-05:00,88122-7,LA28398-8",
    };
    long events[3];

    for (size_t e = 0; e < 3; e++) {
        char b[1024];
        size_t at = 0;
        struct http_resp r;
        for (size_t i = 0; i < 3; i++)
            at += (size_t)snprintf(b + at, sizeof(b) - at, "%s%s", rows[i],
                                   ends[e]);
        long before = sql("SELECT count(*) FROM events");
        /* a key each: the three are three uploads, whatever their rows */
        char key[64];
        snprintf(key, sizeof(key), "Idempotency-Key: ends-%zu", e);
        cr_assert_eq(post_h("/v1/csv/screenings", "Content-Type: text/csv",
                            key, NULL, b, at, &r), 202, "%zu: %s", e, r.body);
        cr_expect(strstr(r.body, "\"rows_rejected\":0") != NULL ||
                  strstr(r.body, "\"rejected\":0") != NULL, "%zu: %s", e,
                  r.body);
        http_resp_free(&r);
        events[e] = sql("SELECT count(*) FROM events") - before;
    }
    cr_expect_eq(events[1], events[0]);
    cr_expect_eq(events[2], events[0]);
    cr_expect_gt(events[0], 0);
}

/* ---- C-CDA: entities and nesting --------------------------------------- */

Test(ingest_probe, ccda_external_entity_and_deep_nesting_are_refused_whole,
     .init = start, .fini = stop, .timeout = 60)
{
    static const char xxe[] =
        "<?xml version=\"1.0\"?>\n<!DOCTYPE ClinicalDocument [\n"
        "<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
        "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><title>&x;</title>"
        "</ClinicalDocument>\n";
    static const char pe[] =
        "<?xml version=\"1.0\"?>\n<!DOCTYPE ClinicalDocument SYSTEM "
        "\"http://127.0.0.1:9/cda.dtd\">\n"
        "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"/>\n";
    struct http_resp r;

    cr_assert_eq(post_h("/v1/ccda", "Content-Type: application/xml", NULL,
                        NULL, xxe, sizeof(xxe) - 1, &r), 422, "%s", r.body);
    cr_expect(strstr(r.body, "root:") == NULL, "%s", r.body);
    http_resp_free(&r);
    cr_assert_eq(post_h("/v1/ccda", "Content-Type: application/xml", NULL,
                        NULL, pe, sizeof(pe) - 1, &r), 422, "%s", r.body);
    http_resp_free(&r);

    /* 100,000 nested elements: a parser limit, not a stack */
    size_t depth = 100000, at = 0;
    size_t cap = 64 + depth * 7 + 128;
    char *d = malloc(cap);
    cr_assert_not_null(d);
    at += (size_t)snprintf(d, cap, "<?xml version=\"1.0\"?><ClinicalDocument "
                           "xmlns=\"urn:hl7-org:v3\">");
    for (size_t i = 0; i < depth; i++) {
        memcpy(d + at, "<a>", 3);
        at += 3;
    }
    for (size_t i = 0; i < depth; i++) {
        memcpy(d + at, "</a>", 4);
        at += 4;
    }
    at += (size_t)snprintf(d + at, cap - at, "</ClinicalDocument>");
    long st = post_h("/v1/ccda", "Content-Type: application/xml", NULL, NULL,
                     d, at, &r);
    free(d);
    cr_expect_eq(st, 413, "%s", r.body);
    cr_expect(strstr(r.body, "\"offset\"") != NULL, "%s", r.body);
    http_resp_free(&r);
    cr_expect_eq(sql("SELECT count(*) FROM messages WHERE status = "
                     "'quarantined'"), 3);
    cr_assert(hub_wait_status(&hub, "/readyz", 200, 5000));
}

/* ---- audit rows of each receipt ---------------------------------------- */

Test(ingest_probe, each_receipt_has_its_audit_row_parts_included,
     .init = start, .fini = stop, .timeout = 60)
{
    static const char partial[] =
        "screening_id,patient_id,instrument,screened_at,question,answer\r\n"
        "S-4,C-004,88121-9,2026-03-01T10:00:00-05:00,88122-7,LA28397-0\r\n"
        "S-5,,88121-9,2026-03-01T10:00:00-05:00,88122-7,LA28397-0\r\n";
    struct http_resp r;

    cr_assert_eq(post_h("/v1/csv/screenings", "Content-Type: text/csv", NULL,
                        NULL, partial, sizeof(partial) - 1, &r), 202, "%s",
                 r.body);
    http_resp_free(&r);
    cr_expect_eq(sql("SELECT count(*) FROM messages WHERE status = "
                     "'quarantined'"), 1, "the refused row kept");
    cr_expect_eq(sql("SELECT count(*) FROM audit WHERE action = "
                     "'message.received'"), 1);
    cr_expect_eq(sql("SELECT count(*) FROM audit WHERE action = "
                     "'message.quarantined'"), 1,
                 "the refused row's receipt is audited as its own message");
}

/* ---- charsets ----------------------------------------------------------- */

/* s as UTF-16LE with its byte order mark, into out (2 + 2 * strlen) */
static size_t utf16le(char *out, const char *s)
{
    size_t n = 0;
    out[n++] = '\xff';
    out[n++] = '\xfe';
    for (; *s; s++) {
        out[n++] = *s;
        out[n++] = '\0';
    }
    return n;
}

/* UTF-16 (a .NET or Windows export): FHIR JSON is refused (RFC 8259 8.1:
 * UTF-8), kept, at byte 0; a C-CDA that declares it is read (XML 1.0
 * 4.3.3), so this one, which has no id, is refused for that, not its text */
Test(ingest_probe, utf16_documents_are_refused_kept_and_placed,
     .init = start, .fini = stop, .timeout = 60)
{
    static const char cda[] =
        "<?xml version=\"1.0\" encoding=\"UTF-16\"?><ClinicalDocument "
        "xmlns=\"urn:hl7-org:v3\"/>";
    char b[1024];
    struct http_resp r;
    size_t n = utf16le(b, org_json);

    long st = post_h("/v1/fhir",
                     "Content-Type: application/fhir+json; charset=utf-16",
                     NULL, NULL, b, n, &r);
    cr_expect_eq(st, 400, "%s", r.body);
    cr_expect(strstr(r.body, "OperationOutcome") != NULL, "%s", r.body);
    cr_expect(strstr(r.body, "urn:hub:offset") != NULL, "%s", r.body);
    http_resp_free(&r);
    n = utf16le(b, cda);
    st = post_h("/v1/ccda", "Content-Type: application/xml", NULL, NULL, b, n,
                &r);
    cr_expect_eq(st, 400, "%s", r.body);
    cr_expect(strstr(r.body, "\"field\":\"/ClinicalDocument/id\"") != NULL,
              "%s", r.body);
    http_resp_free(&r);
    cr_expect_eq(sql("SELECT count(*) FROM messages WHERE status = "
                     "'quarantined'"), 2);
}

/* ---- no personal data in the answer, the stored error or the log ------- */

#define OBS_SUBJECT(ref)                                                     \
    "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\","  \
    "\"category\":[{\"coding\":[{\"system\":\"http://terminology.hl7.org/"   \
    "CodeSystem/observation-category\",\"code\":\"survey\"}]}],\"code\":"    \
    "{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"88122-7\"}]}," \
    "\"valueCodeableConcept\":{\"coding\":[{\"system\":\"http://loinc.org\"," \
    "\"code\":\"LA28397-0\"}]},\"effectiveDateTime\":\"2026-03-01\","        \
    "\"subject\":{\"reference\":\"" ref "\"}}}"

/* Entries refused where a value could be echoed (a conditional reference
 * that is no identifier search, one with a second '|', an absolute one, a
 * birth date that is no date): the batch answer, each refused entry's
 * stored error and the log (hub_cleanup) quote none of them */
Test(ingest_probe, refused_entries_quote_no_personal_value,
     .init = start, .fini = stop, .timeout = 60)
{
    static const char batch[] =
        "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
        "{\"resource\":{\"resourceType\":\"Organization\",\"id\":\"o1\"}},"
        OBS_SUBJECT("Patient?identifier=http://hl7.org/fhir/sid/us-ssn|"
                    "900-31-4159&birthdate=1931-02-17") ","
        OBS_SUBJECT("Patient?identifier=urn:x:mrn|ZZCMRN55|Zzcanaryfam") ","
        OBS_SUBJECT("https://ehr.example/Patient?identifier=urn:x:mrn|"
                    "ZZCMRN66") ","
        OBS_SUBJECT("Patient?name=Zzcanaryfam") ","
        "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p1\","
        "\"name\":[{\"family\":\"Zzcanaryfam\"}],"
        "\"birthDate\":\"1931-02-17 Zzcanarygiv\"}}]}";
    struct http_resp r;

    long st = post_h("/v1/fhir", "Content-Type: application/fhir+json", NULL,
                     NULL, batch, sizeof(batch) - 1, &r);
    cr_expect_eq(st, 200, "accepted in part: %s", r.body);
    const char *leak = canary_find(r.body, r.len);
    cr_expect_null(leak, "answer quotes %s: %s", leak, r.body);
    http_resp_free(&r);
    struct store *db;
    char *errs = NULL;
    cr_assert_eq(store_connect(hub.db_url, &db), HUB_OK);
    cr_assert_eq(store_query_text(db, "SELECT coalesce(string_agg("
                                  "error::text, ' '), '') FROM messages", 0,
                                  NULL, &errs), HUB_OK);
    store_free(db);
    cr_assert_not_null(errs);
    leak = canary_find(errs, strlen(errs));
    cr_expect_null(leak, "stored error quotes %s: %s", leak, errs);
    free(errs);
}

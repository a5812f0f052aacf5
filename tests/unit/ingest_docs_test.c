/*
 * ingest_docs_test.c - FHIR, C-CDA and CSV bodies into ingest jobs, without
 * a database: which idempotency key a job carries, which answer and status
 * it will give, and that refused input becomes a quarantined job with a
 * place and no key. Files are found under $HUB_ROOT, else ".".
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "dict_files.h"
#include "ingest.h"
#include "ingest_docs.h"
#include "../lib/testfile.h"
#include "../lib/testdict.h"

static struct dict *D;
static struct ingest_job *J;

static const char *root(void)
{
    const char *r = getenv("HUB_ROOT");
    return r && *r ? r : ".";
}

static void setup(void)
{
    D = testdict_load();
    J = ingest_job_new();
}

static void teardown(void)
{
    ingest_job_free(J);
    dict_free(D);
}

TestSuite(ingest_docs, .init = setup, .fini = teardown);

static char *slurp(const char *rel, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/tests/data/%s", root(), rel);
    char *p = testfile_read(path, len);
    cr_assert_not_null(p, "%s", path);
    return p;
}

static bool key_is(const char *want)
{
    return J->msg.key.len == strlen(want) &&
           memcmp(J->msg.key.p, want, J->msg.key.len) == 0;
}

static cJSON *reply_json(void)
{
    cJSON *j = cJSON_ParseWithLength(J->msg.reply.p, J->msg.reply.len);
    cr_assert_not_null(j, "reply is not JSON: %.*s", (int)J->msg.reply.len,
                       J->msg.reply.p);
    return j;
}

Test(ingest_docs, idempotency_key_is_printable_and_bounded)
{
    char k[INGEST_DOCS_KEY_MAX + 2];

    memset(k, 'a', sizeof(k));
    k[INGEST_DOCS_KEY_MAX] = '\0';
    cr_expect(ingest_docs_key_ok(k), "exactly at the limit");
    k[INGEST_DOCS_KEY_MAX] = 'a';
    k[INGEST_DOCS_KEY_MAX + 1] = '\0';
    cr_expect(!ingest_docs_key_ok(k), "one past the limit");
    cr_expect(!ingest_docs_key_ok(""));
    cr_expect(!ingest_docs_key_ok(NULL));
    cr_expect(!ingest_docs_key_ok("a b"));
    cr_expect(!ingest_docs_key_ok("a\tb"));
    cr_expect(!ingest_docs_key_ok("caf\xc3\xa9"));
    cr_expect(ingest_docs_key_ok("3f1c-retry:7/a"));
}

Test(ingest_docs, fhir_bundle_key_is_its_identifier_and_answer_names_events)
{
    size_t len;
    char *p = slurp("fhir/bundle-ahc-panel-transaction.json", &len);

    cr_assert_eq(ingest_prepare_fhir(J, D, "hosp", NULL, p, len), 202);
    cr_expect(J->msg.accepted);
    cr_expect(key_is("fhir:urn:ietf:rfc:3986|urn:uuid:"
                     "0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0"), "%.*s",
              (int)J->msg.key.len, J->msg.key.p);
    cr_assert_eq(J->msg.n_ev, 2);
    cJSON *j = reply_json();
    const cJSON *ids = cJSON_GetObjectItem(j, "event_ids");
    cr_assert_eq(cJSON_GetArraySize(ids), 2);
    cr_expect_str_eq(cJSON_GetArrayItem(ids, 0)->valuestring, J->msg.ev_id[0]);
    cr_expect_str_eq(cJSON_GetArrayItem(ids, 1)->valuestring, J->msg.ev_id[1]);
    cJSON_Delete(j);
    free(p);
}

Test(ingest_docs, fhir_idempotency_header_replaces_the_adapter_key)
{
    size_t len;
    char *p = slurp("fhir/bundle-ahc-panel-transaction.json", &len);
    struct docs_meta meta = { .idem_key = "client-42" };

    cr_assert_eq(ingest_prepare_fhir(J, D, "hosp", &meta, p, len), 202);
    cr_expect(key_is("fhir:idem:client-42"));
    free(p);
}

Test(ingest_docs, fhir_resource_without_id_is_keyed_by_content_hash)
{
    static const char body[] =
        "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"X\"}]}";
    char want[80];

    cr_assert_eq(ingest_prepare_fhir(J, D, "hosp", NULL, body,
                                     sizeof(body) - 1), 202);
    snprintf(want, sizeof(want), "fhir:sha256:%s", J->msg.sha256);
    cr_expect(key_is(want), "%.*s", (int)J->msg.key.len, J->msg.key.p);
    cr_expect_eq(J->msg.n_ev, 0, "a Patient alone is context, no event");
}

Test(ingest_docs, fhir_unversioned_resource_key_carries_its_content_hash)
{
    size_t len;
    char *p = slurp("fhir/Task-SDOHCC-TaskReferralManagementOrderFulfillment"
                    "AcceptedExample.json", &len);
    char want[256];

    cr_assert_eq(ingest_prepare_fhir(J, D, "hosp", NULL, p, len), 202);
    snprintf(want, sizeof(want), "fhir:Task/SDOHCC-TaskReferralManagement"
             "OrderFulfillmentAcceptedExample#sha256:%s", J->msg.sha256);
    cr_expect(key_is(want), "%.*s", (int)J->msg.key.len, J->msg.key.p);
    free(p);
}

Test(ingest_docs, fhir_id_too_long_for_a_key_is_keyed_by_its_hash)
{
    /* a Bundle.identifier value of 5000 characters */
    size_t n = 5000, len;
    char *val = malloc(n + 1), *body = malloc(n + 256);
    memset(val, 'v', n);
    val[n] = '\0';
    len = (size_t)snprintf(body, n + 256, "{\"resourceType\":\"Bundle\","
                           "\"type\":\"collection\",\"identifier\":"
                           "{\"value\":\"%s\"},\"entry\":[]}", val);
    int st = ingest_prepare_fhir(J, D, "hosp", NULL, body, len);
    cr_assert_eq(st, 202, "%.*s", (int)J->msg.reply.len, J->msg.reply.p);
    cr_expect_eq(J->msg.key.len, 5 + 10 + 64, "%.*s", (int)J->msg.key.len,
                 J->msg.key.p);
    cr_expect_eq(strncmp(J->msg.key.p, "fhir:id-sha256:", 15), 0);
    free(val);
    free(body);
}

Test(ingest_docs, fhir_refused_bundle_is_quarantined_without_key)
{
    size_t len;
    char *p = slurp("fhir/bundle-referral-transaction-bad-entry.json", &len);

    cr_assert_eq(ingest_prepare_fhir(J, D, "hosp", NULL, p, len), 400);
    cr_expect(!J->msg.accepted);
    cr_expect_eq(J->msg.key.len, 0);
    cr_expect_eq(J->msg.n_ev, 0);
    cr_expect_str_eq(J->err.field, "entry[2].resource.status");
    char *ej = strndup(J->msg.error_json.p, J->msg.error_json.len);
    cr_expect(strstr(ej, "\"field\":\"entry[2].resource.status\"") != NULL,
              "%s", ej);
    free(ej);
    cJSON *j = reply_json();
    cr_expect_str_eq(cJSON_GetObjectItem(j, "resourceType")->valuestring,
                     "OperationOutcome");
    cJSON_Delete(j);
    cr_expect_str_eq(ingest_docs_content_type(J, 400),
                     "application/fhir+json");
    free(p);
}

Test(ingest_docs, fhir_batch_answers_one_response_per_entry)
{
    size_t len;
    char *p = slurp("fhir/bundle-referral-batch-partial.json", &len);

    cr_assert_eq(ingest_prepare_fhir(J, D, "hosp", NULL, p, len), 200);
    cr_expect(J->msg.accepted);
    cJSON *j = reply_json();
    cr_expect_str_eq(cJSON_GetObjectItem(j, "type")->valuestring,
                     "batch-response");
    const cJSON *e = cJSON_GetObjectItem(j, "entry");
    cr_assert_eq(cJSON_GetArraySize(e), 4);
    const cJSON *bad = cJSON_GetObjectItem(cJSON_GetArrayItem(e, 2),
                                           "response");
    cr_expect_str_eq(cJSON_GetObjectItem(bad, "status")->valuestring,
                     "400 Bad Request");
    cr_expect_not_null(cJSON_GetObjectItem(bad, "outcome"));
    const cJSON *good = cJSON_GetObjectItem(cJSON_GetArrayItem(e, 1),
                                            "response");
    const cJSON *ext = cJSON_GetArrayItem(cJSON_GetObjectItem(good,
                                                              "extension"), 0);
    cr_assert_not_null(ext);
    cr_expect_str_eq(cJSON_GetObjectItem(ext, "url")->valuestring,
                     INGEST_DOCS_EVENT_EXT);
    cr_expect_str_eq(cJSON_GetObjectItem(ext, "valueId")->valuestring,
                     J->msg.ev_id[0]);
    cJSON_Delete(j);
    free(p);
}

/* A batch sender is told what the hub found in each accepted entry (FHIR
 * R4 Bundle.entry.response.outcome, F1803): before, only a refused entry
 * had an outcome, so an entry that gave no event (a response the hub
 * cannot read, F1722) or had warnings answered a bare 202. An entry with
 * nothing to say has none. */
Test(ingest_docs, fhir_batch_tells_an_accepted_entry_what_was_found_in_it)
{
    size_t len;
    char *p = slurp("fhir/bundle-referral-batch-partial.json", &len);
    /* the file's batch with a fifth entry: a response of local link ids
     * and uncoded answers, which the dictionary does not know */
    const char *qr =
        ",{\"resource\":{\"resourceType\":\"QuestionnaireResponse\","
        "\"id\":\"qr-local\",\"status\":\"completed\",\"subject\":"
        "{\"reference\":\"Patient/p1\"},\"item\":[{\"linkId\":\"H1/Q1\","
        "\"answer\":[{\"valueString\":\"Several-days\"}]}]},"
        "\"request\":{\"method\":\"POST\",\"url\":"
        "\"QuestionnaireResponse\"}}";
    char *end = p + len;
    while (end > p && end[-1] != ']')
        end--;
    cr_assert(end > p, "the entry array's end");
    size_t head = (size_t)(end - 1 - p), qlen = strlen(qr);
    char *body = malloc(len + qlen + 1);
    memcpy(body, p, head);
    memcpy(body + head, qr, qlen);
    memcpy(body + head + qlen, p + head, len - head);

    cr_assert_eq(ingest_prepare_fhir(J, D, "hosp", NULL, body, len + qlen),
                 200, "%.*s", (int)J->msg.reply.len, J->msg.reply.p);
    cJSON *j = reply_json();
    const cJSON *e = cJSON_GetObjectItem(j, "entry");
    cr_assert_eq(cJSON_GetArraySize(e), 5);
    const cJSON *unread = cJSON_GetObjectItem(cJSON_GetArrayItem(e, 4),
                                              "response");
    cr_expect_str_eq(cJSON_GetObjectItem(unread, "status")->valuestring,
                     "202 Accepted");
    cr_expect_null(cJSON_GetObjectItem(unread, "extension"), "no event");
    const cJSON *oo = cJSON_GetObjectItem(unread, "outcome");
    cr_assert_not_null(oo, "why it gave no event");
    const cJSON *issue = cJSON_GetArrayItem(cJSON_GetObjectItem(oo, "issue"), 0);
    cr_expect_str_eq(cJSON_GetObjectItem(issue, "severity")->valuestring,
                     "information");
    cr_expect_not_null(strstr(cJSON_GetObjectItem(issue, "diagnostics")
                                  ->valuestring,
                              "not read as a screening"));
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(oo, "issue")), 1,
                 "this entry's issues alone");
    /* the ServiceRequest gave its event and had nothing to say */
    const cJSON *good = cJSON_GetObjectItem(cJSON_GetArrayItem(e, 1),
                                            "response");
    cr_expect_not_null(cJSON_GetObjectItem(good, "extension"));
    cr_expect_null(cJSON_GetObjectItem(good, "outcome"));
    cJSON_Delete(j);
    free(body);
    free(p);
}

Test(ingest_docs, fhir_batch_refused_entry_is_a_quarantined_part)
{
    size_t len;
    char *p = slurp("fhir/bundle-referral-batch-partial.json", &len);

    cr_assert_eq(ingest_prepare_fhir(J, D, "hosp", NULL, p, len), 200);
    cr_assert(J->msg.accepted);
    cr_assert_eq(J->n_parts, 1, "entry 2 only");
    const struct store_msg *m = &J->parts[0];
    cr_expect(!m->accepted);
    cr_expect_eq(m->key.len, 0, "a refused part carries no key");
    cr_expect_str_eq(m->format, "fhir");
    cr_expect_str_eq(m->org_id, "hosp");
    cr_expect_str_eq(m->received_at, J->msg.received_at);
    cr_expect(m->raw.p > J->msg.raw.p && m->raw.p + m->raw.len <
              J->msg.raw.p + J->msg.raw.len, "its bytes within the body");
    cJSON *raw = cJSON_ParseWithLength(m->raw.p, m->raw.len);
    cr_assert_not_null(raw, "the entry alone is JSON");
    cr_expect_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(raw, "resource"),
                                         "id")->valuestring, "bad-task");
    cJSON_Delete(raw);
    cJSON *e = cJSON_ParseWithLength(m->error_json.p, m->error_json.len);
    cr_assert_not_null(e);
    cr_expect_str_eq(cJSON_GetObjectItem(e, "field")->valuestring,
                     "entry[2].resource.status");
    cr_expect_eq(cJSON_GetObjectItem(e, "entry")->valueint, 2);
    cr_expect_eq((size_t)cJSON_GetObjectItem(e, "offset")->valuedouble,
                 (size_t)(m->raw.p - J->msg.raw.p));
    cr_expect_str_eq(cJSON_GetObjectItem(e, "part_of")->valuestring,
                     J->msg.sha256);
    cJSON_Delete(e);
    free(p);
}

Test(ingest_docs, csv_rejected_rows_are_quarantined_parts_up_to_the_cap)
{
    /* INGEST_MAX_PARTS + 2 bad rows and one good: the first
     * INGEST_MAX_PARTS - 1 rows alone, then one part with the other 3 */
    size_t cap = (INGEST_MAX_PARTS + 8) * 64 + 256, n = 0;
    char *csv = malloc(cap);
    n += (size_t)snprintf(csv + n, cap - n, "screening_id,patient_id,"
                          "instrument,screened_at,question,answer\n"
                          "S-0,C-0,88121-9,2026-03-01,88122-7,LA28397-0\n");
    for (int i = 1; i <= INGEST_MAX_PARTS + 2; i++)
        n += (size_t)snprintf(csv + n, cap - n,
                              "S-%d,C-%d,88121-9,bad,88122-7,LA28397-0\n", i, i);
    struct docs_meta meta = { .file_name = "many.csv" };

    cr_assert_eq(ingest_prepare_csv(J, D, "cbo", "screenings", &meta, csv, n),
                 202);
    cr_assert(J->msg.accepted);
    cr_assert_eq(J->n_parts, INGEST_MAX_PARTS);
    const struct store_msg *m = &J->parts[0];
    cr_expect_eq(m->raw.len, strlen("S-1,C-1,88121-9,bad,88122-7,LA28397-0"));
    cr_expect(memcmp(m->raw.p, "S-1,C-1,", 8) == 0);
    cr_expect(strstr(m->error_json.p, "\"field\":\"0:row 3 col 4\"") != NULL,
              "%s", m->error_json.p);
    cr_expect(strstr(m->error_json.p, "\"file\":\"many.csv\"") != NULL);
    m = &J->parts[INGEST_MAX_PARTS - 1];
    cr_expect(strstr(m->error_json.p, "\"code\":\"limit\"") != NULL);
    cr_expect(strstr(m->error_json.p, "{\"file\":0,\"row\":1026}") != NULL,
              "%s", m->error_json.p);
    cr_expect(memcmp(m->raw.p, "S-1024,", 7) == 0, "%.*s", 20, m->raw.p);
    cr_expect(strstr(m->raw.p, "S-1026,C-1026,88121-9,bad,88122-7,"
                     "LA28397-0\n") != NULL);
    free(csv);
}

Test(ingest_docs, csv_shinny_set_rejected_rows_name_their_file_row_and_bytes)
{
    static const char *const names[] = {
        "SDOH_PtInfo_RiverbendCBO_set2_20260202170500.csv",
        "SDOH_QEadmin_RiverbendCBO_set2_20260202170500.csv",
        "SDOH_ScreeningObs_RiverbendCBO_set2_20260202170500.csv",
        "SDOH_ScreeningProf_RiverbendCBO_set2_20260202170500.csv",
    };
    size_t cap = 1u << 20, n = 0;
    char *body = malloc(cap), *pt = NULL;
    for (int i = 0; i < 4; i++) {
        char rel[256];
        size_t flen;
        snprintf(rel, sizeof(rel), "csv/shinny-1115-riverbend-set2/%s",
                 names[i]);
        char *f = slurp(rel, &flen);
        cr_assert_lt(n + flen + 512, cap);
        n += (size_t)snprintf(body + n, cap - n, "--b0und\r\nContent-"
                              "Disposition: form-data; name=\"f%d\"; "
                              "filename=\"%s\"\r\n\r\n", i, names[i]);
        memcpy(body + n, f, flen);
        n += flen;
        n += (size_t)snprintf(body + n, cap - n, "\r\n");
        if (i == 0)
            pt = f;
        else
            free(f);
    }
    n += (size_t)snprintf(body + n, cap - n, "--b0und--\r\n");
    struct docs_meta meta = {
        .content_type = "multipart/form-data; boundary=b0und" };

    cr_assert_eq(ingest_prepare_csv(J, D, "cbo", "shinny", &meta, body, n),
                 202);
    /* keyed by its four hashes alone, the older form with the set's name
     * (F4080) */
    static const char old[] = "csv:shinny:RiverbendCBO_set2_20260202170500"
                              ".csv:";
    cr_expect_eq(J->msg.key.len, 11 + 4 * 64 + 3, "%.*s",
                 (int)J->msg.key.len, J->msg.key.p);
    cr_expect_eq(J->msg.old_key.len, sizeof(old) - 1 + 4 * 64 + 3);
    cr_expect_eq(memcmp(J->msg.old_key.p, old, sizeof(old) - 1), 0);
    cr_expect_eq(memcmp(J->msg.old_key.p + sizeof(old) - 1,
                        J->msg.key.p + 11, J->msg.key.len - 11), 0);
    cr_assert_eq(J->n_parts, 2, "the report's two rejected rows");
    /* the PtInfo file's rows 2 and 3 (findings at columns 14 and 3); row 2
     * holds a quoted line break, so its bytes run over two lines */
    const char *row2 = strstr(pt, "RB-0042,");
    const char *row3 = strstr(pt, "RB-0043,");
    cr_assert(row2 && row3 && row3 > row2);
    const char *rows[] = { row2, row3 };
    const size_t lens[] = { (size_t)(row3 - row2) - 2,  /* less its CRLF */
                            strcspn(row3, "\r\n") };
    const char *fields[] = { "\"field\":\"0:row 2 col 14\"",
                             "\"field\":\"0:row 3 col 3\"" };
    for (int i = 0; i < 2; i++) {
        const struct store_msg *m = &J->parts[i];
        size_t len = lens[i];
        cr_expect_eq(m->raw.len, len, "row %d", i + 2);
        cr_expect(memcmp(m->raw.p, rows[i], len) == 0, "row %d", i + 2);
        cr_expect(strstr(m->error_json.p, fields[i]) != NULL, "%s",
                  m->error_json.p);
        cr_expect(strstr(m->error_json.p, names[0]) != NULL, "%s",
                  m->error_json.p);
    }
    free(pt);
    free(body);
}

Test(ingest_docs, fhir_batch_without_any_good_entry_is_refused_whole)
{
    size_t len;
    char *p = slurp("fhir/bundle-referral-batch-partial.json", &len);
    cJSON *b = cJSON_Parse(p);
    cJSON *entries = cJSON_GetObjectItem(b, "entry");

    /* keep only entry 2, the Task whose status is not a TaskStatus */
    cJSON_DeleteItemFromArray(entries, 3);
    cJSON_DeleteItemFromArray(entries, 1);
    cJSON_DeleteItemFromArray(entries, 0);
    char *body = cJSON_PrintUnformatted(b);
    cr_assert_eq(ingest_prepare_fhir(J, D, "hosp", NULL, body, strlen(body)),
                 400);
    cr_expect(!J->msg.accepted);
    cr_expect_eq(J->msg.key.len, 0);
    cr_expect_eq(J->msg.n_ev, 0);
    cr_expect_eq(strncmp(J->err.field, "entry[0]", 8), 0, "%s", J->err.field);
    cJSON *j = reply_json();
    cr_expect_str_eq(cJSON_GetObjectItem(j, "resourceType")->valuestring,
                     "OperationOutcome");
    const cJSON *issue = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "issue"),
                                            0);
    cr_expect_str_eq(cJSON_GetObjectItem(issue, "severity")->valuestring,
                     "error");
    cJSON_Delete(j);
    free(body);
    cJSON_Delete(b);
    free(p);
}

Test(ingest_docs, status_after_commit_follows_duplicate_and_requarantine)
{
    size_t len;
    char *p = slurp("fhir/bundle-referral-batch-partial.json", &len);
    struct hub_err err;

    int st = ingest_prepare_fhir(J, D, "hosp", NULL, p, len);
    cr_assert_eq(st, 200);
    cr_expect_eq(ingest_docs_status(J, st), 200);
    J->res.duplicate = true;
    cr_expect_eq(ingest_docs_status(J, st), 200, "a re-send: same status");
    J->res.duplicate = false;
    /* the database refused a value: the committer re-quarantines */
    hub_err_set(&err, HUB_EINVALID, "", 0, "the database refused a value");
    J->requarantine(J, &err);
    cr_expect(!J->msg.accepted);
    cr_expect_eq(J->msg.key.len, 0);
    cr_expect_eq(ingest_docs_status(J, st), 400);
    cr_expect_str_eq(ingest_docs_content_type(J, 400),
                     "application/fhir+json");
    free(p);
}

Test(ingest_docs, ccda_key_is_the_document_id)
{
    size_t len;
    char *p = slurp("ccda/synthetic-ahc-hrsn.xml", &len);

    cr_assert_eq(ingest_prepare_ccda(J, D, "hosp", NULL, p, len), 202);
    cr_expect_eq(strncmp(J->msg.key.p, "ccda:urn:", 9), 0, "%.*s",
                 (int)J->msg.key.len, J->msg.key.p);
    cr_expect_gt(J->msg.n_ev, 0);
    free(p);
}

Test(ingest_docs, ccda_doctype_is_refused_with_its_place)
{
    static const char doc[] =
        "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]>"
        "<ClinicalDocument xmlns=\"urn:hl7-org:v3\">&a;</ClinicalDocument>";

    cr_assert_eq(ingest_prepare_ccda(J, D, "hosp", NULL, doc,
                                     sizeof(doc) - 1), 422);
    cr_expect(!J->msg.accepted);
    cr_expect_eq(J->msg.n_ev, 0);
    cJSON *j = reply_json();
    const cJSON *e = cJSON_GetObjectItem(j, "error");
    cr_assert_not_null(e);
    cr_expect_str_eq(cJSON_GetObjectItem(e, "code")->valuestring,
                     "unsupported");
    cr_expect_str_eq(cJSON_GetObjectItem(e, "field")->valuestring, "/");
    /* the byte libxml2 had read when it met the DOCTYPE: inside it, at
     * bytes 21-52 (F1828: it was given only when not 0) */
    const cJSON *off = cJSON_GetObjectItem(e, "offset");
    cr_assert(cJSON_IsNumber(off), "%.*s", (int)J->msg.reply.len,
              J->msg.reply.p);
    cr_expect_geq(off->valueint, 21);
    cr_expect_leq(off->valueint, 52);
    cJSON_Delete(j);
}

/* A body that is no XML at all (a FHIR resource posted to /v1/ccda) is
 * refused at its first byte, and told so: "offset" 0, a place, where a
 * refusal at no place has none (F1828: 0 read as "none"). */
Test(ingest_docs, ccda_refused_at_its_first_byte_is_told_offset_0)
{
    static const char doc[] = "{\"resourceType\":\"Patient\"}";

    cr_assert_eq(ingest_prepare_ccda(J, D, "hosp", NULL, doc,
                                     sizeof(doc) - 1), 400);
    cr_expect(J->err.located);
    cJSON *j = reply_json();
    const cJSON *e = cJSON_GetObjectItem(j, "error");
    cr_assert_not_null(e);
    cr_expect_str_eq(cJSON_GetObjectItem(e, "code")->valuestring, "syntax");
    const cJSON *off = cJSON_GetObjectItem(e, "offset");
    cr_assert(cJSON_IsNumber(off), "no offset: %.*s", (int)J->msg.reply.len,
              J->msg.reply.p);
    cr_expect_eq(off->valueint, 0);
    cJSON_Delete(j);
}

/* A document that is no well-formed XML is told where (F1740): the byte
 * libxml2 stopped at, as "offset" beside "field" "/", which names no
 * place. HL7's own Social History Observation example closes its
 * observation inside its <code> (tests/data/real/ccda-sections,
 * r127-ccda-examples_Social-History-Observation.xml); here the same
 * fault: the end tag of <code> missing, found at the </observation> of
 * bytes 69-82 (libxml2 gives the byte after it, 83). A refusal at an
 * element path has no offset. */
Test(ingest_docs, ccda_not_well_formed_is_told_the_byte_offset_of_its_fault)
{
    static const char doc[] =
        "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><observation>"
        "<code code=\"x\"></observation></ClinicalDocument>";

    cr_assert_eq(ingest_prepare_ccda(J, D, "hosp", NULL, doc,
                                     sizeof(doc) - 1), 400);
    cJSON *j = reply_json();
    const cJSON *e = cJSON_GetObjectItem(j, "error");
    cr_assert_not_null(e);
    cr_expect_str_eq(cJSON_GetObjectItem(e, "code")->valuestring, "syntax");
    cr_expect_str_eq(cJSON_GetObjectItem(e, "field")->valuestring, "/");
    const cJSON *off = cJSON_GetObjectItem(e, "offset");
    cr_assert(cJSON_IsNumber(off), "no offset: %.*s", (int)J->msg.reply.len,
              J->msg.reply.p);
    cr_expect_eq(off->valueint, 83);
    cr_expect_eq(off->valueint, (int)J->err.offset);
    cJSON_Delete(j);

    size_t len;
    char *p = slurp("ccda/synthetic-no-patient-id.xml", &len);
    ingest_job_free(J);
    J = ingest_job_new();
    cr_assert_eq(ingest_prepare_ccda(J, D, "hosp", NULL, p, len), 400);
    j = reply_json();
    e = cJSON_GetObjectItem(j, "error");
    cr_assert_not_null(e);
    cr_expect_null(cJSON_GetObjectItem(e, "offset"), "%.*s",
                   (int)J->msg.reply.len, J->msg.reply.p);
    cr_expect(!J->err.located);
    cJSON_Delete(j);
    free(p);
}

/* A refusal deep in a document names its place whole in the answer and
 * in the error kept with the quarantined bytes (it was cut at 128 bytes,
 * to an ancestor of the element meant): one element past the depth
 * limit, "/ClinicalDocument" and 63 components. */
Test(ingest_docs, ccda_refusal_deep_in_the_document_names_its_whole_place)
{
    char doc[2048], want[1024];
    size_t n = (size_t)snprintf(doc, sizeof(doc),
                                "<ClinicalDocument xmlns=\"urn:hl7-org:v3\">");
    size_t w = (size_t)snprintf(want, sizeof(want), "/ClinicalDocument");
    for (int i = 0; i < 64; i++) {
        n += (size_t)snprintf(doc + n, sizeof(doc) - n, "<component>");
        if (i < 63)
            w += (size_t)snprintf(want + w, sizeof(want) - w, "/component");
    }
    for (int i = 0; i < 64; i++)
        n += (size_t)snprintf(doc + n, sizeof(doc) - n, "</component>");
    n += (size_t)snprintf(doc + n, sizeof(doc) - n, "</ClinicalDocument>");
    cr_assert(n < sizeof(doc) && w > 128);

    cr_assert_eq(ingest_prepare_ccda(J, D, "hosp", NULL, doc, n), 413);
    cJSON *j = reply_json();
    const cJSON *e = cJSON_GetObjectItem(j, "error");
    cr_assert_not_null(e);
    cr_expect_str_eq(cJSON_GetObjectItem(e, "field")->valuestring, want);
    cJSON_Delete(j);
    j = cJSON_ParseWithLength(J->msg.error_json.p, J->msg.error_json.len);
    cr_assert_not_null(j);
    cr_expect_str_eq(cJSON_GetObjectItem(j, "field")->valuestring, want);
    cJSON_Delete(j);
}

Test(ingest_docs, csv_file_name_loses_its_directories)
{
    static const char csv[] =
        "screening_id,patient_id,instrument,screened_at,question,answer\n"
        "S-1,C-1,88121-9,2026-03-01T10:00:00-05:00,88122-7,LA28397-0\n";
    struct docs_meta meta = { .content_type = "text/csv",
                              .file_name = "../../etc/pantry.csv" };

    cr_assert_eq(ingest_prepare_csv(J, D, "cbo", "screenings", &meta, csv,
                                    sizeof(csv) - 1), 202);
    /* keyed by the file's kind and hash alone (F4080) */
    cr_expect_eq(J->msg.key.len, 15 + 64);
    cr_expect_eq(strncmp(J->msg.key.p, "csv:screenings:", 15), 0,
                 "%.*s", (int)J->msg.key.len, J->msg.key.p);
    cr_expect_eq(memcmp(J->msg.key.p + 15, J->msg.sha256, 64), 0);
    /* its older form, looked up too, holds the name without directories */
    cr_expect_eq(J->msg.old_key.len, 26 + 64);
    cr_expect_eq(strncmp(J->msg.old_key.p, "csv:screenings:pantry.csv:", 26),
                 0, "%.*s", (int)J->msg.old_key.len, J->msg.old_key.p);
    cr_expect_eq(memcmp(J->msg.old_key.p + 26, J->msg.sha256, 64), 0);
}

/* F4080: a SHIN-NY set is keyed by its four hashes, without the name
 * its files share; an Idempotency-Key has no older form. */
Test(ingest_docs, csv_keys_are_hashes_and_a_header_key_has_no_older_form)
{
    static const char csv[] =
        "screening_id,patient_id,instrument,screened_at,question,answer\n"
        "S-1,C-1,88121-9,2026-03-01T10:00:00-05:00,88122-7,LA28397-0\n";
    struct docs_meta meta = { .content_type = "text/csv",
                              .idem_key = "batch-7" };

    cr_assert_eq(ingest_prepare_csv(J, D, "cbo", "screenings", &meta, csv,
                                    sizeof(csv) - 1), 202);
    cr_expect_eq(J->msg.key.len, strlen("csv:screenings:idem:batch-7"));
    cr_expect_eq(memcmp(J->msg.key.p, "csv:screenings:idem:batch-7",
                        J->msg.key.len), 0);
    cr_expect_eq(J->msg.old_key.len, 0);
}

Test(ingest_docs, csv_without_a_usable_row_is_refused_with_the_report)
{
    static const char csv[] =
        "screening_id,patient_id,instrument,screened_at,question,answer\n"
        "S-1,C-1,88121-9,not-a-date,88122-7,LA28397-0\n";

    cr_assert_eq(ingest_prepare_csv(J, D, "cbo", "screenings", NULL, csv,
                                    sizeof(csv) - 1), 422);
    cr_expect(!J->msg.accepted);
    cJSON *j = reply_json();
    cr_expect_not_null(cJSON_GetObjectItem(j, "error"));
    const cJSON *rep = cJSON_GetObjectItem(j, "report");
    cr_assert_not_null(rep);
    cr_expect_eq(cJSON_GetObjectItem(rep, "rejected")->valueint, 1);
    cJSON_Delete(j);
    /* a duplicate cannot exist (no key), so the error status stays */
    cr_expect_eq(ingest_docs_status(J, 422), 422);
}

/* The hub gives the adapter the upload's time, which settles Excel
 * serials: one from last week cannot be the Mac 1904 system (read so it
 * would be years ahead), one from 2010 can, and is refused. */
Test(ingest_docs, csv_excel_serials_are_settled_by_the_upload_time)
{
    long week_ago = (long)(time(NULL) / 86400) + 25569 - 7;
    char csv[256];
    int n = snprintf(csv, sizeof(csv),
                     "screening_id,patient_id,instrument,screened_at,"
                     "question,answer\n"
                     "S-1,C-1,88121-9,%ld,88122-7,LA28397-0\n", week_ago);
    cr_assert_eq(ingest_prepare_csv(J, D, "cbo", "screenings", NULL, csv,
                                    (size_t)n), 202);
    cr_assert(strstr(J->msg.reply.p, "\"used\":1,\"rejected\":0") != NULL,
              "%.*s", (int)J->msg.reply.len, J->msg.reply.p);

    ingest_job_free(J);
    J = ingest_job_new();
    n = snprintf(csv, sizeof(csv),
                 "screening_id,patient_id,instrument,screened_at,"
                 "question,answer\n"
                 "S-1,C-1,88121-9,40200,88122-7,LA28397-0\n");
    cr_assert_eq(ingest_prepare_csv(J, D, "cbo", "screenings", NULL, csv,
                                    (size_t)n), 422);
    cr_assert(strstr(J->msg.reply.p, "Mac 1904") != NULL, "%.*s",
              (int)J->msg.reply.len, J->msg.reply.p);
}

/* A header alone, or a header and blank rows, is refused as having no
 * data rows (not as rows that "could not be used"), and an empty file as
 * having no header. */
Test(ingest_docs, csv_without_data_rows_says_so)
{
    static const char hdr[] =
        "screening_id,patient_id,instrument,screened_at,question,answer\r\n"
        ",,,,,\r\n\r\n";
    cr_assert_eq(ingest_prepare_csv(J, D, "cbo", "screenings", NULL, hdr,
                                    sizeof(hdr) - 1), 422);
    cr_expect_str_eq(J->err.what, "upload has no data rows (a header only, "
                                  "or blank rows)");
    cJSON *j = reply_json();
    const cJSON *rep = cJSON_GetObjectItem(j, "report");
    cr_assert_not_null(rep);
    cr_expect_eq(cJSON_GetObjectItem(rep, "blank")->valueint, 2);
    cJSON_Delete(j);
}

Test(ingest_docs, csv_empty_file_is_refused_as_having_no_header)
{
    cr_assert_eq(ingest_prepare_csv(J, D, "cbo", "screenings", NULL, "", 0),
                 400);
    cr_expect_str_eq(J->err.what, "file has no header row");
}

Test(ingest_docs, csv_unterminated_quote_is_a_whole_file_syntax_error)
{
    static const char csv[] =
        "screening_id,patient_id,instrument,screened_at,question,answer\n"
        "S-1,\"C-1,88121-9,2026-03-01,88122-7,LA28397-0\n";

    cr_assert_eq(ingest_prepare_csv(J, D, "cbo", "screenings", NULL, csv,
                                    sizeof(csv) - 1), 400);
    cr_expect_eq(J->err.code, HUB_ESYNTAX);
    cr_expect_neq(J->err.field[0], '\0', "the place is named");
}

Test(ingest_docs, fhir_unversioned_id_too_long_for_a_key_is_still_keyed)
{
    /* a Patient id of 5000 characters, no meta.versionId: the key is the
     * id's hash and the content hash, never none (a re-send would be new) */
    size_t n = 5000, len;
    char *id = malloc(n + 1), *body = malloc(n + 256);
    memset(id, 'i', n);
    id[n] = '\0';
    len = (size_t)snprintf(body, n + 256, "{\"resourceType\":\"Patient\","
                           "\"id\":\"%s\"}", id);
    int st = ingest_prepare_fhir(J, D, "hosp", NULL, body, len);
    cr_assert_eq(st, 202, "%.*s", (int)J->msg.reply.len, J->msg.reply.p);
    cr_expect_gt(J->msg.key.len, 0, "no idempotency key");
    char want[256], h[65];
    memcpy(body, "Patient/", 8);    /* the resource's name: Patient/<id> */
    memcpy(body + 8, id, n + 1);
    store_sha256_hex(body, n + 8, h);
    snprintf(want, sizeof(want), "fhir:id-sha256:%s#sha256:%s", h,
             J->msg.sha256);
    cr_expect(key_is(want), "%.*s", (int)J->msg.key.len, J->msg.key.p);
    free(id);
    free(body);
}

Test(ingest_docs, fhir_refused_entry_with_a_long_id_keeps_its_place_and_batch)
{
    /* the refused entry's id of 5000 characters: its part's error still
     * names the entry, the element and the batch it came in (F525: past
     * 4 KiB the whole error was {"code":"limit"}) */
    size_t len, n = 5000;
    char *p = slurp("fhir/bundle-referral-batch-partial.json", &len);
    char *at = strstr(p, "\"bad-task\"");
    cr_assert_not_null(at);
    char *body = malloc(len + n + 1);
    size_t head = (size_t)(at - p) + 1;
    memcpy(body, p, head);
    memset(body + head, 'b', n);
    memcpy(body + head + n, at + 9, len - head - 8);
    size_t blen = len - 8 + n;

    cr_assert_eq(ingest_prepare_fhir(J, D, "hosp", NULL, body, blen), 200,
                 "%.*s", (int)J->msg.reply.len, J->msg.reply.p);
    cr_assert_eq(J->n_parts, 1);
    cJSON *e = cJSON_ParseWithLength(J->parts[0].error_json.p,
                                     J->parts[0].error_json.len);
    cr_assert_not_null(e);
    cr_assert_not_null(cJSON_GetObjectItem(e, "part_of"), "%.*s",
                       (int)J->parts[0].error_json.len,
                       J->parts[0].error_json.p);
    cr_expect_str_eq(cJSON_GetObjectItem(e, "part_of")->valuestring,
                     J->msg.sha256);
    cr_expect_eq(cJSON_GetObjectItem(e, "entry")->valueint, 2);
    cr_expect_str_eq(cJSON_GetObjectItem(e, "field")->valuestring,
                     "entry[2].resource.status");
    cJSON_Delete(e);
    free(body);
    free(p);
}

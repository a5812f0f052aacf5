/*
 * api_docs.c - POST /v1/fhir, POST /v1/ccda and POST /v1/csv/{kind}: one
 * body is one ingest job on the same durable group-commit path as HL7 v2
 * (raw bytes, events, audit and routing in one transaction; quarantine for
 * refused input), answered only after that transaction committed.
 *
 *   request -> media type, content coding (415) -> Idempotency-Key (400)
 *   -> room and database (503 + Retry-After) -> ingest_prepare_*
 *   (inline, or on a worker thread for a large body) -> api_ingest
 *   -> committed: the prepared (or, for a re-send, the stored) answer
 *   -> not committed (database gone past the shutdown timeout): 503
 *
 * Body size is capped by max_body (evhttp answers 413 before we see it)
 * and again by each adapter's own limit (413, quarantined). Scope ingest.
 * What the answers hold is described in ingest_docs.h. A re-send answered
 * from the store carries "Idempotent-Replayed: true". A key that names a
 * message (an Idempotency-Key, a ClinicalDocument/id, a Bundle.identifier,
 * a versioned resource id) used again for other bytes is answered 422, not
 * with the first one's answer: the store kept those bytes in quarantine
 * (hub_dup_kept), and the sender must learn that nothing was accepted.
 * FHIR errors (also 415 and 503) are OperationOutcomes; the others are the
 * hub's {"error":{...}}.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "common/arena.h"
#include "config.h"
#include "fhir/fhir.h"
#include "ingest.h"
#include "ingest_docs.h"
#include "log.h"
#include "metrics.h"
#include "server.h"

enum docs_format { DOCS_FHIR, DOCS_CCDA, DOCS_CSV };

static const char *const csv_kinds[] = { "screenings", "referral-status",
                                         "shinny", NULL };

static void fhir_error(struct api_req *r, int status, int code,
                       const char *field, const char *what)
{
    struct arena a;
    struct hub_err err;
    struct slice oo;

    arena_init(&a, 4096);
    hub_err_set(&err, code, field ? field : "", 0, what);
    if (fhir_operation_outcome(&a, &err, NULL, &oo) == HUB_OK)
        api_reply(r, status, "application/fhir+json", oo.p, oo.len);
    else
        api_reply_error(r, status, hub_strerror(code), what, field);
    arena_release(&a);
}

static void refuse(struct api_req *r, enum docs_format f, int status,
                   int code, const char *field, const char *what)
{
    if (f == DOCS_FHIR)
        fhir_error(r, status, code, field, what);
    else
        api_reply_error(r, status, hub_strerror(code), what, field);
}

static void busy(struct api_req *r, enum docs_format f, const char *what)
{
    if (f != DOCS_FHIR) {
        api_reply_busy(r, what);
        return;
    }
    char s[16];
    api_log_busy(r, what);
    snprintf(s, sizeof(s), "%d", api_server(r)->cfg->retry_after);
    api_add_header(r, "Retry-After", s);
    fhir_error(r, 503, HUB_EBUSY, NULL, what);
}

/* A re-send under a key that names the message, with another body
 * (IETF draft-ietf-httpapi-idempotency-key-header: a key reused for another
 * payload is answered 422, not with the first request's answer; a document
 * id is such a key too). The store decided it (res.kept: hub_dup_differs,
 * in the transaction that kept this body in quarantine); a second read of
 * the first one's hash, which this was, answered the first message's 202
 * whenever that read failed (F522). */
static void refuse_reused_key(struct api_req *r, bool fhir, const char *field)
{
    bool header = strcmp(field, "Idempotency-Key") == 0;
    refuse(r, fhir ? DOCS_FHIR : DOCS_CSV, 422, HUB_EINVALID, field,
           header ? "idempotency key was already used for another body; "
                    "not accepted, kept in quarantine"
                  : "this id was already used for another message of "
                    "this sender; not accepted, kept in quarantine");
}

/* api_ingest's done: the one job committed (or the database failed). The
 * status prepare returned rides on the request's data pointer. */
static void on_done(struct api_req *r, struct ingest_job **jobs, size_t n,
                    void *arg)
{
    struct ingest_job *j = jobs[0];
    bool fhir = strcmp(j->msg.format, "fhir") == 0;
    (void)n;
    (void)arg;

    if (j->rc != HUB_OK) {
        busy(r, fhir ? DOCS_FHIR : DOCS_CSV,
             "database unavailable; nothing was acknowledged");
        return;
    }
    int status = ingest_docs_status(j, (int)(intptr_t)api_data(r));
    struct slice answer = ingest_job_answer(j);
    const char *ctype = ingest_docs_content_type(j, status);
    metrics_ack_latency((double)(ingest_now_ns() - j->t_start_ns) / 1e9);
    if (j->res.duplicate && j->res.kept && j->key_field) {
        refuse_reused_key(r, fhir, j->key_field);
        return;
    }
    if (j->res.duplicate)
        api_add_header(r, "Idempotent-Replayed", "true");
    api_reply(r, status, ctype, answer.p, answer.len);
}

/* The checks every format shares; true when the request may go on (else it
 * has been answered). */
static bool admit(struct api_req *r, enum docs_format f, struct slice body,
                  struct docs_meta *meta)
{
    struct server *srv = api_server(r);

    meta->idem_key = api_header(r, "Idempotency-Key");
    meta->content_type = api_header(r, "Content-Type");
    if (api_body_coded(r)) {
        /* a gzip'd body was read as the document, refused as not UTF-8
         * and kept so: the sender learnt of a fault in bytes it never
         * wrote. RFC 9110 8.4.1: 415 and the codings taken */
        api_add_header(r, "Accept-Encoding", "identity");
        refuse(r, f, 415, HUB_EUNSUPPORTED, "Content-Encoding",
               "the body is in a content coding (Content-Encoding); send "
               "it uncompressed, with none");
        return false;
    }
    if (api_header_count(r, "Idempotency-Key") > 1) {
        /* the first was the key, in silence: a retry that sent the other
         * alone was another message, stored again with its events */
        refuse(r, f, 400, HUB_EINVALID, "Idempotency-Key",
               "idempotency key given more than once");
        return false;
    }
    if (meta->idem_key && !ingest_docs_key_ok(meta->idem_key)) {
        refuse(r, f, 400, HUB_EINVALID, "Idempotency-Key",
               "idempotency key must be 1-256 printable characters");
        return false;
    }
    if (body.len == 0) {
        refuse(r, f, 400, HUB_EINVALID, "body", "empty body");
        return false;
    }
    if (!ingest_has_room(srv->ing, 1, body.len)) {
        busy(r, f, "ingest is at capacity, retry later");
        return false;
    }
    if (!ingest_ready(srv->ing)) {
        /* do not hold the request while the database is away */
        ingest_log_unready(srv->ing);
        busy(r, f, "database unreachable, retry later");
        return false;
    }
    if (srv->dict == NULL) {
        refuse(r, f, 500, HUB_EINVALID, NULL, "no data dictionary loaded");
        return false;
    }
    return true;
}

/* api_ingest's 503 for FHIR: an OperationOutcome, as every other FHIR
 * refusal (it answered the hub's JSON: F526) */
static void fhir_busy(struct api_req *r, const char *what)
{
    busy(r, DOCS_FHIR, what);
}

static void submit(struct api_req *r, enum docs_format f,
                   struct ingest_job *j, int status)
{
    struct ingest_job **jobs = malloc(sizeof(*jobs));
    if (jobs == NULL)
        abort();
    jobs[0] = j;
    api_set_data(r, (void *)(intptr_t)status);
    api_ingest(r, jobs, 1, on_done, f == DOCS_FHIR ? fhir_busy : NULL, NULL);
}

/* One body to normalize. Inline it borrows from the request; for a worker
 * thread it holds copies of all it reads (`own`), freed with it. */
struct prep {
    enum docs_format f;
    const struct dict *dict;
    char org_id[64];
    const char *kind;               /* static: one of csv_kinds */
    struct docs_meta meta;
    struct slice body;
    char *own[4];                   /* copies: meta strings and body */
    struct ingest_job *j;
    int status;
};

static const char *own_copy(struct prep *p, int slot, const char *s,
                            size_t n)
{
    if (s == NULL)
        return NULL;
    p->own[slot] = malloc(n + 1);
    if (p->own[slot] == NULL)
        abort();
    memcpy(p->own[slot], s, n);
    p->own[slot][n] = '\0';
    return p->own[slot];
}

static void prep_run(struct prep *p)
{
    p->j = ingest_job_new();
    if (p->f == DOCS_FHIR)
        p->status = ingest_prepare_fhir(p->j, p->dict, p->org_id, &p->meta,
                                        p->body.p, p->body.len);
    else if (p->f == DOCS_CCDA)
        p->status = ingest_prepare_ccda(p->j, p->dict, p->org_id, &p->meta,
                                        p->body.p, p->body.len);
    else
        p->status = ingest_prepare_csv(p->j, p->dict, p->org_id, p->kind,
                                       &p->meta, p->body.p, p->body.len);
}

static void prep_free(struct prep *p)
{
    for (size_t i = 0; i < sizeof(p->own) / sizeof(p->own[0]); i++)
        free(p->own[i]);
    free(p);
}

/* a database worker, used here for its thread: the store is not touched */
static int prep_work(struct store *s, void *arg)
{
    (void)s;
    prep_run(arg);
    return HUB_OK;
}

static void prep_done(struct api_req *r, int rc, void *arg)
{
    struct prep *p = arg;

    if (rc != HUB_OK) {
        /* the worker queue was full, or its database link was down (the
         * pool runs work only when connected): nothing was stored */
        ingest_job_free(p->j);      /* NULL when the work never ran */
        busy(r, p->f, "cannot take the body now, retry later");
    } else {
        submit(r, p->f, p->j, p->status);
    }
    prep_free(p);
}

/*
 * Normalize and submit. Parsing a large body (a 16 MiB CSV takes seconds)
 * on the loop thread would stall every connection, MLLP ACKs included, so
 * bodies over DOCS_INLINE_MAX are normalized on a worker thread (api_db,
 * which answers 503 when its queue is full); small ones inline.
 */
#define DOCS_INLINE_MAX (256u << 10)

static void prepare_and_submit(struct api_req *r, enum docs_format f,
                               const char *kind, struct slice body,
                               const struct docs_meta *meta)
{
    struct prep *p = calloc(1, sizeof(*p));
    if (p == NULL)
        abort();
    p->f = f;
    p->dict = api_server(r)->dict;
    snprintf(p->org_id, sizeof(p->org_id), "%s", api_principal(r)->org_id);
    p->kind = kind;
    if (body.len <= DOCS_INLINE_MAX) {
        p->meta = *meta;
        p->body = body;
        prep_run(p);
        submit(r, p->f, p->j, p->status);
        prep_free(p);
        return;
    }
    const struct docs_meta *m = meta;
    p->meta.idem_key = own_copy(p, 0, m->idem_key,
                                m->idem_key ? strlen(m->idem_key) : 0);
    p->meta.content_type =
        own_copy(p, 1, m->content_type,
                 m->content_type ? strlen(m->content_type) : 0);
    p->meta.file_name = own_copy(p, 2, m->file_name,
                                 m->file_name ? strlen(m->file_name) : 0);
    p->body = (struct slice){ own_copy(p, 3, body.p, body.len), body.len };
    api_db(r, prep_work, prep_done, p);
}

static void post_fhir(struct api_req *r)
{
    struct slice body = api_body(r);
    struct docs_meta meta = { 0 };
    const char *ct = api_header(r, "Content-Type");

    if (!api_media_is(ct, "application/fhir+json") &&
        !api_media_is(ct, "application/json") &&
        !api_media_is(ct, "application/json+fhir")) {
        fhir_error(r, 415, HUB_EUNSUPPORTED, "Content-Type",
                   "send application/fhir+json or application/json");
        return;
    }
    if (!admit(r, DOCS_FHIR, body, &meta))
        return;
    prepare_and_submit(r, DOCS_FHIR, NULL, body, &meta);
}

static void post_ccda(struct api_req *r)
{
    struct slice body = api_body(r);
    struct docs_meta meta = { 0 };
    const char *ct = api_header(r, "Content-Type");

    if (!api_media_is(ct, "application/xml") &&
        !api_media_is(ct, "text/xml") &&
        !api_media_is(ct, "application/hl7-cda+xml")) {
        api_reply_error(r, 415, "unsupported",
                        "send application/xml or text/xml", "Content-Type");
        return;
    }
    if (!admit(r, DOCS_CCDA, body, &meta))
        return;
    prepare_and_submit(r, DOCS_CCDA, NULL, body, &meta);
}

static void post_csv(struct api_req *r)
{
    struct slice body = api_body(r);
    struct docs_meta meta = { 0 };
    const char *rest = api_path_rest(r), *kind = NULL;
    const char *ct = api_header(r, "Content-Type");

    for (size_t i = 0; csv_kinds[i]; i++)
        if (strcmp(rest, csv_kinds[i]) == 0)
            kind = csv_kinds[i];
    if (kind == NULL) {
        api_reply_error(r, 404, "not_found",
                        "csv kind is screenings, referral-status or shinny",
                        "kind");
        return;
    }
    if (ct && !api_media_is(ct, "text/csv") &&
        !api_media_is(ct, "application/csv") &&
        !api_media_is(ct, "text/plain") &&
        !api_media_is(ct, "application/octet-stream") &&
        !api_media_is(ct, "multipart/form-data")) {
        api_reply_error(r, 415, "unsupported",
                        "send text/csv or multipart/form-data",
                        "Content-Type");
        return;
    }
    if (!admit(r, DOCS_CSV, body, &meta))
        return;
    meta.file_name = api_header(r, "X-Filename");
    if (meta.file_name == NULL)
        meta.file_name = api_query(r, "name");
    prepare_and_submit(r, DOCS_CSV, kind, body, &meta);
}

const struct api_route api_docs_routes[] = {
    { API_POST, "/v1/fhir", SCOPE_INGEST, post_fhir },
    { API_POST, "/v1/ccda", SCOPE_INGEST, post_ccda },
    { API_POST, "/v1/csv/+", SCOPE_INGEST, post_csv },
    { 0, NULL, 0, NULL },
};

/*
 * api_hl7v2.c - POST /v1/hl7v2: one or more HL7 v2 messages in one body,
 * either MLLP-framed or plain (a new message starts at each "MSH" that
 * begins a line; blank lines between messages are ignored). Each message is
 * an ingest job like one MLLP frame; the answer is sent when every one of
 * them committed:
 *   202  every message accepted (or a duplicate of an accepted one)
 *   400  at least one rejected (each stored in quarantine, each with its AE/AR)
 *   503  Retry-After: in-flight cap reached, or the database is unreachable
 *        (answered at once when known, else when the commit gave up)
 * Body: JSON {"messages":[{"index","ack_code","duplicate","event_ids",
 * "ack"}],"accepted":n,"rejected":n} or, when the client asks for
 * text/plain (Accept), the ACKs one after another, each ending in CR LF.
 * A batch file (a body starting FHS or BHS, HL7 batch protocol) is read by
 * hl7_batch_read: its messages are jobs as above, and the answer adds the
 * response batch ("batch_ack"; with text/plain it is the whole answer). A
 * malformed envelope or a BTS-1/FTS-1 count that differs refuses the file
 * whole before any job: 400 with the segment and its byte offset. A body
 * refused whole (that, or broken MLLP framing) is quarantined as it was
 * sent before its 400 (503 while it cannot be); a 413, an empty body or
 * one of blank lines only is answered and not kept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "common/arena.h"
#include "common/jw.h"
#include "config.h"
#include "hl7v2/hl7v2.h"
#include "ingest.h"
#include "ingest_split.h"
#include "log.h"
#include "metrics.h"
#include "mllp.h"
#include "server.h"

static bool wants_text(struct api_req *r)
{
    const char *a = api_header(r, "Accept");
    return a && !strstr(a, "json") &&
           (strstr(a, "text/plain") || strstr(a, "hl7-v2"));
}

static void event_ids(struct jw *w, const struct ingest_job *j)
{
    if (j->res.event_ids_json) {
        jw_raw(w, slice_from_cstr(j->res.event_ids_json));
        return;
    }
    jw_arr_begin(w);
    if (!j->res.duplicate)
        for (size_t i = 0; i < j->msg.n_ev; i++)
            jw_cstr(w, j->msg.ev_id[i]);
    jw_arr_end(w);
}

/* The response batch of a batch file: its envelope is read again from the
 * body (still held), so that nothing outlives the request. */
static struct slice batch_answer(struct api_req *r, struct arena *a,
                                 struct ingest_job **jobs, size_t n)
{
    struct slice body = api_body(r), out = SLICE_NULL;
    struct hl7_batch_file *f = malloc(sizeof(*f));
    struct slice *msgs = calloc(n + 1, sizeof(*msgs));
    struct slice *acks = calloc(n + 1, sizeof(*acks));
    struct hub_err err;
    char now[32], id[STORE_ID_LEN + 1];

    if (f == NULL || msgs == NULL || acks == NULL)
        abort();
    if (hl7_batch_read(body.p, body.len, f, msgs, n, &err) == HUB_OK &&
        f->n_msgs == n) {
        for (size_t i = 0; i < n; i++)
            acks[i] = ingest_job_answer(jobs[i]);
        ingest_hl7_now(now);
        store_new_id(id);
        if (hl7_batch_ack(a, f, acks, id, now, &out) != HUB_OK)
            out = SLICE_NULL;
    }
    free(acks);
    free(msgs);
    free(f);
    return out;
}

static void respond(struct api_req *r, struct ingest_job **jobs, size_t n,
                    void *arg)
{
    struct arena a;
    struct jw w;
    struct slice out, bans = SLICE_NULL;
    size_t accepted = 0, rejected = 0;
    char code[3];
    bool batch = arg != NULL;

    for (size_t i = 0; i < n; i++) {
        if (jobs[i]->rc != HUB_OK) {
            api_reply_busy(r, "database unavailable; nothing acknowledged");
            return;
        }
    }
    for (size_t i = 0; i < n; i++) {
        ingest_job_ack_code(jobs[i], code);
        if (!strcmp(code, "AA"))
            accepted++;
        else
            rejected++;
    }
    int status = rejected ? 400 : 202;
    for (size_t i = 0; i < n; i++)
        metrics_ack_latency((double)(ingest_now_ns() - jobs[i]->t_start_ns) /
                            1e9);
    arena_init(&a, 64 * 1024);
    if (batch)
        bans = batch_answer(r, &a, jobs, n);
    if (batch && wants_text(r)) {
        api_reply(r, status, "text/plain; charset=utf-8", bans.p, bans.len);
        arena_release(&a);
        return;
    }
    if (wants_text(r)) {
        struct buf t;
        buf_init(&t, &a, (size_t)1 << 30);
        for (size_t i = 0; i < n; i++) {
            struct slice ack = ingest_job_answer(jobs[i]);
            buf_append(&t, ack.p, ack.len);
            buf_puts(&t, "\r\n");
        }
        api_reply(r, status, "text/plain; charset=utf-8", t.p, t.len);
        arena_release(&a);
        return;
    }
    jw_init(&w, &a, (size_t)1 << 30);
    jw_obj_begin(&w);
    if (rejected) {
        char field[32];
        size_t first = 0;
        for (; first < n; first++) {
            ingest_job_ack_code(jobs[first], code);
            if (strcmp(code, "AA"))
                break;
        }
        snprintf(field, sizeof(field), "messages[%zu]", first);
        jw_key(&w, "error");
        jw_obj_begin(&w);
        jw_kv_cstr(&w, "code", "rejected");
        jw_kv_cstr(&w, "message", "message rejected; see its ack");
        jw_kv_cstr(&w, "field", field);
        jw_obj_end(&w);
    }
    jw_key(&w, "messages");
    jw_arr_begin(&w);
    for (size_t i = 0; i < n; i++) {
        const struct ingest_job *j = jobs[i];
        ingest_job_ack_code(j, code);
        jw_obj_begin(&w);
        jw_key(&w, "index");
        jw_int(&w, (int64_t)i);
        jw_kv_cstr(&w, "ack_code", code);
        jw_key(&w, "duplicate");
        jw_bool(&w, j->res.duplicate);
        jw_key(&w, "event_ids");
        event_ids(&w, j);
        if (!j->msg.accepted && !j->res.duplicate) {
            jw_key(&w, "error");
            jw_raw(&w, j->msg.error_json);
        }
        jw_key(&w, "ack");
        jw_str(&w, ingest_job_answer(j));
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    jw_key(&w, "accepted");
    jw_int(&w, (int64_t)accepted);
    jw_key(&w, "rejected");
    jw_int(&w, (int64_t)rejected);
    if (batch) {
        jw_key(&w, "batch_ack");
        jw_str(&w, bans);
    }
    jw_obj_end(&w);
    if (jw_finish(&w, &out) == HUB_OK)
        api_reply_json(r, status, out.p, out.len);
    else
        api_reply_error(r, 500, "internal", "response too large", NULL);
    arena_release(&a);
}

/* One job per message of msgs[0..n), answered by respond (arg: batch). */
static void ingest_all(struct api_req *r, struct slice *msgs, size_t n,
                       bool batch)
{
    struct ingest_job **jobs = calloc(n ? n : 1, sizeof(*jobs));
    if (jobs == NULL)
        abort();
    uint64_t t0 = ingest_now_ns();
    for (size_t i = 0; i < n; i++) {
        jobs[i] = ingest_job_new();
        jobs[i]->t_start_ns = t0;
        ingest_prepare_hl7(jobs[i], api_server(r)->dict,
                           api_server(r)->cfg->hl7_processing_ids,
                           api_principal(r)->org_id, msgs[i].p, msgs[i].len);
    }
    free(msgs);
    if (n == 0) {                   /* an empty batch: nothing to commit */
        free(jobs);
        respond(r, NULL, 0, (void *)1);
        return;
    }
    /* 503 at once when at capacity or the database is known down */
    api_ingest(r, jobs, n, respond, NULL, batch ? (void *)1 : NULL);
}

/* A batch file's envelope and messages (hl7_batch_read): its count of
 * messages in *n. */
static int read_batch(struct slice body, struct slice *msgs, size_t max,
                      size_t *n, struct hub_err *err)
{
    struct hl7_batch_file *f = malloc(sizeof(*f));

    if (f == NULL)
        abort();
    int rc = hl7_batch_read(body.p, body.len, f, msgs, max, err);
    *n = f->n_msgs;
    free(f);
    return rc;
}

/* {"error":{"code","message","field","offset"}}: where the envelope broke */
static void reply_batch_refused(struct api_req *r, int status,
                                const struct hub_err *err)
{
    struct arena a;
    struct jw w;
    struct slice out;

    arena_init(&a, 1024);
    jw_init(&w, &a, 4096);
    jw_obj_begin(&w);
    jw_key(&w, "error");
    jw_obj_begin(&w);
    jw_kv_cstr(&w, "code", hub_strerror(err->code));
    jw_kv_cstr(&w, "message", err->what ? err->what : "batch refused");
    jw_kv_cstr(&w, "field", err->field);
    jw_key(&w, "offset");
    jw_int(&w, (int64_t)err->offset);
    jw_obj_end(&w);
    jw_obj_end(&w);
    if (jw_finish(&w, &out) == HUB_OK)
        api_reply_json(r, status, out.p, out.len);
    else
        api_reply_error(r, 500, "internal", "response too large", NULL);
    arena_release(&a);
}

/* The answer to a body refused whole, once its quarantine committed (arg:
 * a batch file, whose error is read again from the body, still held). */
static void respond_refused(struct api_req *r, struct ingest_job **jobs,
                            size_t n, void *arg)
{
    const struct hub_config *cfg = api_server(r)->cfg;
    struct hub_err err = { 0 };
    size_t got;

    (void)n;
    if (jobs[0]->rc != HUB_OK) {
        api_reply_busy(r, "database unavailable; nothing acknowledged");
        return;
    }
    if (arg == NULL) {
        api_reply_error(r, 400, "syntax", "broken MLLP framing", "body");
        return;
    }
    struct slice *msgs = calloc(cfg->max_messages_per_request, sizeof(*msgs));
    if (msgs == NULL)
        abort();
    (void)read_batch(api_body(r), msgs, cfg->max_messages_per_request, &got,
                     &err);
    free(msgs);
    reply_batch_refused(r, 400, &err);
}

/* Nothing refused is dropped (issue 3): a body refused whole is one
 * quarantined message of its bytes as sent, with err, as the MLLP
 * listener keeps junk (listen_mllp.c's refuse); answered after it
 * committed (503 while it cannot be). */
static void refuse_whole(struct api_req *r, const struct hub_err *err,
                         bool batch)
{
    struct ingest_job **jobs = calloc(1, sizeof(*jobs));
    struct slice body = api_body(r);

    if (jobs == NULL)
        abort();
    jobs[0] = ingest_job_new();
    jobs[0]->t_start_ns = ingest_now_ns();
    ingest_prepare_hl7_refused(jobs[0], api_principal(r)->org_id, body.p,
                               body.len, err);
    api_ingest(r, jobs, 1, respond_refused, NULL, batch ? (void *)1 : NULL);
}

/* A batch file: the envelope checked whole before any message is taken. */
static void post_batch(struct api_req *r, struct slice body,
                       struct slice *msgs, size_t max)
{
    struct hub_err err = { 0 };
    size_t n;

    int rc = read_batch(body, msgs, max, &n, &err);
    if (rc == HUB_OK) {
        ingest_all(r, msgs, n, true);
        return;
    }
    free(msgs);
    log_info("hl7.batch_refused", "org=%s code=%s field=%s offset=%zu",
             api_principal(r)->org_id, hub_strerror(err.code), err.field,
             err.offset);
    if (rc == HUB_ELIMIT)           /* too many messages: none is wrong */
        reply_batch_refused(r, 413, &err);
    else
        refuse_whole(r, &err, true);
}

static void post_hl7v2(struct api_req *r)
{
    struct server *srv = api_server(r);
    const struct hub_config *cfg = srv->cfg;
    struct slice body = api_body(r);
    size_t max = cfg->max_messages_per_request;
    struct slice *msgs;
    long n;

    if (body.len == 0) {
        api_reply_error(r, 400, "invalid", "empty body", "body");
        return;
    }
    msgs = calloc(max, sizeof(*msgs));
    if (msgs == NULL)
        abort();
    if (hl7_is_batch(body.p, body.len)) {
        post_batch(r, body, msgs, max);
        return;
    }
    n = ingest_hl7_split(body, cfg->max_frame, msgs, max);
    if (n == -1) {
        free(msgs);
        api_reply_error(r, 413, "limit", "too many messages in one request",
                        "body");
        return;
    }
    if (n == -2) {
        struct hub_err err;
        free(msgs);
        hub_err_set(&err, HUB_ESYNTAX, "body", 0, "broken MLLP framing");
        refuse_whole(r, &err, false);
        return;
    }
    if (n == 0) {
        free(msgs);
        api_reply_error(r, 400, "invalid", "no message in the body", "body");
        return;
    }
    ingest_all(r, msgs, (size_t)n, false);
}

const struct api_route api_hl7v2_routes[] = {
    { API_POST, "/v1/hl7v2", SCOPE_INGEST, post_hl7v2 },
    { 0, NULL, 0, NULL },
};

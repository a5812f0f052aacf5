/*
 * ingest_docs.c - FHIR, C-CDA and CSV into ingest jobs (see ingest_docs.h).
 * Each prepare function normalizes the job's own copy of the body (events
 * borrow from it), gives every event its hub id, and writes the answer into
 * the job's arena before the job is submitted: the committer stores that
 * answer with the message, which is what makes a re-send answer identically.
 * requarantine() runs on a committer thread when the database refused a
 * value: it turns the job into a quarantined one with a matching answer.
 */
#include "ingest_docs.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>


#include "ccda/ccda.h"
#include "common/jw.h"
#include "csv/csv.h"
#include "fhir/fhir.h"
#include "log.h"

#define ANSWER_MAX (16u << 20)      /* bytes of one answer */

bool ingest_docs_key_ok(const char *key)
{
    size_t n = 0;

    if (key == NULL)
        return false;
    for (; key[n]; n++)
        if ((unsigned char)key[n] <= 0x20 || (unsigned char)key[n] >= 0x7f)
            return false;
    return n > 0 && n <= INGEST_DOCS_KEY_MAX;
}

int ingest_docs_error_status(int code)
{
    switch (code) {
    case HUB_ELIMIT:
        return 413;
    case HUB_EUNSUPPORTED:
        return 422;
    default:
        return 400;
    }
}

int ingest_docs_status(const struct ingest_job *j, int prepared_status)
{
    if (j->res.duplicate)
        return prepared_status;     /* only accepted messages carry a key */
    if (!j->msg.accepted && prepared_status < 400)
        return ingest_docs_error_status(j->err.code);   /* re-quarantined */
    return prepared_status;
}

const char *ingest_docs_content_type(const struct ingest_job *j, int status)
{
    if (strcmp(j->msg.format, "fhir") == 0 && status != 202)
        return "application/fhir+json";
    return "application/json";
}

/* ---- shared helpers --------------------------------------------------- */

/* "<prefix>idem:<header>" or "<prefix><adapter id>"; empty when neither */
static struct slice make_key(struct arena *a, const char *prefix,
                             const struct docs_meta *meta,
                             const char *adapter_id)
{
    struct buf b;
    bool header = meta && meta->idem_key && meta->idem_key[0];

    buf_init(&b, a, 64 + INGEST_DOCS_KEY_MAX + 4096);
    buf_puts(&b, prefix);
    if (header) {
        buf_puts(&b, "idem:");
        buf_puts(&b, meta->idem_key);
    } else if (adapter_id && adapter_id[0]) {
        buf_puts(&b, adapter_id);
    } else {
        return SLICE_NULL;
    }
    /* an adapter's id that begins as a header's key does ("idem:", a
     * multipart file's name) is hashed too: else it reads as one, and the
     * store takes a re-send of the same files in another envelope for a
     * key used again for other bytes (hub_dup_differs; F521) */
    if (b.err || (!header && strncmp(adapter_id, "idem:", 5) == 0)) {
        /* an id longer than a key should be: its hash stands for it */
        char h[65];
        store_sha256_hex(adapter_id, strlen(adapter_id), h);
        buf_init(&b, a, 256);
        buf_puts(&b, prefix);
        buf_puts(&b, "id-sha256:");
        buf_puts(&b, h);
    }
    return buf_slice(&b);
}

/* Accepted, keyed by make_key(): ingest_job_accept gives every event its
 * hub id, and the answer, which names those ids, is built afterwards into
 * the job's arena and then becomes the stored reply. `id_field` names the
 * adapter's id when that id does not hash the bytes (NULL when it does). */
static void accept_job(struct ingest_job *j, const char *prefix,
                       const struct docs_meta *meta, const char *adapter_id,
                       const char *id_field)
{
    struct slice key = make_key(&j->a, prefix, meta, adapter_id);
    if (key.len > 0)
        j->key_field = meta && meta->idem_key && meta->idem_key[0]
                           ? "Idempotency-Key" : id_field;
    ingest_job_accept(j, key, SLICE_LIT(""));
}

static void ids_array(struct jw *w, const struct ingest_job *j, size_t from,
                      size_t n)
{
    jw_arr_begin(w);
    for (size_t i = from; i < from + n && i < j->msg.n_ev; i++)
        jw_cstr(w, j->msg.ev_id[i]);
    jw_arr_end(w);
}

/* The hub's error body {"error":{"code","message","field"}} plus, for CSV,
 * the report. `at_byte`: err->offset is a place in the request body (a
 * C-CDA that is no well-formed XML: libxml2's byte), given as "offset" as
 * the API's errors give one where the hub knows it (README, HTTPS API); a
 * CSV's offsets are in one file of a multipart body, not the body. */
static struct slice hub_error_answer(struct arena *a, const struct hub_err *err,
                                     struct slice report, bool at_byte)
{
    struct jw w;
    struct slice out = SLICE_NULL;

    jw_init(&w, a, ANSWER_MAX);
    jw_obj_begin(&w);
    jw_key(&w, "error");
    jw_obj_begin(&w);
    jw_kv_cstr(&w, "code", hub_strerror(err->code));
    jw_kv_cstr(&w, "message", err->what ? err->what : "rejected");
    if (err->field[0])
        jw_kv_cstr(&w, "field", hub_err_field(err));
    if (at_byte) {
        jw_key(&w, "offset");
        jw_int(&w, (int64_t)err->offset);
    }
    jw_obj_end(&w);
    if (report.len) {
        jw_key(&w, "report");
        jw_raw(&w, report);
    }
    jw_obj_end(&w);
    if (jw_finish(&w, &out) != HUB_OK)
        out = SLICE_LIT("{\"error\":{\"code\":\"limit\"}}");
    return out;
}

/* Make the job a quarantined one: no key, no events, `answer` stored. */
static void quarantine(struct ingest_job *j, const struct hub_err *err,
                       struct slice answer)
{
    struct hub_err e = *err;

    if (e.what == NULL)
        e.what = "message rejected";
    if (e.code == HUB_OK)
        e.code = HUB_EINVALID;
    ingest_job_reject(j, &e, answer);
    j->msg.ev_id = NULL;
    log_info("docs.rejected", "org=%s format=%s sha=%.12s code=%s "
             "field=\"%s\" offset=%zu", j->org_id, j->msg.format, j->msg.sha256,
             hub_strerror(j->err.code), hub_err_field(&j->err), j->err.offset);
}

/* ---- refused parts of an accepted message ------------------------------ */

/* Room for `n` parts (at most INGEST_MAX_PARTS; callers fold the rest). */
static void parts_alloc(struct ingest_job *j, size_t n)
{
    j->parts = arena_zalloc(&j->a, (n ? n : 1) * sizeof(*j->parts));
    j->n_parts = 0;
}

/* One refused part (a CSV row, a FHIR batch entry): stored in quarantine on
 * its own, with its raw bytes and `error_json`, in the job's transaction. */
static void add_part(struct ingest_job *j, struct slice raw,
                     struct slice error_json)
{
    struct store_msg *m = &j->parts[j->n_parts++];

    m->org_id = j->org_id;
    m->format = j->msg.format;
    m->raw = raw;
    store_sha256_hex(raw.p, raw.len, m->sha256);
    memcpy(m->received_at, j->msg.received_at, sizeof(m->received_at));
    m->accepted = false;
    m->error_json = error_json;
    m->part = true;                 /* dropped if the job is a re-send */
}

static struct slice finish_error(struct jw *w)
{
    struct slice out;

    jw_obj_end(w);
    if (jw_finish(w, &out) != HUB_OK)
        out = SLICE_LIT("{\"code\":\"limit\",\"message\":\"error too "
                        "large\"}");
    return out;
}

/* ---- FHIR ------------------------------------------------------------- */

static void fhir_reject(struct ingest_job *j, const struct hub_err *err,
                        const char *resource_type)
{
    struct slice oo;
    struct hub_err e = *err;

    if (e.code == HUB_OK)
        e.code = HUB_EINVALID;
    if (fhir_operation_outcome(&j->a, &e, resource_type, &oo) != HUB_OK)
        oo = SLICE_LIT("{\"resourceType\":\"OperationOutcome\",\"issue\":"
                       "[{\"severity\":\"error\",\"code\":\"invalid\"}]}");
    quarantine(j, &e, oo);
}

static void fhir_requarantine(struct ingest_job *j, const struct hub_err *err)
{
    fhir_reject(j, err, NULL);
}

static const char *http_status_text(int status)
{
    switch (status) {
    case 202:
        return "202 Accepted";
    case 413:
        return "413 Payload Too Large";
    case 422:
        return "422 Unprocessable Entity";
    default:
        return "400 Bad Request";
    }
}

/* FHIR R4 3.1.0.11.4: a batch is answered with a batch-response Bundle whose
 * entries match the request's entries in order. */
static int fhir_batch_answer(struct ingest_job *j,
                             const struct fhir_result *res, struct slice *out)
{
    struct jw w;

    jw_init(&w, &j->a, ANSWER_MAX);
    jw_obj_begin(&w);
    jw_kv_cstr(&w, "resourceType", "Bundle");
    jw_kv_cstr(&w, "type", "batch-response");
    jw_key(&w, "entry");
    jw_arr_begin(&w);
    for (size_t i = 0; i < res->n_entries; i++) {
        const struct fhir_entry_result *e = &res->entries[i];
        int st = e->status == HUB_OK ? 202
                                     : ingest_docs_error_status(e->status);
        jw_obj_begin(&w);
        jw_key(&w, "response");
        jw_obj_begin(&w);
        jw_kv_cstr(&w, "status", http_status_text(st));
        if (e->status == HUB_OK && e->n_events) {
            jw_key(&w, "extension");
            jw_arr_begin(&w);
            for (size_t k = e->first_event;
                 k < e->first_event + e->n_events && k < j->msg.n_ev; k++) {
                jw_obj_begin(&w);
                jw_kv_cstr(&w, "url", INGEST_DOCS_EVENT_EXT);
                jw_kv_cstr(&w, "valueId", j->msg.ev_id[k]);
                jw_obj_end(&w);
            }
            jw_arr_end(&w);
        }
        if (e->status == HUB_OK && (e->n_warnings || e->note.what)) {
            /* FHIR R4 entry.response.outcome: "hints and warnings produced
             * as part of processing this entry": its warnings, or why it
             * gave no event (F1803; the entry alone, as a result of one) */
            struct fhir_result one = *res;
            struct slice oo;
            one.entries = (struct fhir_entry_result *)e;
            one.n_entries = 1;
            one.n_failed = 0;
            if (fhir_result_outcome(&j->a, &one, &oo) == HUB_OK) {
                jw_key(&w, "outcome");
                jw_raw(&w, oo);
            }
        }
        if (e->status != HUB_OK) {
            struct slice oo;
            struct hub_err ee = e->err;
            if (ee.code == HUB_OK)
                ee.code = e->status;
            if (fhir_operation_outcome(&j->a, &ee, e->resource, &oo) ==
                HUB_OK) {
                jw_key(&w, "outcome");
                jw_raw(&w, oo);
            }
        }
        jw_obj_end(&w);
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    jw_obj_end(&w);
    return jw_finish(&w, out);
}

static int fhir_accept_answer(struct ingest_job *j,
                              const struct fhir_result *res,
                              struct slice *out)
{
    struct jw w;
    struct slice oo;

    jw_init(&w, &j->a, ANSWER_MAX);
    jw_obj_begin(&w);
    if (res->message_id)
        jw_kv_cstr(&w, "message_id", res->message_id);
    if (res->resource_type)
        jw_kv_cstr(&w, "resource", res->resource_type);
    jw_key(&w, "event_ids");
    ids_array(&w, j, 0, j->msg.n_ev);
    if (fhir_result_outcome(&j->a, res, &oo) == HUB_OK) {
        jw_key(&w, "outcome");
        jw_raw(&w, oo);
    }
    jw_obj_end(&w);
    return jw_finish(&w, out);
}

/* Each refused entry of a partly accepted batch becomes a quarantined
 * message of its own: the entry's bytes (the whole body if the adapter could
 * not find them), its error with the entry index and element path, and the
 * hash of the batch it came in. FHIR_MAX_ENTRIES < INGEST_MAX_PARTS. */
static void fhir_quarantine_entries(struct ingest_job *j,
                                    const struct fhir_result *res)
{
    parts_alloc(j, res->n_failed);
    for (size_t i = 0; i < res->n_entries && j->n_parts < INGEST_MAX_PARTS;
         i++) {
        const struct fhir_entry_result *e = &res->entries[i];
        struct jw w;

        if (e->status == HUB_OK)
            continue;
        struct slice raw = e->raw.len ? e->raw : j->msg.raw;
        /* room for what it holds, each byte escaped at worst (\u00XX):
         * an id is as long as the sender made it, and past a fixed 4 KiB
         * the whole error was {"code":"limit"}, its entry, element and
         * batch lost (F525) */
        size_t var = (e->resource ? strlen(e->resource) : 0) +
                     (e->err.what ? strlen(e->err.what) : 0) +
                     strlen(hub_err_field(&e->err));
        jw_init(&w, &j->a, 4096 + 6 * var);
        jw_obj_begin(&w);
        jw_kv_cstr(&w, "code", hub_strerror(e->status));
        jw_kv_cstr(&w, "field", hub_err_field(&e->err));
        jw_key(&w, "offset");
        jw_int(&w, (int64_t)(raw.p - j->msg.raw.p));
        jw_kv_cstr(&w, "message", e->err.what ? e->err.what : "rejected");
        jw_key(&w, "entry");
        jw_int(&w, (int64_t)i);
        jw_kv_cstr(&w, "resource", e->resource);
        jw_kv_cstr(&w, "part_of", j->msg.sha256);
        add_part(j, raw, finish_error(&w));
    }
}

/*
 * The adapter's id as a key. Bundle.identifier ("system|value") and a
 * versioned "Type/id/_history/v" each name one message. A bare "Type/id"
 * names a resource, not one state of it: a Task re-sent under its id with a
 * new status is news, not a re-send, so the content hash joins the key
 * (the same bytes again still de-duplicate). No id at all: the hash alone.
 */
static const char *fhir_key(struct arena *a, const struct fhir_result *res,
                            const char *sha, const char **id_field)
{
    const char *id = res->message_id;
    struct buf b;

    buf_init(&b, a, 4096);
    *id_field = NULL;
    if (id && (strchr(id, '|') || strstr(id, "/_history/"))) {
        *id_field = strchr(id, '|') ? "Bundle.identifier" : "meta.versionId";
        return id;
    }
    if (id) {
        buf_puts(&b, id);
        buf_putc(&b, '#');
    }
    buf_puts(&b, "sha256:");
    buf_puts(&b, sha);
    buf_putc(&b, '\0');
    if (b.err && id) {
        /* an id longer than a key should be: its hash stands for it, as
         * make_key() does for the others (NULL here left the message with
         * no key at all, so every re-send made new events: F520) */
        char h[65];
        store_sha256_hex(id, strlen(id), h);
        buf_init(&b, a, 256);
        buf_puts(&b, "id-sha256:");
        buf_puts(&b, h);
        buf_puts(&b, "#sha256:");
        buf_puts(&b, sha);
        buf_putc(&b, '\0');
    }
    return b.err ? NULL : b.p;
}

int ingest_prepare_fhir(struct ingest_job *j, const struct dict *d,
                        const char *org_id, const struct docs_meta *meta,
                        const char *p, size_t len)
{
    struct fhir_result res;
    struct hub_err err = { 0 };
    struct slice answer;

    ingest_job_init(j, org_id, "fhir", p, len);
    j->requarantine = fhir_requarantine;
    memset(&res, 0, sizeof(res));
    /* a bare Patient id is the sender's server's id: its own scope within
     * the org, apart from the org's MRNs (fhir.h) */
    char scope[sizeof(j->org_id) + 32];
    snprintf(scope, sizeof(scope), "urn:hub:org:%s:fhir", j->org_id);
    int rc = fhir_to_events_scoped(&j->a, d, scope, j->msg.raw.p,
                                   j->msg.raw.len, &j->events, &res, &err);
    if (rc != HUB_OK) {
        if (err.code == HUB_OK)
            hub_err_set(&err, rc, "", 0, "resource rejected");
        fhir_reject(j, &err, res.resource_type);
        return ingest_docs_error_status(j->err.code);
    }
    if (res.n_entries > 0 && res.n_failed == res.n_entries) {
        /* a batch none of whose entries could be taken: nothing to accept,
         * so it is refused whole (quarantined) with every entry's issue */
        struct slice oo;
        struct hub_err first = res.entries[0].err;
        if (first.code == HUB_OK)
            first.code = res.entries[0].status;
        if (fhir_result_outcome(&j->a, &res, &oo) != HUB_OK) {
            fhir_reject(j, &first, res.resource_type);
        } else {
            quarantine(j, &first, oo);
        }
        return ingest_docs_error_status(j->err.code);
    }
    const char *id_field;
    const char *id = fhir_key(&j->a, &res, j->msg.sha256, &id_field);
    accept_job(j, "fhir:", meta, id, id_field);
    bool batch = res.bundle_type && strcmp(res.bundle_type, "batch") == 0;
    rc = batch ? fhir_batch_answer(j, &res, &answer)
               : fhir_accept_answer(j, &res, &answer);
    if (rc != HUB_OK) {
        hub_err_set(&err, HUB_ELIMIT, "", 0, "answer is too large");
        fhir_reject(j, &err, res.resource_type);
        return 413;
    }
    j->msg.reply = answer;
    if (res.n_failed) {
        fhir_quarantine_entries(j, &res);
        log_info("fhir.batch_partial", "org=%s sha=%.12s entries=%zu "
                 "failed=%zu", j->org_id, j->msg.sha256, res.n_entries,
                 res.n_failed);
    }
    return batch ? 200 : 202;
}

/* ---- C-CDA ------------------------------------------------------------ */

static void ccda_reject(struct ingest_job *j, const struct hub_err *err)
{
    struct hub_err e = *err;
    if (e.code == HUB_OK)
        e.code = HUB_EINVALID;
    /* only the parser's refusals (syntax, DOCTYPE, a parser limit) have a
     * byte (F1740), byte 0 too; a part refused by its XPath has none
     * (F1828: "offset > 0" read byte 0 as none) */
    quarantine(j, &e, hub_error_answer(&j->a, &e, SLICE_NULL, e.located));
}

/* F2862: a document accepted with nothing routed says why, as POST
 * /v1/fhir does for a message that gives no event: the same member,
 * `outcome`, an OperationOutcome with one informational issue in the FHIR
 * answer's words. A referral note whose referral is only narrative
 * (F2861) was answered `"event_ids":[]` and nothing else. */
static void ccda_no_event_outcome(struct ingest_job *j, struct jw *w)
{
    struct slice oo;
    if (fhir_info_outcome(&j->a, "accepted with no event: the document "
                                 "holds only context (header, narrative, "
                                 "entries of no kind the hub reads) or "
                                 "nothing the hub routes", &oo) == HUB_OK) {
        jw_key(w, "outcome");
        jw_raw(w, oo);
    }
}

int ingest_prepare_ccda(struct ingest_job *j, const struct dict *d,
                        const char *org_id, const struct docs_meta *meta,
                        const char *p, size_t len)
{
    struct hub_err err = { 0 };
    struct slice mid = SLICE_NULL, answer;
    struct jw w;

    ingest_job_init(j, org_id, "ccda", p, len);
    j->requarantine = ccda_reject;
    int rc = ccda_to_events(&j->a, d, j->msg.raw.p, j->msg.raw.len,
                            &j->events, &mid, &err);
    if (rc != HUB_OK) {
        if (err.code == HUB_OK)
            hub_err_set(&err, rc, "/", 0, "document rejected");
        j->events.n = 0;            /* ccda.h: the caller discards them */
        ccda_reject(j, &err);
        return ingest_docs_error_status(j->err.code);
    }
    char *mid_s = arena_slice_dup(&j->a, mid);
    accept_job(j, "ccda:", meta, mid_s, "/ClinicalDocument/id");
    jw_init(&w, &j->a, ANSWER_MAX);
    jw_obj_begin(&w);
    jw_kv_cstr(&w, "message_id", mid_s);
    jw_key(&w, "event_ids");
    ids_array(&w, j, 0, j->msg.n_ev);
    if (j->msg.n_ev == 0)
        ccda_no_event_outcome(j, &w);
    jw_obj_end(&w);
    if (jw_finish(&w, &answer) != HUB_OK) {
        hub_err_set(&err, HUB_ELIMIT, "/", 0, "answer is too large");
        ccda_reject(j, &err);
        return 413;
    }
    j->msg.reply = answer;
    return 202;
}

/* ---- CSV -------------------------------------------------------------- */

/* The error of one rejected row: every error finding of that file and row
 * (findings and rejected rows are both in file and row order: *fi walks
 * along), the first one as code/field/message. */
static struct slice csv_row_error(struct ingest_job *j,
                                  const struct csv_report *rep,
                                  const struct csv_rejected *r, size_t *fi)
{
    const struct csv_finding *first = NULL;
    struct jw w;
    char field[64];
    bool open = false;

    while (*fi < rep->n && (rep->f[*fi].file < r->file ||
                            (rep->f[*fi].file == r->file &&
                             rep->f[*fi].row < r->row)))
        (*fi)++;
    jw_init(&w, &j->a, 64 * 1024);
    jw_obj_begin(&w);
    for (size_t k = *fi; k < rep->n && rep->f[k].file == r->file &&
                         rep->f[k].row == r->row; k++) {
        const struct csv_finding *f = &rep->f[k];
        if (f->severity != CSV_SEV_ERROR)
            continue;
        if (first == NULL) {
            first = f;
            snprintf(field, sizeof(field), "%u:row %zu col %zu", r->file,
                     r->row, f->col);
            jw_kv_cstr(&w, "code", "invalid");
            jw_kv_cstr(&w, "field", field);
            jw_key(&w, "offset");
            jw_int(&w, (int64_t)r->offset);
            jw_kv_cstr(&w, "message", f->what);
            jw_key(&w, "errors");
            jw_arr_begin(&w);
            open = true;
        }
        jw_obj_begin(&w);
        jw_key(&w, "col");
        jw_int(&w, (int64_t)f->col);
        jw_kv_cstr(&w, "column", f->column);
        jw_kv_cstr(&w, "what", f->what);
        jw_obj_end(&w);
    }
    if (open) {
        jw_arr_end(&w);
    } else {
        /* its finding is past CSV_MAX_FINDINGS: only counted */
        snprintf(field, sizeof(field), "%u:row %zu", r->file, r->row);
        jw_kv_cstr(&w, "code", "invalid");
        jw_kv_cstr(&w, "field", field);
        jw_key(&w, "offset");
        jw_int(&w, (int64_t)r->offset);
        jw_kv_cstr(&w, "message", "row rejected (its finding is past the "
                                  "listed ones)");
    }
    if (r->file < rep->n_files && rep->files[r->file].name)
        jw_kv_cstr(&w, "file", rep->files[r->file].name);
    jw_key(&w, "row");
    jw_int(&w, (int64_t)r->row);
    jw_kv_cstr(&w, "part_of", j->msg.sha256);
    return finish_error(&w);
}

/* Each rejected row of an accepted upload becomes a quarantined message of
 * its own (its bytes, its errors by row and column). Past INGEST_MAX_PARTS
 * the last part holds all the remaining rows, one per line, and lists
 * them: still nothing refused is lost, and one upload stays one bounded
 * transaction. */
static void csv_quarantine_rows(struct ingest_job *j,
                                const struct csv_report *rep)
{
    size_t n = rep->n_rejected, fi = 0;
    size_t single = n <= INGEST_MAX_PARTS ? n : INGEST_MAX_PARTS - 1;

    if (n == 0)
        return;
    parts_alloc(j, single == n ? n : single + 1);
    for (size_t i = 0; i < single; i++)
        add_part(j, rep->rejected[i].raw,
                 csv_row_error(j, rep, &rep->rejected[i], &fi));
    if (single == n)
        return;
    struct buf raw;
    struct jw w;
    buf_init(&raw, &j->a, (size_t)CSV_MAX_FILES * CSV_MAX_BYTES);
    jw_init(&w, &j->a, 16u << 20);
    jw_obj_begin(&w);
    jw_kv_cstr(&w, "code", "limit");
    jw_kv_cstr(&w, "field", "rows");
    jw_kv_cstr(&w, "message", "more rejected rows than are quarantined one "
                              "by one: these are the rest, one per line");
    jw_key(&w, "rows");
    jw_arr_begin(&w);
    for (size_t i = single; i < n; i++) {
        const struct csv_rejected *r = &rep->rejected[i];
        buf_append(&raw, r->raw.p, r->raw.len);
        buf_putc(&raw, '\n');
        jw_obj_begin(&w);
        jw_key(&w, "file");
        jw_int(&w, (int64_t)r->file);
        jw_key(&w, "row");
        jw_int(&w, (int64_t)r->row);
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    jw_kv_cstr(&w, "part_of", j->msg.sha256);
    add_part(j, buf_slice(&raw), finish_error(&w));
}

static void csv_requarantine(struct ingest_job *j, const struct hub_err *err)
{
    quarantine(j, err, hub_error_answer(&j->a, err, SLICE_NULL, false));
}

/* The base name of what the sender called the file, without directories
 * and control characters; "upload.csv" when it gave none. */
static const char *csv_file_name(struct arena *a, const char *given)
{
    const char *base = given;
    size_t n;

    if (given == NULL || given[0] == '\0')
        return "upload.csv";
    for (const char *s = given; *s; s++)
        if (*s == '/' || *s == '\\')
            base = s + 1;
    n = strlen(base);
    if (n == 0 || n > 255)
        return "upload.csv";
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)base[i] < 0x20 || base[i] == 0x7f)
            return "upload.csv";
    return arena_strndup(a, base, n);
}

/*
 * The part of an upload's id (csv.h: "name:sha256", a set's "<set
 * name>:<sha>+<sha>+<sha>+<sha>") that its key holds: the hashes alone, as
 * the bytes are what its events come from. The same export sent again
 * under another name (a browser's "export (1).csv", a dated X-Filename,
 * none) is a re-send, answered as one, with no second event (F4080).
 * Keys stored before held the name(s) too ("csv:<kind>:<name>:<sha256>"):
 * that form is still looked up (ingest_job_old_key). A hash holds no ':'.
 */
static const char *csv_key_hashes(const char *message_id)
{
    const char *colon = message_id ? strrchr(message_id, ':') : NULL;
    return colon ? colon + 1 : message_id;
}

static bool is_multipart(const char *ct)
{
    return ct && strncasecmp(ct, "multipart/form-data", 19) == 0;
}

int ingest_prepare_csv(struct ingest_job *j, const struct dict *d,
                       const char *org_id, const char *kind,
                       const struct docs_meta *meta, const char *p,
                       size_t len)
{
    struct csv_file files[CSV_MAX_FILES];
    struct csv_report rep;
    struct hub_err err = { 0 };
    struct slice report = SLICE_NULL, answer;
    size_t n = 0;
    int rc;

    ingest_job_init(j, org_id, "csv", p, len);
    j->requarantine = csv_requarantine;
    memset(&rep, 0, sizeof(rep));
    memset(files, 0, sizeof(files));
    if (is_multipart(meta ? meta->content_type : NULL)) {
        rc = csv_multipart_files(&j->a, meta->content_type, j->msg.raw.p,
                                 j->msg.raw.len, files, CSV_MAX_FILES, &n,
                                 &err);
    } else {
        files[0].name = csv_file_name(&j->a, meta ? meta->file_name : NULL);
        files[0].p = j->msg.raw.p;
        files[0].len = j->msg.raw.len;
        n = 1;
        rc = HUB_OK;
    }
    if (rc == HUB_OK) {
        for (size_t i = 0; i < n; i++) {
            char *h = arena_alloc(&j->a, 65);
            store_sha256_hex(files[i].p, files[i].len, h);
            files[i].sha256 = h;
        }
        /* the upload's time settles which date system Excel serials are */
        rc = csv_to_events_at(&j->a, d, kind, files, n, j->msg.received_at,
                              &j->events, &rep, &err);
        if (csv_report_json(&j->a, &rep, &report) != HUB_OK)
            report = SLICE_NULL;
    }
    if (rc != HUB_OK) {
        if (err.code == HUB_OK)
            hub_err_set(&err, rc, "", 0, "upload rejected");
        j->events.n = 0;
        quarantine(j, &err, hub_error_answer(&j->a, &err, report, false));
        return ingest_docs_error_status(j->err.code);
    }
    if (rep.rows_used == 0) {
        /* csv.h: nothing usable is refused whole, with the per-row report */
        /* a header alone (or blank rows) is said as such: "could not be
         * used" would send the sender looking for errors there are not */
        hub_err_set(&err, HUB_EINVALID, "rows", 0,
                    rep.rows == rep.rows_blank
                        ? "upload has no data rows (a header only, or blank "
                          "rows)"
                        : "no row of the upload could be used");
        j->events.n = 0;
        quarantine(j, &err, hub_error_answer(&j->a, &err, report, false));
        return 422;
    }
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "csv:%s:", kind);
    /* an upload's own key is its files' hashes (csv.h): other bytes under
     * it are the same files (the store's hub_dup_differs says so too) */
    accept_job(j, prefix, meta, csv_key_hashes(rep.message_id), NULL);
    if (!(meta && meta->idem_key && meta->idem_key[0]))
        ingest_job_old_key(j, make_key(&j->a, prefix, meta, rep.message_id));
    struct jw w;
    jw_init(&w, &j->a, ANSWER_MAX);
    jw_obj_begin(&w);
    if (rep.message_id)
        jw_kv_cstr(&w, "message_id", rep.message_id);
    jw_key(&w, "event_ids");
    ids_array(&w, j, 0, j->msg.n_ev);
    if (report.len) {
        jw_key(&w, "report");
        jw_raw(&w, report);
    }
    jw_obj_end(&w);
    if (jw_finish(&w, &answer) != HUB_OK) {
        hub_err_set(&err, HUB_ELIMIT, "", 0, "answer is too large");
        quarantine(j, &err, hub_error_answer(&j->a, &err, SLICE_NULL, false));
        return 413;
    }
    j->msg.reply = answer;
    csv_quarantine_rows(j, &rep);
    if (rep.rows_rejected)
        log_info("csv.rows_rejected", "org=%s sha=%.12s rows=%zu used=%zu "
                 "rejected=%zu", j->org_id, j->msg.sha256, rep.rows,
                 rep.rows_used, rep.rows_rejected);
    return 202;
}

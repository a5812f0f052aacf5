/*
 * ingest_docs.h - FHIR R4, C-CDA and CSV bodies into ingest jobs (ingest.h):
 * normalize with the adapter and the shared dictionary, choose the
 * idempotency key, and build the answer the sender gets once the job's
 * transaction committed. Runs on the loop thread, like ingest_hl7.c.
 *
 *   normalized           -> accepted, events, answer 202 (FHIR batch: 200)
 *   refused by adapter   -> quarantine, error answer 4xx
 *   accepted in part     -> the message accepted as above, and each refused
 *                           CSV row / FHIR batch entry a quarantined message
 *                           of its own (ingest_job.parts: its bytes, error
 *                           with row+column or entry+path, "part_of" = the
 *                           message's sha256), same transaction. Parts are
 *                           refusals, so never de-duplicated: a re-sent
 *                           upload is a duplicate with no new event, and its
 *                           refused rows are kept again, as any refused
 *                           message is.
 *
 * The answer is stored with the message, so a re-send with the same key gets
 * the very same bytes and no new event. Keys are namespaced by format within
 * the org: "fhir:" / "ccda:" / "csv:<kind>:" followed by the Idempotency-Key
 * header ("idem:<header>") when the sender gave one, else the adapter's
 * message id (Bundle.identifier, resource id and version, ClinicalDocument
 * id; a CSV upload's files' content hashes alone, not their names, with
 * the older form that held the names looked up too: store_msg.old_key).
 * A FHIR resource with an id but no meta.versionId is keyed
 * "Type/id#sha256:<hex>" (an update re-sent under the same id must not
 * pass for a re-send), one without any id by
 * "sha256:<hex>" alone; an id over 4 KiB by "id-sha256:<hex of the id>".
 * Only accepted messages carry a key: a corrected re-send of a refused one
 * is judged afresh.
 *
 * Answers (bodies; Content-Type from ingest_docs_content_type):
 *   FHIR accepted   {"message_id","resource","event_ids":[..],
 *                    "outcome":{OperationOutcome}}            202
 *   FHIR batch      Bundle batch-response, one entry per request entry:
 *                   response.status "202 Accepted" with the entry's event
 *                   ids as extensions (url INGEST_DOCS_EVENT_EXT), or
 *                   "400 Bad Request"/"422 ..." with response.outcome  200
 *                   (a batch none of whose entries is taken is refused
 *                   whole: OperationOutcome with every entry's issue, 4xx)
 *   FHIR refused    OperationOutcome naming resource and element path  4xx
 *   C-CDA accepted  {"message_id","event_ids":[..]}                   202
 *   C-CDA refused   {"error":{"code","message","field":"<xpath>"}}    4xx
 *   CSV accepted    {"message_id","event_ids":[..],"report":{..}}     202
 *   CSV refused     {"error":{..},"report":{..}}   whole file 4xx, or 422
 *                   when no row could be used
 * Statuses of refusals: syntax/invalid 400, limit 413, unsupported 422
 * (e.g. a C-CDA with a DOCTYPE: well-formed XML, refused by policy before
 * any entity is expanded or read; field "/", code "unsupported").
 * Nothing here logs or answers a value from the input: only element paths,
 * row/column numbers, hashes and static text.
 */
#ifndef HUB_INGEST_DOCS_H
#define HUB_INGEST_DOCS_H

#include <stddef.h>

#include "ingest.h"

struct dict;

#define INGEST_DOCS_KEY_MAX 256     /* bytes of an Idempotency-Key header */
#define INGEST_DOCS_EVENT_EXT "urn:hub:event-id"

/* What the sender said besides the body. Any member may be NULL. */
struct docs_meta {
    const char *idem_key;           /* Idempotency-Key header, checked by
                                       ingest_docs_key_ok() */
    const char *content_type;       /* CSV: multipart/form-data or not */
    const char *file_name;          /* CSV single file: X-Filename / ?name= */
};

/* An Idempotency-Key the hub takes: 1..INGEST_DOCS_KEY_MAX printable ASCII
 * characters (no spaces or controls). */
bool ingest_docs_key_ok(const char *key);

/*
 * Prepare a job from one body sent by `org_id`. Copies the body; always
 * succeeds (bad input is a rejected job). Returns the HTTP status the
 * answer has when the job commits as prepared (a duplicate of an accepted
 * message gets the accepted status: see ingest_docs_status).
 */
int ingest_prepare_fhir(struct ingest_job *j, const struct dict *d,
                        const char *org_id, const struct docs_meta *meta,
                        const char *p, size_t len);
int ingest_prepare_ccda(struct ingest_job *j, const struct dict *d,
                        const char *org_id, const struct docs_meta *meta,
                        const char *p, size_t len);
/* `kind`: "screenings", "referral-status", "shinny" (csv.h). */
int ingest_prepare_csv(struct ingest_job *j, const struct dict *d,
                       const char *org_id, const char *kind,
                       const struct docs_meta *meta, const char *p,
                       size_t len);

/*
 * After the job's done callback with rc HUB_OK: the HTTP status of
 * ingest_job_answer(j), given what prepare returned. A job the database
 * refused a value of (re-quarantined on the committer) answers with its
 * error's status.
 */
int ingest_docs_status(const struct ingest_job *j, int prepared_status);
/* The Content-Type of the answer of a job of this format. */
const char *ingest_docs_content_type(const struct ingest_job *j, int status);
/* 400 / 413 / 422 for a refusal code (HUB_ESYNTAX ... HUB_EUNSUPPORTED). */
int ingest_docs_error_status(int code);

#endif

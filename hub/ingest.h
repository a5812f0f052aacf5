/*
 * ingest.h - the durable ingest pipeline: parse on the loop thread, commit
 * on committer threads with group commit, answer on the loop thread.
 *
 *   listener (loop thread)          committer thread (own struct store)
 *   ingest_job_new
 *   ingest_prepare_hl7 (parse,      
 *     normalize, build the reply)
 *   ingest_submit ----------------> take EVERYTHING pending (<= batch max)
 *                                   store_ingest_batch: ONE transaction
 *                                   HUB_EDB: the batch back to the queue
 *                                   (a committer with a working link
 *                                   retries it: idempotent), reconnect
 *                                   with backoff, not ready meanwhile
 *   done(job) <-------------------- event_active (results to the loop)
 *   answer: ingest_job_answer()
 *
 * Invariant: a job's done callback runs with job->rc == HUB_OK only after the
 * transaction holding its message committed; only then may the caller send
 * the reply (MLLP AA/AE/AR, HTTP 202/4xx). Rejected input is committed to
 * quarantine before its AE/AR is sent, like accepted input before its AA.
 *
 * Back-pressure: the pipeline counts messages and bytes in flight (submitted,
 * not yet done). Callers ask ingest_has_room() before taking more input and
 * register with ingest_wait_room() to be called back when room returns.
 * Every function here runs on the loop thread unless said otherwise.
 */
#ifndef HUB_INGEST_H
#define HUB_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/canon.h"
#include "common/hub_err.h"
#include "store.h"

struct event_base;
struct hub_config;
struct ingest;

enum ingest_outcome {
    INGEST_ACCEPTED,
    INGEST_REJECTED,
    INGEST_DUPLICATE,
};

/* Quarantined parts one job may add to its transaction (ingest_job.parts);
 * well below STORE_BATCH_MAX, so a job with all of them always fits. */
#define INGEST_MAX_PARTS 1024

struct ingest_job;
typedef void (*ingest_done_fn)(struct ingest_job *job, void *arg);

/* One inbound message on its way to the database. Heap object, owned by the
 * caller except between ingest_submit() and its done callback. */
struct ingest_job {
    struct arena a;                 /* owns msg, events and the reply */
    struct store_msg msg;           /* what the committer writes */
    struct canon_list events;
    char org_id[64];
    char ack_code[3];               /* HL7: "AA", "AE", "AR" */
    struct hub_err err;             /* when rejected */

    /* set before done() runs */
    int rc;                         /* HUB_OK: committed (or duplicate) */
    struct store_msg_result res;
    enum ingest_outcome outcome;

    /* Refused parts of an accepted message (a CSV row, an entry of a FHIR
     * batch): each is stored as a quarantined message of its own (raw
     * bytes, error, audit row) in the same transaction as msg, right
     * after it. At most INGEST_MAX_PARTS; storage in j->a. Set by the
     * prepare function; cleared when the job is quarantined whole. */
    struct store_msg *parts;
    size_t n_parts;

    /* Set by the prepare function: turn this job into a quarantined one
     * with `err` (the database refused a value of it; see
     * store_ingest_batch). Runs on a committer thread; pure. */
    void (*requarantine)(struct ingest_job *j, const struct hub_err *err);

    /* Documents (ingest_docs.c): where an accepted job's key came from
     * ("Idempotency-Key", "/ClinicalDocument/id", ...) when it names the
     * message rather than hashing its bytes, so that a duplicate of it may
     * carry other bytes (answered 422 by api_docs.c); NULL else. Static. */
    const char *key_field;

    /* internal */
    int64_t retry_token;            /* its messages' retry tokens start here
                                       (store_msg.retry_token), given when a
                                       committer first takes it; 0: not yet */
    ingest_done_fn done;
    void *arg;
    struct ingest_job *next;
    size_t bytes;
    uint64_t t_start_ns;            /* when the message was complete */
};

struct ingest_job *ingest_job_new(void);
void ingest_job_free(struct ingest_job *j);

/*
 * Parse and normalize one HL7 v2 message sent by `org_id` (the authenticated
 * sender) and prepare what the committer writes: accepted with its events and
 * an AA, or rejected (quarantine) with its error and an AE/AR. Copies `p`.
 * `d`, the data dictionary, labels SNOMED CT diagnoses (may be NULL).
 * `pids`, the processing IDs taken (hub_config.hl7_processing_ids: "P",
 * "PTD"; NULL takes any): a message whose MSH-11.1 is another (an empty
 * one counts as P) is refused AR, ERR 202 at MSH-11, no events. HL7's
 * order: an error in MSH-9, -10 or -12 is answered first, then MSH-11,
 * then the message's content.
 * Always succeeds: bad input is a rejected job, not an error.
 */
struct dict;
void ingest_prepare_hl7(struct ingest_job *j, const struct dict *d,
                        const char *pids, const char *org_id, const char *p,
                        size_t len);

/* Whether `pids` ("P", "PTD"; NULL: any) takes the processing ID `id`
 * (MSH-11.1, trimmed; empty counts as P). */
bool ingest_hl7_pid_ok(const char *pids, struct slice id);

/*
 * Prepare a rejected HL7 message that could not even be framed (e.g. an
 * MLLP frame over the limit): `p` is the part received, stored in
 * quarantine with `err`, answered with AR.
 */
void ingest_prepare_hl7_refused(struct ingest_job *j, const char *org_id,
                                const char *p, size_t len,
                                const struct hub_err *err);

/* The bytes to send back: the stored reply for a duplicate, else the
 * prepared one. Valid until ingest_job_free. */
struct slice ingest_job_answer(const struct ingest_job *j);
/* The time an ACK carries (MSH-7), YYYYMMDDHHMMSS+0000, formatted once a
 * second per thread. */
void ingest_hl7_now(char out[32]);
/* "AA"/"AE"/"AR" of the answer (read from MSA-1 for a duplicate). */
void ingest_job_ack_code(const struct ingest_job *j, char out[3]);

/* Common fields of every format: org, format, raw copy, sha256, time.
 * After it, an adapter reads j->msg.raw (the job's own copy, which events
 * may borrow) with j->a as its arena, then calls accept or reject. */
void ingest_job_init(struct ingest_job *j, const char *org_id,
                     const char *format, const char *p, size_t len);
/* Accepted: j->events are written with fresh hub ids; `key` (idempotency
 * key, may be empty; must live in j->a or j->msg.raw) and `reply` (the
 * answer a re-send gets back; copied) are stored with the message. */
void ingest_job_accept(struct ingest_job *j, struct slice key,
                       struct slice reply);
/* After ingest_job_accept: the form the key had before a change of it
 * (store_msg.old_key; in j->a), found when an accepted message holds it. */
void ingest_job_old_key(struct ingest_job *j, struct slice key);
/* Rejected: quarantined with err (as JSON: code, field, offset, message);
 * no idempotency key, so a corrected re-send is judged afresh. */
void ingest_job_reject(struct ingest_job *j, const struct hub_err *err,
                       struct slice reply);

int ingest_new(struct event_base *base, const struct hub_config *cfg,
               struct ingest **out) __attribute__((warn_unused_result));
/* Stop taking jobs; committers finish what is queued (retrying a database
 * outage until the shutdown timeout), then exit. */
void ingest_stop(struct ingest *ing);
/* Join the threads and free; after ingest_stop and once drained. */
void ingest_free(struct ingest *ing);

/* Hand over a prepared job; `done` runs later on the loop thread. */
void ingest_submit(struct ingest *ing, struct ingest_job *j,
                   ingest_done_fn done, void *arg);

/* Room for `msgs` more messages of `bytes` total under the global caps. */
bool ingest_has_room(const struct ingest *ing, size_t msgs, size_t bytes);
/* Call `cb(arg)` once on the loop thread when room returns. A caller that
 * goes away must ingest_cancel_wait() first. */
void ingest_wait_room(struct ingest *ing, void (*cb)(void *), void *arg);
void ingest_cancel_wait(struct ingest *ing, void *arg);

size_t ingest_inflight(const struct ingest *ing);
/* True while every committer holds a working database connection and none
 * has been inside one commit for more than commit_stuck_timeout (any
 * thread). */
bool ingest_ready(const struct ingest *ing);
/* A commit stamped at `since` (0: none running) has run longer than
 * stuck_ns at `now`; false when `since` is later than `now` (a commit begun
 * after the caller read the clock). */
bool ingest_commit_stuck(uint64_t since, uint64_t now, uint64_t stuck_ns);
/* A request is refused because the pipeline is not ready: a warn line
 * (at most one a second, loop thread only) says why, with committer ids
 * and a count of the refusals. */
void ingest_log_unready(struct ingest *ing);

/* Monotonic nanoseconds, for latency metrics. */
uint64_t ingest_now_ns(void);

#endif

/*
 * ingest_hl7.c - HL7 v2 into an ingest job: parse, normalize, and build the
 * ACK that will be sent once the job's transaction committed.
 *   parsed + normalized  -> accepted, events, AA (with an ERR segment of
 *                           severity W per warning of its events)
 *   unsupported / limit  -> quarantine, AR with ERR
 *   processing ID (MSH-11) the hub does not take (hl7_processing_ids)
 *                        -> quarantine, AR with ERR 202
 *   MSH-9 or MSH-12 missing or unreadable
 *                        -> quarantine, AR with ERR (table 0008: AR is
 *                           for a problem with MSH-9, -11 or -12)
 *   syntax / invalid     -> quarantine, AE with ERR
 * Only accepted messages carry the idempotency key (MSH-10).
 * The error JSON and the ERR segment carry the place and static text only,
 * never a value from the message.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hl7v2/hl7v2.h"
#include "ingest.h"
#include "log.h"

/* The ACK's MSH-7: formatted once a second per thread (gmtime_r and
 * strftime were a thousand instructions of every message) */
void ingest_hl7_now(char out[32])
{
    static _Thread_local time_t of = -1;
    static _Thread_local char text[32];
    time_t t = time(NULL);

    if (t != of) {
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(text, sizeof(text), "%Y%m%d%H%M%S+0000", &tm);
        of = t;
    }
    memcpy(out, text, 32);
}

/* HL7 table 0008: AR when the receiver cannot take the message for its
 * MSH-9 (message type), MSH-11 (processing ID) or MSH-12 (version ID),
 * the acceptance checks of original mode, whatever is wrong with them:
 * not taken, or missing (a shifted header). AE is for the content. */
static bool acceptance_field(const char *f)
{
    if (strncmp(f, "MSH-9", 5) == 0)
        return f[5] == '\0' || f[5] == '.';
    return strncmp(f, "MSH-11", 6) == 0 || strncmp(f, "MSH-12", 6) == 0;
}

static void reject(struct ingest_job *j, const struct hl7_msg *m,
                   const struct hub_err *err)
{
    char now[32], ack_id[STORE_ID_LEN + 1];
    const char *code = err->code == HUB_EUNSUPPORTED ||
                               err->code == HUB_ELIMIT ||
                               acceptance_field(err->field)
                           ? "AR"
                           : "AE";
    struct hub_err e = *err;
    struct slice ack = SLICE_NULL;

    if (e.what == NULL)
        e.what = "message rejected";
    ingest_hl7_now(now);
    store_new_id(ack_id);
    if (hl7_ack(&j->a, m, code, &e, ack_id, now, &ack) != HUB_OK &&
        (m == NULL ||
         hl7_ack(&j->a, NULL, code, &e, ack_id, now, &ack) != HUB_OK))
        ack = SLICE_NULL;
    /* quarantine, and no idempotency key: a corrected re-send with the
     * same MSH-10 must be judged afresh, not answered with the stored AE */
    ingest_job_reject(j, &e, ack);
    memcpy(j->ack_code, code, 3);
    log_info("hl7.rejected", "org=%s sha=%.12s code=%s field=%s offset=%zu",
             j->org_id, j->msg.sha256, hub_strerror(e.code), e.field,
             e.offset);
}

/* committer thread: re-read MSH for the ACK's echo, then reject */
static void requarantine(struct ingest_job *j, const struct hub_err *err)
{
    struct hl7_msg *m = NULL;
    struct hub_err perr;

    (void)!hl7_parse(&j->a, j->msg.raw.p, j->msg.raw.len, &m, &perr);
    reject(j, m, err);
}

bool ingest_hl7_pid_ok(const char *pids, struct slice id)
{
    if (pids == NULL)
        return true;
    if (id.len == 0)
        return strchr(pids, 'P') != NULL;   /* absent: production */
    return id.len == 1 && id.p[0] != '\0' && strchr(pids, id.p[0]) != NULL;
}

/* MSH-9, -10, -12: checked before the processing ID, as HL7's acceptance
 * rules list them (message type, version, processing ID) */
static bool header_error(const struct hub_err *err)
{
    return strncmp(err->field, "MSH-", 4) == 0 &&
           strncmp(err->field, "MSH-11", 6) != 0;
}

void ingest_prepare_hl7(struct ingest_job *j, const struct dict *d,
                        const char *pids, const char *org_id, const char *p,
                        size_t len)
{
    struct hl7_msg *m = NULL;
    struct hub_err err = { 0 };
    struct hl7_warnings warn;
    char now[32], ack_id[STORE_ID_LEN + 1];
    struct slice ack;
    int rc;

    ingest_job_init(j, org_id, "hl7v2", p, len);
    j->requarantine = requarantine;
    /* parse the job's own copy: the events borrow from it */
    rc = hl7_parse(&j->a, j->msg.raw.p, j->msg.raw.len, &m, &err);
    if (m)
        j->msg.key = hl7_control_id(m);
    if (rc == HUB_OK) {
        rc = hl7_to_events_dict(&j->a, d, m, &j->events, &warn, &err);
        /* a training or debugging message is no real admission: refused
         * whole (its events are dropped with it, never stored) */
        if (pids && !ingest_hl7_pid_ok(pids, hl7_processing_id(m, NULL)) &&
            (rc == HUB_OK || !header_error(&err))) {
            size_t off;
            (void)hl7_processing_id(m, &off);
            rc = hub_err_set(&err, HUB_EUNSUPPORTED, "MSH-11", off,
                             "processing id is not one this hub takes");
        }
    }
    if (rc != HUB_OK) {
        if (err.code == HUB_OK)
            hub_err_set(&err, rc, "", 0, "message rejected");
        /* MSH itself over a limit: segments run together on one line (CRs
         * lost to a web page or a shell) make MSH hold the whole message.
         * Its bytes up to where the limit was met are still the header,
         * so that the AR echoes MSH-10 and the sender's version and
         * applications, as an engine that matches its ACK needs (F323) */
        if (m == NULL && err.code == HUB_ELIMIT &&
            strcmp(err.field, "MSH") == 0 && err.offset > 8 &&
            err.offset < j->msg.raw.len) {
            struct hub_err perr;
            (void)!hl7_parse(&j->a, j->msg.raw.p, err.offset, &m, &perr);
        }
        reject(j, m, &err);
        return;
    }
    ingest_hl7_now(now);
    store_new_id(ack_id);
    if (hl7_ack_warn(&j->a, m, "AA", NULL, &warn, ack_id, now, &ack) !=
        HUB_OK) {
        hub_err_set(&err, HUB_EINVALID, "MSH", 0, "cannot build the ack");
        reject(j, m, &err);
        return;
    }
    ingest_job_accept(j, hl7_control_id(m), ack);
}

void ingest_prepare_hl7_refused(struct ingest_job *j, const char *org_id,
                                const char *p, size_t len,
                                const struct hub_err *err)
{
    struct hl7_msg *m = NULL;
    struct hub_err perr;
    const char *cr;

    ingest_job_init(j, org_id, "hl7v2", p, len);
    /* the MSH segment alone, so that the AR can echo MSH-10 */
    cr = memchr(j->msg.raw.p, '\r', j->msg.raw.len < 8192 ? j->msg.raw.len
                                                           : 8192);
    if (cr) {
        (void)!hl7_parse(&j->a, j->msg.raw.p, (size_t)(cr - j->msg.raw.p) + 1,
                         &m, &perr);
    }
    reject(j, m, err);
}

/*
 * api_subs.c - subscriptions, deliveries and the audit trail over HTTPS:
 * A body (create, update, a replay's range) is JSON, sent as
 * application/json (or application/NAME+json): anything else is 415 (F3127).
 *   POST   /v1/subscriptions                create (201), 400 names the field;
 *                                           an Idempotency-Key retried
 *                                           answers the first (201,
 *                                           Idempotent-Replayed), 422 for
 *                                           another body
 *   GET    /v1/subscriptions                list (no secrets)
 *   GET    /v1/subscriptions/{id}           one, with its secrets
 *   PATCH  /v1/subscriptions/{id}           update (members given only)
 *   DELETE /v1/subscriptions/{id}           delete (204)
 *   POST   /v1/subscriptions/{id}/pause     stop sending and retrying now
 *   POST   /v1/subscriptions/{id}/resume
 *   POST   /v1/subscriptions/{id}/test      send it a test event (hub.test)
 *   GET    /v1/deliveries?subscription=&status=&before=&limit=
 *   POST   /v1/deliveries/{id}/replay       one delivery (dead, failed or
 *                                           delivered) again
 *   POST   /v1/deliveries/replay            {"subscription","from","to",
 *                                            "status","max"}: bounded range
 *   GET    /v1/audit?patient=&after=&limit= operator: accounting of
 *                                           disclosures of one patient
 *   GET    /v1/audit/verify[?from=SEQ:HASH][&anchor=SEQ:HASH]
 *                                           operator: walk the hash chain
 *                                           in steps (audit_walk.h), from
 *                                           the retention anchor or from a
 *                                           head answered before; the head
 *                                           to record, and whether an old
 *                                           head still holds; the walk
 *                                           stops when the client goes
 * A subscriber sees and changes only its own subscriptions and deliveries;
 * an operator (admin scope) sees all, and creates for another org with
 * ?org=. Every change is audited by the SQL it calls (subs.h).
 */
#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "audit_walk.h"
#include "echo_name.h"
#include "ingest_docs.h"
#include "json_body.h"
#include "log.h"
#include "common/hub_err.h"
#include "server.h"
#include "subs.h"
#include "webhook.h"

enum op {
    OP_CREATE, OP_LIST, OP_GET, OP_UPDATE, OP_DELETE, OP_PAUSE, OP_RESUME,
    OP_TEST, OP_DLIST, OP_REPLAY_ONE, OP_REPLAY_RANGE, OP_AUDIT, OP_VERIFY,
};

struct job {
    enum op op;
    char actor[64];
    char org[64];
    bool operator_;             /* org scope: all */
    bool one_org;               /* an operator's list of org alone */
    char id[80];
    char *body;
    size_t len;
    char sub[80], status[16], from[40], to[40], patient[64];
    char identifier[256];           /* audit: SYSTEM|VALUE or VALUE */
    int persons;                    /* audit: how many the VALUE named */
    char sub_state[16];         /* after a replay; "" when not known */
    long long before, after;
    int limit, max, n;
    char *json;
    struct hub_err err;
    struct store_audit_check chk;
    char key[INGEST_DOCS_KEY_MAX + 1];  /* Idempotency-Key, "": none */
    struct subs_key sk;
    long long anchor_seq;               /* ?anchor=SEQ:HASH, 0: none */
    char anchor_hash[65];
    int anchor_rc;
    int64_t from_seq;                   /* ?from=SEQ:HASH, 0: none */
    char from_hash[65];
    struct audit_walk walk;
    atomic_bool stop;                   /* the client closed (F1100), or
                                           hubd is stopping (F1200) */
};

static const char *scope_org(const struct job *j)
{
    return j->operator_ && !j->one_org ? NULL : j->org;
}

/* between two steps of the walk: on while the client is there and hubd
 * is not stopping */
static bool verify_go_on(void *arg, long long rows, int64_t at)
{
    struct job *j = arg;
    (void)rows;
    (void)at;
    return !atomic_load(&j->stop);
}

static int work(struct store *s, void *arg)
{
    struct job *j = arg;

    switch (j->op) {
    case OP_CREATE:
        j->sk.key = j->key;
        return subs_create(s, j->actor, j->org, j->body, j->len, &j->sk,
                           &j->json, &j->err);
    case OP_LIST:
        return subs_list(s, scope_org(j), &j->json);
    case OP_GET:
        return subs_get(s, scope_org(j), j->id, &j->json);
    case OP_UPDATE:
        return subs_update(s, j->actor, scope_org(j), j->id, j->body, j->len,
                           &j->json, &j->err);
    case OP_DELETE:
        return subs_delete(s, j->actor, scope_org(j), j->id);
    case OP_PAUSE:
    case OP_RESUME:
        return subs_set_status(s, j->actor, scope_org(j), j->id,
                               j->op == OP_PAUSE ? "paused" : "active",
                               &j->json);
    case OP_TEST:
        return subs_test(s, j->actor, scope_org(j), j->id, &j->json);
    case OP_DLIST:
        return deliveries_list(s, scope_org(j), j->sub[0] ? j->sub : NULL,
                               j->status[0] ? j->status : NULL, j->before,
                               j->limit, &j->json);
    case OP_REPLAY_ONE:
    case OP_REPLAY_RANGE: {
        int rc = j->op == OP_REPLAY_ONE
            ? deliveries_replay(s, j->actor, scope_org(j), j->id)
            : deliveries_replay_range(s, j->actor, scope_org(j), j->sub,
                                      j->from, j->to,
                                      j->status[0] ? j->status : NULL,
                                      j->max, &j->n, &j->err);
        if (rc == HUB_OK && j->op == OP_REPLAY_ONE)
            j->n = 1;
        /* the answer says whether the replay is sent now; looked up only
         * when something was replayed (the subscription is the caller's),
         * and a failed look-up only leaves the state out */
        if (rc == HUB_OK && j->n > 0 &&
            subs_replay_state(s, j->op == OP_REPLAY_ONE ? j->id : NULL,
                              j->sub, j->sub, j->sub_state) != HUB_OK)
            j->sub_state[0] = '\0';
        return rc;
    }
    case OP_AUDIT:
        return store_audit_list(s, j->patient[0] ? j->patient : NULL,
                                j->identifier[0] ? j->identifier : NULL,
                                j->after, j->limit, &j->json,
                                &j->persons);
    case OP_VERIFY: {
        if (j->anchor_seq > 0) {
            j->anchor_rc = store_audit_check_anchor(s, j->anchor_seq,
                                                    j->anchor_hash, NULL);
            /* a check that did not run (a lock not granted, the link
             * lost) is no verdict: answered as such, never a pass with
             * "anchor": null (F1021) */
            if (j->anchor_rc != HUB_OK && j->anchor_rc != HUB_ENOTFOUND &&
                j->anchor_rc != HUB_EINVALID &&
                j->anchor_rc != HUB_EUNSUPPORTED)
                return j->anchor_rc;
        }
        /* in steps, each a statement well within db_statement_timeout:
         * the whole chain in one was cut there, 503 at every try (F763);
         * from ?from= as hubctl's --from, its row compared first; and no
         * further once the client has gone (F1100) or hubd stops
         * (F1200) */
        j->walk = (struct audit_walk){ .step = AUDIT_WALK_STEP,
                                       .progress = verify_go_on, .arg = j };
        int rc = audit_walk(s, &j->walk, j->from_seq, j->from_hash, &j->chk);
        /* stopped on our side, no database's refusal: HUB_EBUSY would be
         * counted as a lock wait given up (hub_db_busy_total, F1203);
         * done answers it by walk.stopped */
        return j->walk.stopped ? HUB_OK : rc;
    }
    }
    return HUB_EINVALID;
}

static void job_free(struct job *j)
{
    free(j->body);
    free(j->json);
    free(j);
}

/* {"replayed":n,"subscription","subscription_status","waiting","note"}:
 * a replay into a paused or disabled subscription waits for its resume,
 * one into a deleted subscription is never sent */
static void replay_reply(struct api_req *r, const struct job *j)
{
    char buf[512];
    const char *st = j->sub_state;
    bool deleted = strcmp(st, "deleted") == 0;
    bool waiting = *st && !deleted && strcmp(st, "active") != 0;
    int n;

    if (!*st) {
        n = snprintf(buf, sizeof(buf), "{\"replayed\":%d}", j->n);
    } else {
        n = snprintf(buf, sizeof(buf), "{\"replayed\":%d,\"subscription\":"
                     "\"%s\",\"subscription_status\":\"%s\",\"waiting\":%s",
                     j->n, j->sub, st, waiting ? "true" : "false");
        if (waiting || deleted)
            n += snprintf(buf + n, sizeof(buf) - (size_t)n, ",\"note\":\"%s\"",
                          deleted ? "the subscription is deleted: the replay "
                                    "will not be sent"
                                  : "the replay waits until the subscription "
                                    "is resumed");
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "}");
    }
    api_reply_json(r, 202, buf, (size_t)n);
}

/* 202 {"event","delivery","subscription","subscription_status"}, with a
 * note when it waits for a resume; a pull subscription has nowhere to send
 * one (409) */
static void test_reply(struct api_req *r, int rc, const struct job *j)
{
    char buf[768];

    if (rc == HUB_EUNSUPPORTED) {
        api_reply_error(r, 409, "conflict", "a pull subscription has no "
                        "endpoint to test: read GET /v1/events", NULL);
        return;
    }
    size_t n = strlen(j->json);
    bool waiting = subs_test_waits(j->json);
    if (!waiting || n < 2 || n + 96 > sizeof(buf)) {
        api_reply_json(r, 202, j->json, n);
        return;
    }
    /* jsonb's text form ends in "}": the note goes before it */
    int k = snprintf(buf, sizeof(buf), "%.*s, \"note\": \"the test waits "
                     "until the subscription is resumed\"}", (int)(n - 1),
                     j->json);
    api_reply_json(r, 202, buf, (size_t)k);
}

static void done(struct api_req *r, int rc, void *arg)
{
    struct job *j = arg;
    char buf[512];

    if (j->op == OP_TEST && (rc == HUB_OK || rc == HUB_EUNSUPPORTED)) {
        test_reply(r, rc, j);
        job_free(j);
        return;
    }
    if (j->op == OP_VERIFY && j->walk.stopped) {
        /* hubd stopping (F1200): a 503 to retry, on another node or once
         * it is back; else the client closed before the end of the walk
         * (F1100): this answer goes nowhere, and is no database failure
         * to log */
        if (api_server(r)->stopping)
            api_reply_busy(r, "hubd is stopping: the walk stopped, retry");
        else
            api_reply_error(r, 503, "busy", "the client closed the "
                            "connection: the walk stopped", NULL);
        job_free(j);
        return;
    }
    if ((j->op == OP_PAUSE || j->op == OP_RESUME) &&
        rc == HUB_EUNSUPPORTED) {
        /* as its test is refused: nothing to hold, nothing to send */
        api_reply_error(r, 409, "conflict", j->op == OP_PAUSE
                        ? "a pull subscription has nothing to hold: its "
                          "events are in GET /v1/events as they are routed; "
                          "DELETE the subscription to stop its routing"
                        : "a pull subscription has nothing to resume: its "
                          "events are in GET /v1/events as they are routed",
                        NULL);
        job_free(j);
        return;
    }
    if ((j->op == OP_REPLAY_ONE || j->op == OP_REPLAY_RANGE) &&
        rc == HUB_EUNSUPPORTED) {
        /* moved to the pull feed: as its pause and test are refused; the
         * replay went to the URL it had before (F4160) */
        api_reply_error(r, 409, "conflict", "a pull subscription has no "
                        "endpoint to send a replay to: its events are in GET "
                        "/v1/events (PATCH it back to mode webhook with a "
                        "url to replay)", NULL);
        job_free(j);
        return;
    }
    if (j->op == OP_AUDIT && rc == HUB_EUNSUPPORTED) {
        /* a VALUE two senders gave two persons: their count alone, and
         * what names one (F1963) */
        snprintf(buf, sizeof(buf), "the identifier names %d patients: give "
                 "SYSTEM|VALUE, the system or the sender's namespace of the "
                 "identifier the request names (a namespace two senders use: "
                 "urn:hub:org:ORG:ns:NAMESPACE)", j->persons);
        api_reply_error(r, 409, "conflict", buf, "identifier");
        job_free(j);
        return;
    }
    if (j->op == OP_AUDIT && rc == HUB_ELIMIT && j->json) {
        /* as the feed answers its own (F2484): an empty page would have
         * an export tool wait past rows for ever (F3130) */
        snprintf(buf, sizeof(buf), "cursor is past the head of the audit "
                 "chain (%s): the hub's database was restored from a "
                 "backup, or the cursor is another hub's; read again from "
                 "after=0", j->json);
        log_info("audit.cursor_ahead", "after=%lld head=%s",
                 (long long)j->after, j->json);
        api_reply_error(r, 409, "cursor_ahead", buf, "after");
        job_free(j);
        return;
    }
    if (j->op == OP_CREATE && rc == HUB_EINVALID && j->sk.differs) {
        /* as the ingest routes answer a key reused for another body
         * (draft-ietf-httpapi-idempotency-key-header), never with the
         * first one's subscription */
        api_reply_error(r, 422, hub_strerror(rc), j->err.what,
                        "Idempotency-Key");
        job_free(j);
        return;
    }
    switch (rc) {
    case HUB_OK:
        break;
    case HUB_EINVALID:
    case HUB_ESYNTAX:
    case HUB_ELIMIT:
    case HUB_EUNSUPPORTED:
        api_reply_error_at(r, 400, hub_strerror(rc),
                           j->err.what ? j->err.what : "invalid request",
                           j->err.field[0] ? j->err.field : NULL, &j->err);
        job_free(j);
        return;
    case HUB_ENOTFOUND:
        if (j->op == OP_LIST) {     /* an operator's ?org= (F3125) */
            api_reply_error(r, 404, "not_found", "no organization has that "
                            "id", "org");
            job_free(j);
            return;
        }
        if (j->op == OP_DLIST) {    /* ?subscription=, none or another's */
            api_reply_error(r, 404, "not_found", "no subscription of yours "
                            "has that id", "subscription");
            job_free(j);
            return;
        }
        /* what was not found, and for a replay of one why it may be
         * there and still not taken: one text for every route left a
         * partner guessing which (F304) */
        api_reply_error(r, 404, "not_found",
                        j->op == OP_REPLAY_ONE
                        ? "no such delivery, or it is still pending or "
                          "being sent: a delivered, failed or dead one is "
                          "replayed (GET /v1/deliveries says its status)"
                        : j->op == OP_CREATE ||
                          j->op == OP_DLIST || j->op == OP_AUDIT ||
                          j->op == OP_VERIFY
                        ? "not found"
                        : "no such subscription (a deleted one is gone)",
                        NULL);
        job_free(j);
        return;
    case HUB_EAUTH:             /* a label not granted (subs.c) */
        api_reply_error(r, 403, "forbidden",
                        j->err.what ? j->err.what : "not allowed",
                        j->err.field[0] ? j->err.field : NULL);
        job_free(j);
        return;
    default:
        api_reply_busy(r, "database unavailable, retry");
        job_free(j);
        return;
    }
    switch (j->op) {
    case OP_DELETE:
        api_reply(r, 204, "application/json", "", 0);
        break;
    case OP_REPLAY_ONE:
    case OP_REPLAY_RANGE:
        replay_reply(r, j);
        break;
    case OP_VERIFY: {
        /* head: the last row that holds; record it elsewhere and pass it
         * back later as ?anchor=SEQ:HASH to prove no newest row was cut */
        const char *anchor = j->anchor_seq == 0 ? NULL
                             : j->anchor_rc == HUB_OK ? "\"holds\""
                             : j->anchor_rc == HUB_ENOTFOUND ? "\"removed\""
                             : j->anchor_rc == HUB_EINVALID ? "\"changed\""
                             : j->anchor_rc == HUB_EUNSUPPORTED ? "\"pruned\""
                                                            : NULL;
        bool anchor_ok = j->anchor_rc == HUB_OK ||
                         j->anchor_rc == HUB_EUNSUPPORTED;
        /* from: how ?from='s row compared (the walk starts after it,
         * from the retention anchor when pruned); null: not given */
        const char *from = j->from_seq == 0 ? "null"
                           : j->walk.from_differs
                             ? (strcmp(j->chk.problem, "removed") == 0
                                ? "\"removed\"" : "\"changed\"")
                           : j->walk.from_pruned ? "\"pruned\"" : "\"holds\"";
        int n = snprintf(buf, sizeof(buf),
                         "{\"ok\":%s,\"rows_checked\":%lld,\"bad_seq\":%lld,"
                         "\"problem\":%s%s%s,\"head\":{\"seq\":%lld,"
                         "\"hash\":\"%s\"},\"from\":%s,\"anchor\":%s,"
                         "\"retention_anchor\":%lld}",
                         j->chk.ok && (!anchor || anchor_ok)
                             ? "true" : "false",
                         (long long)j->chk.rows_checked,
                         (long long)j->chk.bad_seq,
                         j->chk.ok ? "" : "\"",
                         j->chk.ok ? "null" : j->chk.problem,
                         j->chk.ok ? "" : "\"",
                         (long long)j->chk.head_seq, j->chk.head_hash,
                         from, anchor ? anchor : "null",
                         (long long)j->chk.anchor_seq);
        api_reply_json(r, 200, buf, (size_t)n);
        break;
    }
    default:
        if (j->json && j->op == OP_CREATE) {
            /* where the new subscription is (RFC 9110 201): its id */
            const char *id = strstr(j->json, "\"id\": \"");
            char loc[160];
            if (id) {
                id += 7;
                snprintf(loc, sizeof(loc), "/v1/subscriptions/%.*s",
                         (int)strcspn(id, "\""), id);
                api_add_header(r, "Location", loc);
            }
            if (j->sk.replayed)
                api_add_header(r, "Idempotent-Replayed", "true");
        }
        if (j->json)
            api_reply_json(r, j->op == OP_CREATE ? 201 : 200, j->json,
                           strlen(j->json));
        else
            api_reply_error(r, 404, "not_found", "not found", NULL);
    }
    job_free(j);
}

static struct job *job_new(struct api_req *r, enum op op)
{
    struct job *j = calloc(1, sizeof(*j));
    const struct principal *p = api_principal(r);

    if (!j)
        abort();
    j->op = op;
    snprintf(j->actor, sizeof(j->actor), "%s", p->org_id);
    snprintf(j->org, sizeof(j->org), "%s", p->org_id);
    j->operator_ = (p->scopes & SCOPE_ADMIN) != 0;
    return j;
}

static bool copy_param(char *dst, size_t cap, const char *v)
{
    if (!v)
        return true;
    if (strlen(v) >= cap)
        return false;
    memcpy(dst, v, strlen(v) + 1);
    return true;
}

static bool take_body(struct api_req *r, struct job *j)
{
    struct slice b = api_body(r);
    j->body = malloc(b.len + 1);
    if (!j->body)
        abort();
    if (b.len)
        memcpy(j->body, b.p, b.len);
    j->body[b.len] = '\0';
    j->len = b.len;
    return true;
}

/* client_cert, client_key and ca_bundle name files on the hub's own host
 * (hubctl sub add --client-cert): an operator's to set. A partner naming
 * them would have the hub read a file of its choosing (a delivery's error,
 * tls_ca_bundle or not, says whether it is there and what it holds) and
 * present a key the hub holds (the server's own, one made for another
 * partner's endpoint) to an endpoint of its choosing. The member of
 * `body` that names one, or NULL; a body too big or not an object is
 * left to webhook_sub_validate to refuse. */
static const char *host_file_member(const char *body, size_t len)
{
    static const char *const files[] = { "client_cert", "client_key",
                                         "ca_bundle", NULL };
    const char *found = NULL;

    if (len > WEBHOOK_SUB_MAX)
        return NULL;
    cJSON *doc = cJSON_ParseWithLength(body, len);
    for (const cJSON *m = cJSON_IsObject(doc) ? doc->child : NULL;
         m && !found; m = m->next)
        for (size_t i = 0; files[i] && !found; i++)
            if (strcmp(m->string, files[i]) == 0)
                found = files[i];
    cJSON_Delete(doc);
    return found;
}

/* take the body of a create or update; false (answered 403) when a
 * partner names a file of the hub's host */
static bool take_sub_body(struct api_req *r, struct job *j)
{
    take_body(r, j);
    const char *f = j->operator_ ? NULL : host_file_member(j->body, j->len);
    if (f) {
        job_free(j);
        api_reply_error(r, 403, "forbidden", "only an operator names files "
                        "of the hub's host (client_cert, client_key, "
                        "ca_bundle)", f);
        return false;
    }
    return true;
}

/* for api_refuse_unknown_query: a route that takes no query parameter */
static const char *const no_params[] = { NULL };

static void subs_root(struct api_req *r)
{
    static const char *const org_only[] = { "org", NULL };
    bool list = api_method(r) == API_GET;

    if (api_refuse_unknown_query(r, org_only, list
                                 ? "unknown query parameter: the "
                                   "subscription list takes org (an "
                                   "operator's)"
                                 : "unknown query parameter: a creation "
                                   "takes org (an operator's)"))
        return;
    if (!list && api_refuse_unless_json(r))
        return;
    /* a retry after an answer lost (a 503 cut at the deadline after the
     * commit) makes no second subscription under the same key (F764) */
    const char *key = list ? NULL : api_header(r, "Idempotency-Key");
    if (key && !ingest_docs_key_ok(key)) {
        api_reply_error(r, 400, "invalid", "idempotency key must be 1-256 "
                        "printable characters", "Idempotency-Key");
        return;
    }
    struct job *j = job_new(r, list ? OP_LIST : OP_CREATE);
    if (key)
        memcpy(j->key, key, strlen(key) + 1);
    /* an operator's: the list of one organization (hubctl sub list
     * --org), or a subscription made for it */
    const char *org = api_query(r, "org");
    /* given empty it is an id no organization has (404 listed, 400
     * made), never "none given": an operator's script whose variable
     * came up empty listed every organization's, or made the
     * subscription its own (F4166) */
    if (org) {
        if (!j->operator_ || !copy_param(j->org, sizeof(j->org), org)) {
            job_free(j);
            api_reply_error(r, 403, "forbidden", list
                            ? "only an operator lists another "
                              "organization's subscriptions"
                            : "only an operator creates a subscription for "
                              "another organization", "org");
            return;
        }
        j->one_org = list;
    }
    if (list || take_sub_body(r, j))
        api_db(r, work, done, j);
}

/* /v1/subscriptions/{id}[/pause|/resume|/test] */
static void subs_one(struct api_req *r)
{
    const char *rest = api_path_rest(r);
    size_t idl = strcspn(rest, "/");
    const char *tail = rest + idl;
    enum op op;
    bool action = strcmp(tail, "/pause") == 0 ||
                  strcmp(tail, "/resume") == 0 || strcmp(tail, "/test") == 0;

    /* a method the path does not take is 405 with Allow (RFC 9110), as the
     * router answers for its own paths: a partner that POSTed an update
     * to the subscription was told "no such route" */
    if (action && api_method(r) != API_POST) {
        api_add_header(r, "Allow", "POST");
        api_reply_error(r, 405, "method_not_allowed", "pause, resume and "
                        "test take POST", NULL);
        return;
    }
    if (*tail == '\0' && idl > 0 && api_method(r) == API_POST) {
        api_add_header(r, "Allow", "GET, PATCH, DELETE");
        api_reply_error(r, 405, "method_not_allowed", "a subscription is "
                        "updated with PATCH (POST is for .../pause, "
                        ".../resume, .../test)", NULL);
        return;
    }
    switch (api_method(r)) {
    case API_GET: op = OP_GET; break;
    case API_PATCH: op = OP_UPDATE; break;
    case API_DELETE: op = OP_DELETE; break;
    default:
        if (strcmp(tail, "/pause") == 0)
            op = OP_PAUSE;
        else if (strcmp(tail, "/resume") == 0)
            op = OP_RESUME;
        else if (strcmp(tail, "/test") == 0)
            op = OP_TEST;
        else {
            api_reply_error(r, 404, "not_found", "no such route", NULL);
            return;
        }
    }
    if ((op != OP_PAUSE && op != OP_RESUME && op != OP_TEST && *tail) ||
        idl == 0 ||
        idl >= sizeof(((struct job *)0)->id)) {
        api_reply_error(r, 404, "not_found", "no such subscription", NULL);
        return;
    }
    if (api_refuse_unknown_query(r, no_params, "unknown query parameter: a "
                                 "subscription's routes take none"))
        return;
    if (op == OP_UPDATE && api_refuse_unless_json(r))
        return;
    struct job *j = job_new(r, op);
    memcpy(j->id, rest, idl);
    j->id[idl] = '\0';
    if (op == OP_UPDATE && !take_sub_body(r, j))
        return;
    api_db(r, work, done, j);
}

static bool parse_ll(const char *v, long long min, long long max,
                     long long *out)
{
    char *end;
    if (!v || !*v)
        return true;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end || n < min || n > max)
        return false;
    *out = n;
    return true;
}

/* Unless `ok`, a bad query parameter: 400 naming it in error.field
 * (DESIGN.md's error shape), as GET /v1/events does; true when refused. */
static bool refuse_param(struct api_req *r, struct job *j, bool ok,
                         const char *field, const char *what)
{
    if (ok)
        return false;
    job_free(j);
    api_reply_error(r, 400, "invalid", what, field);
    return true;
}

static void deliveries_root(struct api_req *r)
{
    static const char *const statuses[] = { "pending", "delivering",
        "delivered", "failed", "dead", "cancelled", NULL };
    static const char *const params[] = { "subscription", "status",
                                          "before", "limit", NULL };
    if (api_refuse_unknown_query(r, params, "unknown query parameter: the "
                                 "delivery list takes subscription, status, "
                                 "before and limit"))
        return;
    struct job *j = job_new(r, OP_DLIST);
    long long limit = 100, before = 0;
    const char *status = api_query(r, "status");
    bool known = !status || !*status;

    for (size_t i = 0; !known && statuses[i]; i++)
        known = strcmp(status, statuses[i]) == 0;
    const char *sub = api_query(r, "subscription");
    if (refuse_param(r, j, copy_param(j->sub, sizeof(j->sub), sub) &&
                               (!sub || !*sub || subs_id_ok(sub)),
                     "subscription", "subscription is not a subscription id "
                     "(sub_ and hex, as the subscription's id)") ||
        refuse_param(r, j, known && copy_param(j->status, sizeof(j->status),
                                               status),
                     "status", "status is not one of pending, delivering, "
                     "delivered, failed, dead, cancelled") ||
        refuse_param(r, j, parse_ll(api_query(r, "limit"), 1, 1000, &limit),
                     "limit", "limit is not 1..1000") ||
        refuse_param(r, j, parse_ll(api_query(r, "before"), 0, INT64_MAX,
                                    &before),
                     "before", "before is not a cursor (the next of a page)"))
        return;
    j->limit = (int)limit;
    j->before = before;
    api_db(r, work, done, j);
}

static void deliveries_replay_one(struct api_req *r)
{
    const char *rest = api_path_rest(r);
    size_t idl = strcspn(rest, "/");

    if (strcmp(rest + idl, "/replay") != 0 || idl == 0 || idl >= 40) {
        api_reply_error(r, 404, "not_found", "no such route", NULL);
        return;
    }
    /* a filter there (?status=dead) was ignored and the delivery replayed
     * whatever its state (F238) */
    if (api_refuse_unknown_query(r, no_params, "unknown query parameter: a "
                                 "replay takes none (its body names a range)"))
        return;
    struct job *j = job_new(r, OP_REPLAY_ONE);
    memcpy(j->id, rest, idl);
    j->id[idl] = '\0';
    api_db(r, work, done, j);
}

/* A replay's body: these five short members. Bounded before it is parsed: a
 * body of max_body bytes of JSON is millions of values, each a cJSON node
 * on the heap, parsed on the loop thread that serves every connection. */
#define REPLAY_BODY_MAX 4096
static const char *const replay_members[] = { "subscription", "from", "to",
                                              "status", "max", NULL };

/* {"subscription","from","to","status","max"} */
static void deliveries_replay_many(struct api_req *r)
{
    struct slice b = api_body(r);

    if (api_refuse_unknown_query(r, no_params, "unknown query parameter: a "
                                 "replay takes none (its body names a range)"))
        return;
    if (api_refuse_unless_json(r))
        return;
    if (b.len > REPLAY_BODY_MAX) {
        api_reply_error(r, 413, "limit", "a replay's body is at most 4096 "
                        "bytes", "body");
        return;
    }
    struct hub_err perr = { 0 };
    cJSON *doc = json_body_parse(b.p, b.len, &perr);
    struct job *j = job_new(r, OP_REPLAY_RANGE);
    const char *bad = NULL;

    if (doc && !cJSON_IsObject(doc))
        hub_err_set_at(&perr, HUB_ESYNTAX, "", json_body_value_at(b.p, b.len),
                       "body is not a JSON object");

    j->max = 1000;
    if (!cJSON_IsObject(doc)) {
        bad = "";
    } else {
        /* a member it does not take ("statuses", "limit") was ignored, and
         * the replay ran with the defaults (dead letters only, 1000); one
         * given twice was read by its first value, as a query parameter
         * was (F237) */
        for (const cJSON *m = doc->child; m; m = m->next) {
            const cJSON *o = doc->child;
            while (o != m && strcmp(o->string, m->string) != 0)
                o = o->next;
            bool known = false;
            for (int k = 0; replay_members[k] && !known; k++)
                known = strcmp(m->string, replay_members[k]) == 0;
            if (!known || o != m) {
                job_free(j);
                api_reply_error(r, 400, "invalid", !known
                                ? "unknown member: a replay takes "
                                  "subscription, from, to, status (dead when "
                                  "absent) and max"
                                : "member is given more than once",
                                echo_name_ok(m->string, 64, NULL)
                                    ? m->string : "body");
                cJSON_Delete(doc);
                return;
            }
        }
        /* the four text members, then max */
        const char *const *names = replay_members;
        char *dst[] = { j->sub, j->from, j->to, j->status };
        size_t cap[] = { sizeof(j->sub), sizeof(j->from), sizeof(j->to),
                         sizeof(j->status) };
        for (int i = 0; i < 4 && !bad; i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, names[i]);
            if (v && (!cJSON_IsString(v) ||
                      !copy_param(dst[i], cap[i], v->valuestring)))
                bad = names[i];
        }
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, "max");
        if (!bad && m) {
            /* a whole number: 2.5 was taken as 2, a bound the caller
             * did not give (F4164) */
            if (!cJSON_IsNumber(m) || m->valuedouble < 1 ||
                m->valuedouble > SUBS_REPLAY_MAX ||
                m->valuedouble != (double)(int)m->valuedouble)
                bad = "max";
            else
                j->max = (int)m->valuedouble;
        }
    }
    cJSON_Delete(doc);
    if (bad) {
        /* what the member should be: "member has a bad value" left a
         * partner to guess that a time is a string, max a number (F306) */
        static const char *const want[] = {
            "subscription is not a subscription id (sub_...)",
            "is not a date or time string (2026-12-05, "
            "2026-12-05T04:00:00Z; no offset: UTC)",
            "is not a date or time string (2026-12-05, "
            "2026-12-05T04:00:00Z; no offset: UTC)",
            "status is not dead, failed or delivered",
            "max is not a whole number from 1 to 10000",
        };
        /* JSON cut short is not "not an object" (F1462); either says
         * where (F1467) */
        const char *what = perr.what;
        for (int k = 0; *bad && replay_members[k]; k++)
            if (strcmp(bad, replay_members[k]) == 0)
                what = want[k];
        job_free(j);
        api_reply_error_at(r, 400, "invalid", what, *bad ? bad : NULL,
                           *bad ? NULL : &perr);
        return;
    }
    api_db(r, work, done, j);
}

static void audit_list(struct api_req *r)
{
    static const char *const params[] = { "patient", "identifier", "after",
                                          "limit", NULL };
    if (api_refuse_unknown_query(r, params, "unknown query parameter: the "
                                 "audit list takes patient, identifier, "
                                 "after and limit"))
        return;
    struct job *j = job_new(r, OP_AUDIT);
    long long limit = 100, after = 0;
    const char *pat = api_query(r, "patient");
    const char *ident = api_query(r, "identifier");

    /* given empty, each was read as absent: a request for one person's
     * accounting answered with the whole trail (F3121) */
    if (refuse_param(r, j, copy_param(j->patient, sizeof(j->patient), pat) &&
                               (!pat || *pat),
                     "patient", "patient is not a hub id") ||
        refuse_param(r, j, copy_param(j->identifier, sizeof(j->identifier),
                                      ident) &&
                               (!ident ||
                                (*ident && ident[strlen(ident) - 1] != '|')),
                     "identifier", "identifier is not SYSTEM|VALUE or VALUE") ||
        refuse_param(r, j, !(pat && *pat && ident && *ident), "identifier",
                     "give patient or identifier, not both") ||
        refuse_param(r, j, parse_ll(api_query(r, "limit"), 1, 1000, &limit),
                     "limit", "limit is not 1..1000") ||
        refuse_param(r, j, parse_ll(api_query(r, "after"), 0, INT64_MAX,
                                    &after),
                     "after", "after is not a cursor (the next of a page)"))
        return;
    j->limit = (int)limit;
    j->after = after;
    api_db(r, work, done, j);
}

static void audit_verify(struct api_req *r)
{
    static const char *const params[] = { "from", "anchor", NULL };
    if (api_refuse_unknown_query(r, params, "unknown query parameter: the "
                                 "chain check takes from and anchor"))
        return;
    struct job *j = job_new(r, OP_VERIFY);
    const char *a = api_query(r, "anchor");
    const char *f = api_query(r, "from");
    const char *what;
    int64_t seq;

    /* both as a verify answered its head, parsed as hubctl parses them */
    if (a && *a) {
        if (!audit_seq_hash_parse(a, &seq, j->anchor_hash, &what)) {
            job_free(j);
            api_reply_error(r, 400, "invalid", "anchor is not SEQ:HASH "
                            "(64 lowercase hex digits)", "anchor");
            return;
        }
        j->anchor_seq = seq;
    }
    if (f) {
        if (!audit_seq_hash_parse(f, &j->from_seq, j->from_hash, &what)) {
            job_free(j);
            api_reply_error(r, 400, "invalid", what, "from");
            return;
        }
    }
    api_db_watched(r, work, done, j, &j->stop);
}

const struct api_route api_subs_routes[] = {
    { API_GET | API_POST, "/v1/subscriptions", SCOPE_SUBSCRIBE | SCOPE_ADMIN,
      subs_root },
    { API_GET | API_PATCH | API_DELETE | API_POST, "/v1/subscriptions/+",
      SCOPE_SUBSCRIBE | SCOPE_ADMIN, subs_one },
    { API_GET, "/v1/deliveries", SCOPE_SUBSCRIBE | SCOPE_ADMIN,
      deliveries_root },
    { API_POST, "/v1/deliveries/replay", SCOPE_SUBSCRIBE | SCOPE_ADMIN,
      deliveries_replay_many },
    { API_POST, "/v1/deliveries/+", SCOPE_SUBSCRIBE | SCOPE_ADMIN,
      deliveries_replay_one },
    { API_GET, "/v1/audit/verify", SCOPE_ADMIN, audit_verify },
    { API_GET, "/v1/audit", SCOPE_ADMIN, audit_list },
    { 0, NULL, 0, NULL },
};

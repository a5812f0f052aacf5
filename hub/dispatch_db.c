/*
 * dispatch_db.c - the dispatcher's database side: claims of due
 * deliveries (hub_claim_deliveries) become jobs, outcomes are buffered and
 * recorded many to a transaction (hub_deliveries_done, with the digests
 * and the sweep), each by a worker thread with a connection of its own, so
 * that the loop never waits on PostgreSQL.
 */
#include "dispatch_int.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/hub_err.h"
#include "jcanon.h"
#include "log.h"
#include "metrics.h"

/* --- results: buffered, written in one transaction ---------------------- */

static char *put_str(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

static void outcomes_room(struct outcome **v, int *cap, int need)
{
    if (need <= *cap)
        return;
    int c = *cap ? *cap * 2 : 256;
    while (c < need)
        c *= 2;
    *v = realloc(*v, (size_t)c * sizeof(**v));
    if (!*v)
        abort();
    *cap = c;
}

/* Delivery `id` off d->waits_on, if there: rows wait for its outcome's
 * commit, so the next flush goes at once (flush_now). */
static void waits_on_take(struct dispatch *d, int64_t id)
{
    for (int k = 0; k < d->n_waits_on; k++)
        if (d->waits_on[k] == id) {
            d->flush_now = true;
            d->waits_on[k] = d->waits_on[--d->n_waits_on];
            return;
        }
}

/* error is a static token ("timeout", "connect", ...) or NULL; so is
 * outcome: neither needs escaping. */
void result_add(struct dispatch *d, const struct job *j, long code,
                const char *error, int64_t latency_ms,
                const char *outcome, int64_t delay_ms)
{
    assert(strlen(outcome) < 32 && (!error || strlen(error) < 32));
    waits_on_take(d, j->id);
    outcomes_room(&d->results, &d->results_cap, d->n_results + 1);
    d->results[d->n_results++] = (struct outcome){
        .id = j->id, .token = j->token, .attempt = j->attempt,
        .code = code, .error = error, .latency_ms = latency_ms,
        .outcome = outcome, .delay_ms = delay_ms, .ids = j->ids };
}

/* Outcomes the database did not take: back in front of the buffer, for
 * the next turn (if our leases expire first, another node re-sends:
 * at-least-once, same webhook-id). */
void results_readd(struct dispatch *d, const struct outcome *failed,
                   int n)
{
    if (n <= 0)
        return;
    outcomes_room(&d->results, &d->results_cap, d->n_results + n);
    memmove(d->results + n, d->results,
            (size_t)d->n_results * sizeof(*d->results));
    memcpy(d->results, failed, (size_t)n * sizeof(*failed));
    d->n_results += n;
}

/* Hand the first `max` outcomes to the flush worker (req_results), keep
 * the rest. */
static void results_take(struct dispatch *d, int max)
{
    int n = d->n_results < max ? d->n_results : max;
    struct outcome *take = malloc((size_t)n * sizeof(*take));
    if (!take)
        abort();
    memcpy(take, d->results, (size_t)n * sizeof(*take));
    d->req_results = take;              /* handed over until the reply */
    d->req_n_results = n;
    d->n_results -= n;
    memmove(d->results, d->results + n,
            (size_t)d->n_results * sizeof(*d->results));
}

static char *put_mem(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

/* The attempt row's detail of o, as jsonb prints it (keys by length, then
 * bytes; ", " and ": "), into p (room for DETAIL_MAX(node_q)); what
 * hub_deliveries_done writes when given none, and hub_audit_verify chains
 * byte for byte. Returns the end. */
#define DETAIL_MAX(node_q_len) (200 + 2 * 32 + 2 * 20 + (node_q_len) + \
                                DISPATCH_DIDS_MAX)
static char *put_detail(char *p, const struct outcome *x, const char *node_q)
{
    const char *ids = x->ids.buf;
    p = put_str(p, "{\"code\": ");
    p = x->code > 0 ? put_i64(p, x->code) : put_str(p, "null");
    p = put_str(p, ", \"node\": ");
    p = put_str(p, node_q);
    p = put_str(p, ", \"error\": ");
    if (x->error) {
        *p++ = '"';
        p = put_str(p, x->error);
        *p++ = '"';
    } else {
        p = put_str(p, "null");
    }
    p = put_str(p, ", \"event\": ");
    p = put_mem(p, ids, x->ids.ev);
    p = put_str(p, ", \"attempt\": ");
    p = put_i64(p, x->attempt);
    p = put_str(p, ", \"outcome\": \"");
    p = put_str(p, x->outcome);
    p = put_str(p, "\", \"recipient\": ");
    p = put_mem(p, ids + x->ids.ev, x->ids.rc);
    p = put_str(p, ", \"latency_ms\": ");
    p = put_i64(p, x->latency_ms);
    p = put_str(p, ", \"subscription\": ");
    p = put_mem(p, ids + x->ids.ev + x->ids.rc, x->ids.sb);
    *p++ = '}';
    return p;
}

/* Whether o[i] names a subscription that no outcome before it named (a
 * batch holds few: the compare of each with the ones before mostly ends at
 * the first outcome). */
static bool sub_first(const struct outcome *o, int i)
{
    const struct outcome *x = &o[i];
    const char *id = x->ids.buf + x->ids.ev + x->ids.rc;
    if (x->ids.sb == 0)
        return false;
    for (int k = 0; k < i; k++) {
        const struct outcome *y = &o[k];
        if (y->ids.sb == x->ids.sb &&
            memcmp(y->ids.buf + y->ids.ev + y->ids.rc, id, x->ids.sb) == 0)
            return false;
    }
    return true;
}

/* The outcomes as the eight array literals hub_deliveries_done() takes,
 * then the details one a line ("": none; canonical JSON text holds no raw
 * line feed), then the batch's subscriptions, each once (an array
 * literal: the flush reads their health, and locks those that may change,
 * before anything else), one after another in buf (each NUL-terminated), their starts
 * in arg. Written by hand: snprintf was a fifth of what the loop spent per
 * delivery outside curl and signing. The details are not an array
 * literal: array_in() reads every byte twice through its state machine
 * (about 30 instructions a byte, 10k a delivery); string_to_array() on a
 * line feed finds each with memchr(). */
static char *outcome_arrays(const struct outcome *o, int n,
                            const char *node_q, const char *arg[10])
{
    size_t node_q_len = strlen(node_q);
    /* per outcome and array at most 20 digits or a 31-byte token, quotes
     * and a separator; a detail and a line feed; a subscription id */
    char *buf = malloc((size_t)n * (8 * 36 + DETAIL_MAX(node_q_len) + 1 +
                                    DISPATCH_DIDS_MAX + 1) + 10 * 3);
    if (!buf)
        abort();
    char *p = buf;
    int n_subs = 0;
    for (int f = 0; f < 10; f++) {
        arg[f] = p;
        if (f != 8)
            *p++ = '{';
        for (int i = 0; i < n; i++) {
            const struct outcome *x = &o[i];
            const char *tok = f == 4 ? x->error : x->outcome;
            if (f == 9 && !sub_first(o, i))
                continue;
            if (f == 9 ? n_subs++ > 0 : i > 0)
                *p++ = f != 8 ? ',' : '\n';
            switch (f) {
            case 0: p = put_i64(p, x->id); break;
            case 1: p = put_i64(p, x->token); break;
            case 2: p = put_i64(p, x->attempt); break;
            case 3: p = x->code > 0 ? put_i64(p, x->code) : put_str(p, "NULL");
                    break;
            case 5: p = put_i64(p, x->latency_ms); break;
            case 7: p = put_i64(p, x->delay_ms); break;
            case 8:                     /* "": the flush writes it */
                if (x->ids.ev != 0 && node_q_len != 0)
                    p = put_detail(p, x, node_q);
                break;
            case 9:                     /* its subscription, if new */
                /* as jsonb quotes it: the hub's ids need no escape, in
                 * JSON or in an array literal */
                p = put_mem(p, x->ids.buf + x->ids.ev + x->ids.rc,
                            x->ids.sb);
                break;
            default:                    /* 4: error, 6: outcome */
                if (!tok) {
                    p = put_str(p, "NULL");
                } else {
                    *p++ = '"';
                    p = put_str(p, tok);
                    *p++ = '"';
                }
            }
        }
        if (f != 8)
            *p++ = '}';
        *p++ = '\0';
    }
    return buf;
}

/* The outcome flush's arguments, as outcome_arrays() writes them. */
#define FLUSH_ARGS "($1, $2::bigint[], $3::bigint[], $4::int[], $5::int[], " \
    "$6::text[], $7::int[], $8::text[], $9::bigint[], " \
    "string_to_array($10, E'\\n', ''), $11::text[], $12::int)"

/* Worker side: the outcomes, one transaction. */
int db_flush(struct dispatch *d, struct store *db,
             const struct outcome *o, int n)
{
    char failing_after[16];
    const char *params[12] = { d->node };
    char *buf = outcome_arrays(o, n, d->node_q, &params[1]);
    struct store_rows *rows = NULL;
    /* a batch of deliveries alone, each with its detail and subscription
     * (nearly every flush of a drain) takes hub_deliveries_delivered(),
     * which does only what a delivery needs (036) */
    bool delivered = d->node_q[0] != '\0';
    snprintf(failing_after, sizeof(failing_after), "%d",
             d->cfg.failing_after);
    params[11] = failing_after;
    for (int i = 0; i < n; i++) {
        if (o[i].ids.sb == 0)
            params[10] = NULL;          /* not all known: the flush reads them */
        if (o[i].ids.sb == 0 || o[i].ids.ev == 0 ||
            !o[i].outcome || strcmp(o[i].outcome, "delivered") != 0)
            delivered = false;
    }
    int rc = store_query_prepared(db, delivered ? "hub_deliveries_delivered"
                                                : "hub_deliveries_done",
        delivered ? "SELECT hub_deliveries_delivered" FLUSH_ARGS
                  : "SELECT hub_deliveries_done" FLUSH_ARGS, 12, params, &rows);
    store_rows_free(rows);
    free(buf);
    return rc;
}

/* Worker side: the digests, when due (hub_digest: one node makes them per
 * interval, the others find them made). Its failure is only logged: the
 * outcomes flushed before it stand, and the next look tries again. */
static int db_digest(struct dispatch *d, struct store *db)
{
    char every[24];
    const char *params[2] = { every, d->cfg.digest_all ? "true" : "false" };
    struct store_rows *rows = NULL;
    snprintf(every, sizeof(every), "%" PRId64,
             scaled(d, d->cfg.digest_ms));
    int rc = store_query_prepared(db, "hub_digest",
        "SELECT hub_digest($1::bigint, $2::boolean)", 2, params, &rows);
    const char *n = rc == HUB_OK && store_rows_count(rows) == 1
                    ? store_rows_get(rows, 0, 0) : NULL;
    if (rc != HUB_OK)
        log_warn("dispatch.digest_failed", "code=%s", hub_strerror(rc));
    else if (n && strcmp(n, "0") != 0)
        log_info("hub.digest", "events=%s", n);
    store_rows_free(rows);
    return rc;
}

/* Worker side: the sweep (DISPATCH_SWEEP_MS). */
static int db_sweep(struct dispatch *d, struct store *db)
{
    char lim[16], walk[16];
    snprintf(lim, sizeof(lim), "%d", DISPATCH_SWEEP_LIMIT);
    snprintf(walk, sizeof(walk), "%d", DISPATCH_SWEEP_WALK);
    const char *params[2] = { lim, walk };
    struct store_rows *rows = NULL;
    int rc = store_query_prepared(db, "hub_queue_sweep",
        "SELECT hub_queue_sweep($1::int, $2::int)", 2, params, &rows);
    d->rep_swept = rc == HUB_OK && store_rows_count(rows) == 1
                   ? strtoll(store_rows_get(rows, 0, 0), NULL, 10) : 0;
    store_rows_free(rows);
    return rc;
}

/* A copy of a claimed text of at most max bytes (the limit its
 * validation set), NULL for NULL or "" when empty_is_null. */
static char *copy_field(const char *src, size_t max, bool empty_is_null)
{
    if (!src || (empty_is_null && !*src))
        return NULL;
    size_t n = strnlen(src, max);
    char *c = malloc(n + 1);
    if (!c)
        abort();
    memcpy(c, src, n);
    c[n] = '\0';
    return c;
}

/* The skip list of a claim: endpoints that cannot take more now (breaker
 * open, or their share claimed already: marked capped, each asks for a
 * claim once it is below its share again), as a PostgreSQL array
 * literal. */
static char *skip_list(struct dispatch *d, int64_t now, int ep_cap)
{
    size_t skip_len = 2;
    char *skip = malloc(2);
    if (!skip)
        abort();
    memcpy(skip, "{", 2);
    bool first = true;
    for (size_t i = 0; i < d->n_eps; i++) {
        struct endpoint *e = d->eps[i];
        e->capped = e->inflight + e->queued >= ep_cap;
        if (e->open_until_ms <= now && !e->capped)
            continue;
        /* each element quoted and escaped */
        size_t need = strlen(e->key) * 2 + 4;
        skip = realloc(skip, skip_len + need);
        if (!skip)
            abort();
        char *p = skip + skip_len - 1;
        if (!first)
            *p++ = ',';
        *p++ = '"';
        for (const char *k = e->key; *k; k++) {
            if (*k == '"' || *k == '\\')
                *p++ = '\\';
            *p++ = *k;
        }
        *p++ = '"';
        *p = '\0';
        skip_len = (size_t)(p - skip) + 1;
        first = false;
    }
    skip = realloc(skip, skip_len + 1);
    if (!skip)
        abort();
    skip[skip_len - 1] = '}';
    skip[skip_len] = '\0';
    return skip;
}

/* The ids of an attempt's detail, quoted (all 0: left to the flush). */
static void detail_ids_set(struct detail_ids *ids, struct arena *a,
                           const char *ev, const char *rc, const char *sb)
{
    struct slice q[3];
    const char *v[3] = { ev, rc, sb };

    ids->ev = ids->rc = ids->sb = 0;
    size_t len = 0;
    for (int i = 0; i < 3; i++) {
        if (!v[i] || !jcanon_quote(a, v[i], strlen(v[i]), &q[i]))
            return;
        len += q[i].len;
    }
    if (len > sizeof(ids->buf))
        return;
    char *p = ids->buf;
    for (int i = 0; i < 3; i++)
        p = put_mem(p, q[i].p, q[i].len);
    ids->ev = (uint16_t)q[0].len;
    ids->rc = (uint16_t)q[1].len;
    ids->sb = (uint16_t)q[2].len;
}

/* Worker side: claim due work (the request's room and skip list). */
static int db_claim(struct dispatch *d, struct store *db,
                    struct store_rows **rows)
{
    const char *params[5] = { d->node, d->req_lease, d->req_max, d->req_per,
                              d->req_skip };
    return store_query_prepared(db, "hub_claim_deliveries",
        "SELECT id, token, attempt, url, endpoint, secrets, client_cert, "
        "client_key, ca_bundle, body, event, subscription, recipient, "
        "order_waits FROM hub_claim_deliveries($1, $2::int, $3::int, "
        "$4::int, $5::text[], true)",
        5, params, rows);
}

/* A claim's order_waits ("{12,15}": the deliveries of ours that rows
 * wait behind) as d->waits_on; an outcome of one already buffered is
 * recorded at once (flush_now). */
static void waits_on_set(struct dispatch *d, const char *text)
{
    const char *p = text + (*text == '{');
    d->n_waits_on = 0;
    while (*p && *p != '}' && d->n_waits_on < DISPATCH_WAITS_MAX) {
        char *end;
        long long id = strtoll(p, &end, 10);
        if (end == p)
            break;
        d->waits_on[d->n_waits_on++] = id;
        p = end + (*end == ',');
    }
    for (int r = 0; r < d->n_results; r++)
        waits_on_take(d, d->results[r].id);
}

/* The rows a claim leased: its reply's, less the one row with no id that
 * says only that rows wait (order_waits, nothing leased). */
static int claimed_count(const struct store_rows *rows)
{
    int n = store_rows_count(rows);
    return n == 1 && store_rows_get(rows, 0, 0) == NULL ? 0 : n;
}

/* Loop side: claimed rows become queued jobs (which hold the rows: taken,
 * freed with the last of them). */
static void take_claimed(struct dispatch *d, struct store_rows *rows)
{
    int64_t now = mono_ms();
    int n = claimed_count(rows);
    struct claim_rows *held = calloc(1, sizeof(*held));
    if (!held)
        abort();
    held->rows = rows;
    held->holders = 1;                  /* ours, until the loop is done */
    /* order_waits: the same in every row; NULL when not looked for */
    const char *waits = store_rows_get(rows, 0, 13);
    if (waits)
        waits_on_set(d, waits);
    if (n > 0)
        stat_add(d, &d->stats.claims, (uint64_t)n);
    /* a NULL body: the same event as the row before (see
     * hub_claim_deliveries), whose body is converted and sent once */
    const char *last_body = NULL;
    struct signer *last_signer = NULL;
    /* a pause, delete or 410 seen since this claim went out */
    bool changed = subs_changed_since(d, d->claimw.went_us);
    struct arena a;
    arena_init(&a, 4096);
    for (int r = 0; r < n; r++) {
        struct job *j = calloc(1, sizeof(*j));
        if (!j)
            abort();
        j->d = d;
        j->id = strtoll(store_rows_get(rows, r, 0), NULL, 10);
        j->token = strtoll(store_rows_get(rows, r, 1), NULL, 10);
        j->attempt = (int)strtol(store_rows_get(rows, r, 2), NULL, 10);
        j->claimed_ms = now;
        arena_reset(&a);
        detail_ids_set(&j->ids, &a, store_rows_get(rows, r, 10),
                       store_rows_get(rows, r, 12),
                       store_rows_get(rows, r, 11));
        const char *sub = store_rows_get(rows, r, 11);
        if (sub && strlen(sub) < sizeof(j->sub))
            memcpy(j->sub, sub, strlen(sub) + 1);
        j->url = copy_field(store_rows_get(rows, r, 3), WEBHOOK_URL_MAX,
                            false);
        if (!j->url)
            j->url = copy_field("", 0, false);
        j->cleartext = strncasecmp(j->url, "http://", 7) == 0;
        const char *epk = store_rows_get(rows, r, 4);
        j->client_cert = copy_field(store_rows_get(rows, r, 6),
                                    WEBHOOK_PATH_MAX, true);
        j->client_key = copy_field(store_rows_get(rows, r, 7),
                                   WEBHOOK_PATH_MAX, true);
        j->ca_bundle = copy_field(store_rows_get(rows, r, 8),
                                  WEBHOOK_PATH_MAX, true);
        const char *body = store_rows_get(rows, r, 9);
        if (body)
            last_body = body;
        else
            body = last_body;
        j->body = body ? body : "{}";
        j->body_len = strlen(j->body);
        j->rows = held;
        held->holders++;
        /* secrets: rows of one subscription follow each other */
        const char *secrets = store_rows_get(rows, r, 5);
        if (last_signer && secrets && strcmp(secrets, last_signer->text) == 0) {
            last_signer->jobs++;
            j->signer = last_signer;
        } else if (secrets) {
            j->signer = signer_get(d, secrets);
            if (j->signer)
                last_signer = j->signer;
        }
        if (changed && sub_stopped(d, j->sub, d->claimw.went_us)) {
            /* read before the change: handed back, the next claim reads
             * the subscription again */
            result_add(d, j, 0, NULL, 0, "release", 0);
            stat_add(d, &d->stats.released, 1);
            last_signer = NULL;         /* job_free may free it */
            job_free(j);
            continue;
        }
        struct endpoint *e = endpoint_get(d, epk ? epk : "");
        if (!e || !j->signer) {
            /* no usable secret (cannot happen past the CHECK) or too many
             * endpoints: try again later rather than send unsigned */
            result_add(d, j, 0, e ? "no_secret" : "busy", 0,
                       e ? "retry" : "release",
                       scaled(d, webhook_backoff_nominal_ms(1)));
            last_signer = NULL;         /* job_free may free it */
            job_free(j);
            continue;
        }
        j->ep = e;
        if (e->queue_tail)
            e->queue_tail->next = j;
        else
            e->queue = j;
        e->queue_tail = j;
        e->queued++;
        d->queued++;
        e->claimed_now = true;
        if (e->inflight + e->queued >= d->ep_cap)
            e->capped = true;           /* asks for a refill below it */
    }
    arena_release(&a);
    rows_put(held);
}

/* --- the database workers ---------------------------------------------------
 * The loop never waits on PostgreSQL: a request (the outcomes so far, or a
 * claim for the free room) goes to a worker thread, which runs it on its
 * own connection while transfers go on, and writes a byte to its pipe when
 * done. One request per worker is out at a time; the claim worker and the
 * flush worker run side by side. */

int dispatch_db_connect(const struct dispatch *d, struct store **out)
{
    if (store_connect_as(d->cfg.database_url, DISPATCH_DB_APP, out) !=
        HUB_OK) {
        *out = NULL;
        return HUB_EDB;
    }
    store_set_statement_timeout(*out, d->cfg.commit_ms);
    return HUB_OK;
}

static void *db_main(void *arg)
{
    struct dbw *w = arg;
    struct dispatch *d = w->d;

    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->ready && !w->quit)
            pthread_cond_wait(&w->cv, &w->mu);
        if (!w->ready)
            break;                      /* quit, nothing asked */
        w->ready = false;
        pthread_mutex_unlock(&w->mu);

        int rc = HUB_OK, link_rc;
        if (!w->db && dispatch_db_connect(d, &w->db) != HUB_OK)
            w->db = NULL;
        /* a backend that does not answer is cut (F765): a claim cut leased
         * rows that wait for their lease; a flush cut goes again (its cut
         * session is terminated first, F1061: it cannot run the flush
         * later) or the delivery is sent again with its webhook-id. One
         * that did commit before the cut records nothing more: its
         * outcomes' attempt rows are found (F1120, 011_retry_once.sql) */
        unsigned long cuts = w->db ? store_cuts(w->db) : 0;
        if (!w->db)
            rc = HUB_EDB;
        else if (w->is_claim)
            rc = db_claim(d, w->db, &d->rep_rows);
        else if (d->req_n_results > 0)
            rc = db_flush(d, w->db, d->req_results, d->req_n_results);
        link_rc = rc;
        if (w->db && rc == HUB_OK && !w->is_claim && d->req_digest)
            link_rc = db_digest(d, w->db);
        /* (its own transaction: a failed sweep leaves the outcomes
         * recorded, rc theirs) */
        if (w->db && rc == HUB_OK && !w->is_claim && d->req_sweep &&
            (link_rc = db_sweep(d, w->db)) != HUB_OK) {
            d->rep_swept = 0;
            (void)store_ping(w->db);
        }
        for (unsigned long n = w->db ? store_cuts(w->db) : 0; cuts < n;
             cuts++)
            metrics_db_busy(METRIC_DB_DISPATCH_DEADLINE);
        if (w->db && rc != HUB_OK)
            (void)store_ping(w->db);    /* reconnect for the next request */
        /* rc and rep_rows are published by the mutex, the pipe only wakes
         * the loop */
        pthread_mutex_lock(&w->mu);
        w->rc = rc;
        w->link_rc = link_rc;
        w->done = true;
        pthread_mutex_unlock(&w->mu);
        if (write(w->pipe[1], "r", 1) < 0)
            log_warn("dispatch.reply_lost", "errno=%d", errno);

        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void worker_go(struct dbw *w)
{
    w->busy = true;
    w->went_us = mono_us();
    pthread_mutex_lock(&w->mu);
    w->ready = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* Loop side: a reply is in (true once per request). */
static bool worker_reply(struct dbw *w)
{
    char buf[16];
    if (read(w->pipe[0], buf, sizeof(buf)) <= 0 || !w->busy)
        return false;
    pthread_mutex_lock(&w->mu);
    bool done = w->done;
    w->done = false;
    pthread_mutex_unlock(&w->mu);
    if (!done)
        return false;
    w->busy = false;
    w->busy_us += mono_us() - w->went_us;
    stats_publish(w->d);
    return true;
}

/* Loop side: record whether the database answered; one log line per change
 * of state, not one per request of an outage. */
static void note_db(struct dispatch *d, int rc)
{
    bool was_ok = d->db_ok;
    d->db_ok = rc == HUB_OK;
    if (!d->db_ok)
        stat_add(d, &d->stats.db_errors, 1);
    if (was_ok && !d->db_ok)
        log_warn("dispatch.db_unavailable", "code=%s pending_outcomes=%d",
                 hub_strerror(rc), d->req_n_results + d->n_results);
    else if (!was_ok && d->db_ok && d->db_seen)
        log_info("dispatch.db_available", "node=%s", d->node);
    if (d->db_ok)
        d->db_seen = true;
}

/* Loop side: hand the outcomes so far to the flush worker. */
void flush_turn(struct dispatch *d)
{
    int64_t now = mono_ms();
    bool digest = d->cfg.digest_ms > 0 && now >= d->digest_next_ms &&
                  !atomic_load(&d->stopping);
    bool sweep = now >= d->sweep_at_ms && !atomic_load(&d->stopping);
    if (d->n_results == 0 && !digest && !sweep)
        return;
    d->flush_now = false;               /* taken now, or when this is back */
    if (d->flushw.busy) {
        d->flushw.wanted = true;        /* again when this one is back */
        return;
    }
    if (digest) {
        /* looked for ten times an interval (at most a minute apart): a
         * digest comes at most a tenth of its interval late */
        int64_t every = scaled(d, d->cfg.digest_ms) / 10;
        if (every > 60000)
            every = 60000;
        if (every < d->cfg.poll_ms)
            every = d->cfg.poll_ms;
        d->digest_next_ms = now + every;
    }
    d->req_digest = digest;
    if (sweep)
        d->sweep_at_ms = now + DISPATCH_SWEEP_MS;
    d->req_sweep = sweep;
    if (d->n_results > 0)
        results_take(d, DISPATCH_FLUSH_MAX);
    worker_go(&d->flushw);
}

/* Loop side: claim for the free room. */
void claim_turn(struct dispatch *d)
{
    if (atomic_load(&d->stopping))
        return;
    if (d->claimw.busy) {
        d->claimw.wanted = true;        /* again when this one is back */
        return;
    }
    int room = d->cfg.max_inflight * DISPATCH_CLAIMED_FACTOR - d->inflight -
               d->queued;
    if (room <= 0) {
        /* remembered: the new work may be another endpoint's, and nothing
         * else may ask again before the poll (jobs_finished) */
        d->notify_missed = true;
        stat_add(d, &d->stats.room_full, 1);
        return;
    }
    /* the share for the endpoints at it now (F3941) */
    int at_share = 0;
    for (size_t i = 0; i < d->n_eps; i++)
        if (d->eps[i]->inflight + d->eps[i]->queued >= d->ep_cap)
            at_share++;
    d->ep_cap = endpoint_share(&d->cfg, at_share);
    free(d->req_skip);
    d->req_skip = skip_list(d, mono_ms(), d->ep_cap);
    /* at most one endpoint's share a claim: it cannot take more than that
     * of any endpoint's rows, and the claim needs no per-endpoint ranking
     * (the cap cannot bind: hub_claim_deliveries' cheap walk) */
    if (room > d->ep_cap)
        room = d->ep_cap;
    d->req_room = room;
    d->more_due = false;                /* a full claim sets it, see take_claim */
    d->ep_refill = false;
    d->notify_missed = false;           /* this claim looks for it */
    snprintf(d->req_lease, sizeof(d->req_lease), "%d", d->cfg.lease_ms);
    snprintf(d->req_max, sizeof(d->req_max), "%d", room);
    snprintf(d->req_per, sizeof(d->req_per), "%d", d->ep_cap);
    worker_go(&d->claimw);
}

/* Loop side: the flush worker's reply. */
void take_flush(struct dispatch *d)
{
    note_db(d, d->flushw.link_rc);
    if (d->req_sweep) {
        d->req_sweep = false;
        /* more to do: again at the next tick */
        if (d->flushw.rc == HUB_OK && d->rep_swept >= DISPATCH_SWEEP_LIMIT)
            d->sweep_at_ms = 0;
    }
    if (d->req_results) {
        if (d->flushw.rc != HUB_OK)
            results_readd(d, d->req_results, d->req_n_results);
        else
            sub_gone_recorded(d, d->req_results, d->req_n_results);
        free(d->req_results);
        d->req_results = NULL;
        d->req_n_results = 0;
    }
}

/* Loop side: the claim worker's reply. */
void take_claim(struct dispatch *d)
{
    note_db(d, d->claimw.link_rc);
    if (d->rep_rows) {
        bool full = claimed_count(d->rep_rows) >= d->req_room;
        take_claimed(d, d->rep_rows);   /* takes them */
        d->rep_rows = NULL;
        /* a full claim may have left due work behind: claimed again soon,
         * unless every endpoint it served is now at its share (the next
         * claim would only walk past their rows: each asks for one once
         * it is below it) */
        for (size_t i = 0; i < d->n_eps; i++) {
            struct endpoint *e = d->eps[i];
            if (full && e->claimed_now && !e->capped)
                d->more_due = true;
            e->claimed_now = false;
        }
    }
    jobs_pump(d);
    /* an outcome already buffered may be what holds rows back */
    if (d->flush_now && d->n_results > 0)
        flush_turn(d);
}

static void on_flush_reply(evutil_socket_t fd, short what, void *arg)
{
    struct dispatch *d = arg;
    (void)fd;
    (void)what;
    if (!worker_reply(&d->flushw))
        return;
    take_flush(d);
    /* more to record at once: asked meanwhile, or a full batch waiting;
     * after a database failure the next tick (poll_ms) tries again */
    if (d->flushw.rc == HUB_OK &&
        (d->flushw.wanted || d->n_results >= DISPATCH_FLUSH_BATCH)) {
        d->flushw.wanted = false;
        flush_turn(d);
    }
}

static void on_claim_reply(evutil_socket_t fd, short what, void *arg)
{
    struct dispatch *d = arg;
    (void)fd;
    (void)what;
    if (!worker_reply(&d->claimw))
        return;
    take_claim(d);
    if (d->claimw.rc == HUB_OK && d->claimw.wanted) {
        d->claimw.wanted = false;
        claim_turn(d);
    }
}

/* Worker set-up: the pipe and its event; the thread comes with
 * worker_start. HUB_EIO when either cannot be made. */
static int worker_init(struct dispatch *d, struct dbw *w, bool is_claim,
                       event_callback_fn on_reply)
{
    w->d = d;
    w->is_claim = is_claim;
    w->pipe[0] = w->pipe[1] = -1;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pipe(w->pipe) != 0) {
        w->pipe[0] = w->pipe[1] = -1;
        return HUB_EIO;
    }
    fcntl(w->pipe[0], F_SETFL, O_NONBLOCK);
    w->ev = event_new(d->base, w->pipe[0], EV_READ | EV_PERSIST, on_reply, d);
    if (!w->ev)
        return HUB_EIO;
    event_add(w->ev, NULL);
    return HUB_OK;
}

int worker_start(struct dbw *w)
{
    if (pthread_create(&w->thread, NULL, db_main, w) != 0)
        return HUB_EIO;
    w->started = true;
    return HUB_OK;
}

/* The worker finishes its request (if any) and stops; its connection stays
 * for the caller (the last outcomes are written on it). */
void worker_join(struct dbw *w)
{
    if (!w->started)
        return;
    pthread_mutex_lock(&w->mu);
    w->quit = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    w->started = false;
}

/* After worker_join (or when it never started). */
void worker_release(struct dbw *w)
{
    store_free(w->db);
    w->db = NULL;
    if (!w->d)
        return;                         /* worker_init never ran */
    if (w->ev)
        event_free(w->ev);
    w->ev = NULL;
    if (w->pipe[0] >= 0) {
        close(w->pipe[0]);
        close(w->pipe[1]);
    }
    w->pipe[0] = w->pipe[1] = -1;
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
}

/* Both workers' pipes and events (HUB_EIO when one cannot be made); their
 * threads come with worker_start. */
int workers_init(struct dispatch *d)
{
    if (worker_init(d, &d->flushw, false, on_flush_reply) != HUB_OK ||
        worker_init(d, &d->claimw, true, on_claim_reply) != HUB_OK)
        return HUB_EIO;
    return HUB_OK;
}

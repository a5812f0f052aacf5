/*
 * prune.c - the retention's runs: hub_prune_step (001_init.sql) called
 * step after step, each its own transaction, under one advisory lock; and
 * hubd's thread that runs them on a timer.
 */
#include "prune.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/hub_err.h"
#include "config.h"
#include "log.h"
#include "store.h"

/* the retention's own lock (the chain lock is 7302100431, migrations
 * 7302100432): one run at a time across every hubd and hubctl, held by the
 * session, so it is gone with a connection that dies */
#define PRUNE_LOCK "7302100433"

static const char *const table_names[PRUNE_NTABLES] = {
    "deliveries", "events", "messages", "audit",
};

const char *prune_table_name(enum prune_table t)
{
    return t < PRUNE_NTABLES ? table_names[t] : "?";
}

void prune_config_from(struct prune_config *pc, const struct hub_config *h)
{
    memset(pc, 0, sizeof(*pc));
    pc->days[PRUNE_DELIVERIES] = h->retain_deliveries_days;
    pc->days[PRUNE_EVENTS] = h->retain_events_days;
    pc->days[PRUNE_MESSAGES] = h->retain_messages_days;
    pc->days[PRUNE_AUDIT] = h->retain_audit_days;
    pc->batch = h->prune_batch;
    pc->actor = "hubd";
}

/* Steps through one table until hub_prune_step says it is done. */
static int prune_table(struct store *s, const struct prune_config *pc,
                       enum prune_table t, bool dry, struct prune_report *r)
{
    char days[16], batch[16], ddays[16], after[64] = "";
    int rc = HUB_OK;

    snprintf(days, sizeof(days), "%d", pc->days[t]);
    snprintf(batch, sizeof(batch), "%d", pc->batch);
    snprintf(ddays, sizeof(ddays), "%d", pc->days[PRUNE_DELIVERIES]);
    for (;;) {
        const char *p[] = { table_names[t], days, after[0] ? after : NULL,
                            batch, dry ? "true" : "false", ddays };
        struct store_rows *rows = NULL;

        if (pc->stop && atomic_load(pc->stop))
            break;
        rc = store_query_prepared(s, "prune.step",
            "SELECT pruned, next_after, done FROM "
            "hub_prune_step($1, $2::int, $3, $4::int, $5::boolean, $6::int)",
            6, p, &rows);
        if (rc != HUB_OK)
            break;
        const char *n = store_rows_get(rows, 0, 0);
        const char *next = store_rows_get(rows, 0, 1);
        const char *done = store_rows_get(rows, 0, 2);
        if (n == NULL || next == NULL || done == NULL ||
            strlen(next) >= sizeof(after)) {
            store_rows_free(rows);
            rc = HUB_EDB;
            break;
        }
        int64_t k = strtoll(n, NULL, 10);
        r->rows[t] += k;
        r->steps[t]++;
        if (k > 0)
            r->batches[t]++;
        if (k > r->max_step[t])
            r->max_step[t] = k;
        log_debug("prune.step", "table=%s rows=%lld", table_names[t],
                  (long long)k);
        snprintf(after, sizeof(after), "%s", next);
        bool finished = done[0] == 't';
        store_rows_free(rows);
        if (finished)
            break;
    }
    log_info("prune.table", "table=%s days=%d rows=%lld steps=%lld dry=%d",
             table_names[t], pc->days[t], (long long)r->rows[t],
             (long long)r->steps[t], (int)dry);
    return rc;
}

/* The run's one audit row: counts and the anchor, no personal data. */
static int prune_audit(struct store *s, const struct prune_config *pc,
                       const struct prune_report *r)
{
    char detail[256];
    int64_t steps = 0;

    for (int t = 0; t < PRUNE_NTABLES; t++)
        steps += r->steps[t];
    snprintf(detail, sizeof(detail),
             "{\"deliveries\":%lld,\"events\":%lld,\"messages\":%lld,"
             "\"audit\":%lld,\"steps\":%lld,\"anchor_seq\":%lld}",
             (long long)r->rows[PRUNE_DELIVERIES],
             (long long)r->rows[PRUNE_EVENTS],
             (long long)r->rows[PRUNE_MESSAGES],
             (long long)r->rows[PRUNE_AUDIT], (long long)steps,
             (long long)r->anchor_seq);
    return store_audit_append(s, pc->actor ? pc->actor : "hubd",
                              "retention.pruned", "retention", "run", NULL,
                              detail);
}

int prune_run(struct store *s, const struct prune_config *pc, bool dry,
              struct prune_report *r)
{
    char *got = NULL;
    int rc;

    memset(r, 0, sizeof(*r));
    rc = store_query_text(s, "SELECT pg_try_advisory_lock(" PRUNE_LOCK
                          ")::text", 0, NULL, &got);
    if (rc != HUB_OK)
        return rc;
    bool locked = got && !strcmp(got, "true");
    free(got);
    if (!locked) {
        r->busy = true;
        log_info("prune.busy", "why=\"%s\"", "another run holds the lock");
        return HUB_OK;
    }
    if (pc->days[PRUNE_AUDIT] > 0 &&
        pc->days[PRUNE_AUDIT] < CONFIG_AUDIT_MIN_DAYS)
        log_warn("prune.audit_short", "days=%d min=%d why=\"%s\"",
                 pc->days[PRUNE_AUDIT], CONFIG_AUDIT_MIN_DAYS,
                 "HIPAA keeps audit documentation six years");
    /* deliveries first: an event goes only once no deliveries row names it */
    for (int t = 0; t < PRUNE_NTABLES && rc == HUB_OK; t++)
        if (pc->days[t] > 0)
            rc = prune_table(s, pc, (enum prune_table)t, dry, r);
    if (rc == HUB_OK) {
        got = NULL;
        rc = store_query_text(s, "SELECT seq::text FROM audit_anchor", 0,
                              NULL, &got);
        r->anchor_seq = got ? strtoll(got, NULL, 10) : 0;
        free(got);
    }
    if (rc == HUB_OK && !dry)
        rc = prune_audit(s, pc, r);
    /* a failed connection released the lock with the session */
    if (store_exec(s, "SELECT pg_advisory_unlock(" PRUNE_LOCK ")") != HUB_OK)
        log_warn("prune.unlock_failed", "why=\"%s\"", "the session went away");
    log_info("prune.done", "deliveries=%lld events=%lld messages=%lld "
             "audit=%lld anchor_seq=%lld dry=%d code=%s",
             (long long)r->rows[PRUNE_DELIVERIES],
             (long long)r->rows[PRUNE_EVENTS],
             (long long)r->rows[PRUNE_MESSAGES],
             (long long)r->rows[PRUNE_AUDIT], (long long)r->anchor_seq,
             (int)dry, hub_strerror(rc));
    return rc;
}

/* --- hubd's thread ------------------------------------------------------ */

struct pruner {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_bool stop;
    char url[1024];
    int interval;                   /* seconds */
    struct prune_config pc;
};

/* Sleep `secs` or until stopped; true when stopped. */
static bool pruner_wait(struct pruner *p, int secs)
{
    struct timespec until;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += secs;
    pthread_mutex_lock(&p->mu);
    while (!atomic_load(&p->stop) &&
           pthread_cond_timedwait(&p->cv, &p->mu, &until) == 0)
        ;
    pthread_mutex_unlock(&p->mu);
    return atomic_load(&p->stop);
}

static void *pruner_main(void *arg)
{
    struct pruner *p = arg;
    struct store *s = NULL;
    /* the first run ten minutes after the start (sooner with a shorter
     * interval): a hubd restarted more often than the interval still
     * prunes, and a start stays quiet */
    int wait = p->interval < 600 ? p->interval : 600;

    while (!pruner_wait(p, wait)) {
        struct prune_report rep;
        wait = p->interval;
        if (s == NULL && store_connect_as(p->url, "hub-prune", &s) != HUB_OK) {
            s = NULL;
            log_warn("prune.no_database", "retry_s=%d", wait < 60 ? wait : 60);
            wait = wait < 60 ? wait : 60;
            continue;
        }
        if (prune_run(s, &p->pc, false, &rep) != HUB_OK) {
            /* a fresh connection for the next run */
            store_free(s);
            s = NULL;
            wait = wait < 60 ? wait : 60;
        }
    }
    store_free(s);
    return NULL;
}

int pruner_start(const struct hub_config *h, struct pruner **out)
{
    pthread_condattr_t ca;

    *out = NULL;
    if (h->prune_interval <= 0)
        return HUB_OK;
    struct pruner *p = calloc(1, sizeof(*p));
    if (p == NULL)
        abort();
    snprintf(p->url, sizeof(p->url), "%s", h->database_url);
    p->interval = h->prune_interval;
    prune_config_from(&p->pc, h);
    p->pc.stop = &p->stop;
    atomic_init(&p->stop, false);
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&p->thread, NULL, pruner_main, p) != 0) {
        pthread_cond_destroy(&p->cv);
        pthread_mutex_destroy(&p->mu);
        free(p);
        return HUB_EIO;
    }
    log_info("prune.started", "interval_s=%d batch=%d", p->interval,
             p->pc.batch);
    *out = p;
    return HUB_OK;
}

void pruner_stop(struct pruner *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stop, true);
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

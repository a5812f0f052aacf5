/*
 * prune.h - the retention: deletes what is older than its table's
 * retention, in bounded batches (hub_prune_step in 001_init.sql and 020,
 * one short transaction each, never the chain lock), and records each run
 * in the audit chain ('retention.pruned', counts only). What goes, in this
 * order: finished deliveries, events no deliveries row names (with their
 * routes; each organization that could read one keeps the highest seq
 * removed as its feed's mark: store_events_page), raw messages and
 * quarantine, the oldest audit rows (the retention anchor moves with them,
 * and the chain verifies from it).
 *
 * One run at a time across every hubd and hubctl: a run holds a session
 * advisory lock (pg_try_advisory_lock) and a second one returns at once.
 * hubd runs it on a thread of its own with its own connection, every
 * prune_interval seconds; `hubctl prune [--dry-run]` runs it once.
 */
#ifndef HUB_PRUNE_H
#define HUB_PRUNE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct store;
struct hub_config;
struct pruner;

enum prune_table {
    PRUNE_DELIVERIES,
    PRUNE_EVENTS,
    PRUNE_MESSAGES,
    PRUNE_AUDIT,
    PRUNE_NTABLES
};

struct prune_config {
    int days[PRUNE_NTABLES];        /* 0: keep forever */
    int batch;                      /* rows per transaction */
    const char *actor;              /* of the audit row: "hubd", "hubctl" */
    atomic_bool *stop;              /* NULL, or set: stop after the step */
};

struct prune_report {
    bool busy;                      /* another run held the lock: none ran */
    int64_t rows[PRUNE_NTABLES];    /* pruned (dry run: would be) */
    int64_t steps[PRUNE_NTABLES];   /* transactions, the last one empty too */
    int64_t batches[PRUNE_NTABLES]; /* the steps that removed (would) rows */
    int64_t max_step[PRUNE_NTABLES]; /* most rows one step removed */
    int64_t anchor_seq;             /* the retention anchor after the run */
};

/* The table's name as hub_prune_step and the reports spell it. */
const char *prune_table_name(enum prune_table t);

/* The settings of hub/config.h (retain_*_days, prune_batch). */
void prune_config_from(struct prune_config *pc, const struct hub_config *h);

/*
 * One run over every table with a retention. dry: count only, delete
 * nothing, append no audit row. HUB_OK with r->busy when another run holds
 * the lock; HUB_EDB when the database failed (what went before stays
 * pruned: each step commits). Logs each table's count ('prune.table'),
 * never a row's content.
 */
int prune_run(struct store *s, const struct prune_config *pc, bool dry,
              struct prune_report *r) __attribute__((warn_unused_result));

/* hubd: a thread that runs prune_run every h->prune_interval seconds (the
 * first run after at most ten minutes), with its own connection,
 * reconnecting after a failure (then retrying within a minute). Nothing
 * starts when prune_interval is 0 (*out NULL). */
int pruner_start(const struct hub_config *h, struct pruner **out)
    __attribute__((warn_unused_result));
/* Stop and join (a step in flight finishes first). NULL is fine. */
void pruner_stop(struct pruner *p);

#endif

/*
 * subs.h - subscriptions and deliveries as the API routes and hubctl see
 * them: validate (webhook.h), then one audited SQL function of
 * 001_init.sql each. Results are malloc'd JSON the caller frees.
 *
 * `org` scopes every call to one subscriber's own subscriptions and
 * deliveries; NULL means the operator (every org). `actor` is who is
 * acting, for the audit row (an org id, or "hubctl").
 * Errors: HUB_EINVALID / HUB_ESYNTAX / HUB_EUNSUPPORTED with *err filled
 * (field + static reason), HUB_ENOTFOUND, HUB_EDB.
 */
#ifndef HUB_SUBS_H
#define HUB_SUBS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/hub_err.h"
#include "store.h"

#define SUBS_REPLAY_MAX 10000       /* deliveries per replay command */

/* An Idempotency-Key on a creation (F764, 009_subscription_keys.sql). */
struct subs_key {
    const char *key;            /* NULL or "": none; else 1-256 printable
                                   characters (ingest_docs_key_ok) */
    bool replayed;              /* out: the key's first creation answered */
    bool differs;               /* out: the key was used for another body
                                   (HUB_EINVALID, err names
                                   Idempotency-Key) */
};
/* Within 24 hours of its first use (the window is the database's:
 * hub_sub_create_keyed, migration 009), a key of `actor` sent again with
 * the same owner and body answers that creation's subscription (as it is
 * now, with its secrets) and creates nothing. */

/* create and update: HUB_EAUTH (err names filters.sensitivity) when a label
 * listed there was not granted to the organization (hubctl org update
 * --labels); HUB_EINVALID and the like for what webhook_sub_validate or the
 * schema refuse (whatever the key: nothing is kept under it). key may be
 * NULL. */
int subs_create(struct store *s, const char *actor, const char *org,
                const char *json, size_t len, struct subs_key *key,
                char **out, struct hub_err *err)
    __attribute__((warn_unused_result));
int subs_update(struct store *s, const char *actor, const char *org,
                const char *id, const char *json, size_t len, char **out,
                struct hub_err *err) __attribute__((warn_unused_result));
/* status: "paused" or "active" (resume); pause stops retries at once.
 * HUB_EUNSUPPORTED for a pull subscription: it has no deliveries to hold
 * (its events are in the feed as routed; a delete stops its routing). */
int subs_set_status(struct store *s, const char *actor, const char *org,
                    const char *id, const char *status, char **out)
    __attribute__((warn_unused_result));
int subs_delete(struct store *s, const char *actor, const char *org,
                const char *id) __attribute__((warn_unused_result));
/* A test event (hub.test, no patient) to the webhook subscription `id`
 * alone, sent by the dispatcher as any delivery (hub_sub_test):
 * {"event","delivery","subscription","subscription_status"} into *out.
 * HUB_ENOTFOUND when `org` (NULL: an operator) has no such live
 * subscription, HUB_EUNSUPPORTED for a pull subscription. */
int subs_test(struct store *s, const char *actor, const char *org,
              const char *id, char **out) __attribute__((warn_unused_result));
/* Whether a subs_test answer's subscription is not active, so that its test
 * waits for a resume. */
bool subs_test_waits(const char *answer);
/* With its secrets (the owner or the operator asked for this one). */
int subs_get(struct store *s, const char *org, const char *id, char **out)
    __attribute__((warn_unused_result));
/* {"subscriptions":[...]}, secrets left out */
int subs_list(struct store *s, const char *org, char **out)
    __attribute__((warn_unused_result));

/* Whether id has a subscription id's shape ("sub_" and lower-case hex, at
 * most 64 bytes): ids come from URLs and command lines, and are checked
 * before they reach SQL (as parameters anyway, never spliced). */
bool subs_id_ok(const char *id);

/* {"deliveries":[...],"next":<id>}: newest first; sub, status may be NULL
 * (HUB_EINVALID when either is malformed); before = 0 from the newest;
 * limit 1..1000. */
int deliveries_list(struct store *s, const char *org, const char *sub,
                    const char *status, long long before, int limit,
                    char **out) __attribute__((warn_unused_result));
/* "dlv_<n>" or "<n>"; HUB_ENOTFOUND when not found or not at rest
 * (pending or being delivered); HUB_EUNSUPPORTED, nothing replayed, when
 * its subscription has moved to the pull feed (it has no endpoint). */
int deliveries_replay(struct store *s, const char *actor, const char *org,
                      const char *id) __attribute__((warn_unused_result));
/* Replay a subscription's deliveries created in [from, to) (ISO 8601 as
 * hub_parse_ts() reads it: no offset is UTC) in status `status` (NULL:
 * dead), at most max (capped at SUBS_REPLAY_MAX). *n_out: how many.
 * HUB_EINVALID with err naming "from" or "to" when one is no time or to is
 * not after from; HUB_ENOTFOUND: no subscription `sub` of `org` (NULL: of
 * any); HUB_EUNSUPPORTED, nothing replayed: `sub` is a pull subscription. */
int deliveries_replay_range(struct store *s, const char *actor,
                            const char *org, const char *sub,
                            const char *from, const char *to,
                            const char *status, int max, int *n_out,
                            struct hub_err *err)
    __attribute__((warn_unused_result));
/* After a replay: the subscription of delivery `dlv` (or, dlv NULL, `sub`)
 * and its state: "active", "paused", "disabled" (a replay waits for a
 * resume) or "deleted" (a replay is never sent). HUB_ENOTFOUND, HUB_EDB. */
int subs_replay_state(struct store *s, const char *dlv, const char *sub,
                      char id[80], char state[16])
    __attribute__((warn_unused_result));

/* The delivery backlog for /metrics: open deliveries of active
 * subscriptions due now (not leased: claimable), due later (a retry's
 * back-off), leased (being delivered), held (not leased, of a paused,
 * disabled or deleted subscription: waiting for a resume), the oldest due
 * one's age, and (with_dead; else -1) dead letters. One statement: the
 * queue is the open work only; the dead count scans deliveries (an index
 * of the dead ones would name status, and every first failure, dead
 * letter and replay would then write an entry in each index of deliveries
 * instead of a HOT update: not done). */
struct deliveries_backlog {
    long long due, scheduled, leased, held, dead;
    /* due by their time, but behind an earlier open delivery of their
     * subscription and patient (the per-patient order): no claim takes
     * them until that one is delivered or dead; not in due, nor in
     * oldest_due_s, which would otherwise grow through a retry schedule
     * of days while the dispatcher is well */
    long long blocked;
    double oldest_due_s;
};
int deliveries_backlog(struct store *s, bool with_dead,
                       struct deliveries_backlog *b)
    __attribute__((warn_unused_result));

/* Live subscriptions (not deleted) by health, for /metrics, in the order
 * of SUBS_HEALTH_NAMES: healthy, failing, dead-lettering, disabled. */
#define SUBS_HEALTH_NAMES { "healthy", "failing", "dead-lettering", "disabled" }
int subs_health_counts(struct store *s, long long n[4])
    __attribute__((warn_unused_result));

#endif

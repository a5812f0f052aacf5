/*
 * subs.c - subscriptions and deliveries for the API and hubctl (subs.h):
 * validation in C (webhook.c), then one audited SQL function each
 * (001_init.sql) through the store's plain-SQL door.
 */
#include "subs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webhook.h"

bool subs_id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    return n > 4 && n <= 64 && strncmp(id, "sub_", 4) == 0 &&
           strspn(id + 4, "0123456789abcdef") == n - 4;
}

static int one_text(struct store *s, const char *sql, int n,
                    const char *const *p, char **out)
{
    int rc = store_query_text(s, sql, n, p, out);
    if (rc != HUB_OK)
        return rc;
    return *out ? HUB_OK : HUB_ENOTFOUND;
}

/* The database refused a sensitivity label the organization was not
 * granted (hub_sub_labels_granted, SQLSTATE 23H01): say so, and who
 * grants it. */
static bool labels_refused(struct store *s, struct hub_err *err)
{
    if (strcmp(store_last_sqlstate(s), "23H01") != 0)
        return false;
    hub_err_set(err, HUB_EAUTH, "filters.sensitivity", 0,
                "the organization is not granted a label listed: sensitive "
                "data is opt-in by an operator's grant (hubctl org update "
                "ORG --labels ...)");
    return true;
}

int subs_create(struct store *s, const char *actor, const char *org,
                const char *json, size_t len, struct subs_key *key,
                char **out, struct hub_err *err)
{
    struct webhook_sub_check c = { .partial = false };
    char hash[65];
    int rc;

    *out = NULL;
    if (key) {
        key->replayed = false;
        key->differs = false;
    }
    if (!org)
        return hub_err_set(err, HUB_EINVALID, "org", 0,
                           "subscription has no owner organization");
    rc = webhook_sub_validate(json, len, &c, err);
    if (rc != HUB_OK)
        return rc;
    if (key && key->key && *key->key) {
        /* the owner, then the body as sent: the same key for another
         * organization is another request */
        size_t n = strlen(org);
        char *b = malloc(n + 1 + len);
        if (!b)
            abort();
        memcpy(b, org, n);
        b[n] = '\n';
        memcpy(b + n + 1, json, len);
        store_sha256_hex(b, n + 1 + len, hash);
        free(b);
        const char *p[] = { actor, org, c.json_out, key->key, hash };
        /* one text: D (the key names another body), R (a replay) or C (made
         * now), then the subscription */
        rc = one_text(s, "SELECT CASE WHEN differs THEN 'D' "
                      "WHEN replayed THEN 'R' || sub::text "
                      "ELSE 'C' || sub::text END FROM "
                      "hub_sub_create_keyed($1, $2, $3::jsonb, $4, $5)",
                      5, p, out);
        if (rc == HUB_OK) {
            char *t = *out;
            key->differs = t[0] == 'D';
            key->replayed = t[0] == 'R';
            memmove(t, t + 1, strlen(t));
            if (key->differs || *t != '{') {
                free(t);
                *out = NULL;
                rc = key->differs ? HUB_EINVALID : HUB_EDB;
                if (key->differs)
                    hub_err_set(err, rc, "Idempotency-Key", 0,
                                "idempotency key was already used for "
                                "another body; nothing was created");
            }
        }
    } else {
        const char *p[] = { actor, org, c.json_out };
        rc = one_text(s, "SELECT hub_sub_create($1, $2, $3::jsonb)::text", 3,
                      p, out);
    }
    free(c.json_out);
    if (key && key->differs)
        return rc;
    if (rc == HUB_EINVALID && labels_refused(s, err))
        return HUB_EAUTH;
    if (rc == HUB_EINVALID &&
        strcmp(store_last_sqlstate(s), "23503") == 0)  /* the owner's key */
        hub_err_set(err, rc, "org", 0,
                    "no such organization (hubctl org list)");
    else if (rc == HUB_EINVALID)    /* a CHECK the validator let through */
        hub_err_set(err, rc, "", 0,
                    "the subscription is inconsistent (a check of the "
                    "database refused it)");
    return rc;
}

int subs_update(struct store *s, const char *actor, const char *org,
                const char *id, const char *json, size_t len, char **out,
                struct hub_err *err)
{
    struct webhook_sub_check c = { .partial = true };
    char *current = NULL;
    int rc;

    *out = NULL;
    if (!subs_id_ok(id))
        return HUB_ENOTFOUND;
    /* the stored topics and filters, for the check of the ones the update
     * names against the ones it leaves (none found: the update below says
     * so) */
    if (subs_get(s, org, id, &current) == HUB_OK)
        c.current = current;
    rc = webhook_sub_validate(json, len, &c, err);
    free(current);
    if (rc != HUB_OK)
        return rc;
    const char *p[] = { actor, org, id, c.json_out };
    rc = one_text(s, "SELECT hub_sub_update($1, $2, $3, $4::jsonb)::text", 4,
                  p, out);
    free(c.json_out);
    if (rc == HUB_EINVALID && labels_refused(s, err))
        return HUB_EAUTH;
    if (rc == HUB_EINVALID)     /* a CHECK: e.g. a pull subscription given
                                   a URL, a webhook one left without */
        hub_err_set(err, rc, "mode", 0,
                    "update leaves the subscription inconsistent");
    return rc;
}

int subs_set_status(struct store *s, const char *actor, const char *org,
                    const char *id, const char *status, char **out)
{
    char doc[64];
    struct hub_err err;

    if (strcmp(status, "paused") != 0 && strcmp(status, "active") != 0)
        return HUB_EINVALID;
    if (!subs_id_ok(id))
        return HUB_ENOTFOUND;
    /* a pull subscription has no deliveries to hold: its events are in the
     * feed as they are routed, paused or not, and a pause answered as done
     * said otherwise (F1965); refused as its test is */
    char *mode = NULL;
    const char *p[] = { org, id };
    int rc = one_text(s, "SELECT mode FROM subscriptions WHERE id = $2 AND "
                      "deleted_at IS NULL AND ($1::text IS NULL OR "
                      "org_id = $1)", 2, p, &mode);
    if (rc != HUB_OK)
        return rc;
    bool pull = strcmp(mode, "pull") == 0;
    free(mode);
    if (pull)
        return HUB_EUNSUPPORTED;
    snprintf(doc, sizeof(doc), "{\"status\":\"%s\"}", status);
    return subs_update(s, actor, org, id, doc, strlen(doc), out, &err);
}

int subs_delete(struct store *s, const char *actor, const char *org,
                const char *id)
{
    char *v = NULL;

    if (!subs_id_ok(id))
        return HUB_ENOTFOUND;
    const char *p[] = { actor, org, id };
    int rc = one_text(s, "SELECT hub_sub_delete($1, $2, $3)::text", 3, p, &v);
    if (rc == HUB_OK && strcmp(v, "true") != 0 && strcmp(v, "t") != 0)
        rc = HUB_ENOTFOUND;
    free(v);
    return rc;
}

int subs_test(struct store *s, const char *actor, const char *org,
              const char *id, char **out)
{
    *out = NULL;
    if (!subs_id_ok(id))
        return HUB_ENOTFOUND;
    const char *p[] = { actor, org, id };
    int rc = one_text(s, "SELECT hub_sub_test($1, $2, $3)::text", 3, p, out);
    if (rc == HUB_OK && strstr(*out, "\"mode\"") != NULL) {
        free(*out);
        *out = NULL;
        rc = HUB_EUNSUPPORTED;
    }
    return rc;
}

bool subs_test_waits(const char *answer)
{
    /* jsonb's text form, as hub_sub_test returns it */
    return strstr(answer, "\"subscription_status\": \"active\"") == NULL;
}

int subs_get(struct store *s, const char *org, const char *id, char **out)
{
    *out = NULL;
    if (!subs_id_ok(id))
        return HUB_ENOTFOUND;
    const char *p[] = { org, id };
    return one_text(s,
        "SELECT hub_sub_json(s, true)::text FROM subscriptions s "
        "WHERE s.id = $2 AND s.deleted_at IS NULL "
        "AND ($1::text IS NULL OR s.org_id = $1)", 2, p, out);
}

int subs_list(struct store *s, const char *org, char **out)
{
    const char *p[] = { org };
    /* an organization that does not exist (a typo) is HUB_ENOTFOUND, no
     * empty list read as "it has none" (F3125) */
    return one_text(s,
        "SELECT CASE WHEN $1::text IS NULL OR EXISTS (SELECT 1 FROM "
        "organizations o WHERE o.id = $1) THEN "
        "json_build_object('subscriptions', coalesce(json_agg("
        "hub_sub_json(s, false) ORDER BY s.created_at, s.id), '[]'))::text "
        "END FROM subscriptions s WHERE s.deleted_at IS NULL "
        "AND ($1::text IS NULL OR s.org_id = $1)", 1, p, out);
}

int deliveries_list(struct store *s, const char *org, const char *sub,
                    const char *status, long long before, int limit,
                    char **out)
{
    char b[24], l[16];
    static const char *const statuses[] = { "pending", "delivering",
        "delivered", "failed", "dead", "cancelled", NULL };
    bool ok = status == NULL;

    for (size_t i = 0; !ok && statuses[i]; i++)
        ok = strcmp(status, statuses[i]) == 0;
    /* a mistyped subscription listed nothing, as if it had no deliveries */
    if (!ok || (sub && !subs_id_ok(sub)))
        return HUB_EINVALID;
    snprintf(b, sizeof(b), "%lld", before < 0 ? 0 : before);
    snprintf(l, sizeof(l), "%d", limit < 1 ? 100 : limit > 1000 ? 1000 : limit);
    const char *p[] = { org, sub, status, b, l };
    /* a subscription that does not exist, or is another organization's,
     * is HUB_ENOTFOUND, the two alike: no empty list read as "it has no
     * deliveries" (F3129), and nothing said of another's. A deleted one's
     * deliveries are still listed. */
    int rc = one_text(s, "SELECT CASE WHEN $2::text IS NULL OR EXISTS "
                         "(SELECT 1 FROM subscriptions WHERE id = $2 AND "
                         "($1::text IS NULL OR org_id = $1)) THEN "
                         "hub_deliveries_page($1, $2, $3, $4::bigint, "
                         "$5::int) END", 5, p, out);
    /* deliveries of an ingest not yet flushed are visible: durable before
     * they are shown (store_durable) */
    if (rc == HUB_OK && (rc = store_durable(s)) != HUB_OK) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

/* "dlv_123" or "123" -> 123; 0 when malformed */
static long long delivery_num(const char *id)
{
    if (!id)
        return 0;
    if (strncmp(id, "dlv_", 4) == 0)
        id += 4;
    char *end;
    errno = 0;
    long long v = strtoll(id, &end, 10);
    if (errno || end == id || *end || v <= 0)
        return 0;
    return v;
}

int deliveries_replay(struct store *s, const char *actor, const char *org,
                      const char *id)
{
    char num[24], *v = NULL;
    long long n = delivery_num(id);

    if (n == 0)
        return HUB_ENOTFOUND;
    snprintf(num, sizeof(num), "%lld", n);
    const char *p[] = { actor, org, num };
    /* NULL: its subscription moved to the pull feed, and a replay was
     * sent to the URL it had before (F4160, 031) */
    int rc = one_text(s, "SELECT coalesce(hub_replay_delivery($1, $2, "
                      "$3::bigint)::text, 'pull')", 3, p, &v);
    if (rc == HUB_OK && strcmp(v, "pull") == 0)
        rc = HUB_EUNSUPPORTED;
    else if (rc == HUB_OK && strcmp(v, "true") != 0)
        rc = HUB_ENOTFOUND;
    free(v);
    return rc;
}

int deliveries_replay_range(struct store *s, const char *actor,
                            const char *org, const char *sub,
                            const char *from, const char *to,
                            const char *status, int max, int *n_out,
                            struct hub_err *err)
{
    char m[16], *v = NULL;

    *n_out = 0;
    if (!subs_id_ok(sub))
        return hub_err_set(err, HUB_EINVALID, "subscription", 0,
                           "is not a subscription id");
    if (!from || !to || !*from || !*to)
        return hub_err_set(err, HUB_EINVALID, from && *from ? "to" : "from",
                           0, "replay needs a time range");
    if (status && strcmp(status, "dead") && strcmp(status, "failed") &&
        strcmp(status, "delivered"))
        return hub_err_set(err, HUB_EINVALID, "status", 0,
                           "is not dead, failed or delivered");
    if (max < 1 || max > SUBS_REPLAY_MAX)
        return hub_err_set(err, HUB_EINVALID, "max", 0,
                           "is not 1 to 10000");
    snprintf(m, sizeof(m), "%d", max);
    const char *p[] = { actor, org, sub, from, to, status ? status : "dead",
                        m };
    /* the times as the feed's since= reads them (hub_parse_ts: ISO 8601, no
     * offset is UTC), each named when it is none: a ::timestamptz cast
     * took "tomorrow", "epoch" and 12/05/2026 (month first or day first by
     * the server's DateStyle), read a time without an offset in the
     * server's zone, and a bad "to" was reported as "from" (F301); a range
     * that ends before it starts replayed nothing, said as {"replayed":0} */
    int rc = one_text(s,
        "SELECT CASE WHEN hub_parse_ts($4) IS NULL THEN 'from' "
        "WHEN hub_parse_ts($5) IS NULL THEN 'to' "
        "WHEN hub_parse_ts($4) >= hub_parse_ts($5) THEN 'order' "
        "ELSE hub_replay_range($1, $2, $3, hub_parse_ts($4), "
        "hub_parse_ts($5), ARRAY[$6::text], $7::int)::text END", 7, p, &v);
    if (rc == HUB_OK && (strcmp(v, "from") == 0 || strcmp(v, "to") == 0)) {
        hub_err_set(err, HUB_EINVALID, v[0] == 'f' ? "from" : "to", 0,
                    "is not a date or time (2026-12-05, "
                    "2026-12-05T04:00:00Z; no offset: UTC)");
        rc = HUB_EINVALID;
    } else if (rc == HUB_OK && strcmp(v, "order") == 0) {
        hub_err_set(err, HUB_EINVALID, "to", 0,
                    "is not after from: the range is from up to to");
        rc = HUB_EINVALID;
    } else if (rc == HUB_EINVALID) {
        /* the shape holds but the cast refused it (an offset past
         * +-15:59): which one is asked alone, so that a bad "to" is not
         * named "from" (F390) */
        char *one = NULL;
        bool from_bad = one_text(s, "SELECT hub_parse_ts($1)::text", 1,
                                 &from, &one) == HUB_EINVALID;
        free(one);
        hub_err_set(err, rc, from_bad ? "from" : "to", 0,
                    "is not a date or time (2026-12-05, "
                    "2026-12-05T04:00:00Z; no offset: UTC)");
    } else if (rc == HUB_OK && strcmp(v, "-1") == 0) {
        rc = HUB_EUNSUPPORTED;      /* a pull subscription (F4160, 031) */
    } else if (rc == HUB_OK) {
        *n_out = (int)strtol(v, NULL, 10);
    }
    free(v);
    return rc;
}

/* a subscription's state as a replay's answer reports it (alias s) */
#define SUB_STATE "CASE WHEN s.deleted_at IS NULL THEN s.status " \
                  "ELSE 'deleted' END"

int subs_replay_state(struct store *s, const char *dlv, const char *sub,
                      char id[80], char state[16])
{
    char num[24], *v = NULL, *st = NULL;
    long long n = dlv ? delivery_num(dlv) : 0;
    const char *p[] = { num };
    int rc = HUB_ENOTFOUND;

    snprintf(num, sizeof(num), "%lld", n);
    if (dlv && n > 0)
        rc = one_text(s, "SELECT s.id || ' ' || " SUB_STATE " FROM "
                      "deliveries d JOIN subscriptions s "
                      "ON s.id = d.subscription_id WHERE d.id = $1::bigint",
                      1, p, &v);
    else if (!dlv && subs_id_ok(sub))
        rc = one_text(s, "SELECT s.id || ' ' || " SUB_STATE " FROM "
                      "subscriptions s WHERE s.id = $1", 1, &sub, &v);
    if (rc == HUB_OK && ((st = strchr(v, ' ')) == NULL ||
                         (size_t)(st - v) >= 80 || strlen(st + 1) >= 16))
        rc = HUB_ENOTFOUND;
    if (rc == HUB_OK) {
        *st++ = '\0';
        memcpy(id, v, strlen(v) + 1);   /* may be `sub` itself */
        memcpy(state, st, strlen(st) + 1);
    } else {
        id[0] = state[0] = '\0';
    }
    free(v);
    return rc;
}

int deliveries_backlog(struct store *s, bool with_dead,
                       struct deliveries_backlog *b)
{
    const char *p[] = { with_dead ? "true" : "false" };
    char *v = NULL;
    int rc = one_text(s,
        /* on_: claimable but for its time (the row not held: due_at not
         * 'infinity'; its subscription active: a row the sweep has not
         * held yet counts as held, as no claim takes it). behind_: due,
         * but an earlier open row of its subscription and patient comes
         * first, as hub_claim_deliveries() finds it (the order index),
         * probed for due rows only (a CASE: not for held or scheduled
         * ones) */
        "SELECT concat_ws(' ', "
        "count(*) FILTER (WHERE due_ AND NOT behind_), "
        "count(*) FILTER (WHERE q.lease_until IS NULL AND on_ "
        "AND q.due_at > now()), "
        "count(*) FILTER (WHERE q.lease_until IS NOT NULL), "
        "count(*) FILTER (WHERE q.lease_until IS NULL AND NOT on_), "
        "CASE WHEN $1::boolean THEN (SELECT count(*) FROM deliveries "
        "WHERE status = 'dead') ELSE -1 END, "
        "count(*) FILTER (WHERE behind_), "
        "coalesce(extract(epoch FROM now() - min(q.due_at) FILTER "
        "(WHERE due_ AND NOT behind_)), 0)) "
        "FROM (SELECT q.*, CASE WHEN due_ THEN EXISTS ("
        "SELECT 1 FROM delivery_queue o "
        "WHERE o.subscription_id = q.subscription_id "
        "AND o.patient_hub_id = q.patient_hub_id "
        "AND o.event_seq < q.event_seq) ELSE false END AS behind_ "
        "FROM (SELECT q.*, q.lease_until IS NULL AND on_ "
        "AND q.due_at <= now() AS due_ "
        "FROM (SELECT q.*, q.due_at <> 'infinity' AND s.id IS NOT NULL AS on_ "
        "FROM delivery_queue q LEFT JOIN subscriptions s "
        "ON s.id = q.subscription_id COLLATE \"default\" "
        "AND s.status = 'active' AND s.deleted_at IS NULL) q) q) q",
        1, p, &v);
    if (rc == HUB_OK) {
        long long *n[] = { &b->due, &b->scheduled, &b->leased, &b->held,
                           &b->dead, &b->blocked };
        char *p1 = v, *end;
        for (int i = 0; i < 6 && rc == HUB_OK; i++, p1 = end) {
            *n[i] = strtoll(p1, &end, 10);
            if (end == p1 || *end != ' ')
                rc = HUB_EDB;
        }
        if (rc == HUB_OK) {
            b->oldest_due_s = strtod(p1, &end);
            if (end == p1 || *end)
                rc = HUB_EDB;
        }
    }
    free(v);
    return rc;
}

int subs_health_counts(struct store *s, long long n[4])
{
    char *v = NULL;
    int rc = one_text(s,
        "SELECT concat_ws(' ', "
        "count(*) FILTER (WHERE health = 'healthy'), "
        "count(*) FILTER (WHERE health = 'failing'), "
        "count(*) FILTER (WHERE health = 'dead-lettering'), "
        "count(*) FILTER (WHERE health = 'disabled')) "
        "FROM subscriptions WHERE deleted_at IS NULL", 0, NULL, &v);
    char *p = v, *end;
    for (int i = 0; i < 4 && rc == HUB_OK; i++, p = end) {
        n[i] = strtoll(p, &end, 10);
        if (end == p || (*end != ' ' && i < 3) || (*end && i == 3))
            rc = HUB_EDB;
    }
    free(v);
    return rc;
}

/*
 * api_events.c - GET /v1/events: the cursor-paged pull feed for partners
 * without a server. Parameters are checked whole before any query:
 *   after  cursor from the previous page's "next" (decimal, default 0;
 *          opaque: a short page's "next" passes the events the caller
 *          does not see, 027)
 *   topic  a topic or a pattern ("adt.*", "*.positive") that matches a
 *          known topic
 *   since  lower bound on occurred_at (ISO 8601; no offset: UTC)
 *   until  exclusive upper bound on occurred_at, the forms since takes,
 *          after since when both are given (028, F3920)
 *   limit  1..1000, default 100
 * The store decides what the caller may see (what it sent, what was routed
 * to it; everything for admin) and audits the read. A cursor below events
 * of the caller's that the retention removed is answered 410 with the
 * cursor to resume from (store_events_page).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "common/hub_err.h"
#include "log.h"
#include "webhook.h"

#define EVENTS_MAX_LIMIT 1000
#define TIME_FORMS "(2026-12-05, 2026-12-05T04:00:00Z)"
#define TIME_MAX 40         /* the longest since or until taken, and 1 */

struct page {
    struct principal who;
    int64_t after;
    char topic[64];
    char since[TIME_MAX];
    char until[TIME_MAX];
    int limit;
    char *json;
};

static bool only(const char *s, const char *allowed)
{
    for (; *s; s++)
        if (strchr(allowed, *s) == NULL)
            return false;
    return true;
}

/* A bound on occurred_at (since, until) into out, in the forms the
 * store reads (hub_parse_ts); false when answered 400 naming it. Whether
 * it is a time at all, and until after since, the store says. */
static bool time_param(struct api_req *r, const char *name, const char *v,
                       char out[TIME_MAX])
{
    char msg[96];

    if (v == NULL || *v == '\0')
        return true;
    if (strlen(v) >= TIME_MAX || !only(v, "0123456789-Tt:.+Zz ")) {
        snprintf(msg, sizeof(msg), "%s is not a date or time " TIME_FORMS,
                 name);
        api_reply_error(r, 400, "invalid", msg, name);
        return false;
    }
    memcpy(out, v, strlen(v) + 1);
    /* a '+' of a UTC offset arrives as ' ' when not percent-encoded;
     * not the date's separator from the time ("2026-12-05 04:00:00",
     * which hub_parse_ts reads: made '+', it was refused, F524); RFC
     * 3339 lets 'T' and 'Z' be lower case, the store takes upper
     * (F3664) */
    for (char *c = out; *c; c++) {
        if (*c == ' ' && c - out != 10)
            *c = '+';
        else if (*c == 't' || *c == 'z')
            *c = (char)(*c - 'a' + 'A');
    }
    return true;
}

static int work(struct store *s, void *arg)
{
    struct page *p = arg;
    return store_events_page(s, &p->who, p->after,
                             p->topic[0] ? p->topic : NULL,
                             p->since[0] ? p->since : NULL,
                             p->until[0] ? p->until : NULL, p->limit,
                             &p->json);
}

static void done(struct api_req *r, int rc, void *arg)
{
    struct page *p = arg;
    if (rc == HUB_OK && p->json)
        api_reply_json(r, 200, p->json, strlen(p->json));
    else if (rc == HUB_EINVALID && p->json &&
             strcmp(p->json, "until_not_after_since") == 0)
        api_reply_error(r, 400, "invalid", "until is not after since: the "
                        "feed keeps the events whose occurred_at is at or "
                        "after since and before until", "until");
    else if (rc == HUB_EINVALID && p->json && strcmp(p->json, "until") == 0)
        api_reply_error(r, 400, "invalid", "until is not a date or time "
                        TIME_FORMS, "until");
    else if (rc == HUB_EINVALID)    /* the store's refusals left: the other
                                       parameters are checked above */
        api_reply_error(r, 400, "invalid", "since is not a date or time "
                        TIME_FORMS, "since");
    else if (rc == HUB_ENOTFOUND && p->json) {
        /* never an empty page: the partner would wait past events */
        char msg[300];
        snprintf(msg, sizeof(msg), "cursor is past the end of the feed "
                 "(%s): the hub's database was restored from a backup, or "
                 "the cursor is another hub's; read again from after=0 and "
                 "skip the event ids already taken", p->json);
        /* an operator must see it (a restore, or a partner pointed at
         * the wrong hub), though not as the store's fault: F2484 */
        log_info("feed.cursor_ahead", "org=%s after=%lld head=%s",
                 p->who.org_id, (long long)p->after, p->json);
        api_reply_error(r, 409, "cursor_ahead", msg, "after");
    } else if (rc == HUB_ELIMIT && p->json) {
        /* events after the cursor were pruned: told, never passed over
         * silently (F2160); ids only in the log, and no 'feed.read' row:
         * nothing was disclosed */
        char msg[300];
        snprintf(msg, sizeof(msg), "events after the cursor up to %s were "
                 "removed by the hub's events retention: resume from "
                 "after=%s (\"resume\"); events below it that are still "
                 "kept are passed over too", p->json, p->json);
        log_info("feed.pruned", "org=%s after=%lld resume=%s",
                 p->who.org_id, (long long)p->after, p->json);
        api_reply_error_with(r, 410, "cursor_pruned", msg, "after",
                             "resume", p->json);
    }
    else
        api_reply_busy(r, "event feed unavailable, retry");
    free(p->json);
    free(p);
}

static void events(struct api_req *r)
{
    const char *after = api_query(r, "after");
    const char *topic = api_query(r, "topic");
    const char *since = api_query(r, "since");
    const char *until = api_query(r, "until");
    const char *limit = api_query(r, "limit");
    static const char *const known[] = { "after", "topic", "since", "until",
                                         "limit", NULL };
    struct page *p;
    char *end;

    if (api_refuse_unknown_query(r, known, "unknown query parameter: the "
                                 "feed takes after, topic, since, until and "
                                 "limit"))
        return;
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        abort();
    p->who = *api_principal(r);
    p->limit = 100;
    if (after && *after) {
        errno = 0;
        long long v = strtoll(after, &end, 10);
        if (errno || end == after || *end || v < 0) {
            free(p);
            api_reply_error(r, 400, "invalid", "cursor is not a number",
                            "after");
            return;
        }
        p->after = v;
    }
    if (limit && *limit) {
        errno = 0;
        long v = strtol(limit, &end, 10);
        if (errno || end == limit || *end || v < 1 || v > EVENTS_MAX_LIMIT) {
            free(p);
            api_reply_error(r, 400, "invalid", "limit is not 1..1000",
                            "limit");
            return;
        }
        p->limit = (int)v;
    }
    if (topic && *topic) {
        /* as a subscription's topics are checked: a typo ("adt.admitted")
         * would otherwise read as an empty feed. hub.test too, which no
         * subscription routes by topic but the feed of the organization
         * that asked for a test holds (hub.* gave it, its name was
         * refused: F302) */
        struct hub_err e = { 0 };
        /* a list, as a subscription's topics are written, was refused
         * for its wildcard or its comma, as if misspelt (F3126) */
        if (strchr(topic, ',')) {
            free(p);
            api_reply_error(r, 400, "invalid", "topic is one pattern, not "
                            "a list (adt.*, *.positive; none: every topic)",
                            "topic");
            return;
        }
        if (strlen(topic) >= sizeof(p->topic) ||
            (strcmp(topic, "hub.test") != 0 &&
             webhook_topic_check(topic, &e) != HUB_OK)) {
            free(p);
            api_reply_error(r, 400, "invalid", e.what ? e.what :
                            "topic is not a topic pattern", "topic");
            return;
        }
        memcpy(p->topic, topic, strlen(topic) + 1);
    }
    if (!time_param(r, "since", since, p->since) ||
        !time_param(r, "until", until, p->until)) {
        free(p);
        return;
    }
    api_db(r, work, done, p);
}

const struct api_route api_events_routes[] = {
    { API_GET, "/v1/events", SCOPE_SUBSCRIBE, events },
    { 0, NULL, 0, NULL },
};

/*
 * feedwin_test.c - a pull-feed page reads a bounded window of seqs, and a
 * short page moves the cursor past what the reader cannot see (027,
 * F3740, the ruling on F3662): an organization with nothing visible among
 * many others' events after its cursor is brought past them in a few
 * polls, each reading a bounded number of index entries and rows; a
 * visible event after a window's worth of invisible ones is served, and
 * paging across the window's end serves every visible event once, in
 * order; with no event after the cursor, the cursor stays.
 *
 * The cost is measured in the poll's own statement by the rows and index
 * entries it read of events and event_routes
 * (pg_stat_get_xact_tuples_returned, as heldq_test.c counts a claim's),
 * not by time: before 027 each poll read every entry from the cursor to
 * the head (OTHERS here), and an empty page's `next` was the cursor.
 * The bulk events are written in SQL (an ingest each would take minutes).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hub_err.h"
#include "store.h"
#include "../lib/storetest.h"

#define WINDOW 100000L      /* hub_feed_page's c_window (027) */
#define OTHERS 250000L      /* others' events after the cursor */
/* what a poll may read: its window of events' primary key and of
 * event_routes' (a route for every other event at most), a few more */
#define POLL_READ_MAX (WINDOW + WINDOW / 2 + 1000)

static char *url;
static struct store *s;

static void setup(void)
{
    static const struct storetest_org orgs[] = {
        { "hosp", "Hospital", "hospital", SCOPE_INGEST },
        { "cbo", "CBO", "cbo", SCOPE_SUBSCRIBE },
        { "plan", "Plan", "plan", SCOPE_SUBSCRIBE },
    };
    s = storetest_open(&url, orgs, sizeof(orgs) / sizeof(orgs[0]));
}

static void teardown(void)
{
    storetest_close(&s, &url);
}

TestSuite(feedwin, .init = setup, .fini = teardown, .timeout = 240);

static long qlong(const char *sql)
{
    return storetest_long(s, sql);
}

static void exec(const char *sql)
{
    cr_assert_eq(store_exec(s, sql), HUB_OK, "%s", sql);
}

static long head(void)
{
    return qlong("SELECT coalesce(max(seq), 0) FROM events");
}

/* `n` events of hosp's, of `type`, tagged `tag` (ids evt_<tag><i>), in
 * seq order, that occurred at `when` (SQL; NULL: no time); routed to cbo
 * when `routed` (every other one when 2). */
static void events_add_at(const char *tag, long n, const char *type,
                          int routed, const char *when)
{
    char sql[1024];

    snprintf(sql, sizeof(sql),
             "WITH e AS (INSERT INTO events (id, message_id, org_id, type, "
             "received_at, occurred_at, body) SELECT 'evt_%s' || i, 0, "
             "'hosp', '%s', now(), %s, "
             "'{\"id\": \"evt_%s' || i || '\", \"type\": \"%s\"}' "
             "FROM generate_series(1, %ld) i ORDER BY i RETURNING seq) "
             "INSERT INTO event_routes (org_id, event_seq) SELECT 'cbo', seq "
             "FROM e WHERE %d = 1 OR (%d = 2 AND seq %% 2 = 0)",
             tag, type, when ? when : "NULL", tag, type, n, routed, routed);
    exec(sql);
}

static void events_add(const char *tag, long n, const char *type, int routed)
{
    events_add_at(tag, n, type, routed, NULL);
}

/* One poll of `org`'s feed after `after` (topic patterns as LIKE's, or
 * NULL; an upper bound on occurred_at as SQL, or NULL: 001's six
 * arguments), in one statement with the rows and index entries it read of
 * events and event_routes. Returns the page (malloc'd); *next its cursor,
 * *n its events, *read the count. */
static char *poll_until(const char *org, long after, const char *topics,
                        const char *until, int limit, long *next, int *n,
                        long *read)
{
    char sql[2048];
    struct store_rows *r = NULL;

    exec("SELECT pg_stat_force_next_flush()");
    snprintf(sql, sizeof(sql),
        "WITH p AS MATERIALIZED (SELECT hub_feed_page('%s', false, %ld, "
        "%s, NULL, %d%s%s)::jsonb AS j) "
        "SELECT (SELECT j->>'next' FROM p), "
        "(SELECT jsonb_array_length(j->'events') FROM p), "
        "(SELECT j::text FROM p), "
        "(SELECT sum(pg_stat_get_xact_tuples_returned(c.oid)) "
        "FROM pg_class c LEFT JOIN pg_index i ON i.indexrelid = c.oid "
        "WHERE (c.oid IN ('events'::regclass, 'event_routes'::regclass) "
        "OR i.indrelid IN ('events'::regclass, 'event_routes'::regclass)) "
        "AND (SELECT count(*) FROM p) >= 0)",
        org, after, topics ? topics : "NULL", limit, until ? ", " : "",
        until ? until : "");
    cr_assert_eq(store_query(s, sql, 0, NULL, &r), HUB_OK, "%s", sql);
    cr_assert_eq(store_rows_count(r), 1);
    *next = strtol(store_rows_get(r, 0, 0), NULL, 10);
    *n = (int)strtol(store_rows_get(r, 0, 1), NULL, 10);
    char *page = strdup(store_rows_get(r, 0, 2));
    *read = strtol(store_rows_get(r, 0, 3), NULL, 10);
    store_rows_free(r);
    return page;
}

static char *poll(const char *org, long after, const char *topics, int limit,
                  long *next, int *n, long *read)
{
    return poll_until(org, after, topics, NULL, limit, next, n, read);
}

/* The feed of `org` (topics as poll's) brought from `after` to the head
 * in at most `polls` polls, none of them serving an event, each reading
 * at most POLL_READ_MAX; the audit row of each records the `next` served. */
static void passes_to_the_head(const char *org, long after,
                               const char *topics, int polls)
{
    long h = head(), next, read;
    int n, i;

    for (i = 0; i < polls && after < h; i++) {
        free(poll(org, after, topics, 100, &next, &n, &read));
        cr_assert_eq(n, 0, "%s poll %d served %d events", org, i, n);
        cr_assert_lt(read, POLL_READ_MAX, "%s poll %d read %ld rows and "
                     "index entries", org, i, read);
        cr_assert_gt(next, after, "%s poll %d: the cursor moves", org, i);
        cr_assert_leq(next, h, "%s poll %d: never past the head", org, i);
        cr_assert_eq(qlong("SELECT (detail::jsonb->>'next')::bigint FROM "
                           "audit WHERE action = 'feed.read' ORDER BY seq "
                           "DESC LIMIT 1"), next, "the audit's next");
        after = next;
    }
    cr_assert_eq(after, h, "%s: at the head after %d polls", org, i);
    /* and there it stays */
    free(poll(org, after, topics, 100, &next, &n, &read));
    cr_assert_eq(n, 0);
    cr_assert_eq(next, h, "%s: the cursor stays at the head", org);
}

Test(feedwin, a_feed_with_nothing_visible_passes_others_events_in_bounded_polls)
{
    long c0;

    events_add("mine", 3, "adt.admit", 1);
    c0 = head();
    /* others' events, every other one routed to cbo (adt.admit) */
    events_add("x", OTHERS, "adt.admit", 2);
    cr_assert_eq(head(), c0 + OTHERS);
    /* plan: nothing routed to it; cbo: nothing of its topic */
    passes_to_the_head("plan", c0, NULL, 3);
    passes_to_the_head("cbo", c0, "'{screening.%}'", 3);

    /* hubd's own call moves it too */
    struct principal plan = { .org_id = "plan", .scopes = SCOPE_SUBSCRIBE };
    char *page = NULL;
    cr_assert_eq(store_events_page(s, &plan, c0, NULL, NULL, NULL, 10, &page),
                 HUB_OK);
    char want[64];
    snprintf(want, sizeof(want), "\"next\":\"%ld\"", c0 + WINDOW);
    cr_assert_not_null(strstr(page, want), "%s", page);
    free(page);
}

/* The ids cbo's feed serves from `after` (bounded by `until`, as
 * poll_until's) with pages of `limit`, in order, space-separated, until a
 * page is empty; *end the last `next`. Returns the polls taken. */
static int serve_until(long after, const char *until, int limit, char *ids,
                       size_t cap, long *end)
{
    long next, read;
    int n, polls = 0;

    ids[0] = '\0';
    for (;;) {
        char *page = poll_until("cbo", after, NULL, until, limit, &next, &n,
                                &read);
        cr_assert_lt(read, POLL_READ_MAX, "read %ld", read);
        cr_assert_geq(next, after);
        for (const char *p = page; (p = strstr(p, "\"id\": \"")) != NULL;) {
            p += 7;
            size_t len = strcspn(p, "\"");
            size_t at = strlen(ids);
            cr_assert_lt(at + len + 2, cap);
            snprintf(ids + at, cap - at, "%s%.*s", at ? " " : "", (int)len, p);
        }
        free(page);
        cr_assert_lt(++polls, 40, "limit %d: no end", limit);
        if (n == 0 && next == after)
            break;
        after = next;
    }
    *end = after;
    return polls;
}

static void serve_all(long after, int limit, char *ids, size_t cap, long *end)
{
    serve_until(after, NULL, limit, ids, cap, end);
}

Test(feedwin, visible_events_across_the_window_are_each_served_once_in_order)
{
    static const int limits[] = { 1, 4, 5, 100 };
    char ids[1024];
    long c0, end;

    c0 = head();
    /* the window from c0 ends inside the first visible run, and the last
     * visible event follows more than a window of invisible ones */
    events_add("a", WINDOW - 5, "adt.admit", 0);
    events_add("v", 10, "adt.admit", 1);
    events_add("b", WINDOW + 50, "adt.admit", 0);
    events_add("w", 1, "screening.positive", 1);
    events_add("c", 5, "adt.admit", 0);
    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
        serve_all(c0, limits[i], ids, sizeof(ids), &end);
        cr_assert_str_eq(ids, "evt_v1 evt_v2 evt_v3 evt_v4 evt_v5 evt_v6 "
                         "evt_v7 evt_v8 evt_v9 evt_v10 evt_w1",
                         "limit %d", limits[i]);
        cr_assert_eq(end, head(), "limit %d: ends at the head, past the "
                     "last invisible events", limits[i]);
    }
}

Test(feedwin, no_event_after_the_cursor_keeps_it)
{
    long c0, next, read;
    int n;

    /* no event at all (a new hub): the cursor stays */
    free(poll("cbo", 0, NULL, 100, &next, &n, &read));
    cr_assert_eq(n, 0);
    cr_assert_eq(next, 0, "a hub with no event keeps the cursor");
    events_add("mine", 2, "adt.admit", 1);
    events_add("x", 7, "adt.admit", 0);
    c0 = head();
    /* at the head: stays (max(seq) is the cursor) */
    free(poll("cbo", c0, NULL, 100, &next, &n, &read));
    cr_assert_eq(n, 0);
    cr_assert_eq(next, c0, "an empty hub after the cursor keeps it");
    /* below it, only others' events after: to the head, not past it */
    free(poll("cbo", c0 - 7, NULL, 100, &next, &n, &read));
    cr_assert_eq(n, 0);
    cr_assert_eq(next, c0, "to the head, not to the window's end");
    /* a short page with events ends at the head too */
    free(poll("cbo", 0, NULL, 100, &next, &n, &read));
    cr_assert_eq(n, 2);
    cr_assert_eq(next, c0);
    /* a full page ends at its last event */
    free(poll("cbo", 0, NULL, 1, &next, &n, &read));
    cr_assert_eq(n, 1);
    cr_assert_eq(next, qlong("SELECT min(seq) FROM events"));
    /* a seq taken and never committed above the head: the cursor stays
     * at the head of what committed (409 only past the sequence) */
    exec("SELECT nextval('events_seq')");
    free(poll("cbo", c0, NULL, 100, &next, &n, &read));
    cr_assert_eq(next, c0);
    free(poll("cbo", c0 + 1, NULL, 100, &next, &n, &read));
    cr_assert_eq(next, c0 + 1, "a cursor above the head stays");
}

/* until= (028, F3920) filters as since= and a topic do: an event it leaves
 * out is passed by a short page's cursor, a window a poll, so that a feed
 * whose bound leaves out a window's worth of events after its cursor
 * (late ones: occurred after the bound, sent in order) still reaches the
 * head, serving what the bound keeps beyond them, each once, in order;
 * an event with no time (events_add's) is left out, as since= leaves it. */
Test(feedwin, an_until_filter_passes_what_it_leaves_out_to_the_head)
{
    static const int limits[] = { 1, 2, 100 };
    char ids[256];
    long c0, end;

    c0 = head();
    events_add_at("early", 2, "adt.admit", 1, "'2026-01-01T00:00:00Z'");
    /* every other one routed: POLL_READ_MAX's bound */
    events_add_at("late", WINDOW + 10, "adt.admit", 2,
                  "'2026-06-01T00:00:00Z'");
    events_add("undated", 3, "adt.admit", 1);
    events_add_at("more", 1, "adt.admit", 1, "'2026-01-31T23:59:59Z'");
    events_add_at("june", 1, "adt.admit", 1, "'2026-06-01T00:00:00Z'");
    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
        int polls = serve_until(c0, "'2026-02-01'", limits[i], ids,
                                sizeof(ids), &end);
        cr_assert_str_eq(ids, "evt_early1 evt_early2 evt_more1", "limit %d",
                         limits[i]);
        cr_assert_eq(end, head(), "limit %d: reaches the head", limits[i]);
        /* a poll a full page, a window's, and the empty one at the head */
        cr_assert_leq(polls, 6, "limit %d: %d polls", limits[i], polls);
    }
    /* exclusive above: an event at the bound is left out, a microsecond
     * later keeps it */
    serve_until(head() - 5, "'2026-06-01T00:00:00Z'", 100, ids, sizeof(ids),
                &end);
    cr_assert_str_eq(ids, "evt_more1");
    serve_until(head() - 5, "'2026-06-01T00:00:00.000001Z'", 100, ids,
                sizeof(ids), &end);
    cr_assert_str_eq(ids, "evt_more1 evt_june1");
}

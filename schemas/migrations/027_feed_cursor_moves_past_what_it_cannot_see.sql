-- 027_feed_cursor_moves_past_what_it_cannot_see.sql - a pull-feed page
-- reads a bounded window of seqs, and a short page moves the cursor past
-- what the reader cannot see (F3740, the lead's ruling on F3662).
--
-- A filtered or quiet feed never moved its cursor: an empty page's `next`
-- was the cursor, and every poll read the events' primary key from the
-- cursor to the head (hub_visible_events' sender test is an OR with the
-- routes' subquery, which no index serves). A partner whose topic matched
-- nothing new, or an organization nothing was routed to, read a growing
-- range on every poll (about a second a poll with a million others'
-- events after its cursor) until the poll reached db_statement_timeout
-- and was 503 for ever.
--
-- Now a page reads only seqs in (p_after, p_after + 100000]: one range of
-- the primary key (and of event_routes' key) of bounded cost. A full page
-- (p_limit events) ends at its last event, as before. A short page has
-- served every event the reader may see in the window, up to the highest
-- seq committed in the page's own snapshot (max(seq) of events, read in
-- the same statement as the page): its `next` is the lower of the
-- window's end and that head, so the cursor moves past events the reader
-- does not see, a window a poll. That is safe because every events seq is
-- taken under the chain lock held to its commit (001_init.sql, the
-- invariants): seq order is commit order, so no event can commit later
-- below a seq the snapshot already holds
-- (store::an_ingest_waits_behind_an_uncommitted_lower_seq_so_no_cursor_passes_it),
-- and the page's synchronous commit (hub_durable) follows those events'
-- commits, so they are durable before the cursor that passes them is
-- sent. With no event after the cursor, `next` is the cursor, as before.
-- `next` is therefore opaque to the partner: not the seq of an event it
-- was served (README, docs/api.md). The 409 (22H10) and 410 (22H11)
-- answers are 020's, unchanged; the audit rows record the `next` served.
--
-- The signature is 001's: hubd's statement (store_admin.c, "feed") calls
-- it unchanged. The feed reads hub_visible_window; hub_visible_events
-- (no upper bound) stays, for any other reader, as the window's rule with
-- no end, so that the rule is written once.

-- What p_org may read in the pull feed with p_after < seq <= p_upto:
-- hub_visible_events bounded above, the routes' subquery too (a range of
-- event_routes' key). A plain SQL function so that the planner inlines it.
CREATE FUNCTION hub_visible_window(p_org text, p_admin boolean,
    p_after bigint, p_upto bigint)
RETURNS SETOF events LANGUAGE sql STABLE AS $$
    SELECT * FROM events
     WHERE seq > p_after AND seq <= p_upto
       AND (p_admin OR org_id = p_org
            OR seq IN (SELECT r.event_seq FROM event_routes r
                        WHERE r.org_id = p_org AND r.event_seq > p_after
                          AND r.event_seq <= p_upto))
$$;

CREATE OR REPLACE FUNCTION hub_visible_events(p_org text, p_admin boolean,
    p_after bigint)
RETURNS SETOF events LANGUAGE sql STABLE AS $$
    SELECT * FROM hub_visible_window(p_org, p_admin, p_after,
                                     9223372036854775807)
$$;

CREATE OR REPLACE FUNCTION hub_feed_page(p_org text, p_admin boolean, p_after bigint,
    p_topics text[], p_since timestamptz, p_limit int)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    -- the seqs one page reads at most: a bounded range of the primary key
    -- (some 0.1 s with none of them visible), so that a poll's cost does
    -- not grow with the events after a cursor that sees none of them
    c_window CONSTANT bigint := 100000;
    v_upto bigint;
    v_head bigint;
    v_json text;
    v_next bigint;
    v_n bigint;
    v_ids text[];
    v_pids text[];
    v_pruned bigint;
BEGIN
    v_upto := CASE WHEN p_after <= 9223372036854775807 - c_window
                   THEN p_after + c_window ELSE 9223372036854775807 END;
    -- the head in the page's own snapshot: the same statement
    SELECT coalesce(string_agg(p.body::text, ',' ORDER BY p.seq), ''),
           max(p.seq), count(*),
           array_agg(p.id ORDER BY p.seq),
           array_agg(p.patient_hub_id ORDER BY p.seq),
           (SELECT max(h.seq) FROM events h)
      INTO v_json, v_next, v_n, v_ids, v_pids, v_head
      FROM (SELECT e.seq, e.id, e.patient_hub_id, e.body
              FROM hub_visible_window(p_org, p_admin, p_after, v_upto) e
             WHERE (p_topics IS NULL OR e.type LIKE ANY (p_topics))
               -- the hub's own events only by a pattern of their family,
               -- as webhook_topic_match() says ('*' is the data events)
               AND (p_topics IS NULL OR e.type NOT LIKE 'hub.%'
                    OR 'hub.%' = ANY (p_topics) OR e.type = ANY (p_topics))
               AND (p_since IS NULL OR e.occurred_at >= p_since)
             ORDER BY e.seq
             LIMIT p_limit) p;
    -- Events this organization could read after its cursor are gone (the
    -- events retention): answered as such (22H11; store_admin.c reads the
    -- mark, api_events.c answers 410 with it, the cursor to resume from),
    -- never as this page, which would pass over them silently. Nothing is
    -- disclosed: no page, no 'feed.read' row. Read after the page, in a
    -- later snapshot: a prune step that committed while the page was read
    -- (its deletes and its marks commit together) is seen here.
    v_pruned := hub_feed_pruned(p_org, p_admin, p_after);
    IF v_pruned IS NOT NULL THEN
        RAISE EXCEPTION 'events after cursor % up to % were pruned',
              p_after, v_pruned USING ERRCODE = '22H11';
    END IF;
    -- A cursor past every event the hub ever numbered was never one of
    -- its pages: the database was restored from a backup (its sequence
    -- went back) or the cursor is another hub's. Answered as such
    -- (22H10; store.c names the feed's head), never as an empty page:
    -- the partner would wait there, and miss every event numbered below
    -- its cursor once the sequence caught up (deploy/postgresql.md,
    -- "Backup and restore").
    IF v_n = 0 AND p_after > (SELECT CASE WHEN is_called THEN last_value
                                          ELSE 0 END FROM events_seq) THEN
        RAISE EXCEPTION 'cursor % is past the end of the feed', p_after
            USING ERRCODE = '22H10';
    END IF;
    -- A full page ends at its last event. A short one served all the
    -- reader may see up to the window's end or the snapshot's head,
    -- whichever is lower: the cursor moves there (never back). No event
    -- at all (v_head NULL, which least() would pass over): it stays.
    IF v_n < p_limit THEN
        v_next := greatest(p_after, least(v_upto, coalesce(v_head, p_after)));
    END IF;
    v_next := coalesce(v_next, p_after);
    -- the page leaves the hub after this transaction's commit, which is
    -- synchronous and follows the commits of the events it holds (and of
    -- every event below its `next`): they are durable by then
    -- ("Durability" at the top of 001_init.sql)
    PERFORM hub_durable();
    IF v_n = 0 THEN
        PERFORM hub_audit_append(p_org, 'feed.read', 'feed',
            'after=' || p_after, NULL,
            jsonb_build_object('events', '[]'::jsonb, 'next', v_next));
    ELSE
        PERFORM hub_audit_append_many(array_agg(p_org), array_agg('feed.read'::text),
                   array_agg('feed'::text), array_agg('after=' || p_after),
                   array_agg(g.pid ORDER BY g.first),
                   array_agg(jsonb_build_object('events', to_jsonb(g.ids),
                                                'next', v_next)
                             ORDER BY g.first))
          FROM (SELECT u.pid, min(u.ord) AS first,
                       array_agg(u.id ORDER BY u.ord) AS ids
                  FROM unnest(v_ids, v_pids) WITH ORDINALITY AS u(id, pid, ord)
                 GROUP BY u.pid) g;
    END IF;
    RETURN '{"events":[' || v_json || '],"next":"' || v_next || '"}';
END $$;

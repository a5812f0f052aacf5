-- 028_feed_until.sql - the pull feed takes an upper bound on time,
-- `until=` (the lead's ruling (b) on F3663, F3920).
--
-- `since=` was the feed's only time filter: a partner that wanted a window
-- of occurred_at (a month's discharges) could not stop paging at its end,
-- as occurred_at does not follow the cursor (a discharge sent late), and
-- `until=` was 400 as a parameter the feed does not take. Now
-- hub_feed_page takes p_until, an exclusive upper bound on occurred_at
-- (NULL: none), filtered as p_since is: an event with no occurred_at (a
-- time the store could not read) is in no page that either bounds, as
-- `occurred_at >= p_since` was never true of it.
--
-- Everything else is 027's, unchanged: the bounded window of seqs, and the
-- `next` rule (an event p_until leaves out is passed as a topic or p_since
-- filter passes it: a short page's cursor moves past it), the 409 (22H10)
-- and 410 (22H11) answers, the durability and the audit rows (which record
-- neither bound, as before: 'after=' and the events and `next` served).
-- Whether p_until is after p_since is hubd's statement's check
-- (store_admin.c, "feed", 400 naming `until`); here an empty window is
-- only an empty filter.
--
-- p_until is the last parameter, with a default, so that a call with 001's
-- six arguments (tests, an operator's psql) reads as before; the old
-- signature is dropped, as two would make such a call ambiguous.

DROP FUNCTION hub_feed_page(text, boolean, bigint, text[], timestamptz, int);

CREATE FUNCTION hub_feed_page(p_org text, p_admin boolean, p_after bigint,
    p_topics text[], p_since timestamptz, p_limit int,
    p_until timestamptz DEFAULT NULL)
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
               AND (p_until IS NULL OR e.occurred_at < p_until)
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

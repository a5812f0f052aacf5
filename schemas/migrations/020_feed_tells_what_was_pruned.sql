-- 020_feed_tells_what_was_pruned.sql - a pull-feed cursor older than the
-- events retention is told so (F2160, the lead's decision on F1966).
--
-- The feed answered a cursor from before the oldest event kept with the
-- next event kept, silently: a partner away longer than
-- retain_events_days passed over what the retention removed and was not
-- told. The retention now records, per organization, the highest seq of
-- the events it removed that the organization could read (it sent them
-- or they were routed to it: hub_visible_events); the feed refuses a
-- cursor below that mark (22H11; hubd answers 410 with the mark as the
-- cursor to resume from). One mark per organization, not a list of gaps:
-- a reader that resumes at the mark is served from there; events below
-- it that the retention kept (a deliveries row still named them, e.g. a
-- paused subscription's held deliveries) are passed over by that resume,
-- as the whole range from the old cursor to the mark is declared a gap
-- the partner reconciles another way. A cursor at or above the mark reads
-- as before; an organization that could read none of the removed events
-- has no mark. An admin reader reads every event, and so is held to the
-- highest mark (every event has a sender, whose mark covers it).
--
-- The feed's cost: one read of this table by its key per page (a row per
-- organization the retention ever removed events of). hub_prune_step()
-- and hub_feed_page() are 001_init.sql's otherwise.

CREATE TABLE feed_pruned (
    org_id      text COLLATE "C" PRIMARY KEY,  -- an organizations row
    seq         bigint NOT NULL,    -- the highest events.seq removed that
                                    -- the organization could read
    pruned_at   timestamptz NOT NULL -- when the retention last raised it
);

-- The organization's mark when it is above p_after (events the reader has
-- not taken are gone), else NULL.
CREATE FUNCTION hub_feed_pruned(p_org text, p_admin boolean, p_after bigint)
RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT m.seq
      FROM (SELECT CASE WHEN p_admin
                        THEN (SELECT max(f.seq) FROM feed_pruned f)
                        ELSE (SELECT f.seq FROM feed_pruned f
                               WHERE f.org_id = p_org) END AS seq) m
     WHERE m.seq > p_after
$$;

CREATE OR REPLACE FUNCTION hub_prune_step(p_table text, p_days int, p_after text,
    p_limit int, p_dry boolean, p_deliveries_days int,
    OUT pruned bigint, OUT next_after text, OUT done boolean,
    p_now timestamptz DEFAULT NULL)
LANGUAGE plpgsql
-- every statement here reads by key (the windows, the deletes of their
-- ids, the probes of delivery_queue and deliveries) or by tuple id: a
-- sequential scan would read the whole backlog, which the planner chose
-- for the delete of a window of 50 deliveries among 3,000 never analyzed
-- (seen with auto_explain: 2,950 rows read and dropped by the filter)
SET enable_seqscan = off
AS $$
DECLARE
    v_now timestamptz := coalesce(p_now, now());
    v_cutoff timestamptz := v_now - make_interval(days => p_days);
    -- a dry run of events counts as gone the events whose every deliveries
    -- row its deliveries step would have removed (p_deliveries_days: that
    -- retention, 0: none)
    v_dcut timestamptz := CASE WHEN p_dry AND p_deliveries_days > 0
        THEN v_now - make_interval(days => p_deliveries_days) END;
    v_after bigint;
    v_ids bigint[];
    v_orgs text[];                  -- the senders of v_ids, in its order
    v_last bigint;
    v_n bigint;
    v_newer boolean;
    v_tid tid;
    v_tids tid[];
    v_last_tid tid;
    v_n2 bigint;
    v_hash text;
    v_at timestamptz;
    v_head bigint;
    v_row record;
    -- messages' walk (message_chunks)
    v_stale boolean;
    v_walked timestamptz;
    v_known integer;
    v_default timestamptz;
    v_nch bigint;
    v_cur bigint;
    v_next bigint;
    v_keep timestamptz;
    v_kept timestamptz;
    v_budget integer;
    v_pages integer;
BEGIN
    IF p_days IS NULL OR p_days < 1 OR p_limit IS NULL OR p_limit < 1 THEN
        RAISE EXCEPTION 'hub_prune_step: days and limit must be positive'
              USING ERRCODE = '22023';
    END IF;
    pruned := 0;
    IF p_table = 'deliveries' THEN
        v_after := coalesce(p_after, '0')::bigint;
        SELECT array_agg(w.id ORDER BY w.id) FILTER (WHERE w.expired),
               max(w.id), count(*), bool_or(w.created_at >= v_cutoff)
          INTO v_ids, v_last, v_n, v_newer
          FROM (SELECT d.id, d.created_at,
                       d.updated_at < v_cutoff
                       AND NOT EXISTS (SELECT 1 FROM delivery_queue q
                                        WHERE q.delivery_id = d.id) AS expired
                  FROM deliveries d
                 WHERE d.id > v_after
                 ORDER BY d.id
                 LIMIT p_limit) w;
        IF p_dry OR v_ids IS NULL THEN
            pruned := coalesce(cardinality(v_ids), 0);
        ELSE
            -- checked again on the rows as locked: a replay that got there
            -- first wrote updated_at and a queue row
            DELETE FROM deliveries d
             WHERE d.id = ANY (v_ids) AND d.updated_at < v_cutoff
               AND NOT EXISTS (SELECT 1 FROM delivery_queue q
                                WHERE q.delivery_id = d.id);
            GET DIAGNOSTICS pruned = ROW_COUNT;
        END IF;
        next_after := coalesce(v_last, v_after)::text;
        done := v_n < p_limit OR v_newer;
    ELSIF p_table = 'events' THEN
        v_after := coalesce(p_after, '0')::bigint;
        SELECT array_agg(w.seq ORDER BY w.seq) FILTER (WHERE w.expired),
               max(w.seq), count(*), bool_or(NOT w.old)
          INTO v_ids, v_last, v_n, v_newer
          FROM (SELECT e.seq, e.received_at < v_cutoff AS old,
                       e.received_at < v_cutoff
                       AND NOT EXISTS (
                           SELECT 1 FROM deliveries d
                            WHERE d.event_seq = e.seq
                              AND NOT (v_dcut IS NOT NULL
                                  AND d.updated_at < v_dcut
                                  AND NOT EXISTS (
                                      SELECT 1 FROM delivery_queue q
                                       WHERE q.delivery_id = d.id)))
                           AS expired
                  FROM events e
                 WHERE e.seq > v_after
                 ORDER BY e.seq
                 LIMIT p_limit) w;
        IF p_dry OR v_ids IS NULL THEN
            pruned := coalesce(cardinality(v_ids), 0);
        ELSE
            -- nothing makes a deliveries row for an old event (routing
            -- makes them for new events, a replay reopens an existing row)
            WITH gone AS (
                DELETE FROM events e
                 WHERE e.seq = ANY (v_ids)
                   AND NOT EXISTS (SELECT 1 FROM deliveries d
                                    WHERE d.event_seq = e.seq)
                RETURNING e.seq, e.org_id)
            SELECT array_agg(seq ORDER BY seq), array_agg(org_id ORDER BY seq)
              INTO v_ids, v_orgs FROM gone;
            pruned := coalesce(cardinality(v_ids), 0);
            -- the routes, org by org over the window's range of seqs (the
            -- key is (org_id, event_seq): one descent per organization;
            -- the list is a filter, "+ 0", not a descent per element);
            -- and each organization that could read one of the events,
            -- its sender or one it was routed to, has the highest of them
            -- as its feed's mark (feed_pruned, above)
            IF pruned > 0 THEN
                WITH routes AS (
                    DELETE FROM event_routes r
                     USING organizations o
                     WHERE r.org_id = o.id
                       AND r.event_seq >= v_ids[1]
                       AND r.event_seq <= v_ids[cardinality(v_ids)]
                       AND r.event_seq + 0 = ANY (v_ids)
                    RETURNING r.org_id, r.event_seq)
                INSERT INTO feed_pruned AS f (org_id, seq, pruned_at)
                SELECT x.org_id, max(x.seq), now()
                  FROM (SELECT org_id COLLATE "C", event_seq FROM routes
                        UNION ALL
                        SELECT * FROM unnest(v_orgs, v_ids)) x(org_id, seq)
                 GROUP BY x.org_id
                ON CONFLICT (org_id) DO UPDATE
                   SET seq = EXCLUDED.seq, pruned_at = EXCLUDED.pruned_at
                 WHERE f.seq < EXCLUDED.seq;
            END IF;
        END IF;
        next_after := coalesce(v_last, v_after)::text;
        done := v_n < p_limit OR v_newer;
    ELSIF p_table = 'messages' THEN
        -- the map is of this file (else rows moved: read it all again)
        SELECT w.filenode IS DISTINCT FROM pg_relation_filenode('messages'),
               w.walked_at
          INTO v_stale, v_walked FROM message_chunks_walk w;
        IF v_stale AND NOT p_dry THEN
            DELETE FROM message_chunks;
            UPDATE message_chunks_walk
               SET filenode = pg_relation_filenode('messages'),
                   walked_at = NULL;
            v_stale := false;
            v_walked := NULL;
        END IF;
        -- a stale map, as a dry run reads it: empty
        SELECT coalesce(max(c.chunk) + 1, 0) INTO v_known
          FROM message_chunks c WHERE NOT v_stale;
        v_default := CASE WHEN v_known = 0 OR v_walked IS NULL
                          THEN '-infinity'
                          ELSE v_walked - interval '1 day' END;
        v_nch := (pg_relation_size('messages')
                  / current_setting('block_size')::bigint + 31) / 32;
        IF p_after IS NULL THEN
            v_cur := 0;
        ELSIF strpos(p_after, '|') > 0 THEN
            v_tid := split_part(p_after, '|', 1)::tid;
            v_keep := to_timestamp(split_part(p_after, '|', 2)::bigint);
            v_cur := (v_tid::text::point)[0]::bigint / 32;
        ELSE
            v_cur := p_after::bigint;
        END IF;
        v_budget := p_limit;
        v_pages := 0;
        done := false;
        LOOP
            IF v_tid IS NULL THEN
                -- the next chunk due: in the map, or past it when the
                -- default is due
                SELECT min(c.chunk) INTO v_next FROM message_chunks c
                 WHERE c.chunk >= v_cur AND c.oldest < v_cutoff
                   AND NOT v_stale;
                IF v_default < v_cutoff THEN
                    v_next := least(v_next, greatest(v_cur, v_known));
                END IF;
                IF v_next IS NULL OR v_next >= v_nch THEN
                    done := true;
                    v_cur := v_nch;
                    EXIT;
                END IF;
                v_cur := v_next;
                EXIT WHEN v_pages > 0 AND v_pages + 32 > p_limit / 8 + 32;
                v_tid := format('(%s,0)', v_cur * 32)::tid;
                -- a row that comes later was received after now, less a day
                v_keep := date_trunc('second', v_now - interval '1 day');
                v_pages := v_pages + 32;
            END IF;
            SELECT array_agg(m.ctid) FILTER (WHERE m.received_at < v_cutoff),
                   max(m.ctid), count(*),
                   min(m.received_at) FILTER (WHERE m.received_at >= v_cutoff)
              INTO v_tids, v_last_tid, v_n, v_kept
              FROM (SELECT ctid, received_at FROM messages
                     WHERE ctid > v_tid
                       AND ctid < format('(%s,0)', v_cur * 32 + 32)::tid
                     LIMIT v_budget) m;
            IF p_dry OR v_tids IS NULL THEN
                pruned := pruned + coalesce(cardinality(v_tids), 0);
            ELSE
                DELETE FROM messages
                 WHERE ctid = ANY (v_tids) AND received_at < v_cutoff;
                GET DIAGNOSTICS v_n2 = ROW_COUNT;
                pruned := pruned + v_n2;
            END IF;
            v_keep := least(v_keep, date_trunc('second', v_kept));
            IF v_n < v_budget THEN
                -- the chunk read to its end: its time, the oldest kept
                IF NOT p_dry THEN
                    INSERT INTO message_chunks (chunk, oldest)
                    VALUES (v_cur, v_keep)
                    ON CONFLICT (chunk) DO UPDATE SET oldest = EXCLUDED.oldest;
                END IF;
                v_cur := v_cur + 1;
                v_tid := NULL;
            ELSE
                v_tid := v_last_tid;
            END IF;
            v_budget := v_budget - v_n::integer;
            EXIT WHEN v_budget <= 0;
        END LOOP;
        IF done AND NOT p_dry THEN
            -- the chunks past the map that were not due keep the default;
            -- those that come after this walk are newer than it
            INSERT INTO message_chunks (chunk, oldest)
            SELECT g, v_default FROM generate_series(v_known, v_nch - 1) g
            ON CONFLICT (chunk) DO NOTHING;
            UPDATE message_chunks_walk SET walked_at = v_now;
        END IF;
        next_after := CASE WHEN v_tid IS NULL THEN v_cur::text
                           ELSE format('%s|%s', v_tid,
                                       extract(epoch FROM v_keep)::bigint)
                      END;
    ELSIF p_table = 'audit' THEN
        -- the anchor row is locked (FOR UPDATE) by a real run, so two runs
        -- never move it at once; a dry run reads it and counts on from its
        -- own cursor
        IF p_dry THEN
            SELECT a.seq, a.hash INTO v_after, v_hash FROM audit_anchor a;
        ELSE
            SELECT a.seq, a.hash INTO v_after, v_hash FROM audit_anchor a
               FOR UPDATE;
        END IF;
        v_after := greatest(v_after, coalesce(p_after, '0')::bigint);
        SELECT max(a.seq) INTO v_head FROM audit a;
        v_n := 0;
        FOR v_row IN SELECT a.seq, a.hash, a.at FROM audit a
                      WHERE a.seq > v_after AND a.seq < v_head
                      ORDER BY a.seq LIMIT p_limit LOOP
            EXIT WHEN v_row.at >= v_cutoff;
            v_last := v_row.seq;
            v_hash := v_row.hash;
            v_at := v_row.at;
            v_n := v_n + 1;
        END LOOP;
        IF p_dry OR v_last IS NULL THEN
            pruned := v_n;
        ELSE
            DELETE FROM audit a WHERE a.seq > v_after AND a.seq <= v_last;
            GET DIAGNOSTICS pruned = ROW_COUNT;
            UPDATE audit_anchor
               SET seq = v_last, hash = v_hash, at = v_at, moved_at = now();
        END IF;
        next_after := coalesce(v_last, v_after)::text;
        done := v_n < p_limit;
    ELSE
        RAISE EXCEPTION 'hub_prune_step: unknown table'
              USING ERRCODE = '22023';
    END IF;
END $$;

CREATE OR REPLACE FUNCTION hub_feed_page(p_org text, p_admin boolean, p_after bigint,
    p_topics text[], p_since timestamptz, p_limit int)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_json text;
    v_next bigint;
    v_n bigint;
    v_ids text[];
    v_pids text[];
    v_pruned bigint;
BEGIN
    SELECT coalesce(string_agg(p.body::text, ',' ORDER BY p.seq), ''),
           max(p.seq), count(*),
           array_agg(p.id ORDER BY p.seq),
           array_agg(p.patient_hub_id ORDER BY p.seq)
      INTO v_json, v_next, v_n, v_ids, v_pids
      FROM (SELECT e.seq, e.id, e.patient_hub_id, e.body
              FROM hub_visible_events(p_org, p_admin, p_after) e
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
    v_next := coalesce(v_next, p_after);
    -- the page leaves the hub after this transaction's commit, which is
    -- synchronous and follows the commits of the events it holds: they
    -- are durable by then ("Durability" at the top of this file)
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

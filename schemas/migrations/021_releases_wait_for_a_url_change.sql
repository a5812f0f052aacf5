-- 021_releases_wait_for_a_url_change.sql - a release and a URL change of
-- its subscription take turns at the subscription's row (F2063).
--
-- 019 hands a released delivery back, then moves it to its subscription's
-- URL when the row's differs. A URL change (hub_sub_update) moves the open
-- deliveries that are not leased. When a release's flush was still open
-- while a later URL change ran start to finish, neither moved the job: the
-- change read the delivery as leased (the hand-back had not committed), in
-- its first pass and in its late one; the release had read the
-- subscription before the change committed; the change's NOTIFY found the
-- job handed back, held by no node; and the next claim sent it to the URL
-- the operator had moved away from (a compromised endpoint, say).
--
-- A flush that hands jobs back now locks their subscriptions (FOR NO KEY
-- UPDATE) before any deliveries or queue row, in the one statement, by id,
-- that locks the subscriptions whose health it may change: first in "Lock
-- order" (001_init.sql, routing), as hub_sub_update takes its row. Either
-- the change waits for the release's commit, and its first pass then reads
-- the job handed back and moves it; or the release waits for the change's,
-- and the statement that moves released rows (a statement of its own, with
-- a snapshot taken after the wait) reads the new URL. A replay (FOR SHARE),
-- a pause, a delete or a switch to the pull feed (FOR NO KEY UPDATE) of the
-- subscription take turns with a release the same way. FOR SHARE would be
-- enough against a change, but one locking clause covers a table in a
-- statement, and a second statement would lock out of id order (two
-- flushes, each with a health lock on the other's released subscription,
-- would deadlock); so two nodes handing back one subscription's jobs at
-- once (a change's NOTIFY) take turns for a flush's length. Releases are
-- rare: a flush without one locks what it locked before. The rest of
-- hub_deliveries_done() is 019's.

-- The deliveries of p_id whose URL is no longer their subscription's,
-- moved to it: the deliveries row (where the next attempt goes) and the
-- queue row's endpoint. A statement of its own, so it reads a change that
-- committed while its caller waited. Its callers (a release here, a
-- takeover in 022) hold the queue rows already, out of "Lock order": SKIP
-- LOCKED, so it never waits; a row another holds is left as it is, and
-- the caller says what becomes of it.
CREATE FUNCTION hub_deliveries_follow_url(p_id bigint[]) RETURNS void
LANGUAGE sql AS $$
    WITH mv AS (
        SELECT d.id, s.url
          FROM deliveries d
          JOIN subscriptions s ON s.id = d.subscription_id
         WHERE d.id = ANY (p_id)
           AND s.url IS NOT NULL AND s.url <> d.url
         ORDER BY d.id
           FOR NO KEY UPDATE OF d SKIP LOCKED
    ), u AS (
        UPDATE deliveries d SET url = mv.url,
               endpoint = hub_url_endpoint(mv.url), updated_at = now()
          FROM mv WHERE d.id = mv.id
        RETURNING d.id, d.endpoint
    )
    UPDATE delivery_queue q SET endpoint = u.endpoint
      FROM u WHERE q.delivery_id = u.id;
$$;

CREATE OR REPLACE FUNCTION hub_deliveries_done(p_node text, p_id bigint[],
    p_token bigint[], p_attempt int[], p_code int[], p_error text[],
    p_latency int[], p_outcome text[], p_delay bigint[],
    p_detail text[] DEFAULT NULL, p_sub text[] DEFAULT NULL,
    p_failing_after int DEFAULT 3)
RETURNS int LANGUAGE plpgsql
-- as hub_claim_deliveries(): plans for what a batch is (hundreds of rows
-- at times), not for what stale statistics say (one): rows by primary
-- key, joins by hash (a nested loop over the outcomes was quadratic)
SET enable_seqscan = off
SET enable_nestloop = off
SET jit = off
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_rel int := 0;
    -- whether the flush hands jobs back (rare: see "released" below)
    v_release boolean := 'release' = ANY (p_outcome);
    -- released deliveries that followed a URL move, and their endpoints
    m_id bigint[];
    v_notify boolean;
    v_last bigint;
    -- one entry per outcome of a delivery that exists, in p_id order
    a_id bigint[];
    a_outcome text[];
    a_mine boolean[];
    a_sub text[];
    a_patient text[];
    a_dtext text[];                 -- each audit row's detail
    a_oid text[];                   -- and its object id ('dlv_' || id)
    a_fin_seq bigint[];             -- event seq of a finished outcome
    a_rest text[];                  -- each audit row's canonical text
    a_k bigint[];                   -- each one's index in the p_ arrays
    -- the subscriptions whose health this flush may change, locked, in id
    -- order ("Health" below)
    v_hsubs text[];
    -- our leases, locked (in id order): the locked versions of their
    -- deliveries rows, the versions of their queue rows, and the index of
    -- each one's outcome in the arrays (its token is the queue row's)
    l_dtid tid[];
    l_qtid tid[];
    l_k bigint[];
    -- the audit rows' time as hub_audit_append_texts() stores it (now():
    -- the transaction's start) and as hub_audit_text() prints it
    v_at_text text := to_char(now() AT TIME ZONE 'UTC',
                              'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
    -- escaped once, not per row (to_json() looks up the type's output
    -- function at every call); so are the four outcomes by the CASE below
    v_node text := coalesce(to_json(p_node)::text, 'null');
    -- the audit chain's last seq before the outcomes not ours were looked
    -- for (NULL: none was)
    v_head bigint;
BEGIN
    IF coalesce(cardinality(p_id), 0) = 0 THEN
        RETURN 0;
    END IF;
    -- The commit does not wait for its WAL flush, so that the chain lock
    -- (taken below for the audit rows, held to the end of the transaction)
    -- is not held through it: every ingest waits for that lock. Nothing
    -- outside the database is told of an outcome when this commits (the
    -- receiver had the delivery before); what shows outcomes outside waits
    -- for a flush that covers them ("Durability" at the top of this file):
    -- the API and hubctl reads (store_durable()), and a claim that leases a
    -- delivery this outcome made due (its hub_durable() commit follows this
    -- one in the WAL), so per (subscription, patient) order holds after a
    -- crash. A crash before the flush loses the whole transaction, as a
    -- crash before the commit did: the leases expire, the deliveries are
    -- sent again (same webhook-id) and audited then; the chain stays whole
    -- (a later commit cannot be durable without this one).
    PERFORM set_config('synchronous_commit', 'off', true);
    -- the rows this flush will write, locked in the one order (see above)
    -- first the subscriptions: those of 410s, those whose health an
    -- outcome may change ("Health" below), and those of the jobs handed
    -- back (a URL change takes turns with the release at that row: see
    -- the top of the file), in one statement, by id. hubd
    -- names the batch's subscriptions, each once (p_sub, from its claims:
    -- one probe each, where the outcomes' ids were a sort of the batch);
    -- other callers (tests, psql) have them read from the deliveries rows.
    IF p_sub IS NULL THEN
        p_sub := ARRAY(SELECT DISTINCT d.subscription_id FROM deliveries d
                        WHERE d.id = ANY (p_id));
    END IF;
    IF 'gone' = ANY (p_outcome) OR 'dead' = ANY (p_outcome)
       OR p_failing_after = ANY (p_attempt) OR v_release THEN
        -- a failure that may change a health, a 410, or a release (rare):
        -- the subscriptions of those outcomes read from their deliveries
        -- rows (not locked: they come after), each subscription then by
        -- what its outcomes may do to its health now, or locked for a
        -- release alone (not in v_hsubs then)
        SELECT array_agg(x.id ORDER BY x.id) FILTER (WHERE x.health)
          INTO v_hsubs
          FROM (SELECT s.id, h.health
                  FROM subscriptions s
                  LEFT JOIN (
                        SELECT d.subscription_id AS sub,
                               bool_or(u.o = 'retry'
                                       AND u.a = p_failing_after) AS fail,
                               bool_or(u.o = 'dead') AS dead,
                               bool_or(u.o = 'gone') AS gone,
                               bool_or(u.o = 'release') AS rel
                          FROM unnest(p_id, p_outcome, p_attempt)
                               AS u(id, o, a)
                          JOIN deliveries d ON d.id = u.id
                         WHERE (u.o IN ('dead', 'gone', 'release')
                                OR (u.o = 'retry' AND u.a = p_failing_after))
                           AND d.id = ANY (p_id)
                         GROUP BY d.subscription_id) b ON b.sub = s.id
                 CROSS JOIN LATERAL (
                        SELECT coalesce(
                                   b.gone
                                   OR (s.health <> 'healthy'
                                       AND 'delivered' = ANY (p_outcome))
                                   OR (b.fail AND s.health = 'healthy')
                                   OR (b.dead AND s.health NOT IN
                                           ('dead-lettering', 'disabled')),
                                   false) AS health) h
                 WHERE s.id = ANY (p_sub) AND (h.health OR b.rel)
                 ORDER BY s.id FOR NO KEY UPDATE OF s) x;
    ELSE
        -- the usual flush (deliveries, early retries): only a
        -- subscription that is not healthy may change (back to healthy);
        -- one probe per subscription of the batch, no row locked while
        -- all are healthy
        SELECT array_agg(x.id ORDER BY x.id) INTO v_hsubs
          FROM (SELECT s.id FROM subscriptions s
                 WHERE s.id = ANY (p_sub) AND s.health <> 'healthy'
                   AND 'delivered' = ANY (p_outcome)
                 ORDER BY s.id FOR NO KEY UPDATE) x;
    END IF;
    -- A delivered outcome writes its queue row alone (deleted, below): the
    -- delivery's state is derived from that and from its attempt row
    -- (delivery_state), so its deliveries row is neither locked nor
    -- written (the lock and the update were 35-45k instructions an
    -- outcome). The other outcomes of our leases (retry, dead, gone) write
    -- the deliveries row: those rows are locked here, by id, each locked
    -- version's ctid kept with its queue row's, by which the outcome
    -- statement below writes them (TID scans, not a second probe of each
    -- primary key: 12k instructions per outcome). A deliveries row locked
    -- here cannot move until commit. A queue row can, only by a claim that
    -- took over an expired lease (a new version, a new token): the old
    -- version is then not visible, or fails the token test on the new one,
    -- and the outcome is 'lost' as before.
    -- (the tokens once each: "= ANY (p_token)" tested each row against
    -- every outcome's token, quadratic in the batch)
    IF cardinality(array_remove(array_remove(p_outcome, 'delivered'),
                                'release')) > 0 THEN
        SELECT array_agg(l.dtid), array_agg(l.qtid), array_agg(l.k)
          INTO l_dtid, l_qtid, l_k
          FROM (SELECT d.ctid AS dtid, q.ctid AS qtid, r.k
                  FROM deliveries d
                  JOIN delivery_queue q ON q.delivery_id = d.id
                  JOIN unnest(p_id, p_token, p_outcome) WITH ORDINALITY
                       AS r(id, token, outcome, k)
                       ON r.id = d.id AND r.token = q.lease_token
                 WHERE d.id = ANY (p_id) AND q.delivery_id = ANY (p_id)
                   AND r.outcome IS DISTINCT FROM 'delivered'
                   AND r.outcome IS DISTINCT FROM 'release'
                 ORDER BY d.id FOR NO KEY UPDATE OF d) l;
    END IF;
    -- queue rows need no lock of their own first: every other path that
    -- waits for a queue row holds its deliveries row before it (and a
    -- claim never waits), so no one holds one of ours while waiting for us
    -- (locked here too, they cost 5% more WAL per outcome); and this flush
    -- waits for no deliveries row after a queue row (the released ones it
    -- moves are taken SKIP LOCKED)
    -- released: claimed but never sent; handed back, uncounted (rare: a
    -- stop, a lease too short for the queue, or a change of the
    -- subscription that its held jobs carry, which the dispatcher heard of)
    IF v_release THEN
        -- handed back: the queue rows that still hold our token (a change
        -- of their subscription is not under way: it holds the
        -- subscription's row, locked above, until it commits)
        WITH rel AS (
            UPDATE delivery_queue q SET
                attempts = q.attempts - 1, lease_owner = NULL,
                lease_until = NULL, lease_token = NULL
              FROM unnest(p_id, p_token, p_outcome) AS r(id, token, outcome)
             WHERE r.outcome = 'release' AND q.delivery_id = r.id
               AND q.delivery_id = ANY (p_id) AND q.lease_token = r.token
            RETURNING q.delivery_id
        )
        SELECT array_agg(rel.delivery_id) INTO m_id FROM rel;
        v_rel := coalesce(cardinality(m_id), 0);
        -- one whose subscription's URL is not the row's any more (a move
        -- passed it by, leased) follows the move now, before it is claimed
        -- again: no attempt after a node has heard of the move goes to the
        -- old URL, and the row names where its next attempt goes (018).
        -- Read by a statement of its own, after any wait above (at the
        -- subscriptions: a change that committed meanwhile is seen). SKIP
        -- LOCKED: these deliveries rows come after the ones locked above,
        -- out of id order, so this never waits for one
        IF v_rel > 0 THEN
            PERFORM hub_deliveries_follow_url(m_id);
        END IF;
    END IF;

    -- outcomes of our own leases (the queue row still holds our token):
    -- the queue row goes (delivered, dead, gone) or is due again later
    -- (retry); but for a delivered one, the deliveries row takes the new
    -- state; the attempt rows are written; the rest comes back as arrays
    -- (and whether to wake the dispatchers)
    -- Each outcome's values are read from the arrays by its index k (no
    -- table of the outcomes: unnest() of eight arrays copied each element
    -- into a tuplestore of its own, and each step joined that table again)
    WITH del AS (
        -- delivered: the queue row goes, found by primary key with our
        -- token; nothing else is written
        DELETE FROM delivery_queue q
         USING unnest(p_id, p_token, p_outcome) WITH ORDINALITY
               AS r(id, token, outcome, k)
         WHERE q.delivery_id = ANY (p_id) AND q.delivery_id = r.id
           AND q.lease_token = r.token AND r.outcome = 'delivered'
        RETURNING r.k, q.delivery_id AS id, q.event_seq, q.subscription_id,
                  q.patient_hub_id
    ), x AS (
        SELECT x.qtid, x.dtid, x.k
          FROM unnest(l_qtid, l_dtid, l_k) AS x(qtid, dtid, k)
    ), fin AS (
        DELETE FROM delivery_queue q USING x
         WHERE q.ctid = ANY (l_qtid) AND q.ctid = x.qtid
           AND q.lease_token = p_token[x.k] AND p_outcome[x.k] <> 'retry'
        RETURNING x.k, x.dtid, q.attempts, NULL::timestamptz AS due_at
    ), ret AS (
        UPDATE delivery_queue q SET
            due_at = clock_timestamp() + make_interval(secs =>
                     coalesce(p_delay[x.k], 0) / 1000.0),
            lease_owner = NULL, lease_until = NULL, lease_token = NULL,
            -- the next attempt goes where the subscription sends now (a
            -- URL change while this one was under way passed it by: 016)
            endpoint = coalesce((SELECT hub_url_endpoint(s.url)
                                   FROM subscriptions s
                                  WHERE s.id = q.subscription_id
                                        COLLATE "default"), q.endpoint)
          FROM x
         WHERE q.ctid = ANY (l_qtid) AND q.ctid = x.qtid
           AND q.lease_token = p_token[x.k] AND p_outcome[x.k] = 'retry'
        RETURNING x.k, x.dtid, q.attempts, q.due_at
    ), mine AS (
        SELECT * FROM fin UNION ALL SELECT * FROM ret
    ), upd AS (
        UPDATE deliveries d SET
            status = CASE p_outcome[m.k] WHEN 'retry' THEN 'failed'
                                         ELSE 'dead' END,
            attempts = m.attempts,
            next_attempt_at = coalesce(m.due_at, d.next_attempt_at),
            last_status = p_code[m.k], last_error = p_error[m.k],
            delivered_at = NULL, updated_at = now(),
            -- a retry: where the subscription sends now (as ret's
            -- endpoint; a pull subscription has no URL, a dead letter
            -- keeps where it went)
            url = CASE WHEN p_outcome[m.k] = 'retry'
                       THEN coalesce((SELECT s.url FROM subscriptions s
                                       WHERE s.id = d.subscription_id),
                                     d.url)
                       ELSE d.url END,
            endpoint = CASE WHEN p_outcome[m.k] = 'retry'
                            THEN coalesce((SELECT hub_url_endpoint(s.url)
                                             FROM subscriptions s
                                            WHERE s.id = d.subscription_id),
                                          d.endpoint)
                            ELSE d.endpoint END
          FROM mine m
         WHERE d.ctid = ANY (l_dtid) AND d.ctid = m.dtid
        -- what the audit rows need of the row, as it is written: no
        -- second probe of deliveries for each of our outcomes
        RETURNING m.k, true AS mine, d.event_id, d.event_seq,
                  d.subscription_id, d.org_id, d.patient_hub_id
    ), o AS (
        SELECT * FROM upd
        UNION ALL
        -- delivered: the queue row has what the audit row needs but the
        -- detail, which hubd wrote; else (no detail given) the deliveries
        -- row is read for it (the event id, the recipient), not locked
        SELECT del.k, true, d.event_id, del.event_seq, del.subscription_id,
               d.org_id, del.patient_hub_id
          FROM del LEFT JOIN deliveries d
               ON d.id = del.id
              AND d.id = ANY (ARRAY(SELECT e.id FROM del e
                                     WHERE p_detail[e.k] IS NULL))
        UNION ALL
        -- outcomes of leases another node took over ('lost'; rare): their
        -- rows read by primary key (ids known once upd and del are done:
        -- none, as a rule); looked for only when upd and del together
        -- hold fewer rows than the outcomes to record (a one-time filter:
        -- else no unnest, no hash of upd and del)
        SELECT r.k, false, d.event_id, d.event_seq, d.subscription_id,
               d.org_id, d.patient_hub_id
          FROM unnest(p_id, p_outcome) WITH ORDINALITY AS r(id, outcome, k)
          JOIN deliveries d ON d.id = r.id
         WHERE (SELECT count(*) FROM upd) + (SELECT count(*) FROM del)
               < cardinality(p_id)
                 - cardinality(array_positions(p_outcome, 'release'))
           AND d.id = ANY (ARRAY(
                   SELECT r2.id
                     FROM unnest(p_id, p_outcome) WITH ORDINALITY
                          AS r2(id, outcome, k)
                    WHERE r2.outcome IS DISTINCT FROM 'release'
                      AND r2.k NOT IN (SELECT u.k FROM upd u)
                      AND r2.k NOT IN (SELECT e.k FROM del e)))
           AND r.outcome IS DISTINCT FROM 'release'
           AND r.k NOT IN (SELECT u.k FROM upd u)
           AND r.k NOT IN (SELECT e.k FROM del e)
    ), t AS (
        SELECT o.k, p_id[o.k] AS id, p_attempt[o.k] AS attempt,
               p_code[o.k] AS code, p_error[o.k] AS error,
               coalesce(p_latency[o.k], 0) AS latency_ms,
               p_outcome[o.k] AS outcome, o.mine, o.event_id, o.event_seq,
               o.subscription_id, o.org_id, o.patient_hub_id AS patient
          FROM o
    )
    -- the arrays in p_id order: one sort (the subquery), which each
    -- aggregate reads in that order (an ORDER BY each was a sort each)
    SELECT array_agg(t.id), array_agg(t.outcome), array_agg(t.mine),
           array_agg(t.subscription_id), array_agg(t.k),
           array_agg(t.patient),
           -- the disclosure: what went to whom, for which patient (ids
           -- only): {event, subscription, recipient, attempt, code, error,
           -- latency_ms, outcome, node} written as jsonb prints it (keys by
           -- length, then bytes; ", " and ": "; strings escaped as jsonb
           -- escapes them) and stored as that text (audit.detail): hubd
           -- writes it (dispatch.c), with the ids the claim returned;
           -- building it here (below, when hubd did not) cost five
           -- to_json() and a read of the deliveries row per outcome
           array_agg(t.dtext), array_agg('dlv_' || t.id),
           array_agg(', "' || v_at_text
                     || '", "hubd", "delivery.attempt", "delivery", "dlv_'
                     || t.id || '", '
                     || coalesce(to_json(t.patient)::text, 'null') || ', '
                     || t.dtext || ']'),
           -- finished: may make a later delivery of its patient due
           array_agg(CASE WHEN t.mine AND t.outcome <> 'retry'
                          THEN t.event_seq END)
      INTO a_id, a_outcome, a_mine,
           a_sub, a_k, a_patient, a_dtext, a_oid, a_rest, a_fin_seq
      FROM (SELECT t.*,
                   CASE WHEN p_detail[t.k] IS NULL THEN
                   '{"code": ' || coalesce(t.code::text, 'null')
                   || ', "node": ' || v_node
                   || ', "error": ' || coalesce(to_json(t.error)::text, 'null')
                   || ', "event": ' || coalesce(to_json(t.event_id)::text, 'null')
                   || ', "attempt": ' || coalesce(t.attempt::text, 'null')
                   || ', "outcome": ' || CASE WHEN NOT t.mine THEN '"lost"'
                                              WHEN t.outcome IN ('delivered', 'retry', 'dead', 'gone')
                                              THEN '"' || t.outcome || '"'
                                              ELSE coalesce(to_json(t.outcome)::text, 'null') END
                   || ', "recipient": ' || coalesce(to_json(t.org_id)::text, 'null')
                   || ', "latency_ms": ' || t.latency_ms
                   || ', "subscription": '
                   || coalesce(to_json(t.subscription_id)::text, 'null')
                   || '}'
                   -- another node's lease: hubd's outcome becomes 'lost'
                   -- (its outcome is a plain token; a '"' in a string value
                   -- is escaped, so only the key matches)
                   WHEN NOT t.mine THEN
                       replace(p_detail[t.k],
                               '"outcome": "' || t.outcome || '", ',
                               '"outcome": "lost", ')
                   ELSE p_detail[t.k] END AS dtext
              FROM t ORDER BY t.k OFFSET 0) t;
    -- an outcome can make a later delivery of the same patient due: probed
    -- until the first one found (an aggregate probed every outcome); a
    -- scalar subquery, never flattened into a join: an index probe per
    -- outcome whatever the plan settings above
    v_notify := v_rel > 0 OR EXISTS (
        SELECT 1 FROM unnest(a_fin_seq, a_sub, a_patient) AS u(seq, sub, pat)
         WHERE u.seq IS NOT NULL
           AND (SELECT 1 FROM delivery_queue o
                 WHERE o.subscription_id = u.sub COLLATE "C"
                   AND o.patient_hub_id = u.pat COLLATE "C"
                   AND o.event_seq > u.seq
                 LIMIT 1) IS NOT NULL);
    IF v_notify THEN
        PERFORM pg_notify('hub_deliveries', '');
    END IF;
    -- outcomes not ours whose attempt row is there already: this flush's
    -- first try committed, its answer lost ("Outcomes recorded again" in
    -- 011); a statement of its own, so that it sees what committed while
    -- the one above waited for our rows
    IF false = ANY (a_mine) THEN
        SELECT coalesce(max(a.seq), 0) INTO v_head FROM audit a;
        SELECT * INTO a_id, a_outcome, a_mine, a_sub, a_k, a_patient,
                      a_dtext, a_oid, a_rest, a_fin_seq
          FROM hub_outcomes_unrecorded(a_id, a_outcome, a_mine, a_sub, a_k,
                                       a_patient, a_dtext, a_oid, a_rest,
                                       a_fin_seq, NULL);
    END IF;
    IF a_id IS NULL THEN
        RETURN v_rel;
    END IF;

    PERFORM hub_chain_lock();        -- last: see "Lock order" (routing)
    -- and those that a first try still running then recorded (its rows
    -- come after v_head: the chain's seq order is its commit order)
    IF v_head IS NOT NULL AND false = ANY (a_mine) THEN
        SELECT * INTO a_id, a_outcome, a_mine, a_sub, a_k, a_patient,
                      a_dtext, a_oid, a_rest, a_fin_seq
          FROM hub_outcomes_unrecorded(a_id, a_outcome, a_mine, a_sub, a_k,
                                       a_patient, a_dtext, a_oid, a_rest,
                                       a_fin_seq, v_head);
        IF a_id IS NULL THEN
            RETURN v_rel;
        END IF;
    END IF;
    IF NOT 'gone' = ANY (a_outcome) THEN
        PERFORM hub_audit_append_texts(
            array_fill('hubd'::text, ARRAY[cardinality(a_id)]),
            array_fill('delivery.attempt'::text, ARRAY[cardinality(a_id)]),
            array_fill('delivery'::text, ARRAY[cardinality(a_id)]),
            a_oid, a_patient, a_dtext, a_rest);
    ELSE
        -- 410 Gone disables the subscription; its audit row comes right
        -- after the attempt that disabled it
        WITH u AS (
            SELECT * FROM unnest(a_id, a_outcome, a_mine, a_sub, a_patient,
                                 a_dtext::jsonb[])
                   WITH ORDINALITY AS u(id, outcome, mine, sub, patient,
                                        detail, k)
        ), gone AS (
            SELECT DISTINCT ON (u.sub) u.sub, u.k, u.id
              FROM u WHERE u.mine AND u.outcome = 'gone'
             ORDER BY u.sub, u.k
        ), dis AS (
            UPDATE subscriptions s SET status = 'disabled',
                   status_reason = 'gone', updated_at = now()
              FROM gone g
             WHERE s.id = g.sub AND s.status <> 'disabled'
            RETURNING s.id, g.k, g.id AS dlv
        ), a AS (
            SELECT u.k, 0 AS sub, 'delivery.attempt'::text AS action,
                   'delivery'::text AS kind, 'dlv_' || u.id AS oid,
                   u.patient, u.detail
              FROM u
            UNION ALL
            SELECT dis.k, 1, 'subscription.disabled', 'subscription', dis.id,
                   NULL, jsonb_build_object('reason', 'gone',
                                            'delivery', 'dlv_' || dis.dlv)
              FROM dis
        )
        SELECT hub_audit_append_many(
                   array_agg('hubd'::text ORDER BY k, sub),
                   array_agg(action ORDER BY k, sub),
                   array_agg(kind ORDER BY k, sub),
                   array_agg(oid ORDER BY k, sub),
                   array_agg(patient ORDER BY k, sub),
                   array_agg(detail ORDER BY k, sub))
          INTO v_last FROM a;
    END IF;
    IF v_hsubs IS NOT NULL THEN
        PERFORM hub_health_apply(v_hsubs, a_id, a_outcome, a_mine, a_sub,
                                 a_k, a_patient, p_attempt, p_code, p_error,
                                 p_failing_after, p_token);
    END IF;
    RETURN v_rel + (SELECT count(*) FROM unnest(a_mine) m WHERE m)::int;
END $$;

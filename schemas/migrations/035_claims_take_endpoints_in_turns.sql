-- 035_claims_take_endpoints_in_turns.sql - a claim takes every
-- endpoint's first due row before any endpoint's second (F4222).
--
-- The dispatcher asks each claim for at most one endpoint's share of rows
-- (its per-endpoint cap cannot bind) and passes by the endpoints at their
-- share (the skip list, F3940). The claim took due rows oldest first from
-- the endpoints it did not pass by. With sixteen slow endpoints the share
-- (the room / (8 + those at it)) is small, and some of them are below it
-- at every claim: each claim took their oldest rows, and another
-- endpoint's new event, due last, waited behind every older row of theirs
-- (8.9 s in the test dispatch::a_new_event_is_claimed_before_slow_endpoints_older_rows).
-- Now a claim with a skip list, or with more than one endpoint with open
-- rows, takes rows in turns: each endpoint's next due row (in due order,
-- by delivery_queue_endpoint_due, 033) in each turn, at most p_per_endpoint
-- rows of one endpoint; a turn's rows, when more than are wanted, are
-- taken oldest first. Each turn reads about as many rows as it takes (its
-- rows an endpoint: those wanted / the endpoints left), so a claim reads
-- no more than 033's due walk did, and an empty claim of a one-endpoint
-- drain (its endpoint at its share) reads none of its rows (033 read
-- p_max x 4 of them first). A claim with no skip list and one endpoint
-- with open rows (a one-endpoint drain's refills) walks as before: two
-- index descents more (min and max of the endpoint). The guarantees of
-- 022 and 033 hold as they were: due rows only, no live lease, the
-- subscription active, a row after its subscription's and patient's
-- first open one (whatever its endpoint) left for later, the leases by
-- primary key re-checked on the locked row (SKIP LOCKED), at most p_max.
-- hub_claim_deliveries() is 033's otherwise.

CREATE OR REPLACE FUNCTION hub_claim_deliveries(p_owner text, p_lease_ms int,
    p_max int, p_per_endpoint int, p_skip text[],
    p_report_waits boolean DEFAULT false)
-- (only what a dispatcher sends with, and the ids its attempt rows'
-- details name: each column is copied into the function's result store and
-- out again per delivery)
-- order_waits (with p_report_waits): after this claim, the deliveries
-- p_owner holds that due rows wait behind (the first open delivery of
-- their subscription and patient: the per-patient order). The dispatcher
-- records the outcome of one of those at once instead of after its
-- linger, since that commit is what lets the rows behind it go (a burst
-- of one patient's events, A04 then A08s, went out 50 ms apart); other
-- outcomes keep the linger. NULL: not looked for (a full claim: the
-- dispatcher claims again soon). When some are named and nothing was
-- leased, the one row returned has a NULL id.
RETURNS TABLE (id bigint, token bigint, attempt int,
               url text, endpoint text, secrets text, client_cert text,
               client_key text, ca_bundle text, body text,
               event text, subscription text, recipient text,
               order_waits bigint[])
LANGUAGE plpgsql
-- The plans must not depend on statistics, which lag behind a queue
-- table's churn (a fresh database plans for an empty table; a scan and sort
-- of every due row per claim is the cost that grew with the backlog). With
-- these off, the walks in index order are the only plans left.
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_sort = off
-- the sorts left (a few hundred rows) carry the disabled-path cost, which
-- would make every claim compile itself with JIT (most of a second)
SET jit = off
-- one plan per statement for the session, not one per call: with the
-- settings above the plans do not depend on the values, and planning the
-- claim again cost 15k instructions per delivery at 16 rows a claim (2k
-- at 256)
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_token bigint := nextval('delivery_lease_seq');
    -- a value, not clock_timestamp() per row: an index bound, so the walk
    -- stops at the first row not yet due
    v_now timestamptz := clock_timestamp();
    -- candidates read when the per-endpoint cap binds: a margin over p_max
    -- for rows another node locks meanwhile (SKIP LOCKED), and room for
    -- other endpoints
    v_read int := p_max * 4;
    v_skip text[] COLLATE "C" := coalesce(p_skip, '{}');
    -- walked per endpoint in turns (a skip list, or more than one
    -- endpoint with open rows): the endpoints with open rows that the skip
    -- list does not name; NULL otherwise
    v_eps text[] COLLATE "C";
    v_lo text COLLATE "C";
    v_hi text COLLATE "C";
    -- the turns' state: the endpoints that may have more rows, the last
    -- row read of each (due_at, delivery_id), rows read of each so far,
    -- the rows still wanted, this turn's rows an endpoint and its rows
    v_left text[] COLLATE "C";
    v_after_due timestamptz[];
    v_after_id bigint[];
    v_read_ep int := 0;
    v_need int;
    v_turn int := 0;
    v_l int;
    v_got bigint[];
    -- walked per endpoint: the rows to lease, in the order taken
    v_cand bigint[] := '{}';
    v_ids bigint[];
    v_attempts int[];
    v_waits bigint[];
    -- whether the claim took over an expired lease (rare: its node died,
    -- or lost the time to finish it); then the rows whose subscription's
    -- URL is not theirs any more, and those of them it could not move
    v_took boolean;
    v_stuck bigint[];
    -- The active subscriptions, when there are few: a row's subscription
    -- is then looked for in this array, not probed in subscriptions (a
    -- B-tree descent and a subplan per row walked: 9k instructions a
    -- delivery with 1 subscription); when there are more than 64, NULL,
    -- and each row is probed (so that the search of the array, element
    -- by element, stays cheaper than the probe). Read just before the walk,
    -- where the probe read it at the walk's start: either way a claim that
    -- starts after a pause committed sees it.
    v_active text[] COLLATE "C" := ARRAY(
        SELECT s.id FROM subscriptions s
         WHERE s.status = 'active' AND s.deleted_at IS NULL
         LIMIT 65);
BEGIN
    IF cardinality(v_active) > 64 THEN
        v_active := NULL;
    END IF;
    IF cardinality(v_skip) = 0 THEN
        -- one endpoint with open rows (or none), two index descents: its
        -- due order is the turns' order, walked as below without them
        SELECT min(q.endpoint), max(q.endpoint) INTO v_lo, v_hi
          FROM delivery_queue q;
    END IF;
    IF cardinality(v_skip) > 0 OR v_lo <> v_hi THEN
        -- the endpoints of the open rows, one index descent each (the
        -- skipped ones too, but none of their rows)
        v_eps := ARRAY(
            WITH RECURSIVE eps(e) AS (
                SELECT min(q.endpoint) FROM delivery_queue q
                UNION ALL
                SELECT (SELECT min(q.endpoint) FROM delivery_queue q
                         WHERE q.endpoint > eps.e)
                  FROM eps WHERE eps.e IS NOT NULL
            )
            SELECT eps.e FROM eps
             WHERE eps.e IS NOT NULL AND eps.e <> ALL (v_skip));
        -- In turns (F4222): every endpoint's first due row before any
        -- endpoint's second, and so on, at most p_per_endpoint rows of
        -- one. In due order, the rows of the endpoints below their share
        -- came first, and a new row, due last, waited behind all of them.
        -- Each turn reads the next v_l rows of each endpoint left (by
        -- delivery_queue_endpoint_due, after the last row read), v_l
        -- enough for the rows wanted if every endpoint has them: a turn
        -- reads about what it takes, an endpoint with fewer goes out of
        -- the next turn; the fourth reads all that is wanted. The
        -- conditions: as in the walks below.
        v_left := v_eps;
        v_after_due := array_fill('-infinity'::timestamptz,
                                  ARRAY[cardinality(v_eps)]);
        v_after_id := array_fill(0::bigint, ARRAY[cardinality(v_eps)]);
        v_need := p_max;
        WHILE v_need > 0 AND cardinality(v_left) > 0 LOOP
            v_turn := v_turn + 1;
            v_l := CASE WHEN v_turn >= 4 THEN v_need
                        ELSE (v_need + cardinality(v_left) - 1)
                             / cardinality(v_left) END;
            v_l := least(v_l, p_per_endpoint - v_read_ep);
            EXIT WHEN v_l <= 0;
            v_read_ep := v_read_ep + v_l;
            WITH r AS MATERIALIZED (
                SELECT ep.n, ep.e, c.id, c.due_at,
                       row_number() OVER (PARTITION BY ep.n
                                          ORDER BY c.due_at, c.id) rn
                  FROM unnest(v_left, v_after_due, v_after_id)
                       WITH ORDINALITY AS ep(e, d, i, n)
                 CROSS JOIN LATERAL (
                    SELECT q0.delivery_id AS id, q0.due_at
                      FROM delivery_queue q0
                     WHERE q0.endpoint = ep.e
                       AND (q0.due_at, q0.delivery_id) > (ep.d, ep.i)
                       AND q0.due_at <= v_now
                       AND (q0.lease_until IS NULL OR q0.lease_until < v_now)
                       AND (v_active IS NULL
                            OR q0.subscription_id = ANY (v_active))
                       AND (v_active IS NOT NULL
                            OR (SELECT s.status = 'active'
                                       AND s.deleted_at IS NULL
                                  FROM subscriptions s
                                 WHERE s.id = q0.subscription_id
                                       COLLATE "default"))
                       AND (SELECT o.event_seq FROM delivery_queue o
                             WHERE o.subscription_id = q0.subscription_id
                               AND o.patient_hub_id = q0.patient_hub_id
                               AND o.event_seq < q0.event_seq
                             LIMIT 1) IS NULL
                     ORDER BY q0.due_at, q0.delivery_id
                     LIMIT v_l) c
            )
            SELECT (SELECT array_agg(r.id ORDER BY r.rn, r.due_at, r.id)
                      FROM r),
                   -- those with v_l rows may have more: the next turn's
                   ARRAY(SELECT r.e FROM r WHERE r.rn = v_l ORDER BY r.n),
                   ARRAY(SELECT r.due_at FROM r WHERE r.rn = v_l
                          ORDER BY r.n),
                   ARRAY(SELECT r.id FROM r WHERE r.rn = v_l ORDER BY r.n)
              INTO v_got, v_left, v_after_due, v_after_id;
            v_cand := v_cand || coalesce(v_got[1:v_need], '{}');
            v_need := p_max - cardinality(v_cand);
        END LOOP;
        -- the candidates leased by primary key, as the ranked branch does
        WITH due AS (
            SELECT q.ctid AS tid, q.lease_until IS NOT NULL AS took
              FROM delivery_queue q
             WHERE q.delivery_id = ANY (v_cand)
               AND q.due_at + interval '0' <= clock_timestamp()
               AND (q.lease_until IS NULL OR q.lease_until < clock_timestamp())
             LIMIT p_max
             FOR UPDATE SKIP LOCKED
        ), upd AS (
            UPDATE delivery_queue q
               SET lease_owner = p_owner,
                   lease_until = clock_timestamp()
                                 + make_interval(secs => p_lease_ms / 1000.0),
                   lease_token = v_token, attempts = q.attempts + 1
              FROM due WHERE q.ctid = due.tid
            RETURNING q.delivery_id, q.attempts, due.took
        )
        SELECT array_agg(u.delivery_id ORDER BY u.delivery_id),
               array_agg(u.attempts ORDER BY u.delivery_id), bool_or(u.took)
          INTO v_ids, v_attempts, v_took
          FROM upd u;
    ELSIF p_per_endpoint >= p_max THEN
        -- The cap cannot bind (as a rule: the dispatcher asks for at
        -- most per_endpoint x 64 rows): the walk locks the rows it takes,
        -- in due order, until it has p_max (SKIP LOCKED: a row another
        -- node holds is passed by; one whose lease another claim took
        -- meanwhile fails the conditions, checked again on the locked
        -- version). No candidates read beyond those taken (a quarter more
        -- below), no ranking, no second probe by primary key: 23k
        -- instructions per delivery less. The probes: as below.
        WITH due AS (
            SELECT q0.ctid AS tid, q0.lease_until IS NOT NULL AS took
              FROM delivery_queue q0
             WHERE q0.due_at <= v_now
               AND (q0.lease_until IS NULL OR q0.lease_until < v_now)
               AND q0.endpoint <> ALL (v_skip)
               -- subscription active: found in v_active, or probed
               -- (two conditions, not a CASE: the cheap one comes first)
               AND (v_active IS NULL
                    OR q0.subscription_id = ANY (v_active))
               AND (v_active IS NOT NULL
                    OR (SELECT s.status = 'active' AND s.deleted_at IS NULL
                          FROM subscriptions s
                         WHERE s.id = q0.subscription_id COLLATE "default"))
               AND (SELECT o.event_seq FROM delivery_queue o
                     WHERE o.subscription_id = q0.subscription_id
                       AND o.patient_hub_id = q0.patient_hub_id
                       AND o.event_seq < q0.event_seq
                     LIMIT 1) IS NULL
             ORDER BY q0.due_at, q0.delivery_id
             LIMIT p_max
             FOR UPDATE SKIP LOCKED
        ), upd AS (
            UPDATE delivery_queue q
               SET lease_owner = p_owner,
                   lease_until = clock_timestamp()
                                 + make_interval(secs => p_lease_ms / 1000.0),
                   lease_token = v_token, attempts = q.attempts + 1
              FROM due WHERE q.ctid = due.tid
            RETURNING q.delivery_id, q.attempts, due.took
        )
        SELECT array_agg(u.delivery_id ORDER BY u.delivery_id),
               array_agg(u.attempts ORDER BY u.delivery_id), bool_or(u.took)
          INTO v_ids, v_attempts, v_took
          FROM upd u;
    ELSE
        -- the cap binds: candidates in due order, ranked per endpoint,
        -- then leased by primary key
        WITH cand AS MATERIALIZED (
            SELECT q0.delivery_id AS id, q0.endpoint, q0.due_at
              FROM delivery_queue q0
             WHERE q0.due_at <= v_now
               AND (q0.lease_until IS NULL OR q0.lease_until < v_now)
               AND q0.endpoint <> ALL (v_skip)
               -- subscription active: found in v_active, or probed
               -- (two conditions, not a CASE: the cheap one comes first)
               AND (v_active IS NULL
                    OR q0.subscription_id = ANY (v_active))
               AND (v_active IS NOT NULL
                    OR (SELECT s.status = 'active' AND s.deleted_at IS NULL
                          FROM subscriptions s
                         WHERE s.id = q0.subscription_id COLLATE "default"))
               -- a scalar subquery is never flattened into a join: a per-row
               -- probe of delivery_queue_order whatever the statistics say
               -- (NOT EXISTS ... LIMIT 1 is: PostgreSQL drops the LIMIT)
               AND (SELECT o.event_seq FROM delivery_queue o
                     WHERE o.subscription_id = q0.subscription_id
                       AND o.patient_hub_id = q0.patient_hub_id
                       AND o.event_seq < q0.event_seq
                     LIMIT 1) IS NULL
             ORDER BY q0.due_at, q0.delivery_id
             LIMIT v_read
        ), ranked AS (
            SELECT c.id, row_number() OVER (PARTITION BY c.endpoint
                                            ORDER BY c.due_at, c.id) rn
              FROM cand c
        ), due AS (
            -- by primary key, in id order (no sort: see SET above); the
            -- locked version's ctid, by which the UPDATE below finds it again
            -- (a TID scan, not a second probe of the primary key; the row is
            -- ours until commit, so the version cannot move)
            SELECT q.ctid AS tid, q.lease_until IS NOT NULL AS took
              FROM delivery_queue q
             WHERE q.delivery_id = ANY (ARRAY(SELECT r.id FROM ranked r
                                               WHERE r.rn <= p_per_endpoint))
               -- re-checked on the locked row version; written so that no
               -- other index matches it: the rows come by primary key
               AND q.due_at + interval '0' <= clock_timestamp()
               AND (q.lease_until IS NULL OR q.lease_until < clock_timestamp())
             LIMIT p_max
             FOR UPDATE SKIP LOCKED
        ), upd AS (
            UPDATE delivery_queue q
               SET lease_owner = p_owner,
                   lease_until = clock_timestamp()
                                 + make_interval(secs => p_lease_ms / 1000.0),
                   lease_token = v_token, attempts = q.attempts + 1
              FROM due WHERE q.ctid = due.tid
            RETURNING q.delivery_id, q.attempts, due.took
        )
        -- in id order (an aggregate's ORDER BY: no plan sort)
        SELECT array_agg(u.delivery_id ORDER BY u.delivery_id),
               array_agg(u.attempts ORDER BY u.delivery_id), bool_or(u.took)
          INTO v_ids, v_attempts, v_took
          FROM upd u;
    END IF;
    -- A row whose lease expired was held by a node that died, or that
    -- lost the time to finish it, and may name a URL its subscription
    -- moved away from meanwhile: the move (hub_sub_update) left it, leased,
    -- for that node to hand back at the move's NOTIFY, which a dead node
    -- never reads. Such rows follow the move here, as a release moves them
    -- (021), before they are sent: deliveries row and queue row's endpoint.
    -- The deliveries rows come after the queue rows locked above, out of
    -- "Lock order": SKIP LOCKED, so the claim never waits; one that
    -- another holds (an outcome flush of the old holder, a cancel) is left
    -- as it was, its lease expired, unsent and uncounted, for a later
    -- claim. A change that commits after this statement read the
    -- subscription is this node's to hear (its NOTIFY: the claim went
    -- before it), as for any claim.
    IF v_took THEN
        PERFORM hub_deliveries_follow_url(v_ids);
        -- those still at an old URL (their deliveries rows were locked):
        -- not ours after all, nobody's (not among the rows order_waits
        -- names), due to the next claim as a takeover again
        v_stuck := ARRAY(
            SELECT d.id FROM deliveries d
              JOIN subscriptions s ON s.id = d.subscription_id
             WHERE d.id = ANY (v_ids)
               AND s.url IS NOT NULL AND s.url <> d.url);
        IF cardinality(v_stuck) > 0 THEN
            UPDATE delivery_queue q SET lease_owner = NULL,
                   lease_until = v_now, lease_token = NULL,
                   attempts = q.attempts - 1
             WHERE q.delivery_id = ANY (v_stuck);
            SELECT array_agg(u.id ORDER BY u.id),
                   array_agg(u.a ORDER BY u.id)
              INTO v_ids, v_attempts
              FROM unnest(v_ids, v_attempts) AS u(id, a)
             WHERE u.id <> ALL (v_stuck);
        END IF;
    END IF;
    -- The deliveries of ours that due rows wait behind (see order_waits
    -- above): looked for only when the walk ran out of rows to take, for
    -- the first 64 due rows not leased (rows that wait longer, behind a
    -- retry's backoff, stay at the front: past them nothing is found, and
    -- an outcome waits its linger, as before). Each one's chain head by
    -- the order index; this claim's own leases are newer than v_now, so
    -- none of them is among the rows looked at, and a head that is not
    -- ours, or not leased, is left out.
    IF p_report_waits AND coalesce(cardinality(v_ids), 0) < p_max
       AND cardinality(v_skip) > 0 THEN
        -- with a skip list: the first 64 of the endpoints not skipped,
        -- each walked on its own as above
        v_waits := ARRAY(
            SELECT h.delivery_id
              FROM (SELECT w.subscription_id, w.patient_hub_id
                      FROM unnest(v_eps) AS ep(e)
                     CROSS JOIN LATERAL (
                        SELECT q0.subscription_id, q0.patient_hub_id,
                               q0.due_at, q0.delivery_id
                          FROM delivery_queue q0
                         WHERE q0.endpoint = ep.e
                           AND q0.due_at <= v_now
                           AND (q0.lease_until IS NULL
                                OR q0.lease_until < v_now)
                         ORDER BY q0.due_at, q0.delivery_id
                         LIMIT 64) w
                     ORDER BY w.due_at, w.delivery_id
                     LIMIT 64) c
             CROSS JOIN LATERAL (
                    SELECT o.delivery_id, o.lease_owner, o.lease_until
                      FROM delivery_queue o
                     WHERE o.subscription_id = c.subscription_id
                       AND o.patient_hub_id = c.patient_hub_id
                     ORDER BY o.event_seq
                     LIMIT 1) h
             WHERE h.lease_owner = p_owner AND h.lease_until >= v_now);
    ELSIF p_report_waits AND coalesce(cardinality(v_ids), 0) < p_max THEN
        v_waits := ARRAY(
            SELECT h.delivery_id
              FROM (SELECT q0.subscription_id, q0.patient_hub_id
                      FROM delivery_queue q0
                     WHERE q0.due_at <= v_now
                       AND (q0.lease_until IS NULL OR q0.lease_until < v_now)
                       AND q0.endpoint <> ALL (v_skip)
                     ORDER BY q0.due_at, q0.delivery_id
                     LIMIT 64) c
             CROSS JOIN LATERAL (
                    SELECT o.delivery_id, o.lease_owner, o.lease_until
                      FROM delivery_queue o
                     WHERE o.subscription_id = c.subscription_id
                       AND o.patient_hub_id = c.patient_hub_id
                     ORDER BY o.event_seq
                     LIMIT 1) h
             WHERE h.lease_owner = p_owner AND h.lease_until >= v_now);
    END IF;
    -- nothing claimed (a NOTIFY whose rows an earlier claim took, a poll
    -- with nothing due): no query to start and stop (526k -> 407k
    -- instructions for such a claim)
    IF v_ids IS NULL THEN
        -- nothing leased, nothing to send: the commit need not wait for
        -- its WAL flush
        PERFORM set_config('synchronous_commit', 'off', true);
        IF cardinality(v_waits) > 0 THEN
            id := NULL;
            order_waits := v_waits;
            RETURN NEXT;
        END IF;
        RETURN;
    END IF;
    -- A claim that leased rows commits synchronously (hub_durable())
    -- before the dispatcher sends them: an ingest commits without waiting
    -- for its flush (hub_ingest_fast), and the bodies read here must not
    -- leave the hub before they are durable ("Durability" at the top of
    -- this file). This commit's record follows theirs in the WAL, so its
    -- flush covers them. (The lease alone would not need it: lost in a
    -- crash, the delivery is claimed again, same webhook-id.)
    PERFORM hub_durable();
    -- the rows to send: each deliveries row by primary key, in that order;
    -- an event's body read only for the first of its rows (a subquery: a
    -- join probed events for every row, ten times an event with ten
    -- subscriptions)
    RETURN QUERY
    SELECT d.id, v_token, u.attempts, d.url, d.endpoint,
           array_to_string(s.secrets, ' '), s.client_cert, s.client_key,
           s.ca_bundle,
           CASE WHEN lag(d.event_seq) OVER (ORDER BY u.k)
                     IS DISTINCT FROM d.event_seq
                THEN (SELECT e.body FROM events e WHERE e.seq = d.event_seq)
           END,
           d.event_id, d.subscription_id, d.org_id, v_waits
      FROM unnest(v_ids, v_attempts) WITH ORDINALITY AS u(id, attempts, k)
      JOIN deliveries d ON d.id = u.id
      JOIN subscriptions s ON s.id = d.subscription_id
     ORDER BY u.k;
END $$;

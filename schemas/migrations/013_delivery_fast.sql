-- 013_delivery_fast.sql - the delivery path in a few set-based statements,
-- with the audit-chain lock held only for the audit rows.
--
-- hub_claim_deliveries(): walks the due index in (next_attempt_at, id)
--   order and stops after the rows it needs, instead of reading and ranking
--   every due row on each claim (a claim cost grew with the backlog).
--   Expired leases come from deliveries_leased the same way. Same result:
--   due rows, oldest first, whose subscription is active, whose endpoint is
--   not skipped, with no open earlier delivery of the same (subscription,
--   patient), at most p_per_endpoint per endpoint, locked SKIP LOCKED.
-- hub_deliveries_done(): one UPDATE and one INSERT for the outcomes, then
--   the chain lock, then the audit rows (one per attempt, in the order of
--   p_results, as before) in one hub_audit_append_many() call. The chain
--   lock used to be taken first and held through a loop of per-row
--   statements, which stalled every ingest transaction (they need the same
--   lock) for the whole of it. Lock order stays deadlock-free: before the
--   chain lock this transaction only locks deliveries that are
--   'delivering' under its own lease token, which nothing that holds the
--   chain lock waits for (replays and subscription updates only touch
--   delivered, failed, dead or pending rows); rows of other nodes ('lost'
--   outcomes) and subscriptions (410) are touched after it.
--   NOTIFY hub_deliveries only when an outcome can make other work due (a
--   released row, or a finished one with a later open delivery of the same
--   subscription and patient): a retry is found by the poll.
-- hub_route_events(): one statement (no temporary table, no call of
--   hub_sub_matches() per (event, subscription)); same matching rules.
-- Both dispatcher functions pin their plans (SET enable_* below): the
-- statistics of a queue table lag behind its churn, and a plan made for
-- the wrong size turned a claim into a scan of every open row.
-- Known limit: due rows that cannot be claimed now (a paused
-- subscription's backlog, an endpoint whose breaker is open, events behind
-- a failing one of their patient) are still walked past on every claim.

DROP INDEX IF EXISTS deliveries_due;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id)
    WHERE status IN ('pending', 'failed');
-- A queue table: vacuumed often, so that the walks of the due and leased
-- indexes do not wade through the entries of rows already sent.
ALTER TABLE deliveries SET (autovacuum_vacuum_scale_factor = 0.02,
                            autovacuum_vacuum_threshold = 2000,
                            autovacuum_analyze_scale_factor = 0.05);
-- Every state change of a delivery (pending, delivering, delivered: two
-- updates per delivery, neither HOT) paid an entry in an index on status;
-- only the states an operator looks for stay indexed (failures and dead
-- letters), the hot path is in the partial indexes above and below.
DROP INDEX IF EXISTS deliveries_status;
CREATE INDEX deliveries_status ON deliveries (status, id)
    WHERE status IN ('failed', 'dead');
-- lease_until is set by a claim and cleared by every outcome and release:
-- not null exactly while 'delivering'. A predicate on it (not on status)
-- lets the expired-lease walk use this index and nothing else.
DROP INDEX IF EXISTS deliveries_leased;
CREATE INDEX deliveries_leased ON deliveries (lease_until)
    WHERE lease_until IS NOT NULL;

CREATE OR REPLACE FUNCTION hub_claim_deliveries(p_owner text, p_lease_ms int,
    p_max int, p_per_endpoint int, p_skip text[])
RETURNS TABLE (id bigint, token bigint, attempt int, event_id text,
               subscription_id text, org_id text, patient_hub_id text,
               url text, endpoint text, secrets text, client_cert text,
               client_key text, ca_bundle text, body text)
LANGUAGE plpgsql
-- The plans must not depend on statistics, which lag behind a queue
-- table's churn (a fresh database plans for an empty table; a scan and sort
-- of every due row per claim is the cost that grew with the backlog). With
-- these off, the walks in index order are the only plans left; the
-- statements are written so that the intended index is the only one that
-- fits (CASE where a partial index must not match).
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_sort = off
-- the sorts left (a few hundred rows) carry the disabled-path cost, which
-- would make every claim compile itself with JIT (most of a second)
SET jit = off
AS $$
DECLARE
    v_token bigint := nextval('delivery_lease_seq');
    -- a value, not clock_timestamp() per row: an index bound, so the walks
    -- stop at the first row not yet due (or still leased)
    v_now timestamptz := clock_timestamp();
    -- candidates read: a margin over p_max for rows another node locks
    -- meanwhile (SKIP LOCKED), and room for other endpoints when the
    -- per-endpoint cap binds
    v_read int := CASE WHEN p_per_endpoint >= p_max THEN p_max + p_max / 4 + 1
                       ELSE p_max * 4 END;
BEGIN
    -- a claim need not wait for its WAL flush: lost in a crash, the
    -- delivery is simply claimed again (same webhook-id), and the outcome
    -- that follows is committed durably, flushing this record with it
    PERFORM set_config('synchronous_commit', 'off', true);
    RETURN QUERY
    WITH cand AS MATERIALIZED (
        (SELECT d0.id, d0.endpoint, d0.next_attempt_at AS due_at
           FROM deliveries d0
          WHERE d0.status IN ('pending', 'failed')
            AND d0.next_attempt_at <= v_now
            AND d0.endpoint <> ALL (coalesce(p_skip, '{}'))
            AND (SELECT s.status = 'active' AND s.deleted_at IS NULL
                   FROM subscriptions s WHERE s.id = d0.subscription_id)
            -- a scalar subquery is never flattened into a join: a per-row
            -- probe of deliveries_open_order whatever the statistics say
            -- (NOT EXISTS ... LIMIT 1 is: PostgreSQL drops the LIMIT)
            AND (SELECT o.event_seq FROM deliveries o
                  WHERE o.subscription_id = d0.subscription_id
                    AND o.patient_hub_id = d0.patient_hub_id
                    AND o.event_seq < d0.event_seq
                    AND o.status IN ('pending', 'failed', 'delivering')
                  LIMIT 1) IS NULL
          ORDER BY d0.next_attempt_at, d0.id
          LIMIT v_read)
        UNION ALL
        (SELECT d0.id, d0.endpoint, d0.next_attempt_at
           FROM deliveries d0
          WHERE d0.lease_until < v_now
            -- a CASE: no partial index on status matches (see above)
            AND CASE WHEN d0.status = 'delivering' THEN true ELSE false END
            AND d0.endpoint <> ALL (coalesce(p_skip, '{}'))
            AND (SELECT s.status = 'active' AND s.deleted_at IS NULL
                   FROM subscriptions s WHERE s.id = d0.subscription_id)
            AND (SELECT o.event_seq FROM deliveries o
                  WHERE o.subscription_id = d0.subscription_id
                    AND o.patient_hub_id = d0.patient_hub_id
                    AND o.event_seq < d0.event_seq
                    AND o.status IN ('pending', 'failed', 'delivering')
                  LIMIT 1) IS NULL
          ORDER BY d0.lease_until
          LIMIT v_read)
    ), ranked AS (
        SELECT c.id, row_number() OVER (PARTITION BY c.endpoint
                                        ORDER BY c.due_at, c.id) rn
          FROM cand c
    ), due AS (
        -- by primary key, in id order (no sort: see SET above)
        SELECT d.id FROM deliveries d
         WHERE d.id = ANY (ARRAY(SELECT r.id FROM ranked r
                                  WHERE r.rn <= p_per_endpoint))
           -- re-checked on the locked row version; a CASE, so that no
           -- partial index matches it: the rows come by primary key
           AND CASE WHEN d.status IN ('pending', 'failed')
                    THEN d.next_attempt_at <= clock_timestamp()
                    WHEN d.status = 'delivering'
                    THEN d.lease_until < clock_timestamp()
                    ELSE false END
         LIMIT p_max
         FOR UPDATE SKIP LOCKED
    ), upd AS (
        UPDATE deliveries d
           SET status = 'delivering', lease_owner = p_owner,
               lease_until = clock_timestamp()
                             + make_interval(secs => p_lease_ms / 1000.0),
               lease_token = v_token, attempts = d.attempts + 1,
               updated_at = now()
          FROM due WHERE d.id = due.id
        RETURNING d.*
    )
    SELECT u.id, v_token, u.attempts, u.event_id, u.subscription_id,
           u.org_id, u.patient_hub_id, u.url, u.endpoint,
           array_to_string(s.secrets, ' '), s.client_cert, s.client_key,
           s.ca_bundle, e.body::text
      FROM upd u
      JOIN subscriptions s ON s.id = u.subscription_id
      JOIN events e ON e.seq = u.event_seq
     ORDER BY u.id;
END $$;

CREATE OR REPLACE FUNCTION hub_deliveries_done(p_node text, p_results jsonb)
RETURNS int LANGUAGE plpgsql
-- as hub_claim_deliveries(): plans for what a batch is (hundreds of rows
-- at times), not for what stale statistics say (one): rows by primary
-- key, joins by hash (a nested loop over the outcomes was quadratic)
SET enable_seqscan = off
SET enable_nestloop = off
SET jit = off
AS $$
DECLARE
    -- every id of p_results: "d.id = ANY (v_ids)" makes each statement
    -- read deliveries by primary key whatever the statistics say
    v_ids bigint[] := ARRAY(SELECT (e->>'id')::bigint
                              FROM jsonb_array_elements(p_results) e);
    v_rel int := 0;
    v_notify boolean;
    v_last bigint;
    -- one entry per outcome of a delivery that exists, in p_results order
    a_id bigint[];
    a_attempt int[];
    a_code int[];
    a_error text[];
    a_latency int[];
    a_outcome text[];
    a_mine boolean[];
    a_sub text[];
    a_patient text[];
    a_detail jsonb[];
BEGIN
    -- released: claimed but never sent; handed back, uncounted (rare: a
    -- stop, or a lease too short for the queue)
    IF p_results @> '[{"outcome": "release"}]' THEN
        UPDATE deliveries d SET
            status = CASE WHEN d.attempts > 1 THEN 'failed' ELSE 'pending' END,
            attempts = d.attempts - 1, lease_owner = NULL, lease_until = NULL,
            lease_token = NULL, updated_at = now()
          FROM jsonb_to_recordset(p_results) AS r(id bigint, token bigint,
                                                  outcome text)
         WHERE r.outcome = 'release' AND d.id = r.id AND d.id = ANY (v_ids)
           -- a CASE: no partial index on status is walked for it
           AND CASE WHEN d.status = 'delivering'
                    THEN d.lease_token = r.token ELSE false END;
        GET DIAGNOSTICS v_rel = ROW_COUNT;
    END IF;

    -- outcomes of our own leases: the new state and the attempt rows; the
    -- rest comes back as arrays (and whether to wake the dispatchers)
    WITH r AS (
        SELECT o.ord, x.*
          FROM jsonb_array_elements(p_results) WITH ORDINALITY AS o(v, ord),
               jsonb_to_record(o.v) AS x(id bigint, token bigint, attempt int,
                   code int, error text, latency_ms int, outcome text,
                   delay_ms bigint)
         WHERE x.outcome IS DISTINCT FROM 'release'
    ), fin AS (
        UPDATE deliveries d SET
            status = CASE r.outcome WHEN 'delivered' THEN 'delivered'
                                    WHEN 'retry' THEN 'failed'
                                    ELSE 'dead' END,
            next_attempt_at = CASE WHEN r.outcome = 'retry'
                THEN clock_timestamp() + make_interval(secs =>
                     coalesce(r.delay_ms, 0) / 1000.0)
                ELSE d.next_attempt_at END,
            lease_owner = NULL, lease_until = NULL, lease_token = NULL,
            last_status = r.code, last_error = r.error,
            delivered_at = CASE WHEN r.outcome = 'delivered'
                                THEN clock_timestamp() END,
            updated_at = now()
          FROM r
         WHERE d.id = r.id AND d.id = ANY (v_ids)
           AND CASE WHEN d.status = 'delivering'
                    THEN d.lease_token = r.token ELSE false END
        RETURNING r.ord
    ), t AS (
        SELECT r.ord, r.id, r.attempt, r.code, r.error,
               coalesce(r.latency_ms, 0) AS latency_ms, r.outcome,
               f.ord IS NOT NULL AS mine, d.event_id, d.event_seq,
               d.subscription_id, d.org_id, d.patient_hub_id AS patient
          FROM r JOIN deliveries d ON d.id = r.id AND d.id = ANY (v_ids)
          LEFT JOIN fin f ON f.ord = r.ord
    ), att AS (
        INSERT INTO delivery_attempts (delivery_id, attempt, status_code,
                                       error, latency_ms, outcome, node)
        SELECT t.id, t.attempt, t.code, t.error, t.latency_ms, t.outcome,
               p_node
          FROM t WHERE t.mine ORDER BY t.ord
    )
    SELECT array_agg(t.id ORDER BY t.ord), array_agg(t.attempt ORDER BY t.ord),
           array_agg(t.code ORDER BY t.ord), array_agg(t.error ORDER BY t.ord),
           array_agg(t.latency_ms ORDER BY t.ord),
           array_agg(t.outcome ORDER BY t.ord), array_agg(t.mine ORDER BY t.ord),
           array_agg(t.subscription_id ORDER BY t.ord),
           array_agg(t.patient ORDER BY t.ord),
           -- the disclosure: what went to whom, for which patient (ids only)
           array_agg(jsonb_build_object('event', t.event_id,
                   'subscription', t.subscription_id,
                   'recipient', t.org_id, 'attempt', t.attempt,
                   'code', t.code, 'error', t.error,
                   'outcome', CASE WHEN t.mine THEN t.outcome ELSE 'lost' END,
                   'node', p_node) ORDER BY t.ord),
           -- an outcome can make a later delivery of the same patient due
           coalesce(bool_or(t.mine AND t.outcome <> 'retry' AND EXISTS (
               SELECT 1 FROM deliveries o
                WHERE o.subscription_id = t.subscription_id
                  AND o.patient_hub_id = t.patient
                  AND o.event_seq > t.event_seq
                  AND o.status IN ('pending', 'failed'))), false)
      INTO a_id, a_attempt, a_code, a_error, a_latency, a_outcome, a_mine,
           a_sub, a_patient, a_detail, v_notify
      FROM t;
    IF v_notify OR v_rel > 0 THEN
        PERFORM pg_notify('hub_deliveries', '');
    END IF;
    IF a_id IS NULL THEN
        RETURN v_rel;
    END IF;

    PERFORM hub_chain_lock();        -- see the header: row locks are ours
    -- an outcome for a lease that is no longer ours: recorded, as 'lost'
    IF false = ANY (a_mine) THEN
        INSERT INTO delivery_attempts (delivery_id, attempt, status_code,
                                       error, latency_ms, outcome, node)
        SELECT u.id, u.attempt, u.code, u.error, u.latency, 'lost', p_node
          FROM unnest(a_id, a_attempt, a_code, a_error, a_latency, a_mine)
               WITH ORDINALITY AS u(id, attempt, code, error, latency, mine, k)
         WHERE NOT u.mine ORDER BY u.k;
    END IF;
    IF NOT 'gone' = ANY (a_outcome) THEN
        PERFORM hub_audit_append_many(
            array_fill('hubd'::text, ARRAY[cardinality(a_id)]),
            array_fill('delivery.attempt'::text, ARRAY[cardinality(a_id)]),
            array_fill('delivery'::text, ARRAY[cardinality(a_id)]),
            ARRAY(SELECT 'dlv_' || u.id FROM unnest(a_id) WITH ORDINALITY
                         AS u(id, k) ORDER BY u.k),
            a_patient, a_detail);
    ELSE
        -- 410 Gone disables the subscription; its audit row comes right
        -- after the attempt that disabled it
        WITH u AS (
            SELECT * FROM unnest(a_id, a_outcome, a_mine, a_sub, a_patient,
                                 a_detail)
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
    RETURN v_rel + (SELECT count(*) FROM unnest(a_mine) m WHERE m)::int;
END $$;

-- hub_route_events(): the same routing in one statement. hub_sub_matches()
-- cannot be inlined (its sub-selects forbid it), so it cost a function call
-- per (event, subscription) inside the ingest transaction, under the chain
-- lock; here each subscription's filters and each event's values are read
-- once, and a pair costs a few array operators. The matching rules are
-- hub_sub_matches()'s, term by term (which stays, for reference and tests).
-- No temporary table: one statement writes event_routes, deliveries and the
-- 'event.routed' audit rows.
CREATE OR REPLACE FUNCTION hub_route_events(p_seqs bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_new bigint;
    v_last bigint;
BEGIN
    IF p_seqs IS NULL OR cardinality(p_seqs) = 0 THEN
        RETURN;
    END IF;
    WITH s AS MATERIALIZED (
        -- hub_jsonb_texts(), inline here and below: as a function it is a
        -- call per use (its sub-select keeps it from being inlined)
        SELECT s.id, s.org_id, s.mode, s.url,
               -- hub_url_endpoint(s.url), inline (a SQL function call that
               -- cannot be inlined costs more than all the rest of a
               -- subscription's set-up)
               CASE WHEN s.mode <> 'webhook' THEN NULL
                    WHEN u.m[3] IS NOT NULL
                    THEN u.m[1] || '://' || u.m[2] || u.m[3]
                    WHEN u.m[1] = 'https' THEN u.m[1] || '://' || u.m[2] || ':443'
                    ELSE u.m[1] || '://' || u.m[2] || ':80' END AS endpoint,
               ARRAY(SELECT hub_topic_like(t) FROM unnest(s.topics) t) AS likes,
               s.filters ? 'orgs' AS has_orgs,
               CASE WHEN jsonb_typeof(s.filters->'orgs') = 'array'
                    THEN ARRAY(SELECT jsonb_array_elements_text(s.filters->'orgs'))
                    ELSE '{}'::text[] END AS orgs,
               s.filters ? 'facilities' AS has_facilities,
               CASE WHEN jsonb_typeof(s.filters->'facilities') = 'array'
                    THEN ARRAY(SELECT jsonb_array_elements_text(s.filters->'facilities'))
                    ELSE '{}'::text[] END AS facilities,
               s.filters ? 'patient_classes' AS has_classes,
               CASE WHEN jsonb_typeof(s.filters->'patient_classes') = 'array'
                    THEN ARRAY(SELECT jsonb_array_elements_text(s.filters->'patient_classes'))
                    ELSE '{}'::text[] END AS classes,
               s.filters ? 'domains' AS has_domains,
               CASE WHEN jsonb_typeof(s.filters->'domains') = 'array'
                    THEN ARRAY(SELECT jsonb_array_elements_text(s.filters->'domains'))
                    ELSE '{}'::text[] END AS domains,
               s.filters ? 'counties' AS has_counties,
               ARRAY(SELECT lower(x) FROM jsonb_array_elements_text(
                   CASE WHEN jsonb_typeof(s.filters->'counties') = 'array'
                        THEN s.filters->'counties' ELSE '[]' END) x)
                   AS counties,
               CASE WHEN jsonb_typeof(s.filters->'sensitivity') = 'array'
                    THEN ARRAY(SELECT jsonb_array_elements_text(s.filters->'sensitivity'))
                    ELSE '{}'::text[] END AS sensitivity
          FROM subscriptions s,
               LATERAL (SELECT regexp_match(lower(s.url),
                   '^([a-z]+)://([^/?#:\[\]]+|\[[^\]]*\])(:[0-9]+)?') AS m) u
         WHERE s.deleted_at IS NULL AND s.status <> 'disabled'
    ), f AS MATERIALIZED (
        -- which filters any subscription uses: only those are read
        SELECT coalesce(bool_or(s.has_facilities), false) AS facilities,
               coalesce(bool_or(s.has_classes), false) AS classes,
               coalesce(bool_or(s.has_domains), false) AS domains,
               coalesce(bool_or(s.has_counties), false) AS counties
          FROM s
    ), b AS MATERIALIZED (
        -- the body decompressed once ("|| '{}'" returns it detoasted):
        -- a stored body is compressed, and every -> would decompress it
        SELECT e.seq, e.id, e.patient_hub_id, e.type, e.org_id,
               e.body || '{}'::jsonb AS body
          FROM events e
         WHERE e.seq = ANY (p_seqs)
           AND EXISTS (SELECT 1 FROM s)
    ), e AS MATERIALIZED (
        SELECT b.seq, b.id, b.patient_hub_id, b.type, b.org_id,
               CASE WHEN f.facilities THEN
                   ARRAY[b.body->'source'->>'sending_facility',
                         b.body->'encounter'->>'facility',
                         b.body->'encounter'->'location'->>'facility'] END
                   AS facilities,
               CASE WHEN f.classes THEN
                   ARRAY[b.body->'encounter'->>'patient_class',
                         b.body->'encounter'->>'class'] END AS classes,
               CASE WHEN f.domains THEN
                   hub_jsonb_texts(b.body->'screening'->'positive_domains')
                   || hub_jsonb_texts(b.body->'screening'->'domains')
                   || ARRAY[b.body->'referral'->>'domain',
                            b.body->'condition'->>'domain'] END AS domains,
               CASE WHEN f.counties THEN
                   ARRAY(SELECT lower(a->>'county')
                           FROM jsonb_array_elements(
                                    CASE WHEN jsonb_typeof(
                                             b.body->'patient'->'addresses')
                                             = 'array'
                                         THEN b.body->'patient'->'addresses'
                                         ELSE '[]' END) a) END AS counties,
               CASE WHEN jsonb_typeof(b.body->'sensitivity') = 'array'
                    THEN ARRAY(SELECT jsonb_array_elements_text(
                                          b.body->'sensitivity'))
                    ELSE '{}'::text[] END AS sensitivity
          FROM b, f
    ), m AS MATERIALIZED (
        SELECT e.seq AS event_seq, e.id AS event_id, e.patient_hub_id AS patient,
               s.id AS sub_id, s.org_id, s.mode, s.url, s.endpoint
          FROM e JOIN s
            ON e.type LIKE ANY (s.likes)
           AND (NOT s.has_orgs OR e.org_id = ANY (s.orgs))
           AND (NOT s.has_facilities OR e.facilities && s.facilities)
           AND (NOT s.has_classes OR e.classes && s.classes)
           AND (NOT s.has_domains OR e.domains && s.domains)
           AND (NOT s.has_counties OR e.counties && s.counties)
           -- sensitive data (42 CFR Part 2 ...) only to who opted in
           AND e.sensitivity <@ s.sensitivity
    ), er AS (
        INSERT INTO event_routes (org_id, event_seq)
        SELECT DISTINCT m.org_id, m.event_seq FROM m
        ON CONFLICT DO NOTHING
    ), dl AS (
        INSERT INTO deliveries (event_seq, event_id, subscription_id, org_id,
                                patient_hub_id, url, endpoint)
        SELECT m.event_seq, m.event_id, m.sub_id, m.org_id, m.patient, m.url,
               m.endpoint
          FROM m WHERE m.mode = 'webhook'
         ORDER BY m.event_seq
        ON CONFLICT DO NOTHING
        RETURNING 1
    ), r AS (
        -- the routing decisions, one audit row per routed event (ids only)
        SELECT m.event_seq AS seq, m.event_id, min(m.patient) AS patient,
               jsonb_build_object('subscriptions', jsonb_agg(DISTINCT m.sub_id),
                                  'orgs', jsonb_agg(DISTINCT m.org_id)) AS detail
          FROM m GROUP BY m.event_seq, m.event_id
    )
    SELECT a.last, (SELECT count(*) FROM dl)
      INTO v_last, v_new
      FROM (SELECT hub_audit_append_many(
                       array_agg('hubd'::text ORDER BY seq),
                       array_agg('event.routed'::text ORDER BY seq),
                       array_agg('event'::text ORDER BY seq),
                       array_agg(event_id ORDER BY seq),
                       array_agg(patient ORDER BY seq),
                       array_agg(detail ORDER BY seq)) AS last
              FROM r) a;
    IF v_new > 0 THEN
        PERFORM pg_notify('hub_deliveries', '');
    END IF;
END $$;

-- 036_a_flush_of_deliveries.sql - a flush whose outcomes are all
-- deliveries takes a path of its own (F4420, the ruling on F4364).
--
-- A draining dispatcher flushes 32-57 outcomes at a time, nearly all of them
-- 2xx, and hub_deliveries_done() (021) pays for each call what its other
-- outcomes need: plan start-up of a dozen nodes (retry, dead-letter, lost),
-- a sort and a detail CASE per outcome, a count for its return. Here a batch
-- of deliveries does only what a delivery needs, in the order and under the
-- locks of hub_deliveries_done(), whose comments ("Health", "Durability",
-- "Lock order" in 001_init.sql; 011, 021) hold here too:
--   the subscriptions that are not healthy locked first (a delivery makes
--   them healthy), by id; no other subscription or deliveries row is locked;
--   each queue row deleted only while it holds our lease token: an outcome
--   of a lease another node took over is not ours;
--   the outcomes not ours (lost, or recorded by a first try whose answer
--   was lost: a re-flush after a reconnect) go to hub_deliveries_done(),
--   which records them as it always did, with the subscriptions already
--   locked here as its own (it locks nothing new);
--   the attempt rows appended to the audit chain under the chain lock,
--   last; a NOTIFY when a delivery made a later one of its (subscription,
--   patient) due; health as hub_health_apply() makes it.
-- Any other batch (an outcome not 'delivered', a detail not given, the
-- subscriptions not named) goes to hub_deliveries_done() whole, so that this
-- takes what that takes. hubd calls this for a batch of deliveries alone
-- (hub/dispatch_db.c, db_flush).

CREATE FUNCTION hub_deliveries_delivered(p_node text, p_id bigint[],
    p_token bigint[], p_attempt int[], p_code int[], p_error text[],
    p_latency int[], p_outcome text[], p_delay bigint[],
    p_detail text[] DEFAULT NULL, p_sub text[] DEFAULT NULL,
    p_failing_after int DEFAULT 3)
RETURNS int LANGUAGE plpgsql
-- as hub_deliveries_done()
SET enable_seqscan = off
SET enable_nestloop = off
SET jit = off
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_n int := coalesce(cardinality(p_id), 0);
    v_hsubs text[];
    -- our deliveries, in p_id order: as hub_deliveries_done()'s a_ arrays
    a_id bigint[];
    a_sub text[];
    a_k bigint[];
    a_patient text[];
    a_dtext text[];
    a_oid text[];
    a_rest text[];
    a_seq bigint[];
    r_k int[];                      -- the outcomes not ours
    v_others int := 0;
    v_at_text text := to_char(now() AT TIME ZONE 'UTC',
                              'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
BEGIN
    IF v_n = 0 THEN
        RETURN 0;
    END IF;
    IF p_sub IS NULL OR p_detail IS NULL OR cardinality(p_detail) <> v_n
       OR array_position(p_detail, NULL) IS NOT NULL
       OR cardinality(array_remove(p_outcome, 'delivered')) > 0 THEN
        RETURN hub_deliveries_done(p_node, p_id, p_token, p_attempt, p_code,
                                   p_error, p_latency, p_outcome, p_delay,
                                   p_detail, p_sub, p_failing_after);
    END IF;
    PERFORM set_config('synchronous_commit', 'off', true);   -- as 021's
    -- a delivery may change a health only back to healthy
    SELECT array_agg(x.id ORDER BY x.id) INTO v_hsubs
      FROM (SELECT s.id FROM subscriptions s
             WHERE s.id = ANY (p_sub) AND s.health <> 'healthy'
             ORDER BY s.id FOR NO KEY UPDATE) x;
    -- our leases: the queue row goes, found by primary key with our token;
    -- it has all the audit row needs but the detail, which hubd wrote
    WITH del AS (
        DELETE FROM delivery_queue q
         USING unnest(p_id, p_token) WITH ORDINALITY AS r(id, token, k)
         WHERE q.delivery_id = ANY (p_id) AND q.delivery_id = r.id
           AND q.lease_token = r.token
        RETURNING r.k, q.delivery_id AS id, q.event_seq,
                  q.subscription_id, q.patient_hub_id
    )
    SELECT array_agg(t.id), array_agg(t.subscription_id), array_agg(t.k),
           array_agg(t.patient_hub_id), array_agg(p_detail[t.k]),
           array_agg('dlv_' || t.id),
           array_agg(', "' || v_at_text
                     || '", "hubd", "delivery.attempt", "delivery", "dlv_'
                     || t.id || '", '
                     || coalesce(to_json(t.patient_hub_id)::text, 'null')
                     || ', ' || p_detail[t.k] || ']'),
           array_agg(t.event_seq)
      INTO a_id, a_sub, a_k, a_patient, a_dtext, a_oid, a_rest, a_seq
      FROM (SELECT * FROM del ORDER BY del.k OFFSET 0) t;
    -- the rest (none, as a rule) as hub_deliveries_done() records them
    IF coalesce(cardinality(a_id), 0) < v_n THEN
        r_k := ARRAY(SELECT k FROM generate_subscripts(p_id, 1) AS k
                      WHERE k <> ALL (coalesce(a_k, '{}')) ORDER BY k);
        v_others := hub_deliveries_done(p_node,
            ARRAY(SELECT p_id[k] FROM unnest(r_k) k),
            ARRAY(SELECT p_token[k] FROM unnest(r_k) k),
            ARRAY(SELECT p_attempt[k] FROM unnest(r_k) k),
            ARRAY(SELECT p_code[k] FROM unnest(r_k) k),
            ARRAY(SELECT p_error[k] FROM unnest(r_k) k),
            ARRAY(SELECT p_latency[k] FROM unnest(r_k) k),
            ARRAY(SELECT p_outcome[k] FROM unnest(r_k) k),
            ARRAY(SELECT p_delay[k] FROM unnest(r_k) k),
            ARRAY(SELECT p_detail[k] FROM unnest(r_k) k),
            coalesce(v_hsubs, '{}'), p_failing_after);
        IF a_id IS NULL THEN
            RETURN v_others;
        END IF;
    END IF;
    -- as 021's: probed until the first later delivery found
    IF EXISTS (
        SELECT 1 FROM unnest(a_seq, a_sub, a_patient) AS u(seq, sub, pat)
         WHERE (SELECT 1 FROM delivery_queue o
                 WHERE o.subscription_id = u.sub COLLATE "C"
                   AND o.patient_hub_id = u.pat COLLATE "C"
                   AND o.event_seq > u.seq
                 LIMIT 1) IS NOT NULL) THEN
        PERFORM pg_notify('hub_deliveries', '');
    END IF;
    PERFORM hub_chain_lock();        -- last: see "Lock order" (routing)
    PERFORM hub_audit_append_texts(
        array_fill('hubd'::text, ARRAY[cardinality(a_id)]),
        array_fill('delivery.attempt'::text, ARRAY[cardinality(a_id)]),
        array_fill('delivery'::text, ARRAY[cardinality(a_id)]),
        a_oid, a_patient, a_dtext, a_rest);
    IF v_hsubs IS NOT NULL THEN
        PERFORM hub_health_apply(v_hsubs, a_id,
            array_fill('delivered'::text, ARRAY[cardinality(a_id)]),
            array_fill(true, ARRAY[cardinality(a_id)]), a_sub, a_k,
            a_patient, p_attempt, p_code, p_error, p_failing_after, p_token);
    END IF;
    RETURN cardinality(a_id) + v_others;
END $$;

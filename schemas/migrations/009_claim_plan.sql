-- 009_claim_plan.sql - hub_claim_deliveries() with a plan that does not
-- depend on fresh statistics: the order check is a per-row index probe
-- (LIMIT 1 keeps the subquery from being flattened into an anti-join, which
-- on a table whose statistics lag its churn became a nested loop over every
-- open delivery: seconds for a claim), and the claimed ids are looked up by
-- primary key (= ANY (ARRAY(...))) rather than semi-joined against the CTE.

CREATE OR REPLACE FUNCTION hub_claim_deliveries(p_owner text, p_lease_ms int,
    p_max int, p_per_endpoint int, p_skip text[])
RETURNS TABLE (id bigint, token bigint, attempt int, event_id text,
               subscription_id text, org_id text, patient_hub_id text,
               url text, endpoint text, secrets text, client_cert text,
               client_key text, ca_bundle text, body text)
LANGUAGE plpgsql AS $$
DECLARE
    v_token bigint := nextval('delivery_lease_seq');
BEGIN
    -- a claim need not wait for its WAL flush: lost in a crash, the
    -- delivery is simply claimed again (same webhook-id), and the outcome
    -- that follows is committed durably, flushing this record with it
    PERFORM set_config('synchronous_commit', 'off', true);
    RETURN QUERY
    WITH cand AS (
        SELECT d.id, row_number() OVER (PARTITION BY d.endpoint
                                        ORDER BY d.next_attempt_at, d.id) rn
          FROM (SELECT d0.* FROM deliveries d0
                  JOIN subscriptions s ON s.id = d0.subscription_id
                 WHERE s.status = 'active' AND s.deleted_at IS NULL
                   AND ((d0.status IN ('pending', 'failed')
                         AND d0.next_attempt_at <= clock_timestamp())
                        OR (d0.status = 'delivering'
                            AND d0.lease_until < clock_timestamp()))
                   AND d0.endpoint <> ALL (coalesce(p_skip, '{}'))
                   -- LIMIT 1 keeps this a per-row probe of
                   -- deliveries_open_order, never a flattened anti-join
                   AND NOT EXISTS (
                       SELECT 1 FROM deliveries o
                        WHERE o.subscription_id = d0.subscription_id
                          AND o.patient_hub_id = d0.patient_hub_id
                          AND o.event_seq < d0.event_seq
                          AND o.status IN ('pending', 'failed', 'delivering')
                        LIMIT 1)
                 ORDER BY d0.next_attempt_at, d0.id
                 LIMIT p_max * 4) d
    ), due AS (
        SELECT d.id FROM deliveries d
         WHERE d.id = ANY (ARRAY(SELECT c.id FROM cand c
                                  WHERE c.rn <= p_per_endpoint))
           -- re-checked on the locked row version
           AND ((d.status IN ('pending', 'failed')
                 AND d.next_attempt_at <= clock_timestamp())
                OR (d.status = 'delivering'
                    AND d.lease_until < clock_timestamp()))
         ORDER BY d.next_attempt_at, d.id
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

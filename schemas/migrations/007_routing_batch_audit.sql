-- 007_routing_batch_audit.sql - routing and delivery outcomes write their
-- audit rows with one hub_audit_append_many() call per transaction instead
-- of one hub_audit_append() per row: one read of the chain head and one
-- INSERT, as ingest does. Same rows, same order, same contents.

CREATE OR REPLACE FUNCTION hub_route_events(p_seqs bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_new bigint;
BEGIN
    IF p_seqs IS NULL OR cardinality(p_seqs) = 0 THEN
        RETURN;
    END IF;
    CREATE TEMP TABLE IF NOT EXISTS hub_route_tmp (
        event_seq bigint, event_id text, patient text, sub_id text,
        org_id text, mode text, url text) ON COMMIT DELETE ROWS;
    DELETE FROM hub_route_tmp;
    INSERT INTO hub_route_tmp
    SELECT e.seq, e.id, e.patient_hub_id, s.id, s.org_id, s.mode, s.url
      FROM events e
      JOIN subscriptions s
        ON s.deleted_at IS NULL AND s.status <> 'disabled'
       AND hub_sub_matches(s.topics, s.filters, e.type, e.org_id, e.body)
     WHERE e.seq = ANY (p_seqs);
    IF NOT FOUND THEN
        RETURN;                 -- routed nowhere: nothing to write
    END IF;

    INSERT INTO event_routes (org_id, event_seq)
    SELECT DISTINCT org_id, event_seq FROM hub_route_tmp
    ON CONFLICT DO NOTHING;

    INSERT INTO deliveries (event_seq, event_id, subscription_id, org_id,
                            patient_hub_id, url, endpoint)
    SELECT event_seq, event_id, sub_id, org_id, patient, url,
           hub_url_endpoint(url)
      FROM hub_route_tmp WHERE mode = 'webhook'
     ORDER BY event_seq
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS v_new = ROW_COUNT;

    -- the routing decisions, one audit row per routed event (ids only),
    -- appended in one call
    PERFORM hub_audit_append_many(array_agg('hubd'::text ORDER BY seq),
               array_agg('event.routed'::text ORDER BY seq),
               array_agg('event'::text ORDER BY seq),
               array_agg(event_id ORDER BY seq), array_agg(patient ORDER BY seq),
               array_agg(detail ORDER BY seq))
      FROM (SELECT event_seq AS seq, event_id, min(patient) AS patient,
                   jsonb_build_object('subscriptions',
                                      jsonb_agg(DISTINCT sub_id),
                                      'orgs', jsonb_agg(DISTINCT org_id)) AS detail
              FROM hub_route_tmp GROUP BY event_seq, event_id) r;
    IF v_new > 0 THEN
        PERFORM pg_notify('hub_deliveries', '');
    END IF;
END $$;

CREATE OR REPLACE FUNCTION hub_deliveries_done(p_node text, p_results jsonb)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    x jsonb;
    d deliveries;
    v_n int := 0;
    v_outcome text;
    v_mine boolean;
    -- audit rows, appended in one call at the end (one chain walk)
    a_action text[] := '{}';
    a_kind text[] := '{}';
    a_id text[] := '{}';
    a_patient text[] := '{}';
    a_detail jsonb[] := '{}';
BEGIN
    PERFORM hub_chain_lock();        -- first: see the header
    FOR x IN SELECT * FROM jsonb_array_elements(p_results) LOOP
        SELECT * INTO d FROM deliveries WHERE id = (x->>'id')::bigint
           FOR UPDATE;
        IF NOT FOUND THEN
            CONTINUE;
        END IF;
        v_outcome := x->>'outcome';
        v_mine := d.status = 'delivering'
                  AND d.lease_token = (x->>'token')::bigint;
        IF v_outcome = 'release' THEN
            -- claimed but never sent: hand it back, uncounted
            IF v_mine THEN
                UPDATE deliveries SET
                    status = CASE WHEN attempts > 1 THEN 'failed'
                                  ELSE 'pending' END,
                    attempts = attempts - 1, lease_owner = NULL,
                    lease_until = NULL, lease_token = NULL, updated_at = now()
                 WHERE id = d.id;
                v_n := v_n + 1;
            END IF;
            CONTINUE;
        END IF;
        INSERT INTO delivery_attempts (delivery_id, attempt, status_code,
                                       error, latency_ms, outcome, node)
        VALUES (d.id, (x->>'attempt')::int, (x->>'code')::int, x->>'error',
                coalesce((x->>'latency_ms')::int, 0),
                CASE WHEN v_mine THEN v_outcome ELSE 'lost' END, p_node);
        -- the disclosure: what went to whom, for which patient (ids only)
        a_action := a_action || 'delivery.attempt'::text;
        a_kind := a_kind || 'delivery'::text;
        a_id := a_id || ('dlv_' || d.id);
        a_patient := a_patient || d.patient_hub_id;
        a_detail := a_detail || jsonb_build_object('event', d.event_id,
                'subscription', d.subscription_id, 'recipient', d.org_id,
                'attempt', (x->>'attempt')::int, 'code', x->'code',
                'error', x->'error', 'outcome',
                CASE WHEN v_mine THEN v_outcome ELSE 'lost' END,
                'node', p_node);
        IF NOT v_mine THEN
            CONTINUE;
        END IF;
        UPDATE deliveries SET
            status = CASE v_outcome WHEN 'delivered' THEN 'delivered'
                                    WHEN 'retry' THEN 'failed'
                                    ELSE 'dead' END,
            next_attempt_at = CASE WHEN v_outcome = 'retry'
                THEN clock_timestamp() + make_interval(secs =>
                     coalesce((x->>'delay_ms')::bigint, 0) / 1000.0)
                ELSE next_attempt_at END,
            lease_owner = NULL, lease_until = NULL, lease_token = NULL,
            last_status = (x->>'code')::int, last_error = x->>'error',
            delivered_at = CASE WHEN v_outcome = 'delivered'
                                THEN clock_timestamp() END,
            updated_at = now()
         WHERE id = d.id;
        IF v_outcome = 'gone' THEN
            UPDATE subscriptions SET status = 'disabled',
                   status_reason = 'gone', updated_at = now()
             WHERE id = d.subscription_id AND status <> 'disabled';
            IF FOUND THEN
                a_action := a_action || 'subscription.disabled'::text;
                a_kind := a_kind || 'subscription'::text;
                a_id := a_id || d.subscription_id;
                a_patient := a_patient || NULL::text;
                a_detail := a_detail || jsonb_build_object('reason', 'gone',
                                           'delivery', 'dlv_' || d.id);
            END IF;
        END IF;
        v_n := v_n + 1;
    END LOOP;
    PERFORM hub_audit_append_many(
        array_fill('hubd'::text, ARRAY[cardinality(a_action)]), a_action,
        a_kind, a_id, a_patient, a_detail);
    -- an outcome can make a later delivery of the same patient due
    IF v_n > 0 THEN
        PERFORM pg_notify('hub_deliveries', '');
    END IF;
    RETURN v_n;
END $$;

-- 006_routing_locks.sql - one lock order for everything that writes the
-- audit chain: the chain lock (hub_chain_lock) first, row locks after.
-- Ingest already takes the chain lock before any row; the functions of
-- 002_routing.sql below took row locks first (a delivery, a subscription)
-- and the chain lock at their first audit row, so two of them (or one and
-- an ingest routing a 410'd subscription) could deadlock; PostgreSQL would
-- cancel one and the caller retry, but a fixed order avoids it. Same
-- bodies, with PERFORM hub_chain_lock() first.

CREATE OR REPLACE FUNCTION hub_sub_update(p_actor text, p_org text, p_id text,
    p_doc jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    s subscriptions;
    v_old text;
BEGIN
    PERFORM hub_chain_lock();        -- first: see the header
    SELECT status INTO v_old FROM subscriptions
     WHERE id = p_id AND deleted_at IS NULL
       AND (p_org IS NULL OR org_id = p_org) FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    UPDATE subscriptions SET
        mode = coalesce(p_doc->>'mode', mode),
        topics = CASE WHEN p_doc ? 'topics'
                      THEN hub_jsonb_texts(p_doc->'topics') ELSE topics END,
        filters = CASE WHEN p_doc ? 'filters'
                       THEN coalesce(p_doc->'filters', '{}') ELSE filters END,
        url = CASE WHEN p_doc ? 'url' THEN p_doc->>'url' ELSE url END,
        format = coalesce(p_doc->>'format', format),
        secrets = CASE WHEN p_doc ? 'secrets'
                       THEN hub_jsonb_texts(p_doc->'secrets') ELSE secrets END,
        client_cert = CASE WHEN p_doc ? 'client_cert'
                           THEN p_doc->>'client_cert' ELSE client_cert END,
        client_key = CASE WHEN p_doc ? 'client_key'
                          THEN p_doc->>'client_key' ELSE client_key END,
        ca_bundle = CASE WHEN p_doc ? 'ca_bundle'
                         THEN p_doc->>'ca_bundle' ELSE ca_bundle END,
        status = coalesce(p_doc->>'status', status),
        status_reason = CASE WHEN p_doc ? 'status' THEN NULL
                             ELSE status_reason END,
        updated_at = now()
     WHERE id = p_id
    RETURNING * INTO s;
    IF p_doc ? 'url' THEN
        UPDATE deliveries SET url = s.url, endpoint = hub_url_endpoint(s.url),
                              updated_at = now()
         WHERE subscription_id = s.id AND status IN ('pending', 'failed');
    END IF;
    PERFORM hub_audit_append(p_actor,
        CASE WHEN p_doc->>'status' = 'paused' AND v_old <> 'paused'
                  THEN 'subscription.paused'
             WHEN p_doc->>'status' = 'active' AND v_old <> 'active'
                  THEN 'subscription.resumed'
             ELSE 'subscription.updated' END,
        'subscription', s.id, NULL,
        jsonb_build_object('org', s.org_id, 'changed',
            (SELECT coalesce(jsonb_agg(k ORDER BY k), '[]')
               FROM jsonb_object_keys(p_doc) k),
            'status', s.status));
    RETURN hub_sub_json(s, false);
END $$;

CREATE OR REPLACE FUNCTION hub_sub_delete(p_actor text, p_org text, p_id text)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    v_org text;
BEGIN
    PERFORM hub_chain_lock();        -- first: see the header
    UPDATE subscriptions SET deleted_at = now(), updated_at = now(),
                             status = 'disabled', status_reason = 'deleted'
     WHERE id = p_id AND deleted_at IS NULL
       AND (p_org IS NULL OR org_id = p_org)
    RETURNING org_id INTO v_org;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM hub_audit_append(p_actor, 'subscription.deleted', 'subscription',
        p_id, NULL, jsonb_build_object('org', v_org));
    RETURN true;
END $$;

CREATE OR REPLACE FUNCTION hub_deliveries_done(p_node text, p_results jsonb)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    x jsonb;
    d deliveries;
    v_n int := 0;
    v_outcome text;
    v_mine boolean;
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
        PERFORM hub_audit_append('hubd', 'delivery.attempt', 'delivery',
            'dlv_' || d.id, d.patient_hub_id,
            jsonb_build_object('event', d.event_id,
                'subscription', d.subscription_id, 'recipient', d.org_id,
                'attempt', (x->>'attempt')::int, 'code', x->'code',
                'error', x->'error', 'outcome',
                CASE WHEN v_mine THEN v_outcome ELSE 'lost' END,
                'node', p_node));
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
                PERFORM hub_audit_append('hubd', 'subscription.disabled',
                    'subscription', d.subscription_id, NULL,
                    jsonb_build_object('reason', 'gone',
                                       'delivery', 'dlv_' || d.id));
            END IF;
        END IF;
        v_n := v_n + 1;
    END LOOP;
    -- an outcome can make a later delivery of the same patient due
    IF v_n > 0 THEN
        PERFORM pg_notify('hub_deliveries', '');
    END IF;
    RETURN v_n;
END $$;

CREATE OR REPLACE FUNCTION hub_replay_delivery(p_actor text, p_org text, p_id bigint)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    d deliveries;
BEGIN
    PERFORM hub_chain_lock();        -- first: see the header
    UPDATE deliveries SET status = 'pending', attempts = 0,
           next_attempt_at = clock_timestamp(), replays = replays + 1,
           updated_at = now()
     WHERE id = p_id AND status IN ('delivered', 'failed', 'dead')
       AND (p_org IS NULL OR org_id = p_org)
    RETURNING * INTO d;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM hub_audit_append(p_actor, 'delivery.replayed', 'delivery',
        'dlv_' || d.id, d.patient_hub_id,
        jsonb_build_object('event', d.event_id,
                           'subscription', d.subscription_id));
    PERFORM pg_notify('hub_deliveries', '');
    RETURN true;
END $$;

CREATE OR REPLACE FUNCTION hub_replay_range(p_actor text, p_org text, p_sub text,
    p_from timestamptz, p_to timestamptz, p_status text[], p_max int)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_n int;
    r record;
BEGIN
    PERFORM hub_chain_lock();        -- first: see the header
    CREATE TEMP TABLE IF NOT EXISTS hub_replay_tmp (id bigint, pid text,
        event_id text) ON COMMIT DELETE ROWS;
    DELETE FROM hub_replay_tmp;
    WITH pick AS (
        SELECT d.id FROM deliveries d
         WHERE d.subscription_id = p_sub
           AND (p_org IS NULL OR d.org_id = p_org)
           AND d.created_at >= p_from AND d.created_at < p_to
           AND d.status = ANY (coalesce(p_status, ARRAY['dead']))
           AND d.status IN ('delivered', 'failed', 'dead')
         ORDER BY d.id
         LIMIT least(greatest(coalesce(p_max, 1000), 0), 10000)
         FOR UPDATE
    ), upd AS (
        UPDATE deliveries d SET status = 'pending', attempts = 0,
               next_attempt_at = clock_timestamp(), replays = replays + 1,
               updated_at = now()
          FROM pick WHERE d.id = pick.id
        RETURNING d.id, d.patient_hub_id, d.event_id
    )
    INSERT INTO hub_replay_tmp SELECT * FROM upd;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    PERFORM hub_audit_append(p_actor, 'delivery.replay_range', 'subscription',
        p_sub, NULL, jsonb_build_object('from', p_from, 'to', p_to,
            'status', to_jsonb(coalesce(p_status, ARRAY['dead'])),
            'count', v_n));
    FOR r IN SELECT pid, jsonb_agg('dlv_' || id ORDER BY id) AS ids
               FROM hub_replay_tmp WHERE pid IS NOT NULL GROUP BY pid LOOP
        PERFORM hub_audit_append(p_actor, 'delivery.replayed', 'subscription',
            p_sub, r.pid, jsonb_build_object('deliveries', r.ids));
    END LOOP;
    IF v_n > 0 THEN
        PERFORM pg_notify('hub_deliveries', '');
    END IF;
    RETURN v_n;
END $$;

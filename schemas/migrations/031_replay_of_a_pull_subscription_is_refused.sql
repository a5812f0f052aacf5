-- 031_replay_of_a_pull_subscription_is_refused.sql - a replay is not
-- sent for a subscription that has moved to the pull feed (F4160).
--
-- A webhook subscription switched to pull ({"mode": "pull", "url": null})
-- sends nothing more (deploy/webhooks.md): 017 cancels its open
-- deliveries, and its events are in the organization's feed. But a replay
-- of one of its finished deliveries (delivered, failed, dead), one or by
-- range, put the delivery back in the queue with the URL it had (a pull
-- subscription has none to give it, 015), the subscription being
-- 'active', and the dispatcher signed it with the secrets the switch kept
-- and sent it to the old endpoint, which the partner may no longer hold.
-- Now neither function touches such a delivery: hub_replay_delivery
-- returns NULL (true: replayed; false: no such delivery of p_org's, or
-- not replayable), hub_replay_range returns -1 (NULL: no such
-- subscription of p_org's), nothing changed or audited, and hubd answers
-- 409 as it answers the pause and the test of a pull subscription
-- (subs.c, api_subs.c). The check reads the mode under the subscription's
-- FOR SHARE lock, which a switch's FOR NO KEY UPDATE waits for (and the
-- switch then cancels what a replay committed first queued). A deleted
-- subscription's replay is cancelled as before, whatever its mode. Both
-- functions are 015's otherwise.

CREATE OR REPLACE FUNCTION hub_replay_delivery(p_actor text, p_org text, p_id bigint)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    d deliveries;
    v delivery_state;
    v_sub text;
    v_url text;
    v_mode text;
BEGIN
    SELECT CASE WHEN s.deleted_at IS NOT NULL THEN 'deleted'
                ELSE s.status END, s.url, s.mode INTO v_sub, v_url, v_mode
      FROM subscriptions s
     WHERE s.id = (SELECT x.subscription_id FROM deliveries x
                    WHERE x.id = p_id)
       FOR SHARE;
    PERFORM 1 FROM deliveries WHERE id = p_id FOR NO KEY UPDATE;
    PERFORM 1 FROM delivery_queue WHERE delivery_id = p_id FOR UPDATE;
    SELECT * INTO v FROM delivery_state s
     WHERE s.id = p_id AND s.status IN ('delivered', 'failed', 'dead')
       AND (p_org IS NULL OR s.org_id = p_org);
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    -- moved to the pull feed: nowhere to send it (once the delivery is
    -- known to be p_org's: another's is not found, as before)
    IF v_mode = 'pull' AND v_sub <> 'deleted' THEN
        RETURN NULL;
    END IF;
    UPDATE deliveries SET status = CASE WHEN v_sub = 'deleted'
                                        THEN 'cancelled' ELSE 'pending' END,
           attempts = 0,
           next_attempt_at = clock_timestamp(), replays = replays + 1,
           last_status = v.last_status, last_error = v.last_error,
           delivered_at = v.delivered_at, updated_at = now(),
           -- where the subscription sends now (a pull one has no URL)
           url = coalesce(v_url, url),
           endpoint = coalesce(hub_url_endpoint(v_url), endpoint)
     WHERE id = p_id
    RETURNING * INTO d;
    IF v_sub = 'deleted' THEN
        DELETE FROM delivery_queue WHERE delivery_id = p_id;
    ELSE
        INSERT INTO delivery_queue (delivery_id, subscription_id,
                                    patient_hub_id, event_seq, endpoint,
                                    due_at)
        VALUES (d.id, d.subscription_id, d.patient_hub_id, d.event_seq,
                d.endpoint, CASE WHEN v_sub = 'active'
                                 THEN d.next_attempt_at
                                 ELSE 'infinity' END)
        ON CONFLICT (delivery_id) DO UPDATE
            SET due_at = excluded.due_at, attempts = 0,
                endpoint = excluded.endpoint;
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
    v_ids bigint[];
    v_sub text;
    v_url text;
    v_mode text;
BEGIN
    -- the subscription first, FOR SHARE (see hub_replay_delivery); one of
    -- another organization (p_org NULL: an operator's) is not there: NULL,
    -- nothing locked or audited (an audit row of a partner's replay of
    -- another's subscription would account a disclosure that never was)
    SELECT CASE WHEN s.deleted_at IS NOT NULL THEN 'deleted'
                ELSE s.status END, s.url, s.mode INTO v_sub, v_url, v_mode
      FROM subscriptions s
     WHERE s.id = p_sub AND (p_org IS NULL OR s.org_id = p_org) FOR SHARE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    -- moved to the pull feed: nothing replayed, nothing audited
    IF v_mode = 'pull' AND v_sub <> 'deleted' THEN
        RETURN -1;
    END IF;
    CREATE TEMP TABLE IF NOT EXISTS hub_replay_tmp (id bigint, pid text,
        event_id text) ON COMMIT DELETE ROWS;
    DELETE FROM hub_replay_tmp;
    -- "Lock order" (routing): the deliveries rows by id, then their queue
    -- rows, then (at the audit rows) the chain lock; the conditions are
    -- checked again once they are held (pick), as a claim or an outcome may
    -- have come between
    v_ids := ARRAY(
        SELECT d.id FROM delivery_state d
         WHERE d.subscription_id = p_sub
           AND (p_org IS NULL OR d.org_id = p_org)
           AND d.created_at >= p_from AND d.created_at < p_to
           AND d.status = ANY (coalesce(p_status, ARRAY['dead']))
           AND d.status IN ('delivered', 'failed', 'dead')
         ORDER BY d.id
         LIMIT least(greatest(coalesce(p_max, 1000), 0), 10000));
    PERFORM 1 FROM deliveries d WHERE d.id = ANY (v_ids)
     ORDER BY d.id FOR NO KEY UPDATE;
    PERFORM 1 FROM delivery_queue q WHERE q.delivery_id = ANY (v_ids)
     ORDER BY q.delivery_id FOR UPDATE;
    WITH pick AS (
        SELECT s.id, s.last_status, s.last_error, s.delivered_at
          FROM delivery_state s
         WHERE s.id = ANY (v_ids)
           AND s.status = ANY (coalesce(p_status, ARRAY['dead']))
           AND s.status IN ('delivered', 'failed', 'dead')
    ), upd AS (
        -- a delivered one's last code, error and time kept in the row
        -- (hub_replay_delivery)
        -- (into a deleted subscription: cancelled, see
        -- hub_replay_delivery)
        UPDATE deliveries d SET status = CASE WHEN v_sub = 'deleted'
                                              THEN 'cancelled'
                                              ELSE 'pending' END,
               attempts = 0,
               next_attempt_at = clock_timestamp(), replays = replays + 1,
               last_status = pick.last_status, last_error = pick.last_error,
               delivered_at = pick.delivered_at, updated_at = now(),
               -- where the subscription sends now (a pull one has no URL)
               url = coalesce(v_url, d.url),
               endpoint = coalesce(hub_url_endpoint(v_url), d.endpoint)
          FROM pick WHERE d.id = pick.id
        RETURNING d.id, d.patient_hub_id, d.event_id, d.subscription_id,
                  d.event_seq, d.endpoint, d.next_attempt_at
    ), gone AS (
        DELETE FROM delivery_queue q USING upd
         WHERE v_sub = 'deleted' AND q.delivery_id = upd.id
    ), q AS (
        INSERT INTO delivery_queue (delivery_id, subscription_id,
                                    patient_hub_id, event_seq, endpoint,
                                    due_at)
        SELECT upd.id, upd.subscription_id, upd.patient_hub_id,
               upd.event_seq, upd.endpoint,
               CASE WHEN v_sub = 'active' THEN upd.next_attempt_at
                    ELSE 'infinity' END
          FROM upd WHERE v_sub IS DISTINCT FROM 'deleted'
        ON CONFLICT (delivery_id) DO UPDATE
            SET due_at = excluded.due_at, attempts = 0,
                endpoint = excluded.endpoint
    )
    INSERT INTO hub_replay_tmp SELECT upd.id, upd.patient_hub_id,
                                      upd.event_id FROM upd;
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
    IF v_n > 0 AND v_sub = 'active' THEN
        PERFORM pg_notify('hub_deliveries', '');
    END IF;
    RETURN v_n;
END $$;


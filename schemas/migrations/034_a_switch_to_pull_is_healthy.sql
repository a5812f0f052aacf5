-- 034_a_switch_to_pull_is_healthy.sql - a subscription moved to the pull
-- feed is healthy, whatever its deliveries made it as a webhook one
-- (F4180, the ruling on F4168).
--
-- Health changes where delivery outcomes are recorded ("Health",
-- 001_init.sql), and a pull subscription has no deliveries: one that was
-- disabled (410), failing or dead-lettering as a webhook subscription kept
-- that health for ever after the switch, GET /v1/subscriptions/{id} said so,
-- hub_subscriptions{health} counted it, and an alert on that gauge never
-- cleared. The update that makes a subscription a pull one (or leaves it
-- one, as 032 does for its status) now makes it healthy, and the change is
-- told as every health change is: an audit row 'subscription.health'
-- (reason 'pull', no delivery), a hub event 'hub.health' naming that row,
-- routed to the owner's and operators' hub subscriptions, and a NOTICE that
-- hubd logs. A pull subscription already healthy changes nothing and tells
-- nothing. hub_sub_update() is 032's otherwise.

CREATE OR REPLACE FUNCTION hub_sub_update(p_actor text, p_org text, p_id text,
    p_doc jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    s subscriptions;
    v_old text;
    v_ids bigint[];
    v_mark bigint;
    v_old_mode text;
    v_cmark bigint;                 -- to pull: see below
    v_cancel bigint;
    v_old_health text;
    v_health jsonb;                 -- to healthy by the switch: see below
    v_seq bigint;
BEGIN
    SELECT status, mode, health INTO v_old, v_old_mode, v_old_health
      FROM subscriptions
     WHERE id = p_id AND deleted_at IS NULL
       AND (p_org IS NULL OR org_id = p_org) FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF p_doc ? 'url' THEN
        -- the open deliveries not leased now: their deliveries rows, then
        -- their queue rows, each by id (the lease is checked again below,
        -- on the locked rows: one may have been claimed since)
        v_ids := ARRAY(SELECT d.id FROM deliveries d
                        WHERE d.id = ANY (ARRAY(
                                  SELECT q.delivery_id FROM delivery_queue q
                                   WHERE q.subscription_id = p_id COLLATE "C"
                                     AND q.lease_until IS NULL))
                        ORDER BY d.id FOR NO KEY UPDATE);
        PERFORM 1 FROM delivery_queue q WHERE q.delivery_id = ANY (v_ids)
         ORDER BY q.delivery_id FOR UPDATE;
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
        -- a pull subscription has nothing to hold: active whatever the
        -- status it had as a webhook one (a 410's disabled; hubd refuses
        -- a pause with the switch, webhook.c)
        status = CASE WHEN coalesce(p_doc->>'mode', mode) = 'pull'
                      THEN 'active'
                      ELSE coalesce(p_doc->>'status', status) END,
        status_reason = CASE WHEN p_doc ? 'status'
                                  OR coalesce(p_doc->>'mode', mode) = 'pull'
                             THEN NULL ELSE status_reason END,
        -- nor any endpoint whose outcomes could keep it unhealthy
        health = CASE WHEN coalesce(p_doc->>'mode', mode) = 'pull'
                      THEN 'healthy' ELSE health END,
        health_since = CASE WHEN coalesce(p_doc->>'mode', mode) = 'pull'
                                 AND health <> 'healthy'
                            THEN now() ELSE health_since END,
        updated_at = now()
     WHERE id = p_id
    RETURNING * INTO s;
    IF s.mode = 'pull' AND v_old_mode <> 'pull' THEN
        -- to the pull feed: the open deliveries have no URL to go to (their
        -- events are in the feed already, event_routes), so they are
        -- cancelled as a delete cancels them (hub_sub_cancel: the
        -- deliveries rows by id, then their queue rows; leased ones too),
        -- and those routed by ingests that read the old mode below
        v_cmark := coalesce((SELECT max(d.id) FROM deliveries d), 0);
        v_cancel := hub_sub_cancel(p_id, NULL, false);
    END IF;
    IF (s.status = 'active') <> (v_old = 'active') THEN
        -- paused, disabled or resumed: its queue rows follow ("Held
        -- rows"); those routed from here on are found above v_mark
        -- (delivery ids are taken under the chain lock, so every row a
        -- later commit routes has a larger id than any visible now)
        v_mark := coalesce((SELECT max(d.id) FROM deliveries d), 0);
        PERFORM hub_queue_hold(p_id, s.status <> 'active', NULL, false);
    END IF;
    IF p_doc ? 'url' AND s.url IS NOT NULL THEN
        -- the open deliveries not leased now follow the move (found by the
        -- queue: exactly the open ones); a leased one goes where it went
        WITH q AS (
            UPDATE delivery_queue q SET endpoint = hub_url_endpoint(s.url)
             WHERE q.delivery_id = ANY (v_ids) AND q.lease_until IS NULL
            RETURNING q.delivery_id
        )
        UPDATE deliveries d SET url = s.url, endpoint = hub_url_endpoint(s.url),
                                updated_at = now()
          FROM q WHERE d.id = q.delivery_id;
    END IF;
    PERFORM hub_chain_lock();        -- last: see "Lock order" (routing)
    IF v_mark IS NOT NULL THEN
        -- rows routed by ingests that read the old status and committed
        -- before this transaction had the chain lock
        PERFORM hub_queue_hold(p_id, s.status <> 'active', v_mark, true);
    END IF;
    IF v_cmark IS NOT NULL THEN
        v_cancel := v_cancel + hub_sub_cancel(p_id, v_cmark, true);
    END IF;
    IF p_doc ? 'url' AND s.url IS NOT NULL THEN
        -- deliveries routed by ingests that read the old URL and committed
        -- before this transaction had the chain lock (every later ingest
        -- reads the new one) follow too. SKIP LOCKED: under the chain lock
        -- nothing waits for a row; a row locked now is being claimed or
        -- finished, and a leased one goes where it went anyway.
        WITH late AS (
            SELECT q.delivery_id FROM delivery_queue q
              JOIN deliveries d ON d.id = q.delivery_id
             WHERE q.subscription_id = s.id COLLATE "C"
               AND q.lease_until IS NULL
               AND q.endpoint <> hub_url_endpoint(s.url) COLLATE "C"
               AND q.delivery_id <> ALL (v_ids)
             FOR NO KEY UPDATE OF d SKIP LOCKED
             FOR UPDATE OF q SKIP LOCKED
        ), q AS (
            UPDATE delivery_queue q SET endpoint = hub_url_endpoint(s.url)
              FROM late WHERE q.delivery_id = late.delivery_id
            RETURNING q.delivery_id
        )
        UPDATE deliveries d SET url = s.url, endpoint = hub_url_endpoint(s.url),
                                updated_at = now()
          FROM q WHERE d.id = q.delivery_id;
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
            'status', s.status)
        || CASE WHEN v_cancel IS NULL THEN '{}'::jsonb
                ELSE jsonb_build_object('cancelled', v_cancel) END);
    IF s.health <> v_old_health THEN
        -- made healthy by the switch to pull: told as the outcome flush
        -- tells a change (hub_health_apply), after the update's own row
        v_health := jsonb_build_object('subscription', s.id,
            'from', v_old_health, 'to', s.health, 'reason', 'pull');
        v_seq := hub_audit_append(p_actor, 'subscription.health',
            'subscription', s.id, NULL, v_health);
        RAISE NOTICE 'hub.health subscription=% from=% to=% reason=pull',
            s.id, v_old_health, s.health;
        PERFORM hub_publish('hub.health', s.org_id, 'audit:' || v_seq,
            jsonb_build_object('health', v_health), true);
    END IF;
    RETURN hub_sub_json(s, false);
END $$;

-- 002_routing.sql - subscriptions, routing (the transactional outbox) and
-- webhook deliveries with their attempts; replay; pull-feed visibility of
-- routed events; LISTEN/NOTIFY wake-ups.
--
-- Routing: hub_route_events() (called by hub_ingest_batch inside the ingest
-- transaction, under the chain lock) matches each new event against every
-- live subscription -- topic patterns and the filters of CANON.md -- and
-- writes, in that same transaction, one event_routes row per (event,
-- subscriber org) for the pull feed, one deliveries row per (event, webhook
-- subscription), and one 'event.routed' audit row per event. An event and
-- the deliveries it causes commit together or not at all.
--
-- Delivery state machine (one row per (event, subscription), UNIQUE):
--   pending --claim--> delivering --2xx--> delivered
--   failed  --claim-->     |  \--error, retries left--> failed (next_attempt_at)
--                          |   \--no retry left / 410--> dead
--                          \--lease expired (node died)--> claimable again
--   dead, delivered --replay--> pending (attempts reset, history kept)
-- A delivery is claimable only when its subscription is active and every
-- earlier delivery (lower event seq) of the same (subscription, patient) is
-- delivered or dead: order per (subscription, patient) is kept, and a poison
-- delivery holds that one patient's later events of that one subscription
-- for at most the retry schedule (about 3.8 days), never for ever and never
-- for anyone else.
-- The webhook-id of a delivery is 'dlv_' || id: stable across retries,
-- replays, nodes and crashes.

CREATE TABLE subscriptions (
    id          text PRIMARY KEY
                DEFAULT 'sub_' || replace(gen_random_uuid()::text, '-', ''),
    org_id      text NOT NULL REFERENCES organizations,
    mode        text NOT NULL DEFAULT 'webhook'
                CHECK (mode IN ('webhook', 'pull')),
    topics      text[] NOT NULL CHECK (cardinality(topics) > 0),
    -- {"orgs","facilities","patient_classes","domains","counties",
    --  "sensitivity"}: arrays of strings; absent = no constraint
    filters     jsonb NOT NULL DEFAULT '{}'
                CHECK (jsonb_typeof(filters) = 'object'),
    url         text,
    format      text NOT NULL DEFAULT 'canonical'
                CHECK (format IN ('canonical', 'fhir')),
    secrets     text[] NOT NULL DEFAULT '{}',   -- whsec_..., all sign
    client_cert text,
    client_key  text,
    ca_bundle   text,
    status      text NOT NULL DEFAULT 'active'
                CHECK (status IN ('active', 'paused', 'disabled')),
    status_reason text,                 -- 'gone' after a 410, ...
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz,            -- soft delete: history stays
    CHECK (mode = 'pull' OR (url ~* '^https?://' AND cardinality(secrets) > 0)),
    CHECK (mode = 'webhook' OR url IS NULL)
);
CREATE INDEX subscriptions_org ON subscriptions (org_id)
    WHERE deleted_at IS NULL;

-- Which org may read which event in the pull feed, beyond what it sent.
CREATE TABLE event_routes (
    org_id      text NOT NULL,
    event_seq   bigint NOT NULL REFERENCES events,
    PRIMARY KEY (org_id, event_seq)
);

CREATE TABLE deliveries (
    id          bigserial PRIMARY KEY,
    event_seq   bigint NOT NULL REFERENCES events,
    event_id    text NOT NULL,
    subscription_id text NOT NULL REFERENCES subscriptions,
    org_id      text NOT NULL,          -- the recipient (subscription owner)
    patient_hub_id text,
    url         text NOT NULL,          -- snapshot: where this one goes
    endpoint    text NOT NULL,          -- scheme://host:port, isolation key
    status      text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'delivering', 'delivered',
                                  'failed', 'dead')),
    attempts    int NOT NULL DEFAULT 0, -- since creation or the last replay
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_owner text,
    lease_until timestamptz,
    lease_token bigint,                 -- which claim may finish it
    last_status int,
    last_error  text,
    replays     int NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    UNIQUE (event_seq, subscription_id)
);
CREATE SEQUENCE delivery_lease_seq;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at)
    WHERE status IN ('pending', 'failed');
CREATE INDEX deliveries_leased ON deliveries (lease_until)
    WHERE status = 'delivering';
CREATE INDEX deliveries_open_order ON deliveries
    (subscription_id, patient_hub_id, event_seq)
    WHERE status IN ('pending', 'failed', 'delivering');
CREATE INDEX deliveries_sub ON deliveries (subscription_id, id);
CREATE INDEX deliveries_status ON deliveries (status, id);

CREATE TABLE delivery_attempts (
    id          bigserial PRIMARY KEY,
    delivery_id bigint NOT NULL REFERENCES deliveries,
    attempt     int NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    status_code int,                    -- HTTP status, NULL on network error
    error       text,                   -- 'timeout', 'connect', 'ssrf', ...
    latency_ms  int NOT NULL,
    outcome     text NOT NULL
                CHECK (outcome IN ('delivered', 'retry', 'dead', 'gone',
                                   'lost')),
    node        text NOT NULL
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, id);

-- A topic pattern ('adt.*', '*.positive', '*') as a LIKE pattern. Topics
-- have two segments, so '*' -> '%' matches exactly what webhook_topic_match
-- in hub/webhook.c matches; '_' is escaped.
CREATE FUNCTION hub_topic_like(p text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT replace(replace(p, '_', '\_'), '*', '%')
$$;

CREATE FUNCTION hub_jsonb_texts(p jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN jsonb_typeof(p) = 'array'
                THEN ARRAY(SELECT jsonb_array_elements_text(p))
                ELSE '{}'::text[] END
$$;

-- Does an event match a subscription? Filters are ANDed, values within one
-- filter ORed; a filter the event has no value for does not match. The
-- paths are those of CANON.md.
CREATE FUNCTION hub_sub_matches(p_topics text[], p_filters jsonb,
    p_type text, p_org text, b jsonb)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT EXISTS (SELECT 1 FROM unnest(p_topics) t
                    WHERE p_type LIKE hub_topic_like(t))
      AND (NOT p_filters ? 'orgs'
           OR p_org = ANY (hub_jsonb_texts(p_filters->'orgs')))
      AND (NOT p_filters ? 'facilities'
           OR ARRAY[b->'source'->>'sending_facility',
                    b->'encounter'->>'facility',
                    b->'encounter'->'location'->>'facility']
              && hub_jsonb_texts(p_filters->'facilities'))
      AND (NOT p_filters ? 'patient_classes'
           OR ARRAY[b->'encounter'->>'patient_class',
                    b->'encounter'->>'class']
              && hub_jsonb_texts(p_filters->'patient_classes'))
      AND (NOT p_filters ? 'domains'
           OR (hub_jsonb_texts(b->'screening'->'positive_domains')
               || hub_jsonb_texts(b->'screening'->'domains')
               || ARRAY[b->'referral'->>'domain', b->'condition'->>'domain'])
              && hub_jsonb_texts(p_filters->'domains'))
      AND (NOT p_filters ? 'counties'
           OR ARRAY(SELECT lower(a->>'county')
                      FROM jsonb_array_elements(
                               CASE WHEN jsonb_typeof(b->'patient'->'addresses')
                                         = 'array'
                                    THEN b->'patient'->'addresses'
                                    ELSE '[]' END) a)
              && ARRAY(SELECT lower(x) FROM unnest(
                           hub_jsonb_texts(p_filters->'counties')) x))
      -- sensitive data (42 CFR Part 2 ...) only to who opted in to its label
      AND hub_jsonb_texts(b->'sensitivity')
          <@ hub_jsonb_texts(p_filters->'sensitivity')
$$;

-- scheme://host:port of a URL (default ports made explicit), the unit of
-- per-endpoint concurrency and circuit breaking in the dispatcher.
CREATE FUNCTION hub_url_endpoint(p_url text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN m[3] IS NOT NULL THEN m[1] || '://' || m[2] || m[3]
                WHEN m[1] = 'https' THEN m[1] || '://' || m[2] || ':443'
                ELSE m[1] || '://' || m[2] || ':80' END
      FROM (SELECT regexp_match(lower(p_url),
                '^([a-z]+)://([^/?#:\[\]]+|\[[^\]]*\])(:[0-9]+)?') m) x
$$;

CREATE OR REPLACE FUNCTION hub_route_events(p_seqs bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r record;
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

    -- the routing decision, one audit row per routed event (ids only)
    FOR r IN SELECT event_id, min(patient) AS patient,
                    jsonb_agg(DISTINCT sub_id) AS subs,
                    jsonb_agg(DISTINCT org_id) AS orgs
               FROM hub_route_tmp GROUP BY event_seq, event_id
              ORDER BY event_seq LOOP
        PERFORM hub_audit_append('hubd', 'event.routed', 'event', r.event_id,
            r.patient, jsonb_build_object('subscriptions', r.subs,
                                          'orgs', r.orgs));
    END LOOP;
    IF v_new > 0 THEN
        PERFORM pg_notify('hub_deliveries', '');
    END IF;
END $$;

CREATE OR REPLACE FUNCTION hub_visible_events(p_org text, p_admin boolean,
    p_after bigint)
RETURNS SETOF events LANGUAGE sql STABLE AS $$
    SELECT * FROM events
     WHERE seq > p_after
       AND (p_admin OR org_id = p_org
            OR seq IN (SELECT r.event_seq FROM event_routes r
                        WHERE r.org_id = p_org AND r.event_seq > p_after))
$$;

-- Every subscription change wakes every hubd (routing reads the table in
-- the ingest transaction, so there is no cache to refresh; dispatchers wake
-- to pick up resumed subscriptions).
CREATE FUNCTION hub_subscriptions_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hub_subscriptions', NEW.id);
    PERFORM pg_notify('hub_deliveries', '');
    RETURN NULL;
END $$;
CREATE TRIGGER subscriptions_notify AFTER INSERT OR UPDATE ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION hub_subscriptions_notify();

-- --- subscriptions: API and hubctl go through these (audited) ---------------

-- The JSON a subscriber sees; secrets only when p_secrets.
CREATE FUNCTION hub_sub_json(s subscriptions, p_secrets boolean)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'id', s.id, 'org', s.org_id, 'mode', s.mode,
        'topics', to_jsonb(s.topics), 'filters', s.filters, 'url', s.url,
        'format', s.format,
        'secrets', CASE WHEN p_secrets THEN to_jsonb(s.secrets) END,
        'secret_count', cardinality(s.secrets),
        'client_cert', s.client_cert, 'client_key', s.client_key,
        'ca_bundle', s.ca_bundle, 'status', s.status,
        'status_reason', s.status_reason,
        'created_at', s.created_at, 'updated_at', s.updated_at))
$$;

-- p_doc was validated by webhook_sub_validate() (hub/webhook.c).
CREATE FUNCTION hub_sub_create(p_actor text, p_org text, p_doc jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    s subscriptions;
BEGIN
    INSERT INTO subscriptions (org_id, mode, topics, filters, url, format,
                               secrets, client_cert, client_key, ca_bundle,
                               status)
    VALUES (p_org, coalesce(p_doc->>'mode', 'webhook'),
            hub_jsonb_texts(p_doc->'topics'),
            coalesce(p_doc->'filters', '{}'), p_doc->>'url',
            coalesce(p_doc->>'format', 'canonical'),
            hub_jsonb_texts(p_doc->'secrets'), p_doc->>'client_cert',
            p_doc->>'client_key', p_doc->>'ca_bundle',
            coalesce(p_doc->>'status', 'active'))
    RETURNING * INTO s;
    PERFORM hub_audit_append(p_actor, 'subscription.created', 'subscription',
        s.id, NULL, jsonb_build_object('org', s.org_id, 'mode', s.mode,
            'topics', to_jsonb(s.topics), 'filters', s.filters,
            'url', s.url, 'status', s.status));
    RETURN hub_sub_json(s, true);
END $$;

-- Update (p_org NULL: operator, any org). Absent members keep their value;
-- JSON null clears an optional one. A new URL also applies to the
-- subscription's deliveries not yet attempted or waiting for a retry
-- (their snapshot follows the subscriber's move); delivered and dead rows
-- keep the URL they were sent to. NULL when not found.
CREATE FUNCTION hub_sub_update(p_actor text, p_org text, p_id text,
    p_doc jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    s subscriptions;
    v_old text;
BEGIN
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

CREATE FUNCTION hub_sub_delete(p_actor text, p_org text, p_id text)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    v_org text;
BEGIN
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

-- --- the dispatcher -----------------------------------------------------------

-- Claim up to p_max due deliveries for p_owner for p_lease_ms, at most
-- p_per_endpoint of them per endpoint, none for the endpoints in p_skip
-- (the caller's full or circuit-open ones). Due: subscription active;
-- pending/failed and next_attempt_at passed, or delivering with an expired
-- lease (its node died); and no earlier open delivery for the same
-- (subscription, patient). Each claim counts as an attempt. secrets come
-- back space-separated.
CREATE FUNCTION hub_claim_deliveries(p_owner text, p_lease_ms int,
    p_max int, p_per_endpoint int, p_skip text[])
RETURNS TABLE (id bigint, token bigint, attempt int, event_id text,
               subscription_id text, org_id text, patient_hub_id text,
               url text, endpoint text, secrets text, client_cert text,
               client_key text, ca_bundle text, body text)
LANGUAGE plpgsql AS $$
DECLARE
    v_token bigint := nextval('delivery_lease_seq');
BEGIN
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
                   AND NOT EXISTS (
                       SELECT 1 FROM deliveries o
                        WHERE o.subscription_id = d0.subscription_id
                          AND o.patient_hub_id = d0.patient_hub_id
                          AND o.event_seq < d0.event_seq
                          AND o.status IN ('pending', 'failed', 'delivering'))
                 ORDER BY d0.next_attempt_at, d0.id
                 LIMIT p_max * 4) d
    ), due AS (
        SELECT d.id FROM deliveries d
         WHERE d.id IN (SELECT c.id FROM cand c WHERE c.rn <= p_per_endpoint)
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

-- Record a batch of attempt outcomes in one transaction (one chain-lock
-- acquisition for many audit rows). p_results: JSON array of
--   {"id","token","attempt","code"(HTTP status or null),"error"(or null),
--    "latency_ms","outcome":"delivered"|"retry"|"dead"|"gone"|"release",
--    "delay_ms"}   ('release': claimed, never sent, handed back)
-- An outcome whose lease was taken over by another node (token mismatch) is
-- still recorded as an attempt and audited (the bytes did leave), but does
-- not change the delivery. 'gone' (HTTP 410) dead-letters the delivery and
-- disables the subscription. Returns the number of deliveries updated.
CREATE FUNCTION hub_deliveries_done(p_node text, p_results jsonb)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    x jsonb;
    d deliveries;
    v_n int := 0;
    v_outcome text;
    v_mine boolean;
BEGIN
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

-- Replay one delivery (p_org NULL: operator). Only a delivery at rest
-- (delivered, failed or dead) can be replayed: it becomes pending now with
-- its retry count reset; its attempt history stays. Audited.
CREATE FUNCTION hub_replay_delivery(p_actor text, p_org text, p_id bigint)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    d deliveries;
BEGIN
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

-- Replay a subscription's deliveries created in [p_from, p_to) whose status
-- is in p_status (default: dead), at most p_max (capped at 10000) so one
-- command cannot re-send years of history. One audit row for the range,
-- one per patient touched. Returns how many were replayed.
CREATE FUNCTION hub_replay_range(p_actor text, p_org text, p_sub text,
    p_from timestamptz, p_to timestamptz, p_status text[], p_max int)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_n int;
    r record;
BEGIN
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

-- One page of deliveries as JSON (newest first, before cursor p_before, 0 =
-- from the newest), optionally one subscription and/or one status; p_org
-- NULL: operator. With each delivery its last attempts (at most 5).
CREATE FUNCTION hub_deliveries_page(p_org text, p_sub text, p_status text,
    p_before bigint, p_limit int)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('deliveries', coalesce(jsonb_agg(j ORDER BY id
                                                     DESC), '[]'),
                              'next', min(id))::text
      FROM (SELECT d.id, jsonb_strip_nulls(jsonb_build_object(
                'id', 'dlv_' || d.id, 'event', d.event_id,
                'subscription', d.subscription_id, 'org', d.org_id,
                'url', d.url, 'status', d.status, 'attempts', d.attempts,
                'replays', d.replays, 'next_attempt_at', d.next_attempt_at,
                'last_status', d.last_status, 'last_error', d.last_error,
                'created_at', d.created_at, 'delivered_at', d.delivered_at,
                'history', (SELECT jsonb_agg(jsonb_strip_nulls(
                                jsonb_build_object('at', a.at,
                                    'attempt', a.attempt,
                                    'code', a.status_code, 'error', a.error,
                                    'latency_ms', a.latency_ms,
                                    'outcome', a.outcome)) ORDER BY a.id)
                              FROM (SELECT * FROM delivery_attempts a
                                     WHERE a.delivery_id = d.id
                                     ORDER BY a.id DESC LIMIT 5) a))) j
              FROM deliveries d
             WHERE (p_org IS NULL OR d.org_id = p_org)
               AND (p_sub IS NULL OR d.subscription_id = p_sub)
               AND (p_status IS NULL OR d.status = p_status)
               AND (coalesce(p_before, 0) = 0 OR d.id < p_before)
             ORDER BY d.id DESC
             LIMIT least(greatest(coalesce(p_limit, 100), 1), 1000)) p
$$;

-- 001_init.sql - the hub's schema: organizations and credentials, messages
-- (raw bytes, accepted or quarantined), patients and their identifiers,
-- canonical events (the pull-feed cursor), the audit hash chain, and the
-- routing outbox (subscriptions, deliveries, attempts); plus the functions
-- hubd and hubctl call: batch ingest (linking, merging and routing in the
-- ingest transaction), the pull feed, subscriptions, the dispatcher's claims
-- and outcomes, replay.
--
-- Invariants that everything else leans on:
--  * events.seq and audit.seq are assigned only while holding the chain lock
--    (hub_chain_lock(), a transaction-scoped advisory lock), which is released
--    at commit. So seq order is commit order: a feed reader that has seen seq
--    N will never later find a committed row below N.
--  * audit rows form a SHA-256 chain: hash = sha256(prev_hash || canonical
--    text of the row), seq has no gaps, one writer at a time (same lock).
--  * audit.detail holds ids, hashes and codes only, never personal data.
--  * Lock order: whatever writes the audit chain takes the chain lock first,
--    row locks (a delivery, a subscription) after. Taken the other way round,
--    two such transactions (or one and an ingest routing to the same
--    subscription) could deadlock.
-- Applied by store_migrate() (hubctl migrate), recorded in schema_migrations;
-- later files build on it (CREATE OR REPLACE, ALTER).

-- --- organizations and credentials -----------------------------------------

CREATE TABLE organizations (
    id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
    name        text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('hospital', 'clinic', 'cbo',
                                              'plan', 'state', 'operator')),
    scopes      text[] NOT NULL DEFAULT '{}'
                CHECK (scopes <@ ARRAY['ingest', 'subscribe', 'roster',
                                       'report', 'admin']),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Bearer tokens: only the SHA-256 of the token is kept; `prefix` is the
-- token's public part, shown in listings and used to revoke it.
CREATE TABLE api_tokens (
    token_sha256 text PRIMARY KEY CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
    prefix      text NOT NULL UNIQUE,
    org_id      text NOT NULL REFERENCES organizations,
    scopes      text[] NOT NULL
                CHECK (scopes <@ ARRAY['ingest', 'subscribe', 'roster',
                                       'report', 'admin']),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- Mutual TLS: hex SHA-256 of the client certificate's DER -> organization.
CREATE TABLE cert_bindings (
    fingerprint text PRIMARY KEY CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
    org_id      text NOT NULL REFERENCES organizations,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- --- messages, patients, events, the audit chain ---------------------------

CREATE TABLE messages (
    id          bigserial PRIMARY KEY,
    org_id      text NOT NULL REFERENCES organizations,
    format      text NOT NULL,
    idem_key    text,
    sha256      text NOT NULL,
    raw         bytea NOT NULL,
    status      text NOT NULL CHECK (status IN ('accepted', 'quarantined')),
    error       jsonb,
    reply       bytea,
    received_at timestamptz NOT NULL
);
-- Idempotency: one accepted message per (org, key). Quarantined messages
-- keep their key but never block a corrected re-send.
CREATE UNIQUE INDEX messages_org_key_accepted ON messages (org_id, idem_key)
    WHERE status = 'accepted' AND idem_key IS NOT NULL;
CREATE INDEX messages_quarantined ON messages (received_at)
    WHERE status = 'quarantined';

CREATE TABLE patients (
    hub_id      text PRIMARY KEY,
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- the survivor an adt.merge folded this patient into (never itself
    -- merged: hub_merge_patient flattens chains); NULL while it stands
    merged_into text REFERENCES patients,
    merged_at   timestamptz
);
CREATE INDEX patients_merged_into ON patients (merged_into)
    WHERE merged_into IS NOT NULL;

-- Deterministic linking: (system, value) names one patient. An identifier
-- sent without a system is scoped by the sending org ('urn:hub:org:<id>').
CREATE TABLE patient_identifiers (
    system      text NOT NULL,
    value       text NOT NULL,
    hub_id      text NOT NULL REFERENCES patients,
    org_id      text NOT NULL,          -- who first sent it
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (system, value)
);
CREATE INDEX patient_identifiers_hub ON patient_identifiers (hub_id);

CREATE SEQUENCE events_seq;
CREATE TABLE events (
    seq         bigint PRIMARY KEY DEFAULT nextval('events_seq'),
    id          text NOT NULL UNIQUE,
    message_id  bigint NOT NULL REFERENCES messages,
    org_id      text NOT NULL,
    type        text NOT NULL,
    patient_hub_id text,
    occurred_at timestamptz,            -- parsed from body, NULL if partial
    received_at timestamptz NOT NULL,
    body        jsonb NOT NULL          -- the canonical event, hub fields set
);
ALTER SEQUENCE events_seq OWNED BY events.seq;
CREATE INDEX events_org_seq ON events (org_id, seq);
CREATE INDEX events_patient_seq ON events (patient_hub_id, seq);
CREATE INDEX events_message ON events (message_id);

CREATE TABLE audit (
    seq         bigint PRIMARY KEY,
    at          timestamptz NOT NULL,
    actor       text NOT NULL,          -- org id, or 'hubctl' / 'hubd'
    action      text NOT NULL,          -- 'message.received', 'feed.read', ...
    object_kind text NOT NULL,
    object_id   text NOT NULL,
    patient_hub_id text,
    detail      jsonb NOT NULL DEFAULT '{}',
    prev_hash   text NOT NULL,
    hash        text NOT NULL
);
CREATE INDEX audit_patient ON audit (patient_hub_id, seq)
    WHERE patient_hub_id IS NOT NULL;

-- The one lock that orders event seqs and audit rows across every hubd.
-- Transaction-scoped: released at commit or rollback. Re-entrant.
CREATE FUNCTION hub_chain_lock() RETURNS void
LANGUAGE sql AS $$ SELECT pg_advisory_xact_lock(7302100431) $$;

-- The canonical text of an audit row: a JSON array, unambiguous whatever
-- the fields contain; jsonb's text form is deterministic.
-- STABLE, not IMMUTABLE: to_char is stable, and a function declared
-- stricter than its body is never inlined (and then costs a call per row).
CREATE FUNCTION hub_audit_text(p_seq bigint, p_at timestamptz, p_actor text,
    p_action text, p_kind text, p_id text, p_patient text, p_detail jsonb)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_array(p_seq,
        to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        p_actor, p_action, p_kind, p_id, p_patient, p_detail)::text
$$;

CREATE FUNCTION hub_audit_hash(p_prev text, p_text text)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT encode(sha256(decode(p_prev, 'hex') || convert_to(p_text, 'UTF8')),
                  'hex')
$$;

-- Append rows to the chain, in array order, in one INSERT: the hashes are
-- chained in a loop, the rows written together. Returns the last seq.
CREATE FUNCTION hub_audit_append_many(p_actor text[], p_action text[],
    p_kind text[], p_id text[], p_patient text[], p_detail jsonb[])
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_seq bigint;
    v_prev text;
    v_at timestamptz := now();
    v_n int := coalesce(cardinality(p_actor), 0);
    v_prevs text[] := '{}';
    v_hashes text[] := '{}';
    v_detail jsonb[] := '{}';
BEGIN
    IF v_n = 0 THEN
        RETURN NULL;
    END IF;
    PERFORM pg_advisory_xact_lock(7302100431);      -- hub_chain_lock()
    SELECT seq, hash INTO v_seq, v_prev FROM audit ORDER BY seq DESC LIMIT 1;
    IF NOT FOUND THEN
        v_seq := 0;
        v_prev := repeat('0', 64);
    END IF;
    FOR i IN 1 .. v_n LOOP
        v_detail[i] := coalesce(p_detail[i], '{}');
        v_prevs[i] := v_prev;
        v_prev := hub_audit_hash(v_prev, hub_audit_text(v_seq + i, v_at,
            p_actor[i], p_action[i], p_kind[i], p_id[i], p_patient[i],
            v_detail[i]));
        v_hashes[i] := v_prev;
    END LOOP;
    INSERT INTO audit (seq, at, actor, action, object_kind, object_id,
                       patient_hub_id, detail, prev_hash, hash)
    SELECT v_seq + u.ord, v_at, u.actor, u.action, u.kind, u.id, u.patient,
           u.detail, u.prev, u.hash
      FROM unnest(p_actor, p_action, p_kind, p_id, p_patient, v_detail,
                  v_prevs, v_hashes)
           WITH ORDINALITY AS u(actor, action, kind, id, patient, detail,
                                prev, hash, ord);
    RETURN v_seq + v_n;
END $$;

-- Append one audit row to the chain. Returns its seq.
CREATE FUNCTION hub_audit_append(p_actor text, p_action text, p_kind text,
    p_id text, p_patient text, p_detail jsonb)
RETURNS bigint LANGUAGE sql AS $$
    SELECT hub_audit_append_many(ARRAY[p_actor], ARRAY[p_action],
        ARRAY[p_kind], ARRAY[p_id], ARRAY[p_patient], ARRAY[p_detail])
$$;

-- Walk the chain in seq order and report the first bad row:
--   'changed'   the row's hash does not match its contents
--   'removed'   a gap in seq, or prev_hash names no row that exists
--   'reordered' prev_hash names a row that exists but is not the one before
-- ok = true and bad_seq = NULL when the whole chain holds.
-- head_seq/head_hash: the last row that holds. Removing the newest rows
-- leaves a chain that holds, so operators record the head elsewhere from
-- time to time and check it later (`hubctl audit verify --head SEQ:HASH`).
CREATE FUNCTION hub_audit_verify(OUT ok boolean, OUT rows_checked bigint,
    OUT bad_seq bigint, OUT problem text, OUT head_seq bigint,
    OUT head_hash text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    r record;
    v_expect_seq bigint := 1;
    v_prev text := repeat('0', 64);
BEGIN
    ok := true;
    rows_checked := 0;
    FOR r IN SELECT * FROM audit ORDER BY seq LOOP
        IF r.seq <> v_expect_seq THEN
            ok := false;
            bad_seq := v_expect_seq;        -- the first missing seq
            problem := 'removed';
            RETURN;
        END IF;
        IF r.prev_hash <> v_prev THEN
            ok := false;
            bad_seq := r.seq;
            IF EXISTS (SELECT 1 FROM audit a WHERE a.hash = r.prev_hash) THEN
                problem := 'reordered';
            ELSE
                -- its predecessor is gone (rows renumbered to hide the gap)
                -- or was rewritten together with its hash
                problem := 'removed';
            END IF;
            RETURN;
        END IF;
        IF r.hash <> hub_audit_hash(r.prev_hash, hub_audit_text(r.seq, r.at,
                r.actor, r.action, r.object_kind, r.object_id,
                r.patient_hub_id, r.detail)) THEN
            ok := false;
            bad_seq := r.seq;
            problem := 'changed';
            RETURN;
        END IF;
        rows_checked := rows_checked + 1;
        v_prev := r.hash;
        v_expect_seq := r.seq + 1;
        head_seq := r.seq;
        head_hash := r.hash;
    END LOOP;
END $$;

-- ISO 8601 text to timestamptz, NULL when partial or invalid, never raising
-- (an exception block would cost a subtransaction per event). A time without
-- an offset is read as UTC. One SQL expression, so that the planner inlines
-- it (a PL/pgSQL function cost a call per event); STABLE, as its
-- text-to-timestamptz cast is: declared IMMUTABLE it would never be inlined.
-- The regular expression admits only in-range months, days, hours, minutes
-- and seconds and no year 0000, so the nested CASEs (which also keep
-- constant folding from evaluating a later arm early) never reach a cast
-- that raises.
CREATE FUNCTION hub_parse_ts(p text) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p ~ ('^(?!0000)\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])'
                          '(?:[T ]([01]\d|2[0-3]):[0-5]\d'
                          '(?::[0-5]\d(?:\.\d{1,9})?)?)?'
                          '(Z|[+-]\d{2}:?\d{2})?$')
        THEN CASE WHEN substr(p, 9, 2)::int <= extract(day FROM
                           make_date(substr(p, 1, 4)::int,
                                     substr(p, 6, 2)::int, 1)
                           + interval '1 month' - interval '1 day')
             THEN CASE WHEN p ~ '(Z|[+-]\d{2}:?\d{2})$'
                       THEN p::timestamptz
                       ELSE (p || 'Z')::timestamptz END
             END
    END
$$;

-- --- identity: linking and merging -----------------------------------------

-- Link a patient by its identifiers (system + value). A known identifier
-- links to its patient; otherwise p_candidate becomes a new patient. Unknown
-- identifiers of the message are then recorded for that patient. NULL when
-- the event names no identifier.
-- When the identifiers name two or more patients (say MRN and member id were
-- linked to different records), the lowest hub id wins (the oldest patient:
-- ids are time-ordered), and one 'identity.conflict' audit row names every
-- one of them (ids only), for an operator to review or merge.
-- Callers hold hub_chain_lock(), so two batches never race on one identifier.
-- Used by hub_ingest_batch_serial(); hub_ingest_batch() links the same way,
-- set-based.
CREATE FUNCTION hub_link_patient(p_org text, p_ids jsonb, p_candidate text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_hub text;
    v_all text[];
    v_sys text[];
    v_val text[];
BEGIN
    IF p_ids IS NULL OR jsonb_typeof(p_ids) <> 'array' THEN
        RETURN NULL;
    END IF;
    SELECT array_agg(q.system), array_agg(q.value) INTO v_sys, v_val
      FROM (SELECT DISTINCT
                   CASE WHEN coalesce(x->>'system', '') = ''
                        THEN 'urn:hub:org:' || p_org
                        ELSE x->>'system' END AS system,
                   x->>'value' AS value
              FROM jsonb_array_elements(p_ids) x
             WHERE jsonb_typeof(x) = 'object'
               AND coalesce(x->>'value', '') <> '') q;
    IF v_sys IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT array_agg(DISTINCT pi.hub_id ORDER BY pi.hub_id) INTO v_all
      FROM unnest(v_sys, v_val) AS u(system, value)
      JOIN patient_identifiers pi
        ON pi.system = u.system AND pi.value = u.value;
    v_hub := v_all[1];
    IF v_hub IS NULL THEN
        v_hub := p_candidate;
        INSERT INTO patients (hub_id) VALUES (v_hub);
    ELSIF cardinality(v_all) > 1 THEN
        PERFORM hub_audit_append(p_org, 'identity.conflict', 'patient',
            v_hub, v_hub, jsonb_build_object('patients', to_jsonb(v_all),
                                             'linked', v_hub));
    END IF;
    INSERT INTO patient_identifiers (system, value, hub_id, org_id)
    SELECT u.system, u.value, v_hub, p_org
      FROM unnest(v_sys, v_val) AS u(system, value)
    ON CONFLICT DO NOTHING;
    RETURN v_hub;
END $$;

-- Patient merges (HL7 A40 and the like). An adt.merge event names the
-- surviving patient in patient.identifiers (linked as usual) and the merged
-- record in patient.merged_from. When such an event is stored, in the same
-- transaction (the events_merge trigger below):
--  * every identifier of a merged-away patient moves to the survivor, and
--    the merged patient records merged_into (chains are flattened, so
--    merged_into always names a patient that is not itself merged);
--  * merged_from identifiers never seen before are recorded for the
--    survivor, so that a late message with the old MRN links correctly;
--  * one 'patient.merged' audit row per merged-away patient.
-- The ingest transaction holds the chain lock, so merges never race with
-- linking.
CREATE FUNCTION hub_merge_patient(p_org text, p_from jsonb, p_into text,
    p_event_id text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_sys text[];
    v_val text[];
    r record;
BEGIN
    IF p_into IS NULL OR p_from IS NULL OR jsonb_typeof(p_from) <> 'array' THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(7302100431);      -- hub_chain_lock()
    SELECT array_agg(q.system), array_agg(q.value) INTO v_sys, v_val
      FROM (SELECT DISTINCT
                   CASE WHEN coalesce(x->>'system', '') = ''
                        THEN 'urn:hub:org:' || p_org
                        ELSE x->>'system' END AS system,
                   x->>'value' AS value
              FROM jsonb_array_elements(p_from) x
             WHERE jsonb_typeof(x) = 'object'
               AND coalesce(x->>'value', '') <> '') q;
    IF v_sys IS NULL THEN
        RETURN;
    END IF;
    FOR r IN SELECT DISTINCT pi.hub_id
               FROM unnest(v_sys, v_val) AS u(system, value)
               JOIN patient_identifiers pi
                 ON pi.system = u.system AND pi.value = u.value
              WHERE pi.hub_id <> p_into
              ORDER BY pi.hub_id LOOP
        UPDATE patient_identifiers SET hub_id = p_into
         WHERE hub_id = r.hub_id;
        -- earlier merges into the merged-away patient follow it
        UPDATE patients SET merged_into = p_into
         WHERE merged_into = r.hub_id;
        UPDATE patients SET merged_into = p_into, merged_at = now()
         WHERE hub_id = r.hub_id;
        PERFORM hub_audit_append(p_org, 'patient.merged', 'patient',
            r.hub_id, p_into,
            jsonb_build_object('from', r.hub_id, 'into', p_into,
                               'event', p_event_id));
    END LOOP;
    -- a survivor that was itself merged earlier is unmerged by this event
    UPDATE patients SET merged_into = NULL, merged_at = NULL
     WHERE hub_id = p_into AND merged_into IS NOT NULL;
    INSERT INTO patient_identifiers (system, value, hub_id, org_id)
    SELECT u.system, u.value, p_into, p_org
      FROM unnest(v_sys, v_val) AS u(system, value)
    ON CONFLICT DO NOTHING;
END $$;

CREATE FUNCTION hub_events_merge() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM hub_merge_patient(NEW.org_id, NEW.body->'patient'->'merged_from',
                              NEW.patient_hub_id, NEW.id);
    RETURN NULL;
END $$;

CREATE TRIGGER events_merge AFTER INSERT ON events
    FOR EACH ROW WHEN (NEW.type = 'adt.merge')
    EXECUTE FUNCTION hub_events_merge();

-- --- routing: subscriptions, the outbox, deliveries ------------------------

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

-- Routing, called once per batch inside the ingest transaction with the
-- seqs of the events just stored (see the top of this section). The audit
-- rows of the routing decisions are appended in one hub_audit_append_many()
-- call: one read of the chain head and one INSERT, as ingest does.
CREATE FUNCTION hub_route_events(p_seqs bigint[]) RETURNS void
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

-- What p_org may read in the pull feed, after cursor p_after: admins see
-- everything, others what they sent and what was routed to them. A plain
-- SQL function so that the planner inlines it.
CREATE FUNCTION hub_visible_events(p_org text, p_admin boolean, p_after bigint)
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

-- --- ingest ----------------------------------------------------------------

-- hub_ingest_batch() message by message, event by event: for the batches
-- whose order of effects a set cannot reproduce (see hub_ingest_batch()).
-- Same arguments, same results, same rows.
CREATE FUNCTION hub_ingest_batch_serial(p_batch jsonb, p_raw bytea[],
    p_reply bytea[])
RETURNS TABLE (dup boolean, message_id bigint, event_ids text, reply bytea)
LANGUAGE plpgsql AS $$
DECLARE
    m jsonb;
    e jsonb;
    i int := 0;
    v_org text;
    v_key text;
    v_ok boolean;
    v_mid bigint;
    v_at timestamptz;
    v_at_text text;
    v_body jsonb;
    v_pid text;
    v_first_pid text;
    v_seq bigint;
    v_ids text[];
    v_seqs bigint[] := '{}';
    v_reply bytea;
    -- audit rows of the batch, appended in one call at the end
    a_actor text[] := '{}';
    a_action text[] := '{}';
    a_id text[] := '{}';
    a_patient text[] := '{}';
    a_detail jsonb[] := '{}';
    k int := 0;
BEGIN
    -- before any seq is taken: seq order = commit order, one chain writer,
    -- and the duplicate check below sees every committed message
    PERFORM hub_chain_lock();
    FOR m IN SELECT x FROM jsonb_array_elements(p_batch) x LOOP
        i := i + 1;
        v_org := m->>'org';
        v_key := nullif(m->>'key', '');
        v_ok := coalesce((m->>'ok')::boolean, false);
        v_at := coalesce((m->>'at')::timestamptz, now());
        v_at_text := to_char(v_at AT TIME ZONE 'UTC',
                             'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
        IF v_key IS NOT NULL THEN
            SELECT ms.id, ms.reply INTO v_mid, v_reply FROM messages ms
             WHERE ms.org_id = v_org AND ms.idem_key = v_key
               AND ms.status = 'accepted';
            IF FOUND THEN
                dup := true;
                message_id := v_mid;
                reply := v_reply;
                SELECT coalesce(jsonb_agg(ev.id ORDER BY ev.seq), '[]')::text
                  INTO event_ids FROM events ev WHERE ev.message_id = v_mid;
                k := k + 1;
                a_actor[k] := v_org;
                a_action[k] := 'message.duplicate';
                a_id[k] := v_mid::text;
                a_patient[k] := NULL;
                a_detail[k] := jsonb_build_object('sha256', m->>'sha',
                                                  'format', m->>'fmt');
                RETURN NEXT;
                CONTINUE;
            END IF;
        END IF;
        INSERT INTO messages (org_id, format, idem_key, sha256, raw, status,
                              error, reply, received_at)
        VALUES (v_org, m->>'fmt', v_key, m->>'sha', coalesce(p_raw[i], ''),
                CASE WHEN v_ok THEN 'accepted' ELSE 'quarantined' END,
                m->'err', p_reply[i], v_at)
        RETURNING id INTO v_mid;
        v_ids := '{}';
        v_first_pid := NULL;
        IF v_ok THEN
            FOR e IN SELECT x FROM jsonb_array_elements(
                         coalesce(m->'ev', '[]')) x LOOP
                v_body := e->'body';
                v_pid := hub_link_patient(v_org,
                             v_body->'patient'->'identifiers', e->>'pid');
                v_body := v_body || jsonb_build_object('id', e->>'id',
                    'source', coalesce(v_body->'source', '{}')
                        || jsonb_build_object('org', v_org,
                                              'received_at', v_at_text));
                IF v_pid IS NOT NULL THEN
                    v_body := jsonb_set(v_body, '{patient,hub_id}',
                                        to_jsonb(v_pid));
                    v_first_pid := coalesce(v_first_pid, v_pid);
                END IF;
                INSERT INTO events (id, message_id, org_id, type,
                                    patient_hub_id, occurred_at, received_at,
                                    body)
                VALUES (e->>'id', v_mid, v_org,
                        coalesce(e->>'type', v_body->>'type'), v_pid,
                        hub_parse_ts(v_body->>'occurred_at'), v_at, v_body)
                RETURNING seq INTO v_seq;
                v_seqs := v_seqs || v_seq;
                v_ids := v_ids || (e->>'id');
            END LOOP;
            k := k + 1;
            a_action[k] := 'message.received';
            a_patient[k] := v_first_pid;
            a_detail[k] := jsonb_build_object('sha256', m->>'sha',
                'format', m->>'fmt', 'events', to_jsonb(v_ids));
        ELSE
            k := k + 1;
            a_action[k] := 'message.quarantined';
            a_patient[k] := NULL;
            a_detail[k] := jsonb_build_object('sha256', m->>'sha',
                'format', m->>'fmt', 'error', jsonb_build_object(
                    'code', m->'err'->'code', 'field', m->'err'->'field'));
        END IF;
        a_actor[k] := v_org;
        a_id[k] := v_mid::text;
        dup := false;
        message_id := v_mid;
        event_ids := to_jsonb(v_ids)::text;
        reply := NULL;
        RETURN NEXT;
    END LOOP;
    PERFORM hub_audit_append_many(a_actor, a_action,
        array_fill('message'::text, ARRAY[k]), a_id, a_patient, a_detail);
    PERFORM hub_route_events(v_seqs);
END $$;

-- Ingest a whole batch in one call and one transaction (the caller's).
-- p_batch is a JSON array, one object per message:
--   {"org","fmt","key","sha","at","ok","err":{...},
--    "ev":[{"id","type","pid","body":{canonical event}}]}
-- "pid" is a fresh hub id to use if the event's patient is new. p_raw[i]
-- and p_reply[i] are message i's bytes and reply. Returns one row per
-- message, in order.
--
-- A fixed number of set-based statements per batch, not about twelve per
-- message: the whole ingest transaction runs under the chain lock through
-- its commit, so its execution time is the serial part of group commit (a
-- batch of 32 ADT messages: about 11 ms of backend CPU, against 21 ms for
-- the per-message loop of hub_ingest_batch_serial()). Rows, ids and seqs in
-- batch order, audit rows in order (identity conflicts, then one row per
-- message), results: all as the serial version gives them. That version
-- still does the shapes whose order of effects a set cannot reproduce: a
-- batch holding an adt.merge event (its trigger moves identifiers between
-- two events' linking) or the same (org, key) twice (the second is a
-- duplicate of the first).
--
-- Linking keeps the sequential meaning of hub_link_patient(): event k links
-- to the lowest hub id among the owners of its identifiers as they stand
-- after events 1..k-1, i.e. the owners from before the batch plus, for an
-- identifier first seen in this batch, the patient of the first event that
-- carried it. Events that share no new identifier with an earlier event
-- (nearly all) are linked in one statement; the others in batch order.
--
-- Lookups are LATERAL subqueries with LIMIT 1, never flattened into joins,
-- so each stays an index probe per row: the generic plans count
-- jsonb_array_elements() as 100 rows whatever the batch holds, and with
-- messages around ten thousand rows the planner preferred hashing the whole
-- table each batch (3.1 ms of a 6.5 ms batch at 8 connections, growing with
-- the table).
CREATE FUNCTION hub_ingest_batch(p_batch jsonb, p_raw bytea[], p_reply bytea[])
RETURNS TABLE (dup boolean, message_id bigint, event_ids text, reply bytea)
LANGUAGE plpgsql
-- generic plans, made once per connection: custom plans (chosen because a
-- constant array bound makes generate_series look cheaper) re-planned each
-- statement on every call, about as costly as running it
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    -- per message, index = position in the batch
    m_org text[];
    m_key text[];
    m_ok boolean[];
    m_at timestamptz[];
    m_mid bigint[];             -- the stored (or, for a duplicate, earlier) id
    m_dup boolean[];
    m_dup_reply bytea[];
    n_msg int;
    n_new int;
    v_ids bigint[];
    -- per event, in batch order
    e_msg int[];
    e_id text[];
    e_type text[];
    e_cand text[];
    e_body jsonb[];
    e_hub text[];
    e_seq bigint[];
    n_ev int;
    v_merge boolean;
    v_twice boolean;
    -- linking: one row per (event, distinct identifier)
    i_k int[];
    i_sys text[];
    i_val text[];
    i_owner text[];
    i_first int[];
    l_ev int[];                 -- events with identifiers
    l_pre text[];               -- their owners before the batch, as '{..}'
    l_dep text[];               -- earlier events they depend on, as '{..}'
    l_cand text[];
    v_all text[];
    v_any_dep boolean;
    -- identity.conflict audit rows, in event order
    c_org text[] := '{}';
    c_hub text[] := '{}';
    c_all jsonb[] := '{}';
    k int;
BEGIN
    -- before anything is read: seq order = commit order, one chain writer,
    -- and the duplicate check below sees every committed message
    PERFORM hub_chain_lock();

    SELECT array_agg(t.x->>'org' ORDER BY t.o),
           array_agg(nullif(t.x->>'key', '') ORDER BY t.o),
           array_agg(coalesce((t.x->>'ok')::boolean, false) ORDER BY t.o),
           array_agg(coalesce((t.x->>'at')::timestamptz, now()) ORDER BY t.o),
           array_agg(d.id ORDER BY t.o),
           array_agg(d.id IS NOT NULL ORDER BY t.o),
           array_agg(d.reply ORDER BY t.o),
           count(*),
           count(*) FILTER (WHERE d.id IS NULL),
           count(nullif(t.x->>'key', ''))
               > count(DISTINCT (t.x->>'org') || ' ' || nullif(t.x->>'key', '')),
           bool_or(coalesce((t.x->>'ok')::boolean, false) AND d.id IS NULL
                   AND EXISTS (SELECT 1 FROM jsonb_array_elements(
                                  coalesce(t.x->'ev', '[]')) e
                                WHERE coalesce(e->>'type', e->'body'->>'type')
                                      = 'adt.merge'))
      INTO m_org, m_key, m_ok, m_at, m_mid, m_dup, m_dup_reply, n_msg,
           n_new, v_twice, v_merge
      FROM jsonb_array_elements(p_batch) WITH ORDINALITY AS t(x, o)
      -- an index probe per message (LIMIT: see above)
      LEFT JOIN LATERAL (
           SELECT ms.id, ms.reply FROM messages ms
            WHERE ms.org_id = t.x->>'org'
              AND ms.idem_key = nullif(t.x->>'key', '')
              AND ms.status = 'accepted'
            LIMIT 1) d ON true;
    IF n_msg = 0 THEN
        RETURN;
    END IF;
    IF v_twice OR v_merge THEN
        RETURN QUERY SELECT * FROM hub_ingest_batch_serial(p_batch, p_raw,
                                                           p_reply);
        RETURN;
    END IF;

    -- ids in batch order, then one INSERT
    SELECT array_agg(nextval('messages_id_seq') ORDER BY g)
      INTO v_ids FROM generate_series(1, n_new) g;
    k := 0;
    FOR i IN 1 .. n_msg LOOP
        IF NOT m_dup[i] THEN
            k := k + 1;
            m_mid[i] := v_ids[k];
        END IF;
    END LOOP;
    INSERT INTO messages (id, org_id, format, idem_key, sha256, raw, status,
                          error, reply, received_at)
    SELECT m_mid[u.o], m_org[u.o], u.x->>'fmt', m_key[u.o], u.x->>'sha',
           coalesce(p_raw[u.o], ''),
           CASE WHEN m_ok[u.o] THEN 'accepted' ELSE 'quarantined' END,
           u.x->'err', p_reply[u.o], m_at[u.o]
      FROM jsonb_array_elements(p_batch) WITH ORDINALITY AS u(x, o)
     WHERE NOT m_dup[u.o]
     ORDER BY u.o;

    -- the events of the accepted new messages, in batch order
    -- (arrays, not a temp table: an ON COMMIT DELETE ROWS table's truncation
    -- invalidated every cached plan that read it, so each call re-planned)
    SELECT array_agg(u.o ORDER BY u.o, e.o), array_agg(e.x->>'id' ORDER BY u.o, e.o),
           array_agg(coalesce(e.x->>'type', e.x->'body'->>'type')
                     ORDER BY u.o, e.o),
           array_agg(e.x->>'pid' ORDER BY u.o, e.o),
           array_agg(e.x->'body' ORDER BY u.o, e.o), count(*)
      INTO e_msg, e_id, e_type, e_cand, e_body, n_ev
      FROM jsonb_array_elements(p_batch) WITH ORDINALITY AS u(x, o)
     CROSS JOIN LATERAL jsonb_array_elements(coalesce(u.x->'ev', '[]'))
                WITH ORDINALITY AS e(x, o)
     WHERE m_ok[u.o] AND NOT m_dup[u.o];

    IF n_ev > 0 THEN
        -- identifiers per event as hub_link_patient() reads them, with
        -- their owners before the batch and the first event carrying them
        SELECT array_agg(i.k ORDER BY i.k, i.system, i.value),
               array_agg(i.system ORDER BY i.k, i.system, i.value),
               array_agg(i.value ORDER BY i.k, i.system, i.value),
               array_agg(i.owner ORDER BY i.k, i.system, i.value),
               array_agg(i.first ORDER BY i.k, i.system, i.value)
          INTO i_k, i_sys, i_val, i_owner, i_first
          FROM (SELECT s.k, s.system, s.value, o.hub_id AS owner,
                       min(s.k) OVER (PARTITION BY s.system, s.value) AS first
                  FROM (SELECT DISTINCT ev.k,
                               CASE WHEN coalesce(x->>'system', '') = ''
                                    THEN 'urn:hub:org:' || m_org[ev.msg]
                                    ELSE x->>'system' END AS system,
                               x->>'value' AS value
                          FROM unnest(e_msg, e_body)
                               WITH ORDINALITY AS ev(msg, body, k)
                         CROSS JOIN LATERAL jsonb_array_elements(
                             CASE WHEN jsonb_typeof(
                                      ev.body->'patient'->'identifiers')
                                      = 'array'
                                  THEN ev.body->'patient'->'identifiers'
                                  ELSE '[]' END) x
                         WHERE jsonb_typeof(x) = 'object'
                           AND coalesce(x->>'value', '') <> '') s
                  -- an index probe per identifier (LIMIT keeps the
                  -- planner, blind to the row count, from hashing the
                  -- whole table instead)
                  LEFT JOIN LATERAL (
                       SELECT pi.hub_id FROM patient_identifiers pi
                        WHERE pi.system = s.system AND pi.value = s.value
                        LIMIT 1) o ON true) i;
        -- per event: the owners before the batch, and the earlier events
        -- of the batch that first carried one of its new identifiers
        SELECT array_agg(q.k ORDER BY q.k), array_agg(q.pre ORDER BY q.k),
               array_agg(q.dep ORDER BY q.k), array_agg(e_cand[q.k] ORDER BY q.k),
               bool_or(q.dep <> '{}')
          INTO l_ev, l_pre, l_dep, l_cand, v_any_dep
          FROM (SELECT i.k,
                       coalesce(array_agg(DISTINCT i.owner ORDER BY i.owner)
                                FILTER (WHERE i.owner IS NOT NULL),
                                '{}')::text AS pre,
                       coalesce(array_agg(DISTINCT i.first)
                                FILTER (WHERE i.owner IS NULL
                                          AND i.first < i.k),
                                '{}')::text AS dep
                  FROM unnest(i_k, i_owner, i_first) AS i(k, owner, first)
                 GROUP BY i.k) q;

        IF l_ev IS NOT NULL THEN
            e_hub := array_fill(NULL::text, ARRAY[n_ev]);
            FOR i IN 1 .. cardinality(l_ev) LOOP
                k := l_ev[i];
                v_all := l_pre[i]::text[];
                IF v_any_dep AND l_dep[i] <> '{}' THEN
                    -- owners set by earlier events of this batch
                    SELECT array_agg(DISTINCT h ORDER BY h) INTO v_all
                      FROM (SELECT unnest(l_pre[i]::text[])
                            UNION ALL
                            SELECT e_hub[j] FROM unnest(l_dep[i]::int[]) j)
                           AS s(h);
                END IF;
                e_hub[k] := coalesce(v_all[1], l_cand[i]);
                IF cardinality(v_all) > 1 THEN
                    c_org := c_org || m_org[e_msg[k]];
                    c_hub := c_hub || e_hub[k];
                    c_all := c_all || jsonb_build_object('patients',
                                 to_jsonb(v_all), 'linked', e_hub[k]);
                END IF;
            END LOOP;
            INSERT INTO patients (hub_id)
            SELECT l_cand[i] FROM generate_series(1, cardinality(l_ev)) i
             WHERE l_pre[i] = '{}' AND l_dep[i] = '{}'   -- no owner
             ORDER BY i;
            -- each identifier new to the hub, for the patient of the first
            -- event that carried it (what the serial version's per-event
            -- ON CONFLICT DO NOTHING leaves); a plain INSERT, as every
            -- writer of identifiers holds the chain lock and these had no
            -- row under it
            INSERT INTO patient_identifiers (system, value, hub_id, org_id)
            SELECT i.system, i.value, e_hub[i.k], m_org[e_msg[i.k]]
              FROM unnest(i_k, i_sys, i_val, i_owner, i_first)
                   WITH ORDINALITY AS i(k, system, value, owner, first, o)
             WHERE i.owner IS NULL AND i.first = i.k
             ORDER BY i.o;
        END IF;

        -- seqs in batch order, then one INSERT
        SELECT array_agg(nextval('events_seq') ORDER BY g)
          INTO e_seq FROM generate_series(1, n_ev) g;
        INSERT INTO events (seq, id, message_id, org_id, type,
                            patient_hub_id, occurred_at, received_at, body)
        SELECT e_seq[b.k], b.id, m_mid[b.msg], m_org[b.msg], b.type,
               e_hub[b.k], hub_parse_ts(b.occurred_at), m_at[b.msg], b.body
          FROM (SELECT ev.k, ev.msg, ev.id, ev.type,
                       ev.body->>'occurred_at' AS occurred_at,   -- unchanged
                       CASE WHEN e_hub[ev.k] IS NOT NULL
                            THEN jsonb_set(v.body, '{patient,hub_id}',
                                           to_jsonb(e_hub[ev.k]))
                            ELSE v.body END AS body
                  FROM unnest(e_msg, e_id, e_type, e_body)
                       WITH ORDINALITY AS ev(msg, id, type, body, k)
                 CROSS JOIN LATERAL (SELECT ev.body || jsonb_build_object(
                        'id', ev.id,
                        'source', coalesce(ev.body->'source', '{}')
                            || jsonb_build_object('org', m_org[ev.msg],
                                   'received_at', to_char(m_at[ev.msg]
                                       AT TIME ZONE 'UTC',
                                       'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))
                        AS body) v) b
         ORDER BY b.k;
    END IF;

    -- identity conflicts (in the order hub_link_patient() appends them),
    -- then one row per message, in one append
    PERFORM hub_audit_append_many(a.actor, a.action, a.kind, a.id, a.patient,
                                  a.detail)
       FROM (SELECT array_agg(r.actor ORDER BY r.o) AS actor,
                    array_agg(r.action ORDER BY r.o) AS action,
                    array_agg(r.kind ORDER BY r.o) AS kind,
                    array_agg(r.id ORDER BY r.o) AS id,
                    array_agg(r.patient ORDER BY r.o) AS patient,
                    array_agg(r.detail ORDER BY r.o) AS detail
               FROM (SELECT c.o - 1000000000 AS o, c.org AS actor,
                            'identity.conflict' AS action, 'patient' AS kind,
                            c.hub AS id, c.hub AS patient, c.d AS detail
                       FROM unnest(c_org, c_hub, c_all)
                            WITH ORDINALITY AS c(org, hub, d, o)
                     UNION ALL
                     SELECT u.o, m_org[u.o],
                            CASE WHEN m_dup[u.o] THEN 'message.duplicate'
                                 WHEN m_ok[u.o] THEN 'message.received'
                                 ELSE 'message.quarantined' END,
                            'message', m_mid[u.o]::text,
                            CASE WHEN m_ok[u.o] AND NOT m_dup[u.o] THEN
                                (SELECT ev.h FROM unnest(e_msg, e_hub)
                                        WITH ORDINALITY AS ev(msg, h, k)
                                  WHERE ev.msg = u.o AND ev.h IS NOT NULL
                                  ORDER BY ev.k LIMIT 1) END,
                            CASE WHEN m_dup[u.o] THEN
                                jsonb_build_object('sha256', u.x->>'sha',
                                                   'format', u.x->>'fmt')
                                 WHEN m_ok[u.o] THEN
                                jsonb_build_object('sha256', u.x->>'sha',
                                    'format', u.x->>'fmt', 'events',
                                    (SELECT coalesce(jsonb_agg(ev.id
                                                     ORDER BY ev.k), '[]')
                                       FROM unnest(e_msg, e_id)
                                            WITH ORDINALITY AS ev(msg, id, k)
                                      WHERE ev.msg = u.o))
                                 ELSE
                                jsonb_build_object('sha256', u.x->>'sha',
                                    'format', u.x->>'fmt', 'error',
                                    jsonb_build_object(
                                        'code', u.x->'err'->'code',
                                        'field', u.x->'err'->'field')) END
                       FROM jsonb_array_elements(p_batch)
                            WITH ORDINALITY AS u(x, o)) r) a;

    -- routing writes nothing unless a live subscription exists (see
    -- hub_route_events); skip its temp-table set-up when none does
    IF n_ev > 0 AND EXISTS (SELECT 1 FROM subscriptions s
                             WHERE s.deleted_at IS NULL
                               AND s.status <> 'disabled') THEN
        PERFORM hub_route_events(e_seq);
    END IF;

    RETURN QUERY
    SELECT m_dup[u.o], m_mid[u.o],
           CASE WHEN m_dup[u.o] THEN
               (SELECT coalesce(jsonb_agg(ev.id ORDER BY ev.seq), '[]')::text
                  FROM events ev WHERE ev.message_id = m_mid[u.o])
           ELSE (SELECT coalesce(jsonb_agg(ev.id ORDER BY ev.k), '[]')::text
                   FROM unnest(e_msg, e_id) WITH ORDINALITY AS ev(msg, id, k)
                  WHERE ev.msg = u.o) END,
           CASE WHEN m_dup[u.o] THEN m_dup_reply[u.o] END
      FROM generate_series(1, n_msg) AS u(o)
     ORDER BY u.o;
END $$;

-- --- the pull feed ---------------------------------------------------------

-- One page of the pull feed for p_org, written as the JSON document the API
-- returns, and audited: one 'feed.read' row per patient disclosed (so that
-- `hubctl audit list --patient` is an accounting of disclosures), or one
-- row without a patient when the page holds none.
-- p_topics: LIKE patterns ('adt.%'), NULL for all.
CREATE FUNCTION hub_feed_page(p_org text, p_admin boolean, p_after bigint,
    p_topics text[], p_since timestamptz, p_limit int)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_json text;
    v_next bigint;
    v_n bigint;
    v_ids text[];
    v_pids text[];
BEGIN
    SELECT coalesce(string_agg(p.body::text, ',' ORDER BY p.seq), ''),
           max(p.seq), count(*),
           array_agg(p.id ORDER BY p.seq),
           array_agg(p.patient_hub_id ORDER BY p.seq)
      INTO v_json, v_next, v_n, v_ids, v_pids
      FROM (SELECT e.seq, e.id, e.patient_hub_id, e.body
              FROM hub_visible_events(p_org, p_admin, p_after) e
             WHERE (p_topics IS NULL OR e.type LIKE ANY (p_topics))
               AND (p_since IS NULL OR e.occurred_at >= p_since)
             ORDER BY e.seq
             LIMIT p_limit) p;
    v_next := coalesce(v_next, p_after);
    IF v_n = 0 THEN
        PERFORM hub_audit_append(p_org, 'feed.read', 'feed',
            'after=' || p_after, NULL,
            jsonb_build_object('events', '[]'::jsonb, 'next', v_next));
    ELSE
        PERFORM hub_audit_append_many(array_agg(p_org), array_agg('feed.read'::text),
                   array_agg('feed'::text), array_agg('after=' || p_after),
                   array_agg(g.pid ORDER BY g.first),
                   array_agg(jsonb_build_object('events', to_jsonb(g.ids),
                                                'next', v_next)
                             ORDER BY g.first))
          FROM (SELECT u.pid, min(u.ord) AS first,
                       array_agg(u.id ORDER BY u.ord) AS ids
                  FROM unnest(v_ids, v_pids) WITH ORDINALITY AS u(id, pid, ord)
                 GROUP BY u.pid) g;
    END IF;
    RETURN '{"events":[' || v_json || '],"next":"' || v_next || '"}';
END $$;

-- --- subscriptions: API and hubctl go through these (audited) --------------

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

-- 006_routing_locks.sql - one lock order for everything that writes the
-- audit chain: the chain lock (hub_chain_lock) first, row locks after.
-- Ingest already takes the chain lock before any row; the functions of
-- 002_routing.sql below took row locks first (a delivery, a subscription)
-- and the chain lock at their first audit row, so two of them (or one and
-- an ingest routing a 410'd subscription) could deadlock; PostgreSQL would
-- cancel one and the caller retry, but a fixed order avoids it. Same
-- bodies, with PERFORM hub_chain_lock() first.
CREATE FUNCTION hub_sub_update(p_actor text, p_org text, p_id text,
    p_doc jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    s subscriptions;
    v_old text;
BEGIN
    PERFORM hub_chain_lock();        -- first: see "Lock order" on top
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
    PERFORM hub_chain_lock();        -- first: see "Lock order" on top
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

-- --- the dispatcher --------------------------------------------------------

-- Claim up to p_max due deliveries for p_owner for p_lease_ms, at most
-- p_per_endpoint of them per endpoint, none for the endpoints in p_skip
-- (the caller's full or circuit-open ones). Due: subscription active;
-- pending/failed and next_attempt_at passed, or delivering with an expired
-- lease (its node died); and no earlier open delivery for the same
-- (subscription, patient). Each claim counts as an attempt. secrets come
-- back space-separated.
-- The plan does not depend on fresh statistics (the table churns faster
-- than they follow): the order check is a per-row index probe (LIMIT 1
-- keeps the subquery from being flattened into an anti-join, which became
-- a nested loop over every open delivery: seconds for a claim), and the
-- claimed ids are looked up by primary key (= ANY (ARRAY(...))) rather than
-- semi-joined against the CTE.
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

-- Record a batch of attempt outcomes in one transaction: one chain-lock
-- acquisition and one audit append for many rows. p_results: JSON array of
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
    -- audit rows, appended in one call at the end (one chain walk)
    a_action text[] := '{}';
    a_kind text[] := '{}';
    a_id text[] := '{}';
    a_patient text[] := '{}';
    a_detail jsonb[] := '{}';
BEGIN
    PERFORM hub_chain_lock();        -- first: see "Lock order" on top
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

CREATE FUNCTION hub_replay_delivery(p_actor text, p_org text, p_id bigint)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    d deliveries;
BEGIN
    PERFORM hub_chain_lock();        -- first: see "Lock order" on top
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

CREATE FUNCTION hub_replay_range(p_actor text, p_org text, p_sub text,
    p_from timestamptz, p_to timestamptz, p_status text[], p_max int)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_n int;
    r record;
BEGIN
    PERFORM hub_chain_lock();        -- first: see "Lock order" on top
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

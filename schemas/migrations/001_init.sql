-- 001_init.sql - the hub's first schema: organizations and credentials,
-- messages (raw bytes, accepted or quarantined), patients and identifiers,
-- canonical events (the pull-feed cursor) and the audit hash chain; plus the
-- ingest function that writes a whole batch in one transaction.
--
-- Invariants that everything else leans on:
--  * events.seq and audit.seq are assigned only while holding the chain lock
--    (hub_chain_lock(), a transaction-scoped advisory lock), which is released
--    at commit. So seq order is commit order: a feed reader that has seen seq
--    N will never later find a committed row below N.
--  * audit rows form a SHA-256 chain: hash = sha256(prev_hash || canonical
--    text of the row), seq has no gaps, one writer at a time (same lock).
--  * audit.detail holds ids, hashes and codes only, never personal data.
-- Applied by store_migrate() (hubctl migrate), recorded in schema_migrations.

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
    created_at  timestamptz NOT NULL DEFAULT now()
);

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
CREATE FUNCTION hub_audit_verify(OUT ok boolean, OUT rows_checked bigint,
    OUT bad_seq bigint, OUT problem text)
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
    END LOOP;
END $$;

-- ISO 8601 text to timestamptz, NULL when partial or invalid (never raises:
-- an exception block would cost a subtransaction per event). A time without
-- an offset is read as UTC.
CREATE FUNCTION hub_parse_ts(p text) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    m text[];
    y int; mo int; d int;
BEGIN
    IF p IS NULL THEN
        RETURN NULL;
    END IF;
    m := regexp_match(p, '^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})'
                         '(?::(\d{2})(?:\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?$');
    IF m IS NULL THEN
        RETURN NULL;
    END IF;
    y := m[1]::int; mo := m[2]::int; d := m[3]::int;
    IF y < 1 OR mo NOT BETWEEN 1 AND 12 OR d < 1
       OR d > extract(day FROM make_date(y, mo, 1) + interval '1 month'
                               - interval '1 day')
       OR coalesce(m[4]::int, 0) > 23 OR coalesce(m[5]::int, 0) > 59
       OR coalesce(m[6]::int, 0) > 59 THEN
        RETURN NULL;
    END IF;
    IF m[7] IS NULL THEN
        RETURN (p || 'Z')::timestamptz;
    END IF;
    RETURN p::timestamptz;
END $$;

-- Link a patient by its identifiers (system + value). A known identifier
-- links to its patient (the oldest one if several match); otherwise
-- p_candidate becomes a new patient. Unknown identifiers of the message are
-- then recorded for that patient. NULL when the event names no identifier.
-- Callers hold hub_chain_lock(), so two batches never race on one identifier.
CREATE FUNCTION hub_link_patient(p_org text, p_ids jsonb, p_candidate text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_hub text;
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
    SELECT min(pi.hub_id) INTO v_hub
      FROM unnest(v_sys, v_val) AS u(system, value)
      JOIN patient_identifiers pi
        ON pi.system = u.system AND pi.value = u.value;
    IF v_hub IS NULL THEN
        v_hub := p_candidate;
        INSERT INTO patients (hub_id) VALUES (v_hub);
    END IF;
    INSERT INTO patient_identifiers (system, value, hub_id, org_id)
    SELECT u.system, u.value, v_hub, p_org
      FROM unnest(v_sys, v_val) AS u(system, value)
    ON CONFLICT DO NOTHING;
    RETURN v_hub;
END $$;

-- Routing hook, called once per batch inside the ingest transaction with the
-- seqs of the events just stored. A no-op here; the dispatch migration
-- replaces it (CREATE OR REPLACE, same signature) to write delivery rows:
-- the transactional outbox.
CREATE FUNCTION hub_route_events(p_seqs bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    NULL;
END $$;

-- What p_org may read in the pull feed, after cursor p_after: admins see
-- everything, others what they sent. The dispatch migration extends it
-- (CREATE OR REPLACE, same signature) with the events routed to p_org.
-- A plain SQL function so that the planner inlines it.
CREATE FUNCTION hub_visible_events(p_org text, p_admin boolean, p_after bigint)
RETURNS SETOF events LANGUAGE sql STABLE AS $$
    SELECT * FROM events
     WHERE seq > p_after AND (p_admin OR org_id = p_org)
$$;

-- Ingest a whole batch in one call and one transaction (the caller's).
-- p_batch is a JSON array, one object per message:
--   {"org","fmt","key","sha","at","ok","err":{...},
--    "ev":[{"id","type","pid","body":{canonical event}}]}
-- "pid" is a fresh hub id to use if the event's patient is new. p_raw[i]
-- and p_reply[i] are message i's bytes and reply. Returns one row per
-- message, in order.
CREATE FUNCTION hub_ingest_batch(p_batch jsonb, p_raw bytea[], p_reply bytea[])
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

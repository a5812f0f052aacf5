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
--  * Durability: the ingest transaction commits without waiting for its WAL
--    flush (hub_ingest_fast sets synchronous_commit off), so that the chain
--    lock is not held through the flush. Its rows are visible from that
--    commit on but durable only once the WAL is flushed past its commit
--    record. So nothing that shows ingested data outside the database may
--    happen before a synchronous commit that writes WAL and starts after the
--    reads that found them (hub_durable()): that commit's record follows the
--    commit record of every transaction it could see, and its flush covers
--    them. Who does it: hubd after each ingest batch, before any ACK or 202
--    (duplicates and AE answers too: the same batch); the pull feed
--    (hub_feed_page writes its audit rows and commits synchronously before
--    the page is sent); the dispatcher's claim (synchronous when it leased
--    rows, before their bodies are sent); the read-only API and hubctl
--    reads of the audit chain and deliveries (store.c runs hub_durable()
--    after the read, before answering).
--  * audit rows form a SHA-256 chain: hash = sha256(prev_hash || canonical
--    text of the row), seq has no gaps, one writer at a time (same lock).
--  * audit.detail holds ids, hashes and codes only, never personal data.
--    It is text: jsonb's text form of an object (see the audit table).
--  * Lock order (details at the top of the routing section): the chain lock
--    is taken last. A transaction locks the existing rows it will change
--    first, in one fixed order (subscriptions, then deliveries by id, then
--    delivery_queue by delivery_id), and only then the chain lock; holding
--    the chain lock, it waits for no row lock that anyone else may hold
--    while waiting for the chain lock.
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
    -- the sensitivity labels (sud, psy, sdv, ...) its subscriptions may opt
    -- in to: an operator's grant (hubctl org add|update --labels), see
    -- hub_sub_labels_granted below
    labels      text[] NOT NULL DEFAULT '{}'
                CHECK (array_to_string(labels, ',') ~ '^([a-z][a-z0-9-]*(,|$))*$'),
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
    revoked_at  timestamptz,
    -- NULL: never; past it the token authenticates nothing, as if revoked
    expires_at  timestamptz
);

-- Mutual TLS: hex SHA-256 of the client certificate's DER -> organization.
CREATE TABLE cert_bindings (
    fingerprint text PRIMARY KEY CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
    org_id      text NOT NULL REFERENCES organizations,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- Each hubd caches who a token or a certificate is (hub/auth.c,
-- auth_cache_ttl). A statement that adds, revokes, removes or rebinds a
-- credential, or changes an organization's scopes or removes it, sends
-- NOTIFY hub_auth in its own transaction: delivered when, and only if, it
-- commits, to every hubd, which then drops its whole cache (before the next
-- request it answers). The TTL stays the backstop for a hubd whose LISTEN
-- link is down (it flushes again when the link is back).
CREATE FUNCTION hub_auth_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hub_auth', TG_TABLE_NAME);
    RETURN NULL;
END $$;
CREATE TRIGGER api_tokens_notify
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION hub_auth_notify();
CREATE TRIGGER cert_bindings_notify
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON cert_bindings
    FOR EACH STATEMENT EXECUTE FUNCTION hub_auth_notify();
-- a rename or a label grant leaves every credential as it was
CREATE TRIGGER organizations_notify_update AFTER UPDATE ON organizations
    FOR EACH ROW WHEN (OLD.scopes IS DISTINCT FROM NEW.scopes
                       OR OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION hub_auth_notify();
CREATE TRIGGER organizations_notify_delete
    AFTER DELETE OR TRUNCATE ON organizations
    FOR EACH STATEMENT EXECUTE FUNCTION hub_auth_notify();

-- --- messages, patients, events, the audit chain ---------------------------

-- Keys that are only matched for equality or uniqueness (org and patient
-- ids, idempotency keys, identifier systems and values, event ids) are
-- COLLATE "C": their index entries compare with memcmp instead of strcoll()
-- under the database's locale (a varstr_cmp call per comparison, on every
-- index descent of ingest). Their order is byte order in every locale; under
-- the development database's C.UTF-8 that was already the order.

-- Raw messages and event bodies past the TOAST threshold (about a third of
-- ADT bodies) are compressed with lz4, several times faster than pglz: the
-- server must be built with lz4 (the PGDG and Debian packages are).
-- messages.org_id names an organization without a foreign key: the ingest
-- functions check the senders of a batch once (a foreign key ran a trigger
-- and a query for each row), and organizations_keep refuses to delete or
-- rename an organization that sent a message.
-- A message's status. A domain, not a CHECK on the column: a CHECK's
-- expression is read from the catalog again (stringToNode) for every
-- INSERT statement, a domain's is kept in the type cache (about 20k
-- instructions a batch of the ingest transaction).
CREATE DOMAIN hub_message_status AS text
    CHECK (VALUE IN ('accepted', 'quarantined'));
CREATE TABLE messages (
    id          bigserial NOT NULL,      -- see messages_id below
    org_id      text COLLATE "C" NOT NULL,  -- an organizations row
    format      text NOT NULL,
    idem_key    text COLLATE "C",
    sha256      text NOT NULL,
    raw         bytea COMPRESSION lz4 NOT NULL,
    status      hub_message_status NOT NULL,
    error       jsonb,
    reply       bytea,
    -- the ids of an accepted message's events, in seq order (a JSON array
    -- as jsonb prints it, text as events.body is; NULL when quarantined):
    -- what a re-send is answered with, read with the row the duplicate
    -- check finds (an index on events.message_id for that one lookup cost
    -- an index entry per event). Text: hubd sends jsonb's text form, so
    -- ingest parses no jsonb for it (jsonb_recv, about 3.7k instructions
    -- a message)
    event_ids   text,
    received_at timestamptz NOT NULL
);
-- Idempotency: one accepted message per (org, key). Quarantined messages
-- keep their key but never block a corrected re-send. Key first: a
-- sender's messages share its org id, so with org first every comparison
-- of a descent compared two texts (about 3.5k instructions a message);
-- nothing reads this index by org alone (it holds only accepted rows).
CREATE UNIQUE INDEX messages_org_key_accepted ON messages (idem_key, org_id)
    WHERE status = 'accepted' AND idem_key IS NOT NULL;
CREATE INDEX messages_quarantined ON messages (received_at)
    WHERE status = 'quarantined';
-- No primary key: ids come from messages_id_seq only (hub_ingest_fast
-- takes them by nextval, the serial path by the DEFAULT), and nothing that
-- runs with the traffic reads a message by id: a re-send is found by the
-- idempotency index above, with the hash a re-send is compared with
-- (hub_dup_differs). The unique index cost an entry per message, about
-- 7.5k instructions of ingest. Rows go in in about id order, so a block
-- range index serves an operator's lookup by id (an audit row's
-- object_id, an event's message_id): a range is summarized by autovacuum
-- soon after it fills (autosummarize); the newest, not yet summarized,
-- are read whole.
CREATE INDEX messages_id ON messages USING brin (id)
    WITH (autosummarize = on);
-- Each session takes message ids 64 at a time (a nextval from its cache
-- writes nothing: about 1.5k instructions a message less). Ids are taken
-- before the chain lock, so they never followed commit order; within one
-- batch they still follow batch order. A session's unused ids are gaps,
-- as a duplicate's is. (events_seq has no cache: hub_ingest_fast moves it
-- with setval, which only the calling session's cache would see.)
ALTER SEQUENCE messages_id_seq CACHE 64;

CREATE FUNCTION hub_organizations_keep() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id THEN
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT 1 FROM messages m WHERE m.org_id = OLD.id) THEN
        RAISE EXCEPTION 'organization % has messages', OLD.id
              USING ERRCODE = '23503', CONSTRAINT = 'messages_org_id_fkey';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE TRIGGER organizations_keep BEFORE DELETE OR UPDATE OF id
    ON organizations FOR EACH ROW EXECUTE FUNCTION hub_organizations_keep();

-- The senders of a batch are organizations: what the foreign key checked.
CREATE FUNCTION hub_orgs_known(p_org text[]) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM unnest(p_org) u(org)
                WHERE NOT EXISTS (SELECT 1 FROM organizations o
                                   WHERE o.id = u.org)) THEN
        RAISE EXCEPTION 'messages: unknown organization'
              USING ERRCODE = '23503', CONSTRAINT = 'messages_org_id_fkey';
    END IF;
END $$;

CREATE TABLE patients (
    hub_id      text COLLATE "C" PRIMARY KEY,
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- the survivor an adt.merge folded this patient into (never itself
    -- merged: hub_merge_patient flattens chains); NULL while it stands
    merged_into text COLLATE "C" REFERENCES patients,
    merged_at   timestamptz
);
CREATE INDEX patients_merged_into ON patients (merged_into)
    WHERE merged_into IS NOT NULL;
-- The patients merged away, by id: hub_any_merged()'s probe of a batch's
-- owners, under the chain lock, goes through an index that holds only them
-- (empty until a merge) instead of descending the primary key once per owner.
CREATE INDEX patients_merged ON patients (hub_id)
    WHERE merged_into IS NOT NULL;
-- How many patients were ever merged away: one row, bumped by
-- hub_merge_patient() under the chain lock, in the merge's transaction.
-- hub_ingest_fast() reads it in the snapshot of its owner probe and again
-- under the lock: unchanged, no merge committed in between, so the owners
-- it probed still stand and hub_any_merged() need not run (about 100k
-- instructions a batch: a PL/pgSQL call with two settings and a statement).
CREATE TABLE patient_merges (
    n           bigint NOT NULL
);
INSERT INTO patient_merges (n) VALUES (0);

-- Deterministic linking: (system, value) names one patient. An identifier
-- sent without a system is scoped by the sending org ('urn:hub:org:<id>').
CREATE TABLE patient_identifiers (
    system      text COLLATE "C" NOT NULL,
    value       text COLLATE "C" NOT NULL,
    hub_id      text COLLATE "C" NOT NULL, -- a patients row (no foreign key:
                                        -- see the note on events)
    org_id      text COLLATE "C" NOT NULL, -- who first sent it
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- value first: a feed's identifiers share a handful of systems, so
    -- with system first nearly every comparison of an index descent
    -- compared two texts; value nearly always decides alone (ingest's
    -- probes: about 12k instructions a message less). Uniqueness and
    -- ON CONFLICT (system, value) are the same either way.
    PRIMARY KEY (value, system)
);
CREATE INDEX patient_identifiers_hub ON patient_identifiers (hub_id);

-- events.message_id and patient_identifiers.hub_id carry no foreign key
-- (each an index probe per row under the chain lock): both rows are written
-- only by the ingest functions, in the transaction that writes (or, for a
-- merge, already holds) the row they name, and nothing deletes messages or
-- patients. No index by patient: no query reads events by patient (the
-- accounting of disclosures reads audit rows); none by message either: a
-- re-send's answer reads messages.event_ids. None by id, and no UNIQUE on
-- it: nothing reads events by id (the feed and the dispatcher read by seq;
-- a delivery row carries its event's seq), and ids are made by hubd
-- (store_new_id: 48 bits of milliseconds, 80 from RAND_bytes), so two
-- collide with odds of about 2^-80 per pair made in the same millisecond;
-- the check cost an index entry per event under the chain lock (about 10k
-- instructions a message). An operator's lookup by id scans the table.
-- events.body is text: exactly what `body::jsonb::text` prints (jsonb's key
-- order and spacing), which is what the feed and the webhooks serve. hubd
-- writes that text itself (hub/jcanon.c) for nearly every body, so ingest
-- parses no jsonb (jsonb input was a fifth of the database's CPU per
-- message); the ingest functions cast the rest (t::jsonb::text). A reader
-- that needs a path casts: body::jsonb->'patient'.
CREATE SEQUENCE events_seq;
CREATE TABLE events (
    seq         bigint PRIMARY KEY DEFAULT nextval('events_seq'),
    id          text COLLATE "C" NOT NULL,
    message_id  bigint NOT NULL,        -- a messages row (no foreign key)
    org_id      text COLLATE "C" NOT NULL,
    type        text NOT NULL,
    patient_hub_id text COLLATE "C",
    occurred_at timestamptz,            -- parsed from body, NULL if partial
    received_at timestamptz NOT NULL,
    body        text COMPRESSION lz4 NOT NULL  -- the canonical event,
                                        -- hub fields set, as jsonb's text
                                        -- form (see below)
);
ALTER SEQUENCE events_seq OWNED BY events.seq;
-- No index by (org_id, seq): the feed (hub_visible_events) reads the
-- primary key from its cursor on, filtering by sender or route (its OR with
-- the routes' subquery cannot use one), and nothing else reads events by
-- sender; the index cost an insert per event under the chain lock.

-- audit.detail is text, as events.body is: exactly what the detail's
-- jsonb prints (`detail::jsonb::text`, jsonb's key order and spacing),
-- which is also how it is chained (hub_audit_text()). Writers that have
-- the text already (hubd's 'message.received' detail, the dispatcher's
-- attempt rows) store it without a jsonb parse (jsonb input was 23k
-- instructions per delivery attempt, a sixth of the outcome flush's
-- work); the others print their jsonb. A reader that needs a key casts:
-- detail::jsonb->>'outcome'. hub_audit_verify() chains the stored text
-- byte for byte and reports a detail that is not jsonb's text form as a
-- changed row (the tests hold the writers to it).
CREATE TABLE audit (
    seq         bigint PRIMARY KEY,
    at          timestamptz NOT NULL,
    actor       text NOT NULL,          -- org id, or 'hubctl' / 'hubd'
    action      text NOT NULL,          -- 'message.received', 'feed.read', ...
    object_kind text NOT NULL,
    object_id   text NOT NULL,
    patient_hub_id text COLLATE "C",
    detail      text NOT NULL DEFAULT '{}', -- jsonb's text form (above)
    prev_hash   text NOT NULL,
    hash        text NOT NULL
);
CREATE INDEX audit_patient ON audit (patient_hub_id, seq)
    WHERE patient_hub_id IS NOT NULL;

-- The retention anchor: seq and hash of the last audit row the retention
-- pruned (seq 0 and the zero hash while none was). The retained chain
-- starts after it: hub_audit_verify() walks from it, and the first
-- retained row's prev_hash must be its hash. hub_prune_step() deletes the
-- oldest rows and moves it in one transaction, so a reader's snapshot sees
-- both or neither. One row.
CREATE TABLE audit_anchor (
    one         boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq         bigint NOT NULL,
    hash        text NOT NULL,
    at          timestamptz,            -- the pruned row's time
    moved_at    timestamptz             -- when the retention moved it
);
INSERT INTO audit_anchor (seq, hash) VALUES (0, repeat('0', 64));

-- The retention's map of messages (hub_prune_step): for each chunk of 32
-- pages, a time no row in it was received before. A step reads only the
-- chunks whose time is past the cutoff, so a daily run reads the pages of
-- about the rows that expired, not the table: messages has no index by
-- time (an entry per message on ingest), and its BRIN index on id cannot
-- serve (a range's summary only ever widens, so once freed space is used
-- again every range spans the whole retention). Written by the retention
-- alone; nothing on ingest. It holds because a row is never updated and
-- one inserted after a chunk was read was received after it, give or take
-- the slop (a day: hubd's time of receipt, a commit retried through an
-- outage, clocks apart): a chunk's time is at most a day before it was
-- read, so every chunk is read again within a retention. A rewrite of the
-- table (VACUUM FULL, CLUSTER, pg_repack: a new file) empties the map;
-- after rows were changed by hand, DELETE FROM message_chunks.
CREATE TABLE message_chunks (
    chunk       integer PRIMARY KEY,    -- pages [chunk * 32, chunk * 32 + 32)
    oldest      timestamptz NOT NULL
);
-- The chunks past the map's last one came after the last walk that reached
-- the table's end (walked_at), so no row there is older than walked_at
-- less the slop; none yet (or an empty map): unknown, read them.
CREATE TABLE message_chunks_walk (
    one         boolean PRIMARY KEY DEFAULT true CHECK (one),
    filenode    oid,                    -- messages' file the map is of
    walked_at   timestamptz
);
INSERT INTO message_chunks_walk DEFAULT VALUES;

-- The one lock that orders event seqs and audit rows across every hubd.
-- Transaction-scoped: released at commit or rollback. Re-entrant.
-- Returns true: so that PL/pgSQL can take it in an assignment, a simple
-- expression with the call inlined (PERFORM runs a whole statement).
CREATE FUNCTION hub_chain_lock() RETURNS boolean
LANGUAGE sql AS $$ SELECT pg_advisory_xact_lock(7302100431) IS NOT NULL $$;

-- Make the calling transaction's commit durable, and with it every commit
-- it could see: the transaction writes WAL (a transactional logical
-- message, prefix 'hub.durable', which decoding plugins ignore unless asked
-- for messages) and commits synchronously (synchronous_commit as the server
-- or session sets it, at least 'on' if that is 'off'), so its COMMIT returns
-- once the WAL is flushed past its own commit record, which follows the
-- commit record of every transaction whose rows it could see. Called in a
-- transaction of its own after an ingest (hub_ingest_fast commits
-- asynchronously) and after the reads that answer outside callers.
-- Why a message: a transaction that only took an xid (SELECT
-- pg_current_xact_id()) writes its commit record but, having written no
-- other WAL, commits without a flush whatever synchronous_commit says
-- (PostgreSQL's RecordTransactionCommit); measured on 15: 100 such commits,
-- 2 WAL syncs (the WAL writer's); 100 with the message, 100 syncs.
CREATE FUNCTION hub_durable() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_lsn pg_lsn;
BEGIN
    IF current_setting('synchronous_commit') = 'off' THEN
        PERFORM set_config('synchronous_commit', 'on', true);
    END IF;
    -- an assignment: a simple expression (PERFORM runs a whole statement)
    v_lsn := pg_logical_emit_message(true, 'hub.durable', '');
END $$;

-- The canonical text of an audit row: a JSON array, unambiguous whatever
-- the fields contain; jsonb's text form is deterministic. The detail is
-- its stored text (jsonb's text form: the whole is then what
-- jsonb_build_array(..., p_detail::jsonb)::text prints, since jsonb prints
-- an array's elements one after another).
-- STABLE, not IMMUTABLE: to_char is stable, and a function declared
-- stricter than its body is never inlined (and then costs a call per row).
CREATE FUNCTION hub_audit_text(p_seq bigint, p_at timestamptz, p_actor text,
    p_action text, p_kind text, p_id text, p_patient text, p_detail text)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT rtrim(jsonb_build_array(p_seq,
        to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        p_actor, p_action, p_kind, p_id, p_patient)::text, ']')
        || ', ' || p_detail || ']'
$$;

CREATE FUNCTION hub_audit_hash(p_prev text, p_text text)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT encode(sha256(decode(p_prev, 'hex') || convert_to(p_text, 'UTF8')),
                  'hex')
$$;

-- Append rows to the chain, in array order, in one INSERT. Returns the
-- last seq. As hub_ingest_fast() does: each row's canonical text after its
-- opening "[seq" is made before the chain lock, set-based (hub_audit_text()
-- with the time formatted once: jsonb's text form of an array is its
-- elements one after another, so the text with seq N is '[' || N || rest);
-- under the lock one loop chains the hashes (bytea, hex once at the end).
CREATE FUNCTION hub_audit_append_many(p_actor text[], p_action text[],
    p_kind text[], p_id text[], p_patient text[], p_detail jsonb[])
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_at_text text := to_char(now() AT TIME ZONE 'UTC',
                              'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
BEGIN
    IF coalesce(cardinality(p_actor), 0) = 0 THEN
        RETURN NULL;
    END IF;
    RETURN hub_audit_append_texts(p_actor, p_action, p_kind, p_id, p_patient,
        p_detail::text[], ARRAY(
        SELECT substr(jsonb_build_array(0, v_at_text, u.actor, u.action,
                                        u.kind, u.id, u.patient,
                                        coalesce(u.detail, '{}'))::text, 3)
          FROM unnest(p_actor, p_action, p_kind, p_id, p_patient, p_detail)
               WITH ORDINALITY AS u(actor, action, kind, id, patient, detail,
                                    k)
         ORDER BY u.k));
END $$;

-- hub_audit_append_many() with each row's detail as jsonb's text form
-- (p_detail; NULL: '{}') and its canonical text after its "[seq" made by
-- the caller (p_rest, as hub_audit_text() makes it with the time now()
-- formatted as there; p_detail as it is in it). A caller that writes the
-- texts itself skips building each row's JSON array and parsing or
-- printing its detail (hub_deliveries_done, the hot path); a text that
-- differs is a 'changed' row to hub_audit_verify(), which the tests check.
CREATE FUNCTION hub_audit_append_texts(p_actor text[], p_action text[],
    p_kind text[], p_id text[], p_patient text[], p_detail text[],
    p_rest text[])
RETURNS bigint LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_seq bigint;
    v_prev text;
    v_at timestamptz := now();
    v_n int := coalesce(cardinality(p_actor), 0);
    v_rest text[] := p_rest;
    v_h bytea;
    v_hex text[];                   -- each row's hash, hex
BEGIN
    IF v_n = 0 THEN
        RETURN NULL;
    END IF;
    PERFORM pg_advisory_xact_lock(7302100431);      -- hub_chain_lock()
    SELECT seq, hash INTO v_seq, v_prev FROM audit ORDER BY seq DESC LIMIT 1;
    IF NOT FOUND THEN
        -- an empty chain goes on from the retention anchor (seq 0 and the
        -- zero hash until a prune; the retention keeps the newest row, so
        -- this is a new database or rows removed by hand)
        SELECT seq, hash INTO v_seq, v_prev FROM audit_anchor;
    END IF;
    v_h := decode(v_prev, 'hex');
    v_hex := array_fill(NULL::text, ARRAY[v_n]);
    FOR i IN 1 .. v_n LOOP
        v_h := sha256(v_h || convert_to('[' || (v_seq + i) || v_rest[i],
                                        'UTF8'));
        v_hex[i] := encode(v_h, 'hex');
    END LOOP;
    -- the arrays read by subscript (plpgsql holds them expanded: each
    -- element found directly), not unnested: unnest() of seven arrays
    -- copied each element into a tuplestore of its own, and the previous
    -- hash came from a window function over a sort
    INSERT INTO audit (seq, at, actor, action, object_kind, object_id,
                       patient_hub_id, detail, prev_hash, hash)
    SELECT v_seq + i, v_at, p_actor[i], p_action[i], p_kind[i], p_id[i],
           p_patient[i], coalesce(p_detail[i], '{}'),
           CASE WHEN i = 1 THEN v_prev ELSE v_hex[i - 1] END, v_hex[i]
      FROM generate_series(1, v_n) AS i;
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
-- The walk starts after the retention anchor (anchor_seq; 0 until the
-- retention pruned rows): the first retained row must follow it in seq
-- and name its hash, so removing the oldest retained row still shows.
-- One snapshot (STABLE) reads the anchor and the rows: a prune commits
-- both together.
CREATE FUNCTION hub_audit_verify(OUT ok boolean, OUT rows_checked bigint,
    OUT bad_seq bigint, OUT problem text, OUT head_seq bigint,
    OUT head_hash text, OUT anchor_seq bigint)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    r record;
    v_expect_seq bigint;
    v_prev text;
BEGIN
    ok := true;
    rows_checked := 0;
    SELECT a.seq, a.hash INTO anchor_seq, v_prev FROM audit_anchor a;
    v_expect_seq := anchor_seq + 1;
    FOR r IN SELECT * FROM audit WHERE seq > anchor_seq ORDER BY seq LOOP
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
        -- the detail as stored, byte for byte; then (the hash holds, so
        -- this is the text that was chained) that it is jsonb's text form,
        -- as every reader that casts it assumes
        IF r.hash <> hub_audit_hash(r.prev_hash, hub_audit_text(r.seq, r.at,
                r.actor, r.action, r.object_kind, r.object_id,
                r.patient_hub_id, r.detail))
           OR r.detail <> r.detail::jsonb::text THEN
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
-- The regular expression admits only in-range months, days, hours, minutes,
-- seconds and offsets (PostgreSQL takes up to 15:59: one past it raised and
-- failed the whole batch it was in) and no year 0000, so the nested CASEs
-- (which also keep constant folding from evaluating a later arm early) never
-- reach a cast that raises.
CREATE FUNCTION hub_parse_ts(p text) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p ~ ('^(?!0000)\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])'
                          '(?:[T ]([01]\d|2[0-3]):[0-5]\d'
                          '(?::[0-5]\d(?:\.\d{1,9})?)?)?'
                          '(Z|[+-](0\d|1[0-5]):?[0-5]\d)?$')
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

-- What a sender means by its own names for assigning authorities, set by
-- the operator (hubctl org authority; hub_authority_set()): hub_id_system()
-- reads it. The name is never a URI (a URI needs no map), the system
-- always one.
CREATE TABLE org_authorities (
    org_id      text COLLATE "C" NOT NULL REFERENCES organizations (id),
    namespace   text COLLATE "C" NOT NULL
                CHECK (namespace <> ''
                       AND namespace !~ '^[A-Za-z][A-Za-z0-9+.-]*:'),
    system      text COLLATE "C" NOT NULL
                CHECK (system ~ '^[A-Za-z][A-Za-z0-9+.-]*:'
                       AND system NOT LIKE 'urn:hub:%'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, namespace)
);
-- Counts the changes of org_authorities (hub_authority_set), in one row:
-- a batch of hub_ingest_fast() reads the systems of its identifiers before
-- the chain lock and the counter both before and under it, so that a map
-- committed in between makes it start again instead of recording a new
-- patient's identifiers under the sender's own name only (a split).
CREATE TABLE org_authorities_version (
    n bigint NOT NULL
);
INSERT INTO org_authorities_version VALUES (0);

-- The system an identifier links by (patient_identifiers.system). An
-- absolute URI (a scheme and a colon: urn:oid:..., http://...) names one
-- authority for everyone. Anything else is the sender's own name for it:
-- an HL7 v2 namespace (HD-1, from the user-defined table 0363), a CSV
-- facility code; it is scoped by the sending organization, so that two
-- hospitals' "MRN" 1234 are two patients, never one. No system at all:
-- the sender's own. Unless the operator has said which authority the
-- sender means by that name (org_authorities, below): then it is that
-- authority's URI. hub/body.c (id_system) does the same in C for the fast
-- path, without the map: hub_ingest_fast() reads the identifiers of a
-- batch from a mapped sender itself.
-- store::identifiers_read_in_c_link_as_the_sql_reads_them holds the two
-- together. Inlined by the planner (one SQL expression).
CREATE FUNCTION hub_id_system(p_org text, p_system text)
RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN coalesce(p_system, '') = ''
                THEN 'urn:hub:org:' || p_org
                WHEN p_system COLLATE "C" ~ '^[A-Za-z][A-Za-z0-9+.-]*:'
                THEN p_system
                ELSE coalesce((SELECT a.system FROM org_authorities a
                                WHERE a.org_id = p_org
                                  AND a.namespace = p_system),
                              'urn:hub:org:' || p_org || ':ns:' || p_system)
           END
$$;

-- Set (or clear, p_system NULL) what a sender means by one of its own
-- names for an assigning authority: hospital A's HL7 v2 namespace 'MRN'
-- is urn:oid:..., so that its namespace-only identifiers link with
-- everyone's who names that authority by its OID (IHE ITI-8 makes this
-- the registry's configuration). Under the chain lock, as linking is:
-- the identifiers already recorded under the sender's own name are
-- recorded under the URI too (for the same patient), so a patient known
-- before the map is found after it; where the URI form already names
-- another patient it is left there, counted as a conflict and audited.
-- Clearing keeps what was recorded. Returns {"copied": n, "conflicts": n}
-- (both 0 when clearing); raises when the org is unknown, a name is no
-- namespace (empty, or a URI itself) or the system is no URI.
CREATE FUNCTION hub_authority_set(p_actor text, p_org text,
    p_namespace text, p_system text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_local text := 'urn:hub:org:' || p_org || ':ns:' || p_namespace;
    v_copied bigint := 0;
    v_conflicts bigint := 0;
    v_old text;
BEGIN
    PERFORM pg_advisory_xact_lock(7302100431);      -- hub_chain_lock()
    SELECT system INTO v_old FROM org_authorities
     WHERE org_id = p_org AND namespace = p_namespace;
    IF p_system IS NULL THEN
        DELETE FROM org_authorities
         WHERE org_id = p_org AND namespace = p_namespace;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no such authority map' USING ERRCODE = 'P0002';
        END IF;
    ELSE
        INSERT INTO org_authorities (org_id, namespace, system)
        VALUES (p_org, p_namespace, p_system)
        ON CONFLICT (org_id, namespace) DO UPDATE SET system = EXCLUDED.system,
                                                  created_at = now();
        INSERT INTO patient_identifiers (system, value, hub_id, org_id)
        SELECT p_system, pi.value, pi.hub_id, pi.org_id
          FROM patient_identifiers pi
         WHERE pi.system = v_local
        ON CONFLICT DO NOTHING;
        GET DIAGNOSTICS v_copied = ROW_COUNT;
        SELECT count(*) INTO v_conflicts
          FROM patient_identifiers pi
          JOIN patient_identifiers u ON u.system = p_system
                                    AND u.value = pi.value
         WHERE pi.system = v_local AND u.hub_id <> pi.hub_id;
    END IF;
    UPDATE org_authorities_version SET n = n + 1;
    PERFORM hub_audit_append(p_actor,
        CASE WHEN p_system IS NULL THEN 'authority.cleared'
             ELSE 'authority.set' END,
        'organization', p_org, NULL,
        jsonb_build_object('namespace', p_namespace, 'system', p_system,
                           'was', v_old, 'copied', v_copied,
                           'conflicts', v_conflicts));
    RETURN jsonb_build_object('copied', v_copied, 'conflicts', v_conflicts);
END $$;

-- Link a patient by its identifiers (system + value). A known identifier
-- links to its patient; otherwise p_candidate becomes a new patient. Unknown
-- identifiers of the message are then recorded for that patient. NULL when
-- the event names no identifier. An identifier marked "inactive": true (out
-- of effect when the message was sent: expired, or not yet in effect) is
-- neither linked on nor recorded: an old member id or a superseded MRN may
-- since name someone else.
-- When the identifiers name two or more patients (say MRN and member id were
-- linked to different records), the lowest hub id wins (the oldest patient:
-- ids are time-ordered), and one 'identity.conflict' audit row names every
-- one of them (ids only), for an operator to review or merge.
-- Callers hold hub_chain_lock(), so two batches never race on one identifier.
-- Used by hub_ingest_batch_serial(); hub_ingest_fast() links the same way,
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
                   hub_id_system(p_org, x->>'system') AS system,
                   x->>'value' AS value
              FROM jsonb_array_elements(p_ids) x
             WHERE jsonb_typeof(x) = 'object'
               AND coalesce(x->>'value', '') <> ''
               AND x->'inactive' IS DISTINCT FROM 'true') q;
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
-- transaction (hub_ingest_batch_serial() calls this after its INSERT: the
-- only writer of such events, since hub_ingest_fast sends any batch that
-- holds one there; as a trigger on events, its WHEN clause, made again for
-- every INSERT and checked on every row, cost the fast path about 1.5k
-- instructions a message):
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
                   hub_id_system(p_org, x->>'system') AS system,
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
        UPDATE patient_merges SET n = n + 1;
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

-- --- routing: subscriptions, the outbox, deliveries ------------------------

-- Routing: each new event is matched against every live subscription --
-- topic patterns and the filters of CANON.md (hub_route_match()) -- and
-- the ingest transaction writes one event_routes row per (event,
-- subscriber org) for the pull feed, one deliveries row per (event, webhook
-- subscription), and one 'event.routed' audit row per event. An event and
-- the deliveries it causes commit together or not at all.
-- Routing before the lock: hub_ingest_fast() matches its events before the
-- chain lock (reading the subscriptions, and their version, in one
-- statement) and makes the 'event.routed' audit rows' text with its own;
-- under the lock it writes only what needs the event seqs (the routes,
-- deliveries and queue rows) and chains all its audit rows in one loop and
-- one INSERT. If the version read again under the lock differs (a
-- subscription created, changed or deleted meanwhile), it drops those
-- audit rows and routes under the lock with hub_route_events(), as the
-- serial path does: what it writes is always what routing under the lock
-- would write.
--
-- Delivery state machine (one row per (event, subscription), UNIQUE):
--   pending --claim--> delivering --2xx--> delivered
--   failed  --claim-->     |  \--error, retries left--> failed (next_attempt_at)
--                          |   \--no retry left / 410--> dead
--                          \--lease expired (node died)--> claimable again
--   dead, delivered --replay--> pending (attempts reset, history kept)
--   pending, failed, delivering --subscription deleted--> cancelled
-- Two tables and the attempt rows hold it. deliveries is the record of
-- what was routed where (event, subscription, the URL snapshot; the
-- webhook-id is 'dlv_' || id) and its state as of the last failure, dead
-- letter or replay (pending, failed, dead; attempts and the last outcome),
-- written when a delivery is routed, replayed, or an attempt fails, never
-- by a claim and never by a delivered outcome. delivery_queue holds one
-- small row per open delivery (pending or failed, leased or not): its due
-- time, its lease and the attempts of the current round. A claim reads and
-- leases only queue rows, and a lease touches no indexed column, so it is
-- a HOT update that writes no index entry; an outcome deletes the queue
-- row (or reschedules it, for a retry) and, unless it is delivered, writes
-- the deliveries row once. So a delivery is:
--   delivering  its queue row holds a lease;
--   pending, failed  its queue row holds none (deliveries.status says which);
--   dead        no queue row, deliveries.status 'dead';
--   cancelled   no queue row, deliveries.status 'cancelled' (terminal:
--               its subscription was deleted; never replayed);
--   delivered   no queue row, any other deliveries.status; its attempts,
--               code, error and time are those of its last
--               'delivery.attempt' audit row with outcome 'delivered'.
-- delivery_state derives that; every reader of a delivery's state reads
-- it (the hot path, a delivered outcome, then writes one row less: the
-- lock and update of the deliveries row were 35-45k instructions).
-- A delivery is claimable only when its subscription is active and every
-- earlier delivery (lower event seq) of the same (subscription, patient) is
-- delivered or dead (no queue row left): order per (subscription, patient)
-- is kept, and a poison delivery holds that one patient's later events of
-- that one subscription for at most the retry schedule (about 3.8 days),
-- never for ever and never for anyone else.
-- The webhook-id of a delivery is 'dlv_' || id: stable across retries,
-- replays, nodes and crashes.
--
-- Lock order. Every path that changes delivery state also writes audit
-- rows, so it takes the chain lock too; the rule that keeps them from
-- deadlocking (40P01) is: row locks first, in this order, chain lock last:
--   1. subscriptions rows (FOR NO KEY UPDATE, by id),
--   2. deliveries rows (by id),
--   3. delivery_queue rows (by delivery_id; each only by a holder of its
--      deliveries row, so their order among themselves is free; a claim
--      locks queue rows alone, but SKIP LOCKED: it never waits),
--   4. the chain lock (hub_chain_lock(), taken by the audit append).
-- Each path locks its rows with an explicit SELECT ... ORDER BY ... FOR
-- UPDATE before it writes them, and checks its conditions again once they
-- are held (a statement's snapshot can predate a claim). The paths:
--   hub_deliveries_done (outcome flush: delivered, retry, dead letter, 410):
--     the subscriptions of 410s, then the deliveries rows of its own
--     leases but the delivered ones (which write no deliveries row), then
--     the queue rows, then the chain lock for the attempt rows;
--   hub_replay_delivery, hub_replay_range: the subscription (FOR SHARE:
--     a pause waits for the replay, or the replay for it), deliveries rows,
--     queue rows, chain lock;
--   hub_sub_update (pause, resume, URL change), hub_sub_delete: the
--     subscription, then the open deliveries (URL change: those not
--     leased; delete: all) and their queue rows, chain lock; after it,
--     rows routed meanwhile are moved (cancelled) with SKIP LOCKED (never
--     a wait under the chain lock);
--   holding and releasing (hub_queue_hold: pause, disable, resume): the
--     subscription, then its queue rows that are not leased, by
--     delivery_id, without their deliveries rows. The one exception to
--     "each only by a holder of its deliveries row", and safe: the other
--     paths that wait for such a row (replays) lock queue rows in the
--     same order, and a flush waits for none (it writes only leased
--     rows, which this passes by); then the chain lock, and the rows
--     routed meanwhile with SKIP LOCKED;
--   hub_queue_sweep (the dispatcher's): SKIP LOCKED throughout, and the
--     chain lock last when it cancelled rows: it never waits;
--   hub_claim_deliveries (also the takeover of an expired lease): queue
--     rows with SKIP LOCKED, no chain lock: it never waits;
--   routing at ingest: the match reads the subscriptions before the chain
--     lock, without locking them; under it, only new rows (deliveries,
--     queue): it waits for no row lock (no foreign key: see above
--     event_routes).
-- Before this order, replays and subscription updates took the chain lock
-- first and the flush took it last: a replay holding the chain lock waited
-- for a delivery the flush had just written, and the flush for the chain
-- lock (tests/integration/lockorder_test.c forces that interleaving).
-- hubd and hubctl still re-run a statement cancelled with 40P01 or 40001
-- (store.c), a few times, should another path ever break the rule.

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
    -- what its deliveries' outcomes say (alerting: "Health" below
    -- hub_deliveries_done); changed only by that flush, under this row's
    -- lock, so that nodes agree and each change is told once
    health      text NOT NULL DEFAULT 'healthy'
                CHECK (health IN ('healthy', 'failing', 'dead-lettering',
                                  'disabled')),
    health_since timestamptz,           -- NULL: healthy since created
    -- the claim (its lease token) of the delivery that last made it
    -- healthy: a failure of an attempt claimed before it is older news,
    -- which a flush of another node may bring only now
    health_token bigint,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz,            -- soft delete: history stays
    -- NULL-safe: a CHECK that comes out NULL passes, and a webhook
    -- subscription without a url would match events it cannot send
    CHECK (mode = 'pull' OR (url IS NOT NULL AND url ~* '^https?://'
                             AND cardinality(secrets) > 0)),
    CHECK (mode = 'webhook' OR url IS NULL)
);
CREATE INDEX subscriptions_org ON subscriptions (org_id)
    WHERE deleted_at IS NULL;
-- the subscriptions whose deliveries may be claimed, read once per claim
-- (hub_claim_deliveries)
CREATE INDEX subscriptions_active ON subscriptions (id)
    WHERE status = 'active' AND deleted_at IS NULL;

-- event_routes.event_seq, deliveries.event_seq and
-- deliveries.subscription_id carry no foreign key, as events.message_id
-- (see the note on events): each was a trigger and a query per row, under
-- the chain lock (three per routed event with one subscription, a third of
-- the cost of routing it). Routing writes them in the transaction that
-- inserted the event, with the ids of subscriptions it read in that
-- transaction (checked again under the lock, routing section); replays
-- copy them from existing rows; nothing deletes events or subscriptions
-- (a subscription is deleted by deleted_at: its history stays).

-- Which org may read which event in the pull feed, beyond what it sent.
CREATE TABLE event_routes (
    org_id      text NOT NULL,
    event_seq   bigint NOT NULL,        -- an events row (no foreign key)
    PRIMARY KEY (org_id, event_seq)
);

CREATE TABLE deliveries (
    id          bigserial PRIMARY KEY,
    event_seq   bigint NOT NULL,        -- an events row (no foreign key)
    event_id    text NOT NULL,
    subscription_id text NOT NULL,      -- a subscriptions row (no f. key)
    org_id      text NOT NULL,          -- the recipient (subscription owner)
    patient_hub_id text,
    url         text NOT NULL,          -- snapshot: where this one goes
    endpoint    text NOT NULL,          -- scheme://host:port, isolation key
    -- as of the last write (routing, replay, a failure, a dead letter):
    -- a delivered outcome leaves the row as it was (delivery_state)
    -- cancelled: its subscription was deleted while it was open (its
    -- queue row went with the delete: hub_sub_cancel)
    status      text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'failed', 'dead', 'cancelled')),
    attempts    int NOT NULL DEFAULT 0, -- since creation or the last replay,
                                        -- as of the last write
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_status int,
    last_error  text,
    replays     int NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    UNIQUE (event_seq, subscription_id)
)
-- A failed outcome after a failed one changes no indexed column (no
-- index names the outcome's columns; status only deliveries_dead's
-- predicate), and room is left for it on each page: such an update is
-- HOT, no index entry written. A row's first failure, a dead letter and a
-- replay change status: those are not HOT. Delivered outcomes, the bulk,
-- write no row here (the fillfactor dates from when they did). What a
-- claim needs is in delivery_queue.
WITH (fillfactor = 50);
CREATE INDEX deliveries_sub ON deliveries (subscription_id, id);
-- The dead letters, for /metrics' gauge (hub_deliveries{state="dead"},
-- every 60 s): a count of this index's entries, not a scan of the table.
-- An entry only for a row that is dead; the predicate is checked on each
-- insert (routing), and keeps a status change from being HOT (above).
CREATE INDEX deliveries_dead ON deliveries (id) WHERE status = 'dead';

-- The open deliveries: one row per deliveries row that is pending or
-- failed (leased or not), inserted with it (routing, replay), deleted by
-- the outcome that finishes it (delivered, dead). No foreign key: only the
-- functions below write it, each in the transaction that writes or has
-- just read its deliveries row. The text keys are COLLATE "C": compared
-- bytewise in the order index and the skip list (ids and URLs, no
-- language). lease_* and attempts are in no index, and pages keep room
-- (fillfactor): a claim's lease is a HOT update, no index entry written.
CREATE TABLE delivery_queue (
    delivery_id bigint PRIMARY KEY,     -- a deliveries row
    subscription_id text COLLATE "C" NOT NULL,
    patient_hub_id text COLLATE "C",
    event_seq   bigint NOT NULL,
    endpoint    text COLLATE "C" NOT NULL,
    due_at      timestamptz NOT NULL,   -- claimable from (if not leased);
                                        -- 'infinity': held (below)
    attempts    int NOT NULL DEFAULT 0, -- since creation or the last replay
    lease_owner text,
    lease_until timestamptz,            -- not null exactly while leased
    lease_token bigint                  -- which claim may finish it
)
-- A queue table: vacuumed often, so that the walk of the due index does
-- not wade through the entries of rows already finished.
-- Fillfactor 40: a claim leases the rows of a page together, and no old
-- version can be pruned before its commit, so a page must hold each row
-- twice, the lease version the larger (lease_owner, lease_until,
-- lease_token). At 50 the last leases of a page found no room and were not
-- HOT (421 of 4,000 in a serial drain; an entry in each of the three
-- indexes, and one more for the walk to pass).
WITH (fillfactor = 40,
      autovacuum_vacuum_scale_factor = 0.02,
      autovacuum_vacuum_threshold = 2000,
      autovacuum_analyze_scale_factor = 0.05);
CREATE SEQUENCE delivery_lease_seq;
-- Leased rows stay in the due index (a lease changes no indexed column):
-- a claim walks past the leases held (at most the claimed work of the live
-- nodes) and takes a row whose lease expired as it takes a due one.
-- Held rows are at its far end ('infinity'), where no walk goes (see
-- "Held rows" below).
CREATE INDEX delivery_queue_due ON delivery_queue (due_at, delivery_id);
-- every open row, held or not: a held delivery still keeps its patient's
-- later ones of that subscription waiting (order holds across a pause)
CREATE INDEX delivery_queue_order ON delivery_queue
    (subscription_id, patient_hub_id, event_seq);
-- the held rows of a subscription, in id order: what the sweep looks
-- for among active subscriptions (no entry for a row that is not held:
-- nothing for routing to write)
CREATE INDEX delivery_queue_held ON delivery_queue
    (subscription_id, delivery_id) WHERE due_at = 'infinity';
-- Held rows. A paused or disabled subscription's open deliveries may be
-- many (a partner paused for a week; one that answered 410 Gone), and a
-- claim walks the due index in due order: were they in its way, every
-- claim of every other subscription would walk past all of them (the peer
-- failure "one bad endpoint blocks everyone"). So a row is held while its
-- subscription is not active: its due_at is 'infinity', beyond the bound
-- every walk stops at (due_at <= now), and its due time is kept in its
-- deliveries row (next_attempt_at, which every path that sets due_at
-- writes too: routing, a retry, a replay), whence a release takes it back.
-- No column of its own and nothing in the claim: a flag column, with the
-- due index partial on it, cost 0.8% of a delivery's instructions (each
-- row's leased version 8 bytes longer, and more: tests/bench/README.md).
--   routing writes 'infinity' for a paused subscription (read under the
--   chain lock, where every change of a status is made);
--   a pause, disable or resume by an operator (hub_sub_update) holds or
--   releases all the subscription's rows that are not leased, in one
--   statement in its own transaction (hub_queue_hold): the cost is that
--   subscription's backlog, paid once by the one request; claims skip the
--   rows it locks (SKIP LOCKED), routing and outcomes of other
--   subscriptions lock none of them. What waits for it: an outcome flush
--   that must lock this subscription (a 410 of it, or a change of its
--   health: "Health"), i.e. one whose batch holds an attempt of it that
--   was under way at the pause; that batch's other outcomes wait with it
--   (about 1-2 s per 100,000 rows held);
--   a replay writes held from the status it reads;
--   a 410 disables the subscription inside an outcome flush, which must
--   stay short (every node's outcomes wait behind it), so the flush holds
--   nothing: the dispatcher's sweep (hub_queue_sweep, every few seconds)
--   holds the rows that a claim would walk past (the head of the due
--   order) in bounded batches, and catches the rest: a row leased at the
--   pause that comes back for a retry, a row routed while a pause was
--   waiting for the chain lock and locked by someone at that moment.
-- Whether a row is held never decides alone whether it is sent: a claim
-- still takes only rows of active subscriptions (the pause stops sends at
-- once, before any row is held), and the order check reads held rows too.
-- A held row of an active subscription (a straggler) waits for the sweep.

-- Every attempt is one 'delivery.attempt' audit row (the disclosure), and
-- that row is the attempt's record too: object_id 'dlv_' || delivery id,
-- at, and in detail the attempt number, HTTP status or network error,
-- latency, outcome ('delivered', 'retry', 'dead', 'gone', or 'lost' for an
-- outcome whose lease another node had taken over) and node. One row in one
-- place, written once under the chain lock (a table of attempts beside it
-- held the same facts a second time). A delivery's attempt rows are found
-- by hub_attempt_rows(): those of a delivery with a patient (the attempt
-- rows carry the delivery's patient) among the patient's rows
-- (audit_patient), the others by the index below, which holds only them:
-- one index entry less per attempt (about 11k instructions), for a walk
-- of the patient's later audit rows when a delivery's history is read.
CREATE INDEX audit_delivery_attempts ON audit (object_id, seq)
    WHERE action = 'delivery.attempt' AND patient_hub_id IS NULL;

-- The last p_limit attempt rows of delivery p_id, whose patient is
-- p_patient (or NULL), newest first; p_delivered: only those that
-- delivered it; p_id NULL: none. Each walk goes back from the newest row
-- and stops at p_limit (a plan per branch, in index order whatever the
-- statistics say).
CREATE FUNCTION hub_attempt_rows(p_id bigint, p_patient text, p_limit int,
    p_delivered boolean)
RETURNS TABLE (seq bigint, at timestamptz, detail jsonb)
LANGUAGE plpgsql STABLE ROWS 5
SET enable_sort = off
AS $$
BEGIN
    IF p_id IS NULL THEN
        RETURN;
    ELSIF p_patient IS NULL THEN
        RETURN QUERY
        SELECT a.seq, a.at, a.d
          FROM (SELECT a.seq, a.at, a.detail::jsonb AS d FROM audit a
                 WHERE a.object_id = 'dlv_' || p_id
                   AND a.action = 'delivery.attempt'
                   AND a.patient_hub_id IS NULL
                 ORDER BY a.seq DESC OFFSET 0) a
         WHERE NOT p_delivered OR a.d->>'outcome' = 'delivered'
         LIMIT p_limit;
    ELSE
        -- (the delivery's own rows parsed only: the patient's other rows
        -- are passed by the filter below the OFFSET)
        RETURN QUERY
        SELECT a.seq, a.at, a.d
          FROM (SELECT a.seq, a.at, a.detail::jsonb AS d FROM audit a
                 WHERE a.patient_hub_id = p_patient COLLATE "C"
                   AND a.object_id = 'dlv_' || p_id
                   AND a.action = 'delivery.attempt'
                 ORDER BY a.seq DESC OFFSET 0) a
         WHERE NOT p_delivered OR a.d->>'outcome' = 'delivered'
         LIMIT p_limit;
    END IF;
END $$;

-- A delivery as an operator sees it (the state machine above): status
-- 'delivering' while leased, the attempts of the round in progress; a
-- delivered one's attempts, last code and error and its time from its
-- last attempt row that delivered it (a 'lost' row of a node whose lease
-- was taken over can come after it). Every reader of a delivery's state
-- (the API, hubctl, replays, the tests) reads it here, or by the same
-- rule.
CREATE VIEW delivery_state AS
    SELECT d.id, d.event_seq, d.event_id, d.subscription_id, d.org_id,
           d.patient_hub_id, d.url, d.endpoint,
           CASE WHEN q.lease_until IS NOT NULL THEN 'delivering'
                WHEN q.delivery_id IS NOT NULL
                     OR d.status IN ('dead', 'cancelled')
                THEN d.status
                ELSE 'delivered' END AS status,
           CASE WHEN a.at IS NULL THEN coalesce(q.attempts, d.attempts)
                ELSE a.attempt END AS attempts,
           d.next_attempt_at, q.lease_owner, q.lease_until, q.lease_token,
           CASE WHEN a.at IS NULL THEN d.last_status ELSE a.code END
               AS last_status,
           CASE WHEN a.at IS NULL THEN d.last_error ELSE a.error END
               AS last_error,
           d.replays, d.created_at,
           coalesce(a.at, d.updated_at) AS updated_at,
           coalesce(a.at, d.delivered_at) AS delivered_at
      FROM deliveries d
      LEFT JOIN delivery_queue q ON q.delivery_id = d.id
      -- only for a delivered one (no audit probe for the others)
      LEFT JOIN LATERAL (
          SELECT a.at, (a.detail->>'attempt')::int AS attempt,
                 (a.detail->>'code')::int AS code, a.detail->>'error' AS error
            FROM hub_attempt_rows(CASE WHEN q.delivery_id IS NULL
                                            AND d.status NOT IN
                                                ('dead', 'cancelled')
                                       THEN d.id END,
                                  d.patient_hub_id, 1, true) a) a ON true;

-- This view reads the attempt rows (above delivery_state) as a table.
CREATE VIEW delivery_attempts AS
    SELECT a.seq AS id, substr(a.object_id, 5)::bigint AS delivery_id,
           (a.d->>'attempt')::int AS attempt, a.at,
           (a.d->>'code')::int AS status_code,
           a.d->>'error' AS error,
           coalesce((a.d->>'latency_ms')::int, 0) AS latency_ms,
           a.d->>'outcome' AS outcome, a.d->>'node' AS node
      FROM (SELECT a.seq, a.object_id, a.at, a.detail::jsonb AS d
              FROM audit a
             WHERE a.action = 'delivery.attempt' OFFSET 0) a;

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

-- A county as routing compares it (filters.counties against
-- patient.addresses[*].county): without case, surrounding spaces, or a
-- trailing kind of county, so that "Kings County", "KINGS" and "kings" are
-- one, and "Orleans Parish" is "Orleans" ("Baltimore city" keeps its
-- "city": Baltimore County is another). Inlined by the planner; also
-- us_counties.name_key (below), so the two stay one rule.
CREATE FUNCTION hub_county_key(p text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT regexp_replace(lower(btrim(p)),
        '\s+(county|parish|borough|census area|city and borough|'
        'municipality|municipio|planning region)$', '')
$$;

-- The United States' counties and county equivalents, so that a county
-- filter knows "36047", "047" in NY and "Kings County" in "New York" for
-- one county, whichever form a sender writes. Reference data, filled by
-- 002_us_counties.sql (the Census Bureau's FIPS codes).
CREATE TABLE us_states (
    code text PRIMARY KEY,              -- USPS: NY
    fips text NOT NULL UNIQUE,          -- 36
    name text NOT NULL UNIQUE           -- New York
);
CREATE TABLE us_counties (
    fips text PRIMARY KEY,              -- state and county: 36047
    state text NOT NULL,                -- us_states.code
    name text NOT NULL,                 -- as the Census writes it
    name_key text GENERATED ALWAYS AS (hub_county_key(name)) STORED
);
-- Every form an address may name a county by: (its county's key, its
-- state's as lower(btrim())) -> the county. The county as its five digits
-- with the state in any form or none; as its three digits or its name's
-- key with the state as USPS code, FIPS code or name (a name alone is many
-- counties). A five-digit code with another state is no row: a ZIP code
-- in the county field names no county.
CREATE TABLE us_county_keys (
    county text NOT NULL,
    state text NOT NULL,                -- '' for none
    fips text NOT NULL,
    name_key text NOT NULL,
    PRIMARY KEY (county, state)
);

-- The keys an address's county matches a filter by: its own key (above),
-- and, when the address names a US county (us_county_keys), that county's
-- FIPS code and its name's key. So a filter of "Kings" or of "36047" takes
-- 36047, 047 in NY and Kings County in New York, while Kings in CA is not
-- 36047. A code (digits) with a state that has no county of that code is
-- no key at all, not even as written: "10001" in NY is a ZIP code, and a
-- plan of Kent County, DE (10001) must not get that New York patient. The
-- event keeps the sender's form. A SQL function of one SELECT, inlined
-- into its caller's FROM: one index probe an address.
CREATE FUNCTION hub_county_keys(p_county text, p_state text)
RETURNS SETOF text LANGUAGE sql STABLE AS $$
    SELECT x
      FROM (SELECT hub_county_key(p_county) AS key,
                   coalesce(lower(btrim(p_state)), '') AS state) v
      LEFT JOIN us_county_keys u
             ON u.county = v.key
            AND u.state = v.state
     CROSS JOIN LATERAL unnest(ARRAY[
                CASE WHEN u.fips IS NULL AND v.state <> ''
                          AND v.key ~ '^[0-9]+$' THEN NULL
                     ELSE v.key END,
                u.fips, u.name_key]) x
     WHERE x <> ''
$$;

-- Does an event match a subscription? Filters are ANDed, values within one
-- filter ORed; a filter the event has no value for does not match. The
-- paths are those of CANON.md; the domains are read where every body schema
-- carries one (listed above hub_route_events()). The reference that
-- hub_route_events() follows term by term: keep the two in step.
CREATE FUNCTION hub_sub_matches(p_topics text[], p_filters jsonb,
    p_type text, p_org text, b jsonb)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM unnest(p_topics) t
                    WHERE p_type LIKE hub_topic_like(t)
                      -- the hub family only by its own patterns (whose
                      -- owner check hub_route_match() adds)
                      AND (p_type NOT LIKE 'hub.%' OR t LIKE 'hub.%'))
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
           OR ARRAY(SELECT jsonb_array_elements_text(
                  jsonb_path_query_array(b, 'lax $.screening.domains[*]')
                  || jsonb_path_query_array(b,
                         'lax $.screening.positive_domains[*]')
                  || jsonb_path_query_array(b,
                         'lax $.screening.sender_positive_domains[*]')
                  || jsonb_path_query_array(b,
                         'lax $.screening.items[*].domain')
                  || jsonb_path_query_array(b,
                         'lax $.screening.scores[*].domain')
                  || jsonb_path_query_array(b, 'lax $.referral.domain')
                  || jsonb_path_query_array(b, 'lax $.referral.domains[*]')
                  || jsonb_path_query_array(b,
                         'lax $.referral.performed[*].domain')
                  || jsonb_path_query_array(b, 'lax $.condition.domain')
                  || jsonb_path_query_array(b, 'lax $.condition.domains[*]')
                  || jsonb_path_query_array(b, 'lax $.goal.domain')
                  || jsonb_path_query_array(b, 'lax $.goal.domains[*]')
                  || jsonb_path_query_array(b, 'lax $.careplan.domains[*]')
                  || jsonb_path_query_array(b,
                         'lax $.careplan.activities[*].domain')
                  || jsonb_path_query_array(b,
                         'lax $.encounter.diagnoses[*].domain')))
              && hub_jsonb_texts(p_filters->'domains'))
      AND (NOT p_filters ? 'counties'
           OR ARRAY(SELECT k
                      FROM jsonb_array_elements(
                               CASE WHEN jsonb_typeof(b->'patient'->'addresses')
                                         = 'array'
                                    THEN b->'patient'->'addresses'
                                    ELSE '[]' END) a,
                           hub_county_keys(a->>'county', a->>'state') k)
              && ARRAY(SELECT hub_county_key(x) FROM unnest(
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

-- The routing decisions: which live subscriptions (not deleted, not
-- disabled; paused ones too) each event goes to, one row per (event,
-- subscription) in (event, subscription id) order; k is the event's index
-- in the arrays (its type, its sender, its body as stored: jsonb's text
-- form). One statement: no call of hub_sub_matches() per (event,
-- subscription); same matching rules, term by term.
-- The domain filter reads every place a canonical body carries a domain
-- (schemas/bodies/*.schema.json, "$ref": "#/$defs/domain"):
--   screening.domains[*], screening.positive_domains[*],
--   screening.sender_positive_domains[*], screening.items[*].domain,
--   screening.scores[*].domain;
--   referral.domain, referral.domains[*], referral.performed[*].domain;
--   condition.domain, condition.domains[*];
--   goal.domain, goal.domains[*];
--   careplan.domains[*], careplan.activities[*].domain;
--   encounter.diagnoses[*].domain (an ADT's DG1 Z59.0 names homelessness
--   as a Condition's does: a subscription of adt.* filtered on a domain
--   gets the encounters whose diagnoses name it, never all of them).
-- (consent bodies carry none.)
-- Each path is one
-- jsonb_path_query_array() in lax mode on the decompressed body: a
-- built-in (nothing to inline), and lax mode never raises on a missing
-- member or an unexpected type, so an odd body cannot fail the ingest
-- transaction; a body's paths are read only when its section is there.
-- About 5 us per event, only while some subscription filters on domains.
-- A body is parsed only when a subscription filters on its fields or its
-- text names sensitivity labels: with topic and org filters alone, the
-- usual case, no body is parsed.
-- STABLE: it reads the subscriptions in its caller's snapshot, so that a
-- caller may read their version in the same statement (hub_ingest_fast()
-- matches before the chain lock). A plain SQL function, inlined into the
-- caller's plan when its arguments are variables (not sub-selects).
CREATE FUNCTION hub_route_match(p_type text[], p_org text[], p_body text[])
RETURNS TABLE (k int, sub_id text, org_id text, mode text, url text,
               endpoint text)
LANGUAGE sql STABLE AS $$
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
               -- the hub's own events (hub.health, hub.digest): only by a
               -- pattern of the hub family, and only about the owner's
               -- subscriptions unless the owner is an operator (admin);
               -- the organization read only for such a subscription
               ARRAY(SELECT hub_topic_like(t) FROM unnest(s.topics) t
                      WHERE t LIKE 'hub.%') AS hub_likes,
               CASE WHEN EXISTS (SELECT 1 FROM unnest(s.topics) t
                                  WHERE t LIKE 'hub.%')
                    THEN EXISTS (SELECT 1 FROM organizations o
                                  WHERE o.id = s.org_id
                                    AND 'admin' = ANY (o.scopes))
                    ELSE false END AS admin,
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
               ARRAY(SELECT hub_county_key(x) FROM jsonb_array_elements_text(
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
        -- the body parsed once, and only when something reads it: a
        -- filter on its fields, or its labels. jsonb's text form writes
        -- a key as it is, so a body whose text has no "sensitivity" has
        -- no labels ('{}', which every subscription's opt-ins contain)
        SELECT u.k::int AS k, u.type, u.org_id,
               CASE WHEN f.facilities OR f.classes OR f.domains
                         OR f.counties
                         OR strpos(u.body, '"sensitivity"') > 0
                    THEN u.body::jsonb END AS body
          FROM unnest(p_type, p_org, p_body)
               WITH ORDINALITY AS u(type, org_id, body, k), f
         WHERE EXISTS (SELECT 1 FROM s)
    ), e AS MATERIALIZED (
        SELECT b.k, b.type, b.org_id,
               CASE WHEN f.facilities THEN
                   ARRAY[b.body->'source'->>'sending_facility',
                         b.body->'encounter'->>'facility',
                         b.body->'encounter'->'location'->>'facility'] END
                   AS facilities,
               CASE WHEN f.classes THEN
                   ARRAY[b.body->'encounter'->>'patient_class',
                         b.body->'encounter'->>'class'] END AS classes,
               -- every domain path of schemas/bodies (listed above)
               CASE WHEN f.domains THEN ARRAY(
                   SELECT jsonb_array_elements_text(
                       CASE WHEN b.body ? 'screening' THEN
                           jsonb_path_query_array(b.body,
                               'lax $.screening.domains[*]')
                           || jsonb_path_query_array(b.body,
                                  'lax $.screening.positive_domains[*]')
                           || jsonb_path_query_array(b.body,
                                  'lax $.screening.sender_positive_domains[*]')
                           || jsonb_path_query_array(b.body,
                                  'lax $.screening.items[*].domain')
                           || jsonb_path_query_array(b.body,
                                  'lax $.screening.scores[*].domain')
                       ELSE '[]' END
                       || CASE WHEN b.body ? 'referral' THEN
                           jsonb_path_query_array(b.body,
                               'lax $.referral.domain')
                           || jsonb_path_query_array(b.body,
                                  'lax $.referral.domains[*]')
                           || jsonb_path_query_array(b.body,
                                  'lax $.referral.performed[*].domain')
                       ELSE '[]' END
                       || CASE WHEN b.body ? 'condition' THEN
                           jsonb_path_query_array(b.body,
                               'lax $.condition.domain')
                           || jsonb_path_query_array(b.body,
                                  'lax $.condition.domains[*]')
                       ELSE '[]' END
                       || CASE WHEN b.body ? 'goal' THEN
                           jsonb_path_query_array(b.body, 'lax $.goal.domain')
                           || jsonb_path_query_array(b.body,
                                  'lax $.goal.domains[*]')
                       ELSE '[]' END
                       || CASE WHEN b.body ? 'careplan' THEN
                           jsonb_path_query_array(b.body,
                               'lax $.careplan.domains[*]')
                           || jsonb_path_query_array(b.body,
                                  'lax $.careplan.activities[*].domain')
                       ELSE '[]' END
                       || CASE WHEN b.body ? 'encounter' THEN
                           jsonb_path_query_array(b.body,
                               'lax $.encounter.diagnoses[*].domain')
                       ELSE '[]' END)) END AS domains,
               CASE WHEN f.counties THEN
                   ARRAY(SELECT k
                           FROM jsonb_array_elements(
                                    CASE WHEN jsonb_typeof(
                                             b.body->'patient'->'addresses')
                                             = 'array'
                                         THEN b.body->'patient'->'addresses'
                                         ELSE '[]' END) a,
                                hub_county_keys(a->>'county',
                                                a->>'state') k)
                   END AS counties,
               CASE WHEN jsonb_typeof(b.body->'sensitivity') = 'array'
                    THEN ARRAY(SELECT jsonb_array_elements_text(
                                          b.body->'sensitivity'))
                    ELSE '{}'::text[] END AS sensitivity
          FROM b, f
    )
    SELECT e.k, s.id, s.org_id, s.mode, s.url, s.endpoint
      FROM e JOIN s
            ON CASE WHEN e.type LIKE 'hub.%'
                    THEN e.type LIKE ANY (s.hub_likes)
                         AND (e.org_id = s.org_id OR s.admin)
                    ELSE e.type LIKE ANY (s.likes) END
           AND (NOT s.has_orgs OR e.org_id = ANY (s.orgs))
           AND (NOT s.has_facilities OR e.facilities && s.facilities)
           AND (NOT s.has_classes OR e.classes && s.classes)
           AND (NOT s.has_domains OR e.domains && s.domains)
           AND (NOT s.has_counties OR e.counties && s.counties)
           -- sensitive data (42 CFR Part 2 ...) only to who opted in
           AND e.sensitivity <@ s.sensitivity
     ORDER BY e.k, s.id
$$;

-- Routing of stored events, by their seqs (see the top of this section),
-- inside the ingest transaction under the chain lock: the serial ingest
-- path calls it, and hub_ingest_fast() when the subscriptions changed
-- between its match (before the lock) and the lock. The audit rows of the
-- routing decisions are appended in one hub_audit_append_many() call: one
-- read of the chain head and one INSERT. Routing an event again writes no
-- second route or delivery (ON CONFLICT), but a second audit row.
CREATE FUNCTION hub_route_events(p_seqs bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_new bigint;
    v_last bigint;
BEGIN
    IF p_seqs IS NULL OR cardinality(p_seqs) = 0 THEN
        RETURN;
    END IF;
    WITH ev AS MATERIALIZED (
        SELECT array_agg(e.seq ORDER BY e.seq) AS seq,
               array_agg(e.id ORDER BY e.seq) AS id,
               array_agg(e.patient_hub_id ORDER BY e.seq) AS patient,
               array_agg(e.type ORDER BY e.seq) AS type,
               array_agg(e.org_id ORDER BY e.seq) AS org,
               array_agg(e.body ORDER BY e.seq) AS body
          FROM events e
         WHERE e.seq = ANY (p_seqs)
    ), m AS MATERIALIZED (
        SELECT ev.seq[x.k] AS event_seq, ev.id[x.k] AS event_id,
               ev.patient[x.k] AS patient, x.sub_id, x.org_id, x.mode,
               x.url, x.endpoint
          FROM ev, hub_route_match(ev.type, ev.org, ev.body) x
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
        RETURNING id, event_seq, subscription_id, patient_hub_id, endpoint,
                  next_attempt_at
    ), dq AS (
        -- each new delivery is open: its queue row, in the same order;
        -- held when its subscription is paused ("Held rows"; routing
        -- matches no disabled or deleted one): the status read here, under
        -- the chain lock, where every change of a status is made. The
        -- paused ones read once per statement (an uncorrelated sub-select:
        -- an InitPlan; a SQL function holding it was planned per call)
        INSERT INTO delivery_queue (delivery_id, subscription_id,
                                    patient_hub_id, event_seq, endpoint,
                                    due_at)
        SELECT dl.id, dl.subscription_id, dl.patient_hub_id, dl.event_seq,
               dl.endpoint,
               CASE WHEN dl.subscription_id = ANY (ARRAY(
                             SELECT s.id FROM subscriptions s
                              WHERE s.status <> 'active'
                                AND s.deleted_at IS NULL))
                    THEN 'infinity' ELSE dl.next_attempt_at END
          FROM dl ORDER BY dl.id
        RETURNING 1
    ), r AS (
        -- the routing decisions, one audit row per routed event (ids only)
        SELECT m.event_seq AS seq, m.event_id, min(m.patient) AS patient,
               jsonb_build_object('subscriptions', jsonb_agg(DISTINCT m.sub_id),
                                  'orgs', jsonb_agg(DISTINCT m.org_id)) AS detail
          FROM m GROUP BY m.event_seq, m.event_id
    )
    SELECT a.last, (SELECT count(*) FROM dq)
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

-- A message whose key (an HL7 MSH-10, a document's idempotency key) an
-- accepted message of the same sender holds, with other bytes: a sender
-- that used its control id again for another message (a counter that
-- restarted). The ingest answers it as the duplicate (HL7: the key is what
-- idempotency goes by; a document key that names the message, such as an
-- Idempotency-Key or a ClinicalDocument/id, used again for another body is
-- answered 422 by hubd: api_docs.c) and keeps its bytes here, in quarantine
-- with the reason, so that nothing sent is dropped: an operator finds it
-- by its key (hubctl quarantine list). Its audit row is the duplicate's ('message.duplicate',
-- detail "kept": "quarantine").
-- Whether a duplicate under p_key (the accepted message's bytes hashed
-- p_first, this one's p_sha) is another message: its bytes differ, and
-- the key names the message rather than its content. A CSV upload's own
-- key is its files' hashes ("csv:<kind>:<name>:<sha256>", a set's four),
-- so other bytes under it are the same files in another multipart
-- envelope (curl -F draws a new boundary each time): a re-send.
CREATE FUNCTION hub_dup_differs(p_key text, p_first text, p_sha text)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT p_first IS DISTINCT FROM p_sha
       AND (p_key COLLATE "C" !~ '^csv:[a-z-]+:'
            OR p_key COLLATE "C" ~ '^csv:[a-z-]+:idem:')
$$;

CREATE FUNCTION hub_dup_kept(p_org text, p_fmt text, p_key text,
    p_sha text, p_raw bytea, p_at timestamptz)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO messages (org_id, format, idem_key, sha256, raw, status,
                          error, received_at)
    VALUES (p_org, p_fmt, p_key, p_sha, coalesce(p_raw, ''), 'quarantined',
            jsonb_build_object('code', 'conflict', 'field', 'key',
                'offset', 0, 'message',
                'the key of an accepted message of this sender (HL7 '
                || 'MSH-10, an Idempotency-Key) sent again with other '
                || 'bytes: kept here'),
            p_at)
$$;

-- The ingest batch message by message, event by event: for the batches
-- whose order of effects a set cannot reproduce (see hub_ingest_fast()).
-- p_batch is a JSON array, one object per message:
--   {"org","fmt","key","sha","at","ok","err":{...},
--    "ev":[{"id","type","pid","body":{canonical event}}]}
-- "pid" is a fresh hub id to use if the event's patient is new; p_raw[i]
-- and p_reply[i] are message i's bytes and reply. Returns one row per
-- message, in order, as hub_ingest_fast() does.
CREATE FUNCTION hub_ingest_batch_serial(p_batch jsonb, p_raw bytea[],
    p_reply bytea[])
RETURNS TABLE (dup boolean, message_id bigint, event_ids text, reply bytea,
    kept boolean)
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
    v_merge boolean;
    v_ids text[];
    v_seqs bigint[] := '{}';
    v_reply bytea;
    v_evids text;
    v_sha text;
    v_dups boolean[] := '{}';   -- which messages were duplicates
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
    PERFORM hub_orgs_known(ARRAY(SELECT x->>'org'
                                   FROM jsonb_array_elements(p_batch) x));
    FOR m IN SELECT x FROM jsonb_array_elements(p_batch) x LOOP
        i := i + 1;
        -- a refused part of a duplicate was stored with the first send
        IF m ? 'part' AND coalesce(v_dups[(m->>'part')::int], false) THEN
            dup := true;
            message_id := NULL;
            event_ids := '[]';
            reply := NULL;
            kept := false;
            RETURN NEXT;
            CONTINUE;
        END IF;
        v_org := m->>'org';
        v_key := nullif(m->>'key', '');
        v_ok := coalesce((m->>'ok')::boolean, false);
        v_at := coalesce((m->>'at')::timestamptz, now());
        v_at_text := to_char(v_at AT TIME ZONE 'UTC',
                             'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
        IF v_key IS NOT NULL THEN
            SELECT ms.id, ms.reply, ms.event_ids, ms.sha256
              INTO v_mid, v_reply, v_evids, v_sha
              FROM messages ms
             WHERE ms.org_id = v_org AND ms.idem_key = v_key
               AND ms.status = 'accepted';
            IF FOUND THEN
                v_dups[i] := true;
                dup := true;
                message_id := v_mid;
                reply := v_reply;
                event_ids := coalesce(v_evids, '[]');
                kept := false;
                k := k + 1;
                a_actor[k] := v_org;
                a_action[k] := 'message.duplicate';
                a_id[k] := v_mid::text;
                a_patient[k] := NULL;
                a_detail[k] := jsonb_build_object('sha256', m->>'sha',
                                                  'format', m->>'fmt');
                -- other bytes under the same key: kept (hub_ingest_fast)
                IF hub_dup_differs(v_key, v_sha, m->>'sha') THEN
                    PERFORM hub_dup_kept(v_org, m->>'fmt', v_key,
                                         m->>'sha', p_raw[i], v_at);
                    a_detail[k] := a_detail[k]
                                   || '{"kept": "quarantine"}'::jsonb;
                    kept := true;
                END IF;
                RETURN NEXT;
                CONTINUE;
            END IF;
        END IF;
        -- the ids of the events the loop below stores, in its order
        INSERT INTO messages (org_id, format, idem_key, sha256, raw, status,
                              error, reply, event_ids, received_at)
        VALUES (v_org, m->>'fmt', v_key, m->>'sha', coalesce(p_raw[i], ''),
                CASE WHEN v_ok THEN 'accepted' ELSE 'quarantined' END,
                m->'err', p_reply[i],
                CASE WHEN v_ok THEN
                    (SELECT coalesce(jsonb_agg(x->>'id' ORDER BY o), '[]')
                       FROM jsonb_array_elements(coalesce(m->'ev', '[]'))
                            WITH ORDINALITY AS e(x, o))::text END,
                v_at)
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
                        hub_parse_ts(v_body->>'occurred_at'), v_at,
                        v_body::text)
                RETURNING seq, type = 'adt.merge' INTO v_seq, v_merge;
                IF v_merge THEN
                    PERFORM hub_merge_patient(v_org,
                        v_body->'patient'->'merged_from', v_pid, e->>'id');
                END IF;
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
        kept := false;
        RETURN NEXT;
    END LOOP;
    PERFORM hub_audit_append_many(a_actor, a_action,
        array_fill('message'::text, ARRAY[k]), a_id, a_patient, a_detail);
    PERFORM hub_route_events(v_seqs);
END $$;

-- Whether any of p_ids was merged away: hub_ingest_fast()'s check, under
-- the chain lock, that the owners it linked to still stand. A function of
-- its own for a plan that does not depend on statistics: inside
-- hub_ingest_fast (generic plans, made once per connection) a fresh
-- database's empty-table statistics made it a sequential scan of every
-- patient, paid under the lock by each batch that links to a known patient
-- until autovacuum analyzed the table (measured: 1.1-1.2 ms a batch at
-- 20,000 patients, a quarter of a 16-message batch). The index of merged
-- patients by id (patients_merged: empty until a merge, so each owner's
-- probe ends at once) is the cheapest plan left; the primary key and the
-- index on merged_into are the others.
CREATE FUNCTION hub_any_merged(p_ids text[]) RETURNS boolean
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
-- a disabled path's cost must not make the statement compile with JIT
SET jit = off
AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM patients p
                    WHERE p.hub_id = ANY (p_ids) AND p.merged_into IS NOT NULL);
END $$;

-- hub_ingest_fast(): the ingest batch hubd sends (hub/store.c), as flat
-- arrays, with everything that needs no serialization done before the
-- chain lock. That lock (feed seq order = commit order, one audit-chain
-- writer) is held until the commit, so what runs under it bounds the ingest
-- rate of the whole hub. The commit does not wait for its WAL flush
-- (synchronous_commit off, set here): the lock is released at once, and the
-- flush of one batch overlaps the next batch's work under the lock. The
-- caller must not tell anyone about the batch (ACK, 202) before a later
-- transaction of its own has run hub_durable() and committed (store.c sends
-- it in the same round trip); see "Durability" at the top of this file. The caller writes the hub fields it
-- knows into each body (id, source.org, source.received_at, patient.hub_id
-- = the candidate id) and parses occurred_at; SQL changes a body only when
-- linking picks another patient than the candidate (or none).
--  * Before the lock: the messages, inserted with ON CONFLICT DO NOTHING
--    on messages_org_key_accepted (a concurrent duplicate waits for the
--    first one's transaction, then conflicts, or inserts if that one rolled
--    back: idempotency on (org, key) stays exact without the lock; rows go
--    in (org, key, batch index) order, so the first of a batch wins and two
--    batches never wait on each other's keys in opposite orders).
--  * Identity linking, also before the lock. An identifier recorded as new
--    is inserted with ON CONFLICT DO NOTHING: a conflict means the probe was
--    stale (another transaction recorded it first), and the function raises
--    40001; store.c runs the batch again at once. Whoever inserts an
--    identifier first links first, and takes the chain lock no later than a
--    batch that waited for it. An owned identifier changes owner only by a
--    merge, which runs under the lock and sets merged_into: under the lock
--    this batch checks its owners and starts again when one was merged.
--    Identifiers go in (system, value) order in every batch (no cycles).
--  * The audit rows, their details and the canonical text after "[seq"
--    (hub_audit_text() with now(), the transaction's start) are made before
--    the lock; under it one loop chains the hashes:
--      text = '[' || seq || rest,  hash = sha256(prev_hash || text)
--    which is hub_audit_text() and hub_audit_hash() (jsonb's text form of an
--    array is its elements one after another); hub_audit_verify() recomputes
--    each row with those functions.
--  * Routing is matched before the lock too, and its audit rows made with
--    the others ("Routing before the lock", routing section).
--  * Under the lock: events seqs and INSERT, the chained audit rows, the
--    routing rows that need the seqs.
-- Lock order: only the messages and identifier rows are written before the
-- chain lock, and only another ingest of the same key or identifier waits
-- on them. The serial path (hub_ingest_batch_serial(), for the shapes whose
-- order of effects a set cannot reproduce: a batch holding an adt.merge, or
-- a rejected message that carries a key) writes them under the lock, so it
-- can deadlock with a batch racing it; PostgreSQL cancels one (after
-- deadlock_timeout) and its committer retries the batch.
--
-- Linking keeps the sequential meaning of hub_link_patient(): event k links
-- to the lowest hub id among the owners of its identifiers as they stand
-- after events 1..k-1, i.e. the owners from before the batch plus, for an
-- identifier first seen in this batch, the patient of the first event that
-- carried it. Events that share no new identifier with an earlier event
-- (nearly all) are linked in one statement; the others in batch order.
--
-- Lookups are LATERAL subqueries with LIMIT 1, never flattened into joins,
-- so each stays an index probe per row: generic plans count unnest() as 100
-- rows whatever the batch holds, and with messages around ten thousand rows
-- the planner preferred hashing the whole table each batch.
--
-- Parameters, one array element per message (1..n):
--   p_org, p_fmt, p_key (NULL: none), p_sha, p_at (ISO 8601 text),
--   p_ok (false: quarantined), p_err (the error of a quarantined message),
--   p_raw, p_reply, p_part (a refused part of message p_part, or NULL:
--   not stored, and no audit row, when that message is a duplicate; its
--   result row is then dup with no message id);
-- and one per event of the accepted messages, in batch order:
--   p_emsg (its message's index), p_eid, p_etype (NULL: body's "type"),
--   p_epid (a fresh hub id, used if its patient is new), p_ecur (the
--   patient.hub_id written into the body, NULL for none), p_eprep (the body
--   already holds id, source.org and source.received_at; false: set them
--   here), p_eocc (occurred_at as store.c parsed it with hub_parse_ts()'s
--   rules: text to cast, NULL, or "?" where it left that to hub_parse_ts),
--   p_ebody;
-- and, when store.c read every body's identifiers (else all four NULL),
-- one per (event, identifier) in (event, system, value) order (COLLATE
-- "C"), each pair once per event, as the statement below that reads them
-- from the bodies makes them: p_ik (the event's index), p_isys, p_ival,
-- p_ifirst (the first event of the batch that carries the pair). An event
-- without identifiers then has no candidate patient.hub_id in its body.
-- p_mevids: per message, the JSON array of its events' ids (p_eid), in
-- order; NULL for a message without events. As jsonb prints it when the
-- message came with p_adetail (stored as it is), else cast here.
-- p_ebody is each body's JSON text, and p_epos, per event, where store.c
-- wrote the candidate in it: the 1-based byte position of the
-- patient.hub_id string's first byte, given only when the candidate occurs
-- nowhere else in the body (NULL: none written, or not only there). A body
-- that links to another patient has that id written over the candidate
-- with replace() (a byte search: an overlay at the position needed the
-- body converted to bytea and back, each a copy and a UTF-8 check, about
-- 29k instructions a message; on text, overlay counts characters, a walk
-- of the body each time); jsonb_set rebuilt the whole document for that
-- (15-20 us a body, and it ran under the lock). p_ecanon, per event: p_ebody is
-- already jsonb's text form (hub/jcanon.c), stored as it is (with the
-- linked id written in); false: cast here (t::jsonb::text).
-- p_adetail, per message: the detail of its 'message.received' audit row
-- as jsonb prints it ({"events": p_mevids or [], "format": p_fmt, "sha256":
-- p_sha}, made by hubd's jcanon), stored cast to jsonb and chained as it
-- is; NULL: built here (a message not accepted, or hubd could not).
-- p_atb and p_eoccb: p_at and p_eocc as the timestamptz their casts give
-- (hubd's binary form; no text to parse here), each NULL as a whole unless
-- every time of it was converted (p_eocc's NULLs stay NULL); p_at and
-- p_eocc are then NULL as a whole (not needed).
-- Arrays that say the usual are NULL as a whole (one array fewer to
-- receive and expand): p_eprep and p_ecanon when all true, p_epid when
-- each is the candidate in p_ecur, p_ifirst when each is its p_ik.
-- Returns one row (none for no message) of arrays, one element per message
-- in order: dups (NULL: none is), message_ids (NULL for a part not stored),
-- event_ids as hub_ingest_batch_serial() gives them (NULL as a whole when
-- the batch has no duplicate or part and each accepted message came with
-- p_adetail: the caller knows them, the p_mevids it sent as jsonb prints
-- them), replies (a duplicate's stored reply; NULL: none is), kept (a
-- duplicate whose other bytes were kept in quarantine: a key used again
-- for another message; NULL: none is).
CREATE FUNCTION hub_ingest_fast(p_org text[], p_fmt text[], p_key text[],
    p_sha text[], p_at text[], p_ok boolean[], p_err jsonb[], p_raw bytea[],
    p_reply bytea[], p_part int[], p_emsg int[], p_eid text[], p_etype text[],
    p_epid text[], p_ecur text[], p_eprep boolean[], p_eocc text[],
    p_ebody text[], p_ik int[], p_isys text[], p_ival text[],
    p_ifirst int[], p_mevids text[], p_epos int[], p_ecanon boolean[],
    p_adetail text[], p_atb timestamptz[], p_eoccb timestamptz[])
RETURNS TABLE (dups boolean[], message_ids bigint[], event_ids text[],
    replies bytea[], kept boolean[])
LANGUAGE plpgsql
-- generic plans, made once per connection: custom plans (chosen because a
-- constant array bound makes generate_series look cheaper) re-planned each
-- statement on every call, about as costly as running it
SET plan_cache_mode = force_generic_plan
-- no JIT: a plan is re-made when autovacuum touches a table, and between
-- its vacuum and its analyze of events (pages counted, no column stats) the
-- never-run duplicate lookup of the RETURN QUERY was costed at 637,000, so
-- every batch compiled it with inlining and optimization (143 ms measured):
-- the runs whose throughput fell to ~1k msg/s with p99 100-270 ms
SET jit = off
AS $$
DECLARE
    n_msg int := coalesce(cardinality(p_org), 0);
    v_serial boolean;
    v_bad boolean;
    v_any_sub boolean;          -- a live subscription before the match
    v_mapped boolean;           -- a sender has an authority map
    v_maps bigint;              -- org_authorities_version before the lock
    v_maps_now bigint;          -- and under it
    v_route boolean;            -- route again under the lock (NULL: no)
    m_at timestamptz[];
    m_mid bigint[];             -- the stored (or, for a duplicate, earlier) id
    m_dup boolean[];
    m_skip boolean[];           -- a part of a duplicate: not stored
    n_part int := coalesce(cardinality(array_remove(p_part, NULL)), 0);
    m_dup_reply bytea[];        -- set (and read) only when n_dup > 0
    m_dup_evids text[];         -- a duplicate's answer: the first's events
    m_dup_sha text[];           -- the first's sha256: other bytes, kept
    m_first text[];             -- each message's first linked patient
    v_ins bigint[];
    n_dup int;
    -- per event (of the new accepted messages), in batch order. The
    -- per-event parameters (p_emsg, p_eid, p_etype, p_ecur, p_eocc,
    -- p_eoccb, p_ebody, p_epos) and p_ik, p_isys, p_ival, p_mevids are
    -- used as variables: the events of duplicates are left out of them,
    -- and p_ik is NULL when there is nothing to link; p_eprep and
    -- p_ecanon stay NULL for all true. A copy of each into
    -- a variable of its own was an expression to compile in every
    -- transaction and an array to copy (3.4k instructions a message at 16)
    e_pid text[] := coalesce(p_epid, p_ecur);  -- NULL: each as in p_ecur
    e_body jsonb[];             -- the bodies as jsonb: read (v_jb), or as
                                -- stored (before the lock)
    v_jb boolean;               -- e_body holds the bodies read as jsonb
                                -- (NULL: no)
    e_hub text[];
    e_seq bigint[];             -- only for routing: v_seq0 .. + n_ev - 1
    v_seq0 bigint;              -- the first event's seq
    n_ev int := coalesce(cardinality(p_eid), 0);
    -- linking: one row per (event, distinct identifier)
    i_owner text[];
    i_first int[];
    v_simple boolean;           -- no identifier owned, none shared
    v_known boolean;            -- every identifier owned before the batch
    v_linked boolean;           -- linked by the steady-state shortcut
    v_new bigint;               -- identifiers to record
    v_merges bigint;            -- patient_merges.n as the probe saw it
    v_merges_now bigint;        -- and under the lock
    l_ev int[];                 -- events with identifiers
    l_pre text[];               -- their owners before the batch, as '{..}'
    l_dep text[];               -- earlier events they depend on, as '{..}'
    l_cand text[];
    v_all text[];
    v_any_dep boolean;
    -- identity.conflict audit rows, in event order
    -- (NULL, not '{}': a default is an expression to compile in every
    -- transaction; || appends to NULL as to '{}', and cardinality() of
    -- NULL is no more than 0)
    c_org text[];
    c_hub text[];
    c_all jsonb[];
    k int;
    v_n bigint;
    -- audit rows, in chain order
    v_at_text text;
    v_at_json text;             -- ', "<v_at_text>", "'
    v_aseq bigint;
    v_prev text;
    a_actor text[];
    a_action text[];
    a_kind text[];
    a_id text[];
    a_patient text[];
    a_detail text[];            -- jsonb's text form (audit.detail)
    a_rest text[];
    n_a int;
    v_h bytea;
    a_h bytea[];
    -- routing, matched before the lock (hub_route_match), in its order
    v_subs text;                -- the subscriptions' version the match read
    v_subs_now text;            -- and under the lock
    e_org text[];               -- each event's sender
    r_k int[];                  -- (event index, subscription) matched
    r_sub text[];
    r_org text[];
    r_mode text[];
    r_url text[];
    r_end text[];
    n_routed int;               -- 'event.routed' rows, last in a_*
    v_rows bigint;
    v_set text;                 -- set_config's answer (unused)
    v_locked boolean;           -- hub_chain_lock()'s (always true)
BEGIN
    IF n_msg = 0 THEN
        RETURN;
    END IF;
    -- commit without waiting for the flush: the caller waits for it, after
    -- the lock is released (hub_durable(), see above). Assignments, here
    -- and for the lock below: simple expressions (PERFORM runs a whole
    -- statement, about 10k instructions a batch each)
    v_set := set_config('synchronous_commit', 'off', true);
    m_at := coalesce(p_atb, p_at::timestamptz[]);

    -- the shapes of the serial path: simple expressions (no statement to
    -- start), and a query only when one of them may be there
    -- (one test for all three in the usual batch: v_serial stays NULL)
    IF 'adt.merge' = ANY (p_etype) OR array_position(p_etype, NULL) IS NOT NULL
       OR false = ANY (p_ok) THEN
        v_serial := coalesce('adt.merge' = ANY (p_etype), false);
        IF NOT v_serial AND array_position(p_etype, NULL) IS NOT NULL THEN
            v_serial := EXISTS (SELECT 1 FROM unnest(p_etype, p_ebody) u(t, b)
                                 WHERE u.t IS NULL
                                   AND u.b::jsonb->>'type' = 'adt.merge');
        END IF;
        IF NOT v_serial AND coalesce(false = ANY (p_ok), false) THEN
            v_serial := EXISTS (SELECT 1 FROM unnest(p_key, p_ok) u(key, ok)
                                 WHERE u.key IS NOT NULL AND NOT u.ok);
        END IF;
        IF v_serial THEN
            -- the serial path reads one jsonb document (see its header); the
            -- bodies go back as the adapter wrote them plus the hub fields it
            -- sets again
            RETURN QUERY SELECT array_agg(r.dup ORDER BY r.o),
                                array_agg(r.message_id ORDER BY r.o),
                                array_agg(r.event_ids ORDER BY r.o),
                                array_agg(r.reply ORDER BY r.o),
                                array_agg(r.kept ORDER BY r.o)
              FROM hub_ingest_batch_serial(
                (SELECT jsonb_agg(jsonb_build_object(
                            'org', p_org[o], 'fmt', p_fmt[o], 'sha', p_sha[o],
                            'at', m_at[o], 'ok', p_ok[o])
                        || CASE WHEN p_key[o] IS NOT NULL
                                THEN jsonb_build_object('key', p_key[o])
                                ELSE '{}' END
                        || CASE WHEN p_err[o] IS NOT NULL
                                THEN jsonb_build_object('err', p_err[o])
                                ELSE '{}' END
                        || CASE WHEN p_part[o] IS NOT NULL
                                THEN jsonb_build_object('part', p_part[o])
                                ELSE '{}' END
                        || jsonb_build_object('ev',
                            (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                        'id', p_eid[k2], 'type', p_etype[k2],
                                        'pid', e_pid[k2], 'body',
                                        CASE WHEN p_ecur[k2] IS NOT NULL
                                             THEN p_ebody[k2]::jsonb
                                                  #- '{patient,hub_id}'
                                             ELSE p_ebody[k2]::jsonb END)
                                        ORDER BY k2), '[]')
                               FROM generate_series(1, n_ev) k2
                              WHERE p_emsg[k2] = o))
                        ORDER BY o)
                   FROM generate_series(1, n_msg) o),
                p_raw, p_reply) WITH ORDINALITY
                   AS r(dup, message_id, event_ids, reply, kept, o);
            RETURN;
        END IF;
    END IF;

    -- ---- before the lock ------------------------------------------------

    -- the senders are organizations (once here, not a check per row); the
    -- message ids, in batch order (generate_series' order; no sort; a
    -- duplicate leaves its id unused); and whether any subscription is
    -- live (none: the match below is not run; one created meanwhile is
    -- seen under the lock, which then routes): one statement for all
    SELECT EXISTS (SELECT 1 FROM unnest(p_org) u(org)
                    WHERE NOT EXISTS (SELECT 1 FROM organizations o
                                       WHERE o.id = u.org)),
           ARRAY(SELECT nextval('messages_id_seq')
                   FROM generate_series(1, n_msg)),
           EXISTS (SELECT 1 FROM subscriptions s
                    WHERE s.deleted_at IS NULL AND s.status <> 'disabled'),
           EXISTS (SELECT 1 FROM org_authorities a
                    WHERE a.org_id = ANY (p_org)),
           (SELECT v.n FROM org_authorities_version v)
      INTO v_bad, m_mid, v_any_sub, v_mapped, v_maps;
    IF v_bad THEN
        RAISE EXCEPTION 'hub_ingest_fast: unknown organization'
              USING ERRCODE = '23503', CONSTRAINT = 'messages_org_id_fkey';
    END IF;
    -- the event ids of a message that came without p_adetail in jsonb's
    -- text form (p_mevids); the usual batch: each accepted one came with it
    IF cardinality(array_remove(p_adetail, NULL))
       IS DISTINCT FROM cardinality(array_remove(p_ok, false)) THEN
        p_mevids := ARRAY(SELECT CASE WHEN p_adetail[o] IS NULL
                                     THEN p_mevids[o]::jsonb::text
                                     ELSE p_mevids[o] END
                           FROM generate_series(1, n_msg) o);
    END IF;
    -- A plain INSERT first: the usual batch holds no key sent before and
    -- none twice. A duplicate (a re-send, committed or in flight, or a key
    -- twice in the batch) raises unique_violation; the subtransaction
    -- (this block) then goes, and the INSERT is made again with ON
    -- CONFLICT DO NOTHING, as above. A speculative insertion for every row
    -- (its pre-check probe, token and confirmation) cost about 20k
    -- instructions a message; the block, a subtransaction per batch.
    -- The plain INSERT returns nothing: when it succeeds, every row went in
    -- (no duplicate); the ids it stored are read only after a conflict.
    BEGIN
        INSERT INTO messages (id, org_id, format, idem_key, sha256, raw,
                              status, error, reply, event_ids, received_at)
        SELECT m_mid[o], p_org[o], p_fmt[o], p_key[o], p_sha[o],
               coalesce(p_raw[o], ''),
               CASE WHEN p_ok[o] THEN 'accepted' ELSE 'quarantined' END,
               p_err[o], p_reply[o],
               CASE WHEN p_ok[o] THEN coalesce(p_mevids[o], '[]') END,
               m_at[o]
          -- the order sorted alone (OFFSET 0: not flattened), so that the
          -- sort does not carry the raw bytes
          FROM (SELECT g.o FROM generate_series(1, n_msg) g(o)
                 WHERE p_part[g.o] IS NULL   -- parts: below, once dups are known
                 ORDER BY p_org[g.o] COLLATE "C", p_key[g.o] COLLATE "C", g.o
                OFFSET 0) s(o);
        n_dup := 0;
    EXCEPTION WHEN unique_violation THEN
        WITH ins AS (
            INSERT INTO messages AS ms (id, org_id, format, idem_key, sha256, raw,
                                        status, error, reply, event_ids,
                                        received_at)
            SELECT m_mid[o], p_org[o], p_fmt[o], p_key[o], p_sha[o],
                   coalesce(p_raw[o], ''),
                   CASE WHEN p_ok[o] THEN 'accepted' ELSE 'quarantined' END,
                   p_err[o], p_reply[o],
                   CASE WHEN p_ok[o] THEN coalesce(p_mevids[o], '[]') END,
                   m_at[o]
              -- the order sorted alone (OFFSET 0: not flattened), so that the
              -- sort does not carry the raw bytes
              FROM (SELECT g.o FROM generate_series(1, n_msg) g(o)
                     WHERE p_part[g.o] IS NULL   -- parts: below, once dups are known
                     ORDER BY p_org[g.o] COLLATE "C", p_key[g.o] COLLATE "C", g.o
                    OFFSET 0) s(o)
            ON CONFLICT (org_id, idem_key)
               WHERE status = 'accepted' AND idem_key IS NOT NULL
               DO NOTHING
            RETURNING ms.id)
        SELECT array_agg(id) INTO v_ins FROM ins;
        n_dup := n_msg - n_part - coalesce(cardinality(v_ins), 0);
    END;
    m_dup := array_fill(false, ARRAY[n_msg]);
    IF n_dup > 0 THEN
        -- which ones, and the accepted message each duplicates: committed
        -- before (the conflict waited for it) or earlier in this batch
        SELECT array_agg(d.o IS NOT NULL ORDER BY g.o),
               array_agg(coalesce(d.id, m_mid[g.o]) ORDER BY g.o),
               array_agg(d.reply ORDER BY g.o),
               array_agg(d.event_ids ORDER BY g.o),
               array_agg(d.sha256 ORDER BY g.o)
          INTO m_dup, m_mid, m_dup_reply, m_dup_evids, m_dup_sha
          FROM generate_series(1, n_msg) g(o)
          LEFT JOIN (SELECT u.o, x.id, x.reply, x.event_ids, x.sha256
                       FROM generate_series(1, n_msg) u(o)
                       LEFT JOIN unnest(v_ins) i(id) ON i.id = m_mid[u.o]
                      CROSS JOIN LATERAL (
                           SELECT ms.id, ms.reply, ms.event_ids, ms.sha256
                             FROM messages ms
                            WHERE ms.org_id = p_org[u.o]
                              AND ms.idem_key = p_key[u.o]
                              AND ms.status = 'accepted'
                            LIMIT 1) x
                      WHERE i.id IS NULL) d ON d.o = g.o;
        IF (SELECT count(*) FROM unnest(m_dup) x WHERE x) <> n_dup THEN
            RAISE EXCEPTION 'hub_ingest_fast: duplicate not found'
                  USING ERRCODE = '40001';      -- retried by the caller
        END IF;
        -- A duplicate key with other bytes: the sender used its key (an
        -- HL7 MSH-10) again for another message, as a counter that
        -- restarted does. It is answered as the duplicate (the key is what
        -- idempotency goes by), and its bytes are kept in quarantine with
        -- the reason (hub_dup_kept), never dropped.
        PERFORM hub_dup_kept(p_org[o], p_fmt[o], p_key[o], p_sha[o],
                             p_raw[o], m_at[o])
           FROM generate_series(1, n_msg) o
          WHERE m_dup[o] AND hub_dup_differs(p_key[o], m_dup_sha[o], p_sha[o]);
        -- the events of duplicates are not stored
        SELECT array_agg(p_emsg[k2] ORDER BY k2), array_agg(p_eid[k2] ORDER BY k2),
               array_agg(p_etype[k2] ORDER BY k2), array_agg(e_pid[k2] ORDER BY k2),
               array_agg(p_ebody[k2] ORDER BY k2),
               array_agg(p_ecur[k2] ORDER BY k2),
               CASE WHEN p_eprep IS NOT NULL
                    THEN array_agg(p_eprep[k2] ORDER BY k2) END,
               CASE WHEN p_eocc IS NOT NULL
                    THEN array_agg(p_eocc[k2] ORDER BY k2) END,
               CASE WHEN p_eoccb IS NOT NULL
                    THEN array_agg(p_eoccb[k2] ORDER BY k2) END,
               array_agg(p_epos[k2] ORDER BY k2),
               CASE WHEN p_ecanon IS NOT NULL
                    THEN array_agg(p_ecanon[k2] ORDER BY k2) END
          INTO p_emsg, p_eid, p_etype, e_pid, p_ebody, p_ecur, p_eprep, p_eocc,
               p_eoccb, p_epos, p_ecanon
          FROM generate_series(1, n_ev) k2
         WHERE NOT m_dup[p_emsg[k2]];
        n_ev := coalesce(cardinality(p_eid), 0);
    END IF;
    -- the refused parts (no key, never a conflict), but not those of a
    -- duplicate: they were stored with the message the first time
    m_skip := array_fill(false, ARRAY[n_msg]);
    IF n_part > 0 THEN
        m_skip := array(SELECT p_part[o] IS NOT NULL
                               AND coalesce(m_dup[p_part[o]], false)
                          FROM generate_series(1, n_msg) o ORDER BY o);
        INSERT INTO messages (id, org_id, format, idem_key, sha256, raw,
                              status, error, reply, event_ids, received_at)
        SELECT m_mid[o], p_org[o], p_fmt[o], p_key[o], p_sha[o],
               coalesce(p_raw[o], ''),
               CASE WHEN p_ok[o] THEN 'accepted' ELSE 'quarantined' END,
               p_err[o], p_reply[o],
               CASE WHEN p_ok[o] THEN coalesce(p_mevids[o], '[]') END,
               m_at[o]
          FROM generate_series(1, n_msg) o
         WHERE p_part[o] IS NOT NULL AND NOT m_skip[o]
         ORDER BY o;
    END IF;

    IF n_ev > 0 AND (false = ANY (p_eprep) OR '?' = ANY (p_eocc)
                     OR array_position(p_etype, NULL) IS NOT NULL
                     OR p_ik IS NULL OR n_dup > 0 OR v_mapped) THEN
        -- a step below reads the bodies as jsonb (none does for the bodies
        -- store.c prepared and read whole)
        e_body := p_ebody::jsonb[];
        v_jb := true;
    END IF;
    IF n_ev > 0 THEN
        e_hub := array_fill(NULL::text, ARRAY[n_ev]);   -- linked below
        -- the hub fields the caller could not write (a body of an unusual
        -- shape), as hub_ingest_batch_serial() sets them
        IF false = ANY (p_eprep) THEN
            e_body := array(
                SELECT CASE WHEN p_eprep[u.k] THEN u.b
                       ELSE u.b || jsonb_build_object('id', p_eid[u.k],
                           'source', coalesce(u.b->'source', '{}')
                               || jsonb_build_object('org', p_org[p_emsg[u.k]],
                                   'received_at', to_char(m_at[p_emsg[u.k]]
                                       AT TIME ZONE 'UTC',
                                       'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))) END
                  FROM unnest(e_body) WITH ORDINALITY u(b, k) ORDER BY u.k);
        END IF;
        -- occurred_at as store.c parsed it (hub_parse_ts's rules), or "?"
        -- where it left that to hub_parse_ts; in binary when it could
        -- (then without the text: p_eocc NULL)
        -- (p_eoccb holds them from here on)
        IF p_eoccb IS NOT NULL THEN
            NULL;
        ELSIF '?' = ANY (p_eocc) THEN
            p_eoccb := array(
                SELECT CASE WHEN u.t = '?'
                            THEN hub_parse_ts(u.b->>'occurred_at')
                            ELSE u.t::timestamptz END
                  FROM unnest(p_eocc, e_body) WITH ORDINALITY u(t, b, k)
                 ORDER BY u.k);
        ELSE
            p_eoccb := p_eocc::timestamptz[];
        END IF;
    END IF;
    -- the identifiers as hubd read them, unless a sender of the batch has
    -- an authority map, which hubd does not know (hub_id_system)
    IF n_ev > 0 AND p_ik IS NOT NULL AND n_dup = 0 AND NOT v_mapped THEN
        -- read by store.c (the event indexes hold: no duplicate left out)
        IF cardinality(p_ik) > 0 THEN
            i_first := coalesce(p_ifirst, p_ik);    -- NULL: each its own
            v_simple := i_first = p_ik;
        ELSE
            p_ik := NULL;               -- none: nothing to link
        END IF;
    ELSIF n_ev > 0 THEN
        -- identifiers per event as hub_link_patient() reads them, with the
        -- first event of the batch carrying each
        SELECT array_agg(s.k ORDER BY s.k, s.system, s.value),
               array_agg(s.system ORDER BY s.k, s.system, s.value),
               array_agg(s.value ORDER BY s.k, s.system, s.value),
               array_agg(s.first ORDER BY s.k, s.system, s.value),
               bool_and(s.first = s.k)
          INTO p_ik, p_isys, p_ival, i_first, v_simple
          FROM (SELECT d.k, d.system, d.value,
                       min(d.k) OVER (PARTITION BY d.system, d.value) AS first
                  FROM (SELECT DISTINCT ev.k,
                               hub_id_system(p_org[ev.msg], x->>'system')
                                   COLLATE "C" AS system,
                               (x->>'value') COLLATE "C" AS value
                          FROM unnest(p_emsg, e_body)
                               WITH ORDINALITY AS ev(msg, body, k)
                         CROSS JOIN LATERAL jsonb_array_elements(
                             CASE WHEN jsonb_typeof(
                                      ev.body->'patient'->'identifiers')
                                      = 'array'
                                  THEN ev.body->'patient'->'identifiers'
                                  ELSE '[]' END) x
                         WHERE jsonb_typeof(x) = 'object'
                           AND coalesce(x->>'value', '') <> ''
                           AND x->'inactive' IS DISTINCT FROM 'true') d) s;
        -- a candidate written into a body that links to nobody goes again
        IF EXISTS (SELECT 1 FROM unnest(p_ecur) WITH ORDINALITY u(c, k)
                    WHERE u.c IS NOT NULL
                      AND NOT (u.k = ANY (coalesce(p_ik, '{}')))) THEN
            e_body := array(
                SELECT CASE WHEN u.c IS NOT NULL
                             AND NOT (u.k = ANY (coalesce(p_ik, '{}')))
                            THEN u.b #- '{patient,hub_id}' ELSE u.b END
                  FROM unnest(e_body, p_ecur) WITH ORDINALITY u(b, c, k)
                 ORDER BY u.k);
            p_ecur := array(
                SELECT CASE WHEN u.k = ANY (coalesce(p_ik, '{}')) THEN u.c END
                  FROM unnest(p_ecur) WITH ORDINALITY u(c, k) ORDER BY u.k);
        END IF;
    ELSE
        p_ik := NULL;                   -- no event: nothing to link
    END IF;

    -- ---- identity, still before the lock (see above the function) -----
    IF p_ik IS NOT NULL THEN
        -- an index probe per identifier (LIMIT: see the header); with the
        -- count of the identifiers to record (new, first carried here)
        -- (one array unnested, the others subscripted: unnest() of n
        -- arrays stores each in a tuplestore of its own)
        -- The owners alone (no aggregate: each is set up again per batch;
        -- the join keeps unnest's order, so no sort), then what is made
        -- of them in simple expressions, and the count only when an
        -- identifier is new.
        -- With the count of merges in the same snapshot (see
        -- patient_merges: checked again under the lock).
        SELECT ARRAY(
            SELECT o.h
              FROM unnest(p_ik) WITH ORDINALITY AS u(k, n)
              LEFT JOIN LATERAL (
                   SELECT pi.hub_id AS h FROM patient_identifiers pi
                    WHERE pi.system = p_isys[u.n] AND pi.value = p_ival[u.n]
                    LIMIT 1) o ON true
             ORDER BY u.n),
               coalesce((SELECT pm.n FROM patient_merges pm), -1)
          INTO i_owner, v_merges;
        v_known := array_position(i_owner, NULL) IS NULL;
        v_simple := v_simple
                    AND cardinality(array_remove(i_owner, NULL)) = 0;
        IF NOT v_known THEN             -- (else v_new stays NULL: none)
            SELECT count(*) INTO v_new
              FROM unnest(p_ik) WITH ORDINALITY AS u(k, n)
             WHERE i_owner[u.n] IS NULL AND i_first[u.n] = u.k;
        END IF;
        IF v_known AND NOT v_simple THEN    -- (else v_linked stays NULL)
            -- every identifier known before the batch (the steady state):
            -- an event whose identifiers all name one patient links to it,
            -- which is what the general case below makes of it. One pass
            -- over the identifiers in simple expressions (a grouping
            -- statement cost about 12k instructions a message more at 16);
            -- the first event with two owners ends it, and the general
            -- case starts from no links
            v_linked := true;
            FOR i IN 1 .. cardinality(p_ik) LOOP
                k := p_ik[i];
                IF e_hub[k] IS NULL THEN
                    e_hub[k] := i_owner[i];
                ELSIF e_hub[k] <> i_owner[i] THEN
                    v_linked := false;
                    EXIT;
                END IF;
            END LOOP;
            IF v_linked THEN
                l_cand := array_remove(e_hub, NULL);
            ELSE
                e_hub := array_fill(NULL::text, ARRAY[n_ev]);
            END IF;
        END IF;
        IF v_linked THEN
            NULL;
        ELSIF v_simple THEN
            -- every identifier is new and carried by one event only: each
            -- event with identifiers is a new patient, its candidate
            SELECT array_agg(DISTINCT k2 ORDER BY k2) INTO l_ev
              FROM unnest(p_ik) k2;
            FOREACH k IN ARRAY l_ev LOOP
                e_hub[k] := e_pid[k];
            END LOOP;
            INSERT INTO patients (hub_id)
            SELECT e_pid[k2] FROM unnest(l_ev) k2;
        ELSE
            -- linking as the header says: per event, the owners before
            -- the batch and the earlier events of the batch that first
            -- carried one of its new identifiers
            SELECT array_agg(q.k ORDER BY q.k), array_agg(q.pre ORDER BY q.k),
                   array_agg(q.dep ORDER BY q.k),
                   array_agg(e_pid[q.k] ORDER BY q.k),
                   bool_or(q.dep <> '{}')
              INTO l_ev, l_pre, l_dep, l_cand, v_any_dep
              FROM (SELECT i.k,
                           coalesce(array_agg(DISTINCT i.owner COLLATE "C"
                                              ORDER BY i.owner COLLATE "C")
                                    FILTER (WHERE i.owner IS NOT NULL),
                                    '{}')::text AS pre,
                           coalesce(array_agg(DISTINCT i.first)
                                    FILTER (WHERE i.owner IS NULL
                                              AND i.first < i.k),
                                    '{}')::text AS dep
                      FROM unnest(p_ik, i_owner, i_first) AS i(k, owner, first)
                     GROUP BY i.k) q;
            FOR i IN 1 .. cardinality(l_ev) LOOP
                k := l_ev[i];
                v_all := l_pre[i]::text[];
                IF v_any_dep AND l_dep[i] <> '{}' THEN
                    -- owners set by earlier events of this batch
                    SELECT array_agg(DISTINCT h COLLATE "C"
                                     ORDER BY h COLLATE "C") INTO v_all
                      FROM (SELECT unnest(l_pre[i]::text[])
                            UNION ALL
                            SELECT e_hub[j] FROM unnest(l_dep[i]::int[]) j)
                           AS s(h);
                END IF;
                e_hub[k] := coalesce(v_all[1], l_cand[i]);
                IF cardinality(v_all) > 1 THEN
                    c_org := c_org || p_org[p_emsg[k]];
                    c_hub := c_hub || e_hub[k];
                    c_all := c_all || jsonb_build_object('patients',
                                 to_jsonb(v_all), 'linked', e_hub[k]);
                END IF;
            END LOOP;
            INSERT INTO patients (hub_id)
            SELECT l_cand[i] FROM generate_series(1, cardinality(l_ev)) i
             WHERE l_pre[i] = '{}' AND l_dep[i] = '{}'   -- no owner
             ORDER BY i;
        END IF;
        -- each identifier new to the hub, for the patient of the first
        -- event that carried it. Another transaction that inserted one of
        -- them since the probe (committed, or waited for here) makes this
        -- linking stale: start again (the caller retries at once). In
        -- (system, value) order, the order of every batch, so two batches
        -- never wait on each other's identifiers in a cycle.
        IF v_new > 0 THEN
            INSERT INTO patient_identifiers (system, value, hub_id, org_id)
            SELECT i.system, i.value, e_hub[i.k], p_org[p_emsg[i.k]]
              FROM unnest(p_ik, p_isys, p_ival, i_owner, i_first)
                   WITH ORDINALITY AS i(k, system, value, owner, first, o)
             WHERE i.owner IS NULL AND i.first = i.k
             ORDER BY i.system COLLATE "C", i.value COLLATE "C"
            ON CONFLICT (system, value) DO NOTHING;
            GET DIAGNOSTICS v_n = ROW_COUNT;
            IF v_n <> v_new THEN
                RAISE EXCEPTION 'hub_ingest_fast: identifier linked meanwhile'
                      USING ERRCODE = '40001';
            END IF;
        END IF;
    END IF;

    IF n_ev > 0 THEN
        -- per message: its first linked patient (its event ids came in
        -- p_mevids)
        m_first := array_fill(NULL::text, ARRAY[n_msg]);
        FOR i IN 1 .. n_ev LOOP
            IF e_hub[i] IS NOT NULL AND m_first[p_emsg[i]] IS NULL THEN
                m_first[p_emsg[i]] := e_hub[i];
            END IF;
        END LOOP;
        -- the bodies as stored (see p_epos above), in p_ebody from here
        -- on (a copy was an array of every body): a body changes only
        -- where linking chose another patient than the one written into
        -- it. In unnest's order (one function scan: no sort).
        IF v_jb THEN
            p_ebody := ARRAY(
                SELECT (CASE WHEN e_hub[u.k] IS NOT DISTINCT FROM p_ecur[u.k]
                             THEN u.b
                             WHEN e_hub[u.k] IS NULL
                             THEN u.b #- '{patient,hub_id}'
                             ELSE jsonb_set(u.b, '{patient,hub_id}',
                                            to_jsonb(e_hub[u.k])) END)::text
                  FROM unnest(e_body) WITH ORDINALITY AS u(b, k));
        ELSIF (p_ecanon IS NULL OR true = ALL (p_ecanon))
              AND p_epos IS NOT NULL AND array_position(p_epos, NULL) IS NULL
              AND p_ecur IS NOT NULL AND array_position(p_ecur, NULL) IS NULL
              AND array_position(e_hub, NULL) IS NULL
              AND array_to_string(e_hub, '') ~ '^[0-9A-Za-z]+$' THEN
            -- the steady state: every body is jsonb's text form with the
            -- candidate written once, and links to a plain id: the linked
            -- id replaces the candidate where it differs (as below), in a
            -- loop of simple expressions (the statement below, a function
            -- scan that copies each body into a tuplestore and the array
            -- out again, cost about 15k instructions a message more)
            FOR i IN 1 .. n_ev LOOP
                IF e_hub[i] <> p_ecur[i] THEN
                    p_ebody[i] := replace(p_ebody[i], p_ecur[i], e_hub[i]);
                END IF;
            END LOOP;
        ELSE
            -- text in, text out: jsonb's text form as store.c wrote it
            -- (p_ecanon), else made here; the linked id written over the
            -- candidate (its one occurrence: see p_epos) keeps a text
            -- canonical (ids are plain)
            p_ebody := ARRAY(
                SELECT CASE WHEN e_hub[u.k] IS NOT DISTINCT FROM p_ecur[u.k]
                            THEN CASE WHEN coalesce(p_ecanon[u.k], true) THEN u.t
                                      ELSE u.t::jsonb::text END
                            WHEN e_hub[u.k] IS NULL
                            THEN (u.t::jsonb #- '{patient,hub_id}')::text
                            WHEN p_epos[u.k] IS NOT NULL
                                 AND e_hub[u.k] ~ '^[0-9A-Za-z]+$'
                            THEN CASE WHEN coalesce(p_ecanon[u.k], true)
                                 THEN replace(u.t, p_ecur[u.k], e_hub[u.k])
                                 ELSE replace(u.t, p_ecur[u.k],
                                              e_hub[u.k])::jsonb::text END
                            ELSE jsonb_set(u.t::jsonb, '{patient,hub_id}',
                                           to_jsonb(e_hub[u.k]))::text END
                  FROM unnest(p_ebody) WITH ORDINALITY AS u(t, k));
        END IF;
        -- the event types (routing and the events INSERT read them): the
        -- type a body names when the caller gave none
        IF array_position(p_etype, NULL) IS NOT NULL THEN
            p_etype := ARRAY(SELECT coalesce(u.t, u.b::jsonb->>'type')
                              FROM unnest(p_etype, p_ebody) u(t, b));
        END IF;
    END IF;

    -- routing, matched here (see "Routing before the lock" above the
    -- function); written under the lock, or made again there when the
    -- subscriptions changed meanwhile
    IF n_ev > 0 AND v_any_sub THEN
        -- the senders per event: a variable, so that the match is inlined
        e_org := ARRAY(SELECT p_org[m] FROM unnest(p_emsg) m);
        -- the version of the live subscriptions (the set routing reads):
        -- any change of one (created, changed: a new row version, xmin;
        -- paused, disabled, deleted) changes it; NULL when there is none.
        -- Read again under the lock; in one statement with the match, so
        -- both see the same subscriptions
        SELECT v.subs, m.k, m.sub, m.org, m.mode, m.url, m.ep
          INTO v_subs, r_k, r_sub, r_org, r_mode, r_url, r_end
          FROM (SELECT string_agg(s.id || ':' || s.xmin::text, ','
                                  ORDER BY s.id) AS subs
                  FROM subscriptions s
                 WHERE s.deleted_at IS NULL AND s.status <> 'disabled') v
          LEFT JOIN LATERAL (
               SELECT array_agg(x.k) AS k, array_agg(x.sub_id) AS sub,
                      array_agg(x.org_id) AS org, array_agg(x.mode) AS mode,
                      array_agg(x.url) AS url, array_agg(x.endpoint) AS ep
                 FROM hub_route_match(p_etype, e_org, p_ebody) x
                WHERE v.subs IS NOT NULL) m ON true;
    END IF;

    -- the audit rows (identity conflicts, then one per message, then one
    -- per routed event), as hub_audit_append_many() writes them, all but
    -- their seq and hashes:
    -- a_rest is hub_audit_text() of the row without its opening "[seq"
    -- (jsonb's text form writes the elements one after another, so the
    -- text with seq N is '[' || N || a_rest), written as that text is: each
    -- string as to_json() escapes it (escape_json, as jsonb prints it),
    -- ", " between; cheaper than building the jsonb array and cutting it
    v_at_text := to_char(now() AT TIME ZONE 'UTC',
                         'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
    v_at_json := ', ' || to_json(v_at_text)::text || ', "';
    -- The messages' rows, in generate_series' order (no sort: with the
    -- identity conflicts' rows in a UNION ALL sorted by row, every batch
    -- started a sort, an append and a second function scan). A
    -- 'message.received' row whose detail hubd wrote (r.dt) is written
    -- without to_json: its actor is an organization id (checked above:
    -- letters, digits, '_', '.', '-', nothing to escape), its action and
    -- kind are constants, its id is digits, and r.dt is the detail's text
    SELECT array_agg(r.actor), array_agg(r.action), array_agg(r.kind),
           array_agg(r.id), array_agg(r.patient), array_agg(r.detail),
           array_agg(CASE WHEN r.dt IS NOT NULL
                     THEN v_at_json || r.actor
                          || '", "message.received", "message", "' || r.id
                          || '", '
                          || coalesce(to_json(r.patient)::text, 'null')
                          || ', ' || r.dt || ']'
                     ELSE ', ' || to_json(v_at_text)::text || ', '
                     || to_json(r.actor)::text || ', '
                     || to_json(r.action)::text || ', '
                     || to_json(r.kind)::text || ', '
                     || to_json(r.id)::text || ', '
                     || coalesce(to_json(r.patient)::text, 'null') || ', '
                     || r.detail || ']' END)
      INTO a_actor, a_action, a_kind, a_id, a_patient, a_detail, a_rest
      FROM (SELECT p_org[u.o] AS actor,
                   CASE WHEN m_dup[u.o] THEN 'message.duplicate'
                        WHEN p_ok[u.o] THEN 'message.received'
                        ELSE 'message.quarantined' END AS action,
                   'message' AS kind, m_mid[u.o]::text AS id,
                   CASE WHEN p_ok[u.o] AND NOT m_dup[u.o]
                        THEN m_first[u.o] END AS patient,
                   -- hubd's text stored as it is (jsonb's text form:
                   -- hub/store.c; the tests check it)
                   CASE WHEN m_dup[u.o] THEN
                       (jsonb_build_object('sha256', p_sha[u.o],
                                           'format', p_fmt[u.o])
                        || CASE WHEN hub_dup_differs(p_key[u.o], m_dup_sha[u.o],
                                                     p_sha[u.o])
                                THEN '{"kept": "quarantine"}'::jsonb
                                ELSE '{}'::jsonb END)::text
                        WHEN p_ok[u.o] AND p_adetail[u.o] IS NOT NULL THEN
                       p_adetail[u.o]
                        WHEN p_ok[u.o] THEN
                       jsonb_build_object('sha256', p_sha[u.o],
                           'format', p_fmt[u.o], 'events',
                           coalesce(p_mevids[u.o], '[]')::jsonb)::text
                        ELSE
                       jsonb_build_object('sha256', p_sha[u.o],
                           'format', p_fmt[u.o], 'error',
                           jsonb_build_object(
                               'code', p_err[u.o]->'code',
                               'field', p_err[u.o]->'field'))::text
                   END AS detail,
                   CASE WHEN p_ok[u.o] AND NOT m_dup[u.o]
                        THEN p_adetail[u.o] END AS dt
              FROM generate_series(1, n_msg) AS u(o)
             WHERE NOT m_skip[u.o]
            OFFSET 0) r;        -- not flattened: each value made once
    -- the identity conflicts' rows go first, in event order (rare: a
    -- statement only when there is one)
    IF cardinality(c_org) > 0 THEN
        SELECT c_org || a_actor,
               array_agg('identity.conflict'::text) || a_action,
               array_agg('patient'::text) || a_kind, c_hub || a_id,
               c_hub || a_patient, c_all::text[] || a_detail,
               array_agg(', ' || to_json(v_at_text)::text || ', '
                         || to_json(c.org)::text || ', '
                         || to_json('identity.conflict'::text)::text || ', '
                         || to_json('patient'::text)::text || ', '
                         || to_json(c.hub)::text || ', '
                         || coalesce(to_json(c.hub)::text, 'null') || ', '
                         || c.d::text || ']' ORDER BY c.o) || a_rest
          INTO a_actor, a_action, a_kind, a_id, a_patient, a_detail, a_rest
          FROM unnest(c_org, c_hub, c_all) WITH ORDINALITY AS c(org, hub, d, o);
    END IF;
    -- then the rows hub_route_events() appends: the subscriptions and
    -- orgs of each routed event (jsonb_agg(DISTINCT): sorted, once each),
    -- in event order; a statement only when something was routed
    IF r_k IS NOT NULL THEN
        SELECT a_actor || array_agg('hubd'::text),
               a_action || array_agg('event.routed'::text),
               a_kind || array_agg('event'::text), a_id || array_agg(p_eid[g.k]),
               a_patient || array_agg(e_hub[g.k]),
               a_detail || array_agg(g.detail::text),
               a_rest || array_agg(', ' || to_json(v_at_text)::text
                                   || ', "hubd", "event.routed", "event", '
                                   || to_json(p_eid[g.k])::text || ', '
                                   || coalesce(to_json(e_hub[g.k])::text,
                                               'null')
                                   || ', ' || g.detail::text || ']'),
               count(*)
          INTO a_actor, a_action, a_kind, a_id, a_patient, a_detail, a_rest,
               n_routed
          FROM (SELECT x.k, jsonb_build_object(
                           'subscriptions', jsonb_agg(DISTINCT x.sub),
                           'orgs', jsonb_agg(DISTINCT x.org)) AS detail
                  FROM unnest(r_k, r_sub, r_org) AS x(k, sub, org)
                 GROUP BY x.k ORDER BY x.k) g;
    END IF;

    -- ---- under the lock: seq order = commit order, one chain writer ----
    v_locked := hub_chain_lock();

    -- in one statement: the event seqs in batch order, the version of
    -- the live subscriptions (NULL: none, routing writes nothing), the
    -- head of the chain, and the count of merges.
    -- The seqs: one nextval and, for more than one event, a setval past
    -- the last (v_seq0 .. v_seq0 + n_ev - 1). Every writer of events
    -- takes its seqs under the chain lock (here, and the serial path's
    -- DEFAULT), so no other nextval comes between the two; a nextval per
    -- event cost about 3.5k instructions a message
    SELECT CASE WHEN n_ev = 1 THEN nextval('events_seq')
                WHEN n_ev > 1
                THEN setval('events_seq', nextval('events_seq') + n_ev - 1)
                     - n_ev + 1 END,
           -- as the match read it (above)
           CASE WHEN n_ev > 0 THEN
               (SELECT string_agg(s.id || ':' || s.xmin::text, ','
                                  ORDER BY s.id)
                  FROM subscriptions s
                 WHERE s.deleted_at IS NULL AND s.status <> 'disabled') END,
           h.seq, h.hash,
           -- (its row gone, -2: never equal, the owners are looked at)
           CASE WHEN p_ik IS NOT NULL AND NOT v_simple THEN
               coalesce((SELECT pm.n FROM patient_merges pm), -2) END,
           (SELECT v.n FROM org_authorities_version v)
      INTO v_seq0, v_subs_now, v_aseq, v_prev, v_merges_now, v_maps_now
      FROM (SELECT) x
      LEFT JOIN (SELECT a.seq, a.hash FROM audit a
                  ORDER BY a.seq DESC LIMIT 1) h ON true;
    -- the owners read above are still the owners unless a merge moved
    -- them since (a merge marks the patient it merged away); then start
    -- again, as above. A merge committed since the probe changed the
    -- count (patient_merges); only then are the owners looked at. Linked
    -- by the shortcut, each event's one owner is in l_cand: a third of
    -- the ids to sort and probe of i_owner (one per identifier) at three
    -- identifiers an event
    -- an authority map set or cleared since the systems were read: they
    -- may be stale, so start again (hub_authority_set holds the lock)
    IF v_maps_now <> v_maps THEN
        RAISE EXCEPTION 'hub_ingest_fast: authority map changed meanwhile'
              USING ERRCODE = '40001';
    END IF;
    IF v_merges_now <> v_merges         -- NULL: no owner to check
       AND hub_any_merged(CASE WHEN v_linked THEN l_cand ELSE i_owner END) THEN
        RAISE EXCEPTION 'hub_ingest_fast: patient merged meanwhile'
              USING ERRCODE = '40001';
    END IF;
    IF v_aseq IS NULL THEN
        v_aseq := 0;
        v_prev := repeat('0', 64);
    END IF;
    -- the match holds if the subscriptions are those it read; else its
    -- audit rows go, and routing is done again below, as the serial path
    -- does it
    IF v_subs_now IS DISTINCT FROM v_subs THEN
        r_k := NULL;
        v_route := v_subs_now IS NOT NULL;
    END IF;
    IF r_k IS NOT NULL OR v_route THEN
        e_seq := ARRAY(SELECT generate_series(v_seq0, v_seq0 + n_ev - 1));
    END IF;

    IF n_ev > 0 THEN
        -- one INSERT of the bodies made above, in unnest's order (batch
        -- order; an ORDER BY u.k sorted every row, its body with it)
        INSERT INTO events (seq, id, message_id, org_id, type,
                            patient_hub_id, occurred_at, received_at, body)
        SELECT v_seq0 + u.k - 1, p_eid[u.k], m_mid[u.msg], p_org[u.msg],
               p_etype[u.k], e_hub[u.k],
               p_eoccb[u.k], m_at[u.msg], p_ebody[u.k]
          FROM unnest(p_emsg) WITH ORDINALITY AS u(msg, k);
    END IF;

    -- the chain: seq and hashes, the only part that needs the lock;
    -- row i's hash chains on row i-1's: one expression per row on bytea
    -- hashes (hex is made once, in the INSERT; a recursive CTE measured
    -- no faster than this loop)
    n_a := coalesce(cardinality(a_rest), 0)
           - CASE WHEN r_k IS NULL THEN coalesce(n_routed, 0) ELSE 0 END;
    v_h := decode(v_prev, 'hex');
    a_h := array_fill(NULL::bytea, ARRAY[n_a]);
    FOR i IN 1 .. n_a LOOP
        v_h := sha256(v_h || convert_to('[' || (v_aseq + i) || a_rest[i],
                                        'UTF8'));
        a_h[i] := v_h;
    END LOOP;
    INSERT INTO audit (seq, at, actor, action, object_kind, object_id,
                       patient_hub_id, detail, prev_hash, hash)
    SELECT v_aseq + u.o, now(), a_actor[u.o], a_action[u.o], a_kind[u.o],
           a_id[u.o], a_patient[u.o], a_detail[u.o],
           CASE WHEN u.o = 1 THEN v_prev ELSE encode(a_h[u.o - 1], 'hex') END,
           encode(u.h, 'hex')
      FROM unnest(a_h) WITH ORDINALITY AS u(h, o);

    -- the routing decisions matched before the lock: only what needs
    -- the event seqs is written here (the new rows alone: no conflict)
    IF r_k IS NOT NULL THEN
        WITH er AS (
            INSERT INTO event_routes (org_id, event_seq)
            SELECT DISTINCT r_org[i], e_seq[r_k[i]]
              FROM generate_series(1, cardinality(r_k)) i
        ), dl AS (
            INSERT INTO deliveries (event_seq, event_id, subscription_id,
                                    org_id, patient_hub_id, url, endpoint)
            SELECT e_seq[r_k[i]], p_eid[r_k[i]], r_sub[i], r_org[i],
                   e_hub[r_k[i]], r_url[i], r_end[i]
              FROM generate_series(1, cardinality(r_k)) i
             WHERE r_mode[i] = 'webhook'
             ORDER BY i
            RETURNING id, event_seq, subscription_id, patient_hub_id,
                      endpoint, next_attempt_at
        ), dq AS (
            -- each new delivery is open: its queue row, in the same
            -- order; held when its subscription is paused (as in
            -- hub_route_events)
            INSERT INTO delivery_queue (delivery_id, subscription_id,
                                        patient_hub_id, event_seq, endpoint,
                                        due_at)
            SELECT dl.id, dl.subscription_id, dl.patient_hub_id,
                   dl.event_seq, dl.endpoint,
                   CASE WHEN dl.subscription_id = ANY (ARRAY(
                                 SELECT s.id FROM subscriptions s
                                  WHERE s.status <> 'active'
                                    AND s.deleted_at IS NULL))
                        THEN 'infinity' ELSE dl.next_attempt_at END
              FROM dl ORDER BY dl.id
            RETURNING 1
        )
        SELECT count(*) INTO v_rows FROM dq;
        IF v_rows > 0 THEN
            PERFORM pg_notify('hub_deliveries', '');
        END IF;
    ELSIF v_route THEN
        PERFORM hub_route_events(e_seq);
    END IF;

    -- one row of arrays (a row per message cost four assignments, a
    -- tuplestore row and a DataRow each). The usual batch: the ids alone;
    -- every accepted message's detail came, so the caller could write its
    -- event ids (p_adetail is NULL for the others)
    message_ids := m_mid;
    IF n_dup = 0 AND n_part = 0
       AND cardinality(array_remove(p_adetail, NULL))
           = cardinality(array_remove(p_ok, false)) THEN
        RETURN NEXT;
        RETURN;
    END IF;
    dups := array_fill(NULL::boolean, ARRAY[n_msg]);
    event_ids := array_fill(NULL::text, ARRAY[n_msg]);
    replies := array_fill(NULL::bytea, ARRAY[n_msg]);
    kept := array_fill(false, ARRAY[n_msg]);
    FOR i IN 1 .. n_msg LOOP
        dups[i] := m_dup[i] OR m_skip[i];
        IF m_skip[i] THEN
            message_ids[i] := NULL;
        END IF;
        event_ids[i] := CASE WHEN m_skip[i] THEN '[]'
                             WHEN m_dup[i]
                             THEN coalesce(m_dup_evids[i], '[]')
                             WHEN p_ok[i]
                             THEN coalesce(p_mevids[i], '[]')
                             ELSE '[]' END;
        replies[i] := CASE WHEN m_dup[i] THEN m_dup_reply[i] END;
        kept[i] := m_dup[i] AND hub_dup_differs(p_key[i], m_dup_sha[i],
                                                p_sha[i]);
    END LOOP;
    RETURN NEXT;
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
               -- the hub's own events only by a pattern of their family,
               -- as webhook_topic_match() says ('*' is the data events)
               AND (p_topics IS NULL OR e.type NOT LIKE 'hub.%'
                    OR 'hub.%' = ANY (p_topics) OR e.type = ANY (p_topics))
               AND (p_since IS NULL OR e.occurred_at >= p_since)
             ORDER BY e.seq
             LIMIT p_limit) p;
    -- A cursor past every event the hub ever numbered was never one of
    -- its pages: the database was restored from a backup (its sequence
    -- went back) or the cursor is another hub's. Answered as such
    -- (22H10; store.c names the feed's head), never as an empty page:
    -- the partner would wait there, and miss every event numbered below
    -- its cursor once the sequence caught up (deploy/postgresql.md,
    -- "Backup and restore").
    IF v_n = 0 AND p_after > (SELECT CASE WHEN is_called THEN last_value
                                          ELSE 0 END FROM events_seq) THEN
        RAISE EXCEPTION 'cursor % is past the end of the feed', p_after
            USING ERRCODE = '22H10';
    END IF;
    v_next := coalesce(v_next, p_after);
    -- the page leaves the hub after this transaction's commit, which is
    -- synchronous and follows the commits of the events it holds: they
    -- are durable by then ("Durability" at the top of this file)
    PERFORM hub_durable();
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

-- After the database was restored from a backup (`hubctl restored`, before
-- hubd starts): the numbers partners hold from before the restore point,
-- pull-feed cursors (events.seq) and webhook-ids (dlv_<deliveries.id>),
-- would be issued again to other events, so that a partner's cursor
-- passes over new events and its de-duplication by webhook-id drops new
-- deliveries, silently. Each sequence a partner or an operator sees moves
-- p_gap past where the restore left it; under the chain lock, where events
-- and deliveries are numbered. Audited ('hub.restored').
CREATE FUNCTION hub_after_restore(p_actor text, p_gap bigint)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v jsonb := '{}';
    v_seq text;
    v_new bigint;
BEGIN
    IF p_gap IS NULL OR p_gap < 1 THEN
        RAISE EXCEPTION 'gap must be at least 1' USING ERRCODE = '22023';
    END IF;
    PERFORM hub_chain_lock();
    FOREACH v_seq IN ARRAY ARRAY['events_seq', 'deliveries_id_seq',
                                 'messages_id_seq'] LOOP
        v_new := setval(v_seq::regclass,
                        coalesce(pg_sequence_last_value(v_seq::regclass), 0)
                        + p_gap);
        v := v || jsonb_build_object(v_seq, v_new);
    END LOOP;
    PERFORM hub_audit_append(p_actor, 'hub.restored', 'database', 'sequences',
                             NULL, v || jsonb_build_object('gap', p_gap));
    RETURN v;
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
        'status_reason', s.status_reason, 'health', s.health,
        'health_since', s.health_since,
        'created_at', s.created_at, 'updated_at', s.updated_at))
$$;

-- Sensitive data is opt-in, and the opt-in is an operator's to grant: a
-- subscription may list in filters.sensitivity only labels its
-- organization holds (organizations.labels). Without the grant any partner
-- with the subscribe scope could opt itself in to 42 CFR Part 2 (sud) or
-- psychotherapy (psy) data by writing the label. Checked on every write
-- of a subscription's filters or owner, and on a change of an org's
-- labels (one still listed by a live subscription cannot be taken away:
-- change the subscription first). SQLSTATE 23H01, a refusal of the
-- caller's values (store.c), which subs.c and hubctl name.
CREATE FUNCTION hub_sub_labels_granted() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_label text;
BEGIN
    IF NEW.deleted_at IS NULL
       AND jsonb_typeof(NEW.filters->'sensitivity') = 'array' THEN
        SELECT l INTO v_label
          FROM jsonb_array_elements_text(NEW.filters->'sensitivity') l
         WHERE l <> ALL (coalesce((SELECT o.labels FROM organizations o
                                    WHERE o.id = NEW.org_id), '{}'))
         LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'organization % is not granted label %',
                NEW.org_id, v_label USING ERRCODE = '23H01';
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER subscriptions_labels_granted
    BEFORE INSERT OR UPDATE OF filters, org_id ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION hub_sub_labels_granted();

CREATE FUNCTION hub_org_labels_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_sub text;
BEGIN
    SELECT s.id INTO v_sub
      FROM subscriptions s,
           jsonb_array_elements_text(
               CASE WHEN jsonb_typeof(s.filters->'sensitivity') = 'array'
                    THEN s.filters->'sensitivity' ELSE '[]' END) l
     WHERE s.org_id = NEW.id AND s.deleted_at IS NULL
       AND l <> ALL (NEW.labels)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'subscription % still opts in to a label taken away',
            v_sub USING ERRCODE = '23H01';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER organizations_labels_kept
    BEFORE UPDATE OF labels ON organizations
    FOR EACH ROW EXECUTE FUNCTION hub_org_labels_kept();

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

-- Hold (p_held) or release the open deliveries of subscription p_sub that
-- are not leased ("Held rows"); only those with ids above p_after (NULL:
-- all). The caller holds the subscription row. p_skip_locked: under the
-- chain lock (rows routed meanwhile): pass a locked row by, never wait.
-- Else the rows are locked in delivery_id order, as replays lock them
-- ("Lock order"). A leased row is passed by: an outcome finds it by its
-- version (ctid) and token, and a retry brings it back not held (the
-- sweep holds it). Returns the number of rows changed.
-- The rows are found by the order index (the subscription's rows). One
-- statement for the lot: a pause of 100,000 rows is one request of 1-2 s
-- (tests/bench/README.md), in a transaction that blocks no other
-- subscription; in batches, a pause would leave its rows in the claims'
-- walk until the last batch, and each batch would walk past the rows held
-- before it.
CREATE FUNCTION hub_queue_hold(p_sub text, p_held boolean, p_after bigint,
    p_skip_locked boolean)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_n bigint;
BEGIN
    IF p_skip_locked THEN
        WITH x AS MATERIALIZED (
            SELECT q.ctid AS tid FROM delivery_queue q
             WHERE q.subscription_id = p_sub COLLATE "C"
               AND (q.due_at = 'infinity') <> p_held
               AND q.lease_until IS NULL
               AND (p_after IS NULL OR q.delivery_id > p_after)
             FOR UPDATE SKIP LOCKED
        )
        -- (released: due again when it was due, its deliveries row says)
        UPDATE delivery_queue q
           SET due_at = CASE WHEN p_held THEN 'infinity'
                             ELSE (SELECT d.next_attempt_at FROM deliveries d
                                    WHERE d.id = q.delivery_id) END
          FROM x WHERE q.ctid = x.tid;
    ELSE
        WITH x AS MATERIALIZED (
            SELECT q.ctid AS tid FROM delivery_queue q
             WHERE q.subscription_id = p_sub COLLATE "C"
               AND (q.due_at = 'infinity') <> p_held
               AND q.lease_until IS NULL
               AND (p_after IS NULL OR q.delivery_id > p_after)
             ORDER BY q.delivery_id
             FOR UPDATE
        )
        -- (the locked version: its lease checked again)
        UPDATE delivery_queue q
           SET due_at = CASE WHEN p_held THEN 'infinity'
                             ELSE (SELECT d.next_attempt_at FROM deliveries d
                                    WHERE d.id = q.delivery_id) END
          FROM x WHERE q.ctid = x.tid AND q.lease_until IS NULL;
    END IF;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END $$;

-- Cancel the open deliveries of subscription p_sub (deleted: the caller
-- holds its row): leased ones too, whose outcome then finds no queue row
-- and is recorded as 'lost'. Only ids above p_after (NULL: all). Locks the
-- deliveries rows by id, then deletes their queue rows ("Lock order");
-- p_skip_locked: under the chain lock, passes a locked row by (the sweep
-- cancels it later). Returns the number cancelled.
CREATE FUNCTION hub_sub_cancel(p_sub text, p_after bigint,
    p_skip_locked boolean)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_ids bigint[];
    v_n bigint;
BEGIN
    IF p_skip_locked THEN
        v_ids := ARRAY(SELECT d.id FROM deliveries d
                        WHERE d.id = ANY (ARRAY(
                                  SELECT q.delivery_id FROM delivery_queue q
                                   WHERE q.subscription_id = p_sub COLLATE "C"
                                     AND (p_after IS NULL
                                          OR q.delivery_id > p_after)))
                        ORDER BY d.id FOR NO KEY UPDATE SKIP LOCKED);
    ELSE
        v_ids := ARRAY(SELECT d.id FROM deliveries d
                        WHERE d.id = ANY (ARRAY(
                                  SELECT q.delivery_id FROM delivery_queue q
                                   WHERE q.subscription_id = p_sub COLLATE "C"
                                     AND (p_after IS NULL
                                          OR q.delivery_id > p_after)))
                        ORDER BY d.id FOR NO KEY UPDATE);
    END IF;
    IF cardinality(v_ids) = 0 THEN
        RETURN 0;
    END IF;
    -- the queue rows need no lock first: each is waited for only by a
    -- holder of its deliveries row (a delivered outcome, which deletes it,
    -- waits for none of ours); a row another path deleted meanwhile was
    -- finished there and stays as it is
    WITH q AS (
        DELETE FROM delivery_queue q WHERE q.delivery_id = ANY (v_ids)
        RETURNING q.delivery_id, q.attempts
    )
    UPDATE deliveries d SET status = 'cancelled', attempts = q.attempts,
                            updated_at = now()
      FROM q WHERE d.id = q.delivery_id;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END $$;

-- Update a subscription (also pause and resume). Locks as the routing
-- section's "Lock order" says: the subscription (FOR NO KEY UPDATE; an
-- ingest routing to it locks no subscription row), then for a URL change
-- the open deliveries not leased and their queue rows, by id; the chain
-- lock last, at the audit row.
CREATE FUNCTION hub_sub_update(p_actor text, p_org text, p_id text,
    p_doc jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    s subscriptions;
    v_old text;
    v_ids bigint[];
    v_mark bigint;
BEGIN
    SELECT status INTO v_old FROM subscriptions
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
        status = coalesce(p_doc->>'status', status),
        status_reason = CASE WHEN p_doc ? 'status' THEN NULL
                             ELSE status_reason END,
        updated_at = now()
     WHERE id = p_id
    RETURNING * INTO s;
    IF (s.status = 'active') <> (v_old = 'active') THEN
        -- paused, disabled or resumed: its queue rows follow ("Held
        -- rows"); those routed from here on are found above v_mark
        -- (delivery ids are taken under the chain lock, so every row a
        -- later commit routes has a larger id than any visible now)
        v_mark := coalesce((SELECT max(d.id) FROM deliveries d), 0);
        PERFORM hub_queue_hold(p_id, s.status <> 'active', NULL, false);
    END IF;
    IF p_doc ? 'url' THEN
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
    IF p_doc ? 'url' THEN
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
            'status', s.status));
    RETURN hub_sub_json(s, false);
END $$;

-- Delete a subscription (soft: its row and history stay) and end its
-- open deliveries: each is cancelled (status 'cancelled', its queue row
-- gone), leased ones too; one audit row says how many. Locks: the
-- subscription, the open deliveries and their queue rows
-- (hub_sub_cancel), the chain lock; then the rows routed meanwhile, as
-- hub_sub_update moves them.
CREATE FUNCTION hub_sub_delete(p_actor text, p_org text, p_id text)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    v_org text;
    v_mark bigint;
    v_n bigint;
BEGIN
    -- the row (FOR NO KEY UPDATE: the id does not change) before the chain
    -- lock, which the audit row takes: see "Lock order" (routing)
    UPDATE subscriptions SET deleted_at = now(), updated_at = now(),
                             status = 'disabled', status_reason = 'deleted'
     WHERE id = p_id AND deleted_at IS NULL
       AND (p_org IS NULL OR org_id = p_org)
    RETURNING org_id INTO v_org;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    -- (see hub_sub_update for v_mark)
    v_mark := coalesce((SELECT max(d.id) FROM deliveries d), 0);
    v_n := hub_sub_cancel(p_id, NULL, false);
    PERFORM hub_chain_lock();        -- last: see "Lock order" (routing)
    v_n := v_n + hub_sub_cancel(p_id, v_mark, true);
    PERFORM hub_audit_append(p_actor, 'subscription.deleted', 'subscription',
        p_id, NULL, jsonb_build_object('org', v_org, 'cancelled', v_n));
    RETURN true;
END $$;

-- --- the dispatcher --------------------------------------------------------

-- Claim up to p_max due deliveries for p_owner for p_lease_ms, at most
-- p_per_endpoint of them per endpoint, none for the endpoints in p_skip
-- (the caller's full or circuit-open ones). Due: subscription active; the
-- queue row's due_at passed and not leased, or leased with an expired lease
-- (its node died); and no earlier open delivery for the same (subscription,
-- patient). Each claim counts as an attempt. secrets come back
-- space-separated; body is NULL on a row of the same event as the row
-- before it (ids are in routing order, so one event's deliveries are
-- neighbours): the caller reuses that body, converted to text once. event,
-- subscription and recipient: the ids the attempt's audit detail names
-- (hub_deliveries_done's p_detail).
-- It walks delivery_queue_due in (due_at, id) order and stops after the
-- rows it needs, so a claim does not cost more as the backlog grows; the
-- leases held (the claimed work of the live nodes) are walked past; the
-- order check is a per-row index probe, the subscriptions' status is read
-- once per claim (while at most 64 are active; else a per-row probe too),
-- and the claimed rows are looked up by primary key. The lease is a HOT
-- update of the queue row; the deliveries row is only read.
-- The rows of subscriptions that are not active are held, beyond the
-- walk's bound ("Held rows" above delivery_queue), so that their number
-- does not add to any claim's cost (tests/integration/heldq_test.c counts
-- the index entries read). Known limit: due rows of active subscriptions that cannot
-- be claimed now (an endpoint whose breaker is open, events behind a
-- failing one of their patient) are still walked past on every claim.
CREATE FUNCTION hub_claim_deliveries(p_owner text, p_lease_ms int,
    p_max int, p_per_endpoint int, p_skip text[],
    p_report_waits boolean DEFAULT false)
-- (only what a dispatcher sends with, and the ids its attempt rows'
-- details name: each column is copied into the function's result store and
-- out again per delivery)
-- order_waits (with p_report_waits): after this claim, the deliveries
-- p_owner holds that due rows wait behind (the first open delivery of
-- their subscription and patient: the per-patient order). The dispatcher
-- records the outcome of one of those at once instead of after its
-- linger, since that commit is what lets the rows behind it go (a burst
-- of one patient's events, A04 then A08s, went out 50 ms apart); other
-- outcomes keep the linger. NULL: not looked for (a full claim: the
-- dispatcher claims again soon). When some are named and nothing was
-- leased, the one row returned has a NULL id.
RETURNS TABLE (id bigint, token bigint, attempt int,
               url text, endpoint text, secrets text, client_cert text,
               client_key text, ca_bundle text, body text,
               event text, subscription text, recipient text,
               order_waits bigint[])
LANGUAGE plpgsql
-- The plans must not depend on statistics, which lag behind a queue
-- table's churn (a fresh database plans for an empty table; a scan and sort
-- of every due row per claim is the cost that grew with the backlog). With
-- these off, the walks in index order are the only plans left.
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_sort = off
-- the sorts left (a few hundred rows) carry the disabled-path cost, which
-- would make every claim compile itself with JIT (most of a second)
SET jit = off
-- one plan per statement for the session, not one per call: with the
-- settings above the plans do not depend on the values, and planning the
-- claim again cost 15k instructions per delivery at 16 rows a claim (2k
-- at 256)
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_token bigint := nextval('delivery_lease_seq');
    -- a value, not clock_timestamp() per row: an index bound, so the walk
    -- stops at the first row not yet due
    v_now timestamptz := clock_timestamp();
    -- candidates read when the per-endpoint cap binds: a margin over p_max
    -- for rows another node locks meanwhile (SKIP LOCKED), and room for
    -- other endpoints
    v_read int := p_max * 4;
    v_skip text[] COLLATE "C" := coalesce(p_skip, '{}');
    v_ids bigint[];
    v_attempts int[];
    v_waits bigint[];
    -- The active subscriptions, when there are few: a row's subscription
    -- is then looked for in this array, not probed in subscriptions (a
    -- B-tree descent and a subplan per row walked: 9k instructions a
    -- delivery with 1 subscription); when there are more than 64, NULL,
    -- and each row is probed (so that the search of the array, element
    -- by element, stays cheaper than the probe). Read just before the walk,
    -- where the probe read it at the walk's start: either way a claim that
    -- starts after a pause committed sees it.
    v_active text[] COLLATE "C" := ARRAY(
        SELECT s.id FROM subscriptions s
         WHERE s.status = 'active' AND s.deleted_at IS NULL
         LIMIT 65);
BEGIN
    IF cardinality(v_active) > 64 THEN
        v_active := NULL;
    END IF;
    IF p_per_endpoint >= p_max THEN
        -- The cap cannot bind (as a rule: the dispatcher asks for at
        -- most per_endpoint x 64 rows): the walk locks the rows it takes,
        -- in due order, until it has p_max (SKIP LOCKED: a row another
        -- node holds is passed by; one whose lease another claim took
        -- meanwhile fails the conditions, checked again on the locked
        -- version). No candidates read beyond those taken (a quarter more
        -- below), no ranking, no second probe by primary key: 23k
        -- instructions per delivery less. The probes: as below.
        WITH due AS (
            SELECT q0.ctid AS tid
              FROM delivery_queue q0
             WHERE q0.due_at <= v_now
               AND (q0.lease_until IS NULL OR q0.lease_until < v_now)
               AND q0.endpoint <> ALL (v_skip)
               -- subscription active: found in v_active, or probed
               -- (two conditions, not a CASE: the cheap one comes first)
               AND (v_active IS NULL
                    OR q0.subscription_id = ANY (v_active))
               AND (v_active IS NOT NULL
                    OR (SELECT s.status = 'active' AND s.deleted_at IS NULL
                          FROM subscriptions s
                         WHERE s.id = q0.subscription_id COLLATE "default"))
               AND (SELECT o.event_seq FROM delivery_queue o
                     WHERE o.subscription_id = q0.subscription_id
                       AND o.patient_hub_id = q0.patient_hub_id
                       AND o.event_seq < q0.event_seq
                     LIMIT 1) IS NULL
             ORDER BY q0.due_at, q0.delivery_id
             LIMIT p_max
             FOR UPDATE SKIP LOCKED
        ), upd AS (
            UPDATE delivery_queue q
               SET lease_owner = p_owner,
                   lease_until = clock_timestamp()
                                 + make_interval(secs => p_lease_ms / 1000.0),
                   lease_token = v_token, attempts = q.attempts + 1
              FROM due WHERE q.ctid = due.tid
            RETURNING q.delivery_id, q.attempts
        )
        SELECT array_agg(u.delivery_id ORDER BY u.delivery_id),
               array_agg(u.attempts ORDER BY u.delivery_id)
          INTO v_ids, v_attempts
          FROM upd u;
    ELSE
        -- the cap binds: candidates in due order, ranked per endpoint,
        -- then leased by primary key
        WITH cand AS MATERIALIZED (
            SELECT q0.delivery_id AS id, q0.endpoint, q0.due_at
              FROM delivery_queue q0
             WHERE q0.due_at <= v_now
               AND (q0.lease_until IS NULL OR q0.lease_until < v_now)
               AND q0.endpoint <> ALL (v_skip)
               -- subscription active: found in v_active, or probed
               -- (two conditions, not a CASE: the cheap one comes first)
               AND (v_active IS NULL
                    OR q0.subscription_id = ANY (v_active))
               AND (v_active IS NOT NULL
                    OR (SELECT s.status = 'active' AND s.deleted_at IS NULL
                          FROM subscriptions s
                         WHERE s.id = q0.subscription_id COLLATE "default"))
               -- a scalar subquery is never flattened into a join: a per-row
               -- probe of delivery_queue_order whatever the statistics say
               -- (NOT EXISTS ... LIMIT 1 is: PostgreSQL drops the LIMIT)
               AND (SELECT o.event_seq FROM delivery_queue o
                     WHERE o.subscription_id = q0.subscription_id
                       AND o.patient_hub_id = q0.patient_hub_id
                       AND o.event_seq < q0.event_seq
                     LIMIT 1) IS NULL
             ORDER BY q0.due_at, q0.delivery_id
             LIMIT v_read
        ), ranked AS (
            SELECT c.id, row_number() OVER (PARTITION BY c.endpoint
                                            ORDER BY c.due_at, c.id) rn
              FROM cand c
        ), due AS (
            -- by primary key, in id order (no sort: see SET above); the
            -- locked version's ctid, by which the UPDATE below finds it again
            -- (a TID scan, not a second probe of the primary key; the row is
            -- ours until commit, so the version cannot move)
            SELECT q.ctid AS tid FROM delivery_queue q
             WHERE q.delivery_id = ANY (ARRAY(SELECT r.id FROM ranked r
                                               WHERE r.rn <= p_per_endpoint))
               -- re-checked on the locked row version; written so that no
               -- other index matches it: the rows come by primary key
               AND q.due_at + interval '0' <= clock_timestamp()
               AND (q.lease_until IS NULL OR q.lease_until < clock_timestamp())
             LIMIT p_max
             FOR UPDATE SKIP LOCKED
        ), upd AS (
            UPDATE delivery_queue q
               SET lease_owner = p_owner,
                   lease_until = clock_timestamp()
                                 + make_interval(secs => p_lease_ms / 1000.0),
                   lease_token = v_token, attempts = q.attempts + 1
              FROM due WHERE q.ctid = due.tid
            RETURNING q.delivery_id, q.attempts
        )
        -- in id order (an aggregate's ORDER BY: no plan sort)
        SELECT array_agg(u.delivery_id ORDER BY u.delivery_id),
               array_agg(u.attempts ORDER BY u.delivery_id)
          INTO v_ids, v_attempts
          FROM upd u;
    END IF;
    -- The deliveries of ours that due rows wait behind (see order_waits
    -- above): looked for only when the walk ran out of rows to take, for
    -- the first 64 due rows not leased (rows that wait longer, behind a
    -- retry's backoff, stay at the front: past them nothing is found, and
    -- an outcome waits its linger, as before). Each one's chain head by
    -- the order index; this claim's own leases are newer than v_now, so
    -- none of them is among the rows looked at, and a head that is not
    -- ours, or not leased, is left out.
    IF p_report_waits AND coalesce(cardinality(v_ids), 0) < p_max THEN
        v_waits := ARRAY(
            SELECT h.delivery_id
              FROM (SELECT q0.subscription_id, q0.patient_hub_id
                      FROM delivery_queue q0
                     WHERE q0.due_at <= v_now
                       AND (q0.lease_until IS NULL OR q0.lease_until < v_now)
                       AND q0.endpoint <> ALL (v_skip)
                     ORDER BY q0.due_at, q0.delivery_id
                     LIMIT 64) c
             CROSS JOIN LATERAL (
                    SELECT o.delivery_id, o.lease_owner, o.lease_until
                      FROM delivery_queue o
                     WHERE o.subscription_id = c.subscription_id
                       AND o.patient_hub_id = c.patient_hub_id
                     ORDER BY o.event_seq
                     LIMIT 1) h
             WHERE h.lease_owner = p_owner AND h.lease_until >= v_now);
    END IF;
    -- nothing claimed (a NOTIFY whose rows an earlier claim took, a poll
    -- with nothing due): no query to start and stop (526k -> 407k
    -- instructions for such a claim)
    IF v_ids IS NULL THEN
        -- nothing leased, nothing to send: the commit need not wait for
        -- its WAL flush
        PERFORM set_config('synchronous_commit', 'off', true);
        IF cardinality(v_waits) > 0 THEN
            id := NULL;
            order_waits := v_waits;
            RETURN NEXT;
        END IF;
        RETURN;
    END IF;
    -- A claim that leased rows commits synchronously (hub_durable())
    -- before the dispatcher sends them: an ingest commits without waiting
    -- for its flush (hub_ingest_fast), and the bodies read here must not
    -- leave the hub before they are durable ("Durability" at the top of
    -- this file). This commit's record follows theirs in the WAL, so its
    -- flush covers them. (The lease alone would not need it: lost in a
    -- crash, the delivery is claimed again, same webhook-id.)
    PERFORM hub_durable();
    -- the rows to send: each deliveries row by primary key, in that order;
    -- an event's body read only for the first of its rows (a subquery: a
    -- join probed events for every row, ten times an event with ten
    -- subscriptions)
    RETURN QUERY
    SELECT d.id, v_token, u.attempts, d.url, d.endpoint,
           array_to_string(s.secrets, ' '), s.client_cert, s.client_key,
           s.ca_bundle,
           CASE WHEN lag(d.event_seq) OVER (ORDER BY u.k)
                     IS DISTINCT FROM d.event_seq
                THEN (SELECT e.body FROM events e WHERE e.seq = d.event_seq)
           END,
           d.event_id, d.subscription_id, d.org_id, v_waits
      FROM unnest(v_ids, v_attempts) WITH ORDINALITY AS u(id, attempts, k)
      JOIN deliveries d ON d.id = u.id
      JOIN subscriptions s ON s.id = d.subscription_id
     ORDER BY u.k;
END $$;

-- The dispatcher's sweep ("Held rows"), every few seconds on one node's
-- flush connection: brings the queue rows that the other paths left out
-- of line with their subscription's status in line, in bounded batches,
-- never waiting for a row (SKIP LOCKED):
--   rows of a paused or disabled subscription (a 410 disables inside a
--   flush, which holds nothing) among the first p_walk due rows, the part
--   of the due index that claims walk: held, at most p_limit;
--   rows of a deleted one there (an attempt under way at the delete that
--   came back for a retry): cancelled, one 'subscription.cancelled' audit
--   row per subscription with the count (so the chain lock is taken only
--   then, last);
--   held rows of active subscriptions (a replay or routing that read the
--   old status as a resume was waiting for the chain lock, and was then
--   locked by someone): released, at most p_limit, by delivery_queue_held
--   (one probe per active subscription).
-- Returns the number of rows changed. Its cost: a walk of at most p_walk
-- index entries, only while some subscription is not active, and the
-- probes of the held index.
CREATE FUNCTION hub_queue_sweep(p_limit int, p_walk int)
RETURNS bigint LANGUAGE plpgsql
-- the walks in index order whatever the statistics say (as the claim's):
-- never a scan and sort of the whole queue
SET enable_seqscan = off
SET enable_bitmapscan = off
SET jit = off
AS $$
DECLARE
    v_now timestamptz := clock_timestamp();
    v_active text[] COLLATE "C" := ARRAY(
        SELECT s.id FROM subscriptions s
         WHERE s.status = 'active' AND s.deleted_at IS NULL);
    v_off bigint[];
    v_ids bigint[];
    v_n bigint := 0;
    v_m bigint;
    r record;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    -- released: held rows of active subscriptions
    WITH x AS MATERIALIZED (
        SELECT q.ctid AS tid FROM delivery_queue q
         WHERE q.due_at = 'infinity' AND q.subscription_id = ANY (v_active)
           AND q.lease_until IS NULL
         LIMIT p_limit
         FOR UPDATE SKIP LOCKED
    )
    UPDATE delivery_queue q
       SET due_at = (SELECT d.next_attempt_at FROM deliveries d
                      WHERE d.id = q.delivery_id)
      FROM x WHERE q.ctid = x.tid;
    GET DIAGNOSTICS v_m = ROW_COUNT;
    v_n := v_n + v_m;
    IF v_m > 0 THEN
        PERFORM pg_notify('hub_deliveries', '');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM subscriptions s
                    WHERE s.status <> 'active' OR s.deleted_at IS NOT NULL) THEN
        RETURN v_n;
    END IF;
    -- the head of the due order: rows not held whose subscription is not
    -- in v_active (a probe of subscriptions only for those)
    v_off := ARRAY(
        SELECT h.id FROM (
            SELECT q.delivery_id AS id, q.subscription_id AS sub
              FROM delivery_queue q
             WHERE q.due_at <= v_now
             ORDER BY q.due_at, q.delivery_id
             LIMIT p_walk) h
         WHERE h.sub <> ALL (v_active)
         LIMIT p_limit);
    IF cardinality(v_off) = 0 THEN
        RETURN v_n;
    END IF;
    -- of deleted subscriptions: cancelled (deliveries rows, then queue
    -- rows, as hub_sub_cancel; locked rows passed by)
    v_ids := ARRAY(SELECT d.id FROM deliveries d
                    WHERE d.id = ANY (v_off)
                      AND d.subscription_id IN (
                          SELECT s.id FROM subscriptions s
                           WHERE s.deleted_at IS NOT NULL)
                    ORDER BY d.id FOR NO KEY UPDATE SKIP LOCKED);
    IF cardinality(v_ids) > 0 THEN
        CREATE TEMP TABLE IF NOT EXISTS hub_sweep_tmp (sub text)
            ON COMMIT DELETE ROWS;
        DELETE FROM hub_sweep_tmp;
        WITH q AS (
            DELETE FROM delivery_queue q
             WHERE q.delivery_id = ANY (v_ids)
               AND (q.lease_until IS NULL OR q.lease_until < v_now)
            RETURNING q.delivery_id, q.attempts
        ), u AS (
            UPDATE deliveries d SET status = 'cancelled',
                                    attempts = q.attempts, updated_at = now()
              FROM q WHERE d.id = q.delivery_id
            RETURNING d.subscription_id
        )
        INSERT INTO hub_sweep_tmp SELECT u.subscription_id FROM u;
        GET DIAGNOSTICS v_m = ROW_COUNT;
        v_n := v_n + v_m;
        IF v_m > 0 THEN
            PERFORM hub_chain_lock();   -- last: see "Lock order" (routing)
            FOR r IN SELECT t.sub, count(*) AS n FROM hub_sweep_tmp t
                      GROUP BY t.sub ORDER BY t.sub LOOP
                PERFORM hub_audit_append('hubd', 'subscription.cancelled',
                    'subscription', r.sub, NULL,
                    jsonb_build_object('cancelled', r.n));
            END LOOP;
        END IF;
    END IF;
    -- of paused or disabled ones: held
    WITH x AS MATERIALIZED (
        SELECT q.ctid AS tid FROM delivery_queue q
         WHERE q.delivery_id = ANY (v_off) AND q.due_at <> 'infinity'
           AND q.lease_until IS NULL
           AND q.subscription_id IN (
               SELECT s.id COLLATE "C" FROM subscriptions s
                WHERE s.status <> 'active' AND s.deleted_at IS NULL)
         FOR UPDATE SKIP LOCKED
    )
    UPDATE delivery_queue q SET due_at = 'infinity'
      FROM x WHERE q.ctid = x.tid;
    GET DIAGNOSTICS v_m = ROW_COUNT;
    RETURN v_n + v_m;
END $$;

-- Record a batch of attempt outcomes in one transaction: one chain-lock
-- acquisition and one audit append for many rows. One outcome per index
-- of the arrays (all of one length): p_id, p_token, p_attempt, p_code
-- (HTTP status or NULL), p_error (or NULL), p_latency (ms), p_outcome
-- ('delivered', 'retry', 'dead', 'gone' or 'release': claimed, never
-- sent, handed back), p_delay (ms) and p_detail: each attempt row's
-- detail as hubd wrote it (see below), or NULL (the array or an element):
-- written here, from the deliveries row. Arrays, not a JSON document: read
-- as they come (array_in), where json_to_recordset parsed the JSON twice
-- (the json cast, then the walk) and looked up each key by name
-- (hub_deliveries_done(text, json) below still takes that form).
-- An outcome whose lease was taken over by another node (token mismatch) is
-- still recorded as an attempt and audited (the bytes did leave), but does
-- not change the delivery. 'gone' (HTTP 410) dead-letters the delivery and
-- disables the subscription. Returns the number of deliveries updated.
-- Health ("Health" below): p_sub, the batch's subscriptions, each once
-- (NULL: read here), and p_failing_after, the failed attempt at which a
-- healthy subscription is failing (hubd: alert_failing_after); the
-- changes come after the attempt rows, in the same transaction.
-- One statement for the outcomes (queue rows; deliveries rows but for
-- delivered outcomes: see delivery_state), then the chain lock, held only
-- for the audit rows (one per attempt, in p_id order; each is also the
-- attempt's record, see delivery_attempts, and a delivered one the
-- delivery's state): held through the whole, it stalled every ingest
-- transaction.
-- Lock order ("Lock order" in the routing section): first the
-- subscriptions of 410 outcomes, then the deliveries rows of our own
-- leases that are not delivered, by id, explicitly (the outcome statement
-- below writes them in hash order, each after its queue row); the chain
-- lock last. Rows of other nodes ('lost' outcomes) are only read.
-- NOTIFY hub_deliveries only when an outcome can make other work due (a
-- released row, or a finished one with a later open delivery of the same
-- subscription and patient): a retry is found by the poll.
CREATE FUNCTION hub_deliveries_done(p_node text, p_id bigint[],
    p_token bigint[], p_attempt int[], p_code int[], p_error text[],
    p_latency int[], p_outcome text[], p_delay bigint[],
    p_detail text[] DEFAULT NULL, p_sub text[] DEFAULT NULL,
    p_failing_after int DEFAULT 3)
RETURNS int LANGUAGE plpgsql
-- as hub_claim_deliveries(): plans for what a batch is (hundreds of rows
-- at times), not for what stale statistics say (one): rows by primary
-- key, joins by hash (a nested loop over the outcomes was quadratic)
SET enable_seqscan = off
SET enable_nestloop = off
SET jit = off
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_rel int := 0;
    v_notify boolean;
    v_last bigint;
    -- one entry per outcome of a delivery that exists, in p_id order
    a_id bigint[];
    a_outcome text[];
    a_mine boolean[];
    a_sub text[];
    a_patient text[];
    a_dtext text[];                 -- each audit row's detail
    a_oid text[];                   -- and its object id ('dlv_' || id)
    a_fin_seq bigint[];             -- event seq of a finished outcome
    a_rest text[];                  -- each audit row's canonical text
    a_k bigint[];                   -- each one's index in the p_ arrays
    -- the subscriptions whose health this flush may change, locked, in id
    -- order ("Health" below)
    v_hsubs text[];
    -- our leases, locked (in id order): the locked versions of their
    -- deliveries rows, the versions of their queue rows, and the index of
    -- each one's outcome in the arrays (its token is the queue row's)
    l_dtid tid[];
    l_qtid tid[];
    l_k bigint[];
    -- the audit rows' time as hub_audit_append_texts() stores it (now():
    -- the transaction's start) and as hub_audit_text() prints it
    v_at_text text := to_char(now() AT TIME ZONE 'UTC',
                              'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
    -- escaped once, not per row (to_json() looks up the type's output
    -- function at every call); so are the four outcomes by the CASE below
    v_node text := coalesce(to_json(p_node)::text, 'null');
BEGIN
    IF coalesce(cardinality(p_id), 0) = 0 THEN
        RETURN 0;
    END IF;
    -- The commit does not wait for its WAL flush, so that the chain lock
    -- (taken below for the audit rows, held to the end of the transaction)
    -- is not held through it: every ingest waits for that lock. Nothing
    -- outside the database is told of an outcome when this commits (the
    -- receiver had the delivery before); what shows outcomes outside waits
    -- for a flush that covers them ("Durability" at the top of this file):
    -- the API and hubctl reads (store_durable()), and a claim that leases a
    -- delivery this outcome made due (its hub_durable() commit follows this
    -- one in the WAL), so per (subscription, patient) order holds after a
    -- crash. A crash before the flush loses the whole transaction, as a
    -- crash before the commit did: the leases expire, the deliveries are
    -- sent again (same webhook-id) and audited then; the chain stays whole
    -- (a later commit cannot be durable without this one).
    PERFORM set_config('synchronous_commit', 'off', true);
    -- the rows this flush will write, locked in the one order (see above)
    -- first the subscriptions: those of 410s, and those whose health an
    -- outcome may change ("Health" below), in one statement, by id. hubd
    -- names the batch's subscriptions, each once (p_sub, from its claims:
    -- one probe each, where the outcomes' ids were a sort of the batch);
    -- other callers (tests, psql) have them read from the deliveries rows.
    IF p_sub IS NULL THEN
        p_sub := ARRAY(SELECT DISTINCT d.subscription_id FROM deliveries d
                        WHERE d.id = ANY (p_id));
    END IF;
    IF 'gone' = ANY (p_outcome) OR 'dead' = ANY (p_outcome)
       OR p_failing_after = ANY (p_attempt) THEN
        -- a failure that may change a health, or a 410 (rare): the
        -- subscriptions of those outcomes read from their deliveries
        -- rows (not locked: they come after), each subscription then by
        -- what its outcomes may do to its health now
        SELECT array_agg(x.id ORDER BY x.id) INTO v_hsubs
          FROM (SELECT s.id
                  FROM subscriptions s
                  LEFT JOIN (
                        SELECT d.subscription_id AS sub,
                               bool_or(u.o = 'retry'
                                       AND u.a = p_failing_after) AS fail,
                               bool_or(u.o = 'dead') AS dead,
                               bool_or(u.o = 'gone') AS gone
                          FROM unnest(p_id, p_outcome, p_attempt)
                               AS u(id, o, a)
                          JOIN deliveries d ON d.id = u.id
                         WHERE (u.o IN ('dead', 'gone')
                                OR (u.o = 'retry' AND u.a = p_failing_after))
                           AND d.id = ANY (p_id)
                         GROUP BY d.subscription_id) b ON b.sub = s.id
                 WHERE s.id = ANY (p_sub)
                   AND (b.gone
                        OR (s.health <> 'healthy'
                            AND 'delivered' = ANY (p_outcome))
                        OR (b.fail AND s.health = 'healthy')
                        OR (b.dead AND s.health NOT IN ('dead-lettering',
                                                        'disabled')))
                 ORDER BY s.id FOR NO KEY UPDATE OF s) x;
    ELSE
        -- the usual flush (deliveries, early retries): only a
        -- subscription that is not healthy may change (back to healthy);
        -- one probe per subscription of the batch, no row locked while
        -- all are healthy
        SELECT array_agg(x.id ORDER BY x.id) INTO v_hsubs
          FROM (SELECT s.id FROM subscriptions s
                 WHERE s.id = ANY (p_sub) AND s.health <> 'healthy'
                   AND 'delivered' = ANY (p_outcome)
                 ORDER BY s.id FOR NO KEY UPDATE) x;
    END IF;
    -- A delivered outcome writes its queue row alone (deleted, below): the
    -- delivery's state is derived from that and from its attempt row
    -- (delivery_state), so its deliveries row is neither locked nor
    -- written (the lock and the update were 35-45k instructions an
    -- outcome). The other outcomes of our leases (retry, dead, gone) write
    -- the deliveries row: those rows are locked here, by id, each locked
    -- version's ctid kept with its queue row's, by which the outcome
    -- statement below writes them (TID scans, not a second probe of each
    -- primary key: 12k instructions per outcome). A deliveries row locked
    -- here cannot move until commit. A queue row can, only by a claim that
    -- took over an expired lease (a new version, a new token): the old
    -- version is then not visible, or fails the token test on the new one,
    -- and the outcome is 'lost' as before.
    -- (the tokens once each: "= ANY (p_token)" tested each row against
    -- every outcome's token, quadratic in the batch)
    IF cardinality(array_remove(array_remove(p_outcome, 'delivered'),
                                'release')) > 0 THEN
        SELECT array_agg(l.dtid), array_agg(l.qtid), array_agg(l.k)
          INTO l_dtid, l_qtid, l_k
          FROM (SELECT d.ctid AS dtid, q.ctid AS qtid, r.k
                  FROM deliveries d
                  JOIN delivery_queue q ON q.delivery_id = d.id
                  JOIN unnest(p_id, p_token, p_outcome) WITH ORDINALITY
                       AS r(id, token, outcome, k)
                       ON r.id = d.id AND r.token = q.lease_token
                 WHERE d.id = ANY (p_id) AND q.delivery_id = ANY (p_id)
                   AND r.outcome IS DISTINCT FROM 'delivered'
                   AND r.outcome IS DISTINCT FROM 'release'
                 ORDER BY d.id FOR NO KEY UPDATE OF d) l;
    END IF;
    -- queue rows need no lock of their own first: every other path that
    -- waits for a queue row holds its deliveries row before it (and a
    -- claim never waits), so no one holds one of ours while waiting for us
    -- (locked here too, they cost 5% more WAL per outcome); and this flush
    -- takes no deliveries row after a queue row
    -- released: claimed but never sent; handed back, uncounted (rare: a
    -- stop, or a lease too short for the queue)
    IF 'release' = ANY (p_outcome) THEN
        UPDATE delivery_queue q SET
            attempts = q.attempts - 1, lease_owner = NULL, lease_until = NULL,
            lease_token = NULL
          FROM unnest(p_id, p_token, p_outcome) AS r(id, token, outcome)
         WHERE r.outcome = 'release' AND q.delivery_id = r.id
           AND q.delivery_id = ANY (p_id) AND q.lease_token = r.token;
        GET DIAGNOSTICS v_rel = ROW_COUNT;
    END IF;

    -- outcomes of our own leases (the queue row still holds our token):
    -- the queue row goes (delivered, dead, gone) or is due again later
    -- (retry); but for a delivered one, the deliveries row takes the new
    -- state; the attempt rows are written; the rest comes back as arrays
    -- (and whether to wake the dispatchers)
    -- Each outcome's values are read from the arrays by its index k (no
    -- table of the outcomes: unnest() of eight arrays copied each element
    -- into a tuplestore of its own, and each step joined that table again)
    WITH del AS (
        -- delivered: the queue row goes, found by primary key with our
        -- token; nothing else is written
        DELETE FROM delivery_queue q
         USING unnest(p_id, p_token, p_outcome) WITH ORDINALITY
               AS r(id, token, outcome, k)
         WHERE q.delivery_id = ANY (p_id) AND q.delivery_id = r.id
           AND q.lease_token = r.token AND r.outcome = 'delivered'
        RETURNING r.k, q.delivery_id AS id, q.event_seq, q.subscription_id,
                  q.patient_hub_id
    ), x AS (
        SELECT x.qtid, x.dtid, x.k
          FROM unnest(l_qtid, l_dtid, l_k) AS x(qtid, dtid, k)
    ), fin AS (
        DELETE FROM delivery_queue q USING x
         WHERE q.ctid = ANY (l_qtid) AND q.ctid = x.qtid
           AND q.lease_token = p_token[x.k] AND p_outcome[x.k] <> 'retry'
        RETURNING x.k, x.dtid, q.attempts, NULL::timestamptz AS due_at
    ), ret AS (
        UPDATE delivery_queue q SET
            due_at = clock_timestamp() + make_interval(secs =>
                     coalesce(p_delay[x.k], 0) / 1000.0),
            lease_owner = NULL, lease_until = NULL, lease_token = NULL
          FROM x
         WHERE q.ctid = ANY (l_qtid) AND q.ctid = x.qtid
           AND q.lease_token = p_token[x.k] AND p_outcome[x.k] = 'retry'
        RETURNING x.k, x.dtid, q.attempts, q.due_at
    ), mine AS (
        SELECT * FROM fin UNION ALL SELECT * FROM ret
    ), upd AS (
        UPDATE deliveries d SET
            status = CASE p_outcome[m.k] WHEN 'retry' THEN 'failed'
                                         ELSE 'dead' END,
            attempts = m.attempts,
            next_attempt_at = coalesce(m.due_at, d.next_attempt_at),
            last_status = p_code[m.k], last_error = p_error[m.k],
            delivered_at = NULL, updated_at = now()
          FROM mine m
         WHERE d.ctid = ANY (l_dtid) AND d.ctid = m.dtid
        -- what the audit rows need of the row, as it is written: no
        -- second probe of deliveries for each of our outcomes
        RETURNING m.k, true AS mine, d.event_id, d.event_seq,
                  d.subscription_id, d.org_id, d.patient_hub_id
    ), o AS (
        SELECT * FROM upd
        UNION ALL
        -- delivered: the queue row has what the audit row needs but the
        -- detail, which hubd wrote; else (no detail given) the deliveries
        -- row is read for it (the event id, the recipient), not locked
        SELECT del.k, true, d.event_id, del.event_seq, del.subscription_id,
               d.org_id, del.patient_hub_id
          FROM del LEFT JOIN deliveries d
               ON d.id = del.id
              AND d.id = ANY (ARRAY(SELECT e.id FROM del e
                                     WHERE p_detail[e.k] IS NULL))
        UNION ALL
        -- outcomes of leases another node took over ('lost'; rare): their
        -- rows read by primary key (ids known once upd and del are done:
        -- none, as a rule); looked for only when upd and del together
        -- hold fewer rows than the outcomes to record (a one-time filter:
        -- else no unnest, no hash of upd and del)
        SELECT r.k, false, d.event_id, d.event_seq, d.subscription_id,
               d.org_id, d.patient_hub_id
          FROM unnest(p_id, p_outcome) WITH ORDINALITY AS r(id, outcome, k)
          JOIN deliveries d ON d.id = r.id
         WHERE (SELECT count(*) FROM upd) + (SELECT count(*) FROM del)
               < cardinality(p_id)
                 - cardinality(array_positions(p_outcome, 'release'))
           AND d.id = ANY (ARRAY(
                   SELECT r2.id
                     FROM unnest(p_id, p_outcome) WITH ORDINALITY
                          AS r2(id, outcome, k)
                    WHERE r2.outcome IS DISTINCT FROM 'release'
                      AND r2.k NOT IN (SELECT u.k FROM upd u)
                      AND r2.k NOT IN (SELECT e.k FROM del e)))
           AND r.outcome IS DISTINCT FROM 'release'
           AND r.k NOT IN (SELECT u.k FROM upd u)
           AND r.k NOT IN (SELECT e.k FROM del e)
    ), t AS (
        SELECT o.k, p_id[o.k] AS id, p_attempt[o.k] AS attempt,
               p_code[o.k] AS code, p_error[o.k] AS error,
               coalesce(p_latency[o.k], 0) AS latency_ms,
               p_outcome[o.k] AS outcome, o.mine, o.event_id, o.event_seq,
               o.subscription_id, o.org_id, o.patient_hub_id AS patient
          FROM o
    )
    -- the arrays in p_id order: one sort (the subquery), which each
    -- aggregate reads in that order (an ORDER BY each was a sort each)
    SELECT array_agg(t.id), array_agg(t.outcome), array_agg(t.mine),
           array_agg(t.subscription_id), array_agg(t.k),
           array_agg(t.patient),
           -- the disclosure: what went to whom, for which patient (ids
           -- only): {event, subscription, recipient, attempt, code, error,
           -- latency_ms, outcome, node} written as jsonb prints it (keys by
           -- length, then bytes; ", " and ": "; strings escaped as jsonb
           -- escapes them) and stored as that text (audit.detail): hubd
           -- writes it (dispatch.c), with the ids the claim returned;
           -- building it here (below, when hubd did not) cost five
           -- to_json() and a read of the deliveries row per outcome
           array_agg(t.dtext), array_agg('dlv_' || t.id),
           array_agg(', "' || v_at_text
                     || '", "hubd", "delivery.attempt", "delivery", "dlv_'
                     || t.id || '", '
                     || coalesce(to_json(t.patient)::text, 'null') || ', '
                     || t.dtext || ']'),
           -- finished: may make a later delivery of its patient due
           array_agg(CASE WHEN t.mine AND t.outcome <> 'retry'
                          THEN t.event_seq END)
      INTO a_id, a_outcome, a_mine,
           a_sub, a_k, a_patient, a_dtext, a_oid, a_rest, a_fin_seq
      FROM (SELECT t.*,
                   CASE WHEN p_detail[t.k] IS NULL THEN
                   '{"code": ' || coalesce(t.code::text, 'null')
                   || ', "node": ' || v_node
                   || ', "error": ' || coalesce(to_json(t.error)::text, 'null')
                   || ', "event": ' || coalesce(to_json(t.event_id)::text, 'null')
                   || ', "attempt": ' || coalesce(t.attempt::text, 'null')
                   || ', "outcome": ' || CASE WHEN NOT t.mine THEN '"lost"'
                                              WHEN t.outcome IN ('delivered', 'retry', 'dead', 'gone')
                                              THEN '"' || t.outcome || '"'
                                              ELSE coalesce(to_json(t.outcome)::text, 'null') END
                   || ', "recipient": ' || coalesce(to_json(t.org_id)::text, 'null')
                   || ', "latency_ms": ' || t.latency_ms
                   || ', "subscription": '
                   || coalesce(to_json(t.subscription_id)::text, 'null')
                   || '}'
                   -- another node's lease: hubd's outcome becomes 'lost'
                   -- (its outcome is a plain token; a '"' in a string value
                   -- is escaped, so only the key matches)
                   WHEN NOT t.mine THEN
                       replace(p_detail[t.k],
                               '"outcome": "' || t.outcome || '", ',
                               '"outcome": "lost", ')
                   ELSE p_detail[t.k] END AS dtext
              FROM t ORDER BY t.k OFFSET 0) t;
    -- an outcome can make a later delivery of the same patient due: probed
    -- until the first one found (an aggregate probed every outcome); a
    -- scalar subquery, never flattened into a join: an index probe per
    -- outcome whatever the plan settings above
    v_notify := v_rel > 0 OR EXISTS (
        SELECT 1 FROM unnest(a_fin_seq, a_sub, a_patient) AS u(seq, sub, pat)
         WHERE u.seq IS NOT NULL
           AND (SELECT 1 FROM delivery_queue o
                 WHERE o.subscription_id = u.sub COLLATE "C"
                   AND o.patient_hub_id = u.pat COLLATE "C"
                   AND o.event_seq > u.seq
                 LIMIT 1) IS NOT NULL);
    IF v_notify THEN
        PERFORM pg_notify('hub_deliveries', '');
    END IF;
    IF a_id IS NULL THEN
        RETURN v_rel;
    END IF;

    PERFORM hub_chain_lock();        -- last: see "Lock order" (routing)
    IF NOT 'gone' = ANY (a_outcome) THEN
        PERFORM hub_audit_append_texts(
            array_fill('hubd'::text, ARRAY[cardinality(a_id)]),
            array_fill('delivery.attempt'::text, ARRAY[cardinality(a_id)]),
            array_fill('delivery'::text, ARRAY[cardinality(a_id)]),
            a_oid, a_patient, a_dtext, a_rest);
    ELSE
        -- 410 Gone disables the subscription; its audit row comes right
        -- after the attempt that disabled it
        WITH u AS (
            SELECT * FROM unnest(a_id, a_outcome, a_mine, a_sub, a_patient,
                                 a_dtext::jsonb[])
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
    IF v_hsubs IS NOT NULL THEN
        PERFORM hub_health_apply(v_hsubs, a_id, a_outcome, a_mine, a_sub,
                                 a_k, a_patient, p_attempt, p_code, p_error,
                                 p_failing_after, p_token);
    END IF;
    RETURN v_rel + (SELECT count(*) FROM unnest(a_mine) m WHERE m)::int;
END $$;

-- hub_deliveries_done() with the outcomes as one JSON array of
--   {"id","token","attempt","code","error","latency_ms","outcome",
--    "delay_ms"}
-- (as the tests, and a person at psql, write them).
CREATE FUNCTION hub_deliveries_done(p_node text, p_results json)
RETURNS int LANGUAGE sql AS $$
    -- a plain aggregate over the function's rows: they come in array order
    SELECT hub_deliveries_done(p_node, array_agg(x.id), array_agg(x.token),
               array_agg(x.attempt), array_agg(x.code), array_agg(x.error),
               array_agg(x.latency_ms), array_agg(x.outcome),
               array_agg(x.delay_ms))
      FROM json_to_recordset(p_results) AS x(id bigint, token bigint,
               attempt int, code int, error text, latency_ms int,
               outcome text, delay_ms bigint)
$$;

-- --- health and alerts -----------------------------------------------------
--
-- Health: what a subscription's delivery outcomes say, one of
--   healthy         (created so; again after any delivered outcome)
--   failing         a delivery of it failed its p_failing_after-th attempt
--                   in a row (hubd: alert_failing_after, default 3; about
--                   35 s into the retry schedule); its later attempts, and
--                   those of deliveries already past it, change nothing
--   dead-lettering  a delivery of it went dead (its schedule spent)
--   disabled        its endpoint answered 410 (the subscription is
--                   disabled); a resume leaves the health until a delivery
--                   succeeds
-- A change is made only by the outcome flush (hub_deliveries_done): the
-- subscriptions an outcome may change are locked first (see "Lock
-- order"; the row's health is checked again once held), and the change is
-- worked out under the chain lock from the health as then committed. Two
-- nodes flushing outcomes of one subscription make each change once,
-- whichever commits first (tests/integration/health_test.c). One bound: a
-- success flushed while another node's flush is making the change to
-- failing (not yet committed) sees the row healthy and changes nothing;
-- the next success makes it healthy. Every retry of one stuck delivery makes at most one
-- change (at its p_failing_after-th attempt), so an endpoint that stays
-- down is told once (failing), then once more if a delivery dies
-- (dead-lettering), then once when one succeeds (healthy).
-- Each change is, in the flush's transaction:
--   an audit row 'subscription.health' (object: the subscription; detail:
--     from, to, reason, the delivery, its attempt, code and error);
--   a hub event 'hub.health' whose sender (events.org_id, source.org) is
--     the subscription's owner: in the owner's pull feed, and routed as any
--     event to the subscriptions of the hub family (hub.* or hub.health) of
--     the owner and of operators (admin scope) only (hub_route_match);
--   a NOTICE 'hub.health ...' (ids only), which hubd's dispatcher logs.
-- Alert loop: a hub event's delivery has no patient (a data event always
-- has one). A change caused by the outcome of such a delivery is recorded
-- (health, audit row, feed, log, gauge) but its event is routed to no
-- subscription: an alert endpoint that fails cannot make alerts that are
-- sent to it, and so on for ever. The digest counts data deliveries only,
-- for the same reason.

-- A new event id as hubd makes them (store_new_id): 48 bits of
-- milliseconds, then 80 random bits, in 26 Crockford base-32 digits.
CREATE FUNCTION hub_new_event_id() RETURNS text
LANGUAGE sql VOLATILE AS $$
    SELECT string_agg(substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ',
                             substring(v.b FROM i * 5 + 1 FOR 5)::int + 1, 1),
                      '' ORDER BY i)
      FROM (SELECT B'00'
                   || (floor(extract(epoch FROM clock_timestamp()) * 1000)
                       ::bigint)::bit(48)
                   || ('x' || encode(substring(r FROM 1 FOR 6)
                                     || substring(r FROM 10 FOR 4), 'hex'))
                      ::bit(80) AS b
              FROM (SELECT uuid_send(gen_random_uuid()) AS r) u) v,
           generate_series(0, 25) AS i
$$;

-- Store a hub event (hub.health, hub.digest) about p_org's subscriptions:
-- the envelope (id, type, source, occurred_at) around p_body (one member,
-- its body), sent by p_org; routed (hub_route_events) when p_route. The
-- caller holds the chain lock (event seqs are taken under it). Returns the
-- event's seq.
CREATE FUNCTION hub_publish(p_type text, p_org text, p_msg text,
    p_body jsonb, p_route boolean)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_seq bigint := nextval('events_seq');
    v_id text := hub_new_event_id();
    v_at text := to_char(now() AT TIME ZONE 'UTC',
                         'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
BEGIN
    INSERT INTO events (seq, id, message_id, org_id, type, patient_hub_id,
                        occurred_at, received_at, body)
    VALUES (v_seq, v_id, 0, p_org, p_type, NULL, now(), now(),
            (jsonb_build_object('id', v_id, 'type', p_type,
                 'source', jsonb_build_object('org', p_org, 'format', 'hub',
                                              'message_id', p_msg,
                                              'received_at', v_at),
                 'occurred_at', v_at) || p_body)::text);
    IF p_route THEN
        PERFORM hub_route_events(ARRAY[v_seq]);
    END IF;
    RETURN v_seq;
END $$;

-- The health changes of one flush (hub_deliveries_done, which locked
-- p_subs, the subscriptions that may change, and holds the chain lock):
-- its outcomes in p_id order (the a_ arrays there) walked once, each
-- subscription's health changed as "Health" above says, every change
-- recorded and published in that order.
CREATE FUNCTION hub_health_apply(p_subs text[], a_id bigint[],
    a_outcome text[], a_mine boolean[], a_sub text[], a_k bigint[],
    a_patient text[], p_attempt int[], p_code int[], p_error text[],
    p_failing_after int, p_token bigint[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    h text[];                       -- health of p_subs[j], as it goes
    t bigint[];                     -- their health_token, as it goes
    moved boolean[];                -- whether p_subs[j] changed at all
    own text[];                     -- their owners
    j int;
    v_to text;
    v_why text;
    -- the changes, in order
    c_sub text[] := '{}';
    c_org text[] := '{}';
    c_detail jsonb[] := '{}';
    c_route boolean[] := '{}';
    v_last bigint;
    v_n int;
BEGIN
    SELECT array_agg(s.health ORDER BY s.id), array_agg(s.org_id ORDER BY s.id),
           array_agg(coalesce(s.health_token, 0) ORDER BY s.id)
      INTO h, own, t
      FROM subscriptions s WHERE s.id = ANY (p_subs);
    moved := array_fill(false, ARRAY[cardinality(p_subs)]);
    FOR i IN 1 .. coalesce(cardinality(a_id), 0) LOOP
        CONTINUE WHEN NOT a_mine[i];
        j := array_position(p_subs, a_sub[i]);
        CONTINUE WHEN j IS NULL;
        v_to := NULL;
        CASE a_outcome[i]
        WHEN 'delivered' THEN
            IF h[j] <> 'healthy' THEN
                v_to := 'healthy'; v_why := 'delivered';
                t[j] := greatest(t[j], p_token[a_k[i]]);
            END IF;
        WHEN 'retry' THEN
            -- (not a failure claimed before the success that made it
            -- healthy: two nodes flush in their own order; nor one of the
            -- hub's own egress proxy, proxy_*: the partner is not failing)
            IF h[j] = 'healthy' AND p_attempt[a_k[i]] = p_failing_after
               AND p_token[a_k[i]] > t[j]
               AND coalesce(p_error[a_k[i]], '') NOT LIKE 'proxy\_%' THEN
                v_to := 'failing'; v_why := 'failed_attempts';
            END IF;
        WHEN 'dead' THEN
            IF h[j] NOT IN ('dead-lettering', 'disabled') THEN
                v_to := 'dead-lettering'; v_why := 'dead_letter';
            END IF;
        WHEN 'gone' THEN
            IF h[j] <> 'disabled' THEN
                v_to := 'disabled'; v_why := 'gone';
            END IF;
        ELSE
        END CASE;
        CONTINUE WHEN v_to IS NULL;
        c_sub := c_sub || a_sub[i];
        c_org := c_org || own[j];
        c_route := c_route || (a_patient[i] IS NOT NULL);
        c_detail := c_detail || jsonb_strip_nulls(jsonb_build_object(
            'subscription', a_sub[i], 'from', h[j], 'to', v_to,
            'reason', v_why, 'delivery', 'dlv_' || a_id[i],
            'attempt', p_attempt[a_k[i]], 'code', p_code[a_k[i]],
            'error', p_error[a_k[i]],
            'alert_delivery', CASE WHEN a_patient[i] IS NULL THEN true END));
        RAISE NOTICE 'hub.health subscription=% from=% to=% reason=% delivery=dlv_%',
            a_sub[i], h[j], v_to, v_why, a_id[i];
        h[j] := v_to;
        moved[j] := true;
    END LOOP;
    v_n := cardinality(c_sub);
    IF v_n = 0 THEN
        RETURN;
    END IF;
    -- (back where it was, healthy>failing>healthy in one flush: changed
    -- too, since now)
    UPDATE subscriptions s SET health = x.health, health_since = now(),
                               health_token = nullif(x.token, 0)
      FROM unnest(p_subs, h, moved, t) AS x(id, health, moved, token)
     WHERE s.id = x.id AND x.moved;
    PERFORM hub_chain_lock();
    v_last := hub_audit_append_many(
        array_fill('hubd'::text, ARRAY[v_n]),
        array_fill('subscription.health'::text, ARRAY[v_n]),
        array_fill('subscription'::text, ARRAY[v_n]),
        c_sub, array_fill(NULL::text, ARRAY[v_n]), c_detail);
    -- each change's event names its audit row (the rows are consecutive)
    FOR i IN 1 .. v_n LOOP
        PERFORM hub_publish('hub.health', c_org[i],
            'audit:' || (v_last - v_n + i),
            jsonb_build_object('health', c_detail[i] - 'alert_delivery'),
            c_route[i]);
    END LOOP;
END $$;

-- Digests: every alert_digest_s (hubd; 3600, 0: none) one 'hub.digest'
-- event per organization, counting per subscription of its own what the
-- dispatchers recorded since the last digest (the 'delivery.attempt'
-- audit rows of data deliveries after audit_seq): delivered, failed
-- (attempts to be retried) and dead (dead letters, 410s included); 'lost'
-- outcomes are counted by the node whose lease they were. Sent for an
-- organization whose subscriptions failed or dead-lettered, or (p_all)
-- had any attempt. One row: the node that takes its lock (SKIP LOCKED)
-- once the interval is over makes the digests, and the others find it
-- locked or recent: one digest per interval whatever the number of nodes.
-- Lock order: this row, then the chain lock (at the audit rows); the
-- subscriptions are read, not locked.
CREATE TABLE hub_digests (
    one         boolean PRIMARY KEY DEFAULT true CHECK (one),
    audit_seq   bigint NOT NULL DEFAULT 0,      -- counted up to here
    at          timestamptz NOT NULL DEFAULT now()  -- the last digest's end
);
INSERT INTO hub_digests DEFAULT VALUES;

-- The digests due (p_every_ms since the last one). Returns how many
-- events it made (0: not due, another node at it, or nothing to say).
CREATE FUNCTION hub_digest(p_every_ms bigint, p_all boolean)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    r hub_digests;
    v_to bigint;
    v_org text[];
    v_subs jsonb[];
    v_last bigint;
    v_n int;
    v_from text;
    v_at text := to_char(now() AT TIME ZONE 'UTC',
                         'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
BEGIN
    SELECT * INTO r FROM hub_digests FOR UPDATE SKIP LOCKED;
    IF NOT FOUND OR p_every_ms <= 0
       OR now() < r.at + make_interval(secs => p_every_ms / 1000.0) THEN
        RETURN 0;
    END IF;
    v_from := to_char(r.at AT TIME ZONE 'UTC',
                      'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
    -- audit seqs are taken under the chain lock, held to commit: every
    -- row up to the last one this statement sees is committed
    v_to := coalesce((SELECT max(seq) FROM audit), 0);
    WITH c AS (
        SELECT a.detail::jsonb AS d FROM audit a
         WHERE a.seq > r.audit_seq AND a.seq <= v_to
           AND a.action = 'delivery.attempt'
           AND a.patient_hub_id IS NOT NULL     -- data deliveries only
    ), n AS (
        SELECT c.d->>'subscription' AS sub,
               count(*) FILTER (WHERE c.d->>'outcome' = 'delivered')
                   AS delivered,
               count(*) FILTER (WHERE c.d->>'outcome' = 'retry') AS failed,
               count(*) FILTER (WHERE c.d->>'outcome' IN ('dead', 'gone'))
                   AS dead
          FROM c GROUP BY 1
    ), o AS (
        SELECT s.org_id,
               jsonb_agg(jsonb_build_object('subscription', s.id,
                             'health', s.health, 'delivered', n.delivered,
                             'failed', n.failed, 'dead', n.dead)
                         ORDER BY s.id) AS subs,
               sum(n.failed + n.dead) AS bad,
               sum(n.delivered + n.failed + n.dead) AS total
          FROM n JOIN subscriptions s ON s.id = n.sub
         GROUP BY s.org_id
    )
    SELECT array_agg(o.org_id ORDER BY o.org_id),
           array_agg(o.subs ORDER BY o.org_id)
      INTO v_org, v_subs
      FROM o WHERE o.bad > 0 OR (p_all AND o.total > 0);
    UPDATE hub_digests SET audit_seq = v_to, at = now();
    v_n := coalesce(cardinality(v_org), 0);
    IF v_n = 0 THEN
        RETURN 0;
    END IF;
    PERFORM hub_chain_lock();
    v_last := hub_audit_append_many(
        array_fill('hubd'::text, ARRAY[v_n]),
        array_fill('hub.digest'::text, ARRAY[v_n]),
        array_fill('organization'::text, ARRAY[v_n]),
        v_org, array_fill(NULL::text, ARRAY[v_n]),
        ARRAY(SELECT jsonb_build_object('from', v_from, 'to', v_at,
                                        'audit_from', r.audit_seq,
                                        'audit_to', v_to,
                                        'subscriptions', jsonb_array_length(x))
                FROM unnest(v_subs) WITH ORDINALITY AS u(x, k) ORDER BY k));
    FOR i IN 1 .. v_n LOOP
        PERFORM hub_publish('hub.digest', v_org[i],
            'audit:' || (v_last - v_n + i),
            jsonb_build_object('digest', jsonb_build_object(
                'from', v_from, 'to', v_at, 'subscriptions', v_subs[i])),
            true);
    END LOOP;
    RETURN v_n;
END $$;

-- Replays: a finished delivery (delivered, dead) is open again, pending
-- now with its attempts reset; a failed one (open, not leased) is due now,
-- attempts reset. A leased delivery is not replayed (it is being sent).
-- Locks the deliveries row, then its queue row, then (at the audit row) the
-- chain lock: see "Lock order" (routing). The state is read (delivery_state)
-- once both are held: a delivered outcome changes the queue row alone. A
-- delivered one's last code, error and time, derived until then, are kept
-- in the row, as they were shown.
-- Before them, the subscription FOR SHARE (first in "Lock order"): a
-- pause, resume or delete waits for the replay, or the replay for it, so
-- that the queue row is written held as the status it reads
-- ("Held rows"). Into a deleted subscription the replay is recorded
-- (audited, counted) and the delivery is cancelled at once: it is never
-- sent, and no queue row is left behind.
CREATE FUNCTION hub_replay_delivery(p_actor text, p_org text, p_id bigint)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    d deliveries;
    v delivery_state;
    v_sub text;
BEGIN
    SELECT CASE WHEN s.deleted_at IS NOT NULL THEN 'deleted'
                ELSE s.status END INTO v_sub
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
    UPDATE deliveries SET status = CASE WHEN v_sub = 'deleted'
                                        THEN 'cancelled' ELSE 'pending' END,
           attempts = 0,
           next_attempt_at = clock_timestamp(), replays = replays + 1,
           last_status = v.last_status, last_error = v.last_error,
           delivered_at = v.delivered_at, updated_at = now()
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
            SET due_at = excluded.due_at, attempts = 0;
    END IF;
    PERFORM hub_audit_append(p_actor, 'delivery.replayed', 'delivery',
        'dlv_' || d.id, d.patient_hub_id,
        jsonb_build_object('event', d.event_id,
                           'subscription', d.subscription_id));
    PERFORM pg_notify('hub_deliveries', '');
    RETURN true;
END $$;

-- A test event for one webhook subscription (POST
-- /v1/subscriptions/{id}/test, hubctl sub test): 'hub.test', no patient,
-- a body that names only the subscription and who asked, so that a partner
-- sees its endpoint, its TLS and its signature check work before any data
-- flows. It goes to that subscription alone, whatever its topics and
-- filters, as a delivery like any other (signed, retried on the schedule,
-- listed in /v1/deliveries, its outcome moving the subscription's health;
-- an alert loop cannot start: it has no patient, see "Alert loop"); held
-- until resume when the subscription is paused or disabled. Lock order as
-- a replay: the subscription (FOR SHARE: a pause or delete waits for it),
-- then the chain lock (hub_publish takes the event's seq under it).
-- Returns {"event","delivery","subscription","subscription_status"}, or
-- {"mode":"pull"} for a pull subscription (nothing to send to), or NULL
-- when p_org (NULL: an operator) has no such live subscription.
CREATE FUNCTION hub_sub_test(p_actor text, p_org text, p_sub text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    s subscriptions;
    v_seq bigint;
    v_event text;
    v_dlv bigint;
    v_due timestamptz;
    v_endpoint text;
BEGIN
    SELECT * INTO s FROM subscriptions
     WHERE id = p_sub AND deleted_at IS NULL
       AND (p_org IS NULL OR org_id = p_org)
       FOR SHARE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF s.mode <> 'webhook' THEN
        RETURN jsonb_build_object('mode', s.mode);
    END IF;
    PERFORM hub_chain_lock();
    v_seq := hub_publish('hub.test', s.org_id, 'test:' || s.id,
                         jsonb_build_object('test', jsonb_build_object(
                             'subscription', s.id, 'requested_by', p_actor)),
                         false);
    SELECT e.id INTO v_event FROM events e WHERE e.seq = v_seq;
    v_endpoint := hub_url_endpoint(s.url);
    INSERT INTO deliveries (event_seq, event_id, subscription_id, org_id,
                            patient_hub_id, url, endpoint)
    VALUES (v_seq, v_event, s.id, s.org_id, NULL, s.url, v_endpoint)
    RETURNING id, next_attempt_at INTO v_dlv, v_due;
    INSERT INTO delivery_queue (delivery_id, subscription_id, patient_hub_id,
                                event_seq, endpoint, due_at)
    VALUES (v_dlv, s.id, NULL, v_seq, v_endpoint,
            CASE WHEN s.status = 'active' THEN v_due ELSE 'infinity' END);
    PERFORM hub_audit_append(p_actor, 'subscription.tested', 'subscription',
        s.id, NULL, jsonb_build_object('event', v_event,
                                       'delivery', 'dlv_' || v_dlv));
    PERFORM pg_notify('hub_deliveries', '');
    RETURN jsonb_build_object('event', v_event, 'delivery', 'dlv_' || v_dlv,
                              'subscription', s.id,
                              'subscription_status', s.status);
END $$;

CREATE FUNCTION hub_replay_range(p_actor text, p_org text, p_sub text,
    p_from timestamptz, p_to timestamptz, p_status text[], p_max int)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_n int;
    r record;
    v_ids bigint[];
    v_sub text;
BEGIN
    -- the subscription first, FOR SHARE (see hub_replay_delivery); one of
    -- another organization (p_org NULL: an operator's) is not there: NULL,
    -- nothing locked or audited (an audit row of a partner's replay of
    -- another's subscription would account a disclosure that never was)
    SELECT CASE WHEN s.deleted_at IS NOT NULL THEN 'deleted'
                ELSE s.status END INTO v_sub
      FROM subscriptions s
     WHERE s.id = p_sub AND (p_org IS NULL OR s.org_id = p_org) FOR SHARE;
    IF NOT FOUND THEN
        RETURN NULL;
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
               delivered_at = pick.delivered_at, updated_at = now()
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
            SET due_at = excluded.due_at, attempts = 0
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

-- One page of deliveries as JSON (newest first, before cursor p_before, 0 =
-- from the newest), optionally one subscription and/or one status; p_org
-- NULL: operator. With each delivery its last attempts (at most 5). The
-- state as delivery_state derives it. "next" is the cursor for before=, a
-- decimal string as the feed's and the audit's are (null: no more).
CREATE FUNCTION hub_deliveries_page(p_org text, p_sub text, p_status text,
    p_before bigint, p_limit int)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('deliveries', coalesce(jsonb_agg(j ORDER BY id
                                                     DESC), '[]'),
                              'next', min(id)::text)::text
      FROM (SELECT d.id, jsonb_strip_nulls(jsonb_build_object(
                'id', 'dlv_' || d.id, 'event', d.event_id,
                'subscription', d.subscription_id, 'org', d.org_id,
                'url', d.url, 'status', d.status, 'attempts', d.attempts,
                'replays', d.replays,
                -- when an open one is tried next; none for a finished one
                -- (as hubctl prints "-"): a delivered or dead one showed
                -- its creation time, a next attempt long past (F310)
                'next_attempt_at', CASE WHEN d.status IN ('pending',
                    'delivering', 'failed') THEN d.next_attempt_at END,
                'last_status', d.last_status, 'last_error', d.last_error,
                'created_at', d.created_at, 'delivered_at', d.delivered_at,
                'history', (SELECT jsonb_agg(jsonb_strip_nulls(
                                jsonb_build_object('at', a.at,
                                    'attempt', (a.detail->'attempt'),
                                    'code', a.detail->'code',
                                    'error', a.detail->'error',
                                    'latency_ms', coalesce(
                                        a.detail->'latency_ms', '0'),
                                    'outcome', a.detail->'outcome'))
                                    ORDER BY a.seq)
                              FROM hub_attempt_rows(d.id, d.patient_hub_id,
                                                    5, false) a))) j
              FROM delivery_state d
             WHERE (p_org IS NULL OR d.org_id = p_org)
               AND (p_sub IS NULL OR d.subscription_id = p_sub)
               AND (p_status IS NULL OR d.status = p_status)
               AND (coalesce(p_before, 0) = 0 OR d.id < p_before)
             ORDER BY d.id DESC
             LIMIT least(greatest(coalesce(p_limit, 100), 1), 1000)) p
$$;

-- --- retention ---------------------------------------------------------------

-- One bounded step of the retention (hub/prune.c runs the steps, each in a
-- transaction of its own, until done): looks at the next p_limit rows of
-- p_table after cursor p_after (NULL: from the start) and deletes those
-- older than p_days days (p_dry: only counts them). Returns how many went,
-- the cursor for the next step and whether the table is done. Nothing here
-- reads more than one window of rows, so memory stays bounded however
-- large the backlog, and no step takes the chain lock (ingest waits for
-- it): the audit rows pruned are the oldest and never the newest, which
-- is all an append reads.
--   deliveries  finished ones (no delivery_queue row: delivered, dead or
--               cancelled) whose last write (routing, a failure, a dead
--               letter, a cancel, a replay) is older: a delivered outcome
--               writes no row, so it came at most the retry window later.
--               Walked by id.
--   events      older by received_at, unless a deliveries row names the
--               event (an open delivery still sends it; a finished one may
--               be replayed): those go after their deliveries. Their
--               event_routes go with them. Walked by seq.
--   messages    raw messages and quarantine, older by received_at. Walked
--               in physical order over the chunks message_chunks says may
--               hold one (a TID range of at most p_limit rows per step,
--               and at most p_limit / 8 + 32 pages of chunks), each
--               chunk's time set anew once read to its end (the oldest
--               row kept, at most the time read less a day). Cursor: the
--               next chunk, or within one the last tuple id read and the
--               chunk's time so far.
--   audit       the oldest rows, a prefix of the chain, up to the first
--               newer row and never the newest; the retention anchor moves
--               to the last one deleted in the same transaction.
-- A walk ends when a window is short or holds a row newer than the cutoff
-- (rows come in about time order; messages: past the last chunk due);
-- kept rows (open deliveries) are walked past. p_now: the time the step
-- takes as now (NULL: now()), so that a test or a benchmark can run days
-- of retention in seconds.
CREATE FUNCTION hub_prune_step(p_table text, p_days int, p_after text,
    p_limit int, p_dry boolean, p_deliveries_days int,
    OUT pruned bigint, OUT next_after text, OUT done boolean,
    p_now timestamptz DEFAULT NULL)
LANGUAGE plpgsql
-- every statement here reads by key (the windows, the deletes of their
-- ids, the probes of delivery_queue and deliveries) or by tuple id: a
-- sequential scan would read the whole backlog, which the planner chose
-- for the delete of a window of 50 deliveries among 3,000 never analyzed
-- (seen with auto_explain: 2,950 rows read and dropped by the filter)
SET enable_seqscan = off
AS $$
DECLARE
    v_now timestamptz := coalesce(p_now, now());
    v_cutoff timestamptz := v_now - make_interval(days => p_days);
    -- a dry run of events counts as gone the events whose every deliveries
    -- row its deliveries step would have removed (p_deliveries_days: that
    -- retention, 0: none)
    v_dcut timestamptz := CASE WHEN p_dry AND p_deliveries_days > 0
        THEN v_now - make_interval(days => p_deliveries_days) END;
    v_after bigint;
    v_ids bigint[];
    v_last bigint;
    v_n bigint;
    v_newer boolean;
    v_tid tid;
    v_tids tid[];
    v_last_tid tid;
    v_n2 bigint;
    v_hash text;
    v_at timestamptz;
    v_head bigint;
    v_row record;
    -- messages' walk (message_chunks)
    v_stale boolean;
    v_walked timestamptz;
    v_known integer;
    v_default timestamptz;
    v_nch bigint;
    v_cur bigint;
    v_next bigint;
    v_keep timestamptz;
    v_kept timestamptz;
    v_budget integer;
    v_pages integer;
BEGIN
    IF p_days IS NULL OR p_days < 1 OR p_limit IS NULL OR p_limit < 1 THEN
        RAISE EXCEPTION 'hub_prune_step: days and limit must be positive'
              USING ERRCODE = '22023';
    END IF;
    pruned := 0;
    IF p_table = 'deliveries' THEN
        v_after := coalesce(p_after, '0')::bigint;
        SELECT array_agg(w.id ORDER BY w.id) FILTER (WHERE w.expired),
               max(w.id), count(*), bool_or(w.created_at >= v_cutoff)
          INTO v_ids, v_last, v_n, v_newer
          FROM (SELECT d.id, d.created_at,
                       d.updated_at < v_cutoff
                       AND NOT EXISTS (SELECT 1 FROM delivery_queue q
                                        WHERE q.delivery_id = d.id) AS expired
                  FROM deliveries d
                 WHERE d.id > v_after
                 ORDER BY d.id
                 LIMIT p_limit) w;
        IF p_dry OR v_ids IS NULL THEN
            pruned := coalesce(cardinality(v_ids), 0);
        ELSE
            -- checked again on the rows as locked: a replay that got there
            -- first wrote updated_at and a queue row
            DELETE FROM deliveries d
             WHERE d.id = ANY (v_ids) AND d.updated_at < v_cutoff
               AND NOT EXISTS (SELECT 1 FROM delivery_queue q
                                WHERE q.delivery_id = d.id);
            GET DIAGNOSTICS pruned = ROW_COUNT;
        END IF;
        next_after := coalesce(v_last, v_after)::text;
        done := v_n < p_limit OR v_newer;
    ELSIF p_table = 'events' THEN
        v_after := coalesce(p_after, '0')::bigint;
        SELECT array_agg(w.seq ORDER BY w.seq) FILTER (WHERE w.expired),
               max(w.seq), count(*), bool_or(NOT w.old)
          INTO v_ids, v_last, v_n, v_newer
          FROM (SELECT e.seq, e.received_at < v_cutoff AS old,
                       e.received_at < v_cutoff
                       AND NOT EXISTS (
                           SELECT 1 FROM deliveries d
                            WHERE d.event_seq = e.seq
                              AND NOT (v_dcut IS NOT NULL
                                  AND d.updated_at < v_dcut
                                  AND NOT EXISTS (
                                      SELECT 1 FROM delivery_queue q
                                       WHERE q.delivery_id = d.id)))
                           AS expired
                  FROM events e
                 WHERE e.seq > v_after
                 ORDER BY e.seq
                 LIMIT p_limit) w;
        IF p_dry OR v_ids IS NULL THEN
            pruned := coalesce(cardinality(v_ids), 0);
        ELSE
            -- nothing makes a deliveries row for an old event (routing
            -- makes them for new events, a replay reopens an existing row)
            WITH gone AS (
                DELETE FROM events e
                 WHERE e.seq = ANY (v_ids)
                   AND NOT EXISTS (SELECT 1 FROM deliveries d
                                    WHERE d.event_seq = e.seq)
                RETURNING e.seq)
            SELECT array_agg(seq ORDER BY seq) INTO v_ids FROM gone;
            pruned := coalesce(cardinality(v_ids), 0);
            -- the routes, org by org over the window's range of seqs (the
            -- key is (org_id, event_seq): one descent per organization;
            -- the list is a filter, "+ 0", not a descent per element)
            IF pruned > 0 THEN
                DELETE FROM event_routes r
                 USING organizations o
                 WHERE r.org_id = o.id
                   AND r.event_seq >= v_ids[1]
                   AND r.event_seq <= v_ids[cardinality(v_ids)]
                   AND r.event_seq + 0 = ANY (v_ids);
            END IF;
        END IF;
        next_after := coalesce(v_last, v_after)::text;
        done := v_n < p_limit OR v_newer;
    ELSIF p_table = 'messages' THEN
        -- the map is of this file (else rows moved: read it all again)
        SELECT w.filenode IS DISTINCT FROM pg_relation_filenode('messages'),
               w.walked_at
          INTO v_stale, v_walked FROM message_chunks_walk w;
        IF v_stale AND NOT p_dry THEN
            DELETE FROM message_chunks;
            UPDATE message_chunks_walk
               SET filenode = pg_relation_filenode('messages'),
                   walked_at = NULL;
            v_stale := false;
            v_walked := NULL;
        END IF;
        -- a stale map, as a dry run reads it: empty
        SELECT coalesce(max(c.chunk) + 1, 0) INTO v_known
          FROM message_chunks c WHERE NOT v_stale;
        v_default := CASE WHEN v_known = 0 OR v_walked IS NULL
                          THEN '-infinity'
                          ELSE v_walked - interval '1 day' END;
        v_nch := (pg_relation_size('messages')
                  / current_setting('block_size')::bigint + 31) / 32;
        IF p_after IS NULL THEN
            v_cur := 0;
        ELSIF strpos(p_after, '|') > 0 THEN
            v_tid := split_part(p_after, '|', 1)::tid;
            v_keep := to_timestamp(split_part(p_after, '|', 2)::bigint);
            v_cur := (v_tid::text::point)[0]::bigint / 32;
        ELSE
            v_cur := p_after::bigint;
        END IF;
        v_budget := p_limit;
        v_pages := 0;
        done := false;
        LOOP
            IF v_tid IS NULL THEN
                -- the next chunk due: in the map, or past it when the
                -- default is due
                SELECT min(c.chunk) INTO v_next FROM message_chunks c
                 WHERE c.chunk >= v_cur AND c.oldest < v_cutoff
                   AND NOT v_stale;
                IF v_default < v_cutoff THEN
                    v_next := least(v_next, greatest(v_cur, v_known));
                END IF;
                IF v_next IS NULL OR v_next >= v_nch THEN
                    done := true;
                    v_cur := v_nch;
                    EXIT;
                END IF;
                v_cur := v_next;
                EXIT WHEN v_pages > 0 AND v_pages + 32 > p_limit / 8 + 32;
                v_tid := format('(%s,0)', v_cur * 32)::tid;
                -- a row that comes later was received after now, less a day
                v_keep := date_trunc('second', v_now - interval '1 day');
                v_pages := v_pages + 32;
            END IF;
            SELECT array_agg(m.ctid) FILTER (WHERE m.received_at < v_cutoff),
                   max(m.ctid), count(*),
                   min(m.received_at) FILTER (WHERE m.received_at >= v_cutoff)
              INTO v_tids, v_last_tid, v_n, v_kept
              FROM (SELECT ctid, received_at FROM messages
                     WHERE ctid > v_tid
                       AND ctid < format('(%s,0)', v_cur * 32 + 32)::tid
                     LIMIT v_budget) m;
            IF p_dry OR v_tids IS NULL THEN
                pruned := pruned + coalesce(cardinality(v_tids), 0);
            ELSE
                DELETE FROM messages
                 WHERE ctid = ANY (v_tids) AND received_at < v_cutoff;
                GET DIAGNOSTICS v_n2 = ROW_COUNT;
                pruned := pruned + v_n2;
            END IF;
            v_keep := least(v_keep, date_trunc('second', v_kept));
            IF v_n < v_budget THEN
                -- the chunk read to its end: its time, the oldest kept
                IF NOT p_dry THEN
                    INSERT INTO message_chunks (chunk, oldest)
                    VALUES (v_cur, v_keep)
                    ON CONFLICT (chunk) DO UPDATE SET oldest = EXCLUDED.oldest;
                END IF;
                v_cur := v_cur + 1;
                v_tid := NULL;
            ELSE
                v_tid := v_last_tid;
            END IF;
            v_budget := v_budget - v_n::integer;
            EXIT WHEN v_budget <= 0;
        END LOOP;
        IF done AND NOT p_dry THEN
            -- the chunks past the map that were not due keep the default;
            -- those that come after this walk are newer than it
            INSERT INTO message_chunks (chunk, oldest)
            SELECT g, v_default FROM generate_series(v_known, v_nch - 1) g
            ON CONFLICT (chunk) DO NOTHING;
            UPDATE message_chunks_walk SET walked_at = v_now;
        END IF;
        next_after := CASE WHEN v_tid IS NULL THEN v_cur::text
                           ELSE format('%s|%s', v_tid,
                                       extract(epoch FROM v_keep)::bigint)
                      END;
    ELSIF p_table = 'audit' THEN
        -- the anchor row is locked (FOR UPDATE) by a real run, so two runs
        -- never move it at once; a dry run reads it and counts on from its
        -- own cursor
        IF p_dry THEN
            SELECT a.seq, a.hash INTO v_after, v_hash FROM audit_anchor a;
        ELSE
            SELECT a.seq, a.hash INTO v_after, v_hash FROM audit_anchor a
               FOR UPDATE;
        END IF;
        v_after := greatest(v_after, coalesce(p_after, '0')::bigint);
        SELECT max(a.seq) INTO v_head FROM audit a;
        v_n := 0;
        FOR v_row IN SELECT a.seq, a.hash, a.at FROM audit a
                      WHERE a.seq > v_after AND a.seq < v_head
                      ORDER BY a.seq LIMIT p_limit LOOP
            EXIT WHEN v_row.at >= v_cutoff;
            v_last := v_row.seq;
            v_hash := v_row.hash;
            v_at := v_row.at;
            v_n := v_n + 1;
        END LOOP;
        IF p_dry OR v_last IS NULL THEN
            pruned := v_n;
        ELSE
            DELETE FROM audit a WHERE a.seq > v_after AND a.seq <= v_last;
            GET DIAGNOSTICS pruned = ROW_COUNT;
            UPDATE audit_anchor
               SET seq = v_last, hash = v_hash, at = v_at, moved_at = now();
        END IF;
        next_after := coalesce(v_last, v_after)::text;
        done := v_n < p_limit;
    ELSE
        RAISE EXCEPTION 'hub_prune_step: unknown table'
              USING ERRCODE = '22023';
    END IF;
END $$;

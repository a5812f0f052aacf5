-- 014_retry_duplicates.sql - hubd's own retry of a committed batch audits
-- and keeps its duplicates once (F1441, F1321; 013 did it for the
-- accepted messages, F1122).
--
-- A batch whose commit went through but whose answer came past
-- db_commit_timeout is sent again whole (hub/ingest.c), perhaps with new
-- jobs after it. 013 tells an accepted message's retry by the token kept
-- in its row. A duplicate leaves no row of its own: a key sent twice in
-- one batch (a sender that re-sent before its ACK), or a sender's real
-- re-send that the batch held, found the first message's row, whose token
-- is not its own, and was audited 'message.duplicate' again and, with
-- other bytes, kept in quarantine again (hub_dup_kept): the chain recorded
-- a re-send the sender did not make.
--
-- Each duplicate's retry token (hubd's, the same at each retry of its
-- job, never given again: 011) is now recorded when it is first met, in
-- duplicate_tokens, as a refused message's is in quarantine_tokens (011).
-- Met again, it is hubd's own retry of that very duplicate: answered as
-- then (a duplicate, the first's message id, event ids and reply, kept as
-- then) with no audit row and no second kept copy. A sender's re-send is
-- a new job with a new token: audited and kept each time it is sent. A
-- duplicate without a token, or without its own received_at (hubd always
-- gives one), is audited each time, as before.
-- Only the duplicate path writes or reads the table: the common batch
-- (no duplicate) runs what it ran (tests/bench/README.md).
-- A refused message under an accepted key (its key read, the rest
-- refused) is such a duplicate too: hub_ingest_once() no longer records
-- its token in quarantine_tokens, where the retry found it and answered
-- it as refused, its own AE in place of the first try's AA.
-- hub_ingest_fast() keeps its parameters (the prepared statement
-- hub_ingest_fast_013 stays valid) and is made again whole, as
-- hub_ingest_batch_serial() and hub_ingest_once() are; otherwise they are
-- 013's.

-- One row per duplicate met with a token: its received_at (as hubd sent
-- it, the same at each retry), the token, and the accepted message it
-- duplicates. Kept 7 days from received_at (the duplicate path forgets
-- older ones, by the key's first column): a job lives in one hubd's
-- memory, retried until it commits or hubd stops.
CREATE TABLE duplicate_tokens (
    received_at     timestamptz NOT NULL,
    token           bigint NOT NULL,
    message_id      bigint NOT NULL,
    PRIMARY KEY (received_at, token)
);

-- As 013's, with a duplicate's own retry told by duplicate_tokens (above).
CREATE OR REPLACE FUNCTION hub_ingest_fast(p_org text[], p_fmt text[], p_key text[],
    p_sha text[], p_at text[], p_ok boolean[], p_err jsonb[], p_raw bytea[],
    p_reply bytea[], p_part int[], p_emsg int[], p_eid text[], p_etype text[],
    p_epid text[], p_ecur text[], p_eprep boolean[], p_eocc text[],
    p_ebody text[], p_ik int[], p_isys text[], p_ival text[],
    p_ifirst int[], p_mevids text[], p_epos int[], p_ecanon boolean[],
    p_adetail text[], p_atb timestamptz[], p_eoccb timestamptz[],
    p_token bigint[])
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
    m_own boolean[];            -- a duplicate of its own first try (the
                                -- same retry token): not audited again;
                                -- NULL: none is
    m_again boolean[];          -- a duplicate met again under its own
                                -- token (duplicate_tokens): its first try
                                -- committed, answered as then, not
                                -- audited or kept again; NULL as m_own
    m_quiet boolean[];          -- m_own or m_again: no audit row (one
                                -- array read by the audit rows' statement,
                                -- as 013's m_own was); NULL as m_own
    v_rec bigint[];             -- the duplicates' tokens recorded now
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
                        || CASE WHEN p_token[o] IS NOT NULL
                                THEN jsonb_build_object('token', p_token[o])
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
                              status, error, reply, event_ids, received_at,
                              retry_token)
        SELECT m_mid[o], p_org[o], p_fmt[o], p_key[o], p_sha[o],
               coalesce(p_raw[o], ''),
               CASE WHEN p_ok[o] THEN 'accepted' ELSE 'quarantined' END,
               p_err[o], p_reply[o],
               CASE WHEN p_ok[o] THEN coalesce(p_mevids[o], '[]') END,
               m_at[o], p_token[o]
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
                                        received_at, retry_token)
            SELECT m_mid[o], p_org[o], p_fmt[o], p_key[o], p_sha[o],
                   coalesce(p_raw[o], ''),
                   CASE WHEN p_ok[o] THEN 'accepted' ELSE 'quarantined' END,
                   p_err[o], p_reply[o],
                   CASE WHEN p_ok[o] THEN coalesce(p_mevids[o], '[]') END,
                   m_at[o], p_token[o]
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
        -- (and whether it is this very message's first try: its token)
        SELECT array_agg(d.o IS NOT NULL ORDER BY g.o),
               array_agg(coalesce(d.id, m_mid[g.o]) ORDER BY g.o),
               array_agg(d.reply ORDER BY g.o),
               array_agg(d.event_ids ORDER BY g.o),
               array_agg(d.sha256 ORDER BY g.o),
               array_agg(coalesce(d.retry_token = p_token[g.o], false)
                         ORDER BY g.o)
          INTO m_dup, m_mid, m_dup_reply, m_dup_evids, m_dup_sha, m_own
          FROM generate_series(1, n_msg) g(o)
          LEFT JOIN (SELECT u.o, x.id, x.reply, x.event_ids, x.sha256,
                            x.retry_token
                       FROM generate_series(1, n_msg) u(o)
                       LEFT JOIN unnest(v_ins) i(id) ON i.id = m_mid[u.o]
                      CROSS JOIN LATERAL (
                           SELECT ms.id, ms.reply, ms.event_ids, ms.sha256,
                                  ms.retry_token
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
        -- A duplicate's own token, recorded the first time it is met
        -- (duplicate_tokens, above): found recorded, this is hubd's own
        -- retry of this very duplicate (a key twice in one batch, F1441;
        -- a sender's re-send in a batch sent again, F1321), answered as
        -- then and written no more. A duplicate with no token (none, or
        -- its own first try: m_own) is not looked for: the usual duplicate
        -- batch of a sender's re-sends costs one INSERT of their tokens.
        -- ON CONFLICT waits for a first try still running, as the
        -- messages INSERT does; in token order, as a retry sends them.
        m_again := array_fill(false, ARRAY[n_msg]);
        IF EXISTS (SELECT 1 FROM generate_series(1, n_msg) o
                    WHERE m_dup[o] AND NOT m_own[o]
                      AND p_token[o] IS NOT NULL) THEN
            DELETE FROM duplicate_tokens t
             WHERE t.received_at < now() - interval '7 days';
            WITH ins AS (
                INSERT INTO duplicate_tokens (received_at, token, message_id)
                SELECT m_at[o], p_token[o], m_mid[o]
                  FROM generate_series(1, n_msg) o
                 WHERE m_dup[o] AND NOT m_own[o] AND p_token[o] IS NOT NULL
                 ORDER BY p_token[o]
                ON CONFLICT DO NOTHING
                RETURNING token)
            SELECT array_agg(token) INTO v_rec FROM ins;
            m_again := ARRAY(SELECT m_dup[o] AND NOT m_own[o]
                                    AND p_token[o] IS NOT NULL
                                    AND NOT coalesce(p_token[o] = ANY (v_rec),
                                                     false)
                               FROM generate_series(1, n_msg) o ORDER BY o);
        END IF;
        m_quiet := ARRAY(SELECT m_own[o] OR m_again[o]
                           FROM generate_series(1, n_msg) o ORDER BY o);
        -- A duplicate key with other bytes: the sender used its key (an
        -- HL7 MSH-10) again for another message, as a counter that
        -- restarted does. It is answered as the duplicate (the key is what
        -- idempotency goes by), and its bytes are kept in quarantine with
        -- the reason (hub_dup_kept), never dropped.
        PERFORM hub_dup_kept(p_org[o], p_fmt[o], p_key[o], p_sha[o],
                             p_raw[o], m_at[o])
           FROM generate_series(1, n_msg) o
          WHERE m_dup[o] AND NOT m_own[o] AND NOT m_again[o]
            AND hub_dup_differs(p_key[o], m_dup_sha[o], p_sha[o]);
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
                              status, error, reply, event_ids, received_at,
                              retry_token)
        SELECT m_mid[o], p_org[o], p_fmt[o], p_key[o], p_sha[o],
               coalesce(p_raw[o], ''),
               CASE WHEN p_ok[o] THEN 'accepted' ELSE 'quarantined' END,
               p_err[o], p_reply[o],
               CASE WHEN p_ok[o] THEN coalesce(p_mevids[o], '[]') END,
               m_at[o], p_token[o]
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
               -- hubd's own retry of a committed message, or of a
               -- duplicate: audited once
               AND (m_quiet IS NULL OR NOT m_quiet[u.o])
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
        -- hubd's own retry is answered as its first try was: not a
        -- duplicate, the first's ids (its reply is hubd's own); a
        -- duplicate's own retry (m_again) as the duplicate it was
        dups[i] := (m_dup[i] AND NOT m_own[i]) OR m_skip[i];
        IF m_skip[i] THEN
            message_ids[i] := NULL;
        END IF;
        event_ids[i] := CASE WHEN m_skip[i] THEN '[]'
                             WHEN m_dup[i]
                             THEN coalesce(m_dup_evids[i], '[]')
                             WHEN p_ok[i]
                             THEN coalesce(p_mevids[i], '[]')
                             ELSE '[]' END;
        replies[i] := CASE WHEN m_dup[i] AND NOT m_own[i]
                           THEN m_dup_reply[i] END;
        kept[i] := m_dup[i] AND NOT m_own[i]
                   AND hub_dup_differs(p_key[i], m_dup_sha[i], p_sha[i]);
    END LOOP;
    RETURN NEXT;
END $$;

-- As 013's, with a duplicate's own retry told by duplicate_tokens (above).
CREATE OR REPLACE FUNCTION hub_ingest_batch_serial(p_batch jsonb, p_raw bytea[],
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
    v_tok bigint;               -- the retry token of the row found
    v_pruned boolean := false;  -- duplicate_tokens' old rows deleted
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
            SELECT ms.id, ms.reply, ms.event_ids, ms.sha256,
                   ms.retry_token
              INTO v_mid, v_reply, v_evids, v_sha, v_tok
              FROM messages ms
             WHERE ms.org_id = v_org AND ms.idem_key = v_key
               AND ms.status = 'accepted';
            IF FOUND THEN
                v_dups[i] := true;
                -- hubd's own retry of this very message (its token): as
                -- its first try was answered, and nothing written
                IF v_tok = (m->>'token')::bigint THEN
                    dup := false;
                    message_id := v_mid;
                    reply := NULL;
                    event_ids := coalesce(v_evids, '[]');
                    kept := false;
                    RETURN NEXT;
                    CONTINUE;
                END IF;
                dup := true;
                message_id := v_mid;
                reply := v_reply;
                event_ids := coalesce(v_evids, '[]');
                kept := false;
                -- a duplicate's own retry: its token recorded by its
                -- first try (hub_ingest_fast), answered as then and
                -- written no more
                IF m ? 'token' THEN
                    IF NOT v_pruned THEN
                        DELETE FROM duplicate_tokens t
                         WHERE t.received_at < now() - interval '7 days';
                        v_pruned := true;
                    END IF;
                    INSERT INTO duplicate_tokens (received_at, token,
                                                  message_id)
                    VALUES (v_at, (m->>'token')::bigint, v_mid)
                    ON CONFLICT DO NOTHING;
                    IF NOT FOUND THEN
                        kept := hub_dup_differs(v_key, v_sha, m->>'sha');
                        RETURN NEXT;
                        CONTINUE;
                    END IF;
                END IF;
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
                              error, reply, event_ids, received_at,
                              retry_token)
        VALUES (v_org, m->>'fmt', v_key, m->>'sha', coalesce(p_raw[i], ''),
                CASE WHEN v_ok THEN 'accepted' ELSE 'quarantined' END,
                m->'err', p_reply[i],
                CASE WHEN v_ok THEN
                    (SELECT coalesce(jsonb_agg(x->>'id' ORDER BY o), '[]')
                       FROM jsonb_array_elements(coalesce(m->'ev', '[]'))
                            WITH ORDINALITY AS e(x, o))::text END,
                v_at, (m->>'token')::bigint)
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

-- As 013's, with a refused duplicate's token left out of
-- quarantine_tokens: recorded there with the accepted message's id, it
-- made the retry leave the message out and answer it as refused (not a
-- duplicate, no reply: the sender's own AE in place of the first try's
-- AA).
CREATE OR REPLACE FUNCTION hub_ingest_once(p_org text[], p_fmt text[], p_key text[],
    p_sha text[], p_at text[], p_ok boolean[], p_err jsonb[], p_raw bytea[],
    p_reply bytea[], p_part int[], p_emsg int[], p_eid text[], p_etype text[],
    p_epid text[], p_ecur text[], p_eprep boolean[], p_eocc text[],
    p_ebody text[], p_ik int[], p_isys text[], p_ival text[],
    p_ifirst int[], p_mevids text[], p_epos int[], p_ecanon boolean[],
    p_adetail text[], p_atb timestamptz[], p_eoccb timestamptz[],
    p_token bigint[])
RETURNS TABLE (dups boolean[], message_ids bigint[], event_ids text[],
    replies bytea[], kept boolean[])
LANGUAGE plpgsql AS $$
DECLARE
    n_msg int := coalesce(cardinality(p_org), 0);
    m_at timestamptz[];
    f_id bigint[];              -- per message: its row of a first try
    v_keep int[];               -- the messages sent on, in order
    v_new int[];                -- per message: its index among them
    r_dups boolean[];
    r_mids bigint[];
    r_evids text[];
    r_replies bytea[];
    r_kept boolean[];
    r record;
BEGIN
    IF n_msg = 0 THEN
        RETURN;
    END IF;
    m_at := coalesce(p_atb, p_at::timestamptz[]);
    DELETE FROM quarantine_tokens t
     WHERE t.received_at < now() - interval '7 days';
    -- (the two-key form: apart from the bigint keys of hub_chain_lock(),
    -- the migrations and the prune)
    FOR r IN SELECT DISTINCT u.t FROM unnest(p_token, p_ok) u(t, ok)
              WHERE u.t IS NOT NULL AND NOT u.ok ORDER BY u.t LOOP
        PERFORM pg_advisory_xact_lock((r.t >> 32)::int,
                                      ((r.t & 4294967295) - 2147483648)::int);
    END LOOP;
    f_id := ARRAY(SELECT CASE WHEN NOT p_ok[o] AND p_token[o] IS NOT NULL
                              THEN hub_quarantined_by_token(m_at[o],
                                                            p_token[o]) END
                    FROM generate_series(1, n_msg) o ORDER BY o);
    v_keep := ARRAY(SELECT o FROM generate_series(1, n_msg) o
                     WHERE f_id[o] IS NULL ORDER BY o);
    IF cardinality(v_keep) = n_msg THEN
        SELECT * INTO r_dups, r_mids, r_evids, r_replies, r_kept
          FROM hub_ingest_fast(p_org, p_fmt, p_key, p_sha, p_at, p_ok, p_err,
                   p_raw, p_reply, p_part, p_emsg, p_eid, p_etype, p_epid,
                   p_ecur, p_eprep, p_eocc, p_ebody, p_ik, p_isys, p_ival,
                   p_ifirst, p_mevids, p_epos, p_ecanon, p_adetail, p_atb,
                   p_eoccb, p_token);
        v_new := ARRAY(SELECT o FROM generate_series(1, n_msg) o ORDER BY o);
    ELSE
        v_new := ARRAY(SELECT array_position(v_keep, o)
                         FROM generate_series(1, n_msg) o ORDER BY o);
        -- refused messages have no events: only the message indexes move
        -- (a part whose message was left out is a part no more)
        IF cardinality(v_keep) > 0 THEN
            SELECT * INTO r_dups, r_mids, r_evids, r_replies, r_kept
              FROM hub_ingest_fast(hub_array_pick(p_org, v_keep),
                       hub_array_pick(p_fmt, v_keep),
                       hub_array_pick(p_key, v_keep),
                       hub_array_pick(p_sha, v_keep),
                       hub_array_pick(p_at, v_keep),
                       hub_array_pick(p_ok, v_keep),
                       hub_array_pick(p_err, v_keep),
                       hub_array_pick(p_raw, v_keep),
                       hub_array_pick(p_reply, v_keep),
                       ARRAY(SELECT v_new[p_part[o]] FROM unnest(v_keep)
                                    WITH ORDINALITY k(o, n) ORDER BY k.n),
                       ARRAY(SELECT v_new[e.m] FROM unnest(p_emsg)
                                    WITH ORDINALITY e(m, n) ORDER BY e.n),
                       p_eid, p_etype, p_epid, p_ecur, p_eprep, p_eocc,
                       p_ebody, p_ik, p_isys, p_ival, p_ifirst,
                       hub_array_pick(p_mevids, v_keep), p_epos, p_ecanon,
                       hub_array_pick(p_adetail, v_keep),
                       hub_array_pick(p_atb, v_keep), p_eoccb,
                       hub_array_pick(p_token, v_keep));
        END IF;
    END IF;
    -- the tokens of the refused messages stored now (not of a duplicate:
    -- a refused message under an accepted key stores nothing, and its
    -- retry is told by duplicate_tokens, answered as the duplicate it was)
    INSERT INTO quarantine_tokens (received_at, token, message_id)
    SELECT m_at[o], p_token[o], r_mids[v_new[o]]
      FROM generate_series(1, n_msg) o
     WHERE NOT p_ok[o] AND p_token[o] IS NOT NULL AND f_id[o] IS NULL
       AND r_mids[v_new[o]] IS NOT NULL
       AND NOT coalesce(r_dups[v_new[o]], false)
    ON CONFLICT DO NOTHING;
    message_ids := ARRAY(SELECT coalesce(f_id[o], r_mids[v_new[o]])
                           FROM generate_series(1, n_msg) o ORDER BY o);
    IF r_dups IS NOT NULL THEN
        dups := ARRAY(SELECT CASE WHEN f_id[o] IS NULL
                                  THEN r_dups[v_new[o]] ELSE false END
                        FROM generate_series(1, n_msg) o ORDER BY o);
    END IF;
    IF r_evids IS NOT NULL THEN
        event_ids := ARRAY(SELECT CASE WHEN f_id[o] IS NULL
                                       THEN r_evids[v_new[o]] ELSE '[]' END
                             FROM generate_series(1, n_msg) o ORDER BY o);
    END IF;
    IF r_replies IS NOT NULL THEN
        replies := ARRAY(SELECT CASE WHEN f_id[o] IS NULL
                                     THEN r_replies[v_new[o]] END
                           FROM generate_series(1, n_msg) o ORDER BY o);
    END IF;
    IF r_kept IS NOT NULL THEN
        kept := ARRAY(SELECT CASE WHEN f_id[o] IS NULL
                                  THEN r_kept[v_new[o]] ELSE false END
                        FROM generate_series(1, n_msg) o ORDER BY o);
    END IF;
    RETURN NEXT;
END $$;

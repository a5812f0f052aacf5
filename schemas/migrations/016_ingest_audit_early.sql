-- 016_ingest_audit_early.sql - the ingest batch's audit rows prepared
-- before the chain lock.
--
-- Why: hub_audit_append_many() built each row's canonical text and hash
-- under the lock, from arrays aggregated (and sorted) under the lock too:
-- about a third of what hub_ingest_fast() (015) still did while holding it.
-- Only a row's seq and the hashes depend on the chain's head; the rest of
-- hub_audit_text() does not. So the rows, their details and the text
-- after "[seq" are made before the lock (with now(), as the append did:
-- the transaction's start), and under it one loop chains the hashes:
--   text = '[' || seq || rest,  hash = sha256(prev_hash || text)
-- which is hub_audit_text() and hub_audit_hash() of 001 (jsonb's text form
-- of an array is its elements one after another, the seq a plain number).
-- hub_audit_verify() recomputes each row with those functions: the store
-- tests verify the chain after concurrent batches.
-- Same rows, same chain, same results as 015.

CREATE OR REPLACE FUNCTION hub_ingest_fast(p_org text[], p_fmt text[], p_key text[],
    p_sha text[], p_at text[], p_ok boolean[], p_err jsonb[], p_raw bytea[],
    p_reply bytea[], p_emsg int[], p_eid text[], p_etype text[],
    p_epid text[], p_ecur text[], p_eprep boolean[], p_eocc text[],
    p_ebody jsonb[])
RETURNS TABLE (dup boolean, message_id bigint, event_ids text, reply bytea)
LANGUAGE plpgsql
-- generic plans, made once per connection (see 011)
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    n_msg int := coalesce(cardinality(p_org), 0);
    m_at timestamptz[];
    m_mid bigint[];             -- the stored (or, for a duplicate, earlier) id
    m_dup boolean[];
    m_dup_reply bytea[];
    m_evids jsonb[];            -- ids of each message's events
    m_first text[];             -- each message's first linked patient
    v_ins bigint[];
    n_dup int;
    -- per event (of the new accepted messages), in batch order
    e_msg int[] := p_emsg;
    e_id text[] := p_eid;
    e_type text[] := p_etype;
    e_pid text[] := p_epid;
    e_cur text[] := p_ecur;     -- patient.hub_id now in the body, or NULL
    e_occt text[] := p_eocc;
    e_body jsonb[] := p_ebody;
    e_prep boolean[] := p_eprep;
    e_occ timestamptz[];
    e_hub text[];
    e_seq bigint[];
    n_ev int := coalesce(cardinality(p_eid), 0);
    -- linking: one row per (event, distinct identifier)
    i_k int[];
    i_sys text[];
    i_val text[];
    i_owner text[];
    i_first int[];
    v_simple boolean;           -- no identifier owned, none shared
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
    v_n bigint;
    -- audit rows, in chain order
    v_at_text text;
    v_aseq bigint;
    v_prev text;
    a_actor text[];
    a_action text[];
    a_kind text[];
    a_id text[];
    a_patient text[];
    a_detail jsonb[];
    a_rest text[];
    a_prev text[];
    a_hash text[];
BEGIN
    IF n_msg = 0 THEN
        RETURN;
    END IF;
    m_at := p_at::timestamptz[];

    IF 'adt.merge' = ANY (p_etype)
       OR (array_position(p_etype, NULL) IS NOT NULL
           AND EXISTS (SELECT 1 FROM unnest(p_etype, p_ebody) u(t, b)
                        WHERE u.t IS NULL AND u.b->>'type' = 'adt.merge'))
       OR EXISTS (SELECT 1 FROM unnest(p_key, p_ok) u(key, ok)
                   WHERE u.key IS NOT NULL AND NOT u.ok) THEN
        -- the serial path reads 001's jsonb document; the bodies go back
        -- as the adapter wrote them plus the hub fields it sets again
        RETURN QUERY SELECT * FROM hub_ingest_batch_serial(
            (SELECT jsonb_agg(jsonb_build_object(
                        'org', p_org[o], 'fmt', p_fmt[o], 'sha', p_sha[o],
                        'at', m_at[o], 'ok', p_ok[o])
                    || CASE WHEN p_key[o] IS NOT NULL
                            THEN jsonb_build_object('key', p_key[o])
                            ELSE '{}' END
                    || CASE WHEN p_err[o] IS NOT NULL
                            THEN jsonb_build_object('err', p_err[o])
                            ELSE '{}' END
                    || jsonb_build_object('ev',
                        (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                    'id', p_eid[k2], 'type', p_etype[k2],
                                    'pid', p_epid[k2], 'body',
                                    CASE WHEN p_ecur[k2] IS NOT NULL
                                         THEN p_ebody[k2] #- '{patient,hub_id}'
                                         ELSE p_ebody[k2] END)
                                    ORDER BY k2), '[]')
                           FROM generate_series(1, n_ev) k2
                          WHERE p_emsg[k2] = o))
                    ORDER BY o)
               FROM generate_series(1, n_msg) o),
            p_raw, p_reply);
        RETURN;
    END IF;

    -- ---- before the lock ------------------------------------------------

    -- ids in batch order; a duplicate leaves its id unused
    SELECT array_agg(nextval('messages_id_seq') ORDER BY g)
      INTO m_mid FROM generate_series(1, n_msg) g;
    WITH ins AS (
        INSERT INTO messages AS ms (id, org_id, format, idem_key, sha256, raw,
                                    status, error, reply, received_at)
        SELECT m_mid[o], p_org[o], p_fmt[o], p_key[o], p_sha[o],
               coalesce(p_raw[o], ''),
               CASE WHEN p_ok[o] THEN 'accepted' ELSE 'quarantined' END,
               p_err[o], p_reply[o], m_at[o]
          FROM generate_series(1, n_msg) o
         ORDER BY p_org[o], p_key[o], o
        ON CONFLICT (org_id, idem_key)
           WHERE status = 'accepted' AND idem_key IS NOT NULL
           DO NOTHING
        RETURNING ms.id)
    SELECT array_agg(id) INTO v_ins FROM ins;
    n_dup := n_msg - coalesce(cardinality(v_ins), 0);
    m_dup := array_fill(false, ARRAY[n_msg]);
    m_dup_reply := array_fill(NULL::bytea, ARRAY[n_msg]);
    IF n_dup > 0 THEN
        -- which ones, and the accepted message each duplicates: committed
        -- before (the conflict waited for it) or earlier in this batch
        SELECT array_agg(d.o IS NOT NULL ORDER BY g.o),
               array_agg(coalesce(d.id, m_mid[g.o]) ORDER BY g.o),
               array_agg(d.reply ORDER BY g.o)
          INTO m_dup, m_mid, m_dup_reply
          FROM generate_series(1, n_msg) g(o)
          LEFT JOIN (SELECT u.o, x.id, x.reply
                       FROM generate_series(1, n_msg) u(o)
                       LEFT JOIN unnest(v_ins) i(id) ON i.id = m_mid[u.o]
                      CROSS JOIN LATERAL (
                           SELECT ms.id, ms.reply FROM messages ms
                            WHERE ms.org_id = p_org[u.o]
                              AND ms.idem_key = p_key[u.o]
                              AND ms.status = 'accepted'
                            LIMIT 1) x
                      WHERE i.id IS NULL) d ON d.o = g.o;
        IF (SELECT count(*) FROM unnest(m_dup) x WHERE x) <> n_dup THEN
            RAISE EXCEPTION 'hub_ingest_fast: duplicate not found'
                  USING ERRCODE = '40001';      -- retried by the caller
        END IF;
        -- the events of duplicates are not stored
        SELECT array_agg(p_emsg[k2] ORDER BY k2), array_agg(p_eid[k2] ORDER BY k2),
               array_agg(p_etype[k2] ORDER BY k2), array_agg(p_epid[k2] ORDER BY k2),
               array_agg(p_ebody[k2] ORDER BY k2),
               array_agg(p_ecur[k2] ORDER BY k2),
               array_agg(p_eprep[k2] ORDER BY k2),
               array_agg(p_eocc[k2] ORDER BY k2)
          INTO e_msg, e_id, e_type, e_pid, e_body, e_cur, e_prep, e_occt
          FROM generate_series(1, n_ev) k2
         WHERE NOT m_dup[p_emsg[k2]];
        n_ev := coalesce(cardinality(e_id), 0);
    END IF;

    IF n_ev > 0 THEN
        -- the hub fields the caller could not write (a body of an unusual
        -- shape), as 011 set them
        IF false = ANY (e_prep) THEN
            e_body := array(
                SELECT CASE WHEN e_prep[u.k] THEN u.b
                       ELSE u.b || jsonb_build_object('id', e_id[u.k],
                           'source', coalesce(u.b->'source', '{}')
                               || jsonb_build_object('org', p_org[e_msg[u.k]],
                                   'received_at', to_char(m_at[e_msg[u.k]]
                                       AT TIME ZONE 'UTC',
                                       'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))) END
                  FROM unnest(e_body) WITH ORDINALITY u(b, k) ORDER BY u.k);
        END IF;
        -- occurred_at as store.c parsed it (hub_parse_ts's rules), or "?"
        -- where it left that to hub_parse_ts
        IF '?' = ANY (e_occt) THEN
            e_occ := array(
                SELECT CASE WHEN u.t = '?'
                            THEN hub_parse_ts(u.b->>'occurred_at')
                            ELSE u.t::timestamptz END
                  FROM unnest(e_occt, e_body) WITH ORDINALITY u(t, b, k)
                 ORDER BY u.k);
        ELSE
            e_occ := e_occt::timestamptz[];
        END IF;
        -- identifiers per event as hub_link_patient() reads them, with the
        -- first event of the batch carrying each
        SELECT array_agg(s.k ORDER BY s.k, s.system, s.value),
               array_agg(s.system ORDER BY s.k, s.system, s.value),
               array_agg(s.value ORDER BY s.k, s.system, s.value),
               array_agg(s.first ORDER BY s.k, s.system, s.value),
               bool_and(s.first = s.k)
          INTO i_k, i_sys, i_val, i_first, v_simple
          FROM (SELECT d.k, d.system, d.value,
                       min(d.k) OVER (PARTITION BY d.system, d.value) AS first
                  FROM (SELECT DISTINCT ev.k,
                               CASE WHEN coalesce(x->>'system', '') = ''
                                    THEN 'urn:hub:org:' || p_org[ev.msg]
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
                           AND coalesce(x->>'value', '') <> '') d) s;
        -- a candidate written into a body that links to nobody goes again
        IF EXISTS (SELECT 1 FROM unnest(e_cur) WITH ORDINALITY u(c, k)
                    WHERE u.c IS NOT NULL
                      AND NOT (u.k = ANY (coalesce(i_k, '{}')))) THEN
            e_body := array(
                SELECT CASE WHEN u.c IS NOT NULL
                             AND NOT (u.k = ANY (coalesce(i_k, '{}')))
                            THEN u.b #- '{patient,hub_id}' ELSE u.b END
                  FROM unnest(e_body, e_cur) WITH ORDINALITY u(b, c, k)
                 ORDER BY u.k);
            e_cur := array(
                SELECT CASE WHEN u.k = ANY (coalesce(i_k, '{}')) THEN u.c END
                  FROM unnest(e_cur) WITH ORDINALITY u(c, k) ORDER BY u.k);
        END IF;
    END IF;

    -- ---- identity, still before the lock (see the header) -------------
    IF n_ev > 0 THEN
        e_hub := array_fill(NULL::text, ARRAY[n_ev]);
    END IF;
    IF i_k IS NOT NULL THEN
        -- an index probe per identifier (LIMIT: see 011)
        SELECT array_agg(o.h ORDER BY u.n), v_simple AND bool_and(o.h IS NULL)
          INTO i_owner, v_simple
          FROM unnest(i_sys, i_val) WITH ORDINALITY AS u(sys, val, n)
          LEFT JOIN LATERAL (
               SELECT pi.hub_id AS h FROM patient_identifiers pi
                WHERE pi.system = u.sys AND pi.value = u.val
                LIMIT 1) o ON true;
        IF v_simple THEN
            -- every identifier is new and carried by one event only: each
            -- event with identifiers is a new patient, its candidate
            SELECT array_agg(DISTINCT k2 ORDER BY k2) INTO l_ev
              FROM unnest(i_k) k2;
            FOREACH k IN ARRAY l_ev LOOP
                e_hub[k] := e_pid[k];
            END LOOP;
            INSERT INTO patients (hub_id)
            SELECT e_pid[k2] FROM unnest(l_ev) k2;
        ELSE
            -- 011's linking: per event, the owners before the batch and
            -- the earlier events of the batch that first carried one of
            -- its new identifiers
            SELECT array_agg(q.k ORDER BY q.k), array_agg(q.pre ORDER BY q.k),
                   array_agg(q.dep ORDER BY q.k),
                   array_agg(e_pid[q.k] ORDER BY q.k),
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
                    c_org := c_org || p_org[e_msg[k]];
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
        INSERT INTO patient_identifiers (system, value, hub_id, org_id)
        SELECT i.system, i.value, e_hub[i.k], p_org[e_msg[i.k]]
          FROM unnest(i_k, i_sys, i_val, i_owner, i_first)
               WITH ORDINALITY AS i(k, system, value, owner, first, o)
         WHERE i.owner IS NULL AND i.first = i.k
         ORDER BY i.system, i.value
        ON CONFLICT (system, value) DO NOTHING;
        GET DIAGNOSTICS v_n = ROW_COUNT;
        IF v_n <> (SELECT count(*) FROM unnest(i_owner, i_first, i_k)
                                        AS i(owner, first, k)
                    WHERE i.owner IS NULL AND i.first = i.k) THEN
            RAISE EXCEPTION 'hub_ingest_fast: identifier linked meanwhile'
                  USING ERRCODE = '40001';
        END IF;
    END IF;

    IF n_ev > 0 THEN
        -- per message: its event ids and its first linked patient
        SELECT array_agg(g.ids ORDER BY o), array_agg(g.first ORDER BY o)
          INTO m_evids, m_first
          FROM generate_series(1, n_msg) o
          LEFT JOIN (SELECT u.msg, jsonb_agg(u.id ORDER BY u.k) AS ids,
                            (array_agg(e_hub[u.k] ORDER BY u.k)
                                 FILTER (WHERE e_hub[u.k] IS NOT NULL))[1]
                                 AS first
                       FROM unnest(e_msg, e_id) WITH ORDINALITY u(msg, id, k)
                      GROUP BY u.msg) g ON g.msg = o;
    END IF;

    -- the audit rows (identity conflicts, then one per message), as
    -- hub_audit_append_many() writes them, all but their seq and hashes:
    -- a_rest is hub_audit_text() of the row without its opening "[seq"
    -- (jsonb's text form writes the elements one after another, so the
    -- text with seq N is '[' || N || a_rest)
    v_at_text := to_char(now() AT TIME ZONE 'UTC',
                         'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
    SELECT array_agg(r.actor ORDER BY r.o), array_agg(r.action ORDER BY r.o),
           array_agg(r.kind ORDER BY r.o), array_agg(r.id ORDER BY r.o),
           array_agg(r.patient ORDER BY r.o), array_agg(r.detail ORDER BY r.o),
           array_agg(substr(jsonb_build_array(0, v_at_text, r.actor, r.action,
                                              r.kind, r.id, r.patient,
                                              r.detail)::text, 3)
                     ORDER BY r.o)
      INTO a_actor, a_action, a_kind, a_id, a_patient, a_detail, a_rest
      FROM (SELECT c.o - 1000000000 AS o, c.org AS actor,
                   'identity.conflict' AS action, 'patient' AS kind,
                   c.hub AS id, c.hub AS patient, c.d AS detail
              FROM unnest(c_org, c_hub, c_all)
                   WITH ORDINALITY AS c(org, hub, d, o)
            UNION ALL
            SELECT u.o, p_org[u.o],
                   CASE WHEN m_dup[u.o] THEN 'message.duplicate'
                        WHEN p_ok[u.o] THEN 'message.received'
                        ELSE 'message.quarantined' END,
                   'message', m_mid[u.o]::text,
                   CASE WHEN p_ok[u.o] AND NOT m_dup[u.o]
                        THEN m_first[u.o] END,
                   CASE WHEN m_dup[u.o] THEN
                       jsonb_build_object('sha256', p_sha[u.o],
                                          'format', p_fmt[u.o])
                        WHEN p_ok[u.o] THEN
                       jsonb_build_object('sha256', p_sha[u.o],
                           'format', p_fmt[u.o], 'events',
                           coalesce(m_evids[u.o], '[]'))
                        ELSE
                       jsonb_build_object('sha256', p_sha[u.o],
                           'format', p_fmt[u.o], 'error',
                           jsonb_build_object(
                               'code', p_err[u.o]->'code',
                               'field', p_err[u.o]->'field')) END
              FROM generate_series(1, n_msg) AS u(o)) r;

    -- ---- under the lock: seq order = commit order, one chain writer ----
    PERFORM hub_chain_lock();
    -- the owners read above are still the owners unless a merge moved
    -- them since (a merge marks the patient it merged away); then start
    -- again, as above
    IF i_k IS NOT NULL AND NOT v_simple AND EXISTS (
           SELECT 1 FROM patients p
            WHERE p.hub_id = ANY (i_owner) AND p.merged_into IS NOT NULL) THEN
        RAISE EXCEPTION 'hub_ingest_fast: patient merged meanwhile'
              USING ERRCODE = '40001';
    END IF;

    IF n_ev > 0 THEN
        -- seqs in batch order, then one INSERT; a body changes only where
        -- linking chose another patient than the one written into it
        SELECT array_agg(nextval('events_seq') ORDER BY g)
          INTO e_seq FROM generate_series(1, n_ev) g;
        INSERT INTO events (seq, id, message_id, org_id, type,
                            patient_hub_id, occurred_at, received_at, body)
        SELECT e_seq[u.k], u.id, m_mid[u.msg], p_org[u.msg],
               coalesce(e_type[u.k], u.b->>'type'), e_hub[u.k], e_occ[u.k],
               m_at[u.msg],
               CASE WHEN e_hub[u.k] IS NOT DISTINCT FROM e_cur[u.k] THEN u.b
                    WHEN e_hub[u.k] IS NULL THEN u.b #- '{patient,hub_id}'
                    ELSE jsonb_set(u.b, '{patient,hub_id}',
                                   to_jsonb(e_hub[u.k])) END
          FROM unnest(e_msg, e_id, e_body) WITH ORDINALITY AS u(msg, id, b, k)
         ORDER BY u.k;
    END IF;

    -- the chain: seq and hashes, the only part that needs the lock
    SELECT seq, hash INTO v_aseq, v_prev FROM audit ORDER BY seq DESC LIMIT 1;
    IF NOT FOUND THEN
        v_aseq := 0;
        v_prev := repeat('0', 64);
    END IF;
    a_prev := array_fill(NULL::text, ARRAY[cardinality(a_rest)]);
    a_hash := a_prev;
    FOR i IN 1 .. cardinality(a_rest) LOOP
        a_prev[i] := v_prev;
        v_prev := encode(sha256(decode(v_prev, 'hex') || convert_to(
                      '[' || (v_aseq + i) || a_rest[i], 'UTF8')), 'hex');
        a_hash[i] := v_prev;
    END LOOP;
    INSERT INTO audit (seq, at, actor, action, object_kind, object_id,
                       patient_hub_id, detail, prev_hash, hash)
    SELECT v_aseq + u.o, now(), u.actor, u.action, u.kind, u.id, u.patient,
           u.detail, u.prev, u.hash
      FROM unnest(a_actor, a_action, a_kind, a_id, a_patient, a_detail,
                  a_prev, a_hash)
           WITH ORDINALITY AS u(actor, action, kind, id, patient, detail,
                                prev, hash, o);

    -- routing writes nothing unless a live subscription exists (see 011)
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
                WHEN p_ok[u.o] THEN coalesce(m_evids[u.o], '[]')::text
                ELSE '[]' END,
           CASE WHEN m_dup[u.o] THEN m_dup_reply[u.o] END
      FROM generate_series(1, n_msg) AS u(o)
     ORDER BY u.o;
END $$;

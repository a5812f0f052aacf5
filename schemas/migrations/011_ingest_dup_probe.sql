-- 011_ingest_dup_probe.sql - the duplicate check of hub_ingest_batch()
-- (010) probes messages_org_key_accepted once per message instead of
-- leaving the join method to the planner.
--
-- Why: 010 runs on generic plans, made once per connection, in which
-- jsonb_array_elements() counts as 100 rows whatever the batch holds. With
-- messages around ten thousand rows the planner then preferred hashing the
-- whole table each batch (measured: 3.1 ms of a 6.5 ms batch at 8
-- connections, growing with the table until the plan flips back). A LATERAL
-- subquery with LIMIT 1 is never flattened into a join, so it stays an index
-- probe per message, as 001's one-row SELECT was (009_claim_plan.sql does the
-- same for the dispatcher). The function is otherwise 010's, unchanged.

CREATE OR REPLACE FUNCTION hub_ingest_batch(p_batch jsonb, p_raw bytea[], p_reply bytea[])
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
      -- an index probe per message (LIMIT: see the header)
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
            -- event that carried it (what 001's per-event ON CONFLICT DO
            -- NOTHING left in place); a plain INSERT, as every writer of
            -- identifiers holds the chain lock and these had no row under it
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

    -- identity conflicts (as linking appended them in 001/005), then one
    -- row per message, in one append
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

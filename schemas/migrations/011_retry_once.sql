-- 011_retry_once.sql - a statement retried after its commit completed
-- records nothing twice (F1120, F1121; F1062 of round 94).
--
-- hubd cuts a statement whose answer has not come by db_commit_timeout
-- and sends it again on a new link. When the first one's commit did
-- complete on the server (a backend stopped between its commit and its
-- answer, a network stall of a live link), the retry ran on what that
-- commit had written:
--  * the dispatcher's outcome flush (hub_deliveries_done): its queue rows
--    no longer held the lease token (deleted or released by the first
--    recording), so each outcome was taken for one of a lease another
--    node took over and recorded again, a second 'delivery.attempt' audit
--    row marked 'lost': the disclosure log said a request went out that
--    did not;
--  * an ingest batch sent again whole: its accepted messages are
--    duplicates by (org, key), but a refused message has no key, and was
--    quarantined a second time, with a second 'message.quarantined' row.
-- Both are made idempotent here, on their rare paths only: the common
-- flush (every token matches) and the common ingest batch (every message
-- accepted) run what they ran before.

-- ---- Refused messages stored again ------------------------------------
--
-- hubd gives each message of an ingest job a retry token when a committer
-- first takes it (hub/ingest.c), kept across the job's retries and never
-- given again (a sender's re-send is a new job, with new tokens). A batch
-- that holds a refused message with a token is sent to
-- hub_ingest_once() below, which records the token of each refused
-- message it stores, and leaves out of the batch (no row, no audit row)
-- each refused message whose token is recorded already: its first try
-- committed. The common batch (every message accepted, each with its key)
-- is sent to hub_ingest_fast() as before and costs nothing more (the
-- tokens are a table of their own: a column of messages, NULL in every
-- accepted row, cost about 225 instructions a message, 0.07%,
-- tests/bench/ingest_cpu.sh); an accepted message is a duplicate by its
-- key, as ever.

-- One row per refused message stored with a token: its received_at (as
-- hubd sent it, the same at each retry), the token and its message id.
-- Kept 7 days from received_at (hub_ingest_once forgets older ones): a
-- job lives in one hubd's memory, retried until it commits or hubd stops.
CREATE TABLE quarantine_tokens (
    received_at     timestamptz NOT NULL,
    token           bigint NOT NULL,
    message_id      bigint NOT NULL,
    PRIMARY KEY (received_at, token)
);

-- The message stored with token p_token, received at p_at, or NULL.
CREATE FUNCTION hub_quarantined_by_token(p_at timestamptz, p_token bigint)
RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT t.message_id FROM quarantine_tokens t
     WHERE t.received_at = p_at AND t.token = p_token
$$;

-- p's elements at the indexes p_at, in that order (p NULL: NULL).
CREATE FUNCTION hub_array_pick(p anyarray, p_at int[])
RETURNS anyarray LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p IS NOT NULL THEN
           ARRAY(SELECT p[k.o] FROM unnest(p_at) WITH ORDINALITY k(o, n)
                  ORDER BY k.n) END
$$;

-- hub_ingest_fast() with p_token: per message, its retry token (NULL:
-- none; read for the refused ones only). Each refused message's token is
-- locked first (a first try still running holds it until its commit or
-- rollback), in token order; a refused message whose token is recorded
-- is left out of the call and answered as its first try was (its message
-- id, no events, not a duplicate); the tokens of the others are recorded
-- after it (a token met again, ~2^-63 a pair, is kept as it was: the
-- batch never fails on it). Answers as hub_ingest_fast().
CREATE FUNCTION hub_ingest_once(p_org text[], p_fmt text[], p_key text[],
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
                   p_eoccb);
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
                       hub_array_pick(p_atb, v_keep), p_eoccb);
        END IF;
    END IF;
    -- the tokens of the refused messages stored now
    INSERT INTO quarantine_tokens (received_at, token, message_id)
    SELECT m_at[o], p_token[o], r_mids[v_new[o]]
      FROM generate_series(1, n_msg) o
     WHERE NOT p_ok[o] AND p_token[o] IS NOT NULL AND f_id[o] IS NULL
       AND r_mids[v_new[o]] IS NOT NULL
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

-- ---- Outcomes recorded again ------------------------------------------
--
-- An outcome whose queue row no longer holds its token is recorded as
-- 'lost' unless an attempt row of its delivery already says the same
-- attempt (its detail equal but for "outcome": attempt number, node,
-- code, error, latency, event, subscription, recipient): the first try
-- of this flush wrote it, as its own outcome or as 'lost'. Looked for
-- only when some outcome is not ours (rare: a lease taken over, or such a
-- retry), among the delivery's attempt rows (hub_attempt_rows' indexes)
-- before the chain lock; and again under it among the rows appended
-- since, by primary key: a first try still running then. One bound:
-- after a replay, whose attempts count from 1 again, a lost outcome equal
-- to an attempt of an earlier round, to the millisecond of its latency,
-- is taken for it and not recorded.

-- Whether the attempt whose detail (as the flush writes it) is p_detail
-- has a row of delivery p_oid ('dlv_' || id) of patient p_patient: among
-- all its rows, or (p_after not NULL) among the rows after seq p_after.
CREATE FUNCTION hub_attempt_recorded(p_oid text, p_patient text,
    p_detail text, p_after bigint)
RETURNS boolean LANGUAGE plpgsql STABLE
SET enable_seqscan = off
AS $$
DECLARE
    v jsonb := p_detail::jsonb - 'outcome';
BEGIN
    IF p_after IS NOT NULL THEN
        RETURN EXISTS (SELECT 1 FROM audit a
                        WHERE a.seq > p_after AND a.object_id = p_oid
                          AND a.action = 'delivery.attempt'
                          AND a.detail::jsonb - 'outcome' = v);
    ELSIF p_patient IS NULL THEN
        RETURN EXISTS (SELECT 1 FROM audit a
                        WHERE a.object_id = p_oid
                          AND a.action = 'delivery.attempt'
                          AND a.patient_hub_id IS NULL
                          AND a.detail::jsonb - 'outcome' = v);
    END IF;
    RETURN EXISTS (SELECT 1 FROM audit a
                    WHERE a.patient_hub_id = p_patient COLLATE "C"
                      AND a.object_id = p_oid
                      AND a.action = 'delivery.attempt'
                      AND a.detail::jsonb - 'outcome' = v);
END $$;

-- hub_deliveries_done()'s outcome arrays less the outcomes not ours whose
-- attempt is recorded (hub_attempt_recorded, p_after as there), in their
-- order; all NULL when none is left.
CREATE FUNCTION hub_outcomes_unrecorded(a_id bigint[], a_outcome text[],
    a_mine boolean[], a_sub text[], a_k bigint[], a_patient text[],
    a_dtext text[], a_oid text[], a_rest text[], a_fin_seq bigint[],
    p_after bigint,
    OUT o_id bigint[], OUT o_outcome text[], OUT o_mine boolean[],
    OUT o_sub text[], OUT o_k bigint[], OUT o_patient text[],
    OUT o_dtext text[], OUT o_oid text[], OUT o_rest text[],
    OUT o_fin_seq bigint[])
LANGUAGE sql STABLE AS $$
    SELECT array_agg(u.id ORDER BY u.n), array_agg(u.outcome ORDER BY u.n),
           array_agg(u.mine ORDER BY u.n), array_agg(u.sub ORDER BY u.n),
           array_agg(u.k ORDER BY u.n), array_agg(u.patient ORDER BY u.n),
           array_agg(u.dtext ORDER BY u.n), array_agg(u.oid ORDER BY u.n),
           array_agg(u.rest ORDER BY u.n), array_agg(u.fin_seq ORDER BY u.n)
      FROM unnest(a_id, a_outcome, a_mine, a_sub, a_k, a_patient, a_dtext,
                  a_oid, a_rest, a_fin_seq) WITH ORDINALITY
           AS u(id, outcome, mine, sub, k, patient, dtext, oid, rest,
                fin_seq, n)
     WHERE CASE WHEN u.mine THEN true
                ELSE NOT hub_attempt_recorded(u.oid, u.patient, u.dtext,
                                              p_after) END
$$;

-- 001's function, with the two looks above (and v_head); otherwise as it
-- was.
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
-- not change the delivery; unless its attempt is recorded already (this
-- flush sent again after its commit: "Outcomes recorded again" in
-- 011_retry_once.sql). 'gone' (HTTP 410) dead-letters the delivery and
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
CREATE OR REPLACE FUNCTION hub_deliveries_done(p_node text, p_id bigint[],
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
    -- the audit chain's last seq before the outcomes not ours were looked
    -- for (NULL: none was)
    v_head bigint;
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
    -- outcomes not ours whose attempt row is there already: this flush's
    -- first try committed, its answer lost ("Outcomes recorded again" in
    -- 011); a statement of its own, so that it sees what committed while
    -- the one above waited for our rows
    IF false = ANY (a_mine) THEN
        SELECT coalesce(max(a.seq), 0) INTO v_head FROM audit a;
        SELECT * INTO a_id, a_outcome, a_mine, a_sub, a_k, a_patient,
                      a_dtext, a_oid, a_rest, a_fin_seq
          FROM hub_outcomes_unrecorded(a_id, a_outcome, a_mine, a_sub, a_k,
                                       a_patient, a_dtext, a_oid, a_rest,
                                       a_fin_seq, NULL);
    END IF;
    IF a_id IS NULL THEN
        RETURN v_rel;
    END IF;

    PERFORM hub_chain_lock();        -- last: see "Lock order" (routing)
    -- and those that a first try still running then recorded (its rows
    -- come after v_head: the chain's seq order is its commit order)
    IF v_head IS NOT NULL AND false = ANY (a_mine) THEN
        SELECT * INTO a_id, a_outcome, a_mine, a_sub, a_k, a_patient,
                      a_dtext, a_oid, a_rest, a_fin_seq
          FROM hub_outcomes_unrecorded(a_id, a_outcome, a_mine, a_sub, a_k,
                                       a_patient, a_dtext, a_oid, a_rest,
                                       a_fin_seq, v_head);
        IF a_id IS NULL THEN
            RETURN v_rel;
        END IF;
    END IF;
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

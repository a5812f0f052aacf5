-- 010_audit_verify_bounded.sql - a step that finds a break reads a
-- bounded number of rows (F1020).
--
-- hub_audit_verify_step (003_audit_verify_steps.sql) told 'reordered' from
-- 'removed' by looking for a row whose hash is the broken row's prev_hash,
-- `WHERE a.hash = r.prev_hash`: audit.hash has no index, so the step that
-- met the break read the whole table (a sequential scan of every retained
-- row, where the other steps read at most p_limit rows by the primary key).
-- On a chain of tens of millions of rows that one statement outlasts
-- db_statement_timeout, and GET /v1/audit/verify answered a broken chain
-- 503 at every try, the case F763 mended for a chain that holds. An index
-- on hash would cost every audit append; a reordering moves a row among
-- its neighbours, so the predecessor is looked for within 1,000 seq of the
-- broken row, by the primary key. Further away it is 'removed', as a
-- predecessor rewritten with its hash is: the chain is broken at the same
-- row either way. Otherwise the function is 003's.

CREATE OR REPLACE FUNCTION hub_audit_verify_step(p_after bigint, p_prev text,
    p_limit int, OUT ok boolean, OUT rows_checked bigint,
    OUT bad_seq bigint, OUT problem text, OUT head_seq bigint,
    OUT head_hash text, OUT anchor_seq bigint, OUT done boolean)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    r record;
    v_anchor_hash text;
    v_expect_seq bigint;
    v_prev text;
BEGIN
    ok := true;
    done := true;
    rows_checked := 0;
    SELECT a.seq, a.hash INTO anchor_seq, v_anchor_hash FROM audit_anchor a;
    IF p_after IS NULL OR p_after < anchor_seq THEN
        p_after := anchor_seq;
        p_prev := v_anchor_hash;
    END IF;
    v_expect_seq := p_after + 1;
    v_prev := p_prev;
    FOR r IN SELECT * FROM audit WHERE seq > p_after ORDER BY seq
             LIMIT p_limit LOOP
        IF r.seq <> v_expect_seq THEN
            ok := false;
            bad_seq := v_expect_seq;        -- the first missing seq
            problem := 'removed';
            RETURN;
        END IF;
        IF v_prev IS NOT NULL AND r.prev_hash <> v_prev THEN
            ok := false;
            bad_seq := r.seq;
            -- its predecessor looked for by seq near this row (the primary
            -- key, at most 2,001 rows), never by hash over the whole table
            IF EXISTS (SELECT 1 FROM audit a
                        WHERE a.seq BETWEEN r.seq - 1000 AND r.seq + 1000
                          AND a.hash = r.prev_hash) THEN
                problem := 'reordered';
            ELSE
                -- its predecessor is gone (rows renumbered to hide the gap),
                -- was rewritten together with its hash, or was moved more
                -- than 1,000 rows away
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
    done := rows_checked < p_limit;
END $$;

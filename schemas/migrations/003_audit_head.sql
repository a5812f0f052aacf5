-- 003_audit_head.sql - hub_audit_verify() also returns the head of the
-- chain (the last row that holds), so that an operator can record it
-- elsewhere and later prove that the newest rows were not removed:
-- `hubctl audit verify` prints it, `--head SEQ:HASH` checks it.
-- (The OUT parameters change, so the function is dropped and made again.)

DROP FUNCTION hub_audit_verify();

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

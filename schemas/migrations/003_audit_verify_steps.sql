-- 003_audit_verify_steps.sql - the audit chain walked in steps.
--
-- hub_audit_verify() (001_init.sql) walks the whole chain in one statement:
-- one snapshot held for as long as the walk takes (about 8 us a row, so
-- minutes for tens of millions of rows, while vacuum can reclaim nothing
-- newer), and nothing said until it ends. hubctl walks it in steps
-- instead, each a statement of its own, reporting its progress between
-- them, and can start from a head an earlier walk printed (only the rows
-- added since are read). The row checks live here once;
-- hub_audit_verify() becomes a loop over the steps in its one snapshot
-- (GET /v1/audit/verify), its answer unchanged.

-- One step: at most p_limit rows after seq p_after, the first of which
-- must name p_prev as its previous hash (p_prev NULL: the first row's own
-- previous hash is taken, its content still checked against its hash: a
-- walk from a head recorded earlier, whose hash the caller compared).
-- p_after NULL: from the retention anchor. A p_after before the anchor (the retention pruned past it
-- between two steps) also goes on from the anchor: those rows were pruned,
-- not tampered with, and the first retained row must still name the
-- anchor's hash. ok, bad_seq, problem: as hub_audit_verify(); head_seq and
-- head_hash: the last row checked (NULL when none), where the next step
-- starts; done: this step reached the end of the chain (or a bad row).
CREATE FUNCTION hub_audit_verify_step(p_after bigint, p_prev text,
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
    done := rows_checked < p_limit;
END $$;

-- The whole chain in one snapshot, as before: the steps in a loop.
CREATE OR REPLACE FUNCTION hub_audit_verify(OUT ok boolean,
    OUT rows_checked bigint, OUT bad_seq bigint, OUT problem text,
    OUT head_seq bigint, OUT head_hash text, OUT anchor_seq bigint)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    s record;
    v_after bigint;
    v_prev text;
BEGIN
    rows_checked := 0;
    LOOP
        SELECT * INTO s FROM hub_audit_verify_step(v_after, v_prev, 100000);
        rows_checked := rows_checked + s.rows_checked;
        anchor_seq := s.anchor_seq;
        IF s.head_seq IS NOT NULL THEN
            head_seq := s.head_seq;
            head_hash := s.head_hash;
            v_after := s.head_seq;
            v_prev := s.head_hash;
        END IF;
        IF NOT s.ok OR s.done THEN
            ok := s.ok;
            bad_seq := s.bad_seq;
            problem := s.problem;
            RETURN;
        END IF;
    END LOOP;
END $$;

-- 030_audit_verify_reads_any_detail.sql - a row whose detail is not JSON
-- is a changed row, not a walk that cannot go on (F3900); nor does it
-- fail the accounting of disclosures it is in (F3901, at the end).
--
-- hub_audit_verify_step (010_audit_verify_bounded.sql) checks that a row
-- whose hash holds has a detail in jsonb's text form, by casting it:
-- `r.detail::jsonb`. A detail that is no JSON at all, written together
-- with a hash that holds (tampering with the database that recomputes the
-- row's hash, so that only the next row's prev_hash would show it), made
-- that cast raise (22P02), and with it the whole step: `hubctl audit
-- verify` exited 2 ("cannot read the audit chain (invalid)", which an
-- operator reads as a database outage) and GET /v1/audit/verify failed at
-- every try, never naming the row. The same holds for a hash rewritten
-- to what is not hex (decode raises). The rows are now checked in a block
-- that catches a data error (SQLSTATE class 22) or a program limit (54: a
-- detail nested past the stack) met while checking row r, and answers
-- that row 'changed'. One subtransaction a step, not a row. Otherwise
-- the function is 010's; hub_audit_verify() loops over it.

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
    v_at bigint;                        -- the row being checked
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
    BEGIN
        FOR r IN SELECT * FROM audit WHERE seq > p_after ORDER BY seq
                 LIMIT p_limit LOOP
            v_at := r.seq;
            IF r.seq <> v_expect_seq THEN
                ok := false;
                bad_seq := v_expect_seq;    -- the first missing seq
                problem := 'removed';
                RETURN;
            END IF;
            IF v_prev IS NOT NULL AND r.prev_hash <> v_prev THEN
                ok := false;
                bad_seq := r.seq;
                -- its predecessor looked for by seq near this row (the
                -- primary key, at most 2,001 rows), never by hash over the
                -- whole table
                IF EXISTS (SELECT 1 FROM audit a
                            WHERE a.seq BETWEEN r.seq - 1000 AND r.seq + 1000
                              AND a.hash = r.prev_hash) THEN
                    problem := 'reordered';
                ELSE
                    -- its predecessor is gone (rows renumbered to hide the
                    -- gap), was rewritten together with its hash, or was
                    -- moved more than 1,000 rows away
                    problem := 'removed';
                END IF;
                RETURN;
            END IF;
            -- the detail as stored, byte for byte; then (the hash holds, so
            -- this is the text that was chained) that it is jsonb's text
            -- form, as every reader that casts it assumes
            IF r.hash <> hub_audit_hash(r.prev_hash, hub_audit_text(r.seq,
                    r.at, r.actor, r.action, r.object_kind, r.object_id,
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
    EXCEPTION WHEN data_exception OR program_limit_exceeded THEN
        -- raised by row v_at's own content (its detail no JSON, a hash
        -- not hex): that row does not hold. Anything else is no verdict.
        IF v_at IS NULL THEN
            RAISE;
        END IF;
        ok := false;
        bad_seq := v_at;
        problem := 'changed';
        RETURN;
    END;
    done := rows_checked < p_limit;
END $$;

-- A row's detail for the accounting of disclosures (hub/store_admin.c,
-- store_audit_list), never raising (F3901): its JSON, or the stored text
-- as a JSON string when it is none. The list casts `a.detail::json`
-- itself and takes this only for a page where that raised: such a row
-- failed the whole page, answered as the request's fault, and hid every
-- other disclosure of the patient. A subtransaction a row, so not the
-- first try.
CREATE FUNCTION hub_audit_detail_json(p text) RETURNS json
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN p::json;
EXCEPTION WHEN data_exception OR program_limit_exceeded THEN
    RETURN to_json(p);
END $$;

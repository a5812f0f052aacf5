-- 008_merge_passes_by_inactive.sql - a merge's prior identifier that
-- links no one merges no one (F842).
--
-- hub_link_patient() and hub_ingest_fast() pass by an identifier marked
-- "inactive": out of effect when it was sent, a national number that fails
-- its check digit (F744), a number of a type others share (an account, a
-- visit, a guarantor: F841). hub_merge_patient() read every merged_from
-- entry: an A40 whose MRG named a family's guarantor account merged
-- whoever held that account into the survivor, and recorded the number
-- for the survivor, so that the next merge naming it (a test feed's
-- 123456789^^^USSSA^SS in MRG-1) merged the survivor in turn. The HL7 v2
-- adapter now marks MRG's identifiers as it marks PID's; this passes the
-- marked ones by, as linking does. 001's function otherwise as it was.
CREATE OR REPLACE FUNCTION hub_merge_patient(p_org text, p_from jsonb, p_into text,
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
               AND coalesce(x->>'value', '') <> ''
               AND x->'inactive' IS DISTINCT FROM 'true') q;
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

-- 004_identity_merge.sql - patient merges (HL7 A40 and the like).
--
-- An adt.merge event names the surviving patient in patient.identifiers
-- (linked as usual) and the merged record in patient.merged_from. When such
-- an event is stored, in the same transaction:
--  * every identifier of a merged-away patient moves to the survivor, and
--    the merged patient records merged_into (chains are flattened, so
--    merged_into always names a patient that is not itself merged);
--  * merged_from identifiers never seen before are recorded for the
--    survivor, so that a late message with the old MRN links correctly;
--  * one 'patient.merged' audit row per merged-away patient.
-- Done by a trigger on events, so the ingest function stays as it is; the
-- ingest transaction already holds the chain lock, so merges never race
-- with linking.

ALTER TABLE patients
    ADD COLUMN merged_into text REFERENCES patients,
    ADD COLUMN merged_at timestamptz;
CREATE INDEX patients_merged_into ON patients (merged_into)
    WHERE merged_into IS NOT NULL;

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
                   CASE WHEN coalesce(x->>'system', '') = ''
                        THEN 'urn:hub:org:' || p_org
                        ELSE x->>'system' END AS system,
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

CREATE FUNCTION hub_events_merge() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM hub_merge_patient(NEW.org_id, NEW.body->'patient'->'merged_from',
                              NEW.patient_hub_id, NEW.id);
    RETURN NULL;
END $$;

CREATE TRIGGER events_merge AFTER INSERT ON events
    FOR EACH ROW WHEN (NEW.type = 'adt.merge')
    EXECUTE FUNCTION hub_events_merge();

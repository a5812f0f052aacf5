-- 005_identity_conflict.sql - when the identifiers of one event name two or
-- more different patients (say MRN and member id were linked to different
-- records), linking still picks one deterministically (the lowest hub id:
-- the oldest patient, as ids are time-ordered) but now says so: one
-- 'identity.conflict' audit row naming every patient (ids only), for an
-- operator to review or merge. Same signature: hub_ingest_batch() is
-- unchanged.

CREATE OR REPLACE FUNCTION hub_link_patient(p_org text, p_ids jsonb,
    p_candidate text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_hub text;
    v_all text[];
    v_sys text[];
    v_val text[];
BEGIN
    IF p_ids IS NULL OR jsonb_typeof(p_ids) <> 'array' THEN
        RETURN NULL;
    END IF;
    SELECT array_agg(q.system), array_agg(q.value) INTO v_sys, v_val
      FROM (SELECT DISTINCT
                   CASE WHEN coalesce(x->>'system', '') = ''
                        THEN 'urn:hub:org:' || p_org
                        ELSE x->>'system' END AS system,
                   x->>'value' AS value
              FROM jsonb_array_elements(p_ids) x
             WHERE jsonb_typeof(x) = 'object'
               AND coalesce(x->>'value', '') <> '') q;
    IF v_sys IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT array_agg(DISTINCT pi.hub_id ORDER BY pi.hub_id) INTO v_all
      FROM unnest(v_sys, v_val) AS u(system, value)
      JOIN patient_identifiers pi
        ON pi.system = u.system AND pi.value = u.value;
    v_hub := v_all[1];
    IF v_hub IS NULL THEN
        v_hub := p_candidate;
        INSERT INTO patients (hub_id) VALUES (v_hub);
    ELSIF cardinality(v_all) > 1 THEN
        PERFORM hub_audit_append(p_org, 'identity.conflict', 'patient',
            v_hub, v_hub, jsonb_build_object('patients', to_jsonb(v_all),
                                             'linked', v_hub));
    END IF;
    INSERT INTO patient_identifiers (system, value, hub_id, org_id)
    SELECT u.system, u.value, v_hub, p_org
      FROM unnest(v_sys, v_val) AS u(system, value)
    ON CONFLICT DO NOTHING;
    RETURN v_hub;
END $$;

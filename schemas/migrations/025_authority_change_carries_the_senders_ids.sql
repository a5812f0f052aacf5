-- 025_authority_change_carries_the_senders_ids.sql - a change of an
-- authority map carries the sender's own identifiers to the system now in
-- force (F2783).
--
-- A mapped sender's identifiers are recorded under the mapped system alone
-- (hub_ingest_fast: one system per identifier). 001's hub_authority_set
-- copied to a new system only what was recorded under the sender's own
-- name (urn:hub:org:<org>:ns:<name>), never what was recorded under the
-- system it replaced, and nothing when the map was cleared: a patient the
-- sender first sent while system A was in force stayed linked under A
-- only, so after a re-point to B (or a clear) the sender's next message
-- for that patient made a second patient.
--
-- Now the identifiers recorded under the system in force before the
-- change (the old map's, or the sender's own name when there was none)
-- are recorded under the system in force after it (the new map's, or the
-- sender's own name when cleared), for the same patient; the old rows are
-- kept, so nothing linked is unlinked. Only the rows this sender recorded:
-- patient_identifiers.org_id, who first sent the identifier. Another
-- organization's identifiers under a shared authority A are never carried
-- (its value under A says nothing of what B's value names). An identifier
-- the sender also sent after another organization had first recorded it
-- is not carried either: the store keeps no trace of a second sender but
-- its events, which have no index by sender or patient and would be read
-- whole under the chain lock (F2901).
--
-- Where the new system's value already names another patient the existing
-- link is kept (no merge): counted as a conflict, and each pair of
-- patients (hub ids only) returned and audited as a collision, for the
-- operator to review (hubctl org authority prints them).
--
-- Returns {"copied": n, "conflicts": n, "collisions": [{"patient": the one
-- the sender recorded, "linked": the one the new system's value names}]}.
-- The signature is 001's: 023 and hubctl call it unchanged, and the ingest
-- statement (hub_ingest_fast_013) does not read it.

CREATE OR REPLACE FUNCTION hub_authority_set(p_actor text, p_org text,
    p_namespace text, p_system text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_local text := 'urn:hub:org:' || p_org || ':ns:' || p_namespace;
    v_copied bigint := 0;
    v_conflicts bigint := 0;
    v_collisions jsonb := '[]';
    v_old text;
    v_from text;
    v_to text;
BEGIN
    PERFORM pg_advisory_xact_lock(7302100431);      -- hub_chain_lock()
    SELECT system INTO v_old FROM org_authorities
     WHERE org_id = p_org AND namespace = p_namespace;
    IF p_system IS NULL THEN
        DELETE FROM org_authorities
         WHERE org_id = p_org AND namespace = p_namespace;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no such authority map' USING ERRCODE = 'P0002';
        END IF;
    ELSE
        INSERT INTO org_authorities (org_id, namespace, system)
        VALUES (p_org, p_namespace, p_system)
        ON CONFLICT (org_id, namespace) DO UPDATE SET system = EXCLUDED.system,
                                                  created_at = now();
    END IF;
    v_from := coalesce(v_old, v_local);
    v_to := coalesce(p_system, v_local);
    IF v_from <> v_to THEN
        INSERT INTO patient_identifiers (system, value, hub_id, org_id)
        SELECT v_to, pi.value, pi.hub_id, pi.org_id
          FROM patient_identifiers pi
         WHERE pi.system = v_from AND pi.org_id = p_org
        ON CONFLICT DO NOTHING;
        GET DIAGNOSTICS v_copied = ROW_COUNT;
        SELECT count(*),
               coalesce(jsonb_agg(DISTINCT jsonb_build_object(
                            'patient', pi.hub_id, 'linked', u.hub_id)),
                        '[]')
          INTO v_conflicts, v_collisions
          FROM patient_identifiers pi
          JOIN patient_identifiers u ON u.system = v_to
                                    AND u.value = pi.value
         WHERE pi.system = v_from AND pi.org_id = p_org
           AND u.hub_id <> pi.hub_id;
    END IF;
    UPDATE org_authorities_version SET n = n + 1;
    PERFORM hub_audit_append(p_actor,
        CASE WHEN p_system IS NULL THEN 'authority.cleared'
             ELSE 'authority.set' END,
        'organization', p_org, NULL,
        jsonb_build_object('namespace', p_namespace, 'system', p_system,
                           'was', v_old, 'copied', v_copied,
                           'conflicts', v_conflicts,
                           'collisions', v_collisions));
    RETURN jsonb_build_object('copied', v_copied, 'conflicts', v_conflicts,
                              'collisions', v_collisions);
END $$;

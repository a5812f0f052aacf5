-- 023_hub_names_are_the_hubs.sql - the database refuses what hubd's checks
-- refuse of the hub's own names: an authority map for the name the hub
-- gives a patient known by its message (F2282), and an identifier system
-- in another organization's scope (F2242).
--
-- A patient none of whose identifiers links is known by its message: the
-- HL7 v2 adapter writes the namespace MSH-10 (IDSYS_BY_MESSAGE), which
-- hub_id_system() scopes by the sender. A map of MSH-10 to a URI would put
-- every such patient of the sender under that authority, one patient for
-- all of them wherever control ids meet (F2141): `hubctl org authority ORG
-- MSH-10 URI` is refused since round 145, but a map made before stayed in
-- effect. Each is cleared here as `hubctl org authority ORG MSH-10` clears
-- one (hub_authority_set: audited 'authority.cleared', what was recorded
-- under the URI kept), and the table refuses the name from now on.
--
-- An event of organization A naming a system in another organization's
-- scope (urn:hub:org:<B>, alone or followed by ':'; "urn:hub:" in any
-- case) would be linked to B's patients. hubd refuses the batch when it
-- reads such a system (store.foreign_scope, F2241); what it does not read
-- was passed: an identifier in a form body.c leaves to hub_ingest_fast (a
-- repeated key, a system that is no plain string) and a merge's
-- patient.merged_from, read by hub_merge_patient() alone. hub_id_system(),
-- through which every linking and merge statement reads a system, now
-- raises 22H12 for it: a value the database refuses, so that the
-- committer stores the batch's messages one by one and quarantines that
-- one, as it does for hubd's own refusal. Its own scope stays the
-- sender's (the FHIR adapter writes urn:hub:org:<org>:fhir).

SELECT hub_authority_set('hubctl', org_id, namespace, NULL)
  FROM org_authorities
 WHERE namespace = 'MSH-10'
 ORDER BY org_id;

ALTER TABLE org_authorities
    ADD CONSTRAINT org_authorities_not_by_message
    CHECK (namespace <> 'MSH-10');

-- Raises 22H12 (ids only: the system may carry another sender's name).
-- Only ever called for a foreign system (hub_id_system's last branch);
-- STABLE, never IMMUTABLE, so that the planner does not call it ahead.
CREATE OR REPLACE FUNCTION hub_id_system_foreign(p_org text)
RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RAISE EXCEPTION 'identifier system in another organization''s scope '
                    '(sender %)', p_org USING ERRCODE = '22H12';
END $$;

-- 001_init.sql's, with a URI in the hub's space that is not the sender's
-- own scope refused (body.c's idsys_hub_foreign in SQL). Still one SQL
-- expression; not inlined, as 001's was not (its sub-SELECT keeps the
-- planner from it, F2364).
CREATE OR REPLACE FUNCTION hub_id_system(p_org text, p_system text)
RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN coalesce(p_system, '') = ''
                THEN 'urn:hub:org:' || p_org
                WHEN p_system COLLATE "C" !~ '^[A-Za-z][A-Za-z0-9+.-]*:'
                THEN coalesce((SELECT a.system FROM org_authorities a
                                WHERE a.org_id = p_org
                                  AND a.namespace = p_system),
                              'urn:hub:org:' || p_org || ':ns:' || p_system)
                WHEN lower(left(p_system, 8)) COLLATE "C" <> 'urn:hub:'
                  OR p_system COLLATE "C" = 'urn:hub:org:' || p_org
                  OR left(p_system, length(p_org) + 13) COLLATE "C"
                     = 'urn:hub:org:' || p_org || ':'
                THEN p_system
                ELSE hub_id_system_foreign(p_org)
           END
$$;

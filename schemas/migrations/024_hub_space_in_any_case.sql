-- 024_hub_space_in_any_case.sql - an authority map may not name a system
-- in the hub's own space in any case of "urn:hub:" (F2603).
--
-- org_authorities refused a mapped system LIKE 'urn:hub:%' (001), which
-- is case-sensitive: `hubctl org authority ORG MRN URN:HUB:org:X:ns:MRN`
-- was taken, though RFC 8141 (3.1) compares a URN's scheme and NID in any
-- case and the hub reads them so everywhere else (the adapters'
-- idsys_is_hub, which leaves such a system out; hubd's foreign-scope check
-- and 023's hub_id_system, which refuse another organization's scope).
-- hub_id_system returns a mapped system as it stands, without that
-- check: the sender's namespace was then recorded under a name in the
-- hub's space that the hub never gives. The CHECK now reads lower(system)
-- (the column is COLLATE "C": ASCII letters only, as idsys_is_hub folds).
--
-- A map made before that names such a system is not rewritten here: which
-- authority the operator meant is the operator's to say (cleared, the
-- sender's namespace would link under its own name again; folded to lower
-- case, it would name some organization's scope). The migration refuses,
-- naming the table and the constraint (hubd logs them as store.db_error
-- constraint=org_authorities_system_check; the message, in PostgreSQL's
-- log, names the maps), and is applied once each is cleared (`hubctl org
-- authority ORG NAMESPACE --clear`) or set to the authority meant.

DO $$
DECLARE
    v_maps text;
BEGIN
    SELECT string_agg(org_id || '/' || namespace, ', '
                      ORDER BY org_id, namespace)
      INTO v_maps
      FROM org_authorities
     WHERE lower(system) LIKE 'urn:hub:%';
    IF v_maps IS NOT NULL THEN
        RAISE EXCEPTION 'org_authorities maps a name to a system in the '
                        'hub''s own space (urn:hub: in another case): %; '
                        'clear each (hubctl org authority ORG NAMESPACE '
                        '--clear) or set the authority meant, then migrate '
                        'again', v_maps
              USING ERRCODE = '23514', TABLE = 'org_authorities',
                    CONSTRAINT = 'org_authorities_system_check';
    END IF;
END $$;

ALTER TABLE org_authorities
    DROP CONSTRAINT org_authorities_system_check,
    ADD CONSTRAINT org_authorities_system_check
    CHECK (system ~ '^[A-Za-z][A-Za-z0-9+.-]*:'
           AND lower(system) NOT LIKE 'urn:hub:%');

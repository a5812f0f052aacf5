-- 017_route_all_domains.sql - the SDOH-domain filter of subscriptions sees
-- every domain an event carries.
--
-- Why: hub_route_events() (013) built an event's domains from
-- screening.positive_domains, screening.domains, referral.domain and
-- condition.domain only, so a subscription filtered on a domain never
-- matched a careplan.updated (careplan domains, Procedure-based activities),
-- a goal.updated, a referral whose domains or performed Procedures carry
-- it, or a screening item declined or answered outside the dictionary.
-- The paths read now are every place a canonical body carries a domain
-- (schemas/bodies/*.schema.json, "$ref": "#/$defs/domain"):
--   screening.domains[*], screening.positive_domains[*],
--   screening.sender_positive_domains[*], screening.items[*].domain,
--   screening.scores[*].domain;
--   referral.domain, referral.domains[*], referral.performed[*].domain;
--   condition.domain, condition.domains[*];
--   goal.domain, goal.domains[*];
--   careplan.domains[*], careplan.activities[*].domain.
-- (consent and encounter bodies carry none.)
--
-- How, and what it costs: each path is one jsonb_path_query_array() in lax
-- mode on the already-decompressed body (a built-in, not a SQL function:
-- nothing to inline, no sub-select per path, and lax mode never raises on
-- a missing member or an unexpected type, so an odd body cannot fail the
-- ingest transaction); a body's paths are read only when the body is there
-- (one "?" each), and the results, concatenated as one jsonb array, become
-- text[] in a single sub-select. Measured on the test corpus's events
-- (55% screenings), the expression costs about what 013's did with its two
-- hub_jsonb_texts() calls (~5 us per event, only while some subscription
-- filters on domains); an event without an SDOH body pays five "?" tests.
--
-- hub_route_events() below is 013's, character for character, except the
-- "domains" column of the e CTE. hub_sub_matches() (001, the reference the
-- routing statement follows term by term) reads the same paths.

CREATE OR REPLACE FUNCTION hub_route_events(p_seqs bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_new bigint;
    v_last bigint;
BEGIN
    IF p_seqs IS NULL OR cardinality(p_seqs) = 0 THEN
        RETURN;
    END IF;
    WITH s AS MATERIALIZED (
        -- hub_jsonb_texts(), inline here and below: as a function it is a
        -- call per use (its sub-select keeps it from being inlined)
        SELECT s.id, s.org_id, s.mode, s.url,
               -- hub_url_endpoint(s.url), inline (a SQL function call that
               -- cannot be inlined costs more than all the rest of a
               -- subscription's set-up)
               CASE WHEN s.mode <> 'webhook' THEN NULL
                    WHEN u.m[3] IS NOT NULL
                    THEN u.m[1] || '://' || u.m[2] || u.m[3]
                    WHEN u.m[1] = 'https' THEN u.m[1] || '://' || u.m[2] || ':443'
                    ELSE u.m[1] || '://' || u.m[2] || ':80' END AS endpoint,
               ARRAY(SELECT hub_topic_like(t) FROM unnest(s.topics) t) AS likes,
               s.filters ? 'orgs' AS has_orgs,
               CASE WHEN jsonb_typeof(s.filters->'orgs') = 'array'
                    THEN ARRAY(SELECT jsonb_array_elements_text(s.filters->'orgs'))
                    ELSE '{}'::text[] END AS orgs,
               s.filters ? 'facilities' AS has_facilities,
               CASE WHEN jsonb_typeof(s.filters->'facilities') = 'array'
                    THEN ARRAY(SELECT jsonb_array_elements_text(s.filters->'facilities'))
                    ELSE '{}'::text[] END AS facilities,
               s.filters ? 'patient_classes' AS has_classes,
               CASE WHEN jsonb_typeof(s.filters->'patient_classes') = 'array'
                    THEN ARRAY(SELECT jsonb_array_elements_text(s.filters->'patient_classes'))
                    ELSE '{}'::text[] END AS classes,
               s.filters ? 'domains' AS has_domains,
               CASE WHEN jsonb_typeof(s.filters->'domains') = 'array'
                    THEN ARRAY(SELECT jsonb_array_elements_text(s.filters->'domains'))
                    ELSE '{}'::text[] END AS domains,
               s.filters ? 'counties' AS has_counties,
               ARRAY(SELECT lower(x) FROM jsonb_array_elements_text(
                   CASE WHEN jsonb_typeof(s.filters->'counties') = 'array'
                        THEN s.filters->'counties' ELSE '[]' END) x)
                   AS counties,
               CASE WHEN jsonb_typeof(s.filters->'sensitivity') = 'array'
                    THEN ARRAY(SELECT jsonb_array_elements_text(s.filters->'sensitivity'))
                    ELSE '{}'::text[] END AS sensitivity
          FROM subscriptions s,
               LATERAL (SELECT regexp_match(lower(s.url),
                   '^([a-z]+)://([^/?#:\[\]]+|\[[^\]]*\])(:[0-9]+)?') AS m) u
         WHERE s.deleted_at IS NULL AND s.status <> 'disabled'
    ), f AS MATERIALIZED (
        -- which filters any subscription uses: only those are read
        SELECT coalesce(bool_or(s.has_facilities), false) AS facilities,
               coalesce(bool_or(s.has_classes), false) AS classes,
               coalesce(bool_or(s.has_domains), false) AS domains,
               coalesce(bool_or(s.has_counties), false) AS counties
          FROM s
    ), b AS MATERIALIZED (
        -- the body decompressed once ("|| '{}'" returns it detoasted):
        -- a stored body is compressed, and every -> would decompress it
        SELECT e.seq, e.id, e.patient_hub_id, e.type, e.org_id,
               e.body || '{}'::jsonb AS body
          FROM events e
         WHERE e.seq = ANY (p_seqs)
           AND EXISTS (SELECT 1 FROM s)
    ), e AS MATERIALIZED (
        SELECT b.seq, b.id, b.patient_hub_id, b.type, b.org_id,
               CASE WHEN f.facilities THEN
                   ARRAY[b.body->'source'->>'sending_facility',
                         b.body->'encounter'->>'facility',
                         b.body->'encounter'->'location'->>'facility'] END
                   AS facilities,
               CASE WHEN f.classes THEN
                   ARRAY[b.body->'encounter'->>'patient_class',
                         b.body->'encounter'->>'class'] END AS classes,
               -- every domain path of schemas/bodies (header above)
               CASE WHEN f.domains THEN ARRAY(
                   SELECT jsonb_array_elements_text(
                       CASE WHEN b.body ? 'screening' THEN
                           jsonb_path_query_array(b.body,
                               'lax $.screening.domains[*]')
                           || jsonb_path_query_array(b.body,
                                  'lax $.screening.positive_domains[*]')
                           || jsonb_path_query_array(b.body,
                                  'lax $.screening.sender_positive_domains[*]')
                           || jsonb_path_query_array(b.body,
                                  'lax $.screening.items[*].domain')
                           || jsonb_path_query_array(b.body,
                                  'lax $.screening.scores[*].domain')
                       ELSE '[]' END
                       || CASE WHEN b.body ? 'referral' THEN
                           jsonb_path_query_array(b.body,
                               'lax $.referral.domain')
                           || jsonb_path_query_array(b.body,
                                  'lax $.referral.domains[*]')
                           || jsonb_path_query_array(b.body,
                                  'lax $.referral.performed[*].domain')
                       ELSE '[]' END
                       || CASE WHEN b.body ? 'condition' THEN
                           jsonb_path_query_array(b.body,
                               'lax $.condition.domain')
                           || jsonb_path_query_array(b.body,
                                  'lax $.condition.domains[*]')
                       ELSE '[]' END
                       || CASE WHEN b.body ? 'goal' THEN
                           jsonb_path_query_array(b.body, 'lax $.goal.domain')
                           || jsonb_path_query_array(b.body,
                                  'lax $.goal.domains[*]')
                       ELSE '[]' END
                       || CASE WHEN b.body ? 'careplan' THEN
                           jsonb_path_query_array(b.body,
                               'lax $.careplan.domains[*]')
                           || jsonb_path_query_array(b.body,
                                  'lax $.careplan.activities[*].domain')
                       ELSE '[]' END)) END AS domains,
               CASE WHEN f.counties THEN
                   ARRAY(SELECT lower(a->>'county')
                           FROM jsonb_array_elements(
                                    CASE WHEN jsonb_typeof(
                                             b.body->'patient'->'addresses')
                                             = 'array'
                                         THEN b.body->'patient'->'addresses'
                                         ELSE '[]' END) a) END AS counties,
               CASE WHEN jsonb_typeof(b.body->'sensitivity') = 'array'
                    THEN ARRAY(SELECT jsonb_array_elements_text(
                                          b.body->'sensitivity'))
                    ELSE '{}'::text[] END AS sensitivity
          FROM b, f
    ), m AS MATERIALIZED (
        SELECT e.seq AS event_seq, e.id AS event_id, e.patient_hub_id AS patient,
               s.id AS sub_id, s.org_id, s.mode, s.url, s.endpoint
          FROM e JOIN s
            ON e.type LIKE ANY (s.likes)
           AND (NOT s.has_orgs OR e.org_id = ANY (s.orgs))
           AND (NOT s.has_facilities OR e.facilities && s.facilities)
           AND (NOT s.has_classes OR e.classes && s.classes)
           AND (NOT s.has_domains OR e.domains && s.domains)
           AND (NOT s.has_counties OR e.counties && s.counties)
           -- sensitive data (42 CFR Part 2 ...) only to who opted in
           AND e.sensitivity <@ s.sensitivity
    ), er AS (
        INSERT INTO event_routes (org_id, event_seq)
        SELECT DISTINCT m.org_id, m.event_seq FROM m
        ON CONFLICT DO NOTHING
    ), dl AS (
        INSERT INTO deliveries (event_seq, event_id, subscription_id, org_id,
                                patient_hub_id, url, endpoint)
        SELECT m.event_seq, m.event_id, m.sub_id, m.org_id, m.patient, m.url,
               m.endpoint
          FROM m WHERE m.mode = 'webhook'
         ORDER BY m.event_seq
        ON CONFLICT DO NOTHING
        RETURNING 1
    ), r AS (
        -- the routing decisions, one audit row per routed event (ids only)
        SELECT m.event_seq AS seq, m.event_id, min(m.patient) AS patient,
               jsonb_build_object('subscriptions', jsonb_agg(DISTINCT m.sub_id),
                                  'orgs', jsonb_agg(DISTINCT m.org_id)) AS detail
          FROM m GROUP BY m.event_seq, m.event_id
    )
    SELECT a.last, (SELECT count(*) FROM dl)
      INTO v_last, v_new
      FROM (SELECT hub_audit_append_many(
                       array_agg('hubd'::text ORDER BY seq),
                       array_agg('event.routed'::text ORDER BY seq),
                       array_agg('event'::text ORDER BY seq),
                       array_agg(event_id ORDER BY seq),
                       array_agg(patient ORDER BY seq),
                       array_agg(detail ORDER BY seq)) AS last
              FROM r) a;
    IF v_new > 0 THEN
        PERFORM pg_notify('hub_deliveries', '');
    END IF;
END $$;

-- The reference matcher (001), kept in step: same paths as above.
CREATE OR REPLACE FUNCTION hub_sub_matches(p_topics text[], p_filters jsonb,
    p_type text, p_org text, b jsonb)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT EXISTS (SELECT 1 FROM unnest(p_topics) t
                    WHERE p_type LIKE hub_topic_like(t))
      AND (NOT p_filters ? 'orgs'
           OR p_org = ANY (hub_jsonb_texts(p_filters->'orgs')))
      AND (NOT p_filters ? 'facilities'
           OR ARRAY[b->'source'->>'sending_facility',
                    b->'encounter'->>'facility',
                    b->'encounter'->'location'->>'facility']
              && hub_jsonb_texts(p_filters->'facilities'))
      AND (NOT p_filters ? 'patient_classes'
           OR ARRAY[b->'encounter'->>'patient_class',
                    b->'encounter'->>'class']
              && hub_jsonb_texts(p_filters->'patient_classes'))
      AND (NOT p_filters ? 'domains'
           OR ARRAY(SELECT jsonb_array_elements_text(
                  jsonb_path_query_array(b, 'lax $.screening.domains[*]')
                  || jsonb_path_query_array(b,
                         'lax $.screening.positive_domains[*]')
                  || jsonb_path_query_array(b,
                         'lax $.screening.sender_positive_domains[*]')
                  || jsonb_path_query_array(b,
                         'lax $.screening.items[*].domain')
                  || jsonb_path_query_array(b,
                         'lax $.screening.scores[*].domain')
                  || jsonb_path_query_array(b, 'lax $.referral.domain')
                  || jsonb_path_query_array(b, 'lax $.referral.domains[*]')
                  || jsonb_path_query_array(b,
                         'lax $.referral.performed[*].domain')
                  || jsonb_path_query_array(b, 'lax $.condition.domain')
                  || jsonb_path_query_array(b, 'lax $.condition.domains[*]')
                  || jsonb_path_query_array(b, 'lax $.goal.domain')
                  || jsonb_path_query_array(b, 'lax $.goal.domains[*]')
                  || jsonb_path_query_array(b, 'lax $.careplan.domains[*]')
                  || jsonb_path_query_array(b,
                         'lax $.careplan.activities[*].domain')))
              && hub_jsonb_texts(p_filters->'domains'))
      AND (NOT p_filters ? 'counties'
           OR ARRAY(SELECT lower(a->>'county')
                      FROM jsonb_array_elements(
                               CASE WHEN jsonb_typeof(b->'patient'->'addresses')
                                         = 'array'
                                    THEN b->'patient'->'addresses'
                                    ELSE '[]' END) a)
              && ARRAY(SELECT lower(x) FROM unnest(
                           hub_jsonb_texts(p_filters->'counties')) x))
      -- sensitive data (42 CFR Part 2 ...) only to who opted in to its label
      AND hub_jsonb_texts(b->'sensitivity')
          <@ hub_jsonb_texts(p_filters->'sensitivity')
$$;

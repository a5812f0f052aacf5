-- 012_route_item_domains.sql - the domain filter reads an item's
-- `domains` (F1162).
--
-- A screening item whose finding the sender filed under two or more
-- Gravity categories (an SDOHCC Observation Assessment, HL7 Chile's
-- "Transport too expensive": transportation-insecurity and
-- financial-insecurity) keeps the first as `domain` and lists every one
-- in `domains` (schemas/bodies/screening.schema.json). The screening's
-- domains and positive_domains carry them when the item counts there;
-- a declined one counts in neither, and is matched, as a declined item's
-- `domain` is, by the item itself: so screening.items[*].domains[*] is a
-- domain path too, in the reference matcher and in the routing statement
-- alike. Otherwise both functions are 001's.

CREATE OR REPLACE FUNCTION hub_sub_matches(p_topics text[], p_filters jsonb,
    p_type text, p_org text, b jsonb)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM unnest(p_topics) t
                    WHERE p_type LIKE hub_topic_like(t)
                      -- the hub family only by its own patterns (whose
                      -- owner check hub_route_match() adds)
                      AND (p_type NOT LIKE 'hub.%' OR t LIKE 'hub.%'))
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
                         'lax $.screening.items[*].domains[*]')
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
                         'lax $.careplan.activities[*].domain')
                  || jsonb_path_query_array(b,
                         'lax $.encounter.diagnoses[*].domain')))
              && hub_jsonb_texts(p_filters->'domains'))
      AND (NOT p_filters ? 'counties'
           OR ARRAY(SELECT k
                      FROM jsonb_array_elements(
                               CASE WHEN jsonb_typeof(b->'patient'->'addresses')
                                         = 'array'
                                    THEN b->'patient'->'addresses'
                                    ELSE '[]' END) a,
                           hub_county_keys(a->>'county', a->>'state') k)
              && ARRAY(SELECT hub_county_key(x) FROM unnest(
                           hub_jsonb_texts(p_filters->'counties')) x))
      -- sensitive data (42 CFR Part 2 ...) only to who opted in to its label
      AND hub_jsonb_texts(b->'sensitivity')
          <@ hub_jsonb_texts(p_filters->'sensitivity')
$$;

CREATE OR REPLACE FUNCTION hub_route_match(p_type text[], p_org text[], p_body text[])
RETURNS TABLE (k int, sub_id text, org_id text, mode text, url text,
               endpoint text)
LANGUAGE sql STABLE AS $$
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
               -- the hub's own events (hub.health, hub.digest): only by a
               -- pattern of the hub family, and only about the owner's
               -- subscriptions unless the owner is an operator (admin);
               -- the organization read only for such a subscription
               ARRAY(SELECT hub_topic_like(t) FROM unnest(s.topics) t
                      WHERE t LIKE 'hub.%') AS hub_likes,
               CASE WHEN EXISTS (SELECT 1 FROM unnest(s.topics) t
                                  WHERE t LIKE 'hub.%')
                    THEN EXISTS (SELECT 1 FROM organizations o
                                  WHERE o.id = s.org_id
                                    AND 'admin' = ANY (o.scopes))
                    ELSE false END AS admin,
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
               ARRAY(SELECT hub_county_key(x) FROM jsonb_array_elements_text(
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
        -- the body parsed once, and only when something reads it: a
        -- filter on its fields, or its labels. jsonb's text form writes
        -- a key as it is, so a body whose text has no "sensitivity" has
        -- no labels ('{}', which every subscription's opt-ins contain)
        SELECT u.k::int AS k, u.type, u.org_id,
               CASE WHEN f.facilities OR f.classes OR f.domains
                         OR f.counties
                         OR strpos(u.body, '"sensitivity"') > 0
                    THEN u.body::jsonb END AS body
          FROM unnest(p_type, p_org, p_body)
               WITH ORDINALITY AS u(type, org_id, body, k), f
         WHERE EXISTS (SELECT 1 FROM s)
    ), e AS MATERIALIZED (
        SELECT b.k, b.type, b.org_id,
               CASE WHEN f.facilities THEN
                   ARRAY[b.body->'source'->>'sending_facility',
                         b.body->'encounter'->>'facility',
                         b.body->'encounter'->'location'->>'facility'] END
                   AS facilities,
               CASE WHEN f.classes THEN
                   ARRAY[b.body->'encounter'->>'patient_class',
                         b.body->'encounter'->>'class'] END AS classes,
               -- every domain path of schemas/bodies (listed above)
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
                                  'lax $.screening.items[*].domains[*]')
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
                       ELSE '[]' END
                       || CASE WHEN b.body ? 'encounter' THEN
                           jsonb_path_query_array(b.body,
                               'lax $.encounter.diagnoses[*].domain')
                       ELSE '[]' END)) END AS domains,
               CASE WHEN f.counties THEN
                   ARRAY(SELECT k
                           FROM jsonb_array_elements(
                                    CASE WHEN jsonb_typeof(
                                             b.body->'patient'->'addresses')
                                             = 'array'
                                         THEN b.body->'patient'->'addresses'
                                         ELSE '[]' END) a,
                                hub_county_keys(a->>'county',
                                                a->>'state') k)
                   END AS counties,
               CASE WHEN jsonb_typeof(b.body->'sensitivity') = 'array'
                    THEN ARRAY(SELECT jsonb_array_elements_text(
                                          b.body->'sensitivity'))
                    ELSE '{}'::text[] END AS sensitivity
          FROM b, f
    )
    SELECT e.k, s.id, s.org_id, s.mode, s.url, s.endpoint
      FROM e JOIN s
            ON CASE WHEN e.type LIKE 'hub.%'
                    THEN e.type LIKE ANY (s.hub_likes)
                         AND (e.org_id = s.org_id OR s.admin)
                    ELSE e.type LIKE ANY (s.likes) END
           AND (NOT s.has_orgs OR e.org_id = ANY (s.orgs))
           AND (NOT s.has_facilities OR e.facilities && s.facilities)
           AND (NOT s.has_classes OR e.classes && s.classes)
           AND (NOT s.has_domains OR e.domains && s.domains)
           AND (NOT s.has_counties OR e.counties && s.counties)
           -- sensitive data (42 CFR Part 2 ...) only to who opted in
           AND e.sensitivity <@ s.sensitivity
     ORDER BY e.k, s.id
$$;

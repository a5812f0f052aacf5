-- 006_county_key_spaces.sql - county and state names compared with their
-- spaces as one.
--
-- Senders' systems pad and join words with other spaces than U+0020: a
-- no-break space (U+00A0, what a web form or a spreadsheet often stores
-- between "San" and "Juan"), two spaces where a field was pasted, a tab,
-- and trim only plain spaces. hub_county_key() kept them, so "San Juan",
-- "Prince  George's" or "Kings County" with a trailing U+00A0 matched no
-- county, and the state "New York" with a no-break space named no state.
-- Every run of white space (PostgreSQL's \s, the no-break spaces U+00A0,
-- U+2007, U+202F and the ideographic space U+3000) is now one space, and
-- the ends are trimmed after that. The Census file's names hold single
-- spaces only, so the stored keys are as 004 made them.
CREATE FUNCTION hub_county_spaces(p text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT btrim(regexp_replace(p,
        '[\s' || U&'\00A0\2007\202F\3000' || ']+', ' ', 'g'))
$$;

CREATE OR REPLACE FUNCTION hub_county_key(p text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT regexp_replace(lower(hub_county_letters(hub_county_spaces(p))),
        ' (county|parish|borough|census area|city and borough|'
        'municipality|municipio|planning region)$', '')
$$;

CREATE OR REPLACE FUNCTION hub_county_keys(p_county text, p_state text)
RETURNS SETOF text LANGUAGE sql STABLE AS $$
    SELECT x
      FROM (SELECT hub_county_key(p_county) AS key,
                   coalesce(lower(hub_county_letters(
                       hub_county_spaces(p_state))), '') AS state) v
      LEFT JOIN us_county_keys u
             ON u.county = v.key
            AND u.state = v.state
     CROSS JOIN LATERAL unnest(ARRAY[
                CASE WHEN u.fips IS NULL AND v.state <> ''
                          AND v.key ~ '^[0-9]+$' THEN NULL
                     ELSE v.key END,
                u.fips, u.name_key]) x
     WHERE x <> ''
$$;

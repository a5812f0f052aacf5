-- 004_county_key_letters.sql - county names compared without accents or
-- apostrophes.
--
-- The Census file (002_us_counties.sql) writes names in ASCII: "Bayamon
-- Municipio", "Dona Ana County", "Prince George's County". Senders write
-- them as people do, "Bayamón", "Doña Ana", "Prince George’s" (a curly
-- apostrophe), and hub_county_key() of 001_init.sql kept those letters, so
-- such an address matched no county: a Puerto Rico plan's filter of 72021
-- or "Bayamon" did not get its members' admissions. The key now folds the
-- Latin letters with marks that county names and people's spellings of
-- them use to their base letter, before lower() (which folds only ASCII
-- under the C locale), and drops apostrophes (' ’ ʻ `): "Hawaiʻi" is
-- "hawaii", "Prince George's" is "prince georges" on both sides. Then the
-- stored keys are made again.
CREATE OR REPLACE FUNCTION hub_county_key(p text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT regexp_replace(lower(translate(btrim(p),
        'ÀÁÂÃÄÅĀàáâãäåāÇçÈÉÊËĒèéêëēÌÍÎÏĪìíîïīÑñÒÓÔÕÖŌòóôõöōÙÚÛÜŪùúûüūÝýÿ''’ʻ`',
        'AAAAAAAaaaaaaaCcEEEEEeeeeeIIIIIiiiiiNnOOOOOOooooooUUUUUuuuuuYyy')),
        '\s+(county|parish|borough|census area|city and borough|'
        'municipality|municipio|planning region)$', '')
$$;

-- us_counties.name_key is generated: an update makes it again
UPDATE us_counties SET name = name;

-- us_county_keys as 002_us_counties.sql made it, from the new keys
DELETE FROM us_county_keys;
INSERT INTO us_county_keys (county, state, fips, name_key)
SELECT c.fips, '', c.fips, c.name_key FROM us_counties c
UNION ALL
SELECT k.county, st.state, c.fips, c.name_key
  FROM us_counties c
  JOIN us_states s ON s.code = c.state
 CROSS JOIN LATERAL (VALUES (c.fips), (right(c.fips, 3)), (c.name_key))
       k(county)
 CROSS JOIN LATERAL (VALUES (lower(s.code)), (s.fips), (lower(s.name)))
       st(state);

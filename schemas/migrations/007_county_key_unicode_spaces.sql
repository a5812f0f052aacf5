-- 007_county_key_unicode_spaces.sql - the spaces 006 folds, the same in
-- every database.
--
-- 006 folded PostgreSQL's \s and four no-break spaces. Past ASCII, \s is
-- the database's LC_CTYPE: in one made with C.UTF-8 or en_US.UTF-8 it
-- takes the em space U+2003 or the thin space U+2009 (a word processor's,
-- a PDF form's), in one made with the C locale it takes none of them, so
-- "Kings<U+2003>County" matched 36047 on one hub and no county on another
-- (F720). The set is now Unicode's White_Space written out: \s for ASCII,
-- which is the same in every locale, then U+0085, U+00A0, U+1680,
-- U+2000-U+200A, U+2028, U+2029, U+202F, U+205F and U+3000. The Census
-- file's names hold single ASCII spaces only: the stored keys stay as 004
-- made them.
CREATE OR REPLACE FUNCTION hub_county_spaces(p text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT btrim(regexp_replace(p,
        '[\s' || U&'\0085\00A0\1680\2000-\200A\2028\2029\202F\205F\3000'
        || ']+', ' ', 'g'))
$$;

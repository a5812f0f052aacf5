-- 026_leap_second_is_the_next_minute.sql - a leap second is read as
-- PostgreSQL's cast reads it, the next minute's start (F3420).
--
-- HL7 v2's TS, C-CDA's TS and FHIR R4's dateTime (seconds `[0-5][0-9]|60`)
-- all take second 60, and the adapters carry it in an event's occurred_at
-- as sent. 001's hub_parse_ts admitted seconds `[0-5]\d` only, so such an
-- event was stored with no time and a `since=` read of the feed never
-- showed it; a `since=` or replay bound at second 60 was refused as no
-- time. Now second 60 is admitted, at any minute (an offset puts a leap
-- second's local time anywhere: 2016-12-31T18:59:60-05:00), and read as
-- the cast reads `23:59:60`: the next minute's start, the offset applied
-- as before (2016-12-31T23:59:60Z is 2017-01-01 00:00:00+00). The cast
-- refuses a fraction there (`23:59:60.5`, which FHIR takes): it is
-- dropped, so the time is never NULL. The event's body keeps the time as
-- sent. Characters 17 to 19 are `:60` only when the seconds are 60 (an
-- offset there has hours 00-15).
--
-- store_ingest.c's occ_text and occ_micros read so in C for the fast path;
-- store::occurred_at_is_parsed_as_hub_parse_ts_does and
-- store::times_sent_in_binary_are_what_their_casts_give hold them
-- together. The signature is 001's, so hub_ingest_fast (and its statement,
-- hub_ingest_fast_013), the feed, replays and hubctl call it unchanged.
--
-- Events stored before this keep their NULL time; an operator may set
-- them with
--   UPDATE events SET occurred_at = hub_parse_ts(body::jsonb->>'occurred_at')
--    WHERE occurred_at IS NULL AND body LIKE '%:60%'
--      AND hub_parse_ts(body::jsonb->>'occurred_at') IS NOT NULL;
-- (a read of every event's body, so not done here).

CREATE OR REPLACE FUNCTION hub_parse_ts(p text) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p ~ ('^(?!0000)\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])'
                          '(?:[T ]([01]\d|2[0-3]):[0-5]\d'
                          '(?::([0-5]\d|60)(?:\.\d{1,9})?)?)?'
                          '(Z|[+-](0\d|1[0-5]):?[0-5]\d)?$')
        THEN CASE WHEN substr(p, 9, 2)::int <= extract(day FROM
                           make_date(substr(p, 1, 4)::int,
                                     substr(p, 6, 2)::int, 1)
                           + interval '1 month' - interval '1 day')
             THEN CASE WHEN substr(p, 17, 3) = ':60'
                       THEN (regexp_replace(p, '\.\d+', '')
                             || CASE WHEN p ~ '(Z|[+-]\d{2}:?\d{2})$'
                                     THEN '' ELSE 'Z' END)::timestamptz
                       WHEN p ~ '(Z|[+-]\d{2}:?\d{2})$'
                       THEN p::timestamptz
                       ELSE (p || 'Z')::timestamptz END
             END
    END
$$;

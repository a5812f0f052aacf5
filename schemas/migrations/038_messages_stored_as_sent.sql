-- 038_messages_stored_as_sent.sql - raw messages below about 8 KB stored
-- as sent; the BRIN index on messages.id replaced by a btree of the
-- quarantined rows (F4441, F4442; the rulings on F4401 and F4403).
--
-- A row of messages was compressed by lz4 once it passed 2,032 bytes (the
-- default toast_tuple_target): 11% of the corpus, about 380 bytes saved a
-- row for about 60-70k instructions (lz4 and its 16 KB state), -7.5k a
-- message of the ingest transaction at batch 16 without it. Rows are now
-- compressed only past 8,160 bytes (a page's room for one row): a raw
-- message of HL7 v2's usual size is stored as sent, about 3% more bytes of
-- raw messages on disk and in the WAL. Larger rows are still compressed
-- (raw keeps COMPRESSION lz4). Only rows written from now on; a catalog
-- change, no rewrite.
ALTER TABLE messages SET (toast_tuple_target = 8160);

-- The one query that reads a message by id is a quarantined message's raw
-- bytes (GET /v1/quarantine/{id}/raw, store_quarantine_raw). The BRIN
-- index on id served it only until the retention's first prune: the pages
-- a prune empties are filled again with new messages and a range's summary
-- only ever widens, so every reused range then spans the oldest to the
-- newest ids (a lookup of one old id read 4,352 of 8,334 pages instead of
-- 128, F4403). It cost an entry per message on ingest (about 3.8k
-- instructions a message at batch 16). A btree of the quarantined rows
-- alone finds the row by a descent whatever the prune did, and costs an
-- entry only per quarantined message. An operator's ad hoc lookup of an
-- accepted message by id scans the table, as the BRIN made it do after a
-- retention cycle anyway.
CREATE INDEX messages_quarantined_id ON messages (id)
    WHERE status = 'quarantined';
DROP INDEX messages_id;

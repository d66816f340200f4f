-- The frt_gallery virtual table: creation arguments, CRUD, 1:N queries with
-- k, purpose, mode and max_distance, ordering by (distance, rowid),
-- 1:1 verification, erasure in place and slot reuse, defensive mode,
-- rename and drop.
.mode list
.nullvalue NULL

-- creation arguments
CREATE VIRTUAL TABLE bad1 USING frt_gallery(metric=cosine);
CREATE VIRTUAL TABLE bad2 USING frt_gallery(dim=0);
CREATE VIRTUAL TABLE bad3 USING frt_gallery(dim=4097);
CREATE VIRTUAL TABLE bad4 USING frt_gallery(dim=3, metric=hamming);
CREATE VIRTUAL TABLE bad5 USING frt_gallery(dim=3, colour=blue);
CREATE VIRTUAL TABLE g USING frt_gallery(dim=3, metric=l2);
CREATE VIRTUAL TABLE c USING frt_gallery(dim = 2, metric = 'cosine');
SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name;
SELECT tbl_name, substr(name, 1, length(tbl_name) + 9) FROM sqlite_schema WHERE type = 'index' ORDER BY name;

-- writes
INSERT INTO g(subject, purpose, embedding) VALUES
  ('alice', 'door', '[1,0,0]'), ('bob', 'door', '[0,1,0]'),
  ('carol', 'pay', '[0,0,1]'), ('dan', 'door', frt_embedding('[1,1,0]'));
INSERT INTO g(rowid, subject, purpose, embedding) VALUES (10, 'erin', 'pay', '[2,0,0]');
INSERT INTO g(rowid, subject, purpose, embedding) VALUES (10, 'erin', 'pay', '[2,0,0]');
INSERT INTO g(subject, purpose, embedding) VALUES ('x', 'door', '[1,2]');
INSERT INTO g(subject, purpose, embedding) VALUES ('x', 'door', '[1,nan,2]');
INSERT INTO g(subject, purpose, embedding) VALUES (NULL, 'door', '[1,2,3]');
INSERT INTO g(subject, purpose, embedding) VALUES ('x', NULL, '[1,2,3]');
INSERT INTO g(subject, purpose, embedding) VALUES ('x', 'door', NULL);
INSERT INTO g(subject, purpose, embedding, k) VALUES ('x', 'door', '[1,2,3]', 5);
INSERT INTO c(subject, purpose, embedding) VALUES ('zero', 'door', '[0,0]');
SELECT rowid, subject, purpose, frt_embedding_text(embedding) FROM g ORDER BY rowid;
SELECT count(*) FROM g_rows;

-- 1:N: ordered by (distance, rowid); hidden columns echo the query
SELECT rowid, subject, distance, k, mode, max_distance FROM g WHERE embedding MATCH '[1,0,0]' AND k = 3;
SELECT rowid, subject, distance FROM g WHERE embedding MATCH '[1,0,0]' AND k = 10 AND mode = 'exact';
SELECT rowid, subject, distance FROM g WHERE embedding MATCH '[1,0,0]' AND k = 10 AND purpose = 'door';
SELECT rowid, subject, distance FROM g WHERE embedding MATCH '[1,0,0]' AND k = 10 AND purpose = 'nobody';
SELECT rowid, subject, distance FROM g WHERE embedding MATCH '[1,0,0]' AND k = 10 AND purpose = NULL;
SELECT rowid, subject, distance FROM g WHERE embedding MATCH '[1,0,0]' AND k = 10 AND max_distance = 1.0;
SELECT rowid, subject, distance FROM g WHERE embedding MATCH '[1,0,0]' AND k = 10 AND max_distance = 0.5 AND purpose = 'pay';
-- default mode re-ranks the k rows of the smallest bounds: of two rows tied at
-- the k-th distance it may return either; exact mode returns the lower rowid
SELECT rowid, subject, distance FROM g WHERE embedding MATCH '[1,0,0]' AND k = 2 ORDER BY distance, rowid;
SELECT rowid, subject, distance FROM g WHERE embedding MATCH '[1,0,0]' AND k = 2 AND mode = 'exact';
SELECT rowid, subject FROM g WHERE embedding MATCH '[1,0,0]' AND k = 10 ORDER BY subject DESC LIMIT 2;
-- ties at equal distance come by rowid
INSERT INTO g(rowid, subject, purpose, embedding) VALUES (7, 'twin', 'door', '[0,1,0]');
SELECT rowid, subject, distance FROM g WHERE embedding MATCH '[0,1,0]' AND k = 2 AND mode = 'exact';
-- query errors
SELECT rowid FROM g WHERE embedding MATCH '[1,0,0]';
SELECT rowid FROM g WHERE embedding MATCH '[1,0,0]' AND k = 0;
SELECT rowid FROM g WHERE embedding MATCH '[1,0,0]' AND k = 4097;
SELECT rowid FROM g WHERE embedding MATCH '[1,0,0]' AND k = '3';
SELECT rowid FROM g WHERE embedding MATCH '[1,0]' AND k = 3;
SELECT rowid FROM g WHERE embedding MATCH '[1,0,inf]' AND k = 3;
SELECT rowid FROM g WHERE embedding MATCH '[1,0,0]' AND k = 3 AND mode = 'fast';
SELECT rowid FROM g WHERE embedding MATCH '[1,0,0]' AND k = 3 AND max_distance = 'far';
SELECT rowid FROM c WHERE embedding MATCH '[0,0]' AND k = 3;
-- a probe from another table, per row
CREATE TABLE probes(id INTEGER PRIMARY KEY, e TEXT);
INSERT INTO probes VALUES (1, '[1,0,0]'), (2, '[0,0,1]');
SELECT p.id, g.rowid, g.subject FROM probes p, g WHERE g.embedding MATCH p.e AND g.k = 1 ORDER BY p.id;

-- 1:1
SELECT frt_gallery_verify('g', 1, '[1,0,0]'), frt_gallery_verify('g', 2, '[1,0,0]');
SELECT frt_gallery_verify('g', 'dan', 'door', '[1,1,0]'), frt_gallery_verify('g', 'dan', 'pay', '[1,1,0]');
SELECT frt_gallery_verify('g', 999, '[1,0,0]'), frt_gallery_verify('g', 1, NULL);
SELECT frt_gallery_verify('probes', 1, '[1,0,0]');
SELECT frt_gallery_verify('g', 1, '[1,0]');

-- update: subject and purpose in place; a new vector over the old one in its slot
UPDATE g SET purpose = 'pay' WHERE subject = 'bob';
UPDATE g SET embedding = '[0,0,5]' WHERE rowid = 3;
UPDATE g SET rowid = 99 WHERE rowid = 3;
UPDATE g SET subject = NULL WHERE rowid = 3;
SELECT rowid, subject, purpose, frt_embedding_text(embedding) FROM g WHERE rowid IN (2, 3);
SELECT rowid, subject, distance FROM g WHERE embedding MATCH '[0,0,5]' AND k = 1;
SELECT rowid, subject FROM g WHERE subject = 'bob' AND purpose = 'pay';

-- delete erases in place: the slot's bytes become zeros and the slot is reused
SELECT slot FROM g_rows WHERE id = 2;
DELETE FROM g WHERE subject = 'bob';
SELECT count(*) FROM g WHERE subject = 'bob';
SELECT slot FROM g_free;
SELECT hex(substr(vectors, 1 + 12 * 1, 12)) FROM g_chunks WHERE id = 0;
INSERT INTO g(subject, purpose, embedding) VALUES ('fay', 'door', '[0,3,0]');
SELECT slot FROM g_rows WHERE subject = 'fay';
SELECT count(*) FROM g_free;
SELECT rowid, subject, distance FROM g WHERE embedding MATCH '[0,1,0]' AND k = 2;
DELETE FROM g WHERE rowid = 12345;

-- defensive mode: the shadow tables are read-only to SQL
.dbconfig defensive on
DELETE FROM g_rows;
UPDATE g_chunks SET vectors = zeroblob(10);
INSERT INTO g_free VALUES (5);
DROP TABLE g_info;
INSERT INTO g(subject, purpose, embedding) VALUES ('gus', 'door', '[1,1,1]');
SELECT rowid, subject FROM g WHERE embedding MATCH '[1,1,1]' AND k = 1;

-- transactions: a rolled-back write is not seen afterwards
BEGIN;
INSERT INTO g(subject, purpose, embedding) VALUES ('ghost', 'door', '[9,9,9]');
SELECT subject FROM g WHERE embedding MATCH '[9,9,9]' AND k = 1;
ROLLBACK;
SELECT subject FROM g WHERE embedding MATCH '[9,9,9]' AND k = 1;

-- rename and drop take the shadow tables along
ALTER TABLE g RENAME TO h;
SELECT name FROM sqlite_schema WHERE name LIKE 'h%' ORDER BY name;
SELECT rowid, subject FROM h WHERE embedding MATCH '[1,0,0]' AND k = 1;
SELECT frt_gallery_verify('h', 1, '[1,0,0]');
CREATE VIRTUAL TABLE g USING frt_gallery(dim=3);
INSERT INTO g(subject, purpose, embedding) VALUES ('new', 'door', '[1,2,3]');
SELECT rowid, subject FROM g WHERE subject = 'new';
DROP TABLE g;
DROP TABLE h;
DROP TABLE c;
SELECT name FROM sqlite_schema ORDER BY name;

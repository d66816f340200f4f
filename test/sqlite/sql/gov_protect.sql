-- The protection model: plain SQL cannot write the governance tables or
-- frt_face, read the stored vectors, plant triggers, shadow the tables,
-- or switch off what keeps erased faces off the disk; governed calls run
-- only as transactions of their own.  Each attack fails and changes
-- nothing (fingerprint), and the trail still verifies.
.mode list
.headers off
SELECT frt_device_init('cam-1', 'Acme', 4);
SELECT frt_purpose_add('door', 'office door', 30, 0.3);
SELECT frt_notice_publish('door', 'notice');
SELECT frt_consent_give('alice', 'door', 1);
SELECT frt_enroll('alice', 'door', '[1,0,0,0]');
CREATE TEMP VIEW fp AS SELECT (SELECT count(*) FROM frt_consent) || ' ' || (SELECT count(*) FROM frt_face) || ' ' || (SELECT count(*) FROM frt_audit) || ' ' || (SELECT max(seq) FROM frt_audit) AS state;
SELECT state FROM fp;
-- writes to the governance tables
INSERT INTO frt_consent (subject, purpose, notice_version, given_at, consent_seq, expires_at) VALUES ('bob', 'door', 1, 0, 0, 9e15);
UPDATE frt_consent SET expires_at = 9e15;
DELETE FROM frt_consent;
UPDATE frt_audit SET outcome = 'ok' WHERE sqlstate IS NOT NULL;
DELETE FROM frt_audit;
INSERT INTO frt_purpose VALUES ('hall', 'hall', 30, 2.0, 0);
UPDATE frt_device SET lockout_failures = 0;
DELETE FROM frt_lockout;
UPDATE frt_sync SET shipped_seq = 0;
REPLACE INTO frt_notice VALUES ('door', 1, 'other text', 0);
-- frt_face: rows only through frt_enroll / frt_withdraw / frt_expire, no vectors out
INSERT INTO frt_face (subject, purpose, embedding) VALUES ('bob', 'door', frt_embedding('[1,0,0,0]'));
DELETE FROM frt_face;
SELECT embedding FROM frt_face;
SELECT hex(embedding) FROM frt_face WHERE subject = 'alice';
-- DDL on governance names
DROP TABLE frt_audit;
DROP TABLE frt_face;
ALTER TABLE frt_consent RENAME TO c;
ALTER TABLE frt_audit ADD COLUMN x;
CREATE TRIGGER t AFTER INSERT ON frt_audit BEGIN SELECT 1; END;
CREATE TEMP TRIGGER t AFTER INSERT ON main.frt_consent BEGIN SELECT 1; END;
CREATE INDEX i ON frt_audit (event);
CREATE TEMP TABLE frt_consent (subject, purpose);
CREATE VIEW frt_x AS SELECT 1;
CREATE VIRTUAL TABLE frt_face2 USING frt_gallery(dim=4, metric=cosine);
-- pragmas that would keep erased bytes or open the schema
PRAGMA journal_mode = PERSIST;
PRAGMA secure_delete = OFF;
PRAGMA secure_delete = FAST;
PRAGMA wal_autocheckpoint = 0;
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = 'x' WHERE name = 'frt_audit';
PRAGMA secure_delete;
-- governed calls in the caller's transaction or in a writing statement
BEGIN;
SELECT frt_verify('alice', 'door', '[1,0,0,0]');
SELECT frt_withdraw('alice');
ROLLBACK;
CREATE TABLE t AS SELECT frt_withdraw('alice') AS n;
CREATE TABLE t2 (x NOT NULL);
INSERT INTO t2 SELECT CASE frt_verify('alice', 'door', '[0,1,0,0]') WHEN 1 THEN 1 END;
-- governed calls from views and triggers (direct only)
CREATE VIEW w AS SELECT frt_withdraw('alice') AS n;
SELECT * FROM w;
CREATE TABLE u (x);
CREATE TRIGGER tu AFTER INSERT ON u BEGIN SELECT frt_withdraw('alice'); END;
INSERT INTO u VALUES (1);
-- nothing changed
SELECT state FROM fp;
SELECT frt_audit_verify();
-- identification: a query on frt_face with its purpose, recorded
SELECT rowid, subject FROM frt_face WHERE embedding MATCH frt_embedding('[1,0.1,0,0]') AND purpose = 'door' AND k = 5 AND max_distance = 0.3;
SELECT event || ' ' || outcome || ' ' || coalesce(purpose, '-') || ' ' || detail || ' ' || (similarity > 0.99) FROM frt_audit ORDER BY seq DESC LIMIT 1;
SELECT rowid, subject FROM frt_face WHERE embedding MATCH frt_embedding('[1,0.1,0,0]') AND k = 5;
SELECT rowid, subject FROM frt_face WHERE embedding MATCH frt_embedding('[1,0.1,0,0]') AND purpose = 'hall' AND k = 5;
SELECT event || ' ' || outcome || ' ' || sqlstate || ' ' || coalesce(purpose, '-') FROM frt_audit ORDER BY seq DESC LIMIT 2;
BEGIN;
SELECT rowid, subject FROM frt_face WHERE embedding MATCH frt_embedding('[1,0.1,0,0]') AND purpose = 'door' AND k = 5 AND max_distance = 0.3;
ROLLBACK;
SELECT frt_audit_verify();
-- the faces' shadow tables: readable by the gallery only, not by SQL
SELECT length(vectors) FROM frt_face_chunks;
SELECT subject FROM frt_face_rows;
SELECT count(*) FROM frt_face_free;
CREATE TEMP VIEW peek AS SELECT vectors FROM main.frt_face_chunks;
SELECT subject, purpose FROM frt_face ORDER BY rowid;
SELECT frt_audit_verify();
SELECT count(*) FROM peek;
-- 1:1 on frt_face is frt_verify's, with its lockout: frt_gallery_verify
-- (an exact distance to a named face, again and again) is refused
SELECT state FROM fp;
SELECT frt_gallery_verify('frt_face', 1, '[1,0,0,0]');
SELECT frt_gallery_verify('frt_face', 'alice', 'door', '[0,1,0,0]');
SELECT state FROM fp;
SELECT frt_audit_verify();
-- native code from SQL could remove the authorizer: load_extension() is refused
SELECT load_extension('./no_such_library');
-- identification returns no more faces, and none farther, than the purpose needs (MF142)
SELECT rowid FROM frt_face WHERE embedding MATCH frt_embedding('[1,0.1,0,0]') AND purpose = 'door' AND k = 11 AND max_distance = 0.3;
SELECT rowid FROM frt_face WHERE embedding MATCH frt_embedding('[0,0,0,1]') AND purpose = 'door' AND k = 5 AND max_distance = 2;
SELECT rowid FROM frt_face WHERE embedding MATCH frt_embedding('[0,0,0,1]') AND purpose = 'door' AND k = 5;
SELECT rowid, subject FROM frt_face WHERE embedding MATCH frt_embedding('[0,0,0,1]') AND purpose = 'door' AND k = 5 AND max_distance = 0.3;
SELECT event || ' ' || outcome || ' ' || coalesce(sqlstate, '-') FROM frt_audit ORDER BY seq DESC LIMIT 4;
SELECT frt_audit_verify();

-- Jobs layer: purge, the erasure ledger, VACUUM, heap scrub, erasure report.
\set VERBOSITY terse
\set purpose jobs_door
\set ECHO none
\i test/sql/jobs_fixture.sql
\set ECHO all

SET client_min_messages = warning;
-- a1, a2: adults; a3: adult who withdraws; a4: adult with one face of
-- 1 second retention; m1: a child (under 14, guardian consent).
SELECT frt.register_subject(s, CASE WHEN s = 'jobs_m1' THEN current_date - 3650 ELSE '1990-01-01'::date END)
  FROM unnest(ARRAY['jobs_a1', 'jobs_a2', 'jobs_a3', 'jobs_a4', 'jobs_m1']) s;
SELECT frt.give_consent(s, 'jobs_door', CASE WHEN s = 'jobs_m1' THEN 'guardian' ELSE 'self' END, 'written',
						CASE WHEN s = 'jobs_m1' THEN 'guardian-ref-1' END) > 0 AS consent
  FROM unnest(ARRAY['jobs_a1', 'jobs_a2', 'jobs_a3', 'jobs_a4', 'jobs_m1']) s;
CREATE TEMP TABLE ids AS
SELECT s AS subject, n, frt.enroll(s, 'jobs_door', pg_temp.emb(n), 'jobs-cam') AS face_id
  FROM (VALUES ('jobs_a1', 1), ('jobs_a2', 2), ('jobs_a3', 3), ('jobs_a4', 4), ('jobs_m1', 5)) v(s, n);
INSERT INTO ids SELECT 'jobs_a4', 6, frt.enroll('jobs_a4', 'jobs_door', pg_temp.emb(6), 'jobs-cam', '1 second');
RESET client_min_messages;

-- The report before anything is due: every face stored.
SELECT i.n, r.status, r.reason FROM ids i, frt.erasure_report(i.subject) r
 WHERE r.face_id = i.face_id ORDER BY i.n;

-- Make faces due: a3 withdraws, a4's short face expires, and the child's
-- and adult a1's faces were enrolled 8 days ago: past the purpose's 7-day
-- minor retention (Art. 7), within its 30-day adult retention.
SELECT frt.withdraw_consent('jobs_a3', 'jobs_door');
SELECT pg_sleep(1.1);
UPDATE frt.face SET enrolled_at = enrolled_at - interval '8 days'
 WHERE id IN (SELECT face_id FROM ids WHERE n IN (1, 5));

-- Pending: hidden by row-level security, still in the table.
SELECT i.n, r.status, r.reason FROM ids i, frt.erasure_report(i.subject) r
 WHERE r.face_id = i.face_id ORDER BY i.n;

-- Purge: counts by reason.
SELECT retention, minor_retention, withdrawal, purpose_terminated, erasure, total FROM frt.purge();
SELECT i.n FROM ids i JOIN frt.face f ON f.id = i.face_id ORDER BY i.n;
SELECT i.n, r.status, r.reason FROM ids i, frt.erasure_report(i.subject) r
 WHERE r.face_id = i.face_id ORDER BY i.n;
-- The ledger knows where each row lived; nothing biometric.
SELECT i.n, l.reason, l.heap_tid IS NOT NULL AS has_tid, l.index_erased_at IS NULL AS index_open
  FROM ids i JOIN frt.erasure_log l ON l.face_id = i.face_id ORDER BY i.n;
-- A second purge finds nothing.
SELECT total FROM frt.purge();

-- VACUUM removes index entries: line pointers freed, bytes still in the
-- page (with frt.scrub_on_vacuum off; see the end for the default).
SET frt.scrub_on_vacuum = off;
VACUUM (INDEX_CLEANUP ON) frt.face;
RESET frt.scrub_on_vacuum;
SELECT i.n, r.status FROM ids i, frt.erasure_report(i.subject) r
 WHERE r.face_id = i.face_id AND r.deleted_at IS NOT NULL ORDER BY i.n;

-- The scrub zeroes freed space and confirms each erasure.
SELECT (s->>'pages_scrubbed')::int > 0 AS scrubbed, (s->>'bytes_zeroed')::int > 0 AS zeroed,
	   (s->>'heap_confirmed')::int >= 3 AS confirmed
  FROM frt.scrub_faces() s;
SELECT i.n, r.status, r.index_erased_at IS NOT NULL AS index_at, r.heap_erased_at IS NOT NULL AS heap_at
  FROM ids i, frt.erasure_report(i.subject) r
 WHERE r.face_id = i.face_id AND r.deleted_at IS NOT NULL ORDER BY i.n;
-- Evidence in the audit trail: one confirmation per subject and purpose.
SELECT subject, detail->'reasons' AS reasons, detail->'heap_files' AS heap_files
  FROM frt.audit WHERE event = 'erasure_confirmed' AND subject LIKE 'jobs_%' ORDER BY subject;
-- A second scrub finds nothing left to overwrite (and writes no WAL).
SELECT pages_scrubbed, bytes_zeroed FROM frt.scrub_heap('frt.face');

-- The heap_tid_state verdicts on a table of our own.
CREATE TABLE scratch (id int, pad text) WITH (autovacuum_enabled = off);
INSERT INTO scratch SELECT g, repeat(chr(65 + g % 26), 200) FROM generate_series(1, 20) g;
CREATE INDEX ON scratch (id);
SELECT ctid AS tid, xmin AS xmin FROM scratch WHERE id = 7 \gset
SELECT frt.heap_tid_state('scratch', :'tid', :'xmin');
DELETE FROM scratch WHERE id = 7;
SELECT frt.heap_tid_state('scratch', :'tid', :'xmin');
VACUUM (INDEX_CLEANUP OFF) scratch;
SELECT frt.heap_tid_state('scratch', :'tid', :'xmin');
VACUUM (INDEX_CLEANUP ON) scratch;
SELECT frt.heap_tid_state('scratch', :'tid', :'xmin');
SELECT pages, pages_scrubbed, bytes_zeroed > 0 AS zeroed FROM frt.scrub_heap('scratch');
SELECT frt.heap_tid_state('scratch', :'tid', :'xmin');
SELECT count(*) FROM scratch;

-- Values too large for a row go to the TOAST table: it is scrubbed too.
CREATE TABLE big (id int, e frt.face_embedding(4096)) WITH (autovacuum_enabled = off);
INSERT INTO big SELECT g, (SELECT ('[' || string_agg((random() - 0.5)::float4::text, ',') || ']')
						   FROM generate_series(1, 4096) WHERE g > 0)::frt.face_embedding
  FROM generate_series(1, 3) g;
SELECT pg_relation_size(reltoastrelid) > 0 AS toasted FROM pg_class WHERE relname = 'big';
DELETE FROM big WHERE id = 2;
VACUUM big;
SELECT pages_scrubbed >= 2 AS heap_and_toast_scrubbed, bytes_zeroed > 16000 AS value_zeroed
  FROM frt.scrub_heap('big');
SELECT count(*) FROM big;
DROP TABLE big;

-- Bad input: clear errors, nothing changed.
SELECT frt.purge(0);
SELECT frt.purge(NULL);
SELECT frt.erasure_report(NULL);
SELECT frt.scrub_heap('scratch_id_idx');
CREATE VIEW scratch_v AS SELECT * FROM scratch;
SELECT frt.scrub_heap('scratch_v');
SELECT frt.heap_tid_state('scratch_v', '(0,1)', '1');
SELECT frt.heap_tid_state('scratch', '(4000,1)', '1');
SELECT count(*) FROM scratch;

-- Only the owner may scrub; frt_matcher may not purge or read evidence.
CREATE ROLE jobs_nobody;
GRANT USAGE ON SCHEMA frt TO jobs_nobody;
GRANT EXECUTE ON FUNCTION frt.scrub_heap(regclass) TO jobs_nobody;
SET ROLE jobs_nobody;
SELECT frt.scrub_heap('scratch');
SELECT frt.purge();
SELECT frt.scrub_faces();
SELECT frt.erasure_report('jobs_a1');
RESET ROLE;
SET ROLE frt_matcher;
SELECT frt.purge();
SELECT frt.erasure_report('jobs_a1');
RESET ROLE;
REVOKE ALL ON FUNCTION frt.scrub_heap(regclass) FROM jobs_nobody;
REVOKE USAGE ON SCHEMA frt FROM jobs_nobody;
DROP ROLE jobs_nobody;
DROP VIEW scratch_v;
DROP TABLE scratch;

-- Erasure of a subject (frt.erase_subject) is recorded with reason 'erasure'.
SELECT frt.erase_subject('jobs_a2');
SELECT i.n, r.status, r.reason FROM ids i, frt.erasure_report(i.subject) r
 WHERE r.face_id = i.face_id AND i.subject = 'jobs_a2';

-- With frt.scrub_on_vacuum on (the default), VACUUM of frt.face scrubs the
-- pages it changed: purge + VACUUM alone erase from table, index and heap.
SELECT frt.withdraw_consent('jobs_a1', 'jobs_door');
SELECT total FROM frt.purge();
VACUUM (INDEX_CLEANUP ON) frt.face;
SELECT i.n, r.status FROM ids i, frt.erasure_report(i.subject) r
 WHERE r.face_id = i.face_id AND i.subject = 'jobs_a1';
SELECT pages_scrubbed FROM frt.scrub_heap('frt.face');
-- only superusers change it
SET ROLE frt_admin;
SET frt.scrub_on_vacuum = off;
RESET ROLE;

-- The ledger trigger never hands an embedding column to the ledger: nor a
-- domain over the type, nor an array of it (nothing is deleted).
CREATE DOMAIN ledger_emb AS frt.face_embedding;
CREATE TABLE ledger_probe (id int, e frt.face_embedding(3), d ledger_emb, a frt.face_embedding[]);
INSERT INTO ledger_probe VALUES (1, '[1,2,3]', '[1,2,3]', ARRAY['[1,2,3]'::frt.face_embedding]);
CREATE TRIGGER ledger_probe_e AFTER DELETE ON ledger_probe
	FOR EACH ROW EXECUTE FUNCTION frt._erasure_ledger_trigger('id', 'e');
CREATE TRIGGER ledger_probe_d AFTER DELETE ON ledger_probe
	FOR EACH ROW EXECUTE FUNCTION frt._erasure_ledger_trigger('id', 'd');
CREATE TRIGGER ledger_probe_a AFTER DELETE ON ledger_probe
	FOR EACH ROW EXECUTE FUNCTION frt._erasure_ledger_trigger('id', 'a');
DELETE FROM ledger_probe;
DROP TRIGGER ledger_probe_a ON ledger_probe;
DELETE FROM ledger_probe;
DROP TRIGGER ledger_probe_d ON ledger_probe;
DELETE FROM ledger_probe;
SELECT count(*) FROM ledger_probe;
DROP TABLE ledger_probe;
DROP DOMAIN ledger_emb;

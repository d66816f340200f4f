-- Jobs layer: Art. 15 filing deadlines, purpose termination, scheduling.
\set VERBOSITY terse
\set purpose jobs_gate
\set ECHO none
\i test/sql/jobs_fixture.sql
\set ECHO all

-- Working days: weekends and listed holidays skipped, exchanged weekend
-- working days counted.  The shipped calendar (data/cn_calendar.tsv):
-- 2026-09-25..27 Mid-Autumn, 2026-10-01..07 National Day; Sunday
-- 2026-09-20 and Saturday 2026-10-10 are worked in exchange.
SELECT frt.working_days_between('2026-09-25', '2026-10-12');	-- Sep 28,29,30, Oct 8,9,10,12
SELECT frt.working_days_between('2026-10-12', '2026-09-25');
SELECT frt.working_days_between('2026-10-12', '2026-10-12');
SELECT frt.working_days_after('2026-09-25', 30);

-- Terminating a purpose erases its faces, refuses new ones, and opens the
-- cancellation filing due in 30 working days (Art. 15).
SET client_min_messages = warning;
SELECT frt.register_subject('jobs_f1', '1985-05-05');
SELECT frt.give_consent('jobs_f1', 'jobs_gate', 'self', 'written') > 0 AS consent;
SELECT frt.enroll('jobs_f1', 'jobs_gate', pg_temp.emb(11), 'jobs-cam') AS face_id \gset
RESET client_min_messages;
-- (a cancellation filing cancels an initial filing: one is recorded here
-- and undone before the threshold test below)
SELECT frt.record_filing('initial', frt._filing_today(), 'CAC-2026-0000');
SELECT frt.terminate_purpose('jobs_gate') = frt.working_days_after(frt._filing_today(), 30) AS deadline_ok;
SELECT count(*) FROM frt.face WHERE purpose = 'jobs_gate';
SELECT reason FROM frt.erasure_log WHERE face_id = :face_id;
SELECT kind, purpose, deadline = frt.working_days_after(triggered_on, 30) AS deadline_ok, filed_on
  FROM frt.filing WHERE purpose = 'jobs_gate';
-- no new faces for a terminated purpose
INSERT INTO frt.face (subject, purpose, consent_id, embedding, key_epoch, minor, expires_at)
SELECT 'jobs_f1', 'jobs_gate', c.id, s.b, frt._sealed_epoch(s.b), false, now() + interval '1 day'
  FROM frt.consent c, LATERAL (SELECT frt._face_seal(0, pg_temp.emb(12)) AS b) s WHERE c.subject = 'jobs_f1';
-- (the article, Art. 4, is also the CONSTRAINT field; DETAIL has the date)
DO $$
DECLARE
	v_state text; v_constraint text; v_detail text;
BEGIN
	INSERT INTO frt.face (subject, purpose, consent_id, embedding, key_epoch, minor, expires_at)
	SELECT 'jobs_f1', 'jobs_gate', c.id, s.b, frt._sealed_epoch(s.b), false, now() + interval '1 day'
	  FROM frt.consent c, LATERAL (SELECT frt._face_seal(0, pg_temp.emb(12)) AS b) s WHERE c.subject = 'jobs_f1';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_constraint = CONSTRAINT_NAME,
		v_detail = PG_EXCEPTION_DETAIL;
	RAISE NOTICE '% [%] detail ok: %', v_state, v_constraint,
		v_detail = pg_catalog.format('Terminated on %s.', frt._filing_today());
END $$;
-- nor enrolment or matching through the functions (MF004)
SELECT frt.enroll('jobs_f1', 'jobs_gate', pg_temp.emb(12), 'jobs-cam');
SELECT * FROM frt.identify('jobs_gate', pg_temp.emb(11), 'jobs-cam', 1, 0.0);
-- every one of these refusals is recorded (the direct INSERTs too)
SELECT count(*) AS refusals_recorded FROM frt.audit
 WHERE event = 'refusal' AND purpose = 'jobs_gate' AND sqlstate = 'MF004';
SELECT frt.terminate_purpose('jobs_gate');
SELECT frt.terminate_purpose('no such purpose');
SELECT frt.terminate_purpose('jobs_gate', NULL);

-- The daily check alerts about the open cancellation filing, every run
-- (the alert is also a WARNING in the server log; hidden here, it has dates).
SET client_min_messages = error;
SELECT kind, purpose, working_days_left BETWEEN 29 AND 30 AS days_left_ok
  FROM frt.filing_check() WHERE purpose = 'jobs_gate';
SELECT outcome, detail->>'kind' AS kind, detail->>'article' AS article
  FROM frt.audit WHERE event = 'alert' AND purpose = 'jobs_gate' ORDER BY seq;

-- Recording the filing closes it; bad input is refused and changes nothing.
SELECT frt.record_filing('cancellation', frt._filing_today() + 1, 'CAC-2026-0001', 'jobs_gate');
SELECT frt.record_filing('cancellation', frt._filing_today(), '  ', 'jobs_gate');
SELECT frt.record_filing('cancellation', frt._filing_today(), 'CAC-2026-0001');
SELECT frt.record_filing('bogus', frt._filing_today(), 'CAC-2026-0001');
SELECT frt.record_filing('cancellation', frt._filing_today(), 'CAC-2026-0001', 'jobs_gate');
SELECT frt.record_filing('cancellation', frt._filing_today(), 'CAC-2026-0002', 'jobs_gate');
SELECT kind, filed_on = frt._filing_today() AS filed_today, reference FROM frt.filing WHERE purpose = 'jobs_gate';
SELECT count(*) FROM frt.filing_check() WHERE purpose = 'jobs_gate';
-- a change filing made without an open obligation is recorded as filed
SELECT frt.record_filing('change', frt._filing_today(), 'CAC-2026-0050');
SELECT kind, purpose, filed_on = triggered_on AS filed FROM frt.filing WHERE reference = 'CAC-2026-0050';
SELECT frt.open_filing('initial', NULL);
SELECT frt.open_filing('cancellation', NULL);
SELECT frt.open_filing('change', 'no such purpose');

UPDATE frt.filing_state SET filed_on = NULL, filing_reference = NULL;

-- Reaching 100,000 distinct stored subjects opens the initial filing.
-- Bulk-loaded directly to keep the test fast, as a restore loads rows
-- (restore mode: inserts not recorded again, rules for new rows off;
-- replica: no foreign-key checks), in a transaction rolled back at the end.
SELECT stored_subjects < 100000 AS below, threshold_reached_on FROM frt.filing_state;
BEGIN;
SET LOCAL frt.restore = on;
SET LOCAL session_replication_role = replica;
INSERT INTO frt.purpose (name, kind, description, method, retention)
VALUES ('jobs_bulk', 'identification', 'bulk', 'bulk', '30 days');
INSERT INTO frt.subject (id, birth_date) SELECT 'jobs_bulk_' || g, '1990-01-01' FROM generate_series(1, 100000) g;
INSERT INTO frt.consent (id, subject, purpose, notice_version, given_by, obtained_how)
SELECT -g, 'jobs_bulk_' || g, 'jobs_bulk', 1, 'self', 'written' FROM generate_series(1, 100000) g;
INSERT INTO frt.face (subject, purpose, consent_id, embedding, key_epoch, minor, expires_at)
SELECT 'jobs_bulk_' || g, 'jobs_bulk', -g, frt._face_seal(-g, '[1]'), frt._key_current_epoch(), false,
	   now() + interval '1 day' FROM generate_series(1, 100000) g;
RESET session_replication_role;
RESET frt.restore;
SELECT kind, triggered_on = frt._filing_today() AS today, working_days_left BETWEEN 29 AND 30 AS days_left_ok,
	   subjects >= 100000 AS counted
  FROM frt.filing_check() WHERE kind = 'initial';
SELECT threshold_reached_on = frt._filing_today() AS recorded, filed_on FROM frt.filing_state;
SELECT outcome, detail->>'kind' AS kind FROM frt.audit
 WHERE event = 'alert' AND detail->>'kind' = 'initial' ORDER BY seq;
-- Overdue once the deadline has passed (pretend it was reached 60 days ago).
UPDATE frt.filing_state SET threshold_reached_on = frt._filing_today() - 60;
SELECT kind, working_days_left < 0 AS overdue FROM frt.filing_check() WHERE kind = 'initial';
SELECT outcome FROM frt.audit WHERE event = 'alert' AND detail->>'kind' = 'initial' ORDER BY seq DESC LIMIT 1;
SAVEPOINT refused;
SELECT frt.record_filing('initial', frt._filing_today(), 'CAC-2026-0100', 'jobs_bulk');
ROLLBACK TO SAVEPOINT refused;
SELECT frt.record_filing('initial', frt._filing_today(), 'CAC-2026-0100');
SAVEPOINT refused;
SELECT frt.record_filing('initial', frt._filing_today(), 'CAC-2026-0101');
ROLLBACK TO SAVEPOINT refused;
SELECT count(*) FROM frt.filing_check() WHERE kind = 'initial';
SELECT filed_on = frt._filing_today() AS filed, filing_reference FROM frt.filing_state;
-- the bulk rows go with the transaction (the audit records stay)
ROLLBACK;
SELECT count(*) AS bulk_left FROM frt.subject WHERE id LIKE 'jobs_bulk_%';

-- Scheduling needs pg_cron in this database: a clear error without it;
-- the statements to run from any other scheduler.
RESET client_min_messages;
SELECT * FROM frt.schedule_jobs();
SELECT * FROM frt.unschedule_jobs();
SELECT jobname, schedule, command FROM frt.job_commands();

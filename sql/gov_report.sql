-- The compliance report (one row per checkable article) and the Art. 15
-- filing status.  Run in a transaction over an emptied registry, so the
-- rows depend only on what this test builds; rolled back at the end.
BEGIN;
TRUNCATE frt.face, frt.consent, frt.subject, frt.decline, frt.assessment, frt.notice,
	frt.device, frt.purpose, frt.processor, frt.holiday, frt.calendar_year, frt.filing_state CASCADE;
SELECT gov_world('c');
SELECT frt.enroll('c_s1', 'c_door', '[1,0,0]', 'c_office') > 0 AS enrolled;
SELECT frt.enroll('c_kid', 'c_door', '[0,0,1]', 'c_office') > 0 AS enrolled;
SELECT article, check_name, status FROM frt.compliance_report();
SELECT count(*) AS not_ok FROM frt.compliance_report() WHERE status IN ('warning', 'violation');

-- Now break one rule per article and see each reported
INSERT INTO frt.purpose (name, kind, description, method, retention)
VALUES ('c_draft', 'verification', 'draft purpose', '1:1', '1 year');	-- no notice, assessment, alternative
SELECT frt.publish_notice('c_station', 'Changed notice.', '1:N', '30 days', 'public security', 'rights', 'large print and audio at the desk') AS notice;
SELECT frt.give_consent('c_s2', 'c_door', 'self', 'written', p_separate => false) > 0 AS bundled;
SELECT frt.withdraw_consent('c_s1', 'c_door') AS withdrawn_faces;
SELECT frt.register_subject('c_kid2', CURRENT_DATE - 365);
SELECT frt.give_consent('c_kid2', 'c_door', 'self', 'written') > 0 AS child_self_consent;
SELECT frt.register_subject('c_s3', '1960-01-01');
SELECT frt.give_consent('c_s3', 'c_door', 'self', 'in_person', p_condition_of_service => true) > 0 AS coerced;
SELECT frt.give_consent('c_s1', 'c_station', 'self', 'written', p_transfer_consent => true) > 0 AS transfer;
SELECT frt.enroll('c_s1', 'c_station', '[1,0,0]', 'c_hall') > 0 AS enrolled;
UPDATE frt.face SET expires_at = enrolled_at + interval '1 microsecond'
WHERE subject = 'c_s1' AND purpose = 'c_station';
INSERT INTO frt.device (name, location_type) VALUES ('c_toilet', 'private_space');
INSERT INTO frt.device (name, location_type) VALUES ('c_street', 'public_place');
-- states the functions never create, forged by the superuser (trusted
-- boundary), are still found: a minor's face kept too long, a face kept
-- beyond the purpose's retention, a face from a private-space device, and
-- no processor registered
UPDATE frt.face SET expires_at = enrolled_at + interval '1 year' WHERE subject = 'c_kid';
UPDATE frt.face SET expires_at = enrolled_at + interval '2 years', device = 'c_toilet'
WHERE subject = 'c_s1' AND purpose = 'c_door';
SET LOCAL session_replication_role = replica;
DELETE FROM frt.processor;
RESET session_replication_role;
SELECT article, check_name, status, CASE WHEN check_name <> 'trusted_boundary' THEN detail END AS detail
FROM frt.compliance_report();

-- The report sees RLS being disabled, and a role given the embedding column
ALTER TABLE frt.face NO FORCE ROW LEVEL SECURITY;
GRANT SELECT (embedding) ON frt.face TO frt_auditor;
SELECT article, check_name, status, CASE WHEN check_name <> 'trusted_boundary' THEN detail END AS detail
FROM frt.compliance_report() WHERE article = 'Art. 14';
ROLLBACK;

-- Working days: weekends skipped, public holidays skipped, make-up working
-- weekend days counted (2025 National Day: 1-8 Oct off, Sun 28 Sep and
-- Sat 11 Oct worked: the calendar shipped in data/cn_calendar.tsv; 2024
-- is not in it, so only its weekends count)
SELECT frt.working_days_after('2024-09-26', 5) AS without_holidays;
BEGIN;
SELECT count(*) AS shipped_days FROM frt.holiday WHERE day BETWEEN '2025-09-28' AND '2025-10-11';
SELECT frt.working_days_after('2025-09-26', 5) AS with_holidays;
SELECT frt.working_days_after('2025-09-26', 30) AS deadline_30;
SELECT frt.is_working_day('2025-09-28') AS sunday_worked, frt.is_working_day('2025-10-02') AS holiday,
	frt.is_working_day('2025-10-12') AS sunday;
SELECT gov_try($$SELECT frt.working_days_after('2025-01-01', -1)$$);

-- Art. 15: the day the 100,000th distinct subject is stored is recorded
-- once, and the deadline is 30 working days later
TRUNCATE frt.filing_state;
INSERT INTO frt.processor VALUES ('Acme Ltd', 'dpo@acme.example') ON CONFLICT DO NOTHING;
INSERT INTO frt.filing_state (processor, stored_subjects) VALUES ('Acme Ltd', 99999);
SELECT gov_world('f');
SELECT frt.enroll('f_s1', 'f_door', '[1,0,0]', 'f_office') > 0 AS enrolled;
SELECT stored_subjects, threshold_reached_on = frt._filing_today() AS reached_today
FROM frt.filing_state;
-- a second face of the same subject does not count twice
SELECT frt.enroll('f_s1', 'f_station', '[1,0,0]', 'f_hall') > 0 AS enrolled;
SELECT stored_subjects FROM frt.filing_state;
SELECT threshold, threshold_reached_on = frt._filing_today() AS reached_today,
	filing_deadline = frt.working_days_after(frt._filing_today(), 30) AS deadline_ok, status
FROM frt.filing_status();
-- erasing the subject decrements the count, but the day reached stays
SELECT frt.erase_subject('f_s1') AS erased;
SELECT stored_subjects, threshold_reached_on = frt._filing_today() AS reached_today FROM frt.filing_state;
SELECT frt.record_filing(frt._filing_today(), 'CAC-2025-0001');
SELECT status, filing_reference FROM frt.filing_status();
SELECT article, status FROM frt.compliance_report() WHERE article = 'Art. 15' AND check_name = 'filing';
ROLLBACK;

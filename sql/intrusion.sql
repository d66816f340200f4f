-- Intrusion detection (Measures Art. 14): brute-force lockout of a
-- subject's verification, a per-role match rate, a per-role export rate.
-- Refusals are MF014 and change nothing; attempts are counted from the
-- audit trail, so rolling one back does not hide it; each rule's first trip
-- raises one alert (frt.alert, and a WARNING without biometric data).
SELECT gov_world('i');
SELECT frt.enroll('i_s1', 'i_door', '[1,0,0]', 'i_office') > 0 AS s1,
	   frt.enroll('i_s2', 'i_door', '[0,1,0]', 'i_office') > 0 AS s2,
	   frt.enroll('i_s1', 'i_station', '[1,0,0]', 'i_hall') > 0 AS s1_station;
-- the built-in limits, when frt.intrusion_policy has no row
SELECT role_name, match_rate_per_minute, export_rate_per_hour, max_failed_verifications,
	   failure_window, lockout FROM frt._intrusion_limits('anyone');

-- 1. Brute force: three failures, a fourth rolled back (still counted) ...
SELECT matched FROM frt.verify('i_s1', 'i_door', '[0,0,1]', 'i_office');
SELECT matched FROM frt.verify('i_s1', 'i_door', '[0,0.2,1]', 'i_office');
SELECT matched FROM frt.verify('i_s1', 'i_door', '[0,1,1]', 'i_office');
BEGIN;
SELECT matched FROM frt.verify('i_s1', 'i_door', '[0,1,0.5]', 'i_office');
ROLLBACK;
-- ... the right face still passes ...
SELECT matched FROM frt.verify('i_s1', 'i_door', '[1,0,0]', 'i_office');
SELECT count(*) AS alerts FROM frt.alert WHERE subject = 'i_s1';
-- ... the fifth failure locks i_s1 for i_door and raises one alert
SELECT matched FROM frt.verify('i_s1', 'i_door', '[0,0,1]', 'i_office');
SELECT kind, purpose, subject, detail FROM frt.alert WHERE subject = 'i_s1' ORDER BY seq;
-- now even the right face is refused, and nothing changes
SELECT regexp_replace(gov_refused($$SELECT * FROM frt.verify('i_s1', 'i_door', '[1,0,0]', 'i_office')$$),
	'until .* after', 'until ... after') AS refused;
SELECT sqlstate, detail->>'article' AS article, detail->>'function' AS function
  FROM frt.audit WHERE event = 'refusal' AND subject = 'i_s1' ORDER BY seq DESC LIMIT 1;
-- no new alert for the refusal; other subjects and purposes are not locked
SELECT count(*) AS alerts FROM frt.alert WHERE subject = 'i_s1';
SELECT matched FROM frt.verify('i_s2', 'i_door', '[0,1,0]', 'i_office');
SELECT count(*) AS found FROM frt.identify('i_station', '[1,0,0]', 'i_hall', 1, 0.6);
-- the lockout runs from the last failure: a policy with a 1-second lockout lifts it
INSERT INTO frt.intrusion_policy (role_name, max_failed_verifications, failure_window, lockout)
VALUES ('*', 5, '15 minutes', '1 second');
SELECT pg_sleep(1.2);
SELECT matched FROM frt.verify('i_s1', 'i_door', '[1,0,0]', 'i_office');
-- a policy row is the session user's limits, else '*''s
SELECT max_failed_verifications, lockout FROM frt._intrusion_limits('anyone');
-- policy changes are audited
SELECT event, outcome, detail->'key' AS key FROM frt.audit
 WHERE detail->>'table' = 'intrusion_policy' AND detail->>'key' NOT LIKE 'm\_%' ORDER BY seq;
-- bad limits are rejected
SELECT gov_try($$INSERT INTO frt.intrusion_policy (role_name, match_rate_per_minute) VALUES ('x', 0)$$);
SELECT gov_try($$INSERT INTO frt.intrusion_policy (role_name, lockout) VALUES ('x', '-1 minute')$$);

-- 2. Match rate: 3 a minute for role i_gate (a frt_matcher)
DROP ROLE IF EXISTS i_gate;
CREATE ROLE i_gate IN ROLE frt_matcher;
INSERT INTO frt.intrusion_policy (role_name, match_rate_per_minute) VALUES ('i_gate', 3);
SET SESSION AUTHORIZATION i_gate;
SELECT subject FROM frt.identify('i_station', '[1,0,0]', 'i_hall', 1, 0.6);
SELECT matched FROM frt.verify('i_s2', 'i_door', '[0,1,0]', 'i_office');
SELECT subject FROM frt.identify('i_station', '[1,0,0]', 'i_hall', 1, 0.6);
-- the fourth match in the minute is refused, and so is the fifth
SELECT gov_try($$SELECT * FROM frt.identify('i_station', '[1,0,0]', 'i_hall', 1, 0.6)$$);
SELECT gov_try($$SELECT * FROM frt.verify('i_s2', 'i_door', '[0,1,0]', 'i_office')$$);
RESET SESSION AUTHORIZATION;
-- one alert for the role, however many refusals
SELECT kind, role_name, purpose, detail FROM frt.alert WHERE kind = 'match_rate';
-- other roles keep matching
SELECT subject FROM frt.identify('i_station', '[1,0,0]', 'i_hall', 1, 0.6);

-- 2b. Enumeration through 1:N: at most 5 subjects identified an hour for i_enum
SELECT frt.enroll('i_s2', 'i_station', '[0,1,0]', 'i_hall') > 0 AS s2_station;
DROP ROLE IF EXISTS i_enum;
CREATE ROLE i_enum IN ROLE frt_matcher;
INSERT INTO frt.intrusion_policy (role_name, identified_per_hour) VALUES ('i_enum', 5);
SET SESSION AUTHORIZATION i_enum;
SELECT count(*) AS subjects FROM frt.identify('i_station', '[1,1,0]', 'i_hall', 10, 0.6);
SELECT count(*) AS subjects FROM frt.identify('i_station', '[1,1,0]', 'i_hall', 10, 0.6);
SELECT count(*) AS subjects FROM frt.identify('i_station', '[1,1,0]', 'i_hall', 10, 0.6);
-- the third identification would bring the count to six: it returns only
-- the one subject left of the limit (and alerts); the next is refused
SELECT gov_try($$SELECT * FROM frt.identify('i_station', '[1,1,0]', 'i_hall', 10, 0.6)$$);
RESET SESSION AUTHORIZATION;
SELECT kind, role_name, detail FROM frt.alert WHERE kind = 'bulk_identification';
SELECT event, sum(n) AS n, sum(subjects) AS subjects FROM frt.intrusion_counter
 WHERE role_name = 'i_enum' GROUP BY 1;

-- 3. Bulk export: 2 an hour for role i_export (a frt_admin)
SELECT frt.register_subject('i_s3', '1970-01-01') IS NOT NULL AS registered;
SELECT frt.give_consent('i_s3', 'i_door', 'self', 'written', NULL, true) > 0 AS transfer_consent;
SELECT frt.enroll('i_s3', 'i_door', '[0,0,1]', 'i_office') > 0 AS s3;
DROP ROLE IF EXISTS i_export;
CREATE ROLE i_export IN ROLE frt_admin;
INSERT INTO frt.intrusion_policy (role_name, export_rate_per_hour) VALUES ('i_export', 2);
SET SESSION AUTHORIZATION i_export;
SELECT count(*) AS faces FROM frt.export_faces('i_s3', 'i_door');
SELECT count(*) AS faces FROM frt.export_faces('i_s3', 'i_door');
SELECT gov_try($$SELECT * FROM frt.export_faces('i_s3', 'i_door')$$);
-- the rates come from per-minute counters kept with the audit records
SELECT role_name, event, sum(n) AS n FROM frt.intrusion_counter
 WHERE role_name IN ('i_gate', 'i_export') GROUP BY 1, 2 ORDER BY 1, 2;
-- frt_admin reads the alerts and the limits; it cannot read the audit trail itself
SELECT kind, role_name, detail FROM frt.alert WHERE kind = 'bulk_export';
SELECT role_name, export_rate_per_hour FROM frt.intrusion_policy WHERE role_name = 'i_export';
SELECT gov_try('SELECT count(*) FROM frt.audit');
RESET SESSION AUTHORIZATION;
-- a matcher can neither read alerts nor change limits
SET SESSION AUTHORIZATION i_gate;
SELECT gov_try('SELECT count(*) FROM frt.alert');
SELECT gov_try($$DELETE FROM frt.intrusion_policy$$);
RESET SESSION AUTHORIZATION;
-- no alert or refusal carries an embedding
SELECT count(*) AS leaks FROM frt.audit
 WHERE (event IN ('alert', 'refusal')) AND (detail::text LIKE '%[1,0,0]%' OR detail::text LIKE '%0.2,1%');

-- limits left out of a row get the defaults; the compliance report shows
-- the limits for roles without a row of their own, and warns when a rule is off
SELECT role_name, match_rate_per_minute, export_rate_per_hour, max_failed_verifications
  FROM frt.intrusion_policy ORDER BY role_name;
SELECT status, detail FROM frt.compliance_report() WHERE check_name = 'intrusion_detection';
UPDATE frt.intrusion_policy SET max_failed_verifications = NULL WHERE role_name = '*';
SELECT status, detail FROM frt.compliance_report() WHERE check_name = 'intrusion_detection';

-- Art. 14 identification_exposure: exact scores, k above the default and
-- the identified-subjects limit switched off are each named (purposes and
-- roles, nothing else).  From a state without any warning (other tests'
-- purposes may warn), one thing at a time:
BEGIN;
UPDATE frt.purpose SET score_disclosure = 'rounded', max_k = frt._identify_k_default();
SELECT status, detail FROM frt.compliance_report() WHERE check_name = 'identification_exposure';
UPDATE frt.purpose SET score_disclosure = 'exact' WHERE name = 'i_door';
SELECT status, detail FROM frt.compliance_report() WHERE check_name = 'identification_exposure';
UPDATE frt.purpose SET score_disclosure = 'rounded' WHERE name = 'i_door';
UPDATE frt.purpose SET max_k = frt._identify_k_default() + 1 WHERE name = 'i_station';
SELECT status, detail FROM frt.compliance_report() WHERE check_name = 'identification_exposure';
UPDATE frt.purpose SET max_k = frt._identify_k_default() WHERE name = 'i_station';
-- one role's limit off
INSERT INTO frt.intrusion_policy (role_name, identified_per_hour) VALUES ('i_enum', NULL)
	ON CONFLICT (role_name) DO UPDATE SET identified_per_hour = NULL;
SELECT status, detail FROM frt.compliance_report() WHERE check_name = 'identification_exposure';
-- and the '*' row's (listed first), with the others at once; the detail
-- names, it shows no score
UPDATE frt.intrusion_policy SET identified_per_hour = NULL WHERE role_name = '*';
UPDATE frt.purpose SET score_disclosure = 'exact', max_k = frt._identify_k_default() + 5
 WHERE name IN ('i_door', 'i_station');
SELECT status, detail ~ '0\.[0-9]' AS shows_a_score, detail FROM frt.compliance_report()
 WHERE check_name = 'identification_exposure';
-- without a '*' row the built-in limit (on) applies
DELETE FROM frt.intrusion_policy WHERE role_name = '*';
SELECT status, detail FROM frt.compliance_report() WHERE check_name = 'identification_exposure';
ROLLBACK;

-- leave no limits and no roles behind for later tests
DELETE FROM frt.intrusion_policy;
DROP ROLE i_gate;
DROP ROLE i_enum;
DROP ROLE i_export;

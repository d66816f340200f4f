-- Who may loosen the intrusion limits (Measures Art. 14): nobody loosens
-- the limits that bind themselves (MF014, recorded, nothing changed);
-- loosening another account's limits works, and every loosening raises
-- the alert intrusion_policy_loosened with the row before and after; every
-- change is recorded with before and after.
SELECT gov_world('ipg');
SELECT frt.give_consent('ipg_s2', 'ipg_station', 'self', 'written', p_transfer_consent => true) > 0 AS transfer;
SELECT frt.enroll('ipg_s1', 'ipg_door', '[1,0,0]', 'ipg_office') > 0 AS s1,
	   frt.enroll('ipg_s2', 'ipg_station', '[0,1,0]', 'ipg_hall') > 0 AS s2;
SELECT coalesce(max(seq), 0) AS start_seq FROM frt.audit \gset
DROP ROLE IF EXISTS ipg_admin1, ipg_admin2, ipg_admin3;
CREATE ROLE ipg_admin1 IN ROLE frt_admin, frt_matcher;	-- an admin that also matches
CREATE ROLE ipg_admin2 IN ROLE frt_admin;
CREATE ROLE ipg_admin3 IN ROLE frt_admin;
-- every role without its own row: 2 exports an hour, lockout after 3 failures
INSERT INTO frt.intrusion_policy (role_name, export_rate_per_hour, max_failed_verifications)
VALUES ('*', 2, 3);

-- 1. The attack: ipg_admin1, bound by '*', uses up its exports ...
SET SESSION AUTHORIZATION ipg_admin1;
SELECT count(*) AS exported FROM frt.export_faces('ipg_s2', 'ipg_station');
SELECT count(*) AS exported FROM frt.export_faces('ipg_s2', 'ipg_station');
SELECT gov_try($$SELECT * FROM frt.export_faces('ipg_s2', 'ipg_station')$$) AS third_export;
-- ... and tries to lift the limit that binds it, every way there is
SELECT gov_refused($$UPDATE frt.intrusion_policy SET export_rate_per_hour = 1000 WHERE role_name = '*'$$) AS raise_star;
SELECT gov_refused($$UPDATE frt.intrusion_policy SET export_rate_per_hour = NULL WHERE role_name = '*'$$) AS rule_off;
SELECT gov_refused($$DELETE FROM frt.intrusion_policy WHERE role_name = '*'$$) AS delete_star;
SELECT gov_refused($$UPDATE frt.intrusion_policy SET role_name = 'nobody' WHERE role_name = '*'$$) AS rename_star;
SELECT gov_refused($$INSERT INTO frt.intrusion_policy (role_name, export_rate_per_hour, max_failed_verifications) VALUES ('ipg_admin1', NULL, 3)$$) AS own_row_looser;
SELECT gov_refused($$UPDATE frt.intrusion_policy SET failure_window = '1 second' WHERE role_name = '*'$$) AS shorter_window;
SELECT gov_refused($$UPDATE frt.intrusion_policy SET lockout = '1 second' WHERE role_name = '*'$$) AS shorter_lockout;
-- still blocked: the limit held
SELECT gov_try($$SELECT * FROM frt.export_faces('ipg_s2', 'ipg_station')$$) AS still_blocked;
-- brute force is still locked out after 3 failures
SELECT matched FROM frt.verify('ipg_s1', 'ipg_door', '[0,0,1]', 'ipg_office');
SELECT matched FROM frt.verify('ipg_s1', 'ipg_door', '[0,1,0]', 'ipg_office');
SELECT matched FROM frt.verify('ipg_s1', 'ipg_door', '[0,1,1]', 'ipg_office');
SELECT regexp_replace(gov_try($$SELECT * FROM frt.verify('ipg_s1', 'ipg_door', '[1,0.1,0]', 'ipg_office')$$),
	'until .* after', 'until ... after') AS locked;
-- tightening its own limits is fine
SELECT gov_try($$INSERT INTO frt.intrusion_policy (role_name, export_rate_per_hour, max_failed_verifications) VALUES ('ipg_admin1', 1, 2)$$) AS own_row_tighter;
SELECT gov_try($$UPDATE frt.intrusion_policy SET lockout = '1 hour' WHERE role_name = 'ipg_admin1'$$) AS longer_lockout;
-- with a row of its own, '*' no longer binds it: loosening '*' for the
-- others is allowed (and alerted), its own row still cannot be loosened
SELECT gov_try($$UPDATE frt.intrusion_policy SET export_rate_per_hour = 5 WHERE role_name = '*'$$) AS loosen_star_for_others;
SELECT gov_refused($$UPDATE frt.intrusion_policy SET export_rate_per_hour = 10 WHERE role_name = 'ipg_admin1'$$) AS raise_own;
SELECT gov_refused($$DELETE FROM frt.intrusion_policy WHERE role_name = 'ipg_admin1'$$) AS delete_own;
RESET SESSION AUTHORIZATION;

-- 2. ipg_admin2 has no row of its own: '*' binds it, so it cannot loosen '*'
SET SESSION AUTHORIZATION ipg_admin2;
SELECT gov_refused($$UPDATE frt.intrusion_policy SET export_rate_per_hour = 50 WHERE role_name = '*'$$) AS admin2_star;
-- but it may loosen ipg_admin1's row: a second account (four eyes), alerted
SELECT gov_try($$UPDATE frt.intrusion_policy SET export_rate_per_hour = 3 WHERE role_name = 'ipg_admin1'$$) AS admin2_for_admin1;
-- and it may create a row for another role
SELECT gov_try($$INSERT INTO frt.intrusion_policy (role_name, export_rate_per_hour) VALUES ('ipg_admin3', 1)$$) AS admin2_for_admin3;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION ipg_admin3;
SELECT gov_refused($$UPDATE frt.intrusion_policy SET export_rate_per_hour = 7 WHERE role_name = 'ipg_admin3'$$) AS admin3_own;
RESET SESSION AUTHORIZATION;

-- 3. The record: every change with before and after, refusals, alerts
SELECT outcome, detail->>'role_name' AS row, detail->>'op' AS op, detail->>'changed_by' AS by,
	   detail->'before'->>'export_rate_per_hour' AS export_before,
	   detail->'after'->>'export_rate_per_hour' AS export_after
  FROM frt.audit WHERE event = 'intrusion_policy' AND seq > :start_seq ORDER BY seq;
SELECT role_name, outcome, sqlstate, detail->>'function' AS function,
	   regexp_replace(detail->>'reason', ' \(.*', '') AS reason
  FROM frt.audit WHERE event = 'refusal' AND detail->>'function' = 'intrusion_policy' AND seq > :start_seq ORDER BY seq;
SELECT kind, detail->>'role_name' AS row, detail->>'changed_by' AS by,
	   detail->'before'->>'export_rate_per_hour' AS export_before,
	   detail->'after'->>'export_rate_per_hour' AS export_after
  FROM frt.alert WHERE kind = 'intrusion_policy_loosened' AND seq > :start_seq ORDER BY seq;

-- 4. What counts as looser
SELECT frt._intrusion_policy_looser(ROW('x', 5, 10, 5, '15 minutes', '30 minutes', NULL),
									ROW('x', 5, 10, 5, '15 minutes', '30 minutes', NULL)) AS same,
	   frt._intrusion_policy_looser(ROW('x', 5, 10, 5, '15 minutes', '30 minutes', NULL),
									ROW('x', 4, 9, 4, '20 minutes', '1 hour', 10)) AS tighter,
	   frt._intrusion_policy_looser(ROW('x', NULL, 10, 5, '15 minutes', '30 minutes', NULL),
									ROW('x', 100, 10, 5, '15 minutes', '30 minutes', NULL)) AS limit_set,
	   frt._intrusion_policy_looser(ROW('x', 5, 10, 5, '15 minutes', '30 minutes', NULL),
									ROW('x', NULL, 10, 5, '15 minutes', '30 minutes', NULL)) AS rule_off,
	   frt._intrusion_policy_looser(ROW('x', 5, 10, 5, '15 minutes', '30 minutes', 10),
									ROW('x', 5, 10, 5, '15 minutes', '30 minutes', 11)) AS raised,
	   frt._intrusion_policy_looser(ROW('x', 5, 10, 5, '15 minutes', '30 minutes', NULL),
									NULL) AS row_gone;

-- superusers are neither bound nor alerted on; their changes are recorded
DELETE FROM frt.intrusion_policy;
SELECT count(*) AS loosened_alerts FROM frt.alert WHERE kind = 'intrusion_policy_loosened' AND seq > :start_seq;
DROP ROLE ipg_admin1, ipg_admin2, ipg_admin3;

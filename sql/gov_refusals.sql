-- Every refusal of the Measures: SQLSTATE class MF, the article in the
-- message and in the CONSTRAINT field (gov_try checks that they agree), and
-- nothing written (gov_refused compares gov_state()).
SELECT gov_world('r');
SELECT frt.enroll('r_s1', 'r_door', '[1,0,0]', 'r_office') > 0 AS enrolled_control;
SELECT frt.enroll('r_s1', 'r_station', '[1,0,0]', 'r_hall') > 0 AS enrolled_control;

-- Art. 4: unregistered purpose; purpose used for the other kind of matching
SELECT gov_refused($$SELECT frt.enroll('r_s1', 'r_nope', '[1,0,0]', 'r_office')$$);
SELECT gov_refused($$SELECT frt.verify('r_s1', 'r_station', '[1,0,0]', 'r_hall')$$);
SELECT gov_refused($$SELECT frt.identify('r_door', '[1,0,0]', 'r_office')$$);

-- Art. 5: no processor registered at all (purposes name one: only a
-- load without foreign-key checks can leave them without)
BEGIN;
SET LOCAL session_replication_role = replica;
DELETE FROM frt.processor;
RESET session_replication_role;
SELECT gov_refused($$SELECT frt.enroll('r_s2', 'r_door', '[0,1,0]', 'r_office')$$);
ROLLBACK;
-- Art. 5: no notice for the purpose
INSERT INTO frt.purpose (name, kind, description, method, retention, alternative_method)
VALUES ('r_silent', 'verification', 'door', '1:1', '1 year', 'badge');
INSERT INTO frt.assessment (purpose, assessor, report) VALUES ('r_silent', 'dpo', 'PIA');
SELECT gov_refused($$SELECT frt.enroll('r_s2', 'r_silent', '[0,1,0]', 'r_office')$$);
SELECT gov_refused($$SELECT frt.give_consent('r_s2', 'r_silent', 'self', 'written')$$);

-- Art. 6: no consent; consent not separate; consent withdrawn
SELECT frt.register_subject('r_s3', '1970-03-03');
SELECT gov_refused($$SELECT frt.enroll('r_s3', 'r_door', '[0,1,0]', 'r_office')$$);
SELECT gov_refused($$SELECT frt.verify('r_s3', 'r_door', '[0,1,0]', 'r_office')$$);
SELECT gov_refused($$SELECT frt.enroll('r_unknown', 'r_door', '[0,1,0]', 'r_office')$$);
SELECT frt.give_consent('r_s3', 'r_door', 'self', 'written', p_separate => false) > 0 AS bundled_consent;
SELECT gov_refused($$SELECT frt.enroll('r_s3', 'r_door', '[0,1,0]', 'r_office')$$);
SELECT frt.withdraw_consent('r_s2', 'r_door');
SELECT gov_refused($$SELECT frt.enroll('r_s2', 'r_door', '[0,1,0]', 'r_office')$$);
SELECT gov_refused($$SELECT frt.verify('r_s2', 'r_door', '[0,1,0]', 'r_office')$$);
-- a withdrawal is final (direct DML cannot undo it)
SELECT gov_refused($$UPDATE frt.consent SET withdrawn_at = NULL WHERE subject = 'r_s2' AND purpose = 'r_door'$$);

-- Art. 12: consent recorded as a condition of service
SELECT frt.register_subject('r_s4', '1971-04-04');
SELECT frt.give_consent('r_s4', 'r_door', 'self', 'in_person', p_condition_of_service => true) > 0 AS coerced_consent;
SELECT gov_refused($$SELECT frt.enroll('r_s4', 'r_door', '[0,1,0]', 'r_office')$$);

-- Art. 7: under 14 with consent given by the child
SELECT frt.register_subject('r_kid2', (CURRENT_DATE - interval '13 years 11 months')::date);
SELECT frt.give_consent('r_kid2', 'r_door', 'self', 'written') > 0 AS child_consent;
SELECT gov_refused($$SELECT frt.enroll('r_kid2', 'r_door', '[0,1,0]', 'r_office')$$);
SELECT gov_refused($$SELECT frt.verify('r_kid2', 'r_door', '[0,1,0]', 'r_office')$$);
-- and a 14-year-old may consent personally
SELECT frt.register_subject('r_teen', (CURRENT_DATE - interval '14 years')::date);
SELECT frt.give_consent('r_teen', 'r_door', 'self', 'written') > 0 AS teen_consent;
SELECT frt.enroll('r_teen', 'r_door', '[0,1,0]', 'r_office') > 0 AS teen_enrolled;
-- the guardian-consented child enrols, with the minor retention (90 days)
SELECT frt.enroll('r_kid', 'r_door', '[0,0,1]', 'r_office') > 0 AS kid_enrolled;
SELECT minor, expires_at - enrolled_at AS kept FROM frt.face WHERE subject = 'r_kid';

-- Art. 8: retention beyond the purpose's (adult) or the minor retention (child)
SELECT gov_refused($$SELECT frt.enroll('r_s1', 'r_door', '[1,0,0]', 'r_office', '2 years')$$);
SELECT gov_refused($$SELECT frt.enroll('r_kid', 'r_door', '[1,0,0]', 'r_office', '100 days')$$);
SELECT frt.enroll('r_s1', 'r_door', '[1,0,0]', 'r_office', '1 day') > 0 AS shorter_retention_ok;
-- Art. 8: export without separate transfer consent
SELECT gov_refused($$SELECT * FROM frt.export_faces('r_s1', 'r_door')$$);

-- Art. 9: no assessment; expired; voided by a change of method; of retention
INSERT INTO frt.purpose (name, kind, description, method, retention, alternative_method)
VALUES ('r_unassessed', 'verification', 'door', '1:1', '1 year', 'badge');
SELECT frt.publish_notice('r_unassessed', 'n', 'm', 'r', 'i', 'rights', 'large print and audio at the desk');
SELECT frt.give_consent('r_s1', 'r_unassessed', 'self', 'written') > 0 AS consent;
SELECT gov_refused($$SELECT frt.enroll('r_s1', 'r_unassessed', '[1,0,0]', 'r_office')$$);
INSERT INTO frt.assessment (purpose, assessor, report, valid_until)
VALUES ('r_unassessed', 'dpo', 'old PIA', CURRENT_DATE - 1);
SELECT gov_refused($$SELECT frt.enroll('r_s1', 'r_unassessed', '[1,0,0]', 'r_office')$$);
UPDATE frt.purpose SET method = '1:1 with liveness check' WHERE name = 'r_door';
SELECT purpose, void_reason FROM frt.assessment WHERE purpose = 'r_door';
SELECT gov_refused($$SELECT frt.enroll('r_s1', 'r_door', '[1,0,0]', 'r_office')$$);
SELECT gov_refused($$SELECT frt.verify('r_s1', 'r_door', '[1,0,0]', 'r_office')$$);
INSERT INTO frt.assessment (purpose, assessor, report) VALUES ('r_door', 'dpo', 'PIA door v2');
-- the notice in force no longer states the method (Art. 5): a new version,
-- then the person's renewed consent
SELECT gov_refused($$SELECT frt.verify('r_s1', 'r_door', '[1,0,0]', 'r_office')$$);
SELECT frt.publish_notice('r_door', 'We check liveness.', '1:1 with liveness check', 'kept 1 year',
	'low impact', 'write to dpo@acme.example', 'large print and audio at the desk') AS notice_v2;
SELECT frt.give_consent('r_s1', 'r_door', 'self', 'written') > 0 AS renewed_v2;
SELECT (frt.verify('r_s1', 'r_door', '[1,0,0]', 'r_office')).matched AS reassessed_verify;
UPDATE frt.purpose SET retention = '180 days' WHERE name = 'r_door';
SELECT purpose, void_reason FROM frt.assessment WHERE purpose = 'r_door' ORDER BY id;
SELECT gov_refused($$SELECT frt.enroll('r_s1', 'r_door', '[1,0,0]', 'r_office')$$);
-- a shorter retention also shortened the stored expiries (Art. 8)
SELECT count(*) FILTER (WHERE expires_at - enrolled_at > interval '180 days') AS beyond_new_retention
FROM frt.face WHERE purpose = 'r_door';
-- a mere threshold change does not void
INSERT INTO frt.assessment (purpose, assessor, report) VALUES ('r_door', 'dpo', 'PIA door v3');
UPDATE frt.purpose SET similarity_threshold = 0.7 WHERE name = 'r_door';
SELECT frt.has_current_assessment('r_door');
SELECT frt.publish_notice('r_door', 'We check liveness; kept 180 days.', '1:1 with liveness check',
	'kept 180 days', 'low impact', 'write to dpo@acme.example', 'large print and audio at the desk') AS notice_v3;
SELECT frt.give_consent('r_s1', 'r_door', 'self', 'written') > 0 AS renewed_v3;
-- a major incident: the admin voids by hand
SELECT frt.void_assessment('r_station', 'major incident: device stolen');
SELECT gov_refused($$SELECT * FROM frt.identify('r_station', '[1,0,0]', 'r_hall')$$);
INSERT INTO frt.assessment (purpose, assessor, report) VALUES ('r_station', 'dpo', 'PIA station v2');

-- Art. 10: verification purpose without a non-face alternative
INSERT INTO frt.purpose (name, kind, description, method, retention)
VALUES ('r_noalt', 'verification', 'payment', '1:1 at the till', '1 year');
SELECT frt.publish_notice('r_noalt', 'n', 'm', 'r', 'i', 'rights', 'large print and audio at the desk');
INSERT INTO frt.assessment (purpose, assessor, report) VALUES ('r_noalt', 'dpo', 'PIA');
SELECT frt.give_consent('r_s1', 'r_noalt', 'self', 'written') > 0 AS consent;
SELECT gov_refused($$SELECT frt.enroll('r_s1', 'r_noalt', '[1,0,0]', 'r_office')$$);
-- declining is recorded, blocks nothing, and names the alternative
SELECT frt.record_decline('r_door', 'r_s2', 'r_office');
SELECT (frt.verify('r_s1', 'r_door', '[1,0,0]', 'r_office')).matched AS others_unaffected;

-- Art. 13: private space; public place for a non-public-security purpose;
-- public place without signage; unregistered device
INSERT INTO frt.device (name, location_type) VALUES ('r_changing_room', 'private_space');
INSERT INTO frt.device (name, location_type, capture_area) VALUES ('r_bare_cam', 'public_place', 'square');
SELECT gov_refused($$SELECT frt.enroll('r_s1', 'r_door', '[1,0,0]', 'r_changing_room')$$);
SELECT gov_refused($$SELECT frt.verify('r_s1', 'r_door', '[1,0,0]', 'r_changing_room')$$);
SELECT gov_refused($$SELECT frt.identify('r_station', '[1,0,0]', 'r_changing_room')$$);
SELECT gov_refused($$SELECT frt.enroll('r_s1', 'r_door', '[1,0,0]', 'r_hall')$$);
SELECT gov_refused($$SELECT frt.identify('r_station', '[1,0,0]', 'r_bare_cam')$$);
SELECT gov_refused($$SELECT frt.enroll('r_s1', 'r_door', '[1,0,0]', 'r_ghost')$$);
SELECT gov_refused($$SELECT frt.enroll('r_s1', 'r_door', '[1,0,0]', NULL)$$);

-- Art. 5: a material notice change requires re-notice; renewal restores
SELECT frt.publish_notice('r_door', 'We now also check liveness.', '1:1 with liveness', 'kept 180 days',
	'low impact', 'write to dpo@acme.example', 'large print and audio at the desk');
SELECT subject, notice_version, needs_renotice FROM frt.consent
WHERE purpose = 'r_door' AND withdrawn_at IS NULL ORDER BY subject;
SELECT gov_refused($$SELECT frt.enroll('r_s1', 'r_door', '[1,0,0]', 'r_office')$$);
SELECT gov_refused($$SELECT frt.verify('r_s1', 'r_door', '[1,0,0]', 'r_office')$$);
SELECT frt.give_consent('r_s1', 'r_door', 'self', 'written') > 0 AS renewed;
SELECT (frt.verify('r_s1', 'r_door', '[1,0,0]', 'r_office')).matched AS verify_after_renotice;
-- a non-material change (typo fix) does not
SELECT frt.publish_notice('r_door', 'We now also check liveness (typo fixed).', '1:1 with liveness',
	'kept 180 days', 'low impact', 'write to dpo@acme.example', 'large print and audio at the desk', false);
SELECT (frt.verify('r_s1', 'r_door', '[1,0,0]', 'r_office')).matched AS verify_after_minor_notice;
-- notices cannot be edited or back-dated to an older version
SELECT gov_refused($$UPDATE frt.notice SET body = 'x' WHERE purpose = 'r_door'$$);
SELECT gov_refused($$INSERT INTO frt.notice VALUES ('r_door', 1, 'b', 'm', 'r', 'n', 'rights', 'a')$$);

-- Bad input (not refusals): clear errors, nothing changed
SELECT gov_refused($$SELECT frt.enroll('r_s1', 'r_door', NULL, 'r_office')$$);
SELECT gov_refused($$SELECT frt.enroll('r_s1', 'r_door', '[1,0,0,0]', 'r_office')$$);
-- a zero vector, or one whose length is out of real's range (its squared
-- length overflows, or is below the smallest normal real), can be neither
-- enrolled nor matched; the message never shows a component
SELECT gov_refused($$SELECT frt.enroll('r_s1', 'r_door', '[0,0,-0]', 'r_office')$$);
SELECT gov_refused($$SELECT frt.enroll('r_s1', 'r_door', '[3e38,3e38,0.123456]', 'r_office')$$);
SELECT gov_refused($$SELECT frt.enroll('r_s1', 'r_door', '[1.23456e-20,1e-20,0]', 'r_office')$$);
SELECT gov_refused($$SELECT frt.verify('r_s1', 'r_door', '[0,0,0]', 'r_office')$$);
SELECT gov_refused($$SELECT frt.verify('r_s1', 'r_door', '[1e20,3.4e38,0.123456]', 'r_office')$$);
SELECT gov_refused($$SELECT * FROM frt.identify('r_station', '[0,0,0]', 'r_hall')$$);
SELECT gov_refused($$SELECT * FROM frt.identify('r_station', '[0.123456,-3e38,3e38]', 'r_hall')$$);
-- a small but normal length is fine
SELECT (frt.verify('r_s1', 'r_door', '[1e-18,0,0]', 'r_office')).matched AS small_length_matched;
SELECT gov_refused($$SELECT frt.enroll('r_s1', 'r_door', '[1,0,0]', 'r_office', '-1 day')$$);
SELECT gov_refused($$SELECT frt.identify('r_station', '[1,0,0]', 'r_hall', 0)$$);
SELECT gov_refused($$SELECT frt.identify('r_station', '[1,0,0]', 'r_hall', 1, 2.0)$$);
SELECT gov_refused($$SELECT frt.withdraw_consent('r_nobody', 'r_door')$$);
SELECT gov_refused($$SELECT frt.erase_subject('r_nobody')$$);

-- Every refusal is handed to frt.audit_event (event 'refusal', with its
-- SQLSTATE) before it is raised; the audit layer keeps that record even
-- though the refused transaction rolls back.  Shown here by swapping in an
-- audit_event that reports its arguments, inside a rolled-back transaction.
BEGIN;
CREATE OR REPLACE FUNCTION frt.audit_event(p_event text, p_outcome text, p_purpose text DEFAULT NULL,
	p_subject text DEFAULT NULL, p_device text DEFAULT NULL, p_similarity float8 DEFAULT NULL,
	p_sqlstate text DEFAULT NULL, p_detail jsonb DEFAULT NULL) RETURNS int8 LANGUAGE plpgsql AS $f$
BEGIN
	RAISE NOTICE 'audit_event(%, %, %, %, %, %, %)', p_event, p_outcome, p_purpose, p_subject, p_device,
		p_sqlstate, p_detail;
	RETURN 0;
END $f$;
\set VERBOSITY terse
SELECT frt.enroll('r_s1', 'r_door', '[1,0,0]', 'r_changing_room');
\set VERBOSITY default
ROLLBACK;
DO $$
BEGIN
	PERFORM frt.enroll('r_s1', 'r_door', '[1,0,0]', 'r_changing_room');
EXCEPTION WHEN SQLSTATE 'MF013' THEN
	RAISE NOTICE 'caught %', SQLSTATE;
END $$;
-- the same refusal at top level, with only the SQLSTATE shown
\set VERBOSITY sqlstate
SELECT frt.enroll('r_s1', 'r_door', '[1,0,0]', 'r_changing_room');
SELECT frt.verify('r_s3', 'r_door', '[1,0,0]', 'r_office');
\set VERBOSITY default

-- The article is also the error's CONSTRAINT field, 'Measures Art. N', for
-- clients (psycopg: e.diag.constraint_name; JDBC:
-- getServerErrorMessage().getConstraint()); DETAIL and HINT as usual.
CREATE FUNCTION pg_temp.refusal_fields(q text)
RETURNS TABLE (code text, constraint_name text, message text, detail text, hint text)
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, constraint_name = CONSTRAINT_NAME,
		message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
	RETURN NEXT;
END
$$;
\x on
SELECT * FROM pg_temp.refusal_fields($$SELECT frt.enroll('r_s1', 'r_door', '[1,0,0]', 'r_changing_room')$$);
SELECT * FROM pg_temp.refusal_fields($$UPDATE frt.consent SET withdrawn_at = NULL WHERE subject = 'r_s2' AND purpose = 'r_door'$$);
\x off
-- and it is recorded like every other refusal
SELECT sqlstate, detail->>'function' AS function, detail->>'article' AS article
  FROM frt.audit WHERE event = 'refusal' AND subject = 'r_s2' ORDER BY seq DESC LIMIT 1;
-- frt._refuse raises class MF only
SELECT gov_try($$SELECT frt._refuse('22023', 6, 'x', 'x', NULL, NULL, NULL)$$);

-- Refusals are raised only by frt._refuse (in C: FrtRefuse; checked by
-- test/t/009_refusal_helper.pl): no other function of frt_governance names
-- an MF SQLSTATE except as _refuse's first argument (or to catch it), or
-- sets ERRCODE to anything but a literal.  Lists offenders; none expected.
SELECT p.oid::regprocedure AS raises_a_refusal_itself
  FROM pg_depend d
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'frt_governance'
  JOIN pg_proc p ON p.oid = d.objid
 WHERE d.classid = 'pg_proc'::regclass AND d.refclassid = 'pg_extension'::regclass
   AND d.deptype = 'e' AND p.prolang <> (SELECT oid FROM pg_language WHERE lanname = 'c')
   AND p.proname NOT IN ('_refuse', '_reject')
   AND (regexp_replace(p.prosrc, '(_refuse\s*\(\s*|WHEN\s+SQLSTATE\s+)''MF', '', 'gi') ~* '''MF[0-9A-Z]{3}'''
        OR EXISTS (SELECT 1 FROM regexp_matches(p.prosrc, 'ERRCODE\s*:?=\s*([^,;]*)', 'gi') m
                   WHERE m[1] !~ '^''[^'']*''\s*$' OR m[1] ~* '^''MF'))
 ORDER BY 1;

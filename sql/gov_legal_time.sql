-- Legal time (Art. 7, 8, 9, 15) and consent evidence (Art. 5, 6).
-- Ages, assessment validity, retention ends and filing days are computed in
-- the processor's legal time zone (frt.processor.legal_time_zone, default
-- Asia/Shanghai), whatever the session's TimeZone: every check below runs
-- under UTC+14 and UTC-12 (26 hours apart: their dates always differ) and
-- must give the same answers.  Dates themselves are compared, not printed.
\set VERBOSITY terse
SET client_min_messages = warning;
SELECT gov_world('lt');

-- The zone: a real tz database name, Asia/Shanghai by default.
SELECT legal_time_zone FROM frt.processor WHERE name = 'Acme Ltd';
SELECT gov_try($$INSERT INTO frt.processor (name, contact, legal_time_zone) VALUES ('Bad', 'x', 'CST')$$);
SELECT gov_try($$INSERT INTO frt.processor (name, contact, legal_time_zone) VALUES ('Bad', 'x', 'UTC+3')$$);
SELECT gov_try($$INSERT INTO frt.processor (name, contact, legal_time_zone) VALUES ('Bad', 'x', 'Mars/Olympus_Mons')$$);
SELECT gov_try($$INSERT INTO frt.processor (name, contact, legal_time_zone) VALUES ('Bad', 'x', NULL)$$);
SELECT frt._legal_zone('lt_door') AS zone, frt._legal_zone('no such purpose') IS NOT NULL AS has_default;
-- a purpose without a processor of its own: the zone the processors share
BEGIN;
UPDATE frt.processor SET legal_time_zone = 'Pacific/Kiritimati';
SELECT frt._legal_zone('lt_door') AS zone,
	frt._legal_today('lt_door') = (now() AT TIME ZONE 'Pacific/Kiritimati')::date AS today_in_zone,
	frt._filing_today() = (now() AT TIME ZONE 'Pacific/Kiritimati')::date AS filing_in_zone;
-- its own processor's zone; processors that differ leave the installation
-- on Asia/Shanghai
INSERT INTO frt.processor (name, contact, legal_time_zone) VALUES ('LT Ltd', 'dpo@lt.example', 'Etc/GMT+12');
INSERT INTO frt.purpose (name, processor, kind, description, method, retention, alternative_method)
VALUES ('lt_far', 'LT Ltd', 'verification', 'door', '1:1', '1 year', 'badge');
SELECT frt._legal_zone('lt_far') AS door, frt._legal_zone('lt_station') AS station, frt._legal_zone(NULL) AS installation;
ROLLBACK;

-- Fixtures relative to today's legal date: one subject turns 14 today,
-- one tomorrow (both consent themselves); an assessment valid until
-- today, one until yesterday.
SELECT frt.register_subject('lt_14_today', (frt._legal_today('lt_door') - interval '14 years')::date);
SELECT frt.register_subject('lt_14_tomorrow', (frt._legal_today('lt_door') - interval '14 years' + interval '1 day')::date);
SELECT frt.give_consent('lt_14_today', 'lt_door', 'self', 'written') > 0 AS consent;
SELECT frt.give_consent('lt_14_tomorrow', 'lt_door', 'self', 'written') > 0 AS consent;
INSERT INTO frt.purpose (name, processor, kind, description, method, retention, alternative_method)
VALUES ('lt_pia_today', 'Acme Ltd', 'verification', 'door', '1:1', '1 year', 'badge'),
	   ('lt_pia_yesterday', 'Acme Ltd', 'verification', 'door', '1:1', '1 year', 'badge');
INSERT INTO frt.assessment (purpose, assessor, report, valid_until)
VALUES ('lt_pia_today', 'dpo', 'PIA', frt._legal_today('lt_pia_today')),
	   ('lt_pia_yesterday', 'dpo', 'PIA', frt._legal_today('lt_pia_yesterday') - 1);

-- Enrol and report only the outcome: 'ok' and the stored span in days, or the SQLSTATE.
CREATE FUNCTION lt_enrol(s text, p text, d text, r interval) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	v_id int8;
BEGIN
	v_id := frt.enroll(s, p, '[1,0,0]', d, r);
	RETURN 'ok ' || (SELECT round(extract(epoch FROM f.expires_at - f.enrolled_at) / 86400, 2) || ' days'
						|| CASE WHEN f.minor THEN ' minor' ELSE '' END
					 FROM frt.face f WHERE f.id = v_id);
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE;
END
$$;

-- Every answer, with whether to print it (dates are compared, not shown).
CREATE FUNCTION lt_answers() RETURNS TABLE (n int, check_name text, answer text, shown bool)
LANGUAGE plpgsql AS $$
DECLARE
	v_cal bool;
BEGIN
	n := 0; shown := true;
	-- Art. 7: ages on the legal date
	n := n + 1; check_name := 'is_minor, turns 14 today';
	answer := frt.is_minor((SELECT birth_date FROM frt.subject WHERE id = 'lt_14_today'), 'lt_door'); RETURN NEXT;
	n := n + 1; check_name := 'is_minor, turns 14 tomorrow';
	answer := frt.is_minor((SELECT birth_date FROM frt.subject WHERE id = 'lt_14_tomorrow'), 'lt_door'); RETURN NEXT;
	n := n + 1; check_name := 'enrol with own consent, turns 14 today';
	answer := lt_enrol('lt_14_today', 'lt_door', 'lt_office', '30 days'); RETURN NEXT;
	n := n + 1; check_name := 'enrol with own consent, turns 14 tomorrow';
	answer := lt_enrol('lt_14_tomorrow', 'lt_door', 'lt_office', '30 days'); RETURN NEXT;
	-- Art. 9: an assessment valid until today is current, until yesterday not
	n := n + 1; check_name := 'assessment valid until today';
	answer := frt.has_current_assessment('lt_pia_today'); RETURN NEXT;
	n := n + 1; check_name := 'assessment valid until yesterday';
	answer := frt.has_current_assessment('lt_pia_yesterday'); RETURN NEXT;
	-- Art. 8: a requested retention ends no later than the purpose's
	-- (lt_station: 30 days), whatever its spelling
	n := n + 1; check_name := 'retention 1000 years -359970 days';
	answer := lt_enrol('lt_s1', 'lt_station', 'lt_hall', '1000 years -359970 days'); RETURN NEXT;
	n := n + 1; check_name := 'retention 83 years -29930 days';
	answer := lt_enrol('lt_s1', 'lt_station', 'lt_hall', '83 years -29930 days'); RETURN NEXT;
	n := n + 1; check_name := 'retention 720 hours';
	answer := lt_enrol('lt_s1', 'lt_station', 'lt_hall', '720 hours'); RETURN NEXT;
	n := n + 1; check_name := 'retention 721 hours';
	answer := lt_enrol('lt_s1', 'lt_station', 'lt_hall', '721 hours'); RETURN NEXT;
	n := n + 1; check_name := 'retention 4 weeks 2 days';
	answer := lt_enrol('lt_s1', 'lt_station', 'lt_hall', '4 weeks 2 days'); RETURN NEXT;
	n := n + 1; check_name := 'retention 30 days 1 second';
	answer := lt_enrol('lt_s1', 'lt_station', 'lt_hall', '30 days 1 second'); RETURN NEXT;
	n := n + 1; check_name := 'retention -1 day';
	answer := lt_enrol('lt_s1', 'lt_station', 'lt_hall', '-1 day'); RETURN NEXT;
	n := n + 1; check_name := 'retention default';
	answer := lt_enrol('lt_s1', 'lt_station', 'lt_hall', NULL); RETURN NEXT;
	-- '1 month' is accepted exactly when the calendar month from now in
	-- the legal zone is no longer than 30 days (February, or a 30-day month)
	v_cal := frt._legal_add(now(), '1 month', 'Asia/Shanghai') <= frt._legal_add(now(), '30 days', 'Asia/Shanghai');
	n := n + 1; check_name := 'retention 1 month as the calendar says';
	answer := lt_enrol('lt_s1', 'lt_station', 'lt_hall', '1 month') LIKE CASE WHEN v_cal THEN 'ok%' ELSE 'MF008' END;
	RETURN NEXT;
	n := n + 1; check_name := 'report: retention_within_purpose';
	answer := (SELECT r.status FROM frt.compliance_report() r WHERE r.check_name = 'retention_within_purpose'); RETURN NEXT;
	-- Art. 15: filing days are legal dates
	n := n + 1; check_name := 'filing today is the legal date';
	answer := frt._filing_today() = (now() AT TIME ZONE 'Asia/Shanghai')::date; RETURN NEXT;
	n := n + 1; check_name := 'working days to the deadline';
	answer := frt.working_days_between(frt._filing_today(), frt.working_days_after(frt._filing_today(), 30)); RETURN NEXT;
	n := n + 1; check_name := 'a filing dated tomorrow';
	answer := split_part(gov_try($q$SELECT frt.record_filing('change', frt._filing_today() + 1, 'LT-1')$q$), ':', 1); RETURN NEXT;
	shown := false;
	n := n + 1; check_name := 'filing today';
	answer := frt._filing_today(); RETURN NEXT;
	n := n + 1; check_name := 'filing deadline';
	answer := frt.working_days_after(frt._filing_today(), 30); RETURN NEXT;
	n := n + 1; check_name := 'legal today';
	answer := frt._legal_today('lt_door'); RETURN NEXT;
	n := n + 1; check_name := 'session date';	-- differs: proves the zones differ
	answer := CURRENT_DATE; RETURN NEXT;
END
$$;

SET TimeZone = 'Pacific/Kiritimati';
CREATE TEMP TABLE lt_east AS SELECT * FROM lt_answers();
SET TimeZone = 'Etc/GMT+12';
CREATE TEMP TABLE lt_west AS SELECT * FROM lt_answers();
RESET TimeZone;
SELECT e.check_name, e.answer AS east, w.answer AS west
  FROM lt_east e JOIN lt_west w USING (n) WHERE e.shown ORDER BY n;
-- every answer agrees, dates included; only the session's own date differs
SELECT e.check_name, e.answer = w.answer AS same
  FROM lt_east e JOIN lt_west w USING (n) WHERE NOT e.shown ORDER BY n;

-- A retention written with interval arithmetic cannot outlast the purpose:
-- interval comparison takes '1000 years -359970 days' for 30 days.
SELECT '1000 years -359970 days'::interval <= '30 days'::interval AS interval_compare_says_fits;

-- Consent evidence (Art. 5, 6).  The time of a consent is the server's:
-- frt.give_consent records the transaction's time; a direct INSERT that
-- supplies given_at or renewed_at is refused.  A consent cannot cite a
-- notice version that does not exist or was published after it.
SELECT frt.register_subject('lt_c1', '1990-02-02');
SELECT frt.register_subject('lt_c2', '1990-02-02');
BEGIN;
SELECT frt.give_consent('lt_c1', 'lt_door', 'self', 'written') > 0 AS consent;
SELECT given_at = now() AS server_time, renewed_at IS NULL AS not_renewed FROM frt.consent WHERE subject = 'lt_c1';
COMMIT;
BEGIN;
SET LOCAL ROLE frt_enroller;
SELECT gov_try($$INSERT INTO frt.consent (subject, purpose, notice_version, given_by, obtained_how, given_at)
	VALUES ('lt_c2', 'lt_door', 1, 'self', 'written', now() - interval '1 year')$$) AS backdated;
SELECT gov_try($$INSERT INTO frt.consent (subject, purpose, notice_version, given_by, obtained_how, given_at)
	VALUES ('lt_c2', 'lt_door', 1, 'self', 'written', now() + interval '1 day')$$) AS postdated;
SELECT gov_try($$INSERT INTO frt.consent (subject, purpose, notice_version, given_by, obtained_how, renewed_at)
	VALUES ('lt_c2', 'lt_door', 1, 'self', 'written', now())$$) AS renewed_on_insert;
SELECT gov_try($$INSERT INTO frt.consent (subject, purpose, notice_version, given_by, obtained_how)
	VALUES ('lt_c2', 'lt_door', 7, 'self', 'written')$$) AS no_such_notice;
SELECT gov_try($$INSERT INTO frt.consent (subject, purpose, notice_version, given_by, obtained_how, given_at)
	VALUES ('lt_c2', 'lt_door', 1, 'self', 'written', now())$$) AS server_time_given;
RESET ROLE;
SELECT subject, notice_version, given_at = now() AS server_time FROM frt.consent WHERE subject = 'lt_c2';
COMMIT;
-- each refusal is in the audit trail
SELECT sqlstate, detail->>'function' AS function, count(*) FROM frt.audit
 WHERE event = 'refusal' AND subject = 'lt_c2' GROUP BY 1, 2 ORDER BY 1, 2;

-- A notice published in the future (the notice trigger refuses one; here it
-- is bypassed, as a restore or a clock step could) is cited by no consent
-- before it is published: give_consent and a direct INSERT are refused.
INSERT INTO frt.purpose (name, processor, kind, description, method, retention, alternative_method)
VALUES ('lt_future', 'Acme Ltd', 'verification', 'door', '1:1', '1 year', 'badge');
SELECT gov_try($$INSERT INTO frt.notice (purpose, body, processing_method, retention_statement,
	necessity_and_impact, rights_procedure, accessibility, published_at)
	VALUES ('lt_future', 'b', 'm', 'r', 'n', 'p', 'a', now() + interval '1 hour')$$) AS future_notice;
SET session_replication_role = replica;
INSERT INTO frt.notice (purpose, version, body, processing_method, retention_statement,
	necessity_and_impact, rights_procedure, accessibility, published_at)
VALUES ('lt_future', 1, 'b', 'm', 'r', 'n', 'p', 'a', now() + interval '1 hour');
RESET session_replication_role;
SELECT gov_refused($$SELECT frt.give_consent('lt_c2', 'lt_future', 'self', 'written')$$);
SET ROLE frt_enroller;
SELECT gov_try($$INSERT INTO frt.consent (subject, purpose, notice_version, given_by, obtained_how)
	VALUES ('lt_c2', 'lt_future', 1, 'self', 'written')$$) AS direct;
RESET ROLE;
-- renewing against a notice published later than the renewal: refused too
SET session_replication_role = replica;
INSERT INTO frt.notice (purpose, version, body, processing_method, retention_statement,
	necessity_and_impact, rights_procedure, accessibility, published_at)
VALUES ('lt_door', 99, 'b', 'm', 'r', 'n', 'p', 'a', now() + interval '1 hour');
RESET session_replication_role;
SELECT gov_refused($$SELECT frt.give_consent('lt_c1', 'lt_door', 'self', 'written')$$);
-- the time of a consent never changes
SELECT gov_try($$UPDATE frt.consent SET given_at = given_at - interval '1 day' WHERE subject = 'lt_c1'$$);
RESET client_min_messages;

-- What a standby's relay may claim on the primary (docs/audit.md, "What a
-- relay may claim").  A login of frt_audit_relay can call
-- frt.audit_event() and so could forge the records standbys relay: the
-- primary takes from it only the events a standby makes, each with an
-- origin of this cluster naming an existing, non-relay caller, and records
-- every refusal (MF143).  No other caller can put an origin in a record.
DROP ROLE IF EXISTS rc_relay, rc_victim;
CREATE ROLE rc_relay IN ROLE frt_audit_relay;
CREATE ROLE rc_victim IN ROLE frt_matcher;
CREATE FUNCTION rc_origin(r text, sysid text DEFAULT NULL) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_build_object('origin', jsonb_build_object('standby', 'site-b', 'role', r,
		'system_identifier', coalesce(sysid, (SELECT system_identifier::text FROM pg_control_system()))))
$$;
GRANT EXECUTE ON FUNCTION rc_origin(text, text) TO PUBLIC;
SELECT max(seq) AS before_seq FROM frt.audit \gset
SET SESSION AUTHORIZATION rc_relay;
-- forging records a standby never makes: an enrolment, an erasure, consent, a registry change
SELECT gov_try($$SELECT frt.audit_event('enrol', 'enrolled', 'door', 's1', NULL, NULL, NULL, rc_origin('rc_victim'))$$) AS enrol;
SELECT gov_try($$SELECT frt.audit_event('erasure', 'erased', 'door', 's1', NULL, NULL, NULL, rc_origin('rc_victim'))$$) AS erasure;
SELECT gov_try($$SELECT frt.audit_event('consent', 'withdrawn', 'door', 's1', NULL, NULL, NULL, rc_origin('rc_victim'))$$) AS consent;
SELECT gov_try($$SELECT frt.audit_event('registry', 'update', 'door', NULL, NULL, NULL, NULL, rc_origin('rc_victim'))$$) AS registry;
-- a match with no origin, one from another cluster, one naming no role or a relay
SELECT gov_try($$SELECT frt.audit_event('match', 'not_matched', 'door', 's1')$$) AS no_origin;
SELECT gov_try($$SELECT frt.audit_event('match', 'not_matched', 'door', 's1', NULL, NULL, NULL, '{"origin": "rc_victim"}')$$) AS origin_not_object;
SELECT gov_try($$SELECT frt.audit_event('match', 'not_matched', 'door', 's1', NULL, NULL, NULL, rc_origin('rc_victim', '42'))$$) AS other_cluster;
SELECT gov_try($$SELECT frt.audit_event('match', 'not_matched', 'door', 's1', NULL, NULL, NULL, rc_origin('rc_nobody'))$$) AS no_such_role;
SELECT gov_try($$SELECT frt.audit_event('match', 'not_matched', 'door', 's1', NULL, NULL, NULL, rc_origin('rc_relay'))$$) AS relay_as_origin;
-- what a standby does make is taken, with the relay login as role_name
SELECT frt.audit_event('match', 'matched', 'door', 's1', NULL, 0.9, NULL, rc_origin('rc_victim')) > 0 AS match_ok;
RESET SESSION AUTHORIZATION;
SELECT event, outcome, sqlstate, role_name, detail->>'relayed_event' AS relayed,
	   regexp_replace(detail->>'reason', 'relayed record refused: ', '') AS reason,
	   detail #>> '{origin,role}' AS origin_role
  FROM frt.audit WHERE seq > :before_seq ORDER BY seq;
-- anyone else (here a superuser) cannot claim an origin: it is kept as unverified_origin
SELECT frt.audit_event('match', 'matched', 'door', 's1', NULL, NULL, NULL, rc_origin('rc_victim')) > 0 AS recorded;
SELECT role_name, detail ? 'origin' AS has_origin, detail #>> '{unverified_origin,role}' AS unverified_role
  FROM frt.audit ORDER BY seq DESC LIMIT 1;
-- ... so the alert view and the intrusion counters, which read detail.origin, name the caller
SELECT frt.audit_event('alert', 'match_rate', NULL, NULL, NULL, NULL, NULL, rc_origin('rc_victim')) > 0 AS alert_recorded;
SELECT role_name, standby FROM frt.alert ORDER BY seq DESC LIMIT 1;
DROP FUNCTION rc_origin(text, text);
DROP ROLE rc_relay, rc_victim;

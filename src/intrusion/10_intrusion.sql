-- Layer 9: intrusion detection and prevention (Measures Art. 14: "detection
-- and blocking of abnormal access").  Three rules, each counted from the
-- audit trail (directly, or through per-minute counters the audit writer
-- keeps with each record), whose records no rollback, kill or crash can
-- take back (layer 6), so wrapping attempts in a transaction that is
-- rolled back does not hide them:
--   * brute-force verification: after max_failed_verifications failed
--     1:1 verifications of one subject for one purpose within
--     failure_window, verifying that subject for that purpose is refused
--     for lockout after the last failure (whoever asks);
--   * match rate: a role (session user) that has made match_rate_per_minute
--     verifications and identifications in this clock minute and the one
--     before is refused more until the rate falls (bulk extraction by
--     repeated 1:N queries);
--   * bulk export: a role that has made export_rate_per_hour exports of a
--     subject's faces in this minute and the 60 before is refused more;
--     likewise a role whose identifications returned identified_per_hour
--     subjects (enumerating the gallery through 1:N queries).
-- A refusal is SQLSTATE MF014, recorded like every other refusal.  When a
-- rule first trips, an alert goes into the audit trail (event 'alert', shown
-- by frt.alert) and the server log; alerts carry ids and counts, never an
-- embedding.  Limits come from frt.intrusion_policy: the session user's
-- row, else the row for '*', else the built-in defaults of
-- frt._intrusion_limits; a column left out of an INSERT gets the default,
-- and a limit set to NULL switches its rule off for that row.

CREATE TABLE @extschema@.intrusion_policy (
	role_name	pg_catalog.text PRIMARY KEY,	-- a role name, or '*' for every other role
	match_rate_per_minute pg_catalog.int4 CHECK (match_rate_per_minute > 0),
	export_rate_per_hour pg_catalog.int4 DEFAULT 100 CHECK (export_rate_per_hour > 0),
	max_failed_verifications pg_catalog.int4 DEFAULT 5 CHECK (max_failed_verifications > 0),
	failure_window pg_catalog.interval NOT NULL DEFAULT '15 minutes'
		CHECK (failure_window > '0'::pg_catalog.interval),
	lockout		pg_catalog.interval NOT NULL DEFAULT '30 minutes'
		CHECK (lockout > '0'::pg_catalog.interval),
	identified_per_hour pg_catalog.int4 DEFAULT 1000 CHECK (identified_per_hour > 0)
);
COMMENT ON TABLE @extschema@.intrusion_policy IS
	'intrusion-detection limits per role (''*'' = every other role; NULL limit = rule off) (Measures Art. 14)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.intrusion_policy', '');
CREATE TRIGGER intrusion_policy_audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.intrusion_policy
	FOR EACH ROW EXECUTE FUNCTION @extschema@._audit_change('role_name');

-- The counts read the audit trail by role and by subject within a recent
-- window; these partial indexes keep that a short range scan.  A record
-- made on a standby is committed on the primary by the relay role and
-- names the caller in detail->'origin'->>'role' (layer 6): the caller is
-- the role a rate counts, so a standby's calls count for their own role
-- and do not escape the limit.
CREATE INDEX audit_intrusion_role_idx ON @extschema@.audit
	((COALESCE(detail #>> '{origin,role}', role_name)), event, at)
	WHERE event = 'alert';
CREATE INDEX audit_intrusion_subject_idx ON @extschema@.audit (subject, purpose, at)
	WHERE (event = 'match' AND outcome = 'not_matched') OR event = 'alert';

-- Per-minute counts of each caller's matches and exports.  A trigger on
-- frt.audit keeps them, so they are written by the audit writer in the
-- transaction that commits the record: as rollback-proof as the record.  A
-- rate check then reads at most 61 rows, whatever the rate; rows older than
-- two hours are dropped as new minutes begin.
CREATE TABLE @extschema@.intrusion_counter (
	role_name	pg_catalog.text NOT NULL,	-- the caller (origin role for a standby's call)
	event		pg_catalog.text NOT NULL,	-- 'match' or 'export'
	minute		pg_catalog.timestamptz NOT NULL,
	n			pg_catalog.int8 NOT NULL,	-- records
	subjects	pg_catalog.int8 NOT NULL,	-- subjects returned by identifications
	PRIMARY KEY (role_name, event, minute)
);
COMMENT ON TABLE @extschema@.intrusion_counter IS
	'matches and exports per caller and minute, kept from the audit trail for the intrusion-detection rates (Measures Art. 14)';

-- Handler of the audit layer's audit_recorded point: count a match or
-- export record for its caller.
CREATE FUNCTION @extschema@._intrusion_count(rec @extschema@.audit)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_role pg_catalog.text := COALESCE(rec.detail #>> '{origin,role}', rec.role_name);
	v_minute pg_catalog.timestamptz := pg_catalog.date_trunc('minute', rec.at);
	v_subjects pg_catalog.int8 := 0;
	v_new pg_catalog.bool;
BEGIN
	IF rec.event NOT IN ('match', 'export') THEN
		RETURN;
	END IF;
	IF pg_catalog.jsonb_typeof(rec.detail->'subjects') = 'array' THEN
		v_subjects := pg_catalog.jsonb_array_length(rec.detail->'subjects');
	END IF;
	INSERT INTO @extschema@.intrusion_counter AS c VALUES (v_role, rec.event, v_minute, 1, v_subjects)
	ON CONFLICT (role_name, event, minute) DO UPDATE SET n = c.n + 1, subjects = c.subjects + v_subjects
	RETURNING (c.xmax = 0) INTO v_new;
	IF v_new THEN
		DELETE FROM @extschema@.intrusion_counter c
		 WHERE c.role_name = v_role AND c.event = rec.event
		   AND c.minute < v_minute - '2 hours'::pg_catalog.interval;
	END IF;
END
$$;

-- How many 'match' or 'export' records the session user made in this
-- minute and the p_minutes before it (so a window of p_minutes to
-- p_minutes + 1: a rate never counts less than it should).
-- With p_subjects, the subjects those records returned instead.
CREATE FUNCTION @extschema@._intrusion_rate(p_event pg_catalog.text, p_minutes pg_catalog.int4,
	p_subjects pg_catalog.bool DEFAULT false)
RETURNS pg_catalog.int8
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN (SELECT COALESCE(pg_catalog.sum(CASE WHEN p_subjects THEN c.subjects ELSE c.n END), 0)::pg_catalog.int8
			FROM @extschema@.intrusion_counter c
			WHERE c.role_name = session_user AND c.event = p_event
			  AND c.minute >= pg_catalog.date_trunc('minute', pg_catalog.clock_timestamp())
				 - p_minutes * '1 minute'::pg_catalog.interval);
END
$$;

-- The limits in force for a role: its own row, else '*', else the defaults.
-- A governance function looks them up once and passes them to each check.
CREATE FUNCTION @extschema@._intrusion_limits(p_role pg_catalog.text)
RETURNS @extschema@.intrusion_policy
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	pol @extschema@.intrusion_policy;
BEGIN
	SELECT * INTO pol FROM @extschema@.intrusion_policy
	 WHERE role_name IN (p_role, '*')
	 ORDER BY role_name = '*' LIMIT 1;
	IF NOT FOUND THEN
		-- the column defaults: no match-rate limit (gates legitimately match
		-- all day), 100 exports an hour, lockout after 5 failures in 15
		-- minutes, for 30 minutes, 1000 subjects identified an hour
		pol := ROW('*', NULL, 100, 5, '15 minutes', '30 minutes', 1000);
	END IF;
	RETURN pol;
END
$$;

-- Serialize the calls a limit counts: a transaction-scoped advisory lock
-- on (rule, key), taken before the count is read and held until the
-- caller's transaction ends, by when the call's audit record (and its
-- per-minute count) is committed by the audit writer.  So the next call
-- of the same role (or subject) counts this one, whether this one's
-- transaction commits or rolls back: a limit holds exactly under any
-- number of concurrent sessions.  See docs/operations.md "Exact limits".
CREATE FUNCTION @extschema@._intrusion_lock(p_rule pg_catalog.text, p_key pg_catalog.text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('frt intrusion ' || p_rule),
		pg_catalog.hashtext(p_key));
END
$$;

-- Raise alert p_kind unless the session user raised one since p_since
-- (one alert per rule and window, not one per refused call).
CREATE FUNCTION @extschema@._intrusion_alert_once(p_kind pg_catalog.text,
	p_since pg_catalog.timestamptz, p_detail pg_catalog.jsonb, p_purpose pg_catalog.text,
	p_device pg_catalog.text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- sessions that reach the limit at once raise one alert: the check and
	-- the alert's record (committed before _alert returns) are serialized
	PERFORM @extschema@._intrusion_lock('alert ' || p_kind, session_user);
	IF NOT EXISTS (SELECT 1 FROM @extschema@.audit a
				   WHERE COALESCE(a.detail #>> '{origin,role}', a.role_name) = session_user
					 AND a.event = 'alert' AND a.outcome = p_kind AND a.at > p_since) THEN
		PERFORM @extschema@._alert(p_kind, p_purpose, NULL, p_device, p_detail);
	END IF;
END
$$;

-- A per-role rate limit was reached: alert (once per window), then refuse
-- with MF014 and p_message.
CREATE FUNCTION @extschema@._intrusion_over_rate(p_kind pg_catalog.text,
	p_since pg_catalog.timestamptz, p_detail pg_catalog.jsonb, p_message pg_catalog.text,
	p_function pg_catalog.text, p_purpose pg_catalog.text, p_subject pg_catalog.text,
	p_device pg_catalog.text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._intrusion_alert_once(p_kind, p_since, p_detail, p_purpose, p_device);
	PERFORM @extschema@._refuse('MF014', 14, p_message, p_function, p_purpose, p_subject, p_device);
END
$$;

-- Failed verifications of a subject for a purpose recorded after p_after
-- (and up to p_until, if given).
CREATE FUNCTION @extschema@._failed_verifications(p_purpose pg_catalog.text,
	p_subject pg_catalog.text, p_after pg_catalog.timestamptz,
	p_until pg_catalog.timestamptz DEFAULT NULL)
RETURNS pg_catalog.int8
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN (SELECT pg_catalog.count(*) FROM @extschema@.audit a
			WHERE a.subject = p_subject AND a.purpose = p_purpose
			  AND a.event = 'match' AND a.outcome = 'not_matched'
			  AND a.at > p_after AND (p_until IS NULL OR a.at <= p_until));
END
$$;

-- Raise the lockout alert for a subject and purpose unless one was raised
-- since p_since (one alert per lockout, whichever node sees it first).
CREATE FUNCTION @extschema@._lockout_alert(p_purpose pg_catalog.text, p_subject pg_catalog.text,
	p_device pg_catalog.text, p_since pg_catalog.timestamptz, p_failures pg_catalog.int8,
	pol @extschema@.intrusion_policy)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._intrusion_lock('alert verification_lockout',
		pg_catalog.format('%s/%s', p_purpose, p_subject));
	IF EXISTS (SELECT 1 FROM @extschema@.audit a
			   WHERE a.subject = p_subject AND a.purpose = p_purpose AND a.event = 'alert'
				 AND a.outcome = 'verification_lockout' AND a.at > p_since) THEN
		RETURN;
	END IF;
	PERFORM @extschema@._alert('verification_lockout', p_purpose, p_subject, p_device,
		pg_catalog.jsonb_build_object('failed_verifications', p_failures,
			'window_s', pg_catalog.date_part('epoch', pol.failure_window),
			'lockout_s', pg_catalog.date_part('epoch', pol.lockout)));
END
$$;

-- Refuse a match (verify or identify) once the session user has made its
-- per-minute allowance of matches (Art. 14).
CREATE FUNCTION @extschema@._intrusion_check_match(pol @extschema@.intrusion_policy,
	p_function pg_catalog.text, p_purpose pg_catalog.text, p_subject pg_catalog.text,
	p_device pg_catalog.text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n pg_catalog.int8;
BEGIN
	IF pol.match_rate_per_minute IS NULL THEN
		RETURN;
	END IF;
	v_n := @extschema@._intrusion_rate('match', 1);
	IF v_n >= pol.match_rate_per_minute THEN
		PERFORM @extschema@._intrusion_over_rate('match_rate',
			pg_catalog.clock_timestamp() - '1 minute'::pg_catalog.interval,
			pg_catalog.jsonb_build_object('function', p_function,
				'matches_counted', v_n, 'limit', pol.match_rate_per_minute),
			pg_catalog.format(
				'role %I reached its limit of %s matches a minute (%s in this minute and the one before); matching is blocked until the rate falls',
				session_user, pol.match_rate_per_minute, v_n),
			p_function, p_purpose, p_subject, p_device);
	END IF;
END
$$;

-- Refuse an identification once the session user's identifications have
-- returned identified_per_hour subjects within the hour (enumerating the
-- gallery through 1:N queries, Art. 14); else return the subjects counted
-- (NULL when the rule is off).
CREATE FUNCTION @extschema@._intrusion_check_identified(pol @extschema@.intrusion_policy,
	p_purpose pg_catalog.text, p_device pg_catalog.text)
RETURNS pg_catalog.int8
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n pg_catalog.int8;
BEGIN
	IF pol.identified_per_hour IS NULL THEN
		RETURN NULL;
	END IF;
	v_n := @extschema@._intrusion_rate('match', 60, true);
	IF v_n >= pol.identified_per_hour THEN
		PERFORM @extschema@._intrusion_over_rate('bulk_identification',
			pg_catalog.clock_timestamp() - '1 hour'::pg_catalog.interval,
			pg_catalog.jsonb_build_object('subjects_counted', v_n, 'limit', pol.identified_per_hour),
			pg_catalog.format(
				'role %I reached its limit of %s subjects identified an hour (%s in this minute and the 60 before); identification is blocked until the rate falls',
				session_user, pol.identified_per_hour, v_n),
			'identify', p_purpose, NULL, p_device);
	END IF;
	RETURN v_n;
END
$$;

-- Refuse verifying a subject for a purpose while it is locked out after
-- repeated failed verifications (brute force, Art. 14).
CREATE FUNCTION @extschema@._intrusion_check_lockout(pol @extschema@.intrusion_policy,
	p_purpose pg_catalog.text, p_subject pg_catalog.text, p_device pg_catalog.text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_last pg_catalog.timestamptz;
	v_n pg_catalog.int8;
BEGIN
	IF pol.max_failed_verifications IS NULL THEN
		RETURN;
	END IF;
	-- the latest failure recent enough to still lock
	SELECT pg_catalog.max(a.at) INTO v_last FROM @extschema@.audit a
	 WHERE a.subject = p_subject AND a.purpose = p_purpose
	   AND a.event = 'match' AND a.outcome = 'not_matched'
	   AND a.at > pg_catalog.clock_timestamp() - pol.lockout;
	IF v_last IS NULL THEN
		RETURN;
	END IF;
	-- how many failures led up to it within the window
	v_n := @extschema@._failed_verifications(p_purpose, p_subject, v_last - pol.failure_window, v_last);
	IF v_n >= pol.max_failed_verifications THEN
		-- normally raised by the failure that locked; here if that one could
		-- not see enough failures yet (a standby behind its primary)
		PERFORM @extschema@._lockout_alert(p_purpose, p_subject, p_device,
			v_last - pol.failure_window, v_n, pol);
		PERFORM @extschema@._refuse('MF014', 14, @extschema@._t(
			'verification of subject %L for purpose %L is locked until %s after %s failed attempts within %s',
			p_subject, p_purpose, v_last + pol.lockout, v_n, pol.failure_window),
			'verify', p_purpose, p_subject, p_device);
	END IF;
END
$$;

-- After a failed verification (record p_seq of the audit trail): alert
-- when the failures within the window reach the limit.  On a standby the
-- record (and others just before it) may not have replayed yet: the
-- failure itself is added if its record is not visible, and a later
-- failure or the first refusal raises the alert if this one could not.
CREATE FUNCTION @extschema@._intrusion_after_verify(pol @extschema@.intrusion_policy,
	p_purpose pg_catalog.text, p_subject pg_catalog.text, p_device pg_catalog.text,
	p_matched pg_catalog.bool, p_seq pg_catalog.int8)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_since pg_catalog.timestamptz;
	v_n pg_catalog.int8;
BEGIN
	IF p_matched OR pol.max_failed_verifications IS NULL THEN
		RETURN;
	END IF;
	v_since := pg_catalog.clock_timestamp() - pol.failure_window;
	v_n := @extschema@._failed_verifications(p_purpose, p_subject, v_since);
	IF NOT EXISTS (SELECT 1 FROM @extschema@.audit a WHERE a.seq = p_seq) THEN
		v_n := v_n + 1;
	END IF;
	IF v_n >= pol.max_failed_verifications THEN
		PERFORM @extschema@._lockout_alert(p_purpose, p_subject, p_device, v_since, v_n, pol);
	END IF;
END
$$;

-- Refuse an export once the session user has made its hourly allowance of
-- exports (bulk extraction, Art. 14); serialized per role, so exact.
CREATE FUNCTION @extschema@._intrusion_check_export(p_purpose pg_catalog.text, p_subject pg_catalog.text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	pol @extschema@.intrusion_policy := @extschema@._intrusion_limits(session_user);
	v_n pg_catalog.int8;
BEGIN
	IF pol.export_rate_per_hour IS NULL THEN
		RETURN;
	END IF;
	PERFORM @extschema@._intrusion_lock('export', session_user);
	v_n := @extschema@._intrusion_rate('export', 60);
	IF v_n >= pol.export_rate_per_hour THEN
		PERFORM @extschema@._intrusion_over_rate('bulk_export',
			pg_catalog.clock_timestamp() - '1 hour'::pg_catalog.interval,
			pg_catalog.jsonb_build_object('exports_counted', v_n, 'limit', pol.export_rate_per_hour),
			pg_catalog.format(
				'role %I reached its limit of %s exports an hour (%s in this minute and the 60 before); exporting is blocked until the rate falls',
				session_user, pol.export_rate_per_hour, v_n),
			'export_faces', p_purpose, p_subject, NULL);
	END IF;
END
$$;

-- ---- Handlers at the lower layers' extension points ----

-- Registry's before_match point: the match rate, and for a verification
-- the brute-force lockout, for an identification the subjects identified
-- an hour; the caller's limits are looked up once.
CREATE FUNCTION @extschema@._intrusion_before_match(p_function pg_catalog.text,
	p_purpose pg_catalog.text, p_subject pg_catalog.text, p_device pg_catalog.text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	pol @extschema@.intrusion_policy := @extschema@._intrusion_limits(session_user);
BEGIN
	PERFORM @extschema@._intrusion_check_match(pol, p_function, p_purpose, p_subject, p_device);
	IF p_function = 'verify' THEN
		PERFORM @extschema@._intrusion_check_lockout(pol, p_purpose, p_subject, p_device);
	ELSE
		PERFORM @extschema@._intrusion_check_identified(pol, p_purpose, p_device);
	END IF;
END
$$;

-- Registry's admit_results point, reached once a match has compared its
-- probe and before it records or returns anything: take the locks of the
-- rules that count this call (match rate per role, then the subject's
-- lockout or the role's identifications; always in this order), count
-- again under them, and refuse, or for an identification admit only the
-- subjects still left of identified_per_hour (alerting once an hour when
-- it cuts an answer short).  The counts before_match read were a cheap
-- early refusal; these are exact.
CREATE FUNCTION @extschema@._intrusion_admit(p_function pg_catalog.text,
	p_purpose pg_catalog.text, p_subject pg_catalog.text, p_device pg_catalog.text,
	p_found pg_catalog.int8)
RETURNS pg_catalog.int8
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	pol @extschema@.intrusion_policy := @extschema@._intrusion_limits(session_user);
	v_n pg_catalog.int8;
	v_left pg_catalog.int8;
BEGIN
	IF pol.match_rate_per_minute IS NOT NULL THEN
		PERFORM @extschema@._intrusion_lock('match', session_user);
		PERFORM @extschema@._intrusion_check_match(pol, p_function, p_purpose, p_subject, p_device);
	END IF;
	IF p_function = 'verify' AND pol.max_failed_verifications IS NOT NULL THEN
		PERFORM @extschema@._intrusion_lock('lockout',
			pg_catalog.jsonb_build_array(p_purpose, p_subject)::pg_catalog.text);
		PERFORM @extschema@._intrusion_check_lockout(pol, p_purpose, p_subject, p_device);
	END IF;
	IF p_function <> 'identify' OR pol.identified_per_hour IS NULL THEN
		RETURN p_found;
	END IF;
	PERFORM @extschema@._intrusion_lock('identified', session_user);
	-- refuses when nothing is left; else the subjects counted this hour
	v_n := @extschema@._intrusion_check_identified(pol, p_purpose, p_device);
	v_left := pol.identified_per_hour - v_n;
	IF p_found > v_left THEN
		PERFORM @extschema@._intrusion_alert_once('bulk_identification',
			pg_catalog.clock_timestamp() - '1 hour'::pg_catalog.interval,
			pg_catalog.jsonb_build_object('subjects_counted', v_n, 'limit', pol.identified_per_hour,
				'withheld', p_found - v_left),
			p_purpose, p_device);
		RETURN v_left;
	END IF;
	RETURN p_found;
END
$$;

-- Registry's after_match point: on a standby, wait (up to
-- frt.audit_timeout) until the match's record, committed on the primary,
-- has replayed here, so that the next call on this standby, which waits
-- for this one's locks, counts it too.  On a primary the record is
-- visible as soon as frt.audit_event returns.
CREATE FUNCTION @extschema@._intrusion_after_match(p_function pg_catalog.text,
	p_purpose pg_catalog.text, p_subject pg_catalog.text, p_device pg_catalog.text,
	p_seq pg_catalog.int8)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_until pg_catalog.timestamptz;
BEGIN
	IF p_seq IS NULL OR NOT pg_catalog.pg_is_in_recovery() THEN
		RETURN;
	END IF;
	v_until := pg_catalog.clock_timestamp()
		+ pg_catalog.current_setting('frt.audit_timeout')::pg_catalog.interval;
	WHILE NOT EXISTS (SELECT 1 FROM @extschema@.audit a WHERE a.seq = p_seq) LOOP
		IF pg_catalog.clock_timestamp() > v_until THEN
			RAISE WARNING USING MESSAGE = @extschema@._t('frt: audit record %s has not replayed on this standby within frt.audit_timeout; intrusion counts here may lag',
				p_seq);
			RETURN;
		END IF;
		PERFORM pg_catalog.pg_sleep(0.001);
	END LOOP;
END
$$;

-- Registry's after_verify point: a failed verification may lock.
CREATE FUNCTION @extschema@._intrusion_verified(p_purpose pg_catalog.text,
	p_subject pg_catalog.text, p_device pg_catalog.text, p_matched pg_catalog.bool,
	p_seq pg_catalog.int8)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT p_matched THEN
		PERFORM @extschema@._intrusion_after_verify(@extschema@._intrusion_limits(session_user),
			p_purpose, p_subject, p_device, p_matched, p_seq);
	END IF;
END
$$;

-- Registry's compliance_checks point: the Art. 14 rows intrusion_detection
-- (the limits every role without its own row gets, and the alerts of the
-- last 24 hours) and identification_exposure (purposes that show exact
-- scores or allow k above the default, roles whose identified-subjects limit
-- is off: names only, nothing biometric).
CREATE FUNCTION @extschema@._intrusion_compliance()
RETURNS TABLE (article pg_catalog.text, check_name pg_catalog.text, status pg_catalog.text,
	detail pg_catalog.text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	fs @extschema@.intrusion_policy := @extschema@._intrusion_limits('*');
	n pg_catalog.int8;
	v_k pg_catalog.int4 := @extschema@._identify_k_default();
	v_exact pg_catalog.text;
	v_wide pg_catalog.text;
	v_unlimited pg_catalog.text;
BEGIN
	SELECT pg_catalog.count(*) INTO n FROM @extschema@.alert a
	 WHERE a.at > pg_catalog.now() - '24 hours'::pg_catalog.interval;
	RETURN QUERY SELECT 'Art. 14', 'intrusion_detection',
		CASE WHEN fs.max_failed_verifications IS NULL OR fs.export_rate_per_hour IS NULL
				  OR fs.identified_per_hour IS NULL THEN 'warning'
			 ELSE 'ok' END,
		@extschema@._t('limits for roles without their own: brute-force lockout %s; exports %s; subjects identified %s; match rate %s; %s alerts in the last 24 hours (frt.alert)',
			CASE WHEN fs.max_failed_verifications IS NULL THEN @extschema@._t('off')
				 ELSE @extschema@._t('after %s failed verifications in %s, for %s',
					fs.max_failed_verifications, fs.failure_window, fs.lockout) END,
			CASE WHEN fs.export_rate_per_hour IS NULL THEN @extschema@._t('unlimited')
				 ELSE @extschema@._t('%s an hour', fs.export_rate_per_hour) END,
			CASE WHEN fs.identified_per_hour IS NULL THEN @extschema@._t('unlimited')
				 ELSE @extschema@._t('%s an hour', fs.identified_per_hour) END,
			CASE WHEN fs.match_rate_per_minute IS NULL THEN @extschema@._t('unlimited')
				 ELSE @extschema@._t('%s a minute', fs.match_rate_per_minute) END, n);
	SELECT pg_catalog.string_agg(p.name, ', ' ORDER BY p.name) INTO v_exact
	  FROM @extschema@.purpose p WHERE p.score_disclosure OPERATOR(pg_catalog.=) 'exact'
	   AND @extschema@._processor_visible(p.processor);
	SELECT pg_catalog.string_agg(pg_catalog.format('%s (%s)', p.name, p.max_k), ', ' ORDER BY p.name) INTO v_wide
	  FROM @extschema@.purpose p WHERE p.max_k OPERATOR(pg_catalog.>) v_k
	   AND @extschema@._processor_visible(p.processor);
	-- roles whose own row switches the rule off, and '*' when the limits
	-- for every other role do (fs: the '*' row, or the defaults without one)
	SELECT pg_catalog.string_agg(r, ', ' ORDER BY r OPERATOR(pg_catalog.<>) '*', r) INTO v_unlimited
	  FROM (SELECT i.role_name AS r FROM @extschema@.intrusion_policy i
			 WHERE i.identified_per_hour IS NULL AND i.role_name OPERATOR(pg_catalog.<>) '*'
			   AND @extschema@._role_visible(i.role_name)
			UNION ALL
			SELECT '*' WHERE fs.identified_per_hour IS NULL) u;
	RETURN QUERY SELECT 'Art. 14', 'identification_exposure',
		CASE WHEN v_exact IS NULL AND v_wide IS NULL AND v_unlimited IS NULL THEN 'ok' ELSE 'warning' END,
		CASE WHEN v_exact IS NULL AND v_wide IS NULL AND v_unlimited IS NULL
			THEN @extschema@._t('no purpose discloses exact scores or allows more than %s results per identification; every role''s limit on subjects identified is on', v_k)
		ELSE pg_catalog.concat_ws('; ',
			'purposes disclosing exact scores: ' OPERATOR(pg_catalog.||) v_exact,
			@extschema@._t('purposes allowing more than %s results per identification (max_k): ', v_k) OPERATOR(pg_catalog.||) v_wide,
			'roles with the limit on subjects identified switched off (''*'': every role without its own row): ' OPERATOR(pg_catalog.||) v_unlimited) END;
END
$$;

SELECT @extschema@._hook_register('audit_recorded', '_intrusion_count', 'intrusion');
SELECT @extschema@._hook_register('before_match', '_intrusion_before_match', 'intrusion');
SELECT @extschema@._hook_register('after_verify', '_intrusion_verified', 'intrusion');
SELECT @extschema@._hook_register('admit_results', '_intrusion_admit', 'intrusion');
SELECT @extschema@._hook_register('after_match', '_intrusion_after_match', 'intrusion');
SELECT @extschema@._hook_register('before_export', '_intrusion_check_export', 'intrusion');
SELECT @extschema@._hook_register('compliance_checks', '_intrusion_compliance', 'intrusion');

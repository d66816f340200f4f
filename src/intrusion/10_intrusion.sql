-- Layer 9: intrusion detection and prevention (Measures Art. 14: "detection
-- and blocking of abnormal access").  Three rules, each counted from the
-- audit trail itself, whose records no rollback, kill or crash can take
-- back (layer 6), so wrapping attempts in a transaction that is rolled back
-- does not hide them:
--   * brute-force verification: after max_failed_verifications failed
--     1:1 verifications of one subject for one purpose within
--     failure_window, verifying that subject for that purpose is refused
--     for lockout after the last failure (whoever asks);
--   * match rate: a role (session user) that has made match_rate_per_minute
--     verifications and identifications in the last minute is refused more
--     until the rate falls (bulk extraction by repeated 1:N queries);
--   * bulk export: a role that has made export_rate_per_hour exports of a
--     subject's faces in the last hour is refused more.
-- A refusal is SQLSTATE FR014, recorded like every other refusal.  When a
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
		CHECK (lockout > '0'::pg_catalog.interval)
);
COMMENT ON TABLE @extschema@.intrusion_policy IS
	'intrusion-detection limits per role (''*'' = every other role; NULL limit = rule off) (Measures Art. 14)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.intrusion_policy', '');
CREATE TRIGGER intrusion_policy_audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.intrusion_policy
	FOR EACH ROW EXECUTE FUNCTION @extschema@._audit_change();

-- The counts read the audit trail by role and by subject within a recent
-- window; these partial indexes keep that a short range scan.  A record
-- made on a standby is committed on the primary by the relay role and
-- names the caller in detail->'origin'->>'role' (layer 6): the caller is
-- the role a rate counts, so a standby's calls count for their own role
-- and do not escape the limit.
CREATE INDEX audit_intrusion_role_idx ON @extschema@.audit
	((COALESCE(detail #>> '{origin,role}', role_name)), event, at)
	WHERE event IN ('match', 'export', 'alert');
CREATE INDEX audit_intrusion_subject_idx ON @extschema@.audit (subject, purpose, at)
	WHERE (event = 'match' AND outcome = 'not_matched') OR event = 'alert';

-- The alerts: audit records of event 'alert' (intrusion rules, and the jobs
-- layer's filing and erasure alerts).
CREATE VIEW @extschema@.alert AS
	SELECT a.seq, a.at, a.outcome AS kind,
		   COALESCE(a.detail #>> '{origin,role}', a.role_name) AS role_name,
		   a.detail #>> '{origin,standby}' AS standby,
		   a.purpose, a.subject, a.device, a.detail - 'origin' AS detail
	  FROM @extschema@.audit a
	 WHERE a.event = 'alert';
COMMENT ON VIEW @extschema@.alert IS
	'alerts raised by intrusion detection and the jobs layer (audit records of event ''alert'') (Measures Art. 14)';

-- The limits in force for a role: its own row, else '*', else the defaults.
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
		-- minutes, for 30 minutes
		pol := ROW('*', NULL, 100, 5, '15 minutes', '30 minutes');
	END IF;
	RETURN pol;
END
$$;

-- Raise an alert: a record in the audit trail (event 'alert', outcome =
-- kind; rollback-proof) and a server-log WARNING.  The detail must hold ids
-- and counts only, never biometric data.
CREATE FUNCTION @extschema@._alert(p_kind pg_catalog.text, p_purpose pg_catalog.text,
	p_subject pg_catalog.text, p_device pg_catalog.text, p_detail pg_catalog.jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@.audit_event('alert', p_kind, p_purpose, p_subject, p_device, NULL, NULL, p_detail);
	RAISE WARNING 'frt alert %: %', p_kind, p_detail::pg_catalog.text;
END
$$;

-- Whether the session user raised an alert of this kind since p_since
-- (one alert per rule and window, not one per refused call).
CREATE FUNCTION @extschema@._alerted_since(p_kind pg_catalog.text, p_since pg_catalog.timestamptz)
RETURNS pg_catalog.bool
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN EXISTS (SELECT 1 FROM @extschema@.audit a
				   WHERE COALESCE(a.detail #>> '{origin,role}', a.role_name) = session_user
					 AND a.event = 'alert' AND a.outcome = p_kind AND a.at > p_since);
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
CREATE FUNCTION @extschema@._intrusion_check_match(p_function pg_catalog.text,
	p_purpose pg_catalog.text, p_subject pg_catalog.text, p_device pg_catalog.text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	pol @extschema@.intrusion_policy := @extschema@._intrusion_limits(session_user);
	v_since pg_catalog.timestamptz := pg_catalog.clock_timestamp() - '1 minute'::pg_catalog.interval;
	v_n pg_catalog.int8;
BEGIN
	IF pol.match_rate_per_minute IS NULL THEN
		RETURN;
	END IF;
	SELECT pg_catalog.count(*) INTO v_n FROM @extschema@.audit a
	 WHERE COALESCE(a.detail #>> '{origin,role}', a.role_name) = session_user
	   AND a.event = 'match' AND a.at > v_since;
	IF v_n < pol.match_rate_per_minute THEN
		RETURN;
	END IF;
	IF NOT @extschema@._alerted_since('match_rate', v_since) THEN
		PERFORM @extschema@._alert('match_rate', p_purpose, NULL, p_device,
			pg_catalog.jsonb_build_object('function', p_function,
				'matches_last_minute', v_n, 'limit', pol.match_rate_per_minute));
	END IF;
	PERFORM @extschema@._refuse('FR014', 14, pg_catalog.format(
		'role %I made %s matches in the last minute, its limit of %s; matching is blocked until the rate falls',
		session_user, v_n, pol.match_rate_per_minute), p_function, p_purpose, p_subject, p_device);
END
$$;

-- Refuse verifying a subject for a purpose while it is locked out after
-- repeated failed verifications (brute force, Art. 14).
CREATE FUNCTION @extschema@._intrusion_check_lockout(p_purpose pg_catalog.text,
	p_subject pg_catalog.text, p_device pg_catalog.text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	pol @extschema@.intrusion_policy := @extschema@._intrusion_limits(session_user);
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
	SELECT pg_catalog.count(*) INTO v_n FROM @extschema@.audit a
	 WHERE a.subject = p_subject AND a.purpose = p_purpose
	   AND a.event = 'match' AND a.outcome = 'not_matched'
	   AND a.at > v_last - pol.failure_window AND a.at <= v_last;
	IF v_n >= pol.max_failed_verifications THEN
		-- normally raised by the failure that locked; here if that one could
		-- not see enough failures yet (a standby behind its primary)
		PERFORM @extschema@._lockout_alert(p_purpose, p_subject, p_device,
			v_last - pol.failure_window, v_n, pol);
		PERFORM @extschema@._refuse('FR014', 14, pg_catalog.format(
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
CREATE FUNCTION @extschema@._intrusion_after_verify(p_purpose pg_catalog.text,
	p_subject pg_catalog.text, p_device pg_catalog.text, p_matched pg_catalog.bool,
	p_seq pg_catalog.int8)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	pol @extschema@.intrusion_policy := @extschema@._intrusion_limits(session_user);
	v_since pg_catalog.timestamptz;
	v_n pg_catalog.int8;
BEGIN
	IF p_matched OR pol.max_failed_verifications IS NULL THEN
		RETURN;
	END IF;
	v_since := pg_catalog.clock_timestamp() - pol.failure_window;
	SELECT pg_catalog.count(*) INTO v_n FROM @extschema@.audit a
	 WHERE a.subject = p_subject AND a.purpose = p_purpose
	   AND a.event = 'match' AND a.outcome = 'not_matched' AND a.at > v_since;
	IF NOT EXISTS (SELECT 1 FROM @extschema@.audit a WHERE a.seq = p_seq) THEN
		v_n := v_n + 1;
	END IF;
	IF v_n >= pol.max_failed_verifications THEN
		PERFORM @extschema@._lockout_alert(p_purpose, p_subject, p_device, v_since, v_n, pol);
	END IF;
END
$$;

-- Refuse an export once the session user has made its hourly allowance of
-- exports (bulk extraction, Art. 14).
CREATE FUNCTION @extschema@._intrusion_check_export(p_purpose pg_catalog.text, p_subject pg_catalog.text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	pol @extschema@.intrusion_policy := @extschema@._intrusion_limits(session_user);
	v_since pg_catalog.timestamptz := pg_catalog.clock_timestamp() - '1 hour'::pg_catalog.interval;
	v_n pg_catalog.int8;
BEGIN
	IF pol.export_rate_per_hour IS NULL THEN
		RETURN;
	END IF;
	SELECT pg_catalog.count(*) INTO v_n FROM @extschema@.audit a
	 WHERE COALESCE(a.detail #>> '{origin,role}', a.role_name) = session_user
	   AND a.event = 'export' AND a.at > v_since;
	IF v_n < pol.export_rate_per_hour THEN
		RETURN;
	END IF;
	IF NOT @extschema@._alerted_since('bulk_export', v_since) THEN
		PERFORM @extschema@._alert('bulk_export', p_purpose, NULL, NULL,
			pg_catalog.jsonb_build_object('exports_last_hour', v_n,
				'limit', pol.export_rate_per_hour));
	END IF;
	PERFORM @extschema@._refuse('FR014', 14, pg_catalog.format(
		'role %I made %s exports in the last hour, its limit of %s; exporting is blocked until the rate falls',
		session_user, v_n, pol.export_rate_per_hour), 'export_faces', p_purpose, p_subject, NULL);
END
$$;

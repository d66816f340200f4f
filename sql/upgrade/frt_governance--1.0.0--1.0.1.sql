-- frt_governance 1.0.0 -> 1.0.1
\echo Use "ALTER EXTENSION frt_governance UPDATE TO '1.0.1'" to load this file. \quit

-- ---- Masked refusals without error context (audit layer + registry) ----
-- A matcher refused for a subject saw the PL/pgSQL context of the failing
-- check (its SQL text and line), which told an unknown subject from an
-- unconsented, under-14 or re-notice one.  The masked refusal is now
-- raised in C with no context.
-- The one refusal (MF006) a matcher gets for a subject it may not match,
-- whatever the reason, raised without error context (which would name the
-- failing check).  Called by frt._refuse for masked refusals.
CREATE FUNCTION @extschema@._refuse_masked(pg_catalog.text) RETURNS void
LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'frt_refuse_masked';
REVOKE ALL ON FUNCTION @extschema@._refuse_masked(pg_catalog.text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION @extschema@._refuse(p_sqlstate pg_catalog.text, p_article pg_catalog.int4,
	p_message pg_catalog.text, p_function pg_catalog.text, p_purpose pg_catalog.text,
	p_subject pg_catalog.text, p_device pg_catalog.text, p_detail pg_catalog.text DEFAULT NULL,
	p_hint pg_catalog.text DEFAULT NULL, p_cite_more pg_catalog.text DEFAULT NULL,
	p_masked pg_catalog.bool DEFAULT false)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_message pg_catalog.text := pg_catalog.format('%s (Measures Art. %s%s)', p_message, p_article, p_cite_more);
	v_article pg_catalog.text := 'Measures Art. ' || p_article;
	v_sqlstate pg_catalog.text := p_sqlstate;
BEGIN
	IF p_sqlstate IS NULL OR p_sqlstate !~ '^MF[0-9A-Z]{3}$' OR p_article IS NULL OR p_message IS NULL THEN
		RAISE EXCEPTION 'frt._refuse: SQLSTATE %, article % is not a refusal of the Measures',
			COALESCE(p_sqlstate, 'NULL'), COALESCE(p_article::pg_catalog.text, 'NULL')
			USING ERRCODE = 'internal_error';
	END IF;
	-- the record keeps the exact reason, masked or not
	PERFORM @extschema@.audit_event('refusal', 'refused', p_purpose, p_subject, p_device, NULL,
		p_sqlstate, pg_catalog.jsonb_build_object('function', p_function, 'article', p_article,
			'reason', p_message)
		OPERATOR(pg_catalog.||) CASE WHEN p_masked THEN '{"masked": true}'::pg_catalog.jsonb
			ELSE '{}'::pg_catalog.jsonb END);
	-- masked (a matcher asking about a subject): one error for every reason
	-- the subject cannot be matched, so that the caller learns nothing
	-- about the subject's registration, consent or age (Art. 6, 7)
	-- (raised in C without error context: a RAISE here would carry the
	-- context of the check that failed, line numbers and all)
	IF p_masked THEN
		PERFORM @extschema@._refuse_masked(p_purpose);
	END IF;
	-- RAISE options cannot be NULL: one RAISE per combination
	IF p_detail IS NULL AND p_hint IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = v_sqlstate, MESSAGE = v_message, CONSTRAINT = v_article;
	ELSIF p_hint IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = v_sqlstate, MESSAGE = v_message, CONSTRAINT = v_article,
			DETAIL = p_detail;
	ELSIF p_detail IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = v_sqlstate, MESSAGE = v_message, CONSTRAINT = v_article,
			HINT = p_hint;
	ELSE
		RAISE EXCEPTION USING ERRCODE = v_sqlstate, MESSAGE = v_message, CONSTRAINT = v_article,
			DETAIL = p_detail, HINT = p_hint;
	END IF;
END
$$;
-- ---- end of masked refusals ----

-- ---- Enrolment: a retention out of range is rejected on record (registry) ----
-- A requested retention whose end no timestamp can hold failed with 22008
-- from the date arithmetic and left no 'rejected' record.
CREATE OR REPLACE FUNCTION @extschema@.enroll(p_subject pg_catalog.text, p_purpose pg_catalog.text,
	p_embedding @extschema@.face_embedding, p_device pg_catalog.text,
	p_retention pg_catalog.interval DEFAULT NULL)
RETURNS pg_catalog.int8
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p @extschema@.purpose;
	c @extschema@.consent;
	v_minor pg_catalog.bool;
	v_limit pg_catalog.interval;
	v_zone pg_catalog.text;
	v_limit_end pg_catalog.timestamptz;
	v_asked_end pg_catalog.timestamptz;
	v_expires pg_catalog.timestamptz;
	v_id pg_catalog.int8;
BEGIN
	IF p_subject IS NULL OR p_purpose IS NULL THEN
		PERFORM @extschema@._reject('22004', 'subject and purpose must not be NULL', 'enroll',
			p_purpose, p_subject, p_device);
	END IF;
	-- hold the purpose still: a concurrent change of its retention must
	-- either see this face (and clamp it) or be seen by it
	PERFORM 1 FROM @extschema@.purpose WHERE name = p_purpose FOR SHARE;
	-- and the subject: an erasure either finished before (no consent is
	-- left) or waits for this enrolment and then erases its face too
	PERFORM 1 FROM @extschema@.subject WHERE id = p_subject FOR NO KEY UPDATE;
	p := @extschema@._check_processing('enroll', p_purpose, NULL, p_device, p_subject);
	c := @extschema@._check_consent('enroll', p_purpose, p_subject, p_device);
	PERFORM @extschema@._check_probe(p, p_embedding);
	SELECT @extschema@.is_minor(s.birth_date, p_purpose) INTO v_minor FROM @extschema@.subject s WHERE s.id = p_subject;
	v_limit := CASE WHEN v_minor THEN COALESCE(p.minor_retention, p.retention) ELSE p.retention END;
	-- Retention ends are instants: enrolment instant + span, the calendar
	-- counted in the legal time zone.  A requested retention is compared
	-- by the instant it ends, not as an interval (interval comparison
	-- takes a month as 30 days and a year as 360).
	v_zone := @extschema@._legal_zone(p_purpose);
	v_limit_end := LEAST(@extschema@._legal_add(pg_catalog.now(), p.retention, v_zone),
		@extschema@._legal_add(pg_catalog.now(), v_limit, v_zone));
	BEGIN
		v_asked_end := @extschema@._legal_add(pg_catalog.now(), p_retention, v_zone);
	EXCEPTION WHEN datetime_field_overflow THEN
		-- an end no timestamp can hold ('178000000 years'): rejected, on record
		PERFORM @extschema@._reject('22008', 'requested retention is out of range', 'enroll',
			p_purpose, p_subject, p_device);
	END;
	IF v_asked_end <= pg_catalog.now() OR v_limit_end <= pg_catalog.now() THEN
		PERFORM @extschema@._reject('22023', 'retention must be positive', 'enroll',
			p_purpose, p_subject, p_device);
	END IF;
	IF v_asked_end > v_limit_end THEN
		PERFORM @extschema@._refuse('MF008', 8, pg_catalog.format(
			'requested retention %s exceeds the %s retention %s of purpose %L',
			p_retention, CASE WHEN v_minor THEN 'minor' ELSE 'purpose' END, v_limit, p_purpose),
			'enroll', p_purpose, p_subject, p_device);
	END IF;
	v_expires := COALESCE(v_asked_end, v_limit_end);
	v_id := @extschema@._face_store(p_subject, p_purpose, p_device, c.id, p_embedding, v_minor, v_expires);
	PERFORM @extschema@.audit_event('enrol', 'enrolled', p_purpose, p_subject, p_device, NULL, NULL,
		pg_catalog.jsonb_build_object('face_id', v_id, 'minor', v_minor, 'expires_at', v_expires,
			'consent_id', c.id, 'notice_version', c.notice_version));
	RETURN v_id;
END
$$;
-- ---- end of enrolment ----

-- ---- Restore mode and replica mode cannot hide registry changes (registry, intrusion) ----
-- In restore mode (frt.restore) the registry records, the consent rules and
-- the intrusion-policy guard stood aside for every change; a restore only
-- inserts, so they now stand aside for inserts only.  And they fire under
-- session_replication_role = replica too.
CREATE OR REPLACE FUNCTION @extschema@._audit_change()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	j pg_catalog.jsonb;
	v_event pg_catalog.text;
	v_outcome pg_catalog.text;
	v_purpose pg_catalog.text;
	v_subject pg_catalog.text;
	v_device pg_catalog.text;
	v_key pg_catalog.jsonb;
BEGIN
	-- reloading a dump: the restored audit trail already records these
	-- rows (a restore only inserts; a change in restore mode is recorded)
	IF TG_OP = 'INSERT' AND @extschema@.audit_restoring() THEN
		RETURN NULL;
	END IF;
	-- a notice publication marking consents for re-notice is audited once,
	-- by _notice_published, not once per consent (only that trigger can
	-- change needs_renotice: no role has UPDATE on it)
	IF TG_TABLE_NAME = 'consent' AND TG_OP = 'UPDATE' THEN
		IF NEW.needs_renotice AND NOT OLD.needs_renotice
		   AND NEW.withdrawn_at IS NOT DISTINCT FROM OLD.withdrawn_at
		   AND NEW.renewed_at IS NOT DISTINCT FROM OLD.renewed_at THEN
			RETURN NULL;
		END IF;
	END IF;
	j := pg_catalog.to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
	v_event := CASE TG_TABLE_NAME WHEN 'consent' THEN 'consent' WHEN 'subject' THEN 'subject'
			   ELSE 'registry' END;
	v_outcome := pg_catalog.lower(TG_OP);
	CASE TG_TABLE_NAME
	WHEN 'purpose' THEN
		v_purpose := j->>'name'; v_key := j->'name';
	WHEN 'device' THEN
		v_device := j->>'name'; v_key := j->'name';
	WHEN 'processor' THEN
		v_key := j->'name';
	WHEN 'notice' THEN
		v_purpose := j->>'purpose'; v_key := j->'version';
	WHEN 'assessment' THEN
		v_purpose := j->>'purpose'; v_key := j->'id';
	WHEN 'holiday' THEN
		v_key := j->'day';
	WHEN 'subject' THEN
		v_subject := j->>'id'; v_key := j->'id';
	WHEN 'consent' THEN
		v_purpose := j->>'purpose'; v_subject := j->>'subject'; v_key := j->'id';
		IF TG_OP = 'INSERT' THEN
			v_outcome := 'given';
		ELSIF TG_OP = 'UPDATE' AND OLD.withdrawn_at IS NULL AND NEW.withdrawn_at IS NOT NULL THEN
			v_outcome := 'withdrawn';
		ELSIF TG_OP = 'UPDATE' AND NEW.renewed_at IS DISTINCT FROM OLD.renewed_at THEN
			v_outcome := 'renewed';
		END IF;
		v_key := pg_catalog.jsonb_build_object('id', j->'id', 'notice_version', j->'notice_version',
			'given_by', j->'given_by', 'transfer_consent', j->'transfer_consent');
	ELSE
		-- a table of a layer above: its key column is the trigger's argument
		v_key := CASE WHEN TG_NARGS > 0 THEN j->(TG_ARGV[0]) END;
	END CASE;
	PERFORM @extschema@.audit_event(v_event, v_outcome, v_purpose, v_subject, v_device, NULL, NULL,
		pg_catalog.jsonb_build_object('table', TG_TABLE_NAME, 'op', TG_OP, 'key', v_key));
	RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION @extschema@._consent_rules()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_published pg_catalog.timestamptz;
BEGIN
	-- reloading a dump: the rows are the evidence recorded at the time
	-- (a restore only inserts)
	IF NOT (TG_OP = 'INSERT' AND @extschema@.audit_restoring()) THEN
		IF TG_OP = 'INSERT' AND (NEW.given_at IS DISTINCT FROM pg_catalog.now() OR NEW.renewed_at IS NOT NULL) THEN
			PERFORM @extschema@._refuse('MF006', 6,
				'the time of a consent is the server''s; given_at and renewed_at cannot be supplied',
				'INSERT consent', NEW.purpose, NEW.subject, NULL,
				p_hint => 'Leave given_at to its default; keep the date written on a paper consent with the paper.');
		END IF;
		IF TG_OP = 'UPDATE' AND NEW.renewed_at IS DISTINCT FROM OLD.renewed_at
		   AND NEW.renewed_at IS DISTINCT FROM pg_catalog.now() THEN
			PERFORM @extschema@._refuse('MF006', 6,
				'the time of a consent is the server''s; renewed_at cannot be supplied',
				'UPDATE consent', OLD.purpose, OLD.subject, NULL);
		END IF;
		IF TG_OP = 'INSERT' OR NEW.notice_version IS DISTINCT FROM OLD.notice_version
		   OR NEW.renewed_at IS DISTINCT FROM OLD.renewed_at THEN
			SELECT n.published_at INTO v_published FROM @extschema@.notice n
			 WHERE n.purpose = NEW.purpose AND n.version = NEW.notice_version;
			IF NOT FOUND THEN
				PERFORM @extschema@._refuse('MF005', 5, pg_catalog.format(
					'purpose %L has no notice version %s; a consent cites the notice the person was given',
					NEW.purpose, NEW.notice_version), TG_OP || ' consent', NEW.purpose, NEW.subject, NULL);
			END IF;
			IF v_published > COALESCE(NEW.renewed_at, NEW.given_at) THEN
				PERFORM @extschema@._refuse('MF005', 5, pg_catalog.format(
					'notice version %s of purpose %L was published after this consent was recorded; a consent cannot predate its notice',
					NEW.notice_version, NEW.purpose), TG_OP || ' consent', NEW.purpose, NEW.subject, NULL);
			END IF;
		END IF;
	END IF;
	IF TG_OP = 'UPDATE' THEN
		IF NEW.subject <> OLD.subject OR NEW.purpose <> OLD.purpose OR NEW.given_at <> OLD.given_at
		   OR NEW.id <> OLD.id THEN
			RAISE EXCEPTION 'the subject, purpose and time of a consent cannot change'
				USING ERRCODE = 'feature_not_supported';
		END IF;
		IF OLD.withdrawn_at IS NOT NULL AND NEW.withdrawn_at IS DISTINCT FROM OLD.withdrawn_at THEN
			PERFORM @extschema@._refuse('MF006', 6, 'a withdrawn consent stays withdrawn; record a new consent',
				'UPDATE consent', OLD.purpose, OLD.subject, NULL);
		END IF;
		IF OLD.withdrawn_at IS NULL AND NEW.withdrawn_at IS NOT NULL THEN
			NEW.withdrawn_at := pg_catalog.clock_timestamp();	-- the true instant
		END IF;
		IF NEW.notice_version < OLD.notice_version THEN
			RAISE EXCEPTION 'a consent cannot move to an older notice version'
				USING ERRCODE = 'check_violation';
		END IF;
	END IF;
	IF EXISTS (SELECT 1 FROM @extschema@.notice n
			   WHERE n.purpose = NEW.purpose AND n.version > NEW.notice_version AND n.material_change) THEN
		NEW.needs_renotice := true;
	END IF;
	RETURN NEW;
END
$$;
CREATE OR REPLACE FUNCTION @extschema@._intrusion_policy_guard()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_me pg_catalog.text := session_user;
	v_before @extschema@.intrusion_policy;
	v_after @extschema@.intrusion_policy;
	v_looser pg_catalog.bool;
	v_binds_me pg_catalog.bool;
	v_super pg_catalog.bool;
	v_detail pg_catalog.jsonb;
	v_key pg_catalog.text;
BEGIN
	-- reloading a dump (a restore only inserts)
	IF TG_OP OPERATOR(pg_catalog.=) 'INSERT' AND @extschema@.audit_restoring() THEN
		RETURN NEW;
	END IF;
	IF TG_OP OPERATOR(pg_catalog.=) 'INSERT' THEN
		v_key := NEW.role_name;
		v_before := @extschema@._intrusion_limits(NEW.role_name);	-- what the role had
		v_after := NEW;
	ELSE
		v_key := OLD.role_name;
		v_before := OLD;
		-- a deleted or renamed row: its role falls back to something looser, or not
		v_after := CASE WHEN TG_OP OPERATOR(pg_catalog.=) 'UPDATE'
							 AND NEW.role_name OPERATOR(pg_catalog.=) OLD.role_name THEN NEW END;
	END IF;
	v_looser := @extschema@._intrusion_policy_looser(v_before, v_after);
	-- the row binds the changer: its own, or '*' while it has no row of its own
	v_binds_me := v_key OPERATOR(pg_catalog.=) v_me
		OR (TG_OP OPERATOR(pg_catalog.<>) 'DELETE' AND NEW.role_name OPERATOR(pg_catalog.=) v_me)
		OR (v_key OPERATOR(pg_catalog.=) '*' AND NOT EXISTS (
				SELECT 1 FROM @extschema@.intrusion_policy p WHERE p.role_name OPERATOR(pg_catalog.=) v_me));
	v_detail := pg_catalog.jsonb_build_object('role_name', v_key, 'op', TG_OP, 'changed_by', v_me,
		'before', pg_catalog.to_jsonb(v_before), 'after',
		CASE WHEN TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN NULL ELSE pg_catalog.to_jsonb(NEW) END);
	v_super := (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) v_me);
	IF v_looser AND v_binds_me AND NOT v_super THEN
		PERFORM @extschema@._refuse('MF014', 14, pg_catalog.format(
			'role %I may not loosen the intrusion limits that bind it (%s of the %L row); another account must make the change',
			v_me, pg_catalog.lower(TG_OP), v_key),
			'intrusion_policy', NULL, NULL, NULL);
	END IF;
	PERFORM @extschema@.audit_event('intrusion_policy', CASE WHEN v_looser THEN 'loosened' ELSE 'changed' END,
		NULL, NULL, NULL, NULL, NULL, v_detail);
	IF v_looser AND NOT v_super THEN
		PERFORM @extschema@._alert('intrusion_policy_loosened', NULL, NULL, NULL, v_detail);
	END IF;
	RETURN CASE WHEN TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN OLD ELSE NEW END;
END
$$;
ALTER TABLE @extschema@.processor ENABLE ALWAYS TRIGGER processor_audit;
ALTER TABLE @extschema@.purpose ENABLE ALWAYS TRIGGER purpose_audit;
ALTER TABLE @extschema@.notice ENABLE ALWAYS TRIGGER notice_audit;
ALTER TABLE @extschema@.assessment ENABLE ALWAYS TRIGGER assessment_audit;
ALTER TABLE @extschema@.device ENABLE ALWAYS TRIGGER device_audit;
ALTER TABLE @extschema@.holiday ENABLE ALWAYS TRIGGER holiday_audit;
ALTER TABLE @extschema@.subject ENABLE ALWAYS TRIGGER subject_audit;
ALTER TABLE @extschema@.consent ENABLE ALWAYS TRIGGER consent_audit;
ALTER TABLE @extschema@.consent ENABLE ALWAYS TRIGGER consent_rules;
ALTER TABLE @extschema@.intrusion_policy ENABLE ALWAYS TRIGGER intrusion_policy_guard;
ALTER TABLE @extschema@.intrusion_policy ENABLE ALWAYS TRIGGER intrusion_policy_audit;
-- ---- end of restore mode ----
-- ---- Compliance report: the Art. 14 identification_exposure row (intrusion) ----
-- Registry's compliance_checks point: the Art. 14 rows intrusion_detection
-- (the limits every role without its own row gets, and the alerts of the
-- last 24 hours) and identification_exposure (purposes that show exact
-- scores or allow k above the default, roles whose identified-subjects limit
-- is off: names only, nothing biometric).
CREATE OR REPLACE FUNCTION @extschema@._intrusion_compliance()
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
		pg_catalog.format('limits for roles without their own: brute-force lockout %s; exports %s; subjects identified %s; match rate %s; %s alerts in the last 24 hours (frt.alert)',
			CASE WHEN fs.max_failed_verifications IS NULL THEN 'off'
				 ELSE pg_catalog.format('after %s failed verifications in %s, for %s',
					fs.max_failed_verifications, fs.failure_window, fs.lockout) END,
			COALESCE(fs.export_rate_per_hour || ' an hour', 'unlimited'),
			COALESCE(fs.identified_per_hour || ' an hour', 'unlimited'),
			COALESCE(fs.match_rate_per_minute || ' a minute', 'unlimited'), n);
	SELECT pg_catalog.string_agg(p.name, ', ' ORDER BY p.name) INTO v_exact
	  FROM @extschema@.purpose p WHERE p.score_disclosure OPERATOR(pg_catalog.=) 'exact';
	SELECT pg_catalog.string_agg(pg_catalog.format('%s (%s)', p.name, p.max_k), ', ' ORDER BY p.name) INTO v_wide
	  FROM @extschema@.purpose p WHERE p.max_k OPERATOR(pg_catalog.>) v_k;
	-- roles whose own row switches the rule off, and '*' when the limits
	-- for every other role do (fs: the '*' row, or the defaults without one)
	SELECT pg_catalog.string_agg(r, ', ' ORDER BY r OPERATOR(pg_catalog.<>) '*', r) INTO v_unlimited
	  FROM (SELECT i.role_name AS r FROM @extschema@.intrusion_policy i
			 WHERE i.identified_per_hour IS NULL AND i.role_name OPERATOR(pg_catalog.<>) '*'
			UNION ALL
			SELECT '*' WHERE fs.identified_per_hour IS NULL) u;
	RETURN QUERY SELECT 'Art. 14', 'identification_exposure',
		CASE WHEN v_exact IS NULL AND v_wide IS NULL AND v_unlimited IS NULL THEN 'ok' ELSE 'warning' END,
		CASE WHEN v_exact IS NULL AND v_wide IS NULL AND v_unlimited IS NULL
			THEN pg_catalog.format('no purpose discloses exact scores or allows more than %s results per identification; every role''s limit on subjects identified is on', v_k)
		ELSE pg_catalog.concat_ws('; ',
			'purposes disclosing exact scores: ' OPERATOR(pg_catalog.||) v_exact,
			pg_catalog.format('purposes allowing more than %s results per identification (max_k): ', v_k) OPERATOR(pg_catalog.||) v_wide,
			'roles with the limit on subjects identified switched off (''*'': every role without its own row): ' OPERATOR(pg_catalog.||) v_unlimited) END;
END
$$;

-- ---- Identifications counted once under the lock (intrusion) ----
-- _intrusion_admit read the hour's count of subjects identified twice
-- under its lock: _intrusion_check_identified now returns the count it
-- checked (a new result type, so it is dropped and created again).
DROP FUNCTION @extschema@._intrusion_check_identified(@extschema@.intrusion_policy,
	pg_catalog.text, pg_catalog.text);
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
REVOKE ALL ON FUNCTION @extschema@._intrusion_check_identified(@extschema@.intrusion_policy,
	pg_catalog.text, pg_catalog.text) FROM PUBLIC;
CREATE OR REPLACE FUNCTION @extschema@._intrusion_admit(p_function pg_catalog.text,
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
-- ---- end of identifications counted once ----

-- ---- The key provider (keys layer, src/keys/10_keys.sql) ----
-- Seal and open faces under key epochs; the keyring's epochs and status.
CREATE FUNCTION @extschema@._face_seal(p_id pg_catalog.int8, p_embedding @extschema@.face_embedding)
RETURNS pg_catalog.bytea
LANGUAGE c VOLATILE STRICT AS 'MODULE_PATHNAME', 'frt_face_seal';

-- The embedding of a sealed value, if it authenticates for this id (else an
-- error: XX001 tampered, MF151 epoch destroyed, MF150 key not here).
-- IMMUTABLE: used in the expressions of the face store's indexes.
CREATE FUNCTION @extschema@._face_open(p_id pg_catalog.int8, p_sealed pg_catalog.bytea)
RETURNS @extschema@.face_embedding
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'frt_face_open';

-- The key epoch a sealed value is under (needs no key).
CREATE FUNCTION @extschema@._sealed_epoch(p_sealed pg_catalog.bytea)
RETURNS pg_catalog.int8
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'frt_sealed_epoch';

-- The epoch new seals use (the highest of the keyring); NULL before the
-- first seal created epoch 1.
CREATE FUNCTION @extschema@._key_current_epoch()
RETURNS pg_catalog.int8
LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'frt_key_current_epoch';

-- A new epoch, current from now on (on the primary; a standby gets it by a
-- copy of the keyring's files).
CREATE FUNCTION @extschema@._key_epoch_create()
RETURNS pg_catalog.int8
LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'frt_key_epoch_create';

-- Destroy an epoch's key for good: what is sealed under it can no longer be
-- opened, here or from any backup.  Refuses the current epoch.
CREATE FUNCTION @extschema@._key_epoch_destroy(p_epoch pg_catalog.int8)
RETURNS pg_catalog.void
LANGUAGE c VOLATILE STRICT AS 'MODULE_PATHNAME', 'frt_key_epoch_destroy';

-- The keyring's epochs; verified: the root key derives the epoch's check value.
CREATE FUNCTION @extschema@._key_epochs()
RETURNS TABLE (epoch pg_catalog.int8, suite pg_catalog.text, created_at pg_catalog.timestamptz,
	is_current pg_catalog.bool, verified pg_catalog.bool)
LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'frt_key_epochs';

-- Whether the root key is loaded and from where (never the key itself), the
-- keyring, the suite of new epochs and the current epoch.
CREATE FUNCTION @extschema@._key_status()
RETURNS TABLE (key_loaded pg_catalog.bool, key_source pg_catalog.text, keyring pg_catalog.text,
	suite pg_catalog.text, current_epoch pg_catalog.int8)
LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'frt_key_status';

REVOKE ALL ON FUNCTION @extschema@._face_seal(pg_catalog.int8, @extschema@.face_embedding) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._face_open(pg_catalog.int8, pg_catalog.bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._sealed_epoch(pg_catalog.bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._key_current_epoch() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._key_epoch_create() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._key_epoch_destroy(pg_catalog.int8) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._key_epochs() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._key_status() FROM PUBLIC;
-- ---- end of the key provider ----

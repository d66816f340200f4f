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
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE COST 50 AS 'MODULE_PATHNAME', 'frt_face_open';

-- The key epoch a sealed value is under (needs no key).
CREATE FUNCTION @extschema@._sealed_epoch(p_sealed pg_catalog.bytea)
RETURNS pg_catalog.int8
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'frt_sealed_epoch';

-- The epoch new seals of this database use (the highest epoch it owns);
-- NULL before its first seal created one.
CREATE FUNCTION @extschema@._key_current_epoch()
RETURNS pg_catalog.int8
LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'frt_key_current_epoch';

-- A new epoch owned by this database (numbered after the keyring's highest),
-- its current one from now on (on the primary; a standby gets it by a copy
-- of the keyring's files).
CREATE FUNCTION @extschema@._key_epoch_create()
RETURNS pg_catalog.int8
LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'frt_key_epoch_create';

-- Destroy an epoch's key for good: what is sealed under it can no longer be
-- opened, here or from any backup.  Refuses the current epoch, the keyring's
-- highest and an epoch another database owns (42501); an epoch of no living
-- database (an epoch file without an owner, a dropped database) only here,
-- never by frt.key_destroy_unused.
CREATE FUNCTION @extschema@._key_epoch_destroy(p_epoch pg_catalog.int8)
RETURNS pg_catalog.void
LANGUAGE c VOLATILE STRICT AS 'MODULE_PATHNAME', 'frt_key_epoch_destroy';

-- The keyring's epochs, of every database (any of them opens here);
-- is_current: the one this database seals under; verified: the root key
-- derives the epoch's check value; owner_db: the database that created it
-- (NULL for an epoch file without an owner).
CREATE FUNCTION @extschema@._key_epochs()
RETURNS TABLE (epoch pg_catalog.int8, suite pg_catalog.text, created_at pg_catalog.timestamptz,
	is_current pg_catalog.bool, verified pg_catalog.bool, owner_db pg_catalog.oid)
LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'frt_key_epochs';

-- Whether the root key is loaded and from where (never the key itself), the
-- keyring, the suite of new epochs and this database's current epoch.
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

-- ---- Encryption at rest (keys layer, registry, jobs) ----
-- Faces are sealed: frt.face.embedding holds the face sealed under a key
-- epoch (AES-256-GCM, or SM4/SM3), bound to the row's id; the frt_ivf
-- indexes on frt.face seal their codes and centroids.  The update seals
-- the faces already stored, so the server must have its root key and
-- keyring (frt.encryption_key_file or _command, frt.encryption_keyring)
-- before ALTER EXTENSION ... UPDATE (docs/operations.md, "Encryption keys").

-- The event trigger that records per-purpose indexes leaves out those an
-- extension script makes (this update's own among them).
CREATE OR REPLACE FUNCTION @extschema@._face_index_record()
RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
BEGIN
	FOR r IN
		SELECT DISTINCT c.relname, am.amname
		FROM pg_catalog.pg_event_trigger_ddl_commands() cmd
		JOIN pg_catalog.pg_index i ON i.indexrelid = cmd.objid
		JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
		JOIN pg_catalog.pg_am am ON am.oid = c.relam
		JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attname = 'embedding'
		JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
			AND d.objid = c.oid AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
			AND d.refobjid = i.indrelid AND d.refobjsubid = a.attnum
		WHERE cmd.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
		  AND i.indrelid = '@extschema@.face'::pg_catalog.regclass
		  AND am.amname <> 'frt_ivf'
	LOOP
		RAISE EXCEPTION 'index "%" on @extschema@.face reads the face column with access method "%"', r.relname, r.amname
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = 'Only frt_ivf indexes seal what they store; any other index over the faces would keep them in clear on disk.',
				  HINT = 'CREATE INDEX ... ON @extschema@.face USING frt_ivf (@extschema@._face_open(id, embedding) @extschema@.face_cosine_ops) WHERE purpose = ''...''';
	END LOOP;
	FOR r IN
		SELECT DISTINCT c.oid, c.relname
		FROM pg_catalog.pg_event_trigger_ddl_commands() cmd
		JOIN pg_catalog.pg_index i ON i.indexrelid = cmd.objid
		JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
		WHERE cmd.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
		  AND i.indrelid = '@extschema@.face'::pg_catalog.regclass
		  AND NOT cmd.in_extension	-- the extension's own, made by its scripts
		  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
						  WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
							AND d.objid = c.oid AND d.deptype = 'e')
	LOOP
		DELETE FROM @extschema@.face_index f WHERE f.relid = r.oid AND f.name <> r.relname;
		INSERT INTO @extschema@.face_index AS f (name, definition, relid)
		VALUES (r.relname, pg_catalog.pg_get_indexdef(r.oid), r.oid)
		ON CONFLICT (name) DO UPDATE
		SET definition = EXCLUDED.definition, relid = EXCLUDED.relid, recorded_at = pg_catalog.now();
	END LOOP;
END
$$;

-- The per-purpose indexes on the face column are set aside (their
-- definitions are kept for this transaction in a setting), the column is
-- sealed in place, and at the end the indexes are built again on
-- frt._face_open(id, embedding).
DO $frt$
DECLARE
	r record;
BEGIN
	PERFORM pg_catalog.set_config('frt_upgrade.face_indexes', COALESCE((
		SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('name', c.relname,
			'definition', pg_catalog.pg_get_indexdef(c.oid)))::pg_catalog.text
		  FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
		 WHERE i.indrelid = '@extschema@.face'::pg_catalog.regclass
		   AND EXISTS (SELECT 1 FROM pg_catalog.pg_depend dep JOIN pg_catalog.pg_attribute a
						 ON a.attrelid = dep.refobjid AND a.attnum = dep.refobjsubid
					   WHERE dep.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND dep.objid = c.oid
						 AND dep.refobjid = i.indrelid AND a.attname = 'embedding')), '[]'), true);
	FOR r IN
		SELECT c.relname
		  FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
		 WHERE i.indrelid = '@extschema@.face'::pg_catalog.regclass
		   AND EXISTS (SELECT 1 FROM pg_catalog.pg_depend dep JOIN pg_catalog.pg_attribute a
						 ON a.attrelid = dep.refobjid AND a.attnum = dep.refobjsubid
					   WHERE dep.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND dep.objid = c.oid
						 AND dep.refobjid = i.indrelid AND a.attname = 'embedding')
	LOOP
		EXECUTE pg_catalog.format('DROP INDEX @extschema@.%I', r.relname);
	END LOOP;
END
$frt$;
ALTER TABLE @extschema@.face ADD COLUMN key_epoch pg_catalog.int8;
ALTER TABLE @extschema@.face SET (toast_tuple_target = 8160);
ALTER TABLE @extschema@.face ALTER COLUMN embedding TYPE pg_catalog.bytea
	USING @extschema@._face_seal(id, embedding);
UPDATE @extschema@.face SET key_epoch = @extschema@._sealed_epoch(embedding);
ALTER TABLE @extschema@.face ALTER COLUMN key_epoch SET NOT NULL;
ALTER TABLE @extschema@.face ALTER COLUMN embedding SET STORAGE EXTERNAL;
CREATE INDEX face_key_epoch_idx ON @extschema@.face (key_epoch);

-- The advisory lock number that every seal takes shared (in C) and
-- frt.key_destroy_unused takes exclusive.
CREATE FUNCTION @extschema@._key_lock_id()
RETURNS pg_catalog.int8
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'frt_key_lock_id';

CREATE OR REPLACE FUNCTION @extschema@._face_store(p_subject pg_catalog.text, p_purpose pg_catalog.text,
	p_device pg_catalog.text, p_consent_id pg_catalog.int8, p_embedding @extschema@.face_embedding,
	p_minor pg_catalog.bool, p_expires_at pg_catalog.timestamptz)
RETURNS pg_catalog.int8
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_new_subject pg_catalog.bool;
	v_id pg_catalog.int8;
	v_sealed pg_catalog.bytea;
BEGIN
	-- serialise with other enrolments and erasures of this subject
	PERFORM 1 FROM @extschema@.subject WHERE id = p_subject FOR NO KEY UPDATE;
	v_new_subject := NOT EXISTS (SELECT 1 FROM @extschema@.face WHERE subject = p_subject);
	-- the id first: the ciphertext is bound to it
	v_id := pg_catalog.nextval('@extschema@.face_id_seq'::pg_catalog.regclass);
	v_sealed := @extschema@._face_seal(v_id, p_embedding);
	INSERT INTO @extschema@.face (id, subject, purpose, device, consent_id, embedding, minor,
								  expires_at, key_epoch)
	VALUES (v_id, p_subject, p_purpose, p_device, p_consent_id, v_sealed, p_minor, p_expires_at,
			@extschema@._sealed_epoch(v_sealed));
	IF v_new_subject THEN
		PERFORM @extschema@._filing_count(1);
	END IF;
	RETURN v_id;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._face_similarity(p_subject pg_catalog.text, p_purpose pg_catalog.text,
	p_probe @extschema@.face_embedding)
RETURNS pg_catalog.float8
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- PL/pgSQL, not SQL: its plan is cached across calls (the 1:1 hot path)
	RETURN (SELECT pg_catalog.max(@extschema@.cosine_similarity(@extschema@._face_open(f.id, f.embedding),
																	p_probe))
			FROM @extschema@.face f
			WHERE f.subject = p_subject AND f.purpose = p_purpose
			  AND @extschema@._face_active(f.consent_id, f.expires_at));
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._face_nearest(p_purpose pg_catalog.text, p_probe @extschema@.face_embedding,
	p_max_distance pg_catalog.float8)
RETURNS TABLE (face_id pg_catalog.int8, subject pg_catalog.text, distance pg_catalog.float8)
LANGUAGE sql STABLE
AS $$
	SELECT f.id, f.subject, @extschema@._face_open(f.id, f.embedding) OPERATOR(@extschema@.<=>) p_probe
	FROM @extschema@.face f
	WHERE f.purpose OPERATOR(pg_catalog.=) p_purpose
	  AND f.expires_at OPERATOR(pg_catalog.>) pg_catalog.statement_timestamp()
	  -- a scalar sub-select, not EXISTS: it stays a per-row filter and is
	  -- never turned into a join that would stop the ordered index scan
	  AND (SELECT c.withdrawn_at IS NULL AND NOT c.needs_renotice AND c.separate
				  AND NOT c.condition_of_service AND (NOT f.minor OR c.given_by OPERATOR(pg_catalog.=) 'guardian')
		   FROM @extschema@.consent c WHERE c.id OPERATOR(pg_catalog.=) f.consent_id)
	  AND (p_max_distance IS NULL OR @extschema@._face_open(f.id, f.embedding) OPERATOR(@extschema@.<=>) p_probe
		   OPERATOR(pg_catalog.<=) p_max_distance)
	ORDER BY @extschema@._face_open(f.id, f.embedding) OPERATOR(@extschema@.<=>) p_probe
$$;

CREATE OR REPLACE FUNCTION @extschema@._face_export(p_subject pg_catalog.text, p_purpose pg_catalog.text)
RETURNS TABLE (face_id pg_catalog.int8, embedding @extschema@.face_embedding,
	enrolled_at pg_catalog.timestamptz, expires_at pg_catalog.timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT s.id, @extschema@._face_open(s.id, s.embedding), s.enrolled_at, s.expires_at
	FROM (SELECT f.id, f.embedding, f.enrolled_at, f.expires_at
		  FROM @extschema@.face f
		  WHERE f.subject = p_subject AND f.purpose = p_purpose
			AND @extschema@._face_active(f.consent_id, f.expires_at)
		  ORDER BY f.id OFFSET 0) s;
$$;

CREATE OR REPLACE FUNCTION @extschema@.compliance_report()
RETURNS TABLE (article pg_catalog.text, check_name pg_catalog.text, status pg_catalog.text,
	detail pg_catalog.text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n pg_catalog.int8;
	m pg_catalog.int8;
	names pg_catalog.text;
	fs record;
	v_rls pg_catalog.bool;
	v_force pg_catalog.bool;
	v_prot record;
	v_alg pg_catalog.text;
	v_keys record;
	v_rotated pg_catalog.timestamptz;
	v_used pg_catalog.int8;
	v_lost pg_catalog.int8;
	h pg_catalog.text;
BEGIN
	-- Art. 4
	SELECT pg_catalog.count(*) INTO n FROM @extschema@.purpose;
	RETURN QUERY SELECT 'Art. 4', 'purposes_registered', CASE WHEN n > 0 THEN 'ok' ELSE 'info' END,
		pg_catalog.format('%s purposes registered; every consent, face and match references one', n);

	-- Art. 5
	SELECT pg_catalog.count(*) INTO n FROM @extschema@.processor;
	SELECT pg_catalog.count(*) INTO m FROM @extschema@.purpose p
	WHERE NOT EXISTS (SELECT 1 FROM @extschema@.processor pr WHERE pr.name = p.processor OR p.processor IS NULL);
	RETURN QUERY SELECT 'Art. 5', 'processor_registered', CASE WHEN m = 0 AND n > 0 THEN 'ok' ELSE 'violation' END,
		pg_catalog.format('%s processors registered; %s purposes without one', n, m);
	SELECT pg_catalog.count(*), pg_catalog.string_agg(p.name, ', ' ORDER BY p.name) INTO n, names
	FROM @extschema@.purpose p WHERE @extschema@.current_notice_version(p.name) IS NULL;
	RETURN QUERY SELECT 'Art. 5', 'notice_in_force', CASE WHEN n = 0 THEN 'ok' ELSE 'violation' END,
		CASE WHEN n = 0 THEN 'every purpose has a notice in force'
		ELSE pg_catalog.format('%s purposes without a notice: %s', n, names) END;
	SELECT pg_catalog.count(*) INTO n FROM @extschema@.consent c
	WHERE c.withdrawn_at IS NULL AND c.needs_renotice;
	RETURN QUERY SELECT 'Art. 5', 'renotice_pending', CASE WHEN n = 0 THEN 'ok' ELSE 'warning' END,
		pg_catalog.format('%s active consents given under a materially changed notice await re-notice (processing them is refused)', n);

	-- Art. 6
	SELECT pg_catalog.count(*) INTO n FROM @extschema@.consent c
	WHERE c.withdrawn_at IS NULL AND NOT c.separate;
	RETURN QUERY SELECT 'Art. 6', 'separate_consent', CASE WHEN n = 0 THEN 'ok' ELSE 'violation' END,
		pg_catalog.format('%s active consents not given separately (processing them is refused)', n);
	SELECT pg_catalog.count(*) INTO n FROM @extschema@.face f JOIN @extschema@.consent c ON c.id = f.consent_id
	WHERE c.withdrawn_at IS NOT NULL;
	RETURN QUERY SELECT 'Art. 6', 'withdrawn_awaiting_erasure', CASE WHEN n = 0 THEN 'ok' ELSE 'warning' END,
		pg_catalog.format('%s faces of withdrawn consents await the purge (already invisible and unmatched)', n);

	-- Art. 7
	SELECT pg_catalog.count(*) INTO n FROM @extschema@.consent c JOIN @extschema@.subject s ON s.id = c.subject
	WHERE c.withdrawn_at IS NULL AND @extschema@.is_minor(s.birth_date, c.purpose) AND c.given_by <> 'guardian';
	RETURN QUERY SELECT 'Art. 7', 'minor_guardian_consent', CASE WHEN n = 0 THEN 'ok' ELSE 'violation' END,
		pg_catalog.format('%s active consents of subjects under 14 not given by a parent or guardian (processing them is refused)', n);
	-- retention ends counted from the enrolment instant in the legal zone,
	-- as enrolment counts them (frt._legal_add)
	SELECT pg_catalog.count(*) INTO n FROM @extschema@.face f
	  JOIN (SELECT p.*, @extschema@._legal_zone(p.name) AS zone FROM @extschema@.purpose p OFFSET 0) p
		ON p.name = f.purpose
	WHERE f.minor AND f.expires_at > @extschema@._legal_add(f.enrolled_at, p.minor_retention, p.zone);
	RETURN QUERY SELECT 'Art. 7', 'minor_retention', CASE WHEN n = 0 THEN 'ok' ELSE 'violation' END,
		pg_catalog.format('%s faces of minors kept beyond their purpose''s minor retention', n);

	-- Art. 8
	SELECT pg_catalog.count(*),
		pg_catalog.count(*) FILTER (WHERE f.expires_at < pg_catalog.statement_timestamp() - '1 day'::pg_catalog.interval)
	INTO n, m FROM @extschema@.face f WHERE f.expires_at <= pg_catalog.statement_timestamp();
	RETURN QUERY SELECT 'Art. 8', 'expired_not_purged',
		CASE WHEN m > 0 THEN 'violation' WHEN n > 0 THEN 'warning' ELSE 'ok' END,
		pg_catalog.format('%s faces past retention not yet purged (%s for more than a day; all invisible and unmatched)', n, m);
	SELECT pg_catalog.count(*) INTO n FROM @extschema@.face f
	  JOIN (SELECT p.*, @extschema@._legal_zone(p.name) AS zone FROM @extschema@.purpose p OFFSET 0) p
		ON p.name = f.purpose
	WHERE f.expires_at > @extschema@._legal_add(f.enrolled_at, p.retention, p.zone);
	RETURN QUERY SELECT 'Art. 8', 'retention_within_purpose', CASE WHEN n = 0 THEN 'ok' ELSE 'violation' END,
		pg_catalog.format('%s faces with an expiry beyond their purpose''s retention', n);
	SELECT pg_catalog.count(*) INTO n FROM @extschema@.consent c WHERE c.withdrawn_at IS NULL AND c.transfer_consent;
	RETURN QUERY SELECT 'Art. 8', 'transfer_consent', 'info',
		pg_catalog.format('%s active consents include separate transfer consent; export without it is refused', n);

	-- Art. 9
	SELECT pg_catalog.count(*), pg_catalog.string_agg(p.name, ', ' ORDER BY p.name) INTO n, names
	FROM @extschema@.purpose p WHERE NOT @extschema@.has_current_assessment(p.name);
	RETURN QUERY SELECT 'Art. 9', 'assessment_current', CASE WHEN n = 0 THEN 'ok' ELSE 'violation' END,
		CASE WHEN n = 0 THEN 'every purpose has a current impact assessment'
		ELSE pg_catalog.format('%s purposes without a current impact assessment (processing refused): %s', n, names) END;
	SELECT pg_catalog.count(*) INTO n FROM @extschema@.assessment a
	WHERE a.assessed_at < pg_catalog.now() - '3 years'::pg_catalog.interval;
	SELECT pg_catalog.count(*) INTO m FROM @extschema@.assessment;
	RETURN QUERY SELECT 'Art. 9', 'assessment_records', 'info',
		pg_catalog.format('%s assessment reports kept (%s older than 3 years); none can be deleted by frt roles', m, n);

	-- Art. 10
	SELECT pg_catalog.count(*), pg_catalog.string_agg(p.name, ', ' ORDER BY p.name) INTO n, names
	FROM @extschema@.purpose p WHERE p.kind = 'verification' AND p.alternative_method IS NULL;
	RETURN QUERY SELECT 'Art. 10', 'verification_alternative', CASE WHEN n = 0 THEN 'ok' ELSE 'violation' END,
		CASE WHEN n = 0 THEN 'every verification purpose declares a non-face alternative'
		ELSE pg_catalog.format('%s verification purposes without a non-face alternative (processing refused): %s', n, names) END;

	-- Art. 12
	SELECT pg_catalog.count(*) INTO n FROM @extschema@.consent c
	WHERE c.withdrawn_at IS NULL AND c.condition_of_service;
	RETURN QUERY SELECT 'Art. 12', 'consent_not_coerced', CASE WHEN n = 0 THEN 'ok' ELSE 'violation' END,
		pg_catalog.format('%s active consents recorded as a condition of service (processing them is refused)', n);

	-- Art. 13
	SELECT pg_catalog.count(*), pg_catalog.string_agg(d.name, ', ' ORDER BY d.name) INTO n, names
	FROM @extschema@.device d WHERE d.location_type = 'private_space';
	RETURN QUERY SELECT 'Art. 13', 'private_space_devices', CASE WHEN n = 0 THEN 'ok' ELSE 'violation' END,
		CASE WHEN n = 0 THEN 'no device registered in a private space'
		ELSE pg_catalog.format('%s devices registered in private spaces (capture refused): %s', n, names) END;
	SELECT pg_catalog.count(*), pg_catalog.string_agg(d.name, ', ' ORDER BY d.name) INTO n, names
	FROM @extschema@.device d WHERE d.location_type = 'public_place' AND (NOT d.signage OR d.capture_area IS NULL);
	RETURN QUERY SELECT 'Art. 13', 'public_place_signage', CASE WHEN n = 0 THEN 'ok' ELSE 'violation' END,
		CASE WHEN n = 0 THEN 'every public-place device has signage and a capture area'
		ELSE pg_catalog.format('%s public-place devices without signage or capture area (capture refused): %s', n, names) END;
	SELECT pg_catalog.count(*) INTO n FROM @extschema@.face f
	JOIN @extschema@.device d ON d.name = f.device JOIN @extschema@.purpose p ON p.name = f.purpose
	WHERE d.location_type = 'private_space'
	   OR (d.location_type = 'public_place' AND NOT p.serves_public_security);
	RETURN QUERY SELECT 'Art. 13', 'faces_from_forbidden_devices', CASE WHEN n = 0 THEN 'ok' ELSE 'violation' END,
		pg_catalog.format('%s stored faces captured by a private-space device or by a public-place device for a non-public-security purpose', n);

	-- Art. 14
	SELECT c.relrowsecurity, c.relforcerowsecurity INTO v_rls, v_force
	FROM pg_catalog.pg_class c WHERE c.oid = '@extschema@.face'::pg_catalog.regclass;
	RETURN QUERY SELECT 'Art. 14', 'face_row_security', CASE WHEN v_rls AND v_force THEN 'ok' ELSE 'violation' END,
		pg_catalog.format('row-level security on frt.face: enabled=%s, forced=%s', v_rls, v_force);
	SELECT pg_catalog.count(*), pg_catalog.string_agg(r.rolname, ', ' ORDER BY r.rolname) INTO n, names
	FROM pg_catalog.pg_roles r
	WHERE NOT r.rolsuper AND NOT r.rolbypassrls
	  AND (r.rolcanlogin OR r.rolname LIKE 'frt\_%')
	  AND pg_catalog.has_column_privilege(r.oid, '@extschema@.face'::pg_catalog.regclass, 'embedding', 'SELECT');
	RETURN QUERY SELECT 'Art. 14', 'embedding_not_readable', CASE WHEN n = 0 THEN 'ok' ELSE 'violation' END,
		CASE WHEN n = 0 THEN 'no frt role or ordinary login role can SELECT frt.face.embedding; export_faces is the only path'
		ELSE pg_catalog.format('%s frt or login roles can SELECT frt.face.embedding (directly, or via pg_read_all_data): %s', n, names) END;
	SELECT pg_catalog.count(*), pg_catalog.string_agg(r.rolname, ', ' ORDER BY r.rolname) INTO n, names
	FROM pg_catalog.pg_roles r WHERE (r.rolsuper OR r.rolbypassrls) AND r.rolcanlogin;
	RETURN QUERY SELECT 'Art. 14', 'trusted_boundary', 'info',
		pg_catalog.format('%s login roles bypass row-level security (superuser or BYPASSRLS): %s', n, names);
	SELECT * INTO v_prot FROM @extschema@.audit_protection();
	-- the hash function of new records (frt.audit_hash), and whether it
	-- matches a choice of China's commercial cryptography for the faces
	v_alg := CASE pg_catalog.current_setting('frt.audit_hash', true) WHEN 'sm3' THEN 'SM3' ELSE 'SHA-256' END;
	RETURN QUERY SELECT 'Art. 14', 'audit_keyed', CASE WHEN v_prot.keyed THEN 'ok' ELSE 'warning' END,
		CASE WHEN v_prot.keyed THEN pg_catalog.format('audit records are hashed with %s and signed (HMAC-%s) with a key loaded at server start (key id %s)', v_alg, v_alg, v_prot.key_id)
		ELSE pg_catalog.format('the audit chain (%s) is unkeyed: set frt.audit_key_file or frt.audit_key_command, or a superuser who knows the hash formula can forge records', v_alg) END
		OPERATOR(pg_catalog.||) CASE WHEN pg_catalog.current_setting('frt.encryption_suite', true) OPERATOR(pg_catalog.=) 'sm4-sm3'
			AND v_alg OPERATOR(pg_catalog.<>) 'SM3'
			THEN '; faces are sealed with sm4-sm3 but new audit records are hashed with SHA-256: set frt.audit_hash = ''sm3'' where SM algorithms are required (GB/T 39786)'
			ELSE '' END;
	RETURN QUERY SELECT 'Art. 14', 'audit_anchored',
		CASE WHEN v_prot.anchor_file OR v_prot.anchor_command THEN 'ok' ELSE 'warning' END,
		pg_catalog.format('the chain head leaves the database every %s s: server log%s%s', v_prot.anchor_interval_s,
			CASE WHEN v_prot.anchor_file THEN ', anchor file' ELSE '' END,
			CASE WHEN v_prot.anchor_command THEN ', anchor command' ELSE ' (no anchor file or command: set one, the log alone can be lost)' END);
	SELECT * INTO v_keys FROM @extschema@._key_status();
	-- this database's epochs (the keyring is the cluster's; any epoch opens)
	SELECT pg_catalog.count(*) FILTER (WHERE e.owner_db OPERATOR(pg_catalog.=) d.oid),
		   pg_catalog.max(e.created_at) FILTER (WHERE e.is_current)
	  INTO n, v_rotated FROM @extschema@._key_epochs() e,
		   pg_catalog.pg_database d WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database();
	SELECT pg_catalog.count(DISTINCT f.key_epoch),
		   pg_catalog.count(*) FILTER (WHERE f.key_epoch NOT IN (SELECT e.epoch FROM @extschema@._key_epochs() e))
	  INTO v_used, v_lost FROM @extschema@.face f;
	RETURN QUERY SELECT 'Art. 14', 'encryption_at_rest',
		CASE WHEN NOT COALESCE(v_keys.key_loaded, false) OR v_lost > 0 THEN 'violation' ELSE 'ok' END,
		CASE WHEN NOT COALESCE(v_keys.key_loaded, false)
			THEN 'no root key is loaded: set frt.encryption_key_file or frt.encryption_key_command and frt.encryption_keyring; enrolment and matching are refused'
		ELSE pg_catalog.format('faces, index codes and centroids are sealed with %s; current key epoch %s (%s); %s epochs of this database in the keyring, %s in use by faces%s',
			v_keys.suite, COALESCE(v_keys.current_epoch::pg_catalog.text, 'none yet'),
			COALESCE('created ' || pg_catalog.floor(pg_catalog.date_part('epoch', pg_catalog.now() OPERATOR(pg_catalog.-) v_rotated)
								 OPERATOR(pg_catalog./) 86400)::pg_catalog.int8 || ' days ago', '-'), n, v_used,
			CASE WHEN v_lost > 0 THEN pg_catalog.format('; %s faces are under an epoch missing from the keyring', v_lost) ELSE '' END) END;
	-- rows of the compliance_checks handlers (layers above)
	FOR h IN SELECT @extschema@._hook_handlers('compliance_checks') LOOP
		RETURN QUERY EXECUTE pg_catalog.format('SELECT * FROM %s()', h);
	END LOOP;

	-- Art. 15
	SELECT * INTO fs FROM @extschema@.filing_status();
	RETURN QUERY SELECT 'Art. 15', 'filing', CASE fs.status WHEN 'overdue' THEN 'violation'
		WHEN 'not required' THEN 'ok' WHEN 'filed' THEN 'ok' ELSE 'warning' END,
		pg_catalog.format('%s subjects stored; threshold %s reached on %s; deadline %s; status %s',
			fs.stored_subjects, fs.threshold, COALESCE(fs.threshold_reached_on::pg_catalog.text, '-'),
			COALESCE(fs.filing_deadline::pg_catalog.text, '-'), fs.status);
END
$$;

-- The erasure evidence names the key epoch of each erased face and when
-- its key was destroyed.
ALTER TABLE @extschema@.erasure_log ADD COLUMN key_epoch pg_catalog.int8;
ALTER TABLE @extschema@.erasure_log ADD COLUMN key_destroyed_at pg_catalog.timestamptz;
DROP TRIGGER face_erasure_ledger ON @extschema@.face;
CREATE TRIGGER face_erasure_ledger AFTER DELETE ON @extschema@.face
	FOR EACH ROW EXECUTE FUNCTION @extschema@._erasure_ledger_trigger(
		'id', 'subject', 'purpose', 'consent_id', 'minor', 'enrolled_at', 'expires_at', 'key_epoch');

CREATE OR REPLACE FUNCTION @extschema@._erasure_record(p_tid pg_catalog.tid, p_xmin pg_catalog.xid, cols pg_catalog.text[])
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_id int8 := cols[1]::int8;
	v_purpose text := cols[3];
	v_consent int8 := cols[4]::int8;
	v_minor bool := cols[5]::bool;
	v_enrolled timestamptz := cols[6]::timestamptz;
	v_expires timestamptz := cols[7]::timestamptz;
	v_withdrawn timestamptz;
	v_terminated date;
	v_limit timestamptz;
	v_adult_limit timestamptz;
	v_reason text;
	v_due timestamptz;
BEGIN
	SELECT c.withdrawn_at INTO v_withdrawn FROM @extschema@.consent c WHERE c.id = v_consent;
	SELECT t.terminated_on INTO v_terminated FROM @extschema@.purpose_termination t
	 WHERE t.purpose = v_purpose;
	-- retention ends: from the enrolment instant, the calendar counted in
	-- the purpose's legal time zone, as enrolment counts them
	SELECT @extschema@._legal_add(v_enrolled, CASE WHEN v_minor THEN COALESCE(p.minor_retention, p.retention)
			ELSE p.retention END, @extschema@._legal_zone(p.name)),
		   @extschema@._legal_add(v_enrolled, p.retention, @extschema@._legal_zone(p.name))
	  INTO v_limit, v_adult_limit FROM @extschema@.purpose p WHERE p.name = v_purpose;
	v_reason := CASE
		WHEN v_withdrawn IS NOT NULL THEN 'withdrawal'
		WHEN v_terminated IS NOT NULL THEN 'purpose_terminated'
		WHEN v_minor AND v_limit <= pg_catalog.now()
			AND v_limit < v_adult_limit
			THEN 'minor_retention'
		WHEN LEAST(v_expires, v_limit) <= pg_catalog.now() THEN 'retention'
		ELSE 'erasure' END;
	v_due := CASE v_reason
		WHEN 'withdrawal' THEN v_withdrawn
		WHEN 'purpose_terminated' THEN pg_catalog.timezone(@extschema@._legal_zone(v_purpose), v_terminated::pg_catalog.timestamp)
		WHEN 'retention' THEN LEAST(v_expires, v_limit)
		WHEN 'minor_retention' THEN LEAST(v_expires, v_limit)
		ELSE pg_catalog.now() END;
	INSERT INTO @extschema@.erasure_log (face_id, subject, purpose, reason, enrolled_at, due_at,
										 heap_tid, heap_xmin, key_epoch)
	VALUES (v_id, cols[2], v_purpose, v_reason, v_enrolled, v_due, p_tid, p_xmin, cols[8]::int8)
	ON CONFLICT (face_id) DO NOTHING;
END;
$$;

DROP FUNCTION @extschema@.erasure_report(pg_catalog.text);
CREATE FUNCTION @extschema@.erasure_report(p_subject pg_catalog.text)
RETURNS TABLE (face_id pg_catalog.int8, purpose pg_catalog.text, status pg_catalog.text,
			   reason pg_catalog.text, enrolled_at pg_catalog.timestamptz,
			   due_at pg_catalog.timestamptz, deleted_at pg_catalog.timestamptz,
			   index_erased_at pg_catalog.timestamptz, heap_erased_at pg_catalog.timestamptz,
			   key_destroyed_at pg_catalog.timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_subject IS NULL THEN
		RAISE EXCEPTION 'subject must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	RETURN QUERY
	SELECT f.id, f.purpose,
		   CASE WHEN due.reason IS NULL THEN 'stored' ELSE 'pending' END,
		   due.reason, f.enrolled_at, COALESCE(due.at, f.expires_at), NULL::timestamptz,
		   NULL::timestamptz, NULL::timestamptz, NULL::timestamptz
	  FROM @extschema@.face f
	  JOIN (SELECT p.*, @extschema@._legal_zone(p.name) AS zone
			  FROM @extschema@.purpose p OFFSET 0) p ON p.name = f.purpose
	  LEFT JOIN @extschema@.consent c ON c.id = f.consent_id
	  LEFT JOIN @extschema@.purpose_termination t ON t.purpose = f.purpose
	  CROSS JOIN LATERAL (SELECT
			CASE WHEN c.withdrawn_at IS NOT NULL THEN 'withdrawal'
				 WHEN t.purpose IS NOT NULL THEN 'purpose_terminated'
				 WHEN f.minor AND @extschema@._legal_add(f.enrolled_at, COALESCE(p.minor_retention, p.retention), p.zone)
						<= pg_catalog.now()
					AND @extschema@._legal_add(f.enrolled_at, COALESCE(p.minor_retention, p.retention), p.zone)
						< @extschema@._legal_add(f.enrolled_at, p.retention, p.zone)
					THEN 'minor_retention'
				 WHEN f.expires_at <= pg_catalog.now() THEN 'retention'
				 WHEN @extschema@._legal_add(f.enrolled_at, p.retention, p.zone) <= pg_catalog.now() THEN 'retention'
			END AS reason,
			CASE WHEN c.withdrawn_at IS NOT NULL THEN c.withdrawn_at
				 WHEN t.purpose IS NOT NULL THEN pg_catalog.timezone(p.zone, t.terminated_on::pg_catalog.timestamp)
				 ELSE LEAST(f.expires_at, @extschema@._legal_add(f.enrolled_at, CASE WHEN f.minor
					THEN COALESCE(p.minor_retention, p.retention) ELSE p.retention END, p.zone))
			END AS at) due
	 WHERE f.subject = p_subject
	UNION ALL
	SELECT l.face_id, l.purpose,
		   CASE WHEN l.heap_erased_at IS NOT NULL THEN 'erased'
				ELSE CASE @extschema@.heap_tid_state('@extschema@.face'::pg_catalog.regclass,
													 l.heap_tid, l.heap_xmin)
					WHEN 'erased' THEN 'erased'
					WHEN 'unscrubbed' THEN 'erased_from_index'
					ELSE CASE WHEN l.index_erased_at IS NOT NULL THEN 'erased_from_index'
							  ELSE 'erased_from_table' END
				END
		   END,
		   l.reason, l.enrolled_at, l.due_at, l.deleted_at, l.index_erased_at, l.heap_erased_at,
		   l.key_destroyed_at
	  FROM @extschema@.erasure_log l
	 WHERE l.subject = p_subject
	ORDER BY 1;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.erasure_report(pg_catalog.text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.erasure_report(pg_catalog.text) TO frt_admin, frt_auditor, frt_enroller;

-- Layer 8 (jobs): key epochs of the face store -- rotation, re-encryption
-- and erasure by key destruction (Measures Art. 14; docs/encryption.md).
--
-- Every face is sealed (frt.face.embedding, and the codes and centroids of
-- the frt_ivf indexes on it) under the key of one epoch.  An epoch's key is
-- derived from the root key and the epoch's secret, which lives only in the
-- keyring outside the data directory (src/keys).  A rotation makes a new
-- epoch current, re-seals every face and index entry under it, and then
-- destroys the old epoch's secret: from then on no copy of the database
-- made before -- base backup, WAL archive, dump, old standby -- can be read
-- for a face that was erased since, nor for any other face of that epoch.
--   frt.key_rotate()                 a new current epoch
--   frt.key_reencrypt(batch)         re-seal up to batch faces (table)
--   frt.key_reseal_indexes(batch)    re-seal up to batch index entries
--   frt.key_destroy_unused()         destroy every epoch nothing uses
--   CALL frt.key_rotation_run()      all of the above, in batches, each
--                                    committed: resumable after a crash
--   frt.key_epochs()                 every epoch: use, state, progress
--
-- Key epochs belong to the database that created them (the keyring is the
-- cluster's): this database rotates to, counts and destroys only its own.
-- Faces under another database's epoch (a dump restored here) still open,
-- and a rotation here moves them to this database's epoch.

-- Every epoch this database has used, with when it was retired and
-- destroyed (evidence: the keys themselves are outside the database).
CREATE TABLE @extschema@.key_epoch (
	epoch			pg_catalog.int8 PRIMARY KEY,
	suite			pg_catalog.text NOT NULL,
	created_at		pg_catalog.timestamptz NOT NULL,
	retired_at		pg_catalog.timestamptz,
	destroyed_at	pg_catalog.timestamptz,
	destroyed_by	pg_catalog.text
);
COMMENT ON TABLE @extschema@.key_epoch IS
	'key epochs of the sealed face store: created, retired, destroyed (the keys are never here)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.key_epoch', '');

-- Bring frt.key_epoch up to date with this database's epochs in the
-- keyring (created lazily by a first enrolment, or by another session);
-- every other epoch not destroyed is retired once this database has one.
CREATE FUNCTION @extschema@._key_sync()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	INSERT INTO @extschema@.key_epoch AS k (epoch, suite, created_at)
	SELECT e.epoch, e.suite, e.created_at FROM @extschema@._key_epochs() e
	 WHERE e.owner_db OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database d
			WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
	ON CONFLICT (epoch) DO NOTHING;
	UPDATE @extschema@.key_epoch k SET retired_at = pg_catalog.now()
	 WHERE k.retired_at IS NULL AND k.destroyed_at IS NULL
	   AND k.epoch OPERATOR(pg_catalog.<>) (SELECT e.epoch FROM @extschema@._key_epochs() e WHERE e.is_current);
END
$$;

-- The frt_ivf indexes on frt.face.
CREATE FUNCTION @extschema@._face_ivf_indexes()
RETURNS SETOF pg_catalog.regclass
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT i.indexrelid::pg_catalog.regclass
	  FROM pg_catalog.pg_index i
	  JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
	  JOIN pg_catalog.pg_am am ON am.oid = c.relam
	 WHERE i.indrelid = '@extschema@.face'::pg_catalog.regclass AND am.amname = 'frt_ivf'
	   AND i.indisvalid
	 ORDER BY 1;
$$;

-- Make a new epoch current; returns it.  Faces keep their epoch until
-- re-encrypted (frt.key_rotation_run).
CREATE FUNCTION @extschema@.key_rotate()
RETURNS pg_catalog.int8
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_prev pg_catalog.int8;
	v_new pg_catalog.int8;
BEGIN
	v_prev := @extschema@._key_current_epoch();
	v_new := @extschema@._key_epoch_create();
	PERFORM @extschema@._key_sync();
	PERFORM @extschema@.audit_event('key_rotate', 'ok',
		p_detail => pg_catalog.jsonb_build_object('epoch', v_new, 'previous', v_prev,
			'suite', (SELECT k.suite FROM @extschema@.key_epoch k WHERE k.epoch = v_new)));
	RETURN v_new;
END
$$;

-- Re-seal, under this database's current epoch, up to p_batch faces sealed
-- under any other (an older one, or another database's after a restore);
-- returns how many.  Rows locked by others are left for later.
CREATE FUNCTION @extschema@.key_reencrypt(p_batch pg_catalog.int4 DEFAULT 1000)
RETURNS pg_catalog.int8
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_cur pg_catalog.int8;
	v_done pg_catalog.int8;
BEGIN
	IF p_batch IS NULL OR p_batch < 1 THEN
		RAISE EXCEPTION 'batch must be a positive number of faces' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	v_cur := @extschema@._key_current_epoch();
	WITH b AS (
		SELECT f.id FROM @extschema@.face f
		 WHERE f.key_epoch OPERATOR(pg_catalog.<>) v_cur
		 ORDER BY f.key_epoch, f.id
		 LIMIT p_batch
		 FOR NO KEY UPDATE SKIP LOCKED),
	s AS (
		SELECT f.id, @extschema@._face_seal(f.id, @extschema@._face_open(f.id, f.embedding)) AS sealed
		  FROM @extschema@.face f JOIN b ON b.id = f.id)
	UPDATE @extschema@.face f SET embedding = s.sealed, key_epoch = @extschema@._sealed_epoch(s.sealed)
	  FROM s WHERE s.id = f.id;
	GET DIAGNOSTICS v_done = ROW_COUNT;
	IF v_done > 0 THEN
		PERFORM @extschema@.audit_event('key_reencrypt', 'ok',
			p_detail => pg_catalog.jsonb_build_object('epoch', v_cur, 'faces', v_done));
	END IF;
	RETURN v_done;
END
$$;

-- Re-seal, under the current epoch, up to p_batch entries and centroids of
-- the frt_ivf indexes on frt.face; returns how many.
CREATE FUNCTION @extschema@.key_reseal_indexes(p_batch pg_catalog.int8 DEFAULT 10000)
RETURNS pg_catalog.int8
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_idx pg_catalog.regclass;
	v_left pg_catalog.int8 := p_batch;
	v_n pg_catalog.int8;
BEGIN
	IF p_batch IS NULL OR p_batch < 1 THEN
		RAISE EXCEPTION 'batch must be a positive number of index entries' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	FOR v_idx IN SELECT * FROM @extschema@._face_ivf_indexes() LOOP
		EXIT WHEN v_left <= 0;
		v_n := @extschema@.ivf_reseal(v_idx, v_left);
		v_left := v_left - v_n;
	END LOOP;
	IF p_batch - v_left > 0 THEN
		PERFORM @extschema@.audit_event('key_reseal', 'ok',
			p_detail => pg_catalog.jsonb_build_object('epoch', @extschema@._key_current_epoch(),
				'index_entries', p_batch - v_left));
	END IF;
	RETURN p_batch - v_left;
END
$$;

-- Every epoch this database has used: faces and index entries under it,
-- and its state ('current': this database's, 'retired': faces still to
-- move, 'unused': may be destroyed, 'destroyed', 'foreign': in the keyring
-- but owned by another database, or by none -- this database never
-- destroys it).  Rows RLS hides count too: they are still on disk.
CREATE FUNCTION @extschema@.key_epochs()
RETURNS TABLE (epoch pg_catalog.int8, suite pg_catalog.text, state pg_catalog.text,
			   faces pg_catalog.int8, index_entries pg_catalog.int8,
			   created_at pg_catalog.timestamptz, retired_at pg_catalog.timestamptz,
			   destroyed_at pg_catalog.timestamptz)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_cur pg_catalog.int8;
	v_db pg_catalog.oid;
BEGIN
	PERFORM @extschema@._key_sync();
	v_db := (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database());
	v_cur := (SELECT e.epoch FROM @extschema@._key_epochs() e WHERE e.is_current);
	RETURN QUERY
	WITH f AS (SELECT x.key_epoch AS e, pg_catalog.count(*) AS n FROM @extschema@.face x GROUP BY 1),
	-- every frt_ivf index, also one not yet valid: a concurrent build
	-- writes its entries before the index becomes valid
	ix AS (SELECT x.indexrelid::pg_catalog.regclass AS ix
			FROM pg_catalog.pg_index x
			JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) x.indexrelid
			JOIN pg_catalog.pg_am am ON am.oid OPERATOR(pg_catalog.=) c.relam
		   WHERE x.indrelid OPERATOR(pg_catalog.=) '@extschema@.face'::pg_catalog.regclass
			 AND am.amname OPERATOR(pg_catalog.=) 'frt_ivf'),
	i AS (SELECT r.epoch AS e, pg_catalog.sum(r.items)::pg_catalog.int8 AS n
			FROM ix, LATERAL @extschema@.ivf_epochs(ix.ix) r GROUP BY 1),
	o AS (SELECT e.epoch AS e FROM @extschema@._key_epochs() e WHERE e.owner_db IS DISTINCT FROM v_db)
	SELECT k.epoch, k.suite,
		   CASE WHEN k.destroyed_at IS NOT NULL THEN 'destroyed'
				WHEN k.epoch = v_cur THEN 'current'
				WHEN o.e IS NOT NULL THEN 'foreign'
				WHEN COALESCE(f.n, 0) + COALESCE(i.n, 0) > 0 THEN 'retired'
				ELSE 'unused' END,
		   COALESCE(f.n, 0), COALESCE(i.n, 0), k.created_at, k.retired_at, k.destroyed_at
	  FROM @extschema@.key_epoch k
	  LEFT JOIN f ON f.e = k.epoch
	  LEFT JOIN i ON i.e = k.epoch
	  LEFT JOIN o ON o.e = k.epoch
	 ORDER BY k.epoch;
END
$$;

-- Destroy the key of every epoch of this database that is not current and
-- that no face and no index entry uses any more ('unused': never another
-- database's epoch, which is 'foreign'); returns the epochs destroyed.  An
-- epoch already gone from the keyring is only recorded.  Waits for
-- transactions still writing under an epoch.  Each destruction is audited
-- and written into the erasure evidence of the faces it sealed.
-- Only in READ COMMITTED: the faces are counted with a snapshot taken after
-- the lock, and a transaction snapshot (REPEATABLE READ, SERIALIZABLE)
-- taken earlier would miss a face enrolled since and destroy its epoch.
CREATE FUNCTION @extschema@.key_destroy_unused()
RETURNS SETOF pg_catalog.int8
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	e record;
	v_erased pg_catalog.int8;
BEGIN
	IF pg_catalog.current_setting('transaction_isolation') OPERATOR(pg_catalog.<>) 'read committed' THEN
		RAISE EXCEPTION 'key epochs are destroyed only in READ COMMITTED transactions'
			USING ERRCODE = 'invalid_transaction_state',
				  DETAIL = 'A transaction snapshot taken before the destruction does not see faces sealed since.',
				  HINT = 'Run it in a transaction of isolation level READ COMMITTED (SET default_transaction_isolation = ''read committed'').';
	END IF;
	PERFORM pg_catalog.pg_advisory_xact_lock(@extschema@._key_lock_id());
	FOR e IN SELECT * FROM @extschema@.key_epochs() k WHERE k.state = 'unused' LOOP
		UPDATE @extschema@.erasure_log l SET key_destroyed_at = pg_catalog.now()
		 WHERE l.key_epoch = e.epoch AND l.key_destroyed_at IS NULL;
		GET DIAGNOSTICS v_erased = ROW_COUNT;
		UPDATE @extschema@.key_epoch k SET destroyed_at = pg_catalog.now(),
			   destroyed_by = pg_catalog.session_user()
		 WHERE k.epoch = e.epoch;
		-- last: the keyring file cannot come back if what follows fails
		PERFORM @extschema@._key_epoch_destroy(e.epoch);
		PERFORM @extschema@.audit_event('key_destroyed', 'ok',
			p_detail => pg_catalog.jsonb_build_object('epoch', e.epoch, 'suite', e.suite,
				'erased_faces', v_erased));
		RETURN NEXT e.epoch;
	END LOOP;
END
$$;

-- One step of a rotation (frt.key_rotation_run commits after each): re-seal
-- up to p_batch faces; when none is left, up to 10 * p_batch index entries;
-- when none is left either, destroy the epochs nothing uses.  Returns the
-- faces and entries re-sealed (0: the rotation is complete) and reports
-- what is left as a NOTICE.
CREATE FUNCTION @extschema@._key_rotation_step(p_batch pg_catalog.int4)
RETURNS pg_catalog.int8
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n pg_catalog.int8;
	v_cur pg_catalog.int8;
BEGIN
	v_n := @extschema@.key_reencrypt(p_batch);
	IF v_n = 0 THEN
		v_n := @extschema@.key_reseal_indexes(p_batch::pg_catalog.int8 * 10);
	END IF;
	IF v_n = 0 THEN
		PERFORM @extschema@.key_destroy_unused();
		RETURN 0;
	END IF;
	v_cur := @extschema@._key_current_epoch();
	RAISE NOTICE 'frt: key rotation to epoch %: % faces still under other epochs', v_cur,
		(SELECT pg_catalog.count(*) FROM @extschema@.face f WHERE f.key_epoch OPERATOR(pg_catalog.<>) v_cur);
	RETURN v_n;
END
$$;

-- A whole rotation, resumable: re-seal the faces, then the index entries,
-- each batch in its own transaction, then destroy the epochs left unused.
-- Call it after frt.key_rotate() (or to finish one a crash interrupted).
-- Reports progress as NOTICEs; frt.key_epochs() shows it from elsewhere.
-- (A procedure with a SET clause cannot COMMIT: its body is qualified.)
CREATE PROCEDURE @extschema@.key_rotation_run(p_batch pg_catalog.int4 DEFAULT 1000)
LANGUAGE plpgsql
AS $$
BEGIN
	LOOP
		COMMIT;
		EXIT WHEN @extschema@._key_rotation_step(p_batch) OPERATOR(pg_catalog.=) 0;
	END LOOP;
	COMMIT;
END
$$;

-- (revoked here: frt._revoke_public_execute() revokes functions only)
REVOKE ALL ON PROCEDURE @extschema@.key_rotation_run(pg_catalog.int4) FROM PUBLIC;

-- Functions of this update are revoked from PUBLIC like the rest, then granted.
SELECT @extschema@._revoke_public_execute();

-- Key epochs: frt_admin rotates keys and destroys unused ones; the auditor
-- sees the epochs.
GRANT EXECUTE ON FUNCTION @extschema@.key_rotate(), @extschema@.key_reencrypt(pg_catalog.int4),
	@extschema@.key_reseal_indexes(pg_catalog.int8), @extschema@.key_destroy_unused() TO frt_admin;
GRANT EXECUTE ON PROCEDURE @extschema@.key_rotation_run(pg_catalog.int4) TO frt_admin;
GRANT EXECUTE ON FUNCTION @extschema@._key_rotation_step(pg_catalog.int4) TO frt_admin;
GRANT EXECUTE ON FUNCTION @extschema@.key_epochs() TO frt_admin, frt_auditor;
GRANT SELECT ON @extschema@.key_epoch TO frt_admin, frt_auditor;


DO $frt$
DECLARE
	d pg_catalog.jsonb;
BEGIN
	-- (definitions with every name qualified, as frt.restore_finish runs them)
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	FOR d IN SELECT pg_catalog.jsonb_array_elements(
			pg_catalog.current_setting('frt_upgrade.face_indexes')::pg_catalog.jsonb)
	LOOP
		EXECUTE pg_catalog.replace(d->>'definition', 'USING frt_ivf (embedding',
			'USING frt_ivf (@extschema@._face_open(id, embedding)');
		-- the definition, as the event triggers record it outside updates
		INSERT INTO @extschema@.face_index AS f (name, definition, relid)
		SELECT c.relname, pg_catalog.pg_get_indexdef(c.oid), c.oid
		  FROM pg_catalog.pg_class c
		 WHERE c.relname = d->>'name' AND c.relnamespace = '@extschema@'::pg_catalog.regnamespace
		ON CONFLICT (name) DO UPDATE
		SET definition = EXCLUDED.definition, relid = EXCLUDED.relid, recorded_at = pg_catalog.now();
	END LOOP;
END
$frt$;
-- ---- end of encryption at rest ----

-- ---- The audit chain's hash function: SHA-256 or SM3 (audit layer) ----
-- Each record names the hash function of its hash and MAC (frt.audit_hash
-- when it was written); records written before name sha256, which they
-- are.  Anchors may name the function, so the anchor functions take it.
-- Kept last: the ALTER TABLE locks frt.audit until the update commits, so
-- no record could be written after it in this script.
ALTER TABLE @extschema@.audit ADD COLUMN
	-- the hash function of hash and mac: frt.audit_hash when the record was written
	hash_alg	pg_catalog.text NOT NULL DEFAULT 'sha256'
		CONSTRAINT audit_hash_alg_known CHECK (hash_alg OPERATOR(pg_catalog.=) ANY ('{sha256,sm3}'::pg_catalog.text[]));
DROP FUNCTION @extschema@.verify_audit_chain(pg_catalog.int8, pg_catalog.text, pg_catalog.text);
DROP FUNCTION @extschema@._audit_anchor_check(pg_catalog.int8, pg_catalog.text, pg_catalog.text);
DROP FUNCTION @extschema@._audit_anchor_lines(pg_catalog.text);
DROP FUNCTION @extschema@.verify_audit_anchors(pg_catalog.text);
-- The same, and then against an anchor kept outside the database (a line
-- of the anchor file or the server log: seq, hash and MAC in hex, and the
-- hash function, alg; NULL: the anchored record's): a trail that ends
-- before the anchor (newest records deleted), or holds another record at
-- its seq (trail replaced), or an anchor whose MAC does not verify, is
-- reported.
CREATE FUNCTION @extschema@.verify_audit_chain(anchor_seq pg_catalog.int8,
	anchor_hash pg_catalog.text, anchor_mac pg_catalog.text DEFAULT NULL,
	anchor_alg pg_catalog.text DEFAULT NULL,
	OUT ok pg_catalog.bool, OUT seq pg_catalog.int8, OUT reason pg_catalog.text,
	OUT checked pg_catalog.int8, OUT warning pg_catalog.text)
RETURNS record
LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'frt_verify_audit_chain';
REVOKE ALL ON FUNCTION @extschema@.verify_audit_chain(pg_catalog.int8, pg_catalog.text, pg_catalog.text, pg_catalog.text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.verify_audit_chain(pg_catalog.int8, pg_catalog.text, pg_catalog.text, pg_catalog.text) TO frt_auditor;

-- One anchor against the trail, without walking the chain: NULL if the
-- trail holds the anchored record, else why not.
CREATE FUNCTION @extschema@._audit_anchor_check(anchor_seq pg_catalog.int8,
	anchor_hash pg_catalog.text, anchor_mac pg_catalog.text, anchor_alg pg_catalog.text)
RETURNS pg_catalog.text
LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'frt_audit_anchor_check';
REVOKE ALL ON FUNCTION @extschema@._audit_anchor_check(pg_catalog.int8, pg_catalog.text, pg_catalog.text, pg_catalog.text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._audit_anchor_check(pg_catalog.int8, pg_catalog.text, pg_catalog.text, pg_catalog.text) TO frt_auditor;

-- The anchors of this database in a text (the anchor file, or server log
-- lines; other lines and other databases' anchors are skipped); alg is
-- NULL on a line that names no hash function.
CREATE FUNCTION @extschema@._audit_anchor_lines(anchors pg_catalog.text)
RETURNS TABLE (line pg_catalog.int4, seq pg_catalog.int8, hash pg_catalog.text, mac pg_catalog.text,
	alg pg_catalog.text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT l.n::pg_catalog.int4, r[2]::pg_catalog.int8, r[3], NULLIF(r[4], 'none'), r[5]
	  FROM pg_catalog.regexp_split_to_table(anchors, E'\n') WITH ORDINALITY AS l(t, n),
		   pg_catalog.regexp_match(l.t,
			'frt audit anchor: db=("(?:[^"]|"")*"|\S+) seq=([0-9]+) hash=([0-9a-f]{64}) mac=([0-9a-f]{64}|none)(?: alg=([a-z0-9]+))?') AS r
	 WHERE r[1] OPERATOR(pg_catalog.=) pg_catalog.quote_ident(pg_catalog.current_database())
$$;

-- Anchor lines against this database's trail: first the whole chain with
-- the newest anchor (line 0), then each anchor on its own.
--   \set anchors `cat /var/lib/frt/audit-anchors`
--   SELECT * FROM frt.verify_audit_anchors(:'anchors') WHERE NOT ok;
CREATE FUNCTION @extschema@.verify_audit_anchors(anchors pg_catalog.text)
RETURNS TABLE (line pg_catalog.int4, seq pg_catalog.int8, ok pg_catalog.bool, reason pg_catalog.text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	a record;
	v record;
	why pg_catalog.text;
BEGIN
	SELECT * INTO a FROM @extschema@._audit_anchor_lines(anchors) l ORDER BY l.seq DESC, l.line DESC LIMIT 1;
	IF NOT FOUND THEN
		RETURN QUERY SELECT 0, NULL::pg_catalog.int8, false,
			'no anchor of this database in the text given'::pg_catalog.text;
		RETURN;
	END IF;
	SELECT * INTO v FROM @extschema@.verify_audit_chain(a.seq, a.hash, a.mac, a.alg);
	RETURN QUERY SELECT 0, v.seq, v.ok, v.reason || COALESCE('; ' || v.warning, '');
	FOR a IN SELECT * FROM @extschema@._audit_anchor_lines(anchors) l ORDER BY l.line LOOP
		why := @extschema@._audit_anchor_check(a.seq, a.hash, a.mac, a.alg);
		RETURN QUERY SELECT a.line, a.seq, why IS NULL, COALESCE(why, 'anchor matches the trail');
	END LOOP;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._audit_anchor_lines(pg_catalog.text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._audit_anchor_lines(pg_catalog.text) TO frt_auditor;
REVOKE ALL ON FUNCTION @extschema@.verify_audit_anchors(pg_catalog.text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.verify_audit_anchors(pg_catalog.text) TO frt_auditor;
-- ---- end of the audit chain's hash function ----

-- ---- the caller, one function ----
CREATE FUNCTION @extschema@._caller()
RETURNS pg_catalog.name
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT COALESCE(NULLIF(pg_catalog.current_setting('role'), 'none'), SESSION_USER)::pg_catalog.name;
$$;
REVOKE ALL ON FUNCTION @extschema@._caller() FROM PUBLIC;

CREATE OR REPLACE FUNCTION @extschema@._caller_sees_reasons()
RETURNS pg_catalog.bool
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_role pg_catalog.name := @extschema@._caller();
BEGIN
	RETURN EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
				   WHERE r.rolname OPERATOR(pg_catalog.=) v_role AND r.rolsuper)
		OR pg_catalog.pg_has_role(v_role, 'frt_admin', 'MEMBER')
		OR pg_catalog.pg_has_role(v_role, 'frt_enroller', 'MEMBER');
END
$$;
-- ---- end of the caller ----

-- ---- Filing, calendar and the person's rights: Measures Art. 15, 17 (registry, jobs) ----
-- The working-day calendar (src/registry/15_calendar.sql and the data of
-- data/cn_calendar.tsv, loaded as the install script does: days an
-- administrator already listed are kept).
ALTER TABLE @extschema@.holiday ADD COLUMN shipped pg_catalog.bool NOT NULL DEFAULT false;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.holiday', 'WHERE NOT shipped');
-- Layer 5: China's working-day calendar, for the 30-working-day deadlines
-- of Measures Art. 15.  The State Council General Office announces each
-- November the next year's public holidays and the weekend days worked in
-- exchange (调休); frt ships them as data/cn_calendar.tsv (with the notice
-- of each year), turned into src/registry/16_calendar_data.sql by make and
-- loaded at install.  frt.load_calendar() loads a newer year's data into a
-- running installation; frt.calendar_coverage() says how far it reaches.
-- Days outside the covered years follow the week (frt.is_working_day).

CREATE TABLE @extschema@.calendar_year (
	year		pg_catalog.int4 PRIMARY KEY CHECK (year BETWEEN 2000 AND 2200),
	source		pg_catalog.text NOT NULL CHECK (pg_catalog.btrim(source) <> ''),
	loaded_at	pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	-- loaded by the install script: not dumped, the install reloads it
	shipped		pg_catalog.bool NOT NULL DEFAULT false
);
COMMENT ON TABLE @extschema@.calendar_year IS
	'years whose public holidays and make-up working days frt.holiday holds, with the State Council notice they come from';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.calendar_year', 'WHERE NOT shipped');

-- How many days before the calendar's last covered day the reports warn.
CREATE FUNCTION @extschema@._calendar_warn_days()
RETURNS pg_catalog.int4
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT 60 $$;

-- Load calendar data in the format of data/cn_calendar.tsv: lines
-- "year<TAB>YYYY<TAB>source", then that year's "YYYY-MM-DD<TAB>off|work<TAB>name".
-- p_shipped (the install script, or an update): a year already loaded is
-- left alone, and so is a day frt.holiday already lists (an
-- administrator's entry wins).  Otherwise each year named replaces what
-- frt.holiday held for it.
-- Returns the number of days loaded.
CREATE FUNCTION @extschema@._calendar_load(p_data pg_catalog.text, p_shipped pg_catalog.bool)
RETURNS pg_catalog.int4
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	l pg_catalog.text;
	f pg_catalog.text[];
	v_line pg_catalog.int4 := 0;
	v_years pg_catalog.int4[] := '{}';
	v_skip pg_catalog.int4[] := '{}';
	v_year pg_catalog.int4;
	v_day pg_catalog.date;
	v_n pg_catalog.int4 := 0;
BEGIN
	IF p_data IS NULL THEN
		RAISE EXCEPTION 'calendar data must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	FOR l IN SELECT pg_catalog.regexp_split_to_table(p_data, E'\n') LOOP
		v_line := v_line + 1;
		l := pg_catalog.rtrim(l, E' \r');
		CONTINUE WHEN pg_catalog.btrim(l) = '' OR pg_catalog.left(pg_catalog.btrim(l), 1) = '#';
		f := pg_catalog.string_to_array(l, E'\t');
		IF pg_catalog.cardinality(f) <> 3 OR pg_catalog.btrim(f[3]) = '' THEN
			RAISE EXCEPTION 'calendar line %: expected three tab-separated fields', v_line
				USING ERRCODE = 'invalid_text_representation';
		END IF;
		IF f[1] = 'year' THEN
			IF f[2] !~ '^[0-9]{4}$' THEN
				RAISE EXCEPTION 'calendar line %: "%" is not a year', v_line, f[2]
					USING ERRCODE = 'invalid_text_representation';
			END IF;
			v_year := f[2]::pg_catalog.int4;
			v_years := v_years || v_year;
			IF EXISTS (SELECT 1 FROM @extschema@.calendar_year c WHERE c.year = v_year) AND p_shipped THEN
				v_skip := v_skip || v_year;
				CONTINUE;
			END IF;
			IF NOT p_shipped THEN
				DELETE FROM @extschema@.holiday h
				 WHERE h.day >= pg_catalog.make_date(v_year, 1, 1) AND h.day < pg_catalog.make_date(v_year + 1, 1, 1);
			END IF;
			INSERT INTO @extschema@.calendar_year AS c (year, source, shipped)
			VALUES (v_year, pg_catalog.btrim(f[3]), p_shipped)
			ON CONFLICT (year) DO UPDATE SET source = excluded.source, loaded_at = pg_catalog.now(),
				shipped = excluded.shipped;
			CONTINUE;
		END IF;
		BEGIN
			v_day := f[1]::pg_catalog.date;
		EXCEPTION WHEN OTHERS THEN
			RAISE EXCEPTION 'calendar line %: "%" is not a date', v_line, f[1]
				USING ERRCODE = 'invalid_text_representation';
		END;
		v_year := pg_catalog.date_part('year', v_day)::pg_catalog.int4;
		IF NOT v_year = ANY (v_years) THEN
			RAISE EXCEPTION 'calendar line %: % comes before the line "year<TAB>%<TAB>source"', v_line, v_day, v_year
				USING ERRCODE = 'invalid_text_representation';
		END IF;
		IF f[2] NOT IN ('off', 'work') THEN
			RAISE EXCEPTION 'calendar line %: the kind must be off or work, not "%"', v_line, f[2]
				USING ERRCODE = 'invalid_text_representation';
		END IF;
		IF f[2] = 'work' AND pg_catalog.date_part('isodow', v_day) < 6 THEN
			RAISE EXCEPTION 'calendar line %: % is a weekday: only a weekend day can be a make-up working day', v_line, v_day
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		CONTINUE WHEN v_year = ANY (v_skip);
		INSERT INTO @extschema@.holiday (day, name, is_workday, shipped)
		VALUES (v_day, pg_catalog.btrim(f[3]), f[2] = 'work', p_shipped)
		ON CONFLICT (day) DO NOTHING;
		IF FOUND THEN
			v_n := v_n + 1;
		END IF;
	END LOOP;
	IF pg_catalog.cardinality(v_years) = 0 THEN
		RAISE EXCEPTION 'calendar data names no year' USING ERRCODE = 'invalid_text_representation',
			HINT = 'Each year starts with a line "year<TAB>YYYY<TAB>source" naming the State Council notice.';
	END IF;
	RETURN v_n;
END
$$;

-- Load a newer year's calendar (or correct one) from data in the format
-- of data/cn_calendar.tsv; audited.  Returns the number of days loaded.
CREATE FUNCTION @extschema@.load_calendar(p_data pg_catalog.text)
RETURNS pg_catalog.int4
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n pg_catalog.int4;
BEGIN
	v_n := @extschema@._calendar_load(p_data, false);
	PERFORM @extschema@.audit_event('calendar', 'loaded', p_detail => pg_catalog.jsonb_build_object(
		'days', v_n, 'years', (SELECT pg_catalog.jsonb_agg(c.year ORDER BY c.year) FROM @extschema@.calendar_year c)));
	RETURN v_n;
END
$$;

-- How far the working-day calendar reaches: the covered years, the last
-- covered day, and the days from today (the legal date) until then.
CREATE FUNCTION @extschema@.calendar_coverage(OUT first_year pg_catalog.int4, OUT last_year pg_catalog.int4,
	OUT covered_until pg_catalog.date, OUT days_left pg_catalog.int4, OUT sources pg_catalog.text)
RETURNS record
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	SELECT pg_catalog.min(c.year), pg_catalog.max(c.year),
		   pg_catalog.string_agg(c.year || ': ' || c.source, '; ' ORDER BY c.year)
	  INTO first_year, last_year, sources FROM @extschema@.calendar_year c;
	covered_until := pg_catalog.make_date(last_year, 12, 31);
	days_left := covered_until - @extschema@._filing_today();
END
$$;

-- Whether the calendar covers a day (its year was loaded).
CREATE FUNCTION @extschema@._calendar_covers(p_day pg_catalog.date)
RETURNS pg_catalog.bool
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT 1 FROM @extschema@.calendar_year c
				   WHERE c.year OPERATOR(pg_catalog.=) pg_catalog.date_part('year', p_day)::pg_catalog.int4);
$$;

REVOKE ALL ON FUNCTION @extschema@._calendar_load(pg_catalog.text, pg_catalog.bool) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.load_calendar(pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.calendar_coverage() FROM PUBLIC;
GRANT SELECT ON @extschema@.calendar_year TO frt_admin, frt_auditor;
GRANT EXECUTE ON FUNCTION @extschema@.load_calendar(pg_catalog.text) TO frt_admin;
GRANT EXECUTE ON FUNCTION @extschema@.calendar_coverage() TO frt_admin, frt_auditor;
-- (as src/registry/16_calendar_data.sql, made by scripts/calendar-sql.sh from data/cn_calendar.tsv;
-- no audit record per day: the audit writer cannot record during the update)
ALTER TABLE @extschema@.holiday DISABLE TRIGGER holiday_audit;
-- China's working-day calendar shipped with frt (Measures Art. 15 deadlines).
SELECT @extschema@._calendar_load($frt_calendar$# China's working-day calendar: public holidays and the weekend days worked
# in exchange (调休上班), as the State Council General Office announces them
# each year.  Used for the 30-working-day deadlines of Measures Art. 15.
# Days not listed follow the week: Monday-Friday working, Saturday and
# Sunday not.
#
# Sources (one "year" line per covered year, with the notice it comes from):
#   2025: 国务院办公厅关于2025年部分节假日安排的通知（国办发明电〔2024〕12号，2024年11月12日）
#   2026: 国务院办公厅关于2026年部分节假日安排的通知（国办发明电〔2025〕7号，2025年11月4日）
# Add a year only from its notice (published each November on www.gov.cn),
# then rebuild, or load it into a running installation with
# frt.load_calendar() (docs/operations.md).
#
# Format: tab-separated; '#' starts a comment line.
#   year <TAB> YYYY <TAB> source          the year is covered, from source
#   YYYY-MM-DD <TAB> off <TAB> name       a public holiday (no work)
#   YYYY-MM-DD <TAB> work <TAB> name      a weekend day worked in exchange
year	2025	国务院办公厅关于2025年部分节假日安排的通知（国办发明电〔2024〕12号）
2025-01-01	off	元旦
2025-01-26	work	春节调休上班
2025-01-28	off	春节
2025-01-29	off	春节
2025-01-30	off	春节
2025-01-31	off	春节
2025-02-01	off	春节
2025-02-02	off	春节
2025-02-03	off	春节
2025-02-04	off	春节
2025-02-08	work	春节调休上班
2025-04-04	off	清明节
2025-04-05	off	清明节
2025-04-06	off	清明节
2025-04-27	work	劳动节调休上班
2025-05-01	off	劳动节
2025-05-02	off	劳动节
2025-05-03	off	劳动节
2025-05-04	off	劳动节
2025-05-05	off	劳动节
2025-05-31	off	端午节
2025-06-01	off	端午节
2025-06-02	off	端午节
2025-09-28	work	国庆节、中秋节调休上班
2025-10-01	off	国庆节、中秋节
2025-10-02	off	国庆节、中秋节
2025-10-03	off	国庆节、中秋节
2025-10-04	off	国庆节、中秋节
2025-10-05	off	国庆节、中秋节
2025-10-06	off	国庆节、中秋节
2025-10-07	off	国庆节、中秋节
2025-10-08	off	国庆节、中秋节
2025-10-11	work	国庆节、中秋节调休上班
year	2026	国务院办公厅关于2026年部分节假日安排的通知（国办发明电〔2025〕7号）
2026-01-01	off	元旦
2026-01-02	off	元旦
2026-01-03	off	元旦
2026-01-04	work	元旦调休上班
2026-02-14	work	春节调休上班
2026-02-15	off	春节
2026-02-16	off	春节
2026-02-17	off	春节
2026-02-18	off	春节
2026-02-19	off	春节
2026-02-20	off	春节
2026-02-21	off	春节
2026-02-22	off	春节
2026-02-23	off	春节
2026-02-28	work	春节调休上班
2026-04-04	off	清明节
2026-04-05	off	清明节
2026-04-06	off	清明节
2026-05-01	off	劳动节
2026-05-02	off	劳动节
2026-05-03	off	劳动节
2026-05-04	off	劳动节
2026-05-05	off	劳动节
2026-05-09	work	劳动节调休上班
2026-06-19	off	端午节
2026-06-20	off	端午节
2026-06-21	off	端午节
2026-09-20	work	国庆节调休上班
2026-09-25	off	中秋节
2026-09-26	off	中秋节
2026-09-27	off	中秋节
2026-10-01	off	国庆节
2026-10-02	off	国庆节
2026-10-03	off	国庆节
2026-10-04	off	国庆节
2026-10-05	off	国庆节
2026-10-06	off	国庆节
2026-10-07	off	国庆节
2026-10-10	work	国庆节调休上班
$frt_calendar$, true);
ALTER TABLE @extschema@.holiday ENABLE ALWAYS TRIGGER holiday_audit;

-- Change and cancellation filings follow the initial filing (src/jobs/20_filing.sql, 10_erasure.sql).
-- Whether a processor has made its initial filing (NULL: the
-- installation's processor).  Change and cancellation filings follow it.
CREATE FUNCTION @extschema@._filing_filed(p_processor pg_catalog.text DEFAULT NULL)
RETURNS pg_catalog.bool
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT 1 FROM @extschema@.filing_state s
				   WHERE s.id OPERATOR(pg_catalog.=) 1 AND s.filed_on IS NOT NULL);
$$;
REVOKE ALL ON FUNCTION @extschema@._filing_filed(pg_catalog.text) FROM PUBLIC;

-- Open a change or cancellation obligation due 30 working days after
-- p_on; returns its deadline (the existing one if already open).

-- The daily filing check (Art. 15).  Returns the open obligations it
-- alerted about, with their deadlines and working days left.  Also alerts
-- when the working-day calendar runs out and about overdue requests of
-- persons (Art. 17).

-- Record a filing made with the cyberspace office and close its
-- obligation.  p_kind: initial | change | cancellation (cancellation names
-- the purpose).  A change filing with no open obligation is recorded as
-- filed on its own.

-- Record that face processing for a purpose has ended: no new faces, all
-- its faces are erased now, and, when the processor made its initial
-- filing, the cancellation filing falls due within 30 working days
-- (Measures Art. 15).  Returns the filing deadline (NULL: nothing to file).

-- Night job times (src/jobs/30_schedule.sql).
-- The jobs frt needs: name, default schedule and the single statement each
-- runs.  Use this to drive any scheduler when pg_cron is not available.

-- Register (or update) the jobs with pg_cron; idempotent: jobs are keyed
-- by name.  Runs as the caller, and pg_cron runs the jobs as the caller:
-- it must own frt.face (VACUUM and the heap scrub need the owner).

-- Change filings on a material change; the filings in the compliance report (src/jobs/25_filing_changes.sql).
-- Layer 8 (jobs): change filings opened by a material change, and the
-- filings and calendar in the compliance report (Measures Art. 15).
--
-- "备案信息发生实质性变更的，应当在变更之日起30个工作日内办理备案变更手续":
-- once the initial filing is recorded, a change to what was filed opens a
-- change filing due 30 working days later (frt.open_filing).  What was
-- filed are the five items of Art. 15 (frt.filing_materials); the changes
-- watched here, on the registry's tables:
--   item 1, the processor:       processor name, contact, legal time zone
--   item 2, purpose and method:  a new purpose; a purpose's kind,
--                                description, method, processor, dimension
--                                (the model), public-security use
--   item 3, storage and security: retention, minor retention, alternative
--                                method; the security measures (the
--                                encryption suite, the audit hash, the
--                                status of every Art. 14 check of the
--                                compliance report, intrusion rules
--                                included), compared daily by
--                                frt.filing_check() with those of the last
--                                filing (frt.filing_baseline)
--   item 4, processing rules:    a notice version published as a material
--                                change
--   item 5, impact assessment:   a new assessment report
-- A change of several at once opens one filing per purpose (one open
-- change filing per purpose at a time).  Nothing opens before the initial
-- filing, nor while a restore reloads rows.

-- The columns of a registry table whose change is material for the filing.
CREATE FUNCTION @extschema@._filing_material_columns(p_table pg_catalog.text)
RETURNS pg_catalog.text[]
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE p_table
		WHEN 'processor' THEN ARRAY['name', 'contact', 'legal_time_zone']
		WHEN 'purpose' THEN ARRAY['kind', 'description', 'method', 'processor', 'dimension',
			'serves_public_security', 'retention', 'minor_retention', 'alternative_method']
		ELSE ARRAY[]::pg_catalog.text[] END;
$$;

-- Trigger on processor, purpose, notice and assessment: open a change
-- filing when filed information changes (see above).
CREATE FUNCTION @extschema@._filing_on_change()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_new pg_catalog.jsonb := pg_catalog.to_jsonb(NEW);
	v_old pg_catalog.jsonb;
	v_changed pg_catalog.text[];
	v_purpose pg_catalog.text;
	v_processor pg_catalog.text;
BEGIN
	IF @extschema@.audit_restoring() THEN
		RETURN NULL;
	END IF;
	IF TG_OP = 'UPDATE' THEN
		v_old := pg_catalog.to_jsonb(OLD);
		SELECT pg_catalog.array_agg(c ORDER BY c) INTO v_changed
		  FROM pg_catalog.unnest(@extschema@._filing_material_columns(TG_TABLE_NAME)) c
		 WHERE v_new->c IS DISTINCT FROM v_old->c;
		IF v_changed IS NULL THEN
			RETURN NULL;
		END IF;
	ELSIF TG_TABLE_NAME = 'notice' AND NOT (v_new->>'material_change')::pg_catalog.bool THEN
		RETURN NULL;
	ELSE
		v_changed := ARRAY[TG_TABLE_NAME];
	END IF;
	CASE TG_TABLE_NAME
	WHEN 'processor' THEN
		v_processor := v_new->>'name';
	WHEN 'purpose' THEN
		v_purpose := v_new->>'name';
		v_processor := v_new->>'processor';
	ELSE
		v_purpose := v_new->>'purpose';
		SELECT p.processor INTO v_processor FROM @extschema@.purpose p WHERE p.name = v_purpose;
	END CASE;
	IF NOT @extschema@._filing_filed(v_processor) THEN
		RETURN NULL;
	END IF;
	PERFORM @extschema@.open_filing('change', v_purpose, @extschema@._filing_today());
	PERFORM @extschema@.audit_event('filing_change', 'material', v_purpose, p_detail =>
		pg_catalog.jsonb_build_object('article', 'Measures Art. 15', 'table', TG_TABLE_NAME,
			'op', TG_OP, 'changed', pg_catalog.to_jsonb(v_changed)));
	RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._filing_on_change() FROM PUBLIC;

CREATE TRIGGER processor_filing_change AFTER UPDATE ON @extschema@.processor
	FOR EACH ROW EXECUTE FUNCTION @extschema@._filing_on_change();
CREATE TRIGGER purpose_filing_change AFTER INSERT OR UPDATE ON @extschema@.purpose
	FOR EACH ROW EXECUTE FUNCTION @extschema@._filing_on_change();
CREATE TRIGGER notice_filing_change AFTER INSERT ON @extschema@.notice
	FOR EACH ROW EXECUTE FUNCTION @extschema@._filing_on_change();
CREATE TRIGGER assessment_filing_change AFTER INSERT ON @extschema@.assessment
	FOR EACH ROW EXECUTE FUNCTION @extschema@._filing_on_change();
-- also under session_replication_role = replica (as the audit triggers)
ALTER TABLE @extschema@.processor ENABLE ALWAYS TRIGGER processor_filing_change;
ALTER TABLE @extschema@.purpose ENABLE ALWAYS TRIGGER purpose_filing_change;
ALTER TABLE @extschema@.notice ENABLE ALWAYS TRIGGER notice_filing_change;
ALTER TABLE @extschema@.assessment ENABLE ALWAYS TRIGGER assessment_filing_change;

-- The security measures as filed (item 3): taken when a filing is
-- recorded, compared daily.  Settings outside the tables (the encryption
-- suite, the audit hash, keys, anchors) change without any trigger.
CREATE TABLE @extschema@.filing_baseline (
	id			pg_catalog.int4 PRIMARY KEY DEFAULT 1 CHECK (id = 1),
	security	pg_catalog.jsonb NOT NULL,
	taken_at	pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE @extschema@.filing_baseline IS
	'the security measures when the last filing was recorded (Measures Art. 15 item 3), to open a change filing when they change';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.filing_baseline', '');

-- The security measures now: the encryption suite, the audit hash and the
-- status of each Art. 14 check (not their details: a key rotation or a
-- count is no change of measures).
CREATE FUNCTION @extschema@._filing_security()
RETURNS pg_catalog.jsonb
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.jsonb_build_object(
		'encryption_suite', (SELECT k.suite FROM @extschema@._key_status() k),
		'audit_hash', COALESCE(pg_catalog.current_setting('frt.audit_hash', true), 'sha256'),
		'checks', (SELECT pg_catalog.jsonb_object_agg(c.check_name, c.status)
					 FROM @extschema@.compliance_report() c WHERE c.article OPERATOR(pg_catalog.=) 'Art. 14'));
$$;

-- Take the baseline (a filing was recorded), or, once filed, compare it
-- with the measures now and open a change filing when they differ.
CREATE FUNCTION @extschema@._filing_security_check(p_take pg_catalog.bool)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_now pg_catalog.jsonb;
	v_old pg_catalog.jsonb;
	v_changed pg_catalog.text[];
BEGIN
	IF NOT @extschema@._filing_filed(NULL) THEN
		RETURN;
	END IF;
	v_now := @extschema@._filing_security();
	SELECT b.security INTO v_old FROM @extschema@.filing_baseline b WHERE b.id = 1;
	IF NOT p_take AND v_old IS NOT NULL AND v_old IS DISTINCT FROM v_now THEN
		SELECT pg_catalog.array_agg(k ORDER BY k) INTO v_changed
		  FROM (SELECT pg_catalog.jsonb_object_keys(v_now - 'checks') AS k
				UNION SELECT 'checks.' || pg_catalog.jsonb_object_keys(v_now->'checks')
				UNION SELECT 'checks.' || pg_catalog.jsonb_object_keys(v_old->'checks')) x
		 WHERE CASE WHEN k LIKE 'checks.%' THEN v_now->'checks'->pg_catalog.substr(k, 8)
					IS DISTINCT FROM v_old->'checks'->pg_catalog.substr(k, 8)
				ELSE v_now->k IS DISTINCT FROM v_old->k END;
		PERFORM @extschema@.open_filing('change', NULL, @extschema@._filing_today());
		PERFORM @extschema@.audit_event('filing_change', 'material', p_detail =>
			pg_catalog.jsonb_build_object('article', 'Measures Art. 15', 'table', 'security_measures',
				'changed', pg_catalog.to_jsonb(v_changed)));
	END IF;
	IF p_take OR v_old IS DISTINCT FROM v_now THEN
		INSERT INTO @extschema@.filing_baseline AS b (id, security) VALUES (1, v_now)
		ON CONFLICT (id) DO UPDATE SET security = excluded.security, taken_at = pg_catalog.now();
	END IF;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._filing_security_check(pg_catalog.bool) FROM PUBLIC;

-- Alert (daily, from frt.filing_check) when the working-day calendar ends
-- within frt._calendar_warn_days() days or covers no year at all: the
-- deadlines after its last day would count only weekends.
CREATE FUNCTION @extschema@._calendar_alert()
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	c record;
BEGIN
	SELECT * INTO c FROM @extschema@.calendar_coverage();
	IF c.last_year IS NULL OR c.days_left <= @extschema@._calendar_warn_days() THEN
		PERFORM @extschema@._jobs_alert('calendar_expiring', NULL, pg_catalog.jsonb_build_object(
			'article', 'Measures Art. 15', 'covered_until', c.covered_until, 'days_left', c.days_left,
			'action', 'load the next year''s State Council holiday notice: frt.load_calendar()'));
	END IF;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._calendar_alert() FROM PUBLIC;

-- Registry's compliance_checks point: the Art. 15 rows filings_open (change
-- and cancellation filings open or overdue) and working_day_calendar.
CREATE FUNCTION @extschema@._filing_compliance()
RETURNS TABLE (article pg_catalog.text, check_name pg_catalog.text, status pg_catalog.text,
	detail pg_catalog.text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_today pg_catalog.date := @extschema@._filing_today();
	n pg_catalog.int8;
	m pg_catalog.int8;
	v_list pg_catalog.text;
	c record;
	v_beyond pg_catalog.text;
BEGIN
	SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE f.deadline < v_today),
		   pg_catalog.string_agg(pg_catalog.format('%s %s due %s (%s working days left)', f.kind,
				COALESCE('"' || f.purpose || '"', 'installation'), f.deadline,
				@extschema@.working_days_between(v_today, f.deadline)), '; ' ORDER BY f.deadline, f.id)
	  INTO n, m, v_list
	  FROM @extschema@.filing f WHERE f.filed_on IS NULL;
	RETURN QUERY SELECT 'Art. 15', 'filings_open',
		CASE WHEN m > 0 THEN 'violation' WHEN n > 0 THEN 'warning' ELSE 'ok' END,
		CASE WHEN n = 0 THEN 'no change or cancellation filing is open'
		ELSE pg_catalog.format('%s change or cancellation filings open, %s overdue: %s', n, m, v_list) END;

	SELECT * INTO c FROM @extschema@.calendar_coverage();
	-- open deadlines (the initial filing's too) beyond the calendar
	SELECT pg_catalog.string_agg(d::pg_catalog.text, ', ' ORDER BY d) INTO v_beyond
	  FROM (SELECT f.deadline AS d FROM @extschema@.filing f WHERE f.filed_on IS NULL
			UNION
			SELECT @extschema@.working_days_after(s.threshold_reached_on, 30) FROM @extschema@.filing_state s
			 WHERE s.threshold_reached_on IS NOT NULL AND s.filed_on IS NULL) x
	 WHERE NOT @extschema@._calendar_covers(x.d);
	RETURN QUERY SELECT 'Art. 15', 'working_day_calendar',
		CASE WHEN c.last_year IS NULL OR c.days_left <= @extschema@._calendar_warn_days()
				  OR v_beyond IS NOT NULL THEN 'warning' ELSE 'ok' END,
		CASE WHEN c.last_year IS NULL
			THEN 'the working-day calendar covers no year: deadlines count weekends only; load the State Council holiday notices with frt.load_calendar()'
		ELSE pg_catalog.format('public holidays and make-up working days known for %s-%s (%s); %s days until its last day %s%s%s',
			c.first_year, c.last_year, c.sources, c.days_left, c.covered_until,
			CASE WHEN c.days_left <= @extschema@._calendar_warn_days()
				THEN pg_catalog.format(': load the %s notice with frt.load_calendar()', c.last_year + 1) ELSE '' END,
			CASE WHEN v_beyond IS NOT NULL
				THEN '; deadlines beyond the calendar, counted on weekends only: ' || v_beyond ELSE '' END) END;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._filing_compliance() FROM PUBLIC;

SELECT @extschema@._hook_register('compliance_checks', '_filing_compliance', 'jobs');

-- The filing materials (src/jobs/26_filing_materials.sql).
-- Layer 8 (jobs): the filing materials of Measures Art. 15, assembled from
-- the database.  "申请备案应当提交下列材料", item by item as the law lists them:
--   （一）个人信息处理者的基本情况      processor_basic_information:
--         frt.processor (name, contact, legal time zone, registered)
--   （二）人脸信息处理目的和处理方式    purposes_and_methods: frt.purpose
--         (description, method, 1:1 or 1:N, public-security use, the
--         non-face alternative, model dimension), the devices its faces
--         came from, termination
--   （三）人脸信息存储数量和安全保护措施 storage_scale_and_security_measures:
--         distinct people and faces stored (per purpose, minors), the
--         100,000 threshold; encryption (on, suite, key epochs), the audit
--         chain (hash, key, anchor), access control (row-level security,
--         the embedding unreadable), roles, intrusion rules (the Art. 14
--         rows of frt.compliance_report, intrusion layer included), erasure
--         (scheduled jobs, frt.erasure_log)
--   （四）人脸信息的处理规则和操作规程    processing_rules_and_operating_procedures:
--         the notice in force per purpose (every Art. 5 item), retention
--         rules, the scheduled jobs
--   （五）个人信息保护影响评估报告        impact_assessment_reports:
--         frt.assessment, the current report per purpose
-- frt.filing_materials() returns them as jsonb; frt.filing_materials_document()
-- as a Chinese Markdown document with the law's headings.

-- The processor the materials are for: the one named, or the
-- installation's sole processor.
CREATE FUNCTION @extschema@._filing_processor(p_processor pg_catalog.text)
RETURNS @extschema@.processor
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r @extschema@.processor;
	n pg_catalog.int8;
BEGIN
	IF p_processor IS NOT NULL THEN
		SELECT * INTO r FROM @extschema@.processor p WHERE p.name = p_processor;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'processor "%" is not registered', p_processor USING ERRCODE = 'no_data_found';
		END IF;
		RETURN r;
	END IF;
	SELECT pg_catalog.count(*) INTO n FROM @extschema@.processor;
	IF n <> 1 THEN
		RAISE EXCEPTION 'name the processor: % are registered', n USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Register the processor first (frt.processor) or pass its name.';
	END IF;
	SELECT * INTO r FROM @extschema@.processor;
	RETURN r;
END
$$;

-- Art. 15 items (1)-(5) for one processor (NULL: the sole one), as jsonb.
-- Audited.  Nothing biometric: counts, names and settings only.
CREATE FUNCTION @extschema@.filing_materials(p_processor pg_catalog.text DEFAULT NULL)
RETURNS pg_catalog.jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	pr @extschema@.processor := @extschema@._filing_processor(p_processor);
	v_sole pg_catalog.bool := (SELECT pg_catalog.count(*) = 1 FROM @extschema@.processor);
	v_purposes pg_catalog.text[];
	fs record;
	ks record;
	ap record;
	v_alg pg_catalog.text;
	v pg_catalog.jsonb;
BEGIN
	-- the processor's purposes (a purpose without one belongs to the sole processor)
	SELECT COALESCE(pg_catalog.array_agg(p.name ORDER BY p.name), '{}') INTO v_purposes
	  FROM @extschema@.purpose p WHERE p.processor = pr.name OR (p.processor IS NULL AND v_sole);
	SELECT * INTO fs FROM @extschema@.filing_status();
	SELECT * INTO ks FROM @extschema@._key_status();
	SELECT * INTO ap FROM @extschema@.audit_protection();
	v_alg := CASE pg_catalog.current_setting('frt.audit_hash', true) WHEN 'sm3' THEN 'SM3' ELSE 'SHA-256' END;

	v := pg_catalog.jsonb_build_object(
		'law', '《人脸识别技术应用安全管理办法》第十五条',
		'generated_at', pg_catalog.now(),
		'processor', pr.name,
		'processor_basic_information', pg_catalog.jsonb_build_object(
			'item', '（一）个人信息处理者的基本情况',
			'name', pr.name, 'contact', pr.contact, 'legal_time_zone', pr.legal_time_zone,
			'registered_at', pr.registered_at, 'purposes', pg_catalog.cardinality(v_purposes)),
		'purposes_and_methods', pg_catalog.jsonb_build_object(
			'item', '（二）人脸信息处理目的和处理方式',
			'purposes', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'name', p.name, 'purpose', p.description, 'method', p.method, 'kind', p.kind,
				'serves_public_security', p.serves_public_security,
				'alternative_method', p.alternative_method, 'dimension', p.dimension,
				'devices', (SELECT pg_catalog.jsonb_agg(DISTINCT pg_catalog.jsonb_build_object(
						'name', d.name, 'location_type', d.location_type, 'signage', d.signage))
					FROM @extschema@.face f JOIN @extschema@.device d ON d.name = f.device
					WHERE f.purpose = p.name),
				'terminated_on', t.terminated_on) ORDER BY p.name)
				FROM @extschema@.purpose p LEFT JOIN @extschema@.purpose_termination t ON t.purpose = p.name
				WHERE p.name = ANY (v_purposes)), '[]')),
		'storage_scale_and_security_measures', pg_catalog.jsonb_build_object(
			'item', '（三）人脸信息存储数量和安全保护措施',
			'storage', pg_catalog.jsonb_build_object(
				'people_stored', (SELECT pg_catalog.count(DISTINCT f.subject) FROM @extschema@.face f
								  WHERE f.purpose = ANY (v_purposes)),
				'faces_stored', (SELECT pg_catalog.count(*) FROM @extschema@.face f WHERE f.purpose = ANY (v_purposes)),
				'minors_stored', (SELECT pg_catalog.count(DISTINCT f.subject) FROM @extschema@.face f
								  WHERE f.purpose = ANY (v_purposes) AND f.minor),
				'per_purpose', COALESCE((SELECT pg_catalog.jsonb_object_agg(x.purpose, x.people)
					FROM (SELECT f.purpose, pg_catalog.count(DISTINCT f.subject) AS people FROM @extschema@.face f
						  WHERE f.purpose = ANY (v_purposes) GROUP BY f.purpose) x), '{}'),
				'installation_people_stored', fs.stored_subjects,
				'threshold', fs.threshold, 'threshold_reached_on', fs.threshold_reached_on,
				'filing_deadline', fs.filing_deadline, 'filed_on', fs.filed_on,
				'filing_reference', fs.filing_reference, 'filing_status', fs.status,
				'storage_location', 'PostgreSQL database ' || pg_catalog.current_database()),
			'security_measures', pg_catalog.jsonb_build_object(
				'encryption', pg_catalog.jsonb_build_object(
					'enabled', COALESCE(ks.key_loaded, false), 'suite', ks.suite,
					'current_key_epoch', ks.current_epoch,
					'key_epochs', (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
							'epoch', e.epoch, 'suite', e.suite, 'created_at', e.created_at, 'current', e.is_current,
							'faces', (SELECT pg_catalog.count(*) FROM @extschema@.face f WHERE f.key_epoch = e.epoch))
						ORDER BY e.epoch)
						FROM @extschema@._key_epochs() e JOIN pg_catalog.pg_database d ON d.oid = e.owner_db
						WHERE d.datname = pg_catalog.current_database()),
					'keys_outside_database', true),
				'security_audit', pg_catalog.jsonb_build_object(
					'hash_chain', v_alg, 'keyed', ap.keyed, 'key_id', ap.key_id,
					'anchor_interval_s', ap.anchor_interval_s, 'anchor_file', ap.anchor_file,
					'anchor_command', ap.anchor_command,
					'records', (SELECT pg_catalog.count(*) FROM @extschema@.audit)),
				'access_control', pg_catalog.jsonb_build_object(
					'face_row_security', (SELECT c.relrowsecurity AND c.relforcerowsecurity FROM pg_catalog.pg_class c
										  WHERE c.oid = '@extschema@.face'::pg_catalog.regclass),
					'roles', (SELECT pg_catalog.jsonb_object_agg(r.rolname, COALESCE((SELECT pg_catalog.jsonb_agg(m.rolname ORDER BY m.rolname)
							FROM pg_catalog.pg_auth_members am JOIN pg_catalog.pg_roles m ON m.oid = am.member
							WHERE am.roleid = r.oid), '[]'))
						FROM pg_catalog.pg_roles r WHERE r.rolname LIKE 'frt\_%')),
				'checks', (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('check', c.check_name,
						'status', c.status, 'detail', c.detail) ORDER BY c.check_name)
					FROM @extschema@.compliance_report() c WHERE c.article = 'Art. 14'),
				'erasure', pg_catalog.jsonb_build_object(
					'jobs', (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('job', j.jobname,
							'schedule_gmt', j.schedule, 'command', j.command))
						FROM @extschema@.job_commands() j),
					'faces_erased', (SELECT pg_catalog.count(*) FROM @extschema@.erasure_log l
									 WHERE l.purpose = ANY (v_purposes)),
					'faces_erased_confirmed', (SELECT pg_catalog.count(*) FROM @extschema@.erasure_log l
									 WHERE l.purpose = ANY (v_purposes) AND l.heap_erased_at IS NOT NULL)))),
		'processing_rules_and_operating_procedures', pg_catalog.jsonb_build_object(
			'item', '（四）人脸信息的处理规则和操作规程',
			'rules', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'purpose', p.name, 'retention', p.retention, 'minor_retention', p.minor_retention,
				'similarity_threshold', p.similarity_threshold, 'max_k', p.max_k,
				'score_disclosure', p.score_disclosure,
				'notice', (SELECT pg_catalog.jsonb_build_object('version', n.version, 'published_at', n.published_at,
						'body', n.body, 'processing_method', n.processing_method,
						'retention_statement', n.retention_statement,
						'necessity_and_impact', n.necessity_and_impact,
						'rights_procedure', n.rights_procedure, 'accessibility', n.accessibility)
					FROM @extschema@.notice n WHERE n.purpose = p.name
					 AND n.version = @extschema@.current_notice_version(p.name))) ORDER BY p.name)
				FROM @extschema@.purpose p WHERE p.name = ANY (v_purposes)), '[]'),
			'procedures', pg_catalog.jsonb_build_object(
				'consent', '按处理目的逐人取得单独同意，同意对应现行告知版本；撤回同意立即生效，人脸信息随即删除',
				'minors', '不满十四周岁未成年人须由父母或者其他监护人同意，保存期限不超过该目的的未成年人保存期限',
				'requests', pg_catalog.format('个人的投诉、举报和行使权利的请求逐件登记，在%s个工作日内答复（frt.request）',
					@extschema@._request_working_days()),
				'scheduled_jobs', (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('job', j.jobname,
						'schedule_gmt', j.schedule, 'command', j.command))
					FROM @extschema@.job_commands() j))),
		'impact_assessment_reports', pg_catalog.jsonb_build_object(
			'item', '（五）个人信息保护影响评估报告',
			'reports', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'purpose', a.purpose, 'id', a.id, 'assessed_at', a.assessed_at, 'assessor', a.assessor,
				'valid_until', a.valid_until, 'current', a.voided_at IS NULL
					AND (a.valid_until IS NULL OR a.valid_until >= @extschema@._filing_today()),
				'voided_at', a.voided_at, 'void_reason', a.void_reason, 'report', a.report)
				ORDER BY a.purpose, a.assessed_at DESC, a.id DESC)
				FROM @extschema@.assessment a WHERE a.purpose = ANY (v_purposes)), '[]')),
		'filings', pg_catalog.jsonb_build_object(
			'initial', pg_catalog.jsonb_build_object('filed_on', fs.filed_on, 'reference', fs.filing_reference,
				'status', fs.status, 'deadline', fs.filing_deadline),
			'changes_and_cancellations', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'kind', f.kind, 'purpose', f.purpose, 'triggered_on', f.triggered_on, 'deadline', f.deadline,
				'filed_on', f.filed_on, 'reference', f.reference) ORDER BY f.id)
				FROM @extschema@.filing f WHERE f.purpose IS NULL OR f.purpose = ANY (v_purposes)), '[]')));
	PERFORM @extschema@.audit_event('filing_materials', 'produced', p_detail =>
		pg_catalog.jsonb_build_object('article', 'Measures Art. 15', 'processor', pr.name));
	RETURN v;
END
$$;

-- A JSON value as document text ('-' when null).
CREATE FUNCTION @extschema@._doc_text(p_value pg_catalog.jsonb)
RETURNS pg_catalog.text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN p_value IS NULL OR pg_catalog.jsonb_typeof(p_value) OPERATOR(pg_catalog.=) 'null' THEN '-'
		WHEN pg_catalog.jsonb_typeof(p_value) OPERATOR(pg_catalog.=) 'boolean'
			THEN CASE WHEN p_value::pg_catalog.text OPERATOR(pg_catalog.=) 'true' THEN '是' ELSE '否' END
		WHEN pg_catalog.jsonb_typeof(p_value) OPERATOR(pg_catalog.=) 'string' THEN p_value OPERATOR(pg_catalog.#>>) '{}'
		ELSE p_value::pg_catalog.text END;
$$;

-- The filing materials as a Chinese document (Markdown), headed with the
-- items of Art. 15 in the law's words.
CREATE FUNCTION @extschema@.filing_materials_document(p_processor pg_catalog.text DEFAULT NULL)
RETURNS pg_catalog.text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	m pg_catalog.jsonb := @extschema@.filing_materials(p_processor);
	b pg_catalog.jsonb;
	s pg_catalog.jsonb;
	x pg_catalog.jsonb;
	d pg_catalog.text;
BEGIN
	b := m->'processor_basic_information';
	d := pg_catalog.concat_ws(E'\n',
		'# 人脸识别技术应用备案材料', '',
		'依据《人脸识别技术应用安全管理办法》第十五条：“个人信息处理者应当在应用人脸识别技术处理的人脸信息存储数量达到10万人之日起30个工作日内向所在地省级以上网信部门履行备案手续。”本材料由数据库按该条所列五项材料生成。', '',
		'- 生成时间：' || @extschema@._doc_text(m->'generated_at'),
		'- 数据库：' || pg_catalog.current_database(), '',
		'## ' || (b->>'item'), '',
		'- 名称：' || @extschema@._doc_text(b->'name'),
		'- 联系方式：' || @extschema@._doc_text(b->'contact'),
		'- 法定日期所用时区：' || @extschema@._doc_text(b->'legal_time_zone'),
		'- 登记时间：' || @extschema@._doc_text(b->'registered_at'),
		'- 处理目的数：' || @extschema@._doc_text(b->'purposes'), '',
		'## ' || (m->'purposes_and_methods'->>'item'), '');
	FOR x IN SELECT * FROM pg_catalog.jsonb_array_elements(m->'purposes_and_methods'->'purposes') LOOP
		d := pg_catalog.concat_ws(E'\n', d,
			'### 处理目的：' || (x->>'name'), '',
			'- 处理目的：' || @extschema@._doc_text(x->'purpose'),
			'- 处理方式：' || @extschema@._doc_text(x->'method'),
			'- 应用类型：' || CASE x->>'kind' WHEN 'verification' THEN '验证个人身份（1:1）' ELSE '辨识特定个人（1:N）' END,
			'- 为维护公共安全所必需：' || @extschema@._doc_text(x->'serves_public_security'),
			'- 非人脸识别技术的替代方式：' || @extschema@._doc_text(x->'alternative_method'),
			'- 特征向量维度（模型）：' || @extschema@._doc_text(x->'dimension'),
			'- 采集设备：' || COALESCE((SELECT pg_catalog.string_agg(pg_catalog.format('%s（%s，提示标识：%s）',
					e->>'name', e->>'location_type', @extschema@._doc_text(e->'signage')), '、')
				FROM pg_catalog.jsonb_array_elements(COALESCE(x->'devices', '[]')) e), '-'),
			'- 终止应用日期：' || @extschema@._doc_text(x->'terminated_on'), '');
	END LOOP;

	s := m->'storage_scale_and_security_measures';
	d := pg_catalog.concat_ws(E'\n', d,
		'## ' || (s->>'item'), '',
		'### 人脸信息存储数量', '',
		'- 存储人脸信息的人数（去重）：' || @extschema@._doc_text(s->'storage'->'people_stored'),
		'- 人脸信息记录数：' || @extschema@._doc_text(s->'storage'->'faces_stored'),
		'- 其中不满十四周岁未成年人人数：' || @extschema@._doc_text(s->'storage'->'minors_stored'),
		'- 各处理目的人数：' || COALESCE((SELECT pg_catalog.string_agg(pg_catalog.format('%s %s人', e.key, e.value), '；' ORDER BY e.key)
			FROM pg_catalog.jsonb_each(s->'storage'->'per_purpose') e), '-'),
		'- 本数据库存储总人数：' || @extschema@._doc_text(s->'storage'->'installation_people_stored')
			|| '（备案门槛 ' || @extschema@._doc_text(s->'storage'->'threshold') || ' 人）',
		'- 达到10万人之日：' || @extschema@._doc_text(s->'storage'->'threshold_reached_on')
			|| '；备案期限：' || @extschema@._doc_text(s->'storage'->'filing_deadline')
			|| '；备案日期：' || @extschema@._doc_text(s->'storage'->'filed_on')
			|| '；备案编号：' || @extschema@._doc_text(s->'storage'->'filing_reference'),
		'- 存储位置：' || @extschema@._doc_text(s->'storage'->'storage_location'), '',
		'### 安全保护措施', '',
		'- 数据加密：' || CASE WHEN (s->'security_measures'->'encryption'->>'enabled')::pg_catalog.bool
			THEN '已启用，算法套件 ' || @extschema@._doc_text(s->'security_measures'->'encryption'->'suite')
				|| '，当前密钥版本 ' || @extschema@._doc_text(s->'security_measures'->'encryption'->'current_key_epoch')
				|| '，密钥版本数 ' || COALESCE(pg_catalog.jsonb_array_length(s->'security_measures'->'encryption'->'key_epochs'), 0)
				|| '；根密钥保存在数据库之外'
			ELSE '未加载根密钥（录入和比对被拒绝）' END,
		'- 安全审计：哈希链（' || @extschema@._doc_text(s->'security_measures'->'security_audit'->'hash_chain')
			|| '），密钥签名：' || @extschema@._doc_text(s->'security_measures'->'security_audit'->'keyed')
			|| '，链头外存：' || CASE WHEN (s->'security_measures'->'security_audit'->>'anchor_file')::pg_catalog.bool
				OR (s->'security_measures'->'security_audit'->>'anchor_command')::pg_catalog.bool THEN '是' ELSE '仅服务器日志' END
			|| '，审计记录数 ' || @extschema@._doc_text(s->'security_measures'->'security_audit'->'records'),
		'- 访问控制：人脸表行级安全（强制）：' || @extschema@._doc_text(s->'security_measures'->'access_control'->'face_row_security')
			|| '；特征向量列任何角色不可直接读取',
		'- 授权管理（角色及成员）：' || COALESCE((SELECT pg_catalog.string_agg(pg_catalog.format('%s：%s', e.key,
				CASE WHEN pg_catalog.jsonb_array_length(e.value) = 0 THEN '无' ELSE
				(SELECT pg_catalog.string_agg(r, '、') FROM pg_catalog.jsonb_array_elements_text(e.value) r) END), '；' ORDER BY e.key)
			FROM pg_catalog.jsonb_each(s->'security_measures'->'access_control'->'roles') e), '-'),
		'- 入侵检测和防御及其他检查（第十四条）：');
	FOR x IN SELECT * FROM pg_catalog.jsonb_array_elements(COALESCE(s->'security_measures'->'checks', '[]')) LOOP
		d := d || E'\n' || pg_catalog.format('  - %s（%s）：%s', x->>'check', x->>'status', x->>'detail');
	END LOOP;
	d := pg_catalog.concat_ws(E'\n', d,
		'- 删除：保存期限届满、撤回同意或终止应用的人脸信息由定时任务删除并覆写；已删除 '
			|| @extschema@._doc_text(s->'security_measures'->'erasure'->'faces_erased') || ' 条，其中已确认覆写 '
			|| @extschema@._doc_text(s->'security_measures'->'erasure'->'faces_erased_confirmed') || ' 条', '',
		'## ' || (m->'processing_rules_and_operating_procedures'->>'item'), '',
		'### 处理规则（向个人告知的事项）', '');
	FOR x IN SELECT * FROM pg_catalog.jsonb_array_elements(m->'processing_rules_and_operating_procedures'->'rules') LOOP
		d := pg_catalog.concat_ws(E'\n', d,
			'#### 处理目的：' || (x->>'purpose'), '',
			'- 保存期限：' || @extschema@._doc_text(x->'retention') || '；未成年人保存期限：' || @extschema@._doc_text(x->'minor_retention'),
			'- 比对阈值：' || @extschema@._doc_text(x->'similarity_threshold') || '；单次辨识最多返回：'
				|| @extschema@._doc_text(x->'max_k') || '；相似度披露方式：' || @extschema@._doc_text(x->'score_disclosure'),
			'- 告知版本：' || @extschema@._doc_text(x->'notice'->'version') || '（发布于 ' || @extschema@._doc_text(x->'notice'->'published_at') || '）',
			'- 告知正文：' || @extschema@._doc_text(x->'notice'->'body'),
			'- 处理方式：' || @extschema@._doc_text(x->'notice'->'processing_method'),
			'- 保存期限说明：' || @extschema@._doc_text(x->'notice'->'retention_statement'),
			'- 必要性及对个人权益的影响：' || @extschema@._doc_text(x->'notice'->'necessity_and_impact'),
			'- 个人行使权利的方式和程序：' || @extschema@._doc_text(x->'notice'->'rights_procedure'),
			'- 无障碍说明：' || @extschema@._doc_text(x->'notice'->'accessibility'), '');
	END LOOP;
	x := m->'processing_rules_and_operating_procedures'->'procedures';
	d := pg_catalog.concat_ws(E'\n', d,
		'### 操作规程', '',
		'- 同意：' || (x->>'consent'),
		'- 未成年人：' || (x->>'minors'),
		'- 投诉、举报和个人请求：' || (x->>'requests'),
		'- 定时任务（cron 表达式为格林尼治时间，北京时间为其加8小时）：'
			|| COALESCE((SELECT pg_catalog.string_agg(pg_catalog.format('%s `%s`', j->>'job', j->>'schedule_gmt'), '；')
				FROM pg_catalog.jsonb_array_elements(x->'scheduled_jobs') j), '-'), '',
		'## ' || (m->'impact_assessment_reports'->>'item'), '');
	FOR x IN SELECT * FROM pg_catalog.jsonb_array_elements(m->'impact_assessment_reports'->'reports') LOOP
		d := pg_catalog.concat_ws(E'\n', d,
			pg_catalog.format('### 处理目的：%s（评估编号 %s，%s）', x->>'purpose', x->>'id',
				CASE WHEN (x->>'current')::pg_catalog.bool THEN '现行有效' ELSE '已失效' END), '',
			'- 评估时间：' || @extschema@._doc_text(x->'assessed_at') || '；评估人：' || @extschema@._doc_text(x->'assessor')
				|| '；有效期至：' || @extschema@._doc_text(x->'valid_until'),
			CASE WHEN x->>'voided_at' IS NOT NULL THEN '- 失效原因：' || (x->>'void_reason') END,
			'- 报告：' || @extschema@._doc_text(x->'report'), '');
	END LOOP;
	IF pg_catalog.jsonb_array_length(m->'impact_assessment_reports'->'reports') = 0 THEN
		d := d || E'\n（无）\n';
	END IF;
	d := pg_catalog.concat_ws(E'\n', d,
		'## 备案记录', '',
		'- 首次备案：' || @extschema@._doc_text(m->'filings'->'initial'->'filed_on') || '，编号 '
			|| @extschema@._doc_text(m->'filings'->'initial'->'reference') || '，状态 '
			|| CASE m->'filings'->'initial'->>'status' WHEN 'filed' THEN '已备案' WHEN 'due' THEN '应备案'
				WHEN 'overdue' THEN '逾期未备案' WHEN 'not required' THEN '未达到10万人，无需备案'
				ELSE @extschema@._doc_text(m->'filings'->'initial'->'status') END);
	FOR x IN SELECT * FROM pg_catalog.jsonb_array_elements(m->'filings'->'changes_and_cancellations') LOOP
		d := d || E'\n' || pg_catalog.format('- %s：%s，变更/终止之日 %s，期限 %s，办理日期 %s，编号 %s',
			CASE x->>'kind' WHEN 'change' THEN '备案变更' ELSE '注销备案' END,
			COALESCE(x->>'purpose', '全部'), x->>'triggered_on', x->>'deadline',
			@extschema@._doc_text(x->'filed_on'), @extschema@._doc_text(x->'reference'));
	END LOOP;
	RETURN d || E'\n';
END
$$;

REVOKE ALL ON FUNCTION @extschema@._filing_processor(pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.filing_materials(pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._doc_text(pg_catalog.jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.filing_materials_document(pg_catalog.text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.filing_materials(pg_catalog.text) TO frt_admin, frt_auditor;
GRANT EXECUTE ON FUNCTION @extschema@.filing_materials_document(pg_catalog.text) TO frt_admin, frt_auditor;

-- Complaints, reports and requests; the subject report (src/jobs/40_rights.sql).
-- Layer 8 (jobs): the person's side of the Measures.
--
-- Art. 17: anyone may complain about or report unlawful face processing.
-- The authorities handle those sent to them; a processor keeps its own
-- register of the complaints, reports and requests it receives, with the
-- answer and the dates (PIPL Art. 50: a convenient way to receive and
-- handle persons' requests; the reason for a refusal is given).
--   frt.request             the register (read by frt_admin, frt_auditor)
--   frt.record_request()    a complaint, report or request received
--   frt.update_request()    in progress, answered, closed or rejected
-- Deadline: 15 working days from receipt (frt._request_working_days()).
-- PIPL Art. 50 says only "promptly" (及时); GB/T 35273-2020 §8.7 allows 30
-- days for answering a person's request; the shorter limit regulators
-- apply to complaints and reports about personal information (a
-- processor's promise may not exceed 15 working days:
-- 《App违法违规收集使用个人信息行为认定方法》, 国信办秘字〔2019〕191号)
-- is used for every kind.  frt.filing_check() (daily) alerts about every
-- overdue one; the compliance report counts them.
--
-- frt.subject_report(subject) answers a person who asks what is held about
-- them (PIPL Art. 44, 45): consents, the notices shown, face metadata,
-- processing history and erasure evidence; never a biometric value.

CREATE SEQUENCE @extschema@.request_id_seq;
CREATE TABLE @extschema@.request (
	id			pg_catalog.int8 PRIMARY KEY DEFAULT pg_catalog.nextval('@extschema@.request_id_seq'),
	-- complaint (投诉), report (举报), or a request exercising a right
	kind		pg_catalog.text NOT NULL CHECK (kind IN ('complaint', 'report', 'access', 'copy',
		'correction', 'deletion', 'withdrawal', 'explanation', 'other')),
	channel		pg_catalog.text NOT NULL CHECK (channel IN ('in_person', 'phone', 'email', 'web',
		'letter', 'regulator', 'other')),
	received_on pg_catalog.date NOT NULL,
	subject		pg_catalog.text,	-- the pseudonymous subject concerned, when known
	purpose		pg_catalog.text,	-- the purpose concerned, when known
	summary		pg_catalog.text NOT NULL CHECK (pg_catalog.btrim(summary) <> ''),
	deadline	pg_catalog.date NOT NULL,
	status		pg_catalog.text NOT NULL DEFAULT 'received'
		CHECK (status IN ('received', 'in_progress', 'answered', 'closed', 'rejected')),
	answered_on pg_catalog.date,
	answer		pg_catalog.text,
	closed_on	pg_catalog.date,
	recorded_by pg_catalog.text NOT NULL,
	updated_at	pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CHECK (deadline >= received_on),
	CHECK ((answered_on IS NULL) = (answer IS NULL)),
	CHECK (status NOT IN ('answered', 'closed', 'rejected') OR answer IS NOT NULL),
	CHECK ((status IN ('closed', 'rejected')) = (closed_on IS NOT NULL))
);
ALTER SEQUENCE @extschema@.request_id_seq OWNED BY @extschema@.request.id;
CREATE INDEX request_subject_idx ON @extschema@.request (subject);
COMMENT ON TABLE @extschema@.request IS
	'complaints, reports and requests of persons, with their handling and deadlines (Measures Art. 17; PIPL Art. 50)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.request', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.request_id_seq', '');

-- Working days allowed to answer a complaint, report or request (see above).
CREATE FUNCTION @extschema@._request_working_days()
RETURNS pg_catalog.int4
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT 15 $$;

-- Record a complaint, report or request received; returns its id.  The
-- deadline is 15 working days after p_received_on (a legal date).
CREATE FUNCTION @extschema@.record_request(p_kind pg_catalog.text, p_channel pg_catalog.text,
	p_summary pg_catalog.text, p_subject pg_catalog.text DEFAULT NULL,
	p_purpose pg_catalog.text DEFAULT NULL,
	p_received_on pg_catalog.date DEFAULT @extschema@._filing_today())
RETURNS pg_catalog.int8
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_id pg_catalog.int8;
	v_deadline pg_catalog.date;
BEGIN
	IF p_received_on IS NULL OR p_received_on > @extschema@._filing_today() THEN
		RAISE EXCEPTION 'the day received must be today or earlier' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF p_purpose IS NOT NULL AND NOT EXISTS (SELECT 1 FROM @extschema@.purpose p WHERE p.name = p_purpose) THEN
		RAISE EXCEPTION 'purpose "%" is not registered', p_purpose USING ERRCODE = 'foreign_key_violation';
	END IF;
	IF p_subject IS NOT NULL AND NOT EXISTS (SELECT 1 FROM @extschema@.subject s WHERE s.id = p_subject) THEN
		RAISE EXCEPTION 'subject "%" is not registered', p_subject USING ERRCODE = 'foreign_key_violation',
			HINT = 'Record the request without a subject, and name the person in the summary only as far as needed.';
	END IF;
	v_deadline := @extschema@.working_days_after(p_received_on, @extschema@._request_working_days());
	INSERT INTO @extschema@.request (kind, channel, received_on, subject, purpose, summary, deadline, recorded_by)
	VALUES (p_kind, p_channel, p_received_on, p_subject, p_purpose, p_summary, v_deadline, @extschema@._caller())
	RETURNING id INTO v_id;
	PERFORM @extschema@.audit_event('request', 'received', p_purpose, p_subject, p_detail =>
		pg_catalog.jsonb_build_object('article', 'Measures Art. 17', 'id', v_id, 'kind', p_kind,
			'channel', p_channel, 'received_on', p_received_on, 'deadline', v_deadline));
	RETURN v_id;
END
$$;

-- Move a request on: in_progress, answered (with the answer given),
-- closed or rejected (an answer, or the reason, is required).  A closed or
-- rejected request does not reopen.
CREATE FUNCTION @extschema@.update_request(p_id pg_catalog.int8, p_status pg_catalog.text,
	p_answer pg_catalog.text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r @extschema@.request;
	v_today pg_catalog.date := @extschema@._filing_today();
BEGIN
	SELECT * INTO r FROM @extschema@.request q WHERE q.id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no request %', p_id USING ERRCODE = 'no_data_found';
	END IF;
	IF r.status IN ('closed', 'rejected') THEN
		RAISE EXCEPTION 'request % is already %', p_id, r.status USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF p_status IS NULL OR p_status NOT IN ('in_progress', 'answered', 'closed', 'rejected') THEN
		RAISE EXCEPTION 'status must be in_progress, answered, closed or rejected, not %', COALESCE(p_status, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF p_status IN ('answered', 'rejected') AND (p_answer IS NULL OR pg_catalog.btrim(p_answer) = '') THEN
		RAISE EXCEPTION 'an answered or rejected request records the answer or the reason given'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF p_status = 'closed' AND r.answer IS NULL AND (p_answer IS NULL OR pg_catalog.btrim(p_answer) = '') THEN
		RAISE EXCEPTION 'a request closes once answered: give the answer'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	UPDATE @extschema@.request q SET
		status = p_status,
		answer = COALESCE(NULLIF(pg_catalog.btrim(p_answer), ''), q.answer),
		answered_on = CASE WHEN NULLIF(pg_catalog.btrim(p_answer), '') IS NOT NULL THEN v_today ELSE q.answered_on END,
		closed_on = CASE WHEN p_status IN ('closed', 'rejected') THEN v_today END,
		updated_at = pg_catalog.now()
	 WHERE q.id = p_id;
	PERFORM @extschema@.audit_event('request', p_status, r.purpose, r.subject, p_detail =>
		pg_catalog.jsonb_build_object('article', 'Measures Art. 17', 'id', p_id, 'kind', r.kind,
			'deadline', r.deadline, 'late', v_today > r.deadline AND r.answered_on IS NULL));
END
$$;

-- Open (not yet answered) requests past their deadline.
CREATE FUNCTION @extschema@._requests_overdue()
RETURNS SETOF @extschema@.request
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT * FROM @extschema@.request q
	 WHERE q.answered_on IS NULL AND q.closed_on IS NULL
	   AND q.deadline OPERATOR(pg_catalog.<) @extschema@._filing_today()
	 ORDER BY q.deadline, q.id;
$$;

-- Alert once per overdue request (daily, from frt.filing_check).
CREATE FUNCTION @extschema@._requests_alert()
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT * FROM @extschema@._requests_overdue() LOOP
		PERFORM @extschema@._jobs_alert('request_overdue', r.purpose, pg_catalog.jsonb_build_object(
			'article', 'Measures Art. 17', 'id', r.id, 'kind', r.kind, 'received_on', r.received_on,
			'deadline', r.deadline, 'working_days_late',
			@extschema@.working_days_between(r.deadline, @extschema@._filing_today())));
	END LOOP;
END
$$;

-- Registry's compliance_checks point: the Art. 17 row requests_answered.
CREATE FUNCTION @extschema@._rights_compliance()
RETURNS TABLE (article pg_catalog.text, check_name pg_catalog.text, status pg_catalog.text,
	detail pg_catalog.text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n pg_catalog.int8;
	m pg_catalog.int8;
	v_list pg_catalog.text;
BEGIN
	SELECT pg_catalog.count(*) INTO n FROM @extschema@.request q
	 WHERE q.answered_on IS NULL AND q.closed_on IS NULL;
	SELECT pg_catalog.count(*), pg_catalog.string_agg(pg_catalog.format('#%s %s due %s', o.id, o.kind, o.deadline), ', ')
	  INTO m, v_list FROM @extschema@._requests_overdue() o;
	RETURN QUERY SELECT 'Art. 17', 'requests_answered',
		CASE WHEN m > 0 THEN 'violation' WHEN n > 0 THEN 'warning' ELSE 'ok' END,
		pg_catalog.format('%s complaints, reports and requests of persons awaiting an answer (%s working days each), %s overdue%s',
			n, @extschema@._request_working_days(), m, COALESCE(': ' || v_list, ''));
END
$$;
SELECT @extschema@._hook_register('compliance_checks', '_rights_compliance', 'jobs');

-- What is held about one person (PIPL Art. 44, 45): the subject record,
-- consents with the notice shown (version and text), faces held (metadata,
-- never the embedding), declines, processing history from the audit trail
-- (events about this subject only, without scores or details), erasure
-- evidence (frt.erasure_report) and the person's requests.  Audited.
CREATE FUNCTION @extschema@.subject_report(p_subject pg_catalog.text)
RETURNS pg_catalog.jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s @extschema@.subject;
	v pg_catalog.jsonb;
BEGIN
	IF p_subject IS NULL THEN
		RAISE EXCEPTION 'subject must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	SELECT * INTO s FROM @extschema@.subject x WHERE x.id = p_subject;
	IF NOT FOUND AND NOT EXISTS (SELECT 1 FROM @extschema@.erasure_log l WHERE l.subject = p_subject) THEN
		RAISE EXCEPTION 'subject "%" is not registered', p_subject USING ERRCODE = 'no_data_found';
	END IF;
	v := pg_catalog.jsonb_build_object(
		'subject', p_subject,
		'generated_at', pg_catalog.now(),
		'legal_basis', 'PIPL Art. 44, 45; Measures Art. 5, 6, 17',
		'registered', CASE WHEN s.id IS NOT NULL THEN pg_catalog.jsonb_build_object(
			'birth_date', s.birth_date, 'created_at', s.created_at) END,
		'consents', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'id', c.id, 'purpose', c.purpose, 'processor', pr.name,
				'processor_contact', pr.contact, 'given_by', c.given_by,
				'obtained_how', c.obtained_how, 'separate', c.separate,
				'condition_of_service', c.condition_of_service, 'transfer_consent', c.transfer_consent,
				'given_at', c.given_at, 'renewed_at', c.renewed_at, 'withdrawn_at', c.withdrawn_at,
				'needs_renotice', c.needs_renotice,
				'notice', pg_catalog.jsonb_build_object('version', n.version, 'published_at', n.published_at,
					'body', n.body, 'processing_method', n.processing_method,
					'retention_statement', n.retention_statement,
					'necessity_and_impact', n.necessity_and_impact,
					'rights_procedure', n.rights_procedure, 'accessibility', n.accessibility))
				ORDER BY c.given_at, c.id)
			FROM @extschema@.consent c
			JOIN @extschema@.notice n ON n.purpose = c.purpose AND n.version = c.notice_version
			JOIN @extschema@.purpose p ON p.name = c.purpose
			-- a purpose without a processor belongs to the sole one
			LEFT JOIN @extschema@.processor pr ON pr.name = COALESCE(p.processor,
				(SELECT pg_catalog.min(x.name) FROM @extschema@.processor x HAVING pg_catalog.count(*) = 1))
			WHERE c.subject = p_subject), '[]'),
		'faces', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'id', f.id, 'purpose', f.purpose, 'device', f.device, 'minor', f.minor,
				'enrolled_at', f.enrolled_at, 'expires_at', f.expires_at,
				'stored_as', 'encrypted feature vector (not shown)') ORDER BY f.id)
			FROM @extschema@.face f WHERE f.subject = p_subject), '[]'),
		'declines', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'purpose', d.purpose, 'device', d.device, 'declined_at', d.declined_at) ORDER BY d.id)
			FROM @extschema@.decline d WHERE d.subject = p_subject), '[]'),
		'processing_history', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'seq', a.seq, 'at', a.at, 'event', a.event, 'outcome', a.outcome,
				'purpose', a.purpose, 'device', a.device, 'sqlstate', a.sqlstate) ORDER BY a.seq)
			FROM @extschema@.audit a WHERE a.subject = p_subject), '[]'),
		'erasure', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(e) ORDER BY e.face_id)
			FROM @extschema@.erasure_report(p_subject) e), '[]'),
		'requests', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'id', q.id, 'kind', q.kind, 'channel', q.channel, 'received_on', q.received_on,
				'status', q.status, 'deadline', q.deadline, 'answered_on', q.answered_on,
				'answer', q.answer, 'closed_on', q.closed_on) ORDER BY q.id)
			FROM @extschema@.request q WHERE q.subject = p_subject), '[]'));
	PERFORM @extschema@.audit_event('subject_report', 'ok', NULL, p_subject, p_detail =>
		pg_catalog.jsonb_build_object('article', 'Measures Art. 17', 'caller', @extschema@._caller()));
	RETURN v;
END
$$;

-- The subject report as a Chinese document (Markdown) to hand to the
-- person: the same content as frt.subject_report (audited the same way).
CREATE FUNCTION @extschema@.subject_report_document(p_subject pg_catalog.text)
RETURNS pg_catalog.text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r pg_catalog.jsonb := @extschema@.subject_report(p_subject);
	x pg_catalog.jsonb;
	d pg_catalog.text;
BEGIN
	d := pg_catalog.concat_ws(E'\n',
		'# 个人信息查询答复：人脸信息', '',
		'依据《中华人民共和国个人信息保护法》第四十四条、第四十五条及《人脸识别技术应用安全管理办法》，现将我们处理的您的人脸信息及相关情况答复如下。', '',
		'- 个人编号（假名）：' || (r->>'subject'),
		'- 出生日期：' || @extschema@._doc_text(r->'registered'->'birth_date'),
		'- 答复生成时间：' || @extschema@._doc_text(r->'generated_at'), '',
		'## 一、您的同意及向您告知的事项', '');
	FOR x IN SELECT * FROM pg_catalog.jsonb_array_elements(r->'consents') LOOP
		d := pg_catalog.concat_ws(E'\n', d,
			'### 处理目的：' || (x->>'purpose'), '',
			'- 个人信息处理者：' || @extschema@._doc_text(x->'processor') || '（联系方式：' || @extschema@._doc_text(x->'processor_contact') || '）',
			'- 同意人：' || CASE x->>'given_by' WHEN 'guardian' THEN '父母或者其他监护人' ELSE '本人' END
				|| '；方式：' || CASE x->>'obtained_how' WHEN 'written' THEN '书面' WHEN 'electronic' THEN '电子' ELSE '当面' END
				|| '；单独同意：' || @extschema@._doc_text(x->'separate')
				|| '；同意对外传输：' || @extschema@._doc_text(x->'transfer_consent'),
			'- 同意时间：' || @extschema@._doc_text(x->'given_at') || '；更新时间：' || @extschema@._doc_text(x->'renewed_at')
				|| '；撤回时间：' || @extschema@._doc_text(x->'withdrawn_at'),
			'- 告知版本：' || @extschema@._doc_text(x->'notice'->'version') || '（发布于 ' || @extschema@._doc_text(x->'notice'->'published_at') || '）',
			'- 告知正文：' || @extschema@._doc_text(x->'notice'->'body'),
			'- 处理方式：' || @extschema@._doc_text(x->'notice'->'processing_method'),
			'- 保存期限：' || @extschema@._doc_text(x->'notice'->'retention_statement'),
			'- 必要性及对个人权益的影响：' || @extschema@._doc_text(x->'notice'->'necessity_and_impact'),
			'- 行使权利的方式和程序：' || @extschema@._doc_text(x->'notice'->'rights_procedure'), '');
	END LOOP;
	d := pg_catalog.concat_ws(E'\n', d, '## 二、我们保存的您的人脸信息', '',
		'人脸信息以加密的特征向量保存，本答复不包含特征向量本身。', '');
	FOR x IN SELECT * FROM pg_catalog.jsonb_array_elements(r->'faces') LOOP
		d := d || E'\n' || pg_catalog.format('- 记录 %s：处理目的 %s，采集设备 %s，录入时间 %s，保存至 %s%s',
			x->>'id', x->>'purpose', @extschema@._doc_text(x->'device'), x->>'enrolled_at', x->>'expires_at',
			CASE WHEN (x->>'minor')::pg_catalog.bool THEN '（录入时不满十四周岁）' ELSE '' END);
	END LOOP;
	IF pg_catalog.jsonb_array_length(r->'faces') = 0 THEN
		d := d || E'\n（无）';
	END IF;
	d := pg_catalog.concat_ws(E'\n', d, '', '## 三、处理记录', '');
	FOR x IN SELECT * FROM pg_catalog.jsonb_array_elements(r->'processing_history') LOOP
		d := d || E'\n' || pg_catalog.format('- %s %s/%s%s%s', x->>'at', x->>'event', x->>'outcome',
			COALESCE('，处理目的 ' || (x->>'purpose'), ''), COALESCE('，设备 ' || (x->>'device'), ''));
	END LOOP;
	d := pg_catalog.concat_ws(E'\n', d, '', '## 四、删除情况', '');
	FOR x IN SELECT * FROM pg_catalog.jsonb_array_elements(r->'erasure') LOOP
		d := d || E'\n' || pg_catalog.format('- 记录 %s（%s）：状态 %s，原因 %s，删除时间 %s，覆写确认 %s',
			x->>'face_id', x->>'purpose', x->>'status', @extschema@._doc_text(x->'reason'),
			@extschema@._doc_text(x->'deleted_at'), @extschema@._doc_text(x->'heap_erased_at'));
	END LOOP;
	d := pg_catalog.concat_ws(E'\n', d, '', '## 五、您的投诉、举报和请求', '');
	FOR x IN SELECT * FROM pg_catalog.jsonb_array_elements(r->'requests') LOOP
		d := d || E'\n' || pg_catalog.format('- 第 %s 号（%s）：收到 %s，答复期限 %s，状态 %s，答复 %s',
			x->>'id', x->>'kind', x->>'received_on', x->>'deadline', x->>'status', @extschema@._doc_text(x->'answer'));
	END LOOP;
	IF pg_catalog.jsonb_array_length(r->'requests') = 0 THEN
		d := d || E'\n（无）';
	END IF;
	RETURN d || E'\n';
END
$$;

REVOKE ALL ON @extschema@.request, @extschema@.request_id_seq FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.record_request(pg_catalog.text, pg_catalog.text, pg_catalog.text,
	pg_catalog.text, pg_catalog.text, pg_catalog.date) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.update_request(pg_catalog.int8, pg_catalog.text, pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._requests_overdue() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._requests_alert() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._rights_compliance() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.subject_report(pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.subject_report_document(pg_catalog.text) FROM PUBLIC;
GRANT SELECT ON @extschema@.request TO frt_admin, frt_auditor;
GRANT EXECUTE ON FUNCTION @extschema@.record_request(pg_catalog.text, pg_catalog.text, pg_catalog.text,
	pg_catalog.text, pg_catalog.text, pg_catalog.date) TO frt_admin;
GRANT EXECUTE ON FUNCTION @extschema@.update_request(pg_catalog.int8, pg_catalog.text, pg_catalog.text) TO frt_admin;
GRANT EXECUTE ON FUNCTION @extschema@.subject_report(pg_catalog.text) TO frt_admin, frt_enroller;
GRANT EXECUTE ON FUNCTION @extschema@.subject_report_document(pg_catalog.text) TO frt_admin, frt_enroller;

SELECT @extschema@._revoke_public_execute();
-- ---- end of filing, calendar and the person's rights ----

-- ---- several processors in one database (registry, jobs, intrusion) ----
-- The login<->processor binding and the caller's processor.
CREATE TABLE @extschema@.processor_login (
	login			pg_catalog.name PRIMARY KEY,
	processor		pg_catalog.text NOT NULL REFERENCES @extschema@.processor (name) ON UPDATE CASCADE,
	bound_at		pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	bound_by		pg_catalog.text NOT NULL DEFAULT pg_catalog.session_user()
);
COMMENT ON TABLE @extschema@.processor_login IS 'the processor each login acts for (written by a superuser); an unbound login acts for the sole processor while there is exactly one';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.processor_login', '');

CREATE FUNCTION @extschema@._caller_is_superuser()
RETURNS pg_catalog.bool
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN COALESCE((SELECT r.rolsuper FROM pg_catalog.pg_roles r
					 WHERE r.rolname OPERATOR(pg_catalog.=) @extschema@._caller()), false);
END
$$;

CREATE FUNCTION @extschema@._caller_processor()
RETURNS pg_catalog.text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_proc pg_catalog.text;
BEGIN
	IF @extschema@._caller_is_superuser() THEN
		RETURN NULL;
	END IF;
	SELECT l.processor INTO v_proc FROM @extschema@.processor_login l
	WHERE l.login OPERATOR(pg_catalog.=) @extschema@._caller();
	IF FOUND THEN
		RETURN v_proc;
	END IF;
	RETURN @extschema@._sole_processor();
END
$$;

CREATE FUNCTION @extschema@._sole_processor()
RETURNS pg_catalog.text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN (SELECT pg_catalog.min(p.name) FROM @extschema@.processor p
			HAVING pg_catalog.count(*) OPERATOR(pg_catalog.=) 1);
END
$$;

CREATE FUNCTION @extschema@._acting_processor()
RETURNS pg_catalog.text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF @extschema@._caller_is_superuser() THEN
		RETURN COALESCE(NULLIF(pg_catalog.current_setting('frt.processor', true), ''),
			(SELECT p.name FROM @extschema@.processor p ORDER BY p.registered_at, p.name LIMIT 1));
	END IF;
	RETURN @extschema@._caller_processor();
END
$$;

CREATE FUNCTION @extschema@._processor_visible(p_processor pg_catalog.text)
RETURNS pg_catalog.bool
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN @extschema@._caller_is_superuser()
		OR COALESCE(p_processor OPERATOR(pg_catalog.=) @extschema@._caller_processor(), false);
END
$$;

-- Every processor-owned row names its processor.  The rows of a
-- single-processor installation (and purposes that named none) get the
-- installation's first processor; consents, faces and declines their
-- purpose's.  Columns are added with that processor as a constant default
-- (no row is rewritten), then the default is dropped or replaced.
-- The purposes that named none are given it without an audit record, a
-- new changed_at or a change rule (the update cannot write to the audit
-- trail, which earlier sections of this script hold locked; and this is
-- no change of the purpose).
ALTER TABLE @extschema@.purpose DISABLE TRIGGER purpose_audit;
ALTER TABLE @extschema@.purpose DISABLE TRIGGER purpose_defaults;
ALTER TABLE @extschema@.purpose DISABLE TRIGGER purpose_changed;
DO $tenants$
DECLARE
	v pg_catalog.text := (SELECT p.name FROM @extschema@.processor p ORDER BY p.registered_at, p.name LIMIT 1);
BEGIN
	UPDATE @extschema@.purpose SET processor = v WHERE processor IS NULL;
	EXECUTE pg_catalog.format('ALTER TABLE @extschema@.device ADD COLUMN processor pg_catalog.text NOT NULL DEFAULT %L', v);
	EXECUTE pg_catalog.format('ALTER TABLE @extschema@.subject ADD COLUMN processor pg_catalog.text NOT NULL DEFAULT %L', v);
	EXECUTE pg_catalog.format('ALTER TABLE @extschema@.consent ADD COLUMN processor pg_catalog.text NOT NULL DEFAULT %L', v);
	EXECUTE pg_catalog.format('ALTER TABLE @extschema@.face ADD COLUMN processor pg_catalog.text NOT NULL DEFAULT %L', v);
	EXECUTE pg_catalog.format('ALTER TABLE @extschema@.decline ADD COLUMN processor pg_catalog.text NOT NULL DEFAULT %L', v);
	EXECUTE pg_catalog.format('ALTER TABLE @extschema@.filing_state ADD COLUMN processor pg_catalog.text NOT NULL DEFAULT %L', v);
	EXECUTE pg_catalog.format('ALTER TABLE @extschema@.filing ADD COLUMN processor pg_catalog.text NOT NULL DEFAULT %L', v);
	-- an installation whose purposes named several processors: rows follow their purpose
	UPDATE @extschema@.consent c SET processor = p.processor FROM @extschema@.purpose p
	 WHERE p.name = c.purpose AND c.processor IS DISTINCT FROM p.processor;
	UPDATE @extschema@.face f SET processor = p.processor FROM @extschema@.purpose p
	 WHERE p.name = f.purpose AND f.processor IS DISTINCT FROM p.processor;
	UPDATE @extschema@.decline d SET processor = p.processor FROM @extschema@.purpose p
	 WHERE p.name = d.purpose AND d.processor IS DISTINCT FROM p.processor;
	UPDATE @extschema@.filing f SET processor = p.processor FROM @extschema@.purpose p
	 WHERE p.name = f.purpose AND f.processor IS DISTINCT FROM p.processor;
END
$tenants$;
ALTER TABLE @extschema@.purpose ENABLE ALWAYS TRIGGER purpose_audit;
ALTER TABLE @extschema@.purpose ENABLE TRIGGER purpose_defaults;
ALTER TABLE @extschema@.purpose ENABLE TRIGGER purpose_changed;
ALTER TABLE @extschema@.consent ALTER COLUMN processor DROP DEFAULT;
ALTER TABLE @extschema@.face ALTER COLUMN processor DROP DEFAULT;
ALTER TABLE @extschema@.decline ALTER COLUMN processor DROP DEFAULT;
ALTER TABLE @extschema@.device ALTER COLUMN processor SET DEFAULT @extschema@._acting_processor();
ALTER TABLE @extschema@.subject ALTER COLUMN processor SET DEFAULT @extschema@._acting_processor();
ALTER TABLE @extschema@.filing_state ALTER COLUMN processor SET DEFAULT @extschema@._acting_processor();
ALTER TABLE @extschema@.filing ALTER COLUMN processor SET DEFAULT @extschema@._acting_processor();

-- purpose: the processor is mandatory
ALTER TABLE @extschema@.purpose DROP CONSTRAINT purpose_processor_fkey;
ALTER TABLE @extschema@.purpose ALTER COLUMN processor SET NOT NULL,
	ALTER COLUMN processor SET DEFAULT @extschema@._acting_processor(),
	ADD CONSTRAINT purpose_processor_fkey FOREIGN KEY (processor) REFERENCES @extschema@.processor (name) ON UPDATE CASCADE,
	ADD CONSTRAINT purpose_processor_name_key UNIQUE (processor, name);

-- keys: (processor, name) for devices, (processor, id) for subjects
ALTER TABLE @extschema@.face DROP CONSTRAINT face_subject_fkey, DROP CONSTRAINT face_device_fkey;
ALTER TABLE @extschema@.consent DROP CONSTRAINT consent_subject_fkey;
ALTER TABLE @extschema@.decline DROP CONSTRAINT decline_device_fkey;
ALTER TABLE @extschema@.device DROP CONSTRAINT device_pkey,
	ADD CONSTRAINT device_processor_fkey FOREIGN KEY (processor) REFERENCES @extschema@.processor (name) ON UPDATE CASCADE,
	ADD CONSTRAINT device_pkey PRIMARY KEY (processor, name);
ALTER TABLE @extschema@.subject DROP CONSTRAINT subject_pkey,
	ADD CONSTRAINT subject_processor_fkey FOREIGN KEY (processor) REFERENCES @extschema@.processor (name) ON UPDATE CASCADE,
	ADD CONSTRAINT subject_pkey PRIMARY KEY (processor, id);
ALTER TABLE @extschema@.consent
	ADD CONSTRAINT consent_processor_subject_fkey FOREIGN KEY (processor, subject)
		REFERENCES @extschema@.subject (processor, id) ON UPDATE CASCADE,
	ADD CONSTRAINT consent_processor_purpose_fkey FOREIGN KEY (processor, purpose)
		REFERENCES @extschema@.purpose (processor, name) ON UPDATE CASCADE;
ALTER TABLE @extschema@.face
	ADD CONSTRAINT face_processor_subject_fkey FOREIGN KEY (processor, subject)
		REFERENCES @extschema@.subject (processor, id) ON UPDATE CASCADE,
	ADD CONSTRAINT face_processor_purpose_fkey FOREIGN KEY (processor, purpose)
		REFERENCES @extschema@.purpose (processor, name) ON UPDATE CASCADE,
	ADD CONSTRAINT face_processor_device_fkey FOREIGN KEY (processor, device)
		REFERENCES @extschema@.device (processor, name) ON UPDATE CASCADE;
ALTER TABLE @extschema@.decline
	ADD CONSTRAINT decline_processor_purpose_fkey FOREIGN KEY (processor, purpose)
		REFERENCES @extschema@.purpose (processor, name) ON UPDATE CASCADE,
	ADD CONSTRAINT decline_processor_device_fkey FOREIGN KEY (processor, device)
		REFERENCES @extschema@.device (processor, name) ON UPDATE CASCADE;

-- filing_state: one row per processor
ALTER TABLE @extschema@.filing_state DROP COLUMN id,
	ADD CONSTRAINT filing_state_pkey PRIMARY KEY (processor),
	ADD CONSTRAINT filing_state_processor_fkey FOREIGN KEY (processor)
		REFERENCES @extschema@.processor (name) ON UPDATE CASCADE;
COMMENT ON TABLE @extschema@.filing_state IS 'per processor: distinct subjects stored and the day 100,000 was first reached (Measures Art. 15)';
ALTER TABLE @extschema@.filing ADD CONSTRAINT filing_processor_fkey FOREIGN KEY (processor)
	REFERENCES @extschema@.processor (name) ON UPDATE CASCADE;
DROP INDEX @extschema@.filing_open_one;
CREATE UNIQUE INDEX filing_open_one ON @extschema@.filing
	(processor, kind, (COALESCE(purpose, ''))) WHERE filed_on IS NULL;

-- Layer 5: several processors in one database.
--
-- Every processor-owned row names its processor: purpose, device, subject
-- and filing_state directly; consent, face and decline take their
-- purpose's (frt._tenant_fill); notice, assessment and purpose_termination
-- through their purpose; audit records through their purpose, else through
-- detail->>'processor' (both hashed).  Row-level security below limits
-- every role below superuser to the rows of the processor it acts for
-- (frt._caller_processor()); the SECURITY DEFINER functions bypass it and
-- check the processor themselves (frt._purpose_callers() and the lookups
-- scoped by processor).  See docs/operations.md, "Several processors in one
-- database".

-- How many processors are registered.
CREATE FUNCTION @extschema@._processor_count()
RETURNS pg_catalog.int8
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN (SELECT pg_catalog.count(*) FROM @extschema@.processor);
END
$$;

-- The processor of a purpose, or NULL when no purpose has that name.
CREATE FUNCTION @extschema@._purpose_processor(p_purpose pg_catalog.text)
RETURNS pg_catalog.text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN (SELECT p.processor FROM @extschema@.purpose p WHERE p.name OPERATOR(pg_catalog.=) p_purpose);
END
$$;

-- Whether the caller may see a row belonging to purpose p_purpose.
CREATE FUNCTION @extschema@._purpose_visible(p_purpose pg_catalog.text)
RETURNS pg_catalog.bool
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN @extschema@._processor_visible(@extschema@._purpose_processor(p_purpose));
END
$$;

-- Whether the caller may use purpose p_purpose in a public function: a
-- superuser any; anyone else its own processor's only.  A purpose of
-- another processor and one never registered give the same answer (false)
-- once there are several processors; with a sole processor an unregistered
-- name is left to the usual "not registered" refusal.
CREATE FUNCTION @extschema@._purpose_callers(p_purpose pg_catalog.text)
RETURNS pg_catalog.bool
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_owner pg_catalog.text := @extschema@._purpose_processor(p_purpose);
BEGIN
	IF @extschema@._caller_is_superuser() THEN
		RETURN true;
	END IF;
	IF v_owner IS NULL THEN
		RETURN @extschema@._processor_count() <= 1 AND @extschema@._caller_processor() IS NOT NULL;
	END IF;
	RETURN COALESCE(v_owner OPERATOR(pg_catalog.=) @extschema@._caller_processor(), false);
END
$$;

-- Refuse (MF160) the use of a purpose that is not the caller's: the same
-- answer whether another processor has it or nobody does, recorded without
-- the purpose (the record belongs to the caller's processor, not to the
-- purpose's).
CREATE FUNCTION @extschema@._check_tenant(p_function pg_catalog.text, p_purpose pg_catalog.text,
	p_subject pg_catalog.text, p_device pg_catalog.text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT @extschema@._purpose_callers(p_purpose) THEN
		PERFORM @extschema@._refuse('MF160', 4, pg_catalog.format(
			'purpose %L is not registered for the processor the caller acts for', p_purpose),
			p_function, NULL, p_subject, p_device);
	END IF;
END
$$;

-- The processor a login acts for (its binding, else the sole processor).
CREATE FUNCTION @extschema@._login_processor(p_login pg_catalog.text)
RETURNS pg_catalog.text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN COALESCE((SELECT l.processor FROM @extschema@.processor_login l
					 WHERE l.login OPERATOR(pg_catalog.=) p_login::pg_catalog.name),
		@extschema@._sole_processor());
END
$$;

-- Whether the caller may see or set a row keyed by a role name (intrusion
-- limits and counters): its own processor's logins; '*' (every other
-- role) only while there is a sole processor.
CREATE FUNCTION @extschema@._role_visible(p_role pg_catalog.text)
RETURNS pg_catalog.bool
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF @extschema@._caller_is_superuser() THEN
		RETURN true;
	END IF;
	IF p_role OPERATOR(pg_catalog.=) '*' THEN
		RETURN @extschema@._processor_count() <= 1;
	END IF;
	RETURN COALESCE(@extschema@._login_processor(p_role) OPERATOR(pg_catalog.=) @extschema@._caller_processor(),
		false);
END
$$;

-- Whether the caller may read an audit record: its processor is the one
-- named in detail->>'processor', else its purpose's, else the one its
-- caller (the origin role on a standby, else p_role) is bound to; a record
-- with none of them (installation events) only while there is a sole
-- processor.
CREATE FUNCTION @extschema@._audit_visible(p_purpose pg_catalog.text, p_detail pg_catalog.jsonb,
	p_role pg_catalog.text)
RETURNS pg_catalog.bool
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_proc pg_catalog.text := COALESCE(p_detail OPERATOR(pg_catalog.->>) 'processor',
		@extschema@._purpose_processor(p_purpose),
		(SELECT l.processor FROM @extschema@.processor_login l
		 WHERE l.login OPERATOR(pg_catalog.=)
			COALESCE(p_detail OPERATOR(pg_catalog.#>>) '{origin,role}', p_role)::pg_catalog.name));
BEGIN
	IF @extschema@._caller_is_superuser() THEN
		RETURN true;
	END IF;
	IF v_proc IS NULL THEN
		RETURN @extschema@._processor_count() <= 1;
	END IF;
	RETURN COALESCE(v_proc OPERATOR(pg_catalog.=) @extschema@._caller_processor(), false);
END
$$;

-- The detail of an audit record with its processor added: the caller's,
-- else the purpose's (for records that name no purpose of the processor).
CREATE FUNCTION @extschema@._tenant_detail(p_detail pg_catalog.jsonb, p_processor pg_catalog.text)
RETURNS pg_catalog.jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN p_processor IS NULL THEN p_detail
		ELSE COALESCE(p_detail, '{}'::pg_catalog.jsonb)
			OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('processor', p_processor) END;
$$;

-- BEFORE INSERT on consent, face and decline: a row that names no
-- processor gets its purpose's (a foreign key to (processor, name) of the
-- purpose refuses any other).  ALWAYS: a bulk load in replica mode too.
CREATE FUNCTION @extschema@._tenant_fill()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	NEW.processor := COALESCE(NEW.processor, @extschema@._purpose_processor(NEW.purpose));
	RETURN NEW;
END
$$;
CREATE TRIGGER consent_tenant BEFORE INSERT ON @extschema@.consent
	FOR EACH ROW EXECUTE FUNCTION @extschema@._tenant_fill();
CREATE TRIGGER face_tenant BEFORE INSERT ON @extschema@.face
	FOR EACH ROW EXECUTE FUNCTION @extschema@._tenant_fill();
CREATE TRIGGER decline_tenant BEFORE INSERT ON @extschema@.decline
	FOR EACH ROW EXECUTE FUNCTION @extschema@._tenant_fill();
ALTER TABLE @extschema@.consent ENABLE ALWAYS TRIGGER consent_tenant;
ALTER TABLE @extschema@.face ENABLE ALWAYS TRIGGER face_tenant;
ALTER TABLE @extschema@.decline ENABLE ALWAYS TRIGGER decline_tenant;

-- Bind a login to the processor it acts for (superuser only; NULL
-- processor removes the binding).
CREATE FUNCTION @extschema@.processor_login(p_login pg_catalog.name, p_processor pg_catalog.text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT @extschema@._caller_is_superuser() THEN
		RAISE EXCEPTION 'only a superuser binds logins to processors' USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF p_login IS NULL THEN
		RAISE EXCEPTION 'login must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF p_processor IS NULL THEN
		DELETE FROM @extschema@.processor_login WHERE login = p_login;
	ELSE
		INSERT INTO @extschema@.processor_login (login, processor) VALUES (p_login, p_processor)
		ON CONFLICT (login) DO UPDATE SET processor = EXCLUDED.processor, bound_at = pg_catalog.now(),
			bound_by = pg_catalog.session_user();
	END IF;
	PERFORM @extschema@.audit_event('registry', 'processor_login', NULL, NULL, NULL, NULL, NULL,
		pg_catalog.jsonb_build_object('login', p_login, 'processor', p_processor));
END
$$;

-- ---- Row-level security, for every role below superuser ----
-- (superusers and BYPASSRLS roles are not subject to it; the caller's
-- processor is a sub-select, evaluated once per statement, not per row)

ALTER TABLE @extschema@.processor ENABLE ROW LEVEL SECURITY;
-- a non-superuser registers only the first processor (a single-processor
-- installation); further processors are the platform's (a superuser's)
CREATE POLICY processor_tenant ON @extschema@.processor
	USING (name OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor()))
	WITH CHECK (name OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor())
		OR @extschema@._processor_count() = 0);

ALTER TABLE @extschema@.processor_login ENABLE ROW LEVEL SECURITY;
CREATE POLICY processor_login_tenant ON @extschema@.processor_login FOR SELECT
	USING (processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor()));

ALTER TABLE @extschema@.purpose ENABLE ROW LEVEL SECURITY;
CREATE POLICY purpose_tenant ON @extschema@.purpose
	USING (processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor()))
	WITH CHECK (processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor()));

ALTER TABLE @extschema@.device ENABLE ROW LEVEL SECURITY;
CREATE POLICY device_tenant ON @extschema@.device
	USING (processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor()))
	WITH CHECK (processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor()));

ALTER TABLE @extschema@.subject ENABLE ROW LEVEL SECURITY;
CREATE POLICY subject_tenant ON @extschema@.subject
	USING (processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor()))
	WITH CHECK (processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor()));

ALTER TABLE @extschema@.consent ENABLE ROW LEVEL SECURITY;
CREATE POLICY consent_tenant ON @extschema@.consent
	USING (processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor()))
	WITH CHECK (processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor()));

ALTER TABLE @extschema@.decline ENABLE ROW LEVEL SECURITY;
CREATE POLICY decline_tenant ON @extschema@.decline
	USING (processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor()))
	WITH CHECK (processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor()));

ALTER TABLE @extschema@.filing_state ENABLE ROW LEVEL SECURITY;
CREATE POLICY filing_state_tenant ON @extschema@.filing_state
	USING (processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor()))
	WITH CHECK (processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor()));

-- restrictive: face_active (30_face.sql) still hides withdrawn and expired faces
CREATE POLICY face_tenant ON @extschema@.face AS RESTRICTIVE
	USING (processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor()));

ALTER TABLE @extschema@.notice ENABLE ROW LEVEL SECURITY;
CREATE POLICY notice_tenant ON @extschema@.notice
	USING (purpose IN (SELECT p.name FROM @extschema@.purpose p
		WHERE p.processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor())))
	WITH CHECK (purpose IN (SELECT p.name FROM @extschema@.purpose p
		WHERE p.processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor())));

ALTER TABLE @extschema@.assessment ENABLE ROW LEVEL SECURITY;
CREATE POLICY assessment_tenant ON @extschema@.assessment
	USING (purpose IN (SELECT p.name FROM @extschema@.purpose p
		WHERE p.processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor())))
	WITH CHECK (purpose IN (SELECT p.name FROM @extschema@.purpose p
		WHERE p.processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor())));

ALTER TABLE @extschema@.purpose_termination ENABLE ROW LEVEL SECURITY;
CREATE POLICY purpose_termination_tenant ON @extschema@.purpose_termination
	USING (purpose IN (SELECT p.name FROM @extschema@.purpose p
		WHERE p.processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor())))
	WITH CHECK (purpose IN (SELECT p.name FROM @extschema@.purpose p
		WHERE p.processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor())));

-- the holiday calendar is the country's, shared by every processor: all
-- read it; below superuser only a single-processor installation writes it
ALTER TABLE @extschema@.holiday ENABLE ROW LEVEL SECURITY;
CREATE POLICY holiday_read ON @extschema@.holiday FOR SELECT USING (true);
CREATE POLICY holiday_write ON @extschema@.holiday FOR INSERT
	WITH CHECK (@extschema@._processor_count() <= 1);
CREATE POLICY holiday_update ON @extschema@.holiday FOR UPDATE
	USING (@extschema@._processor_count() <= 1) WITH CHECK (@extschema@._processor_count() <= 1);
CREATE POLICY holiday_delete ON @extschema@.holiday FOR DELETE
	USING (@extschema@._processor_count() <= 1);

-- the audit trail (layer 6) is written by its worker only; readers see
-- their processor's records
ALTER TABLE @extschema@.audit ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_tenant ON @extschema@.audit FOR SELECT
	USING (@extschema@._audit_visible(purpose, detail, role_name));

-- the alerts (a view, run as its owner) filter the same way
CREATE OR REPLACE VIEW @extschema@.alert AS
	SELECT a.seq, a.at, a.outcome AS kind,
		   COALESCE(a.detail #>> '{origin,role}', a.role_name) AS role_name,
		   a.detail #>> '{origin,standby}' AS standby,
		   a.purpose, a.subject, a.device, a.detail - 'origin' AS detail
	  FROM @extschema@.audit a
	 WHERE a.event = 'alert' AND @extschema@._audit_visible(a.purpose, a.detail, a.role_name);

-- The processor an audit record names in detail->>'processor', once there
-- are several (a single-processor installation's records are unchanged):
-- the one the caller acts for, else the purpose's.
CREATE FUNCTION @extschema@._record_processor(p_purpose pg_catalog.text)
RETURNS pg_catalog.text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF @extschema@._processor_count() <= 1 THEN
		RETURN NULL;
	END IF;
	RETURN COALESCE(@extschema@._acting_processor(), @extschema@._purpose_processor(p_purpose));
END
$$;

-- The chain is one for the whole database: its checks read every record,
-- whoever asks (they return chain positions and reasons, no record
-- contents), so they run as the extension owner.
ALTER FUNCTION @extschema@.verify_audit_chain() SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.verify_audit_chain(pg_catalog.int8, pg_catalog.text, pg_catalog.text,
	pg_catalog.text) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@._audit_anchor_check(pg_catalog.int8, pg_catalog.text, pg_catalog.text,
	pg_catalog.text) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.audit_head() SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

-- Reject (42501) a call below superuser to a function that acts on every
-- processor's data (the purge, the scrub, key rotation and destruction)
-- once there are several processors: those are the platform's.  With a
-- sole processor its administrator runs them as before.
CREATE FUNCTION @extschema@._require_platform(p_function pg_catalog.text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT @extschema@._caller_is_superuser() AND @extschema@._processor_count() > 1 THEN
		PERFORM @extschema@._reject('42501', pg_catalog.format(
			'frt.%s acts on the data of every processor in the database; with several processors only a superuser runs it',
			p_function), p_function, NULL, NULL, NULL);
	END IF;
END
$$;

-- The functions that check or scope by processor.

DROP FUNCTION @extschema@._filing_count(pg_catalog.int8);
DROP FUNCTION @extschema@._filing_recount();




































-- Layer 8 (jobs): several processors in one database.  Roles below
-- superuser see the erasure evidence and filing obligations of their own
-- processor only (see src/registry/85_tenancy.sql).
ALTER TABLE @extschema@.erasure_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY erasure_log_tenant ON @extschema@.erasure_log FOR SELECT
	USING (purpose IN (SELECT p.name FROM @extschema@.purpose p
		WHERE p.processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor())));

ALTER TABLE @extschema@.filing ENABLE ROW LEVEL SECURITY;
CREATE POLICY filing_tenant ON @extschema@.filing FOR SELECT
	USING (processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor()));

-- Layer 9 (intrusion detection): several processors in one database.  An
-- administrator sets and reads the limits of its own processor's logins;
-- the limits for '*' (every other role) belong to the installation once
-- there are several processors (see src/registry/85_tenancy.sql).
ALTER TABLE @extschema@.intrusion_policy ENABLE ROW LEVEL SECURITY;
CREATE POLICY intrusion_policy_tenant ON @extschema@.intrusion_policy
	USING (@extschema@._role_visible(role_name))
	WITH CHECK (@extschema@._role_visible(role_name));

ALTER TABLE @extschema@.intrusion_counter ENABLE ROW LEVEL SECURITY;
CREATE POLICY intrusion_counter_tenant ON @extschema@.intrusion_counter FOR SELECT
	USING (@extschema@._role_visible(role_name));

SELECT @extschema@._revoke_public_execute();
-- Several processors in one database: the predicates of the row-level
-- security policies and the column defaults run as the caller.
GRANT EXECUTE ON FUNCTION @extschema@._caller_processor(), @extschema@._caller_is_superuser(),
	@extschema@._sole_processor(), @extschema@._acting_processor(),
	@extschema@._processor_visible(pg_catalog.text), @extschema@._purpose_visible(pg_catalog.text),
	@extschema@._audit_visible(pg_catalog.text, pg_catalog.jsonb, pg_catalog.text), @extschema@._role_visible(pg_catalog.text),
	@extschema@._processor_count(), @extschema@._purpose_processor(pg_catalog.text)
	TO frt_admin, frt_enroller, frt_matcher, frt_auditor;
GRANT SELECT ON @extschema@.processor_login TO frt_admin, frt_auditor;
GRANT SELECT (processor) ON @extschema@.face TO frt_admin, frt_enroller;

-- ---- end of several processors in one database ----

-- ---- authorization per application (registry) ----
-- Approval state of purposes and devices: existing rows stay approved (by
-- the role running the update, now).
ALTER TABLE @extschema@.purpose
	ADD COLUMN changed_by pg_catalog.name,
	ADD COLUMN approved_by pg_catalog.name DEFAULT CURRENT_USER,
	ADD COLUMN approved_at pg_catalog.timestamptz DEFAULT pg_catalog.now(),
	ADD CONSTRAINT purpose_approval_pair CHECK ((approved_by IS NULL) = (approved_at IS NULL));
ALTER TABLE @extschema@.purpose ALTER COLUMN approved_by DROP DEFAULT, ALTER COLUMN approved_at DROP DEFAULT;
ALTER TABLE @extschema@.device
	ADD COLUMN changed_by pg_catalog.name,
	ADD COLUMN approved_by pg_catalog.name DEFAULT CURRENT_USER,
	ADD COLUMN approved_at pg_catalog.timestamptz DEFAULT pg_catalog.now(),
	ADD CONSTRAINT device_approval_pair CHECK ((approved_by IS NULL) = (approved_at IS NULL));
ALTER TABLE @extschema@.device ALTER COLUMN approved_by DROP DEFAULT, ALTER COLUMN approved_at DROP DEFAULT;
COMMENT ON COLUMN @extschema@.purpose.approved_at IS 'when a member of frt_admin (not the one who changed it) approved the purpose''s facts; NULL: processing is refused (MF146) until frt.approve_purpose()';
COMMENT ON COLUMN @extschema@.device.approved_at IS 'when a member of frt_admin (not the one who changed it) approved the device''s location, signage and capture area; NULL: processing is refused (MF146) until frt.approve_device()';

-- Audit one registry, subject or consent change (keys only, no payload).

-- The operations a grant may name.
CREATE FUNCTION @extschema@._app_operations()
RETURNS pg_catalog.text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT ARRAY['enrol', 'verify', 'identify', 'export']::pg_catalog.text[];
$$;

-- What a role (a login, or a group role its members act through) may do
-- for a purpose.  Named roles, not OIDs, so that a dump restores them;
-- revoke a role's grants before dropping it (a grant naming no existing
-- role matches nobody until a role of that name is created).
CREATE TABLE @extschema@.app_grant (
	grantee			pg_catalog.name NOT NULL,
	purpose			pg_catalog.text NOT NULL REFERENCES @extschema@.purpose (name) ON DELETE CASCADE,
	operations		pg_catalog.text[] NOT NULL
		CHECK (pg_catalog.cardinality(operations) > 0
			   AND operations <@ ARRAY['enrol', 'verify', 'identify', 'export']::pg_catalog.text[]),
	granted_by		pg_catalog.name NOT NULL,
	granted_at		pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (grantee, purpose)
);
COMMENT ON TABLE @extschema@.app_grant IS 'operations (enrol, verify, identify, export) a role may perform for a purpose (Measures Art. 14 authorization management)';

-- The roles that may act for a device (device names are per processor).
CREATE TABLE @extschema@.device_login (
	processor		pg_catalog.text NOT NULL,
	device			pg_catalog.text NOT NULL,
	grantee			pg_catalog.name NOT NULL,
	bound_by		pg_catalog.name NOT NULL,
	bound_at		pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (processor, device, grantee),
	FOREIGN KEY (processor, device) REFERENCES @extschema@.device (processor, name)
		ON DELETE CASCADE ON UPDATE CASCADE
);
COMMENT ON TABLE @extschema@.device_login IS 'roles bound to a device: only they may enrol or match with it (Measures Art. 14)';

SELECT pg_catalog.pg_extension_config_dump('@extschema@.app_grant', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.device_login', '');


-- Whether a role is a superuser.
CREATE FUNCTION @extschema@._is_superuser(p_role pg_catalog.name)
RETURNS pg_catalog.bool
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
				   WHERE r.rolname OPERATOR(pg_catalog.=) p_role AND r.rolsuper);
$$;

-- Refuse unless the caller (frt._caller()) may perform p_operation for
-- p_purpose and is bound to p_device (NULL: no device involved).  A
-- superuser passes.  Called before anything tells whether the purpose or
-- the device exists: an unknown purpose and one not granted are refused
-- alike (MF144), an unknown device and one not bound alike (MF145).
CREATE FUNCTION @extschema@._check_authorized(p_function pg_catalog.text, p_operation pg_catalog.text,
	p_purpose pg_catalog.text, p_device pg_catalog.text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_role pg_catalog.name := @extschema@._caller();
BEGIN
	IF @extschema@._is_superuser(v_role) THEN
		RETURN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM @extschema@.app_grant g
				   JOIN pg_catalog.pg_roles r ON r.rolname = g.grantee
				   WHERE g.purpose = p_purpose AND p_operation = ANY (g.operations)
					 AND pg_catalog.pg_has_role(v_role, r.oid, 'MEMBER')) THEN
		PERFORM @extschema@._refuse('MF144', 14, pg_catalog.format(
			'role %s is not authorized to %s for purpose %L', v_role, p_operation, p_purpose),
			p_function, p_purpose, NULL, p_device,
			p_hint => 'A member of frt_admin grants an application its purposes with frt.grant_application().');
	END IF;
	IF p_device IS NOT NULL
	   AND NOT EXISTS (SELECT 1 FROM @extschema@.device_login b
					   JOIN pg_catalog.pg_roles r ON r.rolname = b.grantee
					   WHERE b.device = p_device AND pg_catalog.pg_has_role(v_role, r.oid, 'MEMBER')) THEN
		PERFORM @extschema@._refuse('MF145', 14, pg_catalog.format(
			'role %s is not bound to device %L', v_role, p_device),
			p_function, p_purpose, NULL, p_device,
			p_hint => 'A member of frt_admin binds an application to its devices with frt.bind_device().');
	END IF;
END
$$;

-- Grant a role operations for a purpose (added to what it holds).
CREATE FUNCTION @extschema@.grant_application(p_grantee pg_catalog.name, p_purpose pg_catalog.text,
	p_operations pg_catalog.text[])
RETURNS pg_catalog.text[]
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_ops pg_catalog.text[];
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = p_grantee) THEN
		PERFORM @extschema@._reject('42704', pg_catalog.format('role %s does not exist', p_grantee),
			'grant_application', p_purpose, NULL, NULL);
	END IF;
	IF NOT EXISTS (SELECT 1 FROM @extschema@.purpose WHERE name = p_purpose) THEN
		PERFORM @extschema@._reject('P0002', pg_catalog.format('purpose %s is not registered', p_purpose),
			'grant_application', p_purpose, NULL, NULL);
	END IF;
	IF p_operations IS NULL OR pg_catalog.cardinality(p_operations) = 0
	   OR NOT p_operations <@ @extschema@._app_operations()
	   OR pg_catalog.array_position(p_operations, NULL) IS NOT NULL THEN
		PERFORM @extschema@._reject('22023', pg_catalog.format('operations must be some of %s',
			pg_catalog.array_to_string(@extschema@._app_operations(), ', ')),
			'grant_application', p_purpose, NULL, NULL);
	END IF;
	INSERT INTO @extschema@.app_grant AS g (grantee, purpose, operations, granted_by)
	VALUES (p_grantee, p_purpose, ARRAY(SELECT DISTINCT o FROM pg_catalog.unnest(p_operations) o ORDER BY o),
		@extschema@._caller())
	ON CONFLICT (grantee, purpose) DO UPDATE
	SET operations = ARRAY(SELECT DISTINCT o FROM pg_catalog.unnest(g.operations || EXCLUDED.operations) o ORDER BY o),
		granted_by = EXCLUDED.granted_by, granted_at = pg_catalog.now()
	RETURNING operations INTO v_ops;
	RETURN v_ops;
END
$$;

-- Take operations (NULL: all) of a purpose away from a role; returns what
-- it still holds (empty: the grant is gone).
CREATE FUNCTION @extschema@.revoke_application(p_grantee pg_catalog.name, p_purpose pg_catalog.text,
	p_operations pg_catalog.text[] DEFAULT NULL)
RETURNS pg_catalog.text[]
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_ops pg_catalog.text[];
BEGIN
	SELECT operations INTO v_ops FROM @extschema@.app_grant
	WHERE grantee = p_grantee AND purpose = p_purpose FOR UPDATE;
	IF NOT FOUND THEN
		RETURN '{}';
	END IF;
	v_ops := ARRAY(SELECT o FROM pg_catalog.unnest(v_ops) o
				   WHERE p_operations IS NOT NULL AND o <> ALL (p_operations) ORDER BY o);
	IF pg_catalog.cardinality(v_ops) = 0 THEN
		DELETE FROM @extschema@.app_grant WHERE grantee = p_grantee AND purpose = p_purpose;
	ELSE
		UPDATE @extschema@.app_grant SET operations = v_ops, granted_by = @extschema@._caller(),
			granted_at = pg_catalog.now()
		WHERE grantee = p_grantee AND purpose = p_purpose;
	END IF;
	RETURN v_ops;
END
$$;

-- Bind a role to a device: it may then enrol and match with the device.
CREATE FUNCTION @extschema@.bind_device(p_device pg_catalog.text, p_grantee pg_catalog.name)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = p_grantee) THEN
		PERFORM @extschema@._reject('42704', pg_catalog.format('role %s does not exist', p_grantee),
			'bind_device', NULL, NULL, p_device);
	END IF;
	IF NOT EXISTS (SELECT 1 FROM @extschema@.device WHERE name = p_device) THEN
		PERFORM @extschema@._reject('P0002', pg_catalog.format('device %s is not registered', p_device),
			'bind_device', NULL, NULL, p_device);
	END IF;
	INSERT INTO @extschema@.device_login (device, grantee, bound_by)
	VALUES (p_device, p_grantee, @extschema@._caller())
	ON CONFLICT (device, grantee) DO NOTHING;
END
$$;

-- Unbind a role from a device; returns whether it was bound.
CREATE FUNCTION @extschema@.unbind_device(p_device pg_catalog.text, p_grantee pg_catalog.name)
RETURNS pg_catalog.bool
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM @extschema@.device_login WHERE device = p_device AND grantee = p_grantee;
	RETURN FOUND;
END
$$;

-- The facts of a device or purpose whose change puts it back through
-- approval (a layer adding a fact column adds its name here).
CREATE FUNCTION @extschema@._approval_facts(p_table pg_catalog.text)
RETURNS pg_catalog.text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE p_table
		WHEN 'device' THEN ARRAY['location_type', 'signage', 'capture_area']
		WHEN 'purpose' THEN ARRAY['kind', 'description', 'method', 'retention', 'minor_retention',
			'processor', 'dimension', 'serves_public_security', 'alternative_method',
			'similarity_threshold', 'max_k', 'score_disclosure']
	END::pg_catalog.text[];
$$;

-- Approval state of devices and purposes, kept for direct DML too: a
-- registration or a change of a fact (_approval_facts) by a superuser is
-- approved at once, by anyone else it waits for a second member of
-- frt_admin.  Only frt.approve_device()/approve_purpose() (or
-- a superuser) set it: frt_admin has no UPDATE on the approval columns
-- (frt._grant_registry_update()), and what an INSERT supplies is replaced.
CREATE FUNCTION @extschema@._approval_rules()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_caller pg_catalog.name := @extschema@._caller();
	v_old pg_catalog.jsonb;
	v_new pg_catalog.jsonb;
	f pg_catalog.text;
BEGIN
	IF TG_OP = 'INSERT' THEN
		-- reloading a dump: the rows keep their recorded approval
		IF @extschema@.audit_restoring() THEN
			RETURN NEW;
		END IF;
		NEW.changed_by := v_caller;
		NEW.approved_by := CASE WHEN @extschema@._is_superuser(v_caller) THEN v_caller END;
		NEW.approved_at := CASE WHEN NEW.approved_by IS NOT NULL THEN pg_catalog.now() END;
		RETURN NEW;
	END IF;
	v_old := pg_catalog.to_jsonb(OLD);
	v_new := pg_catalog.to_jsonb(NEW);
	FOREACH f IN ARRAY @extschema@._approval_facts(TG_TABLE_NAME) LOOP
		IF v_new->f IS DISTINCT FROM v_old->f THEN
			-- a superuser's change is approved by the superuser (who may
			-- approve anything); anyone else's waits for a second admin
			NEW.changed_by := v_caller;
			NEW.approved_by := CASE WHEN @extschema@._is_superuser(v_caller) THEN v_caller END;
			NEW.approved_at := CASE WHEN NEW.approved_by IS NOT NULL THEN pg_catalog.now() END;
			EXIT;
		END IF;
	END LOOP;
	RETURN NEW;
END
$$;
CREATE TRIGGER purpose_needs_approval BEFORE INSERT OR UPDATE ON @extschema@.purpose
	FOR EACH ROW EXECUTE FUNCTION @extschema@._approval_rules();
CREATE TRIGGER device_needs_approval BEFORE INSERT OR UPDATE ON @extschema@.device
	FOR EACH ROW EXECUTE FUNCTION @extschema@._approval_rules();
ALTER TABLE @extschema@.purpose ENABLE ALWAYS TRIGGER purpose_needs_approval;
ALTER TABLE @extschema@.device ENABLE ALWAYS TRIGGER device_needs_approval;

-- Approve a device or purpose awaiting approval: a member of frt_admin who
-- is not (and does not act for) the role that registered or changed it,
-- or a superuser.  Recorded (who, when) and audited.
CREATE FUNCTION @extschema@._approve(p_table pg_catalog.text, p_name pg_catalog.text)
RETURNS pg_catalog.bool
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_caller pg_catalog.name := @extschema@._caller();
	v_fn pg_catalog.text := 'approve_' || p_table;
	v_purpose pg_catalog.text := CASE WHEN p_table = 'purpose' THEN p_name END;
	v_device pg_catalog.text := CASE WHEN p_table = 'device' THEN p_name END;
	v_changed_by pg_catalog.name;
	v_approved pg_catalog.timestamptz;
BEGIN
	IF p_table = 'device' THEN
		SELECT d.changed_by, d.approved_at INTO v_changed_by, v_approved
		FROM @extschema@.device d WHERE d.name = p_name FOR UPDATE;
	ELSE
		SELECT p.changed_by, p.approved_at INTO v_changed_by, v_approved
		FROM @extschema@.purpose p WHERE p.name = p_name FOR UPDATE;
	END IF;
	IF NOT FOUND THEN
		PERFORM @extschema@._reject('P0002', pg_catalog.format('%s %s is not registered', p_table, p_name),
			v_fn, v_purpose, NULL, v_device);
	END IF;
	IF v_approved IS NOT NULL THEN
		RETURN false;
	END IF;
	IF NOT @extschema@._is_superuser(v_caller) THEN
		IF NOT pg_catalog.pg_has_role(v_caller, 'frt_admin', 'MEMBER') THEN
			PERFORM @extschema@._refuse('MF147', 14, pg_catalog.format(
				'role %s is not a member of frt_admin and cannot approve %s %L', v_caller, p_table, p_name),
				v_fn, v_purpose, NULL, v_device);
		END IF;
		-- four eyes: neither the caller nor the session's login made the
		-- change, nor is a member of the role that made it
		IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
				   WHERE r.rolname = v_changed_by
					 AND (pg_catalog.pg_has_role(v_caller, r.oid, 'MEMBER')
						  OR pg_catalog.pg_has_role(SESSION_USER, r.oid, 'MEMBER'))) THEN
			PERFORM @extschema@._refuse('MF147', 14, pg_catalog.format(
				'%s %L was registered or changed by %s; another member of frt_admin must approve it',
				p_table, p_name, v_changed_by), v_fn, v_purpose, NULL, v_device);
		END IF;
	END IF;
	IF p_table = 'device' THEN
		UPDATE @extschema@.device SET approved_by = v_caller, approved_at = pg_catalog.now() WHERE name = p_name;
	ELSE
		UPDATE @extschema@.purpose SET approved_by = v_caller, approved_at = pg_catalog.now() WHERE name = p_name;
	END IF;
	PERFORM @extschema@.audit_event('registry', 'approved', v_purpose, NULL, v_device, NULL, NULL,
		pg_catalog.jsonb_build_object('table', p_table, 'changed_by', v_changed_by, 'approved_by', v_caller));
	RETURN true;
END
$$;

-- Approve a device after its registration or a change of its location,
-- signage or capture area; false if it was approved already.
CREATE FUNCTION @extschema@.approve_device(p_device pg_catalog.text)
RETURNS pg_catalog.bool
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT @extschema@._approve('device', p_device);
$$;

-- Approve a purpose after its registration or a change of its facts;
-- false if it was approved already.
CREATE FUNCTION @extschema@.approve_purpose(p_purpose pg_catalog.text)
RETURNS pg_catalog.bool
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT @extschema@._approve('purpose', p_purpose);
$$;

-- Grant frt_admin UPDATE on every column of the purpose and device tables
-- but their approval columns (changed_by, approved_by, approved_at).  Run
-- again after adding a column to either table.
CREATE FUNCTION @extschema@._grant_registry_update()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	t pg_catalog.text;
	v_cols pg_catalog.text;
BEGIN
	FOREACH t IN ARRAY ARRAY['purpose', 'device'] LOOP
		SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO v_cols
		FROM pg_catalog.pg_attribute a
		WHERE a.attrelid = pg_catalog.format('@extschema@.%I', t)::pg_catalog.regclass
		  AND a.attnum > 0 AND NOT a.attisdropped
		  AND a.attname <> ALL (ARRAY['changed_by', 'approved_by', 'approved_at']::pg_catalog.name[]);
		EXECUTE pg_catalog.format('REVOKE UPDATE ON @extschema@.%I FROM frt_admin', t);
		EXECUTE pg_catalog.format('GRANT UPDATE (%s) ON @extschema@.%I TO frt_admin', v_cols, t);
	END LOOP;
END
$$;

-- Refuse unless the purpose may be processed at all, of the kind asked, from
-- this device: Art. 4 (registered, right kind), 5 (processor, notice),
-- 9 (assessment), 10 (alternative), 13 (device).  Returns the purpose row.

-- Enrol one face for a subject and purpose, captured by a device; returns
-- the face id.  p_retention may ask for a retention shorter than the
-- purpose's (Art. 8).

-- 1:1 verification: is the probe the enrolled subject?  Compares only with
-- that subject's active faces for that purpose; the score is shown as the
-- purpose's score_disclosure says (none below the threshold unless exact).

-- 1:N identification within one purpose: up to p_k distinct subjects whose
-- best active face has cosine similarity >= p_min_similarity (default: the
-- purpose's threshold), best first.  Exact: uses an index when present, in
-- exact mode, and returns what an exhaustive search returns.  p_k above the
-- purpose's max_k, or p_min_similarity below its threshold, is refused
-- (MF142); the scores are shown as the purpose's score_disclosure says.

-- Export a subject's stored faces for a purpose (Art. 8): the only SQL path
-- that returns embeddings; frt_admin only; refused without separate transfer
-- consent.

-- the new functions: no EXECUTE for PUBLIC, then the grants
SELECT @extschema@._revoke_public_execute();
-- Application authorization (45_authz.sql): frt_admin grants, binds and
-- approves, through the functions only (they record who did it); frt_admin
-- and frt_auditor read the grants.  frt_admin may not UPDATE the approval
-- columns of purposes and devices.
SELECT @extschema@._grant_registry_update();
GRANT SELECT ON @extschema@.app_grant, @extschema@.device_login TO frt_admin, frt_auditor;
GRANT EXECUTE ON FUNCTION
	@extschema@.grant_application(pg_catalog.name, pg_catalog.text, pg_catalog.text[]),
	@extschema@.revoke_application(pg_catalog.name, pg_catalog.text, pg_catalog.text[]),
	@extschema@.bind_device(pg_catalog.text, pg_catalog.name),
	@extschema@.unbind_device(pg_catalog.text, pg_catalog.name),
	@extschema@.approve_device(pg_catalog.text),
	@extschema@.approve_purpose(pg_catalog.text)
	TO frt_admin;
COMMENT ON FUNCTION @extschema@.grant_application(pg_catalog.name, pg_catalog.text, pg_catalog.text[]) IS
	'let a role (a login, or a group role) perform operations (enrol, verify, identify, export) for a purpose; returns what it now holds (Measures Art. 14)';
COMMENT ON FUNCTION @extschema@.revoke_application(pg_catalog.name, pg_catalog.text, pg_catalog.text[]) IS
	'take operations (NULL: all) of a purpose away from a role; returns what it still holds';
COMMENT ON FUNCTION @extschema@.bind_device(pg_catalog.text, pg_catalog.name) IS
	'let a role enrol and match with a device (Measures Art. 14)';
COMMENT ON FUNCTION @extschema@.unbind_device(pg_catalog.text, pg_catalog.name) IS
	'unbind a role from a device; returns whether it was bound';
COMMENT ON FUNCTION @extschema@.approve_device(pg_catalog.text) IS
	'approve a device after its registration or a change of its location, signage or capture area: a member of frt_admin who did not make the change; false if already approved';
COMMENT ON FUNCTION @extschema@.approve_purpose(pg_catalog.text) IS
	'approve a purpose after its registration or a change of its facts: a member of frt_admin who did not make the change; false if already approved';

-- Existing deployments keep working: every role holding frt_enroller,
-- frt_matcher or frt_admin (directly or through another role), and those
-- three roles themselves (a session may SET ROLE to them), are granted
-- what the roles allowed before, on every purpose, and bound to every
-- device.  A WARNING asks the administrator to narrow them.  (Not
-- audited row by row: the audit writer would wait for the locks this
-- update holds on the registry; the grants carry granted_by and
-- granted_at, the update itself is on record, and the audit triggers are
-- created right after.)
DO $$
DECLARE
	r record;
	v_n pg_catalog.int4 := 0;
	v_roles pg_catalog.text[] := '{}';
BEGIN
	FOR r IN
		SELECT a.rolname, ARRAY(SELECT o FROM pg_catalog.unnest(ARRAY[
				CASE WHEN pg_catalog.pg_has_role(a.oid, 'frt_enroller', 'MEMBER') THEN 'enrol' END,
				CASE WHEN pg_catalog.pg_has_role(a.oid, 'frt_matcher', 'MEMBER') THEN 'verify' END,
				CASE WHEN pg_catalog.pg_has_role(a.oid, 'frt_matcher', 'MEMBER') THEN 'identify' END,
				CASE WHEN pg_catalog.pg_has_role(a.oid, 'frt_admin', 'MEMBER') THEN 'export' END]) o
				WHERE o IS NOT NULL ORDER BY o) AS ops
		  FROM pg_catalog.pg_roles a
		 WHERE NOT a.rolsuper AND a.rolname !~ '^pg_'
		   AND a.rolname <> ALL (ARRAY['frt_auditor', 'frt_audit_relay']::pg_catalog.name[])
		 ORDER BY a.rolname
	LOOP
		CONTINUE WHEN pg_catalog.cardinality(r.ops) = 0;
		INSERT INTO @extschema@.app_grant (grantee, purpose, operations, granted_by)
		SELECT r.rolname, p.name, r.ops, CURRENT_USER FROM @extschema@.purpose p;
		IF r.ops && ARRAY['enrol', 'verify', 'identify']::pg_catalog.text[] THEN
			INSERT INTO @extschema@.device_login (processor, device, grantee, bound_by)
			SELECT d.processor, d.name, r.rolname, CURRENT_USER FROM @extschema@.device d;
		END IF;
		v_roles := v_roles || r.rolname::pg_catalog.text;
		v_n := v_n + 1;
	END LOOP;
	IF v_n > 0 THEN
		RAISE WARNING 'frt_governance: % roles were granted every purpose and device their roles allowed before: %',
			v_n, pg_catalog.array_to_string(v_roles, ', ')
			USING HINT = 'Revoke the grants of frt_admin, frt_enroller and frt_matcher themselves, then narrow each application''s with frt.revoke_application() and frt.unbind_device() (docs/operations.md, "Authorizing applications").';
	END IF;
END
$$;
CREATE TRIGGER app_grant_audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.app_grant
	FOR EACH ROW EXECUTE FUNCTION @extschema@._audit_change();
CREATE TRIGGER device_login_audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.device_login
	FOR EACH ROW EXECUTE FUNCTION @extschema@._audit_change();
ALTER TABLE @extschema@.app_grant ENABLE ALWAYS TRIGGER app_grant_audit;
ALTER TABLE @extschema@.device_login ENABLE ALWAYS TRIGGER device_login_audit;

-- The compliance report's Art. 14 row application_authorization: grants and
-- bindings in force, and what to look at: purposes and devices awaiting
-- approval, grants to roles that do not exist, grants held by the frt_*
-- roles themselves (every member of them holds them).  Names only.
CREATE FUNCTION @extschema@._authz_compliance()
RETURNS TABLE (article pg_catalog.text, check_name pg_catalog.text, status pg_catalog.text,
	detail pg_catalog.text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_grants pg_catalog.int8;
	v_roles pg_catalog.int8;
	v_bindings pg_catalog.int8;
	v_pending pg_catalog.text;
	v_missing pg_catalog.text;
	v_broad pg_catalog.text;
BEGIN
	SELECT pg_catalog.count(*), pg_catalog.count(DISTINCT g.grantee) INTO v_grants, v_roles
	FROM @extschema@.app_grant g;
	SELECT pg_catalog.count(*) INTO v_bindings FROM @extschema@.device_login;
	SELECT pg_catalog.string_agg(x, ', ' ORDER BY x) INTO v_pending
	FROM (SELECT 'purpose ' || p.name AS x FROM @extschema@.purpose p WHERE p.approved_at IS NULL
		  UNION ALL
		  SELECT 'device ' || d.name FROM @extschema@.device d WHERE d.approved_at IS NULL) u;
	SELECT pg_catalog.string_agg(DISTINCT r, ', ') INTO v_missing
	FROM (SELECT g.grantee::pg_catalog.text AS r FROM @extschema@.app_grant g
		  UNION ALL
		  SELECT b.grantee::pg_catalog.text FROM @extschema@.device_login b) u
	WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles a WHERE a.rolname = u.r);
	SELECT pg_catalog.string_agg(DISTINCT r, ', ') INTO v_broad
	FROM (SELECT g.grantee::pg_catalog.text AS r FROM @extschema@.app_grant g
		  UNION ALL
		  SELECT b.grantee::pg_catalog.text FROM @extschema@.device_login b) u
	WHERE u.r = ANY (ARRAY['frt_admin', 'frt_enroller', 'frt_matcher']);
	RETURN QUERY SELECT 'Art. 14', 'application_authorization',
		CASE WHEN v_pending IS NULL AND v_missing IS NULL AND v_broad IS NULL THEN 'ok' ELSE 'warning' END,
		pg_catalog.concat_ws('; ',
			pg_catalog.format('%s grants to %s roles, %s device bindings', v_grants, v_roles, v_bindings),
			'awaiting approval by a second member of frt_admin: ' || v_pending,
			'granted or bound roles that do not exist: ' || v_missing,
			'granted or bound to frt_admin, frt_enroller or frt_matcher themselves (so to every member): ' || v_broad);
END
$$;
REVOKE ALL ON FUNCTION @extschema@._authz_compliance() FROM PUBLIC;

-- One row per article the database can check: status is 'ok', 'warning',
-- 'violation' or 'info', with a human-readable detail.

-- Record (or renew, after a changed notice) a subject's separate consent for
-- a purpose against the notice in force; returns the consent id.
-- application grants and device bindings, each processor's own
ALTER TABLE @extschema@.app_grant ENABLE ROW LEVEL SECURITY;
CREATE POLICY app_grant_tenant ON @extschema@.app_grant
	USING (purpose IN (SELECT p.name FROM @extschema@.purpose p
		WHERE p.processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor())));
ALTER TABLE @extschema@.device_login ENABLE ROW LEVEL SECURITY;
CREATE POLICY device_login_tenant ON @extschema@.device_login
	USING (processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor()));

-- ---- end of authorization per application ----

-- ---- The facts a notice states, minors, central storage, incidents (registry, intrusion) ----
-- Measures Art. 5: each notice version records the purpose's facts it
-- states; processing is refused (MF050) while they differ; a version
-- stating other facts is material; new versions need an accessibility
-- statement (MF051).  Art. 7: minors per purpose (MF070, MF071, MF072).
-- Art. 8: storage location and legal basis, central-storage consent
-- (MF080, MF081).  Art. 9: incident register (MF090); a change of
-- processor, model, dimension, storage or minors rule voids the assessment.
-- Upgrade values: existing purposes store centrally (their faces are
-- here) with no legal basis recorded, so new enrolments need the subject's
-- central-storage consent or an administrator's legal basis; purposes that
-- already hold minors keep processing them (minors_allowed = true); every
-- existing notice states the facts as they are now.  WARNINGs list what
-- needs an administrator.
-- Art. 5, 9: the recognition model (name and version) the purpose uses
ALTER TABLE @extschema@.purpose ADD COLUMN model pg_catalog.text CHECK (pg_catalog.btrim(model) <> '');
-- Art. 7: whether subjects under 14 may be processed at all (strict default)
ALTER TABLE @extschema@.purpose ADD COLUMN minors_allowed pg_catalog.bool NOT NULL DEFAULT false;
-- Art. 8: where the purpose's faces are stored, and for central storage
-- the law or administrative regulation that allows it without the
-- subject's separate consent (NULL: each subject's consent is needed)
ALTER TABLE @extschema@.purpose ADD COLUMN storage pg_catalog.text NOT NULL DEFAULT 'central' CHECK (storage IN ('device', 'central'));
ALTER TABLE @extschema@.purpose ADD COLUMN storage_legal_basis pg_catalog.text CHECK (pg_catalog.btrim(storage_legal_basis) <> '');
ALTER TABLE @extschema@.notice ADD COLUMN facts pg_catalog.jsonb NOT NULL DEFAULT '{}';
ALTER TABLE @extschema@.consent ADD COLUMN central_storage_consent pg_catalog.bool NOT NULL DEFAULT false;
COMMENT ON COLUMN @extschema@.purpose.model IS 'recognition model and version; a change needs a new notice and voids the assessment (Art. 5, 9)';
COMMENT ON COLUMN @extschema@.purpose.minors_allowed IS 'whether subjects under 14 may be processed at all (Art. 7); false refuses them (MF070) and hides their faces from 1:N';
COMMENT ON COLUMN @extschema@.purpose.storage IS 'where faces are stored (Art. 8): device (never in this database) or central (this database: needs storage_legal_basis or the subject''s central-storage consent)';
COMMENT ON COLUMN @extschema@.purpose.storage_legal_basis IS 'law or administrative regulation allowing central storage without separate consent (Art. 8); NULL: consent needed';
COMMENT ON COLUMN @extschema@.notice.facts IS 'the purpose''s facts stated by this version, taken at publication (Art. 5); a version whose facts differ from the previous one''s is material';
COMMENT ON COLUMN @extschema@.consent.central_storage_consent IS 'separate consent to storing the face in this (central) database rather than on the device (Art. 8); distinct from transfer_consent';

-- purposes that already hold faces of minors keep processing them; set
-- before the new voiding rule below, so that this keeps their assessments.
-- The update's own row changes are not audited row by row (the audit
-- writer cannot append while this transaction holds the trail altered);
-- ALTER EXTENSION itself is on record, and the WARNINGs below name them.
ALTER TABLE @extschema@.purpose DISABLE TRIGGER purpose_audit;
UPDATE @extschema@.purpose p SET minors_allowed = true
 WHERE EXISTS (SELECT 1 FROM @extschema@.face f WHERE f.purpose = p.name AND f.minor);
ALTER TABLE @extschema@.purpose ENABLE ALWAYS TRIGGER purpose_audit;
-- A change of purpose or method voids the purpose's assessments (Art. 9):
-- of its kind, description, method, retention, public-security use,
-- processor, model, dimension, storage or minors rule; a shorter retention
-- shortens stored expiries (Art. 8).
-- Active faces of a purpose whose consent is valid for processing (no
-- re-notice pending, separate, not a condition of service, a guardian's for
-- a minor, a minor's only where the purpose processes minors: the same
-- rules frt.verify refuses on), nearest first
-- by cosine distance, optionally only within p_max_distance (1:N).  A plain
-- SQL function so it is inlined into the caller's query: the ORDER BY ...
-- <=> probe then streams from an frt_ivf index on frt._face_open(id,
-- embedding) when one exists (the expression must match).  Inlined
-- and policy functions are parsed with the caller's search_path, so every
-- operator is qualified: a role that may create objects cannot shadow them.
-- Refuse unless the purpose may be processed at all, of the kind asked, from
-- this device: Art. 4 (registered, right kind), 5 (processor, notice),
-- 9 (assessment), 10 (alternative), 13 (device).  Returns the purpose row.
-- Refuse unless the subject holds a valid, active, separate consent for the
-- purpose: Art. 6 (separate, active), 12 (not a condition of service),
-- 5 (given against the notice in force), 7 (guardian for under 14).
-- Returns the consent row.
-- Enrol one face for a subject and purpose, captured by a device; returns
-- the face id.  p_retention may ask for a retention shorter than the
-- purpose's (Art. 8).
-- Export a subject's stored faces for a purpose (Art. 8): the only SQL path
-- that returns embeddings; frt_admin only; refused without separate transfer
-- consent.
DROP FUNCTION @extschema@.give_consent(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.text,
	pg_catalog.text, pg_catalog.bool, pg_catalog.bool, pg_catalog.bool);
-- Record (or renew, after a changed notice) a subject's separate consent for
-- a purpose against the notice in force; returns the consent id.
-- p_transfer_consent and p_central_storage are the two separate consents of
-- Art. 8 (export; storage in this database); a renewal restates both.
CREATE FUNCTION @extschema@.give_consent(p_subject pg_catalog.text, p_purpose pg_catalog.text,
	p_given_by pg_catalog.text, p_obtained_how pg_catalog.text,
	p_guardian_ref pg_catalog.text DEFAULT NULL, p_transfer_consent pg_catalog.bool DEFAULT false,
	p_separate pg_catalog.bool DEFAULT true, p_condition_of_service pg_catalog.bool DEFAULT false,
	p_central_storage pg_catalog.bool DEFAULT false)
RETURNS pg_catalog.int8
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_version pg_catalog.int4;
	v_id pg_catalog.int8;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM @extschema@.purpose WHERE name = p_purpose) THEN
		PERFORM @extschema@._refuse('MF004', 4, pg_catalog.format('purpose %L is not registered', p_purpose),
			'give_consent', p_purpose, p_subject, NULL);
	END IF;
	-- the subject first, in the same lock order as erasure and enrolment
	PERFORM 1 FROM @extschema@.subject WHERE id = p_subject FOR KEY SHARE;
	IF NOT FOUND THEN
		PERFORM @extschema@._reject('P0002', pg_catalog.format('subject %s is not registered', p_subject),
			'give_consent', p_purpose, p_subject, NULL);
	END IF;
	v_version := @extschema@.current_notice_version(p_purpose);
	IF v_version IS NULL THEN
		PERFORM @extschema@._refuse('MF005', 5, pg_catalog.format(
			'purpose %L has no notice in force; consent cannot be informed', p_purpose),
			'give_consent', p_purpose, p_subject, NULL);
	END IF;
	UPDATE @extschema@.consent
	SET notice_version = v_version, needs_renotice = false, renewed_at = pg_catalog.now(),
		given_by = p_given_by, guardian_ref = p_guardian_ref, obtained_how = p_obtained_how,
		separate = p_separate, condition_of_service = p_condition_of_service,
		transfer_consent = p_transfer_consent, central_storage_consent = p_central_storage
	WHERE subject = p_subject AND purpose = p_purpose AND withdrawn_at IS NULL
	RETURNING id INTO v_id;
	IF v_id IS NULL THEN
		INSERT INTO @extschema@.consent (subject, purpose, notice_version, given_by, guardian_ref,
			obtained_how, separate, condition_of_service, transfer_consent, central_storage_consent)
		VALUES (p_subject, p_purpose, v_version, p_given_by, p_guardian_ref,
			p_obtained_how, p_separate, p_condition_of_service, p_transfer_consent, p_central_storage)
		RETURNING id INTO v_id;
	END IF;
	RETURN v_id;
EXCEPTION WHEN integrity_constraint_violation OR data_exception THEN
	-- bad input (given_by, obtained_how, guardian_ref...): on record first
	PERFORM @extschema@._reject(SQLSTATE, SQLERRM, 'give_consent', p_purpose, p_subject, NULL);
	RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.give_consent(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.text,
	pg_catalog.text, pg_catalog.bool, pg_catalog.bool, pg_catalog.bool, pg_catalog.bool) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.give_consent(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.text,
	pg_catalog.text, pg_catalog.bool, pg_catalog.bool, pg_catalog.bool, pg_catalog.bool) TO frt_enroller;
COMMENT ON FUNCTION @extschema@.give_consent(pg_catalog.text, pg_catalog.text, pg_catalog.text,
	pg_catalog.text, pg_catalog.text, pg_catalog.bool, pg_catalog.bool, pg_catalog.bool, pg_catalog.bool) IS
	'record or renew separate consent against the notice in force (with the separate transfer and central-storage consents of Measures Art. 8); returns the consent id';
-- Layer 5: the facts a notice states (Art. 5), minors per purpose (Art. 7)
-- and central storage (Art. 8), enforced where the data lives.
--
-- A notice version records the purpose's facts it states, taken when it is
-- published; while the purpose's facts differ from the notice in force,
-- processing is refused (MF050) and the compliance report shows it, until
-- a new version is published.  A version stating other facts than the one
-- before is material whatever the caller says, so consents given under the
-- older version need re-notice.  New versions need an accessibility
-- statement (MF051).

-- The facts of a purpose a notice states (Art. 5(1)-(2)): processor, what
-- and how (kind, description, method, model, dimension), how long (retention,
-- minor_retention), for whom (minors_allowed, serves_public_security) and
-- where faces are kept (storage, storage_legal_basis).  Intervals are
-- rendered in one fixed style, whatever the session's IntervalStyle.
CREATE FUNCTION @extschema@._notice_facts(p @extschema@.purpose)
RETURNS pg_catalog.jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
SET intervalstyle = 'postgres'
AS $$
	SELECT pg_catalog.jsonb_build_object(
		'processor', p.processor, 'kind', p.kind, 'description', p.description,
		'method', p.method, 'model', p.model, 'dimension', p.dimension,
		'retention', p.retention::pg_catalog.text, 'minor_retention', p.minor_retention::pg_catalog.text,
		'minors_allowed', p.minors_allowed, 'serves_public_security', p.serves_public_security,
		'storage', p.storage, 'storage_legal_basis', p.storage_legal_basis);
$$;

-- The facts of purpose p that differ from those its notice in force states
-- (sorted names), or NULL when they agree or there is no notice.
CREATE FUNCTION @extschema@._notice_stale_facts(p @extschema@.purpose)
RETURNS pg_catalog.text[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_stated pg_catalog.jsonb;
	v_now pg_catalog.jsonb;
	v_diff pg_catalog.text[];
BEGIN
	SELECT n.facts INTO v_stated FROM @extschema@.notice n
	 WHERE n.purpose = p.name ORDER BY n.version DESC LIMIT 1;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	v_now := @extschema@._notice_facts(p);
	IF v_now = v_stated THEN
		RETURN NULL;
	END IF;
	SELECT pg_catalog.array_agg(k ORDER BY k) INTO v_diff
	  FROM (SELECT pg_catalog.jsonb_object_keys(v_now) UNION SELECT pg_catalog.jsonb_object_keys(v_stated)) AS t(k)
	 WHERE v_now -> k IS DISTINCT FROM v_stated -> k;
	RETURN v_diff;
END
$$;

-- Refuse processing while the notice in force states other facts than the
-- purpose's (Art. 5: a change is told to the person before it applies).
CREATE FUNCTION @extschema@._check_notice_facts(p @extschema@.purpose, p_function pg_catalog.text,
	p_subject pg_catalog.text, p_device pg_catalog.text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_diff pg_catalog.text[] := @extschema@._notice_stale_facts(p);
BEGIN
	IF v_diff IS NOT NULL THEN
		PERFORM @extschema@._refuse('MF050', 5, pg_catalog.format(
			'purpose %L changed facts its notice in force states (%s); publish a new notice version first',
			p.name, pg_catalog.array_to_string(v_diff, ', ')), p_function, p.name, p_subject, p_device);
	END IF;
END
$$;

-- A new notice version: it states the purpose's facts as they are (taken
-- here, whatever the caller gave), it is material when they differ from
-- the previous version's, and it carries an accessibility statement for
-- disabled and elderly people (Art. 5).  A restored dump keeps its rows.
CREATE FUNCTION @extschema@._notice_facts_taken()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p @extschema@.purpose;
	v_prev pg_catalog.jsonb;
BEGIN
	IF @extschema@.audit_restoring() THEN
		RETURN NEW;
	END IF;
	-- serialise versions per purpose (as frt._notice_version does)
	SELECT * INTO p FROM @extschema@.purpose WHERE name = NEW.purpose FOR NO KEY UPDATE;
	IF NOT FOUND THEN
		RETURN NEW;		-- the foreign key rejects it
	END IF;
	IF NEW.accessibility IS NULL OR pg_catalog.btrim(NEW.accessibility) = '' THEN
		PERFORM @extschema@._refuse('MF051', 5, pg_catalog.format(
			'a notice of purpose %L needs an accessibility statement for disabled and elderly people',
			NEW.purpose), 'publish_notice', NEW.purpose, NULL, NULL,
			p_hint => 'Say how the notice is given in accessible forms (large print, audio, assistance), as the national accessibility rules require.');
	END IF;
	NEW.facts := @extschema@._notice_facts(p);
	SELECT n.facts INTO v_prev FROM @extschema@.notice n
	 WHERE n.purpose = NEW.purpose ORDER BY n.version DESC LIMIT 1;
	IF FOUND AND v_prev IS DISTINCT FROM NEW.facts THEN
		NEW.material_change := true;
	END IF;
	RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._notice_facts_taken() FROM PUBLIC;
CREATE TRIGGER notice_facts BEFORE INSERT ON @extschema@.notice
	FOR EACH ROW EXECUTE FUNCTION @extschema@._notice_facts_taken();

-- Art. 8: storing a face in this database is central storage.  Refused for
-- a purpose whose faces stay on devices (MF080), and without either the
-- law or administrative regulation recorded on the purpose or the subject's
-- separate consent to central storage (MF081).
CREATE FUNCTION @extschema@._check_central_storage(p @extschema@.purpose, c @extschema@.consent,
	p_subject pg_catalog.text, p_device pg_catalog.text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p.storage = 'device' THEN
		PERFORM @extschema@._refuse('MF080', 8, pg_catalog.format(
			'purpose %L keeps faces on the recognition device; they are not stored in this database', p.name),
			'enroll', p.name, p_subject, p_device);
	END IF;
	IF p.storage_legal_basis IS NULL AND NOT c.central_storage_consent THEN
		PERFORM @extschema@._refuse('MF081', 8, pg_catalog.format(
			'subject %L gave no separate consent to central storage for purpose %L, and the purpose records no legal basis for it',
			p_subject, p.name), 'enroll', p.name, p_subject, p_device,
			p_hint => 'Record the consent (frt.give_consent(..., p_central_storage => true)) or the law or administrative regulation on purpose.storage_legal_basis.');
	END IF;
END
$$;

-- Art. 7: whether a subject is under 14 decides how it is processed, so a
-- birth date that would change that is not edited: erase the subject and
-- register it again (its consents were given for a child, or for an adult).
CREATE FUNCTION @extschema@._subject_birth_fixed()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NEW.birth_date IS DISTINCT FROM OLD.birth_date
	   AND @extschema@.is_minor(NEW.birth_date) IS DISTINCT FROM @extschema@.is_minor(OLD.birth_date) THEN
		PERFORM @extschema@._refuse('MF072', 7, pg_catalog.format(
			'the birth date of subject %L would change whether it is under 14; erase the subject and register it again',
			OLD.id), 'UPDATE subject', NULL, OLD.id, NULL);
	END IF;
	RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._subject_birth_fixed() FROM PUBLIC;
CREATE TRIGGER subject_birth_fixed BEFORE UPDATE OF birth_date ON @extschema@.subject
	FOR EACH ROW EXECUTE FUNCTION @extschema@._subject_birth_fixed();
ALTER TABLE @extschema@.subject ENABLE ALWAYS TRIGGER subject_birth_fixed;
-- Layer 5: the register of security incidents (Art. 9).  A major incident
-- (leak, tampering, loss, destruction, illegal access, sale or use of face
-- information) voids the current impact assessments of every purpose it
-- touches, and their processing is refused (MF090) until a new assessment
-- is made after it.  frt_admin records incidents (frt.record_incident; the
-- intrusion layer opens one from an alert), frt_auditor reads them; the
-- register is insert-only and kept with the assessments (>= 3 years).

CREATE SEQUENCE @extschema@.security_incident_id_seq;
CREATE TABLE @extschema@.security_incident (
	id				pg_catalog.int8 PRIMARY KEY DEFAULT pg_catalog.nextval('@extschema@.security_incident_id_seq'),
	occurred_at		pg_catalog.timestamptz NOT NULL,
	recorded_at		pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	recorded_by		pg_catalog.text NOT NULL CHECK (pg_catalog.btrim(recorded_by) <> ''),
	major			pg_catalog.bool NOT NULL,
	description		pg_catalog.text NOT NULL CHECK (pg_catalog.btrim(description) <> ''),
	-- the audit record (frt.alert) of the intrusion alert that opened it
	alert_seq		pg_catalog.int8 UNIQUE,
	CHECK (occurred_at <= recorded_at)
);
ALTER SEQUENCE @extschema@.security_incident_id_seq OWNED BY @extschema@.security_incident.id;
COMMENT ON TABLE @extschema@.security_incident IS
	'security incidents (Measures Art. 9); a major one voids the assessments of the purposes it touches';

-- The purposes an incident touches.
CREATE TABLE @extschema@.security_incident_purpose (
	incident		pg_catalog.int8 NOT NULL REFERENCES @extschema@.security_incident (id),
	purpose			pg_catalog.text NOT NULL REFERENCES @extschema@.purpose (name),
	PRIMARY KEY (incident, purpose)
);
CREATE INDEX security_incident_purpose_idx ON @extschema@.security_incident_purpose (purpose);
COMMENT ON TABLE @extschema@.security_incident_purpose IS 'purposes touched by a security incident';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.security_incident', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.security_incident_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.security_incident_purpose', '');

-- The register is kept as recorded (Art. 9: records kept >= 3 years); a
-- purpose touched by a major incident has its assessments voided, by
-- whatever path the row arrives (a restored dump keeps its rows as they
-- were).
CREATE FUNCTION @extschema@._incident_rules()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	i @extschema@.security_incident;
BEGIN
	IF TG_OP <> 'INSERT' THEN
		RAISE EXCEPTION 'the incident register is kept as recorded; record a new incident instead'
			USING ERRCODE = 'feature_not_supported';
	END IF;
	IF TG_TABLE_NAME = 'security_incident_purpose' AND NOT @extschema@.audit_restoring() THEN
		SELECT * INTO i FROM @extschema@.security_incident WHERE id = NEW.incident;
		IF i.major THEN
			PERFORM @extschema@._void_assessments(NEW.purpose,
				pg_catalog.format('major security incident %s', i.id));
		END IF;
	END IF;
	RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._incident_rules() FROM PUBLIC;
CREATE TRIGGER security_incident_rules BEFORE INSERT OR UPDATE OR DELETE ON @extschema@.security_incident
	FOR EACH ROW EXECUTE FUNCTION @extschema@._incident_rules();
CREATE TRIGGER security_incident_purpose_rules AFTER INSERT OR UPDATE OR DELETE
	ON @extschema@.security_incident_purpose
	FOR EACH ROW EXECUTE FUNCTION @extschema@._incident_rules();
CREATE TRIGGER security_incident_audit AFTER INSERT ON @extschema@.security_incident
	FOR EACH ROW EXECUTE FUNCTION @extschema@._audit_change('id');
ALTER TABLE @extschema@.security_incident ENABLE ALWAYS TRIGGER security_incident_rules;
ALTER TABLE @extschema@.security_incident_purpose ENABLE ALWAYS TRIGGER security_incident_purpose_rules;
ALTER TABLE @extschema@.security_incident ENABLE ALWAYS TRIGGER security_incident_audit;

-- Record a security incident; returns its id.  p_purposes: the purposes it
-- touches (NULL: every purpose, e.g. a breach of the database).  A major
-- incident voids their assessments (Art. 9).  p_alert_seq: the alert
-- (frt.alert) it was opened from, if any.
CREATE FUNCTION @extschema@.record_incident(p_description pg_catalog.text,
	p_purposes pg_catalog.text[] DEFAULT NULL, p_major pg_catalog.bool DEFAULT true,
	p_occurred_at pg_catalog.timestamptz DEFAULT NULL, p_alert_seq pg_catalog.int8 DEFAULT NULL)
RETURNS pg_catalog.int8
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_id pg_catalog.int8;
	v_unknown pg_catalog.text;
BEGIN
	IF p_description IS NULL OR pg_catalog.btrim(p_description) = '' OR p_major IS NULL THEN
		PERFORM @extschema@._reject('22004', 'an incident needs a description and whether it is major',
			'record_incident', NULL, NULL, NULL);
	END IF;
	IF pg_catalog.cardinality(p_purposes) = 0 THEN
		PERFORM @extschema@._reject('22023', 'an incident touches at least one purpose (NULL: every purpose)',
			'record_incident', NULL, NULL, NULL);
	END IF;
	SELECT pg_catalog.string_agg(u, ', ') INTO v_unknown FROM pg_catalog.unnest(p_purposes) u
	 WHERE NOT EXISTS (SELECT 1 FROM @extschema@.purpose p WHERE p.name = u);
	IF v_unknown IS NOT NULL THEN
		PERFORM @extschema@._reject('P0002', pg_catalog.format('purpose %s is not registered', v_unknown),
			'record_incident', NULL, NULL, NULL);
	END IF;
	IF p_alert_seq IS NOT NULL AND NOT EXISTS (SELECT 1 FROM @extschema@.alert a WHERE a.seq = p_alert_seq) THEN
		PERFORM @extschema@._reject('P0002', pg_catalog.format('audit record %s is not an alert', p_alert_seq),
			'record_incident', NULL, NULL, NULL);
	END IF;
	IF p_occurred_at > pg_catalog.now() THEN
		PERFORM @extschema@._reject('22008', 'an incident cannot occur in the future', 'record_incident',
			NULL, NULL, NULL);
	END IF;
	BEGIN
		INSERT INTO @extschema@.security_incident (occurred_at, recorded_by, major, description, alert_seq)
		VALUES (COALESCE(p_occurred_at, pg_catalog.now()), @extschema@._caller(), p_major, p_description,
			p_alert_seq)
		RETURNING id INTO v_id;
	EXCEPTION WHEN unique_violation THEN
		PERFORM @extschema@._reject('23505', pg_catalog.format('alert %s already opened an incident', p_alert_seq),
			'record_incident', NULL, NULL, NULL);
	END;
	INSERT INTO @extschema@.security_incident_purpose (incident, purpose)
	SELECT v_id, p.name FROM @extschema@.purpose p
	 WHERE p_purposes IS NULL OR p.name = ANY (p_purposes);
	RETURN v_id;
END
$$;

-- Refuse processing a purpose touched by a major incident with no impact
-- assessment made since (Art. 9: re-assess after a major incident).
CREATE FUNCTION @extschema@._check_incidents(p_purpose pg_catalog.text, p_function pg_catalog.text,
	p_subject pg_catalog.text, p_device pg_catalog.text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_id pg_catalog.int8;
BEGIN
	SELECT i.id INTO v_id FROM @extschema@.security_incident_purpose ip
	  JOIN @extschema@.security_incident i ON i.id = ip.incident
	 WHERE ip.purpose = p_purpose AND i.major
	   AND NOT EXISTS (SELECT 1 FROM @extschema@.assessment a
					   WHERE a.purpose = p_purpose AND a.voided_at IS NULL AND a.assessed_at >= i.recorded_at)
	 ORDER BY i.recorded_at DESC LIMIT 1;
	IF FOUND THEN
		PERFORM @extschema@._refuse('MF090', 9, pg_catalog.format(
			'purpose %L has not been re-assessed since major security incident %s', p_purpose, v_id),
			p_function, p_purpose, p_subject, p_device);
	END IF;
END
$$;

-- Purposes touched by a major incident with no valid assessment made after
-- it (the latest such incident per purpose): the re-assessments Art. 9
-- requires.
CREATE FUNCTION @extschema@.reassessment_due()
RETURNS TABLE (purpose pg_catalog.text, incident pg_catalog.int8, recorded_at pg_catalog.timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT DISTINCT ON (ip.purpose) ip.purpose, i.id, i.recorded_at
	  FROM @extschema@.security_incident_purpose ip
	  JOIN @extschema@.security_incident i ON i.id = ip.incident
	 WHERE i.major
	   AND NOT EXISTS (SELECT 1 FROM @extschema@.assessment a
					   WHERE a.purpose = ip.purpose AND a.voided_at IS NULL AND a.assessed_at >= i.recorded_at)
	 ORDER BY ip.purpose, i.recorded_at DESC, i.id DESC;
$$;
-- Layer 5: the compliance report's rows for the facts a notice states and
-- its accessibility (Art. 5), minors per purpose (Art. 7), central storage
-- (Art. 8) and security incidents (Art. 9); frt.compliance_report() returns
-- them with its own.
CREATE FUNCTION @extschema@._articles_compliance()
RETURNS TABLE (article pg_catalog.text, check_name pg_catalog.text, status pg_catalog.text,
	detail pg_catalog.text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n pg_catalog.int8;
	m pg_catalog.int8;
	names pg_catalog.text;
BEGIN
	-- Art. 5: the notice in force states the facts as they are
	SELECT pg_catalog.count(*), pg_catalog.string_agg(pg_catalog.format('%s (%s)', p.name,
			pg_catalog.array_to_string(s.diff, ', ')), '; ' ORDER BY p.name) INTO n, names
	  FROM @extschema@.purpose p, LATERAL (SELECT @extschema@._notice_stale_facts(p) AS diff) s
	 WHERE s.diff IS NOT NULL;
	RETURN QUERY SELECT 'Art. 5', 'notice_states_facts', CASE WHEN n = 0 THEN 'ok' ELSE 'violation' END,
		CASE WHEN n = 0 THEN 'every notice in force states its purpose''s current facts'
		ELSE pg_catalog.format('%s purposes changed facts their notice in force states (processing refused until a new version is published): %s', n, names) END;
	SELECT pg_catalog.count(*), pg_catalog.string_agg(n2.purpose, ', ' ORDER BY n2.purpose) INTO n, names
	  FROM (SELECT DISTINCT ON (x.purpose) x.purpose, x.accessibility FROM @extschema@.notice x
			 ORDER BY x.purpose, x.version DESC) n2
	 WHERE n2.accessibility IS NULL OR pg_catalog.btrim(n2.accessibility) = '';
	RETURN QUERY SELECT 'Art. 5', 'notice_accessibility', CASE WHEN n = 0 THEN 'ok' ELSE 'warning' END,
		CASE WHEN n = 0 THEN 'every notice in force has an accessibility statement for disabled and elderly people'
		ELSE pg_catalog.format('%s purposes whose notice in force has no accessibility statement (publish a new version): %s', n, names) END;

	-- Art. 7: minors per purpose; none where the purpose does not process them
	SELECT pg_catalog.string_agg(pg_catalog.format('%s: %s (%s)', p.name, COALESCE(k.minors, 0),
			CASE WHEN p.minors_allowed THEN 'allowed' ELSE 'not allowed' END), '; ' ORDER BY p.name),
		   pg_catalog.count(*) FILTER (WHERE NOT p.minors_allowed AND k.minors > 0)
	  INTO names, n
	  FROM @extschema@.purpose p
	  LEFT JOIN (SELECT f.purpose, pg_catalog.count(DISTINCT f.subject) AS minors FROM @extschema@.face f
				  JOIN @extschema@.subject s ON s.id = f.subject
				 WHERE f.minor OR @extschema@.is_minor(s.birth_date, f.purpose)
				 GROUP BY f.purpose) k ON k.purpose = p.name;
	RETURN QUERY SELECT 'Art. 7', 'minors_per_purpose', CASE WHEN COALESCE(n, 0) = 0 THEN 'info' ELSE 'violation' END,
		pg_catalog.format('subjects whose faces were stored while under 14, per purpose: %s%s', COALESCE(names, 'no purpose'),
			CASE WHEN COALESCE(n, 0) > 0 THEN pg_catalog.format('; %s purposes hold minors they do not process (their faces are not matched)', n) ELSE '' END);

	-- Art. 8: faces in this database need central storage allowed
	SELECT pg_catalog.count(*) FILTER (WHERE p.storage = 'device'),
		   pg_catalog.count(*) FILTER (WHERE p.storage = 'central' AND p.storage_legal_basis IS NULL
										 AND NOT c.central_storage_consent),
		   pg_catalog.string_agg(DISTINCT p.name, ', ')
	  INTO n, m, names
	  FROM @extschema@.face f JOIN @extschema@.purpose p ON p.name = f.purpose
	  JOIN @extschema@.consent c ON c.id = f.consent_id
	 WHERE p.storage = 'device' OR (p.storage_legal_basis IS NULL AND NOT c.central_storage_consent);
	RETURN QUERY SELECT 'Art. 8', 'central_storage_basis',
		CASE WHEN n > 0 THEN 'violation' WHEN m > 0 THEN 'warning' ELSE 'ok' END,
		CASE WHEN n + m = 0 THEN 'every stored face has a legal basis or the subject''s separate consent to central storage'
		ELSE pg_catalog.format('%s faces stored for device-storage purposes; %s faces stored centrally without a legal basis or central-storage consent (new enrolments refused): %s', n, m, names) END;

	-- Art. 9: re-assessment after a major security incident
	SELECT pg_catalog.count(*), pg_catalog.string_agg(pg_catalog.format('%s (incident %s)', r.purpose, r.incident),
			', ' ORDER BY r.purpose) INTO n, names
	  FROM @extschema@.reassessment_due() r;
	RETURN QUERY SELECT 'Art. 9', 'reassessment_after_incident', CASE WHEN n = 0 THEN 'ok' ELSE 'violation' END,
		CASE WHEN n = 0 THEN 'every purpose touched by a major security incident was re-assessed since'
		ELSE pg_catalog.format('%s purposes await re-assessment after a major security incident (processing refused): %s', n, names) END;
	SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE i.major) INTO n, m FROM @extschema@.security_incident i;
	RETURN QUERY SELECT 'Art. 9', 'security_incidents', 'info',
		pg_catalog.format('%s security incidents recorded (%s major); the register is kept as recorded', n, m);
END
$$;
-- One row per article the database can check: status is 'ok', 'warning',
-- 'violation' or 'info', with a human-readable detail.
REVOKE ALL ON FUNCTION @extschema@._notice_facts(@extschema@.purpose) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._notice_stale_facts(@extschema@.purpose) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._check_notice_facts(@extschema@.purpose, pg_catalog.text, pg_catalog.text,
	pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._check_central_storage(@extschema@.purpose, @extschema@.consent,
	pg_catalog.text, pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._check_incidents(pg_catalog.text, pg_catalog.text, pg_catalog.text,
	pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._articles_compliance() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.record_incident(pg_catalog.text, pg_catalog.text[], pg_catalog.bool,
	pg_catalog.timestamptz, pg_catalog.int8) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.reassessment_due() FROM PUBLIC;
-- The incident register (Art. 9): frt_admin records, frt_auditor reads.
GRANT SELECT ON @extschema@.security_incident, @extschema@.security_incident_purpose TO frt_admin, frt_auditor;
GRANT EXECUTE ON FUNCTION @extschema@.record_incident(pg_catalog.text, pg_catalog.text[], pg_catalog.bool,
	pg_catalog.timestamptz, pg_catalog.int8) TO frt_admin;
GRANT EXECUTE ON FUNCTION @extschema@.reassessment_due() TO frt_admin, frt_auditor;
COMMENT ON FUNCTION @extschema@.record_incident(pg_catalog.text, pg_catalog.text[], pg_catalog.bool,
	pg_catalog.timestamptz, pg_catalog.int8) IS
	'record a security incident touching some purposes (NULL: all); a major one voids their impact assessments (Measures Art. 9)';
COMMENT ON FUNCTION @extschema@.reassessment_due() IS
	'purposes touched by a major security incident with no impact assessment made since (Measures Art. 9)';
-- Layer 9 (intrusion detection): an alert can open a security incident in
-- the registry's register (Art. 9, 14).  The intrusion layer is above the
-- registry, so it calls frt.record_incident; the registry never calls here.

-- Open a security incident from the alert recorded at audit seq p_alert_seq
-- (frt.alert): it touches the alert's purpose (none named: every purpose),
-- occurred when the alert was raised, and is major unless p_major is false
-- (a major incident voids the assessments).  Returns the incident id; an
-- alert opens at most one incident.
CREATE FUNCTION @extschema@.open_incident(p_alert_seq pg_catalog.int8,
	p_description pg_catalog.text DEFAULT NULL, p_major pg_catalog.bool DEFAULT true)
RETURNS pg_catalog.int8
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	a record;
BEGIN
	SELECT * INTO a FROM @extschema@.alert WHERE seq = p_alert_seq;
	IF NOT FOUND THEN
		PERFORM @extschema@._reject('P0002', pg_catalog.format('audit record %s is not an alert', p_alert_seq),
			'open_incident', NULL, NULL, NULL);
	END IF;
	RETURN @extschema@.record_incident(
		COALESCE(p_description, pg_catalog.format('intrusion alert %s (audit record %s)', a.kind, a.seq)),
		CASE WHEN a.purpose IS NOT NULL THEN ARRAY[a.purpose] END, p_major, a.at, a.seq);
END
$$;
REVOKE ALL ON FUNCTION @extschema@.open_incident(pg_catalog.int8, pg_catalog.text, pg_catalog.bool) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.open_incident(pg_catalog.int8, pg_catalog.text, pg_catalog.bool) TO frt_admin;
COMMENT ON FUNCTION @extschema@.open_incident(pg_catalog.int8, pg_catalog.text, pg_catalog.bool) IS
	'open a security incident from an intrusion alert (its audit seq); major by default, voiding the assessments of the alert''s purpose (all if none) (Measures Art. 9)';

-- every existing notice states the facts as they are now
ALTER TABLE @extschema@.notice DISABLE TRIGGER notice_version;
ALTER TABLE @extschema@.notice DISABLE TRIGGER notice_audit;
UPDATE @extschema@.notice n SET facts = @extschema@._notice_facts(p)
  FROM @extschema@.purpose p WHERE p.name = n.purpose;
ALTER TABLE @extschema@.notice ENABLE TRIGGER notice_version;
ALTER TABLE @extschema@.notice ENABLE ALWAYS TRIGGER notice_audit;

-- what now needs an administrator
DO $$
DECLARE
	v pg_catalog.text;
BEGIN
	SELECT pg_catalog.string_agg(p.name, ', ' ORDER BY p.name) INTO v FROM @extschema@.purpose p
	 WHERE p.storage_legal_basis IS NULL;
	IF v IS NOT NULL THEN
		RAISE WARNING 'frt_governance: purposes storing faces centrally without a recorded legal basis: %', v
			USING DETAIL = 'New enrolments need each subject''s separate consent to central storage (Measures Art. 8).',
				  HINT = 'Record the law or administrative regulation in purpose.storage_legal_basis (then publish a new notice version), or renew consents with frt.give_consent(..., p_central_storage => true).';
	END IF;
	SELECT pg_catalog.string_agg(n.purpose, ', ' ORDER BY n.purpose) INTO v
	  FROM (SELECT DISTINCT ON (x.purpose) x.purpose, x.accessibility FROM @extschema@.notice x
			 ORDER BY x.purpose, x.version DESC) n
	 WHERE n.accessibility IS NULL OR pg_catalog.btrim(n.accessibility) = '';
	IF v IS NOT NULL THEN
		RAISE WARNING 'frt_governance: purposes whose notice in force has no accessibility statement: %', v
			USING HINT = 'Publish a new notice version with an accessibility statement for disabled and elderly people (Measures Art. 5).';
	END IF;
	SELECT pg_catalog.string_agg(p.name, ', ' ORDER BY p.name) INTO v FROM @extschema@.purpose p WHERE p.minors_allowed;
	IF v IS NOT NULL THEN
		RAISE WARNING 'frt_governance: purposes that hold minors and keep processing them: %', v
			USING HINT = 'Confirm each (purpose.minors_allowed); setting it false refuses minors and hides their faces from 1:N (Measures Art. 7).';
	END IF;
END
$$;
-- ---- end of the facts a notice states, minors, central storage, incidents ----

-- ---- Incidents and requests per processor; messages in the caller's language (registry, jobs) ----
-- the incident register and the request register carry their processor
ALTER TABLE @extschema@.security_incident
	ADD COLUMN processor pg_catalog.text REFERENCES @extschema@.processor (name) ON UPDATE CASCADE;
ALTER TABLE @extschema@.request
	ADD COLUMN processor pg_catalog.text NOT NULL DEFAULT @extschema@._acting_processor()
		REFERENCES @extschema@.processor (name) ON UPDATE CASCADE;
DROP INDEX @extschema@.request_subject_idx;
CREATE INDEX request_subject_idx ON @extschema@.request (processor, subject);
ALTER TABLE @extschema@.request ENABLE ROW LEVEL SECURITY;
CREATE POLICY request_tenant ON @extschema@.request
	USING (processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor()))
	WITH CHECK (processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor()));
ALTER TABLE @extschema@.security_incident_purpose ENABLE ROW LEVEL SECURITY;
CREATE POLICY security_incident_purpose_tenant ON @extschema@.security_incident_purpose
	USING (purpose IN (SELECT p.name FROM @extschema@.purpose p
		WHERE p.processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor())))
	WITH CHECK (purpose IN (SELECT p.name FROM @extschema@.purpose p
		WHERE p.processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor())));
ALTER TABLE @extschema@.security_incident ENABLE ROW LEVEL SECURITY;
CREATE POLICY security_incident_tenant ON @extschema@.security_incident
	USING (processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor())
		OR id IN (SELECT ip.incident FROM @extschema@.security_incident_purpose ip))
	WITH CHECK (processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor()));
-- ---- Messages in the caller's language: frt._t() and the catalogue (audit layer; every layer's messages) ----
CREATE FUNCTION @extschema@._t(pg_catalog.text) RETURNS pg_catalog.text
LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'frt_t';

CREATE FUNCTION @extschema@._t(pg_catalog.text, VARIADIC "any") RETURNS pg_catalog.text
LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'frt_t';

CREATE FUNCTION @extschema@._t_source(pg_catalog.text) RETURNS pg_catalog.text
LANGUAGE c VOLATILE STRICT AS 'MODULE_PATHNAME', 'frt_t_source';

CREATE FUNCTION @extschema@._cite(pg_catalog.int4, pg_catalog.text) RETURNS pg_catalog.text
LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'frt_cite';

REVOKE ALL ON FUNCTION @extschema@._t(pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._t(pg_catalog.text, VARIADIC "any") FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._t_source(pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._cite(pg_catalog.int4, pg_catalog.text) FROM PUBLIC;

-- the compliance report as a Chinese document (src/jobs/27_compliance_document.sql)
CREATE FUNCTION @extschema@._cn_numeral(p_n pg_catalog.int4)
RETURNS pg_catalog.text
LANGUAGE sql IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE
	WHEN p_n OPERATOR(pg_catalog.<) 1 OR p_n OPERATOR(pg_catalog.>) 99 THEN p_n::pg_catalog.text
	WHEN p_n OPERATOR(pg_catalog.<) 10 THEN d[p_n]
	ELSE CASE WHEN p_n OPERATOR(pg_catalog./) 10 OPERATOR(pg_catalog.>) 1 THEN d[p_n OPERATOR(pg_catalog./) 10] ELSE '' END
		OPERATOR(pg_catalog.||) '十'
		OPERATOR(pg_catalog.||) CASE WHEN p_n OPERATOR(pg_catalog.%) 10 OPERATOR(pg_catalog.>) 0
			THEN d[p_n OPERATOR(pg_catalog.%) 10] ELSE '' END
	END
FROM (SELECT ARRAY['一', '二', '三', '四', '五', '六', '七', '八', '九']::pg_catalog.text[] AS d) x
$$;
CREATE FUNCTION @extschema@.compliance_report_document()
RETURNS pg_catalog.text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
	v_art pg_catalog.int4 := NULL;
	v_body pg_catalog.text := '';
	v_ok pg_catalog.int4 := 0;
	v_warning pg_catalog.int4 := 0;
	v_violation pg_catalog.int4 := 0;
	v_info pg_catalog.int4 := 0;
BEGIN
	-- the rows in article order, each article's rows in the report's order
	FOR r IN
		SELECT c.article, c.check_name, c.status, c.detail,
			pg_catalog.substring(c.article, '[0-9]+')::pg_catalog.int4 AS n
		FROM @extschema@.compliance_report() WITH ORDINALITY AS c(article, check_name, status, detail, i)
		ORDER BY n, c.i
	LOOP
		IF v_art IS DISTINCT FROM r.n THEN
			v_body := v_body OPERATOR(pg_catalog.||) E'\n## 第' OPERATOR(pg_catalog.||) @extschema@._cn_numeral(r.n)
				OPERATOR(pg_catalog.||) E'条\n\n';
			v_art := r.n;
		END IF;
		v_body := v_body OPERATOR(pg_catalog.||) pg_catalog.format(E'- %s（%s）：%s\n',
			CASE r.status WHEN 'ok' THEN '合规' WHEN 'warning' THEN '警告' WHEN 'violation' THEN '违规'
				WHEN 'info' THEN '信息' ELSE r.status END,
			r.check_name, COALESCE(r.detail, ''));
		CASE r.status
			WHEN 'ok' THEN v_ok := v_ok + 1;
			WHEN 'warning' THEN v_warning := v_warning + 1;
			WHEN 'violation' THEN v_violation := v_violation + 1;
			ELSE v_info := v_info + 1;
		END CASE;
	END LOOP;
	RETURN pg_catalog.concat_ws(E'\n',
		'# 人脸识别技术应用合规情况报告', '',
		'依据《人脸识别技术应用安全管理办法》，以下按条款列出本数据库可以核查的事项及其核查结果。',
		'括号内为检查项的名称（供程序识别，不翻译）。', '',
		'- 个人信息处理者：' OPERATOR(pg_catalog.||) COALESCE(@extschema@._caller_processor(), '全部（超级用户）'),
		'- 生成时间：' OPERATOR(pg_catalog.||) pg_catalog.to_char(pg_catalog.statement_timestamp() AT TIME ZONE 'Asia/Shanghai',
			'YYYY-MM-DD HH24:MI') OPERATOR(pg_catalog.||) '（北京时间）',
		pg_catalog.format('- 汇总：合规 %s 项，警告 %s 项，违规 %s 项，信息 %s 项', v_ok, v_warning, v_violation, v_info),
		v_body);
END
$$;
REVOKE ALL ON FUNCTION @extschema@._cn_numeral(pg_catalog.int4) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.compliance_report_document() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.compliance_report_document() TO frt_admin, frt_auditor;
COMMENT ON FUNCTION @extschema@.compliance_report_document() IS
	'the compliance report as a Chinese Markdown document: one section per article (第N条), statuses 合规, 警告, 违规, 信息';
-- ---- end of incidents and requests per processor; messages ----

-- ---- Function bodies of this release ----
-- Every function changed since 1.0.0, as the install script defines it
-- (the sections above were written one change at a time).
CREATE OR REPLACE FUNCTION @extschema@._audit_anchor_lines(anchors pg_catalog.text)
RETURNS TABLE (line pg_catalog.int4, seq pg_catalog.int8, hash pg_catalog.text, mac pg_catalog.text,
	alg pg_catalog.text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT l.n::pg_catalog.int4, r[2]::pg_catalog.int8, r[3], NULLIF(r[4], 'none'), r[5]
	  FROM pg_catalog.regexp_split_to_table(anchors, E'\n') WITH ORDINALITY AS l(t, n),
		   pg_catalog.regexp_match(l.t,
			'frt audit anchor: db=("(?:[^"]|"")*"|\S+) seq=([0-9]+) hash=([0-9a-f]{64}) mac=([0-9a-f]{64}|none)(?: alg=([a-z0-9]+))?') AS r
	 WHERE r[1] OPERATOR(pg_catalog.=) pg_catalog.quote_ident(pg_catalog.current_database())
$$;

CREATE OR REPLACE FUNCTION @extschema@.verify_audit_anchors(anchors pg_catalog.text)
RETURNS TABLE (line pg_catalog.int4, seq pg_catalog.int8, ok pg_catalog.bool, reason pg_catalog.text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	a record;
	v record;
	why pg_catalog.text;
BEGIN
	SELECT * INTO a FROM @extschema@._audit_anchor_lines(anchors) l ORDER BY l.seq DESC, l.line DESC LIMIT 1;
	IF NOT FOUND THEN
		RETURN QUERY SELECT 0, NULL::pg_catalog.int8, false,
			'no anchor of this database in the text given'::pg_catalog.text;
		RETURN;
	END IF;
	SELECT * INTO v FROM @extschema@.verify_audit_chain(a.seq, a.hash, a.mac, a.alg);
	RETURN QUERY SELECT 0, v.seq, v.ok, v.reason || COALESCE('; ' || v.warning, '');
	FOR a IN SELECT * FROM @extschema@._audit_anchor_lines(anchors) l ORDER BY l.line LOOP
		why := @extschema@._audit_anchor_check(a.seq, a.hash, a.mac, a.alg);
		RETURN QUERY SELECT a.line, a.seq, why IS NULL, COALESCE(why, 'anchor matches the trail');
	END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._hook_register(p_point pg_catalog.text, p_handler pg_catalog.text,
	p_layer pg_catalog.text, p_position pg_catalog.int4 DEFAULT 100)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	pt @extschema@.extension_point;
	fn pg_catalog.regprocedure;
BEGIN
	SELECT * INTO pt FROM @extschema@.extension_point WHERE point = p_point;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('no extension point %s', p_point), ERRCODE = 'undefined_object';
	END IF;
	fn := pg_catalog.to_regprocedure(pg_catalog.format('%I.%I(%s)', '@extschema@', p_handler,
		pt.arguments));
	IF fn IS NULL OR (SELECT p.prorettype FROM pg_catalog.pg_proc p WHERE p.oid = fn)
		OPERATOR(pg_catalog.<>) pg_catalog.to_regtype(pt.returns) THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('handler %s(%s) returning %s does not exist for extension point %s',
			p_handler, pt.arguments, pt.returns, p_point), ERRCODE = 'undefined_function';
	END IF;
	IF (SELECT l.rank FROM @extschema@.governance_layer l WHERE l.layer OPERATOR(pg_catalog.=) p_layer)
		OPERATOR(pg_catalog.<=) (SELECT l.rank FROM @extschema@.governance_layer l
								 WHERE l.layer OPERATOR(pg_catalog.=) pt.offered_by) THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('layer %s may not register at extension point %s of layer %s: handlers come from the layers above',
			p_layer, p_point, pt.offered_by), ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO @extschema@.extension_hook VALUES (p_point, p_handler, p_layer, p_position);
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._audit_recorded()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	h pg_catalog.text;
BEGIN
	-- a restore reloads old records: they are history, not new events
	IF @extschema@.audit_restoring() THEN
		RETURN NULL;
	END IF;
	-- a failing handler must not make the writer fail the other sessions'
	-- records of its batch: its error is logged and the record stands
	FOR h IN SELECT @extschema@._hook_handlers('audit_recorded') LOOP
		BEGIN
			EXECUTE pg_catalog.format('SELECT %s($1)', h) USING NEW;
		EXCEPTION WHEN OTHERS THEN
			RAISE WARNING USING MESSAGE = @extschema@._t('frt: audit_recorded handler %s failed on record %s: %s', h, NEW.seq, SQLERRM);
		END;
	END LOOP;
	RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._alert(p_kind pg_catalog.text, p_purpose pg_catalog.text,
	p_subject pg_catalog.text, p_device pg_catalog.text, p_detail pg_catalog.jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@.audit_event('alert', p_kind, p_purpose, p_subject, p_device, NULL, NULL, p_detail);
	RAISE WARNING USING MESSAGE = @extschema@._t('frt alert %s: %s', p_kind, p_detail::pg_catalog.text);
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._caller_is_superuser()
RETURNS pg_catalog.bool
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN COALESCE((SELECT r.rolsuper FROM pg_catalog.pg_roles r
					 WHERE r.rolname OPERATOR(pg_catalog.=) @extschema@._caller()), false);
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._caller_processor()
RETURNS pg_catalog.text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_proc pg_catalog.text;
BEGIN
	IF @extschema@._caller_is_superuser() THEN
		RETURN NULL;
	END IF;
	SELECT l.processor INTO v_proc FROM @extschema@.processor_login l
	WHERE l.login OPERATOR(pg_catalog.=) @extschema@._caller();
	IF FOUND THEN
		RETURN v_proc;
	END IF;
	RETURN @extschema@._sole_processor();
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._sole_processor()
RETURNS pg_catalog.text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN (SELECT pg_catalog.min(p.name) FROM @extschema@.processor p
			HAVING pg_catalog.count(*) OPERATOR(pg_catalog.=) 1);
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._acting_processor()
RETURNS pg_catalog.text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF @extschema@._caller_is_superuser() THEN
		RETURN COALESCE(NULLIF(pg_catalog.current_setting('frt.processor', true), ''),
			(SELECT p.name FROM @extschema@.processor p ORDER BY p.registered_at, p.name LIMIT 1));
	END IF;
	RETURN @extschema@._caller_processor();
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._processor_visible(p_processor pg_catalog.text)
RETURNS pg_catalog.bool
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN @extschema@._caller_is_superuser()
		OR COALESCE(p_processor OPERATOR(pg_catalog.=) @extschema@._caller_processor(), false);
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._calendar_warn_days()
RETURNS pg_catalog.int4
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT 60 $$;

CREATE OR REPLACE FUNCTION @extschema@._calendar_load(p_data pg_catalog.text, p_shipped pg_catalog.bool)
RETURNS pg_catalog.int4
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	l pg_catalog.text;
	f pg_catalog.text[];
	v_line pg_catalog.int4 := 0;
	v_years pg_catalog.int4[] := '{}';
	v_skip pg_catalog.int4[] := '{}';
	v_year pg_catalog.int4;
	v_day pg_catalog.date;
	v_n pg_catalog.int4 := 0;
BEGIN
	IF p_data IS NULL THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('calendar data must not be null'), ERRCODE = 'null_value_not_allowed';
	END IF;
	FOR l IN SELECT pg_catalog.regexp_split_to_table(p_data, E'\n') LOOP
		v_line := v_line + 1;
		l := pg_catalog.rtrim(l, E' \r');
		CONTINUE WHEN pg_catalog.btrim(l) = '' OR pg_catalog.left(pg_catalog.btrim(l), 1) = '#';
		f := pg_catalog.string_to_array(l, E'\t');
		IF pg_catalog.cardinality(f) <> 3 OR pg_catalog.btrim(f[3]) = '' THEN
			RAISE EXCEPTION USING MESSAGE = @extschema@._t('calendar line %s: expected three tab-separated fields', v_line),
				ERRCODE = 'invalid_text_representation';
		END IF;
		IF f[1] = 'year' THEN
			IF f[2] !~ '^[0-9]{4}$' THEN
				RAISE EXCEPTION USING MESSAGE = @extschema@._t('calendar line %s: "%s" is not a year', v_line, f[2]),
					ERRCODE = 'invalid_text_representation';
			END IF;
			v_year := f[2]::pg_catalog.int4;
			v_years := v_years || v_year;
			IF EXISTS (SELECT 1 FROM @extschema@.calendar_year c WHERE c.year = v_year) AND p_shipped THEN
				v_skip := v_skip || v_year;
				CONTINUE;
			END IF;
			IF NOT p_shipped THEN
				DELETE FROM @extschema@.holiday h
				 WHERE h.day >= pg_catalog.make_date(v_year, 1, 1) AND h.day < pg_catalog.make_date(v_year + 1, 1, 1);
			END IF;
			INSERT INTO @extschema@.calendar_year AS c (year, source, shipped)
			VALUES (v_year, pg_catalog.btrim(f[3]), p_shipped)
			ON CONFLICT (year) DO UPDATE SET source = excluded.source, loaded_at = pg_catalog.now(),
				shipped = excluded.shipped;
			CONTINUE;
		END IF;
		BEGIN
			v_day := f[1]::pg_catalog.date;
		EXCEPTION WHEN OTHERS THEN
			RAISE EXCEPTION USING MESSAGE = @extschema@._t('calendar line %s: "%s" is not a date', v_line, f[1]),
				ERRCODE = 'invalid_text_representation';
		END;
		v_year := pg_catalog.date_part('year', v_day)::pg_catalog.int4;
		IF NOT v_year = ANY (v_years) THEN
			RAISE EXCEPTION USING MESSAGE = @extschema@._t('calendar line %s: %s comes before the line "year<TAB>%s<TAB>source"', v_line, v_day, v_year),
				ERRCODE = 'invalid_text_representation';
		END IF;
		IF f[2] NOT IN ('off', 'work') THEN
			RAISE EXCEPTION USING MESSAGE = @extschema@._t('calendar line %s: the kind must be off or work, not "%s"', v_line, f[2]),
				ERRCODE = 'invalid_text_representation';
		END IF;
		IF f[2] = 'work' AND pg_catalog.date_part('isodow', v_day) < 6 THEN
			RAISE EXCEPTION USING MESSAGE = @extschema@._t('calendar line %s: %s is a weekday: only a weekend day can be a make-up working day', v_line, v_day),
				ERRCODE = 'invalid_parameter_value';
		END IF;
		CONTINUE WHEN v_year = ANY (v_skip);
		INSERT INTO @extschema@.holiday (day, name, is_workday, shipped)
		VALUES (v_day, pg_catalog.btrim(f[3]), f[2] = 'work', p_shipped)
		ON CONFLICT (day) DO NOTHING;
		IF FOUND THEN
			v_n := v_n + 1;
		END IF;
	END LOOP;
	IF pg_catalog.cardinality(v_years) = 0 THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('calendar data names no year'), ERRCODE = 'invalid_text_representation',
			HINT = @extschema@._t('Each year starts with a line "year<TAB>YYYY<TAB>source" naming the State Council notice.');
	END IF;
	RETURN v_n;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.load_calendar(p_data pg_catalog.text)
RETURNS pg_catalog.int4
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n pg_catalog.int4;
BEGIN
	v_n := @extschema@._calendar_load(p_data, false);
	PERFORM @extschema@.audit_event('calendar', 'loaded', p_detail => pg_catalog.jsonb_build_object(
		'days', v_n, 'years', (SELECT pg_catalog.jsonb_agg(c.year ORDER BY c.year) FROM @extschema@.calendar_year c)));
	RETURN v_n;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.calendar_coverage(OUT first_year pg_catalog.int4, OUT last_year pg_catalog.int4,
	OUT covered_until pg_catalog.date, OUT days_left pg_catalog.int4, OUT sources pg_catalog.text)
RETURNS record
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	SELECT pg_catalog.min(c.year), pg_catalog.max(c.year),
		   pg_catalog.string_agg(c.year || ': ' || c.source, '; ' ORDER BY c.year)
	  INTO first_year, last_year, sources FROM @extschema@.calendar_year c;
	covered_until := pg_catalog.make_date(last_year, 12, 31);
	days_left := covered_until - @extschema@._filing_today();
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._calendar_covers(p_day pg_catalog.date)
RETURNS pg_catalog.bool
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT 1 FROM @extschema@.calendar_year c
				   WHERE c.year OPERATOR(pg_catalog.=) pg_catalog.date_part('year', p_day)::pg_catalog.int4);
$$;

CREATE OR REPLACE FUNCTION @extschema@._filing_count(p_delta pg_catalog.int8, p_processor pg_catalog.text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	INSERT INTO @extschema@.filing_state AS s (processor, stored_subjects, threshold_reached_on)
	VALUES (p_processor, GREATEST(p_delta, 0),
			CASE WHEN p_delta >= @extschema@._filing_threshold() THEN @extschema@._filing_today() END)
	ON CONFLICT (processor) DO UPDATE
	SET stored_subjects = GREATEST(s.stored_subjects + p_delta, 0),
		threshold_reached_on = COALESCE(s.threshold_reached_on,
			CASE WHEN s.stored_subjects + p_delta >= @extschema@._filing_threshold()
				 THEN @extschema@._filing_today() END);
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._face_store(p_subject pg_catalog.text, p_purpose pg_catalog.text,
	p_device pg_catalog.text, p_consent_id pg_catalog.int8, p_embedding @extschema@.face_embedding,
	p_minor pg_catalog.bool, p_expires_at pg_catalog.timestamptz)
RETURNS pg_catalog.int8
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_new_subject pg_catalog.bool;
	v_id pg_catalog.int8;
	v_sealed pg_catalog.bytea;
	v_proc pg_catalog.text := @extschema@._purpose_processor(p_purpose);
BEGIN
	-- serialise with other enrolments and erasures of this subject
	PERFORM 1 FROM @extschema@.subject WHERE processor = v_proc AND id = p_subject FOR NO KEY UPDATE;
	v_new_subject := NOT EXISTS (SELECT 1 FROM @extschema@.face WHERE processor = v_proc AND subject = p_subject);
	-- the id first: the ciphertext is bound to it
	v_id := pg_catalog.nextval('@extschema@.face_id_seq'::pg_catalog.regclass);
	v_sealed := @extschema@._face_seal(v_id, p_embedding);
	INSERT INTO @extschema@.face (id, subject, purpose, device, consent_id, embedding, minor,
								  expires_at, key_epoch)
	VALUES (v_id, p_subject, p_purpose, p_device, p_consent_id, v_sealed, p_minor, p_expires_at,
			@extschema@._sealed_epoch(v_sealed));
	IF v_new_subject THEN
		PERFORM @extschema@._filing_count(1, v_proc);
	END IF;
	RETURN v_id;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._face_similarity(p_subject pg_catalog.text, p_purpose pg_catalog.text,
	p_probe @extschema@.face_embedding)
RETURNS pg_catalog.float8
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- PL/pgSQL, not SQL: its plan is cached across calls (the 1:1 hot path)
	RETURN (SELECT pg_catalog.max(@extschema@.cosine_similarity(@extschema@._face_open(f.id, f.embedding),
																	p_probe))
			FROM @extschema@.face f
			WHERE f.subject = p_subject AND f.purpose = p_purpose
			  AND @extschema@._face_active(f.consent_id, f.expires_at));
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._face_nearest(p_purpose pg_catalog.text, p_probe @extschema@.face_embedding,
	p_max_distance pg_catalog.float8)
RETURNS TABLE (face_id pg_catalog.int8, subject pg_catalog.text, distance pg_catalog.float8)
LANGUAGE sql STABLE
AS $$
	SELECT f.id, f.subject, @extschema@._face_open(f.id, f.embedding) OPERATOR(@extschema@.<=>) p_probe
	FROM @extschema@.face f
	WHERE f.purpose OPERATOR(pg_catalog.=) p_purpose
	  AND f.expires_at OPERATOR(pg_catalog.>) pg_catalog.statement_timestamp()
	  -- a scalar sub-select, not EXISTS: it stays a per-row filter and is
	  -- never turned into a join that would stop the ordered index scan
	  AND (SELECT c.withdrawn_at IS NULL AND NOT c.needs_renotice AND c.separate
				  AND NOT c.condition_of_service AND (NOT f.minor OR c.given_by OPERATOR(pg_catalog.=) 'guardian')
		   FROM @extschema@.consent c WHERE c.id OPERATOR(pg_catalog.=) f.consent_id)
	  -- a minor's face only where the purpose processes minors (Art. 7)
	  AND (NOT f.minor OR (SELECT pp.minors_allowed FROM @extschema@.purpose pp
						   WHERE pp.name OPERATOR(pg_catalog.=) p_purpose))
	  AND (p_max_distance IS NULL OR @extschema@._face_open(f.id, f.embedding) OPERATOR(@extschema@.<=>) p_probe
		   OPERATOR(pg_catalog.<=) p_max_distance)
	ORDER BY @extschema@._face_open(f.id, f.embedding) OPERATOR(@extschema@.<=>) p_probe
$$;

CREATE OR REPLACE FUNCTION @extschema@._face_export(p_subject pg_catalog.text, p_purpose pg_catalog.text)
RETURNS TABLE (face_id pg_catalog.int8, embedding @extschema@.face_embedding,
	enrolled_at pg_catalog.timestamptz, expires_at pg_catalog.timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT s.id, @extschema@._face_open(s.id, s.embedding), s.enrolled_at, s.expires_at
	FROM (SELECT f.id, f.embedding, f.enrolled_at, f.expires_at
		  FROM @extschema@.face f
		  WHERE f.subject = p_subject AND f.purpose = p_purpose
			AND @extschema@._face_active(f.consent_id, f.expires_at)
		  ORDER BY f.id OFFSET 0) s;
$$;

CREATE OR REPLACE FUNCTION @extschema@._face_delete(p_ids pg_catalog.int8[], p_reason pg_catalog.text)
RETURNS pg_catalog.int8
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_procs pg_catalog.text[] := '{}';
	v_subjects pg_catalog.text[] := '{}';
	v_total pg_catalog.int8 := 0;
	r record;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM @extschema@.face f WHERE f.id = ANY (p_ids)) THEN
		RETURN 0;
	END IF;
	-- same lock order as enrolment: subject rows first (a subject is its
	-- processor and id)
	PERFORM 1 FROM @extschema@.subject s
	WHERE (s.processor, s.id) IN (SELECT f.processor, f.subject FROM @extschema@.face f WHERE f.id = ANY (p_ids))
		ORDER BY s.processor, s.id FOR NO KEY UPDATE;
	FOR r IN
		WITH d AS (DELETE FROM @extschema@.face f WHERE f.id = ANY (p_ids)
				   RETURNING f.processor, f.subject, f.purpose)
		SELECT d.processor, d.subject, d.purpose, pg_catalog.count(*) AS n FROM d GROUP BY 1, 2, 3
	LOOP
		v_total := v_total + r.n;
		v_procs := v_procs || r.processor;
		v_subjects := v_subjects || r.subject;
		PERFORM @extschema@.audit_event('erasure', 'erased', r.purpose, r.subject, NULL, NULL, NULL,
			pg_catalog.jsonb_build_object('faces', r.n, 'reason', p_reason));
	END LOOP;
	-- per processor, subjects whose last face this call deleted (rows a
	-- concurrent erasure deleted first were counted by that erasure)
	FOR r IN
		SELECT u.p, pg_catalog.count(DISTINCT u.s) AS n
		FROM ROWS FROM (pg_catalog.unnest(v_procs), pg_catalog.unnest(v_subjects)) AS u(p, s)
		WHERE NOT EXISTS (SELECT 1 FROM @extschema@.face f WHERE f.processor = u.p AND f.subject = u.s)
		GROUP BY u.p
	LOOP
		PERFORM @extschema@._filing_count(-r.n, r.p);
	END LOOP;
	RETURN v_total;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._face_purge(p_batch pg_catalog.int4 DEFAULT 10000)
RETURNS pg_catalog.int8
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_ids pg_catalog.int8[];
	v_n pg_catalog.int8;
	v_m pg_catalog.int8;
BEGIN
	IF p_batch IS NULL OR p_batch < 1 THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('batch size must be positive'), ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT pg_catalog.array_agg(f.id) INTO v_ids FROM (
		SELECT f.id FROM @extschema@.face f
		JOIN @extschema@.consent c ON c.id = f.consent_id
		WHERE c.withdrawn_at IS NOT NULL
		LIMIT p_batch) f;
	v_n := COALESCE(@extschema@._face_delete(v_ids, 'consent withdrawn'), 0);
	IF v_n < p_batch THEN
		SELECT pg_catalog.array_agg(f.id) INTO v_ids FROM (
			SELECT f.id FROM @extschema@.face f
			WHERE f.expires_at <= pg_catalog.statement_timestamp()
			LIMIT p_batch - v_n) f;
		v_m := COALESCE(@extschema@._face_delete(v_ids, 'retention ended'), 0);
		v_n := v_n + v_m;
	END IF;
	RETURN v_n;
END
$$;

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
	WHEN 'app_grant' THEN
		v_purpose := j->>'purpose';
		v_key := pg_catalog.jsonb_build_object('grantee', j->'grantee', 'operations', j->'operations');
	WHEN 'device_login' THEN
		v_device := j->>'device'; v_key := j->'grantee';
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
	-- with several processors, the record names the row's processor
	PERFORM @extschema@.audit_event(v_event, v_outcome, v_purpose, v_subject, v_device, NULL, NULL,
		@extschema@._tenant_detail(pg_catalog.jsonb_build_object('table', TG_TABLE_NAME, 'op', TG_OP,
			'key', v_key), CASE WHEN @extschema@._processor_count() > 1 THEN COALESCE(j->>'processor',
				CASE WHEN TG_TABLE_NAME = 'processor' THEN j->>'name' END,
				@extschema@._purpose_processor(v_purpose)) END));
	RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._purpose_defaults()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NEW.minor_retention IS NULL OR NEW.minor_retention > NEW.retention THEN
		NEW.minor_retention := NEW.retention;
	END IF;
	IF TG_OP = 'UPDATE' THEN
		IF NEW.name <> OLD.name THEN
			RAISE EXCEPTION USING MESSAGE = @extschema@._t('a purpose cannot be renamed; register a new purpose'),
				ERRCODE = 'feature_not_supported';
		END IF;
		NEW.changed_at := pg_catalog.now();
		NEW.created_at := OLD.created_at;
	END IF;
	RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._purpose_changed()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	-- the facts whose change is a change of purpose or method: what, how
	-- and how long, for whom, who processes it with which model and
	-- features, where its faces are kept
	c_facts CONSTANT pg_catalog.text[] := ARRAY['kind', 'description', 'method', 'retention',
		'minor_retention', 'serves_public_security', 'processor', 'model', 'dimension', 'storage',
		'storage_legal_basis', 'minors_allowed'];
	v_new pg_catalog.jsonb := pg_catalog.to_jsonb(NEW);
	v_old pg_catalog.jsonb := pg_catalog.to_jsonb(OLD);
	v_changed pg_catalog.text[];
BEGIN
	SELECT pg_catalog.array_agg(f.k ORDER BY f.n) INTO v_changed
	  FROM pg_catalog.unnest(c_facts) WITH ORDINALITY AS f(k, n)
	 WHERE v_new -> f.k IS DISTINCT FROM v_old -> f.k;
	IF v_changed IS NOT NULL THEN
		PERFORM @extschema@._void_assessments(NEW.name,
			'purpose changed: ' || pg_catalog.array_to_string(v_changed, ', '));
	END IF;
	-- any change: whether '1 month' is shorter than '31 days' depends on the
	-- calendar, not on interval comparison; the clamp only ever shortens
	IF NEW.retention IS DISTINCT FROM OLD.retention OR NEW.minor_retention IS DISTINCT FROM OLD.minor_retention THEN
		PERFORM @extschema@._face_clamp_expiry(NEW.name, NEW.retention, NEW.minor_retention);
	END IF;
	RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._notice_version()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_max pg_catalog.int4;
BEGIN
	IF TG_OP <> 'INSERT' THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('notices are kept as published; publish a new version instead'),
			ERRCODE = 'feature_not_supported';
	END IF;
	IF NEW.published_at > pg_catalog.now() THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('a notice takes effect when it is published; insert it then'),
			ERRCODE = 'invalid_parameter_value';
	END IF;
	-- serialise versioning per purpose
	PERFORM 1 FROM @extschema@.purpose WHERE name = NEW.purpose FOR NO KEY UPDATE;
	SELECT pg_catalog.max(version) INTO v_max FROM @extschema@.notice WHERE purpose = NEW.purpose;
	IF NEW.version IS NULL THEN
		NEW.version := COALESCE(v_max, 0) + 1;
	ELSIF NEW.version <= COALESCE(v_max, 0) THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('notice version %s of purpose %s is not newer than version %s', NEW.version,
			NEW.purpose, v_max), ERRCODE = 'unique_violation';
	END IF;
	RETURN NEW;
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
				@extschema@._t('the time of a consent is the server''s; given_at and renewed_at cannot be supplied'),
				'INSERT consent', NEW.purpose, NEW.subject, NULL,
				p_hint => @extschema@._t('Leave given_at to its default; keep the date written on a paper consent with the paper.'));
		END IF;
		IF TG_OP = 'UPDATE' AND NEW.renewed_at IS DISTINCT FROM OLD.renewed_at
		   AND NEW.renewed_at IS DISTINCT FROM pg_catalog.now() THEN
			PERFORM @extschema@._refuse('MF006', 6,
				@extschema@._t('the time of a consent is the server''s; renewed_at cannot be supplied'),
				'UPDATE consent', OLD.purpose, OLD.subject, NULL);
		END IF;
		IF TG_OP = 'INSERT' OR NEW.notice_version IS DISTINCT FROM OLD.notice_version
		   OR NEW.renewed_at IS DISTINCT FROM OLD.renewed_at THEN
			SELECT n.published_at INTO v_published FROM @extschema@.notice n
			 WHERE n.purpose = NEW.purpose AND n.version = NEW.notice_version;
			IF NOT FOUND THEN
				PERFORM @extschema@._refuse('MF005', 5, @extschema@._t(
					'purpose %L has no notice version %s; a consent cites the notice the person was given',
					NEW.purpose, NEW.notice_version), TG_OP || ' consent', NEW.purpose, NEW.subject, NULL);
			END IF;
			IF v_published > COALESCE(NEW.renewed_at, NEW.given_at) THEN
				PERFORM @extschema@._refuse('MF005', 5, @extschema@._t(
					'notice version %s of purpose %L was published after this consent was recorded; a consent cannot predate its notice',
					NEW.notice_version, NEW.purpose), TG_OP || ' consent', NEW.purpose, NEW.subject, NULL);
			END IF;
		END IF;
	END IF;
	IF TG_OP = 'UPDATE' THEN
		IF NEW.subject <> OLD.subject OR NEW.purpose <> OLD.purpose OR NEW.given_at <> OLD.given_at
		   OR NEW.id <> OLD.id THEN
			RAISE EXCEPTION USING MESSAGE = @extschema@._t('the subject, purpose and time of a consent cannot change'),
				ERRCODE = 'feature_not_supported';
		END IF;
		IF OLD.withdrawn_at IS NOT NULL AND NEW.withdrawn_at IS DISTINCT FROM OLD.withdrawn_at THEN
			PERFORM @extschema@._refuse('MF006', 6, @extschema@._t('a withdrawn consent stays withdrawn; record a new consent'),
				'UPDATE consent', OLD.purpose, OLD.subject, NULL);
		END IF;
		IF OLD.withdrawn_at IS NULL AND NEW.withdrawn_at IS NOT NULL THEN
			NEW.withdrawn_at := pg_catalog.clock_timestamp();	-- the true instant
		END IF;
		IF NEW.notice_version < OLD.notice_version THEN
			RAISE EXCEPTION USING MESSAGE = @extschema@._t('a consent cannot move to an older notice version'),
				ERRCODE = 'check_violation';
		END IF;
	END IF;
	IF EXISTS (SELECT 1 FROM @extschema@.notice n
			   WHERE n.purpose = NEW.purpose AND n.version > NEW.notice_version AND n.material_change) THEN
		NEW.needs_renotice := true;
	END IF;
	RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._face_refuse_terminated()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_on date;
BEGIN
	SELECT t.terminated_on INTO v_on FROM @extschema@.purpose_termination t WHERE t.purpose = NEW.purpose;
	IF FOUND THEN
		PERFORM @extschema@._refuse('MF004', 4, @extschema@._t(
			'purpose "%s" was terminated: no face processing for it', NEW.purpose),
			TG_OP || ' face', NEW.purpose, NEW.subject, NEW.device,
			p_detail => @extschema@._t('Terminated on %s.', v_on), p_cite_more => ', 15');
	END IF;
	RETURN NEW;
END;
$$;

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
	v_message pg_catalog.text := p_message OPERATOR(pg_catalog.||) @extschema@._cite(p_article, p_cite_more);
	v_article pg_catalog.text := 'Measures Art. ' || p_article;
	v_sqlstate pg_catalog.text := p_sqlstate;
BEGIN
	IF p_sqlstate IS NULL OR p_sqlstate !~ '^MF[0-9A-Z]{3}$' OR p_article IS NULL OR p_message IS NULL THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('frt._refuse: SQLSTATE %s, article %s is not a refusal of the Measures',
			COALESCE(p_sqlstate, 'NULL'), COALESCE(p_article::pg_catalog.text, 'NULL')),
			ERRCODE = 'internal_error';
	END IF;
	-- the record keeps the exact reason, masked or not, in English whatever
	-- the caller's lc_messages (_t_source: the English of a _t() message)
	-- (with several processors, the record names the caller's processor)
	PERFORM @extschema@.audit_event('refusal', 'refused', p_purpose, p_subject, p_device, NULL,
		p_sqlstate, @extschema@._tenant_detail(pg_catalog.jsonb_build_object('function', p_function,
			'article', p_article, 'reason', @extschema@._t_source(p_message))
		OPERATOR(pg_catalog.||) CASE WHEN p_masked THEN '{"masked": true}'::pg_catalog.jsonb
			ELSE '{}'::pg_catalog.jsonb END, @extschema@._record_processor(p_purpose)));
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

CREATE OR REPLACE FUNCTION @extschema@._reject(p_sqlstate pg_catalog.text, p_message pg_catalog.text,
	p_function pg_catalog.text, p_purpose pg_catalog.text, p_subject pg_catalog.text,
	p_device pg_catalog.text, p_hint pg_catalog.text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_sqlstate IS NULL OR p_sqlstate !~ '^[0-9A-Z]{5}$' OR pg_catalog.left(p_sqlstate, 2) = 'MF'
	   OR p_message IS NULL THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('frt._reject: SQLSTATE %s is not a rejection of input',
			COALESCE(p_sqlstate, 'NULL')), ERRCODE = 'internal_error';
	END IF;
	PERFORM @extschema@.audit_event('rejected', 'rejected', p_purpose, p_subject, p_device, NULL,
		p_sqlstate, @extschema@._tenant_detail(pg_catalog.jsonb_build_object('function', p_function,
			'reason', @extschema@._t_source(p_message)), @extschema@._record_processor(p_purpose)));
	IF p_hint IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = p_sqlstate, MESSAGE = p_message;
	ELSE
		RAISE EXCEPTION USING ERRCODE = p_sqlstate, MESSAGE = p_message, HINT = p_hint;
	END IF;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._caller()
RETURNS pg_catalog.name
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT COALESCE(NULLIF(pg_catalog.current_setting('role'), 'none'), SESSION_USER)::pg_catalog.name;
$$;

CREATE OR REPLACE FUNCTION @extschema@._caller_sees_reasons()
RETURNS pg_catalog.bool
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_role pg_catalog.name := @extschema@._caller();
BEGIN
	RETURN EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
				   WHERE r.rolname OPERATOR(pg_catalog.=) v_role AND r.rolsuper)
		OR pg_catalog.pg_has_role(v_role, 'frt_admin', 'MEMBER')
		OR pg_catalog.pg_has_role(v_role, 'frt_enroller', 'MEMBER');
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._check_processing(p_function pg_catalog.text, p_purpose pg_catalog.text,
	p_kind pg_catalog.text, p_device pg_catalog.text, p_subject pg_catalog.text)
RETURNS @extschema@.purpose
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p @extschema@.purpose;
	d @extschema@.device;
BEGIN
	-- several processors: only the caller's own purposes (MF160)
	PERFORM @extschema@._check_tenant(p_function, p_purpose, p_subject, p_device);
	SELECT * INTO p FROM @extschema@.purpose WHERE name = p_purpose;
	IF NOT FOUND THEN
		PERFORM @extschema@._refuse('MF004', 4, @extschema@._t('purpose %L is not registered', p_purpose),
			p_function, p_purpose, p_subject, p_device);
	END IF;
	-- a terminated purpose processes nothing more (Art. 4; its cancellation
	-- filing is due under Art. 15)
	IF EXISTS (SELECT 1 FROM @extschema@.purpose_termination t WHERE t.purpose = p_purpose) THEN
		PERFORM @extschema@._refuse('MF004', 4, @extschema@._t(
			'purpose %L has been terminated; its face processing has ended (Art. 15 cancellation filing)',
			p_purpose), p_function, p_purpose, p_subject, p_device);
	END IF;
	IF p_kind IS NOT NULL AND p.kind <> p_kind THEN
		PERFORM @extschema@._refuse('MF004', 4, @extschema@._t('purpose %L is registered for %s, not %s',
			p_purpose, p.kind, p_kind), p_function, p_purpose, p_subject, p_device);
	END IF;
	IF NOT EXISTS (SELECT 1 FROM @extschema@.processor pr
				   WHERE pr.name = p.processor OR p.processor IS NULL) THEN
		PERFORM @extschema@._refuse('MF005', 5, @extschema@._t('no personal information processor is registered'),
			p_function, p_purpose, p_subject, p_device);
	END IF;
	IF @extschema@.current_notice_version(p_purpose) IS NULL THEN
		PERFORM @extschema@._refuse('MF005', 5, @extschema@._t('purpose %L has no notice in force', p_purpose),
			p_function, p_purpose, p_subject, p_device);
	END IF;
	IF NOT @extschema@.has_current_assessment(p_purpose) THEN
		PERFORM @extschema@._refuse('MF009', 9, @extschema@._t(
			'purpose %L has no current impact assessment (none, expired, or voided by a change of purpose or method)',
			p_purpose), p_function, p_purpose, p_subject, p_device);
	END IF;
	-- Art. 9: re-assessed since the last major security incident touching it
	PERFORM @extschema@._check_incidents(p_purpose, p_function, p_subject, p_device);
	-- Art. 5: the notice in force states the purpose's facts as they are now
	PERFORM @extschema@._check_notice_facts(p, p_function, p_subject, p_device);
	IF p.kind = 'verification' AND p.alternative_method IS NULL THEN
		PERFORM @extschema@._refuse('MF010', 10, @extschema@._t(
			'verification purpose %L declares no non-face alternative', p_purpose),
			p_function, p_purpose, p_subject, p_device);
	END IF;
	SELECT * INTO d FROM @extschema@.device WHERE processor = p.processor AND name = p_device;
	IF NOT FOUND THEN
		PERFORM @extschema@._refuse('MF013', 13, @extschema@._t('device %L is not registered', p_device),
			p_function, p_purpose, p_subject, p_device);
	END IF;
	-- a device or purpose whose facts changed waits for a second admin's
	-- approval (Art. 14; src/registry/45_authz.sql)
	IF p.approved_at IS NULL OR d.approved_at IS NULL THEN
		PERFORM @extschema@._refuse('MF146', 14, CASE WHEN p.approved_at IS NULL
			THEN @extschema@._t('purpose %L was registered or changed and awaits approval by a second member of frt_admin', p_purpose)
			ELSE @extschema@._t('device %L was registered or changed and awaits approval by a second member of frt_admin', p_device) END,
			p_function, p_purpose, p_subject, p_device);
	END IF;
	IF d.location_type = 'private_space' THEN
		PERFORM @extschema@._refuse('MF013', 13, @extschema@._t(
			'device %L is inside a private space; face capture there is forbidden', p_device),
			p_function, p_purpose, p_subject, p_device);
	END IF;
	IF d.location_type = 'public_place' AND NOT p.serves_public_security THEN
		PERFORM @extschema@._refuse('MF013', 13, @extschema@._t(
			'device %L is in a public place but purpose %L does not serve public security', p_device, p_purpose),
			p_function, p_purpose, p_subject, p_device);
	END IF;
	IF d.location_type = 'public_place' AND (NOT d.signage OR d.capture_area IS NULL) THEN
		PERFORM @extschema@._refuse('MF013', 13, @extschema@._t(
			'public-place device %L has no prominent signage or no defined capture area', p_device),
			p_function, p_purpose, p_subject, p_device);
	END IF;
	RETURN p;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._check_consent(p_function pg_catalog.text, p_purpose pg_catalog.text,
	p_subject pg_catalog.text, p_device pg_catalog.text)
RETURNS @extschema@.consent
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	c @extschema@.consent;
	v_birth pg_catalog.date;
	-- a matcher verifying a subject learns only that it cannot be verified
	v_masked pg_catalog.bool := p_function OPERATOR(pg_catalog.=) 'verify'
		AND NOT @extschema@._caller_sees_reasons();
BEGIN
	SELECT s.birth_date INTO v_birth FROM @extschema@.subject s
	WHERE s.processor = @extschema@._purpose_processor(p_purpose) AND s.id = p_subject;
	SELECT * INTO c FROM @extschema@.consent
	WHERE subject = p_subject AND purpose = p_purpose AND withdrawn_at IS NULL;
	IF v_birth IS NULL THEN
		PERFORM @extschema@._refuse('MF006', 6, @extschema@._t(
			'subject %L is not registered, so has no separate, active consent for purpose %L', p_subject, p_purpose),
			p_function, p_purpose, p_subject, p_device, p_masked => v_masked);
	END IF;
	IF c.id IS NULL OR NOT c.separate THEN
		PERFORM @extschema@._refuse('MF006', 6, @extschema@._t(
			'subject %L has no separate, active consent for purpose %L', p_subject, p_purpose),
			p_function, p_purpose, p_subject, p_device, p_masked => v_masked);
	END IF;
	IF c.condition_of_service THEN
		PERFORM @extschema@._refuse('MF012', 12, @extschema@._t(
			'consent of subject %L for purpose %L was made a condition of service and is not valid',
			p_subject, p_purpose), p_function, p_purpose, p_subject, p_device, p_masked => v_masked);
	END IF;
	IF c.needs_renotice THEN
		PERFORM @extschema@._refuse('MF005', 5, @extschema@._t(
			'consent of subject %L for purpose %L was given under notice version %s; the changed notice must be given first',
			p_subject, p_purpose, c.notice_version), p_function, p_purpose, p_subject, p_device,
			p_masked => v_masked);
	END IF;
	-- Art. 7: a purpose processes subjects under 14 only when it says so
	IF @extschema@.is_minor(v_birth, p_purpose)
	   AND NOT (SELECT pp.minors_allowed FROM @extschema@.purpose pp WHERE pp.name = p_purpose) THEN
		PERFORM @extschema@._refuse('MF070', 7, @extschema@._t(
			'subject %L is under 14 and purpose %L does not process minors', p_subject, p_purpose),
			p_function, p_purpose, p_subject, p_device, p_masked => v_masked);
	END IF;
	IF @extschema@.is_minor(v_birth, p_purpose) AND c.given_by <> 'guardian' THEN
		PERFORM @extschema@._refuse('MF007', 7, @extschema@._t(
			'subject %L is under 14; consent must be given by a parent or guardian', p_subject),
			p_function, p_purpose, p_subject, p_device, p_masked => v_masked);
	END IF;
	RETURN c;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._require_read_committed(p_function pg_catalog.text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF pg_catalog.current_setting('transaction_isolation') <> 'read committed' THEN
		PERFORM @extschema@._reject('25000', @extschema@._t(
			'frt.%s must run at READ COMMITTED isolation, so that a consent withdrawn by another session takes effect at once (Measures Art. 6)',
			p_function), p_function, NULL, NULL, NULL);
	END IF;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._check_probe(p_purpose @extschema@.purpose, p_embedding @extschema@.face_embedding)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_ss pg_catalog.float8;
BEGIN
	IF p_embedding IS NULL THEN
		PERFORM @extschema@._reject('22004', @extschema@._t('embedding must not be NULL'), 'check_probe',
			p_purpose.name, NULL, NULL);
	END IF;
	IF p_purpose.dimension IS NOT NULL AND @extschema@.dims(p_embedding) <> p_purpose.dimension THEN
		PERFORM @extschema@._reject('22000', @extschema@._t('embedding has %s dimensions; purpose %s requires %s',
			@extschema@.dims(p_embedding), p_purpose.name, p_purpose.dimension), 'check_probe',
			p_purpose.name, NULL, NULL);
	END IF;
	SELECT sum(x * x) INTO v_ss FROM unnest(p_embedding::pg_catalog.float8[]) x;
	IF v_ss = 0 THEN
		PERFORM @extschema@._reject('22000', @extschema@._t('embedding has zero length: a face cannot be enrolled or matched with it'),
			'check_probe', p_purpose.name, NULL, NULL);
	END IF;
	-- FLT_MIN and FLT_MAX, the smallest normal and the largest float4
	IF NOT v_ss BETWEEN 1.1754943508222875e-38::pg_catalog.float8 AND 3.4028234663852886e38::pg_catalog.float8 THEN
		PERFORM @extschema@._reject('22003',
			@extschema@._t('embedding length is out of range: its squared length must be a normal number of type real'),
			'check_probe', p_purpose.name, NULL, NULL);
	END IF;
END
$$;

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
		PERFORM @extschema@._reject('22004', @extschema@._t('subject and purpose must not be NULL'), 'enroll',
			p_purpose, p_subject, p_device);
	END IF;
	-- several processors: only the caller's own purposes (MF160)
	PERFORM @extschema@._check_tenant('enroll', p_purpose, p_subject, p_device);
	PERFORM @extschema@._check_authorized('enroll', 'enrol', p_purpose, p_device);
	-- hold the purpose still: a concurrent change of its retention must
	-- either see this face (and clamp it) or be seen by it
	PERFORM 1 FROM @extschema@.purpose WHERE name = p_purpose FOR SHARE;
	-- and the subject: an erasure either finished before (no consent is
	-- left) or waits for this enrolment and then erases its face too
	PERFORM 1 FROM @extschema@.subject
	WHERE processor = @extschema@._purpose_processor(p_purpose) AND id = p_subject FOR NO KEY UPDATE;
	p := @extschema@._check_processing('enroll', p_purpose, NULL, p_device, p_subject);
	c := @extschema@._check_consent('enroll', p_purpose, p_subject, p_device);
	-- Art. 8: this database is central storage
	PERFORM @extschema@._check_central_storage(p, c, p_subject, p_device);
	PERFORM @extschema@._check_probe(p, p_embedding);
	SELECT @extschema@.is_minor(s.birth_date, p_purpose) INTO v_minor FROM @extschema@.subject s
	WHERE s.processor = p.processor AND s.id = p_subject;
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
		PERFORM @extschema@._reject('22008', @extschema@._t('requested retention is out of range'), 'enroll',
			p_purpose, p_subject, p_device);
	END;
	IF v_asked_end <= pg_catalog.now() OR v_limit_end <= pg_catalog.now() THEN
		PERFORM @extschema@._reject('22023', @extschema@._t('retention must be positive'), 'enroll',
			p_purpose, p_subject, p_device);
	END IF;
	IF v_asked_end > v_limit_end THEN
		PERFORM @extschema@._refuse('MF008', 8, CASE WHEN v_minor
			THEN @extschema@._t('requested retention %s exceeds the minor retention %s of purpose %L',
				p_retention, v_limit, p_purpose)
			ELSE @extschema@._t('requested retention %s exceeds the purpose retention %s of purpose %L',
				p_retention, v_limit, p_purpose) END,
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

CREATE OR REPLACE FUNCTION @extschema@.verify(p_subject pg_catalog.text, p_purpose pg_catalog.text,
	p_probe @extschema@.face_embedding, p_device pg_catalog.text,
	OUT matched pg_catalog.bool, OUT similarity pg_catalog.float8)
RETURNS record
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p @extschema@.purpose;
	v_seq pg_catalog.int8;
BEGIN
	IF p_subject IS NULL OR p_purpose IS NULL THEN
		PERFORM @extschema@._reject('22004', @extschema@._t('subject and purpose must not be NULL'), 'verify',
			p_purpose, p_subject, p_device);
	END IF;
	-- several processors: only the caller's own purposes (MF160), before the grant
	PERFORM @extschema@._check_tenant('verify', p_purpose, p_subject, p_device);
	PERFORM @extschema@._check_authorized('verify', 'verify', p_purpose, p_device);
	PERFORM @extschema@._require_read_committed('verify');
	p := @extschema@._check_processing('verify', p_purpose, 'verification', p_device, p_subject);
	PERFORM @extschema@._check_consent('verify', p_purpose, p_subject, p_device);
	PERFORM @extschema@._check_probe(p, p_probe);
	-- the before_match handlers (layers above) may refuse
	PERFORM @extschema@._before_match('verify', p_purpose, p_subject, p_device);
	similarity := @extschema@._face_similarity(p_subject, p_purpose, p_probe);
	-- no active face: for a matcher, the same error as the other reasons
	IF similarity IS NULL AND NOT @extschema@._caller_sees_reasons() THEN
		PERFORM @extschema@._refuse('MF006', 6, @extschema@._t(
			'subject %L has no active face for purpose %L', p_subject, p_purpose),
			'verify', p_purpose, p_subject, p_device, p_masked => true);
	END IF;
	-- the admit_results handlers (layers above) may refuse the answer,
	-- now that no concurrent call can slip past their limits
	IF similarity IS NOT NULL THEN
		PERFORM @extschema@._admit_results('verify', p_purpose, p_subject, p_device, 1);
	END IF;
	matched := COALESCE(similarity >= p.similarity_threshold, false);
	v_seq := @extschema@.audit_event('match', CASE WHEN similarity IS NULL THEN 'no_face'
		WHEN matched THEN 'matched' ELSE 'not_matched' END, p_purpose, p_subject, p_device, similarity,
		NULL, pg_catalog.jsonb_build_object('kind', 'verification', 'threshold', p.similarity_threshold,
			'disclosure', p.score_disclosure));
	IF similarity IS NOT NULL THEN
		PERFORM @extschema@._after_verify(p_purpose, p_subject, p_device, matched, v_seq);
	END IF;
	PERFORM @extschema@._after_match('verify', p_purpose, p_subject, p_device, v_seq);
	-- the caller sees the score only as finely as the purpose discloses it
	similarity := @extschema@._disclose(p, similarity);
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.identify(p_purpose pg_catalog.text, p_probe @extschema@.face_embedding,
	p_device pg_catalog.text, p_k pg_catalog.int4 DEFAULT 1, p_min_similarity pg_catalog.float8 DEFAULT NULL)
RETURNS TABLE (subject pg_catalog.text, similarity pg_catalog.float8)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p @extschema@.purpose;
	v_min pg_catalog.float8;
	v_seen pg_catalog.text[] := '{}';
	v_sims pg_catalog.float8[] := '{}';
	v_exact pg_catalog.text;
	v_limit pg_catalog.int8;
	v_rows pg_catalog.int8;
	v_past pg_catalog.bool;
	v_found pg_catalog.int8;
	v_admit pg_catalog.int8;
	v_seq pg_catalog.int8;
	r record;
BEGIN
	IF p_purpose IS NULL THEN
		PERFORM @extschema@._reject('22004', @extschema@._t('purpose must not be NULL'), 'identify', NULL, NULL, p_device);
	END IF;
	-- several processors: only the caller's own purposes (MF160), before the grant
	PERFORM @extschema@._check_tenant('identify', p_purpose, NULL, p_device);
	PERFORM @extschema@._check_authorized('identify', 'identify', p_purpose, p_device);
	PERFORM @extschema@._require_read_committed('identify');
	p := @extschema@._check_processing('identify', p_purpose, 'identification', p_device, NULL);
	PERFORM @extschema@._check_probe(p, p_probe);
	IF p_k IS NULL THEN
		PERFORM @extschema@._reject('22004', @extschema@._t('k must not be NULL'), 'identify', p_purpose, NULL, p_device);
	END IF;
	IF p_k < 1 THEN
		PERFORM @extschema@._reject('22023', @extschema@._t('k must be at least 1'), 'identify', p_purpose, NULL, p_device);
	END IF;
	v_min := COALESCE(p_min_similarity, p.similarity_threshold);
	IF v_min < -1 OR v_min > 1 OR v_min = 'NaN'::pg_catalog.float8 THEN
		PERFORM @extschema@._reject('22023', @extschema@._t('min_similarity must be between -1 and 1'), 'identify',
			p_purpose, NULL, p_device);
	END IF;
	-- no more subjects, and none less similar, than the purpose needs: a
	-- large k with a low floor would read the gallery out (Art. 14)
	IF p_k > p.max_k THEN
		PERFORM @extschema@._refuse('MF142', 14, @extschema@._t(
			'identification asks for %s subjects; purpose %L returns at most %s', p_k, p_purpose, p.max_k),
			'identify', p_purpose, NULL, p_device);
	END IF;
	IF v_min < p.similarity_threshold THEN
		PERFORM @extschema@._refuse('MF142', 14, @extschema@._t(
			'min_similarity %s is below the threshold %s of purpose %L', v_min, p.similarity_threshold,
			p_purpose), 'identify', p_purpose, NULL, p_device);
	END IF;
	-- the before_match handlers (layers above) may refuse
	PERFORM @extschema@._before_match('identify', p_purpose, NULL, p_device);
	-- the index (if any) must answer exactly, as an exhaustive search would
	v_exact := pg_catalog.current_setting('frt.exact', true);
	IF v_exact IS NOT NULL THEN
		PERFORM pg_catalog.set_config('frt.exact', 'on', true);
	END IF;
	-- Nearest faces first; a subject's first face is its best.  Read a
	-- LIMITed prefix (so the planner streams from an index) and widen it
	-- until it holds k distinct subjects, every candidate was read, or the
	-- faces have grown farther than the threshold: the rows come in
	-- distance order, so the scan stops there instead of reading the rest
	-- of the purpose's faces only to filter them out.
	v_limit := GREATEST(p_k * 4, 16);
	LOOP
		v_seen := '{}';
		v_sims := '{}';
		v_rows := 0;
		v_past := false;
		-- the purpose as a literal, so a per-purpose partial index
		-- (CREATE INDEX ... WHERE purpose = '...') is matched by the planner
		FOR r IN EXECUTE pg_catalog.format(
				'SELECT n.subject, n.distance FROM @extschema@._face_nearest(%L, $1, NULL) n LIMIT $2',
				p_purpose) USING p_probe, v_limit
		LOOP
			v_rows := v_rows + 1;
			IF NOT (r.distance <= 1 - v_min) THEN
				v_past := true;
				EXIT;
			END IF;
			CONTINUE WHEN r.subject = ANY (v_seen);
			v_seen := v_seen || r.subject;
			v_sims := v_sims || (1 - r.distance);
			EXIT WHEN pg_catalog.cardinality(v_seen) >= p_k;
		END LOOP;
		EXIT WHEN pg_catalog.cardinality(v_seen) >= p_k OR v_past OR v_rows < v_limit;
		v_limit := v_limit * 8;
	END LOOP;
	IF v_exact IS NOT NULL THEN
		PERFORM pg_catalog.set_config('frt.exact', v_exact, true);
	END IF;
	-- the admit_results handlers (layers above) may cut the answer down to
	-- what the caller may still receive, or refuse it
	v_found := pg_catalog.cardinality(v_seen);
	v_admit := @extschema@._admit_results('identify', p_purpose, NULL, p_device, v_found);
	IF v_admit < v_found THEN
		v_seen := v_seen[1:v_admit];
		v_sims := v_sims[1:v_admit];
	END IF;
	v_seq := @extschema@.audit_event('match', CASE WHEN pg_catalog.cardinality(v_seen) > 0
		THEN 'identified' ELSE 'not_identified' END, p_purpose, NULL, p_device,
		CASE WHEN pg_catalog.cardinality(v_sims) > 0 THEN v_sims[1] END, NULL,
		pg_catalog.jsonb_build_object('kind', 'identification', 'k', p_k, 'min_similarity', v_min,
			'subjects', pg_catalog.to_jsonb(v_seen), 'disclosure', p.score_disclosure)
		OPERATOR(pg_catalog.||) CASE WHEN v_admit < v_found
			THEN pg_catalog.jsonb_build_object('withheld', v_found - v_admit)
			ELSE '{}'::pg_catalog.jsonb END);
	PERFORM @extschema@._after_match('identify', p_purpose, NULL, p_device, v_seq);
	FOR i IN 1 .. COALESCE(pg_catalog.cardinality(v_seen), 0) LOOP
		subject := v_seen[i];
		similarity := @extschema@._disclose(p, v_sims[i]);
		RETURN NEXT;
	END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.register_subject(p_subject pg_catalog.text, p_birth_date pg_catalog.date)
RETURNS pg_catalog.text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_id pg_catalog.text;
	v_proc pg_catalog.text := @extschema@._acting_processor();
BEGIN
	-- the subject is the caller's processor's: ids are pseudonyms chosen
	-- by each processor, and another processor's "u1" is no conflict
	IF v_proc IS NULL THEN
		PERFORM @extschema@._refuse('MF161', 5,
			@extschema@._t('the caller acts for no personal information processor (several are registered; bind the login)'),
			'register_subject', NULL, p_subject, NULL);
	END IF;
	INSERT INTO @extschema@.subject (processor, id, birth_date) VALUES (v_proc, p_subject, p_birth_date)
	RETURNING id INTO v_id;
	RETURN v_id;
EXCEPTION WHEN integrity_constraint_violation OR data_exception THEN
	-- bad input (NULL, duplicate, impossible birth date): on record first
	PERFORM @extschema@._reject(SQLSTATE, SQLERRM, 'register_subject', NULL, p_subject, NULL);
	RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.give_consent(p_subject pg_catalog.text, p_purpose pg_catalog.text,
	p_given_by pg_catalog.text, p_obtained_how pg_catalog.text,
	p_guardian_ref pg_catalog.text DEFAULT NULL, p_transfer_consent pg_catalog.bool DEFAULT false,
	p_separate pg_catalog.bool DEFAULT true, p_condition_of_service pg_catalog.bool DEFAULT false,
	p_central_storage pg_catalog.bool DEFAULT false)
RETURNS pg_catalog.int8
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_version pg_catalog.int4;
	v_id pg_catalog.int8;
BEGIN
	-- several processors: only the caller's own purposes (MF160)
	PERFORM @extschema@._check_tenant('give_consent', p_purpose, p_subject, NULL);
	-- a consent is recorded by an application that enrols for the purpose
	PERFORM @extschema@._check_authorized('give_consent', 'enrol', p_purpose, NULL);
	IF NOT EXISTS (SELECT 1 FROM @extschema@.purpose WHERE name = p_purpose) THEN
		PERFORM @extschema@._refuse('MF004', 4, @extschema@._t('purpose %L is not registered', p_purpose),
			'give_consent', p_purpose, p_subject, NULL);
	END IF;
	-- the subject first, in the same lock order as erasure and enrolment
	PERFORM 1 FROM @extschema@.subject
	WHERE processor = @extschema@._purpose_processor(p_purpose) AND id = p_subject FOR KEY SHARE;
	IF NOT FOUND THEN
		PERFORM @extschema@._reject('P0002', @extschema@._t('subject %s is not registered', p_subject),
			'give_consent', p_purpose, p_subject, NULL);
	END IF;
	v_version := @extschema@.current_notice_version(p_purpose);
	IF v_version IS NULL THEN
		PERFORM @extschema@._refuse('MF005', 5, @extschema@._t(
			'purpose %L has no notice in force; consent cannot be informed', p_purpose),
			'give_consent', p_purpose, p_subject, NULL);
	END IF;
	UPDATE @extschema@.consent
	SET notice_version = v_version, needs_renotice = false, renewed_at = pg_catalog.now(),
		given_by = p_given_by, guardian_ref = p_guardian_ref, obtained_how = p_obtained_how,
		separate = p_separate, condition_of_service = p_condition_of_service,
		transfer_consent = p_transfer_consent, central_storage_consent = p_central_storage
	WHERE subject = p_subject AND purpose = p_purpose AND withdrawn_at IS NULL
	RETURNING id INTO v_id;
	IF v_id IS NULL THEN
		INSERT INTO @extschema@.consent (subject, purpose, notice_version, given_by, guardian_ref,
			obtained_how, separate, condition_of_service, transfer_consent, central_storage_consent)
		VALUES (p_subject, p_purpose, v_version, p_given_by, p_guardian_ref,
			p_obtained_how, p_separate, p_condition_of_service, p_transfer_consent, p_central_storage)
		RETURNING id INTO v_id;
	END IF;
	RETURN v_id;
EXCEPTION WHEN integrity_constraint_violation OR data_exception THEN
	-- bad input (given_by, obtained_how, guardian_ref...): on record first
	PERFORM @extschema@._reject(SQLSTATE, SQLERRM, 'give_consent', p_purpose, p_subject, NULL);
	RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.withdraw_consent(p_subject pg_catalog.text, p_purpose pg_catalog.text)
RETURNS pg_catalog.int8
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_ids pg_catalog.int8[];
	v_faces pg_catalog.int8;
	v_proc pg_catalog.text;
BEGIN
	-- several processors: the caller's own purpose, and its own subject
	IF p_purpose IS NOT NULL THEN
		PERFORM @extschema@._check_tenant('withdraw_consent', p_purpose, p_subject, NULL);
	END IF;
	v_proc := COALESCE(@extschema@._purpose_processor(p_purpose), @extschema@._acting_processor());
	IF NOT EXISTS (SELECT 1 FROM @extschema@.subject WHERE processor = v_proc AND id = p_subject) THEN
		PERFORM @extschema@._reject('P0002', @extschema@._t('subject %s is not registered', p_subject),
			'withdraw_consent', p_purpose, p_subject, NULL);
	END IF;
	WITH w AS (
		UPDATE @extschema@.consent SET withdrawn_at = pg_catalog.clock_timestamp()
		WHERE processor = v_proc AND subject = p_subject AND (purpose = p_purpose OR p_purpose IS NULL)
			AND withdrawn_at IS NULL
		RETURNING id)
	SELECT pg_catalog.array_agg(id) INTO v_ids FROM w;
	IF v_ids IS NULL THEN
		RAISE NOTICE USING MESSAGE = CASE WHEN p_purpose IS NULL
			THEN @extschema@._t('subject %s has no active consent for any purpose', p_subject)
			ELSE @extschema@._t('subject %s has no active consent for purpose %s', p_subject, p_purpose) END;
		RETURN 0;
	END IF;
	SELECT pg_catalog.count(*) INTO v_faces FROM @extschema@.face WHERE consent_id = ANY (v_ids);
	RETURN v_faces;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.erase_subject(p_subject pg_catalog.text)
RETURNS pg_catalog.int8
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_ids pg_catalog.int8[];
	v_n pg_catalog.int8;
	-- the caller's processor's subject (a superuser: frt.processor, or the sole one)
	v_proc pg_catalog.text := @extschema@._acting_processor();
BEGIN
	PERFORM 1 FROM @extschema@.subject WHERE processor = v_proc AND id = p_subject FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM @extschema@._reject('P0002', @extschema@._t('subject %s is not registered', p_subject),
			'erase_subject', NULL, p_subject, NULL);
	END IF;
	SELECT pg_catalog.array_agg(id) INTO v_ids FROM @extschema@.face
	WHERE processor = v_proc AND subject = p_subject;
	v_n := COALESCE(@extschema@._face_delete(v_ids, 'subject erased'), 0);
	DELETE FROM @extschema@.consent WHERE processor = v_proc AND subject = p_subject;
	DELETE FROM @extschema@.decline WHERE processor = v_proc AND subject = p_subject;
	DELETE FROM @extschema@.subject WHERE processor = v_proc AND id = p_subject;
	PERFORM @extschema@.audit_event('erasure', 'subject_erased', NULL, p_subject, NULL, NULL, NULL,
		@extschema@._tenant_detail(pg_catalog.jsonb_build_object('faces', v_n),
			@extschema@._record_processor(NULL)));
	RETURN v_n;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.export_faces(p_subject pg_catalog.text, p_purpose pg_catalog.text)
RETURNS TABLE (face_id pg_catalog.int8, embedding @extschema@.face_embedding,
	enrolled_at pg_catalog.timestamptz, expires_at pg_catalog.timestamptz)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	c @extschema@.consent;
	v_n pg_catalog.int8;
BEGIN
	-- several processors: only the caller's own purposes (MF160)
	PERFORM @extschema@._check_tenant('export_faces', p_purpose, p_subject, NULL);
	PERFORM @extschema@._check_authorized('export_faces', 'export', p_purpose, NULL);
	IF NOT EXISTS (SELECT 1 FROM @extschema@.purpose WHERE name = p_purpose) THEN
		PERFORM @extschema@._refuse('MF004', 4, @extschema@._t('purpose %L is not registered', p_purpose),
			'export_faces', p_purpose, p_subject, NULL);
	END IF;
	PERFORM @extschema@._require_read_committed('export_faces');
	c := @extschema@._check_consent('export_faces', p_purpose, p_subject, NULL);
	-- Art. 7: a minor's faces leave only with the guardian's transfer consent
	IF EXISTS (SELECT 1 FROM @extschema@.subject s
			   WHERE s.id = p_subject AND @extschema@.is_minor(s.birth_date, p_purpose))
	   AND (c.given_by <> 'guardian' OR NOT c.transfer_consent) THEN
		PERFORM @extschema@._refuse('MF071', 7, @extschema@._t(
			'subject %L is under 14; face data leaves only with the guardian''s transfer consent', p_subject),
			'export_faces', p_purpose, p_subject, NULL);
	END IF;
	IF NOT c.transfer_consent THEN
		PERFORM @extschema@._refuse('MF008', 8, @extschema@._t(
			'subject %L gave no separate consent to transfer face data for purpose %L', p_subject, p_purpose),
			'export_faces', p_purpose, p_subject, NULL);
	END IF;
	PERFORM @extschema@._before_export(p_purpose, p_subject);
	RETURN QUERY SELECT * FROM @extschema@._face_export(p_subject, p_purpose);
	GET DIAGNOSTICS v_n = ROW_COUNT;
	PERFORM @extschema@.audit_event('export', 'exported', p_purpose, p_subject, NULL, NULL, NULL,
		pg_catalog.jsonb_build_object('faces', v_n, 'consent_id', c.id));
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.record_decline(p_purpose pg_catalog.text, p_subject pg_catalog.text DEFAULT NULL,
	p_device pg_catalog.text DEFAULT NULL)
RETURNS pg_catalog.text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_alt pg_catalog.text;
BEGIN
	-- several processors: only the caller's own purposes (MF160)
	PERFORM @extschema@._check_tenant('record_decline', p_purpose, p_subject, p_device);
	SELECT alternative_method INTO v_alt FROM @extschema@.purpose WHERE name = p_purpose;
	IF NOT FOUND THEN
		PERFORM @extschema@._reject('P0002', @extschema@._t('purpose %s is not registered', p_purpose),
			'record_decline', p_purpose, p_subject, p_device);
	END IF;
	INSERT INTO @extschema@.decline (subject, purpose, device)
	VALUES (p_subject, p_purpose, CASE WHEN EXISTS (SELECT 1 FROM @extschema@.device d
		WHERE d.processor = @extschema@._purpose_processor(p_purpose) AND d.name = p_device) THEN p_device END);
	PERFORM @extschema@.audit_event('decline', 'alternative_offered', p_purpose, p_subject, p_device,
		NULL, NULL, NULL);
	RETURN v_alt;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.publish_notice(p_purpose pg_catalog.text, p_body pg_catalog.text,
	p_processing_method pg_catalog.text, p_retention_statement pg_catalog.text,
	p_necessity_and_impact pg_catalog.text, p_rights_procedure pg_catalog.text,
	p_accessibility pg_catalog.text DEFAULT NULL, p_material_change pg_catalog.bool DEFAULT true)
RETURNS pg_catalog.int4
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	-- several processors: only the caller's own purposes (MF160)
	SELECT @extschema@._check_tenant('publish_notice', p_purpose, NULL, NULL);
	INSERT INTO @extschema@.notice (purpose, version, body, processing_method, retention_statement,
		necessity_and_impact, rights_procedure, accessibility, material_change)
	VALUES (p_purpose, NULL, p_body, p_processing_method, p_retention_statement,
		p_necessity_and_impact, p_rights_procedure, p_accessibility, p_material_change)
	RETURNING version;
$$;

CREATE OR REPLACE FUNCTION @extschema@.void_assessment(p_purpose pg_catalog.text, p_reason pg_catalog.text)
RETURNS pg_catalog.int8
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n pg_catalog.int8;
BEGIN
	IF p_reason IS NULL OR pg_catalog.btrim(p_reason) = '' THEN
		PERFORM @extschema@._reject('22004', @extschema@._t('a reason is required'), 'void_assessment', p_purpose, NULL, NULL);
	END IF;
	-- several processors: only the caller's own purposes (MF160)
	PERFORM @extschema@._check_tenant('void_assessment', p_purpose, NULL, NULL);
	IF NOT EXISTS (SELECT 1 FROM @extschema@.purpose WHERE name = p_purpose) THEN
		PERFORM @extschema@._reject('P0002', @extschema@._t('purpose %s is not registered', p_purpose),
			'void_assessment', p_purpose, NULL, NULL);
	END IF;
	v_n := @extschema@._void_assessments(p_purpose, p_reason);
	RETURN v_n;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.record_filing(p_filed_on pg_catalog.date, p_reference pg_catalog.text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_filed_on IS NULL OR p_reference IS NULL OR pg_catalog.btrim(p_reference) = '' THEN
		PERFORM @extschema@._reject('22004', @extschema@._t('filing date and reference are required'), 'record_filing',
			NULL, NULL, NULL);
	END IF;
	-- the caller's processor's filing (a superuser: frt.processor, or the sole one)
	IF @extschema@._acting_processor() IS NULL THEN
		PERFORM @extschema@._refuse('MF161', 15,
			@extschema@._t('the caller acts for no personal information processor (several are registered; bind the login)'),
			'record_filing', NULL, NULL, NULL);
	END IF;
	INSERT INTO @extschema@.filing_state AS s (processor, filed_on, filing_reference)
	VALUES (@extschema@._acting_processor(), p_filed_on, p_reference)
	ON CONFLICT (processor) DO UPDATE SET filed_on = p_filed_on, filing_reference = p_reference;
	PERFORM @extschema@.audit_event('registry', 'filing_recorded', NULL, NULL, NULL, NULL, NULL,
		@extschema@._tenant_detail(pg_catalog.jsonb_build_object('filed_on', p_filed_on,
			'reference', p_reference), @extschema@._record_processor(NULL)));
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._notice_facts(p @extschema@.purpose)
RETURNS pg_catalog.jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
SET intervalstyle = 'postgres'
AS $$
	SELECT pg_catalog.jsonb_build_object(
		'processor', p.processor, 'kind', p.kind, 'description', p.description,
		'method', p.method, 'model', p.model, 'dimension', p.dimension,
		'retention', p.retention::pg_catalog.text, 'minor_retention', p.minor_retention::pg_catalog.text,
		'minors_allowed', p.minors_allowed, 'serves_public_security', p.serves_public_security,
		'storage', p.storage, 'storage_legal_basis', p.storage_legal_basis);
$$;

CREATE OR REPLACE FUNCTION @extschema@._notice_stale_facts(p @extschema@.purpose)
RETURNS pg_catalog.text[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_stated pg_catalog.jsonb;
	v_now pg_catalog.jsonb;
	v_diff pg_catalog.text[];
BEGIN
	SELECT n.facts INTO v_stated FROM @extschema@.notice n
	 WHERE n.purpose = p.name ORDER BY n.version DESC LIMIT 1;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	v_now := @extschema@._notice_facts(p);
	IF v_now = v_stated THEN
		RETURN NULL;
	END IF;
	SELECT pg_catalog.array_agg(k ORDER BY k) INTO v_diff
	  FROM (SELECT pg_catalog.jsonb_object_keys(v_now) UNION SELECT pg_catalog.jsonb_object_keys(v_stated)) AS t(k)
	 WHERE v_now -> k IS DISTINCT FROM v_stated -> k;
	RETURN v_diff;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._check_notice_facts(p @extschema@.purpose, p_function pg_catalog.text,
	p_subject pg_catalog.text, p_device pg_catalog.text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_diff pg_catalog.text[] := @extschema@._notice_stale_facts(p);
BEGIN
	IF v_diff IS NOT NULL THEN
		PERFORM @extschema@._refuse('MF050', 5, @extschema@._t(
			'purpose %L changed facts its notice in force states (%s); publish a new notice version first',
			p.name, pg_catalog.array_to_string(v_diff, ', ')), p_function, p.name, p_subject, p_device);
	END IF;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._notice_facts_taken()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p @extschema@.purpose;
	v_prev pg_catalog.jsonb;
BEGIN
	IF @extschema@.audit_restoring() THEN
		RETURN NEW;
	END IF;
	-- serialise versions per purpose (as frt._notice_version does)
	SELECT * INTO p FROM @extschema@.purpose WHERE name = NEW.purpose FOR NO KEY UPDATE;
	IF NOT FOUND THEN
		RETURN NEW;		-- the foreign key rejects it
	END IF;
	IF NEW.accessibility IS NULL OR pg_catalog.btrim(NEW.accessibility) = '' THEN
		PERFORM @extschema@._refuse('MF051', 5, @extschema@._t(
			'a notice of purpose %L needs an accessibility statement for disabled and elderly people',
			NEW.purpose), 'publish_notice', NEW.purpose, NULL, NULL,
			p_hint => @extschema@._t('Say how the notice is given in accessible forms (large print, audio, assistance), as the national accessibility rules require.'));
	END IF;
	NEW.facts := @extschema@._notice_facts(p);
	SELECT n.facts INTO v_prev FROM @extschema@.notice n
	 WHERE n.purpose = NEW.purpose ORDER BY n.version DESC LIMIT 1;
	IF FOUND AND v_prev IS DISTINCT FROM NEW.facts THEN
		NEW.material_change := true;
	END IF;
	RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._check_central_storage(p @extschema@.purpose, c @extschema@.consent,
	p_subject pg_catalog.text, p_device pg_catalog.text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p.storage = 'device' THEN
		PERFORM @extschema@._refuse('MF080', 8, @extschema@._t(
			'purpose %L keeps faces on the recognition device; they are not stored in this database', p.name),
			'enroll', p.name, p_subject, p_device);
	END IF;
	IF p.storage_legal_basis IS NULL AND NOT c.central_storage_consent THEN
		PERFORM @extschema@._refuse('MF081', 8, @extschema@._t(
			'subject %L gave no separate consent to central storage for purpose %L, and the purpose records no legal basis for it',
			p_subject, p.name), 'enroll', p.name, p_subject, p_device,
			p_hint => @extschema@._t('Record the consent (frt.give_consent(..., p_central_storage => true)) or the law or administrative regulation on purpose.storage_legal_basis.'));
	END IF;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._subject_birth_fixed()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NEW.birth_date IS DISTINCT FROM OLD.birth_date
	   AND @extschema@.is_minor(NEW.birth_date) IS DISTINCT FROM @extschema@.is_minor(OLD.birth_date) THEN
		PERFORM @extschema@._refuse('MF072', 7, @extschema@._t(
			'the birth date of subject %L would change whether it is under 14; erase the subject and register it again',
			OLD.id), 'UPDATE subject', NULL, OLD.id, NULL);
	END IF;
	RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._app_operations()
RETURNS pg_catalog.text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT ARRAY['enrol', 'verify', 'identify', 'export']::pg_catalog.text[];
$$;

CREATE OR REPLACE FUNCTION @extschema@._is_superuser(p_role pg_catalog.name)
RETURNS pg_catalog.bool
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
				   WHERE r.rolname OPERATOR(pg_catalog.=) p_role AND r.rolsuper);
$$;

CREATE OR REPLACE FUNCTION @extschema@._check_authorized(p_function pg_catalog.text, p_operation pg_catalog.text,
	p_purpose pg_catalog.text, p_device pg_catalog.text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_role pg_catalog.name := @extschema@._caller();
BEGIN
	IF @extschema@._is_superuser(v_role) THEN
		RETURN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM @extschema@.app_grant g
				   JOIN pg_catalog.pg_roles r ON r.rolname = g.grantee
				   WHERE g.purpose = p_purpose AND p_operation = ANY (g.operations)
					 AND pg_catalog.pg_has_role(v_role, r.oid, 'MEMBER')) THEN
		PERFORM @extschema@._refuse('MF144', 14, @extschema@._t(
			'role %s is not authorized to %s for purpose %L', v_role, p_operation, p_purpose),
			p_function, p_purpose, NULL, p_device,
			p_hint => @extschema@._t('A member of frt_admin grants an application its purposes with frt.grant_application().'));
	END IF;
	IF p_device IS NOT NULL
	   AND NOT EXISTS (SELECT 1 FROM @extschema@.device_login b
					   JOIN pg_catalog.pg_roles r ON r.rolname = b.grantee
					   WHERE b.processor = @extschema@._purpose_processor(p_purpose) AND b.device = p_device
						 AND pg_catalog.pg_has_role(v_role, r.oid, 'MEMBER')) THEN
		PERFORM @extschema@._refuse('MF145', 14, @extschema@._t(
			'role %s is not bound to device %L', v_role, p_device),
			p_function, p_purpose, NULL, p_device,
			p_hint => @extschema@._t('A member of frt_admin binds an application to its devices with frt.bind_device().'));
	END IF;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.grant_application(p_grantee pg_catalog.name, p_purpose pg_catalog.text,
	p_operations pg_catalog.text[])
RETURNS pg_catalog.text[]
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_ops pg_catalog.text[];
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = p_grantee) THEN
		PERFORM @extschema@._reject('42704', @extschema@._t('role %s does not exist', p_grantee),
			'grant_application', p_purpose, NULL, NULL);
	END IF;
	-- a login of another processor reads as no role
	IF EXISTS (SELECT 1 FROM @extschema@.processor_login l WHERE l.login = p_grantee
			   AND NOT @extschema@._processor_visible(l.processor)) THEN
		PERFORM @extschema@._reject('42704', @extschema@._t('role %s does not exist', p_grantee),
			'grant_application', p_purpose, NULL, NULL);
	END IF;
	-- another processor's purpose reads as not registered
	IF NOT EXISTS (SELECT 1 FROM @extschema@.purpose WHERE name = p_purpose
				   AND @extschema@._processor_visible(processor)) THEN
		PERFORM @extschema@._reject('P0002', @extschema@._t('purpose %s is not registered', p_purpose),
			'grant_application', p_purpose, NULL, NULL);
	END IF;
	IF p_operations IS NULL OR pg_catalog.cardinality(p_operations) = 0
	   OR NOT p_operations <@ @extschema@._app_operations()
	   OR pg_catalog.array_position(p_operations, NULL) IS NOT NULL THEN
		PERFORM @extschema@._reject('22023', @extschema@._t('operations must be some of %s',
			pg_catalog.array_to_string(@extschema@._app_operations(), ', ')),
			'grant_application', p_purpose, NULL, NULL);
	END IF;
	INSERT INTO @extschema@.app_grant AS g (grantee, purpose, operations, granted_by)
	VALUES (p_grantee, p_purpose, ARRAY(SELECT DISTINCT o FROM pg_catalog.unnest(p_operations) o ORDER BY o),
		@extschema@._caller())
	ON CONFLICT (grantee, purpose) DO UPDATE
	SET operations = ARRAY(SELECT DISTINCT o FROM pg_catalog.unnest(g.operations || EXCLUDED.operations) o ORDER BY o),
		granted_by = EXCLUDED.granted_by, granted_at = pg_catalog.now()
	RETURNING operations INTO v_ops;
	RETURN v_ops;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.revoke_application(p_grantee pg_catalog.name, p_purpose pg_catalog.text,
	p_operations pg_catalog.text[] DEFAULT NULL)
RETURNS pg_catalog.text[]
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_ops pg_catalog.text[];
BEGIN
	SELECT operations INTO v_ops FROM @extschema@.app_grant
	WHERE grantee = p_grantee AND purpose = p_purpose AND @extschema@._purpose_visible(purpose) FOR UPDATE;
	IF NOT FOUND THEN
		RETURN '{}';
	END IF;
	v_ops := ARRAY(SELECT o FROM pg_catalog.unnest(v_ops) o
				   WHERE p_operations IS NOT NULL AND o <> ALL (p_operations) ORDER BY o);
	IF pg_catalog.cardinality(v_ops) = 0 THEN
		DELETE FROM @extschema@.app_grant WHERE grantee = p_grantee AND purpose = p_purpose;
	ELSE
		UPDATE @extschema@.app_grant SET operations = v_ops, granted_by = @extschema@._caller(),
			granted_at = pg_catalog.now()
		WHERE grantee = p_grantee AND purpose = p_purpose;
	END IF;
	RETURN v_ops;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.bind_device(p_device pg_catalog.text, p_grantee pg_catalog.name)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = p_grantee) THEN
		PERFORM @extschema@._reject('42704', @extschema@._t('role %s does not exist', p_grantee),
			'bind_device', NULL, NULL, p_device);
	END IF;
	IF EXISTS (SELECT 1 FROM @extschema@.processor_login l WHERE l.login = p_grantee
			   AND NOT @extschema@._processor_visible(l.processor)) THEN
		PERFORM @extschema@._reject('42704', @extschema@._t('role %s does not exist', p_grantee),
			'bind_device', NULL, NULL, p_device);
	END IF;
	IF NOT EXISTS (SELECT 1 FROM @extschema@.device
				   WHERE processor = @extschema@._acting_processor() AND name = p_device) THEN
		PERFORM @extschema@._reject('P0002', @extschema@._t('device %s is not registered', p_device),
			'bind_device', NULL, NULL, p_device);
	END IF;
	INSERT INTO @extschema@.device_login (processor, device, grantee, bound_by)
	VALUES (@extschema@._acting_processor(), p_device, p_grantee, @extschema@._caller())
	ON CONFLICT (processor, device, grantee) DO NOTHING;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.unbind_device(p_device pg_catalog.text, p_grantee pg_catalog.name)
RETURNS pg_catalog.bool
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM @extschema@.device_login
	WHERE processor = @extschema@._acting_processor() AND device = p_device AND grantee = p_grantee;
	RETURN FOUND;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._approval_facts(p_table pg_catalog.text)
RETURNS pg_catalog.text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE p_table
		WHEN 'device' THEN ARRAY['location_type', 'signage', 'capture_area']
		WHEN 'purpose' THEN ARRAY['kind', 'description', 'method', 'retention', 'minor_retention',
			'processor', 'dimension', 'serves_public_security', 'alternative_method',
			'similarity_threshold', 'max_k', 'score_disclosure', 'model', 'minors_allowed', 'storage',
			'storage_legal_basis']
	END::pg_catalog.text[];
$$;

CREATE OR REPLACE FUNCTION @extschema@._approval_rules()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_caller pg_catalog.name := @extschema@._caller();
	v_old pg_catalog.jsonb;
	v_new pg_catalog.jsonb;
	f pg_catalog.text;
BEGIN
	IF TG_OP = 'INSERT' THEN
		-- reloading a dump: the rows keep their recorded approval
		IF @extschema@.audit_restoring() THEN
			RETURN NEW;
		END IF;
		NEW.changed_by := v_caller;
		NEW.approved_by := CASE WHEN @extschema@._is_superuser(v_caller) THEN v_caller END;
		NEW.approved_at := CASE WHEN NEW.approved_by IS NOT NULL THEN pg_catalog.now() END;
		RETURN NEW;
	END IF;
	v_old := pg_catalog.to_jsonb(OLD);
	v_new := pg_catalog.to_jsonb(NEW);
	FOREACH f IN ARRAY @extschema@._approval_facts(TG_TABLE_NAME) LOOP
		IF v_new->f IS DISTINCT FROM v_old->f THEN
			-- a superuser's change is approved by the superuser (who may
			-- approve anything); anyone else's waits for a second admin
			NEW.changed_by := v_caller;
			NEW.approved_by := CASE WHEN @extschema@._is_superuser(v_caller) THEN v_caller END;
			NEW.approved_at := CASE WHEN NEW.approved_by IS NOT NULL THEN pg_catalog.now() END;
			EXIT;
		END IF;
	END LOOP;
	RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._approve(p_table pg_catalog.text, p_name pg_catalog.text)
RETURNS pg_catalog.bool
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_caller pg_catalog.name := @extschema@._caller();
	v_fn pg_catalog.text := 'approve_' || p_table;
	v_purpose pg_catalog.text := CASE WHEN p_table = 'purpose' THEN p_name END;
	v_device pg_catalog.text := CASE WHEN p_table = 'device' THEN p_name END;
	v_changed_by pg_catalog.name;
	v_approved pg_catalog.timestamptz;
BEGIN
	IF p_table = 'device' THEN
		SELECT d.changed_by, d.approved_at INTO v_changed_by, v_approved
		FROM @extschema@.device d
		WHERE d.processor = @extschema@._acting_processor() AND d.name = p_name FOR UPDATE;
	ELSE
		SELECT p.changed_by, p.approved_at INTO v_changed_by, v_approved
		FROM @extschema@.purpose p
		WHERE p.name = p_name AND @extschema@._processor_visible(p.processor) FOR UPDATE;
	END IF;
	IF NOT FOUND THEN
		PERFORM @extschema@._reject('P0002', CASE WHEN p_table = 'device'
			THEN @extschema@._t('device %s is not registered', p_name)
			ELSE @extschema@._t('purpose %s is not registered', p_name) END,
			v_fn, v_purpose, NULL, v_device);
	END IF;
	IF v_approved IS NOT NULL THEN
		RETURN false;
	END IF;
	IF NOT @extschema@._is_superuser(v_caller) THEN
		IF NOT pg_catalog.pg_has_role(v_caller, 'frt_admin', 'MEMBER') THEN
			PERFORM @extschema@._refuse('MF147', 14, CASE WHEN p_table = 'device'
				THEN @extschema@._t('role %s is not a member of frt_admin and cannot approve device %L', v_caller, p_name)
				ELSE @extschema@._t('role %s is not a member of frt_admin and cannot approve purpose %L', v_caller, p_name) END,
				v_fn, v_purpose, NULL, v_device);
		END IF;
		-- four eyes: neither the caller nor the session's login made the
		-- change, nor is a member of the role that made it
		IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
				   WHERE r.rolname = v_changed_by
					 AND (pg_catalog.pg_has_role(v_caller, r.oid, 'MEMBER')
						  OR pg_catalog.pg_has_role(SESSION_USER, r.oid, 'MEMBER'))) THEN
			PERFORM @extschema@._refuse('MF147', 14, CASE WHEN p_table = 'device'
				THEN @extschema@._t('device %L was registered or changed by %s; another member of frt_admin must approve it',
					p_name, v_changed_by)
				ELSE @extschema@._t('purpose %L was registered or changed by %s; another member of frt_admin must approve it',
					p_name, v_changed_by) END, v_fn, v_purpose, NULL, v_device);
		END IF;
	END IF;
	IF p_table = 'device' THEN
		UPDATE @extschema@.device SET approved_by = v_caller, approved_at = pg_catalog.now()
		WHERE processor = @extschema@._acting_processor() AND name = p_name;
	ELSE
		UPDATE @extschema@.purpose SET approved_by = v_caller, approved_at = pg_catalog.now() WHERE name = p_name;
	END IF;
	PERFORM @extschema@.audit_event('registry', 'approved', v_purpose, NULL, v_device, NULL, NULL,
		pg_catalog.jsonb_build_object('table', p_table, 'changed_by', v_changed_by, 'approved_by', v_caller));
	RETURN true;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.approve_device(p_device pg_catalog.text)
RETURNS pg_catalog.bool
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT @extschema@._approve('device', p_device);
$$;

CREATE OR REPLACE FUNCTION @extschema@.approve_purpose(p_purpose pg_catalog.text)
RETURNS pg_catalog.bool
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT @extschema@._approve('purpose', p_purpose);
$$;

CREATE OR REPLACE FUNCTION @extschema@._grant_registry_update()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	t pg_catalog.text;
	v_cols pg_catalog.text;
BEGIN
	FOREACH t IN ARRAY ARRAY['purpose', 'device'] LOOP
		SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO v_cols
		FROM pg_catalog.pg_attribute a
		WHERE a.attrelid = pg_catalog.format('@extschema@.%I', t)::pg_catalog.regclass
		  AND a.attnum > 0 AND NOT a.attisdropped
		  AND a.attname <> ALL (ARRAY['changed_by', 'approved_by', 'approved_at']::pg_catalog.name[]);
		EXECUTE pg_catalog.format('REVOKE UPDATE ON @extschema@.%I FROM frt_admin', t);
		EXECUTE pg_catalog.format('GRANT UPDATE (%s) ON @extschema@.%I TO frt_admin', v_cols, t);
	END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._authz_compliance()
RETURNS TABLE (article pg_catalog.text, check_name pg_catalog.text, status pg_catalog.text,
	detail pg_catalog.text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_grants pg_catalog.int8;
	v_roles pg_catalog.int8;
	v_bindings pg_catalog.int8;
	v_pending pg_catalog.text;
	v_missing pg_catalog.text;
	v_broad pg_catalog.text;
BEGIN
	SELECT pg_catalog.count(*), pg_catalog.count(DISTINCT g.grantee) INTO v_grants, v_roles
	FROM @extschema@.app_grant g WHERE @extschema@._purpose_visible(g.purpose);
	SELECT pg_catalog.count(*) INTO v_bindings FROM @extschema@.device_login b
	WHERE @extschema@._processor_visible(b.processor);
	SELECT pg_catalog.string_agg(x, ', ' ORDER BY x) INTO v_pending
	FROM (SELECT 'purpose ' || p.name AS x FROM @extschema@.purpose p
		  WHERE p.approved_at IS NULL AND @extschema@._processor_visible(p.processor)
		  UNION ALL
		  SELECT 'device ' || d.name FROM @extschema@.device d
		  WHERE d.approved_at IS NULL AND @extschema@._processor_visible(d.processor)) u;
	SELECT pg_catalog.string_agg(DISTINCT r, ', ') INTO v_missing
	FROM (SELECT g.grantee::pg_catalog.text AS r FROM @extschema@.app_grant g
		  WHERE @extschema@._purpose_visible(g.purpose)
		  UNION ALL
		  SELECT b.grantee::pg_catalog.text FROM @extschema@.device_login b
		  WHERE @extschema@._processor_visible(b.processor)) u
	WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles a WHERE a.rolname = u.r);
	SELECT pg_catalog.string_agg(DISTINCT r, ', ') INTO v_broad
	FROM (SELECT g.grantee::pg_catalog.text AS r FROM @extschema@.app_grant g
		  WHERE @extschema@._purpose_visible(g.purpose)
		  UNION ALL
		  SELECT b.grantee::pg_catalog.text FROM @extschema@.device_login b
		  WHERE @extschema@._processor_visible(b.processor)) u
	WHERE u.r = ANY (ARRAY['frt_admin', 'frt_enroller', 'frt_matcher']);
	RETURN QUERY SELECT 'Art. 14', 'application_authorization',
		CASE WHEN v_pending IS NULL AND v_missing IS NULL AND v_broad IS NULL THEN 'ok' ELSE 'warning' END,
		pg_catalog.concat_ws('; ',
			@extschema@._t('%s grants to %s roles, %s device bindings', v_grants, v_roles, v_bindings),
			'awaiting approval by a second member of frt_admin: ' || v_pending,
			'granted or bound roles that do not exist: ' || v_missing,
			'granted or bound to frt_admin, frt_enroller or frt_matcher themselves (so to every member): ' || v_broad);
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._incident_rules()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	i @extschema@.security_incident;
BEGIN
	IF TG_OP <> 'INSERT' THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('the incident register is kept as recorded; record a new incident instead'),
			ERRCODE = 'feature_not_supported';
	END IF;
	IF TG_TABLE_NAME = 'security_incident_purpose' AND NOT @extschema@.audit_restoring() THEN
		SELECT * INTO i FROM @extschema@.security_incident WHERE id = NEW.incident;
		IF i.major THEN
			PERFORM @extschema@._void_assessments(NEW.purpose,
				pg_catalog.format('major security incident %s', i.id));
		END IF;
	END IF;
	RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.record_incident(p_description pg_catalog.text,
	p_purposes pg_catalog.text[] DEFAULT NULL, p_major pg_catalog.bool DEFAULT true,
	p_occurred_at pg_catalog.timestamptz DEFAULT NULL, p_alert_seq pg_catalog.int8 DEFAULT NULL)
RETURNS pg_catalog.int8
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_id pg_catalog.int8;
	v_unknown pg_catalog.text;
	v_super pg_catalog.bool := @extschema@._caller_is_superuser();
	v_proc pg_catalog.text := @extschema@._caller_processor();
BEGIN
	IF NOT v_super AND v_proc IS NULL THEN
		PERFORM @extschema@._reject('42501', @extschema@._t('the caller acts for no processor'), 'record_incident',
			NULL, NULL, NULL);
	END IF;
	IF p_description IS NULL OR pg_catalog.btrim(p_description) = '' OR p_major IS NULL THEN
		PERFORM @extschema@._reject('22004', @extschema@._t('an incident needs a description and whether it is major'),
			'record_incident', NULL, NULL, NULL);
	END IF;
	IF pg_catalog.cardinality(p_purposes) = 0 THEN
		PERFORM @extschema@._reject('22023', @extschema@._t('an incident touches at least one purpose (NULL: every purpose)'),
			'record_incident', NULL, NULL, NULL);
	END IF;
	SELECT pg_catalog.string_agg(u, ', ') INTO v_unknown FROM pg_catalog.unnest(p_purposes) u
	 WHERE NOT EXISTS (SELECT 1 FROM @extschema@.purpose p WHERE p.name = u
					   AND (v_super OR p.processor = v_proc));
	IF v_unknown IS NOT NULL THEN
		PERFORM @extschema@._reject('P0002', @extschema@._t('purpose %s is not registered', v_unknown),
			'record_incident', NULL, NULL, NULL);
	END IF;
	IF p_alert_seq IS NOT NULL AND NOT EXISTS (SELECT 1 FROM @extschema@.alert a WHERE a.seq = p_alert_seq) THEN
		PERFORM @extschema@._reject('P0002', @extschema@._t('audit record %s is not an alert', p_alert_seq),
			'record_incident', NULL, NULL, NULL);
	END IF;
	IF p_occurred_at > pg_catalog.now() THEN
		PERFORM @extschema@._reject('22008', @extschema@._t('an incident cannot occur in the future'), 'record_incident',
			NULL, NULL, NULL);
	END IF;
	IF v_super THEN
		-- a superuser's incident is the processor's when its purposes are one's
		SELECT pg_catalog.min(p.processor) INTO v_proc FROM @extschema@.purpose p
		 WHERE p_purposes IS NULL OR p.name = ANY (p_purposes)
		HAVING pg_catalog.count(DISTINCT p.processor) = 1;
	END IF;
	BEGIN
		INSERT INTO @extschema@.security_incident (occurred_at, recorded_by, major, description, alert_seq,
			processor)
		VALUES (COALESCE(p_occurred_at, pg_catalog.now()), @extschema@._caller(), p_major, p_description,
			p_alert_seq, v_proc)
		RETURNING id INTO v_id;
	EXCEPTION WHEN unique_violation THEN
		PERFORM @extschema@._reject('23505', @extschema@._t('alert %s already opened an incident', p_alert_seq),
			'record_incident', NULL, NULL, NULL);
	END;
	INSERT INTO @extschema@.security_incident_purpose (incident, purpose)
	-- NULL: every purpose of the caller's processor (a superuser: every one)
	SELECT v_id, p.name FROM @extschema@.purpose p
	 WHERE (p_purposes IS NULL OR p.name = ANY (p_purposes)) AND (v_super OR p.processor = v_proc);
	RETURN v_id;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._check_incidents(p_purpose pg_catalog.text, p_function pg_catalog.text,
	p_subject pg_catalog.text, p_device pg_catalog.text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_id pg_catalog.int8;
BEGIN
	SELECT i.id INTO v_id FROM @extschema@.security_incident_purpose ip
	  JOIN @extschema@.security_incident i ON i.id = ip.incident
	 WHERE ip.purpose = p_purpose AND i.major
	   AND NOT EXISTS (SELECT 1 FROM @extschema@.assessment a
					   WHERE a.purpose = p_purpose AND a.voided_at IS NULL AND a.assessed_at >= i.recorded_at)
	 ORDER BY i.recorded_at DESC LIMIT 1;
	IF FOUND THEN
		PERFORM @extschema@._refuse('MF090', 9, @extschema@._t(
			'purpose %L has not been re-assessed since major security incident %s', p_purpose, v_id),
			p_function, p_purpose, p_subject, p_device);
	END IF;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.reassessment_due()
RETURNS TABLE (purpose pg_catalog.text, incident pg_catalog.int8, recorded_at pg_catalog.timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT DISTINCT ON (ip.purpose) ip.purpose, i.id, i.recorded_at
	  FROM @extschema@.security_incident_purpose ip
	  JOIN @extschema@.security_incident i ON i.id = ip.incident
	  JOIN @extschema@.purpose p ON p.name = ip.purpose
	 WHERE i.major AND @extschema@._processor_visible(p.processor)
	   AND NOT EXISTS (SELECT 1 FROM @extschema@.assessment a
					   WHERE a.purpose = ip.purpose AND a.voided_at IS NULL AND a.assessed_at >= i.recorded_at)
	 ORDER BY ip.purpose, i.recorded_at DESC, i.id DESC;
$$;

CREATE OR REPLACE FUNCTION @extschema@._articles_compliance()
RETURNS TABLE (article pg_catalog.text, check_name pg_catalog.text, status pg_catalog.text,
	detail pg_catalog.text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n pg_catalog.int8;
	m pg_catalog.int8;
	names pg_catalog.text;
BEGIN
	-- Art. 5: the notice in force states the facts as they are
	SELECT pg_catalog.count(*), pg_catalog.string_agg(pg_catalog.format('%s (%s)', p.name,
			pg_catalog.array_to_string(s.diff, ', ')), '; ' ORDER BY p.name) INTO n, names
	  FROM @extschema@.purpose p, LATERAL (SELECT @extschema@._notice_stale_facts(p) AS diff) s
	 WHERE s.diff IS NOT NULL AND @extschema@._processor_visible(p.processor);
	RETURN QUERY SELECT 'Art. 5', 'notice_states_facts', CASE WHEN n = 0 THEN 'ok' ELSE 'violation' END,
		CASE WHEN n = 0 THEN @extschema@._t('every notice in force states its purpose''s current facts')
		ELSE @extschema@._t('%s purposes changed facts their notice in force states (processing refused until a new version is published): %s', n, names) END;
	SELECT pg_catalog.count(*), pg_catalog.string_agg(n2.purpose, ', ' ORDER BY n2.purpose) INTO n, names
	  FROM (SELECT DISTINCT ON (x.purpose) x.purpose, x.accessibility FROM @extschema@.notice x
			 WHERE @extschema@._purpose_visible(x.purpose)
			 ORDER BY x.purpose, x.version DESC) n2
	 WHERE n2.accessibility IS NULL OR pg_catalog.btrim(n2.accessibility) = '';
	RETURN QUERY SELECT 'Art. 5', 'notice_accessibility', CASE WHEN n = 0 THEN 'ok' ELSE 'warning' END,
		CASE WHEN n = 0 THEN @extschema@._t('every notice in force has an accessibility statement for disabled and elderly people')
		ELSE @extschema@._t('%s purposes whose notice in force has no accessibility statement (publish a new version): %s', n, names) END;

	-- Art. 7: minors per purpose; none where the purpose does not process them
	SELECT pg_catalog.string_agg(pg_catalog.format('%s: %s (%s)', p.name, COALESCE(k.minors, 0),
			CASE WHEN p.minors_allowed THEN @extschema@._t('allowed') ELSE @extschema@._t('not allowed') END), '; ' ORDER BY p.name),
		   pg_catalog.count(*) FILTER (WHERE NOT p.minors_allowed AND k.minors > 0)
	  INTO names, n
	  FROM @extschema@.purpose p
	  LEFT JOIN (SELECT f.purpose, pg_catalog.count(DISTINCT f.subject) AS minors FROM @extschema@.face f
				  JOIN @extschema@.subject s ON s.processor = f.processor AND s.id = f.subject
				 WHERE f.minor OR @extschema@.is_minor(s.birth_date, f.purpose)
				 GROUP BY f.purpose) k ON k.purpose = p.name
	 WHERE @extschema@._processor_visible(p.processor);
	RETURN QUERY SELECT 'Art. 7', 'minors_per_purpose', CASE WHEN COALESCE(n, 0) = 0 THEN 'info' ELSE 'violation' END,
		@extschema@._t('subjects whose faces were stored while under 14, per purpose: %s%s', COALESCE(names, @extschema@._t('no purpose')),
			CASE WHEN COALESCE(n, 0) > 0 THEN @extschema@._t('; %s purposes hold minors they do not process (their faces are not matched)', n) ELSE '' END);

	-- Art. 8: faces in this database need central storage allowed
	SELECT pg_catalog.count(*) FILTER (WHERE p.storage = 'device'),
		   pg_catalog.count(*) FILTER (WHERE p.storage = 'central' AND p.storage_legal_basis IS NULL
										 AND NOT c.central_storage_consent),
		   pg_catalog.string_agg(DISTINCT p.name, ', ')
	  INTO n, m, names
	  FROM @extschema@.face f JOIN @extschema@.purpose p ON p.name = f.purpose
	  JOIN @extschema@.consent c ON c.id = f.consent_id
	 WHERE (p.storage = 'device' OR (p.storage_legal_basis IS NULL AND NOT c.central_storage_consent))
	   AND @extschema@._processor_visible(f.processor);
	RETURN QUERY SELECT 'Art. 8', 'central_storage_basis',
		CASE WHEN n > 0 THEN 'violation' WHEN m > 0 THEN 'warning' ELSE 'ok' END,
		CASE WHEN n + m = 0 THEN @extschema@._t('every stored face has a legal basis or the subject''s separate consent to central storage')
		ELSE @extschema@._t('%s faces stored for device-storage purposes; %s faces stored centrally without a legal basis or central-storage consent (new enrolments refused): %s', n, m, names) END;

	-- Art. 9: re-assessment after a major security incident
	SELECT pg_catalog.count(*), pg_catalog.string_agg(@extschema@._t('%s (incident %s)', r.purpose, r.incident),
			', ' ORDER BY r.purpose) INTO n, names
	  FROM @extschema@.reassessment_due() r WHERE @extschema@._purpose_visible(r.purpose);
	RETURN QUERY SELECT 'Art. 9', 'reassessment_after_incident', CASE WHEN n = 0 THEN 'ok' ELSE 'violation' END,
		CASE WHEN n = 0 THEN @extschema@._t('every purpose touched by a major security incident was re-assessed since')
		ELSE @extschema@._t('%s purposes await re-assessment after a major security incident (processing refused): %s', n, names) END;
	SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE i.major) INTO n, m FROM @extschema@.security_incident i
	 WHERE @extschema@._processor_visible(i.processor)
		OR EXISTS (SELECT 1 FROM @extschema@.security_incident_purpose ip
				   WHERE ip.incident = i.id AND @extschema@._purpose_visible(ip.purpose));
	RETURN QUERY SELECT 'Art. 9', 'security_incidents', 'info',
		@extschema@._t('%s security incidents recorded (%s major); the register is kept as recorded', n, m);
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.working_days_after(p_day pg_catalog.date, p_n pg_catalog.int4)
RETURNS pg_catalog.date
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	d pg_catalog.date := p_day;
	left_ pg_catalog.int4 := p_n;
BEGIN
	IF p_day IS NULL OR p_n IS NULL THEN
		RETURN NULL;
	END IF;
	IF p_n < 0 OR p_n > 3650 THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('working days must be between 0 and 3650'), ERRCODE = 'invalid_parameter_value';
	END IF;
	WHILE left_ > 0 LOOP
		d := d + 1;
		IF @extschema@.is_working_day(d) THEN
			left_ := left_ - 1;
		END IF;
	END LOOP;
	RETURN d;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._filing_recount(p_processor pg_catalog.text)
RETURNS pg_catalog.int8
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
BEGIN
	LOCK TABLE @extschema@.filing_state IN EXCLUSIVE MODE;
	FOR r IN
		SELECT pr.name, (SELECT pg_catalog.count(DISTINCT f.subject) FROM @extschema@.face f
						 WHERE f.processor = pr.name) AS n,
			   (SELECT s.stored_subjects FROM @extschema@.filing_state s WHERE s.processor = pr.name) AS old
		FROM @extschema@.processor pr
	LOOP
		IF r.old IS NOT NULL OR r.n > 0 THEN
			PERFORM @extschema@._filing_count(r.n - COALESCE(r.old, 0), r.name);
		END IF;
	END LOOP;
	RETURN (SELECT pg_catalog.count(DISTINCT f.subject) FROM @extschema@.face f
			WHERE f.processor = p_processor);
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.filing_status(
	OUT stored_subjects pg_catalog.int8, OUT threshold pg_catalog.int8,
	OUT threshold_reached_on pg_catalog.date, OUT filing_deadline pg_catalog.date,
	OUT filed_on pg_catalog.date, OUT filing_reference pg_catalog.text, OUT status pg_catalog.text)
RETURNS record
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s @extschema@.filing_state;
BEGIN
	SELECT pg_catalog.count(DISTINCT f.subject) INTO stored_subjects FROM @extschema@.face f
	WHERE f.processor = @extschema@._acting_processor();
	threshold := @extschema@._filing_threshold();
	SELECT * INTO s FROM @extschema@.filing_state fs WHERE fs.processor = @extschema@._acting_processor();
	threshold_reached_on := s.threshold_reached_on;
	filing_deadline := @extschema@.working_days_after(s.threshold_reached_on, 30);
	filed_on := s.filed_on;
	filing_reference := s.filing_reference;
	status := CASE
		WHEN s.filed_on IS NOT NULL THEN 'filed'
		WHEN s.threshold_reached_on IS NULL AND stored_subjects >= threshold THEN 'due (date reached not recorded)'
		WHEN s.threshold_reached_on IS NULL THEN 'not required'
		WHEN @extschema@._filing_today() > filing_deadline THEN 'overdue'
		ELSE 'due' END;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.compliance_report()
RETURNS TABLE (article pg_catalog.text, check_name pg_catalog.text, status pg_catalog.text,
	detail pg_catalog.text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n pg_catalog.int8;
	m pg_catalog.int8;
	names pg_catalog.text;
	fs record;
	v_rls pg_catalog.bool;
	v_force pg_catalog.bool;
	v_prot record;
	v_alg pg_catalog.text;
	v_keys record;
	v_rotated pg_catalog.timestamptz;
	v_used pg_catalog.int8;
	v_lost pg_catalog.int8;
	h pg_catalog.text;
BEGIN
	-- Art. 4
	SELECT pg_catalog.count(*) INTO n FROM @extschema@.purpose p WHERE @extschema@._processor_visible(p.processor);
	RETURN QUERY SELECT 'Art. 4', 'purposes_registered', CASE WHEN n > 0 THEN 'ok' ELSE 'info' END,
		@extschema@._t('%s purposes registered; every consent, face and match references one', n);

	-- Art. 5
	SELECT pg_catalog.count(*) INTO n FROM @extschema@.processor pr WHERE @extschema@._processor_visible(pr.name);
	SELECT pg_catalog.count(*) INTO m FROM @extschema@.purpose p
	WHERE @extschema@._processor_visible(p.processor)
	  AND NOT EXISTS (SELECT 1 FROM @extschema@.processor pr WHERE pr.name = p.processor OR p.processor IS NULL);
	RETURN QUERY SELECT 'Art. 5', 'processor_registered', CASE WHEN m = 0 AND n > 0 THEN 'ok' ELSE 'violation' END,
		@extschema@._t('%s processors registered; %s purposes without one', n, m);
	SELECT pg_catalog.count(*), pg_catalog.string_agg(p.name, ', ' ORDER BY p.name) INTO n, names
	FROM @extschema@.purpose p WHERE @extschema@._processor_visible(p.processor) AND @extschema@.current_notice_version(p.name) IS NULL;
	RETURN QUERY SELECT 'Art. 5', 'notice_in_force', CASE WHEN n = 0 THEN 'ok' ELSE 'violation' END,
		CASE WHEN n = 0 THEN @extschema@._t('every purpose has a notice in force')
		ELSE @extschema@._t('%s purposes without a notice: %s', n, names) END;
	SELECT pg_catalog.count(*) INTO n FROM @extschema@.consent c
	WHERE @extschema@._processor_visible(c.processor) AND c.withdrawn_at IS NULL AND c.needs_renotice;
	RETURN QUERY SELECT 'Art. 5', 'renotice_pending', CASE WHEN n = 0 THEN 'ok' ELSE 'warning' END,
		@extschema@._t('%s active consents given under a materially changed notice await re-notice (processing them is refused)', n);

	-- Art. 6
	SELECT pg_catalog.count(*) INTO n FROM @extschema@.consent c
	WHERE @extschema@._processor_visible(c.processor) AND c.withdrawn_at IS NULL AND NOT c.separate;
	RETURN QUERY SELECT 'Art. 6', 'separate_consent', CASE WHEN n = 0 THEN 'ok' ELSE 'violation' END,
		@extschema@._t('%s active consents not given separately (processing them is refused)', n);
	SELECT pg_catalog.count(*) INTO n FROM @extschema@.face f JOIN @extschema@.consent c ON c.id = f.consent_id
	WHERE @extschema@._processor_visible(f.processor) AND c.withdrawn_at IS NOT NULL;
	RETURN QUERY SELECT 'Art. 6', 'withdrawn_awaiting_erasure', CASE WHEN n = 0 THEN 'ok' ELSE 'warning' END,
		@extschema@._t('%s faces of withdrawn consents await the purge (already invisible and unmatched)', n);

	-- Art. 7
	SELECT pg_catalog.count(*) INTO n FROM @extschema@.consent c JOIN @extschema@.subject s ON s.processor = c.processor AND s.id = c.subject
	WHERE @extschema@._processor_visible(c.processor) AND c.withdrawn_at IS NULL AND @extschema@.is_minor(s.birth_date, c.purpose) AND c.given_by <> 'guardian';
	RETURN QUERY SELECT 'Art. 7', 'minor_guardian_consent', CASE WHEN n = 0 THEN 'ok' ELSE 'violation' END,
		@extschema@._t('%s active consents of subjects under 14 not given by a parent or guardian (processing them is refused)', n);
	-- retention ends counted from the enrolment instant in the legal zone,
	-- as enrolment counts them (frt._legal_add)
	SELECT pg_catalog.count(*) INTO n FROM @extschema@.face f
	  JOIN (SELECT p.*, @extschema@._legal_zone(p.name) AS zone FROM @extschema@.purpose p OFFSET 0) p
		ON p.name = f.purpose
	WHERE @extschema@._processor_visible(f.processor) AND f.minor AND f.expires_at > @extschema@._legal_add(f.enrolled_at, p.minor_retention, p.zone);
	RETURN QUERY SELECT 'Art. 7', 'minor_retention', CASE WHEN n = 0 THEN 'ok' ELSE 'violation' END,
		@extschema@._t('%s faces of minors kept beyond their purpose''s minor retention', n);

	-- Art. 8
	SELECT pg_catalog.count(*),
		pg_catalog.count(*) FILTER (WHERE f.expires_at < pg_catalog.statement_timestamp() - '1 day'::pg_catalog.interval)
	INTO n, m FROM @extschema@.face f WHERE @extschema@._processor_visible(f.processor) AND f.expires_at <= pg_catalog.statement_timestamp();
	RETURN QUERY SELECT 'Art. 8', 'expired_not_purged',
		CASE WHEN m > 0 THEN 'violation' WHEN n > 0 THEN 'warning' ELSE 'ok' END,
		@extschema@._t('%s faces past retention not yet purged (%s for more than a day; all invisible and unmatched)', n, m);
	SELECT pg_catalog.count(*) INTO n FROM @extschema@.face f
	  JOIN (SELECT p.*, @extschema@._legal_zone(p.name) AS zone FROM @extschema@.purpose p OFFSET 0) p
		ON p.name = f.purpose
	WHERE @extschema@._processor_visible(f.processor) AND f.expires_at > @extschema@._legal_add(f.enrolled_at, p.retention, p.zone);
	RETURN QUERY SELECT 'Art. 8', 'retention_within_purpose', CASE WHEN n = 0 THEN 'ok' ELSE 'violation' END,
		@extschema@._t('%s faces with an expiry beyond their purpose''s retention', n);
	SELECT pg_catalog.count(*) INTO n FROM @extschema@.consent c WHERE @extschema@._processor_visible(c.processor) AND c.withdrawn_at IS NULL AND c.transfer_consent;
	RETURN QUERY SELECT 'Art. 8', 'transfer_consent', 'info',
		@extschema@._t('%s active consents include separate transfer consent; export without it is refused', n);

	-- Art. 9
	SELECT pg_catalog.count(*), pg_catalog.string_agg(p.name, ', ' ORDER BY p.name) INTO n, names
	FROM @extschema@.purpose p WHERE @extschema@._processor_visible(p.processor) AND NOT @extschema@.has_current_assessment(p.name);
	RETURN QUERY SELECT 'Art. 9', 'assessment_current', CASE WHEN n = 0 THEN 'ok' ELSE 'violation' END,
		CASE WHEN n = 0 THEN @extschema@._t('every purpose has a current impact assessment')
		ELSE @extschema@._t('%s purposes without a current impact assessment (processing refused): %s', n, names) END;
	SELECT pg_catalog.count(*) INTO n FROM @extschema@.assessment a
	WHERE @extschema@._purpose_visible(a.purpose) AND a.assessed_at < pg_catalog.now() - '3 years'::pg_catalog.interval;
	SELECT pg_catalog.count(*) INTO m FROM @extschema@.assessment a WHERE @extschema@._purpose_visible(a.purpose);
	RETURN QUERY SELECT 'Art. 9', 'assessment_records', 'info',
		@extschema@._t('%s assessment reports kept (%s older than 3 years); none can be deleted by frt roles', m, n);

	-- Art. 10
	SELECT pg_catalog.count(*), pg_catalog.string_agg(p.name, ', ' ORDER BY p.name) INTO n, names
	FROM @extschema@.purpose p WHERE @extschema@._processor_visible(p.processor) AND p.kind = 'verification' AND p.alternative_method IS NULL;
	RETURN QUERY SELECT 'Art. 10', 'verification_alternative', CASE WHEN n = 0 THEN 'ok' ELSE 'violation' END,
		CASE WHEN n = 0 THEN @extschema@._t('every verification purpose declares a non-face alternative')
		ELSE @extschema@._t('%s verification purposes without a non-face alternative (processing refused): %s', n, names) END;

	-- Art. 12
	SELECT pg_catalog.count(*) INTO n FROM @extschema@.consent c
	WHERE @extschema@._processor_visible(c.processor) AND c.withdrawn_at IS NULL AND c.condition_of_service;
	RETURN QUERY SELECT 'Art. 12', 'consent_not_coerced', CASE WHEN n = 0 THEN 'ok' ELSE 'violation' END,
		@extschema@._t('%s active consents recorded as a condition of service (processing them is refused)', n);

	-- Art. 13
	SELECT pg_catalog.count(*), pg_catalog.string_agg(d.name, ', ' ORDER BY d.name) INTO n, names
	FROM @extschema@.device d WHERE @extschema@._processor_visible(d.processor) AND d.location_type = 'private_space';
	RETURN QUERY SELECT 'Art. 13', 'private_space_devices', CASE WHEN n = 0 THEN 'ok' ELSE 'violation' END,
		CASE WHEN n = 0 THEN @extschema@._t('no device registered in a private space')
		ELSE @extschema@._t('%s devices registered in private spaces (capture refused): %s', n, names) END;
	SELECT pg_catalog.count(*), pg_catalog.string_agg(d.name, ', ' ORDER BY d.name) INTO n, names
	FROM @extschema@.device d WHERE @extschema@._processor_visible(d.processor) AND d.location_type = 'public_place' AND (NOT d.signage OR d.capture_area IS NULL);
	RETURN QUERY SELECT 'Art. 13', 'public_place_signage', CASE WHEN n = 0 THEN 'ok' ELSE 'violation' END,
		CASE WHEN n = 0 THEN @extschema@._t('every public-place device has signage and a capture area')
		ELSE @extschema@._t('%s public-place devices without signage or capture area (capture refused): %s', n, names) END;
	SELECT pg_catalog.count(*) INTO n FROM @extschema@.face f
	JOIN @extschema@.device d ON d.processor = f.processor AND d.name = f.device
	JOIN @extschema@.purpose p ON p.name = f.purpose
	WHERE @extschema@._processor_visible(f.processor) AND (d.location_type = 'private_space'
	   OR (d.location_type = 'public_place' AND NOT p.serves_public_security));
	RETURN QUERY SELECT 'Art. 13', 'faces_from_forbidden_devices', CASE WHEN n = 0 THEN 'ok' ELSE 'violation' END,
		@extschema@._t('%s stored faces captured by a private-space device or by a public-place device for a non-public-security purpose', n);

	-- Art. 14
	SELECT c.relrowsecurity, c.relforcerowsecurity INTO v_rls, v_force
	FROM pg_catalog.pg_class c WHERE c.oid = '@extschema@.face'::pg_catalog.regclass;
	RETURN QUERY SELECT 'Art. 14', 'face_row_security', CASE WHEN v_rls AND v_force THEN 'ok' ELSE 'violation' END,
		@extschema@._t('row-level security on frt.face: enabled=%s, forced=%s', v_rls, v_force);
	SELECT pg_catalog.count(*), pg_catalog.string_agg(r.rolname, ', ' ORDER BY r.rolname) INTO n, names
	FROM pg_catalog.pg_roles r
	WHERE NOT r.rolsuper AND NOT r.rolbypassrls
	  AND (r.rolcanlogin OR r.rolname LIKE 'frt\_%')
	  AND pg_catalog.has_column_privilege(r.oid, '@extschema@.face'::pg_catalog.regclass, 'embedding', 'SELECT');
	RETURN QUERY SELECT 'Art. 14', 'embedding_not_readable', CASE WHEN n = 0 THEN 'ok' ELSE 'violation' END,
		CASE WHEN n = 0 THEN @extschema@._t('no frt role or ordinary login role can SELECT frt.face.embedding; export_faces is the only path')
		ELSE @extschema@._t('%s frt or login roles can SELECT frt.face.embedding (directly, or via pg_read_all_data): %s', n, names) END;
	SELECT pg_catalog.count(*), pg_catalog.string_agg(r.rolname, ', ' ORDER BY r.rolname) INTO n, names
	FROM pg_catalog.pg_roles r WHERE (r.rolsuper OR r.rolbypassrls) AND r.rolcanlogin;
	RETURN QUERY SELECT 'Art. 14', 'trusted_boundary', 'info',
		@extschema@._t('%s login roles bypass row-level security (superuser or BYPASSRLS): %s', n, names);
	SELECT * INTO v_prot FROM @extschema@.audit_protection();
	-- the hash function of new records (frt.audit_hash), and whether it
	-- matches a choice of China's commercial cryptography for the faces
	v_alg := CASE pg_catalog.current_setting('frt.audit_hash', true) WHEN 'sm3' THEN 'SM3' ELSE 'SHA-256' END;
	RETURN QUERY SELECT 'Art. 14', 'audit_keyed', CASE WHEN v_prot.keyed THEN 'ok' ELSE 'warning' END,
		CASE WHEN v_prot.keyed THEN @extschema@._t('audit records are hashed with %s and signed (HMAC-%s) with a key loaded at server start (key id %s)', v_alg, v_alg, v_prot.key_id)
		ELSE @extschema@._t('the audit chain (%s) is unkeyed: set frt.audit_key_file or frt.audit_key_command, or a superuser who knows the hash formula can forge records', v_alg) END
		OPERATOR(pg_catalog.||) CASE WHEN pg_catalog.current_setting('frt.encryption_suite', true) OPERATOR(pg_catalog.=) 'sm4-sm3'
			AND v_alg OPERATOR(pg_catalog.<>) 'SM3'
			THEN @extschema@._t('; faces are sealed with sm4-sm3 but new audit records are hashed with SHA-256: set frt.audit_hash = ''sm3'' where SM algorithms are required (GB/T 39786)')
			ELSE '' END;
	RETURN QUERY SELECT 'Art. 14', 'audit_anchored',
		CASE WHEN v_prot.anchor_file OR v_prot.anchor_command THEN 'ok' ELSE 'warning' END,
		@extschema@._t('the chain head leaves the database every %s s: server log%s%s', v_prot.anchor_interval_s,
			CASE WHEN v_prot.anchor_file THEN @extschema@._t(', anchor file') ELSE '' END,
			CASE WHEN v_prot.anchor_command THEN @extschema@._t(', anchor command') ELSE @extschema@._t(' (no anchor file or command: set one, the log alone can be lost)') END);
	SELECT * INTO v_keys FROM @extschema@._key_status();
	-- this database's epochs (the keyring is the cluster's; any epoch opens)
	SELECT pg_catalog.count(*) FILTER (WHERE e.owner_db OPERATOR(pg_catalog.=) d.oid),
		   pg_catalog.max(e.created_at) FILTER (WHERE e.is_current)
	  INTO n, v_rotated FROM @extschema@._key_epochs() e,
		   pg_catalog.pg_database d WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database();
	SELECT pg_catalog.count(DISTINCT f.key_epoch),
		   pg_catalog.count(*) FILTER (WHERE f.key_epoch NOT IN (SELECT e.epoch FROM @extschema@._key_epochs() e))
	  INTO v_used, v_lost FROM @extschema@.face f WHERE @extschema@._processor_visible(f.processor);
	RETURN QUERY SELECT 'Art. 14', 'encryption_at_rest',
		CASE WHEN NOT COALESCE(v_keys.key_loaded, false) OR v_lost > 0 THEN 'violation' ELSE 'ok' END,
		CASE WHEN NOT COALESCE(v_keys.key_loaded, false)
			THEN @extschema@._t('no root key is loaded: set frt.encryption_key_file or frt.encryption_key_command and frt.encryption_keyring; enrolment and matching are refused')
		ELSE @extschema@._t('faces, index codes and centroids are sealed with %s; current key epoch %s (%s); %s epochs of this database in the keyring, %s in use by faces%s',
			v_keys.suite, COALESCE(v_keys.current_epoch::pg_catalog.text, @extschema@._t('none yet')),
			CASE WHEN v_rotated IS NULL THEN '-'
				ELSE @extschema@._t('created %s days ago', pg_catalog.floor(pg_catalog.date_part('epoch',
					pg_catalog.now() OPERATOR(pg_catalog.-) v_rotated) OPERATOR(pg_catalog./) 86400)::pg_catalog.int8) END, n, v_used,
			CASE WHEN v_lost > 0 THEN @extschema@._t('; %s faces are under an epoch missing from the keyring', v_lost) ELSE '' END) END;
	-- what each application may do, and changes awaiting approval (45_authz.sql)
	RETURN QUERY SELECT * FROM @extschema@._authz_compliance();
	-- Art. 5, 7, 8, 9: notice facts, minors, central storage, incidents
	RETURN QUERY SELECT * FROM @extschema@._articles_compliance();
	-- rows of the compliance_checks handlers (layers above)
	FOR h IN SELECT @extschema@._hook_handlers('compliance_checks') LOOP
		RETURN QUERY EXECUTE pg_catalog.format('SELECT * FROM %s()', h);
	END LOOP;

	-- Art. 15
	SELECT * INTO fs FROM @extschema@.filing_status();
	RETURN QUERY SELECT 'Art. 15', 'filing', CASE fs.status WHEN 'overdue' THEN 'violation'
		WHEN 'not required' THEN 'ok' WHEN 'filed' THEN 'ok' ELSE 'warning' END,
		@extschema@._t('%s subjects stored; threshold %s reached on %s; deadline %s; status %s',
			fs.stored_subjects, fs.threshold, COALESCE(fs.threshold_reached_on::pg_catalog.text, '-'),
			COALESCE(fs.filing_deadline::pg_catalog.text, '-'), fs.status);
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._face_index_record()
RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
BEGIN
	FOR r IN
		SELECT DISTINCT c.relname, am.amname
		FROM pg_catalog.pg_event_trigger_ddl_commands() cmd
		JOIN pg_catalog.pg_index i ON i.indexrelid = cmd.objid
		JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
		JOIN pg_catalog.pg_am am ON am.oid = c.relam
		JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attname = 'embedding'
		JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
			AND d.objid = c.oid AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
			AND d.refobjid = i.indrelid AND d.refobjsubid = a.attnum
		WHERE cmd.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
		  AND i.indrelid = '@extschema@.face'::pg_catalog.regclass
		  AND am.amname <> 'frt_ivf'
	LOOP
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('index "%s" on @extschema@.face reads the face column with access method "%s"', r.relname, r.amname),
			ERRCODE = 'feature_not_supported',
				  DETAIL = @extschema@._t('Only frt_ivf indexes seal what they store; any other index over the faces would keep them in clear on disk.'),
				  HINT = @extschema@._t('CREATE INDEX ... ON @extschema@.face USING frt_ivf (@extschema@._face_open(id, embedding) @extschema@.face_cosine_ops) WHERE purpose = ''...''');
	END LOOP;
	FOR r IN
		SELECT DISTINCT c.oid, c.relname
		FROM pg_catalog.pg_event_trigger_ddl_commands() cmd
		JOIN pg_catalog.pg_index i ON i.indexrelid = cmd.objid
		JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
		WHERE cmd.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
		  AND i.indrelid = '@extschema@.face'::pg_catalog.regclass
		  AND NOT cmd.in_extension	-- the extension's own, made by its scripts
		  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
						  WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
							AND d.objid = c.oid AND d.deptype = 'e')
	LOOP
		DELETE FROM @extschema@.face_index f WHERE f.relid = r.oid AND f.name <> r.relname;
		INSERT INTO @extschema@.face_index AS f (name, definition, relid)
		VALUES (r.relname, pg_catalog.pg_get_indexdef(r.oid), r.oid)
		ON CONFLICT (name) DO UPDATE
		SET definition = EXCLUDED.definition, relid = EXCLUDED.relid, recorded_at = pg_catalog.now();
	END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.restore_finish(OUT chain_ok pg_catalog.bool, OUT audit_records pg_catalog.int8,
	OUT indexes_created pg_catalog.int4, OUT restore_seq pg_catalog.int8, OUT reason pg_catalog.text)
RETURNS record
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	d record;
	v record;
	v_created pg_catalog.text[] := '{}';
BEGIN
	IF NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = session_user) THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('frt.restore_finish() must be run by a superuser'),
			ERRCODE = 'insufficient_privilege';
	END IF;
	SELECT * INTO v FROM @extschema@.verify_audit_chain();
	FOR d IN SELECT f.name, f.definition FROM @extschema@.face_index f ORDER BY f.name LOOP
		IF pg_catalog.to_regclass(pg_catalog.quote_ident('@extschema@') || '.'
								  || pg_catalog.quote_ident(d.name)) IS NULL THEN
			EXECUTE d.definition;
			v_created := v_created || d.name;
		END IF;
	END LOOP;
	chain_ok := v.ok;
	audit_records := v.checked;
	indexes_created := pg_catalog.cardinality(v_created);
	reason := v.reason;
	restore_seq := @extschema@.audit_event('restore',
		CASE WHEN v.ok THEN 'chain verified' ELSE 'chain broken' END, NULL, NULL, NULL, NULL, NULL,
		pg_catalog.jsonb_build_object('chain_ok', v.ok, 'records', v.checked, 'first_break', v.seq,
			'reason', v.reason, 'indexes_created', pg_catalog.to_jsonb(v_created)));
	IF NOT v.ok THEN
		RAISE WARNING USING MESSAGE = @extschema@._t('frt: the restored audit trail does not verify: %s', v.reason),
			HINT = @extschema@._t('Restore from another backup, or keep this database for the investigation; the break is recorded.');
	END IF;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._processor_count()
RETURNS pg_catalog.int8
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN (SELECT pg_catalog.count(*) FROM @extschema@.processor);
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._purpose_processor(p_purpose pg_catalog.text)
RETURNS pg_catalog.text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN (SELECT p.processor FROM @extschema@.purpose p WHERE p.name OPERATOR(pg_catalog.=) p_purpose);
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._purpose_visible(p_purpose pg_catalog.text)
RETURNS pg_catalog.bool
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN @extschema@._processor_visible(@extschema@._purpose_processor(p_purpose));
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._purpose_callers(p_purpose pg_catalog.text)
RETURNS pg_catalog.bool
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_owner pg_catalog.text := @extschema@._purpose_processor(p_purpose);
BEGIN
	IF @extschema@._caller_is_superuser() THEN
		RETURN true;
	END IF;
	IF v_owner IS NULL THEN
		RETURN @extschema@._processor_count() <= 1 AND @extschema@._caller_processor() IS NOT NULL;
	END IF;
	RETURN COALESCE(v_owner OPERATOR(pg_catalog.=) @extschema@._caller_processor(), false);
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._check_tenant(p_function pg_catalog.text, p_purpose pg_catalog.text,
	p_subject pg_catalog.text, p_device pg_catalog.text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT @extschema@._purpose_callers(p_purpose) THEN
		PERFORM @extschema@._refuse('MF160', 4, @extschema@._t(
			'purpose %L is not registered for the processor the caller acts for', p_purpose),
			p_function, NULL, p_subject, p_device);
	END IF;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._login_processor(p_login pg_catalog.text)
RETURNS pg_catalog.text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN COALESCE((SELECT l.processor FROM @extschema@.processor_login l
					 WHERE l.login OPERATOR(pg_catalog.=) p_login::pg_catalog.name),
		@extschema@._sole_processor());
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._role_visible(p_role pg_catalog.text)
RETURNS pg_catalog.bool
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF @extschema@._caller_is_superuser() THEN
		RETURN true;
	END IF;
	IF p_role OPERATOR(pg_catalog.=) '*' THEN
		RETURN @extschema@._processor_count() <= 1;
	END IF;
	RETURN COALESCE(@extschema@._login_processor(p_role) OPERATOR(pg_catalog.=) @extschema@._caller_processor(),
		false);
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._audit_visible(p_purpose pg_catalog.text, p_detail pg_catalog.jsonb,
	p_role pg_catalog.text)
RETURNS pg_catalog.bool
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_proc pg_catalog.text := COALESCE(p_detail OPERATOR(pg_catalog.->>) 'processor',
		@extschema@._purpose_processor(p_purpose),
		(SELECT l.processor FROM @extschema@.processor_login l
		 WHERE l.login OPERATOR(pg_catalog.=)
			COALESCE(p_detail OPERATOR(pg_catalog.#>>) '{origin,role}', p_role)::pg_catalog.name));
BEGIN
	IF @extschema@._caller_is_superuser() THEN
		RETURN true;
	END IF;
	IF v_proc IS NULL THEN
		RETURN @extschema@._processor_count() <= 1;
	END IF;
	RETURN COALESCE(v_proc OPERATOR(pg_catalog.=) @extschema@._caller_processor(), false);
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._tenant_detail(p_detail pg_catalog.jsonb, p_processor pg_catalog.text)
RETURNS pg_catalog.jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN p_processor IS NULL THEN p_detail
		ELSE COALESCE(p_detail, '{}'::pg_catalog.jsonb)
			OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('processor', p_processor) END;
$$;

CREATE OR REPLACE FUNCTION @extschema@._tenant_fill()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	NEW.processor := COALESCE(NEW.processor, @extschema@._purpose_processor(NEW.purpose));
	RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.processor_login(p_login pg_catalog.name, p_processor pg_catalog.text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT @extschema@._caller_is_superuser() THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('only a superuser binds logins to processors'), ERRCODE = 'insufficient_privilege';
	END IF;
	IF p_login IS NULL THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('login must not be NULL'), ERRCODE = 'null_value_not_allowed';
	END IF;
	IF p_processor IS NULL THEN
		DELETE FROM @extschema@.processor_login WHERE login = p_login;
	ELSE
		INSERT INTO @extschema@.processor_login (login, processor) VALUES (p_login, p_processor)
		ON CONFLICT (login) DO UPDATE SET processor = EXCLUDED.processor, bound_at = pg_catalog.now(),
			bound_by = pg_catalog.session_user();
	END IF;
	PERFORM @extschema@.audit_event('registry', 'processor_login', NULL, NULL, NULL, NULL, NULL,
		pg_catalog.jsonb_build_object('login', p_login, 'processor', p_processor));
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._record_processor(p_purpose pg_catalog.text)
RETURNS pg_catalog.text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF @extschema@._processor_count() <= 1 THEN
		RETURN NULL;
	END IF;
	RETURN COALESCE(@extschema@._acting_processor(), @extschema@._purpose_processor(p_purpose));
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._require_platform(p_function pg_catalog.text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT @extschema@._caller_is_superuser() AND @extschema@._processor_count() > 1 THEN
		PERFORM @extschema@._reject('42501', @extschema@._t(
			'frt.%s acts on the data of every processor in the database; with several processors only a superuser runs it',
			p_function), p_function, NULL, NULL, NULL);
	END IF;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._erasure_record(p_tid pg_catalog.tid, p_xmin pg_catalog.xid, cols pg_catalog.text[])
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_id int8 := cols[1]::int8;
	v_purpose text := cols[3];
	v_consent int8 := cols[4]::int8;
	v_minor bool := cols[5]::bool;
	v_enrolled timestamptz := cols[6]::timestamptz;
	v_expires timestamptz := cols[7]::timestamptz;
	v_withdrawn timestamptz;
	v_terminated date;
	v_limit timestamptz;
	v_adult_limit timestamptz;
	v_reason text;
	v_due timestamptz;
BEGIN
	SELECT c.withdrawn_at INTO v_withdrawn FROM @extschema@.consent c WHERE c.id = v_consent;
	SELECT t.terminated_on INTO v_terminated FROM @extschema@.purpose_termination t
	 WHERE t.purpose = v_purpose;
	-- retention ends: from the enrolment instant, the calendar counted in
	-- the purpose's legal time zone, as enrolment counts them
	SELECT @extschema@._legal_add(v_enrolled, CASE WHEN v_minor THEN COALESCE(p.minor_retention, p.retention)
			ELSE p.retention END, @extschema@._legal_zone(p.name)),
		   @extschema@._legal_add(v_enrolled, p.retention, @extschema@._legal_zone(p.name))
	  INTO v_limit, v_adult_limit FROM @extschema@.purpose p WHERE p.name = v_purpose;
	v_reason := CASE
		WHEN v_withdrawn IS NOT NULL THEN 'withdrawal'
		WHEN v_terminated IS NOT NULL THEN 'purpose_terminated'
		WHEN v_minor AND v_limit <= pg_catalog.now()
			AND v_limit < v_adult_limit
			THEN 'minor_retention'
		WHEN LEAST(v_expires, v_limit) <= pg_catalog.now() THEN 'retention'
		ELSE 'erasure' END;
	v_due := CASE v_reason
		WHEN 'withdrawal' THEN v_withdrawn
		WHEN 'purpose_terminated' THEN pg_catalog.timezone(@extschema@._legal_zone(v_purpose), v_terminated::pg_catalog.timestamp)
		WHEN 'retention' THEN LEAST(v_expires, v_limit)
		WHEN 'minor_retention' THEN LEAST(v_expires, v_limit)
		ELSE pg_catalog.now() END;
	INSERT INTO @extschema@.erasure_log (face_id, subject, purpose, reason, enrolled_at, due_at,
										 heap_tid, heap_xmin, key_epoch)
	VALUES (v_id, cols[2], v_purpose, v_reason, v_enrolled, v_due, p_tid, p_xmin, cols[8]::int8)
	ON CONFLICT (face_id) DO NOTHING;
END;
$$;

CREATE OR REPLACE FUNCTION @extschema@.purge(p_batch pg_catalog.int4 DEFAULT 10000,
	OUT retention pg_catalog.int8, OUT minor_retention pg_catalog.int8,
	OUT withdrawal pg_catalog.int8, OUT purpose_terminated pg_catalog.int8,
	OUT erasure pg_catalog.int8, OUT total pg_catalog.int8)
RETURNS record
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	ids int8[];
	n int8;
BEGIN
	-- several processors: installation-wide, the platform's (a superuser's)
	PERFORM @extschema@._require_platform('purge');
	IF p_batch IS NULL OR p_batch < 1 OR p_batch > 1000000 THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('batch size %s is out of range (1..1000000)', COALESCE(p_batch::pg_catalog.text, '<NULL>')),
			ERRCODE = 'invalid_parameter_value';
	END IF;
	-- Faces of terminated purposes, and faces whose purpose's current
	-- retention (minor_retention for minors) has ended even though their
	-- recorded expiry is later (retention shortened after enrolment).
	LOOP
		SELECT pg_catalog.array_agg(s.id) INTO ids FROM (
			SELECT f.id FROM @extschema@.face f
			  JOIN (SELECT p.*, @extschema@._legal_zone(p.name) AS zone
					  FROM @extschema@.purpose p OFFSET 0) p ON p.name = f.purpose
			 WHERE EXISTS (SELECT 1 FROM @extschema@.purpose_termination t WHERE t.purpose = f.purpose)
				OR @extschema@._legal_add(f.enrolled_at, CASE WHEN f.minor
						THEN COALESCE(p.minor_retention, p.retention) ELSE p.retention END, p.zone)
					<= pg_catalog.now()
			 LIMIT p_batch) s;
		EXIT WHEN ids IS NULL;
		PERFORM @extschema@._face_delete(ids, 'retention');
	END LOOP;
	-- Withdrawn consent and recorded expiry: the governance purge path.
	LOOP
		n := @extschema@._face_purge(p_batch);
		EXIT WHEN n IS NULL OR n = 0;
	END LOOP;

	-- Ledger rows are records of processing: kept 3 years after the
	-- erasure was complete (PIPL Art. 56, Measures Art. 9), then dropped.
	DELETE FROM @extschema@.erasure_log l
	 WHERE l.heap_erased_at < pg_catalog.now() - '3 years'::pg_catalog.interval;

	SELECT pg_catalog.count(*) FILTER (WHERE l.reason = 'retention'),
		   pg_catalog.count(*) FILTER (WHERE l.reason = 'minor_retention'),
		   pg_catalog.count(*) FILTER (WHERE l.reason = 'withdrawal'),
		   pg_catalog.count(*) FILTER (WHERE l.reason = 'purpose_terminated'),
		   pg_catalog.count(*) FILTER (WHERE l.reason = 'erasure'),
		   pg_catalog.count(*)
	  INTO retention, minor_retention, withdrawal, purpose_terminated, erasure, total
	  FROM @extschema@.erasure_log l
	 WHERE l.deleted_xact = pg_catalog.pg_current_xact_id();
	PERFORM @extschema@.audit_event('purge', 'ok', p_detail => pg_catalog.jsonb_build_object(
		'retention', retention, 'minor_retention', minor_retention, 'withdrawal', withdrawal,
		'purpose_terminated', purpose_terminated, 'erasure', erasure, 'total', total));
END;
$$;

CREATE OR REPLACE FUNCTION @extschema@.confirm_erasures(OUT index_confirmed pg_catalog.int8,
	OUT heap_confirmed pg_catalog.int8, OUT still_open pg_catalog.int8)
RETURNS record
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_ids int8[];
	v_states text[];
	g record;
BEGIN
	-- several processors: installation-wide, the platform's (a superuser's)
	PERFORM @extschema@._require_platform('confirm_erasures');
	-- Each open row's state, read once from its page (kept in variables:
	-- no temporary table a caller could have prepared).
	SELECT pg_catalog.array_agg(s.face_id), pg_catalog.array_agg(s.state) INTO v_ids, v_states
	  FROM (SELECT l.face_id,
				   @extschema@.heap_tid_state('@extschema@.face'::pg_catalog.regclass, l.heap_tid, l.heap_xmin) AS state
			  FROM @extschema@.erasure_log l
			 WHERE l.heap_erased_at IS NULL AND l.heap_tid IS NOT NULL) s;

	UPDATE @extschema@.erasure_log l SET index_erased_at = pg_catalog.now()
	  FROM ROWS FROM (pg_catalog.unnest(v_ids), pg_catalog.unnest(v_states)) AS c(face_id, state)
	 WHERE c.face_id = l.face_id AND c.state IN ('unscrubbed', 'erased') AND l.index_erased_at IS NULL;
	GET DIAGNOSTICS index_confirmed = ROW_COUNT;

	UPDATE @extschema@.erasure_log l SET heap_erased_at = pg_catalog.now(), heap_tid = NULL, heap_xmin = NULL
	  FROM ROWS FROM (pg_catalog.unnest(v_ids), pg_catalog.unnest(v_states)) AS c(face_id, state)
	 WHERE c.face_id = l.face_id AND c.state = 'erased';
	GET DIAGNOSTICS heap_confirmed = ROW_COUNT;

	FOR g IN
		SELECT l.subject, l.purpose, pg_catalog.array_agg(l.face_id ORDER BY l.face_id) AS faces,
			   pg_catalog.array_agg(DISTINCT l.reason) AS reasons
		  FROM @extschema@.erasure_log l
		  JOIN ROWS FROM (pg_catalog.unnest(v_ids), pg_catalog.unnest(v_states)) AS c(face_id, state)
			ON c.face_id = l.face_id AND c.state = 'erased'
		 GROUP BY l.subject, l.purpose
	LOOP
		PERFORM @extschema@.audit_event('erasure_confirmed', 'ok', g.purpose, g.subject,
			p_detail => pg_catalog.jsonb_build_object('faces', g.faces, 'reasons', g.reasons,
				'table', true, 'index', true, 'heap_files', true));
	END LOOP;

	SELECT pg_catalog.count(*) INTO still_open FROM @extschema@.erasure_log l WHERE l.heap_erased_at IS NULL;
END;
$$;

CREATE OR REPLACE FUNCTION @extschema@.scrub_faces()
RETURNS pg_catalog.jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s record;
	c record;
	result jsonb;
BEGIN
	-- several processors: installation-wide, the platform's (a superuser's)
	PERFORM @extschema@._require_platform('scrub_faces');
	SELECT * INTO s FROM @extschema@.scrub_heap('@extschema@.face'::pg_catalog.regclass);
	SELECT * INTO c FROM @extschema@.confirm_erasures();
	result := pg_catalog.jsonb_build_object('pages', s.pages, 'pages_scrubbed', s.pages_scrubbed,
		'bytes_zeroed', s.bytes_zeroed, 'tuples_pruned', s.tuples_pruned,
		'index_confirmed', c.index_confirmed, 'heap_confirmed', c.heap_confirmed,
		'still_open', c.still_open);
	PERFORM @extschema@.audit_event('scrub', 'ok', p_detail => result);
	RETURN result;
END;
$$;

CREATE OR REPLACE FUNCTION @extschema@.erasure_report(p_subject pg_catalog.text)
RETURNS TABLE (face_id pg_catalog.int8, purpose pg_catalog.text, status pg_catalog.text,
			   reason pg_catalog.text, enrolled_at pg_catalog.timestamptz,
			   due_at pg_catalog.timestamptz, deleted_at pg_catalog.timestamptz,
			   index_erased_at pg_catalog.timestamptz, heap_erased_at pg_catalog.timestamptz,
			   key_destroyed_at pg_catalog.timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_proc text;
BEGIN
	IF p_subject IS NULL THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('subject must not be null'), ERRCODE = 'null_value_not_allowed';
	END IF;
	-- the caller's processor's subject (a superuser: frt.processor, or the sole one)
	v_proc := @extschema@._acting_processor();
	RETURN QUERY
	SELECT f.id, f.purpose,
		   CASE WHEN due.reason IS NULL THEN 'stored' ELSE 'pending' END,
		   due.reason, f.enrolled_at, COALESCE(due.at, f.expires_at), NULL::timestamptz,
		   NULL::timestamptz, NULL::timestamptz, NULL::timestamptz
	  FROM @extschema@.face f
	  JOIN (SELECT p.*, @extschema@._legal_zone(p.name) AS zone
			  FROM @extschema@.purpose p OFFSET 0) p ON p.name = f.purpose
	  LEFT JOIN @extschema@.consent c ON c.id = f.consent_id
	  LEFT JOIN @extschema@.purpose_termination t ON t.purpose = f.purpose
	  CROSS JOIN LATERAL (SELECT
			CASE WHEN c.withdrawn_at IS NOT NULL THEN 'withdrawal'
				 WHEN t.purpose IS NOT NULL THEN 'purpose_terminated'
				 WHEN f.minor AND @extschema@._legal_add(f.enrolled_at, COALESCE(p.minor_retention, p.retention), p.zone)
						<= pg_catalog.now()
					AND @extschema@._legal_add(f.enrolled_at, COALESCE(p.minor_retention, p.retention), p.zone)
						< @extschema@._legal_add(f.enrolled_at, p.retention, p.zone)
					THEN 'minor_retention'
				 WHEN f.expires_at <= pg_catalog.now() THEN 'retention'
				 WHEN @extschema@._legal_add(f.enrolled_at, p.retention, p.zone) <= pg_catalog.now() THEN 'retention'
			END AS reason,
			CASE WHEN c.withdrawn_at IS NOT NULL THEN c.withdrawn_at
				 WHEN t.purpose IS NOT NULL THEN pg_catalog.timezone(p.zone, t.terminated_on::pg_catalog.timestamp)
				 ELSE LEAST(f.expires_at, @extschema@._legal_add(f.enrolled_at, CASE WHEN f.minor
					THEN COALESCE(p.minor_retention, p.retention) ELSE p.retention END, p.zone))
			END AS at) due
	 WHERE f.processor = v_proc AND f.subject = p_subject
	UNION ALL
	SELECT l.face_id, l.purpose,
		   CASE WHEN l.heap_erased_at IS NOT NULL THEN 'erased'
				ELSE CASE @extschema@.heap_tid_state('@extschema@.face'::pg_catalog.regclass,
													 l.heap_tid, l.heap_xmin)
					WHEN 'erased' THEN 'erased'
					WHEN 'unscrubbed' THEN 'erased_from_index'
					ELSE CASE WHEN l.index_erased_at IS NOT NULL THEN 'erased_from_index'
							  ELSE 'erased_from_table' END
				END
		   END,
		   l.reason, l.enrolled_at, l.due_at, l.deleted_at, l.index_erased_at, l.heap_erased_at,
		   l.key_destroyed_at
	  FROM @extschema@.erasure_log l
	 WHERE l.subject = p_subject AND @extschema@._purpose_processor(l.purpose) = v_proc
	ORDER BY 1;
END;
$$;

CREATE OR REPLACE FUNCTION @extschema@.terminate_purpose(p_purpose pg_catalog.text,
	p_terminated_on pg_catalog.date DEFAULT @extschema@._filing_today())
RETURNS pg_catalog.date
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	ids int8[];
	v_deadline date;
BEGIN
	IF p_purpose IS NULL OR p_terminated_on IS NULL THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('purpose and termination date must not be null'),
			ERRCODE = 'null_value_not_allowed';
	END IF;
	-- several processors: only the caller's own purposes (MF160)
	PERFORM @extschema@._check_tenant('terminate_purpose', p_purpose, NULL, NULL);
	IF NOT EXISTS (SELECT 1 FROM @extschema@.purpose p WHERE p.name = p_purpose) THEN
		PERFORM @extschema@._refuse('MF004', 4, @extschema@._t('purpose "%s" is not registered', p_purpose),
			'terminate_purpose', p_purpose, NULL, NULL);
	END IF;
	IF p_terminated_on > @extschema@._filing_today() THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('termination date %s is in the future', p_terminated_on),
			ERRCODE = 'invalid_parameter_value';
	END IF;
	IF EXISTS (SELECT 1 FROM @extschema@.purpose_termination t WHERE t.purpose = p_purpose) THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('purpose "%s" is already terminated', p_purpose), ERRCODE = 'unique_violation';
	END IF;
	INSERT INTO @extschema@.purpose_termination (purpose, terminated_on) VALUES (p_purpose, p_terminated_on);
	-- a cancellation filing only cancels a filing that was made (Art. 15)
	IF @extschema@._filing_filed((SELECT p.processor FROM @extschema@.purpose p WHERE p.name = p_purpose)) THEN
		v_deadline := @extschema@.open_filing('cancellation', p_purpose, p_terminated_on);
	END IF;
	SELECT pg_catalog.array_agg(f.id) INTO ids FROM @extschema@.face f WHERE f.purpose = p_purpose;
	IF ids IS NOT NULL THEN
		PERFORM @extschema@._face_delete(ids, 'purpose terminated');
	END IF;
	PERFORM @extschema@.audit_event('purpose_terminated', 'ok', p_purpose, p_detail =>
		pg_catalog.jsonb_build_object('terminated_on', p_terminated_on, 'faces_erased',
			COALESCE(pg_catalog.cardinality(ids), 0), 'cancellation_deadline', v_deadline));
	RETURN v_deadline;
END;
$$;

CREATE OR REPLACE FUNCTION @extschema@._key_sync()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	INSERT INTO @extschema@.key_epoch AS k (epoch, suite, created_at)
	SELECT e.epoch, e.suite, e.created_at FROM @extschema@._key_epochs() e
	 WHERE e.owner_db OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database d
			WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
	ON CONFLICT (epoch) DO NOTHING;
	UPDATE @extschema@.key_epoch k SET retired_at = pg_catalog.now()
	 WHERE k.retired_at IS NULL AND k.destroyed_at IS NULL
	   AND k.epoch OPERATOR(pg_catalog.<>) (SELECT e.epoch FROM @extschema@._key_epochs() e WHERE e.is_current);
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._face_ivf_indexes()
RETURNS SETOF pg_catalog.regclass
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT i.indexrelid::pg_catalog.regclass
	  FROM pg_catalog.pg_index i
	  JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
	  JOIN pg_catalog.pg_am am ON am.oid = c.relam
	 WHERE i.indrelid = '@extschema@.face'::pg_catalog.regclass AND am.amname = 'frt_ivf'
	   AND i.indisvalid
	 ORDER BY 1;
$$;

CREATE OR REPLACE FUNCTION @extschema@.key_rotate()
RETURNS pg_catalog.int8
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_prev pg_catalog.int8;
	v_new pg_catalog.int8;
BEGIN
	-- several processors: installation-wide, the platform's (a superuser's)
	PERFORM @extschema@._require_platform('key_rotate');
	v_prev := @extschema@._key_current_epoch();
	v_new := @extschema@._key_epoch_create();
	PERFORM @extschema@._key_sync();
	PERFORM @extschema@.audit_event('key_rotate', 'ok',
		p_detail => pg_catalog.jsonb_build_object('epoch', v_new, 'previous', v_prev,
			'suite', (SELECT k.suite FROM @extschema@.key_epoch k WHERE k.epoch = v_new)));
	RETURN v_new;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.key_reencrypt(p_batch pg_catalog.int4 DEFAULT 1000)
RETURNS pg_catalog.int8
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_cur pg_catalog.int8;
	v_done pg_catalog.int8;
BEGIN
	-- several processors: installation-wide, the platform's (a superuser's)
	PERFORM @extschema@._require_platform('key_reencrypt');
	IF p_batch IS NULL OR p_batch < 1 THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('batch must be a positive number of faces'), ERRCODE = 'invalid_parameter_value';
	END IF;
	v_cur := @extschema@._key_current_epoch();
	WITH b AS (
		SELECT f.id FROM @extschema@.face f
		 WHERE f.key_epoch OPERATOR(pg_catalog.<>) v_cur
		 ORDER BY f.key_epoch, f.id
		 LIMIT p_batch
		 FOR NO KEY UPDATE SKIP LOCKED),
	s AS (
		SELECT f.id, @extschema@._face_seal(f.id, @extschema@._face_open(f.id, f.embedding)) AS sealed
		  FROM @extschema@.face f JOIN b ON b.id = f.id)
	UPDATE @extschema@.face f SET embedding = s.sealed, key_epoch = @extschema@._sealed_epoch(s.sealed)
	  FROM s WHERE s.id = f.id;
	GET DIAGNOSTICS v_done = ROW_COUNT;
	IF v_done > 0 THEN
		PERFORM @extschema@.audit_event('key_reencrypt', 'ok',
			p_detail => pg_catalog.jsonb_build_object('epoch', v_cur, 'faces', v_done));
	END IF;
	RETURN v_done;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.key_reseal_indexes(p_batch pg_catalog.int8 DEFAULT 10000)
RETURNS pg_catalog.int8
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_idx pg_catalog.regclass;
	v_left pg_catalog.int8 := p_batch;
	v_n pg_catalog.int8;
BEGIN
	-- several processors: installation-wide, the platform's (a superuser's)
	PERFORM @extschema@._require_platform('key_reseal_indexes');
	IF p_batch IS NULL OR p_batch < 1 THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('batch must be a positive number of index entries'), ERRCODE = 'invalid_parameter_value';
	END IF;
	FOR v_idx IN SELECT * FROM @extschema@._face_ivf_indexes() LOOP
		EXIT WHEN v_left <= 0;
		v_n := @extschema@.ivf_reseal(v_idx, v_left);
		v_left := v_left - v_n;
	END LOOP;
	IF p_batch - v_left > 0 THEN
		PERFORM @extschema@.audit_event('key_reseal', 'ok',
			p_detail => pg_catalog.jsonb_build_object('epoch', @extschema@._key_current_epoch(),
				'index_entries', p_batch - v_left));
	END IF;
	RETURN p_batch - v_left;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.key_epochs()
RETURNS TABLE (epoch pg_catalog.int8, suite pg_catalog.text, state pg_catalog.text,
			   faces pg_catalog.int8, index_entries pg_catalog.int8,
			   created_at pg_catalog.timestamptz, retired_at pg_catalog.timestamptz,
			   destroyed_at pg_catalog.timestamptz)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_cur pg_catalog.int8;
	v_db pg_catalog.oid;
BEGIN
	PERFORM @extschema@._key_sync();
	v_db := (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database());
	v_cur := (SELECT e.epoch FROM @extschema@._key_epochs() e WHERE e.is_current);
	RETURN QUERY
	WITH f AS (SELECT x.key_epoch AS e, pg_catalog.count(*) AS n FROM @extschema@.face x GROUP BY 1),
	-- every frt_ivf index, also one not yet valid: a concurrent build
	-- writes its entries before the index becomes valid
	ix AS (SELECT x.indexrelid::pg_catalog.regclass AS ix
			FROM pg_catalog.pg_index x
			JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) x.indexrelid
			JOIN pg_catalog.pg_am am ON am.oid OPERATOR(pg_catalog.=) c.relam
		   WHERE x.indrelid OPERATOR(pg_catalog.=) '@extschema@.face'::pg_catalog.regclass
			 AND am.amname OPERATOR(pg_catalog.=) 'frt_ivf'),
	i AS (SELECT r.epoch AS e, pg_catalog.sum(r.items)::pg_catalog.int8 AS n
			FROM ix, LATERAL @extschema@.ivf_epochs(ix.ix) r GROUP BY 1),
	o AS (SELECT e.epoch AS e FROM @extschema@._key_epochs() e WHERE e.owner_db IS DISTINCT FROM v_db)
	SELECT k.epoch, k.suite,
		   CASE WHEN k.destroyed_at IS NOT NULL THEN 'destroyed'
				WHEN k.epoch = v_cur THEN 'current'
				WHEN o.e IS NOT NULL THEN 'foreign'
				WHEN COALESCE(f.n, 0) + COALESCE(i.n, 0) > 0 THEN 'retired'
				ELSE 'unused' END,
		   COALESCE(f.n, 0), COALESCE(i.n, 0), k.created_at, k.retired_at, k.destroyed_at
	  FROM @extschema@.key_epoch k
	  LEFT JOIN f ON f.e = k.epoch
	  LEFT JOIN i ON i.e = k.epoch
	  LEFT JOIN o ON o.e = k.epoch
	 ORDER BY k.epoch;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.key_destroy_unused()
RETURNS SETOF pg_catalog.int8
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	e record;
	v_erased pg_catalog.int8;
BEGIN
	-- several processors: installation-wide, the platform's (a superuser's)
	PERFORM @extschema@._require_platform('key_destroy_unused');
	IF pg_catalog.current_setting('transaction_isolation') OPERATOR(pg_catalog.<>) 'read committed' THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('key epochs are destroyed only in READ COMMITTED transactions'),
			ERRCODE = 'invalid_transaction_state',
				  DETAIL = @extschema@._t('A transaction snapshot taken before the destruction does not see faces sealed since.'),
				  HINT = @extschema@._t('Run it in a transaction of isolation level READ COMMITTED (SET default_transaction_isolation = ''read committed'').');
	END IF;
	PERFORM pg_catalog.pg_advisory_xact_lock(@extschema@._key_lock_id());
	FOR e IN SELECT * FROM @extschema@.key_epochs() k WHERE k.state = 'unused' LOOP
		UPDATE @extschema@.erasure_log l SET key_destroyed_at = pg_catalog.now()
		 WHERE l.key_epoch = e.epoch AND l.key_destroyed_at IS NULL;
		GET DIAGNOSTICS v_erased = ROW_COUNT;
		UPDATE @extschema@.key_epoch k SET destroyed_at = pg_catalog.now(),
			   destroyed_by = pg_catalog.session_user()
		 WHERE k.epoch = e.epoch;
		-- last: the keyring file cannot come back if what follows fails
		PERFORM @extschema@._key_epoch_destroy(e.epoch);
		PERFORM @extschema@.audit_event('key_destroyed', 'ok',
			p_detail => pg_catalog.jsonb_build_object('epoch', e.epoch, 'suite', e.suite,
				'erased_faces', v_erased));
		RETURN NEXT e.epoch;
	END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._key_rotation_step(p_batch pg_catalog.int4)
RETURNS pg_catalog.int8
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n pg_catalog.int8;
	v_cur pg_catalog.int8;
BEGIN
	-- several processors: installation-wide, the platform's (a superuser's)
	PERFORM @extschema@._require_platform('key_rotation_run');
	v_n := @extschema@.key_reencrypt(p_batch);
	IF v_n = 0 THEN
		v_n := @extschema@.key_reseal_indexes(p_batch::pg_catalog.int8 * 10);
	END IF;
	IF v_n = 0 THEN
		PERFORM @extschema@.key_destroy_unused();
		RETURN 0;
	END IF;
	v_cur := @extschema@._key_current_epoch();
	RAISE NOTICE USING MESSAGE = @extschema@._t('frt: key rotation to epoch %s: %s faces still under other epochs', v_cur,
		(SELECT pg_catalog.count(*) FROM @extschema@.face f WHERE f.key_epoch OPERATOR(pg_catalog.<>) v_cur));
	RETURN v_n;
END
$$;

CREATE OR REPLACE PROCEDURE @extschema@.key_rotation_run(p_batch pg_catalog.int4 DEFAULT 1000)
LANGUAGE plpgsql
AS $$
BEGIN
	LOOP
		COMMIT;
		EXIT WHEN @extschema@._key_rotation_step(p_batch) OPERATOR(pg_catalog.=) 0;
	END LOOP;
	COMMIT;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._filing_filed(p_processor pg_catalog.text DEFAULT NULL)
RETURNS pg_catalog.bool
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT 1 FROM @extschema@.filing_state s
				   WHERE s.processor OPERATOR(pg_catalog.=) COALESCE(p_processor, @extschema@._acting_processor())
					 AND s.filed_on IS NOT NULL);
$$;

CREATE OR REPLACE FUNCTION @extschema@.open_filing(p_kind pg_catalog.text, p_purpose pg_catalog.text,
	p_on pg_catalog.date DEFAULT @extschema@._filing_today())
RETURNS pg_catalog.date
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_deadline date;
	v_proc text;
BEGIN
	-- several processors: only the caller's own purposes (MF160)
	IF p_purpose IS NOT NULL THEN
		PERFORM @extschema@._check_tenant('open_filing', p_purpose, NULL, NULL);
	END IF;
	v_proc := COALESCE(@extschema@._purpose_processor(p_purpose), @extschema@._acting_processor());
	IF p_kind IS NULL OR p_kind NOT IN ('change', 'cancellation') THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('filing kind must be change or cancellation, not %s', COALESCE(p_kind, 'NULL')),
			ERRCODE = 'invalid_parameter_value',
				  HINT = @extschema@._t('The initial filing is opened by frt.filing_check() when 100,000 subjects are stored.');
	END IF;
	IF p_on IS NULL OR p_on > @extschema@._filing_today() THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('the triggering date must be today or earlier'), ERRCODE = 'invalid_parameter_value';
	END IF;
	IF p_kind = 'cancellation' AND p_purpose IS NULL THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('a cancellation filing names the terminated purpose'), ERRCODE = 'null_value_not_allowed';
	END IF;
	IF p_purpose IS NOT NULL AND NOT EXISTS (SELECT 1 FROM @extschema@.purpose p WHERE p.name = p_purpose) THEN
		PERFORM @extschema@._refuse('MF004', 4, @extschema@._t('purpose "%s" is not registered', p_purpose),
			'open_filing', p_purpose, NULL, NULL);
	END IF;
	-- a filing that was never made can be neither changed nor cancelled
	IF NOT @extschema@._filing_filed((SELECT p.processor FROM @extschema@.purpose p WHERE p.name = p_purpose)) THEN
		PERFORM @extschema@._refuse('MF170', 15, CASE p_kind
			WHEN 'change' THEN @extschema@._t('no change filing without an initial filing: none is recorded')
			ELSE @extschema@._t('no cancellation filing without an initial filing: none is recorded') END,
			'open_filing', p_purpose, NULL, NULL,
			p_hint => @extschema@._t('Record the initial filing first: frt.record_filing(''initial'', filed_on, reference).'));
	END IF;
	SELECT f.deadline INTO v_deadline FROM @extschema@.filing f
	 WHERE f.processor = v_proc AND f.kind = p_kind AND f.purpose IS NOT DISTINCT FROM p_purpose
	   AND f.filed_on IS NULL;
	IF FOUND THEN
		RETURN v_deadline;
	END IF;
	v_deadline := @extschema@.working_days_after(p_on, 30);
	INSERT INTO @extschema@.filing (processor, kind, purpose, triggered_on, deadline)
	VALUES (v_proc, p_kind, p_purpose, p_on, v_deadline);
	PERFORM @extschema@.audit_event('filing_due', 'open', p_purpose, p_detail => pg_catalog.jsonb_build_object(
		'kind', p_kind, 'triggered_on', p_on, 'deadline', v_deadline));
	RETURN v_deadline;
END;
$$;

CREATE OR REPLACE FUNCTION @extschema@.filing_check()
RETURNS TABLE (kind pg_catalog.text, purpose pg_catalog.text, triggered_on pg_catalog.date,
			   deadline pg_catalog.date, working_days_left pg_catalog.int4, subjects pg_catalog.int8)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n int8;
	st record;
	o record;
BEGIN
	-- Distinct stored subjects, recounted from the face store itself
	-- (rows hidden by row-level security and not yet purged included); the
	-- governance recount records the day the threshold was first reached;
	-- the threshold applies to each processor.
	PERFORM @extschema@._filing_recount(NULL);
	FOR st IN SELECT * FROM @extschema@.filing_state s
			   WHERE @extschema@._processor_visible(s.processor) ORDER BY s.processor LOOP
		v_n := st.stored_subjects;
		IF st.threshold_reached_on IS NOT NULL AND st.filed_on IS NULL THEN
			kind := 'initial';
			purpose := NULL;
			triggered_on := st.threshold_reached_on;
			deadline := @extschema@.working_days_after(st.threshold_reached_on, 30);
			working_days_left := @extschema@.working_days_between(@extschema@._filing_today(), deadline);
			subjects := v_n;
			PERFORM @extschema@._jobs_alert(CASE WHEN working_days_left < 0 THEN 'filing_overdue' ELSE 'filing_due' END,
				NULL, pg_catalog.jsonb_build_object('article', 'Measures Art. 15', 'kind', kind,
					'stored_subjects', v_n, 'threshold_reached_on', triggered_on,
					'deadline', deadline, 'working_days_left', working_days_left,
					'calendar_covers_deadline', @extschema@._calendar_covers(deadline))
				OPERATOR(pg_catalog.||) CASE WHEN @extschema@._processor_count() > 1
					THEN pg_catalog.jsonb_build_object('processor', st.processor) ELSE '{}' END);
			RETURN NEXT;
		END IF;
	END LOOP;

	FOR o IN SELECT * FROM @extschema@.filing f
			  WHERE f.filed_on IS NULL AND @extschema@._processor_visible(f.processor)
			  ORDER BY f.deadline, f.id LOOP
		v_n := (SELECT s.stored_subjects FROM @extschema@.filing_state s WHERE s.processor = o.processor);
		kind := o.kind;
		purpose := o.purpose;
		triggered_on := o.triggered_on;
		deadline := o.deadline;
		working_days_left := @extschema@.working_days_between(@extschema@._filing_today(), o.deadline);
		subjects := COALESCE(v_n, 0);
		PERFORM @extschema@._jobs_alert(CASE WHEN working_days_left < 0 THEN 'filing_overdue' ELSE 'filing_due' END,
			o.purpose, pg_catalog.jsonb_build_object('article', 'Measures Art. 15', 'kind', o.kind,
				'triggered_on', o.triggered_on, 'deadline', o.deadline,
				'working_days_left', working_days_left,
				'calendar_covers_deadline', @extschema@._calendar_covers(o.deadline))
			OPERATOR(pg_catalog.||) CASE WHEN @extschema@._processor_count() > 1
				THEN pg_catalog.jsonb_build_object('processor', o.processor) ELSE '{}' END);
		RETURN NEXT;
	END LOOP;

	-- the security measures changed since the last filing, the
	-- working-day calendar running out (src/jobs/25_filing_changes.sql)
	-- and overdue complaints and requests (src/jobs/40_rights.sql)
	PERFORM @extschema@._filing_security_check(false);
	PERFORM @extschema@._calendar_alert();
	PERFORM @extschema@._requests_alert();
END;
$$;

CREATE OR REPLACE FUNCTION @extschema@.record_filing(p_kind pg_catalog.text, p_filed_on pg_catalog.date,
	p_reference pg_catalog.text, p_purpose pg_catalog.text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n int8;
	v_proc text;
BEGIN
	-- several processors: only the caller's own purposes (MF160)
	IF p_purpose IS NOT NULL THEN
		PERFORM @extschema@._check_tenant('record_filing', p_purpose, NULL, NULL);
	END IF;
	v_proc := COALESCE(@extschema@._purpose_processor(p_purpose), @extschema@._acting_processor());
	IF p_kind IS NULL OR p_kind NOT IN ('initial', 'change', 'cancellation') THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('filing kind must be initial, change or cancellation, not %s', COALESCE(p_kind, 'NULL')),
			ERRCODE = 'invalid_parameter_value';
	END IF;
	IF p_filed_on IS NULL OR p_filed_on > @extschema@._filing_today() THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('filing date must be today or earlier'), ERRCODE = 'invalid_parameter_value';
	END IF;
	IF p_reference IS NULL OR pg_catalog.btrim(p_reference) = '' THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('a filing needs the reference the cyberspace office gave it'),
			ERRCODE = 'null_value_not_allowed';
	END IF;
	IF p_kind = 'initial' THEN
		IF p_purpose IS NOT NULL THEN
			RAISE EXCEPTION USING MESSAGE = @extschema@._t('the initial filing covers the whole installation, not one purpose'),
				ERRCODE = 'invalid_parameter_value';
		END IF;
		IF EXISTS (SELECT 1 FROM @extschema@.filing_state s WHERE s.processor = v_proc AND s.filed_on IS NOT NULL) THEN
			RAISE EXCEPTION USING MESSAGE = @extschema@._t('the initial filing is already recorded'), ERRCODE = 'unique_violation',
				HINT = @extschema@._t('Record later changes with kind => ''change''.');
		END IF;
		-- The governance layer keeps the initial filing (and audits it).
		PERFORM @extschema@.record_filing(p_filed_on, p_reference);
		PERFORM @extschema@._filing_security_check(true);
		RETURN;
	ELSE
		IF p_kind = 'cancellation' AND p_purpose IS NULL THEN
			RAISE EXCEPTION USING MESSAGE = @extschema@._t('a cancellation filing names the terminated purpose'),
				ERRCODE = 'null_value_not_allowed';
		END IF;
		UPDATE @extschema@.filing f SET filed_on = p_filed_on, reference = p_reference,
			   recorded_by = pg_catalog.session_user()
		 WHERE f.processor = v_proc AND f.kind = p_kind AND f.purpose IS NOT DISTINCT FROM p_purpose
		   AND f.filed_on IS NULL;
		GET DIAGNOSTICS n = ROW_COUNT;
		IF n = 0 THEN
			IF p_kind = 'cancellation' THEN
				RAISE EXCEPTION USING MESSAGE = @extschema@._t('no open cancellation filing for purpose "%s"', p_purpose),
					ERRCODE = 'no_data_found', HINT = @extschema@._t('Terminate the purpose first: frt.terminate_purpose().');
			END IF;
			INSERT INTO @extschema@.filing (processor, kind, purpose, triggered_on, deadline, filed_on, reference,
				recorded_by)
			VALUES (v_proc, p_kind, p_purpose, p_filed_on, p_filed_on, p_filed_on, p_reference,
				pg_catalog.session_user());
		END IF;
	END IF;
	PERFORM @extschema@.audit_event('filing', 'recorded', p_purpose, p_detail => pg_catalog.jsonb_build_object(
		'kind', p_kind, 'filed_on', p_filed_on, 'reference', p_reference));
	-- an installation-wide change filing describes the measures as they are
	IF p_kind = 'change' AND p_purpose IS NULL THEN
		PERFORM @extschema@._filing_security_check(true);
	END IF;
END;
$$;

CREATE OR REPLACE FUNCTION @extschema@._filing_material_columns(p_table pg_catalog.text)
RETURNS pg_catalog.text[]
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE p_table
		WHEN 'processor' THEN ARRAY['name', 'contact', 'legal_time_zone']
		WHEN 'purpose' THEN ARRAY['kind', 'description', 'method', 'processor', 'dimension',
			'serves_public_security', 'retention', 'minor_retention', 'alternative_method', 'model',
			'minors_allowed', 'storage', 'storage_legal_basis']
		ELSE ARRAY[]::pg_catalog.text[] END;
$$;

CREATE OR REPLACE FUNCTION @extschema@._filing_on_change()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_new pg_catalog.jsonb := pg_catalog.to_jsonb(NEW);
	v_old pg_catalog.jsonb;
	v_changed pg_catalog.text[];
	v_purpose pg_catalog.text;
	v_processor pg_catalog.text;
BEGIN
	IF @extschema@.audit_restoring() THEN
		RETURN NULL;
	END IF;
	IF TG_OP = 'UPDATE' THEN
		v_old := pg_catalog.to_jsonb(OLD);
		SELECT pg_catalog.array_agg(c ORDER BY c) INTO v_changed
		  FROM pg_catalog.unnest(@extschema@._filing_material_columns(TG_TABLE_NAME)) c
		 WHERE v_new->c IS DISTINCT FROM v_old->c;
		IF v_changed IS NULL THEN
			RETURN NULL;
		END IF;
	ELSIF TG_TABLE_NAME = 'notice' AND NOT (v_new->>'material_change')::pg_catalog.bool THEN
		RETURN NULL;
	ELSE
		v_changed := ARRAY[TG_TABLE_NAME];
	END IF;
	CASE TG_TABLE_NAME
	WHEN 'processor' THEN
		v_processor := v_new->>'name';
	WHEN 'purpose' THEN
		v_purpose := v_new->>'name';
		v_processor := v_new->>'processor';
	ELSE
		v_purpose := v_new->>'purpose';
		SELECT p.processor INTO v_processor FROM @extschema@.purpose p WHERE p.name = v_purpose;
	END CASE;
	IF NOT @extschema@._filing_filed(v_processor) THEN
		RETURN NULL;
	END IF;
	PERFORM @extschema@.open_filing('change', v_purpose, @extschema@._filing_today());
	PERFORM @extschema@.audit_event('filing_change', 'material', v_purpose, p_detail =>
		pg_catalog.jsonb_build_object('article', 'Measures Art. 15', 'table', TG_TABLE_NAME,
			'op', TG_OP, 'changed', pg_catalog.to_jsonb(v_changed)));
	RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._filing_security()
RETURNS pg_catalog.jsonb
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.jsonb_build_object(
		'encryption_suite', (SELECT k.suite FROM @extschema@._key_status() k),
		'audit_hash', COALESCE(pg_catalog.current_setting('frt.audit_hash', true), 'sha256'),
		'checks', (SELECT pg_catalog.jsonb_object_agg(c.check_name, c.status)
					 FROM @extschema@.compliance_report() c WHERE c.article OPERATOR(pg_catalog.=) 'Art. 14'));
$$;

CREATE OR REPLACE FUNCTION @extschema@._filing_security_check(p_take pg_catalog.bool)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_now pg_catalog.jsonb;
	v_old pg_catalog.jsonb;
	v_changed pg_catalog.text[];
	v_proc pg_catalog.text;
	v_setting pg_catalog.text := pg_catalog.current_setting('frt.processor', true);
BEGIN
	IF NOT EXISTS (SELECT 1 FROM @extschema@.filing_state s WHERE s.filed_on IS NOT NULL)
	   OR (@extschema@._processor_count() > 1 AND NOT @extschema@._caller_is_superuser()) THEN
		RETURN;
	END IF;
	v_now := @extschema@._filing_security();
	SELECT b.security INTO v_old FROM @extschema@.filing_baseline b WHERE b.id = 1;
	IF NOT p_take AND v_old IS NOT NULL AND v_old IS DISTINCT FROM v_now THEN
		SELECT pg_catalog.array_agg(k ORDER BY k) INTO v_changed
		  FROM (SELECT pg_catalog.jsonb_object_keys(v_now - 'checks') AS k
				UNION SELECT 'checks.' || pg_catalog.jsonb_object_keys(v_now->'checks')
				UNION SELECT 'checks.' || pg_catalog.jsonb_object_keys(v_old->'checks')) x
		 WHERE CASE WHEN k LIKE 'checks.%' THEN v_now->'checks'->pg_catalog.substr(k, 8)
					IS DISTINCT FROM v_old->'checks'->pg_catalog.substr(k, 8)
				ELSE v_now->k IS DISTINCT FROM v_old->k END;
		FOR v_proc IN SELECT s.processor FROM @extschema@.filing_state s
					   WHERE s.filed_on IS NOT NULL AND @extschema@._processor_visible(s.processor)
					   ORDER BY s.processor LOOP
			-- open_filing without a purpose is the acting processor's (below
			-- superuser the caller's own, the only one visible)
			IF @extschema@._caller_is_superuser() THEN
				PERFORM pg_catalog.set_config('frt.processor', v_proc, true);
			END IF;
			PERFORM @extschema@.open_filing('change', NULL, @extschema@._filing_today());
			PERFORM @extschema@.audit_event('filing_change', 'material', p_detail =>
				@extschema@._tenant_detail(pg_catalog.jsonb_build_object('article', 'Measures Art. 15',
					'table', 'security_measures', 'changed', pg_catalog.to_jsonb(v_changed)),
					CASE WHEN @extschema@._processor_count() > 1 THEN v_proc END));
		END LOOP;
		IF @extschema@._caller_is_superuser() THEN
			PERFORM pg_catalog.set_config('frt.processor', COALESCE(v_setting, ''), true);
		END IF;
	END IF;
	IF p_take OR v_old IS DISTINCT FROM v_now THEN
		INSERT INTO @extschema@.filing_baseline AS b (id, security) VALUES (1, v_now)
		ON CONFLICT (id) DO UPDATE SET security = excluded.security, taken_at = pg_catalog.now();
	END IF;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._calendar_alert()
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	c record;
BEGIN
	SELECT * INTO c FROM @extschema@.calendar_coverage();
	IF c.last_year IS NULL OR c.days_left <= @extschema@._calendar_warn_days() THEN
		PERFORM @extschema@._jobs_alert('calendar_expiring', NULL, pg_catalog.jsonb_build_object(
			'article', 'Measures Art. 15', 'covered_until', c.covered_until, 'days_left', c.days_left,
			'action', 'load the next year''s State Council holiday notice: frt.load_calendar()'));
	END IF;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._filing_compliance()
RETURNS TABLE (article pg_catalog.text, check_name pg_catalog.text, status pg_catalog.text,
	detail pg_catalog.text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_today pg_catalog.date := @extschema@._filing_today();
	n pg_catalog.int8;
	m pg_catalog.int8;
	v_list pg_catalog.text;
	c record;
	v_beyond pg_catalog.text;
BEGIN
	SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE f.deadline < v_today),
		   pg_catalog.string_agg(@extschema@._t('%s %s due %s (%s working days left)', f.kind,
				COALESCE('"' || f.purpose || '"', 'installation'), f.deadline,
				@extschema@.working_days_between(v_today, f.deadline)), '; ' ORDER BY f.deadline, f.id)
	  INTO n, m, v_list
	  FROM @extschema@.filing f WHERE f.filed_on IS NULL AND @extschema@._processor_visible(f.processor);
	RETURN QUERY SELECT 'Art. 15', 'filings_open',
		CASE WHEN m > 0 THEN 'violation' WHEN n > 0 THEN 'warning' ELSE 'ok' END,
		CASE WHEN n = 0 THEN @extschema@._t('no change or cancellation filing is open')
		ELSE @extschema@._t('%s change or cancellation filings open, %s overdue: %s', n, m, v_list) END;

	SELECT * INTO c FROM @extschema@.calendar_coverage();
	-- open deadlines (the initial filing's too) beyond the calendar
	SELECT pg_catalog.string_agg(d::pg_catalog.text, ', ' ORDER BY d) INTO v_beyond
	  FROM (SELECT f.deadline AS d FROM @extschema@.filing f
			 WHERE f.filed_on IS NULL AND @extschema@._processor_visible(f.processor)
			UNION
			SELECT @extschema@.working_days_after(s.threshold_reached_on, 30) FROM @extschema@.filing_state s
			 WHERE s.threshold_reached_on IS NOT NULL AND s.filed_on IS NULL
			   AND @extschema@._processor_visible(s.processor)) x
	 WHERE NOT @extschema@._calendar_covers(x.d);
	RETURN QUERY SELECT 'Art. 15', 'working_day_calendar',
		CASE WHEN c.last_year IS NULL OR c.days_left <= @extschema@._calendar_warn_days()
				  OR v_beyond IS NOT NULL THEN 'warning' ELSE 'ok' END,
		CASE WHEN c.last_year IS NULL
			THEN @extschema@._t('the working-day calendar covers no year: deadlines count weekends only; load the State Council holiday notices with frt.load_calendar()')
		ELSE @extschema@._t('public holidays and make-up working days known for %s-%s (%s); %s days until its last day %s%s%s',
			c.first_year, c.last_year, c.sources, c.days_left, c.covered_until,
			CASE WHEN c.days_left <= @extschema@._calendar_warn_days()
				THEN @extschema@._t(': load the %s notice with frt.load_calendar()', c.last_year + 1) ELSE '' END,
			CASE WHEN v_beyond IS NOT NULL
				THEN @extschema@._t('; deadlines beyond the calendar, counted on weekends only: ') || v_beyond ELSE '' END) END;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._filing_processor(p_processor pg_catalog.text)
RETURNS @extschema@.processor
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r @extschema@.processor;
	n pg_catalog.int8;
BEGIN
	IF NOT @extschema@._caller_is_superuser() THEN
		p_processor := COALESCE(p_processor, @extschema@._caller_processor());
		IF p_processor IS NULL OR p_processor IS DISTINCT FROM @extschema@._caller_processor() THEN
			RAISE EXCEPTION USING MESSAGE = @extschema@._t('processor "%s" is not registered', COALESCE(p_processor, '')), ERRCODE = 'no_data_found';
		END IF;
	END IF;
	IF p_processor IS NOT NULL THEN
		SELECT * INTO r FROM @extschema@.processor p
		WHERE p.name = p_processor AND @extschema@._processor_visible(p.name);
		IF NOT FOUND THEN
			RAISE EXCEPTION USING MESSAGE = @extschema@._t('processor "%s" is not registered', p_processor), ERRCODE = 'no_data_found';
		END IF;
		RETURN r;
	END IF;
	SELECT pg_catalog.count(*) INTO n FROM @extschema@.processor;
	IF n <> 1 THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('name the processor: %s are registered', n), ERRCODE = 'invalid_parameter_value',
			HINT = @extschema@._t('Register the processor first (frt.processor) or pass its name.');
	END IF;
	SELECT * INTO r FROM @extschema@.processor;
	RETURN r;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.filing_materials(p_processor pg_catalog.text DEFAULT NULL)
RETURNS pg_catalog.jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	pr @extschema@.processor := @extschema@._filing_processor(p_processor);
	v_sole pg_catalog.bool := (SELECT pg_catalog.count(*) = 1 FROM @extschema@.processor);
	v_purposes pg_catalog.text[];
	fs record;
	ks record;
	ap record;
	v_alg pg_catalog.text;
	v pg_catalog.jsonb;
	v_setting pg_catalog.text := pg_catalog.current_setting('frt.processor', true);
BEGIN
	-- the processor's purposes (a purpose without one belongs to the sole processor)
	SELECT COALESCE(pg_catalog.array_agg(p.name ORDER BY p.name), '{}') INTO v_purposes
	  FROM @extschema@.purpose p WHERE p.processor = pr.name OR (p.processor IS NULL AND v_sole);
	-- filing_status() is the acting processor's: a superuser acts for this
	-- one meanwhile (anyone else acts for its own, which this is)
	IF @extschema@._caller_is_superuser() THEN
		PERFORM pg_catalog.set_config('frt.processor', pr.name, true);
	END IF;
	SELECT * INTO fs FROM @extschema@.filing_status();
	IF @extschema@._caller_is_superuser() THEN
		PERFORM pg_catalog.set_config('frt.processor', COALESCE(v_setting, ''), true);
	END IF;
	SELECT * INTO ks FROM @extschema@._key_status();
	SELECT * INTO ap FROM @extschema@.audit_protection();
	v_alg := CASE pg_catalog.current_setting('frt.audit_hash', true) WHEN 'sm3' THEN 'SM3' ELSE 'SHA-256' END;

	v := pg_catalog.jsonb_build_object(
		'law', '《人脸识别技术应用安全管理办法》第十五条',
		'generated_at', pg_catalog.now(),
		'processor', pr.name,
		'processor_basic_information', pg_catalog.jsonb_build_object(
			'item', '（一）个人信息处理者的基本情况',
			'name', pr.name, 'contact', pr.contact, 'legal_time_zone', pr.legal_time_zone,
			'registered_at', pr.registered_at, 'purposes', pg_catalog.cardinality(v_purposes)),
		'purposes_and_methods', pg_catalog.jsonb_build_object(
			'item', '（二）人脸信息处理目的和处理方式',
			'purposes', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'name', p.name, 'purpose', p.description, 'method', p.method, 'kind', p.kind,
				'serves_public_security', p.serves_public_security,
				'alternative_method', p.alternative_method, 'dimension', p.dimension,
				'devices', (SELECT pg_catalog.jsonb_agg(DISTINCT pg_catalog.jsonb_build_object(
						'name', d.name, 'location_type', d.location_type, 'signage', d.signage))
					FROM @extschema@.face f JOIN @extschema@.device d ON d.processor = f.processor AND d.name = f.device
					WHERE f.purpose = p.name),
				'terminated_on', t.terminated_on) ORDER BY p.name)
				FROM @extschema@.purpose p LEFT JOIN @extschema@.purpose_termination t ON t.purpose = p.name
				WHERE p.name = ANY (v_purposes)), '[]')),
		'storage_scale_and_security_measures', pg_catalog.jsonb_build_object(
			'item', '（三）人脸信息存储数量和安全保护措施',
			'storage', pg_catalog.jsonb_build_object(
				'people_stored', (SELECT pg_catalog.count(DISTINCT f.subject) FROM @extschema@.face f
								  WHERE f.purpose = ANY (v_purposes)),
				'faces_stored', (SELECT pg_catalog.count(*) FROM @extschema@.face f WHERE f.purpose = ANY (v_purposes)),
				'minors_stored', (SELECT pg_catalog.count(DISTINCT f.subject) FROM @extschema@.face f
								  WHERE f.purpose = ANY (v_purposes) AND f.minor),
				'per_purpose', COALESCE((SELECT pg_catalog.jsonb_object_agg(x.purpose, x.people)
					FROM (SELECT f.purpose, pg_catalog.count(DISTINCT f.subject) AS people FROM @extschema@.face f
						  WHERE f.purpose = ANY (v_purposes) GROUP BY f.purpose) x), '{}'),
				'processor_people_stored', fs.stored_subjects,
				'threshold', fs.threshold, 'threshold_reached_on', fs.threshold_reached_on,
				'filing_deadline', fs.filing_deadline, 'filed_on', fs.filed_on,
				'filing_reference', fs.filing_reference, 'filing_status', fs.status,
				'storage_location', 'PostgreSQL database ' || pg_catalog.current_database()),
			'security_measures', pg_catalog.jsonb_build_object(
				'encryption', pg_catalog.jsonb_build_object(
					'enabled', COALESCE(ks.key_loaded, false), 'suite', ks.suite,
					'current_key_epoch', ks.current_epoch,
					'key_epochs', (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
							'epoch', e.epoch, 'suite', e.suite, 'created_at', e.created_at, 'current', e.is_current,
							'faces', (SELECT pg_catalog.count(*) FROM @extschema@.face f
									  WHERE f.key_epoch = e.epoch AND f.purpose = ANY (v_purposes)))
						ORDER BY e.epoch)
						FROM @extschema@._key_epochs() e JOIN pg_catalog.pg_database d ON d.oid = e.owner_db
						WHERE d.datname = pg_catalog.current_database()),
					'keys_outside_database', true),
				'security_audit', pg_catalog.jsonb_build_object(
					'hash_chain', v_alg, 'keyed', ap.keyed, 'key_id', ap.key_id,
					'anchor_interval_s', ap.anchor_interval_s, 'anchor_file', ap.anchor_file,
					'anchor_command', ap.anchor_command,
					'records', (SELECT pg_catalog.count(*) FROM @extschema@.audit a
								WHERE v_sole OR COALESCE(a.detail OPERATOR(pg_catalog.->>) 'processor',
									@extschema@._purpose_processor(a.purpose)) = pr.name)),
				'access_control', pg_catalog.jsonb_build_object(
					'face_row_security', (SELECT c.relrowsecurity AND c.relforcerowsecurity FROM pg_catalog.pg_class c
										  WHERE c.oid = '@extschema@.face'::pg_catalog.regclass),
					'roles', (SELECT pg_catalog.jsonb_object_agg(r.rolname, COALESCE((SELECT pg_catalog.jsonb_agg(m.rolname ORDER BY m.rolname)
							FROM pg_catalog.pg_auth_members am JOIN pg_catalog.pg_roles m ON m.oid = am.member
							WHERE am.roleid = r.oid
							  AND @extschema@._login_processor(m.rolname) IS NOT DISTINCT FROM pr.name), '[]'))
						FROM pg_catalog.pg_roles r WHERE r.rolname LIKE 'frt\_%')),
				'checks', (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('check', c.check_name,
						'status', c.status, 'detail', c.detail) ORDER BY c.check_name)
					FROM @extschema@.compliance_report() c WHERE c.article = 'Art. 14'),
				'erasure', pg_catalog.jsonb_build_object(
					'jobs', (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('job', j.jobname,
							'schedule_gmt', j.schedule, 'command', j.command))
						FROM @extschema@.job_commands() j),
					'faces_erased', (SELECT pg_catalog.count(*) FROM @extschema@.erasure_log l
									 WHERE l.purpose = ANY (v_purposes)),
					'faces_erased_confirmed', (SELECT pg_catalog.count(*) FROM @extschema@.erasure_log l
									 WHERE l.purpose = ANY (v_purposes) AND l.heap_erased_at IS NOT NULL)))),
		'processing_rules_and_operating_procedures', pg_catalog.jsonb_build_object(
			'item', '（四）人脸信息的处理规则和操作规程',
			'rules', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'purpose', p.name, 'retention', p.retention, 'minor_retention', p.minor_retention,
				'similarity_threshold', p.similarity_threshold, 'max_k', p.max_k,
				'score_disclosure', p.score_disclosure,
				'notice', (SELECT pg_catalog.jsonb_build_object('version', n.version, 'published_at', n.published_at,
						'body', n.body, 'processing_method', n.processing_method,
						'retention_statement', n.retention_statement,
						'necessity_and_impact', n.necessity_and_impact,
						'rights_procedure', n.rights_procedure, 'accessibility', n.accessibility)
					FROM @extschema@.notice n WHERE n.purpose = p.name
					 AND n.version = @extschema@.current_notice_version(p.name))) ORDER BY p.name)
				FROM @extschema@.purpose p WHERE p.name = ANY (v_purposes)), '[]'),
			'procedures', pg_catalog.jsonb_build_object(
				'consent', '按处理目的逐人取得单独同意，同意对应现行告知版本；撤回同意立即生效，人脸信息随即删除',
				'minors', '不满十四周岁未成年人须由父母或者其他监护人同意，保存期限不超过该目的的未成年人保存期限',
				'requests', pg_catalog.format('个人的投诉、举报和行使权利的请求逐件登记，在%s个工作日内答复（frt.request）',
					@extschema@._request_working_days()),
				'scheduled_jobs', (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('job', j.jobname,
						'schedule_gmt', j.schedule, 'command', j.command))
					FROM @extschema@.job_commands() j))),
		'impact_assessment_reports', pg_catalog.jsonb_build_object(
			'item', '（五）个人信息保护影响评估报告',
			'reports', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'purpose', a.purpose, 'id', a.id, 'assessed_at', a.assessed_at, 'assessor', a.assessor,
				'valid_until', a.valid_until, 'current', a.voided_at IS NULL
					AND (a.valid_until IS NULL OR a.valid_until >= @extschema@._filing_today()),
				'voided_at', a.voided_at, 'void_reason', a.void_reason, 'report', a.report)
				ORDER BY a.purpose, a.assessed_at DESC, a.id DESC)
				FROM @extschema@.assessment a WHERE a.purpose = ANY (v_purposes)), '[]')),
		'filings', pg_catalog.jsonb_build_object(
			'initial', pg_catalog.jsonb_build_object('filed_on', fs.filed_on, 'reference', fs.filing_reference,
				'status', fs.status, 'deadline', fs.filing_deadline),
			'changes_and_cancellations', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'kind', f.kind, 'purpose', f.purpose, 'triggered_on', f.triggered_on, 'deadline', f.deadline,
				'filed_on', f.filed_on, 'reference', f.reference) ORDER BY f.id)
				FROM @extschema@.filing f WHERE f.processor = pr.name), '[]')));
	PERFORM @extschema@.audit_event('filing_materials', 'produced', p_detail =>
		pg_catalog.jsonb_build_object('article', 'Measures Art. 15', 'processor', pr.name));
	RETURN v;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._doc_text(p_value pg_catalog.jsonb)
RETURNS pg_catalog.text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN p_value IS NULL OR pg_catalog.jsonb_typeof(p_value) OPERATOR(pg_catalog.=) 'null' THEN '-'
		WHEN pg_catalog.jsonb_typeof(p_value) OPERATOR(pg_catalog.=) 'boolean'
			THEN CASE WHEN p_value::pg_catalog.text OPERATOR(pg_catalog.=) 'true' THEN '是' ELSE '否' END
		WHEN pg_catalog.jsonb_typeof(p_value) OPERATOR(pg_catalog.=) 'string' THEN p_value OPERATOR(pg_catalog.#>>) '{}'
		ELSE p_value::pg_catalog.text END;
$$;

CREATE OR REPLACE FUNCTION @extschema@.filing_materials_document(p_processor pg_catalog.text DEFAULT NULL)
RETURNS pg_catalog.text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	m pg_catalog.jsonb := @extschema@.filing_materials(p_processor);
	b pg_catalog.jsonb;
	s pg_catalog.jsonb;
	x pg_catalog.jsonb;
	d pg_catalog.text;
BEGIN
	b := m->'processor_basic_information';
	d := pg_catalog.concat_ws(E'\n',
		'# 人脸识别技术应用备案材料', '',
		'依据《人脸识别技术应用安全管理办法》第十五条：“个人信息处理者应当在应用人脸识别技术处理的人脸信息存储数量达到10万人之日起30个工作日内向所在地省级以上网信部门履行备案手续。”本材料由数据库按该条所列五项材料生成。', '',
		'- 生成时间：' || @extschema@._doc_text(m->'generated_at'),
		'- 数据库：' || pg_catalog.current_database(), '',
		'## ' || (b->>'item'), '',
		'- 名称：' || @extschema@._doc_text(b->'name'),
		'- 联系方式：' || @extschema@._doc_text(b->'contact'),
		'- 法定日期所用时区：' || @extschema@._doc_text(b->'legal_time_zone'),
		'- 登记时间：' || @extschema@._doc_text(b->'registered_at'),
		'- 处理目的数：' || @extschema@._doc_text(b->'purposes'), '',
		'## ' || (m->'purposes_and_methods'->>'item'), '');
	FOR x IN SELECT * FROM pg_catalog.jsonb_array_elements(m->'purposes_and_methods'->'purposes') LOOP
		d := pg_catalog.concat_ws(E'\n', d,
			'### 处理目的：' || (x->>'name'), '',
			'- 处理目的：' || @extschema@._doc_text(x->'purpose'),
			'- 处理方式：' || @extschema@._doc_text(x->'method'),
			'- 应用类型：' || CASE x->>'kind' WHEN 'verification' THEN '验证个人身份（1:1）' ELSE '辨识特定个人（1:N）' END,
			'- 为维护公共安全所必需：' || @extschema@._doc_text(x->'serves_public_security'),
			'- 非人脸识别技术的替代方式：' || @extschema@._doc_text(x->'alternative_method'),
			'- 特征向量维度（模型）：' || @extschema@._doc_text(x->'dimension'),
			'- 采集设备：' || COALESCE((SELECT pg_catalog.string_agg(pg_catalog.format('%s（%s，提示标识：%s）',
					e->>'name', e->>'location_type', @extschema@._doc_text(e->'signage')), '、')
				FROM pg_catalog.jsonb_array_elements(COALESCE(x->'devices', '[]')) e), '-'),
			'- 终止应用日期：' || @extschema@._doc_text(x->'terminated_on'), '');
	END LOOP;

	s := m->'storage_scale_and_security_measures';
	d := pg_catalog.concat_ws(E'\n', d,
		'## ' || (s->>'item'), '',
		'### 人脸信息存储数量', '',
		'- 存储人脸信息的人数（去重）：' || @extschema@._doc_text(s->'storage'->'people_stored'),
		'- 人脸信息记录数：' || @extschema@._doc_text(s->'storage'->'faces_stored'),
		'- 其中不满十四周岁未成年人人数：' || @extschema@._doc_text(s->'storage'->'minors_stored'),
		'- 各处理目的人数：' || COALESCE((SELECT pg_catalog.string_agg(pg_catalog.format('%s %s人', e.key, e.value), '；' ORDER BY e.key)
			FROM pg_catalog.jsonb_each(s->'storage'->'per_purpose') e), '-'),
		'- 本处理者存储总人数：' || @extschema@._doc_text(s->'storage'->'processor_people_stored')
			|| '（备案门槛 ' || @extschema@._doc_text(s->'storage'->'threshold') || ' 人）',
		'- 达到10万人之日：' || @extschema@._doc_text(s->'storage'->'threshold_reached_on')
			|| '；备案期限：' || @extschema@._doc_text(s->'storage'->'filing_deadline')
			|| '；备案日期：' || @extschema@._doc_text(s->'storage'->'filed_on')
			|| '；备案编号：' || @extschema@._doc_text(s->'storage'->'filing_reference'),
		'- 存储位置：' || @extschema@._doc_text(s->'storage'->'storage_location'), '',
		'### 安全保护措施', '',
		'- 数据加密：' || CASE WHEN (s->'security_measures'->'encryption'->>'enabled')::pg_catalog.bool
			THEN '已启用，算法套件 ' || @extschema@._doc_text(s->'security_measures'->'encryption'->'suite')
				|| '，当前密钥版本 ' || @extschema@._doc_text(s->'security_measures'->'encryption'->'current_key_epoch')
				|| '，密钥版本数 ' || COALESCE(pg_catalog.jsonb_array_length(s->'security_measures'->'encryption'->'key_epochs'), 0)
				|| '；根密钥保存在数据库之外'
			ELSE '未加载根密钥（录入和比对被拒绝）' END,
		'- 安全审计：哈希链（' || @extschema@._doc_text(s->'security_measures'->'security_audit'->'hash_chain')
			|| '），密钥签名：' || @extschema@._doc_text(s->'security_measures'->'security_audit'->'keyed')
			|| '，链头外存：' || CASE WHEN (s->'security_measures'->'security_audit'->>'anchor_file')::pg_catalog.bool
				OR (s->'security_measures'->'security_audit'->>'anchor_command')::pg_catalog.bool THEN '是' ELSE '仅服务器日志' END
			|| '，审计记录数 ' || @extschema@._doc_text(s->'security_measures'->'security_audit'->'records'),
		'- 访问控制：人脸表行级安全（强制）：' || @extschema@._doc_text(s->'security_measures'->'access_control'->'face_row_security')
			|| '；特征向量列任何角色不可直接读取',
		'- 授权管理（角色及成员）：' || COALESCE((SELECT pg_catalog.string_agg(pg_catalog.format('%s：%s', e.key,
				CASE WHEN pg_catalog.jsonb_array_length(e.value) = 0 THEN '无' ELSE
				(SELECT pg_catalog.string_agg(r, '、') FROM pg_catalog.jsonb_array_elements_text(e.value) r) END), '；' ORDER BY e.key)
			FROM pg_catalog.jsonb_each(s->'security_measures'->'access_control'->'roles') e), '-'),
		'- 入侵检测和防御及其他检查（第十四条）：');
	FOR x IN SELECT * FROM pg_catalog.jsonb_array_elements(COALESCE(s->'security_measures'->'checks', '[]')) LOOP
		d := d || E'\n' || pg_catalog.format('  - %s（%s）：%s', x->>'check', x->>'status', x->>'detail');
	END LOOP;
	d := pg_catalog.concat_ws(E'\n', d,
		'- 删除：保存期限届满、撤回同意或终止应用的人脸信息由定时任务删除并覆写；已删除 '
			|| @extschema@._doc_text(s->'security_measures'->'erasure'->'faces_erased') || ' 条，其中已确认覆写 '
			|| @extschema@._doc_text(s->'security_measures'->'erasure'->'faces_erased_confirmed') || ' 条', '',
		'## ' || (m->'processing_rules_and_operating_procedures'->>'item'), '',
		'### 处理规则（向个人告知的事项）', '');
	FOR x IN SELECT * FROM pg_catalog.jsonb_array_elements(m->'processing_rules_and_operating_procedures'->'rules') LOOP
		d := pg_catalog.concat_ws(E'\n', d,
			'#### 处理目的：' || (x->>'purpose'), '',
			'- 保存期限：' || @extschema@._doc_text(x->'retention') || '；未成年人保存期限：' || @extschema@._doc_text(x->'minor_retention'),
			'- 比对阈值：' || @extschema@._doc_text(x->'similarity_threshold') || '；单次辨识最多返回：'
				|| @extschema@._doc_text(x->'max_k') || '；相似度披露方式：' || @extschema@._doc_text(x->'score_disclosure'),
			'- 告知版本：' || @extschema@._doc_text(x->'notice'->'version') || '（发布于 ' || @extschema@._doc_text(x->'notice'->'published_at') || '）',
			'- 告知正文：' || @extschema@._doc_text(x->'notice'->'body'),
			'- 处理方式：' || @extschema@._doc_text(x->'notice'->'processing_method'),
			'- 保存期限说明：' || @extschema@._doc_text(x->'notice'->'retention_statement'),
			'- 必要性及对个人权益的影响：' || @extschema@._doc_text(x->'notice'->'necessity_and_impact'),
			'- 个人行使权利的方式和程序：' || @extschema@._doc_text(x->'notice'->'rights_procedure'),
			'- 无障碍说明：' || @extschema@._doc_text(x->'notice'->'accessibility'), '');
	END LOOP;
	x := m->'processing_rules_and_operating_procedures'->'procedures';
	d := pg_catalog.concat_ws(E'\n', d,
		'### 操作规程', '',
		'- 同意：' || (x->>'consent'),
		'- 未成年人：' || (x->>'minors'),
		'- 投诉、举报和个人请求：' || (x->>'requests'),
		'- 定时任务（cron 表达式为格林尼治时间，北京时间为其加8小时）：'
			|| COALESCE((SELECT pg_catalog.string_agg(pg_catalog.format('%s `%s`', j->>'job', j->>'schedule_gmt'), '；')
				FROM pg_catalog.jsonb_array_elements(x->'scheduled_jobs') j), '-'), '',
		'## ' || (m->'impact_assessment_reports'->>'item'), '');
	FOR x IN SELECT * FROM pg_catalog.jsonb_array_elements(m->'impact_assessment_reports'->'reports') LOOP
		d := pg_catalog.concat_ws(E'\n', d,
			pg_catalog.format('### 处理目的：%s（评估编号 %s，%s）', x->>'purpose', x->>'id',
				CASE WHEN (x->>'current')::pg_catalog.bool THEN '现行有效' ELSE '已失效' END), '',
			'- 评估时间：' || @extschema@._doc_text(x->'assessed_at') || '；评估人：' || @extschema@._doc_text(x->'assessor')
				|| '；有效期至：' || @extschema@._doc_text(x->'valid_until'),
			CASE WHEN x->>'voided_at' IS NOT NULL THEN '- 失效原因：' || (x->>'void_reason') END,
			'- 报告：' || @extschema@._doc_text(x->'report'), '');
	END LOOP;
	IF pg_catalog.jsonb_array_length(m->'impact_assessment_reports'->'reports') = 0 THEN
		d := d || E'\n（无）\n';
	END IF;
	d := pg_catalog.concat_ws(E'\n', d,
		'## 备案记录', '',
		'- 首次备案：' || @extschema@._doc_text(m->'filings'->'initial'->'filed_on') || '，编号 '
			|| @extschema@._doc_text(m->'filings'->'initial'->'reference') || '，状态 '
			|| CASE m->'filings'->'initial'->>'status' WHEN 'filed' THEN '已备案' WHEN 'due' THEN '应备案'
				WHEN 'overdue' THEN '逾期未备案' WHEN 'not required' THEN '未达到10万人，无需备案'
				ELSE @extschema@._doc_text(m->'filings'->'initial'->'status') END);
	FOR x IN SELECT * FROM pg_catalog.jsonb_array_elements(m->'filings'->'changes_and_cancellations') LOOP
		d := d || E'\n' || pg_catalog.format('- %s：%s，变更/终止之日 %s，期限 %s，办理日期 %s，编号 %s',
			CASE x->>'kind' WHEN 'change' THEN '备案变更' ELSE '注销备案' END,
			COALESCE(x->>'purpose', '全部'), x->>'triggered_on', x->>'deadline',
			@extschema@._doc_text(x->'filed_on'), @extschema@._doc_text(x->'reference'));
	END LOOP;
	RETURN d || E'\n';
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._cn_numeral(p_n pg_catalog.int4)
RETURNS pg_catalog.text
LANGUAGE sql IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE
	WHEN p_n OPERATOR(pg_catalog.<) 1 OR p_n OPERATOR(pg_catalog.>) 99 THEN p_n::pg_catalog.text
	WHEN p_n OPERATOR(pg_catalog.<) 10 THEN d[p_n]
	ELSE CASE WHEN p_n OPERATOR(pg_catalog./) 10 OPERATOR(pg_catalog.>) 1 THEN d[p_n OPERATOR(pg_catalog./) 10] ELSE '' END
		OPERATOR(pg_catalog.||) '十'
		OPERATOR(pg_catalog.||) CASE WHEN p_n OPERATOR(pg_catalog.%) 10 OPERATOR(pg_catalog.>) 0
			THEN d[p_n OPERATOR(pg_catalog.%) 10] ELSE '' END
	END
FROM (SELECT ARRAY['一', '二', '三', '四', '五', '六', '七', '八', '九']::pg_catalog.text[] AS d) x
$$;

CREATE OR REPLACE FUNCTION @extschema@.compliance_report_document()
RETURNS pg_catalog.text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
	v_art pg_catalog.int4 := NULL;
	v_body pg_catalog.text := '';
	v_ok pg_catalog.int4 := 0;
	v_warning pg_catalog.int4 := 0;
	v_violation pg_catalog.int4 := 0;
	v_info pg_catalog.int4 := 0;
BEGIN
	-- the rows in article order, each article's rows in the report's order
	FOR r IN
		SELECT c.article, c.check_name, c.status, c.detail,
			pg_catalog.substring(c.article, '[0-9]+')::pg_catalog.int4 AS n
		FROM @extschema@.compliance_report() WITH ORDINALITY AS c(article, check_name, status, detail, i)
		ORDER BY n, c.i
	LOOP
		IF v_art IS DISTINCT FROM r.n THEN
			v_body := v_body OPERATOR(pg_catalog.||) E'\n## 第' OPERATOR(pg_catalog.||) @extschema@._cn_numeral(r.n)
				OPERATOR(pg_catalog.||) E'条\n\n';
			v_art := r.n;
		END IF;
		v_body := v_body OPERATOR(pg_catalog.||) pg_catalog.format(E'- %s（%s）：%s\n',
			CASE r.status WHEN 'ok' THEN '合规' WHEN 'warning' THEN '警告' WHEN 'violation' THEN '违规'
				WHEN 'info' THEN '信息' ELSE r.status END,
			r.check_name, COALESCE(r.detail, ''));
		CASE r.status
			WHEN 'ok' THEN v_ok := v_ok + 1;
			WHEN 'warning' THEN v_warning := v_warning + 1;
			WHEN 'violation' THEN v_violation := v_violation + 1;
			ELSE v_info := v_info + 1;
		END CASE;
	END LOOP;
	RETURN pg_catalog.concat_ws(E'\n',
		'# 人脸识别技术应用合规情况报告', '',
		'依据《人脸识别技术应用安全管理办法》，以下按条款列出本数据库可以核查的事项及其核查结果。',
		'括号内为检查项的名称（供程序识别，不翻译）。', '',
		'- 个人信息处理者：' OPERATOR(pg_catalog.||) COALESCE(@extschema@._caller_processor(), '全部（超级用户）'),
		'- 生成时间：' OPERATOR(pg_catalog.||) pg_catalog.to_char(pg_catalog.statement_timestamp() AT TIME ZONE 'Asia/Shanghai',
			'YYYY-MM-DD HH24:MI') OPERATOR(pg_catalog.||) '（北京时间）',
		pg_catalog.format('- 汇总：合规 %s 项，警告 %s 项，违规 %s 项，信息 %s 项', v_ok, v_warning, v_violation, v_info),
		v_body);
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.job_commands(
	p_purge pg_catalog.text DEFAULT '0 18 * * *',
	p_vacuum pg_catalog.text DEFAULT '20 18 * * *',
	p_scrub pg_catalog.text DEFAULT '40 18 * * *',
	p_audit pg_catalog.text DEFAULT '0 19 * * *',
	p_filing pg_catalog.text DEFAULT '0 17 * * *')
RETURNS TABLE (jobname pg_catalog.text, schedule pg_catalog.text, command pg_catalog.text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
	SELECT j.jobname, j.schedule, j.command FROM (VALUES
		(1, 'frt-purge', p_purge, 'SELECT @extschema@.purge()'),
		(2, 'frt-vacuum', p_vacuum, 'VACUUM (INDEX_CLEANUP ON) @extschema@.face'),
		(3, 'frt-scrub', p_scrub, 'SELECT @extschema@.scrub_faces()'),
		(4, 'frt-audit-retention', p_audit, 'SELECT @extschema@.audit_retention_purge()'),
		(5, 'frt-filing-check', p_filing, 'SELECT @extschema@.filing_check()')
	) AS j(ord, jobname, schedule, command)
	-- The audit-retention job only if the audit layer provides it.
	WHERE j.jobname <> 'frt-audit-retention' OR @extschema@._jobs_have_audit_retention()
	ORDER BY j.ord;
$$;

CREATE OR REPLACE FUNCTION @extschema@.jobs_require_cron()
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	crondb text := pg_catalog.current_setting('cron.database_name', true);
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('pg_cron is not installed in database "%s"', pg_catalog.current_database()),
			ERRCODE = 'undefined_object',
				  DETAIL = CASE WHEN crondb IS NULL
					THEN 'pg_cron is not loaded (add it to shared_preload_libraries and restart).'
					ELSE pg_catalog.format('cron.database_name is "%s".', crondb) END,
				  HINT = 'Set cron.database_name to this database and CREATE EXTENSION pg_cron, '
					'or run the statements of frt.job_commands() from another scheduler (docs/operations.md).';
	END IF;
END;
$$;

CREATE OR REPLACE FUNCTION @extschema@.schedule_jobs(
	p_purge pg_catalog.text DEFAULT '0 18 * * *',
	p_vacuum pg_catalog.text DEFAULT '20 18 * * *',
	p_scrub pg_catalog.text DEFAULT '40 18 * * *',
	p_audit pg_catalog.text DEFAULT '0 19 * * *',
	p_filing pg_catalog.text DEFAULT '0 17 * * *')
RETURNS TABLE (jobname pg_catalog.text, jobid pg_catalog.int8, schedule pg_catalog.text,
			   command pg_catalog.text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	j record;
	ids int8[] := '{}';
	sockdir text;
BEGIN
	PERFORM @extschema@.jobs_require_cron();
	IF NOT pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c
								   WHERE c.oid = '@extschema@.face'::regclass), 'USAGE') THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('frt jobs must be scheduled by the owner of frt.face or a superuser'),
			ERRCODE = 'insufficient_privilege',
				  DETAIL = @extschema@._t('pg_cron runs each job as the role that scheduled it; VACUUM and frt.scrub_faces() need the table owner.');
	END IF;
	FOR j IN SELECT * FROM @extschema@.job_commands(p_purge, p_vacuum, p_scrub, p_audit, p_filing) LOOP
		jobname := j.jobname;
		schedule := j.schedule;
		command := j.command;
		EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO jobid USING j.jobname, j.schedule, j.command;
		ids := ids || jobid;
		RETURN NEXT;
	END LOOP;
	-- pg_cron connects to cron.host (default localhost) over TCP unless it
	-- runs jobs in background workers.  A server that listens on no TCP
	-- address is reached through its socket directory instead.
	IF COALESCE(pg_catalog.current_setting('cron.use_background_workers', true), 'off') = 'off'
	   AND pg_catalog.btrim(pg_catalog.current_setting('listen_addresses')) = '' THEN
		sockdir := pg_catalog.btrim(pg_catalog.split_part(
			pg_catalog.current_setting('unix_socket_directories'), ',', 1));
		BEGIN
			EXECUTE 'UPDATE cron.job SET nodename = $1 WHERE jobid = ANY ($2)' USING sockdir, ids;
			RAISE NOTICE USING MESSAGE = @extschema@._t('the server listens on no TCP address: frt jobs connect through socket directory "%s"', sockdir);
		EXCEPTION WHEN insufficient_privilege THEN
			RAISE WARNING USING MESSAGE = @extschema@._t('pg_cron cannot connect: the server listens on no TCP address'),
				HINT = @extschema@._t('Set cron.use_background_workers = on, or cron.host to the socket directory.');
		END;
	END IF;
	IF NOT @extschema@._jobs_have_audit_retention() THEN
		RAISE NOTICE USING MESSAGE = @extschema@._t('frt.audit_retention_purge() does not exist: no audit-retention job scheduled');
	END IF;
	PERFORM @extschema@.audit_event('jobs_scheduled', 'ok', p_detail =>
		pg_catalog.jsonb_build_object('jobs', (SELECT pg_catalog.jsonb_object_agg(c.jobname, c.schedule)
			FROM @extschema@.job_commands(p_purge, p_vacuum, p_scrub, p_audit, p_filing) c)));
END;
$$;

CREATE OR REPLACE FUNCTION @extschema@._request_working_days()
RETURNS pg_catalog.int4
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT 15 $$;

CREATE OR REPLACE FUNCTION @extschema@.record_request(p_kind pg_catalog.text, p_channel pg_catalog.text,
	p_summary pg_catalog.text, p_subject pg_catalog.text DEFAULT NULL,
	p_purpose pg_catalog.text DEFAULT NULL,
	p_received_on pg_catalog.date DEFAULT @extschema@._filing_today())
RETURNS pg_catalog.int8
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_id pg_catalog.int8;
	v_deadline pg_catalog.date;
	v_proc pg_catalog.text;
BEGIN
	IF p_received_on IS NULL OR p_received_on > @extschema@._filing_today() THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('the day received must be today or earlier'), ERRCODE = 'invalid_parameter_value';
	END IF;
	IF p_purpose IS NOT NULL AND NOT EXISTS (SELECT 1 FROM @extschema@.purpose p WHERE p.name = p_purpose
											 AND @extschema@._processor_visible(p.processor)) THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('purpose "%s" is not registered', p_purpose), ERRCODE = 'foreign_key_violation';
	END IF;
	v_proc := COALESCE(@extschema@._purpose_processor(p_purpose), @extschema@._acting_processor());
	IF v_proc IS NULL THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('the caller acts for no processor'), ERRCODE = 'insufficient_privilege';
	END IF;
	IF p_subject IS NOT NULL AND NOT EXISTS (SELECT 1 FROM @extschema@.subject s
											 WHERE s.processor = v_proc AND s.id = p_subject) THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('subject "%s" is not registered', p_subject), ERRCODE = 'foreign_key_violation',
			HINT = @extschema@._t('Record the request without a subject, and name the person in the summary only as far as needed.');
	END IF;
	v_deadline := @extschema@.working_days_after(p_received_on, @extschema@._request_working_days());
	INSERT INTO @extschema@.request (kind, channel, received_on, subject, purpose, summary, deadline, recorded_by,
		processor)
	VALUES (p_kind, p_channel, p_received_on, p_subject, p_purpose, p_summary, v_deadline, @extschema@._caller(),
		v_proc)
	RETURNING id INTO v_id;
	PERFORM @extschema@.audit_event('request', 'received', p_purpose, p_subject, p_detail =>
		@extschema@._tenant_detail(pg_catalog.jsonb_build_object('article', 'Measures Art. 17', 'id', v_id, 'kind', p_kind,
			'channel', p_channel, 'received_on', p_received_on, 'deadline', v_deadline),
			CASE WHEN @extschema@._processor_count() > 1 THEN v_proc END));
	RETURN v_id;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.update_request(p_id pg_catalog.int8, p_status pg_catalog.text,
	p_answer pg_catalog.text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r @extschema@.request;
	v_today pg_catalog.date := @extschema@._filing_today();
BEGIN
	-- another processor's request reads as no request
	SELECT * INTO r FROM @extschema@.request q
	 WHERE q.id = p_id AND @extschema@._processor_visible(q.processor) FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('no request %s', p_id), ERRCODE = 'no_data_found';
	END IF;
	IF r.status IN ('closed', 'rejected') THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('request %s is already %s', p_id, r.status), ERRCODE = 'invalid_parameter_value';
	END IF;
	IF p_status IS NULL OR p_status NOT IN ('in_progress', 'answered', 'closed', 'rejected') THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('status must be in_progress, answered, closed or rejected, not %s', COALESCE(p_status, 'NULL')),
			ERRCODE = 'invalid_parameter_value';
	END IF;
	IF p_status IN ('answered', 'rejected') AND (p_answer IS NULL OR pg_catalog.btrim(p_answer) = '') THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('an answered or rejected request records the answer or the reason given'),
			ERRCODE = 'null_value_not_allowed';
	END IF;
	IF p_status = 'closed' AND r.answer IS NULL AND (p_answer IS NULL OR pg_catalog.btrim(p_answer) = '') THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('a request closes once answered: give the answer'),
			ERRCODE = 'null_value_not_allowed';
	END IF;
	UPDATE @extschema@.request q SET
		status = p_status,
		answer = COALESCE(NULLIF(pg_catalog.btrim(p_answer), ''), q.answer),
		answered_on = CASE WHEN NULLIF(pg_catalog.btrim(p_answer), '') IS NOT NULL THEN v_today ELSE q.answered_on END,
		closed_on = CASE WHEN p_status IN ('closed', 'rejected') THEN v_today END,
		updated_at = pg_catalog.now()
	 WHERE q.id = p_id;
	PERFORM @extschema@.audit_event('request', p_status, r.purpose, r.subject, p_detail =>
		@extschema@._tenant_detail(pg_catalog.jsonb_build_object('article', 'Measures Art. 17', 'id', p_id,
			'kind', r.kind, 'deadline', r.deadline, 'late', v_today > r.deadline AND r.answered_on IS NULL),
			CASE WHEN @extschema@._processor_count() > 1 THEN r.processor END));
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._requests_overdue()
RETURNS SETOF @extschema@.request
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT * FROM @extschema@.request q
	 WHERE q.answered_on IS NULL AND q.closed_on IS NULL
	   AND q.deadline OPERATOR(pg_catalog.<) @extschema@._filing_today()
	   AND @extschema@._processor_visible(q.processor)
	 ORDER BY q.deadline, q.id;
$$;

CREATE OR REPLACE FUNCTION @extschema@._requests_alert()
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT * FROM @extschema@._requests_overdue() LOOP
		PERFORM @extschema@._jobs_alert('request_overdue', r.purpose, @extschema@._tenant_detail(
			pg_catalog.jsonb_build_object('article', 'Measures Art. 17', 'id', r.id, 'kind', r.kind,
			'received_on', r.received_on, 'deadline', r.deadline, 'working_days_late',
			@extschema@.working_days_between(r.deadline, @extschema@._filing_today())),
			CASE WHEN @extschema@._processor_count() > 1 THEN r.processor END));
	END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._rights_compliance()
RETURNS TABLE (article pg_catalog.text, check_name pg_catalog.text, status pg_catalog.text,
	detail pg_catalog.text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n pg_catalog.int8;
	m pg_catalog.int8;
	v_list pg_catalog.text;
BEGIN
	SELECT pg_catalog.count(*) INTO n FROM @extschema@.request q
	 WHERE q.answered_on IS NULL AND q.closed_on IS NULL AND @extschema@._processor_visible(q.processor);
	SELECT pg_catalog.count(*), pg_catalog.string_agg(@extschema@._t('#%s %s due %s', o.id, o.kind, o.deadline), ', ')
	  INTO m, v_list FROM @extschema@._requests_overdue() o;
	RETURN QUERY SELECT 'Art. 17', 'requests_answered',
		CASE WHEN m > 0 THEN 'violation' WHEN n > 0 THEN 'warning' ELSE 'ok' END,
		@extschema@._t('%s complaints, reports and requests of persons awaiting an answer (%s working days each), %s overdue%s',
			n, @extschema@._request_working_days(), m, COALESCE(': ' || v_list, ''));
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.subject_report(p_subject pg_catalog.text)
RETURNS pg_catalog.jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s @extschema@.subject;
	v pg_catalog.jsonb;
	v_proc pg_catalog.text := @extschema@._acting_processor();
	v_sole pg_catalog.bool := @extschema@._processor_count() <= 1;
BEGIN
	IF p_subject IS NULL THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('subject must not be null'), ERRCODE = 'null_value_not_allowed';
	END IF;
	SELECT * INTO s FROM @extschema@.subject x WHERE x.processor = v_proc AND x.id = p_subject;
	IF NOT FOUND AND NOT EXISTS (SELECT 1 FROM @extschema@.erasure_log l JOIN @extschema@.purpose p ON p.name = l.purpose
								 WHERE l.subject = p_subject AND p.processor = v_proc) THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('subject "%s" is not registered', p_subject), ERRCODE = 'no_data_found';
	END IF;
	v := pg_catalog.jsonb_build_object(
		'subject', p_subject,
		'generated_at', pg_catalog.now(),
		'legal_basis', 'PIPL Art. 44, 45; Measures Art. 5, 6, 17',
		'registered', CASE WHEN s.id IS NOT NULL THEN pg_catalog.jsonb_build_object(
			'birth_date', s.birth_date, 'created_at', s.created_at) END,
		'consents', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'id', c.id, 'purpose', c.purpose, 'processor', pr.name,
				'processor_contact', pr.contact, 'given_by', c.given_by,
				'obtained_how', c.obtained_how, 'separate', c.separate,
				'condition_of_service', c.condition_of_service, 'transfer_consent', c.transfer_consent,
				'given_at', c.given_at, 'renewed_at', c.renewed_at, 'withdrawn_at', c.withdrawn_at,
				'needs_renotice', c.needs_renotice,
				'notice', pg_catalog.jsonb_build_object('version', n.version, 'published_at', n.published_at,
					'body', n.body, 'processing_method', n.processing_method,
					'retention_statement', n.retention_statement,
					'necessity_and_impact', n.necessity_and_impact,
					'rights_procedure', n.rights_procedure, 'accessibility', n.accessibility))
				ORDER BY c.given_at, c.id)
			FROM @extschema@.consent c
			JOIN @extschema@.notice n ON n.purpose = c.purpose AND n.version = c.notice_version
			LEFT JOIN @extschema@.processor pr ON pr.name = c.processor
			WHERE c.processor = v_proc AND c.subject = p_subject), '[]'),
		'faces', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'id', f.id, 'purpose', f.purpose, 'device', f.device, 'minor', f.minor,
				'enrolled_at', f.enrolled_at, 'expires_at', f.expires_at,
				'stored_as', 'encrypted feature vector (not shown)') ORDER BY f.id)
			FROM @extschema@.face f WHERE f.processor = v_proc AND f.subject = p_subject), '[]'),
		'declines', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'purpose', d.purpose, 'device', d.device, 'declined_at', d.declined_at) ORDER BY d.id)
			FROM @extschema@.decline d WHERE d.processor = v_proc AND d.subject = p_subject), '[]'),
		'processing_history', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'seq', a.seq, 'at', a.at, 'event', a.event, 'outcome', a.outcome,
				'purpose', a.purpose, 'device', a.device, 'sqlstate', a.sqlstate) ORDER BY a.seq)
			FROM @extschema@.audit a WHERE a.subject = p_subject
			 AND (v_sole OR COALESCE(a.detail OPERATOR(pg_catalog.->>) 'processor',
				@extschema@._purpose_processor(a.purpose)) = v_proc)), '[]'),
		'erasure', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(e) ORDER BY e.face_id)
			FROM @extschema@.erasure_report(p_subject) e WHERE @extschema@._purpose_visible(e.purpose)), '[]'),
		'requests', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'id', q.id, 'kind', q.kind, 'channel', q.channel, 'received_on', q.received_on,
				'status', q.status, 'deadline', q.deadline, 'answered_on', q.answered_on,
				'answer', q.answer, 'closed_on', q.closed_on) ORDER BY q.id)
			FROM @extschema@.request q WHERE q.processor = v_proc AND q.subject = p_subject), '[]'));
	PERFORM @extschema@.audit_event('subject_report', 'ok', NULL, p_subject, p_detail =>
		@extschema@._tenant_detail(pg_catalog.jsonb_build_object('article', 'Measures Art. 17',
			'caller', @extschema@._caller()), CASE WHEN NOT v_sole THEN v_proc END));
	RETURN v;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.subject_report_document(p_subject pg_catalog.text)
RETURNS pg_catalog.text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r pg_catalog.jsonb := @extschema@.subject_report(p_subject);
	x pg_catalog.jsonb;
	d pg_catalog.text;
BEGIN
	d := pg_catalog.concat_ws(E'\n',
		'# 个人信息查询答复：人脸信息', '',
		'依据《中华人民共和国个人信息保护法》第四十四条、第四十五条及《人脸识别技术应用安全管理办法》，现将我们处理的您的人脸信息及相关情况答复如下。', '',
		'- 个人编号（假名）：' || (r->>'subject'),
		'- 出生日期：' || @extschema@._doc_text(r->'registered'->'birth_date'),
		'- 答复生成时间：' || @extschema@._doc_text(r->'generated_at'), '',
		'## 一、您的同意及向您告知的事项', '');
	FOR x IN SELECT * FROM pg_catalog.jsonb_array_elements(r->'consents') LOOP
		d := pg_catalog.concat_ws(E'\n', d,
			'### 处理目的：' || (x->>'purpose'), '',
			'- 个人信息处理者：' || @extschema@._doc_text(x->'processor') || '（联系方式：' || @extschema@._doc_text(x->'processor_contact') || '）',
			'- 同意人：' || CASE x->>'given_by' WHEN 'guardian' THEN '父母或者其他监护人' ELSE '本人' END
				|| '；方式：' || CASE x->>'obtained_how' WHEN 'written' THEN '书面' WHEN 'electronic' THEN '电子' ELSE '当面' END
				|| '；单独同意：' || @extschema@._doc_text(x->'separate')
				|| '；同意对外传输：' || @extschema@._doc_text(x->'transfer_consent'),
			'- 同意时间：' || @extschema@._doc_text(x->'given_at') || '；更新时间：' || @extschema@._doc_text(x->'renewed_at')
				|| '；撤回时间：' || @extschema@._doc_text(x->'withdrawn_at'),
			'- 告知版本：' || @extschema@._doc_text(x->'notice'->'version') || '（发布于 ' || @extschema@._doc_text(x->'notice'->'published_at') || '）',
			'- 告知正文：' || @extschema@._doc_text(x->'notice'->'body'),
			'- 处理方式：' || @extschema@._doc_text(x->'notice'->'processing_method'),
			'- 保存期限：' || @extschema@._doc_text(x->'notice'->'retention_statement'),
			'- 必要性及对个人权益的影响：' || @extschema@._doc_text(x->'notice'->'necessity_and_impact'),
			'- 行使权利的方式和程序：' || @extschema@._doc_text(x->'notice'->'rights_procedure'), '');
	END LOOP;
	d := pg_catalog.concat_ws(E'\n', d, '## 二、我们保存的您的人脸信息', '',
		'人脸信息以加密的特征向量保存，本答复不包含特征向量本身。', '');
	FOR x IN SELECT * FROM pg_catalog.jsonb_array_elements(r->'faces') LOOP
		d := d || E'\n' || pg_catalog.format('- 记录 %s：处理目的 %s，采集设备 %s，录入时间 %s，保存至 %s%s',
			x->>'id', x->>'purpose', @extschema@._doc_text(x->'device'), x->>'enrolled_at', x->>'expires_at',
			CASE WHEN (x->>'minor')::pg_catalog.bool THEN '（录入时不满十四周岁）' ELSE '' END);
	END LOOP;
	IF pg_catalog.jsonb_array_length(r->'faces') = 0 THEN
		d := d || E'\n（无）';
	END IF;
	d := pg_catalog.concat_ws(E'\n', d, '', '## 三、处理记录', '');
	FOR x IN SELECT * FROM pg_catalog.jsonb_array_elements(r->'processing_history') LOOP
		d := d || E'\n' || pg_catalog.format('- %s %s/%s%s%s', x->>'at', x->>'event', x->>'outcome',
			COALESCE('，处理目的 ' || (x->>'purpose'), ''), COALESCE('，设备 ' || (x->>'device'), ''));
	END LOOP;
	d := pg_catalog.concat_ws(E'\n', d, '', '## 四、删除情况', '');
	FOR x IN SELECT * FROM pg_catalog.jsonb_array_elements(r->'erasure') LOOP
		d := d || E'\n' || pg_catalog.format('- 记录 %s（%s）：状态 %s，原因 %s，删除时间 %s，覆写确认 %s',
			x->>'face_id', x->>'purpose', x->>'status', @extschema@._doc_text(x->'reason'),
			@extschema@._doc_text(x->'deleted_at'), @extschema@._doc_text(x->'heap_erased_at'));
	END LOOP;
	d := pg_catalog.concat_ws(E'\n', d, '', '## 五、您的投诉、举报和请求', '');
	FOR x IN SELECT * FROM pg_catalog.jsonb_array_elements(r->'requests') LOOP
		d := d || E'\n' || pg_catalog.format('- 第 %s 号（%s）：收到 %s，答复期限 %s，状态 %s，答复 %s',
			x->>'id', x->>'kind', x->>'received_on', x->>'deadline', x->>'status', @extschema@._doc_text(x->'answer'));
	END LOOP;
	IF pg_catalog.jsonb_array_length(r->'requests') = 0 THEN
		d := d || E'\n（无）';
	END IF;
	RETURN d || E'\n';
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._intrusion_check_identified(pol @extschema@.intrusion_policy,
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

CREATE OR REPLACE FUNCTION @extschema@._intrusion_check_lockout(pol @extschema@.intrusion_policy,
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

CREATE OR REPLACE FUNCTION @extschema@._intrusion_after_match(p_function pg_catalog.text,
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
		PERFORM @extschema@._refuse('MF014', 14, @extschema@._t(
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

CREATE OR REPLACE FUNCTION @extschema@.open_incident(p_alert_seq pg_catalog.int8,
	p_description pg_catalog.text DEFAULT NULL, p_major pg_catalog.bool DEFAULT true)
RETURNS pg_catalog.int8
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	a record;
BEGIN
	SELECT * INTO a FROM @extschema@.alert WHERE seq = p_alert_seq;
	IF NOT FOUND THEN
		PERFORM @extschema@._reject('P0002', @extschema@._t('audit record %s is not an alert', p_alert_seq),
			'open_incident', NULL, NULL, NULL);
	END IF;
	RETURN @extschema@.record_incident(
		COALESCE(p_description, pg_catalog.format('intrusion alert %s (audit record %s)', a.kind, a.seq)),
		CASE WHEN a.purpose IS NOT NULL THEN ARRAY[a.purpose] END, p_major, a.at, a.seq);
END
$$;

-- the audit chain's checks run as the extension owner (src/registry/85_tenancy.sql)
ALTER FUNCTION @extschema@.verify_audit_chain() SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.verify_audit_chain(pg_catalog.int8, pg_catalog.text, pg_catalog.text,
	pg_catalog.text) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@._audit_anchor_check(pg_catalog.int8, pg_catalog.text, pg_catalog.text,
	pg_catalog.text) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.audit_head() SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
-- frt_admin updates every column of purpose and device but the approval ones
SELECT @extschema@._grant_registry_update();
-- as the install script ends: any function whose privileges were never set is revoked from PUBLIC
SELECT @extschema@._revoke_public_execute();
-- ---- end of function bodies of this release ----

-- ---- Device sync: the devices' trails and faces received (registry) ----
-- Layer 5: a device's trail and faces, received from the device (the
-- SQLite edition's frt_sync_export(); docs/sqlite.md, "Sync to the
-- server").  frt.device_sync() takes one payload from a login bound to the
-- device: the device's audit records after the last ones the server
-- received, whose chain must continue exactly from them (hashed with the
-- server's own chain code, src/chain/chain.c), and the faces whose
-- subjects gave the device a separate consent to transfer them (Measures
-- Art. 8).  Each face is enrolled through frt.enroll(), every rule of the
-- server applying, and only when the device's stored trail records the
-- subject's consent and transfer consent and no withdrawal since.
-- See docs/sql/governance.md ("Device sync").

-- The device trails as received: one row per device record, its chain
-- fields as the device hashed them; append-only (like frt.audit).
CREATE TABLE @extschema@.device_audit (
	processor		pg_catalog.text NOT NULL,
	device			pg_catalog.text NOT NULL,		-- the device that sent the record
	seq				pg_catalog.int8 NOT NULL CHECK (seq > 0),
	at				pg_catalog.timestamptz NOT NULL,
	event			pg_catalog.text NOT NULL,
	outcome			pg_catalog.text NOT NULL,
	sqlstate		pg_catalog.text,
	role_name		pg_catalog.text,
	effective_role	pg_catalog.text,
	application		pg_catalog.text,
	client_addr		pg_catalog.inet,
	backend_pid		pg_catalog.int4 NOT NULL,
	purpose			pg_catalog.text,
	subject			pg_catalog.text,
	record_device	pg_catalog.text,				-- the record's own device field
	similarity		pg_catalog.float8,
	detail			pg_catalog.jsonb,
	prev_hash		pg_catalog.bytea NOT NULL CHECK (pg_catalog.length(prev_hash) = 32),
	hash			pg_catalog.bytea NOT NULL CHECK (pg_catalog.length(hash) = 32),
	hash_alg		pg_catalog.text NOT NULL
		CHECK (hash_alg OPERATOR(pg_catalog.=) ANY ('{sha256,sm3}'::pg_catalog.text[])),
	received_at		pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	receipt_seq		pg_catalog.int8 NOT NULL,		-- frt.audit seq of the sync that brought it
	PRIMARY KEY (processor, device, seq)
);
COMMENT ON TABLE @extschema@.device_audit IS
	'devices'' audit trails as received by frt.device_sync(): append-only, hash-chained per device as on the device (Measures Art. 8, 14)';
COMMENT ON COLUMN @extschema@.device_audit.record_device IS 'the device field of the record as the device hashed it';
COMMENT ON COLUMN @extschema@.device_audit.receipt_seq IS 'frt.audit seq of the device_sync receipt that stored the record';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.device_audit', '');

-- The faces a device's syncs enrolled: one per transfer consent, so that a
-- payload sent again (its acknowledgement lost) enrols nothing twice.
CREATE TABLE @extschema@.device_face (
	processor		pg_catalog.text NOT NULL,
	device			pg_catalog.text NOT NULL,
	subject			pg_catalog.text NOT NULL,
	purpose			pg_catalog.text NOT NULL,
	transfer_seq	pg_catalog.int8 NOT NULL,		-- the device record of the transfer consent
	face_id			pg_catalog.int8 NOT NULL,		-- frt.face id it was enrolled as
	receipt_seq		pg_catalog.int8 NOT NULL,		-- frt.audit seq of the sync that brought it
	PRIMARY KEY (processor, device, subject, purpose, transfer_seq)
);
COMMENT ON TABLE @extschema@.device_face IS
	'faces enrolled from devices by frt.device_sync(), one per transfer consent recorded in the device''s trail (a payload sent again enrols nothing twice)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.device_face', '');

-- Refuse (MF141) any change to a received device trail but appending.
CREATE FUNCTION @extschema@._device_audit_guard()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._refuse('MF141', 14, @extschema@._t(
		'the devices'' audit trails are append-only: %s is refused', TG_OP),
		'device_audit', NULL, NULL, NULL);
	RETURN NULL;
END
$$;
CREATE TRIGGER device_audit_append_only BEFORE UPDATE OR DELETE ON @extschema@.device_audit
	FOR EACH ROW EXECUTE FUNCTION @extschema@._device_audit_guard();
CREATE TRIGGER device_audit_no_truncate BEFORE TRUNCATE ON @extschema@.device_audit
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._device_audit_guard();
ALTER TABLE @extschema@.device_audit ENABLE ALWAYS TRIGGER device_audit_append_only;
ALTER TABLE @extschema@.device_audit ENABLE ALWAYS TRIGGER device_audit_no_truncate;

-- The chain hash of a device record (src/registry/device_chain.c, with
-- FrtChainHash): seq, at, backend_pid, similarity, the text fields in
-- chain order, prev_hash, hash_alg.
CREATE FUNCTION @extschema@._device_chain_hash(p_seq pg_catalog.int8, p_at pg_catalog.timestamptz,
	p_backend_pid pg_catalog.int4, p_similarity pg_catalog.float8, p_fields pg_catalog.text[],
	p_prev_hash pg_catalog.bytea, p_hash_alg pg_catalog.text)
RETURNS pg_catalog.bytea
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'frt_device_chain_hash';

-- A device record's 'at' (microseconds since 2000-01-01 UTC) as an instant, exactly.
CREATE FUNCTION @extschema@._device_chain_at(p_at pg_catalog.int8)
RETURNS pg_catalog.timestamptz
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'frt_device_chain_at';

-- The hash a stored device record must have: its fields as the device
-- hashed them (client_addr and detail in their output forms).
CREATE FUNCTION @extschema@._device_record_hash(a @extschema@.device_audit)
RETURNS pg_catalog.bytea
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT @extschema@._device_chain_hash(a.seq, a.at, a.backend_pid, a.similarity,
		ARRAY[a.event, a.outcome, a.sqlstate, a.role_name, a.effective_role, a.application,
			CASE WHEN a.client_addr IS NOT NULL THEN pg_catalog.format('%s', a.client_addr) END,
			a.purpose, a.subject, a.record_device, a.detail::pg_catalog.text]::pg_catalog.text[],
		a.prev_hash, a.hash_alg);
$$;

-- The device records that give, transfer and withdraw consent (the
-- SQLite edition's governance writes them; docs/sqlite.md, "Audit trail").
CREATE FUNCTION @extschema@._device_consent_events()
RETURNS TABLE (kind pg_catalog.text, event pg_catalog.text, outcome pg_catalog.text)
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	VALUES ('consent', 'consent', 'given'),
		('consent', 'consent', 'renewed'),
		('transfer', 'consent', 'transfer_given'),
		('withdrawal', 'consent', 'withdrawn'),
		('expiry', 'consent', 'expired');
$$;

-- Whether the stored trail of a device holds, at p_seq, a record of kind
-- p_kind ('consent', 'transfer') for the subject and purpose.
CREATE FUNCTION @extschema@._device_trail_holds(p_processor pg_catalog.text, p_device pg_catalog.text,
	p_kind pg_catalog.text, p_seq pg_catalog.int8, p_subject pg_catalog.text, p_purpose pg_catalog.text)
RETURNS pg_catalog.bool
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT 1 FROM @extschema@.device_audit a
				   JOIN @extschema@._device_consent_events() e
					 ON e.event = a.event AND e.outcome = a.outcome AND e.kind = p_kind
				   WHERE a.processor = p_processor AND a.device = p_device AND a.seq = p_seq
					 AND a.subject = p_subject AND a.purpose = p_purpose);
$$;

-- The first record after p_after in the stored trail of a device of one
-- of the kinds p_kinds (_device_consent_events) for the subject and
-- purpose (a withdrawal or expiry may name no purpose: every purpose);
-- NULL: none.
CREATE FUNCTION @extschema@._device_trail_next(p_processor pg_catalog.text, p_device pg_catalog.text,
	p_kinds pg_catalog.text[], p_subject pg_catalog.text, p_purpose pg_catalog.text, p_after pg_catalog.int8)
RETURNS pg_catalog.int8
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.min(a.seq) FROM @extschema@.device_audit a
	JOIN @extschema@._device_consent_events() e
	  ON e.event = a.event AND e.outcome = a.outcome AND e.kind = ANY (p_kinds)
	WHERE a.processor = p_processor AND a.device = p_device AND a.seq > p_after
	  AND a.subject = p_subject AND (a.purpose = p_purpose OR a.purpose IS NULL);
$$;

-- Whether a JSON value is an integer that fits int8.
CREATE FUNCTION @extschema@._json_is_int8(p_value pg_catalog.jsonb)
RETURNS pg_catalog.bool
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT COALESCE(pg_catalog.jsonb_typeof(p_value) = 'number'
		AND (p_value OPERATOR(pg_catalog.#>>) '{}') ~ '^-?[0-9]{1,18}$', false);
$$;

-- Whether a JSON value is a string, or absent or null when p_null.
CREATE FUNCTION @extschema@._json_is_text(p_value pg_catalog.jsonb, p_null pg_catalog.bool)
RETURNS pg_catalog.bool
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN p_value IS NULL OR pg_catalog.jsonb_typeof(p_value) = 'null' THEN p_null
		ELSE pg_catalog.jsonb_typeof(p_value) = 'string' END;
$$;

-- One record of a payload's "audit" array as a device_audit row of
-- p_processor's p_device (receipt_seq unset); data_exception if it is not
-- a well-formed record.
CREATE FUNCTION @extschema@._device_record(p_rec pg_catalog.jsonb, p_processor pg_catalog.text,
	p_device pg_catalog.text)
RETURNS @extschema@.device_audit
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	a @extschema@.device_audit;
	k pg_catalog.text;
BEGIN
	IF pg_catalog.jsonb_typeof(p_rec) IS DISTINCT FROM 'object'
	   OR NOT (@extschema@._json_is_int8(p_rec->'seq') AND @extschema@._json_is_int8(p_rec->'at')
			   AND @extschema@._json_is_int8(p_rec->'backend_pid'))
	   OR NOT (p_rec->'similarity' IS NULL OR pg_catalog.jsonb_typeof(p_rec->'similarity') IN ('null', 'number'))
	   OR NOT (@extschema@._json_is_text(p_rec->'event', false) AND @extschema@._json_is_text(p_rec->'outcome', false)
			   AND @extschema@._json_is_text(p_rec->'prev_hash', false) AND @extschema@._json_is_text(p_rec->'hash', false)
			   AND @extschema@._json_is_text(p_rec->'hash_alg', false)) THEN
		RAISE EXCEPTION USING ERRCODE = 'data_exception';
	END IF;
	FOREACH k IN ARRAY ARRAY['sqlstate', 'role_name', 'effective_role', 'application', 'client_addr',
		'purpose', 'subject', 'device'] LOOP
		IF NOT @extschema@._json_is_text(p_rec->k, true) THEN
			RAISE EXCEPTION USING ERRCODE = 'data_exception';
		END IF;
	END LOOP;
	IF (p_rec->>'prev_hash') !~ '^[0-9a-f]{64}$' OR (p_rec->>'hash') !~ '^[0-9a-f]{64}$'
	   OR NOT (p_rec->>'hash_alg') = ANY ('{sha256,sm3}'::pg_catalog.text[]) THEN
		RAISE EXCEPTION USING ERRCODE = 'data_exception';
	END IF;
	a.processor := p_processor;
	a.device := p_device;
	a.seq := (p_rec->>'seq')::pg_catalog.int8;
	a.at := @extschema@._device_chain_at((p_rec->>'at')::pg_catalog.int8);
	a.event := p_rec->>'event';
	a.outcome := p_rec->>'outcome';
	a.sqlstate := p_rec->>'sqlstate';
	a.role_name := p_rec->>'role_name';
	a.effective_role := p_rec->>'effective_role';
	a.application := p_rec->>'application';
	a.client_addr := (p_rec->>'client_addr')::pg_catalog.inet;
	a.backend_pid := (p_rec->>'backend_pid')::pg_catalog.int4;
	a.purpose := p_rec->>'purpose';
	a.subject := p_rec->>'subject';
	a.record_device := p_rec->>'device';
	a.similarity := (p_rec->>'similarity')::pg_catalog.float8;
	a.detail := CASE WHEN pg_catalog.jsonb_typeof(p_rec->'detail') IS DISTINCT FROM 'null' THEN p_rec->'detail' END;
	a.prev_hash := pg_catalog.decode(p_rec->>'prev_hash', 'hex');
	a.hash := pg_catalog.decode(p_rec->>'hash', 'hex');
	a.hash_alg := p_rec->>'hash_alg';
	IF a.seq < 1 THEN
		RAISE EXCEPTION USING ERRCODE = 'data_exception';
	END IF;
	RETURN a;
END
$$;

-- One face of a payload, from p_device of p_processor: accepted (enrolled
-- through frt.enroll) only if the device's stored trail records, at
-- consent_seq and transfer_seq, the subject's consent and separate
-- transfer consent for the purpose, no consent given again since the
-- transfer consent (which clears it) and no withdrawal, and every
-- rule of the server allows it.  Returns {face (p_index), subject,
-- purpose, face_id} or, refused (audited), {face, subject, purpose, sqlstate}.
CREATE FUNCTION @extschema@._device_sync_face(p_processor pg_catalog.text, p_device pg_catalog.text,
	p_face pg_catalog.jsonb, p_index pg_catalog.int8, p_receipt pg_catalog.int8)
RETURNS pg_catalog.jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_subject pg_catalog.text := CASE WHEN pg_catalog.jsonb_typeof(p_face->'subject') = 'string' THEN p_face->>'subject' END;
	v_purpose pg_catalog.text := CASE WHEN pg_catalog.jsonb_typeof(p_face->'purpose') = 'string' THEN p_face->>'purpose' END;
	v_cseq pg_catalog.int8;
	v_tseq pg_catalog.int8;
	v_withdrawn pg_catalog.int8;
	v_renewed pg_catalog.int8;
	v_birth pg_catalog.date;
	v_guardian pg_catalog.text;
	v_tbirth pg_catalog.text;
	v_tby pg_catalog.text;
	v_export pg_catalog.bool;
	v_stored pg_catalog.bool;
	v_embedding @extschema@.face_embedding;
	v_id pg_catalog.int8;
	v_state pg_catalog.text;
BEGIN
	BEGIN
		IF v_subject IS NULL OR v_purpose IS NULL
		   OR NOT (@extschema@._json_is_int8(p_face->'consent_seq') AND @extschema@._json_is_int8(p_face->'transfer_seq'))
		   OR NOT @extschema@._json_is_text(p_face->'embedding', false)
		   OR NOT @extschema@._json_is_text(p_face->'birth_date', true)
		   OR NOT @extschema@._json_is_text(p_face->'guardian', true) THEN
			PERFORM @extschema@._reject('22023', @extschema@._t('device sync payload is malformed at %s',
				pg_catalog.format('faces[%s]', p_index)), 'device_sync', NULL, NULL, p_device);
		END IF;
		v_cseq := (p_face->>'consent_seq')::pg_catalog.int8;
		v_tseq := (p_face->>'transfer_seq')::pg_catalog.int8;
		-- the server's rules first: the caller's processor's purpose, granted for enrolment
		PERFORM @extschema@._check_tenant('device_sync', v_purpose, v_subject, p_device);
		IF @extschema@._purpose_processor(v_purpose) IS DISTINCT FROM p_processor THEN
			PERFORM @extschema@._refuse('MF160', 4, @extschema@._t(
				'purpose %L is not registered for the processor the caller acts for', v_purpose),
				'device_sync', NULL, v_subject, p_device);
		END IF;
		PERFORM @extschema@._check_authorized('device_sync', 'enrol', v_purpose, p_device);
		-- the device's trail: consent, then the separate transfer consent, not withdrawn since
		IF NOT @extschema@._device_trail_holds(p_processor, p_device, 'consent', v_cseq, v_subject, v_purpose) THEN
			PERFORM @extschema@._refuse('MF006', 6, @extschema@._t(
				'the audit trail of device %L records no consent of subject %L for purpose %L at record %s',
				p_device, v_subject, v_purpose, v_cseq), 'device_sync', v_purpose, v_subject, p_device);
		END IF;
		IF v_tseq <= v_cseq
		   OR NOT @extschema@._device_trail_holds(p_processor, p_device, 'transfer', v_tseq, v_subject, v_purpose) THEN
			PERFORM @extschema@._refuse('MF008', 8, @extschema@._t(
				'the audit trail of device %L records no separate consent of subject %L to transfer face data for purpose %L at record %s',
				p_device, v_subject, v_purpose, v_tseq), 'device_sync', v_purpose, v_subject, p_device);
		END IF;
		-- a consent given again clears the transfer consent (the device asks
		-- for it anew): a face under the one before is not to be sent
		v_renewed := @extschema@._device_trail_next(p_processor, p_device, '{consent}', v_subject, v_purpose, v_tseq);
		IF v_renewed IS NOT NULL THEN
			PERFORM @extschema@._refuse('MF008', 8, @extschema@._t(
				'subject %L gave consent for purpose %L again on device %L (its audit record %s), which cleared the separate consent to transfer face data of record %s',
				v_subject, v_purpose, p_device, v_renewed, v_tseq), 'device_sync', v_purpose, v_subject, p_device);
		END IF;
		v_withdrawn := @extschema@._device_trail_next(p_processor, p_device, '{withdrawal,expiry}', v_subject, v_purpose,
			v_cseq);
		IF v_withdrawn IS NOT NULL THEN
			PERFORM @extschema@._refuse('MF006', 6, @extschema@._t(
				'subject %L withdrew consent for purpose %L on device %L (its audit record %s)',
				v_subject, v_purpose, p_device, v_withdrawn), 'device_sync', v_purpose, v_subject, p_device);
		END IF;
		-- received before, by a sync whose acknowledgement the device did not
		-- get: answered as then, enrolled once
		SELECT f.face_id INTO v_id FROM @extschema@.device_face f
		WHERE f.processor = p_processor AND f.device = p_device AND f.subject = v_subject
		  AND f.purpose = v_purpose AND f.transfer_seq = v_tseq;
		IF FOUND THEN
			RETURN pg_catalog.jsonb_build_object('face', p_index, 'subject', v_subject, 'purpose', v_purpose,
				'face_id', v_id, 'again', true);
		END IF;
		-- who gave the consent, and the birth date, as the chained trail
		-- records them (a payload's own claims are not evidence): a face
		-- whose payload says otherwise is refused (Art. 6, 7)
		SELECT x.detail->>'birth_date', x.detail->>'given_by' INTO v_tbirth, v_tby
		FROM @extschema@.device_audit x
		WHERE x.processor = p_processor AND x.device = p_device AND x.seq = v_cseq;
		IF (p_face ? 'birth_date' AND (p_face->>'birth_date') IS DISTINCT FROM v_tbirth)
		   OR (p_face->>'guardian' IS NOT NULL) IS DISTINCT FROM (v_tby IS NOT DISTINCT FROM 'guardian') THEN
			PERFORM @extschema@._refuse('MF006', 6, @extschema@._t(
				'the consent of subject %L for purpose %L sent by device %L is not the consent its audit record %s states (birth date, or who gave it)',
				v_subject, v_purpose, p_device, v_cseq), 'device_sync', v_purpose, v_subject, p_device);
		END IF;
		-- the face itself (a malformed one is rejected, never shown)
		v_embedding := (p_face->>'embedding')::@extschema@.face_embedding;
		-- the subject as the server keeps it: id and birth date (Art. 7)
		IF NOT EXISTS (SELECT 1 FROM @extschema@.subject s WHERE s.processor = p_processor AND s.id = v_subject) THEN
			v_birth := v_tbirth::pg_catalog.date;
			IF v_birth IS NULL THEN
				PERFORM @extschema@._refuse('MF006', 6, @extschema@._t(
					'subject %L is not registered, so has no separate, active consent for purpose %L', v_subject, v_purpose),
					'device_sync', v_purpose, v_subject, p_device);
			END IF;
			INSERT INTO @extschema@.subject (processor, id, birth_date) VALUES (p_processor, v_subject, v_birth);
		END IF;
		-- the server's consent record: the consent the device recorded, with
		-- the separate consent the device calls transfer consent, which is
		-- consent to storing the face here, central storage (Art. 8); not
		-- consent to hand it to another party (export keeps its own
		-- transfer_consent, which a consent given here keeps)
		SELECT c.transfer_consent, c.central_storage_consent AND NOT c.needs_renotice
		INTO v_export, v_stored
		FROM @extschema@.consent c
		WHERE c.processor = p_processor AND c.subject = v_subject AND c.purpose = v_purpose
		  AND c.withdrawn_at IS NULL;
		IF v_stored IS NOT TRUE THEN
			v_guardian := p_face->>'guardian';
			PERFORM @extschema@.give_consent(v_subject, v_purpose,
				CASE WHEN v_guardian IS NULL THEN 'self' ELSE 'guardian' END, 'electronic', v_guardian,
				p_transfer_consent => COALESCE(v_export, false), p_central_storage => true);
		END IF;
		v_id := @extschema@.enroll(v_subject, v_purpose, v_embedding, p_device);
		INSERT INTO @extschema@.device_face (processor, device, subject, purpose, transfer_seq, face_id, receipt_seq)
		VALUES (p_processor, p_device, v_subject, v_purpose, v_tseq, v_id, p_receipt);
		RETURN pg_catalog.jsonb_build_object('face', p_index, 'subject', v_subject, 'purpose', v_purpose,
			'face_id', v_id);
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE;
	END;
	-- on record: which face of the sync, and why (the check's own record
	-- holds the reason); another processor's purpose is not named
	PERFORM @extschema@.audit_event('device_sync', 'face_refused',
		CASE WHEN @extschema@._purpose_processor(v_purpose) = p_processor THEN v_purpose END,
		v_subject, p_device, NULL, v_state,
		@extschema@._tenant_detail(pg_catalog.jsonb_build_object('face', p_index, 'receipt', p_receipt,
			'consent_seq', p_face->'consent_seq', 'transfer_seq', p_face->'transfer_seq'),
			@extschema@._record_processor(NULL)));
	RETURN pg_catalog.jsonb_build_object('face', p_index, 'subject', v_subject, 'purpose', v_purpose,
		'sqlstate', v_state);
END
$$;

-- Receive a device's sync payload (frt_sync_export() of the SQLite
-- edition): the caller is a login bound to the device, the device
-- registered and approved; the trail must continue the one received
-- before, record by record (seq, prev_hash, and each hash recomputed), or
-- the whole payload is refused (MF148) and nothing is stored (records the
-- server holds already may lead the payload, unchanged: a payload sent
-- again after a lost acknowledgement is answered again, its faces
-- enrolled once, frt.device_face); then the
-- withdrawals it records are applied, and each face is accepted or
-- refused on its own.  Returns the acknowledgement:
-- {"device", "received_through", "received_hash", "receipt", "accepted":
-- [{"face", "subject", "purpose", "face_id"}], "refused": [{"face", "subject",
-- "purpose", "sqlstate"}]} ("face": the face's index in the payload).
CREATE FUNCTION @extschema@.device_sync(p_payload pg_catalog.jsonb)
RETURNS pg_catalog.jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_caller pg_catalog.name := @extschema@._caller();
	v_device pg_catalog.text;
	v_proc pg_catalog.text;
	d @extschema@.device;
	a @extschema@.device_audit;
	v_rows @extschema@.device_audit[] := '{}';
	v_last pg_catalog.int8 := 0;
	v_last_hash pg_catalog.bytea := pg_catalog.decode(pg_catalog.repeat('00', 32), 'hex');
	v_first pg_catalog.int8;
	v_held pg_catalog.int8;
	v_cur pg_catalog.int8;
	v_receipt pg_catalog.int8;
	v_result pg_catalog.jsonb;
	v_accepted pg_catalog.jsonb := '[]';
	v_refused pg_catalog.jsonb := '[]';
	r record;
BEGIN
	IF pg_catalog.jsonb_typeof(p_payload) IS DISTINCT FROM 'object'
	   OR (p_payload->>'format') IS DISTINCT FROM 'frt-device-sync-v1'
	   OR pg_catalog.jsonb_typeof(p_payload->'device') IS DISTINCT FROM 'string'
	   OR pg_catalog.jsonb_typeof(p_payload->'processor') IS DISTINCT FROM 'string'
	   OR pg_catalog.jsonb_typeof(p_payload->'audit') IS DISTINCT FROM 'array'
	   OR pg_catalog.jsonb_typeof(p_payload->'faces') IS DISTINCT FROM 'array' THEN
		PERFORM @extschema@._reject('22023', @extschema@._t('device sync payload is malformed at %s', 'frt-device-sync-v1'),
			'device_sync', NULL, NULL, CASE WHEN pg_catalog.jsonb_typeof(p_payload->'device') = 'string'
				THEN p_payload->>'device' END);
	END IF;
	v_device := p_payload->>'device';
	v_proc := p_payload->>'processor';
	-- a login bound to the device, acting for the device's processor; an
	-- unknown device and one of another processor are refused alike
	IF NOT @extschema@._caller_is_superuser()
	   AND (v_proc IS DISTINCT FROM @extschema@._caller_processor()
			OR NOT EXISTS (SELECT 1 FROM @extschema@.device_login b
						   JOIN pg_catalog.pg_roles o ON o.rolname = b.grantee
						   WHERE b.processor = v_proc AND b.device = v_device
							 AND pg_catalog.pg_has_role(v_caller, o.oid, 'MEMBER'))) THEN
		PERFORM @extschema@._refuse('MF145', 14, @extschema@._t(
			'role %s is not bound to device %L', v_caller, v_device),
			'device_sync', NULL, NULL, v_device,
			p_hint => @extschema@._t('A member of frt_admin binds an application to its devices with frt.bind_device().'));
	END IF;
	-- one sync of a device at a time
	SELECT * INTO d FROM @extschema@.device WHERE processor = v_proc AND name = v_device FOR NO KEY UPDATE;
	IF NOT FOUND THEN
		PERFORM @extschema@._refuse('MF013', 13, @extschema@._t('device %L is not registered', v_device),
			'device_sync', NULL, NULL, v_device);
	END IF;
	IF d.approved_at IS NULL THEN
		PERFORM @extschema@._refuse('MF146', 14, @extschema@._t(
			'device %L was registered or changed and awaits approval by a second member of frt_admin', v_device),
			'device_sync', NULL, NULL, v_device);
	END IF;
	-- the trail continues the one received before, exactly
	SELECT x.seq, x.hash INTO v_last, v_last_hash FROM @extschema@.device_audit x
	WHERE x.processor = v_proc AND x.device = v_device ORDER BY x.seq DESC LIMIT 1;
	IF NOT FOUND THEN
		v_last := 0;
		v_last_hash := pg_catalog.decode(pg_catalog.repeat('00', 32), 'hex');
	END IF;
	v_held := v_last;
	FOR r IN SELECT e.value, e.ordinality FROM pg_catalog.jsonb_array_elements(p_payload->'audit') WITH ORDINALITY e LOOP
		BEGIN
			a := @extschema@._device_record(r.value, v_proc, v_device);
		EXCEPTION WHEN data_exception THEN
			PERFORM @extschema@._reject('22023', @extschema@._t('device sync payload is malformed at %s',
				pg_catalog.format('audit[%s]', r.ordinality - 1)), 'device_sync', NULL, NULL, v_device);
		END;
		IF a.seq <= v_held THEN
			-- held already (a payload sent again after a lost acknowledgement):
			-- the same record, in order, or the payload is refused
			IF a.seq <> COALESCE(v_cur + 1, a.seq)
			   OR @extschema@._device_record_hash(a) <> a.hash
			   OR NOT EXISTS (SELECT 1 FROM @extschema@.device_audit x
							  WHERE x.processor = v_proc AND x.device = v_device
								AND x.seq = a.seq AND x.hash = a.hash) THEN
				PERFORM @extschema@._refuse('MF148', 14, @extschema@._t(
					'device %L sent audit record %s again, not as the server holds it',
					v_device, a.seq), 'device_sync', NULL, NULL, v_device,
					p_detail => @extschema@._t('Nothing of the payload was stored.'));
			END IF;
			v_cur := a.seq;
			CONTINUE;
		END IF;
		v_cur := a.seq;
		v_first := COALESCE(v_first, a.seq);
		IF a.seq > v_last + 1 THEN
			PERFORM @extschema@._refuse('MF148', 14, @extschema@._t(
				'device %L sent audit record %s, but the server holds its trail through record %s: records are missing',
				v_device, a.seq, v_last), 'device_sync', NULL, NULL, v_device,
				p_detail => @extschema@._t('Nothing of the payload was stored.'));
		END IF;
		IF a.prev_hash <> v_last_hash THEN
			PERFORM @extschema@._refuse('MF148', 14, @extschema@._t(
				'audit record %s of device %L does not continue its chain: its previous hash is not the hash of record %s',
				a.seq, v_device, v_last), 'device_sync', NULL, NULL, v_device,
				p_detail => @extschema@._t('Nothing of the payload was stored.'));
		END IF;
		IF @extschema@._device_record_hash(a) <> a.hash THEN
			PERFORM @extschema@._refuse('MF148', 14, @extschema@._t(
				'audit record %s of device %L does not verify: its hash is not the hash of its content',
				a.seq, v_device), 'device_sync', NULL, NULL, v_device,
				p_detail => @extschema@._t('Nothing of the payload was stored.'));
		END IF;
		v_last := a.seq;
		v_last_hash := a.hash;
		v_rows := v_rows OPERATOR(pg_catalog.||) a;
	END LOOP;
	-- received: on record, then stored with the record's seq
	v_receipt := @extschema@.audit_event('device_sync', 'received', NULL, NULL, v_device, NULL, NULL,
		@extschema@._tenant_detail(pg_catalog.jsonb_build_object('records', pg_catalog.cardinality(v_rows),
			'from', v_first, 'through', v_last, 'faces', pg_catalog.jsonb_array_length(p_payload->'faces')),
			@extschema@._record_processor(NULL)));
	INSERT INTO @extschema@.device_audit (processor, device, seq, at, event, outcome, sqlstate, role_name,
		effective_role, application, client_addr, backend_pid, purpose, subject, record_device, similarity,
		detail, prev_hash, hash, hash_alg, receipt_seq)
	SELECT x.processor, x.device, x.seq, x.at, x.event, x.outcome, x.sqlstate, x.role_name,
		x.effective_role, x.application, x.client_addr, x.backend_pid, x.purpose, x.subject, x.record_device,
		x.similarity, x.detail, x.prev_hash, x.hash, x.hash_alg, v_receipt
	FROM pg_catalog.unnest(v_rows) x;
	-- a withdrawal the device recorded withdraws the server's consent too
	-- (Art. 6: one withdrawal, wherever it is given)
	FOR r IN SELECT x.subject, x.purpose FROM pg_catalog.unnest(v_rows) x
			 JOIN @extschema@._device_consent_events() e
			   ON e.event = x.event AND e.outcome = x.outcome AND e.kind = 'withdrawal'
			 WHERE x.subject IS NOT NULL ORDER BY x.seq LOOP
		IF EXISTS (SELECT 1 FROM @extschema@.consent c
				   WHERE c.processor = v_proc AND c.subject = r.subject AND c.withdrawn_at IS NULL
					 AND (c.purpose = r.purpose OR r.purpose IS NULL)) THEN
			PERFORM @extschema@.withdraw_consent(r.subject, r.purpose);
		END IF;
	END LOOP;
	-- each face on its own
	FOR r IN SELECT e.value, e.ordinality FROM pg_catalog.jsonb_array_elements(p_payload->'faces') WITH ORDINALITY e LOOP
		v_result := @extschema@._device_sync_face(v_proc, v_device, r.value, r.ordinality - 1, v_receipt);
		IF v_result ? 'sqlstate' THEN
			v_refused := v_refused OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array(v_result);
		ELSE
			v_accepted := v_accepted OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array(v_result);
		END IF;
	END LOOP;
	RETURN pg_catalog.jsonb_build_object('device', v_device, 'received_through', v_last,
		'received_hash', pg_catalog.encode(v_last_hash, 'hex'), 'receipt', v_receipt,
		'accepted', v_accepted, 'refused', v_refused);
END
$$;
COMMENT ON FUNCTION @extschema@.device_sync(pg_catalog.jsonb) IS
	'receive a device''s sync payload: its audit trail, continuing the chain received before (else MF148, nothing stored), and the faces with the subjects'' separate transfer consent (Measures Art. 8), enrolled through frt.enroll; returns the acknowledgement';

-- (85_tenancy.sql) the devices' trails are read per processor
ALTER TABLE @extschema@.device_audit ENABLE ROW LEVEL SECURITY;
CREATE POLICY device_audit_tenant ON @extschema@.device_audit FOR SELECT
	USING (processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor()));
-- (90_grants.sql)
SELECT @extschema@._revoke_public_execute();
GRANT EXECUTE ON FUNCTION @extschema@.device_sync(pg_catalog.jsonb) TO frt_enroller;
GRANT SELECT ON @extschema@.device_audit TO frt_admin, frt_auditor;
ALTER TABLE @extschema@.device_face ENABLE ROW LEVEL SECURITY;
CREATE POLICY device_face_tenant ON @extschema@.device_face FOR SELECT
	USING (processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor()));
GRANT SELECT ON @extschema@.device_face TO frt_admin, frt_auditor;
-- ---- end of device sync ----

-- ---- keyring replication ----
-- (10_keys.sql) a standby copies the key epochs it lacks from the primary
CREATE FUNCTION @extschema@._key_epoch_records(p_epochs pg_catalog.int8[])
RETURNS TABLE (epoch pg_catalog.int8, record pg_catalog.bytea, highest pg_catalog.int8)
LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'frt_key_epoch_records';
CREATE FUNCTION @extschema@._key_fetch(p_epoch pg_catalog.int8 DEFAULT NULL)
RETURNS pg_catalog.int8
LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'frt_key_fetch';
REVOKE ALL ON FUNCTION @extschema@._key_epoch_records(pg_catalog.int8[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._key_fetch(pg_catalog.int8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._key_epoch_records(pg_catalog.int8[]) TO frt_audit_relay;
-- a root key rotation
CREATE FUNCTION @extschema@._key_previous_epochs()
RETURNS pg_catalog.int8[]
LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'frt_key_previous_epochs';
REVOKE ALL ON FUNCTION @extschema@._key_previous_epochs() FROM PUBLIC;
SELECT @extschema@._revoke_public_execute();
-- ---- end of keyring replication ----

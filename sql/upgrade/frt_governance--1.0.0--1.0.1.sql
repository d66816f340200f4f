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

CREATE OR REPLACE FUNCTION @extschema@.erasure_report(p_subject pg_catalog.text)
RETURNS TABLE (face_id pg_catalog.int8, purpose pg_catalog.text, status pg_catalog.text,
			   reason pg_catalog.text, enrolled_at pg_catalog.timestamptz,
			   due_at pg_catalog.timestamptz, deleted_at pg_catalog.timestamptz,
			   index_erased_at pg_catalog.timestamptz, heap_erased_at pg_catalog.timestamptz,
			   key_destroyed_at pg_catalog.timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_subject IS NULL THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('subject must not be null'), ERRCODE = 'null_value_not_allowed';
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
	v_deadline := @extschema@.open_filing('cancellation', p_purpose, p_terminated_on);
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

CREATE OR REPLACE FUNCTION @extschema@.key_reencrypt(p_batch pg_catalog.int4 DEFAULT 1000)
RETURNS pg_catalog.int8
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_cur pg_catalog.int8;
	v_done pg_catalog.int8;
BEGIN
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

CREATE OR REPLACE FUNCTION @extschema@.key_destroy_unused()
RETURNS SETOF pg_catalog.int8
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	e record;
	v_erased pg_catalog.int8;
BEGIN
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

CREATE OR REPLACE FUNCTION @extschema@.open_filing(p_kind pg_catalog.text, p_purpose pg_catalog.text,
	p_on pg_catalog.date DEFAULT @extschema@._filing_today())
RETURNS pg_catalog.date
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_deadline date;
BEGIN
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
	SELECT f.deadline INTO v_deadline FROM @extschema@.filing f
	 WHERE f.kind = p_kind AND f.purpose IS NOT DISTINCT FROM p_purpose AND f.filed_on IS NULL;
	IF FOUND THEN
		RETURN v_deadline;
	END IF;
	v_deadline := @extschema@.working_days_after(p_on, 30);
	INSERT INTO @extschema@.filing (kind, purpose, triggered_on, deadline)
	VALUES (p_kind, p_purpose, p_on, v_deadline);
	PERFORM @extschema@.audit_event('filing_due', 'open', p_purpose, p_detail => pg_catalog.jsonb_build_object(
		'kind', p_kind, 'triggered_on', p_on, 'deadline', v_deadline));
	RETURN v_deadline;
END;
$$;

CREATE OR REPLACE FUNCTION @extschema@.record_filing(p_kind pg_catalog.text, p_filed_on pg_catalog.date,
	p_reference pg_catalog.text, p_purpose pg_catalog.text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n int8;
BEGIN
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
		IF EXISTS (SELECT 1 FROM @extschema@.filing_state s WHERE s.id = 1 AND s.filed_on IS NOT NULL) THEN
			RAISE EXCEPTION USING MESSAGE = @extschema@._t('the initial filing is already recorded'), ERRCODE = 'unique_violation',
				HINT = @extschema@._t('Record later changes with kind => ''change''.');
		END IF;
		-- The governance layer keeps the initial filing (and audits it).
		PERFORM @extschema@.record_filing(p_filed_on, p_reference);
		RETURN;
	ELSE
		IF p_kind = 'cancellation' AND p_purpose IS NULL THEN
			RAISE EXCEPTION USING MESSAGE = @extschema@._t('a cancellation filing names the terminated purpose'),
				ERRCODE = 'null_value_not_allowed';
		END IF;
		UPDATE @extschema@.filing f SET filed_on = p_filed_on, reference = p_reference,
			   recorded_by = pg_catalog.session_user()
		 WHERE f.kind = p_kind AND f.purpose IS NOT DISTINCT FROM p_purpose AND f.filed_on IS NULL;
		GET DIAGNOSTICS n = ROW_COUNT;
		IF n = 0 THEN
			IF p_kind = 'cancellation' THEN
				RAISE EXCEPTION USING MESSAGE = @extschema@._t('no open cancellation filing for purpose "%s"', p_purpose),
					ERRCODE = 'no_data_found', HINT = @extschema@._t('Terminate the purpose first: frt.terminate_purpose().');
			END IF;
			INSERT INTO @extschema@.filing (kind, purpose, triggered_on, deadline, filed_on, reference, recorded_by)
			VALUES (p_kind, p_purpose, p_filed_on, p_filed_on, p_filed_on, p_reference, pg_catalog.session_user());
		END IF;
	END IF;
	PERFORM @extschema@.audit_event('filing', 'recorded', p_purpose, p_detail => pg_catalog.jsonb_build_object(
		'kind', p_kind, 'filed_on', p_filed_on, 'reference', p_reference));
END;
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
	p_purge pg_catalog.text DEFAULT '0 2 * * *',
	p_vacuum pg_catalog.text DEFAULT '20 2 * * *',
	p_scrub pg_catalog.text DEFAULT '40 2 * * *',
	p_audit pg_catalog.text DEFAULT '0 3 * * *',
	p_filing pg_catalog.text DEFAULT '0 1 * * *')
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
	PERFORM @extschema@.audit_event('refusal', 'refused', p_purpose, p_subject, p_device, NULL,
		p_sqlstate, pg_catalog.jsonb_build_object('function', p_function, 'article', p_article,
			'reason', @extschema@._t_source(p_message))
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
		p_sqlstate, pg_catalog.jsonb_build_object('function', p_function,
			'reason', @extschema@._t_source(p_message)));
	IF p_hint IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = p_sqlstate, MESSAGE = p_message;
	ELSE
		RAISE EXCEPTION USING ERRCODE = p_sqlstate, MESSAGE = p_message, HINT = p_hint;
	END IF;
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
	IF p.kind = 'verification' AND p.alternative_method IS NULL THEN
		PERFORM @extschema@._refuse('MF010', 10, @extschema@._t(
			'verification purpose %L declares no non-face alternative', p_purpose),
			p_function, p_purpose, p_subject, p_device);
	END IF;
	SELECT * INTO d FROM @extschema@.device WHERE name = p_device;
	IF NOT FOUND THEN
		PERFORM @extschema@._refuse('MF013', 13, @extschema@._t('device %L is not registered', p_device),
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
	SELECT s.birth_date INTO v_birth FROM @extschema@.subject s WHERE s.id = p_subject;
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

CREATE OR REPLACE FUNCTION @extschema@.give_consent(p_subject pg_catalog.text, p_purpose pg_catalog.text,
	p_given_by pg_catalog.text, p_obtained_how pg_catalog.text,
	p_guardian_ref pg_catalog.text DEFAULT NULL, p_transfer_consent pg_catalog.bool DEFAULT false,
	p_separate pg_catalog.bool DEFAULT true, p_condition_of_service pg_catalog.bool DEFAULT false)
RETURNS pg_catalog.int8
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_version pg_catalog.int4;
	v_id pg_catalog.int8;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM @extschema@.purpose WHERE name = p_purpose) THEN
		PERFORM @extschema@._refuse('MF004', 4, @extschema@._t('purpose %L is not registered', p_purpose),
			'give_consent', p_purpose, p_subject, NULL);
	END IF;
	-- the subject first, in the same lock order as erasure and enrolment
	PERFORM 1 FROM @extschema@.subject WHERE id = p_subject FOR KEY SHARE;
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
		transfer_consent = p_transfer_consent
	WHERE subject = p_subject AND purpose = p_purpose AND withdrawn_at IS NULL
	RETURNING id INTO v_id;
	IF v_id IS NULL THEN
		INSERT INTO @extschema@.consent (subject, purpose, notice_version, given_by, guardian_ref,
			obtained_how, separate, condition_of_service, transfer_consent)
		VALUES (p_subject, p_purpose, v_version, p_given_by, p_guardian_ref,
			p_obtained_how, p_separate, p_condition_of_service, p_transfer_consent)
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
BEGIN
	IF NOT EXISTS (SELECT 1 FROM @extschema@.subject WHERE id = p_subject) THEN
		PERFORM @extschema@._reject('P0002', @extschema@._t('subject %s is not registered', p_subject),
			'withdraw_consent', p_purpose, p_subject, NULL);
	END IF;
	WITH w AS (
		UPDATE @extschema@.consent SET withdrawn_at = pg_catalog.clock_timestamp()
		WHERE subject = p_subject AND (purpose = p_purpose OR p_purpose IS NULL) AND withdrawn_at IS NULL
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
BEGIN
	PERFORM 1 FROM @extschema@.subject WHERE id = p_subject FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM @extschema@._reject('P0002', @extschema@._t('subject %s is not registered', p_subject),
			'erase_subject', NULL, p_subject, NULL);
	END IF;
	SELECT pg_catalog.array_agg(id) INTO v_ids FROM @extschema@.face WHERE subject = p_subject;
	v_n := COALESCE(@extschema@._face_delete(v_ids, 'subject erased'), 0);
	DELETE FROM @extschema@.consent WHERE subject = p_subject;
	DELETE FROM @extschema@.decline WHERE subject = p_subject;
	DELETE FROM @extschema@.subject WHERE id = p_subject;
	PERFORM @extschema@.audit_event('erasure', 'subject_erased', NULL, p_subject, NULL, NULL, NULL,
		pg_catalog.jsonb_build_object('faces', v_n));
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
	IF NOT EXISTS (SELECT 1 FROM @extschema@.purpose WHERE name = p_purpose) THEN
		PERFORM @extschema@._refuse('MF004', 4, @extschema@._t('purpose %L is not registered', p_purpose),
			'export_faces', p_purpose, p_subject, NULL);
	END IF;
	PERFORM @extschema@._require_read_committed('export_faces');
	c := @extschema@._check_consent('export_faces', p_purpose, p_subject, NULL);
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
	SELECT alternative_method INTO v_alt FROM @extschema@.purpose WHERE name = p_purpose;
	IF NOT FOUND THEN
		PERFORM @extschema@._reject('P0002', @extschema@._t('purpose %s is not registered', p_purpose),
			'record_decline', p_purpose, p_subject, p_device);
	END IF;
	INSERT INTO @extschema@.decline (subject, purpose, device)
	VALUES (p_subject, p_purpose, CASE WHEN EXISTS (SELECT 1 FROM @extschema@.device WHERE name = p_device)
									   THEN p_device END);
	PERFORM @extschema@.audit_event('decline', 'alternative_offered', p_purpose, p_subject, p_device,
		NULL, NULL, NULL);
	RETURN v_alt;
END
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
	INSERT INTO @extschema@.filing_state AS s (id, filed_on, filing_reference)
	VALUES (1, p_filed_on, p_reference)
	ON CONFLICT (id) DO UPDATE SET filed_on = p_filed_on, filing_reference = p_reference;
	PERFORM @extschema@.audit_event('registry', 'filing_recorded', NULL, NULL, NULL, NULL, NULL,
		pg_catalog.jsonb_build_object('filed_on', p_filed_on, 'reference', p_reference));
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
-- ---- end of messages in the caller's language ----

-- Layer 5: registry rules kept by triggers, so direct DML by frt_admin or
-- frt_enroller obeys them too: notice versioning and re-notice (Art. 5),
-- assessment voiding on a change of purpose or method (Art. 9), final
-- withdrawals (Art. 6), and an audit record for every change.

-- Audit one registry, subject or consent change (keys only, no payload).
CREATE FUNCTION @extschema@._audit_change()
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

CREATE TRIGGER processor_audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.processor
	FOR EACH ROW EXECUTE FUNCTION @extschema@._audit_change();
CREATE TRIGGER purpose_audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.purpose
	FOR EACH ROW EXECUTE FUNCTION @extschema@._audit_change();
CREATE TRIGGER notice_audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.notice
	FOR EACH ROW EXECUTE FUNCTION @extschema@._audit_change();
CREATE TRIGGER assessment_audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.assessment
	FOR EACH ROW EXECUTE FUNCTION @extschema@._audit_change();
CREATE TRIGGER device_audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.device
	FOR EACH ROW EXECUTE FUNCTION @extschema@._audit_change();
CREATE TRIGGER holiday_audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.holiday
	FOR EACH ROW EXECUTE FUNCTION @extschema@._audit_change();
CREATE TRIGGER subject_audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.subject
	FOR EACH ROW EXECUTE FUNCTION @extschema@._audit_change();
CREATE TRIGGER consent_audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.consent
	FOR EACH ROW EXECUTE FUNCTION @extschema@._audit_change();

-- These records, the consent rules and the intrusion-policy guard fire
-- also under session_replication_role = replica (which a parallel restore
-- uses): a superuser cannot change the registry unrecorded by setting it.
ALTER TABLE @extschema@.processor ENABLE ALWAYS TRIGGER processor_audit;
ALTER TABLE @extschema@.purpose ENABLE ALWAYS TRIGGER purpose_audit;
ALTER TABLE @extschema@.notice ENABLE ALWAYS TRIGGER notice_audit;
ALTER TABLE @extschema@.assessment ENABLE ALWAYS TRIGGER assessment_audit;
ALTER TABLE @extschema@.device ENABLE ALWAYS TRIGGER device_audit;
ALTER TABLE @extschema@.holiday ENABLE ALWAYS TRIGGER holiday_audit;
ALTER TABLE @extschema@.subject ENABLE ALWAYS TRIGGER subject_audit;
ALTER TABLE @extschema@.consent ENABLE ALWAYS TRIGGER consent_audit;

-- Purpose defaults: minor retention defaults to (and is clamped to) the
-- purpose's retention; changed_at tracks updates.
CREATE FUNCTION @extschema@._purpose_defaults()
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
CREATE TRIGGER purpose_defaults BEFORE INSERT OR UPDATE ON @extschema@.purpose
	FOR EACH ROW EXECUTE FUNCTION @extschema@._purpose_defaults();

-- A change of purpose or method voids the purpose's assessments (Art. 9):
-- of its kind, description, method, retention, public-security use,
-- processor, model, dimension, storage or minors rule; a shorter retention
-- shortens stored expiries (Art. 8).
CREATE FUNCTION @extschema@._purpose_changed()
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
CREATE TRIGGER purpose_changed AFTER UPDATE ON @extschema@.purpose
	FOR EACH ROW EXECUTE FUNCTION @extschema@._purpose_changed();

-- Notices are versioned: a new version gets max + 1 when none is given and
-- must be newer than every existing one.  Notices are never edited.
CREATE FUNCTION @extschema@._notice_version()
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
CREATE TRIGGER notice_version BEFORE INSERT OR UPDATE ON @extschema@.notice
	FOR EACH ROW EXECUTE FUNCTION @extschema@._notice_version();

-- A material notice change marks active consents given under older versions
-- as needing re-notice (Art. 5); processing them is refused until renewed.
CREATE FUNCTION @extschema@._notice_published()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n pg_catalog.int8;
BEGIN
	IF NEW.material_change THEN
		UPDATE @extschema@.consent SET needs_renotice = true
		WHERE purpose = NEW.purpose AND notice_version < NEW.version
		  AND withdrawn_at IS NULL AND NOT needs_renotice;
		GET DIAGNOSTICS v_n = ROW_COUNT;
		IF v_n > 0 THEN
			PERFORM @extschema@.audit_event('consent', 'renotice_required', NEW.purpose, NULL, NULL, NULL,
				NULL, pg_catalog.jsonb_build_object('notice_version', NEW.version, 'consents', v_n));
		END IF;
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER notice_published AFTER INSERT ON @extschema@.notice
	FOR EACH ROW EXECUTE FUNCTION @extschema@._notice_published();

-- Consent rules for direct DML: a consent recorded against an older version
-- than a material change needs re-notice; who, what and when never change;
-- a withdrawal is final (Art. 6).  Consent evidence: the time of a consent
-- is the server's (the transaction's timestamp, the column default; a
-- given_at or renewed_at supplied by the caller is refused, Art. 6), and a
-- consent cannot cite a notice version that does not exist or was
-- published after the consent (or its renewal) was recorded (Art. 5).
CREATE FUNCTION @extschema@._consent_rules()
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
CREATE TRIGGER consent_rules BEFORE INSERT OR UPDATE ON @extschema@.consent
	FOR EACH ROW EXECUTE FUNCTION @extschema@._consent_rules();
ALTER TABLE @extschema@.consent ENABLE ALWAYS TRIGGER consent_rules;

-- A terminated purpose takes no new faces.
CREATE FUNCTION @extschema@._face_refuse_terminated()
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
REVOKE ALL ON FUNCTION @extschema@._face_refuse_terminated() FROM PUBLIC;
CREATE TRIGGER face_refuse_terminated BEFORE INSERT OR UPDATE OF purpose ON @extschema@.face
	FOR EACH ROW EXECUTE FUNCTION @extschema@._face_refuse_terminated();

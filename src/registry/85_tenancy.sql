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
		PERFORM @extschema@._refuse('MF160', 4, @extschema@._t(
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

-- application grants and device bindings (45_authz.sql): read by frt_admin
-- and frt_auditor, each its own processor's
ALTER TABLE @extschema@.app_grant ENABLE ROW LEVEL SECURITY;
CREATE POLICY app_grant_tenant ON @extschema@.app_grant
	USING (purpose IN (SELECT p.name FROM @extschema@.purpose p
		WHERE p.processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor())));
ALTER TABLE @extschema@.device_login ENABLE ROW LEVEL SECURITY;
CREATE POLICY device_login_tenant ON @extschema@.device_login
	USING (processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor()));

-- the security incident register (46_incidents.sql): an incident is read
-- by its processor, and by each processor whose purposes it touches (a
-- superuser's incident over several processors); of the purposes touched
-- each sees its own
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

-- the devices' trails as received (48_device_sync.sql): written by
-- frt.device_sync() only; readers see their processor's devices'
ALTER TABLE @extschema@.device_audit ENABLE ROW LEVEL SECURITY;
CREATE POLICY device_audit_tenant ON @extschema@.device_audit FOR SELECT
	USING (processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor()));
ALTER TABLE @extschema@.device_face ENABLE ROW LEVEL SECURITY;
CREATE POLICY device_face_tenant ON @extschema@.device_face FOR SELECT
	USING (processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor()));

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
		PERFORM @extschema@._reject('42501', @extschema@._t(
			'frt.%s acts on the data of every processor in the database; with several processors only a superuser runs it',
			p_function), p_function, NULL, NULL, NULL);
	END IF;
END
$$;

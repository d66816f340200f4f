-- Layer 5: authorization per application (Measures Art. 14, authorization
-- management).  Holding frt_matcher or frt_enroller lets a login call the
-- processing functions; what it may do with them is granted here, by
-- frt_admin: per purpose, the operations (enrol, verify, identify, export),
-- and per device, the logins that may act for it.  frt.enroll, frt.verify,
-- frt.identify and frt.export_faces ask frt._check_authorized() first.
--
-- A device or a purpose whose facts change (where it is, its signs, what the
-- purpose is and how it matches) goes back through approval: processing
-- refuses it until a member of frt_admin other than the one who changed it
-- calls frt.approve_device() or frt.approve_purpose() (four eyes).
-- See docs/sql/governance.md ("Application authorization").

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

CREATE TRIGGER app_grant_audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.app_grant
	FOR EACH ROW EXECUTE FUNCTION @extschema@._audit_change();
CREATE TRIGGER device_login_audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.device_login
	FOR EACH ROW EXECUTE FUNCTION @extschema@._audit_change();
ALTER TABLE @extschema@.app_grant ENABLE ALWAYS TRIGGER app_grant_audit;
ALTER TABLE @extschema@.device_login ENABLE ALWAYS TRIGGER device_login_audit;

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

-- Bind a role to a device: it may then enrol and match with the device.
CREATE FUNCTION @extschema@.bind_device(p_device pg_catalog.text, p_grantee pg_catalog.name)
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

-- Unbind a role from a device; returns whether it was bound.
CREATE FUNCTION @extschema@.unbind_device(p_device pg_catalog.text, p_grantee pg_catalog.name)
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
			'similarity_threshold', 'max_k', 'score_disclosure', 'model', 'minors_allowed', 'storage',
			'storage_legal_basis']
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

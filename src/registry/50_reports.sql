-- Layer 5: reports for the data-protection officer and the regulator:
-- the compliance report (one row per checkable article) and the Art. 15
-- filing status with its working-day deadline.

-- Whether a day is a working day: Monday-Friday unless listed as a holiday;
-- weekend days listed with is_workday = true are working days (调休).
CREATE FUNCTION @extschema@.is_working_day(p_day pg_catalog.date)
RETURNS pg_catalog.bool
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN COALESCE((SELECT h.is_workday FROM @extschema@.holiday h WHERE h.day = p_day),
					pg_catalog.date_part('isodow', p_day) < 6);
END
$$;

-- The date n working days after p_day (p_day itself not counted).
CREATE FUNCTION @extschema@.working_days_after(p_day pg_catalog.date, p_n pg_catalog.int4)
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

-- Re-derive each processor's frt.filing_state.stored_subjects from the
-- face store (to run now and then; enrolment and erasure keep it in step).
-- Returns the count of p_processor.
CREATE FUNCTION @extschema@._filing_recount(p_processor pg_catalog.text)
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

-- Art. 15: distinct subjects stored by the caller's processor (a
-- superuser: frt.processor, else the sole one), the day its count first
-- reached 100,000, and the filing deadline 30 working days later.
CREATE FUNCTION @extschema@.filing_status(
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

-- One row per article the database can check: status is 'ok', 'warning',
-- 'violation' or 'info', with a human-readable detail.
CREATE FUNCTION @extschema@.compliance_report()
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

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
	-- the processor whose incident it is (the recorder's); NULL: recorded
	-- by a superuser for purposes of several processors
	processor		pg_catalog.text REFERENCES @extschema@.processor (name) ON UPDATE CASCADE,
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
-- touches (NULL: every purpose of the caller's processor, e.g. a breach of
-- its data; for a superuser every purpose of the database).  Below
-- superuser another processor's purpose reads as not registered.  A major
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
		PERFORM @extschema@._refuse('MF090', 9, @extschema@._t(
			'purpose %L has not been re-assessed since major security incident %s', p_purpose, v_id),
			p_function, p_purpose, p_subject, p_device);
	END IF;
END
$$;

-- Purposes touched by a major incident with no valid assessment made after
-- it (the latest such incident per purpose): the re-assessments Art. 9
-- requires; the caller's processor's purposes only.
CREATE FUNCTION @extschema@.reassessment_due()
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

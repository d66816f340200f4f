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

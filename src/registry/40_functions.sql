-- Layer 5: the law, checked before any processing.
--
-- Every refusal goes through frt._refuse(): it records an audit event
-- 'refusal' with the SQLSTATE, then raises an MF-class error naming the
-- article.  The public functions are SECURITY DEFINER (they run as the
-- extension owner), pin search_path and are granted in 90_grants.sql.

-- Record a refusal in the audit trail, then raise it.  Never returns.  The
-- one way SQL raises a refusal under the Measures (C code: FrtRefuse(),
-- include/frt_refuse.h; sql/gov_refusals.sql and
-- test/t/009_refusal_helper.pl fail on any other): SQLSTATE p_sqlstate, of
-- class MF; message p_message followed by "(Measures Art. <p_article>)"
-- (p_cite_more, e.g. ', 15', is added inside the parentheses), both in the
-- caller's language (p_message, p_detail and p_hint come from _t(); the
-- trail records the English, 00_messages.sql); the
-- article, as 'Measures Art. <p_article>', in the error's CONSTRAINT field
-- for drivers; DETAIL p_detail and HINT p_hint when given.
CREATE FUNCTION @extschema@._refuse(p_sqlstate pg_catalog.text, p_article pg_catalog.int4,
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

-- Record a rejected call (bad input: a NULL or out-of-range argument, an
-- unknown subject for an administrative function, a constraint the input
-- breaks) in the audit trail, then raise it with its standard SQLSTATE
-- (class 22, 23, 42, 02, 25...; never MF: refusals of the Measures go
-- through _refuse).  Never returns.  Every public governance function
-- rejects its input only through this (sql/gov_refusals.sql checks).
CREATE FUNCTION @extschema@._reject(p_sqlstate pg_catalog.text, p_message pg_catalog.text,
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

-- The caller of a governance function: the role set with SET ROLE, else
-- the session user; never the owner a SECURITY DEFINER function runs as.
-- Authorization, tenancy and masking all ask this one function.
CREATE FUNCTION @extschema@._caller()
RETURNS pg_catalog.name
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT COALESCE(NULLIF(pg_catalog.current_setting('role'), 'none'), SESSION_USER)::pg_catalog.name;
$$;

-- Whether the caller (frt._caller()) may learn why a subject cannot be
-- matched: a superuser, or a member of frt_admin or frt_enroller.  A caller
-- holding only frt_matcher gets one masked error.
CREATE FUNCTION @extschema@._caller_sees_reasons()
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

-- Version of the notice currently in force for a purpose, or NULL.
CREATE FUNCTION @extschema@.current_notice_version(p_purpose pg_catalog.text)
RETURNS pg_catalog.int4
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN (SELECT pg_catalog.max(n.version) FROM @extschema@.notice n WHERE n.purpose = p_purpose);
END
$$;

-- Whether a subject born on p_birth_date is under 14 today (Art. 7): on
-- today's legal date of p_purpose's processor (NULL: the installation's),
-- whatever the session's TimeZone.
CREATE FUNCTION @extschema@.is_minor(p_birth_date pg_catalog.date, p_purpose pg_catalog.text DEFAULT NULL)
RETURNS pg_catalog.bool
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN p_birth_date > (@extschema@._legal_today(p_purpose) - '14 years'::pg_catalog.interval)::pg_catalog.date;
END
$$;

-- Whether a purpose has a current impact assessment (Art. 9).
CREATE FUNCTION @extschema@.has_current_assessment(p_purpose pg_catalog.text)
RETURNS pg_catalog.bool
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN EXISTS (SELECT 1 FROM @extschema@.assessment a
				   WHERE a.purpose = p_purpose AND a.voided_at IS NULL
					 AND (a.valid_until IS NULL OR a.valid_until >= @extschema@._legal_today(p_purpose)));
END
$$;

-- Refuse unless the purpose may be processed at all, of the kind asked, from
-- this device: Art. 4 (registered, right kind), 5 (processor, notice),
-- 9 (assessment), 10 (alternative), 13 (device).  Returns the purpose row.
CREATE FUNCTION @extschema@._check_processing(p_function pg_catalog.text, p_purpose pg_catalog.text,
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

-- Refuse unless the subject holds a valid, active, separate consent for the
-- purpose: Art. 6 (separate, active), 12 (not a condition of service),
-- 5 (given against the notice in force), 7 (guardian for under 14).
-- Returns the consent row.
CREATE FUNCTION @extschema@._check_consent(p_function pg_catalog.text, p_purpose pg_catalog.text,
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

-- Matching must see a withdrawal committed by another session at once: a
-- REPEATABLE READ or SERIALIZABLE snapshot taken before it would not, so
-- matching and export run only at READ COMMITTED (Art. 6).
CREATE FUNCTION @extschema@._require_read_committed(p_function pg_catalog.text)
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

-- Reject a NULL argument, an embedding of the wrong dimension, or one whose
-- length is zero or out of range (not a refusal under the Measures: bad
-- input).  The squared length is summed in double precision, so that it is
-- exact enough for finite components; it must be a normal real (float4)
-- number, between 2^-126 and real's largest value, or the cosine distance in
-- float4 kernels is not finite.  No message shows a component.
CREATE FUNCTION @extschema@._check_probe(p_purpose @extschema@.purpose, p_embedding @extschema@.face_embedding)
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

-- A similarity as the purpose lets a match show it (Art. 14; the audit
-- record keeps the exact score for the auditor): 'exact' as computed;
-- 'rounded' and 'banded' floored to their step (frt._score_step), so the
-- shown score is never above the real one and never crosses the threshold;
-- 'none' nothing.  Below the threshold only 'exact' shows a score: the
-- purpose needs "no match" there, and a score would guide a search for a
-- stored face.
CREATE FUNCTION @extschema@._disclose(p_purpose @extschema@.purpose, p_similarity pg_catalog.float8)
RETURNS pg_catalog.float8
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_step pg_catalog.float8 := @extschema@._score_step(p_purpose.score_disclosure);
BEGIN
	IF p_similarity IS NULL OR p_purpose.score_disclosure = 'exact' THEN
		RETURN p_similarity;
	END IF;
	IF v_step IS NULL OR NOT p_similarity >= p_purpose.similarity_threshold THEN
		RETURN NULL;
	END IF;
	-- numeric, so that 0.7 stays 0.7 (0.7 / 0.01 is 69.99999... in float8)
	RETURN GREATEST(pg_catalog.floor(p_similarity::pg_catalog.numeric / v_step::pg_catalog.numeric)
		* v_step::pg_catalog.numeric, p_purpose.similarity_threshold::pg_catalog.numeric)::pg_catalog.float8;
END
$$;

-- Enrol one face for a subject and purpose, captured by a device; returns
-- the face id.  p_retention may ask for a retention shorter than the
-- purpose's (Art. 8).
CREATE FUNCTION @extschema@.enroll(p_subject pg_catalog.text, p_purpose pg_catalog.text,
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

-- 1:1 verification: is the probe the enrolled subject?  Compares only with
-- that subject's active faces for that purpose; the score is shown as the
-- purpose's score_disclosure says (none below the threshold unless exact).
CREATE FUNCTION @extschema@.verify(p_subject pg_catalog.text, p_purpose pg_catalog.text,
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

-- 1:N identification within one purpose: up to p_k distinct subjects whose
-- best active face has cosine similarity >= p_min_similarity (default: the
-- purpose's threshold), best first.  Exact: uses an index when present, in
-- exact mode, and returns what an exhaustive search returns.  p_k above the
-- purpose's max_k, or p_min_similarity below its threshold, is refused
-- (MF142); the scores are shown as the purpose's score_disclosure says.
CREATE FUNCTION @extschema@.identify(p_purpose pg_catalog.text, p_probe @extschema@.face_embedding,
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

-- Register a pseudonymous subject (id and birth date only).
CREATE FUNCTION @extschema@.register_subject(p_subject pg_catalog.text, p_birth_date pg_catalog.date)
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

-- Withdraw a subject's consent for a purpose, or for every purpose when
-- p_purpose is NULL (Art. 6): one call, effective for the very next
-- statement; the faces are hidden at once and queued for erasure by the
-- purge.  Returns the number of faces queued.  Earlier processing and its
-- audit records stay valid.
CREATE FUNCTION @extschema@.withdraw_consent(p_subject pg_catalog.text, p_purpose pg_catalog.text)
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

-- Erase a subject: all faces (physically deleted; VACUUM reclaims the
-- space), consents, declines and the subject row.  The audit trail remains.
-- Returns the number of faces erased.
CREATE FUNCTION @extschema@.erase_subject(p_subject pg_catalog.text)
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

-- Export a subject's stored faces for a purpose (Art. 8): the only SQL path
-- that returns embeddings; frt_admin only; refused without separate transfer
-- consent.
CREATE FUNCTION @extschema@.export_faces(p_subject pg_catalog.text, p_purpose pg_catalog.text)
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

-- Record that a person declined face verification and used the purpose's
-- alternative (Art. 10); never blocks anything.  Returns the alternative.
CREATE FUNCTION @extschema@.record_decline(p_purpose pg_catalog.text, p_subject pg_catalog.text DEFAULT NULL,
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

-- Publish a new notice version for a purpose; returns the version.
CREATE FUNCTION @extschema@.publish_notice(p_purpose pg_catalog.text, p_body pg_catalog.text,
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

-- Void a purpose's current assessments, e.g. after a major security incident
-- (Art. 9); returns how many were voided.
CREATE FUNCTION @extschema@.void_assessment(p_purpose pg_catalog.text, p_reason pg_catalog.text)
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

-- Void every current assessment of a purpose and audit it.
CREATE FUNCTION @extschema@._void_assessments(p_purpose pg_catalog.text, p_reason pg_catalog.text)
RETURNS pg_catalog.int8
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n pg_catalog.int8;
BEGIN
	UPDATE @extschema@.assessment SET voided_at = pg_catalog.now(), void_reason = p_reason
	WHERE purpose = p_purpose AND voided_at IS NULL;
	GET DIAGNOSTICS v_n = ROW_COUNT;
	IF v_n > 0 THEN
		PERFORM @extschema@.audit_event('registry', 'assessment_voided', p_purpose, NULL, NULL, NULL, NULL,
			pg_catalog.jsonb_build_object('assessments', v_n, 'reason', p_reason));
	END IF;
	RETURN v_n;
END
$$;

-- Record that the Art. 15 filing was made.
CREATE FUNCTION @extschema@.record_filing(p_filed_on pg_catalog.date, p_reference pg_catalog.text)
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

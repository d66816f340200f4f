-- Layer 8 (jobs): filing with the cyberspace office (Measures Art. 15).
--
-- Art. 15: within 30 working days of the day the stored face information
-- reaches 100,000 people, file with the provincial cyberspace office;
-- substantive changes and the termination of face recognition are filed
-- within 30 working days as well.
--   * The initial filing lives in the governance table frt.filing_state
--     (stored_subjects, threshold_reached_on, filed_on, filing_reference).
--   * Change and cancellation filings are obligations in frt.filing; a
--     cancellation is opened by frt.terminate_purpose().
--   * frt.filing_check() (the daily 'frt-filing-check' job) recounts the
--     distinct stored subjects, records the day 100,000 is reached, and
--     raises an alert into the audit trail every day an obligation stays
--     unfiled, with its deadline and the working days left.
--   * frt.record_filing(...) records a filing and closes its obligation.
-- Working days skip weekends and the days in frt.holiday (which also lists
-- the weekend days worked in exchange); see frt.working_days_after().

CREATE TABLE @extschema@.filing (
	id			pg_catalog.int8 GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind		pg_catalog.text NOT NULL CHECK (kind IN ('change', 'cancellation')),
	-- the processor filing (its purpose's; the threshold and filings are per processor)
	processor	pg_catalog.text NOT NULL DEFAULT @extschema@._acting_processor()
		REFERENCES @extschema@.processor (name) ON UPDATE CASCADE,
	purpose		pg_catalog.text,	-- a frt.purpose name
	triggered_on pg_catalog.date NOT NULL,
	deadline	pg_catalog.date NOT NULL,
	filed_on	pg_catalog.date,
	reference	pg_catalog.text,
	recorded_by pg_catalog.text,
	CHECK (deadline >= triggered_on),
	CHECK ((filed_on IS NULL) = (reference IS NULL)),
	CHECK (filed_on IS NULL OR recorded_by IS NOT NULL),
	CHECK (kind <> 'cancellation' OR purpose IS NOT NULL)
);
-- At most one open obligation per processor, kind and purpose.
CREATE UNIQUE INDEX filing_open_one ON @extschema@.filing
	(processor, kind, (COALESCE(purpose, ''))) WHERE filed_on IS NULL;
COMMENT ON TABLE @extschema@.filing IS
	'change and cancellation filings with the cyberspace office and their deadlines (Measures Art. 15); the initial filing is in frt.filing_state';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.filing', '');

-- Working days from a (exclusive) to b (inclusive); negative if b < a.
CREATE FUNCTION @extschema@.working_days_between(a pg_catalog.date, b pg_catalog.date)
RETURNS pg_catalog.int4
LANGUAGE sql STABLE STRICT SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.sign(b - a)::int4 * (
		SELECT pg_catalog.count(*)::int4
		  FROM pg_catalog.generate_series((LEAST(a, b) + 1)::pg_catalog.timestamp,
				GREATEST(a, b)::pg_catalog.timestamp, '1 day'::pg_catalog.interval) g(d)	-- no time zone
		 WHERE @extschema@.is_working_day(g.d::pg_catalog.date));
$$;

-- Whether a processor has made its initial filing (NULL: the processor
-- the caller acts for).  Change and cancellation filings follow it.
CREATE FUNCTION @extschema@._filing_filed(p_processor pg_catalog.text DEFAULT NULL)
RETURNS pg_catalog.bool
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT 1 FROM @extschema@.filing_state s
				   WHERE s.processor OPERATOR(pg_catalog.=) COALESCE(p_processor, @extschema@._acting_processor())
					 AND s.filed_on IS NOT NULL);
$$;
REVOKE ALL ON FUNCTION @extschema@._filing_filed(pg_catalog.text) FROM PUBLIC;

-- Open a change or cancellation obligation due 30 working days after
-- p_on; returns its deadline (the existing one if already open).
CREATE FUNCTION @extschema@.open_filing(p_kind pg_catalog.text, p_purpose pg_catalog.text,
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
REVOKE ALL ON FUNCTION @extschema@.open_filing(pg_catalog.text, pg_catalog.text, pg_catalog.date) FROM PUBLIC;

-- Raise one alert through the audit layer's frt._alert: an
-- audit record of event 'alert' (listed by frt.alert) and a log warning.
CREATE FUNCTION @extschema@._jobs_alert(p_kind pg_catalog.text, p_purpose pg_catalog.text,
	p_detail pg_catalog.jsonb)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._alert(p_kind, p_purpose, NULL, NULL, p_detail);
END;
$$;
REVOKE ALL ON FUNCTION @extschema@._jobs_alert(pg_catalog.text, pg_catalog.text, pg_catalog.jsonb) FROM PUBLIC;

-- The daily filing check (Art. 15), for every processor the caller may
-- see (a superuser: all).  Returns the open obligations it alerted about,
-- with their deadlines, working days left and the processor's subjects.
-- Also alerts when the working-day calendar runs out and about overdue
-- requests of persons (Art. 17).
CREATE FUNCTION @extschema@.filing_check()
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
REVOKE ALL ON FUNCTION @extschema@.filing_check() FROM PUBLIC;

-- Record a filing made with the cyberspace office and close its
-- obligation.  p_kind: initial | change | cancellation (cancellation names
-- the purpose).  A change filing with no open obligation is recorded as
-- filed on its own.
CREATE FUNCTION @extschema@.record_filing(p_kind pg_catalog.text, p_filed_on pg_catalog.date,
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
REVOKE ALL ON FUNCTION @extschema@.record_filing(pg_catalog.text, pg_catalog.date, pg_catalog.text,
	pg_catalog.text) FROM PUBLIC;

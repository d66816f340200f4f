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
			'serves_public_security', 'retention', 'minor_retention', 'alternative_method', 'model',
			'minors_allowed', 'storage', 'storage_legal_basis']
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
-- suite, the audit hash, keys, anchors) change without any trigger.  One
-- per installation: the measures (encryption, audit chain, row security,
-- the Art. 14 checks) are the installation's, shared by every processor;
-- a change opens a change filing for each processor that has filed.
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
-- with the measures now and open a change filing, for every processor
-- that has filed, when they differ.  With several processors only a
-- superuser (the daily job) takes or compares it: below superuser the
-- Art. 14 checks show one processor's view, not the installation's.
CREATE FUNCTION @extschema@._filing_security_check(p_take pg_catalog.bool)
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
REVOKE ALL ON FUNCTION @extschema@._filing_compliance() FROM PUBLIC;

SELECT @extschema@._hook_register('compliance_checks', '_filing_compliance', 'jobs');

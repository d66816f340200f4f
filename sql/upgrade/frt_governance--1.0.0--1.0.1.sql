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

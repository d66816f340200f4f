-- The registry's extension points (see src/audit/hooks.sql): where the
-- layers above take part in a match, an export or the compliance report.
-- A handler refuses by raising; the call it guards then changes nothing.

SELECT @extschema@._hook_point('before_match', 'registry',
	'pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.text', 'void',
	'(function, purpose, subject, device) before verify or identify compares a probe, after the Measures'' checks passed');
SELECT @extschema@._hook_point('after_verify', 'registry',
	'pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.bool, pg_catalog.int8', 'void',
	'(purpose, subject, device, matched, audit seq) after a verification compared a probe and was recorded');
SELECT @extschema@._hook_point('admit_results', 'registry',
	'pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.int8', 'pg_catalog.int8',
	'(function, purpose, subject, device, found) after verify or identify compared a probe, before it records and returns anything: how many of the found results may be returned (NULL: all); may refuse');
SELECT @extschema@._hook_point('after_match', 'registry',
	'pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.int8', 'void',
	'(function, purpose, subject, device, audit seq) after verify or identify recorded its match, before it returns');
SELECT @extschema@._hook_point('before_export', 'registry',
	'pg_catalog.text, pg_catalog.text', 'void',
	'(purpose, subject) before export_faces returns a subject''s faces, after consent was checked');
SELECT @extschema@._hook_point('compliance_checks', 'registry', '', 'record',
	'rows (article, check_name, status, detail) appended to frt.compliance_report()');

-- Call the before_match handlers.
CREATE FUNCTION @extschema@._before_match(p_function pg_catalog.text, p_purpose pg_catalog.text,
	p_subject pg_catalog.text, p_device pg_catalog.text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	h pg_catalog.text;
BEGIN
	FOR h IN SELECT @extschema@._hook_handlers('before_match') LOOP
		EXECUTE pg_catalog.format('SELECT %s($1, $2, $3, $4)', h)
			USING p_function, p_purpose, p_subject, p_device;
	END LOOP;
END
$$;

-- Call the after_verify handlers.
CREATE FUNCTION @extschema@._after_verify(p_purpose pg_catalog.text, p_subject pg_catalog.text,
	p_device pg_catalog.text, p_matched pg_catalog.bool, p_seq pg_catalog.int8)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	h pg_catalog.text;
BEGIN
	FOR h IN SELECT @extschema@._hook_handlers('after_verify') LOOP
		EXECUTE pg_catalog.format('SELECT %s($1, $2, $3, $4, $5)', h)
			USING p_purpose, p_subject, p_device, p_matched, p_seq;
	END LOOP;
END
$$;

-- Call the admit_results handlers: the fewest results any of them admits
-- (p_found when none limits).
CREATE FUNCTION @extschema@._admit_results(p_function pg_catalog.text, p_purpose pg_catalog.text,
	p_subject pg_catalog.text, p_device pg_catalog.text, p_found pg_catalog.int8)
RETURNS pg_catalog.int8
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	h pg_catalog.text;
	v_n pg_catalog.int8;
	v_admit pg_catalog.int8 := p_found;
BEGIN
	FOR h IN SELECT @extschema@._hook_handlers('admit_results') LOOP
		EXECUTE pg_catalog.format('SELECT %s($1, $2, $3, $4, $5)', h) INTO v_n
			USING p_function, p_purpose, p_subject, p_device, p_found;
		v_admit := LEAST(v_admit, GREATEST(COALESCE(v_n, p_found), 0));
	END LOOP;
	RETURN v_admit;
END
$$;

-- Call the after_match handlers.
CREATE FUNCTION @extschema@._after_match(p_function pg_catalog.text, p_purpose pg_catalog.text,
	p_subject pg_catalog.text, p_device pg_catalog.text, p_seq pg_catalog.int8)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	h pg_catalog.text;
BEGIN
	FOR h IN SELECT @extschema@._hook_handlers('after_match') LOOP
		EXECUTE pg_catalog.format('SELECT %s($1, $2, $3, $4, $5)', h)
			USING p_function, p_purpose, p_subject, p_device, p_seq;
	END LOOP;
END
$$;

-- Call the before_export handlers.
CREATE FUNCTION @extschema@._before_export(p_purpose pg_catalog.text, p_subject pg_catalog.text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	h pg_catalog.text;
BEGIN
	FOR h IN SELECT @extschema@._hook_handlers('before_export') LOOP
		EXECUTE pg_catalog.format('SELECT %s($1, $2)', h) USING p_purpose, p_subject;
	END LOOP;
END
$$;

REVOKE ALL ON FUNCTION @extschema@._before_match(pg_catalog.text, pg_catalog.text, pg_catalog.text,
	pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._after_verify(pg_catalog.text, pg_catalog.text, pg_catalog.text,
	pg_catalog.bool, pg_catalog.int8) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._before_export(pg_catalog.text, pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._admit_results(pg_catalog.text, pg_catalog.text, pg_catalog.text,
	pg_catalog.text, pg_catalog.int8) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._after_match(pg_catalog.text, pg_catalog.text, pg_catalog.text,
	pg_catalog.text, pg_catalog.int8) FROM PUBLIC;

-- Layer 5: China's working-day calendar, for the 30-working-day deadlines
-- of Measures Art. 15.  The State Council General Office announces each
-- November the next year's public holidays and the weekend days worked in
-- exchange (调休); frt ships them as data/cn_calendar.tsv (with the notice
-- of each year), turned into src/registry/16_calendar_data.sql by make and
-- loaded at install.  frt.load_calendar() loads a newer year's data into a
-- running installation; frt.calendar_coverage() says how far it reaches.
-- Days outside the covered years follow the week (frt.is_working_day).

CREATE TABLE @extschema@.calendar_year (
	year		pg_catalog.int4 PRIMARY KEY CHECK (year BETWEEN 2000 AND 2200),
	source		pg_catalog.text NOT NULL CHECK (pg_catalog.btrim(source) <> ''),
	loaded_at	pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	-- loaded by the install script: not dumped, the install reloads it
	shipped		pg_catalog.bool NOT NULL DEFAULT false
);
COMMENT ON TABLE @extschema@.calendar_year IS
	'years whose public holidays and make-up working days frt.holiday holds, with the State Council notice they come from';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.calendar_year', 'WHERE NOT shipped');

-- How many days before the calendar's last covered day the reports warn.
CREATE FUNCTION @extschema@._calendar_warn_days()
RETURNS pg_catalog.int4
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT 60 $$;

-- Load calendar data in the format of data/cn_calendar.tsv: lines
-- "year<TAB>YYYY<TAB>source", then that year's "YYYY-MM-DD<TAB>off|work<TAB>name".
-- p_shipped (the install script, or an update): a year already loaded is
-- left alone, and so is a day frt.holiday already lists (an
-- administrator's entry wins).  Otherwise each year named replaces what
-- frt.holiday held for it.
-- Returns the number of days loaded.
CREATE FUNCTION @extschema@._calendar_load(p_data pg_catalog.text, p_shipped pg_catalog.bool)
RETURNS pg_catalog.int4
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	l pg_catalog.text;
	f pg_catalog.text[];
	v_line pg_catalog.int4 := 0;
	v_years pg_catalog.int4[] := '{}';
	v_skip pg_catalog.int4[] := '{}';
	v_year pg_catalog.int4;
	v_day pg_catalog.date;
	v_n pg_catalog.int4 := 0;
BEGIN
	IF p_data IS NULL THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('calendar data must not be null'), ERRCODE = 'null_value_not_allowed';
	END IF;
	FOR l IN SELECT pg_catalog.regexp_split_to_table(p_data, E'\n') LOOP
		v_line := v_line + 1;
		l := pg_catalog.rtrim(l, E' \r');
		CONTINUE WHEN pg_catalog.btrim(l) = '' OR pg_catalog.left(pg_catalog.btrim(l), 1) = '#';
		f := pg_catalog.string_to_array(l, E'\t');
		IF pg_catalog.cardinality(f) <> 3 OR pg_catalog.btrim(f[3]) = '' THEN
			RAISE EXCEPTION USING MESSAGE = @extschema@._t('calendar line %s: expected three tab-separated fields', v_line),
				ERRCODE = 'invalid_text_representation';
		END IF;
		IF f[1] = 'year' THEN
			IF f[2] !~ '^[0-9]{4}$' THEN
				RAISE EXCEPTION USING MESSAGE = @extschema@._t('calendar line %s: "%s" is not a year', v_line, f[2]),
					ERRCODE = 'invalid_text_representation';
			END IF;
			v_year := f[2]::pg_catalog.int4;
			v_years := v_years || v_year;
			IF EXISTS (SELECT 1 FROM @extschema@.calendar_year c WHERE c.year = v_year) AND p_shipped THEN
				v_skip := v_skip || v_year;
				CONTINUE;
			END IF;
			IF NOT p_shipped THEN
				DELETE FROM @extschema@.holiday h
				 WHERE h.day >= pg_catalog.make_date(v_year, 1, 1) AND h.day < pg_catalog.make_date(v_year + 1, 1, 1);
			END IF;
			INSERT INTO @extschema@.calendar_year AS c (year, source, shipped)
			VALUES (v_year, pg_catalog.btrim(f[3]), p_shipped)
			ON CONFLICT (year) DO UPDATE SET source = excluded.source, loaded_at = pg_catalog.now(),
				shipped = excluded.shipped;
			CONTINUE;
		END IF;
		BEGIN
			v_day := f[1]::pg_catalog.date;
		EXCEPTION WHEN OTHERS THEN
			RAISE EXCEPTION USING MESSAGE = @extschema@._t('calendar line %s: "%s" is not a date', v_line, f[1]),
				ERRCODE = 'invalid_text_representation';
		END;
		v_year := pg_catalog.date_part('year', v_day)::pg_catalog.int4;
		IF NOT v_year = ANY (v_years) THEN
			RAISE EXCEPTION USING MESSAGE = @extschema@._t('calendar line %s: %s comes before the line "year<TAB>%s<TAB>source"', v_line, v_day, v_year),
				ERRCODE = 'invalid_text_representation';
		END IF;
		IF f[2] NOT IN ('off', 'work') THEN
			RAISE EXCEPTION USING MESSAGE = @extschema@._t('calendar line %s: the kind must be off or work, not "%s"', v_line, f[2]),
				ERRCODE = 'invalid_text_representation';
		END IF;
		IF f[2] = 'work' AND pg_catalog.date_part('isodow', v_day) < 6 THEN
			RAISE EXCEPTION USING MESSAGE = @extschema@._t('calendar line %s: %s is a weekday: only a weekend day can be a make-up working day', v_line, v_day),
				ERRCODE = 'invalid_parameter_value';
		END IF;
		CONTINUE WHEN v_year = ANY (v_skip);
		INSERT INTO @extschema@.holiday (day, name, is_workday, shipped)
		VALUES (v_day, pg_catalog.btrim(f[3]), f[2] = 'work', p_shipped)
		ON CONFLICT (day) DO NOTHING;
		IF FOUND THEN
			v_n := v_n + 1;
		END IF;
	END LOOP;
	IF pg_catalog.cardinality(v_years) = 0 THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('calendar data names no year'), ERRCODE = 'invalid_text_representation',
			HINT = @extschema@._t('Each year starts with a line "year<TAB>YYYY<TAB>source" naming the State Council notice.');
	END IF;
	RETURN v_n;
END
$$;

-- Load a newer year's calendar (or correct one) from data in the format
-- of data/cn_calendar.tsv; audited.  Returns the number of days loaded.
CREATE FUNCTION @extschema@.load_calendar(p_data pg_catalog.text)
RETURNS pg_catalog.int4
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n pg_catalog.int4;
BEGIN
	v_n := @extschema@._calendar_load(p_data, false);
	PERFORM @extschema@.audit_event('calendar', 'loaded', p_detail => pg_catalog.jsonb_build_object(
		'days', v_n, 'years', (SELECT pg_catalog.jsonb_agg(c.year ORDER BY c.year) FROM @extschema@.calendar_year c)));
	RETURN v_n;
END
$$;

-- How far the working-day calendar reaches: the covered years, the last
-- covered day, and the days from today (the legal date) until then.
CREATE FUNCTION @extschema@.calendar_coverage(OUT first_year pg_catalog.int4, OUT last_year pg_catalog.int4,
	OUT covered_until pg_catalog.date, OUT days_left pg_catalog.int4, OUT sources pg_catalog.text)
RETURNS record
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	SELECT pg_catalog.min(c.year), pg_catalog.max(c.year),
		   pg_catalog.string_agg(c.year || ': ' || c.source, '; ' ORDER BY c.year)
	  INTO first_year, last_year, sources FROM @extschema@.calendar_year c;
	covered_until := pg_catalog.make_date(last_year, 12, 31);
	days_left := covered_until - @extschema@._filing_today();
END
$$;

-- Whether the calendar covers a day (its year was loaded).
CREATE FUNCTION @extschema@._calendar_covers(p_day pg_catalog.date)
RETURNS pg_catalog.bool
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT 1 FROM @extschema@.calendar_year c
				   WHERE c.year OPERATOR(pg_catalog.=) pg_catalog.date_part('year', p_day)::pg_catalog.int4);
$$;

REVOKE ALL ON FUNCTION @extschema@._calendar_load(pg_catalog.text, pg_catalog.bool) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.load_calendar(pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.calendar_coverage() FROM PUBLIC;
GRANT SELECT ON @extschema@.calendar_year TO frt_admin, frt_auditor;
GRANT EXECUTE ON FUNCTION @extschema@.load_calendar(pg_catalog.text) TO frt_admin;
GRANT EXECUTE ON FUNCTION @extschema@.calendar_coverage() TO frt_admin, frt_auditor;

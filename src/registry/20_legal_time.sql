-- Layer 5: legal time.  Ages (Art. 7), assessment validity (Art. 9),
-- retention ends (Art. 8) and filing and working days (Art. 15) are
-- computed in the processor's legal time zone (frt.processor.
-- legal_time_zone, default Asia/Shanghai), never in the session's
-- TimeZone; nothing here reads DateStyle or IntervalStyle.

-- Whether p_zone is a real time-zone name of the tz database (not an
-- abbreviation or a POSIX offset string such as 'UTC+3').
CREATE FUNCTION @extschema@._is_time_zone(p_zone pg_catalog.text)
RETURNS pg_catalog.bool
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names z
				   WHERE z.name OPERATOR(pg_catalog.=) p_zone)
$$;

ALTER TABLE @extschema@.processor ADD CONSTRAINT processor_legal_time_zone_valid
	CHECK (@extschema@._is_time_zone(legal_time_zone));

-- The legal time zone of a purpose: its processor's; for a purpose without
-- a processor (the installation's processor) or for p_purpose NULL (the
-- whole installation, e.g. the Art. 15 filing), the zone the registered
-- processors share; Asia/Shanghai when there is none or they differ.
CREATE FUNCTION @extschema@._legal_zone(p_purpose pg_catalog.text DEFAULT NULL)
RETURNS pg_catalog.text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_zone pg_catalog.text;
BEGIN
	IF p_purpose IS NOT NULL THEN
		SELECT pr.legal_time_zone INTO v_zone
		  FROM @extschema@.purpose p JOIN @extschema@.processor pr ON pr.name = p.processor
		 WHERE p.name = p_purpose;
		IF v_zone IS NOT NULL THEN
			RETURN v_zone;
		END IF;
	END IF;
	SELECT CASE WHEN pg_catalog.count(DISTINCT pr.legal_time_zone) = 1
				THEN pg_catalog.min(pr.legal_time_zone) END
	  INTO v_zone FROM @extschema@.processor pr;
	RETURN COALESCE(v_zone, 'Asia/Shanghai');
END
$$;

-- The legal date of an instant for a purpose (p_purpose NULL: the
-- installation's).
CREATE FUNCTION @extschema@._legal_date(p_at pg_catalog.timestamptz, p_purpose pg_catalog.text DEFAULT NULL)
RETURNS pg_catalog.date
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.timezone(@extschema@._legal_zone(p_purpose), p_at)::pg_catalog.date
$$;

-- Today's legal date (of the transaction's instant) for a purpose.
CREATE FUNCTION @extschema@._legal_today(p_purpose pg_catalog.text DEFAULT NULL)
RETURNS pg_catalog.date
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT @extschema@._legal_date(pg_catalog.now(), p_purpose)
$$;

-- p_at + p_span, the calendar counted in zone p_zone: months and years by
-- the calendar, days as local days (so a DST change in the legal zone is
-- a local day, and the session's TimeZone plays no part).  The instant a
-- retention of p_span started at p_at ends.
CREATE FUNCTION @extschema@._legal_add(p_at pg_catalog.timestamptz, p_span pg_catalog.interval,
	p_zone pg_catalog.text)
RETURNS pg_catalog.timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT pg_catalog.timezone(p_zone,
		pg_catalog.timezone(p_zone, p_at) OPERATOR(pg_catalog.+) p_span)
$$;

-- The roles that write processors (the CHECK runs as the writer) or call
-- frt.is_minor and frt.has_current_assessment (which run as their caller;
-- granted in 90_grants.sql).  They read only frt.purpose and frt.processor,
-- which these roles may read.
REVOKE ALL ON FUNCTION @extschema@._is_time_zone(pg_catalog.text),
	@extschema@._legal_zone(pg_catalog.text),
	@extschema@._legal_date(pg_catalog.timestamptz, pg_catalog.text),
	@extschema@._legal_today(pg_catalog.text),
	@extschema@._legal_add(pg_catalog.timestamptz, pg_catalog.interval, pg_catalog.text)
	FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._is_time_zone(pg_catalog.text),
	@extschema@._legal_zone(pg_catalog.text),
	@extschema@._legal_date(pg_catalog.timestamptz, pg_catalog.text),
	@extschema@._legal_today(pg_catalog.text),
	@extschema@._legal_add(pg_catalog.timestamptz, pg_catalog.interval, pg_catalog.text)
	TO frt_admin, frt_enroller, frt_auditor;

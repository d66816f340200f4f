-- Layer 9 (intrusion detection): an alert can open a security incident in
-- the registry's register (Art. 9, 14).  The intrusion layer is above the
-- registry, so it calls frt.record_incident; the registry never calls here.

-- Open a security incident from the alert recorded at audit seq p_alert_seq
-- (frt.alert): it touches the alert's purpose (none named: every purpose),
-- occurred when the alert was raised, and is major unless p_major is false
-- (a major incident voids the assessments).  Returns the incident id; an
-- alert opens at most one incident.
CREATE FUNCTION @extschema@.open_incident(p_alert_seq pg_catalog.int8,
	p_description pg_catalog.text DEFAULT NULL, p_major pg_catalog.bool DEFAULT true)
RETURNS pg_catalog.int8
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	a record;
BEGIN
	SELECT * INTO a FROM @extschema@.alert WHERE seq = p_alert_seq;
	IF NOT FOUND THEN
		PERFORM @extschema@._reject('P0002', @extschema@._t('audit record %s is not an alert', p_alert_seq),
			'open_incident', NULL, NULL, NULL);
	END IF;
	RETURN @extschema@.record_incident(
		COALESCE(p_description, pg_catalog.format('intrusion alert %s (audit record %s)', a.kind, a.seq)),
		CASE WHEN a.purpose IS NOT NULL THEN ARRAY[a.purpose] END, p_major, a.at, a.seq);
END
$$;
REVOKE ALL ON FUNCTION @extschema@.open_incident(pg_catalog.int8, pg_catalog.text, pg_catalog.bool) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.open_incident(pg_catalog.int8, pg_catalog.text, pg_catalog.bool) TO frt_admin;
COMMENT ON FUNCTION @extschema@.open_incident(pg_catalog.int8, pg_catalog.text, pg_catalog.bool) IS
	'open a security incident from an intrusion alert (its audit seq); major by default, voiding the assessments of the alert''s purpose (all if none) (Measures Art. 9)';

-- Layer 5: the compliance report's rows for the facts a notice states and
-- its accessibility (Art. 5), minors per purpose (Art. 7), central storage
-- (Art. 8) and security incidents (Art. 9); frt.compliance_report() returns
-- them with its own.
CREATE FUNCTION @extschema@._articles_compliance()
RETURNS TABLE (article pg_catalog.text, check_name pg_catalog.text, status pg_catalog.text,
	detail pg_catalog.text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n pg_catalog.int8;
	m pg_catalog.int8;
	names pg_catalog.text;
BEGIN
	-- Art. 5: the notice in force states the facts as they are
	SELECT pg_catalog.count(*), pg_catalog.string_agg(pg_catalog.format('%s (%s)', p.name,
			pg_catalog.array_to_string(s.diff, ', ')), '; ' ORDER BY p.name) INTO n, names
	  FROM @extschema@.purpose p, LATERAL (SELECT @extschema@._notice_stale_facts(p) AS diff) s
	 WHERE s.diff IS NOT NULL AND @extschema@._processor_visible(p.processor);
	RETURN QUERY SELECT 'Art. 5', 'notice_states_facts', CASE WHEN n = 0 THEN 'ok' ELSE 'violation' END,
		CASE WHEN n = 0 THEN @extschema@._t('every notice in force states its purpose''s current facts')
		ELSE @extschema@._t('%s purposes changed facts their notice in force states (processing refused until a new version is published): %s', n, names) END;
	SELECT pg_catalog.count(*), pg_catalog.string_agg(n2.purpose, ', ' ORDER BY n2.purpose) INTO n, names
	  FROM (SELECT DISTINCT ON (x.purpose) x.purpose, x.accessibility FROM @extschema@.notice x
			 WHERE @extschema@._purpose_visible(x.purpose)
			 ORDER BY x.purpose, x.version DESC) n2
	 WHERE n2.accessibility IS NULL OR pg_catalog.btrim(n2.accessibility) = '';
	RETURN QUERY SELECT 'Art. 5', 'notice_accessibility', CASE WHEN n = 0 THEN 'ok' ELSE 'warning' END,
		CASE WHEN n = 0 THEN @extschema@._t('every notice in force has an accessibility statement for disabled and elderly people')
		ELSE @extschema@._t('%s purposes whose notice in force has no accessibility statement (publish a new version): %s', n, names) END;

	-- Art. 7: minors per purpose; none where the purpose does not process them
	SELECT pg_catalog.string_agg(pg_catalog.format('%s: %s (%s)', p.name, COALESCE(k.minors, 0),
			CASE WHEN p.minors_allowed THEN @extschema@._t('allowed') ELSE @extschema@._t('not allowed') END), '; ' ORDER BY p.name),
		   pg_catalog.count(*) FILTER (WHERE NOT p.minors_allowed AND k.minors > 0)
	  INTO names, n
	  FROM @extschema@.purpose p
	  LEFT JOIN (SELECT f.purpose, pg_catalog.count(DISTINCT f.subject) AS minors FROM @extschema@.face f
				  JOIN @extschema@.subject s ON s.processor = f.processor AND s.id = f.subject
				 WHERE f.minor OR @extschema@.is_minor(s.birth_date, f.purpose)
				 GROUP BY f.purpose) k ON k.purpose = p.name
	 WHERE @extschema@._processor_visible(p.processor);
	RETURN QUERY SELECT 'Art. 7', 'minors_per_purpose', CASE WHEN COALESCE(n, 0) = 0 THEN 'info' ELSE 'violation' END,
		@extschema@._t('subjects whose faces were stored while under 14, per purpose: %s%s', COALESCE(names, @extschema@._t('no purpose')),
			CASE WHEN COALESCE(n, 0) > 0 THEN @extschema@._t('; %s purposes hold minors they do not process (their faces are not matched)', n) ELSE '' END);

	-- Art. 8: faces in this database need central storage allowed
	SELECT pg_catalog.count(*) FILTER (WHERE p.storage = 'device'),
		   pg_catalog.count(*) FILTER (WHERE p.storage = 'central' AND p.storage_legal_basis IS NULL
										 AND NOT c.central_storage_consent),
		   pg_catalog.string_agg(DISTINCT p.name, ', ')
	  INTO n, m, names
	  FROM @extschema@.face f JOIN @extschema@.purpose p ON p.name = f.purpose
	  JOIN @extschema@.consent c ON c.id = f.consent_id
	 WHERE (p.storage = 'device' OR (p.storage_legal_basis IS NULL AND NOT c.central_storage_consent))
	   AND @extschema@._processor_visible(f.processor);
	RETURN QUERY SELECT 'Art. 8', 'central_storage_basis',
		CASE WHEN n > 0 THEN 'violation' WHEN m > 0 THEN 'warning' ELSE 'ok' END,
		CASE WHEN n + m = 0 THEN @extschema@._t('every stored face has a legal basis or the subject''s separate consent to central storage')
		ELSE @extschema@._t('%s faces stored for device-storage purposes; %s faces stored centrally without a legal basis or central-storage consent (new enrolments refused): %s', n, m, names) END;

	-- Art. 9: re-assessment after a major security incident
	SELECT pg_catalog.count(*), pg_catalog.string_agg(@extschema@._t('%s (incident %s)', r.purpose, r.incident),
			', ' ORDER BY r.purpose) INTO n, names
	  FROM @extschema@.reassessment_due() r WHERE @extschema@._purpose_visible(r.purpose);
	RETURN QUERY SELECT 'Art. 9', 'reassessment_after_incident', CASE WHEN n = 0 THEN 'ok' ELSE 'violation' END,
		CASE WHEN n = 0 THEN @extschema@._t('every purpose touched by a major security incident was re-assessed since')
		ELSE @extschema@._t('%s purposes await re-assessment after a major security incident (processing refused): %s', n, names) END;
	SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE i.major) INTO n, m FROM @extschema@.security_incident i
	 WHERE @extschema@._processor_visible(i.processor)
		OR EXISTS (SELECT 1 FROM @extschema@.security_incident_purpose ip
				   WHERE ip.incident = i.id AND @extschema@._purpose_visible(ip.purpose));
	RETURN QUERY SELECT 'Art. 9', 'security_incidents', 'info',
		@extschema@._t('%s security incidents recorded (%s major); the register is kept as recorded', n, m);
END
$$;

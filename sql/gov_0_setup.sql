-- Governance test fixtures, shared by the gov_* tests (run in name order).
-- gov_authorize(r, p) lets role r (and so its members) perform every
-- operation for the purposes named p_* and act for the devices named p_*
-- (application authorization, Measures Art. 14).
CREATE FUNCTION gov_authorize(r name, p text) RETURNS void LANGUAGE sql AS $$
	SELECT frt.grant_application(r, name, ARRAY['enrol', 'verify', 'identify', 'export'])
	FROM frt.purpose WHERE name LIKE p || '\_%';
	SELECT frt.bind_device(name, r) FROM frt.device WHERE name LIKE p || '\_%';
$$;

-- gov_world(p) registers a lawful world named with prefix p:
--   p_door    verification purpose (alternative: badge), dimension 3
--   p_station identification purpose serving public security, dimension 3
--   p_office  workplace device; p_hall public-place device with signage
--   p_s1, p_s2 adults with self consent to both purposes; p_kid (age 10)
--   with guardian consent to p_door.  No faces are enrolled.  frt_enroller,
--   frt_matcher and frt_admin are authorized for every p_ purpose and device.
CREATE FUNCTION gov_world(p text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO frt.processor VALUES ('Acme Ltd', 'dpo@acme.example') ON CONFLICT DO NOTHING;
	INSERT INTO frt.purpose (name, kind, description, method, retention, minor_retention,
		alternative_method, dimension, minors_allowed, storage_legal_basis)
	VALUES (p || '_door', 'verification', 'office door access', '1:1 at the door', '1 year',
		'90 days', 'staff badge', 3, true, 'test fixture: a regulation allowing central storage');
	INSERT INTO frt.purpose (name, kind, description, method, retention, serves_public_security, dimension,
		storage_legal_basis)
	VALUES (p || '_station', 'identification', 'find wanted persons at the station', '1:N in the hall',
		'30 days', true, 3, 'test fixture: a public-security regulation');
	PERFORM frt.publish_notice(p || '_door', 'We compare your face at the door.', '1:1 comparison',
		'kept 1 year', 'replaces keys; low impact', 'write to dpo@acme.example', 'large print and audio at the desk');
	PERFORM frt.publish_notice(p || '_station', 'Faces in the hall are compared.', '1:N comparison',
		'kept 30 days', 'public security', 'write to dpo@acme.example', 'large print and audio at the desk');
	INSERT INTO frt.assessment (purpose, assessor, report)
	VALUES (p || '_door', 'dpo', 'PIA door v1'), (p || '_station', 'dpo', 'PIA station v1');
	INSERT INTO frt.device (name, location_type) VALUES (p || '_office', 'workplace');
	INSERT INTO frt.device (name, location_type, capture_area, signage)
	VALUES (p || '_hall', 'public_place', 'main hall gates', true);
	PERFORM frt.register_subject(p || '_s1', '1990-01-01');
	PERFORM frt.register_subject(p || '_s2', '1985-06-15');
	PERFORM frt.register_subject(p || '_kid', (CURRENT_DATE - interval '10 years')::date);
	PERFORM frt.give_consent(p || '_s1', p || '_door', 'self', 'written');
	PERFORM frt.give_consent(p || '_s2', p || '_door', 'self', 'electronic');
	PERFORM frt.give_consent(p || '_s1', p || '_station', 'self', 'written');
	PERFORM frt.give_consent(p || '_s2', p || '_station', 'self', 'written');
	PERFORM frt.give_consent(p || '_kid', p || '_door', 'guardian', 'written', 'guardian-of-kid');
	PERFORM gov_authorize('frt_enroller', p);
	PERFORM gov_authorize('frt_matcher', p);
	PERFORM gov_authorize('frt_admin', p);
END
$$;

-- Run a statement; return 'ok' or 'SQLSTATE: message'.  A refusal (class
-- MF) also names its article in the CONSTRAINT field; if that field does
-- not match the message's "(Measures Art. N", it is shown.
CREATE FUNCTION gov_try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	c text;
BEGIN
	EXECUTE q;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS c = CONSTRAINT_NAME;
	RETURN SQLSTATE || ': ' || SQLERRM
		|| CASE WHEN SQLSTATE LIKE 'MF%'
				 AND c IS DISTINCT FROM substring(SQLERRM FROM '\((Measures Art\. [0-9]+)[,;)]')
			THEN ' [constraint field: ' || quote_nullable(nullif(c, '')) || ']' ELSE '' END;
END
$$;

-- A fingerprint of everything governance stores except the audit trail.
CREATE FUNCTION gov_state() RETURNS text LANGUAGE sql AS $$
	SELECT concat_ws(' ',
		'processor', (SELECT count(*) FROM frt.processor),
		'purpose', (SELECT md5(string_agg(p::text, ',' ORDER BY name)) FROM frt.purpose p),
		'notice', (SELECT count(*) FROM frt.notice),
		'assessment', (SELECT md5(string_agg(a::text, ',' ORDER BY id)) FROM frt.assessment a),
		'device', (SELECT count(*) FROM frt.device),
		'subject', (SELECT count(*) FROM frt.subject),
		'consent', (SELECT md5(string_agg(c::text, ',' ORDER BY id)) FROM frt.consent c),
		'face', (SELECT count(*) || '/' || coalesce(max(id), 0) FROM frt.face),
		'decline', (SELECT count(*) FROM frt.decline),
		'filing', (SELECT md5(coalesce(string_agg(s::text, ','), '')) FROM frt.filing_state s))
$$;
GRANT EXECUTE ON FUNCTION gov_try(text) TO PUBLIC;

-- Run a statement expected to be refused: its SQLSTATE and message, and
-- whether any governance table changed.
CREATE FUNCTION gov_refused(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	before text := gov_state();
	r text := gov_try(q);
BEGIN
	RETURN r || CASE WHEN gov_state() = before THEN ' [nothing changed]' ELSE ' [CHANGED]' END;
END
$$;

SELECT gov_world('g');
SELECT name, kind, retention, minor_retention, alternative_method FROM frt.purpose
WHERE name LIKE 'g\_%' ORDER BY name;
SELECT subject, purpose, notice_version, given_by, needs_renotice FROM frt.consent
WHERE subject LIKE 'g\_%' ORDER BY id;

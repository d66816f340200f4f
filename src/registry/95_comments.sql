-- Layer 5: descriptions of the public governance functions (\df+ frt.*).
COMMENT ON FUNCTION @extschema@.enroll(pg_catalog.text, pg_catalog.text, @extschema@.face_embedding,
	pg_catalog.text, pg_catalog.interval) IS
	'enrol one face for (subject, purpose) from a device after every check of the Measures; returns the face id';
COMMENT ON FUNCTION @extschema@.verify(pg_catalog.text, pg_catalog.text, @extschema@.face_embedding,
	pg_catalog.text) IS
	'1:1: does the probe match the subject''s active faces for the purpose? (matched, best cosine similarity as the purpose''s score_disclosure shows it)';
COMMENT ON FUNCTION @extschema@.identify(pg_catalog.text, @extschema@.face_embedding, pg_catalog.text,
	pg_catalog.int4, pg_catalog.float8) IS
	'1:N within one purpose: up to k (<= the purpose''s max_k) distinct subjects with similarity >= min_similarity (>= its threshold), best first, exact; scores as its score_disclosure shows them';
COMMENT ON FUNCTION @extschema@.withdraw_consent(pg_catalog.text, pg_catalog.text) IS
	'withdraw consent for a purpose (NULL: every purpose); effective for the next statement; returns faces queued for erasure';
COMMENT ON FUNCTION @extschema@.erase_subject(pg_catalog.text) IS
	'erase a subject''s faces, consents and record; the audit trail remains; returns faces erased';
COMMENT ON FUNCTION @extschema@.export_faces(pg_catalog.text, pg_catalog.text) IS
	'the only path returning stored embeddings: frt_admin, with separate transfer consent (Measures Art. 8)';
COMMENT ON FUNCTION @extschema@.give_consent(pg_catalog.text, pg_catalog.text, pg_catalog.text,
	pg_catalog.text, pg_catalog.text, pg_catalog.bool, pg_catalog.bool, pg_catalog.bool, pg_catalog.bool) IS
	'record or renew separate consent against the notice in force (with the separate transfer and central-storage consents of Measures Art. 8); returns the consent id';
COMMENT ON FUNCTION @extschema@.register_subject(pg_catalog.text, pg_catalog.date) IS
	'register a pseudonymous subject (id and birth date only)';
COMMENT ON FUNCTION @extschema@.record_decline(pg_catalog.text, pg_catalog.text, pg_catalog.text) IS
	'record that a person declined face verification (Measures Art. 10); returns the alternative method';
COMMENT ON FUNCTION @extschema@.publish_notice(pg_catalog.text, pg_catalog.text, pg_catalog.text,
	pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.bool) IS
	'publish the next notice version of a purpose; a material change requires re-notice (Measures Art. 5)';
COMMENT ON FUNCTION @extschema@.void_assessment(pg_catalog.text, pg_catalog.text) IS
	'void a purpose''s current impact assessments, e.g. after a major incident (Measures Art. 9)';
COMMENT ON FUNCTION @extschema@.compliance_report() IS
	'one row per checkable article of the Measures: status (ok, warning, violation, info) and detail';
COMMENT ON FUNCTION @extschema@.filing_status() IS
	'Art. 15: distinct subjects stored, day 100,000 was reached, filing deadline (30 working days), status';
COMMENT ON FUNCTION @extschema@.record_filing(pg_catalog.date, pg_catalog.text) IS
	'record the Art. 15 filing with the cyberspace office';
COMMENT ON FUNCTION @extschema@.working_days_after(pg_catalog.date, pg_catalog.int4) IS
	'the date n working days after a day (weekends and frt.holiday skipped, make-up days counted)';
COMMENT ON FUNCTION @extschema@.grant_application(pg_catalog.name, pg_catalog.text, pg_catalog.text[]) IS
	'let a role (a login, or a group role) perform operations (enrol, verify, identify, export) for a purpose; returns what it now holds (Measures Art. 14)';
COMMENT ON FUNCTION @extschema@.revoke_application(pg_catalog.name, pg_catalog.text, pg_catalog.text[]) IS
	'take operations (NULL: all) of a purpose away from a role; returns what it still holds';
COMMENT ON FUNCTION @extschema@.bind_device(pg_catalog.text, pg_catalog.name) IS
	'let a role enrol and match with a device (Measures Art. 14)';
COMMENT ON FUNCTION @extschema@.unbind_device(pg_catalog.text, pg_catalog.name) IS
	'unbind a role from a device; returns whether it was bound';
COMMENT ON FUNCTION @extschema@.approve_device(pg_catalog.text) IS
	'approve a device after its registration or a change of its location, signage or capture area: a member of frt_admin who did not make the change; false if already approved';
COMMENT ON FUNCTION @extschema@.approve_purpose(pg_catalog.text) IS
	'approve a purpose after its registration or a change of its facts: a member of frt_admin who did not make the change; false if already approved';
COMMENT ON FUNCTION @extschema@.record_incident(pg_catalog.text, pg_catalog.text[], pg_catalog.bool,
	pg_catalog.timestamptz, pg_catalog.int8) IS
	'record a security incident touching some purposes (NULL: all); a major one voids their impact assessments (Measures Art. 9)';
COMMENT ON FUNCTION @extschema@.reassessment_due() IS
	'purposes touched by a major security incident with no impact assessment made since (Measures Art. 9)';

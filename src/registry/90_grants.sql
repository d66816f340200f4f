-- Layer 5: least privilege.  Every governance function is revoked from
-- PUBLIC (frt._revoke_public_execute() at the end of the install script
-- catches any that a layer did not revoke itself); each role gets exactly
-- what its job needs.  No role gets SELECT on
-- frt.face.embedding (column privileges list every other column), so the
-- table cannot be read whole, copied or viewed with its embeddings; only
-- frt.export_faces (frt_admin, with transfer consent) returns them.


SELECT @extschema@._revoke_public_execute();

GRANT USAGE ON SCHEMA @extschema@ TO frt_admin, frt_enroller, frt_matcher, frt_auditor;

-- frt_admin: the registry; reads subjects, consents and face metadata.
GRANT SELECT, INSERT, UPDATE, DELETE ON @extschema@.processor, @extschema@.purpose,
	@extschema@.device, @extschema@.holiday TO frt_admin;
GRANT SELECT, INSERT ON @extschema@.notice, @extschema@.assessment TO frt_admin;
GRANT USAGE ON SEQUENCE @extschema@.assessment_id_seq TO frt_admin;
GRANT SELECT ON @extschema@.subject, @extschema@.consent, @extschema@.decline,
	@extschema@.filing_state TO frt_admin;
GRANT SELECT (id, subject, purpose, device, consent_id, minor, enrolled_at, expires_at)
	ON @extschema@.face TO frt_admin, frt_enroller;
GRANT EXECUTE ON FUNCTION
	@extschema@.export_faces(pg_catalog.text, pg_catalog.text),
	@extschema@.publish_notice(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.text,
		pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.bool),
	@extschema@.void_assessment(pg_catalog.text, pg_catalog.text),
	@extschema@.record_filing(pg_catalog.date, pg_catalog.text)
	TO frt_admin;

-- frt_enroller: subjects, consent, enrolment.
GRANT SELECT ON @extschema@.processor, @extschema@.purpose, @extschema@.notice,
	@extschema@.device TO frt_enroller;
GRANT SELECT, INSERT ON @extschema@.subject, @extschema@.consent TO frt_enroller;
GRANT UPDATE (withdrawn_at) ON @extschema@.consent TO frt_enroller;
GRANT USAGE ON SEQUENCE @extschema@.consent_id_seq TO frt_enroller;
GRANT EXECUTE ON FUNCTION
	@extschema@.enroll(pg_catalog.text, pg_catalog.text, @extschema@.face_embedding, pg_catalog.text,
		pg_catalog.interval),
	@extschema@.register_subject(pg_catalog.text, pg_catalog.date),
	@extschema@.give_consent(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.text,
		pg_catalog.text, pg_catalog.bool, pg_catalog.bool, pg_catalog.bool, pg_catalog.bool),
	@extschema@.withdraw_consent(pg_catalog.text, pg_catalog.text)
	TO frt_enroller;
GRANT EXECUTE ON FUNCTION @extschema@.erase_subject(pg_catalog.text) TO frt_admin, frt_enroller;

-- frt_matcher: 1:1 and 1:N matching, and recording a declined verification.
GRANT EXECUTE ON FUNCTION
	@extschema@.verify(pg_catalog.text, pg_catalog.text, @extschema@.face_embedding, pg_catalog.text),
	@extschema@.identify(pg_catalog.text, @extschema@.face_embedding, pg_catalog.text,
		pg_catalog.int4, pg_catalog.float8)
	TO frt_matcher;
GRANT EXECUTE ON FUNCTION @extschema@.record_decline(pg_catalog.text, pg_catalog.text, pg_catalog.text)
	TO frt_matcher, frt_enroller;

-- frt_auditor: audit trail, registry and reports, read-only.
GRANT SELECT ON @extschema@.audit, @extschema@.processor, @extschema@.purpose, @extschema@.notice,
	@extschema@.assessment, @extschema@.device, @extschema@.holiday, @extschema@.consent,
	@extschema@.decline, @extschema@.filing_state TO frt_auditor;

-- The matching bounds (constants): the default and CHECK of purpose.max_k
-- run them for whoever registers a purpose.
GRANT EXECUTE ON FUNCTION @extschema@._identify_k_ceiling(), @extschema@._identify_k_default(),
	@extschema@._score_step(pg_catalog.text) TO PUBLIC;

-- Helpers used by the RLS policy and by clients reading the registry.
GRANT EXECUTE ON FUNCTION @extschema@._face_active(pg_catalog.int8, pg_catalog.timestamptz)
	TO frt_admin, frt_enroller;
GRANT EXECUTE ON FUNCTION
	@extschema@.current_notice_version(pg_catalog.text),
	@extschema@.is_minor(pg_catalog.date, pg_catalog.text),
	@extschema@.has_current_assessment(pg_catalog.text),
	@extschema@.is_working_day(pg_catalog.date),
	@extschema@.working_days_after(pg_catalog.date, pg_catalog.int4)
	TO frt_admin, frt_enroller, frt_auditor;
GRANT EXECUTE ON FUNCTION @extschema@.compliance_report(), @extschema@.filing_status()
	TO frt_admin, frt_auditor;
GRANT SELECT ON @extschema@.purpose_termination TO frt_admin, frt_auditor;

-- Several processors in one database: the predicates of the row-level
-- security policies and the column defaults run as the caller.
GRANT EXECUTE ON FUNCTION @extschema@._caller_processor(), @extschema@._caller_is_superuser(),
	@extschema@._sole_processor(), @extschema@._acting_processor(),
	@extschema@._processor_visible(pg_catalog.text), @extschema@._purpose_visible(pg_catalog.text),
	@extschema@._audit_visible(pg_catalog.text, pg_catalog.jsonb, pg_catalog.text), @extschema@._role_visible(pg_catalog.text),
	@extschema@._processor_count(), @extschema@._purpose_processor(pg_catalog.text)
	TO frt_admin, frt_enroller, frt_matcher, frt_auditor;
GRANT SELECT ON @extschema@.processor_login TO frt_admin, frt_auditor;
GRANT SELECT (processor) ON @extschema@.face TO frt_admin, frt_enroller;
-- Application authorization (45_authz.sql): frt_admin grants, binds and
-- approves, through the functions only (they record who did it); frt_admin
-- and frt_auditor read the grants.  frt_admin may not UPDATE the approval
-- columns of purposes and devices.
SELECT @extschema@._grant_registry_update();
GRANT SELECT ON @extschema@.app_grant, @extschema@.device_login TO frt_admin, frt_auditor;
GRANT EXECUTE ON FUNCTION
	@extschema@.grant_application(pg_catalog.name, pg_catalog.text, pg_catalog.text[]),
	@extschema@.revoke_application(pg_catalog.name, pg_catalog.text, pg_catalog.text[]),
	@extschema@.bind_device(pg_catalog.text, pg_catalog.name),
	@extschema@.unbind_device(pg_catalog.text, pg_catalog.name),
	@extschema@.approve_device(pg_catalog.text),
	@extschema@.approve_purpose(pg_catalog.text)
	TO frt_admin;
-- The incident register (Art. 9): frt_admin records, frt_auditor reads.
GRANT SELECT ON @extschema@.security_incident, @extschema@.security_incident_purpose TO frt_admin, frt_auditor;
GRANT EXECUTE ON FUNCTION @extschema@.record_incident(pg_catalog.text, pg_catalog.text[], pg_catalog.bool,
	pg_catalog.timestamptz, pg_catalog.int8) TO frt_admin;
GRANT EXECUTE ON FUNCTION @extschema@.reassessment_due() TO frt_admin, frt_auditor;
-- Device sync (48_device_sync.sql): a device's login (bound to it, granted
-- enrol for the purposes) sends; frt_admin and frt_auditor read the trails.
GRANT EXECUTE ON FUNCTION @extschema@.device_sync(pg_catalog.jsonb) TO frt_enroller;
GRANT SELECT ON @extschema@.device_audit TO frt_admin, frt_auditor;
GRANT SELECT ON @extschema@.device_face TO frt_admin, frt_auditor;

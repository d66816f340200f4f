-- Layer 8 (jobs): privileges.  Everything above was revoked from PUBLIC;
-- the roles (created by the governance layer) get what their job needs.
--   frt_admin    runs the purge, scrub and filing check by hand, terminates
--                purposes, records filings, reads erasure evidence
--   frt_auditor  reads erasure evidence and filing obligations
--   frt_enroller answers data-subject requests: the erasure report
-- Scheduling (frt.schedule_jobs) stays with the owner of frt.face: pg_cron
-- runs the VACUUM job as the role that scheduled it.
SELECT @extschema@._revoke_public_execute();

GRANT EXECUTE ON FUNCTION @extschema@.purge(pg_catalog.int4) TO frt_admin;
GRANT EXECUTE ON FUNCTION @extschema@.scrub_faces() TO frt_admin;
GRANT EXECUTE ON FUNCTION @extschema@.confirm_erasures() TO frt_admin;
GRANT EXECUTE ON FUNCTION @extschema@.filing_check() TO frt_admin;
GRANT EXECUTE ON FUNCTION @extschema@.terminate_purpose(pg_catalog.text, pg_catalog.date) TO frt_admin;
GRANT EXECUTE ON FUNCTION @extschema@.open_filing(pg_catalog.text, pg_catalog.text, pg_catalog.date) TO frt_admin;
-- the default of their date argument is evaluated as the caller
GRANT EXECUTE ON FUNCTION @extschema@._filing_today() TO frt_admin;
GRANT EXECUTE ON FUNCTION @extschema@.record_filing(pg_catalog.text, pg_catalog.date, pg_catalog.text,
	pg_catalog.text) TO frt_admin;
GRANT EXECUTE ON FUNCTION @extschema@.erasure_report(pg_catalog.text) TO frt_admin, frt_auditor, frt_enroller;
REVOKE ALL ON FUNCTION @extschema@.working_days_between(pg_catalog.date, pg_catalog.date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.working_days_between(pg_catalog.date, pg_catalog.date) TO frt_admin, frt_auditor;
GRANT SELECT ON @extschema@.erasure_log, @extschema@.filing TO frt_admin, frt_auditor;
-- Every role may see which job commands exist and whether pg_cron is ready.
GRANT EXECUTE ON FUNCTION @extschema@._jobs_have_audit_retention(), @extschema@.jobs_require_cron(),
	@extschema@.job_commands(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.text,
		pg_catalog.text) TO PUBLIC;
-- Key epochs: frt_admin rotates keys and destroys unused ones; the auditor
-- sees the epochs.
GRANT EXECUTE ON FUNCTION @extschema@.key_rotate(), @extschema@.key_reencrypt(pg_catalog.int4),
	@extschema@.key_reseal_indexes(pg_catalog.int8), @extschema@.key_destroy_unused() TO frt_admin;
GRANT EXECUTE ON PROCEDURE @extschema@.key_rotation_run(pg_catalog.int4) TO frt_admin;
GRANT EXECUTE ON FUNCTION @extschema@._key_rotation_step(pg_catalog.int4) TO frt_admin;
GRANT EXECUTE ON FUNCTION @extschema@.key_epochs() TO frt_admin, frt_auditor;
GRANT SELECT ON @extschema@.key_epoch TO frt_admin, frt_auditor;

-- Layer 9 (intrusion detection): privileges.  frt_admin sets the limits;
-- frt_admin and frt_auditor read them and the alerts.
SELECT @extschema@._revoke_public_execute();

REVOKE ALL ON FUNCTION @extschema@._intrusion_limits(pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._intrusion_over_rate(pg_catalog.text, pg_catalog.timestamptz,
	pg_catalog.jsonb, pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.text,
	pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._failed_verifications(pg_catalog.text, pg_catalog.text,
	pg_catalog.timestamptz, pg_catalog.timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._intrusion_check_match(@extschema@.intrusion_policy,
	pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._intrusion_check_lockout(@extschema@.intrusion_policy,
	pg_catalog.text, pg_catalog.text, pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._intrusion_after_verify(@extschema@.intrusion_policy,
	pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.bool, pg_catalog.int8) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._lockout_alert(pg_catalog.text, pg_catalog.text, pg_catalog.text,
	pg_catalog.timestamptz, pg_catalog.int8, @extschema@.intrusion_policy) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._intrusion_check_export(pg_catalog.text, pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON @extschema@.intrusion_policy FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON @extschema@.intrusion_policy TO frt_admin;
GRANT SELECT ON @extschema@.intrusion_policy TO frt_auditor;
GRANT SELECT ON @extschema@.alert TO frt_admin;
REVOKE ALL ON FUNCTION @extschema@._intrusion_count(@extschema@.audit) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._intrusion_before_match(pg_catalog.text, pg_catalog.text,
	pg_catalog.text, pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._intrusion_verified(pg_catalog.text, pg_catalog.text,
	pg_catalog.text, pg_catalog.bool, pg_catalog.int8) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._intrusion_compliance() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._intrusion_rate(pg_catalog.text, pg_catalog.int4, pg_catalog.bool) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._intrusion_check_identified(@extschema@.intrusion_policy,
	pg_catalog.text, pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON @extschema@.intrusion_counter FROM PUBLIC;
GRANT SELECT ON @extschema@.intrusion_counter TO frt_admin, frt_auditor;

-- Last fragment of the install script: any function of frt_governance whose
-- privileges were never set is revoked from PUBLIC (src/audit/hooks.sql).
SELECT @extschema@._revoke_public_execute();

-- Layer 8 (jobs): several processors in one database.  Roles below
-- superuser see the erasure evidence and filing obligations of their own
-- processor only (see src/registry/85_tenancy.sql).
ALTER TABLE @extschema@.erasure_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY erasure_log_tenant ON @extschema@.erasure_log FOR SELECT
	USING (purpose IN (SELECT p.name FROM @extschema@.purpose p
		WHERE p.processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor())));

ALTER TABLE @extschema@.filing ENABLE ROW LEVEL SECURITY;
CREATE POLICY filing_tenant ON @extschema@.filing FOR SELECT
	USING (processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor()));

-- the register of persons' complaints, reports and requests (40_rights.sql)
ALTER TABLE @extschema@.request ENABLE ROW LEVEL SECURITY;
CREATE POLICY request_tenant ON @extschema@.request
	USING (processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor()))
	WITH CHECK (processor OPERATOR(pg_catalog.=) (SELECT @extschema@._caller_processor()));

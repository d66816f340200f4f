-- Layer 5: governance roles.  Created if missing (roles are cluster-wide and
-- may already exist from another database); all NOLOGIN: grant them to login
-- roles.  Privileges are granted in 90_grants.sql, after every object exists.
--   frt_admin     registry (processor, purpose, notice, assessment, device,
--                 holiday), erasure, export with transfer consent
--   frt_enroller  subjects, consent, enrolment, withdrawal, erasure
--   frt_matcher   frt.verify and frt.identify only; never reads an embedding
--   frt_auditor   audit trail, registry and reports, read-only
DO $roles$
DECLARE
	r pg_catalog.text;
BEGIN
	FOREACH r IN ARRAY ARRAY['frt_admin', 'frt_enroller', 'frt_matcher', 'frt_auditor']
	LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
			EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
		END IF;
	END LOOP;
END
$roles$;

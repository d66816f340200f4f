-- Least privilege: every role's denied paths.  No role reads an embedding
-- by any SQL path (table, column, whole row, COPY, view, aggregate, internal
-- function); export_faces is frt_admin's only path and needs transfer
-- consent; frt_matcher can only match; frt_auditor only reads.
SELECT gov_world('p');
SELECT frt.enroll('p_s1', 'p_door', '[1,0,0]', 'p_office') > 0 AS enrolled;
SELECT frt.enroll('p_s2', 'p_station', '[0,1,0]', 'p_hall') > 0 AS enrolled;
SELECT frt.give_consent('p_s2', 'p_station', 'self', 'written', p_transfer_consent => true) > 0 AS transfer_ok;
CREATE SCHEMA gov_scratch;
GRANT USAGE, CREATE ON SCHEMA gov_scratch TO frt_admin, frt_enroller, frt_matcher, frt_auditor;

-- The same attacks for every role; ok is listed where the role may.
CREATE FUNCTION gov_attacks() RETURNS TABLE (attack text, result text) LANGUAGE plpgsql AS $$
DECLARE
	a text;
BEGIN
	FOREACH a IN ARRAY ARRAY[
		'SELECT embedding FROM frt.face',
		'SELECT * FROM frt.face',
		'SELECT f FROM frt.face f',
		'SELECT frt._face_open(id, embedding) FROM frt.face',
		'SELECT frt._face_open(1, decode(''0101010000'', ''hex''))',
		'SELECT id FROM frt.face WHERE frt._face_open(id, embedding) OPERATOR(frt.<=>) ''[1,0,0]'' < 1',
		'SELECT count(*) FROM frt.face',
		'SELECT frt._face_export(''p_s2'', ''p_station'')',
		'SELECT frt._face_nearest(''p_station'', ''[0,1,0]'', NULL)',
		'SELECT frt._face_similarity(''p_s1'', ''p_door'', ''[1,0,0]'')',
		'SELECT frt._face_store(''p_s1'', ''p_door'', ''p_office'', 1, ''[1,0,0]'', false, now() + ''1 day'')',
		'SELECT frt._face_delete(ARRAY[1::int8], ''x'')',
		'SELECT frt._face_purge()',
		'SELECT frt._refuse(''MF000'', 0, ''x'', ''x'', NULL, NULL, NULL)',
		'SELECT frt.audit_event(''forged'', ''ok'')',
		'SELECT * FROM frt.export_faces(''p_s2'', ''p_station'')',
		'CREATE VIEW gov_scratch.v_' || current_user || ' AS SELECT embedding FROM frt.face',
		'SELECT * FROM gov_scratch.v_' || current_user,
		'INSERT INTO frt.face (subject, purpose, consent_id, embedding, minor, expires_at) SELECT ''p_s1'', ''p_door'', 1, ''[1,0,0]'', false, now() + ''1 day''',
		'UPDATE frt.face SET expires_at = now() + ''10 years''',
		'DELETE FROM frt.face',
		'SELECT frt.enroll(''p_s1'', ''p_door'', ''[1,0,0]'', ''p_office'')',
		'SELECT frt.verify(''p_s1'', ''p_door'', ''[1,0,0]'', ''p_office'')',
		'SELECT frt.identify(''p_station'', ''[0,1,0]'', ''p_hall'')',
		'SELECT frt.give_consent(''p_s2'', ''p_door'', ''self'', ''written'')',
		'UPDATE frt.consent SET given_by = ''guardian'', guardian_ref = ''x'' WHERE subject = ''p_kid''',
		'DELETE FROM frt.consent WHERE subject = ''p_s1''',
		'SELECT count(*) FROM frt.subject',
		'SELECT count(*) FROM frt.consent',
		'INSERT INTO frt.purpose (name, kind, description, method, retention) VALUES (''x_'' || current_user, ''identification'', ''d'', ''m'', ''1 day'')',
		'UPDATE frt.device SET location_type = ''workplace'' WHERE name = ''p_hall''',
		'INSERT INTO frt.assessment (purpose, assessor, report) VALUES (''p_door'', ''me'', ''r'')',
		'UPDATE frt.assessment SET voided_at = NULL, void_reason = NULL',
		'DELETE FROM frt.assessment',
		'SELECT count(*) FROM frt.audit',
		'UPDATE frt.audit SET outcome = ''x''',
		'DELETE FROM frt.audit',
		'SELECT count(*) FROM frt.compliance_report()',
		'SELECT stored_subjects FROM frt.filing_status()',
		'SELECT frt.erase_subject(''p_nobody'')',
		'ALTER TABLE frt.face DISABLE ROW LEVEL SECURITY',
		'ALTER TABLE frt.face NO FORCE ROW LEVEL SECURITY',
		'DROP POLICY face_active ON frt.face',
		'CREATE POLICY mine ON frt.face USING (true)',
		'GRANT SELECT ON frt.face TO PUBLIC',
		'SET LOCAL row_security = off; SELECT id FROM frt.face']
	LOOP
		attack := a;
		result := split_part(gov_try(a), ':', 1);
		RETURN NEXT;
	END LOOP;
END
$$;

SET ROLE frt_matcher;
SELECT * FROM gov_attacks();
RESET ROLE;
SET ROLE frt_auditor;
SELECT * FROM gov_attacks();
RESET ROLE;
SET ROLE frt_enroller;
SELECT * FROM gov_attacks();
RESET ROLE;
SET ROLE frt_admin;
SELECT * FROM gov_attacks();
RESET ROLE;

-- COPY of the face store (whole table or the embedding column) is denied
\set VERBOSITY sqlstate
SET ROLE frt_admin;
COPY frt.face TO STDOUT;
COPY frt.face (embedding) TO STDOUT;
COPY (SELECT embedding FROM frt.face) TO STDOUT;
COPY (SELECT subject, purpose FROM frt.face WHERE purpose LIKE 'p\_%' ORDER BY id) TO STDOUT;
RESET ROLE;
SET ROLE frt_enroller;
COPY frt.face TO STDOUT;
RESET ROLE;
SET ROLE frt_matcher;
COPY frt.face (id) TO STDOUT;
COPY frt.consent TO STDOUT;
RESET ROLE;
SET ROLE frt_auditor;
COPY frt.face (id) TO STDOUT;
COPY frt.subject TO STDOUT;
RESET ROLE;
\set VERBOSITY default

-- export_faces: frt_admin only, and only with transfer consent (Art. 8)
SET ROLE frt_admin;
SELECT face_id > 0 AS face, embedding FROM frt.export_faces('p_s2', 'p_station');
SELECT gov_try($$SELECT * FROM frt.export_faces('p_s1', 'p_door')$$);
RESET ROLE;

-- No role, frt_admin included, holds SELECT on frt.face.embedding, and no
-- SQL-level function a role may execute returns an embedding it was not
-- given, except export_faces (the C type functions only build values from
-- their arguments)
SELECT r AS role, has_column_privilege(r, 'frt.face', 'embedding', 'SELECT') AS can_select_embedding,
	has_table_privilege(r, 'frt.face', 'SELECT') AS can_select_table
FROM unnest(ARRAY['frt_admin', 'frt_enroller', 'frt_matcher', 'frt_auditor']) r;
SELECT r AS role, p.oid::regprocedure AS function
FROM unnest(ARRAY['frt_admin', 'frt_enroller', 'frt_matcher', 'frt_auditor']) r, pg_proc p
WHERE p.pronamespace = 'frt'::regnamespace
  AND has_function_privilege(r, p.oid, 'EXECUTE')
  AND ('frt.face_embedding'::regtype = p.prorettype
	   OR 'frt.face_embedding'::regtype = ANY (p.proallargtypes))
  AND NOT ('frt.face_embedding'::regtype = ANY (p.proargtypes::oid[]))
  AND p.prolang <> (SELECT oid FROM pg_language WHERE lanname = 'c')
ORDER BY 1, 2;

-- SECURITY DEFINER functions all pin search_path and none is executable by PUBLIC
SELECT p.oid::regprocedure AS definer_without_pinned_path
FROM pg_proc p WHERE p.pronamespace = 'frt'::regnamespace AND p.prosecdef
  AND NOT coalesce(p.proconfig::text[] @> ARRAY['search_path=pg_catalog, pg_temp'], false);
SELECT p.oid::regprocedure AS definer_executable_by_public
FROM pg_proc p WHERE p.pronamespace = 'frt'::regnamespace AND p.prosecdef
  AND has_function_privilege('public', p.oid, 'EXECUTE');

-- Roles are NOLOGIN
SELECT rolname, rolcanlogin, rolsuper, rolbypassrls FROM pg_roles
WHERE rolname IN ('frt_admin', 'frt_enroller', 'frt_matcher', 'frt_auditor') ORDER BY 1;

DROP SCHEMA gov_scratch CASCADE;

-- frt_admin terminates a purpose and opens a change filing with the
-- documented defaults (the default date is evaluated as the caller)
CREATE ROLE roles_dpo LOGIN IN ROLE frt_admin;
BEGIN;
SET ROLE roles_dpo;
-- (change and cancellation filings follow the initial filing; rolled back)
SELECT frt.record_filing('initial', frt._filing_today(), 'CAC-ROLES-0001');
INSERT INTO frt.purpose (name, kind, description, method, retention, alternative_method)
VALUES ('roles_ended', 'verification', 'door', '1:1', '1 year', 'badge');
SELECT frt.terminate_purpose('roles_ended') > CURRENT_DATE AS cancellation_due;
SELECT frt.open_filing('change', 'roles_ended') > CURRENT_DATE AS change_due;
RESET ROLE;
SELECT kind, purpose FROM frt.filing WHERE purpose = 'roles_ended' ORDER BY kind;
ROLLBACK;
DROP ROLE roles_dpo;

-- The layers of frt_governance meet at declared extension points: a lower
-- layer calls the handlers registered for its points and never a higher
-- layer's function by name.  Privileges cannot drift: only functions
-- granted to PUBLIC on purpose are callable by every role.
SELECT gov_world('l');
SELECT frt.enroll('l_s1', 'l_door', '[1,0,0]', 'l_office') > 0 AS enrolled;
SELECT frt.give_consent('l_s2', 'l_door', 'self', 'written') > 0 AS consented;
SELECT frt.enroll('l_s2', 'l_door', '[0,1,0]', 'l_office') > 0 AS enrolled;
SELECT frt.withdraw_consent('l_s2', 'l_door');

-- the points, who offers them, and who registered for them
SELECT p.point, p.offered_by, p.arguments, h.handler, h.layer
  FROM frt.extension_point p LEFT JOIN frt.extension_hook h USING (point)
 ORDER BY p.offered_by, p.point, h.position, h.handler;

-- a handler registered at before_match takes part in every verification ...
BEGIN;
CREATE FUNCTION frt.l_deny(text, text, text, text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'l_deny refused % for %', $1, $2;
END $$;
SELECT frt._hook_register('before_match', 'l_deny', 'intrusion');
SELECT gov_try($$SELECT matched FROM frt.verify('l_s1', 'l_door', '[1,0,0]', 'l_office')$$);
ROLLBACK;
-- ... and without it the verification goes through again
SELECT matched FROM frt.verify('l_s1', 'l_door', '[1,0,0]', 'l_office');

-- a handler must match the point's arguments and result
SELECT gov_try($$SELECT frt._hook_register('before_match', '_intrusion_count', 'intrusion')$$);
SELECT gov_try($$SELECT frt._hook_register('no_such_point', '_intrusion_count', 'intrusion')$$);
-- only a layer above the one offering the point may register
SELECT gov_try($$SELECT frt._hook_register('audit_recorded', '_intrusion_count', 'audit')$$);

-- every audit record reaches the audit_recorded handlers (here: the
-- intrusion counters), in the audit writer's transaction
SELECT sum(n) > 0 AS counted FROM frt.intrusion_counter WHERE event = 'match';

-- a failing audit_recorded handler cannot make the audit writer lose or
-- refuse records: its error is logged, the record and the chain stand
CREATE FUNCTION frt.l_fail(frt.audit) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'l_fail';
END $$;
SELECT frt._hook_register('audit_recorded', 'l_fail', 'intrusion');
SELECT frt.audit_event('l_test', 'ok') > 0 AS recorded;
SELECT count(*) AS records FROM frt.audit WHERE event = 'l_test';
DELETE FROM frt.extension_hook WHERE handler = 'l_fail';
DROP FUNCTION frt.l_fail(frt.audit);
SELECT ok FROM frt.verify_audit_chain();

-- the functions of frt_governance that every role may call
SELECT p.oid::regprocedure AS public_function
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'frt_governance'
 WHERE has_function_privilege('public', p.oid, 'EXECUTE')
 ORDER BY 1::text;
-- every SECURITY DEFINER function of both extensions pins search_path
SELECT p.oid::regprocedure AS definer_without_search_path
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname IN ('frt', 'frt_governance')
 WHERE p.prosecdef
   AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%');

-- the row-level security policy and the inlined face reads resolve their
-- operators the same way whatever the caller's search_path: a role that
-- may create objects shadows = and > in its own schema, and still sees no
-- withdrawn face
CREATE ROLE l_evil;
GRANT frt_enroller TO l_evil;
CREATE SCHEMA l_evil AUTHORIZATION l_evil;
SET ROLE l_evil;
CREATE FUNCTION l_evil.yes(int8, int8) RETURNS bool LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR l_evil.= (LEFTARG = int8, RIGHTARG = int8, FUNCTION = l_evil.yes);
CREATE FUNCTION l_evil.yes(timestamptz, timestamptz) RETURNS bool LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR l_evil.> (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = l_evil.yes);
SET search_path = l_evil, pg_catalog;
SELECT subject FROM frt.face WHERE purpose OPERATOR(pg_catalog.=) 'l_door' ORDER BY 1;
RESET search_path;
RESET ROLE;
DROP SCHEMA l_evil CASCADE;
DROP ROLE l_evil;
-- leave no withdrawn face behind for the suites that follow
SELECT frt._face_purge() AS purged;

-- Application authorization (Measures Art. 14): the grant functions reject
-- bad input on record, the approval facts name real columns, frt_admin
-- cannot write the approval columns, and a refused caller changes nothing.
SELECT gov_world('az');
CREATE ROLE az_app IN ROLE frt_matcher;
-- no grants on this world's purposes and devices, for any role
SELECT count(frt.revoke_application(grantee, purpose)) FROM frt.app_grant WHERE purpose LIKE 'az\_%';
SELECT count(frt.unbind_device(device, grantee)) FROM frt.device_login WHERE device LIKE 'az\_%';
CREATE ROLE az_admin IN ROLE frt_admin;
CREATE ROLE az_enr IN ROLE frt_enroller;

-- every fact an approval covers is a column of its table
SELECT t, f FROM unnest(ARRAY['device', 'purpose']) t, unnest(frt._approval_facts(t)) f
WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a
				  WHERE a.attrelid = ('frt.' || t)::regclass AND a.attname = f AND NOT a.attisdropped);
-- frt_admin may update every column of purpose and device but the approval ones
SELECT c.relname, a.attname,
	   has_column_privilege('frt_admin', c.oid, a.attnum, 'UPDATE') AS admin_may_update
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.oid IN ('frt.purpose'::regclass, 'frt.device'::regclass)
  AND (a.attname IN ('changed_by', 'approved_by', 'approved_at')
	   OR NOT has_column_privilege('frt_admin', c.oid, a.attnum, 'UPDATE'))
ORDER BY 1, 2;

-- bad input to the grant functions: rejected, on record, nothing changed
SELECT gov_refused($$SELECT frt.grant_application('az_nobody', 'az_door', ARRAY['verify'])$$);
SELECT gov_refused($$SELECT frt.grant_application('az_app', 'az_nowhere', ARRAY['verify'])$$);
SELECT gov_refused($$SELECT frt.grant_application('az_app', 'az_door', ARRAY['verify', 'delete'])$$);
SELECT gov_refused($$SELECT frt.grant_application('az_app', 'az_door', ARRAY[]::text[])$$);
SELECT gov_refused($$SELECT frt.grant_application('az_app', 'az_door', ARRAY['verify', NULL])$$);
SELECT gov_refused($$SELECT frt.bind_device('az_nowhere', 'az_app')$$);
SELECT event, sqlstate, detail->>'function' AS function FROM frt.audit
WHERE event = 'rejected' AND detail->>'function' IN ('grant_application', 'bind_device')
ORDER BY seq DESC LIMIT 6;

-- grants add up; revocations take away; both audited
SELECT frt.grant_application('az_app', 'az_door', ARRAY['verify']);
SELECT frt.grant_application('az_app', 'az_door', ARRAY['identify', 'verify']);
SELECT frt.revoke_application('az_app', 'az_door', ARRAY['identify']);
SELECT frt.revoke_application('az_app', 'az_station');
SELECT outcome, purpose, detail->'key' AS key FROM frt.audit
WHERE event = 'registry' AND detail->>'table' = 'app_grant' AND purpose = 'az_door'
  AND detail->'key'->>'grantee' = 'az_app' ORDER BY seq;

-- a matcher with no grant: refused, on record; an
-- unknown purpose alike; granted the purpose (verify on az_door, above)
-- but not bound to the device: refused, an unknown device alike
SET SESSION AUTHORIZATION az_app;
SELECT gov_try($$SELECT * FROM frt.identify('az_station', '[1,0,0]', 'az_hall')$$);
SELECT gov_try($$SELECT * FROM frt.identify('az_unknown', '[1,0,0]', 'az_hall')$$);
SELECT gov_try($$SELECT * FROM frt.verify('az_s1', 'az_door', '[1,0,0]', 'az_office')$$);
SELECT gov_try($$SELECT * FROM frt.verify('az_s1', 'az_door', '[1,0,0]', 'az_unknown')$$);
RESET SESSION AUTHORIZATION;
-- an enroller records consent only for a purpose it may enrol for
SET SESSION AUTHORIZATION az_enr;
SELECT gov_try($$SELECT frt.give_consent('az_s1', 'az_station', 'self', 'written')$$);
SELECT gov_try($$SELECT frt.give_consent('az_s1', 'az_unknown', 'self', 'written')$$);
RESET SESSION AUTHORIZATION;
SELECT frt.grant_application('az_enr', 'az_station', ARRAY['enrol']);
SET SESSION AUTHORIZATION az_enr;
SELECT frt.give_consent('az_s1', 'az_station', 'self', 'written') > 0 AS renewed;
RESET SESSION AUTHORIZATION;
SELECT frt.revoke_application('az_enr', 'az_station');
SELECT sqlstate, role_name, purpose, device, detail->>'function' AS function FROM frt.audit
WHERE event = 'refusal' AND role_name IN ('az_app', 'az_enr') ORDER BY seq;

-- frt_admin: no direct UPDATE of the approval columns
SET ROLE az_admin;
SELECT gov_try($$UPDATE frt.device SET approved_at = NULL WHERE name = 'az_hall'$$);
SELECT gov_try($$UPDATE frt.purpose SET changed_by = 'someone' WHERE name = 'az_door'$$);
RESET ROLE;

SELECT frt.revoke_application('az_app', 'az_door');
DROP ROLE az_app;
DROP ROLE az_admin;
DROP ROLE az_enr;

-- Attack (Art. 14, audit integrity): a superuser turns on restore mode, or
-- session_replication_role = replica, on a database in use and changes the
-- registry, hoping for no record.  A restore only inserts: in restore mode
-- an insert is not recorded again (the restored trail has it), every other
-- change is; and the registry's records and rules fire under replica too.
SELECT gov_world('xs');
CREATE FUNCTION xs_records(p_key text) RETURNS bigint LANGUAGE sql AS $$
	SELECT count(*) FROM frt.audit
	 WHERE event = 'registry' AND detail->>'table' = 'purpose' AND detail->>'key' LIKE '%' || p_key || '%' $$;
SELECT xs_records('xs_door') AS before;
-- restore mode: an UPDATE and a DELETE are recorded
SET frt.restore = on;
UPDATE frt.purpose SET max_k = 1000, score_disclosure = 'exact' WHERE name = 'xs_door';
RESET frt.restore;
SELECT xs_records('xs_door') AS after_restore_mode_update;
-- replica: the same
SET session_replication_role = replica;
UPDATE frt.purpose SET similarity_threshold = 0.1 WHERE name = 'xs_door';
RESET session_replication_role;
SELECT xs_records('xs_door') AS after_replica_update;
SELECT detail->>'op' AS op, role_name = current_user AS by_me FROM frt.audit
 WHERE event = 'registry' AND detail->>'table' = 'purpose' AND detail->>'key' LIKE '%xs_door%'
 ORDER BY seq;
-- consent evidence rules hold under replica: a backdated consent is refused
SET session_replication_role = replica;
SELECT left(gov_try($$INSERT INTO frt.consent (subject, purpose, given_by, obtained_how, given_at)
	VALUES ('xs_s2', 'xs_station', 'self', 'written', now() - interval '1 year')$$), 5) AS backdated_under_replica;
-- and the intrusion-policy guard: the superuser's change is recorded
INSERT INTO frt.intrusion_policy (role_name, export_rate_per_hour) VALUES ('xs_nobody', 1);
RESET session_replication_role;
SELECT count(*) AS policy_records FROM frt.audit
 WHERE event = 'intrusion_policy' AND detail::text LIKE '%xs_nobody%';
DELETE FROM frt.intrusion_policy WHERE role_name = 'xs_nobody';
DROP FUNCTION xs_records(text);

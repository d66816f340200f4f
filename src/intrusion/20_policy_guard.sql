-- Layer 9: who may loosen the intrusion limits (Measures Art. 14).  The
-- limits bind the session user (its own row of frt.intrusion_policy, else
-- the '*' row, else the built-in defaults), and frt_admin sets them; an
-- account that may both set limits and be limited by them (an admin that
-- exports, or a login that is also a matcher) must not be able to lift its
-- own limits and then brute-force or bulk-extract.  So:
--   * nobody loosens a limit that binds themselves: a change that loosens
--     the row the session user is bound by (its own row, or '*' while it
--     has none) is refused (MF014) and recorded; loosening another
--     account's limits takes a second account (four eyes);
--   * every loosening by an account that is not a superuser raises the
--     alert 'intrusion_policy_loosened' (frt.alert and the server log) with
--     the row before and after and who changed it;
--   * every change is recorded with the row before and after (event
--     'intrusion_policy', outcome 'loosened' or 'changed').
-- "Looser": a limit switched off (NULL) or raised, a shorter failure window
-- or lockout, a row deleted or renamed (its role falls back to '*' or the
-- defaults), and a change to any column this guard does not know.  A row
-- inserted is compared with the limits its role had before it.  Superusers
-- are not bound and not alerted on (they can bypass any rule inside the
-- database; it is how the DBA sets up); their changes are recorded like
-- everyone's.  A change is checked and recorded before the row is written:
-- an attempt that then fails a constraint is on record too.  A restore
-- replays rows unchecked.

-- Does the change from limits b to limits a loosen anything?
CREATE FUNCTION @extschema@._intrusion_policy_looser(b @extschema@.intrusion_policy,
	a @extschema@.intrusion_policy)
RETURNS pg_catalog.bool
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k pg_catalog.text;
	jb pg_catalog.jsonb := pg_catalog.to_jsonb(b) OPERATOR(pg_catalog.-) 'role_name';
	ja pg_catalog.jsonb := pg_catalog.to_jsonb(a) OPERATOR(pg_catalog.-) 'role_name';
BEGIN
	IF a IS NULL THEN
		RETURN true;
	END IF;
	-- limits: NULL (rule off) is the loosest, then the higher
	IF (b.match_rate_per_minute IS NOT NULL AND a.match_rate_per_minute IS DISTINCT FROM
			LEAST(a.match_rate_per_minute, b.match_rate_per_minute))
	   OR (b.export_rate_per_hour IS NOT NULL AND a.export_rate_per_hour IS DISTINCT FROM
			LEAST(a.export_rate_per_hour, b.export_rate_per_hour))
	   OR (b.max_failed_verifications IS NOT NULL AND a.max_failed_verifications IS DISTINCT FROM
			LEAST(a.max_failed_verifications, b.max_failed_verifications))
	   OR (b.identified_per_hour IS NOT NULL AND a.identified_per_hour IS DISTINCT FROM
			LEAST(a.identified_per_hour, b.identified_per_hour))
	   -- a shorter window counts fewer failures; a shorter lockout lifts sooner
	   OR a.failure_window OPERATOR(pg_catalog.<) b.failure_window
	   OR a.lockout OPERATOR(pg_catalog.<) b.lockout THEN
		RETURN true;
	END IF;
	-- a column this guard does not know: any change may loosen
	FOR k IN SELECT pg_catalog.jsonb_object_keys(ja OPERATOR(pg_catalog.||) jb) LOOP
		IF k OPERATOR(pg_catalog.<>) ALL ('{match_rate_per_minute,export_rate_per_hour,max_failed_verifications,identified_per_hour,failure_window,lockout}'::pg_catalog.text[])
		   AND (ja->k) IS DISTINCT FROM (jb->k) THEN
			RETURN true;
		END IF;
	END LOOP;
	RETURN false;
END
$$;

-- Trigger on frt.intrusion_policy (before each row): refuse a loosening of
-- the changer's own limits, alert on any loosening, record every change
-- with the row before and after.
CREATE FUNCTION @extschema@._intrusion_policy_guard()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_me pg_catalog.text := session_user;
	v_before @extschema@.intrusion_policy;
	v_after @extschema@.intrusion_policy;
	v_looser pg_catalog.bool;
	v_binds_me pg_catalog.bool;
	v_super pg_catalog.bool;
	v_detail pg_catalog.jsonb;
	v_key pg_catalog.text;
BEGIN
	-- reloading a dump (a restore only inserts)
	IF TG_OP OPERATOR(pg_catalog.=) 'INSERT' AND @extschema@.audit_restoring() THEN
		RETURN NEW;
	END IF;
	IF TG_OP OPERATOR(pg_catalog.=) 'INSERT' THEN
		v_key := NEW.role_name;
		v_before := @extschema@._intrusion_limits(NEW.role_name);	-- what the role had
		v_after := NEW;
	ELSE
		v_key := OLD.role_name;
		v_before := OLD;
		-- a deleted or renamed row: its role falls back to something looser, or not
		v_after := CASE WHEN TG_OP OPERATOR(pg_catalog.=) 'UPDATE'
							 AND NEW.role_name OPERATOR(pg_catalog.=) OLD.role_name THEN NEW END;
	END IF;
	v_looser := @extschema@._intrusion_policy_looser(v_before, v_after);
	-- the row binds the changer: its own, or '*' while it has no row of its own
	v_binds_me := v_key OPERATOR(pg_catalog.=) v_me
		OR (TG_OP OPERATOR(pg_catalog.<>) 'DELETE' AND NEW.role_name OPERATOR(pg_catalog.=) v_me)
		OR (v_key OPERATOR(pg_catalog.=) '*' AND NOT EXISTS (
				SELECT 1 FROM @extschema@.intrusion_policy p WHERE p.role_name OPERATOR(pg_catalog.=) v_me));
	v_detail := pg_catalog.jsonb_build_object('role_name', v_key, 'op', TG_OP, 'changed_by', v_me,
		'before', pg_catalog.to_jsonb(v_before), 'after',
		CASE WHEN TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN NULL ELSE pg_catalog.to_jsonb(NEW) END);
	v_super := (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) v_me);
	IF v_looser AND v_binds_me AND NOT v_super THEN
		PERFORM @extschema@._refuse('MF014', 14, @extschema@._t(
			'role %I may not loosen the intrusion limits that bind it (%s of the %L row); another account must make the change',
			v_me, pg_catalog.lower(TG_OP), v_key),
			'intrusion_policy', NULL, NULL, NULL);
	END IF;
	PERFORM @extschema@.audit_event('intrusion_policy', CASE WHEN v_looser THEN 'loosened' ELSE 'changed' END,
		NULL, NULL, NULL, NULL, NULL, v_detail);
	IF v_looser AND NOT v_super THEN
		PERFORM @extschema@._alert('intrusion_policy_loosened', NULL, NULL, NULL, v_detail);
	END IF;
	RETURN CASE WHEN TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN OLD ELSE NEW END;
END
$$;
CREATE TRIGGER intrusion_policy_guard BEFORE INSERT OR UPDATE OR DELETE ON @extschema@.intrusion_policy
	FOR EACH ROW EXECUTE FUNCTION @extschema@._intrusion_policy_guard();
-- also under session_replication_role = replica, as is the policy's audit
ALTER TABLE @extschema@.intrusion_policy ENABLE ALWAYS TRIGGER intrusion_policy_guard;
ALTER TABLE @extschema@.intrusion_policy ENABLE ALWAYS TRIGGER intrusion_policy_audit;

-- Layer 8 (jobs): scheduling through pg_cron.
--
-- pg_cron runs each job as one statement in its own session (VACUUM cannot
-- run inside a function or a multi-statement string), so erasure is a chain
-- of jobs a few minutes apart, in this order:
--   frt-purge          SELECT frt.purge()             delete what is due
--   frt-vacuum         VACUUM (INDEX_CLEANUP ON) frt.face
--                                                     remove index entries,
--                                                     free line pointers
--   frt-scrub          SELECT frt.scrub_faces()       zero freed heap space,
--                                                     confirm each erasure
--   frt-audit-retention SELECT frt.audit_retention_purge()   (audit layer)
--   frt-filing-check   SELECT frt.filing_check()      Art. 15 deadlines
-- A step that misses rows (a long transaction still sees them, a job ran
-- late) leaves them for the next day's chain; frt.erasure_report() shows
-- every face's progress.  Schedules are cron expressions in GMT; the
-- defaults run at night China time (UTC+8): the filing check at 01:00,
-- the purge at 02:00, VACUUM at 02:20, the scrub at 02:40 and the audit
-- retention at 03:00 Beijing time ('0 18 * * *' is 02:00 the next day).

-- Whether the audit layer provides frt.audit_retention_purge (callable
-- with no arguments: its retention defaults to 3 years).
CREATE FUNCTION @extschema@._jobs_have_audit_retention()
RETURNS pg_catalog.bool
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_proc p
				   WHERE p.proname = 'audit_retention_purge'
					 AND p.pronamespace = '@extschema@'::pg_catalog.regnamespace
					 AND p.pronargs = p.pronargdefaults);
$$;

-- The jobs frt needs: name, default schedule and the single statement each
-- runs.  Use this to drive any scheduler when pg_cron is not available.
CREATE FUNCTION @extschema@.job_commands(
	p_purge pg_catalog.text DEFAULT '0 18 * * *',
	p_vacuum pg_catalog.text DEFAULT '20 18 * * *',
	p_scrub pg_catalog.text DEFAULT '40 18 * * *',
	p_audit pg_catalog.text DEFAULT '0 19 * * *',
	p_filing pg_catalog.text DEFAULT '0 17 * * *')
RETURNS TABLE (jobname pg_catalog.text, schedule pg_catalog.text, command pg_catalog.text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
	SELECT j.jobname, j.schedule, j.command FROM (VALUES
		(1, 'frt-purge', p_purge, 'SELECT @extschema@.purge()'),
		(2, 'frt-vacuum', p_vacuum, 'VACUUM (INDEX_CLEANUP ON) @extschema@.face'),
		(3, 'frt-scrub', p_scrub, 'SELECT @extschema@.scrub_faces()'),
		(4, 'frt-audit-retention', p_audit, 'SELECT @extschema@.audit_retention_purge()'),
		(5, 'frt-filing-check', p_filing, 'SELECT @extschema@.filing_check()')
	) AS j(ord, jobname, schedule, command)
	-- The audit-retention job only if the audit layer provides it.
	WHERE j.jobname <> 'frt-audit-retention' OR @extschema@._jobs_have_audit_retention()
	ORDER BY j.ord;
$$;

-- Raise a clear error unless pg_cron is installed in this database.
CREATE FUNCTION @extschema@.jobs_require_cron()
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	crondb text := pg_catalog.current_setting('cron.database_name', true);
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('pg_cron is not installed in database "%s"', pg_catalog.current_database()),
			ERRCODE = 'undefined_object',
				  DETAIL = CASE WHEN crondb IS NULL
					THEN 'pg_cron is not loaded (add it to shared_preload_libraries and restart).'
					ELSE pg_catalog.format('cron.database_name is "%s".', crondb) END,
				  HINT = 'Set cron.database_name to this database and CREATE EXTENSION pg_cron, '
					'or run the statements of frt.job_commands() from another scheduler (docs/operations.md).';
	END IF;
END;
$$;

-- Register (or update) the jobs with pg_cron; idempotent: jobs are keyed
-- by name.  Runs as the caller, and pg_cron runs the jobs as the caller:
-- it must own frt.face (VACUUM and the heap scrub need the owner).
CREATE FUNCTION @extschema@.schedule_jobs(
	p_purge pg_catalog.text DEFAULT '0 18 * * *',
	p_vacuum pg_catalog.text DEFAULT '20 18 * * *',
	p_scrub pg_catalog.text DEFAULT '40 18 * * *',
	p_audit pg_catalog.text DEFAULT '0 19 * * *',
	p_filing pg_catalog.text DEFAULT '0 17 * * *')
RETURNS TABLE (jobname pg_catalog.text, jobid pg_catalog.int8, schedule pg_catalog.text,
			   command pg_catalog.text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	j record;
	ids int8[] := '{}';
	sockdir text;
BEGIN
	PERFORM @extschema@.jobs_require_cron();
	IF NOT pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c
								   WHERE c.oid = '@extschema@.face'::regclass), 'USAGE') THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('frt jobs must be scheduled by the owner of frt.face or a superuser'),
			ERRCODE = 'insufficient_privilege',
				  DETAIL = @extschema@._t('pg_cron runs each job as the role that scheduled it; VACUUM and frt.scrub_faces() need the table owner.');
	END IF;
	FOR j IN SELECT * FROM @extschema@.job_commands(p_purge, p_vacuum, p_scrub, p_audit, p_filing) LOOP
		jobname := j.jobname;
		schedule := j.schedule;
		command := j.command;
		EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO jobid USING j.jobname, j.schedule, j.command;
		ids := ids || jobid;
		RETURN NEXT;
	END LOOP;
	-- pg_cron connects to cron.host (default localhost) over TCP unless it
	-- runs jobs in background workers.  A server that listens on no TCP
	-- address is reached through its socket directory instead.
	IF COALESCE(pg_catalog.current_setting('cron.use_background_workers', true), 'off') = 'off'
	   AND pg_catalog.btrim(pg_catalog.current_setting('listen_addresses')) = '' THEN
		sockdir := pg_catalog.btrim(pg_catalog.split_part(
			pg_catalog.current_setting('unix_socket_directories'), ',', 1));
		BEGIN
			EXECUTE 'UPDATE cron.job SET nodename = $1 WHERE jobid = ANY ($2)' USING sockdir, ids;
			RAISE NOTICE USING MESSAGE = @extschema@._t('the server listens on no TCP address: frt jobs connect through socket directory "%s"', sockdir);
		EXCEPTION WHEN insufficient_privilege THEN
			RAISE WARNING USING MESSAGE = @extschema@._t('pg_cron cannot connect: the server listens on no TCP address'),
				HINT = @extschema@._t('Set cron.use_background_workers = on, or cron.host to the socket directory.');
		END;
	END IF;
	IF NOT @extschema@._jobs_have_audit_retention() THEN
		RAISE NOTICE USING MESSAGE = @extschema@._t('frt.audit_retention_purge() does not exist: no audit-retention job scheduled');
	END IF;
	PERFORM @extschema@.audit_event('jobs_scheduled', 'ok', p_detail =>
		pg_catalog.jsonb_build_object('jobs', (SELECT pg_catalog.jsonb_object_agg(c.jobname, c.schedule)
			FROM @extschema@.job_commands(p_purge, p_vacuum, p_scrub, p_audit, p_filing) c)));
END;
$$;

-- Remove frt's jobs from pg_cron; returns the names removed.
CREATE FUNCTION @extschema@.unschedule_jobs()
RETURNS SETOF pg_catalog.text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n text;
	ok bool;
BEGIN
	PERFORM @extschema@.jobs_require_cron();
	FOR n IN EXECUTE 'SELECT jobname FROM cron.job WHERE jobname LIKE ''frt-%'' AND username = current_user ORDER BY jobid' LOOP
		EXECUTE 'SELECT cron.unschedule($1)' INTO ok USING n;
		IF ok THEN
			RETURN NEXT n;
		END IF;
	END LOOP;
	PERFORM @extschema@.audit_event('jobs_unscheduled', 'ok');
END;
$$;

REVOKE ALL ON FUNCTION @extschema@.schedule_jobs(pg_catalog.text, pg_catalog.text, pg_catalog.text,
	pg_catalog.text, pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.unschedule_jobs() FROM PUBLIC;

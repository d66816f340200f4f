-- Layer 8 (jobs): erasure of face data, from the table, the index and the
-- files (Measures Art. 6, 7, 8, 15).
--
-- A face leaves the database in three steps, each run by a pg_cron job
-- (schedule.sql) and each recorded in frt.erasure_log, one row per face:
--   1. frt.purge() deletes every face that is due: retention ended (the
--      purpose's current retention, or its shorter minor_retention for a
--      subject enrolled under 14), consent withdrawn, purpose terminated.
--      Subject erasure (frt.erase_subject) deletes at once.  A trigger on
--      frt.face records each deleted row's TID and xmin in the ledger.
--   2. VACUUM (INDEX_CLEANUP ON) frt.face removes the index entries (the
--      frt_ivf index overwrites their bytes) and frees the line pointers.
--   3. frt.scrub_faces() zeroes the heap space the rows occupied
--      (frt.scrub_heap, WAL-logged) and confirms each ledger row against
--      the page itself (frt.heap_tid_state): index_erased_at once no index
--      entry can point to it, heap_erased_at once no byte of it is left.
-- frt.erasure_report(subject) shows every face of a subject on that path.

-- ---- C functions ----

-- Prune and zero the free space of a table and its TOAST table (owner only).
CREATE FUNCTION @extschema@.scrub_heap(rel pg_catalog.regclass,
	OUT pages pg_catalog.int8, OUT pages_scrubbed pg_catalog.int8,
	OUT bytes_zeroed pg_catalog.int8, OUT tuples_pruned pg_catalog.int8)
RETURNS record
AS 'MODULE_PATHNAME', 'frt_scrub_heap' LANGUAGE C STRICT VOLATILE;
REVOKE ALL ON FUNCTION @extschema@.scrub_heap(pg_catalog.regclass) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.scrub_heap(pg_catalog.regclass) IS
	'prune dead rows and overwrite freed heap space with zeros, WAL-logged (table owner only)';

-- How far the erasure of the row that lived at (tid, xmin) has gone:
-- present | index_pending | unscrubbed | erased.
CREATE FUNCTION @extschema@.heap_tid_state(rel pg_catalog.regclass, t pg_catalog.tid, xmin pg_catalog.xid)
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'frt_heap_tid_state' LANGUAGE C STRICT VOLATILE;
REVOKE ALL ON FUNCTION @extschema@.heap_tid_state(pg_catalog.regclass, pg_catalog.tid, pg_catalog.xid) FROM PUBLIC;

CREATE FUNCTION @extschema@._erasure_ledger_trigger()
RETURNS trigger
AS 'MODULE_PATHNAME', 'frt_erasure_ledger_trigger' LANGUAGE C;
REVOKE ALL ON FUNCTION @extschema@._erasure_ledger_trigger() FROM PUBLIC;

-- ---- The ledger ----

CREATE TABLE @extschema@.erasure_log (
	face_id		pg_catalog.int8 PRIMARY KEY,
	subject		pg_catalog.text NOT NULL,
	purpose		pg_catalog.text NOT NULL,
	reason		pg_catalog.text NOT NULL CHECK (reason IN
		('retention', 'minor_retention', 'withdrawal', 'purpose_terminated', 'erasure')),
	enrolled_at pg_catalog.timestamptz,
	due_at		pg_catalog.timestamptz,
	deleted_at	pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	deleted_xact pg_catalog.xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id(),
	deleted_by	pg_catalog.text NOT NULL DEFAULT pg_catalog.session_user(),
	heap_tid	pg_catalog.tid,		-- where the row lived; cleared once erased
	heap_xmin	pg_catalog.xid,
	index_erased_at pg_catalog.timestamptz,
	heap_erased_at pg_catalog.timestamptz,
	key_epoch	pg_catalog.int8,		-- the key epoch that sealed the face
	key_destroyed_at pg_catalog.timestamptz,	-- when that epoch's key was destroyed
	CHECK (heap_erased_at IS NULL OR index_erased_at IS NOT NULL)
);
CREATE INDEX erasure_log_subject_idx ON @extschema@.erasure_log (subject);
CREATE INDEX erasure_log_open_idx ON @extschema@.erasure_log (deleted_at) WHERE heap_erased_at IS NULL;
COMMENT ON TABLE @extschema@.erasure_log IS
	'one row per erased face: why, when it left the table, the index and the heap files (evidence for data-subject requests); no biometric data';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.erasure_log', '');

-- Called by the ledger trigger for each deleted face row: cols are the
-- trigger's named columns (id, subject, purpose, consent_id, minor,
-- enrolled_at, expires_at, key_epoch) as text.  Works out why the row was deleted.
CREATE FUNCTION @extschema@._erasure_record(p_tid pg_catalog.tid, p_xmin pg_catalog.xid, cols pg_catalog.text[])
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_id int8 := cols[1]::int8;
	v_purpose text := cols[3];
	v_consent int8 := cols[4]::int8;
	v_minor bool := cols[5]::bool;
	v_enrolled timestamptz := cols[6]::timestamptz;
	v_expires timestamptz := cols[7]::timestamptz;
	v_withdrawn timestamptz;
	v_terminated date;
	v_limit timestamptz;
	v_adult_limit timestamptz;
	v_reason text;
	v_due timestamptz;
BEGIN
	SELECT c.withdrawn_at INTO v_withdrawn FROM @extschema@.consent c WHERE c.id = v_consent;
	SELECT t.terminated_on INTO v_terminated FROM @extschema@.purpose_termination t
	 WHERE t.purpose = v_purpose;
	-- retention ends: from the enrolment instant, the calendar counted in
	-- the purpose's legal time zone, as enrolment counts them
	SELECT @extschema@._legal_add(v_enrolled, CASE WHEN v_minor THEN COALESCE(p.minor_retention, p.retention)
			ELSE p.retention END, @extschema@._legal_zone(p.name)),
		   @extschema@._legal_add(v_enrolled, p.retention, @extschema@._legal_zone(p.name))
	  INTO v_limit, v_adult_limit FROM @extschema@.purpose p WHERE p.name = v_purpose;
	v_reason := CASE
		WHEN v_withdrawn IS NOT NULL THEN 'withdrawal'
		WHEN v_terminated IS NOT NULL THEN 'purpose_terminated'
		WHEN v_minor AND v_limit <= pg_catalog.now()
			AND v_limit < v_adult_limit
			THEN 'minor_retention'
		WHEN LEAST(v_expires, v_limit) <= pg_catalog.now() THEN 'retention'
		ELSE 'erasure' END;
	v_due := CASE v_reason
		WHEN 'withdrawal' THEN v_withdrawn
		WHEN 'purpose_terminated' THEN pg_catalog.timezone(@extschema@._legal_zone(v_purpose), v_terminated::pg_catalog.timestamp)
		WHEN 'retention' THEN LEAST(v_expires, v_limit)
		WHEN 'minor_retention' THEN LEAST(v_expires, v_limit)
		ELSE pg_catalog.now() END;
	INSERT INTO @extschema@.erasure_log (face_id, subject, purpose, reason, enrolled_at, due_at,
										 heap_tid, heap_xmin, key_epoch)
	VALUES (v_id, cols[2], v_purpose, v_reason, v_enrolled, v_due, p_tid, p_xmin, cols[8]::int8)
	ON CONFLICT (face_id) DO NOTHING;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@._erasure_record(pg_catalog.tid, pg_catalog.xid, pg_catalog.text[]) FROM PUBLIC;

CREATE TRIGGER face_erasure_ledger AFTER DELETE ON @extschema@.face
	FOR EACH ROW EXECUTE FUNCTION @extschema@._erasure_ledger_trigger(
		'id', 'subject', 'purpose', 'consent_id', 'minor', 'enrolled_at', 'expires_at', 'key_epoch');

-- ---- Purge ----

-- Delete every face that is due and return how many, by reason.  Sees the
-- rows row-level security hides (runs as the extension owner).  Leaves the
-- physical removal to VACUUM (INDEX_CLEANUP ON) and frt.scrub_faces().
CREATE FUNCTION @extschema@.purge(p_batch pg_catalog.int4 DEFAULT 10000,
	OUT retention pg_catalog.int8, OUT minor_retention pg_catalog.int8,
	OUT withdrawal pg_catalog.int8, OUT purpose_terminated pg_catalog.int8,
	OUT erasure pg_catalog.int8, OUT total pg_catalog.int8)
RETURNS record
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	ids int8[];
	n int8;
BEGIN
	-- several processors: installation-wide, the platform's (a superuser's)
	PERFORM @extschema@._require_platform('purge');
	IF p_batch IS NULL OR p_batch < 1 OR p_batch > 1000000 THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('batch size %s is out of range (1..1000000)', COALESCE(p_batch::pg_catalog.text, '<NULL>')),
			ERRCODE = 'invalid_parameter_value';
	END IF;
	-- Faces of terminated purposes, and faces whose purpose's current
	-- retention (minor_retention for minors) has ended even though their
	-- recorded expiry is later (retention shortened after enrolment).
	LOOP
		SELECT pg_catalog.array_agg(s.id) INTO ids FROM (
			SELECT f.id FROM @extschema@.face f
			  JOIN (SELECT p.*, @extschema@._legal_zone(p.name) AS zone
					  FROM @extschema@.purpose p OFFSET 0) p ON p.name = f.purpose
			 WHERE EXISTS (SELECT 1 FROM @extschema@.purpose_termination t WHERE t.purpose = f.purpose)
				OR @extschema@._legal_add(f.enrolled_at, CASE WHEN f.minor
						THEN COALESCE(p.minor_retention, p.retention) ELSE p.retention END, p.zone)
					<= pg_catalog.now()
			 LIMIT p_batch) s;
		EXIT WHEN ids IS NULL;
		PERFORM @extschema@._face_delete(ids, 'retention');
	END LOOP;
	-- Withdrawn consent and recorded expiry: the governance purge path.
	LOOP
		n := @extschema@._face_purge(p_batch);
		EXIT WHEN n IS NULL OR n = 0;
	END LOOP;

	-- Ledger rows are records of processing: kept 3 years after the
	-- erasure was complete (PIPL Art. 56, Measures Art. 9), then dropped.
	DELETE FROM @extschema@.erasure_log l
	 WHERE l.heap_erased_at < pg_catalog.now() - '3 years'::pg_catalog.interval;

	SELECT pg_catalog.count(*) FILTER (WHERE l.reason = 'retention'),
		   pg_catalog.count(*) FILTER (WHERE l.reason = 'minor_retention'),
		   pg_catalog.count(*) FILTER (WHERE l.reason = 'withdrawal'),
		   pg_catalog.count(*) FILTER (WHERE l.reason = 'purpose_terminated'),
		   pg_catalog.count(*) FILTER (WHERE l.reason = 'erasure'),
		   pg_catalog.count(*)
	  INTO retention, minor_retention, withdrawal, purpose_terminated, erasure, total
	  FROM @extschema@.erasure_log l
	 WHERE l.deleted_xact = pg_catalog.pg_current_xact_id();
	PERFORM @extschema@.audit_event('purge', 'ok', p_detail => pg_catalog.jsonb_build_object(
		'retention', retention, 'minor_retention', minor_retention, 'withdrawal', withdrawal,
		'purpose_terminated', purpose_terminated, 'erasure', erasure, 'total', total));
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.purge(pg_catalog.int4) FROM PUBLIC;

-- ---- Confirmation ----

-- Check every open ledger row against its heap page and record progress;
-- audits one 'erasure_confirmed' event per subject and purpose whose faces
-- are now gone from the files.  Returns the number of rows newly confirmed.
CREATE FUNCTION @extschema@.confirm_erasures(OUT index_confirmed pg_catalog.int8,
	OUT heap_confirmed pg_catalog.int8, OUT still_open pg_catalog.int8)
RETURNS record
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_ids int8[];
	v_states text[];
	g record;
BEGIN
	-- several processors: installation-wide, the platform's (a superuser's)
	PERFORM @extschema@._require_platform('confirm_erasures');
	-- Each open row's state, read once from its page (kept in variables:
	-- no temporary table a caller could have prepared).
	SELECT pg_catalog.array_agg(s.face_id), pg_catalog.array_agg(s.state) INTO v_ids, v_states
	  FROM (SELECT l.face_id,
				   @extschema@.heap_tid_state('@extschema@.face'::pg_catalog.regclass, l.heap_tid, l.heap_xmin) AS state
			  FROM @extschema@.erasure_log l
			 WHERE l.heap_erased_at IS NULL AND l.heap_tid IS NOT NULL) s;

	UPDATE @extschema@.erasure_log l SET index_erased_at = pg_catalog.now()
	  FROM ROWS FROM (pg_catalog.unnest(v_ids), pg_catalog.unnest(v_states)) AS c(face_id, state)
	 WHERE c.face_id = l.face_id AND c.state IN ('unscrubbed', 'erased') AND l.index_erased_at IS NULL;
	GET DIAGNOSTICS index_confirmed = ROW_COUNT;

	UPDATE @extschema@.erasure_log l SET heap_erased_at = pg_catalog.now(), heap_tid = NULL, heap_xmin = NULL
	  FROM ROWS FROM (pg_catalog.unnest(v_ids), pg_catalog.unnest(v_states)) AS c(face_id, state)
	 WHERE c.face_id = l.face_id AND c.state = 'erased';
	GET DIAGNOSTICS heap_confirmed = ROW_COUNT;

	FOR g IN
		SELECT l.subject, l.purpose, pg_catalog.array_agg(l.face_id ORDER BY l.face_id) AS faces,
			   pg_catalog.array_agg(DISTINCT l.reason) AS reasons
		  FROM @extschema@.erasure_log l
		  JOIN ROWS FROM (pg_catalog.unnest(v_ids), pg_catalog.unnest(v_states)) AS c(face_id, state)
			ON c.face_id = l.face_id AND c.state = 'erased'
		 GROUP BY l.subject, l.purpose
	LOOP
		PERFORM @extschema@.audit_event('erasure_confirmed', 'ok', g.purpose, g.subject,
			p_detail => pg_catalog.jsonb_build_object('faces', g.faces, 'reasons', g.reasons,
				'table', true, 'index', true, 'heap_files', true));
	END LOOP;

	SELECT pg_catalog.count(*) INTO still_open FROM @extschema@.erasure_log l WHERE l.heap_erased_at IS NULL;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.confirm_erasures() FROM PUBLIC;

-- The scrub job: zero freed heap space of frt.face (and its TOAST table),
-- then confirm the ledger.  One statement, for pg_cron.  Returns a summary.
CREATE FUNCTION @extschema@.scrub_faces()
RETURNS pg_catalog.jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s record;
	c record;
	result jsonb;
BEGIN
	-- several processors: installation-wide, the platform's (a superuser's)
	PERFORM @extschema@._require_platform('scrub_faces');
	SELECT * INTO s FROM @extschema@.scrub_heap('@extschema@.face'::pg_catalog.regclass);
	SELECT * INTO c FROM @extschema@.confirm_erasures();
	result := pg_catalog.jsonb_build_object('pages', s.pages, 'pages_scrubbed', s.pages_scrubbed,
		'bytes_zeroed', s.bytes_zeroed, 'tuples_pruned', s.tuples_pruned,
		'index_confirmed', c.index_confirmed, 'heap_confirmed', c.heap_confirmed,
		'still_open', c.still_open);
	PERFORM @extschema@.audit_event('scrub', 'ok', p_detail => result);
	RETURN result;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.scrub_faces() FROM PUBLIC;

-- ---- Report ----

-- Every face of a subject on its way out: 'stored' (active), 'pending'
-- (due: hidden by row-level security, not yet deleted), 'erased_from_table',
-- 'erased_from_index' (no index entry can point to it), 'erased' (nor any
-- byte of it left in the heap files).  States of open ledger rows are
-- checked live against the pages.  key_destroyed_at: when the key that
-- sealed the face was destroyed, so that no earlier backup can show it.
CREATE FUNCTION @extschema@.erasure_report(p_subject pg_catalog.text)
RETURNS TABLE (face_id pg_catalog.int8, purpose pg_catalog.text, status pg_catalog.text,
			   reason pg_catalog.text, enrolled_at pg_catalog.timestamptz,
			   due_at pg_catalog.timestamptz, deleted_at pg_catalog.timestamptz,
			   index_erased_at pg_catalog.timestamptz, heap_erased_at pg_catalog.timestamptz,
			   key_destroyed_at pg_catalog.timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_proc text;
BEGIN
	IF p_subject IS NULL THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('subject must not be null'), ERRCODE = 'null_value_not_allowed';
	END IF;
	-- the caller's processor's subject (a superuser: frt.processor, or the sole one)
	v_proc := @extschema@._acting_processor();
	RETURN QUERY
	SELECT f.id, f.purpose,
		   CASE WHEN due.reason IS NULL THEN 'stored' ELSE 'pending' END,
		   due.reason, f.enrolled_at, COALESCE(due.at, f.expires_at), NULL::timestamptz,
		   NULL::timestamptz, NULL::timestamptz, NULL::timestamptz
	  FROM @extschema@.face f
	  JOIN (SELECT p.*, @extschema@._legal_zone(p.name) AS zone
			  FROM @extschema@.purpose p OFFSET 0) p ON p.name = f.purpose
	  LEFT JOIN @extschema@.consent c ON c.id = f.consent_id
	  LEFT JOIN @extschema@.purpose_termination t ON t.purpose = f.purpose
	  CROSS JOIN LATERAL (SELECT
			CASE WHEN c.withdrawn_at IS NOT NULL THEN 'withdrawal'
				 WHEN t.purpose IS NOT NULL THEN 'purpose_terminated'
				 WHEN f.minor AND @extschema@._legal_add(f.enrolled_at, COALESCE(p.minor_retention, p.retention), p.zone)
						<= pg_catalog.now()
					AND @extschema@._legal_add(f.enrolled_at, COALESCE(p.minor_retention, p.retention), p.zone)
						< @extschema@._legal_add(f.enrolled_at, p.retention, p.zone)
					THEN 'minor_retention'
				 WHEN f.expires_at <= pg_catalog.now() THEN 'retention'
				 WHEN @extschema@._legal_add(f.enrolled_at, p.retention, p.zone) <= pg_catalog.now() THEN 'retention'
			END AS reason,
			CASE WHEN c.withdrawn_at IS NOT NULL THEN c.withdrawn_at
				 WHEN t.purpose IS NOT NULL THEN pg_catalog.timezone(p.zone, t.terminated_on::pg_catalog.timestamp)
				 ELSE LEAST(f.expires_at, @extschema@._legal_add(f.enrolled_at, CASE WHEN f.minor
					THEN COALESCE(p.minor_retention, p.retention) ELSE p.retention END, p.zone))
			END AS at) due
	 WHERE f.processor = v_proc AND f.subject = p_subject
	UNION ALL
	SELECT l.face_id, l.purpose,
		   CASE WHEN l.heap_erased_at IS NOT NULL THEN 'erased'
				ELSE CASE @extschema@.heap_tid_state('@extschema@.face'::pg_catalog.regclass,
													 l.heap_tid, l.heap_xmin)
					WHEN 'erased' THEN 'erased'
					WHEN 'unscrubbed' THEN 'erased_from_index'
					ELSE CASE WHEN l.index_erased_at IS NOT NULL THEN 'erased_from_index'
							  ELSE 'erased_from_table' END
				END
		   END,
		   l.reason, l.enrolled_at, l.due_at, l.deleted_at, l.index_erased_at, l.heap_erased_at,
		   l.key_destroyed_at
	  FROM @extschema@.erasure_log l
	 WHERE l.subject = p_subject AND @extschema@._purpose_processor(l.purpose) = v_proc
	ORDER BY 1;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.erasure_report(pg_catalog.text) FROM PUBLIC;

-- ---- Termination of a purpose ----

-- Record that face processing for a purpose has ended: no new faces, all
-- its faces are erased now, and, when the processor made its initial
-- filing, the cancellation filing falls due within 30 working days
-- (Measures Art. 15).  Returns the filing deadline (NULL: nothing to file).
CREATE FUNCTION @extschema@.terminate_purpose(p_purpose pg_catalog.text,
	p_terminated_on pg_catalog.date DEFAULT @extschema@._filing_today())
RETURNS pg_catalog.date
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	ids int8[];
	v_deadline date;
BEGIN
	IF p_purpose IS NULL OR p_terminated_on IS NULL THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('purpose and termination date must not be null'),
			ERRCODE = 'null_value_not_allowed';
	END IF;
	-- several processors: only the caller's own purposes (MF160)
	PERFORM @extschema@._check_tenant('terminate_purpose', p_purpose, NULL, NULL);
	IF NOT EXISTS (SELECT 1 FROM @extschema@.purpose p WHERE p.name = p_purpose) THEN
		PERFORM @extschema@._refuse('MF004', 4, @extschema@._t('purpose "%s" is not registered', p_purpose),
			'terminate_purpose', p_purpose, NULL, NULL);
	END IF;
	IF p_terminated_on > @extschema@._filing_today() THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('termination date %s is in the future', p_terminated_on),
			ERRCODE = 'invalid_parameter_value';
	END IF;
	IF EXISTS (SELECT 1 FROM @extschema@.purpose_termination t WHERE t.purpose = p_purpose) THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('purpose "%s" is already terminated', p_purpose), ERRCODE = 'unique_violation';
	END IF;
	INSERT INTO @extschema@.purpose_termination (purpose, terminated_on) VALUES (p_purpose, p_terminated_on);
	-- a cancellation filing only cancels a filing that was made (Art. 15)
	IF @extschema@._filing_filed((SELECT p.processor FROM @extschema@.purpose p WHERE p.name = p_purpose)) THEN
		v_deadline := @extschema@.open_filing('cancellation', p_purpose, p_terminated_on);
	END IF;
	SELECT pg_catalog.array_agg(f.id) INTO ids FROM @extschema@.face f WHERE f.purpose = p_purpose;
	IF ids IS NOT NULL THEN
		PERFORM @extschema@._face_delete(ids, 'purpose terminated');
	END IF;
	PERFORM @extschema@.audit_event('purpose_terminated', 'ok', p_purpose, p_detail =>
		pg_catalog.jsonb_build_object('terminated_on', p_terminated_on, 'faces_erased',
			COALESCE(pg_catalog.cardinality(ids), 0), 'cancellation_deadline', v_deadline));
	RETURN v_deadline;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.terminate_purpose(pg_catalog.text, pg_catalog.date) FROM PUBLIC;

-- Layer 5: the face store and its one internal path.
--
-- Every read or write of frt.face.embedding is in this file.  No role is
-- granted SELECT on that column and these functions are executable by the
-- extension owner only (EXECUTE revoked from PUBLIC, never granted), so the
-- public functions in 40_functions.sql reach embeddings only through here.
-- The column holds the face sealed by the keys layer (frt._face_seal, bound
-- to the row's id); these functions open it (frt._face_open) only in the
-- memory of the running server.  The per-purpose frt_ivf indexes are built
-- on the expression frt._face_open(id, embedding), and frt_ivf seals their
-- codes and centroids in turn (docs/encryption.md).

-- Whether a stored face may be seen or matched: its consent is not withdrawn
-- and its retention has not ended.  Used by the RLS policy and by every
-- internal read, so both agree.  Not inlined (its sub-select prevents it)
-- but called for every row the policy filters, so it pins no search_path (a
-- SET clause would cost a GUC save and restore per row): it runs with the
-- caller's, and every name in it is qualified (sql/gov_search_path.sql).
CREATE FUNCTION @extschema@._face_active(p_consent_id pg_catalog.int8, p_expires_at pg_catalog.timestamptz)
RETURNS pg_catalog.bool
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT p_expires_at OPERATOR(pg_catalog.>) pg_catalog.statement_timestamp()
		AND COALESCE((SELECT c.withdrawn_at IS NULL FROM @extschema@.consent c
					  WHERE c.id OPERATOR(pg_catalog.=) p_consent_id), false)
$$;

-- Row-level security: withdrawn or expired faces are invisible from the
-- statement after the withdrawal (or the instant of expiry), to every role,
-- the table owner included (FORCE).  Only superusers and BYPASSRLS roles --
-- the extension owner that runs the purge -- see them: the trusted boundary.
-- There are no INSERT/UPDATE/DELETE policies: direct writes are denied.
ALTER TABLE @extschema@.face ENABLE ROW LEVEL SECURITY;
ALTER TABLE @extschema@.face FORCE ROW LEVEL SECURITY;
CREATE POLICY face_active ON @extschema@.face FOR SELECT
	USING (@extschema@._face_active(consent_id, expires_at));

-- The Art. 15 filing threshold: stored faces of 100,000 people.
CREATE FUNCTION @extschema@._filing_threshold()
RETURNS pg_catalog.int8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT 100000::pg_catalog.int8 $$;

-- Today's date for Art. 15 deadlines: the installation's legal date
-- (frt._legal_today, in the processor's legal time zone).
CREATE FUNCTION @extschema@._filing_today()
RETURNS pg_catalog.date
LANGUAGE sql STABLE
AS $$ SELECT @extschema@._legal_today(NULL) $$;

-- Keep frt.filing_state.stored_subjects of processor p_processor in step:
-- p_delta of its subjects gained (or lost) their first (or last) stored
-- face.  Records the first day the count reached the Art. 15 threshold, a
-- legal date (frt._filing_today); the threshold applies per processor.
CREATE FUNCTION @extschema@._filing_count(p_delta pg_catalog.int8, p_processor pg_catalog.text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	INSERT INTO @extschema@.filing_state AS s (processor, stored_subjects, threshold_reached_on)
	VALUES (p_processor, GREATEST(p_delta, 0),
			CASE WHEN p_delta >= @extschema@._filing_threshold() THEN @extschema@._filing_today() END)
	ON CONFLICT (processor) DO UPDATE
	SET stored_subjects = GREATEST(s.stored_subjects + p_delta, 0),
		threshold_reached_on = COALESCE(s.threshold_reached_on,
			CASE WHEN s.stored_subjects + p_delta >= @extschema@._filing_threshold()
				 THEN @extschema@._filing_today() END);
END
$$;

-- Store one face; returns its id.  The caller (frt.enroll) has checked the law.
CREATE FUNCTION @extschema@._face_store(p_subject pg_catalog.text, p_purpose pg_catalog.text,
	p_device pg_catalog.text, p_consent_id pg_catalog.int8, p_embedding @extschema@.face_embedding,
	p_minor pg_catalog.bool, p_expires_at pg_catalog.timestamptz)
RETURNS pg_catalog.int8
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_new_subject pg_catalog.bool;
	v_id pg_catalog.int8;
	v_sealed pg_catalog.bytea;
	v_proc pg_catalog.text := @extschema@._purpose_processor(p_purpose);
BEGIN
	-- serialise with other enrolments and erasures of this subject
	PERFORM 1 FROM @extschema@.subject WHERE processor = v_proc AND id = p_subject FOR NO KEY UPDATE;
	v_new_subject := NOT EXISTS (SELECT 1 FROM @extschema@.face WHERE processor = v_proc AND subject = p_subject);
	-- the id first: the ciphertext is bound to it
	v_id := pg_catalog.nextval('@extschema@.face_id_seq'::pg_catalog.regclass);
	v_sealed := @extschema@._face_seal(v_id, p_embedding);
	INSERT INTO @extschema@.face (id, subject, purpose, device, consent_id, embedding, minor,
								  expires_at, key_epoch)
	VALUES (v_id, p_subject, p_purpose, p_device, p_consent_id, v_sealed, p_minor, p_expires_at,
			@extschema@._sealed_epoch(v_sealed));
	IF v_new_subject THEN
		PERFORM @extschema@._filing_count(1, v_proc);
	END IF;
	RETURN v_id;
END
$$;

-- Best cosine similarity of a probe against one subject's active faces for
-- one purpose (1:1); NULL when there is none.
CREATE FUNCTION @extschema@._face_similarity(p_subject pg_catalog.text, p_purpose pg_catalog.text,
	p_probe @extschema@.face_embedding)
RETURNS pg_catalog.float8
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- PL/pgSQL, not SQL: its plan is cached across calls (the 1:1 hot path)
	RETURN (SELECT pg_catalog.max(@extschema@.cosine_similarity(@extschema@._face_open(f.id, f.embedding),
																	p_probe))
			FROM @extschema@.face f
			WHERE f.subject = p_subject AND f.purpose = p_purpose
			  AND @extschema@._face_active(f.consent_id, f.expires_at));
END
$$;

-- Active faces of a purpose whose consent is valid for processing (no
-- re-notice pending, separate, not a condition of service, a guardian's for
-- a minor, a minor's only where the purpose processes minors: the same
-- rules frt.verify refuses on), nearest first
-- by cosine distance, optionally only within p_max_distance (1:N).  A plain
-- SQL function so it is inlined into the caller's query: the ORDER BY ...
-- <=> probe then streams from an frt_ivf index on frt._face_open(id,
-- embedding) when one exists (the expression must match).  Inlined
-- and policy functions are parsed with the caller's search_path, so every
-- operator is qualified: a role that may create objects cannot shadow them.
CREATE FUNCTION @extschema@._face_nearest(p_purpose pg_catalog.text, p_probe @extschema@.face_embedding,
	p_max_distance pg_catalog.float8)
RETURNS TABLE (face_id pg_catalog.int8, subject pg_catalog.text, distance pg_catalog.float8)
LANGUAGE sql STABLE
AS $$
	SELECT f.id, f.subject, @extschema@._face_open(f.id, f.embedding) OPERATOR(@extschema@.<=>) p_probe
	FROM @extschema@.face f
	WHERE f.purpose OPERATOR(pg_catalog.=) p_purpose
	  AND f.expires_at OPERATOR(pg_catalog.>) pg_catalog.statement_timestamp()
	  -- a scalar sub-select, not EXISTS: it stays a per-row filter and is
	  -- never turned into a join that would stop the ordered index scan
	  AND (SELECT c.withdrawn_at IS NULL AND NOT c.needs_renotice AND c.separate
				  AND NOT c.condition_of_service AND (NOT f.minor OR c.given_by OPERATOR(pg_catalog.=) 'guardian')
		   FROM @extschema@.consent c WHERE c.id OPERATOR(pg_catalog.=) f.consent_id)
	  -- a minor's face only where the purpose processes minors (Art. 7)
	  AND (NOT f.minor OR (SELECT pp.minors_allowed FROM @extschema@.purpose pp
						   WHERE pp.name OPERATOR(pg_catalog.=) p_purpose))
	  AND (p_max_distance IS NULL OR @extschema@._face_open(f.id, f.embedding) OPERATOR(@extschema@.<=>) p_probe
		   OPERATOR(pg_catalog.<=) p_max_distance)
	ORDER BY @extschema@._face_open(f.id, f.embedding) OPERATOR(@extschema@.<=>) p_probe
$$;

-- A subject's active faces for a purpose, embeddings included (export only).
-- The rows are sorted while still sealed (OFFSET 0 keeps the sort below the
-- opening), so a sort that spills to a temporary file writes ciphertext.
CREATE FUNCTION @extschema@._face_export(p_subject pg_catalog.text, p_purpose pg_catalog.text)
RETURNS TABLE (face_id pg_catalog.int8, embedding @extschema@.face_embedding,
	enrolled_at pg_catalog.timestamptz, expires_at pg_catalog.timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT s.id, @extschema@._face_open(s.id, s.embedding), s.enrolled_at, s.expires_at
	FROM (SELECT f.id, f.embedding, f.enrolled_at, f.expires_at
		  FROM @extschema@.face f
		  WHERE f.subject = p_subject AND f.purpose = p_purpose
			AND @extschema@._face_active(f.consent_id, f.expires_at)
		  ORDER BY f.id OFFSET 0) s;
$$;

-- Physically delete the given faces (VACUUM afterwards is the caller's
-- job), keep the filing count, audit one 'erasure' per subject and purpose.
-- Returns the number of rows deleted.
CREATE FUNCTION @extschema@._face_delete(p_ids pg_catalog.int8[], p_reason pg_catalog.text)
RETURNS pg_catalog.int8
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_procs pg_catalog.text[] := '{}';
	v_subjects pg_catalog.text[] := '{}';
	v_total pg_catalog.int8 := 0;
	r record;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM @extschema@.face f WHERE f.id = ANY (p_ids)) THEN
		RETURN 0;
	END IF;
	-- same lock order as enrolment: subject rows first (a subject is its
	-- processor and id)
	PERFORM 1 FROM @extschema@.subject s
	WHERE (s.processor, s.id) IN (SELECT f.processor, f.subject FROM @extschema@.face f WHERE f.id = ANY (p_ids))
		ORDER BY s.processor, s.id FOR NO KEY UPDATE;
	FOR r IN
		WITH d AS (DELETE FROM @extschema@.face f WHERE f.id = ANY (p_ids)
				   RETURNING f.processor, f.subject, f.purpose)
		SELECT d.processor, d.subject, d.purpose, pg_catalog.count(*) AS n FROM d GROUP BY 1, 2, 3
	LOOP
		v_total := v_total + r.n;
		v_procs := v_procs || r.processor;
		v_subjects := v_subjects || r.subject;
		PERFORM @extschema@.audit_event('erasure', 'erased', r.purpose, r.subject, NULL, NULL, NULL,
			pg_catalog.jsonb_build_object('faces', r.n, 'reason', p_reason));
	END LOOP;
	-- per processor, subjects whose last face this call deleted (rows a
	-- concurrent erasure deleted first were counted by that erasure)
	FOR r IN
		SELECT u.p, pg_catalog.count(DISTINCT u.s) AS n
		FROM ROWS FROM (pg_catalog.unnest(v_procs), pg_catalog.unnest(v_subjects)) AS u(p, s)
		WHERE NOT EXISTS (SELECT 1 FROM @extschema@.face f WHERE f.processor = u.p AND f.subject = u.s)
		GROUP BY u.p
	LOOP
		PERFORM @extschema@._filing_count(-r.n, r.p);
	END LOOP;
	RETURN v_total;
END
$$;

-- Delete up to p_batch inactive faces (consent withdrawn or retention
-- ended).  A purge calls this until it returns 0, then runs VACUUM
-- (INDEX_CLEANUP ON) on frt.face.
CREATE FUNCTION @extschema@._face_purge(p_batch pg_catalog.int4 DEFAULT 10000)
RETURNS pg_catalog.int8
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_ids pg_catalog.int8[];
	v_n pg_catalog.int8;
	v_m pg_catalog.int8;
BEGIN
	IF p_batch IS NULL OR p_batch < 1 THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('batch size must be positive'), ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT pg_catalog.array_agg(f.id) INTO v_ids FROM (
		SELECT f.id FROM @extschema@.face f
		JOIN @extschema@.consent c ON c.id = f.consent_id
		WHERE c.withdrawn_at IS NOT NULL
		LIMIT p_batch) f;
	v_n := COALESCE(@extschema@._face_delete(v_ids, 'consent withdrawn'), 0);
	IF v_n < p_batch THEN
		SELECT pg_catalog.array_agg(f.id) INTO v_ids FROM (
			SELECT f.id FROM @extschema@.face f
			WHERE f.expires_at <= pg_catalog.statement_timestamp()
			LIMIT p_batch - v_n) f;
		v_m := COALESCE(@extschema@._face_delete(v_ids, 'retention ended'), 0);
		v_n := v_n + v_m;
	END IF;
	RETURN v_n;
END
$$;

-- Shorten stored expiries of a purpose after its retention was reduced
-- (Art. 8); never lengthens.  The end is counted from the enrolment
-- instant in the purpose's legal time zone (frt._legal_add).  Returns the
-- number of faces changed.
CREATE FUNCTION @extschema@._face_clamp_expiry(p_purpose pg_catalog.text,
	p_retention pg_catalog.interval, p_minor_retention pg_catalog.interval)
RETURNS pg_catalog.int8
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
	WITH z AS MATERIALIZED (SELECT @extschema@._legal_zone(p_purpose) AS zone),
	u AS (
		UPDATE @extschema@.face f
		SET expires_at = LEAST(f.expires_at, @extschema@._legal_add(f.enrolled_at, p_retention, z.zone),
			CASE WHEN f.minor THEN @extschema@._legal_add(f.enrolled_at, p_minor_retention, z.zone) END)
		FROM z
		WHERE f.purpose = p_purpose
		  AND f.expires_at > LEAST(@extschema@._legal_add(f.enrolled_at, p_retention, z.zone),
			CASE WHEN f.minor THEN @extschema@._legal_add(f.enrolled_at, p_minor_retention, z.zone) END)
		RETURNING 1)
	SELECT pg_catalog.count(*) FROM u;
$$;

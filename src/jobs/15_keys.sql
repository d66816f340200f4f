-- Layer 8 (jobs): key epochs of the face store -- rotation, re-encryption
-- and erasure by key destruction (Measures Art. 14; docs/encryption.md).
--
-- Every face is sealed (frt.face.embedding, and the codes and centroids of
-- the frt_ivf indexes on it) under the key of one epoch.  An epoch's key is
-- derived from the root key and the epoch's secret, which lives only in the
-- keyring outside the data directory (src/keys).  A rotation makes a new
-- epoch current, re-seals every face and index entry under it, and then
-- destroys the old epoch's secret: from then on no copy of the database
-- made before -- base backup, WAL archive, dump, old standby -- can be read
-- for a face that was erased since, nor for any other face of that epoch.
--   frt.key_rotate()                 a new current epoch
--   frt.key_reencrypt(batch)         re-seal up to batch faces (table)
--   frt.key_reseal_indexes(batch)    re-seal up to batch index entries
--   frt.key_destroy_unused()         destroy every epoch nothing uses
--   CALL frt.key_rotation_run()      all of the above, in batches, each
--                                    committed: resumable after a crash
--   frt.key_epochs()                 every epoch: use, state, progress
--
-- Key epochs belong to the database that created them (the keyring is the
-- cluster's): this database rotates to, counts and destroys only its own.
-- Faces under another database's epoch (a dump restored here) still open,
-- and a rotation here moves them to this database's epoch.

-- Every epoch this database has used, with when it was retired and
-- destroyed (evidence: the keys themselves are outside the database).
CREATE TABLE @extschema@.key_epoch (
	epoch			pg_catalog.int8 PRIMARY KEY,
	suite			pg_catalog.text NOT NULL,
	created_at		pg_catalog.timestamptz NOT NULL,
	retired_at		pg_catalog.timestamptz,
	destroyed_at	pg_catalog.timestamptz,
	destroyed_by	pg_catalog.text
);
COMMENT ON TABLE @extschema@.key_epoch IS
	'key epochs of the sealed face store: created, retired, destroyed (the keys are never here)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.key_epoch', '');

-- Bring frt.key_epoch up to date with this database's epochs in the
-- keyring (created lazily by a first enrolment, or by another session);
-- every other epoch not destroyed is retired once this database has one.
CREATE FUNCTION @extschema@._key_sync()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	INSERT INTO @extschema@.key_epoch AS k (epoch, suite, created_at)
	SELECT e.epoch, e.suite, e.created_at FROM @extschema@._key_epochs() e
	 WHERE e.owner_db OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database d
			WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
	ON CONFLICT (epoch) DO NOTHING;
	UPDATE @extschema@.key_epoch k SET retired_at = pg_catalog.now()
	 WHERE k.retired_at IS NULL AND k.destroyed_at IS NULL
	   AND k.epoch OPERATOR(pg_catalog.<>) (SELECT e.epoch FROM @extschema@._key_epochs() e WHERE e.is_current);
END
$$;

-- The frt_ivf indexes on frt.face.
CREATE FUNCTION @extschema@._face_ivf_indexes()
RETURNS SETOF pg_catalog.regclass
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT i.indexrelid::pg_catalog.regclass
	  FROM pg_catalog.pg_index i
	  JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
	  JOIN pg_catalog.pg_am am ON am.oid = c.relam
	 WHERE i.indrelid = '@extschema@.face'::pg_catalog.regclass AND am.amname = 'frt_ivf'
	   AND i.indisvalid
	 ORDER BY 1;
$$;

-- Make a new epoch current; returns it.  Faces keep their epoch until
-- re-encrypted (frt.key_rotation_run).
CREATE FUNCTION @extschema@.key_rotate()
RETURNS pg_catalog.int8
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_prev pg_catalog.int8;
	v_new pg_catalog.int8;
BEGIN
	-- several processors: installation-wide, the platform's (a superuser's)
	PERFORM @extschema@._require_platform('key_rotate');
	v_prev := @extschema@._key_current_epoch();
	v_new := @extschema@._key_epoch_create();
	PERFORM @extschema@._key_sync();
	PERFORM @extschema@.audit_event('key_rotate', 'ok',
		p_detail => pg_catalog.jsonb_build_object('epoch', v_new, 'previous', v_prev,
			'suite', (SELECT k.suite FROM @extschema@.key_epoch k WHERE k.epoch = v_new)));
	RETURN v_new;
END
$$;

-- Re-seal, under this database's current epoch, up to p_batch faces sealed
-- under any other (an older one, or another database's after a restore);
-- returns how many.  Rows locked by others are left for later.
CREATE FUNCTION @extschema@.key_reencrypt(p_batch pg_catalog.int4 DEFAULT 1000)
RETURNS pg_catalog.int8
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_cur pg_catalog.int8;
	v_done pg_catalog.int8;
BEGIN
	-- several processors: installation-wide, the platform's (a superuser's)
	PERFORM @extschema@._require_platform('key_reencrypt');
	IF p_batch IS NULL OR p_batch < 1 THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('batch must be a positive number of faces'), ERRCODE = 'invalid_parameter_value';
	END IF;
	v_cur := @extschema@._key_current_epoch();
	WITH b AS (
		SELECT f.id FROM @extschema@.face f
		 WHERE f.key_epoch OPERATOR(pg_catalog.<>) v_cur
		 ORDER BY f.key_epoch, f.id
		 LIMIT p_batch
		 FOR NO KEY UPDATE SKIP LOCKED),
	s AS (
		SELECT f.id, @extschema@._face_seal(f.id, @extschema@._face_open(f.id, f.embedding)) AS sealed
		  FROM @extschema@.face f JOIN b ON b.id = f.id)
	UPDATE @extschema@.face f SET embedding = s.sealed, key_epoch = @extschema@._sealed_epoch(s.sealed)
	  FROM s WHERE s.id = f.id;
	GET DIAGNOSTICS v_done = ROW_COUNT;
	IF v_done > 0 THEN
		PERFORM @extschema@.audit_event('key_reencrypt', 'ok',
			p_detail => pg_catalog.jsonb_build_object('epoch', v_cur, 'faces', v_done));
	END IF;
	RETURN v_done;
END
$$;

-- Re-seal, under the current epoch, up to p_batch entries and centroids of
-- the frt_ivf indexes on frt.face; returns how many.
CREATE FUNCTION @extschema@.key_reseal_indexes(p_batch pg_catalog.int8 DEFAULT 10000)
RETURNS pg_catalog.int8
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_idx pg_catalog.regclass;
	v_left pg_catalog.int8 := p_batch;
	v_n pg_catalog.int8;
BEGIN
	-- several processors: installation-wide, the platform's (a superuser's)
	PERFORM @extschema@._require_platform('key_reseal_indexes');
	IF p_batch IS NULL OR p_batch < 1 THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('batch must be a positive number of index entries'), ERRCODE = 'invalid_parameter_value';
	END IF;
	FOR v_idx IN SELECT * FROM @extschema@._face_ivf_indexes() LOOP
		EXIT WHEN v_left <= 0;
		v_n := @extschema@.ivf_reseal(v_idx, v_left);
		v_left := v_left - v_n;
	END LOOP;
	IF p_batch - v_left > 0 THEN
		PERFORM @extschema@.audit_event('key_reseal', 'ok',
			p_detail => pg_catalog.jsonb_build_object('epoch', @extschema@._key_current_epoch(),
				'index_entries', p_batch - v_left));
	END IF;
	RETURN p_batch - v_left;
END
$$;

-- Every epoch this database has used: faces and index entries under it,
-- and its state ('current': this database's, 'retired': faces still to
-- move, 'unused': may be destroyed, 'destroyed', 'foreign': in the keyring
-- but owned by another database, or by none -- this database never
-- destroys it).  Rows RLS hides count too: they are still on disk.
CREATE FUNCTION @extschema@.key_epochs()
RETURNS TABLE (epoch pg_catalog.int8, suite pg_catalog.text, state pg_catalog.text,
			   faces pg_catalog.int8, index_entries pg_catalog.int8,
			   created_at pg_catalog.timestamptz, retired_at pg_catalog.timestamptz,
			   destroyed_at pg_catalog.timestamptz)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_cur pg_catalog.int8;
	v_db pg_catalog.oid;
BEGIN
	PERFORM @extschema@._key_sync();
	v_db := (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database());
	v_cur := (SELECT e.epoch FROM @extschema@._key_epochs() e WHERE e.is_current);
	RETURN QUERY
	WITH f AS (SELECT x.key_epoch AS e, pg_catalog.count(*) AS n FROM @extschema@.face x GROUP BY 1),
	-- every frt_ivf index, also one not yet valid: a concurrent build
	-- writes its entries before the index becomes valid
	ix AS (SELECT x.indexrelid::pg_catalog.regclass AS ix
			FROM pg_catalog.pg_index x
			JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) x.indexrelid
			JOIN pg_catalog.pg_am am ON am.oid OPERATOR(pg_catalog.=) c.relam
		   WHERE x.indrelid OPERATOR(pg_catalog.=) '@extschema@.face'::pg_catalog.regclass
			 AND am.amname OPERATOR(pg_catalog.=) 'frt_ivf'),
	i AS (SELECT r.epoch AS e, pg_catalog.sum(r.items)::pg_catalog.int8 AS n
			FROM ix, LATERAL @extschema@.ivf_epochs(ix.ix) r GROUP BY 1),
	o AS (SELECT e.epoch AS e FROM @extschema@._key_epochs() e WHERE e.owner_db IS DISTINCT FROM v_db)
	SELECT k.epoch, k.suite,
		   CASE WHEN k.destroyed_at IS NOT NULL THEN 'destroyed'
				WHEN k.epoch = v_cur THEN 'current'
				WHEN o.e IS NOT NULL THEN 'foreign'
				WHEN COALESCE(f.n, 0) + COALESCE(i.n, 0) > 0 THEN 'retired'
				ELSE 'unused' END,
		   COALESCE(f.n, 0), COALESCE(i.n, 0), k.created_at, k.retired_at, k.destroyed_at
	  FROM @extschema@.key_epoch k
	  LEFT JOIN f ON f.e = k.epoch
	  LEFT JOIN i ON i.e = k.epoch
	  LEFT JOIN o ON o.e = k.epoch
	 ORDER BY k.epoch;
END
$$;

-- Destroy the key of every epoch of this database that is not current and
-- that no face and no index entry uses any more ('unused': never another
-- database's epoch, which is 'foreign'); returns the epochs destroyed.  An
-- epoch already gone from the keyring is only recorded.  Waits for
-- transactions still writing under an epoch.  Each destruction is audited
-- and written into the erasure evidence of the faces it sealed.
-- Only in READ COMMITTED: the faces are counted with a snapshot taken after
-- the lock, and a transaction snapshot (REPEATABLE READ, SERIALIZABLE)
-- taken earlier would miss a face enrolled since and destroy its epoch.
CREATE FUNCTION @extschema@.key_destroy_unused()
RETURNS SETOF pg_catalog.int8
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	e record;
	v_erased pg_catalog.int8;
BEGIN
	-- several processors: installation-wide, the platform's (a superuser's)
	PERFORM @extschema@._require_platform('key_destroy_unused');
	IF pg_catalog.current_setting('transaction_isolation') OPERATOR(pg_catalog.<>) 'read committed' THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('key epochs are destroyed only in READ COMMITTED transactions'),
			ERRCODE = 'invalid_transaction_state',
				  DETAIL = @extschema@._t('A transaction snapshot taken before the destruction does not see faces sealed since.'),
				  HINT = @extschema@._t('Run it in a transaction of isolation level READ COMMITTED (SET default_transaction_isolation = ''read committed'').');
	END IF;
	PERFORM pg_catalog.pg_advisory_xact_lock(@extschema@._key_lock_id());
	FOR e IN SELECT * FROM @extschema@.key_epochs() k WHERE k.state = 'unused' LOOP
		UPDATE @extschema@.erasure_log l SET key_destroyed_at = pg_catalog.now()
		 WHERE l.key_epoch = e.epoch AND l.key_destroyed_at IS NULL;
		GET DIAGNOSTICS v_erased = ROW_COUNT;
		UPDATE @extschema@.key_epoch k SET destroyed_at = pg_catalog.now(),
			   destroyed_by = pg_catalog.session_user()
		 WHERE k.epoch = e.epoch;
		-- last: the keyring file cannot come back if what follows fails
		PERFORM @extschema@._key_epoch_destroy(e.epoch);
		PERFORM @extschema@.audit_event('key_destroyed', 'ok',
			p_detail => pg_catalog.jsonb_build_object('epoch', e.epoch, 'suite', e.suite,
				'erased_faces', v_erased));
		RETURN NEXT e.epoch;
	END LOOP;
END
$$;

-- One step of a rotation (frt.key_rotation_run commits after each): re-seal
-- up to p_batch faces; when none is left, up to 10 * p_batch index entries;
-- when none is left either, destroy the epochs nothing uses.  Returns the
-- faces and entries re-sealed (0: the rotation is complete) and reports
-- what is left as a NOTICE.
CREATE FUNCTION @extschema@._key_rotation_step(p_batch pg_catalog.int4)
RETURNS pg_catalog.int8
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n pg_catalog.int8;
	v_cur pg_catalog.int8;
BEGIN
	-- several processors: installation-wide, the platform's (a superuser's)
	PERFORM @extschema@._require_platform('key_rotation_run');
	v_n := @extschema@.key_reencrypt(p_batch);
	IF v_n = 0 THEN
		v_n := @extschema@.key_reseal_indexes(p_batch::pg_catalog.int8 * 10);
	END IF;
	IF v_n = 0 THEN
		PERFORM @extschema@.key_destroy_unused();
		RETURN 0;
	END IF;
	v_cur := @extschema@._key_current_epoch();
	RAISE NOTICE USING MESSAGE = @extschema@._t('frt: key rotation to epoch %s: %s faces still under other epochs', v_cur,
		(SELECT pg_catalog.count(*) FROM @extschema@.face f WHERE f.key_epoch OPERATOR(pg_catalog.<>) v_cur));
	RETURN v_n;
END
$$;

-- A whole rotation, resumable: re-seal the faces, then the index entries,
-- each batch in its own transaction, then destroy the epochs left unused.
-- Call it after frt.key_rotate() (or to finish one a crash interrupted).
-- Reports progress as NOTICEs; frt.key_epochs() shows it from elsewhere.
-- (A procedure with a SET clause cannot COMMIT: its body is qualified.)
CREATE PROCEDURE @extschema@.key_rotation_run(p_batch pg_catalog.int4 DEFAULT 1000)
LANGUAGE plpgsql
AS $$
BEGIN
	LOOP
		COMMIT;
		EXIT WHEN @extschema@._key_rotation_step(p_batch) OPERATOR(pg_catalog.=) 0;
	END LOOP;
	COMMIT;
END
$$;

-- (revoked here: frt._revoke_public_execute() revokes functions only)
REVOKE ALL ON PROCEDURE @extschema@.key_rotation_run(pg_catalog.int4) FROM PUBLIC;

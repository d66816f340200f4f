-- Layer 5: backups and restores (docs/operations.md, "Backups and restores").
--
-- Indexes that an operator creates on frt.face -- the per-purpose frt_ivf
-- indexes (CREATE INDEX ... ON frt.face USING frt_ivf
-- (frt._face_open(id, embedding) frt.face_cosine_ops) WHERE purpose = '...')
-- -- are not members of the extension, and pg_dump never dumps an
-- index of an extension member table.  Their definitions are therefore kept
-- in frt.face_index, a configuration table that pg_dump does dump, by event
-- triggers on CREATE/ALTER/DROP INDEX; frt.restore_finish() re-creates them
-- after the data is back.

CREATE TABLE @extschema@.face_index (
	name		pg_catalog.text PRIMARY KEY,	-- index name, in the frt schema
	definition	pg_catalog.text NOT NULL,		-- pg_get_indexdef()
	relid		pg_catalog.oid,					-- the index in this database (rename tracking)
	recorded_at pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now()
);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.face_index', '');
REVOKE ALL ON @extschema@.face_index FROM PUBLIC;

-- ddl_command_end of CREATE INDEX / ALTER INDEX: record each non-member
-- index on frt.face (a rename replaces the row of the old name).  An index
-- that reads the embedding column must be an frt_ivf index, which seals
-- what it stores: any other access method would keep what an expression
-- over frt._face_open returns -- the face -- in clear in its files.
CREATE FUNCTION @extschema@._face_index_record()
RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
BEGIN
	FOR r IN
		SELECT DISTINCT c.relname, am.amname
		FROM pg_catalog.pg_event_trigger_ddl_commands() cmd
		JOIN pg_catalog.pg_index i ON i.indexrelid = cmd.objid
		JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
		JOIN pg_catalog.pg_am am ON am.oid = c.relam
		JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attname = 'embedding'
		JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
			AND d.objid = c.oid AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
			AND d.refobjid = i.indrelid AND d.refobjsubid = a.attnum
		WHERE cmd.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
		  AND i.indrelid = '@extschema@.face'::pg_catalog.regclass
		  AND am.amname <> 'frt_ivf'
	LOOP
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('index "%s" on @extschema@.face reads the face column with access method "%s"', r.relname, r.amname),
			ERRCODE = 'feature_not_supported',
				  DETAIL = @extschema@._t('Only frt_ivf indexes seal what they store; any other index over the faces would keep them in clear on disk.'),
				  HINT = @extschema@._t('CREATE INDEX ... ON @extschema@.face USING frt_ivf (@extschema@._face_open(id, embedding) @extschema@.face_cosine_ops) WHERE purpose = ''...''');
	END LOOP;
	FOR r IN
		SELECT DISTINCT c.oid, c.relname
		FROM pg_catalog.pg_event_trigger_ddl_commands() cmd
		JOIN pg_catalog.pg_index i ON i.indexrelid = cmd.objid
		JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
		WHERE cmd.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
		  AND i.indrelid = '@extschema@.face'::pg_catalog.regclass
		  AND NOT cmd.in_extension	-- the extension's own, made by its scripts
		  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
						  WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
							AND d.objid = c.oid AND d.deptype = 'e')
	LOOP
		DELETE FROM @extschema@.face_index f WHERE f.relid = r.oid AND f.name <> r.relname;
		INSERT INTO @extschema@.face_index AS f (name, definition, relid)
		VALUES (r.relname, pg_catalog.pg_get_indexdef(r.oid), r.oid)
		ON CONFLICT (name) DO UPDATE
		SET definition = EXCLUDED.definition, relid = EXCLUDED.relid, recorded_at = pg_catalog.now();
	END LOOP;
END
$$;

-- sql_drop: forget dropped indexes of the frt schema.
CREATE FUNCTION @extschema@._face_index_forget()
RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM @extschema@.face_index f
	USING pg_catalog.pg_event_trigger_dropped_objects() o
	WHERE o.object_type = 'index' AND o.schema_name = '@extschema@' AND o.object_name = f.name;
END
$$;

CREATE EVENT TRIGGER frt_face_index_record ON ddl_command_end
	WHEN TAG IN ('CREATE INDEX', 'ALTER INDEX')
	EXECUTE FUNCTION @extschema@._face_index_record();
CREATE EVENT TRIGGER frt_face_index_forget ON sql_drop
	WHEN TAG IN ('DROP INDEX', 'DROP TABLE', 'DROP SCHEMA', 'DROP OWNED')
	EXECUTE FUNCTION @extschema@._face_index_forget();

-- The last step of a restore (superuser): re-create the recorded indexes on
-- frt.face that are missing, verify the restored audit trail (it must reach
-- the dumped head mark) and leave a 'restore' audit record saying so.
-- Returns the verification and what was re-created; a broken chain is
-- reported (and recorded), not hidden.
CREATE FUNCTION @extschema@.restore_finish(OUT chain_ok pg_catalog.bool, OUT audit_records pg_catalog.int8,
	OUT indexes_created pg_catalog.int4, OUT restore_seq pg_catalog.int8, OUT reason pg_catalog.text)
RETURNS record
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	d record;
	v record;
	v_created pg_catalog.text[] := '{}';
BEGIN
	IF NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = session_user) THEN
		RAISE EXCEPTION USING MESSAGE = @extschema@._t('frt.restore_finish() must be run by a superuser'),
			ERRCODE = 'insufficient_privilege';
	END IF;
	SELECT * INTO v FROM @extschema@.verify_audit_chain();
	FOR d IN SELECT f.name, f.definition FROM @extschema@.face_index f ORDER BY f.name LOOP
		IF pg_catalog.to_regclass(pg_catalog.quote_ident('@extschema@') || '.'
								  || pg_catalog.quote_ident(d.name)) IS NULL THEN
			EXECUTE d.definition;
			v_created := v_created || d.name;
		END IF;
	END LOOP;
	chain_ok := v.ok;
	audit_records := v.checked;
	indexes_created := pg_catalog.cardinality(v_created);
	reason := v.reason;
	restore_seq := @extschema@.audit_event('restore',
		CASE WHEN v.ok THEN 'chain verified' ELSE 'chain broken' END, NULL, NULL, NULL, NULL, NULL,
		pg_catalog.jsonb_build_object('chain_ok', v.ok, 'records', v.checked, 'first_break', v.seq,
			'reason', v.reason, 'indexes_created', pg_catalog.to_jsonb(v_created)));
	IF NOT v.ok THEN
		RAISE WARNING USING MESSAGE = @extschema@._t('frt: the restored audit trail does not verify: %s', v.reason),
			HINT = @extschema@._t('Restore from another backup, or keep this database for the investigation; the break is recorded.');
	END IF;
END
$$;

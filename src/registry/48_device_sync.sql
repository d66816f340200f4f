-- Layer 5: a device's trail and faces, received from the device (the
-- SQLite edition's frt_sync_export(); docs/sqlite.md, "Sync to the
-- server").  frt.device_sync() takes one payload from a login bound to the
-- device: the device's audit records after the last ones the server
-- received, whose chain must continue exactly from them (hashed with the
-- server's own chain code, src/chain/chain.c), and the faces whose
-- subjects gave the device a separate consent to transfer them (Measures
-- Art. 8).  Each face is enrolled through frt.enroll(), every rule of the
-- server applying, and only when the device's stored trail records the
-- subject's consent and transfer consent and no withdrawal since.
-- See docs/sql/governance.md ("Device sync").

-- The device trails as received: one row per device record, its chain
-- fields as the device hashed them; append-only (like frt.audit).
CREATE TABLE @extschema@.device_audit (
	processor		pg_catalog.text NOT NULL,
	device			pg_catalog.text NOT NULL,		-- the device that sent the record
	seq				pg_catalog.int8 NOT NULL CHECK (seq > 0),
	at				pg_catalog.timestamptz NOT NULL,
	event			pg_catalog.text NOT NULL,
	outcome			pg_catalog.text NOT NULL,
	sqlstate		pg_catalog.text,
	role_name		pg_catalog.text,
	effective_role	pg_catalog.text,
	application		pg_catalog.text,
	client_addr		pg_catalog.inet,
	backend_pid		pg_catalog.int4 NOT NULL,
	purpose			pg_catalog.text,
	subject			pg_catalog.text,
	record_device	pg_catalog.text,				-- the record's own device field
	similarity		pg_catalog.float8,
	detail			pg_catalog.jsonb,
	prev_hash		pg_catalog.bytea NOT NULL CHECK (pg_catalog.length(prev_hash) = 32),
	hash			pg_catalog.bytea NOT NULL CHECK (pg_catalog.length(hash) = 32),
	hash_alg		pg_catalog.text NOT NULL
		CHECK (hash_alg OPERATOR(pg_catalog.=) ANY ('{sha256,sm3}'::pg_catalog.text[])),
	received_at		pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	receipt_seq		pg_catalog.int8 NOT NULL,		-- frt.audit seq of the sync that brought it
	PRIMARY KEY (processor, device, seq)
);
COMMENT ON TABLE @extschema@.device_audit IS
	'devices'' audit trails as received by frt.device_sync(): append-only, hash-chained per device as on the device (Measures Art. 8, 14)';
COMMENT ON COLUMN @extschema@.device_audit.record_device IS 'the device field of the record as the device hashed it';
COMMENT ON COLUMN @extschema@.device_audit.receipt_seq IS 'frt.audit seq of the device_sync receipt that stored the record';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.device_audit', '');

-- The faces a device's syncs enrolled: one per transfer consent, so that a
-- payload sent again (its acknowledgement lost) enrols nothing twice.
CREATE TABLE @extschema@.device_face (
	processor		pg_catalog.text NOT NULL,
	device			pg_catalog.text NOT NULL,
	subject			pg_catalog.text NOT NULL,
	purpose			pg_catalog.text NOT NULL,
	transfer_seq	pg_catalog.int8 NOT NULL,		-- the device record of the transfer consent
	face_id			pg_catalog.int8 NOT NULL,		-- frt.face id it was enrolled as
	receipt_seq		pg_catalog.int8 NOT NULL,		-- frt.audit seq of the sync that brought it
	PRIMARY KEY (processor, device, subject, purpose, transfer_seq)
);
COMMENT ON TABLE @extschema@.device_face IS
	'faces enrolled from devices by frt.device_sync(), one per transfer consent recorded in the device''s trail (a payload sent again enrols nothing twice)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.device_face', '');

-- Refuse (MF141) any change to a received device trail but appending.
CREATE FUNCTION @extschema@._device_audit_guard()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._refuse('MF141', 14, @extschema@._t(
		'the devices'' audit trails are append-only: %s is refused', TG_OP),
		'device_audit', NULL, NULL, NULL);
	RETURN NULL;
END
$$;
CREATE TRIGGER device_audit_append_only BEFORE UPDATE OR DELETE ON @extschema@.device_audit
	FOR EACH ROW EXECUTE FUNCTION @extschema@._device_audit_guard();
CREATE TRIGGER device_audit_no_truncate BEFORE TRUNCATE ON @extschema@.device_audit
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._device_audit_guard();
ALTER TABLE @extschema@.device_audit ENABLE ALWAYS TRIGGER device_audit_append_only;
ALTER TABLE @extschema@.device_audit ENABLE ALWAYS TRIGGER device_audit_no_truncate;

-- The chain hash of a device record (src/registry/device_chain.c, with
-- FrtChainHash): seq, at, backend_pid, similarity, the text fields in
-- chain order, prev_hash, hash_alg.
CREATE FUNCTION @extschema@._device_chain_hash(p_seq pg_catalog.int8, p_at pg_catalog.timestamptz,
	p_backend_pid pg_catalog.int4, p_similarity pg_catalog.float8, p_fields pg_catalog.text[],
	p_prev_hash pg_catalog.bytea, p_hash_alg pg_catalog.text)
RETURNS pg_catalog.bytea
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'frt_device_chain_hash';

-- A device record's 'at' (microseconds since 2000-01-01 UTC) as an instant, exactly.
CREATE FUNCTION @extschema@._device_chain_at(p_at pg_catalog.int8)
RETURNS pg_catalog.timestamptz
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'frt_device_chain_at';

-- The hash a stored device record must have: its fields as the device
-- hashed them (client_addr and detail in their output forms).
CREATE FUNCTION @extschema@._device_record_hash(a @extschema@.device_audit)
RETURNS pg_catalog.bytea
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT @extschema@._device_chain_hash(a.seq, a.at, a.backend_pid, a.similarity,
		ARRAY[a.event, a.outcome, a.sqlstate, a.role_name, a.effective_role, a.application,
			CASE WHEN a.client_addr IS NOT NULL THEN pg_catalog.format('%s', a.client_addr) END,
			a.purpose, a.subject, a.record_device, a.detail::pg_catalog.text]::pg_catalog.text[],
		a.prev_hash, a.hash_alg);
$$;

-- The device records that give, transfer and withdraw consent (the
-- SQLite edition's governance writes them; docs/sqlite.md, "Audit trail").
CREATE FUNCTION @extschema@._device_consent_events()
RETURNS TABLE (kind pg_catalog.text, event pg_catalog.text, outcome pg_catalog.text)
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	VALUES ('consent', 'consent', 'given'),
		('consent', 'consent', 'renewed'),
		('transfer', 'consent', 'transfer_given'),
		('withdrawal', 'consent', 'withdrawn'),
		('expiry', 'consent', 'expired');
$$;

-- Whether the stored trail of a device holds, at p_seq, a record of kind
-- p_kind ('consent', 'transfer') for the subject and purpose.
CREATE FUNCTION @extschema@._device_trail_holds(p_processor pg_catalog.text, p_device pg_catalog.text,
	p_kind pg_catalog.text, p_seq pg_catalog.int8, p_subject pg_catalog.text, p_purpose pg_catalog.text)
RETURNS pg_catalog.bool
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT 1 FROM @extschema@.device_audit a
				   JOIN @extschema@._device_consent_events() e
					 ON e.event = a.event AND e.outcome = a.outcome AND e.kind = p_kind
				   WHERE a.processor = p_processor AND a.device = p_device AND a.seq = p_seq
					 AND a.subject = p_subject AND a.purpose = p_purpose);
$$;

-- The first record after p_after in the stored trail of a device of one
-- of the kinds p_kinds (_device_consent_events) for the subject and
-- purpose (a withdrawal or expiry may name no purpose: every purpose);
-- NULL: none.
CREATE FUNCTION @extschema@._device_trail_next(p_processor pg_catalog.text, p_device pg_catalog.text,
	p_kinds pg_catalog.text[], p_subject pg_catalog.text, p_purpose pg_catalog.text, p_after pg_catalog.int8)
RETURNS pg_catalog.int8
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.min(a.seq) FROM @extschema@.device_audit a
	JOIN @extschema@._device_consent_events() e
	  ON e.event = a.event AND e.outcome = a.outcome AND e.kind = ANY (p_kinds)
	WHERE a.processor = p_processor AND a.device = p_device AND a.seq > p_after
	  AND a.subject = p_subject AND (a.purpose = p_purpose OR a.purpose IS NULL);
$$;

-- Whether a JSON value is an integer that fits int8.
CREATE FUNCTION @extschema@._json_is_int8(p_value pg_catalog.jsonb)
RETURNS pg_catalog.bool
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT COALESCE(pg_catalog.jsonb_typeof(p_value) = 'number'
		AND (p_value OPERATOR(pg_catalog.#>>) '{}') ~ '^-?[0-9]{1,18}$', false);
$$;

-- Whether a JSON value is a string, or absent or null when p_null.
CREATE FUNCTION @extschema@._json_is_text(p_value pg_catalog.jsonb, p_null pg_catalog.bool)
RETURNS pg_catalog.bool
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN p_value IS NULL OR pg_catalog.jsonb_typeof(p_value) = 'null' THEN p_null
		ELSE pg_catalog.jsonb_typeof(p_value) = 'string' END;
$$;

-- One record of a payload's "audit" array as a device_audit row of
-- p_processor's p_device (receipt_seq unset); data_exception if it is not
-- a well-formed record.
CREATE FUNCTION @extschema@._device_record(p_rec pg_catalog.jsonb, p_processor pg_catalog.text,
	p_device pg_catalog.text)
RETURNS @extschema@.device_audit
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	a @extschema@.device_audit;
	k pg_catalog.text;
BEGIN
	IF pg_catalog.jsonb_typeof(p_rec) IS DISTINCT FROM 'object'
	   OR NOT (@extschema@._json_is_int8(p_rec->'seq') AND @extschema@._json_is_int8(p_rec->'at')
			   AND @extschema@._json_is_int8(p_rec->'backend_pid'))
	   OR NOT (p_rec->'similarity' IS NULL OR pg_catalog.jsonb_typeof(p_rec->'similarity') IN ('null', 'number'))
	   OR NOT (@extschema@._json_is_text(p_rec->'event', false) AND @extschema@._json_is_text(p_rec->'outcome', false)
			   AND @extschema@._json_is_text(p_rec->'prev_hash', false) AND @extschema@._json_is_text(p_rec->'hash', false)
			   AND @extschema@._json_is_text(p_rec->'hash_alg', false)) THEN
		RAISE EXCEPTION USING ERRCODE = 'data_exception';
	END IF;
	FOREACH k IN ARRAY ARRAY['sqlstate', 'role_name', 'effective_role', 'application', 'client_addr',
		'purpose', 'subject', 'device'] LOOP
		IF NOT @extschema@._json_is_text(p_rec->k, true) THEN
			RAISE EXCEPTION USING ERRCODE = 'data_exception';
		END IF;
	END LOOP;
	IF (p_rec->>'prev_hash') !~ '^[0-9a-f]{64}$' OR (p_rec->>'hash') !~ '^[0-9a-f]{64}$'
	   OR NOT (p_rec->>'hash_alg') = ANY ('{sha256,sm3}'::pg_catalog.text[]) THEN
		RAISE EXCEPTION USING ERRCODE = 'data_exception';
	END IF;
	a.processor := p_processor;
	a.device := p_device;
	a.seq := (p_rec->>'seq')::pg_catalog.int8;
	a.at := @extschema@._device_chain_at((p_rec->>'at')::pg_catalog.int8);
	a.event := p_rec->>'event';
	a.outcome := p_rec->>'outcome';
	a.sqlstate := p_rec->>'sqlstate';
	a.role_name := p_rec->>'role_name';
	a.effective_role := p_rec->>'effective_role';
	a.application := p_rec->>'application';
	a.client_addr := (p_rec->>'client_addr')::pg_catalog.inet;
	a.backend_pid := (p_rec->>'backend_pid')::pg_catalog.int4;
	a.purpose := p_rec->>'purpose';
	a.subject := p_rec->>'subject';
	a.record_device := p_rec->>'device';
	a.similarity := (p_rec->>'similarity')::pg_catalog.float8;
	a.detail := CASE WHEN pg_catalog.jsonb_typeof(p_rec->'detail') IS DISTINCT FROM 'null' THEN p_rec->'detail' END;
	a.prev_hash := pg_catalog.decode(p_rec->>'prev_hash', 'hex');
	a.hash := pg_catalog.decode(p_rec->>'hash', 'hex');
	a.hash_alg := p_rec->>'hash_alg';
	IF a.seq < 1 THEN
		RAISE EXCEPTION USING ERRCODE = 'data_exception';
	END IF;
	RETURN a;
END
$$;

-- One face of a payload, from p_device of p_processor: accepted (enrolled
-- through frt.enroll) only if the device's stored trail records, at
-- consent_seq and transfer_seq, the subject's consent and separate
-- transfer consent for the purpose, no consent given again since the
-- transfer consent (which clears it) and no withdrawal, and every
-- rule of the server allows it.  Returns {face (p_index), subject,
-- purpose, face_id} or, refused (audited), {face, subject, purpose, sqlstate}.
CREATE FUNCTION @extschema@._device_sync_face(p_processor pg_catalog.text, p_device pg_catalog.text,
	p_face pg_catalog.jsonb, p_index pg_catalog.int8, p_receipt pg_catalog.int8)
RETURNS pg_catalog.jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_subject pg_catalog.text := CASE WHEN pg_catalog.jsonb_typeof(p_face->'subject') = 'string' THEN p_face->>'subject' END;
	v_purpose pg_catalog.text := CASE WHEN pg_catalog.jsonb_typeof(p_face->'purpose') = 'string' THEN p_face->>'purpose' END;
	v_cseq pg_catalog.int8;
	v_tseq pg_catalog.int8;
	v_withdrawn pg_catalog.int8;
	v_renewed pg_catalog.int8;
	v_birth pg_catalog.date;
	v_guardian pg_catalog.text;
	v_tbirth pg_catalog.text;
	v_tby pg_catalog.text;
	v_export pg_catalog.bool;
	v_stored pg_catalog.bool;
	v_embedding @extschema@.face_embedding;
	v_id pg_catalog.int8;
	v_state pg_catalog.text;
BEGIN
	BEGIN
		IF v_subject IS NULL OR v_purpose IS NULL
		   OR NOT (@extschema@._json_is_int8(p_face->'consent_seq') AND @extschema@._json_is_int8(p_face->'transfer_seq'))
		   OR NOT @extschema@._json_is_text(p_face->'embedding', false)
		   OR NOT @extschema@._json_is_text(p_face->'birth_date', true)
		   OR NOT @extschema@._json_is_text(p_face->'guardian', true) THEN
			PERFORM @extschema@._reject('22023', @extschema@._t('device sync payload is malformed at %s',
				pg_catalog.format('faces[%s]', p_index)), 'device_sync', NULL, NULL, p_device);
		END IF;
		v_cseq := (p_face->>'consent_seq')::pg_catalog.int8;
		v_tseq := (p_face->>'transfer_seq')::pg_catalog.int8;
		-- the server's rules first: the caller's processor's purpose, granted for enrolment
		PERFORM @extschema@._check_tenant('device_sync', v_purpose, v_subject, p_device);
		IF @extschema@._purpose_processor(v_purpose) IS DISTINCT FROM p_processor THEN
			PERFORM @extschema@._refuse('MF160', 4, @extschema@._t(
				'purpose %L is not registered for the processor the caller acts for', v_purpose),
				'device_sync', NULL, v_subject, p_device);
		END IF;
		PERFORM @extschema@._check_authorized('device_sync', 'enrol', v_purpose, p_device);
		-- the device's trail: consent, then the separate transfer consent, not withdrawn since
		IF NOT @extschema@._device_trail_holds(p_processor, p_device, 'consent', v_cseq, v_subject, v_purpose) THEN
			PERFORM @extschema@._refuse('MF006', 6, @extschema@._t(
				'the audit trail of device %L records no consent of subject %L for purpose %L at record %s',
				p_device, v_subject, v_purpose, v_cseq), 'device_sync', v_purpose, v_subject, p_device);
		END IF;
		IF v_tseq <= v_cseq
		   OR NOT @extschema@._device_trail_holds(p_processor, p_device, 'transfer', v_tseq, v_subject, v_purpose) THEN
			PERFORM @extschema@._refuse('MF008', 8, @extschema@._t(
				'the audit trail of device %L records no separate consent of subject %L to transfer face data for purpose %L at record %s',
				p_device, v_subject, v_purpose, v_tseq), 'device_sync', v_purpose, v_subject, p_device);
		END IF;
		-- a consent given again clears the transfer consent (the device asks
		-- for it anew): a face under the one before is not to be sent
		v_renewed := @extschema@._device_trail_next(p_processor, p_device, '{consent}', v_subject, v_purpose, v_tseq);
		IF v_renewed IS NOT NULL THEN
			PERFORM @extschema@._refuse('MF008', 8, @extschema@._t(
				'subject %L gave consent for purpose %L again on device %L (its audit record %s), which cleared the separate consent to transfer face data of record %s',
				v_subject, v_purpose, p_device, v_renewed, v_tseq), 'device_sync', v_purpose, v_subject, p_device);
		END IF;
		v_withdrawn := @extschema@._device_trail_next(p_processor, p_device, '{withdrawal,expiry}', v_subject, v_purpose,
			v_cseq);
		IF v_withdrawn IS NOT NULL THEN
			PERFORM @extschema@._refuse('MF006', 6, @extschema@._t(
				'subject %L withdrew consent for purpose %L on device %L (its audit record %s)',
				v_subject, v_purpose, p_device, v_withdrawn), 'device_sync', v_purpose, v_subject, p_device);
		END IF;
		-- received before, by a sync whose acknowledgement the device did not
		-- get: answered as then, enrolled once
		SELECT f.face_id INTO v_id FROM @extschema@.device_face f
		WHERE f.processor = p_processor AND f.device = p_device AND f.subject = v_subject
		  AND f.purpose = v_purpose AND f.transfer_seq = v_tseq;
		IF FOUND THEN
			RETURN pg_catalog.jsonb_build_object('face', p_index, 'subject', v_subject, 'purpose', v_purpose,
				'face_id', v_id, 'again', true);
		END IF;
		-- who gave the consent, and the birth date, as the chained trail
		-- records them (a payload's own claims are not evidence): a face
		-- whose payload says otherwise is refused (Art. 6, 7)
		SELECT x.detail->>'birth_date', x.detail->>'given_by' INTO v_tbirth, v_tby
		FROM @extschema@.device_audit x
		WHERE x.processor = p_processor AND x.device = p_device AND x.seq = v_cseq;
		IF (p_face ? 'birth_date' AND (p_face->>'birth_date') IS DISTINCT FROM v_tbirth)
		   OR (p_face->>'guardian' IS NOT NULL) IS DISTINCT FROM (v_tby IS NOT DISTINCT FROM 'guardian') THEN
			PERFORM @extschema@._refuse('MF006', 6, @extschema@._t(
				'the consent of subject %L for purpose %L sent by device %L is not the consent its audit record %s states (birth date, or who gave it)',
				v_subject, v_purpose, p_device, v_cseq), 'device_sync', v_purpose, v_subject, p_device);
		END IF;
		-- the face itself (a malformed one is rejected, never shown)
		v_embedding := (p_face->>'embedding')::@extschema@.face_embedding;
		-- the subject as the server keeps it: id and birth date (Art. 7)
		IF NOT EXISTS (SELECT 1 FROM @extschema@.subject s WHERE s.processor = p_processor AND s.id = v_subject) THEN
			v_birth := v_tbirth::pg_catalog.date;
			IF v_birth IS NULL THEN
				PERFORM @extschema@._refuse('MF006', 6, @extschema@._t(
					'subject %L is not registered, so has no separate, active consent for purpose %L', v_subject, v_purpose),
					'device_sync', v_purpose, v_subject, p_device);
			END IF;
			INSERT INTO @extschema@.subject (processor, id, birth_date) VALUES (p_processor, v_subject, v_birth);
		END IF;
		-- the server's consent record: the consent the device recorded, with
		-- the separate consent the device calls transfer consent, which is
		-- consent to storing the face here, central storage (Art. 8); not
		-- consent to hand it to another party (export keeps its own
		-- transfer_consent, which a consent given here keeps)
		SELECT c.transfer_consent, c.central_storage_consent AND NOT c.needs_renotice
		INTO v_export, v_stored
		FROM @extschema@.consent c
		WHERE c.processor = p_processor AND c.subject = v_subject AND c.purpose = v_purpose
		  AND c.withdrawn_at IS NULL;
		IF v_stored IS NOT TRUE THEN
			v_guardian := p_face->>'guardian';
			PERFORM @extschema@.give_consent(v_subject, v_purpose,
				CASE WHEN v_guardian IS NULL THEN 'self' ELSE 'guardian' END, 'electronic', v_guardian,
				p_transfer_consent => COALESCE(v_export, false), p_central_storage => true);
		END IF;
		v_id := @extschema@.enroll(v_subject, v_purpose, v_embedding, p_device);
		INSERT INTO @extschema@.device_face (processor, device, subject, purpose, transfer_seq, face_id, receipt_seq)
		VALUES (p_processor, p_device, v_subject, v_purpose, v_tseq, v_id, p_receipt);
		RETURN pg_catalog.jsonb_build_object('face', p_index, 'subject', v_subject, 'purpose', v_purpose,
			'face_id', v_id);
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE;
	END;
	-- on record: which face of the sync, and why (the check's own record
	-- holds the reason); another processor's purpose is not named
	PERFORM @extschema@.audit_event('device_sync', 'face_refused',
		CASE WHEN @extschema@._purpose_processor(v_purpose) = p_processor THEN v_purpose END,
		v_subject, p_device, NULL, v_state,
		@extschema@._tenant_detail(pg_catalog.jsonb_build_object('face', p_index, 'receipt', p_receipt,
			'consent_seq', p_face->'consent_seq', 'transfer_seq', p_face->'transfer_seq'),
			@extschema@._record_processor(NULL)));
	RETURN pg_catalog.jsonb_build_object('face', p_index, 'subject', v_subject, 'purpose', v_purpose,
		'sqlstate', v_state);
END
$$;

-- Receive a device's sync payload (frt_sync_export() of the SQLite
-- edition): the caller is a login bound to the device, the device
-- registered and approved; the trail must continue the one received
-- before, record by record (seq, prev_hash, and each hash recomputed), or
-- the whole payload is refused (MF148) and nothing is stored (records the
-- server holds already may lead the payload, unchanged: a payload sent
-- again after a lost acknowledgement is answered again, its faces
-- enrolled once, frt.device_face); then the
-- withdrawals it records are applied, and each face is accepted or
-- refused on its own.  Returns the acknowledgement:
-- {"device", "received_through", "received_hash", "receipt", "accepted":
-- [{"face", "subject", "purpose", "face_id"}], "refused": [{"face", "subject",
-- "purpose", "sqlstate"}]} ("face": the face's index in the payload).
CREATE FUNCTION @extschema@.device_sync(p_payload pg_catalog.jsonb)
RETURNS pg_catalog.jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_caller pg_catalog.name := @extschema@._caller();
	v_device pg_catalog.text;
	v_proc pg_catalog.text;
	d @extschema@.device;
	a @extschema@.device_audit;
	v_rows @extschema@.device_audit[] := '{}';
	v_last pg_catalog.int8 := 0;
	v_last_hash pg_catalog.bytea := pg_catalog.decode(pg_catalog.repeat('00', 32), 'hex');
	v_first pg_catalog.int8;
	v_held pg_catalog.int8;
	v_cur pg_catalog.int8;
	v_receipt pg_catalog.int8;
	v_result pg_catalog.jsonb;
	v_accepted pg_catalog.jsonb := '[]';
	v_refused pg_catalog.jsonb := '[]';
	r record;
BEGIN
	IF pg_catalog.jsonb_typeof(p_payload) IS DISTINCT FROM 'object'
	   OR (p_payload->>'format') IS DISTINCT FROM 'frt-device-sync-v1'
	   OR pg_catalog.jsonb_typeof(p_payload->'device') IS DISTINCT FROM 'string'
	   OR pg_catalog.jsonb_typeof(p_payload->'processor') IS DISTINCT FROM 'string'
	   OR pg_catalog.jsonb_typeof(p_payload->'audit') IS DISTINCT FROM 'array'
	   OR pg_catalog.jsonb_typeof(p_payload->'faces') IS DISTINCT FROM 'array' THEN
		PERFORM @extschema@._reject('22023', @extschema@._t('device sync payload is malformed at %s', 'frt-device-sync-v1'),
			'device_sync', NULL, NULL, CASE WHEN pg_catalog.jsonb_typeof(p_payload->'device') = 'string'
				THEN p_payload->>'device' END);
	END IF;
	v_device := p_payload->>'device';
	v_proc := p_payload->>'processor';
	-- a login bound to the device, acting for the device's processor; an
	-- unknown device and one of another processor are refused alike
	IF NOT @extschema@._caller_is_superuser()
	   AND (v_proc IS DISTINCT FROM @extschema@._caller_processor()
			OR NOT EXISTS (SELECT 1 FROM @extschema@.device_login b
						   JOIN pg_catalog.pg_roles o ON o.rolname = b.grantee
						   WHERE b.processor = v_proc AND b.device = v_device
							 AND pg_catalog.pg_has_role(v_caller, o.oid, 'MEMBER'))) THEN
		PERFORM @extschema@._refuse('MF145', 14, @extschema@._t(
			'role %s is not bound to device %L', v_caller, v_device),
			'device_sync', NULL, NULL, v_device,
			p_hint => @extschema@._t('A member of frt_admin binds an application to its devices with frt.bind_device().'));
	END IF;
	-- one sync of a device at a time
	SELECT * INTO d FROM @extschema@.device WHERE processor = v_proc AND name = v_device FOR NO KEY UPDATE;
	IF NOT FOUND THEN
		PERFORM @extschema@._refuse('MF013', 13, @extschema@._t('device %L is not registered', v_device),
			'device_sync', NULL, NULL, v_device);
	END IF;
	IF d.approved_at IS NULL THEN
		PERFORM @extschema@._refuse('MF146', 14, @extschema@._t(
			'device %L was registered or changed and awaits approval by a second member of frt_admin', v_device),
			'device_sync', NULL, NULL, v_device);
	END IF;
	-- the trail continues the one received before, exactly
	SELECT x.seq, x.hash INTO v_last, v_last_hash FROM @extschema@.device_audit x
	WHERE x.processor = v_proc AND x.device = v_device ORDER BY x.seq DESC LIMIT 1;
	IF NOT FOUND THEN
		v_last := 0;
		v_last_hash := pg_catalog.decode(pg_catalog.repeat('00', 32), 'hex');
	END IF;
	v_held := v_last;
	FOR r IN SELECT e.value, e.ordinality FROM pg_catalog.jsonb_array_elements(p_payload->'audit') WITH ORDINALITY e LOOP
		BEGIN
			a := @extschema@._device_record(r.value, v_proc, v_device);
		EXCEPTION WHEN data_exception THEN
			PERFORM @extschema@._reject('22023', @extschema@._t('device sync payload is malformed at %s',
				pg_catalog.format('audit[%s]', r.ordinality - 1)), 'device_sync', NULL, NULL, v_device);
		END;
		IF a.seq <= v_held THEN
			-- held already (a payload sent again after a lost acknowledgement):
			-- the same record, in order, or the payload is refused
			IF a.seq <> COALESCE(v_cur + 1, a.seq)
			   OR @extschema@._device_record_hash(a) <> a.hash
			   OR NOT EXISTS (SELECT 1 FROM @extschema@.device_audit x
							  WHERE x.processor = v_proc AND x.device = v_device
								AND x.seq = a.seq AND x.hash = a.hash) THEN
				PERFORM @extschema@._refuse('MF148', 14, @extschema@._t(
					'device %L sent audit record %s again, not as the server holds it',
					v_device, a.seq), 'device_sync', NULL, NULL, v_device,
					p_detail => @extschema@._t('Nothing of the payload was stored.'));
			END IF;
			v_cur := a.seq;
			CONTINUE;
		END IF;
		v_cur := a.seq;
		v_first := COALESCE(v_first, a.seq);
		IF a.seq > v_last + 1 THEN
			PERFORM @extschema@._refuse('MF148', 14, @extschema@._t(
				'device %L sent audit record %s, but the server holds its trail through record %s: records are missing',
				v_device, a.seq, v_last), 'device_sync', NULL, NULL, v_device,
				p_detail => @extschema@._t('Nothing of the payload was stored.'));
		END IF;
		IF a.prev_hash <> v_last_hash THEN
			PERFORM @extschema@._refuse('MF148', 14, @extschema@._t(
				'audit record %s of device %L does not continue its chain: its previous hash is not the hash of record %s',
				a.seq, v_device, v_last), 'device_sync', NULL, NULL, v_device,
				p_detail => @extschema@._t('Nothing of the payload was stored.'));
		END IF;
		IF @extschema@._device_record_hash(a) <> a.hash THEN
			PERFORM @extschema@._refuse('MF148', 14, @extschema@._t(
				'audit record %s of device %L does not verify: its hash is not the hash of its content',
				a.seq, v_device), 'device_sync', NULL, NULL, v_device,
				p_detail => @extschema@._t('Nothing of the payload was stored.'));
		END IF;
		v_last := a.seq;
		v_last_hash := a.hash;
		v_rows := v_rows OPERATOR(pg_catalog.||) a;
	END LOOP;
	-- received: on record, then stored with the record's seq
	v_receipt := @extschema@.audit_event('device_sync', 'received', NULL, NULL, v_device, NULL, NULL,
		@extschema@._tenant_detail(pg_catalog.jsonb_build_object('records', pg_catalog.cardinality(v_rows),
			'from', v_first, 'through', v_last, 'faces', pg_catalog.jsonb_array_length(p_payload->'faces')),
			@extschema@._record_processor(NULL)));
	INSERT INTO @extschema@.device_audit (processor, device, seq, at, event, outcome, sqlstate, role_name,
		effective_role, application, client_addr, backend_pid, purpose, subject, record_device, similarity,
		detail, prev_hash, hash, hash_alg, receipt_seq)
	SELECT x.processor, x.device, x.seq, x.at, x.event, x.outcome, x.sqlstate, x.role_name,
		x.effective_role, x.application, x.client_addr, x.backend_pid, x.purpose, x.subject, x.record_device,
		x.similarity, x.detail, x.prev_hash, x.hash, x.hash_alg, v_receipt
	FROM pg_catalog.unnest(v_rows) x;
	-- a withdrawal the device recorded withdraws the server's consent too
	-- (Art. 6: one withdrawal, wherever it is given)
	FOR r IN SELECT x.subject, x.purpose FROM pg_catalog.unnest(v_rows) x
			 JOIN @extschema@._device_consent_events() e
			   ON e.event = x.event AND e.outcome = x.outcome AND e.kind = 'withdrawal'
			 WHERE x.subject IS NOT NULL ORDER BY x.seq LOOP
		IF EXISTS (SELECT 1 FROM @extschema@.consent c
				   WHERE c.processor = v_proc AND c.subject = r.subject AND c.withdrawn_at IS NULL
					 AND (c.purpose = r.purpose OR r.purpose IS NULL)) THEN
			PERFORM @extschema@.withdraw_consent(r.subject, r.purpose);
		END IF;
	END LOOP;
	-- each face on its own
	FOR r IN SELECT e.value, e.ordinality FROM pg_catalog.jsonb_array_elements(p_payload->'faces') WITH ORDINALITY e LOOP
		v_result := @extschema@._device_sync_face(v_proc, v_device, r.value, r.ordinality - 1, v_receipt);
		IF v_result ? 'sqlstate' THEN
			v_refused := v_refused OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array(v_result);
		ELSE
			v_accepted := v_accepted OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array(v_result);
		END IF;
	END LOOP;
	RETURN pg_catalog.jsonb_build_object('device', v_device, 'received_through', v_last,
		'received_hash', pg_catalog.encode(v_last_hash, 'hex'), 'receipt', v_receipt,
		'accepted', v_accepted, 'refused', v_refused);
END
$$;
COMMENT ON FUNCTION @extschema@.device_sync(pg_catalog.jsonb) IS
	'receive a device''s sync payload: its audit trail, continuing the chain received before (else MF148, nothing stored), and the faces with the subjects'' separate transfer consent (Measures Art. 8), enrolled through frt.enroll; returns the acknowledgement';

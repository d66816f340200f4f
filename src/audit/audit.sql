-- Layer 6: the audit trail (see docs/audit.md).
--
-- Records are written only by the extension's background worker, one per
-- database, which receives them from frt.audit_event() through shared memory
-- and commits them before audit_event() returns: a record survives the
-- rollback of the transaction that made it.  Each record carries
-- hash = H(canonical content || prev_hash), H the hash function it names in
-- hash_alg (SHA-256 or SM3, frt.audit_hash when it was written);
-- frt.verify_audit_chain() finds the first altered or missing record.

-- The roles of frt_governance (include/frt_governance.h, FRT_GOV_ROLES,
-- the one list, which the drop hook in audit_roles.c uses too), created
-- here, by the lowest layer, for every layer, if missing; NOLOGIN: grant
-- them to login roles.  Roles belong to the cluster: one that exists already
-- (another database's install, or made by the DBA beforehand) is used as it
-- is, with a WARNING if it can log in, is a superuser or bypasses row-level
-- security.  DROP EXTENSION leaves them; audit_roles.c names the roles
-- created and those left, and revokes their grants on the schema at DROP
-- (docs/operations.md, "Roles").  What each role may do is granted by the
-- layer that owns the objects (each layer's 90_grants.sql).
CREATE FUNCTION @extschema@._governance_roles() RETURNS pg_catalog.text[]
LANGUAGE c IMMUTABLE AS 'MODULE_PATHNAME', 'frt_governance_roles';
REVOKE ALL ON FUNCTION @extschema@._governance_roles() FROM PUBLIC;

DO $roles$
DECLARE
	r pg_catalog.text;
	q pg_catalog.pg_roles;
BEGIN
	FOREACH r IN ARRAY @extschema@._governance_roles() LOOP
		SELECT * INTO q FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) r;
		IF NOT FOUND THEN
			EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
		ELSIF q.rolcanlogin OR q.rolsuper OR q.rolbypassrls THEN
			RAISE WARNING USING MESSAGE = @extschema@._t('role %s exists and can log in, is a superuser or bypasses row-level security', r),
				HINT = @extschema@._t('frt_governance roles are meant to be NOLOGIN groups; grant them to login roles instead.');
		END IF;
	END LOOP;
END
$roles$;

CREATE TABLE @extschema@.audit (
	seq			pg_catalog.int8 PRIMARY KEY,
	at			pg_catalog.timestamptz NOT NULL,
	event		pg_catalog.text NOT NULL,
	outcome		pg_catalog.text NOT NULL,
	sqlstate	pg_catalog.text,
	role_name	pg_catalog.text NOT NULL,		-- session_user
	effective_role pg_catalog.text NOT NULL,	-- current_user at the call
	application pg_catalog.text,
	client_addr pg_catalog.inet,				-- NULL over a Unix socket
	backend_pid pg_catalog.int4 NOT NULL,
	purpose		pg_catalog.text,
	subject		pg_catalog.text,				-- pseudonymous subject id
	device		pg_catalog.text,
	similarity	pg_catalog.float8,
	detail		pg_catalog.jsonb,
	prev_hash	pg_catalog.bytea NOT NULL,
	hash		pg_catalog.bytea NOT NULL,
	mac			pg_catalog.bytea,		-- HMAC (hash_alg) of hash with the audit key; NULL: unkeyed
	-- the hash function of hash and mac: frt.audit_hash when the record was written
	hash_alg	pg_catalog.text NOT NULL DEFAULT 'sha256'
		CONSTRAINT audit_hash_alg_known CHECK (hash_alg OPERATOR(pg_catalog.=) ANY ('{sha256,sm3}'::pg_catalog.text[]))
);
CREATE INDEX audit_at_idx ON @extschema@.audit (at);
COMMENT ON TABLE @extschema@.audit IS
	'frt audit trail: append-only, hash-chained (Measures Art. 9, 14); read by frt_auditor';

-- Where the chain starts after a retention purge: the last dropped record.
CREATE TABLE @extschema@.audit_anchor (
	last_seq	pg_catalog.int8 NOT NULL,
	last_hash	pg_catalog.bytea NOT NULL,
	last_at		pg_catalog.timestamptz,
	purged_at	pg_catalog.timestamptz
);
INSERT INTO @extschema@.audit_anchor VALUES (0, pg_catalog.decode(pg_catalog.repeat('00', 32), 'hex'), NULL, NULL);

-- The chain's head as the audit writer last committed it, moved in the
-- writer's own transaction: a dump or base backup holds trail and mark of
-- one instant, so a trail that lost records -- its newest ones, or all of
-- them in a restore that did not load frt.audit -- no longer reaches its
-- mark, and frt.verify_audit_chain() reports the loss.  A restore adds the
-- dumped mark as a second row; the highest one counts.
CREATE TABLE @extschema@.audit_mark (
	seq			pg_catalog.int8 NOT NULL,
	hash		pg_catalog.bytea NOT NULL
);
INSERT INTO @extschema@.audit_mark VALUES (0, pg_catalog.decode(pg_catalog.repeat('00', 32), 'hex'));

-- pg_dump keeps the trail (and a moved anchor, and the head mark).  A restore can only load it
-- into an empty trail, each row continuing the chain exactly (checked by
-- the guard trigger below); see docs/audit.md "Backups".
SELECT pg_catalog.pg_extension_config_dump('@extschema@.audit', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.audit_anchor', 'WHERE last_seq > 0');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.audit_mark', 'WHERE seq > 0');

CREATE FUNCTION @extschema@.audit_guard() RETURNS trigger
LANGUAGE c AS 'MODULE_PATHNAME', 'frt_audit_guard';
REVOKE ALL ON FUNCTION @extschema@.audit_guard() FROM PUBLIC;

CREATE TRIGGER audit_append_only BEFORE INSERT OR UPDATE OR DELETE ON @extschema@.audit
	FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_guard('audit');
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON @extschema@.audit
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.audit_guard('audit');
CREATE TRIGGER audit_anchor_guard BEFORE INSERT OR UPDATE OR DELETE ON @extschema@.audit_anchor
	FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_guard('anchor');
CREATE TRIGGER audit_anchor_no_truncate BEFORE TRUNCATE ON @extschema@.audit_anchor
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.audit_guard('anchor');
CREATE TRIGGER audit_mark_guard BEFORE INSERT OR UPDATE OR DELETE ON @extschema@.audit_mark
	FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_guard('mark');
CREATE TRIGGER audit_mark_no_truncate BEFORE TRUNCATE ON @extschema@.audit_mark
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.audit_guard('mark');
ALTER TABLE @extschema@.audit_mark ENABLE ALWAYS TRIGGER audit_mark_guard;
ALTER TABLE @extschema@.audit_mark ENABLE ALWAYS TRIGGER audit_mark_no_truncate;
-- In a restore (frt.restore = on): the restored trail, sorted by seq, must be
-- one chain from seq 1 or from a recorded purge; checked at the end of the
-- statement (the COPY), since a dump holds the rows in heap order.
CREATE TRIGGER audit_restore_check AFTER INSERT ON @extschema@.audit
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.audit_guard('audit');
ALTER TABLE @extschema@.audit ENABLE ALWAYS TRIGGER audit_restore_check;
-- Fire also under session_replication_role = replica.
ALTER TABLE @extschema@.audit ENABLE ALWAYS TRIGGER audit_append_only;
ALTER TABLE @extschema@.audit ENABLE ALWAYS TRIGGER audit_no_truncate;
ALTER TABLE @extschema@.audit_anchor ENABLE ALWAYS TRIGGER audit_anchor_guard;
ALTER TABLE @extschema@.audit_anchor ENABLE ALWAYS TRIGGER audit_anchor_no_truncate;

REVOKE ALL ON @extschema@.audit, @extschema@.audit_anchor, @extschema@.audit_mark FROM PUBLIC;
GRANT USAGE ON SCHEMA @extschema@ TO frt_auditor;
GRANT SELECT ON @extschema@.audit, @extschema@.audit_anchor, @extschema@.audit_mark TO frt_auditor;

-- Record one audit event; returns its sequence number once committed.
-- Callers pass names (purpose, pseudonymous subject id, device), never an
-- embedding.  Fails (SQLSTATE MF140) if the record cannot be committed.
CREATE FUNCTION @extschema@.audit_event(
	p_event pg_catalog.text, p_outcome pg_catalog.text,
	p_purpose pg_catalog.text DEFAULT NULL, p_subject pg_catalog.text DEFAULT NULL,
	p_device pg_catalog.text DEFAULT NULL, p_similarity pg_catalog.float8 DEFAULT NULL,
	p_sqlstate pg_catalog.text DEFAULT NULL, p_detail pg_catalog.jsonb DEFAULT NULL)
RETURNS pg_catalog.int8
LANGUAGE c VOLATILE PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'frt_audit_event';
REVOKE ALL ON FUNCTION @extschema@.audit_event(pg_catalog.text, pg_catalog.text, pg_catalog.text,
	pg_catalog.text, pg_catalog.text, pg_catalog.float8, pg_catalog.text, pg_catalog.jsonb) FROM PUBLIC;
-- Standbys forward their records here (audit_relay.c); nothing else.
GRANT USAGE ON SCHEMA @extschema@ TO frt_audit_relay;
GRANT EXECUTE ON FUNCTION @extschema@.audit_event(pg_catalog.text, pg_catalog.text, pg_catalog.text,
	pg_catalog.text, pg_catalog.text, pg_catalog.float8, pg_catalog.text, pg_catalog.jsonb) TO frt_audit_relay;

-- The first broken or missing record, or an all-clear row (seq NULL);
-- warning says what the check could not prove (an unkeyed chain).  With a
-- key configured, each record's MAC is checked too.
CREATE FUNCTION @extschema@.verify_audit_chain(
	OUT ok pg_catalog.bool, OUT seq pg_catalog.int8, OUT reason pg_catalog.text,
	OUT checked pg_catalog.int8, OUT warning pg_catalog.text)
RETURNS record
LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'frt_verify_audit_chain';
REVOKE ALL ON FUNCTION @extschema@.verify_audit_chain() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.verify_audit_chain() TO frt_auditor;

-- The same, and then against an anchor kept outside the database (a line
-- of the anchor file or the server log: seq, hash and MAC in hex, and the
-- hash function, alg; NULL: the anchored record's): a trail that ends
-- before the anchor (newest records deleted), or holds another record at
-- its seq (trail replaced), or an anchor whose MAC does not verify, is
-- reported.
CREATE FUNCTION @extschema@.verify_audit_chain(anchor_seq pg_catalog.int8,
	anchor_hash pg_catalog.text, anchor_mac pg_catalog.text DEFAULT NULL,
	anchor_alg pg_catalog.text DEFAULT NULL,
	OUT ok pg_catalog.bool, OUT seq pg_catalog.int8, OUT reason pg_catalog.text,
	OUT checked pg_catalog.int8, OUT warning pg_catalog.text)
RETURNS record
LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'frt_verify_audit_chain';
REVOKE ALL ON FUNCTION @extschema@.verify_audit_chain(pg_catalog.int8, pg_catalog.text, pg_catalog.text, pg_catalog.text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.verify_audit_chain(pg_catalog.int8, pg_catalog.text, pg_catalog.text, pg_catalog.text) TO frt_auditor;

-- One anchor against the trail, without walking the chain: NULL if the
-- trail holds the anchored record, else why not.
CREATE FUNCTION @extschema@._audit_anchor_check(anchor_seq pg_catalog.int8,
	anchor_hash pg_catalog.text, anchor_mac pg_catalog.text, anchor_alg pg_catalog.text)
RETURNS pg_catalog.text
LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'frt_audit_anchor_check';
REVOKE ALL ON FUNCTION @extschema@._audit_anchor_check(pg_catalog.int8, pg_catalog.text, pg_catalog.text, pg_catalog.text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._audit_anchor_check(pg_catalog.int8, pg_catalog.text, pg_catalog.text, pg_catalog.text) TO frt_auditor;

-- The anchors of this database in a text (the anchor file, or server log
-- lines; other lines and other databases' anchors are skipped); alg is
-- NULL on a line that names no hash function.
CREATE FUNCTION @extschema@._audit_anchor_lines(anchors pg_catalog.text)
RETURNS TABLE (line pg_catalog.int4, seq pg_catalog.int8, hash pg_catalog.text, mac pg_catalog.text,
	alg pg_catalog.text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT l.n::pg_catalog.int4, r[2]::pg_catalog.int8, r[3], NULLIF(r[4], 'none'), r[5]
	  FROM pg_catalog.regexp_split_to_table(anchors, E'\n') WITH ORDINALITY AS l(t, n),
		   pg_catalog.regexp_match(l.t,
			'frt audit anchor: db=("(?:[^"]|"")*"|\S+) seq=([0-9]+) hash=([0-9a-f]{64}) mac=([0-9a-f]{64}|none)(?: alg=([a-z0-9]+))?') AS r
	 WHERE r[1] OPERATOR(pg_catalog.=) pg_catalog.quote_ident(pg_catalog.current_database())
$$;

-- Anchor lines against this database's trail: first the whole chain with
-- the newest anchor (line 0), then each anchor on its own.
--   \set anchors `cat /var/lib/frt/audit-anchors`
--   SELECT * FROM frt.verify_audit_anchors(:'anchors') WHERE NOT ok;
CREATE FUNCTION @extschema@.verify_audit_anchors(anchors pg_catalog.text)
RETURNS TABLE (line pg_catalog.int4, seq pg_catalog.int8, ok pg_catalog.bool, reason pg_catalog.text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	a record;
	v record;
	why pg_catalog.text;
BEGIN
	SELECT * INTO a FROM @extschema@._audit_anchor_lines(anchors) l ORDER BY l.seq DESC, l.line DESC LIMIT 1;
	IF NOT FOUND THEN
		RETURN QUERY SELECT 0, NULL::pg_catalog.int8, false,
			'no anchor of this database in the text given'::pg_catalog.text;
		RETURN;
	END IF;
	SELECT * INTO v FROM @extschema@.verify_audit_chain(a.seq, a.hash, a.mac, a.alg);
	RETURN QUERY SELECT 0, v.seq, v.ok, v.reason || COALESCE('; ' || v.warning, '');
	FOR a IN SELECT * FROM @extschema@._audit_anchor_lines(anchors) l ORDER BY l.line LOOP
		why := @extschema@._audit_anchor_check(a.seq, a.hash, a.mac, a.alg);
		RETURN QUERY SELECT a.line, a.seq, why IS NULL, COALESCE(why, 'anchor matches the trail');
	END LOOP;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._audit_anchor_lines(pg_catalog.text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._audit_anchor_lines(pg_catalog.text) TO frt_auditor;
REVOKE ALL ON FUNCTION @extschema@.verify_audit_anchors(pg_catalog.text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.verify_audit_anchors(pg_catalog.text) TO frt_auditor;

-- How the trail is protected beyond its chain: signed with a key (its id is
-- a fingerprint that reveals nothing of it), and where its head goes.
CREATE FUNCTION @extschema@.audit_protection(OUT keyed pg_catalog.bool, OUT key_id pg_catalog.text,
	OUT keys pg_catalog.int4, OUT anchor_interval_s pg_catalog.int4,
	OUT anchor_file pg_catalog.bool, OUT anchor_command pg_catalog.bool)
RETURNS record
LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'frt_audit_protection';
REVOKE ALL ON FUNCTION @extschema@.audit_protection() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.audit_protection() TO frt_auditor;

-- The chain's head (latest seq and hash), to be kept outside the database
-- so that a removal of the newest records is detectable too.
CREATE FUNCTION @extschema@.audit_head(
	OUT seq pg_catalog.int8, OUT hash pg_catalog.text, OUT at pg_catalog.timestamptz)
RETURNS record
LANGUAGE sql STABLE
AS $$
	SELECT h.seq, pg_catalog.encode(h.hash, 'hex'), h.at FROM (
		(SELECT a.seq, a.hash, a.at FROM @extschema@.audit a ORDER BY a.seq DESC LIMIT 1)
		UNION ALL
		(SELECT n.last_seq, n.last_hash, n.last_at FROM @extschema@.audit_anchor n)
	) h ORDER BY h.seq DESC LIMIT 1
$$;
REVOKE ALL ON FUNCTION @extschema@.audit_head() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.audit_head() TO frt_auditor;

-- Drop the records older than keep (never less than 3 years) and move the
-- anchor past them; the purge itself is recorded first.  Returns the count.
CREATE FUNCTION @extschema@.audit_retention_purge(keep pg_catalog.interval DEFAULT '3 years')
RETURNS pg_catalog.int8
LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'frt_audit_retention_purge';
REVOKE ALL ON FUNCTION @extschema@.audit_retention_purge(pg_catalog.interval) FROM PUBLIC;

-- True while a dump is being restored: the explicit restore mode, a
-- superuser session with frt.restore = on (docs/operations.md).  The restored
-- trail already records the changes that reloading registry rows replays.
CREATE FUNCTION @extschema@.audit_restoring() RETURNS pg_catalog.bool
LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'frt_audit_restoring';
REVOKE ALL ON FUNCTION @extschema@.audit_restoring() FROM PUBLIC;

-- The one refusal (MF006) a matcher gets for a subject it may not match,
-- whatever the reason, raised without error context (which would name the
-- failing check).  Called by frt._refuse for masked refusals.
CREATE FUNCTION @extschema@._refuse_masked(pg_catalog.text) RETURNS void
LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'frt_refuse_masked';
REVOKE ALL ON FUNCTION @extschema@._refuse_masked(pg_catalog.text) FROM PUBLIC;

-- The server log filter applied to a text: embedding-like number lists and
-- long hex strings replaced.  For applications that log on their own.
CREATE FUNCTION @extschema@.redact_biometrics(pg_catalog.text) RETURNS pg_catalog.text
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'frt_redact_biometrics';
GRANT EXECUTE ON FUNCTION @extschema@.redact_biometrics(pg_catalog.text) TO PUBLIC;

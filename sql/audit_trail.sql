-- The audit trail at the SQL level (the regress server preloads frt, so
-- the audit worker is available).  Sequence numbers depend on what ran
-- before in this database, so the checks compare counts and deltas.

CREATE TEMP TABLE t0 AS SELECT coalesce(max(seq), 0) AS seq FROM frt.audit;

-- A record is committed by the worker before audit_event returns; the
-- caller's rollback does not take it back.
BEGIN;
SELECT frt.audit_event('identify', 'match', 'door', 'subj-1', 'cam-1', 0.91,
	NULL, '{"k": 5}') > (SELECT seq FROM t0) AS recorded;
ROLLBACK;
SELECT event, outcome, purpose, subject, device, similarity, sqlstate, detail,
	role_name = session_user AS role_ok, effective_role = current_user AS eff_ok,
	backend_pid = pg_backend_pid() AS pid_ok,
	octet_length(hash) AS hash_len, octet_length(prev_hash) AS prev_len
FROM frt.audit WHERE seq > (SELECT seq FROM t0) ORDER BY seq;

-- A refusal is recorded with its SQLSTATE, then the caller raises it.
DO $$
BEGIN
	PERFORM frt.audit_event('verify', 'refused', 'door', 'subj-2', 'cam-1', NULL,
		'MF006', '{"reason": "consent withdrawn"}');
	RAISE EXCEPTION 'consent withdrawn (Measures Art. 6)' USING ERRCODE = 'MF006';
END
$$;
SELECT event, outcome, sqlstate FROM frt.audit
WHERE seq > (SELECT seq FROM t0) ORDER BY seq;

-- Consecutive records are chained.
SELECT bool_and(a.prev_hash = b.hash) AS chained
FROM frt.audit a JOIN frt.audit b ON b.seq = a.seq - 1
WHERE a.seq > (SELECT seq FROM t0);
SELECT ok, seq, checked >= 2 AS checked_some FROM frt.verify_audit_chain();

-- The chain hash is exactly the documented serialization (docs/audit.md),
-- recomputed here in plain SQL as a regulator could: the records of this
-- server (frt.audit_hash = sha256) with sha256(); SM3 records would take
-- pgcrypto's digest(..., 'sm3') instead (test/t/064_audit_sm3.pl).
SELECT count(*) > 0 AS some, bool_and(hash = sha256(
	convert_to('frt-audit-v1', 'UTF8') || int8send(a.seq) || timestamptz_send(a.at) || int4send(a.backend_pid)
	|| CASE WHEN a.similarity IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || float8send(a.similarity) END
	|| (SELECT string_agg(CASE WHEN f IS NULL THEN '\x00'::bytea
			ELSE '\x01'::bytea || int4send(octet_length(convert_to(f, getdatabaseencoding())))
				|| convert_to(f, getdatabaseencoding()) END, ''::bytea ORDER BY i)
		FROM unnest(ARRAY[a.event, a.outcome, a.sqlstate, a.role_name, a.effective_role, a.application,
			CASE WHEN masklen(a.client_addr) = CASE family(a.client_addr) WHEN 4 THEN 32 ELSE 128 END
				THEN host(a.client_addr) ELSE a.client_addr::text END,
			a.purpose, a.subject, a.device, a.detail::text]) WITH ORDINALITY AS u(f, i))
	|| a.prev_hash)) AS all_hashes_recomputed
FROM frt.audit a WHERE a.hash_alg = 'sha256';

-- Programming errors (no event or outcome, a malformed SQLSTATE): a clear
-- error and no record.
CREATE TEMP TABLE t1 AS SELECT max(seq) AS seq FROM frt.audit;
SELECT frt.audit_event(NULL, 'ok');
SELECT frt.audit_event('verify', '');
SELECT frt.audit_event('verify', 'ok', p_sqlstate => 'fr06');
-- A caller's values are never refused: bounded, and recorded.  A
-- similarity that is not a number is recorded as missing (and said so in
-- the detail); an over-long field keeps its head and the hash of the whole
SELECT frt.audit_event('verify', 'ok', p_similarity => 'NaN') > 0 AS recorded;
SELECT frt.audit_event('verify', 'ok', p_similarity => 'Infinity') > 0 AS recorded;
SELECT frt.audit_event(repeat('e', 300), 'ok') > 0 AS recorded;
SELECT frt.audit_event('verify', 'ok', p_detail => jsonb_build_object('big', repeat('x', 13000))) > 0 AS recorded;
-- never an embedding: large numeric arrays or vector literals are hashed
SELECT frt.audit_event('verify', 'ok', p_detail =>
	jsonb_build_object('probe', (SELECT jsonb_agg(g / 100.0) FROM generate_series(1, 16) g)));
SELECT frt.audit_event('verify', 'ok', p_subject =>
	(SELECT '[' || string_agg(round(g / 7.0, 3)::text, ',') || ']' FROM generate_series(1, 20) g));
SELECT frt.audit_event('verify', 'ok', p_detail =>
	jsonb_build_object('probe', (SELECT string_agg(g::text, ', ') FROM generate_series(1, 20) g)));
-- names and counts are fine
SELECT frt.audit_event('identify', 'match', p_detail => '{"k": 3, "top": ["s-1", "s-2"]}') > 0 AS ok;
SELECT count(*) AS new_records FROM frt.audit WHERE seq > (SELECT seq FROM t1);
SELECT seq - (SELECT seq FROM t1) AS n, length(event) AS event_len,
	   regexp_replace(event, '^e+', 'e…') AS event, similarity,
	   regexp_replace(subject, '[0-9a-f]{16}$', '<hash>') AS subject,
	   regexp_replace(left(detail::text, 120), '[0-9a-f]{16}"', '<hash>"') AS detail
  FROM frt.audit WHERE seq > (SELECT seq FROM t1) ORDER BY seq;

-- Append-only for everyone, the superuser included.
UPDATE frt.audit SET outcome = 'no match' WHERE seq = (SELECT seq FROM t1);
DELETE FROM frt.audit WHERE seq = (SELECT seq FROM t1);
TRUNCATE frt.audit;
INSERT INTO frt.audit SELECT * FROM frt.audit WHERE seq = (SELECT seq FROM t1);
SET session_replication_role = replica;
UPDATE frt.audit SET outcome = 'no match' WHERE seq = (SELECT seq FROM t1);
RESET session_replication_role;
UPDATE frt.audit_anchor SET last_seq = 1;
INSERT INTO frt.audit_anchor SELECT * FROM frt.audit_anchor;
DELETE FROM frt.audit_anchor;
TRUNCATE frt.audit_anchor;
SELECT ok FROM frt.verify_audit_chain();

-- Retention: never below 3 years; nothing is that old here.
SELECT frt.audit_retention_purge('1 year');
SELECT frt.audit_retention_purge('1080 days');
SELECT frt.audit_retention_purge('-3 years');
SELECT frt.audit_retention_purge(NULL);
SELECT frt.audit_retention_purge() AS dropped;
SELECT frt.audit_retention_purge('10 years') AS dropped;
SELECT ok FROM frt.verify_audit_chain();

-- These refusals (class MF, raised in C by FrtRefuse) carry the article in
-- the CONSTRAINT field too, for clients.
CREATE FUNCTION pg_temp.refusal_fields(q text)
RETURNS TABLE (code text, constraint_name text, message text, hint text)
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, constraint_name = CONSTRAINT_NAME,
		message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
	RETURN NEXT;
END
$$;
\x on
SELECT * FROM pg_temp.refusal_fields('DELETE FROM frt.audit');
SELECT * FROM pg_temp.refusal_fields($$SELECT frt.audit_retention_purge('1 year')$$);
\x off

-- Head of the chain for external safekeeping.
SELECT h.seq = (SELECT max(seq) FROM frt.audit) AS head_is_last,
	h.hash = (SELECT encode(hash, 'hex') FROM frt.audit ORDER BY seq DESC LIMIT 1) AS head_hash
FROM frt.audit_head() h;

-- Privileges: only frt_auditor reads the trail; nobody else writes it.
SELECT r, has_table_privilege(r, 'frt.audit', 'SELECT') AS can_select,
	has_table_privilege(r, 'frt.audit', 'INSERT,UPDATE,DELETE,TRUNCATE') AS can_write,
	has_function_privilege(r, 'frt.audit_event(text,text,text,text,text,float8,text,jsonb)', 'EXECUTE') AS can_record,
	has_function_privilege(r, 'frt.verify_audit_chain()', 'EXECUTE') AS can_verify,
	has_function_privilege(r, 'frt.audit_retention_purge(interval)', 'EXECUTE') AS can_purge
FROM unnest(ARRAY['frt_auditor', 'frt_admin', 'frt_enroller', 'frt_matcher', 'public']) r;
CREATE ROLE frt_regress_user;
GRANT frt_auditor TO frt_regress_user;
SET ROLE frt_regress_user;
SELECT count(*) > 0 AS auditor_reads FROM frt.audit;
SELECT ok FROM frt.verify_audit_chain();
SELECT frt.audit_event('verify', 'ok');
RESET ROLE;
REVOKE frt_auditor FROM frt_regress_user;
SELECT has_table_privilege('frt_regress_user', 'frt.audit', 'SELECT') AS reads_without_auditor;
DROP ROLE frt_regress_user;

-- The log filter, as applied to server log messages.
SELECT frt.redact_biometrics('SELECT frt.verify(1, ''door'', ''[0.125,-0.5,3e-2,NaN]'', ''cam'')');
SELECT frt.redact_biometrics('x = ''{0.1, 0.2, 0.3}''::real[] AND y IN (1, 2, 3)');
SELECT frt.redact_biometrics('ARRAY[' || (SELECT string_agg(g::text, ',') FROM generate_series(1, 16) g) || ']');
SELECT frt.redact_biometrics('decode(''\x' || repeat('3f', 64) || ''', ''hex'')');
SELECT frt.redact_biometrics('version 1.2, build 3 at 2026-01-01 10:00:00.5');
SELECT frt.redact_biometrics('''[1,2,3]''::frt.face_embedding, ''{ 5, 7 }''::real[], a[1], f(1, 2), ''[0.5]''');
-- other renderings: line breaks (real or written as \n), numpy's blanks and
-- ellipsis, semicolons, quoted elements, JSON with exponents, bind
-- parameters one per component; and what stays: timestamps, addresses,
-- short id lists, three blank-separated versions
SELECT frt.redact_biometrics(E'[0.1,\r\n-0.2,\r\n0.3] "0.1\\n-0.2\\r\\n0.3" [ 0.1 -0.2  0.3 ...] 0.1; -0.2; 0.3');
SELECT frt.redact_biometrics($$ARRAY['0.1','-0.2'] '{"0.1","-0.2"}' {"v": [1e-3, -2E+2, 3e-3]} $1 = '0.1', $2 = '-0.2', $3 = '0.3'$$);
SELECT frt.redact_biometrics('at 2026-01-01 10:00:00.5 from 192.168.1.10 10.0.0.2; ids 1 2 3; versions 15.3 14.8 13.11');

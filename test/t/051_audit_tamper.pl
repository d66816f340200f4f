# The hash chain finds an edited row, a missing row and a forged retention
# anchor at the right position; retention drops only old records and the
# chain still verifies afterwards.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FrtGovTest;

my $node = PostgreSQL::Test::Cluster->new('audit_tamper');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'frt_governance'\n");
gov_keys($node);
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION frt_governance CASCADE');

sub q1 { return $node->safe_psql('postgres', $_[0]); }

# What a superuser can do behind the triggers' back: switch them off in the
# catalog (no DDL, so nothing on record; only the chain shows the edit).
sub as_superuser_untriggered
{
	my ($sql) = @_;
	my $guards = "tgrelid IN ('frt.audit'::regclass, 'frt.audit_anchor'::regclass)
		AND tgname IN ('audit_append_only', 'audit_no_truncate', 'audit_anchor_guard', 'audit_anchor_no_truncate')";
	my $inval = "UPDATE pg_class SET relhastriggers = true WHERE oid IN ('frt.audit'::regclass, 'frt.audit_anchor'::regclass)";
	q1("BEGIN; UPDATE pg_trigger SET tgenabled = 'D' WHERE $guards; $inval; $sql;
		UPDATE pg_trigger SET tgenabled = 'A' WHERE $guards; $inval; COMMIT;");
}

q1("SELECT frt.audit_event('verify', CASE WHEN g % 3 = 0 THEN 'no match' ELSE 'match' END,
	'door', 'subj-' || g, 'cam-1', 0.5 + g / 100.0, NULL, jsonb_build_object('n', g))
	FROM generate_series(1, 10) g");
is(q1('SELECT count(*) FROM frt.audit'), '10', '10 records');
is(q1('SELECT ok, seq, checked FROM frt.verify_audit_chain()'), 't||10', 'chain intact');

# 1. An edited row (outcome changed with triggers disabled) is found.
as_superuser_untriggered("UPDATE frt.audit SET outcome = 'match' WHERE seq = 6");
my $r = q1('SELECT ok, seq, reason FROM frt.verify_audit_chain()');
like($r, qr/^f\|6\|content does not match its hash/, 'edited record found at seq 6');
as_superuser_untriggered("UPDATE frt.audit SET outcome = 'no match' WHERE seq = 6");
is(q1('SELECT ok FROM frt.verify_audit_chain()'), 't', 'restored row verifies again');

# Each hashed column is covered (similarity, detail, time, client, who).
for my $edit ("similarity = similarity + 1e-9", "detail = '{\"n\": 99}'",
	"at = at - interval '1 second'", "subject = 'subj-x'", "role_name = 'someone'",
	"client_addr = '10.0.0.1'", "sqlstate = 'MF006'", "backend_pid = backend_pid + 1")
{
	q1("CREATE TABLE saved AS SELECT * FROM frt.audit WHERE seq = 4");
	as_superuser_untriggered("UPDATE frt.audit SET $edit WHERE seq = 4");
	like(q1('SELECT ok, seq FROM frt.verify_audit_chain()'), qr/^f\|4$/, "edit detected: $edit");
	as_superuser_untriggered("DELETE FROM frt.audit WHERE seq = 4; INSERT INTO frt.audit SELECT * FROM saved");
	q1('DROP TABLE saved');
}
is(q1('SELECT ok FROM frt.verify_audit_chain()'), 't', 'all restored');

q1("CREATE TABLE saved AS SELECT * FROM frt.audit WHERE seq IN (3, 7)");
# 2. A replaced hash is found.
as_superuser_untriggered("UPDATE frt.audit SET hash = sha256(hash) WHERE seq = 3");
like(q1('SELECT ok, seq, reason FROM frt.verify_audit_chain()'),
	qr/^f\|(3|4)\|/, 'replaced hash found at seq 3 or its successor');
like(q1('SELECT ok, seq, reason FROM frt.verify_audit_chain()'),
	qr/^f\|3\|content does not match/, 'replaced hash found at seq 3');

# 2b. An edit whose own hash is recomputed (the serialization is public) is
#     found at the next record, whose prev_hash no longer matches.
q1(q{CREATE FUNCTION rehash(a frt.audit) RETURNS bytea LANGUAGE sql AS $$
SELECT sha256(convert_to('frt-audit-v1', 'UTF8') || int8send(a.seq) || timestamptz_send(a.at)
	|| int4send(a.backend_pid)
	|| CASE WHEN a.similarity IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || float8send(a.similarity) END
	|| (SELECT string_agg(CASE WHEN f IS NULL THEN '\x00'::bytea
			ELSE '\x01'::bytea || int4send(octet_length(convert_to(f, getdatabaseencoding())))
				|| convert_to(f, getdatabaseencoding()) END, ''::bytea ORDER BY i)
		FROM unnest(ARRAY[a.event, a.outcome, a.sqlstate, a.role_name, a.effective_role, a.application,
			host(a.client_addr), a.purpose, a.subject, a.device, a.detail::text]) WITH ORDINALITY AS u(f, i))
	|| a.prev_hash) $$});
q1("CREATE TABLE saved5 AS SELECT * FROM frt.audit WHERE seq = 5");
as_superuser_untriggered("UPDATE frt.audit SET outcome = 'no match' WHERE seq = 5;
	UPDATE frt.audit a SET hash = rehash(a) WHERE seq = 5");
like(q1('SELECT ok, seq, reason FROM frt.verify_audit_chain()'),
	qr/^f\|3\|content does not match/, 'replaced hash at seq 3 still reported first');
as_superuser_untriggered("DELETE FROM frt.audit WHERE seq = 3; INSERT INTO frt.audit SELECT * FROM saved WHERE seq = 3");
like(q1('SELECT ok, seq, reason FROM frt.verify_audit_chain()'),
	qr/^f\|6\|prev_hash does not match the previous record's hash/,
	're-hashed edit of seq 5 found at the link to seq 6');
as_superuser_untriggered("DELETE FROM frt.audit WHERE seq = 5; INSERT INTO frt.audit SELECT * FROM saved5");
is(q1('SELECT ok FROM frt.verify_audit_chain()'), 't', 'restored');
q1('DROP TABLE saved5; DROP FUNCTION rehash(frt.audit)');

# 3. A gap: a deleted row is reported as missing at its position.
as_superuser_untriggered("DELETE FROM frt.audit WHERE seq = 7");
# seq 3 is still broken; put it right first so the gap is the first problem
as_superuser_untriggered("DELETE FROM frt.audit WHERE seq = 3; INSERT INTO frt.audit SELECT * FROM saved WHERE seq = 3");
$r = q1('SELECT ok, seq, reason FROM frt.verify_audit_chain()');
like($r, qr/^f\|7\|record missing: expected seq 7, next present is 8/, 'deleted record 7 found missing');
as_superuser_untriggered("DELETE FROM frt.audit WHERE seq = 1");
like(q1('SELECT ok, seq FROM frt.verify_audit_chain()'), qr/^f\|1$/, 'deleted first record found');
as_superuser_untriggered("INSERT INTO frt.audit SELECT * FROM saved WHERE seq = 7");
q1('DROP TABLE saved');
like(q1('SELECT ok, seq FROM frt.verify_audit_chain()'), qr/^f\|1$/, 'first record still missing');

# A fresh trail for the retention part.
$node->safe_psql('postgres', 'DROP EXTENSION frt_governance; CREATE EXTENSION frt_governance');

# 4. Retention: records made "old" (timestamps faked with triggers off,
#    no re-chaining) are dropped; the rest of the chain still verifies.
q1("SELECT frt.audit_event('enroll', 'ok', 'door', 'subj-' || g) FROM generate_series(1, 12) g");
as_superuser_untriggered("UPDATE frt.audit SET at = at - interval '4 years' WHERE seq <= 5");
like(q1('SELECT ok, seq FROM frt.verify_audit_chain()'), qr/^f\|1$/, 'faked timestamps break the chain');
my ($ret, $out, $err) = $node->psql('postgres', "SELECT frt.audit_retention_purge('2 years')");
like($err, qr/at least 3 years/, 'retention shorter than 3 years refused');
is(q1('SELECT frt.audit_retention_purge()'), '5', 'five records older than 3 years dropped');
is(q1('SELECT min(seq) FROM frt.audit'), '6', 'recent records are kept');
is(q1('SELECT last_seq FROM frt.audit_anchor'), '5', 'anchor moved to the last dropped record');
$r = q1('SELECT ok, seq, reason FROM frt.verify_audit_chain()');
like($r, qr/^t\|\|chain intact: 8 records, seq 6 to 13$/, 'chain verifies across the drop');
like(q1("SELECT detail->>'through_seq', detail->>'chain_ok', detail->>'chain_first_break'
	FROM frt.audit WHERE event = 'audit_retention_purge'"),
	qr/^5\|false\|1$/, 'the purge is on record with the state of the dropped part');
is(q1('SELECT frt.audit_retention_purge()'), '0', 'a second purge drops nothing');
q1("SELECT frt.audit_event('verify', 'match', 'door', 'subj-1', 'cam', 0.9)");
is(q1('SELECT ok FROM frt.verify_audit_chain()'), 't', 'new records chain on after the purge');

# The purge cannot take records that are not old.
as_superuser_untriggered("UPDATE frt.audit SET at = at - interval '5 years' WHERE seq = 8");
is(q1('SELECT frt.audit_retention_purge()'), '0', 'an old record after a recent one is not dropped');

# 5. A forged anchor (moved forward to hide a deletion) is found.
q1('DROP EXTENSION frt_governance; CREATE EXTENSION frt_governance');
q1("SELECT frt.audit_event('enroll', 'ok', 'door', 'subj-' || g) FROM generate_series(1, 6) g");
as_superuser_untriggered("DELETE FROM frt.audit WHERE seq <= 2;
	UPDATE frt.audit_anchor SET last_seq = 2, last_hash = (SELECT prev_hash FROM frt.audit WHERE seq = 3)");
like(q1('SELECT ok, seq, reason FROM frt.verify_audit_chain()'),
	qr/^f\|2\|the retention anchor does not match any recorded audit_retention_purge/,
	'forged anchor found');

# 6. The trail only grows through audit_event, even for a superuser.
($ret, $out, $err) = $node->psql('postgres', "DELETE FROM frt.audit WHERE seq = 6");
like($err, qr/DELETE on frt.audit refused/, 'superuser DELETE refused');
($ret, $out, $err) = $node->psql('postgres', "SET session_replication_role = replica; DELETE FROM frt.audit WHERE seq = 6");
like($err, qr/DELETE on frt.audit refused/, 'refused also with session_replication_role = replica');

# 7. The newest records deleted behind the triggers' back while the writer
# runs: the trail falls short of the head mark at once; the writer continues
# from the tail it committed, so the next record shows the gap as well.
$node->append_conf('postgresql.conf', "frt.audit_worker_idle_exit = '10min'\n");
$node->reload;
q1('DROP EXTENSION frt_governance; CREATE EXTENSION frt_governance');
q1("SELECT frt.audit_event('enroll', 'ok', 'door', 'subj-' || g) FROM generate_series(1, 5) g");
as_superuser_untriggered('DELETE FROM frt.audit WHERE seq >= 4');
like(q1('SELECT ok, seq, reason FROM frt.verify_audit_chain()'),
	qr/^f\|4\|records missing at the end: the trail held records up to seq 5 but ends at seq 3/,
	'a cut-off end falls short of the head mark');
is(q1("SELECT frt.audit_event('enroll', 'ok', 'door', 'subj-6')"), '6', 'the next record takes seq 6');
like(q1('SELECT ok, seq, reason FROM frt.verify_audit_chain()'),
	qr/^f\|4\|record missing: expected seq 4, next present is 6/, 'the deleted newest records show as a gap');

# 8. The C code finds the trail through the schema frt_governance is
# installed in, never by a spelled-out name: with the schema renamed, the
# running writer (which prepares its insert again), the guard and the
# verifier work on the renamed tables.  (The extension-point trigger on the
# trail, PL/pgSQL, names its schema as of CREATE EXTENSION: off here.)  Both
# statements are on record (seq 7 and 8).
q1('ALTER TABLE frt.audit DISABLE TRIGGER audit_recorded');
q1('ALTER SCHEMA frt RENAME TO frt_moved');
is(q1("SELECT string_agg(outcome, ',' ORDER BY seq) FROM frt_moved.audit WHERE event = 'audit_ddl'"),
	'ALTER TABLE,ALTER SCHEMA', 'the two statements on the audit objects are on record');
is(q1("SELECT frt_moved.audit_event('enroll', 'ok', 'door', 'subj-7')"), '9',
	'a record is written into the renamed schema');
like(q1('SELECT ok, seq, reason FROM frt_moved.verify_audit_chain()'),
	qr/^f\|4\|record missing: expected seq 4, next present is 6/, 'the verifier reads the renamed trail');
($ret, $out, $err) = $node->psql('postgres', 'DELETE FROM frt_moved.audit WHERE seq = 7');
like($err, qr/DELETE on frt\.audit refused/, 'the guard still refuses');
q1('ALTER SCHEMA frt_moved RENAME TO frt');
q1('ALTER TABLE frt.audit ENABLE TRIGGER audit_recorded');
is(q1("SELECT frt.audit_event('enroll', 'ok', 'door', 'subj-8')"), '12', 'and again under the old name');
is(q1("SELECT count(*) FROM frt.audit WHERE subject IN ('subj-7', 'subj-8')"), '2', 'both records are in the trail');

$node->stop;
done_testing();

# Encryption at rest under attack: what a role below superuser, a DBA's
# honest mistake or a writer of the data files tries, and what must hold.
#
# 1. Key destruction in a transaction with an older snapshot (REPEATABLE
#    READ or SERIALIZABLE, by default_transaction_isolation or by hand)
#    would not see a face enrolled after the snapshot and would destroy the
#    epoch it is sealed under: refused, and the face still opens.
# 2. An frt_ivf index still being built by CREATE INDEX CONCURRENTLY (not
#    yet valid) keeps its entries' epoch from being destroyed; once valid it
#    answers.
# 3. The login roles read no face: no SELECT on the column, no EXECUTE on
#    _face_open, no DDL on the face store.
# 4. ANALYZE of the face store and of its expression indexes keeps no
#    opened face in pg_statistic.
# 5. A ciphertext moved to another row does not open; a ciphertext of a
#    destroyed epoch put back does not open.
# 6. A refused enrolment leaves no vector in the server log; matching with
#    a tiny work_mem writes no temporary file (log_temp_files = 0 would
#    name it).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FrtGovTest;

my $DIM = 64;
my $N = 12;

# A deterministic embedding literal of face n.
sub vec_text
{
	my ($n) = @_;
	return '[' . join(',', map { sprintf('%.6f', sin($n * 7.1 + $_)) } 1 .. $DIM) . ']';
}

my $node = PostgreSQL::Test::Cluster->new('encattack');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'frt_governance'\nlog_temp_files = 0\n");
gov_keys($node);
$node->start;
sub q1 { return $node->safe_psql('postgres', $_[0]); }
sub err_of
{
	my ($sql) = @_;
	my ($rc, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$sql");
	return $err;
}

my $fixture = slurp_file("$ENV{TESTDIR}/test/gov_fixture.sql");
$fixture =~ s/:dim\b/$DIM/g;
q1($fixture);
q1("SELECT frt.register_subject('s' || i, '1980-01-01') FROM generate_series(1, $N + 2) i");
q1("SELECT frt.give_consent('s' || i, p, 'self', 'written') FROM generate_series(1, $N + 2) i, unnest(ARRAY['door', 'gate']) p");
foreach my $n (1 .. $N)
{
	my $v = vec_text($n);
	q1("SELECT frt.enroll('s$n', 'door', '$v', 'd1'), frt.enroll('s$n', 'gate', '$v', 'cam')");
}
sub verify_of
{
	my ($subject, $n) = @_;
	my $v = vec_text($n);
	return $node->psql('postgres', "\\set VERBOSITY verbose\nSELECT matched FROM frt.verify('$subject', 'door', '$v', 'd1')");
}

# 1. Destruction under an older snapshot.
my $epoch0 = q1('SELECT frt._key_current_epoch()');
my $bg = $node->background_psql('postgres', on_error_stop => 0);
$bg->query_safe('SET ROLE frt_admin');
$bg->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$bg->query_safe('SELECT count(*) FROM frt.key_epochs()');
# enrolled after the administrator's snapshot, under the current epoch
q1("SELECT frt.enroll('s" . ($N + 1) . "', 'door', '" . vec_text($N + 1) . "', 'd1')");
$bg->query_safe('SELECT frt.key_rotate()');
$bg->query_safe('SELECT frt.key_reencrypt(100000)');
my ($out, $err) = $bg->query('SELECT count(*) FROM frt.key_destroy_unused()');
like($bg->{stderr}, qr/key epochs are destroyed only in READ COMMITTED/,
	'destruction under a REPEATABLE READ snapshot is refused');
$bg->{stderr} = '';
$bg->query_safe('ROLLBACK');
my ($rc, $vout, $verr) = verify_of('s' . ($N + 1), $N + 1);
is("$rc|$vout", '0|t', 'the face enrolled after that snapshot still opens');
# the same with the isolation level a role's default gives it
q1('ALTER ROLE postgres SET default_transaction_isolation = serializable');
like(err_of('SELECT frt.key_rotate(); SELECT count(*) FROM frt.key_destroy_unused()'),
	qr/key epochs are destroyed only in READ COMMITTED/, 'and under SERIALIZABLE by default');
q1('ALTER ROLE postgres RESET default_transaction_isolation');
# in READ COMMITTED the rotation completes and every face still opens
q1('SELECT frt.key_rotate()');
q1('CALL frt.key_rotation_run()');
is(q1("SELECT string_agg(DISTINCT state, ',') FROM frt.key_epochs()"),
	'current,destroyed', 'a rotation in READ COMMITTED destroys the old epochs');
foreach my $n (1, $N, $N + 1)
{
	($rc, $vout, $verr) = verify_of("s$n", $n);
	is("$rc|$vout", '0|t', "face of s$n opens after the rotation");
}
$bg->quit;

# 2. An index being built concurrently: its build seals under the current
#    epoch; it stays invalid while CREATE INDEX CONCURRENTLY waits for an
#    older snapshot, and a rotation meanwhile must not destroy that epoch.
my $old_epoch = q1('SELECT frt._key_current_epoch()');
my $holder = $node->background_psql('postgres');
$holder->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$holder->query_safe('SELECT 1');
my $cic = $node->background_psql('postgres', on_error_stop => 0);
my $cic_pid = $cic->query_safe('SELECT pg_backend_pid()');
$cic->query_until(qr/sent/, q{
\echo sent
CREATE INDEX CONCURRENTLY face_gate_cic ON frt.face USING frt_ivf (frt._face_open(id, embedding) frt.face_cosine_ops)
	WHERE purpose = 'gate';
});
$node->poll_query_until('postgres',
	"SELECT wait_event = 'virtualxid' FROM pg_stat_activity WHERE pid = $cic_pid")
  or die 'CREATE INDEX CONCURRENTLY did not wait';
is(q1("SELECT indisvalid FROM pg_index WHERE indexrelid = 'frt.face_gate_cic'::regclass"), 'f',
	'the concurrent build waits with its index not yet valid');
q1('SELECT frt.key_rotate()');
q1('CALL frt.key_rotation_run()');
is(q1("SELECT state FROM frt.key_epochs() WHERE epoch = $old_epoch"), 'retired',
	'the epoch the concurrent build sealed under is not destroyed');
$holder->query_safe('COMMIT');
$holder->quit;
$node->poll_query_until('postgres',
	"SELECT indisvalid FROM pg_index WHERE indexrelid = 'frt.face_gate_cic'::regclass")
  or die 'CREATE INDEX CONCURRENTLY did not finish';
$cic->quit;
my $probe = vec_text(5);
is(q1("SET enable_seqscan = off; SELECT subject FROM frt.identify('gate', '$probe', 'cam', 1)"), 's5',
	'the index built concurrently answers');
q1('VACUUM frt.face');
q1('CALL frt.key_rotation_run()');
is(q1("SELECT string_agg(DISTINCT state, ',') FROM frt.key_epochs()"), 'current,destroyed',
	'the next rotation run moves its entries and destroys the epoch');
is(q1("SET enable_seqscan = off; SELECT subject FROM frt.identify('gate', '$probe', 'cam', 1)"), 's5',
	'and the index still answers');

# 3. The login roles read no face and cannot make the server open one.
q1('CREATE ROLE mallory LOGIN IN ROLE frt_admin, frt_enroller, frt_matcher, frt_auditor');
foreach my $sql (
	'SELECT embedding FROM frt.face LIMIT 1',
	'SELECT frt._face_open(id, embedding) FROM frt.face LIMIT 1',
	'SELECT * FROM frt._face_export(\'s1\', \'door\')',
	"SELECT frt._face_seal(1, '" . vec_text(1) . "')",
	'CREATE INDEX mal ON frt.face USING btree ((frt._face_open(id, embedding)::text))',
	'ANALYZE frt.face',
	'CREATE VIEW public.v AS SELECT frt._face_open(id, embedding) FROM frt.face',
	'SELECT frt._key_epoch_destroy(1)')
{
	my ($r, $o, $e) = $node->psql('postgres', "SET ROLE mallory; $sql");
	like($e, qr/permission denied|must be owner|only table or database owner|would store opened faces in clear/, "a login of every role is refused: $sql");
}

# 4. ANALYZE keeps no opened face in pg_statistic (the expression index's
#    statistics hold no values of frt.face_embedding).
q1('ANALYZE frt.face');
is(q1(q{SELECT count(*) FROM pg_statistic s JOIN pg_index i ON i.indexrelid = s.starelid
	WHERE i.indrelid = 'frt.face'::regclass
	  AND (s.stavalues1 IS NOT NULL OR s.stavalues2 IS NOT NULL OR s.stavalues3 IS NOT NULL
		   OR s.stavalues4 IS NOT NULL OR s.stavalues5 IS NOT NULL)}), '0',
	'ANALYZE: no values of the face store\'s expression indexes in pg_statistic');

# 5. A writer of the data files (played by a superuser's UPDATE): a
#    ciphertext moved to another row does not open; neither does one of a
#    destroyed epoch put back.
my $saved = q1("SELECT embedding FROM frt.face WHERE subject = 's2' AND purpose = 'door'");
my $saved_epoch = q1("SELECT key_epoch FROM frt.face WHERE subject = 's2' AND purpose = 'door'");
q1(q{UPDATE frt.face f SET embedding = o.embedding FROM frt.face o
	WHERE f.subject = 's3' AND f.purpose = 'door' AND o.subject = 's2' AND o.purpose = 'door'});
($rc, $vout, $verr) = verify_of('s3', 2);
like($verr, qr/XX001.*does not authenticate/s, 'a ciphertext moved to another row does not open');
q1('SELECT frt.key_rotate()');
q1(q{DELETE FROM frt.face WHERE subject = 's3' AND purpose = 'door'});
q1('CALL frt.key_rotation_run()');
q1(qq{UPDATE frt.face SET embedding = '$saved', key_epoch = $saved_epoch WHERE subject = 's2' AND purpose = 'door'});
($rc, $vout, $verr) = verify_of('s2', 2);
like($verr, qr/MF151.*was destroyed/s, 'a ciphertext of a destroyed epoch put back does not open');

# 6. A refused enrolment logs no vector; matching with a tiny work_mem
#    writes no temporary file.
my $off = -s $node->logfile;
my $leak = vec_text(4242);
$node->psql('postgres', "SELECT frt.enroll('nobody', 'door', '$leak', 'd1')");
$node->psql('postgres', "SET work_mem = '64kB'; SELECT * FROM frt.identify('gate', '$leak', 'cam', 20)");
my $log = substr(slurp_file($node->logfile), $off);
my ($first) = $leak =~ /^\[([^,]+,[^,]+,[^,]+)/;
unlike($log, qr/\Q$first\E/, 'the server log holds no vector of a refused enrolment or a match');
unlike($log, qr/temporary file:/, 'matching with a tiny work_mem writes no temporary file');

done_testing();

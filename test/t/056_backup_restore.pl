# Backups of a database in real use keep the legal record.  A trail of more
# than 100,000 audit records written by 4 concurrent sessions (so the heap
# order of frt.audit differs from seq order) and 10,000 faces in 2 purposes,
# each purpose with its own frt_ivf index, survive
#   pg_dump -Fc + pg_restore, pg_dump -Fd -j 4 + pg_restore -j 4, and a
#   plain dump + psql,
# all in the explicit restore mode (frt.restore = on) followed by
# frt.restore_finish(): every row of every configuration table of both
# extensions is back, the per-purpose indexes are re-created and answer,
# the chain verifies, and the restore left its own audit record.  A base
# backup with archived WAL restores to a named restore point with the data
# and chain of that moment.  A dump whose audit rows are removed, or a plain
# restore that loses them, makes verify_audit_chain() report a break.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Time::HiRes qw(time);
use Test::More;
use FrtGovTest;

my $sessions = 4;
my $audit_per_session = 19_000;    # 4 x 19,000 = 76,000 direct records, plus
my $subjects = 5_000;              # 25,000 by enrolment (10,000 faces in 2 purposes)

my $node = PostgreSQL::Test::Cluster->new('backup');
$node->init(has_archiving => 1, allows_streaming => 1);
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'frt_governance'\n");
gov_keys($node);
$node->start;

my $fixture = slurp_file("$ENV{TESTDIR}/test/gov_fixture.sql");
$fixture =~ s/:dim\b/8/g;
$node->safe_psql('postgres', $fixture);

# Run SQL texts in parallel sessions; all must succeed.
sub parallel
{
	my @runs;
	for my $sql (@_)
	{
		my ($out, $err) = ('', '');
		my $h = IPC::Run::start([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'),
			'-c', $sql ], '>', \$out, '2>', \$err);
		push @runs, [ $h, \$err ];
	}
	my $ok = 1;
	for my $r (@runs)
	{
		$r->[0]->finish;
		if ($r->[0]->result != 0) { $ok = 0; diag ${ $r->[1] }; }
	}
	return $ok;
}

my $emb = q{(SELECT array_agg(sin(g * 0.37 + k * 1.3 + %d)::float4) FROM generate_series(1, 8) k)::frt.face_embedding};
my $t0 = time;
my @enrol;
for my $s (0 .. $sessions - 1)
{
	my ($lo, $hi) = ($s * $subjects / $sessions + 1, ($s + 1) * $subjects / $sessions);
	push @enrol, "SELECT count(frt.register_subject('s' || g, '1990-01-01')) FROM generate_series($lo, $hi) g;
		SELECT count(frt.give_consent('s' || g, p, 'self', 'written')) FROM generate_series($lo, $hi) g,
			unnest(ARRAY['door', 'gate']) p;
		SELECT count(frt.enroll('s' || g, 'door', " . sprintf($emb, 0) . ", 'd1')) FROM generate_series($lo, $hi) g;
		SELECT count(frt.enroll('s' || g, 'gate', " . sprintf($emb, 5) . ", 'cam')) FROM generate_series($lo, $hi) g;";
}
ok(parallel(@enrol), "$subjects subjects enrolled in 2 purposes by $sessions sessions");
my $t_faces = time - $t0;

# The audit load: records of varied size (so the heap fills out of order).
# Each record is one audit_event() call waiting for the writer's commit;
# the writer's throughput (about 1,500 records/s on 2 shared cores) sets
# the time, not the number of sessions.
$t0 = time;
my @load;
for my $s (1 .. $sessions)
{
	push @load, "SELECT count(frt.audit_event('load', 'ok', 'door', 's$s-' || g, 'd1', g / 1000.0, NULL,
		CASE WHEN g % 5 = 0 THEN jsonb_build_object('pad', repeat('x', 200 + (g * 37) % 1500)) END))
		FROM generate_series(1, $audit_per_session) g";
}
ok(parallel(@load), "$sessions sessions wrote $audit_per_session audit records each");
my $t_audit = time - $t0;
diag(sprintf('load: faces %.1f s, %d audit records %.1f s', $t_faces, $sessions * $audit_per_session, $t_audit));

# The per-purpose indexes, created the ordinary way; recorded for the dump.
$node->safe_psql('postgres', q{
	CREATE INDEX face_door_ivf ON frt.face USING frt_ivf (frt._face_open(id, embedding) frt.face_cosine_ops) WITH (lists = 16)
		WHERE purpose = 'door';
	CREATE INDEX face_gate_ivf ON frt.face USING frt_ivf (frt._face_open(id, embedding) frt.face_cosine_ops) WITH (lists = 16)
		WHERE purpose = 'gate';
});
is($node->safe_psql('postgres', 'SELECT string_agg(name, \',\' ORDER BY name) FROM frt.face_index'),
	'face_door_ivf,face_gate_ivf', 'the per-purpose indexes are recorded in frt.face_index');

# The test's own reads of frt.face (the digests below, each pg_dump) are on
# record (event embedding_read): they are left out of the comparisons.
my $reads = q{(SELECT count(*) FROM frt.audit WHERE event = 'embedding_read')};
my $n_audit = $node->safe_psql('postgres', "SELECT count(*) - $reads FROM frt.audit");
cmp_ok($n_audit, '>=', 100_000, "trail of $n_audit records written by $sessions concurrent sessions");
is($node->safe_psql('postgres', 'SELECT count(*) FROM frt.face'), 2 * $subjects, '10,000 faces');
cmp_ok($node->safe_psql('postgres',
	'SELECT count(*) FROM (SELECT seq < lag(seq) OVER (ORDER BY ctid) AS back FROM frt.audit) s WHERE back'),
	'>', 0, 'the heap order of frt.audit differs from seq order');
is($node->safe_psql('postgres', 'SELECT ok FROM frt.verify_audit_chain()'), 't', 'source chain verifies');

# Every configuration table (and sequence) of both extensions: rows and a
# hash of their content, under the table's dump condition.
sub digest
{
	my ($n, $db) = @_;
	my @rels = split /\n/, $n->safe_psql($db, q{
		SELECT c.oid::regclass || '|' || c.relkind::text || '|' || coalesce(nullif(e.extcondition[x.i], ''), 'true')
		FROM pg_extension e, unnest(e.extconfig) WITH ORDINALITY x(r, i) JOIN pg_class c ON c.oid = x.r
		WHERE e.extname IN ('frt', 'frt_governance') ORDER BY 1});
	my @out;
	for my $r (@rels)
	{
		my ($rel, $kind, $cond) = split /\|/, $r, 3;
		$cond =~ s/^\s*WHERE\s+//i;
		next if $rel eq 'frt.audit_mark';    # moves with each read on record
		$cond .= " AND event <> 'embedding_read'" if $rel eq 'frt.audit';
		my $q = $kind eq 'S'
		  ? "SELECT last_value || ',' || is_called FROM $rel"
		  : "SELECT count(*) || ' ' || md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM $rel t WHERE $cond";
		push @out, "$rel $kind: " . $n->safe_psql($db, $q);
	}
	return join("\n", @out);
}
my $digest = digest($node, 'postgres');
like($digest, qr/frt\.face_index r: 2 /, 'the digest covers frt.face_index');

my $probe = q{'[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]'};
sub check_restored
{
	my ($db, $label) = @_;
	is(digest($node, $db), $digest, "$label: every configuration table of both extensions restored exactly");
	my $n = $n_audit + $node->safe_psql($db, "SELECT $reads");
	my $fin = $node->safe_psql($db,
		'SELECT chain_ok, audit_records, indexes_created, restore_seq FROM frt.restore_finish()');
	is($fin, join('|', 't', $n, 2, $n + 1), "$label: restore_finish verifies the records, re-creates 2 indexes");
	is($node->safe_psql($db, 'SELECT ok, checked FROM frt.verify_audit_chain()'), 't|' . ($n + 1),
		"$label: chain verifies, with the restore's record");
	is($node->safe_psql($db, q{SELECT event, outcome, detail->>'records' FROM frt.audit ORDER BY seq DESC LIMIT 1}),
		"restore|chain verified|$n", "$label: the restore left an audit record");
	for my $p ('door', 'gate')
	{
		my $plan = $node->safe_psql($db, "SET enable_seqscan = off; EXPLAIN SELECT id FROM frt.face
			WHERE purpose = '$p' ORDER BY frt._face_open(id, embedding) OPERATOR(frt.<=>) $probe LIMIT 5");
		like($plan, qr/face_${p}_ivf/, "$label: the $p index is re-created and used");
		is($node->safe_psql($db, "SELECT count(*) FROM frt.index_check('frt.face_${p}_ivf')"), '0',
			"$label: index_check finds nothing wrong in the $p index");
		is($node->safe_psql($db, "SET enable_seqscan = off; SELECT count(*) FROM (SELECT id FROM frt.face
			WHERE purpose = '$p' ORDER BY frt._face_open(id, embedding) OPERATOR(frt.<=>) $probe LIMIT 5) s"), '5',
			"$label: the $p index answers");
	}
}

my $tmp = PostgreSQL::Test::Utils::tempdir;
my %timing;
{
	local $ENV{PGOPTIONS} = '-c frt.restore=on';
	my $t = time;
	$node->command_ok([ 'pg_dump', '-Fc', '-f', "$tmp/dump.c", '-d', $node->connstr('postgres') ], 'pg_dump -Fc');
	$node->safe_psql('postgres', 'CREATE DATABASE r_c');
	$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('r_c'), "$tmp/dump.c" ],
		'pg_restore -Fc in restore mode');
	$timing{custom} = time - $t;
	$t = time;
	$node->command_ok([ 'pg_dump', '-Fd', '-j', '4', '-f', "$tmp/dump.d", '-d', $node->connstr('postgres') ],
		'pg_dump -Fd -j 4');
	$node->safe_psql('postgres', 'CREATE DATABASE r_d');
	# parallel jobs load related tables at once: foreign keys are not
	# checked (as pg_restore --disable-triggers does); the audit guards are
	# ENABLE ALWAYS and still check the trail
	local $ENV{PGOPTIONS} = '-c frt.restore=on -c session_replication_role=replica';
	$node->command_ok([ 'pg_restore', '--exit-on-error', '-j', '4', '-d', $node->connstr('r_d'), "$tmp/dump.d" ],
		'pg_restore -j 4 in restore mode');
	$timing{directory} = time - $t;
	$t = time;
	$node->command_ok([ 'pg_dump', '-Fp', '-f', "$tmp/dump.sql", '-d', $node->connstr('postgres') ], 'pg_dump -Fp');
	$node->safe_psql('postgres', 'CREATE DATABASE r_p');
	$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', "$tmp/dump.sql",
		'-d', $node->connstr('r_p') ], 'plain restore with psql in restore mode');
	$timing{plain} = time - $t;
}
diag(sprintf('dump+restore: custom %.1f s, directory -j 4 %.1f s, plain %.1f s',
	$timing{custom}, $timing{directory}, $timing{plain}));
check_restored('r_c', '-Fc');
check_restored('r_d', '-Fd -j 4');
check_restored('r_p', 'plain');

# Negative: the audit rows removed from a dump, or lost by a restore.
my $plain = slurp_file("$tmp/dump.sql");
(my $cut = $plain) =~ s/(COPY frt\.audit \([^\n]*\n).*?\n\\\.\n/$1\\.\n/s;
ok(length($cut) < length($plain), 'audit rows removed from the plain dump');
open my $fh, '>', "$tmp/cut.sql" or die;
print $fh $cut;
close $fh;
$node->safe_psql('postgres', 'CREATE DATABASE r_cut');
{
	local $ENV{PGOPTIONS} = '-c frt.restore=on';
	$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', "$tmp/cut.sql",
		'-d', $node->connstr('r_cut') ], 'the cut dump loads');
}
my ($ok, $reason) = split /\|/, $node->safe_psql('r_cut', 'SELECT ok, reason FROM frt.verify_audit_chain()');
is($ok, 'f', 'a restored dump without its audit rows does not verify');
like($reason, qr/records missing at the end: the trail held records up to seq \d+ but ends at seq 0/,
	'the loss is named');
is($node->safe_psql('r_cut', 'SELECT chain_ok, restore_seq FROM frt.restore_finish()'), 'f|1',
	'restore_finish reports the break and records it');
is($node->safe_psql('r_cut', 'SELECT ok FROM frt.verify_audit_chain()'), 'f', 'still a break afterwards');

# The issue's plain restore: no restore mode, no ON_ERROR_STOP: the trail's
# COPY is refused, everything else loads; the chain must not say "intact".
$node->safe_psql('postgres', 'CREATE DATABASE r_lost');
$node->command_ok([ 'psql', '-X', '-q', '-f', "$tmp/dump.sql", '-d', $node->connstr('r_lost') ],
	'a plain restore without restore mode runs to its end (with errors)');
is($node->safe_psql('r_lost', q{SELECT count(*) FROM frt.audit WHERE event = 'load'}), '0',
	'without restore mode the dumped trail is not loaded');
is($node->safe_psql('r_lost', 'SELECT ok FROM frt.verify_audit_chain()'), 'f', 'and the chain reports a break');

# Physical backup: base backup + archived WAL, recovery to a restore point.
$node->backup('base');
$node->safe_psql('postgres', q{SELECT count(frt.audit_event('after_base', 'ok')) FROM generate_series(1, 500)});
my $digest_rp = digest($node, 'postgres');
my $n_rp = $node->safe_psql('postgres', 'SELECT count(*) FROM frt.audit');
$node->safe_psql('postgres', q{SELECT pg_create_restore_point('frt_rp')});
$node->safe_psql('postgres', q{
	SELECT count(frt.audit_event('after_rp', 'ok')) FROM generate_series(1, 300);
	SELECT frt.register_subject('late', '1990-01-01');});
my $walfile = $node->safe_psql('postgres', 'SELECT pg_walfile_name(pg_switch_wal())');
$node->poll_query_until('postgres', "SELECT last_archived_wal >= '$walfile' FROM pg_stat_archiver")
  or die 'WAL not archived';
my $pitr = PostgreSQL::Test::Cluster->new('pitr');
$pitr->init_from_backup($node, 'base', has_restoring => 1);
$pitr->append_conf('postgresql.conf', "recovery_target_name = 'frt_rp'\nrecovery_target_action = 'promote'\n");
$pitr->start;
$pitr->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()') or die 'recovery did not end';
is(digest($pitr, 'postgres'), $digest_rp, 'point in time: every configuration table as at the restore point');
# the restore point's records, and the digest's read of the faces just now
is($pitr->safe_psql('postgres', 'SELECT ok, checked FROM frt.verify_audit_chain()'), 't|' . ($n_rp + 1),
	'point in time: the chain verifies, ending at the restore point');
is($pitr->safe_psql('postgres', q{SELECT frt.audit_event('after_pitr', 'ok')}), $n_rp + 2,
	'point in time: new records continue the chain');
is($pitr->safe_psql('postgres', 'SELECT ok FROM frt.verify_audit_chain()'), 't', 'and it still verifies');
$pitr->stop;

$node->stop;
done_testing();

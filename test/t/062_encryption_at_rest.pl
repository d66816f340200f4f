# Encryption at rest, end to end, as a thief and an auditor would check it.
#
# 1. Every enrolled face is ciphertext everywhere it leaves the running
#    server: a byte scan of the data directory (pg_wal included), of a base
#    backup, and of pg_dump output in plain, custom and directory formats
#    finds none of the enrolled vectors -- raw float4 bytes, their hex (as a
#    plain dump writes bytea), their text form -- and none of the int8 codes
#    an frt_ivf index makes of them.  The same scanner finds the control
#    faces of an unsealed table in another database, so the scan can fail.
# 2. Without the root key, governance fails closed.
# 3. Erasure by key destruction: a base backup and a dump are taken, a
#    subject is erased, the others are rotated to a new epoch and the old
#    epoch's key is destroyed; the old backup, restored with the current
#    keys, cannot open the erased face (before the destruction it could).
# 4. A rotation interrupted by a crash resumes; answers stay the same.
use strict;
use warnings;
use Digest::MD5 qw(md5);
use File::Find;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FrtGovTest;

my $DIM = 64;
my $N = 120;                  # enrolled faces s1..s120

# Component i of face n: a float4 value (exactly representable).
sub comp
{
	my ($n, $i) = @_;
	my $h = unpack('N', md5("face $n component $i"));
	return unpack('f', pack('f', ($h / 4294967296.0) * 1.8 - 0.9));
}
sub comps { my ($n) = @_; return map { comp($n, $_) } 1 .. $DIM; }
sub vec_text { my ($n) = @_; return '[' . join(',', map { sprintf('%.9g', $_) } comps($n)) . ']'; }
sub raw { my ($n) = @_; return pack('f<*', comps($n)); }

# The int8 code frt_ivf keeps for face n under cosine (FrtIvfFormTuple).
sub code
{
	my ($n) = @_;
	my @x = comps($n);
	my $n2 = 0;
	$n2 += $_ * $_ for @x;
	my $inv = 1 / sqrt($n2);
	my $max = 0;
	foreach (@x) { my $a = abs($_ * $inv); $max = $a if $a > $max; }
	my $scale = unpack('f', pack('f', $max / 127));
	return pack('c*', map { my $c = sprintf('%.0f', $_ * $inv / $scale); $c > 127 ? 127 : $c < -127 ? -127 : $c } @x);
}

# Each face's text form as the server writes it (COPY, a plain dump), read
# from the server without storing anything.
our %text_of;

# Needles of face n: windows of its raw bytes, their hex, the text of its
# first components, windows of its code.
sub needles
{
	my ($n) = @_;
	my $r = raw($n);
	my $c = code($n);
	my @w = map { substr($r, $_, 32) } (0, 96, length($r) - 32);
	return (
		(map { [ 'raw', $_ ] } @w),
		(map { [ 'hex', unpack('H*', $_) ] } @w),
		[ 'text', substr($text_of{$n}, 1, 40) ],
		(map { [ 'code', substr($c, $_, 16) ] } (0, 24, length($c) - 16)));
}

# Every regular file under the given paths, as one list of [path, bytes].
sub files_under
{
	my @files;
	find({ no_chdir => 1, wanted => sub { push @files, $File::Find::name if -f $_ } }, @_);
	return map { [ $_, slurp_file($_) ] } sort @files;
}

# The faces (of @ns) any of whose needles occurs in the files; kind => count.
sub found
{
	my ($files, @ns) = @_;
	my %hits;
	foreach my $n (@ns)
	{
		foreach my $nd (needles($n))
		{
			my ($kind, $needle) = @$nd;
			foreach my $f (@$files)
			{
				if (index($f->[1], $needle) >= 0)
				{
					$hits{$kind}++;
					diag("face $n: $kind found in $f->[0]");
					last;
				}
			}
		}
	}
	return \%hits;
}

my $node = PostgreSQL::Test::Cluster->new('enc');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'frt_governance'\n");
my $keyring = gov_keys($node);
$node->start;
sub q1 { return $node->safe_psql('postgres', $_[0]); }

my $fixture = slurp_file("$ENV{TESTDIR}/test/gov_fixture.sql");
$fixture =~ s/:dim\b/$DIM/g;
q1($fixture);
q1("SELECT frt.register_subject('s' || i, '1980-01-01') FROM generate_series(1, $N) i");
q1("SELECT frt.give_consent('s' || i, p, 'self', 'written') FROM generate_series(1, $N) i, unnest(ARRAY['door', 'gate']) p");
foreach my $n (1 .. $N)
{
	my $v = vec_text($n);
	q1("SELECT frt.enroll('s$n', 'door', '$v', 'd1'), frt.enroll('s$n', 'gate', '$v', 'cam')");
}
q1(q{CREATE INDEX face_gate_ivf ON frt.face USING frt_ivf (frt._face_open(id, embedding) frt.face_cosine_ops)
	WITH (lists = 4) WHERE purpose = 'gate'});
q1(q{CREATE INDEX face_door_ivf ON frt.face USING frt_ivf (frt._face_open(id, embedding) frt.face_cosine_ops)
	WHERE purpose = 'door'});
is(q1("SELECT count(*) FROM frt.face WHERE key_epoch = 1"), 2 * $N, 'every face is sealed under epoch 1');
is(q1("SELECT count(*) FROM frt.face WHERE length(embedding) = 4 * $DIM + 4 + 34"), 2 * $N,
	'the column holds the sealed envelope of each face');

# What would store opened faces in clear is refused before it writes
# anything (the byte scans below would find it otherwise: the build's pages
# reach the WAL before an event trigger at the end could object).
my ($ret, $out, $err);
foreach my $ddl (
	'CREATE INDEX face_btree ON frt.face USING btree ((frt._face_open(id, embedding)::text))',
	'CREATE INDEX face_hash ON frt.face USING hash (subject) WHERE frt._face_open(id, embedding) IS NOT NULL',
	'CREATE STATISTICS face_st ON (frt._face_open(id, embedding)::text) FROM frt.face',
	'ALTER TABLE frt.face ADD COLUMN leak text GENERATED ALWAYS AS (frt._face_open(id, embedding)::text) STORED',
	'ALTER TABLE frt.face ALTER COLUMN device TYPE text USING frt._face_open(id, embedding)::text')
{
	($ret, $out, $err) = $node->psql('postgres', $ddl);
	like($err, qr/would store opened faces in clear/, "refused: $ddl");
}

# The answers of a few identifications (the same after every step below).
my @probes = (3, 17, 42, 77, 111);
sub answers
{
	my ($n) = @_;
	return join(';', map {
		my $v = vec_text($_);
		$n->safe_psql('postgres', "SELECT string_agg(subject || ':' || similarity, ',' ORDER BY similarity DESC, subject)
			FROM frt.identify('gate', '$v', 'cam', 3)")
	} @probes);
}
my $answers = answers($node);
like($answers, qr/^s3:/, 'identify finds the enrolled face first');

%text_of = map { split /\|/, $_, 2 } split /\n/, q1(
	'SELECT n, v::frt.face_embedding::text FROM (VALUES '
	  . join(',', map { "($_, '" . vec_text($_) . "')" } (1 .. $N, 100001 .. 100004)) . ') t(n, v)');

# Control: an unsealed table of the core in another database.
q1('CREATE DATABASE ctl');
$node->safe_psql('ctl', 'CREATE EXTENSION frt');
$node->safe_psql('ctl', "CREATE TABLE g (id int, e frt.face_embedding($DIM))");
$node->safe_psql('ctl', "INSERT INTO g VALUES " . join(',', map { "($_, '" . vec_text($_) . "')" } 100001 .. 100004));
$node->safe_psql('ctl', 'CREATE INDEX ON g USING frt_ivf (e frt.face_cosine_ops)');

# 1. Byte scans.
q1('CHECKPOINT');
my @data = files_under($node->data_dir);
my $ctl = found(\@data, 100001 .. 100004);
ok($ctl->{raw} && $ctl->{code}, 'control: the scan finds an unsealed table\'s vectors and codes in the data directory');
is_deeply(found(\@data, 1 .. $N), {}, 'data directory and pg_wal: no enrolled vector, hex, text or code');

$node->backup('b0');
my $b0 = $node->backup_dir . '/b0';
is_deeply(found([ files_under($b0) ], 1 .. $N), {}, 'base backup: no enrolled vector, hex, text or code');

my $dumps = $node->basedir . '/dumps';
mkdir $dumps;
$node->command_ok([ 'pg_dump', '-d', $node->connstr('postgres'), '-Fp', '-f', "$dumps/plain.sql" ], 'plain dump');
$node->command_ok([ 'pg_dump', '-d', $node->connstr('postgres'), '-Fc', '-Z0', '-f', "$dumps/custom.dump" ],
	'custom dump');
$node->command_ok([ 'pg_dump', '-d', $node->connstr('postgres'), '-Fd', '-Z0', '-f', "$dumps/dir" ],
	'directory dump');
$node->command_ok([ 'pg_dump', '-d', $node->connstr('ctl'), '-Fp', '-f', "$dumps/ctl.sql" ], 'control dump');
my @dumpfiles = files_under($dumps);
ok(found([ grep { $_->[0] =~ /ctl\.sql$/ } @dumpfiles ], 100001)->{text},
	'control: the scan finds a vector in a plain dump');
is_deeply(found([ grep { $_->[0] !~ /ctl\.sql$/ } @dumpfiles ], 1 .. $N), {},
	'pg_dump (plain, custom, directory): no enrolled vector, hex, text or code');

# 2. Fail closed without the root key.
$node->append_conf('postgresql.conf', "frt.encryption_key_file = ''\n");
$node->restart;
($ret, $out, $err) = $node->psql('postgres', "SELECT frt.enroll('s1', 'gate', '" . vec_text(999) . "', 'cam')",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/MF150/, 'no root key: enrolment refused (MF150)');
($ret, $out, $err) = $node->psql('postgres', "SELECT * FROM frt.identify('gate', '" . vec_text(3) . "', 'cam', 3)",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/MF150/, 'no root key: identification refused (MF150)');
is(q1("SELECT status FROM frt.compliance_report() WHERE check_name = 'encryption_at_rest'"), 'violation',
	'no root key: the compliance report shows the violation');
my $conf = slurp_file($node->data_dir . '/postgresql.conf');
$conf =~ s/\nfrt.encryption_key_file = ''\n/\n/;
open(my $cf, '>', $node->data_dir . '/postgresql.conf') or die;
print $cf $conf;
close $cf;
$node->restart;
is(answers($node), $answers, 'with the key back, the same answers');
is(q1("SELECT status FROM frt.compliance_report() WHERE check_name = 'encryption_at_rest'"), 'ok',
	'the compliance report shows encryption at rest');

# 3. Erasure by key destruction.
# Before any destruction, the old backup opens with the current keys (so
# the check below can fail).
my $old1 = PostgreSQL::Test::Cluster->new('old1');
$old1->init_from_backup($node, 'b0');
$old1->start;
is($old1->safe_psql('postgres', "SELECT count(frt._face_open(id, embedding)) FROM frt.face WHERE subject = 's1'"),
	'2', 'before the destruction: the old backup opens s1\'s faces');
$old1->stop;

q1("SELECT frt.erase_subject('s1')");
is(q1('SELECT frt.key_rotate()'), '2', 'rotation: epoch 2 is current');
my $answers_no_s1 = answers($node);
q1('CALL frt.key_rotation_run(50)');
is(q1("SELECT string_agg(epoch || ':' || state || ':' || faces, ' ' ORDER BY epoch) FROM frt.key_epochs()"),
	'1:destroyed:0 2:current:' . (2 * $N - 2),
	'after the rotation: epoch 1 destroyed, every face under epoch 2');
is(q1("SELECT sum(items) FILTER (WHERE epoch <> 2) FROM frt._face_ivf_indexes() i, frt.ivf_epochs(i)"), '',
	'no index entry (live or of a re-encrypted row version) under another epoch');
q1('VACUUM (INDEX_CLEANUP ON) frt.face');
is(q1("SELECT index_entries FROM frt.key_epochs() WHERE epoch = 2"), 2 * $N - 2 + 4,
	'after VACUUM: one index entry per face (and the gate index\'s 4 centroids), under epoch 2');
ok(!-e sprintf('%s/epoch-%08d.key', $keyring, 1), 'epoch 1 is gone from the keyring');
is(answers($node), $answers_no_s1, 'after the rotation: the same answers');
is(q1("SELECT bool_and(key_destroyed_at IS NOT NULL) FROM frt.erasure_report('s1')"), 't',
	'the erasure report shows the key destruction for the erased faces');
is(q1("SELECT count(*) FROM frt.audit WHERE event = 'key_destroyed' AND detail->>'epoch' = '1'"), '1',
	'the destruction is on record');

my $old2 = PostgreSQL::Test::Cluster->new('old2');
$old2->init_from_backup($node, 'b0');
$old2->start;
($ret, $out, $err) = $old2->psql('postgres', "SELECT frt._face_open(id, embedding) FROM frt.face WHERE subject = 's1'");
isnt($ret, 0, 'the old backup, restored with the current keys, cannot open the erased face');
like($err, qr/epoch 1/, 'the error names the destroyed epoch');
unlike($err . $out, qr/\d\.\d{5}/, 'and shows no vector');
is($old2->safe_psql('postgres', "SELECT count(*) FROM frt.face WHERE subject = 's1'"), '2',
	'(the ciphertext is there in the old backup)');
$old2->stop;

# The dump taken before the erasure, restored now: s1 does not open either.
q1('CREATE DATABASE restored');
{
	local $ENV{PGOPTIONS} = '-c frt.restore=on';
	$node->command_ok([ 'pg_restore', '-d', $node->connstr('restored'), "$dumps/custom.dump" ],
		'the dump taken before the erasure restores');
}
($ret, $out, $err) = $node->psql('restored', "SELECT frt._face_open(id, embedding) FROM frt.face WHERE subject = 's1'");
like($err, qr/epoch 1/, 'the old dump cannot open the erased face either');

# 4. A rotation interrupted by a crash resumes.
is(q1('SELECT frt.key_rotate()'), '3', 'another rotation: epoch 3');
is(q1('SELECT frt.key_reencrypt(50)'), '50', 'part of the faces re-encrypted');
$node->stop('immediate');
$node->start;
is(q1("SELECT string_agg(epoch || ':' || faces, ' ' ORDER BY epoch) FROM frt.key_epochs() WHERE state <> 'destroyed'"),
	'2:' . (2 * $N - 52) . ' 3:50', 'after the crash: faces under both epochs');
is(answers($node), $answers_no_s1, 'mid-rotation: the same answers');
q1('CALL frt.key_rotation_run(40)');
is(q1("SELECT string_agg(epoch || ':' || state, ' ' ORDER BY epoch) FROM frt.key_epochs()"),
	'1:destroyed 2:destroyed 3:current', 'the resumed rotation finished and destroyed epoch 2');
is(answers($node), $answers_no_s1, 'after the resumed rotation: the same answers');
is(q1('SELECT count(*) FROM frt.face WHERE key_epoch <> 3'), '0', 'every face under epoch 3');

done_testing();

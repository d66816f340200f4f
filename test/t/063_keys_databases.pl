# Key epochs are owned by the database that created them (one keyring per
# cluster, frt_governance in several databases):
# 1. each database's first seal makes its own epoch; _key_epochs shows the
#    owner and marks as current only the database's own epoch;
# 2. a rotation in database a (frt.key_rotate, CALL frt.key_rotation_run)
#    destroys a's old epoch only: b's current epoch is unchanged, b's faces
#    still open and match as before; a cannot destroy b's epoch (42501);
# 3. a dump of a restored into c opens (a's epoch), frt.key_epochs in c
#    calls that epoch 'foreign' and never destroys it; after a rotation in
#    c its faces are under c's own epoch, and a still opens its own;
# 4. an epoch file of the first format (no owner) opens everywhere, is
#    current for no database, is left alone by frt.key_destroy_unused and
#    destroyed only on explicit request; the keyring's highest epoch is
#    never destroyed; a dropped database's epoch may be destroyed;
# 5. the root key and the epoch keys sit in memory left out of core dumps
#    (MADV_DONTDUMP: the "dd" flag of /proc/PID/smaps).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FrtGovTest;

my $DIM = 32;
my $N = 12;

# Component i of face n (a float4 value, exactly representable).
sub comp
{
	my ($n, $i) = @_;
	my $h = (($n * 7919 + $i * 104729) * 2654435761 + 97) % 4294967296;
	return unpack('f', pack('f', ($h / 4294967296.0) * 1.8 - 0.9));
}
sub vec_text { my ($n) = @_; return '[' . join(',', map { sprintf('%.9g', comp($n, $_)) } 1 .. $DIM) . ']'; }

my $node = PostgreSQL::Test::Cluster->new('keys_dbs');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'frt_governance'\n");
my $ring = gov_keys($node);
$node->start;
sub qd { my ($db, $sql) = @_; return $node->safe_psql($db, $sql); }
sub err_of
{
	my ($db, $sql) = @_;
	my ($rc, $out, $err) = $node->psql($db, "\\set VERBOSITY verbose\n$sql");
	return $err;
}
sub ring_files
{
	opendir(my $dh, $ring) or die "$ring: $!";
	my @f = sort grep { /^epoch-/ } readdir $dh;
	closedir $dh;
	return join(',', map { /epoch-0*(\d+)\.key/ ? $1 : $_ } @f);
}

# A governance world in database $db, with faces of subjects s1..sN whose
# vectors are those of faces $base + 1 .. $base + N, and an frt_ivf index.
my $fixture = slurp_file("$ENV{TESTDIR}/test/gov_fixture.sql");
$fixture =~ s/:dim\b/$DIM/g;
my %base = (a => 0, b => 1000);
sub world
{
	my ($db) = @_;
	qd('postgres', "CREATE DATABASE $db");
	qd($db, $fixture);
	qd($db, "SELECT frt.register_subject('s' || i, '1980-01-01') FROM generate_series(1, $N) i");
	qd($db, "SELECT frt.give_consent('s' || i, 'gate', 'self', 'written') FROM generate_series(1, $N) i");
	qd($db, "SELECT frt.enroll('s$_', 'gate', '" . vec_text($base{$db} + $_) . "', 'cam')") for 1 .. $N;
	qd($db, q{CREATE INDEX face_gate_ivf ON frt.face USING frt_ivf
		(frt._face_open(id, embedding) frt.face_cosine_ops) WITH (lists = 2) WHERE purpose = 'gate'});
}
# The answers of identifications of a few of a database's faces.
sub answers
{
	my ($db, $as) = @_;
	$as //= $db;
	return join(';', map {
		qd($db, "SELECT string_agg(subject || ':' || similarity, ',' ORDER BY similarity DESC, subject)
			FROM frt.identify('gate', '" . vec_text($base{$as} + $_) . "', 'cam', 2)")
	} (1, 5, 9));
}
sub opened { my ($db) = @_; return qd($db, 'SELECT count(frt._face_open(id, embedding)) FROM frt.face'); }
sub dboid { my ($db) = @_; return qd('postgres', "SELECT oid FROM pg_database WHERE datname = '$db'"); }

# 1. Two databases, an epoch each.
world('a');
world('b');
my ($oid_a, $oid_b) = (dboid('a'), dboid('b'));
is(qd('a', 'SELECT frt._key_current_epoch()'), '1', 'a\'s first seal made epoch 1');
is(qd('b', 'SELECT frt._key_current_epoch()'), '2', 'b\'s first seal made epoch 2, its own');
is(qd('a', "SELECT string_agg(epoch || ':' || is_current || ':' || (owner_db = $oid_a), ',' ORDER BY epoch) FROM frt._key_epochs()"),
	'1:true:true,2:false:false', 'in a: epoch 1 is a\'s and current, epoch 2 is another database\'s');
is(qd('b', "SELECT string_agg(epoch || ':' || is_current || ':' || (owner_db = $oid_b), ',' ORDER BY epoch) FROM frt._key_epochs()"),
	'1:false:false,2:true:true', 'in b: epoch 2 is b\'s and current');
is(qd('b', 'SELECT current_epoch FROM frt._key_status()'), '2', '_key_status: b\'s current epoch');
is(qd('a', 'SELECT count(*) FROM frt.face WHERE key_epoch = 1') . '/' . qd('b', 'SELECT count(*) FROM frt.face WHERE key_epoch = 2'),
	"$N/$N", 'each database\'s faces are under its own epoch');
my %answers = (a => answers('a'), b => answers('b'));
like($answers{b}, qr/^s1:/, 'b identifies its faces');
is(qd('a', "SELECT string_agg(epoch || ':' || state, ' ' ORDER BY epoch) FROM frt.key_epochs()"), '1:current',
	'frt.key_epochs in a lists only a\'s epoch');
like(qd('a', "SELECT detail FROM frt.compliance_report() WHERE check_name = 'encryption_at_rest'"),
	qr/current key epoch 1 .*; 1 epochs of this database in the keyring, 1 in use by faces/,
	'the compliance row counts this database\'s epochs');

# 2. A rotation in a.
is(qd('a', 'SELECT frt.key_rotate()'), '3', 'a rotates to epoch 3');
is(qd('b', 'SELECT frt._key_current_epoch()'), '2', 'b\'s current epoch is still 2');
qd('a', 'CALL frt.key_rotation_run(5)');
is(qd('a', "SELECT string_agg(epoch || ':' || state || ':' || faces, ' ' ORDER BY epoch) FROM frt.key_epochs()"),
	"1:destroyed:0 3:current:$N", 'a: epoch 1 destroyed, every face under epoch 3');
is(ring_files(), '2,3', 'the keyring keeps b\'s epoch 2');
is(opened('b'), $N, 'b\'s faces still open');
is(answers('b'), $answers{b}, 'and match as before');
is(qd('b', 'SELECT frt._key_current_epoch()'), '2', 'b\'s current epoch is unchanged by a\'s rotation');
is(answers('a'), $answers{a}, 'a matches as before');
like(err_of('a', 'SELECT frt._key_epoch_destroy(2)'),
	qr/ERROR:  42501: key epoch 2 belongs to database "b" and cannot be destroyed from this one/,
	'a cannot destroy b\'s epoch (42501)');
like(err_of('b', 'SELECT frt._key_epoch_destroy(2)'),
	qr/ERROR:  55006: key epoch 2 is the current epoch and cannot be destroyed/, 'nor b its current one');
is(ring_files(), '2,3', '(nothing was destroyed)');

# 3. A dump of a restored into c.
my $dump = $node->basedir . '/a.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('a') ], 'a is dumped');
qd('postgres', 'CREATE DATABASE c');
{
	local $ENV{PGOPTIONS} = '-c frt.restore=on';
	$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('c'), $dump ], 'and restored into c');
}
qd('c', 'SELECT * FROM frt.restore_finish()');
$base{c} = $base{a};
is(opened('c'), $N, 'c opens the restored faces (a\'s epoch 3)');
is(answers('c'), $answers{a}, 'and matches as a does');
is(qd('c', "SELECT faces || ':' || state FROM frt.key_epochs() WHERE epoch = 3"), "$N:foreign",
	'frt.key_epochs in c: a\'s epoch is foreign');
my $c_first = qd('c', 'SELECT frt.key_rotate()');
cmp_ok($c_first, '>', 3, "c rotates to an epoch of its own ($c_first)");
qd('c', 'CALL frt.key_rotation_run(5)');
is(qd('c', "SELECT count(*) FROM frt.face WHERE key_epoch = $c_first"), $N, 'after the rotation c\'s faces are under c\'s epoch');
is(qd('c', "SELECT owner_db FROM frt._key_epochs() WHERE epoch = $c_first"), dboid('c'), 'which c owns');
is(qd('c', "SELECT faces || ':' || state FROM frt.key_epochs() WHERE epoch = 3"), '0:foreign',
	'a\'s epoch: no face of c, still foreign, not destroyed by c');
like(ring_files(), qr/(^|,)3(,|$)/, 'epoch 3 is still in the keyring');
is(opened('a'), $N, 'a still opens its faces');
is(answers('c'), $answers{a}, 'c matches as before');
like(err_of('c', 'SELECT frt._key_epoch_destroy(3)'), qr/42501: key epoch 3 belongs to database "a"/,
	'c cannot destroy a\'s epoch');

# 4. An epoch file of the first format, and the highest epoch.
# A value sealed in a under a new epoch, whose file is then rewritten
# as version 1 (no owner; the same secret and check value).
my $v1 = qd('a', 'SELECT frt._key_epoch_create()');
qd('a', 'CREATE TABLE kept AS SELECT 7::int8 AS id, frt._face_seal(7, \'' . vec_text(7) . '\') AS v');
qd('b', 'CREATE TABLE kept (id int8, v bytea)');
my $kept = qd('a', 'SELECT v FROM kept');
qd('b', "INSERT INTO kept VALUES (7, '$kept')");
qd('a', 'SELECT count(*) FROM frt.key_epochs()');	# frt.key_epoch records it, as a's
sub crc32c
{
	my ($data) = @_;
	my $crc = 0xffffffff;
	for my $byte (unpack('C*', $data))
	{
		$crc ^= $byte;
		$crc = ($crc & 1) ? (($crc >> 1) ^ 0x82f63b78) : ($crc >> 1) for 1 .. 8;
	}
	return $crc ^ 0xffffffff;
}
my $file = sprintf('%s/epoch-%08u.key', $ring, $v1);
my $raw = slurp_file($file);
is(length($raw), 80, 'an epoch file is 80 bytes (version 2)');
is(ord(substr($raw, 8, 1)) . ':' . unpack('V', substr($raw, 72, 4)), "2:$oid_a", 'version 2, owned by a');
my $old = substr($raw, 0, 72);
substr($old, 8, 1) = chr(1);
$old .= pack('V', crc32c($old));
chmod 0600, $file;
open(my $fh, '>', $file) or die "$file: $!";
binmode $fh;
print $fh $old;
close $fh;
$node->restart;		# the backends' caches go
is(qd('a', "SELECT coalesce(owner_db::text, 'none') || ':' || is_current FROM frt._key_epochs() WHERE epoch = $v1"),
	'none:false', "epoch $v1 as a version 1 file: no owner, current for none");
is(qd('a', 'SELECT frt._key_current_epoch()'), '3', 'a seals under its own epoch 3 again');
is(qd('a', "SELECT frt._face_open(id, v) OPERATOR(frt.=) '" . vec_text(7) . "' FROM kept"), 't', 'a opens what is under it');
is(qd('b', "SELECT frt._face_open(id, v) OPERATOR(frt.=) '" . vec_text(7) . "' FROM kept"), 't', 'so does b');
qd('a', 'CALL frt.key_rotation_run(5)');
is(qd('a', "SELECT state FROM frt.key_epochs() WHERE epoch = $v1"), 'foreign',
	'frt.key_epochs: foreign, and frt.key_rotation_run left it');
like(ring_files(), qr/(^|,)$v1$/, "epoch $v1 is in the keyring, the highest");
like(err_of('b', "SELECT frt._key_epoch_destroy($v1)"),
	qr/55006: key epoch $v1 is the highest of the keyring and cannot be destroyed/, 'the highest is not destroyed');
my $b_next = qd('b', 'SELECT frt.key_rotate()');
is($b_next, $v1 + 1, "b rotates to epoch $b_next");
qd('b', "SELECT frt._key_epoch_destroy($v1)");
unlike(ring_files(), qr/(^|,)$v1(,|$)/, "explicitly, b destroyed the epoch without owner $v1");
like(err_of('b', 'SELECT frt._face_open(id, v) FROM kept'), qr/MF151: key epoch $v1 was destroyed/,
	'what was under it no longer opens');
qd('postgres', 'DROP DATABASE c');
qd('a', "SELECT frt._key_epoch_destroy($c_first)");
unlike(ring_files(), qr/(^|,)$c_first(,|$)/, 'the epoch of a dropped database can be destroyed');

# 5. Key memory is left out of core dumps.
sub dontdump_maps
{
	my ($pid) = @_;
	my ($n, $name) = (0, '');
	open(my $sm, '<', "/proc/$pid/smaps") or return -1;
	while (my $line = <$sm>)
	{
		if ($line =~ /^[0-9a-f]+-[0-9a-f]+ (\S+) \S+ \S+ \S+\s*(.*)$/)
		{
			$name = "$1 $2";
		}
		elsif ($line =~ /^VmFlags:.* dd\b/)
		{
			$n++ if $name =~ /^rw-p\s*$/;
		}
	}
	close $sm;
	return $n;
}
SKIP:
{
	skip 'no /proc/PID/smaps', 2 unless -r "/proc/$$/smaps";
	my $bg = $node->background_psql('a');
	my $pid = $bg->query_safe('SELECT pg_backend_pid() FROM frt.face WHERE frt._face_open(id, embedding) IS NOT NULL LIMIT 1');
	cmp_ok(dontdump_maps($pid), '>=', 1, 'a backend holding epoch keys has anonymous memory marked "dd" (not dumped)');
	my $pm = (split /\n/, slurp_file($node->data_dir . '/postmaster.pid'))[0];
	cmp_ok(dontdump_maps($pm), '>=', 1, 'so has the postmaster holding the root key');
	$bg->quit;
}

$node->stop;
done_testing();

# Rotating the root key: the server restarts with a new root key and the
# old one as frt.encryption_previous_key_file; faces sealed before still
# open and match (their epochs are derived with the previous key), new
# seals go under a new epoch of the new key, CALL frt.key_rotation_run()
# moves every face and index entry there and destroys the old epochs, and
# the server then runs without the previous key; a restart with the new key
# alone before that fails clearly; the settings' refusals at start; no key
# in the log.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FrtGovTest;

my $DIM = 16;
my $N = 12;
sub vec_text
{
	my ($n) = @_;
	return '[' . join(',', map { sprintf('%.6f', sin($n * 3.7 + $_)) } 1 .. $DIM) . ']';
}

my $node = PostgreSQL::Test::Cluster->new('rootrot');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'frt_governance'\n");
my $keyring = gov_keys($node);
my $keydir = $node->basedir . '/keys';
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
q1("SELECT frt.register_subject('s' || i, '1980-01-01') FROM generate_series(1, $N) i");
q1("SELECT frt.give_consent('s' || i, 'gate', 'self', 'written') FROM generate_series(1, $N) i");
q1("SELECT frt.enroll('s$_', 'gate', '" . vec_text($_) . "', 'cam')") for 1 .. $N;
q1(q{CREATE INDEX face_gate_ivf ON frt.face USING frt_ivf (frt._face_open(id, embedding) frt.face_cosine_ops)
	WITH (lists = 2) WHERE purpose = 'gate'});
my $identify = "SELECT string_agg(subject, ',' ORDER BY similarity DESC, subject) FROM frt.identify('gate', '"
  . vec_text(5) . "', 'cam', 3)";
my $before = q1($identify);
like($before, qr/^s5(,|$)/, 'identify finds the face under the first root key');
is(q1('SELECT frt._key_current_epoch()'), '1', 'faces are under epoch 1');

# 1. Refusals at start.
my $old_key = slurp_file("$keydir/root.key");
my $new_key = gov_new_key(32);
sub put_key { my ($path, $key) = @_; gov_put_file($path, "$key\n", 0400); }
put_key("$keydir/previous.key", $old_key =~ s/\s+//gr);
put_key("$keydir/new.key", $new_key);
$node->stop;
$node->append_conf('postgresql.conf', "frt.encryption_previous_key_file = '$keydir/previous.key'\n");
my $off = -s $node->logfile;
ok(!$node->start(fail_ok => 1), 'the previous key equal to the root key keeps the server down');
like(substr(slurp_file($node->logfile), $off), qr/FATAL:  the previous encryption key is the root key itself/,
	'... and says why');

# 2. The new root key with the previous one: old faces open, new seals go to a new epoch.
$node->append_conf('postgresql.conf', "frt.encryption_key_file = '$keydir/new.key'\n");
$off = -s $node->logfile;
$node->start;
like(substr(slurp_file($node->logfile), $off),
	qr/LOG:  1 key epochs of the keyring are derived from the previous root key/,
	'the start says which epochs still need the previous key');
is(q1('SELECT frt._key_previous_epochs()'), '{1}',
	'_key_previous_epochs lists epoch 1');
is(q1('SELECT key_source FROM frt._key_status()'), 'file; previous key: file', '_key_status names both sources');
is(q1($identify), $before, 'identify answers as before the restart');
q1("SELECT frt.register_subject('s99', '1980-01-01')");
q1("SELECT frt.give_consent('s99', 'gate', 'self', 'written')");
q1("SELECT frt.enroll('s99', 'gate', '" . vec_text(99) . "', 'cam')");
is(q1("SELECT key_epoch FROM frt.face WHERE subject = 's99'"), '2',
	'a new face is sealed under a new epoch, derived with the new key');
is(q1('SELECT frt._key_current_epoch()'), '2', 'epoch 2 is current');

# 3. The rotation moves everything to epoch 2 and destroys epoch 1.
q1('CALL frt.key_rotation_run(5)');
is(q1('SELECT count(*) FROM frt.face WHERE key_epoch <> 2'), '0', 'every face is under epoch 2');
ok(!-e "$keyring/epoch-00000001.key", "epoch 1's file is destroyed");
is(q1('SELECT frt._key_previous_epochs()'), '{}', 'no epoch needs the previous key');
is(q1($identify), $before, 'identify answers as before');

# 4. Without the previous key: everything still opens.
$node->stop;
$node->append_conf('postgresql.conf', "frt.encryption_previous_key_file = ''\n");
$off = -s $node->logfile;
$node->start;
is(q1('SELECT key_source FROM frt._key_status()'), 'file', 'only the new key is loaded');
is(q1($identify), $before, 'identify answers with the new key alone');
is(q1("SELECT subject FROM frt.identify('gate', '" . vec_text(99) . "', 'cam', 1)"), 's99',
	'the face enrolled during the rotation is found');
unlike(slurp_file($node->logfile), qr/\Q$new_key\E|\Q@{[ $old_key =~ s\/\s+\/\/gr ]}\E/i, 'neither key is in the log');

# 5. A new root key alone, without the previous one, before the rotation: a clear error.
put_key("$keydir/third.key", gov_new_key(32));
$node->stop;
$node->append_conf('postgresql.conf', "frt.encryption_key_file = '$keydir/third.key'\n");
$off = -s $node->logfile;
$node->start;
like(substr(slurp_file($node->logfile), $off),
	qr/WARNING:  the encryption key does not match key epoch 2 of the keyring/, 'the start warns');
like(err_of($identify), qr/MF150: the encryption key does not match key epoch 2/,
	'matching fails closed, and says why');
$node->stop;
$node->append_conf('postgresql.conf', "frt.encryption_previous_key_file = '$keydir/previous.key'\nfrt.encryption_key_file = ''\n");
$off = -s $node->logfile;
ok(!$node->start(fail_ok => 1), 'a previous key without a root key keeps the server down');
like(substr(slurp_file($node->logfile), $off), qr/FATAL:  frt.encryption_previous_key_file or frt.encryption_previous_key_command is set without a root key/,
	'... and says why');

done_testing();

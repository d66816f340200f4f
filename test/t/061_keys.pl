# The key provider (src/keys): a root key and a keyring outside the data
# directory; faces sealed and opened with AES-256-GCM and with SM4-CTR +
# HMAC-SM3; a flipped byte, another id (AAD), another epoch or suite byte
# each fail to open; epochs created and destroyed (what was under a destroyed
# epoch fails with its message, in a session that had its key cached too);
# no key: fail closed (MF150); the refusals at start (key or keyring inside
# the data directory, a key file or keyring others may read, a short key);
# the key bytes and the keys derived from them never in the server log or
# the data directory (pg_wal included); the epoch file's check value as
# OpenSSL's own HKDF and HMAC compute it; a standby with the same key and a
# copy of the keyring opens what the primary sealed, copies a new epoch from
# the primary when it meets a face under it (or says clearly that it cannot
# reach the primary), and reads a file copied by hand; a restart with another root key fails clearly;
# two sessions sealing at once into an empty keyring make one epoch 1.
use strict;
use warnings;
use File::Copy qw(copy);
use File::Find;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FrtGovTest;

my $outside = PostgreSQL::Test::Utils::tempdir;
my $key = gov_new_key(32);
my $other_key = gov_new_key(32);
my $kfile = gov_put_file("$outside/root.key", "$key\n", 0400);
my $other_kfile = gov_put_file("$outside/other.key", "$other_key\n", 0400);
my $ring = "$outside/ring";
mkdir $ring, 0700 or die;

# The error text of $sql (verbose: with its SQLSTATE), or '' if none.
sub err_of
{
	my ($node, $sql) = @_;
	my ($rc, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$sql");
	return $err;
}
# A deterministic embedding of 134 dimensions (540 bytes sealed as a tuple is).
sub vec_sql
{
	my ($i) = @_;
	return "(SELECT array_agg(sin($i * 7.1 + j)::real ORDER BY j)::real[]::frt.face_embedding "
	  . "FROM generate_series(1, 134) j)";
}

# 1. Refusals at start: each keeps the server down, with a clear log line.
my $node = PostgreSQL::Test::Cluster->new('keys_refusals');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'frt_governance'\n");
my $data = $node->data_dir;
sub refused
{
	my ($conf, $re, $what) = @_;
	$node->append_conf('postgresql.conf', $conf);
	my $off = -s $node->logfile // 0;
	ok(!$node->start(fail_ok => 1), "the server does not start: $what");
	my $log = substr(slurp_file($node->logfile), $off);
	like($log, $re, "... and says why: $what");
	unlike($log, qr/\Q$key\E|\Q$other_key\E/i, "... without the key: $what");
}
gov_put_file("$data/root.key", "$key\n", 0400);
refused("frt.encryption_key_file = '$data/root.key'\n",
	qr/FATAL:  frt.encryption_key_file must be an absolute path outside the data directory/,
	'key file inside the data directory');
gov_put_file("$outside/open.key", "$key\n", 0644);
refused("frt.encryption_key_file = '$outside/open.key'\n",
	qr/FATAL:  the encryption key file ".*open.key" is accessible to its group or to others/,
	'key file readable by others');
gov_put_file("$outside/short.key", gov_new_key(16) . "\n", 0400);
refused("frt.encryption_key_file = '$outside/short.key'\n",
	qr/FATAL:  the encryption key from frt.encryption_key_file is shorter than 32 bytes/,
	'key shorter than 32 bytes');
gov_put_file("$outside/nothex.key", "this is not a hexadecimal key at all, is it? no, it is not!!\n", 0400);
refused("frt.encryption_key_file = '$outside/nothex.key'\n",
	qr/FATAL:  the encryption key from frt.encryption_key_file is not one line of at most 128 hex digits/,
	'key not hexadecimal');
mkdir "$data/ring", 0700;
refused("frt.encryption_key_file = '$kfile'\nfrt.encryption_keyring = '$data/ring'\n",
	qr/FATAL:  frt.encryption_keyring must be an absolute path outside the data directory/,
	'keyring inside the data directory');
mkdir "$outside/open_ring", 0755;
chmod 0755, "$outside/open_ring";
refused("frt.encryption_keyring = '$outside/open_ring'\n",
	qr/FATAL:  the keyring directory ".*open_ring" is accessible to its group or to others/,
	'keyring readable by others');
refused("frt.encryption_keyring = '$outside/no_such_ring'\n",
	qr/FATAL:  could not find the keyring directory/, 'keyring missing');

# 2. No key configured: sealing and opening fail closed (MF150).
$node->append_conf('postgresql.conf', "frt.encryption_key_file = ''\nfrt.encryption_keyring = ''\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION frt_governance CASCADE');
like(err_of($node, 'SELECT frt._face_seal(1, ' . vec_sql(1) . ')'),
	qr/ERROR:  MF150: face encryption key not loaded \(Measures Art. 14\).*HINT:  Set frt.encryption_key_file/s,
	'no key: sealing fails closed with MF150');
like(err_of($node, q{SELECT frt._face_open(1, ('\x010101000000' || repeat('00', 60))::bytea)}),
	qr/ERROR:  MF150: face encryption key not loaded/, 'no key: opening fails closed with MF150');
is($node->safe_psql('postgres', 'SELECT key_loaded, key_source IS NULL, keyring IS NULL FROM frt._key_status()'),
	'f|t|t', '_key_status says no key is loaded');
like(err_of($node, 'SELECT frt._key_epoch_create()'), qr/MF150/, 'no key: no epoch is created');
$node->safe_psql('postgres', 'CREATE ROLE plain LOGIN');
like(err_of($node, q{SET ROLE plain; SELECT frt._face_open(1, '\x00'::bytea)}),
	qr/permission denied for function _face_open/, 'PUBLIC may not execute _face_open');
$node->stop;

# 3. A primary with a key and a keyring.
my $primary = PostgreSQL::Test::Cluster->new('keys_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{shared_preload_libraries = 'frt_governance'
frt.encryption_key_file = '$kfile'
frt.encryption_keyring = '$ring'
});
$primary->start;
sub q1 { return $primary->safe_psql('postgres', $_[0]); }
q1('CREATE EXTENSION frt_governance CASCADE');
is(q1('SELECT key_loaded, key_source, keyring, suite, current_epoch IS NULL FROM frt._key_status()'),
	"t|file|$ring|aes-256-gcm|t", 'the key is loaded; no epoch before the first seal');
q1('CREATE TABLE sealed (id int8 PRIMARY KEY, v bytea, e frt.face_embedding)');
q1('INSERT INTO sealed SELECT g, frt._face_seal(g, ' . vec_sql('g') . '), ' . vec_sql('g')
	  . ' FROM generate_series(1, 20) g');
is(q1('SELECT frt._key_current_epoch()'), '1', 'the first seal created epoch 1');
ok(-f "$ring/epoch-00000001.key", 'its file is in the keyring');
is((stat("$ring/epoch-00000001.key"))[2] & 07777, 0600, 'readable by its owner only');
is(q1('SELECT count(*) FROM sealed WHERE length(v) = 540 + 34 AND frt._sealed_epoch(v) = 1'), '20',
	'a sealed 134-dimension face is 540 + 34 bytes, under epoch 1');
is(q1('SELECT count(*) FROM sealed WHERE frt._face_open(id, v) OPERATOR(frt.=) e'), '20',
	'aes-256-gcm: every face opens to what was sealed');
is(q1(q{SELECT count(DISTINCT substr(v, 7, 12)) FROM sealed}), '20', 'nonces differ');

# Tampering, each alone: the payload does not open, and says nothing of it.
my $not_authentic = qr/ERROR:  XX001: sealed face data does not authenticate: it is corrupted or was tampered with/;
sub tamper_tests
{
	my ($suite, $id, $other_epoch) = @_;
	my $v = "(SELECT v FROM sealed WHERE id = $id)";
	for my $t (
		[ "set_byte($v, 40, get_byte($v, 40) # 1)", 'a flipped ciphertext byte' ],
		[ "set_byte($v, 20, get_byte($v, 20) # 128)", 'a flipped tag byte' ],
		[ "set_byte($v, 8, get_byte($v, 8) # 1)", 'a flipped nonce byte' ],
		[ "set_byte($v, 1, 3 - get_byte($v, 1))", 'the other suite byte' ],
		[ "set_byte($v, 2, $other_epoch)", "another epoch ($other_epoch)" ],
		[ "substr($v, 1, length($v) - 1)", 'a cut payload' ])
	{
		like(err_of($primary, "SELECT frt._face_open($id, $t->[0])"), $not_authentic,
			"$suite: $t->[1] does not open");
	}
	like(err_of($primary, "SELECT frt._face_open($id + 1, $v)"), $not_authentic,
		"$suite: another id (AAD) does not open");
	# a face opened earlier in the same statement is kept: a changed copy still does not open
	like(err_of($primary, "SELECT frt._face_open($id, $v) IS NOT NULL, "
		  . "frt._face_open($id, set_byte($v, 40, get_byte($v, 40) # 1))"), $not_authentic,
		"$suite: a flipped byte of a face just opened does not open");
	like(err_of($primary, "SELECT frt._face_open($id, $v) IS NOT NULL, frt._face_open($id + 1, $v)"),
		$not_authentic, "$suite: a face just opened does not open under another id");
}
q1('SELECT frt._key_epoch_create()');
tamper_tests('aes-256-gcm', 3, 2);
is(q1('SELECT string_agg(epoch || suite || is_current || verified, \',\' ORDER BY epoch) FROM frt._key_epochs()'),
	'1aes-256-gcmfalsetrue,2aes-256-gcmtruetrue', '_key_epochs lists both, epoch 2 current');

# The epoch file as OpenSSL's own HKDF and HMAC compute it.
sub openssl_hex
{
	my ($cmd) = @_;
	my $out = `$cmd`;
	die "$cmd failed" if $?;
	$out =~ s/[:\s]//g;
	return lc $out;
}
sub epoch_file
{
	my ($dir, $epoch) = @_;
	my $raw = slurp_file(sprintf('%s/epoch-%08u.key', $dir, $epoch));
	return (unpack('H*', substr($raw, 24, 32)), unpack('H*', substr($raw, 56, 16)), $raw);
}
my %derived;	# hex of keys derived from the root key, for the byte scans
sub check_epoch_file
{
	my ($epoch, $suite, $digest) = @_;
	my ($secret, $check, $raw) = epoch_file($ring, $epoch);
	is(substr($raw, 0, 8), 'FRTEPOCH', "epoch $epoch: magic");
	is(ord(substr($raw, 9, 1)), $suite, "epoch $epoch: suite $suite");
	my $info = unpack('H*', 'frt-epoch-v1') . sprintf('%02x', $suite) . unpack('H*', pack('V', $epoch));
	my $ekey = openssl_hex("openssl kdf -keylen 32 -kdfopt digest:$digest -kdfopt hexkey:$key "
		  . "-kdfopt hexsalt:$secret -kdfopt hexinfo:$info HKDF");
	my $mac = openssl_hex("printf frt-key-check | openssl mac -digest $digest -macopt hexkey:$ekey HMAC");
	is($check, substr($mac, 0, 32), "epoch $epoch: the check value is HMAC-$digest(HKDF-$digest(root key, secret, info))");
	my $dkey = openssl_hex("openssl kdf -keylen 32 -kdfopt mode:EXPAND_ONLY -kdfopt digest:$digest "
		  . "-kdfopt hexkey:$ekey -kdfopt info:frt-data-v1 HKDF");
	$derived{"epoch $epoch key"} = $ekey;
	$derived{"epoch $epoch data key"} = $dkey;
	$derived{"epoch $epoch secret"} = $secret;
}
check_epoch_file(1, 1, 'SHA256');

# 4. SM4-CTR + HMAC-SM3 (a restart: the suite of new epochs), key from a command.
$primary->append_conf('postgresql.conf', qq{frt.encryption_suite = 'sm4-sm3'
frt.encryption_key_file = ''
frt.encryption_key_command = 'cat $kfile'
});
$primary->restart;
is(q1('SELECT key_source, suite FROM frt._key_status()'), 'command|sm4-sm3', 'the key from a command; suite sm4-sm3');
is(q1('SELECT frt._key_epoch_create()'), '3', 'a new epoch, 3');
is(q1('SELECT suite FROM frt._key_epochs() WHERE epoch = 3'), 'sm4-sm3', 'under sm4-sm3');
q1('INSERT INTO sealed SELECT g, frt._face_seal(g, ' . vec_sql('g') . '), ' . vec_sql('g')
	  . ' FROM generate_series(101, 120) g');
is(q1('SELECT count(*) FROM sealed WHERE id > 100 AND frt._sealed_epoch(v) = 3 AND get_byte(v, 1) = 2'), '20',
	'sealed under epoch 3, suite byte 2');
is(q1('SELECT count(*) FROM sealed WHERE frt._face_open(id, v) OPERATOR(frt.=) e'), '40',
	'sm4-sm3 faces and the older aes-256-gcm ones all open');
tamper_tests('sm4-sm3', 105, 2);
check_epoch_file(3, 2, 'SM3');

# 5. Destroying an epoch: the current one is refused; what was under it is gone.
like(err_of($primary, 'SELECT frt._key_epoch_destroy(3)'),
	qr/ERROR:  55006: key epoch 3 is the current epoch and cannot be destroyed/, 'the current epoch is not destroyed');
my $bg = $primary->background_psql('postgres', on_error_stop => 0);
is($bg->query('SELECT count(*) FROM sealed WHERE id < 100 AND frt._face_open(id, v) IS NOT NULL'), '20',
	'a session opens faces under epoch 1 (its key now cached)');
q1('SELECT frt._key_epoch_destroy(1)');
ok(!-e "$ring/epoch-00000001.key", 'epoch 1 file is gone');
$bg->query(q{\set VERBOSITY verbose
SELECT frt._face_open(id, v) FROM sealed WHERE id = 1});
like($bg->{stderr}, qr/ERROR:  MF151: key epoch 1 was destroyed \(Measures Art. 14\)/,
	'that session can no longer open them: key epoch 1 was destroyed');
$bg->{stderr} = '';
is($bg->query('SELECT count(*) FROM sealed WHERE id > 100 AND frt._face_open(id, v) IS NOT NULL'), '20',
	'... but still opens those under epoch 3');
$bg->quit;
like(err_of($primary, 'SELECT frt._face_open(id, v) FROM sealed WHERE id = 2'),
	qr/MF151: key epoch 1 was destroyed/, 'a new session cannot either');
my (undef, undef, $notice) = $primary->psql('postgres', 'SELECT frt._key_epoch_destroy(1)');
like($notice, qr/NOTICE:  key epoch 1 is not in the keyring: nothing to destroy/, 'destroying it again only notes it');
is(q1('SELECT string_agg(epoch::text, \',\' ORDER BY epoch) FROM frt._key_epochs()'), '2,3',
	'_key_epochs lists epochs 2 and 3');
q1('DELETE FROM sealed WHERE id < 100');

# 6. Neither the root key nor what is derived from it is in the log or the data directory.
q1('CHECKPOINT');
$derived{'root key'} = $key;
sub scan_for_keys
{
	my ($what, @files) = @_;
	my @found;
	for my $f (@files)
	{
		next unless -f $f && -r $f;
		my $bytes = slurp_file($f);
		for my $name (sort keys %derived)
		{
			my $hex = $derived{$name};
			push @found, "$name in $f (bytes)" if index($bytes, pack('H*', $hex)) >= 0;
			push @found, "$name in $f (hex)" if $bytes =~ /\Q$hex\E/i;
		}
	}
	is(scalar(@found), 0, "no key in $what") or diag(join("\n", @found));
}
my @data_files;
find({ no_chdir => 1, wanted => sub { push @data_files, $_ if -f $_; } }, $primary->data_dir);
cmp_ok(scalar(grep { m{/pg_wal/} } @data_files), '>', 0, 'the scan covers pg_wal');
scan_for_keys('the data directory', @data_files);
scan_for_keys('the server log', $primary->logfile);

# 7. A standby with the same key and a copy of the keyring.
my $standby_ring = "$outside/standby_ring";
mkdir $standby_ring, 0700 or die;
copy("$ring/$_", "$standby_ring/$_") and chmod(0600, "$standby_ring/$_") for qw(epoch-00000002.key epoch-00000003.key);
$primary->backup('bk');
my $standby = PostgreSQL::Test::Cluster->new('keys_standby');
$standby->init_from_backup($primary, 'bk', has_streaming => 1);
$standby->append_conf('postgresql.conf', "frt.encryption_keyring = '$standby_ring'\n");
$standby->start;
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', 'SELECT count(*) FROM sealed WHERE frt._face_open(id, v) OPERATOR(frt.=) e'),
	'20', 'the standby opens what the primary sealed');
like(err_of($standby, 'SELECT frt._key_epoch_create()'), qr/key epochs are created on the primary/,
	'the standby creates no epoch');
is(q1('SELECT frt._key_epoch_create()'), '4', 'the primary makes epoch 4');
q1('INSERT INTO sealed SELECT g, frt._face_seal(g, ' . vec_sql('g') . '), ' . vec_sql('g')
	  . ' FROM generate_series(201, 205) g');
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', 'SELECT count(*) FROM sealed WHERE frt._face_open(id, v) OPERATOR(frt.=) e'),
	'25', 'meeting a face under epoch 4, the standby copies the epoch from the primary (no restart)');
ok(-f "$standby_ring/epoch-00000004.key", '... into its own keyring');
is(slurp_file("$standby_ring/epoch-00000004.key"), slurp_file("$ring/epoch-00000004.key"),
	'... byte for byte');
is((stat("$standby_ring/epoch-00000004.key"))[2] & 07777, 0600, '... readable by the server only');
like(slurp_file($standby->logfile), qr/LOG:  key epoch 4 copied from the primary into the keyring/,
	'the copy is logged');
# without a primary to ask, a clear MF150
$standby->append_conf('postgresql.conf', "frt.audit_primary_conninfo = 'host=/nonexistent port=1 connect_timeout=2'\n");
$standby->reload;
is(q1('SELECT frt._key_epoch_create()'), '5', 'the primary makes epoch 5');
q1('INSERT INTO sealed SELECT 206, frt._face_seal(206, ' . vec_sql(206) . '), ' . vec_sql(206));
$primary->wait_for_catchup($standby);
like(err_of($standby, 'SELECT frt._face_open(id, v) FROM sealed WHERE id = 206'),
	qr/ERROR:  MF150: key epoch 5 is not in the keyring, and the primary could not be asked for it: could not connect.*HINT:  A standby copies key epochs from the primary/s,
	'a standby that cannot reach the primary says so');
ok(!-e "$standby_ring/epoch-00000005.key", '... and writes nothing');
copy("$ring/epoch-00000005.key", "$standby_ring/epoch-00000005.key") or die;
chmod 0600, "$standby_ring/epoch-00000005.key";
is($standby->safe_psql('postgres', 'SELECT count(*) FROM sealed WHERE frt._face_open(id, v) OPERATOR(frt.=) e'),
	'26', 'a file copied by hand serves too (no restart)');
$standby->stop;

# 8. Restarted with another root key: a warning at start, and a clear error at use.
$primary->append_conf('postgresql.conf', "frt.encryption_key_command = 'cat $other_kfile'\n");
my $off = -s $primary->logfile;
$primary->restart;
like(substr(slurp_file($primary->logfile), $off),
	qr/WARNING:  the encryption key does not match key epoch 2 of the keyring/, 'the start warns of the mismatch');
like(err_of($primary, 'SELECT frt._face_open(id, v) FROM sealed WHERE id = 101'),
	qr/ERROR:  MF150: the encryption key does not match key epoch 3 of the keyring/, 'opening fails clearly');
like(err_of($primary, 'SELECT frt._face_seal(1, ' . vec_sql(1) . ')'),
	qr/MF150: the encryption key does not match key epoch 5/, 'so does sealing');
like(err_of($primary, 'SELECT frt._key_epoch_create()'), qr/MF150: the encryption key does not match/,
	'and no epoch is made with it');
is(q1('SELECT bool_or(verified) FROM frt._key_epochs()'), 'f', '_key_epochs shows none verified');
unlike(slurp_file($primary->logfile), qr/\Q$key\E|\Q$other_key\E/i, 'neither key is in the log');

# 9. Two sessions seal at once into an empty keyring: one epoch 1, used by both.
my $ring2 = "$outside/ring2";
mkdir $ring2, 0700 or die;
$primary->append_conf('postgresql.conf', "frt.encryption_key_command = 'cat $kfile'\nfrt.encryption_keyring = '$ring2'\n");
$primary->restart;
my $gate = $primary->background_psql('postgres');
$gate->query_safe('SELECT pg_advisory_lock(61)');
my @sealers = map { $primary->background_psql('postgres') } 1 .. 2;
for my $i (0, 1)
{
	$sealers[$i]->query_until(qr/go/, "\\echo go\nSELECT pg_advisory_lock_shared(61), frt._face_seal($i, " . vec_sql($i) . ");\n");
}
$primary->poll_query_until('postgres',
	q{SELECT count(*) = 2 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted})
  or die 'the sealers did not wait';
$gate->query_safe('SELECT pg_advisory_unlock(61)');
$gate->quit;
for my $s (@sealers)
{
	$s->query_safe('SELECT 1');	# dies if its seal failed
	$s->quit;
}
pass('both sessions sealed');
opendir(my $dh, $ring2) or die;
is(join(',', sort grep { !/^\./ } readdir $dh), 'epoch-00000001.key', 'one epoch file, no temporary left');
closedir $dh;
is(q1('SELECT frt._key_current_epoch()'), '1', 'the current epoch is 1');
$primary->stop;

done_testing();

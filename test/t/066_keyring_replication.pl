# The keyring beyond one server: a standby with an empty keyring copies
# every epoch from the primary (frt._key_fetch), copies a new epoch unasked
# when it replays its creation, and adopts only what its own root key
# derives; a destruction on the primary is WAL-logged and
# destroys the epoch on the standby when replayed, finishes after a crash
# that cut it short (crash recovery replays it), and destroys the epoch in
# the keyring a restored backup is started with when the restore replays
# past it; the primary's records are served only to frt_audit_relay, only
# by a primary, and on the audit trail; an index scan on a standby that
# lacks an epoch fails clearly (no network call under a buffer lock) and a
# worker copies the epoch; a standby promoted before it copied an epoch
# never gives its number to another.
use strict;
use warnings;
use File::Copy qw(copy);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FrtGovTest;

my $outside = PostgreSQL::Test::Utils::tempdir;
my $kfile = gov_put_file("$outside/root.key", gov_new_key(32) . "\n", 0400);
my $other_kfile = gov_put_file("$outside/other.key", gov_new_key(32) . "\n", 0400);

# A keyring directory holding copies of the given epoch files.
sub ring_with
{
	my ($name, @files) = @_;
	my $dir = "$outside/$name";
	mkdir $dir, 0700 or die "$dir: $!";
	for my $f (@files)
	{
		my ($base) = $f =~ m{([^/]+)$};
		copy($f, "$dir/$base") or die "$f: $!";
		chmod 0600, "$dir/$base";
	}
	return $dir;
}
sub epoch_file { return sprintf('%s/epoch-%08d.key', $_[0], $_[1]); }
# Wait up to a minute for a file to appear.
sub wait_for_file
{
	my ($path) = @_;
	for (1 .. 300)
	{
		return 1 if -e $path;
		select(undef, undef, undef, 0.2);
	}
	return 0;
}

# The error text of $sql on $node (verbose: with its SQLSTATE), or '' if none.
sub err_of
{
	my ($node, $sql) = @_;
	my ($rc, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$sql");
	return $err;
}
# A deterministic embedding of 134 dimensions.
sub vec_sql
{
	my ($i) = @_;
	return "(SELECT array_agg(sin($i * 7.1 + j)::real ORDER BY j)::real[]::frt.face_embedding "
	  . "FROM generate_series(1, 134) j)";
}
sub seal_rows
{
	my ($node, $from, $to) = @_;
	$node->safe_psql('postgres',
		"INSERT INTO sealed SELECT g, frt._face_seal(g, " . vec_sql('g') . "), " . vec_sql('g')
		  . " FROM generate_series($from, $to) g");
}
my $opened = 'SELECT count(*) FROM sealed WHERE frt._face_open(id, v) OPERATOR(frt.=) e';

my $ring = ring_with('ring_primary');
my $primary = PostgreSQL::Test::Cluster->new('ring_primary');
$primary->init(allows_streaming => 1, has_archiving => 1);
$primary->append_conf('postgresql.conf', qq{shared_preload_libraries = 'frt_governance'
frt.encryption_key_file = '$kfile'
frt.encryption_keyring = '$ring'
});
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION frt_governance CASCADE');
$primary->safe_psql('postgres', 'CREATE TABLE sealed (id int8 PRIMARY KEY, v bytea, e frt.face_embedding)');
seal_rows($primary, 1, 10);
is($primary->safe_psql('postgres', 'SELECT frt._key_current_epoch()'), '1', 'the first seal made epoch 1');
$primary->backup('b0');
my $ring_b0 = ring_with('ring_b0', epoch_file($ring, 1));	# the keyring's backup, taken with b0
is($primary->safe_psql('postgres', 'SELECT frt._key_epoch_create()'), '2', 'epoch 2');
seal_rows($primary, 11, 20);

# 1. Privileges: the records are for frt_audit_relay only.
$primary->safe_psql('postgres', q{
	CREATE ROLE outsider LOGIN;
	CREATE ROLE relay_login LOGIN IN ROLE frt_audit_relay;
	GRANT USAGE ON SCHEMA frt TO outsider;
});
like(err_of($primary, 'SET ROLE outsider; SELECT count(*) FROM frt._key_epoch_records(NULL)'),
	qr/permission denied for function _key_epoch_records/, 'another role cannot read the records');
like(err_of($primary, 'SET ROLE outsider; SELECT frt._key_fetch()'),
	qr/permission denied for function _key_fetch/, 'nor ask for a copy');
is($primary->safe_psql('postgres',
		q{SET ROLE relay_login; SELECT string_agg(epoch || ':' || length(record) || ':' || highest, ',' ORDER BY epoch) FROM frt._key_epoch_records(NULL)}),
	'1:80:2,2:80:2', 'the relay role reads every record of the keyring');
is($primary->safe_psql('postgres',
		q{SET ROLE relay_login; SELECT epoch || ':' || (record IS NULL) || ':' || highest FROM frt._key_epoch_records('{7}')}),
	'7:true:2', 'an epoch it does not have: a NULL record');
like(err_of($primary, q{SELECT * FROM frt._key_epoch_records('{0}')}),
	qr/key epochs are numbered from 1/, 'epoch 0 is refused');
like(err_of($primary, q{SELECT frt._key_fetch()}),
	qr/only a standby copies key epochs from its primary/, 'a primary fetches nothing');

# 2. A standby started with an empty keyring gets both epochs, and opens everything.
my $ring_s = ring_with('ring_standby');
my $standby = PostgreSQL::Test::Cluster->new('ring_standby');
$standby->init_from_backup($primary, 'b0', has_streaming => 1);
# it asks the primary as a member of frt_audit_relay, not as a superuser
my $relay_conninfo = 'host=' . $primary->host . ' port=' . $primary->port . ' user=relay_login dbname=postgres';
$standby->append_conf('postgresql.conf',
	"frt.encryption_keyring = '$ring_s'\narchive_mode = off\nfrt.audit_primary_conninfo = '$relay_conninfo'\n");
$standby->start;
$primary->wait_for_catchup($standby);
ok(wait_for_file(epoch_file($ring_s, 2)),
	'replaying the creation of epoch 2 (after the backup), the standby copied it unasked');
is($standby->safe_psql('postgres', 'SELECT frt._key_fetch()'), '1',
	'frt._key_fetch copies epoch 1, made before the backup');
is($standby->safe_psql('postgres', 'SELECT frt._key_fetch()'), '0', 'a second call copies nothing');
is(slurp_file(epoch_file($ring_s, $_)), slurp_file(epoch_file($ring, $_)), "epoch $_ byte for byte") for 1, 2;
is($standby->safe_psql('postgres', $opened), '20', 'the standby opens every face');
is($primary->safe_psql('postgres',
		q{SELECT count(*) > 0 FROM frt.audit WHERE event = 'key_epochs_served' AND role_name = 'relay_login'}),
	't', 'the primary put the copies on the audit trail, with the relay login');
like(err_of($standby, 'SELECT count(*) FROM frt._key_epoch_records(NULL)'),
	qr/key epochs are served by the primary, and this server is a standby/,
	'a standby serves no epoch (a cascading standby asks the primary)');
like(err_of($standby, 'SELECT frt._key_epoch_destroy(1)'), qr/key epochs are destroyed on the primary/,
	'nor destroys one');

# 3. A creation replayed: the standby copies the epoch at once, unasked.
is($primary->safe_psql('postgres', 'SELECT frt._key_epoch_create()'), '3', 'epoch 3');
ok(wait_for_file(epoch_file($ring_s, 3)), 'replaying its creation, the standby copies epoch 3 without being asked');
is(slurp_file(epoch_file($ring_s, 3)), slurp_file(epoch_file($ring, 3)), '... byte for byte');

# 4. A destruction on the primary destroys the standby's copy when replayed.
$primary->safe_psql('postgres', 'DELETE FROM sealed WHERE id <= 10');
# a file the server cannot write: an ERROR before anything is logged, not a crash
chmod 0400, epoch_file($ring, 1);
like(err_of($primary, 'SELECT frt._key_epoch_destroy(1)'),
	qr/ERROR:  .*could not destroy key epoch 1 in the keyring: Permission denied/,
	'a destruction the server cannot carry out is refused');
ok(-e epoch_file($ring, 1) && -e epoch_file($ring_s, 1), '... on both servers');
is($primary->safe_psql('postgres', 'SELECT 1'), '1', '... and the primary stays up');
chmod 0600, epoch_file($ring, 1);
my $off = -s $standby->logfile;
$primary->safe_psql('postgres', 'SELECT frt._key_epoch_destroy(1)');
ok(!-e epoch_file($ring, 1), 'the primary destroyed epoch 1');
$primary->wait_for_catchup($standby);
ok(!-e epoch_file($ring_s, 1), 'replaying it, the standby destroyed its copy');
like(substr(slurp_file($standby->logfile), $off),
	qr/LOG:  key epoch 1 destroyed in the keyring, as the primary destroyed it/, '... and logged it');
like(err_of($standby, 'SELECT frt._key_fetch(1)'), qr/ERROR:  MF151: key epoch 1 was destroyed/,
	'the standby does not copy it back: the primary says it was destroyed');
ok(!-e epoch_file($ring_s, 1), '... and nothing was written');
is($standby->safe_psql('postgres', $opened), '10', 'the faces left open on the standby');

# 5. A crash between the WAL record and the file's destruction: recovery finishes it.
$primary->safe_psql('postgres', 'CHECKPOINT');
copy(epoch_file($ring, 2), "$outside/saved-2") or die;
is($primary->safe_psql('postgres', 'SELECT frt._key_epoch_create()'), '4', 'epoch 4');
$primary->safe_psql('postgres', 'DELETE FROM sealed WHERE id <= 20');
$primary->safe_psql('postgres', 'SELECT frt._key_epoch_destroy(2)');
$primary->wait_for_catchup($standby);
ok(!-e epoch_file($ring_s, 2), 'the standby destroyed epoch 2 too');
# as if the server had died after the WAL record and before the unlink
copy("$outside/saved-2", epoch_file($ring, 2)) or die;
chmod 0600, epoch_file($ring, 2);
$primary->stop('immediate');
$primary->start;
ok(!-e epoch_file($ring, 2), 'crash recovery destroyed the epoch the crash left behind');
seal_rows($primary, 21, 25);
is($primary->safe_psql('postgres', $opened), '5', 'the primary seals and opens after recovery');

# 6. A restored backup replays the destructions into the keyring it is started with.
$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
my $last = $primary->safe_psql('postgres', 'SELECT pg_walfile_name(pg_current_wal_lsn())');
$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
$primary->poll_query_until('postgres',
	"SELECT last_archived_wal >= '$last' FROM pg_stat_archiver") or die 'archiving timed out';
my $ring_r = ring_with('ring_restored', epoch_file($ring_b0, 1), "$outside/saved-2");
my $restored = PostgreSQL::Test::Cluster->new('ring_restored');
$restored->init_from_backup($primary, 'b0', has_restoring => 1, standby => 0);
$restored->append_conf('postgresql.conf', "frt.encryption_keyring = '$ring_r'\narchive_mode = off\n");
$restored->start;
$restored->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()') or die 'recovery timed out';
ok(!-e epoch_file($ring_r, 1) && !-e epoch_file($ring_r, 2),
	'the old keyring copy a backup was restored with lost the epochs destroyed since');
is($restored->safe_psql('postgres', 'SELECT count(*) FROM sealed'), '5', 'the restore replayed to the end of the archive (the 5 faces sealed last)');
$restored->stop;

# 7. A standby with another root key adopts nothing.
$primary->backup('b1');
my $ring_x = ring_with('ring_other');
my $other = PostgreSQL::Test::Cluster->new('ring_other');
$other->init_from_backup($primary, 'b1', has_streaming => 1);
$other->append_conf('postgresql.conf',
	"frt.encryption_keyring = '$ring_x'\nfrt.encryption_key_file = '$other_kfile'\narchive_mode = off\n");
$other->start;
$primary->wait_for_catchup($other);
like(err_of($other, 'SELECT frt._key_fetch()'),
	qr/ERROR:  MF150: key epoch \d+ from the primary is damaged or made with another root key/,
	'a standby whose root key differs refuses the copies');
opendir(my $dh, $ring_x) or die;
is(scalar(grep { /^epoch-/ } readdir($dh)), 0, '... and writes no epoch file');
closedir $dh;
like(err_of($other, 'SELECT frt._face_open(id, v) FROM sealed LIMIT 1'), qr/MF150/,
	'it opens nothing either');
$other->stop;

# 8. An index scan on a standby meets an epoch it lacks: never a network call under a
# buffer lock; a clear MF150, a worker copies the epoch, and the scan then answers.
$primary->safe_psql('postgres',
	'CREATE INDEX sealed_e ON sealed USING frt_ivf (e frt.face_cosine_ops) WITH (lists = 1, sealed = true)');
$standby->append_conf('postgresql.conf', "frt.audit_primary_conninfo = 'host=/nonexistent port=1'\n");
$standby->reload;
my $fresh = $primary->safe_psql('postgres', 'SELECT frt._key_epoch_create()');
$primary->safe_psql('postgres', 'REINDEX INDEX sealed_e');
$primary->wait_for_catchup($standby);
ok(!-e epoch_file($ring_s, $fresh), "the standby, cut off from the primary, lacks epoch $fresh");
my $knn = 'SET enable_seqscan = off; SELECT id FROM sealed ORDER BY e OPERATOR(frt.<=>) '
  . vec_sql(23) . ' LIMIT 1';
like(err_of($standby, $knn),
	qr/ERROR:  MF150: key epoch $fresh is not in the keyring.*HINT:  A standby copies it from the primary/s,
	'the index scan fails clearly, without asking the primary under a buffer lock');
$standby->append_conf('postgresql.conf', "frt.audit_primary_conninfo = '$relay_conninfo'\n");
$standby->reload;
$standby->psql('postgres', $knn);	# a new session: it has a worker copy the epoch
ok(wait_for_file(epoch_file($ring_s, $fresh)), "a worker copied epoch $fresh");
is($standby->safe_psql('postgres', $knn), '23', 'the index scan answers');

# 9. A standby promoted before it could copy an epoch never numbers another epoch alike.
my $ring_p2 = ring_with('ring_promoted', map { epoch_file($ring, $_) } 3, 4);
my $promoted = PostgreSQL::Test::Cluster->new('ring_promoted');
$promoted->init_from_backup($primary, 'b1', has_streaming => 1);
$promoted->append_conf('postgresql.conf',
	"frt.encryption_keyring = '$ring_p2'\narchive_mode = off\nfrt.audit_primary_conninfo = 'host=/nonexistent port=1'\n");
$promoted->start;
my $next = $primary->safe_psql('postgres', 'SELECT frt._key_epoch_create()');
$primary->wait_for_catchup($promoted);
ok(!-e epoch_file($ring_p2, $next), "the standby could not copy epoch $next");
ok(-e "$ring_p2/highest-replayed", '... but recorded its number as the highest replayed');
$promoted->promote;
$promoted->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()') or die 'promotion timed out';
is($promoted->safe_psql('postgres', 'SELECT frt._key_epoch_create()'), $next + 1,
	'promoted, its first new epoch is numbered after the one it never copied');
$promoted->stop;
$standby->stop;
$primary->stop;

done_testing();

# Sealed frt_ivf indexes: codes and centroids are ciphertext on disk, in WAL
# and on a standby, under the governance layer's keys.  An index is sealed
# by its reloption (sealed = true) or because the key provider must seal its
# table (frt.face).  Exact mode answers exactly as an unsealed index of the
# same rows (rows, order, distances), through inserts, DELETE + VACUUM,
# re-sealing under a new key epoch, an immediate stop mid-inserts and on a
# streaming standby; index_check finds nothing; without the provider every
# access fails closed; and the int8 codes of known rows appear in clear in
# no index file and no WAL segment, on the primary or the standby.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use FrtIvfTest;
use IPC::Run;

my $dim = 64;

# The root key and the keyring, outside the data directories.
my $keys = PostgreSQL::Test::Utils::tempdir();
my $keyfile = "$keys/root.key";
PostgreSQL::Test::Utils::append_to_file($keyfile,
	join('', map { sprintf('%02x', ($_ * 73 + 41) % 256) } 1 .. 32) . "\n");
chmod 0600, $keyfile or die "chmod $keyfile: $!";
mkdir "$keys/keyring", 0700 or die "mkdir keyring: $!";
chmod 0700, "$keys/keyring" or die;
my $provider_conf = "shared_preload_libraries = 'frt_governance'\n"
  . "frt.encryption_key_file = '$keyfile'\n"
  . "frt.encryption_keyring = '$keys/keyring'\n";

my $node = PostgreSQL::Test::Cluster->new('ivf_sealed');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', $provider_conf);
$node->start;

# Distinctive rows: x_i = k_i / 100 with one k_i = 127, so the int8 code of
# the row is exactly k (for every metric: the scale is max|x| / 127).
# Rows 1..4 are indexed by the build, row 5 by an insert.
my @codes;
my ($distinct_sql, $late_sql) = ('', '');
for my $r (1 .. 5)
{
	my @k = (127, map { (($_ * (31 + 6 * $r) + 11 * $r) % 255) - 127 } 1 .. $dim - 1);
	push @codes, pack('c*', @k);
	my $row = "(300000$r, '[" . join(',', map { $_ / 100 } @k) . "]')";
	if ($r < 5) { $distinct_sql .= "INSERT INTO faces VALUES $row;\n"; }
	else { $late_sql = "INSERT INTO faces VALUES $row; INSERT INTO clear_faces VALUES $row;"; }
}

$node->safe_psql('postgres', ivf_setup_sql() . qq{
	CREATE EXTENSION frt_governance;
	CREATE EXTENSION pageinspect;
	CREATE TABLE faces (id int PRIMARY KEY, e frt.face_embedding($dim));
	INSERT INTO faces SELECT i, vec(i, $dim) FROM generate_series(1, 3000) i;
	INSERT INTO faces VALUES (3001, NULL),
		(3002, array_fill(0::real, ARRAY[$dim])::frt.face_embedding);
	$distinct_sql
	-- the same rows, unsealed; unlogged, so that no WAL holds their codes
	CREATE UNLOGGED TABLE clear_faces (id int PRIMARY KEY, e frt.face_embedding($dim));
	INSERT INTO clear_faces SELECT * FROM faces ORDER BY id;
	CREATE INDEX faces_l2 ON faces USING frt_ivf (e frt.face_l2_ops) WITH (lists = 12, sealed = true);
	CREATE INDEX faces_cos ON faces USING frt_ivf (e frt.face_cosine_ops) WITH (sealed = true);
	CREATE INDEX clear_l2 ON clear_faces USING frt_ivf (e frt.face_l2_ops) WITH (lists = 12);
	CREATE INDEX clear_cos ON clear_faces USING frt_ivf (e frt.face_cosine_ops);
	ANALYZE faces; ANALYZE clear_faces;
	CREATE DATABASE core;
});
# A database with the core only, for the refusals without a provider.
$node->safe_psql('core', ivf_setup_sql() . qq{
	CREATE EXTENSION pageinspect;
	CREATE TABLE faces (id int PRIMARY KEY, e frt.face_embedding($dim));
	INSERT INTO faces SELECT i, vec(i, $dim) FROM generate_series(1, 500) i;
	CREATE INDEX faces_l2 ON faces USING frt_ivf (e frt.face_l2_ops) WITH (lists = 4, sealed = true);
});
is(meta_flags($node, 'faces_l2', 'core'), '1', 'a database without frt_governance: sealed by the reloption');

# The meta page's flags (FRT_IVF_META_SEALED = 1), byte 40 of block 0.
sub meta_flags
{
	my ($n, $ix, $db) = @_;
	return $n->safe_psql($db // 'postgres', "SELECT get_byte(get_raw_page('$ix', 0), 40)");
}
is(meta_flags($node, 'faces_l2'), '1', 'reloption sealed = true: the meta page says sealed');
is(meta_flags($node, 'faces_cos'), '1', 'a flat index is sealed too');
is(meta_flags($node, 'clear_l2'), '0', 'without the reloption an index on another table is not sealed');

# Epoch counts of an index: "epoch:items,...".
sub epochs
{
	my ($n, $ix) = @_;
	return $n->safe_psql('postgres',
		"SELECT coalesce(string_agg(epoch || ':' || items, ',' ORDER BY epoch), '') FROM frt.ivf_epochs('$ix')");
}
like(epochs($node, 'faces_l2'), qr/^\d+:3017$/, 'ivf_epochs: 3005 non-NULL rows and 12 centroids under one epoch');
is(epochs($node, 'clear_l2'), '', 'ivf_epochs of an unsealed index: no rows');

# Top 10 (id:distance) of a table in exact mode for probes vec(base + k).
sub answers
{
	my ($n, $table, $op, $base, $extra) = @_;
	$extra //= 'SET frt.exact = on;';
	return $n->safe_psql('postgres', qq{
		SET enable_seqscan = off; SET extra_float_digits = 3; $extra
		SELECT string_agg(r, ' ' ORDER BY k) FROM (
			SELECT k, (SELECT string_agg(id || ':' || d, ',') FROM
						(SELECT id, e OPERATOR(frt.$op) vec($base + k, $dim) AS d FROM $table
						 ORDER BY e OPERATOR(frt.$op) vec($base + k, $dim) LIMIT 10) s) AS r
			FROM generate_series(1, 15) k) t});
}

# Sealed and unsealed indexes answer alike; index_check finds nothing.
sub same_answers
{
	my ($what) = @_;
	for my $op ('<->', '<=>')
	{
		my $sealed = answers($node, 'faces', $op, 5000);
		like($sealed, qr/^\d+:/, "$what: the sealed index answers ($op)");
		is($sealed, answers($node, 'clear_faces', $op, 5000),
			"$what: exact mode on the sealed index = on the unsealed one ($op)");
	}
	is($node->safe_psql('postgres', q{SET enable_seqscan = off;
		SELECT count(*) FROM faces WHERE e OPERATOR(frt.<->) vec(5003, 64) < 3.5}),
		$node->safe_psql('postgres', q{SET enable_seqscan = off;
		SELECT count(*) FROM clear_faces WHERE e OPERATOR(frt.<->) vec(5003, 64) < 3.5}),
		"$what: a distance threshold finds the same rows");
	for my $ix ('faces_l2', 'faces_cos', 'clear_l2', 'clear_cos')
	{
		is($node->safe_psql('postgres', "SELECT count(*) FROM frt.index_check('$ix')"), '0',
			"$what: index_check($ix) finds nothing");
	}
}
same_answers('after build');

# The plaintext page cache: a memory context of its own, within its bound.
like($node->safe_psql('postgres', q{SET enable_seqscan = off; SET frt.exact = on;
	SELECT count(*) FROM (SELECT id FROM faces ORDER BY e OPERATOR(frt.<->) vec(7, 64) LIMIT 5) s;
	SELECT total_bytes FROM pg_backend_memory_contexts WHERE name = 'frt_ivf plaintext cache'}),
	qr/\n\d+$/, 'the opened pages are in the memory context "frt_ivf plaintext cache"');
cmp_ok($node->safe_psql('postgres', q{SET enable_seqscan = off; SET frt.exact = on;
	SET frt.ivf_plaintext_cache = '64kB';
	SELECT count(*) FROM (SELECT id FROM faces ORDER BY e OPERATOR(frt.<->) vec(7, 64) LIMIT 5) s;
	SELECT sum(total_bytes) FROM pg_backend_memory_contexts
	 WHERE name = 'frt_ivf plaintext cache' OR parent = 'frt_ivf plaintext cache'}),
	'<=', 64 * 1024 + 32 * 1024, 'frt.ivf_plaintext_cache bounds it (64kB: a full scan keeps 8 pages)');
for my $bound ('64kB', '0')
{
	is(answers($node, 'faces', '<->', 5000, "SET frt.exact = on; SET frt.ivf_plaintext_cache = '$bound';"),
		answers($node, 'clear_faces', '<->', 5000),
		"frt.ivf_plaintext_cache = $bound: same answers");
}

# Inserts, DELETE + VACUUM (erased sealed slots are reused by inserts).
$node->safe_psql('postgres', qq{
	INSERT INTO faces SELECT i, vec(i, $dim) FROM generate_series(3100, 3400) i;
	INSERT INTO clear_faces SELECT * FROM faces WHERE id BETWEEN 3100 AND 3400;
	DELETE FROM faces WHERE id % 5 = 0; DELETE FROM clear_faces WHERE id % 5 = 0;
	VACUUM faces; VACUUM clear_faces;
	INSERT INTO faces SELECT i, vec(i, $dim) FROM generate_series(3500, 3600) i;
	INSERT INTO clear_faces SELECT * FROM faces WHERE id BETWEEN 3500 AND 3600;
	$late_sql
});
same_answers('after insert, delete and VACUUM');
# (the unsealed index is read now: its unlogged table is empty after the crash below)
my $clear = index_pages($node, 'clear_l2');
is(scalar(grep { index($clear, $_) >= 0 } @codes), scalar(@codes),
	'the known codes are in the unsealed index (the pattern is right)');

# Key rotation: a new epoch, then re-sealing in batches.
my ($old_epoch) = epochs($node, 'faces_l2') =~ /^(\d+):/;
my $items = $node->safe_psql('postgres', "SELECT sum(items) FROM frt.ivf_epochs('faces_l2')");
$node->safe_psql('postgres', 'SELECT frt._key_epoch_create()');
is($node->safe_psql('postgres', "SELECT frt.ivf_reseal('faces_l2', 100)"), '100',
	'ivf_reseal with max_items = 100 re-seals 100 items');
like(epochs($node, 'faces_l2'), qr/^$old_epoch:\d+,\d+:100$/, 'ivf_epochs: 100 items under the new epoch');
is($node->safe_psql('postgres', "SELECT frt.ivf_reseal('faces_l2')"), $items - 100,
	'ivf_reseal re-seals the rest');
is($node->safe_psql('postgres', "SELECT frt.ivf_reseal('faces_cos')"),
	$node->safe_psql('postgres', "SELECT sum(items) FROM frt.ivf_epochs('faces_cos')"),
	'ivf_reseal of the flat index re-seals every item');
unlike(epochs($node, 'faces_l2') . ',' . epochs($node, 'faces_cos'), qr/(?:^|,)$old_epoch:/,
	'no item is left under the old epoch');
is($node->safe_psql('postgres', "SELECT frt.ivf_reseal('faces_l2')"), '0', 'ivf_reseal again: nothing to do');
is($node->safe_psql('postgres', "SELECT frt.ivf_reseal('clear_l2')"), '0', 'ivf_reseal of an unsealed index: 0');
same_answers('after re-sealing');

# Privileges: EXECUTE is not granted to PUBLIC.
$node->safe_psql('postgres', 'CREATE ROLE seal_nobody');
for my $f ("frt.ivf_reseal('faces_l2')", "frt.ivf_epochs('faces_l2')")
{
	my ($rc, $out, $err) = $node->psql('postgres', "SET ROLE seal_nobody; SELECT $f");
	like($err, qr/permission denied for function/, "$f: not executable by PUBLIC");
}

# must_seal: the provider seals every index on the face store.
my $facecol = $node->safe_psql('postgres', q{SELECT CASE WHEN atttypid = 'bytea'::regtype
	THEN 'frt._face_open(id, embedding)' ELSE 'embedding' END
	FROM pg_attribute WHERE attrelid = 'frt.face'::regclass AND attname = 'embedding'});
$node->safe_psql('postgres', "CREATE INDEX face_ivf ON frt.face USING frt_ivf ($facecol frt.face_cosine_ops)");
is(meta_flags($node, 'frt.face_ivf'), '1', 'an index on frt.face is sealed without the reloption (must_seal)');
$node->safe_psql('postgres', 'DROP INDEX frt.face_ivf');

# Crash: an immediate stop in the middle of inserts, deletes and VACUUM.
$node->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('ivf_sealed_standby');
$standby->init_from_backup($node, 'b', has_streaming => 1);
$standby->start;
my $script = $node->basedir . '/work.sql';
PostgreSQL::Test::Utils::append_to_file($script, qq{
\\set r random(10000, 1000000)
INSERT INTO faces SELECT :r + g, vec(:r + g, $dim) FROM generate_series(1, 20) g ON CONFLICT DO NOTHING;
DELETE FROM faces WHERE id IN (SELECT id FROM faces WHERE id > 10000 AND id % 7 = :r % 7 LIMIT 5);
});
my $vac = $node->basedir . '/vac.sql';
PostgreSQL::Test::Utils::append_to_file($vac, "VACUUM faces;\n");
my @bench = ('pgbench', '-n', '-c', '2', '-T', '60', '-f', "$script\@9", '-f', "$vac\@1",
	'-h', $node->host, '-p', $node->port, 'postgres');
my ($out, $err) = ('', '');
my $h = IPC::Run::start(\@bench, '>', \$out, '2>', \$err);
sleep 5;
cmp_ok($node->safe_psql('postgres', 'SELECT count(*) FROM faces WHERE id > 10000'), '>', 0,
	'the workload was inserting when the server stopped');
$node->stop('immediate');
$h->finish;
$node->start;
for my $ix ('faces_l2', 'faces_cos')
{
	is($node->safe_psql('postgres', "SELECT count(*) FROM frt.index_check('$ix')"), '0',
		"after crash recovery index_check($ix) finds nothing");
}
# Rows at one distance (the workload inserted copies of the probes) may come
# in either order from either scan: compare them in id order.
sub ties_in_id_order
{
	my ($answers) = @_;
	return join(' ', map {
		join(',', map { "$_->[0]:$_->[1]" }
			  sort { $a->[1] <=> $b->[1] || $a->[0] <=> $b->[0] }
			  map { [ split /:/ ] } split /,/)
	} split / /, $answers);
}
for my $op ('<->', '<=>')
{
	is(ties_in_id_order(answers($node, 'faces', $op, 777000)),
		ties_in_id_order(answers($node, 'faces', $op, 777000, ivf_exhaustive())),
		"after crash recovery exact mode = exhaustive scan ($op)");
}

# The standby reads the sealed index with the same key and keyring.
$node->wait_for_catchup($standby);
for my $op ('<->', '<=>')
{
	is(answers($standby, 'faces', $op, 777000), answers($node, 'faces', $op, 777000),
		"the standby answers as the primary ($op)");
}
for my $ix ('faces_l2', 'faces_cos')
{
	is($standby->safe_psql('postgres', "SELECT count(*) FROM frt.index_check('$ix')"), '0',
		"index_check($ix) on the standby finds nothing");
}

# No code in clear: not in the index files, not in WAL, on either node.
$node->safe_psql('postgres', 'CHECKPOINT');
$node->wait_for_catchup($standby);
$standby->safe_psql('postgres', 'CHECKPOINT');

# The bytes of every block of an index, through the buffer manager.
sub index_pages
{
	my ($n, $ix) = @_;
	my $hex = $n->safe_psql('postgres', qq{SELECT string_agg(encode(get_raw_page('$ix', b::int), 'hex'), '')
		FROM generate_series(0, pg_relation_size('$ix') / current_setting('block_size')::int - 1) b});
	return pack('H*', $hex);
}

# Every file of a relation (all forks and segments), or of pg_wal, on a node.
sub files_bytes
{
	my ($n, $pattern) = @_;
	my $all = '';
	$all .= slurp_file($_) for grep { -f $_ } glob($n->data_dir . "/$pattern");
	return $all;
}

for my $n ($node, $standby)
{
	my $name = $n == $node ? 'primary' : 'standby';
	for my $ix ('faces_l2', 'faces_cos')
	{
		my $path = $n->safe_psql('postgres', "SELECT pg_relation_filepath('$ix')");
		my $bytes = files_bytes($n, "$path*") . index_pages($n, $ix);
		cmp_ok(length($bytes), '>', 8192, "$name: $ix files read");
		is(scalar(grep { index($bytes, $_) >= 0 } @codes), 0, "$name: no code in clear in $ix");
	}
	my $wal = files_bytes($n, 'pg_wal/0*');
	cmp_ok(length($wal), '>', 0, "$name: WAL read");
	is(scalar(grep { index($wal, $_) >= 0 } @codes), 0, "$name: no code in clear in WAL");
}
$standby->stop;

# Without the key provider a sealed index is never read or written.
$node->append_conf('postgresql.conf', "shared_preload_libraries = ''\n");
$node->restart;
for my $sql ("SET enable_seqscan = off; SELECT id FROM faces ORDER BY e OPERATOR(frt.<->) vec(1, $dim) LIMIT 1",
	"INSERT INTO faces VALUES (2000000, vec(1, $dim))",
	"SELECT * FROM frt.index_check('faces_l2')",
	"CREATE INDEX faces_more ON faces USING frt_ivf (e) WITH (sealed = true)")
{
	my ($rc, $o, $e) = $node->psql('core', "\\set VERBOSITY verbose\n$sql");
	like($e, qr/ERROR:  55000: .*(?:is sealed and no key provider|no key provider is loaded)/,
		"no provider: refused with 55000 ($sql)");
}
is($node->safe_psql('core', 'SELECT count(*) FROM faces WHERE id = 2000000'), '0',
	'no provider: nothing was written');
$node->append_conf('postgresql.conf', $provider_conf);
$node->restart;
is($node->safe_psql('core', "SELECT count(*) FROM frt.index_check('faces_l2')"), '0',
	'with the provider back the index is healthy');

# A sealed item changed on disk does not authenticate: index_check says
# which, and a scan fails rather than rank it.
my $path = $node->safe_psql('core', "SELECT pg_relation_filepath('faces_l2')");
my $blk = $node->safe_psql('core', q{SELECT 1 + get_byte(get_raw_page('faces_l2', 0), 48)
	+ 256 * get_byte(get_raw_page('faces_l2', 0), 49)});    # dirStart + dirPages
$node->stop;
my $file = $node->data_dir . "/$path";
open(my $fh, '+<:raw', $file) or die "open $file: $!";
seek($fh, $blk * 8192 + 24, 0) or die;
read($fh, my $lp, 4) == 4 or die;
my $item = $blk * 8192 + (unpack('V', $lp) & 0x7fff);
seek($fh, $item + 8 + 34 + 5, 0) or die;    # inside the first item's ciphertext
read($fh, my $byte, 1) == 1 or die;
seek($fh, $item + 8 + 34 + 5, 0) or die;
print $fh chr(ord($byte) ^ 0x20);
close($fh);
$node->start;
is($node->safe_psql('core', "SELECT kind || ' ' || blkno || ' ' || detail FROM frt.index_check('faces_l2') WHERE kind = 'sealed'"),
	"sealed $blk item 1 does not open (SQLSTATE XX001)", 'index_check reports the item that does not authenticate');
my ($rc, $o, $e) = $node->psql('core',
	"SET enable_seqscan = off; SET frt.exact = on; SELECT id FROM faces ORDER BY e OPERATOR(frt.<->) vec(1, $dim) LIMIT 1");
like($e, qr/ERROR/, 'a scan of the changed page fails instead of ranking it');
$node->stop;
done_testing();

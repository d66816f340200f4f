# frt_ivf crash safety: an immediate shutdown in the middle of a workload of
# inserts, deletes and VACUUM recovers to an index that passes
# frt.index_check and answers exactly as an exhaustive scan.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use FrtIvfTest;
use IPC::Run;

my $node = PostgreSQL::Test::Cluster->new('ivf_crash');
$node->init;
$node->append_conf('postgresql.conf', "checkpoint_timeout = '30s'\nmax_wal_size = '64MB'");
$node->start;
$node->safe_psql('postgres', ivf_setup_sql() . q{
	CREATE TABLE faces (id serial PRIMARY KEY, e frt.face_embedding(48));
	INSERT INTO faces (e) SELECT vec(i, 48) FROM generate_series(1, 2000) i;
	CREATE INDEX faces_ivf ON faces USING frt_ivf (e frt.face_cosine_ops) WITH (lists = 6);
	CREATE INDEX faces_flat ON faces USING frt_ivf (e frt.face_ip_ops);
});

# a workload that runs until the server dies
my $script = $node->basedir . '/work.sql';
PostgreSQL::Test::Utils::append_to_file($script, q{
\set r random(1, 1000000)
INSERT INTO faces (e) SELECT vec(:r + g, 48) FROM generate_series(1, 20) g;
DELETE FROM faces WHERE id IN (SELECT id FROM faces WHERE id % 97 = :r % 97 LIMIT 15);
});
my $vac = $node->basedir . '/vac.sql';
PostgreSQL::Test::Utils::append_to_file($vac, "VACUUM faces;\n");
my @bench = ('pgbench', '-n', '-c', '2', '-T', '60',
	'-f', "$script\@9", '-f', "$vac\@1", '-h', $node->host, '-p', $node->port, 'postgres');
my ($out, $err) = ('', '');
my $h = IPC::Run::start(\@bench, '>', \$out, '2>', \$err);
sleep 6;
my $rows_before = $node->safe_psql('postgres', 'SELECT count(*) FROM faces');
cmp_ok($rows_before, '>', 2000, 'workload was inserting when the server died');
$node->stop('immediate');
$h->finish;    # pgbench fails with the server gone; that is expected

$node->start;
ok(1, 'server recovered');
for my $ix ('faces_ivf', 'faces_flat')
{
	is($node->safe_psql('postgres', "SELECT count(*) FROM frt.index_check('$ix')"),
		'0', "index_check($ix) finds nothing after crash recovery");
}

for my $op ('<=>', '<#>')
{
	is(ivf_answers($node, 'SET frt.exact = on;', $op, 48, 777000, 10),
		ivf_answers($node, ivf_exhaustive(), $op, 48, 777000, 10),
		"after recovery exact mode = exhaustive scan ($op)");
}
# every row is reachable through the index
is($node->safe_psql('postgres', q{SET enable_seqscan = off;
	SELECT count(*) FROM (SELECT id FROM faces ORDER BY e OPERATOR(frt.<=>) vec(1, 48)) s}),
	$node->safe_psql('postgres', 'SELECT count(*) FROM faces'), 'a full index scan returns every row');

# the recovered index takes more work
$node->safe_psql('postgres', q{
	INSERT INTO faces (e) SELECT vec(i, 48) FROM generate_series(5000, 5500) i;
	DELETE FROM faces WHERE id % 5 = 0; VACUUM faces;});
is($node->safe_psql('postgres', "SELECT count(*) FROM frt.index_check('faces_ivf')"),
	'0', 'index healthy after more work');
$node->stop;
done_testing();

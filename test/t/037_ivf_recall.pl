# frt_ivf recall on face-like data: the default mode finds what an
# exhaustive scan finds, exact mode is identical, and frt.probes is a real
# speed / recall trade-off.
#
# The data is generated in SQL with a fixed seed, shaped like bench/facegen
# at small scale: 20,000 identities in 8 demographic clusters (a shared
# cluster centre plus an identity part), one gallery capture per identity,
# and 50 genuine probes (fresh captures of enrolled identities), 128
# dimensions.  The index has 100 lists, so the default mode searches 54 of
# them (5.4 * sqrt(lists)) and frt.probes = 5 only a few.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('ivf_recall');
$node->init;
$node->append_conf('postgresql.conf',
	"autovacuum = off\nmax_parallel_workers_per_gather = 0");
$node->start;

# one capture of each identity: the identity plus capture noise
my $capture = q{(SELECT array_agg((v[j] + 0.7 * (random() - 0.5))::real ORDER BY j)
				 FROM generate_series(1, 128) j WHERE i > 0)::frt.face_embedding(128)};
$node->safe_psql('postgres', qq{
	CREATE EXTENSION frt;
	SELECT setseed(0.42);
	CREATE TABLE centre AS
		SELECT c, array_agg((random() - 0.5)::real ORDER BY j) v
		FROM generate_series(0, 7) c, generate_series(1, 128) j GROUP BY c;
	CREATE TABLE ident AS
		SELECT i, (SELECT array_agg((0.6 * ce.v[j] + random() - 0.5)::real ORDER BY j)
				   FROM generate_series(1, 128) j WHERE i > 0) v
		FROM generate_series(1, 20000) i JOIN centre ce ON ce.c = i % 8;
	CREATE TABLE gallery AS SELECT i AS id, $capture AS e FROM ident;
	CREATE TABLE probes AS SELECT i AS id, $capture AS e FROM ident WHERE i % 400 = 7;
	VACUUM ANALYZE gallery;
});

# ground truth: the exhaustive scan's ten nearest ids and distances
sub make_truth
{
	$node->safe_psql('postgres', q{
		DROP TABLE IF EXISTS truth;
		SET enable_indexscan = off;
		CREATE TABLE truth AS
			SELECT p.id,
				   ARRAY(SELECT g.id FROM gallery g ORDER BY g.e OPERATOR(frt.<=>) p.e, g.id LIMIT 10) ids,
				   ARRAY(SELECT g.e OPERATOR(frt.<=>) p.e FROM gallery g
						 ORDER BY g.e OPERATOR(frt.<=>) p.e, g.id LIMIT 10) dists
			FROM probes p;});
}

# recall@10 against the truth, and genuine probes whose own capture is first
sub recall
{
	my ($settings) = @_;
	return $node->safe_psql('postgres', qq{
		SET enable_seqscan = off; $settings
		SELECT round(avg(hits) / 10, 4), count(*) FILTER (WHERE first = id)
		FROM (SELECT p.id, r.ids[1] AS first,
					 (SELECT count(*) FROM unnest(r.ids) x WHERE x = ANY (t.ids)) AS hits
			  FROM probes p JOIN truth t USING (id),
				   LATERAL (SELECT ARRAY(SELECT g.id FROM gallery g
										 ORDER BY g.e OPERATOR(frt.<=>) p.e LIMIT 10) ids) r) s;});
}

# probes whose exact-mode ids and distances equal the truth's
sub exact_identical
{
	return $node->safe_psql('postgres', q{
		SET enable_seqscan = off; SET frt.exact = on;
		SELECT count(*) FROM probes p JOIN truth t USING (id)
		WHERE ARRAY(SELECT g.id FROM gallery g ORDER BY g.e OPERATOR(frt.<=>) p.e LIMIT 10) = t.ids
		  AND ARRAY(SELECT g.e OPERATOR(frt.<=>) p.e FROM gallery g
					ORDER BY g.e OPERATOR(frt.<=>) p.e LIMIT 10) = t.dists;});
}

# index pages one query reads
sub pages_read
{
	my ($settings) = @_;
	my $plan = $node->safe_psql('postgres', qq{
		SET enable_seqscan = off; $settings
		EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF)
		SELECT id FROM gallery ORDER BY e OPERATOR(frt.<=>) (SELECT e FROM probes WHERE id = 407) LIMIT 10;});
	my ($buffers) = $plan =~ /Index Scan using g_ivf.*?\n\s+Order By.*?\n\s+Buffers: shared ([^\n]*)/s;
	return undef unless defined $buffers;
	my $pages = 0;
	$pages += $1 while $buffers =~ /(?:hit|read)=(\d+)/g;
	return $pages;
}

make_truth();
is($node->safe_psql('postgres', q{SELECT count(*) FROM truth WHERE ids[1] = id}),
	'50', 'the data is face-like: every genuine probe finds its own capture first exhaustively');

$node->safe_psql('postgres',
	'CREATE INDEX g_ivf ON gallery USING frt_ivf (e frt.face_cosine_ops) WITH (lists = 100)');

my ($r_default, $rank1_default) = split /\|/, recall('');
cmp_ok($r_default, '>=', 0.95, "default mode recall\@10 $r_default >= 0.95");
is($rank1_default, '50', 'default mode: rank-1 agrees on all 50 genuine probes');
is(exact_identical(), '50', 'exact mode: ids and distances identical to the exhaustive scan');

my ($r_few) = split /\|/, recall('SET frt.probes = 5;');
cmp_ok($r_few, '<', $r_default, "frt.probes = 5 trades recall ($r_few) for speed");
my $p_default = pages_read('');
my $p_exact = pages_read('SET frt.exact = on;');
my $p_few = pages_read('SET frt.probes = 5;');
ok(defined $p_default && defined $p_exact && defined $p_few, 'EXPLAIN shows the index pages read');
cmp_ok($p_few, '<', $p_default, "5 probes read fewer pages ($p_few) than the default ($p_default)");
cmp_ok($p_default, '<', $p_exact, "the default reads fewer pages than exact mode ($p_exact)");

# recall survives deleting 10 % of the gallery and VACUUM
$node->safe_psql('postgres', 'DELETE FROM gallery WHERE id % 10 = 3; VACUUM gallery;');
make_truth();
my ($r_after, $rank1_after) = split /\|/, recall('');
cmp_ok($r_after, '>=', 0.95, "after DELETE 10 % + VACUUM: recall\@10 $r_after >= 0.95");
is($rank1_after, '50', 'after DELETE + VACUUM: rank-1 still agrees on all genuine probes');
is(exact_identical(), '50', 'after DELETE + VACUUM: exact mode still identical');

$node->stop;
done_testing();

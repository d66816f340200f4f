# frt_ivf scans keep their memory within work_mem whatever the table size:
# the candidates of a batch are capped, and a scan that returns more rows
# than the cap holds ranks the batch again in passes (docs/index.md,
# "Scan memory").  With work_mem = 64kB on 30,000 rows, an exact ORDER BY
# scan and a threshold scan stay within 64 kB (measured mid-scan through
# pg_backend_memory_contexts, and as the peak the scan reports at DEBUG1),
# take several passes, and still answer exactly like an exhaustive scan.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FrtIvfTest;

my $rows = 30000;
my $dim = 16;
my $work_mem = 64 * 1024;

my $node = PostgreSQL::Test::Cluster->new('ivf_scan_mem');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'frt'\nmax_parallel_workers_per_gather = 0\n");
$node->start;
$node->safe_psql('postgres', ivf_setup_sql() . qq{
	CREATE TABLE faces (id int PRIMARY KEY, e frt.face_embedding($dim));
	INSERT INTO faces SELECT i, vec(i, $dim) FROM generate_series(1, $rows) i;
	CREATE INDEX faces_e ON faces USING frt_ivf (e frt.face_cosine_ops) WITH (lists = 50);
	ANALYZE faces;
});

my $probe = "vec(100001, $dim)";
my $dist = "e OPERATOR(frt.<=>) $probe";
my $index = "SET work_mem = '64kB'; SET enable_seqscan = off; SET extra_float_digits = 3;";

# a threshold that about a third of the rows pass
my $t = $node->safe_psql('postgres', ivf_exhaustive() . qq{
	SELECT percentile_disc(0.3) WITHIN GROUP (ORDER BY $dist) FROM faces});

# Memory of the scan's context after its first row, in a cursor.
sub context_bytes
{
	my ($gucs, $query) = @_;
	my $out = $node->safe_psql('postgres', qq{
		BEGIN; $index $gucs
		DECLARE c CURSOR FOR $query;
		FETCH 1 FROM c \\g /dev/null
		SELECT sum(total_bytes) FROM pg_backend_memory_contexts WHERE name = 'frt_ivf scan';
		COMMIT;});
	return $out;
}

# Run a query at client_min_messages = debug1; its output and the scan's
# DEBUG1 report (rows ranked, passes, batches, peak memory).
sub run_reported
{
	my ($gucs, $query) = @_;
	my ($rc, $out, $err) = $node->psql('postgres',
		"$index $gucs SET client_min_messages = debug1; $query");
	is($rc, 0, "query runs: $query");
	my %r;
	@r{qw(ranked passes batches peak)} = $err =~
	  /frt_ivf scan of "faces_e": (\d+) rows ranked in (\d+) passes over (\d+) batches, at most \d+ candidates, peak memory (\d+) bytes/;
	return ($out, \%r);
}

like($node->safe_psql('postgres', "$index SET frt.exact = on;
	EXPLAIN (COSTS OFF) SELECT id FROM faces ORDER BY $dist"),
	qr/Index Scan using faces_e/, 'the ordered scan uses the index');
like($node->safe_psql('postgres', "$index
	EXPLAIN (COSTS OFF) SELECT id FROM faces WHERE $dist < $t"),
	qr/Index Scan using faces_e/, 'so does the threshold scan');

# 1. memory mid-scan: before, each scan held every row's candidate (12 bytes)
my $bytes = context_bytes('SET frt.exact = on;', "SELECT id FROM faces ORDER BY $dist");
like($bytes, qr/^\d+$/, 'the exact scan has its memory context after the first row');
cmp_ok($bytes, '<=', $work_mem, 'holding at most work_mem');
$bytes = context_bytes('', "SELECT id FROM faces WHERE $dist < $t");
like($bytes, qr/^\d+$/, 'so has the threshold scan');
cmp_ok($bytes, '<=', $work_mem, 'holding at most work_mem too');

# 2. the whole exact order, through the index, in 64 kB
my ($out, $r) = run_reported('SET frt.exact = on;',
	"SELECT id, $dist FROM faces ORDER BY $dist");
cmp_ok($r->{peak} // 1e9, '<=', $work_mem, 'the exact scan peaks within work_mem');
cmp_ok($r->{passes} // 0, '>', $r->{batches} // 0, 'by ranking its batch in several passes');
my @got = map { [ split /\|/ ] } split /\n/, $out;
my $sorted = 1;
for my $i (1 .. $#got)
{
	$sorted = 0 if $got[$i][1] < $got[ $i - 1 ][1];
}
is(scalar(@got), $rows, 'it returns every row');
ok($sorted, 'in non-decreasing distance');
my $truth = $node->safe_psql('postgres', ivf_exhaustive() . qq{ SET extra_float_digits = 3;
	SELECT id, $dist FROM faces ORDER BY $dist, id});
is(join("\n", map { "$_->[0]|$_->[1]" } sort { $a->[1] <=> $b->[1] || $a->[0] <=> $b->[0] } @got),
	$truth, 'with the ids and distances of an exhaustive scan');

# and the usual top 10, for several probes
is(ivf_answers($node, "$index SET frt.exact = on;", '<=>', $dim, 200000, 5),
	ivf_answers($node, ivf_exhaustive(), '<=>', $dim, 200000, 5),
	'exact top 10 in 64 kB equals the exhaustive top 10');

# 3. the threshold scan in 64 kB
($out, $r) = run_reported('', "SELECT id FROM faces WHERE $dist < $t ORDER BY id");
cmp_ok($r->{peak} // 1e9, '<=', $work_mem, 'the threshold scan peaks within work_mem');
cmp_ok($r->{passes} // 0, '>', 1, 'in several passes');
is($out, $node->safe_psql('postgres', ivf_exhaustive() . qq{
	SELECT id FROM faces WHERE $dist < $t ORDER BY id}),
	'and returns exactly the rows of an exhaustive scan');
my @ids = split /\n/, $out;
cmp_ok(scalar(@ids), '>', $rows / 4, 'about a third of the table');

# 4. default mode, list by list: every row once, in passes per batch
($out, $r) = run_reported('SET frt.exact = off; SET frt.probes = 10;',
	"SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM faces ORDER BY $dist) s");
is($out, "$rows|$rows", 'a default-mode scan of the whole index returns every row once');
cmp_ok($r->{passes} // 0, '>', $r->{batches} // 0, 'ranking batches in passes');
cmp_ok($r->{peak} // 1e9, '<=', $work_mem, 'within work_mem');

# 5. with room for every candidate, one pass per batch
($out, $r) = run_reported("SET frt.exact = on; SET work_mem = '4MB';",
	"SELECT count(*) FROM (SELECT id FROM faces ORDER BY $dist) s");
is($r->{passes} // 0, $r->{batches} // -1, 'with 4 MB the scan ranks each batch once');

$node->stop;
done_testing();

# CREATE INDEX ... USING frt_ivf stays within maintenance_work_mem: the
# k-means sample is capped at half of it and the sort of rows by list
# spills to temporary files rather than growing in memory.  The index built
# in 1 MB is sound and answers exactly like one built with plenty of memory
# and like a sequential scan.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('ivf_mem');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'frt'\nlog_temp_files = 0\nmax_parallel_workers_per_gather = 0\n");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION frt;
	CREATE TABLE g (id int PRIMARY KEY, e frt.face_embedding(128) NOT NULL);
	SELECT setseed(0.5);
	INSERT INTO g SELECT i, (SELECT array_agg(random() - 0.5)::float4[]
							 FROM generate_series(1, 128) WHERE i > 0)::frt.face_embedding
	FROM generate_series(1, 20000) i;
	ANALYZE g;
	SET enable_indexscan = off;
	CREATE TABLE truth AS
	SELECT p.id AS probe, ARRAY(SELECT g.id FROM g ORDER BY g.e OPERATOR(frt.<=>) p.e, g.id LIMIT 10) AS ids
	FROM (SELECT id, e FROM g WHERE id <= 8) p;
});

# exact answers through the index for the probes of 'truth'
my $same_as_truth = q{
	SET frt.exact = on; SET enable_seqscan = off;
	SELECT count(*) FROM truth t
	WHERE t.ids = ARRAY(SELECT g.id FROM g ORDER BY g.e OPERATOR(frt.<=>) (SELECT e FROM g WHERE id = t.probe)
						LIMIT 10)};

# Build CREATE INDEX with maintenance_work_mem = $mem; return the k-means
# sample line and whether the server logged a temporary file meanwhile.
sub build
{
	my ($name, $mem) = @_;
	my $offset = -s $node->logfile;
	my ($rc, $out, $err) = $node->psql('postgres',
		"SET client_min_messages = debug1; SET maintenance_work_mem = '$mem';
		 CREATE INDEX $name ON g USING frt_ivf (e frt.face_cosine_ops) WITH (lists = 400)");
	is($rc, 0, "build with maintenance_work_mem = $mem succeeds");
	my $log = substr(slurp_file($node->logfile), $offset);
	my ($sample) = $err =~ /(k-means sample of \d+ rows \(at most \d+ under maintenance_work_mem\) for \d+ lists)/;
	return ($sample // '', $log =~ /temporary file: path/ ? 1 : 0);
}

# 1 MB: at most 512 kB of 512-byte rows in the sample, and the sort spills
my ($sample, $spilled) = build('g_small', '1MB');
is($sample, 'k-means sample of 1024 rows (at most 1024 under maintenance_work_mem) for 400 lists',
	'in 1 MB the k-means sample is capped at half of maintenance_work_mem');
is($spilled, 1, 'and the sort by list spilled to a temporary file');
is($node->safe_psql('postgres', q{SELECT count(*) FROM frt.index_check('g_small')}), '0',
	'the index built in 1 MB passes index_check');
is($node->safe_psql('postgres', $same_as_truth), '8',
	'and in exact mode answers like the sequential scan');
$node->safe_psql('postgres', 'DROP INDEX g_small');

# 64 MB: the whole sample the build wants (400 lists x 32 rows), no spill
($sample, $spilled) = build('g_big', '64MB');
is($sample, 'k-means sample of 12800 rows (at most 12800 under maintenance_work_mem) for 400 lists',
	'with 64 MB the build takes its full sample');
is($spilled, 0, 'and sorts in memory');
is($node->safe_psql('postgres', $same_as_truth), '8', 'the same exact answers');

$node->stop;
done_testing();

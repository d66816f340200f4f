# frt_ivf VACUUM: progress and the cost of a VACUUM with nothing to remove.
#
# 1. While the VACUUM leader erases an frt_ivf index, frt.ivf_vacuum_progress
#    shows the index and its blocks done / total (PostgreSQL 15 has no
#    per-index progress fields).  To give a poller time to see the index pass,
#    the test uses VACUUM's own cost-based delay (a standard setting, not
#    test-only code) and a table whose heap an earlier VACUUM truncated to
#    one page while the index kept its pages, so the delay falls almost only
#    on the index pass (about 50 pages x 20 ms).
# 2. A VACUUM that finds no dead rows reads no index page (amvacuumcleanup no
#    longer walks the index to count rows); a VACUUM with dead rows does.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('ivf_progress');
$node->init;
$node->append_conf('postgresql.conf', "autovacuum = off");
$node->start;

my $vec = q{(SELECT array_agg((sin(i * 0.37 + j) * 0.9)::real ORDER BY j)
			FROM generate_series(1, 64) j)::frt.face_embedding};
$node->safe_psql('postgres', qq{
	CREATE EXTENSION frt;
	CREATE TABLE faces (id int, e frt.face_embedding(64));
	INSERT INTO faces SELECT i, $vec FROM generate_series(1, 4000) i;
	CREATE INDEX faces_ivf ON faces USING frt_ivf (e frt.face_l2_ops) WITH (lists = 1);
	DELETE FROM faces;
	VACUUM faces;
	INSERT INTO faces SELECT i, $vec FROM generate_series(1, 20) i;
	DELETE FROM faces WHERE id % 2 = 0;
});
is($node->safe_psql('postgres', q{SELECT pg_relation_size('faces') / 8192}), '1',
	'the heap is one page');
# data pages: all blocks but the meta page and the one directory page
my $datapages = $node->safe_psql('postgres',
	q{SELECT pg_relation_size('faces_ivf') / 8192 - 2});
cmp_ok($datapages, '>=', 40, "the index has $datapages data pages");

is($node->safe_psql('postgres', 'SELECT count(*) FROM frt.ivf_vacuum_progress'), '0',
	'no progress row while nothing is vacuumed');

my $bg = $node->background_psql('postgres');
my $vpid = $bg->query_safe('SELECT pg_backend_pid()');
$bg->query_until(qr/started/, q{
SET vacuum_cost_delay = 20;
SET vacuum_cost_limit = 1;
\echo started
VACUUM (PARALLEL 0) faces;
});
ok( $node->poll_query_until('postgres', qq{
	SELECT count(*) = 1 FROM frt.ivf_vacuum_progress
	 WHERE pid = $vpid AND indexrelid = 'faces_ivf'::regclass
	   AND phase = 'vacuuming indexes' AND blocks_done < blocks_total}),
	'progress shows the frt_ivf index while VACUUM erases it');
my ($total, $done) = split /\|/, $node->safe_psql('postgres',
	"SELECT blocks_total, blocks_done FROM frt.ivf_vacuum_progress WHERE pid = $vpid");
is($total, $datapages, 'blocks_total is the number of data pages');
ok( $node->poll_query_until('postgres', qq{
	SELECT coalesce((SELECT blocks_done > $done FROM frt.ivf_vacuum_progress
					  WHERE pid = $vpid), true)}),
	'blocks_done advances');
$bg->query_safe('SELECT pg_stat_force_next_flush()');	# returns once VACUUM has finished
$bg->quit;
is($node->safe_psql('postgres', 'SELECT count(*) FROM frt.ivf_vacuum_progress'), '0',
	'no progress row once VACUUM has finished');
is($node->safe_psql('postgres', q{SELECT count(*) FROM frt.index_check('faces_ivf');
	SELECT pg_stat_force_next_flush()}), "0\n", 'index_check finds nothing');

# index blocks read by a statement (its session flushes its statistics
# before it returns: pg_stat_force_next_flush)
sub index_blocks_read_by
{
	my ($sql) = @_;
	my $q = q{SELECT idx_blks_hit + idx_blks_read FROM pg_statio_all_indexes
			  WHERE indexrelid = 'faces_ivf'::regclass};
	my $before = $node->safe_psql('postgres', $q);
	$node->safe_psql('postgres', "$sql;\nSELECT pg_stat_force_next_flush();");
	return $node->safe_psql('postgres', $q) - $before;
}
$node->safe_psql('postgres', qq{INSERT INTO faces SELECT i, $vec FROM generate_series(101, 150) i;
	SELECT pg_stat_force_next_flush()});
is(index_blocks_read_by('VACUUM faces'), 0,
	'a VACUUM with no dead rows reads no index page');
cmp_ok(index_blocks_read_by('DELETE FROM faces WHERE id > 140; VACUUM faces'), '>=', $datapages,
	'a VACUUM with dead rows reads every data page');
$node->stop;
done_testing();

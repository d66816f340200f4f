# frt_ivf build: two builds over the same rows write the same index.
#
# The build samples rows for k-means and loads them through table scans.
# A scan of a table larger than a quarter of shared_buffers may be a
# synchronized scan, starting wherever another scan of the table last
# reported its position; the sample (so the centroids and every list)
# would then depend on the previous query.  The build reads from block 0,
# so after a partial sequential scan leaves the position mid-table a second
# build must produce byte-identical pages (apart from each page's LSN).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('ivf_repeatable');
$node->init;
# 128 buffers: any table over 32 pages may be scanned synchronized
$node->append_conf('postgresql.conf', "shared_buffers = 1MB\nautovacuum = off");
$node->start;

my $vec = q{(SELECT array_agg((sin(i * 0.37 + j * (1 + i % 7)) * 0.9)::real ORDER BY j)
			FROM generate_series(1, 32) j)::frt.face_embedding};
$node->safe_psql('postgres', qq{
	CREATE EXTENSION frt;
	CREATE EXTENSION pageinspect;
	CREATE TABLE faces (id int, e frt.face_embedding(32));
	INSERT INTO faces SELECT i, $vec FROM generate_series(1, 30000) i;
	VACUUM ANALYZE faces;
});
my $heap_pages = $node->safe_psql('postgres',
	q{SELECT pg_relation_size('faces') / 8192});
cmp_ok($heap_pages, '>', 4 * 32, "the heap ($heap_pages pages) is over a quarter of shared_buffers");

# md5 of every page of an index, without the page header's LSN and checksum
sub index_digest
{
	my ($name) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT md5(string_agg(md5(substr(get_raw_page('$name', b::int), 13)), '' ORDER BY b))
		FROM generate_series(0, pg_relation_size('$name') / 8192 - 1) b});
}

# leave the synchronized-scan position in the middle of the table
sub partial_scan
{
	$node->safe_psql('postgres', q{
		SET synchronize_seqscans = on;
		SELECT count(*) FROM (SELECT id FROM faces LIMIT 17000) s;});
}

for my $lists (1, 24)
{
	partial_scan();
	$node->safe_psql('postgres',
		"CREATE INDEX faces_a ON faces USING frt_ivf (e frt.face_cosine_ops) WITH (lists = $lists)");
	partial_scan();
	$node->safe_psql('postgres',
		"CREATE INDEX faces_b ON faces USING frt_ivf (e frt.face_cosine_ops) WITH (lists = $lists)");
	is($node->safe_psql('postgres',
			q{SELECT pg_relation_size('faces_a') = pg_relation_size('faces_b')}),
		't', "lists = $lists: both builds have the same size");
	is(index_digest('faces_a'), index_digest('faces_b'),
		"lists = $lists: both builds wrote the same pages");
	$node->safe_psql('postgres', 'DROP INDEX faces_a; DROP INDEX faces_b;');
}

$node->stop;
done_testing();

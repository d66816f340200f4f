# frt_ivf on a streaming replica: after inserts, deletes and VACUUM on the
# primary, the replica's index answers exactly as the primary's, both equal
# an exhaustive scan in exact mode, and frt.index_check finds nothing.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use FrtIvfTest;

my $primary = PostgreSQL::Test::Cluster->new('ivf_primary');
$primary->init(allows_streaming => 1);
$primary->start;
$primary->backup('b1');
my $replica = PostgreSQL::Test::Cluster->new('ivf_replica');
$replica->init_from_backup($primary, 'b1', has_streaming => 1);
$replica->start;

$primary->safe_psql('postgres', ivf_setup_sql() . q{
	CREATE TABLE faces (id int PRIMARY KEY, e frt.face_embedding(64));
	INSERT INTO faces SELECT i, vec(i, 64) FROM generate_series(1, 3000) i;
	CREATE INDEX faces_ivf ON faces USING frt_ivf (e frt.face_cosine_ops) WITH (lists = 8);
	CREATE INDEX faces_flat ON faces USING frt_ivf (e frt.face_l2_ops) WITH (lists = 1);
	INSERT INTO faces SELECT i, vec(i, 64) FROM generate_series(3001, 5000) i;
	DELETE FROM faces WHERE id % 4 = 0;
	VACUUM faces;
	INSERT INTO faces SELECT i, vec(i, 64) FROM generate_series(5001, 5600) i;
	UPDATE faces SET e = vec(id + 200000, 64) WHERE id % 10 = 1;
	DELETE FROM faces WHERE id % 7 = 0;
	VACUUM faces;
});
$primary->wait_for_catchup($replica);


for my $op ('<=>', '<->')
{
	my $exact_p = ivf_answers($primary, 'SET frt.exact = on;', $op, 64, 90000, 12, 'id');
	my $exact_r = ivf_answers($replica, 'SET frt.exact = on;', $op, 64, 90000, 12, 'id');
	my $default_p = ivf_answers($primary, '', $op, 64, 90000, 12, 'id');
	my $default_r = ivf_answers($replica, '', $op, 64, 90000, 12, 'id');
	is($exact_r, $exact_p, "replica = primary in exact mode ($op)");
	is($default_r, $default_p, "replica = primary in default mode ($op)");
	is(ivf_answers($primary, 'SET frt.exact = on;', $op, 64, 90000, 12),
		ivf_answers($primary, ivf_exhaustive(), $op, 64, 90000, 12),
		"exact mode = exhaustive scan, same distances at every rank ($op)");
	my $plan = $replica->safe_psql('postgres', qq{SET enable_seqscan = off;
		EXPLAIN (COSTS OFF) SELECT id FROM faces ORDER BY e OPERATOR(frt.$op) vec(1, 64) LIMIT 10});
	like($plan, qr/Index Scan using faces_(ivf|flat)/, "replica scans the index ($op)");
}

for my $node ($primary, $replica)
{
	for my $ix ('faces_ivf', 'faces_flat')
	{
		is($node->safe_psql('postgres', "SELECT count(*) FROM frt.index_check('$ix')"),
			'0', $node->name . ": index_check($ix) finds nothing");
	}
}

# the replica refuses writes but its index stays usable after more WAL
$primary->safe_psql('postgres', q{
	DELETE FROM faces WHERE id < 500;
	VACUUM faces;
	INSERT INTO faces SELECT i, vec(i, 64) FROM generate_series(6001, 6500) i;
});
$primary->wait_for_catchup($replica);
is(ivf_answers($replica, 'SET frt.exact = on;', '<=>', 64, 90000, 12, 'id'),
	ivf_answers($primary, 'SET frt.exact = on;', '<=>', 64, 90000, 12, 'id'),
	'replica = primary after more deletes, VACUUM and inserts');
is($replica->safe_psql('postgres', q{SELECT count(*) FROM frt.index_check('faces_ivf')}),
	'0', 'replica index healthy after more WAL');

done_testing();

# frt_ivf on a streaming replica: after inserts, deletes and VACUUM on the
# primary, the replica's index answers exactly as the primary's, both equal
# an exhaustive scan in exact mode, and frt.index_check finds nothing.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('ivf_primary');
$primary->init(allows_streaming => 1);
$primary->start;
$primary->backup('b1');
my $replica = PostgreSQL::Test::Cluster->new('ivf_replica');
$replica->init_from_backup($primary, 'b1', has_streaming => 1);
$replica->start;

$primary->safe_psql('postgres', q{
	CREATE EXTENSION frt;
	CREATE FUNCTION vec(i int, d int) RETURNS frt.face_embedding LANGUAGE sql IMMUTABLE AS $$
		SELECT array_agg((sin((i % 41) * 1.3 + j * 0.7) + 0.4 * sin(i * 12.9898 + j * 78.233))::real
						 ORDER BY j)::real[]::frt.face_embedding FROM generate_series(1, d) j $$;
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

# the top 10 of 12 probes, as one string per mode and operator
sub answers
{
	my ($node, $gucs, $op) = @_;
	return $node->safe_psql('postgres', qq{
		SET enable_seqscan = off; $gucs
		SELECT string_agg(r, ' ' ORDER BY k) FROM (
			SELECT k, (SELECT string_agg(id::text, ',') FROM
						(SELECT id FROM faces ORDER BY e OPERATOR(frt.$op) vec(90000 + k, 64) LIMIT 10) s) AS r
			FROM generate_series(1, 12) k) t});
}

for my $op ('<=>', '<->')
{
	my $exact_p = answers($primary, 'SET frt.exact = on;', $op);
	my $exact_r = answers($replica, 'SET frt.exact = on;', $op);
	my $default_p = answers($primary, '', $op);
	my $default_r = answers($replica, '', $op);
	my $exhaustive = answers($primary, 'SET enable_indexscan = off; SET enable_seqscan = on;', $op);
	is($exact_r, $exact_p, "replica = primary in exact mode ($op)");
	is($default_r, $default_p, "replica = primary in default mode ($op)");
	is($exact_p, $exhaustive, "exact mode = exhaustive scan ($op)");
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
is(answers($replica, 'SET frt.exact = on;', '<=>'), answers($primary, 'SET frt.exact = on;', '<=>'),
	'replica = primary after more deletes, VACUUM and inserts');
is($replica->safe_psql('postgres', q{SELECT count(*) FROM frt.index_check('faces_ivf')}),
	'0', 'replica index healthy after more WAL');

done_testing();

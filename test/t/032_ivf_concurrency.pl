# frt_ivf under concurrency: pgbench clients insert, delete, search and
# VACUUM at once without errors; afterwards the index passes
# frt.index_check and exact mode equals an exhaustive scan.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use FrtIvfTest;

my $node = PostgreSQL::Test::Cluster->new('ivf_conc');
$node->init;
$node->start;
$node->safe_psql('postgres', ivf_setup_sql() . q{
	CREATE TABLE faces (id serial PRIMARY KEY, e frt.face_embedding(32));
	INSERT INTO faces (e) SELECT vec(i, 32) FROM generate_series(1, 2000) i;
	CREATE INDEX faces_ivf ON faces USING frt_ivf (e frt.face_cosine_ops) WITH (lists = 4);
	CREATE INDEX faces_l2 ON faces USING frt_ivf (e frt.face_l2_ops);
	ALTER DATABASE postgres SET frt.exact = on;
	ALTER DATABASE postgres SET enable_seqscan = off;
});

$node->pgbench(
	'-n -c 4 -j 2 -T 20',
	0,
	[qr{processed: [1-9]}],
	[qr{^$}],
	'concurrent insert, delete, search, vacuum',
	{
		'ivf_insert@4' => q{
\set r random(1, 1000000)
INSERT INTO faces (e) SELECT vec(:r + g, 32) FROM generate_series(1, 5) g;
},
		'ivf_delete@3' => q{
\set r random(1, 1000000)
DELETE FROM faces WHERE id IN (SELECT id FROM faces WHERE id % 53 = :r % 53 LIMIT 4);
},
		'ivf_search@6' => q{
\set r random(1, 1000000)
SELECT count(*) FROM (SELECT id FROM faces ORDER BY e OPERATOR(frt.<=>) vec(:r, 32) LIMIT 10) s;
SELECT count(*) FROM (SELECT id FROM faces ORDER BY e OPERATOR(frt.<->) vec(:r, 32) LIMIT 5) s;
},
		'ivf_vacuum@1' => q{
VACUUM faces;
},
	});

for my $ix ('faces_ivf', 'faces_l2')
{
	is($node->safe_psql('postgres', "SELECT count(*) FROM frt.index_check('$ix')"),
		'0', "index_check($ix) finds nothing after the concurrent run");
}
$node->safe_psql('postgres', 'VACUUM faces');
is($node->safe_psql('postgres', "SELECT count(*) FROM frt.index_check('faces_ivf')"),
	'0', 'and after a final VACUUM');

for my $op ('<=>', '<->')
{
	is(ivf_answers($node, '', $op, 32, 555000, 10), ivf_answers($node, ivf_exhaustive(), $op, 32, 555000, 10),
		"exact mode = exhaustive scan after the concurrent run ($op)");
}
$node->stop;
done_testing();

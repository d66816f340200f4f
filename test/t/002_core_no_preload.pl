# The core extension on its own, on a server whose shared_preload_libraries
# is empty: CREATE EXTENSION frt creates no roles and starts no background
# process; an frt_ivf index answers exact top-k and distance-threshold
# queries from the first query of a session, loaded on first use; the
# result always equals an exhaustive scan.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('core');
$node->init;
$node->start;
is($node->safe_psql('postgres', 'SHOW shared_preload_libraries'), '', 'nothing is preloaded');

$node->safe_psql('postgres', q{
	CREATE EXTENSION frt;
	CREATE TABLE faces (id int PRIMARY KEY, e frt.face_embedding(64));
	INSERT INTO faces
	SELECT i, array_agg((sin(i * 0.37 + j) + 0.3 * cos((i % 17) * j))::real ORDER BY j)::real[]
	  FROM generate_series(1, 4000) i, generate_series(1, 64) j GROUP BY i;
	CREATE INDEX faces_e ON faces USING frt_ivf (e frt.face_cosine_ops) WITH (lists = 16);
	ANALYZE faces;
	CREATE TABLE probes AS SELECT id, e FROM faces WHERE id IN (7, 1234);
});
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_roles WHERE rolname LIKE 'frt%'}),
	'0', 'CREATE EXTENSION frt creates no role');
is($node->safe_psql('postgres',
		q{SELECT count(*) FROM pg_stat_activity WHERE backend_type ILIKE '%frt%'}),
	'0', 'and starts no background worker');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM pg_depend d JOIN pg_extension x ON x.oid = d.refobjid
	 WHERE x.extname = 'frt' AND d.deptype = 'e' AND d.classid = 'pg_class'::regclass
	   AND (SELECT relkind FROM pg_class WHERE oid = d.objid) = 'r'}),
	'0', 'the core owns no table');

# Any role may use the type, operators and index.
$node->safe_psql('postgres', q{
	CREATE ROLE plain LOGIN;
	GRANT SELECT ON faces TO plain;
});
is($node->safe_psql('postgres', q{SET ROLE plain; SELECT count(*) FROM faces
	WHERE e OPERATOR(frt.<=>) (SELECT e FROM faces WHERE id = 1) < 2}), '4000',
	'a role with no grant beyond the table uses the operators');

# Each query below runs in a new session, so the library is loaded on first
# use inside it.
my $probe = $node->safe_psql('postgres', 'SELECT e FROM faces WHERE id = 7');

my $topk = "SELECT string_agg(id::text, ',') FROM (SELECT id FROM faces "
  . "ORDER BY e OPERATOR(frt.<=>) '$probe' LIMIT 10) s";
my $plan = $node->safe_psql('postgres',
	"SET frt.exact = on; EXPLAIN (COSTS OFF) SELECT id FROM faces ORDER BY e OPERATOR(frt.<=>) '$probe' LIMIT 10");
like($plan, qr/Index Scan using faces_e/, 'exact top-k uses the frt_ivf index');
my $exact = $node->safe_psql('postgres', "SET frt.exact = on; $topk");
my $seq = $node->safe_psql('postgres', "SET enable_indexscan = off; SET enable_bitmapscan = off; $topk");
is($exact, $seq, 'exact mode returns what an exhaustive scan returns');
like($exact, qr/^7,/, 'the probe finds itself first');

# A threshold with the probe as a bound parameter: the planner rewrite
# applies to the session's first query.
my $thr = "PREPARE q(frt.face_embedding) AS SELECT string_agg(id::text, ',' ORDER BY id) FROM faces "
  . "WHERE e OPERATOR(frt.<=>) \$1 < 0.02; ";
$plan = $node->safe_psql('postgres',
	"SET enable_seqscan = off; PREPARE p(frt.face_embedding) AS SELECT id FROM faces "
	  . "WHERE e OPERATOR(frt.<=>) \$1 < 0.02; EXPLAIN (COSTS OFF) EXECUTE p('$probe')");
like($plan, qr/Index Cond: \(e OPERATOR\(frt\.<<=>\)/,
	'a threshold is an frt_ivf index condition in the first query of a session');
my $within = $node->safe_psql('postgres', "SET enable_seqscan = off; $thr EXECUTE q('$probe')");
my $within_seq = $node->safe_psql('postgres',
	"SET enable_indexscan = off; SET enable_bitmapscan = off; $thr EXECUTE q('$probe')");
is($within, $within_seq, 'threshold through the index equals the exhaustive scan');
like($within, qr/\b7\b/, 'the threshold finds the probe');

# The probe from a table in a session's very first query: planned before
# the library is loaded, so without the rewrite; still the right answer.
my $sub = "SELECT string_agg(id::text, ',' ORDER BY id) FROM faces "
  . "WHERE e OPERATOR(frt.<=>) (SELECT e FROM probes WHERE id = 7) < 0.02";
is($node->safe_psql('postgres', $sub), $within_seq, 'probe from a subquery: same answer');

# Dump and restore of the core alone.
my $dump = $node->basedir . '/core.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-d', $node->connstr('postgres'), '-f', $dump ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '-d', $node->connstr('restored'), $dump ], 'pg_restore');
is($node->safe_psql('restored', "SET frt.exact = on; $topk"), $seq,
	'the restored table and index answer the same');

# DROP EXTENSION leaves no role, and no object but the empty schema.
$node->safe_psql('postgres', 'DROP TABLE faces, probes; DROP EXTENSION frt');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_class WHERE relnamespace = 'frt'::regnamespace}),
	'0', 'DROP EXTENSION frt removes every object');

$node->stop;
done_testing();

# frt_ivf distance thresholds (WHERE e <=> p < t, rewritten into an index
# condition by the planner hook): on a larger random table with NULLs, zero
# vectors and deleted rows, threshold queries return exactly what an
# exhaustive scan returns, for every metric, < and <=, thresholds equal to a
# row's own distance, in exact and default mode; the index is used and the
# scan stops early.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use FrtIvfTest;

my $node = PostgreSQL::Test::Cluster->new('ivf_threshold');
$node->init;
$node->start;
$node->safe_psql('postgres', ivf_setup_sql() . q{
	SELECT setseed(0.314);
	CREATE TABLE faces (id int PRIMARY KEY, e frt.face_embedding(64));
	INSERT INTO faces
	SELECT i, (SELECT array_agg((sin((i % 60) * 1.3 + j * 0.7) + 0.6 * (random() - 0.5))::real
								ORDER BY j)
			   FROM generate_series(1, 64) j)::real[]::frt.face_embedding
	FROM generate_series(1, 20000) i;
	UPDATE faces SET e = NULL WHERE id % 997 = 0;
	UPDATE faces SET e = array_fill(0, ARRAY[64])::real[]::frt.face_embedding WHERE id % 1999 = 1;
	CREATE INDEX faces_cos ON faces USING frt_ivf (e frt.face_cosine_ops) WITH (lists = 20);
	CREATE INDEX faces_l2 ON faces USING frt_ivf (e frt.face_l2_ops);
	CREATE INDEX faces_ip ON faces USING frt_ivf (e frt.face_ip_ops) WITH (lists = 8);
	DELETE FROM faces WHERE id % 13 = 0;
	ANALYZE faces;
	CREATE TABLE probes AS
	SELECT k, (SELECT array_agg((sin((k * 7 % 60) * 1.3 + j * 0.7) + 0.6 * (random() - 0.5))::real
								ORDER BY j)
			   FROM generate_series(1, 64) j)::real[]::frt.face_embedding AS p
	FROM generate_series(1, 15) k;

	-- For each probe and metric, thresholds equal to the distances of the
	-- 1st, 10th, 100th and 1000th nearest row (so '<' and '<=' differ), and
	-- for each the ids (and, with ORDER BY, the distances in order) through
	-- the index and exhaustively.  Returns the cases and the mismatches.
	CREATE FUNCTION check_thresholds(OUT cases int, OUT bad int, OUT no_index int)
	LANGUAGE plpgsql AS $f$
	DECLARE
		r record;
		op text;
		cmp text;
		t float8;
		ds float8[];
		a text;
		b text;
		q text;
		line text;
		used bool;
	BEGIN
		cases := 0; bad := 0; no_index := 0;
		FOR r IN SELECT * FROM probes ORDER BY k LOOP
			FOREACH op IN ARRAY ARRAY['<=>', '<->', '<#>'] LOOP
				PERFORM set_config('enable_indexscan', 'off', true);
				EXECUTE format('SELECT array_agg(d) FROM (SELECT e OPERATOR(frt.%s) $1 AS d FROM faces
								WHERE e IS NOT NULL ORDER BY 1 LIMIT 1000) s', op) INTO ds USING r.p;
				FOREACH t IN ARRAY ARRAY[ds[1], ds[10], ds[100], ds[1000]] LOOP
					FOREACH cmp IN ARRAY ARRAY['<', '<='] LOOP
						FOREACH q IN ARRAY ARRAY[
							format('SELECT string_agg(id::text, '','' ORDER BY id) FROM faces
									WHERE e OPERATOR(frt.%s) $1 %s $2', op, cmp),
							format('SELECT string_agg(d::text, '','') FROM (SELECT e OPERATOR(frt.%s) $1 AS d
									FROM faces WHERE $2 %s e OPERATOR(frt.%s) $1 ORDER BY e OPERATOR(frt.%s) $1) s',
								   op, CASE cmp WHEN '<' THEN '>' ELSE '>=' END, op, op)] LOOP
							PERFORM set_config('enable_indexscan', 'off', true);
							PERFORM set_config('enable_seqscan', 'on', true);
							EXECUTE q INTO a USING r.p, t;
							PERFORM set_config('enable_indexscan', 'on', true);
							PERFORM set_config('enable_seqscan', 'off', true);
							EXECUTE q INTO b USING r.p, t;
							used := false;
							FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q USING r.p, t LOOP
								used := used OR line LIKE '%Index Cond: %<<%';
							END LOOP;
							cases := cases + 1;
							IF a IS DISTINCT FROM b THEN
								bad := bad + 1;
								RAISE WARNING 'mismatch: probe % op % % %', r.k, op, cmp, t;
							END IF;
							IF NOT used THEN
								no_index := no_index + 1;
							END IF;
						END LOOP;
					END LOOP;
				END LOOP;
			END LOOP;
		END LOOP;
	END
	$f$;

	-- Rows the index scan handed to the executor for a threshold query.
	CREATE FUNCTION fetched(q text, p frt.face_embedding, t float8) RETURNS bigint
	LANGUAGE plpgsql AS $f$
	DECLARE
		plan json;
	BEGIN
		PERFORM set_config('enable_seqscan', 'off', true);
		EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, FORMAT JSON) ' || q INTO plan USING p, t;
		RETURN (SELECT sum((n->>'Actual Rows')::bigint + COALESCE((n->>'Rows Removed by Index Recheck')::bigint, 0))
				FROM jsonb_path_query(plan::jsonb, 'strict $.**') AS n
				WHERE jsonb_typeof(n) = 'object' AND n->>'Node Type' = 'Index Scan');
	END
	$f$;
});

my %modes = (
	exact => 'SET frt.exact = on;',
	default => 'SET frt.exact = off; SET frt.probes = 1;');
for my $mode (sort keys %modes)
{
	my $res = $node->safe_psql('postgres',
		"$modes{$mode} SELECT cases, bad, no_index FROM check_thresholds()");
	my ($cases, $bad, $noindex) = split /\|/, $res;
	is($cases, 15 * 3 * 4 * 2 * 2, "$mode mode: all threshold cases ran");
	is($bad, 0, "$mode mode: threshold queries return what an exhaustive scan returns");
	is($noindex, 0, "$mode mode: every threshold query used an index condition");
}

# The early stop: for thresholds at the 100th nearest row, the scans hand the
# executor a few hundred rows in all, not the ~18,400 live rows each.
for my $op ('<=>', '<->', '<#>')
{
	my $fetched = $node->safe_psql('postgres', qq{
		SELECT max(fetched('SELECT id FROM faces WHERE e OPERATOR(frt.$op) \$1 < \$2', p,
						   (SELECT e OPERATOR(frt.$op) p FROM faces WHERE e IS NOT NULL
							ORDER BY 1 OFFSET 99 LIMIT 1)))
		FROM probes});
	cmp_ok($fetched, '<', 1000, "$op: a threshold scan stops early (at most $fetched rows fetched)");
	cmp_ok($fetched, '>=', 100, "$op: and fetches at least the qualifying rows");
}

$node->stop;
done_testing();

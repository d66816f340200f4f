-- frt_ivf: distance thresholds (WHERE e <=> p < t) become index conditions
-- (planner hook), return every and only qualifying row, and stop early.
SET client_min_messages = warning;

\set ECHO none
\i test/sql/ivf_fixture.sql
\set ECHO all

CREATE TABLE th (id int PRIMARY KEY, e frt.face_embedding(32));
INSERT INTO th SELECT i, pg_temp.vec(i, 32) FROM generate_series(1, 3000) i;
INSERT INTO th VALUES (3001, NULL);
-- a zero vector: its cosine distance is NaN
INSERT INTO th SELECT 3002, array_fill(0, ARRAY[32])::real[]::frt.face_embedding;
CREATE INDEX th_cos ON th USING frt_ivf (e frt.face_cosine_ops) WITH (lists = 4);
CREATE INDEX th_l2 ON th USING frt_ivf (e frt.face_l2_ops);
CREATE INDEX th_ip ON th USING frt_ivf (e frt.face_ip_ops);
ANALYZE th;
CREATE TABLE pr (k int, p frt.face_embedding);
INSERT INTO pr VALUES (1, pg_temp.vec(7, 32)), (2, pg_temp.vec(20, 32)), (3, '[1,2,3]'), (4, pg_temp.vec(44, 32));

-- Run query q through the index (sequential scans off) and exhaustively
-- (index scans off): rows, rows only in the first, rows only in the second,
-- and whether the first plan had an index condition.  With 'ordered', the
-- output position is part of each row.
CREATE FUNCTION pg_temp.check(q text, ordered bool DEFAULT false,
	OUT n bigint, OUT extra bigint, OUT missing bigint, OUT index_cond bool)
LANGUAGE plpgsql AS $$
DECLARE
	w text := CASE WHEN ordered THEN 'SELECT row_number() OVER () AS rn, s.* FROM (' || q || ') s'
				   ELSE q END;
	line text;
BEGIN
	index_cond := false;
	PERFORM set_config('enable_seqscan', 'off', true);
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
		index_cond := index_cond OR line LIKE '%Index Cond: %<<%';
	END LOOP;
	EXECUTE 'CREATE TEMP TABLE chk_a AS ' || w;
	PERFORM set_config('enable_seqscan', 'on', true);
	PERFORM set_config('enable_indexscan', 'off', true);
	PERFORM set_config('enable_bitmapscan', 'off', true);
	EXECUTE 'CREATE TEMP TABLE chk_b AS ' || w;
	PERFORM set_config('enable_indexscan', 'on', true);
	PERFORM set_config('enable_bitmapscan', 'on', true);
	SELECT count(*) INTO n FROM chk_a;
	SELECT count(*) INTO extra FROM (SELECT * FROM chk_a EXCEPT ALL SELECT * FROM chk_b) x;
	SELECT count(*) INTO missing FROM (SELECT * FROM chk_b EXCEPT ALL SELECT * FROM chk_a) x;
	DROP TABLE chk_a, chk_b;
END
$$;

-- Rows the index scan handed to the executor (returned + removed by the
-- recheck) for query q: with the early stop, a small part of the table.
CREATE FUNCTION pg_temp.fetched(q text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	plan json;
BEGIN
	PERFORM set_config('enable_seqscan', 'off', true);
	EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, FORMAT JSON) ' || q INTO plan;
	RETURN (SELECT sum((n->>'Actual Rows')::bigint + COALESCE((n->>'Rows Removed by Index Recheck')::bigint, 0))
			FROM jsonb_path_query(plan::jsonb, 'strict $.**') AS n
			WHERE jsonb_typeof(n) = 'object' AND n->>'Node Type' = 'Index Scan');
END
$$;

-- EXPLAIN: the clause becomes an index condition with each metric, both
-- comparison directions, with and without ORDER BY
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM th WHERE e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 1) < 0.05;
EXPLAIN (COSTS OFF) SELECT id FROM th WHERE e OPERATOR(frt.<->) (SELECT p FROM pr WHERE k = 1) <= 1.3
	ORDER BY e OPERATOR(frt.<->) (SELECT p FROM pr WHERE k = 1);
EXPLAIN (COSTS OFF) SELECT id FROM th WHERE -17.0 > e OPERATOR(frt.<#>) (SELECT p FROM pr WHERE k = 1);
EXPLAIN (COSTS OFF) SELECT id FROM th WHERE 0.05::real >= e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 1);
-- the threshold alone makes the index the cheaper plan on a big table
RESET enable_seqscan;
CREATE TABLE big (id int, e frt.face_embedding(512));
INSERT INTO big SELECT i, pg_temp.vec(i, 512) FROM generate_series(1, 4000) i;
CREATE INDEX ON big USING frt_ivf (e);
ANALYZE big;
CREATE TABLE bigpr AS SELECT pg_temp.vec(7, 512) AS p;
EXPLAIN (COSTS OFF) SELECT id FROM big WHERE e OPERATOR(frt.<=>) (SELECT p FROM bigpr) < 0.05;
SELECT count(*) FROM big WHERE e OPERATOR(frt.<=>) (SELECT p FROM bigpr) < 0.05;
SELECT pg_temp.fetched($$SELECT id FROM big WHERE e OPERATOR(frt.<=>) (SELECT p FROM bigpr) < 0.05$$) < 400 AS stops_early;
DROP TABLE big, bigpr;

-- results equal an exhaustive scan: cosine, L2, inner product; < and <=;
-- commuted; with and without ORDER BY; LIMIT; several keys
SELECT * FROM pg_temp.check($$SELECT id FROM th WHERE e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 1) < 0.05$$);
SELECT * FROM pg_temp.check($$SELECT id FROM th WHERE e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 1) <= 0.05
	ORDER BY e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 1)$$, true);
SELECT * FROM pg_temp.check($$SELECT id FROM th WHERE 0.05 > e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 2)
	ORDER BY e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 2) LIMIT 20$$, true);
SELECT * FROM pg_temp.check($$SELECT id FROM th WHERE e OPERATOR(frt.<->) (SELECT p FROM pr WHERE k = 1) < 1.3$$);
SELECT * FROM pg_temp.check($$SELECT id FROM th WHERE 1.3 >= e OPERATOR(frt.<->) (SELECT p FROM pr WHERE k = 2)
	ORDER BY e OPERATOR(frt.<->) (SELECT p FROM pr WHERE k = 2)$$, true);
SELECT * FROM pg_temp.check($$SELECT id FROM th WHERE e OPERATOR(frt.<#>) (SELECT p FROM pr WHERE k = 1) <= -17.0$$);
SELECT * FROM pg_temp.check($$SELECT id FROM th WHERE -17.0 > e OPERATOR(frt.<#>) (SELECT p FROM pr WHERE k = 2)
	ORDER BY e OPERATOR(frt.<#>) (SELECT p FROM pr WHERE k = 2) LIMIT 5$$, true);
SELECT * FROM pg_temp.check($$SELECT id FROM th WHERE e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 1) < 0.1
	AND e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 1) < 0.03$$);
-- two probes: the scan ranks by one and filters by the other
SELECT * FROM pg_temp.check($$SELECT id FROM th WHERE e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 1) < 0.2
	AND e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 4) < 0.2$$);
-- the threshold's probe differs from the ORDER BY probe: a filter, still exact
SELECT * FROM pg_temp.check($$SELECT id FROM th WHERE e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 1) < 0.05
	ORDER BY e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 2) LIMIT 10$$, true);
-- inside a subquery, a CTE, a set operation, a JOIN ... ON, a LATERAL subquery
SELECT * FROM pg_temp.check($$SELECT id FROM (SELECT id, e AS f FROM th) s
	WHERE f OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 1) < 0.05$$);
SELECT * FROM pg_temp.check($$WITH c AS MATERIALIZED (SELECT id FROM th WHERE e OPERATOR(frt.<->) (SELECT p FROM pr WHERE k = 1) < 1.3)
	SELECT id FROM c UNION ALL SELECT id FROM th WHERE e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 2) <= 0.05$$);
SELECT * FROM pg_temp.check($$SELECT th.id FROM pr JOIN th ON th.e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 1) < 0.05
	WHERE pr.k = 2$$);
SELECT * FROM pg_temp.check($$SELECT pr.k, s.id FROM pr, LATERAL (SELECT id FROM th
	WHERE th.e OPERATOR(frt.<=>) pr.p < 0.05) s WHERE pr.k < 3$$);

-- the default (non-exact) mode visits every list for a threshold
SET frt.exact = off;
SET frt.probes = 1;
SELECT * FROM pg_temp.check($$SELECT id FROM th WHERE e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 2) < 0.05
	ORDER BY e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 2)$$, true);
RESET frt.probes;

-- early stop: the scan hands the executor a small part of the 3002 rows
-- (without the stop it would be every row)
SELECT pg_temp.fetched($$SELECT id FROM th WHERE e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 1) < 0.05$$) < 300 AS cos_stops,
	   pg_temp.fetched($$SELECT id FROM th WHERE e OPERATOR(frt.<->) (SELECT p FROM pr WHERE k = 1) < 1.3
		ORDER BY e OPERATOR(frt.<->) (SELECT p FROM pr WHERE k = 1)$$) < 300 AS l2_stops,
	   pg_temp.fetched($$SELECT id FROM th WHERE e OPERATOR(frt.<#>) (SELECT p FROM pr WHERE k = 1) < -17.0$$) < 300 AS ip_stops,
	   pg_temp.fetched($$SELECT id FROM th WHERE e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 1) < 0.05
		ORDER BY e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 2)$$) AS other_probe_reads_all;

-- a prepared statement with a generic plan ($1, $2 unknown when planned)
PREPARE thr(frt.face_embedding, float8) AS
	SELECT id FROM th WHERE e OPERATOR(frt.<=>) $1 < $2 ORDER BY e OPERATOR(frt.<=>) $1;
SET plan_cache_mode = force_generic_plan;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) EXECUTE thr(pg_temp.vec(7, 32), 0.05);
CREATE TEMP TABLE prep_idx AS EXECUTE thr(pg_temp.vec(7, 32), 0.05);
RESET enable_seqscan;
SET enable_indexscan = off;
CREATE TEMP TABLE prep_all AS EXECUTE thr(pg_temp.vec(7, 32), 0.05);
RESET enable_indexscan;
SELECT (SELECT count(*) FROM prep_idx) AS n,
	   (SELECT count(*) FROM (SELECT * FROM prep_idx EXCEPT SELECT * FROM prep_all) x) AS extra,
	   (SELECT count(*) FROM (SELECT * FROM prep_all EXCEPT SELECT * FROM prep_idx) x) AS missing;
RESET plan_cache_mode;
DEALLOCATE thr;

-- not rewritten: a table without an frt_ivf index, and an index of another metric
CREATE TABLE noidx (id int, e frt.face_embedding(32));
EXPLAIN (COSTS OFF) SELECT id FROM noidx WHERE e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 1) < 0.05;
CREATE INDEX ON noidx USING frt_ivf (e frt.face_l2_ops);
EXPLAIN (COSTS OFF) SELECT id FROM noidx WHERE e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 1) < 0.05;
EXPLAIN (COSTS OFF) SELECT id FROM noidx WHERE e OPERATOR(frt.<->) (SELECT p FROM pr WHERE k = 1) < 0.05;
-- not rewritten: a volatile threshold, the column on the right, under OR
EXPLAIN (COSTS OFF) SELECT id FROM th WHERE e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 1) < random();
EXPLAIN (COSTS OFF) SELECT id FROM th WHERE (SELECT p FROM pr WHERE k = 1) OPERATOR(frt.<=>) e < 0.05;
EXPLAIN (COSTS OFF) SELECT id FROM th WHERE e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 1) < 0.05 OR id = 1;
RESET enable_seqscan;

-- bad inputs behave exactly as the original clause does, index or not
SET enable_seqscan = off;
SELECT count(*) FROM th WHERE e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 3) < 0.5;
SELECT count(*) FROM th WHERE e OPERATOR(frt.<=>) '[1,2,3]' <= 0.5;
SELECT count(*) FROM th WHERE e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 3) < 0.5
	AND e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 1) < 0.5;
-- (an empty table never evaluates the clause: no error either way)
SELECT count(*) FROM noidx WHERE e OPERATOR(frt.<->) (SELECT p FROM pr WHERE k = 3) < 0.5;
RESET enable_seqscan;
SET enable_indexscan = off;
SELECT count(*) FROM th WHERE e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 3) < 0.5;
SELECT count(*) FROM th WHERE e OPERATOR(frt.<=>) '[1,2,3]' <= 0.5;
SELECT count(*) FROM noidx WHERE e OPERATOR(frt.<->) (SELECT p FROM pr WHERE k = 3) < 0.5;
RESET enable_indexscan;
SET enable_seqscan = off;
SELECT * FROM pg_temp.check($$SELECT id FROM th WHERE e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 1) < NULL$$);
SELECT * FROM pg_temp.check($$SELECT id FROM th WHERE e OPERATOR(frt.<=>) NULL::frt.face_embedding < 0.5$$);
-- NULL found only at run time: the index gets a NULL key
SELECT * FROM pg_temp.check($$SELECT id FROM th WHERE e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 1) < (SELECT NULL::float8)$$);
SELECT * FROM pg_temp.check($$SELECT id FROM th WHERE e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 0) < 0.5$$);
SELECT * FROM pg_temp.check($$SELECT id FROM th WHERE e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 1) < 'NaN'$$);
SELECT * FROM pg_temp.check($$SELECT id FROM th WHERE e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 1) <= 'NaN'$$);
SELECT * FROM pg_temp.check($$SELECT id FROM th WHERE e OPERATOR(frt.<->) (SELECT p FROM pr WHERE k = 1) <= 'Infinity'$$);
SELECT * FROM pg_temp.check($$SELECT id FROM th WHERE e OPERATOR(frt.<=>) (SELECT p FROM pr WHERE k = 1) < -1$$);
RESET enable_seqscan;

-- the operators themselves, and the face_within type
SELECT '[1,0]'::frt.face_embedding OPERATOR(frt.<<=>) frt.face_within('[0,1]', 1.0) AS lt_equal,
	   '[1,0]'::frt.face_embedding OPERATOR(frt.<<=>) frt.face_within('[0,1]', 1.0, true) AS le_equal,
	   '[1,0]'::frt.face_embedding OPERATOR(frt.<<->) frt.face_within('[0,1]', 1.5) AS l2,
	   '[1,0]'::frt.face_embedding OPERATOR(frt.<<#>) frt.face_within('[2,0]', -1.9) AS ip;
SELECT '[1,2] <= 0.4'::frt.face_within, frt.face_within('[1,2]', 0.5);
SELECT '[1,2]'::frt.face_within;
SELECT '[1,2] < x'::frt.face_within;
SELECT '[1,2] < 1 2'::frt.face_within;
SELECT '[1,2] < 1e999'::frt.face_within;
-- no error of face_within's input echoes it (message, detail, hint)
CREATE FUNCTION pg_temp.echoes(sql text, OUT state text, OUT echoes bool) LANGUAGE plpgsql AS $$
DECLARE
	m text; d text; h text;
BEGIN
	EXECUTE sql;
	state := '00000'; echoes := false;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, m = MESSAGE_TEXT,
		d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
	echoes := concat(m, d, h) LIKE '%123456%';
END $$;
SELECT t.label, r.* FROM (VALUES
	('probe after "<"', $$SELECT '0.5 < [0.123456,0.654321]'::frt.face_within$$),
	('threshold not a number', $$SELECT '[0.123456,0.654321] < 0.123456x'::frt.face_within$$),
	('junk after threshold', $$SELECT '[0.123456,0.654321] < 0.5 [0.123456]'::frt.face_within$$),
	('bad probe', $$SELECT '[0.123456,oops] < 0.5'::frt.face_within$$),
	('probe underflow', $$SELECT '[0.123456,1e-50] < 0.5'::frt.face_within$$),
	('threshold out of range', $$SELECT '[0.123456,0.654321] < 1e999'::frt.face_within$$),
	('no "<"', $$SELECT '[0.123456,0.654321]'::frt.face_within$$),
	('valid', $$SELECT '[0.123456,0.654321] <= 0.5'::frt.face_within$$))
	AS t(label, sql), LATERAL pg_temp.echoes(t.sql) r;
SELECT '[1,2,3]'::frt.face_embedding OPERATOR(frt.<<=>) frt.face_within('[1,2]', 1);

-- A threshold on an indexed expression (frt.face's per-purpose indexes are
-- on frt._face_open(id, embedding)) becomes an index condition too, with
-- the same answer as a sequential scan; an expression no index has is left
-- alone.
CREATE TABLE thr_expr (id int, e frt.face_embedding(8));
INSERT INTO thr_expr SELECT i, (SELECT array_agg(sin(i * 1.1 + j * 0.7)::real) FROM generate_series(1, 8) j)::frt.face_embedding
  FROM generate_series(1, 3000) i;
CREATE FUNCTION thr_open(i int, x frt.face_embedding) RETURNS frt.face_embedding
	LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN RETURN x; END $$;
CREATE FUNCTION thr_other(i int, x frt.face_embedding) RETURNS frt.face_embedding
	LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN RETURN x; END $$;
CREATE INDEX thr_expr_ivf ON thr_expr USING frt_ivf (thr_open(id, e) frt.face_cosine_ops);
ANALYZE thr_expr;
EXPLAIN (COSTS OFF) SELECT id FROM thr_expr
 WHERE thr_open(id, e) OPERATOR(frt.<=>) '[1,0,0,0,0,0,0,0]' < 0.9;
EXPLAIN (COSTS OFF) SELECT id FROM thr_expr
 WHERE thr_other(id, e) OPERATOR(frt.<=>) '[1,0,0,0,0,0,0,0]' < 0.9;
SELECT count(*) FROM thr_expr WHERE thr_open(id, e) OPERATOR(frt.<=>) '[1,0,0,0,0,0,0,0]' < 0.9;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
SELECT count(*) FROM thr_expr WHERE thr_open(id, e) OPERATOR(frt.<=>) '[1,0,0,0,0,0,0,0]' < 0.9;
RESET enable_indexscan;
RESET enable_bitmapscan;

-- frt_ivf: filters and row-level security never lose matches, distance
-- thresholds return every and only qualifying row, the planner's choice.
SET client_min_messages = warning;

\set ECHO none
\i test/sql/ivf_fixture.sql
\set ECHO all

CREATE TABLE g (id int PRIMARY KEY, dept int, e frt.face_embedding(24));
INSERT INTO g SELECT i, i % 50, pg_temp.vec(i, 24) FROM generate_series(1, 4000) i;
-- many lists and a single probe: the default mode searches one list first
CREATE INDEX g_ivf ON g USING frt_ivf (e frt.face_cosine_ops) WITH (lists = 16);
CREATE TABLE pr AS SELECT pg_temp.vec(777777, 24) AS p;

-- a selective WHERE clause: 10 rows come back in both modes (the scan goes
-- on to further lists until the query is satisfied), and in exact mode they
-- are exactly the exhaustive answer
SET enable_seqscan = off;
SET frt.probes = 1;
EXPLAIN (COSTS OFF) SELECT id FROM g WHERE dept = 3 ORDER BY e OPERATOR(frt.<=>) (SELECT p FROM pr) LIMIT 10;
SELECT count(*) FROM (SELECT id FROM g WHERE dept = 3 ORDER BY e OPERATOR(frt.<=>) (SELECT p FROM pr) LIMIT 10) s;
SELECT count(*) FROM (SELECT id FROM g WHERE dept = 3 ORDER BY e OPERATOR(frt.<=>) (SELECT p FROM pr)) s;
SET frt.exact = on;
CREATE TEMP TABLE via_index AS
  SELECT id, row_number() OVER () AS rank FROM
	(SELECT id FROM g WHERE dept = 3 ORDER BY e OPERATOR(frt.<=>) (SELECT p FROM pr) LIMIT 10) s;
RESET enable_seqscan;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
CREATE TEMP TABLE exhaustive AS
  SELECT id, row_number() OVER () AS rank FROM
	(SELECT id FROM g WHERE dept = 3 ORDER BY e OPERATOR(frt.<=>) (SELECT p FROM pr) LIMIT 10) s;
RESET enable_indexscan;
RESET enable_bitmapscan;
SELECT count(*) AS rows, (SELECT count(*) FROM (SELECT * FROM via_index EXCEPT SELECT * FROM exhaustive) x) AS differ
FROM via_index;

-- row-level security: a role that sees only even ids still gets 10 rows,
-- the same ones an exhaustive scan under the same policy gives
CREATE ROLE ivf_reader;
GRANT SELECT ON g, pr TO ivf_reader;
GRANT USAGE ON SCHEMA frt TO ivf_reader;
ALTER TABLE g ENABLE ROW LEVEL SECURITY;
CREATE POLICY even_only ON g FOR SELECT TO ivf_reader USING (id % 2 = 0);
SET ROLE ivf_reader;
SET enable_seqscan = off;
SET frt.exact = off;
SELECT count(*), bool_and(id % 2 = 0) AS all_even
FROM (SELECT id FROM g ORDER BY e OPERATOR(frt.<=>) (SELECT p FROM pr) LIMIT 10) s;
SET frt.exact = on;
CREATE TEMP TABLE rls_index AS SELECT id FROM g ORDER BY e OPERATOR(frt.<=>) (SELECT p FROM pr) LIMIT 10;
RESET enable_seqscan;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
CREATE TEMP TABLE rls_exhaustive AS SELECT id FROM g ORDER BY e OPERATOR(frt.<=>) (SELECT p FROM pr) LIMIT 10;
RESET enable_indexscan;
RESET enable_bitmapscan;
SELECT (SELECT count(*) FROM rls_index) AS rows,
	   (SELECT count(*) FROM (SELECT * FROM rls_index EXCEPT SELECT * FROM rls_exhaustive) x) AS differ;
DROP TABLE rls_index, rls_exhaustive;
RESET ROLE;
ALTER TABLE g DISABLE ROW LEVEL SECURITY;

-- distance thresholds in exact mode: every and only qualifying row, in order
SET frt.exact = on;
SET enable_seqscan = off;
CREATE TEMP TABLE thr_index AS
  SELECT id, e OPERATOR(frt.<=>) (SELECT p FROM pr) AS d FROM g
  WHERE e OPERATOR(frt.<=>) (SELECT p FROM pr) < 0.05 ORDER BY e OPERATOR(frt.<=>) (SELECT p FROM pr);
RESET enable_seqscan;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
CREATE TEMP TABLE thr_all AS
  SELECT id, e OPERATOR(frt.<=>) (SELECT p FROM pr) AS d FROM g WHERE e OPERATOR(frt.<=>) (SELECT p FROM pr) < 0.05;
RESET enable_indexscan;
RESET enable_bitmapscan;
SELECT (SELECT count(*) FROM thr_index) > 0 AS some_rows,
	   (SELECT count(*) FROM thr_index) = (SELECT count(*) FROM thr_all) AS same_count,
	   (SELECT count(*) FROM (SELECT * FROM thr_index EXCEPT SELECT * FROM thr_all) x) AS extra,
	   (SELECT count(*) FROM (SELECT * FROM thr_all EXCEPT SELECT * FROM thr_index) x) AS missing;
-- with a LIMIT the ordered scan stops early: it fetches few heap rows
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM g WHERE e OPERATOR(frt.<=>) (SELECT p FROM pr) < 0.05
					  ORDER BY e OPERATOR(frt.<=>) (SELECT p FROM pr) LIMIT 5) s;
RESET enable_seqscan;
RESET frt.exact;

-- the planner: a sequential scan for a few hundred rows, the index at 10k
CREATE TABLE big (id int, e frt.face_embedding(512));
INSERT INTO big SELECT i, pg_temp.vec(i, 512) FROM generate_series(1, 300) i;
CREATE INDEX big_ivf ON big USING frt_ivf (e frt.face_cosine_ops);
ANALYZE big;
EXPLAIN (COSTS OFF) SELECT id FROM big ORDER BY e OPERATOR(frt.<=>) (SELECT e FROM big WHERE id = 1) LIMIT 10;
INSERT INTO big SELECT i, pg_temp.vec(i, 512) FROM generate_series(301, 10000) i;
ANALYZE big;
EXPLAIN (COSTS OFF) SELECT id FROM big ORDER BY e OPERATOR(frt.<=>) (SELECT e FROM big WHERE id = 1) LIMIT 10;
SELECT count(*) AS problems FROM frt.index_check('big_ivf');
DROP TABLE big;
DROP TABLE g, pr;
REVOKE USAGE ON SCHEMA frt FROM ivf_reader;
DROP ROLE ivf_reader;

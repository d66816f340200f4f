-- frt_ivf: operator classes, exact mode equals an exhaustive scan, NULLs,
-- empty tables, bad reloptions, dimension mismatch, VACUUM and index_check.
SET client_min_messages = warning;

\set ECHO none
\i test/sql/ivf_fixture.sql
\set ECHO all

CREATE TABLE items (id int PRIMARY KEY, grp int, e frt.face_embedding(32));
INSERT INTO items SELECT i, i % 5, pg_temp.vec(i, 32) FROM generate_series(1, 3000) i;
CREATE TABLE probes (pid int, p frt.face_embedding(32));
INSERT INTO probes SELECT k, pg_temp.vec(100000 + k * 7, 32) FROM generate_series(1, 20) k;

-- the three operator classes build; cosine is the default class
CREATE INDEX items_cos ON items USING frt_ivf (e frt.face_cosine_ops);
CREATE INDEX items_l2 ON items USING frt_ivf (e frt.face_l2_ops) WITH (lists = 8);
CREATE INDEX items_ip ON items USING frt_ivf (e frt.face_ip_ops);
CREATE INDEX items_def ON items USING frt_ivf (e);
SELECT c.relname, o.opcname
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_opclass o ON o.oid = i.indclass[0]
WHERE i.indrelid = 'items'::regclass AND c.relname <> 'items_pkey' ORDER BY 1;
DROP INDEX items_def;
SELECT count(*) AS problems FROM frt.index_check('items_cos');
SELECT count(*) AS problems FROM frt.index_check('items_l2');
SELECT count(*) AS problems FROM frt.index_check('items_ip');

-- the planner uses the index for ORDER BY distance LIMIT k
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY e OPERATOR(frt.<=>) (SELECT p FROM probes WHERE pid = 1) LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY e OPERATOR(frt.<->) (SELECT p FROM probes WHERE pid = 1) LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY e OPERATOR(frt.<#>) (SELECT p FROM probes WHERE pid = 1) LIMIT 10;
RESET enable_seqscan;

-- exact mode: same rows, same order, same distances as an exhaustive scan
CREATE TABLE truth (op text, pid int, rank bigint, id int, d float8);
SET enable_indexscan = off;
INSERT INTO truth
SELECT 'cos', pid, row_number() OVER (PARTITION BY pid ORDER BY d, id), id, d FROM
  (SELECT pr.pid, x.id, x.d FROM probes pr, LATERAL
	(SELECT id, e OPERATOR(frt.<=>) pr.p AS d FROM items ORDER BY e OPERATOR(frt.<=>) pr.p LIMIT 10) x) s;
INSERT INTO truth
SELECT 'l2', pid, row_number() OVER (PARTITION BY pid ORDER BY d, id), id, d FROM
  (SELECT pr.pid, x.id, x.d FROM probes pr, LATERAL
	(SELECT id, e OPERATOR(frt.<->) pr.p AS d FROM items ORDER BY e OPERATOR(frt.<->) pr.p LIMIT 10) x) s;
INSERT INTO truth
SELECT 'ip', pid, row_number() OVER (PARTITION BY pid ORDER BY d, id), id, d FROM
  (SELECT pr.pid, x.id, x.d FROM probes pr, LATERAL
	(SELECT id, e OPERATOR(frt.<#>) pr.p AS d FROM items ORDER BY e OPERATOR(frt.<#>) pr.p LIMIT 10) x) s;
RESET enable_indexscan;

SET frt.exact = on;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
CREATE TABLE got (op text, pid int, rank bigint, id int, d float8);
INSERT INTO got
SELECT 'cos', pr.pid, x.rank, x.id, x.d FROM probes pr, LATERAL
  (SELECT id, d, row_number() OVER () AS rank FROM
	(SELECT id, e OPERATOR(frt.<=>) pr.p AS d FROM items ORDER BY e OPERATOR(frt.<=>) pr.p LIMIT 10) y) x;
INSERT INTO got
SELECT 'l2', pr.pid, x.rank, x.id, x.d FROM probes pr, LATERAL
  (SELECT id, d, row_number() OVER () AS rank FROM
	(SELECT id, e OPERATOR(frt.<->) pr.p AS d FROM items ORDER BY e OPERATOR(frt.<->) pr.p LIMIT 10) y) x;
INSERT INTO got
SELECT 'ip', pr.pid, x.rank, x.id, x.d FROM probes pr, LATERAL
  (SELECT id, d, row_number() OVER () AS rank FROM
	(SELECT id, e OPERATOR(frt.<#>) pr.p AS d FROM items ORDER BY e OPERATOR(frt.<#>) pr.p LIMIT 10) y) x;
-- the index was used for all three
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY e OPERATOR(frt.<#>) '[1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 10;
SELECT op, count(*) FROM got GROUP BY op ORDER BY op;
SELECT 'missing from index' AS diff, * FROM (SELECT * FROM truth EXCEPT SELECT * FROM got) a
UNION ALL
SELECT 'extra in index', * FROM (SELECT * FROM got EXCEPT SELECT * FROM truth) b;

-- a whole ordered scan returns every row exactly once, in distance order
SELECT count(*), count(DISTINCT id),
	   bool_and(d >= prev OR prev IS NULL) AS ordered
FROM (SELECT id, d, lag(d) OVER () AS prev FROM
	  (SELECT id, e OPERATOR(frt.<->) (SELECT p FROM probes WHERE pid = 3) AS d
	   FROM items ORDER BY e OPERATOR(frt.<->) (SELECT p FROM probes WHERE pid = 3)) s) t;
RESET enable_seqscan;
RESET enable_bitmapscan;

-- NULLs are indexed and come last; the zero vector has a NaN cosine distance
INSERT INTO items VALUES (5001, 0, NULL), (5002, 0, NULL);
INSERT INTO items VALUES (5003, 0, array_fill(0::real, ARRAY[32])::frt.face_embedding);
SELECT count(*) AS problems FROM frt.index_check('items_cos');
SET enable_seqscan = off;
SELECT id, round((e OPERATOR(frt.<=>) (SELECT p FROM probes WHERE pid = 1))::numeric, 3) AS d
FROM items ORDER BY e OPERATOR(frt.<=>) (SELECT p FROM probes WHERE pid = 1) OFFSET 2999;
-- a NULL probe: every distance is NULL, every row still comes back
SELECT count(*) FROM (SELECT id FROM items ORDER BY e OPERATOR(frt.<=>) NULL::frt.face_embedding) s;
RESET enable_seqscan;
DELETE FROM items WHERE id > 5000;

-- dimension mismatch: a clear error, nothing changes
INSERT INTO items VALUES (6000, 0, '[1,2,3]');
SET enable_seqscan = off;
SELECT id FROM items ORDER BY e OPERATOR(frt.<=>) '[1,2,3]' LIMIT 1;
RESET enable_seqscan;
SELECT count(*) FROM items;

-- bad reloptions are refused and create nothing
CREATE INDEX bad1 ON items USING frt_ivf (e) WITH (lists = -1);
CREATE INDEX bad2 ON items USING frt_ivf (e) WITH (lists = 100000);
CREATE INDEX bad3 ON items USING frt_ivf (e) WITH (probes = 3);
CREATE INDEX bad4 ON items USING frt_ivf (e) WITH (lists = 'many');
CREATE INDEX bad5 ON items USING frt_ivf (id);
CREATE INDEX bad6 ON items USING frt_ivf (e frt.face_cosine_ops, grp);
SELECT count(*) FROM pg_class WHERE relname LIKE 'bad%';
-- frt.probes is range-checked
SET frt.probes = -1;

-- delete, VACUUM, insert again: the index stays healthy and exact
DELETE FROM items WHERE id % 3 = 0;
VACUUM items;
SELECT count(*) AS problems FROM frt.index_check('items_cos');
SELECT count(*) AS problems FROM frt.index_check('items_l2');
INSERT INTO items SELECT i, i % 5, pg_temp.vec(i, 32) FROM generate_series(3001, 4000) i;
SELECT count(*) AS problems FROM frt.index_check('items_l2');
SET enable_seqscan = off;
SELECT count(*) AS rows_seen FROM (SELECT id FROM items ORDER BY e OPERATOR(frt.<->) (SELECT p FROM probes WHERE pid = 2)) s;
CREATE TEMP TABLE a AS SELECT id FROM items ORDER BY e OPERATOR(frt.<->) (SELECT p FROM probes WHERE pid = 2) LIMIT 25;
RESET enable_seqscan;
SET enable_indexscan = off;
CREATE TEMP TABLE b AS SELECT id FROM items ORDER BY e OPERATOR(frt.<->) (SELECT p FROM probes WHERE pid = 2) LIMIT 25;
RESET enable_indexscan;
SELECT (SELECT count(*) FROM (SELECT * FROM a EXCEPT SELECT * FROM b) x) AS a_not_b,
	   (SELECT count(*) FROM (SELECT * FROM b EXCEPT SELECT * FROM a) x) AS b_not_a;

-- index_check finds a heap row that is missing from the index
CREATE TABLE broken (id int, e frt.face_embedding(4));
INSERT INTO broken VALUES (1, '[1,2,3,4]'), (2, '[4,3,2,1]');
CREATE INDEX broken_ivf ON broken USING frt_ivf (e);
UPDATE pg_index SET indisready = false WHERE indexrelid = 'broken_ivf'::regclass;
INSERT INTO broken VALUES (3, '[1,1,1,1]');
UPDATE pg_index SET indisready = true WHERE indexrelid = 'broken_ivf'::regclass;
SELECT kind, detail FROM frt.index_check('broken_ivf');
-- only frt_ivf indexes
SELECT * FROM frt.index_check('items_pkey');
SELECT * FROM frt.index_check('items');

-- empty tables, unlogged tables, a column without a dimension
CREATE TABLE empty_t (e frt.face_embedding(8));
CREATE INDEX ON empty_t USING frt_ivf (e) WITH (lists = 4);
SELECT count(*) FROM (SELECT 1 FROM empty_t ORDER BY e OPERATOR(frt.<=>) '[1,2,3,4,5,6,7,8]' LIMIT 5) s;
CREATE UNLOGGED TABLE unl (e frt.face_embedding);
CREATE INDEX unl_ivf ON unl USING frt_ivf (e);
INSERT INTO unl VALUES ('[1,0,0]'), ('[0,1,0]'), ('[0.9,0.1,0]');
SET enable_seqscan = off;
SELECT e FROM unl ORDER BY e OPERATOR(frt.<=>) '[1,0,0]' LIMIT 2;
RESET enable_seqscan;
INSERT INTO unl VALUES ('[1,0]');
SELECT count(*) AS problems FROM frt.index_check('unl_ivf');

-- build sub-phases named in pg_stat_progress_create_index (7: none)
SELECT n, pg_indexam_progress_phasename((SELECT oid FROM pg_am WHERE amname = 'frt_ivf'), n)
  FROM generate_series(1, 7) n;
-- VACUUM progress of frt_ivf indexes: no row while no VACUUM runs
SELECT count(*) FROM frt.ivf_vacuum_progress;

-- frt core demo: face matching in plain PostgreSQL, on a server that
-- preloads nothing.  A gallery of 20,000 face-like 512-dimension
-- embeddings (2,000 people, 10 samples each), an frt_ivf index, exact 1:N
-- search, a distance threshold, and a delete that VACUUM erases from the
-- index.  Run by scripts/demo.sh.
\set ON_ERROR_STOP 1
\pset footer off
\echo '== frt core demo (shared_preload_libraries is empty)'
SHOW shared_preload_libraries;
CREATE EXTENSION IF NOT EXISTS frt;
SELECT kernel FROM frt.simd_info() WHERE in_use;

\echo '== 1. a gallery: 2,000 people x 10 samples, 512 dimensions'
DROP TABLE IF EXISTS gallery;
CREATE TABLE gallery (id int PRIMARY KEY, person int NOT NULL, e frt.face_embedding(512) NOT NULL);
-- each person has an identity direction; samples add per-sample noise
INSERT INTO gallery
SELECT s.id, s.person, frt.l2_normalize(array_agg(
		(sin(s.person * 12.9898 + j * 78.233) * 43758.5453 - floor(sin(s.person * 12.9898 + j * 78.233) * 43758.5453) - 0.5
		 + 0.35 * (sin(s.id * 4.1 + j * 1.7) * 9631.77 - floor(sin(s.id * 4.1 + j * 1.7) * 9631.77) - 0.5))::real
		ORDER BY j)::real[]::frt.face_embedding)
  FROM (SELECT g AS id, (g - 1) / 10 AS person FROM generate_series(1, 20000) g) s,
	   generate_series(1, 512) j
 GROUP BY s.id, s.person;
\timing on
CREATE INDEX gallery_e ON gallery USING frt_ivf (e frt.face_cosine_ops);
\timing off
ANALYZE gallery;
SELECT pg_size_pretty(pg_relation_size('gallery')) AS table_size,
	   pg_size_pretty(pg_relation_size('gallery_e')) AS index_size;

\echo '== 2. exact 1:N: the ten nearest samples to a new sample of person 42'
CREATE TEMP TABLE probe AS
SELECT frt.l2_normalize(array_agg(
		(sin(42 * 12.9898 + j * 78.233) * 43758.5453 - floor(sin(42 * 12.9898 + j * 78.233) * 43758.5453) - 0.5
		 + 0.35 * (sin(99999 * 4.1 + j * 1.7) * 9631.77 - floor(sin(99999 * 4.1 + j * 1.7) * 9631.77) - 0.5))::real
		ORDER BY j)::real[]::frt.face_embedding) AS e
  FROM generate_series(1, 512) j;
SET frt.exact = on;
EXPLAIN (COSTS OFF) SELECT id FROM gallery ORDER BY e OPERATOR(frt.<=>) (SELECT e FROM probe) LIMIT 10;
SELECT g.id, g.person, round((g.e OPERATOR(frt.<=>) p.e)::numeric, 4) AS cosine_distance
  FROM gallery g, probe p ORDER BY g.e OPERATOR(frt.<=>) p.e LIMIT 10;
\echo 'the same ten, from an exhaustive scan:'
SET enable_indexscan = off;
SELECT string_agg(id::text, ',') AS exhaustive FROM (
	SELECT g.id FROM gallery g, probe p ORDER BY g.e OPERATOR(frt.<=>) p.e LIMIT 10) s;
RESET enable_indexscan;

\echo '== 3. a threshold: every sample within cosine distance 0.5, from the index'
SELECT e::text AS pv FROM probe \gset
PREPARE within(frt.face_embedding) AS
	SELECT count(*) AS within_0_5, count(DISTINCT person) AS people
	  FROM gallery WHERE e OPERATOR(frt.<=>) $1 < 0.5;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE within(:'pv');
EXECUTE within(:'pv');
RESET plan_cache_mode;

\echo '== 4. erasure: delete person 42, VACUUM, and the index no longer holds them'
DELETE FROM gallery WHERE person = 42;
VACUUM (INDEX_CLEANUP ON) gallery;
SELECT count(*) AS index_problems FROM frt.index_check('gallery_e');
SELECT g.id, g.person FROM gallery g, probe p ORDER BY g.e OPERATOR(frt.<=>) p.e LIMIT 3;

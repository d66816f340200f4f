#!/usr/bin/env bash
# Distance-threshold queries on the facegen gallery: exhaustive scan, the
# unrewritten form (index ORDER BY scan + filter, what every threshold query
# did before the planner hook), and the rewritten index condition with its
# early stop.  Usage (a running cluster with frt preloaded, shared_buffers
# large enough for the gallery, e.g. 2GB):
#   bench/threshold_bench.sh HOST PORT [N]      (N gallery rows, default 100000)
set -euo pipefail
host=$1; port=$2; n=${3:-100000}
here=$(cd "$(dirname "$0")" && pwd)
make -s -C "$here" facegen >/dev/null
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$here/facegen" --n "$n" gallery > "$tmp/gallery.copy"
"$here/facegen" --n "$n" --count 50 genuine > "$tmp/genuine.copy"
"$here/facegen" --n "$n" --count 50 impostor > "$tmp/impostor.copy"
chmod -R a+rX "$tmp"
psql -X -q -h "$host" -p "$port" -U postgres -v ON_ERROR_STOP=1 <<SQL
DROP TABLE IF EXISTS tb_gallery, tb_probes;
DROP EXTENSION IF EXISTS frt CASCADE;
CREATE EXTENSION frt;
DROP TABLE IF EXISTS tb_gallery, tb_probes;
CREATE TABLE tb_gallery (id int8 PRIMARY KEY, e frt.face_embedding(512));
ALTER TABLE tb_gallery ALTER e SET STORAGE main;
\copy tb_gallery FROM '$tmp/gallery.copy' (FORMAT binary)
CREATE TABLE tb_probes (id int8, ident int8, e frt.face_embedding(512));
\copy tb_probes FROM '$tmp/genuine.copy' (FORMAT binary)
CREATE TEMP TABLE imp (id int8, ident int8, e frt.face_embedding(512));
\copy imp FROM '$tmp/impostor.copy' (FORMAT binary)
INSERT INTO tb_probes SELECT 1000000 + id, NULL, e FROM imp;
CREATE INDEX ON tb_gallery USING frt_ivf (e frt.face_cosine_ops);
VACUUM ANALYZE tb_gallery;
CREATE EXTENSION IF NOT EXISTS pg_prewarm;
SELECT pg_prewarm('tb_gallery') + pg_prewarm('tb_gallery_e_idx') AS prewarmed_blocks;
SQL
psql -X -q -h "$host" -p "$port" -U postgres -v ON_ERROR_STOP=1 <<'SQL'
SET max_parallel_workers_per_gather = 0;
SET frt.exact = on;
CREATE OR REPLACE FUNCTION pg_temp.timeit(q text, gucs text, OUT ms_per_query numeric, OUT rows_per_query numeric)
LANGUAGE plpgsql AS $$
DECLARE
	r record;
	t0 timestamptz;
	n bigint := 0;
	c bigint;
	k int := 0;
BEGIN
	EXECUTE gucs;
	-- warm-up
	FOR r IN SELECT e FROM tb_probes ORDER BY id LIMIT 5 LOOP
		EXECUTE q INTO c USING r.e;
	END LOOP;
	t0 := clock_timestamp();
	FOR r IN SELECT e FROM tb_probes ORDER BY id LOOP
		EXECUTE q INTO c USING r.e;
		n := n + c;
		k := k + 1;
	END LOOP;
	ms_per_query := round((extract(epoch FROM clock_timestamp() - t0) * 1000 / k)::numeric, 2);
	rows_per_query := round(n::numeric / k, 2);
	RESET ALL;
	SET frt.exact = on;
	SET max_parallel_workers_per_gather = 0;
END
$$;
\echo 100 probes (50 genuine, 50 impostor), threshold cosine distance < 0.4 (similarity > 0.6)
SELECT 'exhaustive (seq scan)' AS plan, * FROM pg_temp.timeit(
	'SELECT count(*) FROM tb_gallery WHERE e OPERATOR(frt.<=>) $1 < 0.4',
	'SET enable_indexscan = off');
SELECT 'before: ORDER BY index scan + Filter' AS plan, * FROM pg_temp.timeit(
	'SELECT count(*) FROM (SELECT id FROM tb_gallery WHERE $1 OPERATOR(frt.<=>) e < 0.4 ORDER BY e OPERATOR(frt.<=>) $1) s',
	'SET enable_seqscan = off');
SELECT 'after: Index Cond + ORDER BY' AS plan, * FROM pg_temp.timeit(
	'SELECT count(*) FROM (SELECT id FROM tb_gallery WHERE e OPERATOR(frt.<=>) $1 < 0.4 ORDER BY e OPERATOR(frt.<=>) $1) s',
	'SET enable_seqscan = on');
SELECT 'after: Index Cond, no ORDER BY (planner''s choice)' AS plan, * FROM pg_temp.timeit(
	'SELECT count(*) FROM tb_gallery WHERE e OPERATOR(frt.<=>) $1 < 0.4',
	'SET enable_seqscan = on');
EXPLAIN (COSTS OFF) SELECT count(*) FROM tb_gallery WHERE e OPERATOR(frt.<=>) (SELECT e FROM tb_probes LIMIT 1) < 0.4;
SQL

#!/usr/bin/env bash
# Cost of the nightly heap scrub (frt.scrub_heap): a read-only pass over a
# clean table, and a pass after deleting a share of the rows and VACUUM.
# Reports time and WAL written.  Needs a running cluster with frt installed:
#   [PGDATABASE=db] bench/jobs_scrub.sh HOST PORT [ROWS] [DIM] [DELETE_PERCENT]
set -euo pipefail
host=$1; port=$2; rows=${3:-50000}; dim=${4:-512}; pct=${5:-10}
q() { psql -h "$host" -p "$port" -U postgres -d "${PGDATABASE:-postgres}" -XAtqc "$1"; }
q "SET client_min_messages = warning; DROP TABLE IF EXISTS bench_scrub"
q "CREATE TABLE bench_scrub (id int, e frt.face_embedding($dim)) WITH (autovacuum_enabled = off)"
q "INSERT INTO bench_scrub SELECT g, (SELECT ('[' || string_agg((random() - 0.5)::float4::text, ',') || ']')
     FROM generate_series(1, $dim) WHERE g > 0)::frt.face_embedding FROM generate_series(1, $rows) g"
q "VACUUM (FREEZE) bench_scrub"; q "CHECKPOINT"
size=$(q "SELECT pg_size_pretty(pg_table_size('bench_scrub'))")
echo "table: $rows rows x $dim dims, $size"
run() {
	local label=$1
	local out
	out=$(psql -h "$host" -p "$port" -U postgres -d "${PGDATABASE:-postgres}" -XAtq <<'SQL'
SELECT pg_current_wal_insert_lsn() AS l0, clock_timestamp() AS t0 \gset
SELECT s.pages, s.pages_scrubbed, s.bytes_zeroed,
       round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000) AS ms,
       pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_insert_lsn(), :'l0'::pg_lsn)) AS wal
  FROM frt.scrub_heap('bench_scrub') s;
SQL
)
	echo "$label: pages|pages_scrubbed|bytes_zeroed|ms|wal = $out"
}
run "clean table (read-only pass)"
q "DELETE FROM bench_scrub WHERE id % 100 < $pct"
q "VACUUM (INDEX_CLEANUP ON) bench_scrub"
run "after deleting ${pct}% + VACUUM"
run "second pass"
q "DROP TABLE bench_scrub"

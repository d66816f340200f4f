#!/usr/bin/env bash
# Cost of the audit trail: identification (exhaustive 1:N over a gallery)
# with and without its audit record, and audit_event alone, at 1 and 8
# clients, on a throwaway cluster with durable commits (fsync = on).
#   PG_CONFIG=... bench/audit_bench.sh [DIR] [PORT]
# Environment: N (gallery size, 20000), DIM (512), T (seconds per run, 10),
# FSYNC (on; off shows the cost without a disk flush).
# audit cost = (audited latency - identify latency) / audited latency, which
# at a fixed number of clients is the loss of identification throughput.
# Prints a Markdown table; run as root (uses runuser -u postgres) or postgres.
set -euo pipefail
bindir=$("${PG_CONFIG:-pg_config}" --bindir)
dir=${1:-/tmp/frt-audit-bench}; port=${2:-55539}
N=${N:-20000}; DIM=${DIM:-512}; T=${T:-10}
as_pg() { if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi; }

rm -rf "$dir"; mkdir -p "$dir"; chown postgres "$dir"
as_pg "$bindir/initdb" -D "$dir/data" -A trust -U postgres >"$dir/initdb.log"
cat >>"$dir/data/postgresql.conf" <<CONF
port = $port
listen_addresses = ''
unix_socket_directories = '$dir'
shared_preload_libraries = 'frt'
fsync = ${FSYNC:-on}
synchronous_commit = on
shared_buffers = 256MB
CONF
as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null
trap 'as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null' EXIT
psql() { as_pg "$bindir/psql" -X -q -h "$dir" -p "$port" -U postgres "$@"; }

psql -c "CREATE EXTENSION frt" -c "CREATE TABLE faces (id int PRIMARY KEY, e frt.face_embedding($DIM))" \
	-c "INSERT INTO faces SELECT g, (SELECT array_agg(random()::real) FROM generate_series(1, $DIM) WHERE g > 0)::frt.face_embedding($DIM) FROM generate_series(1, $N) g" \
	-c "VACUUM ANALYZE faces"

cat >"$dir/identify.sql" <<SQL
\set pid random(1, $N)
SELECT id FROM faces ORDER BY e OPERATOR(frt.<=>) (SELECT e FROM faces WHERE id = :pid) LIMIT 5;
SQL
cat >"$dir/identify_audited.sql" <<SQL
\set pid random(1, $N)
SELECT id FROM faces ORDER BY e OPERATOR(frt.<=>) (SELECT e FROM faces WHERE id = :pid) LIMIT 5;
SELECT frt.audit_event('identify', 'match', 'bench', :pid::text, 'cam-1', 0.9);
SQL
cat >"$dir/audit_only.sql" <<SQL
\set pid random(1, $N)
SELECT frt.audit_event('identify', 'match', 'bench', :pid::text, 'cam-1', 0.9);
SQL
chown postgres "$dir"/*.sql

run() {	# script clients -> "tps latency_ms"
	as_pg "$bindir/pgbench" -h "$dir" -p "$port" -U postgres -n -M prepared -T "$T" \
		-c "$2" -j "$(( $2 < 2 ? 1 : 2 ))" -f "$dir/$1.sql" postgres 2>&1 |
		awk '/^latency average/ {l=$4} /^tps/ {t=$3} END {printf "%.0f %.3f\n", t, l}'
}

# Both scripts in one run, picked at random per transaction: the two share
# the machine's conditions (it is shared), so their latencies compare.
# -> "identify_tps identify_ms audited_tps audited_ms"
mixed() {
	as_pg "$bindir/pgbench" -h "$dir" -p "$port" -U postgres -n -M prepared -T "$T" \
		-c "$1" -j "$(( $1 < 2 ? 1 : 2 ))" -f "$dir/identify.sql@1" \
		-f "$dir/identify_audited.sql@1" postgres 2>&1 |
		awk '/^SQL script 1/ {s=1} /^SQL script 2/ {s=2}
			/ - [0-9]+ transactions/ {gsub(/[)(]/, ""); tps[s]=$NF}
			/ - latency average/ {lat[s]=$5}
			END {printf "%.1f %.3f %.1f %.3f\n", tps[1], lat[1], tps[2], lat[2]}'
}

echo "| clients | identify latency ms | identify + audit latency ms | audit cost | audit_event alone: tps / latency ms |"
echo "|---|---|---|---|---|"
for c in 1 8; do
	read -r _ li _ la < <(mixed "$c")
	read -r to lo < <(run audit_only "$c")
	cost=$(awk -v i="$li" -v a="$la" 'BEGIN {printf "%.1f%%", (a - i) / a * 100}')
	echo "| $c | $li | $la | $cost | $to / $lo |"
done
echo
echo "records written: $(psql -At -c 'SELECT count(*) FROM frt.audit'), chain: $(psql -At -c 'SELECT ok FROM frt.verify_audit_chain()')"

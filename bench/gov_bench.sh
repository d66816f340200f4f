#!/usr/bin/env bash
# Governance hot paths: enrolment, frt.verify (1:1) and frt.identify (1:N)
# through all their legal checks and audit calls, with pgbench.
#   bench/gov_bench.sh HOST PORT [SUBJECTS] [SECONDS] [CLIENTS]
# CLIENTS is one number or a comma-separated list (e.g. 2,1): each pgbench
# phase runs once per entry, on the same data.
# Creates (and drops) database frt_gov_bench.  512-dimension faces.
# identify asks k = 5 at the purpose's threshold (min_similarity NULL), so
# the same workload runs on builds with and without the threshold floor.
# INTRUSION=on (default): the build's default rules, as an own row of the
# role running pgbench; where identified_per_hour is on by default, that row
# raises it to 10^9, so identifications are counted (and, where limits are
# exact, serialized per role) as usual but never cut short: the run measures
# answers, not refusals.  INTRUSION=off switches every rule off (a '*' row
# of frt.intrusion_policy with NULL limits, identified_per_hour included
# where the column exists), to measure what the rules cost.
# Besides the readable output, each figure is printed as a line
#   gov_bench: METRIC VALUE
# (enrol_s, enrol_per_s, and per phase and client count
# PHASE_cN_tps / PHASE_cN_ms / PHASE_cN_cpu_ms with PHASE verify,
# identify_exh, identify_ivf; cpu_ms: the server's CPU time, all its
# processes, per transaction)
# for bench/gov_compare.sh.  A phase with a failed or aborted transaction,
# or an identification cut short by a limit, makes the script fail.
set -euo pipefail
host=$1; port=$2; n=${3:-20000}; secs=${4:-10}; clients=${5:-2}
psql="psql -X -q -v ON_ERROR_STOP=1 -h $host -p $port -U postgres"
db=frt_gov_bench
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gov_bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
$psql -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
$psql -d $db -v dim=512 -f "$(dirname "$0")/../test/gov_fixture.sql" >/dev/null
# identified_per_hour (frt.intrusion_policy): 'on' where the column has a
# default (the rule binds every role without a row), 'off' where it has none
iph=$($psql -d $db -tAc "SELECT CASE WHEN a.attname IS NULL THEN 'absent'
	WHEN d.adbin IS NULL THEN 'off' ELSE 'on' END
	FROM (SELECT 1) one
	LEFT JOIN pg_attribute a ON a.attrelid = 'frt.intrusion_policy'::regclass
	 AND a.attname = 'identified_per_hour' AND NOT a.attisdropped
	LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum")
if [ "${INTRUSION:-on}" = off ]; then
	cols='' vals=''
	[ "$iph" != absent ] && cols=', identified_per_hour' vals=', NULL'
	$psql -d $db -c "INSERT INTO frt.intrusion_policy (role_name, match_rate_per_minute, export_rate_per_hour,
		max_failed_verifications$cols) VALUES ('*', NULL, NULL, NULL$vals)"
else
	# the bench role's own row: the build's defaults, but an identification
	# limit that is on by default is raised out of reach (counted, never cut)
	cols='' vals=''
	[ "$iph" = on ] && cols=', identified_per_hour' vals=', 1000000000'
	$psql -d $db -c "INSERT INTO frt.intrusion_policy (role_name$cols) VALUES (session_user$vals)"
fi
keyed=n/a	# builds without an audit key
if [ "$($psql -d $db -tAc "SELECT to_regprocedure('frt.audit_protection()') IS NOT NULL")" = t ]; then
	keyed=$($psql -d $db -tAc "SELECT keyed FROM frt.audit_protection()")
fi
echo "intrusion-detection rules: ${INTRUSION:-on} (identified_per_hour by default: $iph); audit key: $keyed"
echo "gov_bench: keyed $keyed"
$psql -d $db <<SQL
CREATE FUNCTION bench_face(i int) RETURNS frt.face_embedding LANGUAGE sql IMMUTABLE AS
\$\$ SELECT array_agg(sin(i * 0.37 + j * 1.91 + i * j * 0.013))::float4[]::frt.face_embedding
    FROM generate_series(1, 512) j \$\$;
SELECT count(frt.register_subject('s' || i, '1980-01-01')) FROM generate_series(1, $n) i;
SELECT count(frt.give_consent('s' || i, p, 'self', 'written'))
FROM generate_series(1, $n) i, unnest(ARRAY['door', 'gate']) p;
SQL
t0=$(date +%s.%N)
$psql -d $db -c "SELECT count(frt.enroll('s' || i, 'door', bench_face(i), 'd1')) FROM generate_series(1, $n) i" >/dev/null
t1=$(date +%s.%N)
$psql -d $db -c "SELECT count(frt.enroll('s' || i, 'gate', bench_face(i), 'cam')) FROM generate_series(1, $n) i" >/dev/null
enrol_s=$(echo "$t1 - $t0" | bc)
echo "enrol: $n faces in $enrol_s s (one purpose)"
echo "gov_bench: enrol_s $enrol_s"
echo "gov_bench: enrol_per_s $(echo "scale=1; $n / $enrol_s" | bc)"
$psql -d $db -c "CREATE TABLE probes AS SELECT i, bench_face(i)::text AS p FROM generate_series(1, $n) i" \
	-c "VACUUM ANALYZE"
cat > "$tmp/verify.sql" <<PG
\set i random(1, $n)
SELECT * FROM frt.verify('s' || :i, 'door', (SELECT p FROM probes WHERE i = :i)::frt.face_embedding, 'd1');
PG
cat > "$tmp/identify.sql" <<PG
\set i random(1, $n)
SELECT * FROM frt.identify('gate', (SELECT p FROM probes WHERE i = :i)::frt.face_embedding, 'cam', 5);
PG
# The server's CPU time so far, in ms: the postmaster's own and that of the
# children it has reaped (every pgbench backend, once it has exited), plus
# its live children (audit writer, checkpointer, ...).  On a machine shared
# with other work this is steadier than wall time.  Needs the server on
# this machine and its data directory readable; prints nothing otherwise.
datadir=$($psql -d $db -tAc "SHOW data_directory")
clk=$(getconf CLK_TCK)
server_cpu_ms() {
	local pm
	pm=$(head -1 "$datadir/postmaster.pid" 2>/dev/null) || return 0
	[ -r "/proc/$pm/stat" ] || return 0
	{ sed 's/^.*) //' "/proc/$pm/stat" | awk '{print $12 + $13 + $14 + $15}'
	  for c in $(cat "/proc/$pm/task/$pm/children" 2>/dev/null); do
		sed 's/^.*) //' "/proc/$c/stat" 2>/dev/null | awk '{print $12 + $13}'
	  done; } | awk -v hz="$clk" '{t += $1} END {printf "%.0f\n", t * 1000 / hz}'
}
# identifications cut short by a limit so far (alert bulk_identification)
cut_short() {
	$psql -d $db -tAc "SELECT count(*) FROM frt.audit WHERE event = 'alert' AND outcome = 'bulk_identification'"
}
# phase NAME LABEL SCRIPT: pgbench at each client count; print and record the figures
phase() {
	local name=$1 label=$2 script=$3 c out tps ms cpu0 cpu1 txns
	for c in ${clients//,/ }; do
		echo "== $label, $c clients, ${secs}s"
		cpu0=$(server_cpu_ms)
		out=$(pgbench -n -h "$host" -p "$port" -U postgres -c "$c" -T "$secs" -f "$script" $db 2>&1) || {
			echo "$out"; echo "gov_bench: pgbench failed in phase $name" >&2; return 1; }
		sleep 0.2	# the backends have exited and been reaped
		cpu1=$(server_cpu_ms)
		echo "$out" | grep -E "latency average|tps"
		if echo "$out" | grep -qE 'aborted|failed transactions: [1-9]'; then
			echo "$out" | grep -E 'aborted|failed|ERROR' | head -5
			echo "gov_bench: phase $name had failed transactions" >&2
			return 1
		fi
		tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1)
		ms=$(echo "$out" | sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' | head -1)
		echo "gov_bench: ${name}_c${c}_tps $tps"
		echo "gov_bench: ${name}_c${c}_ms $ms"
		txns=$(echo "$out" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p')
		if [ -n "$cpu0" ] && [ -n "$cpu1" ] && [ "${txns:-0}" -gt 0 ]; then
			echo "server CPU: $(echo "scale=3; ($cpu1 - $cpu0) / $txns" | bc) ms per transaction"
			echo "gov_bench: ${name}_c${c}_cpu_ms $(echo "scale=3; ($cpu1 - $cpu0) / $txns" | bc)"
		fi
	done
}
phase verify "verify" "$tmp/verify.sql"
phase identify_exh "identify (exhaustive, no index)" "$tmp/identify.sql"
if $psql -d $db -tAc "SELECT 1 FROM pg_am WHERE amname = 'frt_ivf'" | grep -q 1; then
	$psql -d $db -c "CREATE INDEX face_gate_ivf ON frt.face USING frt_ivf (embedding frt.face_cosine_ops) WHERE purpose = 'gate'" -c "ANALYZE frt.face"
	phase identify_ivf "identify (frt_ivf, exact)" "$tmp/identify.sql"
fi
if [ "$(cut_short)" != 0 ]; then
	echo "gov_bench: $(cut_short) identifications were cut short by identified_per_hour" >&2
	exit 1
fi
echo "gov_bench: audit_records $($psql -d $db -tAc "SELECT count(*) FROM frt.audit")"
$psql -c "DROP DATABASE $db"

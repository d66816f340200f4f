#!/usr/bin/env bash
# Governance hot paths: enrolment, frt.verify (1:1) and frt.identify (1:N)
# through all their legal checks and audit calls, with pgbench.
#   bench/gov_bench.sh HOST PORT [SUBJECTS] [SECONDS] [CLIENTS]
# Creates (and drops) database frt_gov_bench.  512-dimension random faces.
# INTRUSION=off switches every intrusion-detection rule off (a '*' row of
# frt.intrusion_policy with NULL limits), to measure what the rules cost.
set -euo pipefail
host=$1; port=$2; n=${3:-20000}; secs=${4:-10}; clients=${5:-2}
psql="psql -X -q -h $host -p $port -U postgres"
db=frt_gov_bench
$psql -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
$psql -d $db -v dim=512 -f "$(dirname "$0")/../test/gov_fixture.sql" >/dev/null
if [ "${INTRUSION:-on}" = off ]; then
	$psql -d $db -c "INSERT INTO frt.intrusion_policy (role_name, match_rate_per_minute, export_rate_per_hour,
		max_failed_verifications) VALUES ('*', NULL, NULL, NULL)"
fi
echo "intrusion-detection rules: ${INTRUSION:-on}"
$psql -d $db <<SQL
CREATE FUNCTION bench_face(i int) RETURNS frt.face_embedding LANGUAGE sql IMMUTABLE AS
\$\$ SELECT array_agg(sin(i * 0.37 + j * 1.91 + i * j * 0.013))::float4[]::frt.face_embedding
    FROM generate_series(1, 512) j \$\$;
SELECT count(frt.register_subject('s' || i, '1980-01-01')) FROM generate_series(1, $n) i;
SELECT count(frt.give_consent('s' || i, p, 'self', 'written'))
FROM generate_series(1, $n) i, unnest(ARRAY['door', 'gate']) p;
SQL
t0=$(date +%s.%N)
$psql -d $db -c "SELECT count(frt.enroll('s' || i, 'door', bench_face(i), 'd1')) FROM generate_series(1, $n) i"
t1=$(date +%s.%N)
$psql -d $db -c "SELECT count(frt.enroll('s' || i, 'gate', bench_face(i), 'cam')) FROM generate_series(1, $n) i"
echo "enrol: $n faces in $(echo "$t1 - $t0" | bc) s (one purpose)"
$psql -d $db -c "CREATE TABLE probes AS SELECT i, bench_face(i)::text AS p FROM generate_series(1, $n) i" \
	-c "VACUUM ANALYZE"
cat > /tmp/gov_verify.sql <<PG
\set i random(1, $n)
SELECT * FROM frt.verify('s' || :i, 'door', (SELECT p FROM probes WHERE i = :i)::frt.face_embedding, 'd1');
PG
cat > /tmp/gov_identify.sql <<PG
\set i random(1, $n)
SELECT * FROM frt.identify('gate', (SELECT p FROM probes WHERE i = :i)::frt.face_embedding, 'cam', 5, 0.5);
PG
echo "== verify, $clients clients, ${secs}s"
pgbench -n -h $host -p $port -U postgres -c $clients -T $secs -f /tmp/gov_verify.sql $db | grep -E "latency average|tps"
echo "== identify (exhaustive, no index), $clients clients, ${secs}s"
pgbench -n -h $host -p $port -U postgres -c $clients -T $secs -f /tmp/gov_identify.sql $db | grep -E "latency average|tps"
if $psql -d $db -tAc "SELECT 1 FROM pg_am WHERE amname = 'frt_ivf'" | grep -q 1; then
	$psql -d $db -c "CREATE INDEX face_gate_ivf ON frt.face USING frt_ivf (embedding frt.face_cosine_ops) WHERE purpose = 'gate'" -c "ANALYZE frt.face"
	echo "== identify (frt_ivf, exact), $clients clients, ${secs}s"
	pgbench -n -h $host -p $port -U postgres -c $clients -T $secs -f /tmp/gov_identify.sql $db | grep -E "latency average|tps"
fi
$psql -c "DROP DATABASE $db"

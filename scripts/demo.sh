#!/usr/bin/env bash
# Set up everything and run the demo: install dependencies, build and install
# frt and frt_governance, run the core demo (scripts/demo_core.sql) on a
# throwaway cluster that preloads nothing, then start a cluster that preloads
# frt_governance and pg_cron, as the unprivileged user postgres, and run a
# realistic scenario (scripts/demo.sql); then a face recognition device of
# the SQLite edition (scripts/demo_device.sql through the sqlite3 shell)
# that syncs to that server.  Run as root (or with sudo).
set -euo pipefail
if [ "$(id -u)" != 0 ]; then exec sudo -E bash "$0" "$@"; fi
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
scripts/install-deps.sh
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
make -s -j2 >/dev/null && make -s install >/dev/null
make -s -j2 -f mk/sqlite.mk >/dev/null
psql="$($PG_CONFIG --bindir)/psql"

# 1. The core alone, on a server that preloads nothing.
core=/tmp/frt-demo-core
scripts/cluster.sh stop "$core" 2>/dev/null || true
FRT_PRELOAD= scripts/cluster.sh start "$core" "${FRT_DEMO_CORE_PORT:-54331}"
cp scripts/demo_core.sql "$core/demo_core.sql"; chown postgres "$core/demo_core.sql"
runuser -u postgres -- "$psql" -X -h "$core" -p "${FRT_DEMO_CORE_PORT:-54331}" -U postgres -d postgres \
	-v ON_ERROR_STOP=1 -f "$core/demo_core.sql"
scripts/cluster.sh stop "$core"
echo

# 2. The governance module, preloaded, with pg_cron.
dir=/tmp/frt-demo
port=${FRT_DEMO_PORT:-54330}
scripts/cluster.sh stop "$dir" 2>/dev/null || true
# with an audit key and an anchor file, as docs/operations.md sets them up
FRT_AUDIT_KEY=on scripts/cluster.sh start "$dir" "$port"
cp scripts/demo.sql "$dir/demo.sql"; chown postgres "$dir/demo.sql"
runuser -u postgres -- "$psql" -X -h "$dir" -p "$port" -U postgres -d postgres \
	-v ON_ERROR_STOP=1 -f "$dir/demo.sql"
sleep 2
echo
echo "The chain head as the audit writer sent it out of the database ($dir/keys/audit-anchors):"
tail -n 1 "$dir/keys/audit-anchors"
echo

# 3. A device of the SQLite edition: its own gallery and rules, then a sync
# of the transfer-consented faces and its audit trail to the server above.
dev=/tmp/frt-demo-device
rm -rf "$dev"; mkdir -p "$dev"; cp scripts/demo_device.sql "$dev/"; chown -R postgres "$dev"
pq() { runuser -u postgres -- "$psql" -X -q -h "$dir" -p "$port" -d postgres -v ON_ERROR_STOP=1 "$@"; }
devsql() { (cd "$dev" && runuser -u postgres -- sqlite3 -batch device.db ".load $src/frt_sqlite" "$@"); }
echo "== the device (SQLite edition, $dev/device.db)"
# (the refusals it shows are errors of the sqlite3 shell: its status is not the demo's)
(cd "$dev" && { echo ".load $src/frt_sqlite"; cat demo_device.sql; } | runuser -u postgres -- sqlite3 -batch device.db) 2>&1 || true
[ -s "$dev/sync-payload.json" ] || { echo "frt: the device demo made no payload" >&2; exit 1; }
echo "== the server takes the device's payload from the device's own login (frt.device_sync)"
pq -U postgres <<'SQL'
SET ROLE acme_admin;
INSERT INTO frt.device (name, location_type) VALUES ('turnstile-7', 'workplace');
RESET ROLE;
CREATE ROLE turnstile7 LOGIN IN ROLE frt_enroller;
SELECT frt.grant_application('turnstile7', 'door', ARRAY['enrol']);
SELECT frt.bind_device('turnstile-7', 'turnstile7');
SQL
pq -U acme_dpo -c "SELECT frt.approve_device('turnstile-7');" >/dev/null
echo "SELECT frt.device_sync(:'payload'::jsonb)" |
	pq -U turnstile7 -At -v payload="$(cat "$dev/sync-payload.json")" > "$dev/ack.json"
chown postgres "$dev/ack.json"
echo "SELECT jsonb_pretty(:'ack'::jsonb) AS server_reply" | pq -U postgres -v ack="$(cat "$dev/ack.json")"
pq -U postgres -c "SELECT device, count(*) AS records_received FROM frt.device_audit GROUP BY device" \
	-c "SELECT subject, purpose FROM frt.face WHERE subject LIKE 'emp-%' ORDER BY subject"
echo "== the device records the server's answer"
devsql "SELECT frt_sync_ack(readfile('ack.json')) AS acknowledged_through;" \
	"SELECT seq, event, outcome, coalesce(subject, '') FROM frt_audit ORDER BY seq DESC LIMIT 4;" \
	"SELECT frt_audit_verify();"
echo
echo "The demo cluster is still running: psql -h $dir -p $port -U postgres"
echo "Stop it with: sudo scripts/cluster.sh stop $dir"

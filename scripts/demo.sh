#!/usr/bin/env bash
# Set up everything and run the demo: install dependencies, build and install
# frt and frt_governance, run the core demo (scripts/demo_core.sql) on a
# throwaway cluster that preloads nothing, then start a cluster that preloads
# frt_governance and pg_cron, as the unprivileged user postgres, and run a
# realistic scenario (scripts/demo.sql).  Run as root (or with sudo).
set -euo pipefail
if [ "$(id -u)" != 0 ]; then exec sudo -E bash "$0" "$@"; fi
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
scripts/install-deps.sh
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
make -s -j2 >/dev/null && make -s install >/dev/null
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
echo "The demo cluster is still running: psql -h $dir -p $port -U postgres"
echo "Stop it with: sudo scripts/cluster.sh stop $dir"

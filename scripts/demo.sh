#!/usr/bin/env bash
# Set up everything and run the demo: install dependencies, build and install
# frt, start a throwaway cluster as the unprivileged user postgres, and run a
# realistic scenario (scripts/demo.sql).  Run as root (or with sudo).
set -euo pipefail
if [ "$(id -u)" != 0 ]; then exec sudo -E bash "$0" "$@"; fi
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
scripts/install-deps.sh
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
make -s -j2 >/dev/null && make -s install >/dev/null
dir=/tmp/frt-demo
port=${FRT_DEMO_PORT:-54330}
scripts/cluster.sh stop "$dir" 2>/dev/null || true
scripts/cluster.sh start "$dir" "$port"
cp scripts/demo.sql "$dir/demo.sql"; chown postgres "$dir/demo.sql"
runuser -u postgres -- "$($PG_CONFIG --bindir)/psql" -X -h "$dir" -p "$port" -U postgres -d postgres \
	-v ON_ERROR_STOP=1 -f "$dir/demo.sql"
echo
echo "The demo cluster is still running: psql -h $dir -p $port -U postgres"
echo "Stop it with: sudo scripts/cluster.sh stop $dir"

#!/usr/bin/env bash
# Governed enrolment, verification and withdrawal on a device gallery of the
# SQLite edition: a gallery of N faces (consent, then frt_enroll, each its
# own transaction as on a device), then OPS more subjects enrolled, verified
# and withdrawn one call each (each withdrawal erases the face physically),
# timed by the sqlite3 shell, in the rollback-journal default (DELETE,
# synchronous FULL) and in WAL with synchronous NORMAL.
#   bench/sqlite_gov_bench.sh [N] [OPS]          (after make -f mk/sqlite.mk)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-10000}; ops=${2:-100}; dim=512
work=$(mktemp -d /tmp/frt-sqgov-bench.XXXXXX); trap 'rm -rf "$work"' EXIT
vectors() { # temp table v(i, e) of random unit-box vectors, subjects $1..$2
	cat <<SQL
CREATE TEMP TABLE v(i INTEGER PRIMARY KEY, e TEXT);
WITH RECURSIVE n(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM n WHERE i < $2),
     d(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM d WHERE j < $dim)
INSERT INTO v SELECT i, (SELECT '[' || group_concat(printf('%.5f', (abs(random()) % 20001) / 10000.0 - 1.0), ',')
                          || ']' FROM d WHERE i > 0) FROM n;
SELECT count(frt_consent_give('s' || i, 'door', 1, '1990-01-01')) FROM v;
SQL
}
{
	echo ".load $top/frt_sqlite"
	echo "SELECT frt_device_init('bench-dev', 'Bench Ltd', $dim);"
	echo "SELECT frt_purpose_add('door', 'bench', 365, 0.25);"
	echo "SELECT frt_notice_publish('door', 'notice');"
	vectors 1 "$n"
	echo "SELECT count(frt_enroll('s' || i, 'door', e)) FROM v;"
} | sqlite3 -batch "$work/base.db" >/dev/null
echo "gallery: $n faces, $(du -k "$work/base.db" | cut -f1) kB"
for mode in delete wal; do
	cp "$work/base.db" "$work/$mode.db"
	{
		echo ".load $top/frt_sqlite"
		[ $mode = wal ] && echo "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
		vectors $((n + 1)) $((n + ops))
		echo ".timer on"
		echo "SELECT 'enrol', count(frt_enroll('s' || i, 'door', e)) FROM v;"
		echo "SELECT 'verify', count(frt_verify('s' || i, 'door', e)) FROM v;"
		echo "SELECT 'withdraw', sum(frt_withdraw('s' || i)) FROM v;"
		echo ".timer off"
		echo "SELECT frt_erasure_status();"
	} | sqlite3 -batch "$work/$mode.db" 2>&1 | awk -v ops="$ops" -v mode="$mode" '
		/^(enrol|verify|withdraw)\|/ { split($0, a, "|"); what = a[1]; next }
		/^Run Time:/ { printf "%-8s %-8s %8.3f ms per call (real), %6.3f ms CPU\n", mode, what, $4 * 1000 / ops, ($6 + $8) * 1000 / ops; next }
		/erasure/ { print mode, $0 }'
done

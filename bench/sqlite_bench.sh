#!/usr/bin/env bash
# The SQLite edition's gallery against sqlite-vec's vec0, in one run, at
# each size: builds frt_sqlite.so, bench/facegen and bench/sqlite_bench,
# fetches vec0.so with `npm pack sqlite-vec-linux-x64@VERSION` unless
# --vec0 names one, and writes one Markdown table per size.
#
#   bench/sqlite_bench.sh [--sizes 10000,100000] [--dim 512] [--probes 200]
#                         [--exhaustive 10] [--ops 100] [--vec0 PATH-without-.so]
#                         [--vec-version 0.1.9] [--out bench/out/sqlite]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
sizes=10000,100000; dim=512; probes=200; exhaustive=10; ops=100
vec0=""; vecver=0.1.9; out="$top/bench/out/sqlite"
while [ $# -gt 0 ]; do
	case "$1" in
		--sizes) sizes=$2 ;; --dim) dim=$2 ;; --probes) probes=$2 ;;
		--exhaustive) exhaustive=$2 ;; --ops) ops=$2 ;; --vec0) vec0=$2 ;;
		--vec-version) vecver=$2 ;; --out) out=$2 ;;
		*) echo "usage: $0 [--sizes N,N] [--dim D] [--probes P] [--exhaustive E] [--ops O] [--vec0 LIB] [--vec-version V] [--out DIR]" >&2; exit 2 ;;
	esac
	shift 2
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
make -C "$top" -s -f mk/sqlite.mk
make -C "$top/bench" -s facegen
cc -std=gnu99 -O2 -Wall -Wextra -o "$top/bench/sqlite_bench" "$top/bench/sqlite_bench.c" -lsqlite3 -lm
if [ -z "$vec0" ]; then
	( cd "$out" && npm pack --silent "sqlite-vec-linux-x64@$vecver" > /dev/null &&
	  tar xzf "sqlite-vec-linux-x64-$vecver.tgz" package/vec0.so )
	vec0="$out/package/vec0"
fi
IFS=, read -ra ns <<< "$sizes"
for n in "${ns[@]}"; do
	f="$out/sqlite_$n.md"
	{
		echo "sqlite-vec $(sqlite3 :memory: ".load $vec0" 'SELECT vec_version()'), SQLite $(sqlite3 --version | cut -d' ' -f1), $(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
		echo "command: bench/sqlite_bench.sh --sizes $n --dim $dim --probes $probes --exhaustive $exhaustive --ops $ops"
		echo
		"$top/bench/sqlite_bench" --frt "$top/frt_sqlite" --vec0 "$vec0" --facegen "$top/bench/facegen" \
			--n "$n" --dim "$dim" --probes "$probes" --exhaustive "$exhaustive" --ops "$ops" --dir "$out"
	} | tee "$f"
	rm -f "$out"/frt_"$n".db "$out"/vec0_"$n".db
done

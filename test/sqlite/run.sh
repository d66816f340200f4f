#!/usr/bin/env bash
# The SQLite edition's tests, run from the top of the tree after
# `make -f mk/sqlite.mk`:
#   test/sqlite/sql/NAME.sql   run through the sqlite3 shell (the extension is
#                              loaded first, in a fresh database file); the
#                              output must equal test/sqlite/expected/NAME.out
#   test/sqlite/c/NAME.c       C harnesses: compiled against libsqlite3 and
#                              run in a fresh directory; exit 0 = pass
# Prints one line per test and a summary; exits non-zero if any failed.
# Arguments: test names to run only those.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
lib="$top/frt_sqlite"
res="$top/test/sqlite/results"
rm -rf "$res"; mkdir -p "$res"
pass=0; fail=0; failed=()
want() { [ $# -eq 0 ] && return 0; local t; for t in "${ARGS[@]}"; do [ "$t" = "$1" ] && return 0; done; return 1; }
ARGS=("$@")

for f in "$top"/test/sqlite/sql/*.sql; do
	[ -e "$f" ] || continue
	name=$(basename "$f" .sql)
	[ ${#ARGS[@]} -eq 0 ] || want "$name" || continue
	dir="$res/$name"; mkdir -p "$dir"
	( cd "$dir" && { echo ".load $lib"; cat "$f"; } | sqlite3 -batch -noheader test.db > "$dir/out" 2>&1 )
	if diff -u "$top/test/sqlite/expected/$name.out" "$dir/out" > "$dir/diff" 2>&1; then
		echo "ok     sql/$name"; pass=$((pass + 1))
	else
		echo "FAILED sql/$name (diff: test/sqlite/results/$name/diff)"; fail=$((fail + 1)); failed+=("sql/$name")
	fi
done

for f in "$top"/test/sqlite/c/*.c; do
	[ -e "$f" ] || continue
	name=$(basename "$f" .c)
	[ ${#ARGS[@]} -eq 0 ] || want "$name" || continue
	dir="$res/c_$name"; mkdir -p "$dir"
	if ! cc -std=gnu99 -O2 -Wall -Wextra -I"$top/include" -I"$top/test/sqlite/c" -o "$dir/$name" "$f" \
		-lsqlite3 -lm > "$dir/out" 2>&1; then
		echo "FAILED c/$name (compile: test/sqlite/results/c_$name/out)"; fail=$((fail + 1)); failed+=("c/$name")
		continue
	fi
	if ( cd "$dir" && FRT_SQLITE_LIB="$lib" "./$name" >> "$dir/out" 2>&1 ); then
		echo "ok     c/$name"; pass=$((pass + 1))
	else
		echo "FAILED c/$name (output: test/sqlite/results/c_$name/out)"; fail=$((fail + 1)); failed+=("c/$name")
	fi
done

echo "SQLite edition: $pass passed, $fail failed${failed:+ (${failed[*]})}"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]

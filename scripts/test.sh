#!/usr/bin/env bash
# Run frt's whole test suite: install dependencies, build, install, then run
# the pg_regress suites (make installcheck) against a throwaway cluster, the
# TAP tests (make prove_installcheck) and the SQLite edition's suite
# (make -f mk/sqlite.mk check), all as the unprivileged user postgres.
# Ends with the runners' own summary lines; exits non-zero if anything
# failed.  Run as root (or with sudo) from the repository.
#   scripts/test.sh                          everything
#   scripts/test.sh test/t/070_upgrade.pl    only these TAP tests (no pg_regress, no SQLite suite)
# The TAP tests get the repository's git directory as FRT_GIT_DIR (the
# upgrade test takes the previous release from it); FRT_UPGRADE_FROM and
# FRT_TAG_PREFIX are passed on (see test/t/070_upgrade.pl).
set -uo pipefail
if [ "$(id -u)" != 0 ]; then exec sudo -E bash "$0" "$@"; fi
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
tap_only="$*"
git_dir=${FRT_GIT_DIR:-$(git -c safe.directory='*' -C "$src" rev-parse --absolute-git-dir 2>/dev/null || true)}
scripts/install-deps.sh || exit 1
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
# Warnings are errors: the build must be clean under -Wall -Wextra.
make -s -j2 PG_CONFIG="$PG_CONFIG" FRT_WERROR=-Werror >/dev/null && make -s PG_CONFIG="$PG_CONFIG" install >/dev/null || { echo "frt: build failed" >&2; exit 1; }
make -s -j2 -f mk/sqlite.mk FRT_WERROR=-Werror >/dev/null || { echo "frt: SQLite edition build failed" >&2; exit 1; }

# A copy of the tree the postgres user can write to (results, tmp_check).
work=$(mktemp -d /tmp/frt-test.XXXXXX)
tar -C "$src" --exclude=.git --exclude=results --exclude=regress --exclude=tmp_check -cf - . | tar -C "$work" -xf -
chown -R postgres "$work"
port=${FRT_TEST_PORT:-54329}
cleanup() { scripts/cluster.sh stop "$work/cluster" >/dev/null 2>&1 || true; }
trap cleanup EXIT
scripts/cluster.sh start "$work/cluster" "$port" || { cat "$work/cluster/server.log" >&2; exit 1; }

regress_rc=0
if [ -z "$tap_only" ]; then
	echo "== pg_regress (make installcheck)"
	runuser -u postgres -- make -C "$work" -k -s installcheck PG_CONFIG="$PG_CONFIG" \
		PGHOST="$work/cluster" PGPORT="$port" >"$work/regress.log" 2>&1
	regress_rc=$?
	cat "$work/regress.log"
	[ $regress_rc = 0 ] || cat "$work"/regress/*/regression.diffs 2>/dev/null | head -300
else
	: >"$work/regress.log"
fi

echo "== TAP (make prove_installcheck${tap_only:+ $tap_only})"
runuser -u postgres -- env PATH="$($PG_CONFIG --bindir):$PATH" FRT_GIT_DIR="$git_dir" \
	FRT_UPGRADE_FROM="${FRT_UPGRADE_FROM:-}" FRT_TAG_PREFIX="${FRT_TAG_PREFIX:-v}" \
	make -C "$work" -s prove_installcheck PG_CONFIG="$PG_CONFIG" PROVE_FLAGS="-I test/lib ${PROVE_EXTRA:-}" \
	${tap_only:+PROVE_TESTS="$tap_only"} >"$work/prove.log" 2>&1
prove_rc=$?
cat "$work/prove.log"
if [ $prove_rc != 0 ]; then
	for f in "$work"/tmp_check/log/*.log; do
		[ -f "$f" ] && { echo "---- $f"; tail -40 "$f"; }
	done
fi

sqlite_rc=0
if [ -z "$tap_only" ]; then
	echo "== SQLite edition (make -f mk/sqlite.mk check)"
	runuser -u postgres -- bash "$work/test/sqlite/run.sh" >"$work/sqlite.log" 2>&1
	sqlite_rc=$?
	cat "$work/sqlite.log"
else
	: >"$work/sqlite.log"
fi

echo
echo "== summary"
grep -E "tests? passed|tests? failed|of [0-9]+ tests|All [0-9]+ tests" "$work/regress.log"
grep -E "^(Files=|Result:)" "$work/prove.log" | tail -2
grep -E "^SQLite edition:" "$work/sqlite.log"
[ $regress_rc = 0 ] && [ $prove_rc = 0 ] && [ $sqlite_rc = 0 ]

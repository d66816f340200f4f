#!/usr/bin/env bash
# Compare two builds of frt side by side in one run.
#   bench/compare.sh --base REV [--head REV | --head-tree DIR] [--repo DIR]
#                    [--pg-prefix PREFIX] [compare.py and run.py options ...]
# Each side is exported (git archive REV; --head-tree: the working tree DIR
# with its uncommitted changes), built with PGXS and installed into its own
# private PostgreSQL copy, PREFIX-base and PREFIX-head (scripts/private-pg.sh;
# default PREFIX /opt/pg-bench).  bench/compare.py then generates the data
# once and runs bench/run.py against base and head in alternating rounds.
# --head defaults to HEAD; --repo (where the revisions are) to this checkout.
# See bench/README.md.
set -euo pipefail
shopt -s inherit_errexit
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
base='' head='' tree='' repo=$root prefix=/opt/pg-bench rest=()
while [ $# -gt 0 ]; do
	case $1 in
	--base) base=$2; shift 2 ;;
	--head) head=$2; shift 2 ;;
	--head-tree) tree=$(cd "$2" && pwd); shift 2 ;;
	--repo) repo=$2; shift 2 ;;
	--pg-prefix) prefix=$2; shift 2 ;;
	*) rest+=("$1"); shift ;;
	esac
done
if [ -z "$base" ] || { [ -n "$head" ] && [ -n "$tree" ]; }; then
	sed -n '2,11p' "$0" >&2; exit 2
fi
[ -n "$tree" ] || head=${head:-HEAD}

work=$(mktemp -d "${TMPDIR:-/tmp}/frt-compare.XXXXXX")
trap 'rm -rf "$work"' EXIT

. "$here/sides.sh"
sides_prepare "$root" "$repo" "$base" "$head" "$tree" "$prefix" "$work"

status=0
python3 "$here/compare.py" --base-pg-config "$base_pgc" --head-pg-config "$head_pgc" \
	--base-label "$base_label" --head-label "$head_label" \
	--base-rev "$base_rev" --head-rev "$head_rev" --work "$work" ${rest[@]+"${rest[@]}"} || status=$?
echo "compare.sh: done in ${SECONDS}s" >&2
exit $status

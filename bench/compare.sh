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
mkdir "$work/base" "$work/head"

# the sources of each side
git -C "$repo" archive "$base" | tar -x -C "$work/base"
if [ -n "$tree" ]; then
	# tracked and untracked files as they are now, not ignored ones (build outputs)
	git -C "$tree" ls-files -z -co --exclude-standard |
		(cd "$tree" && tar --null -T - --ignore-failed-read -cf - 2>/dev/null) |
		tar -x -C "$work/head"
	head_label=$(git -C "$tree" rev-parse --short HEAD)-tree
	head_rev="working tree at $head_label"
else
	git -C "$repo" archive "$head" | tar -x -C "$work/head"
	head_label=$(git -C "$repo" rev-parse --short "$head^{commit}")
	head_rev="$head ($(git -C "$repo" log -1 --format='%h %s' "$head"))"
fi
base_label=$(git -C "$repo" rev-parse --short "$base^{commit}")
base_rev="$base ($(git -C "$repo" log -1 --format='%h %s' "$base"))"

# build SIDE: make and install into PREFIX-SIDE, after removing any frt files
# an earlier install left there (the other layout's extensions, say); prints
# the copy's pg_config
build() {
	local side=$1 pgc
	pgc=$("$root/scripts/private-pg.sh" "$prefix-$side")
	rm -rf "$("$pgc" --sharedir)"/extension/frt* "$("$pgc" --pkglibdir)"/frt*.so \
		"$("$pgc" --pkglibdir)"/bitcode/frt*
	echo "compare.sh: building $side in $prefix-$side" >&2
	if ! { make -C "$work/$side" -j2 PG_CONFIG="$pgc" &&
		make -C "$work/$side" PG_CONFIG="$pgc" install; } >"$work/$side.log" 2>&1; then
		tail -n 40 "$work/$side.log" >&2
		echo "compare.sh: the $side build failed" >&2
		return 1
	fi
	echo "$pgc"
}
base_pgc=$(build base)
head_pgc=$(build head)
echo "compare.sh: built both in ${SECONDS}s" >&2

status=0
python3 "$here/compare.py" --base-pg-config "$base_pgc" --head-pg-config "$head_pgc" \
	--base-label "$base_label" --head-label "$head_label" \
	--base-rev "$base_rev" --head-rev "$head_rev" --work "$work" ${rest[@]+"${rest[@]}"} || status=$?
echo "compare.sh: done in ${SECONDS}s" >&2
exit $status

# Sourced by bench/compare.sh and bench/gov_compare.sh: the two sides of a
# comparison, each exported from git (or a working tree), built with PGXS and
# installed into its own private PostgreSQL copy (scripts/private-pg.sh).

# side_export REPO REV TREE DEST: the sources of REV in REPO (or, with TREE
# non-empty, the working tree TREE as it is, uncommitted changes included)
# into DEST; sets side_label (short commit) and side_rev (what was measured)
side_export() {
	local repo=$1 rev=$2 tree=$3 dest=$4
	mkdir -p "$dest"
	if [ -n "$tree" ]; then
		# tracked and untracked files as they are now, not ignored ones (build outputs)
		git -C "$tree" ls-files -z -co --exclude-standard |
			(cd "$tree" && tar --null -T - --ignore-failed-read -cf - 2>/dev/null) |
			tar -x -C "$dest"
		side_label=$(git -C "$tree" rev-parse --short HEAD)-tree
		side_rev="working tree at $side_label"
	else
		git -C "$repo" archive "$rev" | tar -x -C "$dest"
		side_label=$(git -C "$repo" rev-parse --short "$rev^{commit}")
		side_rev="$rev ($(git -C "$repo" log -1 --format='%h %s' "$rev"))"
	fi
}

# side_build ROOT PREFIX SIDE SRC: make SRC and install it into PREFIX-SIDE
# (a private copy made by ROOT/scripts/private-pg.sh on first use), after
# removing any frt files an earlier install left there (the other layout's
# extensions, say); the log goes to SRC.log; prints the copy's pg_config
side_build() {
	local root=$1 prefix=$2 side=$3 src=$4 pgc
	pgc=$("$root/scripts/private-pg.sh" "$prefix-$side")
	rm -rf "$("$pgc" --sharedir)"/extension/frt* "$("$pgc" --pkglibdir)"/frt*.so \
		"$("$pgc" --pkglibdir)"/bitcode/frt*
	echo "$(basename "$0"): building $side in $prefix-$side" >&2
	if ! { make -C "$src" -j2 PG_CONFIG="$pgc" &&
		make -C "$src" PG_CONFIG="$pgc" install; } >"$src.log" 2>&1; then
		tail -n 40 "$src.log" >&2
		echo "$(basename "$0"): the $side build failed" >&2
		return 1
	fi
	echo "$pgc"
}

# sides_prepare ROOT REPO BASE HEAD TREE PREFIX WORK: both sides exported
# into WORK/base and WORK/head and built into PREFIX-base and PREFIX-head;
# sets base_label, base_rev, head_label, head_rev, base_pgc and head_pgc
sides_prepare() {
	local root=$1 repo=$2 base=$3 head=$4 tree=$5 prefix=$6 work=$7
	side_export "$repo" "$base" '' "$work/base"
	base_label=$side_label base_rev=$side_rev
	side_export "$repo" "$head" "$tree" "$work/head"
	head_label=$side_label head_rev=$side_rev
	base_pgc=$(side_build "$root" "$prefix" base "$work/base")
	head_pgc=$(side_build "$root" "$prefix" head "$work/head")
	echo "$(basename "$0"): built both in ${SECONDS}s" >&2
}

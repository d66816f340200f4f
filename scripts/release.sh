#!/usr/bin/env bash
# Prepare release VERSION of frt and frt_governance (docs/releasing.md):
#   scripts/release.sh 1.1.0
# From a clean checkout of the commit to release, as root (the upgrade test
# runs PostgreSQL as the user postgres, like scripts/test.sh):
#   1. checks VERSION (X.Y.Z, above the previous release, no tag vVERSION yet)
#      and that CHANGELOG.md has entries under "## Unreleased";
#   2. sets default_version = 'VERSION' in frt.control and frt_governance.control
#      (the install scripts frt--VERSION.sql are named from them by make;
#      a version planned during development is replaced);
#   3. upgrade scripts, for each extension, from the previous release PREV:
#      sql/upgrade/<ext>--PREV--VERSION.sql.  One written during development
#      for another planned version (<ext>--PREV--X.sql) is renamed; an
#      extension without one gets one that changes nothing (its objects must
#      then be unchanged, which step 5 checks);
#   4. CHANGELOG.md: "## Unreleased" becomes "## VERSION - DATE" under a new,
#      empty "## Unreleased";
#   5. runs the upgrade test (test/t/070_upgrade.pl, through scripts/test.sh)
#      from PREV to the changed tree: it fails on any SQL object change since
#      PREV that the upgrade scripts do not make.
# It commits, tags and pushes nothing; it prints the commands that do.  The
# first release (no earlier tag) has no upgrade scripts and skips step 5.
# Environment: FRT_TAG_PREFIX (default v), FRT_UPGRADE_FROM (the previous
# release's tag; default the newest tag PREFIX<X.Y.Z> reachable from HEAD),
# FRT_RELEASE_DATE (default today, UTC), PG_CONFIG.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then exec sudo -E bash "$0" "$@"; fi
version=${1:-}
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
prefix=${FRT_TAG_PREFIX:-v}
date=${FRT_RELEASE_DATE:-$(date -u +%F)}
exts="frt frt_governance"
die() { echo "release: $*" >&2; exit 1; }
git() { command git -c safe.directory='*' "$@"; }
# default_version of a control file's text on stdin
control_version() { sed -n "s/^[[:space:]]*default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p"; }
# true when version $1 sorts strictly before $2
version_lt() { [ "$1" != "$2" ] && [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -1)" = "$1" ]; }

# 1. checks
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "usage: scripts/release.sh X.Y.Z"
tag="$prefix$version"
git rev-parse -q --verify "refs/tags/$tag" >/dev/null && die "tag $tag exists already"
# Uncommitted changes only where this script writes (so that it can run again
# after an upgrade script was completed).
dirty=$(git status --porcelain --untracked-files=no | cut -c4- |
	grep -vE '^(frt\.control|frt_governance\.control|CHANGELOG\.md|sql/upgrade/.*)$' || true)
[ -z "$dirty" ] || die "uncommitted changes outside the release files: $dirty"
grep -q '^## Unreleased' CHANGELOG.md || die "CHANGELOG.md has no '## Unreleased' section"
if ! grep -q "^## $version - " CHANGELOG.md; then
	[ -n "$(sed -n '/^## Unreleased/,/^## /{/^## /d;/[^[:space:]]/p}' CHANGELOG.md)" ] ||
		die "CHANGELOG.md: nothing under '## Unreleased'"
fi
for e in $exts; do
	[ -n "$(control_version <"$e.control")" ] || die "$e.control: no default_version"
done

prev_tag=${FRT_UPGRADE_FROM:-$(git tag --merged HEAD --list "${prefix}[0-9]*" --sort=-v:refname | head -1)}
prev=
if [ -n "$prev_tag" ]; then
	prev=$(git show "$prev_tag:frt.control" | control_version)
	[ -n "$prev" ] || die "$prev_tag: no default_version in frt.control"
	version_lt "$prev" "$version" || die "$version is not above the previous release $prev ($prev_tag)"
fi
echo "release: $version (tag $tag), previous release: ${prev_tag:-none}${prev:+ ($prev)}"

# 2. control files (a version planned during development may differ)
for e in $exts; do
	cur=$(control_version <"$e.control")
	[ "$cur" = "$version" ] || echo "release: $e.control: $cur -> $version"
	sed -i "s/^\([[:space:]]*default_version[[:space:]]*=[[:space:]]*\)'[^']*'/\1'$version'/" "$e.control"
	[ "$(control_version <"$e.control")" = "$version" ] || die "$e.control: default_version not set"
done

# 3. upgrade scripts from the previous release
if [ -n "$prev" ]; then
	mkdir -p sql/upgrade
	for e in $exts; do
		want="sql/upgrade/$e--$prev--$version.sql"
		others=$(ls sql/upgrade/"$e--$prev--"*.sql 2>/dev/null | grep -vxF "$want" || true)
		if [ -n "$others" ]; then
			[ ! -e "$want" ] && [ "$(echo "$others" | wc -l)" = 1 ] ||
				die "several upgrade scripts from $prev for $e: $want $others"
			mv "$others" "$want"
			sed -i -e "s/UPDATE TO '[^']*'/UPDATE TO '$version'/" -e "1s/ -> [0-9][0-9.]*/ -> $version/" "$want"
			echo "release: renamed $others to $want"
		elif [ ! -e "$want" ]; then
			cat >"$want" <<SQL
-- $e $prev -> $version: no change to SQL objects.
\\echo Use "ALTER EXTENSION $e UPDATE TO '$version'" to load this file. \\quit
SQL
			echo "release: created $want (no change to $e's SQL objects since $prev_tag)"
		else
			echo "release: $want present"
		fi
	done
fi

# 4. CHANGELOG
if ! grep -q "^## $version - " CHANGELOG.md; then
	sed -i "0,/^## Unreleased[[:space:]]*$/s//## Unreleased\n\n## $version - $date/" CHANGELOG.md
	grep -q "^## $version - $date\$" CHANGELOG.md || die "CHANGELOG.md: section not renamed"
fi

# 5. the upgrade test
if [ -n "$prev" ]; then
	echo "release: upgrade test from $prev_tag (test/t/070_upgrade.pl)"
	FRT_UPGRADE_FROM=$prev_tag FRT_TAG_PREFIX=$prefix scripts/test.sh test/t/070_upgrade.pl ||
		die "the upgrade test failed: complete sql/upgrade/*--$prev--$version.sql (the changes are left in the working tree)"
else
	echo "release: first release, no upgrade scripts; test/t/070_upgrade.pl runs from $tag once it is tagged"
fi

cat <<EOF

release: $version prepared.  Review, then:
  git diff HEAD --stat; git add -A frt.control frt_governance.control CHANGELOG.md sql/upgrade
  git commit -m "Release $version"
  git tag -a $tag -m "frt and frt_governance $version"
  scripts/test.sh                # the whole suite, upgrade test included (from ${prev_tag:-$tag})
Then push the commit and the tag (git push origin HEAD $tag).
EOF

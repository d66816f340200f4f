#!/usr/bin/env bash
# The governance hot paths of two builds side by side in one run.
#   bench/gov_compare.sh --base REV [--head REV | --head-tree DIR] [--repo DIR]
#       [--pg-prefix PREFIX] [--dir DIR] [--port PORT] [--rounds N]
#       [--subjects N] [--seconds S] [--clients LIST] [--intrusion on|off]
#       [--key] [--out DIR]
# Each side is exported and built into its own private PostgreSQL copy
# (bench/sides.sh, as bench/compare.sh does; PREFIX-base, PREFIX-head,
# default PREFIX /opt/pg-gov-bench), one throwaway cluster each is started
# (scripts/cluster.sh: fsync = off, shared_preload_libraries =
# 'frt_governance'; DIR/base on PORT, DIR/head on PORT+1), and
# bench/gov_bench.sh (from this checkout) runs against them in alternating
# rounds.  --key adds a third variant, head with an audit key
# (frt.audit_key_file, a file outside the data directory, mode 0600;
# the head cluster is restarted with and without it).  Prints one table of
# medians and head/base ratios, written with the raw figures to OUT
# (default bench/results).  See bench/README.md.
set -euo pipefail
shopt -s inherit_errexit
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
base='' head='' tree='' repo=$root prefix=/opt/pg-gov-bench dir=/tmp/frt-gov-compare
port=55570 rounds=2 subjects=5000 secs=10 clients=2,1 intrusion=on key=0 out=$here/results
while [ $# -gt 0 ]; do
	case $1 in
	--base) base=$2; shift 2 ;;
	--head) head=$2; shift 2 ;;
	--head-tree) tree=$(cd "$2" && pwd); shift 2 ;;
	--repo) repo=$2; shift 2 ;;
	--pg-prefix) prefix=$2; shift 2 ;;
	--dir) dir=$2; shift 2 ;;
	--port) port=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--subjects) subjects=$2; shift 2 ;;
	--seconds) secs=$2; shift 2 ;;
	--clients) clients=$2; shift 2 ;;
	--intrusion) intrusion=$2; shift 2 ;;
	--key) key=1; shift ;;
	--out) out=$2; shift 2 ;;
	*) sed -n '2,17p' "$0" >&2; exit 2 ;;
	esac
done
if [ -z "$base" ] || { [ -n "$head" ] && [ -n "$tree" ]; }; then
	sed -n '2,17p' "$0" >&2; exit 2
fi
[ -n "$tree" ] || head=${head:-HEAD}
osuser=${PGUSER_OS:-postgres}
as_pg() {
	if [ "$(id -un)" = "$osuser" ]; then "$@"; else runuser -u "$osuser" -- "$@"; fi
}

work=$(mktemp -d "${TMPDIR:-/tmp}/frt-gov-compare.XXXXXX")
base_pgc='' head_pgc=''
# on exit: stop the clusters that were started, remove the sources
stop() {
	[ -z "$base_pgc" ] || PG_CONFIG=$base_pgc "$root/scripts/cluster.sh" stop "$dir/base"
	[ -z "$head_pgc" ] || PG_CONFIG=$head_pgc "$root/scripts/cluster.sh" stop "$dir/head"
	rm -rf "$work"
}
trap stop EXIT
. "$here/sides.sh"
sides_prepare "$root" "$repo" "$base" "$head" "$tree" "$prefix" "$work"

# the clusters (stopped on exit)
PG_CONFIG=$base_pgc FRT_PRELOAD=frt_governance "$root/scripts/cluster.sh" start "$dir/base" "$port"
PG_CONFIG=$head_pgc FRT_PRELOAD=frt_governance "$root/scripts/cluster.sh" start "$dir/head" $((port + 1))
# the head's audit key: outside the data directory, readable by the server only
keyfile=$dir/head/keys/audit.key
openssl rand -hex 32 >"$keyfile"
chmod 0600 "$keyfile"
chown "$osuser" "$keyfile"
echo "include_if_exists = 'frt_key.conf'" >>"$dir/head/data/postgresql.conf"
keyed_now=0
# head_keyed 0|1: restart the head cluster with or without the key if needed
head_keyed() {
	[ "$1" = "$keyed_now" ] && return 0
	if [ "$1" = 1 ]; then
		echo "frt.audit_key_file = '$keyfile'" >"$dir/head/data/frt_key.conf"
	else
		rm -f "$dir/head/data/frt_key.conf"
	fi
	as_pg "$("$head_pgc" --bindir)/pg_ctl" -D "$dir/head/data" -l "$dir/head/server.log" \
		-m fast -w restart >/dev/null
	keyed_now=$1
}

variants=(base head)
[ "$key" = 1 ] && variants+=(head+key)
mkdir -p "$out"
stem=$out/gov_compare_${subjects}_${base_label}_${head_label}
[ "$intrusion" = on ] || stem=${stem}_intrusion-$intrusion
raw=$stem.tsv
printf 'variant\tround\tmetric\tvalue\n' >"$raw"
for ((r = 1; r <= rounds; r++)); do
	order=("${variants[@]}")
	if ((r % 2 == 0)); then	# every other round backwards: base head key key head base
		order=()
		for ((i = ${#variants[@]} - 1; i >= 0; i--)); do order+=("${variants[i]}"); done
	fi
	for v in "${order[@]}"; do
		case $v in
		base) pgc=$base_pgc cdir=$dir/base p=$port ;;
		head) pgc=$head_pgc cdir=$dir/head p=$((port + 1)); head_keyed 0 ;;
		head+key) pgc=$head_pgc cdir=$dir/head p=$((port + 1)); head_keyed 1 ;;
		esac
		echo "gov_compare.sh: round $r, $v, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
		log=$work/$v.$r.log
		if ! PATH=$("$pgc" --bindir):$PATH INTRUSION=$intrusion \
			"$here/gov_bench.sh" "$cdir" "$p" "$subjects" "$secs" "$clients" >"$log" 2>&1; then
			tail -n 30 "$log" >&2
			echo "gov_compare.sh: gov_bench failed on $v" >&2
			exit 1
		fi
		want='f|n/a'	# no key (n/a: a build without audit keys)
		[ "$v" = head+key ] && want=t
		if ! grep -qxE "gov_bench: keyed ($want)" "$log"; then
			echo "gov_compare.sh: $v ran with audit key '$(sed -n 's/^gov_bench: keyed //p' "$log")', not '$want'" >&2
			exit 1
		fi
		printf '%s\t%s\tload\t%s\n' "$v" "$r" "$(cut -d' ' -f1 /proc/loadavg)" >>"$raw"
		sed -n 's/^gov_bench: \([a-z0-9_]*\) \(.*\)$/\1\t\2/p' "$log" |
			sed "s/^/$v\t$r\t/" >>"$raw"
	done
done

python3 - "$raw" "$stem.md" <<PY
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter='\t'))
variants = [v for v in ("base", "head", "head+key") if any(r["variant"] == v for r in rows)]
vals = {}
for r in rows:
    try:
        vals.setdefault((r["metric"], r["variant"]), []).append(float(r["value"]))
    except ValueError:
        pass
names = {"enrol_per_s": "enrol, faces/s (serial)", "enrol_s": "enrol, s"}
for ph, label in (("verify", "verify"), ("identify_exh", "identify k=5, exhaustive"),
                  ("identify_ivf", "identify k=5, frt_ivf exact")):
    for c in "$clients".split(","):
        names[f"{ph}_c{c}_tps"] = f"{label}, {c} client{'s' if c != '1' else ''}: tps"
        names[f"{ph}_c{c}_ms"] = f"{label}, {c} client{'s' if c != '1' else ''}: ms"
        names[f"{ph}_c{c}_cpu_ms"] = f"{label}, {c} client{'s' if c != '1' else ''}: server CPU ms/txn"
names["load"] = "load average (1 min)"
def med(m, v):
    x = vals.get((m, v))
    return statistics.median(x) if x else None
def spread(m, v):
    x = vals.get((m, v))
    return (max(x) - min(x)) / statistics.median(x) if x and statistics.median(x) else None
head = ["metric"] + variants + [f"{v}/base" for v in variants[1:]] + [f"spread {v}" for v in variants]
lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
for m, label in names.items():
    if not any((m, v) in vals for v in variants):
        continue
    cells = [label]
    cells += [f"{med(m, v):.4g}" if med(m, v) is not None else "" for v in variants]
    b = med(m, "base")
    cells += [f"{med(m, v) / b:.3f}" if b and med(m, v) is not None else "" for v in variants[1:]]
    cells += [f"{spread(m, v):.0%}" if spread(m, v) is not None else "" for v in variants]
    lines.append("| " + " | ".join(cells) + " |")
text = "\n".join([
    "base: $base_rev",
    "head: $head_rev",
    "subjects $subjects, ${secs}s per pgbench phase, clients $clients, INTRUSION=$intrusion, rounds $rounds"
    " (alternating), medians of the rounds; spread = (max - min) / median",
    "", *lines, ""])
open(sys.argv[2], "w").write(text)
print(text)
PY
echo "gov_compare.sh: wrote $stem.md and $stem.tsv; done in ${SECONDS}s" >&2

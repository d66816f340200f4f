#!/usr/bin/env python3
"""Side-by-side benchmark of two frt builds, each installed in its own
PostgreSQL (bench/compare.sh builds and installs them, then runs this).

The data is generated once: the generator (bench/facegen, or run.py's
--generator) runs behind a cache, so every round loads the very same bytes
and no round's load time includes generating them.  bench/run.py then
measures base and head in alternating rounds: base, head, head, base for
--rounds 2 (each round a full run.py: fresh cluster, load, exhaustive scan,
index builds, queries, DELETE 10 % + VACUUM), so a steady drift of the
machine's speed weighs on both sides alike.  Each figure is the median over
the rounds; 'spread' is (max - min) / median over one side's rounds.

Options not listed below go to run.py, after these defaults, which they
override: """
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402  (bench/run.py: its options, generator and data sets)

# run.py's measurement by default: flat and 316 lists, exact mode and the
# defaults, DELETE 10 % + VACUUM on the last index; no probes sweep, no
# parallel or 128MB exhaustive runs.
RUN_DEFAULTS = ["--index", "--lists", "1,316", "--sweep", "", "--skip-parallel",
                "--also-shared-buffers", ""]

# The cache in front of the generator: one file per distinct command line.
CACHED_GENERATOR = """#!/bin/sh
f=%(cache)s/$(printf '%%s\\n' "$@" | md5sum | cut -c1-32).copy
if [ ! -s "$f" ]; then
	%(prog)s "$@" > "$f.part" && mv "$f.part" "$f" || exit 1
fi
exec cat "$f"
"""


def log(msg):
    print(f"[compare.py {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def index_name(lists):
    return {0: "lists=auto", 1: "flat"}.get(lists, f"lists={lists}")


def query_metrics(m, name, r, mode):
    """Recall and latency of one measured setting (run.py's measure_label)."""
    m[f"{name}: recall@10"] = r["recall10"]
    if mode == "exact":
        m[f"{name}: identical to exhaustive"] = r["identical"] / r["probes"]
    elif r.get("rank1_agreement") is not None:
        m[f"{name}: rank-1 agreement"] = r["rank1_agreement"]
    m[f"{name}: ms p50"] = r["median_ms"]
    if "p95_ms" in r:
        m[f"{name}: ms p95"] = r["p95_ms"]
    if "cpu_ms" in r:
        m[f"{name}: CPU ms/query"] = r["cpu_ms"]
    if "pgbench" in r:
        m[f"{name}: pgbench ms"] = r["pgbench"]["query_ms"]


def metrics(res):
    """The figures of one run.py result, in table order."""
    m = {"load (COPY), s": res["load_s"]}
    ex = res["exhaustive_serial"]
    m["exhaustive, serial: ms p50"] = ex["median_ms"]
    m["exhaustive, serial: ms p95"] = ex["p95_ms"]
    m["exhaustive, serial: CPU ms/query"] = ex["cpu_ms"]
    m["exhaustive, serial: pgbench ms"] = ex["pgbench"]["query_ms"]
    for ix in res.get("index", []):
        name = index_name(ix["lists"])
        m[f"{name}: build, s"] = ix["build_s"]
        m[f"{name}: size, MB"] = ix["size_bytes"] / 1e6
        query_metrics(m, f"{name} exact", ix["exact"], "exact")
        for r in ix["sweep"]:
            query_metrics(m, f"{name} probes={r['probes_setting']}", r, "sweep")
        query_metrics(m, f"{name} default", ix["default"], "default")
        if "vacuum_s" in ix:
            m[f"{name}: DELETE 10 %, s"] = ix["delete_s"]
            m[f"{name}: VACUUM, s"] = ix["vacuum_s"]
            m[f"{name}: size after VACUUM, MB"] = ix["size_after_vacuum_bytes"] / 1e6
            query_metrics(m, f"{name} exact after VACUUM", ix["after_delete_exact"], "exact")
            query_metrics(m, f"{name} default after VACUUM", ix["after_delete_default"], "default")
    return m


def fmt(name, v):
    """Fractions (recall, rank-1, identical) to 4 decimals, the rest to about
    3 significant digits (whole numbers from 100)."""
    if v is None:
        return "-"
    if any(w in name for w in ("recall", "rank-1", "identical")):
        return f"{v:.4f}"
    a = abs(v)
    return (f"{v:.0f}" if a >= 100 else f"{v:.1f}" if a >= 10 else f"{v:.2f}" if a >= 1
            else f"{v:.3f}" if a >= 0.01 else f"{v:.2g}")


def spread(vals):
    med = statistics.median(vals)
    return (max(vals) - min(vals)) / med if med else 0.0


def side_by_side(sides):
    """One row per metric: each side's median over its rounds, the rounds'
    values and spread, and head / base."""
    runs = sides["base"]["rounds"] + sides["head"]["rounds"]
    names = []
    for res in runs:
        names += [k for k in metrics(res) if k not in names]
    table = []
    for name in names:
        row = {"metric": name}
        for s in ("base", "head"):
            vals = [v for v in (metrics(res).get(name) for res in sides[s]["rounds"]) if v is not None]
            row[s] = statistics.median(vals) if vals else None
            row[f"{s}_values"] = vals
            row[f"{s}_spread"] = spread(vals) if vals else None
        row["ratio"] = row["head"] / row["base"] if row["base"] and row["head"] is not None else None
        table.append(row)
    return table


def markdown(args, rargs, run_args, order, sides, table, seconds):
    b, h = sides["base"], sides["head"]
    lines = [
        f"# frt: {h['label']} against {b['label']}",
        "",
        f"- base: {b['rev'] or b['label']}",
        f"- head: {h['rev'] or h['label']}",
        f"- data: {args.n:,} x {rargs.dim}, seed {rargs.seed}"
        + (f", generator options `{rargs.gen_args}`" if rargs.gen_args else "")
        + f"; {2 * rargs.recall_probes} recall probes, {rargs.time_probes} timed exhaustive",
        f"- run.py options: `{' '.join(shlex.quote(a) for a in run_args)}`",
        f"- runs: {', '.join(order)}; figures are medians over {args.rounds} round(s); "
        "spread = (max - min) / median of a side's rounds",
        f"- PostgreSQL {b['rounds'][0]['server']}; kernels base {b['rounds'][0]['simd']}, "
        f"head {h['rounds'][0]['simd']}; load average {b['rounds'][0]['loadavg_start'][0]:.1f} "
        f"at the start, {os.getloadavg()[0]:.1f} at the end; {seconds:.0f} s",
        "",
        "| metric | base | head | head/base | spread base / head |",
        "|---|---|---|---|---|",
    ]
    for row in table:
        name = row["metric"]
        ratio = "-" if row["ratio"] is None else f"{row['ratio']:.3f}"
        sp = " / ".join("-" if row[f"{s}_spread"] is None else f"{100 * row[f'{s}_spread']:.0f} %"
                        for s in ("base", "head"))
        lines.append(f"| {name} | {fmt(name, row['base'])} | {fmt(name, row['head'])} | {ratio} | {sp} |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__ + " ".join(shlex.quote(a) for a in RUN_DEFAULTS),
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 allow_abbrev=False)
    for side in ("base", "head"):
        ap.add_argument(f"--{side}-pg-config", required=True)
        ap.add_argument(f"--{side}-label", required=True, help="short name, e.g. the commit")
        ap.add_argument(f"--{side}-rev", default="", help="what was built (free text)")
    ap.add_argument("--rows", "--n", dest="n", type=int, default=100000,
                    help="gallery rows (default 100000)")
    ap.add_argument("--rounds", type=int, default=2,
                    help="runs of each side, in alternating order (default 2: base, head, head, base)")
    ap.add_argument("--work", required=True, help="scratch directory (data cache, raw results)")
    ap.add_argument("--dir", default="/tmp/frt-compare",
                    help="cluster directory prefix: DIR-base and DIR-head (default /tmp/frt-compare)")
    ap.add_argument("--port", type=int, default=55560, help="cluster port (default 55560)")
    ap.add_argument("--out", default=os.path.join(HERE, "results"),
                    help="where compare_N_BASE_HEAD.{json,md} go (default bench/results)")
    args, run_args = ap.parse_known_args()
    run_args = RUN_DEFAULTS + run_args + ["--n", str(args.n)]
    rargs = run.arg_parser().parse_args(run_args)  # rejects unknown options before any work
    started = time.time()

    # the data, once: every set run.py will ask for is made now, and replayed
    cache = os.path.join(args.work, "data")
    os.makedirs(cache, exist_ok=True)
    gen_cmd = run.generator_cmd(rargs)
    gen = os.path.join(args.work, "cached-generator")
    with open(gen, "w") as f:
        f.write(CACHED_GENERATOR % {"cache": shlex.quote(cache), "prog": shlex.quote(gen_cmd[0])})
    os.chmod(gen, 0o755)
    log(f"generating the data once: {' '.join(gen_cmd[1:])}")
    for _, what in run.data_sets(rargs):
        subprocess.run([gen] + gen_cmd[1:] + what, check=True, stdout=subprocess.DEVNULL)

    sides = {s: {"label": getattr(args, f"{s}_label"), "rev": getattr(args, f"{s}_rev"),
                 "rounds": []} for s in ("base", "head")}
    order = []
    for r in range(args.rounds):
        order += ["base", "head"] if r % 2 == 0 else ["head", "base"]
    for i, side in enumerate(order):
        s = sides[side]
        out = os.path.join(args.work, f"run{i + 1}_{side}")
        log(f"run {i + 1}/{len(order)}: {side} ({s['label']})")
        cmd = [sys.executable, os.path.join(HERE, "run.py")] + run_args + [
            "--generator", gen, "--pg-config", getattr(args, f"{side}_pg_config"),
            "--dir", f"{args.dir}-{side}", "--port", str(args.port), "--out", out,
            "--note", f"compare {side}: {s['rev'] or s['label']}"]
        with open(out + ".stdout", "w") as f:
            subprocess.run(cmd, check=True, stdout=f)
        with open(os.path.join(out, f"results_{args.n}.json")) as f:
            s["rounds"].append(json.load(f))

    table = side_by_side(sides)
    seconds = time.time() - started
    text = markdown(args, rargs, run_args, order, sides, table, seconds)
    print(text)
    os.makedirs(args.out, exist_ok=True)
    stem = os.path.join(args.out, f"compare_{args.n}_{sides['base']['label']}_{sides['head']['label']}")
    with open(stem + ".md", "w") as f:
        f.write(text)
    with open(stem + ".json", "w") as f:
        json.dump({"n": args.n, "dim": rargs.dim, "seed": rargs.seed, "run_args": run_args,
                   "order": order, "rounds": args.rounds, "elapsed_s": seconds,
                   "finished": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
                   "table": table, "base": sides["base"], "head": sides["head"]}, f, indent=1)
    log(f"written {stem}.md and .json")


if __name__ == "__main__":
    main()

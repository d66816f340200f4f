#!/usr/bin/env python3
"""Print Markdown tables from a bench/run.py results JSON (standard library only).

  bench/report.py bench/out/results_100000.json
"""
import json
import sys


def fmt_ms(r):
    return f"{r['median_ms']:.2f} / {r['mean_ms']:.2f}"


def pgb(r):
    p = r.get("pgbench")
    return f"{p['query_ms']:.2f} ms, {p['query_qps']:.0f} q/s" if p else "-"


def rank1(r):
    v = r.get("rank1_agreement")
    return "-" if v is None else f"{100 * v:.1f} %"


def main(path):
    res = json.load(open(path))
    n = res["n"]
    print(f"Run: `{res['command']}` ({res['started']} to {res['finished']}; "
          f"PostgreSQL {res['server']}, kernels in use: {res['simd']}, shared_buffers "
          f"{res.get('shared_buffers', '?')}; load average at start / end "
          f"{res.get('loadavg_start', ['?'])[0]:.2f} / {res.get('loadavg_end', ['?'])[0]:.2f} "
          f"on 2 cores shared with other work).\n")
    if res.get("note"):
        print(f"Note: {res['note']}\n")
    st = res["storage"]
    print(f"Storage: heap {st['heap_bytes'] / 1e6:.1f} MB, TOAST relation "
          f"{st['toast_bytes']} bytes, `pg_column_size(e)` {st['min_column_size']}.."
          f"{st['max_column_size']} bytes for every row (in-line, uncompressed), "
          f"attstorage `{st['attstorage']}`. Load ({n:,} rows, binary COPY from "
          f"facegen): {res['load_s']:.1f} s.\n")
    ex = res["exhaustive_serial"]
    print("| exhaustive `ORDER BY e <=> $probe LIMIT 10` | ms/query | queries/s |")
    print("|---|---|---|")
    print(f"| serial, shared_buffers = {res.get('shared_buffers', '?')}, in-server loop, "
          f"{ex['n']} probes: median / mean | {fmt_ms(ex)} | "
          f"{ex['qps']:.1f} |")
    if "cpu_ms" in ex:
        print(f"| serial, backend CPU time per query (user + system) | {ex['cpu_ms']:.1f} | "
              f"{1000 / ex['cpu_ms']:.1f} |")
    print(f"| serial, pgbench one client ({ex['pgbench']['transactions']} queries), mean | "
          f"{ex['pgbench']['query_ms']:.1f} | {ex['pgbench']['query_qps']:.1f} |")
    alt = res.get("exhaustive_serial_alt")
    if alt:
        print(f"| serial, shared_buffers = {alt['shared_buffers']}, in-server loop: median / mean | "
              f"{fmt_ms(alt)} | {alt['qps']:.1f} |")
        print(f"| serial, shared_buffers = {alt['shared_buffers']}, backend CPU time per query | "
              f"{alt['cpu_ms']:.1f} | {1000 / alt['cpu_ms']:.1f} |")
        print(f"| serial, shared_buffers = {alt['shared_buffers']}, pgbench one client "
              f"({alt['pgbench']['transactions']} queries), mean | {alt['pgbench']['query_ms']:.1f} | "
              f"{alt['pgbench']['query_qps']:.1f} |")
    if "exhaustive_parallel" in res:
        pp = res["exhaustive_parallel"]["pgbench"]
        workers = [l.strip() for l in res["exhaustive_parallel"]["plan"] if "Workers" in l]
        print(f"| default `max_parallel_workers_per_gather` (2; {', '.join(workers)}), "
              f"pgbench ({pp['transactions']} queries), mean | {pp['query_ms']:.1f} | "
              f"{pp['query_qps']:.1f} |")
    print()
    for ix in res.get("index", []):
        print(f"#### frt_ivf, lists = {ix['lists']}\n")
        print(f"Build {ix['build_s']:.2f} s (serial), index {ix['size_bytes'] / 1e6:.1f} MB "
              f"(heap {ix['heap_bytes'] / 1e6:.1f} MB). Plan: "
              f"`{' / '.join(l.strip() for l in ix['plan'] if 'frt_ivf' in l or 'Scan' in l)}`.\n")
        print("| setting | recall@10 | rank-1 agreement (genuine) | exact ids+distances | "
              "ms/query median / mean (in-server) | backend CPU ms/query | queries/s (1000/median) | "
              "pgbench one client |")
        print("|---|---|---|---|---|---|---|---|")
        rows = [("`frt.exact = on`", ix["exact"])]
        rows += [(f"`frt.probes = {r['probes_setting']}`", r) for r in ix["sweep"]]
        rows.append(("defaults", ix["default"]))
        if "after_delete_exact" in ix:
            rows.append(("after DELETE 10 % + VACUUM: `frt.exact = on`", ix["after_delete_exact"]))
            rows.append(("after DELETE 10 % + VACUUM: defaults", ix["after_delete_default"]))
        for name, r in rows:
            print(f"| {name} | {r['recall10']:.4f} | {rank1(r)} | {r['identical']}/{r['probes']} | "
                  f"{fmt_ms(r)} | {r.get('cpu_ms', float('nan')):.2f} | {r['qps']:.0f} | {pgb(r)} |")
        print()
        if "vacuum_s" in ix:
            print(f"DELETE 10 % ({n // 10:,} rows) {ix['delete_s']:.2f} s; VACUUM "
                  f"{ix['vacuum_s']:.2f} s = {100 * ix['vacuum_over_build']:.1f} % of the build "
                  f"time; index after VACUUM {ix['size_after_vacuum_bytes'] / 1e6:.1f} MB.\n")
    report_pgvector(res, n)


def report_pgvector(res, n):
    """The --pgvector part of a run: measured figures, or why there are none."""
    pv = res.get("pgvector")
    if pv is None:
        return
    if not pv.get("available"):
        print(f"pgvector: not measured ({pv.get('reason', 'not installed')}).\n")
        return
    print(f"#### pgvector {pv['version']}, same data and probes, same cluster\n")
    print(f"Copy into `vector({res['dim']})`: table with TOAST {pv['heap_bytes'] / 1e6:.1f} MB. Index "
          f"`USING {pv['index']}`: serial build {pv['build_s']:.2f} s, "
          f"{pv['size_bytes'] / 1e6:.1f} MB. Plan: "
          f"`{' / '.join(l.strip() for l in pv['plan'] if 'Scan' in l)}`.\n")
    print("| setting | recall@10 | rank-1 agreement (genuine) | ms/query median / mean (in-server) | "
          "backend CPU ms/query | queries/s (1000/median) | pgbench one client |")
    print("|---|---|---|---|---|---|---|")
    rows = [("exhaustive scan (serial)", pv["exhaustive_serial"])]
    rows += [(f"`hnsw.ef_search = {r['ef_search']}`", r) for r in pv["sweep"]]
    rows += [(f"after DELETE 10 % + VACUUM: `hnsw.ef_search = {r['ef_search']}`", r)
             for r in pv.get("after_delete", [])]
    for name, r in rows:
        print(f"| {name} | {r['recall10']:.4f} | {rank1(r)} | {fmt_ms(r)} | "
              f"{r.get('cpu_ms', float('nan')):.2f} | {r['qps']:.0f} | {pgb(r)} |")
    print()
    if "vacuum_s" in pv:
        print(f"DELETE 10 % ({n // 10:,} rows) {pv['delete_s']:.2f} s; VACUUM {pv['vacuum_s']:.2f} s "
              f"= {100 * pv['vacuum_over_build']:.1f} % of its build time.\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1])

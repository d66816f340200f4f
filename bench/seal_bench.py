#!/usr/bin/env python3
"""Encryption at rest: a sealed frt_ivf index against a plaintext one, on the
same face-like rows, in one cluster and one run (bench/seal_bench.sh).

The cluster is started by scripts/cluster.sh with frt_governance preloaded,
so it has a root key and a keyring outside its data directory (--suite picks
frt.encryption_suite).  The rows of bench/facegen are stored twice:

  plain   (id int8 PRIMARY KEY, e frt.face_embedding(D))
          USING frt_ivf (e frt.face_cosine_ops)
  sealed  (id int8 PRIMARY KEY, e bytea)       e = frt._face_seal(id, vector)
          USING frt_ivf (frt._face_open(id, e) frt.face_cosine_ops) WITH (sealed = true)

(sealed is stored as frt.face is: STORAGE EXTERNAL and toast_tuple_target
8160, so a sealed face stays in its row; --sealed-storage and
--toast-tuple-target change that) and measured side by side, the two sides
alternating (plain, sealed, sealed, plain for two rounds) so that a drift of
a shared machine's speed weighs on both alike:

  - CREATE INDEX: wall time and the backend's CPU time;
  - queries  ORDER BY e OPERATOR(frt.<=>) probe LIMIT k  (sealed: e is
    frt._face_open(id, e)) for each probe
    (genuine and impostor), in exact mode (frt.exact = on) and with the
    defaults, each pass in a session that first ran the same probes once
    (warm: the sealed index's pages are in the session's plaintext cache):
    median and p95 of the in-server time per query, the backend's CPU per
    query, and whether both sides returned the same ids, order and float8
    distances (also against an exhaustive scan of plain, --truth);
  - the plaintext cache after the warm-up (pg_backend_memory_contexts of the
    session) against the index's size;
  - cold against warm: the first query of new sessions (the sealed side
    decrypts what it reads) and the same probe again in the same session;
  - optionally (--small-cache) the sealed side again with a plaintext cache
    smaller than the index;
  - enrolment: one row per INSERT statement (pgbench -M prepared, one
    client, a fixed number of rows), the index present; rows/s, the INSERT's
    latency and the server's CPU per row (all its processes); then the
    exact-mode answers of both sides compared again.

Writes seal_N_SUITE[_TAG].json (every figure, the command, the load average)
and .md (the tables) to --out.  See bench/README.md.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import run  # noqa: E402  (bench/run.py: Cluster, backend_cpu_s, BENCH_RUN_SQL)
from run import gucs_sql  # noqa: E402

SIDES = ("plain", "sealed")
MODES = ("exact", "default")

# What each side stores, how its index is built and what its queries order by.
SIDE = {
    "plain": {
        "table": "plain",
        "index": "plain_e_ivf",
        "create": "CREATE INDEX plain_e_ivf ON plain USING frt_ivf (e frt.face_cosine_ops)%(with)s",
        "enrol": "INSERT INTO plain (id, e) SELECT s.id, s.e FROM enrol_src s "
                 "WHERE s.id = (SELECT pg_catalog.nextval('enrol_plain_seq'));",
    },
    "sealed": {
        "table": "sealed",
        "index": "sealed_e_ivf",
        "create": "CREATE INDEX sealed_e_ivf ON sealed USING frt_ivf "
                  "(frt._face_open(id, e) frt.face_cosine_ops) WITH (sealed = true%(opts)s)",
        "enrol": "INSERT INTO sealed (id, e) SELECT s.id, frt._face_seal(s.id, s.e) FROM enrol_src s "
                 "WHERE s.id = (SELECT pg_catalog.nextval('enrol_sealed_seq'));",
    },
}

SETUP_SQL = r"""
CREATE EXTENSION IF NOT EXISTS frt;
CREATE EXTENSION IF NOT EXISTS frt_governance;
CREATE EXTENSION IF NOT EXISTS pg_prewarm;
CREATE TABLE plain (id int8 PRIMARY KEY, e frt.face_embedding(%(dim)d) NOT NULL);
CREATE TABLE sealed (id int8 PRIMARY KEY, e bytea NOT NULL);
ALTER TABLE sealed ALTER COLUMN e SET STORAGE %(storage)s;
%(target)s
CREATE TABLE probes (id int8 PRIMARY KEY, identity int8, e frt.face_embedding(%(dim)d) NOT NULL);
CREATE TABLE enrol_src (id int8 PRIMARY KEY, e frt.face_embedding(%(dim)d) NOT NULL);
CREATE TABLE bench_result (label text, probe int8, ids int8[], dists float8[], ms float8);
CREATE INDEX ON bench_result (label);
"""

# The timed query function of each side: run.py's (one query per probe, the
# probe a bind parameter; ids, float8 distances, in-server ms), the sealed
# side's rows opened in a subquery that the planner pulls up, so the query
# orders by frt._face_open(id, e) OPERATOR(frt.<=>) probe, the expression its
# index is built on.
BENCH_Q = {
    "plain": dict(run.FRT_RUN, func="bench_q_plain", table="plain"),
    "sealed": dict(run.FRT_RUN, func="bench_q_sealed",
                   table="(SELECT id, frt._face_open(id, e) AS e FROM sealed) sealed"),
}

# Every query session: the index is what is measured, even where the planner
# would rather scan the table (the sealed table's heap is small, its values
# out of line, and the cost of opening each is not in the plan's cost).
QUERY_GUCS = {"enable_seqscan": "off"}

# The plaintext cache of the session: its context and any children.
CACHE_SQL = ("SELECT coalesce(sum(total_bytes), 0), coalesce(sum(used_bytes), 0), count(*), "
             "coalesce(string_agg(DISTINCT name, ', '), '') FROM pg_backend_memory_contexts "
             "WHERE name ILIKE '%plaintext%' OR parent ILIKE '%plaintext%';")


def log(msg):
    print(f"[seal_bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Session:
    """One psql session kept open: statements in, rows out, the backend's pid
    for its CPU time."""

    def __init__(self, c, gucs=None):
        self.c = c
        self.p = subprocess.Popen([os.path.join(c.bindir, "psql"), "-X", "-q", "-A", "-t",
                                   "-F", "\t", "-v", "ON_ERROR_STOP=1"], env=c.env, text=True,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.pid = int(self.ask("SELECT pg_backend_pid();")[0][0])
        for k, v in (gucs or {}).items():
            self.ask(f"SET {k} = '{v}';")

    def ask(self, sql):
        self.p.stdin.write(sql + "\n\\echo __end__\n")
        self.p.stdin.flush()
        rows = []
        while True:
            line = self.p.stdout.readline()
            if line == "":
                raise RuntimeError(f"psql ended during: {sql[:300]}")
            if line.rstrip("\n") == "__end__":
                return rows
            if line.strip():
                rows.append(line.rstrip("\n").split("\t"))

    def cpu_s(self):
        return run.backend_cpu_s(self.pid)

    def timed(self, sql):
        """Run sql; return (wall s, backend CPU s)."""
        c0, t0 = self.cpu_s(), time.monotonic()
        self.ask(sql)
        return time.monotonic() - t0, self.cpu_s() - c0

    def close(self):
        self.p.stdin.close()
        if self.p.wait() != 0:
            raise RuntimeError("psql session failed")


def stats(ms):
    """Median, p95, mean, min, max of per-query milliseconds."""
    ms = sorted(ms)
    return {"n": len(ms), "median_ms": statistics.median(ms),
            "p95_ms": statistics.quantiles(ms, n=20)[18] if len(ms) > 1 else ms[0],
            "mean_ms": statistics.fmean(ms), "min_ms": ms[0], "max_ms": ms[-1]}


def server_cpu_ms(datadir):
    """CPU ms of the whole server so far: the postmaster, the children it has
    reaped (pgbench's backends once they exited) and its live children."""
    clk = os.sysconf("SC_CLK_TCK")
    with open(os.path.join(datadir, "postmaster.pid")) as f:
        pm = int(f.readline())

    def fields(pid):
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    fl = fields(pm)
    t = sum(int(x) for x in fl[11:15])
    with open(f"/proc/{pm}/task/{pm}/children") as f:
        for child in f.read().split():
            try:
                fl = fields(int(child))
                t += int(fl[11]) + int(fl[12])
            except OSError:
                pass
    return t * 1000.0 / clk


def compare(c, a, b):
    """Probes of label a whose ids and float8 distances equal label b's, in
    order; and recall@k of a against b."""
    n, same, same_ids, recall = c.psql(f"""
        SELECT count(*), sum((x.ids = y.ids AND x.dists = y.dists)::int),
               sum((x.ids = y.ids)::int),
               avg((SELECT count(*) FROM unnest(x.ids) i WHERE i = ANY (y.ids))::float8
                   / greatest(cardinality(y.ids), 1))
          FROM bench_result x JOIN bench_result y ON y.probe = x.probe AND y.label = '{b}'
         WHERE x.label = '{a}'""")[0]
    return {"probes": int(n), "identical": int(same or 0), "same_ids": int(same_ids or 0),
            "recall": float(recall) if recall else None}


def first_difference(c, a, b):
    """The first probe whose answers differ between labels a and b (for the
    report: ids and distances of both, nothing else)."""
    rows = c.psql(f"""
        SELECT x.probe, x.ids, y.ids, x.dists, y.dists FROM bench_result x
          JOIN bench_result y ON y.probe = x.probe AND y.label = '{b}'
         WHERE x.label = '{a}' AND NOT (x.ids = y.ids AND x.dists = y.dists)
         ORDER BY x.probe LIMIT 1""")
    return rows[0] if rows else None


def ms_of(c, label):
    return [float(r[0]) for r in c.psql(f"SELECT ms FROM bench_result WHERE label = '{label}' ORDER BY probe")]


def order(rounds):
    """plain, sealed, sealed, plain, ... for this many rounds."""
    out = []
    for r in range(rounds):
        out += [(r, s) for s in (SIDES if r % 2 == 0 else SIDES[::-1])]
    return out


def arg_parser():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100000, help="gallery rows (default 100000)")
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--gen-args", default="", help="extra facegen options")
    ap.add_argument("--probes", type=int, default=200,
                    help="probes timed per pass, half genuine and half impostor (default 200)")
    ap.add_argument("--rounds", type=int, default=2,
                    help="query rounds per mode, sides alternating plain, sealed, sealed, plain (default 2)")
    ap.add_argument("--builds", type=int, default=2,
                    help="CREATE INDEX per side, alternating as the rounds (default 2; the last is kept)")
    ap.add_argument("--lists", type=int, default=0, help="frt_ivf lists reloption (default 0: automatic)")
    ap.add_argument("--cold-sessions", type=int, default=5,
                    help="new sessions per side and mode for the cold first query (default 5)")
    ap.add_argument("--enrol-rows", type=int, default=2000,
                    help="rows inserted per enrolment phase (default 2000; two phases per side)")
    ap.add_argument("--truth", choices=["on", "off"], default="on",
                    help="exhaustive top k of every probe on plain, before the index (default on)")
    ap.add_argument("--suite", default="aes-256-gcm", help="frt.encryption_suite (aes-256-gcm, sm4-sm3)")
    ap.add_argument("--plaintext-cache", default="256MB",
                    help="frt.ivf_plaintext_cache of the sealed side's main runs (default 256MB)")
    ap.add_argument("--small-cache", default="",
                    help="also measure the sealed side with this frt.ivf_plaintext_cache (e.g. 16MB)")
    ap.add_argument("--sealed-storage", default="external",
                    choices=["external", "extended", "main", "plain"],
                    help="storage of sealed.e (default external, as frt.face.embedding)")
    ap.add_argument("--toast-tuple-target", type=int, default=8160,
                    help="toast_tuple_target of sealed (default 8160, as frt.face: a sealed face stays "
                         "in its row; 0 leaves PostgreSQL's default, which moves it to TOAST)")
    ap.add_argument("--shared-buffers", default="2GB")
    ap.add_argument("--pg-config", default=os.environ.get("PG_CONFIG", "pg_config"))
    ap.add_argument("--dir", default="/tmp/frt-sealbench")
    ap.add_argument("--port", type=int, default=55430)
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--tag", default="", help="suffix of the output file names")
    ap.add_argument("--note", default="", help="free text kept in the results (e.g. the commit measured)")
    ap.add_argument("--plain-only", action="store_true",
                    help="measure the plaintext side only (a build without the sealing functions)")
    ap.add_argument("--keep", action="store_true", help="leave the cluster running")
    return ap


def start_cluster(args):
    """scripts/cluster.sh (root key and keyring under DIR/keys), then the
    bench's settings, then a restart."""
    env = dict(os.environ, PG_CONFIG=args.pg_config, FRT_PRELOAD="frt_governance",
               FRT_SUITE=args.suite)
    subprocess.check_call([os.path.join(ROOT, "scripts", "cluster.sh"), "start", args.dir, str(args.port)],
                          env=env)
    c = run.Cluster(args.pg_config, args.dir, args.port)
    with open(os.path.join(args.dir, "data", "postgresql.conf")) as f:
        keyed = "frt.encryption_key_file" in f.read()
    if not keyed:
        # a cluster.sh that writes no key: a root key and a keyring outside
        # the data directory, as docs/operations.md ("Encryption keys") says
        keys = os.path.join(args.dir, "keys")
        ring = os.path.join(keys, "keyring")
        os.makedirs(ring, exist_ok=True)
        key = os.path.join(keys, "root.key")
        with open(key, "w") as f:
            f.write(os.urandom(32).hex() + "\n")
        for path, mode in ((keys, 0o700), (ring, 0o700), (key, 0o600)):
            if os.geteuid() == 0:
                shutil.chown(path, "postgres")
            os.chmod(path, mode)
        for k, v in (("frt.encryption_key_file", key), ("frt.encryption_keyring", ring),
                     ("frt.encryption_suite", args.suite)):
            c.psql(f"ALTER SYSTEM SET {k} = '{v}'")
    conf = {"shared_buffers": args.shared_buffers, "max_wal_size": "8GB", "checkpoint_timeout": "30min",
            "maintenance_work_mem": "1GB", "jit": "off", "max_parallel_workers_per_gather": "0",
            "max_parallel_maintenance_workers": "0"}
    for k, v in conf.items():
        c.psql(f"ALTER SYSTEM SET {k} = '{v}'")
    c.ctl("restart")
    return c


def setting(c, name):
    rows = c.psql(f"SELECT setting, unit FROM pg_settings WHERE name = '{name}'")
    return " ".join(x for x in rows[0] if x) if rows else None


def load(c, args, res, sides):
    """The gallery into plain, probes, the enrolment rows, then sealed from
    plain through frt._face_seal."""
    subprocess.check_call(["make", "-s", "-C", HERE, "facegen"])
    fg = [os.path.join(HERE, "facegen"), "--dim", str(args.dim), "--seed", str(args.seed)] + args.gen_args.split()
    half = args.probes // 2
    log(f"loading {args.n} x {args.dim} rows into plain")
    res["load_plain_s"] = c.copy_from("plain", fg + ["--n", str(args.n), "gallery"])
    c.copy_from("probes", fg + ["--n", str(args.n), "--count", str(half), "genuine"])
    c.copy_from("probes", fg + ["--n", str(args.n), "--count", str(args.probes - half), "impostor"])
    c.copy_from("enrol_src", fg + ["--n", str(args.n + 2 * args.enrol_rows), "--offset", str(args.n), "gallery"])
    if "sealed" in sides:
        log("sealing every row into sealed (INSERT ... SELECT frt._face_seal(id, e) FROM plain)")
        s = Session(c)
        wall, cpu = s.timed("INSERT INTO sealed SELECT id, frt._face_seal(id, e) FROM plain ORDER BY id;")
        s.close()
        res["load_sealed"] = {"wall_s": wall, "backend_cpu_s": cpu, "rows_per_s": args.n / wall}
        log(f"  sealed {args.n} rows in {wall:.1f} s ({args.n / wall:.0f} rows/s)")
    c.timed("VACUUM ANALYZE; CHECKPOINT;")
    res["storage"] = {}
    for side in sides:
        t = SIDE[side]["table"]
        heap, toast, colmin, colmax, st = c.psql(f"""
            SELECT pg_relation_size(c.oid), coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0),
                   (SELECT min(pg_column_size(e)) FROM {t}), (SELECT max(pg_column_size(e)) FROM {t}),
                   (SELECT a.attstorage FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'e')
              FROM pg_class c WHERE c.oid = '{t}'::regclass""")[0]
        res["storage"][side] = {"heap_bytes": int(heap), "toast_bytes": int(toast),
                                "column_size_min": int(colmin), "column_size_max": int(colmax),
                                "attstorage": st}
    log(f"storage: {res['storage']}")


def build(c, args, res, sides):
    """CREATE INDEX per side, alternating, --builds times; the last kept."""
    res["builds"] = {s: [] for s in sides}
    with_ = f" WITH (lists = {args.lists})"
    opts = f", lists = {args.lists}"
    for r, side in order(args.builds):
        if side not in sides:
            continue
        s = Session(c)
        s.ask(f"DROP INDEX IF EXISTS {SIDE[side]['index']}; CHECKPOINT;")
        sql = SIDE[side]["create"] % {"with": with_, "opts": opts} + ";"
        wall, cpu = s.timed(sql)
        s.close()
        size = int(c.psql(f"SELECT pg_relation_size('{SIDE[side]['index']}')")[0][0])
        res["builds"][side].append({"round": r, "wall_s": wall, "backend_cpu_s": cpu, "size_bytes": size})
        log(f"  {side}: CREATE INDEX {wall:.2f} s (backend CPU {cpu:.2f} s), {size / 1e6:.1f} MB")
    res["create_index_sql"] = {s: SIDE[s]["create"] % {"with": with_, "opts": opts} for s in sides}
    for side in sides:
        b = res["builds"][side]
        res["builds"][side + "_median"] = {"wall_s": statistics.median(x["wall_s"] for x in b),
                                           "backend_cpu_s": statistics.median(x["backend_cpu_s"] for x in b),
                                           "size_bytes": b[-1]["size_bytes"]}


def prewarm(c, sides):
    """Restart, then read both sides' heaps, TOAST, indexes and the probes
    into shared buffers, so every pass starts from the same cached pages."""
    c.ctl("restart")
    rels = ["probes", "enrol_src", "enrol_src_pkey"]
    for side in sides:
        t = SIDE[side]["table"]
        rels += [t, f"{t}_pkey", SIDE[side]["index"]]
        toast = c.psql(f"SELECT reltoastrelid::regclass, (SELECT indexrelid::regclass FROM pg_index "
                       f"WHERE indrelid = reltoastrelid) FROM pg_class WHERE oid = '{t}'::regclass "
                       f"AND reltoastrelid <> 0")
        if toast:
            rels += toast[0]
    blocks = c.psql("SELECT " + " + ".join(f"pg_prewarm('{r}')" for r in rels))[0][0]
    return int(blocks)


def mode_gucs(mode):
    """The settings of a query session in this mode."""
    return dict(QUERY_GUCS, **({"frt.exact": "on"} if mode == "exact" else {}))


def query_pass(c, args, side, mode, label, gucs):
    """A session: the probes once (warm-up), then the timed pass; backend CPU
    per query of the timed pass and the plaintext cache after it."""
    s = Session(c, dict(mode_gucs(mode), **gucs))
    s.ask(f"SELECT bench_q_{side}('{label}_warmup', 'all', {args.probes});")
    c0 = s.cpu_s()
    s.ask(f"SELECT bench_q_{side}('{label}', 'all', {args.probes});")
    cpu = s.cpu_s() - c0
    cache = s.ask(CACHE_SQL)[0]
    s.close()
    ms = ms_of(c, label)
    warm = ms_of(c, label + "_warmup")
    r = stats(ms)
    r.update({"cpu_ms": 1000.0 * cpu / len(ms), "warmup_median_ms": statistics.median(warm),
              "warmup_first_ms": warm[0], "cache_total_bytes": int(cache[0]),
              "cache_used_bytes": int(cache[1]), "cache_contexts": cache[3]})
    return r


def pool(c, q):
    """One side's figures over its rounds: the queries of every round pooled,
    the median of the rounds' CPU per query."""
    ms = []
    for x in q["rounds"]:
        ms += ms_of(c, x["label"])
    q.update(stats(ms))
    q["cpu_ms"] = statistics.median(x["cpu_ms"] for x in q["rounds"])
    q["round_medians_ms"] = [x["median_ms"] for x in q["rounds"]]


def queries(c, args, res, sides, gucs_sealed):
    """Both modes, sides alternating over --rounds, warm passes."""
    res["queries"] = {}
    for mode in MODES:
        q = res["queries"][mode] = {s: {"rounds": []} for s in sides}
        for r, side in order(args.rounds):
            if side not in sides:
                continue
            label = f"{side}_{mode}_r{r}"
            x = query_pass(c, args, side, mode, label, gucs_sealed if side == "sealed" else {})
            x["label"] = label
            q[side]["rounds"].append(x)
            log(f"  {mode:7s} {side:6s} round {r}: median {x['median_ms']:.2f} ms, p95 {x['p95_ms']:.2f} ms, "
                f"CPU {x['cpu_ms']:.2f} ms/query, warm-up median {x['warmup_median_ms']:.2f} ms, "
                f"cache {x['cache_total_bytes'] / 1e6:.1f} MB")
        for side in sides:
            pool(c, q[side])
        # answers: sealed against plain, every round; each against the truth
        checks = q["checks"] = {}
        for r in range(args.rounds):
            if "sealed" in sides:
                checks[f"sealed_vs_plain_r{r}"] = compare(c, f"sealed_{mode}_r{r}", f"plain_{mode}_r{r}")
                d = first_difference(c, f"sealed_{mode}_r{r}", f"plain_{mode}_r{r}")
                if d:
                    checks[f"sealed_vs_plain_r{r}_first_difference"] = d
            if args.truth == "on":
                for side in sides:
                    checks[f"{side}_vs_truth_r{r}"] = compare(c, f"{side}_{mode}_r{r}", "truth")
        log(f"  {mode}: " + "; ".join(f"{k} {v['identical']}/{v['probes']}" for k, v in checks.items()
                                      if isinstance(v, dict)))


def cold(c, args, res, sides, gucs_sealed):
    """New sessions: the first query (the sealed side decrypts what it reads;
    either side maps shared buffers and loads its relcache) and the same
    probe again."""
    res["cold"] = {}
    for mode in MODES:
        res["cold"][mode] = {s: {"cold_ms": [], "warm_ms": [], "cache_after_first_bytes": []} for s in sides}
        for i, side in order(args.cold_sessions):
            if side not in sides:
                continue
            s = Session(c, dict(mode_gucs(mode), **(gucs_sealed if side == "sealed" else {})))
            s.ask(f"SELECT bench_q_{side}('cold', 'all', 1);")
            cache = s.ask(CACHE_SQL)[0]
            s.ask(f"SELECT bench_q_{side}('warm', 'all', 1);")
            s.close()
            x = res["cold"][mode][side]
            x["cold_ms"].append(ms_of(c, "cold")[0])
            x["warm_ms"].append(ms_of(c, "warm")[0])
            x["cache_after_first_bytes"].append(int(cache[0]))
        for side in sides:
            x = res["cold"][mode][side]
            x["cold_median_ms"] = statistics.median(x["cold_ms"])
            x["warm_median_ms"] = statistics.median(x["warm_ms"])
            log(f"  {mode:7s} {side:6s}: first query {x['cold_median_ms']:.2f} ms, "
                f"again {x['warm_median_ms']:.2f} ms")


def small_cache(c, args, res, gucs_sealed):
    """The sealed side with --small-cache, alternating with plain."""
    gucs = dict(gucs_sealed, **{"frt.ivf_plaintext_cache": args.small_cache})
    out = res["small_cache"] = {"setting": args.small_cache}
    for mode in MODES:
        q = out[mode] = {"plain": {"rounds": []}, "sealed": {"rounds": []}}
        for r, side in order(args.rounds):
            label = f"{side}_{mode}_small_r{r}"
            x = query_pass(c, args, side, mode, label, gucs if side == "sealed" else {})
            x["label"] = label
            q[side]["rounds"].append(x)
            log(f"  small cache {mode:7s} {side:6s} round {r}: median {x['median_ms']:.2f} ms, "
                f"p95 {x['p95_ms']:.2f}, CPU {x['cpu_ms']:.2f} ms/query, cache {x['cache_total_bytes'] / 1e6:.1f} MB")
        for side in SIDES:
            pool(c, q[side])
        q["checks"] = {f"sealed_vs_plain_r{r}": compare(c, f"sealed_{mode}_small_r{r}", f"plain_{mode}_small_r{r}")
                       for r in range(args.rounds)}


def enrol(c, args, res, sides):
    """One row per INSERT (pgbench -M prepared, one client, -t rows), sides
    alternating, a CHECKPOINT before each phase."""
    res["enrol"] = {s: {"rounds": []} for s in sides}
    datadir = os.path.join(args.dir, "data")
    c.psql(f"CREATE SEQUENCE enrol_plain_seq START {args.n + 1}; "
           f"CREATE SEQUENCE enrol_sealed_seq START {args.n + 1};")
    for r, side in order(2):
        if side not in sides:
            continue
        c.psql("CHECKPOINT")
        with tempfile.TemporaryDirectory() as d:
            os.chmod(d, 0o755)
            path = os.path.join(d, "enrol.sql")
            with open(path, "w") as f:
                f.write(SIDE[side]["enrol"] + "\n")
            os.chmod(path, 0o644)
            cpu0 = server_cpu_ms(datadir)
            out = subprocess.run([os.path.join(c.bindir, "pgbench"), "-n", "-c", "1", "-j", "1", "-M", "prepared",
                                  "-r", "-t", str(args.enrol_rows), "-f", path],
                                 env=c.env, capture_output=True, text=True)
            time.sleep(0.2)  # the backend has exited and been reaped
            cpu1 = server_cpu_ms(datadir)
        if out.returncode != 0 or re.search(r"failed transactions: [1-9]|aborted", out.stdout):
            raise RuntimeError(f"pgbench failed: {out.stderr}{out.stdout}")
        x = {"round": r, "rows": args.enrol_rows, "server_cpu_ms_per_row": (cpu1 - cpu0) / args.enrol_rows}
        for line in out.stdout.splitlines():
            if line.startswith("tps ="):
                x["rows_per_s"] = float(line.split()[2])
            elif "INSERT INTO" in line and line.strip()[0].isdigit():
                x["insert_ms"] = float(line.split()[0])
            elif line.startswith("number of transactions actually processed"):
                x["done"] = int(line.split(":")[1].split("/")[0])
        if x.get("done") != args.enrol_rows:
            raise RuntimeError("pgbench did not insert every row:\n" + out.stdout)
        res["enrol"][side]["rounds"].append(x)
        log(f"  enrol {side:6s} round {r}: {x['rows_per_s']:.0f} rows/s, INSERT {x['insert_ms']:.3f} ms, "
            f"server CPU {x['server_cpu_ms_per_row']:.3f} ms/row")
    for side in sides:
        rr = res["enrol"][side]["rounds"]
        for k in ("rows_per_s", "insert_ms", "server_cpu_ms_per_row"):
            res["enrol"][side][k] = statistics.median(x[k] for x in rr)
    counts = c.psql("SELECT (SELECT count(*) FROM plain), " +
                    ("(SELECT count(*) FROM sealed)" if "sealed" in sides else "NULL"))[0]
    res["enrol"]["rows_after"] = counts


def after_enrol(c, args, res, sides, gucs_sealed):
    """Exact mode on both sides after the enrolment: the same answers?"""
    out = res["after_enrol"] = {}
    for side in sides:
        out[side] = query_pass(c, args, side, "exact", f"{side}_exact_after",
                               gucs_sealed if side == "sealed" else {})
    if "sealed" in sides:
        out["sealed_vs_plain"] = compare(c, "sealed_exact_after", "plain_exact_after")
        log(f"  after enrolment, exact: sealed vs plain identical "
            f"{out['sealed_vs_plain']['identical']}/{out['sealed_vs_plain']['probes']}")


def main():
    args = arg_parser().parse_args()
    os.makedirs(args.out, exist_ok=True)
    sides = ("plain",) if args.plain_only else SIDES
    res = {"n": args.n, "dim": args.dim, "seed": args.seed, "k": args.k, "suite": args.suite,
           "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
           "command": " ".join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]).replace(args.pg_config, "$PGC"),
           "loadavg_start": os.getloadavg(), "note": args.note, "gen_args": args.gen_args,
           "shared_buffers": args.shared_buffers, "sealed_storage": args.sealed_storage,
           "toast_tuple_target": args.toast_tuple_target,
           "sides": list(sides)}
    try:
        res["commit"] = subprocess.check_output(["git", "-C", ROOT, "log", "-1", "--format=%h %s"],
                                                text=True).strip()
    except (OSError, subprocess.CalledProcessError):
        res["commit"] = None
    log(f"starting cluster {args.dir} port {args.port} (suite {args.suite})")
    c = start_cluster(args)
    t_start = time.monotonic()
    try:
        target = (f"ALTER TABLE sealed SET (toast_tuple_target = {args.toast_tuple_target});"
                  if args.toast_tuple_target else "")
        c.script(SETUP_SQL % {"dim": args.dim, "storage": args.sealed_storage, "target": target})
        if not args.plain_only and not c.psql(
                "SELECT 1 WHERE to_regprocedure('frt._face_seal(int8, frt.face_embedding)') IS NOT NULL "
                "AND EXISTS (SELECT FROM pg_settings WHERE name = 'frt.ivf_plaintext_cache')"):
            raise RuntimeError("this build has no frt._face_seal or no frt.ivf_plaintext_cache "
                               "(--plain-only measures the plaintext side alone)")
        for side in sides:
            c.script(run.BENCH_RUN_SQL % dict(BENCH_Q[side], k=args.k))
        # the plaintext cache of the sealed side's sessions
        gucs_sealed = {"frt.ivf_plaintext_cache": args.plaintext_cache} if "sealed" in sides else {}
        res["server"] = c.psql("SHOW server_version")[0][0]
        res["simd"] = c.psql("SELECT kernel FROM frt.simd_info() WHERE in_use")[0][0]
        res["settings"] = {k: setting(c, k) for k in (
            "shared_buffers", "frt.encryption_suite", "frt.ivf_plaintext_cache", "frt.probes",
            "max_parallel_workers_per_gather", "fsync", "synchronous_commit", "wal_level")}
        res["plaintext_cache_used"] = args.plaintext_cache if "sealed" in sides else None
        load(c, args, res, sides)
        if args.truth == "on":
            log(f"exhaustive ground truth on plain ({args.probes} probes)")
            s = Session(c)
            s.ask(f"SELECT bench_q_plain('truth', 'all', {args.probes});")
            s.close()
            res["truth_median_ms"] = statistics.median(ms_of(c, "truth"))
        log("CREATE INDEX")
        build(c, args, res, sides)
        # the plans the planner picks by itself, and those measured: the
        # index is what is measured, so every query session has
        # enable_seqscan = off (QUERY_GUCS)
        res["plans_unforced"], res["plans"] = {}, {}
        pid = int(c.psql("SELECT min(id) FROM probes")[0][0])
        for side in sides:
            sql = (f"EXPLAIN SELECT id, e FROM {BENCH_Q[side]['table']} "
                   f"ORDER BY e OPERATOR(frt.<=>) (SELECT e FROM probes WHERE id = {pid}) LIMIT {args.k}")
            res["plans_unforced"][side] = [r[0] for r in c.psql(sql)]
            res["plans"][side] = [r[0] for r in c.script(gucs_sql(QUERY_GUCS) + sql)]
            if not any(SIDE[side]["index"] in line for line in res["plans"][side]):
                raise RuntimeError(f"the {side} query does not use its index: {res['plans'][side]}")
            if not any(SIDE[side]["index"] in line for line in res["plans_unforced"][side]):
                log(f"  NOTE: without enable_seqscan = off the {side} query does not use its index: "
                    + " / ".join(x.strip() for x in res["plans_unforced"][side]))
        res["prewarmed_blocks"] = prewarm(c, sides)
        log(f"queries ({args.probes} probes per pass, {args.rounds} rounds, warm)")
        queries(c, args, res, sides, gucs_sealed)
        log(f"cold first queries ({args.cold_sessions} new sessions per side and mode)")
        cold(c, args, res, sides, gucs_sealed)
        if args.small_cache and "sealed" in sides:
            log(f"sealed with frt.ivf_plaintext_cache = {args.small_cache}")
            small_cache(c, args, res, gucs_sealed)
        log(f"enrolment ({args.enrol_rows} rows per phase, one INSERT each)")
        enrol(c, args, res, sides)
        after_enrol(c, args, res, sides, gucs_sealed)
        res["index_bytes_end"] = {s: int(c.psql(f"SELECT pg_relation_size('{SIDE[s]['index']}')")[0][0])
                                  for s in sides}
    finally:
        res["finished"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        res["elapsed_s"] = time.monotonic() - t_start
        res["loadavg_end"] = os.getloadavg()
        stem = os.path.join(args.out, f"seal_{args.n}_{args.suite}" + (f"_{args.tag}" if args.tag else ""))
        with open(stem + ".json", "w") as f:
            json.dump(res, f, indent=1)
        log(f"results: {os.path.relpath(stem, ROOT)}.json")
        if not args.keep:
            c.stop()
    with open(stem + ".md", "w") as f:
        f.write(markdown(res))
    print(markdown(res))
    log(f"tables: {os.path.relpath(stem, ROOT)}.md")


def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "—"


def markdown(res):
    """The tables of a run (RESULTS.md takes them as they are)."""
    sides = res["sides"]
    sealed = "sealed" in sides
    L = [f"`{res['command']}`", "",
         f"- {res['n']:,} x {res['dim']}, suite {res['settings'].get('frt.encryption_suite')}, "
         f"frt.ivf_plaintext_cache {res.get('plaintext_cache_used')}, shared_buffers {res['shared_buffers']}, "
         f"sealed.e storage {res['sealed_storage']}, toast_tuple_target {res.get('toast_tuple_target') or 'default'}; commit {res.get('commit')}; PostgreSQL {res['server']}, "
         f"kernels {res['simd']}",
         f"- load average {res['loadavg_start'][0]:.2f} / {res['loadavg_start'][1]:.2f} at the start, "
         f"{res['loadavg_end'][0]:.2f} / {res['loadavg_end'][1]:.2f} at the end (1 / 5 min); "
         f"{res['elapsed_s'] / 60:.1f} min; started {res['started']}", ""]
    st = res["storage"]
    L += ["| storage | heap | TOAST | value bytes |", "|---|---|---|---|"]
    for s in sides:
        L.append(f"| {s} | {st[s]['heap_bytes'] / 1e6:.1f} MB | {st[s]['toast_bytes'] / 1e6:.1f} MB | "
                 f"{st[s]['column_size_min']}–{st[s]['column_size_max']} ({st[s]['attstorage']}) |")
    for side in sides:
        plan = res.get("plans_unforced", {}).get(side, [])
        if plan and not any(SIDE[side]["index"] in line for line in plan):
            scan = next((x.strip() for x in plan if "Scan on " + side in x), "?")
            L.append(f"\nWithout `enable_seqscan = off` the planner does not use the {side} index: "
                     f"`{scan}` + Sort (the query sessions set it).")
    if sealed and "load_sealed" in res:
        L.append(f"\nSealing the {res['n']:,} rows (INSERT ... SELECT frt._face_seal): "
                 f"{res['load_sealed']['wall_s']:.1f} s, {res['load_sealed']['rows_per_s']:.0f} rows/s.")
    L += ["", "| metric | plain | sealed | sealed ÷ plain | target |", "|---|---|---|---|---|"]

    def row(name, p, s, target="", fmt="{:.2f}"):
        L.append(f"| {name} | {fmt.format(p)} | {fmt.format(s) if s is not None else '—'} | "
                 f"{ratio(s, p) if s is not None else '—'} | {target} |")
    b = res["builds"]
    row("CREATE INDEX, s (median of %d)" % len(b["plain"]), b["plain_median"]["wall_s"],
        b["sealed_median"]["wall_s"] if sealed else None, "<= 1.5")
    row("CREATE INDEX, backend CPU s", b["plain_median"]["backend_cpu_s"],
        b["sealed_median"]["backend_cpu_s"] if sealed else None)
    row("index size, MB", b["plain_median"]["size_bytes"] / 1e6,
        b["sealed_median"]["size_bytes"] / 1e6 if sealed else None, fmt="{:.1f}")
    for mode in MODES:
        q = res["queries"][mode]
        for k, name in (("median_ms", "ms/query median"), ("p95_ms", "ms/query p95"),
                        ("cpu_ms", "backend CPU ms/query")):
            row(f"{mode}: {name}", q["plain"][k], q["sealed"][k] if sealed else None,
                "<= 1.3" if k != "cpu_ms" else "")
    e = res["enrol"]
    row("enrolment, rows/s (INSERT per statement)", e["plain"]["rows_per_s"],
        e["sealed"]["rows_per_s"] if sealed else None, ">= 0.67", fmt="{:.0f}")
    row("enrolment, INSERT ms", e["plain"]["insert_ms"], e["sealed"]["insert_ms"] if sealed else None,
        fmt="{:.3f}")
    row("enrolment, server CPU ms/row", e["plain"]["server_cpu_ms_per_row"],
        e["sealed"]["server_cpu_ms_per_row"] if sealed else None, fmt="{:.3f}")
    L += ["", "| answers (probes with the same ids, order and float8 distances) | exact | default |",
          "|---|---|---|"]
    for key in sorted(k for k in res["queries"]["exact"]["checks"] if not k.endswith("difference")):
        cells = []
        for mode in MODES:
            v = res["queries"][mode]["checks"].get(key)
            cells.append(f"{v['identical']}/{v['probes']} (recall {v['recall']:.4f})" if v else "—")
        L.append(f"| {key.replace('_', ' ')} | {cells[0]} | {cells[1]} |")
    if sealed and "after_enrol" in res:
        v = res["after_enrol"]["sealed_vs_plain"]
        L.append(f"| after enrolment: sealed vs plain | {v['identical']}/{v['probes']} | |")
    if sealed:
        L += ["", "| plaintext cache (after the warm pass) | exact | default |", "|---|---|---|"]
        ex = res["queries"]["exact"]["sealed"]["rounds"][-1]
        de = res["queries"]["default"]["sealed"]["rounds"][-1]
        idx = b["sealed_median"]["size_bytes"]
        L.append(f"| cache context, MB (÷ index size {idx / 1e6:.1f} MB) | "
                 f"{ex['cache_total_bytes'] / 1e6:.1f} ({ex['cache_total_bytes'] / idx:.2f}) | "
                 f"{de['cache_total_bytes'] / 1e6:.1f} ({de['cache_total_bytes'] / idx:.2f}) |")
    L += ["", "| first query of a new session (median of the sessions) | plain | sealed | sealed ÷ plain |",
          "|---|---|---|---|"]
    for mode in MODES:
        x = res["cold"][mode]
        for k, name in (("cold_median_ms", "first query, ms"), ("warm_median_ms", "same probe again, ms")):
            s = x["sealed"][k] if sealed else None
            L.append(f"| {mode}: {name} | {x['plain'][k]:.2f} | "
                     f"{f'{s:.2f}' if s is not None else '—'} | {ratio(s, x['plain'][k]) if sealed else '—'} |")
    if "small_cache" in res:
        sc = res["small_cache"]
        L += ["", f"| frt.ivf_plaintext_cache = {sc['setting']} | plain | sealed | sealed ÷ plain | "
                  "cache MB | same answers |", "|---|---|---|---|---|---|"]
        for mode in MODES:
            q = sc[mode]
            same = "; ".join(f"{v['identical']}/{v['probes']}" for v in q["checks"].values())
            for k, name in (("median_ms", "median"), ("p95_ms", "p95"), ("cpu_ms", "CPU")):
                L.append(f"| {mode}: ms/query {name} | {q['plain'][k]:.2f} | {q['sealed'][k]:.2f} | "
                         f"{ratio(q['sealed'][k], q['plain'][k])} | "
                         f"{q['sealed']['rounds'][-1]['cache_total_bytes'] / 1e6:.1f} | {same} |")
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""frt benchmark runner (Python standard library + psql/pgbench only).

Creates a throwaway cluster (nothing preloaded unless --preload), loads
face-like data made by bench/facegen, and measures:
  - the exhaustive scan  ORDER BY e <=> $probe LIMIT 10  (ms/query, median),
    serial (max_parallel_workers_per_gather = 0) and with the default workers;
  - with --index (the frt_ivf access method): build time, index size,
    recall@10 against the exhaustive scan, rank-1 agreement on genuine probes,
    ms/query and queries/s from one client, for exact mode (frt.exact = on,
    checked row-for-row against the exhaustive scan) and a sweep of
    frt.probes; then DELETE 10% + VACUUM time and recall afterwards;
  - with --pgvector, when the pgvector extension ("vector") is installed in
    the server: the same data copied into a vector column, pgvector's
    exhaustive scan, a serial HNSW build (m = 16, ef_construction = 64 by
    default), an hnsw.ef_search sweep and DELETE 10% + VACUUM, measured the
    same way in the same cluster and plotted beside frt;
  - a recall-versus-QPS plot (PNG) when matplotlib (python3-matplotlib) or
    gnuplot is installed.

Timings are taken inside the server by a PL/pgSQL loop that runs the query
with the probe as a bind parameter (a PL/pgSQL variable), one probe at a
time, so they exclude client round trips; pgbench (-M prepared, one client)
gives the client-side queries/s for the main settings.

  bench/run.py [--n 100000] [--index] [--lists 0] [--sweep 1,2,4,8,16,32]
See bench/README.md.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# pgvector 0.8.6 figures quoted from an external measurement (same machine class; NOT measured
# by this runner: no pgvector package exists for Debian 12 here).
PGVECTOR_QUOTED = [
    # series, label, recall@10, ms/query
    ("pgvector 0.8.6 HNSW (quoted, external measurement)", "ef_search=40", 0.76, 1.8),
    ("pgvector 0.8.6 HNSW (quoted, external measurement)", "ef_search=400", 0.97, 9.5),
    ("pgvector 0.8.6 exhaustive (quoted)", "exhaustive", 1.0, 300.0),
]

# The measured query; pgbench binds :probe as a parameter.
KNN_SQL = "SELECT id FROM gallery ORDER BY e OPERATOR(frt.<=>) :probe LIMIT %d;"
# The same query against pgvector's copy of the gallery (--pgvector).
PGV_KNN_SQL = ("SELECT id FROM gallery_pgv ORDER BY e OPERATOR(public.<=>) "
               "CAST(:probe AS public.vector) LIMIT %d;")

# One query per probe, the probe a bind parameter; records ids, distances
# and the elapsed time of each query.  The LIMIT is a constant, as in the
# pgbench script, so the plan cache sees the same query shape a prepared
# client's does (a parameter LIMIT hides the row count from the planner).
# Filled in for frt (bench_run) and for pgvector's copy (bench_run_pgv,
# whose probe is converted before the clock starts).
BENCH_RUN_SQL = r"""
CREATE OR REPLACE FUNCTION %(func)s(p_label text, p_kind text, p_count int)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    pr record;
    t0 timestamptz;
    v_ids int8[];
    v_d float8[];
BEGIN
    DELETE FROM bench_result WHERE label = p_label;
    FOR pr IN SELECT id, %(probe)s AS v FROM probes
              WHERE (p_kind = 'all') OR (p_kind = 'genuine') = (identity IS NOT NULL)
              ORDER BY id LIMIT p_count LOOP
        t0 := clock_timestamp();
        SELECT array_agg(s.id ORDER BY s.rn), array_agg(s.d ORDER BY s.rn)
          INTO v_ids, v_d
          FROM (SELECT g.id, g.e OPERATOR(%(op)s) pr.v AS d,
                       row_number() OVER () AS rn
                  FROM (SELECT id, e FROM %(table)s
                        ORDER BY e OPERATOR(%(op)s) pr.v LIMIT %(k)d) g) s;
        INSERT INTO bench_result
            VALUES (p_label, pr.id, v_ids, v_d,
                    extract(epoch FROM clock_timestamp() - t0) * 1000);
    END LOOP;
END $$;
"""
FRT_RUN = {"func": "bench_run", "probe": "e", "op": "frt.<=>", "table": "gallery"}
PGV_RUN = {"func": "bench_run_pgv", "probe": "CAST(CAST(e AS text) AS public.vector)",
           "op": "public.<=>", "table": "gallery_pgv"}

# --pgvector: a copy of the gallery in pgvector's type (and bench_run_pgv,
# from BENCH_RUN_SQL).
PGV_SETUP_SQL = r"""
CREATE EXTENSION IF NOT EXISTS vector SCHEMA public;
DROP TABLE IF EXISTS gallery_pgv;
CREATE TABLE gallery_pgv (id int8 PRIMARY KEY, e public.vector(%(dim)d) NOT NULL);
INSERT INTO gallery_pgv SELECT id, CAST(CAST(e AS text) AS public.vector) FROM gallery;
VACUUM ANALYZE gallery_pgv;
"""

SETUP_SQL = r"""
CREATE EXTENSION IF NOT EXISTS frt;
DROP TABLE IF EXISTS gallery, probes, bench_result;
CREATE TABLE gallery (id int8 PRIMARY KEY, e frt.face_embedding(%(dim)d) NOT NULL);
CREATE TABLE probes (id int8 PRIMARY KEY, identity int8, e frt.face_embedding(%(dim)d) NOT NULL);
CREATE TABLE bench_result (label text, probe int8, ids int8[], dists float8[], ms float8);
"""


def log(msg):
    print(f"[run.py {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Cluster:
    """A throwaway cluster in its own directory, run as the unprivileged user
    postgres (via runuser when started as root), driven through psql.  Nothing
    is preloaded unless the configuration sets shared_preload_libraries: the
    type, its operators and frt_ivf load with the library on first use."""

    def __init__(self, pg_config, datadir, port):
        self.pg_config = pg_config
        self.dir = datadir
        self.port = str(port)
        self.bindir = subprocess.check_output([pg_config, "--bindir"], text=True).strip()
        self.env = dict(os.environ, PG_CONFIG=pg_config, PGHOST=datadir,
                        PGPORT=self.port, PGUSER="postgres", PGDATABASE="postgres")

    def as_postgres(self, cmd):
        return ["runuser", "-u", "postgres", "--"] + cmd if os.geteuid() == 0 else cmd

    def start(self, conf):
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        data = os.path.join(self.dir, "data")
        with open(os.path.join(self.dir, "initdb.log"), "w") as log_f:
            subprocess.check_call(self.as_postgres(
                [os.path.join(self.bindir, "initdb"), "-D", data, "-A", "trust",
                 "-U", "postgres", "--no-sync"]), stdout=log_f, stderr=subprocess.STDOUT)
        conf = dict({"port": self.port, "listen_addresses": "", "unix_socket_directories": self.dir,
                     "fsync": "off"}, **conf)
        with open(os.path.join(data, "postgresql.conf"), "a") as f:
            for k, v in conf.items():
                f.write(f"{k} = '{v}'\n")
        self.ctl("start")

    def ctl(self, action, check=True):
        cmd = [os.path.join(self.bindir, "pg_ctl"), "-D", os.path.join(self.dir, "data"),
               "-l", os.path.join(self.dir, "server.log"), "-w", "-m", "fast", action]
        (subprocess.check_call if check else subprocess.call)(
            self.as_postgres(cmd), env=self.env, stdout=subprocess.DEVNULL)

    def stop(self):
        self.ctl("stop", check=False)

    def psql(self, sql, stdin=None):
        """Run SQL (ON_ERROR_STOP), return stdout rows as lists of fields."""
        out = subprocess.run([os.path.join(self.bindir, "psql"), "-X", "-q", "-A", "-t",
                              "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                             env=self.env, input=stdin, capture_output=True, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"psql failed: {out.stderr.decode(errors='replace')}\nSQL: {sql[:300]}")
        text = out.stdout.decode()
        return [line.split("\t") for line in text.splitlines() if line != ""]

    def script(self, sql):
        """Run a multi-statement script in one session; return its rows."""
        with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
            f.write(sql)
            name = f.name
        os.chmod(name, 0o644)
        try:
            out = subprocess.run([os.path.join(self.bindir, "psql"), "-X", "-q", "-A", "-t",
                                  "-F", "\t", "-v", "ON_ERROR_STOP=1", "-f", name],
                                 env=self.env, capture_output=True, check=False)
        finally:
            os.unlink(name)
        if out.returncode != 0:
            raise RuntimeError(f"psql failed: {out.stderr.decode(errors='replace')}")
        return [line.split("\t") for line in out.stdout.decode().splitlines() if line]

    def timed(self, sql):
        t0 = time.monotonic()
        self.script(sql)
        return time.monotonic() - t0

    def copy_from(self, table, producer_cmd, fmt="binary"):
        """Pipe a generator's COPY output (binary or text) into the table; return seconds."""
        t0 = time.monotonic()
        gen = subprocess.Popen(producer_cmd, stdout=subprocess.PIPE)
        out = subprocess.run([os.path.join(self.bindir, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                              "-c", f"COPY {table} FROM STDIN (FORMAT {fmt})"],
                             env=self.env, stdin=gen.stdout, capture_output=True)
        gen.stdout.close()
        if gen.wait() != 0 or out.returncode != 0:
            raise RuntimeError(f"COPY {table} failed: {out.stderr.decode(errors='replace')}")
        return time.monotonic() - t0

    def pgbench(self, sql, seconds, nprobes, gucs):
        """One client, pgbench -M prepared: the probe (a genuine probe chosen at
        random) is fetched with \\gset and sent as a bind parameter of the query
        'sql' (which names it :probe).  Returns the query statement's mean
        latency (ms), its queries/s, and the transactions/s (fetch + query)."""
        with tempfile.TemporaryDirectory() as d:
            os.chmod(d, 0o755)
            path = os.path.join(d, "q.sql")
            with open(path, "w") as f:
                f.write(f"\\set pid random(1, {nprobes})\n"
                        "SELECT e AS probe FROM probes WHERE id = :pid \\gset\n"
                        f"{sql}\n")
            os.chmod(path, 0o644)
            opts = " ".join(f"-c {k}={v}" for k, v in gucs.items())
            env = dict(self.env, PGOPTIONS=opts)
            out = subprocess.run([os.path.join(self.bindir, "pgbench"), "-n", "-c", "1", "-j", "1",
                                  "-M", "prepared", "-r", "-T", str(seconds), "-f", path],
                                 env=env, capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"pgbench failed: {out.stderr}{out.stdout}")
        r = {"seconds": seconds}
        for line in out.stdout.splitlines():
            if line.startswith("tps ="):
                r["tps"] = float(line.split()[2])
            elif line.startswith("number of transactions actually processed"):
                r["transactions"] = int(line.split(":")[1].split("/")[0])
            elif ":probe" in line and line.strip()[0].isdigit():
                r["query_ms"] = float(line.split()[0])
                r["query_qps"] = 1000.0 / r["query_ms"]
        if "query_ms" not in r:
            raise RuntimeError("pgbench: no statement latency\n" + out.stdout)
        return r


def gucs_sql(gucs):
    return "".join(f"SET {k} = {v};\n" for k, v in gucs.items())


def backend_cpu_s(pid):
    """CPU seconds (user + system) used so far by a local server process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_label(c, label, kind, count, k, gucs, cpu=None, func="bench_run"):
    """Run bench_run for a label under GUC settings in one session; return the
    per-query ms list.  If 'cpu' is a dict, also store the backend's CPU ms per
    query in cpu['cpu_ms'] (robust to other load on the machine, unlike wall
    time; the session's first query is included)."""
    p = subprocess.Popen([os.path.join(c.bindir, "psql"), "-X", "-q", "-A", "-t",
                          "-v", "ON_ERROR_STOP=1"], env=c.env, text=True,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def ask(sql):
        p.stdin.write(sql + "\n\\echo __end__\n")
        p.stdin.flush()
        lines = []
        while True:
            line = p.stdout.readline()
            if line == "":
                raise RuntimeError(f"psql ended during: {sql[:200]}")
            if line.strip() == "__end__":
                return lines
            lines.append(line.strip())

    pid = int(ask("SELECT pg_backend_pid();")[0])
    ask(gucs_sql(gucs))
    t0 = backend_cpu_s(pid)
    ask(f"SELECT {func}('{label}', '{kind}', {count});")
    t1 = backend_cpu_s(pid)
    p.stdin.close()
    if p.wait() != 0:
        raise RuntimeError(f"{func} {label} failed")
    rows = c.psql(f"SELECT ms FROM bench_result WHERE label = '{label}' ORDER BY probe")
    if cpu is not None and rows:
        cpu["cpu_ms"] = 1000.0 * (t1 - t0) / len(rows)
    return [float(r[0]) for r in rows]


def compare(c, label, truth):
    """recall@10 vs truth label, rank-1 agreement (genuine probes), identical rows."""
    rows = c.psql(f"""
        SELECT count(*),
               avg((SELECT count(*) FROM unnest(a.ids) x WHERE x = ANY (t.ids))::float8
                   / greatest(cardinality(t.ids), 1)),
               avg(CASE WHEN p.identity IS NOT NULL THEN (a.ids[1] = t.ids[1])::int END),
               avg(CASE WHEN p.identity IS NOT NULL THEN (t.ids[1] = p.identity)::int END),
               sum((a.ids = t.ids AND a.dists = t.dists)::int)
          FROM bench_result a JOIN bench_result t ON t.probe = a.probe AND t.label = '{truth}'
          JOIN probes p ON p.id = a.probe
         WHERE a.label = '{label}'""")
    n, recall, rank1, truth_rank1, same = rows[0]
    return {"probes": int(n), "recall10": float(recall),
            "rank1_agreement": float(rank1) if rank1 else None,
            "truth_rank1_correct_identity": float(truth_rank1) if truth_rank1 else None,
            "identical": int(same)}


def measure_label(c, args, serial, label, gucs, count, truth, func="bench_run"):
    """Time 'count' probes under serial + gucs, and compare them with the
    truth label: timing summary, backend CPU, recall, rank-1, identical."""
    cpu = {}
    ms = run_label(c, label, "all", count, args.k, dict(serial, **gucs), cpu, func=func)
    r = summarize(ms)
    r.update(cpu)
    r.update(compare(c, label, truth))
    r["gucs"] = gucs
    return r


def summarize(ms):
    """Timing summary; the first query of a session is dropped (it pays the
    page faults of mapping shared buffers into a fresh backend)."""
    if len(ms) > 2:
        ms = ms[1:]
    return {"median_ms": statistics.median(ms), "mean_ms": statistics.fmean(ms),
            "p95_ms": statistics.quantiles(ms, n=20)[18] if len(ms) > 1 else ms[0],
            "min_ms": min(ms), "max_ms": max(ms), "n": len(ms),
            "qps": 1000.0 / statistics.median(ms),
            "qps_mean": 1000.0 / statistics.fmean(ms)}


def plot(points, path, title):
    """Recall@10 vs QPS, ann-benchmarks style; matplotlib, else gnuplot."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        plt = None
    if plt is not None:
        fig, ax = plt.subplots(figsize=(8, 5.5))
        series = {}
        for p in points:
            series.setdefault(p["series"], []).append(p)
        styles = {"frt exhaustive scan": "D", "pgvector 0.8.6 HNSW (quoted, external measurement)": "x--",
                  "pgvector 0.8.6 exhaustive (quoted)": "x"}
        for name, ps in series.items():
            ps = sorted(ps, key=lambda p: p["recall"])
            default = "o-" if "sweep" in name else "s"
            ax.plot([p["recall"] for p in ps], [p["qps"] for p in ps],
                    styles.get(name, default), label=name)
            for p in ps:
                if p.get("note"):
                    ax.annotate(p["note"], (p["recall"], p["qps"]), fontsize=7,
                                textcoords="offset points", xytext=(4, 4))
        ax.set_yscale("log")
        ax.set_xlabel("recall@10 (vs exhaustive scan)")
        ax.set_ylabel("queries per second, one client: 1000 / median ms (log)")
        ax.set_title(title, fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="lower left")
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        return "matplotlib"
    if shutil.which("gnuplot"):
        with tempfile.TemporaryDirectory() as d:
            cmds = [f"set terminal png size 880,600; set output '{path}'",
                    "set logscale y; set xlabel 'recall@10'; set ylabel 'QPS (log)'",
                    f"set title '{title}'; set key bottom left"]
            plots = []
            for i, name in enumerate(sorted({p["series"] for p in points})):
                f = os.path.join(d, f"s{i}.dat")
                with open(f, "w") as fh:
                    for p in sorted((p for p in points if p["series"] == name),
                                    key=lambda p: p["recall"]):
                        fh.write(f"{p['recall']} {p['qps']}\n")
                plots.append(f"'{f}' using 1:2 with linespoints title '{name}'")
            cmds.append("plot " + ", ".join(plots))
            subprocess.run(["gnuplot"], input="\n".join(cmds), text=True, check=True)
        return "gnuplot"
    return None


def arg_parser():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100000, help="gallery rows (default 100000)")
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--time-probes", type=int, default=20,
                    help="probes timed for the exhaustive scan (default 20)")
    ap.add_argument("--recall-probes", type=int, default=100,
                    help="genuine and as many impostor probes for recall (default 100 + 100)")
    ap.add_argument("--generator", default="",
                    help="another data generator instead of bench/facegen: a program taking facegen's "
                         "options --n --dim --seed --count and a set name (gallery | genuine | impostor) "
                         "and writing that set as binary COPY data in facegen's layout (bench/README.md)")
    ap.add_argument("--generator-format", choices=["binary", "text"], default="binary",
                    help="COPY format of --generator's output (text: tab-separated, embedding as [x,...])")
    ap.add_argument("--gen-args", default="",
                    help="extra facegen options, e.g. \"--clusters 16 --rank 48\" for a differently shaped set")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--index", action="store_true", help="also benchmark the frt_ivf index")
    ap.add_argument("--lists", default="0",
                    help="frt_ivf lists reloption(s), comma-separated, one index each in turn "
                         "(0 = automatic); DELETE + VACUUM runs on the last")
    ap.add_argument("--sweep", default="1,2,4,8,16,32,64", help="frt.probes values")
    ap.add_argument("--pgvector", action="store_true",
                    help="also measure pgvector side by side in the same cluster, if its extension "
                         "(vector) is installed for this server; otherwise say so in the results")
    ap.add_argument("--pgvector-index", default="hnsw (e public.vector_cosine_ops) WITH (m = 16, ef_construction = 64)",
                    help="the pgvector index, after USING (default: HNSW, m = 16, ef_construction = 64)")
    ap.add_argument("--ef-sweep", default="40,100,200,400", help="hnsw.ef_search values (--pgvector)")
    ap.add_argument("--pgbench-seconds", type=int, default=5)
    ap.add_argument("--skip-parallel", action="store_true", help="skip the default-workers exhaustive run")
    ap.add_argument("--pg-config", default=os.environ.get("PG_CONFIG", "pg_config"))
    ap.add_argument("--dir", default="/tmp/frt-bench")
    ap.add_argument("--port", type=int, default=55550)
    ap.add_argument("--shared-buffers", default="2GB",
                    help="default 2GB: the 100k x 512 heap (273 MB) is then under a quarter of "
                         "shared_buffers, so sequential scans keep it cached instead of using a "
                         "ring buffer that re-reads it from the kernel on every query")
    ap.add_argument("--also-shared-buffers", default="128MB",
                    help="also time the serial exhaustive scan with this shared_buffers "
                         "(default 128MB, PostgreSQL's default; '' to skip)")
    ap.add_argument("--huge-pages", action="store_true",
                    help="run the server with huge_pages = on (set vm.nr_hugepages first, as root: "
                         "shared_buffers / 2 MB + 10%%); a new backend then maps shared buffers "
                         "without a page fault per 8 kB, which VACUUM and first queries pay otherwise")
    ap.add_argument("--preload", default="",
                    help="shared_preload_libraries of the cluster (default none: the type, its "
                         "operators and frt_ivf need no preloading)")
    ap.add_argument("--out", default=os.path.join(HERE, "out"))
    ap.add_argument("--keep", action="store_true", help="leave the cluster running")
    ap.add_argument("--note", default="", help="free text kept in the results (e.g. the commit measured)")
    return ap


def generator_cmd(args):
    """The data generator's command without the set to make: --generator, or
    bench/facegen (built here), with --n --dim --seed and --gen-args."""
    if args.generator:
        prog = os.path.abspath(args.generator)
    else:
        subprocess.check_call(["make", "-s", "-C", HERE, "facegen"])
        prog = os.path.join(HERE, "facegen")
    return [prog, "--n", str(args.n), "--dim", str(args.dim), "--seed", str(args.seed)] + \
        args.gen_args.split()


def data_sets(args):
    """What the generator is asked for, in load order: (table, the set's
    arguments); the gallery first, then genuine and impostor probes."""
    nprobe = max(args.recall_probes, args.time_probes)
    return [("gallery", ["gallery"]), ("probes", ["--count", str(nprobe), "genuine"]),
            ("probes", ["--count", str(nprobe), "impostor"])]


def main():
    args = arg_parser().parse_args()

    os.makedirs(args.out, exist_ok=True)
    fg = generator_cmd(args)
    facegen = fg[0]
    res = {"n": args.n, "dim": args.dim, "seed": args.seed, "k": args.k,
           "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
           "command": " ".join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]),
           "shared_buffers": args.shared_buffers, "loadavg_start": os.getloadavg(),
           "note": args.note, "gen_args": args.gen_args,
           "generator": os.path.relpath(facegen, ROOT) if facegen.startswith(ROOT) else facegen}

    c = Cluster(args.pg_config, args.dir, args.port)
    log(f"starting cluster {args.dir} port {args.port}")
    conf = {"shared_buffers": args.shared_buffers, "max_wal_size": "4GB",
            "maintenance_work_mem": "1GB", "jit": "off",
            "shared_preload_libraries": args.preload}
    if args.huge_pages:
        conf["huge_pages"] = "on"
    res["huge_pages"] = args.huge_pages
    res["preload"] = args.preload
    c.start(conf)
    try:
        c.script(SETUP_SQL % {"dim": args.dim} + BENCH_RUN_SQL % dict(FRT_RUN, k=args.k))
        res["server"] = c.psql("SHOW server_version")[0][0]
        try:
            res["simd"] = c.psql("SELECT kernel FROM frt.simd_info() WHERE in_use")[0][0]
        except (RuntimeError, IndexError):
            res["simd"] = None  # a build without frt.simd_info()

        log(f"loading {args.n} x {args.dim} gallery rows ({args.generator_format} COPY)")
        sets = data_sets(args)
        res["load_s"] = c.copy_from(sets[0][0], fg + sets[0][1], args.generator_format)
        for table, what in sets[1:]:
            c.copy_from(table, fg + what, args.generator_format)
        t = c.timed("VACUUM ANALYZE gallery; VACUUM ANALYZE probes; CHECKPOINT;")
        log(f"loaded in {res['load_s']:.1f} s (vacuum analyze {t:.1f} s)")

        # in-line storage: no TOAST data, every value stored at full size in the row
        row = c.psql("""
            SELECT pg_relation_size(c.oid), coalesce(pg_relation_size(c.reltoastrelid), 0),
                   (SELECT min(pg_column_size(e)) FROM gallery), (SELECT max(pg_column_size(e)) FROM gallery),
                   (SELECT a.attstorage FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'e')
              FROM pg_class c WHERE c.relname = 'gallery'""")[0]
        res["storage"] = {"heap_bytes": int(row[0]), "toast_bytes": int(row[1]),
                          "min_column_size": int(row[2]), "max_column_size": int(row[3]),
                          "attstorage": row[4]}
        log(f"storage: {res['storage']}")
        pgv = pgvector_setup(c, args, res) if args.pgvector else False

        # exhaustive scan timings
        serial = {"max_parallel_workers_per_gather": 0}
        res["exhaustive_plan"] = [r[0] for r in c.script(
            gucs_sql(serial) + "EXPLAIN (COSTS OFF) SELECT id FROM gallery ORDER BY e OPERATOR(frt.<=>) "
            "(SELECT e FROM probes WHERE id = 1) LIMIT 10;")]
        log("exhaustive scan, serial")
        cpu = {}
        ms = run_label(c, "exhaustive_serial", "genuine", args.time_probes, args.k, serial, cpu)
        res["exhaustive_serial"] = summarize(ms)
        res["exhaustive_serial"].update(cpu)
        log(f"  {res['exhaustive_serial']['median_ms']:.1f} ms/query median")
        res["exhaustive_serial"]["pgbench"] = c.pgbench(
            KNN_SQL % args.k, args.pgbench_seconds * 2, args.time_probes, serial)
        log(f"  pgbench: {res['exhaustive_serial']['pgbench']['query_ms']:.1f} ms/query mean")
        if not args.skip_parallel:
            # PL/pgSQL's SELECT INTO runs without parallel workers, so the
            # default-workers figure comes from pgbench (the real client path).
            log("exhaustive scan, default parallel workers (pgbench)")
            res["exhaustive_parallel"] = {"pgbench": c.pgbench(
                KNN_SQL % args.k, args.pgbench_seconds * 2, args.time_probes, {})}
            res["exhaustive_parallel"]["plan"] = [r[0] for r in c.script(
                "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT id FROM gallery ORDER BY e OPERATOR(frt.<=>) "
                "(SELECT e FROM probes WHERE id = 1) LIMIT 10;")]
            log(f"  {res['exhaustive_parallel']['pgbench']['query_ms']:.1f} ms/query mean")

        # the same serial scan with another shared_buffers (e.g. PostgreSQL's
        # default 128MB, where the heap exceeds a quarter of it and every scan
        # goes through a 256 kB ring buffer, re-reading from the kernel)
        if args.also_shared_buffers:
            sb = args.also_shared_buffers
            log(f"exhaustive scan, serial, shared_buffers = {sb}")
            c.psql(f"ALTER SYSTEM SET shared_buffers = '{sb}'")
            c.ctl("restart")
            cpu = {}
            ms = run_label(c, "exhaustive_serial_sb", "genuine", args.time_probes, args.k, serial, cpu)
            alt = res["exhaustive_serial_alt"] = summarize(ms)
            alt.update(cpu)
            alt["shared_buffers"] = sb
            alt["pgbench"] = c.pgbench(KNN_SQL % args.k, args.pgbench_seconds * 2,
                                       args.time_probes, serial)
            log(f"  {alt['median_ms']:.1f} ms/query median; pgbench {alt['pgbench']['query_ms']:.1f} ms/query mean")
            c.psql(f"ALTER SYSTEM SET shared_buffers = '{args.shared_buffers}'")
            c.ctl("restart")

        # ground truth for recall: exhaustive, serial, every recall probe
        log(f"ground truth: exhaustive over {2 * args.recall_probes} probes")
        c.script("DELETE FROM probes WHERE (identity IS NOT NULL AND id > %d) OR (identity IS NULL AND id > %d);"
                 % (args.recall_probes, 1000000 + args.recall_probes))
        run_label(c, "truth", "all", 2 * args.recall_probes, args.k, serial)
        res["truth"] = compare(c, "truth", "truth")

        points = [{"series": "frt exhaustive scan", "recall": 1.0,
                   "qps": res["exhaustive_serial"]["qps"], "note": "serial"}]
        if not pgv:
            for series, label, recall, ms_q in PGVECTOR_QUOTED:
                points.append({"series": series, "recall": recall, "qps": 1000.0 / ms_q, "note": label})

        if args.index:
            lists = [int(x) for x in args.lists.split(",") if x != ""]
            for i, L in enumerate(lists):
                bench_index(c, args, res, points, serial, L, i == len(lists) - 1)
        if pgv:
            bench_pgvector(c, args, res, points, serial)

        res["plot"] = None
        png = os.path.join(args.out, f"recall_qps_{args.n}.png")
        how = plot(points, png, f"frt, {args.n:,} x {args.dim} face-like rows, one client, "
                                f"ORDER BY e <=> probe LIMIT {args.k}")
        if how:
            res["plot"] = png
            log(f"plot written with {how}: {png}")
        res["points"] = points
        res["finished"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        res["loadavg_end"] = os.getloadavg()
    finally:
        if not args.keep:
            c.stop()
    path = os.path.join(args.out, f"results_{args.n}.json")
    with open(path, "w") as f:
        json.dump(res, f, indent=1)
    print(json.dumps(res, indent=1))
    log(f"results: {path}")


def pgvector_setup(c, args, res):
    """--pgvector: copy the gallery into pgvector's type if the extension is
    installed; return whether it is."""
    avail = c.psql("SELECT default_version FROM pg_available_extensions WHERE name = 'vector'")
    if not avail:
        res["pgvector"] = {"available": False,
                           "reason": "extension \"vector\" is not installed for this server"}
        log("pgvector: not installed for this server; its quoted figures are plotted instead")
        return False
    log("pgvector: copying the gallery into a vector column")
    t = c.timed(PGV_SETUP_SQL % {"dim": args.dim} + BENCH_RUN_SQL % dict(PGV_RUN, k=args.k))
    ver = c.psql("SELECT extversion FROM pg_extension WHERE extname = 'vector'")[0][0]
    size = int(c.psql("SELECT pg_table_size('gallery_pgv')")[0][0])
    res["pgvector"] = {"available": True, "version": ver, "copy_s": t, "heap_bytes": size,
                       "index": args.pgvector_index}
    log(f"pgvector {ver}: copied in {t:.1f} s, heap {size / 1e6:.1f} MB")
    return True


def bench_pgvector(c, args, res, points, serial):
    """--pgvector: pgvector's exhaustive scan, index build, ef_search sweep and
    DELETE 10% + VACUUM, measured like frt's (same probes, same truth)."""
    pv = res["pgvector"]
    q = PGV_KNN_SQL % args.k
    series = f"pgvector {pv['version']}"

    def measure(label, gucs, count, truth="truth"):
        return measure_label(c, args, serial, label, gucs, count, truth, "bench_run_pgv")

    log(f"{series}: exhaustive scan, serial")
    ex = pv["exhaustive_serial"] = measure("pgv_exhaustive", {"enable_indexscan": "off"},
                                           args.time_probes)
    ex["pgbench"] = c.pgbench(q, args.pgbench_seconds * 2, args.time_probes,
                              dict(serial, enable_indexscan="off"))
    points.append({"series": f"{series} exhaustive scan", "recall": 1.0, "qps": ex["qps"],
                   "note": "serial"})
    log(f"  {ex['median_ms']:.1f} ms/query median, pgbench {ex['pgbench']['query_ms']:.1f} ms")

    log(f"{series}: CREATE INDEX ... USING {args.pgvector_index} (serial)")
    build = c.timed("SET max_parallel_maintenance_workers = 0; "
                    f"CREATE INDEX gallery_pgv_idx ON gallery_pgv USING {args.pgvector_index};")
    size = int(c.psql("SELECT pg_relation_size('gallery_pgv_idx')")[0][0])
    pv.update({"build_s": build, "size_bytes": size})
    log(f"  built in {build:.2f} s, {size / 1e6:.1f} MB")
    # as for frt: restart, then read the index and heap once
    c.ctl("restart")
    efs = [int(x) for x in args.ef_sweep.split(",") if x]
    # the index is what is measured: no sequential scan even if costed lower
    serial = dict(serial, enable_seqscan="off")
    c.script(gucs_sql(dict(serial, **{"hnsw.ef_search": max(efs)})) +
             "SELECT count(*) FROM gallery_pgv; SELECT count(*) FROM probes; "
             f"SELECT bench_run_pgv('pgv_warm', 'all', {2 * args.recall_probes});")
    pv["plan"] = [r[0] for r in c.script(
        gucs_sql(serial) + "EXPLAIN (COSTS OFF) SELECT id FROM gallery_pgv ORDER BY e OPERATOR(public.<=>) "
        "(SELECT CAST(CAST(e AS text) AS public.vector) FROM probes WHERE id = 1) LIMIT 10;")]
    if not any("gallery_pgv_idx" in line for line in pv["plan"]):
        log("  WARNING: the plan does not use the pgvector index: " + " / ".join(pv["plan"]))
    pv["sweep"] = []
    for ef in efs:
        r = measure(f"pgv_ef_{ef}", {"hnsw.ef_search": ef}, 2 * args.recall_probes)
        r["ef_search"] = ef
        r["pgbench"] = c.pgbench(q, args.pgbench_seconds, args.recall_probes,
                                 dict(serial, **{"hnsw.ef_search": ef}))
        pv["sweep"].append(r)
        points.append({"series": f"{series} HNSW, hnsw.ef_search sweep", "recall": r["recall10"],
                       "qps": r["qps"], "note": f"{ef}"})
        log(f"  ef_search={ef}: recall@10 {r['recall10']:.4f} rank-1 {r['rank1_agreement']} "
            f"{r['median_ms']:.2f} ms/query median, pgbench {r['pgbench']['query_ms']:.2f} ms")

    if not any(ix.get("vacuum_s") for ix in res.get("index", [])):
        return
    # truth_after (frt's table after the same DELETE) is the truth here too
    log(f"{series}: DELETE 10% + VACUUM")
    pv["delete_s"] = c.timed("DELETE FROM gallery_pgv WHERE id % 10 = 0;")
    pv["vacuum_s"] = c.timed("VACUUM gallery_pgv;")
    pv["vacuum_over_build"] = pv["vacuum_s"] / build
    pv["after_delete"] = []
    for ef in efs:
        r = measure(f"pgv_ef_{ef}_after", {"hnsw.ef_search": ef}, 2 * args.recall_probes,
                    "truth_after")
        r["ef_search"] = ef
        pv["after_delete"].append(r)
    log(f"  vacuum {pv['vacuum_s']:.2f} s ({100 * pv['vacuum_over_build']:.1f}% of build); recall after: " +
        ", ".join(f"ef {r['ef_search']} {r['recall10']:.4f}" for r in pv["after_delete"]))


def bench_index(c, args, res, points, serial, lists, last):
    """Build frt_ivf with 'lists', measure exact mode and the frt.probes sweep;
    on the last index, also DELETE 10% + VACUUM and recall afterwards."""
    q = KNN_SQL % args.k
    tag = f"L{lists}"
    log(f"CREATE INDEX ... USING frt_ivf (lists = {lists})")
    build = c.timed(gucs_sql(serial) + "CREATE INDEX gallery_e_ivf ON gallery USING frt_ivf "
                    f"(e frt.face_cosine_ops) WITH (lists = {lists});")
    size = int(c.psql("SELECT pg_relation_size('gallery_e_ivf')")[0][0])
    # Restart, then read the index once: every index is then measured with
    # its pages in the buffers a first scan put them in (in scan order).
    # Without this the second index built in a run reuses the first one's
    # freed buffers, which the buffer pool hands out in reverse order, and
    # its scans ran up to 2x slower than the same index after a restart.
    # The heap is read back too (a sequential scan of a table under a quarter
    # of shared_buffers goes through the buffer pool), since the queries
    # re-check distances on heap rows.
    c.ctl("restart")
    c.script(gucs_sql(dict(serial, **{"frt.exact": "on"})) +
             "SELECT count(*) FROM (SELECT id FROM gallery ORDER BY e OPERATOR(frt.<=>) "
             "(SELECT e FROM probes ORDER BY id LIMIT 1) LIMIT 10) s; "
             "SELECT count(*) FROM gallery; SELECT count(*) FROM probes;")
    ix = {"lists": lists, "build_s": build, "size_bytes": size,
          "heap_bytes": res["storage"]["heap_bytes"]}
    res.setdefault("index", []).append(ix)
    log(f"  built in {build:.2f} s, {size / 1e6:.1f} MB")
    ix["plan"] = [r[0] for r in c.script(
        gucs_sql(serial) + "EXPLAIN (COSTS OFF) SELECT id FROM gallery ORDER BY e OPERATOR(frt.<=>) "
        "(SELECT e FROM probes WHERE id = 1) LIMIT 10;")]

    def measure(label, gucs, truth="truth"):
        return measure_label(c, args, serial, label, gucs, 2 * args.recall_probes, truth)

    log("  exact mode")
    ix["exact"] = measure(f"{tag}_exact", {"frt.exact": "on"})
    ix["exact"]["pgbench"] = c.pgbench(q, args.pgbench_seconds, args.recall_probes,
                                       dict(serial, **{"frt.exact": "on"}))
    points.append({"series": f"frt_ivf lists={lists} exact", "recall": ix["exact"]["recall10"],
                   "qps": ix["exact"]["qps"], "note": "exact"})
    log(f"    {ix['exact']['mean_ms']:.2f} ms/query, identical {ix['exact']['identical']}/{ix['exact']['probes']}")
    ix["sweep"] = []
    # frt.probes means nothing to a flat index (lists = 1, or lists = 0 below
    # the automatic threshold of 50,000 rows: FRT_IVF_AUTO_FLAT_ROWS)
    flat = lists == 1 or (lists == 0 and args.n < 50000)
    for p in [] if flat else [int(x) for x in args.sweep.split(",") if x]:
        r = measure(f"{tag}_probes_{p}", {"frt.exact": "off", "frt.probes": p})
        r["probes_setting"] = p
        ix["sweep"].append(r)
        points.append({"series": f"frt_ivf lists={lists} frt.probes sweep", "recall": r["recall10"],
                       "qps": r["qps"], "note": f"{p}"})
        log(f"    probes={p}: recall@10 {r['recall10']:.4f} rank-1 {r['rank1_agreement']} "
            f"{r['mean_ms']:.2f} ms/query")
    ix["default"] = measure(f"{tag}_default", {})
    ix["default"]["pgbench"] = c.pgbench(q, args.pgbench_seconds, args.recall_probes, serial)
    log(f"    default settings: recall@10 {ix['default']['recall10']:.4f} "
        f"{ix['default']['mean_ms']:.2f} ms/query")
    if not last:
        c.script("DROP INDEX gallery_e_ivf;")
        return

    log("  DELETE 10% + VACUUM")
    ix["delete_s"] = c.timed("DELETE FROM gallery WHERE id % 10 = 0;")
    ix["vacuum_s"] = c.timed("VACUUM gallery;")
    ix["vacuum_over_build"] = ix["vacuum_s"] / build
    ix["size_after_vacuum_bytes"] = int(c.psql("SELECT pg_relation_size('gallery_e_ivf')")[0][0])
    c.script(gucs_sql(dict(serial, enable_indexscan="off", enable_bitmapscan="off")) +
             f"SELECT bench_run('truth_after', 'all', {2 * args.recall_probes});")
    ix["after_delete_exact"] = measure(f"{tag}_exact_after", {"frt.exact": "on"}, "truth_after")
    ix["after_delete_default"] = measure(f"{tag}_default_after", {}, "truth_after")
    log(f"    vacuum {ix['vacuum_s']:.2f} s ({100 * ix['vacuum_over_build']:.1f}% of build); "
        f"recall after: default {ix['after_delete_default']['recall10']:.4f}, "
        f"exact identical {ix['after_delete_exact']['identical']}/{ix['after_delete_exact']['probes']}")


if __name__ == "__main__":
    main()

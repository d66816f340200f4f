/*
 * sqlite_bench.c
 *	  The SQLite edition's gallery against sqlite-vec's vec0 on the same
 *	  face-like rows, in one run: load time, file size, 1:N latency (top
 *	  10; exact and default; the first query of a new connection and the
 *	  steady state; with and without a purpose filter), enrolment and
 *	  deletion of one face, and whether the answers are identical (frt
 *	  exact against the exhaustive SQL scan, against vec0, and default
 *	  mode's recall).  Driven by bench/sqlite_bench.sh; see bench/README.md.
 *
 *	  sqlite_bench --frt LIB --vec0 LIB --facegen PROG --n N [--dim D]
 *	               [--probes P] [--exhaustive E] [--ops O] [--dir DIR]
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <sqlite3.h>

#define TOPK		10
#define BENCH_ROUNDS	10		/* blocks of probes the variants alternate on */
#define MAXDIM		4096

typedef struct Opts
{
	const char *frt;
	const char *vec0;
	const char *facegen;
	const char *dir;
	int			n;
	int			dim;
	int			probes;
	int			exhaustive;
	int			ops;
} Opts;

typedef struct Answer
{
	sqlite3_int64 id[TOPK];
	double		d[TOPK];
	int			n;
} Answer;

/* Stop with a message. */
static void
Die(const char *what, const char *detail)
{
	fprintf(stderr, "sqlite_bench: %s: %s\n", what, detail ? detail : "");
	exit(1);
}

/* Monotonic time in milliseconds. */
static double
Now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Read n embeddings of a facegen set (text COPY, the vector last on each line). */
static float *
ReadSet(const Opts *o, const char *set, int count)
{
	char		cmd[1024];
	size_t		cap = 1 << 20;
	char	   *line = malloc(cap);
	float	   *out = malloc(sizeof(float) * (size_t) o->dim * count);
	FILE	   *f;
	int			i = 0;

	snprintf(cmd, sizeof(cmd), "%s --n %d --dim %d --text --count %d %s", o->facegen, o->n,
			 o->dim, count, set);
	if ((f = popen(cmd, "r")) == NULL || line == NULL || out == NULL)
		Die("facegen", cmd);
	while (i < count && getline(&line, &cap, f) > 0)
	{
		char	   *p = strchr(line, '[');

		if (p == NULL)
			Die("facegen output", line);
		p++;
		for (int j = 0; j < o->dim; j++)
		{
			out[(size_t) i * o->dim + j] = strtof(p, &p);
			if (*p == ',' || *p == ']')
				p++;
		}
		i++;
	}
	pclose(f);
	free(line);
	if (i != count)
		Die("facegen: short output", set);
	return out;
}

/* Open a database with an extension loaded. */
static sqlite3 *
Open(const char *path, const char *lib)
{
	sqlite3    *db;
	char	   *err = NULL;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		Die("open", sqlite3_errmsg(db));
	sqlite3_enable_load_extension(db, 1);
	if (sqlite3_load_extension(db, lib, NULL, &err) != SQLITE_OK)
		Die("load", err);
	return db;
}

/* Run SQL or stop. */
static void
Exec(sqlite3 *db, const char *sql)
{
	char	   *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		Die(sql, err);
}

/* Prepare or stop. */
static sqlite3_stmt *
Prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		Die(sql, sqlite3_errmsg(db));
	return st;
}

/* Bind a vector as the engine wants it: frt's BLOB form or vec0's raw floats. */
static void
BindVec(sqlite3_stmt *st, int i, const float *x, int dim, int frt)
{
	static unsigned char buf[8 + 4 * MAXDIM];

	if (!frt)
	{
		sqlite3_bind_blob(st, i, x, 4 * dim, SQLITE_TRANSIENT);
		return;
	}
	memcpy(buf, "FRTE\x01\x00", 6);
	buf[6] = (unsigned char) (dim & 0xff);
	buf[7] = (unsigned char) (dim >> 8);
	memcpy(buf + 8, x, 4 * (size_t) dim);
	sqlite3_bind_blob(st, i, buf, 8 + 4 * dim, SQLITE_TRANSIENT);
}

/* The size of a file in MB. */
static double
FileMB(const char *path)
{
	struct stat s;

	return stat(path, &s) == 0 ? s.st_size / 1e6 : -1.0;
}

/* Run a top-10 query with the probe bound as ?1; its answer and time. */
static double
Query(sqlite3_stmt *st, const float *x, int dim, int frt, Answer *a)
{
	double		t0 = Now();

	sqlite3_reset(st);
	BindVec(st, 1, x, dim, frt);
	a->n = 0;
	while (sqlite3_step(st) == SQLITE_ROW && a->n < TOPK)
	{
		a->id[a->n] = sqlite3_column_int64(st, 0);
		a->d[a->n] = sqlite3_column_double(st, 1);
		a->n++;
	}
	if (sqlite3_errcode(sqlite3_db_handle(st)) != SQLITE_DONE &&
		sqlite3_errcode(sqlite3_db_handle(st)) != SQLITE_ROW &&
		sqlite3_errcode(sqlite3_db_handle(st)) != SQLITE_OK)
		Die("query", sqlite3_errmsg(sqlite3_db_handle(st)));
	return Now() - t0;
}

/* Compare doubles for qsort. */
static int
CmpD(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

/* The median and the 95th percentile of n times (sorted in place). */
static void
Stats(double *t, int n, double *med, double *p95)
{
	qsort(t, n, sizeof(double), CmpD);
	*med = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
	*p95 = t[(int) (0.95 * (n - 1))];
}

/* The engines' SQL. */
typedef struct Engine
{
	const char *name;
	const char *lib;
	int			frt;
	char		path[1024];
} Engine;

/* Create and fill one engine's table in one transaction; the load time in s. */
static double
Load(const Opts *o, Engine *e, const float *rows)
{
	sqlite3    *db;
	sqlite3_stmt *st;
	char		sql[512];
	double		t0;

	remove(e->path);
	db = Open(e->path, e->lib);
	if (e->frt)
		snprintf(sql, sizeof(sql), "CREATE VIRTUAL TABLE g USING frt_gallery(dim=%d, metric=cosine)", o->dim);
	else
		snprintf(sql, sizeof(sql), "CREATE VIRTUAL TABLE g USING vec0(embedding float[%d] distance_metric=cosine, purpose text, +subject text)", o->dim);
	Exec(db, sql);
	st = Prepare(db, e->frt ? "INSERT INTO g(rowid, subject, purpose, embedding) VALUES (?1, ?2, ?3, ?4)"
				 : "INSERT INTO g(rowid, subject, purpose, embedding) VALUES (?1, ?2, ?3, ?4)");
	t0 = Now();
	Exec(db, "BEGIN");
	for (int i = 0; i < o->n; i++)
	{
		char		subj[32];

		snprintf(subj, sizeof(subj), "subject-%07d", i + 1);
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, i + 1);
		sqlite3_bind_text(st, 2, subj, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, (i % 10) ? "door" : "payment", -1, SQLITE_STATIC);
		BindVec(st, 4, rows + (size_t) i * o->dim, o->dim, e->frt);
		if (sqlite3_step(st) != SQLITE_DONE)
			Die("insert", sqlite3_errmsg(db));
	}
	Exec(db, "COMMIT");
	t0 = (Now() - t0) / 1e3;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return t0;
}

/* The top-10 SQL of an engine and mode. */
static const char *
TopSql(int frt, int mode, int purpose)
{
	if (!frt)
		return purpose ? "SELECT rowid, distance FROM g WHERE embedding MATCH ?1 AND k = 10 AND purpose = 'door'"
			: "SELECT rowid, distance FROM g WHERE embedding MATCH ?1 AND k = 10";
	if (mode)
		return purpose ? "SELECT rowid, distance FROM g WHERE embedding MATCH ?1 AND k = 10 AND purpose = 'door' AND mode = 'exact'"
			: "SELECT rowid, distance FROM g WHERE embedding MATCH ?1 AND k = 10 AND mode = 'exact'";
	return purpose ? "SELECT rowid, distance FROM g WHERE embedding MATCH ?1 AND k = 10 AND purpose = 'door'"
		: "SELECT rowid, distance FROM g WHERE embedding MATCH ?1 AND k = 10";
}

/* The first query of a new connection, in ms. */
static double
FirstQuery(const Opts *o, Engine *e, int mode, const float *probe)
{
	sqlite3    *db = Open(e->path, e->lib);
	sqlite3_stmt *st = Prepare(db, TopSql(e->frt, mode, 0));
	Answer		a;
	double		t0 = Now();

	Query(st, probe, o->dim, e->frt, &a);
	t0 = Now() - t0;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return t0;
}

/* This thread's CPU time in milliseconds. */
static double
Cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * Steady state: the probes in BENCH_ROUNDS blocks; in each round every
 * variant (frt exact and default, vec0; without and with the purpose
 * filter) runs the block in turn, after one warm-up query each, so that
 * load from other work on the machine falls on all of them alike while a
 * block keeps the CPU caches as a device's steady use would (one query
 * right after the other engine's full scan would find them flushed).
 * Wall-clock median and 95th percentile, CPU median.
 */
static void
SteadyAll(const Opts *o, const Engine *eng, const float *probes, Answer *ans[2][2][2],
		  double med[2][2][2], double p95[2][2][2], double cpu[2][2][2])
{
	sqlite3    *db[2];
	sqlite3_stmt *st[2][2][2] = {{{NULL}}};
	double	   *t[2][2][2],
			   *c[2][2][2];

	for (int e = 0; e < 2; e++)
	{
		db[e] = Open(eng[e].path, eng[e].lib);
		for (int m = 0; m < 2; m++)
			for (int p = 0; p < 2; p++)
			{
				Answer		warm;

				if (e == 1 && m == 0)
					continue;	/* vec0 has one mode */
				st[e][m][p] = Prepare(db[e], TopSql(eng[e].frt, m, p));
				t[e][m][p] = malloc(sizeof(double) * o->probes);
				c[e][m][p] = malloc(sizeof(double) * o->probes);
				Query(st[e][m][p], probes, o->dim, eng[e].frt, &warm);
			}
	}
	for (int r = 0; r < BENCH_ROUNDS; r++)
		for (int v = 0; v < 8; v++)
		{
			/* each round, the variants take their turn in another order */
			int			w = (v + 3 * r) % 8,
						e = w >> 2,
						m = (w >> 1) & 1,
						p = w & 1;

			if (st[e][m][p] == NULL)
				continue;
			for (int q = r * o->probes / BENCH_ROUNDS; q < (r + 1) * o->probes / BENCH_ROUNDS; q++)
			{
				double		c0 = Cpu();

				t[e][m][p][q] = Query(st[e][m][p], probes + (size_t) q * o->dim, o->dim,
									  eng[e].frt, &ans[e][m][p][q]);
				c[e][m][p][q] = Cpu() - c0;
			}
		}
	for (int e = 0; e < 2; e++)
	{
		for (int m = 0; m < 2; m++)
			for (int p = 0; p < 2; p++)
			{
				double		unused;

				if (st[e][m][p] == NULL)
					continue;
				Stats(t[e][m][p], o->probes, &med[e][m][p], &p95[e][m][p]);
				Stats(c[e][m][p], o->probes, &cpu[e][m][p], &unused);
				free(t[e][m][p]);
				free(c[e][m][p]);
				sqlite3_finalize(st[e][m][p]);
			}
		sqlite3_close(db[e]);
	}
}

/* Per-operation times of enrolling and deleting single faces (autocommit). */
static void
Ops(const Opts *o, sqlite3 *db, int frt, const float *rows, double *enrol, double *del,
	double *txn)
{
	sqlite3_stmt *ins = Prepare(db, "INSERT INTO g(rowid, subject, purpose, embedding) VALUES (?1, 'new', 'door', ?2)");
	sqlite3_stmt *rm = Prepare(db, "DELETE FROM g WHERE rowid = ?1");
	double	   *te = malloc(sizeof(double) * o->ops),
			   *td = malloc(sizeof(double) * o->ops),
				p95;

	for (int i = 0; i < o->ops; i++)
	{
		double		t0 = Now();

		sqlite3_reset(ins);
		sqlite3_bind_int64(ins, 1, 100000000 + i);
		BindVec(ins, 2, rows + (size_t) (i % o->probes) * o->dim, o->dim, frt);
		if (sqlite3_step(ins) != SQLITE_DONE)
			Die("enrol", sqlite3_errmsg(db));
		te[i] = Now() - t0;
	}
	for (int i = 0; i < o->ops; i++)
	{
		double		t0 = Now();

		sqlite3_reset(rm);
		sqlite3_bind_int64(rm, 1, 1 + (sqlite3_int64) i * 37 % o->n);
		if (sqlite3_step(rm) != SQLITE_DONE)
			Die("delete", sqlite3_errmsg(db));
		td[i] = Now() - t0;
	}
	Stats(te, o->ops, enrol, &p95);
	Stats(td, o->ops, del, &p95);
	/* the same work in one transaction: the cost of the operation without the commit */
	{
		double		t0 = Now();

		Exec(db, "BEGIN");
		for (int i = 0; i < o->ops; i++)
		{
			sqlite3_reset(ins);
			sqlite3_bind_int64(ins, 1, 200000000 + i);
			BindVec(ins, 2, rows + (size_t) (i % o->probes) * o->dim, o->dim, frt);
			if (sqlite3_step(ins) != SQLITE_DONE)
				Die("enrol", sqlite3_errmsg(db));
		}
		for (int i = 0; i < o->ops; i++)
		{
			sqlite3_reset(rm);
			sqlite3_bind_int64(rm, 1, 200000000 + i);
			if (sqlite3_step(rm) != SQLITE_DONE)
				Die("delete", sqlite3_errmsg(db));
		}
		Exec(db, "COMMIT");
		*txn = (Now() - t0) / (2 * o->ops);
	}
	free(te);
	free(td);
	sqlite3_finalize(ins);
	sqlite3_finalize(rm);
}

/* Do two answers name the same rows in the same order? */
static int
SameIds(const Answer *a, const Answer *b)
{
	if (a->n != b->n)
		return 0;
	for (int i = 0; i < a->n; i++)
		if (a->id[i] != b->id[i])
			return 0;
	return 1;
}

/* Do two answers agree to the last bit (rows and distances)? */
static int
SameAll(const Answer *a, const Answer *b)
{
	if (!SameIds(a, b))
		return 0;
	for (int i = 0; i < a->n; i++)
		if (a->d[i] != b->d[i])
			return 0;
	return 1;
}

/* How many of b's rows are in a (recall of a against b). */
static int
Overlap(const Answer *a, const Answer *b)
{
	int			n = 0;

	for (int i = 0; i < a->n; i++)
		for (int j = 0; j < b->n; j++)
			if (a->id[i] == b->id[j])
				n++;
	return n;
}

/* Parse the command line. */
static void
ParseArgs(int argc, char **argv, Opts *o)
{
	memset(o, 0, sizeof(*o));
	o->dim = 512;
	o->probes = 200;
	o->exhaustive = 10;
	o->ops = 100;
	o->dir = ".";
	for (int i = 1; i + 1 < argc; i += 2)
	{
		if (!strcmp(argv[i], "--frt"))
			o->frt = argv[i + 1];
		else if (!strcmp(argv[i], "--vec0"))
			o->vec0 = argv[i + 1];
		else if (!strcmp(argv[i], "--facegen"))
			o->facegen = argv[i + 1];
		else if (!strcmp(argv[i], "--dir"))
			o->dir = argv[i + 1];
		else if (!strcmp(argv[i], "--n"))
			o->n = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--dim"))
			o->dim = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--probes"))
			o->probes = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--exhaustive"))
			o->exhaustive = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--ops"))
			o->ops = atoi(argv[i + 1]);
		else
			Die("unknown option", argv[i]);
	}
	if (!o->frt || !o->vec0 || !o->facegen || o->n <= 0 || o->dim <= 0 || o->dim > MAXDIM ||
		o->probes < 2 || o->ops < 1)
		Die("usage", "--frt LIB --vec0 LIB --facegen PROG --n N [--dim D] [--probes P] [--exhaustive E] [--ops O] [--dir DIR]");
}

int
main(int argc, char **argv)
{
	Opts		o;
	Engine		eng[2] = {{"frt_gallery", NULL, 1, ""}, {"vec0", NULL, 0, ""}};
	float	   *rows,
			   *probes,
			   *imp;
	Answer	   *ans[2][2][2];		/* engine, mode (exact for frt), purpose */
	double		load[2],
				size[2],
				first[2][2],
				med[2][2][2],
				p95[2][2][2],
				cpu[2][2][2],
				enrol[2],
				del[2],
				txn[2],
				after[2];
	int			half;

	ParseArgs(argc, argv, &o);
	eng[0].lib = o.frt;
	eng[1].lib = o.vec0;
	snprintf(eng[0].path, sizeof(eng[0].path), "%s/frt_%d.db", o.dir, o.n);
	snprintf(eng[1].path, sizeof(eng[1].path), "%s/vec0_%d.db", o.dir, o.n);
	rows = ReadSet(&o, "gallery", o.n);
	half = o.probes / 2;
	probes = malloc(sizeof(float) * (size_t) o.dim * o.probes);
	imp = ReadSet(&o, "genuine", half);
	memcpy(probes, imp, sizeof(float) * (size_t) o.dim * half);
	free(imp);
	imp = ReadSet(&o, "impostor", o.probes - half);
	memcpy(probes + (size_t) o.dim * half, imp, sizeof(float) * (size_t) o.dim * (o.probes - half));
	free(imp);

	for (int e = 0; e < 2; e++)
	{
		load[e] = Load(&o, &eng[e], rows);
		size[e] = FileMB(eng[e].path);
		first[e][1] = FirstQuery(&o, &eng[e], 1, probes);
		first[e][0] = e == 0 ? FirstQuery(&o, &eng[e], 0, probes) : first[e][1];
		for (int m = 0; m < 2; m++)
			for (int p = 0; p < 2; p++)
				ans[e][m][p] = calloc(o.probes, sizeof(Answer));
	}
	SteadyAll(&o, eng, probes, ans, med, p95, cpu);
	for (int e = 0; e < 2; e++)
	{
		sqlite3    *db = Open(eng[e].path, eng[e].lib);
		sqlite3_stmt *warm = Prepare(db, TopSql(eng[e].frt, 1, 0));
		Answer		a;

		Query(warm, probes, o.dim, eng[e].frt, &a);	/* frt: the cache, as in use */
		sqlite3_finalize(warm);
		Ops(&o, db, eng[e].frt, probes, &enrol[e], &del[e], &txn[e]);
		sqlite3_close(db);
		after[e] = FileMB(eng[e].path);
	}

	/* frt exact against the exhaustive SQL scan of the same table (its own column) */
	{
		sqlite3    *db = Open(eng[0].path, eng[0].lib);
		sqlite3_stmt *st = Prepare(db, "SELECT rowid, frt_cosine_distance(embedding, ?1) AS d FROM g ORDER BY d, rowid LIMIT 10");
		sqlite3_stmt *ex = Prepare(db, TopSql(1, 1, 0));
		int			same = 0,
					n = o.exhaustive < o.probes ? o.exhaustive : o.probes;
		double		tex = 0;

		for (int p = 0; p < n; p++)
		{
			Answer		a,
						b;
			int			q = p * (o.probes / n);

			tex += Query(st, probes + (size_t) q * o.dim, o.dim, 1, &a);
			Query(ex, probes + (size_t) q * o.dim, o.dim, 1, &b);
			same += SameAll(&a, &b);
		}
		printf("| frt exact = exhaustive SQL scan (rows and distances, bit for bit) | %d / %d probes (exhaustive SQL: %.0f ms/query) |\n",
			   same, n, tex / n);
		sqlite3_finalize(st);
		sqlite3_finalize(ex);
		sqlite3_close(db);
	}
	{
		int			idv[2] = {0, 0},
					recall = 0,
					defsame = 0;
		double		maxdd = 0;

		for (int p = 0; p < o.probes; p++)
			for (int f = 0; f < 2; f++)
			{
				idv[f] += SameIds(&ans[0][1][f][p], &ans[1][1][f][p]);
				if (f == 0)
				{
					recall += Overlap(&ans[0][0][0][p], &ans[0][1][0][p]);
					defsame += SameAll(&ans[0][0][0][p], &ans[0][1][0][p]);
					for (int i = 0; i < ans[0][1][0][p].n && i < ans[1][1][0][p].n; i++)
						if (ans[0][1][0][p].id[i] == ans[1][1][0][p].id[i] &&
							fabs(ans[0][1][0][p].d[i] - ans[1][1][0][p].d[i]) > maxdd)
							maxdd = fabs(ans[0][1][0][p].d[i] - ans[1][1][0][p].d[i]);
				}
			}
		printf("| frt exact and vec0 return the same rowids in the same order | %d / %d probes (with the purpose filter: %d / %d); largest distance difference %.2g (vec0 computes in float) |\n",
			   idv[0], o.probes, idv[1], o.probes, maxdd);
		printf("| frt default mode: recall@10 against exact; answers identical to exact | %.4f; %d / %d |\n",
			   (double) recall / (o.probes * TOPK), defsame, o.probes);
	}
	printf("\n| %d x %d | frt_gallery | vec0 | vec0 / frt |\n|---|---|---|---|\n", o.n, o.dim);
	printf("| load (one transaction), s | %.2f | %.2f | %.2f |\n", load[0], load[1], load[1] / load[0]);
	printf("| file size, MB | %.1f | %.1f | %.3f |\n", size[0], size[1], size[1] / size[0]);
	printf("| first query of a connection, exact, ms | %.1f | %.1f | %.1f |\n", first[0][1], first[1][1], first[1][1] / first[0][1]);
	printf("| first query of a connection, default, ms | %.1f | %.1f | %.1f |\n", first[0][0], first[1][1], first[1][1] / first[0][0]);
	for (int p = 0; p < 2; p++)
	{
		const char *f = p ? ", purpose filter" : "";

		printf("| top-10 exact%s, median ms (p95); CPU median ms | %.3f (%.3f); %.3f | %.2f (%.2f); %.2f | %.0f; CPU %.0f |\n", f,
			   med[0][1][p], p95[0][1][p], cpu[0][1][p], med[1][1][p], p95[1][1][p], cpu[1][1][p],
			   med[1][1][p] / med[0][1][p], cpu[1][1][p] / cpu[0][1][p]);
		printf("| top-10 default%s, median ms (p95); CPU median ms | %.3f (%.3f); %.3f | %.2f (%.2f); %.2f | %.0f; CPU %.0f |\n", f,
			   med[0][0][p], p95[0][0][p], cpu[0][0][p], med[1][1][p], p95[1][1][p], cpu[1][1][p],
			   med[1][1][p] / med[0][0][p], cpu[1][1][p] / cpu[0][0][p]);
	}
	printf("| enrol one face (autocommit), median ms | %.2f | %.2f | %.2f |\n", enrol[0], enrol[1], enrol[1] / enrol[0]);
	printf("| delete one face (autocommit), median ms | %.2f | %.2f | %.2f |\n", del[0], del[1], del[1] / del[0]);
	printf("| enrol or delete one face inside a transaction (no commit), mean ms | %.3f | %.3f | %.2f |\n", txn[0], txn[1], txn[1] / txn[0]);
	printf("| file size after the enrolments and deletes, MB | %.1f | %.1f | %.3f |\n", after[0], after[1], after[1] / after[0]);
	return 0;
}

/*
 * gallery_exact.c
 *	  Exact mode of frt_gallery equals the exhaustive scan: for each metric,
 *	  12,000 face-like rows (with exact duplicates, so ties, and deleted and
 *	  re-used slots) are stored in a gallery and, beside it, in a plain
 *	  table; for genuine, impostor and stored-copy probes and k in
 *	  {1, 10, 100}, with and without a purpose and a threshold, the
 *	  gallery's rows, order and distances must be those of
 *	    SELECT id, frt_<metric>_distance(e, :probe) AS d FROM ref
 *	     ORDER BY d, id LIMIT k
 *	  to the last bit.  Default mode's recall@k is printed.
 */
#include "gallery_util.h"

#define N_ROWS			12000
#define DIM				256
#define N_GENUINE		12
#define N_IMPOSTOR		8
#define N_COPIES		4
#define MAX_K			100

static float rows[N_ROWS + 400][DIM];
static float centres[N_ROWS + 400][DIM];
static const char *const purposes[] = {"door", "door", "door", "pay", "pay", "hr"};

typedef struct Hit
{
	sqlite3_int64 id;
	double		d;
} Hit;

/* Run a 1:N or exhaustive statement with the probe bound as ?1; its rows. */
static int
Fetch(sqlite3_stmt *st, const unsigned char *probe, int plen, Hit *out, int max)
{
	int			n = 0;

	sqlite3_reset(st);
	sqlite3_bind_blob(st, 1, probe, plen, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW && n < max)
	{
		out[n].id = sqlite3_column_int64(st, 0);
		out[n].d = sqlite3_column_double(st, 1);
		n++;
	}
	if (sqlite3_errcode(sqlite3_db_handle(st)) != SQLITE_DONE &&
		sqlite3_errcode(sqlite3_db_handle(st)) != SQLITE_ROW &&
		sqlite3_errcode(sqlite3_db_handle(st)) != SQLITE_OK)
		GuDie("query", sqlite3_errmsg(sqlite3_db_handle(st)));
	return n;
}

/* Compare two answers exactly; report the first difference. */
static int
Same(const char *what, int probe, int k, const Hit *a, int na, const Hit *b, int nb)
{
	if (na != nb)
	{
		fprintf(stderr, "%s probe %d k %d: %d rows, exhaustive %d\n", what, probe, k, na, nb);
		return 0;
	}
	for (int i = 0; i < na; i++)
		if (a[i].id != b[i].id || a[i].d != b[i].d)
		{
			fprintf(stderr, "%s probe %d k %d rank %d: id %lld d %.17g, exhaustive id %lld d %.17g\n",
					what, probe, k, i + 1, (long long) a[i].id, a[i].d, (long long) b[i].id, b[i].d);
			return 0;
		}
	return 1;
}

/* Fill the gallery and the reference table of one metric. */
static void
Load(sqlite3 *db, const char *metric, int nrows)
{
	char		sql[512];
	unsigned char blob[8 + 4 * DIM];
	sqlite3_stmt *g,
			   *r;

	snprintf(sql, sizeof(sql),
			 "CREATE VIRTUAL TABLE g_%s USING frt_gallery(dim=%d, metric=%s);"
			 "CREATE TABLE ref_%s(id INTEGER PRIMARY KEY, purpose TEXT, e BLOB);",
			 metric, DIM, metric, metric);
	GuExec(db, sql);
	snprintf(sql, sizeof(sql), "INSERT INTO g_%s(rowid, subject, purpose, embedding) VALUES (?1, 's' || ?1, ?2, ?3)", metric);
	g = GuPrepare(db, sql);
	snprintf(sql, sizeof(sql), "INSERT INTO ref_%s VALUES (?1, ?2, ?3)", metric);
	r = GuPrepare(db, sql);
	GuExec(db, "BEGIN");
	for (int i = 0; i < nrows; i++)
	{
		int			len = GuBlob(rows[i], DIM, blob);
		const char *p = purposes[i % 6];

		sqlite3_bind_int64(g, 1, i + 1);
		sqlite3_bind_text(g, 2, p, -1, SQLITE_STATIC);
		sqlite3_bind_blob(g, 3, blob, len, SQLITE_STATIC);
		sqlite3_bind_int64(r, 1, i + 1);
		sqlite3_bind_text(r, 2, p, -1, SQLITE_STATIC);
		sqlite3_bind_blob(r, 3, blob, len, SQLITE_STATIC);
		if (sqlite3_step(g) != SQLITE_DONE || sqlite3_step(r) != SQLITE_DONE)
			GuDie("insert", sqlite3_errmsg(db));
		sqlite3_reset(g);
		sqlite3_reset(r);
	}
	GuExec(db, "COMMIT");
	sqlite3_finalize(g);
	sqlite3_finalize(r);
	/* delete every 17th row, then enrol 400 more into the freed slots */
	snprintf(sql, sizeof(sql), "DELETE FROM g_%s WHERE rowid %% 17 = 3; DELETE FROM ref_%s WHERE id %% 17 = 3;",
			 metric, metric);
	GuExec(db, sql);
}

/* Enrol rows from..to-1 into both tables (after the deletes: slots re-used). */
static void
LoadMore(sqlite3 *db, const char *metric, int from, int to)
{
	char		sql[512];
	unsigned char blob[8 + 4 * DIM];

	GuExec(db, "BEGIN");
	for (int i = from; i < to; i++)
	{
		int			len = GuBlob(rows[i], DIM, blob);
		sqlite3_stmt *g,
				   *r;

		snprintf(sql, sizeof(sql), "INSERT INTO g_%s(rowid, subject, purpose, embedding) VALUES (%d, 'late', 'pay', ?1)", metric, i + 1);
		g = GuPrepare(db, sql);
		snprintf(sql, sizeof(sql), "INSERT INTO ref_%s VALUES (%d, 'pay', ?1)", metric, i + 1);
		r = GuPrepare(db, sql);
		sqlite3_bind_blob(g, 1, blob, len, SQLITE_STATIC);
		sqlite3_bind_blob(r, 1, blob, len, SQLITE_STATIC);
		if (sqlite3_step(g) != SQLITE_DONE || sqlite3_step(r) != SQLITE_DONE)
			GuDie("insert", sqlite3_errmsg(db));
		sqlite3_finalize(g);
		sqlite3_finalize(r);
	}
	GuExec(db, "COMMIT");
}

/* Make the data: identities, samples, exact duplicates; scaled for l2 and ip. */
static void
MakeData(GuModel *m)
{
	GuModelInit(m, DIM, 42);
	for (int i = 0; i < N_ROWS + 400; i++)
	{
		GuIdentity(m, centres[i]);
		if (i % 40 == 39)
			memcpy(rows[i], rows[i - 7], sizeof(rows[i]));	/* a duplicate: a tie */
		else
			GuSample(m, centres[i], rows[i]);
	}
}

/* Scale rows (for l2 and ip, where the norm matters); duplicates stay duplicates. */
static void
ScaleData(void)
{
	for (int i = 0; i < N_ROWS + 400; i++)
	{
		double		f = (i % 40 == 39) ? 1.0 : 0.5 + 1.5 * GuUniform();

		if (i % 40 == 39)
			memcpy(rows[i], rows[i - 7], sizeof(rows[i]));
		else
			for (int j = 0; j < DIM; j++)
				rows[i][j] = (float) (rows[i][j] * f);
	}
}

/* The probes: genuine samples, impostors, copies of stored rows. */
static int
MakeProbe(GuModel *m, int p, float *x)
{
	if (p < N_GENUINE)
		GuSample(m, centres[(p * 997) % N_ROWS], x);
	else if (p < N_GENUINE + N_IMPOSTOR)
	{
		float		c[DIM];

		GuIdentity(m, c);
		GuSample(m, c, x);
	}
	else
		memcpy(x, rows[39 + 40 * (p - N_GENUINE - N_IMPOSTOR)], sizeof(float) * DIM);
	return DIM;
}

/* Check one metric; returns the number of failed comparisons. */
static int
CheckMetric(sqlite3 *db, GuModel *m, const char *metric, long *checks, long *found, long *wanted)
{
	static const int ks[] = {1, 10, MAX_K};
	char		sql[512];
	sqlite3_stmt *ex,
			   *exp,
			   *exd,
			   *vt[3],
			   *vp,
			   *vd,
			   *vdef[3];
	int			fails = 0;

	snprintf(sql, sizeof(sql), "SELECT id, frt_%s_distance(e, ?1) AS d FROM ref_%s ORDER BY d, id LIMIT %d",
			 strcmp(metric, "cosine") == 0 ? "cosine" : metric, metric, MAX_K);
	ex = GuPrepare(db, sql);
	snprintf(sql, sizeof(sql), "SELECT id, frt_%s_distance(e, ?1) AS d FROM ref_%s WHERE purpose = 'pay' ORDER BY d, id LIMIT 10",
			 metric, metric);
	exp = GuPrepare(db, sql);
	snprintf(sql, sizeof(sql), "SELECT id, frt_%s_distance(e, ?1) AS d FROM ref_%s WHERE d <= ?2 ORDER BY d, id LIMIT %d",
			 metric, metric, MAX_K);
	exd = GuPrepare(db, sql);
	for (int i = 0; i < 3; i++)
	{
		snprintf(sql, sizeof(sql), "SELECT rowid, distance FROM g_%s WHERE embedding MATCH ?1 AND k = %d AND mode = 'exact'",
				 metric, ks[i]);
		vt[i] = GuPrepare(db, sql);
		snprintf(sql, sizeof(sql), "SELECT rowid, distance FROM g_%s WHERE embedding MATCH ?1 AND k = %d",
				 metric, ks[i]);
		vdef[i] = GuPrepare(db, sql);
	}
	snprintf(sql, sizeof(sql), "SELECT rowid, distance FROM g_%s WHERE embedding MATCH ?1 AND k = 10 AND purpose = 'pay' AND mode = 'exact'",
			 metric);
	vp = GuPrepare(db, sql);
	snprintf(sql, sizeof(sql), "SELECT rowid, distance FROM g_%s WHERE embedding MATCH ?1 AND k = %d AND max_distance = ?2 AND mode = 'exact'",
			 metric, MAX_K);
	vd = GuPrepare(db, sql);
	for (int p = 0; p < N_GENUINE + N_IMPOSTOR + N_COPIES; p++)
	{
		float		x[DIM];
		unsigned char blob[8 + 4 * DIM];
		int			len = GuBlob(x, MakeProbe(m, p, x), blob);
		Hit			ref[MAX_K],
					got[MAX_K];
		int			nref = Fetch(ex, blob, len, ref, MAX_K),
					n;

		len = GuBlob(x, DIM, blob);
		for (int i = 0; i < 3; i++)
		{
			int			k = ks[i];

			n = Fetch(vt[i], blob, len, got, MAX_K);
			fails += !Same(metric, p, k, got, n, ref, nref < k ? nref : k);
			(*checks)++;
			n = Fetch(vdef[i], blob, len, got, MAX_K);
			for (int a = 0; a < n; a++)
				for (int b = 0; b < (nref < k ? nref : k); b++)
					if (got[a].id == ref[b].id)
						(*found)++;
			*wanted += nref < k ? nref : k;
		}
		nref = Fetch(exp, blob, len, ref, MAX_K);
		n = Fetch(vp, blob, len, got, MAX_K);
		fails += !Same("purpose", p, 10, got, n, ref, nref);
		(*checks)++;
		/* threshold at the 5th distance: the rows at or under it, ties included */
		nref = Fetch(ex, blob, len, ref, MAX_K);
		sqlite3_reset(exd);
		sqlite3_bind_double(exd, 2, ref[4].d);
		sqlite3_reset(vd);
		sqlite3_bind_double(vd, 2, ref[4].d);
		nref = Fetch(exd, blob, len, ref, MAX_K);
		n = Fetch(vd, blob, len, got, MAX_K);
		fails += !Same("max_distance", p, MAX_K, got, n, ref, nref);
		(*checks)++;
	}
	sqlite3_finalize(ex);
	sqlite3_finalize(exp);
	sqlite3_finalize(exd);
	sqlite3_finalize(vp);
	sqlite3_finalize(vd);
	for (int i = 0; i < 3; i++)
	{
		sqlite3_finalize(vt[i]);
		sqlite3_finalize(vdef[i]);
	}
	return fails;
}

int
main(void)
{
	static GuModel m;
	static const char *const metrics[] = {"cosine", "l2", "ip"};
	sqlite3    *db = GuOpen("exact.db");
	int			fails = 0;

	MakeData(&m);
	for (int i = 0; i < 3; i++)
	{
		long		checks = 0,
					found = 0,
					wanted = 0;

		if (i == 1)
			ScaleData();
		Load(db, metrics[i], N_ROWS);
		LoadMore(db, metrics[i], N_ROWS, N_ROWS + 400);
		fails += CheckMetric(db, &m, metrics[i], &checks, &found, &wanted);
		printf("%s: %ld exact comparisons, default mode recall %.4f\n",
			   metrics[i], checks, (double) found / wanted);
	}
	sqlite3_close(db);
	if (fails > 0)
	{
		fprintf(stderr, "FAIL: %d comparisons differ\n", fails);
		return 1;
	}
	printf("ok: exact mode equals the exhaustive scan\n");
	return 0;
}

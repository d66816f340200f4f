/*
 * gallery_cache.c
 *	  The per-connection cache stays coherent and erasure leaves no copy:
 *	  - two connections to one file (WAL): each sees the other's enrolments,
 *	    updates and deletes in its next query, and its own at once;
 *	  - a rolled-back transaction or savepoint is not seen afterwards;
 *	  - after many mixed writes, exact answers equal the exhaustive scan;
 *	  - a deleted face's float bytes are nowhere in the database file
 *	    (rollback journal, secure_delete on, as governance configures it).
 */
#include "gallery_util.h"

#define DIM				64

static int failures = 0;

/* The nearest rowid to a probe in exact mode, or 0. */
static sqlite3_int64
Nearest(sqlite3 *db, const unsigned char *blob, int len)
{
	sqlite3_stmt *st = GuPrepare(db, "SELECT rowid FROM g WHERE embedding MATCH ?1 AND k = 1 AND mode = 'exact'");
	sqlite3_int64 id = 0;
	int			rc;

	sqlite3_bind_blob(st, 1, blob, len, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		GuDie("query", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return id;
}

/* Check a condition. */
static void
Check(int ok, const char *what)
{
	if (!ok)
	{
		fprintf(stderr, "FAIL: %s\n", what);
		failures++;
	}
}

/* Insert a face with a rowid. */
static void
Enrol(sqlite3 *db, sqlite3_int64 id, const char *purpose, const unsigned char *blob, int len)
{
	sqlite3_stmt *st = GuPrepare(db, "INSERT INTO g(rowid, subject, purpose, embedding) VALUES (?1, 's' || ?1, ?2, ?3)");

	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, purpose, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, blob, len, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		GuDie("enrol", sqlite3_errmsg(db));
	sqlite3_finalize(st);
}

/* Exact top 10 of the gallery against the exhaustive scan of its own column. */
static int
ExactMatchesExhaustive(sqlite3 *db, const unsigned char *blob, int len)
{
	sqlite3_stmt *a = GuPrepare(db, "SELECT rowid, distance FROM g WHERE embedding MATCH ?1 AND k = 10 AND mode = 'exact'");
	sqlite3_stmt *b = GuPrepare(db, "SELECT rowid, frt_cosine_distance(embedding, ?1) AS d FROM g ORDER BY d, rowid LIMIT 10");
	int			same = 1,
				n = 0;

	sqlite3_bind_blob(a, 1, blob, len, SQLITE_STATIC);
	sqlite3_bind_blob(b, 1, blob, len, SQLITE_STATIC);
	for (;;)
	{
		int			ra = sqlite3_step(a),
					rb = sqlite3_step(b);

		if (ra != rb)
			same = 0;
		if (ra != SQLITE_ROW || rb != SQLITE_ROW)
			break;
		n++;
		if (sqlite3_column_int64(a, 0) != sqlite3_column_int64(b, 0) ||
			sqlite3_column_double(a, 1) != sqlite3_column_double(b, 1))
			same = 0;
	}
	sqlite3_finalize(a);
	sqlite3_finalize(b);
	return same && n == 10;
}

/* Two connections, WAL: each sees the other's writes; rollbacks are not seen. */
static void
TwoConnections(GuModel *m)
{
	sqlite3    *a = GuOpen("two.db"),
			   *b;
	float		c[DIM],
				x[DIM],
				y[DIM];
	unsigned char bx[8 + 4 * DIM],
				by[8 + 4 * DIM];
	int			lx,
				ly;

	GuExec(a, "PRAGMA journal_mode = WAL; CREATE VIRTUAL TABLE g USING frt_gallery(dim=64, metric=cosine)");
	b = GuOpen("two.db");
	GuExec(a, "BEGIN");
	for (int i = 1; i <= 500; i++)
	{
		unsigned char blob[8 + 4 * DIM];

		GuIdentity(m, c);
		GuSample(m, c, x);
		Enrol(a, i, i % 2 ? "door" : "pay", blob, GuBlob(x, DIM, blob));
	}
	GuExec(a, "COMMIT");
	GuIdentity(m, c);
	GuSample(m, c, x);
	lx = GuBlob(x, DIM, bx);
	GuIdentity(m, c);
	GuSample(m, c, y);
	ly = GuBlob(y, DIM, by);
	Check(Nearest(a, bx, lx) != 0 && Nearest(b, bx, lx) != 0, "both connections answer");
	Enrol(b, 9001, "door", bx, lx);
	Check(Nearest(a, bx, lx) == 9001, "A sees B's enrolment");
	Check(Nearest(b, bx, lx) == 9001, "B sees its own enrolment");
	GuExec(a, "UPDATE g SET embedding = frt_embedding((SELECT frt_embedding_text(embedding) FROM g WHERE rowid = 1)) WHERE rowid = 9001");
	Check(Nearest(b, bx, lx) != 9001, "B sees A's update of the vector");
	GuExec(b, "DELETE FROM g WHERE rowid = 9001");
	Check(Nearest(a, bx, lx) != 9001, "A sees B's delete");
	/* a rollback: the cache had the row, the table no longer does */
	GuExec(a, "BEGIN");
	Enrol(a, 9002, "door", by, ly);
	Check(Nearest(a, by, ly) == 9002, "A sees its uncommitted enrolment");
	GuExec(a, "ROLLBACK");
	Check(Nearest(a, by, ly) != 9002, "A forgets a rolled-back enrolment");
	Check(Nearest(b, by, ly) != 9002, "B never saw it");
	/* a savepoint rolled back inside a committed transaction */
	GuExec(a, "BEGIN; SAVEPOINT s");
	Enrol(a, 9003, "door", by, ly);
	GuExec(a, "ROLLBACK TO s");
	Enrol(a, 9004, "door", bx, lx);
	GuExec(a, "COMMIT");
	Check(Nearest(a, by, ly) != 9003, "A forgets a rolled-back savepoint");
	Check(Nearest(a, bx, lx) == 9004 && Nearest(b, bx, lx) == 9004, "the committed part stays");
	/* many mixed writes by both, then exactness from both */
	for (int r = 0; r < 200; r++)
	{
		sqlite3    *w = (r % 3) ? a : b;
		unsigned char blob[8 + 4 * DIM];
		char		sql[128];

		GuIdentity(m, c);
		GuSample(m, c, x);
		Enrol(w, 10000 + r, r % 2 ? "door" : "pay", blob, GuBlob(x, DIM, blob));
		snprintf(sql, sizeof(sql), "DELETE FROM g WHERE rowid = %d", 1 + (r * 7) % 500);
		GuExec(w == a ? b : a, sql);
		if (r % 50 == 0)
			Check(ExactMatchesExhaustive(a, bx, lx) && ExactMatchesExhaustive(b, by, ly),
				  "exact equals exhaustive during mixed writes");
	}
	Check(ExactMatchesExhaustive(a, by, ly) && ExactMatchesExhaustive(b, bx, lx),
		  "exact equals exhaustive after mixed writes");
	sqlite3_close(b);
	sqlite3_close(a);
}

/* Does the file hold these bytes anywhere? */
static int
FileHas(const char *path, const unsigned char *pat, size_t n)
{
	FILE	   *f = fopen(path, "rb");
	static unsigned char buf[1 << 24];
	size_t		len;

	if (f == NULL)
		return 0;
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(buf + i, pat, n) == 0)
			return 1;
	return 0;
}

/* A deleted face leaves no copy of its floats in the database file. */
static void
Erasure(GuModel *m)
{
	sqlite3    *db = GuOpen("erase.db");
	float		c[DIM],
				x[DIM];
	unsigned char blob[8 + 4 * DIM];

	GuExec(db, "PRAGMA journal_mode = DELETE; PRAGMA secure_delete = ON;"
		   "CREATE VIRTUAL TABLE g USING frt_gallery(dim=64, metric=cosine)");
	for (int i = 1; i <= 300; i++)
	{
		GuIdentity(m, c);
		GuSample(m, c, x);
		Enrol(db, i, "door", blob, GuBlob(x, DIM, blob));
	}
	GuIdentity(m, c);
	GuSample(m, c, x);
	GuBlob(x, DIM, blob);
	Enrol(db, 9999, "door", blob, GuBlob(x, DIM, blob));
	Check(FileHas("erase.db", blob + 8, 4 * DIM), "the enrolled face is in the file");
	(void) sqlite3_exec(db, "SELECT embedding FROM g WHERE rowid = 9999", NULL, NULL, NULL);
	GuExec(db, "DELETE FROM g WHERE rowid = 9999");
	Check(!FileHas("erase.db", blob + 8, 16), "no 16-byte run of the deleted face's floats is left in the file");
	Check(Nearest(db, blob, 8 + 4 * DIM) != 9999, "the deleted face is not found");
	sqlite3_close(db);
}

int
main(void)
{
	static GuModel m;

	GuModelInit(&m, DIM, 7);
	TwoConnections(&m);
	Erasure(&m);
	if (failures)
	{
		fprintf(stderr, "FAIL: %d checks\n", failures);
		return 1;
	}
	printf("ok: caches coherent across connections and rollbacks; erasure leaves no copy\n");
	return 0;
}

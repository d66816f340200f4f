/*
 * gallery_guard.c
 *	  The gallery's guard: every insert, update, delete, 1:N query (start
 *	  and end), 1:1 verification and read of the embedding column calls it
 *	  with the right facts, and a refusal stops the operation with the
 *	  guard's message and changes nothing.
 *
 * FrtSqGallerySetGuard is internal to the library (hidden visibility: the
 * governance module inside it is its user).  The harness finds it as a
 * debugger would, from the library's symbol table (nm) and the address of
 * the exported entry point; that this works is also a reminder that code
 * inside the process is outside the extension's protection model.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>

#include "gallery_util.h"

enum
{
	OP_INSERT, OP_DELETE, OP_QUERY, OP_QUERY_DONE, OP_READ_VECTOR
};

typedef struct Event
{
	int			op;
	const char *table;
	const char *purpose;
	const char *subject;
	int			nrows;
	double		best;
} Event;

typedef int (*Guard) (void *, sqlite3 *, const Event *, char **);
typedef void (*SetGuard) (sqlite3 *, Guard, void *);

static char log_buf[8192];
static int refuse_op = -1;

/* The test guard: logs each event, refuses the chosen operation. */
static int
TestGuard(void *arg, sqlite3 *db, const Event *ev, char **errmsg)
{
	static const char *const names[] = {"insert", "delete", "query", "query_done", "read_vector"};
	char		line[256];

	(void) arg;
	(void) db;
	if (ev->op == OP_QUERY_DONE)
		snprintf(line, sizeof(line), "%s %s p=%s s=%s n=%d best=%.3f\n", names[ev->op], ev->table,
				 ev->purpose ? ev->purpose : "-", ev->subject ? ev->subject : "-", ev->nrows,
				 ev->best);
	else
		snprintf(line, sizeof(line), "%s %s p=%s s=%s\n", names[ev->op], ev->table,
				 ev->purpose ? ev->purpose : "-", ev->subject ? ev->subject : "-");
	strncat(log_buf, line, sizeof(log_buf) - strlen(log_buf) - 1);
	if (ev->op == refuse_op)
	{
		*errmsg = sqlite3_mprintf("MF999: refused %s (test)", names[ev->op]);
		return SQLITE_AUTH;
	}
	return SQLITE_OK;
}

/* The library's FrtSqGallerySetGuard, from its symbol table. */
static SetGuard
FindSetGuard(const char *lib)
{
	char		path[4096],
				cmd[4200],
				line[512];
	unsigned long off_init = 0,
				off_guard = 0;
	void	   *h,
			   *init;
	FILE	   *f;

	snprintf(path, sizeof(path), "%s.so", lib);
	snprintf(cmd, sizeof(cmd), "nm '%s'", path);
	if ((f = popen(cmd, "r")) == NULL)
		GuDie("nm", NULL);
	while (fgets(line, sizeof(line), f))
	{
		unsigned long a;
		char		t,
					name[256];

		if (sscanf(line, "%lx %c %255s", &a, &t, name) != 3)
			continue;
		if (strcmp(name, "sqlite3_frtsqlite_init") == 0)
			off_init = a;
		else if (strcmp(name, "FrtSqGallerySetGuard") == 0)
			off_guard = a;
	}
	pclose(f);
	if (!off_init || !off_guard)
		GuDie("symbols not found with nm", path);
	if ((h = dlopen(path, RTLD_NOW)) == NULL || (init = dlsym(h, "sqlite3_frtsqlite_init")) == NULL)
		GuDie("dlopen", dlerror());
	return (SetGuard) (void *) ((char *) init - off_init + off_guard);
}

static int failures = 0;

/* Run SQL; check success or the refusal, and the guard's log. */
static void
Expect(sqlite3 *db, const char *sql, int refuse, const char *want_err, const char *want_log)
{
	char	   *err = NULL;
	int			rc;

	log_buf[0] = '\0';
	refuse_op = refuse;
	rc = sqlite3_exec(db, sql, NULL, NULL, &err);
	refuse_op = -1;
	if ((want_err == NULL) != (rc == SQLITE_OK) ||
		(want_err && (err == NULL || strcmp(err, want_err) != 0)) ||
		strcmp(log_buf, want_log) != 0)
	{
		fprintf(stderr, "MISMATCH for %s\n  rc %d err [%s] (want [%s])\n  log:\n%s  want:\n%s",
				sql, rc, err ? err : "", want_err ? want_err : "", log_buf, want_log);
		failures++;
	}
	sqlite3_free(err);
}

/* A single integer from SQL. */
static long
Int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = GuPrepare(db, sql);
	long		v = -1;

	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int
main(void)
{
	const char *lib = getenv("FRT_SQLITE_LIB");
	sqlite3    *db = GuOpen("guard.db");
	SetGuard set = FindSetGuard(lib);

	GuExec(db, "CREATE VIRTUAL TABLE g USING frt_gallery(dim=2, metric=l2);"
		   "INSERT INTO g(subject, purpose, embedding) VALUES ('ann', 'door', '[0,0]');");
	set(db, (Guard) TestGuard, NULL);

	Expect(db, "INSERT INTO g(subject, purpose, embedding) VALUES ('bob', 'door', '[3,4]')", -1, NULL,
		   "insert g p=door s=bob\n");
	Expect(db, "INSERT INTO g(subject, purpose, embedding) VALUES ('cy', 'pay', '[1,1]')", OP_INSERT,
		   "MF999: refused insert (test)", "insert g p=pay s=cy\n");
	if (Int(db, "SELECT count(*) FROM g_rows WHERE subject = 'cy'") != 0 ||
		Int(db, "SELECT count(*) FROM g_rows") != 2)
		GuDie("a refused insert wrote something", NULL);
	Expect(db, "SELECT rowid FROM g WHERE embedding MATCH '[3,4]' AND k = 5 AND purpose = 'door'", -1, NULL,
		   "query g p=door s=-\nquery_done g p=door s=- n=2 best=0.000\n");
	Expect(db, "SELECT rowid FROM g WHERE embedding MATCH '[3,4]' AND k = 5", -1, NULL,
		   "query g p=- s=-\nquery_done g p=- s=- n=2 best=0.000\n");
	Expect(db, "SELECT rowid FROM g WHERE embedding MATCH '[3,4]' AND k = 5 AND purpose = 'none'", -1, NULL,
		   "query g p=none s=-\nquery_done g p=none s=- n=0 best=nan\n");
	Expect(db, "SELECT rowid FROM g WHERE embedding MATCH '[3,4]' AND k = 5", OP_QUERY,
		   "MF999: refused query (test)", "query g p=- s=-\n");
	Expect(db, "SELECT rowid FROM g WHERE embedding MATCH '[3,4]' AND k = 5", OP_QUERY_DONE,
		   "MF999: refused query_done (test)", "query g p=- s=-\nquery_done g p=- s=- n=2 best=0.000\n");
	/* reading the embedding column is asked about per row; other columns are not */
	Expect(db, "SELECT subject, purpose FROM g", -1, NULL, "");
	Expect(db, "SELECT embedding FROM g WHERE subject = 'bob'", -1, NULL, "read_vector g p=door s=bob\n");
	Expect(db, "SELECT embedding FROM g", OP_READ_VECTOR, "MF999: refused read_vector (test)",
		   "read_vector g p=door s=ann\n");
	/* an update is a write of the new subject and purpose; an unchanged vector is not read */
	Expect(db, "UPDATE g SET purpose = 'pay' WHERE subject = 'bob'", -1, NULL, "insert g p=pay s=bob\n");
	Expect(db, "UPDATE g SET purpose = 'hr' WHERE subject = 'bob'", OP_INSERT,
		   "MF999: refused insert (test)", "insert g p=hr s=bob\n");
	if (Int(db, "SELECT count(*) FROM g_rows WHERE subject = 'bob' AND purpose = 'pay'") != 1)
		GuDie("a refused update changed the row", NULL);
	Expect(db, "SELECT frt_gallery_verify('g', 'bob', 'pay', '[3,5]')", -1, NULL,
		   "query g p=pay s=bob\nquery_done g p=pay s=bob n=1 best=1.000\n");
	Expect(db, "SELECT frt_gallery_verify('g', 1, '[0,1]')", OP_QUERY, "MF999: refused query (test)",
		   "query g p=door s=ann\n");
	Expect(db, "DELETE FROM g WHERE subject = 'bob'", OP_DELETE, "MF999: refused delete (test)",
		   "delete g p=pay s=bob\n");
	if (Int(db, "SELECT count(*) FROM g_rows WHERE subject = 'bob'") != 1 ||
		Int(db, "SELECT count(*) FROM g_free") != 0)
		GuDie("a refused delete changed something", NULL);
	Expect(db, "DELETE FROM g WHERE subject = 'bob'", -1, NULL, "delete g p=pay s=bob\n");
	/* no guard: everything is allowed */
	set(db, NULL, NULL);
	Expect(db, "SELECT embedding FROM g", -1, NULL, "");
	sqlite3_close(db);
	if (failures)
	{
		fprintf(stderr, "FAIL: %d mismatches\n", failures);
		return 1;
	}
	printf("ok: the guard sees and can refuse every operation\n");
	return 0;
}

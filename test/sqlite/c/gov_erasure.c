/*
 * gov_erasure.c
 *	  Physical erasure, measured: after frt_withdraw or frt_expire commits,
 *	  the erased face's bytes (the float32 array, or any 16-byte run of it)
 *	  are in none of the database file, its journal and its WAL, in the
 *	  journal modes DELETE, TRUNCATE and WAL; the other faces still are (so
 *	  the scan finds what is there).  In WAL mode a reader of another
 *	  connection holds the truncation back: frt_erasure_status() says
 *	  'pending' until a later commit finishes it.  PERSIST (in any spelling
 *	  SQLite takes) and EXCLUSIVE locking are replaced at load and refused
 *	  after.  A process that dies between a withdrawal's commit and the
 *	  truncation (a reader held it back) leaves the face in the WAL: the
 *	  next connection that loads the extension truncates it at once.
 */
#include <sys/wait.h>
#include <unistd.h>

#include "gov_harness.h"

#define DIM 64

/* One run: a mode, withdrawal or expiry, with or without a blocking reader. */
static void
RunCase(const char *mode, int expire, int reader)
{
	char		path[256],
				sql[8192],
				buf[512];
	float		target[DIM],
				other[DIM];
	char	   *t,
			   *o;
	sqlite3    *db,
			   *rd = NULL;

	snprintf(path, sizeof(path), "erase_%s_%s%s.db", mode, expire ? "expire" : "withdraw",
			 reader ? "_reader" : "");
	remove(path);
	printf("case %s\n", path);
	GhVector(target, DIM, 7 + expire * 100 + reader * 1000);
	GhVector(other, DIM, 9 + expire * 100 + reader * 1000);
	t = GhVectorText(target, DIM);
	o = GhVectorText(other, DIM);
	db = GhOpen(path, 0);
	snprintf(sql, sizeof(sql), "PRAGMA journal_mode = %s", mode);
	GhExec(db, NULL, sql);
	GhExec(db, NULL, "SELECT frt_device_init('cam-1', 'Acme', 64);"
		   "SELECT frt_purpose_add('door', 'office door', 1, 0.3);"
		   "SELECT frt_notice_publish('door', 'notice');"
		   "SELECT frt_consent_give('target', 'door', 1);");
	/* the target's consent is 12 hours older than the other's */
	GhAdvance(12 * 3600);
	GhExec(db, NULL, "SELECT frt_consent_give('other', 'door', 1)");
	snprintf(sql, sizeof(sql), "SELECT frt_enroll('target', 'door', '%s'); "
			 "SELECT frt_enroll('other', 'door', '%s');", t, o);
	GhExec(db, NULL, sql);
	if (GhTraces(path, target, DIM, 0) == 0)
		GhFail("%s: the enrolled face is not found before the erasure (the scan is blind)", path);
	if (reader)
	{
		rd = GhOpen(path, 1);
		GhExec(rd, NULL, "BEGIN; SELECT count(*) FROM frt_audit;");
	}
	if (expire)
	{
		GhAdvance(13 * 3600);	/* the target's day is over, not the other's */
		if (GhInt(db, "SELECT frt_expire()") != 1)
			GhFail("%s: frt_expire() did not erase one face", path);
	}
	else if (GhInt(db, "SELECT frt_withdraw('target')") != 1)
		GhFail("%s: frt_withdraw() did not erase one face", path);
	GhText(db, "SELECT frt_erasure_status()", buf, sizeof(buf));
	if (reader)
	{
		/* the reader holds the WAL: erasure pending, then done after a commit */
		if (strstr(buf, "\"erasure\": \"pending\"") == NULL)
			GhFail("%s: with a reader, status %s", path, buf);
		GhExec(rd, NULL, "COMMIT");
		sqlite3_close(rd);
		GhExec(db, NULL, "SELECT frt_purpose_add('hall', 'hall', 1, 0.3)");
		GhText(db, "SELECT frt_erasure_status()", buf, sizeof(buf));
	}
	if (strstr(buf, "\"erasure\": \"complete\"") == NULL)
		GhFail("%s: status %s", path, buf);
	if (GhTraces(path, target, DIM, 1) != 0)
		GhFail("%s: the erased face is still on disk", path);
	if (GhTraces(path, other, DIM, 0) == 0)
		GhFail("%s: the other face is not found (the scan is blind)", path);
	if (GhInt(db, "SELECT count(*) FROM frt_face") != 1)
		GhFail("%s: frt_face does not hold one face", path);
	GhText(db, "SELECT frt_audit_verify()", buf, sizeof(buf));
	if (strcmp(buf, "ok") != 0)
		GhFail("%s: audit %s", path, buf);
	sqlite3_close(db);
	free(t);
	free(o);
}

/* PERSIST keeps old pages: replaced by DELETE at load, refused afterwards. */
static void
RunPersist(void)
{
	const char *path = "erase_persist.db";
	sqlite3    *db;
	char		buf[64];

	remove(path);
	db = GhOpen(path, 1);
	GhExec(db, NULL, "PRAGMA journal_mode = PERSIST; CREATE TABLE t(x);");
	sqlite3_close(db);
	db = GhOpen(path, 1);
	GhExec(db, NULL, "PRAGMA journal_mode = PERSIST");
	sqlite3_enable_load_extension(db, 1);
	if (sqlite3_load_extension(db, getenv("FRT_SQLITE_LIB"), NULL, NULL) != SQLITE_OK)
		GhFail("persist: cannot load");
	if (strcmp(GhText(db, "PRAGMA journal_mode", buf, sizeof(buf)), "delete") != 0)
		GhFail("persist: journal mode %s after load", buf);
	GhExec(db, "not authorized", "PRAGMA journal_mode = PERSIST");
	GhExec(db, "not authorized", "PRAGMA secure_delete = FAST");
	GhExec(db, "not authorized", "PRAGMA wal_autocheckpoint = 10");
	if (GhInt(db, "PRAGMA secure_delete") != 1)
		GhFail("persist: secure_delete is not on");
	sqlite3_close(db);
}

/*
 * EXCLUSIVE locking keeps a DELETE journal (header zeroed, pages and all)
 * while the connection lives: replaced by NORMAL at load, refused after,
 * and an erasure leaves no journal behind.  journal_mode takes any prefix
 * of a mode's name: 'p' is PERSIST, refused too.
 */
static void
RunExclusive(void)
{
	const char *path = "erase_exclusive.db";
	float		target[DIM];
	char	   *t,
				sql[8192],
				buf[64];
	sqlite3    *db;

	remove(path);
	printf("case %s\n", path);
	GhVector(target, DIM, 4242);
	t = GhVectorText(target, DIM);
	db = GhOpen(path, 1);
	GhExec(db, NULL, "PRAGMA locking_mode = EXCLUSIVE");
	sqlite3_enable_load_extension(db, 1);
	if (sqlite3_load_extension(db, getenv("FRT_SQLITE_LIB"), NULL, NULL) != SQLITE_OK)
		GhFail("exclusive: cannot load");
	if (strcmp(GhText(db, "PRAGMA locking_mode", buf, sizeof(buf)), "normal") != 0)
		GhFail("exclusive: locking mode %s after load", buf);
	GhExec(db, "not authorized", "PRAGMA locking_mode = EXCLUSIVE");
	GhExec(db, "not authorized", "PRAGMA main.locking_mode = exclusive");
	GhExec(db, "not authorized", "PRAGMA journal_mode = p");
	GhExec(db, "not authorized", "PRAGMA main.journal_mode = 'Pers'");
	GhExec(db, NULL, "PRAGMA journal_mode = d");
	GhExec(db, NULL, "SELECT frt_device_init('cam-1', 'Acme', 64);"
		   "SELECT frt_purpose_add('door', 'office door', 1, 0.3);"
		   "SELECT frt_notice_publish('door', 'notice');"
		   "SELECT frt_consent_give('target', 'door', 1);");
	snprintf(sql, sizeof(sql), "SELECT frt_enroll('target', 'door', '%s')", t);
	GhExec(db, NULL, sql);
	if (GhTraces(path, target, DIM, 0) == 0)
		GhFail("exclusive: the enrolled face is not found before the erasure (the scan is blind)");
	if (GhInt(db, "SELECT frt_withdraw('target')") != 1)
		GhFail("exclusive: frt_withdraw() did not erase one face");
	/* the connection is still open: a kept journal would be on disk now */
	if (GhTraces(path, target, DIM, 1) != 0)
		GhFail("exclusive: the erased face is still on disk");
	sqlite3_close(db);
	free(t);
}

/*
 * A withdrawal commits in WAL mode while a reader blocks the truncation,
 * and the process dies before a later commit could finish it: the next
 * connection that loads the extension leaves no trace of the face.
 */
static void
RunCrash(void)
{
	const char *path = "erase_wal_crash.db";
	float		target[DIM];
	char		sql[8192],
				buf[512];
	char	   *t;
	sqlite3    *db;
	pid_t		pid;
	int			status = 0;

	remove(path);
	printf("case %s\n", path);
	GhVector(target, DIM, 4242);
	t = GhVectorText(target, DIM);
	fflush(stdout);
	pid = fork();
	if (pid == 0)
	{
		sqlite3    *rd;

		db = GhOpen(path, 0);
		GhExec(db, NULL, "PRAGMA journal_mode = WAL");
		GhExec(db, NULL, "SELECT frt_device_init('cam-1', 'Acme', 64);"
			   "SELECT frt_purpose_add('door', 'office door', 1, 0.3);"
			   "SELECT frt_notice_publish('door', 'notice');"
			   "SELECT frt_consent_give('target', 'door', 1);");
		snprintf(sql, sizeof(sql), "SELECT frt_enroll('target', 'door', '%s')", t);
		GhExec(db, NULL, sql);
		rd = GhOpen(path, 1);
		GhExec(rd, NULL, "BEGIN; SELECT count(*) FROM frt_audit;");
		if (GhInt(db, "SELECT frt_withdraw('target')") != 1)
			GhFail("crash: frt_withdraw() did not erase one face");
		GhText(db, "SELECT frt_erasure_status()", buf, sizeof(buf));
		if (strstr(buf, "\"erasure\": \"pending\"") == NULL)
			GhFail("crash: with a reader, status %s", buf);
		if (GhTraces(path, target, DIM, 0) == 0)
			GhFail("crash: the withdrawn face is not in the WAL before the crash (the case tests nothing)");
		fflush(stdout);
		_exit(gh_failures ? 1 : 0);	/* dies: no close, no checkpoint */
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		GhFail("crash: the dying process failed (status %d)", status);
	db = GhOpen(path, 0);
	if (GhTraces(path, target, DIM, 1) != 0)
		GhFail("crash: after the extension loaded again, the erased face is still on disk");
	GhText(db, "SELECT frt_erasure_status()", buf, sizeof(buf));
	if (strstr(buf, "\"erasure\": \"complete\"") == NULL)
		GhFail("crash: status %s", buf);
	GhText(db, "SELECT frt_audit_verify()", buf, sizeof(buf));
	if (strcmp(buf, "ok") != 0)
		GhFail("crash: audit %s", buf);
	sqlite3_close(db);
	free(t);
}

int
main(void)
{
	static const char *const modes[] = {"delete", "truncate", "wal"};

	for (int m = 0; m < 3; m++)
		for (int e = 0; e < 2; e++)
			RunCase(modes[m], e, 0);
	RunCase("wal", 0, 1);
	RunCase("wal", 1, 1);
	RunPersist();
	RunExclusive();
	RunCrash();
	printf("%s: %d failures\n", gh_failures ? "FAILED" : "ok", gh_failures);
	return gh_failures ? 1 : 0;
}

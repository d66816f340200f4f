/*-------------------------------------------------------------------------
 *
 * sq_gov_erase.c
 *	  Physical erasure on the device: after a withdrawal or an expiry
 *	  commits, the erased faces' bytes are in none of the database file, its
 *	  rollback journal or its WAL.  PRAGMA secure_delete = ON zeroes deleted
 *	  cells and freed pages in the file; a rollback journal (DELETE or
 *	  TRUNCATE mode) holds the old pages only until the commit removes or
 *	  empties it, and PERSIST, which keeps them, is refused (and replaced by
 *	  DELETE at load), as is EXCLUSIVE locking, under which SQLite keeps a
 *	  DELETE journal as PERSIST does (replaced by NORMAL at load); in WAL mode the frames written before the erasure
 *	  still hold the face, so the WAL hook, which SQLite calls after each
 *	  commit, checkpoints with SQLITE_CHECKPOINT_TRUNCATE after a commit that
 *	  erased, and again after later commits while readers keep it from
 *	  finishing (frt_erasure_status() says so); loading the extension on a
 *	  WAL database truncates too (a process may have died in between).  The hook also does the
 *	  passive checkpoints of SQLite's default autocheckpoint, which it
 *	  replaces.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "sq_gov.h"

/* The value a pragma query returns ("delete", "exclusive", ...), copied. */
static char *
FrtSqPragmaValue(sqlite3 *db, const char *pragma)
{
	sqlite3_stmt *st = FrtSqQuery(db, pragma, "");
	char	   *value = NULL;

	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		value = sqlite3_mprintf("%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return value;
}

/* The journal mode of the main database ("delete", "wal", ...), copied. */
static char *
FrtSqJournalMode(sqlite3 *db)
{
	return FrtSqPragmaValue(db, "PRAGMA main.journal_mode");
}

/* Try to empty the WAL of erased faces: a TRUNCATE checkpoint. */
static void
FrtSqEraseCheckpoint(FrtSqGov *gov)
{
	int			rc = sqlite3_wal_checkpoint_v2(gov->db, "main", SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);

	gov->erase_attempts++;
	gov->erase_last_rc = rc;
	if (rc == SQLITE_OK)
	{
		gov->erase_pending = false;
		gov->erase_attempts = 0;
	}
}

/* The WAL hook: truncate after an erasure, else SQLite's autocheckpoint. */
static int
FrtSqWalHook(void *arg, sqlite3 *db, const char *dbname, int frames)
{
	FrtSqGov   *gov = arg;

	if (gov->erase_pending && strcmp(dbname, "main") == 0)
		FrtSqEraseCheckpoint(gov);
	else if (frames >= FRT_SQ_WAL_AUTOCHECKPOINT)
		sqlite3_wal_checkpoint_v2(db, dbname, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return SQLITE_OK;
}

/*
 * An erasure committed: with a rollback journal nothing is left to do; in
 * WAL mode the hook has tried to truncate, and it is tried once more here.
 */
void
FrtSqEraseCommitted(FrtSqGov *gov)
{
	char	   *mode = FrtSqJournalMode(gov->db);

	gov->erased_at = FrtSqNow(gov->db);
	if (mode == NULL || sqlite3_stricmp(mode, "wal") != 0)
		gov->erase_pending = false;
	else if (gov->erase_pending)
		FrtSqEraseCheckpoint(gov);
	sqlite3_free(mode);
}

/*
 * The erasure policy of a connection: secure_delete on, no persistent
 * journal, normal locking, the WAL hook.
 */
int
FrtSqEraseInit(sqlite3 *db, FrtSqGov *gov, char **errmsg)
{
	char	   *journal,
			   *mode;
	int			rc;

	rc = sqlite3_exec(db, "PRAGMA secure_delete = ON", NULL, NULL, errmsg);
	if (rc != SQLITE_OK)
		return rc;
	journal = FrtSqJournalMode(db);
	if (journal != NULL && sqlite3_stricmp(journal, "persist") == 0)
		rc = sqlite3_exec(db, "PRAGMA main.journal_mode = DELETE", NULL, NULL, errmsg);
	/* exclusive locking keeps a DELETE journal's pages after the commit */
	mode = FrtSqPragmaValue(db, "PRAGMA main.locking_mode");
	if (rc == SQLITE_OK && mode != NULL && sqlite3_stricmp(mode, "exclusive") == 0)
		rc = sqlite3_exec(db, "PRAGMA locking_mode = NORMAL", NULL, NULL, errmsg);
	sqlite3_free(mode);
	sqlite3_wal_hook(db, FrtSqWalHook, gov);
	/*
	 * A process that died between an erasure's commit and its truncation
	 * left the face in the WAL, and nothing in the file says so: in WAL
	 * mode every load truncates (or, readers holding it back, leaves it
	 * pending for the next commit, as after an erasure).
	 */
	if (rc == SQLITE_OK && journal != NULL && sqlite3_stricmp(journal, "wal") == 0)
	{
		gov->erase_pending = true;
		FrtSqEraseCheckpoint(gov);
	}
	sqlite3_free(journal);
	return rc;
}

/*
 * frt_erasure_status() -> JSON: the journal mode, secure_delete, and whether
 * an erasure still waits for the WAL to be truncated (tried again first).
 */
static void
FrtSqErasureStatusFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	FrtSqGov   *gov = sqlite3_user_data(ctx);
	FrtSqJson	j = {0};
	sqlite3_stmt *st;
	char	   *mode,
			   *out;
	int			secure = 0;

	(void) argc;
	(void) argv;
	gov->trusted++;
	mode = FrtSqJournalMode(gov->db);
	if (gov->erase_pending && mode != NULL && sqlite3_stricmp(mode, "wal") == 0)
		FrtSqEraseCheckpoint(gov);
	else if (mode == NULL || sqlite3_stricmp(mode, "wal") != 0)
		gov->erase_pending = false;
	st = FrtSqQuery(gov->db, "PRAGMA main.secure_delete", "");
	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		secure = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	FrtSqJsonStr(&j, "journal_mode", mode ? mode : "unknown");
	FrtSqJsonStr(&j, "secure_delete", secure == 1 ? "on" : "off");
	FrtSqJsonStr(&j, "erasure", gov->erase_pending ? "pending" : "complete");
	if (gov->erase_pending)
	{
		FrtSqJsonInt(&j, "attempts", gov->erase_attempts);
		FrtSqJsonStr(&j, "blocked_by", gov->erase_last_rc == SQLITE_LOCKED ?
					 "this connection's open statements" : "readers of the WAL");
	}
	out = FrtSqJsonFinish(&j);
	sqlite3_result_text(ctx, out, -1, sqlite3_free);
	sqlite3_free(mode);
	gov->trusted--;
}

/* Register frt_erasure_status(). */
int
FrtSqEraseRegister(sqlite3 *db, FrtSqGov *gov)
{
	return sqlite3_create_function(db, "frt_erasure_status", 0, SQLITE_UTF8 | SQLITE_DIRECTONLY, gov,
								   FrtSqErasureStatusFunc, NULL, NULL);
}

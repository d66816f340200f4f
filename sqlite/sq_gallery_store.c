/*-------------------------------------------------------------------------
 *
 * sq_gallery_store.c
 *	  Storage of an frt_gallery table in its shadow tables:
 *	    NAME_info    one row: vectors per chunk, the next never-used slot and
 *	                 the generation (a random number changed by every write,
 *	                 which tells a connection's cache that it is stale)
 *	    NAME_rows    one row per face: rowid, subject, purpose and its slot
 *	    NAME_chunks  the vectors: chunk c holds slots c * chunk_rows ..,
 *	                 dim float32 each, packed in one BLOB
 *	    NAME_free    slots whose face was deleted (and zeroed), reused first
 *	  The floats of a face exist only in its slot: a delete overwrites them
 *	  with zeros in place (sqlite3_blob_write), so no copy is left behind in
 *	  the table (free pages are secure_delete's business).
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "sq_gallery.h"

/* Chunks hold float32 in host order, which the BLOB form fixes as little-endian. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the gallery's chunks assume a little-endian host"
#endif

/* The shadow tables' suffixes, as xShadowName recognizes them. */
static const char *const store_suffixes[] = {"info", "rows", "chunks", "free"};

/* The SQL of each statement on the shadow tables (%1$w schema, %2$w name). */
static const char *const store_sql[FRT_SQ_STMT__COUNT] = {
	[FRT_SQ_STMT_GEN_GET] = "SELECT generation FROM \"%w\".\"%w_info\" WHERE id = 1",
	[FRT_SQ_STMT_GEN_SET] = "UPDATE \"%w\".\"%w_info\" SET generation = ?1 WHERE id = 1",
	[FRT_SQ_STMT_NEXT_GET] = "SELECT next_slot, chunk_rows FROM \"%w\".\"%w_info\" WHERE id = 1",
	[FRT_SQ_STMT_NEXT_SET] = "UPDATE \"%w\".\"%w_info\" SET next_slot = ?1 WHERE id = 1",
	[FRT_SQ_STMT_FREE_FIRST] = "SELECT slot FROM \"%w\".\"%w_free\" ORDER BY slot LIMIT 1",
	[FRT_SQ_STMT_FREE_DEL] = "DELETE FROM \"%w\".\"%w_free\" WHERE slot = ?1",
	[FRT_SQ_STMT_FREE_PUT] = "INSERT INTO \"%w\".\"%w_free\"(slot) VALUES (?1)",
	[FRT_SQ_STMT_CHUNK_NEW] = "INSERT INTO \"%w\".\"%w_chunks\"(id, vectors) VALUES (?1, zeroblob(?2))",
	[FRT_SQ_STMT_ROW_GET] = "SELECT subject, purpose, slot FROM \"%w\".\"%w_rows\" WHERE id = ?1",
	[FRT_SQ_STMT_ROW_INS] = "INSERT INTO \"%w\".\"%w_rows\"(id, subject, purpose, slot) VALUES (?1, ?2, ?3, ?4)",
	[FRT_SQ_STMT_ROW_DEL] = "DELETE FROM \"%w\".\"%w_rows\" WHERE id = ?1",
	[FRT_SQ_STMT_ROW_UPD] = "UPDATE \"%w\".\"%w_rows\" SET subject = ?2, purpose = ?3 WHERE id = ?1",
	[FRT_SQ_STMT_ROWS_ALL] = "SELECT id, purpose, slot FROM \"%w\".\"%w_rows\"",
	[FRT_SQ_STMT_ROWS_SUBJECT] = "SELECT id, slot FROM \"%w\".\"%w_rows\" WHERE subject = ?1 AND purpose = ?2 ORDER BY id",
};

/* Run a statement built from a format with the schema and the name twice. */
static int
StoreExec(sqlite3 *db, const char *fmt, const char *schema, const char *name, char **err)
{
	char	   *sql = sqlite3_mprintf(fmt, schema, name, schema, name, schema, name);
	int			rc;

	if (sql == NULL)
		return SQLITE_NOMEM;
	rc = sqlite3_exec(db, sql, NULL, NULL, err);
	sqlite3_free(sql);
	return rc;
}

/* Create the shadow tables of a new gallery. */
int
FrtSqStoreCreate(sqlite3 *db, const char *schema, const char *name, char **err)
{
	char	   *info;
	sqlite3_uint64 tag;
	int			rc;

	rc = StoreExec(db,
				   "CREATE TABLE \"%w\".\"%w_info\"(id INTEGER PRIMARY KEY CHECK (id = 1), "
				   "chunk_rows INTEGER NOT NULL, next_slot INTEGER NOT NULL, "
				   "generation INTEGER NOT NULL);"
				   "CREATE TABLE \"%w\".\"%w_rows\"(id INTEGER PRIMARY KEY, "
				   "subject TEXT NOT NULL, purpose TEXT NOT NULL, slot INTEGER NOT NULL);"
				   "CREATE TABLE \"%w\".\"%w_chunks\"(id INTEGER PRIMARY KEY, vectors BLOB NOT NULL);",
				   schema, name, err);
	if (rc == SQLITE_OK)
		rc = StoreExec(db, "CREATE TABLE \"%w\".\"%w_free\"(slot INTEGER PRIMARY KEY);",
					   schema, name, err);
	if (rc != SQLITE_OK)
		return rc;
	/*
	 * The index's name has a random part: an index keeps its name when its
	 * table is renamed, and a new gallery may then take the old name.
	 */
	sqlite3_randomness(sizeof(tag), &tag);
	info = sqlite3_mprintf("CREATE INDEX \"%w\".\"%w_rows_subject_%016llx\" ON \"%w_rows\"(subject);"
						   "INSERT INTO \"%w\".\"%w_info\" VALUES (1, %d, 0, 0)",
						   schema, name, tag, name, schema, name, FRT_SQ_CHUNK_ROWS);
	if (info == NULL)
		return SQLITE_NOMEM;
	rc = sqlite3_exec(db, info, NULL, NULL, err);
	sqlite3_free(info);
	return rc;
}

/* Drop the shadow tables of a gallery. */
int
FrtSqStoreDrop(sqlite3 *db, const char *schema, const char *name)
{
	int			rc = SQLITE_OK;

	for (size_t i = 0; i < sizeof(store_suffixes) / sizeof(store_suffixes[0]) && rc == SQLITE_OK; i++)
	{
		char	   *sql = sqlite3_mprintf("DROP TABLE IF EXISTS \"%w\".\"%w_%s\"",
										  schema, name, store_suffixes[i]);

		if (sql == NULL)
			return SQLITE_NOMEM;
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
		sqlite3_free(sql);
	}
	return rc;
}

/* Rename the shadow tables with their gallery. */
int
FrtSqStoreRename(sqlite3 *db, const char *schema, const char *from, const char *to)
{
	int			rc = SQLITE_OK;

	for (size_t i = 0; i < sizeof(store_suffixes) / sizeof(store_suffixes[0]) && rc == SQLITE_OK; i++)
	{
		char	   *sql = sqlite3_mprintf("ALTER TABLE \"%w\".\"%w_%s\" RENAME TO \"%w_%s\"",
										  schema, from, store_suffixes[i], to,
										  store_suffixes[i]);

		if (sql == NULL)
			return SQLITE_NOMEM;
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
		sqlite3_free(sql);
	}
	return rc;
}

/* Is NAME_suffix one of a gallery's shadow tables? */
bool
FrtSqStoreIsShadow(const char *suffix)
{
	for (size_t i = 0; i < sizeof(store_suffixes) / sizeof(store_suffixes[0]); i++)
		if (sqlite3_stricmp(suffix, store_suffixes[i]) == 0)
			return true;
	return false;
}

/* A statement on the shadow tables, prepared on first use and reset for reuse. */
int
FrtSqStoreStmt(FrtSqGalleryVtab *vt, FrtSqStmtId id, sqlite3_stmt **out)
{
	if (vt->stmts[id] == NULL)
	{
		char	   *sql = sqlite3_mprintf(store_sql[id], vt->schema, vt->name);
		int			rc;

		if (sql == NULL)
			return SQLITE_NOMEM;
		rc = sqlite3_prepare_v3(vt->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
								&vt->stmts[id], NULL);
		sqlite3_free(sql);
		if (rc != SQLITE_OK)
			return rc;
	}
	else
	{
		sqlite3_reset(vt->stmts[id]);
		sqlite3_clear_bindings(vt->stmts[id]);
	}
	*out = vt->stmts[id];
	return SQLITE_OK;
}

/* Step a statement that returns one integer (or none: *val untouched, SQLITE_DONE). */
static int
StoreStepInt(sqlite3_stmt *st, sqlite3_int64 *val)
{
	int			rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
	{
		*val = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_reset(st);
	return rc;
}

/* Step a statement that returns nothing. */
static int
StoreStepDone(sqlite3_stmt *st)
{
	int			rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : (rc == SQLITE_ROW ? SQLITE_OK : sqlite3_errcode(sqlite3_db_handle(st)));
}

/* Read what the table keeps of its shape (vectors per chunk) on first use. */
int
FrtSqStoreReady(FrtSqGalleryVtab *vt)
{
	sqlite3_stmt *st;
	int			rc;

	if (vt->chunk_rows > 0)
		return SQLITE_OK;
	if ((rc = FrtSqStoreStmt(vt, FRT_SQ_STMT_NEXT_GET, &st)) != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
	{
		int			n = sqlite3_column_int(st, 1);

		rc = (n >= 1 && n <= FRT_SQ_MAX_CHUNK_ROWS) ? SQLITE_OK : SQLITE_CORRUPT_VTAB;
		if (rc == SQLITE_OK)
			vt->chunk_rows = n;
	}
	else if (rc == SQLITE_DONE)
		rc = SQLITE_CORRUPT_VTAB;
	sqlite3_reset(st);
	return rc;
}

/* The stored generation. */
int
FrtSqStoreGeneration(FrtSqGalleryVtab *vt, sqlite3_int64 *gen)
{
	sqlite3_stmt *st;
	int			rc = FrtSqStoreStmt(vt, FRT_SQ_STMT_GEN_GET, &st);

	if (rc != SQLITE_OK)
		return rc;
	rc = StoreStepInt(st, gen);
	return rc == SQLITE_DONE ? SQLITE_CORRUPT_VTAB : rc;
}

/*
 * Give the table a new random generation, so that every other
 * connection's cache reloads (a counter could come back to a value a cache
 * already holds after a rollback).
 */
int
FrtSqStoreBump(FrtSqGalleryVtab *vt, sqlite3_int64 *gen)
{
	sqlite3_stmt *st;
	int			rc = FrtSqStoreStmt(vt, FRT_SQ_STMT_GEN_SET, &st);

	if (rc != SQLITE_OK)
		return rc;
	sqlite3_randomness(sizeof(*gen), gen);
	sqlite3_bind_int64(st, 1, *gen);
	return StoreStepDone(st);
}

/* The next never-used slot (the number of slots the chunks cover so far). */
int
FrtSqStoreNextSlot(FrtSqGalleryVtab *vt, sqlite3_int64 *next)
{
	sqlite3_stmt *st;
	int			rc = FrtSqStoreStmt(vt, FRT_SQ_STMT_NEXT_GET, &st);

	if (rc != SQLITE_OK)
		return rc;
	rc = StoreStepInt(st, next);
	return rc == SQLITE_DONE ? SQLITE_CORRUPT_VTAB : rc;
}

/* A slot for a new face: the lowest freed one, else the next, adding a chunk. */
int
FrtSqStoreAllocSlot(FrtSqGalleryVtab *vt, int *slot)
{
	sqlite3_stmt *st;
	sqlite3_int64 s = -1;
	int			rc = FrtSqStoreStmt(vt, FRT_SQ_STMT_FREE_FIRST, &st);

	if (rc != SQLITE_OK)
		return rc;
	rc = StoreStepInt(st, &s);
	if (rc == SQLITE_OK)
	{
		if ((rc = FrtSqStoreStmt(vt, FRT_SQ_STMT_FREE_DEL, &st)) != SQLITE_OK)
			return rc;
		sqlite3_bind_int64(st, 1, s);
		*slot = (int) s;
		return StoreStepDone(st);
	}
	if (rc != SQLITE_DONE)
		return rc;
	if ((rc = FrtSqStoreNextSlot(vt, &s)) != SQLITE_OK)
		return rc;
	if (s >= INT32_MAX - 1)
		return SQLITE_FULL;
	if (s % vt->chunk_rows == 0)
	{
		if ((rc = FrtSqStoreStmt(vt, FRT_SQ_STMT_CHUNK_NEW, &st)) != SQLITE_OK)
			return rc;
		sqlite3_bind_int64(st, 1, s / vt->chunk_rows);
		sqlite3_bind_int64(st, 2, (sqlite3_int64) vt->chunk_rows * vt->dim * sizeof(float));
		if ((rc = StoreStepDone(st)) != SQLITE_OK)
			return rc;
	}
	if ((rc = FrtSqStoreStmt(vt, FRT_SQ_STMT_NEXT_SET, &st)) != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, s + 1);
	*slot = (int) s;
	return StoreStepDone(st);
}

/* Zero a slot's vector in place and put the slot on the free list. */
int
FrtSqStoreFreeSlot(FrtSqGalleryVtab *vt, int slot)
{
	sqlite3_stmt *st;
	float	   *zeros = sqlite3_malloc64(sizeof(float) * vt->dim);
	int			rc;

	if (zeros == NULL)
		return SQLITE_NOMEM;
	memset(zeros, 0, sizeof(float) * vt->dim);
	rc = FrtSqStoreWriteVector(vt, slot, zeros);
	sqlite3_free(zeros);
	if (rc != SQLITE_OK)
		return rc;
	if ((rc = FrtSqStoreStmt(vt, FRT_SQ_STMT_FREE_PUT, &st)) != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, slot);
	return StoreStepDone(st);
}

/* Write a slot's dim floats into its chunk, in place. */
int
FrtSqStoreWriteVector(FrtSqGalleryVtab *vt, int slot, const float *x)
{
	sqlite3_blob *b = NULL;
	int			bytes = vt->dim * (int) sizeof(float);
	int			rc;

	FrtSqStoreRelease(vt);		/* a read handle on the chunk would expire */
	rc = sqlite3_blob_open(vt->db, vt->schema, vt->chunks, "vectors",
						   slot / vt->chunk_rows, 1, &b);
	if (rc == SQLITE_OK)
		rc = sqlite3_blob_write(b, x, bytes, (slot % vt->chunk_rows) * bytes);
	if (b != NULL)
	{
		int			rc2 = sqlite3_blob_close(b);

		if (rc == SQLITE_OK)
			rc = rc2;
	}
	return rc;
}

/*
 * Read a slot's dim floats from its chunk, through a read handle kept on
 * the last chunk until FrtSqStoreRelease (moving it costs less than
 * opening one).
 */
int
FrtSqStoreReadVector(FrtSqGalleryVtab *vt, int slot, float *out)
{
	sqlite3_int64 chunk = slot / vt->chunk_rows;
	int			bytes = vt->dim * (int) sizeof(float);
	int			rc = SQLITE_OK;

	for (int attempt = 0; attempt < 2; attempt++)
	{
		if (vt->rblob != NULL && vt->rblob_chunk != chunk)
		{
			rc = sqlite3_blob_reopen(vt->rblob, chunk);
			if (rc != SQLITE_OK)
				FrtSqStoreRelease(vt);
		}
		if (vt->rblob == NULL)
		{
			rc = sqlite3_blob_open(vt->db, vt->schema, vt->chunks, "vectors", chunk, 0,
								   &vt->rblob);
			if (rc != SQLITE_OK)
			{
				FrtSqStoreRelease(vt);
				return rc;
			}
		}
		vt->rblob_chunk = chunk;
		rc = sqlite3_blob_read(vt->rblob, out, bytes, (slot % vt->chunk_rows) * bytes);
		if (rc != SQLITE_ABORT)
			break;
		FrtSqStoreRelease(vt);	/* expired by a write: open it again */
	}
	return rc;
}

/* Close the read handle (it holds the read transaction open). */
void
FrtSqStoreRelease(FrtSqGalleryVtab *vt)
{
	if (vt->rblob != NULL)
		sqlite3_blob_close(vt->rblob);
	vt->rblob = NULL;
	vt->rblob_chunk = -1;
}

/*
 * A row's subject, purpose (sqlite3_malloc'd, either may be NULL if not
 * wanted) and slot; SQLITE_DONE when there is no such row.
 */
int
FrtSqStoreRowGet(FrtSqGalleryVtab *vt, sqlite3_int64 rowid, char **subject,
				 char **purpose, int *slot)
{
	sqlite3_stmt *st;
	int			rc = FrtSqStoreStmt(vt, FRT_SQ_STMT_ROW_GET, &st);

	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, rowid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
	{
		rc = SQLITE_OK;
		if (subject != NULL &&
			(*subject = sqlite3_mprintf("%s", sqlite3_column_text(st, 0))) == NULL)
			rc = SQLITE_NOMEM;
		if (purpose != NULL &&
			(*purpose = sqlite3_mprintf("%s", sqlite3_column_text(st, 1))) == NULL)
			rc = SQLITE_NOMEM;
		*slot = sqlite3_column_int(st, 2);
	}
	sqlite3_reset(st);
	return rc;
}

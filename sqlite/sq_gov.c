/*-------------------------------------------------------------------------
 *
 * sq_gov.c
 *	  Governance on the device: registration on a connection, the device
 *	  schema (frt_device_init) and the protection model.  The connection
 *	  gets SQLITE_DBCONFIG_DEFENSIVE (no writable_schema, the gallery's
 *	  shadow tables read-only to SQL) and an authorizer that refuses, to
 *	  every statement but the extension's own, writes and DDL on the frt_*
 *	  tables, the pragmas that would keep erased faces on disk and SQL's
 *	  load_extension() (native code, which can undo all this).  A process
 *	  holding the file itself is outside this model; the audit chain,
 *	  verified on the server, is what detects its edits.
 *
 *-------------------------------------------------------------------------
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sq_gov.h"

/* The governance state of every connection governance is loaded into. */
static FrtSqGov *frt_sq_govs = NULL;
static pthread_mutex_t frt_sq_govs_lock = PTHREAD_MUTEX_INITIALIZER;

/* The device schema: exact names, read by sync (docs/sqlite.md). */
static const char *const FrtSqSchema =
"CREATE TABLE main.frt_device (id INTEGER PRIMARY KEY CHECK (id = 1), device TEXT NOT NULL, "
"processor TEXT NOT NULL, dim INTEGER NOT NULL, metric TEXT NOT NULL, "
"utc_offset_min INTEGER NOT NULL DEFAULT 480, hash_alg TEXT NOT NULL DEFAULT 'sha256', "
"lockout_failures INTEGER NOT NULL DEFAULT 5, lockout_window_s INTEGER NOT NULL DEFAULT 300, "
"lockout_s INTEGER NOT NULL DEFAULT 900, application TEXT);"
"CREATE TABLE main.frt_purpose (name TEXT PRIMARY KEY, description TEXT NOT NULL, "
"retention_days INTEGER NOT NULL, threshold REAL NOT NULL, created_at INTEGER NOT NULL);"
"CREATE TABLE main.frt_notice (purpose TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL, "
"published_at INTEGER NOT NULL, PRIMARY KEY (purpose, version));"
"CREATE TABLE main.frt_consent (subject TEXT NOT NULL, purpose TEXT NOT NULL, "
"notice_version INTEGER NOT NULL, given_at INTEGER NOT NULL, consent_seq INTEGER NOT NULL, "
"birth_date TEXT, guardian TEXT, transfer INTEGER NOT NULL DEFAULT 0, transfer_at INTEGER, "
"transfer_seq INTEGER, expires_at INTEGER NOT NULL, PRIMARY KEY (subject, purpose));"
"CREATE TABLE main.frt_audit (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, "
"backend_pid INTEGER NOT NULL, similarity REAL, event TEXT NOT NULL, outcome TEXT NOT NULL, "
"sqlstate TEXT, role_name TEXT, effective_role TEXT, application TEXT, client_addr TEXT, "
"purpose TEXT, subject TEXT, device TEXT, detail TEXT, prev_hash BLOB NOT NULL, "
"hash BLOB NOT NULL, hash_alg TEXT NOT NULL);"
"CREATE TABLE main.frt_lockout (subject TEXT NOT NULL, purpose TEXT NOT NULL, "
"failures INTEGER NOT NULL, window_start INTEGER NOT NULL, locked_until INTEGER, "
"PRIMARY KEY (subject, purpose));"
"CREATE TABLE main.frt_sync (id INTEGER PRIMARY KEY CHECK (id = 1), "
"shipped_seq INTEGER NOT NULL DEFAULT 0, server_seq INTEGER, acked_at INTEGER);"
"INSERT INTO main.frt_sync (id) VALUES (1);";

/* The governance state of a connection (NULL: governance not loaded there). */
FrtSqGov *
FrtSqGovOf(sqlite3 *db)
{
	FrtSqGov   *g;

	pthread_mutex_lock(&frt_sq_govs_lock);
	for (g = frt_sq_govs; g != NULL && g->db != db; g = g->next)
		;
	pthread_mutex_unlock(&frt_sq_govs_lock);
	return g;
}

/* Forget a connection's state (the connection closes, or governance reloads). */
static void
FrtSqGovFree(void *p)
{
	FrtSqGov  **link;

	pthread_mutex_lock(&frt_sq_govs_lock);
	for (link = &frt_sq_govs; *link != NULL; link = &(*link)->next)
		if (*link == p)
		{
			*link = ((FrtSqGov *) p)->next;
			break;
		}
	pthread_mutex_unlock(&frt_sq_govs_lock);
	free(p);
}

/* See sq_gov.h. */
bool
FrtSqGovEnter(sqlite3 *db)
{
	FrtSqGov   *g = FrtSqGovOf(db);

	if (g == NULL)
		return false;
	g->trusted++;
	return true;
}

/* See sq_gov.h. */
void
FrtSqGovLeave(sqlite3 *db)
{
	FrtSqGov   *g = FrtSqGovOf(db);

	if (g != NULL && g->trusted > 0)
		g->trusted--;
}

/* Whether a table, view, index or trigger name is governance's (frt_*). */
bool
FrtSqIsOurName(const char *name)
{
	return name != NULL && sqlite3_strnicmp(name, FRT_SQ_PREFIX, strlen(FRT_SQ_PREFIX)) == 0;
}

/*
 * Whether a table is one of the gallery's shadow tables of frt_face: its
 * writes are the gallery's own (defensive mode refuses them to SQL, and the
 * gallery guard refuses the row operations that cause them).
 */
static bool
FrtSqIsShadowName(const char *name)
{
	size_t		n = strlen(FRT_SQ_FACE_TABLE);

	return name != NULL && sqlite3_strnicmp(name, FRT_SQ_FACE_TABLE, n) == 0 && name[n] == '_';
}

/* Whether a pragma (name, value: NULL when read) may run. */
static bool
FrtSqPragmaAllowed(const char *name, const char *value)
{
	if (name == NULL || value == NULL)
		return true;
	/*
	 * a persistent journal keeps the pages an erasure overwrote; SQLite takes
	 * any prefix of a mode's name ('p' is PERSIST)
	 */
	if (sqlite3_stricmp(name, "journal_mode") == 0)
		return *value == '\0' || strlen(value) > strlen("persist") ||
			sqlite3_strnicmp(value, "persist", (int) strlen(value)) != 0;
	/* in exclusive locking mode a DELETE journal is kept (header zeroed), pages and all */
	if (sqlite3_stricmp(name, "locking_mode") == 0)
		return sqlite3_stricmp(value, "normal") == 0;
	/* FAST leaves deleted content on freelist pages */
	if (sqlite3_stricmp(name, "secure_delete") == 0)
		return sqlite3_stricmp(value, "on") == 0 || sqlite3_stricmp(value, "1") == 0 ||
			sqlite3_stricmp(value, "true") == 0 || sqlite3_stricmp(value, "yes") == 0;
	/* it would replace the WAL hook that truncates the WAL after an erasure */
	if (sqlite3_stricmp(name, "wal_autocheckpoint") == 0)
		return false;
	return true;
}

/* The authorizer: see the file header.  The extension's own statements pass. */
static int
FrtSqAuthorize(void *arg, int action, const char *a1, const char *a2, const char *dbname,
			   const char *inner)
{
	FrtSqGov   *gov = arg;

	(void) dbname;
	(void) inner;
	if (gov->trusted > 0)
		return SQLITE_OK;
	switch (action)
	{
		case SQLITE_INSERT:
		case SQLITE_UPDATE:
		case SQLITE_DELETE:
			return FrtSqIsOurName(a1) && !FrtSqIsShadowName(a1) ? SQLITE_DENY : SQLITE_OK;
		case SQLITE_CREATE_TABLE:
		case SQLITE_CREATE_TEMP_TABLE:
		case SQLITE_CREATE_VIEW:
		case SQLITE_CREATE_TEMP_VIEW:
		case SQLITE_CREATE_VTABLE:
		case SQLITE_DROP_TABLE:
		case SQLITE_DROP_TEMP_TABLE:
		case SQLITE_DROP_VIEW:
		case SQLITE_DROP_TEMP_VIEW:
		case SQLITE_DROP_VTABLE:
			return FrtSqIsOurName(a1) ? SQLITE_DENY : SQLITE_OK;
		case SQLITE_CREATE_INDEX:
		case SQLITE_CREATE_TEMP_INDEX:
		case SQLITE_DROP_INDEX:
		case SQLITE_DROP_TEMP_INDEX:
		case SQLITE_CREATE_TRIGGER:
		case SQLITE_CREATE_TEMP_TRIGGER:
			return FrtSqIsOurName(a1) || FrtSqIsOurName(a2) ? SQLITE_DENY : SQLITE_OK;
		case SQLITE_ALTER_TABLE:
			return FrtSqIsOurName(a2) ? SQLITE_DENY : SQLITE_OK;
		case SQLITE_PRAGMA:
			return FrtSqPragmaAllowed(a1, a2) ? SQLITE_OK : SQLITE_DENY;
		case SQLITE_FUNCTION:
			/* native code on the connection can remove this authorizer */
			return sqlite3_stricmp(a2, "load_extension") == 0 ? SQLITE_DENY : SQLITE_OK;
		case SQLITE_READ:
			/* the faces' shadow tables: the gallery's own statements only */
			return FrtSqIsShadowName(a1) && !FrtSqGalleryInside(gov->db) ? SQLITE_DENY : SQLITE_OK;
		default:
			return SQLITE_OK;
	}
}

/* Whether the device schema exists. */
static bool
FrtSqDeviceExists(sqlite3 *db)
{
	sqlite3_stmt *st = FrtSqQuery(db, "SELECT 1 FROM main.sqlite_schema WHERE name = 'frt_device'", "");
	bool		found = st != NULL && sqlite3_step(st) == SQLITE_ROW;

	sqlite3_finalize(st);
	return found;
}

/* Create the schema, the device row and the gallery, and the first record. */
static bool
FrtSqDeviceCreate(FrtSqOp *op, const char *device, const char *processor, int dim, int metric,
				  int64_t *seq)
{
	sqlite3    *db = op->gov->db;
	FrtSqJson	j = {0};
	char	   *sql,
			   *detail;
	int			rc;

	rc = sqlite3_exec(db, FrtSqSchema, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = FrtSqStep(db, "INSERT INTO main.frt_device (id, device, processor, dim, metric) "
					   "VALUES (1, ?, ?, ?, ?)", "ttIt", device, processor, dim, FrtSqMetricName(metric));
	if (rc == SQLITE_OK)
	{
		sql = sqlite3_mprintf("CREATE VIRTUAL TABLE main.%s USING frt_gallery(dim=%d, metric=%s)",
							  FRT_SQ_FACE_TABLE, dim, FrtSqMetricName(metric));
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
		sqlite3_free(sql);
	}
	if (rc != SQLITE_OK)
	{
		FrtSqOpError(op, rc);
		return false;
	}
	FrtSqJsonStr(&j, "op", "INSERT");
	FrtSqJsonStr(&j, "key", device);
	FrtSqJsonStr(&j, "table", "device");
	FrtSqJsonInt(&j, "dim", dim);
	FrtSqJsonStr(&j, "metric", FrtSqMetricName(metric));
	FrtSqJsonStr(&j, "processor", processor);
	detail = FrtSqJsonFinish(&j);
	rc = FrtSqAuditAppend(db, "registry", "insert", NULL, NULL, NULL, detail, NULL, seq);
	sqlite3_free(detail);
	if (rc != SQLITE_OK)
	{
		FrtSqOpError(op, rc);
		return false;
	}
	return true;
}

/*
 * frt_device_init(device, processor, dim [, metric]): the device schema,
 * once per database file; returns the seq of its audit record.
 */
static void
FrtSqDeviceInitFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	FrtSqGov   *gov = sqlite3_user_data(ctx);
	const char *device = (const char *) sqlite3_value_text(argv[0]);
	const char *processor = (const char *) sqlite3_value_text(argv[1]);
	const char *mname = argc > 3 ? (const char *) sqlite3_value_text(argv[3]) : NULL;
	int			dim = sqlite3_value_int(argv[2]);
	int			metric;
	int64_t		seq = 0;
	FrtSqOp		op;

	/* no trail yet: bad input is an error only */
	if (device == NULL || processor == NULL || *device == '\0' || *processor == '\0')
	{
		sqlite3_result_error(ctx, "22004: device and processor must be non-empty text", -1);
		return;
	}
	if (sqlite3_value_type(argv[2]) != SQLITE_INTEGER || dim < FRT_MIN_DIM || dim > FRT_MAX_DIM)
	{
		sqlite3_result_error(ctx, "22023: dim must be an integer from 1 to 4096", -1);
		return;
	}
	if ((argc > 3 && mname == NULL) ||
		(metric = (mname == NULL ? FRT_METRIC_COSINE : FrtSqMetricFromName(mname))) == 0)
	{
		sqlite3_result_error(ctx, "22023: metric must be 'cosine', 'l2' or 'ip'", -1);
		return;
	}
	if (!FrtSqOpStart(&op, gov, ctx, "frt_device_init", NULL, NULL))
		return;
	if (FrtSqDeviceExists(gov->db))
	{
		FrtSqOpReject(&op, "55000", "the device is already initialized");
		return;
	}
	if (!FrtSqDeviceCreate(&op, device, processor, dim, metric, &seq))
		return;
	if (FrtSqOpFinish(&op))
		sqlite3_result_int64(ctx, seq);
}

/*
 * Load governance into a connection: defensive mode, the erasure policy,
 * the authorizer, the SQL functions and the gallery guard.  A trigger on a
 * governance table (planted by a connection without the extension) does
 * not stop the load: every governed call refuses until it is dropped.
 */
int
FrtSqGovRegister(sqlite3 *db, char **errmsg)
{
	FrtSqGov   *gov = calloc(1, sizeof(FrtSqGov));
	int			rc;

	if (gov == NULL)
		return SQLITE_NOMEM;
	gov->db = db;
	pthread_mutex_lock(&frt_sq_govs_lock);
	gov->next = frt_sq_govs;
	frt_sq_govs = gov;
	pthread_mutex_unlock(&frt_sq_govs_lock);
	/* the state lives as long as this function (freed with the connection) */
	rc = sqlite3_create_function_v2(db, "frt_device_init", 3, SQLITE_UTF8 | SQLITE_DIRECTONLY, gov,
									FrtSqDeviceInitFunc, NULL, NULL, FrtSqGovFree);
	if (rc != SQLITE_OK)
	{
		FrtSqGovFree(gov);
		return rc;
	}
	rc = sqlite3_create_function(db, "frt_device_init", 4, SQLITE_UTF8 | SQLITE_DIRECTONLY, gov,
								 FrtSqDeviceInitFunc, NULL, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	if (rc == SQLITE_OK)
		rc = FrtSqEraseInit(db, gov, errmsg);
	if (rc == SQLITE_OK)
		rc = sqlite3_set_authorizer(db, FrtSqAuthorize, gov);
	if (rc == SQLITE_OK)
		rc = FrtSqAuditRegister(db, gov);
	if (rc == SQLITE_OK)
		rc = FrtSqConsentRegister(db, gov);
	if (rc == SQLITE_OK)
		rc = FrtSqMatchRegister(db, gov);
	if (rc == SQLITE_OK)
		rc = FrtSqEraseRegister(db, gov);
	return rc;
}

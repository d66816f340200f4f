/*-------------------------------------------------------------------------
 *
 * sq_gallery.c
 *	  The gallery module of the SQLite edition: its registration on a
 *	  connection, the per-connection state (the guard and the connected
 *	  frt_gallery tables) and 1:1 verification, frt_gallery_verify.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "sq_gallery.h"

/* Every connection the gallery is registered on (guarded by the static mutex). */
static FrtSqGalleryConn *gallery_conns = NULL;

/* The mutex that guards gallery_conns. */
static sqlite3_mutex *
GalleryMutex(void)
{
	return sqlite3_mutex_alloc(SQLITE_MUTEX_STATIC_APP1);
}

/* The gallery state of a connection, or NULL if the gallery is not registered. */
FrtSqGalleryConn *
FrtSqGalleryConnOf(sqlite3 *db)
{
	sqlite3_mutex *m = GalleryMutex();
	FrtSqGalleryConn *c;

	sqlite3_mutex_enter(m);
	for (c = gallery_conns; c != NULL && c->db != db; c = c->next)
		;
	sqlite3_mutex_leave(m);
	return c;
}

/* Whether the gallery is running its own statements on db. */
bool
FrtSqGalleryInside(sqlite3 *db)
{
	FrtSqGalleryConn *c = FrtSqGalleryConnOf(db);

	return c != NULL && c->inside > 0;
}

/* Release one registration's hold on a connection's state (module destructor). */
static void
GalleryConnRelease(void *arg)
{
	FrtSqGalleryConn *conn = arg;
	sqlite3_mutex *m = GalleryMutex();

	sqlite3_mutex_enter(m);
	if (--conn->refs == 0)
	{
		FrtSqGalleryConn **pp;

		for (pp = &gallery_conns; *pp != NULL && *pp != conn; pp = &(*pp)->next)
			;
		if (*pp != NULL)
			*pp = conn->next;
		sqlite3_free(conn);
	}
	sqlite3_mutex_leave(m);
}

/* The state of a connection, created on its first registration; NULL: no memory. */
static FrtSqGalleryConn *
GalleryConnHold(sqlite3 *db)
{
	sqlite3_mutex *m = GalleryMutex();
	FrtSqGalleryConn *c;

	sqlite3_mutex_enter(m);
	for (c = gallery_conns; c != NULL && c->db != db; c = c->next)
		;
	if (c == NULL && (c = sqlite3_malloc(sizeof(*c))) != NULL)
	{
		memset(c, 0, sizeof(*c));
		c->db = db;
		c->next = gallery_conns;
		gallery_conns = c;
	}
	if (c != NULL)
		c->refs++;
	sqlite3_mutex_leave(m);
	return c;
}

/* Set (or, with NULL, remove) the guard of a connection's galleries. */
void
FrtSqGallerySetGuard(sqlite3 *db, FrtSqGalleryGuard guard, void *arg)
{
	FrtSqGalleryConn *conn = FrtSqGalleryConnOf(db);

	if (conn == NULL)
		return;
	conn->guard = guard;
	conn->guard_arg = arg;
}

/* Call the connection's guard; SQLITE_OK when none is set. */
int
FrtSqGalleryCallGuard(sqlite3 *db, const FrtSqGalleryEvent *ev, char **errmsg)
{
	FrtSqGalleryConn *conn = FrtSqGalleryConnOf(db);
	int			rc;

	*errmsg = NULL;
	if (conn == NULL || conn->guard == NULL)
		return SQLITE_OK;
	rc = conn->guard(conn->guard_arg, db, ev, errmsg);
	if (rc != SQLITE_OK && *errmsg == NULL)
		*errmsg = sqlite3_mprintf("refused by the gallery's guard");
	return rc;
}

/* A connected frt_gallery table of the main schema by name, or NULL. */
FrtSqGalleryVtab *
FrtSqGalleryFind(FrtSqGalleryConn *conn, const char *name)
{
	for (FrtSqGalleryVtab *vt = conn->tables; vt != NULL; vt = vt->next)
		if (sqlite3_stricmp(vt->name, name) == 0 && strcmp(vt->schema, "main") == 0)
			return vt;
	return NULL;
}

/*
 * The frt_gallery table a function names: connected already, or connected
 * now by preparing a statement on it (a table of another module stays
 * unfound).
 */
static FrtSqGalleryVtab *
GalleryTableArg(sqlite3_context *ctx, FrtSqGalleryConn *conn, sqlite3_value *v)
{
	const char *name = (const char *) sqlite3_value_text(v);
	FrtSqGalleryVtab *vt;

	if (name == NULL)
		return NULL;
	if ((vt = FrtSqGalleryFind(conn, name)) == NULL)
	{
		char	   *sql = sqlite3_mprintf("SELECT 1 FROM \"main\".\"%w\" WHERE 0", name);
		sqlite3_stmt *st = NULL;

		if (sql != NULL)
			sqlite3_prepare_v2(sqlite3_context_db_handle(ctx), sql, -1, &st, NULL);
		sqlite3_finalize(st);
		sqlite3_free(sql);
		vt = FrtSqGalleryFind(conn, name);
	}
	return vt;
}

/* Report an error from a function and free the message. */
static void
GalleryFail(sqlite3_context *ctx, int rc, char *msg)
{
	if (rc == SQLITE_NOMEM)
		sqlite3_result_error_nomem(ctx);
	else
	{
		sqlite3_result_error(ctx, msg ? msg : sqlite3_errstr(rc), -1);
		sqlite3_result_error_code(ctx, rc == SQLITE_OK || rc == SQLITE_DONE ? SQLITE_ERROR : rc);
	}
	sqlite3_free(msg);
}

/*
 * Compare the probe with the faces of the slots: the smallest exact
 * distance into *best (NaN if none), guarded as a query on
 * (subject, purpose).
 */
static int
GalleryVerifySlots(FrtSqGalleryVtab *vt, const char *subject, const char *purpose,
				   const int *slots, int nslots, const float *probe, double *best,
				   char **msg)
{
	FrtSqGalleryEvent ev = {FRT_SQ_OP_QUERY, vt->name, purpose, subject, 0, NAN, 1, NAN};
	float	   *x = sqlite3_malloc64(sizeof(float) * vt->dim);
	int			rc;

	*best = NAN;
	if (x == NULL)
		return SQLITE_NOMEM;
	rc = FrtSqGalleryCallGuard(vt->db, &ev, msg);
	for (int i = 0; i < nslots && rc == SQLITE_OK; i++)
	{
		double		d;

		if ((rc = FrtSqStoreReadVector(vt, slots[i], x)) != SQLITE_OK)
			break;
		d = FrtDistance(x, probe, vt->dim, vt->metric);
		if (!isnan(d) && (isnan(*best) || d < *best))
			*best = d;
	}
	FrtSqStoreRelease(vt);
	FrtSqWipe(x, sizeof(float) * vt->dim);
	sqlite3_free(x);
	if (rc == SQLITE_OK)
	{
		ev.op = FRT_SQ_OP_QUERY_DONE;
		ev.nrows = isnan(*best) ? 0 : 1;
		ev.best = *best;
		rc = FrtSqGalleryCallGuard(vt->db, &ev, msg);
	}
	return rc;
}

/* The slots of a subject's faces for a purpose (at most max). */
static int
GallerySubjectSlots(FrtSqGalleryVtab *vt, const char *subject, const char *purpose,
					int **slots, int *n)
{
	sqlite3_stmt *st;
	int			cap = 0,
				rc = FrtSqStoreStmt(vt, FRT_SQ_STMT_ROWS_SUBJECT, &st);

	*slots = NULL;
	*n = 0;
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, purpose, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
	{
		if (*n == cap)
		{
			int		   *p = sqlite3_realloc64(*slots, sizeof(int) * (cap = cap ? cap * 2 : 4));

			if (p == NULL)
			{
				rc = SQLITE_NOMEM;
				break;
			}
			*slots = p;
		}
		(*slots)[(*n)++] = sqlite3_column_int(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/*
 * frt_gallery_verify(table, rowid, probe) or (table, subject, purpose,
 * probe): the exact distance of the probe to a stored face (the nearest of
 * the subject's faces for the purpose), NULL when there is none; the
 * stored vector never leaves the extension.
 */
static void
GalleryVerifyFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	FrtSqGalleryConn *conn = sqlite3_user_data(ctx);
	FrtSqGalleryVtab *vt;
	float		probe[FRT_MAX_DIM];
	int			dim = 0,
				nslots = 0,
				one = 0,
				rc;
	int		   *slots = NULL;
	char	   *subject = NULL,
			   *purpose = NULL,
			   *msg = NULL;
	double		best;

	for (int i = 0; i < argc; i++)
		if (sqlite3_value_type(argv[i]) == SQLITE_NULL)
			return;
	if ((vt = GalleryTableArg(ctx, conn, argv[0])) == NULL)
	{
		GalleryFail(ctx, SQLITE_ERROR,
					sqlite3_mprintf("frt_gallery_verify: no frt_gallery table of that name"));
		return;
	}
	rc = FrtSqEmbFromValue(argv[argc - 1], probe, &dim, &msg);
	if (rc == SQLITE_OK && dim != vt->dim)
	{
		rc = SQLITE_ERROR;
		msg = sqlite3_mprintf("expected %d dimensions, not %d", vt->dim, dim);
	}
	if (rc != SQLITE_OK)
	{
		char	   *m = sqlite3_mprintf("frt_gallery_verify: probe: %s", msg ? msg : "invalid");

		sqlite3_free(msg);
		GalleryFail(ctx, rc, m);
		FrtSqWipe(probe, sizeof(float) * dim);
		return;
	}
	conn->inside++;
	if ((rc = FrtSqStoreReady(vt)) != SQLITE_OK)
		;
	else if (argc == 3)
	{
		rc = FrtSqStoreRowGet(vt, sqlite3_value_int64(argv[1]), &subject, &purpose, &one);
		slots = &one;
		nslots = (rc == SQLITE_OK);
	}
	else
	{
		subject = sqlite3_mprintf("%s", sqlite3_value_text(argv[1]));
		purpose = sqlite3_mprintf("%s", sqlite3_value_text(argv[2]));
		rc = (subject && purpose) ? GallerySubjectSlots(vt, subject, purpose, &slots, &nslots)
			: SQLITE_NOMEM;
	}
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
	if (rc == SQLITE_OK)
		rc = GalleryVerifySlots(vt, subject, purpose, slots, nslots, probe, &best, &msg);
	conn->inside--;
	if (rc != SQLITE_OK)
		GalleryFail(ctx, rc, msg);
	else if (!isnan(best))
		sqlite3_result_double(ctx, best);
	FrtSqWipe(probe, sizeof(float) * dim);
	if (slots != &one)
		sqlite3_free(slots);
	sqlite3_free(subject);
	sqlite3_free(purpose);
}

/* Register the gallery on a connection: its functions and the frt_gallery module. */
int
FrtSqGalleryRegister(sqlite3 *db, char **errmsg)
{
	FrtSqGalleryConn *conn = GalleryConnHold(db);
	int			rc;

	if (conn == NULL)
		return SQLITE_NOMEM;
	/* the destructor releases the hold, also when this call fails */
	rc = sqlite3_create_module_v2(db, "frt_gallery", FrtSqGalleryModule(), conn,
								  GalleryConnRelease);
	if (rc == SQLITE_OK)
		FrtSqEmbRegisterFunctions(db, &rc);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function_v2(db, "frt_gallery_verify", 3, SQLITE_UTF8, conn,
										GalleryVerifyFunc, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function_v2(db, "frt_gallery_verify", 4, SQLITE_UTF8, conn,
										GalleryVerifyFunc, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		*errmsg = sqlite3_mprintf("frt gallery: registration failed: %s", sqlite3_errstr(rc));
	return rc;
}

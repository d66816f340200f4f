/*-------------------------------------------------------------------------
 *
 * sq_gallery_vtab.c
 *	  The frt_gallery virtual table:
 *	    CREATE VIRTUAL TABLE g USING frt_gallery(dim=512, metric=cosine);
 *	  columns subject, purpose, embedding and the hidden query columns
 *	  distance, k, mode, max_distance.  A 1:N query:
 *	    SELECT rowid, subject, distance FROM g
 *	     WHERE embedding MATCH :probe AND k = 10 [AND purpose = :p]
 *	       [AND mode = 'exact'] [AND max_distance = 0.4];
 *	  rows come ordered by (distance, rowid).  Other plans: rowid = ?,
 *	  subject = ? [AND purpose = ?], and a full scan.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sq_gallery.h"
#include "frt_embtext.h"

/* Columns, in the declared order. */
#define COL_SUBJECT			0
#define COL_PURPOSE			1
#define COL_EMBEDDING		2
#define COL_DISTANCE		3
#define COL_K				4
#define COL_MODE			5
#define COL_MAXDIST			6

/* idxNum bits: the plan and the constraints it received, in argv order. */
#define PLAN_KNN			0x01	/* argv: probe */
#define PLAN_HAS_K			0x02	/* k */
#define PLAN_HAS_PURPOSE	0x04	/* purpose (KNN and SUBJECT plans) */
#define PLAN_HAS_MODE		0x08	/* mode */
#define PLAN_HAS_MAXDIST	0x10	/* max_distance */
#define PLAN_ROWID			0x20	/* argv: rowid */
#define PLAN_SUBJECT		0x40	/* argv: subject [, purpose] */

static const char gallery_decl[] =
"CREATE TABLE x(subject TEXT, purpose TEXT, embedding BLOB, distance REAL HIDDEN, "
"k INTEGER HIDDEN, mode TEXT HIDDEN, max_distance REAL HIDDEN)";

/* A cursor: the rows of a shadow-table statement, or the hits of a 1:N query. */
typedef struct GalleryCursor
{
	sqlite3_vtab_cursor base;
	bool		knn;
	bool		eof;
	sqlite3_stmt *scan;			/* id, subject, purpose, slot */
	FrtSqHit   *hits;
	int			nhits;
	int			pos;
	int			k;
	int			mode;
	double		maxd;			/* NAN: not given */
	sqlite3_int64 row_of;		/* the hit whose subject and purpose are below */
	char	   *subject;
	char	   *purpose;
} GalleryCursor;

/* Set the table's error message (consumes msg) and return rc. */
static int
VtabError(FrtSqGalleryVtab *vt, int rc, char *msg)
{
	sqlite3_free(vt->base.zErrMsg);
	vt->base.zErrMsg = msg ? msg : sqlite3_mprintf("%s", sqlite3_errstr(rc));
	return rc;
}

/* Trim white space and one pair of quotes around an argument's value. */
static char *
VtabTrim(char *s)
{
	char	   *e;

	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n'))
		*--e = '\0';
	if (e - s >= 2 && (*s == '\'' || *s == '"') && e[-1] == *s)
	{
		e[-1] = '\0';
		s++;
	}
	return s;
}

/* Parse the module arguments dim=N and metric=M. */
static int
VtabParseArgs(int argc, const char *const *argv, int *dim, int *metric, char **err)
{
	*dim = 0;
	*metric = FRT_SQ_DEFAULT_METRIC;
	for (int i = 3; i < argc; i++)
	{
		char	   *arg = sqlite3_mprintf("%s", argv[i]);
		char	   *eq = arg ? strchr(arg, '=') : NULL;
		char	   *key,
				   *val;
		int			ok = 1;

		if (arg == NULL)
			return SQLITE_NOMEM;
		if (eq == NULL)
			ok = 0;
		else
		{
			*eq = '\0';
			key = VtabTrim(arg);
			val = VtabTrim(eq + 1);
			if (sqlite3_stricmp(key, "dim") == 0)
			{
				char	   *end;
				long		d = strtol(val, &end, 10);

				ok = (*val != '\0' && *end == '\0' && d >= FRT_MIN_DIM && d <= FRT_MAX_DIM);
				*dim = (int) d;
			}
			else if (sqlite3_stricmp(key, "metric") == 0)
				ok = (*metric = FrtSqMetricFromName(val)) != 0;
			else
				ok = 0;
		}
		sqlite3_free(arg);
		if (!ok)
		{
			*err = sqlite3_mprintf("frt_gallery: argument %d: expected dim=N (%d..%d) or "
								   "metric=cosine|l2|ip", i - 2, FRT_MIN_DIM, FRT_MAX_DIM);
			return SQLITE_ERROR;
		}
	}
	if (*dim == 0)
	{
		*err = sqlite3_mprintf("frt_gallery: dim=N is required");
		return SQLITE_ERROR;
	}
	return SQLITE_OK;
}

/* Free a table's connection state (statements, read handle, cache). */
static void
VtabFree(FrtSqGalleryVtab *vt)
{
	FrtSqGalleryVtab **pp;

	for (pp = &vt->conn->tables; *pp != NULL && *pp != vt; pp = &(*pp)->next)
		;
	if (*pp != NULL)
		*pp = vt->next;
	FrtSqStoreRelease(vt);
	for (int i = 0; i < FRT_SQ_STMT__COUNT; i++)
		sqlite3_finalize(vt->stmts[i]);
	FrtSqCacheFree(&vt->cache, vt->dim);
	sqlite3_free(vt->schema);
	sqlite3_free(vt->name);
	sqlite3_free(vt->chunks);
	sqlite3_free(vt);
}

/* xCreate and xConnect: declare the table, create the shadow tables if new. */
static int
VtabInit(sqlite3 *db, void *aux, int argc, const char *const *argv,
		 sqlite3_vtab **out, char **err, bool create)
{
	FrtSqGalleryConn *conn = aux;
	FrtSqGalleryVtab *vt;
	int			dim,
				metric,
				rc;

	if ((rc = VtabParseArgs(argc, argv, &dim, &metric, err)) != SQLITE_OK)
		return rc;
	if ((rc = sqlite3_declare_vtab(db, gallery_decl)) != SQLITE_OK)
		return rc;
	if ((vt = sqlite3_malloc(sizeof(*vt))) == NULL)
		return SQLITE_NOMEM;
	memset(vt, 0, sizeof(*vt));
	vt->db = db;
	vt->conn = conn;
	vt->dim = dim;
	vt->metric = metric;
	vt->rblob_chunk = -1;
	vt->schema = sqlite3_mprintf("%s", argv[1]);
	vt->name = sqlite3_mprintf("%s", argv[2]);
	vt->chunks = sqlite3_mprintf("%s_chunks", argv[2]);
	vt->next = conn->tables;
	conn->tables = vt;
	if (!vt->schema || !vt->name || !vt->chunks)
		rc = SQLITE_NOMEM;
	else if (create)
		rc = FrtSqStoreCreate(db, vt->schema, vt->name, err);
	if (rc != SQLITE_OK)
	{
		VtabFree(vt);
		return rc;
	}
	*out = &vt->base;
	return SQLITE_OK;
}

/* xCreate. */
static int
VtabCreate(sqlite3 *db, void *aux, int argc, const char *const *argv,
		   sqlite3_vtab **out, char **err)
{
	return VtabInit(db, aux, argc, argv, out, err, true);
}

/* xConnect. */
static int
VtabConnect(sqlite3 *db, void *aux, int argc, const char *const *argv,
			sqlite3_vtab **out, char **err)
{
	return VtabInit(db, aux, argc, argv, out, err, false);
}

/* xDisconnect. */
static int
VtabDisconnect(sqlite3_vtab *base)
{
	VtabFree((FrtSqGalleryVtab *) base);
	return SQLITE_OK;
}

/* xDestroy: drop the shadow tables too. */
static int
VtabDestroy(sqlite3_vtab *base)
{
	FrtSqGalleryVtab *vt = (FrtSqGalleryVtab *) base;
	int			rc;

	FrtSqStoreRelease(vt);
	for (int i = 0; i < FRT_SQ_STMT__COUNT; i++)
	{
		sqlite3_finalize(vt->stmts[i]);
		vt->stmts[i] = NULL;
	}
	rc = FrtSqStoreDrop(vt->db, vt->schema, vt->name);
	if (rc == SQLITE_OK)
		VtabFree(vt);
	return rc;
}

/* Does the query have embedding MATCH, usable in this plan or not? */
static bool
VtabHasMatch(const sqlite3_index_info *info)
{
	for (int i = 0; i < info->nConstraint; i++)
		if (info->aConstraint[i].op == SQLITE_INDEX_CONSTRAINT_MATCH &&
			info->aConstraint[i].iColumn == COL_EMBEDDING)
			return true;
	return false;
}

/*
 * xBestIndex: a 1:N query when embedding MATCH is usable (taking k,
 * purpose, mode and max_distance equalities with it, and an ORDER BY
 * distance [, rowid]), else rowid = ?, else subject = ? [AND purpose = ?],
 * else a full scan.  A plan in which the probe or another input of a 1:N
 * query is not yet known (a join) is refused, so that the planner puts
 * the tables that provide them first.
 */
static int
VtabBestIndex(sqlite3_vtab *base, sqlite3_index_info *info)
{
	int			match = -1,
				eq[COL_MAXDIST + 1],
				rowid = -1,
				argi = 1;
	bool		knn_unusable = false;

	(void) base;
	for (int c = 0; c <= COL_MAXDIST; c++)
		eq[c] = -1;
	for (int i = 0; i < info->nConstraint; i++)
	{
		const struct sqlite3_index_constraint *c = &info->aConstraint[i];

		if (!c->usable)
		{
			/* a 1:N query's inputs must all be known when it runs */
			if ((c->op == SQLITE_INDEX_CONSTRAINT_MATCH && c->iColumn == COL_EMBEDDING) ||
				(c->op == SQLITE_INDEX_CONSTRAINT_EQ &&
				 (c->iColumn == COL_PURPOSE || c->iColumn >= COL_K)))
				knn_unusable = true;
			continue;
		}
		if (c->op == SQLITE_INDEX_CONSTRAINT_MATCH && c->iColumn == COL_EMBEDDING)
			match = i;
		else if (c->op == SQLITE_INDEX_CONSTRAINT_EQ && c->iColumn < 0)
			rowid = i;
		else if (c->op == SQLITE_INDEX_CONSTRAINT_EQ && c->iColumn <= COL_MAXDIST)
			eq[c->iColumn] = i;
	}
	if (knn_unusable && (match >= 0 || VtabHasMatch(info)))
		return SQLITE_CONSTRAINT;
	if (match >= 0)
	{
		static const int order[] = {COL_K, COL_PURPOSE, COL_MODE, COL_MAXDIST};
		static const int bits[] = {PLAN_HAS_K, PLAN_HAS_PURPOSE, PLAN_HAS_MODE, PLAN_HAS_MAXDIST};

		info->idxNum = PLAN_KNN;
		info->aConstraintUsage[match].argvIndex = argi++;
		info->aConstraintUsage[match].omit = 1;
		for (int j = 0; j < 4; j++)
		{
			if (eq[order[j]] < 0)
				continue;
			info->idxNum |= bits[j];
			info->aConstraintUsage[eq[order[j]]].argvIndex = argi++;
			info->aConstraintUsage[eq[order[j]]].omit = 1;
		}
		if (info->nOrderBy >= 1 && info->aOrderBy[0].iColumn == COL_DISTANCE &&
			!info->aOrderBy[0].desc &&
			(info->nOrderBy == 1 ||
			 (info->nOrderBy == 2 && info->aOrderBy[1].iColumn < 0 && !info->aOrderBy[1].desc)))
			info->orderByConsumed = 1;
		info->estimatedCost = 10.0;
		info->estimatedRows = 10;
	}
	else if (rowid >= 0)
	{
		info->idxNum = PLAN_ROWID;
		info->aConstraintUsage[rowid].argvIndex = 1;
		info->aConstraintUsage[rowid].omit = 1;
		info->idxFlags = SQLITE_INDEX_SCAN_UNIQUE;
		info->estimatedCost = 1.0;
		info->estimatedRows = 1;
	}
	else if (eq[COL_SUBJECT] >= 0)
	{
		info->idxNum = PLAN_SUBJECT;
		info->aConstraintUsage[eq[COL_SUBJECT]].argvIndex = argi++;
		info->aConstraintUsage[eq[COL_SUBJECT]].omit = 1;
		if (eq[COL_PURPOSE] >= 0)
		{
			info->idxNum |= PLAN_HAS_PURPOSE;
			info->aConstraintUsage[eq[COL_PURPOSE]].argvIndex = argi++;
			info->aConstraintUsage[eq[COL_PURPOSE]].omit = 1;
		}
		info->estimatedCost = 20.0;
		info->estimatedRows = 4;
	}
	else
	{
		info->idxNum = 0;
		info->estimatedCost = 1e6;
		info->estimatedRows = 100000;
		if (info->nOrderBy == 1 && info->aOrderBy[0].iColumn < 0 && !info->aOrderBy[0].desc)
			info->orderByConsumed = 1;
	}
	return SQLITE_OK;
}

/* xOpen. */
static int
VtabOpen(sqlite3_vtab *base, sqlite3_vtab_cursor **out)
{
	GalleryCursor *cur = sqlite3_malloc(sizeof(*cur));

	(void) base;
	if (cur == NULL)
		return SQLITE_NOMEM;
	memset(cur, 0, sizeof(*cur));
	cur->eof = true;
	*out = &cur->base;
	return SQLITE_OK;
}

/* Forget what a cursor holds of its last query. */
static void
CursorReset(GalleryCursor *cur)
{
	sqlite3_finalize(cur->scan);
	cur->scan = NULL;
	sqlite3_free(cur->hits);
	cur->hits = NULL;
	cur->nhits = cur->pos = 0;
	sqlite3_free(cur->subject);
	sqlite3_free(cur->purpose);
	cur->subject = cur->purpose = NULL;
	cur->row_of = 0;
	cur->knn = false;
	cur->eof = true;
}

/* xClose. */
static int
VtabClose(sqlite3_vtab_cursor *base)
{
	CursorReset((GalleryCursor *) base);
	sqlite3_free(base);
	return SQLITE_OK;
}

/* A scan over the rows table: all rows, one rowid, or one subject [and purpose]. */
static int
CursorScan(GalleryCursor *cur, FrtSqGalleryVtab *vt, int plan, sqlite3_value **argv)
{
	const char *where = (plan & PLAN_ROWID) ? " WHERE id = ?1" :
		(plan & PLAN_SUBJECT) ? ((plan & PLAN_HAS_PURPOSE) ?
								 " WHERE subject = ?1 AND purpose = ?2" :
								 " WHERE subject = ?1") : "";
	char	   *sql = sqlite3_mprintf("SELECT id, subject, purpose, slot FROM \"%w\".\"%w_rows\"%s ORDER BY id",
									  vt->schema, vt->name, where);
	int			rc;

	if (sql == NULL)
		return SQLITE_NOMEM;
	rc = sqlite3_prepare_v2(vt->db, sql, -1, &cur->scan, NULL);
	sqlite3_free(sql);
	if (rc != SQLITE_OK)
		return VtabError(vt, rc, sqlite3_mprintf("%s", sqlite3_errmsg(vt->db)));
	if (plan & (PLAN_ROWID | PLAN_SUBJECT))
		sqlite3_bind_value(cur->scan, 1, argv[0]);
	if ((plan & PLAN_SUBJECT) && (plan & PLAN_HAS_PURPOSE))
		sqlite3_bind_value(cur->scan, 2, argv[1]);
	rc = sqlite3_step(cur->scan);
	cur->eof = (rc != SQLITE_ROW);
	return (rc == SQLITE_ROW || rc == SQLITE_DONE) ? SQLITE_OK : rc;
}

/* Is x, of dim floats, the zero vector? */
static bool
VtabIsZero(const float *x, int dim)
{
	for (int i = 0; i < dim; i++)
		if (x[i] != 0.0f)
			return false;
	return true;
}

/*
 * Read an embedding argument for the table: the right dimension and, for
 * cosine, not the zero vector (which has no cosine distance); what says
 * which argument it is.
 */
static int
VtabEmbedding(FrtSqGalleryVtab *vt, sqlite3_value *v, float *x, const char *what)
{
	char	   *why = NULL;
	int			dim = 0;
	int			rc = FrtSqEmbFromValue(v, x, &dim, &why);

	if (rc == SQLITE_OK && dim != vt->dim)
	{
		rc = SQLITE_ERROR;
		why = sqlite3_mprintf("expected %d dimensions, not %d", vt->dim, dim);
	}
	else if (rc == SQLITE_OK && vt->metric == FRT_METRIC_COSINE && VtabIsZero(x, dim))
	{
		rc = SQLITE_ERROR;
		why = sqlite3_mprintf("the zero vector has no cosine distance");
	}
	if (rc == SQLITE_OK)
		return rc;
	FrtSqWipe(x, sizeof(float) * (dim > 0 ? dim : 0));
	VtabError(vt, rc, sqlite3_mprintf("frt_gallery: %s: %s", what, why ? why : "invalid"));
	sqlite3_free(why);
	return rc;
}

/* Read the arguments of a 1:N query other than the probe into the cursor. */
static int
CursorKnnArgs(GalleryCursor *cur, FrtSqGalleryVtab *vt, int plan, sqlite3_value **argv,
			  sqlite3_value **purpose, bool *empty)
{
	int			a = 1;

	*purpose = NULL;
	*empty = false;
	cur->mode = FRT_SQ_MODE_DEFAULT;
	cur->maxd = NAN;
	if (!(plan & PLAN_HAS_K))
		return VtabError(vt, SQLITE_ERROR,
						 sqlite3_mprintf("frt_gallery: a 1:N query needs k = N (1..%d)",
										 FRT_SQ_MAX_K));
	if (sqlite3_value_type(argv[a]) != SQLITE_INTEGER ||
		sqlite3_value_int64(argv[a]) < 1 || sqlite3_value_int64(argv[a]) > FRT_SQ_MAX_K)
		return VtabError(vt, SQLITE_ERROR,
						 sqlite3_mprintf("frt_gallery: k must be an integer from 1 to %d",
										 FRT_SQ_MAX_K));
	cur->k = sqlite3_value_int(argv[a++]);
	if (plan & PLAN_HAS_PURPOSE)
	{
		*purpose = argv[a++];
		*empty |= sqlite3_value_type(*purpose) == SQLITE_NULL;
	}
	if (plan & PLAN_HAS_MODE)
	{
		const char *m = (const char *) sqlite3_value_text(argv[a++]);

		if (m != NULL && sqlite3_stricmp(m, "exact") == 0)
			cur->mode = FRT_SQ_MODE_EXACT;
		else if (m == NULL || sqlite3_stricmp(m, "default") != 0)
			return VtabError(vt, SQLITE_ERROR,
							 sqlite3_mprintf("frt_gallery: mode must be 'exact' or 'default'"));
	}
	if (plan & PLAN_HAS_MAXDIST)
	{
		int			t = sqlite3_value_numeric_type(argv[a]);

		if (t == SQLITE_NULL)
			*empty = true;
		else if (t != SQLITE_INTEGER && t != SQLITE_FLOAT)
			return VtabError(vt, SQLITE_ERROR,
							 sqlite3_mprintf("frt_gallery: max_distance must be a number"));
		else
			cur->maxd = sqlite3_value_double(argv[a]);
		a++;
	}
	return SQLITE_OK;
}

/*
 * A 1:N query: validate, ask the guard, bring the cache up to date, search
 * it, and tell the guard what was found before any row is returned.
 */
static int
CursorKnn(GalleryCursor *cur, FrtSqGalleryVtab *vt, int plan, sqlite3_value **argv)
{
	float	   *probe = sqlite3_malloc64(sizeof(float) * FRT_MAX_DIM);
	sqlite3_value *pv;
	const char *purpose = NULL;
	FrtSqGalleryEvent ev = {FRT_SQ_OP_QUERY, vt->name, NULL, NULL, 0, NAN, 0, NAN};
	char	   *msg = NULL;
	bool		empty;
	int			rc,
				pid = -2;

	cur->knn = true;
	if (probe == NULL)
		return SQLITE_NOMEM;
	if ((rc = CursorKnnArgs(cur, vt, plan, argv, &pv, &empty)) != SQLITE_OK ||
		(rc = VtabEmbedding(vt, argv[0], probe, "probe")) != SQLITE_OK || empty)
	{
		sqlite3_free(probe);
		return rc;
	}
	if (pv != NULL)
		purpose = (const char *) sqlite3_value_text(pv);
	ev.purpose = purpose;
	ev.k = cur->k;
	ev.max_distance = cur->maxd;
	if ((rc = FrtSqGalleryCallGuard(vt->db, &ev, &msg)) != SQLITE_OK)
		VtabError(vt, rc, msg);
	else if ((rc = FrtSqCacheFresh(vt)) != SQLITE_OK)
		VtabError(vt, rc, NULL);
	else
	{
		if (purpose != NULL)
			pid = FrtSqCachePurposeId(&vt->cache, purpose);
		if (pid != -1)
			rc = FrtSqCacheSearch(vt, probe, pid, cur->k, cur->mode,
								  isnan(cur->maxd) ? INFINITY : cur->maxd,
								  &cur->hits, &cur->nhits);
		if (rc != SQLITE_OK)
			VtabError(vt, rc, NULL);
		else
		{
			ev.op = FRT_SQ_OP_QUERY_DONE;
			ev.nrows = cur->nhits;
			ev.best = cur->nhits > 0 ? cur->hits[0].dist : NAN;
			if ((rc = FrtSqGalleryCallGuard(vt->db, &ev, &msg)) != SQLITE_OK)
				VtabError(vt, rc, msg);
		}
	}
	FrtSqWipe(probe, sizeof(float) * vt->dim);
	sqlite3_free(probe);
	if (rc != SQLITE_OK)
		CursorReset(cur);
	else
		cur->eof = (cur->nhits == 0);
	return rc;
}

/* xFilter. */
static int
VtabFilter(sqlite3_vtab_cursor *base, int idxNum, const char *idxStr, int argc,
		   sqlite3_value **argv)
{
	GalleryCursor *cur = (GalleryCursor *) base;
	FrtSqGalleryVtab *vt = (FrtSqGalleryVtab *) base->pVtab;
	int			rc;

	(void) idxStr;
	(void) argc;
	CursorReset(cur);
	if ((rc = FrtSqStoreReady(vt)) != SQLITE_OK)
		return VtabError(vt, rc, NULL);
	if (idxNum & PLAN_KNN)
		return CursorKnn(cur, vt, idxNum, argv);
	return CursorScan(cur, vt, idxNum, argv);
}

/* xNext. */
static int
VtabNext(sqlite3_vtab_cursor *base)
{
	GalleryCursor *cur = (GalleryCursor *) base;
	int			rc;

	if (cur->knn)
	{
		cur->eof = (++cur->pos >= cur->nhits);
		return SQLITE_OK;
	}
	rc = sqlite3_step(cur->scan);
	cur->eof = (rc != SQLITE_ROW);
	return (rc == SQLITE_ROW || rc == SQLITE_DONE) ? SQLITE_OK : rc;
}

/* xEof. */
static int
VtabEof(sqlite3_vtab_cursor *base)
{
	return ((GalleryCursor *) base)->eof;
}

/* xRowid. */
static int
VtabRowid(sqlite3_vtab_cursor *base, sqlite3_int64 *rowid)
{
	GalleryCursor *cur = (GalleryCursor *) base;

	*rowid = cur->knn ? cur->hits[cur->pos].rowid : sqlite3_column_int64(cur->scan, 0);
	return SQLITE_OK;
}

/* The subject, purpose and slot of the cursor's row. */
static int
CursorRow(GalleryCursor *cur, FrtSqGalleryVtab *vt, const char **subject,
		  const char **purpose, int *slot)
{
	if (!cur->knn)
	{
		*subject = (const char *) sqlite3_column_text(cur->scan, 1);
		*purpose = (const char *) sqlite3_column_text(cur->scan, 2);
		*slot = sqlite3_column_int(cur->scan, 3);
		return SQLITE_OK;
	}
	*slot = cur->hits[cur->pos].slot;
	if (cur->subject == NULL || cur->row_of != cur->hits[cur->pos].rowid)
	{
		int			s;
		int			rc;

		sqlite3_free(cur->subject);
		sqlite3_free(cur->purpose);
		cur->subject = cur->purpose = NULL;
		rc = FrtSqStoreRowGet(vt, cur->hits[cur->pos].rowid, &cur->subject, &cur->purpose, &s);
		if (rc != SQLITE_OK)
			return rc == SQLITE_DONE ? SQLITE_CORRUPT_VTAB : rc;
		cur->row_of = cur->hits[cur->pos].rowid;
	}
	*subject = cur->subject;
	*purpose = cur->purpose;
	return SQLITE_OK;
}

/* The embedding column: the guard is asked first; the BLOB form is returned. */
static int
CursorEmbedding(GalleryCursor *cur, FrtSqGalleryVtab *vt, sqlite3_context *ctx,
				const char *subject, const char *purpose, int slot)
{
	FrtSqGalleryEvent ev = {FRT_SQ_OP_READ_VECTOR, vt->name, purpose, subject, 0, NAN, 0, NAN};
	char	   *msg = NULL;
	float	   *x;
	unsigned char *blob;
	int			rc;

	(void) cur;
	if ((rc = FrtSqGalleryCallGuard(vt->db, &ev, &msg)) != SQLITE_OK)
	{
		sqlite3_result_error(ctx, msg, -1);
		sqlite3_free(msg);
		return rc;
	}
	x = sqlite3_malloc64(sizeof(float) * vt->dim);
	blob = sqlite3_malloc64(FRT_EMBBLOB_SIZE(vt->dim));
	if (x == NULL || blob == NULL)
		rc = SQLITE_NOMEM;
	else
		rc = FrtSqStoreReadVector(vt, slot, x);
	FrtSqStoreRelease(vt);
	if (rc == SQLITE_OK)
	{
		FrtEmbEncodeBlob(x, vt->dim, blob);
		sqlite3_result_blob64(ctx, blob, FRT_EMBBLOB_SIZE(vt->dim), sqlite3_free);
		blob = NULL;
	}
	if (x != NULL)
		FrtSqWipe(x, sizeof(float) * vt->dim);
	sqlite3_free(x);
	sqlite3_free(blob);
	return rc;
}

/* xColumn. */
static int
VtabColumn(sqlite3_vtab_cursor *base, sqlite3_context *ctx, int col)
{
	GalleryCursor *cur = (GalleryCursor *) base;
	FrtSqGalleryVtab *vt = (FrtSqGalleryVtab *) base->pVtab;
	const char *subject,
			   *purpose;
	int			slot,
				rc;

	switch (col)
	{
		case COL_DISTANCE:
			if (cur->knn)
				sqlite3_result_double(ctx, cur->hits[cur->pos].dist);
			return SQLITE_OK;
		case COL_K:
			if (cur->knn)
				sqlite3_result_int(ctx, cur->k);
			return SQLITE_OK;
		case COL_MODE:
			if (cur->knn)
				sqlite3_result_text(ctx, cur->mode == FRT_SQ_MODE_EXACT ? "exact" : "default",
									-1, SQLITE_STATIC);
			return SQLITE_OK;
		case COL_MAXDIST:
			if (cur->knn && !isnan(cur->maxd))
				sqlite3_result_double(ctx, cur->maxd);
			return SQLITE_OK;
		case COL_EMBEDDING:
			if (sqlite3_vtab_nochange(ctx))
				return SQLITE_OK;	/* an UPDATE that leaves it as it is */
			break;
		default:
			break;
	}
	if ((rc = CursorRow(cur, vt, &subject, &purpose, &slot)) != SQLITE_OK)
		return rc;
	if (col == COL_SUBJECT)
		sqlite3_result_text(ctx, subject, -1, SQLITE_TRANSIENT);
	else if (col == COL_PURPOSE)
		sqlite3_result_text(ctx, purpose, -1, SQLITE_TRANSIENT);
	else
		return CursorEmbedding(cur, vt, ctx, subject, purpose, slot);
	return SQLITE_OK;
}

/* Refuse a write with a message. */
static int
UpdateRefuse(FrtSqGalleryVtab *vt, int rc, const char *what)
{
	return VtabError(vt, rc, sqlite3_mprintf("frt_gallery: %s", what));
}

/* Before a write: drop a cache that another connection's write made stale. */
static int
UpdateBegin(FrtSqGalleryVtab *vt)
{
	sqlite3_int64 gen;
	int			rc = FrtSqStoreReady(vt);

	if (rc == SQLITE_OK)
		rc = FrtSqStoreGeneration(vt, &gen);
	if (rc == SQLITE_OK && vt->cache.loaded && vt->cache.generation != gen)
		FrtSqCacheInvalidate(vt);
	return rc;
}

/* After a write: a new generation, which a loaded cache now matches. */
static int
UpdateEnd(FrtSqGalleryVtab *vt)
{
	sqlite3_int64 gen;
	int			rc = FrtSqStoreBump(vt, &gen);

	if (rc == SQLITE_OK && vt->cache.loaded)
		vt->cache.generation = gen;
	else if (rc != SQLITE_OK)
		FrtSqCacheInvalidate(vt);
	return rc;
}

/* Ask the guard about a write to a row of (subject, purpose). */
static int
UpdateGuard(FrtSqGalleryVtab *vt, FrtSqGalleryOp op, const char *subject, const char *purpose)
{
	FrtSqGalleryEvent ev = {op, vt->name, purpose, subject, 0, NAN, 0, NAN};
	char	   *msg = NULL;
	int			rc = FrtSqGalleryCallGuard(vt->db, &ev, &msg);

	if (rc != SQLITE_OK)
		VtabError(vt, rc, msg);
	return rc;
}

/* DELETE: zero the vector in its chunk, free the slot, forget it in the cache. */
static int
UpdateDelete(FrtSqGalleryVtab *vt, sqlite3_int64 rowid)
{
	char	   *subject = NULL,
			   *purpose = NULL;
	sqlite3_stmt *st;
	int			slot,
				rc = FrtSqStoreRowGet(vt, rowid, &subject, &purpose, &slot);

	if (rc == SQLITE_OK)
		rc = UpdateGuard(vt, FRT_SQ_OP_DELETE, subject, purpose);
	if (rc == SQLITE_OK)
		rc = UpdateBegin(vt);
	if (rc == SQLITE_OK)
		rc = FrtSqStoreFreeSlot(vt, slot);
	if (rc == SQLITE_OK && (rc = FrtSqStoreStmt(vt, FRT_SQ_STMT_ROW_DEL, &st)) == SQLITE_OK)
	{
		sqlite3_bind_int64(st, 1, rowid);
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(vt->db);
		sqlite3_reset(st);
	}
	if (rc == SQLITE_OK)
	{
		FrtSqCacheClear(vt, slot);
		rc = UpdateEnd(vt);
	}
	sqlite3_free(subject);
	sqlite3_free(purpose);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;	/* no such row: nothing to do */
}

/* Check subject and purpose of a written row: both present. */
static int
UpdateCheckNames(FrtSqGalleryVtab *vt, sqlite3_value **argv)
{
	if (sqlite3_value_type(argv[2 + COL_SUBJECT]) == SQLITE_NULL ||
		sqlite3_value_type(argv[2 + COL_PURPOSE]) == SQLITE_NULL)
		return UpdateRefuse(vt, SQLITE_CONSTRAINT_NOTNULL,
							"subject and purpose must not be NULL");
	return SQLITE_OK;
}

/* INSERT: a slot, the vector in its chunk, the row, the cache. */
static int
UpdateInsert(FrtSqGalleryVtab *vt, sqlite3_value **argv, sqlite3_int64 *rowid, float *x)
{
	const char *subject,
			   *purpose;
	sqlite3_stmt *st;
	int			slot,
				rc;

	for (int c = COL_DISTANCE; c <= COL_MAXDIST; c++)
		if (sqlite3_value_type(argv[2 + c]) != SQLITE_NULL)
			return UpdateRefuse(vt, SQLITE_ERROR,
								"only subject, purpose and embedding can be written");
	if ((rc = UpdateCheckNames(vt, argv)) != SQLITE_OK)
		return rc;
	if (sqlite3_value_type(argv[2 + COL_EMBEDDING]) == SQLITE_NULL)
		return UpdateRefuse(vt, SQLITE_CONSTRAINT_NOTNULL, "embedding must not be NULL");
	if ((rc = VtabEmbedding(vt, argv[2 + COL_EMBEDDING], x, "embedding")) != SQLITE_OK)
		return rc;
	subject = (const char *) sqlite3_value_text(argv[2 + COL_SUBJECT]);
	purpose = (const char *) sqlite3_value_text(argv[2 + COL_PURPOSE]);
	if (subject == NULL || purpose == NULL)
		return SQLITE_NOMEM;
	if ((rc = UpdateGuard(vt, FRT_SQ_OP_INSERT, subject, purpose)) != SQLITE_OK)
		return rc;
	if ((rc = UpdateBegin(vt)) != SQLITE_OK)
		return rc;
	if (sqlite3_value_type(argv[1]) != SQLITE_NULL)
	{
		if (sqlite3_value_type(argv[1]) != SQLITE_INTEGER)
			return UpdateRefuse(vt, SQLITE_MISMATCH, "rowid must be an integer");
		rc = FrtSqStoreRowGet(vt, sqlite3_value_int64(argv[1]), NULL, NULL, &slot);
		if (rc == SQLITE_OK)
			return UpdateRefuse(vt, SQLITE_CONSTRAINT_PRIMARYKEY,
								"UNIQUE constraint failed: rowid");
		if (rc != SQLITE_DONE)
			return rc;
	}
	if ((rc = FrtSqStoreAllocSlot(vt, &slot)) != SQLITE_OK ||
		(rc = FrtSqStoreWriteVector(vt, slot, x)) != SQLITE_OK ||
		(rc = FrtSqStoreStmt(vt, FRT_SQ_STMT_ROW_INS, &st)) != SQLITE_OK)
		return rc;
	sqlite3_bind_value(st, 1, argv[1]);
	sqlite3_bind_text(st, 2, subject, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, purpose, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 4, slot);
	rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(vt->db);
	sqlite3_reset(st);
	if (rc != SQLITE_OK)
		return rc;
	*rowid = sqlite3_last_insert_rowid(vt->db);
	if ((rc = FrtSqCacheSet(vt, slot, *rowid, purpose, x)) != SQLITE_OK)
		FrtSqCacheInvalidate(vt);
	return UpdateEnd(vt);
}

/* UPDATE: new subject or purpose in the row, a new vector over the old one in its slot. */
static int
UpdateUpdate(FrtSqGalleryVtab *vt, sqlite3_value **argv, float *x)
{
	sqlite3_int64 rowid = sqlite3_value_int64(argv[0]);
	bool		newvec = !sqlite3_value_nochange(argv[2 + COL_EMBEDDING]);
	const char *subject,
			   *purpose;
	sqlite3_stmt *st;
	int			slot,
				rc;

	if (sqlite3_value_type(argv[1]) != SQLITE_INTEGER || sqlite3_value_int64(argv[1]) != rowid)
		return UpdateRefuse(vt, SQLITE_CONSTRAINT, "the rowid of a face cannot change");
	if ((rc = UpdateCheckNames(vt, argv)) != SQLITE_OK)
		return rc;
	if (newvec && sqlite3_value_type(argv[2 + COL_EMBEDDING]) == SQLITE_NULL)
		return UpdateRefuse(vt, SQLITE_CONSTRAINT_NOTNULL, "embedding must not be NULL");
	if (newvec && (rc = VtabEmbedding(vt, argv[2 + COL_EMBEDDING], x, "embedding")) != SQLITE_OK)
		return rc;
	subject = (const char *) sqlite3_value_text(argv[2 + COL_SUBJECT]);
	purpose = (const char *) sqlite3_value_text(argv[2 + COL_PURPOSE]);
	if (subject == NULL || purpose == NULL)
		return SQLITE_NOMEM;
	if ((rc = UpdateGuard(vt, FRT_SQ_OP_INSERT, subject, purpose)) != SQLITE_OK ||
		(rc = UpdateBegin(vt)) != SQLITE_OK)
		return rc;
	if ((rc = FrtSqStoreRowGet(vt, rowid, NULL, NULL, &slot)) != SQLITE_OK)
		return rc == SQLITE_DONE ? SQLITE_OK : rc;
	if (newvec && (rc = FrtSqStoreWriteVector(vt, slot, x)) != SQLITE_OK)
		return rc;
	if ((rc = FrtSqStoreStmt(vt, FRT_SQ_STMT_ROW_UPD, &st)) != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, rowid);
	sqlite3_bind_text(st, 2, subject, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, purpose, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(vt->db);
	sqlite3_reset(st);
	if (rc != SQLITE_OK)
		return rc;
	if ((rc = FrtSqCacheSet(vt, slot, rowid, purpose, newvec ? x : NULL)) != SQLITE_OK)
		FrtSqCacheInvalidate(vt);
	return UpdateEnd(vt);
}

/* xUpdate: DELETE, INSERT or UPDATE of one face. */
static int
VtabUpdate(sqlite3_vtab *base, int argc, sqlite3_value **argv, sqlite3_int64 *rowid)
{
	FrtSqGalleryVtab *vt = (FrtSqGalleryVtab *) base;
	float	   *x;
	int			rc;

	if ((rc = FrtSqStoreReady(vt)) != SQLITE_OK)
		return rc;
	if (argc == 1)
		return UpdateDelete(vt, sqlite3_value_int64(argv[0]));
	if ((x = sqlite3_malloc64(sizeof(float) * FRT_MAX_DIM)) == NULL)
		return SQLITE_NOMEM;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
		rc = UpdateInsert(vt, argv, rowid, x);
	else
		rc = UpdateUpdate(vt, argv, x);
	FrtSqWipe(x, sizeof(float) * vt->dim);
	sqlite3_free(x);
	return rc;
}

/* xRename: the shadow tables follow their table. */
static int
VtabRename(sqlite3_vtab *base, const char *name)
{
	FrtSqGalleryVtab *vt = (FrtSqGalleryVtab *) base;
	char	   *n = sqlite3_mprintf("%s", name);
	char	   *c = sqlite3_mprintf("%s_chunks", name);
	int			rc;

	if (n == NULL || c == NULL)
	{
		sqlite3_free(n);
		sqlite3_free(c);
		return SQLITE_NOMEM;
	}
	FrtSqStoreRelease(vt);
	for (int i = 0; i < FRT_SQ_STMT__COUNT; i++)
	{
		sqlite3_finalize(vt->stmts[i]);
		vt->stmts[i] = NULL;
	}
	rc = FrtSqStoreRename(vt->db, vt->schema, vt->name, name);
	if (rc == SQLITE_OK)
	{
		sqlite3_free(vt->name);
		sqlite3_free(vt->chunks);
		vt->name = n;
		vt->chunks = c;
	}
	else
	{
		sqlite3_free(n);
		sqlite3_free(c);
	}
	return rc;
}

/* xShadowName: the shadow tables, read-only to SQL in defensive mode. */
static int
VtabShadowName(const char *suffix)
{
	return FrtSqStoreIsShadow(suffix);
}

/*
 * Every method runs with the connection's gallery "inside", so that the
 * authorizer tells the gallery's own statements on its shadow tables
 * (prepared, re-prepared or stepped here) from SQL reading them.
 */
#define INSIDE_VT(vt, call) \
	do { \
		FrtSqGalleryConn *conn_ = ((FrtSqGalleryVtab *) (vt))->conn; \
		int			rc_; \
		conn_->inside++; \
		rc_ = (call); \
		conn_->inside--; \
		return rc_; \
	} while (0)

/* Run a method that has only the connection (create, connect) inside. */
static int
InsideDb(sqlite3 *db, void *aux, int argc, const char *const *argv,
		 sqlite3_vtab **out, char **err, bool create)
{
	FrtSqGalleryConn *conn = aux;
	int			rc;

	conn->inside++;
	rc = create ? VtabCreate(db, aux, argc, argv, out, err) : VtabConnect(db, aux, argc, argv, out, err);
	conn->inside--;
	return rc;
}

/* xCreate, inside. */
static int
WrapCreate(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out, char **err)
{
	return InsideDb(db, aux, argc, argv, out, err, true);
}

/* xConnect, inside. */
static int
WrapConnect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out, char **err)
{
	return InsideDb(db, aux, argc, argv, out, err, false);
}

/* xDestroy, inside (the table's state is freed by the call). */
static int
WrapDestroy(sqlite3_vtab *base)
{
	FrtSqGalleryConn *conn = ((FrtSqGalleryVtab *) base)->conn;
	int			rc;

	conn->inside++;
	rc = VtabDestroy(base);
	conn->inside--;
	return rc;
}

/* xDisconnect, inside (the table's state is freed by the call). */
static int
WrapDisconnect(sqlite3_vtab *base)
{
	FrtSqGalleryConn *conn = ((FrtSqGalleryVtab *) base)->conn;
	int			rc;

	conn->inside++;
	rc = VtabDisconnect(base);
	conn->inside--;
	return rc;
}

/* xBestIndex, inside. */
static int
WrapBestIndex(sqlite3_vtab *base, sqlite3_index_info *info)
{
	INSIDE_VT(base, VtabBestIndex(base, info));
}

/* xOpen, inside. */
static int
WrapOpen(sqlite3_vtab *base, sqlite3_vtab_cursor **out)
{
	INSIDE_VT(base, VtabOpen(base, out));
}

/* xClose, inside (the cursor is freed by the call). */
static int
WrapClose(sqlite3_vtab_cursor *cur)
{
	INSIDE_VT(cur->pVtab, VtabClose(cur));
}

/* xFilter, inside. */
static int
WrapFilter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc, sqlite3_value **argv)
{
	INSIDE_VT(cur->pVtab, VtabFilter(cur, idxNum, idxStr, argc, argv));
}

/* xNext, inside. */
static int
WrapNext(sqlite3_vtab_cursor *cur)
{
	INSIDE_VT(cur->pVtab, VtabNext(cur));
}

/* xColumn, inside. */
static int
WrapColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
	INSIDE_VT(cur->pVtab, VtabColumn(cur, ctx, col));
}

/* xUpdate, inside. */
static int
WrapUpdate(sqlite3_vtab *base, int argc, sqlite3_value **argv, sqlite3_int64 *rowid)
{
	INSIDE_VT(base, VtabUpdate(base, argc, argv, rowid));
}

/* xRename, inside. */
static int
WrapRename(sqlite3_vtab *base, const char *name)
{
	INSIDE_VT(base, VtabRename(base, name));
}

static const sqlite3_module gallery_module = {
	.iVersion = 3,
	.xCreate = WrapCreate,
	.xConnect = WrapConnect,
	.xBestIndex = WrapBestIndex,
	.xDisconnect = WrapDisconnect,
	.xDestroy = WrapDestroy,
	.xOpen = WrapOpen,
	.xClose = WrapClose,
	.xFilter = WrapFilter,
	.xNext = WrapNext,
	.xEof = VtabEof,
	.xColumn = WrapColumn,
	.xRowid = VtabRowid,
	.xUpdate = WrapUpdate,
	.xRename = WrapRename,
	.xShadowName = VtabShadowName,
};

/* The frt_gallery module. */
const sqlite3_module *
FrtSqGalleryModule(void)
{
	return &gallery_module;
}

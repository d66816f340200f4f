/*-------------------------------------------------------------------------
 *
 * sq_gallery.h
 *	  The SQLite edition's gallery: embeddings and distances as SQL
 *	  functions, the frt_gallery virtual table (1:N matching, exact or
 *	  default, with a threshold) and 1:1 verification; its limits, and the
 *	  guard, the one extension point through which a higher module
 *	  (governance) takes part in the gallery's work.
 *
 * Files: sq_embedding.c (the SQL functions on values), sq_gallery.c
 * (registration, per-connection state, the guard, frt_gallery_verify),
 * sq_gallery_vtab.c (the module's methods), sq_gallery_store.c (shadow
 * tables and chunks), sq_gallery_cache.c (the in-memory quantized cache and
 * the search).  See docs/sqlite.md.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SQ_GALLERY_H
#define SQ_GALLERY_H

#include "sq_common.h"
#include "frt_quant.h"

/* ---- limits and defaults of the gallery ---- */
#define FRT_SQ_CHUNK_ROWS		64		/* vectors per chunk BLOB of a new table */
#define FRT_SQ_MAX_CHUNK_ROWS	65536	/* most vectors per chunk a table may declare */
#define FRT_SQ_MAX_K			4096	/* largest k of one 1:N query */
#define FRT_SQ_DEFAULT_RERANK	0		/* default mode: candidates re-ranked beyond k */
#define FRT_SQ_PREFETCH_ROWS	32		/* rows whose codes the scan prefetches ahead */
#define FRT_SQ_MAX_PURPOSES		65535	/* distinct purposes one cache interns */
#define FRT_SQ_DEFAULT_METRIC	FRT_METRIC_COSINE	/* metric when none is named */

/* Query modes of a 1:N query (the hidden column mode). */
#define FRT_SQ_MODE_DEFAULT		0	/* rank by the bound, re-rank a fixed budget */
#define FRT_SQ_MODE_EXACT		1	/* the exhaustive scan's rows, order and distances */

/* ---- the guard (extension point) ---- */
typedef enum FrtSqGalleryOp
{
	FRT_SQ_OP_INSERT,			/* a row is about to be written (subject, purpose known) */
	FRT_SQ_OP_DELETE,			/* a row is about to be deleted */
	FRT_SQ_OP_QUERY,			/* a 1:N query starts (purpose: the constraint, or NULL) */
	FRT_SQ_OP_QUERY_DONE,		/* it ended: nrows returned, best distance (NaN: none) */
	FRT_SQ_OP_READ_VECTOR		/* the embedding column is about to be read */
} FrtSqGalleryOp;

typedef struct FrtSqGalleryEvent
{
	FrtSqGalleryOp op;
	const char *table;
	const char *purpose;
	const char *subject;
	int			nrows;
	double		best;
	int			k;				/* FRT_SQ_OP_QUERY of a 1:N query: its k */
	double		max_distance;	/* ... and its max_distance (NaN: none) */
} FrtSqGalleryEvent;

/* SQLITE_OK lets it happen; anything else refuses, *errmsg (sqlite3_malloc) says why */
typedef int (*FrtSqGalleryGuard) (void *arg, sqlite3 *db, const FrtSqGalleryEvent *ev,
								  char **errmsg);

extern void FrtSqGallerySetGuard(sqlite3 *db, FrtSqGalleryGuard guard, void *arg);

/*
 * Whether the gallery is running its own statements on db (inside one of
 * its methods or functions): an authorizer lets those read the shadow
 * tables and refuses the same reads to SQL (sq_gov.c).
 */
extern bool FrtSqGalleryInside(sqlite3 *db);

/* ---- inside the gallery ---- */

/* An embedding read from an SQL value: dim floats in caller memory. */
extern int	FrtSqEmbFromValue(sqlite3_value *v, float *out, int *dim, char **errmsg);
extern void FrtSqEmbRegisterFunctions(sqlite3 *db, int *rc);
extern int	FrtSqMetricFromName(const char *name);
extern const char *FrtSqMetricName(int metric);

/* Call the connection's guard (SQLITE_OK when none is set); errmsg as the guard's. */
extern int	FrtSqGalleryCallGuard(sqlite3 *db, const FrtSqGalleryEvent *ev, char **errmsg);

/* The module, registered on each connection by FrtSqGalleryRegister. */
extern const sqlite3_module *FrtSqGalleryModule(void);

/* Zero memory that held biometric data in a way the compiler keeps. */
extern void FrtSqWipe(void *p, size_t n);

/* One connection's gallery state: its guard and its connected tables. */
typedef struct FrtSqGalleryConn
{
	sqlite3    *db;
	int			refs;			/* module registrations holding it */
	FrtSqGalleryGuard guard;
	void	   *guard_arg;
	struct FrtSqGalleryVtab *tables;	/* connected frt_gallery tables */
	int			inside;			/* > 0 while the gallery runs its own statements */
	struct FrtSqGalleryConn *next;	/* in the list of all connections */
} FrtSqGalleryConn;

/*
 * The per-connection cache of one table's quantization: one entry per slot
 * of the chunks (free slots have purpose -1 and a zero code).  Coherent
 * with the table while generation equals the stored generation.
 */
typedef struct FrtSqCache
{
	bool		loaded;
	sqlite3_int64 generation;
	int			nslots;			/* slots in use or free: next_slot */
	int			capacity;		/* slots allocated in the arrays */
	int			nrows;			/* slots holding a row */
	sqlite3_int64 *rowid;
	int32_t    *purpose;		/* interned purpose, -1 for a free slot */
	int8_t	   *codes;			/* capacity * dim */
	FrtQuantRow *qrow;
	uint8_t    *zero;			/* the row is the zero vector */
	char	  **purposes;		/* interned purpose names */
	int			npurposes;
	int			cappurposes;
} FrtSqCache;

/* A row found by a 1:N query. */
typedef struct FrtSqHit
{
	double		dist;
	sqlite3_int64 rowid;
	int32_t		slot;
} FrtSqHit;

/* One connection's view of one frt_gallery table. */
typedef struct FrtSqGalleryVtab
{
	sqlite3_vtab base;
	sqlite3    *db;
	FrtSqGalleryConn *conn;
	char	   *schema;
	char	   *name;
	char	   *chunks;			/* NAME_chunks, for sqlite3_blob_open */
	int			dim;
	int			metric;
	int			chunk_rows;		/* vectors per chunk, fixed at creation */
	FrtSqCache	cache;
	sqlite3_blob *rblob;		/* read handle on one chunk, or NULL */
	sqlite3_int64 rblob_chunk;
	sqlite3_stmt *stmts[16];	/* prepared on first use (FrtSqStoreStmt) */
	struct FrtSqGalleryVtab *next;	/* in conn->tables */
} FrtSqGalleryVtab;

/* Statements on the shadow tables (sq_gallery_store.c). */
typedef enum FrtSqStmtId
{
	FRT_SQ_STMT_GEN_GET,
	FRT_SQ_STMT_GEN_SET,
	FRT_SQ_STMT_NEXT_GET,
	FRT_SQ_STMT_NEXT_SET,
	FRT_SQ_STMT_FREE_FIRST,
	FRT_SQ_STMT_FREE_DEL,
	FRT_SQ_STMT_FREE_PUT,
	FRT_SQ_STMT_CHUNK_NEW,
	FRT_SQ_STMT_ROW_GET,
	FRT_SQ_STMT_ROW_INS,
	FRT_SQ_STMT_ROW_DEL,
	FRT_SQ_STMT_ROW_UPD,
	FRT_SQ_STMT_ROWS_ALL,
	FRT_SQ_STMT_ROWS_SUBJECT,
	FRT_SQ_STMT__COUNT
} FrtSqStmtId;

extern FrtSqGalleryConn *FrtSqGalleryConnOf(sqlite3 *db);
extern FrtSqGalleryVtab *FrtSqGalleryFind(FrtSqGalleryConn *conn, const char *name);

/* Storage: shadow tables, slots and chunks (sq_gallery_store.c). */
extern int	FrtSqStoreCreate(sqlite3 *db, const char *schema, const char *name, char **err);
extern int	FrtSqStoreDrop(sqlite3 *db, const char *schema, const char *name);
extern int	FrtSqStoreRename(sqlite3 *db, const char *schema, const char *from,
							 const char *to);
extern bool FrtSqStoreIsShadow(const char *suffix);
extern int	FrtSqStoreStmt(FrtSqGalleryVtab *vt, FrtSqStmtId id, sqlite3_stmt **out);
extern int	FrtSqStoreReady(FrtSqGalleryVtab *vt);
extern int	FrtSqStoreGeneration(FrtSqGalleryVtab *vt, sqlite3_int64 *gen);
extern int	FrtSqStoreBump(FrtSqGalleryVtab *vt, sqlite3_int64 *gen);
extern int	FrtSqStoreNextSlot(FrtSqGalleryVtab *vt, sqlite3_int64 *next);
extern int	FrtSqStoreAllocSlot(FrtSqGalleryVtab *vt, int *slot);
extern int	FrtSqStoreFreeSlot(FrtSqGalleryVtab *vt, int slot);
extern int	FrtSqStoreWriteVector(FrtSqGalleryVtab *vt, int slot, const float *x);
extern int	FrtSqStoreReadVector(FrtSqGalleryVtab *vt, int slot, float *out);
extern void FrtSqStoreRelease(FrtSqGalleryVtab *vt);
extern int	FrtSqStoreRowGet(FrtSqGalleryVtab *vt, sqlite3_int64 rowid, char **subject,
							 char **purpose, int *slot);

/* The cache and the search (sq_gallery_cache.c). */
extern int	FrtSqCacheFresh(FrtSqGalleryVtab *vt);
extern void FrtSqCacheFree(FrtSqCache *c, int dim);
extern void FrtSqCacheInvalidate(FrtSqGalleryVtab *vt);
extern int	FrtSqCacheSet(FrtSqGalleryVtab *vt, int slot, sqlite3_int64 rowid,
						  const char *purpose, const float *x);
extern void FrtSqCacheClear(FrtSqGalleryVtab *vt, int slot);
extern int	FrtSqCachePurposeId(const FrtSqCache *c, const char *purpose);
extern int	FrtSqCacheSearch(FrtSqGalleryVtab *vt, const float *probe, int purpose_id,
							 int k, int mode, double max_distance, FrtSqHit **hits,
							 int *nhits);

#endif							/* SQ_GALLERY_H */

/*-------------------------------------------------------------------------
 *
 * frt_ivf.h
 *	  The frt_ivf index access method: page layout, tuple format and the
 *	  functions shared by its phases (build, insert, scan, vacuum, check).
 *
 * Relation layout (all pages are standard PostgreSQL pages, so generic WAL
 * and the usual page tools work on them):
 *
 *	block 0			meta page: FrtIvfMetaData just after the page header
 *	blocks 1..D		directory pages: one item (FrtIvfListData) per list,
 *					plus one extra list that holds the rows whose value is
 *					NULL; each item has the list's head and insert pages and
 *					its centroid
 *	blocks D+1..	data pages: items are FrtIvfTuple; a page's special space
 *					(FrtIvfPageOpaque) links it to the next page of its list
 *
 * See docs/index.md for the error bound and why exact mode is exact.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FRT_IVF_H
#define FRT_IVF_H

#include "frt.h"

#include "access/amapi.h"
#include "access/generic_xlog.h"
#include "nodes/pathnodes.h"
#include "storage/bufmgr.h"
#include "storage/bufpage.h"
#include "storage/itemptr.h"
#include "utils/relcache.h"

#include <math.h>

#include "frt_cipher.h"
#include "frt_kernels.h"
#include "frt_quant.h"

#define FRT_IVF_MAGIC			0x46495646	/* "FIVF" */
#define FRT_IVF_VERSION			1
#define FRT_IVF_META_BLKNO		0
#define FRT_IVF_DIR_START		1
#define FRT_IVF_PAGE_ID			0xFF91	/* identifies our pages' special space */

/* Page kinds (FrtIvfPageOpaque.kind). */
#define FRT_IVF_PAGE_META		1
#define FRT_IVF_PAGE_DIR		2
#define FRT_IVF_PAGE_DATA		3

/* Metrics, one per operator class; also the ORDER BY strategy numbers. */
#define FRT_IVF_METRIC_L2		FRT_METRIC_L2	/* face_l2_ops: <-> */
#define FRT_IVF_METRIC_IP		FRT_METRIC_IP	/* face_ip_ops: <#> */
#define FRT_IVF_METRIC_COSINE	FRT_METRIC_COSINE	/* face_cosine_ops: <=> */
#define FRT_IVF_NSTRATEGIES		3

/*
 * Threshold search operators (WHERE clauses): strategy = metric + this, e.g.
 * 6 for face_cosine_ops' <<=>.  The planner hook (ivfplanner.c) rewrites
 * "e <=> p < t" into "e <<=> frt.face_within(p, t, false)"; see ivfrange.c.
 */
#define FRT_IVF_WITHIN_OFFSET	3
#define FRT_IVF_AM_STRATEGIES	(FRT_IVF_NSTRATEGIES + FRT_IVF_WITHIN_OFFSET)

/* Tuple flags (FrtIvfTuple.flags).  Bits 8..15 are reserved for encryption. */
#define FRT_IVF_TUPLE_NULL		0x0001	/* heap value is NULL: no code */
#define FRT_IVF_TUPLE_ZERO		0x0002	/* zero vector: cosine undefined */
#define FRT_IVF_TUPLE_SEALED	0x0100	/* scale .. code[dim] are sealed */

/* Meta page flags (FrtIvfMetaData.flags). */
#define FRT_IVF_META_SEALED		0x0001	/* codes and centroids are ciphertext */

/* Directory item flags (FrtIvfListData.flags). */
#define FRT_IVF_LIST_SEALED		0x0001	/* the centroid is sealed */

/* Build sub-phases reported in pg_stat_progress_create_index. */
#define FRT_IVF_PHASE_SAMPLE	2
#define FRT_IVF_PHASE_KMEANS	3
#define FRT_IVF_PHASE_LOAD		4
#define FRT_IVF_PHASE_WRITE		5	/* writing the sorted lists' pages */
#define FRT_IVF_PHASE_WAL		6	/* WAL-logging the new relation */

/*
 * VACUUM progress of an frt_ivf index, in pg_stat_progress_vacuum's
 * parameter slots that PostgreSQL 15's VACUUM leaves unused (it uses 0..6
 * of PGSTAT_NUM_PROGRESS_PARAM = 20); shown by the view
 * frt.ivf_vacuum_progress as param18..param20 of
 * pg_stat_get_progress_info('VACUUM').
 */
#define FRT_IVF_PROGRESS_VACUUM_INDEX		17	/* OID of the index being vacuumed */
#define FRT_IVF_PROGRESS_VACUUM_BLOCKS_DONE	18
#define FRT_IVF_PROGRESS_VACUUM_BLOCKS_TOTAL	19

/* The meta page's contents. */
typedef struct FrtIvfMetaData
{
	uint32		magic;
	uint32		version;
	uint16		dim;			/* dimension of every indexed value */
	uint16		metric;			/* FRT_IVF_METRIC_* */
	uint32		lists;			/* number of k-means lists (>= 1) */
	uint32		flags;			/* FRT_IVF_META_* */
	BlockNumber dirStart;		/* first directory page */
	uint32		dirPages;		/* number of directory pages */
	uint32		perDirPage;		/* directory items per page */
} FrtIvfMetaData;

/* One directory item: a list (the last one, number 'lists', holds NULLs). */
typedef struct FrtIvfListData
{
	BlockNumber head;			/* first data page of the list (never changes) */
	BlockNumber insertPage;		/* hint: first page that may have room */
	uint32		flags;			/* FRT_IVF_LIST_* */
	float		centroid[FLEXIBLE_ARRAY_MEMBER];	/* dim floats (none when
													 * lists = 1 or NULL list);
													 * sealed: seal(dim floats) */
} FrtIvfListData;

/*
 * One index row: a heap TID and the row's quantization (frt_quant.h, shared
 * with the SQLite edition).  The row's value x is approximated as scale *
 * code; resid is an upper bound of |x - scale * code| (for cosine, of the
 * unit vector x / |x|), cnorm2 = |scale * code|^2 and cnorm >= |scale *
 * code| (rounded up).  The distance of any probe to x then lies within
 * resid * |probe| of its distance to the approximation (Cauchy-Schwarz),
 * which is what lets a scan prove its order.  scale .. cnorm are laid out
 * as an FrtQuantRow (FrtIvfTupleRow).
 */
typedef struct FrtIvfTuple
{
	ItemPointerData tid;		/* heap row */
	uint16		flags;			/* FRT_IVF_TUPLE_*; high byte: encryption */
	float		scale;
	float		resid;
	float		cnorm2;
	float		cnorm;
	int8		code[FLEXIBLE_ARRAY_MEMBER];	/* dim int8 values */
} FrtIvfTuple;

/* A tuple's scale .. cnorm as the shared quantization's row scalars. */
#define FrtIvfTupleRow(tup)		((const FrtQuantRow *) &(tup)->scale)
StaticAssertDecl(offsetof(FrtIvfTuple, cnorm) - offsetof(FrtIvfTuple, scale) ==
				 offsetof(FrtQuantRow, cnorm) - offsetof(FrtQuantRow, scale),
				 "FrtIvfTuple's scale .. cnorm must be laid out as FrtQuantRow");

#define FRT_IVF_TUPLE_SIZE(dim)	MAXALIGN(offsetof(FrtIvfTuple, code) + (dim))
#define FRT_IVF_LIST_SIZE(cdim)	MAXALIGN(offsetof(FrtIvfListData, centroid) + sizeof(float) * (cdim))

/*
 * A sealed index (FRT_IVF_META_SEALED) keeps a tuple's tid and flags in
 * clear (VACUUM reads the tid) and seals the payload, scale .. code[dim],
 * with the heap TID's 6 bytes as associated data; its flags have
 * FRT_IVF_TUPLE_SEALED.  A directory item seals its centroid's floats with
 * FRT_IVF_CENTROID_AAD and the list number (4 bytes, little-endian) as
 * associated data.  Rows whose value is NULL hold no payload and stay in
 * clear.  See docs/index.md, "Sealed indexes".
 */
#define FRT_IVF_PAYLOAD_OFFSET	offsetof(FrtIvfTuple, scale)
#define FRT_IVF_PAYLOAD_SIZE(dim)	(offsetof(FrtIvfTuple, code) - FRT_IVF_PAYLOAD_OFFSET + (dim))
#define FRT_IVF_SEALED_TUPLE_SIZE(dim) \
	MAXALIGN(FRT_IVF_PAYLOAD_OFFSET + FRT_CIPHER_OVERHEAD + FRT_IVF_PAYLOAD_SIZE(dim))
#define FRT_IVF_SEALED_LIST_SIZE(cdim) \
	MAXALIGN(offsetof(FrtIvfListData, centroid) + FRT_CIPHER_OVERHEAD + sizeof(float) * (cdim))
#define FRT_IVF_CENTROID_AAD	"frt-ivf-centroid"	/* + list number: a centroid's AAD */
#define FRT_IVF_CENTROID_AAD_LEN	(sizeof(FRT_IVF_CENTROID_AAD) - 1 + sizeof(uint32))
#define FRT_IVF_CODE_MAX		FRT_QUANT_CODE_MAX	/* codes lie in [-this, this] */

/* Special space of every page. */
typedef struct FrtIvfPageOpaque
{
	BlockNumber next;			/* next data page of the same list */
	uint32		list;			/* list number (data pages) */
	uint16		kind;			/* FRT_IVF_PAGE_* */
	uint16		flags;			/* FRT_IVF_PAGE_HAS_DEAD */
	uint16		page_id;		/* FRT_IVF_PAGE_ID */
} FrtIvfPageOpaque;

/*
 * A data page has erased slots: items marked LP_DEAD whose bytes VACUUM
 * zeroed; an insert of the same size reuses them in place.
 */
#define FRT_IVF_PAGE_HAS_DEAD	0x0001

/* Room for items on a directory or data page (after header and special space). */
#define FRT_IVF_PAGE_ROOM	(BLCKSZ - SizeOfPageHeaderData - MAXALIGN(sizeof(FrtIvfPageOpaque)))

/*
 * The largest dimension an index with lists > 1 supports: one directory
 * item (with its centroid) and its line pointer must fit a page.
 */
#define FRT_IVF_MAX_CENTROID_DIM \
	((int) ((MAXALIGN_DOWN(FRT_IVF_PAGE_ROOM - sizeof(ItemIdData)) - \
			 offsetof(FrtIvfListData, centroid)) / sizeof(float)))

/* The same for a sealed index: the sealed centroid is FRT_CIPHER_OVERHEAD longer. */
#define FRT_IVF_MAX_SEALED_CENTROID_DIM \
	((int) ((MAXALIGN_DOWN(FRT_IVF_PAGE_ROOM - sizeof(ItemIdData)) - \
			 offsetof(FrtIvfListData, centroid) - FRT_CIPHER_OVERHEAD) / sizeof(float)))

#define FrtIvfPageGetOpaque(page)	((FrtIvfPageOpaque *) PageGetSpecialPointer(page))
#define FrtIvfPageGetMeta(page)		((FrtIvfMetaData *) PageGetContents(page))

/* reloptions */
typedef struct FrtIvfOptions
{
	int32		vl_len_;
	int			lists;
	bool		sealed;			/* seal codes and centroids at build */
} FrtIvfOptions;

/*
 * What a backend caches about an index (in rd_amcache): the meta data, each
 * list's head page and the centroids (opened, for a sealed index).  None of
 * these change after a build (re-sealing changes a centroid's ciphertext,
 * not its value).
 */
typedef struct FrtIvfCache
{
	FrtIvfMetaData meta;
	BlockNumber *heads;			/* lists + 1 entries */
	float	   *centroids;		/* lists * dim floats, or NULL if lists = 1 */
	Buffer	   *recent;			/* per block: the buffer it was last read into */
	BlockNumber nrecent;		/* blocks covered by 'recent' */
} FrtIvfCache;

/*
 * The cache may be freed by a relcache flush whenever invalidation messages
 * are processed, so callers that keep state across such points copy what
 * they need (scans copy the list heads) instead of keeping the pointer.
 */

/* A probe prepared for ranking codes (frt_quant.h). */
typedef FrtQuantProbe FrtIvfProbe;

/*
 * frt.face_within: the right operand of a threshold search operator, "a
 * distance to 'probe' below 'threshold'" (<= when FRT_WITHIN_INCLUSIVE).
 * 'probe' holds a whole face_embedding varlena (4-byte header), so it can be
 * passed on as a Datum.
 */
typedef struct FrtFaceWithin
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	uint16		flags;			/* FRT_WITHIN_* */
	uint16		reserved;
	float8		threshold;		/* read with memcpy: alignment not assumed */
	char		probe[FLEXIBLE_ARRAY_MEMBER];	/* a FaceEmbedding varlena */
} FrtFaceWithin;

#define FRT_WITHIN_INCLUSIVE	0x0001	/* <= instead of < */
#define FrtWithinProbe(w)		((struct FaceEmbedding *) (w)->probe)
#define DatumGetFaceWithin(d)	((FrtFaceWithin *) PG_DETOAST_DATUM(d))

/* The threshold of a face_within (stored unaligned-safe). */
static inline float8
FrtWithinThreshold(const FrtFaceWithin *w)
{
	float8		t;

	memcpy(&t, &w->threshold, sizeof(float8));
	return t;
}

/*
 * What a scan knows about its threshold keys (ivfrange.c).  Rows come in
 * non-decreasing order of a lower bound of their distance to the ranking
 * probe; once a bound passes the tightest threshold given for that same
 * probe, no later row can qualify and the scan ends.
 */
typedef struct FrtIvfRange
{
	bool		active;			/* the scan has threshold keys: recheck rows */
	bool		empty;			/* a key is NULL: no row qualifies */
	bool		canstop;		/* 'limit' bounds the ranking probe's distance */
	bool		inclusive;		/* the tightest key is <= (else <) */
	bool		stopped;		/* a bound has passed the limit */
	double		limit;			/* tightest threshold for the ranking probe */
	struct FaceEmbedding *rankprobe;	/* without ORDER BY: rank by this key's
										 * probe (NULL: do not rank) */
} FrtIvfRange;

/* GUCs */
extern bool frt_ivf_exact;
extern int	frt_ivf_probes;
extern int	frt_ivf_plain_cache_kb;

/* Whether an index's meta data says it is sealed. */
#define FrtIvfMetaIsSealed(meta)	(((meta)->flags & FRT_IVF_META_SEALED) != 0)

/* ivf.c */
extern void FrtIvfInit(void);
extern bytea *ivfoptions(Datum reloptions, bool validate);

/* ivfutils.c */
extern int	FrtIvfMetricOf(Relation index);
extern FrtIvfCache *FrtIvfGetCache(Relation index);
extern void FrtIvfInitPage(Page page, uint16 kind, uint32 list);
extern Buffer FrtIvfNewBuffer(Relation index, ForkNumber fork);
extern void FrtIvfFormTuple(FrtIvfTuple *tup, const float *x, int dim, int metric);
extern void FrtIvfPrepareProbe(FrtIvfProbe *p, const float *x, int dim, int metric);
extern Buffer FrtIvfReadBuffer(Relation index, BlockNumber blkno);
extern float FrtIvfCentroidDistance(const FrtIvfProbe *p, const float *c);
extern int	FrtIvfNearestList(const FrtIvfCache *cache, const float *x);
extern bool FrtIvfIsDataPage(Page page);
extern bool FrtIvfPageHasRoom(Page page, Size size);
extern OffsetNumber FrtIvfPageAddTuple(Page page, const FrtIvfTuple *tup, Size size);
extern void FrtIvfCheckDim(int dim, int indexdim);
extern uint32 FrtIvfProbes(uint32 lists);
extern Relation FrtIvfOpenOwned(Oid indexoid, LOCKMODE lockmode, Relation *heap);

/* ivfseal.c */
extern const FrtCipher *FrtIvfCipher(void);
extern const FrtCipher *FrtIvfCipherRequire(Relation index);
extern bool FrtIvfBuildSealed(Relation index);
extern void FrtIvfSealTuple(const FrtCipher *cipher, const FrtIvfTuple *plain, int dim,
							FrtIvfTuple *sealed);
extern void FrtIvfOpenTuple(const FrtCipher *cipher, const FrtIvfTuple *sealed, int dim,
							FrtIvfTuple *plain);
extern void FrtIvfSealCentroid(const FrtCipher *cipher, uint32 list, const float *c, int dim,
							   void *out);
extern void FrtIvfOpenCentroid(const FrtCipher *cipher, uint32 list, const void *sealed, int dim,
							   float *c);

/* ivfplain.c */
extern void FrtIvfPlainAssign(int newval, void *extra);
extern Page FrtIvfPlainPage(Relation index, BlockNumber blkno, Page page, int dim);
extern Page FrtIvfPlainPeek(Relation index, BlockNumber blkno);

/* ivfbuild.c */
extern IndexBuildResult *ivfbuild(Relation heap, Relation index, struct IndexInfo *indexInfo);
extern void ivfbuildempty(Relation index);

/* ivfinsert.c */
extern bool ivfinsert(Relation index, Datum *values, bool *isnull,
					  ItemPointer heap_tid, Relation heap,
					  IndexUniqueCheck checkUnique, bool indexUnchanged,
					  struct IndexInfo *indexInfo);
extern void FrtIvfSetInsertPage(Relation index, uint32 list, BlockNumber blkno);
extern void FrtIvfInsertTuple(Relation index, uint32 list, const FrtIvfTuple *tup, Size size);

/* ivfscan.c */
extern IndexScanDesc ivfbeginscan(Relation index, int nkeys, int norderbys);
extern void ivfrescan(IndexScanDesc scan, ScanKey keys, int nkeys,
					  ScanKey orderbys, int norderbys);
extern bool ivfgettuple(IndexScanDesc scan, ScanDirection dir);
extern void ivfendscan(IndexScanDesc scan);

/* ivfrange.c */
extern void FrtIvfRangePrepare(IndexScanDesc scan, FrtIvfRange *range, int indexdim);
extern bool FrtIvfRangeStop(FrtIvfRange *range, float lb);

/*
 * Whether a row whose bound is lb lies past the scan's threshold: the scan
 * ends at the first such row, so a scan need not keep any of them.  A NaN
 * bound means a NaN distance, which passes no (non-NaN) threshold.
 */
static inline bool
FrtIvfRangeBeyond(const FrtIvfRange *range, float lb)
{
	if (!range->canstop)
		return false;
	if (isnan(lb))
		return true;
	return range->inclusive ? (double) lb > range->limit : (double) lb >= range->limit;
}

/* ivfplanner.c */
extern void FrtIvfPlannerInit(void);

/* ivfvacuum.c */
extern IndexBulkDeleteResult *ivfbulkdelete(IndexVacuumInfo *info,
											IndexBulkDeleteResult *stats,
											IndexBulkDeleteCallback callback,
											void *callback_state);
extern IndexBulkDeleteResult *ivfvacuumcleanup(IndexVacuumInfo *info,
											   IndexBulkDeleteResult *stats);

/* ivfcost.c */
extern void ivfcostestimate(PlannerInfo *root, IndexPath *path, double loop_count,
							Cost *indexStartupCost, Cost *indexTotalCost,
							Selectivity *indexSelectivity, double *indexCorrelation,
							double *indexPages);

/*
 * A lower bound of the distance the operator computes between the probe and
 * the row behind 'tup' (frt_quant.h: FrtQuantLowerBound).  NaN when the
 * distance is NaN (cosine with a zero vector).  Inline: it runs once per
 * row of every scan.
 */
static inline double
FrtIvfLowerBound(const FrtIvfProbe *p, const FrtIvfTuple *tup)
{
	return FrtQuantLowerBound(p, FrtIvfTupleRow(tup), (const int8_t *) tup->code,
							  (tup->flags & FRT_IVF_TUPLE_ZERO) != 0);
}

#endif							/* FRT_IVF_H */

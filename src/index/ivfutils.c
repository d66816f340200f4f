/*-------------------------------------------------------------------------
 *
 * ivfutils.c
 *	  Helpers shared by the frt_ivf phases: metric lookup, the per-backend
 *	  cache of centroids, page set-up, quantization and the error bound.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "frt_compat.h"

#include <float.h>
#include <math.h>

#include "access/relation.h"
#include "access/table.h"
#include "catalog/index.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "frt_ivf.h"
#include "frt_kernels.h"
#include "frt_names.h"

/* The metric of an index, from the ORDER BY operator its operator class has. */
int
FrtIvfMetricOf(Relation index)
{
	Oid			fam = index->rd_opfamily[0];
	Oid			typ = index->rd_opcintype[0];

	for (int s = 1; s <= FRT_IVF_NSTRATEGIES; s++)
		if (OidIsValid(get_opfamily_member(fam, typ, typ, s)))
			return s;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
			 errmsg("operator class of index \"%s\" has no frt_ivf distance operator",
					RelationGetRelationName(index))));
	return 0;					/* keep compiler quiet */
}

/* Read the meta page and directory once per backend and keep them in rd_amcache. */
FrtIvfCache *
FrtIvfGetCache(Relation index)
{
	FrtIvfCache *cache;
	Buffer		buf;
	Page		page;
	MemoryContext old;
	uint32		list = 0;
	FrtIvfMetaData meta;
	Size		sz;
	BlockNumber nrecent;
	const FrtCipher *cipher = NULL;

	if (index->rd_amcache != NULL)
		return (FrtIvfCache *) index->rd_amcache;

	buf = ReadBuffer(index, FRT_IVF_META_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	meta = *FrtIvfPageGetMeta(page);
	UnlockReleaseBuffer(buf);
	if (meta.magic != FRT_IVF_MAGIC || meta.version != FRT_IVF_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" is not a valid frt_ivf index",
						RelationGetRelationName(index))));
	/* a sealed index is never read without its key provider */
	if (FrtIvfMetaIsSealed(&meta))
		cipher = FrtIvfCipherRequire(index);

	/* one chunk, so that the relcache can free it with one pfree */
	nrecent = RelationGetNumberOfBlocks(index);
	nrecent += nrecent / FRT_IVF_RECENT_SPARE + FRT_IVF_RECENT_EXTRA;	/* room to grow */
	sz = MAXALIGN(sizeof(FrtIvfCache)) + MAXALIGN(sizeof(BlockNumber) * (meta.lists + 1)) +
		MAXALIGN(sizeof(Buffer) * (Size) nrecent);
	if (meta.lists > 1)
		sz += sizeof(float) * meta.dim * (Size) meta.lists;
	old = MemoryContextSwitchTo(index->rd_indexcxt);
	cache = MemoryContextAllocExtended(index->rd_indexcxt, sz, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	cache->meta = meta;
	cache->heads = (BlockNumber *) ((char *) cache + MAXALIGN(sizeof(FrtIvfCache)));
	cache->recent = (Buffer *) ((char *) cache->heads +
								MAXALIGN(sizeof(BlockNumber) * (meta.lists + 1)));
	cache->nrecent = nrecent;	/* zeroed: InvalidBuffer */
	if (meta.lists > 1)
		cache->centroids = (float *) ((char *) cache->recent +
									  MAXALIGN(sizeof(Buffer) * (Size) nrecent));

	for (uint32 d = 0; d < cache->meta.dirPages; d++)
	{
		OffsetNumber maxoff;

		buf = ReadBuffer(index, cache->meta.dirStart + d);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		maxoff = PageGetMaxOffsetNumber(page);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++, list++)
		{
			FrtIvfListData *ld = (FrtIvfListData *) PageGetItem(page, PageGetItemId(page, off));

			if (list > cache->meta.lists)
				break;
			cache->heads[list] = ld->head;
			if (cache->centroids && list < cache->meta.lists)
			{
				float	   *c = cache->centroids + (size_t) list * cache->meta.dim;

				if (ld->flags & FRT_IVF_LIST_SEALED)
					FrtIvfOpenCentroid(cipher != NULL ? cipher : FrtIvfCipherRequire(index),
									   list, ld->centroid, cache->meta.dim, c);
				else
					memcpy(c, ld->centroid, sizeof(float) * cache->meta.dim);
			}
		}
		UnlockReleaseBuffer(buf);
	}
	if (list != cache->meta.lists + 1)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has %u directory entries, expected %u",
						RelationGetRelationName(index), list, cache->meta.lists + 1)));
	MemoryContextSwitchTo(old);
	index->rd_amcache = cache;
	return cache;
}

/*
 * Pin an index page, trying first the buffer it was last read into (this
 * backend remembers one per block): ReadRecentBuffer checks that buffer's
 * tag instead of probing the shared buffer mapping table, which is the
 * slower part of reading a cached page when a scan reads thousands.
 */
Buffer
FrtIvfReadBuffer(Relation index, BlockNumber blkno)
{
	FrtIvfCache *cache = FrtIvfGetCache(index);
	Buffer		buf;

	if (blkno < cache->nrecent && cache->recent[blkno] != InvalidBuffer &&
		ReadRecentBuffer(index->rd_node, MAIN_FORKNUM, blkno, cache->recent[blkno]))
		return cache->recent[blkno];
	buf = ReadBuffer(index, blkno);
	if (blkno < cache->nrecent)
		cache->recent[blkno] = buf;
	return buf;
}

/* Initialize an empty page of the given kind. */
void
FrtIvfInitPage(Page page, uint16 kind, uint32 list)
{
	FrtIvfPageOpaque *op;

	PageInit(page, BLCKSZ, sizeof(FrtIvfPageOpaque));
	op = FrtIvfPageGetOpaque(page);
	op->next = InvalidBlockNumber;
	op->list = list;
	op->kind = kind;
	op->flags = 0;
	op->page_id = FRT_IVF_PAGE_ID;
}

/* Add a new page at the end of a fork; returned exclusively locked. */
Buffer
FrtIvfNewBuffer(Relation index, ForkNumber fork)
{
	Buffer		buf;
	bool		needLock = !RELATION_IS_LOCAL(index);

	if (needLock)
		LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBufferExtended(index, fork, P_NEW, RBM_NORMAL, NULL);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	if (needLock)
		UnlockRelationForExtension(index, ExclusiveLock);
	return buf;
}

/*
 * Quantize x into an index tuple (tid left to the caller): the shared
 * per-row quantization (frt_quant.h); a zero vector is flagged for cosine,
 * whose distance to it is undefined (NaN).
 */
void
FrtIvfFormTuple(FrtIvfTuple *tup, const float *x, int dim, int metric)
{
	FrtQuantRow row;
	bool		zero = FrtQuantizeRow(x, dim, metric, &row, (int8_t *) tup->code);

	tup->flags = (zero && metric == FRT_IVF_METRIC_COSINE) ? FRT_IVF_TUPLE_ZERO : 0;
	tup->scale = row.scale;
	tup->resid = row.resid;
	tup->cnorm2 = row.cnorm2;
	tup->cnorm = row.cnorm;
}

/* Prepare a probe in the current memory context (frt_quant.h). */
void
FrtIvfPrepareProbe(FrtIvfProbe *p, const float *x, int dim, int metric)
{
	FrtQuantPrepareProbe(p, x, dim, metric, palloc(sizeof(float) * dim),
						 palloc(sizeof(int16) * dim));
}

/* Distance of the probe (or a row) to a centroid, in the index's metric. */
float
FrtIvfCentroidDistance(const FrtIvfProbe *p, const float *c)
{
	switch (p->metric)
	{
		case FRT_IVF_METRIC_COSINE:
			return 1.0f - frt_kernels->dot(p->q, c, p->dim);
		case FRT_IVF_METRIC_IP:
			return -frt_kernels->dot(p->q, c, p->dim);
		default:
			return frt_kernels->l2sq(p->q, c, p->dim);
	}
}

/* The list a row belongs to: its nearest centroid (cosine: largest dot). */
int
FrtIvfNearestList(const FrtIvfCache *cache, const float *x)
{
	int			best = 0;
	float		bestd = FLT_MAX;
	int			dim = cache->meta.dim;

	if (cache->meta.lists <= 1)
		return 0;
	for (uint32 l = 0; l < cache->meta.lists; l++)
	{
		const float *c = cache->centroids + (size_t) l * dim;
		float		d;

		if (cache->meta.metric == FRT_IVF_METRIC_L2)
			d = frt_kernels->l2sq(x, c, dim);
		else
			d = -frt_kernels->dot(x, c, dim);
		if (d < bestd)
		{
			bestd = d;
			best = l;
		}
	}
	return best;
}

/*
 * Whether a block read from the index is an initialized data page (a page
 * extended by an insert that failed before initializing it is still new).
 */
bool
FrtIvfIsDataPage(Page page)
{
	FrtIvfPageOpaque *op = FrtIvfPageGetOpaque(page);

	return !PageIsNew(page) && op->page_id == FRT_IVF_PAGE_ID &&
		op->kind == FRT_IVF_PAGE_DATA;
}

/* Whether a tuple of this size fits a data page: an erased slot or free space. */
bool
FrtIvfPageHasRoom(Page page, Size size)
{
	return (FrtIvfPageGetOpaque(page)->flags & FRT_IVF_PAGE_HAS_DEAD) ||
		PageGetFreeSpace(page) >= size;
}

/*
 * Add a tuple to a data page: into an erased slot of the same size if there
 * is one (VACUUM left it zeroed and LP_DEAD), else into the free space.
 */
OffsetNumber
FrtIvfPageAddTuple(Page page, const FrtIvfTuple *tup, Size size)
{
	FrtIvfPageOpaque *op = FrtIvfPageGetOpaque(page);

	if (op->flags & FRT_IVF_PAGE_HAS_DEAD)
	{
		OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
		OffsetNumber found = InvalidOffsetNumber;
		bool		more = false;

		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
		{
			ItemId		iid = PageGetItemId(page, off);

			if (!ItemIdIsDead(iid) || ItemIdGetLength(iid) != size)
				continue;
			if (found == InvalidOffsetNumber)
				found = off;
			else
			{
				more = true;
				break;
			}
		}
		if (!more)
			op->flags &= ~FRT_IVF_PAGE_HAS_DEAD;
		if (found != InvalidOffsetNumber)
		{
			ItemId		iid = PageGetItemId(page, found);

			memcpy(PageGetItem(page, iid), tup, size);
			ItemIdSetNormal(iid, ItemIdGetOffset(iid), size);
			return found;
		}
	}
	return PageAddItem(page, (Item) tup, size, InvalidOffsetNumber, false, false);
}

/*
 * Lists a default-mode scan visits first: frt.probes, or when that is 0 a
 * multiple of sqrt(lists) (about a third of 316 lists, a fifth of 1,000;
 * see docs/index.md for the recall this gives on face-like data).
 */
uint32
FrtIvfProbes(uint32 lists)
{
	double		p;

	if (frt_ivf_probes > 0)
		return (uint32) frt_ivf_probes;
	p = ceil(FRT_IVF_AUTO_PROBES_SQRT * sqrt((double) lists));
	return (uint32) Max(1.0, Min((double) lists, p));
}

/* Raise the same error as the operators when a value's dimension differs. */
void
FrtIvfCheckDim(int dim, int indexdim)
{
	if (dim != indexdim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different face_embedding dimensions %d and %d", dim, indexdim)));
}

/*
 * Open an frt_ivf index for one of the SQL functions on it (index_check,
 * ivf_reseal, ivf_epochs): it must be one, and the caller must own it (or
 * be superuser).  With 'heap', its table is opened first, in the same mode.
 */
Relation
FrtIvfOpenOwned(Oid indexoid, LOCKMODE lockmode, Relation *heap)
{
	Oid			heapoid = IndexGetRelation(indexoid, true);
	Relation	index;

	if (!OidIsValid(heapoid))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an index", get_rel_name(indexoid) ? get_rel_name(indexoid) : "?")));
	if (heap != NULL)
		*heap = table_open(heapoid, lockmode);
	index = index_open(indexoid, lockmode);
	if (index->rd_rel->relam != FrtNamesAmOid())
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an frt_ivf index", RelationGetRelationName(index))));
	if (!pg_class_ownercheck(indexoid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_INDEX, RelationGetRelationName(index));
	return index;
}

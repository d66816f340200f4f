/*-------------------------------------------------------------------------
 *
 * ivfscan.c
 *	  Ordered scans of an frt_ivf index.
 *
 * A scan ranks the int8 codes of a batch of lists (all lists in exact mode,
 * the frt.probes nearest otherwise) and returns rows in increasing order of
 * a proven lower bound of their distance, with xs_recheckorderby set.  The
 * executor computes each returned row's exact distance from the heap and
 * holds rows in its reorder queue until no later row can come before them
 * (a later row's distance is at least its bound, which is at least the
 * bound just returned).  So in exact mode the output equals an exhaustive
 * sort; only rows whose bound beats the k-th exact distance are fetched.
 *
 * When a batch is used up and the executor still asks (a WHERE clause or a
 * row-level-security policy rejected rows), the next batch of lists is
 * ranked, and finally the rows whose value is NULL are returned (NULL
 * distance, sorting last): a scan never ends before the index does.
 * A batch of every list reads the index's data pages in the order of the
 * shared buffers they sit in rather than list by list (ScanAllPages).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "frt_compat.h"

#include <float.h>
#include <math.h>

#include "access/relscan.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/float.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "frt_embedding.h"
#include "frt_ivf.h"

/* A candidate row: its heap TID and the lower bound of its distance. */
typedef struct FrtIvfCand
{
	float		lb;				/* rounded down; NaN sorts last */
	ItemPointerData tid;
} FrtIvfCand;

typedef struct FrtIvfScanOpaqueData
{
	MemoryContext ctx;			/* reset at each rescan */
	bool		started;		/* amrescan has run */
	BlockNumber *heads;			/* copy of the lists' head pages */
	FrtIvfProbe probe;
	bool		noprobe;		/* no ORDER BY or NULL probe: order is arbitrary */
	uint32	   *order;			/* lists in visiting order */
	uint32		nlists;			/* lists, not counting the NULL list */
	uint32		nextList;		/* position in order[] of the next batch */
	uint32		batch;			/* lists per batch */
	bool		nullsDone;		/* the NULL list has been queued */
	bool		inNulls;		/* candidates are NULL-valued rows */
	FrtIvfCand *cands;			/* [0, nheap): min-heap; [pstart, ncands): pending */
	int			ncands;
	int			capcands;
	int			nheap;
	int			pstart;
	int			want;			/* rows moved into the heap at the next refill */
	FrtIvfRange range;			/* threshold keys (ivfrange.c) */
} FrtIvfScanOpaqueData;

typedef FrtIvfScanOpaqueData *FrtIvfScanOpaque;

/* a < b with NaN greater than every number (float8 sort order). */
static inline bool
CandLess(float a, float b)
{
	if (isnan(a))
		return false;
	if (isnan(b))
		return true;
	return a < b;
}

/* Restore the heap property below position i. */
static void
SiftDown(FrtIvfCand *h, int n, int i)
{
	FrtIvfCand x = h[i];

	for (;;)
	{
		int			c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && CandLess(h[c + 1].lb, h[c].lb))
			c++;
		if (!CandLess(h[c].lb, x.lb))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

/*
 * Round a lower bound down to a float, keeping it a lower bound, without a
 * branch (a data-dependent branch here mispredicted on every other row):
 * the nearest float is at most half an ulp above v, and subtracting |f| *
 * FLT_EPSILON (one to two ulps) and FLT_MIN (for zero and denormals) always
 * lands below v.  NaN stays NaN.
 */
static inline float
FloatDown(double v)
{
	float		f = (float) v;

	if (f > FLT_MAX)
		return FLT_MAX;			/* v beyond the float range */
	return (f - fabsf(f) * FLT_EPSILON) - FLT_MIN;
}

/* Sift a value down a max-heap of floats (NaN largest). */
static void
MaxSiftDown(float *h, int n, int i)
{
	float		x = h[i];

	for (;;)
	{
		int			c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && CandLess(h[c], h[c + 1]))
			c++;
		if (!CandLess(x, h[c]))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

/*
 * Move the 'want' smallest pending candidates (and any ties) into the heap.
 * Ranking all rows costs one pass; ordering them all would cost more than
 * the few the executor usually takes, so rows are ordered in growing slices.
 */
static void
Refill(FrtIvfScanOpaque so)
{
	int			npend = so->ncands - so->pstart;
	int			m = so->want;
	int			front = 0;

	Assert(so->nheap == 0);
	if (so->pstart > 0)
		memmove(so->cands, so->cands + so->pstart, sizeof(FrtIvfCand) * npend);
	so->ncands = npend;
	so->pstart = 0;
	if (npend <= m)
		front = npend;
	else
	{
		float		t;
		float	   *topk = MemoryContextAlloc(so->ctx, sizeof(float) * m);

		/* threshold: the m-th smallest bound, from a bounded max-heap */
		for (int i = 0; i < m; i++)
			topk[i] = so->cands[i].lb;
		for (int i = m / 2 - 1; i >= 0; i--)
			MaxSiftDown(topk, m, i);
		for (int i = m; i < npend; i++)
			if (CandLess(so->cands[i].lb, topk[0]))
			{
				topk[0] = so->cands[i].lb;
				MaxSiftDown(topk, m, 0);
			}
		t = topk[0];
		pfree(topk);
		for (int i = 0; i < npend; i++)
			if (!CandLess(t, so->cands[i].lb))
			{
				FrtIvfCand tmp = so->cands[front];

				so->cands[front++] = so->cands[i];
				so->cands[i] = tmp;
			}
	}
	so->nheap = front;
	so->pstart = front;
	for (int i = so->nheap / 2 - 1; i >= 0; i--)
		SiftDown(so->cands, so->nheap, i);
	if (so->want < (1 << 16))
		so->want *= 4;
}

/*
 * Ask the CPU for the tuple bytes FRT_IVF_PREFETCH_BYTES ahead of the row
 * about to be ranked, so that memory is always being read a few rows ahead
 * whatever the hardware prefetcher makes of the pattern.  A scan reads a
 * page's tuples upward from pd_upper and then the next page of the list;
 * past this page's end the stream goes on at the same offset in the next
 * page (every page of a list but the last is full, and tuples never move,
 * so that is where its first rows are; for the last page it is a harmless
 * guess).  Without this, an erased slot (a gap of one tuple) or buffers
 * handed out in reverse order (after DROP / REINDEX) made the scan wait
 * for memory: VACUUM of 10 % of the rows left an index up to 1.9x slower
 * (docs/index.md).
 */
static inline void
FrtIvfPrefetchAhead(Page page, Page nextpage, const char *item, Size tupsize)
{
	const char *end = (const char *) page + ((PageHeader) page)->pd_special;
	const char *t = item + FRT_IVF_PREFETCH_BYTES;
	uintptr_t	line;

	if (t >= end)
	{
		if (nextpage == NULL)
			return;
		t = (const char *) nextpage + ((PageHeader) page)->pd_upper + (t - end);
	}
	for (line = (uintptr_t) t & ~(uintptr_t) (FRT_IVF_CACHE_LINE - 1);
		 line < (uintptr_t) (t + tupsize); line += FRT_IVF_CACHE_LINE)
		__builtin_prefetch((const void *) line, 0, 3);
}

/*
 * Pin a page the scan ranks next and ask for the lines it reads first: the
 * header with the line pointers, and the special space with the link.
 */
static Buffer
FrtIvfPinAhead(IndexScanDesc scan, BlockNumber blkno)
{
	Buffer		buf = FrtIvfReadBuffer(scan->indexRelation, blkno);
	const char *p = (const char *) BufferGetPage(buf);

	__builtin_prefetch(p, 0, 3);
	__builtin_prefetch(p + FRT_IVF_CACHE_LINE, 0, 3);
	__builtin_prefetch(p + BLCKSZ - FRT_IVF_CACHE_LINE, 0, 3);
	return buf;
}

/*
 * Rank every row of one locked page and add it to the candidates (inlined
 * into both page loops: it is the hot loop of every scan).
 */
static pg_attribute_always_inline void
RankPage(FrtIvfScanOpaque so, Page page, Page nextpage, bool ranked)
{
	OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
	FrtIvfProbe probe = so->probe;
	FrtIvfCand *cands;
	int			n;

	if (so->ncands + maxoff > so->capcands)
	{
		so->capcands = Max(so->capcands * 2, so->ncands + maxoff + 1024);
		so->cands = repalloc_huge(so->cands, sizeof(FrtIvfCand) * (Size) so->capcands);
	}
	/*
	 * Last item first: items are stored from the page end down, so memory
	 * is read upward.  Locals keep the hot loop in registers (the build
	 * uses -fno-strict-aliasing, so stores could otherwise force reloads).
	 */
	cands = so->cands;
	n = so->ncands;
	for (OffsetNumber off = maxoff; off >= FirstOffsetNumber; off--)
	{
		ItemId		iid = PageGetItemId(page, off);
		FrtIvfTuple *tup;

		FrtIvfPrefetchAhead(page, nextpage, (const char *) page + ItemIdGetOffset(iid),
							ItemIdGetLength(iid));
		if (!ItemIdIsNormal(iid))
			continue;
		tup = (FrtIvfTuple *) PageGetItem(page, iid);
		cands[n].tid = tup->tid;
		cands[n].lb = ranked ? FloatDown(FrtIvfLowerBound(&probe, tup)) : 0.0f;
		n++;
	}
	so->ncands = n;
}

/* Rank every row of one list and add it to the candidates. */
static void
ScanList(IndexScanDesc scan, uint32 list)
{
	FrtIvfScanOpaque so = (FrtIvfScanOpaque) scan->opaque;
	BlockNumber blkno = so->heads[list];
	bool		ranked = !(list == so->nlists || so->noprobe);
	Buffer		buf = InvalidBuffer;

	while (blkno != InvalidBlockNumber)
	{
		Page		page;
		BlockNumber next;
		Buffer		nextbuf = InvalidBuffer;
		Page		nextpage = NULL;

		CHECK_FOR_INTERRUPTS();
		if (!BufferIsValid(buf))
			buf = FrtIvfReadBuffer(scan->indexRelation, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		next = FrtIvfPageGetOpaque(page)->next;
		/* pin the page ranked next: the prefetch runs into it from this one */
		if (next != InvalidBlockNumber)
		{
			nextbuf = FrtIvfPinAhead(scan, next);
			nextpage = BufferGetPage(nextbuf);
		}
		RankPage(so, page, nextpage, ranked);
		UnlockReleaseBuffer(buf);
		buf = nextbuf;
		blkno = next;
	}
}

/* Order blocks by the buffer this backend last found them in, then by number. */
static int
CompareRecentBuffer(const void *a, const void *b, void *arg)
{
	const FrtIvfCache *cache = (const FrtIvfCache *) arg;
	BlockNumber ba = *(const BlockNumber *) a,
				bb = *(const BlockNumber *) b;
	int64		ka = ba < cache->nrecent && cache->recent[ba] != InvalidBuffer ?
		cache->recent[ba] : PG_INT32_MAX;
	int64		kb = bb < cache->nrecent && cache->recent[bb] != InvalidBuffer ?
		cache->recent[bb] : PG_INT32_MAX;

	if (ka != kb)
		return ka < kb ? -1 : 1;
	return (ba > bb) - (ba < bb);
}

/*
 * Rank the rows of every list (exact mode, threshold scans, scans without a
 * probe): all data pages of the index, in the order of the shared buffers
 * they were last found in, so that memory is read in one ascending sweep
 * wherever the buffer pool put the pages.  Rows never move between pages
 * and every row visible to the scan's snapshot was indexed before the scan
 * began, so the blocks that exist now hold all of them; the NULL list's
 * pages are skipped here and ranked last, as in a list-by-list scan.
 */
static void
ScanAllPages(IndexScanDesc scan)
{
	FrtIvfScanOpaque so = (FrtIvfScanOpaque) scan->opaque;
	Relation	index = scan->indexRelation;
	FrtIvfCache *cache = FrtIvfGetCache(index);
	BlockNumber start = cache->meta.dirStart + cache->meta.dirPages;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	BlockNumber npages = nblocks > start ? nblocks - start : 0;
	BlockNumber *blocks;
	bool		ranked = !so->noprobe;
	Buffer		buf = InvalidBuffer;

	if (npages == 0)
		return;
	blocks = palloc_extended(sizeof(BlockNumber) * (Size) npages, MCXT_ALLOC_HUGE);
	for (BlockNumber i = 0; i < npages; i++)
		blocks[i] = start + i;
	qsort_arg(blocks, npages, sizeof(BlockNumber), CompareRecentBuffer, cache);
	for (BlockNumber i = 0; i < npages; i++)
	{
		Page		page;
		Buffer		nextbuf = InvalidBuffer;
		Page		nextpage = NULL;

		CHECK_FOR_INTERRUPTS();
		if (!BufferIsValid(buf))
			buf = FrtIvfReadBuffer(index, blocks[i]);
		if (i + 1 < npages)
		{
			nextbuf = FrtIvfPinAhead(scan, blocks[i + 1]);
			nextpage = BufferGetPage(nextbuf);
		}
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (FrtIvfIsDataPage(page) && FrtIvfPageGetOpaque(page)->list < so->nlists)
			RankPage(so, page, nextpage, ranked);
		UnlockReleaseBuffer(buf);
		buf = nextbuf;
	}
	pfree(blocks);
}

/* Rank the next batch of lists (or the NULL list); false when none is left. */
static bool
LoadNextBatch(IndexScanDesc scan)
{
	FrtIvfScanOpaque so = (FrtIvfScanOpaque) scan->opaque;
	MemoryContext old = MemoryContextSwitchTo(so->ctx);

	so->ncands = 0;
	if (so->nextList < so->nlists)
	{
		uint32		end = Min(so->nlists, so->nextList + so->batch);

		/* every list in one batch: read the pages in buffer order instead */
		if (so->nextList == 0 && end == so->nlists)
			ScanAllPages(scan);
		else
			for (uint32 i = so->nextList; i < end; i++)
				ScanList(scan, so->order[i]);
		so->nextList = end;
		so->inNulls = false;
	}
	else if (!so->nullsDone)
	{
		ScanList(scan, so->nlists);
		so->nullsDone = true;
		so->inNulls = true;
	}
	else
	{
		MemoryContextSwitchTo(old);
		return false;
	}
	so->nheap = 0;
	so->pstart = 0;
	so->want = FRT_IVF_FIRST_SLICE;
	MemoryContextSwitchTo(old);
	return true;
}

/* ambeginscan: allocate the scan state. */
IndexScanDesc
ivfbeginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	FrtIvfScanOpaque so = palloc0(sizeof(FrtIvfScanOpaqueData));

	so->ctx = AllocSetContextCreate(CurrentMemoryContext, "frt_ivf scan",
									ALLOCSET_DEFAULT_SIZES);
	scan->opaque = so;
	scan->xs_orderbyvals = palloc0(sizeof(Datum) * Max(norderbys, 1));
	scan->xs_orderbynulls = palloc0(sizeof(bool) * Max(norderbys, 1));
	return scan;
}

/* Compare two lists by their centroid's distance to the probe. */
static int
CompareListDist(const void *a, const void *b, void *arg)
{
	const float *dist = (const float *) arg;
	float		da = dist[*(const uint32 *) a],
				db = dist[*(const uint32 *) b];

	return (da > db) - (da < db);
}

/* amrescan: take the probe, order the lists, pick the batch size. */
void
ivfrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
	FrtIvfScanOpaque so = (FrtIvfScanOpaque) scan->opaque;
	MemoryContext old;
	uint32		lists;
	FrtIvfCache *cache;

	if (keys && nkeys > 0)
		memmove(scan->keyData, keys, nkeys * sizeof(ScanKeyData));
	if (orderbys && norderbys > 0)
		memmove(scan->orderByData, orderbys, norderbys * sizeof(ScanKeyData));

	MemoryContextReset(so->ctx);
	old = MemoryContextSwitchTo(so->ctx);
	cache = FrtIvfGetCache(scan->indexRelation);
	lists = cache->meta.lists;
	so->heads = palloc(sizeof(BlockNumber) * (lists + 1));
	memcpy(so->heads, cache->heads, sizeof(BlockNumber) * (lists + 1));
	so->started = true;
	so->nlists = lists;
	so->nextList = 0;
	so->nullsDone = false;
	so->inNulls = false;
	so->ncands = so->nheap = so->pstart = 0;
	so->capcands = 1024;
	so->cands = palloc(sizeof(FrtIvfCand) * so->capcands);

	so->order = palloc(sizeof(uint32) * lists);
	for (uint32 l = 0; l < lists; l++)
		so->order[l] = l;

	so->noprobe = (scan->numberOfOrderBys == 0 ||
				   (scan->orderByData[0].sk_flags & SK_ISNULL));
	/* frt threshold keys (ivfrange.c): without ORDER BY, rank by a key's probe */
	FrtIvfRangePrepare(scan, &so->range, cache->meta.dim);
	if (so->range.rankprobe != NULL)
		so->noprobe = false;
	if (so->range.active)
		so->nullsDone = true;	/* a NULL distance passes no threshold */
	if (!so->noprobe)
	{
		FaceEmbedding *p = so->range.rankprobe != NULL ? so->range.rankprobe :
			DatumGetFaceEmbedding(scan->orderByData[0].sk_argument);

		if (cache->meta.dim != 0)
			FrtIvfCheckDim(p->dim, cache->meta.dim);
		FrtIvfPrepareProbe(&so->probe, p->x, p->dim, cache->meta.metric);
		if (lists > 1)
		{
			float	   *dist = palloc(sizeof(float) * lists);

			for (uint32 l = 0; l < lists; l++)
				dist[l] = FrtIvfCentroidDistance(&so->probe,
												 cache->centroids + (size_t) l * p->dim);
			qsort_arg(so->order, lists, sizeof(uint32), CompareListDist, dist);
		}
	}
	if (frt_ivf_exact || so->noprobe || so->range.active)	/* threshold: all lists */
		so->batch = lists;
	else
		so->batch = FrtIvfProbes(lists);
	MemoryContextSwitchTo(old);
}

/* amgettuple: the row with the smallest lower bound not yet returned. */
bool
ivfgettuple(IndexScanDesc scan, ScanDirection dir pg_attribute_unused())
{
	FrtIvfScanOpaque so = (FrtIvfScanOpaque) scan->opaque;

	if (!so->started)
		elog(ERROR, "frt_ivf scan was not started with amrescan");
	if (so->range.empty)		/* frt threshold keys: a NULL key matches nothing */
		return false;
	while (so->nheap == 0)
	{
		if (so->pstart < so->ncands)
			Refill(so);
		else
		{
			if (!LoadNextBatch(scan))
				return false;
			if (so->ncands > 0)
				pgstat_count_index_scan(scan->indexRelation);
		}
	}

	/* frt threshold keys (ivfrange.c): later rows' bounds are no smaller */
	if (FrtIvfRangeStop(&so->range, so->cands[0].lb))
		return false;
	scan->xs_heaptid = so->cands[0].tid;
	scan->xs_recheck = so->range.active;	/* the executor applies keys exactly */
	if (scan->numberOfOrderBys > 0)
	{
		scan->xs_recheckorderby = !so->noprobe && !so->inNulls;
		scan->xs_orderbyvals[0] = Float8GetDatum((double) so->cands[0].lb);
		scan->xs_orderbynulls[0] = so->noprobe || so->inNulls;
	}
	so->cands[0] = so->cands[--so->nheap];
	if (so->nheap > 1)
		SiftDown(so->cands, so->nheap, 0);
	return true;
}

/* amendscan: free the scan state. */
void
ivfendscan(IndexScanDesc scan)
{
	FrtIvfScanOpaque so = (FrtIvfScanOpaque) scan->opaque;

	MemoryContextDelete(so->ctx);
	pfree(so);
	scan->opaque = NULL;
}

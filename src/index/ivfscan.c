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
 * Memory.  The candidates (bound and TID of each ranked row, 12 bytes) are
 * the only part of a scan that grows with the table; they are kept within
 * work_mem, less what the rest of the scan holds (list heads and order,
 * the probe, the threshold keys, two chunks of block numbers), but never
 * fewer than FRT_IVF_MIN_CANDIDATES.  A batch is ranked in passes: when the
 * candidate array is full, only about its smallest quarter is kept, in the
 * total order (bound, TID), and the pass's ceiling becomes the largest row
 * kept; later rows above the ceiling are dropped as they are ranked.  When
 * every row kept has been returned, the next pass ranks the batch again and
 * keeps only the rows after that ceiling (its floor).  Each pass thus returns
 * exactly the rows between its floor and its ceiling, and across passes
 * rows come in non-decreasing bound order, as the executor's reorder queue
 * needs (docs/index.md).  A pass costs one more reading of the batch, and
 * happens only when a scan returns more rows than work_mem holds
 * candidates.  Rows past a threshold key's limit are never kept: the scan
 * ends before them.  At DEBUG1 each scan reports its passes and the peak
 * size of its memory context.
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
	bool		sealed;			/* tuples are read from opened copies (ivfplain.c) */
	int			dim;
	bool		noprobe;		/* no ORDER BY or NULL probe: order is arbitrary */
	uint32	   *order;			/* lists in visiting order */
	uint32		nlists;			/* lists, not counting the NULL list */
	uint32		nextList;		/* position in order[] of the next batch */
	uint32		batch;			/* lists per batch */
	uint32		batchStart;		/* the batch being returned: order[batchStart, */
	uint32		batchEnd;		/* batchEnd), or the NULL list when inNulls */
	bool		nullsDone;		/* the NULL list has been queued */
	bool		inNulls;		/* candidates are NULL-valued rows */
	FrtIvfCand *cands;			/* [0, nheap): min-heap; [pstart, ncands): pending */
	int			ncands;
	int			capcands;		/* allocated */
	int			maxcands;		/* most candidates work_mem allows */
	int			nheap;
	int			pstart;
	int			want;			/* rows moved into the heap at the next refill */
	/* the window of the current pass over the batch */
	bool		hasFloor;		/* only rows after floorCand (later passes) */
	bool		hasCeil;		/* only rows up to ceilCand (array was full) */
	bool		truncated;		/* this pass dropped rows after ceilCand */
	FrtIvfCand floorCand;
	FrtIvfCand ceilCand;
	BlockNumber *chunks[2];		/* ScanAllPages: blocks in buffer order */
	FrtIvfRange range;			/* threshold keys (ivfrange.c) */
	/* reported at DEBUG1 when the scan ends */
	int64		nranked;		/* rows ranked, all passes */
	int			nbatches;		/* batches ranked (the NULL list is one) */
	int			npasses;		/* rankings of a batch, first ones included */
	Size		peak;			/* largest size of ctx */
} FrtIvfScanOpaqueData;

typedef FrtIvfScanOpaqueData *FrtIvfScanOpaque;

/* a < b with NaN greater than every number (float8 sort order). */
static inline bool
LbLess(float a, float b)
{
	if (isnan(a))
		return false;
	if (isnan(b))
		return true;
	return a < b;
}

/* The total order of candidates: bound (NaN last), then heap TID. */
static inline bool
CandBefore(const FrtIvfCand *a, const FrtIvfCand *b)
{
	BlockNumber ba,
				bb;

	if (LbLess(a->lb, b->lb))
		return true;
	if (LbLess(b->lb, a->lb))
		return false;
	ba = ItemPointerGetBlockNumberNoCheck(&a->tid);
	bb = ItemPointerGetBlockNumberNoCheck(&b->tid);
	if (ba != bb)
		return ba < bb;
	return ItemPointerGetOffsetNumberNoCheck(&a->tid) <
		ItemPointerGetOffsetNumberNoCheck(&b->tid);
}

/* Restore the min-heap property (by bound) below position i. */
static void
SiftDown(FrtIvfCand *h, int n, int i)
{
	FrtIvfCand x = h[i];

	for (;;)
	{
		int			c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && LbLess(h[c + 1].lb, h[c].lb))
			c++;
		if (!LbLess(h[c].lb, x.lb))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

/* Restore the max-heap property (by bound) below position i. */
static void
MaxSiftDown(FrtIvfCand *h, int n, int i)
{
	FrtIvfCand x = h[i];

	for (;;)
	{
		int			c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && LbLess(h[c].lb, h[c + 1].lb))
			c++;
		if (!LbLess(x.lb, h[c].lb))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

/* Exchange two candidates. */
static inline void
SwapCand(FrtIvfCand *a, FrtIvfCand *b)
{
	FrtIvfCand t = *a;

	*a = *b;
	*b = t;
}

/*
 * Rearrange c[0, n) so that its k smallest candidates in the total order
 * come first, the largest of them at c[k - 1] (Hoare's selection with a
 * median-of-three pivot).
 */
static void
SelectSmallest(FrtIvfCand *c, int n, int k)
{
	int			lo = 0,
				hi = n - 1;

	Assert(k >= 1 && k <= n);
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int			i = lo,
					j = hi;
		FrtIvfCand pivot;

		if (CandBefore(&c[mid], &c[lo]))
			SwapCand(&c[mid], &c[lo]);
		if (CandBefore(&c[hi], &c[lo]))
			SwapCand(&c[hi], &c[lo]);
		if (CandBefore(&c[hi], &c[mid]))
			SwapCand(&c[hi], &c[mid]);
		pivot = c[mid];
		while (i <= j)
		{
			while (CandBefore(&c[i], &pivot))
				i++;
			while (CandBefore(&pivot, &c[j]))
				j--;
			if (i <= j)
			{
				SwapCand(&c[i], &c[j]);
				i++;
				j--;
			}
		}
		/* now c[lo, j] <= pivot <= c[i, hi], and anything between is pivot */
		if (k - 1 <= j)
			hi = j;
		else if (k - 1 >= i)
			lo = i;
		else
			break;
	}
}

/* Remember the largest size the scan's memory context has reached. */
static void
NotePeak(FrtIvfScanOpaque so)
{
	Size		now = MemoryContextMemAllocated(so->ctx, true);

	so->peak = Max(so->peak, now);
}

/*
 * Move the 'want' smallest pending candidates into the heap.  Ranking all
 * rows costs one pass; ordering them all would cost more than the few the
 * executor usually takes, so rows are ordered in growing slices.  The slice
 * is chosen in place: a max-heap of the first 'want' pending rows, into
 * which every smaller later row is swapped.
 */
static void
Refill(FrtIvfScanOpaque so)
{
	int			npend = so->ncands - so->pstart;
	int			m = Min(npend, so->want);
	FrtIvfCand *c;

	Assert(so->nheap == 0);
	if (so->pstart > 0)
		memmove(so->cands, so->cands + so->pstart, sizeof(FrtIvfCand) * npend);
	so->ncands = npend;
	c = so->cands;
	if (npend > m)
	{
		for (int i = m / 2 - 1; i >= 0; i--)
			MaxSiftDown(c, m, i);
		for (int i = m; i < npend; i++)
			if (LbLess(c[i].lb, c[0].lb))
			{
				SwapCand(&c[0], &c[i]);
				MaxSiftDown(c, m, 0);
			}
	}
	so->nheap = m;
	so->pstart = m;
	for (int i = m / 2 - 1; i >= 0; i--)
		SiftDown(c, m, i);
	if (so->want < FRT_IVF_MAX_SLICE)
		so->want = Min(so->want * FRT_IVF_SLICE_GROWTH, FRT_IVF_MAX_SLICE);
}

/* qsort comparator for the total order of candidates. */
static int
CompareCand(const void *a, const void *b)
{
	if (CandBefore((const FrtIvfCand *) a, (const FrtIvfCand *) b))
		return -1;
	return CandBefore((const FrtIvfCand *) b, (const FrtIvfCand *) a) ? 1 : 0;
}

/*
 * The candidate array is full: keep its smallest rows, about one in
 * FRT_IVF_KEEP_FRACTION and at most 'most', and make the largest row kept
 * the pass's ceiling (the rows dropped come back in the next pass).  The
 * ceiling is a quantile of an evenly spaced sample, so that streaming
 * passes do the rest; when the sample misleads (fewer than half or more
 * than 'most' rows would stay), an exact selection does it instead.  A low
 * ceiling means fewer rows accepted afterwards, hence few compactions,
 * while a scan that needs many rows still gets plenty from each pass.
 */
static void
Compact(FrtIvfScanOpaque so, int most)
{
	FrtIvfCand sample[FRT_IVF_CEIL_SAMPLE];
	FrtIvfCand *c = so->cands;
	int			n = so->ncands;
	int			ns = Min(n, FRT_IVF_CEIL_SAMPLE);
	int			target = Max(Min(most, n / FRT_IVF_KEEP_FRACTION), 1);
	int			w = 0;

	Assert(most >= 1 && n > most);
	for (int i = 0; i < ns; i++)
		sample[i] = c[(int64) i * n / ns];
	qsort(sample, ns, sizeof(FrtIvfCand), CompareCand);
	so->ceilCand = sample[Max(ns / FRT_IVF_KEEP_FRACTION, 1) - 1];
	for (int i = 0; i < n; i++)
		w += !CandBefore(&so->ceilCand, &c[i]);
	if (w <= most && w >= target / 2)
	{
		w = 0;
		for (int i = 0; i < n; i++)
		{
			c[w] = c[i];
			w += !CandBefore(&so->ceilCand, &c[i]);
		}
	}
	else
	{
		SelectSmallest(c, n, target);
		so->ceilCand = c[target - 1];
		w = target;
	}
	so->ncands = w;
	so->hasCeil = true;
	so->truncated = true;
}

/*
 * Make room for 'nrows' more candidates: grow the array up to maxcands, and
 * once it is that large, compact it.
 */
static void
MakeRoom(FrtIvfScanOpaque so, int nrows)
{
	int			most;

	if (so->ncands + nrows <= so->capcands)
		return;
	if (so->capcands < so->maxcands)
	{
		int			cap = Min(so->maxcands, Max(so->capcands * 2, so->ncands + nrows));

		so->cands = repalloc_huge(so->cands, sizeof(FrtIvfCand) * (Size) cap);
		so->capcands = cap;
		NotePeak(so);
		if (so->ncands + nrows <= so->capcands)
			return;
	}
	most = Min(so->capcands / 2, so->capcands - nrows);
	if (most < 1)
	{
		/* more rows on one page than the array holds: not a valid page */
		elog(ERROR, "frt_ivf scan: page holds %d rows, more than the %d candidates it may keep",
			 nrows, so->capcands);
	}
	Compact(so, most);
}

/*
 * Whether a ranked row belongs to the current pass: after its floor, up to
 * its ceiling, and not past the threshold where the scan ends.
 */
static inline bool
CandInWindow(FrtIvfScanOpaque so, const FrtIvfCand *c)
{
	if (so->hasFloor && !CandBefore(&so->floorCand, c))
		return false;
	if (so->hasCeil && CandBefore(&so->ceilCand, c))
		return false;
	return !FrtIvfRangeBeyond(&so->range, c->lb);
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
 * Rank every row of one locked page and add those of the pass's window to
 * the candidates (inlined into both page loops: it is the hot loop of every
 * scan).  Line pointers come from the live page, tuple bytes from 'tuples':
 * the page itself, or for a sealed index its opened copy (same offsets).
 */
static pg_attribute_always_inline void
RankPage(FrtIvfScanOpaque so, Page page, Page tuples, Page nextpage, bool ranked)
{
	OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
	FrtIvfProbe probe = so->probe;
	FrtIvfCand *cands;
	bool		filter;
	int			n;
	int			seen = 0;

	MakeRoom(so, maxoff);
	/* a first pass that fits in memory and has no threshold keeps every row */
	filter = so->hasFloor || so->hasCeil || so->range.canstop;

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

		FrtIvfPrefetchAhead(tuples, nextpage, (const char *) tuples + ItemIdGetOffset(iid),
							ItemIdGetLength(iid));
		if (!ItemIdIsNormal(iid))
			continue;
		tup = (FrtIvfTuple *) PageGetItem(tuples, iid);
		cands[n].tid = tup->tid;
		cands[n].lb = ranked ? FrtFloatDown(FrtIvfLowerBound(&probe, tup)) : 0.0f;
		seen++;
		/* no branch on the outcome: about as many rows are dropped as kept */
		n += !filter || CandInWindow(so, &cands[n]);
	}
	so->ncands = n;
	so->nranked += seen;
}

/*
 * Rank a locked data page: in place, or for a sealed index from its opened
 * copy (the NULL list holds nothing sealed).  The unsealed path is the one
 * RankPage of before sealing, specialized at compile time.
 */
static inline void
RankDataPage(IndexScanDesc scan, BlockNumber blkno, Page page, BlockNumber nextblk,
			 Page nextpage, bool ranked, bool nulllist)
{
	FrtIvfScanOpaque so = (FrtIvfScanOpaque) scan->opaque;
	Page		tuples;

	if (likely(!so->sealed) || nulllist)
	{
		RankPage(so, page, page, nextpage, ranked);
		return;
	}
	tuples = FrtIvfPlainPage(scan->indexRelation, blkno, page, so->dim);
	/* the prefetch runs on into the next page's copy, if it has one */
	RankPage(so, page, tuples,
			 nextblk != InvalidBlockNumber ? FrtIvfPlainPeek(scan->indexRelation, nextblk) : NULL,
			 ranked);
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
		RankDataPage(scan, blkno, page, next, nextpage, ranked, list == so->nlists);
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
 * Fill 'blocks' with the next FRT_IVF_BLOCK_CHUNK blocks (at most) from
 * *next on, in the order of the buffers they were last found in; the count.
 */
static int
NextChunk(Relation index, BlockNumber *blocks, BlockNumber *next, BlockNumber nblocks)
{
	int			n = 0;

	while (*next < nblocks && n < FRT_IVF_BLOCK_CHUNK)
		blocks[n++] = (*next)++;
	qsort_arg(blocks, n, sizeof(BlockNumber), CompareRecentBuffer, FrtIvfGetCache(index));
	return n;
}

/*
 * Rank the rows of every list (exact mode, threshold scans, scans without a
 * probe): all data pages of the index, chunk by chunk of consecutive
 * blocks, each in the order of the shared buffers they were last found in,
 * so that memory is read in ascending sweeps wherever the buffer pool put
 * the pages.  Rows never move between pages and every row visible to the
 * scan's snapshot was indexed before the scan began, so the blocks that
 * exist now hold all of them; the NULL list's pages are skipped here and
 * ranked last, as in a list-by-list scan.
 */
static void
ScanAllPages(IndexScanDesc scan)
{
	FrtIvfScanOpaque so = (FrtIvfScanOpaque) scan->opaque;
	Relation	index = scan->indexRelation;
	FrtIvfCache *cache = FrtIvfGetCache(index);
	BlockNumber next = cache->meta.dirStart + cache->meta.dirPages;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	bool		ranked = !so->noprobe;
	Buffer		buf = InvalidBuffer;
	BlockNumber *cur,
			   *ahead;
	int			ncur;

	Assert(so->chunks[0] != NULL && so->chunks[1] != NULL);
	cur = so->chunks[0];
	ahead = so->chunks[1];
	ncur = NextChunk(index, cur, &next, nblocks);
	while (ncur > 0)
	{
		/* the next chunk is ordered first, so that its first page is pinned ahead */
		int			nahead = NextChunk(index, ahead, &next, nblocks);
		BlockNumber *swap;

		for (int i = 0; i < ncur; i++)
		{
			BlockNumber nextblk = i + 1 < ncur ? cur[i + 1] :
				(nahead > 0 ? ahead[0] : InvalidBlockNumber);
			Page		page;
			Buffer		nextbuf = InvalidBuffer;
			Page		nextpage = NULL;

			CHECK_FOR_INTERRUPTS();
			if (!BufferIsValid(buf))
				buf = FrtIvfReadBuffer(index, cur[i]);
			if (nextblk != InvalidBlockNumber)
			{
				nextbuf = FrtIvfPinAhead(scan, nextblk);
				nextpage = BufferGetPage(nextbuf);
			}
			LockBuffer(buf, BUFFER_LOCK_SHARE);
			page = BufferGetPage(buf);
			if (FrtIvfIsDataPage(page) && FrtIvfPageGetOpaque(page)->list < so->nlists)
				RankDataPage(scan, cur[i], page, nextblk, nextpage, ranked, false);
			UnlockReleaseBuffer(buf);
			buf = nextbuf;
		}
		swap = cur;
		cur = ahead;
		ahead = swap;
		ncur = nahead;
	}
}

/*
 * Rank the current batch once (one pass): the rows of its window become
 * the candidates.
 */
static void
RankBatch(IndexScanDesc scan)
{
	FrtIvfScanOpaque so = (FrtIvfScanOpaque) scan->opaque;
	MemoryContext old = MemoryContextSwitchTo(so->ctx);

	so->ncands = so->nheap = so->pstart = 0;
	so->want = FRT_IVF_FIRST_SLICE;
	so->hasCeil = false;
	so->truncated = false;
	so->npasses++;
	if (so->inNulls)
		ScanList(scan, so->nlists);
	else if (so->batchStart == 0 && so->batchEnd == so->nlists)
		ScanAllPages(scan);		/* every list: read pages in buffer order */
	else
		for (uint32 i = so->batchStart; i < so->batchEnd; i++)
			ScanList(scan, so->order[i]);
	NotePeak(so);
	MemoryContextSwitchTo(old);
}

/* Rank the next batch of lists (or the NULL list); false when none is left. */
static bool
LoadNextBatch(IndexScanDesc scan)
{
	FrtIvfScanOpaque so = (FrtIvfScanOpaque) scan->opaque;

	if (so->nextList < so->nlists)
	{
		so->batchStart = so->nextList;
		so->batchEnd = Min(so->nlists, so->nextList + so->batch);
		so->nextList = so->batchEnd;
		so->inNulls = false;
	}
	else if (!so->nullsDone)
	{
		so->nullsDone = true;
		so->inNulls = true;
	}
	else
		return false;
	so->hasFloor = false;
	so->nbatches++;
	RankBatch(scan);
	return true;
}

/*
 * Rank the same batch again for the rows after the previous pass's
 * ceiling, once every row up to it has been returned.
 */
static void
NextPass(IndexScanDesc scan)
{
	FrtIvfScanOpaque so = (FrtIvfScanOpaque) scan->opaque;

	Assert(so->truncated && so->nheap == 0 && so->pstart == so->ncands);
	so->floorCand = so->ceilCand;
	so->hasFloor = true;
	RankBatch(scan);
}

/* Report, at DEBUG1, what the scan that just ended ranked and kept in memory. */
static void
ReportScan(IndexScanDesc scan)
{
	FrtIvfScanOpaque so = (FrtIvfScanOpaque) scan->opaque;

	if (so->npasses > 0)
		ereport(DEBUG1,
				(errmsg_internal("frt_ivf scan of \"%s\": %lld rows ranked in %d passes over %d batches, at most %d candidates, peak memory %zu bytes (work_mem %d kB)",
								 RelationGetRelationName(scan->indexRelation),
								 (long long) so->nranked, so->npasses, so->nbatches,
								 so->maxcands, so->peak, work_mem)));
	so->nranked = 0;
	so->nbatches = 0;
	so->npasses = 0;
	so->peak = 0;
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

/*
 * Allocate the candidate array at its first size and decide how large it
 * may grow: what work_mem leaves after the rest of the scan's state (all
 * allocated by now) and the array's own allocator header, but at least
 * FRT_IVF_MIN_CANDIDATES.
 */
static void
AllocCandidates(FrtIvfScanOpaque so)
{
	Size		budget = (Size) work_mem * 1024;
	Size		before = MemoryContextMemAllocated(so->ctx, true);
	Size		size = sizeof(FrtIvfCand) * FRT_IVF_INITIAL_CANDIDATES;
	Size		after,
				header,
				n;

	so->cands = palloc(size);
	so->capcands = FRT_IVF_INITIAL_CANDIDATES;
	after = MemoryContextMemAllocated(so->ctx, true);
	header = after > before + size ? after - before - size : 0;
	n = budget > before + header ? (budget - before - header) / sizeof(FrtIvfCand) : 0;
	n = Min(n, MaxAllocHugeSize / sizeof(FrtIvfCand));
	n = Min(n, (Size) PG_INT32_MAX / 2);
	so->maxcands = (int) Max(n, (Size) FRT_IVF_MIN_CANDIDATES);
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

	ReportScan(scan);
	MemoryContextReset(so->ctx);
	old = MemoryContextSwitchTo(so->ctx);
	cache = FrtIvfGetCache(scan->indexRelation);
	lists = cache->meta.lists;
	so->sealed = FrtIvfMetaIsSealed(&cache->meta);
	so->dim = cache->meta.dim;
	so->heads = palloc(sizeof(BlockNumber) * (lists + 1));
	memcpy(so->heads, cache->heads, sizeof(BlockNumber) * (lists + 1));
	so->started = true;
	so->nlists = lists;
	so->nextList = 0;
	so->batchStart = so->batchEnd = 0;
	so->nullsDone = false;
	so->inNulls = false;
	so->ncands = so->nheap = so->pstart = 0;
	so->hasFloor = so->hasCeil = so->truncated = false;
	so->chunks[0] = so->chunks[1] = NULL;

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
			pfree(dist);
		}
	}
	if (frt_ivf_exact || so->noprobe || so->range.active)	/* threshold: all lists */
		so->batch = lists;
	else
		so->batch = FrtIvfProbes(lists);

	/* a batch of every list reads the pages chunk by chunk (ScanAllPages) */
	if (so->batch >= lists)
	{
		so->chunks[0] = palloc(sizeof(BlockNumber) * FRT_IVF_BLOCK_CHUNK);
		so->chunks[1] = palloc(sizeof(BlockNumber) * FRT_IVF_BLOCK_CHUNK);
	}
	AllocCandidates(so);
	NotePeak(so);
	MemoryContextSwitchTo(old);
}

/* amgettuple: the row with the smallest lower bound not yet returned. */
bool
ivfgettuple(IndexScanDesc scan, ScanDirection dir pg_attribute_unused())
{
	FrtIvfScanOpaque so = (FrtIvfScanOpaque) scan->opaque;

	if (!so->started)
		elog(ERROR, "frt_ivf scan was not started with amrescan");
	/* frt threshold keys: a NULL key matches nothing; past the limit, nothing more */
	if (so->range.empty || so->range.stopped)
		return false;
	while (so->nheap == 0)
	{
		if (so->pstart < so->ncands)
			Refill(so);
		else if (so->truncated)
			NextPass(scan);
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

/* amendscan: report and free the scan state. */
void
ivfendscan(IndexScanDesc scan)
{
	FrtIvfScanOpaque so = (FrtIvfScanOpaque) scan->opaque;

	ReportScan(scan);
	MemoryContextDelete(so->ctx);
	pfree(so);
	scan->opaque = NULL;
}

/*-------------------------------------------------------------------------
 *
 * ivfbuild.c
 *	  Building an frt_ivf index: sample rows, k-means centroids, then one
 *	  pass over the table that quantizes each row into its list's pages.
 *
 * With several lists the quantized rows go through a tuplesort on their list
 * number, so each list is written as one run of consecutive pages (a scan
 * then reads memory in order).  Pages are written through shared buffers
 * without WAL and the whole relation is WAL-logged at the end
 * (log_newpage_range), as other index builds do.  Memory: the k-means
 * sample and the sort are capped by maintenance_work_mem.
 *
 * A sealed index (ivfseal.c) is sealed as it is loaded: each tuple is
 * sealed before it enters the sort, so what the sort spills to temporary
 * files is ciphertext (with the heap TIDs and list numbers in clear, as on
 * the index pages); the k-means sample and the centroids stay in memory
 * and the centroids are sealed into the directory.  No page and no WAL
 * record of a sealed index ever holds a code, a vector or a centroid.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "frt_compat.h"

#include <float.h>
#include <math.h>

#include "access/tableam.h"
#include "access/tupdesc.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "catalog/pg_operator_d.h"
#include "catalog/pg_type_d.h"
#include "commands/progress.h"
#include "common/pg_prng.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/tuplesort.h"

#include "frt_embedding.h"
#include "frt_ivf.h"
#include "frt_kernels.h"

typedef struct FrtIvfBuildState
{
	Relation	index;
	ForkNumber	fork;
	int			metric;
	int			dim;
	uint32		lists;
	float	   *centroids;		/* lists * dim, or NULL when flat */
	BlockNumber *tails;			/* last page of each list (lists + 1) */
	BlockNumber *heads;
	FrtIvfTuple *tup;			/* scratch tuple */
	const FrtCipher *cipher;	/* the key provider, when sealed */
	FrtIvfTuple *stup;			/* scratch sealed tuple, when sealed */
	Tuplesortstate *sort;		/* (list, tuple) rows, when lists > 1 */
	TupleTableSlot *slot;
	double		indtuples;
	double		heaptuples;
	MemoryContext tmpCtx;

	/* sampling */
	float	   *sample;
	int			nsample;
	int			maxsample;
	double		seen;
	pg_prng_state prng;
} FrtIvfBuildState;

/* Fetch a row's embedding, checking (or learning) the index dimension. */
static FaceEmbedding *
BuildGetValue(FrtIvfBuildState *bs, Datum value)
{
	FaceEmbedding *e = DatumGetFaceEmbedding(value);

	if (bs->dim == 0)
		bs->dim = e->dim;
	FrtIvfCheckDim(e->dim, bs->dim);
	return e;
}

/* Reservoir-sample one row for k-means. */
static void
SampleCallback(Relation index pg_attribute_unused(),
			   ItemPointer tid pg_attribute_unused(), Datum *values, bool *isnull,
			   bool tupleIsAlive pg_attribute_unused(), void *state)
{
	FrtIvfBuildState *bs = (FrtIvfBuildState *) state;
	MemoryContext old;
	FaceEmbedding *e;
	int			slot;

	if (isnull[0])
		return;
	old = MemoryContextSwitchTo(bs->tmpCtx);
	e = BuildGetValue(bs, values[0]);
	if (bs->sample == NULL)
	{
		MemoryContextSwitchTo(old);
		bs->sample = palloc_extended(sizeof(float) * bs->dim * (Size) bs->maxsample,
									 MCXT_ALLOC_HUGE);
		MemoryContextSwitchTo(bs->tmpCtx);
	}
	bs->seen += 1;
	if (bs->nsample < bs->maxsample)
		slot = bs->nsample++;
	else
	{
		uint64		k = pg_prng_uint64_range(&bs->prng, 0, (uint64) bs->seen - 1);

		slot = k < (uint64) bs->maxsample ? (int) k : -1;
	}
	if (slot >= 0)
	{
		float	   *dst = bs->sample + (size_t) slot * bs->dim;
		double		n2 = 0.0;

		memcpy(dst, e->x, sizeof(float) * bs->dim);
		if (bs->metric == FRT_IVF_METRIC_COSINE)
		{
			for (int i = 0; i < bs->dim; i++)
				n2 += (double) dst[i] * dst[i];
			if (n2 > 0.0)
				for (int i = 0; i < bs->dim; i++)
					dst[i] = (float) (dst[i] / sqrt(n2));
		}
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmpCtx);
}

/* Lloyd's k-means on the sample (spherical for cosine); fills bs->centroids. */
static void
KMeans(FrtIvfBuildState *bs)
{
	int			k = bs->lists,
				n = bs->nsample,
				dim = bs->dim;
	float	   *c = bs->centroids;
	double	   *sums = palloc_extended(sizeof(double) * dim * (Size) k, MCXT_ALLOC_HUGE);
	int		   *counts = palloc(sizeof(int) * k);
	float	   *cn2 = palloc(sizeof(float) * k);
	float	   *dots = palloc(sizeof(float) * k);

	/* start from k distinct sample rows (the sample is already random) */
	for (int j = 0; j < k; j++)
		memcpy(c + (size_t) j * dim, bs->sample + (size_t) j * dim, sizeof(float) * dim);

	for (int it = 0; it < FRT_IVF_KMEANS_ITERS; it++)
	{
		CHECK_FOR_INTERRUPTS();
		memset(sums, 0, sizeof(double) * dim * (Size) k);
		memset(counts, 0, sizeof(int) * k);
		for (int j = 0; j < k; j++)
			cn2[j] = frt_kernels->dot(c + (size_t) j * dim, c + (size_t) j * dim, dim);
		for (int i = 0; i < n; i++)
		{
			const float *x = bs->sample + (size_t) i * dim;
			int			best = 0;
			float		bestd = FLT_MAX;
			double	   *s;

			frt_kernels->dot_batch(x, c, dim, dim, k, dots);
			for (int j = 0; j < k; j++)
			{
				float		d = (bs->metric == FRT_IVF_METRIC_L2) ?
					cn2[j] - 2.0f * dots[j] : -dots[j];

				if (d < bestd)
				{
					bestd = d;
					best = j;
				}
			}
			counts[best]++;
			s = sums + (size_t) best * dim;
			for (int d = 0; d < dim; d++)
				s[d] += x[d];
		}
		for (int j = 0; j < k; j++)
		{
			float	   *cj = c + (size_t) j * dim;

			if (counts[j] == 0)
			{
				/* empty list: restart it at a random sample row */
				int			r = (int) pg_prng_uint64_range(&bs->prng, 0, n - 1);

				memcpy(cj, bs->sample + (size_t) r * dim, sizeof(float) * dim);
				continue;
			}
			for (int d = 0; d < dim; d++)
				cj[d] = (float) (sums[(size_t) j * dim + d] / counts[j]);
		}
		if (bs->metric != FRT_IVF_METRIC_L2)
		{
			/* centroids of unit vectors are compared by direction */
			for (int j = 0; j < k; j++)
			{
				float	   *cj = c + (size_t) j * dim;
				double		n2 = 0.0;

				for (int d = 0; d < dim; d++)
					n2 += (double) cj[d] * cj[d];
				if (n2 > 0.0 && bs->metric == FRT_IVF_METRIC_COSINE)
					for (int d = 0; d < dim; d++)
						cj[d] = (float) (cj[d] / sqrt(n2));
			}
		}
	}
	pfree(sums);
	pfree(counts);
	pfree(cn2);
	pfree(dots);
}

/* Add an empty data page of a list at the end of the fork (locked). */
static Buffer
NewListPage(FrtIvfBuildState *bs, uint32 list)
{
	Buffer		buf = FrtIvfNewBuffer(bs->index, bs->fork);

	FrtIvfInitPage(BufferGetPage(buf), FRT_IVF_PAGE_DATA, list);
	MarkBufferDirty(buf);
	return buf;
}

/* Append one tuple to the tail page of a list during build. */
static void
BuildAppend(FrtIvfBuildState *bs, uint32 list, const FrtIvfTuple *tup, Size size)
{
	Buffer		buf;
	Page		page;

	if (bs->tails[list] == InvalidBlockNumber)
	{
		/* first row of a list (sorted build): its head page goes here */
		buf = NewListPage(bs, list);
		bs->heads[list] = bs->tails[list] = BufferGetBlockNumber(buf);
	}
	else
	{
		buf = ReadBufferExtended(bs->index, bs->fork, bs->tails[list], RBM_NORMAL, NULL);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	}
	page = BufferGetPage(buf);
	if (PageGetFreeSpace(page) < size)
	{
		Buffer		nbuf = FrtIvfNewBuffer(bs->index, bs->fork);

		FrtIvfInitPage(BufferGetPage(nbuf), FRT_IVF_PAGE_DATA, list);
		FrtIvfPageGetOpaque(page)->next = BufferGetBlockNumber(nbuf);
		MarkBufferDirty(buf);
		UnlockReleaseBuffer(buf);
		buf = nbuf;
		page = BufferGetPage(buf);
		bs->tails[list] = BufferGetBlockNumber(buf);
	}
	if (PageAddItem(page, (Item) tup, size, InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
		elog(ERROR, "failed to add tuple to frt_ivf index \"%s\"",
			 RelationGetRelationName(bs->index));
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);
}

/* Quantize one heap row and add it to its list. */
static void
LoadCallback(Relation index pg_attribute_unused(), ItemPointer tid,
			 Datum *values, bool *isnull,
			 bool tupleIsAlive pg_attribute_unused(), void *state)
{
	FrtIvfBuildState *bs = (FrtIvfBuildState *) state;
	MemoryContext old = MemoryContextSwitchTo(bs->tmpCtx);
	uint32		list;
	Size		size;
	FrtIvfTuple *tup = bs->tup;

	if (isnull[0])
	{
		list = bs->lists;
		size = FRT_IVF_TUPLE_SIZE(0);
		memset(bs->tup, 0, size);
		bs->tup->flags = FRT_IVF_TUPLE_NULL;
	}
	else
	{
		FaceEmbedding *e = BuildGetValue(bs, values[0]);

		size = FRT_IVF_TUPLE_SIZE(bs->dim);
		memset(bs->tup, 0, size);
		FrtIvfFormTuple(bs->tup, e->x, bs->dim, bs->metric);
		if (bs->lists > 1)
		{
			FrtIvfCache fake;

			fake.meta.lists = bs->lists;
			fake.meta.dim = bs->dim;
			fake.meta.metric = bs->metric;
			fake.centroids = bs->centroids;
			list = FrtIvfNearestList(&fake, e->x);
		}
		else
			list = 0;
	}
	bs->tup->tid = *tid;
	if (bs->cipher != NULL && !isnull[0])
	{
		/* sealed before the sort: what it spills to disk is ciphertext */
		size = FRT_IVF_SEALED_TUPLE_SIZE(bs->dim);
		memset(bs->stup, 0, size);
		FrtIvfSealTuple(bs->cipher, bs->tup, bs->dim, bs->stup);
		explicit_bzero(bs->tup, FRT_IVF_TUPLE_SIZE(bs->dim));
		tup = bs->stup;
	}
	if (bs->sort)
	{
		bytea	   *b = palloc(VARHDRSZ + size);

		SET_VARSIZE(b, VARHDRSZ + size);
		memcpy(VARDATA(b), tup, size);
		ExecClearTuple(bs->slot);
		bs->slot->tts_values[0] = Int32GetDatum((int32) list);
		bs->slot->tts_values[1] = PointerGetDatum(b);
		bs->slot->tts_isnull[0] = bs->slot->tts_isnull[1] = false;
		ExecStoreVirtualTuple(bs->slot);
		tuplesort_puttupleslot(bs->sort, bs->slot);
	}
	else
		BuildAppend(bs, list, tup, size);
	bs->indtuples += 1;
	if (((int64) bs->indtuples) % FRT_IVF_PROGRESS_ROWS == 0)
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) bs->indtuples);
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmpCtx);
}

/* Start the sort that groups rows by list. */
static void
BeginListSort(FrtIvfBuildState *bs)
{
	TupleDesc	desc = CreateTemplateTupleDesc(2);
	AttrNumber	attNums[] = {1};
	Oid			sortOperators[] = {Int4LessOperator};
	Oid			sortCollations[] = {InvalidOid};
	bool		nullsFirst[] = {false};

	TupleDescInitEntry(desc, 1, "list", INT4OID, -1, 0);
	TupleDescInitEntry(desc, 2, "tuple", BYTEAOID, -1, 0);
	bs->sort = tuplesort_begin_heap(desc, 1, attNums, sortOperators, sortCollations,
									nullsFirst, maintenance_work_mem, NULL, TUPLESORT_NONE);
	bs->slot = MakeSingleTupleTableSlot(desc, &TTSOpsVirtual);
}

/* Write the sorted rows, list after list. */
static void
FinishListSort(FrtIvfBuildState *bs)
{
	TupleTableSlot *slot = MakeSingleTupleTableSlot(bs->slot->tts_tupleDescriptor,
													&TTSOpsMinimalTuple);
	int64		written = 0;

	tuplesort_performsort(bs->sort);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, FRT_IVF_PHASE_WRITE);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, 0);
	while (tuplesort_gettupleslot(bs->sort, true, false, slot, NULL))
	{
		bool		isnull;
		uint32		list = (uint32) DatumGetInt32(slot_getattr(slot, 1, &isnull));
		bytea	   *b = DatumGetByteaPP(slot_getattr(slot, 2, &isnull));
		Size		size = VARSIZE_ANY_EXHDR(b);

		memcpy(bs->tup, VARDATA_ANY(b), size);
		BuildAppend(bs, list, bs->tup, size);
		ExecClearTuple(slot);
		if (++written % FRT_IVF_PROGRESS_ROWS == 0)
			pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, written);
		CHECK_FOR_INTERRUPTS();
	}
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, written);
	tuplesort_end(bs->sort);
	bs->sort = NULL;
	ExecDropSingleTupleTableSlot(slot);
	ExecDropSingleTupleTableSlot(bs->slot);
}

/* How many lists to build: the reloption, or chosen from the row estimate. */
static uint32
ChooseLists(Relation heap, Relation index)
{
	FrtIvfOptions *opts = (FrtIvfOptions *) index->rd_options;
	double		rows;

	if (opts && opts->lists > 0)
		return opts->lists;
	rows = heap ? heap->rd_rel->reltuples : 0;
	if (heap && rows < 0)
		rows = (double) RelationGetNumberOfBlocks(heap) * FRT_IVF_GUESS_ROWS_PER_PAGE;
	if (rows < FRT_IVF_AUTO_FLAT_ROWS)
		return 1;
	return (uint32) Min(FRT_IVF_MAX_LISTS, rint(sqrt(rows)));
}

/* Write the directory items and the meta page once the lists are known. */
static void
WriteDirectoryAndMeta(FrtIvfBuildState *bs, BlockNumber dirStart, uint32 dirPages, uint32 perPage)
{
	uint32		cdim = bs->lists > 1 ? bs->dim : 0;
	Size		itemsz = bs->cipher ? FRT_IVF_SEALED_LIST_SIZE(cdim) : FRT_IVF_LIST_SIZE(cdim);
	FrtIvfListData *item = palloc0(itemsz);
	Buffer		buf;
	Page		page;
	FrtIvfMetaData *meta;

	for (uint32 l = 0; l <= bs->lists; l++)
	{
		buf = ReadBufferExtended(bs->index, bs->fork, dirStart + l / perPage, RBM_NORMAL, NULL);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		page = BufferGetPage(buf);
		memset(item, 0, itemsz);
		item->head = bs->heads[l];
		item->insertPage = bs->tails[l];
		if (cdim > 0 && l < bs->lists && bs->cipher)
		{
			FrtIvfSealCentroid(bs->cipher, l, bs->centroids + (size_t) l * cdim, cdim, item->centroid);
			item->flags = FRT_IVF_LIST_SEALED;
		}
		else if (cdim > 0 && l < bs->lists)
			memcpy(item->centroid, bs->centroids + (size_t) l * cdim, sizeof(float) * cdim);
		if (PageAddItem(page, (Item) item, itemsz, InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
			elog(ERROR, "failed to add directory item to frt_ivf index");
		MarkBufferDirty(buf);
		UnlockReleaseBuffer(buf);
	}

	buf = ReadBufferExtended(bs->index, bs->fork, FRT_IVF_META_BLKNO, RBM_NORMAL, NULL);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buf);
	meta = FrtIvfPageGetMeta(page);
	meta->magic = FRT_IVF_MAGIC;
	meta->version = FRT_IVF_VERSION;
	meta->dim = bs->dim;
	meta->metric = bs->metric;
	meta->lists = bs->lists;
	meta->flags = bs->cipher ? FRT_IVF_META_SEALED : 0;
	meta->dirStart = dirStart;
	meta->dirPages = dirPages;
	meta->perDirPage = perPage;
	((PageHeader) page)->pd_lower = ((char *) meta + sizeof(FrtIvfMetaData)) - (char *) page;
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);
}

/*
 * WAL-log every page of the new relation (full images), in chunks so that
 * pg_stat_progress_create_index shows blocks done / total meanwhile.
 */
static void
LogNewRelation(Relation index, ForkNumber fork, bool progress)
{
	BlockNumber nblocks = RelationGetNumberOfBlocksInFork(index, fork);

	if (progress)
	{
		const int	idx[] = {PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_SCAN_BLOCKS_TOTAL,
		PROGRESS_SCAN_BLOCKS_DONE};
		const int64 val[] = {FRT_IVF_PHASE_WAL, nblocks, 0};

		pgstat_progress_update_multi_param(3, idx, val);
	}
	for (BlockNumber blk = 0; blk < nblocks; blk += FRT_IVF_WAL_CHUNK)
	{
		BlockNumber end = Min(nblocks, blk + FRT_IVF_WAL_CHUNK);

		log_newpage_range(index, fork, blk, end, true);
		if (progress)
			pgstat_progress_update_param(PROGRESS_SCAN_BLOCKS_DONE, end);
	}
}

/* Build the index into 'fork' (MAIN, or INIT for an empty unlogged index). */
static void
BuildIndex(FrtIvfBuildState *bs, Relation heap, struct IndexInfo *indexInfo)
{
	Relation	index = bs->index;
	uint32		perPage,
				dirPages;
	Size		itemsz;
	Buffer		buf;

	if (heap && bs->lists > 1)
	{
		double		mem = (double) maintenance_work_mem * 1024.0 * FRT_IVF_SAMPLE_MEM_SHARE;
		double		want = Max((double) FRT_IVF_SAMPLE_MIN,
							   (double) bs->lists * FRT_IVF_SAMPLE_PER_LIST);
		int			rowbytes = sizeof(float) * Max(bs->dim, 1);

		if (bs->dim == 0)
			rowbytes = sizeof(float) * FRT_MAX_DIM;
		bs->maxsample = (int) Max(1.0, Min(want, mem / rowbytes));
		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, FRT_IVF_PHASE_SAMPLE);
		/*
		 * No synchronized scan: it would start wherever another scan of a
		 * large table is, and the reservoir sample, so the centroids, would
		 * depend on that; from block 0 a build of the same rows is repeatable.
		 */
		table_index_build_scan(heap, index, indexInfo, false, true, SampleCallback, bs, NULL);
		ereport(DEBUG1,
				(errmsg_internal("frt_ivf build: k-means sample of %d rows (at most %d under maintenance_work_mem) for %u lists",
								 bs->nsample, bs->maxsample, bs->lists)));
		if (bs->nsample < (int) bs->lists)
			bs->lists = Max(1, bs->nsample);
		if (bs->lists > 1)
		{
			pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, FRT_IVF_PHASE_KMEANS);
			bs->centroids = palloc_extended(sizeof(float) * bs->dim * (Size) bs->lists,
											MCXT_ALLOC_HUGE);
			KMeans(bs);
		}
		if (bs->sample)
			pfree(bs->sample);
		bs->sample = NULL;
	}

	/* meta page and directory pages first, then one head page per list */
	if (bs->lists > 1 && bs->dim > FRT_IVF_MAX_CENTROID_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("frt_ivf supports lists > 1 only up to %d dimensions",
						FRT_IVF_MAX_CENTROID_DIM),
				 errhint("Use lists = 1 (a flat index) for this column.")));
	if (bs->lists > 1 && bs->cipher && bs->dim > FRT_IVF_MAX_SEALED_CENTROID_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a sealed frt_ivf index supports lists > 1 only up to %d dimensions",
						FRT_IVF_MAX_SEALED_CENTROID_DIM),
				 errhint("Use lists = 1 (a flat index) for this column.")));
	itemsz = bs->cipher ? FRT_IVF_SEALED_LIST_SIZE(bs->lists > 1 ? bs->dim : 0) :
		FRT_IVF_LIST_SIZE(bs->lists > 1 ? bs->dim : 0);
	Assert(itemsz + sizeof(ItemIdData) <= FRT_IVF_PAGE_ROOM);
	perPage = FRT_IVF_PAGE_ROOM / (itemsz + sizeof(ItemIdData));
	dirPages = (bs->lists + 1 + perPage - 1) / perPage;

	buf = FrtIvfNewBuffer(index, bs->fork);
	Assert(BufferGetBlockNumber(buf) == FRT_IVF_META_BLKNO);
	FrtIvfInitPage(BufferGetPage(buf), FRT_IVF_PAGE_META, 0);
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);
	for (uint32 d = 0; d < dirPages; d++)
	{
		buf = FrtIvfNewBuffer(index, bs->fork);
		FrtIvfInitPage(BufferGetPage(buf), FRT_IVF_PAGE_DIR, d);
		MarkBufferDirty(buf);
		UnlockReleaseBuffer(buf);
	}
	/*
	 * Head pages: with a sorted load each list's head is made when its first
	 * row arrives, so the list is one run of pages; otherwise (one list, or
	 * no table) they are made now.
	 */
	bs->heads = palloc(sizeof(BlockNumber) * (bs->lists + 1));
	bs->tails = palloc(sizeof(BlockNumber) * (bs->lists + 1));
	for (uint32 l = 0; l <= bs->lists; l++)
	{
		bs->heads[l] = bs->tails[l] = InvalidBlockNumber;
		if (heap && bs->lists > 1)
			continue;
		buf = NewListPage(bs, l);
		bs->heads[l] = bs->tails[l] = BufferGetBlockNumber(buf);
		UnlockReleaseBuffer(buf);
	}

	if (heap)
	{
		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, FRT_IVF_PHASE_LOAD);
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL,
									 (int64) Max(0, heap->rd_rel->reltuples));
		if (bs->lists > 1)
			BeginListSort(bs);
		/* block order too, so that rows sit in their lists in heap order */
		bs->heaptuples = table_index_build_scan(heap, index, indexInfo, false, true,
												LoadCallback, bs, NULL);
		if (bs->sort)
			FinishListSort(bs);
	}
	for (uint32 l = 0; l <= bs->lists; l++)
	{
		if (bs->heads[l] != InvalidBlockNumber)
			continue;
		/* a list no row went to still gets its (empty) head page */
		buf = NewListPage(bs, l);
		bs->heads[l] = bs->tails[l] = BufferGetBlockNumber(buf);
		UnlockReleaseBuffer(buf);
	}
	WriteDirectoryAndMeta(bs, FRT_IVF_DIR_START, dirPages, perPage);

	if (RelationNeedsWAL(index) || bs->fork == INIT_FORKNUM)
		LogNewRelation(index, bs->fork, heap != NULL);
}

/* Set up a build state for an index. */
static void
InitBuildState(FrtIvfBuildState *bs, Relation heap, Relation index, ForkNumber fork)
{
	int			typmod = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;

	memset(bs, 0, sizeof(*bs));
	bs->index = index;
	bs->fork = fork;
	bs->metric = FrtIvfMetricOf(index);
	bs->dim = typmod > 0 ? typmod : 0;
	bs->lists = ChooseLists(heap, index);
	bs->tmpCtx = AllocSetContextCreate(CurrentMemoryContext, "frt_ivf build",
									   ALLOCSET_DEFAULT_SIZES);
	pg_prng_seed(&bs->prng, FRT_IVF_KMEANS_SEED);	/* reproducible builds */
	/* room for a sealed tuple too: the sort hands them back in bs->tup */
	bs->tup = palloc0(FRT_IVF_SEALED_TUPLE_SIZE(bs->dim > 0 ? bs->dim : FRT_MAX_DIM));
	if (FrtIvfBuildSealed(index))
	{
		bs->cipher = FrtIvfCipherRequire(index);
		bs->stup = palloc0(FRT_IVF_SEALED_TUPLE_SIZE(bs->dim > 0 ? bs->dim : FRT_MAX_DIM));
	}
}

/* ambuild: build a new index over an existing table. */
IndexBuildResult *
ivfbuild(Relation heap, Relation index, struct IndexInfo *indexInfo)
{
	FrtIvfBuildState bs;
	IndexBuildResult *result;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));
	InitBuildState(&bs, heap, index, MAIN_FORKNUM);
	BuildIndex(&bs, heap, indexInfo);
	MemoryContextDelete(bs.tmpCtx);

	result = palloc(sizeof(IndexBuildResult));
	result->heap_tuples = bs.heaptuples;
	result->index_tuples = bs.indtuples;
	return result;
}

/* ambuildempty: the init fork of an unlogged index (one flat list, no rows). */
void
ivfbuildempty(Relation index)
{
	FrtIvfBuildState bs;

	InitBuildState(&bs, NULL, index, INIT_FORKNUM);
	bs.lists = 1;				/* no rows, no centroids, whatever the reloption says */
	BuildIndex(&bs, NULL, NULL);
	MemoryContextDelete(bs.tmpCtx);
}

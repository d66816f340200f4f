/*-------------------------------------------------------------------------
 *
 * ivfinsert.c
 *	  Inserting one row into an frt_ivf index (generic WAL).
 *
 * A row goes to its nearest list.  The directory keeps, per list, a hint of
 * the first page that may have room (VACUUM moves it back when it frees
 * space); from there the list is followed to a page with room, or a page is
 * added at its end while the last page is still locked, so two inserters
 * never both extend the same list.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "frt_compat.h"

#include "access/generic_xlog.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "frt_embedding.h"
#include "frt_ivf.h"

/* Locate a list's directory item: its page and offset. */
static void
DirectoryPosition(const FrtIvfCache *cache, uint32 list, BlockNumber *blkno, OffsetNumber *off)
{
	*blkno = cache->meta.dirStart + list / cache->meta.perDirPage;
	*off = FirstOffsetNumber + list % cache->meta.perDirPage;
}

/* Read a list's insert-page hint. */
static BlockNumber
GetInsertPage(Relation index, const FrtIvfCache *cache, uint32 list)
{
	BlockNumber dblk;
	OffsetNumber doff;
	Buffer		buf;
	Page		page;
	BlockNumber result;

	DirectoryPosition(cache, list, &dblk, &doff);
	buf = ReadBuffer(index, dblk);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	result = ((FrtIvfListData *) PageGetItem(page, PageGetItemId(page, doff)))->insertPage;
	UnlockReleaseBuffer(buf);
	return result;
}

/* Set a list's insert-page hint (WAL-logged). */
void
FrtIvfSetInsertPage(Relation index, uint32 list, BlockNumber blkno)
{
	FrtIvfCache *cache = FrtIvfGetCache(index);
	BlockNumber dblk;
	OffsetNumber doff;
	Buffer		buf;
	GenericXLogState *state;
	Page		page;
	FrtIvfListData *item;

	DirectoryPosition(cache, list, &dblk, &doff);
	buf = ReadBuffer(index, dblk);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	item = (FrtIvfListData *) PageGetItem(BufferGetPage(buf),
										  PageGetItemId(BufferGetPage(buf), doff));
	if (item->insertPage != blkno)
	{
		state = GenericXLogStart(index);
		page = GenericXLogRegisterBuffer(state, buf, 0);
		item = (FrtIvfListData *) PageGetItem(page, PageGetItemId(page, doff));
		item->insertPage = blkno;
		GenericXLogFinish(state);
	}
	UnlockReleaseBuffer(buf);
}

/* Add a tuple to a list: the first page with room from the hint on, or a new page. */
void
FrtIvfInsertTuple(Relation index, uint32 list, const FrtIvfTuple *tup, Size size)
{
	FrtIvfCache *cache = FrtIvfGetCache(index);
	BlockNumber hint = GetInsertPage(index, cache, list);
	BlockNumber blkno = hint;

	for (;;)
	{
		Buffer		buf = ReadBuffer(index, blkno);
		GenericXLogState *state;
		Page		page;
		BlockNumber next;

		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		page = BufferGetPage(buf);
		if (FrtIvfPageHasRoom(page, size))
		{
			state = GenericXLogStart(index);
			page = GenericXLogRegisterBuffer(state, buf, 0);
			if (FrtIvfPageAddTuple(page, tup, size) == InvalidOffsetNumber)
				elog(ERROR, "failed to add tuple to frt_ivf index \"%s\"",
					 RelationGetRelationName(index));
			GenericXLogFinish(state);
			UnlockReleaseBuffer(buf);
			break;
		}
		next = FrtIvfPageGetOpaque(page)->next;
		if (next == InvalidBlockNumber)
		{
			/* end of the list: link a new page, still holding this one */
			Buffer		nbuf = FrtIvfNewBuffer(index, MAIN_FORKNUM);
			Page		npage;

			state = GenericXLogStart(index);
			page = GenericXLogRegisterBuffer(state, buf, 0);
			npage = GenericXLogRegisterBuffer(state, nbuf, GENERIC_XLOG_FULL_IMAGE);
			FrtIvfInitPage(npage, FRT_IVF_PAGE_DATA, list);
			if (PageAddItem(npage, (Item) tup, size, InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
				elog(ERROR, "failed to add tuple to frt_ivf index \"%s\"",
					 RelationGetRelationName(index));
			FrtIvfPageGetOpaque(page)->next = BufferGetBlockNumber(nbuf);
			GenericXLogFinish(state);
			blkno = BufferGetBlockNumber(nbuf);
			UnlockReleaseBuffer(nbuf);
			UnlockReleaseBuffer(buf);
			break;
		}
		UnlockReleaseBuffer(buf);
		blkno = next;
	}
	if (blkno != hint)
		FrtIvfSetInsertPage(index, list, blkno);
}

/* Record the dimension in an index built empty over a column without typmod. */
static void
SetDimension(Relation index, int dim)
{
	Buffer		buf = ReadBuffer(index, FRT_IVF_META_BLKNO);
	GenericXLogState *state;
	Page		page;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	if (FrtIvfPageGetMeta(BufferGetPage(buf))->dim == 0)
	{
		state = GenericXLogStart(index);
		page = GenericXLogRegisterBuffer(state, buf, 0);
		FrtIvfPageGetMeta(page)->dim = dim;
		GenericXLogFinish(state);
	}
	UnlockReleaseBuffer(buf);
	if (index->rd_amcache)
		pfree(index->rd_amcache);
	index->rd_amcache = NULL;
	CacheInvalidateRelcache(index);
}

/* aminsert: quantize the new row and add it to its list. */
bool
ivfinsert(Relation index, Datum *values, bool *isnull,
		  ItemPointer heap_tid, Relation heap pg_attribute_unused(),
		  IndexUniqueCheck checkUnique pg_attribute_unused(),
		  bool indexUnchanged pg_attribute_unused(),
		  struct IndexInfo *indexInfo pg_attribute_unused())
{
	MemoryContext ctx = AllocSetContextCreate(CurrentMemoryContext, "frt_ivf insert",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(ctx);
	FrtIvfCache *cache = FrtIvfGetCache(index);
	FrtIvfTuple *tup;
	Size		size;
	uint32		list;

	if (isnull[0])
	{
		size = FRT_IVF_TUPLE_SIZE(0);
		tup = palloc0(size);
		tup->flags = FRT_IVF_TUPLE_NULL;
		list = cache->meta.lists;
	}
	else
	{
		FaceEmbedding *e = DatumGetFaceEmbedding(values[0]);

		if (cache->meta.dim == 0)
		{
			SetDimension(index, e->dim);
			cache = FrtIvfGetCache(index);
		}
		FrtIvfCheckDim(e->dim, cache->meta.dim);
		size = FRT_IVF_TUPLE_SIZE(e->dim);
		tup = palloc0(size);
		FrtIvfFormTuple(tup, e->x, e->dim, cache->meta.metric);
		list = FrtIvfNearestList(cache, e->x);
	}
	tup->tid = *heap_tid;
	if (FrtIvfMetaIsSealed(&cache->meta) && !isnull[0])
	{
		/* sealed before it reaches a page: codes never go to disk or WAL in clear */
		int			dim = cache->meta.dim;
		FrtIvfTuple *sealed = palloc0(FRT_IVF_SEALED_TUPLE_SIZE(dim));

		FrtIvfSealTuple(FrtIvfCipherRequire(index), tup, dim, sealed);
		explicit_bzero(tup, size);
		tup = sealed;
		size = FRT_IVF_SEALED_TUPLE_SIZE(dim);
	}
	FrtIvfInsertTuple(index, list, tup, size);

	MemoryContextSwitchTo(old);
	MemoryContextDelete(ctx);
	return false;
}

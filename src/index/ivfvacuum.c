/*-------------------------------------------------------------------------
 *
 * ivfvacuum.c
 *	  VACUUM of an frt_ivf index: remove dead rows and erase their bytes.
 *
 * ambulkdelete reads the data pages once, in physical block order (so an
 * uncached index is read sequentially; after a build each list is one run
 * of pages anyway).  Each page with dead rows is changed under generic WAL:
 * every dead tuple's bytes (TID, scale, residual, code) are overwritten
 * with zeros and its line pointer is marked LP_DEAD, keeping its storage as
 * an erased slot that a later insert of the same size reuses in place.
 * Live tuples do not move, so a record holds only the zeroed slots and line
 * pointers, and no byte of a deleted row survives in the page (nor, after
 * the next checkpoint, in the file).  When the page needs a full-page image
 * anyway (first change after a checkpoint), the record is registered as a
 * full image at once, which spares generic WAL computing a delta that
 * XLogInsert would throw away.  Pages without dead rows are not changed and
 * not WAL-logged.  Afterwards each list's insert hint is moved back to the
 * list's first page with room (found from the links read on the way), so
 * the space is reused before the index grows.
 *
 * Progress: PostgreSQL 15's pg_stat_progress_vacuum has no per-index
 * fields, and a backend tracks one command at a time (VACUUM's), so
 * pg_stat_progress_create_index cannot be used.  When this backend is the
 * one reporting the VACUUM (always, since frt_ivf opts out of parallel
 * VACUUM: a worker could not report), the index, blocks done and blocks
 * total go into three parameter slots that VACUUM leaves unused; the view
 * frt.ivf_vacuum_progress shows them.
 *
 * The per-page work is in small helpers (VacuumCollectDead, EraseSlot,
 * VacuumErase) so that a new tuple layout only changes those.  VACUUM
 * reads only the heap TIDs, which a sealed index keeps in clear: it opens
 * nothing, and erases sealed slots (ciphertext) like any other.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "frt_compat.h"

#include "access/generic_xlog.h"
#include "access/xloginsert.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "utils/backend_status.h"
#include "utils/rel.h"

#include "frt_ivf.h"

/* What one bulk-delete pass carries from page to page. */
typedef struct FrtIvfVacuum
{
	Relation	index;
	IndexBulkDeleteResult *stats;
	IndexBulkDeleteCallback callback;
	void	   *callback_state;
	BufferAccessStrategy strategy;
	Size		tupsize;		/* size of a non-NULL row's tuple */
	bool		progress;		/* this backend reports the VACUUM's progress */
	BlockNumber start;			/* first block that may be a data page */
	BlockNumber nblocks;		/* blocks scanned: start .. nblocks - 1 */
	BlockNumber *next;			/* per scanned block: its list link */
	bool	   *room;			/* per scanned block: a data page with room */
} FrtIvfVacuum;

/* Whether this backend reports a VACUUM in pg_stat_progress_vacuum. */
static bool
VacuumReportsProgress(void)
{
	return pgstat_track_activities && MyBEEntry != NULL &&
		MyBEEntry->st_progress_command == PROGRESS_COMMAND_VACUUM;
}

/* Publish (or, with InvalidOid, clear) this index's VACUUM progress. */
static void
VacuumProgress(FrtIvfVacuum *vs, Oid indexoid, BlockNumber done, BlockNumber total)
{
	const int	index[] = {FRT_IVF_PROGRESS_VACUUM_INDEX,
		FRT_IVF_PROGRESS_VACUUM_BLOCKS_DONE,
	FRT_IVF_PROGRESS_VACUUM_BLOCKS_TOTAL};
	int64		val[3];

	if (!vs->progress)
		return;
	val[0] = indexoid;
	val[1] = done;
	val[2] = total;
	pgstat_progress_update_multi_param(3, index, val);
}

/*
 * Collect the offsets of a page's dead tuples (those whose heap TID the
 * callback names) and count the live ones.
 */
static int
VacuumCollectDead(FrtIvfVacuum *vs, Page page, OffsetNumber *dead)
{
	OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
	int			ndead = 0;

	for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
	{
		ItemId		iid = PageGetItemId(page, off);
		FrtIvfTuple *tup;

		if (!ItemIdIsNormal(iid))
			continue;			/* erased slot */
		tup = (FrtIvfTuple *) PageGetItem(page, iid);
		if (vs->callback(&tup->tid, vs->callback_state))
			dead[ndead++] = off;
		else
			vs->stats->num_index_tuples += 1;
	}
	return ndead;
}

/* Erase one tuple: zero all its bytes and keep its storage as an LP_DEAD slot. */
static void
EraseSlot(Page page, OffsetNumber off)
{
	ItemId		iid = PageGetItemId(page, off);

	memset(PageGetItem(page, iid), 0, ItemIdGetLength(iid));
	ItemIdMarkDead(iid);
}

/* Erase a page's dead tuples in one generic WAL record. */
static void
VacuumErase(FrtIvfVacuum *vs, Buffer buf, const OffsetNumber *dead, int ndead)
{
	GenericXLogState *state = GenericXLogStart(vs->index);
	int			flags = 0;
	Page		page;

	/*
	 * On the first change after a checkpoint XLogInsert logs the whole page
	 * whatever the delta; asking for the image directly saves computing it.
	 * If a checkpoint begins after this test, XLogInsert still adds the image.
	 */
	if (RelationNeedsWAL(vs->index) && XLogCheckBufferNeedsBackup(buf))
		flags = GENERIC_XLOG_FULL_IMAGE;
	page = GenericXLogRegisterBuffer(state, buf, flags);
	for (int i = 0; i < ndead; i++)
		EraseSlot(page, dead[i]);
	FrtIvfPageGetOpaque(page)->flags |= FRT_IVF_PAGE_HAS_DEAD;
	GenericXLogFinish(state);
	vs->stats->tuples_removed += ndead;
}

/* Vacuum one block: erase its dead tuples; note its link and whether it has room. */
static void
VacuumPage(FrtIvfVacuum *vs, BlockNumber blkno)
{
	Buffer		buf;
	Page		page;
	FrtIvfPageOpaque *op;
	OffsetNumber dead[MaxOffsetNumber];
	int			ndead;
	BlockNumber i = blkno - vs->start;

	vacuum_delay_point();
	buf = ReadBufferExtended(vs->index, MAIN_FORKNUM, blkno, RBM_NORMAL, vs->strategy);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buf);
	op = FrtIvfPageGetOpaque(page);
	vs->next[i] = InvalidBlockNumber;
	vs->room[i] = false;
	if (!FrtIvfIsDataPage(page))
	{
		UnlockReleaseBuffer(buf);
		return;
	}
	ndead = VacuumCollectDead(vs, page, dead);
	if (ndead > 0)
		VacuumErase(vs, buf, dead, ndead);
	vs->next[i] = op->next;
	vs->room[i] = FrtIvfPageHasRoom(page, vs->tupsize);
	UnlockReleaseBuffer(buf);
}

/*
 * Point each list's insert hint at its first page with room, following the
 * links read during the scan (pages added since are at the lists' ends).
 */
static void
VacuumMoveHints(FrtIvfVacuum *vs, const BlockNumber *heads, uint32 lists)
{
	BlockNumber npages = vs->nblocks - vs->start;

	for (uint32 list = 0; list <= lists; list++)
	{
		BlockNumber blkno = heads[list];

		for (BlockNumber steps = 0; steps < npages; steps++)
		{
			if (blkno < vs->start || blkno >= vs->nblocks)
				break;
			if (vs->room[blkno - vs->start])
			{
				FrtIvfSetInsertPage(vs->index, list, blkno);
				break;
			}
			blkno = vs->next[blkno - vs->start];
		}
	}
}

/* ambulkdelete: remove and erase index rows whose heap rows are dead. */
IndexBulkDeleteResult *
ivfbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
			  IndexBulkDeleteCallback callback, void *callback_state)
{
	FrtIvfVacuum vs;
	FrtIvfCache *cache = FrtIvfGetCache(info->index);
	uint32		lists = cache->meta.lists;
	BlockNumber *heads = palloc(sizeof(BlockNumber) * (lists + 1));
	BlockNumber npages;

	/* copy what is needed: the cache does not survive a relcache flush */
	memcpy(heads, cache->heads, sizeof(BlockNumber) * (lists + 1));
	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));

	memset(&vs, 0, sizeof(vs));
	vs.index = info->index;
	vs.stats = stats;
	vs.callback = callback;
	vs.callback_state = callback_state;
	vs.strategy = info->strategy;
	vs.tupsize = FrtIvfMetaIsSealed(&cache->meta) ? FRT_IVF_SEALED_TUPLE_SIZE(cache->meta.dim) :
		FRT_IVF_TUPLE_SIZE(cache->meta.dim);
	vs.progress = VacuumReportsProgress();
	vs.start = cache->meta.dirStart + cache->meta.dirPages;

	/*
	 * Tuples never move and inserts only add rows that are not dead to this
	 * VACUUM, so the blocks that exist now are all that need reading.
	 */
	vs.nblocks = Max(RelationGetNumberOfBlocks(info->index), vs.start);
	npages = vs.nblocks - vs.start;
	vs.next = palloc_extended(sizeof(BlockNumber) * Max(npages, 1), MCXT_ALLOC_HUGE);
	vs.room = palloc_extended(sizeof(bool) * Max(npages, 1), MCXT_ALLOC_HUGE);

	VacuumProgress(&vs, RelationGetRelid(info->index), 0, npages);
	for (BlockNumber blkno = vs.start; blkno < vs.nblocks; blkno++)
	{
		VacuumPage(&vs, blkno);
		VacuumProgress(&vs, RelationGetRelid(info->index), blkno - vs.start + 1, npages);
	}
	VacuumMoveHints(&vs, heads, lists);
	VacuumProgress(&vs, InvalidOid, 0, 0);

	pfree(vs.next);
	pfree(vs.room);
	pfree(heads);
	return stats;
}

/*
 * amvacuumcleanup: report the index size.  When bulkdelete did not run
 * (nothing to remove) the index was not changed, and like nbtree it returns
 * NULL instead of reading every page to count rows: an insert-only VACUUM
 * costs nothing here.  ANALYZE keeps the index's statistics current.
 */
IndexBulkDeleteResult *
ivfvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	if (info->analyze_only || stats == NULL)
		return stats;
	stats->num_pages = RelationGetNumberOfBlocks(info->index);
	return stats;
}

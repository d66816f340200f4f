/*-------------------------------------------------------------------------
 *
 * ivfvacuum.c
 *	  VACUUM of an frt_ivf index: remove dead rows and erase their bytes.
 *
 * Each data page with dead rows is rewritten under generic WAL: the dead
 * tuples are zeroed, removed (PageIndexMultiDelete compacts the rest), and
 * the page's whole free space is zeroed, so no byte of a deleted row's code
 * survives in the page (nor, after the next checkpoint, in the file).  The
 * list's insert hint is moved back to the first page that now has room, so
 * the space is reused.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

#include "frt_ivf.h"

/* ambulkdelete: remove and erase index rows whose heap rows are dead. */
IndexBulkDeleteResult *
ivfbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
			  IndexBulkDeleteCallback callback, void *callback_state)
{
	Relation	index = info->index;
	FrtIvfCache *cache = FrtIvfGetCache(index);
	BufferAccessStrategy bas = info->strategy;
	Size		tupsize = FRT_IVF_TUPLE_SIZE(cache->meta.dim);
	int64		pagesDone = 0;

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));

	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL,
								 (int64) RelationGetNumberOfBlocks(index));
	for (uint32 list = 0; list <= cache->meta.lists; list++)
	{
		BlockNumber blkno = cache->heads[list];
		BlockNumber firstFree = InvalidBlockNumber;

		while (blkno != InvalidBlockNumber)
		{
			Buffer		buf;
			Page		page;
			OffsetNumber maxoff;
			OffsetNumber dead[MaxOffsetNumber];
			int			ndead = 0;
			BlockNumber next;

			vacuum_delay_point();
			buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, bas);
			LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
			page = BufferGetPage(buf);
			maxoff = PageGetMaxOffsetNumber(page);
			for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
			{
				FrtIvfTuple *tup = (FrtIvfTuple *) PageGetItem(page, PageGetItemId(page, off));

				if (callback(&tup->tid, callback_state))
					dead[ndead++] = off;
				else
					stats->num_index_tuples += 1;
			}
			if (ndead > 0)
			{
				GenericXLogState *state = GenericXLogStart(index);

				page = GenericXLogRegisterBuffer(state, buf, 0);
				for (int i = 0; i < ndead; i++)
				{
					ItemId		iid = PageGetItemId(page, dead[i]);

					memset(PageGetItem(page, iid), 0, ItemIdGetLength(iid));
				}
				PageIndexMultiDelete(page, dead, ndead);
				FrtIvfZeroFreeSpace(page);
				GenericXLogFinish(state);
				stats->tuples_removed += ndead;
			}
			if (firstFree == InvalidBlockNumber && PageGetFreeSpace(page) >= tupsize)
				firstFree = blkno;
			next = FrtIvfPageGetOpaque(page)->next;
			UnlockReleaseBuffer(buf);
			blkno = next;
			pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, ++pagesDone);
		}
		/* reuse freed space: point the insert hint at the first page with room */
		if (firstFree != InvalidBlockNumber)
			FrtIvfSetInsertPage(index, list, firstFree);
	}
	return stats;
}

/* amvacuumcleanup: report the index size (and count rows if bulkdelete did not run). */
IndexBulkDeleteResult *
ivfvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	Relation	index = info->index;

	if (info->analyze_only)
		return stats;
	if (stats == NULL)
	{
		FrtIvfCache *cache = FrtIvfGetCache(index);

		stats = palloc0(sizeof(IndexBulkDeleteResult));
		for (uint32 list = 0; list <= cache->meta.lists; list++)
		{
			BlockNumber blkno = cache->heads[list];

			while (blkno != InvalidBlockNumber)
			{
				Buffer		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno,
													 RBM_NORMAL, info->strategy);
				Page		page;

				LockBuffer(buf, BUFFER_LOCK_SHARE);
				page = BufferGetPage(buf);
				stats->num_index_tuples += PageGetMaxOffsetNumber(page);
				blkno = FrtIvfPageGetOpaque(page)->next;
				UnlockReleaseBuffer(buf);
			}
		}
	}
	stats->num_pages = RelationGetNumberOfBlocks(index);
	return stats;
}

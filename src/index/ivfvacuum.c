/*-------------------------------------------------------------------------
 *
 * ivfvacuum.c
 *	  VACUUM of an frt_ivf index: remove dead rows and erase their bytes.
 *
 * Each data page with dead rows is changed under generic WAL: every dead
 * tuple's bytes (TID, scale, residual, code) are overwritten with zeros and
 * its line pointer is marked LP_DEAD, keeping its storage as an erased slot
 * that a later insert of the same size reuses in place.  Live tuples do not
 * move, so the WAL record holds only the zeroed slots and line pointers, and
 * no byte of a deleted row survives in the page (nor, after the next
 * checkpoint, in the file).  The list's insert hint is moved back to the
 * first page with room, so the space is reused before the index grows.
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
	uint32		lists = cache->meta.lists;
	BlockNumber *heads = palloc(sizeof(BlockNumber) * (lists + 1));

	/* copy the heads: the cache does not survive a relcache flush */
	memcpy(heads, cache->heads, sizeof(BlockNumber) * (lists + 1));

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));

	for (uint32 list = 0; list <= lists; list++)
	{
		BlockNumber blkno = heads[list];
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
				ItemId		iid = PageGetItemId(page, off);
				FrtIvfTuple *tup;

				if (!ItemIdIsNormal(iid))
					continue;
				tup = (FrtIvfTuple *) PageGetItem(page, iid);
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
					ItemIdMarkDead(iid);
				}
				FrtIvfPageGetOpaque(page)->flags |= FRT_IVF_PAGE_HAS_DEAD;
				GenericXLogFinish(state);
				stats->tuples_removed += ndead;
			}
			if (firstFree == InvalidBlockNumber && FrtIvfPageHasRoom(page, tupsize))
				firstFree = blkno;
			next = FrtIvfPageGetOpaque(page)->next;
			UnlockReleaseBuffer(buf);
			blkno = next;
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
				for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); off++)
					if (ItemIdIsNormal(PageGetItemId(page, off)))
						stats->num_index_tuples += 1;
				blkno = FrtIvfPageGetOpaque(page)->next;
				UnlockReleaseBuffer(buf);
			}
		}
	}
	stats->num_pages = RelationGetNumberOfBlocks(index);
	return stats;
}

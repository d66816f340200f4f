/*-------------------------------------------------------------------------
 *
 * scrub.c
 *	  Overwrite the bytes that deleted rows leave behind in heap pages.
 *
 * PostgreSQL does not zero the space a removed tuple occupied: pruning
 * (heap_page_prune -> PageRepairFragmentation) moves the surviving tuples
 * together and leaves the old bytes in the page's free space ("hole"), where
 * they stay until a later insert happens to overwrite them.  For face data
 * that is not erasure.  frt.scrub_heap(rel) visits every page of a table
 * (and of its TOAST table) and, under a cleanup lock:
 *
 *   1. prunes the page (removes tuples that are dead to every snapshot, as
 *	    VACUUM's first pass would), so a page VACUUM skipped is handled too;
 *   2. zeroes the hole between pd_lower and pd_upper, and the alignment
 *	    padding after each stored tuple (PageAddItem leaves it untouched, so it
 *	    can keep a few stale bytes of an older tuple);
 *   3. if anything changed, WAL-logs the page as a full-page image, whose
 *	    replay rebuilds the page with the hole zeroed: replicas and crash
 *	    recovery end with the same scrubbed page.
 *
 * Pages whose hole and padding are already zero are left alone and cost no
 * WAL, so a daily run writes only the pages that lost rows since the last.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/tableam.h"
#include "access/xloginsert.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/bufpage.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "frt_governance.h"
#include "frt_jobs.h"

PG_FUNCTION_INFO_V1(frt_scrub_heap);

/* True if len bytes at p are all zero. */
static bool
FrtIsZero(const char *p, Size len)
{
	Size		i;

	for (i = 0; i < len; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/*
 * Zero the stale bytes of one locked heap page: the hole and the tuples'
 * alignment padding.  Returns the number of non-zero bytes found (0 = the
 * page was already clean and was not modified).  When 'apply' is false the
 * page is only inspected.
 */
int64
FrtPageStaleBytes(Page page, bool apply)
{
	PageHeader	ph = (PageHeader) page;
	int64		stale = 0;
	OffsetNumber off,
				maxoff;

	if (PageIsNew(page))
		return 0;
	if (ph->pd_lower < SizeOfPageHeaderData || ph->pd_lower > ph->pd_upper ||
		ph->pd_upper > ph->pd_special || ph->pd_special > BLCKSZ)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("corrupted page pointers: lower = %u, upper = %u, special = %u",
						ph->pd_lower, ph->pd_upper, ph->pd_special)));

	/* The hole. */
	if (!FrtIsZero((char *) page + ph->pd_lower, ph->pd_upper - ph->pd_lower))
	{
		Size		i;

		for (i = ph->pd_lower; i < ph->pd_upper; i++)
			stale += (((char *) page)[i] != 0);
		if (apply)
			memset((char *) page + ph->pd_lower, 0, ph->pd_upper - ph->pd_lower);
	}

	/* Padding between the end of each stored tuple and the next MAXALIGN. */
	maxoff = PageGetMaxOffsetNumber(page);
	for (off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off))
	{
		ItemId		lp = PageGetItemId(page, off);
		Size		start,
					end;

		if (!ItemIdHasStorage(lp))
			continue;
		start = ItemIdGetOffset(lp) + ItemIdGetLength(lp);
		end = Min(MAXALIGN(start), ph->pd_special);
		if (start >= end || FrtIsZero((char *) page + start, end - start))
			continue;
		stale += end - start;
		if (apply)
			memset((char *) page + start, 0, end - start);
	}
	return stale;
}

/*
 * Prune and scrub the pages of one heap relation, adding to *stats: every
 * page, or, if only is not NULL, the pages whose bit is set in that bitmap
 * of nonly blocks.  With wait, waits for other backends' pins on a page;
 * without, skips (and counts) a page it cannot lock at once.
 */
void
FrtScrubRelation(Relation rel, FrtScrubStats *stats, const uint8 *only, BlockNumber nonly,
				 bool wait)
{
	BlockNumber nblocks,
				blkno;
	BufferAccessStrategy strategy = GetAccessStrategy(BAS_VACUUM);
	GlobalVisState *vistest = GlobalVisTestFor(rel);

	nblocks = RelationGetNumberOfBlocks(rel);
	for (blkno = 0; blkno < nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;
		int			nnewlpdead;
		int64		stale;

		CHECK_FOR_INTERRUPTS();
		if (only != NULL && (blkno >= nonly || !(only[blkno / 8] & (1 << (blkno % 8)))))
			continue;
		buf = ReadBufferExtended(rel, MAIN_FORKNUM, blkno, RBM_NORMAL, strategy);
		/* Tuples may move: no other backend may hold a pin on the page. */
		if (wait)
			LockBufferForCleanup(buf);
		else if (!ConditionalLockBufferForCleanup(buf))
		{
			ReleaseBuffer(buf);
			stats->pages_skipped++;
			continue;
		}
		page = BufferGetPage(buf);
		stats->pages++;

		if (!PageIsNew(page) && !PageIsEmpty(page))
			stats->tuples_pruned += heap_page_prune(rel, buf, InvalidTransactionId,
													vistest, InvalidTransactionId, 0,
													&nnewlpdead, NULL);

		stale = FrtPageStaleBytes(page, false);
		if (stale > 0)
		{
			START_CRIT_SECTION();
			(void) FrtPageStaleBytes(page, true);
			MarkBufferDirty(buf);
			/* A full-page image: its redo leaves the hole zeroed as well. */
			if (RelationNeedsWAL(rel))
				log_newpage_buffer(buf, true);
			END_CRIT_SECTION();
			stats->pages_scrubbed++;
			stats->bytes_zeroed += stale;
		}
		UnlockReleaseBuffer(buf);
	}
	FreeAccessStrategy(strategy);
}

/* Open rel (a plain table or its TOAST table) for scrubbing; checks its kind. */
Relation
FrtScrubOpen(Oid relid)
{
	Relation	rel = relation_open(relid, ShareUpdateExclusiveLock);

	if (rel->rd_rel->relkind != RELKIND_RELATION &&
		rel->rd_rel->relkind != RELKIND_TOASTVALUE &&
		rel->rd_rel->relkind != RELKIND_MATVIEW)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", RelationGetRelationName(rel)),
				 errhint("frt.scrub_heap works on plain tables; scrub each partition of a partitioned table.")));
	if (rel->rd_tableam == NULL || rel->rd_rel->relam != HEAP_TABLE_AM_OID)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("\"%s\" does not use the heap table access method",
						RelationGetRelationName(rel))));
	if (RELATION_IS_OTHER_TEMP(rel))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot scrub temporary tables of other sessions")));
	return rel;
}

/*
 * frt.scrub_heap(rel regclass) -> (pages, pages_scrubbed, bytes_zeroed,
 * tuples_pruned): prune and zero the free space of rel and of its TOAST
 * table.  Only the table's owner (or a superuser) may run it.
 */
Datum
frt_scrub_heap(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	FrtScrubStats stats = {0};
	Relation	rel;
	Oid			toastid;
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	rel = FrtScrubOpen(relid);
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, RelationGetRelationName(rel));
	toastid = rel->rd_rel->reltoastrelid;

	FrtScrubRelation(rel, &stats, NULL, 0, true);
	if (OidIsValid(toastid))
	{
		Relation	toast = FrtScrubOpen(toastid);

		FrtScrubRelation(toast, &stats, NULL, 0, true);
		relation_close(toast, ShareUpdateExclusiveLock);
	}
	relation_close(rel, ShareUpdateExclusiveLock);

	values[0] = Int64GetDatum(stats.pages);
	values[1] = Int64GetDatum(stats.pages_scrubbed);
	values[2] = Int64GetDatum(stats.bytes_zeroed);
	values[3] = Int64GetDatum(stats.tuples_pruned);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}

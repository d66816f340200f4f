/*-------------------------------------------------------------------------
 *
 * tidstate.c
 *	  Where a deleted row stands on its way out of the files.
 *
 * frt.heap_tid_state(rel, tid, xmin) looks at the heap page that held a
 * row (identified by its TID and inserting transaction) and says how far
 * its erasure has gone:
 *
 *   'present'        the row's tuple is still on the page (deleted but not yet
 *                    removed by pruning/VACUUM, or not deleted at all);
 *   'index_pending'  the tuple is gone but the page still has LP_DEAD line
 *                    pointers: index entries may still point here until a
 *                    VACUUM with index cleanup runs;
 *   'unscrubbed'     tuple and index pointers are gone, but the page's free
 *                    space still holds non-zero bytes (run frt.scrub_heap);
 *   'erased'         none of the above: nothing of the row is left on the
 *                    page, and no index entry can point to it (VACUUM only
 *                    frees a line pointer after removing its index entries).
 *
 * The test is conservative: it never reports more progress than there is
 * (an LP_DEAD pointer of another row, or stale bytes of another row, keep
 * the answer at 'index_pending' or 'unscrubbed').  A page beyond the end of
 * the relation was truncated away by VACUUM and counts as 'erased'.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/transam.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_class.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/itemptr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/rel.h"

#include "frt_governance.h"
#include "frt_jobs.h"

PG_FUNCTION_INFO_V1(frt_heap_tid_state);

/* Classify the page and slot where a deleted row lived (see above). */
static const char *
FrtTidState(Page page, OffsetNumber off, TransactionId xmin)
{
	OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
	OffsetNumber i;

	if (PageIsNew(page))
		return "erased";
	if (off >= FirstOffsetNumber && off <= maxoff)
	{
		ItemId		lp = PageGetItemId(page, off);

		if (ItemIdIsNormal(lp))
		{
			HeapTupleHeader tup = (HeapTupleHeader) PageGetItem(page, lp);

			if (TransactionIdEquals(HeapTupleHeaderGetRawXmin(tup), xmin))
				return "present";
		}
	}
	for (i = FirstOffsetNumber; i <= maxoff; i = OffsetNumberNext(i))
		if (ItemIdIsDead(PageGetItemId(page, i)))
			return "index_pending";
	if (FrtPageStaleBytes(page, false) > 0)
		return "unscrubbed";
	return "erased";
}

/* frt.heap_tid_state(rel regclass, t tid, xmin xid) -> text (see above). */
Datum
frt_heap_tid_state(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ItemPointer tid = (ItemPointer) PG_GETARG_POINTER(1);
	TransactionId xmin = DatumGetTransactionId(PG_GETARG_DATUM(2));
	BlockNumber blkno = ItemPointerGetBlockNumberNoCheck(tid);
	Relation	rel;
	const char *state;

	rel = relation_open(relid, AccessShareLock);
	if (rel->rd_rel->relkind != RELKIND_RELATION || rel->rd_rel->relam != HEAP_TABLE_AM_OID)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a heap table", RelationGetRelationName(rel))));
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, RelationGetRelationName(rel));
	if (RELATION_IS_OTHER_TEMP(rel))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot inspect temporary tables of other sessions")));

	if (blkno >= RelationGetNumberOfBlocks(rel))
		state = "erased";
	else
	{
		Buffer		buf = ReadBuffer(rel, blkno);

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		state = FrtTidState(BufferGetPage(buf), ItemPointerGetOffsetNumberNoCheck(tid), xmin);
		UnlockReleaseBuffer(buf);
	}
	relation_close(rel, AccessShareLock);
	PG_RETURN_TEXT_P(cstring_to_text(state));
}

/*-------------------------------------------------------------------------
 *
 * ivfcheck.c
 *	  frt.index_check(regclass): verify an frt_ivf index, one row per problem.
 *
 * Checks the meta page and directory, walks every list (page kinds, list
 * numbers, links, cycles, tuple sizes and fields), then scans the table
 * with a snapshot taken before the walk and checks that every row visible
 * to it is indexed under its (HOT root) TID with exactly the code its value
 * quantizes to, so that the error bound the scans rely on holds.  No value
 * of a vector is ever reported.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "frt_compat.h"

#include <math.h>

#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/index.h"
#include "catalog/pg_am.h"
#include "common/hashfn.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "frt_embedding.h"
#include "frt_ivf.h"
#include "frt_names.h"

/* What the check remembers of one index entry. */
typedef struct CheckEntry
{
	ItemPointerData tid;
	uint32		hash;			/* hash of the tuple's payload */
	bool		seen;			/* matched by a heap row */
} CheckEntry;

typedef struct CheckState
{
	ReturnSetInfo *rsinfo;
	Relation	index;
	FrtIvfMetaData meta;		/* copies: the relcache may flush its cache */
	BlockNumber *heads;
	CheckEntry *entries;
	int			nentries;
	int			capentries;
	FrtIvfTuple *scratch;
	int64		nproblems;
	MemoryContext tmpCtx;
} CheckState;


/* Add one problem row. */
static void
Report(CheckState *cs, const char *kind, int64 blkno, const char *fmt,...)
{
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	char		buf[512];
	va_list		ap;

	if (++cs->nproblems > FRT_IVF_CHECK_MAX_PROBLEMS)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	values[0] = CStringGetTextDatum(kind);
	values[1] = Int64GetDatum(blkno);
	nulls[1] = (blkno < 0);
	values[2] = CStringGetTextDatum(buf);
	tuplestore_putvalues(cs->rsinfo->setResult, cs->rsinfo->setDesc, values, nulls);
}

/* Hash of the part of a tuple that depends on the row's value. */
static uint32
PayloadHash(const FrtIvfTuple *tup, int dim)
{
	return hash_bytes((const unsigned char *) &tup->flags,
					  offsetof(FrtIvfTuple, code) - offsetof(FrtIvfTuple, flags) + dim);
}

/* Order entries by TID. */
static int
CompareEntries(const void *a, const void *b)
{
	return ItemPointerCompare(&((CheckEntry *) a)->tid, &((CheckEntry *) b)->tid);
}

/* Walk every list, checking pages and tuples and remembering the entries. */
static void
CheckLists(CheckState *cs)
{
	BlockNumber nblocks = RelationGetNumberOfBlocks(cs->index);
	bool	   *visited = palloc0(sizeof(bool) * nblocks);
	int			dim = cs->meta.dim;

	for (uint32 b = 0; b <= cs->meta.dirPages && b < nblocks; b++)
		visited[b] = true;
	for (uint32 list = 0; list <= cs->meta.lists; list++)
	{
		BlockNumber blkno = cs->heads[list];
		bool		nulllist = (list == cs->meta.lists);

		while (blkno != InvalidBlockNumber)
		{
			Buffer		buf;
			Page		page;
			FrtIvfPageOpaque *op;
			OffsetNumber maxoff;

			CHECK_FOR_INTERRUPTS();
			if (blkno >= nblocks)
			{
				Report(cs, "structure", blkno, "list %u links to block %u beyond the end (%u blocks)",
					   list, blkno, nblocks);
				break;
			}
			if (visited[blkno])
			{
				Report(cs, "structure", blkno, "list %u reaches block %u twice (cycle or shared page)",
					   list, blkno);
				break;
			}
			visited[blkno] = true;
			buf = ReadBuffer(cs->index, blkno);
			LockBuffer(buf, BUFFER_LOCK_SHARE);
			page = BufferGetPage(buf);
			op = FrtIvfPageGetOpaque(page);
			if (PageIsNew(page) || PageGetSpecialSize(page) != MAXALIGN(sizeof(FrtIvfPageOpaque)) ||
				op->page_id != FRT_IVF_PAGE_ID || op->kind != FRT_IVF_PAGE_DATA)
			{
				Report(cs, "structure", blkno, "block is not an frt_ivf data page");
				UnlockReleaseBuffer(buf);
				break;
			}
			if (op->list != list)
				Report(cs, "structure", blkno, "page belongs to list %u but is linked from list %u",
					   op->list, list);
			maxoff = PageGetMaxOffsetNumber(page);
			for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
			{
				ItemId		iid = PageGetItemId(page, off);
				FrtIvfTuple *tup;
				Size		want = nulllist ? FRT_IVF_TUPLE_SIZE(0) : FRT_IVF_TUPLE_SIZE(dim);
				CheckEntry *e;

				if (ItemIdIsDead(iid) && ItemIdHasStorage(iid))
				{
					/* an erased slot: every byte must be zero */
					const char *b = (const char *) PageGetItem(page, iid);

					for (Size i = 0; i < ItemIdGetLength(iid); i++)
						if (b[i] != 0)
						{
							Report(cs, "structure", blkno, "erased item %u still holds data", off);
							break;
						}
					continue;
				}
				if (!ItemIdIsNormal(iid) || ItemIdGetLength(iid) != want)
				{
					Report(cs, "structure", blkno, "item %u has length %u, expected %zu",
						   off, ItemIdGetLength(iid), want);
					continue;
				}
				tup = (FrtIvfTuple *) PageGetItem(page, iid);
				if (!ItemPointerIsValid(&tup->tid))
					Report(cs, "structure", blkno, "item %u has an invalid heap TID", off);
				if (nulllist != ((tup->flags & FRT_IVF_TUPLE_NULL) != 0))
					Report(cs, "structure", blkno, "item %u: NULL flag does not match its list", off);
				if (!nulllist && !(isfinite(tup->scale) && tup->scale >= 0 &&
								   isfinite(tup->resid) && tup->resid >= 0 &&
								   isfinite(tup->cnorm2) && tup->cnorm2 >= 0))
					Report(cs, "structure", blkno, "item %u has an invalid scale, residual or norm", off);
				if (cs->nentries >= cs->capentries)
				{
					cs->capentries *= 2;
					cs->entries = repalloc_huge(cs->entries, sizeof(CheckEntry) * (Size) cs->capentries);
				}
				e = &cs->entries[cs->nentries++];
				e->tid = tup->tid;
				e->hash = nulllist ? 0 : PayloadHash(tup, dim);
				e->seen = false;
			}
			blkno = op->next;
			UnlockReleaseBuffer(buf);
		}
	}
	/* a page no list reaches is lost space, or a lost row if it holds any */
	for (BlockNumber b = 0; b < nblocks; b++)
	{
		Buffer		buf;
		Page		page;

		if (visited[b])
			continue;
		buf = ReadBuffer(cs->index, b);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (!PageIsNew(page) && PageGetMaxOffsetNumber(page) > 0)
			Report(cs, "structure", b, "block holds %u items but no list reaches it",
				   PageGetMaxOffsetNumber(page));
		UnlockReleaseBuffer(buf);
	}
	pfree(visited);
	qsort(cs->entries, cs->nentries, sizeof(CheckEntry), CompareEntries);
}

/* Heap scan callback: the visible row must be indexed with its own code. */
static void
HeapRowCallback(Relation index pg_attribute_unused(), ItemPointer tid,
				Datum *values, bool *isnull,
				bool tupleIsAlive pg_attribute_unused(), void *state)
{
	CheckState *cs = (CheckState *) state;
	CheckEntry	key;
	CheckEntry *e;
	uint32		hash = 0;
	MemoryContext old = MemoryContextSwitchTo(cs->tmpCtx);

	key.tid = *tid;
	if (!isnull[0])
	{
		FaceEmbedding *v = DatumGetFaceEmbedding(values[0]);

		if (v->dim != cs->meta.dim)
		{
			Report(cs, "mismatch", -1, "heap row (%u,%u) has %d dimensions, the index %d",
				   ItemPointerGetBlockNumber(tid), ItemPointerGetOffsetNumber(tid),
				   v->dim, cs->meta.dim);
			goto done;
		}
		memset(cs->scratch, 0, FRT_IVF_TUPLE_SIZE(v->dim));
		FrtIvfFormTuple(cs->scratch, v->x, v->dim, cs->meta.metric);
		hash = PayloadHash(cs->scratch, v->dim);
	}
	e = bsearch(&key, cs->entries, cs->nentries, sizeof(CheckEntry), CompareEntries);
	/* a TID may be indexed more than once only transiently; find the match */
	while (e && e > cs->entries && ItemPointerEquals(&e[-1].tid, tid))
		e--;
	for (; e && e < cs->entries + cs->nentries && ItemPointerEquals(&e->tid, tid); e++)
		if (e->hash == hash)
			break;
	if (e == NULL || e >= cs->entries + cs->nentries || !ItemPointerEquals(&e->tid, tid))
		Report(cs, "missing", -1, "heap row (%u,%u) is not in the index",
			   ItemPointerGetBlockNumber(tid), ItemPointerGetOffsetNumber(tid));
	else
		e->seen = true;
done:
	MemoryContextSwitchTo(old);
	MemoryContextReset(cs->tmpCtx);
}

PG_FUNCTION_INFO_V1(frt_ivf_index_check);
/* frt.index_check(regclass): rows (kind, blkno, detail), none when healthy. */
Datum
frt_ivf_index_check(PG_FUNCTION_ARGS)
{
	Oid			indexoid = PG_GETARG_OID(0);
	CheckState	cs;
	Relation	index,
				heap;
	Oid			heapoid;
	Snapshot	snapshot;
	IndexInfo  *indexInfo;
	TableScanDesc scan;

	InitMaterializedSRF(fcinfo, 0);
	memset(&cs, 0, sizeof(cs));
	cs.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	heapoid = IndexGetRelation(indexoid, true);
	if (!OidIsValid(heapoid))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an index", get_rel_name(indexoid) ? get_rel_name(indexoid) : "?")));
	heap = table_open(heapoid, AccessShareLock);
	index = index_open(indexoid, AccessShareLock);
	if (index->rd_rel->relam != FrtNamesAmOid())
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an frt_ivf index", RelationGetRelationName(index))));
	if (!pg_class_ownercheck(indexoid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_INDEX, RelationGetRelationName(index));

	cs.index = index;
	cs.meta = FrtIvfGetCache(index)->meta;
	cs.heads = palloc(sizeof(BlockNumber) * (cs.meta.lists + 1));
	memcpy(cs.heads, FrtIvfGetCache(index)->heads, sizeof(BlockNumber) * (cs.meta.lists + 1));
	if (cs.meta.metric != FrtIvfMetricOf(index))
		Report(&cs, "structure", FRT_IVF_META_BLKNO, "meta page metric %u does not match the operator class",
			   cs.meta.metric);
	cs.capentries = 1024;
	cs.entries = palloc(sizeof(CheckEntry) * cs.capentries);
	cs.scratch = palloc0(FRT_IVF_TUPLE_SIZE(FRT_MAX_DIM));
	cs.tmpCtx = AllocSetContextCreate(CurrentMemoryContext, "frt index_check",
									  ALLOCSET_DEFAULT_SIZES);

	/* the snapshot comes first: every row it sees was indexed before the walk */
	snapshot = RegisterSnapshot(GetTransactionSnapshot());
	CheckLists(&cs);

	indexInfo = BuildIndexInfo(index);
	scan = table_beginscan_strat(heap, snapshot, 0, NULL, true, false);
	table_index_build_scan(heap, index, indexInfo, true, false, HeapRowCallback, &cs, scan);
	UnregisterSnapshot(snapshot);

	if (cs.nproblems > FRT_IVF_CHECK_MAX_PROBLEMS)
	{
		int64		total = cs.nproblems;

		cs.nproblems = 0;		/* let this last row through */
		Report(&cs, "truncated", -1, "%lld problems in all; only the first %d are listed",
			   (long long) total, FRT_IVF_CHECK_MAX_PROBLEMS);
	}
	index_close(index, AccessShareLock);
	table_close(heap, AccessShareLock);
	return (Datum) 0;
}

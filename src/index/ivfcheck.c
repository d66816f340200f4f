/*-------------------------------------------------------------------------
 *
 * ivfcheck.c
 *	  frt.index_check(regclass): verify an frt_ivf index, one row per problem.
 *
 * Checks the meta page and directory, walks every list (page kinds, list
 * numbers, links, cycles, tuple sizes and fields), then scans the table
 * with a snapshot taken before the walk and checks that every row visible
 * to it is indexed under its (HOT root) TID with exactly the code its value
 * quantizes to, so that the error bound the scans rely on holds.  In a
 * sealed index every sealed centroid and item is opened, and those that do
 * not authenticate are reported (kind "sealed"); the checks then apply to
 * the plaintext.  Pages are checked from copies, so that no buffer lock is
 * held while the key provider runs.  No value of a vector is ever reported.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "frt_compat.h"

#include <math.h>

#include "access/relation.h"
#include "access/xact.h"
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
#include "utils/resowner.h"
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
	const FrtCipher *cipher;	/* the key provider, for a sealed index */
	char	   *copy;			/* a page copied out of its buffer */
	FrtIvfTuple *plain;			/* an opened tuple */
	float	   *centroid;		/* an opened centroid */
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

/*
 * Open a sealed payload (a tuple, or the centroid of 'list' when tup is
 * NULL): 0 when it authenticates, else the SQLSTATE of the provider's
 * ERROR (not authentic, epoch destroyed, key missing), caught in a
 * subtransaction (no buffer is locked here: pages are checked from
 * copies) so that the check goes on and reports.  A cancel or shutdown,
 * or running out of resources, is no verdict on the item: raised again.
 */
static int
CheckOpen(CheckState *cs, const FrtIvfTuple *tup, uint32 list, const void *centroid)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile int sqlstate = 0;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		if (tup != NULL)
			FrtIvfOpenTuple(cs->cipher, tup, cs->meta.dim, cs->plain);
		else
			FrtIvfOpenCentroid(cs->cipher, list, centroid, cs->meta.dim, cs->centroid);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) == ERRCODE_OPERATOR_INTERVENTION ||
			ERRCODE_TO_CATEGORY(edata->sqlerrcode) == ERRCODE_INSUFFICIENT_RESOURCES)
			ReThrowError(edata);
		sqlstate = edata->sqlerrcode;
		FreeErrorData(edata);
	}
	PG_END_TRY();
	return sqlstate;
}

/* Copy a block of the index out of its buffer (checked without a lock held). */
static Page
CopyBlock(CheckState *cs, BlockNumber blkno)
{
	Buffer		buf = ReadBuffer(cs->index, blkno);

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	memcpy(cs->copy, BufferGetPage(buf), BLCKSZ);
	UnlockReleaseBuffer(buf);
	return (Page) cs->copy;
}

/*
 * Read the meta page and the directory: the list heads, and for a sealed
 * index whether each centroid authenticates.  Read here rather than from
 * the relcache's copy, which a centroid that does not open would stop.
 */
static bool
CheckDirectory(CheckState *cs)
{
	Page		page = CopyBlock(cs, FRT_IVF_META_BLKNO);
	uint32		list = 0;
	int			sqlstate;

	cs->meta = *FrtIvfPageGetMeta(page);
	if (cs->meta.magic != FRT_IVF_MAGIC || cs->meta.version != FRT_IVF_VERSION)
	{
		Report(cs, "structure", FRT_IVF_META_BLKNO, "meta page is not an frt_ivf meta page");
		return false;
	}
	if (FrtIvfMetaIsSealed(&cs->meta))
		cs->cipher = FrtIvfCipherRequire(cs->index);
	cs->heads = palloc(sizeof(BlockNumber) * (cs->meta.lists + 1));
	cs->centroid = palloc(sizeof(float) * Max(cs->meta.dim, 1));
	for (uint32 d = 0; d < cs->meta.dirPages; d++)
	{
		OffsetNumber maxoff;

		CHECK_FOR_INTERRUPTS();
		page = CopyBlock(cs, cs->meta.dirStart + d);
		maxoff = PageGetMaxOffsetNumber(page);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff && list <= cs->meta.lists; off++, list++)
		{
			FrtIvfListData *ld = (FrtIvfListData *) PageGetItem(page, PageGetItemId(page, off));
			bool		sealed = (ld->flags & FRT_IVF_LIST_SEALED) != 0;

			cs->heads[list] = ld->head;
			if (list == cs->meta.lists || cs->meta.lists == 1)
				continue;
			if (sealed != (cs->cipher != NULL))
				Report(cs, "sealed", cs->meta.dirStart + d, "centroid of list %u is %s in a%s index",
					   list, sealed ? "sealed" : "in clear", sealed ? "n unsealed" : " sealed");
			else if (sealed && (sqlstate = CheckOpen(cs, NULL, list, ld->centroid)) != 0)
				Report(cs, "sealed", cs->meta.dirStart + d,
					   "centroid of list %u does not open (SQLSTATE %s)", list, unpack_sql_state(sqlstate));
		}
	}
	if (list != cs->meta.lists + 1)
	{
		Report(cs, "structure", -1, "index has %u directory entries, expected %u",
			   list, cs->meta.lists + 1);
		return false;
	}
	return true;
}

/*
 * The plaintext of a data page's item for the checks below: the item
 * itself, or opened when sealed (NULL when it does not authenticate, which
 * is reported).  A sealed index holds only sealed non-NULL rows.
 */
static FrtIvfTuple *
CheckTuple(CheckState *cs, BlockNumber blkno, OffsetNumber off, FrtIvfTuple *tup, bool nulllist)
{
	bool		sealed = (tup->flags & FRT_IVF_TUPLE_SEALED) != 0;
	int			sqlstate;

	if (!nulllist && sealed != (cs->cipher != NULL))
	{
		Report(cs, "sealed", blkno, "item %u is %s in a%s index", off,
			   sealed ? "sealed" : "in clear", sealed ? "n unsealed" : " sealed");
		return NULL;
	}
	if (nulllist && sealed)
	{
		Report(cs, "sealed", blkno, "item %u of the NULL list is sealed", off);
		return NULL;
	}
	if (!sealed)
		return tup;
	if ((sqlstate = CheckOpen(cs, tup, 0, NULL)) != 0)
	{
		Report(cs, "sealed", blkno, "item %u does not open (SQLSTATE %s)", off,
			   unpack_sql_state(sqlstate));
		return NULL;
	}
	return cs->plain;
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
			page = CopyBlock(cs, blkno);
			op = FrtIvfPageGetOpaque(page);
			if (PageIsNew(page) || PageGetSpecialSize(page) != MAXALIGN(sizeof(FrtIvfPageOpaque)) ||
				op->page_id != FRT_IVF_PAGE_ID || op->kind != FRT_IVF_PAGE_DATA)
			{
				Report(cs, "structure", blkno, "block is not an frt_ivf data page");
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
				Size		want = nulllist ? FRT_IVF_TUPLE_SIZE(0) :
					cs->cipher ? FRT_IVF_SEALED_TUPLE_SIZE(dim) : FRT_IVF_TUPLE_SIZE(dim);
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
				tup = CheckTuple(cs, blkno, off, tup, nulllist);
				if (tup == NULL)
					continue;
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
		}
	}
	/* a page no list reaches is lost space, or a lost row if it holds any */
	for (BlockNumber b = 0; b < nblocks; b++)
	{
		Page		page;

		if (visited[b])
			continue;
		page = CopyBlock(cs, b);
		if (!PageIsNew(page) && PageGetMaxOffsetNumber(page) > 0)
			Report(cs, "structure", b, "block holds %u items but no list reaches it",
				   PageGetMaxOffsetNumber(page));
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
	Snapshot	snapshot;
	IndexInfo  *indexInfo;
	TableScanDesc scan;

	InitMaterializedSRF(fcinfo, 0);
	memset(&cs, 0, sizeof(cs));
	cs.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	index = FrtIvfOpenOwned(indexoid, AccessShareLock, &heap);

	cs.index = index;
	cs.copy = palloc(BLCKSZ);
	cs.plain = palloc0(FRT_IVF_TUPLE_SIZE(FRT_MAX_DIM));
	cs.capentries = 1024;
	cs.entries = palloc(sizeof(CheckEntry) * cs.capentries);
	cs.scratch = palloc0(FRT_IVF_TUPLE_SIZE(FRT_MAX_DIM));
	cs.tmpCtx = AllocSetContextCreate(CurrentMemoryContext, "frt index_check",
									  ALLOCSET_DEFAULT_SIZES);

	/* the snapshot comes first: every row it sees was indexed before the walk */
	snapshot = RegisterSnapshot(GetTransactionSnapshot());
	if (!CheckDirectory(&cs))
	{
		UnregisterSnapshot(snapshot);
		index_close(index, AccessShareLock);
		table_close(heap, AccessShareLock);
		return (Datum) 0;
	}
	if (cs.meta.metric != FrtIvfMetricOf(index))
		Report(&cs, "structure", FRT_IVF_META_BLKNO, "meta page metric %u does not match the operator class",
			   cs.meta.metric);
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

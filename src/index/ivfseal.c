/*-------------------------------------------------------------------------
 *
 * ivfseal.c
 *	  Sealed frt_ivf indexes: the key provider (include/frt_cipher.h), the
 *	  sealing and opening of tuples and centroids, which indexes are built
 *	  sealed, and the SQL functions frt.ivf_reseal and frt.ivf_epochs.
 *
 * The core holds no key.  A provider (the governance layer's key management)
 * stores an FrtCipher in the rendezvous variable FRT_CIPHER_RENDEZVOUS; a
 * sealed index is never read or written without it.  A tuple's payload
 * (scale .. code[dim]) is sealed with its heap TID as associated data, so a
 * payload copied to another row's slot does not open; a centroid with
 * FRT_IVF_CENTROID_AAD and its list number.
 *
 * Re-sealing (key rotation) rewrites, page by page under an exclusive
 * buffer lock and generic WAL, the items sealed under an older epoch than
 * the provider's current one; each page's record is atomic, so an
 * interrupted or crashed run leaves every item under either epoch and a
 * later run goes on.  A page's LSN changes, so the backends' opened copies
 * of it (ivfplain.c) are made again at their next visit.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "frt_compat.h"

#include "access/generic_xlog.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "tcop/utility.h"
#include "utils/rel.h"

#include "frt_ivf.h"

StaticAssertDecl(sizeof(ItemPointerData) == 6, "a tuple's associated data is the 6 bytes of its heap TID");

/* The registered key provider, or NULL; an ERROR if it does not fit this core. */
const FrtCipher *
FrtIvfCipher(void)
{
	const FrtCipher *cipher = *(FrtCipher **) find_rendezvous_variable(FRT_CIPHER_RENDEZVOUS);

	if (cipher == NULL)
		return NULL;
	if (cipher->abi != FRT_CIPHER_ABI || cipher->overhead != FRT_CIPHER_OVERHEAD)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the registered frt key provider does not match this frt library"),
				 errdetail("The provider has interface %u with %zu bytes of overhead; frt expects %u and %d.",
						   cipher->abi, cipher->overhead, FRT_CIPHER_ABI, FRT_CIPHER_OVERHEAD),
				 errhint("Install matching versions of frt and the key provider.")));
	return cipher;
}

/* The key provider a sealed index needs: an ERROR when none is registered. */
const FrtCipher *
FrtIvfCipherRequire(Relation index)
{
	const FrtCipher *cipher = FrtIvfCipher();

	if (cipher == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("index \"%s\" is sealed and no key provider is loaded",
						RelationGetRelationName(index)),
				 errdetail("A sealed frt_ivf index is never read or written in clear."),
				 errhint("Load the key provider at server start (shared_preload_libraries) and configure its key.")));
	return cipher;
}

/*
 * Whether a new index is built sealed: its reloption sealed = true, or a
 * provider that must seal its table's indexes.  An ERROR when it must be
 * sealed and no provider is loaded: a build never falls back to clear.
 */
bool
FrtIvfBuildSealed(Relation index)
{
	FrtIvfOptions *opts = (FrtIvfOptions *) index->rd_options;
	const FrtCipher *cipher = FrtIvfCipher();

	if (cipher != NULL && cipher->must_seal(index->rd_index->indrelid))
		return true;
	if (opts == NULL || !opts->sealed)
		return false;
	if (cipher == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot build sealed index \"%s\": no key provider is loaded",
						RelationGetRelationName(index)),
				 errdetail("A sealed frt_ivf index is never written in clear."),
				 errhint("Load the key provider at server start (shared_preload_libraries) and configure its key.")));
	return true;
}

/* Seal a plaintext tuple of dim dimensions into 'sealed' (FRT_IVF_SEALED_TUPLE_SIZE bytes, zeroed). */
void
FrtIvfSealTuple(const FrtCipher *cipher, const FrtIvfTuple *plain, int dim, FrtIvfTuple *sealed)
{
	sealed->tid = plain->tid;
	sealed->flags = plain->flags | FRT_IVF_TUPLE_SEALED;
	cipher->seal((const char *) plain + FRT_IVF_PAYLOAD_OFFSET, FRT_IVF_PAYLOAD_SIZE(dim),
				 &plain->tid, sizeof(ItemPointerData),
				 (char *) sealed + FRT_IVF_PAYLOAD_OFFSET);
}

/* Open a sealed tuple into 'plain' (FRT_IVF_TUPLE_SIZE bytes); an ERROR if it does not authenticate. */
void
FrtIvfOpenTuple(const FrtCipher *cipher, const FrtIvfTuple *sealed, int dim, FrtIvfTuple *plain)
{
	ItemPointerData tid = sealed->tid;	/* 'plain' may overlap 'sealed' */
	uint16		flags = sealed->flags & ~FRT_IVF_TUPLE_SEALED;

	cipher->open((const char *) sealed + FRT_IVF_PAYLOAD_OFFSET,
				 FRT_IVF_PAYLOAD_SIZE(dim) + FRT_CIPHER_OVERHEAD,
				 &tid, sizeof(ItemPointerData),
				 (char *) plain + FRT_IVF_PAYLOAD_OFFSET);
	plain->tid = tid;
	plain->flags = flags;
}

/* A centroid's associated data: FRT_IVF_CENTROID_AAD then the list number, little-endian. */
static void
CentroidAad(uint32 list, unsigned char *aad)
{
	Size		n = sizeof(FRT_IVF_CENTROID_AAD) - 1;

	memcpy(aad, FRT_IVF_CENTROID_AAD, n);
	for (int i = 0; i < 4; i++)
		aad[n + i] = (unsigned char) (list >> (8 * i));
}

/* Seal a centroid of dim floats into 'out' (dim floats + FRT_CIPHER_OVERHEAD bytes). */
void
FrtIvfSealCentroid(const FrtCipher *cipher, uint32 list, const float *c, int dim, void *out)
{
	unsigned char aad[FRT_IVF_CENTROID_AAD_LEN];

	CentroidAad(list, aad);
	cipher->seal(c, sizeof(float) * dim, aad, sizeof(aad), out);
}

/* Open a sealed centroid into dim floats; an ERROR if it does not authenticate. */
void
FrtIvfOpenCentroid(const FrtCipher *cipher, uint32 list, const void *sealed, int dim, float *c)
{
	unsigned char aad[FRT_IVF_CENTROID_AAD_LEN];

	CentroidAad(list, aad);
	cipher->open(sealed, sizeof(float) * dim + FRT_CIPHER_OVERHEAD, aad, sizeof(aad), c);
}

/* What a re-sealing run carries from page to page. */
typedef struct FrtIvfReseal
{
	Relation	index;
	const FrtCipher *cipher;
	uint32		epoch;			/* the provider's current epoch */
	int			dim;
	int64		left;			/* items this run may still re-seal */
	int64		done;
	char	   *scratch;		/* an opened payload */
} FrtIvfReseal;

/* Re-seal, in place on a registered page copy, the centroid of one directory item. */
static void
ResealCentroid(FrtIvfReseal *rs, FrtIvfListData *item, uint32 list)
{
	FrtIvfOpenCentroid(rs->cipher, list, item->centroid, rs->dim, (float *) rs->scratch);
	FrtIvfSealCentroid(rs->cipher, list, (float *) rs->scratch, rs->dim, item->centroid);
	rs->left--;
	rs->done++;
}

/* Re-seal, in place on a registered page copy, one tuple. */
static void
ResealTuple(FrtIvfReseal *rs, FrtIvfTuple *tup)
{
	FrtIvfTuple *plain = (FrtIvfTuple *) rs->scratch;

	FrtIvfOpenTuple(rs->cipher, tup, rs->dim, plain);
	FrtIvfSealTuple(rs->cipher, plain, rs->dim, tup);
	rs->left--;
	rs->done++;
}

/* Whether a page item is sealed under another epoch than the current one. */
static bool
ItemIsStale(FrtIvfReseal *rs, Page page, OffsetNumber off, bool directory)
{
	ItemId		iid = PageGetItemId(page, off);
	char	   *item;

	if (!ItemIdIsNormal(iid))
		return false;
	item = PageGetItem(page, iid);
	if (directory)
		return (((FrtIvfListData *) item)->flags & FRT_IVF_LIST_SEALED) &&
			rs->cipher->epoch_of(((FrtIvfListData *) item)->centroid) != rs->epoch;
	return (((FrtIvfTuple *) item)->flags & FRT_IVF_TUPLE_SEALED) &&
		rs->cipher->epoch_of(item + FRT_IVF_PAYLOAD_OFFSET) != rs->epoch;
}

/*
 * Re-seal the stale items of one page (directory or data) in one generic
 * WAL record, at most rs->left of them.  'firstList' is the list number of
 * a directory page's first item.
 */
static void
ResealPage(FrtIvfReseal *rs, BlockNumber blkno, bool directory, uint32 firstList)
{
	Buffer		buf = ReadBuffer(rs->index, blkno);
	Page		page;
	OffsetNumber maxoff;
	bool		any = false;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buf);
	if (!directory && !FrtIvfIsDataPage(page))
	{
		UnlockReleaseBuffer(buf);
		return;
	}
	maxoff = PageGetMaxOffsetNumber(page);
	for (OffsetNumber off = FirstOffsetNumber; off <= maxoff && !any; off++)
		any = ItemIsStale(rs, page, off, directory);
	if (any)
	{
		GenericXLogState *state = GenericXLogStart(rs->index);

		page = GenericXLogRegisterBuffer(state, buf, 0);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff && rs->left > 0; off++)
		{
			char	   *item;

			if (!ItemIsStale(rs, page, off, directory))
				continue;
			item = PageGetItem(page, PageGetItemId(page, off));
			if (directory)
				ResealCentroid(rs, (FrtIvfListData *) item, firstList + off - FirstOffsetNumber);
			else
				ResealTuple(rs, (FrtIvfTuple *) item);
		}
		GenericXLogFinish(state);
	}
	UnlockReleaseBuffer(buf);
}

PG_FUNCTION_INFO_V1(frt_ivf_reseal);
/*
 * frt.ivf_reseal(index, max_items): re-seal under the provider's current
 * epoch the live items and centroids of a sealed index that are under an
 * older one, at most max_items (NULL: all); returns how many.
 */
Datum
frt_ivf_reseal(PG_FUNCTION_ARGS)
{
	FrtIvfReseal rs;
	FrtIvfMetaData meta;
	BlockNumber nblocks;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	memset(&rs, 0, sizeof(rs));
	rs.left = PG_ARGISNULL(1) ? PG_INT64_MAX : PG_GETARG_INT64(1);
	if (rs.left < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_items must not be negative")));
	PreventCommandDuringRecovery("frt.ivf_reseal");
	/* like an insert: scans, inserts and VACUUM go on meanwhile */
	rs.index = FrtIvfOpenOwned(PG_GETARG_OID(0), RowExclusiveLock, NULL);
	meta = FrtIvfGetCache(rs.index)->meta;
	if (!FrtIvfMetaIsSealed(&meta))
	{
		index_close(rs.index, RowExclusiveLock);
		PG_RETURN_INT64(0);
	}
	rs.cipher = FrtIvfCipherRequire(rs.index);
	rs.epoch = rs.cipher->current_epoch();	/* before any buffer lock */
	rs.dim = meta.dim;
	rs.scratch = palloc0(Max(FRT_IVF_TUPLE_SIZE(meta.dim), sizeof(float) * meta.dim));

	if (meta.lists > 1)
		for (uint32 d = 0; d < meta.dirPages && rs.left > 0; d++)
		{
			CHECK_FOR_INTERRUPTS();
			ResealPage(&rs, meta.dirStart + d, true, d * meta.perDirPage);
		}
	nblocks = RelationGetNumberOfBlocks(rs.index);
	for (BlockNumber blkno = meta.dirStart + meta.dirPages; blkno < nblocks && rs.left > 0; blkno++)
	{
		CHECK_FOR_INTERRUPTS();
		ResealPage(&rs, blkno, false, 0);
	}
	index_close(rs.index, RowExclusiveLock);
	PG_RETURN_INT64(rs.done);
}

/* Per-epoch counts of ivf_epochs. */
typedef struct EpochCount
{
	uint32		epoch;
	int64		items;
} EpochCount;

typedef struct EpochCounts
{
	EpochCount *counts;
	int			n;
	int			cap;
} EpochCounts;

/* Count one sealed item under 'epoch'. */
static void
CountEpoch(EpochCounts *ec, uint32 epoch)
{
	for (int i = 0; i < ec->n; i++)
		if (ec->counts[i].epoch == epoch)
		{
			ec->counts[i].items++;
			return;
		}
	if (ec->n == ec->cap)
	{
		ec->cap *= 2;
		ec->counts = repalloc(ec->counts, sizeof(EpochCount) * ec->cap);
	}
	ec->counts[ec->n].epoch = epoch;
	ec->counts[ec->n].items = 1;
	ec->n++;
}

/* Count the sealed items (centroids or live tuples) of one page by epoch. */
static void
CountPageEpochs(Relation index, const FrtCipher *cipher, BlockNumber blkno, bool directory,
				EpochCounts *ec)
{
	Buffer		buf = ReadBuffer(index, blkno);
	Page		page;
	OffsetNumber maxoff;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	maxoff = directory || FrtIvfIsDataPage(page) ? PageGetMaxOffsetNumber(page) : 0;
	for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
	{
		ItemId		iid = PageGetItemId(page, off);
		char	   *item;

		if (!ItemIdIsNormal(iid))
			continue;
		item = PageGetItem(page, iid);
		if (directory && (((FrtIvfListData *) item)->flags & FRT_IVF_LIST_SEALED))
			CountEpoch(ec, cipher->epoch_of(((FrtIvfListData *) item)->centroid));
		else if (!directory && (((FrtIvfTuple *) item)->flags & FRT_IVF_TUPLE_SEALED))
			CountEpoch(ec, cipher->epoch_of(item + FRT_IVF_PAYLOAD_OFFSET));
	}
	UnlockReleaseBuffer(buf);
}

/* Order epoch counts by epoch. */
static int
CompareEpochs(const void *a, const void *b)
{
	uint32		ea = ((const EpochCount *) a)->epoch,
				eb = ((const EpochCount *) b)->epoch;

	return (ea > eb) - (ea < eb);
}

PG_FUNCTION_INFO_V1(frt_ivf_epochs);
/*
 * frt.ivf_epochs(index): (epoch, items), how many live items and centroids
 * of the index are sealed under each key epoch; no rows for an index in
 * clear.  A provider may destroy an epoch only when no index holds it.
 */
Datum
frt_ivf_epochs(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	Relation	index;
	FrtIvfMetaData meta;
	EpochCounts ec;

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	index = FrtIvfOpenOwned(PG_GETARG_OID(0), AccessShareLock, NULL);
	meta = FrtIvfGetCache(index)->meta;
	if (FrtIvfMetaIsSealed(&meta))
	{
		const FrtCipher *cipher = FrtIvfCipherRequire(index);
		BlockNumber nblocks = RelationGetNumberOfBlocks(index);

		ec.n = 0;
		ec.cap = FRT_IVF_EPOCHS_INITIAL;
		ec.counts = palloc(sizeof(EpochCount) * ec.cap);
		for (uint32 d = 0; d < meta.dirPages && meta.lists > 1; d++)
			CountPageEpochs(index, cipher, meta.dirStart + d, true, &ec);
		for (BlockNumber blkno = meta.dirStart + meta.dirPages; blkno < nblocks; blkno++)
		{
			CHECK_FOR_INTERRUPTS();
			CountPageEpochs(index, cipher, blkno, false, &ec);
		}
		qsort(ec.counts, ec.n, sizeof(EpochCount), CompareEpochs);
		for (int i = 0; i < ec.n; i++)
		{
			Datum		values[2];
			bool		nulls[2] = {false, false};

			values[0] = Int64GetDatum((int64) ec.counts[i].epoch);
			values[1] = Int64GetDatum(ec.counts[i].items);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	index_close(index, AccessShareLock);
	return (Datum) 0;
}

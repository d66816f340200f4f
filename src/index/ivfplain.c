/*-------------------------------------------------------------------------
 *
 * ivfplain.c
 *	  The plaintext page cache of sealed frt_ivf indexes: opened copies of
 *	  data pages, kept in backend memory.
 *
 * Opening every tuple of a sealed index at every scan would cost far more
 * than ranking it, so a backend keeps opened copies of the data pages it
 * read: a full page whose items hold the plaintext FrtIvfTuple at the same
 * offsets as the live page's sealed ones (plaintext is shorter, so it fits
 * where the sealed bytes were).  A copy is keyed by (RelFileNode, block)
 * and valid while the live page's LSN equals the LSN it was opened at:
 * every change of an index page is WAL-logged (generic WAL, or the build's
 * log_newpage_range), so a change moves the LSN.  Pages whose changes are
 * not WAL-logged (unlogged and temporary indexes, an index created in the
 * same transaction under wal_level = minimal), and pages with no LSN, are
 * never cached: they are opened into a scratch page at each visit.
 *
 * Callers read line pointers from the live page (an item may be marked dead
 * without an LSN change) and only tuple bytes from the copy.  The copy
 * returned stays valid until the next call.
 *
 * Memory: at most frt.ivf_plaintext_cache (per backend), in the memory
 * context "frt_ivf plaintext cache" under TopMemoryContext; pages (and
 * their slots) are allocated FRT_IVF_PLAIN_CHUNK_PAGES at a time as the
 * cache grows, and
 * once it is full a clock hand picks the page to replace.  Changing the
 * setting wipes and frees the cache.  0 = no cache (the scratch page only).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "frt_compat.h"

#include "storage/relfilenode.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "frt_ivf.h"

/* Which page a copy is of. */
typedef struct PlainKey
{
	RelFileNode node;
	BlockNumber blkno;
} PlainKey;

/* Hash entry: where a page's copy is. */
typedef struct PlainEntry
{
	PlainKey	key;
	int			slot;
} PlainEntry;

/* One cached copy. */
typedef struct PlainSlot
{
	PlainKey	key;
	XLogRecPtr	lsn;			/* LSN of the live page it was opened from */
	bool		used;			/* holds a valid copy (and a hash entry) */
	char	   *page;
} PlainSlot;

/*
 * A direct map entry: the slot holding a block's copy (slot + 1; 0 = none)
 * and the LSN it was opened at (invalid while it is being opened).
 */
typedef struct PlainMapEntry
{
	XLogRecPtr	lsn;
	int32		slot;
} PlainMapEntry;

int			frt_ivf_plain_cache_kb = FRT_IVF_PLAIN_CACHE_DEFAULT_KB;

static MemoryContext plainCxt = NULL;
static HTAB *plainHash = NULL;
static PlainSlot *slots = NULL;
static int	nslots = 0;			/* slots with a page */
static int	capslots = 0;		/* slots allocated (grown with the pages) */
static int	maxslots = 0;		/* slots the bound allows */
static int	hand = 0;			/* clock hand */
static bool *referenced = NULL; /* per slot: used since the clock hand last passed */
static char **chunks = NULL;	/* the page chunks, FRT_IVF_PLAIN_CHUNK_PAGES slots each */
static char *scratch = NULL;	/* the page opened when none is cached */

/*
 * A direct map from block number to slot and LSN for the index read last:
 * a scan visits every page of its lists, and a hash lookup per page (a
 * cache miss in a large table) cost a fifth of a warm exact scan of a large
 * index.  A warm page costs one map entry: a valid entry means its slot
 * holds that block opened at that LSN, because a slot given to another
 * block clears its entry (PlainVictim) and an entry gets its LSN only once
 * the page is opened whole.  The hash stays authoritative for the rest.
 */
static RelFileNode mapNode;
static PlainMapEntry *blockMap = NULL;
static BlockNumber mapBlocks = 0;

/* Wipe every copy and free the cache (the setting changed). */
static void
PlainReset(void)
{
	if (plainCxt == NULL)
		return;
	for (int i = 0; i < nslots; i++)
		explicit_bzero(slots[i].page, BLCKSZ);
	if (scratch)
		explicit_bzero(scratch, BLCKSZ);
	MemoryContextDelete(plainCxt);
	plainCxt = NULL;
	plainHash = NULL;
	slots = NULL;
	referenced = NULL;
	chunks = NULL;
	scratch = NULL;
	blockMap = NULL;
	mapBlocks = 0;
	nslots = capslots = maxslots = hand = 0;
}

/* The copy page of a slot (found from its chunk: no read of the slot). */
static inline char *
PlainSlotPage(int slot)
{
	return chunks[slot / FRT_IVF_PLAIN_CHUNK_PAGES] +
		(Size) (slot % FRT_IVF_PLAIN_CHUNK_PAGES) * BLCKSZ;
}

/* A block's direct map entry, or NULL when the map is of another index or too short. */
static inline PlainMapEntry *
PlainMapGet(const PlainKey *key)
{
	if (blockMap == NULL || key->blkno >= mapBlocks || !RelFileNodeEquals(mapNode, key->node))
		return NULL;
	return &blockMap[key->blkno];
}

/*
 * Record in the direct map that a slot holds a block opened at lsn
 * (InvalidXLogRecPtr: being opened); a new relation starts the map again.
 */
static void
PlainMapSet(const PlainKey *key, int slot, XLogRecPtr lsn)
{
	if (blockMap == NULL || !RelFileNodeEquals(mapNode, key->node))
	{
		if (blockMap != NULL)
			pfree(blockMap);
		mapBlocks = Max(key->blkno + 1, FRT_IVF_PLAIN_CHUNK_PAGES);
		blockMap = MemoryContextAllocZero(plainCxt, sizeof(PlainMapEntry) * (Size) mapBlocks);
		mapNode = key->node;
	}
	else if (key->blkno >= mapBlocks)
	{
		BlockNumber n = Max(mapBlocks * 2, key->blkno + 1);

		blockMap = repalloc(blockMap, sizeof(PlainMapEntry) * (Size) n);
		memset(blockMap + mapBlocks, 0, sizeof(PlainMapEntry) * (Size) (n - mapBlocks));
		mapBlocks = n;
	}
	blockMap[key->blkno].slot = slot + 1;
	blockMap[key->blkno].lsn = lsn;
}

/* Forget a slot's block in the direct map (the slot goes to another block). */
static void
PlainMapForget(const PlainKey *key, int slot)
{
	PlainMapEntry *e = PlainMapGet(key);

	if (e != NULL && e->slot == slot + 1)
	{
		e->slot = 0;
		e->lsn = InvalidXLogRecPtr;
	}
}

/* Assign hook of frt.ivf_plaintext_cache: start again under the new bound. */
void
FrtIvfPlainAssign(int newval, void *extra pg_attribute_unused())
{
	if (newval != frt_ivf_plain_cache_kb)
		PlainReset();
}

/* Create the memory context, the hash table and the scratch page. */
static void
PlainSetUp(void)
{
	HASHCTL		ctl;

	plainCxt = AllocSetContextCreate(TopMemoryContext, "frt_ivf plaintext cache",
									 ALLOCSET_DEFAULT_SIZES);
	scratch = MemoryContextAlloc(plainCxt, BLCKSZ);
	maxslots = (int) Min((int64) frt_ivf_plain_cache_kb * 1024 / BLCKSZ, PG_INT32_MAX / 2);
	if (maxslots == 0)
		return;
	chunks = MemoryContextAllocZero(plainCxt, sizeof(char *) *
									((Size) maxslots / FRT_IVF_PLAIN_CHUNK_PAGES + 1));
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(PlainKey);
	ctl.entrysize = sizeof(PlainEntry);
	ctl.hcxt = plainCxt;
	plainHash = hash_create("frt_ivf plaintext pages", Min(maxslots, FRT_IVF_PLAIN_CHUNK_PAGES * 16),
							&ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/* A slot for a new copy: a fresh one while the bound allows, else the clock's victim. */
static int
PlainVictim(void)
{
	if (nslots < maxslots)
	{
		if (nslots % FRT_IVF_PLAIN_CHUNK_PAGES == 0)
		{
			/* FRT_IVF_PLAIN_CHUNK_PAGES more pages; the slot array doubles */
			int			n = Min(FRT_IVF_PLAIN_CHUNK_PAGES, maxslots - nslots);
			char	   *chunk = MemoryContextAllocHuge(plainCxt, (Size) n * BLCKSZ);

			if (nslots + n > capslots)
			{
				int			cap = Min(maxslots, Max(capslots * 2, nslots + n));

				slots = slots == NULL ?
					MemoryContextAllocHuge(plainCxt, sizeof(PlainSlot) * (Size) cap) :
					repalloc_huge(slots, sizeof(PlainSlot) * (Size) cap);
				referenced = referenced == NULL ?
					MemoryContextAllocHuge(plainCxt, sizeof(bool) * (Size) cap) :
					repalloc_huge(referenced, sizeof(bool) * (Size) cap);
				capslots = cap;
			}
			chunks[nslots / FRT_IVF_PLAIN_CHUNK_PAGES] = chunk;
			for (int i = 0; i < n; i++)
				slots[nslots + i].page = chunk + (Size) i * BLCKSZ;
		}
		slots[nslots].used = false;
		referenced[nslots] = false;
		return nslots++;
	}
	for (;;)
	{
		PlainSlot  *s = &slots[hand];
		int			victim = hand;

		hand = (hand + 1) % nslots;
		if (s->used && referenced[victim])
		{
			referenced[victim] = false;
			continue;
		}
		if (s->used)
		{
			hash_search(plainHash, &s->key, HASH_REMOVE, NULL);
			PlainMapForget(&s->key, victim);
		}
		s->used = false;
		return victim;
	}
}

/*
 * Copy a live page into 'copy' and open its sealed items there.  A page is
 * opened whole: an ERROR (an item that does not authenticate) leaves no
 * valid copy behind, since the caller marks it valid only afterwards.
 */
static void
PlainOpen(Relation index, Page page, char *copy, int dim)
{
	const FrtCipher *cipher = FrtIvfCipherRequire(index);
	OffsetNumber maxoff = PageGetMaxOffsetNumber(page);

	memcpy(copy, page, BLCKSZ);
	for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
	{
		ItemId		iid = PageGetItemId(page, off);
		FrtIvfTuple *tup;

		if (!ItemIdIsNormal(iid))
			continue;
		tup = (FrtIvfTuple *) PageGetItem(page, iid);
		if (tup->flags & FRT_IVF_TUPLE_SEALED)
			FrtIvfOpenTuple(cipher, tup, dim, (FrtIvfTuple *) (copy + ItemIdGetOffset(iid)));
	}
}

/*
 * The cached copy of a block, if any, whether still valid or not: only for
 * prefetching ahead of the page a scan ranks next (never read as data).
 */
Page
FrtIvfPlainPeek(Relation index, BlockNumber blkno)
{
	PlainKey	key;
	PlainEntry *entry;
	PlainMapEntry *e;

	if (plainHash == NULL)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.node = index->rd_node;
	key.blkno = blkno;
	if ((e = PlainMapGet(&key)) != NULL && e->slot > 0)
		return (Page) PlainSlotPage(e->slot - 1);
	entry = hash_search(plainHash, &key, HASH_FIND, NULL);
	return entry != NULL ? (Page) slots[entry->slot].page : NULL;
}

/*
 * The opened copy of a share-locked data page of a sealed index: tuple
 * bytes at the live page's item offsets, valid until the next call.
 */
Page
FrtIvfPlainPage(Relation index, BlockNumber blkno, Page page, int dim)
{
	XLogRecPtr	lsn = PageGetLSN(page);
	PlainKey	key;
	PlainEntry *entry;
	PlainMapEntry *e;
	PlainSlot  *s;
	bool		found;
	int			slot;

	if (plainCxt == NULL)
		PlainSetUp();
	if (maxslots == 0 || XLogRecPtrIsInvalid(lsn) || !RelationNeedsWAL(index))
	{
		PlainOpen(index, page, scratch, dim);
		return (Page) scratch;
	}
	memset(&key, 0, sizeof(key));
	key.node = index->rd_node;
	key.blkno = blkno;
	/* a warm page: one map entry */
	e = PlainMapGet(&key);
	if (e != NULL && e->slot > 0 && e->lsn == lsn)
	{
		referenced[e->slot - 1] = true;
		return (Page) PlainSlotPage(e->slot - 1);
	}
	entry = hash_search(plainHash, &key, HASH_FIND, NULL);
	slot = entry != NULL ? entry->slot : -1;
	if (slot >= 0 && slots[slot].lsn == lsn)
	{
		referenced[slot] = true;
		PlainMapSet(&key, slot, lsn);
		return (Page) slots[slot].page;
	}
	if (slot < 0)
	{
		slot = PlainVictim();
		entry = hash_search(plainHash, &key, HASH_ENTER, &found);
		entry->slot = slot;
	}
	s = &slots[slot];
	/* invalid until opened whole: an ERROR below leaves no stale copy */
	s->used = true;
	s->key = key;
	s->lsn = InvalidXLogRecPtr;
	referenced[slot] = true;
	PlainMapSet(&key, slot, InvalidXLogRecPtr);
	PlainOpen(index, page, s->page, dim);
	s->lsn = lsn;
	PlainMapSet(&key, slot, lsn);
	return (Page) s->page;
}

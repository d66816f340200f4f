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
	bool		referenced;		/* used since the clock hand last passed */
	char	   *page;
} PlainSlot;

int			frt_ivf_plain_cache_kb = FRT_IVF_PLAIN_CACHE_DEFAULT_KB;

static MemoryContext plainCxt = NULL;
static HTAB *plainHash = NULL;
static PlainSlot *slots = NULL;
static int	nslots = 0;			/* slots with a page */
static int	capslots = 0;		/* slots allocated (grown with the pages) */
static int	maxslots = 0;		/* slots the bound allows */
static int	hand = 0;			/* clock hand */
static char *scratch = NULL;	/* the page opened when none is cached */

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
	scratch = NULL;
	nslots = capslots = maxslots = hand = 0;
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
				capslots = cap;
			}
			for (int i = 0; i < n; i++)
				slots[nslots + i].page = chunk + (Size) i * BLCKSZ;
		}
		slots[nslots].used = false;
		return nslots++;
	}
	for (;;)
	{
		PlainSlot  *s = &slots[hand];
		int			victim = hand;

		hand = (hand + 1) % nslots;
		if (s->used && s->referenced)
		{
			s->referenced = false;
			continue;
		}
		if (s->used)
			hash_search(plainHash, &s->key, HASH_REMOVE, NULL);
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

	if (plainHash == NULL)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.node = index->rd_node;
	key.blkno = blkno;
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
	PlainSlot  *s;
	bool		found;

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
	entry = hash_search(plainHash, &key, HASH_FIND, NULL);
	if (entry != NULL && slots[entry->slot].lsn == lsn)
	{
		slots[entry->slot].referenced = true;
		return (Page) slots[entry->slot].page;
	}
	if (entry == NULL)
	{
		int			slot = PlainVictim();

		entry = hash_search(plainHash, &key, HASH_ENTER, &found);
		entry->slot = slot;
	}
	s = &slots[entry->slot];
	/* invalid until opened whole: an ERROR below leaves no stale copy */
	s->used = true;
	s->key = key;
	s->lsn = InvalidXLogRecPtr;
	s->referenced = true;
	PlainOpen(index, page, s->page, dim);
	s->lsn = lsn;
	return (Page) s->page;
}

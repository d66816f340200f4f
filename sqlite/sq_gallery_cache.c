/*-------------------------------------------------------------------------
 *
 * sq_gallery_cache.c
 *	  The per-connection cache of an frt_gallery table's quantization
 *	  (FrtQuantizeRow codes and FrtQuantRow scalars, one entry per slot) and
 *	  the 1:N search on it.
 *
 * The cache is built on first use from the chunks and kept coherent: the
 * connection's own writes update it, and a query first compares the
 * table's stored generation (changed at random by every write, by any
 * connection) with the one the cache was built at, reloading on a
 * difference; a rollback restores an older generation, which differs too.
 *
 * Search: every row of the wanted purpose is ranked by FrtQuantLowerBound,
 * a proven lower bound of its distance.  Exact mode re-ranks with the
 * exact FrtDistance (on the floats read from the chunk) the k rows of the
 * smallest bounds, then every row whose bound does not exceed the k-th
 * exact distance found so far, in increasing bound order: a row left out
 * has a distance above the k-th, so the answer is the exhaustive scan's,
 * ties ordered by rowid.  Default mode re-ranks only the k +
 * FRT_SQ_DEFAULT_RERANK rows of the smallest bounds.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sq_gallery.h"

/* A candidate: the bound (rounded down to a float) and the slot. */
typedef struct CacheCand
{
	float		lb;
	int32_t		slot;
} CacheCand;

/* Free a block that held biometric data, zeroing it first. */
static void
CacheWipeFree(void *p, size_t n)
{
	if (p != NULL)
	{
		FrtSqWipe(p, n);
		sqlite3_free(p);
	}
}

/* Forget everything the cache holds, zeroing the codes and scalars. */
void
FrtSqCacheFree(FrtSqCache *c, int dim)
{
	CacheWipeFree(c->codes, (size_t) c->capacity * dim);
	CacheWipeFree(c->qrow, sizeof(FrtQuantRow) * c->capacity);
	sqlite3_free(c->zero);
	sqlite3_free(c->rowid);
	sqlite3_free(c->purpose);
	for (int i = 0; i < c->npurposes; i++)
		sqlite3_free(c->purposes[i]);
	sqlite3_free(c->purposes);
	memset(c, 0, sizeof(*c));
}

/* Drop the cache; the next query builds it again. */
void
FrtSqCacheInvalidate(FrtSqGalleryVtab *vt)
{
	FrtSqCacheFree(&vt->cache, vt->dim);
}

/*
 * Make room for 'need' slots: new arrays, the old contents copied and the
 * old code blocks zeroed before they are freed (realloc would not).
 */
static int
CacheGrow(FrtSqCache *c, int dim, int need)
{
	int			cap = c->capacity > 0 ? c->capacity : 256;
	int8_t	   *codes;
	FrtQuantRow *qrow;
	sqlite3_int64 *rowid;
	int32_t    *purpose;
	uint8_t    *zero;

	if (need <= c->capacity)
		return SQLITE_OK;
	while (cap < need)
		cap = cap > INT32_MAX / 2 ? need : cap * 2;
	codes = sqlite3_malloc64((size_t) cap * dim);
	qrow = sqlite3_malloc64(sizeof(FrtQuantRow) * cap);
	rowid = sqlite3_malloc64(sizeof(sqlite3_int64) * cap);
	purpose = sqlite3_malloc64(sizeof(int32_t) * cap);
	zero = sqlite3_malloc64(cap);
	if (!codes || !qrow || !rowid || !purpose || !zero)
	{
		sqlite3_free(codes);
		sqlite3_free(qrow);
		sqlite3_free(rowid);
		sqlite3_free(purpose);
		sqlite3_free(zero);
		return SQLITE_NOMEM;
	}
	memset(codes, 0, (size_t) cap * dim);
	memset(qrow, 0, sizeof(FrtQuantRow) * cap);
	memset(rowid, 0, sizeof(sqlite3_int64) * cap);
	memset(zero, 0, cap);
	for (int i = 0; i < cap; i++)
		purpose[i] = -1;
	if (c->capacity > 0)
	{
		memcpy(codes, c->codes, (size_t) c->capacity * dim);
		memcpy(qrow, c->qrow, sizeof(FrtQuantRow) * c->capacity);
		memcpy(rowid, c->rowid, sizeof(sqlite3_int64) * c->capacity);
		memcpy(purpose, c->purpose, sizeof(int32_t) * c->capacity);
		memcpy(zero, c->zero, c->capacity);
	}
	CacheWipeFree(c->codes, (size_t) c->capacity * dim);
	CacheWipeFree(c->qrow, sizeof(FrtQuantRow) * c->capacity);
	sqlite3_free(c->rowid);
	sqlite3_free(c->purpose);
	sqlite3_free(c->zero);
	c->codes = codes;
	c->qrow = qrow;
	c->rowid = rowid;
	c->purpose = purpose;
	c->zero = zero;
	c->capacity = cap;
	return SQLITE_OK;
}

/* The interned number of a purpose, or -1 if no row of the cache has it. */
int
FrtSqCachePurposeId(const FrtSqCache *c, const char *purpose)
{
	for (int i = 0; i < c->npurposes; i++)
		if (strcmp(c->purposes[i], purpose) == 0)
			return i;
	return -1;
}

/* The interned number of a purpose, interning it if new; -1 when out of memory. */
static int
CacheIntern(FrtSqCache *c, const char *purpose)
{
	int			id = FrtSqCachePurposeId(c, purpose);

	if (id >= 0)
		return id;
	if (c->npurposes >= FRT_SQ_MAX_PURPOSES)
		return -1;
	if (c->npurposes == c->cappurposes)
	{
		int			cap = c->cappurposes ? c->cappurposes * 2 : 8;
		char	  **p = sqlite3_realloc64(c->purposes, sizeof(char *) * cap);

		if (p == NULL)
			return -1;
		c->purposes = p;
		c->cappurposes = cap;
	}
	if ((c->purposes[c->npurposes] = sqlite3_mprintf("%s", purpose)) == NULL)
		return -1;
	return c->npurposes++;
}

/* Quantize x into a slot of the cache. */
static void
CacheQuantize(FrtSqGalleryVtab *vt, int slot, const float *x)
{
	FrtSqCache *c = &vt->cache;

	c->zero[slot] = FrtQuantizeRow(x, vt->dim, vt->metric, &c->qrow[slot],
								   c->codes + (size_t) slot * vt->dim);
}

/* Read the rows' slots, rowids and purposes into a fresh cache. */
static int
CacheLoadRows(FrtSqGalleryVtab *vt)
{
	FrtSqCache *c = &vt->cache;
	sqlite3_stmt *st;
	int			rc = FrtSqStoreStmt(vt, FRT_SQ_STMT_ROWS_ALL, &st);

	if (rc != SQLITE_OK)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
	{
		sqlite3_int64 slot = sqlite3_column_int64(st, 2);
		int			pid;

		if (slot < 0 || slot >= c->nslots || c->purpose[slot] >= 0)
		{
			rc = SQLITE_CORRUPT_VTAB;
			break;
		}
		if ((pid = CacheIntern(c, (const char *) sqlite3_column_text(st, 1))) < 0)
		{
			rc = SQLITE_NOMEM;
			break;
		}
		c->rowid[slot] = sqlite3_column_int64(st, 0);
		c->purpose[slot] = pid;
		c->nrows++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Quantize every used slot, reading the chunks in order. */
static int
CacheLoadChunks(FrtSqGalleryVtab *vt)
{
	FrtSqCache *c = &vt->cache;
	size_t		bytes = sizeof(float) * vt->dim;
	float	   *x = sqlite3_malloc64(bytes);
	sqlite3_stmt *st = NULL;
	char	   *sql = sqlite3_mprintf("SELECT id, vectors FROM \"%w\".\"%w\" ORDER BY id",
									  vt->schema, vt->chunks);
	int			rc;

	if (x == NULL || sql == NULL)
		rc = SQLITE_NOMEM;
	else
		rc = sqlite3_prepare_v2(vt->db, sql, -1, &st, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
	{
		sqlite3_int64 chunk = sqlite3_column_int64(st, 0);
		const unsigned char *v = sqlite3_column_blob(st, 1);
		size_t		len = (size_t) sqlite3_column_bytes(st, 1);

		rc = SQLITE_OK;
		if (len != bytes * vt->chunk_rows || chunk < 0)
		{
			rc = SQLITE_CORRUPT_VTAB;
			break;
		}
		for (int i = 0; i < vt->chunk_rows; i++)
		{
			sqlite3_int64 slot = chunk * vt->chunk_rows + i;

			if (slot >= c->nslots || c->purpose[slot] < 0)
				continue;
			memcpy(x, v + bytes * i, bytes);
			CacheQuantize(vt, (int) slot, x);
		}
	}
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_finalize(st);
	sqlite3_free(sql);
	if (x != NULL)
		CacheWipeFree(x, bytes);
	return rc;
}

/* Build the cache from the shadow tables. */
static int
CacheLoad(FrtSqGalleryVtab *vt, sqlite3_int64 gen)
{
	FrtSqCache *c = &vt->cache;
	sqlite3_int64 next;
	int			rc;

	FrtSqCacheInvalidate(vt);
	if ((rc = FrtSqStoreNextSlot(vt, &next)) != SQLITE_OK)
		return rc;
	if (next < 0 || next >= INT32_MAX)
		return SQLITE_CORRUPT_VTAB;
	if ((rc = CacheGrow(c, vt->dim, (int) next > 0 ? (int) next : 1)) != SQLITE_OK)
		return rc;
	c->nslots = (int) next;
	rc = CacheLoadRows(vt);
	if (rc == SQLITE_OK)
		rc = CacheLoadChunks(vt);
	if (rc != SQLITE_OK)
	{
		FrtSqCacheInvalidate(vt);
		return rc;
	}
	c->loaded = true;
	c->generation = gen;
	return SQLITE_OK;
}

/* Make the cache match the table: build it, or rebuild it if stale. */
int
FrtSqCacheFresh(FrtSqGalleryVtab *vt)
{
	sqlite3_int64 gen;
	int			rc = FrtSqStoreGeneration(vt, &gen);

	if (rc != SQLITE_OK)
		return rc;
	if (vt->cache.loaded && vt->cache.generation == gen)
		return SQLITE_OK;
	return CacheLoad(vt, gen);
}

/* Record a written row in a loaded cache (the caller sets the generation). */
int
FrtSqCacheSet(FrtSqGalleryVtab *vt, int slot, sqlite3_int64 rowid, const char *purpose,
			  const float *x)
{
	FrtSqCache *c = &vt->cache;
	int			pid;
	int			rc;

	if (!c->loaded)
		return SQLITE_OK;
	if ((rc = CacheGrow(c, vt->dim, slot + 1)) != SQLITE_OK)
		return rc;
	if ((pid = CacheIntern(c, purpose)) < 0)
		return SQLITE_NOMEM;
	if (slot >= c->nslots)
		c->nslots = slot + 1;
	if (c->purpose[slot] < 0)
		c->nrows++;
	c->rowid[slot] = rowid;
	c->purpose[slot] = pid;
	if (x != NULL)
		CacheQuantize(vt, slot, x);
	return SQLITE_OK;
}

/* Forget a deleted row: its code and scalars are zeroed. */
void
FrtSqCacheClear(FrtSqGalleryVtab *vt, int slot)
{
	FrtSqCache *c = &vt->cache;

	if (!c->loaded || slot < 0 || slot >= c->nslots)
		return;
	if (c->purpose[slot] >= 0)
		c->nrows--;
	c->purpose[slot] = -1;
	c->rowid[slot] = 0;
	c->zero[slot] = 0;
	FrtSqWipe(c->codes + (size_t) slot * vt->dim, vt->dim);
	FrtSqWipe(&c->qrow[slot], sizeof(FrtQuantRow));
}

/* Does the search look at this slot: a row, of the wanted purpose (-2: any)? */
static inline bool
CacheWanted(const FrtSqCache *c, int32_t slot, int purpose_id)
{
	int32_t		pu = c->purpose[slot];

	return pu >= 0 && (purpose_id < 0 || pu == purpose_id);
}

/* Ask the CPU to bring a row's code into the cache. */
static inline void
CachePrefetch(const int8_t *code, int dim)
{
	for (int off = 0; off < dim; off += 64)
		__builtin_prefetch(code + off, 0, 0);
}

/* Sift the root of a max-heap of candidates (by bound) down. */
static void
HeapDown(CacheCand *h, int n, int i)
{
	for (;;)
	{
		int			l = 2 * i + 1,
					m = i;
		CacheCand	t;

		if (l < n && h[l].lb > h[m].lb)
			m = l;
		if (l + 1 < n && h[l + 1].lb > h[m].lb)
			m = l + 1;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

/* Push onto a max-heap of at most cap candidates, keeping the smallest bounds. */
static inline void
HeapPush(CacheCand *h, int *n, int cap, float lb, int32_t slot)
{
	int			i;

	if (*n == cap)
	{
		if (!(lb < h[0].lb))
			return;
		h[0].lb = lb;
		h[0].slot = slot;
		HeapDown(h, cap, 0);
		return;
	}
	i = (*n)++;
	while (i > 0 && h[(i - 1) / 2].lb < lb)
	{
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i].lb = lb;
	h[i].slot = slot;
}

/* Order candidates by slot (chunk locality when reading them). */
static int
CandBySlot(const void *a, const void *b)
{
	return ((const CacheCand *) a)->slot - ((const CacheCand *) b)->slot;
}

/* Order candidates by bound. */
static int
CandByBound(const void *a, const void *b)
{
	float		x = ((const CacheCand *) a)->lb,
				y = ((const CacheCand *) b)->lb;

	return (x > y) - (x < y);
}

/* Does hit a come before hit b: by distance, then rowid? */
static inline bool
HitBefore(double da, sqlite3_int64 ra, const FrtSqHit *b)
{
	return da < b->dist || (da == b->dist && ra < b->rowid);
}

/* Insert into the sorted top list of at most k hits. */
static void
TopInsert(FrtSqHit *top, int *n, int k, double d, sqlite3_int64 rowid, int32_t slot)
{
	int			i;

	if (*n == k && !HitBefore(d, rowid, &top[k - 1]))
		return;
	i = (*n < k) ? (*n)++ : k - 1;
	while (i > 0 && HitBefore(d, rowid, &top[i - 1]))
	{
		top[i] = top[i - 1];
		i--;
	}
	top[i].dist = d;
	top[i].rowid = rowid;
	top[i].slot = slot;
}

/* The state of one search. */
typedef struct CacheSearch
{
	FrtSqGalleryVtab *vt;
	const float *probe;
	float	   *x;				/* a row's floats, read from its chunk */
	FrtSqHit   *top;
	int			ntop;
	int			k;
	double		maxd;
} CacheSearch;

/* Re-rank one slot with the exact distance. */
static int
SearchRerank(CacheSearch *s, int32_t slot)
{
	double		d;
	int			rc = FrtSqStoreReadVector(s->vt, slot, s->x);

	if (rc != SQLITE_OK)
		return rc;
	d = FrtDistance(s->x, s->probe, s->vt->dim, s->vt->metric);
	if (!isnan(d) && d <= s->maxd)
		TopInsert(s->top, &s->ntop, s->k, d, s->vt->cache.rowid[slot], slot);
	return SQLITE_OK;
}

/* The k-th distance found so far, or the threshold while fewer than k are. */
static inline double
SearchBar(const CacheSearch *s)
{
	return s->ntop == s->k ? s->top[s->k - 1].dist : s->maxd;
}

/*
 * Exact mode, second pass: every candidate whose bound does not exceed
 * the k-th exact distance, in bound order, except those already re-ranked
 * (marked in done).
 */
static int
SearchExactRest(CacheSearch *s, CacheCand *cand, int ncand, const uint8_t *done)
{
	double		bar = SearchBar(s);
	int			n = 0;
	int			rc = SQLITE_OK;

	for (int i = 0; i < ncand; i++)
		if ((double) cand[i].lb <= bar && !(done[cand[i].slot >> 3] & (1 << (cand[i].slot & 7))))
			cand[n++] = cand[i];
	qsort(cand, n, sizeof(CacheCand), CandByBound);
	for (int i = 0; i < n && rc == SQLITE_OK; i++)
	{
		if ((double) cand[i].lb > SearchBar(s))
			break;
		rc = SearchRerank(s, cand[i].slot);
	}
	return rc;
}

/*
 * A 1:N search of the cache: the k nearest rows of a purpose (purpose_id
 * >= 0; -2: every purpose) within max_distance, ordered by (distance,
 * rowid); *hits is sqlite3_malloc'd.  The cache must be fresh.
 */
int
FrtSqCacheSearch(FrtSqGalleryVtab *vt, const float *probe, int purpose_id, int k, int mode,
				 double max_distance, FrtSqHit **hits, int *nhits)
{
	FrtSqCache *c = &vt->cache;
	int			dim = vt->dim;
	bool		exact = (mode == FRT_SQ_MODE_EXACT);
	int			cap = exact ? k : k + FRT_SQ_DEFAULT_RERANK;
	FrtQuantProbe p;
	float	   *q = sqlite3_malloc64(sizeof(float) * dim);
	int16_t    *qi = sqlite3_malloc64(sizeof(int16_t) * dim);
	CacheCand  *heap = sqlite3_malloc64(sizeof(CacheCand) * cap);
	CacheCand  *cand = exact ? sqlite3_malloc64(sizeof(CacheCand) * (c->nrows + 1)) : NULL;
	uint8_t    *done = exact ? sqlite3_malloc64(c->nslots / 8 + 1) : NULL;
	CacheSearch s = {vt, probe, sqlite3_malloc64(sizeof(float) * dim),
	sqlite3_malloc64(sizeof(FrtSqHit) * k), 0, k, max_distance};
	int			nheap = 0,
				ncand = 0,
				rc = SQLITE_OK;

	*hits = NULL;
	*nhits = 0;
	if (!q || !qi || !heap || !s.x || !s.top || (exact && (!cand || !done)))
		rc = SQLITE_NOMEM;
	if (rc == SQLITE_OK)
	{
		int32_t		ahead = 0;
		int			pending = 0;

		FrtQuantPrepareProbe(&p, probe, dim, vt->metric, q, qi);
		for (int32_t i = 0; i < c->nslots; i++)
		{
			double		lb;
			float		f;

			/*
			 * Prefetch the codes of the rows the scan will rank next: a
			 * purpose filter leaves gaps in the stream that defeat the
			 * hardware prefetcher.
			 */
			for (; ahead < c->nslots && pending < FRT_SQ_PREFETCH_ROWS; ahead++)
				if (CacheWanted(c, ahead, purpose_id))
				{
					CachePrefetch(c->codes + (size_t) ahead * dim, dim);
					pending++;
				}
			if (!CacheWanted(c, i, purpose_id))
				continue;
			pending--;
			lb = FrtQuantLowerBound(&p, &c->qrow[i], c->codes + (size_t) i * dim, c->zero[i]);
			if (!(lb <= max_distance))
				continue;		/* beyond the threshold, or NaN */
			f = FrtFloatDown(lb);
			if (exact)
			{
				cand[ncand].lb = f;
				cand[ncand++].slot = i;
			}
			HeapPush(heap, &nheap, cap, f, i);
		}
		qsort(heap, nheap, sizeof(CacheCand), CandBySlot);
		if (exact)
			memset(done, 0, c->nslots / 8 + 1);
		for (int i = 0; i < nheap && rc == SQLITE_OK; i++)
		{
			rc = SearchRerank(&s, heap[i].slot);
			if (exact)
				done[heap[i].slot >> 3] |= (uint8_t) (1 << (heap[i].slot & 7));
		}
		if (exact && rc == SQLITE_OK && ncand > nheap)
			rc = SearchExactRest(&s, cand, ncand, done);
	}
	FrtSqStoreRelease(vt);
	if (rc == SQLITE_OK)
	{
		*hits = s.top;
		*nhits = s.ntop;
		s.top = NULL;
	}
	CacheWipeFree(q, q ? sizeof(float) * dim : 0);
	CacheWipeFree(qi, qi ? sizeof(int16_t) * dim : 0);
	CacheWipeFree(s.x, s.x ? sizeof(float) * dim : 0);
	sqlite3_free(s.top);
	sqlite3_free(heap);
	sqlite3_free(cand);
	sqlite3_free(done);
	return rc;
}

/*-------------------------------------------------------------------------
 *
 * frt_jobs.h
 *	  Jobs layer: heap scrubbing and erasure evidence.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FRT_JOBS_H
#define FRT_JOBS_H

#include "storage/block.h"
#include "storage/bufpage.h"
#include "utils/relcache.h"

/* Counters of one scrub (see scrub.c). */
typedef struct FrtScrubStats
{
	int64		pages;			/* pages visited */
	int64		pages_scrubbed; /* pages rewritten (and WAL-logged) */
	int64		bytes_zeroed;	/* stale bytes overwritten */
	int64		tuples_pruned;	/* dead tuples removed while scrubbing */
	int64		pages_skipped;	/* pages left because another backend pinned them */
} FrtScrubStats;

/* Stale (non-zero) bytes in a page's free space; zero them if apply. */
extern int64 FrtPageStaleBytes(Page page, bool apply);

/* Open a heap (or TOAST) table for scrubbing, ShareUpdateExclusiveLock. */
extern Relation FrtScrubOpen(Oid relid);

/* Prune and zero free space of all pages, or of those set in 'only'. */
extern void FrtScrubRelation(Relation rel, FrtScrubStats *stats,
							 const uint8 *only, BlockNumber nonly, bool wait);

/* Layer start: the frt.scrub_on_vacuum GUC and the VACUUM hook. */
extern void FrtJobsInit(void);

#endif							/* FRT_JOBS_H */

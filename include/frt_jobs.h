/*-------------------------------------------------------------------------
 *
 * frt_jobs.h
 *	  Jobs layer: heap scrubbing and erasure evidence.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FRT_JOBS_H
#define FRT_JOBS_H

#include "storage/bufpage.h"

/* Stale (non-zero) bytes in a page's free space; zero them if apply. */
extern int64 FrtPageStaleBytes(Page page, bool apply);

#endif							/* FRT_JOBS_H */

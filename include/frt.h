/*-------------------------------------------------------------------------
 *
 * frt.h
 *	  Limits and defaults of the frt core (type, kernels, operators, index).
 *
 * Every tunable limit or default of the core is a named constant in this
 * one header, grouped by layer.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FRT_H
#define FRT_H

#include "postgres.h"

#include "frt_compat.h"

#include "frt_common.h"

/* ---- Layer 1: the face_embedding type ---- */
/* FRT_MAX_DIM, FRT_MIN_DIM, FRT_TEXT_MAX_LEN: frt_common.h (both editions) */

/* ---- Layer 4: the frt_ivf index (see frt_ivf.h for page layout) ---- */
#define FRT_IVF_DEFAULT_LISTS	0		/* 0 = chosen from the row count */
#define FRT_IVF_MAX_LISTS		32768
#define FRT_IVF_DEFAULT_PROBES	0		/* 0 = chosen from lists (see below) */
#define FRT_IVF_MAX_PROBES		32768
#define FRT_IVF_AUTO_PROBES_SQRT	5.4	/* probes = 0: this * sqrt(lists), at most lists */
#define FRT_IVF_AUTO_FLAT_ROWS	50000	/* lists = 0: flat below this many rows, else sqrt(rows) */
#define FRT_IVF_GUESS_ROWS_PER_PAGE	3	/* lists = 0, table never analyzed: rows a heap page */
#define FRT_IVF_KMEANS_ITERS	6		/* k-means iterations at build */
#define FRT_IVF_KMEANS_SEED		0x46525449	/* k-means random generator: builds repeat */
#define FRT_IVF_SAMPLE_PER_LIST	32		/* k-means sample rows per list */
#define FRT_IVF_SAMPLE_MIN		10000	/* ...but at least this many (if present) */
#define FRT_IVF_SAMPLE_MEM_SHARE	0.5	/* ...and at most this share of maintenance_work_mem */
#define FRT_IVF_FIRST_SLICE		64		/* scan: rows ordered first... */
#define FRT_IVF_SLICE_GROWTH	4		/* ...each later slice this many times more... */
#define FRT_IVF_MAX_SLICE		65536	/* ...up to this many rows */
#define FRT_IVF_INITIAL_CANDIDATES	1024	/* scan: candidate array at first */
#define FRT_IVF_MIN_CANDIDATES	2048	/* scan: candidates kept even if work_mem is smaller */
#define FRT_IVF_KEEP_FRACTION	4		/* scan: a full candidate array keeps about 1 / this */
#define FRT_IVF_CEIL_SAMPLE		1024	/* ...its smallest rows, placed from a sample this big */
#define FRT_IVF_BLOCK_CHUNK		1024	/* scan of every list: blocks put in buffer order at once */
#define FRT_IVF_PREFETCH_BYTES	5120	/* scan: tuple bytes prefetched ahead of the row ranked */
#define FRT_IVF_CACHE_LINE		64		/* scan: prefetch granularity, bytes */
#define FRT_IVF_STARTUP_PAGES	100.0	/* fixed scan set-up cost, in pages */
#define FRT_IVF_COST_DIMS_PER_OP	64	/* cost: dimensions ranked per cpu_operator_cost */
#define FRT_IVF_COST_DIM		512		/* cost: dimension assumed before the first row */
#define FRT_IVF_WITHIN_SEL		0.005	/* selectivity of a distance threshold (a match) */
#define FRT_IVF_WITHIN_SEL_DUP	0.00005	/* ...of a threshold <= 0 (duplicates only) */
#define FRT_IVF_WITHIN_SEL_COSINE	0.5	/* ...of a cosine threshold t >= 1: this * t */
#define FRT_IVF_MAX_VAR_DEPTH	64		/* planner hook: subquery levels followed to a column */
/* the bound's slacks and the probe's int16 range: FRT_QUANT_* in frt_common.h */
#define FRT_IVF_RECENT_SPARE	4		/* recent-buffer hints: room for 1/this more blocks... */
#define FRT_IVF_RECENT_EXTRA	64		/* ...plus this many */
#define FRT_IVF_CHECK_MAX_PROBLEMS	1000	/* index_check lists at most this many problems */
/* derived from the page layout (frt_ivf.h): FRT_IVF_MAX_CENTROID_DIM, 2033 at 8 kB */
#define FRT_IVF_WAL_CHUNK		1024	/* build: blocks WAL-logged between progress reports */
#define FRT_IVF_PROGRESS_ROWS	1024	/* build: rows loaded / written between progress reports */
/* derived: FRT_IVF_MAX_SEALED_CENTROID_DIM, 2024 at 8 kB (a sealed centroid is 34 bytes longer) */
#define FRT_IVF_PLAIN_CACHE_DEFAULT_KB	(256 * 1024)	/* frt.ivf_plaintext_cache: opened pages a backend keeps */
#define FRT_IVF_PLAIN_CHUNK_PAGES	64	/* ...allocated this many pages at a time */
#define FRT_IVF_EPOCHS_INITIAL	8		/* ivf_epochs: epochs counted before the array grows */

/* Module entry point (src/frt.c). */
extern void _PG_init(void);

#endif							/* FRT_H */

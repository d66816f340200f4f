/*-------------------------------------------------------------------------
 *
 * ivfcost.c
 *	  Planner cost estimate of an frt_ivf scan.
 *
 * An ordered frt_ivf scan pays almost everything up front: it ranks the
 * codes of every row in the searched lists before returning its first row;
 * each further row is cheap (the heap fetch is costed by the planner).  So
 * the startup cost is a fixed set-up cost plus the pages and rows ranked,
 * and a LIMIT query costs little more than that.  The fixed part keeps a
 * sequential scan and sort preferred for tables of a few hundred rows.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "frt_compat.h"

#include <float.h>

#include "access/genam.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "utils/selfuncs.h"
#include "utils/rel.h"

#include "frt_ivf.h"

/* amcostestimate: cost of an ordered or threshold scan; unusable for neither. */
void
ivfcostestimate(PlannerInfo *root, IndexPath *path,
				double loop_count pg_attribute_unused(),
				Cost *indexStartupCost, Cost *indexTotalCost,
				Selectivity *indexSelectivity, double *indexCorrelation,
				double *indexPages)
{
	IndexOptInfo *info = path->indexinfo;
	Relation	index;
	FrtIvfCache *cache;
	double		fraction = 1.0,
				tuples = Max(info->tuples, 1.0),
				pages = Max(info->pages, 1.0),
				perTuple;
	uint32		lists;
	int			dim;

	*indexCorrelation = 0.0;
	*indexSelectivity = 1.0;
	*indexPages = pages;
	if (path->indexorderbys == NIL && path->indexclauses == NIL)
	{
		/* the index only helps ORDER BY distance and distance thresholds */
		*indexStartupCost = *indexTotalCost = DBL_MAX;
		*indexSelectivity = 0.0;
		return;
	}
	if (path->indexclauses != NIL)
	{
		/*
		 * Threshold conditions (ivfrange.c): the scan returns only rows whose
		 * bound is within the threshold, about the qualifying ones.
		 */
		*indexSelectivity = clauselist_selectivity(root,
												   get_quals_from_indexclauses(path->indexclauses),
												   info->rel->relid, JOIN_INNER, NULL);
	}

	index = index_open(info->indexoid, NoLock);
	cache = FrtIvfGetCache(index);
	lists = cache->meta.lists;
	dim = cache->meta.dim > 0 ? cache->meta.dim : FRT_IVF_COST_DIM;
	index_close(index, NoLock);

	/* threshold scans visit every list (ivfrange.c) */
	if (!frt_ivf_exact && lists > 1 && path->indexclauses == NIL)
	{
		double		probes = FrtIvfProbes(lists);

		fraction = Min(1.0, probes / lists);
	}
	/* ranking one code costs about one operator call per 64 dimensions */
	perTuple = cpu_operator_cost * Max(1.0, (double) dim / FRT_IVF_COST_DIMS_PER_OP);
	*indexStartupCost = FRT_IVF_STARTUP_PAGES * seq_page_cost +
		fraction * (pages * seq_page_cost + tuples * perTuple);
	*indexTotalCost = *indexStartupCost +
		tuples * *indexSelectivity * cpu_index_tuple_cost;
}

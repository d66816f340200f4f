/*-------------------------------------------------------------------------
 *
 * ivf.c
 *	  The frt_ivf access method: handler, reloptions, GUCs and build phase
 *	  names.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "frt_compat.h"

#include "access/amapi.h"
#include "access/reloptions.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "fmgr.h"
#include "utils/guc.h"

#include "frt_ivf.h"
#include "frt_names.h"

bool		frt_ivf_exact = false;
int			frt_ivf_probes = FRT_IVF_DEFAULT_PROBES;

static relopt_kind frt_ivf_relopt_kind;

/* Register the reloption and GUCs of the index (called from _PG_init). */
void
FrtIvfInit(void)
{
	frt_ivf_relopt_kind = add_reloption_kind();
	add_int_reloption(frt_ivf_relopt_kind, FRT_IVF_RELOPT_LISTS,
					  "Number of k-means lists (0 = chosen from the row count, 1 = flat)",
					  FRT_IVF_DEFAULT_LISTS, 0, FRT_IVF_MAX_LISTS,
					  AccessExclusiveLock);
	add_bool_reloption(frt_ivf_relopt_kind, FRT_IVF_RELOPT_SEALED,
					   "Seal codes and centroids with the key provider at build (REINDEX applies a change)",
					   false, AccessExclusiveLock);

	DefineCustomBoolVariable(FRT_GUC_EXACT,
							 "frt_ivf scans return exactly what an exhaustive scan returns.",
							 "When on, every list is searched and rows are re-ranked "
							 "until the error bound proves the order.",
							 &frt_ivf_exact, false,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable(FRT_GUC_PROBES,
							"Number of frt_ivf lists searched first when frt.exact is off "
							"(0 = " CppAsString2(FRT_IVF_AUTO_PROBES_SQRT) " * sqrt(lists)).",
							NULL, &frt_ivf_probes, FRT_IVF_DEFAULT_PROBES,
							0, FRT_IVF_MAX_PROBES,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable(FRT_GUC_PLAIN_CACHE,
							"Memory a backend keeps for opened pages of sealed frt_ivf indexes "
							"(0 = open every page at every visit).",
							"This is the memory the encryption of index pages costs, per backend.",
							&frt_ivf_plain_cache_kb, FRT_IVF_PLAIN_CACHE_DEFAULT_KB,
							0, MAX_KILOBYTES,
							PGC_SUSET, GUC_UNIT_KB, NULL, FrtIvfPlainAssign, NULL);
	/* rewrites "e <=> p < t" into an index condition (ivfplanner.c) */
	FrtIvfPlannerInit();
	/* MarkGUCPrefixReserved(FRT_GUC_PREFIX) belongs after every layer's GUCs, in _PG_init */
}

/* Parse and check the index's reloptions. */
bytea *
ivfoptions(Datum reloptions, bool validate)
{
	static const relopt_parse_elt tab[] = {
		{FRT_IVF_RELOPT_LISTS, RELOPT_TYPE_INT, offsetof(FrtIvfOptions, lists)},
		{FRT_IVF_RELOPT_SEALED, RELOPT_TYPE_BOOL, offsetof(FrtIvfOptions, sealed)},
	};

	return (bytea *) build_reloptions(reloptions, validate, frt_ivf_relopt_kind,
									  sizeof(FrtIvfOptions), tab, lengthof(tab));
}

/* Name of a build sub-phase for pg_stat_progress_create_index. */
static char *
ivfbuildphasename(int64 phasenum)
{
	switch (phasenum)
	{
		case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
			return "initializing";
		case FRT_IVF_PHASE_SAMPLE:
			return "sampling rows";
		case FRT_IVF_PHASE_KMEANS:
			return "computing centroids (k-means)";
		case FRT_IVF_PHASE_LOAD:
			return "loading rows";
		case FRT_IVF_PHASE_WRITE:
			return "writing lists";
		case FRT_IVF_PHASE_WAL:
			return "WAL-logging pages";
		default:
			return NULL;
	}
}

/* Operator classes are checked when created in ivf.sql; nothing more here. */
static bool
ivfvalidate(Oid opclassoid pg_attribute_unused())
{
	return true;
}

PG_FUNCTION_INFO_V1(frt_ivf_handler);
/* The access method handler: what frt_ivf can do and its callbacks. */
Datum
frt_ivf_handler(PG_FUNCTION_ARGS)
{
	IndexAmRoutine *am = makeNode(IndexAmRoutine);

	am->amstrategies = FRT_IVF_AM_STRATEGIES;
	am->amsupport = 0;
	am->amoptsprocnum = 0;
	am->amcanorder = false;
	am->amcanorderbyop = true;
	am->amcanbackward = false;
	am->amcanunique = false;
	am->amcanmulticol = false;
	am->amoptionalkey = true;
	am->amsearcharray = false;
	am->amsearchnulls = false;
	am->amstorage = false;
	am->amclusterable = false;
	am->ampredlocks = false;
	am->amcanparallel = false;
	am->amcaninclude = false;
	am->amusemaintenanceworkmem = true;
	/*
	 * No parallel VACUUM: a parallel VACUUM makes the leader allocate and
	 * zero a dynamic shared memory area for the dead TIDs (58 MB for a
	 * 100,000-row gallery) and start a worker that maps the index pages
	 * afresh, which cost more (VACUUM 0.65 s instead of 0.45 s there) than
	 * overlapping this index with a primary key saves; and only the leader
	 * can report progress (frt.ivf_vacuum_progress).  See docs/index.md.
	 */
	am->amparallelvacuumoptions = VACUUM_OPTION_NO_PARALLEL;
	am->amkeytype = InvalidOid;

	am->ambuild = ivfbuild;
	am->ambuildempty = ivfbuildempty;
	am->aminsert = ivfinsert;
	am->ambulkdelete = ivfbulkdelete;
	am->amvacuumcleanup = ivfvacuumcleanup;
	am->amcanreturn = NULL;
	am->amcostestimate = ivfcostestimate;
	am->amoptions = ivfoptions;
	am->amproperty = NULL;
	am->ambuildphasename = ivfbuildphasename;
	am->amvalidate = ivfvalidate;
	am->amadjustmembers = NULL;
	am->ambeginscan = ivfbeginscan;
	am->amrescan = ivfrescan;
	am->amgettuple = ivfgettuple;
	am->amgetbitmap = NULL;
	am->amendscan = ivfendscan;
	am->ammarkpos = NULL;
	am->amrestrpos = NULL;
	am->amestimateparallelscan = NULL;
	am->aminitparallelscan = NULL;
	am->amparallelrescan = NULL;

	PG_RETURN_POINTER(am);
}

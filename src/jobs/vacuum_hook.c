/*-------------------------------------------------------------------------
 *
 * vacuum_hook.c
 *	  Make "VACUUM frt.face" leave no erased bytes in the heap pages.
 *
 * VACUUM removes dead face rows and their index entries, but leaves the
 * rows' bytes in the free space of the heap pages (PostgreSQL does not zero
 * it).  With frt.scrub_on_vacuum on (the default), a VACUUM statement that
 * processes frt.face (named, or a database-wide VACUUM) is followed, in the
 * same statement, by frt.scrub_heap on the pages VACUUM may have changed:
 * those not marked all-visible before it started (every page that lost or
 * changed a row since the previous VACUUM is among them).  So the
 * documented chain "frt.purge(); VACUUM (INDEX_CLEANUP ON) frt.face" erases
 * from the table, the index and the heap files; the nightly frt-scrub job
 * still scans the whole table and confirms the ledger.
 *
 * Like VACUUM, it does not wait for a page another backend has pinned: it
 * leaves that page to the nightly frt-scrub job (which waits).  Not
 * covered: autovacuum (no statement), VACUUM FULL (it writes new files
 * anyway), and VACUUM run by a role that does not own frt.face (VACUUM
 * skips the table too).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/visibilitymap.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "frt_governance.h"
#include "frt_gov_names.h"
#include "frt_jobs.h"

static bool frt_scrub_on_vacuum = FRT_JOBS_SCRUB_ON_VACUUM_DEFAULT;
static ProcessUtility_hook_type prev_ProcessUtility = NULL;

/* The face store's OID in this database, or InvalidOid. */
static Oid
FrtFaceRelid(void)
{
	return FrtGovRelid(FRT_REL_FACE, true);
}

/* Does this VACUUM statement process the face store (and not as FULL)? */
static bool
FrtVacuumTargets(VacuumStmt *stmt, Oid face)
{
	ListCell   *lc;

	if (!stmt->is_vacuumcmd)
		return false;
	foreach(lc, stmt->options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, "full") == 0 && defGetBoolean(opt))
			return false;
	}
	if (stmt->rels == NIL)
		return true;
	foreach(lc, stmt->rels)
	{
		VacuumRelation *vrel = lfirst_node(VacuumRelation, lc);
		Oid			relid = vrel->relation ?
			RangeVarGetRelid(vrel->relation, NoLock, true) : vrel->oid;

		if (relid == face)
			return true;
	}
	return false;
}

/*
 * Bitmap of the pages of rel not all-visible now (allocated in cxt, which
 * must outlive VACUUM's own transactions); *nblocks gets the page count.
 */
static uint8 *
FrtNotAllVisible(Oid relid, BlockNumber *nblocks, MemoryContext cxt)
{
	Relation	rel = try_relation_open(relid, AccessShareLock);
	Buffer		vmbuf = InvalidBuffer;
	uint8	   *map;
	BlockNumber blkno;

	if (rel == NULL)
		return NULL;
	*nblocks = RelationGetNumberOfBlocks(rel);
	map = MemoryContextAllocZero(cxt, *nblocks / 8 + 1);
	for (blkno = 0; blkno < *nblocks; blkno++)
		if (!VM_ALL_VISIBLE(rel, blkno, &vmbuf))
			map[blkno / 8] |= 1 << (blkno % 8);
	if (BufferIsValid(vmbuf))
		ReleaseBuffer(vmbuf);
	relation_close(rel, AccessShareLock);
	return map;
}

/* After VACUUM: scrub the listed pages of the face store, and its TOAST table. */
static void
FrtScrubAfterVacuum(Oid face, const uint8 *map, BlockNumber nblocks)
{
	FrtScrubStats stats = {0};
	Relation	rel;
	Oid			toastid;

	if (!pg_class_ownercheck(face, GetUserId()))
		return;
	PushActiveSnapshot(GetTransactionSnapshot());
	rel = FrtScrubOpen(face);
	toastid = rel->rd_rel->reltoastrelid;
	FrtScrubRelation(rel, &stats, map, nblocks, false);
	if (OidIsValid(toastid))
	{
		Relation	toast = FrtScrubOpen(toastid);

		FrtScrubRelation(toast, &stats, NULL, 0, false);
		relation_close(toast, ShareUpdateExclusiveLock);
	}
	relation_close(rel, ShareUpdateExclusiveLock);
	PopActiveSnapshot();
	ereport(DEBUG1,
			(errmsg("frt: scrubbed %lld of %lld pages visited in %s after VACUUM (%lld bytes zeroed, %lld pinned pages left to the scrub job)",
					(long long) stats.pages_scrubbed, (long long) stats.pages,
					FrtGovRelName(FRT_REL_FACE),
					(long long) stats.bytes_zeroed, (long long) stats.pages_skipped)));
}

/* ProcessUtility hook: run VACUUM, then scrub the face store's changed pages. */
static void
FrtProcessUtility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
				  ProcessUtilityContext context, ParamListInfo params,
				  QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	Oid			face = InvalidOid;
	uint8	   *map = NULL;
	BlockNumber nblocks = 0;

	if (frt_scrub_on_vacuum && IsA(parsetree, VacuumStmt) && IsTransactionState())
	{
		face = FrtFaceRelid();
		if (OidIsValid(face) && FrtVacuumTargets((VacuumStmt *) parsetree, face))
			map = FrtNotAllVisible(face, &nblocks,
								   PortalContext ? PortalContext : TopMemoryContext);
	}

	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
							queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
								queryEnv, dest, qc);

	if (map != NULL)
	{
		/* VACUUM may have truncated or dropped the table: look it up again. */
		if (IsTransactionState() && FrtFaceRelid() == face)
			FrtScrubAfterVacuum(face, map, nblocks);
		pfree(map);
	}
}

/* Layer start: the GUC and the hook. */
void
FrtJobsInit(void)
{
	DefineCustomBoolVariable("frt.scrub_on_vacuum",
							 "Zero the heap space of erased faces at the end of each VACUUM of the face store.",
							 "Scrubs the pages of the face table that were not all-visible before the VACUUM.",
							 &frt_scrub_on_vacuum,
							 FRT_JOBS_SCRUB_ON_VACUUM_DEFAULT,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = FrtProcessUtility;
}

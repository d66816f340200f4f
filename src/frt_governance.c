/*-------------------------------------------------------------------------
 *
 * frt_governance.c
 *	  Load of the frt_governance library: the core first, then each layer.
 *
 * frt_governance must be in shared_preload_libraries: its audit layer
 * reserves shared memory and starts background writers.  The core library
 * is loaded first so that its settings exist before the frt. prefix is
 * reserved.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "frt_governance.h"
#include "frt_audit.h"
#include "frt_jobs.h"
#include "frt_keys.h"
#include "frt_nls.h"

PG_MODULE_MAGIC;

/* frt.processor: the processor a superuser acts for (read in SQL only). */
static char *frt_acting_processor = NULL;

/* Define frt.processor (src/registry/10_registry.sql, _acting_processor). */
static void
FrtProcessorSettingInit(void)
{
	DefineCustomStringVariable("frt.processor",
							   "Processor a superuser acts for when several share the database (empty: the first registered).",
							   NULL, &frt_acting_processor, "",
							   PGC_USERSET, 0, NULL, NULL, NULL);
}

/* Called when the library is loaded: load the core, start each layer. */
void
_PG_init(void)
{
	load_file(FRT_CORE_LIBRARY, false);
	FRT_NLS_INIT();
	FrtAuditInit();
	FrtAuditKeyInit();
	FrtAuditHashInit();
	FrtAuditAnchorInit();
	FrtRolesInit();
	FrtAuditDdlInit();
	FrtKeysInit();
	FrtJobsInit();
	FrtProcessorSettingInit();
	/* every frt library has defined its settings: no other frt.* name is valid */
	MarkGUCPrefixReserved("frt");
}

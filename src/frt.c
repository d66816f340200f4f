/*-------------------------------------------------------------------------
 *
 * frt.c
 *	  Module load: kernel dispatch, GUCs and the start of each layer.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "frt.h"
#include "frt_audit.h"
#include "frt_ivf.h"
#include "frt_kernels.h"

PG_MODULE_MAGIC;

/* Called when the library is loaded: choose kernels, start each layer. */
void
_PG_init(void)
{
	FrtKernelsInit();
	FrtAuditInit();
	FrtIvfInit();
	/* every layer has defined its settings: no other frt.* name is valid */
	MarkGUCPrefixReserved("frt");
}

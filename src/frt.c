/*-------------------------------------------------------------------------
 *
 * frt.c
 *	  Load of the frt core library: kernel dispatch and the index layer.
 *
 * The core needs no shared_preload_libraries: everything it sets up here is
 * per backend, so loading it on first use (the first call of one of its C
 * functions, or the first relcache load of an frt_ivf index) is enough.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "frt_compat.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "frt.h"
#include "frt_ivf.h"
#include "frt_kernels.h"
#include "frt_names.h"
#include "frt_nls.h"

PG_MODULE_MAGIC;

/* Called when the library is loaded: choose kernels, start the index layer. */
void
_PG_init(void)
{
	FRT_NLS_INIT();
	FrtKernelsInit();
	FrtIvfInit();

	/*
	 * Reserve the frt. prefix only when loaded after server start: during
	 * shared_preload_libraries, a library loaded after this one may still
	 * define frt.* settings from placeholders set in postgresql.conf.
	 */
	if (!process_shared_preload_libraries_in_progress)
		MarkGUCPrefixReserved(FRT_GUC_PREFIX);
}

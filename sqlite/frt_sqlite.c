/*-------------------------------------------------------------------------
 *
 * frt_sqlite.c
 *	  Entry point of the SQLite edition: sqlite3 device.db '.load ./frt_sqlite'
 *	  or sqlite3_load_extension(db, "frt_sqlite", NULL, &err).
 *
 *-------------------------------------------------------------------------
 */
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1

#include "sq_common.h"
#include "frt_kernels.h"

/* Load the extension into one connection: kernels, then each module in stack order. */
__attribute__((visibility("default")))
int
sqlite3_frtsqlite_init(sqlite3 *db, char **errmsg, const sqlite3_api_routines *api)
{
	int			rc;

	SQLITE_EXTENSION_INIT2(api);
	FrtKernelsInit();
	rc = FrtSqGalleryRegister(db, errmsg);
	if (rc == SQLITE_OK)
		rc = FrtSqGovRegister(db, errmsg);
	if (rc == SQLITE_OK)
		rc = FrtSqSyncRegister(db, errmsg);
	return rc;
}

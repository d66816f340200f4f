/* local build only: not committed */
#include "sq_common.h"
int FrtSqGovRegister(sqlite3 *db, char **errmsg) { (void) db; (void) errmsg; return SQLITE_OK; }
int FrtSqSyncRegister(sqlite3 *db, char **errmsg) { (void) db; (void) errmsg; return SQLITE_OK; }

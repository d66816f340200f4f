/*-------------------------------------------------------------------------
 *
 * sq_common.h
 *	  What every module of the SQLite edition shares: the extension API
 *	  handle, module registration and the limits of the edition.
 *
 * The edition is a stack like the server's: the gallery (sq_gallery*.c:
 * embeddings, distances, 1:N and 1:1 matching) knows nothing of
 * governance; governance (sq_gov*.c: purposes, notices, consent, audit,
 * lockout, erasure) takes part in the gallery's work only through the
 * gallery's guard (sq_gallery.h); sync (sq_sync*.c) sits on both.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SQ_COMMON_H
#define SQ_COMMON_H

#include <sqlite3ext.h>

#include "frt_common.h"

/* Every file of the extension uses the API table the loader hands over. */
SQLITE_EXTENSION_INIT3

/* Module registration, called in this order by sqlite3_frtsqlite_init(). */
extern int	FrtSqGalleryRegister(sqlite3 *db, char **errmsg);
extern int	FrtSqGovRegister(sqlite3 *db, char **errmsg);
extern int	FrtSqSyncRegister(sqlite3 *db, char **errmsg);

#endif							/* SQ_COMMON_H */

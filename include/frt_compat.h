/*-------------------------------------------------------------------------
 *
 * frt_compat.h
 *	  The PostgreSQL versions frt builds against, and the one place for
 *	  version-dependent code.
 *
 * Both extensions (frt and frt_governance) include this header right after
 * postgres.h (through frt.h and frt_governance.h), so that a build against
 * an unsupported server stops here with one clear message instead of a
 * cascade of errors from the first API that differs.
 *
 * The supported range is what is built and tested: PostgreSQL 15.  The core
 * is known to need changes for 16, which a port would guard here with
 * PG_VERSION_NUM:
 *
 *	- Relation.rd_node (ReadRecentBuffer in ivfutils.c) became rd_locator,
 *	  a RelFileLocator;
 *	- pg_class_ownercheck() (ivfcheck.c) became
 *	  object_ownercheck(RelationRelationId, ...);
 *	- the VACUUM progress slots frt_ivf borrows (frt_ivf.h) must be checked
 *	  against the parameters VACUUM itself uses (later versions use more).
 *
 * A version-dependent shim goes below, under a PG_VERSION_NUM test, and the
 * range is widened only once the whole tree builds and passes its tests
 * against the new version.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FRT_COMPAT_H
#define FRT_COMPAT_H

#include "postgres.h"

/* Supported PostgreSQL versions, as PG_VERSION_NUM values (inclusive). */
#define FRT_PG_VERSION_NUM_MIN	150000	/* 15.0 */
#define FRT_PG_VERSION_NUM_MAX	159999	/* the last 15.x */

#if PG_VERSION_NUM < FRT_PG_VERSION_NUM_MIN
#error "frt requires PostgreSQL 15; this server is older (see include/frt_compat.h)"
#endif
#if PG_VERSION_NUM > FRT_PG_VERSION_NUM_MAX
#error "frt supports PostgreSQL 15 only; this server is newer (see include/frt_compat.h for what a port needs)"
#endif

/* Version-dependent shims: none are needed within the supported range. */

#endif							/* FRT_COMPAT_H */

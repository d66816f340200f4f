/*-------------------------------------------------------------------------
 *
 * frt_names.h
 *	  Names of the core's SQL objects and settings, and the one module that
 *	  looks the objects up (src/index/ivfnames.c).
 *
 * No other C file of the core spells a schema, type, function, operator or
 * access method name: it asks FrtNamesLookup() for the object's OID.  The
 * schema is the one the frt extension was created in (pg_extension), so
 * nothing assumes it is called "frt".  The names here must match the SQL
 * that creates the objects (src/type/type.sql, src/index/ivf.sql).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FRT_NAMES_H
#define FRT_NAMES_H

#include "frt_ivf.h"

/* The extension, its settings' prefix and its access method. */
#define FRT_EXTENSION_NAME		"frt"
#define FRT_GUC_PREFIX			"frt"
#define FRT_GUC_EXACT			FRT_GUC_PREFIX ".exact"
#define FRT_GUC_PROBES			FRT_GUC_PREFIX ".probes"
#define FRT_GUC_PLAIN_CACHE		FRT_GUC_PREFIX ".ivf_plaintext_cache"
#define FRT_IVF_AM_NAME			"frt_ivf"
#define FRT_IVF_RELOPT_LISTS	"lists"
#define FRT_IVF_RELOPT_SEALED	"sealed"

/* Objects in the extension's schema. */
#define FRT_TYPE_EMBEDDING		"face_embedding"
#define FRT_TYPE_WITHIN			"face_within"
#define FRT_FUNC_WITHIN			"face_within"	/* (face_embedding, float8, bool) */

/*
 * The OIDs of the catalog objects C code uses, for the current database;
 * operators by metric (FRT_IVF_METRIC_*, entry 0 unused): the distance
 * operators <->, <#>, <=> and the threshold search operators <<->, <<#>,
 * <<=>.
 */
typedef struct FrtNames
{
	Oid			schema;			/* the frt extension's schema */
	Oid			embedding;		/* face_embedding */
	Oid			within;			/* face_within */
	Oid			within_make;	/* face_within(face_embedding, float8, bool) */
	Oid			dist[FRT_IVF_NSTRATEGIES + 1];
	Oid			search[FRT_IVF_NSTRATEGIES + 1];
} FrtNames;

extern const FrtNames *FrtNamesLookup(void);
extern int	FrtNamesDistanceMetric(Oid opno);
extern int	FrtNamesSearchMetric(Oid opno);
extern Oid	FrtNamesAmOid(void);

#endif							/* FRT_NAMES_H */

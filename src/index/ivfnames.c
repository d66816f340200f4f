/*-------------------------------------------------------------------------
 *
 * ivfnames.c
 *	  Looking up the core's catalog objects by name, in one place.
 *
 * The planner hook (ivfplanner.c), the threshold estimator (ivfwithin.c)
 * and index_check (ivfcheck.c) need the OIDs of the extension's types,
 * function and operators.  They are looked up here once per backend, in
 * the schema the frt extension lives in (pg_extension.extnamespace), and
 * forgotten whenever a type, function or operator changes (so DROP and
 * CREATE EXTENSION are seen).  The names are in include/frt_names.h.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "frt_compat.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/extension.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/syscache.h"

#include "frt_names.h"

/* Operator names by metric (FRT_IVF_METRIC_*). */
static const char *const dist_names[FRT_IVF_NSTRATEGIES + 1] = {NULL, "<->", "<#>", "<=>"};
static const char *const search_names[FRT_IVF_NSTRATEGIES + 1] = {NULL, "<<->", "<<#>", "<<=>"};

static FrtNames names;
static bool names_valid = false;	/* looked up since the last invalidation */
static bool names_present = false;	/* the extension and its objects exist */
static bool callbacks_registered = false;

/* Forget the looked-up OIDs when a type, function or operator changes. */
static void
FrtNamesInvalidate(Datum arg pg_attribute_unused(),
				   int cacheid pg_attribute_unused(),
				   uint32 hashvalue pg_attribute_unused())
{
	names_valid = false;
}

/* The schema of an extension, from its pg_extension row (InvalidOid if none). */
static Oid
ExtensionSchema(Oid extoid)
{
	Relation	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			schema = InvalidOid;

	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		schema = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return schema;
}

/* A type of the extension's schema, by name. */
static Oid
SchemaType(const char *name)
{
	return GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
						   CStringGetDatum(name), ObjectIdGetDatum(names.schema));
}

/* An operator of the extension's schema, by name and operand types. */
static Oid
SchemaOperator(const char *name, Oid left, Oid right)
{
	return GetSysCacheOid4(OPERNAMENSP, Anum_pg_operator_oid,
						   CStringGetDatum(name), ObjectIdGetDatum(left),
						   ObjectIdGetDatum(right), ObjectIdGetDatum(names.schema));
}

/* Look every object up; false if the extension or any object is missing. */
static bool
FrtNamesLoad(void)
{
	Oid			extoid = get_extension_oid(FRT_EXTENSION_NAME, true);
	Oid			argtypes[3];

	if (!OidIsValid(extoid))
		return false;
	names.schema = ExtensionSchema(extoid);
	if (!OidIsValid(names.schema))
		return false;
	names.embedding = SchemaType(FRT_TYPE_EMBEDDING);
	names.within = SchemaType(FRT_TYPE_WITHIN);
	if (!OidIsValid(names.embedding) || !OidIsValid(names.within))
		return false;
	argtypes[0] = names.embedding;
	argtypes[1] = FLOAT8OID;
	argtypes[2] = BOOLOID;
	names.within_make = GetSysCacheOid3(PROCNAMEARGSNSP, Anum_pg_proc_oid,
										CStringGetDatum(FRT_FUNC_WITHIN),
										PointerGetDatum(buildoidvector(argtypes, 3)),
										ObjectIdGetDatum(names.schema));
	if (!OidIsValid(names.within_make))
		return false;
	for (int m = 1; m <= FRT_IVF_NSTRATEGIES; m++)
	{
		names.dist[m] = SchemaOperator(dist_names[m], names.embedding, names.embedding);
		names.search[m] = SchemaOperator(search_names[m], names.embedding, names.within);
		if (!OidIsValid(names.dist[m]) || !OidIsValid(names.search[m]))
			return false;
	}
	return true;
}

/*
 * The OIDs of the extension's objects in this database, or NULL when the
 * extension is not (or not completely) installed.  Cached until the next
 * change of a type, function or operator.
 */
const FrtNames *
FrtNamesLookup(void)
{
	if (!callbacks_registered)
	{
		CacheRegisterSyscacheCallback(OPEROID, FrtNamesInvalidate, (Datum) 0);
		CacheRegisterSyscacheCallback(PROCOID, FrtNamesInvalidate, (Datum) 0);
		CacheRegisterSyscacheCallback(TYPEOID, FrtNamesInvalidate, (Datum) 0);
		callbacks_registered = true;
	}
	if (!names_valid)
	{
		memset(&names, 0, sizeof(names));
		names_valid = true;		/* an invalidation during the lookup clears it */
		names_present = FrtNamesLoad();
	}
	return names_present ? &names : NULL;
}

/* The metric of an frt distance operator (<->, <#>, <=>), or 0. */
int
FrtNamesDistanceMetric(Oid opno)
{
	const FrtNames *n = FrtNamesLookup();

	if (n != NULL)
		for (int m = 1; m <= FRT_IVF_NSTRATEGIES; m++)
			if (opno == n->dist[m])
				return m;
	return 0;
}

/* The metric of an frt threshold search operator (<<->, <<#>, <<=>), or 0. */
int
FrtNamesSearchMetric(Oid opno)
{
	const FrtNames *n = FrtNamesLookup();

	if (n != NULL)
		for (int m = 1; m <= FRT_IVF_NSTRATEGIES; m++)
			if (opno == n->search[m])
				return m;
	return 0;
}

/* The OID of the frt_ivf access method (an error if it does not exist). */
Oid
FrtNamesAmOid(void)
{
	return get_index_am_oid(FRT_IVF_AM_NAME, false);
}

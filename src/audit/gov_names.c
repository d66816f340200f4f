/*-------------------------------------------------------------------------
 *
 * gov_names.c
 *	  The names of frt_governance's SQL objects, in one table, and their
 *	  lookup: schema, qualified relation and function names, OIDs, columns.
 *
 * The schema is the one the frt_governance extension is installed in
 * (pg_extension.extnamespace), never a spelled-out name; the face_embedding
 * type is looked up in the schema of the frt core extension that owns it.
 * Both are looked up once per transaction (pg_extension has no syscache,
 * so no invalidation message tells us when the extension is dropped or
 * created) and again whenever a schema changes within a transaction
 * (syscache invalidation of pg_namespace).  The qualified names are built
 * once per schema name and kept in a backend-lifetime memory context.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "frt_gov_names.h"
#include "frt_governance.h"		/* FRT_CORE_EXTENSION, FRT_GOVERNANCE_EXTENSION */

/* Relation names (FrtGovRel order), in the frt_governance schema. */
static const char *const FrtGovRelNames[FRT_GOV_NRELS] = {
	[FRT_REL_AUDIT] = "audit",
	[FRT_REL_AUDIT_ANCHOR] = "audit_anchor",
	[FRT_REL_AUDIT_MARK] = "audit_mark",
	[FRT_REL_FACE] = "face",
};

/* Function names (FrtGovFunc order), in the frt_governance schema. */
static const char *const FrtGovFuncNames[FRT_GOV_NFUNCS] = {
	[FRT_FUNC_AUDIT_EVENT] = "audit_event",
	[FRT_FUNC_ERASURE_RECORD] = "_erasure_record",
	[FRT_FUNC_FACE_OPEN] = "_face_open",
	[FRT_FUNC_KEY_EPOCH_RECORDS] = "_key_epoch_records",
};

/* The access method of the core whose indexes seal their codes. */
#define FRT_GOV_SEALED_AM "frt_ivf"


/* Type names (FrtGovType order), in the frt core schema. */
static const char *const FrtGovTypeNames[FRT_GOV_NTYPES] = {
	[FRT_TYPE_FACE_EMBEDDING] = "face_embedding",
};

/* Column names (FrtGovCol order) and the relation each belongs to. */
static const struct
{
	FrtGovRel	rel;
	const char *name;
}			FrtGovCols[FRT_GOV_NCOLS] = {
	[FRT_COL_AUDIT_SEQ] = {FRT_REL_AUDIT, "seq"},
	[FRT_COL_AUDIT_AT] = {FRT_REL_AUDIT, "at"},
	[FRT_COL_AUDIT_EVENT] = {FRT_REL_AUDIT, "event"},
	[FRT_COL_AUDIT_OUTCOME] = {FRT_REL_AUDIT, "outcome"},
	[FRT_COL_AUDIT_SQLSTATE] = {FRT_REL_AUDIT, "sqlstate"},
	[FRT_COL_AUDIT_ROLE_NAME] = {FRT_REL_AUDIT, "role_name"},
	[FRT_COL_AUDIT_EFFECTIVE_ROLE] = {FRT_REL_AUDIT, "effective_role"},
	[FRT_COL_AUDIT_APPLICATION] = {FRT_REL_AUDIT, "application"},
	[FRT_COL_AUDIT_CLIENT_ADDR] = {FRT_REL_AUDIT, "client_addr"},
	[FRT_COL_AUDIT_BACKEND_PID] = {FRT_REL_AUDIT, "backend_pid"},
	[FRT_COL_AUDIT_PURPOSE] = {FRT_REL_AUDIT, "purpose"},
	[FRT_COL_AUDIT_SUBJECT] = {FRT_REL_AUDIT, "subject"},
	[FRT_COL_AUDIT_DEVICE] = {FRT_REL_AUDIT, "device"},
	[FRT_COL_AUDIT_SIMILARITY] = {FRT_REL_AUDIT, "similarity"},
	[FRT_COL_AUDIT_DETAIL] = {FRT_REL_AUDIT, "detail"},
	[FRT_COL_AUDIT_PREV_HASH] = {FRT_REL_AUDIT, "prev_hash"},
	[FRT_COL_AUDIT_HASH] = {FRT_REL_AUDIT, "hash"},
	[FRT_COL_AUDIT_MAC] = {FRT_REL_AUDIT, "mac"},
	[FRT_COL_AUDIT_HASH_ALG] = {FRT_REL_AUDIT, "hash_alg"},
	[FRT_COL_ANCHOR_LAST_SEQ] = {FRT_REL_AUDIT_ANCHOR, "last_seq"},
	[FRT_COL_ANCHOR_LAST_HASH] = {FRT_REL_AUDIT_ANCHOR, "last_hash"},
	[FRT_COL_ANCHOR_LAST_AT] = {FRT_REL_AUDIT_ANCHOR, "last_at"},
	[FRT_COL_ANCHOR_PURGED_AT] = {FRT_REL_AUDIT_ANCHOR, "purged_at"},
	[FRT_COL_MARK_SEQ] = {FRT_REL_AUDIT_MARK, "seq"},
	[FRT_COL_MARK_HASH] = {FRT_REL_AUDIT_MARK, "hash"},
	[FRT_COL_FACE_EMBEDDING] = {FRT_REL_FACE, "embedding"},
};

/*
 * The cache.  Schemas are valid for the transaction FrtGovLxid while
 * FrtGovValid; the strings live in FrtGovCxt and are rebuilt when the
 * governance schema's name changes.
 */
static MemoryContext FrtGovCxt = NULL;
static bool FrtGovValid = false;
static bool FrtGovInvalSeen = false;	/* an invalidation during a lookup */
static LocalTransactionId FrtGovLxid = InvalidLocalTransactionId;
static Oid	FrtGovNsp = InvalidOid;
static Oid	FrtCoreNsp = InvalidOid;
static char *FrtGovNspName = NULL;
static const char *FrtGovRelQ[FRT_GOV_NRELS];
static const char *FrtGovFuncQ[FRT_GOV_NFUNCS];
static const char *FrtGovColQ[FRT_GOV_NCOLS];
static const char *FrtGovColListQ[FRT_GOV_NRELS];

/* Syscache callback: a schema was created, renamed or dropped. */
static void
FrtGovNamesInval(Datum arg pg_attribute_unused(), int cacheid pg_attribute_unused(),
				 uint32 hashvalue pg_attribute_unused())
{
	FrtGovValid = false;
	FrtGovInvalSeen = true;
}

/* Schema of an installed extension (pg_extension.extnamespace), or InvalidOid. */
Oid
FrtGovExtensionSchema(const char *extname)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			nsp = InvalidOid;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum(extname));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		nsp = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return nsp;
}

/* First use in this backend: the cache's context, the column names, the callback. */
static void
FrtGovInit(void)
{
	StringInfoData list[FRT_GOV_NRELS];
	MemoryContext old;

	if (FrtGovCxt != NULL)
		return;
	FrtGovCxt = AllocSetContextCreate(TopMemoryContext, "frt_governance names",
									  ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(FrtGovCxt);
	for (int r = 0; r < FRT_GOV_NRELS; r++)
		initStringInfo(&list[r]);
	for (int c = 0; c < FRT_GOV_NCOLS; c++)
	{
		StringInfo	l = &list[FrtGovCols[c].rel];

		FrtGovColQ[c] = pstrdup(quote_identifier(FrtGovCols[c].name));
		appendStringInfo(l, "%s%s", l->len > 0 ? ", " : "", FrtGovColQ[c]);
	}
	for (int r = 0; r < FRT_GOV_NRELS; r++)
		FrtGovColListQ[r] = list[r].data;
	MemoryContextSwitchTo(old);
	CacheRegisterSyscacheCallback(NAMESPACEOID, FrtGovNamesInval, (Datum) 0);
}

/*
 * Look up the schemas for this transaction; false if frt_governance is not
 * installed (an error unless missing_ok).  Leaves the qualified names of
 * the current governance schema in the cache.
 */
static bool
FrtGovResolve(bool missing_ok)
{
	MemoryContext old;
	char	   *name;

	if (FrtGovValid && FrtGovLxid == MyProc->lxid)
		return true;
	if (!IsTransactionState())
		elog(ERROR, "frt_governance names are looked up only inside a transaction");
	FrtGovInit();

	FrtGovValid = false;
	FrtGovInvalSeen = false;
	FrtGovNsp = FrtGovExtensionSchema(FRT_GOVERNANCE_EXTENSION);
	name = OidIsValid(FrtGovNsp) ? get_namespace_name(FrtGovNsp) : NULL;
	if (name == NULL)
	{
		if (missing_ok)
			return false;
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("extension \"%s\" is not installed in this database",
						FRT_GOVERNANCE_EXTENSION)));
	}
	FrtCoreNsp = FrtGovExtensionSchema(FRT_CORE_EXTENSION);

	/*
	 * A renamed schema: new names.  The old ones are not freed, as a caller
	 * may still hold them in this transaction (renames are rare).
	 */
	if (FrtGovNspName == NULL || strcmp(FrtGovNspName, name) != 0)
	{
		old = MemoryContextSwitchTo(FrtGovCxt);
		FrtGovNspName = pstrdup(name);
		for (int r = 0; r < FRT_GOV_NRELS; r++)
			FrtGovRelQ[r] = quote_qualified_identifier(FrtGovNspName, FrtGovRelNames[r]);
		for (int f = 0; f < FRT_GOV_NFUNCS; f++)
			FrtGovFuncQ[f] = quote_qualified_identifier(FrtGovNspName, FrtGovFuncNames[f]);
		MemoryContextSwitchTo(old);
	}
	/* an invalidation that arrived during the lookup means: again next time */
	FrtGovValid = !FrtGovInvalSeen;
	FrtGovLxid = MyProc->lxid;
	return true;
}

/* Qualified, quoted name of one of our relations. */
const char *
FrtGovRelName(FrtGovRel rel)
{
	(void) FrtGovResolve(false);
	return FrtGovRelQ[rel];
}

/* Qualified, quoted name of one of our functions. */
const char *
FrtGovFuncName(FrtGovFunc func)
{
	(void) FrtGovResolve(false);
	return FrtGovFuncQ[func];
}

/* Unqualified, unquoted name of one of our relations, for messages. */
const char *
FrtGovRelShortName(FrtGovRel rel)
{
	return FrtGovRelNames[rel];
}

/* Quoted name of one of our columns. */
const char *
FrtGovColName(FrtGovCol col)
{
	FrtGovInit();
	return FrtGovColQ[col];
}

/* Quoted names of all columns of a relation, comma-separated, in table order. */
const char *
FrtGovColList(FrtGovRel rel)
{
	FrtGovInit();
	return FrtGovColListQ[rel];
}

/* OID of one of our relations (InvalidOid if absent, and missing_ok). */
Oid
FrtGovRelid(FrtGovRel rel, bool missing_ok)
{
	Oid			relid = InvalidOid;

	if (FrtGovResolve(missing_ok))
		relid = get_relname_relid(FrtGovRelNames[rel], FrtGovNsp);
	if (!OidIsValid(relid) && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation %s does not exist", FrtGovRelQ[rel])));
	return relid;
}

/* OID of one of the types we use (InvalidOid if absent, and missing_ok). */
Oid
FrtGovTypeOid(FrtGovType type, bool missing_ok)
{
	Oid			typid = InvalidOid;

	if (FrtGovResolve(missing_ok) && OidIsValid(FrtCoreNsp))
		typid = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
								CStringGetDatum(FrtGovTypeNames[type]),
								ObjectIdGetDatum(FrtCoreNsp));
	if (!OidIsValid(typid) && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("type \"%s\" of extension \"%s\" does not exist",
						FrtGovTypeNames[type], FRT_CORE_EXTENSION)));
	return typid;
}

/* Column number of one of our columns in a tuple descriptor, by name. */
AttrNumber
FrtGovAttnum(TupleDesc desc, FrtGovCol col)
{
	int			attno = SPI_fnumber(desc, FrtGovCols[col].name);

	if (attno <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" is missing",
						FrtGovCols[col].name, FrtGovRelNames[FrtGovCols[col].rel])));
	return (AttrNumber) attno;
}

/* Column number of a column in a tuple descriptor, InvalidAttrNumber if absent. */
AttrNumber
FrtGovAttnumMissingOk(TupleDesc desc, FrtGovCol col)
{
	int			attno = SPI_fnumber(desc, FrtGovCols[col].name);

	return attno <= 0 ? InvalidAttrNumber : (AttrNumber) attno;
}

/* Column number of one of our columns in a relation (InvalidAttrNumber if absent). */
AttrNumber
FrtGovRelAttnum(Oid relid, FrtGovCol col)
{
	return get_attnum(relid, FrtGovCols[col].name);
}

/* The name of the core's access method whose indexes seal what they store. */
const char *
FrtGovSealedAmName(void)
{
	return FRT_GOV_SEALED_AM;
}

/*-------------------------------------------------------------------------
 *
 * frt_gov_names.h
 *	  The one place that knows the names of frt_governance's SQL objects.
 *
 * C code of the governance layers (audit, jobs) never spells a schema,
 * relation, function, type or column name of ours: it asks this module
 * (src/audit/gov_names.c), which holds the table of names and finds the
 * schema as the one the frt_governance extension is installed in.
 *
 * Names are returned qualified and quoted (quote_qualified_identifier,
 * quote_identifier), ready to be put into SQL text.  The returned strings
 * stay valid until the end of the current transaction; every function
 * needs a transaction (catalog lookups), in a backend or a background
 * worker alike.  Column numbers are always looked up by name.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FRT_GOV_NAMES_H
#define FRT_GOV_NAMES_H

#include "postgres.h"

#include "access/attnum.h"
#include "access/tupdesc.h"

/* Relations of frt_governance used from C. */
typedef enum FrtGovRel
{
	FRT_REL_AUDIT,				/* the audit trail */
	FRT_REL_AUDIT_ANCHOR,		/* where the chain starts after a purge */
	FRT_REL_AUDIT_MARK,			/* the chain's head as last committed */
	FRT_REL_FACE,				/* the face store */
	FRT_GOV_NRELS
} FrtGovRel;

/* Functions of frt_governance called from C. */
typedef enum FrtGovFunc
{
	FRT_FUNC_AUDIT_EVENT,		/* a standby forwards records to it */
	FRT_FUNC_ERASURE_RECORD,	/* the erasure ledger trigger's SQL half */
	FRT_FUNC_FACE_OPEN,			/* opens a sealed face (index expressions) */
	FRT_FUNC_KEY_EPOCH_RECORDS,	/* a standby copies key epochs from the primary */
	FRT_GOV_NFUNCS
} FrtGovFunc;

/* Types used from C (owned by the frt core extension). */
typedef enum FrtGovType
{
	FRT_TYPE_FACE_EMBEDDING,
	FRT_GOV_NTYPES
} FrtGovType;

/* Columns used from C, grouped by relation, each group in table order. */
typedef enum FrtGovCol
{
	/* FRT_REL_AUDIT */
	FRT_COL_AUDIT_SEQ,
	FRT_COL_AUDIT_AT,
	FRT_COL_AUDIT_EVENT,
	FRT_COL_AUDIT_OUTCOME,
	FRT_COL_AUDIT_SQLSTATE,
	FRT_COL_AUDIT_ROLE_NAME,
	FRT_COL_AUDIT_EFFECTIVE_ROLE,
	FRT_COL_AUDIT_APPLICATION,
	FRT_COL_AUDIT_CLIENT_ADDR,
	FRT_COL_AUDIT_BACKEND_PID,
	FRT_COL_AUDIT_PURPOSE,
	FRT_COL_AUDIT_SUBJECT,
	FRT_COL_AUDIT_DEVICE,
	FRT_COL_AUDIT_SIMILARITY,
	FRT_COL_AUDIT_DETAIL,
	FRT_COL_AUDIT_PREV_HASH,
	FRT_COL_AUDIT_HASH,
	FRT_COL_AUDIT_MAC,
	FRT_COL_AUDIT_HASH_ALG,
	/* FRT_REL_AUDIT_ANCHOR */
	FRT_COL_ANCHOR_LAST_SEQ,
	FRT_COL_ANCHOR_LAST_HASH,
	FRT_COL_ANCHOR_LAST_AT,
	FRT_COL_ANCHOR_PURGED_AT,
	/* FRT_REL_AUDIT_MARK */
	FRT_COL_MARK_SEQ,
	FRT_COL_MARK_HASH,
	/* FRT_REL_FACE */
	FRT_COL_FACE_EMBEDDING,
	FRT_GOV_NCOLS
} FrtGovCol;

/* Qualified, quoted name of a relation or function, for SQL text. */
extern const char *FrtGovRelName(FrtGovRel rel);
extern const char *FrtGovFuncName(FrtGovFunc func);
/* The core's access method whose indexes seal what they store. */
extern const char *FrtGovSealedAmName(void);

/* Unqualified, unquoted name of a relation, for messages. */
extern const char *FrtGovRelShortName(FrtGovRel rel);

/* Quoted name of a column, and the quoted list of all of a relation's columns. */
extern const char *FrtGovColName(FrtGovCol col);
extern const char *FrtGovColList(FrtGovRel rel);

/* OID of a relation or type (InvalidOid if absent, and missing_ok). */
/* Schema of an installed extension, by name, or InvalidOid. */
extern Oid	FrtGovExtensionSchema(const char *extname);
extern Oid	FrtGovRelid(FrtGovRel rel, bool missing_ok);
extern Oid	FrtGovTypeOid(FrtGovType type, bool missing_ok);

/* Column number of a column in a tuple descriptor, looked up by name. */
extern AttrNumber FrtGovAttnum(TupleDesc desc, FrtGovCol col);

/* The same, InvalidAttrNumber if absent (a column added by an upgrade). */
extern AttrNumber FrtGovAttnumMissingOk(TupleDesc desc, FrtGovCol col);

/* Column number of a column of a relation (InvalidAttrNumber if absent). */
extern AttrNumber FrtGovRelAttnum(Oid relid, FrtGovCol col);

#endif							/* FRT_GOV_NAMES_H */

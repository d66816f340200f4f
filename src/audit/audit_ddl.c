/*-------------------------------------------------------------------------
 *
 * audit_ddl.c
 *	  What the append-only triggers cannot see, recorded: statements that
 *	  alter or remove the audit objects, and reads of embeddings outside
 *	  the governance API.
 *
 * A utility hook records, before it runs, any statement that could remove
 * the trail or switch its protection off -- DROP EXTENSION frt_governance
 * (or frt), DROP SCHEMA of their schema, DROP OWNED by the extension's
 * owner, ALTER EXTENSION, and TRUNCATE, ALTER, RENAME, triggers, rules and
 * policies on the audit tables or frt.face, and functions created or
 * altered in the schema.  The record (event audit_ddl) is committed by the
 * audit writer, which then sends the head out as an anchor at once: the
 * server log and the anchor channel hold it even when the statement goes
 * on to drop the trail itself.  The statement runs only once that is done.
 *
 * An executor permission hook records each query (or COPY) that reads
 * frt.face.embedding (the column, or the whole row) from outside the
 * governance API, whoever runs it: a superuser, a BYPASSRLS role, the
 * table's owner, or a role granted the column by mistake (event
 * embedding_read).  "Inside the API" is tracked by a function-manager
 * hook: the functions of frt_governance count as the API; a function of
 * its schema that is not a member of an extension (a handler a superuser
 * registered, say) does not, even when the API calls it, so a view or
 * function of the superuser's own reads on record.  See docs/audit.md,
 * "What the database itself records about its superusers".
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "access/htup_details.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "commands/extension.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parse_func.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "frt_audit.h"

/* Functions whose calls are tracked: the API, and code of the schema outside it. */
typedef enum FrtFnKind
{
	FRT_FN_OTHER,				/* not tracked */
	FRT_FN_API,					/* a function of frt_governance */
	FRT_FN_FOREIGN				/* in its schema, but no extension's member */
} FrtFnKind;

/* Function kinds seen since the last change of a function or schema. */
#define FRT_FN_CACHE 64
static struct
{
	Oid			fn;
	FrtFnKind	kind;
}			FrtFnCache[FRT_FN_CACHE];
static int	FrtFnCached = 0;
static bool FrtFnCacheValid = false;
static Oid	FrtGovExt = InvalidOid;
static Oid	FrtGovNspCached = InvalidOid;

/* Calls of the governance API in progress (reads inside them are its own). */
static int	FrtApiDepth = 0;

static ProcessUtility_hook_type prev_ProcessUtility = NULL;
static ExecutorCheckPerms_hook_type prev_ExecutorCheckPerms = NULL;
static ExecutorStart_hook_type prev_ExecutorStart = NULL;

/* Set while an EXPLAIN without ANALYZE starts its plan: it reads nothing. */
static bool FrtExplainOnly = false;
static needs_fmgr_hook_type prev_needs_fmgr = NULL;
static fmgr_hook_type prev_fmgr = NULL;

/* Relations whose DDL is recorded. */
static const FrtGovRel FrtProtectedRels[] = {
	FRT_REL_AUDIT, FRT_REL_AUDIT_ANCHOR, FRT_REL_AUDIT_MARK, FRT_REL_FACE
};

/*
 * Refill the cache once a catalog change emptied it: the extension and its
 * schema.  It outlives transactions (looking the API's functions up again
 * in every transaction cost a tenth of a verification).
 */
static void
FrtFnCacheReset(void)
{
	if (FrtFnCacheValid)
		return;
	FrtFnCached = 0;
	FrtFnCacheValid = true;
	FrtGovExt = get_extension_oid(FRT_GOVERNANCE_EXTENSION, true);
	FrtGovNspCached = OidIsValid(FrtGovExt) ? FrtGovExtensionSchema(FRT_GOVERNANCE_EXTENSION) : InvalidOid;
}

/*
 * Is fn always called, never inlined: SECURITY DEFINER, with SET clauses, or
 * not in SQL?  Only these API functions are tracked, so that tracking never
 * keeps the planner from inlining an SQL function of the API (one that is
 * inlined runs inside its caller: inside the API if called from it, and on
 * record if a superuser calls it directly).
 */
static bool
FrtCalledThroughFmgr(Oid fn)
{
	HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));
	bool		called;
	Form_pg_proc p;

	if (!HeapTupleIsValid(tup))
		return false;
	p = (Form_pg_proc) GETSTRUCT(tup);
	called = p->prosecdef || p->prolang != SQLlanguageId ||
		!heap_attisnull(tup, Anum_pg_proc_proconfig, NULL);
	ReleaseSysCache(tup);
	return called;
}

/* What kind of function fn is, for the tracking of API calls. */
static FrtFnKind
FrtFunctionKind(Oid fn)
{
	FrtFnKind	kind = FRT_FN_OTHER;
	Oid			ext;

	if (!IsTransactionState() || MyProc == NULL)
		return FRT_FN_OTHER;
	FrtFnCacheReset();
	if (!OidIsValid(FrtGovNspCached))
		return FRT_FN_OTHER;
	for (int i = 0; i < FrtFnCached; i++)
		if (FrtFnCache[i].fn == fn)
			return FrtFnCache[i].kind;
	if (get_func_namespace(fn) == FrtGovNspCached)
	{
		ext = getExtensionOfObject(ProcedureRelationId, fn);
		kind = ext == FrtGovExt ? (FrtCalledThroughFmgr(fn) ? FRT_FN_API : FRT_FN_OTHER) :
			OidIsValid(ext) ? FRT_FN_OTHER : FRT_FN_FOREIGN;
	}
	if (FrtFnCached < FRT_FN_CACHE)
	{
		FrtFnCache[FrtFnCached].fn = fn;
		FrtFnCache[FrtFnCached++].kind = kind;
	}
	return kind;
}

/* needs_fmgr_hook: track the functions of the governance schema. */
static bool
FrtNeedsFmgrHook(Oid fn)
{
	if (prev_needs_fmgr && prev_needs_fmgr(fn))
		return true;
	return FrtFunctionKind(fn) != FRT_FN_OTHER;
}

/* fmgr_hook: count API calls in progress; code outside the API counts as none. */
static void
FrtFmgrHook(FmgrHookEventType event, FmgrInfo *flinfo, Datum *private)
{
	if (prev_fmgr)
		prev_fmgr(event, flinfo, private);
	switch (event)
	{
		case FHET_START:
			{
				FrtFnKind	kind = FrtFunctionKind(flinfo->fn_oid);

				*private = Int32GetDatum(FrtApiDepth);
				if (kind == FRT_FN_API)
					FrtApiDepth++;
				else if (kind == FRT_FN_FOREIGN)
					FrtApiDepth = 0;
				break;
			}
		case FHET_END:
		case FHET_ABORT:
			FrtApiDepth = DatumGetInt32(*private);
			break;
	}
}

/*
 * Empty the cache on any change of a function or a schema (or a cache
 * reset): creating, dropping or altering the extension changes its
 * functions, so a kind is never kept past the change that alters it.
 */
static void
FrtFnCacheInvalidate(Datum arg pg_attribute_unused(), int cacheid pg_attribute_unused(),
					 uint32 hashvalue pg_attribute_unused())
{
	FrtFnCacheValid = false;
}

/* At the end of a transaction no API call is in progress. */
static void
FrtApiXactCallback(XactEvent event, void *arg pg_attribute_unused())
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_COMMIT ||
		event == XACT_EVENT_PARALLEL_ABORT || event == XACT_EVENT_PARALLEL_COMMIT)
		FrtApiDepth = 0;
}

/* Does this range-table entry read frt.face's embedding (column or whole row)? */
static bool
FrtReadsEmbedding(RangeTblEntry *rte, Oid face, AttrNumber emb)
{
	if (rte->rtekind != RTE_RELATION || rte->relid != face ||
		!(rte->requiredPerms & ACL_SELECT))
		return false;
	return bms_is_member(emb - FirstLowInvalidHeapAttributeNumber, rte->selectedCols) ||
		bms_is_member(InvalidAttrNumber - FirstLowInvalidHeapAttributeNumber, rte->selectedCols);
}

/* ExecutorCheckPerms_hook: record a read of embeddings outside the API. */
static bool
FrtCheckPerms(List *rangeTable, bool ereport_on_violation)
{
	Oid			face;
	AttrNumber	emb;
	ListCell   *lc;

	if (prev_ExecutorCheckPerms && !prev_ExecutorCheckPerms(rangeTable, ereport_on_violation))
		return false;
	/* the check without error is a foreign-key validation, not a read */
	if (!ereport_on_violation || FrtApiDepth > 0 || FrtAudit == NULL || FrtAuditIsWriter ||
		FrtExplainOnly)
		return true;
	FrtFnCacheReset();
	if (!OidIsValid(FrtGovNspCached))
		return true;
	face = FrtGovRelid(FRT_REL_FACE, true);
	emb = OidIsValid(face) ? FrtGovRelAttnum(face, FRT_COL_FACE_EMBEDDING) : InvalidAttrNumber;
	if (emb == InvalidAttrNumber)
		return true;
	foreach(lc, rangeTable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);
		Oid			reader;
		StringInfoData detail;

		if (!FrtReadsEmbedding(rte, face, emb))
			continue;
		reader = OidIsValid(rte->checkAsUser) ? rte->checkAsUser : GetUserId();
		initStringInfo(&detail);
		appendStringInfoString(&detail, "{\"relation\": ");
		escape_json(&detail, FrtGovRelName(FRT_REL_FACE));
		appendStringInfoString(&detail, ", \"as_role\": ");
		escape_json(&detail, GetUserNameFromId(reader, false));
		appendStringInfo(&detail, ", \"superuser\": %s, \"bypassrls\": %s, \"owner\": %s, \"statement\": ",
						 superuser_arg(reader) ? "true" : "false",
						 has_bypassrls_privilege(reader) ? "true" : "false",
						 pg_class_ownercheck(face, reader) ? "true" : "false");
		escape_json(&detail, debug_query_string ? debug_query_string : "");
		appendStringInfoChar(&detail, '}');
		(void) FrtAuditRecord(FRT_AUDIT_READ_EVENT, "direct read", detail.data, false);
		break;					/* one record per statement */
	}
	return true;
}

/* ExecutorStart_hook: note a plan started only to be explained (no rows read). */
static void
FrtExecutorStart(QueryDesc *queryDesc, int eflags)
{
	bool		save = FrtExplainOnly;

	FrtExplainOnly = (eflags & EXEC_FLAG_EXPLAIN_ONLY) != 0;
	FrtMessagesCodeset();
	PG_TRY();
	{
		if (prev_ExecutorStart)
			prev_ExecutorStart(queryDesc, eflags);
		else
			standard_ExecutorStart(queryDesc, eflags);
	}
	PG_FINALLY();
	{
		FrtExplainOnly = save;
	}
	PG_END_TRY();
}

/* Is the relation named by rv one whose DDL is recorded? */
static bool
FrtProtectedRangeVar(RangeVar *rv)
{
	Oid			relid;

	if (rv == NULL)
		return false;
	relid = RangeVarGetRelid(rv, NoLock, true);
	if (!OidIsValid(relid))
		return false;
	for (int i = 0; i < (int) lengthof(FrtProtectedRels); i++)
		if (relid == FrtGovRelid(FrtProtectedRels[i], true))
			return true;
	return false;
}

/* The same for a qualified name list; drop_last: it names a trigger, rule or policy on it. */
static bool
FrtProtectedNameList(List *names, bool drop_last)
{
	if (drop_last)
	{
		if (list_length(names) < 2)
			return false;
		names = list_truncate(list_copy(names), list_length(names) - 1);
	}
	return FrtProtectedRangeVar(makeRangeVarFromNameList(names));
}

/* Is name frt_governance or frt (whose CASCADE removes it)? */
static bool
FrtOurExtension(const char *name)
{
	return strcmp(name, FRT_GOVERNANCE_EXTENSION) == 0 || strcmp(name, FRT_CORE_EXTENSION) == 0;
}

/* Does a DROP statement take the trail or its protection with it? */
static bool
FrtDropTouchesAudit(DropStmt *stmt, Oid nsp)
{
	ListCell   *lc;

	foreach(lc, stmt->objects)
	{
		Node	   *obj = lfirst(lc);

		switch (stmt->removeType)
		{
			case OBJECT_EXTENSION:
				if (FrtOurExtension(strVal(obj)))
					return true;
				break;
			case OBJECT_SCHEMA:
				if (get_namespace_oid(strVal(obj), true) == nsp)
					return true;
				break;
			case OBJECT_TABLE:
			case OBJECT_VIEW:
			case OBJECT_FOREIGN_TABLE:
				if (FrtProtectedNameList(castNode(List, obj), false))
					return true;
				break;
			case OBJECT_TRIGGER:
			case OBJECT_RULE:
			case OBJECT_POLICY:
				if (FrtProtectedNameList(castNode(List, obj), true))
					return true;
				break;
			default:
				break;
		}
	}
	return false;
}

/* Is a function named by a qualified name list (or object) in schema nsp? */
static bool
FrtFunctionInSchema(List *funcname, ObjectWithArgs *func, Oid nsp)
{
	char	   *name;

	if (func)
	{
		Oid			fn = LookupFuncWithArgs(OBJECT_ROUTINE, func, true);

		return OidIsValid(fn) && get_func_namespace(fn) == nsp;
	}
	return QualifiedNameGetCreationNamespace(funcname, &name) == nsp;
}

/* Does DROP OWNED name the role that owns frt_governance? */
static bool
FrtDropOwnedTouchesAudit(DropOwnedStmt *stmt)
{
	Oid			ext = get_extension_oid(FRT_GOVERNANCE_EXTENSION, true);
	ListCell   *lc;

	foreach(lc, stmt->roles)
	{
		Oid			role = get_rolespec_oid(lfirst(lc), true);

		if (OidIsValid(ext) && OidIsValid(role) && pg_extension_ownercheck(ext, role))
			return true;
	}
	return false;
}

/* Does this statement alter or remove the trail, its protection or frt.face? */
static bool
FrtStatementTouchesAudit(Node *n, Oid nsp)
{
	switch (nodeTag(n))
	{
		case T_DropStmt:
			return FrtDropTouchesAudit((DropStmt *) n, nsp);
		case T_DropOwnedStmt:
			return FrtDropOwnedTouchesAudit((DropOwnedStmt *) n);
		case T_TruncateStmt:
			{
				ListCell   *lc;

				foreach(lc, ((TruncateStmt *) n)->relations)
					if (FrtProtectedRangeVar(lfirst_node(RangeVar, lc)))
					return true;
				return false;
			}
		case T_AlterTableStmt:
			return FrtProtectedRangeVar(((AlterTableStmt *) n)->relation);
		case T_RenameStmt:
			{
				RenameStmt *r = (RenameStmt *) n;

				if (r->renameType == OBJECT_SCHEMA)
					return get_namespace_oid(r->subname, true) == nsp;
				return FrtProtectedRangeVar(r->relation);
			}
		case T_AlterObjectSchemaStmt:
			{
				AlterObjectSchemaStmt *a = (AlterObjectSchemaStmt *) n;

				if (a->objectType == OBJECT_EXTENSION)
					return FrtOurExtension(strVal(a->object));
				return FrtProtectedRangeVar(a->relation);
			}
		case T_CreateTrigStmt:
			return FrtProtectedRangeVar(((CreateTrigStmt *) n)->relation);
		case T_RuleStmt:
			return FrtProtectedRangeVar(((RuleStmt *) n)->relation);
		case T_CreatePolicyStmt:
			return FrtProtectedRangeVar(((CreatePolicyStmt *) n)->table);
		case T_AlterPolicyStmt:
			return FrtProtectedRangeVar(((AlterPolicyStmt *) n)->table);
		case T_AlterExtensionStmt:
			return FrtOurExtension(((AlterExtensionStmt *) n)->extname);
		case T_AlterExtensionContentsStmt:
			return FrtOurExtension(((AlterExtensionContentsStmt *) n)->extname);
		case T_CreateFunctionStmt:
			return FrtFunctionInSchema(((CreateFunctionStmt *) n)->funcname, NULL, nsp);
		case T_AlterFunctionStmt:
			return FrtFunctionInSchema(NIL, ((AlterFunctionStmt *) n)->func, nsp);
		default:
			return false;
	}
}

/*
 * Does this transaction hold a lock on the trail that the writer's insert
 * would wait for (an earlier statement on it in the same transaction)?
 */
static bool
FrtAuditLockedByMe(void)
{
	Oid			audit = FrtGovRelid(FRT_REL_AUDIT, true);
	LOCKTAG		tag;

	if (!OidIsValid(audit))
		return false;
	SET_LOCKTAG_RELATION(tag, MyDatabaseId, audit);
	for (LOCKMODE m = ShareLock; m <= AccessExclusiveLock; m++)
		if (LockHeldByMe(&tag, m))
			return true;
	return false;
}

/*
 * ProcessUtility hook: a statement that alters or removes the audit
 * objects is recorded, and its anchor sent out, before it runs.  If the
 * record cannot be written, the statement fails (MF140).
 */
static void
FrtAuditDdlProcessUtility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
						  ProcessUtilityContext context, ParamListInfo params,
						  QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *n = pstmt->utilityStmt;

	FrtMessagesCodeset();
	if (FrtAudit != NULL && !creating_extension && !FrtAuditIsWriter &&
		IsTransactionState() && !RecoveryInProgress())
	{
		Oid			nsp = FrtGovExtensionSchema(FRT_GOVERNANCE_EXTENSION);

		if (OidIsValid(nsp) && FrtStatementTouchesAudit(n, nsp))
		{
			StringInfoData detail;
			const char *tag = GetCommandTagName(CreateCommandTag(n));

			if (FrtAuditLockedByMe())
				FrtRefuse(FRT_ERRCODE_AUDIT_APPEND_ONLY, 14, NULL, NULL,
						  "Run each statement on the audit objects in its own transaction.",
						  "%s refused: this transaction holds a lock on frt.audit, so the statement cannot be recorded before it runs",
						  tag);
			initStringInfo(&detail);
			appendStringInfoString(&detail, "{\"statement\": ");
			escape_json(&detail, queryString ? queryString : "");
			appendStringInfoChar(&detail, '}');
			(void) FrtAuditRecord(FRT_AUDIT_DDL_EVENT, tag, detail.data, true);
		}
	}
	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
							queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
								queryEnv, dest, qc);
}

/* Install the hooks (from _PG_init). */
void
FrtAuditDdlInit(void)
{
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = FrtAuditDdlProcessUtility;
	prev_ExecutorCheckPerms = ExecutorCheckPerms_hook;
	ExecutorCheckPerms_hook = FrtCheckPerms;
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = FrtExecutorStart;
	prev_needs_fmgr = needs_fmgr_hook;
	needs_fmgr_hook = FrtNeedsFmgrHook;
	prev_fmgr = fmgr_hook;
	fmgr_hook = FrtFmgrHook;
	RegisterXactCallback(FrtApiXactCallback, NULL);
	CacheRegisterSyscacheCallback(PROCOID, FrtFnCacheInvalidate, (Datum) 0);
	CacheRegisterSyscacheCallback(NAMESPACEOID, FrtFnCacheInvalidate, (Datum) 0);
}

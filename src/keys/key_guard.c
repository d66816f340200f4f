/*-------------------------------------------------------------------------
 *
 * key_guard.c
 *	  DDL that would write opened faces to disk in clear is refused before
 *	  it runs.
 *
 * The face store's embedding column holds sealed faces only; the frt_ivf
 * indexes built on frt._face_open(id, embedding) seal what they keep.  Any
 * other structure PostgreSQL builds from that column would store what the
 * expression returns -- the face -- in its files and in the WAL: an index
 * of another access method, extended statistics (whose MCV lists keep
 * values), a stored generated column, or a column rewritten by ALTER
 * COLUMN ... TYPE ... USING.  An event trigger at ddl_command_end would see
 * them only after the build had written its pages (and WAL), so the check
 * is a ProcessUtility hook on the raw statement.  Extension scripts (the
 * upgrade that seals the column) are not checked.  An frt_ivf index on the
 * face store gets the reloption sealed = true, so that it can never be
 * rebuilt in clear by a server without the key provider.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "commands/defrem.h"
#include "nodes/makefuncs.h"
#include "commands/extension.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"

#include "frt_gov_names.h"
#include "frt_keys.h"

static ProcessUtility_hook_type prev_ProcessUtility = NULL;

/* Walker of FrtKeyGuardRefers: a ColumnRef naming the column, or a whole row. */
static bool
FrtKeyGuardWalker(Node *node, void *context)
{
	const char *col = (const char *) context;

	if (node == NULL)
		return false;
	if (IsA(node, ColumnRef))
	{
		ColumnRef  *ref = (ColumnRef *) node;
		Node	   *last = (Node *) llast(ref->fields);

		if (IsA(last, A_Star))
			return true;
		if (IsA(last, String) && strcmp(strVal(last), col) == 0)
			return true;
		/* a bare table or alias name is a whole-row reference */
		if (list_length(ref->fields) == 1)
			return true;
		return false;
	}
	return raw_expression_tree_walker(node, FrtKeyGuardWalker, context);
}

/* Whether a raw expression may read the embedding column. */
static bool
FrtKeyGuardRefers(Node *expr)
{
	return expr != NULL &&
		FrtKeyGuardWalker(expr, (void *) FrtGovColName(FRT_COL_FACE_EMBEDDING));
}

/* Whether a RangeVar names the face store. */
static bool
FrtKeyGuardIsFace(RangeVar *rv, Oid face)
{
	return rv != NULL && OidIsValid(face) && RangeVarGetRelid(rv, NoLock, true) == face;
}

/* Refuse, naming what would have been written in clear. */
static void
FrtKeyGuardRefuse(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("%s over the face column of %s would store opened faces in clear",
					what, FrtGovRelName(FRT_REL_FACE)),
			 errdetail("Only indexes of access method %s seal what they store.", FrtGovSealedAmName()),
			 errhint("Index the expression %s(id, %s) with access method %s.",
					 FrtGovFuncName(FRT_FUNC_FACE_OPEN), FrtGovColName(FRT_COL_FACE_EMBEDDING),
					 FrtGovSealedAmName())));
}

/*
 * An frt_ivf index on the face store is given the reloption sealed = true
 * (its provider would seal it anyway): a REINDEX on a server started
 * without the provider then fails instead of rebuilding it in clear.
 * sealed = false is refused.
 */
static void
FrtKeyGuardSealed(IndexStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->options)
	{
		DefElem    *d = (DefElem *) lfirst(lc);

		if (strcmp(d->defname, FRT_KEY_SEALED_RELOPT) == 0)
		{
			if (!defGetBoolean(d))
				FrtKeyGuardRefuse(psprintf("an index with %s = false", FRT_KEY_SEALED_RELOPT));
			return;
		}
	}
	stmt->options = lappend(stmt->options,
							makeDefElem(pstrdup(FRT_KEY_SEALED_RELOPT),
										(Node *) makeString(pstrdup("true")), -1));
}

/*
 * Check an index: an frt_ivf index is made sealed, any other access method
 * over the column is refused.
 */
static void
FrtKeyGuardIndex(IndexStmt *stmt, bool refuse)
{
	List	   *elems = list_concat_copy(stmt->indexParams, stmt->indexIncludingParams);
	const char *col = FrtGovColName(FRT_COL_FACE_EMBEDDING);
	bool		reads = FrtKeyGuardRefers(stmt->whereClause);
	ListCell   *lc;

	if (stmt->accessMethod != NULL && strcmp(stmt->accessMethod, FrtGovSealedAmName()) == 0)
	{
		FrtKeyGuardSealed(stmt);
		return;
	}
	if (!refuse)
		return;
	foreach(lc, elems)
	{
		IndexElem  *e = (IndexElem *) lfirst(lc);

		if ((e->name != NULL && strcmp(e->name, col) == 0) || FrtKeyGuardRefers(e->expr))
			reads = true;
	}
	if (reads)
		FrtKeyGuardRefuse(psprintf("an index using access method \"%s\"",
								   stmt->accessMethod ? stmt->accessMethod : DEFAULT_INDEX_TYPE));
}

/* Check extended statistics: their MCV lists and histograms keep values. */
static void
FrtKeyGuardStats(CreateStatsStmt *stmt, Oid face)
{
	const char *col = FrtGovColName(FRT_COL_FACE_EMBEDDING);
	ListCell   *lc;
	bool		onface = false;

	foreach(lc, stmt->relations)
		if (IsA(lfirst(lc), RangeVar) && FrtKeyGuardIsFace((RangeVar *) lfirst(lc), face))
			onface = true;
	if (!onface)
		return;
	foreach(lc, stmt->exprs)
	{
		StatsElem  *e = (StatsElem *) lfirst(lc);

		if ((e->name != NULL && strcmp(e->name, col) == 0) || FrtKeyGuardRefers(e->expr))
			FrtKeyGuardRefuse("extended statistics");
	}
}

/* Check ALTER TABLE: stored generated columns and USING rewrites. */
static void
FrtKeyGuardAlter(AlterTableStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);
		ColumnDef  *def = (cmd->def != NULL && IsA(cmd->def, ColumnDef)) ? (ColumnDef *) cmd->def : NULL;
		ListCell   *c;

		if (def == NULL)
			continue;
		if (cmd->subtype == AT_AlterColumnType && FrtKeyGuardRefers(def->raw_default))
			FrtKeyGuardRefuse("ALTER COLUMN ... TYPE ... USING");
		if (cmd->subtype != AT_AddColumn)
			continue;
		foreach(c, def->constraints)
		{
			Constraint *con = (Constraint *) lfirst(c);

			if (con->contype == CONSTR_GENERATED && FrtKeyGuardRefers(con->raw_expr))
				FrtKeyGuardRefuse("a stored generated column");
		}
	}
}

/* ProcessUtility hook: check DDL on the face store before it runs. */
static void
FrtKeyGuardProcessUtility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
						  ProcessUtilityContext context, ParamListInfo params,
						  QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *n = pstmt->utilityStmt;

	if (IsTransactionState() &&
		(IsA(n, IndexStmt) || IsA(n, CreateStatsStmt) || IsA(n, AlterTableStmt)))
	{
		Oid			face = FrtGovRelid(FRT_REL_FACE, true);

		if (IsA(n, IndexStmt) && FrtKeyGuardIsFace(((IndexStmt *) n)->relation, face))
		{
			/* the statement may be changed: work on a copy if it is shared */
			if (readOnlyTree)
			{
				pstmt = copyObject(pstmt);
				readOnlyTree = false;
				n = pstmt->utilityStmt;
			}
			FrtKeyGuardIndex((IndexStmt *) n, !creating_extension);
		}
		else if (creating_extension)
			;					/* an update of the extension: its own DDL */
		else if (IsA(n, CreateStatsStmt))
			FrtKeyGuardStats((CreateStatsStmt *) n, face);
		else if (IsA(n, AlterTableStmt) && FrtKeyGuardIsFace(((AlterTableStmt *) n)->relation, face))
			FrtKeyGuardAlter((AlterTableStmt *) n);
	}
	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
							queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
								queryEnv, dest, qc);
}

/* Install the hook (from FrtKeysInit). */
void
FrtKeyGuardInit(void)
{
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = FrtKeyGuardProcessUtility;
}

/*-------------------------------------------------------------------------
 *
 * ivfplanner.c
 *	  A planner hook that turns distance thresholds into frt_ivf index
 *	  conditions.
 *
 * PostgreSQL cannot use "e <=> p < t" as an index condition: the clause's
 * operator is float8lt, which belongs to no frt_ivf operator class.  Before
 * planning, this hook rewrites, at every query level (subqueries, CTEs, set
 * operations, sublinks), each WHERE or JOIN ... ON conjunct of the forms
 *
 *		e <=> P < C		e <=> P <= C		C > e <=> P		C >= e <=> P
 *
 * (and the same with <-> and <#>), where e is a column of a table, or an
 * expression over the columns of one table that an frt_ivf index is built
 * on (frt.face's per-purpose indexes on frt._face_open(id, embedding)), and
 * P, C contain no Var of the same query level and nothing volatile, into
 *
 *		e <<=> frt.face_within(P, C, inclusive)
 *
 * whose function computes exactly the same value (ivfwithin.c), so the
 * planner matches it to the index by itself.  Only columns and expressions
 * that have a valid frt_ivf index whose operator class has that metric are
 * rewritten;
 * other queries are left as they are.  A query that mentions no frt distance
 * operator costs one tree walk; a database without the extension costs
 * nothing after the first lookup.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "frt_compat.h"

#include "access/relation.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/planner.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "frt_ivf.h"
#include "frt_names.h"

static planner_hook_type prev_planner_hook = NULL;

/*
 * The float8 comparisons a threshold is written with: which side the
 * distance is on, whether the bound is included, whether the threshold is
 * float4 (float84lt etc.).
 */
static const struct
{
	Oid			fn;
	bool		distleft;
	bool		inclusive;
	bool		thr4;
}			cmp_forms[] =
{
	{F_FLOAT8LT, true, false, false},
	{F_FLOAT8LE, true, true, false},
	{F_FLOAT8GT, false, false, false},
	{F_FLOAT8GE, false, true, false},
	{F_FLOAT84LT, true, false, true},
	{F_FLOAT84LE, true, true, true},
	{F_FLOAT48GT, false, false, true},
	{F_FLOAT48GE, false, true, true},
};

/* Quick check: does the query mention an frt distance operator anywhere? */
static bool
FrtIvfMentionsDistance(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, OpExpr) && FrtNamesDistanceMetric(((OpExpr *) node)->opno) != 0)
		return true;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, FrtIvfMentionsDistance, context, 0);
	return expression_tree_walker(node, FrtIvfMentionsDistance, context);
}

/*
 * The table column behind a Var of query q: follows subqueries in FROM
 * (without set operations) and join alias columns.  False if it is not a
 * plain column of a relation.
 */
static bool
FrtIvfVarColumn(Query *q, Var *v, Oid *relid, AttrNumber *attno)
{
	for (int depth = 0; depth < FRT_IVF_MAX_VAR_DEPTH; depth++)
	{
		RangeTblEntry *rte;

		if (v->varlevelsup != 0 || v->varattno <= 0 ||
			v->varno < 1 || v->varno > list_length(q->rtable))
			return false;
		rte = rt_fetch(v->varno, q->rtable);
		if (rte->rtekind == RTE_RELATION)
		{
			*relid = rte->relid;
			*attno = v->varattno;
			return true;
		}
		else if (rte->rtekind == RTE_SUBQUERY && rte->subquery->setOperations == NULL)
		{
			TargetEntry *tle = get_tle_by_resno(rte->subquery->targetList, v->varattno);

			if (tle == NULL || !IsA(tle->expr, Var))
				return false;
			q = rte->subquery;
			v = (Var *) tle->expr;
		}
		else if (rte->rtekind == RTE_JOIN && v->varattno <= list_length(rte->joinaliasvars))
		{
			Node	   *alias = list_nth(rte->joinaliasvars, v->varattno - 1);

			if (alias == NULL || !IsA(alias, Var))
				return false;
			v = (Var *) alias;
		}
		else
			return false;
	}
	return false;
}

/*
 * Whether relid has a valid index whose first key has operator 'search' in
 * its operator family (so an frt_ivf index with that metric) and is either
 * column attno (expr NULL) or the expression 'expr', whose Vars are all of
 * range table entry varno: e.g. frt.face's per-purpose indexes on
 * frt._face_open(id, embedding), which the governance layer orders by.
 */
static bool
FrtIvfHasIndex(Oid relid, AttrNumber attno, Node *expr, Index varno, Oid search)
{
	/* the parser has locked the table; the lock is only counted again */
	Relation	rel = try_relation_open(relid, AccessShareLock);
	List	   *indexes;
	ListCell   *lc;
	bool		found = false;

	if (rel == NULL)
		return false;
	indexes = RelationGetIndexList(rel);
	relation_close(rel, NoLock);
	foreach(lc, indexes)
	{
		Relation	index = try_relation_open(lfirst_oid(lc), AccessShareLock);
		Form_pg_index form;

		if (index == NULL)
			continue;
		form = index->rd_index;
		if (form->indisvalid && form->indnkeyatts >= 1 &&
			form->indkey.values[0] == (expr ? 0 : attno) &&
			op_in_opfamily(search, index->rd_opfamily[0]))
		{
			if (expr == NULL)
				found = true;
			else
			{
				List	   *exprs = RelationGetIndexExpressions(index);
				Node	   *key = exprs != NIL ? (Node *) linitial(exprs) : NULL;

				if (key != NULL && varno != 1)
					ChangeVarNodes(key, 1, varno, 0);
				found = key != NULL && equal(key, expr);
			}
		}
		relation_close(index, AccessShareLock);
		if (found)
			break;
	}
	list_free(indexes);
	return found;
}

/*
 * Walker of FrtIvfExprRelation: collects the one range table index that
 * every Var has into *context (0 before the first, -1 once disqualified).
 * Aggregates, window functions, sublinks and outer Vars disqualify.
 */
static bool
FrtIvfExprVarsWalker(Node *node, int *rt)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
	{
		Var		   *v = (Var *) node;

		if (v->varlevelsup != 0 || (*rt != 0 && (int) v->varno != *rt))
		{
			*rt = -1;
			return true;
		}
		*rt = (int) v->varno;
		return false;
	}
	if (IsA(node, Aggref) || IsA(node, WindowFunc) || IsA(node, SubLink) ||
		IsA(node, PlaceHolderVar) || IsA(node, GroupingFunc))
	{
		*rt = -1;
		return true;
	}
	return expression_tree_walker(node, FrtIvfExprVarsWalker, (void *) rt);
}

/*
 * The table behind an expression all of whose Vars are columns of one
 * relation of this query level; false if there is none.
 */
static bool
FrtIvfExprRelation(Query *q, Node *expr, Oid *relid, Index *varno)
{
	int			rt = 0;
	RangeTblEntry *rte;

	if (FrtIvfExprVarsWalker(expr, &rt) || rt < 1 || rt > list_length(q->rtable) ||
		contain_volatile_functions(expr))
		return false;
	rte = rt_fetch(rt, q->rtable);
	if (rte->rtekind != RTE_RELATION)
		return false;
	*relid = rte->relid;
	*varno = (Index) rt;
	return true;
}

/* P or C of a threshold clause: no Var of this level, nothing volatile. */
static bool
FrtIvfFreeOperand(Node *n)
{
	return !contain_vars_of_level(n, 0) && !contain_volatile_functions(n) &&
		!expression_returns_set(n);
}

/* The rewritten form of one conjunct, or NULL to leave it alone. */
static Node *
FrtIvfRewriteClause(Query *q, Node *clause)
{
	const FrtNames *names = FrtNamesLookup();
	OpExpr	   *cmp,
			   *dist;
	Node	   *thr,
			   *probe;
	Node	   *col;
	Index		varno;
	bool		distleft,
				inclusive,
				thr4;
	int			metric;
	size_t		form;
	Oid			relid;
	AttrNumber	attno;
	FuncExpr   *make;
	OpExpr	   *result;

	if (!IsA(clause, OpExpr) || list_length(((OpExpr *) clause)->args) != 2)
		return NULL;
	cmp = (OpExpr *) clause;
	set_opfuncid(cmp);
	for (form = 0; form < lengthof(cmp_forms); form++)
		if (cmp_forms[form].fn == cmp->opfuncid)
			break;
	if (form == lengthof(cmp_forms))
		return NULL;
	distleft = cmp_forms[form].distleft;
	inclusive = cmp_forms[form].inclusive;
	thr4 = cmp_forms[form].thr4;
	dist = (OpExpr *) (distleft ? linitial(cmp->args) : lsecond(cmp->args));
	thr = distleft ? lsecond(cmp->args) : linitial(cmp->args);
	if (!IsA(dist, OpExpr) || list_length(dist->args) != 2 ||
		(metric = FrtNamesDistanceMetric(dist->opno)) == 0)
		return NULL;
	/*
	 * The column (or indexed expression) must be the left operand: errors
	 * name dimensions in order.
	 */
	col = (Node *) linitial(dist->args);
	probe = lsecond(dist->args);
	if (exprType(col) != names->embedding ||
		!FrtIvfFreeOperand(probe) || !FrtIvfFreeOperand(thr))
		return NULL;
	if (IsA(col, Var))
	{
		if (((Var *) col)->varlevelsup != 0 ||
			!FrtIvfVarColumn(q, (Var *) col, &relid, &attno) ||
			!FrtIvfHasIndex(relid, attno, NULL, 0, names->search[metric]))
			return NULL;
	}
	else if (!FrtIvfExprRelation(q, col, &relid, &varno) ||
			 !FrtIvfHasIndex(relid, 0, col, varno, names->search[metric]))
		return NULL;

	if (thr4)					/* float4 to float8 is exact, as in float84lt */
		thr = (Node *) makeFuncExpr(F_FLOAT8_FLOAT4, FLOAT8OID, list_make1(thr),
									InvalidOid, InvalidOid, COERCE_IMPLICIT_CAST);
	make = makeFuncExpr(names->within_make, names->within,
						list_make3(probe, thr, makeBoolConst(inclusive, false)),
						InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
	result = (OpExpr *) make_opclause(names->search[metric], BOOLOID, false,
									  (Expr *) col, (Expr *) make,
									  InvalidOid, InvalidOid);
	set_opfuncid(result);
	result->location = cmp->location;
	return (Node *) result;
}

/* Rewrite the conjuncts of one qual (an AND tree) in place. */
static void
FrtIvfRewriteQual(Query *q, Node **qual)
{
	Node	   *n;

	if (*qual == NULL)
		return;
	if (is_andclause(*qual))
	{
		ListCell   *lc;

		foreach(lc, ((BoolExpr *) *qual)->args)
			FrtIvfRewriteQual(q, (Node **) &lfirst(lc));
		return;
	}
	if ((n = FrtIvfRewriteClause(q, *qual)) != NULL)
		*qual = n;
}

/* Rewrite the WHERE and JOIN ... ON quals of a join tree. */
static void
FrtIvfRewriteJoinTree(Query *q, Node *jt)
{
	ListCell   *lc;

	if (jt == NULL)
		return;
	if (IsA(jt, FromExpr))
	{
		FromExpr   *f = (FromExpr *) jt;

		FrtIvfRewriteQual(q, &f->quals);
		foreach(lc, f->fromlist)
			FrtIvfRewriteJoinTree(q, lfirst(lc));
	}
	else if (IsA(jt, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) jt;

		FrtIvfRewriteQual(q, &j->quals);
		FrtIvfRewriteJoinTree(q, j->larg);
		FrtIvfRewriteJoinTree(q, j->rarg);
	}
}

/* Visit every query level and rewrite its quals. */
static bool
FrtIvfRewriteWalker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;

		FrtIvfRewriteJoinTree(q, (Node *) q->jointree);
		return query_tree_walker(q, FrtIvfRewriteWalker, context, 0);
	}
	return expression_tree_walker(node, FrtIvfRewriteWalker, context);
}

/* planner_hook: rewrite distance thresholds, then plan as usual. */
static PlannedStmt *
FrtIvfPlanner(Query *parse, const char *query_string, int cursorOptions,
			  ParamListInfo boundParams)
{
	if (FrtNamesLookup() != NULL && FrtIvfMentionsDistance((Node *) parse, NULL))
		FrtIvfRewriteWalker((Node *) parse, NULL);
	if (prev_planner_hook)
		return prev_planner_hook(parse, query_string, cursorOptions, boundParams);
	return standard_planner(parse, query_string, cursorOptions, boundParams);
}

/* Install the planner hook (called from FrtIvfInit). */
void
FrtIvfPlannerInit(void)
{
	prev_planner_hook = planner_hook;
	planner_hook = FrtIvfPlanner;
}

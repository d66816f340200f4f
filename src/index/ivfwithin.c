/*-------------------------------------------------------------------------
 *
 * ivfwithin.c
 *	  The frt.face_within type and the threshold search operators
 *	  e <<-> w, e <<#> w, e <<=> w ("distance of e to w's probe below w's
 *	  threshold"), with their restriction estimator.
 *
 * Each operator computes exactly what the clause it replaces computes: the
 * distance operator's own function on (e, probe), then float8 < or <= (NaN
 * greater than every number, as in float8lt / float8le).  So errors
 * (different dimensions), NULLs and NaN thresholds behave as in the original
 * clause, and the executor's recheck of an index condition is exact.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "frt_compat.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "utils/float.h"
#include "utils/selfuncs.h"

#include "frt_embedding.h"
#include "frt_ivf.h"
#include "frt_names.h"

/* the distance operators' functions (src/type/embedding_ops.c) */
extern Datum face_embedding_l2_distance(PG_FUNCTION_ARGS);
extern Datum face_embedding_negative_inner_product(PG_FUNCTION_ARGS);
extern Datum face_embedding_cosine_distance(PG_FUNCTION_ARGS);
extern Datum face_embedding_in(PG_FUNCTION_ARGS);
extern Datum face_embedding_out(PG_FUNCTION_ARGS);

/* Build a face_within from its parts. */
static FrtFaceWithin *
FrtWithinMake(const FaceEmbedding *probe, float8 threshold, bool inclusive)
{
	Size		psize = VARSIZE(probe);
	Size		size = offsetof(FrtFaceWithin, probe) + psize;
	FrtFaceWithin *w = palloc0(size);

	SET_VARSIZE(w, size);
	w->flags = inclusive ? FRT_WITHIN_INCLUSIVE : 0;
	memcpy(&w->threshold, &threshold, sizeof(float8));
	memcpy(w->probe, probe, psize);
	return w;
}

PG_FUNCTION_INFO_V1(face_within_in);
/*
 * Text input: "[x1,...] < t" or "[x1,...] <= t".  Like the embedding's own
 * input, no error echoes the input: the probe is face information, and a
 * malformed threshold may hold (part of) it.
 */
Datum
face_within_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	char	   *lt = strrchr(str, '<');
	char	   *num;
	char	   *end;
	bool		inclusive;
	float8		t;
	FaceEmbedding *probe;

	if (lt == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type face_within"),
				 errdetail("Expected \"[x1,...] < threshold\" or \"[x1,...] <= threshold\".")));
	inclusive = (lt[1] == '=');
	num = lt + (inclusive ? 2 : 1);
	while (*num == ' ' || *num == '\t' || *num == '\n' || *num == '\r')
		num++;
	/* as float8in, without its error (which quotes the text) */
	errno = 0;
	t = strtod(num, &end);
	if (end == num)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type face_within"),
				 errdetail("The threshold is not a number.")));
	if (errno == ERANGE && (t == 0.0 || isinf(t)))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("face_within threshold is out of range for type double precision")));
	while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
		end++;
	if (*end != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type face_within"),
				 errdetail("Unexpected characters after the threshold.")));
	probe = DatumGetFaceEmbedding(DirectFunctionCall3(face_embedding_in,
													  CStringGetDatum(pnstrdup(str, lt - str)),
													  ObjectIdGetDatum(InvalidOid),
													  Int32GetDatum(-1)));
	PG_RETURN_POINTER(FrtWithinMake(probe, t, inclusive));
}

PG_FUNCTION_INFO_V1(face_within_out);
/* Text output, the form face_within_in reads. */
Datum
face_within_out(PG_FUNCTION_ARGS)
{
	FrtFaceWithin *w = DatumGetFaceWithin(PG_GETARG_DATUM(0));
	char	   *probe = DatumGetCString(DirectFunctionCall1(face_embedding_out,
															PointerGetDatum(FrtWithinProbe(w))));

	PG_RETURN_CSTRING(psprintf("%s %s %s", probe,
							   (w->flags & FRT_WITHIN_INCLUSIVE) ? "<=" : "<",
							   float8out_internal(FrtWithinThreshold(w))));
}

PG_FUNCTION_INFO_V1(face_within_make);
/* frt.face_within(probe, threshold, inclusive): the operand of <<=> etc. */
Datum
face_within_make(PG_FUNCTION_ARGS)
{
	FaceEmbedding *probe = PG_GETARG_FACE_EMBEDDING_P(0);

	PG_RETURN_POINTER(FrtWithinMake(probe, PG_GETARG_FLOAT8(1), PG_GETARG_BOOL(2)));
}

/* Compare distance d with w's threshold exactly as float8lt / float8le do. */
static inline bool
FrtWithinTest(float8 d, const FrtFaceWithin *w)
{
	float8		t = FrtWithinThreshold(w);

	return (w->flags & FRT_WITHIN_INCLUSIVE) ? float8_le(d, t) : float8_lt(d, t);
}

/* Apply distance function 'dist' to (e, w's probe) and test the threshold. */
static Datum
FrtWithinApply(PGFunction dist, FunctionCallInfo fcinfo)
{
	FrtFaceWithin *w = DatumGetFaceWithin(PG_GETARG_DATUM(1));
	float8		d = DatumGetFloat8(DirectFunctionCall2(dist, PG_GETARG_DATUM(0),
													   PointerGetDatum(FrtWithinProbe(w))));

	PG_RETURN_BOOL(FrtWithinTest(d, w));
}

PG_FUNCTION_INFO_V1(face_within_l2);
/* e <<-> w: (e <-> probe) < threshold (or <=). */
Datum
face_within_l2(PG_FUNCTION_ARGS)
{
	return FrtWithinApply(face_embedding_l2_distance, fcinfo);
}

PG_FUNCTION_INFO_V1(face_within_ip);
/* e <<#> w: (e <#> probe) < threshold (or <=). */
Datum
face_within_ip(PG_FUNCTION_ARGS)
{
	return FrtWithinApply(face_embedding_negative_inner_product, fcinfo);
}

PG_FUNCTION_INFO_V1(face_within_cosine);
/* e <<=> w: (e <=> probe) < threshold (or <=). */
Datum
face_within_cosine(PG_FUNCTION_ARGS)
{
	return FrtWithinApply(face_embedding_cosine_distance, fcinfo);
}

/*
 * The threshold of a face_within expression when the planner can see it: a
 * constant, or frt.face_within(p, t, ...) with a constant t (a generic plan
 * with $1, $2 has neither).
 */
static bool
FrtWithinConstThreshold(Node *arg, float8 *t)
{
	if (IsA(arg, Const))
	{
		Const	   *c = (Const *) arg;

		if (c->constisnull)
			return false;
		*t = FrtWithinThreshold(DatumGetFaceWithin(c->constvalue));
		return true;
	}
	if (IsA(arg, FuncExpr) && list_length(((FuncExpr *) arg)->args) == 3)
	{
		Node	   *tn = lsecond(((FuncExpr *) arg)->args);

		if (IsA(tn, Const) && !((Const *) tn)->constisnull &&
			((Const *) tn)->consttype == FLOAT8OID)
		{
			*t = DatumGetFloat8(((Const *) tn)->constvalue);
			return true;
		}
	}
	return false;
}

PG_FUNCTION_INFO_V1(frt_within_sel);
/*
 * Restriction selectivity of e <<=> w etc.  A threshold query is a match:
 * few rows qualify, so FRT_IVF_WITHIN_SEL of the non-NULL rows; a NaN
 * threshold passes every row, and a cosine threshold of 1 or more passes
 * about half the rows or more (face embeddings of different people are
 * nearly orthogonal, distance ~1).  The clause replaces the original one,
 * so nothing is counted twice.
 */
Datum
frt_within_sel(PG_FUNCTION_ARGS)
{
	PlannerInfo *root = (PlannerInfo *) PG_GETARG_POINTER(0);
	Oid			opno = PG_GETARG_OID(1);
	List	   *args = (List *) PG_GETARG_POINTER(2);
	int			varRelid = PG_GETARG_INT32(3);
	VariableStatData vardata;
	Node	   *other;
	bool		varonleft;
	double		sel = FRT_IVF_WITHIN_SEL,
				nullfrac = 0.0;
	float8		t;

	if (!get_restriction_variable(root, args, varRelid, &vardata, &other, &varonleft))
		PG_RETURN_FLOAT8(FRT_IVF_WITHIN_SEL);
	if (HeapTupleIsValid(vardata.statsTuple))
		nullfrac = ((Form_pg_statistic) GETSTRUCT(vardata.statsTuple))->stanullfrac;
	ReleaseVariableStats(vardata);

	other = estimate_expression_value(root, other);
	if (varonleft && FrtWithinConstThreshold(other, &t))
	{
		if (isnan(t))
			sel = 1.0;
		else if (FrtNamesSearchMetric(opno) == FRT_IVF_METRIC_COSINE)
		{
			/* cosine distance lies in [0, 2] */
			if (t <= 0.0)
				sel = FRT_IVF_WITHIN_SEL_DUP;
			else if (t >= 1.0)
				sel = Max(FRT_IVF_WITHIN_SEL, Min(1.0, FRT_IVF_WITHIN_SEL_COSINE * t));
		}
	}
	sel *= 1.0 - nullfrac;
	CLAMP_PROBABILITY(sel);
	PG_RETURN_FLOAT8(sel);
}

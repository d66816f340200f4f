/*-------------------------------------------------------------------------
 *
 * embedding_ops.c
 *	  Distance operators, vector functions and the avg aggregate of
 *	  face_embedding; all arithmetic goes through the dispatched kernels.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "frt_compat.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/float.h"

#include "frt_embedding.h"
#include "frt_kernels.h"
#include "frt_quant.h"

/* Fetch both operands and check they have the same dimension. */
#define GET_PAIR() \
	FaceEmbedding *a = PG_GETARG_FACE_EMBEDDING_P(0); \
	FaceEmbedding *b = PG_GETARG_FACE_EMBEDDING_P(1); \
	FrtCheckSameDim(a, b)

PG_FUNCTION_INFO_V1(face_embedding_l2_distance);
/* a <-> b: Euclidean distance. */
Datum
face_embedding_l2_distance(PG_FUNCTION_ARGS)
{
	GET_PAIR();
	PG_RETURN_FLOAT8(FrtDistance(a->x, b->x, a->dim, FRT_METRIC_L2));
}

PG_FUNCTION_INFO_V1(face_embedding_inner_product);
/* frt.inner_product(a, b). */
Datum
face_embedding_inner_product(PG_FUNCTION_ARGS)
{
	GET_PAIR();
	PG_RETURN_FLOAT8((double) frt_kernels->dot(a->x, b->x, a->dim));
}

PG_FUNCTION_INFO_V1(face_embedding_negative_inner_product);
/* a <#> b: negative inner product (smaller is closer). */
Datum
face_embedding_negative_inner_product(PG_FUNCTION_ARGS)
{
	GET_PAIR();
	PG_RETURN_FLOAT8(FrtDistance(a->x, b->x, a->dim, FRT_METRIC_IP));
}

PG_FUNCTION_INFO_V1(face_embedding_cosine_distance);
/* a <=> b: cosine distance, 1 - cosine similarity. */
Datum
face_embedding_cosine_distance(PG_FUNCTION_ARGS)
{
	GET_PAIR();
	PG_RETURN_FLOAT8(FrtDistance(a->x, b->x, a->dim, FRT_METRIC_COSINE));
}

PG_FUNCTION_INFO_V1(face_embedding_cosine_similarity);
/* frt.cosine_similarity(a, b). */
Datum
face_embedding_cosine_similarity(PG_FUNCTION_ARGS)
{
	float		dot,
				na,
				nb;

	GET_PAIR();
	frt_kernels->dot_norms(a->x, b->x, a->dim, &dot, &na, &nb);
	PG_RETURN_FLOAT8(FrtCosineFromParts(dot, na, nb));
}

PG_FUNCTION_INFO_V1(face_embedding_dims);
/* frt.dims(e): number of components. */
Datum
face_embedding_dims(PG_FUNCTION_ARGS)
{
	FaceEmbedding *e = PG_GETARG_FACE_EMBEDDING_P(0);

	PG_RETURN_INT32(e->dim);
}

PG_FUNCTION_INFO_V1(face_embedding_norm);
/* frt.norm(e): Euclidean norm. */
Datum
face_embedding_norm(PG_FUNCTION_ARGS)
{
	FaceEmbedding *e = PG_GETARG_FACE_EMBEDDING_P(0);

	PG_RETURN_FLOAT8(sqrt((double) frt_kernels->dot(e->x, e->x, e->dim)));
}

PG_FUNCTION_INFO_V1(face_embedding_l2_normalize);
/* frt.l2_normalize(e): e scaled to unit length (a zero vector stays zero). */
Datum
face_embedding_l2_normalize(PG_FUNCTION_ARGS)
{
	FaceEmbedding *e = PG_GETARG_FACE_EMBEDDING_P(0);
	FaceEmbedding *r = FrtEmbeddingAlloc(e->dim);
	double		norm = 0.0;

	for (int i = 0; i < e->dim; i++)
		norm += (double) e->x[i] * (double) e->x[i];
	norm = sqrt(norm);
	if (norm > 0.0)
		for (int i = 0; i < e->dim; i++)
			r->x[i] = (float) (e->x[i] / norm);
	PG_RETURN_FACE_EMBEDDING_P(r);
}

/*
 * avg aggregate.  The transition state is a float8[] of dim + 1 elements:
 * the count followed by the running sums (double, so many samples add up
 * without drift).  A plain array makes the state parallel-safe without
 * serialization functions.
 */

/* Check and unpack the transition array. */
static float8 *
AvgState(ArrayType *st, int *n)
{
	if (ARR_NDIM(st) != 1 || ARR_HASNULL(st) || ARR_ELEMTYPE(st) != FLOAT8OID)
		elog(ERROR, "frt.avg: invalid transition state");
	*n = ARR_DIMS(st)[0];
	return (float8 *) ARR_DATA_PTR(st);
}

/* Build a transition array from count and sums. */
static ArrayType *
AvgMake(float8 *vals, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * n);

	for (int i = 0; i < n; i++)
		d[i] = Float8GetDatum(vals[i]);
	return construct_array(d, n, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

PG_FUNCTION_INFO_V1(face_embedding_avg_accum);
/* Transition: add one embedding. */
Datum
face_embedding_avg_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *st = PG_GETARG_ARRAYTYPE_P(0);
	FaceEmbedding *e = PG_GETARG_FACE_EMBEDDING_P(1);
	int			n;
	float8	   *s = AvgState(st, &n);
	float8	   *out;

	if (n == 1)					/* first value: state is {0} */
	{
		out = palloc0(sizeof(float8) * (e->dim + 1));
		n = e->dim + 1;
	}
	else
	{
		if (n != e->dim + 1)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("different face_embedding dimensions %d and %d", n - 1, e->dim)));
		out = palloc(sizeof(float8) * n);
		memcpy(out, s, sizeof(float8) * n);
	}
	out[0] += 1.0;
	for (int i = 0; i < e->dim; i++)
		out[i + 1] += e->x[i];
	PG_RETURN_ARRAYTYPE_P(AvgMake(out, n));
}

PG_FUNCTION_INFO_V1(face_embedding_avg_combine);
/* Combine two partial states (parallel aggregation). */
Datum
face_embedding_avg_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *s1 = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *s2 = PG_GETARG_ARRAYTYPE_P(1);
	int			n1,
				n2;
	float8	   *a = AvgState(s1, &n1);
	float8	   *b = AvgState(s2, &n2);
	float8	   *out;

	if (n1 == 1)
		PG_RETURN_ARRAYTYPE_P(s2);
	if (n2 == 1)
		PG_RETURN_ARRAYTYPE_P(s1);
	if (n1 != n2)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different face_embedding dimensions %d and %d", n1 - 1, n2 - 1)));
	out = palloc(sizeof(float8) * n1);
	for (int i = 0; i < n1; i++)
		out[i] = a[i] + b[i];
	PG_RETURN_ARRAYTYPE_P(AvgMake(out, n1));
}

PG_FUNCTION_INFO_V1(face_embedding_avg_final);
/* Final: the mean embedding, or NULL for no rows. */
Datum
face_embedding_avg_final(PG_FUNCTION_ARGS)
{
	ArrayType  *st = PG_GETARG_ARRAYTYPE_P(0);
	int			n;
	float8	   *s = AvgState(st, &n);
	FaceEmbedding *r;

	if (n == 1 || s[0] == 0.0)
		PG_RETURN_NULL();
	r = FrtEmbeddingAlloc(n - 1);
	for (int i = 0; i < n - 1; i++)
	{
		r->x[i] = (float) (s[i + 1] / s[0]);
		FrtCheckElement(r->x[i]);
	}
	PG_RETURN_FACE_EMBEDDING_P(r);
}

PG_FUNCTION_INFO_V1(face_embedding_eq);
/* a = b: same dimension and equal components. */
Datum
face_embedding_eq(PG_FUNCTION_ARGS)
{
	FaceEmbedding *a = PG_GETARG_FACE_EMBEDDING_P(0);
	FaceEmbedding *b = PG_GETARG_FACE_EMBEDDING_P(1);

	if (a->dim != b->dim)
		PG_RETURN_BOOL(false);
	for (int i = 0; i < a->dim; i++)
		if (a->x[i] != b->x[i])
			PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(true);
}

/*-------------------------------------------------------------------------
 *
 * embedding.c
 *	  The face_embedding type: text and binary I/O, typmod, and casts.
 *
 * Error messages never echo the value being read: an embedding is face
 * information (Measures Art. 19) and must not reach the server log.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "frt_compat.h"

#include <float.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "frt_embedding.h"
#include "frt_embtext.h"

/* Allocate a zeroed embedding of the given dimension. */
FaceEmbedding *
FrtEmbeddingAlloc(int dim)
{
	Size		size = FRT_EMBEDDING_SIZE(dim);
	FaceEmbedding *e = (FaceEmbedding *) palloc0(size);

	SET_VARSIZE(e, size);
	e->dim = dim;
	return e;
}

/* Raise an error unless dim is within the type's limits. */
void
FrtCheckDim(int dim)
{
	if (dim < FRT_MIN_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("face_embedding must have at least %d dimension", FRT_MIN_DIM)));
	if (dim > FRT_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("face_embedding cannot have more than %d dimensions", FRT_MAX_DIM)));
}

/* Raise an error if a value of dimension dim does not fit typmod. */
void
FrtCheckTypmod(int typmod, int dim)
{
	if (typmod != -1 && typmod != dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", typmod, dim)));
}

/* Raise an error if two operands differ in dimension. */
void
FrtCheckSameDim(const FaceEmbedding *a, const FaceEmbedding *b)
{
	if (a->dim != b->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different face_embedding dimensions %d and %d", a->dim, b->dim)));
}

/* Raise an error for a component that is NaN or infinite. */
void
FrtCheckElement(float v)
{
	if (isnan(v))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("NaN not allowed in face_embedding")));
	if (isinf(v))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("infinite value not allowed in face_embedding")));
}

/* Report malformed text input without echoing the input. */
static void
TextSyntaxError(const char *what, long pos)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type face_embedding"),
			 errdetail("%s at character %ld.", what, pos + 1)));
}

PG_FUNCTION_INFO_V1(face_embedding_in);
/* Text input: [x1,x2,...], parsed by the code both editions share (embtext.c). */
Datum
face_embedding_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	float	   *buf = palloc(sizeof(float) * FRT_MAX_DIM);
	FrtEmbResult res;
	FaceEmbedding *result;

	switch (FrtEmbParseText(str, buf, FRT_MAX_DIM, &res))
	{
		case FRT_EMB_OK:
			break;
		case FRT_EMB_TOO_LONG:
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("face_embedding text form is too long")));
			break;
		case FRT_EMB_TOO_FEW:
			FrtCheckDim(0);
			break;
		case FRT_EMB_TOO_MANY:
			FrtCheckDim(FRT_MAX_DIM + 1);
			break;
		case FRT_EMB_NAN:
			FrtCheckElement(NAN);
			break;
		case FRT_EMB_INF:
			FrtCheckElement(INFINITY);
			break;
		case FRT_EMB_RANGE:
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("face_embedding component %d is out of range for type real", res.component)));
			break;
		default:
			TextSyntaxError(res.what, res.pos);
			break;
	}
	FrtCheckTypmod(typmod, res.dim);
	result = FrtEmbeddingAlloc(res.dim);
	memcpy(result->x, buf, sizeof(float) * res.dim);
	pfree(buf);
	PG_RETURN_FACE_EMBEDDING_P(result);
}

PG_FUNCTION_INFO_V1(face_embedding_out);
/* Text output, shortest exact decimal form of each component. */
Datum
face_embedding_out(PG_FUNCTION_ARGS)
{
	FaceEmbedding *e = PG_GETARG_FACE_EMBEDDING_P(0);
	char	   *out = palloc(e->dim * (FLOAT_SHORTEST_DECIMAL_LEN + 1) + 3);
	char	   *p = out;

	*p++ = '[';
	for (int i = 0; i < e->dim; i++)
	{
		if (i > 0)
			*p++ = ',';
		p += float_to_shortest_decimal_bufn(e->x[i], p);
	}
	*p++ = ']';
	*p = '\0';
	PG_FREE_IF_COPY(e, 0);
	PG_RETURN_CSTRING(out);
}

PG_FUNCTION_INFO_V1(face_embedding_typmod_in);
/* Type modifier input: the dimension. */
Datum
face_embedding_typmod_in(PG_FUNCTION_ARGS)
{
	ArrayType  *ta = PG_GETARG_ARRAYTYPE_P(0);
	int32	   *tl;
	int			n;

	tl = ArrayGetIntegerTypmods(ta, &n);
	if (n != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid type modifier"),
				 errdetail("face_embedding takes one modifier, its dimension.")));
	if (tl[0] < FRT_MIN_DIM || tl[0] > FRT_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type face_embedding must be between %d and %d",
						FRT_MIN_DIM, FRT_MAX_DIM)));
	PG_RETURN_INT32(tl[0]);
}

PG_FUNCTION_INFO_V1(face_embedding_typmod_out);
/* Type modifier output. */
Datum
face_embedding_typmod_out(PG_FUNCTION_ARGS)
{
	int32		typmod = PG_GETARG_INT32(0);

	PG_RETURN_CSTRING(typmod < 0 ? pstrdup("") : psprintf("(%d)", typmod));
}

PG_FUNCTION_INFO_V1(face_embedding_recv);
/* Binary input: int16 dim, int16 flags (0), dim float4. */
Datum
face_embedding_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		typmod = PG_GETARG_INT32(2);
	int			dim;
	int			flags;
	FaceEmbedding *result;

	if (buf->len - buf->cursor < 4)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("truncated binary face_embedding")));
	dim = (int16) pq_getmsgint(buf, 2);
	flags = pq_getmsgint(buf, 2);
	FrtCheckDim(dim);
	if (flags != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("unsupported flags in binary face_embedding")));
	if (buf->len - buf->cursor != dim * (int) sizeof(float))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("binary face_embedding has %d bytes of components, expected %d",
						buf->len - buf->cursor, dim * (int) sizeof(float))));
	FrtCheckTypmod(typmod, dim);
	result = FrtEmbeddingAlloc(dim);
	for (int i = 0; i < dim; i++)
	{
		result->x[i] = pq_getmsgfloat4(buf);
		FrtCheckElement(result->x[i]);
	}
	PG_RETURN_FACE_EMBEDDING_P(result);
}

PG_FUNCTION_INFO_V1(face_embedding_send);
/* Binary output. */
Datum
face_embedding_send(PG_FUNCTION_ARGS)
{
	FaceEmbedding *e = PG_GETARG_FACE_EMBEDDING_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint16(&buf, e->dim);
	pq_sendint16(&buf, 0);
	for (int i = 0; i < e->dim; i++)
		pq_sendfloat4(&buf, e->x[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(face_embedding_coerce);
/* Length coercion: face_embedding to face_embedding(n). */
Datum
face_embedding_coerce(PG_FUNCTION_ARGS)
{
	FaceEmbedding *e = PG_GETARG_FACE_EMBEDDING_P(0);
	int32		typmod = PG_GETARG_INT32(1);

	FrtCheckTypmod(typmod, e->dim);
	PG_RETURN_FACE_EMBEDDING_P(e);
}

/* Build an embedding from a one-dimensional float4 or float8 array. */
static FaceEmbedding *
FromArray(ArrayType *arr, int32 typmod)
{
	Oid			elemtype = ARR_ELEMTYPE(arr);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	FaceEmbedding *result;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("array must be one-dimensional")));
	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(arr, elemtype, typlen, typbyval, typalign, &elems, &nulls, &n);
	FrtCheckDim(n);
	FrtCheckTypmod(typmod, n);
	result = FrtEmbeddingAlloc(n);
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("array must not contain nulls")));
		if (elemtype == FLOAT4OID)
			result->x[i] = DatumGetFloat4(elems[i]);
		else
		{
			double		d = DatumGetFloat8(elems[i]);

			if (isnan(d) || isinf(d))
				FrtCheckElement((float) d);
			/* overflow, or underflow to zero (as the text form refuses) */
			if (isinf((float) d) || (d != 0.0 && (float) d == 0.0f))
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("face_embedding component %d is out of range for type real", i + 1)));
			result->x[i] = (float) d;
		}
		FrtCheckElement(result->x[i]);
	}
	return result;
}

PG_FUNCTION_INFO_V1(face_embedding_from_array);
/* Cast real[] or double precision[] to face_embedding. */
Datum
face_embedding_from_array(PG_FUNCTION_ARGS)
{
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(0);

	PG_RETURN_FACE_EMBEDDING_P(FromArray(arr, PG_GETARG_INT32(1)));
}

/* Make a float4 or float8 array from an embedding. */
static ArrayType *
ToArray(FaceEmbedding *e, Oid elemtype)
{
	Datum	   *d = palloc(sizeof(Datum) * e->dim);

	for (int i = 0; i < e->dim; i++)
		d[i] = (elemtype == FLOAT4OID) ? Float4GetDatum(e->x[i])
			: Float8GetDatum((double) e->x[i]);
	if (elemtype == FLOAT4OID)
		return construct_array(d, e->dim, FLOAT4OID, sizeof(float4), true, TYPALIGN_INT);
	return construct_array(d, e->dim, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

PG_FUNCTION_INFO_V1(face_embedding_to_float4);
/* Cast face_embedding to real[]. */
Datum
face_embedding_to_float4(PG_FUNCTION_ARGS)
{
	PG_RETURN_ARRAYTYPE_P(ToArray(PG_GETARG_FACE_EMBEDDING_P(0), FLOAT4OID));
}

PG_FUNCTION_INFO_V1(face_embedding_to_float8);
/* Cast face_embedding to double precision[]. */
Datum
face_embedding_to_float8(PG_FUNCTION_ARGS)
{
	PG_RETURN_ARRAYTYPE_P(ToArray(PG_GETARG_FACE_EMBEDDING_P(0), FLOAT8OID));
}

PG_FUNCTION_INFO_V1(face_embedding_from_bytea);
/* Cast bytea holding little-endian float32 components to face_embedding. */
Datum
face_embedding_from_bytea(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	int32		typmod = PG_GETARG_INT32(1);
	int			len = VARSIZE_ANY_EXHDR(b);
	const unsigned char *p = (const unsigned char *) VARDATA_ANY(b);
	FaceEmbedding *result;
	int			dim;

	if (len % sizeof(float) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("bytea length %d is not a multiple of %d", len, (int) sizeof(float))));
	dim = len / sizeof(float);
	FrtCheckDim(dim);
	FrtCheckTypmod(typmod, dim);
	result = FrtEmbeddingAlloc(dim);
	for (int i = 0; i < dim; i++)
	{
		uint32		u = (uint32) p[4 * i] | ((uint32) p[4 * i + 1] << 8) |
			((uint32) p[4 * i + 2] << 16) | ((uint32) p[4 * i + 3] << 24);
		float		f;

		memcpy(&f, &u, sizeof(f));
		FrtCheckElement(f);
		result->x[i] = f;
	}
	PG_RETURN_FACE_EMBEDDING_P(result);
}

/*-------------------------------------------------------------------------
 *
 * frt_quant.h
 *	  Per-row int8 quantization, int16 probes and the proven lower bound of
 *	  a distance from them; the exact distances the bound is proven against.
 *	  PostgreSQL-free (src/common/quant.c): used by frt_ivf and by the
 *	  SQLite edition's gallery.
 *
 * A row x is approximated as scale * code (code int8, one scale per row);
 * resid >= |x - scale * code| (for cosine, of the unit vector x / |x|),
 * cnorm2 = |scale * code|^2, cnorm >= |scale * code|.  A probe q is
 * quantized to int16 (q ~ qscale * qi, eqnorm >= |q - qscale * qi|).  The
 * integer product code . qi is exact, and by Cauchy-Schwarz
 *	 |x.q - x'.q'| <= resid |q| + cnorm eqnorm,
 * so FrtQuantLowerBound() never exceeds the distance FrtDistance() computes.
 * See docs/index.md, "The bound, and why exact mode is exact".
 *
 *-------------------------------------------------------------------------
 */
#ifndef FRT_QUANT_H
#define FRT_QUANT_H

#include <float.h>
#include <math.h>

#include "frt_common.h"
#include "frt_kernels.h"

/* A quantized row's scalars (its code, dim int8 values, is kept apart). */
typedef struct FrtQuantRow
{
	float		scale;			/* 0 only for the zero vector */
	float		resid;
	float		cnorm2;
	float		cnorm;
} FrtQuantRow;

/* A probe prepared for ranking codes; q and qi point to caller memory. */
typedef struct FrtQuantProbe
{
	int			metric;
	int			dim;
	bool		zero;			/* cosine with a zero probe: all NaN */
	float	   *q;				/* the probe (unit length for cosine) */
	int16_t    *qi;				/* q quantized: q ~ qscale * qi */
	double		qscale;
	double		eqnorm;			/* >= |q - qscale * qi| */
	double		qnorm;			/* |q| */
	double		qnorm2;			/* |q|^2 */
	double		eps;			/* relative slack for the distance's float rounding */
} FrtQuantProbe;

/* Quantize x (dim values) into row and code; true if x is the zero vector. */
extern bool FrtQuantizeRow(const float *x, int dim, int metric, FrtQuantRow *row,
						   int8_t *code);

/* Prepare probe p from x; q (dim floats) and qi (dim int16) are caller memory. */
extern void FrtQuantPrepareProbe(FrtQuantProbe *p, const float *x, int dim, int metric,
								 float *q, int16_t *qi);

/*
 * The distance between a and b in a metric, exactly as both editions'
 * distance functions and operators compute it: L2 = sqrt of the squared L2
 * kernel, IP = the negative inner product, cosine = 1 - clamped cosine
 * similarity (NaN when either is the zero vector).
 */
extern double FrtDistance(const float *a, const float *b, int dim, int metric);

/* Cosine similarity from a dot product and squared norms; NaN for a zero vector. */
extern double FrtCosineFromParts(float dot, float na, float nb);

/*
 * Round a lower bound down to a float, keeping it a lower bound, without a
 * branch (a data-dependent branch here mispredicted on every other row):
 * the nearest float is at most half an ulp above v, and subtracting |f| *
 * FLT_EPSILON (one to two ulps) and FLT_MIN (for zero and denormals) always
 * lands below v.  NaN stays NaN.
 */
static inline float
FrtFloatDown(double v)
{
	float		f = (float) v;

	if (f > FLT_MAX)
		return FLT_MAX;			/* v beyond the float range */
	return (f - fabsf(f) * FLT_EPSILON) - FLT_MIN;
}

/*
 * A lower bound of FrtDistance() between the probe and the row behind
 * (row, code); rowzero: the row is the zero vector.  NaN when the distance
 * is NaN (cosine with a zero vector).  Inline: it runs once per row.
 */
static inline double
FrtQuantLowerBound(const FrtQuantProbe *p, const FrtQuantRow *row, const int8_t *code,
				   bool rowzero)
{
	int32_t		s = frt_kernels->dot_i8i16(code, p->qi, p->dim);
	double		ip = (double) row->scale * p->qscale * s;
	double		cn = row->cnorm;
	double		err = row->resid * p->qnorm + cn * p->eqnorm + FRT_QUANT_IP_SLACK * fabs(ip);

	switch (p->metric)
	{
		case FRT_METRIC_COSINE:
			if (p->zero || rowzero)
				return NAN;
			return 1.0 - ip - err - p->eps;
		case FRT_METRIC_IP:
			return -ip - err - p->eps * (cn + row->resid) * p->qnorm;
		default:
			{
				double		sum = cn + p->qnorm;
				double		d2 = row->cnorm2 - 2.0 * (ip + cn * p->eqnorm) + p->qnorm2 -
					p->eps * sum * sum;
				double		d = (d2 > 0.0 ? sqrt(d2) : 0.0) - row->resid;

				return d > 0.0 ? d * (1.0 - p->eps) : 0.0;
			}
	}
}

#endif							/* FRT_QUANT_H */

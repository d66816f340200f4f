/*-------------------------------------------------------------------------
 *
 * quant.c
 *	  Per-row int8 quantization, int16 probes and exact distances, shared
 *	  by frt_ivf and the SQLite edition (PostgreSQL-free; see frt_quant.h).
 *
 *-------------------------------------------------------------------------
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "frt_quant.h"

/* Round a non-negative double up to a float that is not smaller. */
static float
QuantFloatUp(double v)
{
	float		f = (float) v;

	if ((double) f < v)
		f = nextafterf(f, INFINITY);
	return f;
}

/*
 * Quantize x into a row: per-row scale, int8 code, a rounded-up residual
 * norm and the code's squared norm.  For cosine the unit vector x / |x| is
 * quantized.  The zero vector gets code 0 and scale 0 (exact).
 */
bool
FrtQuantizeRow(const float *x, int dim, int metric, FrtQuantRow *row, int8_t *code)
{
	double		n2 = 0.0,
				inv = 1.0,
				maxabs = 0.0,
				r2 = 0.0,
				c2 = 0.0;
	float		scale;

	for (int i = 0; i < dim; i++)
		n2 += (double) x[i] * x[i];
	if (n2 == 0.0)
	{
		memset(code, 0, dim);
		row->scale = row->resid = row->cnorm2 = row->cnorm = 0.0f;
		return true;
	}
	if (metric == FRT_METRIC_COSINE)
		inv = 1.0 / sqrt(n2);
	for (int i = 0; i < dim; i++)
		if (fabs(x[i] * inv) > maxabs)
			maxabs = fabs(x[i] * inv);
	scale = (float) (maxabs / FRT_QUANT_CODE_MAX);
	if (scale == 0.0f)			/* denormal underflow: keep a usable scale */
		scale = FLT_MIN;
	for (int i = 0; i < dim; i++)
	{
		double		u = x[i] * inv;
		long		c = lrint(u / scale);
		double		e;

		if (c > FRT_QUANT_CODE_MAX)
			c = FRT_QUANT_CODE_MAX;
		else if (c < -FRT_QUANT_CODE_MAX)
			c = -FRT_QUANT_CODE_MAX;
		code[i] = (int8_t) c;
		e = u - (double) scale * c;
		r2 += e * e;
		c2 += (double) c * c;
	}
	/* a hair of extra margin covers the rounding of this very sum */
	row->resid = QuantFloatUp(sqrt(r2) * (1.0 + FRT_QUANT_NORM_MARGIN));
	row->scale = scale;
	row->cnorm2 = (float) ((double) scale * scale * c2);
	row->cnorm = QuantFloatUp(sqrt((double) scale * scale * c2));
	return false;
}

/*
 * Prepare a probe: copy it into q (unit-normalized for cosine), quantize it
 * into qi with a rounded-up norm of the quantization error, and set the
 * slack for the distance's float rounding.  qmax keeps every partial sum of
 * the integer product below 2^31.
 */
void
FrtQuantPrepareProbe(FrtQuantProbe *p, const float *x, int dim, int metric,
					 float *q, int16_t *qi)
{
	double		n2 = 0.0,
				maxabs = 0.0,
				e2 = 0.0;
	int			qmax = (int) (INT32_MAX / ((int64_t) dim * FRT_QUANT_CODE_MAX)) - 1;

	if (qmax > FRT_QUANT_PROBE_QMAX)
		qmax = FRT_QUANT_PROBE_QMAX;
	p->metric = metric;
	p->dim = dim;
	p->zero = false;
	p->q = q;
	p->qi = qi;
	for (int i = 0; i < dim; i++)
		n2 += (double) x[i] * x[i];
	if (metric == FRT_METRIC_COSINE)
	{
		double		inv = n2 > 0.0 ? 1.0 / sqrt(n2) : 0.0;

		p->zero = (n2 == 0.0);
		for (int i = 0; i < dim; i++)
			q[i] = (float) (x[i] * inv);
		n2 = 0.0;
		for (int i = 0; i < dim; i++)
			n2 += (double) q[i] * q[i];
	}
	else
		memcpy(q, x, sizeof(float) * dim);
	for (int i = 0; i < dim; i++)
		if (fabs(q[i]) > maxabs)
			maxabs = fabs(q[i]);
	p->qscale = maxabs > 0.0 ? maxabs / qmax : 1.0;
	for (int i = 0; i < dim; i++)
	{
		long		c = lrint(q[i] / p->qscale);
		double		e;

		if (c > qmax)
			c = qmax;
		else if (c < -qmax)
			c = -qmax;
		qi[i] = (int16_t) c;
		e = q[i] - p->qscale * c;
		e2 += e * e;
	}
	p->eqnorm = sqrt(e2) * (1.0 + FRT_QUANT_NORM_MARGIN);
	p->qnorm2 = n2;
	p->qnorm = sqrt(n2);
	p->eps = FRT_QUANT_FLOAT_SLACK * dim * FLT_EPSILON;
}

/* Cosine similarity from a dot product and squared norms; NaN for a zero vector. */
double
FrtCosineFromParts(float dot, float na, float nb)
{
	double		denom = sqrt((double) na * (double) nb);
	double		sim;

	if (denom == 0.0)
		return NAN;
	sim = (double) dot / denom;
	/* rounding may push |sim| just past 1 */
	if (sim > 1.0)
		sim = 1.0;
	else if (sim < -1.0)
		sim = -1.0;
	return sim;
}

/* The distance between a and b in a metric, as the operators compute it. */
double
FrtDistance(const float *a, const float *b, int dim, int metric)
{
	float		dot,
				na,
				nb;

	switch (metric)
	{
		case FRT_METRIC_COSINE:
			frt_kernels->dot_norms(a, b, dim, &dot, &na, &nb);
			return 1.0 - FrtCosineFromParts(dot, na, nb);
		case FRT_METRIC_IP:
			return -(double) frt_kernels->dot(a, b, dim);
		default:
			return sqrt((double) frt_kernels->l2sq(a, b, dim));
	}
}

/*-------------------------------------------------------------------------
 *
 * kernels_sql.c
 *	  The SQL functions that expose the kernels (src/common/kernels.c) and
 *	  check every usable one against the scalar reference.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "frt_compat.h"

#include <float.h>
#include <math.h>

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "frt.h"
#include "frt_kernels.h"

PG_FUNCTION_INFO_V1(frt_simd_info);
/* SQL: the kernel set in use and all usable on this CPU. */
Datum
frt_simd_info(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const FrtKernels *list[8];
	int			n = FrtKernelsList(list, 8);

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < n; i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = CStringGetTextDatum(list[i]->name);
		values[1] = BoolGetDatum(list[i] == frt_kernels);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* Deterministic pseudo-random stream for the self-check (xorshift). */
static uint32
CheckRand(uint32 *state)
{
	uint32		x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

/* Fill a vector for one adversarial case of the self-check. */
static void
CheckFill(float *v, int n, int kase, uint32 *state)
{
	for (int i = 0; i < n; i++)
	{
		float		u = (float) (CheckRand(state) % 2000001) / 1000000.0f - 1.0f;

		switch (kase)
		{
			case 0:				/* ordinary values in [-1, 1] */
				v[i] = u;
				break;
			case 1:				/* tiny values, down into denormals */
				v[i] = u * 1e-30f * ((i % 7) ? 1.0f : 1e-8f);
				break;
			case 2:				/* huge values whose squares still fit */
				v[i] = u * 1e15f;
				break;
			case 3:				/* negative zero mixed with negatives */
				v[i] = (i % 3 == 0) ? -0.0f : -fabsf(u);
				break;
		}
	}
}

/* Relative error of got against ref, scaled by the magnitude 'scale'. */
static double
CheckRelErr(float got, float ref, double scale)
{
	if (isinf(ref) || isinf(got))
		return (got == ref) ? 0.0 : INFINITY;
	if (scale == 0.0)
		return fabs((double) got - (double) ref) == 0.0 ? 0.0 : INFINITY;
	return fabs((double) got - (double) ref) / scale;
}

PG_FUNCTION_INFO_V1(frt_kernel_check);
/*
 * SQL: compare every usable kernel with the scalar reference on odd sizes
 * and adversarial values; one row per (kernel, function, size, case) with
 * the worst relative error, scaled by sum |a_i * b_i| (or sum (a_i - b_i)^2).
 */
Datum
frt_kernel_check(PG_FUNCTION_ARGS)
{
	static const int sizes[] = {1, 3, 7, 17, 512, FRT_MAX_DIM};
	static const char *const cases[] = {"ordinary", "tiny", "huge", "negative_zero"};
	static const char *const funcs[] = {"l2sq", "dot", "dot_norms", "dot_batch", "l2sq_batch", "dot_i8",
	"dot_i8i16"};
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const FrtKernels *list[8];
	int			nk = FrtKernelsList(list, 8);
	float	   *a = palloc(sizeof(float) * FRT_MAX_DIM * 4);
	float	   *b = palloc(sizeof(float) * FRT_MAX_DIM);
	int8_t	   *code = palloc(FRT_MAX_DIM);
	int16_t    *q16 = palloc(sizeof(int16_t) * FRT_MAX_DIM);
	float		out[4],
				ref[4];

	InitMaterializedSRF(fcinfo, 0);
	for (int k = 0; k < nk; k++)
	{
		const FrtKernels *K = list[k];

		for (int si = 0; si < (int) lengthof(sizes); si++)
		{
			int			n = sizes[si];

			for (int c = 0; c < (int) lengthof(cases); c++)
			{
				uint32		state = 2463534242u + n * 31 + c;
				double		worst[lengthof(funcs)] = {0};
				double		sabs = 0.0,
							sl2 = 0.0,
							sa2 = 0.0,
							sb2 = 0.0,
							si8 = 0.0;
				float		d,
							na,
							nb,
							rd,
							rna,
							rnb;

				CheckFill(a, n * 4, c, &state);
				CheckFill(b, n, c, &state);
				for (int i = 0; i < n; i++)
				{
					code[i] = (int8_t) ((int) (CheckRand(&state) % (2 * PG_INT8_MAX + 1)) - PG_INT8_MAX);
					sabs += fabs((double) a[i] * b[i]);
					sl2 += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
					sa2 += (double) a[i] * a[i];
					sb2 += (double) b[i] * b[i];
					si8 += fabs((double) code[i] * b[i]);
				}
				worst[0] = CheckRelErr(K->l2sq(a, b, n), frt_kernels_scalar.l2sq(a, b, n), sl2);
				worst[1] = CheckRelErr(K->dot(a, b, n), frt_kernels_scalar.dot(a, b, n), sabs);
				K->dot_norms(a, b, n, &d, &na, &nb);
				frt_kernels_scalar.dot_norms(a, b, n, &rd, &rna, &rnb);
				worst[2] = Max(CheckRelErr(d, rd, sabs),
							   Max(CheckRelErr(na, rna, sa2), CheckRelErr(nb, rnb, sb2)));
				/* batches: four rows of a, contiguous, against b */
				K->dot_batch(b, a, n, n, 4, out);
				frt_kernels_scalar.dot_batch(b, a, n, n, 4, ref);
				for (int r = 0; r < 4; r++)
				{
					double		sc = 0.0;

					for (int i = 0; i < n; i++)
						sc += fabs((double) a[r * n + i] * b[i]);
					worst[3] = Max(worst[3], CheckRelErr(out[r], ref[r], sc));
				}
				K->l2sq_batch(b, a, n, n, 4, out);
				frt_kernels_scalar.l2sq_batch(b, a, n, n, 4, ref);
				for (int r = 0; r < 4; r++)
					worst[4] = Max(worst[4], CheckRelErr(out[r], ref[r], fabs(ref[r])));
				worst[5] = CheckRelErr(K->dot_i8(code, b, n), frt_kernels_scalar.dot_i8(code, b, n), si8);
				/* the exact integer kernel: any difference is an error (INFINITY) */
				{
					int			qmax = Min(PG_INT16_MAX,
										   (int) (PG_INT32_MAX / ((int64) n * PG_INT8_MAX)) - 1);

					for (int i = 0; i < n; i++)
						q16[i] = (int16_t) ((int) (CheckRand(&state) % (2 * qmax + 1)) - qmax);
					worst[6] = (K->dot_i8i16(code, q16, n) ==
								frt_kernels_scalar.dot_i8i16(code, q16, n)) ? 0.0 : INFINITY;
				}

				for (int f = 0; f < (int) lengthof(funcs); f++)
				{
					Datum		values[5];
					bool		nulls[5] = {0};

					values[0] = CStringGetTextDatum(K->name);
					values[1] = CStringGetTextDatum(funcs[f]);
					values[2] = Int32GetDatum(n);
					values[3] = CStringGetTextDatum(cases[c]);
					values[4] = Float8GetDatum(worst[f]);
					tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
				}
			}
		}
	}
	return (Datum) 0;
}

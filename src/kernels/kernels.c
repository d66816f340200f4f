/*-------------------------------------------------------------------------
 *
 * kernels.c
 *	  Scalar reference kernels, run-time dispatch from the CPU, and the SQL
 *	  functions that expose and check the kernels.
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

const FrtKernels *frt_kernels = &frt_kernels_scalar;

/* Reference squared L2 distance, accumulated in double. */
static float
ScalarL2sq(const float *a, const float *b, int n)
{
	double		s = 0.0;

	for (int i = 0; i < n; i++)
	{
		double		d = (double) a[i] - (double) b[i];

		s += d * d;
	}
	return (float) s;
}

/* Reference inner product, accumulated in double. */
static float
ScalarDot(const float *a, const float *b, int n)
{
	double		s = 0.0;

	for (int i = 0; i < n; i++)
		s += (double) a[i] * (double) b[i];
	return (float) s;
}

/* Reference inner product and squared norms. */
static void
ScalarDotNorms(const float *a, const float *b, int n,
			   float *dot, float *na, float *nb)
{
	double		sd = 0.0,
				sa = 0.0,
				sb = 0.0;

	for (int i = 0; i < n; i++)
	{
		sd += (double) a[i] * (double) b[i];
		sa += (double) a[i] * (double) a[i];
		sb += (double) b[i] * (double) b[i];
	}
	*dot = (float) sd;
	*na = (float) sa;
	*nb = (float) sb;
}

/* Reference batch inner product. */
static void
ScalarDotBatch(const float *probe, const float *rows, int n,
			   size_t stride, int count, float *out)
{
	for (int r = 0; r < count; r++)
		out[r] = ScalarDot(probe, rows + (size_t) r * stride, n);
}

/* Reference batch squared L2. */
static void
ScalarL2sqBatch(const float *probe, const float *rows, int n,
				size_t stride, int count, float *out)
{
	for (int r = 0; r < count; r++)
		out[r] = ScalarL2sq(probe, rows + (size_t) r * stride, n);
}

/* Reference int8-code inner product. */
static float
ScalarDotI8(const int8_t *code, const float *probe, int n)
{
	double		s = 0.0;

	for (int i = 0; i < n; i++)
		s += (double) code[i] * (double) probe[i];
	return (float) s;
}

/* Reference exact int8 x int16 inner product. */
static int32_t
ScalarDotI8I16(const int8_t *code, const int16_t *probe, int n)
{
	int64		s = 0;

	for (int i = 0; i < n; i++)
		s += (int32) code[i] * probe[i];
	return (int32_t) s;
}

const FrtKernels frt_kernels_scalar = {
	.name = "scalar",
	.l2sq = ScalarL2sq,
	.dot = ScalarDot,
	.dot_norms = ScalarDotNorms,
	.dot_batch = ScalarDotBatch,
	.l2sq_batch = ScalarL2sqBatch,
	.dot_i8 = ScalarDotI8,
	.dot_i8i16 = ScalarDotI8I16,
};

/* Whether this CPU (and OS) can run the named instruction set. */
static bool
FrtCpuSupports(const char *isa)
{
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
	__builtin_cpu_init();
	if (strcmp(isa, "sse4") == 0)
		return __builtin_cpu_supports("sse4.1");
	if (strcmp(isa, "avx2") == 0)
		return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
	if (strcmp(isa, "avx512") == 0)
		return __builtin_cpu_supports("avx512f") &&
			__builtin_cpu_supports("avx512bw") &&
			__builtin_cpu_supports("avx512vl") &&
			__builtin_cpu_supports("avx512dq");
	return false;
#elif defined(__aarch64__)
	return strcmp(isa, "neon") == 0;
#else
	return false;
#endif
}

/*
 * List the kernel tables usable on this CPU, best last.  Returns the count.
 */
int
FrtKernelsList(const FrtKernels **out, int max)
{
	const FrtKernels *cand[5];
	int			n = 0;

	cand[0] = &frt_kernels_scalar;
	cand[1] = FrtKernelsSse4();
	cand[2] = FrtKernelsNeon();
	cand[3] = FrtKernelsAvx2();
	cand[4] = FrtKernelsAvx512();
	for (int i = 0; i < 5 && n < max; i++)
	{
		if (cand[i] == NULL)
			continue;
		if (i > 0 && !FrtCpuSupports(cand[i]->name))
			continue;
		out[n++] = cand[i];
	}
	return n;
}

/* Choose the best kernels for this CPU; called once from _PG_init. */
void
FrtKernelsInit(void)
{
	const FrtKernels *list[8];
	int			n = FrtKernelsList(list, 8);

	frt_kernels = list[n - 1];
}

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
				worst[0] = CheckRelErr(K->l2sq(a, b, n), ScalarL2sq(a, b, n), sl2);
				worst[1] = CheckRelErr(K->dot(a, b, n), ScalarDot(a, b, n), sabs);
				K->dot_norms(a, b, n, &d, &na, &nb);
				ScalarDotNorms(a, b, n, &rd, &rna, &rnb);
				worst[2] = Max(CheckRelErr(d, rd, sabs),
							   Max(CheckRelErr(na, rna, sa2), CheckRelErr(nb, rnb, sb2)));
				/* batches: four rows of a, contiguous, against b */
				K->dot_batch(b, a, n, n, 4, out);
				ScalarDotBatch(b, a, n, n, 4, ref);
				for (int r = 0; r < 4; r++)
				{
					double		sc = 0.0;

					for (int i = 0; i < n; i++)
						sc += fabs((double) a[r * n + i] * b[i]);
					worst[3] = Max(worst[3], CheckRelErr(out[r], ref[r], sc));
				}
				K->l2sq_batch(b, a, n, n, 4, out);
				ScalarL2sqBatch(b, a, n, n, 4, ref);
				for (int r = 0; r < 4; r++)
					worst[4] = Max(worst[4], CheckRelErr(out[r], ref[r], fabs(ref[r])));
				worst[5] = CheckRelErr(K->dot_i8(code, b, n), ScalarDotI8(code, b, n), si8);
				/* the exact integer kernel: any difference is an error (INFINITY) */
				{
					int			qmax = Min(PG_INT16_MAX,
										   (int) (PG_INT32_MAX / ((int64) n * PG_INT8_MAX)) - 1);

					for (int i = 0; i < n; i++)
						q16[i] = (int16_t) ((int) (CheckRand(&state) % (2 * qmax + 1)) - qmax);
					worst[6] = (K->dot_i8i16(code, q16, n) ==
								ScalarDotI8I16(code, q16, n)) ? 0.0 : INFINITY;
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

/*-------------------------------------------------------------------------
 *
 * kernels.c
 *	  Scalar reference kernels and run-time dispatch from the CPU, shared by
 *	  the PostgreSQL extension and the SQLite edition (PostgreSQL-free).
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>

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
	int64_t		s = 0;

	for (int i = 0; i < n; i++)
		s += (int32_t) code[i] * probe[i];
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

/* Choose the best kernels for this CPU; called once when a library loads. */
void
FrtKernelsInit(void)
{
	const FrtKernels *list[8];
	int			n = FrtKernelsList(list, 8);

	frt_kernels = list[n - 1];
}


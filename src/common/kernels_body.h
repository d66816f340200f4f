/*-------------------------------------------------------------------------
 *
 * kernels_body.h
 *	  Distance kernels written once with SIMDe intrinsics.
 *
 * Included by one .c file per instruction set, each compiled with its own
 * target flags.  The including file defines FRT_ISA (name suffix), FRT_ISA_NAME
 * and FRT_WIDTH (8 = 256-bit vectors, 16 = 512-bit vectors).  Without native
 * support SIMDe lowers the same code to narrower instructions (NEON on ARM).
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include "frt_kernels.h"

#define FRT_CAT2(a, b) a##_##b
#define FRT_CAT(a, b) FRT_CAT2(a, b)
#define FN(name) FRT_CAT(name, FRT_ISA)

#include <simde/x86/avx2.h>
#include <simde/x86/fma.h>

/* Horizontal sum of eight lanes. */
static inline float
FN(hsum8) (simde__m256 v)
{
	simde__m128 lo = simde_mm256_castps256_ps128(v);
	simde__m128 hi = simde_mm256_extractf128_ps(v, 1);
	simde__m128 s = simde_mm_add_ps(lo, hi);

	s = simde_mm_add_ps(s, simde_mm_movehl_ps(s, s));
	s = simde_mm_add_ss(s, simde_mm_shuffle_ps(s, s, 0x55));
	return simde_mm_cvtss_f32(s);
}

#ifdef FRT_NARROW_I8
/* Eight int8 codes widened to float lanes, in two 128-bit halves (SSE4.1). */
static inline simde__m256
FN(i8x8) (const int8_t *p)
{
	simde__m128i b = simde_mm_loadl_epi64((const void *) p);
	simde__m128 lo = simde_mm_cvtepi32_ps(simde_mm_cvtepi8_epi32(b));
	simde__m128 hi = simde_mm_cvtepi32_ps(simde_mm_cvtepi8_epi32(simde_mm_srli_si128(b, 4)));

	return simde_mm256_insertf128_ps(simde_mm256_castps128_ps256(lo), hi, 1);
}
#define I8X8(p)	FN(i8x8)((const int8_t *) (p))
#else
/* Eight int8 codes widened to float lanes. */
#define I8X8(p)	simde_mm256_cvtepi32_ps(simde_mm256_cvtepi8_epi32(simde_mm_loadl_epi64((const void *) (p))))
#endif

#if FRT_WIDTH == 16
#include <simde/x86/avx512.h>
typedef simde__m512 vfloat;
#define V_ZERO()			simde_mm512_setzero_ps()
#define V_LOAD(p)			simde_mm512_loadu_ps(p)
#define V_SUB(a, b)			simde_mm512_sub_ps(a, b)
#define V_ADD(a, b)			simde_mm512_add_ps(a, b)
#define V_FMA(a, b, c)		simde_mm512_fmadd_ps(a, b, c)

/* Horizontal sum of sixteen lanes. */
static inline float
FN(hsum16) (simde__m512 v)
{
	simde__m256 lo = simde_mm512_castps512_ps256(v);
	simde__m256 hi = simde_mm256_castpd_ps(simde_mm512_extractf64x4_pd(simde_mm512_castps_pd(v), 1));

	return FN(hsum8) (simde_mm256_add_ps(lo, hi));
}
#define V_SUM(v)			FN(hsum16)(v)
#define V_LOAD_I8(p)		simde_mm512_insertf32x8(simde_mm512_castps256_ps512(I8X8(p)), I8X8((p) + 8), 1)
typedef simde__m512i vint;
#define VI_ZERO()			simde_mm512_setzero_si512()
#define VI_ADD32(a, b)		simde_mm512_add_epi32(a, b)
/* 32 int8 codes widened to int16, times 32 int16 probe values, paired into int32 */
#define VI_MADD_I8I16(c, q)	simde_mm512_madd_epi16(simde_mm512_cvtepi8_epi16(simde_mm256_loadu_si256((const void *) (c))), \
											   simde_mm512_loadu_si512((const void *) (q)))
#define VI_TO128(v)			FN(i32to128)(v)

/* Sum sixteen int32 lanes into four. */
static inline simde__m128i
FN(i32to128) (simde__m512i v)
{
	simde__m256i a = simde_mm256_add_epi32(simde_mm512_castsi512_si256(v),
										   simde_mm512_extracti64x4_epi64(v, 1));

	return simde_mm_add_epi32(simde_mm256_castsi256_si128(a), simde_mm256_extracti128_si256(a, 1));
}
#else
typedef simde__m256 vfloat;
#define V_ZERO()			simde_mm256_setzero_ps()
#define V_LOAD(p)			simde_mm256_loadu_ps(p)
#define V_SUB(a, b)			simde_mm256_sub_ps(a, b)
#define V_ADD(a, b)			simde_mm256_add_ps(a, b)
#define V_FMA(a, b, c)		simde_mm256_fmadd_ps(a, b, c)
#define V_SUM(v)			FN(hsum8)(v)
#define V_LOAD_I8(p)		I8X8(p)
typedef simde__m256i vint;
#define VI_ZERO()			simde_mm256_setzero_si256()
#define VI_ADD32(a, b)		simde_mm256_add_epi32(a, b)
/* 16 int8 codes widened to int16, times 16 int16 probe values, paired into int32 */
#define VI_MADD_I8I16(c, q)	simde_mm256_madd_epi16(simde_mm256_cvtepi8_epi16(simde_mm_loadu_si128((const void *) (c))), \
											   simde_mm256_loadu_si256((const void *) (q)))
#define VI_TO128(v)			simde_mm_add_epi32(simde_mm256_castsi256_si128(v), simde_mm256_extracti128_si256(v, 1))
#endif

#define W FRT_WIDTH

/* Squared Euclidean distance of two n-vectors. */
static float
FN(l2sq) (const float *a, const float *b, int n)
{
	vfloat		acc0 = V_ZERO(),
				acc1 = V_ZERO();
	float		s;
	int			i = 0;

	for (; i + 2 * W <= n; i += 2 * W)
	{
		vfloat		d0 = V_SUB(V_LOAD(a + i), V_LOAD(b + i));
		vfloat		d1 = V_SUB(V_LOAD(a + i + W), V_LOAD(b + i + W));

		acc0 = V_FMA(d0, d0, acc0);
		acc1 = V_FMA(d1, d1, acc1);
	}
	for (; i + W <= n; i += W)
	{
		vfloat		d0 = V_SUB(V_LOAD(a + i), V_LOAD(b + i));

		acc0 = V_FMA(d0, d0, acc0);
	}
	s = V_SUM(V_ADD(acc0, acc1));
	for (; i < n; i++)
	{
		float		d = a[i] - b[i];

		s += d * d;
	}
	return s;
}

/* Inner product of two n-vectors. */
static float
FN(dot) (const float *a, const float *b, int n)
{
	vfloat		acc0 = V_ZERO(),
				acc1 = V_ZERO();
	float		s;
	int			i = 0;

	for (; i + 2 * W <= n; i += 2 * W)
	{
		acc0 = V_FMA(V_LOAD(a + i), V_LOAD(b + i), acc0);
		acc1 = V_FMA(V_LOAD(a + i + W), V_LOAD(b + i + W), acc1);
	}
	for (; i + W <= n; i += W)
		acc0 = V_FMA(V_LOAD(a + i), V_LOAD(b + i), acc0);
	s = V_SUM(V_ADD(acc0, acc1));
	for (; i < n; i++)
		s += a[i] * b[i];
	return s;
}

/* Inner product and both squared norms in one pass (for cosine). */
static void
FN(dot_norms) (const float *a, const float *b, int n,
			   float *dot, float *na, float *nb)
{
	vfloat		vd = V_ZERO(),
				va = V_ZERO(),
				vb = V_ZERO();
	float		sd,
				sa,
				sb;
	int			i = 0;

	for (; i + W <= n; i += W)
	{
		vfloat		x = V_LOAD(a + i);
		vfloat		y = V_LOAD(b + i);

		vd = V_FMA(x, y, vd);
		va = V_FMA(x, x, va);
		vb = V_FMA(y, y, vb);
	}
	sd = V_SUM(vd);
	sa = V_SUM(va);
	sb = V_SUM(vb);
	for (; i < n; i++)
	{
		sd += a[i] * b[i];
		sa += a[i] * a[i];
		sb += b[i] * b[i];
	}
	*dot = sd;
	*na = sa;
	*nb = sb;
}

/* Inner products of one probe against 'count' rows 'stride' floats apart. */
static void
FN(dot_batch) (const float *probe, const float *rows, int n,
			   size_t stride, int count, float *out)
{
	for (int r = 0; r < count; r++)
		out[r] = FN(dot) (probe, rows + (size_t) r * stride, n);
}

/* Squared L2 distances of one probe against 'count' rows. */
static void
FN(l2sq_batch) (const float *probe, const float *rows, int n,
				size_t stride, int count, float *out)
{
	for (int r = 0; r < count; r++)
		out[r] = FN(l2sq) (probe, rows + (size_t) r * stride, n);
}

/* Inner product of an int8 code with a float probe. */
static float
FN(dot_i8) (const int8_t *code, const float *probe, int n)
{
	vfloat		acc0 = V_ZERO(),
				acc1 = V_ZERO();
	float		s;
	int			i = 0;

	for (; i + 2 * W <= n; i += 2 * W)
	{
		acc0 = V_FMA(V_LOAD_I8(code + i), V_LOAD(probe + i), acc0);
		acc1 = V_FMA(V_LOAD_I8(code + i + W), V_LOAD(probe + i + W), acc1);
	}
	for (; i + W <= n; i += W)
		acc0 = V_FMA(V_LOAD_I8(code + i), V_LOAD(probe + i), acc0);
	s = V_SUM(V_ADD(acc0, acc1));
	for (; i < n; i++)
		s += (float) code[i] * probe[i];
	return s;
}

/*
 * Exact integer inner product of an int8 code with an int16 probe: codes are
 * widened to int16 and multiplied pairwise into int32 lanes (madd).  Four
 * accumulators keep four madds in flight (one accumulator made every step
 * wait for the previous add).  The caller keeps n * 127 * max|probe| below
 * 2^31, so nothing overflows.
 */
static int32_t
FN(dot_i8i16) (const int8_t *code, const int16_t *probe, int n)
{
	vint		acc0 = VI_ZERO(),
				acc1 = VI_ZERO(),
				acc2 = VI_ZERO(),
				acc3 = VI_ZERO();
	int32_t		s;
	int			i = 0;
	simde__m128i h;

	/* one step covers 2 * W dimensions (W int32 lanes, each a pair) */
	for (; i + 8 * W <= n; i += 8 * W)
	{
		acc0 = VI_ADD32(acc0, VI_MADD_I8I16(code + i, probe + i));
		acc1 = VI_ADD32(acc1, VI_MADD_I8I16(code + i + 2 * W, probe + i + 2 * W));
		acc2 = VI_ADD32(acc2, VI_MADD_I8I16(code + i + 4 * W, probe + i + 4 * W));
		acc3 = VI_ADD32(acc3, VI_MADD_I8I16(code + i + 6 * W, probe + i + 6 * W));
	}
	for (; i + 2 * W <= n; i += 2 * W)
		acc0 = VI_ADD32(acc0, VI_MADD_I8I16(code + i, probe + i));
	acc0 = VI_ADD32(VI_ADD32(acc0, acc1), VI_ADD32(acc2, acc3));
	h = VI_TO128(acc0);
	h = simde_mm_add_epi32(h, simde_mm_shuffle_epi32(h, 0x4E));
	h = simde_mm_add_epi32(h, simde_mm_shuffle_epi32(h, 0xB1));
	s = simde_mm_cvtsi128_si32(h);
	for (; i < n; i++)
		s += (int32_t) code[i] * probe[i];
	return s;
}

static const FrtKernels FN(table) = {
	.name = FRT_ISA_NAME,
	.l2sq = FN(l2sq),
	.dot = FN(dot),
	.dot_norms = FN(dot_norms),
	.dot_batch = FN(dot_batch),
	.l2sq_batch = FN(l2sq_batch),
	.dot_i8 = FN(dot_i8),
	.dot_i8i16 = FN(dot_i8i16),
};

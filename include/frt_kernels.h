/*-------------------------------------------------------------------------
 *
 * frt_kernels.h
 *	  Distance kernels: one source (kernels_body.h) compiled per instruction
 *	  set, and a dispatch table filled once at load time from the CPU.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FRT_KERNELS_H
#define FRT_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* The kernels of one instruction set. */
typedef struct FrtKernels
{
	const char *name;			/* "scalar", "sse4", "avx2", "avx512", "neon" */
	/* squared L2 distance */
	float		(*l2sq) (const float *a, const float *b, int n);
	/* inner product */
	float		(*dot) (const float *a, const float *b, int n);
	/* inner product and both squared norms, one pass (cosine) */
	void		(*dot_norms) (const float *a, const float *b, int n,
							  float *dot, float *na, float *nb);
	/* batch: dot of one probe against 'count' rows laid out 'stride' floats apart */
	void		(*dot_batch) (const float *probe, const float *rows, int n,
							  size_t stride, int count, float *out);
	/* batch: squared L2 of one probe against 'count' rows */
	void		(*l2sq_batch) (const float *probe, const float *rows, int n,
							   size_t stride, int count, float *out);
	/* int8 code (per-row scaled) dot a float probe: sum(code[i] * probe[i]) */
	float		(*dot_i8) (const int8_t *code, const float *probe, int n);

	/*
	 * exact integer sum(code[i] * probe[i]) of an int8 code and an int16
	 * probe; the caller keeps n * 127 * max|probe[i]| below 2^31 (frt_ivf)
	 */
	int32_t		(*dot_i8i16) (const int8_t *code, const int16_t *probe, int n);
} FrtKernels;

/* The kernels chosen for this CPU (set by FrtKernelsInit). */
extern const FrtKernels *frt_kernels;

extern void FrtKernelsInit(void);
extern int	FrtKernelsList(const FrtKernels **out, int max);

/* Per-ISA tables, NULL when the ISA was not compiled in. */
extern const FrtKernels frt_kernels_scalar;
extern const FrtKernels *FrtKernelsSse4(void);
extern const FrtKernels *FrtKernelsAvx2(void);
extern const FrtKernels *FrtKernelsAvx512(void);
extern const FrtKernels *FrtKernelsNeon(void);

#endif							/* FRT_KERNELS_H */

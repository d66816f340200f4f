/*-------------------------------------------------------------------------
 *
 * kernelbench.c
 *	  Distances per second of the frt kernels, per instruction set, against
 *	  the scalar reference and against the machine's memory bandwidth.
 *
 * Links the kernel objects built by the top-level make (src/kernels, *.o) and
 * measures every kernel table FrtKernelsList reports usable on this CPU:
 *	  in-cache:  one probe against a few rows that stay in L1
 *	  streaming: one probe against every row of an N x D array (default
 *				 100,000 x 512 float32 = 205 MB, int8 codes 51 MB), i.e. one
 *				 exhaustive scan, which is bounded by memory bandwidth
 * and the bandwidth itself with a plain streaming read of the same array.
 *
 *	  bench/kernelbench [--rows N] [--dim D] [--seconds S]
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frt_kernels.h"

#define KB_MAX_ISA		8
#define KB_CACHE_ROWS	8		/* rows of the in-cache test (16 KB at 512 dims) */
#define KB_BATCH		64		/* rows per call of the batch kernels */

/* What one measurement runs. */
typedef enum KbFunc
{
	KB_DOT,
	KB_L2SQ,
	KB_DOT_NORMS,
	KB_DOT_BATCH,
	KB_L2SQ_BATCH,
	KB_DOT_I8,
	KB_DOT_I8I16,
	KB_NFUNC
} KbFunc;

static const char *const kb_func_names[KB_NFUNC] = {
	"dot", "l2sq", "dot_norms (cosine)", "dot_batch", "l2sq_batch", "dot_i8",
	"dot_i8i16 (exact int)"
};

/* Whether kernel f reads int8 codes (1 byte per dimension) rather than floats. */
#define KB_IS_CODE(f)	((f) == KB_DOT_I8 || (f) == KB_DOT_I8I16)

static volatile float kb_sink;

/* Seconds on the monotonic clock. */
static double
KbNow(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The int16 probe of dot_i8i16 (frt_ivf's quantized probe). */
static int16_t *kb_probe16;

/* One pass of kernel f of K over 'rows' rows (float or int8), probe p. */
static void
KbPass(const FrtKernels *K, KbFunc f, const float *p, const float *rows,
	   const int8_t *codes, int dim, size_t nrows)
{
	float		acc = 0.0f;
	int32_t		iacc = 0;
	float		out[KB_BATCH];
	float		d,
				na,
				nb;

	switch (f)
	{
		case KB_DOT:
			for (size_t r = 0; r < nrows; r++)
				acc += K->dot(p, rows + r * dim, dim);
			break;
		case KB_L2SQ:
			for (size_t r = 0; r < nrows; r++)
				acc += K->l2sq(p, rows + r * dim, dim);
			break;
		case KB_DOT_NORMS:
			for (size_t r = 0; r < nrows; r++)
			{
				K->dot_norms(p, rows + r * dim, dim, &d, &na, &nb);
				acc += d + na + nb;
			}
			break;
		case KB_DOT_BATCH:
		case KB_L2SQ_BATCH:
			for (size_t r = 0; r < nrows; r += KB_BATCH)
			{
				int			cnt = (nrows - r < KB_BATCH) ? (int) (nrows - r) : KB_BATCH;

				if (f == KB_DOT_BATCH)
					K->dot_batch(p, rows + r * dim, dim, dim, cnt, out);
				else
					K->l2sq_batch(p, rows + r * dim, dim, dim, cnt, out);
				acc += out[0] + out[cnt - 1];
			}
			break;
		case KB_DOT_I8:
			for (size_t r = 0; r < nrows; r++)
				acc += K->dot_i8(codes + r * dim, p, dim);
			break;
		case KB_DOT_I8I16:
			for (size_t r = 0; r < nrows; r++)
				iacc += K->dot_i8i16(codes + r * dim, kb_probe16, dim);
			acc = (float) iacc;
			break;
		default:
			break;
	}
	kb_sink = acc;
}

/*
 * Distances per second of kernel f: repeat passes over 'nrows' rows until
 * 'seconds' have gone by, best of three such runs.
 */
static double
KbMeasure(const FrtKernels *K, KbFunc f, const float *p, const float *rows,
		  const int8_t *codes, int dim, size_t nrows, double seconds)
{
	double		best = 0.0;

	KbPass(K, f, p, rows, codes, dim, nrows);	/* warm up */
	for (int run = 0; run < 3; run++)
	{
		double		t0 = KbNow(),
					t;
		size_t		done = 0;

		do
		{
			KbPass(K, f, p, rows, codes, dim, nrows);
			done += nrows;
			t = KbNow() - t0;
		} while (t < seconds / 3);
		if (done / t > best)
			best = done / t;
	}
	return best;
}

/* Bytes per second of a plain streaming read of 'bytes' bytes, best of three. */
static double
KbBandwidth(const void *buf, size_t bytes, double seconds)
{
	const uint64_t *w = buf;
	size_t		nw = bytes / sizeof(uint64_t);
	double		best = 0.0;

	for (int run = 0; run < 4; run++)
	{
		double		t0 = KbNow(),
					t;
		size_t		done = 0;

		do
		{
			uint64_t	s[8] = {0};

			for (size_t i = 0; i + 8 <= nw; i += 8)
				for (int j = 0; j < 8; j++)
					s[j] += w[i + j];
			kb_sink = (float) (s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7]);
			done += nw * sizeof(uint64_t);
			t = KbNow() - t0;
		} while (t < seconds / 4);
		if (run > 0 && done / t > best)	/* run 0 warms up */
			best = done / t;
	}
	return best;
}

/* 64-byte aligned allocation, or NULL. */
static void *
KbAlloc(size_t bytes)
{
	void	   *p = NULL;

	if (posix_memalign(&p, 64, (bytes + 63) / 64 * 64) != 0)
		return NULL;
	return p;
}

/* Fill with deterministic values in [-1, 1). */
static void
KbFill(float *v, size_t n, uint32_t seed)
{
	uint32_t	x = seed | 1;

	for (size_t i = 0; i < n; i++)
	{
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		v[i] = (float) (x % 20001) / 10000.0f - 1.0f;
	}
}

/* Entry point: parse options, run and print the tables. */
int
main(int argc, char **argv)
{
	size_t		nrows = 100000;
	int			dim = 512;
	double		seconds = 0.6;
	const FrtKernels *list[KB_MAX_ISA];
	int			nk;
	float	   *probe,
			   *big,
			   *small;
	int8_t	   *codes,
			   *small_codes;
	double		bw,
				best_bw = 0.0,
				floor_bw,
				hot[KB_MAX_ISA][KB_NFUNC],
				cold[KB_MAX_ISA][KB_NFUNC];
	size_t		fbytes,
				ibytes;

	for (int i = 1; i + 1 < argc; i += 2)
	{
		if (strcmp(argv[i], "--rows") == 0)
			nrows = strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--dim") == 0)
			dim = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--seconds") == 0)
			seconds = atof(argv[i + 1]);
		else
			break;
	}
	if ((argc - 1) % 2 != 0 || nrows < KB_BATCH || dim < 1 || dim > 4096 || seconds <= 0)
	{
		fprintf(stderr, "usage: %s [--rows N] [--dim D] [--seconds S]\n", argv[0]);
		return 2;
	}

	fbytes = nrows * dim * sizeof(float);
	ibytes = nrows * dim;
	probe = KbAlloc(4096 * sizeof(float));
	small = KbAlloc(KB_CACHE_ROWS * 4096 * sizeof(float));
	small_codes = KbAlloc(KB_CACHE_ROWS * 4096);
	big = KbAlloc(fbytes);
	codes = KbAlloc(ibytes);
	kb_probe16 = KbAlloc(4096 * sizeof(int16_t));
	if (!probe || !small || !small_codes || !big || !codes || !kb_probe16)
	{
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	KbFill(probe, dim, 1);
	KbFill(small, (size_t) KB_CACHE_ROWS * dim, 2);
	KbFill(big, nrows * dim, 3);
	for (size_t i = 0; i < ibytes; i++)
		codes[i] = (int8_t) ((int) (big[i] * 127.0f));
	for (size_t i = 0; i < (size_t) KB_CACHE_ROWS * dim; i++)
		small_codes[i] = codes[i];
	/* int16 probe with n * 127 * max|q| < 2^31, as frt_ivf quantizes it */
	for (int i = 0; i < dim; i++)
		kb_probe16[i] = (int16_t) (probe[i] * 16383.0f);

	bw = KbBandwidth(big, fbytes, seconds * 2);
	nk = FrtKernelsList(list, KB_MAX_ISA);
	for (int k = 0; k < nk; k++)
		for (int f = 0; f < KB_NFUNC; f++)
		{
			hot[k][f] = KbMeasure(list[k], f, probe, small, small_codes, dim,
								  KB_CACHE_ROWS, seconds);
			cold[k][f] = KbMeasure(list[k], f, probe, big, codes, dim, nrows, seconds);
			if (cold[k][f] * dim * (KB_IS_CODE(f) ? 1 : sizeof(float)) > best_bw)
				best_bw = cold[k][f] * dim * (KB_IS_CODE(f) ? 1 : sizeof(float));
		}
	floor_bw = (best_bw > bw) ? best_bw : bw;

	printf("kernelbench: dim %d, streaming array %zu rows (%.1f MB float32, %.1f MB int8)\n",
		   dim, nrows, fbytes / 1e6, ibytes / 1e6);
	printf("memory bandwidth: plain streaming read %.2f GB/s; fastest streaming kernel %.2f GB/s\n",
		   bw / 1e9, best_bw / 1e9);
	printf("  floor for one scan at %.2f GB/s: float32 %.2f ms (%.1f M rows/s), int8 codes %.2f ms (%.1f M rows/s)\n\n",
		   floor_bw / 1e9, fbytes / floor_bw * 1e3, nrows / (fbytes / floor_bw) / 1e6,
		   ibytes / floor_bw * 1e3, nrows / (ibytes / floor_bw) / 1e6);
	printf("%-8s %-22s %12s %7s %12s %7s %8s %9s %8s\n",
		   "isa", "function", "in-cache M/s", "x scal", "stream M/s", "x scal",
		   "GB/s", "ms/scan", "x floor");
	for (int k = 0; k < nk; k++)
		for (int f = 0; f < KB_NFUNC; f++)
		{
			double		floor_s = (KB_IS_CODE(f) ? ibytes : fbytes) / floor_bw;
			double		scan_s = nrows / cold[k][f];

			printf("%-8s %-22s %12.2f %7.2f %12.2f %7.2f %8.2f %9.2f %8.2f\n",
				   list[k]->name, kb_func_names[f], hot[k][f] / 1e6, hot[k][f] / hot[0][f],
				   cold[k][f] / 1e6, cold[k][f] / cold[0][f],
				   cold[k][f] * dim * (KB_IS_CODE(f) ? 1 : sizeof(float)) / 1e9,
				   scan_s * 1e3, scan_s / floor_s);
		}
	printf("\nM/s = million %d-dim distances per second, one core; x scal = ratio to the\n"
		   "scalar reference; GB/s = rows read per second while streaming; ms/scan = one\n"
		   "probe against all %zu rows; x floor = that time over the floor (the array's\n"
		   "bytes at the higher bandwidth above; 1.00 = as fast as reading the array).\n", dim, nrows);
	return 0;
}

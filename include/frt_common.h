/*-------------------------------------------------------------------------
 *
 * frt_common.h
 *	  Limits and metrics shared by every build of frt: the PostgreSQL
 *	  extensions and the SQLite extension.  PostgreSQL-free: src/common/ and
 *	  src/chain/ include only this, the C library and OpenSSL.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FRT_COMMON_H
#define FRT_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- embeddings ---- */
#define FRT_MAX_DIM				4096	/* largest dimension a value may have */
#define FRT_MIN_DIM				1		/* smallest dimension */
#define FRT_TEXT_MAX_LEN		(FRT_MAX_DIM * 32)	/* longest text form read */

/* ---- metrics: also frt_ivf's operator-class strategy numbers ---- */
#define FRT_METRIC_L2			1	/* Euclidean distance, <-> */
#define FRT_METRIC_IP			2	/* negative inner product, <#> */
#define FRT_METRIC_COSINE		3	/* cosine distance, <=> */

/* ---- quantization and the error bound (src/common/quant.c) ---- */
#define FRT_QUANT_CODE_MAX		127		/* row codes lie in [-this, this] */
#define FRT_QUANT_PROBE_QMAX	16383	/* probe quantized to int16 in [-this, this] */
#define FRT_QUANT_FLOAT_SLACK	4.0		/* bound slack in units of dim * FLT_EPSILON */
#define FRT_QUANT_NORM_MARGIN	1e-9	/* relative margin on residual and probe error norms */
#define FRT_QUANT_IP_SLACK		1e-12	/* relative slack on the code-probe product */

#endif							/* FRT_COMMON_H */

/*-------------------------------------------------------------------------
 *
 * kernels_neon.c
 *	  The distance kernels compiled for neon (target flags set in mk/frt.mk and mk/sqlite.mk).
 *
 *-------------------------------------------------------------------------
 */
#include "frt_kernels.h"

#if defined(__aarch64__)
#define FRT_ISA neon
#define FRT_ISA_NAME "neon"
#define FRT_WIDTH 8
#include "kernels_body.h"

/* The neon kernel table. */
const FrtKernels *
FrtKernelsNeon(void)
{
	return &table_neon;
}
#else
/* neon is not compiled on this architecture. */
const FrtKernels *
FrtKernelsNeon(void)
{
	return NULL;
}
#endif

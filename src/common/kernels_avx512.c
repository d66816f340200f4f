/*-------------------------------------------------------------------------
 *
 * kernels_avx512.c
 *	  The distance kernels compiled for avx512 (target flags set in mk/frt.mk and mk/sqlite.mk).
 *
 *-------------------------------------------------------------------------
 */
#include "frt_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#define FRT_ISA avx512
#define FRT_ISA_NAME "avx512"
#define FRT_WIDTH 16
#include "kernels_body.h"

/* The avx512 kernel table. */
const FrtKernels *
FrtKernelsAvx512(void)
{
	return &table_avx512;
}
#else
/* avx512 is not compiled on this architecture. */
const FrtKernels *
FrtKernelsAvx512(void)
{
	return NULL;
}
#endif

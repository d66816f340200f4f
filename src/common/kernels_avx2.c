/*-------------------------------------------------------------------------
 *
 * kernels_avx2.c
 *	  The distance kernels compiled for avx2 (target flags set in mk/frt.mk and mk/sqlite.mk).
 *
 *-------------------------------------------------------------------------
 */
#include "frt_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#define FRT_ISA avx2
#define FRT_ISA_NAME "avx2"
#define FRT_WIDTH 8
#include "kernels_body.h"

/* The avx2 kernel table. */
const FrtKernels *
FrtKernelsAvx2(void)
{
	return &table_avx2;
}
#else
/* avx2 is not compiled on this architecture. */
const FrtKernels *
FrtKernelsAvx2(void)
{
	return NULL;
}
#endif

/*-------------------------------------------------------------------------
 *
 * kernels_sse4.c
 *	  The distance kernels compiled for sse4 (target flags set in mk/frt.mk and mk/sqlite.mk).
 *
 *-------------------------------------------------------------------------
 */
#include "frt_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#define FRT_ISA sse4
#define FRT_ISA_NAME "sse4"
#define FRT_WIDTH 8
#define FRT_NARROW_I8 1	/* 256-bit int8 widening is slow when emulated */
#include "kernels_body.h"

/* The sse4 kernel table. */
const FrtKernels *
FrtKernelsSse4(void)
{
	return &table_sse4;
}
#else
/* sse4 is not compiled on this architecture. */
const FrtKernels *
FrtKernelsSse4(void)
{
	return NULL;
}
#endif

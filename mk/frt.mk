# frt, the matching core: the face_embedding type, the SIMD kernels, the
# distance operators and the frt_ivf index.  No preloading, no roles, no
# background workers.  Built by the top-level Makefile.

EXTENSION = frt
LAYERS = common type kernels operators index
REGRESS_TESTS = type kernels ivf_basic ivf_filter ivf_threshold
REGRESS_EXTENSIONS = frt

include mk/common.mk
include mk/nls.mk

# Kernels: one source compiled once per instruction set; dispatch picks one
# at load time from the CPU, so a build with generic flags still uses
# AVX2/AVX-512 where present.
ifneq ($(filter x86_64 amd64 i686,$(shell uname -m)),)
ISA_AVX2 = -mavx2 -mfma
ISA_AVX512 = -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx2 -mfma
# SIMDe's 256-bit types passed by value in a 128-bit build draw GCC's ABI
# note (-Wpsabi) on every such function; it is informational, not a defect.
ISA_SSE4 = -msse4.1 -Wno-psabi
src/common/kernels_avx2.o: CFLAGS += $(ISA_AVX2)
src/common/kernels_avx512.o: CFLAGS += $(ISA_AVX512)
src/common/kernels_sse4.o: CFLAGS += $(ISA_SSE4)
src/common/kernels_avx2.bc: BITCODE_CFLAGS += $(ISA_AVX2)
src/common/kernels_avx512.bc: BITCODE_CFLAGS += $(ISA_AVX512)
src/common/kernels_sse4.bc: BITCODE_CFLAGS += $(ISA_SSE4)
endif
$(filter src/common/kernels_%.o,$(OBJS)): src/common/kernels_body.h

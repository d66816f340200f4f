# frt: PGXS build.  C sources are found by layer folder; the extension's SQL
# is kept split by layer and assembled here into one install script.

EXTENSION = frt
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" frt.control)
MODULE_big = frt

# Layers, in dependency order.  Each folder under src/ may hold C files and
# SQL fragments; the fragments are concatenated in this order (and in name
# order within a folder) to make frt--$(EXTVERSION).sql.
LAYERS = type kernels index audit governance jobs intrusion

SRCS = src/frt.c $(foreach l,$(LAYERS),$(sort $(wildcard src/$(l)/*.c)))
OBJS = $(SRCS:.c=.o)
SQL_PARTS = $(foreach l,$(LAYERS),$(sort $(wildcard src/$(l)/*.sql)))

DATA_built = $(EXTENSION)--$(EXTVERSION).sql
DATA = $(wildcard sql/upgrade/$(EXTENSION)--*--*.sql)

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=. --load-extension=$(EXTENSION)
PROVE_TESTS = test/t/*.pl
PROVE_FLAGS = -I test/lib

PG_CONFIG ?= pg_config
PG_CPPFLAGS = -I$(srcdir)/include -I$(libpq_srcdir) -std=gnu99 -Wall -Wmissing-prototypes
SHLIB_LINK = -lcrypto -lm
# libpq: a standby forwards audit records to the primary (src/audit/audit_relay.c)
SHLIB_LINK_INTERNAL = $(libpq)

EXTRA_CLEAN = $(DATA_built) bench/facegen bench/kernelbench

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Kernels: one source compiled once per instruction set; dispatch picks one
# at load time from the CPU, so a build with generic flags still uses
# AVX2/AVX-512 where present.
ifneq ($(filter x86_64 amd64 i686,$(shell uname -m)),)
ISA_AVX2 = -mavx2 -mfma
ISA_AVX512 = -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx2 -mfma
ISA_SSE4 = -msse4.1 -Wno-psabi
src/kernels/kernels_avx2.o: CFLAGS += $(ISA_AVX2)
src/kernels/kernels_avx512.o: CFLAGS += $(ISA_AVX512)
src/kernels/kernels_sse4.o: CFLAGS += $(ISA_SSE4)
src/kernels/kernels_avx2.bc: BITCODE_CFLAGS += $(ISA_AVX2)
src/kernels/kernels_avx512.bc: BITCODE_CFLAGS += $(ISA_AVX512)
src/kernels/kernels_sse4.bc: BITCODE_CFLAGS += $(ISA_SSE4)
endif
$(filter src/kernels/kernels_%.o,$(OBJS)): src/kernels/kernels_body.h
$(OBJS): $(wildcard include/*.h)

$(EXTENSION)--$(EXTVERSION).sql: $(SQL_PARTS) frt.control Makefile
	@echo "-- frt $(EXTVERSION): assembled by make from src/*/*.sql; edit those, not this" > $@
	@printf '%s\n' '\echo Use "CREATE EXTENSION frt" to load this file. \quit' >> $@
	@for f in $(SQL_PARTS); do printf '\n-- ---- %s ----\n' "$$f" >> $@; cat "$$f" >> $@; done

.PHONY: prove_installcheck
prove_installcheck:
	rm -rf '$(CURDIR)'/tmp_check && $(MKDIR_P) '$(CURDIR)'/tmp_check && \
	TESTDIR='$(CURDIR)' PATH="$(bindir):$(CURDIR):$$PATH" PGPORT='6$(DEF_PGPORT)' \
	PG_REGRESS='$(top_builddir)/src/test/regress/pg_regress' \
	$(PROVE) $(PG_PROVE_FLAGS) $(PROVE_FLAGS) $(if $(PROVE_TESTS),$(PROVE_TESTS),t/*.pl)

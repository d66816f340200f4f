# The SQLite edition: frt_sqlite.so, a loadable SQLite extension built from
# sqlite/*.c and the PostgreSQL-free parts of the tree that the PostgreSQL
# extensions compile too (src/common/: kernels, quantization, the bound, the
# external forms; src/chain/: the audit record hash).  No PostgreSQL header
# is on the include path, which is what keeps those folders PostgreSQL-free.
#
#   make -f mk/sqlite.mk            build frt_sqlite.so
#   make -f mk/sqlite.mk check      the SQLite test suite (test/sqlite/run.sh)
#
# Needs libsqlite3-dev, sqlite3, libsimde-dev, libssl-dev (Debian 12).
# FRT_WERROR=-Werror turns warnings into errors (CI does).

CC ?= cc
BUILD = build/sqlite
SQ_SRCS = $(sort $(wildcard sqlite/*.c) $(wildcard src/common/*.c) $(wildcard src/chain/*.c))
SQ_OBJS = $(patsubst %.c,$(BUILD)/%.o,$(SQ_SRCS))
SQ_CPPFLAGS = -Iinclude -Isqlite
SQ_CFLAGS = -std=gnu99 -O2 -g -fPIC -fvisibility=hidden -fno-strict-aliasing \
	-Wall -Wextra $(FRT_WERROR)
SQ_LIBS = -lcrypto -lm
LIB = frt_sqlite.so

# Kernels: one source compiled per instruction set, as in mk/frt.mk.
ifneq ($(filter x86_64 amd64 i686,$(shell uname -m)),)
$(BUILD)/src/common/kernels_avx2.o: ISA = -mavx2 -mfma
$(BUILD)/src/common/kernels_avx512.o: ISA = -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx2 -mfma
$(BUILD)/src/common/kernels_sse4.o: ISA = -msse4.1 -Wno-psabi
endif

.PHONY: all check clean
all: $(LIB)

$(LIB): $(SQ_OBJS)
	$(CC) -shared -o $@ $^ $(SQ_LIBS)

$(BUILD)/%.o: %.c $(wildcard include/*.h) $(wildcard sqlite/*.h) src/common/kernels_body.h
	@mkdir -p $(dir $@)
	$(CC) $(SQ_CPPFLAGS) $(SQ_CFLAGS) $(ISA) -c -o $@ $<

check: $(LIB)
	bash test/sqlite/run.sh

clean:
	rm -rf $(BUILD) $(LIB) test/sqlite/results

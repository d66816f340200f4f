# Settings shared by the two extensions' makefiles (mk/frt.mk and
# mk/frt_governance.mk), included before PGXS.  Each makefile sets
# EXTENSION, LAYERS and REGRESS_TESTS, then includes this file.

# The makefiles live in mk/ but build from the top of the tree.
VPATH = .

# The version is the control file's default_version and nothing else: the
# install script is $(EXTENSION)--$(EXTVERSION).sql (docs/releasing.md).
EXTVERSION := $(shell sed -n "s/^[[:space:]]*default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" $(EXTENSION).control)
ifeq ($(EXTVERSION),)
$(error $(EXTENSION).control: no default_version = '...')
endif
MODULE_big = $(EXTENSION)

# C sources are found by layer folder; the SQL fragments of a layer are
# concatenated in LAYERS order (and name order within a folder) into the
# extension's install script, so a fragment may use what an earlier layer
# (or the extension it requires) defines.
SRCS = src/$(EXTENSION).c $(foreach l,$(LAYERS),$(sort $(wildcard src/$(l)/*.c)))
OBJS = $(SRCS:.c=.o)
# GENERATED_SQL: fragments make builds from data files (named like the
# others, src/<layer>/NN_name.sql, and concatenated in the same order).
SQL_PARTS = $(foreach l,$(LAYERS),$(sort $(wildcard src/$(l)/*.sql) $(filter src/$(l)/%,$(GENERATED_SQL))))

DATA_built = $(EXTENSION)--$(EXTVERSION).sql
# Upgrade scripts, sql/upgrade/<extension>--<from>--<to>.sql: all installed,
# so ALTER EXTENSION ... UPDATE finds a path from any earlier release.
DATA = $(wildcard sql/upgrade/$(EXTENSION)--*--*.sql)

REGRESS = $(REGRESS_TESTS)
REGRESS_OPTS = --inputdir=. --outputdir=regress/$(EXTENSION) \
	$(foreach e,$(REGRESS_EXTENSIONS),--load-extension=$(e))

PG_CONFIG ?= pg_config
# Preprocessor flags (include paths) and compiler flags are kept apart, as
# PGXS expects: PG_CPPFLAGS goes to every compile, PG_CFLAGS after CFLAGS.
#
# PostgreSQL's server headers are not written for -Wextra (static inline
# functions with parameters unused in non-assert builds, a macro mixing
# signed and unsigned operands), so they are named with -isystem as well:
# the compiler then reports nothing inside them, while our own code gets
# every -Wall -Wextra warning.  (With -isystem and -I naming the same
# directory, the -I that PGXS adds is ignored.)
# FRT_WERROR=-Werror (as CI sets it) turns any warning into an error.
PG_CPPFLAGS = -I$(srcdir)/include -isystem $(includedir_server) $(EXTRA_CPPFLAGS) \
	-DFRT_TEXTDOMAIN='"$(FRT_TEXTDOMAIN)"' -include frt_nls.h
# The gettext domain of both libraries' messages, the TEXTDOMAIN of every C
# file (include/frt_nls.h, included first; mk/nls.mk).
FRT_TEXTDOMAIN = frt-$(MAJORVERSION)
PG_CFLAGS = -std=gnu99 -Wall -Wextra $(FRT_WERROR)

# (install scripts of earlier versions too, left by builds before a version change)
EXTRA_CLEAN = $(DATA_built) $(wildcard $(EXTENSION)--[0-9]*.sql) regress/$(EXTENSION) $(GENERATED_SQL)

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(OBJS): $(wildcard include/*.h)

# The install script, assembled from the layers' SQL fragments.
$(EXTENSION)--$(EXTVERSION).sql: $(SQL_PARTS) $(EXTENSION).control mk/common.mk
	@echo "-- $(EXTENSION) $(EXTVERSION): assembled by make from src/*/*.sql; edit those, not this" > $@
	@printf '%s\n' '\echo Use "CREATE EXTENSION $(EXTENSION)" to load this file. \quit' >> $@
	@for f in $(SQL_PARTS); do printf '\n-- ---- %s ----\n' "$$f" >> $@; cat "$$f" >> $@; done

# pg_regress writes its results and diffs under regress/<extension>/.
installcheck: regress/$(EXTENSION)
regress/$(EXTENSION):
	$(MKDIR_P) $@

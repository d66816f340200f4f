# TAP tests of both extensions (test/t/*.pl), run by the top-level Makefile.
# PGXS provides prove_installcheck's variables (PROVE, bindir, ...).
PROVE_TESTS = test/t/*.pl
PROVE_FLAGS = -I test/lib

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

.PHONY: prove_installcheck
prove_installcheck:
	rm -rf '$(CURDIR)'/tmp_check && $(MKDIR_P) '$(CURDIR)'/tmp_check && \
	TESTDIR='$(CURDIR)' PATH="$(bindir):$(CURDIR):$$PATH" PGPORT='6$(DEF_PGPORT)' \
	PG_REGRESS='$(top_builddir)/src/test/regress/pg_regress' \
	$(PROVE) $(PG_PROVE_FLAGS) $(PROVE_FLAGS) $(if $(PROVE_TESTS),$(PROVE_TESTS),t/*.pl)

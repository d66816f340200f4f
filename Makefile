# frt: two PostgreSQL extensions built from one tree with PGXS.
#   frt             the matching core        (mk/frt.mk)
#   frt_governance  the Measures, on frt     (mk/frt_governance.mk)
# Every target runs for both, core first.  PG_CONFIG=... picks the
# PostgreSQL; FRT_WERROR=-Werror turns warnings into errors (CI does).

PG_CONFIG ?= pg_config
EXTENSIONS = frt frt_governance
SUBMAKE = $(MAKE) --no-print-directory PG_CONFIG='$(PG_CONFIG)'

.PHONY: all install uninstall clean installcheck prove_installcheck \
	installcheck-frt installcheck-frt_governance update-po

all install uninstall clean:
	+@set -e; for e in $(EXTENSIONS); do $(SUBMAKE) -f mk/$$e.mk $@; done

# pg_regress, one run per extension (each in a fresh contrib_regression).
installcheck: installcheck-frt installcheck-frt_governance
installcheck-frt installcheck-frt_governance:
	+$(SUBMAKE) -f mk/$(@:installcheck-%=%).mk installcheck

# TAP tests (PostgreSQL::Test::Cluster) of both extensions.
prove_installcheck:
	+$(SUBMAKE) -f mk/tap.mk prove_installcheck

# Messages: extract them into po/frt.pot and merge into po/*.po (mk/nls.mk,
# docs/translation.md); then translate what msgfmt --statistics reports.
update-po:
	+$(SUBMAKE) -f mk/frt.mk update-po

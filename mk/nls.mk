# Message catalogues (PostgreSQL NLS) of both libraries, one gettext domain
# "frt-<major>" (TEXTDOMAIN, mk/common.mk): po/<lang>.po is compiled with
# msgfmt and installed as <localedir>/<lang>/LC_MESSAGES/frt-<major>.mo,
# where the server looks for it (pg_config --localedir: relative to the
# server's binaries, so a relocated copy of PostgreSQL has its own).
# Included by mk/frt.mk only: the catalogue is installed once.
# `make update-po` (top-level Makefile) extracts the messages into po/frt.pot
# and merges them into every po/<lang>.po; docs/translation.md.

MSGFMT ?= msgfmt
XGETTEXT ?= xgettext
MSGMERGE ?= msgmerge
MSGCAT ?= msgcat
MSGCMP ?= msgcmp
PO_LANGS = $(basename $(notdir $(wildcard po/*.po)))
MO_FILES = $(PO_LANGS:%=po/%.mo)
# Without gettext's tools the libraries still build; messages stay English.
ifeq ($(shell command -v $(MSGFMT) 2>/dev/null),)
$(warning $(MSGFMT) not found (Debian package gettext): messages will be in English only)
PO_LANGS =
MO_FILES =
endif
NLS_LOCALEDIR = $(shell $(PG_CONFIG) --localedir)

# C: ereport's message functions, FrtRefuse's format, FRT_TR.  FrtRefuse's
# citation (3), detail (4) and hint (5) are extracted in passes of their own: xgettext
# takes one argument of a keyword per call.
XGETTEXT_KEYWORDS = -k -kerrmsg -kerrdetail -kerrhint -kerrdetail_log \
	-kerrmsg_plural:1,2 -kerrdetail_plural:1,2 -kFrtRefuse:6 -kFRT_TR -kFRT_TR_NOOP
XGETTEXT_FLAGS = --flag=errmsg:1:c-format --flag=errdetail:1:c-format --flag=errhint:1:c-format \
	--flag=FrtRefuse:6:c-format
C_SOURCES = $(sort $(wildcard src/*.c src/*/*.c))

all: $(MO_FILES)
EXTRA_CLEAN += $(MO_FILES) po/frt.pot po/frt-check.pot

po/%.mo: po/%.po
	$(MSGFMT) -c -o $@ $<

.PHONY: install-nls uninstall-nls update-po
install: install-nls
uninstall: uninstall-nls
uninstall-nls:
	rm -f $(foreach l,$(PO_LANGS),'$(DESTDIR)$(NLS_LOCALEDIR)/$(l)/LC_MESSAGES/$(FRT_TEXTDOMAIN).mo')
install-nls: $(MO_FILES)
	@set -e; for l in $(PO_LANGS); do \
		$(MKDIR_P) '$(DESTDIR)$(NLS_LOCALEDIR)/'$$l/LC_MESSAGES; \
		$(INSTALL_DATA) po/$$l.mo '$(DESTDIR)$(NLS_LOCALEDIR)/'$$l/LC_MESSAGES/$(FRT_TEXTDOMAIN).mo; \
	done

# po/frt.pot: every message of the C sources and of the governance SQL.
# (po/frt-check.pot: the same, always made afresh, for check-po.)
po/frt.pot: $(wildcard src/*.c src/*/*.c src/*/*.sql) po/extract-sql.py mk/nls.mk
po/frt.pot po/frt-check.pot:
	$(XGETTEXT) -o $(basename $@)-c.pot --force-po --from-code=UTF-8 --no-wrap --sort-output \
		$(XGETTEXT_KEYWORDS) $(XGETTEXT_FLAGS) --package-name=frt $(C_SOURCES)
	$(XGETTEXT) -o $(basename $@)-c3.pot --force-po --from-code=UTF-8 --no-wrap -k -kFrtRefuse:3 $(C_SOURCES)
	$(XGETTEXT) -o $(basename $@)-c4.pot --force-po --from-code=UTF-8 --no-wrap -k -kFrtRefuse:4 $(C_SOURCES)
	$(XGETTEXT) -o $(basename $@)-c5.pot --force-po --from-code=UTF-8 --no-wrap -k -kFrtRefuse:5 $(C_SOURCES)
	python3 po/extract-sql.py $(sort $(wildcard src/*/*.sql)) > $(basename $@)-sql.pot
	$(MSGCAT) --use-first --no-wrap --sort-output -o $@ $(basename $@)-c.pot $(basename $@)-c3.pot $(basename $@)-c4.pot $(basename $@)-c5.pot $(basename $@)-sql.pot
	rm -f $(basename $@)-c.pot $(basename $@)-c3.pot $(basename $@)-c4.pot $(basename $@)-c5.pot $(basename $@)-sql.pot

# Every message of the SQL goes through _t, and every message of the
# sources is in every catalogue, translated and not fuzzy: fails on a
# message added without a translation.
.PHONY: check-po FORCE
po/frt-check.pot: FORCE
check-po: po/frt-check.pot
	@python3 po/convert-sql.py --check $(sort $(wildcard src/*/*.sql)) || { \
		echo "messages of the SQL must be written @extschema@._t('...', ...): run po/convert-sql.py src/*/*.sql" >&2; exit 1; }
	@set -e; for l in $(PO_LANGS); do \
		$(MSGCMP) --use-fuzzy po/$$l.po po/frt-check.pot || { \
			echo "po/$$l.po lacks messages of the sources: run make update-po and translate them" >&2; exit 1; }; \
		stats=$$(LC_ALL=C $(MSGFMT) --statistics -o /dev/null po/$$l.po 2>&1); echo "po/$$l.po: $$stats"; \
		case "$$stats" in *fuzzy*|*untranslated*) echo "po/$$l.po: translate every message (no fuzzy, none untranslated)" >&2; exit 1;; esac; \
	done
	@rm -f po/frt-check.pot

update-po: po/frt.pot
	@set -e; for l in $(PO_LANGS); do \
		$(MSGMERGE) --update --backup=none --no-wrap --sort-output po/$$l.po po/frt.pot; \
		$(MSGFMT) --statistics -o /dev/null po/$$l.po; \
	done

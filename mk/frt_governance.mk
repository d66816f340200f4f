# frt_governance: the Measures (audit, registry, jobs, intrusion detection),
# on top of the frt core (requires = 'frt').  Needs
# shared_preload_libraries = 'frt_governance'.  Built by the top-level
# Makefile.

EXTENSION = frt_governance
LAYERS = chain audit keys registry jobs intrusion
REGRESS_TESTS = audit_trail gov_0_setup gov_layers gov_legal_time gov_match gov_refusals gov_report gov_roles \
	intrusion jobs_erasure jobs_filing gov_on_record intrusion_policy_guard audit_relay_claim gov_search_path \
	gov_search_path_attack gov_oracle attack_masked attack_log_render attack_enroll_reject attack_restore_mode \
	authz_grants
REGRESS_EXTENSIONS = frt frt_governance
EXTRA_CPPFLAGS = -I$(libpq_srcdir)
# China's working-day calendar, loaded at install (src/registry/15_calendar.sql)
GENERATED_SQL = src/registry/16_calendar_data.sql

include mk/common.mk

SHLIB_LINK = -lcrypto -lm
# libpq: a standby forwards audit records to the primary (src/audit/audit_relay.c)
SHLIB_LINK_INTERNAL = $(libpq)

src/registry/16_calendar_data.sql: data/cn_calendar.tsv scripts/calendar-sql.sh
	scripts/calendar-sql.sh $< > $@

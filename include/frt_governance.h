/*-------------------------------------------------------------------------
 *
 * frt_governance.h
 *	  Limits and defaults of the frt_governance extension.
 *
 * Every tunable limit or default of the governance extension (audit,
 * registry, jobs, intrusion detection) is a named constant in this one
 * header, grouped by layer.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FRT_GOVERNANCE_H
#define FRT_GOVERNANCE_H

#include "postgres.h"

#include "frt_compat.h"

/* ---- Libraries ---- */
#define FRT_CORE_LIBRARY		"$libdir/frt"	/* loaded first by _PG_init */
#define FRT_GOVERNANCE_LIBRARY	"frt_governance"	/* background workers' library */

/* ---- Extensions and roles ---- */
#define FRT_CORE_EXTENSION		"frt"
#define FRT_GOVERNANCE_EXTENSION	"frt_governance"
/* The role a standby's audit relay logs in as on the primary (docs/audit.md) */
#define FRT_AUDIT_RELAY_ROLE	"frt_audit_relay"
/* Roles CREATE EXTENSION frt_governance creates if missing (src/audit/audit.sql) */
#define FRT_GOV_ROLES \
	{"frt_admin", "frt_enroller", "frt_matcher", "frt_auditor", FRT_AUDIT_RELAY_ROLE}

/* ---- Layer 6: the audit trail (see frt_audit.h, docs/audit.md) ---- */
#define FRT_NLS_RECENT			8		/* frt._t() results whose English frt._t_source() knows */
#define FRT_AUDIT_QUEUE_SLOTS	128		/* records waiting for a worker, all databases */
#define FRT_AUDIT_MAX_DATABASES	32		/* databases with an audit worker at once */
#define FRT_AUDIT_BATCH_MAX		64		/* records a worker commits in one transaction */
#define FRT_AUDIT_PAYLOAD_BYTES	16384	/* text of one record (all fields) */
#define FRT_AUDIT_FIELD_MAX		256		/* longest event/outcome/purpose/subject/device */
#define FRT_AUDIT_DETAIL_MAX	12288	/* longest detail (jsonb text) */
#define FRT_AUDIT_DEFAULT_TIMEOUT_MS	5000	/* wait for the worker's commit (frt.audit_timeout) */
#define FRT_AUDIT_MIN_TIMEOUT_MS		100		/* ... its smallest setting */
#define FRT_AUDIT_MAX_TIMEOUT_MS		600000	/* ... its largest setting (10 min) */
#define FRT_AUDIT_DEFAULT_IDLE_EXIT_MS	2000	/* idle worker exits (lets DROP DATABASE run) */
#define FRT_AUDIT_MIN_IDLE_EXIT_MS		100		/* ... its smallest setting */
#define FRT_AUDIT_MAX_IDLE_EXIT_MS		3600000 /* ... its largest setting (1 h) */
#define FRT_AUDIT_ERRMSG_LEN	256		/* a worker's error text handed back to the submitter */
#define FRT_AUDIT_VERIFY_FETCH	1000	/* records verify_audit_chain reads at a time */
#define FRT_AUDIT_MIN_RETENTION	"3 years"	/* Measures Art. 9 / PIPL Art. 56 */
#define FRT_AUDIT_HASH_LEN		32		/* SHA-256 and SM3 alike */
#define FRT_AUDIT_HASH_DEFAULT	"sha256"	/* frt.audit_hash: hash and MAC of new records */
#define FRT_AUDIT_MAX_NUMBERS	16		/* numeric run hashed in audit fields */
#define FRT_AUDIT_MARK_HASH		"sha256:"	/* a field replaced by its hash ... */
#define FRT_AUDIT_MARK_HEX		16		/* ... and this many hex digits of it */
#define FRT_AUDIT_MARK_VECTOR	"vector "	/* before the hash of an embedding-like field */
/* The only events a relay may record: those a read-only standby makes (docs/audit.md) */
#define FRT_AUDIT_RELAY_EVENTS	{"match", "refusal", "rejected", "alert", "export"}
#define FRT_AUDIT_MARK_CUT		"...truncated "	/* between a long field's head and its hash */
#define FRT_REDACT_MIN_FLOATS	3		/* run of numbers with a fraction redacted in logs */
#define FRT_REDACT_MIN_SPACED_FLOATS 4	/* ... when separated by blanks only (not ',' ';' quotes, line breaks) */
#define FRT_REDACT_MIN_NUMBERS	16		/* run of any numbers redacted in logs */
#define FRT_REDACT_MIN_BRACKETED 2		/* run after '[' or '{' redacted in logs */
#define FRT_REDACT_MIN_HEX		64		/* hex digits after \x redacted in logs */
#define FRT_REDACT_MIN_BARE_HEX	192		/* hex digits without \x (decode(..., 'hex')): 24 float4 */
#define FRT_REDACT_MIN_BASE64	128		/* base64 characters (decode(..., 'base64')): 24 float4 */
#define FRT_REDACT_ODD_SEPARATORS "|:/_&#!~^*%@`?<>="	/* punctuation that also separates a run */
#define FRT_LOG_REDACT_DEFAULT	true	/* frt.log_redact: the server-log filter is on */
#define FRT_AUDIT_MAC_LEN		32		/* HMAC-SHA-256 or HMAC-SM3 of a record's hash */
#define FRT_AUDIT_MAC_TAG		"frt-audit-mac-v1"	/* before the hash in the MAC */
#define FRT_AUDIT_RELAY_MAC_TAG	"frt-audit-relay-v1"	/* before a relayed claim in its MAC */
#define FRT_AUDIT_RELAY_MAC_KEY	"mac"	/* member of detail.origin holding the claim's MAC */
#define FRT_AUDIT_RELAY_MAC_ALG_KEY "mac_alg"	/* ... and naming its hash when not SHA-256 */
#define FRT_AUDIT_KEY_MIN_BYTES	32		/* shortest audit key (a line of the key file) */
#define FRT_AUDIT_KEYS_MAX		8		/* keys in the key file: the first signs, all verify */
#define FRT_AUDIT_KEY_FILE_MAX	8192	/* longest key file or key command output */
#define FRT_AUDIT_ANCHOR_INTERVAL_DEFAULT_S	60	/* frt.audit_anchor_interval: head leaves the database */
#define FRT_AUDIT_ANCHOR_INTERVAL_MIN_S		1	/* ... its smallest setting */
#define FRT_AUDIT_ANCHOR_INTERVAL_MAX_S		86400	/* ... its largest setting (1 day) */
#define FRT_AUDIT_ANCHOR_LINE_MAX	1024	/* one anchor line (log, file, command) */
#define FRT_AUDIT_ANCHOR_PREFIX	"frt audit anchor:"	/* how an anchor line starts */
#define FRT_AUDIT_DDL_EVENT		"audit_ddl"	/* a statement that alters or removes the audit objects */
#define FRT_AUDIT_READ_EVENT	"embedding_read"	/* a read of frt.face.embedding outside the API */

/* ---- Layer 5: the registry's matching bounds (docs/sql/governance.md) ---- */
#define FRT_IDENTIFY_MAX_K		1000	/* hard ceiling of purpose.max_k */
#define FRT_IDENTIFY_DEFAULT_K	10		/* purpose.max_k of a new purpose */
#define FRT_SCORE_ROUNDED_STEP	0.01	/* score_disclosure 'rounded': floor to this */
#define FRT_SCORE_BANDED_STEP	0.1		/* score_disclosure 'banded': floor to this */

/* ---- Layer 8: jobs (see frt_jobs.h, docs/operations.md) ---- */
#define FRT_JOBS_SCRUB_ON_VACUUM_DEFAULT	true	/* frt.scrub_on_vacuum */


/* Module entry point. */
extern void _PG_init(void);

#endif							/* FRT_GOVERNANCE_H */

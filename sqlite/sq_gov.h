/*-------------------------------------------------------------------------
 *
 * sq_gov.h
 *	  Governance on the device (SQLite edition): the device, purposes,
 *	  notices, consent, retention, withdrawal with physical erasure, the
 *	  hash-chained audit trail and the verification lockout.  The same rules
 *	  and refusal codes (class MF) as frt_governance on the server; see
 *	  docs/sqlite.md, "Governance on the device".
 *
 * Files: sq_gov.c (registration, protection: defensive mode and the
 * authorizer), sq_gov_ops.c (one governed call = one transaction, refusals,
 * time and legal dates), sq_gov_audit.c (the trail and its chain),
 * sq_gov_consent.c (registry, consent, withdrawal, expiry), sq_gov_match.c
 * (enrolment, verification, lockout, the gallery guard), sq_gov_erase.c
 * (secure_delete, journal and WAL policy).
 *
 *-------------------------------------------------------------------------
 */
#ifndef SQ_GOV_H
#define SQ_GOV_H

#include <stdarg.h>

#include "sq_common.h"
#include "frt_chain.h"
#include "sq_gallery.h"

/* printf-style checking of the message formats */
#define FRT_SQ_PRINTF(f, a)	__attribute__((format(printf, f, a)))

/* ---- limits and defaults ---- */
#define FRT_SQ_MINOR_AGE			14		/* under this age a guardian consents (Art. 7) */
#define FRT_SQ_UTC_OFFSET_MIN		480		/* legal dates: UTC+8, no DST (China) */
#define FRT_SQ_UTC_OFFSET_LIMIT		(14 * 60)	/* |utc_offset_min| at most this */
#define FRT_SQ_LOCKOUT_FAILURES		5		/* failed verifications that lock ... */
#define FRT_SQ_LOCKOUT_WINDOW_S		300		/* ... within this many seconds ... */
#define FRT_SQ_LOCKOUT_S			900		/* ... for this many seconds */
#define FRT_SQ_IDENTIFY_MAX_K		10		/* most faces one identification may return (MF142) */
#define FRT_SQ_RETENTION_DAYS_MAX	36600	/* a purpose's retention: 1 .. this */
#define FRT_SQ_FIELD_MAX			256		/* an audit text field, bytes */
#define FRT_SQ_DETAIL_MAX			12288	/* an audit detail, bytes */
#define FRT_SQ_VECTOR_NUMBERS		16		/* a field with this many numbers is vector-like */
#define FRT_SQ_SHORT_HASH_HEX		16		/* hex digits of the sha256:<h> stand-in */
#define FRT_SQ_WAL_AUTOCHECKPOINT	1000	/* WAL frames before a passive checkpoint */
#define FRT_SQ_MSG_MAX				512		/* a refusal message, bytes */
#define FRT_SQ_USEC_PER_SEC			INT64_C(1000000)
#define FRT_SQ_USEC_PER_DAY			(INT64_C(86400) * FRT_SQ_USEC_PER_SEC)
/* milliseconds from the Julian day epoch (xCurrentTimeInt64) to 1970-01-01 */
#define FRT_SQ_JULIAN_UNIX_MS		INT64_C(210866760000000)

/* The governed gallery table (frt_gallery virtual table) and its prefix. */
#define FRT_SQ_FACE_TABLE			"frt_face"
#define FRT_SQ_PREFIX				"frt_"

/* Per-connection state of the governance module. */
typedef struct FrtSqGov
{
	sqlite3    *db;
	int			trusted;		/* > 0: the extension's own statements run */
	bool		erase_pending;	/* an erasure committed, WAL not yet truncated */
	int			erase_attempts; /* checkpoints tried since the erasure */
	int			erase_last_rc;	/* result of the last checkpoint tried */
	int64_t		erased_at;		/* time of the last erasure committed */
	bool		erase_in_txn;	/* the current transaction erased faces */
	struct FrtSqGov *next;
} FrtSqGov;

/* A device row, as governance reads it. */
typedef struct FrtSqDevice
{
	char	   *device;
	char	   *application;
	int			dim;
	int			metric;			/* FRT_METRIC_* */
	int			utc_offset_min;
	FrtChainAlg alg;
	int			lockout_failures;
	int			lockout_window_s;
	int			lockout_s;
} FrtSqDevice;

/* One governed call: its context, its transaction and its audit facts. */
typedef struct FrtSqOp
{
	FrtSqGov   *gov;
	sqlite3_context *ctx;		/* NULL: not an SQL function (the guard) */
	const char *function;
	const char *purpose;
	const char *subject;
	char	   *spurpose;		/* purpose and subject as messages show them */
	char	   *ssubject;
	bool		open;			/* BEGIN IMMEDIATE and SAVEPOINT ran */
	bool		done;			/* an error or a result was set */
	char	   *errmsg;			/* ctx NULL: the refusal, for the caller */
} FrtSqOp;

/* ---- the API other modules use (sync) ---- */

/* Append s to out as a JSON string, escaped as PostgreSQL's escape_json does. */
extern void FrtSqJsonAppendString(sqlite3_str *out, const char *s);

/*
 * Append one record to frt_audit, chained (frt_chain.h); in the caller's
 * transaction if one is open, else in its own.  detail_json: a JSON object
 * in jsonb_out canonical form or NULL; similarity NULL for none; *seq (when
 * seq is not NULL) gets the record's seq.  Returns an SQLite result code.
 */
extern int	FrtSqAuditAppend(sqlite3 *db, const char *event, const char *outcome,
							 const char *sqlstate, const char *purpose, const char *subject,
							 const char *detail_json, const double *similarity, int64_t *seq);

/*
 * Let the extension's own statements through the protection (authorizer
 * and gallery guard) until the matching FrtSqGovLeave; false if governance
 * is not loaded on db.
 */
extern bool FrtSqGovEnter(sqlite3 *db);
extern void FrtSqGovLeave(sqlite3 *db);

/* ---- sq_gov.c ---- */
extern FrtSqGov *FrtSqGovOf(sqlite3 *db);
extern bool FrtSqIsOurName(const char *name);

/* ---- sq_gov_ops.c ---- */
extern int64_t FrtSqNow(sqlite3 *db);
extern int64_t FrtSqLegalDay(int64_t at, int utc_offset_min);
extern bool FrtSqParseDate(const char *s, int64_t *day);
extern bool FrtSqIsMinor(int64_t birth_day, int64_t today);
extern bool FrtSqDeviceRead(sqlite3 *db, FrtSqDevice *dev);
extern void FrtSqDeviceFree(FrtSqDevice *dev);
extern bool FrtSqStandalone(sqlite3 *db);
extern bool FrtSqOpStart(FrtSqOp *op, FrtSqGov *gov, sqlite3_context *ctx, const char *function,
						 const char *purpose, const char *subject);
extern void FrtSqOpRefuse(FrtSqOp *op, const char *sqlstate, int article, const char *fmt,...)
			FRT_SQ_PRINTF(4, 5);
extern void FrtSqOpReject(FrtSqOp *op, const char *sqlstate, const char *fmt,...)
			FRT_SQ_PRINTF(3, 4);
extern void FrtSqOpError(FrtSqOp *op, int rc);
extern void FrtSqOpFailText(FrtSqOp *op, const char *msg);
extern bool FrtSqOpDevice(FrtSqOp *op, FrtSqDevice *dev);
extern bool FrtSqOpFinish(FrtSqOp *op);
extern void FrtSqOpReturn(FrtSqOp *op, int rc, int64_t result);
extern char *FrtSqShowId(const char *id);
extern int	FrtSqStep(sqlite3 *db, const char *sql, const char *fmt,...);
extern sqlite3_stmt *FrtSqQuery(sqlite3 *db, const char *sql, const char *fmt,...);
extern bool FrtSqTriggersClean(sqlite3 *db, char **bad);

/* ---- sq_gov_audit.c ---- */

/* A detail object under construction: string and integer values only. */
typedef struct FrtSqJson
{
	int			n;
	struct
	{
		char	   *key;
		char	   *text;			/* the value as JSON text */
	}			item[16];
} FrtSqJson;

extern void FrtSqJsonStr(FrtSqJson *j, const char *key, const char *value);
extern void FrtSqJsonInt(FrtSqJson *j, const char *key, int64_t value);
extern char *FrtSqJsonFinish(FrtSqJson *j);
extern char *FrtSqAuditBound(const char *value);
extern int	FrtSqAuditRegister(sqlite3 *db, FrtSqGov *gov);

/* ---- sq_gov_consent.c ---- */
extern int	FrtSqConsentRegister(sqlite3 *db, FrtSqGov *gov);
extern bool FrtSqPurposeRead(sqlite3 *db, const char *name, int *retention_days, double *threshold);
extern int	FrtSqNoticeCurrent(sqlite3 *db, const char *purpose);
extern bool FrtSqConsentValid(FrtSqOp *op, const FrtSqDevice *dev, int64_t now, int64_t *consent_seq,
							  int *notice_version);

/* ---- sq_gov_match.c ---- */
extern int	FrtSqMatchRegister(sqlite3 *db, FrtSqGov *gov);

/* ---- sq_gov_erase.c ---- */
extern int	FrtSqEraseInit(sqlite3 *db, FrtSqGov *gov, char **errmsg);
extern void FrtSqEraseCommitted(FrtSqGov *gov);
extern int	FrtSqEraseRegister(sqlite3 *db, FrtSqGov *gov);

#endif							/* SQ_GOV_H */

/*-------------------------------------------------------------------------
 *
 * sq_gov_ops.c
 *	  One governed call = one transaction of its own: started with BEGIN
 *	  IMMEDIATE (the audit chain's next seq is read under the write lock),
 *	  ended by COMMIT, so its audit record is committed when the call
 *	  returns and no ROLLBACK of the caller can take it back.  A refusal
 *	  rolls the call's changes back to its savepoint, then records itself
 *	  and commits that record (nothing else changed).  Also: the clock, legal
 *	  dates at the device's UTC offset, the device row, statement helpers.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sq_gov.h"

/* Now, microseconds since 2000-01-01 UTC, from the connection's VFS clock. */
int64_t
FrtSqNow(sqlite3 *db)
{
	sqlite3_vfs *vfs = NULL;
	sqlite3_int64 ms = 0;

	if (sqlite3_file_control(db, "main", SQLITE_FCNTL_VFS_POINTER, &vfs) != SQLITE_OK || vfs == NULL)
		vfs = sqlite3_vfs_find(NULL);
	if (vfs->iVersion >= 2 && vfs->xCurrentTimeInt64 != NULL)
		vfs->xCurrentTimeInt64(vfs, &ms);
	else
	{
		double		days = 0;

		vfs->xCurrentTime(vfs, &days);
		ms = (sqlite3_int64) (days * 86400000.0);
	}
	return (ms - FRT_SQ_JULIAN_UNIX_MS - FRT_CHAIN_EPOCH_OFFSET * 1000) * 1000;
}

/* The legal day (days since 2000-01-01) of an instant at a UTC offset. */
int64_t
FrtSqLegalDay(int64_t at, int utc_offset_min)
{
	int64_t		local = at + (int64_t) utc_offset_min * 60 * FRT_SQ_USEC_PER_SEC;
	int64_t		day = local / FRT_SQ_USEC_PER_DAY;

	return (local < 0 && local % FRT_SQ_USEC_PER_DAY != 0) ? day - 1 : day;
}

/* Days since 2000-01-01 of a proleptic Gregorian date. */
static int64_t
FrtSqDaysFromCivil(int64_t y, int m, int d)
{
	int64_t		era;
	int64_t		yoe,
				doy,
				doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468 - 10957;
}

/* The date of a day number (days since 2000-01-01). */
static void
FrtSqCivilFromDays(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t		era,
				doe,
				yoe,
				doy,
				mp;

	z += 719468 + 10957;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int) (doy - (153 * mp + 2) / 5 + 1);
	*m = (int) (mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* Days in a month of a year. */
static int
FrtSqMonthDays(int64_t y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool		leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* Parse a date 'YYYY-MM-DD' (strict, a real date) into a day number. */
bool
FrtSqParseDate(const char *s, int64_t *day)
{
	int			y,
				m,
				d;

	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	y = atoi(s);
	m = atoi(s + 5);
	d = atoi(s + 8);
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > FrtSqMonthDays(y, m))
		return false;
	*day = FrtSqDaysFromCivil(y, m, d);
	return true;
}

/*
 * Whether someone born on birth_day is under FRT_SQ_MINOR_AGE on the legal
 * day today: as the server's frt.is_minor, birth > today - 14 years, with
 * 29 February minus 14 years being 28 February.
 */
bool
FrtSqIsMinor(int64_t birth_day, int64_t today)
{
	int64_t		y;
	int			m,
				d;

	FrtSqCivilFromDays(today, &y, &m, &d);
	y -= FRT_SQ_MINOR_AGE;
	if (d > FrtSqMonthDays(y, m))
		d = FrtSqMonthDays(y, m);
	return birth_day > FrtSqDaysFromCivil(y, m, d);
}

/* Read the device row; false if the device is not initialized. */
bool
FrtSqDeviceRead(sqlite3 *db, FrtSqDevice *dev)
{
	sqlite3_stmt *st;
	bool		ok = false;

	memset(dev, 0, sizeof(*dev));
	st = FrtSqQuery(db, "SELECT device, application, dim, metric, utc_offset_min, hash_alg, "
					"lockout_failures, lockout_window_s, lockout_s FROM main.frt_device WHERE id = 1", "");
	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
	{
		const char *metric = (const char *) sqlite3_column_text(st, 3);
		const char *alg = (const char *) sqlite3_column_text(st, 5);

		dev->device = sqlite3_mprintf("%s", sqlite3_column_text(st, 0));
		dev->application = sqlite3_column_type(st, 1) == SQLITE_NULL ? NULL :
			sqlite3_mprintf("%s", sqlite3_column_text(st, 1));
		dev->dim = sqlite3_column_int(st, 2);
		dev->metric = metric && strcmp(metric, "l2") == 0 ? FRT_METRIC_L2 :
			metric && strcmp(metric, "ip") == 0 ? FRT_METRIC_IP : FRT_METRIC_COSINE;
		dev->utc_offset_min = sqlite3_column_int(st, 4);
		ok = FrtChainAlgFromName(alg, &dev->alg);
		dev->lockout_failures = sqlite3_column_int(st, 6);
		dev->lockout_window_s = sqlite3_column_int(st, 7);
		dev->lockout_s = sqlite3_column_int(st, 8);
	}
	sqlite3_finalize(st);
	if (!ok)
		FrtSqDeviceFree(dev);
	return ok;
}

/* Free what FrtSqDeviceRead allocated. */
void
FrtSqDeviceFree(FrtSqDevice *dev)
{
	sqlite3_free(dev->device);
	sqlite3_free(dev->application);
	dev->device = dev->application = NULL;
}

/* Bind arguments by a format: t text, i int64, I int, d double, b blob+len, n null. */
static int
FrtSqBindV(sqlite3_stmt *st, const char *fmt, va_list ap)
{
	int			rc = SQLITE_OK;

	for (int i = 0; fmt[i] != '\0' && rc == SQLITE_OK; i++)
	{
		switch (fmt[i])
		{
			case 't':
				rc = sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
				break;
			case 'i':
				rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
				break;
			case 'I':
				rc = sqlite3_bind_int(st, i + 1, va_arg(ap, int));
				break;
			case 'd':
				rc = sqlite3_bind_double(st, i + 1, va_arg(ap, double));
				break;
			case 'b':
				{
					const void *p = va_arg(ap, const void *);
					int			n = va_arg(ap, int);

					rc = sqlite3_bind_blob(st, i + 1, p, n, SQLITE_TRANSIENT);
					break;
				}
			default:
				rc = sqlite3_bind_null(st, i + 1);
		}
	}
	return rc;
}

/* Prepare and bind a statement (the caller steps and finalizes); NULL on error. */
sqlite3_stmt *
FrtSqQuery(sqlite3 *db, const char *sql, const char *fmt,...)
{
	sqlite3_stmt *st = NULL;
	va_list		ap;
	int			rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	va_start(ap, fmt);
	rc = FrtSqBindV(st, fmt, ap);
	va_end(ap);
	if (rc != SQLITE_OK)
	{
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

/* Run a statement to its end; SQLITE_OK or the error (sqlite3_errmsg says). */
int
FrtSqStep(sqlite3 *db, const char *sql, const char *fmt,...)
{
	sqlite3_stmt *st = NULL;
	va_list		ap;
	int			rc;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	va_start(ap, fmt);
	rc = FrtSqBindV(st, fmt, ap);
	va_end(ap);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		rc = SQLITE_OK;
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_finalize(st);
	return rc;
}

/*
 * Whether db may run a governed call now: in autocommit mode, and no
 * writing statement of the caller running (a caller's transaction, or a
 * writing statement that fails after the call, could roll the call's audit
 * record back).
 */
bool
FrtSqStandalone(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		return false;
	for (sqlite3_stmt *s = sqlite3_next_stmt(db, NULL); s != NULL; s = sqlite3_next_stmt(db, s))
		if (sqlite3_stmt_busy(s) && !sqlite3_stmt_readonly(s))
			return false;
	return true;
}

/*
 * Whether no trigger sits on a governance table (a trigger would run the
 * caller's SQL inside the extension's statements); *bad names the first.
 */
bool
FrtSqTriggersClean(sqlite3 *db, char **bad)
{
	sqlite3_stmt *st;
	bool		clean = true;

	*bad = NULL;
	st = FrtSqQuery(db, "SELECT name FROM main.sqlite_schema WHERE type = 'trigger' "
					"AND substr(tbl_name, 1, 4) = 'frt_' UNION ALL "
					"SELECT name FROM temp.sqlite_schema WHERE type = 'trigger' "
					"AND substr(tbl_name, 1, 4) = 'frt_'", "");
	if (st == NULL)
		return true;			/* no schema to read: nothing to fear yet */
	if (sqlite3_step(st) == SQLITE_ROW)
	{
		*bad = sqlite3_mprintf("%s", sqlite3_column_text(st, 0));
		clean = false;
	}
	sqlite3_finalize(st);
	return clean;
}

/* An identifier as messages show it: bounded like an audit field. */
char *
FrtSqShowId(const char *id)
{
	return FrtSqAuditBound(id ? id : "NULL");
}

/* Hand an error to the caller: the SQL function's error, or op->errmsg. */
static void
FrtSqOpSay(FrtSqOp *op, const char *msg, int rc)
{
	if (op->ctx != NULL)
	{
		sqlite3_result_error(op->ctx, msg, -1);
		if (rc != SQLITE_ERROR)
			sqlite3_result_error_code(op->ctx, rc);
	}
	else
	{
		sqlite3_free(op->errmsg);
		op->errmsg = sqlite3_mprintf("%s", msg);
	}
}

/* End the call: leave trusted mode. */
static void
FrtSqOpClose(FrtSqOp *op)
{
	op->done = true;
	op->gov->erase_in_txn = false;
	op->gov->trusted--;
	sqlite3_free(op->spurpose);
	sqlite3_free(op->ssubject);
	op->spurpose = op->ssubject = NULL;
}

/*
 * Start a governed call: checks that it may run on its own (else 25001),
 * that no trigger sits on a governance table, then opens its transaction.
 * false: an error was set and the call is over.
 */
bool
FrtSqOpStart(FrtSqOp *op, FrtSqGov *gov, sqlite3_context *ctx, const char *function,
			 const char *purpose, const char *subject)
{
	char	   *bad = NULL;

	memset(op, 0, sizeof(*op));
	op->gov = gov;
	op->ctx = ctx;
	op->function = function;
	op->purpose = purpose;
	op->subject = subject;
	op->spurpose = FrtSqShowId(purpose);
	op->ssubject = FrtSqShowId(subject);
	gov->trusted++;
	/* not recorded: the record could not be committed on its own either */
	if (!FrtSqStandalone(gov->db))
	{
		char	   *msg = sqlite3_mprintf("25001: %s must run in a transaction of its own (autocommit), "
										  "not in the caller's transaction or a writing statement",
										  function);

		FrtSqOpSay(op, msg, SQLITE_ERROR);
		sqlite3_free(msg);
		FrtSqOpClose(op);
		return false;
	}
	if (!FrtSqTriggersClean(gov->db, &bad))
	{
		char	   *msg = sqlite3_mprintf("MF141: trigger '%s' on a governance table would run inside "
										  "governed statements; drop it (Measures Art. 14)", bad);

		FrtSqOpSay(op, msg, SQLITE_ERROR);
		sqlite3_free(msg);
		sqlite3_free(bad);
		FrtSqOpClose(op);
		return false;
	}
	if (FrtSqStep(gov->db, "BEGIN IMMEDIATE", "") != SQLITE_OK)
	{
		FrtSqOpError(op, sqlite3_errcode(gov->db));
		return false;
	}
	if (FrtSqStep(gov->db, "SAVEPOINT frt_op", "") != SQLITE_OK)
	{
		FrtSqStep(gov->db, "ROLLBACK", "");
		FrtSqOpError(op, sqlite3_errcode(gov->db));
		return false;
	}
	op->open = true;
	return true;
}

/*
 * Undo the call's changes, record it (event, outcome, sqlstate, detail),
 * commit that record and give the caller message msg.
 */
static void
FrtSqOpRecord(FrtSqOp *op, const char *event, const char *sqlstate, int article, const char *msg)
{
	FrtSqJson	j = {0};
	FrtSqDevice dev;
	char	   *detail;
	char	   *full;
	int			rc;

	if (op->open)
		FrtSqStep(op->gov->db, "ROLLBACK TO frt_op", "");
	op->gov->erase_in_txn = false;
	if (article > 0)
		FrtSqJsonInt(&j, "article", article);
	FrtSqJsonStr(&j, "function", op->function);
	FrtSqJsonStr(&j, "reason", msg);
	detail = FrtSqJsonFinish(&j);
	/* before frt_device_init there is no trail to record in */
	if (FrtSqDeviceRead(op->gov->db, &dev))
	{
		FrtSqDeviceFree(&dev);
		rc = FrtSqAuditAppend(op->gov->db, event, strcmp(event, "refusal") == 0 ? "refused" : "rejected",
							  sqlstate, op->purpose, op->subject, detail, NULL, NULL);
	}
	else
		rc = SQLITE_OK;
	sqlite3_free(detail);
	if (op->open)
	{
		FrtSqStep(op->gov->db, "RELEASE frt_op", "");
		if (rc == SQLITE_OK)
			rc = FrtSqStep(op->gov->db, "COMMIT", "");
		if (rc != SQLITE_OK)
			FrtSqStep(op->gov->db, "ROLLBACK", "");
		op->open = false;
	}
	if (article > 0)
		full = sqlite3_mprintf("%s: %s (Measures Art. %d)", sqlstate, msg, article);
	else
		full = sqlite3_mprintf("%s: %s", sqlstate, msg);
	/* no record, no refusal either: the trail is unavailable (MF140) */
	if (rc != SQLITE_OK)
	{
		sqlite3_free(full);
		full = sqlite3_mprintf("MF140: the audit trail is unavailable, nothing was processed "
							   "(Measures Art. 14)");
	}
	FrtSqOpSay(op, full, SQLITE_ERROR);
	sqlite3_free(full);
	FrtSqOpClose(op);
}

/* Refuse the call under the Measures: sqlstate MFnnn, the article cited. */
void
FrtSqOpRefuse(FrtSqOp *op, const char *sqlstate, int article, const char *fmt,...)
{
	char		msg[FRT_SQ_MSG_MAX];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	FrtSqOpRecord(op, "refusal", sqlstate, article, msg);
}

/* Reject the call for bad input: a standard SQLSTATE, recorded as 'rejected'. */
void
FrtSqOpReject(FrtSqOp *op, const char *sqlstate, const char *fmt,...)
{
	char		msg[FRT_SQ_MSG_MAX];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	FrtSqOpRecord(op, "rejected", sqlstate, 0, msg);
}

/* The call failed inside SQLite (rc): roll it back, pass the error on. */
void
FrtSqOpError(FrtSqOp *op, int rc)
{
	char	   *msg = sqlite3_mprintf("%s: %s", op->function, sqlite3_errmsg(op->gov->db));

	if (op->open)
	{
		FrtSqStep(op->gov->db, "ROLLBACK TO frt_op", "");
		FrtSqStep(op->gov->db, "RELEASE frt_op", "");
		FrtSqStep(op->gov->db, "ROLLBACK", "");
		op->open = false;
	}
	FrtSqOpSay(op, msg, rc == SQLITE_OK ? SQLITE_ERROR : rc);
	sqlite3_free(msg);
	FrtSqOpClose(op);
}

/* The call fails with msg, unrecorded (there is no trail to record it in). */
void
FrtSqOpFailText(FrtSqOp *op, const char *msg)
{
	if (op->open)
	{
		FrtSqStep(op->gov->db, "ROLLBACK TO frt_op", "");
		FrtSqStep(op->gov->db, "RELEASE frt_op", "");
		FrtSqStep(op->gov->db, "ROLLBACK", "");
		op->open = false;
	}
	FrtSqOpSay(op, msg, SQLITE_ERROR);
	FrtSqOpClose(op);
}

/* Read the device row for the call; false (error set) before frt_device_init. */
bool
FrtSqOpDevice(FrtSqOp *op, FrtSqDevice *dev)
{
	if (FrtSqDeviceRead(op->gov->db, dev))
		return true;
	FrtSqOpFailText(op, "55000: the device is not initialized: call frt_device_init() first");
	return false;
}

/* Commit the call; false (error set) if the commit failed. */
bool
FrtSqOpFinish(FrtSqOp *op)
{
	int			rc;

	rc = FrtSqStep(op->gov->db, "RELEASE frt_op", "");
	if (rc == SQLITE_OK)
	{
		/* an erasure: the WAL hook truncates the WAL after this commit */
		if (op->gov->erase_in_txn)
			op->gov->erase_pending = true;
		rc = FrtSqStep(op->gov->db, "COMMIT", "");
	}
	if (rc != SQLITE_OK)
	{
		op->open = true;
		op->gov->erase_pending = op->gov->erase_pending && !op->gov->erase_in_txn;
		FrtSqOpError(op, rc);
		return false;
	}
	op->open = false;
	if (op->gov->erase_in_txn)
		FrtSqEraseCommitted(op->gov);
	FrtSqOpClose(op);
	return true;
}

/* End the call: its error if rc is one, else commit and return result. */
void
FrtSqOpReturn(FrtSqOp *op, int rc, int64_t result)
{
	if (rc != SQLITE_OK)
		FrtSqOpError(op, rc);
	else if (FrtSqOpFinish(op))
		sqlite3_result_int64(op->ctx, result);
}

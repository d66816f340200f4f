/*-------------------------------------------------------------------------
 *
 * sq_gov_consent.c
 *	  Purposes, notices and consent on the device, and the two ways faces
 *	  leave it: withdrawal (frt_withdraw, at once, Art. 6) and the end of
 *	  retention (frt_expire, Art. 8).  A consent names the notice version it
 *	  was given under (Art. 5); a subject under 14 at the device's legal date
 *	  needs a guardian (Art. 7); the consent expires the purpose's retention
 *	  after it was given.  Withdrawal and expiry delete the faces (the
 *	  gallery zeroes their bytes, secure_delete and the journal policy of
 *	  sq_gov_erase.c keep them off the disk) and the consent row; the trail
 *	  keeps what happened.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "sq_gov.h"

/* A list of (subject, purpose) pairs to erase. */
typedef struct FrtSqPairs
{
	int			n;
	int			cap;
	char	  **subject;
	char	  **purpose;
	bool	   *consented;
} FrtSqPairs;

/* Read a purpose; false if it is not registered. */
bool
FrtSqPurposeRead(sqlite3 *db, const char *name, int *retention_days, double *threshold)
{
	sqlite3_stmt *st = FrtSqQuery(db, "SELECT retention_days, threshold FROM main.frt_purpose "
								  "WHERE name = ?", "t", name);
	bool		found = st != NULL && sqlite3_step(st) == SQLITE_ROW;

	if (found)
	{
		if (retention_days != NULL)
			*retention_days = sqlite3_column_int(st, 0);
		if (threshold != NULL)
			*threshold = sqlite3_column_double(st, 1);
	}
	sqlite3_finalize(st);
	return found;
}

/* The notice version in force for a purpose (0: none published). */
int
FrtSqNoticeCurrent(sqlite3 *db, const char *purpose)
{
	sqlite3_stmt *st = FrtSqQuery(db, "SELECT coalesce(max(version), 0) FROM main.frt_notice "
								  "WHERE purpose = ?", "t", purpose);
	int			v = 0;

	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/*
 * Whether op's subject holds a consent valid for processing op's purpose
 * now: present (MF006), within retention (MF008), under the notice in force
 * (MF005), a guardian's while under 14 (MF007).  Refuses otherwise.
 */
bool
FrtSqConsentValid(FrtSqOp *op, const FrtSqDevice *dev, int64_t now, int64_t *consent_seq,
				  int *notice_version)
{
	sqlite3_stmt *st;
	int			version,
				current;
	int64_t		expires,
				birth;
	bool		minor_alone;

	st = FrtSqQuery(op->gov->db, "SELECT notice_version, expires_at, consent_seq, birth_date, "
					"guardian FROM main.frt_consent WHERE subject = ? AND purpose = ?", "tt",
					op->subject, op->purpose);
	if (st == NULL || sqlite3_step(st) != SQLITE_ROW)
	{
		sqlite3_finalize(st);
		FrtSqOpRefuse(op, "MF006", 6, "subject '%s' has no consent for purpose '%s'",
					  op->ssubject, op->spurpose);
		return false;
	}
	version = sqlite3_column_int(st, 0);
	expires = sqlite3_column_int64(st, 1);
	if (consent_seq != NULL)
		*consent_seq = sqlite3_column_int64(st, 2);
	if (notice_version != NULL)
		*notice_version = version;
	minor_alone = sqlite3_column_type(st, 3) != SQLITE_NULL &&
		FrtSqParseDate((const char *) sqlite3_column_text(st, 3), &birth) &&
		FrtSqIsMinor(birth, FrtSqLegalDay(now, dev->utc_offset_min)) &&
		(sqlite3_column_type(st, 4) == SQLITE_NULL || sqlite3_column_bytes(st, 4) == 0);
	sqlite3_finalize(st);
	if (expires <= now)
	{
		FrtSqOpRefuse(op, "MF008", 8, "the consent of subject '%s' for purpose '%s' has passed its "
					  "retention period; frt_expire() erases its faces", op->ssubject, op->spurpose);
		return false;
	}
	current = FrtSqNoticeCurrent(op->gov->db, op->purpose);
	if (version != current)
	{
		FrtSqOpRefuse(op, "MF005", 5, "the consent of subject '%s' for purpose '%s' was given under "
					  "notice version %d, version %d is in force: the consent must be renewed",
					  op->ssubject, op->spurpose, version, current);
		return false;
	}
	if (minor_alone)
	{
		FrtSqOpRefuse(op, "MF007", 7, "subject '%s' is under %d: a guardian's consent is required",
					  op->ssubject, FRT_SQ_MINOR_AGE);
		return false;
	}
	return true;
}

/* Whether a text argument is present (else the call is rejected, 22004). */
static bool
FrtSqArgsPresent(FrtSqOp *op, sqlite3_value **argv, int n, const char *what)
{
	for (int i = 0; i < n; i++)
		if (sqlite3_value_type(argv[i]) == SQLITE_NULL)
		{
			FrtSqOpReject(op, "22004", "%s must not be NULL", what);
			return false;
		}
	return true;
}

/* Record one registry insertion (keys only, as the server's trigger does). */
static bool
FrtSqAuditRegistry(FrtSqOp *op, const char *table, const char *key_text, int64_t key_int,
				   int64_t *seq)
{
	FrtSqJson	j = {0};
	char	   *detail;
	int			rc;

	FrtSqJsonStr(&j, "op", "INSERT");
	FrtSqJsonStr(&j, "table", table);
	if (key_text != NULL)
		FrtSqJsonStr(&j, "key", key_text);
	else
		FrtSqJsonInt(&j, "key", key_int);
	detail = FrtSqJsonFinish(&j);
	rc = FrtSqAuditAppend(op->gov->db, "registry", "insert", NULL, op->purpose, NULL, detail, NULL, seq);
	sqlite3_free(detail);
	if (rc != SQLITE_OK)
		FrtSqOpError(op, rc);
	return rc == SQLITE_OK;
}

/* frt_purpose_add(name, description, retention_days, threshold) -> audit seq. */
static void
FrtSqPurposeAddFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *name = (const char *) sqlite3_value_text(argv[0]);
	const char *description = (const char *) sqlite3_value_text(argv[1]);
	double		threshold = sqlite3_value_double(argv[3]);
	int64_t		days = sqlite3_value_int64(argv[2]);
	int64_t		seq = 0;
	FrtSqDevice dev;
	FrtSqOp		op;
	int			rc;

	(void) argc;
	if (!FrtSqOpStart(&op, sqlite3_user_data(ctx), ctx, "frt_purpose_add", name, NULL) ||
		!FrtSqOpDevice(&op, &dev))
		return;
	FrtSqDeviceFree(&dev);
	if (!FrtSqArgsPresent(&op, argv, 4, "name, description, retention_days and threshold"))
		return;
	if (*name == '\0' || *description == '\0')
	{
		FrtSqOpReject(&op, "22023", "name and description must not be empty");
		return;
	}
	if (sqlite3_value_type(argv[2]) != SQLITE_INTEGER || days < 1 || days > FRT_SQ_RETENTION_DAYS_MAX)
	{
		FrtSqOpReject(&op, "22023", "retention_days must be an integer from 1 to %d",
							 FRT_SQ_RETENTION_DAYS_MAX);
		return;
	}
	if ((sqlite3_value_type(argv[3]) != SQLITE_FLOAT && sqlite3_value_type(argv[3]) != SQLITE_INTEGER) ||
		!isfinite(threshold) || threshold < 0)
	{
		FrtSqOpReject(&op, "22023", "threshold must be a finite distance, 0 or more");
		return;
	}
	if (FrtSqPurposeRead(op.gov->db, name, NULL, NULL))
	{
		FrtSqOpReject(&op, "23505", "purpose '%s' is already registered", op.spurpose);
		return;
	}
	rc = FrtSqStep(op.gov->db, "INSERT INTO main.frt_purpose (name, description, retention_days, "
				   "threshold, created_at) VALUES (?, ?, ?, ?, ?)", "ttidi", name, description, days,
				   threshold, FrtSqNow(op.gov->db));
	if (rc != SQLITE_OK)
	{
		FrtSqOpError(&op, rc);
		return;
	}
	if (FrtSqAuditRegistry(&op, "purpose", name, 0, &seq) && FrtSqOpFinish(&op))
		sqlite3_result_int64(ctx, seq);
}

/* frt_notice_publish(purpose, body) -> the new version. */
static void
FrtSqNoticePublishFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *purpose = (const char *) sqlite3_value_text(argv[0]);
	const char *body = (const char *) sqlite3_value_text(argv[1]);
	FrtSqDevice dev;
	FrtSqOp		op;
	int			version;
	int			rc;

	(void) argc;
	if (!FrtSqOpStart(&op, sqlite3_user_data(ctx), ctx, "frt_notice_publish", purpose, NULL) ||
		!FrtSqOpDevice(&op, &dev))
		return;
	FrtSqDeviceFree(&dev);
	if (!FrtSqArgsPresent(&op, argv, 2, "purpose and body"))
		return;
	if (*body == '\0')
	{
		FrtSqOpReject(&op, "22023", "a notice body must not be empty");
		return;
	}
	if (!FrtSqPurposeRead(op.gov->db, purpose, NULL, NULL))
	{
		FrtSqOpRefuse(&op, "MF004", 4, "purpose '%s' is not registered", op.spurpose);
		return;
	}
	version = FrtSqNoticeCurrent(op.gov->db, purpose) + 1;
	rc = FrtSqStep(op.gov->db, "INSERT INTO main.frt_notice (purpose, version, body, published_at) "
				   "VALUES (?, ?, ?, ?)", "tIti", purpose, version, body, FrtSqNow(op.gov->db));
	if (rc != SQLITE_OK)
	{
		FrtSqOpError(&op, rc);
		return;
	}
	if (FrtSqAuditRegistry(&op, "notice", NULL, version, NULL) && FrtSqOpFinish(&op))
		sqlite3_result_int(ctx, version);
}

/* Check a consent's birth date and guardian (22007, 22008, MF007); *minor set. */
static bool
FrtSqConsentAge(FrtSqOp *op, const FrtSqDevice *dev, const char *birth_date, const char *guardian,
				int64_t now, bool *minor)
{
	int64_t		birth,
				today = FrtSqLegalDay(now, dev->utc_offset_min);

	*minor = false;
	if (birth_date == NULL)
		return true;
	if (!FrtSqParseDate(birth_date, &birth))
	{
		FrtSqOpReject(op, "22007", "birth_date must be a date written YYYY-MM-DD");
		return false;
	}
	if (birth > today)
	{
		FrtSqOpReject(op, "22008", "birth_date is after today's legal date");
		return false;
	}
	*minor = FrtSqIsMinor(birth, today);
	if (*minor && (guardian == NULL || *guardian == '\0'))
	{
		FrtSqOpRefuse(op, "MF007", 7, "subject '%s' is under %d: a guardian's consent is required",
					  op->ssubject, FRT_SQ_MINOR_AGE);
		return false;
	}
	return true;
}

/*
 * Record a consent given or renewed; the record's seq is the consent's.  The
 * birth date (when given) and who gave it are in the record, so the server
 * takes them from the chained trail, not from a payload (docs/sqlite.md).
 */
static bool
FrtSqConsentRecord(FrtSqOp *op, bool renewal, int version, bool guardian, const char *birth_date,
				   int64_t expires, int64_t *seq)
{
	FrtSqJson	j = {0};
	char	   *detail;
	int			rc;

	FrtSqJsonInt(&j, "notice_version", version);
	FrtSqJsonStr(&j, "given_by", guardian ? "guardian" : "self");
	if (birth_date != NULL)
		FrtSqJsonStr(&j, "birth_date", birth_date);
	FrtSqJsonInt(&j, "expires_at", expires);
	detail = FrtSqJsonFinish(&j);
	rc = FrtSqAuditAppend(op->gov->db, "consent", renewal ? "renewed" : "given", NULL, op->purpose,
						  op->subject, detail, NULL, seq);
	sqlite3_free(detail);
	if (rc != SQLITE_OK)
		FrtSqOpError(op, rc);
	return rc == SQLITE_OK;
}

/*
 * frt_consent_give(subject, purpose, notice_version [, birth_date, guardian])
 * -> the audit seq of the consent: given, or renewed (transfer consent is
 * then to be given again).
 */
static void
FrtSqConsentGiveFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *subject = (const char *) sqlite3_value_text(argv[0]);
	const char *purpose = (const char *) sqlite3_value_text(argv[1]);
	const char *birth_date = argc > 3 ? (const char *) sqlite3_value_text(argv[3]) : NULL;
	const char *guardian = argc > 4 ? (const char *) sqlite3_value_text(argv[4]) : NULL;
	int64_t		version = sqlite3_value_int64(argv[2]);
	int64_t		now,
				expires,
				seq = 0;
	int			days,
				current,
				rc;
	bool		minor,
				renewal;
	FrtSqDevice dev;
	FrtSqOp		op;

	if (!FrtSqOpStart(&op, sqlite3_user_data(ctx), ctx, "frt_consent_give", purpose, subject) ||
		!FrtSqOpDevice(&op, &dev))
		return;
	now = FrtSqNow(op.gov->db);
	if (!FrtSqArgsPresent(&op, argv, 3, "subject, purpose and notice_version"))
		goto done;
	if (*subject == '\0')
	{
		FrtSqOpReject(&op, "22023", "subject must not be empty");
		goto done;
	}
	if (sqlite3_value_type(argv[2]) != SQLITE_INTEGER)
	{
		FrtSqOpReject(&op, "22023", "notice_version must be an integer");
		goto done;
	}
	if (!FrtSqPurposeRead(op.gov->db, purpose, &days, NULL))
	{
		FrtSqOpRefuse(&op, "MF004", 4, "purpose '%s' is not registered", op.spurpose);
		goto done;
	}
	current = FrtSqNoticeCurrent(op.gov->db, purpose);
	if (current == 0 || version != current)
	{
		if (current == 0)
			FrtSqOpRefuse(&op, "MF005", 5, "purpose '%s' has no notice", op.spurpose);
		else
			FrtSqOpRefuse(&op, "MF005", 5, "a consent must cite the notice in force for purpose '%s', "
						  "version %d", op.spurpose, current);
		goto done;
	}
	if (!FrtSqConsentAge(&op, &dev, birth_date, guardian, now, &minor))
		goto done;
	{
		sqlite3_stmt *st = FrtSqQuery(op.gov->db, "SELECT 1 FROM main.frt_consent WHERE subject = ? "
									  "AND purpose = ?", "tt", subject, purpose);

		renewal = st != NULL && sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
	}
	expires = now + (int64_t) days * FRT_SQ_USEC_PER_DAY;
	if (!FrtSqConsentRecord(&op, renewal, (int) version, guardian != NULL && *guardian != '\0',
							birth_date, expires, &seq))
		goto done;
	rc = FrtSqStep(op.gov->db, "INSERT OR REPLACE INTO main.frt_consent (subject, purpose, "
				   "notice_version, given_at, consent_seq, birth_date, guardian, transfer, expires_at) "
				   "VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)", "ttiiitti", subject, purpose, version, now, seq,
				   birth_date, guardian, expires);
	FrtSqOpReturn(&op, rc, seq);
done:
	FrtSqDeviceFree(&dev);
}

/*
 * frt_consent_transfer(subject, purpose) -> audit seq: the separate consent
 * to send the subject's faces for the purpose to the processor's server.
 */
static void
FrtSqConsentTransferFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *subject = (const char *) sqlite3_value_text(argv[0]);
	const char *purpose = (const char *) sqlite3_value_text(argv[1]);
	FrtSqJson	j = {0};
	FrtSqDevice dev;
	FrtSqOp		op;
	int64_t		now,
				seq = 0;
	int			version,
				rc;
	char	   *detail;

	(void) argc;
	if (!FrtSqOpStart(&op, sqlite3_user_data(ctx), ctx, "frt_consent_transfer", purpose, subject) ||
		!FrtSqOpDevice(&op, &dev))
		return;
	now = FrtSqNow(op.gov->db);
	if (!FrtSqArgsPresent(&op, argv, 2, "subject and purpose"))
		goto done;
	if (!FrtSqPurposeRead(op.gov->db, purpose, NULL, NULL))
	{
		FrtSqOpRefuse(&op, "MF004", 4, "purpose '%s' is not registered", op.spurpose);
		goto done;
	}
	if (!FrtSqConsentValid(&op, &dev, now, NULL, &version))
		goto done;
	FrtSqJsonInt(&j, "notice_version", version);
	FrtSqJsonStr(&j, "consent", "transfer");
	detail = FrtSqJsonFinish(&j);
	rc = FrtSqAuditAppend(op.gov->db, "consent", "transfer_given", NULL, purpose, subject, detail,
						  NULL, &seq);
	sqlite3_free(detail);
	if (rc == SQLITE_OK)
		rc = FrtSqStep(op.gov->db, "UPDATE main.frt_consent SET transfer = 1, transfer_at = ?, "
					   "transfer_seq = ? WHERE subject = ? AND purpose = ?", "iitt", now, seq, subject,
					   purpose);
	FrtSqOpReturn(&op, rc, seq);
done:
	FrtSqDeviceFree(&dev);
}

/* Add a pair to a list (copies). */
static void
FrtSqPairsAdd(FrtSqPairs *p, const char *subject, const char *purpose, bool consented)
{
	for (int i = 0; i < p->n; i++)
		if (strcmp(p->subject[i], subject) == 0 && strcmp(p->purpose[i], purpose) == 0)
		{
			p->consented[i] |= consented;
			return;
		}
	if (p->n == p->cap)
	{
		p->cap = p->cap ? 2 * p->cap : 8;
		p->subject = sqlite3_realloc(p->subject, p->cap * sizeof(char *));
		p->purpose = sqlite3_realloc(p->purpose, p->cap * sizeof(char *));
		p->consented = sqlite3_realloc(p->consented, p->cap * sizeof(bool));
	}
	p->subject[p->n] = sqlite3_mprintf("%s", subject);
	p->purpose[p->n] = sqlite3_mprintf("%s", purpose);
	p->consented[p->n] = consented;
	p->n++;
}

/* Add the pairs a query returns (subject, purpose). */
static int
FrtSqPairsQuery(FrtSqPairs *p, sqlite3_stmt *st, bool consented)
{
	int			rc;

	if (st == NULL)
		return SQLITE_ERROR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		FrtSqPairsAdd(p, (const char *) sqlite3_column_text(st, 0),
					  (const char *) sqlite3_column_text(st, 1), consented);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Free a list. */
static void
FrtSqPairsFree(FrtSqPairs *p)
{
	for (int i = 0; i < p->n; i++)
	{
		sqlite3_free(p->subject[i]);
		sqlite3_free(p->purpose[i]);
	}
	sqlite3_free(p->subject);
	sqlite3_free(p->purpose);
	sqlite3_free(p->consented);
	memset(p, 0, sizeof(*p));
}

/*
 * Erase one subject's faces for one purpose, its consent and its lockout;
 * record the consent's end (outcome) and the erasure (reason).  *erased
 * adds the faces deleted.
 */
static int
FrtSqErasePair(FrtSqOp *op, const char *subject, const char *purpose, bool consented,
			   const char *outcome, const char *reason, int64_t *erased)
{
	sqlite3    *db = op->gov->db;
	FrtSqJson	j = {0};
	char	   *detail;
	int64_t		n;
	int			rc;

	rc = FrtSqStep(db, "DELETE FROM main.frt_face WHERE subject = ? AND purpose = ?", "tt", subject,
				   purpose);
	if (rc != SQLITE_OK)
		return rc;
	n = sqlite3_changes(db);
	if (n > 0)
		op->gov->erase_in_txn = true;
	rc = FrtSqStep(db, "DELETE FROM main.frt_consent WHERE subject = ? AND purpose = ?", "tt",
				   subject, purpose);
	if (rc == SQLITE_OK)
		rc = FrtSqStep(db, "DELETE FROM main.frt_lockout WHERE subject = ? AND purpose = ?", "tt",
					   subject, purpose);
	if (rc == SQLITE_OK && consented)
	{
		FrtSqJsonInt(&j, "faces", n);
		detail = FrtSqJsonFinish(&j);
		rc = FrtSqAuditAppend(db, "consent", outcome, NULL, purpose, subject, detail, NULL, NULL);
		sqlite3_free(detail);
	}
	if (rc == SQLITE_OK && n > 0)
	{
		FrtSqJsonInt(&j, "faces", n);
		FrtSqJsonStr(&j, "reason", reason);
		detail = FrtSqJsonFinish(&j);
		rc = FrtSqAuditAppend(db, "erasure", "erased", NULL, purpose, subject, detail, NULL, NULL);
		sqlite3_free(detail);
	}
	*erased += n;
	return rc;
}

/*
 * frt_withdraw(subject [, purpose]) -> faces erased: the consent ends and
 * the faces are deleted in this call (Art. 6); never refused for who asks.
 */
static void
FrtSqWithdrawFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *subject = (const char *) sqlite3_value_text(argv[0]);
	const char *purpose = argc > 1 ? (const char *) sqlite3_value_text(argv[1]) : NULL;
	FrtSqPairs	pairs = {0};
	FrtSqDevice dev;
	FrtSqOp		op;
	int64_t		erased = 0;
	int			rc;

	if (!FrtSqOpStart(&op, sqlite3_user_data(ctx), ctx, "frt_withdraw", purpose, subject) ||
		!FrtSqOpDevice(&op, &dev))
		return;
	FrtSqDeviceFree(&dev);
	if (!FrtSqArgsPresent(&op, argv, argc, argc > 1 ? "subject and purpose" : "subject"))
		return;
	rc = FrtSqPairsQuery(&pairs, FrtSqQuery(op.gov->db, "SELECT subject, purpose FROM main.frt_consent "
											"WHERE subject = ?1 AND (?2 IS NULL OR purpose = ?2)",
											"tt", subject, purpose), true);
	if (rc == SQLITE_OK)
		rc = FrtSqPairsQuery(&pairs, FrtSqQuery(op.gov->db, "SELECT subject, purpose FROM main.frt_face "
												"WHERE subject = ?1 AND (?2 IS NULL OR purpose = ?2)",
												"tt", subject, purpose), false);
	for (int i = 0; rc == SQLITE_OK && i < pairs.n; i++)
		rc = FrtSqErasePair(&op, pairs.subject[i], pairs.purpose[i], pairs.consented[i], "withdrawn",
							"withdrawal", &erased);
	if (rc == SQLITE_OK && pairs.n == 0)
		rc = FrtSqAuditAppend(op.gov->db, "consent", "nothing_to_withdraw", NULL, purpose, subject,
							  NULL, NULL, NULL);
	FrtSqPairsFree(&pairs);
	FrtSqOpReturn(&op, rc, erased);
}

/*
 * frt_expire() -> faces erased: every consent past its retention ends and
 * its faces are deleted (Art. 8); so are faces no consent covers.
 */
static void
FrtSqExpireFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	FrtSqPairs	expired = {0},
				orphans = {0};
	FrtSqJson	j = {0};
	FrtSqDevice dev;
	FrtSqOp		op;
	int64_t		erased = 0;
	char	   *detail;
	int			rc;

	(void) argc;
	(void) argv;
	if (!FrtSqOpStart(&op, sqlite3_user_data(ctx), ctx, "frt_expire", NULL, NULL) ||
		!FrtSqOpDevice(&op, &dev))
		return;
	FrtSqDeviceFree(&dev);
	rc = FrtSqPairsQuery(&expired, FrtSqQuery(op.gov->db, "SELECT subject, purpose FROM main.frt_consent "
											  "WHERE expires_at <= ? ORDER BY subject, purpose", "i",
											  FrtSqNow(op.gov->db)), true);
	if (rc == SQLITE_OK)
		rc = FrtSqPairsQuery(&orphans, FrtSqQuery(op.gov->db, "SELECT DISTINCT f.subject, f.purpose "
												  "FROM main.frt_face f WHERE NOT EXISTS (SELECT 1 FROM "
												  "main.frt_consent c WHERE c.subject = f.subject AND "
												  "c.purpose = f.purpose)", ""), false);
	for (int i = 0; rc == SQLITE_OK && i < expired.n; i++)
		rc = FrtSqErasePair(&op, expired.subject[i], expired.purpose[i], true, "expired", "retention",
							&erased);
	for (int i = 0; rc == SQLITE_OK && i < orphans.n; i++)
		rc = FrtSqErasePair(&op, orphans.subject[i], orphans.purpose[i], false, "expired", "no_consent",
							&erased);
	if (rc == SQLITE_OK)
	{
		FrtSqJsonInt(&j, "faces", erased);
		FrtSqJsonInt(&j, "consents", expired.n);
		detail = FrtSqJsonFinish(&j);
		rc = FrtSqAuditAppend(op.gov->db, "purge", "ok", NULL, NULL, NULL, detail, NULL, NULL);
		sqlite3_free(detail);
	}
	FrtSqPairsFree(&expired);
	FrtSqPairsFree(&orphans);
	FrtSqOpReturn(&op, rc, erased);
}

/* Register the registry, consent, withdrawal and expiry functions. */
int
FrtSqConsentRegister(sqlite3 *db, FrtSqGov *gov)
{
	static const struct
	{
		const char *name;
		int			nargs;
		void		(*func) (sqlite3_context *, int, sqlite3_value **);
	}			funcs[] = {
		{"frt_purpose_add", 4, FrtSqPurposeAddFunc},
		{"frt_notice_publish", 2, FrtSqNoticePublishFunc},
		{"frt_consent_give", 3, FrtSqConsentGiveFunc},
		{"frt_consent_give", 4, FrtSqConsentGiveFunc},
		{"frt_consent_give", 5, FrtSqConsentGiveFunc},
		{"frt_consent_transfer", 2, FrtSqConsentTransferFunc},
		{"frt_withdraw", 1, FrtSqWithdrawFunc},
		{"frt_withdraw", 2, FrtSqWithdrawFunc},
		{"frt_expire", 0, FrtSqExpireFunc},
	};
	int			rc = SQLITE_OK;

	for (size_t i = 0; rc == SQLITE_OK && i < sizeof(funcs) / sizeof(funcs[0]); i++)
		rc = sqlite3_create_function(db, funcs[i].name, funcs[i].nargs, SQLITE_UTF8 | SQLITE_DIRECTONLY,
									 gov, funcs[i].func, NULL, NULL);
	return rc;
}

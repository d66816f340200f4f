/*-------------------------------------------------------------------------
 *
 * sq_gov_match.c
 *	  Processing a face on the device: enrolment (frt_enroll, with a valid
 *	  consent only), 1:1 verification (frt_verify, with the lockout after
 *	  failed verifications, Art. 14), and 1:N identification, which is a
 *	  query on frt_face that the gallery guard lets run only with a purpose
 *	  whose consents are all valid, and records.  The guard also keeps
 *	  frt_face's rows and vectors to the extension's own statements.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "sq_gov.h"
#include "sq_gallery.h"
#include "frt_embtext.h"

/* A parsed embedding argument. */
typedef struct FrtSqVector
{
	int			dim;
	float		x[FRT_MAX_DIM];
} FrtSqVector;

/*
 * Read an embedding argument (BLOB or text form) of the device's dimension;
 * bad input is rejected (22004, 22P02, 22000, 22003), never echoed.
 */
static bool
FrtSqVectorArg(FrtSqOp *op, sqlite3_value *v, int dim, const char *what, FrtSqVector *out)
{
	FrtEmbResult res;
	FrtEmbError e;
	double		norm = 0;

	if (sqlite3_value_type(v) == SQLITE_NULL)
	{
		FrtSqOpReject(op, "22004", "%s must not be NULL", what);
		return false;
	}
	if (sqlite3_value_type(v) == SQLITE_BLOB)
		e = FrtEmbDecodeBlob(sqlite3_value_blob(v), (size_t) sqlite3_value_bytes(v), out->x,
							 FRT_MAX_DIM, &res);
	else
		e = FrtEmbParseText((const char *) sqlite3_value_text(v), out->x, FRT_MAX_DIM, &res);
	if (e != FRT_EMB_OK)
	{
		FrtSqOpReject(op, e == FRT_EMB_RANGE ? "22003" : "22P02", "%s is not a valid embedding: %s",
					  what, FrtEmbErrorText(e));
		return false;
	}
	if (res.dim != dim)
	{
		FrtSqOpReject(op, "22000", "%s has dimension %d, the device's is %d", what, res.dim, dim);
		return false;
	}
	for (int i = 0; i < dim; i++)
		norm += (double) out->x[i] * out->x[i];
	if (norm == 0)
	{
		FrtSqOpReject(op, "22000", "%s has zero length", what);
		return false;
	}
	if (!isfinite((float) norm) || norm < 1.17549435e-38)
	{
		FrtSqOpReject(op, "22003", "the length of %s is out of float range", what);
		return false;
	}
	out->dim = dim;
	return true;
}

/* Record a match ('match', outcome) with its score shown as a similarity. */
static int
FrtSqAuditMatch(FrtSqOp *op, const FrtSqDevice *dev, const char *kind, const char *outcome,
				double distance, int64_t nrows)
{
	FrtSqJson	j = {0};
	char	   *detail;
	double		similarity = NAN;
	int			rc;

	/* the server records a similarity: cosine 1 - d, inner product -d */
	if (dev->metric == FRT_METRIC_COSINE)
		similarity = 1.0 - distance;
	else if (dev->metric == FRT_METRIC_IP)
		similarity = -distance;
	FrtSqJsonStr(&j, "kind", kind);
	FrtSqJsonStr(&j, "metric", FrtSqMetricName(dev->metric));
	if (nrows >= 0)
		FrtSqJsonInt(&j, "returned", nrows);
	detail = FrtSqJsonFinish(&j);
	rc = FrtSqAuditAppend(op->gov->db, "match", outcome, NULL, op->purpose, op->subject, detail,
						  isfinite(similarity) ? &similarity : NULL, NULL);
	sqlite3_free(detail);
	return rc;
}

/* frt_enroll(subject, purpose, embedding) -> the face's rowid in frt_face. */
static void
FrtSqEnrollFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *subject = (const char *) sqlite3_value_text(argv[0]);
	const char *purpose = (const char *) sqlite3_value_text(argv[1]);
	static __thread FrtSqVector vec;
	FrtSqJson	j = {0};
	FrtSqDevice dev;
	FrtSqOp		op;
	int64_t		consent_seq = 0,
				rowid;
	int			version = 0,
				rc;
	char	   *detail;
	void	   *blob = NULL;

	(void) argc;
	if (!FrtSqOpStart(&op, sqlite3_user_data(ctx), ctx, "frt_enroll", purpose, subject) ||
		!FrtSqOpDevice(&op, &dev))
		return;
	if (subject == NULL || purpose == NULL)
		FrtSqOpReject(&op, "22004", "subject and purpose must not be NULL");
	else if (!FrtSqPurposeRead(op.gov->db, purpose, NULL, NULL))
		FrtSqOpRefuse(&op, "MF004", 4, "purpose '%s' is not registered", op.spurpose);
	else if (FrtSqConsentValid(&op, &dev, FrtSqNow(op.gov->db), &consent_seq, &version) &&
			 FrtSqVectorArg(&op, argv[2], dev.dim, "embedding", &vec))
	{
		blob = sqlite3_malloc64(FRT_EMBBLOB_SIZE(dev.dim));
		if (blob == NULL)
		{
			FrtSqOpError(&op, SQLITE_NOMEM);
			goto done;
		}
		FrtEmbEncodeBlob(vec.x, dev.dim, blob);
		rc = FrtSqStep(op.gov->db, "INSERT INTO main.frt_face (subject, purpose, embedding) "
					   "VALUES (?, ?, ?)", "ttb", subject, purpose, blob, (int) FRT_EMBBLOB_SIZE(dev.dim));
		rowid = sqlite3_last_insert_rowid(op.gov->db);
		if (rc == SQLITE_OK)
		{
			FrtSqJsonInt(&j, "face_id", rowid);
			FrtSqJsonInt(&j, "consent_seq", consent_seq);
			FrtSqJsonInt(&j, "notice_version", version);
			detail = FrtSqJsonFinish(&j);
			rc = FrtSqAuditAppend(op.gov->db, "enrol", "enrolled", NULL, purpose, subject, detail, NULL,
								  NULL);
			sqlite3_free(detail);
		}
		FrtSqOpReturn(&op, rc, rowid);
	}
done:
	/* the copies of the face: zeroed before they are freed */
	if (blob != NULL)
	{
		memset(blob, 0, FRT_EMBBLOB_SIZE(dev.dim));
		sqlite3_free(blob);
	}
	memset(&vec, 0, sizeof(vec));
	FrtSqDeviceFree(&dev);
}

/*
 * The lockout of op's subject and purpose: refuses (MF014) while it is
 * locked; false then.
 */
static bool
FrtSqLockoutCheck(FrtSqOp *op, int64_t now)
{
	sqlite3_stmt *st = FrtSqQuery(op->gov->db, "SELECT locked_until FROM main.frt_lockout WHERE "
								  "subject = ? AND purpose = ? AND locked_until > ?", "tti",
								  op->subject, op->purpose, now);
	bool		locked = st != NULL && sqlite3_step(st) == SQLITE_ROW;

	sqlite3_finalize(st);
	if (locked)
		FrtSqOpRefuse(op, "MF014", 14, "verification of subject '%s' for purpose '%s' is locked after "
					  "repeated failed verifications", op->ssubject, op->spurpose);
	return !locked;
}

/*
 * Count a failed verification; at the device's limit within its window,
 * lock the subject and purpose and raise the alert (an audit record).
 */
static int
FrtSqLockoutFail(FrtSqOp *op, const FrtSqDevice *dev, int64_t now)
{
	sqlite3_stmt *st;
	int64_t		failures = 1,
				window_start = now;
	int			rc;

	st = FrtSqQuery(op->gov->db, "SELECT failures, window_start FROM main.frt_lockout WHERE "
					"subject = ? AND purpose = ?", "tt", op->subject, op->purpose);
	if (st != NULL && sqlite3_step(st) == SQLITE_ROW &&
		sqlite3_column_int64(st, 1) + dev->lockout_window_s * FRT_SQ_USEC_PER_SEC > now)
	{
		failures = sqlite3_column_int64(st, 0) + 1;
		window_start = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (dev->lockout_failures > 0 && failures >= dev->lockout_failures)
	{
		FrtSqJson	j = {0};
		char	   *detail;

		rc = FrtSqStep(op->gov->db, "INSERT OR REPLACE INTO main.frt_lockout (subject, purpose, failures, "
					   "window_start, locked_until) VALUES (?, ?, 0, ?, ?)", "ttii", op->subject,
					   op->purpose, now, now + dev->lockout_s * FRT_SQ_USEC_PER_SEC);
		FrtSqJsonInt(&j, "failed_verifications", failures);
		FrtSqJsonInt(&j, "window_s", dev->lockout_window_s);
		FrtSqJsonInt(&j, "lockout_s", dev->lockout_s);
		detail = FrtSqJsonFinish(&j);
		if (rc == SQLITE_OK)
			rc = FrtSqAuditAppend(op->gov->db, "alert", "verification_lockout", NULL, op->purpose,
								  op->subject, detail, NULL, NULL);
		sqlite3_free(detail);
		return rc;
	}
	return FrtSqStep(op->gov->db, "INSERT OR REPLACE INTO main.frt_lockout (subject, purpose, failures, "
					 "window_start, locked_until) VALUES (?, ?, ?, ?, NULL)", "ttii", op->subject,
					 op->purpose, failures, window_start);
}

/* The best distance of the probe to the subject's faces; false: no face. */
static bool
FrtSqBestDistance(FrtSqOp *op, const FrtSqDevice *dev, const FrtSqVector *probe, double *best,
				  int *rc)
{
	void	   *blob = sqlite3_malloc64(FRT_EMBBLOB_SIZE(dev->dim));
	char	   *sql;
	sqlite3_stmt *st;
	bool		found = false;

	*rc = SQLITE_NOMEM;
	if (blob == NULL)
		return false;
	FrtEmbEncodeBlob(probe->x, dev->dim, blob);
	sql = sqlite3_mprintf("SELECT min(frt_%s_distance(embedding, ?)) FROM main.%s WHERE subject = ? "
						  "AND purpose = ?", FrtSqMetricName(dev->metric), FRT_SQ_FACE_TABLE);
	st = FrtSqQuery(op->gov->db, sql, "btt", blob, (int) FRT_EMBBLOB_SIZE(dev->dim), op->subject,
					op->purpose);
	sqlite3_free(sql);
	memset(blob, 0, FRT_EMBBLOB_SIZE(dev->dim));
	sqlite3_free(blob);
	if (st == NULL)
	{
		*rc = sqlite3_errcode(op->gov->db);
		return false;
	}
	*rc = sqlite3_step(st);
	if (*rc == SQLITE_ROW)
	{
		*rc = SQLITE_OK;
		found = sqlite3_column_type(st, 0) != SQLITE_NULL;
		*best = sqlite3_column_double(st, 0);
	}
	sqlite3_finalize(st);
	return found;
}

/*
 * frt_verify(subject, purpose, probe) -> 1 if the probe's distance to one of
 * the subject's faces for the purpose is at most the purpose's threshold,
 * else 0 (a failure, counted toward the lockout).
 */
static void
FrtSqVerifyFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *subject = (const char *) sqlite3_value_text(argv[0]);
	const char *purpose = (const char *) sqlite3_value_text(argv[1]);
	static __thread FrtSqVector probe;
	FrtSqDevice dev;
	FrtSqOp		op;
	double		threshold = 0,
				best = 0;
	int64_t		now;
	int			rc = SQLITE_OK;
	bool		matched;

	(void) argc;
	if (!FrtSqOpStart(&op, sqlite3_user_data(ctx), ctx, "frt_verify", purpose, subject) ||
		!FrtSqOpDevice(&op, &dev))
		return;
	now = FrtSqNow(op.gov->db);
	if (subject == NULL || purpose == NULL)
		FrtSqOpReject(&op, "22004", "subject and purpose must not be NULL");
	else if (!FrtSqPurposeRead(op.gov->db, purpose, NULL, &threshold))
		FrtSqOpRefuse(&op, "MF004", 4, "purpose '%s' is not registered", op.spurpose);
	else if (FrtSqConsentValid(&op, &dev, now, NULL, NULL) &&
			 FrtSqVectorArg(&op, argv[2], dev.dim, "probe", &probe) &&
			 FrtSqLockoutCheck(&op, now))
	{
		if (!FrtSqBestDistance(&op, &dev, &probe, &best, &rc))
		{
			if (rc != SQLITE_OK)
				FrtSqOpError(&op, rc);
			else
				FrtSqOpRefuse(&op, "MF006", 6, "subject '%s' has no face for purpose '%s'",
							  op.ssubject, op.spurpose);
		}
		else
		{
			matched = best <= threshold;
			rc = FrtSqAuditMatch(&op, &dev, "verification", matched ? "matched" : "not_matched", best, -1);
			if (rc == SQLITE_OK && !matched)
				rc = FrtSqLockoutFail(&op, &dev, now);
			FrtSqOpReturn(&op, rc, matched ? 1 : 0);
		}
	}
	memset(&probe, 0, sizeof(probe));
	FrtSqDeviceFree(&dev);
}

/*
 * A 1:N query on frt_face starts: it needs a registered purpose whose
 * consents are all valid now (none past retention, none under an older
 * notice), since the gallery returns every face of the purpose.
 */
static int
FrtSqGuardQuery(FrtSqGov *gov, const FrtSqGalleryEvent *ev, char **errmsg)
{
	FrtSqDevice dev;
	FrtSqOp		op;
	sqlite3_stmt *st;
	int64_t		now;
	int			current,
				stale = 0;
	double		threshold = 0.0;

	if (!FrtSqOpStart(&op, gov, NULL, "identify", ev->purpose, NULL))
		goto refused;
	if (!FrtSqOpDevice(&op, &dev))
		goto refused;
	now = FrtSqNow(gov->db);
	if (ev->purpose == NULL)
		FrtSqOpRefuse(&op, "MF004", 4, "an identification names its purpose: constrain purpose = ? "
					  "in the query on %s", FRT_SQ_FACE_TABLE);
	else if (!FrtSqPurposeRead(gov->db, ev->purpose, NULL, &threshold))
		FrtSqOpRefuse(&op, "MF004", 4, "purpose '%s' is not registered", op.spurpose);
	/*
	 * no more faces, and none farther, than the purpose needs: a large k or
	 * a distance past the threshold would read the gallery out, one exact
	 * distance at a time (Art. 14; the server's MF142)
	 */
	else if (ev->k > FRT_SQ_IDENTIFY_MAX_K)
		FrtSqOpRefuse(&op, "MF142", 14, "identification asks for %d faces; purpose '%s' returns at most %d",
					  ev->k, op.spurpose, FRT_SQ_IDENTIFY_MAX_K);
	else if (isnan(ev->max_distance) || ev->max_distance > threshold)
		FrtSqOpRefuse(&op, "MF142", 14, "an identification on %s names max_distance, at most the "
					  "threshold %g of purpose '%s'", FRT_SQ_FACE_TABLE, threshold, op.spurpose);
	else
	{
		current = FrtSqNoticeCurrent(gov->db, ev->purpose);
		st = FrtSqQuery(gov->db, "SELECT sum(expires_at <= ?), sum(notice_version <> ?) FROM "
						"main.frt_consent WHERE purpose = ?", "iIt", now, current, ev->purpose);
		if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
			stale = sqlite3_column_int(st, 0) > 0 ? 1 : sqlite3_column_int(st, 1) > 0 ? 2 : 0;
		sqlite3_finalize(st);
		if (stale == 1)
			FrtSqOpRefuse(&op, "MF008", 8, "consents for purpose '%s' have passed their retention "
						  "period: frt_expire() must erase their faces first", op.spurpose);
		else if (stale == 2)
			FrtSqOpRefuse(&op, "MF005", 5, "consents for purpose '%s' were given under an older "
						  "notice: renew or withdraw them first", op.spurpose);
		else if (FrtSqOpFinish(&op))
		{
			FrtSqDeviceFree(&dev);
			return SQLITE_OK;
		}
	}
	FrtSqDeviceFree(&dev);
refused:
	*errmsg = op.errmsg;
	return SQLITE_ERROR;
}

/* A 1:N query on frt_face ended: record it. */
static int
FrtSqGuardQueryDone(FrtSqGov *gov, const FrtSqGalleryEvent *ev, char **errmsg)
{
	FrtSqDevice dev;
	FrtSqOp		op;
	int			rc = SQLITE_ERROR;

	memset(&op, 0, sizeof(op));
	op.gov = gov;
	op.purpose = ev->purpose;
	gov->trusted++;
	if (FrtSqDeviceRead(gov->db, &dev))
	{
		rc = FrtSqAuditMatch(&op, &dev, "identification", ev->nrows > 0 ? "identified" : "no_match",
							 ev->best, ev->nrows);
		FrtSqDeviceFree(&dev);
	}
	gov->trusted--;
	if (rc != SQLITE_OK)
		*errmsg = sqlite3_mprintf("MF140: the audit trail is unavailable (Measures Art. 14)");
	return rc;
}

/*
 * The gallery guard: frt_face's rows are written, its vectors read and its
 * faces verified 1:1 (frt_gallery_verify: an exact distance, no lockout)
 * only by the extension's own statements; its 1:N queries are governed.  Other
 * frt_gallery tables are pure matching, not governed.
 */
static int
FrtSqGuard(void *arg, sqlite3 *db, const FrtSqGalleryEvent *ev, char **errmsg)
{
	FrtSqGov   *gov = arg;

	(void) db;
	if (ev->table == NULL || sqlite3_stricmp(ev->table, FRT_SQ_FACE_TABLE) != 0 || gov->trusted > 0)
		return SQLITE_OK;
	switch (ev->op)
	{
		case FRT_SQ_OP_QUERY:
			/* a 1:1 comparison names its subject: frt_verify's, with the lockout */
			if (ev->subject != NULL)
			{
				*errmsg = sqlite3_mprintf("42501: a face of %s is verified by frt_verify only",
										  FRT_SQ_FACE_TABLE);
				return SQLITE_ERROR;
			}
			return FrtSqGuardQuery(gov, ev, errmsg);
		case FRT_SQ_OP_QUERY_DONE:
			return FrtSqGuardQueryDone(gov, ev, errmsg);
		case FRT_SQ_OP_READ_VECTOR:
			*errmsg = sqlite3_mprintf("42501: the embedding column of %s is not readable",
									  FRT_SQ_FACE_TABLE);
			return SQLITE_ERROR;
		default:
			*errmsg = sqlite3_mprintf("42501: %s is written only by frt_enroll, frt_withdraw and "
									  "frt_expire", FRT_SQ_FACE_TABLE);
			return SQLITE_ERROR;
	}
}

/* Register enrolment and verification, and set the gallery guard. */
int
FrtSqMatchRegister(sqlite3 *db, FrtSqGov *gov)
{
	int			rc;

	rc = sqlite3_create_function(db, "frt_enroll", 3, SQLITE_UTF8 | SQLITE_DIRECTONLY, gov,
								 FrtSqEnrollFunc, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(db, "frt_verify", 3, SQLITE_UTF8 | SQLITE_DIRECTONLY, gov,
									 FrtSqVerifyFunc, NULL, NULL);
	if (rc == SQLITE_OK)
		FrtSqGallerySetGuard(db, FrtSqGuard, gov);
	return rc;
}

/*-------------------------------------------------------------------------
 *
 * sq_sync.c
 *	  Sync of a device to its processor's server: frt_sync_export() cuts the
 *	  payload frt.device_sync() takes, frt_sync_ack() records its reply.
 *
 * The payload holds every frt_audit record after the last one the server
 * acknowledged (all fields; hashes in hex) and the faces whose subjects gave
 * the separate consent to transfer them (frt_consent.transfer = 1, Measures
 * Art. 8), each with the seq of the records that gave the consent and the
 * transfer consent, so that the server checks them in the trail it
 * receives.  A face withheld for want of that consent is audited
 * ("export"/"refused", MF008 as on the server) before the trail is cut, and
 * the export itself is audited, so the server receives those records too.
 * frt_sync_face remembers each face's state (sq_sync.h), so a face the
 * server accepted is never sent again.  See docs/sqlite.md, "Sync to the
 * server".
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sq_sync.h"
#include "sq_gov.h"
#include "frt_chain.h"
#include "frt_embtext.h"

/* A detail object: string and integer values, in jsonb_out's canonical form. */
typedef struct FrtSqSyncDetail
{
	int			n;
	struct
	{
		const char *key;
		char	   *text;			/* the value as JSON text (sqlite3_malloc) */
	}			item[FRT_SQ_SYNC_DETAIL_ITEMS];
} FrtSqSyncDetail;

/* A face of frt_face as the export sees it. */
typedef struct FrtSqSyncFace
{
	sqlite3_int64 rowid;
	char	   *subject;
	char	   *purpose;
	char	   *birth_date;
	char	   *guardian;
	bool		consent;		/* an active consent */
	bool		transfer;		/* ... with the separate transfer consent */
	sqlite3_int64 consent_seq;
	sqlite3_int64 transfer_seq;
	char	   *state;			/* frt_sync_face.state, NULL: none */
	bool		same_consent;	/* frt_sync_face's consent_seq is the consent's */
	bool		same_transfer;	/* ... and its transfer_seq */
} FrtSqSyncFace;

/* One call of frt_sync_export or frt_sync_ack: its connection and transaction. */
typedef struct FrtSqSyncCall
{
	sqlite3_context *ctx;
	sqlite3    *db;
	const char *function;
	bool		entered;		/* FrtSqGovEnter succeeded */
	bool		own;			/* BEGIN IMMEDIATE is ours (else a savepoint) */
	bool		open;
	char	   *device;
	char	   *processor;
} FrtSqSyncCall;

/* The state table of sync (protected like every frt_* table). */
static const char *const FrtSqSyncSchema =
"CREATE TABLE IF NOT EXISTS main.frt_sync_face (face INTEGER PRIMARY KEY, subject TEXT NOT NULL, "
"purpose TEXT NOT NULL, consent_seq INTEGER, transfer_seq INTEGER, state TEXT NOT NULL, "
"sqlstate TEXT, idx INTEGER, export_seq INTEGER)";

/* Append s to out as a JSON string, escaped as jsonb_out escapes it. */
static void
FrtSqSyncJsonString(sqlite3_str *out, const char *s)
{
	sqlite3_str_appendchar(out, 1, '"');
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		switch (*p)
		{
			case '"':
				sqlite3_str_appendall(out, "\\\"");
				break;
			case '\\':
				sqlite3_str_appendall(out, "\\\\");
				break;
			case '\b':
				sqlite3_str_appendall(out, "\\b");
				break;
			case '\f':
				sqlite3_str_appendall(out, "\\f");
				break;
			case '\n':
				sqlite3_str_appendall(out, "\\n");
				break;
			case '\r':
				sqlite3_str_appendall(out, "\\r");
				break;
			case '\t':
				sqlite3_str_appendall(out, "\\t");
				break;
			default:
				if (*p < 0x20)
					sqlite3_str_appendf(out, "\\u%04x", *p);
				else
					sqlite3_str_appendchar(out, 1, (char) *p);
		}
	}
	sqlite3_str_appendchar(out, 1, '"');
}

/* Append "key": value to out, or "key": null for a NULL value. */
static void
FrtSqSyncJsonField(sqlite3_str *out, const char *key, const char *value, bool first)
{
	if (!first)
		sqlite3_str_appendall(out, ", ");
	FrtSqSyncJsonString(out, key);
	sqlite3_str_appendall(out, ": ");
	if (value == NULL)
		sqlite3_str_appendall(out, "null");
	else
		FrtSqSyncJsonString(out, value);
}

/* Add a string value to a detail object. */
static void
FrtSqSyncDetailStr(FrtSqSyncDetail *d, const char *key, const char *value)
{
	sqlite3_str *s = sqlite3_str_new(NULL);

	FrtSqSyncJsonString(s, value);
	d->item[d->n].key = key;
	d->item[d->n++].text = sqlite3_str_finish(s);
}

/* Add an integer value to a detail object. */
static void
FrtSqSyncDetailInt(FrtSqSyncDetail *d, const char *key, sqlite3_int64 value)
{
	d->item[d->n].key = key;
	d->item[d->n++].text = sqlite3_mprintf("%lld", (long long) value);
}

/* Order of keys in jsonb: shorter first, then by bytes. */
static int
FrtSqSyncKeyCmp(const void *a, const void *b)
{
	const char *ka = *(const char *const *) a;
	const char *kb = *(const char *const *) b;
	size_t		la = strlen(ka),
				lb = strlen(kb);

	if (la != lb)
		return la < lb ? -1 : 1;
	return memcmp(ka, kb, la);
}

/* The detail object as jsonb_out writes it (sqlite3_malloc); frees the values. */
static char *
FrtSqSyncDetailFinish(FrtSqSyncDetail *d)
{
	sqlite3_str *s = sqlite3_str_new(NULL);

	qsort(d->item, d->n, sizeof(d->item[0]), FrtSqSyncKeyCmp);
	sqlite3_str_appendchar(s, 1, '{');
	for (int i = 0; i < d->n; i++)
	{
		if (i > 0)
			sqlite3_str_appendall(s, ", ");
		FrtSqSyncJsonString(s, d->item[i].key);
		sqlite3_str_appendall(s, ": ");
		sqlite3_str_appendall(s, d->item[i].text ? d->item[i].text : "null");
		sqlite3_free(d->item[i].text);
	}
	sqlite3_str_appendchar(s, 1, '}');
	d->n = 0;
	return sqlite3_str_finish(s);
}

/* Now, in microseconds since 2000-01-01 UTC (the trail's 'at'). */
static sqlite3_int64
FrtSqSyncNow(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((sqlite3_int64) ts.tv_sec - FRT_CHAIN_EPOCH_OFFSET) * 1000000 + ts.tv_nsec / 1000;
}

/* A copy of a column's text (sqlite3_malloc), NULL for NULL. */
static char *
FrtSqSyncColumnText(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? sqlite3_mprintf("%s", (const char *) t) : NULL;
}

/* Run one statement with text (t) and integer (i) parameters, as fmt says. */
static int
FrtSqSyncExec(sqlite3 *db, const char *sql, const char *fmt,...)
{
	sqlite3_stmt *st;
	va_list		ap;
	int			rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return rc;
	va_start(ap, fmt);
	for (int i = 0; fmt[i]; i++)
	{
		if (fmt[i] == 't')
			sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_int64(st, i + 1, va_arg(ap, sqlite3_int64));
	}
	va_end(ap);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* Start a call: through governance's protection, in one transaction. */
static bool
FrtSqSyncStart(FrtSqSyncCall *call, sqlite3_context *ctx, const char *function)
{
	sqlite3_stmt *st;
	int			rc;

	memset(call, 0, sizeof(*call));
	call->ctx = ctx;
	call->db = sqlite3_context_db_handle(ctx);
	call->function = function;
	if (!FrtSqGovEnter(call->db))
	{
		sqlite3_result_error(ctx, "frt sync: the device's governance is not loaded on this connection", -1);
		return false;
	}
	call->entered = true;
	call->own = sqlite3_get_autocommit(call->db);
	rc = FrtSqSyncExec(call->db, call->own ? "BEGIN IMMEDIATE" : "SAVEPOINT frt_sync", "");
	if (rc != SQLITE_OK)
	{
		sqlite3_result_error_code(ctx, rc);
		return false;
	}
	call->open = true;
	rc = sqlite3_prepare_v2(call->db, "SELECT device, processor FROM main.frt_device WHERE id = 1", -1, &st, NULL);
	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
	{
		call->device = FrtSqSyncColumnText(st, 0);
		call->processor = FrtSqSyncColumnText(st, 1);
	}
	sqlite3_finalize(st);
	if (call->device == NULL || call->processor == NULL)
	{
		sqlite3_result_error(ctx, "frt sync: this database is not a device yet (frt_device_init)", -1);
		return false;
	}
	return FrtSqSyncExec(call->db, FrtSqSyncSchema, "") == SQLITE_OK;
}

/* End a call: commit if ok, else roll back; leave the protection. */
static bool
FrtSqSyncFinish(FrtSqSyncCall *call, bool ok)
{
	int			rc = SQLITE_OK;

	if (call->open)
	{
		if (ok)
			rc = FrtSqSyncExec(call->db, call->own ? "COMMIT" : "RELEASE frt_sync", "");
		if (!ok || rc != SQLITE_OK)
		{
			if (call->own)
				FrtSqSyncExec(call->db, "ROLLBACK", "");
			else
			{
				FrtSqSyncExec(call->db, "ROLLBACK TO frt_sync", "");
				FrtSqSyncExec(call->db, "RELEASE frt_sync", "");
			}
			if (ok)
				sqlite3_result_error_code(call->ctx, rc);
			ok = false;
		}
		call->open = false;
	}
	if (call->entered)
		FrtSqGovLeave(call->db);
	call->entered = false;
	sqlite3_free(call->device);
	sqlite3_free(call->processor);
	call->device = call->processor = NULL;
	return ok;
}

/*
 * Refuse the call: roll its work back, audit the refusal (in its own
 * transaction, so that it stays), raise "<sqlstate>: <message> (Measures
 * Art. <article>)" as governance does; article 0: a rejection of input.
 */
static void
FrtSqSyncRefuse(FrtSqSyncCall *call, const char *sqlstate, int article, const char *reason)
{
	FrtSqSyncDetail d = {0};
	char	   *detail;
	char	   *msg;

	FrtSqSyncFinish(call, false);
	FrtSqGovEnter(call->db);
	FrtSqSyncDetailStr(&d, "function", call->function);
	FrtSqSyncDetailStr(&d, "reason", reason);
	if (article > 0)
		FrtSqSyncDetailInt(&d, "article", article);
	detail = FrtSqSyncDetailFinish(&d);
	FrtSqAuditAppend(call->db, article > 0 ? "refusal" : "rejected", article > 0 ? "refused" : "rejected",
					 sqlstate, NULL, NULL, detail, NULL, NULL);
	FrtSqGovLeave(call->db);
	sqlite3_free(detail);
	msg = article > 0 ? sqlite3_mprintf("%s: %s (Measures Art. %d)", sqlstate, reason, article)
		: sqlite3_mprintf("%s: %s", sqlstate, reason);
	sqlite3_result_error(call->ctx, msg, -1);
	sqlite3_free(msg);
}

/* Free the faces read by FrtSqSyncReadFaces. */
static void
FrtSqSyncFreeFaces(FrtSqSyncFace *faces, int n)
{
	for (int i = 0; i < n; i++)
	{
		sqlite3_free(faces[i].subject);
		sqlite3_free(faces[i].purpose);
		sqlite3_free(faces[i].birth_date);
		sqlite3_free(faces[i].guardian);
		sqlite3_free(faces[i].state);
	}
	sqlite3_free(faces);
}

/* Every face of frt_face with its consent and its sync state; -1 on error. */
static int
FrtSqSyncReadFaces(sqlite3 *db, sqlite3_int64 now, FrtSqSyncFace **out)
{
	sqlite3_stmt *st;
	FrtSqSyncFace *faces = NULL;
	int			n = 0,
				cap = 0,
				rc;

	rc = sqlite3_prepare_v2(db,
							"SELECT f.rowid, f.subject, f.purpose, c.consent_seq, c.transfer, c.transfer_seq, "
							"c.birth_date, c.guardian, s.state, s.consent_seq IS c.consent_seq, "
							"s.transfer_seq IS c.transfer_seq "
							"FROM main.frt_face f "
							"LEFT JOIN main.frt_consent c ON c.subject = f.subject AND c.purpose = f.purpose "
							"AND c.expires_at > ?1 "
							"LEFT JOIN main.frt_sync_face s ON s.face = f.rowid AND s.subject IS f.subject "
							"AND s.purpose IS f.purpose "
							"ORDER BY f.rowid", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
	{
		FrtSqSyncFace *f;

		if (n == cap)
		{
			FrtSqSyncFace *more;

			cap = cap ? 2 * cap : 16;
			more = sqlite3_realloc64(faces, (sqlite3_uint64) cap * sizeof(*faces));
			if (more == NULL)
			{
				rc = SQLITE_NOMEM;
				break;
			}
			faces = more;
		}
		f = &faces[n++];
		memset(f, 0, sizeof(*f));
		f->rowid = sqlite3_column_int64(st, 0);
		f->subject = FrtSqSyncColumnText(st, 1);
		f->purpose = FrtSqSyncColumnText(st, 2);
		f->consent = sqlite3_column_type(st, 3) != SQLITE_NULL;
		f->consent_seq = sqlite3_column_int64(st, 3);
		f->transfer = f->consent && sqlite3_column_int(st, 4) == 1 && sqlite3_column_type(st, 5) != SQLITE_NULL;
		f->transfer_seq = sqlite3_column_int64(st, 5);
		f->birth_date = FrtSqSyncColumnText(st, 6);
		f->guardian = FrtSqSyncColumnText(st, 7);
		f->state = FrtSqSyncColumnText(st, 8);
		f->same_consent = sqlite3_column_int(st, 9) == 1;
		f->same_transfer = sqlite3_column_int(st, 10) == 1;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
	{
		FrtSqSyncFreeFaces(faces, n);
		return -1;
	}
	*out = faces;
	return n;
}

/* Whether a face goes into the payload: transfer consent, and not done already. */
static bool
FrtSqSyncWanted(const FrtSqSyncFace *f)
{
	if (!f->transfer)
		return false;
	if (f->state && strcmp(f->state, FRT_SQ_SYNC_ACCEPTED) == 0)
		return false;
	/* refused by the server: again only after a new transfer consent */
	if (f->state && strcmp(f->state, FRT_SQ_SYNC_REFUSED) == 0 && f->same_transfer)
		return false;
	return true;
}

/* Audit a face withheld for want of (transfer) consent, once per consent. */
static int
FrtSqSyncWithhold(FrtSqSyncCall *call, const FrtSqSyncFace *f, sqlite3_int64 *withheld)
{
	FrtSqSyncDetail d = {0};
	const char *code = f->consent ? "MF008" : "MF006";
	char	   *detail;
	int			rc;

	if (f->state && strcmp(f->state, FRT_SQ_SYNC_WITHHELD) == 0 && f->same_consent)
		return SQLITE_OK;
	FrtSqSyncDetailStr(&d, "function", call->function);
	FrtSqSyncDetailInt(&d, "article", f->consent ? 8 : 6);
	FrtSqSyncDetailStr(&d, "reason", f->consent ? FRT_SQ_SYNC_NO_TRANSFER : FRT_SQ_SYNC_NO_CONSENT);
	FrtSqSyncDetailInt(&d, "face", f->rowid);
	detail = FrtSqSyncDetailFinish(&d);
	rc = FrtSqAuditAppend(call->db, "export", "refused", code, f->purpose, f->subject, detail, NULL, NULL);
	sqlite3_free(detail);
	if (rc == SQLITE_OK)
		rc = FrtSqSyncExec(call->db,
						   "INSERT OR REPLACE INTO main.frt_sync_face (face, subject, purpose, consent_seq, "
						   "state) VALUES (?1, ?2, ?3, CASE WHEN ?5 THEN ?4 END, '" FRT_SQ_SYNC_WITHHELD "')",
						   "ittii", f->rowid, f->subject, f->purpose, f->consent_seq,
						   (sqlite3_int64) f->consent);
	(*withheld)++;
	return rc;
}

/* Append the audit records after seq 'after' to the payload's "audit" array. */
static int
FrtSqSyncAppendTrail(sqlite3 *db, sqlite3_int64 after, sqlite3_str *out)
{
	static const char *const names[] = {"event", "outcome", "sqlstate", "role_name", "effective_role",
	"application", "client_addr", "purpose", "subject", "device"};
	sqlite3_stmt *st;
	int			rc;
	bool		first = true;

	rc = sqlite3_prepare_v2(db,
							"SELECT seq, at, backend_pid, similarity, event, outcome, sqlstate, role_name, "
							"effective_role, application, client_addr, purpose, subject, device, detail, "
							"prev_hash, hash, hash_alg FROM main.frt_audit WHERE seq > ? ORDER BY seq",
							-1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, after);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
	{
		char		hex[2 * FRT_CHAIN_HASH_LEN + 1];

		sqlite3_str_appendall(out, first ? "{" : ", {");
		first = false;
		sqlite3_str_appendf(out, "\"seq\": %lld, \"at\": %lld, \"backend_pid\": %lld, \"similarity\": ",
							(long long) sqlite3_column_int64(st, 0), (long long) sqlite3_column_int64(st, 1),
							(long long) sqlite3_column_int64(st, 2));
		if (sqlite3_column_type(st, 3) == SQLITE_NULL || !isfinite(sqlite3_column_double(st, 3)))
			sqlite3_str_appendall(out, "null");
		else
		{
			/* round-trip exact (SQLite's own printf stops at 16 digits) */
			char		num[FRT_SQ_SYNC_NUMBER_LEN];

			snprintf(num, sizeof(num), "%.17g", sqlite3_column_double(st, 3));
			sqlite3_str_appendall(out, num);
		}
		for (int i = 0; i < (int) (sizeof(names) / sizeof(names[0])); i++)
			FrtSqSyncJsonField(out, names[i], (const char *) sqlite3_column_text(st, 4 + i), false);
		/* detail: JSON text in jsonb_out's form, embedded as it is */
		sqlite3_str_appendall(out, ", \"detail\": ");
		sqlite3_str_appendall(out, sqlite3_column_type(st, 14) == SQLITE_NULL ? "null"
							  : (const char *) sqlite3_column_text(st, 14));
		for (int i = 15; i <= 16; i++)
		{
			if (sqlite3_column_bytes(st, i) != FRT_CHAIN_HASH_LEN)
			{
				rc = SQLITE_CORRUPT;
				break;
			}
			FrtChainToHex(sqlite3_column_blob(st, i), FRT_CHAIN_HASH_LEN, hex);
			FrtSqSyncJsonField(out, i == 15 ? "prev_hash" : "hash", hex, false);
		}
		if (rc == SQLITE_CORRUPT)
			break;
		FrtSqSyncJsonField(out, "hash_alg", (const char *) sqlite3_column_text(st, 17), false);
		sqlite3_str_appendchar(out, 1, '}');
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Append one face (its embedding in the text form) to the payload's "faces". */
static int
FrtSqSyncAppendFace(sqlite3 *db, const FrtSqSyncFace *f, bool first, sqlite3_str *out)
{
	sqlite3_stmt *st;
	float	   *x = NULL;
	char	   *text = NULL;
	FrtEmbResult res;
	int			rc;

	rc = sqlite3_prepare_v2(db, "SELECT embedding FROM main.frt_face WHERE rowid = ?", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, f->rowid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
	{
		x = sqlite3_malloc64(sizeof(float) * FRT_MAX_DIM);
		text = sqlite3_malloc64((sqlite3_uint64) FRT_MAX_DIM * FRT_EMBTEXT_FLOAT_LEN + 3);
		if (x == NULL || text == NULL)
			rc = SQLITE_NOMEM;
		else if (FrtEmbDecodeBlob(sqlite3_column_blob(st, 0), (size_t) sqlite3_column_bytes(st, 0), x,
								  FRT_MAX_DIM, &res) != FRT_EMB_OK)
			rc = SQLITE_CORRUPT;
		else
		{
			FrtEmbFormatText(x, res.dim, text);
			sqlite3_str_appendall(out, first ? "{" : ", {");
			FrtSqSyncJsonField(out, "subject", f->subject, true);
			FrtSqSyncJsonField(out, "purpose", f->purpose, false);
			sqlite3_str_appendf(out, ", \"embedding\": \"%s\", \"consent_seq\": %lld, \"transfer_seq\": %lld",
								text, (long long) f->consent_seq, (long long) f->transfer_seq);
			if (f->birth_date)
				FrtSqSyncJsonField(out, "birth_date", f->birth_date, false);
			if (f->guardian)
				FrtSqSyncJsonField(out, "guardian", f->guardian, false);
			sqlite3_str_appendchar(out, 1, '}');
			rc = SQLITE_OK;
		}
		/* the vector and its text leave no copy behind */
		if (x)
			explicit_bzero(x, sizeof(float) * FRT_MAX_DIM);
		if (text)
			explicit_bzero(text, (size_t) FRT_MAX_DIM * FRT_EMBTEXT_FLOAT_LEN + 3);
		sqlite3_free(x);
		sqlite3_free(text);
	}
	else if (rc == SQLITE_DONE)
		rc = SQLITE_CORRUPT;
	sqlite3_finalize(st);
	return rc;
}

/*
 * frt_sync_export() -> the payload (text): audit each face withheld, audit
 * the export, then cut the trail after the last record acknowledged and add
 * the faces with transfer consent; frt_sync_face marks them sent.
 */
static void
FrtSqSyncExportFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	FrtSqSyncCall call;
	FrtSqSyncFace *faces = NULL;
	FrtSqSyncDetail d = {0};
	sqlite3_str *out = NULL;
	sqlite3_stmt *st;
	int64_t		export_seq = 0;
	sqlite3_int64 shipped = 0,
				withheld = 0,
				wanted = 0,
				idx = 0;
	char	   *detail;
	int			n = 0,
				rc = SQLITE_OK;

	(void) argc;
	(void) argv;
	if (!FrtSqSyncStart(&call, ctx, "frt_sync_export"))
	{
		FrtSqSyncFinish(&call, false);
		return;
	}
	if (sqlite3_prepare_v2(call.db, "SELECT shipped_seq FROM main.frt_sync WHERE id = 1", -1, &st, NULL) == SQLITE_OK
		&& sqlite3_step(st) == SQLITE_ROW)
		shipped = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	n = FrtSqSyncReadFaces(call.db, FrtSqSyncNow(), &faces);
	if (n < 0)
		rc = sqlite3_errcode(call.db);
	/* forget faces erased since (a rowid may come back for another face) */
	if (rc == SQLITE_OK)
		rc = FrtSqSyncExec(call.db, "DELETE FROM main.frt_sync_face WHERE face NOT IN "
						   "(SELECT rowid FROM main.frt_face)", "");
	/* every face withheld is on record before the trail is cut */
	for (int i = 0; rc == SQLITE_OK && i < n; i++)
	{
		if (!faces[i].transfer)
			rc = FrtSqSyncWithhold(&call, &faces[i], &withheld);
		else if (FrtSqSyncWanted(&faces[i]))
			wanted++;
	}
	if (rc == SQLITE_OK)
	{
		FrtSqSyncDetailInt(&d, "faces", wanted);
		FrtSqSyncDetailInt(&d, "withheld", withheld);
		FrtSqSyncDetailInt(&d, "from", shipped + 1);
		detail = FrtSqSyncDetailFinish(&d);
		rc = FrtSqAuditAppend(call.db, "export", "exported", NULL, NULL, NULL, detail, NULL, &export_seq);
		sqlite3_free(detail);
	}
	if (rc == SQLITE_OK)
	{
		out = sqlite3_str_new(call.db);
		sqlite3_str_appendall(out, "{\"format\": ");
		FrtSqSyncJsonString(out, FRT_SQ_SYNC_FORMAT);
		FrtSqSyncJsonField(out, "device", call.device, false);
		FrtSqSyncJsonField(out, "processor", call.processor, false);
		sqlite3_str_appendall(out, ", \"audit\": [");
		rc = FrtSqSyncAppendTrail(call.db, shipped, out);
		sqlite3_str_appendall(out, "], \"faces\": [");
	}
	for (int i = 0; rc == SQLITE_OK && i < n; i++)
	{
		if (!FrtSqSyncWanted(&faces[i]))
			continue;
		rc = FrtSqSyncAppendFace(call.db, &faces[i], idx == 0, out);
		if (rc == SQLITE_OK)
			rc = FrtSqSyncExec(call.db,
							   "INSERT OR REPLACE INTO main.frt_sync_face (face, subject, purpose, consent_seq, "
							   "transfer_seq, state, idx, export_seq) VALUES (?, ?, ?, ?, ?, '" FRT_SQ_SYNC_SENT "', ?, ?)",
							   "ittiiii", faces[i].rowid, faces[i].subject, faces[i].purpose, faces[i].consent_seq,
							   faces[i].transfer_seq, idx, (sqlite3_int64) export_seq);
		idx++;
	}
	FrtSqSyncFreeFaces(faces, n > 0 ? n : 0);
	if (out)
		sqlite3_str_appendall(out, "]}");
	if (rc != SQLITE_OK)
	{
		char	   *p = sqlite3_str_finish(out);

		if (p)
			explicit_bzero(p, strlen(p));
		sqlite3_free(p);
		if (sqlite3_errcode(call.db) != SQLITE_OK)
			sqlite3_result_error(ctx, sqlite3_errmsg(call.db), -1);
		else
			sqlite3_result_error_code(ctx, rc);
		FrtSqSyncFinish(&call, false);
		return;
	}
	if (FrtSqSyncFinish(&call, true))
		sqlite3_result_text(ctx, sqlite3_str_finish(out), -1, sqlite3_free);
	else
		sqlite3_free(sqlite3_str_finish(out));
}

/*
 * Record the server's verdict on the faces of one list of the reply
 * ("accepted" or "refused"): each names a face of the last payload by its
 * index, with its subject and purpose; audited one by one.  *count gets
 * how many; an entry that names no face of the last payload (not sent by
 * this device) changes nothing and is counted in *unknown.  False (and
 * *why) on an error.
 */
static bool
FrtSqSyncVerdicts(FrtSqSyncCall *call, const char *reply, bool accepted, sqlite3_int64 *count,
				  sqlite3_int64 *unknown, const char **why)
{
	sqlite3_stmt *st;
	int			rc;

	*count = 0;
	rc = sqlite3_prepare_v2(call->db,
							"SELECT json_extract(j.value, '$.face'), s.face, s.subject, s.purpose, "
							"json_extract(j.value, '$.sqlstate'), json_extract(j.value, '$.face_id') "
							"FROM json_each(?1, ?2) j LEFT JOIN main.frt_sync_face s "
							"ON s.idx = json_extract(j.value, '$.face') AND s.state = '" FRT_SQ_SYNC_SENT "' "
							"AND s.subject IS json_extract(j.value, '$.subject') "
							"AND s.purpose IS json_extract(j.value, '$.purpose') "
							"ORDER BY j.key", -1, &st, NULL);
	if (rc != SQLITE_OK)
	{
		*why = sqlite3_errmsg(call->db);
		return false;
	}
	sqlite3_bind_text(st, 1, reply, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, accepted ? "$.accepted" : "$.refused", -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
	{
		FrtSqSyncDetail d = {0};
		char	   *detail;
		const char *sqlstate = (const char *) sqlite3_column_text(st, 4);

		if (sqlite3_column_type(st, 1) == SQLITE_NULL || (!accepted && sqlstate == NULL))
		{
			(*unknown)++;
			continue;
		}
		FrtSqSyncDetailInt(&d, "face", sqlite3_column_int64(st, 1));
		if (accepted && sqlite3_column_type(st, 5) == SQLITE_INTEGER)
			FrtSqSyncDetailInt(&d, "server_face", sqlite3_column_int64(st, 5));
		detail = FrtSqSyncDetailFinish(&d);
		rc = FrtSqAuditAppend(call->db, "sync", accepted ? "accepted" : "refused", accepted ? NULL : sqlstate,
							  (const char *) sqlite3_column_text(st, 3), (const char *) sqlite3_column_text(st, 2),
							  detail, NULL, NULL);
		sqlite3_free(detail);
		if (rc == SQLITE_OK)
			rc = FrtSqSyncExec(call->db, "UPDATE main.frt_sync_face SET state = ?, sqlstate = ?, idx = NULL "
							   "WHERE face = ?", "tti", accepted ? FRT_SQ_SYNC_ACCEPTED : FRT_SQ_SYNC_REFUSED,
							   accepted ? NULL : sqlstate, sqlite3_column_int64(st, 1));
		if (rc != SQLITE_OK)
			break;
		(*count)++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
	{
		*why = sqlite3_errmsg(call->db);
		return false;
	}
	return true;
}

/*
 * frt_sync_ack(reply) -> the seq the server acknowledged: the reply of
 * frt.device_sync() to the last payload.  Its received_through must be a
 * record of this trail, not before the one acknowledged last, with the
 * hash the server names (else MF148, nothing recorded); the faces it
 * accepted are never sent again, those it refused only after a new transfer
 * consent; each verdict and the acknowledgement are audited.
 */
static void
FrtSqSyncAckFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	FrtSqSyncCall call;
	FrtSqSyncDetail d = {0};
	const char *reply = (const char *) sqlite3_value_text(argv[0]);
	sqlite3_stmt *st;
	sqlite3_int64 through = -1,
				receipt = 0,
				shipped = 0,
				head = 0,
				naccepted = 0,
				nrefused = 0,
				nunknown = 0;
	char	   *hash = NULL;
	char	   *ours = NULL;
	char	   *device = NULL;
	const char *why = NULL;
	char	   *detail;
	bool		shaped = false;
	int			rc;

	(void) argc;
	if (!FrtSqSyncStart(&call, ctx, "frt_sync_ack"))
	{
		FrtSqSyncFinish(&call, false);
		return;
	}
	rc = sqlite3_prepare_v2(call.db,
							"SELECT json_type(?1, '$.received_through') = 'integer' "
							"AND json_type(?1, '$.received_hash') = 'text' "
							"AND json_type(?1, '$.accepted') = 'array' AND json_type(?1, '$.refused') = 'array', "
							"json_extract(?1, '$.received_through'), json_extract(?1, '$.received_hash'), "
							"json_extract(?1, '$.receipt'), json_extract(?1, '$.device'), "
							"(SELECT shipped_seq FROM main.frt_sync WHERE id = 1), "
							"(SELECT max(seq) FROM main.frt_audit) "
							"WHERE json_valid(?1)", -1, &st, NULL);
	if (rc == SQLITE_OK)
	{
		sqlite3_bind_text(st, 1, reply, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1)
		{
			shaped = true;
			through = sqlite3_column_int64(st, 1);
			hash = FrtSqSyncColumnText(st, 2);
			receipt = sqlite3_column_int64(st, 3);
			device = FrtSqSyncColumnText(st, 4);
			shipped = sqlite3_column_int64(st, 5);
			head = sqlite3_column_int64(st, 6);
		}
	}
	sqlite3_finalize(st);
	if (!shaped || reply == NULL)
	{
		sqlite3_free(hash);
		sqlite3_free(device);
		FrtSqSyncRefuse(&call, "22023", 0, "the server's reply is not an acknowledgement of frt.device_sync");
		return;
	}
	if (device != NULL && strcmp(device, call.device) != 0)
		why = "the server's acknowledgement is for another device";
	else if (through < shipped || through > head)
		why = "the server's acknowledgement names a record outside the part of the trail sent";
	else if (through > shipped)
	{
		uint8_t		h[FRT_CHAIN_HASH_LEN];

		if (sqlite3_prepare_v2(call.db, "SELECT hash FROM main.frt_audit WHERE seq = ?", -1, &st, NULL) == SQLITE_OK)
		{
			sqlite3_bind_int64(st, 1, through);
			if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == FRT_CHAIN_HASH_LEN)
			{
				ours = sqlite3_malloc(2 * FRT_CHAIN_HASH_LEN + 1);
				if (ours)
					FrtChainToHex(sqlite3_column_blob(st, 0), FRT_CHAIN_HASH_LEN, ours);
			}
		}
		sqlite3_finalize(st);
		if (ours == NULL || !FrtChainFromHex(hash, h, FRT_CHAIN_HASH_LEN)
			|| sqlite3_stricmp(ours, hash) != 0)
			why = "the server's acknowledgement does not match this device's audit trail";
	}
	sqlite3_free(hash);
	sqlite3_free(ours);
	sqlite3_free(device);
	if (why != NULL)
	{
		FrtSqSyncRefuse(&call, "MF148", 14, why);
		return;
	}
	if (!FrtSqSyncVerdicts(&call, reply, true, &naccepted, &nunknown, &why)
		|| !FrtSqSyncVerdicts(&call, reply, false, &nrefused, &nunknown, &why))
	{
		sqlite3_result_error(ctx, why, -1);
		FrtSqSyncFinish(&call, false);
		return;
	}
	FrtSqSyncDetailInt(&d, "through", through);
	FrtSqSyncDetailInt(&d, "receipt", receipt);
	FrtSqSyncDetailInt(&d, "accepted", naccepted);
	FrtSqSyncDetailInt(&d, "refused", nrefused);
	if (nunknown > 0)
		FrtSqSyncDetailInt(&d, "unknown", nunknown);
	detail = FrtSqSyncDetailFinish(&d);
	rc = FrtSqAuditAppend(call.db, "sync", "acknowledged", NULL, NULL, NULL, detail, NULL, NULL);
	sqlite3_free(detail);
	if (rc == SQLITE_OK)
		rc = FrtSqSyncExec(call.db, "UPDATE main.frt_sync SET shipped_seq = ?, server_seq = ?, acked_at = ? "
						   "WHERE id = 1", "iii", through, receipt, FrtSqSyncNow());
	if (rc != SQLITE_OK)
	{
		sqlite3_result_error(ctx, sqlite3_errmsg(call.db), -1);
		FrtSqSyncFinish(&call, false);
		return;
	}
	if (FrtSqSyncFinish(&call, true))
		sqlite3_result_int64(ctx, through);
}

/*
 * frt_sync_status() -> JSON text: the seq acknowledged last, the server's
 * receipt of it, the records not yet acknowledged and the faces per state.
 */
static void
FrtSqSyncStatusFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	sqlite3    *db = sqlite3_context_db_handle(ctx);
	sqlite3_stmt *st;
	bool		entered = FrtSqGovEnter(db);
	int			rc;

	(void) argc;
	(void) argv;
	FrtSqSyncExec(db, FrtSqSyncSchema, "");
	rc = sqlite3_prepare_v2(db,
							"SELECT json_object('shipped_seq', s.shipped_seq, 'server_seq', s.server_seq, "
							"'pending_records', (SELECT count(*) FROM main.frt_audit a WHERE a.seq > s.shipped_seq), "
							"'faces', (SELECT json_group_object(state, n) FROM (SELECT state, count(*) AS n "
							"FROM main.frt_sync_face GROUP BY state ORDER BY state))) "
							"FROM main.frt_sync s WHERE s.id = 1", -1, &st, NULL);
	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		sqlite3_result_text(ctx, (const char *) sqlite3_column_text(st, 0), -1, SQLITE_TRANSIENT);
	else
		sqlite3_result_error(ctx, "frt sync: this database is not a device yet (frt_device_init)", -1);
	sqlite3_finalize(st);
	if (entered)
		FrtSqGovLeave(db);
}

/* Register the sync functions on a connection (after governance). */
int
FrtSqSyncRegister(sqlite3 *db, char **errmsg)
{
	int			rc;

	rc = sqlite3_create_function(db, "frt_sync_export", 0, SQLITE_UTF8 | SQLITE_DIRECTONLY, NULL,
								 FrtSqSyncExportFunc, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(db, "frt_sync_ack", 1, SQLITE_UTF8 | SQLITE_DIRECTONLY, NULL,
									 FrtSqSyncAckFunc, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(db, "frt_sync_status", 0, SQLITE_UTF8 | SQLITE_DIRECTONLY, NULL,
									 FrtSqSyncStatusFunc, NULL, NULL);
	if (rc != SQLITE_OK && errmsg)
		*errmsg = sqlite3_mprintf("frt sync: %s", sqlite3_errmsg(db));
	return rc;
}

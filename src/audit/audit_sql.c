/*-------------------------------------------------------------------------
 *
 * audit_sql.c
 *	  SQL entry points of the audit trail: frt.audit_event(), the append-only
 *	  guard trigger, frt.verify_audit_chain() and
 *	  frt.audit_retention_purge().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "mb/pg_wchar.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "frt_audit.h"

/* The event a retention purge records (and that backs a moved anchor). */
#define FRT_AUDIT_PURGE_EVENT "audit_retention_purge"

/* Set while frt.audit_retention_purge() deletes: rows older than this go. */
static TimestampTz FrtAuditPurgeBefore = 0;

/* Set while a restored anchor is written over the initial one. */
static bool FrtAuditRestoringAnchor = false;

/* Column numbers of an audit row's parts in a tuple descriptor (by name). */
typedef struct FrtAuditAtts
{
	AttrNumber	seq;
	AttrNumber	at;
	AttrNumber	backend_pid;
	AttrNumber	similarity;
	AttrNumber	prev_hash;
	AttrNumber	hash;
	AttrNumber	mac;
	AttrNumber	hash_alg;		/* InvalidAttrNumber before the upgrade: sha256 */
	AttrNumber	field[FRT_AUDIT_NFIELDS];	/* FrtAuditField order */
} FrtAuditAtts;

static bool FrtGetHash(HeapTuple tup, TupleDesc desc, AttrNumber att, uint8 *out);
static void FrtAuditAttsOf(TupleDesc desc, FrtAuditAtts *atts);
static bool FrtRowFromTuple(HeapTuple tup, TupleDesc desc, const FrtAuditAtts *atts,
							FrtAuditRow *row);
static bool FrtAnchorBacked(int64 anchor_seq, const uint8 *anchor_hash, bool read_only);
typedef struct FrtChainCheck FrtChainCheck;
static void FrtAuditVerifyChain(FrtChainCheck *c, bool read_only, bool check_macs);

/* The statement (transaction, command) whose first restored row was checked. */
static LocalTransactionId FrtRestoreLxid = InvalidLocalTransactionId;
static CommandId FrtRestoreCid = InvalidCommandId;

/* Result of a chain verification. */
struct FrtChainCheck
{
	bool		ok;
	int64		bad_seq;		/* first broken or missing record */
	char	   *reason;
	int64		checked;		/* records whose hash was verified */
	int64		first_seq;
	int64		last_seq;
	char	   *warning;		/* what the check could not prove, or NULL */
	int64		signed_recs;	/* records with a MAC (verified if keyed) */
	int64		unsigned_recs;	/* records without one (a prefix, if keyed) */
	int64		unsigned_last;	/* the last of them */
	int64		alg_recs[FRT_AUDIT_NALGS];	/* records verified, per hash function */
	int64		base_seq;		/* where the walk started: the retention anchor */
	uint8		base_hash[FRT_AUDIT_HASH_LEN];
	int64		tail_seq;		/* where it ended */
	uint8		tail_hash[FRT_AUDIT_HASH_LEN];
};

/*
 * "sha256:" and the first FRT_AUDIT_MARK_HEX hex digits of the SHA-256 of
 * s (its whole length), palloc'd.
 */
static char *
FrtAuditShortHash(const char *s, size_t len)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	StringInfoData out;

	if (ctx == NULL || pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) s, len) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute SHA-256 for an audit field");
	pg_cryptohash_free(ctx);
	initStringInfo(&out);
	appendStringInfoString(&out, FRT_AUDIT_MARK_HASH);
	for (int i = 0; i < FRT_AUDIT_MARK_HEX / 2; i++)
		appendStringInfo(&out, "%02x", digest[i]);
	return out.data;
}

/*
 * Bound one text field of a record; never refuses (a refusal of the record
 * would lose the very call it records).  A value that holds an
 * embedding-like list of numbers becomes FRT_AUDIT_MARK_VECTOR and its short
 * hash; a value longer than maxlen bytes keeps its first bytes (whole
 * characters) followed by FRT_AUDIT_MARK_CUT and the short hash of the whole
 * value, maxlen bytes at most.  Sets *changed when the value was altered.
 */
static char *
FrtAuditBoundText(char *v, int maxlen, bool *changed)
{
	size_t		len;
	char	   *hash;
	char	   *out;
	int			keep;

	*changed = false;
	if (v == NULL)
		return NULL;
	len = strlen(v);
	if (FrtLooksBiometric(v, FRT_AUDIT_MAX_NUMBERS))
	{
		*changed = true;
		return psprintf("%s%s", FRT_AUDIT_MARK_VECTOR, FrtAuditShortHash(v, len));
	}
	if (len <= (size_t) maxlen)
		return v;
	*changed = true;
	hash = FrtAuditShortHash(v, len);
	keep = maxlen - (int) strlen(FRT_AUDIT_MARK_CUT) - (int) strlen(hash);
	keep = pg_mbcliplen(v, (int) len, Max(keep, 0));
	out = palloc(keep + strlen(FRT_AUDIT_MARK_CUT) + strlen(hash) + 1);
	memcpy(out, v, keep);
	strcpy(out + keep, FRT_AUDIT_MARK_CUT);
	strcat(out, hash);
	return out;
}

/*
 * Bound a record's detail (jsonb): each top-level value of an object that is
 * embedding-like, or longer than FRT_AUDIT_FIELD_MAX as text, is replaced
 * as FrtAuditBoundText() does, and the names of the keys so replaced are
 * listed under "audit_bounded"; a detail that still does not fit
 * FRT_AUDIT_DETAIL_MAX (or is not an object and is embedding-like or too
 * long) becomes {"audit_bounded": "detail", "sha256": ...}.  Returns the
 * jsonb text.
 */
static char *
FrtAuditBoundDetail(Jsonb *j)
{
	char	   *text = JsonbToCString(NULL, &j->root, VARSIZE(j));
	bool		changed;

	if (!FrtLooksBiometric(text, FRT_AUDIT_MAX_NUMBERS) && strlen(text) <= FRT_AUDIT_DETAIL_MAX)
		return text;
	if (JB_ROOT_IS_OBJECT(j))
	{
		JsonbParseState *state = NULL;
		JsonbIterator *it = JsonbIteratorInit(&j->root);
		JsonbIteratorToken tok;
		JsonbValue	v;
		JsonbValue *res = NULL;
		StringInfoData bounded;
		int			level = 0;

		initStringInfo(&bounded);
		while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
		{
			if (tok == WJB_BEGIN_OBJECT && level++ == 0)
			{
				res = pushJsonbValue(&state, tok, NULL);
				continue;
			}
			if (tok == WJB_END_OBJECT && --level == 0)
			{
				if (bounded.len > 0)
				{
					JsonbValue	k,
								val;

					k.type = jbvString;
					k.val.string.val = "audit_bounded";
					k.val.string.len = strlen("audit_bounded");
					val.type = jbvString;
					val.val.string.val = bounded.data;
					val.val.string.len = bounded.len;
					(void) pushJsonbValue(&state, WJB_KEY, &k);
					(void) pushJsonbValue(&state, WJB_VALUE, &val);
				}
				res = pushJsonbValue(&state, tok, NULL);
				continue;
			}
			if (tok == WJB_KEY)
			{
				JsonbValue	key = v;

				(void) pushJsonbValue(&state, WJB_KEY, &key);
				/* the value, whole (scalar, array or object) */
				tok = JsonbIteratorNext(&it, &v, true);
				if (tok == WJB_VALUE || tok == WJB_BEGIN_ARRAY || tok == WJB_BEGIN_OBJECT)
				{
					char	   *vt;
					char	   *bt;

					if (v.type == jbvBinary)
						vt = JsonbToCString(NULL, v.val.binary.data, v.val.binary.len);
					else if (v.type == jbvString)
						vt = pnstrdup(v.val.string.val, v.val.string.len);
					else
					{
						Jsonb	   *one = JsonbValueToJsonb(&v);

						vt = JsonbToCString(NULL, &one->root, VARSIZE(one));
					}
					bt = FrtAuditBoundText(vt, FRT_AUDIT_FIELD_MAX, &changed);
					if (changed)
					{
						JsonbValue	nv;

						nv.type = jbvString;
						nv.val.string.val = bt;
						nv.val.string.len = strlen(bt);
						(void) pushJsonbValue(&state, WJB_VALUE, &nv);
						appendStringInfo(&bounded, "%s%.*s", bounded.len > 0 ? "," : "",
										 key.val.string.len, key.val.string.val);
					}
					else
						(void) pushJsonbValue(&state, WJB_VALUE, &v);
				}
				continue;
			}
		}
		if (res != NULL)
		{
			Jsonb	   *nj = JsonbValueToJsonb(res);

			text = JsonbToCString(NULL, &nj->root, VARSIZE(nj));
			if (!FrtLooksBiometric(text, FRT_AUDIT_MAX_NUMBERS) && strlen(text) <= FRT_AUDIT_DETAIL_MAX)
				return text;
		}
	}
	return psprintf("{\"audit_bounded\": \"detail\", \"sha256\": \"%s\"}",
					FrtAuditShortHash(text, strlen(text)) + strlen(FRT_AUDIT_MARK_HASH));
}

/* The client's address as text (inet_client_addr()), NULL over a Unix socket. */
static char *
FrtAuditClientAddr(void)
{
	LOCAL_FCINFO(fc, 0);
	Datum		d;

	InitFunctionCallInfoData(*fc, NULL, 0, InvalidOid, NULL, NULL);
	d = inet_client_addr(fc);
	if (fc->isnull)
		return NULL;
	return DatumGetCString(DirectFunctionCall1(inet_out, d));
}

/* Fill who and when: session and current role, application, client, pid. */
void
FrtAuditFillWho(FrtAuditPayload *rec)
{
	rec->at = GetCurrentTimestamp();
	rec->backend_pid = MyProcPid;
	FrtAuditPayloadSet(rec, FRT_AF_ROLE, GetUserNameFromId(GetSessionUserId(), false));
	FrtAuditPayloadSet(rec, FRT_AF_EFFECTIVE_ROLE, GetUserNameFromId(GetUserId(), false));
	FrtAuditPayloadSet(rec, FRT_AF_APPLICATION,
					   (application_name && application_name[0]) ? application_name : NULL);
	FrtAuditPayloadSet(rec, FRT_AF_CLIENT_ADDR, FrtAuditClientAddr());
}

/* Text argument n as a C string, or NULL. */
static char *
FrtArgText(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(n));
}

PG_FUNCTION_INFO_V1(frt_audit_event);

/*
 * SQL: frt.audit_event(event, outcome, purpose, subject, device, similarity,
 * sqlstate, detail) -- record one event durably; returns its seq.
 */
Datum
frt_audit_event(PG_FUNCTION_ARGS)
{
	FrtAuditPayload rec;
	char	   *event = FrtArgText(fcinfo, 0);
	char	   *outcome = FrtArgText(fcinfo, 1);
	char	   *purpose = FrtArgText(fcinfo, 2);
	char	   *subject = FrtArgText(fcinfo, 3);
	char	   *device = FrtArgText(fcinfo, 4);
	char	   *sqlstate = FrtArgText(fcinfo, 6);
	char	   *detail = NULL;
	Jsonb	   *given;
	bool		changed;
	bool		has_similarity;

	if (event == NULL || outcome == NULL || event[0] == '\0' || outcome[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("audit event and outcome must be given")));
	/* bounded, never refused: the record of a refusal must be written */
	event = FrtAuditBoundText(event, FRT_AUDIT_FIELD_MAX, &changed);
	outcome = FrtAuditBoundText(outcome, FRT_AUDIT_FIELD_MAX, &changed);
	purpose = FrtAuditBoundText(purpose, FRT_AUDIT_FIELD_MAX, &changed);
	subject = FrtAuditBoundText(subject, FRT_AUDIT_FIELD_MAX, &changed);
	device = FrtAuditBoundText(device, FRT_AUDIT_FIELD_MAX, &changed);
	if (sqlstate && (strlen(sqlstate) != 5 ||
					 strspn(sqlstate, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 5))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("audit sqlstate must be five digits or upper-case letters")));
	/* what the record may claim about its origin (audit_claim.c) */
	{
		const char *claim[FRT_CF_COUNT] = {event, outcome, purpose, subject, device, sqlstate};
		float8		sim = PG_ARGISNULL(5) ? 0 : PG_GETARG_FLOAT8(5);

		given = FrtAuditBindOrigin(claim, PG_ARGISNULL(5) ? NULL : &sim,
								   PG_ARGISNULL(7) ? NULL : PG_GETARG_JSONB_P(7));
	}
	/* a similarity that is not a number is recorded as missing, and said so */
	has_similarity = !PG_ARGISNULL(5) && isfinite(PG_GETARG_FLOAT8(5));
	if (!PG_ARGISNULL(5) && !has_similarity)
	{
		Datum		note = DirectFunctionCall1(jsonb_in,
											   CStringGetDatum(psprintf("{\"audit_similarity\": \"%s\"}",
																		isnan(PG_GETARG_FLOAT8(5)) ? "NaN" : "infinite")));

		detail = FrtAuditBoundDetail(DatumGetJsonbP(given == NULL ? note :
													DirectFunctionCall2(jsonb_concat,
																		JsonbPGetDatum(given), note)));
	}
	else if (given != NULL)
		detail = FrtAuditBoundDetail(given);

	memset(&rec, 0, offsetof(FrtAuditPayload, buf));
	FrtAuditPayloadSet(&rec, FRT_AF_EVENT, event);
	FrtAuditPayloadSet(&rec, FRT_AF_OUTCOME, outcome);
	FrtAuditPayloadSet(&rec, FRT_AF_SQLSTATE, sqlstate);
	FrtAuditPayloadSet(&rec, FRT_AF_PURPOSE, purpose);
	FrtAuditPayloadSet(&rec, FRT_AF_SUBJECT, subject);
	FrtAuditPayloadSet(&rec, FRT_AF_DEVICE, device);
	FrtAuditPayloadSet(&rec, FRT_AF_DETAIL, detail);
	rec.has_similarity = has_similarity;
	rec.similarity = has_similarity ? PG_GETARG_FLOAT8(5) : 0.0;
	FrtAuditFillWho(&rec);
	PG_RETURN_INT64(FrtAuditSubmit(&rec));
}

/*
 * Record an event raised by the audit layer itself (a statement on the
 * audit objects, a direct read of embeddings): detail is jsonb text,
 * bounded like audit_event()'s; with anchor_now the writer sends the new
 * head out right after committing it.  Returns the record's seq.
 */
int64
FrtAuditRecord(const char *event, const char *outcome, const char *detail, bool anchor_now)
{
	FrtAuditPayload rec;

	memset(&rec, 0, offsetof(FrtAuditPayload, buf));
	FrtAuditPayloadSet(&rec, FRT_AF_EVENT, event);
	FrtAuditPayloadSet(&rec, FRT_AF_OUTCOME, outcome);
	FrtAuditPayloadSet(&rec, FRT_AF_SQLSTATE, NULL);
	FrtAuditPayloadSet(&rec, FRT_AF_PURPOSE, NULL);
	FrtAuditPayloadSet(&rec, FRT_AF_SUBJECT, NULL);
	FrtAuditPayloadSet(&rec, FRT_AF_DEVICE, NULL);
	FrtAuditPayloadSet(&rec, FRT_AF_DETAIL,
					   detail ? FrtAuditBoundDetail(DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
																					   CStringGetDatum(detail)))) : NULL);
	rec.anchor_now = anchor_now;
	FrtAuditFillWho(&rec);
	return FrtAuditSubmit(&rec);
}

/* Refuse a change to the trail. */
static void
FrtAuditRefuse(const char *what, const char *table)
{
	FrtRefuse(FRT_ERRCODE_AUDIT_APPEND_ONLY, 14, NULL, NULL,
			  "Records are written only through frt.audit_event(); old records leave only through frt.audit_retention_purge().",
			  "%s on frt.%s refused: the audit trail is append-only", what, table);
}

/* One of our columns of a heap tuple, looked up by name. */
static Datum
FrtTupleAttr(HeapTuple tup, TupleDesc desc, FrtGovCol col, bool *isnull)
{
	return heap_getattr(tup, FrtGovAttnum(desc, col), desc, isnull);
}

/*
 * Are we in a restore?  Only in the explicit restore mode: a superuser
 * session with frt.restore = on (docs/operations.md, "Backups and restores").
 */
bool
FrtAuditRestoring(void)
{
	return frt_restore && superuser_arg(GetSessionUserId());
}

PG_FUNCTION_INFO_V1(frt_audit_restoring);

/* SQL: frt.audit_restoring() -- true while a dump is being restored. */
Datum
frt_audit_restoring(PG_FUNCTION_ARGS pg_attribute_unused())
{
	PG_RETURN_BOOL(FrtAuditRestoring());
}

/* Refuse a restored row that does not continue the chain. */
static void
FrtAuditRefuseRestore(const char *table, int64 seq, const char *why)
{
	FrtRefuse(FRT_ERRCODE_AUDIT_APPEND_ONLY, 14, NULL, NULL,
			  "The dumped audit trail was altered, or the target database's trail is not empty.",
			  "restore of frt.%s refused at seq %lld: %s", table, (long long) seq, why);
}

/* Read the anchor (exactly one row) into seq and hash; false if not initial. */
static bool
FrtAuditReadAnchor(int64 *seq, uint8 *hash, bool *provisional)
{
	bool		n_at,
				n_purged,
				isnull;
	HeapTuple	t;
	TupleDesc	d;
	static const uint8 zero[FRT_AUDIT_HASH_LEN] = {0};
	const char *anchor = FrtGovRelShortName(FRT_REL_AUDIT_ANCHOR);

	if (SPI_execute(psprintf("SELECT %s FROM %s", FrtGovColList(FRT_REL_AUDIT_ANCHOR),
							 FrtGovRelName(FRT_REL_AUDIT_ANCHOR)),
					false, 0) != SPI_OK_SELECT || SPI_processed != 1)
		FrtAuditRefuseRestore(anchor, 0, "the anchor row is missing or duplicated");
	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	*seq = DatumGetInt64(SPI_getbinval(t, d, FrtGovAttnum(d, FRT_COL_ANCHOR_LAST_SEQ), &isnull));
	if (!FrtGetHash(t, d, FrtGovAttnum(d, FRT_COL_ANCHOR_LAST_HASH), hash))
		FrtAuditRefuseRestore(anchor, *seq, "the anchor's hash is malformed");
	(void) SPI_getbinval(t, d, FrtGovAttnum(d, FRT_COL_ANCHOR_LAST_AT), &n_at);
	(void) SPI_getbinval(t, d, FrtGovAttnum(d, FRT_COL_ANCHOR_PURGED_AT), &n_purged);
	*provisional = n_at && n_purged;
	return *seq == 0 && *provisional && memcmp(hash, zero, FRT_AUDIT_HASH_LEN) == 0;
}

/* Move the anchor during a restore (the guard admits this update only). */
static void
FrtAuditSetAnchor(int64 seq, Datum hash, Datum at, bool at_null, Datum purged, bool purged_null)
{
	Oid			types[4] = {INT8OID, BYTEAOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		vals[4] = {Int64GetDatum(seq), hash, at, purged};
	char		nulls[4] = {' ', ' ', at_null ? 'n' : ' ', purged_null ? 'n' : ' '};
	char	   *sql = psprintf("UPDATE %s SET %s = $1, %s = $2, %s = $3, %s = $4",
							   FrtGovRelName(FRT_REL_AUDIT_ANCHOR),
							   FrtGovColName(FRT_COL_ANCHOR_LAST_SEQ),
							   FrtGovColName(FRT_COL_ANCHOR_LAST_HASH),
							   FrtGovColName(FRT_COL_ANCHOR_LAST_AT),
							   FrtGovColName(FRT_COL_ANCHOR_PURGED_AT));

	FrtAuditRestoringAnchor = true;
	PG_TRY();
	{
		if (SPI_execute_with_args(sql, 4, types, vals, nulls,
								  false, 0) != SPI_OK_UPDATE || SPI_processed != 1)
			elog(ERROR, "could not restore the audit anchor");
	}
	PG_FINALLY();
	{
		FrtAuditRestoringAnchor = false;
	}
	PG_END_TRY();
}

/*
 * A restored frt.audit row: admitted only into a trail that held no records
 * before this restore, and only if its content matches its hash.  Rows come
 * in the dump's order (the heap order of the dumped table, not seq order),
 * so the chain itself -- contiguous seqs from the anchor, each prev_hash the
 * previous record's hash -- is checked once the statement has loaded them
 * all (FrtAuditRestoreDone).
 */
static Datum
FrtAuditRestoreRecord(TriggerData *td)
{
	HeapTuple	tup = td->tg_trigtuple;
	TupleDesc	desc = td->tg_relation->rd_att;
	FrtAuditRow row;
	uint8		stored[FRT_AUDIT_HASH_LEN];
	uint8		computed[FRT_AUDIT_HASH_LEN];
	bool		isnull;
	FrtAuditAtts atts;
	const char *audit = FrtGovRelShortName(FRT_REL_AUDIT);

	FrtAuditAttsOf(desc, &atts);
	memset(&row, 0, sizeof(row));
	if (!FrtRowFromTuple(tup, desc, &atts, &row))
		FrtAuditRefuseRestore(audit, row.seq, "the record names an unknown hash function");
	if (!FrtGetHash(tup, desc, atts.prev_hash, row.prev_hash) ||
		!FrtGetHash(tup, desc, atts.hash, stored))
		FrtAuditRefuseRestore(audit, row.seq, "malformed prev_hash or hash");

	/* once per statement: the trail held no records before this restore */
	if (FrtRestoreLxid != MyProc->lxid || FrtRestoreCid != GetCurrentCommandId(false))
	{
		SPI_connect();
		if (SPI_execute(psprintf("SELECT xmin FROM %s", FrtGovRelName(FRT_REL_AUDIT)),
						false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read the audit trail");
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			TransactionId xmin = DatumGetTransactionId(SPI_getbinval(SPI_tuptable->vals[i],
																	 SPI_tuptable->tupdesc, 1,
																	 &isnull));

			if (!TransactionIdIsCurrentTransactionId(xmin))
				FrtAuditRefuseRestore(audit, row.seq, "the trail already holds records");
		}
		SPI_finish();
		FrtRestoreLxid = MyProc->lxid;
		FrtRestoreCid = GetCurrentCommandId(false);
	}

	FrtAuditComputeHash(&row, computed);
	if (memcmp(stored, computed, FRT_AUDIT_HASH_LEN) != 0)
		FrtAuditRefuseRestore(audit, row.seq, "content does not match its hash (record altered)");
	return PointerGetDatum(tup);
}

/*
 * A restored frt.audit_anchor row: written over the initial anchor (or the
 * provisional one fixed by the first restored record, if equal), never
 * inserted as a second row.
 */
static Datum
FrtAuditRestoreAnchor(TriggerData *td)
{
	HeapTuple	tup = td->tg_trigtuple;
	TupleDesc	desc = td->tg_relation->rd_att;
	uint8		cur_hash[FRT_AUDIT_HASH_LEN];
	uint8		new_hash[FRT_AUDIT_HASH_LEN];
	int64		cur_seq,
				new_seq;
	bool		provisional,
				initial,
				isnull,
				n_at,
				n_purged;
	Datum		at,
				purged;
	AttrNumber	hash_att = FrtGovAttnum(desc, FRT_COL_ANCHOR_LAST_HASH);
	const char *anchor = FrtGovRelShortName(FRT_REL_AUDIT_ANCHOR);

	new_seq = DatumGetInt64(SPI_getbinval(tup, desc, FrtGovAttnum(desc, FRT_COL_ANCHOR_LAST_SEQ),
										  &isnull));
	if (isnull || new_seq <= 0 || !FrtGetHash(tup, desc, hash_att, new_hash))
		FrtAuditRefuseRestore(anchor, new_seq, "malformed anchor");
	at = SPI_getbinval(tup, desc, FrtGovAttnum(desc, FRT_COL_ANCHOR_LAST_AT), &n_at);
	purged = SPI_getbinval(tup, desc, FrtGovAttnum(desc, FRT_COL_ANCHOR_PURGED_AT), &n_purged);

	SPI_connect();
	initial = FrtAuditReadAnchor(&cur_seq, cur_hash, &provisional);
	if (initial)
	{
		if (SPI_execute(psprintf("SELECT 1 FROM %s LIMIT 1", FrtGovRelName(FRT_REL_AUDIT)),
						false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read the audit trail");
		if (SPI_processed > 0)
			FrtAuditRefuseRestore(anchor, new_seq,
								  "the restored trail starts at seq 1, before this anchor");
	}
	else if (!provisional || cur_seq != new_seq ||
			 memcmp(cur_hash, new_hash, FRT_AUDIT_HASH_LEN) != 0)
		FrtAuditRefuseRestore(anchor, new_seq,
							  "it does not match where the restored trail starts");
	FrtAuditSetAnchor(new_seq, SPI_getbinval(tup, desc, hash_att, &isnull), at, n_at, purged, n_purged);
	SPI_finish();
	return PointerGetDatum(NULL);	/* the one anchor row was updated instead */
}

/*
 * After a statement inserting into frt.audit, in a restore: the whole
 * restored trail, sorted by seq, must be one chain.  A trail restored after
 * a purge (first seq > 1) fixes the anchor provisionally from its first
 * record; that anchor must be backed by a restored audit_retention_purge
 * record, otherwise the dump lost its first records.
 */
static Datum
FrtAuditRestoreDone(void)
{
	int64		seq;
	uint8		hash[FRT_AUDIT_HASH_LEN];
	bool		provisional;
	bool		isnull;
	FrtChainCheck c;
	const char *audit = FrtGovRelShortName(FRT_REL_AUDIT);

	if (!FrtAuditRestoring())
		return PointerGetDatum(NULL);
	SPI_connect();
	if (FrtAuditReadAnchor(&seq, hash, &provisional))
	{
		if (SPI_execute(psprintf("SELECT %s, %s FROM %s ORDER BY %s LIMIT 1",
								 FrtGovColName(FRT_COL_AUDIT_SEQ),
								 FrtGovColName(FRT_COL_AUDIT_PREV_HASH),
								 FrtGovRelName(FRT_REL_AUDIT), FrtGovColName(FRT_COL_AUDIT_SEQ)),
						false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read the audit chain's head");
		if (SPI_processed == 1)
		{
			HeapTuple	t = SPI_tuptable->vals[0];
			TupleDesc	d = SPI_tuptable->tupdesc;
			int64		first = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));

			if (first > 1)
			{
				if (!FrtGetHash(t, d, 2, hash))
					FrtAuditRefuseRestore(audit, first, "malformed prev_hash or hash");
				FrtAuditSetAnchor(first - 1, SPI_getbinval(t, d, 2, &isnull),
								  (Datum) 0, true, (Datum) 0, true);
				seq = first - 1;
			}
		}
	}
	if (seq > 0 && provisional && !FrtAnchorBacked(seq, hash, false))
		FrtAuditRefuseRestore(audit, seq + 1,
							  "the restored trail starts after seq 1 but records no retention purge up to there (records missing)");
	/* the chain only: the MACs are checked by restore_finish(), with the key */
	FrtAuditVerifyChain(&c, false, false);
	if (!c.ok)
		FrtAuditRefuseRestore(audit, c.bad_seq, c.reason);
	SPI_finish();
	return PointerGetDatum(NULL);
}

PG_FUNCTION_INFO_V1(frt_audit_guard);

/*
 * Trigger on frt.audit and frt.audit_anchor (argument: which one): only the
 * audit worker inserts; nobody updates, deletes or truncates, except the
 * retention purge deleting records past the minimum retention.
 */
Datum
frt_audit_guard(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	bool		anchor;
	const char *table;
	TriggerEvent ev;

	if (!CALLED_AS_TRIGGER(fcinfo) || td->tg_trigger->tgnargs != 1)
		elog(ERROR, "frt_audit_guard: not called as the audit trigger");
	anchor = strcmp(td->tg_trigger->tgargs[0], "anchor") == 0;
	ev = td->tg_event;
	if (strcmp(td->tg_trigger->tgargs[0], "mark") == 0)
	{
		/*
		 * The head mark: the writer moves it forward; a restore (or any
		 * superuser) may add a row, which only makes verification stricter;
		 * nobody takes one away.
		 */
		table = FrtGovRelShortName(FRT_REL_AUDIT_MARK);
		if (TRIGGER_FIRED_BY_INSERT(ev))
			return PointerGetDatum(td->tg_trigtuple);
		if (TRIGGER_FIRED_BY_UPDATE(ev) && FrtAuditIsWriter)
			return PointerGetDatum(td->tg_newtuple);
		FrtAuditRefuse(TRIGGER_FIRED_BY_UPDATE(ev) ? "UPDATE" :
					   TRIGGER_FIRED_BY_DELETE(ev) ? "DELETE" : "TRUNCATE", table);
	}
	table = FrtGovRelShortName(anchor ? FRT_REL_AUDIT_ANCHOR : FRT_REL_AUDIT);

	if (TRIGGER_FIRED_AFTER(ev))
		return FrtAuditRestoreDone();
	if (TRIGGER_FIRED_BY_TRUNCATE(ev))
		FrtAuditRefuse("TRUNCATE", table);
	if (TRIGGER_FIRED_BY_INSERT(ev))
	{
		if (!anchor && FrtAuditIsWriter)
			return PointerGetDatum(td->tg_trigtuple);
		if (FrtAuditRestoring())
			return anchor ? FrtAuditRestoreAnchor(td) : FrtAuditRestoreRecord(td);
		FrtAuditRefuse("INSERT", table);
	}
	if (TRIGGER_FIRED_BY_UPDATE(ev))
	{
		if (!anchor || (FrtAuditPurgeThrough <= 0 && !FrtAuditRestoringAnchor))
			FrtAuditRefuse("UPDATE", table);
		return PointerGetDatum(td->tg_newtuple);
	}
	if (TRIGGER_FIRED_BY_DELETE(ev) && !anchor && FrtAuditPurgeThrough > 0)
	{
		bool		n1,
					n2;
		int64		seq = DatumGetInt64(FrtTupleAttr(td->tg_trigtuple, td->tg_relation->rd_att,
													 FRT_COL_AUDIT_SEQ, &n1));
		TimestampTz at = DatumGetTimestampTz(FrtTupleAttr(td->tg_trigtuple, td->tg_relation->rd_att,
														  FRT_COL_AUDIT_AT, &n2));

		if (!n1 && !n2 && seq <= FrtAuditPurgeThrough && at < FrtAuditPurgeBefore)
			return PointerGetDatum(td->tg_trigtuple);
	}
	FrtAuditRefuse("DELETE", table);
	return (Datum) 0;			/* not reached */
}

/* A bytea column as a hash; false if NULL or of the wrong length. */
static bool
FrtGetHash(HeapTuple tup, TupleDesc desc, AttrNumber att, uint8 *out)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, att, &isnull);
	bytea	   *b;

	if (isnull)
		return false;
	b = DatumGetByteaPP(d);
	if (VARSIZE_ANY_EXHDR(b) != FRT_AUDIT_HASH_LEN)
		return false;
	memcpy(out, VARDATA_ANY(b), FRT_AUDIT_HASH_LEN);
	return true;
}

/* Where an audit row's parts are in a tuple descriptor (looked up by name). */
static void
FrtAuditAttsOf(TupleDesc desc, FrtAuditAtts *atts)
{
	atts->seq = FrtGovAttnum(desc, FRT_COL_AUDIT_SEQ);
	atts->at = FrtGovAttnum(desc, FRT_COL_AUDIT_AT);
	atts->backend_pid = FrtGovAttnum(desc, FRT_COL_AUDIT_BACKEND_PID);
	atts->similarity = FrtGovAttnum(desc, FRT_COL_AUDIT_SIMILARITY);
	atts->prev_hash = FrtGovAttnum(desc, FRT_COL_AUDIT_PREV_HASH);
	atts->hash = FrtGovAttnum(desc, FRT_COL_AUDIT_HASH);
	atts->mac = FrtGovAttnum(desc, FRT_COL_AUDIT_MAC);
	atts->hash_alg = FrtGovAttnumMissingOk(desc, FRT_COL_AUDIT_HASH_ALG);
	for (int f = 0; f < FRT_AUDIT_NFIELDS; f++)
		atts->field[f] = FrtGovAttnum(desc, FrtAuditFieldCol[f]);
}

/*
 * Rebuild a record's hashed content (not prev_hash) and its hash function
 * from a row of the trail; false if it names an unknown hash function.
 */
static bool
FrtRowFromTuple(HeapTuple tup, TupleDesc desc, const FrtAuditAtts *atts, FrtAuditRow *row)
{
	bool		isnull;
	Datum		d;

	row->seq = DatumGetInt64(SPI_getbinval(tup, desc, atts->seq, &isnull));
	row->at = DatumGetTimestampTz(SPI_getbinval(tup, desc, atts->at, &isnull));
	row->backend_pid = DatumGetInt32(SPI_getbinval(tup, desc, atts->backend_pid, &isnull));
	d = SPI_getbinval(tup, desc, atts->similarity, &isnull);
	row->has_similarity = !isnull;
	row->similarity = isnull ? 0.0 : DatumGetFloat8(d);
	for (int f = 0; f < FRT_AUDIT_NFIELDS; f++)
	{
		d = SPI_getbinval(tup, desc, atts->field[f], &isnull);
		if (isnull)
			row->field[f] = NULL;
		else if (f == FRT_AF_CLIENT_ADDR)
			row->field[f] = DatumGetCString(DirectFunctionCall1(inet_out, d));
		else if (f == FRT_AF_DETAIL)
			row->field[f] = DatumGetCString(DirectFunctionCall1(jsonb_out, d));
		else
			row->field[f] = TextDatumGetCString(d);
	}
	row->alg = FRT_AUDIT_ALG_SHA256;
	if (atts->hash_alg == InvalidAttrNumber)
		return true;
	d = SPI_getbinval(tup, desc, atts->hash_alg, &isnull);
	return !isnull && FrtAuditAlgFromName(TextDatumGetCString(d), &row->alg);
}

/* Note the first problem found and stop the walk. */
static void
FrtChainBreak(FrtChainCheck *c, int64 seq, char *reason)
{
	c->ok = false;
	c->bad_seq = seq;
	c->reason = reason;
}

/* Is the retention anchor backed by a recorded purge of the trail? */
static bool
FrtAnchorBacked(int64 anchor_seq, const uint8 *anchor_hash, bool read_only)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		vals[2];
	char		hex[FRT_AUDIT_HASH_LEN * 2 + 1];

	hex_encode((const char *) anchor_hash, FRT_AUDIT_HASH_LEN, hex);
	hex[FRT_AUDIT_HASH_LEN * 2] = '\0';
	vals[0] = CStringGetTextDatum(psprintf(INT64_FORMAT, anchor_seq));
	vals[1] = CStringGetTextDatum(hex);
	if (SPI_execute_with_args(psprintf("SELECT 1 FROM %s WHERE %s OPERATOR(pg_catalog.=) '%s' "
									   "AND %s OPERATOR(pg_catalog.->>) 'through_seq' OPERATOR(pg_catalog.=) $1 "
									   "AND %s OPERATOR(pg_catalog.->>) 'through_hash' OPERATOR(pg_catalog.=) $2",
									   FrtGovRelName(FRT_REL_AUDIT),
									   FrtGovColName(FRT_COL_AUDIT_EVENT), FRT_AUDIT_PURGE_EVENT,
									   FrtGovColName(FRT_COL_AUDIT_DETAIL),
									   FrtGovColName(FRT_COL_AUDIT_DETAIL)),
							  2, types, vals, NULL, read_only, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up the audit purge records");
	return SPI_processed > 0;
}

/*
 * The chain, verified up to tail_seq (tail_hash), must reach the head mark
 * (the highest if a restore added one): records lost at the end of the
 * trail -- or a whole trail lost, e.g. by a restore that did not load it --
 * show up here.
 */
static void
FrtAuditCheckMark(FrtChainCheck *c, int64 anchor_seq, int64 tail_seq, const uint8 *tail_hash,
				  bool read_only)
{
	HeapTuple	t;
	TupleDesc	d;
	bool		isnull;
	int64		mark_seq;
	uint8		mark_hash[FRT_AUDIT_HASH_LEN];
	Oid			types[1] = {INT8OID};
	Datum		vals[1];

	if (SPI_execute(psprintf("SELECT %s, %s FROM %s ORDER BY 1 DESC LIMIT 1",
							 FrtGovColName(FRT_COL_MARK_SEQ), FrtGovColName(FRT_COL_MARK_HASH),
							 FrtGovRelName(FRT_REL_AUDIT_MARK)),
					read_only, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the audit head mark");
	if (SPI_processed == 0)
	{
		FrtChainBreak(c, 0, pstrdup("the audit head mark is missing"));
		return;
	}
	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	mark_seq = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
	if (!FrtGetHash(t, d, 2, mark_hash))
	{
		FrtChainBreak(c, mark_seq, pstrdup("the audit head mark's hash is malformed"));
		return;
	}
	if (mark_seq <= anchor_seq)
		return;					/* purged since */
	if (mark_seq > tail_seq)
	{
		FrtChainBreak(c, tail_seq + 1,
					  psprintf("records missing at the end: the trail held records up to seq " INT64_FORMAT
							   " but ends at seq " INT64_FORMAT " (records lost, e.g. by a restore that did not load them)",
							   mark_seq, tail_seq));
		return;
	}
	if (mark_seq == tail_seq)
	{
		if (memcmp(mark_hash, tail_hash, FRT_AUDIT_HASH_LEN) != 0)
			FrtChainBreak(c, mark_seq, pstrdup("the record at the head mark was replaced"));
		return;
	}
	vals[0] = Int64GetDatum(mark_seq);
	if (SPI_execute_with_args(psprintf("SELECT %s FROM %s WHERE %s OPERATOR(pg_catalog.=) $1",
									   FrtGovColName(FRT_COL_AUDIT_HASH), FrtGovRelName(FRT_REL_AUDIT),
									   FrtGovColName(FRT_COL_AUDIT_SEQ)),
							  1, types, vals, NULL, read_only, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the audit trail");
	if (SPI_processed != 1)
		FrtChainBreak(c, mark_seq, pstrdup("the record at the head mark is missing"));
	else
	{
		uint8		h[FRT_AUDIT_HASH_LEN];

		if (!FrtGetHash(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, h) ||
			memcmp(h, mark_hash, FRT_AUDIT_HASH_LEN) != 0)
			FrtChainBreak(c, mark_seq, pstrdup("the record at the head mark was replaced"));
	}
}

/*
 * A record's MAC: with the key, a record without one may only precede the
 * first signed record (written before the key was configured), and a MAC
 * must verify; without the key MACs are counted, not checked.  False (a
 * break noted) if the record fails.
 */
static bool
FrtAuditCheckMac(FrtChainCheck *c, HeapTuple tup, TupleDesc desc, AttrNumber att,
				 const FrtAuditRow *row, const uint8 *hash, bool check_macs)
{
	uint8		mac[FRT_AUDIT_MAC_LEN];
	bool		isnull;
	int64		seq = row->seq;

	(void) SPI_getbinval(tup, desc, att, &isnull);
	if (isnull)
	{
		if (check_macs && FrtAuditKeyed() && c->signed_recs > 0)
		{
			FrtChainBreak(c, seq, pstrdup("record has no MAC although earlier records are signed (inserted or altered without the audit key)"));
			return false;
		}
		c->unsigned_recs++;
		c->unsigned_last = seq;
		return true;
	}
	if (check_macs && FrtAuditKeyed() &&
		(!FrtGetHash(tup, desc, att, mac) || !FrtAuditMacVerifies(row->alg, hash, mac)))
	{
		FrtChainBreak(c, seq, pstrdup("MAC does not verify with the audit key (record forged, or signed with another key)"));
		return false;
	}
	c->signed_recs++;
	return true;
}

/* Add a warning to the check's (semicolon-separated). */
static void
FrtChainWarn(FrtChainCheck *c, const char *warning)
{
	c->warning = c->warning ? psprintf("%s; %s", c->warning, warning) : pstrdup(warning);
}

/* Say what the chain alone cannot prove: an unkeyed chain, unsigned records. */
static void
FrtAuditKeyWarning(FrtChainCheck *c)
{
	if (!FrtAuditKeyed())
		FrtChainWarn(c, c->signed_recs > 0 ?
					 psprintf("chain unkeyed on this server: no audit key is configured, so the MACs of " INT64_FORMAT " records were not checked", c->signed_recs) :
					 "chain unkeyed: no audit key is configured (frt.audit_key_file or frt.audit_key_command), so a superuser who knows the hash formula can forge records; check the trail against an anchor");
	else if (c->unsigned_recs > 0)
		FrtChainWarn(c, psprintf(INT64_FORMAT " records up to seq " INT64_FORMAT " carry no MAC (written before the audit key was configured, or replaced); check them against an anchor",
								 c->unsigned_recs, c->unsigned_last));
}

/* An anchor's hash (or MAC) in hex, "\\x" allowed; false if malformed. */
static bool
FrtAnchorHex(text *t, uint8 *out)
{
	char	   *s = text_to_cstring(t);

	if (strncmp(s, "\\x", 2) == 0)
		s += 2;
	if (strlen(s) != FRT_AUDIT_HASH_LEN * 2 || strspn(s, "0123456789abcdefABCDEF") != FRT_AUDIT_HASH_LEN * 2)
		return false;
	(void) hex_decode(s, FRT_AUDIT_HASH_LEN * 2, (char *) out);
	return true;
}

/* The hash and hash function of the record at seq; false if it is not there. */
static bool
FrtAuditRecordAt(int64 seq, bool read_only, uint8 *hash, FrtAuditAlg *alg)
{
	Oid			types[1] = {INT8OID};
	Datum		vals[1] = {Int64GetDatum(seq)};
	FrtAuditAtts atts;
	HeapTuple	t;
	TupleDesc	d;
	bool		isnull;
	Datum		v;

	if (SPI_execute_with_args(psprintf("SELECT * FROM %s WHERE %s OPERATOR(pg_catalog.=) $1",
									   FrtGovRelName(FRT_REL_AUDIT), FrtGovColName(FRT_COL_AUDIT_SEQ)),
							  1, types, vals, NULL, read_only, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the audit trail");
	if (SPI_processed != 1)
		return false;
	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	FrtAuditAttsOf(d, &atts);
	*alg = FRT_AUDIT_ALG_SHA256;
	if (atts.hash_alg != InvalidAttrNumber)
	{
		v = SPI_getbinval(t, d, atts.hash_alg, &isnull);
		if (isnull || !FrtAuditAlgFromName(TextDatumGetCString(v), alg))
			return false;
	}
	return FrtGetHash(t, d, atts.hash, hash);
}

/* Does an anchor's MAC verify with the key, with alg or (NULL) with any hash function? */
static bool
FrtAnchorMacVerifies(const uint8 *hash, const uint8 *mac, const FrtAuditAlg *alg)
{
	if (alg)
		return FrtAuditMacVerifies(*alg, hash, mac);
	for (int a = 0; a < FRT_AUDIT_NALGS; a++)
		if (FrtAuditMacVerifies((FrtAuditAlg) a, hash, mac))
			return true;
	return false;
}

/*
 * An external anchor (seq, hash, mac or NULL, alg or NULL) against the
 * trail, whose retention anchor is base and whose end is tail: the trail
 * must still reach the anchor and hold exactly the anchored record there,
 * made with the hash function the anchor names; with the key, the anchor's
 * MAC must verify (with the function it names, else the record's).  Notes a
 * break, or a warning when the anchor is older than the retention anchor.
 */
static void
FrtAuditCheckAnchor(FrtChainCheck *c, int64 seq, const uint8 *hash, const uint8 *mac,
					const FrtAuditAlg *alg, bool read_only)
{
	uint8		h[FRT_AUDIT_HASH_LEN];
	FrtAuditAlg rec_alg = FRT_AUDIT_ALG_SHA256;
	bool		found = false;

	if (seq > c->base_seq && seq <= c->tail_seq)
		found = FrtAuditRecordAt(seq, read_only, h, &rec_alg);
	if (mac && FrtAuditKeyed() &&
		!FrtAnchorMacVerifies(hash, mac, alg ? alg : found ? &rec_alg : NULL))
	{
		FrtChainBreak(c, seq, psprintf("the anchor of seq " INT64_FORMAT " does not verify with the audit key (the anchor is not authentic)", seq));
		return;
	}
	if (mac && !FrtAuditKeyed())
		FrtChainWarn(c, "the anchor's MAC was not checked (no audit key on this server)");
	if (seq < c->base_seq)
	{
		FrtChainWarn(c, psprintf("the anchor (seq " INT64_FORMAT ") is older than the retention anchor (seq " INT64_FORMAT "): its records were purged, it was not checked",
								 seq, c->base_seq));
		return;
	}
	if (seq > c->tail_seq)
	{
		FrtChainBreak(c, c->tail_seq + 1,
					  psprintf("records missing at the end: the anchor holds seq " INT64_FORMAT " but the trail ends at seq " INT64_FORMAT " (newest records deleted, or the trail replaced)",
							   seq, c->tail_seq));
		return;
	}
	if (seq == c->base_seq)
		memcpy(h, c->base_hash, FRT_AUDIT_HASH_LEN);
	else if (!found)
	{
		FrtChainBreak(c, seq, psprintf("the anchored record (seq " INT64_FORMAT ") is missing", seq));
		return;
	}
	if (memcmp(h, hash, FRT_AUDIT_HASH_LEN) != 0)
		FrtChainBreak(c, seq, psprintf("the record at seq " INT64_FORMAT " is not the anchored one (the trail was replaced or rewritten)", seq));
	else if (found && alg && *alg != rec_alg)
		FrtChainBreak(c, seq, psprintf("the record at seq " INT64_FORMAT " is hashed with %s, the anchor names %s (the trail was rewritten)",
									   seq, FrtAuditAlgName(rec_alg), FrtAuditAlgName(*alg)));
}

/* Read an anchor's arguments (seq, hash, mac, alg); mac and alg NULL if not given. */
static void
FrtAnchorArgs(FunctionCallInfo fcinfo, int64 *seq, uint8 *hash, uint8 *mac, bool *has_mac,
			  FrtAuditAlg *alg, bool *has_alg)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("an anchor needs its seq and hash")));
	*seq = PG_GETARG_INT64(0);
	if (!FrtAnchorHex(PG_GETARG_TEXT_PP(1), hash))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an anchor's hash must be %d hex digits", FRT_AUDIT_HASH_LEN * 2)));
	*has_mac = PG_NARGS() > 2 && !PG_ARGISNULL(2) &&
		strcmp(text_to_cstring(PG_GETARG_TEXT_PP(2)), "none") != 0;
	if (*has_mac && !FrtAnchorHex(PG_GETARG_TEXT_PP(2), mac))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an anchor's MAC must be %d hex digits or none", FRT_AUDIT_MAC_LEN * 2)));
	*has_alg = PG_NARGS() > 3 && !PG_ARGISNULL(3);
	if (*has_alg && !FrtAuditAlgFromName(text_to_cstring(PG_GETARG_TEXT_PP(3)), alg))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an anchor's hash function must be sha256 or sm3")));
}

/*
 * Walk the whole chain from the anchor (caller is connected to SPI), then
 * check that it reaches the head mark: the newest record the writer had
 * committed when the data was last written or dumped.
 */
static void
FrtAuditVerifyChain(FrtChainCheck *c, bool read_only, bool check_macs)
{
	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext,
												 "frt audit verify",
												 ALLOCSET_DEFAULT_SIZES);
	uint8		expect_prev[FRT_AUDIT_HASH_LEN];
	int64		anchor_seq = 0;
	int64		expect_seq;
	Portal		portal;
	FrtAuditAtts atts;
	bool		have_atts = false;
	HeapTuple	t;
	TupleDesc	d;
	bool		isnull;

	memset(c, 0, sizeof(*c));
	c->ok = true;
	memset(expect_prev, 0, sizeof(expect_prev));
	if (SPI_execute(psprintf("SELECT %s FROM %s", FrtGovColList(FRT_REL_AUDIT_ANCHOR),
							 FrtGovRelName(FRT_REL_AUDIT_ANCHOR)),
					read_only, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the audit retention anchor");
	if (SPI_processed != 1)
	{
		FrtChainBreak(c, 0, pstrdup("the retention anchor row is missing or duplicated"));
		return;
	}
	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	anchor_seq = DatumGetInt64(SPI_getbinval(t, d, FrtGovAttnum(d, FRT_COL_ANCHOR_LAST_SEQ), &isnull));
	if (!FrtGetHash(t, d, FrtGovAttnum(d, FRT_COL_ANCHOR_LAST_HASH), expect_prev))
	{
		FrtChainBreak(c, anchor_seq, pstrdup("the retention anchor's hash is malformed"));
		return;
	}
	if (anchor_seq > 0 && !FrtAnchorBacked(anchor_seq, expect_prev, read_only))
	{
		FrtChainBreak(c, anchor_seq,
					  pstrdup("the retention anchor does not match any recorded audit_retention_purge"));
		return;
	}
	expect_seq = anchor_seq + 1;
	c->base_seq = anchor_seq;
	memcpy(c->base_hash, expect_prev, FRT_AUDIT_HASH_LEN);

	portal = SPI_cursor_open_with_args(NULL,
									   psprintf("SELECT %s FROM %s ORDER BY %s",
												FrtGovColList(FRT_REL_AUDIT),
												FrtGovRelName(FRT_REL_AUDIT),
												FrtGovColName(FRT_COL_AUDIT_SEQ)),
									   0, NULL, NULL, NULL, read_only, 0);
	while (c->ok)
	{
		SPI_cursor_fetch(portal, true, FRT_AUDIT_VERIFY_FETCH);
		if (SPI_processed == 0)
			break;
		if (!have_atts)
		{
			FrtAuditAttsOf(SPI_tuptable->tupdesc, &atts);
			have_atts = true;
		}
		for (uint64 i = 0; i < SPI_processed && c->ok; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			FrtAuditRow row;
			uint8		stored[FRT_AUDIT_HASH_LEN];
			uint8		computed[FRT_AUDIT_HASH_LEN];
			bool		known_alg;
			MemoryContext old = MemoryContextSwitchTo(rowcxt);

			memset(&row, 0, sizeof(row));
			known_alg = FrtRowFromTuple(tup, desc, &atts, &row);
			MemoryContextSwitchTo(old);
			if (row.seq != expect_seq)
				FrtChainBreak(c, expect_seq,
							  row.seq > expect_seq ?
							  psprintf("record missing: expected seq " INT64_FORMAT ", next present is " INT64_FORMAT,
									   expect_seq, row.seq) :
							  psprintf("record at or before the retention anchor: seq " INT64_FORMAT, row.seq));
			else if (!FrtGetHash(tup, desc, atts.prev_hash, row.prev_hash) ||
					 memcmp(row.prev_hash, expect_prev, FRT_AUDIT_HASH_LEN) != 0)
				FrtChainBreak(c, row.seq,
							  pstrdup(row.seq == anchor_seq + 1 && anchor_seq > 0 ?
									  "prev_hash does not match the retention anchor" :
									  "prev_hash does not match the previous record's hash (this record or the previous one was altered)"));
			else if (!known_alg)
				FrtChainBreak(c, row.seq,
							  pstrdup("the record names an unknown hash function (hash_alg altered)"));
			else if (FrtAuditComputeHash(&row, computed),
					 !FrtGetHash(tup, desc, atts.hash, stored) ||
					 memcmp(stored, computed, FRT_AUDIT_HASH_LEN) != 0)
				FrtChainBreak(c, row.seq,
							  pstrdup("content does not match its hash (record altered)"));
			else if (!FrtAuditCheckMac(c, tup, desc, atts.mac, &row, stored, check_macs))
				;
			else
			{
				if (c->checked == 0)
					c->first_seq = row.seq;
				c->checked++;
				c->alg_recs[row.alg]++;
				c->last_seq = row.seq;
				memcpy(expect_prev, stored, FRT_AUDIT_HASH_LEN);
				expect_seq++;
			}
			MemoryContextReset(rowcxt);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	MemoryContextDelete(rowcxt);
	c->tail_seq = expect_seq - 1;
	memcpy(c->tail_hash, expect_prev, FRT_AUDIT_HASH_LEN);
	if (c->ok)
		FrtAuditCheckMark(c, anchor_seq, expect_seq - 1, expect_prev, read_only);
	FrtAuditKeyWarning(c);
	if (c->ok)
		c->reason = c->checked == 0 ?
			psprintf("chain intact: no records after the anchor (seq " INT64_FORMAT ")", anchor_seq) :
			psprintf("chain intact: " INT64_FORMAT " records, seq " INT64_FORMAT " to " INT64_FORMAT "%s",
					 c->checked, c->first_seq, c->last_seq,
					 c->alg_recs[FRT_AUDIT_ALG_SM3] == 0 ? "" :
					 psprintf(" (" INT64_FORMAT " hashed with sha256, " INT64_FORMAT " with sm3)",
							  c->alg_recs[FRT_AUDIT_ALG_SHA256], c->alg_recs[FRT_AUDIT_ALG_SM3]));
}

PG_FUNCTION_INFO_V1(frt_verify_audit_chain);

/*
 * SQL: frt.verify_audit_chain([anchor_seq, anchor_hash, anchor_mac,] OUT ok,
 * OUT seq, OUT reason, OUT checked, OUT warning) -- the first broken or
 * missing record, or an all-clear row (seq NULL); with an anchor, also
 * whether the trail still holds it.
 */
Datum
frt_verify_audit_chain(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};
	FrtChainCheck c;
	char	   *reason;
	char	   *warning;
	int64		anchor_seq = 0;
	uint8		anchor_hash[FRT_AUDIT_HASH_LEN];
	uint8		anchor_mac[FRT_AUDIT_MAC_LEN];
	bool		has_mac = false;
	FrtAuditAlg anchor_alg = FRT_AUDIT_ALG_SHA256;
	bool		has_alg = false;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "frt.verify_audit_chain must return a record");
	if (PG_NARGS() >= 2)
		FrtAnchorArgs(fcinfo, &anchor_seq, anchor_hash, anchor_mac, &has_mac, &anchor_alg, &has_alg);
	SPI_connect();
	FrtAuditVerifyChain(&c, true, true);
	if (c.ok && PG_NARGS() >= 2)
	{
		FrtAuditCheckAnchor(&c, anchor_seq, anchor_hash, has_mac ? anchor_mac : NULL,
							has_alg ? &anchor_alg : NULL, true);
		if (c.ok)
			c.reason = psprintf("%s; it holds the anchor of seq " INT64_FORMAT, c.reason, anchor_seq);
	}
	reason = MemoryContextStrdup(TopTransactionContext, c.reason);
	warning = c.warning ? MemoryContextStrdup(TopTransactionContext, c.warning) : NULL;
	SPI_finish();

	values[0] = BoolGetDatum(c.ok);
	values[1] = Int64GetDatum(c.bad_seq);
	nulls[1] = c.ok;
	values[2] = CStringGetTextDatum(reason);
	values[3] = Int64GetDatum(c.checked);
	nulls[4] = warning == NULL;
	values[4] = warning ? CStringGetTextDatum(warning) : (Datum) 0;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

PG_FUNCTION_INFO_V1(frt_audit_anchor_check);

/*
 * SQL: frt._audit_anchor_check(anchor_seq, anchor_hash, anchor_mac) -- one
 * anchor against the trail without walking the chain (verify_audit_anchors
 * walks it once): NULL if the trail holds the anchored record, else why not.
 */
Datum
frt_audit_anchor_check(PG_FUNCTION_ARGS)
{
	FrtChainCheck c;
	int64		seq;
	uint8		hash[FRT_AUDIT_HASH_LEN];
	uint8		mac[FRT_AUDIT_MAC_LEN];
	bool		has_mac;
	FrtAuditAlg alg = FRT_AUDIT_ALG_SHA256;
	bool		has_alg;
	bool		isnull;
	char	   *reason = NULL;

	FrtAnchorArgs(fcinfo, &seq, hash, mac, &has_mac, &alg, &has_alg);
	memset(&c, 0, sizeof(c));
	c.ok = true;
	SPI_connect();
	if (SPI_execute(psprintf("SELECT %s, %s, (SELECT pg_catalog.max(%s) FROM %s) FROM %s",
							 FrtGovColName(FRT_COL_ANCHOR_LAST_SEQ), FrtGovColName(FRT_COL_ANCHOR_LAST_HASH),
							 FrtGovColName(FRT_COL_AUDIT_SEQ), FrtGovRelName(FRT_REL_AUDIT),
							 FrtGovRelName(FRT_REL_AUDIT_ANCHOR)), true, 0) != SPI_OK_SELECT ||
		SPI_processed != 1 ||
		!FrtGetHash(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, c.base_hash))
		elog(ERROR, "could not read the audit retention anchor");
	c.base_seq = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	c.tail_seq = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	if (isnull)
		c.tail_seq = c.base_seq;
	FrtAuditCheckAnchor(&c, seq, hash, has_mac ? mac : NULL, has_alg ? &alg : NULL, true);
	if (!c.ok)
		reason = MemoryContextStrdup(TopTransactionContext, c.reason);
	SPI_finish();
	if (reason == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(reason));
}

/* Single int8 result of a query (0 if NULL or no row). */
static int64
FrtQueryInt8(const char *sql, int nargs, Oid *types, Datum *vals)
{
	bool		isnull;
	Datum		d;

	if (SPI_execute_with_args(sql, nargs, types, vals, NULL, false, 0) < 0)
		elog(ERROR, "query failed: %s", sql);
	if (SPI_processed == 0)
		return 0;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? 0 : DatumGetInt64(d);
}

/* Record the purge in the trail itself (committed before anything is dropped). */
static void
FrtAuditRecordPurge(int64 through, const char *hex, Interval *keep,
					TimestampTz cutoff, const FrtChainCheck *c)
{
	FrtAuditPayload rec;
	StringInfoData detail;

	initStringInfo(&detail);
	appendStringInfo(&detail,
					 "{\"through_seq\": \"" INT64_FORMAT "\", \"through_hash\": \"%s\", "
					 "\"keep\": \"%s\", \"cutoff\": \"%s\", \"chain_ok\": %s",
					 through, hex,
					 DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(keep))),
					 timestamptz_to_str(cutoff), c->ok ? "true" : "false");
	if (!c->ok)
		appendStringInfo(&detail, ", \"chain_first_break\": " INT64_FORMAT, c->bad_seq);
	appendStringInfoChar(&detail, '}');

	memset(&rec, 0, offsetof(FrtAuditPayload, buf));
	FrtAuditPayloadSet(&rec, FRT_AF_EVENT, FRT_AUDIT_PURGE_EVENT);
	FrtAuditPayloadSet(&rec, FRT_AF_OUTCOME, "authorized");
	FrtAuditPayloadSet(&rec, FRT_AF_SQLSTATE, NULL);
	FrtAuditPayloadSet(&rec, FRT_AF_PURPOSE, NULL);
	FrtAuditPayloadSet(&rec, FRT_AF_SUBJECT, NULL);
	FrtAuditPayloadSet(&rec, FRT_AF_DEVICE, NULL);
	FrtAuditPayloadSet(&rec, FRT_AF_DETAIL, detail.data);
	FrtAuditFillWho(&rec);
	(void) FrtAuditSubmit(&rec);
}

PG_FUNCTION_INFO_V1(frt_audit_retention_purge);

/*
 * SQL: frt.audit_retention_purge(keep interval) -- drop the oldest records,
 * all older than keep (at least 3 years), and move the anchor past them so
 * the rest of the chain still verifies.  Returns the number dropped.
 */
Datum
frt_audit_retention_purge(PG_FUNCTION_ARGS)
{
	Interval   *keep;
	Interval   *minimum;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	TimestampTz cutoff;
	TimestampTz floor_cutoff;
	int64		anchor_seq,
				through;
	volatile int64 dropped = 0;
	Oid			types[4] = {TIMESTAMPTZOID, INT8OID, BYTEAOID, TIMESTAMPTZOID};
	Datum		vals[4];
	FrtChainCheck c;
	char		hex[FRT_AUDIT_HASH_LEN * 2 + 1];
	bool		isnull;
	const char *audit;
	const char *anchor;
	const char *seqcol;
	char	   *delete_sql;
	char	   *anchor_sql;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("audit retention period must be given")));
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("the audit retention purge runs on the primary, not on a standby")));
	keep = PG_GETARG_INTERVAL_P(0);
	minimum = DatumGetIntervalP(DirectFunctionCall3(interval_in,
													CStringGetDatum(FRT_AUDIT_MIN_RETENTION),
													ObjectIdGetDatum(InvalidOid),
													Int32GetDatum(-1)));
	cutoff = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
													 TimestampTzGetDatum(now),
													 IntervalPGetDatum(keep)));
	floor_cutoff = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
														   TimestampTzGetDatum(now),
														   IntervalPGetDatum(minimum)));
	if (cutoff > floor_cutoff ||
		DatumGetInt32(DirectFunctionCall2(interval_cmp, IntervalPGetDatum(keep),
										  IntervalPGetDatum(minimum))) < 0)
		FrtRefuse(FRT_ERRCODE_AUDIT_APPEND_ONLY, 9, "; PIPL Art. 56", NULL,
				  psprintf("Pass a retention period of at least '%s'.", FRT_AUDIT_MIN_RETENTION),
				  "audit records must be kept at least %s", FRT_AUDIT_MIN_RETENTION);

	SPI_connect();
	audit = FrtGovRelName(FRT_REL_AUDIT);
	anchor = FrtGovRelName(FRT_REL_AUDIT_ANCHOR);
	seqcol = FrtGovColName(FRT_COL_AUDIT_SEQ);
	anchor_seq = FrtQueryInt8(psprintf("SELECT %s FROM %s",
									   FrtGovColName(FRT_COL_ANCHOR_LAST_SEQ), anchor),
							  0, NULL, NULL);
	vals[0] = TimestampTzGetDatum(cutoff);
	/* a prefix of the chain: everything before the first record to keep */
	through = FrtQueryInt8(psprintf("SELECT coalesce((SELECT pg_catalog.min(%s) FROM %s WHERE %s OPERATOR(pg_catalog.>=) $1) "
									"OPERATOR(pg_catalog.-) 1, (SELECT pg_catalog.max(%s) FROM %s))",
									seqcol, audit, FrtGovColName(FRT_COL_AUDIT_AT), seqcol, audit),
						   1, types, vals);
	if (through <= anchor_seq)
	{
		SPI_finish();
		PG_RETURN_INT64(0);
	}
	vals[1] = Int64GetDatum(through);
	if (SPI_execute_with_args(psprintf("SELECT %s, %s FROM %s WHERE %s OPERATOR(pg_catalog.=) $1",
									   FrtGovColName(FRT_COL_AUDIT_HASH),
									   FrtGovColName(FRT_COL_AUDIT_AT), audit, seqcol),
							  1, types + 1, vals + 1, NULL, false, 0) != SPI_OK_SELECT ||
		SPI_processed != 1)
		FrtRefuse(FRT_ERRCODE_AUDIT_APPEND_ONLY, 14, NULL, NULL, NULL,
				  "audit record %lld is missing; purge refused", (long long) through);
	vals[2] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
							FrtGovAttnum(SPI_tuptable->tupdesc, FRT_COL_AUDIT_HASH), &isnull);
	if (isnull || VARSIZE_ANY_EXHDR(DatumGetByteaPP(vals[2])) != FRT_AUDIT_HASH_LEN)
		FrtRefuse(FRT_ERRCODE_AUDIT_APPEND_ONLY, 14, NULL, NULL, NULL,
				  "audit record %lld has no valid hash; purge refused", (long long) through);
	vals[2] = PointerGetDatum(DatumGetByteaPCopy(vals[2]));
	vals[3] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
							FrtGovAttnum(SPI_tuptable->tupdesc, FRT_COL_AUDIT_AT), &isnull);
	hex_encode(VARDATA_ANY(DatumGetByteaPP(vals[2])), FRT_AUDIT_HASH_LEN, hex);
	hex[FRT_AUDIT_HASH_LEN * 2] = '\0';

	/* the state of the chain, including what is about to go, goes on record */
	FrtAuditVerifyChain(&c, false, true);
	FrtAuditRecordPurge(through, hex, keep, cutoff, &c);

	delete_sql = psprintf("DELETE FROM %s WHERE %s OPERATOR(pg_catalog.<=) $1", audit, seqcol);
	anchor_sql = psprintf("UPDATE %s SET %s = $2, %s = $3, %s = $4, %s = pg_catalog.now()", anchor,
						  FrtGovColName(FRT_COL_ANCHOR_LAST_SEQ),
						  FrtGovColName(FRT_COL_ANCHOR_LAST_HASH),
						  FrtGovColName(FRT_COL_ANCHOR_LAST_AT),
						  FrtGovColName(FRT_COL_ANCHOR_PURGED_AT));
	FrtAuditPurgeThrough = through;
	FrtAuditPurgeBefore = floor_cutoff;
	PG_TRY();
	{
		if (SPI_execute_with_args(delete_sql, 1, types + 1,
								  vals + 1, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "could not delete old audit records");
		dropped = SPI_processed;
		if (SPI_execute_with_args(anchor_sql,
								  4, types, vals, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "could not move the audit retention anchor");
	}
	PG_FINALLY();
	{
		FrtAuditPurgeThrough = 0;
		FrtAuditPurgeBefore = 0;
	}
	PG_END_TRY();
	SPI_finish();
	PG_RETURN_INT64(dropped);
}

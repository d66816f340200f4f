/*-------------------------------------------------------------------------
 *
 * audit_worker.c
 *	  The per-database audit writer: takes queued records in submission
 *	  order, chains their hashes, inserts and commits them, then wakes the
 *	  submitters.  It is the only writer of frt.audit in its database.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "frt_audit.h"

/*
 * The audit table's columns, all inserted: parameter $n is column
 * FRT_COL_AUDIT_SEQ + n - 1 (hash_alg, the last, only once an upgrade made it).
 */
#define FRT_AUDIT_NCOLS (FRT_COL_AUDIT_HASH_ALG - FRT_COL_AUDIT_SEQ + 1)
#define FRT_AUDIT_PARAM(col) ((col) - FRT_COL_AUDIT_SEQ)

/* The batch in hand, so an exit can fail its slots. */
static int	FrtBatchSlots[FRT_AUDIT_BATCH_MAX];
static int	FrtBatchLen = 0;
static FrtAuditPayload FrtBatchRecs[FRT_AUDIT_BATCH_MAX];

/* The prepared insert, and the SQL it was prepared from (names may change). */
static SPIPlanPtr FrtInsertPlan = NULL;
static char *FrtInsertSql = NULL;

/*
 * The hash function of the batch in hand: frt.audit_hash, or SHA-256 on a
 * trail not yet upgraded to name it (no column hash_alg), said once.
 */
static FrtAuditAlg FrtBatchAlg = FRT_AUDIT_ALG_SHA256;
static bool FrtAlgWarned = false;

/*
 * The chain's tail as this worker last committed it, so a batch needs no
 * query for it.  Valid only for the frt.audit it was read from; dropped on
 * any failure (the batch is then retried once from the table).
 */
static bool FrtTailValid = false;
static Oid	FrtTailRel = InvalidOid;
static int64 FrtTailSeq = 0;
static uint8 FrtTailHash[FRT_AUDIT_HASH_LEN];

/*
 * The head as last committed by this writer, and as last sent out as an
 * anchor (audit_anchor.c); the database's name for the anchor lines.
 */
static FrtAuditHead FrtHead;
static int64 FrtAnchoredSeq = 0;
static TimestampTz FrtAnchoredAt = 0;
static char *FrtDbName = NULL;

/* Settle the batch's slots (done with seqs, or failed) and wake submitters. */
static void
FrtAuditSettleBatch(int64 first_seq, const char *error)
{
	LWLockAcquire(FrtAudit->lock, LW_EXCLUSIVE);
	for (int i = 0; i < FrtBatchLen; i++)
	{
		FrtAuditSlot *slot = &FrtAudit->slots[FrtBatchSlots[i]];

		if (slot->orphaned)
			slot->state = FRT_SLOT_FREE;
		else if (error)
		{
			slot->state = FRT_SLOT_FAILED;
			strlcpy(slot->errmsg, error, sizeof(slot->errmsg));
		}
		else
		{
			slot->state = FRT_SLOT_DONE;
			slot->result_seq = first_seq + i;
		}
	}
	LWLockRelease(FrtAudit->lock);
	for (int i = 0; i < FrtBatchLen; i++)
		ConditionVariableBroadcast(&FrtAudit->slots[FrtBatchSlots[i]].cv);
	FrtBatchLen = 0;
}

/* Send the head out if it is newer than the last anchor (and due, unless forced). */
static void
FrtAuditAnchorIfDue(bool force, const char *why)
{
	if (FrtHead.seq <= 0 || FrtDbName == NULL ||
		(FrtHead.seq == FrtAnchoredSeq && why == NULL))
		return;
	if (!force && !TimestampDifferenceExceeds(FrtAnchoredAt, GetCurrentTimestamp(),
											  frt_audit_anchor_interval_s * 1000))
		return;
	FrtAuditAnchorEmit(FrtDbName, &FrtHead, why);
	FrtAnchoredSeq = FrtHead.seq;
	FrtAnchoredAt = GetCurrentTimestamp();
}

/* On exit: fail the batch in hand, send the head out, give up this database's entry. */
static void
FrtAuditWorkerExit(int code pg_attribute_unused(), Datum arg)
{
	FrtAuditAnchorIfDue(true, NULL);
	if (FrtBatchLen > 0)
		FrtAuditSettleBatch(0, "the audit worker exited before committing");
	LWLockAcquire(FrtAudit->lock, LW_EXCLUSIVE);
	for (int i = 0; i < FRT_AUDIT_MAX_DATABASES; i++)
	{
		FrtAuditDbWorker *w = &FrtAudit->workers[i];

		if (w->dboid == DatumGetObjectId(arg) && w->pid == MyProcPid)
		{
			w->state = FRT_WORKER_NONE;
			w->pid = 0;
			w->latch = NULL;
		}
	}
	LWLockRelease(FrtAudit->lock);
}

/* Take up to a batch of pending slots of this database, oldest first. */
static int
FrtAuditTakeBatch(void)
{
	LWLockAcquire(FrtAudit->lock, LW_EXCLUSIVE);
	FrtBatchLen = 0;
	for (;;)
	{
		int			best = -1;

		for (int i = 0; i < FRT_AUDIT_QUEUE_SLOTS; i++)
		{
			FrtAuditSlot *s = &FrtAudit->slots[i];

			if (s->state == FRT_SLOT_PENDING && s->dboid == MyDatabaseId &&
				(best < 0 || s->ticket < FrtAudit->slots[best].ticket))
				best = i;
		}
		if (best < 0 || FrtBatchLen >= FRT_AUDIT_BATCH_MAX)
			break;
		FrtAudit->slots[best].state = FRT_SLOT_TAKEN;
		memcpy(&FrtBatchRecs[FrtBatchLen], &FrtAudit->slots[best].rec,
			   offsetof(FrtAuditPayload, buf) + FrtAudit->slots[best].rec.used);
		FrtBatchSlots[FrtBatchLen++] = best;
	}
	LWLockRelease(FrtAudit->lock);
	return FrtBatchLen;
}

/* Read the chain's tail: last seq and hash (anchor if the trail is empty). */
static int64
FrtAuditReadTail(uint8 *hash)
{
	const char *seqcol = FrtGovColName(FRT_COL_AUDIT_SEQ);
	const char *q[2];
	const FrtGovCol cols[2][2] = {
		{FRT_COL_AUDIT_SEQ, FRT_COL_AUDIT_HASH},
		{FRT_COL_ANCHOR_LAST_SEQ, FRT_COL_ANCHOR_LAST_HASH}
	};

	q[0] = psprintf("SELECT %s, %s FROM %s ORDER BY %s DESC LIMIT 1", seqcol,
					FrtGovColName(FRT_COL_AUDIT_HASH), FrtGovRelName(FRT_REL_AUDIT), seqcol);
	q[1] = psprintf("SELECT %s, %s FROM %s", FrtGovColName(FRT_COL_ANCHOR_LAST_SEQ),
					FrtGovColName(FRT_COL_ANCHOR_LAST_HASH), FrtGovRelName(FRT_REL_AUDIT_ANCHOR));
	memset(hash, 0, FRT_AUDIT_HASH_LEN);
	for (int i = 0; i < 2; i++)
	{
		bool		isnull;
		int64		seq;
		bytea	   *h;
		HeapTuple	t;
		TupleDesc	d;

		if (SPI_execute(q[i], true, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not read the audit chain's tail");
		if (SPI_processed == 0)
			continue;
		t = SPI_tuptable->vals[0];
		d = SPI_tuptable->tupdesc;
		seq = DatumGetInt64(SPI_getbinval(t, d, FrtGovAttnum(d, cols[i][0]), &isnull));
		h = DatumGetByteaPP(SPI_getbinval(t, d, FrtGovAttnum(d, cols[i][1]), &isnull));
		if (!isnull && VARSIZE_ANY_EXHDR(h) == FRT_AUDIT_HASH_LEN)
			memcpy(hash, VARDATA_ANY(h), FRT_AUDIT_HASH_LEN);
		return seq;
	}
	return 0;
}

/* Make a bytea datum of a hash. */
static Datum
FrtHashDatum(const uint8 *hash)
{
	bytea	   *b = palloc(VARHDRSZ + FRT_AUDIT_HASH_LEN);

	SET_VARSIZE(b, VARHDRSZ + FRT_AUDIT_HASH_LEN);
	memcpy(VARDATA(b), hash, FRT_AUDIT_HASH_LEN);
	return PointerGetDatum(b);
}

/* A MAC is stored like a hash (FrtHashDatum). */
StaticAssertDecl(FRT_AUDIT_MAC_LEN == FRT_AUDIT_HASH_LEN, "a MAC is stored like a hash");

/*
 * Insert one record with its seq, chain hash and (with a key) MAC; updates
 * prev to its hash and mac to its MAC (*has_mac false without a key).
 */
static void
FrtAuditInsertOne(const FrtAuditPayload *rec, int64 seq, uint8 *prev, uint8 *mac, bool *has_mac)
{
	FrtAuditRow row;
	Datum		values[FRT_AUDIT_NCOLS];
	char		nulls[FRT_AUDIT_NCOLS];
	uint8		hash[FRT_AUDIT_HASH_LEN];

	memset(&row, 0, sizeof(row));
	row.seq = seq;
	row.at = rec->at;
	row.backend_pid = rec->backend_pid;
	row.has_similarity = rec->has_similarity;
	row.similarity = rec->similarity;
	for (int f = 0; f < FRT_AUDIT_NFIELDS; f++)
		row.field[f] = FrtAuditPayloadGet(rec, f);
	/* Hash the forms the table will give back to the verifier. */
	if (row.field[FRT_AF_CLIENT_ADDR])
		row.field[FRT_AF_CLIENT_ADDR] = FrtAuditCanonicalInet(row.field[FRT_AF_CLIENT_ADDR]);
	if (row.field[FRT_AF_DETAIL])
		row.field[FRT_AF_DETAIL] = FrtAuditCanonicalJsonb(row.field[FRT_AF_DETAIL]);
	memcpy(row.prev_hash, prev, FRT_AUDIT_HASH_LEN);
	row.alg = FrtBatchAlg;
	FrtAuditComputeHash(&row, hash);

	memset(values, 0, sizeof(values));
	memset(nulls, 'n', sizeof(nulls));
#define FRT_SET(col, datum) \
	(values[FRT_AUDIT_PARAM(col)] = (datum), nulls[FRT_AUDIT_PARAM(col)] = ' ')
	FRT_SET(FRT_COL_AUDIT_SEQ, Int64GetDatum(seq));
	FRT_SET(FRT_COL_AUDIT_AT, TimestampTzGetDatum(row.at));
	FRT_SET(FRT_COL_AUDIT_BACKEND_PID, Int32GetDatum(row.backend_pid));
	if (row.has_similarity)
		FRT_SET(FRT_COL_AUDIT_SIMILARITY, Float8GetDatum(row.similarity));
	for (int f = 0; f < FRT_AUDIT_NFIELDS; f++)
		if (row.field[f])
			FRT_SET(FrtAuditFieldCol[f], CStringGetTextDatum(row.field[f]));
	FRT_SET(FRT_COL_AUDIT_PREV_HASH, FrtHashDatum(prev));
	FRT_SET(FRT_COL_AUDIT_HASH, FrtHashDatum(hash));
	FRT_SET(FRT_COL_AUDIT_HASH_ALG, CStringGetTextDatum(FrtAuditAlgName(row.alg)));
	*has_mac = FrtAuditKeyed();
	if (*has_mac)
	{
		FrtAuditMac(row.alg, hash, mac);
		FRT_SET(FRT_COL_AUDIT_MAC, FrtHashDatum(mac));
	}
#undef FRT_SET

	if (SPI_execute_plan(FrtInsertPlan, values, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not insert an audit record");
	memcpy(prev, hash, FRT_AUDIT_HASH_LEN);
}

/* Parameter type of an audit column in the insert (text fields are cast in SQL). */
static Oid
FrtAuditParamType(FrtGovCol col, const char **cast)
{
	*cast = "";
	switch (col)
	{
		case FRT_COL_AUDIT_SEQ:
			return INT8OID;
		case FRT_COL_AUDIT_AT:
			return TIMESTAMPTZOID;
		case FRT_COL_AUDIT_BACKEND_PID:
			return INT4OID;
		case FRT_COL_AUDIT_SIMILARITY:
			return FLOAT8OID;
		case FRT_COL_AUDIT_PREV_HASH:
		case FRT_COL_AUDIT_HASH:
		case FRT_COL_AUDIT_MAC:
			return BYTEAOID;
		case FRT_COL_AUDIT_CLIENT_ADDR:
			*cast = "::pg_catalog.inet";
			return TEXTOID;
		case FRT_COL_AUDIT_DETAIL:
			*cast = "::pg_catalog.jsonb";
			return TEXTOID;
		default:
			return TEXTOID;
	}
}

/*
 * Prepare the insert statement, again only if the names changed (or an
 * upgrade added hash_alg), and choose the batch's hash function.
 */
static void
FrtAuditPrepare(Oid rel)
{
	Oid			types[FRT_AUDIT_NCOLS];
	StringInfoData sql;
	SPIPlanPtr	plan;
	bool		has_alg = FrtGovRelAttnum(rel, FRT_COL_AUDIT_HASH_ALG) != InvalidAttrNumber;
	int			last = has_alg ? FRT_COL_AUDIT_HASH_ALG : FRT_COL_AUDIT_MAC;

	FrtBatchAlg = has_alg ? (FrtAuditAlg) frt_audit_hash : FRT_AUDIT_ALG_SHA256;
	if (!has_alg && frt_audit_hash != FRT_AUDIT_ALG_SHA256 && !FrtAlgWarned)
	{
		ereport(WARNING,
				(errmsg("frt.audit_hash = %s, but this database's audit trail cannot name a record's hash function yet: records are hashed with sha256",
						FrtAuditAlgName(frt_audit_hash)),
				 errhint("Run ALTER EXTENSION %s UPDATE.", FRT_GOVERNANCE_EXTENSION)));
		FrtAlgWarned = true;
	}
	initStringInfo(&sql);
	appendStringInfo(&sql, "INSERT INTO %s (", FrtGovRelName(FRT_REL_AUDIT));
	for (int c = FRT_COL_AUDIT_SEQ; c <= last; c++)
		appendStringInfo(&sql, "%s%s", c > FRT_COL_AUDIT_SEQ ? ", " : "", FrtGovColName(c));
	appendStringInfoString(&sql, ") VALUES (");
	for (int c = FRT_COL_AUDIT_SEQ; c <= last; c++)
	{
		const char *cast;

		types[FRT_AUDIT_PARAM(c)] = FrtAuditParamType(c, &cast);
		appendStringInfo(&sql, "%s$%d%s", c > FRT_COL_AUDIT_SEQ ? ", " : "",
						 FRT_AUDIT_PARAM(c) + 1, cast);
	}
	appendStringInfoChar(&sql, ')');

	if (FrtInsertPlan && strcmp(FrtInsertSql, sql.data) == 0)
		return;
	plan = SPI_prepare(sql.data, last - FRT_COL_AUDIT_SEQ + 1, types);
	if (plan == NULL)
		elog(ERROR, "could not prepare the audit insert: %s",
			 SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	if (FrtInsertPlan)
	{
		SPI_freeplan(FrtInsertPlan);
		pfree(FrtInsertSql);
	}
	FrtInsertPlan = plan;
	FrtInsertSql = MemoryContextStrdup(TopMemoryContext, sql.data);
}
/*
 * Move the head mark to the batch's last record, in the batch's transaction:
 * a dump or a base backup then holds records and mark of one instant, and a
 * trail that lost records (at the end, or all of them in a restore) no
 * longer reaches its mark.  A mark ahead of the trail is never moved back.
 */
static void
FrtAuditMoveMark(int64 seq, const uint8 *hash)
{
	Oid			types[2] = {INT8OID, BYTEAOID};
	Datum		vals[2];
	const char *seqcol = FrtGovColName(FRT_COL_MARK_SEQ);

	vals[0] = Int64GetDatum(seq);
	vals[1] = FrtHashDatum(hash);
	if (SPI_execute_with_args(psprintf("UPDATE %s SET %s = $1, %s = $2 WHERE %s OPERATOR(pg_catalog.<) $1",
									   FrtGovRelName(FRT_REL_AUDIT_MARK), seqcol,
									   FrtGovColName(FRT_COL_MARK_HASH), seqcol),
							  2, types, vals, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not move the audit head mark");
}

/* Write the batch in one transaction; returns the first seq (error on failure). */
static int64
FrtAuditWriteBatch(void)
{
	uint8		prev[FRT_AUDIT_HASH_LEN];
	uint8		mac[FRT_AUDIT_MAC_LEN];
	bool		has_mac = false;
	int64		first;
	Oid			rel;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "frt audit: writing records");

	rel = FrtGovRelid(FRT_REL_AUDIT, false);
	FrtAuditPrepare(rel);
	if (FrtTailValid && rel == FrtTailRel)
	{
		first = FrtTailSeq + 1;
		memcpy(prev, FrtTailHash, FRT_AUDIT_HASH_LEN);
	}
	else
		first = FrtAuditReadTail(prev) + 1;
	FrtTailValid = false;
	for (int i = 0; i < FrtBatchLen; i++)
		FrtAuditInsertOne(&FrtBatchRecs[i], first + i, prev, mac, &has_mac);
	FrtAuditMoveMark(first + FrtBatchLen - 1, prev);

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	FrtTailRel = rel;
	FrtTailSeq = first + FrtBatchLen - 1;
	memcpy(FrtTailHash, prev, FRT_AUDIT_HASH_LEN);
	FrtTailValid = true;
	FrtHead.seq = FrtTailSeq;
	FrtHead.alg = FrtBatchAlg;
	memcpy(FrtHead.hash, prev, FRT_AUDIT_HASH_LEN);
	FrtHead.has_mac = has_mac;
	memcpy(FrtHead.mac, mac, FRT_AUDIT_MAC_LEN);
	return first;
}

/* One try at the batch in hand; false (the error in *error) if it failed. */
static bool
FrtAuditTryBatch(int64 *first, char **error)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	volatile bool ok = true;

	PG_TRY();
	{
		*first = FrtAuditWriteBatch();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		*error = pstrdup(edata->message ? edata->message : "unknown error");
		elog(LOG, "frt audit writer: could not commit %d record(s): %s",
			 FrtBatchLen, *error);
		FreeErrorData(edata);
		AbortCurrentTransaction();
		pgstat_report_activity(STATE_IDLE, NULL);
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

/* Write the batch in hand, turning an error into failed slots. */
static void
FrtAuditProcessBatch(void)
{
	int64		first = 0;
	char	   *error = NULL;
	char	   *why = NULL;

	/* a record that asks for an anchor (a statement on the audit objects) */
	for (int i = 0; i < FrtBatchLen; i++)
		if (FrtBatchRecs[i].anchor_now)
			why = psprintf("after %s: %s by %s", FrtAuditPayloadGet(&FrtBatchRecs[i], FRT_AF_EVENT),
						   FrtAuditPayloadGet(&FrtBatchRecs[i], FRT_AF_OUTCOME),
						   FrtAuditPayloadGet(&FrtBatchRecs[i], FRT_AF_ROLE));

	/* a second try reads the tail from the table (the cached one may be stale) */
	for (int attempt = 0; attempt < 2; attempt++)
	{
		bool		cached = FrtTailValid;

		if (FrtAuditTryBatch(&first, &error) || !cached)
			break;
		pfree(error);
		error = NULL;
	}
	/* the anchor is out before the statement that asked for it goes on */
	if (why && !error)
		FrtAuditAnchorIfDue(true, why);
	FrtAuditSettleBatch(first, error);
	if (error)
		pfree(error);
	else
		FrtAuditAnchorIfDue(false, NULL);
}

/* Register as this database's writer; false if another one is running. */
static bool
FrtAuditClaimDatabase(Oid dboid)
{
	bool		ok = false;

	LWLockAcquire(FrtAudit->lock, LW_EXCLUSIVE);
	for (int i = 0; i < FRT_AUDIT_MAX_DATABASES; i++)
	{
		FrtAuditDbWorker *w = &FrtAudit->workers[i];

		if (w->dboid != dboid || w->state == FRT_WORKER_NONE)
			continue;
		if (w->state == FRT_WORKER_RUNNING && w->pid != MyProcPid)
			break;
		w->state = FRT_WORKER_RUNNING;
		w->pid = MyProcPid;
		w->latch = &MyProc->procLatch;
		ok = true;
		break;
	}
	LWLockRelease(FrtAudit->lock);
	return ok;
}

/* Exit if idle and nothing is queued for us (atomically with submitters). */
static bool
FrtAuditIdleExit(void)
{
	bool		pending = false;

	LWLockAcquire(FrtAudit->lock, LW_EXCLUSIVE);
	for (int i = 0; i < FRT_AUDIT_QUEUE_SLOTS && !pending; i++)
		pending = (FrtAudit->slots[i].state == FRT_SLOT_PENDING &&
				   FrtAudit->slots[i].dboid == MyDatabaseId);
	if (!pending)
	{
		for (int i = 0; i < FRT_AUDIT_MAX_DATABASES; i++)
			if (FrtAudit->workers[i].pid == MyProcPid)
			{
				FrtAudit->workers[i].state = FRT_WORKER_NONE;
				FrtAudit->workers[i].pid = 0;
				FrtAudit->workers[i].latch = NULL;
			}
	}
	LWLockRelease(FrtAudit->lock);
	return !pending;
}

/* Entry point of the audit writer of one database. */
void
FrtAuditWorkerMain(Datum main_arg)
{
	Oid			dboid = DatumGetObjectId(main_arg);
	TimestampTz last_work;
	char		timeout[32];

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	before_shmem_exit(FrtAuditWorkerExit, ObjectIdGetDatum(dboid));

	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	FrtAuditIsWriter = true;
	/* A record is acknowledged only once it is durable. */
	SetConfigOption("synchronous_commit", "on", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_read_only", "off", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("statement_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	snprintf(timeout, sizeof(timeout), "%d", frt_audit_timeout_ms);
	SetConfigOption("lock_timeout", timeout, PGC_SUSET, PGC_S_OVERRIDE);

	if (!FrtAuditClaimDatabase(dboid))
		proc_exit(0);
	StartTransactionCommand();
	FrtDbName = MemoryContextStrdup(TopMemoryContext, get_database_name(dboid));
	CommitTransactionCommand();

	last_work = GetCurrentTimestamp();
	FrtAnchoredAt = last_work;
	for (;;)
	{
		long		wait_ms = frt_audit_idle_exit_ms;

		CHECK_FOR_INTERRUPTS();
		FrtAuditAnchorReap();
		ResetLatch(MyLatch);
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (FrtAuditTakeBatch() > 0)
		{
			FrtAuditProcessBatch();
			last_work = GetCurrentTimestamp();
			continue;
		}
		FrtAuditAnchorIfDue(false, NULL);
		if (TimestampDifferenceExceeds(last_work, GetCurrentTimestamp(),
									   frt_audit_idle_exit_ms) &&
			FrtAuditIdleExit())
			proc_exit(0);		/* the exit callback sends the head out */
		/* wake for the next anchor if the head is not out yet */
		if (FrtHead.seq > FrtAnchoredSeq)
			wait_ms = Min(wait_ms, Max(1, frt_audit_anchor_interval_s * 1000L -
									   (long) ((GetCurrentTimestamp() - FrtAnchoredAt) / 1000)));
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 wait_ms, PG_WAIT_EXTENSION);
	}
}

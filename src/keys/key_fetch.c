/*-------------------------------------------------------------------------
 *
 * key_fetch.c
 *	  A standby copies the key epochs it lacks from the primary's keyring,
 *	  over the audit relay's connection (the role it logs in as is a member
 *	  of frt_audit_relay), when it meets a face under one, or on request.
 *
 * What travels is the epoch's file: its secret is inert without the root
 * key, and its check value, which only the root key derives, authenticates
 * it: a standby adopts a file only if its own root key derives it.  A
 * standby never copies an epoch the primary no longer has (destroyed);
 * and since the primary reads the file under the keyring's lock, and
 * logs a destruction before it destroys the file under that lock, a copy
 * made before a destruction is destroyed again when the standby replays
 * it; a copy raced by a replayed destruction is not written at all (the
 * keyring's generation moved).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "access/xlogrecovery.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "libpq-fe.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"

#include "frt_audit.h"
#include "frt_gov_names.h"
#include "frt_keys.h"
#include "frt_refuse.h"

/* Most epochs one call of frt._key_epoch_records names. */
#define FRT_KEY_FETCH_MAX_ASK	64
/* Times a copy is tried again when the keyring changed meanwhile. */
#define FRT_KEY_FETCH_TRIES		3
/* The worker started by a replayed creation: attempts, and the pause between. */
#define FRT_KEY_FETCH_WORKER_TRIES	20
#define FRT_KEY_FETCH_WORKER_PAUSE_MS	15000

static uint32 FrtKeyFetching = 0;	/* the epoch asked for, for the error */

/* The relay failed: the epoch cannot be had (MF150, with the reason). */
static void
FrtKeyFetchFailed(const char *why, const char *detail)
{
	uint32		epoch = FrtKeyFetching;

	if (epoch != FRT_KEY_FETCH_ALL)
		FrtRefuse(FRT_ERRCODE_KEY_UNAVAILABLE, 14, NULL, detail,
				  "A standby copies key epochs from the primary through frt.audit_primary_conninfo (empty: primary_conninfo), as a member of frt_audit_relay; or copy the file from the primary's keyring.",
				  "key epoch %u is not in the keyring, and the primary could not be asked for it: %s",
				  epoch, why);
	FrtRefuse(FRT_ERRCODE_KEY_UNAVAILABLE, 14, NULL, detail,
			  "A standby copies key epochs from the primary through frt.audit_primary_conninfo (empty: primary_conninfo), as a member of frt_audit_relay.",
			  "the primary could not be asked for its key epochs: %s", why);
}

/* An epoch number of the primary's answer (an error if it is not one). */
static uint32
FrtKeyFetchNumber(const char *text)
{
	char	   *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v > PG_UINT32_MAX)
		FrtKeyFetchFailed("its answer is malformed", NULL);
	return (uint32) v;
}

/* Bytes of a bytea in text form ("\x..."), into out (at most max); length or -1. */
static int
FrtKeyFetchBytes(const char *text, uint8 *out, int max)
{
	size_t		n = strlen(text);

	if (n < 2 || text[0] != '\\' || text[1] != 'x' || (n - 2) % 2 != 0 ||
		(n - 2) / 2 > (size_t) max)
		return -1;
	return (int) hex_decode(text + 2, n - 2, (char *) out);
}

/*
 * Adopt the rows of the primary's answer (epoch, record, highest) that this
 * keyring lacks; *gen is the keyring's generation they may be added at.
 * Returns how many were written, or -1 if the keyring changed meanwhile.
 */
static int
FrtKeyFetchAdopt(PGresult *res, uint32 want, uint64 *gen, bool *destroyed)
{
	int			written = 0;

	if (PQnfields(res) != 3)
		FrtKeyFetchFailed("its answer has the wrong shape", NULL);
	/* never number an epoch the primary already has (every row names its highest) */
	if (PQntuples(res) > 0)
		FrtKeyringRaiseFloor(FrtKeyFetchNumber(PQgetvalue(res, 0, 2)), ERROR);
	for (int i = 0; i < PQntuples(res); i++)
	{
		uint32		epoch = FrtKeyFetchNumber(PQgetvalue(res, i, 0));
		uint32		highest = FrtKeyFetchNumber(PQgetvalue(res, i, 2));
		uint8		rec[FRT_KEYRING_RECORD_LEN];
		uint64		seen;
		int			len;

		if (want != FRT_KEY_FETCH_ALL && epoch != want)
			FrtKeyFetchFailed("it answered for another epoch than the one asked for", NULL);
		if (PQgetisnull(res, i, 1))
		{
			/* the primary has no such file: below its highest, destroyed */
			if (epoch == want && epoch < highest)
				*destroyed = true;
			continue;
		}
		if (FrtKeyringHas(epoch, &seen))
			continue;
		if (seen != *gen)
			return -1;
		len = FrtKeyFetchBytes(PQgetvalue(res, i, 1), rec, sizeof(rec));
		if (len < 0)
			FrtKeyFetchFailed("its answer is malformed", NULL);
		if (!FrtKeyringAdopt(epoch, rec, (size_t) len, gen))
		{
			explicit_bzero(rec, sizeof(rec));
			return -1;
		}
		explicit_bzero(rec, sizeof(rec));
		written++;
	}
	return written;
}

/* One attempt of FrtKeyFetch: ask the primary, adopt its answer. */
static int
FrtKeyFetchOnce(const char *sql, const char *const *params, uint32 epoch, uint64 gen,
				bool *destroyed)
{
	PGresult   *res;
	volatile int written = -1;

	FrtKeyFetching = epoch;
	res = FrtAuditRelayQuery(sql, 1, params, FrtKeyFetchFailed);
	PG_TRY();
	{
		written = FrtKeyFetchAdopt(res, epoch, &gen, destroyed);
	}
	PG_FINALLY();
	{
		/* the records are inert without the root key; wiped all the same */
		for (int i = 0; i < PQntuples(res); i++)
			if (PQnfields(res) > 1 && !PQgetisnull(res, i, 1))
				explicit_bzero(PQgetvalue(res, i, 1), PQgetlength(res, i, 1));
		PQclear(res);
	}
	PG_END_TRY();
	return written;
}

/*
 * On a standby: copy from the primary epoch (or every epoch it has, for
 * FRT_KEY_FETCH_ALL) that this keyring lacks.  Returns how many epochs were
 * written; *destroyed tells that the primary destroyed the epoch asked for.
 * Errors (MF150) if the primary cannot be asked or a file does not verify.
 */
int
FrtKeyFetch(uint32 epoch, bool *destroyed)
{
	char	   *sql;
	const char *params[1];
	int			written = -1;

	*destroyed = false;
	if (!RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("only a standby copies key epochs from its primary")));
	sql = psprintf("SELECT r.epoch, r.record, r.highest FROM %s($1::pg_catalog.int8[]) r",
				   FrtGovFuncName(FRT_FUNC_KEY_EPOCH_RECORDS));
	params[0] = epoch == FRT_KEY_FETCH_ALL ? NULL : psprintf("{%u}", epoch);
	for (int tries = 0; written < 0 && tries < FRT_KEY_FETCH_TRIES; tries++)
	{
		uint64		gen;

		if (FrtKeyringHas(epoch, &gen) && epoch != FRT_KEY_FETCH_ALL)
			return 0;
		written = FrtKeyFetchOnce(sql, params, epoch, gen, destroyed);
	}
	if (written < 0)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("the keyring kept changing while key epochs were copied from the primary"),
				 errhint("Try again.")));
	return written;
}

PG_FUNCTION_INFO_V1(frt_key_epoch_records);

/*
 * frt._key_epoch_records(epochs int8[]): for each epoch asked for (NULL:
 * every epoch of the keyring), its file (NULL if it is not there) and the
 * keyring's highest epoch.  Only a primary answers (a standby's keyring
 * may lag its replay, or be partial).  Granted to frt_audit_relay:
 * standbys call it; every answer with files is on the audit trail.
 */
Datum
frt_key_epoch_records(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	uint32	   *want;
	int			nwant;
	uint8	   *recs;
	size_t	   *lens;
	uint32		highest = 0;
	StringInfoData served;
	int			nserved = 0;

	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("key epochs are served by the primary, and this server is a standby"),
				 errhint("Point frt.audit_primary_conninfo of the asking standby at the primary.")));
	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
	{
		FrtKeyEpochInfo *list;

		nwant = FrtKeyringList(&list);
		want = palloc(sizeof(uint32) * Max(nwant, 1));
		for (int i = 0; i < nwant; i++)
			want[i] = list[i].epoch;
	}
	else
	{
		ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(0);
		Datum	   *elems;
		bool	   *nulls;

		if (ARR_NDIM(arr) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("the epochs must be a one-dimensional array")));
		deconstruct_array(arr, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
						  &elems, &nulls, &nwant);
		if (nwant > FRT_KEY_FETCH_MAX_ASK)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("at most %d epochs at once", FRT_KEY_FETCH_MAX_ASK)));
		want = palloc(sizeof(uint32) * Max(nwant, 1));
		for (int i = 0; i < nwant; i++)
		{
			int64		v = nulls[i] ? 0 : DatumGetInt64(elems[i]);

			if (v <= 0 || v > PG_UINT32_MAX)
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("key epochs are numbered from 1 to %u", PG_UINT32_MAX)));
			want[i] = (uint32) v;
		}
	}
	recs = palloc0((Size) Max(nwant, 1) * FRT_KEYRING_RECORD_LEN);
	lens = palloc0(sizeof(size_t) * Max(nwant, 1));
	FrtKeyringRecords(want, nwant, recs, lens, &highest);
	initStringInfo(&served);
	for (int i = 0; i < nwant; i++)
	{
		Datum		values[3];
		bool		isnull[3] = {false, false, false};

		values[0] = Int64GetDatum(want[i]);
		if (lens[i] > 0)
		{
			bytea	   *b = palloc(VARHDRSZ + lens[i]);

			SET_VARSIZE(b, VARHDRSZ + lens[i]);
			memcpy(VARDATA(b), recs + (size_t) i * FRT_KEYRING_RECORD_LEN, lens[i]);
			values[1] = PointerGetDatum(b);
			appendStringInfo(&served, "%s%u", nserved++ > 0 ? ", " : "", want[i]);
		}
		else
			isnull[1] = true;
		values[2] = Int64GetDatum(highest);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull);
		if (lens[i] > 0)
			explicit_bzero(VARDATA(DatumGetPointer(values[1])), lens[i]);
	}
	explicit_bzero(recs, (Size) Max(nwant, 1) * FRT_KEYRING_RECORD_LEN);
	if (nserved > 0)
		(void) FrtAuditRecord(FRT_KEY_SERVED_EVENT, "ok",
							  psprintf("{\"epochs\": [%s]}", served.data), false);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(frt_key_fetch);

/*
 * frt._key_fetch(epoch int8 DEFAULT NULL): on a standby, copy epoch (NULL:
 * every epoch the primary has) from the primary into this keyring if it
 * lacks it; the number of epochs copied.
 */
Datum
frt_key_fetch(PG_FUNCTION_ARGS)
{
	int64		epoch = PG_ARGISNULL(0) ? FRT_KEY_FETCH_ALL : PG_GETARG_INT64(0);
	bool		destroyed;
	int			written;

	if (!PG_ARGISNULL(0) && (epoch <= 0 || epoch > PG_UINT32_MAX))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("key epochs are numbered from 1 to %u", PG_UINT32_MAX)));
	written = FrtKeyFetch((uint32) epoch, &destroyed);
	if (destroyed)
		FrtRefuse(FRT_ERRCODE_KEY_DESTROYED, 14, NULL, NULL, NULL,
				  "key epoch %u was destroyed", (uint32) epoch);
	PG_RETURN_INT64(written);
}

/*
 * In WAL replay of an epoch's creation, on a server whose keyring lacks
 * it: ask the postmaster for a worker that copies it from the primary as
 * soon as the standby is consistent, so that a standby holds a new epoch
 * before it could be promoted.  Never an error (the epoch is still copied
 * when first needed).
 */
void
FrtKeyFetchLater(uint32 epoch, Oid owner)
{
	BackgroundWorker bgw;
	BackgroundWorkerHandle *handle;
	char		path[MAXPGPATH];
	struct stat st;

	if (!OidIsValid(owner) || frt_encryption_keyring == NULL ||
		frt_encryption_keyring[0] == '\0' || !FrtKeyRootLoaded())
		return;
	/* a restore from an archive alone has no primary to ask */
	if ((frt_audit_primary_conninfo == NULL || frt_audit_primary_conninfo[0] == '\0') &&
		(PrimaryConnInfo == NULL || PrimaryConnInfo[0] == '\0'))
		return;
	snprintf(path, sizeof(path), "%s/" FRT_KEYRING_FILE_FMT, frt_encryption_keyring, epoch);
	if (stat(path, &st) == 0)
		return;
	memset(&bgw, 0, sizeof(bgw));
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	bgw.bgw_start_time = BgWorkerStart_ConsistentState;
	bgw.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(bgw.bgw_library_name, BGW_MAXLEN, FRT_GOVERNANCE_LIBRARY);
	snprintf(bgw.bgw_function_name, BGW_MAXLEN, "FrtKeyFetchWorkerMain");
	snprintf(bgw.bgw_name, BGW_MAXLEN, "frt keyring copy of key epoch %u", epoch);
	snprintf(bgw.bgw_type, BGW_MAXLEN, "frt keyring copy");
	bgw.bgw_main_arg = ObjectIdGetDatum(owner);
	memcpy(bgw.bgw_extra, &epoch, sizeof(epoch));
	if (!RegisterDynamicBackgroundWorker(&bgw, &handle))
		ereport(LOG,
				(errmsg("could not start a worker to copy key epoch %u from the primary; it is copied when first needed",
						epoch)));
}

/* One attempt of the worker: copy the epoch; true when nothing is left to do. */
static bool
FrtKeyFetchWorkerTry(uint32 epoch)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool done = false;

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	PG_TRY();
	{
		bool		destroyed;
		uint64		gen;

		if (!RecoveryInProgress() || FrtKeyringHas(epoch, &gen))
			done = true;
		else
		{
			(void) FrtKeyFetch(epoch, &destroyed);
			done = true;
		}
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
	}
	PG_END_TRY();
	return done;
}

/*
 * Background worker (on a standby, started by FrtKeyFetchLater): connect to
 * the epoch's owner database and copy the epoch from the primary, trying
 * again for a while if the primary cannot be reached.
 */
void
FrtKeyFetchWorkerMain(Datum main_arg)
{
	Oid			owner = DatumGetObjectId(main_arg);
	uint32		epoch;

	memcpy(&epoch, MyBgworkerEntry->bgw_extra, sizeof(epoch));
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(owner, InvalidOid, 0);
	for (int i = 0; i < FRT_KEY_FETCH_WORKER_TRIES; i++)
	{
		if (FrtKeyFetchWorkerTry(epoch))
			proc_exit(0);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 FRT_KEY_FETCH_WORKER_PAUSE_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	ereport(LOG,
			(errmsg("key epoch %u could not be copied from the primary; it is copied when first needed",
					epoch)));
	proc_exit(0);
}

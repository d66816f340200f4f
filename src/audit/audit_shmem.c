/*-------------------------------------------------------------------------
 *
 * audit_shmem.c
 *	  Shared-memory queue between backends and the audit workers, and the
 *	  submitting side: queue a record, start the worker, wait for its commit.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "frt_audit.h"

FrtAuditShared *FrtAudit = NULL;
bool		FrtAuditIsWriter = false;
int64		FrtAuditPurgeThrough = 0;
int			frt_audit_timeout_ms = FRT_AUDIT_DEFAULT_TIMEOUT_MS;
int			frt_audit_idle_exit_ms = FRT_AUDIT_DEFAULT_IDLE_EXIT_MS;
bool		frt_restore = false;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* Slot this backend is waiting on, for cleanup on error or exit. */
static int	FrtAuditMySlot = -1;

/* Reserve the queue's shared memory and its lock. */
static void
FrtAuditShmemRequest(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(FrtAuditShared)));
	RequestNamedLWLockTranche("frt_audit", 1);
}

/* Create (or attach to) the queue in shared memory. */
static void
FrtAuditShmemStartup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	FrtAudit = ShmemInitStruct("frt_audit", sizeof(FrtAuditShared), &found);
	if (!found)
	{
		memset(FrtAudit, 0, sizeof(FrtAuditShared));
		FrtAudit->lock = &(GetNamedLWLockTranche("frt_audit"))->lock;
		FrtAudit->next_ticket = 1;
		for (int i = 0; i < FRT_AUDIT_QUEUE_SLOTS; i++)
			ConditionVariableInit(&FrtAudit->slots[i].cv);
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Module load: GUCs, the log filter and (when preloaded) the shared queue. */
void
FrtAuditInit(void)
{
	DefineCustomIntVariable("frt.audit_timeout",
							"Longest wait (ms) for the audit worker to commit a record; then the call fails.",
							NULL, &frt_audit_timeout_ms,
							FRT_AUDIT_DEFAULT_TIMEOUT_MS,
							FRT_AUDIT_MIN_TIMEOUT_MS, FRT_AUDIT_MAX_TIMEOUT_MS,
							PGC_SUSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("frt.audit_worker_idle_exit",
							"Idle time (ms) after which a database's audit worker exits.",
							NULL, &frt_audit_idle_exit_ms,
							FRT_AUDIT_DEFAULT_IDLE_EXIT_MS,
							FRT_AUDIT_MIN_IDLE_EXIT_MS, FRT_AUDIT_MAX_IDLE_EXIT_MS,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomStringVariable("frt.audit_primary_conninfo",
							   "Connection string a standby uses to forward audit records to the primary (empty: primary_conninfo).",
							   NULL, &frt_audit_primary_conninfo, "",
							   PGC_SIGHUP, GUC_SUPERUSER_ONLY, NULL, NULL, NULL);
	DefineCustomBoolVariable("frt.restore",
							 "Restore mode: this session loads a dump of frt_governance (audit trail checked as a whole chain, registry changes not re-audited).",
							 "Set it for the restore's sessions only (PGOPTIONS='-c frt.restore=on'); see docs/operations.md, \"Backups and restores\".",
							 &frt_restore, false,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	FrtRedactInstallHook();

	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = FrtAuditShmemRequest;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = FrtAuditShmemStartup;
}

/* Store one text field (NULL allowed) into a payload. */
void
FrtAuditPayloadSet(FrtAuditPayload *rec, FrtAuditField f, const char *value)
{
	size_t		len;

	if (value == NULL)
	{
		rec->off[f] = -1;
		return;
	}
	len = strlen(value);
	if (rec->used + len + 1 > FRT_AUDIT_PAYLOAD_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("audit record is too long"),
				 errdetail("All fields together may hold at most %d bytes.",
						   FRT_AUDIT_PAYLOAD_BYTES - FRT_AUDIT_NFIELDS)));
	rec->off[f] = rec->used;
	memcpy(rec->buf + rec->used, value, len + 1);
	rec->used += len + 1;
}

/* Read one text field of a payload (NULL = SQL NULL). */
const char *
FrtAuditPayloadGet(const FrtAuditPayload *rec, FrtAuditField f)
{
	return rec->off[f] < 0 ? NULL : rec->buf + rec->off[f];
}

/* Find or claim the worker entry of a database; caller holds the lock. */
static FrtAuditDbWorker *
FrtAuditWorkerEntry(Oid dboid)
{
	FrtAuditDbWorker *free_entry = NULL;

	for (int i = 0; i < FRT_AUDIT_MAX_DATABASES; i++)
	{
		FrtAuditDbWorker *w = &FrtAudit->workers[i];

		if (w->state != FRT_WORKER_NONE && w->dboid == dboid)
			return w;
		if (w->state == FRT_WORKER_NONE && free_entry == NULL)
			free_entry = w;
	}
	if (free_entry)
	{
		free_entry->dboid = dboid;
		free_entry->pid = 0;
		free_entry->latch = NULL;
		free_entry->requested_at = 0;
	}
	return free_entry;
}

/* Ask the postmaster for this database's audit worker. */
static bool
FrtAuditStartWorker(Oid dboid)
{
	BackgroundWorker bgw;
	BackgroundWorkerHandle *handle;

	memset(&bgw, 0, sizeof(bgw));
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	bgw.bgw_start_time = BgWorkerStart_RecoveryFinished;
	bgw.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(bgw.bgw_library_name, BGW_MAXLEN, FRT_GOVERNANCE_LIBRARY);
	snprintf(bgw.bgw_function_name, BGW_MAXLEN, "FrtAuditWorkerMain");
	snprintf(bgw.bgw_name, BGW_MAXLEN, "frt audit writer for database %u", dboid);
	snprintf(bgw.bgw_type, BGW_MAXLEN, "frt audit writer");
	bgw.bgw_main_arg = ObjectIdGetDatum(dboid);
	bgw.bgw_notify_pid = 0;
	return RegisterDynamicBackgroundWorker(&bgw, &handle);
}

/* Give up our slot: withdraw it if still queued, else leave it to the worker. */
static void
FrtAuditReleaseSlot(bool withdraw_pending)
{
	FrtAuditSlot *slot;

	if (FrtAuditMySlot < 0 || FrtAudit == NULL)
		return;
	slot = &FrtAudit->slots[FrtAuditMySlot];
	LWLockAcquire(FrtAudit->lock, LW_EXCLUSIVE);
	if (slot->state == FRT_SLOT_DONE || slot->state == FRT_SLOT_FAILED ||
		(slot->state == FRT_SLOT_PENDING && withdraw_pending))
		slot->state = FRT_SLOT_FREE;
	else if (slot->state != FRT_SLOT_FREE)
		slot->orphaned = true;	/* the worker writes it and frees the slot */
	LWLockRelease(FrtAudit->lock);
	FrtAuditMySlot = -1;
}

/* Error or exit while waiting: keep the record (it will still be written). */
static void
FrtAuditWaitCleanup(int code pg_attribute_unused(), Datum arg pg_attribute_unused())
{
	ConditionVariableCancelSleep();
	FrtAuditReleaseSlot(false);
}

/*
 * Queue a slot for our database; returns its index or -1 if full.  Not
 * inlined into FrtAuditSubmit, whose setjmp would make its locals look
 * clobbered.
 */
static pg_noinline int
FrtAuditEnqueue(FrtAuditPayload *rec, bool *start_worker, Latch **latch)
{
	FrtAuditDbWorker *w;
	int			idx = -1;
	TimestampTz now = GetCurrentTimestamp();

	*start_worker = false;
	*latch = NULL;
	LWLockAcquire(FrtAudit->lock, LW_EXCLUSIVE);
	w = FrtAuditWorkerEntry(MyDatabaseId);
	if (w == NULL)
	{
		LWLockRelease(FrtAudit->lock);
		FrtRefuse(FRT_ERRCODE_AUDIT_UNAVAILABLE, 14, NULL, NULL,
				  psprintf("At most %d databases can write audit records at once.",
						   FRT_AUDIT_MAX_DATABASES),
				  "audit trail unavailable: too many databases with an audit worker");
	}
	for (int n = 0; n < FRT_AUDIT_QUEUE_SLOTS; n++)
	{
		int			i = (FrtAudit->cursor + n) % FRT_AUDIT_QUEUE_SLOTS;

		if (FrtAudit->slots[i].state == FRT_SLOT_FREE)
		{
			idx = i;
			FrtAudit->cursor = (i + 1) % FRT_AUDIT_QUEUE_SLOTS;
			break;
		}
	}
	if (idx >= 0)
	{
		FrtAuditSlot *slot = &FrtAudit->slots[idx];

		slot->state = FRT_SLOT_PENDING;
		slot->orphaned = false;
		slot->dboid = MyDatabaseId;
		slot->ticket = FrtAudit->next_ticket++;
		slot->result_seq = 0;
		slot->errmsg[0] = '\0';
		memcpy(&slot->rec, rec, offsetof(FrtAuditPayload, buf) + rec->used);
		FrtAuditMySlot = idx;

		/* Start the worker if none, or if a start seems to have failed. */
		if (w->state == FRT_WORKER_NONE ||
			(w->state == FRT_WORKER_STARTING &&
			 TimestampDifferenceExceeds(w->requested_at, now,
										frt_audit_timeout_ms)))
		{
			w->state = FRT_WORKER_STARTING;
			w->requested_at = now;
			*start_worker = true;
		}
		else if (w->state == FRT_WORKER_RUNNING)
			*latch = w->latch;
	}
	else if (w->state == FRT_WORKER_NONE)
		w->dboid = InvalidOid;	/* nothing claimed */
	LWLockRelease(FrtAudit->lock);
	return idx;
}

/* Sleep until the worker has settled our slot or the timeout passes. */
static int
FrtAuditWait(FrtAuditSlot *slot)
{
	TimestampTz start = GetCurrentTimestamp();
	int			state;

	ConditionVariablePrepareToSleep(&slot->cv);
	for (;;)
	{
		long		left;

		LWLockAcquire(FrtAudit->lock, LW_SHARED);
		state = slot->state;
		LWLockRelease(FrtAudit->lock);
		if (state == FRT_SLOT_DONE || state == FRT_SLOT_FAILED)
			break;
		left = frt_audit_timeout_ms -
			(long) (TimestampDifferenceMilliseconds(start, GetCurrentTimestamp()));
		if (left <= 0)
			break;
		ConditionVariableTimedSleep(&slot->cv, left, PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
	return state;
}

/*
 * Hand one record to this database's audit worker and wait until it is
 * committed; returns its sequence number.  Any failure is an error: the
 * caller's operation must not proceed without its audit record.
 */
int64
FrtAuditSubmit(FrtAuditPayload *rec)
{
	bool		start_worker;
	Latch	   *latch;
	int			idx;
	volatile int state = FRT_SLOT_FREE;
	volatile int64 seq = 0;
	char		errmsg_buf[FRT_AUDIT_ERRMSG_LEN];

	if (FrtAudit == NULL)
		FrtRefuse(FRT_ERRCODE_AUDIT_UNAVAILABLE, 14, NULL, NULL,
				  "Add frt_governance to shared_preload_libraries in postgresql.conf and restart the server.",
				  "audit trail unavailable: frt_governance is not loaded through shared_preload_libraries");
	/* A standby cannot write: the primary records it (audit_relay.c). */
	if (RecoveryInProgress())
		return FrtAuditRelay(rec);
	FrtAuditRelayDrop();		/* promoted: no more forwarding */
	Assert(FrtAuditMySlot < 0);

	idx = FrtAuditEnqueue(rec, &start_worker, &latch);
	if (idx < 0)
		FrtRefuse(FRT_ERRCODE_AUDIT_UNAVAILABLE, 14, NULL, NULL,
				  "The audit worker is not keeping up; retry, or check the server log.",
				  "audit trail unavailable: the audit queue is full");

	PG_ENSURE_ERROR_CLEANUP(FrtAuditWaitCleanup, (Datum) 0);
	{
		FrtAuditSlot *slot = &FrtAudit->slots[idx];

		if (start_worker && !FrtAuditStartWorker(MyDatabaseId))
		{
			LWLockAcquire(FrtAudit->lock, LW_EXCLUSIVE);
			for (int i = 0; i < FRT_AUDIT_MAX_DATABASES; i++)
				if (FrtAudit->workers[i].dboid == MyDatabaseId &&
					FrtAudit->workers[i].state == FRT_WORKER_STARTING)
					FrtAudit->workers[i].state = FRT_WORKER_NONE;
			LWLockRelease(FrtAudit->lock);
			FrtAuditReleaseSlot(true);
			FrtRefuse(FRT_ERRCODE_AUDIT_UNAVAILABLE, 14, NULL, NULL,
					  "Raise max_worker_processes.",
					  "audit trail unavailable: could not start the audit worker");
		}
		if (latch)
			SetLatch(latch);
		state = FrtAuditWait(slot);
		if (state == FRT_SLOT_DONE)
			seq = slot->result_seq;
		else if (state == FRT_SLOT_FAILED)
			strlcpy(errmsg_buf, slot->errmsg, sizeof(errmsg_buf));
	}
	PG_END_ENSURE_ERROR_CLEANUP(FrtAuditWaitCleanup, (Datum) 0);
	FrtAuditReleaseSlot(true);

	if (state == FRT_SLOT_FAILED)
		FrtRefuse(FRT_ERRCODE_AUDIT_UNAVAILABLE, 14, NULL, errmsg_buf, NULL,
				  "audit record could not be written");
	if (state != FRT_SLOT_DONE)
		FrtRefuse(FRT_ERRCODE_AUDIT_UNAVAILABLE, 14, NULL, NULL,
				  "Check the server log for the frt audit writer.",
				  "audit trail unavailable: the audit worker did not confirm the record within %d ms",
				  frt_audit_timeout_ms);
	return seq;
}

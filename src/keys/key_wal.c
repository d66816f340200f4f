/*-------------------------------------------------------------------------
 *
 * key_wal.c
 *	  The keyring's WAL records (a custom resource manager): the creation
 *	  and the destruction of key epochs, so that a destruction reaches
 *	  every standby and every restored backup that replays past it.
 *
 * No record holds key material: a creation names the epoch, its suite and
 * its owner (a standby then copies the file from the primary, key_fetch.c);
 * a destruction names the epoch.  The primary logs a destruction and
 * flushes it before it destroys the file, so that crash recovery finishes
 * a destruction a crash cut short; replay destroys the file wherever it
 * is still there (a standby's own keyring, the keyring a restored backup
 * is started with).  A server replaying this WAL needs frt_governance in
 * shared_preload_libraries (it already does to open faces).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "access/xlog_internal.h"
#include "access/xloginsert.h"
#include "access/xlogreader.h"
#include "lib/stringinfo.h"

#include "frt_keys.h"

/* A record of this resource manager (both kinds have the same body). */
typedef struct FrtKeyWalRecord
{
	uint32		epoch;
	int32		suite;			/* creation: the epoch's suite; else 0 */
	Oid			owner;			/* creation: the owner database; else 0 */
} FrtKeyWalRecord;

/* The record kinds (xl_info's high bits). */
#define FRT_KEY_WAL_CREATE		0x00
#define FRT_KEY_WAL_DESTROY		0x10

/* Log a record of kind info; returns its end. */
static XLogRecPtr
FrtKeyWalLog(uint8 info, uint32 epoch, int suite, Oid owner)
{
	FrtKeyWalRecord rec;

	memset(&rec, 0, sizeof(rec));
	rec.epoch = epoch;
	rec.suite = suite;
	rec.owner = owner;
	XLogBeginInsert();
	XLogRegisterData((char *) &rec, sizeof(rec));
	return XLogInsert(FRT_KEY_RMGR_ID, info);
}

/*
 * On the primary: log that epoch was created (no key material), and flush
 * it, so that standbys learn of it now and not at the next commit.
 */
void
FrtKeyWalCreate(uint32 epoch, int suite, Oid owner)
{
	XLogFlush(FrtKeyWalLog(FRT_KEY_WAL_CREATE, epoch, suite, owner));
}

/* On the primary, before the file goes: log and flush epoch's destruction. */
void
FrtKeyWalDestroy(uint32 epoch)
{
	XLogFlush(FrtKeyWalLog(FRT_KEY_WAL_DESTROY, epoch, 0, InvalidOid));
}

/*
 * Replay: a destruction destroys the file here too; a creation the keyring
 * lacks starts a worker that copies it from the primary (key_fetch.c).
 */
static void
FrtKeyWalRedo(XLogReaderState *record)
{
	uint8		info = XLogRecGetInfo(record) & ~XLR_INFO_MASK;
	FrtKeyWalRecord rec;

	if (XLogRecGetDataLen(record) != sizeof(rec))
		elog(PANIC, "frt_keys: WAL record of %u bytes, expected %zu",
			 (unsigned) XLogRecGetDataLen(record), sizeof(rec));
	memcpy(&rec, XLogRecGetData(record), sizeof(rec));
	if (info == FRT_KEY_WAL_DESTROY)
		FrtKeyringReplayDestroy(rec.epoch);
	else if (info == FRT_KEY_WAL_CREATE)
	{
		FrtKeyringRaiseFloor(rec.epoch, WARNING);
		FrtKeyFetchLater(rec.epoch, rec.owner);
	}
	else
		elog(PANIC, "frt_keys: unknown WAL record kind %u", info);
}

/* pg_waldump's description of a record. */
static void
FrtKeyWalDesc(StringInfo buf, XLogReaderState *record)
{
	uint8		info = XLogRecGetInfo(record) & ~XLR_INFO_MASK;
	FrtKeyWalRecord rec;

	if (XLogRecGetDataLen(record) != sizeof(rec))
		return;
	memcpy(&rec, XLogRecGetData(record), sizeof(rec));
	if (info == FRT_KEY_WAL_CREATE)
	{
		const char *suite = FrtKeySuiteName(rec.suite);

		appendStringInfo(buf, "epoch %u, suite %s, owner database %u",
						 rec.epoch, suite ? suite : "unknown", rec.owner);
	}
	else
		appendStringInfo(buf, "epoch %u", rec.epoch);
}

/* The name of a record kind. */
static const char *
FrtKeyWalIdentify(uint8 info)
{
	switch (info & ~XLR_INFO_MASK)
	{
		case FRT_KEY_WAL_CREATE:
			return "EPOCH_CREATE";
		case FRT_KEY_WAL_DESTROY:
			return "EPOCH_DESTROY";
	}
	return NULL;
}

static RmgrData FrtKeyRmgr = {
	.rm_name = FRT_KEY_RMGR_NAME,
	.rm_redo = FrtKeyWalRedo,
	.rm_desc = FrtKeyWalDesc,
	.rm_identify = FrtKeyWalIdentify,
};

/* Register the resource manager (from _PG_init, while preloading). */
void
FrtKeyWalRegister(void)
{
	RegisterCustomRmgr(FRT_KEY_RMGR_ID, &FrtKeyRmgr);
}

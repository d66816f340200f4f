/*-------------------------------------------------------------------------
 *
 * frt_keys.h
 *	  The key provider (governance layer 7, src/keys/): the root key, the
 *	  keyring of key epochs, and sealing under them (AES-256-GCM or
 *	  SM4-CTR with HMAC-SM3), offered to the core as its FrtCipher and to
 *	  SQL as frt._face_seal / frt._face_open.
 *
 * The root key is read once, in the postmaster at server start, from
 * frt.encryption_key_file or frt.encryption_key_command, and lives only in
 * private memory (inherited by the processes the postmaster forks).  The
 * keyring (frt.encryption_keyring, a directory outside the data directory)
 * holds one file per key epoch with a random epoch secret; the epoch's key
 * is HKDF(root key, epoch secret, info) and is never stored.  Each epoch is
 * owned by the database that created it: a database seals under its own
 * current epoch and destroys only its own; any epoch opens anywhere.
 * Destroying an epoch's file erases, for good, everything sealed under it.
 * Key material lives in FrtKeyMemAlloc'd pages, left out of core dumps.
 * See docs/operations.md, "Encryption keys".
 *
 *-------------------------------------------------------------------------
 */
#ifndef FRT_KEYS_H
#define FRT_KEYS_H

#include "postgres.h"

#include "frt_cipher.h"
#include "frt_governance.h"

/* ---- The root key ---- */
#define FRT_KEY_ROOT_MIN_BYTES	32		/* shortest root key (64 hex digits) */
#define FRT_KEY_ROOT_MAX_BYTES	64		/* longest root key (128 hex digits) */
#define FRT_KEY_FILE_MAX		1024	/* longest key file or key command output */
#define FRT_KEY_MEM_PAGE		4096	/* page size if the system does not say */

/* ---- Suites (frt.encryption_suite; recorded in each epoch and envelope) ---- */
#define FRT_SUITE_AES_256_GCM	1		/* AES-256-GCM, keys derived with SHA-256 */
#define FRT_SUITE_SM4_SM3		2		/* SM4-CTR + HMAC-SM3 (encrypt-then-MAC), SM3 */
#define FRT_SUITE_DEFAULT		FRT_SUITE_AES_256_GCM

/* ---- The envelope of a sealed payload (FRT_CIPHER_OVERHEAD bytes) ---- */
#define FRT_SEAL_VERSION		1		/* byte 0 */
#define FRT_SEAL_OFF_SUITE		1		/* byte 1: the suite */
#define FRT_SEAL_OFF_EPOCH		2		/* bytes 2..5: epoch, little-endian */
#define FRT_SEAL_OFF_NONCE		6		/* bytes 6..17: random nonce */
#define FRT_SEAL_OFF_TAG		18		/* bytes 18..33: tag */
#define FRT_SEAL_HEADER_LEN		6		/* bytes 0..5, authenticated with the AAD */
#define FRT_SEAL_NONCE_LEN		12
#define FRT_SEAL_TAG_LEN		16
#define FRT_SEAL_MAX_LEN		(64 * 1024 * 1024)	/* longest plaintext sealed at once */
/*
 * The transaction-level advisory lock that serialises the destruction of an
 * epoch (exclusive) with every transaction that seals (shared, taken by
 * FrtKeySeal itself); SQL reads it through frt._key_lock_id().
 */
#define FRT_KEY_LOCK_ID			INT64CONST(4630071233000001)

/* ---- Keys derived from an epoch ---- */
#define FRT_KEY_EPOCH_KEY_LEN	32		/* HKDF output: the epoch key */
#define FRT_KEY_DATA_KEY_MAX	48		/* data keys: AES 32; SM4 16 + HMAC-SM3 32 */
#define FRT_KEY_HKDF_INFO		"frt-epoch-v1"	/* || suite byte || epoch (4 bytes LE) */
#define FRT_KEY_DATA_INFO		"frt-data-v1"	/* data keys = HKDF-Expand(epoch key, this) */
#define FRT_KEY_CHECK_INFO		"frt-key-check" /* check value = HMAC(epoch key, this) */
#define FRT_KEY_FACE_AAD		"frt-face-v1"	/* || face id (8 bytes LE): _face_seal's AAD */
#define FRT_KEY_OPENED_FACES	64		/* faces _face_open keeps opened within a transaction */
#define FRT_KEY_PLAIN_CACHE_GUC	"frt.ivf_plaintext_cache"	/* the core's bound on opened data */

/* ---- The keyring: one file per epoch ---- */
#define FRT_KEYRING_FILE_FMT	"epoch-%08u.key"	/* name of epoch N's file */
#define FRT_KEYRING_FILE_LEN	18		/* strlen of such a name */
#define FRT_KEYRING_TMP_SUFFIX	".tmp"	/* a file being written, linked into place */
#define FRT_KEYRING_FLOOR_FILE	"highest-replayed"	/* the highest epoch a standby learnt of */
#define FRT_KEYRING_FLOOR_MAGIC	"FRTFLOOR"	/* 8 bytes; then the epoch, a CRC-32C */
#define FRT_KEYRING_FLOOR_LEN	16
#define FRT_KEYRING_MAGIC		"FRTEPOCH"	/* 8 bytes at offset 0 */
#define FRT_KEYRING_VERSION		2		/* byte 8: files written now */
#define FRT_KEYRING_VERSION_V1	1		/* files without an owner, still read */
#define FRT_KEYRING_SECRET_LEN	32		/* random bytes per epoch */
#define FRT_KEYRING_CHECK_LEN	16		/* bytes of the check value kept */
#define FRT_KEYRING_OFF_SECRET	24		/* offset of the epoch secret */
#define FRT_KEYRING_OFF_CHECK	56		/* offset of the check value */
#define FRT_KEYRING_OFF_OWNER	72		/* offset of the owner's OID (version 2) */
#define FRT_KEYRING_RECORD_LEN	80		/* magic 8, version 1, suite 1, zero 2,
										 * epoch 4, created 8, secret 32, check
										 * 16, owner database OID 4, CRC-32C 4 */
#define FRT_KEYRING_RECORD_LEN_V1 76	/* version 1: the same without the owner */
#define FRT_KEYRING_MAX_EPOCHS	4096	/* epoch files a keyring may hold */

/*
 * ---- The keyring's WAL records (key_wal.c) ----
 * A custom resource manager's id is fixed in the WAL it wrote: it never
 * changes.  The server refuses to start if another preloaded library
 * registered the same id.
 */
#define FRT_KEY_RMGR_ID			193
#define FRT_KEY_RMGR_NAME		"frt_keys"

/* Module start (from _PG_init): settings, root key, shared memory, FrtCipher. */
extern void FrtKeysInit(void);

/* key_guard.c: DDL that would store opened faces in clear is refused */
#define FRT_KEY_SEALED_RELOPT	"sealed"	/* the frt_ivf reloption that seals an index */
extern void FrtKeyGuardInit(void);

/* key_root.c: the root key and the settings */
extern char *frt_encryption_key_file;
extern char *frt_encryption_key_command;
extern char *frt_encryption_previous_key_file;
extern char *frt_encryption_previous_key_command;
extern char *frt_encryption_keyring;
extern int	frt_encryption_suite;
extern bool FrtKeyRootLoaded(void);
extern const uint8 *FrtKeyRoot(size_t *len);
extern const uint8 *FrtKeyRootPrevious(size_t *len);
extern const char *FrtKeySuiteName(int suite);
extern void FrtKeyRootInit(void);
extern uint64 FrtKeyGeneration(void);
extern void FrtKeyGenerationBump(void);
extern void FrtKeyLockAcquire(void);
extern void FrtKeyLockRelease(void);
extern void *FrtKeyMemAlloc(Size len);
extern void FrtKeyMemFree(void *p, Size len);

/* key_ring.c: the keyring, as this backend sees it */
typedef struct FrtKeyEpoch FrtKeyEpoch;

typedef struct FrtKeyEpochInfo
{
	uint32		epoch;
	int			suite;
	int64		created;		/* Unix time, seconds */
	Oid			owner;			/* database that created it; InvalidOid: unknown */
	bool		current;		/* the epoch this database seals under */
	bool		verified;		/* the root key derives this epoch's check value */
	bool		previous;		/* ... the previous root key does (a root key rotation) */
} FrtKeyEpochInfo;

extern void FrtKeyringCheckAtStart(void);
extern FrtKeyEpoch *FrtKeyEpochGet(uint32 epoch);
extern FrtKeyEpoch *FrtKeyEpochCurrent(bool create);
extern uint32 FrtKeyEpochNumber(const FrtKeyEpoch *e);
extern int	FrtKeyEpochSuite(const FrtKeyEpoch *e);
extern const uint8 *FrtKeyEpochDataKey(FrtKeyEpoch *e);
extern void **FrtKeyEpochCtx(FrtKeyEpoch *e);
extern int	FrtKeyringList(FrtKeyEpochInfo **out);
extern uint32 FrtKeyEpochCreate(void);
extern bool FrtKeyEpochDestroy(uint32 epoch);
extern void FrtKeyringReplayDestroy(uint32 epoch);
extern void FrtKeyringRaiseFloor(uint32 epoch, int elevel);
extern void FrtKeyringRecords(const uint32 *epochs, int n, uint8 *recs, size_t *lens,
							  uint32 *highest);
extern bool FrtKeyringAdopt(uint32 epoch, const uint8 *rec, size_t len, uint64 *gen);
extern bool FrtKeyringHas(uint32 epoch, uint64 *gen);

/* key_wal.c: the keyring's WAL records */
extern void FrtKeyWalRegister(void);
extern void FrtKeyWalCreate(uint32 epoch, int suite, Oid owner);
extern void FrtKeyWalDestroy(uint32 epoch);

/* key_fetch.c: a standby copies the epochs it lacks from the primary */
#define FRT_KEY_FETCH_ALL		0	/* FrtKeyFetch: every epoch the primary has */
#define FRT_KEY_SERVED_EVENT	"key_epochs_served"	/* audit event: files given to a standby */
extern int	FrtKeyFetch(uint32 epoch, bool *destroyed);
extern void FrtKeyFetchLater(uint32 epoch, Oid owner);
extern PGDLLEXPORT void FrtKeyFetchWorkerMain(Datum main_arg);
extern void FrtKeyRefuseUnloaded(void) pg_attribute_noreturn();

/* key_seal.c: the suites and the envelope; the FrtCipher */
#define FRT_KEY_CTX_SLOTS		3		/* cipher contexts kept per epoch */
extern void FrtKeySeal(const void *plain, Size len, const void *aad, Size aadlen,
					   void *out);
extern void FrtKeyOpen(const void *sealed, Size len, const void *aad, Size aadlen,
					   void *out);
extern uint32 FrtKeyEpochOf(const void *sealed);
extern uint32 FrtKeyCurrentEpoch(void);
extern void FrtKeyCtxFree(int suite, void **ctx);
extern void FrtKeyCipherRegister(void);

#endif							/* FRT_KEYS_H */

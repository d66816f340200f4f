/*-------------------------------------------------------------------------
 *
 * key_ring.c
 *	  The keyring: one file per key epoch in frt.encryption_keyring, the
 *	  keys derived from them, and this backend's cache of both.
 *
 * An epoch file (FRT_KEYRING_RECORD_LEN bytes, integers little-endian):
 *	magic "FRTEPOCH", version (2), suite, two zero bytes, epoch number,
 *	creation time (Unix seconds), the epoch secret (32 random bytes), the
 *	check value (the first 16 bytes of HMAC(epoch key, "frt-key-check")),
 *	the OID of the database that created it, and a CRC-32C of all before it
 *	(a damaged file is told from a wrong root key).  Version 1 files
 *	(FRT_KEYRING_RECORD_LEN_V1 bytes) have no owner: they are read as owned
 *	by no database (InvalidOid).
 *
 * epoch key = HKDF(IKM = root key, salt = epoch secret,
 *					info = "frt-epoch-v1" || suite || epoch), with SHA-256
 *	(aes-256-gcm) or SM3 (sm4-sm3); the data keys are HKDF-Expand(epoch key,
 *	"frt-data-v1"), so that the key that checks the root key never
 *	encrypts.  None of them is ever stored.
 *
 * Epochs are owned by databases.  Epoch numbers are cluster-wide (a new
 * epoch is the highest number plus one), but each database seals under its
 * own current epoch: the highest it owns.  Any database opens any epoch
 * (a dump restored into another database opens until the owner destroys
 * the epoch); only the owner destroys one, never its current epoch.  An
 * epoch without a living owner (a version 1 file, a dropped database) is
 * current for none and destroyed only on explicit request.  The ownership
 * is bookkeeping, not a boundary: whoever can write the keyring can
 * destroy any epoch anyway.
 *
 * A missing number below the highest was destroyed: destroying overwrites
 * the file with zeros, syncs it, unlinks it and syncs the directory, so
 * that neither this server nor a restored backup (the keyring is in
 * neither) can derive its key again.  The highest file is never destroyed,
 * so that no number is ever given to two epochs.
 * Creating writes a temporary file (O_EXCL), syncs it and links it into
 * place: link() fails if another creator won, and a crash never leaves a
 * half-written epoch.  Both run under the layer's lock and bump the shared
 * generation; every backend reloads its cache when the generation moved.
 * The cache (secrets and data keys) is in FrtKeyMemAlloc'd pages, left out
 * of core dumps.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "access/parallel.h"
#include "access/xlog.h"
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "port/pg_crc32c.h"
#include "storage/fd.h"
#include "storage/proc.h"
#include "utils/memutils.h"

#include "frt_audit.h"
#include "frt_keys.h"
#include "frt_refuse.h"

/* One epoch as this backend knows it. */
struct FrtKeyEpoch
{
	uint32		epoch;
	int			suite;
	int64		created;
	Oid			owner;			/* database that created it; InvalidOid: unknown */
	bool		damaged;		/* the file did not parse */
	bool		derived;		/* check value computed, data keys made */
	bool		verified;		/* the root key derives the check value */
	bool		previous;		/* ... the previous root key does, not the root key */
	uint8		secret[FRT_KEYRING_SECRET_LEN];
	uint8		check[FRT_KEYRING_CHECK_LEN];
	uint8		data_key[FRT_KEY_DATA_KEY_MAX];
	void	   *ctx[FRT_KEY_CTX_SLOTS]; /* cipher contexts, key_seal.c's */
};

static MemoryContext FrtKeyCxt = NULL;
static FrtKeyEpoch *FrtKeyEpochs = NULL;	/* ascending epoch order */
static int	FrtKeyNEpochs = 0;
static Size FrtKeyEpochsLen = 0;	/* bytes FrtKeyMemAlloc'd for FrtKeyEpochs */
static bool FrtKeyCached = false;
static uint64 FrtKeySeenGen = 0;
static FrtKeyEpoch *FrtKeyLast = NULL;	/* the epoch used last */
static uint32 FrtKeyFloor = 0;	/* highest number replayed (FRT_KEYRING_FLOOR_FILE) */
static uint32 FrtKeyScheduled = 0;	/* the epoch this backend last had a worker copy */

static uint32 FrtKeyEpochCreateIf(bool if_empty);
static void FrtKeySync(const char *path, bool isdir);
static bool FrtKeyWriteAll(int fd, const uint8 *buf, size_t n);

/* Raise MF150: the root key or the keyring is not there. */
void
FrtKeyRefuseUnloaded(void)
{
	FrtRefuse(FRT_ERRCODE_KEY_UNAVAILABLE, 14, NULL, NULL,
			  "Set frt.encryption_key_file (or frt.encryption_key_command) and frt.encryption_keyring, then restart the server.",
			  "face encryption key not loaded");
}

/* The keyring's directory (error if no root key or no keyring). */
static const char *
FrtKeyringDir(void)
{
	if (!FrtKeyRootLoaded() || frt_encryption_keyring == NULL ||
		frt_encryption_keyring[0] == '\0')
		FrtKeyRefuseUnloaded();
	return frt_encryption_keyring;
}

/* Write a little-endian uint32. */
static void
FrtKeyPut32(uint8 *p, uint32 v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8) (v >> (8 * i));
}

/* Read a little-endian uint32. */
static uint32
FrtKeyGet32(const uint8 *p)
{
	return (uint32) p[0] | (uint32) p[1] << 8 | (uint32) p[2] << 16 | (uint32) p[3] << 24;
}

/* Write a little-endian int64. */
static void
FrtKeyPut64(uint8 *p, int64 v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8) ((uint64) v >> (8 * i));
}

/* Read a little-endian int64. */
static int64
FrtKeyGet64(const uint8 *p)
{
	uint64		v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return (int64) v;
}

/* The CRC-32C of an epoch record's first len - 4 bytes. */
static uint32
FrtKeyRecordCrc(const uint8 *rec, size_t len)
{
	pg_crc32c	crc;

	INIT_CRC32C(crc);
	COMP_CRC32C(crc, rec, len - 4);
	FIN_CRC32C(crc);
	return crc;
}

/* The digest of a suite's key derivation. */
static const char *
FrtKeySuiteDigest(int suite)
{
	return suite == FRT_SUITE_SM4_SM3 ? "SM3" : "SHA256";
}

/* Bytes of data keys a suite needs. */
static size_t
FrtKeySuiteDataLen(int suite)
{
	return suite == FRT_SUITE_SM4_SM3 ? 16 + 32 : 32;
}

/* HKDF (extract and expand, or expand only when salt is NULL) into out. */
static bool
FrtKeyHkdf(const char *digest, const uint8 *key, size_t keylen, const uint8 *salt,
		   size_t saltlen, const uint8 *info, size_t infolen, uint8 *out, size_t outlen)
{
	EVP_KDF    *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM	params[6];
	int			p = 0;
	int			mode = salt ? EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND :
		EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	bool		ok;

	params[p++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *) digest, 0);
	params[p++] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	params[p++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *) key, keylen);
	if (salt)
		params[p++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *) salt, saltlen);
	params[p++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *) info, infolen);
	params[p] = OSSL_PARAM_construct_end();
	ok = ctx != NULL && EVP_KDF_derive(ctx, out, outlen, params) > 0;
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return ok;
}

/*
 * An epoch's key (into ekey, FRT_KEY_EPOCH_KEY_LEN bytes) and its check
 * value (into check, FRT_KEYRING_CHECK_LEN bytes), from a root key and
 * the epoch's secret; false if OpenSSL failed.
 */
static bool
FrtKeyEpochKey(const uint8 *root, size_t rootlen, int suite, uint32 epoch, const uint8 *secret,
			   uint8 *ekey, uint8 *check)
{
	uint8		info[sizeof(FRT_KEY_HKDF_INFO) - 1 + 5];
	uint8		mac[EVP_MAX_MD_SIZE];
	size_t		maclen = 0;
	const char *digest = FrtKeySuiteDigest(suite);
	bool		ok;

	memcpy(info, FRT_KEY_HKDF_INFO, sizeof(FRT_KEY_HKDF_INFO) - 1);
	info[sizeof(FRT_KEY_HKDF_INFO) - 1] = (uint8) suite;
	FrtKeyPut32(info + sizeof(FRT_KEY_HKDF_INFO), epoch);
	ok = FrtKeyHkdf(digest, root, rootlen, secret, FRT_KEYRING_SECRET_LEN,
					info, sizeof(info), ekey, FRT_KEY_EPOCH_KEY_LEN) &&
		EVP_Q_mac(NULL, "HMAC", NULL, digest, NULL, ekey, FRT_KEY_EPOCH_KEY_LEN,
				  (const uint8 *) FRT_KEY_CHECK_INFO, strlen(FRT_KEY_CHECK_INFO),
				  mac, sizeof(mac), &maclen) != NULL &&
		maclen >= FRT_KEYRING_CHECK_LEN;
	if (ok)
		memcpy(check, mac, FRT_KEYRING_CHECK_LEN);
	explicit_bzero(mac, sizeof(mac));
	return ok;
}

/*
 * Derive an epoch's key from the root key, or else from the previous root
 * key (then 'previous'): its check value decides 'verified'; when it
 * verifies, the data keys too.  The epoch key itself is
 * wiped at once.
 */
static void
FrtKeyDerive(FrtKeyEpoch *e)
{
	uint8		ekey[FRT_KEY_EPOCH_KEY_LEN];
	uint8		check[FRT_KEYRING_CHECK_LEN];
	size_t		rootlen;
	const uint8 *root = FrtKeyRoot(&rootlen);
	bool		ok;

	ok = FrtKeyEpochKey(root, rootlen, e->suite, e->epoch, e->secret, ekey, check);
	e->verified = ok && timingsafe_bcmp(check, e->check, FRT_KEYRING_CHECK_LEN) == 0;
	/* during a root key rotation, the epochs made before it */
	root = FrtKeyRootPrevious(&rootlen);
	if (ok && !e->verified && root != NULL)
	{
		ok = FrtKeyEpochKey(root, rootlen, e->suite, e->epoch, e->secret, ekey, check);
		e->verified = e->previous =
			ok && timingsafe_bcmp(check, e->check, FRT_KEYRING_CHECK_LEN) == 0;
	}
	if (ok && e->verified)
		ok = FrtKeyHkdf(FrtKeySuiteDigest(e->suite), ekey, sizeof(ekey), NULL, 0,
						(const uint8 *) FRT_KEY_DATA_INFO, strlen(FRT_KEY_DATA_INFO),
						e->data_key, FrtKeySuiteDataLen(e->suite));
	explicit_bzero(ekey, sizeof(ekey));
	explicit_bzero(check, sizeof(check));
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not derive the key of key epoch %u", e->epoch)));
	e->derived = true;
}

/* Wipe and forget this backend's cache (contexts freed, keys zeroed). */
static void
FrtKeyCacheDrop(void)
{
	for (int i = 0; i < FrtKeyNEpochs; i++)
		FrtKeyCtxFree(FrtKeyEpochs[i].suite, FrtKeyEpochs[i].ctx);
	FrtKeyMemFree(FrtKeyEpochs, FrtKeyEpochsLen);
	FrtKeyEpochs = NULL;
	FrtKeyEpochsLen = 0;
	FrtKeyNEpochs = 0;
	FrtKeyLast = NULL;
	FrtKeyFloor = 0;
	FrtKeyCached = false;
}

/* Parse an epoch file's bytes into e; false if damaged. */
static bool
FrtKeyParse(const uint8 *rec, size_t n, uint32 epoch, FrtKeyEpoch *e)
{
	memset(e, 0, sizeof(*e));
	e->epoch = epoch;
	e->damaged = true;
	if (n < FRT_KEYRING_RECORD_LEN_V1 ||
		memcmp(rec, FRT_KEYRING_MAGIC, 8) != 0 ||
		!((rec[8] == FRT_KEYRING_VERSION && n == FRT_KEYRING_RECORD_LEN) ||
		  (rec[8] == FRT_KEYRING_VERSION_V1 && n == FRT_KEYRING_RECORD_LEN_V1)) ||
		(rec[9] != FRT_SUITE_AES_256_GCM && rec[9] != FRT_SUITE_SM4_SM3) ||
		FrtKeyGet32(rec + 12) != epoch ||
		FrtKeyGet32(rec + n - 4) != FrtKeyRecordCrc(rec, n))
		return false;
	e->suite = rec[9];
	e->created = FrtKeyGet64(rec + 16);
	memcpy(e->secret, rec + FRT_KEYRING_OFF_SECRET, FRT_KEYRING_SECRET_LEN);
	memcpy(e->check, rec + FRT_KEYRING_OFF_CHECK, FRT_KEYRING_CHECK_LEN);
	e->owner = rec[8] == FRT_KEYRING_VERSION ?
		(Oid) FrtKeyGet32(rec + FRT_KEYRING_OFF_OWNER) : InvalidOid;
	e->damaged = false;
	return true;
}

/* Order epochs by number. */
static int
FrtKeyEpochCmp(const void *a, const void *b)
{
	uint32		x = ((const FrtKeyEpoch *) a)->epoch;
	uint32		y = ((const FrtKeyEpoch *) b)->epoch;

	return x < y ? -1 : x > y ? 1 : 0;
}

/* The epoch number a file name stands for, or 0 if it is not an epoch file. */
static uint32
FrtKeyFileEpoch(const char *name)
{
	unsigned int epoch;
	char		again[MAXPGPATH];

	if (strlen(name) != FRT_KEYRING_FILE_LEN ||
		sscanf(name, "epoch-%08u.key", &epoch) != 1 || epoch == 0)
		return 0;
	snprintf(again, sizeof(again), FRT_KEYRING_FILE_FMT, epoch);
	return strcmp(again, name) == 0 ? epoch : 0;
}

/*
 * The number in the keyring's floor file (0 if there is none); a file that
 * cannot be read or is damaged is reported at elevel (and 0 if that
 * returns).  The file: magic "FRTFLOOR", the epoch, a CRC-32C of both.
 */
static uint32
FrtKeyReadFloor(const char *dir, int elevel)
{
	char		path[MAXPGPATH];
	uint8		buf[FRT_KEYRING_FLOOR_LEN + 1];
	int			fd;
	ssize_t		n = -1;

	snprintf(path, sizeof(path), "%s/%s", dir, FRT_KEYRING_FLOOR_FILE);
	fd = open(path, O_RDONLY | PG_BINARY, 0);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd >= 0)
	{
		n = read(fd, buf, sizeof(buf));
		close(fd);
	}
	if (n != FRT_KEYRING_FLOOR_LEN || memcmp(buf, FRT_KEYRING_FLOOR_MAGIC, 8) != 0 ||
		FrtKeyGet32(buf + 12) != FrtKeyRecordCrc(buf, FRT_KEYRING_FLOOR_LEN))
	{
		ereport(elevel,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("the keyring's file \"%s\" is damaged or unreadable", FRT_KEYRING_FLOOR_FILE),
				 errhint("It holds the highest key epoch a standby replayed; remove it only if no epoch above the keyring's highest file was ever created.")));
		return 0;
	}
	return FrtKeyGet32(buf + 8);
}

/*
 * Raise the keyring's floor file to epoch (the caller holds the layer's
 * lock): through a temporary file, renamed into place and synced.
 * Reported at elevel on failure.
 */
static void
FrtKeyWriteFloor(const char *dir, uint32 epoch, int elevel)
{
	char		path[MAXPGPATH];
	char		tmp[MAXPGPATH];
	uint8		buf[FRT_KEYRING_FLOOR_LEN];
	int			fd;

	memcpy(buf, FRT_KEYRING_FLOOR_MAGIC, 8);
	FrtKeyPut32(buf + 8, epoch);
	FrtKeyPut32(buf + 12, FrtKeyRecordCrc(buf, FRT_KEYRING_FLOOR_LEN));
	snprintf(path, sizeof(path), "%s/%s", dir, FRT_KEYRING_FLOOR_FILE);
	snprintf(tmp, sizeof(tmp), "%s%s", path, FRT_KEYRING_TMP_SUFFIX);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | PG_BINARY, S_IRUSR | S_IWUSR);
	if (fd < 0 || !FrtKeyWriteAll(fd, buf, sizeof(buf)) || pg_fsync(fd) != 0 ||
		close(fd) != 0 || rename(tmp, path) != 0)
	{
		ereport(elevel,
				(errcode_for_file_access(),
				 errmsg("could not record key epoch %u as the keyring's highest: %m", epoch),
				 errhint("The server's OS user must be able to write the keyring directory.")));
		return;
	}
	FrtKeySync(dir, true);
}

/* Read the keyring into this backend's cache (elevel for an unreadable directory). */
static void
FrtKeyringLoad(const char *dir, int elevel)
{
	DIR		   *d;
	struct dirent *de;
	uint32	   *found;
	int			nfound = 0;
	bool		too_many = false;

	FrtKeyCacheDrop();
	if (FrtKeyCxt == NULL)
		FrtKeyCxt = AllocSetContextCreate(TopMemoryContext, "frt keyring",
										  ALLOCSET_SMALL_SIZES);
	FrtKeySeenGen = FrtKeyGeneration();

	/* the names first (no error while the directory is open) */
	found = MemoryContextAlloc(FrtKeyCxt, sizeof(uint32) * FRT_KEYRING_MAX_EPOCHS);
	d = opendir(dir);
	if (d == NULL)
	{
		int			save = errno;

		pfree(found);
		errno = save;
		ereport(elevel,
				(errcode_for_file_access(),
				 errmsg("could not open the keyring directory \"%s\": %m", dir)));
		return;
	}
	while ((de = readdir(d)) != NULL)
	{
		uint32		epoch = FrtKeyFileEpoch(de->d_name);

		if (epoch == 0)
			continue;
		if (nfound == FRT_KEYRING_MAX_EPOCHS)
		{
			too_many = true;
			break;
		}
		found[nfound++] = epoch;
	}
	closedir(d);
	if (too_many)
	{
		pfree(found);
		ereport(elevel,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the keyring holds more than %d key epochs", FRT_KEYRING_MAX_EPOCHS),
				 errhint("Destroy the epochs nothing is sealed under any more.")));
		return;
	}

	FrtKeyFloor = FrtKeyReadFloor(dir, WARNING);	/* creation reads it again, strictly */
	FrtKeyEpochsLen = sizeof(FrtKeyEpoch) * Max(nfound, 1);
	FrtKeyEpochs = FrtKeyMemAlloc(FrtKeyEpochsLen);
	for (int i = 0; i < nfound; i++)
	{
		char		path[MAXPGPATH];
		uint8		rec[FRT_KEYRING_RECORD_LEN + 1];
		ssize_t		n = -1;
		int			fd;

		snprintf(path, sizeof(path), "%s/" FRT_KEYRING_FILE_FMT, dir, found[i]);
		fd = open(path, O_RDONLY | PG_BINARY, 0);
		if (fd >= 0)
		{
			n = read(fd, rec, sizeof(rec));
			close(fd);
		}
		else if (errno == ENOENT)
			continue;			/* destroyed meanwhile */
		(void) FrtKeyParse(rec, n < 0 ? 0 : (size_t) n, found[i], &FrtKeyEpochs[FrtKeyNEpochs++]);
		explicit_bzero(rec, sizeof(rec));
	}
	pfree(found);
	qsort(FrtKeyEpochs, FrtKeyNEpochs, sizeof(FrtKeyEpoch), FrtKeyEpochCmp);
	FrtKeyCached = true;
}

/* Make sure the cache reflects the keyring's generation. */
static void
FrtKeyFresh(void)
{
	const char *dir = FrtKeyringDir();

	if (!FrtKeyCached || FrtKeySeenGen != FrtKeyGeneration())
		FrtKeyringLoad(dir, ERROR);
}

/* The cached epoch numbered epoch, or NULL. */
static FrtKeyEpoch *
FrtKeyFind(uint32 epoch)
{
	if (FrtKeyLast && FrtKeyLast->epoch == epoch)
		return FrtKeyLast;
	for (int i = 0; i < FrtKeyNEpochs; i++)
		if (FrtKeyEpochs[i].epoch == epoch)
			return &FrtKeyEpochs[i];
	return NULL;
}

/*
 * The highest epoch number the keyring knows of (whoever owns it), or 0:
 * its files, and the highest number it replayed the creation of or a
 * primary named (so that a promoted standby never numbers an epoch it did
 * not copy a second time).  For numbering only.
 */
static uint32
FrtKeyHighest(void)
{
	uint32		files = FrtKeyNEpochs > 0 ? FrtKeyEpochs[FrtKeyNEpochs - 1].epoch : 0;

	return Max(files, FrtKeyFloor);
}

/*
 * The highest epoch file of the keyring, or 0: never destroyed, and what a
 * missing number is compared with ("destroyed" only below it).
 */
static uint32
FrtKeyHighestFile(void)
{
	return FrtKeyNEpochs > 0 ? FrtKeyEpochs[FrtKeyNEpochs - 1].epoch : 0;
}

/* This database's current epoch: the highest it owns, or NULL if none. */
static FrtKeyEpoch *
FrtKeyOwnCurrent(void)
{
	if (!OidIsValid(MyDatabaseId))
		return NULL;
	for (int i = FrtKeyNEpochs - 1; i >= 0; i--)
		if (FrtKeyEpochs[i].owner == MyDatabaseId)
			return &FrtKeyEpochs[i];
	return NULL;
}

/* This database's current epoch number, or 0 if it owns none. */
static uint32
FrtKeyOwnCurrentNumber(void)
{
	FrtKeyEpoch *e = FrtKeyOwnCurrent();

	return e ? e->epoch : 0;
}

/* Sealing and creating epochs happen in a backend connected to a database. */
static void
FrtKeyNeedDatabase(void)
{
	if (!OidIsValid(MyDatabaseId))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("key epochs belong to databases: seal in a session connected to one")));
}

/* Ready an epoch for use: derived, verified, not damaged (else an error). */
static FrtKeyEpoch *
FrtKeyReady(FrtKeyEpoch *e)
{
	if (e->damaged)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("the file of key epoch %u in the keyring is damaged", e->epoch),
				 errhint("Restore it from the keyring's backup.")));
	if (!e->derived)
		FrtKeyDerive(e);
	if (!e->verified)
		FrtRefuse(FRT_ERRCODE_KEY_UNAVAILABLE, 14, NULL, NULL,
				  "frt.encryption_key_file or frt.encryption_key_command gives another root key than the one this keyring was made with.",
				  "the encryption key does not match key epoch %u of the keyring", e->epoch);
	FrtKeyLast = e;
	return e;
}

/*
 * The epoch a payload is sealed under, ready to open it.  An epoch this
 * backend does not know makes it read the keyring once more (a file copied
 * by hand), and a standby copy it from the primary (key_fetch.c; or, under
 * a buffer lock, have a worker copy it); then a number the primary says it
 * destroyed, or on a primary one below the keyring's highest file, was
 * destroyed (MF151), any other is unknown (MF150).
 */
FrtKeyEpoch *
FrtKeyEpochGet(uint32 epoch)
{
	FrtKeyEpoch *e;

	FrtKeyFresh();
	e = FrtKeyFind(epoch);
	if (e == NULL)
	{
		FrtKeyringLoad(FrtKeyringDir(), ERROR);
		e = FrtKeyFind(epoch);
	}
	if (e == NULL && RecoveryInProgress())
	{
		bool		destroyed = false;

		/* never over the network while a buffer lock (or any LWLock) is held */
		if (OidIsValid(MyDatabaseId) && !IsParallelWorker() && InterruptHoldoffCount == 0)
		{
			(void) FrtKeyFetch(epoch, &destroyed);
			if (destroyed)
				FrtRefuse(FRT_ERRCODE_KEY_DESTROYED, 14, NULL, NULL, NULL,
						  "key epoch %u was destroyed", epoch);
			FrtKeyringLoad(FrtKeyringDir(), ERROR);
			e = FrtKeyFind(epoch);
		}
		else if (OidIsValid(MyDatabaseId) && FrtKeyScheduled != epoch)
		{
			/* a worker copies it; this query fails (MF150) */
			FrtKeyScheduled = epoch;
			FrtKeyFetchLater(epoch, MyDatabaseId);
		}
		/* a standby's keyring may lack what the primary still has: never "destroyed" */
		if (e == NULL)
			FrtRefuse(FRT_ERRCODE_KEY_UNAVAILABLE, 14, NULL, NULL,
					  "A standby copies it from the primary (a background worker, or SELECT frt._key_fetch()); try again in a moment.",
					  "key epoch %u is not in the keyring", epoch);
	}
	if (e == NULL && epoch < FrtKeyHighestFile())
		FrtRefuse(FRT_ERRCODE_KEY_DESTROYED, 14, NULL, NULL, NULL,
				  "key epoch %u was destroyed", epoch);
	if (e == NULL)
		FrtRefuse(FRT_ERRCODE_KEY_UNAVAILABLE, 14, NULL, NULL,
				  "On a standby, SELECT frt._key_fetch() copies it from the primary; otherwise restore the file from the keyring's backup.",
				  "key epoch %u is not in the keyring", epoch);
	return FrtKeyReady(e);
}

/*
 * This database's current epoch, ready to seal.  A database that owns none,
 * or whose current epoch the previous root key derives, gets a new epoch
 * (the next number of the keyring) when create is true on a primary; a
 * standby never creates one.
 */
FrtKeyEpoch *
FrtKeyEpochCurrent(bool create)
{
	FrtKeyEpoch *e;

	FrtKeyNeedDatabase();
	FrtKeyFresh();
	e = FrtKeyOwnCurrent();
	if (e != NULL)
		(void) FrtKeyReady(e);
	/* after a root key rotation, new seals go under a new root key's epoch */
	if ((e == NULL || e->previous) && create && !RecoveryInProgress())
	{
		(void) FrtKeyEpochCreateIf(true);
		e = FrtKeyOwnCurrent();
	}
	if (e == NULL)
		FrtRefuse(FRT_ERRCODE_KEY_UNAVAILABLE, 14, NULL, NULL,
				  RecoveryInProgress() ? "Run SELECT frt._key_fetch() on this standby to copy the primary's epochs." : NULL,
				  "the keyring holds no key epoch of this database");
	return FrtKeyReady(e);
}

/* An epoch's number. */
uint32
FrtKeyEpochNumber(const FrtKeyEpoch *e)
{
	return e->epoch;
}

/* An epoch's suite. */
int
FrtKeyEpochSuite(const FrtKeyEpoch *e)
{
	return e->suite;
}

/* An epoch's data keys (the epoch is ready). */
const uint8 *
FrtKeyEpochDataKey(FrtKeyEpoch *e)
{
	Assert(e->derived && e->verified);
	return e->data_key;
}

/* An epoch's cipher context slots (key_seal.c fills them). */
void	  **
FrtKeyEpochCtx(FrtKeyEpoch *e)
{
	return e->ctx;
}

/*
 * The epochs of the keyring, in a palloc'd array (count returned): none
 * without a keyring.  'current' marks this database's current epoch;
 * 'verified' tells whether the root key derives each.
 */
int
FrtKeyringList(FrtKeyEpochInfo **out)
{
	FrtKeyEpoch *current;

	*out = NULL;
	if (!FrtKeyRootLoaded() || frt_encryption_keyring[0] == '\0')
		return 0;
	FrtKeyFresh();
	current = FrtKeyOwnCurrent();
	*out = palloc0(sizeof(FrtKeyEpochInfo) * Max(FrtKeyNEpochs, 1));
	for (int i = 0; i < FrtKeyNEpochs; i++)
	{
		FrtKeyEpoch *e = &FrtKeyEpochs[i];

		if (!e->damaged && !e->derived)
			FrtKeyDerive(e);
		(*out)[i].epoch = e->epoch;
		(*out)[i].suite = e->damaged ? 0 : e->suite;
		(*out)[i].created = e->created;
		(*out)[i].owner = e->owner;
		(*out)[i].current = e == current;
		(*out)[i].verified = !e->damaged && e->verified;
		(*out)[i].previous = !e->damaged && e->previous;
	}
	return FrtKeyNEpochs;
}

/* fsync a file or directory by path; ERROR on failure. */
static void
FrtKeySync(const char *path, bool isdir)
{
	int			fd = open(path, (isdir ? O_RDONLY : O_RDWR) | PG_BINARY, 0);

	if (fd < 0 || pg_fsync(fd) != 0)
	{
		int			save = errno;

		if (fd >= 0)
			close(fd);
		errno = save;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not sync \"%s\" in the keyring: %m", path)));
	}
	close(fd);
}

/* Write n bytes to fd at its offset; false on failure. */
static bool
FrtKeyWriteAll(int fd, const uint8 *buf, size_t n)
{
	while (n > 0)
	{
		ssize_t		w = write(fd, buf, n);

		if (w <= 0)
			return false;
		buf += w;
		n -= w;
	}
	return true;
}

/* Overwrite and remove the temporary file of an epoch file's path, if a crash left one. */
static void
FrtKeyShredTmp(const char *path)
{
	char		tmp[MAXPGPATH];
	uint8		zeros[FRT_KEYRING_RECORD_LEN];
	int			fd;

	snprintf(tmp, sizeof(tmp), "%s%s", path, FRT_KEYRING_TMP_SUFFIX);
	fd = open(tmp, O_WRONLY | PG_BINARY, 0);
	if (fd < 0)
		return;
	memset(zeros, 0, sizeof(zeros));
	(void) FrtKeyWriteAll(fd, zeros, sizeof(zeros));
	(void) pg_fsync(fd);
	close(fd);
	(void) unlink(tmp);
}

/*
 * Write an epoch's file (its record, len bytes) through a temporary file
 * linked into place, and sync the directory; false if the file exists.
 */
static bool
FrtKeyWriteRecord(const char *dir, uint32 epoch, const uint8 *rec, size_t len)
{
	char		path[MAXPGPATH];
	char		tmp[MAXPGPATH];
	int			fd;
	bool		linked;

	snprintf(path, sizeof(path), "%s/" FRT_KEYRING_FILE_FMT, dir, epoch);
	snprintf(tmp, sizeof(tmp), "%s%s", path, FRT_KEYRING_TMP_SUFFIX);
	FrtKeyShredTmp(path);		/* left by a crash while creating */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | PG_BINARY, S_IRUSR | S_IWUSR);
	if (fd < 0 || !FrtKeyWriteAll(fd, rec, len) || pg_fsync(fd) != 0)
	{
		int			save = errno;

		if (fd >= 0)
			close(fd);
		(void) unlink(tmp);
		errno = save;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not write key epoch %u to the keyring: %m", epoch)));
	}
	close(fd);
	linked = link(tmp, path) == 0;
	if (!linked && errno != EEXIST)
	{
		int			save = errno;

		(void) unlink(tmp);
		errno = save;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not write key epoch %u to the keyring: %m", epoch)));
	}
	/* the temporary name goes; its bytes now belong to the epoch file (or to nothing) */
	if (unlink(tmp) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not remove \"%s\": %m", tmp)));
	FrtKeySync(dir, true);
	return linked;
}

/*
 * Write epoch's file (new secret, owned by database owner) through a
 * temporary file; false if it exists.
 */
static bool
FrtKeyWriteEpoch(const char *dir, uint32 epoch, int suite, Oid owner)
{
	uint8		rec[FRT_KEYRING_RECORD_LEN];
	uint8		ekey[FRT_KEY_EPOCH_KEY_LEN];
	size_t		rootlen;
	const uint8 *root;
	bool		ok;
	bool		linked;

	memset(rec, 0, sizeof(rec));
	memcpy(rec, FRT_KEYRING_MAGIC, 8);
	rec[8] = FRT_KEYRING_VERSION;
	rec[9] = (uint8) suite;
	FrtKeyPut32(rec + 12, epoch);
	FrtKeyPut64(rec + 16, (int64) time(NULL));
	FrtKeyPut32(rec + FRT_KEYRING_OFF_OWNER, (uint32) owner);
	if (!pg_strong_random(rec + FRT_KEYRING_OFF_SECRET, FRT_KEYRING_SECRET_LEN))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random epoch secret")));
	/* the check value, from the key this root key derives */
	root = FrtKeyRoot(&rootlen);
	ok = FrtKeyEpochKey(root, rootlen, suite, epoch, rec + FRT_KEYRING_OFF_SECRET, ekey,
						rec + FRT_KEYRING_OFF_CHECK);
	explicit_bzero(ekey, sizeof(ekey));
	if (!ok)
	{
		explicit_bzero(rec, sizeof(rec));
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not derive the key of key epoch %u", epoch)));
	}
	FrtKeyPut32(rec + FRT_KEYRING_RECORD_LEN - 4, FrtKeyRecordCrc(rec, FRT_KEYRING_RECORD_LEN));
	PG_TRY();
	{
		linked = FrtKeyWriteRecord(dir, epoch, rec, sizeof(rec));
	}
	PG_FINALLY();
	{
		explicit_bzero(rec, sizeof(rec));
	}
	PG_END_TRY();
	return linked;
}

/*
 * Create a new epoch owned by this database (its current one from now on)
 * with the suite of frt.encryption_suite, or only if this database owns
 * none, or only one the previous root key derives, when if_none; returns
 * this database's current epoch.  Refused on a
 * standby and when the root key does not derive the epochs already there.
 */
static uint32
FrtKeyEpochCreateIf(bool if_none)
{
	const char *dir = FrtKeyringDir();
	uint32		epoch;

	FrtKeyNeedDatabase();
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("key epochs are created on the primary"),
				 errhint("A standby copies the primary's epochs: SELECT frt._key_fetch().")));
	FrtKeyLockAcquire();
	FrtKeyringLoad(dir, ERROR);
	if (if_none && FrtKeyOwnCurrent() != NULL &&
		!FrtKeyReady(FrtKeyOwnCurrent())->previous)
	{
		/* another backend of this database created it first */
		FrtKeyLockRelease();
		return FrtKeyOwnCurrentNumber();
	}
	for (int i = 0; i < FrtKeyNEpochs; i++)
		if (!FrtKeyEpochs[i].damaged)
			(void) FrtKeyReady(&FrtKeyEpochs[i]);
	/* a damaged floor file must not let a number be given twice */
	FrtKeyFloor = FrtKeyReadFloor(dir, ERROR);
	epoch = FrtKeyHighest() + 1;
	if (FrtKeyHighest() >= PG_UINT32_MAX - 1)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the keyring has no epoch number left")));
	if (!FrtKeyWriteEpoch(dir, epoch, frt_encryption_suite, MyDatabaseId))
		ereport(LOG,
				(errmsg("key epoch %u was created by another process meanwhile", epoch)));
	else
		FrtKeyWalCreate(epoch, frt_encryption_suite, MyDatabaseId);
	FrtKeyGenerationBump();
	FrtKeyLockRelease();
	FrtKeyringLoad(dir, ERROR);
	return FrtKeyOwnCurrentNumber();
}

/* Create a new epoch, this database's current one from now on; returns it. */
uint32
FrtKeyEpochCreate(void)
{
	return FrtKeyEpochCreateIf(false);
}

/*
 * Open epoch's file for its destruction: the descriptor, -1 if there is no
 * file; a file that is there but cannot be written, or a directory the
 * file cannot be removed from, is reported at elevel (and -1 if that
 * returns).
 */
static int
FrtKeyShredOpen(const char *dir, uint32 epoch, int elevel)
{
	char		path[MAXPGPATH];
	int			fd;

	snprintf(path, sizeof(path), "%s/" FRT_KEYRING_FILE_FMT, dir, epoch);
	fd = open(path, O_WRONLY | PG_BINARY, 0);
	if (fd < 0 && errno == ENOENT)
		return -1;
	if (fd < 0 || access(dir, W_OK | X_OK) != 0)
	{
		int			save = errno;

		if (fd >= 0)
			close(fd);
		errno = save;
		ereport(elevel,
				(errcode_for_file_access(),
				 errmsg("could not destroy key epoch %u in the keyring: %m", epoch),
				 errhint("The server's OS user must be able to write the epoch's file and the keyring directory.")));
		return -1;
	}
	return fd;
}

/*
 * Overwrite epoch's file (open as fd, from FrtKeyShredOpen) with zeros,
 * sync it, unlink it and sync the directory (the caller holds the layer's
 * lock); any temporary file it left goes too.  A failure is reported at
 * elevel (and false if that returns).
 */
static bool
FrtKeyShredFd(const char *dir, uint32 epoch, int fd, int elevel)
{
	char		path[MAXPGPATH];
	uint8		zeros[FRT_KEYRING_RECORD_LEN];
	struct stat st;
	bool		ok;

	snprintf(path, sizeof(path), "%s/" FRT_KEYRING_FILE_FMT, dir, epoch);
	FrtKeyShredTmp(path);
	memset(zeros, 0, sizeof(zeros));
	memset(&st, 0, sizeof(st));
	ok = fstat(fd, &st) == 0;
	for (off_t done = 0; ok && done < st.st_size; done += sizeof(zeros))
		ok = FrtKeyWriteAll(fd, zeros, Min(sizeof(zeros), (size_t) (st.st_size - done)));
	ok = ok && pg_fsync(fd) == 0;
	close(fd);
	if (!ok || unlink(path) != 0)
	{
		ereport(elevel,
				(errcode_for_file_access(),
				 errmsg("could not destroy key epoch %u in the keyring: %m", epoch)));
		return false;
	}
	FrtKeySync(dir, true);
	return true;
}

/*
 * May this database destroy epoch e?  Not one another living database
 * owns (42501): it may still have faces under it.  An epoch of no living
 * database (a version 1 file, a dropped owner) only on explicit request.
 * Catalog lookups: called before the keyring's lock is taken.
 */
static void
FrtKeyDestroyAllowed(const FrtKeyEpoch *e)
{
	char	   *owner_name;

	if (e->owner == MyDatabaseId || !OidIsValid(e->owner))
		return;
	owner_name = get_database_name(e->owner);
	if (owner_name == NULL)
		return;					/* its database was dropped */
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("key epoch %u belongs to database \"%s\" and cannot be destroyed from this one",
					e->epoch, owner_name),
			 errdetail("Only the database that created an epoch knows whether anything is still sealed under it."),
			 errhint("Destroy it from that database.")));
}

/*
 * Destroy an epoch: overwrite its file with zeros, sync, unlink, sync the
 * directory.  Refuses an epoch another database owns, this database's
 * current epoch and the keyring's highest; false if it was already gone.
 */
bool
FrtKeyEpochDestroy(uint32 epoch)
{
	const char *dir = FrtKeyringDir();
	FrtKeyEpoch *e;
	bool		seen;
	Oid			checked = InvalidOid;
	int			fd;

	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("key epochs are destroyed on the primary"),
				 errhint("A standby destroys an epoch when it replays the primary's destruction.")));
	/* an epoch's owner never changes: checked before the lock */
	FrtKeyFresh();
	e = FrtKeyFind(epoch);
	seen = e != NULL;
	if (seen)
	{
		FrtKeyDestroyAllowed(e);
		checked = e->owner;
	}

	FrtKeyLockAcquire();
	FrtKeyringLoad(dir, ERROR);
	if (epoch == FrtKeyOwnCurrentNumber())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("key epoch %u is the current epoch and cannot be destroyed", epoch),
				 errhint("Create a new epoch and re-seal what is under this one first.")));
	e = FrtKeyFind(epoch);
	if (e == NULL)
	{
		FrtKeyLockRelease();
		return false;
	}
	if (!seen || e->owner != checked)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("key epoch %u was created while it was being destroyed", epoch),
				 errhint("Try again.")));
	if (epoch == FrtKeyHighestFile())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("key epoch %u is the highest of the keyring and cannot be destroyed", epoch),
				 errdetail("The next epoch is numbered after the highest; no number is given twice."),
				 errhint("Destroy it once a newer epoch exists.")));
	/*
	 * WAL first: replay finishes a destruction a crash cut short, and
	 * repeats it on standbys.  No checkpoint completes in between (so crash
	 * recovery replays the record if the file may still be there), and a
	 * failure to destroy the file once the record is flushed is a PANIC:
	 * recovery then destroys it, or the server does not start.
	 */
	fd = FrtKeyShredOpen(dir, epoch, ERROR);	/* permissions: an ERROR, before the WAL */
	if (fd < 0)
	{
		FrtKeyLockRelease();
		return false;
	}
	Assert((MyProc->delayChkptFlags & DELAY_CHKPT_COMPLETE) == 0);
	MyProc->delayChkptFlags |= DELAY_CHKPT_COMPLETE;
	START_CRIT_SECTION();
	FrtKeyWalDestroy(epoch);
	(void) FrtKeyShredFd(dir, epoch, fd, PANIC);
	END_CRIT_SECTION();
	MyProc->delayChkptFlags &= ~DELAY_CHKPT_COMPLETE;
	FrtKeyGenerationBump();
	FrtKeyLockRelease();
	FrtKeyringLoad(dir, ERROR);
	return true;
}

/*
 * WAL replay of a destruction (on a standby, in crash recovery, in a
 * restored backup): destroy the epoch's file here too, if it is still
 * there.  A failure stops recovery (FATAL): a destroyed epoch never stays
 * readable silently.
 */
void
FrtKeyringReplayDestroy(uint32 epoch)
{
	const char *dir = frt_encryption_keyring;
	int			fd;

	if (dir == NULL || dir[0] == '\0')
		return;
	FrtKeyLockAcquire();
	fd = FrtKeyShredOpen(dir, epoch, FATAL);
	if (fd >= 0 && FrtKeyShredFd(dir, epoch, fd, FATAL))
		ereport(LOG,
				(errmsg("key epoch %u destroyed in the keyring, as the primary destroyed it", epoch)));
	FrtKeyGenerationBump();
	FrtKeyLockRelease();
}

/*
 * Raise the keyring's floor to epoch unless its files or floor already
 * reach it (a standby: a replayed creation, or the highest its primary
 * named), so that a standby promoted before it copied an epoch never gives
 * its number to another.  Reported at elevel on failure.
 */
void
FrtKeyringRaiseFloor(uint32 epoch, int elevel)
{
	const char *dir = frt_encryption_keyring;
	char		path[MAXPGPATH];
	struct stat st;

	if (dir == NULL || dir[0] == '\0' || epoch == 0)
		return;
	snprintf(path, sizeof(path), "%s/" FRT_KEYRING_FILE_FMT, dir, epoch);
	if (stat(path, &st) == 0)
		return;					/* the file itself is there */
	FrtKeyLockAcquire();
	if (FrtKeyReadFloor(dir, elevel) < epoch)
		FrtKeyWriteFloor(dir, epoch, elevel);
	FrtKeyLockRelease();
}

/*
 * The files of n epochs as the keyring holds them, into recs (n records of
 * FRT_KEYRING_RECORD_LEN bytes), their lengths into lens (0: no such file),
 * and the keyring's highest epoch into *highest; one read of the keyring,
 * under the layer's lock, so that a destruction is either wholly before (no
 * file) or wholly after (its WAL record follows).  A file that exists but
 * cannot be read is an error, never "no file".
 */
void
FrtKeyringRecords(const uint32 *epochs, int n, uint8 *recs, size_t *lens, uint32 *highest)
{
	const char *dir = FrtKeyringDir();

	FrtKeyLockAcquire();
	FrtKeyringLoad(dir, ERROR);
	*highest = FrtKeyHighest();
	for (int i = 0; i < n; i++)
	{
		char		path[MAXPGPATH];
		ssize_t		got = 0;
		int			fd;

		lens[i] = 0;
		snprintf(path, sizeof(path), "%s/" FRT_KEYRING_FILE_FMT, dir, epochs[i]);
		fd = open(path, O_RDONLY | PG_BINARY, 0);
		if (fd < 0 && errno == ENOENT)
			continue;
		if (fd >= 0)
		{
			got = read(fd, recs + (size_t) i * FRT_KEYRING_RECORD_LEN, FRT_KEYRING_RECORD_LEN);
			close(fd);
		}
		if (fd < 0 || got <= 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read key epoch %u in the keyring: %m", epochs[i])));
		lens[i] = (size_t) got;
	}
	FrtKeyLockRelease();
}

/*
 * On a standby: add an epoch file fetched from the primary (rec, len
 * bytes) to the keyring, if it parses as epoch, this root key derives it,
 * and the keyring's generation is still *gen (else a destruction may have
 * been replayed meanwhile: false, nothing written).  True if written; *gen
 * is then the generation after it.
 */
bool
FrtKeyringAdopt(uint32 epoch, const uint8 *rec, size_t len, uint64 *gen)
{
	const char *dir = FrtKeyringDir();
	FrtKeyEpoch *e = FrtKeyMemAlloc(sizeof(FrtKeyEpoch));
	bool		ok;

	ok = FrtKeyParse(rec, len, epoch, e);
	PG_TRY();
	{
		if (ok)
		{
			FrtKeyDerive(e);
			ok = e->verified;
		}
	}
	PG_FINALLY();
	{
		FrtKeyMemFree(e, sizeof(FrtKeyEpoch));
	}
	PG_END_TRY();
	if (!ok)
		FrtRefuse(FRT_ERRCODE_KEY_UNAVAILABLE, 14, NULL, NULL,
				  "The standby's root key must be the primary's.",
				  "key epoch %u from the primary is damaged or made with another root key", epoch);
	FrtKeyLockAcquire();
	if (FrtKeyGeneration() != *gen)
	{
		FrtKeyLockRelease();
		return false;
	}
	if (!FrtKeyWriteRecord(dir, epoch, rec, len))
	{
		FrtKeyLockRelease();
		return false;
	}
	FrtKeyGenerationBump();
	*gen = FrtKeyGeneration();
	FrtKeyLockRelease();
	ereport(LOG,
			(errmsg("key epoch %u copied from the primary into the keyring", epoch)));
	return true;
}

/* The keyring's generation and whether it has epoch (a fresh look). */
bool
FrtKeyringHas(uint32 epoch, uint64 *gen)
{
	FrtKeyringLoad(FrtKeyringDir(), ERROR);
	*gen = FrtKeySeenGen;
	return FrtKeyFind(epoch) != NULL;
}

/*
 * In the postmaster at start: the keyring must be an absolute directory
 * outside the data directory, owned by the server's user, mode 0700 (else
 * the server does not start).  Epochs the root key does not derive, or
 * damaged files, are logged (what is under them cannot be opened).
 */
void
FrtKeyringCheckAtStart(void)
{
	const char *dir = frt_encryption_keyring;
	struct stat st;
	int			nprevious = 0;
	size_t		prevlen;

	if (dir == NULL || dir[0] == '\0')
		return;
	if (FrtAuditPathInDataDir(dir))
		ereport(FATAL,
				(errmsg("frt.encryption_keyring must be an absolute path outside the data directory")));
	if (stat(dir, &st) != 0)
		ereport(FATAL,
				(errcode_for_file_access(),
				 errmsg("could not find the keyring directory \"%s\": %m", dir),
				 errhint("Create it with mode 0700, owned by the server's OS user.")));
	if (!S_ISDIR(st.st_mode))
		ereport(FATAL,
				(errmsg("frt.encryption_keyring \"%s\" is not a directory", dir)));
	if (st.st_uid != geteuid())
		ereport(FATAL,
				(errmsg("the keyring directory \"%s\" is not owned by the server's OS user", dir)));
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		ereport(FATAL,
				(errmsg("the keyring directory \"%s\" is accessible to its group or to others", dir),
				 errhint("chmod 0700 the directory.")));
	if (!FrtKeyRootLoaded())
		return;
	FrtKeyringLoad(dir, FATAL);
	for (int i = 0; i < FrtKeyNEpochs; i++)
	{
		FrtKeyEpoch *e = &FrtKeyEpochs[i];

		if (e->damaged)
			ereport(WARNING,
					(errmsg("the file of key epoch %u in the keyring is damaged: what is sealed under it cannot be opened",
							e->epoch)));
		else
		{
			FrtKeyDerive(e);
			if (!e->verified)
				ereport(WARNING,
						(errmsg("the encryption key does not match key epoch %u of the keyring: what is sealed under it cannot be opened",
								e->epoch)));
			else if (e->previous)
				nprevious++;
		}
	}
	if (nprevious > 0)
		ereport(LOG,
				(errmsg("%d key epochs of the keyring are derived from the previous root key", nprevious),
				 errhint("Rotate every database's faces to a new epoch, then unset frt.encryption_previous_key_file (docs/operations.md, \"Rotating the root key\").")));
	else if (FrtKeyRootPrevious(&prevlen) != NULL)
		ereport(LOG,
				(errmsg("no key epoch of the keyring is derived from the previous root key"),
				 errhint("Unset frt.encryption_previous_key_file (or frt.encryption_previous_key_command) and destroy the previous key.")));
	/* the postmaster keeps no epoch key: its children derive their own */
	FrtKeyCacheDrop();
}

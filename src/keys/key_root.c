/*-------------------------------------------------------------------------
 *
 * key_root.c
 *	  The root key and the key settings: read once, in the postmaster at
 *	  server start, from a file or a command outside the data directory;
 *	  the shared generation counter that tells every backend to reload the
 *	  keyring; the layer's start (FrtKeysInit).
 *
 * The root key is hexadecimal text (at least FRT_KEY_ROOT_MIN_BYTES bytes
 * once decoded).  It is kept in the postmaster's private memory and
 * inherited by the processes it forks: never in shared memory, a setting,
 * a table, the log, WAL or a dump.  The settings name only where it comes
 * from, and only superusers can read them.  The refusals are those of the
 * audit key (src/audit/audit_key.c, whose helpers read it): a path inside
 * the data directory, a file its group or others may access, a key too
 * short, a failing command: the server does not start.
 *
 * The root key, the epoch secrets and the data keys derived from them live
 * in pages of their own (FrtKeyMemAlloc) that are left out of core dumps
 * (MADV_DONTDUMP, where the system has it; a fork keeps the mark).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "frt_audit.h"
#include "frt_keys.h"

char	   *frt_encryption_key_file = NULL;
char	   *frt_encryption_key_command = NULL;
char	   *frt_encryption_previous_key_file = NULL;
char	   *frt_encryption_previous_key_command = NULL;
char	   *frt_encryption_keyring = NULL;
int			frt_encryption_suite = FRT_SUITE_DEFAULT;

/* The root key, in this process's private memory only (FrtKeyMemAlloc'd). */
static uint8 *FrtKeyRootBytes = NULL;
static size_t FrtKeyRootLen = 0;
/* The previous root key, while a root key rotation needs it (the same way). */
static uint8 *FrtKeyPrevBytes = NULL;
static size_t FrtKeyPrevLen = 0;

/* What every backend shares: the keyring's generation and its lock. */
typedef struct FrtKeyShared
{
	pg_atomic_uint64 generation;	/* bumped by every epoch create/destroy */
	LWLock	   *lock;			/* serializes creating and destroying epochs */
} FrtKeyShared;

static FrtKeyShared *FrtKeyShmem = NULL;
static bool FrtKeyMemWarned = false;	/* the MADV_DONTDUMP failure was logged */
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static const struct config_enum_entry FrtKeySuiteOptions[] = {
	{"aes-256-gcm", FRT_SUITE_AES_256_GCM, false},
	{"sm4-sm3", FRT_SUITE_SM4_SM3, false},
	{NULL, 0, false}
};

/* The name of a suite, as the setting spells it (NULL if unknown). */
const char *
FrtKeySuiteName(int suite)
{
	for (int i = 0; FrtKeySuiteOptions[i].name != NULL; i++)
		if (FrtKeySuiteOptions[i].val == suite)
			return FrtKeySuiteOptions[i].name;
	return NULL;
}

/* Value of one hex digit, or -1. */
static int
FrtKeyHexDigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode a root key from the text read (hex, blanks around it) into key
 * (FRT_KEY_ROOT_MAX_BYTES), its length into *keylen; wipe the text.
 */
static void
FrtKeyRootFrom(char *text, size_t len, const char *source, uint8 *key, size_t *keylen)
{
	size_t		start = 0,
				end = len,
				n;
	bool		ok = true;

	while (start < end && isspace((unsigned char) text[start]))
		start++;
	while (end > start && isspace((unsigned char) text[end - 1]))
		end--;
	n = end - start;
	if (n % 2 != 0 || n / 2 > FRT_KEY_ROOT_MAX_BYTES)
		ok = false;
	for (size_t i = 0; ok && i < n; i += 2)
	{
		int			hi = FrtKeyHexDigit(text[start + i]);
		int			lo = FrtKeyHexDigit(text[start + i + 1]);

		if (hi < 0 || lo < 0)
			ok = false;
		else
			key[i / 2] = (uint8) (hi << 4 | lo);
	}
	explicit_bzero(text, len);
	if (!ok)
	{
		explicit_bzero(key, FRT_KEY_ROOT_MAX_BYTES);
		ereport(FATAL,
				(errmsg("the encryption key from %s is not one line of at most %d hex digits",
						source, FRT_KEY_ROOT_MAX_BYTES * 2),
				 errhint("Make one with: openssl rand -hex 32")));
	}
	if (n / 2 < FRT_KEY_ROOT_MIN_BYTES)
	{
		explicit_bzero(key, FRT_KEY_ROOT_MAX_BYTES);
		ereport(FATAL,
				(errmsg("the encryption key from %s is shorter than %d bytes (%d hex digits)",
						source, FRT_KEY_ROOT_MIN_BYTES, FRT_KEY_ROOT_MIN_BYTES * 2),
				 errhint("Make one with: openssl rand -hex 32")));
	}
	*keylen = n / 2;
}

/*
 * Load a root key from the file or the command of the settings named
 * filevar and cmdvar (postmaster, at start); NULL if neither is set.
 */
static uint8 *
FrtKeyRootLoadFrom(const char *filevar, const char *file, const char *cmdvar,
				   const char *cmd, size_t *keylen)
{
	char		buf[FRT_KEY_FILE_MAX];
	uint8	   *key;
	size_t		n;

	if (file[0] != '\0' && cmd[0] != '\0')
		ereport(FATAL,
				(errmsg("set %s or %s, not both", filevar, cmdvar)));
	if (file[0] == '\0' && cmd[0] == '\0')
		return NULL;
	key = FrtKeyMemAlloc(FRT_KEY_ROOT_MAX_BYTES);
	if (file[0] != '\0')
	{
		n = FrtSecretFromFile(filevar, "encryption key", file, buf, sizeof(buf));
		FrtKeyRootFrom(buf, n, filevar, key, keylen);
	}
	else
	{
		n = FrtSecretFromCommand(cmdvar, cmd, buf, sizeof(buf));
		FrtKeyRootFrom(buf, n, cmdvar, key, keylen);
	}
	return key;
}

/*
 * Load the root key, and the previous one if set, from their files or
 * commands (postmaster, at start).  A previous key alone, or equal to the
 * root key, keeps the server down.
 */
static void
FrtKeyRootLoad(void)
{
	FrtKeyRootBytes = FrtKeyRootLoadFrom("frt.encryption_key_file", frt_encryption_key_file,
										 "frt.encryption_key_command", frt_encryption_key_command,
										 &FrtKeyRootLen);
	FrtKeyPrevBytes = FrtKeyRootLoadFrom("frt.encryption_previous_key_file",
										 frt_encryption_previous_key_file,
										 "frt.encryption_previous_key_command",
										 frt_encryption_previous_key_command,
										 &FrtKeyPrevLen);
	if (FrtKeyPrevBytes != NULL && FrtKeyRootBytes == NULL)
		ereport(FATAL,
				(errmsg("frt.encryption_previous_key_file or frt.encryption_previous_key_command is set without a root key"),
				 errhint("The previous key serves a root key rotation: set the new key as frt.encryption_key_file (or frt.encryption_key_command).")));
	if (FrtKeyPrevBytes != NULL && FrtKeyPrevLen == FrtKeyRootLen &&
		timingsafe_bcmp(FrtKeyPrevBytes, FrtKeyRootBytes, FrtKeyRootLen) == 0)
		ereport(FATAL,
				(errmsg("the previous encryption key is the root key itself"),
				 errhint("Unset frt.encryption_previous_key_file (or frt.encryption_previous_key_command), or give the new root key.")));
}

/* Is the root key loaded? */
bool
FrtKeyRootLoaded(void)
{
	return FrtKeyRootLen > 0;
}

/* The root key and its length (only for deriving epoch keys). */
const uint8 *
FrtKeyRoot(size_t *len)
{
	*len = FrtKeyRootLen;
	return FrtKeyRootBytes;
}

/* The previous root key and its length, or NULL (a root key rotation). */
const uint8 *
FrtKeyRootPrevious(size_t *len)
{
	*len = FrtKeyPrevLen;
	return FrtKeyPrevBytes;
}

/* A length rounded up to whole pages. */
static Size
FrtKeyMemRound(Size len)
{
	long		page = sysconf(_SC_PAGESIZE);

	if (page <= 0)
		page = FRT_KEY_MEM_PAGE;
	return (Max(len, 1) + page - 1) / page * page;
}

/*
 * Zeroed memory for key material: pages of its own, private to this
 * process (and to the processes it forks), left out of core dumps where
 * the system allows it.  ERROR if there is none.
 */
void *
FrtKeyMemAlloc(Size len)
{
	Size		size = FrtKeyMemRound(len);
	void	   *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory for encryption keys: %m")));
#ifdef MADV_DONTDUMP
	if (madvise(p, size, MADV_DONTDUMP) != 0 && !FrtKeyMemWarned)
	{
		FrtKeyMemWarned = true;
		ereport(LOG,
				(errmsg("could not keep encryption keys out of core dumps: %m")));
	}
#endif
	return p;
}

/* Wipe and give back memory from FrtKeyMemAlloc. */
void
FrtKeyMemFree(void *p, Size len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	if (munmap(p, FrtKeyMemRound(len)) != 0)
		elog(LOG, "could not unmap the memory of encryption keys: %m");
}

/* Reserve the shared generation counter and the lock. */
static void
FrtKeyShmemRequest(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(FrtKeyShared)));
	RequestNamedLWLockTranche("frt_keys", 1);
}

/* Create (or attach to) the shared state. */
static void
FrtKeyShmemStartup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	FrtKeyShmem = ShmemInitStruct("frt_keys", sizeof(FrtKeyShared), &found);
	if (!found)
	{
		pg_atomic_init_u64(&FrtKeyShmem->generation, 1);
		FrtKeyShmem->lock = &(GetNamedLWLockTranche("frt_keys"))->lock;
	}
	LWLockRelease(AddinShmemInitLock);
}

/* The keyring's generation: changes whenever an epoch is created or destroyed. */
uint64
FrtKeyGeneration(void)
{
	return FrtKeyShmem ? pg_atomic_read_u64(&FrtKeyShmem->generation) : 0;
}

/* Tell every backend to reload the keyring at its next use. */
void
FrtKeyGenerationBump(void)
{
	if (FrtKeyShmem)
		pg_atomic_fetch_add_u64(&FrtKeyShmem->generation, 1);
}

/* Take the lock that serializes creating and destroying epochs. */
void
FrtKeyLockAcquire(void)
{
	if (FrtKeyShmem == NULL)
		FrtKeyRefuseUnloaded();
	LWLockAcquire(FrtKeyShmem->lock, LW_EXCLUSIVE);
}

/* Release it. */
void
FrtKeyLockRelease(void)
{
	LWLockRelease(FrtKeyShmem->lock);
}

/* Define the settings and, in the postmaster at start, load the root key. */
void
FrtKeyRootInit(void)
{
	/* keys only come with preloading (settings fixed at server start) */
	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomStringVariable("frt.encryption_key_file",
							   "File holding the root encryption key (hex), read once at server start.",
							   "An absolute path outside the data directory; see docs/operations.md, \"Encryption keys\".",
							   &frt_encryption_key_file, "",
							   PGC_POSTMASTER, GUC_SUPERUSER_ONLY, NULL, NULL, NULL);
	DefineCustomStringVariable("frt.encryption_key_command",
							   "Command printing the root encryption key (hex), run once at server start.",
							   NULL, &frt_encryption_key_command, "",
							   PGC_POSTMASTER, GUC_SUPERUSER_ONLY, NULL, NULL, NULL);
	DefineCustomStringVariable("frt.encryption_previous_key_file",
							   "File holding the previous root key (hex) during a root key rotation, read once at server start.",
							   "Epochs the root key does not derive are derived with it; see docs/operations.md, \"Rotating the root key\".",
							   &frt_encryption_previous_key_file, "",
							   PGC_POSTMASTER, GUC_SUPERUSER_ONLY, NULL, NULL, NULL);
	DefineCustomStringVariable("frt.encryption_previous_key_command",
							   "Command printing the previous root key (hex) during a root key rotation, run once at server start.",
							   NULL, &frt_encryption_previous_key_command, "",
							   PGC_POSTMASTER, GUC_SUPERUSER_ONLY, NULL, NULL, NULL);
	DefineCustomStringVariable("frt.encryption_keyring",
							   "Directory of the key epochs (one file each), outside the data directory.",
							   "Mode 0700, owned by the server's OS user; see docs/operations.md, \"Encryption keys\".",
							   &frt_encryption_keyring, "",
							   PGC_POSTMASTER, GUC_SUPERUSER_ONLY, NULL, NULL, NULL);
	DefineCustomEnumVariable("frt.encryption_suite",
							 "Algorithms of new key epochs: aes-256-gcm or sm4-sm3.",
							 "Each epoch keeps the suite it was created with.",
							 &frt_encryption_suite, FRT_SUITE_DEFAULT, FrtKeySuiteOptions,
							 PGC_POSTMASTER, 0, NULL, NULL, NULL);

	FrtKeyWalRegister();
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = FrtKeyShmemRequest;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = FrtKeyShmemStartup;

	if (IsUnderPostmaster)
		return;
	FrtKeyRootLoad();
	FrtKeyringCheckAtStart();
}

/* The layer's start: the settings and the root key, then the core's cipher. */
void
FrtKeysInit(void)
{
	FrtKeyRootInit();
	FrtKeyCipherRegister();
	FrtKeyGuardInit();
}

/*-------------------------------------------------------------------------
 *
 * audit_key.c
 *	  The audit key: loaded once, in the postmaster at server start, from a
 *	  file or a command outside the data directory; used to bind each new
 *	  record with an HMAC that SQL cannot compute.
 *
 * mac = HMAC-H(key, "frt-audit-mac-v1" || hash), over the record's chain
 * hash (which covers its content and its predecessor), H the record's hash
 * function: SHA-256 or SM3 (frt.audit_hash).  The key is
 * kept in the postmaster's private memory and inherited by the processes it
 * forks (the audit writers sign, the verifiers check): it is never in
 * shared memory, a setting, a table or a message.  The settings name only
 * where it comes from, and only superusers can read them.  A key file may
 * hold several keys, one a line: the first signs, all verify (rotation).
 * See docs/audit.md, "The audit key".
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "common/cryptohash.h"
#include "common/hmac.h"
#include "fmgr.h"
#include "funcapi.h"
#include "access/htup_details.h"
#include "miscadmin.h"
#include "port.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "frt_audit.h"

char	   *frt_audit_key_file = NULL;
char	   *frt_audit_key_command = NULL;

/* The keys, in this process's private memory only. */
static uint8 FrtAuditKeys[FRT_AUDIT_KEYS_MAX][FRT_AUDIT_KEY_FILE_MAX];
static size_t FrtAuditKeyLen[FRT_AUDIT_KEYS_MAX];
static int	FrtAuditNKeys = 0;

/* Is path relative, or inside the data directory (symbolic links resolved)? */
bool
FrtAuditPathInDataDir(const char *path)
{
	char		data[PATH_MAX];	/* realpath() needs PATH_MAX bytes */
	char		full[PATH_MAX];
	char		dir[PATH_MAX];
	size_t		n;

	if (path == NULL || !is_absolute_path(path) || DataDir == NULL)
		return true;
	if (realpath(DataDir, data) == NULL)
		strlcpy(data, DataDir, sizeof(data));
	if (realpath(path, full) == NULL)
	{
		/* a file not yet made: its directory decides */
		strlcpy(dir, path, sizeof(dir));
		get_parent_directory(dir);
		if (realpath(dir, full) == NULL)
			strlcpy(full, dir, sizeof(full));
	}
	n = strlen(data);
	return strncmp(full, data, n) == 0 && (full[n] == '\0' || full[n] == '/');
}

/* Split the loaded text into keys (one a line, trailing blanks cut). */
static void
FrtAuditKeysFrom(char *text, size_t len, const char *source)
{
	char	   *p = text;
	char	   *end = text + len;

	while (p < end)
	{
		char	   *eol = memchr(p, '\n', end - p);
		char	   *stop = eol ? eol : end;
		size_t		n;

		while (stop > p && (stop[-1] == '\r' || stop[-1] == ' ' || stop[-1] == '\t'))
			stop--;
		n = stop - p;
		if (n > 0)
		{
			if (n < FRT_AUDIT_KEY_MIN_BYTES)
				ereport(FATAL,
						(errmsg("an audit key from %s is shorter than %d bytes", source,
								FRT_AUDIT_KEY_MIN_BYTES),
						 errhint("Make one with: openssl rand -hex 32")));
			if (FrtAuditNKeys >= FRT_AUDIT_KEYS_MAX)
				ereport(FATAL,
						(errmsg("%s holds more than %d audit keys", source, FRT_AUDIT_KEYS_MAX)));
			memcpy(FrtAuditKeys[FrtAuditNKeys], p, n);
			FrtAuditKeyLen[FrtAuditNKeys++] = n;
		}
		p = eol ? eol + 1 : end;
	}
	explicit_bzero(text, len);
	if (FrtAuditNKeys == 0)
		ereport(FATAL, (errmsg("%s holds no audit key", source)));
}

/*
 * Read a secret file for the setting 'setting' into buf (at most size - 1
 * bytes; returns how many): an absolute path outside the data directory,
 * not accessible to its group or others.  'what' names the secret in
 * messages ("audit key").  FATAL on any refusal: for secrets loaded in the
 * postmaster at server start.  The content is never in a message.
 */
size_t
FrtSecretFromFile(const char *setting, const char *what, const char *path,
				  char *buf, size_t size)
{
	struct stat st;
	FILE	   *f;
	size_t		n;

	if (FrtAuditPathInDataDir(path))
		ereport(FATAL,
				(errmsg("%s must be an absolute path outside the data directory", setting)));
	if (stat(path, &st) != 0 || (f = fopen(path, "r")) == NULL)
		ereport(FATAL,
				(errcode_for_file_access(),
				 errmsg("could not read the %s file \"%s\": %m", what, path)));
	if (st.st_mode & (S_IRWXG | S_IRWXO))
	{
		fclose(f);
		ereport(FATAL,
				(errmsg("the %s file \"%s\" is accessible to its group or to others", what, path),
				 errhint("chmod 0400 (or 0600) the file, owned by the server's OS user.")));
	}
	n = fread(buf, 1, size, f);
	fclose(f);
	if (n == size)
	{
		explicit_bzero(buf, size);
		ereport(FATAL, (errmsg("the %s file \"%s\" is too long", what, path)));
	}
	return n;
}

/*
 * Run the command of the setting 'setting' and take its standard output
 * into buf (at most size - 1 bytes; returns how many).  FATAL if it fails
 * or prints too much; what it printed is never in a message.
 */
size_t
FrtSecretFromCommand(const char *setting, const char *command, char *buf, size_t size)
{
	FILE	   *p;
	size_t		n = 0,
				got;
	int			rc;

	fflush(NULL);
	p = popen(command, "r");
	if (p == NULL)
		ereport(FATAL, (errmsg("could not run %s: %m", setting)));
	while (n < size && (got = fread(buf + n, 1, size - n, p)) > 0)
		n += got;
	rc = pclose(p);
	if (rc != 0)
	{
		explicit_bzero(buf, size);
		ereport(FATAL,
				(errmsg("%s failed: %s", setting, wait_result_to_str(rc))));
	}
	if (n == size)
	{
		explicit_bzero(buf, size);
		ereport(FATAL, (errmsg("%s printed too much", setting)));
	}
	return n;
}

/* Read the key file (absolute, outside the data directory, not world-readable). */
static void
FrtAuditKeyFromFile(const char *path)
{
	char		buf[FRT_AUDIT_KEY_FILE_MAX];
	size_t		n;

	n = FrtSecretFromFile("frt.audit_key_file", "audit key", path, buf, sizeof(buf));
	FrtAuditKeysFrom(buf, n, "frt.audit_key_file");
}

/* Run the key command and take its standard output (never logged). */
static void
FrtAuditKeyFromCommand(const char *command)
{
	char		buf[FRT_AUDIT_KEY_FILE_MAX];
	size_t		n;

	n = FrtSecretFromCommand("frt.audit_key_command", command, buf, sizeof(buf));
	FrtAuditKeysFrom(buf, n, "frt.audit_key_command");
}

/* Define the key settings and, in the postmaster at start, load the key. */
void
FrtAuditKeyInit(void)
{
	/* a key only comes with preloading (settings fixed at server start) */
	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomStringVariable("frt.audit_key_file",
							   "File holding the audit key (one key a line; the first signs), read once at server start.",
							   "An absolute path outside the data directory; see docs/audit.md, \"The audit key\".",
							   &frt_audit_key_file, "",
							   PGC_POSTMASTER, GUC_SUPERUSER_ONLY, NULL, NULL, NULL);
	DefineCustomStringVariable("frt.audit_key_command",
							   "Command printing the audit key (one key a line), run once at server start.",
							   NULL, &frt_audit_key_command, "",
							   PGC_POSTMASTER, GUC_SUPERUSER_ONLY, NULL, NULL, NULL);
	if (IsUnderPostmaster)
		return;
	if (frt_audit_key_file[0] != '\0' && frt_audit_key_command[0] != '\0')
		ereport(FATAL,
				(errmsg("set frt.audit_key_file or frt.audit_key_command, not both")));
	if (frt_audit_key_file[0] != '\0')
		FrtAuditKeyFromFile(frt_audit_key_file);
	else if (frt_audit_key_command[0] != '\0')
		FrtAuditKeyFromCommand(frt_audit_key_command);
}

/* Is a key loaded (new records are signed, MACs are checked)? */
bool
FrtAuditKeyed(void)
{
	return FrtAuditNKeys > 0;
}

/* HMAC-SM3 with key k of the tag and data, into out (OpenSSL's EVP_MAC). */
static bool
FrtAuditHmacSm3(int k, const char *tag, const uint8 *data, size_t len, uint8 *out)
{
	EVP_MAC    *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
	OSSL_PARAM	params[2];
	size_t		outlen = 0;
	bool		ok;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SM3", 0);
	params[1] = OSSL_PARAM_construct_end();
	ok = ctx != NULL &&
		EVP_MAC_init(ctx, FrtAuditKeys[k], FrtAuditKeyLen[k], params) == 1 &&
		EVP_MAC_update(ctx, (const unsigned char *) tag, strlen(tag)) == 1 &&
		EVP_MAC_update(ctx, data, len) == 1 &&
		EVP_MAC_final(ctx, out, &outlen, FRT_AUDIT_MAC_LEN) == 1 &&
		outlen == FRT_AUDIT_MAC_LEN;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(hmac);
	return ok;
}

/*
 * HMAC with key k of the tag and data, into out (FRT_AUDIT_MAC_LEN), with
 * the hash function alg: HMAC-SHA-256 or HMAC-SM3.
 */
static void
FrtAuditHmac(int k, FrtAuditAlg alg, const char *tag, const uint8 *data, size_t len, uint8 *out)
{
	pg_hmac_ctx *ctx;
	bool		ok;

	if (alg == FRT_AUDIT_ALG_SM3)
	{
		if (!FrtAuditHmacSm3(k, tag, data, len, out))
			elog(ERROR, "could not compute the HMAC-SM3 of an audit record");
		return;
	}
	ctx = pg_hmac_create(PG_SHA256);
	ok = ctx != NULL &&
		pg_hmac_init(ctx, FrtAuditKeys[k], FrtAuditKeyLen[k]) == 0 &&
		pg_hmac_update(ctx, (const uint8 *) tag, strlen(tag)) == 0 &&
		pg_hmac_update(ctx, data, len) == 0 &&
		pg_hmac_final(ctx, out, FRT_AUDIT_MAC_LEN) == 0;
	pg_hmac_free(ctx);
	if (!ok)
		elog(ERROR, "could not compute the MAC of an audit record");
}

/* The MAC (HMAC with alg) of tag || data with the signing key (the first). */
void
FrtAuditMacOf(FrtAuditAlg alg, const char *tag, const uint8 *data, size_t len, uint8 *mac)
{
	Assert(FrtAuditNKeys > 0);
	FrtAuditHmac(0, alg, tag, data, len, mac);
}

/* Does mac verify, as an HMAC with alg, for tag || data with one of the keys? */
bool
FrtAuditMacOfVerifies(FrtAuditAlg alg, const char *tag, const uint8 *data, size_t len,
					  const uint8 *mac)
{
	uint8		want[FRT_AUDIT_MAC_LEN];

	for (int k = 0; k < FrtAuditNKeys; k++)
	{
		FrtAuditHmac(k, alg, tag, data, len, want);
		if (timingsafe_bcmp(want, mac, FRT_AUDIT_MAC_LEN) == 0)
			return true;
	}
	return false;
}

/* The MAC of a record's hash (made with alg) with the signing key (the first). */
void
FrtAuditMac(FrtAuditAlg alg, const uint8 *hash, uint8 *mac)
{
	FrtAuditMacOf(alg, FRT_AUDIT_MAC_TAG, hash, FRT_AUDIT_HASH_LEN, mac);
}

/* Does mac verify for hash (made with alg) with one of the keys? */
bool
FrtAuditMacVerifies(FrtAuditAlg alg, const uint8 *hash, const uint8 *mac)
{
	return FrtAuditMacOfVerifies(alg, FRT_AUDIT_MAC_TAG, hash, FRT_AUDIT_HASH_LEN, mac);
}

PG_FUNCTION_INFO_V1(frt_audit_protection);

/*
 * SQL: frt.audit_protection() -- how the trail is protected beyond its hash
 * chain: keyed or not (and the signing key's id, a fingerprint that reveals
 * nothing of the key), and where its head goes.
 */
Datum
frt_audit_protection(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[6];
	bool		nulls[6] = {false, false, false, false, false, false};
	uint8		id[FRT_AUDIT_MAC_LEN];
	char		hex[17];

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "frt.audit_protection must return a record");
	values[0] = BoolGetDatum(FrtAuditKeyed());
	nulls[1] = !FrtAuditKeyed();
	if (FrtAuditKeyed())
	{
		FrtAuditHmac(0, FRT_AUDIT_ALG_SHA256, "frt-audit-key-id", (const uint8 *) "", 0, id);
		hex_encode((const char *) id, 8, hex);
		hex[16] = '\0';
		values[1] = CStringGetTextDatum(hex);
	}
	values[2] = Int32GetDatum(FrtAuditNKeys);
	values[3] = Int32GetDatum(frt_audit_anchor_interval_s);
	values[4] = BoolGetDatum(frt_audit_anchor_file && frt_audit_anchor_file[0] != '\0');
	values[5] = BoolGetDatum(frt_audit_anchor_command && frt_audit_anchor_command[0] != '\0');
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

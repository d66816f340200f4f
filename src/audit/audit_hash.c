/*-------------------------------------------------------------------------
 *
 * audit_hash.c
 *	  Canonical serialization of an audit record and its SHA-256 chain hash.
 *
 * hash = SHA-256("frt-audit-v1" || seq || at || backend_pid || similarity ||
 *                each text field || prev_hash), where integers are 8- or
 * 4-byte big-endian, similarity is a presence byte plus its IEEE-754 bits,
 * and each text field is a presence byte plus a 4-byte length and its bytes.
 * client_addr and detail are hashed in their canonical output forms
 * (inet_out, jsonb_out) so the verifier, reading the table, gets the same.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <openssl/evp.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"

#include "frt_audit.h"

/* frt.audit_hash: the hash function (and HMAC) of new records. */
int			frt_audit_hash = FRT_AUDIT_ALG_SHA256;

/* The names of the hash functions, as in column hash_alg and the setting. */
static const char *const FrtAuditAlgNames[FRT_AUDIT_NALGS] = {
	[FRT_AUDIT_ALG_SHA256] = "sha256",
	[FRT_AUDIT_ALG_SM3] = "sm3",
};

/* The values of frt.audit_hash. */
static const struct config_enum_entry FrtAuditHashOptions[] = {
	{"sha256", FRT_AUDIT_ALG_SHA256, false},
	{"sm3", FRT_AUDIT_ALG_SM3, false},
	{NULL, 0, false}
};

/* The audit table's column of each text field, in FrtAuditField (hash) order. */
const FrtGovCol FrtAuditFieldCol[FRT_AUDIT_NFIELDS] = {
	[FRT_AF_EVENT] = FRT_COL_AUDIT_EVENT,
	[FRT_AF_OUTCOME] = FRT_COL_AUDIT_OUTCOME,
	[FRT_AF_SQLSTATE] = FRT_COL_AUDIT_SQLSTATE,
	[FRT_AF_ROLE] = FRT_COL_AUDIT_ROLE_NAME,
	[FRT_AF_EFFECTIVE_ROLE] = FRT_COL_AUDIT_EFFECTIVE_ROLE,
	[FRT_AF_APPLICATION] = FRT_COL_AUDIT_APPLICATION,
	[FRT_AF_CLIENT_ADDR] = FRT_COL_AUDIT_CLIENT_ADDR,
	[FRT_AF_PURPOSE] = FRT_COL_AUDIT_PURPOSE,
	[FRT_AF_SUBJECT] = FRT_COL_AUDIT_SUBJECT,
	[FRT_AF_DEVICE] = FRT_COL_AUDIT_DEVICE,
	[FRT_AF_DETAIL] = FRT_COL_AUDIT_DETAIL,
};

/* Append an unsigned integer, big-endian, of n bytes. */
static void
FrtHashUInt(EVP_MD_CTX *ctx, uint64 v, int n)
{
	uint8		b[8];

	for (int i = 0; i < n; i++)
		b[i] = (uint8) (v >> (8 * (n - 1 - i)));
	EVP_DigestUpdate(ctx, b, n);
}

/*
 * Define frt.audit_hash (postmaster: fixed while the server runs, so every
 * writer of a run uses one function) and check that OpenSSL offers it.
 */
void
FrtAuditHashInit(void)
{
	/* like the audit key: a setting of the preloaded library only */
	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomEnumVariable("frt.audit_hash",
							 "Hash function of new audit records' chain hash and MAC: sha256 or sm3.",
							 "Older records keep theirs (column hash_alg); see docs/audit.md, \"The hash chain\".",
							 &frt_audit_hash, FRT_AUDIT_ALG_SHA256, FrtAuditHashOptions,
							 PGC_POSTMASTER, 0, NULL, NULL, NULL);
	if (!IsUnderPostmaster && frt_audit_hash == FRT_AUDIT_ALG_SM3 && EVP_sm3() == NULL)
		ereport(FATAL,
				(errmsg("frt.audit_hash = sm3, but this OpenSSL build has no SM3")));
}

/* The name of a hash function ("sha256", "sm3"). */
const char *
FrtAuditAlgName(FrtAuditAlg alg)
{
	Assert((unsigned int) alg < FRT_AUDIT_NALGS);
	return FrtAuditAlgNames[alg];
}

/* The hash function of a name; false if there is none of that name. */
bool
FrtAuditAlgFromName(const char *name, FrtAuditAlg *alg)
{
	for (int a = 0; a < FRT_AUDIT_NALGS; a++)
		if (name != NULL && strcmp(name, FrtAuditAlgNames[a]) == 0)
		{
			*alg = (FrtAuditAlg) a;
			return true;
		}
	return false;
}

/* Compute a record's chain hash into out (FRT_AUDIT_HASH_LEN bytes). */
void
FrtAuditComputeHash(const FrtAuditRow *row, uint8 *out)
{
	static const char tag[] = "frt-audit-v1";
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	const EVP_MD *md = row->alg == FRT_AUDIT_ALG_SM3 ? EVP_sm3() : EVP_sha256();
	unsigned int len = 0;
	uint64		bits;
	bool		ok;

	if (ctx == NULL)
		elog(ERROR, "out of memory for a hash context");
	ok = md != NULL && EVP_DigestInit_ex(ctx, md, NULL) == 1;
	EVP_DigestUpdate(ctx, tag, sizeof(tag) - 1);
	FrtHashUInt(ctx, (uint64) row->seq, 8);
	FrtHashUInt(ctx, (uint64) row->at, 8);
	FrtHashUInt(ctx, (uint32) row->backend_pid, 4);
	FrtHashUInt(ctx, row->has_similarity ? 1 : 0, 1);
	if (row->has_similarity)
	{
		memcpy(&bits, &row->similarity, sizeof(bits));
		FrtHashUInt(ctx, bits, 8);
	}
	for (int f = 0; f < FRT_AUDIT_NFIELDS; f++)
	{
		const char *v = row->field[f];

		FrtHashUInt(ctx, v ? 1 : 0, 1);
		if (v)
		{
			size_t		n = strlen(v);

			FrtHashUInt(ctx, (uint32) n, 4);
			EVP_DigestUpdate(ctx, v, n);
		}
	}
	EVP_DigestUpdate(ctx, row->prev_hash, FRT_AUDIT_HASH_LEN);
	ok = ok && EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == FRT_AUDIT_HASH_LEN;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		elog(ERROR, "%s of an audit record failed", FrtAuditAlgName(row->alg));
}

/* The canonical text of an inet value, as the table will return it. */
char *
FrtAuditCanonicalInet(const char *addr)
{
	return DatumGetCString(DirectFunctionCall1(inet_out,
											   DirectFunctionCall1(inet_in, CStringGetDatum(addr))));
}

/* The canonical text of a jsonb value, as the table will return it. */
char *
FrtAuditCanonicalJsonb(const char *json)
{
	return DatumGetCString(DirectFunctionCall1(jsonb_out,
											   DirectFunctionCall1(jsonb_in, CStringGetDatum(json))));
}

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
#include "frt_chain.h"

/* The server's chain hash is a device's (frt_chain.h): one length. */
StaticAssertDecl(FRT_AUDIT_HASH_LEN == FRT_CHAIN_HASH_LEN,
				 "the audit hash must be as long as frt_chain.h's");

/* frt.audit_hash: the hash function (and HMAC) of new records. */
int			frt_audit_hash = FRT_AUDIT_ALG_SHA256;

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

/* The name of a hash function ("sha256", "sm3"; frt_chain.h's names). */
const char *
FrtAuditAlgName(FrtAuditAlg alg)
{
	Assert((unsigned int) alg < FRT_AUDIT_NALGS);
	return FrtChainAlgName(alg);
}

/* The hash function of a name; false if there is none of that name. */
bool
FrtAuditAlgFromName(const char *name, FrtAuditAlg *alg)
{
	return FrtChainAlgFromName(name, alg);
}

/*
 * Compute a record's chain hash into out (FRT_AUDIT_HASH_LEN bytes) with
 * the code a device's trail is hashed with too (src/chain/chain.c).
 */
void
FrtAuditComputeHash(const FrtAuditRow *row, uint8 *out)
{
	if (!FrtChainHash(row, out))
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

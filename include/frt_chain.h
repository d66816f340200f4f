/*-------------------------------------------------------------------------
 *
 * frt_chain.h
 *	  The audit record's chain hash, byte for byte the same on the server
 *	  (frt_governance's frt.audit) and on a device (the SQLite edition's
 *	  frt_audit), so a device's trail verifies on the server.
 *	  PostgreSQL-free (src/chain/chain.c, OpenSSL EVP).
 *
 *	hash(n) = H("frt-audit-v1" || seq || at || backend_pid || similarity
 *				|| event || outcome || sqlstate || role_name || effective_role
 *				|| application || client_addr || purpose || subject || device
 *				|| detail || prev_hash)
 *
 * Integers big-endian (seq, at: 8 bytes; backend_pid: 4); similarity a
 * presence byte and its IEEE-754 bits; each text field a presence byte, a
 * 4-byte length and its bytes.  'at' is microseconds since 2000-01-01
 * 00:00:00 UTC (PostgreSQL's timestamptz).  See docs/audit.md.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FRT_CHAIN_H
#define FRT_CHAIN_H

#include "frt_common.h"

#define FRT_CHAIN_HASH_LEN		32	/* SHA-256 and SM3 */
#define FRT_CHAIN_TAG			"frt-audit-v1"
/* seconds from 1970-01-01 to 2000-01-01: Unix time to 'at' */
#define FRT_CHAIN_EPOCH_OFFSET	INT64_C(946684800)

/* A record's text fields, in hash order. */
typedef enum FrtChainField
{
	FRT_CHF_EVENT,
	FRT_CHF_OUTCOME,
	FRT_CHF_SQLSTATE,
	FRT_CHF_ROLE,
	FRT_CHF_EFFECTIVE_ROLE,
	FRT_CHF_APPLICATION,
	FRT_CHF_CLIENT_ADDR,
	FRT_CHF_PURPOSE,
	FRT_CHF_SUBJECT,
	FRT_CHF_DEVICE,
	FRT_CHF_DETAIL,
	FRT_CHAIN_NFIELDS
} FrtChainField;

/* Hash functions of the chain (the column hash_alg). */
typedef enum FrtChainAlg
{
	FRT_CHAIN_SHA256,			/* SHA-256, HMAC-SHA-256 */
	FRT_CHAIN_SM3,				/* SM3, HMAC-SM3 (GB/T 32905) */
	FRT_CHAIN_NALGS
} FrtChainAlg;

/* A record's content as hashed. */
typedef struct FrtChainRecord
{
	int64_t		seq;
	int64_t		at;				/* microseconds since 2000-01-01 UTC */
	int32_t		backend_pid;
	bool		has_similarity;
	double		similarity;
	const char *field[FRT_CHAIN_NFIELDS];	/* NULL = SQL NULL */
	uint8_t		prev_hash[FRT_CHAIN_HASH_LEN];
	FrtChainAlg alg;
} FrtChainRecord;

/* Compute a record's chain hash into out; false if the hash failed. */
extern bool FrtChainHash(const FrtChainRecord *rec, uint8_t *out);

/* The name of a hash function ("sha256", "sm3"), and back (false: unknown). */
extern const char *FrtChainAlgName(FrtChainAlg alg);
extern bool FrtChainAlgFromName(const char *name, FrtChainAlg *alg);

/* Lower-case hex of n bytes into out (2n + 1 bytes, NUL-terminated). */
extern void FrtChainToHex(const uint8_t *bytes, size_t n, char *out);

/* Parse 2n hex digits into bytes; false unless exactly that. */
extern bool FrtChainFromHex(const char *hex, uint8_t *bytes, size_t n);

#endif							/* FRT_CHAIN_H */

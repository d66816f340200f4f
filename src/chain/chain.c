/*-------------------------------------------------------------------------
 *
 * chain.c
 *	  The audit record's chain hash, the one copy used by the server's
 *	  audit writer and verifier (src/audit/) and by the SQLite edition's
 *	  device trail (PostgreSQL-free; OpenSSL EVP; see frt_chain.h).
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include <openssl/evp.h>

#include "frt_chain.h"

static const char *const ChainAlgNames[FRT_CHAIN_NALGS] = {"sha256", "sm3"};

/* The message digest of a chain hash function (NULL if OpenSSL lacks it). */
static const EVP_MD *
ChainMd(FrtChainAlg alg)
{
	return alg == FRT_CHAIN_SM3 ? EVP_sm3() : EVP_sha256();
}

/* Append an unsigned integer, big-endian, of n bytes. */
static int
ChainUInt(EVP_MD_CTX *ctx, uint64_t v, int n)
{
	uint8_t		b[8];

	for (int i = 0; i < n; i++)
		b[i] = (uint8_t) (v >> (8 * (n - 1 - i)));
	return EVP_DigestUpdate(ctx, b, n);
}

/* Compute a record's chain hash into out. */
bool
FrtChainHash(const FrtChainRecord *rec, uint8_t *out)
{
	static const char tag[] = FRT_CHAIN_TAG;
	EVP_MD_CTX *ctx;
	const EVP_MD *md = ((unsigned int) rec->alg < FRT_CHAIN_NALGS) ? ChainMd(rec->alg) : NULL;
	unsigned int len = 0;
	uint64_t	bits;
	int			ok;

	if (md == NULL || (ctx = EVP_MD_CTX_new()) == NULL)
		return false;
	ok = EVP_DigestInit_ex(ctx, md, NULL) == 1;
	ok = ok && EVP_DigestUpdate(ctx, tag, sizeof(tag) - 1);
	ok = ok && ChainUInt(ctx, (uint64_t) rec->seq, 8);
	ok = ok && ChainUInt(ctx, (uint64_t) rec->at, 8);
	ok = ok && ChainUInt(ctx, (uint32_t) rec->backend_pid, 4);
	ok = ok && ChainUInt(ctx, rec->has_similarity ? 1 : 0, 1);
	if (rec->has_similarity)
	{
		memcpy(&bits, &rec->similarity, sizeof(bits));
		ok = ok && ChainUInt(ctx, bits, 8);
	}
	for (int f = 0; f < FRT_CHAIN_NFIELDS; f++)
	{
		const char *v = rec->field[f];

		ok = ok && ChainUInt(ctx, v ? 1 : 0, 1);
		if (v)
		{
			size_t		n = strlen(v);

			ok = ok && ChainUInt(ctx, (uint32_t) n, 4);
			ok = ok && EVP_DigestUpdate(ctx, v, n);
		}
	}
	ok = ok && EVP_DigestUpdate(ctx, rec->prev_hash, FRT_CHAIN_HASH_LEN);
	ok = ok && EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == FRT_CHAIN_HASH_LEN;
	EVP_MD_CTX_free(ctx);
	return ok;
}

/* The name of a hash function. */
const char *
FrtChainAlgName(FrtChainAlg alg)
{
	return ((unsigned int) alg < FRT_CHAIN_NALGS) ? ChainAlgNames[alg] : "unknown";
}

/* The hash function of a name; false if there is none of that name. */
bool
FrtChainAlgFromName(const char *name, FrtChainAlg *alg)
{
	for (int a = 0; a < FRT_CHAIN_NALGS; a++)
		if (name != NULL && strcmp(name, ChainAlgNames[a]) == 0)
		{
			*alg = (FrtChainAlg) a;
			return true;
		}
	return false;
}

/* Lower-case hex of n bytes. */
void
FrtChainToHex(const uint8_t *bytes, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++)
	{
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 0xf];
	}
	out[2 * n] = '\0';
}

/* The value of one hex digit, or -1. */
static int
ChainHexDigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parse exactly 2n hex digits into bytes. */
bool
FrtChainFromHex(const char *hex, uint8_t *bytes, size_t n)
{
	if (hex == NULL || strlen(hex) != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++)
	{
		int			hi = ChainHexDigit(hex[2 * i]);
		int			lo = ChainHexDigit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		bytes[i] = (uint8_t) (hi << 4 | lo);
	}
	return true;
}

/*-------------------------------------------------------------------------
 *
 * key_seal.c
 *	  Sealing under a key epoch: the envelope, the two suites, and the
 *	  FrtCipher the core finds in its rendezvous variable.
 *
 * A sealed payload (FRT_CIPHER_OVERHEAD = 34 bytes longer than its
 * plaintext):
 *	byte 0 format version (1), byte 1 suite, bytes 2..5 epoch (little-endian),
 *	bytes 6..17 random nonce, bytes 18..33 tag, then the ciphertext.
 * The associated data is bytes 0..5 || the caller's AAD, so neither the
 * suite nor the epoch can be changed, nor the payload moved to another
 * owner (the caller binds it to one through its AAD).
 *
 *	aes-256-gcm: AES-256-GCM, 12-byte nonce, 16-byte tag.
 *	sm4-sm3: SM4-CTR (counter block = nonce || 0^32) then HMAC-SM3 over
 *		header || nonce || AAD length (8 bytes LE) || AAD || ciphertext,
 *		truncated to 16 bytes (encrypt-then-MAC; OpenSSL 3.0 has no SM4-GCM).
 *		The MAC is checked before anything is decrypted.
 *
 * Nonces are random: an epoch should seal fewer than 2^32 payloads (rotate
 * epochs well before).  Each backend keeps, per epoch, cipher contexts
 * that hold the expanded key, so a seal or an open only sets the nonce.
 * open() never hands back plaintext that did not authenticate: the output
 * is wiped before the error.  seal() and open() may read the keyring,
 * create the database's first epoch (seal) and raise errors: callers keep
 * them outside critical sections (seal a page's items before
 * START_CRIT_SECTION).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "access/xact.h"
#include "fmgr.h"

#include "frt_gov_names.h"
#include "frt_keys.h"

StaticAssertDecl(FRT_CIPHER_OVERHEAD ==
				 FRT_SEAL_HEADER_LEN + FRT_SEAL_NONCE_LEN + FRT_SEAL_TAG_LEN,
				 "the envelope is FRT_CIPHER_OVERHEAD bytes");

/* Context slots of an epoch, per suite. */
#define FRT_CTX_ENC		0			/* AES-GCM encrypt; SM4-CTR (both ways) */
#define FRT_CTX_DEC		1			/* AES-GCM decrypt; HMAC-SM3 (EVP_MAC_CTX) */
#define FRT_CTX_MAC		2			/* the HMAC algorithm (EVP_MAC), sm4-sm3 */

/* An OpenSSL call failed: an internal error (no detail of the data). */
static void
FrtKeyCryptoFailed(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INTERNAL_ERROR),
			 errmsg("could not %s face data: the cipher failed", what)));
}

/* The payload does not authenticate: an error that says nothing of it. */
static void
FrtKeyNotAuthentic(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("sealed face data does not authenticate: it is corrupted or was tampered with")));
}

/* Free an epoch's cipher contexts (OpenSSL wipes their keys). */
void
FrtKeyCtxFree(int suite, void **ctx)
{
	EVP_CIPHER_CTX_free(ctx[FRT_CTX_ENC]);
	if (suite == FRT_SUITE_SM4_SM3)
	{
		EVP_MAC_CTX_free(ctx[FRT_CTX_DEC]);
		EVP_MAC_free(ctx[FRT_CTX_MAC]);
	}
	else
		EVP_CIPHER_CTX_free(ctx[FRT_CTX_DEC]);
	for (int i = 0; i < FRT_KEY_CTX_SLOTS; i++)
		ctx[i] = NULL;
}

/* An epoch's contexts, keyed once (on first use in this backend). */
static void **
FrtKeyCtx(FrtKeyEpoch *e)
{
	void	  **ctx = FrtKeyEpochCtx(e);
	const uint8 *key = FrtKeyEpochDataKey(e);
	int			suite = FrtKeyEpochSuite(e);
	bool		ok;

	if (ctx[FRT_CTX_ENC] != NULL)
		return ctx;
	ctx[FRT_CTX_ENC] = EVP_CIPHER_CTX_new();
	if (suite == FRT_SUITE_SM4_SM3)
	{
		OSSL_PARAM	params[2];

		params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SM3", 0);
		params[1] = OSSL_PARAM_construct_end();
		ctx[FRT_CTX_MAC] = EVP_MAC_fetch(NULL, "HMAC", NULL);
		ctx[FRT_CTX_DEC] = ctx[FRT_CTX_MAC] ? EVP_MAC_CTX_new(ctx[FRT_CTX_MAC]) : NULL;
		ok = ctx[FRT_CTX_ENC] && ctx[FRT_CTX_DEC] &&
			EVP_EncryptInit_ex(ctx[FRT_CTX_ENC], EVP_sm4_ctr(), NULL, key, NULL) == 1 &&
			EVP_MAC_init(ctx[FRT_CTX_DEC], key + 16, 32, params) == 1;
	}
	else
	{
		ctx[FRT_CTX_DEC] = EVP_CIPHER_CTX_new();
		ok = ctx[FRT_CTX_ENC] && ctx[FRT_CTX_DEC] &&
			EVP_EncryptInit_ex(ctx[FRT_CTX_ENC], EVP_aes_256_gcm(), NULL, key, NULL) == 1 &&
			EVP_DecryptInit_ex(ctx[FRT_CTX_DEC], EVP_aes_256_gcm(), NULL, key, NULL) == 1;
	}
	if (!ok)
	{
		FrtKeyCtxFree(suite, ctx);
		FrtKeyCryptoFailed("key a cipher for");
	}
	return ctx;
}

/* HMAC-SM3 tag (truncated) of header || nonce || aadlen || aad || ct. */
static bool
FrtKeySm3Tag(void *macctx, const uint8 *env, const void *aad, Size aadlen,
			 const uint8 *ct, Size ctlen, uint8 *tag)
{
	uint8		full[EVP_MAX_MD_SIZE];
	uint8		alen[8];
	size_t		n = 0;
	bool		ok;

	for (int i = 0; i < 8; i++)
		alen[i] = (uint8) ((uint64) aadlen >> (8 * i));
	ok = EVP_MAC_init(macctx, NULL, 0, NULL) == 1 &&
		EVP_MAC_update(macctx, env, FRT_SEAL_HEADER_LEN) == 1 &&
		EVP_MAC_update(macctx, env + FRT_SEAL_OFF_NONCE, FRT_SEAL_NONCE_LEN) == 1 &&
		EVP_MAC_update(macctx, alen, sizeof(alen)) == 1 &&
		(aadlen == 0 || EVP_MAC_update(macctx, aad, aadlen) == 1) &&
		(ctlen == 0 || EVP_MAC_update(macctx, ct, ctlen) == 1) &&
		EVP_MAC_final(macctx, full, &n, sizeof(full)) == 1 &&
		n >= FRT_SEAL_TAG_LEN;
	memcpy(tag, full, FRT_SEAL_TAG_LEN);
	explicit_bzero(full, sizeof(full));
	return ok;
}

/* SM4-CTR of len bytes from in to out, counter block nonce || 0. */
static bool
FrtKeySm4Ctr(void *cctx, const uint8 *nonce, const uint8 *in, Size len, uint8 *out)
{
	uint8		iv[16];
	int			n1 = 0,
				n2 = 0;

	memcpy(iv, nonce, FRT_SEAL_NONCE_LEN);
	memset(iv + FRT_SEAL_NONCE_LEN, 0, sizeof(iv) - FRT_SEAL_NONCE_LEN);
	return EVP_EncryptInit_ex(cctx, NULL, NULL, NULL, iv) == 1 &&
		(len == 0 || EVP_EncryptUpdate(cctx, out, &n1, in, (int) len) == 1) &&
		EVP_EncryptFinal_ex(cctx, out + n1, &n2) == 1 &&
		(Size) (n1 + n2) == len;
}

/* Check the lengths a caller gives. */
static void
FrtKeyCheckLen(Size len, Size aadlen)
{
	if (len > FRT_SEAL_MAX_LEN || aadlen > FRT_SEAL_MAX_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("cannot seal more than %d bytes at once", FRT_SEAL_MAX_LEN)));
}

/*
 * Seal len bytes under this database's current epoch (created if it owns
 * none, on a primary); out gets len + FRT_CIPHER_OVERHEAD bytes.
 */
void
FrtKeySeal(const void *plain, Size len, const void *aad, Size aadlen, void *out)
{
	FrtKeyEpoch *e;
	void	  **ctx;
	uint8	   *env = out;
	uint8	   *ct = env + FRT_CIPHER_OVERHEAD;
	uint32		epoch;
	bool		ok;

	FrtKeyCheckLen(len, aadlen);
	e = FrtKeyEpochCurrent(true);
	ctx = FrtKeyCtx(e);
	epoch = FrtKeyEpochNumber(e);
	env[0] = FRT_SEAL_VERSION;
	env[FRT_SEAL_OFF_SUITE] = (uint8) FrtKeyEpochSuite(e);
	for (int i = 0; i < 4; i++)
		env[FRT_SEAL_OFF_EPOCH + i] = (uint8) (epoch >> (8 * i));
	if (!pg_strong_random(env + FRT_SEAL_OFF_NONCE, FRT_SEAL_NONCE_LEN))
		FrtKeyCryptoFailed("draw a nonce to seal");

	if (FrtKeyEpochSuite(e) == FRT_SUITE_SM4_SM3)
		ok = FrtKeySm4Ctr(ctx[FRT_CTX_ENC], env + FRT_SEAL_OFF_NONCE, plain, len, ct) &&
			FrtKeySm3Tag(ctx[FRT_CTX_DEC], env, aad, aadlen, ct, len, env + FRT_SEAL_OFF_TAG);
	else
	{
		EVP_CIPHER_CTX *c = ctx[FRT_CTX_ENC];
		int			n = 0,
					n2 = 0;

		ok = EVP_EncryptInit_ex(c, NULL, NULL, NULL, env + FRT_SEAL_OFF_NONCE) == 1 &&
			EVP_EncryptUpdate(c, NULL, &n, env, FRT_SEAL_HEADER_LEN) == 1 &&
			(aadlen == 0 || EVP_EncryptUpdate(c, NULL, &n, aad, (int) aadlen) == 1) &&
			(len == 0 || EVP_EncryptUpdate(c, ct, &n, plain, (int) len) == 1) &&
			EVP_EncryptFinal_ex(c, ct + (len == 0 ? 0 : n), &n2) == 1 &&
			EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, FRT_SEAL_TAG_LEN,
								env + FRT_SEAL_OFF_TAG) == 1;
	}
	if (!ok)
	{
		explicit_bzero(out, len + FRT_CIPHER_OVERHEAD);
		FrtKeyCryptoFailed("seal");
	}
}

/*
 * Open a sealed payload of len bytes into out (len - FRT_CIPHER_OVERHEAD
 * bytes).  ERROR if it does not authenticate (out wiped), if its epoch was
 * destroyed (MF151) or its key is not here (MF150).
 */
void
FrtKeyOpen(const void *sealed, Size len, const void *aad, Size aadlen, void *out)
{
	const uint8 *env = sealed;
	const uint8 *ct = env + FRT_CIPHER_OVERHEAD;
	Size		ctlen;
	FrtKeyEpoch *e;
	void	  **ctx;
	bool		ok;

	if (len < FRT_CIPHER_OVERHEAD || env[0] != FRT_SEAL_VERSION || FrtKeyEpochOf(sealed) == 0)
		FrtKeyNotAuthentic();
	ctlen = len - FRT_CIPHER_OVERHEAD;
	FrtKeyCheckLen(ctlen, aadlen);
	e = FrtKeyEpochGet(FrtKeyEpochOf(sealed));
	if (env[FRT_SEAL_OFF_SUITE] != FrtKeyEpochSuite(e))
		FrtKeyNotAuthentic();
	ctx = FrtKeyCtx(e);

	if (FrtKeyEpochSuite(e) == FRT_SUITE_SM4_SM3)
	{
		uint8		tag[FRT_SEAL_TAG_LEN];

		if (!FrtKeySm3Tag(ctx[FRT_CTX_DEC], env, aad, aadlen, ct, ctlen, tag))
			FrtKeyCryptoFailed("open");
		if (timingsafe_bcmp(tag, env + FRT_SEAL_OFF_TAG, FRT_SEAL_TAG_LEN) != 0)
			FrtKeyNotAuthentic();
		if (!FrtKeySm4Ctr(ctx[FRT_CTX_ENC], env + FRT_SEAL_OFF_NONCE, ct, ctlen, out))
		{
			explicit_bzero(out, ctlen);
			FrtKeyCryptoFailed("open");
		}
	}
	else
	{
		EVP_CIPHER_CTX *c = ctx[FRT_CTX_DEC];
		uint8		tag[FRT_SEAL_TAG_LEN];
		int			n = 0,
					n2 = 0;

		/* the tag is copied: OpenSSL wants a writable buffer */
		memcpy(tag, env + FRT_SEAL_OFF_TAG, FRT_SEAL_TAG_LEN);
		ok = EVP_DecryptInit_ex(c, NULL, NULL, NULL, env + FRT_SEAL_OFF_NONCE) == 1 &&
			EVP_DecryptUpdate(c, NULL, &n, env, FRT_SEAL_HEADER_LEN) == 1 &&
			(aadlen == 0 || EVP_DecryptUpdate(c, NULL, &n, aad, (int) aadlen) == 1) &&
			(ctlen == 0 || EVP_DecryptUpdate(c, out, &n, ct, (int) ctlen) == 1) &&
			EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, FRT_SEAL_TAG_LEN, tag) == 1 &&
			EVP_DecryptFinal_ex(c, (uint8 *) out + (ctlen == 0 ? 0 : n), &n2) == 1;
		if (!ok)
		{
			explicit_bzero(out, ctlen);
			FrtKeyNotAuthentic();
		}
	}
}

/* The epoch a sealed payload names (bytes 2..5). */
uint32
FrtKeyEpochOf(const void *sealed)
{
	const uint8 *p = (const uint8 *) sealed + FRT_SEAL_OFF_EPOCH;

	return (uint32) p[0] | (uint32) p[1] << 8 | (uint32) p[2] << 16 | (uint32) p[3] << 24;
}

/* The epoch seal() uses now (created if this database owns none, on a primary). */
uint32
FrtKeyCurrentEpoch(void)
{
	return FrtKeyEpochNumber(FrtKeyEpochCurrent(true));
}

/* Must an index on this table be sealed?  Yes for the face store. */
static bool
FrtKeyMustSeal(Oid heaprelid)
{
	return OidIsValid(heaprelid) && heaprelid == FrtGovRelid(FRT_REL_FACE, true);
}

/* The cipher the core uses for sealed frt_ivf indexes. */
static FrtCipher FrtKeyCipher = {
	.abi = FRT_CIPHER_ABI,
	.overhead = FRT_CIPHER_OVERHEAD,
	.must_seal = FrtKeyMustSeal,
	.seal = FrtKeySeal,
	.open = FrtKeyOpen,
	.epoch_of = FrtKeyEpochOf,
	.current_epoch = FrtKeyCurrentEpoch,
};

/*
 * Offer the cipher to the core (its rendezvous variable), with or without a
 * key: without one, must_seal still says which indexes need it, and seal()
 * and open() fail closed.
 */
void
FrtKeyCipherRegister(void)
{
	FrtCipher **slot = (FrtCipher **) find_rendezvous_variable(FRT_CIPHER_RENDEZVOUS);

	*slot = &FrtKeyCipher;
}

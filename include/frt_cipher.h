/*-------------------------------------------------------------------------
 *
 * frt_cipher.h
 *	  The sealing extension point of the frt core: how a higher module (the
 *	  governance layer's key management) lets frt_ivf indexes keep their
 *	  codes and centroids as ciphertext on disk.
 *
 * The core knows no key and no algorithm.  A provider fills an FrtCipher
 * and stores its address in the rendezvous variable FRT_CIPHER_RENDEZVOUS
 * (find_rendezvous_variable), normally from _PG_init of a preloaded
 * library.  The core looks the variable up whenever it needs it:
 *
 *	- at build, must_seal() decides whether a new index is sealed (the
 *	  provider answers true for the relations it protects);
 *	- a sealed index (FRT_IVF_META_SEALED) is written with seal() and read
 *	  with open(); without a provider, or when open() cannot find its key,
 *	  every access to it fails: it is never read or written in clear.
 *
 * A sealed payload is opaque to the core: 'overhead' bytes longer than its
 * plaintext, bound to the caller's associated data (aad), under a key
 * epoch the provider names (epoch_of).  open() raises an ERROR when the
 * payload does not authenticate or its epoch's key is gone.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FRT_CIPHER_H
#define FRT_CIPHER_H

#define FRT_CIPHER_RENDEZVOUS	"frt_cipher"
#define FRT_CIPHER_ABI			1	/* FrtCipher.abi a provider must set */
#define FRT_CIPHER_OVERHEAD		34	/* bytes a sealed payload adds */

typedef struct FrtCipher
{
	uint32		abi;			/* FRT_CIPHER_ABI */
	Size		overhead;		/* FRT_CIPHER_OVERHEAD */

	/* whether an index on this table must be sealed */
	bool		(*must_seal) (Oid heaprelid);

	/* seal len bytes under the current epoch; out gets len + overhead */
	void		(*seal) (const void *plain, Size len, const void *aad, Size aadlen,
						 void *out);

	/* open a sealed payload of len bytes; out gets len - overhead */
	void		(*open) (const void *sealed, Size len, const void *aad, Size aadlen,
						 void *out);

	/* the key epoch a sealed payload is under */
	uint32		(*epoch_of) (const void *sealed);

	/* the epoch seal() uses now */
	uint32		(*current_epoch) (void);
} FrtCipher;

#endif							/* FRT_CIPHER_H */

/*-------------------------------------------------------------------------
 *
 * key_sql.c
 *	  The keys layer's SQL functions (src/keys/10_keys.sql): seal and open a
 *	  face embedding, the epoch of a sealed value, and the keyring's epochs
 *	  and status.  EXECUTE is granted to nobody: the registry's SECURITY
 *	  DEFINER functions call them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "frt_embedding.h"
#include "frt_keys.h"

#define FRT_FACE_AAD_LEN	(sizeof(FRT_KEY_FACE_AAD) - 1 + 8)

/* A face's associated data: "frt-face-v1" || id (8 bytes, little-endian). */
static void
FrtKeyFaceAad(int64 id, uint8 *aad)
{
	memcpy(aad, FRT_KEY_FACE_AAD, sizeof(FRT_KEY_FACE_AAD) - 1);
	for (int i = 0; i < 8; i++)
		aad[sizeof(FRT_KEY_FACE_AAD) - 1 + i] = (uint8) ((uint64) id >> (8 * i));
}

/* A bytea that is long enough to be a sealed value of ours (else 22P03). */
static bytea *
FrtKeySealedArg(FunctionCallInfo fcinfo, int argno)
{
	bytea	   *sealed = PG_GETARG_BYTEA_PP(argno);

	if (VARSIZE_ANY_EXHDR(sealed) < FRT_CIPHER_OVERHEAD ||
		((uint8 *) VARDATA_ANY(sealed))[0] != FRT_SEAL_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("not a sealed value")));
	return sealed;
}

PG_FUNCTION_INFO_V1(frt_face_seal);

/* SQL: frt._face_seal(id, embedding) -- the embedding sealed, bound to the id. */
Datum
frt_face_seal(PG_FUNCTION_ARGS)
{
	int64		id = PG_GETARG_INT64(0);
	FaceEmbedding *e = PG_GETARG_FACE_EMBEDDING_P(1);
	Size		len = VARSIZE(e) - VARHDRSZ;
	uint8		aad[FRT_FACE_AAD_LEN];
	bytea	   *out = palloc(VARHDRSZ + len + FRT_CIPHER_OVERHEAD);

	FrtKeyFaceAad(id, aad);
	FrtKeySeal(VARDATA(e), len, aad, sizeof(aad), VARDATA(out));
	SET_VARSIZE(out, VARHDRSZ + len + FRT_CIPHER_OVERHEAD);
	PG_RETURN_BYTEA_P(out);
}

/*
 * Faces opened in this transaction.  A query opens the same row more than
 * once: its ORDER BY value when the index returns it, then again for its
 * output (an index scan with a re-check opens some 16 candidates and 20
 * repeats for LIMIT 10).  The same id with the same sealed bytes (compared
 * in full) opens to the same face, so a repeat is answered from here; the
 * bytes were authenticated when first opened, and the epoch is looked up
 * again, so a destroyed key still refuses.  At most FRT_KEY_OPENED_FACES
 * faces, within frt.ivf_plaintext_cache (0: none); wiped at the end of
 * every transaction.
 */
typedef struct FrtKeyOpenedFace
{
	int64		id;
	Size		len;			/* of the sealed value; 0: an empty entry */
	Size		cap;			/* bytes allocated for the sealed value and the face */
	uint8	   *sealed;
	FaceEmbedding *face;
} FrtKeyOpenedFace;

static MemoryContext FrtKeyOpenedCxt = NULL;
static FrtKeyOpenedFace FrtKeyOpened[FRT_KEY_OPENED_FACES];
static int	FrtKeyOpenedNext = 0;	/* the entry replaced next */
static bool FrtKeyOpenedAny = false;	/* an entry holds a face */
static int	FrtKeyOpenedMax = -1;	/* entries this transaction may use; -1: not read yet */

/* Wipe the opened faces (end of a transaction). */
static void
FrtKeyOpenedWipe(void)
{
	for (int i = 0; i < FRT_KEY_OPENED_FACES && FrtKeyOpenedAny; i++)
		if (FrtKeyOpened[i].len > 0)
		{
			explicit_bzero(FrtKeyOpened[i].face, VARSIZE(FrtKeyOpened[i].face));
			FrtKeyOpened[i].len = 0;
		}
	FrtKeyOpenedAny = false;
	FrtKeyOpenedNext = 0;
}

/* Transaction callback: no opened face outlives its transaction. */
static void
FrtKeyOpenedXact(XactEvent event, void *arg pg_attribute_unused())
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_PREPARE)
	{
		FrtKeyOpenedWipe();
		FrtKeyOpenedMax = -1;
	}
}

/*
 * How many opened faces of plen bytes this transaction may keep: read once
 * per transaction from frt.ivf_plaintext_cache, so that 0 keeps none.
 */
static int
FrtKeyOpenedLimit(Size plen)
{
	if (FrtKeyOpenedMax < 0)
	{
		const char *v = GetConfigOption(FRT_KEY_PLAIN_CACHE_GUC, true, false);
		int64		kb = v != NULL ? strtol(v, NULL, 10) : 0;

		if (FrtKeyOpenedCxt == NULL)
		{
			FrtKeyOpenedCxt = AllocSetContextCreate(TopMemoryContext, "frt opened faces",
													ALLOCSET_SMALL_SIZES);
			RegisterXactCallback(FrtKeyOpenedXact, NULL);
		}
		FrtKeyOpenedMax = (int) Min((int64) FRT_KEY_OPENED_FACES,
									Max(kb, 0) * 1024 / (int64) (2 * (VARHDRSZ + plen)));
	}
	return FrtKeyOpenedMax;
}

/* The face a previous open of the same id and sealed bytes gave, or NULL. */
static FaceEmbedding *
FrtKeyOpenedFind(int64 id, const uint8 *sealed, Size len)
{
	for (int i = 0; i < FRT_KEY_OPENED_FACES && FrtKeyOpenedAny; i++)
	{
		FrtKeyOpenedFace *o = &FrtKeyOpened[i];

		if (o->id == id && o->len == len && memcmp(o->sealed, sealed, len) == 0)
			return o->face;
	}
	return NULL;
}

/* Keep a face just opened (and authenticated), replacing the oldest entry. */
static void
FrtKeyOpenedKeep(int64 id, const uint8 *sealed, Size len, const FaceEmbedding *face, int max)
{
	FrtKeyOpenedFace *o;

	if (FrtKeyOpenedNext >= max)
		FrtKeyOpenedNext = 0;
	o = &FrtKeyOpened[FrtKeyOpenedNext++];
	if (o->len > 0)
		explicit_bzero(o->face, VARSIZE(o->face));
	o->len = 0;
	if (o->cap < len)
	{
		if (o->sealed != NULL)
		{
			pfree(o->sealed);
			pfree(o->face);
		}
		o->sealed = MemoryContextAlloc(FrtKeyOpenedCxt, len);
		o->face = MemoryContextAlloc(FrtKeyOpenedCxt, len);
		o->cap = len;
	}
	memcpy(o->sealed, sealed, len);
	memcpy(o->face, face, VARSIZE(face));
	o->id = id;
	o->len = len;
	FrtKeyOpenedAny = true;
}

PG_FUNCTION_INFO_V1(frt_face_open);

/* SQL: frt._face_open(id, sealed) -- the embedding, if it authenticates for id. */
Datum
frt_face_open(PG_FUNCTION_ARGS)
{
	int64		id = PG_GETARG_INT64(0);
	bytea	   *sealed = FrtKeySealedArg(fcinfo, 1);
	const uint8 *env = (const uint8 *) VARDATA_ANY(sealed);
	Size		len = VARSIZE_ANY_EXHDR(sealed);
	Size		plen = len - FRT_CIPHER_OVERHEAD;
	uint8		aad[FRT_FACE_AAD_LEN];
	FaceEmbedding *e = palloc(VARHDRSZ + plen);
	FaceEmbedding *kept = FrtKeyOpenedFind(id, env, len);
	int			max;

	if (kept != NULL)
	{
		/* its key must still be there, as for an open */
		(void) FrtKeyEpochGet(FrtKeyEpochOf(env));
		memcpy(e, kept, VARHDRSZ + plen);
		PG_RETURN_FACE_EMBEDDING_P(e);
	}
	FrtKeyFaceAad(id, aad);
	FrtKeyOpen(env, len, aad, sizeof(aad), VARDATA(e));
	SET_VARSIZE(e, VARHDRSZ + plen);
	/* it authenticated, so we sealed it: a malformed value is a bug */
	if (plen < offsetof(FaceEmbedding, x) - VARHDRSZ ||
		e->dim < FRT_MIN_DIM || e->dim > FRT_MAX_DIM || e->flags != 0 ||
		FRT_EMBEDDING_SIZE(e->dim) != VARHDRSZ + plen)
	{
		explicit_bzero(VARDATA(e), plen);
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("sealed face data does not hold a face embedding")));
	}
	if ((max = FrtKeyOpenedLimit(plen)) > 0)
		FrtKeyOpenedKeep(id, env, len, e, max);
	PG_RETURN_FACE_EMBEDDING_P(e);
}

PG_FUNCTION_INFO_V1(frt_key_lock_id);

/* SQL: frt._key_lock_id() -- the advisory lock number sealing holds shared. */
Datum
frt_key_lock_id(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(FRT_KEY_LOCK_ID);
}

PG_FUNCTION_INFO_V1(frt_sealed_epoch);

/* SQL: frt._sealed_epoch(sealed) -- the key epoch a sealed value is under. */
Datum
frt_sealed_epoch(PG_FUNCTION_ARGS)
{
	bytea	   *sealed = FrtKeySealedArg(fcinfo, 0);

	PG_RETURN_INT64((int64) FrtKeyEpochOf(VARDATA_ANY(sealed)));
}

/* This database's current epoch as listed (0 when it owns none). */
static uint32
FrtKeyListedCurrent(void)
{
	FrtKeyEpochInfo *info;
	int			n = FrtKeyringList(&info);

	for (int i = 0; i < n; i++)
		if (info[i].current)
			return info[i].epoch;
	return 0;
}

PG_FUNCTION_INFO_V1(frt_key_current_epoch);

/*
 * SQL: frt._key_current_epoch() -- the epoch new seals of this database
 * use; NULL before its first seal.
 */
Datum
frt_key_current_epoch(PG_FUNCTION_ARGS)
{
	uint32		epoch;

	if (!FrtKeyRootLoaded() || frt_encryption_keyring[0] == '\0')
		FrtKeyRefuseUnloaded();
	epoch = FrtKeyListedCurrent();
	if (epoch == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64((int64) epoch);
}

PG_FUNCTION_INFO_V1(frt_key_epoch_create);

/* SQL: frt._key_epoch_create() -- a new epoch of this database, its current one. */
Datum
frt_key_epoch_create(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64((int64) FrtKeyEpochCreate());
}

PG_FUNCTION_INFO_V1(frt_key_epoch_destroy);

/*
 * SQL: frt._key_epoch_destroy(epoch) -- erase an epoch's key (not the
 * current one, not one another database owns).
 */
Datum
frt_key_epoch_destroy(PG_FUNCTION_ARGS)
{
	int64		epoch = PG_GETARG_INT64(0);

	if (epoch < 1 || epoch > PG_UINT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("key epoch %lld is out of range", (long long) epoch)));
	if (!FrtKeyEpochDestroy((uint32) epoch))
		ereport(NOTICE,
				(errmsg("key epoch %lld is not in the keyring: nothing to destroy",
						(long long) epoch)));
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(frt_key_epochs);

/*
 * SQL: frt._key_epochs() -- the keyring's epochs: number, suite, creation,
 * whether current for this database, whether the root key derives it
 * (verified), the database that owns it (NULL: a file without an owner).
 */
Datum
frt_key_epochs(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	FrtKeyEpochInfo *info;
	int			n;

	InitMaterializedSRF(fcinfo, 0);
	n = FrtKeyringList(&info);
	for (int i = 0; i < n; i++)
	{
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};
		const char *suite = FrtKeySuiteName(info[i].suite);

		values[0] = Int64GetDatum((int64) info[i].epoch);
		nulls[1] = suite == NULL;
		if (suite)
			values[1] = CStringGetTextDatum(suite);
		values[2] = TimestampTzGetDatum(time_t_to_timestamptz((pg_time_t) info[i].created));
		values[3] = BoolGetDatum(info[i].current);
		values[4] = BoolGetDatum(info[i].verified);
		nulls[5] = !OidIsValid(info[i].owner);
		values[5] = ObjectIdGetDatum(info[i].owner);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	PG_RETURN_NULL();
}

PG_FUNCTION_INFO_V1(frt_key_previous_epochs);

/*
 * SQL: frt._key_previous_epochs() -- the epochs of the keyring the previous
 * root key derives, ascending (a root key rotation is finished when the
 * array is empty).
 */
Datum
frt_key_previous_epochs(PG_FUNCTION_ARGS)
{
	FrtKeyEpochInfo *info;
	int			n = FrtKeyringList(&info);
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	int			k = 0;

	for (int i = 0; i < n; i++)
		if (info[i].previous)
			elems[k++] = Int64GetDatum((int64) info[i].epoch);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, k, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

PG_FUNCTION_INFO_V1(frt_key_status);

/*
 * SQL: frt._key_status() -- whether the root key is loaded and from where
 * ('file' or 'command', never the key), the keyring, the suite of new
 * epochs and the current epoch.
 */
Datum
frt_key_status(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};
	bool		loaded = FrtKeyRootLoaded();
	uint32		current = 0;

	InitMaterializedSRF(fcinfo, 0);
	values[0] = BoolGetDatum(loaded);
	nulls[1] = !loaded;
	if (loaded)
	{
		size_t		prevlen;
		const char *source = frt_encryption_key_file[0] != '\0' ? "file" : "command";

		if (FrtKeyRootPrevious(&prevlen) != NULL)
			source = psprintf("%s; previous key: %s", source,
							  frt_encryption_previous_key_file[0] != '\0' ? "file" : "command");
		values[1] = CStringGetTextDatum(source);
	}
	nulls[2] = frt_encryption_keyring == NULL || frt_encryption_keyring[0] == '\0';
	if (!nulls[2])
		values[2] = CStringGetTextDatum(frt_encryption_keyring);
	values[3] = CStringGetTextDatum(FrtKeySuiteName(frt_encryption_suite));
	if (loaded && !nulls[2])
		current = FrtKeyListedCurrent();
	nulls[4] = current == 0;
	values[4] = Int64GetDatum((int64) current);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	PG_RETURN_NULL();
}

/*-------------------------------------------------------------------------
 *
 * device_chain.c
 *	  A device's audit record, as frt.device_sync() receives it, hashed with
 *	  the chain code the server's own trail uses (FrtChainHash,
 *	  src/chain/chain.c), so that a device trail verifies on the server
 *	  exactly as it did on the device (src/registry/48_device_sync.sql,
 *	  docs/sqlite.md "Sync to the server").
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "frt_chain.h"

PG_FUNCTION_INFO_V1(frt_device_chain_hash);
PG_FUNCTION_INFO_V1(frt_device_chain_at);

/* The chain function named alg; an error for any other name. */
static FrtChainAlg
FrtDeviceChainAlg(text *alg)
{
	char	   *name = text_to_cstring(alg);
	FrtChainAlg result;

	if (!FrtChainAlgFromName(name, &result))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown audit hash function"),
				 errhint("The chain's hash functions are sha256 and sm3.")));
	return result;
}

/*
 * The chain hash of one device record: (seq, at, backend_pid, similarity
 * or NULL, the text fields in frt_chain.h's order as a text[] with NULLs,
 * prev_hash, hash_alg).  at is the record's instant (microseconds since
 * 2000-01-01 UTC, which is what a timestamptz holds); client_addr and
 * detail are passed in their canonical output forms, as the server's own
 * chain hashes them.
 */
Datum
frt_device_chain_hash(PG_FUNCTION_ARGS)
{
	FrtChainRecord rec;
	ArrayType  *fields;
	Datum	   *values;
	bool	   *nulls;
	int			n;
	bytea	   *prev;
	bytea	   *result;

	for (int i = 0; i < 7; i++)
		if (i != 3 && PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("a device audit record's seq, time, process, fields, previous hash and hash function must not be NULL")));
	memset(&rec, 0, sizeof(rec));
	rec.seq = PG_GETARG_INT64(0);
	rec.at = PG_GETARG_TIMESTAMPTZ(1);
	rec.backend_pid = PG_GETARG_INT32(2);
	rec.has_similarity = !PG_ARGISNULL(3);
	rec.similarity = rec.has_similarity ? PG_GETARG_FLOAT8(3) : 0.0;
	fields = PG_GETARG_ARRAYTYPE_P(4);
	prev = PG_GETARG_BYTEA_PP(5);
	rec.alg = FrtDeviceChainAlg(PG_GETARG_TEXT_PP(6));

	if (ARR_NDIM(fields) != 1 || ARR_ELEMTYPE(fields) != TEXTOID)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("a device audit record's fields must be a one-dimensional text array")));
	deconstruct_array(fields, TEXTOID, -1, false, TYPALIGN_INT, &values, &nulls, &n);
	if (n != FRT_CHAIN_NFIELDS)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("a device audit record has %d text fields, not %d", n, FRT_CHAIN_NFIELDS)));
	for (int f = 0; f < FRT_CHAIN_NFIELDS; f++)
		rec.field[f] = nulls[f] ? NULL : TextDatumGetCString(values[f]);
	if (VARSIZE_ANY_EXHDR(prev) != FRT_CHAIN_HASH_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a previous hash must have %d bytes", FRT_CHAIN_HASH_LEN)));
	memcpy(rec.prev_hash, VARDATA_ANY(prev), FRT_CHAIN_HASH_LEN);

	result = (bytea *) palloc(VARHDRSZ + FRT_CHAIN_HASH_LEN);
	SET_VARSIZE(result, VARHDRSZ + FRT_CHAIN_HASH_LEN);
	if (!FrtChainHash(&rec, (uint8_t *) VARDATA(result)))
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("%s of a device audit record failed", FrtChainAlgName(rec.alg))));
	PG_RETURN_BYTEA_P(result);
}

/*
 * The instant of a device record's 'at' (microseconds since 2000-01-01
 * UTC), exactly: no float on the way.  An error outside timestamptz's range.
 */
Datum
frt_device_chain_at(PG_FUNCTION_ARGS)
{
	int64		at = PG_GETARG_INT64(0);

	if (!IS_VALID_TIMESTAMP((TimestampTz) at))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("a device audit record's time is out of range")));
	PG_RETURN_TIMESTAMPTZ((TimestampTz) at);
}

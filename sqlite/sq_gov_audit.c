/*-------------------------------------------------------------------------
 *
 * sq_gov_audit.c
 *	  The device's audit trail, frt_audit: every governed call appends one
 *	  record (or more), chained with the server's hash (frt_chain.h), so the
 *	  device's trail verifies on the server.  frt_audit_verify() recomputes
 *	  the chain.  Values are bounded as on the server (docs/audit.md, "What
 *	  is recorded"): a vector-like field becomes "vector sha256:<h>", a long
 *	  one is truncated with its hash; never a biometric value.  detail is
 *	  JSON in PostgreSQL's jsonb_out form so the server's jsonb round-trip
 *	  keeps the hash.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "sq_gov.h"

/* The first FRT_SQ_SHORT_HASH_HEX hex digits of SHA-256(s) into out. */
static void
FrtSqShortHash(const char *s, char *out)
{
	uint8_t		md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	char		hex[2 * EVP_MAX_MD_SIZE + 1];

	EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL);
	FrtChainToHex(md, len, hex);
	memcpy(out, hex, FRT_SQ_SHORT_HASH_HEX);
	out[FRT_SQ_SHORT_HASH_HEX] = '\0';
}

/*
 * Whether s is a list of FRT_SQ_VECTOR_NUMBERS or more numbers and nothing
 * else but brackets, separators and quotes (a vector literal, a JSON array).
 */
static bool
FrtSqVectorLike(const char *s)
{
	int			numbers = 0;
	const char *p = s;

	while (*p)
	{
		if (strchr("[](){},; \t\r\n\"'", *p) != NULL)
			p++;
		else
		{
			char	   *end;

			(void) strtod(p, &end);
			if (end == p)
				return false;
			numbers++;
			p = end;
		}
	}
	return numbers >= FRT_SQ_VECTOR_NUMBERS;
}

/* A value as the trail keeps it (sqlite3_malloc'd): bounded, never a vector. */
char *
FrtSqAuditBound(const char *value)
{
	char		h[FRT_SQ_SHORT_HASH_HEX + 1];
	size_t		n = strlen(value);

	if (FrtSqVectorLike(value))
	{
		FrtSqShortHash(value, h);
		return sqlite3_mprintf("vector sha256:%s", h);
	}
	if (n > FRT_SQ_FIELD_MAX)
	{
		const char *tail = "...truncated sha256:";
		size_t		keep = FRT_SQ_FIELD_MAX - strlen(tail) - FRT_SQ_SHORT_HASH_HEX;

		/* whole UTF-8 characters only */
		while (keep > 0 && ((unsigned char) value[keep] & 0xC0) == 0x80)
			keep--;
		FrtSqShortHash(value, h);
		return sqlite3_mprintf("%.*s%s%s", (int) keep, value, tail, h);
	}
	return sqlite3_mprintf("%s", value);
}

/* Add a key to a detail object, its value already JSON text (taken over). */
static void
FrtSqJsonAdd(FrtSqJson *j, const char *key, char *text)
{
	if (j->n >= (int) (sizeof(j->item) / sizeof(j->item[0])))
	{
		sqlite3_free(text);
		return;
	}
	j->item[j->n].key = sqlite3_mprintf("%s", key);
	j->item[j->n].text = text;
	j->n++;
}

/* A string as JSON text, escaped as PostgreSQL's escape_json does. */
static char *
FrtSqJsonQuote(const char *s)
{
	sqlite3_str *out = sqlite3_str_new(NULL);

	sqlite3_str_appendchar(out, 1, '"');
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		switch (*p)
		{
			case '\b':
				sqlite3_str_appendall(out, "\\b");
				break;
			case '\f':
				sqlite3_str_appendall(out, "\\f");
				break;
			case '\n':
				sqlite3_str_appendall(out, "\\n");
				break;
			case '\r':
				sqlite3_str_appendall(out, "\\r");
				break;
			case '\t':
				sqlite3_str_appendall(out, "\\t");
				break;
			case '"':
				sqlite3_str_appendall(out, "\\\"");
				break;
			case '\\':
				sqlite3_str_appendall(out, "\\\\");
				break;
			default:
				if (*p < ' ')
					sqlite3_str_appendf(out, "\\u%04x", *p);
				else
					sqlite3_str_appendchar(out, 1, (char) *p);
		}
	}
	sqlite3_str_appendchar(out, 1, '"');
	return sqlite3_str_finish(out);
}

/* Add a string value (bounded as an audit field; NULL: left out). */
void
FrtSqJsonStr(FrtSqJson *j, const char *key, const char *value)
{
	char	   *b;

	if (value == NULL)
		return;
	b = FrtSqAuditBound(value);
	FrtSqJsonAdd(j, key, FrtSqJsonQuote(b));
	sqlite3_free(b);
}

/* Add an integer value. */
void
FrtSqJsonInt(FrtSqJson *j, const char *key, int64_t value)
{
	FrtSqJsonAdd(j, key, sqlite3_mprintf("%lld", (long long) value));
}

/* jsonb's key order: shorter keys first, then by bytes. */
static int
FrtSqJsonKeyCmp(const char *a, const char *b)
{
	size_t		la = strlen(a),
				lb = strlen(b);

	if (la != lb)
		return la < lb ? -1 : 1;
	return memcmp(a, b, la);
}

/* The object as jsonb_out writes it ({"a": 1, "bb": "x"}); frees j's items. */
char *
FrtSqJsonFinish(FrtSqJson *j)
{
	sqlite3_str *out = sqlite3_str_new(NULL);

	/* insertion sort: a handful of keys */
	for (int i = 1; i < j->n; i++)
		for (int k = i; k > 0 && FrtSqJsonKeyCmp(j->item[k - 1].key, j->item[k].key) > 0; k--)
		{
			char	   *tk = j->item[k].key,
					   *tt = j->item[k].text;

			j->item[k].key = j->item[k - 1].key;
			j->item[k].text = j->item[k - 1].text;
			j->item[k - 1].key = tk;
			j->item[k - 1].text = tt;
		}
	sqlite3_str_appendchar(out, 1, '{');
	for (int i = 0; i < j->n; i++)
	{
		char	   *k = FrtSqJsonQuote(j->item[i].key);

		sqlite3_str_appendf(out, "%s%s: %s", i > 0 ? ", " : "", k, j->item[i].text);
		sqlite3_free(k);
		sqlite3_free(j->item[i].key);
		sqlite3_free(j->item[i].text);
	}
	sqlite3_str_appendchar(out, 1, '}');
	j->n = 0;
	return sqlite3_str_finish(out);
}

/* Read a column as text or NULL (copied). */
static char *
FrtSqColText(sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return NULL;
	return sqlite3_mprintf("%s", sqlite3_column_text(st, col));
}

/* Append a record inside the current transaction (the write lock is held). */
static int
FrtSqAuditInsert(sqlite3 *db, const FrtChainRecord *rec, const uint8_t *hash)
{
	const char *const *f = rec->field;

	return FrtSqStep(db, "INSERT INTO main.frt_audit (seq, at, backend_pid, similarity, event, outcome, "
					 "sqlstate, role_name, effective_role, application, client_addr, purpose, subject, "
					 "device, detail, prev_hash, hash, hash_alg) "
					 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
					 rec->has_similarity ? "iiIdtttttttttttbbt" : "iiIntttttttttttbbt",
					 rec->seq, rec->at, (int) rec->backend_pid,
					 rec->has_similarity ? rec->similarity : 0.0,
					 f[FRT_CHF_EVENT], f[FRT_CHF_OUTCOME], f[FRT_CHF_SQLSTATE], f[FRT_CHF_ROLE],
					 f[FRT_CHF_EFFECTIVE_ROLE], f[FRT_CHF_APPLICATION], f[FRT_CHF_CLIENT_ADDR],
					 f[FRT_CHF_PURPOSE], f[FRT_CHF_SUBJECT], f[FRT_CHF_DEVICE], f[FRT_CHF_DETAIL],
					 rec->prev_hash, FRT_CHAIN_HASH_LEN, hash, FRT_CHAIN_HASH_LEN,
					 FrtChainAlgName(rec->alg));
}

/* Fill rec's seq and prev_hash from the last record; false on error. */
static bool
FrtSqAuditTail(sqlite3 *db, FrtChainRecord *rec)
{
	sqlite3_stmt *st = FrtSqQuery(db, "SELECT seq, hash FROM main.frt_audit ORDER BY seq DESC LIMIT 1", "");
	int			rc;

	if (st == NULL)
		return false;
	rc = sqlite3_step(st);
	memset(rec->prev_hash, 0, FRT_CHAIN_HASH_LEN);
	rec->seq = 1;
	if (rc == SQLITE_ROW)
	{
		rec->seq = sqlite3_column_int64(st, 0) + 1;
		if (sqlite3_column_bytes(st, 1) == FRT_CHAIN_HASH_LEN)
			memcpy(rec->prev_hash, sqlite3_column_blob(st, 1), FRT_CHAIN_HASH_LEN);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

/* See sq_gov.h. */
int
FrtSqAuditAppend(sqlite3 *db, const char *event, const char *outcome,
				 const char *sqlstate, const char *purpose, const char *subject,
				 const char *detail_json, const double *similarity, int64_t *seq)
{
	FrtSqGov   *gov = FrtSqGovOf(db);
	FrtChainRecord rec;
	FrtSqDevice dev;
	uint8_t		hash[FRT_CHAIN_HASH_LEN];
	char	   *bounded[FRT_CHAIN_NFIELDS] = {0};
	bool		own;
	int			rc = SQLITE_ERROR;

	if (gov == NULL || event == NULL || *event == '\0' || outcome == NULL || *outcome == '\0')
		return SQLITE_MISUSE;
	gov->trusted++;
	own = sqlite3_get_autocommit(db);
	if (own && FrtSqStep(db, "BEGIN IMMEDIATE", "") != SQLITE_OK)
	{
		gov->trusted--;
		return sqlite3_errcode(db);
	}
	memset(&rec, 0, sizeof(rec));
	if (FrtSqDeviceRead(db, &dev) && FrtSqAuditTail(db, &rec))
	{
		const char *in[FRT_CHAIN_NFIELDS] = {0};

		in[FRT_CHF_EVENT] = event;
		in[FRT_CHF_OUTCOME] = outcome;
		in[FRT_CHF_SQLSTATE] = sqlstate;
		in[FRT_CHF_APPLICATION] = dev.application;
		in[FRT_CHF_PURPOSE] = purpose;
		in[FRT_CHF_SUBJECT] = subject;
		in[FRT_CHF_DEVICE] = dev.device;
		for (int f = 0; f < FRT_CHAIN_NFIELDS; f++)
			if (in[f] != NULL)
				bounded[f] = FrtSqAuditBound(in[f]);
		/* the detail is JSON of bounded values; one too large or vector-like is replaced */
		if (detail_json != NULL &&
			(strlen(detail_json) > FRT_SQ_DETAIL_MAX || FrtSqVectorLike(detail_json)))
		{
			char		h[FRT_SQ_SHORT_HASH_HEX + 1];

			FrtSqShortHash(detail_json, h);
			bounded[FRT_CHF_DETAIL] = sqlite3_mprintf("{\"sha256\": \"%s\", \"audit_bounded\": \"detail\"}", h);
		}
		else
			bounded[FRT_CHF_DETAIL] = detail_json ? sqlite3_mprintf("%s", detail_json) : NULL;
		for (int f = 0; f < FRT_CHAIN_NFIELDS; f++)
			rec.field[f] = bounded[f];
		rec.at = FrtSqNow(db);
		rec.backend_pid = (int32_t) getpid();
		rec.has_similarity = similarity != NULL && isfinite(*similarity);
		rec.similarity = rec.has_similarity ? *similarity : 0.0;
		rec.alg = dev.alg;
		if (FrtChainHash(&rec, hash))
			rc = FrtSqAuditInsert(db, &rec, hash);
		FrtSqDeviceFree(&dev);
	}
	for (int f = 0; f < FRT_CHAIN_NFIELDS; f++)
		sqlite3_free(bounded[f]);
	if (own)
	{
		if (rc == SQLITE_OK)
			rc = FrtSqStep(db, "COMMIT", "");
		if (rc != SQLITE_OK)
			FrtSqStep(db, "ROLLBACK", "");
	}
	if (rc == SQLITE_OK && seq != NULL)
		*seq = rec.seq;
	gov->trusted--;
	return rc;
}

/*
 * Check one stored record against the chain: seq expected, prev_hash the
 * previous record's hash, hash recomputed.  NULL if it holds, else why.
 */
static const char *
FrtSqAuditCheckRow(sqlite3_stmt *st, int64_t expect, uint8_t *prev)
{
	FrtChainRecord rec;
	uint8_t		hash[FRT_CHAIN_HASH_LEN];
	char	   *text[FRT_CHAIN_NFIELDS];
	const char *why = NULL;

	memset(&rec, 0, sizeof(rec));
	rec.seq = sqlite3_column_int64(st, 0);
	if (rec.seq != expect)
		return "record missing (a gap in seq)";
	rec.at = sqlite3_column_int64(st, 1);
	rec.backend_pid = (int32_t) sqlite3_column_int64(st, 2);
	rec.has_similarity = sqlite3_column_type(st, 3) != SQLITE_NULL;
	rec.similarity = sqlite3_column_double(st, 3);
	for (int f = 0; f < FRT_CHAIN_NFIELDS; f++)
		rec.field[f] = text[f] = FrtSqColText(st, 4 + f);
	if (sqlite3_column_bytes(st, 15) != FRT_CHAIN_HASH_LEN ||
		memcmp(sqlite3_column_blob(st, 15), prev, FRT_CHAIN_HASH_LEN) != 0)
		why = "prev_hash does not match the previous record's hash";
	else if (!FrtChainAlgFromName((const char *) sqlite3_column_text(st, 17), &rec.alg))
		why = "unknown hash_alg";
	else
	{
		memcpy(rec.prev_hash, prev, FRT_CHAIN_HASH_LEN);
		if (!FrtChainHash(&rec, hash))
			why = "the hash function failed";
		else if (sqlite3_column_bytes(st, 16) != FRT_CHAIN_HASH_LEN ||
				 memcmp(sqlite3_column_blob(st, 16), hash, FRT_CHAIN_HASH_LEN) != 0)
			why = "content does not match its hash (record altered)";
		else
			memcpy(prev, hash, FRT_CHAIN_HASH_LEN);
	}
	for (int f = 0; f < FRT_CHAIN_NFIELDS; f++)
		sqlite3_free(text[f]);
	return why;
}

/* frt_audit_verify(): 'ok', or an MF141 error naming the first broken seq. */
static void
FrtSqAuditVerifyFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	FrtSqGov   *gov = sqlite3_user_data(ctx);
	sqlite3_stmt *st;
	uint8_t		prev[FRT_CHAIN_HASH_LEN] = {0};
	int64_t		expect = 1;
	const char *why = NULL;
	int			rc;

	(void) argc;
	(void) argv;
	gov->trusted++;
	st = FrtSqQuery(gov->db, "SELECT seq, at, backend_pid, similarity, event, outcome, sqlstate, "
					"role_name, effective_role, application, client_addr, purpose, subject, device, "
					"detail, prev_hash, hash, hash_alg FROM main.frt_audit ORDER BY seq", "");
	if (st == NULL)
	{
		sqlite3_result_error(ctx, "55000: the device is not initialized: call frt_device_init() first", -1);
		gov->trusted--;
		return;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && why == NULL)
	{
		why = FrtSqAuditCheckRow(st, expect, prev);
		if (why == NULL)
			expect++;
	}
	sqlite3_finalize(st);
	gov->trusted--;
	if (why != NULL)
	{
		char	   *msg = sqlite3_mprintf("MF141: audit trail broken at seq %lld: %s (Measures Art. 14)",
										  (long long) expect, why);

		sqlite3_result_error(ctx, msg, -1);
		sqlite3_free(msg);
	}
	else if (rc != SQLITE_DONE)
		sqlite3_result_error(ctx, sqlite3_errmsg(gov->db), -1);
	else
		sqlite3_result_text(ctx, "ok", -1, SQLITE_STATIC);
}

/* Register the trail's SQL functions. */
int
FrtSqAuditRegister(sqlite3 *db, FrtSqGov *gov)
{
	return sqlite3_create_function(db, "frt_audit_verify", 0, SQLITE_UTF8 | SQLITE_DIRECTONLY, gov,
								   FrtSqAuditVerifyFunc, NULL, NULL);
}

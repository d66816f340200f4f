/*
 * gallery_fuzz.c
 *	  Random and mutated text and BLOB inputs through frt_embedding,
 *	  frt_embedding_text, frt_dims, the distances, an frt_gallery insert and
 *	  a 1:N probe, for about 15 seconds: no crash, every accepted value
 *	  round-trips through the text form, and no error message ever carries
 *	  a value (every number the fuzzer writes contains the digits 31415,
 *	  which no message may show; messages stay short).
 */
#include <time.h>

#include "gallery_util.h"

#define FUZZ_SECONDS	15
#define MARK			"31415"
#define MAX_TEXT		6000

static long n_inputs = 0,
			n_accepted = 0,
			n_refused = 0;

/* Append a random piece of text form (numbers carry the mark). */
static int
Piece(char *out, int room)
{
	static const char *const fixed[] = {"[", "]", ",", " ", "nan", "inf", "-Infinity", "e", "-",
	"+", ".", "\t", "]]", "[[", "0x1p3", "1e999" MARK, "1e-999" MARK, "\xc3\xa9", "\xff", "'"};
	int			r = (int) (GuUniform() * 10);

	if (room < 40)
		return 0;
	if (r < 6)
		return snprintf(out, room, "%s%.*f" MARK "%s", GuUniform() < 0.3 ? "-" : "",
						(int) (GuUniform() * 4), GuUniform() * 100,
						GuUniform() < 0.2 ? "e7" : "");
	return snprintf(out, room, "%s", fixed[(int) (GuUniform() * (sizeof(fixed) / sizeof(fixed[0])))]);
}

/* A random text input: mostly near-valid "[n, n, ...]", sometimes broken. */
static int
RandomText(char *buf)
{
	int			n = 0,
				parts = 1 + (int) (GuUniform() * GuUniform() * 200);

	if (GuUniform() < 0.7)
		buf[n++] = '[';
	for (int i = 0; i < parts && n < MAX_TEXT - 64; i++)
	{
		if (GuUniform() < 0.8)
		{
			n += snprintf(buf + n, MAX_TEXT - n, "%.*f" MARK, (int) (GuUniform() * 3),
						  GuUniform() * 9);
			if (i + 1 < parts)
				buf[n++] = ',';
		}
		else
			n += Piece(buf + n, MAX_TEXT - n);
	}
	if (GuUniform() < 0.7)
		buf[n++] = ']';
	if (GuUniform() < 0.1 && n > 0)
		n = (int) (GuUniform() * n);	/* truncate */
	if (GuUniform() < 0.05 && n > 2)
		buf[(int) (GuUniform() * n)] = '\0';	/* an embedded NUL */
	buf[n] = '\0';
	return n;
}

/* A random BLOB input: a valid form of mark-bearing values, then mutated. */
static int
RandomBlob(unsigned char *buf)
{
	int			dim = 1 + (int) (GuUniform() * GuUniform() * 64);
	float		x[64];
	int			len;

	for (int i = 0; i < dim; i++)
		x[i] = (float) (31415.0 + GuNormal());
	len = GuBlob(x, dim, buf);
	for (int m = (int) (GuUniform() * 4); m > 0; m--)
	{
		int			what = (int) (GuUniform() * 6),
					at = (int) (GuUniform() * len);

		if (what == 0)
			buf[at] ^= (unsigned char) (1 << (int) (GuUniform() * 8));
		else if (what == 1)
			len = at;			/* truncate */
		else if (what == 2 && len < 8 + 4 * 64)
			buf[len++] = (unsigned char) (GuUniform() * 256);	/* overlong */
		else if (what == 3 && len >= 12)
			memcpy(buf + 8 + 4 * (int) (GuUniform() * ((len - 8) / 4)), "\x00\x00\xc0\x7f", 4);	/* NaN */
		else if (what == 4 && len >= 12)
			memcpy(buf + 8 + 4 * (int) (GuUniform() * ((len - 8) / 4)), "\x00\x00\x80\xff", 4);	/* -Inf */
		else if (len >= 8)
			buf[(int) (GuUniform() * 8)] = (unsigned char) (GuUniform() * 256);	/* header */
	}
	return len;
}

/* Run one statement with the input bound as ?1 (and a fixed valid ?2). */
static void
RunOne(sqlite3 *db, sqlite3_stmt *st, const void *in, int len, int is_text)
{
	int			rc;

	sqlite3_reset(st);
	if (is_text)
		sqlite3_bind_text(st, 1, in, len, SQLITE_STATIC);
	else
		sqlite3_bind_blob(st, 1, in, len, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_text(st, 2, "[1,2,3,4]", -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	n_inputs++;
	if (rc == SQLITE_DONE)
	{
		n_accepted++;
		return;
	}
	n_refused++;
	{
		const char *msg = sqlite3_errmsg(db);

		if (strstr(msg, MARK) != NULL || strlen(msg) > 200)
		{
			fprintf(stderr, "FAIL: message carries a value or is too long: %s\n", msg);
			exit(1);
		}
	}
}

/* An accepted input round-trips: frt_embedding(frt_embedding_text(x)) = frt_embedding(x). */
static void
RoundTrip(sqlite3_stmt *st, const void *in, int len, int is_text)
{
	sqlite3_reset(st);
	if (is_text)
		sqlite3_bind_text(st, 1, in, len, SQLITE_STATIC);
	else
		sqlite3_bind_blob(st, 1, in, len, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL &&
		sqlite3_column_int(st, 0) != 1)
	{
		fprintf(stderr, "FAIL: an accepted value does not round-trip\n");
		exit(1);
	}
}

int
main(void)
{
	static const char *const sqls[] = {
		"SELECT frt_embedding(?1)",
		"SELECT frt_embedding_text(?1)",
		"SELECT frt_dims(?1)",
		"SELECT frt_l2_distance(?1, ?2)",
		"SELECT frt_ip_distance(?2, ?1)",
		"SELECT frt_cosine_distance(?1, ?2)",
		"SELECT frt_cosine_similarity(?1, ?1)",
		"SELECT rowid FROM g WHERE embedding MATCH ?1 AND k = 3",
		"INSERT INTO g(subject, purpose, embedding) VALUES ('s', 'p', ?1)",
		"SELECT frt_gallery_verify('g', 1, ?1)",
	};
	enum
	{
		NSQL = sizeof(sqls) / sizeof(sqls[0])
	};
	sqlite3    *db = GuOpen("fuzz.db");
	sqlite3_stmt *st[NSQL],
			   *rt;
	static char text[MAX_TEXT + 64];
	static unsigned char blob[8 + 4 * 64 + 8];
	time_t		start = time(NULL);

	gu_rng = 20240601;
	GuExec(db, "CREATE VIRTUAL TABLE g USING frt_gallery(dim=4, metric=cosine);"
		   "INSERT INTO g(subject, purpose, embedding) VALUES ('a', 'p', '[1,2,3,4]')");
	for (int i = 0; i < NSQL; i++)
		st[i] = GuPrepare(db, sqls[i]);
	rt = GuPrepare(db, "SELECT frt_embedding(frt_embedding_text(?1)) = frt_embedding(?1)");
	while (time(NULL) - start < FUZZ_SECONDS)
	{
		for (int j = 0; j < 200; j++)
		{
			int			is_text = GuUniform() < 0.5;
			int			len = is_text ? RandomText(text) : RandomBlob(blob);
			const void *in = is_text ? (const void *) text : (const void *) blob;

			for (int i = 0; i < NSQL; i++)
				RunOne(db, st[i], in, len, is_text);
			RoundTrip(rt, in, len, is_text);
		}
		GuExec(db, "DELETE FROM g WHERE rowid > 1");
	}
	for (int i = 0; i < NSQL; i++)
		sqlite3_finalize(st[i]);
	sqlite3_finalize(rt);
	sqlite3_close(db);
	printf("ok: %ld calls (%ld accepted, %ld refused), no crash, no value in any message\n",
		   n_inputs, n_accepted, n_refused);
	return n_accepted > 0 && n_refused > 0 ? 0 : 1;
}

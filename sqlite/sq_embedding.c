/*-------------------------------------------------------------------------
 *
 * sq_embedding.c
 *	  Embeddings and distances as SQL functions of the SQLite edition:
 *	  frt_embedding, frt_embedding_text, frt_dims and the four distances,
 *	  computed with FrtDistance() exactly as the server's operators do.
 *
 * An embedding argument is its text form "[x1,...]" or its BLOB form
 * (frt_embtext.h), validated by src/common/embtext.c; NULL in gives NULL
 * out.  Errors name the function, the argument and what is wrong, never a
 * value.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "sq_gallery.h"
#include "frt_embtext.h"
#include "frt_kernels.h"

/* Which distance or similarity a function computes (its user data). */
#define EMB_FN_L2				FRT_METRIC_L2
#define EMB_FN_IP				FRT_METRIC_IP
#define EMB_FN_COSINE			FRT_METRIC_COSINE
#define EMB_FN_SIMILARITY		100

/* Zero memory that held biometric data; explicit_bzero is never optimized away. */
void
FrtSqWipe(void *p, size_t n)
{
	explicit_bzero(p, n);
}

/* The metric a name stands for (cosine, l2, ip), or 0. */
int
FrtSqMetricFromName(const char *name)
{
	if (sqlite3_stricmp(name, "cosine") == 0)
		return FRT_METRIC_COSINE;
	if (sqlite3_stricmp(name, "l2") == 0)
		return FRT_METRIC_L2;
	if (sqlite3_stricmp(name, "ip") == 0)
		return FRT_METRIC_IP;
	return 0;
}

/* The name of a metric. */
const char *
FrtSqMetricName(int metric)
{
	switch (metric)
	{
		case FRT_METRIC_L2:
			return "l2";
		case FRT_METRIC_IP:
			return "ip";
		default:
			return "cosine";
	}
}

/* A refusal's message: what is wrong and where, never the value itself. */
static char *
EmbErrorMessage(const FrtEmbResult *res)
{
	switch (res->error)
	{
		case FRT_EMB_SYNTAX:
			return sqlite3_mprintf("%s: %s at character %ld",
								   FrtEmbErrorText(res->error), res->what, res->pos + 1);
		case FRT_EMB_NAN:
		case FRT_EMB_INF:
		case FRT_EMB_RANGE:
			return sqlite3_mprintf("%s (component %d)",
								   FrtEmbErrorText(res->error), res->component);
		case FRT_EMB_TOO_MANY:
			return sqlite3_mprintf("%s (at most %d)", FrtEmbErrorText(res->error),
								   FRT_MAX_DIM);
		default:
			return sqlite3_mprintf("%s", FrtEmbErrorText(res->error));
	}
}

/*
 * Read an embedding from an SQL value (text or BLOB form) into out (room
 * for FRT_MAX_DIM floats); SQLITE_OK, or SQLITE_ERROR with *errmsg set
 * (sqlite3_malloc'd).  The caller handles NULL before calling.
 */
int
FrtSqEmbFromValue(sqlite3_value *v, float *out, int *dim, char **errmsg)
{
	FrtEmbResult res;
	FrtEmbError e;

	switch (sqlite3_value_type(v))
	{
		case SQLITE_TEXT:
			{
				int			len = sqlite3_value_bytes(v);
				const char *s;

				if (len > FRT_TEXT_MAX_LEN)
				{
					memset(&res, 0, sizeof(res));
					res.error = e = FRT_EMB_TOO_LONG;
					break;
				}
				s = (const char *) sqlite3_value_text(v);
				if (s == NULL)
				{
					*errmsg = sqlite3_mprintf("out of memory");
					return SQLITE_NOMEM;
				}
				if ((int) strlen(s) != len)
				{
					memset(&res, 0, sizeof(res));
					res.error = e = FRT_EMB_SYNTAX;
					res.what = "unexpected NUL character";
					res.pos = (long) strlen(s);
					break;
				}
				e = FrtEmbParseText(s, out, FRT_MAX_DIM, &res);
				break;
			}
		case SQLITE_BLOB:
			e = FrtEmbDecodeBlob(sqlite3_value_blob(v), (size_t) sqlite3_value_bytes(v),
								 out, FRT_MAX_DIM, &res);
			break;
		default:
			*errmsg = sqlite3_mprintf("an embedding must be text \"[x1,...]\" or an frt BLOB");
			return SQLITE_MISMATCH;
	}
	if (e != FRT_EMB_OK)
	{
		*errmsg = EmbErrorMessage(&res);
		return SQLITE_ERROR;
	}
	*dim = res.dim;
	return SQLITE_OK;
}

/*
 * Read argument i of a function call into out; false after reporting the
 * error as "function: argument i: why".
 */
static bool
EmbArg(sqlite3_context *ctx, const char *fname, sqlite3_value **argv, int i,
	   float *out, int *dim)
{
	char	   *why = NULL;
	int			rc = FrtSqEmbFromValue(argv[i], out, dim, &why);

	if (rc == SQLITE_OK)
		return true;
	if (rc == SQLITE_NOMEM)
		sqlite3_result_error_nomem(ctx);
	else
	{
		char	   *msg = sqlite3_mprintf("%s: argument %d: %s", fname, i + 1,
										  why ? why : "invalid embedding");

		sqlite3_result_error(ctx, msg ? msg : "invalid embedding", -1);
		sqlite3_free(msg);
	}
	sqlite3_free(why);
	return false;
}

/* frt_embedding(x): the validated BLOB form of a text or BLOB embedding. */
static void
EmbToBlobFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	float		x[FRT_MAX_DIM];
	int			dim;
	unsigned char *blob;

	(void) argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
		return;
	if (!EmbArg(ctx, "frt_embedding", argv, 0, x, &dim))
		return;
	blob = sqlite3_malloc64(FRT_EMBBLOB_SIZE(dim));
	if (blob == NULL)
		sqlite3_result_error_nomem(ctx);
	else
	{
		FrtEmbEncodeBlob(x, dim, blob);
		sqlite3_result_blob64(ctx, blob, FRT_EMBBLOB_SIZE(dim), sqlite3_free);
	}
	FrtSqWipe(x, sizeof(float) * dim);
}

/* frt_embedding_text(x): the text form, round-trip exact. */
static void
EmbToTextFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	float		x[FRT_MAX_DIM];
	int			dim;
	char	   *buf;
	size_t		len;

	(void) argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
		return;
	if (!EmbArg(ctx, "frt_embedding_text", argv, 0, x, &dim))
		return;
	buf = sqlite3_malloc64((size_t) dim * FRT_EMBTEXT_FLOAT_LEN + 3);
	if (buf == NULL)
		sqlite3_result_error_nomem(ctx);
	else
	{
		len = FrtEmbFormatText(x, dim, buf);
		sqlite3_result_text64(ctx, buf, len, sqlite3_free, SQLITE_UTF8);
	}
	FrtSqWipe(x, sizeof(float) * dim);
}

/* frt_dims(x): the dimension of an embedding. */
static void
EmbDimsFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	float		x[FRT_MAX_DIM];
	int			dim;

	(void) argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
		return;
	if (!EmbArg(ctx, "frt_dims", argv, 0, x, &dim))
		return;
	sqlite3_result_int(ctx, dim);
	FrtSqWipe(x, sizeof(float) * dim);
}

/* The name a distance function was registered under, for its messages. */
static const char *
EmbDistanceName(int which)
{
	switch (which)
	{
		case EMB_FN_L2:
			return "frt_l2_distance";
		case EMB_FN_IP:
			return "frt_ip_distance";
		case EMB_FN_COSINE:
			return "frt_cosine_distance";
		default:
			return "frt_cosine_similarity";
	}
}

/*
 * The distances and the cosine similarity of two embeddings of one
 * dimension; a cosine of the zero vector is NaN, which SQLite returns as NULL.
 */
static void
EmbDistanceFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	int			which = (int) (intptr_t) sqlite3_user_data(ctx);
	const char *fname = EmbDistanceName(which);
	float		a[FRT_MAX_DIM],
				b[FRT_MAX_DIM];
	int			da = 0,
				db = 0;

	(void) argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL ||
		sqlite3_value_type(argv[1]) == SQLITE_NULL)
		return;
	if (EmbArg(ctx, fname, argv, 0, a, &da) && EmbArg(ctx, fname, argv, 1, b, &db))
	{
		if (da != db)
		{
			char	   *msg = sqlite3_mprintf("%s: different embedding dimensions %d and %d",
											  fname, da, db);

			sqlite3_result_error(ctx, msg ? msg : "different embedding dimensions", -1);
			sqlite3_free(msg);
		}
		else if (which == EMB_FN_SIMILARITY)
		{
			float		dot,
						na,
						nb;

			frt_kernels->dot_norms(a, b, da, &dot, &na, &nb);
			sqlite3_result_double(ctx, FrtCosineFromParts(dot, na, nb));
		}
		else
			sqlite3_result_double(ctx, FrtDistance(a, b, da, which));
	}
	FrtSqWipe(a, sizeof(float) * da);
	FrtSqWipe(b, sizeof(float) * db);
}

/* Register the embedding and distance functions; *rc keeps the first error. */
void
FrtSqEmbRegisterFunctions(sqlite3 *db, int *rc)
{
	static const struct
	{
		const char *name;
		int			nargs;
		int			which;
		void		(*fn) (sqlite3_context *, int, sqlite3_value **);
	}			fns[] = {
		{"frt_embedding", 1, 0, EmbToBlobFunc},
		{"frt_embedding_text", 1, 0, EmbToTextFunc},
		{"frt_dims", 1, 0, EmbDimsFunc},
		{"frt_l2_distance", 2, EMB_FN_L2, EmbDistanceFunc},
		{"frt_ip_distance", 2, EMB_FN_IP, EmbDistanceFunc},
		{"frt_cosine_distance", 2, EMB_FN_COSINE, EmbDistanceFunc},
		{"frt_cosine_similarity", 2, EMB_FN_SIMILARITY, EmbDistanceFunc},
	};
	const int	flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;

	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]) && *rc == SQLITE_OK; i++)
		*rc = sqlite3_create_function_v2(db, fns[i].name, fns[i].nargs, flags,
										 (void *) (intptr_t) fns[i].which,
										 fns[i].fn, NULL, NULL, NULL);
}

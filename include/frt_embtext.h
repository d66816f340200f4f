/*-------------------------------------------------------------------------
 *
 * frt_embtext.h
 *	  The external forms of an embedding, validated the same way by both
 *	  editions: the text form [x1,x2,...] and the binary BLOB form of the
 *	  SQLite edition.  PostgreSQL-free (src/common/embtext.c); callers turn
 *	  a result into their own error.  No error ever carries an input value.
 *
 * BLOB form (little-endian): bytes 0..3 "FRTE", byte 4 version (1), byte 5
 * flags (0), bytes 6..7 the dimension (uint16), then dim float32 values;
 * the length is exactly FRT_EMBBLOB_SIZE(dim).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FRT_EMBTEXT_H
#define FRT_EMBTEXT_H

#include "frt_common.h"

#define FRT_EMBBLOB_MAGIC		"FRTE"
#define FRT_EMBBLOB_VERSION		1
#define FRT_EMBBLOB_HEADER		8
#define FRT_EMBBLOB_SIZE(dim)	(FRT_EMBBLOB_HEADER + 4 * (size_t) (dim))
#define FRT_EMBTEXT_FLOAT_LEN	16		/* longest "%.9g" of a float, and a comma */

/* Why an external form was refused (FRT_EMB_OK: it was not). */
typedef enum FrtEmbError
{
	FRT_EMB_OK = 0,
	FRT_EMB_TOO_LONG,			/* text longer than FRT_TEXT_MAX_LEN */
	FRT_EMB_SYNTAX,				/* malformed text: 'what' at 'pos' */
	FRT_EMB_TOO_FEW,			/* fewer than FRT_MIN_DIM components */
	FRT_EMB_TOO_MANY,			/* more than FRT_MAX_DIM (or the caller's max) */
	FRT_EMB_NAN,				/* component 'component' is NaN */
	FRT_EMB_INF,				/* component 'component' is infinite */
	FRT_EMB_RANGE,				/* component 'component' overflows or underflows float */
	FRT_EMB_BAD_HEADER,			/* BLOB: wrong magic, version or flags */
	FRT_EMB_BAD_LENGTH			/* BLOB: length does not match the dimension */
} FrtEmbError;

/* A refusal's facts, for the caller's message (never the input itself). */
typedef struct FrtEmbResult
{
	FrtEmbError error;
	const char *what;			/* FRT_EMB_SYNTAX: what was expected */
	long		pos;			/* FRT_EMB_SYNTAX: 0-based character offset */
	int			component;		/* NAN/INF/RANGE: 1-based component number */
	int			dim;			/* the dimension read (when known) */
} FrtEmbResult;

/* Why v may not be a component: FRT_EMB_OK, FRT_EMB_NAN or FRT_EMB_INF. */
extern FrtEmbError FrtEmbCheckValue(float v);

/*
 * Parse the text form (NUL-terminated) into out, at most maxdim values;
 * returns the error (res filled) or FRT_EMB_OK with res->dim set.
 */
extern FrtEmbError FrtEmbParseText(const char *str, float *out, int maxdim,
								   FrtEmbResult *res);

/* Decode a BLOB into out (at most maxdim values); as FrtEmbParseText. */
extern FrtEmbError FrtEmbDecodeBlob(const void *blob, size_t len, float *out, int maxdim,
									FrtEmbResult *res);

/* Encode x as a BLOB into out (FRT_EMBBLOB_SIZE(dim) bytes). */
extern void FrtEmbEncodeBlob(const float *x, int dim, void *out);

/*
 * Write the text form of x into buf (room for dim * FRT_EMBTEXT_FLOAT_LEN
 * + 3 bytes): round-trip exact ("%.9g"); returns its length.
 */
extern size_t FrtEmbFormatText(const float *x, int dim, char *buf);

/* A short English description of an error (no values), for messages. */
extern const char *FrtEmbErrorText(FrtEmbError e);

#endif							/* FRT_EMBTEXT_H */

/*-------------------------------------------------------------------------
 *
 * embtext.c
 *	  The text form [x1,x2,...] and the SQLite edition's BLOB form of an
 *	  embedding: parsed, decoded and validated the same way by both editions
 *	  (PostgreSQL-free; see frt_embtext.h).
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frt_embtext.h"

/* Why v may not be a component. */
FrtEmbError
FrtEmbCheckValue(float v)
{
	if (isnan(v))
		return FRT_EMB_NAN;
	if (isinf(v))
		return FRT_EMB_INF;
	return FRT_EMB_OK;
}

/* Fill res for an error and return it. */
static FrtEmbError
EmbFail(FrtEmbResult *res, FrtEmbError e, const char *what, long pos, int component)
{
	res->error = e;
	res->what = what;
	res->pos = pos;
	res->component = component;
	return e;
}

/* Skip white space. */
static const char *
EmbSkipSpace(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/*
 * Parse the text form.  strtof reads the C locale's decimal point (the
 * server runs with LC_NUMERIC C; a host that changes LC_NUMERIC changes it).
 */
FrtEmbError
FrtEmbParseText(const char *str, float *out, int maxdim, FrtEmbResult *res)
{
	const char *p;
	int			dim = 0;

	memset(res, 0, sizeof(*res));
	if (maxdim > FRT_MAX_DIM)
		maxdim = FRT_MAX_DIM;
	if (strnlen(str, FRT_TEXT_MAX_LEN + 1) > FRT_TEXT_MAX_LEN)
		return EmbFail(res, FRT_EMB_TOO_LONG, NULL, 0, 0);
	p = EmbSkipSpace(str);
	if (*p != '[')
		return EmbFail(res, FRT_EMB_SYNTAX, "expected \"[\"", p - str, 0);
	p = EmbSkipSpace(p + 1);
	if (*p == ']')
		return EmbFail(res, FRT_EMB_TOO_FEW, NULL, 0, 0);
	for (;;)
	{
		char	   *end;
		float		v;
		FrtEmbError e;

		if (dim >= maxdim)
			return EmbFail(res, FRT_EMB_TOO_MANY, NULL, 0, 0);
		if (*p == '\0')
			return EmbFail(res, FRT_EMB_SYNTAX, "unexpected end of input", p - str, 0);
		errno = 0;
		v = strtof(p, &end);
		if (end == p)
			return EmbFail(res, FRT_EMB_SYNTAX, "expected a number", p - str, 0);
		if (isnan(v) || (isinf(v) && errno != ERANGE))
		{
			e = FrtEmbCheckValue(v);
			return EmbFail(res, e, NULL, 0, dim + 1);
		}
		if (errno == ERANGE && (isinf(v) || v == 0.0f))
			return EmbFail(res, FRT_EMB_RANGE, NULL, 0, dim + 1);
		out[dim++] = v;
		p = EmbSkipSpace(end);
		if (*p == ',')
		{
			p = EmbSkipSpace(p + 1);
			continue;
		}
		if (*p == ']')
			break;
		if (*p == '\0')
			return EmbFail(res, FRT_EMB_SYNTAX, "unexpected end of input", p - str, 0);
		return EmbFail(res, FRT_EMB_SYNTAX, "expected \",\" or \"]\"", p - str, 0);
	}
	p = EmbSkipSpace(p + 1);
	if (*p != '\0')
		return EmbFail(res, FRT_EMB_SYNTAX, "junk after closing \"]\"", p - str, 0);
	res->dim = dim;
	return FRT_EMB_OK;
}

/* Decode a BLOB: header, exact length, then every component checked. */
FrtEmbError
FrtEmbDecodeBlob(const void *blob, size_t len, float *out, int maxdim, FrtEmbResult *res)
{
	const unsigned char *b = blob;
	int			dim;

	memset(res, 0, sizeof(*res));
	if (maxdim > FRT_MAX_DIM)
		maxdim = FRT_MAX_DIM;
	if (len < FRT_EMBBLOB_HEADER)
		return EmbFail(res, FRT_EMB_BAD_LENGTH, NULL, 0, 0);
	if (memcmp(b, FRT_EMBBLOB_MAGIC, 4) != 0 || b[4] != FRT_EMBBLOB_VERSION || b[5] != 0)
		return EmbFail(res, FRT_EMB_BAD_HEADER, NULL, 0, 0);
	dim = b[6] | (b[7] << 8);
	res->dim = dim;
	if (dim < FRT_MIN_DIM)
		return EmbFail(res, FRT_EMB_TOO_FEW, NULL, 0, 0);
	if (dim > maxdim)
		return EmbFail(res, FRT_EMB_TOO_MANY, NULL, 0, 0);
	if (len != FRT_EMBBLOB_SIZE(dim))
		return EmbFail(res, FRT_EMB_BAD_LENGTH, NULL, 0, 0);
	for (int i = 0; i < dim; i++)
	{
		const unsigned char *q = b + FRT_EMBBLOB_HEADER + 4 * (size_t) i;
		uint32_t	u = (uint32_t) q[0] | ((uint32_t) q[1] << 8) |
			((uint32_t) q[2] << 16) | ((uint32_t) q[3] << 24);
		float		f;
		FrtEmbError e;

		memcpy(&f, &u, sizeof(f));
		e = FrtEmbCheckValue(f);
		if (e != FRT_EMB_OK)
			return EmbFail(res, e, NULL, 0, i + 1);
		out[i] = f;
	}
	return FRT_EMB_OK;
}

/* Encode x as a BLOB. */
void
FrtEmbEncodeBlob(const float *x, int dim, void *out)
{
	unsigned char *b = out;

	memcpy(b, FRT_EMBBLOB_MAGIC, 4);
	b[4] = FRT_EMBBLOB_VERSION;
	b[5] = 0;
	b[6] = (unsigned char) (dim & 0xff);
	b[7] = (unsigned char) ((dim >> 8) & 0xff);
	for (int i = 0; i < dim; i++)
	{
		uint32_t	u;
		unsigned char *q = b + FRT_EMBBLOB_HEADER + 4 * (size_t) i;

		memcpy(&u, &x[i], sizeof(u));
		q[0] = (unsigned char) u;
		q[1] = (unsigned char) (u >> 8);
		q[2] = (unsigned char) (u >> 16);
		q[3] = (unsigned char) (u >> 24);
	}
}

/* Write the text form of x: "%.9g" reads back to the same float. */
size_t
FrtEmbFormatText(const float *x, int dim, char *buf)
{
	char	   *p = buf;

	*p++ = '[';
	for (int i = 0; i < dim; i++)
	{
		if (i > 0)
			*p++ = ',';
		p += snprintf(p, FRT_EMBTEXT_FLOAT_LEN, "%.9g", (double) x[i]);
	}
	*p++ = ']';
	*p = '\0';
	return (size_t) (p - buf);
}

/* A short English description of an error. */
const char *
FrtEmbErrorText(FrtEmbError e)
{
	switch (e)
	{
		case FRT_EMB_OK:
			return "no error";
		case FRT_EMB_TOO_LONG:
			return "text form is too long";
		case FRT_EMB_SYNTAX:
			return "invalid input syntax";
		case FRT_EMB_TOO_FEW:
			return "must have at least 1 dimension";
		case FRT_EMB_TOO_MANY:
			return "too many dimensions";
		case FRT_EMB_NAN:
			return "NaN not allowed";
		case FRT_EMB_INF:
			return "infinite value not allowed";
		case FRT_EMB_RANGE:
			return "component out of range for type real";
		case FRT_EMB_BAD_HEADER:
			return "not an frt embedding (bad header)";
		case FRT_EMB_BAD_LENGTH:
			return "length does not match the dimension (truncated or overlong)";
	}
	return "invalid embedding";
}

/*
 * gallery_util.h
 *	  What the gallery's C harnesses share: opening a database with the
 *	  extension loaded, a seeded random generator, face-like embeddings
 *	  (identities in clusters and a shared low-rank subspace, samples with
 *	  capture noise, unit length) and the embedding BLOB form.
 */
#ifndef GALLERY_UTIL_H
#define GALLERY_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#define GU_CLUSTERS		8		/* demographic clusters */
#define GU_RANK			16		/* shared identity subspace */
#define GU_MAX_DIM		1024

/* Stop the harness with a message. */
static inline void
GuDie(const char *what, const char *detail)
{
	fprintf(stderr, "FAIL: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(1);
}

/* Open (create) a database file with the extension loaded. */
static inline sqlite3 *
GuOpen(const char *path)
{
	sqlite3    *db;
	char	   *err = NULL;
	const char *lib = getenv("FRT_SQLITE_LIB");

	if (lib == NULL)
		GuDie("FRT_SQLITE_LIB is not set", NULL);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		GuDie("open", sqlite3_errmsg(db));
	sqlite3_enable_load_extension(db, 1);
	if (sqlite3_load_extension(db, lib, NULL, &err) != SQLITE_OK)
		GuDie("load_extension", err);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

/* Run SQL that returns nothing. */
static inline void
GuExec(sqlite3 *db, const char *sql)
{
	char	   *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		GuDie(sql, err);
}

/* Prepare a statement or stop. */
static inline sqlite3_stmt *
GuPrepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		GuDie(sql, sqlite3_errmsg(db));
	return st;
}

/* xorshift64* state. */
static uint64_t gu_rng = 0x9E3779B97F4A7C15ULL;

/* A uniform number in [0, 1). */
static inline double
GuUniform(void)
{
	gu_rng ^= gu_rng >> 12;
	gu_rng ^= gu_rng << 25;
	gu_rng ^= gu_rng >> 27;
	return (double) ((gu_rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* A standard normal number (Box-Muller). */
static inline double
GuNormal(void)
{
	double		u = GuUniform() + 1e-300,
				v = GuUniform();

	return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

/* The model: cluster means and the shared subspace, drawn once. */
typedef struct GuModel
{
	int			dim;
	float		cluster[GU_CLUSTERS][GU_MAX_DIM];
	float		basis[GU_RANK][GU_MAX_DIM];
} GuModel;

/* Draw a model of a dimension. */
static inline void
GuModelInit(GuModel *m, int dim, uint64_t seed)
{
	gu_rng = seed * 0x9E3779B97F4A7C15ULL + 1;
	m->dim = dim;
	for (int c = 0; c < GU_CLUSTERS; c++)
		for (int i = 0; i < dim; i++)
			m->cluster[c][i] = (float) (GuNormal() / sqrt(dim));
	for (int r = 0; r < GU_RANK; r++)
		for (int i = 0; i < dim; i++)
			m->basis[r][i] = (float) (GuNormal() / sqrt(dim));
}

/* Normalize to unit length. */
static inline void
GuUnit(float *x, int dim)
{
	double		n = 0.0;

	for (int i = 0; i < dim; i++)
		n += (double) x[i] * x[i];
	n = sqrt(n);
	for (int i = 0; i < dim; i++)
		x[i] = (float) (x[i] / n);
}

/* An identity's centre: a cluster mean, a subspace point, an isotropic part. */
static inline void
GuIdentity(const GuModel *m, float *centre)
{
	int			c = (int) (GuUniform() * GuUniform() * GU_CLUSTERS);
	double		w[GU_RANK];

	for (int r = 0; r < GU_RANK; r++)
		w[r] = GuNormal() * sqrt(0.7 / GU_RANK);
	for (int i = 0; i < m->dim; i++)
	{
		double		v = 0.3 * m->cluster[c][i] + 0.45 * GuNormal() / sqrt(m->dim);

		for (int r = 0; r < GU_RANK; r++)
			v += w[r] * m->basis[r][i];
		centre[i] = (float) v;
	}
	GuUnit(centre, m->dim);
}

/* A sample of an identity: the centre plus capture noise, unit length. */
static inline void
GuSample(const GuModel *m, const float *centre, float *x)
{
	double		noise = 0.45 + 0.35 * GuUniform();

	for (int i = 0; i < m->dim; i++)
		x[i] = (float) (centre[i] + noise * GuNormal() / sqrt(m->dim));
	GuUnit(x, m->dim);
}

/* The BLOB form of an embedding (frt_embtext.h): "FRTE", 1, 0, dim LE, floats LE. */
static inline int
GuBlob(const float *x, int dim, unsigned char *out)
{
	memcpy(out, "FRTE", 4);
	out[4] = 1;
	out[5] = 0;
	out[6] = (unsigned char) (dim & 0xff);
	out[7] = (unsigned char) (dim >> 8);
	memcpy(out + 8, x, sizeof(float) * dim);	/* little-endian hosts */
	return 8 + 4 * dim;
}

#endif							/* GALLERY_UTIL_H */

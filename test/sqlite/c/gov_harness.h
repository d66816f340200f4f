/*
 * gov_harness.h
 *	  Helpers of the governance C harnesses: a connection with the
 *	  extension loaded on a VFS whose clock the test moves (the extension
 *	  takes its time from the connection's VFS, as SQLite's 'now' does),
 *	  statements that must succeed or fail with a given prefix, and byte
 *	  scans of the database, its journal and its WAL.
 */
#ifndef GOV_HARNESS_H
#define GOV_HARNESS_H

#define _GNU_SOURCE
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sqlite3_int64 gh_clock_shift_ms = 0;	/* added to the real clock */
static sqlite3_vfs gh_vfs;
static int	gh_failures = 0;

/* The moved clock. */
static inline int
GhCurrentTimeInt64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	int			rc = sqlite3_vfs_find(NULL)->xCurrentTimeInt64(vfs, out);

	*out += gh_clock_shift_ms;
	return rc;
}

/* Register the clock VFS (the default VFS with a moved clock). */
static inline void
GhVfsInit(void)
{
	if (gh_vfs.zName != NULL)
		return;
	gh_vfs = *sqlite3_vfs_find(NULL);
	gh_vfs.zName = "gh_clock";
	gh_vfs.xCurrentTimeInt64 = GhCurrentTimeInt64;
	sqlite3_vfs_register(&gh_vfs, 0);
}

/* Move the clock forward. */
static inline void
GhAdvance(double seconds)
{
	gh_clock_shift_ms += (sqlite3_int64) (seconds * 1000);
}

/* A failed check: say it, count it. */
static inline void
GhFail(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	fprintf(stdout, "FAIL: ");
	vfprintf(stdout, fmt, ap);
	fprintf(stdout, "\n");
	va_end(ap);
	gh_failures++;
}

/* Open path on the clock VFS; load the extension unless raw. */
static inline sqlite3 *
GhOpen(const char *path, int raw)
{
	sqlite3    *db;
	char	   *err = NULL;

	GhVfsInit();
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, "gh_clock") != SQLITE_OK)
	{
		printf("cannot open %s\n", path);
		exit(2);
	}
	if (!raw)
	{
		sqlite3_enable_load_extension(db, 1);
		if (sqlite3_load_extension(db, getenv("FRT_SQLITE_LIB"), NULL, &err) != SQLITE_OK)
		{
			printf("cannot load the extension: %s\n", err ? err : "?");
			exit(2);
		}
		sqlite3_enable_load_extension(db, 0);
	}
	return db;
}

/* Run sql; expect success (want NULL) or an error starting with want. */
static inline void
GhExec(sqlite3 *db, const char *want, const char *sql)
{
	char	   *err = NULL;
	int			rc = sqlite3_exec(db, sql, NULL, NULL, &err);

	if (want == NULL && rc != SQLITE_OK)
		GhFail("%s: %s", sql, err);
	else if (want != NULL && (rc == SQLITE_OK || err == NULL || strncmp(err, want, strlen(want)) != 0))
		GhFail("%s: expected an error '%s...', got %s", sql, want, rc == SQLITE_OK ? "success" : err);
	sqlite3_free(err);
}

/* The first column of the first row of sql as an integer (-1: none or error). */
static inline sqlite3_int64
GhInt(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	sqlite3_int64 v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
	{
		GhFail("%s: %s", sql, sqlite3_errmsg(db));
		return -1;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	else
		GhFail("%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return v;
}

/* The first column of the first row of sql as text, copied into buf. */
static inline const char *
GhText(sqlite3 *db, const char *sql, char *buf, size_t size)
{
	sqlite3_stmt *st;

	buf[0] = '\0';
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
		sqlite3_column_text(st, 0) != NULL)
		snprintf(buf, size, "%s", (const char *) sqlite3_column_text(st, 0));
	else
		snprintf(buf, size, "error: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return buf;
}

/* A whole file (NULL, *len 0 if absent). */
static inline unsigned char *
GhRead(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	unsigned char *buf;

	*len = 0;
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	*len = (size_t) ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(*len + 1);
	if (fread(buf, 1, *len, f) != *len)
		*len = 0;
	fclose(f);
	return buf;
}

/*
 * Where any trace of a vector of dim floats is in the database, its journal
 * and its WAL: the whole float32 array, or any of its 16-byte runs at a
 * 4-byte offset.  Returns how many (file, pattern) hits; names them if say.
 */
static inline int
GhTraces(const char *dbpath, const float *x, int dim, int say)
{
	static const char *const suffix[] = {"", "-journal", "-wal", "-shm"};
	const unsigned char *bytes = (const unsigned char *) x;
	size_t		n = (size_t) dim * 4;
	int			hits = 0;

	for (size_t s = 0; s < sizeof(suffix) / sizeof(suffix[0]); s++)
	{
		char		path[4096];
		size_t		len;
		unsigned char *buf;

		snprintf(path, sizeof(path), "%s%s", dbpath, suffix[s]);
		buf = GhRead(path, &len);
		if (buf == NULL)
			continue;
		if (memmem(buf, len, bytes, n) != NULL)
		{
			hits++;
			if (say)
				printf("  the whole vector is in %s\n", path);
		}
		for (size_t off = 0; off + 16 <= n; off += 4)
			if (memmem(buf, len, bytes + off, 16) != NULL)
			{
				hits++;
				if (say)
					printf("  16 bytes at offset %zu of the vector are in %s\n", off, path);
				break;
			}
		free(buf);
	}
	return hits;
}

/* A vector of distinct, random-looking floats (no zero bytes to match by chance). */
static inline void
GhVector(float *x, int dim, unsigned int seed)
{
	for (int i = 0; i < dim; i++)
	{
		seed = seed * 1103515245u + 12345u;
		x[i] = 0.1f + (float) ((seed >> 8) & 0xFFFF) / 65536.0f + (float) i * 1e-3f;
	}
}

/* The text form of a vector for SQL. */
static inline char *
GhVectorText(const float *x, int dim)
{
	size_t		size = (size_t) dim * 20 + 3;
	char	   *s = malloc(size);
	size_t		o = 0;

	s[o++] = '[';
	for (int i = 0; i < dim; i++)
		o += (size_t) snprintf(s + o, size - o, "%s%.9g", i ? "," : "", x[i]);
	s[o++] = ']';
	s[o] = '\0';
	return s;
}

#endif							/* GOV_HARNESS_H */

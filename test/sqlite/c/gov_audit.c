/*
 * gov_audit.c
 *	  The device's audit chain: frt_audit_verify() is 'ok' over a trail of
 *	  every kind of record; each hashed column of a record, edited through a
 *	  raw connection without the extension (outside the protection model),
 *	  breaks the chain at that record; so do a deleted record and a relinked
 *	  one.  Through the extension, the same edits are not authorized.  No
 *	  record holds the enrolled vector or its text.
 */
#include "gov_harness.h"

#define DIM 16

/* A trail with records of every kind, in a fresh file. */
static void
MakeTrail(const char *path, const char *vec)
{
	sqlite3    *db;
	char		sql[4096];

	remove(path);
	db = GhOpen(path, 0);
	snprintf(sql, sizeof(sql),
			 "SELECT frt_device_init('cam-1', 'Acme', 16);"
			 "SELECT frt_purpose_add('door', 'office door', 30, 0.2);"
			 "SELECT frt_notice_publish('door', 'notice');"
			 "SELECT frt_consent_give('alice', 'door', 1);"
			 "SELECT frt_enroll('alice', 'door', '%s');"
			 "SELECT frt_verify('alice', 'door', '%s');"
			 "SELECT frt_consent_transfer('alice', 'door');", vec, vec);
	GhExec(db, NULL, sql);
	GhExec(db, "MF006", "SELECT frt_enroll('bob', 'door', '[1,2,3]')");
	GhExec(db, "22000", "SELECT frt_consent_give('carol', 'door', 1); "
		   "SELECT frt_enroll('carol', 'door', '[1,2,3]')");
	GhExec(db, NULL, "SELECT frt_withdraw('alice')");
	sqlite3_close(db);
}

/* frt_audit_verify() through the extension, into buf. */
static const char *
Verify(const char *path, char *buf, size_t size)
{
	sqlite3    *db = GhOpen(path, 0);

	GhText(db, "SELECT frt_audit_verify()", buf, size);
	sqlite3_close(db);
	return buf;
}

int
main(void)
{
	static const char *const edits[] = {
		"UPDATE frt_audit SET at = at + 1 WHERE seq = 5",
		"UPDATE frt_audit SET backend_pid = backend_pid + 1 WHERE seq = 5",
		"UPDATE frt_audit SET similarity = 0.5 WHERE seq = 5",
		"UPDATE frt_audit SET event = 'x' WHERE seq = 5",
		"UPDATE frt_audit SET outcome = 'x' WHERE seq = 5",
		"UPDATE frt_audit SET sqlstate = 'MF000' WHERE seq = 5",
		"UPDATE frt_audit SET role_name = 'x' WHERE seq = 5",
		"UPDATE frt_audit SET effective_role = 'x' WHERE seq = 5",
		"UPDATE frt_audit SET application = 'x' WHERE seq = 5",
		"UPDATE frt_audit SET client_addr = '10.0.0.1' WHERE seq = 5",
		"UPDATE frt_audit SET purpose = 'hall' WHERE seq = 5",
		"UPDATE frt_audit SET subject = 'mallory' WHERE seq = 5",
		"UPDATE frt_audit SET device = 'cam-2' WHERE seq = 5",
		"UPDATE frt_audit SET detail = '{}' WHERE seq = 5",
		"UPDATE frt_audit SET hash_alg = 'sm3' WHERE seq = 5",
		"UPDATE frt_audit SET hash = zeroblob(32) WHERE seq = 5",
		"UPDATE frt_audit SET prev_hash = zeroblob(32) WHERE seq = 5",
		"DELETE FROM frt_audit WHERE seq = 5",
	};
	const char *path = "audit.db";
	float		x[DIM];
	char	   *vec,
				buf[512];
	sqlite3    *raw,
			   *db;
	unsigned char *file;
	size_t		len;

	GhVector(x, DIM, 3);
	vec = GhVectorText(x, DIM);
	for (size_t e = 0; e < sizeof(edits) / sizeof(edits[0]); e++)
	{
		MakeTrail(path, vec);
		if (strcmp(Verify(path, buf, sizeof(buf)), "ok") != 0)
			GhFail("intact trail: %s", buf);
		raw = GhOpen(path, 1);
		GhExec(raw, NULL, edits[e]);
		sqlite3_close(raw);
		Verify(path, buf, sizeof(buf));
		if (strncmp(buf, "error: MF141: audit trail broken at seq 5:", 42) != 0)
			GhFail("%s: verify says %s", edits[e], buf);
		else
			printf("%-66s -> %s\n", edits[e], buf + 7);
	}
	/* the extension's connection may not make the same edits */
	MakeTrail(path, vec);
	db = GhOpen(path, 0);
	GhExec(db, "not authorized", "UPDATE frt_audit SET event = 'x' WHERE seq = 5");
	GhExec(db, "not authorized", "DELETE FROM frt_audit");
	GhExec(db, "not authorized", "INSERT INTO frt_audit SELECT * FROM frt_audit WHERE seq = 1");
	GhExec(db, "not authorized", "DROP TABLE frt_audit");
	GhExec(db, "not authorized", "CREATE TRIGGER t BEFORE INSERT ON frt_audit BEGIN SELECT 1; END");
	GhExec(db, "not authorized", "ALTER TABLE frt_audit RENAME TO x");
	if (strcmp(GhText(db, "SELECT frt_audit_verify()", buf, sizeof(buf)), "ok") != 0)
		GhFail("after refused edits: %s", buf);
	/* a trigger planted by a raw connection: governed calls refuse until it is dropped */
	sqlite3_close(db);
	raw = GhOpen(path, 1);
	GhExec(raw, NULL, "CREATE TABLE log(x); CREATE TRIGGER spy AFTER INSERT ON frt_audit "
		   "BEGIN INSERT INTO log VALUES (NEW.detail); END");
	sqlite3_close(raw);
	db = GhOpen(path, 0);
	GhExec(db, "MF141: trigger 'spy'", "SELECT frt_withdraw('alice')");
	GhExec(db, "MF141: trigger 'spy'", "SELECT frt_purpose_add('hall', 'hall', 1, 0.3)");
	GhExec(db, NULL, "DROP TRIGGER spy");
	GhExec(db, NULL, "SELECT frt_purpose_add('hall', 'hall', 1, 0.3)");
	if (GhInt(db, "SELECT count(*) FROM log") != 0)
		GhFail("the planted trigger ran");
	sqlite3_close(db);
	/* never the vector, in the trail or anywhere in the file, after withdrawal */
	MakeTrail(path, vec);
	file = GhRead(path, &len);
	if (GhTraces(path, x, DIM, 1) != 0 || memmem(file, len, vec, strlen(vec)) != NULL)
		GhFail("the vector or its text is in the file");
	free(file);
	free(vec);
	printf("%s: %d failures\n", gh_failures ? "FAILED" : "ok", gh_failures);
	return gh_failures ? 1 : 0;
}

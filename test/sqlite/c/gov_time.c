/*
 * gov_time.c
 *	  The rules that depend on the clock, on a VFS whose clock the test
 *	  moves: the lockout (N failed verifications in the window lock the
 *	  subject and purpose; refusals while locked, MF014, recorded, not
 *	  counted; the alert record; open again after lockout_s), retention
 *	  (a consent past its retention is refused, MF008, and blocks
 *	  identification until frt_expire() erases it), and the age of 14 at
 *	  the device's legal offset (UTC+8), not UTC.
 */
#include "gov_harness.h"

/* Expect the last audit record's event/outcome/sqlstate. */
static void
LastIs(sqlite3 *db, const char *want)
{
	char		buf[256];

	GhText(db, "SELECT event || '/' || outcome || '/' || coalesce(sqlstate, '-') FROM frt_audit "
		   "ORDER BY seq DESC LIMIT 1", buf, sizeof(buf));
	if (strcmp(buf, want) != 0)
		GhFail("last record %s, expected %s", buf, want);
}

/* Lockout: 5 failures in 300 s lock for 900 s. */
static void
Lockout(sqlite3 *db)
{
	GhExec(db, NULL, "SELECT frt_consent_give('alice', 'door', 1);"
		   "SELECT frt_enroll('alice', 'door', '[1,0,0,0]');");
	/* four failures, then the window passes: the count starts again */
	for (int i = 0; i < 4; i++)
		if (GhInt(db, "SELECT frt_verify('alice', 'door', '[0,1,0,0]')") != 0)
			GhFail("a wrong face matched");
	GhAdvance(301);
	for (int i = 0; i < 4; i++)
		GhInt(db, "SELECT frt_verify('alice', 'door', '[0,1,0,0]')");
	if (GhInt(db, "SELECT frt_verify('alice', 'door', '[1,0,0,0]')") != 1)
		GhFail("four failures locked, or the right face did not match");
	/* the fifth failure in the window locks, with an alert */
	GhInt(db, "SELECT frt_verify('alice', 'door', '[0,1,0,0]')");
	LastIs(db, "alert/verification_lockout/-");
	GhExec(db, "MF014", "SELECT frt_verify('alice', 'door', '[1,0,0,0]')");
	LastIs(db, "refusal/refused/MF014");
	GhAdvance(899);
	GhExec(db, "MF014", "SELECT frt_verify('alice', 'door', '[1,0,0,0]')");
	GhAdvance(2);
	if (GhInt(db, "SELECT frt_verify('alice', 'door', '[1,0,0,0]')") != 1)
		GhFail("still locked after lockout_s");
	/* another purpose and another subject were never locked */
	if (GhInt(db, "SELECT count(*) FROM frt_audit WHERE event = 'alert'") != 1)
		GhFail("not exactly one alert");
}

/* Retention: expired consent refused, identification blocked until frt_expire(). */
static void
Retention(sqlite3 *db)
{
	GhExec(db, NULL, "SELECT frt_consent_give('bob', 'hall', 1);"
		   "SELECT frt_enroll('bob', 'hall', '[0,0,1,0]');");
	GhAdvance(86400 - 10);
	if (GhInt(db, "SELECT frt_verify('bob', 'hall', '[0,0,1,0]')") != 1)
		GhFail("bob refused before the end of retention");
	GhAdvance(20);
	GhExec(db, "MF008", "SELECT frt_verify('bob', 'hall', '[0,0,1,0]')");
	GhExec(db, "MF008", "SELECT frt_enroll('bob', 'hall', '[0,0,1,0]')");
	GhExec(db, "MF008", "SELECT rowid FROM frt_face WHERE embedding MATCH frt_embedding('[0,0,1,0]') "
		   "AND purpose = 'hall' AND k = 5 AND max_distance = 0.2");
	if (GhInt(db, "SELECT frt_expire()") != 1)
		GhFail("frt_expire() did not erase bob's face");
	LastIs(db, "purge/ok/-");
	GhExec(db, NULL, "SELECT rowid FROM frt_face WHERE embedding MATCH frt_embedding('[0,0,1,0]') "
		   "AND purpose = 'hall' AND k = 5 AND max_distance = 0.2");
	GhExec(db, "MF006", "SELECT frt_verify('bob', 'hall', '[0,0,1,0]')");
	if (GhInt(db, "SELECT count(*) FROM frt_face WHERE subject = 'bob'") != 0)
		GhFail("bob's face is still in frt_face");
}

/* The age of 14 on the legal date at UTC+8, at 20:00 UTC (04:00 next day there). */
static void
LegalAge(sqlite3 *db)
{
	char		sql[512],
				today[32];
	sqlite3_int64 secs = GhInt(db, "SELECT CAST(strftime('%s', 'now') AS INTEGER) % 86400");

	GhAdvance((double) ((20 * 3600 - secs + 86400) % 86400));
	/* 14 today at UTC+8, still 13 by the UTC date */
	GhText(db, "SELECT date('now', '+8 hours', '-14 years')", today, sizeof(today));
	snprintf(sql, sizeof(sql), "SELECT frt_consent_give('teen', 'door', 1, '%s')", today);
	GhExec(db, NULL, sql);
	GhText(db, "SELECT date('now', '+8 hours', '-14 years', '+1 day')", today, sizeof(today));
	snprintf(sql, sizeof(sql), "SELECT frt_consent_give('kid', 'door', 1, '%s')", today);
	GhExec(db, "MF007", sql);
}

int
main(void)
{
	sqlite3    *db;

	remove("time.db");
	db = GhOpen("time.db", 0);
	GhExec(db, NULL, "SELECT frt_device_init('cam-1', 'Acme', 4);"
		   "SELECT frt_purpose_add('door', 'door', 30, 0.2);"
		   "SELECT frt_purpose_add('hall', 'hall', 1, 0.2);"
		   "SELECT frt_notice_publish('door', 'n');"
		   "SELECT frt_notice_publish('hall', 'n');");
	Lockout(db);
	Retention(db);
	LegalAge(db);
	{
		char		buf[256];

		if (strcmp(GhText(db, "SELECT frt_audit_verify()", buf, sizeof(buf)), "ok") != 0)
			GhFail("audit: %s", buf);
	}
	sqlite3_close(db);
	printf("%s: %d failures\n", gh_failures ? "FAILED" : "ok", gh_failures);
	return gh_failures ? 1 : 0;
}

/*-------------------------------------------------------------------------
 *
 * audit_relay.c
 *	  Audit records made on a hot standby: forwarded over libpq to the
 *	  primary's frt.audit_event(), which returns only once the primary's
 *	  audit writer has committed the record durably.  The connection is kept
 *	  per backend and re-established when it breaks; if the primary cannot
 *	  be reached the call fails closed (MF140).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "access/xlogrecovery.h"
#include "commands/dbcommands.h"
#include "libpq-fe.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/fd.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "mb/pg_wchar.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "frt_audit.h"

char	   *frt_audit_primary_conninfo = NULL;

static PGconn *FrtRelayConn = NULL;		/* cached connection to the primary */
static char *FrtRelayConnInfo = NULL;	/* the conninfo it was made with */
static FrtRelayFailure FrtRelayOnFail = NULL;	/* FrtAuditRelayQuery's caller's error */

/* Arguments of the primary's audit_event: ours, with the origin merged into detail. */
#define FRT_RELAY_NPARAMS 9
static const char *const FrtRelayArgs =
"($1, $2, $3, $4, $5, $6::pg_catalog.float8, $7, "
"CASE WHEN $8::pg_catalog.jsonb IS NULL THEN $9::pg_catalog.jsonb "
"WHEN pg_catalog.jsonb_typeof($8::pg_catalog.jsonb) OPERATOR(pg_catalog.=) 'object' "
"THEN $8::pg_catalog.jsonb OPERATOR(pg_catalog.||) $9::pg_catalog.jsonb "
"ELSE pg_catalog.jsonb_build_object('detail', $8::pg_catalog.jsonb) "
"OPERATOR(pg_catalog.||) $9::pg_catalog.jsonb END)";

/* Close the cached connection to the primary, if any. */
void
FrtAuditRelayDrop(void)
{
	if (FrtRelayConn == NULL)
		return;
	PQfinish(FrtRelayConn);
	ReleaseExternalFD();
	FrtRelayConn = NULL;
	if (FrtRelayConnInfo)
		pfree(FrtRelayConnInfo);
	FrtRelayConnInfo = NULL;
}

/*
 * Fail closed: drop the connection and refuse the audited operation, or
 * for FrtAuditRelayQuery raise its caller's error.
 */
static void
FrtRelayFail(const char *why, const char *libpq_msg)
{
	char	   *detail = libpq_msg ? pstrdup(libpq_msg) : NULL;
	FrtRelayFailure onfail = FrtRelayOnFail;

	FrtAuditRelayDrop();
	FrtRelayOnFail = NULL;
	if (detail)
	{
		size_t		n = strlen(detail);

		while (n > 0 && (detail[n - 1] == '\n' || detail[n - 1] == ' '))
			detail[--n] = '\0';
	}
	if (onfail)
		onfail(why, detail);
	FrtRefuse(FRT_ERRCODE_AUDIT_UNAVAILABLE, 14, NULL, detail,
			  "A standby audits through the primary: check that the primary is up and reachable with frt.audit_primary_conninfo (empty: primary_conninfo), and that the role it connects as is a member of frt_audit_relay.",
			  "audit trail unavailable: this standby could not forward the audit record to the primary: %s",
			  why);
}

/* Wait until the socket is ready for events or the deadline passes. */
static bool
FrtRelayWait(int events, TimestampTz deadline)
{
	for (;;)
	{
		long		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
		int			rc;

		if (left <= 0)
			return false;
		rc = WaitLatchOrSocket(MyLatch,
							   WL_EXIT_ON_PM_DEATH | WL_LATCH_SET | WL_TIMEOUT | events,
							   PQsocket(FrtRelayConn), left, PG_WAIT_EXTENSION);
		if (rc & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}
		if (rc & events)
			return true;
	}
}

/* The conninfo to reach the primary: the GUC, else primary_conninfo. */
static const char *
FrtRelayConnInfoSetting(void)
{
	if (frt_audit_primary_conninfo && frt_audit_primary_conninfo[0])
		return frt_audit_primary_conninfo;
	return PrimaryConnInfo ? PrimaryConnInfo : "";
}

/* Open the connection to this database on the primary, within the deadline. */
static void
FrtRelayConnect(TimestampTz deadline)
{
	const char *conninfo = FrtRelayConnInfoSetting();
	const char *keys[5];
	const char *vals[5];
	char	   *err = NULL;
	PQconninfoOption *opts;
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;

	if (conninfo[0] == '\0')
		FrtRelayFail("no primary is configured",
					 "frt.audit_primary_conninfo and primary_conninfo are both empty.");
	/* never echo the parse error: it may quote part of a password */
	opts = PQconninfoParse(conninfo, &err);
	if (opts == NULL)
	{
		if (err)
			PQfreemem(err);
		FrtRelayFail("the primary's connection string is malformed", NULL);
	}
	PQconninfoFree(opts);

	keys[0] = "dbname";
	vals[0] = conninfo;
	keys[1] = "dbname";			/* overrides: the same database as here */
	vals[1] = get_database_name(MyDatabaseId);
	keys[2] = "application_name";
	vals[2] = psprintf("frt audit relay from %s",
					   cluster_name && cluster_name[0] ? cluster_name : "a standby");
	keys[3] = "client_encoding";
	vals[3] = GetDatabaseEncodingName();
	keys[4] = NULL;
	vals[4] = NULL;

	if (!AcquireExternalFD())
		FrtRelayFail("too many open files", NULL);
	FrtRelayConn = PQconnectStartParams(keys, vals, 1);
	if (FrtRelayConn == NULL)
	{
		ReleaseExternalFD();
		FrtRelayFail("out of memory", NULL);
	}
	FrtRelayConnInfo = MemoryContextStrdup(TopMemoryContext, conninfo);
	if (PQstatus(FrtRelayConn) == CONNECTION_BAD)
		FrtRelayFail("could not connect", PQerrorMessage(FrtRelayConn));
	while (st != PGRES_POLLING_OK)
	{
		if (st == PGRES_POLLING_FAILED)
			FrtRelayFail("could not connect", PQerrorMessage(FrtRelayConn));
		if (!FrtRelayWait(st == PGRES_POLLING_READING ? WL_SOCKET_READABLE : WL_SOCKET_WRITEABLE,
						  deadline))
			FrtRelayFail(psprintf("no connection within frt.audit_timeout (%d ms)",
								  frt_audit_timeout_ms), NULL);
		st = PQconnectPoll(FrtRelayConn);
	}
	if (PQsetnonblocking(FrtRelayConn, 1) != 0)
		FrtRelayFail("could not connect", PQerrorMessage(FrtRelayConn));
}

/* A JSON string, or null. */
static void
FrtJsonStr(StringInfo s, const char *key, const char *v)
{
	appendStringInfo(s, ", \"%s\": ", key);
	if (v)
		escape_json(s, v);
	else
		appendStringInfoString(s, "null");
}

/* The origin object: which standby, and who called there (and mac, if given). */
static char *
FrtRelayOrigin(const FrtAuditPayload *rec, const char *mac)
{
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfo(&s, "{\"origin\": {\"system_identifier\": \"" UINT64_FORMAT "\"",
					 GetSystemIdentifier());
	FrtJsonStr(&s, "standby", cluster_name && cluster_name[0] ? cluster_name : NULL);
	FrtJsonStr(&s, "role", FrtAuditPayloadGet(rec, FRT_AF_ROLE));
	FrtJsonStr(&s, "effective_role", FrtAuditPayloadGet(rec, FRT_AF_EFFECTIVE_ROLE));
	FrtJsonStr(&s, "application", FrtAuditPayloadGet(rec, FRT_AF_APPLICATION));
	FrtJsonStr(&s, "client_addr", FrtAuditPayloadGet(rec, FRT_AF_CLIENT_ADDR));
	appendStringInfo(&s, ", \"backend_pid\": %d", rec->backend_pid);
	FrtJsonStr(&s, "at", timestamptz_to_str(rec->at));
	/* the claim's MAC is an HMAC with this server's frt.audit_hash (named unless SHA-256) */
	if (FrtAuditKeyed() && frt_audit_hash != FRT_AUDIT_ALG_SHA256)
		FrtJsonStr(&s, FRT_AUDIT_RELAY_MAC_ALG_KEY, FrtAuditAlgName(frt_audit_hash));
	if (mac)
		FrtJsonStr(&s, FRT_AUDIT_RELAY_MAC_KEY, mac);
	appendStringInfoString(&s, "}}");
	return s.data;
}

/*
 * With the audit key: the origin carrying the MAC of the claim, over the
 * detail the primary will receive ($8 and $9 merged as FrtRelayArgs does).
 */
static char *
FrtRelaySignedOrigin(const FrtAuditPayload *rec, const char *const *params)
{
	const char *fields[FRT_CF_COUNT];
	Datum		origin = DirectFunctionCall1(jsonb_in, CStringGetDatum(params[8]));
	Datum		merged = origin;
	float8		sim = rec->similarity;
	uint8		mac[FRT_AUDIT_MAC_LEN];
	char		hex[FRT_AUDIT_MAC_LEN * 2 + 1];

	if (params[7])
	{
		Datum		detail = DirectFunctionCall1(jsonb_in, CStringGetDatum(params[7]));

		if (!JB_ROOT_IS_OBJECT(DatumGetJsonbP(detail)))
			detail = DirectFunctionCall1(jsonb_in,
										 CStringGetDatum(psprintf("{\"detail\": %s}", params[7])));
		merged = DirectFunctionCall2(jsonb_concat, detail, origin);
	}
	fields[FRT_CF_EVENT] = params[0];
	fields[FRT_CF_OUTCOME] = params[1];
	fields[FRT_CF_PURPOSE] = params[2];
	fields[FRT_CF_SUBJECT] = params[3];
	fields[FRT_CF_DEVICE] = params[4];
	fields[FRT_CF_SQLSTATE] = params[6];
	FrtAuditClaimMac(frt_audit_hash, fields, rec->has_similarity ? &sim : NULL, DatumGetJsonbP(merged), mac);
	hex_encode((const char *) mac, FRT_AUDIT_MAC_LEN, hex);
	hex[FRT_AUDIT_MAC_LEN * 2] = '\0';
	return FrtRelayOrigin(rec, hex);
}

/*
 * Send a query and wait for the primary's answer: its last result, or NULL
 * if the connection broke before an answer (the caller may retry on a new
 * one).  An answer that is not rows fails closed (refused: what was sent).
 */
static PGresult *
FrtRelayExec(const char *sql, int nparams, const char *const *params, TimestampTz deadline,
			 const char *refused)
{
	PGresult   *res;
	PGresult   *last = NULL;
	int			flush;

	if (!PQsendQueryParams(FrtRelayConn, sql, nparams, NULL, params, NULL, NULL, 0))
		return NULL;
	while ((flush = PQflush(FrtRelayConn)) > 0)
		if (!FrtRelayWait(WL_SOCKET_WRITEABLE, deadline))
			FrtRelayFail(psprintf("no answer within frt.audit_timeout (%d ms)",
								  frt_audit_timeout_ms), NULL);
	if (flush < 0)
		return NULL;
	for (;;)
	{
		while (PQisBusy(FrtRelayConn))
		{
			if (!FrtRelayWait(WL_SOCKET_READABLE, deadline))
			{
				if (last)
					PQclear(last);
				FrtRelayFail(psprintf("no answer within frt.audit_timeout (%d ms)",
									  frt_audit_timeout_ms), NULL);
			}
			if (!PQconsumeInput(FrtRelayConn))
			{
				if (last)
					PQclear(last);
				return NULL;
			}
		}
		res = PQgetResult(FrtRelayConn);
		if (res == NULL)
			break;
		if (last)
			PQclear(last);
		last = res;
	}
	if (last == NULL || PQstatus(FrtRelayConn) == CONNECTION_BAD)
	{
		if (last)
			PQclear(last);
		return NULL;
	}
	if (PQresultStatus(last) != PGRES_TUPLES_OK)
	{
		char	   *msg = pstrdup(PQresultErrorMessage(last));

		PQclear(last);
		FrtRelayFail(refused, msg);
	}
	return last;
}

/*
 * Run a query over the cached connection (made or remade as needed) within
 * frt.audit_timeout: its rows, which the caller PQclears.  A cached
 * connection that broke is remade once.
 */
static PGresult *
FrtRelayRun(const char *sql, int nparams, const char *const *params, const char *refused)
{
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													   frt_audit_timeout_ms);
	PGresult   *res = NULL;

	/* a changed setting (SIGHUP) takes effect on the next query */
	if (FrtRelayConn && strcmp(FrtRelayConnInfo, FrtRelayConnInfoSetting()) != 0)
		FrtAuditRelayDrop();
	if (FrtRelayConn && PQstatus(FrtRelayConn) != CONNECTION_OK)
		FrtAuditRelayDrop();

	PG_TRY();
	{
		bool		cached = (FrtRelayConn != NULL);

		if (!cached)
			FrtRelayConnect(deadline);
		res = FrtRelayExec(sql, nparams, params, deadline, refused);
		if (res == NULL)
		{
			/* a cached connection may have died with a primary restart */
			char	   *msg = pstrdup(PQerrorMessage(FrtRelayConn));

			if (!cached)
				FrtRelayFail("the connection to the primary broke", msg);
			FrtAuditRelayDrop();
			FrtRelayConnect(deadline);
			res = FrtRelayExec(sql, nparams, params, deadline, refused);
			if (res == NULL)
				FrtRelayFail("the connection to the primary broke",
							 PQerrorMessage(FrtRelayConn));
		}
	}
	PG_CATCH();
	{
		/* interrupted or failed mid-protocol: the connection is unusable */
		FrtRelayOnFail = NULL;
		FrtAuditRelayDrop();
		PG_RE_THROW();
	}
	PG_END_TRY();
	return res;
}

/*
 * On a standby: run a query in this database on the primary, over the
 * relay's connection, as the role it connects as (a member of
 * frt_audit_relay).  Returns its rows (PQclear them); when the primary
 * cannot be reached or refuses, onfail(why, detail) raises the caller's
 * error (it must not return).
 */
PGresult *
FrtAuditRelayQuery(const char *sql, int nparams, const char *const *params,
				   FrtRelayFailure onfail)
{
	PGresult   *res;

	FrtRelayOnFail = onfail;
	res = FrtRelayRun(sql, nparams, params, "the primary refused the query");
	FrtRelayOnFail = NULL;
	return res;
}

/*
 * On a standby: have the primary record the event through its audit writer
 * and return the primary's seq, once committed there.  Fails closed.
 */
int64
FrtAuditRelay(const FrtAuditPayload *rec)
{
	const char *params[FRT_RELAY_NPARAMS];
	char		sim[64];
	PGresult   *res;
	int64		seq;
	/* the same schema as here: a standby is a copy of the primary */
	char	   *sql = psprintf("SELECT %s%s", FrtGovFuncName(FRT_FUNC_AUDIT_EVENT), FrtRelayArgs);

	params[0] = FrtAuditPayloadGet(rec, FRT_AF_EVENT);
	params[1] = FrtAuditPayloadGet(rec, FRT_AF_OUTCOME);
	params[2] = FrtAuditPayloadGet(rec, FRT_AF_PURPOSE);
	params[3] = FrtAuditPayloadGet(rec, FRT_AF_SUBJECT);
	params[4] = FrtAuditPayloadGet(rec, FRT_AF_DEVICE);
	snprintf(sim, sizeof(sim), "%.17g", rec->similarity);
	params[5] = rec->has_similarity ? sim : NULL;
	params[6] = FrtAuditPayloadGet(rec, FRT_AF_SQLSTATE);
	params[7] = FrtAuditPayloadGet(rec, FRT_AF_DETAIL);
	params[8] = FrtRelayOrigin(rec, NULL);
	/* with the key, the claim is bound to this standby's key (audit_claim.c) */
	if (FrtAuditKeyed())
		params[8] = FrtRelaySignedOrigin(rec, params);

	FrtRelayOnFail = NULL;
	res = FrtRelayRun(sql, FRT_RELAY_NPARAMS, params, "the primary refused the record");
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0))
	{
		PQclear(res);
		FrtRelayFail("the primary refused the record", "it returned no sequence number");
	}
	seq = strtoi64(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return seq;
}

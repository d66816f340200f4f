/*-------------------------------------------------------------------------
 *
 * audit_claim.c
 *	  What a record may claim about where it came from.  A standby's relay
 *	  (audit_relay.c) records on the primary, through frt.audit_event(), the
 *	  events its callers made, with detail.origin naming the standby and the
 *	  caller there.  The primary cannot see that caller, so detail.origin is
 *	  a claim of the relay login, and this module bounds it:
 *	    * only a member of the relay role may put an origin in a record; any
 *	      other caller's "origin" key is kept as "unverified_origin";
 *	    * a relay may record only the events a read-only standby makes, each
 *	      with an origin object naming this cluster's system identifier and
 *	      an existing caller that is not itself a relay;
 *	    * on a primary with the audit key, the claim must carry its MAC
 *	      (origin.mac), made by the standby with the same key over the
 *	      record's fields and its detail without the MAC: a relay password
 *	      alone no longer makes a record; an HMAC-SHA-256, or the HMAC of
 *	      the hash origin.mac_alg names (sm3: the standby's frt.audit_hash);
 *	  anything else is refused (MF143) and the refusal recorded.  The row's
 *	  role_name is always the relay login that made the claim
 *	  (docs/audit.md, "What a relay may claim").
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "catalog/pg_type_d.h"
#include "port/pg_bswap.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "frt_audit.h"

/* Top-level key a relayed record's origin lives under, and its renaming. */
#define FRT_ORIGIN_KEY		"origin"
#define FRT_ORIGIN_UNVERIFIED "unverified_origin"

static const char *const FrtRelayEvents[] = FRT_AUDIT_RELAY_EVENTS;

/* The value of a top-level key of a jsonb object, or NULL. */
static JsonbValue *
FrtJsonbKey(Jsonb *j, const char *key)
{
	if (j == NULL || !JB_ROOT_IS_OBJECT(j) || JB_ROOT_IS_SCALAR(j))
		return NULL;
	return getKeyJsonValueFromContainer(&j->root, key, strlen(key), NULL);
}

/* A string member of an object value, or NULL. */
static char *
FrtJsonbMember(const JsonbValue *obj, const char *key)
{
	JsonbValue *v;

	if (obj == NULL || obj->type != jbvBinary || !JsonContainerIsObject(obj->val.binary.data))
		return NULL;
	v = getKeyJsonValueFromContainer(obj->val.binary.data, key, strlen(key), NULL);
	if (v == NULL || v->type != jbvString)
		return NULL;
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* The text of a jsonb value (scalar or container). */
static char *
FrtJsonbValueText(JsonbValue *v)
{
	Jsonb	   *one;

	if (v->type == jbvBinary)
		return JsonbToCString(NULL, v->val.binary.data, v->val.binary.len);
	one = JsonbValueToJsonb(v);
	return JsonbToCString(NULL, &one->root, VARSIZE(one));
}

/* Append a text field of a claim: presence byte, 4-byte length, bytes. */
static void
FrtClaimText(StringInfo buf, const char *s)
{
	uint32		n;

	if (s == NULL)
	{
		appendStringInfoChar(buf, 0);
		return;
	}
	n = pg_hton32((uint32) strlen(s));
	appendStringInfoChar(buf, 1);
	appendBinaryStringInfo(buf, (const char *) &n, sizeof(n));
	appendBinaryStringInfo(buf, s, strlen(s));
}

/*
 * The bytes a relayed claim's MAC covers: its text fields, its similarity
 * (presence byte, IEEE-754 bits) and the canonical text of its detail
 * (origin included, origin.mac not).  Standby and primary compute the same
 * bytes from what is sent and what is received.
 */
static void
FrtClaimBytes(StringInfo buf, const char *const *fields, const float8 *similarity, Jsonb *detail)
{
	initStringInfo(buf);
	for (int i = 0; i < FRT_CF_COUNT; i++)
		FrtClaimText(buf, fields[i]);
	if (similarity)
	{
		uint64		bits;

		memcpy(&bits, similarity, sizeof(bits));
		bits = pg_hton64(bits);
		appendStringInfoChar(buf, 1);
		appendBinaryStringInfo(buf, (const char *) &bits, sizeof(bits));
	}
	else
		appendStringInfoChar(buf, 0);
	FrtClaimText(buf, detail ? JsonbToCString(NULL, &detail->root, VARSIZE(detail)) : NULL);
}

/* The MAC (HMAC with alg) of a relayed claim (detail without origin.mac) with the signing key. */
void
FrtAuditClaimMac(FrtAuditAlg alg, const char *const *fields, const float8 *similarity,
				 Jsonb *detail, uint8 *mac)
{
	StringInfoData buf;

	FrtClaimBytes(&buf, fields, similarity, detail);
	FrtAuditMacOf(alg, FRT_AUDIT_RELAY_MAC_TAG, (const uint8 *) buf.data, buf.len, mac);
	pfree(buf.data);
}

/* Does the claim's origin.mac (hex, an HMAC with alg) verify with one of the audit keys? */
static bool
FrtClaimMacVerifies(FrtAuditAlg alg, const char *const *fields, const float8 *similarity,
					Jsonb *detail, const char *mac_hex)
{
	Datum		path[2];
	Jsonb	   *unsigned_detail;
	uint8		mac[FRT_AUDIT_MAC_LEN];
	StringInfoData buf;
	bool		ok;

	if (strlen(mac_hex) != FRT_AUDIT_MAC_LEN * 2 ||
		strspn(mac_hex, "0123456789abcdef") != FRT_AUDIT_MAC_LEN * 2)
		return false;
	hex_decode(mac_hex, FRT_AUDIT_MAC_LEN * 2, (char *) mac);
	path[0] = CStringGetTextDatum(FRT_ORIGIN_KEY);
	path[1] = CStringGetTextDatum(FRT_AUDIT_RELAY_MAC_KEY);
	unsigned_detail = DatumGetJsonbP(DirectFunctionCall2(jsonb_delete_path, JsonbPGetDatum(detail),
														 PointerGetDatum(construct_array(path, 2, TEXTOID, -1, false,
																						 TYPALIGN_INT))));
	FrtClaimBytes(&buf, fields, similarity, unsigned_detail);
	ok = FrtAuditMacOfVerifies(alg, FRT_AUDIT_RELAY_MAC_TAG, (const uint8 *) buf.data, buf.len, mac);
	pfree(buf.data);
	return ok;
}

/* Is the current role a member (not through superuser) of the relay role? */
static bool
FrtCallerIsRelay(void)
{
	Oid			relay = get_role_oid(FRT_AUDIT_RELAY_ROLE, true);

	return OidIsValid(relay) && is_member_of_role_nosuper(GetUserId(), relay);
}

/* Why a relay's record cannot be taken, or NULL if it can. */
static char *
FrtRelayClaimProblem(const char *const *fields, const float8 *similarity, Jsonb *detail)
{
	const char *event = fields[FRT_CF_EVENT];
	JsonbValue *origin = FrtJsonbKey(detail, FRT_ORIGIN_KEY);
	char	   *sysid;
	char	   *role;
	Oid			role_oid;
	Oid			relay = get_role_oid(FRT_AUDIT_RELAY_ROLE, false);
	bool		known = false;

	for (size_t i = 0; i < lengthof(FrtRelayEvents); i++)
		if (strcmp(event, FrtRelayEvents[i]) == 0)
			known = true;
	if (!known)
		return psprintf("a standby does not make \"%s\" records", event);
	if (origin == NULL || origin->type != jbvBinary ||
		!JsonContainerIsObject(origin->val.binary.data))
		return pstrdup("a relayed record must name its origin");
	sysid = FrtJsonbMember(origin, "system_identifier");
	if (sysid == NULL || strcmp(sysid, psprintf(UINT64_FORMAT, GetSystemIdentifier())) != 0)
		return pstrdup("the origin is not a standby of this cluster (system identifier)");
	role = FrtJsonbMember(origin, "role");
	role_oid = role ? get_role_oid(role, true) : InvalidOid;
	if (!OidIsValid(role_oid))
		return pstrdup("the origin names no existing role");
	if (is_member_of_role_nosuper(role_oid, relay))
		return pstrdup("the origin names a relay role");
	if (FrtAuditKeyed())
	{
		char	   *mac = FrtJsonbMember(origin, FRT_AUDIT_RELAY_MAC_KEY);
		char	   *mac_alg = FrtJsonbMember(origin, FRT_AUDIT_RELAY_MAC_ALG_KEY);
		FrtAuditAlg alg = FRT_AUDIT_ALG_SHA256;

		if (mac == NULL)
			return pstrdup("this primary has the audit key and the record carries no MAC of its claim (a standby relays with the same key)");
		/* no mac_alg: HMAC-SHA-256; the name is covered by the MAC */
		if (mac_alg != NULL && !FrtAuditAlgFromName(mac_alg, &alg))
			return pstrdup("the MAC of the claim names an unknown hash function");
		if (!FrtClaimMacVerifies(alg, fields, similarity, detail, mac))
			return pstrdup("the MAC of the claim does not verify with the audit key");
	}
	return NULL;
}

/* Refuse a relayed record (MF143), recording the refusal first. */
static void
FrtRelayRefuse(const char *event, const char *why)
{
	MemoryContext ctx = CurrentMemoryContext;
	ErrorData  *err;
	FrtAuditPayload rec;
	StringInfoData d;

	/* the refusal, raised the one way, then caught to put it on record */
	PG_TRY();
	{
		FrtRefuse(FRT_ERRCODE_AUDIT_RELAY_CLAIM, 14, NULL, NULL,
				  "A relay login records only what a standby's callers did there; see docs/audit.md, \"What a relay may claim\".",
				  "relayed audit record refused: %s", why);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(ctx);
		err = CopyErrorData();
		FlushErrorState();
	}
	PG_END_TRY();

	initStringInfo(&d);
	appendStringInfoString(&d, "{\"function\": \"audit_event\", \"article\": 14, \"reason\": ");
	escape_json(&d, psprintf("relayed record refused: %s", why));
	appendStringInfoString(&d, ", \"relayed_event\": ");
	escape_json(&d, event);
	appendStringInfoChar(&d, '}');
	memset(&rec, 0, offsetof(FrtAuditPayload, buf));
	FrtAuditPayloadSet(&rec, FRT_AF_EVENT, "refusal");
	FrtAuditPayloadSet(&rec, FRT_AF_OUTCOME, "refused");
	FrtAuditPayloadSet(&rec, FRT_AF_SQLSTATE, unpack_sql_state(err->sqlerrcode));
	FrtAuditPayloadSet(&rec, FRT_AF_DETAIL, d.data);
	FrtAuditFillWho(&rec);
	(void) FrtAuditSubmit(&rec);
	ReThrowError(err);
}

/*
 * The detail to record for a record of these fields: a relay's claim
 * checked (refused with MF143 if it claims what a relay may not, or, with
 * the key, without a MAC that verifies), anyone else's "origin" key kept as
 * "unverified_origin".  similarity and detail may be NULL.
 */
Jsonb *
FrtAuditBindOrigin(const char *const *fields, const float8 *similarity, Jsonb *detail)
{
	const char *event = fields[FRT_CF_EVENT];

	JsonbValue *origin;
	char	   *moved;

	if (FrtCallerIsRelay() && !RecoveryInProgress())
	{
		char	   *why = FrtRelayClaimProblem(fields, similarity, detail);

		if (why)
			FrtRelayRefuse(event, why);
		return detail;
	}
	origin = FrtJsonbKey(detail, FRT_ORIGIN_KEY);
	if (origin == NULL)
		return detail;
	moved = psprintf("{\"" FRT_ORIGIN_UNVERIFIED "\": %s}", FrtJsonbValueText(origin));
	detail = DatumGetJsonbP(DirectFunctionCall2(jsonb_delete, JsonbPGetDatum(detail),
												CStringGetTextDatum(FRT_ORIGIN_KEY)));
	return DatumGetJsonbP(DirectFunctionCall2(jsonb_concat, JsonbPGetDatum(detail),
											  DirectFunctionCall1(jsonb_in, CStringGetDatum(moved))));
}

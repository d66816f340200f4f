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
 *	  anything else is refused (MF143) and the refusal recorded.  The row's
 *	  role_name is always the relay login that made the claim
 *	  (docs/audit.md, "What a relay may claim").
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "miscadmin.h"
#include "utils/acl.h"
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

/* Is the current role a member (not through superuser) of the relay role? */
static bool
FrtCallerIsRelay(void)
{
	Oid			relay = get_role_oid(FRT_AUDIT_RELAY_ROLE, true);

	return OidIsValid(relay) && is_member_of_role_nosuper(GetUserId(), relay);
}

/* Why a relay's record cannot be taken, or NULL if it can. */
static char *
FrtRelayClaimProblem(const char *event, Jsonb *detail)
{
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
 * The detail to record for event: a relay's claim checked (refused with
 * MF143 if it claims what a relay may not), anyone else's "origin" key
 * kept as "unverified_origin".  detail may be NULL.
 */
Jsonb *
FrtAuditBindOrigin(const char *event, Jsonb *detail)
{
	JsonbValue *origin;
	char	   *moved;

	if (FrtCallerIsRelay() && !RecoveryInProgress())
	{
		char	   *why = FrtRelayClaimProblem(event, detail);

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

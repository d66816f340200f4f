/*-------------------------------------------------------------------------
 *
 * audit_roles.c
 *	  Say what DROP EXTENSION frt_governance leaves behind: its roles.
 *
 * CREATE EXTENSION frt_governance creates the roles it grants to
 * (FRT_GOV_ROLES) if they are missing; this utility hook names those it
 * created.  Roles belong to the cluster, not to the database (other
 * databases may have the extension, logins are members of them), so DROP
 * EXTENSION does not drop them: the hook revokes what the extension granted
 * them on its schema (which outlives the extension) and says with a NOTICE
 * which roles remain and how to remove them, so that nothing is left
 * behind silently.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "frt_audit.h"

static ProcessUtility_hook_type prev_ProcessUtility = NULL;
static const char *const frt_gov_roles[] = FRT_GOV_ROLES;

StaticAssertDecl(lengthof(frt_gov_roles) <= 32, "role set must fit a uint32");

/* Can this statement create or drop frt_governance (directly or by cascade)? */
static bool
FrtMayChangeGovernance(Node *parsetree)
{
	return IsA(parsetree, CreateExtensionStmt) || IsA(parsetree, DropStmt) ||
		IsA(parsetree, DropOwnedStmt);
}

/* Bit i set when role i of FRT_GOV_ROLES exists. */
static uint32
FrtRolesPresent(void)
{
	uint32		present = 0;

	for (int i = 0; i < (int) lengthof(frt_gov_roles); i++)
		if (OidIsValid(get_role_oid(frt_gov_roles[i], true)))
			present |= (uint32) 1 << i;
	return present;
}

/* The names of the roles in a set, comma-separated. */
static char *
FrtRoleList(uint32 roles)
{
	StringInfoData names;

	initStringInfo(&names);
	for (int i = 0; i < (int) lengthof(frt_gov_roles); i++)
	{
		if (!(roles & ((uint32) 1 << i)))
			continue;
		if (names.len > 0)
			appendStringInfoString(&names, ", ");
		appendStringInfoString(&names, frt_gov_roles[i]);
	}
	return names.data;
}

/* Revoke what the dropped extension granted the roles on its schema. */
static void
FrtRevokeSchemaGrants(Oid nsp, uint32 roles)
{
	char	   *schema = get_namespace_name(nsp);

	if (schema == NULL || roles == 0)
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	for (int i = 0; i < (int) lengthof(frt_gov_roles); i++)
	{
		if (!(roles & ((uint32) 1 << i)))
			continue;
		if (SPI_execute(psprintf("REVOKE ALL ON SCHEMA %s FROM %s", quote_identifier(schema),
								 quote_identifier(frt_gov_roles[i])), false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "could not revoke the privileges of role \"%s\" on schema \"%s\"",
				 frt_gov_roles[i], schema);
	}
	SPI_finish();
}

/*
 * ProcessUtility hook: name the roles a statement that installed
 * frt_governance created, or that a statement that removed it leaves.  Any
 * statement that can install or remove an extension is checked by whether
 * frt_governance exists before and after it (CREATE EXTENSION ... CASCADE,
 * DROP EXTENSION, DROP SCHEMA ... CASCADE, DROP OWNED).
 */
static void
FrtRolesProcessUtility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
					   ProcessUtilityContext context, ParamListInfo params,
					   QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	bool		check = FrtMayChangeGovernance(pstmt->utilityStmt);
	Oid			ext = check ? get_extension_oid(FRT_GOVERNANCE_EXTENSION, true) : InvalidOid;
	uint32		before = check ? FrtRolesPresent() : 0;
	Oid			nsp = OidIsValid(ext) ? FrtGovExtensionSchema(FRT_GOVERNANCE_EXTENSION) : InvalidOid;

	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
							queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
								queryEnv, dest, qc);
	if (!check)
		return;
	if (!OidIsValid(ext) && OidIsValid(get_extension_oid(FRT_GOVERNANCE_EXTENSION, true)))
	{
		uint32		made = FrtRolesPresent() & ~before;

		if (made != 0)
			ereport(NOTICE,
					(errmsg("frt_governance created roles %s", FrtRoleList(made)),
					 errhint("Grant them to login roles; DROP EXTENSION leaves them (they belong to the cluster).")));
	}
	else if (OidIsValid(ext) && !OidIsValid(get_extension_oid(FRT_GOVERNANCE_EXTENSION, true)))
	{
		FrtRevokeSchemaGrants(nsp, before);
		if (before != 0)
			ereport(NOTICE,
					(errmsg("roles %s remain: roles belong to the cluster, not to this database",
							FrtRoleList(before)),
					 errhint("If no other database uses frt_governance, drop them with DROP ROLE (after DROP OWNED BY them in each database that had it).")));
	}
}

/* SQL: frt._governance_roles() -- the roles the install script ensures. */
PG_FUNCTION_INFO_V1(frt_governance_roles);
Datum
frt_governance_roles(PG_FUNCTION_ARGS)
{
	Datum		names[lengthof(frt_gov_roles)];

	for (int i = 0; i < (int) lengthof(frt_gov_roles); i++)
		names[i] = CStringGetTextDatum(frt_gov_roles[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(names, lengthof(frt_gov_roles), TEXTOID, -1, false,
										  TYPALIGN_INT));
}

/* Install the hook (from _PG_init). */
void
FrtRolesInit(void)
{
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = FrtRolesProcessUtility;
}

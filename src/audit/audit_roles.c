/*-------------------------------------------------------------------------
 *
 * audit_roles.c
 *	  Say what DROP EXTENSION frt_governance leaves behind: its roles.
 *
 * CREATE EXTENSION frt_governance creates the roles it grants to
 * (FRT_GOV_ROLES) if they are missing.  Roles belong to the cluster, not
 * to the database (other databases may have the extension, logins are
 * members of them), so DROP EXTENSION cannot and does not drop them; this
 * utility hook says so with a NOTICE naming the roles that remain and how
 * to remove them, so that nothing is left behind silently.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/extension.h"
#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/acl.h"

#include "frt_audit.h"

static ProcessUtility_hook_type prev_ProcessUtility = NULL;
static const char *const frt_gov_roles[] = FRT_GOV_ROLES;

/* Does this statement drop frt_governance (by name, or frt with CASCADE)? */
static bool
FrtDropsGovernance(Node *parsetree)
{
	DropStmt   *stmt;
	ListCell   *lc;

	if (!IsA(parsetree, DropStmt))
		return false;
	stmt = (DropStmt *) parsetree;
	if (stmt->removeType != OBJECT_EXTENSION)
		return false;
	foreach(lc, stmt->objects)
	{
		const char *name = strVal(lfirst(lc));

		if (strcmp(name, FRT_GOVERNANCE_EXTENSION) == 0 ||
			(strcmp(name, FRT_CORE_EXTENSION) == 0 && stmt->behavior == DROP_CASCADE))
			return OidIsValid(get_extension_oid(FRT_GOVERNANCE_EXTENSION, true));
	}
	return false;
}

/* NOTICE naming the governance roles that still exist. */
static void
FrtReportRemainingRoles(void)
{
	StringInfoData names;

	initStringInfo(&names);
	for (int i = 0; i < lengthof(frt_gov_roles); i++)
	{
		if (!OidIsValid(get_role_oid(frt_gov_roles[i], true)))
			continue;
		if (names.len > 0)
			appendStringInfoString(&names, ", ");
		appendStringInfoString(&names, frt_gov_roles[i]);
	}
	if (names.len > 0)
		ereport(NOTICE,
				(errmsg("roles %s remain: roles belong to the cluster, not to this database", names.data),
				 errhint("If no other database uses frt_governance, drop them with DROP ROLE (after REASSIGN OWNED and DROP OWNED in each database).")));
	pfree(names.data);
}

/* ProcessUtility hook: after a DROP of frt_governance, name its roles. */
static void
FrtRolesProcessUtility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
					   ProcessUtilityContext context, ParamListInfo params,
					   QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	bool		drops = FrtDropsGovernance(pstmt->utilityStmt);

	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
							queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
								queryEnv, dest, qc);
	if (drops)
		FrtReportRemainingRoles();
}

/* Install the hook (from _PG_init). */
void
FrtRolesInit(void)
{
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = FrtRolesProcessUtility;
}

/*-------------------------------------------------------------------------
 *
 * match_bounds.c
 *	  The registry's matching bounds, from frt_governance.h, for SQL: the
 *	  ceiling and default of a purpose's max_k and the steps to which a
 *	  purpose's score_disclosure cuts a similarity (src/registry/10_registry.sql,
 *	  docs/sql/governance.md "What a match discloses").
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "frt_governance.h"

PG_FUNCTION_INFO_V1(frt_identify_k_ceiling);
PG_FUNCTION_INFO_V1(frt_identify_k_default);
PG_FUNCTION_INFO_V1(frt_score_step);

/* The largest max_k a purpose may have (FRT_IDENTIFY_MAX_K). */
Datum
frt_identify_k_ceiling(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(FRT_IDENTIFY_MAX_K);
}

/* The max_k a new purpose gets (FRT_IDENTIFY_DEFAULT_K). */
Datum
frt_identify_k_default(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(FRT_IDENTIFY_DEFAULT_K);
}

/* The step a disclosure mode floors a score to; NULL for any other mode. */
Datum
frt_score_step(PG_FUNCTION_ARGS)
{
	char	   *mode = text_to_cstring(PG_GETARG_TEXT_PP(0));

	if (strcmp(mode, "rounded") == 0)
		PG_RETURN_FLOAT8(FRT_SCORE_ROUNDED_STEP);
	if (strcmp(mode, "banded") == 0)
		PG_RETURN_FLOAT8(FRT_SCORE_BANDED_STEP);
	PG_RETURN_NULL();
}

/*-------------------------------------------------------------------------
 *
 * refuse.c
 *	  FrtRefuse(): the one way C code raises a refusal under the Measures
 *	  (see frt_refuse.h).  Same format as frt._refuse() in SQL.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include "frt_nls.h"
#include "frt_refuse.h"

void
FrtRefuse(int sqlerrcode, int article, const char *cite_more,
		  const char *detail, const char *hint, const char *fmt,...)
{
	StringInfoData msg;
	char		constraint[32];

	Assert(ERRCODE_TO_CATEGORY(sqlerrcode) == FRT_ERRCLASS_MEASURES);

	FrtMessagesCodeset();
	fmt = FRT_TR(fmt);
	initStringInfo(&msg);
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&msg, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&msg, needed);
	}
	appendStringInfoString(&msg, FrtCite(article, cite_more));
	snprintf(constraint, sizeof(constraint), "Measures Art. %d", article);

	ereport(ERROR,
			(errcode(sqlerrcode),
			 errmsg_internal("%s", msg.data),
			 detail ? errdetail_internal("%s", FRT_TR(detail)) : 0,
			 hint ? errhint("%s", FRT_TR(hint)) : 0,
			 err_generic_string(PG_DIAG_CONSTRAINT_NAME, constraint)));
	pg_unreachable();
}

PG_FUNCTION_INFO_V1(frt_refuse_masked);

/*
 * SQL: frt._refuse_masked(purpose) -- the one refusal a matcher gets for a
 * subject it may not match (MF006), raised with no error context: the
 * context of a PL/pgSQL RAISE names the check and the line that failed, and
 * would tell an unknown subject from an unconsented, under-14 or re-notice
 * one (GET STACKED DIAGNOSTICS PG_EXCEPTION_CONTEXT, or a client's CONTEXT).
 */
Datum
frt_refuse_masked(PG_FUNCTION_ARGS)
{
	const char *purpose = PG_ARGISNULL(0) ? "NULL" :
		quote_literal_cstr(text_to_cstring(PG_GETARG_TEXT_PP(0)));

	/* restored by the caller's error recovery (PG_TRY / sigsetjmp) */
	error_context_stack = NULL;
	FrtRefuse(FRT_ERRCODE_MASKED_SUBJECT, 6, NULL, NULL, NULL,
			  "subject cannot be verified for purpose %s", purpose);
	PG_RETURN_VOID();
}

/*-------------------------------------------------------------------------
 *
 * refuse.c
 *	  FrtRefuse(): the one way C code raises a refusal under the Measures
 *	  (see frt_refuse.h).  Same format as frt._refuse() in SQL.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "frt_refuse.h"

void
FrtRefuse(int sqlerrcode, int article, const char *cite_more,
		  const char *detail, const char *hint, const char *fmt,...)
{
	StringInfoData msg;
	char		constraint[32];

	Assert(ERRCODE_TO_CATEGORY(sqlerrcode) == FRT_ERRCLASS_MEASURES);

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
	appendStringInfo(&msg, " (Measures Art. %d%s)", article, cite_more ? cite_more : "");
	snprintf(constraint, sizeof(constraint), "Measures Art. %d", article);

	ereport(ERROR,
			(errcode(sqlerrcode),
			 errmsg_internal("%s", msg.data),
			 detail ? errdetail_internal("%s", detail) : 0,
			 hint ? errhint("%s", hint) : 0,
			 err_generic_string(PG_DIAG_CONSTRAINT_NAME, constraint)));
	pg_unreachable();
}

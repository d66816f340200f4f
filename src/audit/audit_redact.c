/*-------------------------------------------------------------------------
 *
 * audit_redact.c
 *	  Keep biometric values out of the server log and the audit trail.
 *
 * A "run" is a list of numbers separated by commas (spaces allowed), as in
 * an embedding literal '[0.12,-0.5,...]', an array '{...}' or ARRAY[...].
 * The log filter (emit_log_hook) replaces runs of FRT_REDACT_MIN_FLOATS or
 * more numbers when one has a fraction or exponent, runs of
 * FRT_REDACT_MIN_NUMBERS or more of any numbers, runs of
 * FRT_REDACT_MIN_BRACKETED or more numbers right after '[' or '{', and '\x' hex strings of
 * FRT_REDACT_MIN_HEX or more digits (bytea casts), in every part of a log
 * message; a statement holding such a value is not logged as is.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/guc.h"

#include "frt_audit.h"

bool		frt_log_redact = true;
static emit_log_hook_type prev_emit_log_hook = NULL;

/* Length of the number starting at s (0 if none); sets *frac if it has one. */
static int
FrtNumberLen(const char *s, bool *frac)
{
	const char *p = s;
	bool		digits = false;

	if (*p == '-' || *p == '+')
		p++;
	/* non-finite values count as numbers (they break no run) */
	if (pg_strncasecmp(p, "nan", 3) == 0 && !isalnum((unsigned char) p[3]))
		return (*frac = true), p + 3 - s;
	if (pg_strncasecmp(p, "infinity", 8) == 0 && !isalnum((unsigned char) p[8]))
		return (*frac = true), p + 8 - s;
	if (pg_strncasecmp(p, "inf", 3) == 0 && !isalnum((unsigned char) p[3]))
		return (*frac = true), p + 3 - s;
	while (isdigit((unsigned char) *p))
		p++, digits = true;
	if (*p == '.')
	{
		p++;
		while (isdigit((unsigned char) *p))
			p++, digits = true, *frac = true;
	}
	if (!digits)
		return 0;
	if ((*p == 'e' || *p == 'E') &&
		(isdigit((unsigned char) p[1]) ||
		 ((p[1] == '-' || p[1] == '+') && isdigit((unsigned char) p[2]))))
	{
		p += 2;
		while (isdigit((unsigned char) *p))
			p++;
		*frac = true;
	}
	return p - s;
}

/* Scan the comma-separated run of numbers at s: its length and counts. */
static int
FrtRunLen(const char *s, int *count, bool *frac)
{
	const char *p = s;
	const char *end = s;

	*count = 0;
	*frac = false;
	for (;;)
	{
		int			n = FrtNumberLen(p, frac);

		if (n == 0)
			break;
		p += n;
		end = p;
		(*count)++;
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (*p != ',')
			break;
		p++;
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
	}
	return end - s;
}

/* Can a number start at s[i] (not inside a word or another number)? */
static inline bool
FrtNumberStart(const char *s, int i)
{
	char		c = s[i];
	char		b = i > 0 ? s[i - 1] : ' ';

	if (!(isdigit((unsigned char) c) || c == '-' || c == '+' || c == '.' ||
		  c == 'n' || c == 'N' || c == 'i' || c == 'I'))
		return false;
	return !(isalnum((unsigned char) b) || b == '_' || b == '.' || b == '$');
}

/* Does the text before s[i] end in '[' or '{' (an array or vector literal)? */
static bool
FrtAfterBracket(const char *s, int i)
{
	while (i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t'))
		i--;
	return i > 0 && (s[i - 1] == '[' || s[i - 1] == '{');
}

/* Length of a '\x' hex string at s[i] long enough to be a vector, else 0. */
static int
FrtHexLen(const char *s, int i)
{
	int			n = 0;

	if (s[i] != '\\' || (s[i + 1] != 'x' && s[i + 1] != 'X'))
		return 0;
	while (isxdigit((unsigned char) s[i + 2 + n]))
		n++;
	return n >= FRT_REDACT_MIN_HEX ? n + 2 : 0;
}

/* Does s hold a run of at least min_numbers numbers (audit field check)? */
bool
FrtLooksBiometric(const char *s, int min_numbers)
{
	for (int i = 0; s[i]; i++)
	{
		int			count;
		bool		frac;
		int			len;

		if (!FrtNumberStart(s, i))
			continue;
		len = FrtRunLen(s + i, &count, &frac);
		if (count >= min_numbers)
			return true;
		if (len > 0)
			i += len - 1;
	}
	return false;
}

/* Copy of s with biometric-looking runs replaced; *changed if any were. */
char *
FrtRedactBiometrics(const char *s, bool *changed)
{
	StringInfoData out;
	int			i = 0;

	*changed = false;
	initStringInfo(&out);
	while (s[i])
	{
		int			count = 0;
		bool		frac = false;
		int			len = 0;

		if (FrtNumberStart(s, i))
			len = FrtRunLen(s + i, &count, &frac);
		if (len > 0 && ((frac && count >= FRT_REDACT_MIN_FLOATS) ||
						count >= FRT_REDACT_MIN_NUMBERS ||
						(count >= FRT_REDACT_MIN_BRACKETED && FrtAfterBracket(s, i))))
		{
			appendStringInfo(&out, "<redacted %d numbers>", count);
			*changed = true;
			i += len;
			continue;
		}
		if (len == 0 && (len = FrtHexLen(s, i)) > 0)
		{
			appendStringInfo(&out, "<redacted %d hex digits>", len - 2);
			*changed = true;
			i += len;
			continue;
		}
		if (len == 0)
			len = 1;
		appendBinaryStringInfo(&out, s + i, len);
		i += len;
	}
	return out.data;
}

/* Redacted copy of a field, or NULL if it needs none (sets *changed). */
static char *
FrtRedactField(const char *field, bool *changed)
{
	bool		c = false;
	char	   *r;

	if (field == NULL)
		return NULL;
	r = FrtRedactBiometrics(field, &c);
	*changed |= c;
	return r;
}

/* Severity name for the note on a redacted message. */
static const char *
FrtLevelName(int elevel)
{
	if (elevel >= PANIC)
		return "PANIC";
	if (elevel >= FATAL)
		return "FATAL";
	if (elevel >= ERROR)
		return "ERROR";
	if (elevel >= WARNING)
		return "WARNING";
	if (elevel >= NOTICE)
		return "NOTICE";
	if (elevel >= INFO)
		return "INFO";
	if (elevel == LOG || elevel == LOG_SERVER_ONLY)
		return "LOG";
	return "DEBUG";
}

static bool FrtInRedactHook = false;

/* Would the server log show the statement with a message of this level? */
static bool
FrtStatementLogged(int elevel)
{
	/* as is_log_level_output(elevel, log_min_error_statement) in elog.c */
	if (elevel == LOG || elevel == LOG_SERVER_ONLY)
		return log_min_error_statement == LOG || log_min_error_statement <= ERROR;
	if (log_min_error_statement == LOG)
		return elevel >= FATAL;
	return elevel >= log_min_error_statement;
}

/*
 * emit_log_hook: if any part of a message bound for the server log (or the
 * statement it would show) holds an embedding-like value, log a redacted
 * copy instead; the client still gets the original message.
 */
static void
FrtRedactLogHook(ErrorData *edata)
{
	if (frt_log_redact && !FrtInRedactHook)
	{
		bool		changed = false;
		bool		stmt_changed = false;
		char	   *msg = FrtRedactField(edata->message, &changed);
		char	   *detail = FrtRedactField(edata->detail_log ? edata->detail_log : edata->detail,
											&changed);
		char	   *hint = FrtRedactField(edata->hint, &changed);
		char	   *context = FrtRedactField(edata->context, &changed);
		char	   *iquery = FrtRedactField(edata->internalquery, &changed);
		char	   *stmt = NULL;

		if (!edata->hide_stmt && debug_query_string != NULL &&
			FrtStatementLogged(edata->elevel))
			stmt = FrtRedactField(debug_query_string, &stmt_changed);
		if (changed || stmt_changed)
		{
			/* the context callbacks already ran: do not add their text again */
			ErrorContextCallback *saved_context = error_context_stack;

			HOLD_INTERRUPTS();
			FrtInRedactHook = true;
			error_context_stack = NULL;
			PG_TRY();
			{
				ereport(LOG_SERVER_ONLY,
						(errcode(edata->sqlerrcode),
						 (edata->elevel == LOG || edata->elevel == LOG_SERVER_ONLY) ?
						 errmsg_internal("%s", msg ? msg : "") :
						 errmsg_internal("%s: %s", FrtLevelName(edata->elevel), msg ? msg : ""),
						 detail ? errdetail_internal("%s", detail) : 0,
						 hint ? errhint("%s", hint) : 0,
						 context ? errcontext_msg("%s", context) : 0,
						 iquery ? errcontext_msg("internal query: %s", iquery) : 0,
						 stmt ? errcontext_msg("statement: %s", stmt) : 0,
						 errcontext_msg("biometric-looking values redacted by frt"),
						 errhidestmt(true)));
			}
			PG_FINALLY();
			{
				error_context_stack = saved_context;
				FrtInRedactHook = false;
				RESUME_INTERRUPTS();
			}
			PG_END_TRY();
			edata->output_to_server = false;
			return;
		}
	}
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

/* Install the log filter and its GUC. */
void
FrtRedactInstallHook(void)
{
	DefineCustomBoolVariable("frt.log_redact",
							 "Redact embedding-like number lists from server log messages.",
							 NULL, &frt_log_redact, true,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = FrtRedactLogHook;
}

PG_FUNCTION_INFO_V1(frt_redact_biometrics);

/* SQL: frt.redact_biometrics(text) -- the log filter applied to a text. */
Datum
frt_redact_biometrics(PG_FUNCTION_ARGS)
{
	bool		changed;

	PG_RETURN_TEXT_P(cstring_to_text(FrtRedactBiometrics(text_to_cstring(PG_GETARG_TEXT_PP(0)),
														 &changed)));
}

/*-------------------------------------------------------------------------
 *
 * audit_redact.c
 *	  Keep biometric values out of the server log and the audit trail.
 *
 * A "run" is a list of numbers separated by commas (spaces allowed), as in
 * an embedding literal '[0.12,-0.5,...]', an array '{...}' or ARRAY[...].
 * The log filter (emit_log_hook) replaces runs of FRT_REDACT_MIN_FLOATS or
 * more numbers when one has a fraction or exponent, runs of
 * FRT_REDACT_MIN_NUMBERS or more of any numbers, and '\x' hex strings of
 * FRT_REDACT_MIN_HEX or more digits (bytea casts), in every part of a log
 * message; a statement holding such a value is not logged as is.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
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

	if (!(isdigit((unsigned char) c) || c == '-' || c == '+' || c == '.'))
		return false;
	return !(isalnum((unsigned char) b) || b == '_' || b == '.' || b == '$');
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
						count >= FRT_REDACT_MIN_NUMBERS))
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

/* Replace *field by its redacted copy if it holds biometric-looking values. */
static bool
FrtRedactField(char **field)
{
	bool		changed = false;
	char	   *r;

	if (*field == NULL)
		return false;
	r = FrtRedactBiometrics(*field, &changed);
	if (changed)
		*field = r;
	else
		pfree(r);
	return changed;
}

/* emit_log_hook: scrub every part of a server-log message. */
static void
FrtRedactLogHook(ErrorData *edata)
{
	if (frt_log_redact)
	{
		FrtRedactField(&edata->message);
		FrtRedactField(&edata->detail);
		FrtRedactField(&edata->detail_log);
		FrtRedactField(&edata->hint);
		FrtRedactField(&edata->context);
		FrtRedactField(&edata->internalquery);
		if (!edata->hide_stmt && debug_query_string != NULL)
		{
			bool		changed;
			char	   *stmt = FrtRedactBiometrics(debug_query_string, &changed);

			if (changed)
			{
				/* Log the redacted statement instead of the original. */
				edata->hide_stmt = true;
				edata->context = edata->context ?
					psprintf("%s\nstatement (redacted by frt): %s", edata->context, stmt) :
					psprintf("statement (redacted by frt): %s", stmt);
			}
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

/*-------------------------------------------------------------------------
 *
 * audit_redact.c
 *	  Keep biometric values out of the server log and the audit trail.
 *
 * A "run" is a list of numbers, as in an embedding literal '[0.12,-0.5,...]',
 * an array '{...}' or ARRAY[...], a JSON array, numpy's "[ 0.1 -0.2 ...]" or
 * bind parameters "$1 = '0.1', $2 = '-0.2'": the numbers may be separated
 * by blanks, line breaks (CR LF too, or written as \n, \r\n), ',' or ';',
 * may be quoted one by one ('0.1', "0.1", \"0.1\"), and an ellipsis does
 * not end the run (see FrtSepLen).  The log filter (emit_log_hook) replaces
 * runs of FRT_REDACT_MIN_FLOATS or more numbers when one has a fraction or
 * exponent (FRT_REDACT_MIN_SPACED_FLOATS when they are separated by blanks
 * only), runs of FRT_REDACT_MIN_NUMBERS or more of any numbers, runs of
 * FRT_REDACT_MIN_BRACKETED or more numbers right after '[' or '{', and '\x'
 * hex strings of FRT_REDACT_MIN_HEX or more digits (bytea casts), in every
 * part of a log message; a statement holding such a value is not logged as
 * is.
 *
 * The hook runs for every message bound for the server log, including
 * while an error is being reported or recovered from, in critical sections
 * and in the postmaster.  So it first reads the message without allocating
 * anything or raising any error, and does nothing more when there is
 * nothing to redact.  Only then does it build redacted copies (in
 * ErrorContext, never failing on out-of-memory) and log them in place of
 * the message, with one nested report; it never uses PG_TRY, so it never
 * re-throws into the error machinery.  If that is not safe (critical
 * section, error recursion) or fails, it falls back to what needs no
 * memory: hide the statement, or keep the message out of the server log.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "frt_audit.h"

bool		frt_log_redact = FRT_LOG_REDACT_DEFAULT;
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

/*
 * Length of the separator between two numbers of a run at s (0 if none):
 * white space (CR and LF too), ',' and ';', quotes around elements ('0.1',
 * "0.1", \"0.1\"), escaped line breaks and tabs written as text (\n, \r\n,
 * \t), an ellipsis ("..." or U+2026, as numpy and truncated logs print),
 * and "$N =" (bind parameters listed one by one).  *listed is set when the
 * separator holds more than blanks: a ',' or ';', a line break, a quote, an
 * escape or "$N =".  Other punctuation ('|', ':', '/', '_' ..., see
 * FrtOddSep) separates too, and sets *odd: such runs are redacted only when
 * long (FRT_REDACT_MIN_NUMBERS), so that times and ratios stay readable.
 */
static int
FrtSepLen(const char *s, bool *listed, bool *odd)
{
	const char *p = s;

	for (;;)
	{
		if (*p == ' ' || *p == '\t')
			p++;
		else if (*p != '\0' && strchr(FRT_REDACT_ODD_SEPARATORS, *p) != NULL)
			p++, *listed = true, *odd = true;
		else if (*p == ',' || *p == ';' || *p == '\n' || *p == '\r' ||
				 *p == '\'' || *p == '"')
			p++, *listed = true;
		else if (*p == '\\' && (p[1] == 'n' || p[1] == 'r' || p[1] == 't'))
			p += 2, *listed = true;
		else if (*p == '\\' && (p[1] == '"' || p[1] == '\'' || p[1] == '\\'))
			p++, *listed = true;
		else if (p[0] == '.' && p[1] == '.' && p[2] == '.')
			p += 3;
		else if ((unsigned char) p[0] == 0xE2 && (unsigned char) p[1] == 0x80 &&
				 (unsigned char) p[2] == 0xA6)
			p += 3;
		else if (*p == '$' && isdigit((unsigned char) p[1]))
		{
			const char *q = p + 1;

			while (isdigit((unsigned char) *q))
				q++;
			while (*q == ' ')
				q++;
			if (*q != '=')
				break;
			p = q + 1;
			*listed = true;
		}
		else
			break;
	}
	return p - s;
}

/*
 * Scan the run of numbers at s: its length (to the end of its last number),
 * the count of numbers, whether one has a fraction or exponent (*frac),
 * whether the numbers are listed (*listed, see FrtSepLen) rather than only
 * blank-separated, and whether a separator was other punctuation (*odd).
 */
static int
FrtRunLen(const char *s, int *count, bool *frac, bool *listed, bool *odd)
{
	const char *p = s;
	const char *end = s;

	*count = 0;
	*frac = false;
	*listed = false;
	*odd = false;
	for (;;)
	{
		bool		sep_listed = false;
		bool		sep_odd = false;
		bool		next_frac = false;
		int			n = FrtNumberLen(p, frac);
		int			sep;

		if (n == 0)
			break;
		p += n;
		end = p;
		(*count)++;
		sep = FrtSepLen(p, &sep_listed, &sep_odd);
		if (sep == 0)
			break;
		p += sep;
		if (FrtNumberLen(p, &next_frac) == 0)
			break;
		*listed |= sep_listed;
		*odd |= sep_odd;
	}
	return end - s;
}

/* Is s[i - 2], s[i - 1] a backslash escape written as text (\n, \r, \t)? */
static inline bool
FrtEscapeBefore(const char *s, int i)
{
	return i >= 2 && s[i - 2] == '\\' &&
		(s[i - 1] == 'n' || s[i - 1] == 'r' || s[i - 1] == 't');
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
	if (FrtEscapeBefore(s, i))
		return true;
	return !(isalnum((unsigned char) b) || b == '_' || b == '.' || b == '$');
}

/*
 * Does the text before s[i] end in '[' or '{' (an array or vector literal),
 * allowing blanks, line breaks, quotes and escapes in between?
 */
static bool
FrtAfterBracket(const char *s, int i)
{
	while (i > 0)
	{
		char		b = s[i - 1];

		if (b == ' ' || b == '\t' || b == '\n' || b == '\r' ||
			b == '\'' || b == '"' || b == '\\')
			i--;
		else if (FrtEscapeBefore(s, i))
			i -= 2;
		else
			break;
	}
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

/* Is c a character of base64 text (standard or URL-safe alphabet)? */
static inline bool
FrtBase64Char(char c)
{
	return isalnum((unsigned char) c) || c == '+' || c == '/' || c == '-' || c == '_';
}

/*
 * Length of an encoded blob at s[i] long enough to be a vector (0 if none):
 * bare hex digits (decode(..., 'hex'), FRT_REDACT_MIN_BARE_HEX or more) or
 * base64 (FRT_REDACT_MIN_BASE64 or more characters with upper and lower
 * case letters and digits, '=' padding and the line breaks encode() puts
 * every 76 characters included).  Only where such a text can start (not
 * inside a word).  *digits is set to the count of encoded characters and
 * *hex to whether all are hex digits.
 */
static int
FrtBlobLen(const char *s, int i, int *digits, bool *hex)
{
	int			n = 0;
	int			len = 0;
	bool		upper = false;
	bool		lower = false;
	bool		digit = false;

	*digits = 0;
	*hex = true;
	if (!FrtBase64Char(s[i]) || (i > 0 && (FrtBase64Char(s[i - 1]) || s[i - 1] == '\\')))
		return 0;
	for (;;)
	{
		char		c = s[i + len];

		if (FrtBase64Char(c))
		{
			n++;
			upper |= isupper((unsigned char) c) != 0;
			lower |= islower((unsigned char) c) != 0;
			digit |= isdigit((unsigned char) c) != 0;
			*hex &= isxdigit((unsigned char) c) != 0;
			len++;
		}
		else if ((c == '\n' || c == '\r') && FrtBase64Char(s[i + len + 1]))
			len++;
		else
			break;
	}
	while (s[i + len] == '=')
		len++;
	*digits = n;
	if (*hex && n >= FRT_REDACT_MIN_BARE_HEX)
		return len;
	*hex = false;
	if (n >= FRT_REDACT_MIN_BASE64 && upper && lower && digit)
		return len;
	return 0;
}

/* Does s hold a run of at least min_numbers numbers (audit field check)? */
bool
FrtLooksBiometric(const char *s, int min_numbers)
{
	for (int i = 0; s[i]; i++)
	{
		int			count;
		bool		frac;
		bool		listed;
		bool		odd;
		int			len;

		if (!FrtNumberStart(s, i))
			continue;
		len = FrtRunLen(s + i, &count, &frac, &listed, &odd);
		if (count >= min_numbers)
			return true;
		if (len > 0)
			i += len - 1;
	}
	return false;
}

/*
 * What the filter does at s[i]: returns the length of text it consumes in
 * one step; *redact is set to the count of numbers (or of hex digits, with
 * *hex, or of base64 characters, with *b64) when that text is replaced,
 * else to 0.  Reads s only.
 */
static int
FrtRedactStep(const char *s, int i, int *redact, bool *hex, bool *b64)
{
	int			count = 0;
	bool		frac = false;
	bool		listed = false;
	bool		odd = false;
	int			len = 0;

	*redact = 0;
	*hex = false;
	*b64 = false;
	/* an encoded blob first: bare hex may begin with digits */
	{
		int			digits;
		bool		allhex;
		int			blob = FrtBlobLen(s, i, &digits, &allhex);

		if (blob > 0)
		{
			*redact = digits;
			*hex = allhex;
			*b64 = !allhex;
			return blob;
		}
	}
	if (FrtNumberStart(s, i))
		len = FrtRunLen(s + i, &count, &frac, &listed, &odd);
	if (len > 0 && (count >= FRT_REDACT_MIN_NUMBERS ||
					(!odd && ((frac && count >= (listed ? FRT_REDACT_MIN_FLOATS :
												 FRT_REDACT_MIN_SPACED_FLOATS)) ||
							  (count >= FRT_REDACT_MIN_BRACKETED && FrtAfterBracket(s, i))))))
	{
		*redact = count;
		return len;
	}
	if (len == 0 && (len = FrtHexLen(s, i)) > 0)
	{
		*redact = len - 2;
		*hex = true;
		return len;
	}
	return len > 0 ? len : 1;
}

/*
 * The filter over s: writes s to out (unless out is NULL) with every
 * biometric-looking value replaced, and returns the length of the result;
 * *found tells whether anything was replaced.  Never allocates and never
 * raises an error: with out NULL it is the log hook's read-only check.
 */
static size_t
FrtRedactWalk(const char *s, char *out, bool *found)
{
	size_t		n = 0;
	int			i = 0;

	*found = false;
	while (s[i])
	{
		int			redact;
		bool		hex;
		bool		b64;
		int			len = FrtRedactStep(s, i, &redact, &hex, &b64);

		if (redact > 0)
		{
			char		token[64];
			int			tlen = snprintf(token, sizeof(token),
										hex ? "<redacted %d hex digits>" :
										b64 ? "<redacted %d base64 characters>" :
										"<redacted %d numbers>",
										redact);

			if (out)
				memcpy(out + n, token, tlen);
			n += tlen;
			*found = true;
		}
		else
		{
			if (out)
				memcpy(out + n, s + i, len);
			n += len;
		}
		i += len;
	}
	if (out)
		out[n] = '\0';
	return n;
}

/* Does s hold anything the log filter replaces?  Reads s only. */
static bool
FrtNeedsRedaction(const char *s)
{
	bool		found = false;

	if (s != NULL)
		(void) FrtRedactWalk(s, NULL, &found);
	return found;
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

/* Would the server log show the statement with a message of this level? */
static bool
FrtStatementLogged(int elevel)
{
	/* as is_log_level_output(elevel, log_min_error_statement) in elog.c */
	if (elevel == LOG || elevel == LOG_SERVER_ONLY)
		return log_min_error_statement == LOG || log_min_error_statement <= ERROR;
	if (elevel == WARNING_CLIENT_ONLY)
		return false;
	if (log_min_error_statement == LOG)
		return elevel >= FATAL;
	return elevel >= log_min_error_statement;
}

/* The parts of a message that the server log shows. */
typedef enum FrtLogPart
{
	FRT_LP_MESSAGE,
	FRT_LP_DETAIL,
	FRT_LP_HINT,
	FRT_LP_CONTEXT,
	FRT_LP_QUERY,				/* internal query */
	FRT_LP_STATEMENT,			/* the statement logged with the message */
	FRT_LP_COUNT
} FrtLogPart;

/*
 * Point part[] at the parts of the message the server log would show (NULL
 * if absent) and set dirty[] for those that need redaction; true if any
 * does.  Reads only: no allocation, no error.
 */
static bool
FrtLogParts(const ErrorData *edata, const char **part, bool *dirty)
{
	bool		any = false;

	part[FRT_LP_MESSAGE] = edata->message;
	part[FRT_LP_DETAIL] = edata->detail_log ? edata->detail_log : edata->detail;
	part[FRT_LP_HINT] = edata->hint;
	part[FRT_LP_CONTEXT] = edata->context;
	part[FRT_LP_QUERY] = edata->internalquery;
	part[FRT_LP_STATEMENT] = (!edata->hide_stmt && debug_query_string != NULL &&
							  FrtStatementLogged(edata->elevel)) ? debug_query_string : NULL;
	for (int p = 0; p < FRT_LP_COUNT; p++)
		any |= (dirty[p] = FrtNeedsRedaction(part[p]));
	return any;
}

/*
 * No redacted copy can be logged: hide the statement if it needs redaction,
 * and keep the message out of the server log if another part does.  Needs
 * no memory.  Returns whether the message still goes to the server log.
 */
static bool
FrtRedactFallback(ErrorData *edata, const bool *dirty)
{
	for (int p = 0; p < FRT_LP_STATEMENT; p++)
		if (dirty[p])
		{
			edata->output_to_server = false;
			return false;
		}
	if (dirty[FRT_LP_STATEMENT])
		edata->hide_stmt = true;
	return true;
}

/* The text domain of the redacted copies: how the hook knows its own reports. */
static const char FrtRedactDomain[] = "frt-redact";

/*
 * The errordata entry of the message the hook is replacing while it logs the
 * copy, else NULL.  A message at a deeper entry arriving meanwhile was
 * raised inside the hook; one at the same or a shallower entry means the
 * error machinery was reset since (the hook was left by an error), so the
 * value is stale.
 */
static ErrorData *FrtRedactBusy = NULL;

/*
 * Log a redacted copy in place of the message, as LOG, with the severity as
 * a prefix of the text.  The copies are made in ErrorContext without failing
 * on out-of-memory; returns false (having logged nothing) if they cannot be.
 */
static bool
FrtLogRedactedCopy(ErrorData *edata, const char **part, const bool *dirty)
{
	char	   *copy[FRT_LP_COUNT];
	const char *text[FRT_LP_COUNT];
	bool		ok = true;
	ErrorContextCallback *saved_context;

	for (int p = 0; p < FRT_LP_COUNT; p++)
	{
		bool		found;

		copy[p] = NULL;
		text[p] = part[p];
		if (!dirty[p] || !ok)
			continue;
		copy[p] = MemoryContextAllocExtended(ErrorContext,
											 FrtRedactWalk(part[p], NULL, &found) + 1,
											 MCXT_ALLOC_NO_OOM);
		if (copy[p] == NULL)
			ok = false;
		else
			(void) FrtRedactWalk(part[p], copy[p], &found);
		text[p] = copy[p];
	}

	if (ok)
	{
		/* the context callbacks already ran: their text is in part[FRT_LP_CONTEXT] */
		saved_context = error_context_stack;
		error_context_stack = NULL;
		FrtRedactBusy = edata;
		HOLD_INTERRUPTS();
		ereport_domain(LOG_SERVER_ONLY, FrtRedactDomain,
					   (errcode(edata->sqlerrcode),
						(edata->elevel == LOG || edata->elevel == LOG_SERVER_ONLY) ?
						errmsg_internal("%s", text[FRT_LP_MESSAGE] ? text[FRT_LP_MESSAGE] : "") :
						errmsg_internal("%s: %s", FrtLevelName(edata->elevel),
										text[FRT_LP_MESSAGE] ? text[FRT_LP_MESSAGE] : ""),
						text[FRT_LP_DETAIL] ? errdetail_internal("%s", text[FRT_LP_DETAIL]) : 0,
						text[FRT_LP_HINT] ? errhint("%s", text[FRT_LP_HINT]) : 0,
						text[FRT_LP_CONTEXT] ? errcontext_msg("%s", text[FRT_LP_CONTEXT]) : 0,
						text[FRT_LP_QUERY] ? errcontext_msg("internal query: %s", text[FRT_LP_QUERY]) : 0,
						text[FRT_LP_STATEMENT] ? errcontext_msg("statement: %s", text[FRT_LP_STATEMENT]) : 0,
						errcontext_msg("biometric-looking values redacted by frt"),
						errhidestmt(true)));
		RESUME_INTERRUPTS();
		FrtRedactBusy = NULL;
		error_context_stack = saved_context;
	}
	for (int p = 0; p < FRT_LP_COUNT; p++)
		if (copy[p])
			pfree(copy[p]);
	return ok;
}

/*
 * emit_log_hook: if any part of a message bound for the server log (or the
 * statement it would show) holds an embedding-like value, log a redacted
 * copy instead; the client still gets the original message.  Every message
 * that goes to the server log, as it goes there, is passed on to the
 * previous hook.
 */
static void
FrtRedactLogHook(ErrorData *edata)
{
	const char *part[FRT_LP_COUNT];
	bool		dirty[FRT_LP_COUNT];

	if (edata->domain == FrtRedactDomain)
	{
		/* our own redacted copy */
	}
	else if (FrtRedactBusy != NULL && edata > FrtRedactBusy)
	{
		/* raised inside the hook (while logging a copy): never a second try */
		if (frt_log_redact && FrtLogParts(edata, part, dirty) &&
			!FrtRedactFallback(edata, dirty))
			return;
	}
	else
	{
		FrtRedactBusy = NULL;	/* stale: left by an error, since recovered */
		if (frt_log_redact && FrtLogParts(edata, part, dirty))
		{
			if (CritSectionCount == 0 && !in_error_recursion_trouble() &&
				FrtLogRedactedCopy(edata, part, dirty))
			{
				edata->output_to_server = false;
				return;
			}
			if (!FrtRedactFallback(edata, dirty))
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
							 NULL, &frt_log_redact, FRT_LOG_REDACT_DEFAULT,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = FrtRedactLogHook;
}

PG_FUNCTION_INFO_V1(frt_redact_biometrics);

/* SQL: frt.redact_biometrics(text) -- the log filter applied to a text. */
Datum
frt_redact_biometrics(PG_FUNCTION_ARGS)
{
	char	   *s = text_to_cstring(PG_GETARG_TEXT_PP(0));
	bool		found;
	size_t		len = FrtRedactWalk(s, NULL, &found);
	char	   *out;

	if (!found)
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));	/* the log hook's "nothing to do" */
	out = palloc(len + 1);
	(void) FrtRedactWalk(s, out, &found);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(out, len));
}

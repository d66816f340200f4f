/*-------------------------------------------------------------------------
 *
 * messages.c
 *	  Messages of the governance SQL in the caller's language: frt._t(),
 *	  the citation of the Measures, and the English a translated message
 *	  came from (what the audit trail records).
 *
 * frt._t(template, args...) is format() on the template translated by the
 * catalogue (include/frt_nls.h): %s, %L, %I and %% as in format().  Every
 * message, detail and hint of the governance SQL goes through it.  It also
 * remembers, for its last few results, the English text the same call gives
 * under lc_messages = 'C'; frt._t_source() gives it back, so that _refuse
 * and _reject record the reason in English whatever the caller's language.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"

#include "frt_governance.h"
#include "frt_nls.h"
#include "frt_refuse.h"

/* A translated result of frt._t() and the English it came from. */
typedef struct FrtTranslation
{
	char	   *local;
	char	   *english;
} FrtTranslation;

static FrtTranslation FrtRecent[FRT_NLS_RECENT];
static int	FrtRecentNext = 0;
static int	FrtCodesetEncoding = -1;

/*
 * The article labels: "Art. N" in the caller's language ("第N条").  Index 0
 * is unused; articles past the table are cited with their number.
 */
static const char *const FrtArticleLabel[] = {
	NULL,
	FRT_TR_NOOP("Art. 1"), FRT_TR_NOOP("Art. 2"), FRT_TR_NOOP("Art. 3"),
	FRT_TR_NOOP("Art. 4"), FRT_TR_NOOP("Art. 5"), FRT_TR_NOOP("Art. 6"),
	FRT_TR_NOOP("Art. 7"), FRT_TR_NOOP("Art. 8"), FRT_TR_NOOP("Art. 9"),
	FRT_TR_NOOP("Art. 10"), FRT_TR_NOOP("Art. 11"), FRT_TR_NOOP("Art. 12"),
	FRT_TR_NOOP("Art. 13"), FRT_TR_NOOP("Art. 14"), FRT_TR_NOOP("Art. 15"),
	FRT_TR_NOOP("Art. 16"), FRT_TR_NOOP("Art. 17"), FRT_TR_NOOP("Art. 18"),
	FRT_TR_NOOP("Art. 19"), FRT_TR_NOOP("Art. 20")
};

/*
 * Make translated messages come out in the database encoding.  The library
 * is preloaded, so _PG_init ran before any database was chosen; a backend
 * calls this once it has one (audit_ddl.c's hooks, frt._t(), FrtRefuse()).
 * The core library shares the domain, so this covers its messages too.
 */
void
FrtMessagesCodeset(void)
{
#ifdef ENABLE_NLS
	int			enc = GetDatabaseEncoding();

	if (enc != FrtCodesetEncoding)
	{
		pg_bind_textdomain_codeset(TEXTDOMAIN);
		FrtCodesetEncoding = enc;
	}
#endif
}

/*
 * The citation appended to a refusal: " (Measures Art. N<cite_more>)" in
 * the caller's language; cite_more (", 15", "; PIPL Art. 56") is itself a
 * message of the catalogue.  Palloc'd.
 */
char *
FrtCite(int article, const char *cite_more)
{
	const char *label;

	FrtMessagesCodeset();
	if (article > 0 && article < (int) lengthof(FrtArticleLabel))
		label = FRT_TR(FrtArticleLabel[article]);
	else
		label = psprintf(FRT_TR("Art. %d"), article);
	return psprintf(FRT_TR(" (Measures %s%s)"), label,
					cite_more && *cite_more ? FRT_TR(cite_more) : "");
}

/* Remember that local is the translation of english (frt._t_source). */
static void
FrtRemember(const char *local, const char *english)
{
	FrtTranslation *t = &FrtRecent[FrtRecentNext];

	if (t->local)
		pfree(t->local);
	if (t->english)
		pfree(t->english);
	t->local = MemoryContextStrdup(TopMemoryContext, local);
	t->english = MemoryContextStrdup(TopMemoryContext, english);
	FrtRecentNext = (FrtRecentNext + 1) % FRT_NLS_RECENT;
}

PG_FUNCTION_INFO_V1(frt_t);

/*
 * SQL: frt._t(template text [, VARIADIC "any"]) -- format() of the template
 * translated (lc_messages).  The arguments are format()'s, so the result
 * under lc_messages = 'C' is exactly format(template, ...).
 */
Datum
frt_t(PG_FUNCTION_ARGS)
{
	char	   *template;
	const char *local;
	Datum		english;
	Datum		result;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	FrtMessagesCodeset();
	template = text_to_cstring(PG_GETARG_TEXT_PP(0));
	local = FRT_TR(template);
	/* text_format reads the arguments and their types from fcinfo */
	english = text_format(fcinfo);
	if (local == template || strcmp(local, template) == 0 || fcinfo->isnull)
		return english;
	fcinfo->args[0].value = CStringGetTextDatum(local);
	result = text_format(fcinfo);
	if (fcinfo->isnull)
		return english;
	FrtRemember(TextDatumGetCString(result), TextDatumGetCString(english));
	return result;
}

PG_FUNCTION_INFO_V1(frt_t_source);

/*
 * SQL: frt._t_source(message text) -- the English of a message frt._t()
 * translated lately in this session, else the message as given.
 */
Datum
frt_t_source(PG_FUNCTION_ARGS)
{
	char	   *msg;
	int			i;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	msg = text_to_cstring(PG_GETARG_TEXT_PP(0));
	for (i = 1; i <= FRT_NLS_RECENT; i++)
	{
		FrtTranslation *t = &FrtRecent[(FrtRecentNext - i + FRT_NLS_RECENT) % FRT_NLS_RECENT];

		if (t->local && strcmp(t->local, msg) == 0)
			PG_RETURN_TEXT_P(cstring_to_text(t->english));
	}
	PG_RETURN_TEXT_P(PG_GETARG_TEXT_PP(0));
}

PG_FUNCTION_INFO_V1(frt_cite);

/*
 * SQL: frt._cite(article int4, cite_more text) -- the citation frt._refuse()
 * appends, as FrtRefuse() does (FrtCite).
 */
Datum
frt_cite(PG_FUNCTION_ARGS)
{
	int			article = PG_ARGISNULL(0) ? 0 : PG_GETARG_INT32(0);
	char	   *more = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));

	PG_RETURN_TEXT_P(cstring_to_text(FrtCite(article, more)));
}

/*-------------------------------------------------------------------------
 *
 * frt_nls.h
 *	  Translated messages (PostgreSQL NLS) of both frt libraries.
 *
 * Both libraries share one gettext domain, FRT_TEXTDOMAIN, set by
 * mk/common.mk to "frt-<major version>"; mk/common.mk also makes every C
 * file include this header first (-include), which makes it the TEXTDOMAIN
 * of ereport (elog.h sets NULL, PostgreSQL's own domain, unconditionally,
 * so it is replaced after postgres.h); its catalogues are built from
 * po/<lang>.po and
 * installed under $(pg_config --localedir)/<lang>/LC_MESSAGES/.  ereport's
 * errmsg(), errdetail() and errhint() translate through TEXTDOMAIN by
 * themselves; lc_messages chooses the language.  Any other message string
 * is marked with FRT_TR() (translated where it is used) or FRT_TR_NOOP()
 * (only extracted; translated later).  See docs/translation.md.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FRT_NLS_H
#define FRT_NLS_H

#include "postgres.h"

#undef TEXTDOMAIN
#define TEXTDOMAIN FRT_TEXTDOMAIN

/* The message msgid in the caller's language (lc_messages). */
#define FRT_TR(msgid)		dgettext(TEXTDOMAIN, (msgid))
/* Marks msgid for the catalogue without translating it here. */
#define FRT_TR_NOOP(msgid)	(msgid)

/* Bind the catalogue (from each library's _PG_init; needs miscadmin.h). */
#define FRT_NLS_INIT()		pg_bindtextdomain(TEXTDOMAIN)

#endif							/* FRT_NLS_H */

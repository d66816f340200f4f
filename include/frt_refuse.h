/*-------------------------------------------------------------------------
 *
 * frt_refuse.h
 *	  Refusals under the Measures, raised from C.
 *
 * A refusal has an SQLSTATE of class MF ("Measures"; the SQL standard
 * reserves classes beginning with F for itself), a message ending in
 * "(Measures Art. N)" and the article, as 'Measures Art. N', in the error's
 * CONSTRAINT field, where drivers expose it (libpq PG_DIAG_CONSTRAINT_NAME,
 * psycopg Diagnostic.constraint_name, JDBC getConstraint()).
 *
 * C code raises a refusal only through FrtRefuse(); SQL code only through
 * frt._refuse() (src/registry/40_functions.sql), which formats it the same
 * way and records it in the audit trail first.  test/t/009_refusal_helper.pl
 * and sql/gov_refusals.sql fail on a refusal raised any other way.  The
 * codes are listed in docs/sql/governance.md ("Refusal codes").
 *
 *-------------------------------------------------------------------------
 */
#ifndef FRT_REFUSE_H
#define FRT_REFUSE_H

#include "postgres.h"

/* The class of every refusal: MF000 as a category. */
#define FRT_ERRCLASS_MEASURES			MAKE_SQLSTATE('M','F','0','0','0')

/* Refusals raised by C code (the audit layer). */
#define FRT_ERRCODE_MASKED_SUBJECT	MAKE_SQLSTATE('M','F','0','0','6')	/* what a matcher sees */
#define FRT_ERRCODE_AUDIT_UNAVAILABLE	MAKE_SQLSTATE('M','F','1','4','0')
#define FRT_ERRCODE_AUDIT_APPEND_ONLY	MAKE_SQLSTATE('M','F','1','4','1')
#define FRT_ERRCODE_AUDIT_RELAY_CLAIM	MAKE_SQLSTATE('M','F','1','4','3')

/* Refusals raised by C code of the keys layer (src/keys/). */
#define FRT_ERRCODE_KEY_UNAVAILABLE	MAKE_SQLSTATE('M','F','1','5','0')	/* no key to seal or open with */
#define FRT_ERRCODE_KEY_DESTROYED	MAKE_SQLSTATE('M','F','1','5','1')	/* sealed under a destroyed epoch */

/*
 * Raise a refusal: ERROR with sqlerrcode (class MF), the message fmt...
 * followed by " (Measures Art. <article><cite_more>)", the CONSTRAINT field
 * "Measures Art. <article>", and detail and hint when not NULL (taken as
 * they are, not as formats).  fmt, detail, hint and cite_more are looked
 * up in the message catalogue (lc_messages); the SQLSTATE and the
 * CONSTRAINT field never change with the language.  cite_more adds to the citation, e.g. "; PIPL
 * Art. 56"; usually NULL.  Never returns.
 */
extern void FrtRefuse(int sqlerrcode, int article, const char *cite_more,
					  const char *detail, const char *hint,
					  const char *fmt,...) pg_attribute_printf(6, 7) pg_attribute_noreturn();

/* src/audit/messages.c: the citation in the caller's language; the codeset. */
extern char *FrtCite(int article, const char *cite_more);
extern void FrtMessagesCodeset(void);

#endif							/* FRT_REFUSE_H */

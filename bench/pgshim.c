/*-------------------------------------------------------------------------
 *
 * pgshim.c
 *	  Stand-ins for the few PostgreSQL server functions referenced by
 *	  src/kernels/kernels.o (only its SQL-callable functions use them), so
 *	  kernelbench can link the real kernel objects outside the server.
 *	  None is ever called by the benchmark; each aborts if it is.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>

void		InitMaterializedSRF(void);
void	   *palloc(size_t size);
void	   *cstring_to_text(const char *s);
void		tuplestore_putvalues(void);

/* Report that a server-only function was reached, and stop. */
static void
ShimAbort(const char *name)
{
	fprintf(stderr, "kernelbench: server function %s called outside the server\n", name);
	abort();
}

/* Stand-in: never called by the benchmark. */
void
InitMaterializedSRF(void)
{
	ShimAbort("InitMaterializedSRF");
}

/* Stand-in: never called by the benchmark. */
void *
palloc(size_t size)
{
	ShimAbort("palloc");
	return NULL;
}

/* Stand-in: never called by the benchmark. */
void *
cstring_to_text(const char *s)
{
	ShimAbort("cstring_to_text");
	return NULL;
}

/* Stand-in: never called by the benchmark. */
void
tuplestore_putvalues(void)
{
	ShimAbort("tuplestore_putvalues");
}

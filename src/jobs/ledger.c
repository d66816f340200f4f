/*-------------------------------------------------------------------------
 *
 * ledger.c
 *	  Trigger that records where each deleted face row lived.
 *
 * frt._erasure_ledger_trigger(col, ...) is an AFTER DELETE row trigger.  It
 * passes the deleted row's TID and inserting transaction id (xmin), which
 * SQL cannot see in a trigger, together with the text of the named columns,
 * to @extschema@._erasure_record(tid, xid, text[]).  Those two values let
 * frt.heap_tid_state() later prove that the tuple and its index entries are
 * gone from the files.  The trigger refuses to pass a face_embedding column:
 * no biometric value ever reaches the ledger.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "frt_governance.h"
#include "frt_gov_names.h"
#include "frt_jobs.h"

PG_FUNCTION_INFO_V1(frt_erasure_ledger_trigger);

/* Is a column of this type an embedding (or a domain or array over one)? */
static bool
FrtLedgerIsEmbedding(Oid typid, Oid embedding)
{
	Oid			elem;

	typid = getBaseType(typid);
	elem = get_element_type(typid);
	if (OidIsValid(elem))
		typid = getBaseType(elem);
	return OidIsValid(embedding) && typid == embedding;
}

/* Text of column 'name' of the deleted row (NULL if null); never an embedding. */
static Datum
FrtLedgerColumn(Relation rel, HeapTuple tup, const char *name, Oid embedding, bool *isnull)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			attno = SPI_fnumber(desc, name);
	char	   *val;

	if (attno <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of \"%s\" does not exist", name,
						RelationGetRelationName(rel))));
	if (FrtLedgerIsEmbedding(SPI_gettypeid(desc, attno), embedding))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the erasure ledger never records an embedding column (\"%s\")", name)));
	val = SPI_getvalue(tup, desc, attno);
	*isnull = (val == NULL);
	return val ? CStringGetTextDatum(val) : (Datum) 0;
}

/* AFTER DELETE FOR EACH ROW: hand TID, xmin and the named columns to SQL. */
Datum
frt_erasure_ledger_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Trigger    *trigger;
	HeapTuple	tup;
	Datum	   *elems;
	bool	   *elnulls;
	int			dims[1];
	int			lbs[1] = {1};
	int			i;
	Datum		args[3];
	Oid			argtypes[3] = {TIDOID, XIDOID, TEXTARRAYOID};
	Oid			embedding;
	char	   *query;
	int			ret;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "frt._erasure_ledger_trigger: not called by trigger manager");
	if (!TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) ||
		!TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		elog(ERROR, "frt._erasure_ledger_trigger must be an AFTER DELETE FOR EACH ROW trigger");

	trigger = trigdata->tg_trigger;
	tup = trigdata->tg_trigtuple;

	embedding = FrtGovTypeOid(FRT_TYPE_FACE_EMBEDDING, false);
	elems = palloc(sizeof(Datum) * Max(trigger->tgnargs, 1));
	elnulls = palloc(sizeof(bool) * Max(trigger->tgnargs, 1));
	for (i = 0; i < trigger->tgnargs; i++)
		elems[i] = FrtLedgerColumn(trigdata->tg_relation, tup, trigger->tgargs[i], embedding,
								   &elnulls[i]);
	dims[0] = trigger->tgnargs;

	args[0] = PointerGetDatum(&tup->t_self);
	args[1] = TransactionIdGetDatum(HeapTupleHeaderGetRawXmin(tup->t_data));
	args[2] = PointerGetDatum(construct_md_array(elems, elnulls, 1, dims, lbs,
												 TEXTOID, -1, false, TYPALIGN_INT));

	query = psprintf("SELECT %s($1, $2, $3)", FrtGovFuncName(FRT_FUNC_ERASURE_RECORD));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args(query, 3, argtypes, args, NULL, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "recording an erasure failed: %s", SPI_result_code_string(ret));
	SPI_finish();

	return PointerGetDatum(NULL);
}

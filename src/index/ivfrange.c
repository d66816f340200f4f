/*-------------------------------------------------------------------------
 *
 * ivfrange.c
 *	  Threshold keys of an frt_ivf scan (e <<=> frt.face_within(p, t) etc.,
 *	  written by the planner hook from "e <=> p < t"): where the scan may
 *	  stop.
 *
 * A scan returns rows in non-decreasing order of a proven lower bound of
 * their distance to its ranking probe (the ORDER BY probe, or without ORDER
 * BY the first key's probe).  A row whose bound is above a threshold t given
 * for that same probe has distance >= bound > t, and so has every later row:
 * the scan ends there.  A threshold scan visits every list in one batch (it
 * is exact whatever frt.exact says: a threshold query is a match, and the
 * stop keeps it cheap) and skips the NULL list (a NULL distance never
 * passes).  Rows are returned with xs_recheck, so the executor applies the
 * keys exactly; a key whose probe is not the ranking probe only filters.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "frt_compat.h"

#include <math.h>

#include "access/relscan.h"
#include "access/skey.h"

#include "frt_embedding.h"
#include "frt_ivf.h"

/* Two probes are the same value (so bounds for one hold for the other). */
static bool
FrtIvfSameProbe(const FaceEmbedding *a, const FaceEmbedding *b)
{
	return a->dim == b->dim &&
		memcmp(a->x, b->x, sizeof(float) * a->dim) == 0;
}

/*
 * Read the scan's threshold keys (in the scan's memory context, at amrescan)
 * and find the tightest threshold that bounds the ranking probe.  A key
 * whose probe has another dimension than the index is left to the
 * executor's recheck, which raises the operator's own error at the first
 * row (and none on an empty table), exactly as the original clause would.
 */
void
FrtIvfRangePrepare(IndexScanDesc scan, FrtIvfRange *range, int indexdim)
{
	FaceEmbedding *ref = NULL;
	FrtFaceWithin **keys;

	memset(range, 0, sizeof(FrtIvfRange));
	if (scan->numberOfKeys == 0)
		return;
	range->active = true;
	keys = palloc(sizeof(FrtFaceWithin *) * scan->numberOfKeys);
	for (int i = 0; i < scan->numberOfKeys; i++)
	{
		ScanKey		key = &scan->keyData[i];

		if (key->sk_flags & SK_ISNULL)
		{
			/* the operators are strict: NULL, so no row qualifies */
			range->empty = true;
			return;
		}
		keys[i] = DatumGetFaceWithin(key->sk_argument);
	}

	if (scan->numberOfOrderBys > 0)
	{
		if (!(scan->orderByData[0].sk_flags & SK_ISNULL))
			ref = DatumGetFaceEmbedding(scan->orderByData[0].sk_argument);
	}
	else if (indexdim == 0 || FrtWithinProbe(keys[0])->dim == indexdim)
		ref = range->rankprobe = FrtWithinProbe(keys[0]);
	if (ref == NULL)
		return;

	for (int i = 0; i < scan->numberOfKeys; i++)
	{
		float8		t = FrtWithinThreshold(keys[i]);
		bool		incl = (keys[i]->flags & FRT_WITHIN_INCLUSIVE) != 0;

		/* a NaN threshold passes every number: no stop */
		if (isnan(t) || !FrtIvfSameProbe(FrtWithinProbe(keys[i]), ref))
			continue;
		if (!range->canstop || t < range->limit ||
			(t == range->limit && !incl))
		{
			range->canstop = true;
			range->limit = t;
			range->inclusive = incl;
		}
	}
}

/*
 * Whether the scan ends before a row whose bound is lb (all later rows have
 * bounds >= lb).  A NaN bound means a NaN distance (cosine of a zero
 * vector), which passes no threshold but NaN, and NaN thresholds never stop.
 */
bool
FrtIvfRangeStop(FrtIvfRange *range, float lb)
{
	if (range->empty || range->stopped)
		return true;
	if (FrtIvfRangeBeyond(range, lb))
		range->stopped = true;
	return range->stopped;
}

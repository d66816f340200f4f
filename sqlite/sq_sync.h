/*-------------------------------------------------------------------------
 *
 * sq_sync.h
 *	  Sync of a device to its processor's server (SQLite edition): the
 *	  payload frt.device_sync() of frt_governance takes, and its
 *	  acknowledgement.  Sits on governance (sq_gov.h: the device, consent
 *	  and the audit trail) and on the gallery (frt_face).  See docs/sqlite.md,
 *	  "Sync to the server".
 *
 * SQL functions (sq_sync.c):
 *	frt_sync_export() -> text	the payload: every audit record after the
 *								last one the server acknowledged, and the
 *								faces whose subjects gave the separate
 *								transfer consent (Measures Art. 8); each face
 *								withheld for want of it is audited first
 *	frt_sync_ack(reply) -> int	record the server's reply: what it accepted
 *								and refused (audited); the records shipped
 *								advance to what it acknowledged; returns that
 *								seq
 *	frt_sync_status() -> text	shipped seq, server receipt, faces per state
 *
 *-------------------------------------------------------------------------
 */
#ifndef SQ_SYNC_H
#define SQ_SYNC_H

#include "sq_common.h"

/* The payload's format name (frt.device_sync refuses any other). */
#define FRT_SQ_SYNC_FORMAT		"frt-device-sync-v1"

/* Room for a similarity printed round-trip exact ("%.17g"). */
#define FRT_SQ_SYNC_NUMBER_LEN	32

/* Items of one audit detail object written by sync. */
#define FRT_SQ_SYNC_DETAIL_ITEMS	8

/* A refused export's reasons (audited, in English, as the server's trail keeps them). */
#define FRT_SQ_SYNC_NO_TRANSFER	"no separate consent to transfer face data"
#define FRT_SQ_SYNC_NO_CONSENT	"no active consent"

/* The state of a face in frt_sync_face. */
#define FRT_SQ_SYNC_SENT		"sent"		/* in the last payload, no reply yet */
#define FRT_SQ_SYNC_ACCEPTED	"accepted"	/* the server enrolled it: never sent again */
#define FRT_SQ_SYNC_REFUSED		"refused"	/* the server refused it: sent again after a new transfer consent */
#define FRT_SQ_SYNC_WITHHELD	"withheld"	/* not sent, for want of transfer consent (audited once per consent) */

#endif							/* SQ_SYNC_H */

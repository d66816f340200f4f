/*-------------------------------------------------------------------------
 *
 * frt_audit.h
 *	  The audit trail: records handed by backends through shared memory to a
 *	  per-database background worker that commits them, hash-chained.
 *
 * A backend fills an FrtAuditPayload, queues it in a shared slot tagged with
 * its database and waits on the slot's condition variable; the database's
 * worker (started on demand) takes the pending slots in ticket order,
 * assigns sequence numbers, chains SHA-256 hashes, inserts and commits, and
 * only then acknowledges.  See docs/audit.md.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FRT_AUDIT_H
#define FRT_AUDIT_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "storage/condition_variable.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "utils/jsonb.h"

#include "frt_governance.h"
#include "frt_refuse.h"			/* FRT_ERRCODE_AUDIT_*, raised by FrtRefuse() */
#include "frt_gov_names.h"
#include "frt_chain.h"

/*
 * A record's text fields, in hash order (their columns: FrtAuditFieldCol),
 * and the chain's hash functions (frt.audit_hash, column hash_alg; each
 * record names the one its hash and MAC were made with, docs/audit.md):
 * frt_chain.h's, which a device's trail shares.
 */
typedef FrtChainField FrtAuditField;
#define FRT_AF_EVENT			FRT_CHF_EVENT
#define FRT_AF_OUTCOME			FRT_CHF_OUTCOME
#define FRT_AF_SQLSTATE			FRT_CHF_SQLSTATE
#define FRT_AF_ROLE				FRT_CHF_ROLE
#define FRT_AF_EFFECTIVE_ROLE	FRT_CHF_EFFECTIVE_ROLE
#define FRT_AF_APPLICATION		FRT_CHF_APPLICATION
#define FRT_AF_CLIENT_ADDR		FRT_CHF_CLIENT_ADDR
#define FRT_AF_PURPOSE			FRT_CHF_PURPOSE
#define FRT_AF_SUBJECT			FRT_CHF_SUBJECT
#define FRT_AF_DEVICE			FRT_CHF_DEVICE
#define FRT_AF_DETAIL			FRT_CHF_DETAIL
#define FRT_AUDIT_NFIELDS		FRT_CHAIN_NFIELDS

typedef FrtChainAlg FrtAuditAlg;
#define FRT_AUDIT_ALG_SHA256	FRT_CHAIN_SHA256	/* SHA-256, HMAC-SHA-256 */
#define FRT_AUDIT_ALG_SM3		FRT_CHAIN_SM3	/* SM3, HMAC-SM3 (GB/T 32905) */
#define FRT_AUDIT_NALGS			FRT_CHAIN_NALGS

/* The audit table's column of each text field (audit_hash.c). */
extern const FrtGovCol FrtAuditFieldCol[FRT_AUDIT_NFIELDS];

/* One record as it travels through shared memory (fixed size). */
typedef struct FrtAuditPayload
{
	TimestampTz at;				/* when the event happened (submitter clock) */
	int32		backend_pid;	/* submitting backend */
	bool		has_similarity;
	float8		similarity;
	bool		anchor_now;		/* the writer sends the head out right after it */
	int16		off[FRT_AUDIT_NFIELDS]; /* offset into buf, -1 = NULL */
	int16		used;			/* bytes of buf in use */
	char		buf[FRT_AUDIT_PAYLOAD_BYTES];
} FrtAuditPayload;

/*
 * A record's content as hashed: the same for the writer, the verifier and
 * a device (frt_chain.h; 'at' is a TimestampTz).
 */
typedef FrtChainRecord FrtAuditRow;

/* Slot states. */
#define FRT_SLOT_FREE		0
#define FRT_SLOT_PENDING	1	/* queued, waiting for the worker */
#define FRT_SLOT_TAKEN		2	/* the worker is writing it */
#define FRT_SLOT_DONE		3	/* committed; result_seq valid */
#define FRT_SLOT_FAILED		4	/* could not be written; errmsg valid */

typedef struct FrtAuditSlot
{
	int			state;
	bool		orphaned;		/* submitter gone: worker frees it when done */
	Oid			dboid;
	uint64		ticket;			/* submission order */
	int64		result_seq;
	ConditionVariable cv;		/* submitter sleeps here */
	char		errmsg[FRT_AUDIT_ERRMSG_LEN];
	FrtAuditPayload rec;
} FrtAuditSlot;

/* Worker states per database. */
#define FRT_WORKER_NONE		0
#define FRT_WORKER_STARTING	1
#define FRT_WORKER_RUNNING	2

typedef struct FrtAuditDbWorker
{
	Oid			dboid;
	int			state;
	int			pid;
	Latch	   *latch;
	TimestampTz requested_at;
} FrtAuditDbWorker;

typedef struct FrtAuditShared
{
	LWLock	   *lock;			/* protects everything below */
	uint64		next_ticket;
	int			cursor;			/* next slot to try (ring) */
	FrtAuditDbWorker workers[FRT_AUDIT_MAX_DATABASES];
	FrtAuditSlot slots[FRT_AUDIT_QUEUE_SLOTS];
} FrtAuditShared;

extern FrtAuditShared *FrtAudit;	/* NULL unless preloaded */
extern bool FrtAuditIsWriter;		/* true in an audit worker */
extern int64 FrtAuditPurgeThrough;	/* >0 while a retention purge runs */
extern int	frt_audit_timeout_ms;
extern int	frt_audit_idle_exit_ms;
extern bool frt_log_redact;
extern bool frt_restore;			/* frt.restore: the explicit restore mode */
extern char *frt_audit_primary_conninfo;
extern int	frt_audit_anchor_interval_s;
extern char *frt_audit_anchor_file;
extern char *frt_audit_anchor_command;

/* The chain's head as sent out of the database (audit_anchor.c). */
typedef struct FrtAuditHead
{
	int64		seq;
	FrtAuditAlg alg;			/* of the head record's hash and MAC */
	uint8		hash[FRT_AUDIT_HASH_LEN];
	bool		has_mac;
	uint8		mac[FRT_AUDIT_MAC_LEN];
} FrtAuditHead;

/* audit_shmem.c */
extern void FrtAuditInit(void);

/* Install the hook that names the roles a DROP EXTENSION leaves (audit_roles.c). */
extern void FrtRolesInit(void);
extern int64 FrtAuditSubmit(FrtAuditPayload *rec);
extern void FrtAuditPayloadSet(FrtAuditPayload *rec, FrtAuditField f,
							   const char *value);
extern const char *FrtAuditPayloadGet(const FrtAuditPayload *rec,
									  FrtAuditField f);

/* audit_sql.c */
extern bool FrtAuditRestoring(void);
extern int64 FrtAuditRecord(const char *event, const char *outcome, const char *detail,
							bool anchor_now);
extern void FrtAuditFillWho(FrtAuditPayload *rec);

/* audit_claim.c: the fields of a relayed claim, in the order its MAC covers them */
typedef enum FrtClaimField
{
	FRT_CF_EVENT,
	FRT_CF_OUTCOME,
	FRT_CF_PURPOSE,
	FRT_CF_SUBJECT,
	FRT_CF_DEVICE,
	FRT_CF_SQLSTATE,
	FRT_CF_COUNT
} FrtClaimField;

extern Jsonb *FrtAuditBindOrigin(const char *const *fields, const float8 *similarity,
								 Jsonb *detail);
extern void FrtAuditClaimMac(FrtAuditAlg alg, const char *const *fields,
							 const float8 *similarity, Jsonb *detail, uint8 *mac);

/* audit_relay.c */
extern int64 FrtAuditRelay(const FrtAuditPayload *rec);
/* raises its caller's error on failure; never returns */
typedef void (*FrtRelayFailure) (const char *why, const char *detail);
struct pg_result;
extern struct pg_result *FrtAuditRelayQuery(const char *sql, int nparams,
											const char *const *params,
											FrtRelayFailure onfail);
extern void FrtAuditRelayDrop(void);

/* audit_worker.c */
extern PGDLLEXPORT void FrtAuditWorkerMain(Datum main_arg);

/* audit_key.c: the audit key, loaded at server start, never visible to SQL */
extern void FrtAuditKeyInit(void);
extern bool FrtAuditKeyed(void);
extern void FrtAuditMac(FrtAuditAlg alg, const uint8 *hash, uint8 *mac);
extern bool FrtAuditMacVerifies(FrtAuditAlg alg, const uint8 *hash, const uint8 *mac);
extern void FrtAuditMacOf(FrtAuditAlg alg, const char *tag, const uint8 *data, size_t len,
						  uint8 *mac);
extern bool FrtAuditMacOfVerifies(FrtAuditAlg alg, const char *tag, const uint8 *data,
								  size_t len, const uint8 *mac);
extern bool FrtAuditPathInDataDir(const char *path);
extern size_t FrtSecretFromFile(const char *setting, const char *what, const char *path,
								char *buf, size_t size);
extern size_t FrtSecretFromCommand(const char *setting, const char *command, char *buf,
								   size_t size);

/* audit_anchor.c: the head, sent out by the writer */
extern void FrtAuditAnchorInit(void);
extern void FrtAuditAnchorEmit(const char *dbname, const FrtAuditHead *head, const char *why);
extern void FrtAuditAnchorReap(void);

/* audit_ddl.c: statements on the audit objects, reads of embeddings */
extern void FrtAuditDdlInit(void);

/* audit_hash.c */
extern int	frt_audit_hash;		/* frt.audit_hash: FrtAuditAlg of new records */
extern void FrtAuditHashInit(void);
extern const char *FrtAuditAlgName(FrtAuditAlg alg);
extern bool FrtAuditAlgFromName(const char *name, FrtAuditAlg *alg);
extern void FrtAuditComputeHash(const FrtAuditRow *row, uint8 *out);
extern char *FrtAuditCanonicalInet(const char *addr);
extern char *FrtAuditCanonicalJsonb(const char *json);

/* audit_redact.c */
extern bool FrtLooksBiometric(const char *s, int min_numbers);
extern void FrtRedactInstallHook(void);

#endif							/* FRT_AUDIT_H */

/*-------------------------------------------------------------------------
 *
 * audit_anchor.c
 *	  The chain's head leaves the database: the audit writer sends its seq,
 *	  hash and MAC, at most frt.audit_anchor_interval apart while records
 *	  are written, when it goes idle or shuts down, and right after a
 *	  record that asks for it (a statement on the audit objects).
 *
 * An anchor is one line,
 *   frt audit anchor: db=<name> seq=<n> hash=<hex> mac=<hex|none> alg=<sha256|sm3> at=<time> [(<why>)]
 * (alg: the hash function of the head record's hash and MAC)
 * written to the server log (LOG), appended to frt.audit_anchor_file
 * (outside the data directory) and handed to frt.audit_anchor_command
 * (archive_command-like, run in the background so a slow notary never
 * holds up the writer).  Only the writer emits anchors: no SQL function
 * does, and no session setting of a caller suppresses them.  See
 * docs/audit.md, "Anchors outside the database".
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "frt_audit.h"

int			frt_audit_anchor_interval_s = FRT_AUDIT_ANCHOR_INTERVAL_DEFAULT_S;
char	   *frt_audit_anchor_file = NULL;
char	   *frt_audit_anchor_command = NULL;

/* The anchor command still running (0: none). */
static pid_t FrtAnchorChild = 0;

/* Check hook of frt.audit_anchor_file: absolute, outside the data directory. */
static bool
FrtAuditCheckAnchorFile(char **newval, void **extra pg_attribute_unused(),
						GucSource source pg_attribute_unused())
{
	if (*newval == NULL || (*newval)[0] == '\0' || DataDir == NULL)
		return true;
	if (FrtAuditPathInDataDir(*newval))
	{
		GUC_check_errdetail("The path must be absolute and outside the data directory, where SQL cannot rewrite it.");
		return false;
	}
	return true;
}

/* Define the anchor settings. */
void
FrtAuditAnchorInit(void)
{
	DefineCustomIntVariable("frt.audit_anchor_interval",
							"Longest time the audit writer keeps a new chain head before sending it out as an anchor.",
							NULL, &frt_audit_anchor_interval_s,
							FRT_AUDIT_ANCHOR_INTERVAL_DEFAULT_S,
							FRT_AUDIT_ANCHOR_INTERVAL_MIN_S, FRT_AUDIT_ANCHOR_INTERVAL_MAX_S,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomStringVariable("frt.audit_anchor_file",
							   "File outside the data directory to which the audit writer appends each anchor.",
							   NULL, &frt_audit_anchor_file, "",
							   PGC_SIGHUP, GUC_SUPERUSER_ONLY,
							   FrtAuditCheckAnchorFile, NULL, NULL);
	DefineCustomStringVariable("frt.audit_anchor_command",
							   "Shell command run for each anchor (%d database, %s seq, %h hash, %m MAC, %a hash function, %l the anchor line, %% a percent sign).",
							   NULL, &frt_audit_anchor_command, "",
							   PGC_SIGHUP, GUC_SUPERUSER_ONLY, NULL, NULL, NULL);
}

/* Append s to buf quoted for the shell ('...', a quote as '\''). */
static void
FrtShellQuote(StringInfo buf, const char *s)
{
	appendStringInfoChar(buf, '\'');
	for (; *s; s++)
	{
		if (*s == '\'')
			appendStringInfoString(buf, "'\\''");
		else
			appendStringInfoChar(buf, *s);
	}
	appendStringInfoChar(buf, '\'');
}

/* The anchor command with its placeholders replaced. */
static char *
FrtAnchorCommand(const char *dbname, const char *seq, const char *hash,
				 const char *mac, const char *alg, const char *line)
{
	StringInfoData cmd;

	initStringInfo(&cmd);
	for (const char *p = frt_audit_anchor_command; *p; p++)
	{
		if (*p != '%' || p[1] == '\0')
		{
			appendStringInfoChar(&cmd, *p);
			continue;
		}
		switch (*++p)
		{
			case 'd':
				FrtShellQuote(&cmd, dbname);
				break;
			case 's':
				appendStringInfoString(&cmd, seq);
				break;
			case 'h':
				appendStringInfoString(&cmd, hash);
				break;
			case 'm':
				appendStringInfoString(&cmd, mac);
				break;
			case 'a':
				appendStringInfoString(&cmd, alg);
				break;
			case 'l':
				FrtShellQuote(&cmd, line);
				break;
			case '%':
				appendStringInfoChar(&cmd, '%');
				break;
			default:
				appendStringInfoChar(&cmd, '%');
				appendStringInfoChar(&cmd, *p);
		}
	}
	return cmd.data;
}

/* Reap the previous anchor command; true if none is running any more. */
static bool
FrtAnchorCommandDone(void)
{
	int			status;
	pid_t		r;

	if (FrtAnchorChild == 0)
		return true;
	r = waitpid(FrtAnchorChild, &status, WNOHANG);
	if (r == 0)
		return false;
	if (r == FrtAnchorChild && status != 0)
		ereport(WARNING,
				(errmsg("frt.audit_anchor_command failed: %s", wait_result_to_str(status)),
				 errdetail("The anchor is still in the server log and the anchor file, if set.")));
	FrtAnchorChild = 0;
	return true;
}

/* Start the anchor command in the background (never waited for here). */
static void
FrtAnchorRunCommand(const char *cmd)
{
	pid_t		pid;

	if (!FrtAnchorCommandDone())
	{
		ereport(WARNING,
				(errmsg("frt.audit_anchor_command is still running: this anchor was not handed to it"),
				 errdetail("The next anchor carries a newer head, which covers this one.")));
		return;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0)
	{
		/* the child: nothing of the server's state, only the shell */
		pqsignal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", cmd, (char *) NULL);
		_exit(127);
	}
	if (pid < 0)
		ereport(WARNING, (errmsg("could not start frt.audit_anchor_command: %m")));
	else
		FrtAnchorChild = pid;
}

/* Append the line to the anchor file (opened for appending only, then synced). */
static void
FrtAnchorAppend(const char *line)
{
	int			fd;
	size_t		len = strlen(line);
	bool		ok;

	if (FrtAuditPathInDataDir(frt_audit_anchor_file))
	{
		ereport(WARNING,
				(errmsg("frt.audit_anchor_file is inside the data directory: anchor not written there")));
		return;
	}
	fd = open(frt_audit_anchor_file, O_WRONLY | O_APPEND | O_CREAT | PG_BINARY, S_IRUSR | S_IWUSR);
	if (fd < 0)
	{
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not open frt.audit_anchor_file \"%s\": %m", frt_audit_anchor_file)));
		return;
	}
	ok = write(fd, line, len) == (ssize_t) len && write(fd, "\n", 1) == 1 && pg_fsync(fd) == 0;
	if (!ok)
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not append to frt.audit_anchor_file \"%s\": %m", frt_audit_anchor_file)));
	close(fd);
}

/*
 * Send the head out: server log, anchor file, anchor command.  why, if
 * not NULL, says what asked for it (a statement on the audit objects).
 * Called by the audit writer only.
 */
void
FrtAuditAnchorEmit(const char *dbname, const FrtAuditHead *head, const char *why)
{
	char		hash[FRT_AUDIT_HASH_LEN * 2 + 1];
	char		mac[FRT_AUDIT_MAC_LEN * 2 + 1];
	char		seq[32];
	StringInfoData line;

	hex_encode((const char *) head->hash, FRT_AUDIT_HASH_LEN, hash);
	hash[FRT_AUDIT_HASH_LEN * 2] = '\0';
	if (head->has_mac)
	{
		hex_encode((const char *) head->mac, FRT_AUDIT_MAC_LEN, mac);
		mac[FRT_AUDIT_MAC_LEN * 2] = '\0';
	}
	else
		strlcpy(mac, "none", sizeof(mac));
	snprintf(seq, sizeof(seq), INT64_FORMAT, head->seq);

	initStringInfo(&line);
	appendStringInfo(&line, "%s db=%s seq=%s hash=%s mac=%s alg=%s at=%s", FRT_AUDIT_ANCHOR_PREFIX,
					 quote_identifier(dbname), seq, hash, mac, FrtAuditAlgName(head->alg),
					 timestamptz_to_str(GetCurrentTimestamp()));
	if (why)
		appendStringInfo(&line, " (%.*s)", FRT_AUDIT_ANCHOR_LINE_MAX - line.len - 3, why);
	for (char *p = line.data; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';

	ereport(LOG, (errmsg("%s", line.data), errhidestmt(true), errhidecontext(true)));
	if (frt_audit_anchor_file && frt_audit_anchor_file[0] != '\0')
		FrtAnchorAppend(line.data);
	if (frt_audit_anchor_command && frt_audit_anchor_command[0] != '\0')
		FrtAnchorRunCommand(FrtAnchorCommand(dbname, seq, hash, mac, FrtAuditAlgName(head->alg), line.data));
	pfree(line.data);
}

/* Reap a finished anchor command (the writer calls this as it waits). */
void
FrtAuditAnchorReap(void)
{
	(void) FrtAnchorCommandDone();
}

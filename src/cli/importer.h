/* The part of estafeta import that puts messages into an account, whatever they come from
 * (cli/cmd-import.c reads Maildirs and mbox files): folders made as needed, messages written to
 * spool files one at a time and added through the store in batches (store_messages_import),
 * a message over smtp.max_message_size skipped, quotas not applied (an administrator's act).
 *
 * Running it again adds nothing twice. A message is taken for one already there when the
 * folder held, before this run, a message with its UID and size (UIDs kept: the folder has the
 * source's UIDVALIDITY), or one with the same internal date and the very same octets. Only
 * what the folder held before the run counts, so a source that holds a message twice gives
 * it twice. */
#ifndef ESTAFETA_CLI_IMPORTER_H
#define ESTAFETA_CLI_IMPORTER_H
#include "cli/cli.h"
#include "cli/mail_transfer.h"

struct importer {
	struct cli *cli;
	struct store *st;
	char *address;
	int64_t account_id;
	uint64_t max_size;
	char *tmp_dir;          /* the store's spool folder */
	struct progress progress;
	/* the folder being filled */
	struct folder folder;
	bool keep_uids;         /* it has the source's UIDVALIDITY */
	struct message *before; /* what it held before this run, in UID order */
	size_t before_count;
	struct content_key *by_content; /* the same, by internal date and size */
	struct import_message *batch;
	size_t batch_count;
	uint64_t batch_octets;
	/* for the summary */
	uint64_t imported, present, too_big, unreadable;
	unsigned folders;
};

/* Opens the store and finds the account. 0, or -1 after printing the error. */
int importer_init(struct importer *imp, struct cli *cli, const char *address_arg);
/* Makes name the folder being filled (created and subscribed when missing). With a
 * uidvalidity, the source's UIDs are kept when the folder never held a message or has that
 * UIDVALIDITY (an earlier import). 0, or -1 after printing the error. */
int importer_folder(struct importer *imp, const char *name, uint32_t uidvalidity);
/* Adds one message (CRLF line ends) to the folder: uid its UID in the source (0: none), flags
 * the system flags, keywords space-separated (those IMAP cannot carry are left out, and so
 * are repeats). 0 (added, skipped as already there or as too big), or -1 after printing a
 * store error, which ends the import. */
int importer_add(struct importer *imp, const char *msg, size_t len, uint32_t uid, uint32_t flags,
		 const char *keywords, time_t internal_date);
/* Notes a message that could not be read (already reported). */
void importer_unreadable(struct importer *imp);
/* Ends the folder: the rest of the batch added, UIDNEXT moved up to uidnext (0: none). */
int importer_folder_end(struct importer *imp, uint32_t uidnext);
/* Prints the summary line and frees everything; returns the exit status (status when not 0;
 * 1 when a message was unreadable). */
int importer_finish(struct importer *imp, int status);
#endif

/* The storage interface. Everything that keeps state (domains, accounts, aliases, lists,
 * folders, messages, flags, UIDs, the outbound queue) goes through these functions; protocol
 * code never sees the backend. The embedded backend is SQLite in WAL mode (store_sqlite.c) with
 * message bodies as files written once (msgfile.c); a PostgreSQL backend implements the same
 * functions.
 *
 * A struct store is one connection: use it from one thread at a time. The event loop and the
 * commit thread each open their own. Every call blocks on the database.
 *
 * Addresses passed in are normalised by the caller (see mail/address.h: domain lower-cased,
 * local part as given); lookups compare the whole address case-insensitively (ASCII), as
 * Postfix and Dovecot do.
 *
 * Return convention: 0 on success (1/0 for "found"/"not found" where stated), -1 on failure
 * with an allocated message in *error_r that the caller frees. store_is_full() tells whether
 * the last failure was the disk or database being full (SMTP answers 452 4.3.1 then). */
#ifndef ESTAFETA_STORE_H
#define ESTAFETA_STORE_H
#include "core/buf.h"
#include "core/strlist.h"
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct store;

/* Opens (and on first use creates) the store under data_dir: data_dir/estafeta.db and the
 * folders data_dir/messages and data_dir/tmp. */
struct store *store_open(const char *data_dir, char **error_r);
void store_close(struct store **st);
/* True when the last failed call failed for lack of space (ENOSPC, SQLITE_FULL). */
bool store_is_full(const struct store *st);
const char *store_data_dir(const struct store *st);

/* ---- domains ---- */
int store_domain_add(struct store *st, const char *domain, char **error_r);
/* Refuses while accounts, aliases or lists of the domain remain. */
int store_domain_del(struct store *st, const char *domain, char **error_r);
int store_domain_list(struct store *st, strlist *out, char **error_r);
/* 1 when domain is one of ours, 0 when not, -1 on error. */
int store_domain_exists(struct store *st, const char *domain, char **error_r);

/* ---- accounts ---- */
struct account {
	int64_t id;
	char *address;
	char *password_hash; /* crypt(3) string, e.g. "$y$..." */
	char *scram_sha256;  /* "iterations:salt_b64:storedkey_b64:serverkey_b64" */
};
void account_clear(struct account *a);

/* Creates the account with its folders INBOX, Sent, Drafts, Trash, Junk, Archive (special-use
 * \Sent, \Drafts, \Trash, \Junk, \Archive), all subscribed. The domain must exist. */
int store_user_add(struct store *st, const char *address, const char *password_hash,
		   const char *scram_sha256, char **error_r);
/* Removes the account, its folders and its messages. */
int store_user_del(struct store *st, const char *address, char **error_r);
int store_user_list(struct store *st, const char *domain_or_null, strlist *out, char **error_r);
int store_user_set_password(struct store *st, const char *address, const char *password_hash,
			    const char *scram_sha256, char **error_r);
/* 1 and *out filled when found, 0 when not, -1 on error. */
int store_user_get(struct store *st, const char *address, struct account *out, char **error_r);

/* ---- aliases (an address to one or more targets) ----
 * An alias address "@domain" is the domain's catch-all: it receives mail for any address of
 * the domain that is no account, alias or list. */
int store_alias_add(struct store *st, const char *alias, const strlist *targets, char **error_r);
/* Removes the given targets, or the whole alias when targets is empty. */
int store_alias_del(struct store *st, const char *alias, const strlist *targets, char **error_r);
/* Appends "alias target" lines (one per target) for alias, or for all aliases when NULL. */
int store_alias_list(struct store *st, const char *alias_or_null, strlist *out, char **error_r);
/* The targets of alias; an empty list when it is no alias. */
int store_alias_targets(struct store *st, const char *alias, strlist *out, char **error_r);
/* Appends the aliases that have target among their targets (for "may this user send as"). */
int store_aliases_of(struct store *st, const char *target, strlist *out, char **error_r);

/* ---- distribution lists (an address with members and no mailbox) ---- */
/* Creates the list when missing and adds members (duplicates ignored). */
int store_list_add(struct store *st, const char *list, const strlist *members, char **error_r);
/* Removes members, or the whole list when members is empty. */
int store_list_del(struct store *st, const char *list, const strlist *members, char **error_r);
/* 1 and the members appended to out when list exists, 0 when it does not, -1 on error. */
int store_list_members(struct store *st, const char *list, strlist *out, char **error_r);
int store_list_all(struct store *st, strlist *out, char **error_r);

/* ---- folders ---- */
struct folder {
	int64_t id;
	char *name;
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t highestmodseq;
	char *special_use; /* "\\Sent" ..., or NULL */
	bool subscribed;
	uint32_t messages;
	uint32_t unseen;
};
void folder_clear(struct folder *f);
/* 1 and *out filled when the account has that folder ("INBOX" matches case-insensitively),
 * 0 when not, -1 on error. */
int store_folder_get(struct store *st, int64_t account_id, const char *name, struct folder *out,
		     char **error_r);
/* All folders of the account in name order. *out is allocated; free each with folder_clear. */
int store_folder_list(struct store *st, int64_t account_id, struct folder **out, size_t *count,
		      char **error_r);

/* ---- messages ---- */
/* System flags as a bit set; keywords are kept as a space-separated string. */
enum message_flag {
	FLAG_SEEN = 1 << 0,
	FLAG_ANSWERED = 1 << 1,
	FLAG_FLAGGED = 1 << 2,
	FLAG_DELETED = 1 << 3,
	FLAG_DRAFT = 1 << 4,
	FLAG_RECENT = 1 << 5,
};

struct message {
	uint32_t uid;
	uint32_t flags;
	char *keywords;
	time_t internal_date;
	uint64_t size;   /* octets as stored: per-recipient header lines plus the body file */
	uint64_t modseq;
	int64_t body_id; /* the message file; several folders may share one */
};
void message_clear(struct message *m);

/* The messages of a folder in UID order. *out is allocated; free each with message_clear. */
int store_message_list(struct store *st, int64_t folder_id, struct message **out, size_t *count,
		       char **error_r);
/* Reads the whole stored message (per-recipient header lines, then the body file) into out.
 * 1 when found, 0 when there is no such UID, -1 on error. */
int store_message_read(struct store *st, int64_t folder_id, uint32_t uid, struct buf *out,
		       char **error_r);

/* Removes the messages with these UIDs from the folder (POP3 DELE at QUIT, IMAP EXPUNGE) in one
 * transaction, bumping the folder's highestmodseq; message files no folder or queue entry
 * refers to any more are deleted after the commit. UIDs not in the folder are ignored. */
int store_messages_expunge(struct store *st, int64_t folder_id, const uint32_t *uids, size_t count,
			   char **error_r);

/* ---- delivery: the moment of truth ----
 * The SMTP session writes the message (its Received line first) into a spool file under
 * data_dir/tmp as it arrives, without fsync. store_deliver then makes a batch of such
 * deliveries durable at once (group commit): each spool file is fsync'd and renamed into
 * data_dir/messages, the folders are fsync'd, then one database transaction adds every folder
 * entry and queue entry. Only when it returns 0 for a delivery may SMTP answer 250. On failure
 * nothing of that delivery stays behind (its spool file is removed). */
struct delivery_local {
	int64_t account_id;
	const char *folder;  /* "INBOX", or another folder of the account */
	char *header_prefix; /* lines stored before the body for this recipient (Return-Path,
	                        Delivered-To), CRLF-terminated; owned */
	uint32_t flags;
	uint32_t uid_r;      /* set by store_deliver */
};

struct delivery_remote {
	char *recipient;     /* owned */
	char *orcpt;         /* DSN ORCPT ("rfc822;addr" xtext-decoded) or NULL; owned */
	unsigned notify;     /* DSN NOTIFY bits, see smtp/smtp_parse.h; 0 when not given */
};

struct delivery {
	char *spool_path;    /* owned; the file under data_dir/tmp */
	uint64_t body_size;  /* octets in the spool file */
	char *sender;        /* envelope sender, "" for the null sender; owned */
	char *envid;         /* DSN ENVID or NULL; owned */
	int ret;             /* DSN RET: 0 unset, 1 FULL, 2 HDRS */
	time_t arrival;
	char *queue_id;      /* for the log; owned */
	struct delivery_local *local;
	size_t local_count;
	struct delivery_remote *remote;
	size_t remote_count;
	/* results */
	int status;          /* 0 delivered, -1 failed */
	bool full;           /* failed for lack of space */
	char *error;         /* allocated when status is -1 */
};
void delivery_free(struct delivery **d);

/* Commits a batch of deliveries durably; sets each one's status (and uid_r of its local
 * recipients). Returns 0 when all succeeded, -1 when any failed. Blocks. */
int store_deliver(struct store *st, struct delivery **batch, size_t count);
#endif

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
#include "mail/dmarc_report.h"
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct store;

/* Opens (and on first use creates) the store under data_dir: data_dir/estafeta.db and the
 * folders data_dir/messages and data_dir/tmp. */
struct store *store_open(const char *data_dir, char **error_r);
void store_close(struct store **st);
/* Lets this connection's commits skip the fsync (SQLite WAL, synchronous=NORMAL): they stay
 * atomic and survive a crash of the process, but a power cut may undo the last of them. For
 * the event loop's connection, whose writes are flags, expunges and queue states; messages
 * are made durable by the committer's own connection, which keeps every commit fsync'd. */
int store_relax_sync(struct store *st, char **error_r);

/* Copies the write-ahead logs this connection uses into their database files and truncates
 * them, without waiting: what other connections hold now is done at a later call. 0, or -1
 * when some of it could not be done now. */
int store_checkpoint(struct store *st);
/* Sets this connection's page cache to kib KiB (SQLite's default is 2 MiB). */
int store_cache_size(struct store *st, int kib, char **error_r);
/* True when the last failed call failed for lack of space (ENOSPC, SQLITE_FULL). */
bool store_is_full(const struct store *st);
const char *store_data_dir(const struct store *st);

/* ---- backup and restore (sqlite_backup.c) ----
 * A backup is a folder: the database as one snapshot, taken while the server runs and takes
 * mail, every message file that snapshot names (mailboxes and the outbound queue), and a
 * manifest with the SHA-256 of each file (backup_manifest.h). The full-text index is left
 * out: the indexer rebuilds it from the messages. */
struct store_backup_info {
	int64_t schema;                 /* the database's schema version */
	uint64_t messages;              /* folder entries */
	uint64_t queued;                /* messages in the outbound queue */
	uint64_t files, bytes;          /* in the backup, the database included */
};
/* Backs up st's store into dir, made when missing; one that exists must be empty. Never holds
 * up the server's writers; blocks this caller for as long as the copy takes. 0, or -1 with
 * *error_r. */
int store_backup(struct store *st, const char *dir, struct store_backup_info *info_r,
		 char **error_r);
/* Makes the backup in dir the store of data_dir, which no server may be using: every file is
 * checked against the manifest first, and a backup of a newer schema than this estafeta's is
 * refused; the new files belong to uid:gid ((uid_t)-1: left to this process). On failure the
 * old store is as it was. The old data folder is kept, renamed, in *kept_r (allocated; NULL
 * when there was none). 0, or -1 with *error_r. */
int store_restore(const char *data_dir, const char *dir, uid_t uid, gid_t gid,
		  struct store_backup_info *info_r, char **kept_r, char **error_r);

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
	char *apop_secret;   /* POP3 APOP shared secret in clear, or NULL when APOP is off */
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
/* Sets the account's APOP secret (RFC 1939 7), stored readable because APOP needs it; NULL
 * turns APOP off for the account. */
int store_user_set_apop(struct store *st, const char *address, const char *secret_or_null,
			char **error_r);
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
/* Appends the aliases whose one and only target is target (for "may this user send as"). */
int store_aliases_only_to(struct store *st, const char *target, strlist *out, char **error_r);

/* ---- distribution lists (an address with members and no mailbox) ---- */
/* Creates the list when missing and adds members (duplicates ignored). */
int store_list_add(struct store *st, const char *list, const strlist *members, char **error_r);
/* Removes members, or the whole list when members is empty. */
int store_list_del(struct store *st, const char *list, const strlist *members, char **error_r);
/* 1 and the members appended to out when list exists, 0 when it does not, -1 on error. */
int store_list_members(struct store *st, const char *list, strlist *out, char **error_r);
int store_list_all(struct store *st, strlist *out, char **error_r);

/* ---- quotas (RFC 9208: one quota root per account, STORAGE and MESSAGE) ---- */
#define QUOTA_NONE (-1)    /* no limit */
#define QUOTA_DEFAULT (-2) /* store_quota_set: an account takes its domain's limit */
#define QUOTA_KEEP (-3)    /* store_quota_set: this limit stays as it is */
struct quota {
	int64_t storage_limit; /* octets, or QUOTA_NONE */
	int64_t message_limit; /* messages, or QUOTA_NONE */
	uint64_t storage_used; /* octets of the messages in the folders that count */
	uint64_t messages_used;
};
/* The account's limits (its own, else its domain's) and what its folders hold; with
 * exclude_trash_junk the folders of special use \Trash and \Junk do not count. 1, 0 when
 * there is no such account, -1 on error. */
int store_quota_get(struct store *st, int64_t account_id, bool exclude_trash_junk, struct quota *out,
		    char **error_r);
/* Sets the limits of an account (an address) or of a domain (the default of its accounts):
 * octets and messages, each QUOTA_NONE, QUOTA_KEEP or (accounts only) QUOTA_DEFAULT.
 * 1 set, 0 no such account or domain, -1 on error. */
int store_quota_set(struct store *st, const char *address_or_domain, int64_t storage,
		    int64_t messages, char **error_r);
/* A domain's limits, the default of its accounts (used stays 0). 1, 0 no such domain, -1. */
int store_domain_quota(struct store *st, const char *domain, struct quota *out, char **error_r);
/* Whether adding messages of octets octets stays within q. */
bool quota_allows(const struct quota *q, uint64_t octets, uint64_t messages);
/* Whether a folder of this special use counts against the quota. */
bool quota_counts_folder(const char *special_use, bool exclude_trash_junk);

/* ---- DKIM keys (sqlite_dkim.c) ----
 * The signing keys of local domains, shared by every node of a store. A retired key stays
 * listed (its DNS record may still be needed by mail in transit) but signs nothing. */
struct dkim_key_row {
	char *domain;
	char *selector;
	char *algorithm;   /* "ed25519" or "rsa" (mail/dkim_key.h) */
	char *private_pem; /* PKCS#8 PEM */
	time_t created;
	time_t retired;    /* 0 while it signs */
};
/* Adds a key (algorithm and PEM as in struct dkim_key_row) to a local domain: 1, 0 when the
 * domain is not ours, -1 on error (the selector already used for the domain among them). */
int store_dkim_add(struct store *st, const char *domain, const char *selector,
		   const char *algorithm, const char *private_pem, time_t created, char **error_r);
/* The keys of domain (NULL: of every domain), by domain then creation; with active_only,
 * only those that sign. *out is allocated (count rows). */
int store_dkim_list(struct store *st, const char *domain_or_null, bool active_only,
		    struct dkim_key_row **out, size_t *count, char **error_r);
/* Stops signing with the key: 1, 0 when the domain has no such key that signs, -1. */
int store_dkim_retire(struct store *st, const char *domain, const char *selector, time_t when,
		      char **error_r);
void dkim_key_rows_free(struct dkim_key_row *rows, size_t count);

/* ---- DMARC aggregate reports (sqlite_dmarc.c) ----
 * What each DMARC evaluation of received mail found, while a policy record applied, kept
 * until the reports of its period are made; and the reports other receivers send to our
 * domains. */
struct dmarc_observation {
	time_t at;
	struct dmarc_policy_published policy; /* the record that applied, where it was found */
	char *rua;                            /* its rua URIs, space-separated ("" for none) */
	struct dmarc_report_record rec;       /* the message's own row (count 1); envelope_to
	                                         the domain of its first recipient */
};
void dmarc_observation_free(struct dmarc_observation **o);
int store_dmarc_observe(struct store *st, const struct dmarc_observation *o, char **error_r);
/* The start of the next report period: where the last reports ended, or the time of the
 * oldest observation not older than limit; 0 when there is nothing to report. */
int store_dmarc_period_start(struct store *st, time_t limit, time_t *start_r, char **error_r);
/* The policy domains with observations in [begin, end), each with the rua of its latest,
 * as "domain rua..." lines appended to out. */
int store_dmarc_domains(struct store *st, time_t begin, time_t end, strlist *out,
			char **error_r);
/* The report of domain's observations in [begin, end): its policy_published from the latest
 * and one record per group of identical rows with their count; report metadata unset. */
int store_dmarc_collect(struct store *st, const char *domain, time_t begin, time_t end,
			struct dmarc_report *out, char **error_r);
/* The reports up to end are made: the next period starts there, and observations older than
 * keep seconds before it go. */
int store_dmarc_reported(struct store *st, time_t end, time_t keep, char **error_r);
/* Keeps a report received for one of our domains: 1 added, 0 when the same reporter sent
 * that report (org_name, report_id, domain) already. */
int store_dmarc_report_add(struct store *st, const struct dmarc_report *r, time_t received,
			   char **error_r);
/* The reports received for domain whose period ends after since, oldest first, with their
 * records (source_ip, count, disposition, dkim, spf, header_from). *out allocated. */
int store_dmarc_reports(struct store *st, const char *domain, time_t since,
			struct dmarc_report **out, size_t *count, char **error_r);

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
	uint32_t recent_uid; /* messages from this UID on are recent: no session has taken them */
	uint32_t recent;     /* how many there are */
};
void folder_clear(struct folder *f);
/* The octets of all messages in the folder and how many are \Deleted (STATUS SIZE and
 * DELETED, RFC 9051 6.3.11): counted only when asked, not with every folder. 0 or -1. */
int store_folder_totals(struct store *st, int64_t folder_id, uint64_t *size, uint32_t *deleted,
			char **error_r);
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
/* What changed in a folder after modseq since: the messages added or changed (UID order) and
 * the UIDs removed (ascending). Both arrays are allocated; free each message with
 * message_clear. 0, or -1 with *error_r. */
int store_folder_changes(struct store *st, int64_t folder_id, uint64_t since,
			 struct message **changed, size_t *changed_count, uint32_t **vanished,
			 size_t *vanished_count, char **error_r);
/* ---- the full-text index ----
 * The decoded text of each message file with local copies (mail/text.h), kept by the
 * indexer thread (deliver/indexer.c) a moment after delivery. Each message's text is indexed
 * up to a bound (a megabyte, and a hundred thousand distinct trigrams): what lies beyond it is
 * found by reading the message. The SQLite backend keeps the index in a file of its own
 * (index.db), so indexing never holds the write lock that deliveries take. */

/* Where store_search_text looks: header fields and body, or one of them. */
enum store_text_part { STORE_TEXT_ALL, STORE_TEXT_HEADER, STORE_TEXT_BODY };
/* The UIDs (ascending) of the folder's messages whose indexed text (part of it) holds
 * needle, any case (IMAP SEARCH TEXT, BODY, and a first cut for the header keys), and the
 * UIDs of those whose text is not all in the index (not indexed yet, or beyond the bound):
 * when they are not among the first, the caller must search them itself. 0 with both lists,
 * 1 when the index cannot answer (a needle under three characters, no index yet: search the
 * messages), -1 with *error_r. */
int store_search_text(struct store *st, int64_t folder_id, const char *needle,
		      enum store_text_part part, uint32_t **uids, size_t *count,
		      uint32_t **unindexed, size_t *unindexed_count, char **error_r);

struct index_entry {
	int64_t body_id;
	char *path;          /* the message file, for store_body_read */
	char *header, *body; /* its text (mail/text.h), filled by the indexer */
	char *envelope, *body_structure, *bodystructure; /* its IMAP structure strings */
};
/* Makes this connection the index's writer (the indexer's; one per store): opens the index,
 * creating it, and starts rebuilding it when it is missing or not this store's. Blocks. */
int store_index_open(struct store *st, char **error_r);
/* Up to limit message files not indexed yet, oldest first. 0, or -1 with *error_r. */
int store_index_pending(struct store *st, size_t limit, struct index_entry **out, size_t *count,
			char **error_r);
/* Appends a message file's contents to out. 0, or -1 with *error_r. */
int store_body_read(struct store *st, const char *path, buf *out, char **error_r);
/* Puts the entries' text in the index (cutting each to the bound) and their structure
 * strings in the store; the deliveries' write lock is held only for the latter, briefly.
 * Needs store_index_open. 0, or -1 with *error_r. */
int store_index_add(struct store *st, struct index_entry *entries, size_t count,
		    char **error_r);
/* Removes the index rows of up to limit message files that are gone. Returns how many, or -1
 * with *error_r. Needs store_index_open. */
int store_index_prune(struct store *st, size_t limit, char **error_r);
void index_entries_free(struct index_entry *entries, size_t count);
/* The IMAP structure strings the indexer kept for a message: FETCH ENVELOPE, BODY and
 * BODYSTRUCTURE with no file read and nothing parsed (the per-recipient header lines change
 * none of them). */
struct message_structure {
	bool kept;               /* false: not kept yet (or no such UID); the strings stay empty */
	struct buf envelope, body, bodystructure;
};
/* Those of a batch of messages, uids ascending, in one query: out[i] for uids[i] (each
 * initialised by the call; free with message_structures_free). 0, or -1 with *error_r. */
int store_message_structures(struct store *st, int64_t folder_id, const uint32_t *uids,
			     size_t count, struct message_structure *out, char **error_r);
void message_structures_free(struct message_structure *ms, size_t count);
/* Reads the whole stored message (per-recipient header lines, then the body file) into out.
 * 1 when found, 0 when there is no such UID, -1 on error. */
int store_message_read(struct store *st, int64_t folder_id, uint32_t uid, struct buf *out,
		       char **error_r);
/* The header sections of a batch of messages, for SORT and THREAD: headers[i] gets that of
 * uids[i] (ascending), read from the start of its message file up to the empty line or max
 * octets (the per-recipient lines left out), and stays empty for a UID the folder does not
 * have. One query for the batch; blocks on the disk for each file. 0, or -1 with *error_r. */
int store_message_headers(struct store *st, int64_t folder_id, const uint32_t *uids, size_t count,
			  size_t max, struct buf *headers, char **error_r);

/* Removes the messages with these UIDs from the folder (POP3 DELE at QUIT, IMAP EXPUNGE) in one
 * transaction, bumping the folder's highestmodseq; message files no folder or queue entry
 * refers to any more are deleted after the commit. UIDs not in the folder are ignored. */
int store_messages_expunge(struct store *st, int64_t folder_id, const uint32_t *uids, size_t count,
			   char **error_r);

/* Removes files a crash left behind: spool files in tmp/ and message files no row refers to,
 * if last written more than older_than seconds ago. *removed_r counts them. Blocks; the
 * server calls it once at start. */
int store_sweep(struct store *st, time_t older_than, unsigned *removed_r, char **error_r);

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
	bool junk;           /* to the account's folder of special use \Junk instead (folder when
	                        it has none): mail that failed its sender's DMARC policy */
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
	int64_t submitter_id; /* the authenticated account that submitted it, 0 for none: its
	                         message and submitter_rcpts count for the hourly limits */
	size_t submitter_rcpts;
	bool local_origin;    /* written here: by an authenticated user, sendmail or the server
	                         itself (bounces), not taken from another server; only such mail
	                         gets DKIM signatures (queue/outbound_dkim.h) */
	struct dmarc_observation *dmarc; /* port 25: what DMARC found, recorded with the message
	                                    for aggregate reports; NULL for none; owned */
	char *arc_results;    /* port 25 with remote recipients: our Authentication-Results value
	                         (authserv-id; results), which the forwarded copy's ARC set
	                         records (queue/outbound_arc.h); NULL otherwise. Owned */
	/* results */
	int status;          /* 0 delivered, -1 failed */
	bool full;           /* failed for lack of space */
	char *error;         /* allocated when status is -1 */
	char *body_path_r;   /* where the message file went (relative to data_dir), when
	                        delivered; allocated */
};
void delivery_free(struct delivery **d);

/* Commits a batch of deliveries durably; sets each one's status (and uid_r of its local
 * recipients). Returns 0 when all succeeded, -1 when any failed. Blocks. */
int store_deliver(struct store *st, struct delivery **batch, size_t count);
/* What the account submitted since then: messages and their recipients, as store_deliver
 * recorded them (only the last hour is kept). Returns 0, or -1 with *error_r. */
int store_submitted_since(struct store *st, int64_t account_id, time_t since, int64_t *messages_r,
			  int64_t *recipients_r, char **error_r);

/* ---- import (sqlite_import.c): mail brought in from another store (estafeta import) ----
 * Messages keep what they had there: flags, keywords, internal date and, where the folder's
 * UIDVALIDITY is the source's, their UIDs, so clients that synced the source need no new
 * download. Quotas are not applied: importing is an administrator's act. */
struct import_message {
	char *spool_path;     /* the message under data_dir/tmp; owned, moved into the store */
	uint64_t size;        /* octets in the spool file */
	uint32_t uid;         /* the UID it had, or 0 for the folder's next */
	uint32_t flags;       /* enum message_flag; FLAG_RECENT is not stored */
	const char *keywords; /* space-separated, "" for none */
	time_t internal_date;
	uint32_t uid_r;       /* set by store_messages_import */
};
/* Makes the folder's UIDs those of a source whose UIDVALIDITY is uidvalidity: a folder that
 * never held a message (UIDNEXT 1) takes that UIDVALIDITY, and a folder with it already (an
 * earlier import) keeps it. 1 done, 0 when the folder has a UIDVALIDITY of its own (the
 * source's UIDs cannot be kept), -1 on error. */
int store_folder_adopt_uidvalidity(struct store *st, int64_t folder_id, uint32_t uidvalidity,
				   char **error_r);
/* Moves the folder's UIDNEXT up to uidnext (the source's, after its last messages were
 * expunged), never down. 0 or -1. */
int store_folder_raise_uidnext(struct store *st, int64_t folder_id, uint32_t uidnext,
			       char **error_r);
/* Adds the messages to the folder durably, as store_deliver does (files fsync'd, then one
 * transaction). A message whose uid is at or above the folder's UIDNEXT gets that UID (UIDNEXT
 * moves past it); any other gets the next UID. Sets each uid_r. 0, or -1 with *error_r and
 * nothing added (the spool files removed). */
int store_messages_import(struct store *st, int64_t folder_id, struct import_message *msgs,
			  size_t count, char **error_r);

/* ---- outbound queue ----
 * Messages with remote recipients (rows store_deliver added), one state per recipient:
 * pending until delivered ("sent") or given up ("bounced"). The runner marks each recipient
 * right after the remote server's reply, so a recipient confirmed delivered is never sent
 * again after a crash. A message whose recipients are all done leaves the queue, and its
 * message file goes when no folder entry refers to it either. */
enum queue_rcpt_status { QUEUE_PENDING, QUEUE_SENT, QUEUE_BOUNCED };

struct queue_rcpt {
	int64_t id;
	char *recipient;
	char *orcpt;        /* DSN ORCPT or NULL */
	unsigned notify;    /* DSN NOTIFY bits (smtp/smtp_parse.h) */
	enum queue_rcpt_status status;
	int attempts;
	time_t next_attempt;
	char *last_error;   /* NULL before the first failure */
	bool warned;        /* the sender has had the delay warning */
};

struct queue_msg {
	int64_t row;
	char *queue_id;
	char *sender;       /* "" for the null sender */
	char *envid;        /* DSN ENVID or NULL */
	int ret;            /* DSN RET: 0 unset, 1 FULL, 2 HDRS */
	time_t arrival;
	char *body_path;    /* relative to data_dir */
	uint64_t size;
	bool held;          /* no delivery attempts until released */
	bool local_origin;  /* struct delivery's */
	char *arc_results;  /* struct delivery's, or NULL */
	struct queue_rcpt *rcpts;
	size_t rcpt_count;
};
void queue_msg_free(struct queue_msg **m);
void queue_msgs_free(struct queue_msg **msgs, size_t count);

/* Messages not held with pending recipients due at or before now (only those recipients),
 * oldest first, at most limit messages; messages whose row is in skip (count skip_count) are left
 * out. *out is allocated. */
int store_queue_due(struct store *st, time_t now, size_t limit, const int64_t *skip,
		    size_t skip_count, struct queue_msg ***out, size_t *count, char **error_r);
/* Every queued message with all its recipients (queue_id_or_null: just that one). */
int store_queue_list(struct store *st, const char *queue_id_or_null, struct queue_msg ***out,
		     size_t *count, char **error_r);
/* Reads the message file into out. */
int store_queue_read_body(struct store *st, const struct queue_msg *m, buf *out, char **error_r);
/* Records the outcome of one attempt for one recipient: status, the next attempt (pending)
 * and the error. Counts the attempt. Commits at once; when it was the message's last pending
 * recipient, the message leaves the queue (and its file when nothing else refers to it). */
int store_queue_update(struct store *st, int64_t rcpt_id, enum queue_rcpt_status status,
		       time_t next_attempt, const char *error, char **error_r);
/* Notes that the sender was warned of the delay for this recipient. */
int store_queue_set_warned(struct store *st, int64_t rcpt_id, char **error_r);
/* Makes pending recipients due now: of one message (queue id), of one recipient domain
 * (ETRN; with subdomains, its subdomains too), or all when both are NULL. Returns the number
 * of recipients made due, or -1. */
int store_queue_flush(struct store *st, const char *queue_id, const char *domain,
		      bool subdomains, char **error_r);
/* Removes a message from the queue without delivering it. 1 done, 0 no such id, -1 error. */
int store_queue_delete(struct store *st, const char *queue_id, char **error_r);
/* Holds (held true) or releases one message (queue_id), or every message of a sender
 * (queue_id NULL): a held sender's messages queued later are held too, until its release.
 * Returns the number of messages whose state changed, or -1. */
int store_queue_hold(struct store *st, const char *queue_id, const char *sender, bool held,
		     char **error_r);
/* The senders held with store_queue_hold, appended to out. */
int store_queue_held_senders(struct store *st, strlist *out, char **error_r);

/* ---- IMAP ---- (sqlite_imap.c) */
/* One message's new flags for store_flags_update. */
struct flag_update {
	uint32_t uid;
	uint32_t flags;        /* FLAG_RECENT is not stored */
	const char *keywords;  /* space-separated, "" for none */
};
/* Sets the flags and keywords of the given messages of the folder in one transaction; the
 * messages changed share the folder's next modseq (CONDSTORE, RFC 7162), returned in
 * *modseq_r. UIDs no longer in the folder are skipped. */
int store_flags_update(struct store *st, int64_t folder_id, const struct flag_update *updates,
		       size_t count, uint64_t *modseq_r, char **error_r);
/* Copies (move: moves) the messages with these UIDs from folder from to folder to of the
 * same account in one transaction. The copies share the message files, keep flags, keywords
 * and internal date, and get the next UIDs of to, written to uids_r[i] (0 for a UID no longer
 * in from); *uidvalidity_r is to's. Moved originals are gone when it returns (their folder
 * gets a new modseq). Returns the number of messages copied, or -1. */
int store_messages_copy(struct store *st, int64_t from, int64_t to, const uint32_t *uids,
			size_t count, bool move, uint32_t *uids_r, uint32_t *uidvalidity_r,
			char **error_r);
/* The folder's highestmodseq: every delivery, flag change and expunge raises it, so a session
 * that waits (IDLE) learns cheaply whether anything changed. 1 found, 0 no such folder. */
int store_folder_modseq(struct store *st, int64_t folder_id, uint64_t *modseq_r, char **error_r);
/* Creates a folder with a fresh UIDVALIDITY, and the levels above it that are missing ("a" and
 * "a/b" for "a/b/c"). 1 created, 0 when the account has one of that name already. */
int store_folder_create(struct store *st, int64_t account_id, const char *name, char **error_r);
/* Deletes a folder and its messages (message files nothing else refers to go after the
 * commit). 1 deleted, 0 no such folder, 2 not deleted since folders are below it
 * ("name/...": every folder is selectable, so none is left without its parent). */
int store_folder_delete(struct store *st, int64_t account_id, const char *name, char **error_r);
/* Renames a folder and the folders below it ("from/..." to "to/..."), keeping their messages
 * and UIDVALIDITY, and creates the levels above to that are missing. 1 renamed, 0 no such
 * folder; fails when a new name is taken. */
int store_folder_rename(struct store *st, int64_t account_id, const char *from, const char *to,
			char **error_r);
/* Takes the folder's messages below uidnext that no session has taken as recent for the
 * caller (RFC 3501 2.3.2: \Recent belongs to the first session told of a message): *first_r
 * is the first UID it now holds as recent (none when it is uidnext or more). 0 or -1. */
int store_folder_take_recent(struct store *st, int64_t folder_id, uint32_t uidnext,
			     uint32_t *first_r, char **error_r);
/* Subscribes an existing folder, or unsubscribes a name (RFC 3501 6.3.6, 6.3.7); creating a
 * folder subscribes nothing, deleting it keeps its subscription, renaming moves it. 1 done,
 * 0 no such folder (or subscription). */
int store_folder_subscribe(struct store *st, int64_t account_id, const char *name, bool on,
			   char **error_r);
/* Adds to names the subscribed names that no folder has (deleted since), in name order:
 * LIST (SUBSCRIBED) shows them \NonExistent (RFC 5258 3.4). 0 or -1. */
int store_subscriptions_orphaned(struct store *st, int64_t account_id, strlist *names,
				 char **error_r);
#endif

/* Internal to the SQLite backend: the connection structure, the helpers every sqlite_*.c file
 * uses to run statements, and the pieces the backend's files share. Only src/store (and its
 * test, which reaches the connection to simulate a full database) includes this. */
#ifndef ESTAFETA_SQLITE_INTERNAL_H
#define ESTAFETA_SQLITE_INTERNAL_H
#include "store/store.h"
#include <sqlite3.h>

struct cached_stmt {
	const char *sql; /* the string literal the statement was prepared from */
	sqlite3_stmt *stmt;
};

struct store {
	sqlite3 *db;
	char *data_dir;
	bool full;       /* the last failure was for lack of space */
	bool index_attached; /* index.db is attached as "ix" (sqlite_index_db.c) */
	struct cached_stmt *stmts;
	size_t stmt_count;
};

/* The schema version this estafeta writes; a database or a backup of a later one is refused. */
#define SCHEMA_VERSION 9

/* Creates the schema on a new database and checks the version of an old one (sqlite_schema.c).
 * Returns 0 or -1 with *error_r. */
int sqlite_schema_apply(struct store *st, char **error_r);

/* A URI for path (RFC 3986: octets other than unreserved ones and "/" percent-encoded), with
 * SQLite's query parameters appended ("mode=ro"), allocated: for sqlite3_open_v2 and ATTACH
 * with SQLITE_OPEN_URI. */
char *sqlite_file_uri(const char *path, const char *query);

/* ---- statements (sqlite_db.c) ----
 * sql must be a string literal: prepared statements are cached by its address, so each is
 * compiled once per connection. types names the arguments that follow, one letter each:
 *   's' const char * (NULL binds NULL), 'i' int64_t, 'b' a blob as const void * then size_t. */

/* Returns the statement bound and ready to step, or NULL with *error_r. The caller steps it
 * with db_step and ends with sqlite3_reset, so no read transaction stays open. */
sqlite3_stmt *db_stmt(struct store *st, char **error_r, const char *sql, const char *types, ...);
/* Steps stmt: 1 for a row, 0 when done, -1 with *error_r (the statement is then reset).
 * Every failure notes in st->full whether SQLite found the disk or database full. */
int db_step(struct store *st, sqlite3_stmt *stmt, char **error_r);
/* Runs a statement that returns no rows. Returns the number of rows it changed, or -1. */
int db_exec(struct store *st, char **error_r, const char *sql, const char *types, ...);
/* Runs a query for one integer: 1 with *value_r set, 0 when there is no row, -1 on error. */
int db_int(struct store *st, char **error_r, int64_t *value_r, const char *sql, const char *types,
	   ...);
/* Appends the first column of every row to out. Returns the number of rows, or -1. */
int db_strings(struct store *st, strlist *out, char **error_r, const char *sql, const char *types,
	       ...);
/* A text column of the current row, allocated; NULL for NULL. */
char *db_column_dup(sqlite3_stmt *stmt, int col);
/* Runs statements that return no rows and need no binding, from any string (not cached, so
 * sql may be built at run time). 0, or -1 with *error_r "what: SQLite's message". */
int db_script(struct store *st, const char *sql, const char *what, char **error_r);
/* Write transactions take the write lock at BEGIN (IMMEDIATE), so two connections never
 * deadlock upgrading a read to a write; the busy timeout makes the second one wait. */
int db_begin(struct store *st, char **error_r);
int db_commit(struct store *st, char **error_r);
void db_rollback(struct store *st);
/* Ends a write transaction: commits when r >= 0, else rolls back. Returns r, or -1 when the
 * commit fails. */
int db_finish(struct store *st, int r, char **error_r);

/* The largest a write-ahead log stays once a checkpoint has reset it (PRAGMA
 * journal_size_limit): a large transaction grows it, the next reset gives the space back. */
#define WAL_SIZE_LIMIT (4 * 1024 * 1024)

/* ---- the full-text index's own database file (sqlite_index_db.c) ---- */
/* Attaches data_dir/index.db as "ix": writable (creating it, checking that it belongs to this
 * database and rebuilding it when not) for the indexer's connection, read-only for the others,
 * whose write transactions then never take its lock. 0, or -1 with *error_r (read-only: it
 * does not exist yet). */
int sqlite_index_attach(struct store *st, bool writable, char **error_r);
/* Begins a transaction that writes index.db only: BEGIN IMMEDIATE would take the write lock
 * of every attached file, this file's too. */
int sqlite_index_begin(struct store *st, char **error_r);

/* ---- mailboxes (sqlite_mailbox.c) ---- */
/* Takes the folder's next UID and modseq for a message being added, inside the caller's
 * transaction (sqlite_deliver.c). Returns 0, or -1 with *error_r. */
int sqlite_folder_next_uid(struct store *st, int64_t folder_id, int64_t *uid_r, int64_t *modseq_r,
			   char **error_r);
/* Creates one folder with a fresh UIDVALIDITY, inside the caller's transaction. */
int sqlite_folder_create(struct store *st, int64_t account_id, const char *name,
			 const char *special_use, char **error_r);
/* Creates the default folders of a new account, inside the caller's transaction. */
int sqlite_folders_create_defaults(struct store *st, int64_t account_id, char **error_r);
/* The folder's id: 1 found, 0 not, -1 error. "INBOX" matches case-insensitively. */
int sqlite_folder_id(struct store *st, int64_t account_id, const char *name, int64_t *id_r,
		     char **error_r);
/* Removes the account's folders and messages, then the message files no longer referenced,
 * inside the caller's transaction; their paths (relative to data_dir) are appended to
 * unlink_after so the caller removes them once the transaction has committed. */
int sqlite_account_purge(struct store *st, int64_t account_id, strlist *unlink_after,
			 char **error_r);
/* Deletes the rows of the message files listed in the temporary table body_candidates that no
 * folder entry and no queue entry refers to any more, inside the caller's transaction, and
 * appends their paths to unlink_after (removed by the caller after the commit). */
/* Inside a transaction: removes these UIDs from the folder, gives it a new modseq and records
 * each removal in the expunged table (their files become candidates for
 * sqlite_bodies_prune). Returns how many were there, or -1. */
int sqlite_folder_remove(struct store *st, int64_t folder_id, const uint32_t *uids, size_t count,
			 char **error_r);
int sqlite_bodies_prune(struct store *st, strlist *unlink_after, char **error_r);
#endif

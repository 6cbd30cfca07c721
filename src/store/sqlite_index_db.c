/* The full-text index's own database file, data_dir/index.db, attached to a connection as
 * "ix". It holds the FTS5 trigram table of the decoded text of each message file (rowid =
 * bodies.id) and the epoch of the estafeta.db it belongs to.
 *
 * Why a file of its own: indexing a large message writes for a long while, and SQLite has
 * one write lock per database file. In estafeta.db that lock is what every delivery takes;
 * here only the indexer writes. The indexer then records what it indexed in bodies.indexed
 * in a short transaction of estafeta.db, after the index's own commit: bodies.indexed != 0
 * always means the rows are here.
 *
 * The index is derived data: a copy of the data folder may leave it out. Its commits are
 * fsync'd all the same, since bodies.indexed, in the other file, must never get ahead of it
 * after a power cut (one fsync per batch of messages). When index.db is missing or belongs to another estafeta.db (its epoch differs from
 * meta.index_epoch), the indexer's connection empties it and marks every message with a
 * folder entry unindexed, so it is rebuilt from the message files while search reads them.
 * Rows of message files deleted since are removed later (store_index_prune). */
#include "store/sqlite_internal.h"
#include "core/xalloc.h"
#include <stdlib.h>
#include <string.h>

static const char index_schema[] =
	"CREATE TABLE IF NOT EXISTS ix.meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) "
	"WITHOUT ROWID;"
	/* Trigrams give IMAP SEARCH's case-insensitive substring match (RFC 3501 6.4.4)
	 * without scanning messages. */
	"CREATE VIRTUAL TABLE IF NOT EXISTS ix.search_text USING fts5(header, body, "
	"tokenize = 'trigram');";

int sqlite_index_begin(struct store *st, char **error_r)
{
	return db_exec(st, error_r, "BEGIN", "") < 0 ? -1 : 0;
}

/* Rebuilds the index when it is not this database's: first every message with a folder entry
 * is marked unindexed (a crash after this step only repeats it), then the index is emptied
 * and takes the epoch. */
static int index_adopt(struct store *st, char **error_r)
{
	int64_t want = 0, have = 0;
	if (db_int(st, error_r, &want, "SELECT value FROM main.meta WHERE name = 'index_epoch'", "") < 0 ||
	    db_int(st, error_r, &have, "SELECT value FROM ix.meta WHERE name = 'epoch'", "") < 0)
		return -1;
	if (have == want)
		return 0;
	if (db_begin(st, error_r) < 0)
		return -1;
	int r = db_exec(st, error_r, "UPDATE main.bodies SET indexed = 0 WHERE indexed != 0 AND id IN "
			"(SELECT body_id FROM main.folder_messages)", "");
	if (db_finish(st, r, error_r) < 0 || sqlite_index_begin(st, error_r) < 0)
		return -1;
	r = db_script(st, "DROP TABLE ix.search_text; DELETE FROM ix.meta;", "cannot empty index.db",
			error_r);
	if (r == 0)
		r = db_script(st, index_schema, "cannot create index.db", error_r);
	if (r == 0)
		r = db_exec(st, error_r, "INSERT INTO ix.meta VALUES ('epoch', ?)", "i", want);
	return db_finish(st, r, error_r) < 0 ? -1 : 0;
}

int sqlite_index_attach(struct store *st, bool writable, char **error_r)
{
	if (st->index_attached)
		return 0;
	char *path = xasprintf("%s/index.db", st->data_dir);
	char *uri = sqlite_file_uri(path, writable ? "mode=rwc" : "mode=ro");
	free(path);
	int r = db_exec(st, error_r, "ATTACH DATABASE ? AS ix", "s", uri);
	free(uri);
	if (r < 0)
		return -1;
	st->index_attached = true;
	if (!writable)
		return 0;
	char *pragmas = xasprintf("PRAGMA ix.journal_mode=WAL; PRAGMA ix.synchronous=FULL; "
				  "PRAGMA ix.journal_size_limit=%d;", WAL_SIZE_LIMIT);
	r = db_script(st, pragmas, "cannot set up index.db", error_r);
	free(pragmas);
	if (r == 0)
		r = db_script(st, index_schema, "cannot create index.db", error_r);
	return r == 0 ? index_adopt(st, error_r) : -1;
}

int store_index_open(struct store *st, char **error_r)
{
	return sqlite_index_attach(st, true, error_r);
}

int store_index_prune(struct store *st, size_t limit, char **error_r)
{
	if (sqlite_index_begin(st, error_r) < 0)
		return -1;
	/* search_text_docsize is FTS5's own table of one small row per document: scanning it
	 * reads no text */
	int r = db_exec(st, error_r,
			"DELETE FROM ix.search_text WHERE rowid IN (SELECT d.id FROM ix.search_text_docsize d "
			"WHERE NOT EXISTS (SELECT 1 FROM main.bodies b WHERE b.id = d.id) LIMIT ?)",
			"i", (int64_t)limit);
	return db_finish(st, r, error_r);
}

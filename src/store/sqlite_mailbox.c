/* The SQLite backend's mailboxes: an account's folders, the messages in them, reading a stored
 * message back, and removing an account's mail with the message files nothing else uses. */
#include "store/msgfile.h"
#include "store/sqlite_internal.h"
#include "core/xalloc.h"
#include <stdlib.h>
#include <strings.h>

/* Every account starts with these (RFC 6154 special-use attributes), all subscribed, so every
 * client finds the same Sent, Drafts and Trash. */
static const struct {
	const char *name;
	const char *special_use;
} default_folders[] = {
	{ "INBOX", NULL },       { "Sent", "\\Sent" }, { "Drafts", "\\Drafts" },
	{ "Trash", "\\Trash" },  { "Junk", "\\Junk" }, { "Archive", "\\Archive" },
};

/* INBOX is case-insensitive (RFC 3501 5.1); other names are taken as they are. */
static const char *folder_name(const char *name)
{
	return strcasecmp(name, "INBOX") == 0 ? "INBOX" : name;
}

int sqlite_folder_create(struct store *st, int64_t account_id, const char *name,
			 const char *special_use, char **error_r)
{
	/* UIDVALIDITY from the clock, and above every one handed out before, so a folder that
	 * is deleted and created again never repeats one (RFC 3501 2.3.1.1). */
	int64_t uidvalidity;
	if (db_int(st, error_r, &uidvalidity,
		   "UPDATE meta SET value = max(value + 1, CAST(strftime('%s', 'now') AS INTEGER)) "
		   "WHERE name = 'last_uidvalidity' RETURNING value",
		   "") <= 0)
		return -1;
	/* An id above every one handed out before too: SQLite would give a deleted folder's id
	 * to the next one, and a session that had the deleted one selected, looking it up by id,
	 * would take the new folder for it. The row is made by the first folder made. */
	int64_t id;
	if (db_int(st, error_r, &id,
		   "INSERT INTO meta VALUES ('last_folder_id', (SELECT coalesce(max(id), 0) + 1 FROM folders)) "
		   "ON CONFLICT (name) DO UPDATE SET value = "
		   "max(value, (SELECT coalesce(max(id), 0) FROM folders)) + 1 RETURNING value",
		   "") <= 0)
		return -1;
	return db_exec(st, error_r,
		       "INSERT INTO folders (id, account_id, name, uidvalidity, special_use) "
		       "VALUES (?, ?, ?, ?, ?)",
		       "iisis", id, account_id, name, uidvalidity, special_use) < 0 ? -1 : 0;
}

int sqlite_folders_create_defaults(struct store *st, int64_t account_id, char **error_r)
{
	for (size_t i = 0; i < sizeof(default_folders) / sizeof(default_folders[0]); i++)
		if (sqlite_folder_create(st, account_id, default_folders[i].name,
				  default_folders[i].special_use, error_r) < 0 ||
		    db_exec(st, error_r, "INSERT OR IGNORE INTO subscriptions VALUES (?, ?)", "is",
			    account_id, default_folders[i].name) < 0)
			return -1;
	return 0;
}

int sqlite_folder_id(struct store *st, int64_t account_id, const char *name, int64_t *id_r,
		     char **error_r)
{
	return db_int(st, error_r, id_r, "SELECT id FROM folders WHERE account_id = ? AND name = ?",
		      "is", account_id, folder_name(name));
}

/* The columns folder_from_row reads; unseen counts messages without FLAG_SEEN (1), recent
 * those no session has taken as recent. */
#define FOLDER_SELECT                                                                         \
	"SELECT f.id, f.name, f.uidvalidity, f.uidnext, f.highestmodseq, f.special_use, "     \
	"EXISTS (SELECT 1 FROM subscriptions s WHERE s.account_id = f.account_id AND s.name = f.name), " \
	"(SELECT count(*) FROM folder_messages m WHERE m.folder_id = f.id), "                 \
	"(SELECT count(*) FROM folder_messages m WHERE m.folder_id = f.id AND m.flags & 1 = 0), " \
	"f.recent_uid, "                                                                      \
	"(SELECT count(*) FROM folder_messages m WHERE m.folder_id = f.id AND m.uid >= f.recent_uid) " \
	"FROM folders f "

static void folder_from_row(sqlite3_stmt *stmt, struct folder *f)
{
	const unsigned char *special_use = sqlite3_column_text(stmt, 5);
	f->id = sqlite3_column_int64(stmt, 0);
	f->name = xstrdup((const char *)sqlite3_column_text(stmt, 1));
	f->uidvalidity = (uint32_t)sqlite3_column_int64(stmt, 2);
	f->uidnext = (uint32_t)sqlite3_column_int64(stmt, 3);
	f->highestmodseq = (uint64_t)sqlite3_column_int64(stmt, 4);
	f->special_use = special_use != NULL ? xstrdup((const char *)special_use) : NULL;
	f->subscribed = sqlite3_column_int(stmt, 6) != 0;
	f->messages = (uint32_t)sqlite3_column_int64(stmt, 7);
	f->unseen = (uint32_t)sqlite3_column_int64(stmt, 8);
	f->recent_uid = (uint32_t)sqlite3_column_int64(stmt, 9);
	f->recent = (uint32_t)sqlite3_column_int64(stmt, 10);
}

int store_folder_totals(struct store *st, int64_t folder_id, uint64_t *size, uint32_t *deleted,
			char **error_r)
{
	sqlite3_stmt *stmt = db_stmt(st, error_r,
				     "SELECT coalesce(sum(size), 0), coalesce(sum(flags & 8 != 0), 0) "
				     "FROM folder_messages WHERE folder_id = ?", "i", folder_id);
	int r = stmt != NULL ? db_step(st, stmt, error_r) : -1;
	if (r < 0)
		return -1;
	*size = (uint64_t)sqlite3_column_int64(stmt, 0);
	*deleted = (uint32_t)sqlite3_column_int64(stmt, 1);
	sqlite3_reset(stmt);
	return 0;
}

int store_folder_get(struct store *st, int64_t account_id, const char *name, struct folder *out,
		     char **error_r)
{
	sqlite3_stmt *stmt = db_stmt(st, error_r, FOLDER_SELECT "WHERE f.account_id = ? AND f.name = ?",
				     "is", account_id, folder_name(name));
	int r = stmt != NULL ? db_step(st, stmt, error_r) : -1;
	if (r == 1)
		folder_from_row(stmt, out);
	if (r >= 0)
		sqlite3_reset(stmt);
	return r;
}

int store_folder_list(struct store *st, int64_t account_id, struct folder **out, size_t *count,
		      char **error_r)
{
	*out = NULL;
	*count = 0;
	sqlite3_stmt *stmt = db_stmt(st, error_r, FOLDER_SELECT "WHERE f.account_id = ? ORDER BY f.name",
				     "i", account_id);
	int r = stmt != NULL ? 1 : -1;
	size_t cap = 0;
	while (r == 1 && (r = db_step(st, stmt, error_r)) == 1) {
		if (*count == cap)
			*out = xrealloc(*out, (cap = cap ? 2 * cap : 8) * sizeof(**out));
		folder_from_row(stmt, &(*out)[(*count)++]);
	}
	if (r == 0) {
		sqlite3_reset(stmt);
		return 0;
	}
	while (*count > 0)
		folder_clear(&(*out)[--*count]);
	xfree(out);
	return -1;
}

/* Reads the rows of a message query (the columns of MESSAGE_COLUMNS) into *out. */
#define MESSAGE_COLUMNS "uid, flags, keywords, internal_date, size, modseq, body_id"
static int messages_from_rows(struct store *st, sqlite3_stmt *stmt, struct message **out,
			      size_t *count, char **error_r)
{
	*out = NULL;
	*count = 0;
	int r = stmt != NULL ? 1 : -1;
	size_t cap = 0;
	while (r == 1 && (r = db_step(st, stmt, error_r)) == 1) {
		if (*count == cap)
			*out = xrealloc(*out, (cap = cap ? 2 * cap : 64) * sizeof(**out));
		struct message *m = &(*out)[(*count)++];
		m->uid = (uint32_t)sqlite3_column_int64(stmt, 0);
		m->flags = (uint32_t)sqlite3_column_int64(stmt, 1);
		m->keywords = xstrdup((const char *)sqlite3_column_text(stmt, 2));
		m->internal_date = (time_t)sqlite3_column_int64(stmt, 3);
		m->size = (uint64_t)sqlite3_column_int64(stmt, 4);
		m->modseq = (uint64_t)sqlite3_column_int64(stmt, 5);
		m->body_id = sqlite3_column_int64(stmt, 6);
	}
	if (r == 0) {
		sqlite3_reset(stmt);
		return 0;
	}
	while (*count > 0)
		message_clear(&(*out)[--*count]);
	xfree(out);
	return -1;
}

int store_message_list(struct store *st, int64_t folder_id, struct message **out, size_t *count,
		       char **error_r)
{
	return messages_from_rows(st, db_stmt(st, error_r, "SELECT " MESSAGE_COLUMNS
					      " FROM folder_messages WHERE folder_id = ? ORDER BY uid",
					      "i", folder_id),
				  out, count, error_r);
}

int store_folder_changes(struct store *st, int64_t folder_id, uint64_t since,
			 struct message **changed, size_t *changed_count, uint32_t **vanished,
			 size_t *vanished_count, char **error_r)
{
	*vanished = NULL;
	*vanished_count = 0;
	if (messages_from_rows(st, db_stmt(st, error_r, "SELECT " MESSAGE_COLUMNS
					   " FROM folder_messages WHERE folder_id = ? AND modseq > ? "
					   "ORDER BY uid",
					   "ii", folder_id, (int64_t)since),
			       changed, changed_count, error_r) < 0)
		return -1;
	sqlite3_stmt *stmt = db_stmt(st, error_r,
				     "SELECT uid FROM expunged WHERE folder_id = ? AND modseq > ? "
				     "ORDER BY uid",
				     "ii", folder_id, (int64_t)since);
	int r = stmt != NULL ? 1 : -1;
	size_t cap = 0;
	while (r == 1 && (r = db_step(st, stmt, error_r)) == 1) {
		if (*vanished_count == cap)
			*vanished = xrealloc(*vanished, (cap = cap ? 2 * cap : 64) * sizeof(**vanished));
		(*vanished)[(*vanished_count)++] = (uint32_t)sqlite3_column_int64(stmt, 0);
	}
	if (r == 0) {
		sqlite3_reset(stmt);
		return 0;
	}
	while (*changed_count > 0)
		message_clear(&(*changed)[--*changed_count]);
	xfree(changed);
	xfree(vanished);
	*vanished_count = 0;
	return -1;
}

int store_message_read(struct store *st, int64_t folder_id, uint32_t uid, struct buf *out,
		       char **error_r)
{
	sqlite3_stmt *stmt = db_stmt(st, error_r,
				     "SELECT m.header_prefix, b.path FROM folder_messages m "
				     "JOIN bodies b ON b.id = m.body_id WHERE m.folder_id = ? AND m.uid = ?",
				     "ii", folder_id, (int64_t)uid);
	int r = stmt != NULL ? db_step(st, stmt, error_r) : -1;
	if (r == 0)
		sqlite3_reset(stmt);
	if (r <= 0)
		return r;
	size_t prefix_len = (size_t)sqlite3_column_bytes(stmt, 0);
	if (prefix_len > 0) /* an empty blob comes back as NULL */
		buf_append(out, sqlite3_column_blob(stmt, 0), prefix_len);
	char *path = xstrdup((const char *)sqlite3_column_text(stmt, 1));
	/* Reset before the file is read, so no read transaction stays open during the I/O. */
	sqlite3_reset(stmt);
	r = msgfile_read(st->data_dir, path, out, error_r) < 0 ? -1 : 1;
	free(path);
	return r;
}

int store_message_headers(struct store *st, int64_t folder_id, const uint32_t *uids, size_t count,
			  size_t max, buf *headers, char **error_r)
{
	if (count == 0)
		return 0;
	/* one query for the batch's paths, merged with the ascending UIDs asked for */
	sqlite3_stmt *stmt = db_stmt(st, error_r,
				     "SELECT m.uid, b.path FROM folder_messages m JOIN bodies b "
				     "ON b.id = m.body_id WHERE m.folder_id = ? AND m.uid BETWEEN ? AND ? "
				     "ORDER BY m.uid", "iii", folder_id, (int64_t)uids[0],
				     (int64_t)uids[count - 1]);
	char **paths = xcalloc(count, sizeof(*paths));
	size_t i = 0;
	int r = stmt != NULL ? 1 : -1;
	while (r == 1 && (r = db_step(st, stmt, error_r)) == 1) {
		uint32_t uid = (uint32_t)sqlite3_column_int64(stmt, 0);
		while (i < count && uids[i] < uid)
			i++;
		if (i < count && uids[i] == uid)
			paths[i] = xstrdup((const char *)sqlite3_column_text(stmt, 1));
	}
	if (r == 0)
		sqlite3_reset(stmt); /* no read transaction stays open during the file reads */
	for (i = 0; i < count && r == 0; i++)
		if (paths[i] != NULL)
			r = msgfile_read_header(st->data_dir, paths[i], max, &headers[i], error_r);
	for (i = 0; i < count; i++)
		free(paths[i]);
	free(paths);
	return r;
}

int sqlite_account_purge(struct store *st, int64_t account_id, strlist *unlink_after,
			 char **error_r)
{
	/* The account's message files are candidates; those that no other folder entry and no
	 * queue entry refers to once its folders are gone are deleted with their rows. */
	if (db_exec(st, error_r, "DELETE FROM body_candidates", "") < 0 ||
	    db_exec(st, error_r,
		    "INSERT OR IGNORE INTO body_candidates SELECT m.body_id FROM folder_messages m "
		    "JOIN folders f ON f.id = m.folder_id WHERE f.account_id = ?",
		    "i", account_id) < 0 ||
	    db_exec(st, error_r, "DELETE FROM folders WHERE account_id = ?", "i", account_id) < 0)
		return -1;
	return sqlite_bodies_prune(st, unlink_after, error_r);
}

int sqlite_bodies_prune(struct store *st, strlist *unlink_after, char **error_r)
{
	return db_strings(st, unlink_after, error_r,
			  "DELETE FROM bodies WHERE id IN (SELECT c.id FROM body_candidates c "
			  "WHERE NOT EXISTS (SELECT 1 FROM folder_messages m WHERE m.body_id = c.id) "
			  "AND NOT EXISTS (SELECT 1 FROM queue q WHERE q.body_id = c.id)) RETURNING path",
			  "") < 0 ? -1 : 0;
}

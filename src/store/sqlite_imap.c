/* The store functions IMAP needs beyond delivery and reading (store.h, "IMAP"), for the
 * SQLite backend: flag changes with CONDSTORE modseqs, copying and moving messages (sharing
 * their files), and creating, deleting, renaming and subscribing folders. */
#include "store/msgfile.h"
#include "store/sqlite_internal.h"
#include "core/xalloc.h"
#include <stdlib.h>
#include <string.h>

int store_flags_update(struct store *st, int64_t folder_id, const struct flag_update *updates,
		       size_t count, uint64_t *modseq_r, char **error_r)
{
	if (db_begin(st, error_r) < 0)
		return -1;
	int64_t modseq = 0;
	int r = db_exec(st, error_r, "UPDATE folders SET highestmodseq = highestmodseq + 1 WHERE id = ?",
			"i", folder_id);
	if (r >= 0)
		r = db_int(st, error_r, &modseq, "SELECT highestmodseq FROM folders WHERE id = ?", "i",
			   folder_id);
	for (size_t i = 0; r >= 0 && i < count; i++)
		r = db_exec(st, error_r,
			    "UPDATE folder_messages SET flags = ?, keywords = ?, modseq = ? "
			    "WHERE folder_id = ? AND uid = ?",
			    "isiii", (int64_t)(updates[i].flags & ~(uint32_t)FLAG_RECENT),
			    updates[i].keywords, modseq, folder_id, (int64_t)updates[i].uid);
	r = db_finish(st, r < 0 ? -1 : 0, error_r);
	if (r == 0)
		*modseq_r = (uint64_t)modseq;
	return r;
}

/* Creates the levels above name that are missing ("a" and "a/b" for "a/b/c"), inside the
 * caller's transaction. 0 or -1. */
static int create_superiors(struct store *st, int64_t account_id, const char *name, char **error_r)
{
	int r = 0;
	for (const char *slash = strchr(name, '/'); slash != NULL && r >= 0; slash = strchr(slash + 1, '/')) {
		char *level = xstrndup(name, (size_t)(slash - name));
		int64_t id;
		r = sqlite_folder_id(st, account_id, level, &id, error_r);
		if (r == 0)
			r = sqlite_folder_create(st, account_id, level, NULL, error_r);
		free(level);
	}
	return r < 0 ? -1 : 0;
}

int store_folder_create(struct store *st, int64_t account_id, const char *name, char **error_r)
{
	if (db_begin(st, error_r) < 0)
		return -1;
	int64_t id;
	int r = sqlite_folder_id(st, account_id, name, &id, error_r);
	if (r == 0)
		r = create_superiors(st, account_id, name, error_r) < 0 ||
				    sqlite_folder_create(st, account_id, name, NULL, error_r) < 0
			    ? -1
			    : 1;
	else if (r > 0)
		r = 0;
	return db_finish(st, r, error_r);
}

/* 1 when the account has folders below name ("name/..."), 0 when not, -1 with *error_r. */
static int has_children(struct store *st, int64_t account_id, const char *name, char **error_r)
{
	int64_t n = 0;
	int r = db_int(st, error_r, &n,
		       "SELECT count(*) FROM folders "
		       "WHERE account_id = ? AND substr(name, 1, length(?) + 1) = ? || '/'",
		       "iss", account_id, name, name);
	return r < 0 ? -1 : n > 0;
}

int store_folder_delete(struct store *st, int64_t account_id, const char *name, char **error_r)
{
	if (db_begin(st, error_r) < 0)
		return -1;
	strlist files;
	strlist_init(&files);
	int64_t id;
	int r = sqlite_folder_id(st, account_id, name, &id, error_r);
	/* checked in the transaction that deletes, so no child is created in between */
	int children = r > 0 ? has_children(st, account_id, name, error_r) : 0;
	if (children != 0)
		r = children < 0 ? -1 : 2;
	if (r == 1 && (db_exec(st, error_r, "DELETE FROM body_candidates", "") < 0 ||
		      db_exec(st, error_r,
			      "INSERT OR IGNORE INTO body_candidates SELECT body_id FROM folder_messages "
			      "WHERE folder_id = ?", "i", id) < 0 ||
		      db_exec(st, error_r, "DELETE FROM folder_messages WHERE folder_id = ?", "i", id) < 0 ||
		      db_exec(st, error_r, "DELETE FROM folders WHERE id = ?", "i", id) < 0 ||
		      sqlite_bodies_prune(st, &files, error_r) < 0))
		r = -1;
	r = db_finish(st, r, error_r);
	for (size_t i = 0; r == 1 && i < files.count; i++)
		msgfile_remove(st->data_dir, files.items[i]);
	strlist_free(&files);
	return r;
}

int store_folder_rename(struct store *st, int64_t account_id, const char *from, const char *to,
			char **error_r)
{
	if (db_begin(st, error_r) < 0)
		return -1;
	int64_t id;
	int r = sqlite_folder_id(st, account_id, from, &id, error_r);
	if (r > 0 && create_superiors(st, account_id, to, error_r) < 0)
		r = -1;
	/* substr() rather than LIKE: names may hold "%" and "_"; subscriptions move along, as a
	 * user who renames a folder still wants to see it */
	if (r > 0 && (db_exec(st, error_r, "UPDATE folders SET name = ? WHERE id = ?", "si", to, id) < 0 ||
		      db_exec(st, error_r,
			      "UPDATE folders SET name = ? || substr(name, length(?) + 1) "
			      "WHERE account_id = ? AND substr(name, 1, length(?) + 1) = ? || '/'",
			      "ssiss", to, from, account_id, from, from) < 0 ||
		      db_exec(st, error_r,
			      "UPDATE OR REPLACE subscriptions SET name = ? || substr(name, length(?) + 1) "
			      "WHERE account_id = ? AND (name = ? OR substr(name, 1, length(?) + 1) = ? || '/')",
			      "ssisss", to, from, account_id, from, from, from) < 0))
		r = -1;
	return db_finish(st, r, error_r);
}

int store_folder_take_recent(struct store *st, int64_t folder_id, uint32_t uidnext,
			     uint32_t *first_r, char **error_r)
{
	if (db_begin(st, error_r) < 0)
		return -1;
	int64_t first = uidnext;
	int r = db_int(st, error_r, &first, "SELECT recent_uid FROM folders WHERE id = ?", "i", folder_id);
	if (r > 0 && first < uidnext)
		r = db_exec(st, error_r, "UPDATE folders SET recent_uid = ? WHERE id = ?", "ii",
			    (int64_t)uidnext, folder_id);
	r = db_finish(st, r < 0 ? -1 : 0, error_r);
	*first_r = r == 0 ? (uint32_t)first : uidnext;
	return r;
}

int store_folder_subscribe(struct store *st, int64_t account_id, const char *name, bool on,
			   char **error_r)
{
	int64_t id;
	int r = sqlite_folder_id(st, account_id, name, &id, error_r);
	if (r > 0 && db_exec(st, error_r,
			     on ? "INSERT OR IGNORE INTO subscriptions VALUES (?, (SELECT name FROM folders WHERE id = ?))"
				: "DELETE FROM subscriptions WHERE account_id = ? AND name = "
				  "(SELECT name FROM folders WHERE id = ?)",
			     "ii", account_id, id) < 0)
		r = -1;
	if (r == 0 && !on) /* the subscription of a folder deleted since */
		r = db_exec(st, error_r, "DELETE FROM subscriptions WHERE account_id = ? AND name = ?",
			    "is", account_id, name) > 0 ? 1 : 0;
	return r;
}

int store_subscriptions_orphaned(struct store *st, int64_t account_id, strlist *names,
				 char **error_r)
{
	sqlite3_stmt *stmt = db_stmt(st, error_r,
				     "SELECT name FROM subscriptions s WHERE account_id = ? AND NOT EXISTS "
				     "(SELECT 1 FROM folders f WHERE f.account_id = s.account_id AND "
				     "f.name = s.name) ORDER BY name", "i", account_id);
	int r = stmt != NULL ? 1 : -1;
	while (r == 1 && (r = db_step(st, stmt, error_r)) == 1)
		strlist_add(names, (const char *)sqlite3_column_text(stmt, 0));
	if (r >= 0)
		sqlite3_reset(stmt);
	return r;
}

/* Copies one message into folder to with to's next UID and modseq. 1 copied (uid in *uid_r),
 * 0 when uid is not in from, -1 on error. */
static int copy_one(struct store *st, int64_t from, int64_t to, uint32_t uid, uint32_t *uid_r,
		    char **error_r)
{
	int64_t exists = 0;
	int r = db_int(st, error_r, &exists,
		       "SELECT 1 FROM folder_messages WHERE folder_id = ? AND uid = ?", "ii", from,
		       (int64_t)uid);
	int64_t new_uid, modseq;
	if (r <= 0)
		return r;
	if (sqlite_folder_next_uid(st, to, &new_uid, &modseq, error_r) < 0)
		return -1;
	if (db_exec(st, error_r,
		    "INSERT INTO folder_messages (folder_id, uid, body_id, header_prefix, flags, "
		    "keywords, internal_date, size, modseq) SELECT ?, ?, body_id, header_prefix, "
		    "flags, keywords, internal_date, size, ? FROM folder_messages "
		    "WHERE folder_id = ? AND uid = ?",
		    "iiiii", to, new_uid, modseq, from, (int64_t)uid) < 0)
		return -1;
	*uid_r = (uint32_t)new_uid;
	return 1;
}

int store_messages_copy(struct store *st, int64_t from, int64_t to, const uint32_t *uids,
			size_t count, bool move, uint32_t *uids_r, uint32_t *uidvalidity_r,
			char **error_r)
{
	if (db_begin(st, error_r) < 0)
		return -1;
	int64_t uidvalidity = 0;
	int r = db_int(st, error_r, &uidvalidity, "SELECT uidvalidity FROM folders WHERE id = ?", "i", to);
	if (r == 0) {
		*error_r = xasprintf("folder %lld does not exist", (long long)to);
		r = -1;
	}
	int copied = 0;
	uint32_t *moved = xcalloc(count + 1, sizeof(*moved));
	for (size_t i = 0; r >= 0 && i < count; i++) {
		uids_r[i] = 0;
		r = copy_one(st, from, to, uids[i], &uids_r[i], error_r);
		if (r > 0)
			moved[copied++] = uids[i];
	}
	/* the files stay: the copies refer to them */
	if (r >= 0 && move && copied > 0)
		r = sqlite_folder_remove(st, from, moved, (size_t)copied, error_r);
	free(moved);
	r = db_finish(st, r < 0 ? -1 : 0, error_r);
	*uidvalidity_r = (uint32_t)uidvalidity;
	return r < 0 ? -1 : copied;
}

int store_folder_modseq(struct store *st, int64_t folder_id, uint64_t *modseq_r, char **error_r)
{
	int64_t modseq = 0;
	int r = db_int(st, error_r, &modseq, "SELECT highestmodseq FROM folders WHERE id = ?", "i",
		       folder_id);
	*modseq_r = (uint64_t)modseq;
	return r;
}

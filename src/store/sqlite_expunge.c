/* store_messages_expunge for the SQLite backend: removing messages from a folder for good
 * (POP3 DELE at QUIT, IMAP EXPUNGE). One write transaction removes the folder entries, gives
 * the folder a new modseq so IMAP clients (CONDSTORE, RFC 7162) see that it changed, and drops
 * the rows of message files nothing refers to any more; the files themselves go only after the
 * commit, so a crash leaves at most an unreferenced file, never a row without its file. */
#include "store/msgfile.h"
#include "store/sqlite_internal.h"
#include "core/xalloc.h"
#include <stdlib.h>

/* Removes one folder entry, noting its message file as a candidate for deletion. Returns the
 * number of entries removed (0 when the UID is not in the folder), or -1. */
static int expunge_one(struct store *st, int64_t folder_id, uint32_t uid, char **error_r)
{
	if (db_exec(st, error_r,
		    "INSERT OR IGNORE INTO body_candidates SELECT body_id FROM folder_messages "
		    "WHERE folder_id = ? AND uid = ?",
		    "ii", folder_id, (int64_t)uid) < 0)
		return -1;
	return db_exec(st, error_r, "DELETE FROM folder_messages WHERE folder_id = ? AND uid = ?",
		       "ii", folder_id, (int64_t)uid);
}

int sqlite_folder_remove(struct store *st, int64_t folder_id, const uint32_t *uids, size_t count,
			 char **error_r)
{
	int removed = 0, r = 0;
	bool *gone = xcalloc(count + 1, sizeof(*gone));
	for (size_t i = 0; r >= 0 && i < count; i++) {
		r = expunge_one(st, folder_id, uids[i], error_r);
		gone[i] = r > 0;
		removed += r > 0 ? r : 0;
	}
	if (r >= 0 && removed > 0)
		r = db_exec(st, error_r,
			    "UPDATE folders SET highestmodseq = highestmodseq + 1 WHERE id = ?", "i",
			    folder_id);
	for (size_t i = 0; r >= 0 && i < count; i++)
		if (gone[i])
			r = db_exec(st, error_r,
				    "INSERT OR REPLACE INTO expunged SELECT ?, ?, highestmodseq "
				    "FROM folders WHERE id = ?",
				    "iii", folder_id, (int64_t)uids[i], folder_id);
	free(gone);
	return r < 0 ? -1 : removed;
}

int store_messages_expunge(struct store *st, int64_t folder_id, const uint32_t *uids, size_t count,
			   char **error_r)
{
	if (count == 0)
		return 0;
	if (db_begin(st, error_r) < 0)
		return -1;
	strlist files;
	strlist_init(&files);
	int r = db_exec(st, error_r, "DELETE FROM body_candidates", "");
	if (r >= 0)
		r = sqlite_folder_remove(st, folder_id, uids, count, error_r);
	if (r >= 0)
		r = sqlite_bodies_prune(st, &files, error_r);
	r = db_finish(st, r < 0 ? -1 : 0, error_r);
	for (size_t i = 0; r == 0 && i < files.count; i++)
		msgfile_remove(st->data_dir, files.items[i]);
	strlist_free(&files);
	return r;
}

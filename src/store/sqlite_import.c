/* The SQLite backend's import: messages from another mail store added with the UIDs, flags,
 * keywords and internal dates they had there (store.h). Durable in the order store_deliver
 * keeps: the files fsync'd and renamed into one messages/XX folder, that folder fsync'd, then
 * one transaction for every row, so a crash leaves at most files no row refers to. */
#include "store/msgfile.h"
#include "store/sqlite_internal.h"
#include "core/xalloc.h"
#include <stdlib.h>
#include <unistd.h>

int store_folder_adopt_uidvalidity(struct store *st, int64_t folder_id, uint32_t uidvalidity,
				   char **error_r)
{
	if (db_begin(st, error_r) < 0)
		return -1;
	/* A folder that never held a message has given out no UID under its UIDVALIDITY, so no
	 * client can hold one: it may take the source's. */
	int r = db_exec(st, error_r,
			"UPDATE folders SET uidvalidity = ?2 WHERE id = ?1 AND (uidvalidity = ?2 OR "
			"(uidnext = 1 AND NOT EXISTS (SELECT 1 FROM folder_messages WHERE folder_id = ?1)))",
			"ii", folder_id, (int64_t)uidvalidity);
	/* Folders made later draw their UIDVALIDITY above this one, so none repeats it. */
	if (r > 0 && db_exec(st, error_r,
			     "UPDATE meta SET value = max(value, ?) WHERE name = 'last_uidvalidity'", "i",
			     (int64_t)uidvalidity) < 0)
		r = -1;
	return db_finish(st, r, error_r) < 0 ? -1 : r > 0;
}

int store_folder_raise_uidnext(struct store *st, int64_t folder_id, uint32_t uidnext,
			       char **error_r)
{
	return db_exec(st, error_r, "UPDATE folders SET uidnext = max(uidnext, ?) WHERE id = ?", "ii",
		       (int64_t)uidnext, folder_id) < 0 ? -1 : 0;
}

/* Takes the message's UID (its own when the folder has not passed it) and the folder's next
 * modseq, inside the transaction. */
static int take_uid(struct store *st, int64_t folder_id, uint32_t wanted, int64_t *uid_r,
		    int64_t *modseq_r, char **error_r)
{
	int64_t uidnext;
	int r = db_int(st, error_r, &uidnext, "SELECT uidnext FROM folders WHERE id = ?", "i", folder_id);
	if (r == 0)
		*error_r = xasprintf("folder %lld disappeared", (long long)folder_id);
	if (r <= 0)
		return -1;
	if (wanted == 0 || wanted < uidnext)
		return sqlite_folder_next_uid(st, folder_id, uid_r, modseq_r, error_r);
	if (db_int(st, error_r, modseq_r,
		   "UPDATE folders SET uidnext = ? + 1, highestmodseq = highestmodseq + 1 "
		   "WHERE id = ? RETURNING highestmodseq", "ii", (int64_t)wanted, folder_id) <= 0)
		return -1;
	*uid_r = wanted;
	return 0;
}

static int insert_rows(struct store *st, int64_t folder_id, struct import_message *msgs,
		       char **paths, size_t count, char **error_r)
{
	for (size_t i = 0; i < count; i++) {
		struct import_message *m = &msgs[i];
		int64_t uid, modseq;
		if (db_exec(st, error_r, "INSERT INTO bodies (path, size) VALUES (?, ?)", "si", paths[i],
			    (int64_t)m->size) < 0 ||
		    take_uid(st, folder_id, m->uid, &uid, &modseq, error_r) < 0)
			return -1;
		int64_t body_id = sqlite3_last_insert_rowid(st->db);
		if (db_exec(st, error_r,
			    "INSERT INTO folder_messages (folder_id, uid, body_id, header_prefix, flags, "
			    "keywords, internal_date, size, modseq) VALUES (?, ?, ?, X'', ?, ?, ?, ?, ?)",
			    "iiiisiii", folder_id, uid, body_id, (int64_t)(m->flags & ~FLAG_RECENT),
			    m->keywords != NULL ? m->keywords : "", (int64_t)m->internal_date,
			    (int64_t)m->size, modseq) < 0)
			return -1;
		m->uid_r = (uint32_t)uid;
	}
	return 0;
}

int store_messages_import(struct store *st, int64_t folder_id, struct import_message *msgs,
			  size_t count, char **error_r)
{
	char **paths = xcalloc(count, sizeof(*paths));
	bool full = false;
	st->full = false;
	char *subdir = msgfile_batch_dir(st->data_dir, &full, error_r);
	int r = subdir != NULL ? 0 : -1;
	for (size_t i = 0; i < count; i++) {
		/* msgfile_commit removes the spool file when it fails; the rest go here */
		if (r == 0)
			r = msgfile_commit(st->data_dir, subdir, msgs[i].spool_path, msgs[i].size, &paths[i],
					   &full, error_r);
		else
			unlink(msgs[i].spool_path);
	}
	if (r == 0 && count > 0 && (r = msgfile_sync_dir(st->data_dir, subdir, &full, error_r)) == 0 &&
	    (r = db_begin(st, error_r)) == 0) {
		r = insert_rows(st, folder_id, msgs, paths, count, error_r);
		if (r < 0)
			db_rollback(st);
		else
			r = db_commit(st, error_r);
	}
	for (size_t i = 0; i < count; i++) {
		if (r < 0 && paths[i] != NULL)
			msgfile_remove(st->data_dir, paths[i]);
		free(paths[i]);
	}
	st->full = st->full || full;
	free(paths);
	free(subdir);
	return r;
}

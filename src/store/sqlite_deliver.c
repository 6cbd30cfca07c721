/* store_deliver for the SQLite backend: the group commit after which SMTP may answer 250.
 *
 * Order matters for "nothing acknowledged is ever lost, nothing is left half-written":
 *   1. each spool file is fsync'd and renamed into one messages/XX folder chosen for the batch;
 *   2. that folder is fsync'd once, so every rename is on disk;
 *   3. one transaction inserts every delivery's rows (each inside its own savepoint, so one bad
 *      delivery fails alone) and takes UIDs and modseqs from the folders it touches;
 *   4. COMMIT (synchronous=FULL: durable when it returns).
 * A crash before 4 leaves at most unreferenced files in messages/, never a row without its
 * file. A delivery that fails has its file removed and its error set. */
#include "store/msgfile.h"
#include "store/sqlite_internal.h"
#include "core/log.h"
#include "core/xalloc.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static void delivery_fail(struct delivery *d, char *error, bool full)
{
	d->status = -1;
	d->full = full;
	free(d->error);
	d->error = error;
}

int sqlite_folder_next_uid(struct store *st, int64_t folder_id, int64_t *uid_r, int64_t *modseq_r,
			   char **error_r)
{
	sqlite3_stmt *stmt = db_stmt(st, error_r,
				     "UPDATE folders SET uidnext = uidnext + 1, "
				     "highestmodseq = highestmodseq + 1 WHERE id = ? "
				     "RETURNING uidnext - 1, highestmodseq",
				     "i", folder_id);
	int r = stmt != NULL ? db_step(st, stmt, error_r) : -1;
	if (r == 0) {
		sqlite3_reset(stmt);
		*error_r = xasprintf("folder %lld disappeared", (long long)folder_id);
	}
	if (r <= 0)
		return -1;
	*uid_r = sqlite3_column_int64(stmt, 0);
	*modseq_r = sqlite3_column_int64(stmt, 1);
	sqlite3_reset(stmt);
	return 0;
}

/* Adds the message to one local recipient's folder with the folder's next UID and modseq. */
static int deliver_local(struct store *st, const struct delivery *d, struct delivery_local *l,
			 int64_t body_id, time_t arrival, char **error_r)
{
	int64_t folder_id;
	int r = 0;
	if (l->junk)
		r = db_int(st, error_r, &folder_id,
			   "SELECT id FROM folders WHERE account_id = ? AND special_use = '\\Junk' "
			   "ORDER BY id LIMIT 1", "i", l->account_id);
	if (r == 0)
		r = sqlite_folder_id(st, l->account_id, l->folder, &folder_id, error_r);
	if (r == 0 && strcasecmp(l->folder, "INBOX") != 0) {
		/* The folder a filter chose was deleted since: INBOX rather than no delivery. */
		log_warn("queue=%s store folder=\"%s\" of account %lld is gone, delivering to INBOX",
			 d->queue_id, l->folder, (long long)l->account_id);
		r = sqlite_folder_id(st, l->account_id, "INBOX", &folder_id, error_r);
	}
	if (r == 0)
		*error_r = xasprintf("account %lld no longer exists", (long long)l->account_id);
	int64_t uid, modseq;
	if (r <= 0 || sqlite_folder_next_uid(st, folder_id, &uid, &modseq, error_r) < 0)
		return -1;
	size_t prefix_len = l->header_prefix != NULL ? strlen(l->header_prefix) : 0;
	if (db_exec(st, error_r,
		    "INSERT INTO folder_messages (folder_id, uid, body_id, header_prefix, flags, "
		    "internal_date, size, modseq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		    "iiibiiii", folder_id, uid, body_id, l->header_prefix, prefix_len,
		    (int64_t)l->flags, (int64_t)arrival, (int64_t)(prefix_len + d->body_size),
		    modseq) < 0)
		return -1;
	l->uid_r = (uint32_t)uid;
	return 0;
}

/* The hourly limits of submission count what was accepted, so the row goes in the
 * delivery's own transaction; the account's rows older than the hour go with it. */
#define SUBMISSION_WINDOW 3600

static int record_submission(struct store *st, const struct delivery *d, time_t arrival,
			     char **error_r)
{
	if (db_exec(st, error_r, "DELETE FROM submissions WHERE account_id = ? AND at <= ?", "ii",
		    d->submitter_id, (int64_t)(arrival - SUBMISSION_WINDOW)) < 0)
		return -1;
	return db_exec(st, error_r, "INSERT INTO submissions VALUES (?, ?, ?)", "iii",
		       d->submitter_id, (int64_t)arrival, (int64_t)d->submitter_rcpts) < 0 ? -1 : 0;
}

int store_submitted_since(struct store *st, int64_t account_id, time_t since, int64_t *messages_r,
			  int64_t *recipients_r, char **error_r)
{
	sqlite3_stmt *stmt = db_stmt(st, error_r,
				     "SELECT count(*), coalesce(sum(recipients), 0) FROM submissions "
				     "WHERE account_id = ? AND at > ?",
				     "ii", account_id, (int64_t)since);
	int r = stmt != NULL ? db_step(st, stmt, error_r) : -1;
	if (r < 0)
		return -1;
	*messages_r = sqlite3_column_int64(stmt, 0);
	*recipients_r = sqlite3_column_int64(stmt, 1);
	sqlite3_reset(stmt);
	return 0;
}

/* Inserts every row of one delivery whose message file is at path. */
static int deliver_rows(struct store *st, struct delivery *d, const char *path, char **error_r)
{
	time_t arrival = d->arrival != 0 ? d->arrival : time(NULL);
	if (db_exec(st, error_r, "INSERT INTO bodies (path, size, indexed) VALUES (?, ?, ?)", "sii",
		    path, (int64_t)d->body_size, (int64_t)(d->local_count == 0)) < 0)
		return -1;
	int64_t body_id = sqlite3_last_insert_rowid(st->db);
	for (size_t i = 0; i < d->local_count; i++)
		if (deliver_local(st, d, &d->local[i], body_id, arrival, error_r) < 0)
			return -1;
	if (d->submitter_id != 0 && record_submission(st, d, arrival, error_r) < 0)
		return -1;
	/* what DMARC found goes with the message it found it of, or not at all */
	if (d->dmarc != NULL && store_dmarc_observe(st, d->dmarc, error_r) < 0)
		return -1;

	if (d->remote_count == 0)
		return 0;
	if (db_exec(st, error_r,
		    "INSERT INTO queue (body_id, sender, envid, ret, arrival, queue_id, held, "
		    "local_origin, arc_results) VALUES (?1, ?2, ?3, ?4, ?5, ?6, EXISTS (SELECT 1 FROM "
		    "held_senders WHERE sender = ?2), ?7, ?8)",
		    "issiisis", body_id, d->sender, d->envid, (int64_t)d->ret, (int64_t)arrival,
		    d->queue_id != NULL ? d->queue_id : "", (int64_t)d->local_origin, d->arc_results) < 0)
		return -1;
	int64_t queue_row = sqlite3_last_insert_rowid(st->db);
	for (size_t i = 0; i < d->remote_count; i++)
		if (db_exec(st, error_r,
			    "INSERT INTO queue_recipients (queue_row, recipient, orcpt, notify, "
			    "next_attempt) VALUES (?, ?, ?, ?, ?)",
			    "issii", queue_row, d->remote[i].recipient, d->remote[i].orcpt,
			    (int64_t)d->remote[i].notify, (int64_t)arrival) < 0)
			return -1;
	return 0;
}

/* Fails every delivery that still has a message file (paths[i] set): removes the file. */
static void fail_placed(struct store *st, struct delivery **batch, char **paths, size_t count,
			const char *error, bool full)
{
	for (size_t i = 0; i < count; i++) {
		if (paths[i] == NULL)
			continue;
		msgfile_remove(st->data_dir, paths[i]);
		xfree(&paths[i]);
		delivery_fail(batch[i], xstrdup(error), full);
	}
}

/* Step 3: the rows of every placed delivery, each in a savepoint. Returns -1 (with *error_r)
 * only when the whole transaction is lost. */
static int insert_batch(struct store *st, struct delivery **batch, char **paths, size_t count,
			char **error_r)
{
	for (size_t i = 0; i < count; i++) {
		if (paths[i] == NULL)
			continue;
		char *error = NULL;
		if (db_exec(st, error_r, "SAVEPOINT delivery", "") < 0)
			return -1;
		st->full = false; /* so it tells about this delivery alone */
		if (deliver_rows(st, batch[i], paths[i], &error) == 0) {
			if (db_exec(st, error_r, "RELEASE delivery", "") < 0)
				return -1;
			continue;
		}
		/* After some errors (SQLITE_FULL among them) SQLite has already rolled the whole
		 * transaction back: then every delivery of the batch is lost, not just this one. */
		if (sqlite3_get_autocommit(st->db)) {
			*error_r = error;
			return -1;
		}
		if (db_exec(st, error_r, "ROLLBACK TO delivery", "") < 0 ||
		    db_exec(st, error_r, "RELEASE delivery", "") < 0) {
			free(error);
			return -1;
		}
		msgfile_remove(st->data_dir, paths[i]);
		xfree(&paths[i]);
		delivery_fail(batch[i], error, st->full);
	}
	return 0;
}

int store_deliver(struct store *st, struct delivery **batch, size_t count)
{
	char **paths = xcalloc(count, sizeof(*paths));
	char *error = NULL;
	bool full = false;
	size_t placed = 0;
	st->full = false;
	char *subdir = msgfile_batch_dir(st->data_dir, &full, &error);
	for (size_t i = 0; i < count; i++) {
		struct delivery *d = batch[i];
		d->status = 0;
		d->full = false;
		xfree(&d->error);
		if (d->local_count + d->remote_count == 0) {
			unlink(d->spool_path); /* nobody to deliver to: nothing to keep */
		} else if (subdir == NULL) {
			unlink(d->spool_path);
			delivery_fail(d, xstrdup(error), full);
		} else if (msgfile_commit(st->data_dir, subdir, d->spool_path, d->body_size, &paths[i],
					  &d->full, &d->error) < 0) {
			d->status = -1;
		} else {
			placed++;
		}
	}
	if (placed > 0 && (msgfile_sync_dir(st->data_dir, subdir, &full, &error) < 0 ||
			   db_begin(st, &error) < 0)) {
		full = full || st->full;
		fail_placed(st, batch, paths, count, error, full);
	} else if (placed > 0) {
		int r = insert_batch(st, batch, paths, count, &error);
		if (r < 0)
			db_rollback(st);
		if (r < 0 || db_commit(st, &error) < 0)
			fail_placed(st, batch, paths, count, error, st->full);
	}
	int status = 0;
	st->full = false;
	for (size_t i = 0; i < count; i++) {
		free(batch[i]->body_path_r);
		batch[i]->body_path_r = paths[i];
		if (batch[i]->status < 0) {
			status = -1;
			st->full = st->full || batch[i]->full;
		}
	}
	free(paths);
	free(subdir);
	free(error);
	return status;
}

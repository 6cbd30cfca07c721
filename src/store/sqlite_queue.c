/* The outbound queue in the SQLite backend (see store.h, "outbound queue"): the runner's
 * reads of due recipients, the per-recipient outcome written right after each remote reply,
 * and the administrator's list, flush and delete. A message leaves the queue when none of its
 * recipients is pending; its file goes when no folder entry refers to it either. */
#include "store/msgfile.h"
#include "store/sqlite_internal.h"
#include "core/xalloc.h"
#include <stdlib.h>
#include <string.h>

static const char *const status_names[] = { "pending", "sent", "bounced" };

static enum queue_rcpt_status status_parse(const char *s)
{
	for (int i = 0; i < 3; i++)
		if (strcmp(s, status_names[i]) == 0)
			return (enum queue_rcpt_status)i;
	return QUEUE_PENDING;
}

void queue_msg_free(struct queue_msg **mp)
{
	struct queue_msg *m = *mp;
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->rcpt_count; i++) {
		free(m->rcpts[i].recipient);
		free(m->rcpts[i].orcpt);
		free(m->rcpts[i].last_error);
	}
	free(m->rcpts);
	free(m->queue_id);
	free(m->arc_results);
	free(m->sender);
	free(m->envid);
	free(m->body_path);
	free(m);
	*mp = NULL;
}

void queue_msgs_free(struct queue_msg **msgs, size_t count)
{
	for (size_t i = 0; i < count; i++)
		queue_msg_free(&msgs[i]);
	free(msgs);
}

/* Columns: 0 q.id, 1 queue_id, 2 sender, 3 envid, 4 ret, 5 arrival, 6 path, 7 size, 8 r.id,
 * 9 recipient, 10 orcpt, 11 notify, 12 status, 13 attempts, 14 next_attempt, 15 last_error,
 * 16 warned, 17 held, 18 local_origin, 19 arc_results;
 * rows ordered by message. Groups the recipient rows into messages. */
static int collect(struct store *st, sqlite3_stmt *stmt, size_t limit, const int64_t *skip,
		   size_t skip_count, struct queue_msg ***out, size_t *count, char **error_r)
{
	struct queue_msg **msgs = NULL;
	size_t n = 0, cap = 0;
	int r;
	while ((r = db_step(st, stmt, error_r)) == 1) {
		int64_t row = sqlite3_column_int64(stmt, 0);
		bool skipped = false;
		for (size_t i = 0; i < skip_count && !skipped; i++)
			skipped = skip[i] == row;
		if (skipped)
			continue;
		struct queue_msg *m = n > 0 && msgs[n - 1]->row == row ? msgs[n - 1] : NULL;
		if (m == NULL) {
			if (n == limit)
				break;
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				msgs = xrealloc(msgs, cap * sizeof(*msgs));
			}
			m = xcalloc(1, sizeof(*m));
			m->row = row;
			m->queue_id = db_column_dup(stmt, 1);
			m->sender = db_column_dup(stmt, 2);
			m->envid = db_column_dup(stmt, 3);
			m->ret = sqlite3_column_int(stmt, 4);
			m->arrival = (time_t)sqlite3_column_int64(stmt, 5);
			m->body_path = db_column_dup(stmt, 6);
			m->size = (uint64_t)sqlite3_column_int64(stmt, 7);
			m->held = sqlite3_column_int(stmt, 17) != 0;
			m->local_origin = sqlite3_column_int(stmt, 18) != 0;
			m->arc_results = db_column_dup(stmt, 19);
			msgs[n++] = m;
		}
		m->rcpts = xrealloc(m->rcpts, (m->rcpt_count + 1) * sizeof(*m->rcpts));
		struct queue_rcpt *q = &m->rcpts[m->rcpt_count++];
		q->id = sqlite3_column_int64(stmt, 8);
		q->recipient = db_column_dup(stmt, 9);
		q->orcpt = db_column_dup(stmt, 10);
		q->notify = (unsigned)sqlite3_column_int(stmt, 11);
		q->status = status_parse((const char *)sqlite3_column_text(stmt, 12));
		q->attempts = sqlite3_column_int(stmt, 13);
		q->next_attempt = (time_t)sqlite3_column_int64(stmt, 14);
		q->last_error = db_column_dup(stmt, 15);
		q->warned = sqlite3_column_int(stmt, 16) != 0;
	}
	sqlite3_reset(stmt);
	if (r < 0) {
		queue_msgs_free(msgs, n);
		return -1;
	}
	*out = msgs;
	*count = n;
	return 0;
}

#define QUEUE_COLUMNS                                                                         \
	"SELECT q.id, q.queue_id, q.sender, q.envid, q.ret, q.arrival, b.path, b.size, r.id, "   \
	"r.recipient, r.orcpt, r.notify, r.status, r.attempts, r.next_attempt, r.last_error, "   \
	"r.warned, q.held, q.local_origin, q.arc_results "                                       \
	"FROM queue q JOIN bodies b ON b.id = q.body_id JOIN queue_recipients r ON r.queue_row = q.id "

int store_queue_due(struct store *st, time_t now, size_t limit, const int64_t *skip,
		    size_t skip_count, struct queue_msg ***out, size_t *count, char **error_r)
{
	/* The index on (status, next_attempt) finds the due recipients; the oldest messages
	 * go first; held messages wait. */
	sqlite3_stmt *stmt = db_stmt(st, error_r,
				     QUEUE_COLUMNS "WHERE r.status = 'pending' AND r.next_attempt <= ? "
						   "AND q.held = 0 ORDER BY q.id, r.id",
				     "i", (int64_t)now);
	return stmt != NULL ? collect(st, stmt, limit, skip, skip_count, out, count, error_r) : -1;
}

int store_queue_list(struct store *st, const char *queue_id_or_null, struct queue_msg ***out,
		     size_t *count, char **error_r)
{
	sqlite3_stmt *stmt = db_stmt(st, error_r,
				     QUEUE_COLUMNS "WHERE ?1 IS NULL OR q.queue_id = ?1 ORDER BY q.id, r.id",
				     "s", queue_id_or_null);
	return stmt != NULL ? collect(st, stmt, SIZE_MAX, NULL, 0, out, count, error_r) : -1;
}

int store_queue_read_body(struct store *st, const struct queue_msg *m, buf *out, char **error_r)
{
	return msgfile_read(st->data_dir, m->body_path, out, error_r);
}

/* Removes the queue row when no recipient of it is pending, then its message file when no
 * folder entry refers to it; the file's path is appended to unlink_after. Inside the caller's
 * transaction. */
static int queue_row_retire(struct store *st, int64_t queue_row, bool force, strlist *unlink_after,
			    char **error_r)
{
	int64_t body_id;
	int r = db_int(st, error_r, &body_id,
		       "SELECT body_id FROM queue WHERE id = ?1 AND (?2 OR NOT EXISTS "
		       "(SELECT 1 FROM queue_recipients WHERE queue_row = ?1 AND status = 'pending'))",
		       "ii", queue_row, (int64_t)force);
	if (r <= 0)
		return r;
	if (db_exec(st, error_r, "DELETE FROM queue WHERE id = ?", "i", queue_row) < 0 ||
	    db_exec(st, error_r, "DELETE FROM body_candidates", "") < 0 ||
	    db_exec(st, error_r, "INSERT INTO body_candidates VALUES (?)", "i", body_id) < 0 ||
	    sqlite_bodies_prune(st, unlink_after, error_r) < 0)
		return -1;
	return 1;
}

static void unlink_all(struct store *st, strlist *paths)
{
	for (size_t i = 0; i < paths->count; i++)
		msgfile_remove(st->data_dir, paths->items[i]);
	strlist_free(paths);
}

int store_queue_update(struct store *st, int64_t rcpt_id, enum queue_rcpt_status status,
		       time_t next_attempt, const char *error, char **error_r)
{
	strlist unlink_after;
	strlist_init(&unlink_after);
	if (db_begin(st, error_r) < 0)
		return -1;
	int64_t queue_row = 0;
	int r = db_int(st, error_r, &queue_row, "SELECT queue_row FROM queue_recipients WHERE id = ?",
		       "i", rcpt_id);
	if (r > 0)
		r = db_exec(st, error_r,
			    "UPDATE queue_recipients SET status = ?, next_attempt = ?, "
			    "attempts = attempts + 1, last_error = coalesce(?, last_error) WHERE id = ?",
			    "sisi", status_names[status], (int64_t)next_attempt, error, rcpt_id);
	if (r > 0)
		r = queue_row_retire(st, queue_row, false, &unlink_after, error_r);
	r = db_finish(st, r < 0 ? -1 : 0, error_r);
	if (r == 0)
		unlink_all(st, &unlink_after);
	strlist_free(&unlink_after);
	return r;
}

int store_queue_set_warned(struct store *st, int64_t rcpt_id, char **error_r)
{
	return db_exec(st, error_r, "UPDATE queue_recipients SET warned = 1 WHERE id = ?", "i",
		       rcpt_id) < 0 ? -1 : 0;
}

int store_queue_flush(struct store *st, const char *queue_id, const char *domain,
		      bool subdomains, char **error_r)
{
	/* A recipient's domain is what follows its last '@' (stored lower-cased). */
	return db_exec(st, error_r,
		       "UPDATE queue_recipients SET next_attempt = 0 WHERE status = 'pending' "
		       "AND (?1 IS NULL OR queue_row IN (SELECT id FROM queue WHERE queue_id = ?1)) "
		       "AND (?2 IS NULL OR (SELECT d = lower(?2) OR (?3 AND d LIKE '%.' || lower(?2)) "
		       "FROM (SELECT lower(substr(recipient, length(rtrim(recipient, "
		       "replace(recipient, '@', ''))) + 1)) AS d)))",
		       "ssi", queue_id, domain, (int64_t)subdomains);
}

int store_queue_delete(struct store *st, const char *queue_id, char **error_r)
{
	strlist unlink_after;
	strlist_init(&unlink_after);
	if (db_begin(st, error_r) < 0)
		return -1;
	int64_t queue_row = 0;
	int r = db_int(st, error_r, &queue_row, "SELECT id FROM queue WHERE queue_id = ?", "s",
		       queue_id);
	if (r > 0)
		r = queue_row_retire(st, queue_row, true, &unlink_after, error_r);
	int found = r;
	r = db_finish(st, r < 0 ? -1 : 0, error_r);
	if (r == 0)
		unlink_all(st, &unlink_after);
	strlist_free(&unlink_after);
	return r < 0 ? -1 : found;
}

int store_queue_hold(struct store *st, const char *queue_id, const char *sender, bool held,
		     char **error_r)
{
	if (queue_id != NULL)
		return db_exec(st, error_r, "UPDATE queue SET held = ? WHERE queue_id = ?", "is",
			       (int64_t)held, queue_id);
	if (db_begin(st, error_r) < 0)
		return -1;
	int r = held ? db_exec(st, error_r,
			       "INSERT INTO held_senders VALUES (?, ?) ON CONFLICT DO NOTHING", "si",
			       sender, (int64_t)time(NULL))
		     : db_exec(st, error_r, "DELETE FROM held_senders WHERE sender = ?", "s", sender);
	if (r >= 0)
		r = db_exec(st, error_r,
			    "UPDATE queue SET held = ? WHERE sender = ? COLLATE NOCASE AND held != ?",
			    "isi", (int64_t)held, sender, (int64_t)held);
	return db_finish(st, r, error_r);
}

int store_queue_held_senders(struct store *st, strlist *out, char **error_r)
{
	return db_strings(st, out, error_r, "SELECT sender FROM held_senders ORDER BY sender", "") < 0
		       ? -1 : 0;
}

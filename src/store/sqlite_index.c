/* The full-text index in the SQLite backend: what the indexer thread has to do and what it
 * found, and the searches that use it. The index is an FTS5 table with trigrams in its own
 * file (sqlite_index_db.c); bodies.indexed says which message files are in it, and whether
 * wholly (1) or up to the bound below (2). */
#include "store/index_bound.h"
#include "store/msgfile.h"
#include "store/sqlite_internal.h"
#include "core/xalloc.h"
#include <stdlib.h>
#include <string.h>

/* What of one message's text the index holds at most: a megabyte of text covers all but
 * the rarest mail, and 45 MB of random words (the case that made the index grow by 666 MB
 * and its transaction hold the database for seconds) costs it a few megabytes. */
#define INDEX_MAX_TEXT (1024 * 1024)
#define INDEX_MAX_TRIGRAMS 100000

static void uid_push(uint32_t **uids, size_t *count, size_t *cap, uint32_t uid)
{
	if (*count == *cap)
		*uids = xrealloc(*uids, (*cap = *cap ? 2 * *cap : 64) * sizeof(**uids));
	(*uids)[(*count)++] = uid;
}

/* Splits a search's rows (uid, hit, unindexed) into the index's hits and the messages it
 * does not hold whole. 0, or -1 with *error_r. */
static int search_rows(struct store *st, sqlite3_stmt *stmt, uint32_t **uids, size_t *count,
		       uint32_t **unindexed, size_t *unindexed_count, char **error_r)
{
	int r = stmt != NULL ? 1 : -1;
	size_t cap = 0, unindexed_cap = 0;
	while (r == 1 && (r = db_step(st, stmt, error_r)) == 1) {
		uint32_t uid = (uint32_t)sqlite3_column_int64(stmt, 0);
		if (sqlite3_column_int(stmt, 1))
			uid_push(uids, count, &cap, uid);
		if (sqlite3_column_int(stmt, 2))
			uid_push(unindexed, unindexed_count, &unindexed_cap, uid);
	}
	if (r == 0)
		sqlite3_reset(stmt);
	return r;
}

int store_index_pending(struct store *st, size_t limit, struct index_entry **out, size_t *count,
			char **error_r)
{
	*out = NULL;
	*count = 0;
	sqlite3_stmt *stmt = db_stmt(st, error_r,
				     "SELECT id, path FROM bodies WHERE indexed = 0 ORDER BY id LIMIT ?",
				     "i", (int64_t)limit);
	int r = stmt != NULL ? 1 : -1;
	while (r == 1 && (r = db_step(st, stmt, error_r)) == 1) {
		*out = xrealloc(*out, (*count + 1) * sizeof(**out));
		(*out)[(*count)++] = (struct index_entry){
			.body_id = sqlite3_column_int64(stmt, 0),
			.path = xstrdup((const char *)sqlite3_column_text(stmt, 1)),
		};
	}
	if (r == 0) {
		sqlite3_reset(stmt);
		return 0;
	}
	index_entries_free(*out, *count);
	*out = NULL;
	*count = 0;
	return -1;
}

int store_body_read(struct store *st, const char *path, buf *out, char **error_r)
{
	return msgfile_read(st->data_dir, path, out, error_r);
}

/* Cuts the entry's text to the index's bound (header text first); 2 when something was left
 * out, else 1: the value of bodies.indexed. */
static int entry_bound(struct index_entry *e)
{
	struct index_bound b;
	index_bound_init(&b, INDEX_MAX_TEXT, INDEX_MAX_TRIGRAMS);
	char **texts[] = { &e->header, &e->body };
	for (size_t k = 0; k < 2; k++) {
		if (*texts[k] == NULL)
			*texts[k] = xstrdup("");
		(*texts[k])[index_bound_take(&b, *texts[k], strlen(*texts[k]))] = '\0';
	}
	bool cut = b.cut;
	index_bound_free(&b);
	return cut ? 2 : 1;
}

int store_index_add(struct store *st, struct index_entry *entries, size_t count, char **error_r)
{
	if (!st->index_attached) {
		*error_r = xstrdup("the full-text index is not open");
		return -1;
	}
	/* the text in index.db first, under its own write lock... */
	int *state = xcalloc(count, sizeof(*state));
	int r = sqlite_index_begin(st, error_r);
	for (size_t i = 0; i < count && r >= 0; i++) {
		state[i] = entry_bound(&entries[i]);
		r = db_exec(st, error_r,
			    "INSERT OR REPLACE INTO ix.search_text (rowid, header, body) VALUES (?, ?, ?)",
			    "iss", entries[i].body_id, entries[i].header, entries[i].body);
	}
	if (db_finish(st, r < 0 ? -1 : 0, error_r) < 0) {
		free(state);
		return -1;
	}
	/* ...then a short transaction here says so; a file removed meanwhile (its body row
	 * gone) leaves index rows that store_index_prune removes */
	r = db_begin(st, error_r);
	for (size_t i = 0; i < count && r >= 0; i++)
		r = db_exec(st, error_r,
			    "UPDATE main.bodies SET indexed = ?, envelope = ?, body_structure = ?, "
			    "bodystructure = ? WHERE id = ?", "isssi", (int64_t)state[i],
			    entries[i].envelope, entries[i].body_structure, entries[i].bodystructure,
			    entries[i].body_id);
	free(state);
	return db_finish(st, r < 0 ? -1 : 0, error_r);
}

void index_entries_free(struct index_entry *entries, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(entries[i].path);
		free(entries[i].header);
		free(entries[i].body);
		free(entries[i].envelope);
		free(entries[i].body_structure);
		free(entries[i].bodystructure);
	}
	free(entries);
}

int store_search_text(struct store *st, int64_t folder_id, const char *needle,
		      enum store_text_part part, uint32_t **uids, size_t *count,
		      uint32_t **unindexed, size_t *unindexed_count, char **error_r)
{
	*uids = NULL;
	*count = 0;
	*unindexed = NULL;
	*unindexed_count = 0;
	/* trigrams: a needle of fewer than three characters has none to look up */
	size_t chars = 0;
	for (const unsigned char *p = (const unsigned char *)needle; *p != '\0'; p++)
		chars += (*p & 0xc0) != 0x80;
	if (chars < 3)
		return 1;
	/* the index is attached when first needed: it does not exist before the indexer's
	 * first start, and then search reads the messages */
	char *attach_error = NULL;
	if (sqlite_index_attach(st, false, &attach_error) < 0) {
		free(attach_error);
		return 1;
	}
	/* an FTS5 string: double quotes doubled; a column filter for a part */
	buf q;
	buf_init(&q);
	buf_puts(&q, part == STORE_TEXT_BODY ? "body : \"" : part == STORE_TEXT_HEADER ? "header : \"" : "\"");
	for (const char *p = needle; *p != '\0'; p++) {
		if (*p == '"')
			buf_putc(&q, '"');
		buf_putc(&q, *p);
	}
	buf_putc(&q, '"');
	/* One statement, so one snapshot: the hits and what is unindexed are seen at the same
	 * moment, never a message indexed between two reads (neither hit nor read). The index
	 * is read once, not a MATCH per message of the folder; rows of an unindexed file may
	 * be a removed file's (its id reused): not trusted. */
	sqlite3_stmt *stmt = db_stmt(st, error_r,
				     "SELECT uid, hit, indexed != 1 FROM (SELECT m.uid AS uid, b.indexed AS indexed, "
				     "b.indexed != 0 AND m.body_id IN (SELECT rowid FROM ix.search_text "
				     "WHERE search_text MATCH ?) AS hit FROM folder_messages m "
				     "JOIN bodies b ON b.id = m.body_id WHERE m.folder_id = ?) "
				     "WHERE hit OR indexed != 1 ORDER BY uid",
				     "si", q.data, folder_id);
	int r = search_rows(st, stmt, uids, count, unindexed, unindexed_count, error_r);
	buf_free(&q);
	if (r < 0) {
		xfree(uids);
		xfree(unindexed);
		*count = 0;
		*unindexed_count = 0;
	}
	return r;
}

int store_message_structures(struct store *st, int64_t folder_id, const uint32_t *uids,
			     size_t count, struct message_structure *out, char **error_r)
{
	for (size_t i = 0; i < count; i++) {
		out[i].kept = false;
		buf_init(&out[i].envelope);
		buf_init(&out[i].body);
		buf_init(&out[i].bodystructure);
	}
	if (count == 0)
		return 0;
	/* the UIDs' range in one query, merged with the ascending UIDs asked for */
	sqlite3_stmt *stmt = db_stmt(st, error_r,
				     "SELECT m.uid, b.envelope, b.body_structure, b.bodystructure "
				     "FROM folder_messages m JOIN bodies b ON b.id = m.body_id "
				     "WHERE m.folder_id = ? AND m.uid BETWEEN ? AND ? ORDER BY m.uid",
				     "iii", folder_id, (int64_t)uids[0], (int64_t)uids[count - 1]);
	size_t i = 0;
	int r = stmt != NULL ? 1 : -1;
	while (r == 1 && (r = db_step(st, stmt, error_r)) == 1) {
		uint32_t uid = (uint32_t)sqlite3_column_int64(stmt, 0);
		while (i < count && uids[i] < uid)
			i++;
		if (i == count || uids[i] != uid || sqlite3_column_type(stmt, 3) == SQLITE_NULL)
			continue;
		buf *strings[] = { &out[i].envelope, &out[i].body, &out[i].bodystructure };
		for (int k = 0; k < 3; k++)
			buf_append(strings[k], sqlite3_column_text(stmt, k + 1),
				   (size_t)sqlite3_column_bytes(stmt, k + 1));
		out[i].kept = true;
	}
	if (r == 0)
		sqlite3_reset(stmt);
	return r;
}

void message_structures_free(struct message_structure *ms, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		buf_free(&ms[i].envelope);
		buf_free(&ms[i].body);
		buf_free(&ms[i].bodystructure);
	}
}

/* The SQLite backend's connection: opening the database with the settings durability needs,
 * and the small statement helpers (a cache of prepared statements, typed binding, errors) the
 * other sqlite_*.c files are written with. */
#include "store/sqlite_internal.h"
#include "core/buf.h"
#include "core/fsutil.h"
#include "core/xalloc.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The server's event loop, its commit thread and the admin command line all open the database
 * at once; a writer waits this long for another's transaction before giving up. */
#define BUSY_TIMEOUT_MS 10000

/* Fills *error_r with "what: SQLite's message", notes SQLITE_FULL in st->full; returns -1. */
static int db_error(struct store *st, char **error_r, const char *what)
{
	st->full = (sqlite3_errcode(st->db) & 0xff) == SQLITE_FULL;
	*error_r = xasprintf("%s: %s", what,
			     st->full ? "the disk or database is full" : sqlite3_errmsg(st->db));
	return -1;
}

static sqlite3_stmt *stmt_cached(struct store *st, const char *sql, char **error_r)
{
	for (size_t i = 0; i < st->stmt_count; i++)
		if (st->stmts[i].sql == sql)
			return st->stmts[i].stmt;
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK) {
		db_error(st, error_r, "cannot prepare a database statement");
		return NULL;
	}
	/* The number of statements is bounded by the literals in the source, so the cache is
	 * never evicted. */
	st->stmts = xrealloc(st->stmts, (st->stmt_count + 1) * sizeof(*st->stmts));
	st->stmts[st->stmt_count++] = (struct cached_stmt){ sql, stmt };
	return stmt;
}

static sqlite3_stmt *db_vstmt(struct store *st, char **error_r, const char *sql, const char *types,
			      va_list ap)
{
	sqlite3_stmt *stmt = stmt_cached(st, sql, error_r);
	if (stmt == NULL)
		return NULL;
	int rc = SQLITE_OK;
	for (int i = 1; types[i - 1] != '\0' && rc == SQLITE_OK; i++) {
		switch (types[i - 1]) {
		case 's':
			rc = sqlite3_bind_text(stmt, i, va_arg(ap, const char *), -1, SQLITE_STATIC);
			break;
		case 'i':
			rc = sqlite3_bind_int64(stmt, i, va_arg(ap, int64_t));
			break;
		case 'b': {
			const void *p = va_arg(ap, const void *);
			size_t n = va_arg(ap, size_t);
			rc = sqlite3_bind_blob64(stmt, i, p != NULL ? p : "", n, SQLITE_STATIC);
			break;
		}
		default:
			abort(); /* a wrong type letter is a programming error */
		}
	}
	if (rc != SQLITE_OK) {
		db_error(st, error_r, "cannot bind a database value");
		sqlite3_clear_bindings(stmt);
		return NULL;
	}
	return stmt;
}

sqlite3_stmt *db_stmt(struct store *st, char **error_r, const char *sql, const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	sqlite3_stmt *stmt = db_vstmt(st, error_r, sql, types, ap);
	va_end(ap);
	return stmt;
}

int db_step(struct store *st, sqlite3_stmt *stmt, char **error_r)
{
	switch (sqlite3_step(stmt)) {
	case SQLITE_ROW:
		return 1;
	case SQLITE_DONE:
		return 0;
	default:
		db_error(st, error_r, "database error");
		sqlite3_reset(stmt);
		return -1;
	}
}

char *db_column_dup(sqlite3_stmt *stmt, int col)
{
	const unsigned char *s = sqlite3_column_text(stmt, col);
	return s != NULL ? xstrdup((const char *)s) : NULL;
}

int db_exec(struct store *st, char **error_r, const char *sql, const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	sqlite3_stmt *stmt = db_vstmt(st, error_r, sql, types, ap);
	va_end(ap);
	if (stmt == NULL)
		return -1;
	/* A statement with RETURNING or a PRAGMA may yield rows; run it to the end. */
	int r;
	while ((r = db_step(st, stmt, error_r)) == 1)
		;
	if (r < 0)
		return -1;
	sqlite3_reset(stmt);
	return sqlite3_changes(st->db);
}

int db_int(struct store *st, char **error_r, int64_t *value_r, const char *sql, const char *types,
	   ...)
{
	va_list ap;
	va_start(ap, types);
	sqlite3_stmt *stmt = db_vstmt(st, error_r, sql, types, ap);
	va_end(ap);
	if (stmt == NULL)
		return -1;
	int r = db_step(st, stmt, error_r);
	if (r == 1)
		*value_r = sqlite3_column_int64(stmt, 0);
	if (r >= 0)
		sqlite3_reset(stmt);
	return r;
}

int db_strings(struct store *st, strlist *out, char **error_r, const char *sql, const char *types,
	       ...)
{
	va_list ap;
	va_start(ap, types);
	sqlite3_stmt *stmt = db_vstmt(st, error_r, sql, types, ap);
	va_end(ap);
	if (stmt == NULL)
		return -1;
	int r, rows = 0;
	while ((r = db_step(st, stmt, error_r)) == 1) {
		const unsigned char *s = sqlite3_column_text(stmt, 0);
		strlist_add(out, s != NULL ? (const char *)s : "");
		rows++;
	}
	if (r < 0)
		return -1;
	sqlite3_reset(stmt);
	return rows;
}

int db_script(struct store *st, const char *sql, const char *what, char **error_r)
{
	char *msg = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	*error_r = xasprintf("%s: %s", what, msg != NULL ? msg : sqlite3_errmsg(st->db));
	sqlite3_free(msg);
	return -1;
}

int db_begin(struct store *st, char **error_r)
{
	return db_exec(st, error_r, "BEGIN IMMEDIATE", "") < 0 ? -1 : 0;
}

int db_commit(struct store *st, char **error_r)
{
	if (db_exec(st, error_r, "COMMIT", "") < 0) {
		db_rollback(st);
		return -1;
	}
	return 0;
}

void db_rollback(struct store *st)
{
	/* Fails harmlessly when SQLite already rolled back (after SQLITE_FULL, for one). */
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

int db_finish(struct store *st, int r, char **error_r)
{
	if (r < 0) {
		db_rollback(st);
		return r;
	}
	return db_commit(st, error_r) < 0 ? -1 : r;
}

char *sqlite_file_uri(const char *path, const char *query)
{
	buf u;
	buf_init(&u);
	buf_puts(&u, "file:");
	for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("/-._~", *p) != NULL)
			buf_putc(&u, (char)*p);
		else
			buf_printf(&u, "%%%02X", *p);
	}
	buf_printf(&u, "?%s", query);
	return buf_steal(&u);
}

static int open_database(struct store *st, const char *path, char **error_r)
{
	/* URI names let index.db be attached read-only (sqlite_index_db.c) */
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
	if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
		*error_r = xasprintf("cannot open database %s: %s", path,
				     st->db != NULL ? sqlite3_errmsg(st->db) : "out of memory");
		return -1;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	/* WAL lets readers go on while the commit thread writes; synchronous=FULL makes every
	 * COMMIT durable before it returns, which is what a 250 after DATA promises. */
	char *pragmas = xasprintf("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
				  "PRAGMA foreign_keys=ON; PRAGMA journal_size_limit=%d;", WAL_SIZE_LIMIT);
	char *what = xasprintf("cannot set up database %s", path);
	int r = db_script(st, pragmas, what, error_r);
	free(pragmas);
	free(what);
	if (r < 0)
		return -1;
	return sqlite_schema_apply(st, error_r);
}

struct store *store_open(const char *data_dir, char **error_r)
{
	static const char *const folders[] = { "messages", "tmp" };
	if (fs_mkdir_p(data_dir, 0700, error_r) < 0)
		return NULL;
	for (size_t i = 0; i < sizeof(folders) / sizeof(folders[0]); i++) {
		char *path = xasprintf("%s/%s", data_dir, folders[i]);
		int r = fs_mkdir_p(path, 0700, error_r);
		free(path);
		if (r < 0)
			return NULL;
	}
	struct store *st = xcalloc(1, sizeof(*st));
	st->data_dir = xstrdup(data_dir);
	char *path = xasprintf("%s/estafeta.db", data_dir);
	int r = open_database(st, path, error_r);
	free(path);
	if (r < 0)
		store_close(&st);
	return st;
}

void store_close(struct store **stp)
{
	struct store *st = *stp;
	if (st == NULL)
		return;
	for (size_t i = 0; i < st->stmt_count; i++)
		sqlite3_finalize(st->stmts[i].stmt);
	free(st->stmts);
	sqlite3_close(st->db);
	free(st->data_dir);
	free(st);
	*stp = NULL;
}

bool store_is_full(const struct store *st)
{
	return st->full;
}

const char *store_data_dir(const struct store *st)
{
	return st->data_dir;
}

int store_relax_sync(struct store *st, char **error_r)
{
	return db_exec(st, error_r, "PRAGMA synchronous=NORMAL", "") < 0 ? -1 : 0;
}

int store_cache_size(struct store *st, int kib, char **error_r)
{
	int r = 0;
	for (int k = 0; k < (st->index_attached ? 2 : 1) && r >= 0; k++) {
		char *sql = xasprintf("PRAGMA %s.cache_size=%d", k == 0 ? "main" : "ix", -kib);
		r = db_script(st, sql, "cannot set the page cache", error_r);
		free(sql);
	}
	return r < 0 ? -1 : 0;
}

int store_checkpoint(struct store *st)
{
	/* Never wait here: a checkpoint that waited for the write lock would hold up the commit
	 * thread behind it. What is busy now is done at the next call. */
	sqlite3_busy_timeout(st->db, 0);
	int rc = SQLITE_OK;
	const char *schemas[] = { "main", st->index_attached ? "ix" : NULL };
	for (size_t i = 0; i < 2 && schemas[i] != NULL; i++) {
		/* copy the log into the file without the write lock first, so the truncating
		 * checkpoint, which takes it, has little left to copy */
		sqlite3_wal_checkpoint_v2(st->db, schemas[i], SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		int r = sqlite3_wal_checkpoint_v2(st->db, schemas[i], SQLITE_CHECKPOINT_TRUNCATE,
						  NULL, NULL);
		rc = rc != SQLITE_OK ? rc : r;
	}
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	return rc == SQLITE_OK ? 0 : -1;
}

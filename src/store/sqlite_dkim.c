/* DKIM keys in the SQLite backend (schema version 7): one row per domain and selector. */
#include "store/sqlite_internal.h"
#include "core/xalloc.h"
#include <stdlib.h>
#include <string.h>

int store_dkim_add(struct store *st, const char *domain, const char *selector,
		   const char *algorithm, const char *private_pem, time_t created, char **error_r)
{
	int r = db_exec(st, error_r,
			"INSERT INTO dkim_keys (domain_id, selector, algorithm, private_key, created) "
			"SELECT id, ?, ?, ?, ? FROM domains WHERE name = ?",
			"sssis", selector, algorithm, private_pem, (int64_t)created, domain);
	if (r < 0 && strstr(*error_r, "UNIQUE") != NULL) {
		free(*error_r);
		*error_r = xasprintf("%s already has a key with selector %s", domain, selector);
	}
	return r < 0 ? -1 : r > 0;
}

int store_dkim_list(struct store *st, const char *domain_or_null, bool active_only,
		    struct dkim_key_row **out, size_t *count, char **error_r)
{
	*out = NULL;
	*count = 0;
	sqlite3_stmt *stmt = db_stmt(st, error_r,
				     "SELECT d.name, k.selector, k.algorithm, k.private_key, k.created, "
				     "coalesce(k.retired, 0) FROM dkim_keys k "
				     "JOIN domains d ON d.id = k.domain_id "
				     "WHERE (?1 IS NULL OR d.name = ?1) AND (?2 = 0 OR k.retired IS NULL) "
				     "ORDER BY d.name, k.created, k.id",
				     "si", domain_or_null, (int64_t)active_only);
	if (stmt == NULL)
		return -1;
	int r;
	while ((r = db_step(st, stmt, error_r)) == 1) {
		*out = xrealloc(*out, (*count + 1) * sizeof(**out));
		(*out)[(*count)++] = (struct dkim_key_row){
			.domain = db_column_dup(stmt, 0),
			.selector = db_column_dup(stmt, 1),
			.algorithm = db_column_dup(stmt, 2),
			.private_pem = db_column_dup(stmt, 3),
			.created = (time_t)sqlite3_column_int64(stmt, 4),
			.retired = (time_t)sqlite3_column_int64(stmt, 5),
		};
	}
	sqlite3_reset(stmt);
	if (r < 0) {
		dkim_key_rows_free(*out, *count);
		*out = NULL;
		*count = 0;
	}
	return r < 0 ? -1 : 0;
}

int store_dkim_retire(struct store *st, const char *domain, const char *selector, time_t when,
		      char **error_r)
{
	int r = db_exec(st, error_r,
			"UPDATE dkim_keys SET retired = ? WHERE retired IS NULL AND selector = ? AND "
			"domain_id = (SELECT id FROM domains WHERE name = ?)",
			"iss", (int64_t)when, selector, domain);
	return r < 0 ? -1 : r > 0;
}

void dkim_key_rows_free(struct dkim_key_row *rows, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(rows[i].domain);
		free(rows[i].selector);
		free(rows[i].algorithm);
		free(rows[i].private_pem);
	}
	free(rows);
}

/* Quotas in the SQLite backend: the limits live on accounts and domains (schema version 6),
 * the usage is summed from the folders when asked, so it can never drift from what is
 * stored (folder_messages is keyed by folder: the sum walks only the account's entries). */
#include "store/sqlite_internal.h"
#include "core/xalloc.h"
#include <string.h>

int store_quota_get(struct store *st, int64_t account_id, bool exclude_trash_junk, struct quota *out,
		    char **error_r)
{
	sqlite3_stmt *stmt = db_stmt(st, error_r,
				     /* an account's own limit (-1: none) before its domain's (NULL: none) */
				     "SELECT coalesce(a.quota_storage, d.quota_storage, -1), "
				     "coalesce(a.quota_messages, d.quota_messages, -1) "
				     "FROM accounts a JOIN domains d ON d.id = a.domain_id WHERE a.id = ?",
				     "i", account_id);
	int r = stmt != NULL ? db_step(st, stmt, error_r) : -1;
	if (r != 1)
		return r;
	out->storage_limit = sqlite3_column_int64(stmt, 0);
	out->message_limit = sqlite3_column_int64(stmt, 1);
	sqlite3_reset(stmt);
	stmt = db_stmt(st, error_r,
		       "SELECT coalesce(sum(m.size), 0), count(m.uid) FROM folders f "
		       "JOIN folder_messages m ON m.folder_id = f.id WHERE f.account_id = ? AND "
		       "(? = 0 OR f.special_use IS NULL OR f.special_use NOT IN ('\\Trash', '\\Junk'))",
		       "ii", account_id, (int64_t)exclude_trash_junk);
	r = stmt != NULL ? db_step(st, stmt, error_r) : -1;
	if (r != 1)
		return -1;
	out->storage_used = (uint64_t)sqlite3_column_int64(stmt, 0);
	out->messages_used = (uint64_t)sqlite3_column_int64(stmt, 1);
	sqlite3_reset(stmt);
	return 1;
}

int store_domain_quota(struct store *st, const char *domain, struct quota *out, char **error_r)
{
	sqlite3_stmt *stmt = db_stmt(st, error_r,
				     "SELECT coalesce(quota_storage, -1), coalesce(quota_messages, -1) "
				     "FROM domains WHERE name = ?", "s", domain);
	int r = stmt != NULL ? db_step(st, stmt, error_r) : -1;
	if (r == 1) {
		*out = (struct quota){ sqlite3_column_int64(stmt, 0), sqlite3_column_int64(stmt, 1), 0, 0 };
		sqlite3_reset(stmt);
	}
	return r;
}

int store_quota_set(struct store *st, const char *address_or_domain, int64_t storage,
		    int64_t messages, char **error_r)
{
	bool account = strchr(address_or_domain, '@') != NULL;
	if (!account && (storage == QUOTA_DEFAULT || messages == QUOTA_DEFAULT)) {
		*error_r = xstrdup("a domain's limit is the default itself");
		return -1;
	}
	/* QUOTA_KEEP leaves the column; QUOTA_DEFAULT is NULL; a domain's QUOTA_NONE is NULL too */
	const char *sql = account ? "UPDATE accounts SET "
				    "quota_storage = CASE ?1 WHEN ?4 THEN quota_storage WHEN ?5 THEN NULL ELSE ?1 END, "
				    "quota_messages = CASE ?2 WHEN ?4 THEN quota_messages WHEN ?5 THEN NULL ELSE ?2 END "
				    "WHERE address = ?3"
				  : "UPDATE domains SET "
				    "quota_storage = CASE ?1 WHEN ?4 THEN quota_storage WHEN ?5 THEN NULL ELSE ?1 END, "
				    "quota_messages = CASE ?2 WHEN ?4 THEN quota_messages WHEN ?5 THEN NULL ELSE ?2 END "
				    "WHERE name = ?3";
	int r = db_exec(st, error_r, sql, "iisii", storage, messages, address_or_domain,
			(int64_t)QUOTA_KEEP, (int64_t)(account ? QUOTA_DEFAULT : QUOTA_NONE));
	return r < 0 ? -1 : r > 0;
}

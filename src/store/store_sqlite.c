/* The SQLite backend's directory: domains, accounts, aliases and distribution lists (store.h).
 * Every change that checks something and then writes runs in one write transaction, so the
 * command line and the server never see an address that is both an account and an alias.
 * Error messages say what is wrong and what to do, in words any front end can show. */
#include "store/msgfile.h"
#include "store/sqlite_internal.h"
#include "core/xalloc.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The domain of a normalised address, or of a catch-all "@domain". The last '@' is the
 * separator: a quoted local part may hold one too. */
static const char *domain_of(const char *address)
{
	const char *at = strrchr(address, '@');
	return at != NULL ? at + 1 : address;
}

/* Checks that address may become kind ("an account", "an alias", "a distribution list"):
 * its domain must be local and it must not be something else already (nor the same kind,
 * unless same_ok). Sets *domain_id_r. Returns 0 or -1 with *error_r. */
static int claim_address(struct store *st, const char *address, const char *kind, bool same_ok,
			 int64_t *domain_id_r, char **error_r)
{
	const char *domain = domain_of(address);
	int r = db_int(st, error_r, domain_id_r, "SELECT id FROM domains WHERE name = ?", "s", domain);
	if (r == 0)
		*error_r = xasprintf("%s is not a local domain; add the domain first", domain);
	if (r <= 0)
		return -1;
	sqlite3_stmt *stmt = db_stmt(st, error_r,
				     "SELECT 'an account' FROM accounts WHERE address = ?1 "
				     "UNION ALL SELECT 'an alias' FROM aliases WHERE address = ?1 "
				     "UNION ALL SELECT 'a distribution list' FROM lists WHERE address = ?1 "
				     "LIMIT 1",
				     "s", address);
	if (stmt == NULL || (r = db_step(st, stmt, error_r)) < 0)
		return -1;
	if (r == 1) {
		const char *existing = (const char *)sqlite3_column_text(stmt, 0);
		if (!same_ok || strcmp(existing, kind) != 0) {
			*error_r = xasprintf("%s is already %s; remove it first", address, existing);
			r = -1;
		} else {
			r = 0;
		}
	}
	sqlite3_reset(stmt);
	return r;
}

/* ---- domains ---- */

int store_domain_add(struct store *st, const char *domain, char **error_r)
{
	int r = db_exec(st, error_r,
			"INSERT INTO domains (name, created) "
			"VALUES (?, CAST(strftime('%s', 'now') AS INTEGER)) ON CONFLICT DO NOTHING",
			"s", domain);
	if (r == 0)
		*error_r = xasprintf("domain %s already exists", domain);
	return r <= 0 ? -1 : 0;
}

/* 1 when nothing lives in the domain any more, 0 (with *error_r) when something does. */
static int domain_unused(struct store *st, const char *domain, int64_t id, char **error_r)
{
	sqlite3_stmt *stmt = db_stmt(st, error_r,
				     "SELECT (SELECT count(*) FROM accounts WHERE domain_id = ?1), "
				     "(SELECT count(DISTINCT address) FROM aliases WHERE domain_id = ?1), "
				     "(SELECT count(*) FROM lists WHERE domain_id = ?1)",
				     "i", id);
	if (stmt == NULL || db_step(st, stmt, error_r) < 0)
		return -1;
	long long accounts = sqlite3_column_int64(stmt, 0), aliases = sqlite3_column_int64(stmt, 1),
		  lists = sqlite3_column_int64(stmt, 2);
	sqlite3_reset(stmt);
	if (accounts + aliases + lists == 0)
		return 1;
	*error_r = xasprintf("domain %s still has %lld account(s), %lld alias(es) and %lld "
			     "distribution list(s); remove them first",
			     domain, accounts, aliases, lists);
	return 0;
}

int store_domain_del(struct store *st, const char *domain, char **error_r)
{
	if (db_begin(st, error_r) < 0)
		return -1;
	int64_t id;
	int r = db_int(st, error_r, &id, "SELECT id FROM domains WHERE name = ?", "s", domain);
	if (r == 0)
		*error_r = xasprintf("no domain %s", domain);
	if (r == 1)
		r = domain_unused(st, domain, id, error_r);
	if (r == 1)
		r = db_exec(st, error_r, "DELETE FROM domains WHERE id = ?", "i", id);
	return db_finish(st, r <= 0 ? -1 : 0, error_r);
}

int store_domain_list(struct store *st, strlist *out, char **error_r)
{
	return db_strings(st, out, error_r, "SELECT name FROM domains ORDER BY name", "") < 0 ? -1 : 0;
}

int store_domain_exists(struct store *st, const char *domain, char **error_r)
{
	int64_t one;
	return db_int(st, error_r, &one, "SELECT 1 FROM domains WHERE name = ?", "s", domain);
}

/* ---- accounts ---- */

int store_user_add(struct store *st, const char *address, const char *password_hash,
		   const char *scram_sha256, char **error_r)
{
	if (db_begin(st, error_r) < 0)
		return -1;
	int64_t domain_id;
	int r = claim_address(st, address, "an account", false, &domain_id, error_r);
	if (r == 0)
		r = db_exec(st, error_r,
			    "INSERT INTO accounts (domain_id, address, password_hash, scram_sha256, created) "
			    "VALUES (?, ?, ?, ?, CAST(strftime('%s', 'now') AS INTEGER))",
			    "isss", domain_id, address, password_hash, scram_sha256);
	if (r >= 0)
		r = sqlite_folders_create_defaults(st, sqlite3_last_insert_rowid(st->db), error_r);
	return db_finish(st, r, error_r);
}

int store_user_del(struct store *st, const char *address, char **error_r)
{
	if (db_begin(st, error_r) < 0)
		return -1;
	strlist files;
	strlist_init(&files);
	int64_t id;
	int r = db_int(st, error_r, &id, "SELECT id FROM accounts WHERE address = ?", "s", address);
	if (r == 0)
		*error_r = xasprintf("no account %s", address);
	if (r == 1 && sqlite_account_purge(st, id, &files, error_r) < 0)
		r = -1;
	if (r == 1)
		r = db_exec(st, error_r, "DELETE FROM accounts WHERE id = ?", "i", id);
	r = db_finish(st, r <= 0 ? -1 : 0, error_r);
	/* Only now that no row refers to them may the files go: a crash before this point
	 * leaves unreferenced files, never a row without its file. */
	for (size_t i = 0; r == 0 && i < files.count; i++)
		msgfile_remove(st->data_dir, files.items[i]);
	strlist_free(&files);
	return r;
}

int store_user_list(struct store *st, const char *domain_or_null, strlist *out, char **error_r)
{
	int r = domain_or_null == NULL
			? db_strings(st, out, error_r, "SELECT address FROM accounts ORDER BY address", "")
			: db_strings(st, out, error_r,
				     "SELECT a.address FROM accounts a JOIN domains d ON d.id = a.domain_id "
				     "WHERE d.name = ? ORDER BY a.address",
				     "s", domain_or_null);
	return r < 0 ? -1 : 0;
}

int store_user_set_password(struct store *st, const char *address, const char *password_hash,
			    const char *scram_sha256, char **error_r)
{
	int r = db_exec(st, error_r,
			"UPDATE accounts SET password_hash = ?, scram_sha256 = ? WHERE address = ?",
			"sss", password_hash, scram_sha256, address);
	if (r == 0)
		*error_r = xasprintf("no account %s", address);
	return r <= 0 ? -1 : 0;
}

int store_user_set_apop(struct store *st, const char *address, const char *secret_or_null,
			char **error_r)
{
	int r = db_exec(st, error_r, "UPDATE accounts SET apop_secret = ? WHERE address = ?", "ss",
			secret_or_null, address);
	if (r == 0)
		*error_r = xasprintf("no account %s", address);
	return r <= 0 ? -1 : 0;
}

int store_user_get(struct store *st, const char *address, struct account *out, char **error_r)
{
	sqlite3_stmt *stmt = db_stmt(st, error_r,
				     "SELECT id, address, password_hash, scram_sha256, apop_secret "
				     "FROM accounts WHERE address = ?",
				     "s", address);
	int r = stmt != NULL ? db_step(st, stmt, error_r) : -1;
	if (r == 1) {
		const unsigned char *apop = sqlite3_column_text(stmt, 4);
		out->id = sqlite3_column_int64(stmt, 0);
		out->address = xstrdup((const char *)sqlite3_column_text(stmt, 1));
		out->password_hash = xstrdup((const char *)sqlite3_column_text(stmt, 2));
		out->scram_sha256 = xstrdup((const char *)sqlite3_column_text(stmt, 3));
		out->apop_secret = apop != NULL ? xstrdup((const char *)apop) : NULL;
	}
	if (r >= 0)
		sqlite3_reset(stmt);
	return r;
}

/* ---- aliases and distribution lists ----
 * Both are an address with a set of addresses behind it (targets, members); one pair of
 * functions adds and removes for both, told apart by the SQL below. Every statement takes
 * the owner's address as ?1. */
struct address_set {
	const char *kind;            /* "an alias": for claim_address */
	const char *name;            /* "alias": for messages */
	const char *item;            /* "target" */
	const char *sql_create;      /* creates the owner row (?1, domain id ?2), or NULL */
	const char *sql_add;         /* adds one item unless it is there (?1, ?2, ?3) */
	const char *sql_exists;      /* a row when the owner exists (?1) */
	const char *sql_delete_all;  /* (?1) */
	const char *sql_delete_item; /* (?1, ?2) */
};

static const struct address_set alias_set = {
	.kind = "an alias",
	.name = "alias",
	.item = "target",
	.sql_create = NULL,
	.sql_add = "INSERT OR IGNORE INTO aliases (address, target, domain_id) VALUES (?1, ?2, ?3)",
	.sql_exists = "SELECT 1 FROM aliases WHERE address = ?1 LIMIT 1",
	.sql_delete_all = "DELETE FROM aliases WHERE address = ?1",
	.sql_delete_item = "DELETE FROM aliases WHERE address = ?1 AND target = ?2",
};

static const struct address_set list_set = {
	.kind = "a distribution list",
	.name = "distribution list",
	.item = "member",
	.sql_create = "INSERT OR IGNORE INTO lists (address, domain_id, created) "
		      "VALUES (?1, ?2, CAST(strftime('%s', 'now') AS INTEGER))",
	.sql_add = "INSERT OR IGNORE INTO list_members (list_id, member) "
		   "SELECT id, ?2 FROM lists WHERE address = ?1 AND domain_id = ?3",
	.sql_exists = "SELECT 1 FROM lists WHERE address = ?1",
	.sql_delete_all = "DELETE FROM lists WHERE address = ?1",
	.sql_delete_item = "DELETE FROM list_members "
			   "WHERE list_id = (SELECT id FROM lists WHERE address = ?1) AND member = ?2",
};

static int set_add(struct store *st, const struct address_set *set, const char *owner,
		   const strlist *items, char **error_r)
{
	if (items->count == 0 && set->sql_create == NULL) {
		*error_r = xasprintf("%s %s needs at least one %s", set->name, owner, set->item);
		return -1;
	}
	if (db_begin(st, error_r) < 0)
		return -1;
	int64_t domain_id;
	int r = claim_address(st, owner, set->kind, true, &domain_id, error_r);
	if (r == 0 && set->sql_create != NULL)
		r = db_exec(st, error_r, set->sql_create, "si", owner, domain_id);
	for (size_t i = 0; r >= 0 && i < items->count; i++) {
		if (strcasecmp(items->items[i], owner) == 0) {
			*error_r = xasprintf("%s cannot be a %s of itself", owner, set->item);
			r = -1;
		} else {
			r = db_exec(st, error_r, set->sql_add, "ssi", owner, items->items[i], domain_id);
		}
	}
	return db_finish(st, r < 0 ? -1 : 0, error_r);
}

/* Removes the items, all or nothing (an item that is not there is an error), or the whole
 * owner when items is empty. */
static int set_del(struct store *st, const struct address_set *set, const char *owner,
		   const strlist *items, char **error_r)
{
	if (db_begin(st, error_r) < 0)
		return -1;
	int64_t one;
	int r = db_int(st, error_r, &one, set->sql_exists, "s", owner);
	if (r == 0)
		*error_r = xasprintf("no %s %s", set->name, owner);
	if (r == 1 && items->count == 0)
		r = db_exec(st, error_r, set->sql_delete_all, "s", owner);
	for (size_t i = 0; r == 1 && i < items->count; i++) {
		r = db_exec(st, error_r, set->sql_delete_item, "ss", owner, items->items[i]);
		if (r == 0)
			*error_r = xasprintf("%s is not a %s of %s %s", items->items[i], set->item,
					     set->name, owner);
	}
	return db_finish(st, r <= 0 ? -1 : 0, error_r);
}

int store_alias_add(struct store *st, const char *alias, const strlist *targets, char **error_r)
{
	return set_add(st, &alias_set, alias, targets, error_r);
}

int store_alias_del(struct store *st, const char *alias, const strlist *targets, char **error_r)
{
	return set_del(st, &alias_set, alias, targets, error_r);
}

int store_alias_list(struct store *st, const char *alias_or_null, strlist *out, char **error_r)
{
	int r = alias_or_null == NULL
			? db_strings(st, out, error_r,
				     "SELECT address || ' ' || target FROM aliases ORDER BY address, id", "")
			: db_strings(st, out, error_r,
				     "SELECT address || ' ' || target FROM aliases WHERE address = ? "
				     "ORDER BY id",
				     "s", alias_or_null);
	return r < 0 ? -1 : 0;
}

int store_alias_targets(struct store *st, const char *alias, strlist *out, char **error_r)
{
	return db_strings(st, out, error_r, "SELECT target FROM aliases WHERE address = ? ORDER BY id",
			  "s", alias) < 0 ? -1 : 0;
}

int store_aliases_only_to(struct store *st, const char *target, strlist *out, char **error_r)
{
	return db_strings(st, out, error_r,
			  "SELECT address FROM aliases a WHERE target = ? AND NOT EXISTS (SELECT 1 "
			  "FROM aliases o WHERE o.address = a.address AND o.target != a.target) "
			  "ORDER BY address",
			  "s", target) < 0 ? -1 : 0;
}

int store_list_add(struct store *st, const char *list, const strlist *members, char **error_r)
{
	return set_add(st, &list_set, list, members, error_r);
}

int store_list_del(struct store *st, const char *list, const strlist *members, char **error_r)
{
	return set_del(st, &list_set, list, members, error_r);
}

int store_list_members(struct store *st, const char *list, strlist *out, char **error_r)
{
	int64_t one;
	int r = db_int(st, error_r, &one, list_set.sql_exists, "s", list);
	if (r == 1 && db_strings(st, out, error_r,
				 "SELECT m.member FROM list_members m JOIN lists l ON l.id = m.list_id "
				 "WHERE l.address = ? ORDER BY m.id",
				 "s", list) < 0)
		r = -1;
	return r;
}

int store_list_all(struct store *st, strlist *out, char **error_r)
{
	return db_strings(st, out, error_r, "SELECT address FROM lists ORDER BY address", "") < 0
		       ? -1 : 0;
}

/* Recipient resolution; see resolve.h. Lookups go to the store on each call: SQLite answers
 * them from its page cache in microseconds, and a change by the admin takes effect at once. */
#include "deliver/resolve.h"
#include "core/xalloc.h"
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void resolution_init(struct resolution *r)
{
	memset(r, 0, sizeof(*r));
}

void resolution_free(struct resolution *r)
{
	for (size_t i = 0; i < r->local_count; i++)
		free(r->local[i].address);
	for (size_t i = 0; i < r->remote_count; i++) {
		free(r->remote[i].address);
		free(r->remote[i].orcpt);
	}
	free(r->local);
	free(r->remote);
	resolution_init(r);
}

void resolution_truncate(struct resolution *r, size_t local_count, size_t remote_count)
{
	while (r->local_count > local_count)
		free(r->local[--r->local_count].address);
	while (r->remote_count > remote_count) {
		r->remote_count--;
		free(r->remote[r->remote_count].address);
		free(r->remote[r->remote_count].orcpt);
	}
}

static void add_local(struct resolution *r, const struct account *a)
{
	for (size_t i = 0; i < r->local_count; i++)
		if (r->local[i].account_id == a->id)
			return;
	r->local = xrealloc(r->local, (r->local_count + 1) * sizeof(*r->local));
	r->local[r->local_count].account_id = a->id;
	r->local[r->local_count].address = xstrdup(a->address);
	r->local_count++;
}

static void add_remote(struct resolution *r, const char *address, unsigned notify,
		       const char *orcpt)
{
	for (size_t i = 0; i < r->remote_count; i++)
		if (strcasecmp(r->remote[i].address, address) == 0)
			return;
	r->remote = xrealloc(r->remote, (r->remote_count + 1) * sizeof(*r->remote));
	struct resolved_remote *t = &r->remote[r->remote_count++];
	t->address = xstrdup(address);
	t->notify = notify;
	t->orcpt = orcpt != NULL && *orcpt != '\0' ? xstrdup(orcpt) : NULL;
}

int resolve_is_local(struct store *st, const char *address, char **error_r)
{
	const char *at = strrchr(address, '@');
	return store_domain_exists(st, at != NULL ? at + 1 : "", error_r);
}

struct walk {
	struct store *st;
	const char *delimiter;
	unsigned notify;
	const char *orcpt;
	struct resolution *r;
	strlist seen;   /* addresses expanded in this walk: cuts loops */
	size_t found;   /* final targets reached, duplicates included */
	char **error_r;
};

static enum resolve_result walk_address(struct walk *w, const char *address, int depth);

/* Follows each target of an alias or member of a list. */
static enum resolve_result walk_all(struct walk *w, const strlist *targets, int depth)
{
	for (size_t i = 0; i < targets->count; i++) {
		enum resolve_result res = walk_address(w, targets->items[i], depth + 1);
		if (res == RESOLVE_ERROR || res == RESOLVE_TOO_DEEP)
			return res;
		/* A target of ours that no longer exists is skipped, as Postfix does for a
		 * stale alias member; the others still get the message. */
	}
	return RESOLVE_OK;
}

/* Tries address as an account, a list and an alias. Returns RESOLVE_UNKNOWN when it is none. */
static enum resolve_result walk_exact(struct walk *w, const char *address, int depth)
{
	struct account a = { 0 };
	int found = store_user_get(w->st, address, &a, w->error_r);
	if (found < 0)
		return RESOLVE_ERROR;
	if (found > 0) {
		add_local(w->r, &a);
		account_clear(&a);
		w->found++;
		return RESOLVE_OK;
	}
	strlist targets;
	strlist_init(&targets);
	enum resolve_result res = RESOLVE_UNKNOWN;
	found = store_list_members(w->st, address, &targets, w->error_r);
	if (found == 0 && store_alias_targets(w->st, address, &targets, w->error_r) < 0)
		found = -1;
	if (found < 0)
		res = RESOLVE_ERROR;
	else if (found > 0 || targets.count > 0)
		res = walk_all(w, &targets, depth);
	strlist_free(&targets);
	return res;
}

/* The address without its extension ("alice+tag@d" gives "alice@d"), or NULL. */
static char *strip_extension(const char *address, const char *delimiter)
{
	const char *at = strrchr(address, '@');
	if (at == NULL || *delimiter == '\0')
		return NULL;
	size_t base = strcspn(address, delimiter);
	if (base == 0 || address + base >= at)
		return NULL;
	return xasprintf("%.*s%s", (int)base, address, at);
}

static enum resolve_result walk_address(struct walk *w, const char *address, int depth)
{
	if (depth > RESOLVE_MAX_DEPTH)
		return RESOLVE_TOO_DEEP;
	if (strlist_contains(&w->seen, address))
		return RESOLVE_OK;
	strlist_add(&w->seen, address);

	int local = resolve_is_local(w->st, address, w->error_r);
	if (local < 0)
		return RESOLVE_ERROR;
	if (local == 0) {
		add_remote(w->r, address, w->notify, w->orcpt);
		w->found++;
		return RESOLVE_OK;
	}
	enum resolve_result res = walk_exact(w, address, depth);
	if (res != RESOLVE_UNKNOWN)
		return res;
	char *base = strip_extension(address, w->delimiter);
	if (base != NULL) {
		res = walk_exact(w, base, depth);
		free(base);
		if (res != RESOLVE_UNKNOWN)
			return res;
	}
	char *catchall = xasprintf("%s", strrchr(address, '@'));
	strlist targets;
	strlist_init(&targets);
	if (store_alias_targets(w->st, catchall, &targets, w->error_r) < 0)
		res = RESOLVE_ERROR;
	else if (targets.count > 0)
		res = walk_all(w, &targets, depth);
	strlist_free(&targets);
	free(catchall);
	return res;
}

enum resolve_result resolve_recipient(struct store *st, const char *address, const char *delimiter,
				      unsigned notify, const char *orcpt, struct resolution *r,
				      char **error_r)
{
	struct walk w = { .st = st, .delimiter = delimiter, .notify = notify, .orcpt = orcpt,
			  .r = r, .error_r = error_r };
	strlist_init(&w.seen);
	enum resolve_result res = walk_address(&w, address, 0);
	strlist_free(&w.seen);
	if (res == RESOLVE_OK && w.found == 0)
		return RESOLVE_EMPTY;
	return res;
}

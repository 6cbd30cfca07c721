/* postmaster@ and abuse@ of every domain; see postmaster.h. */
#include "cli/postmaster.h"
#include "cli/cli.h"
#include "core/xalloc.h"
#include "deliver/resolve.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const reserved[] = { "postmaster", "abuse" };

/* The administrator: the targets of the first domain's postmaster alias that has some, else
 * the first account. Returns 0 with out empty when there is neither, -1 on error. */
static int find_admin(struct store *st, const strlist *domains, strlist *out, char **error_r)
{
	for (size_t i = 0; i < domains->count && out->count == 0; i++) {
		char *alias = xasprintf("postmaster@%s", domains->items[i]);
		int r = store_alias_targets(st, alias, out, error_r);
		free(alias);
		if (r < 0)
			return -1;
	}
	if (out->count > 0)
		return 0;
	strlist accounts;
	strlist_init(&accounts);
	int r = store_user_list(st, NULL, &accounts, error_r);
	if (r == 0 && accounts.count > 0)
		strlist_add(out, accounts.items[0]);
	strlist_free(&accounts);
	return r;
}

/* 1 when address reaches a mailbox or another server now, 0 when not, -1 on error. */
static int reaches_someone(struct store *st, const char *address, char **error_r)
{
	struct resolution r;
	resolution_init(&r);
	enum resolve_result res = resolve_recipient(st, address, "", 0, NULL, &r, error_r);
	resolution_free(&r);
	return res == RESOLVE_ERROR ? -1 : res == RESOLVE_OK;
}

int postmaster_ensure(struct store *st, const char *admin, char **error_r)
{
	strlist domains, targets;
	strlist_init(&domains);
	strlist_init(&targets);
	int r = store_domain_list(st, &domains, error_r);
	if (r == 0 && admin != NULL)
		strlist_add(&targets, admin);
	else if (r == 0)
		r = find_admin(st, &domains, &targets, error_r);
	if (r == 0)
		r = targets.count > 0 ? 1 : 0;
	for (size_t i = 0; r == 1 && i < domains.count; i++) {
		for (size_t k = 0; r == 1 && k < sizeof(reserved) / sizeof(reserved[0]); k++) {
			char *address = xasprintf("%s@%s", reserved[k], domains.items[i]);
			int reached = reaches_someone(st, address, error_r);
			if (reached < 0 || (reached == 0 && store_alias_add(st, address, &targets, error_r) < 0))
				r = -1;
			else if (reached == 0)
				cli_error("note: %s now goes to %s (change it with estafeta alias add|del)",
					  address, targets.items[0]);
			free(address);
		}
	}
	strlist_free(&targets);
	strlist_free(&domains);
	return r;
}

int postmaster_sole_target(struct store *st, const char *address, char **alias_r, char **error_r)
{
	strlist aliases;
	strlist_init(&aliases);
	int r = store_aliases_only_to(st, address, &aliases, error_r) < 0 ? -1 : 0;
	for (size_t i = 0; r == 0 && i < aliases.count; i++) {
		const char *alias = aliases.items[i];
		size_t local = strcspn(alias, "@");
		for (size_t k = 0; r == 0 && k < sizeof(reserved) / sizeof(reserved[0]); k++) {
			if (strlen(reserved[k]) == local && strncasecmp(alias, reserved[k], local) == 0) {
				*alias_r = xstrdup(alias);
				r = 1;
			}
		}
	}
	strlist_free(&aliases);
	return r;
}

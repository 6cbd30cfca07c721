/* estafeta user quota ADDRESS [--storage SIZE|none|default] [--messages N|none|default] and
 * estafeta domain quota DOMAIN [--storage SIZE|none] [--messages N|none]: an account's limits
 * (its own, or its domain's by default) and a domain's default; without options, what is set
 * and, for an account, what its folders use (RFC 9208's STORAGE and MESSAGE). */
#include "cli/admin.h"
#include "core/config.h"
#include "core/xalloc.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT_BAD (-4)

/* A limit from the command line: a size (1G, 500M) or a count, "none", or for an account
 * "default"; QUOTA_KEEP when not given, LIMIT_BAD when it does not read. */
static int64_t limit_arg(const char *arg, bool account, bool size)
{
	long long v;
	if (arg == NULL)
		return QUOTA_KEEP;
	if (strcmp(arg, "none") == 0)
		return QUOTA_NONE;
	if (account && strcmp(arg, "default") == 0)
		return QUOTA_DEFAULT;
	if ((!size && strspn(arg, "0123456789") != strlen(arg)) || parse_size(arg, &v) < 0)
		return LIMIT_BAD;
	return v;
}

static void print_limit(const char *what, int64_t limit, uint64_t used, bool show_used)
{
	if (!show_used && limit < 0)
		printf("%s none\n", what);
	else if (!show_used)
		printf("%s %lld\n", what, (long long)limit);
	else if (limit < 0)
		printf("%s %llu (no limit)\n", what, (unsigned long long)used);
	else
		printf("%s %llu of %lld (%llu%%)\n", what, (unsigned long long)used, (long long)limit,
		       limit > 0 ? (unsigned long long)(used * 100 / (uint64_t)limit) : 100ULL);
}

int cli_quota(struct cli *cli, const char *arg, bool account)
{
	char *target = account ? cli_address(arg, false) : cli_domain(arg);
	struct store *st = target != NULL ? cli_store(cli) : NULL;
	if (st == NULL) {
		free(target);
		return 1;
	}
	const char *storage_arg = cli->option_values[0], *messages_arg = cli->option_values[1];
	int64_t storage = limit_arg(storage_arg, account, true);
	int64_t messages = limit_arg(messages_arg, account, false);
	char *error = NULL;
	int status = 0, r;
	if (storage == LIMIT_BAD || messages == LIMIT_BAD) {
		cli_error("a limit is a size (512M, 2G), a number of messages, none%s",
			  account ? " or default (the domain's)" : "");
		status = 2;
	} else if (storage_arg != NULL || messages_arg != NULL) {
		r = store_quota_set(st, target, storage, messages, &error);
		if (r == 0)
			cli_error("no %s %s", account ? "account" : "domain", target);
		status = r < 0 ? cli_fail(error) : r == 0;
	} else {
		struct quota q;
		struct account a = { 0 };
		r = account ? store_user_get(st, target, &a, &error) : store_domain_quota(st, target, &q, &error);
		if (r > 0 && account)
			r = store_quota_get(st, a.id, config_bool(cli->cfg, "quota.exclude_trash_junk"), &q, &error);
		account_clear(&a);
		if (r == 0)
			cli_error("no %s %s", account ? "account" : "domain", target);
		status = r < 0 ? cli_fail(error) : r == 0;
		if (r > 0) {
			print_limit("storage", q.storage_limit, q.storage_used, account);
			print_limit("messages", q.message_limit, q.messages_used, account);
		}
	}
	free(target);
	return status;
}

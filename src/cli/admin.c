/* Shared pieces of the admin commands: the subcommand runner and argument checks; see admin.h. */
#include "cli/admin.h"
#include "core/buf.h"
#include "core/xalloc.h"
#include "mail/address.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The bit of option in the space-separated list options, or -1 when it is not there;
 * *valued tells whether it takes a value (listed with a trailing '='), *repeats whether it
 * may be given again (a trailing "=,"). */
static int option_bit(const char *options, const char *option, bool *valued, bool *repeats)
{
	size_t len = strlen(option);
	int bit = 0;
	for (const char *p = options; p != NULL && *p != '\0'; bit++) {
		size_t n = strcspn(p, " ");
		*repeats = n > 1 && p[n - 2] == '=' && p[n - 1] == ',';
		*valued = *repeats || (n > 0 && p[n - 1] == '=');
		if (n - *valued - *repeats == len && strncmp(p, option, len) == 0)
			return bit;
		p += n;
		p += strspn(p, " ");
	}
	return -1;
}

int cli_run_subcommand(struct cli *cli, int argc, char **argv, const struct cli_subcommand *table,
		       size_t count)
{
	const struct cli_subcommand *sub = NULL;
	for (size_t i = 0; argc >= 2 && i < count && sub == NULL; i++)
		if (strcmp(argv[1], table[i].name) == 0)
			sub = &table[i];
	if (sub == NULL) {
		buf names;
		buf_init(&names);
		for (size_t i = 0; i < count; i++)
			buf_printf(&names, "%s%s", i > 0 ? "|" : "", table[i].name);
		if (argc < 2)
			cli_error("usage: estafeta %s %s ... (see: estafeta help)", argv[0], names.data);
		else
			cli_error("unknown command \"%s %s\"; use estafeta %s %s ... (see: estafeta help)",
				  argv[0], argv[1], argv[0], names.data);
		buf_free(&names);
		return 2;
	}
	/* Options may stand anywhere after the subcommand; the positional arguments keep their
	 * order, moved down in argv. */
	char **args = argv + 2;
	int n = 0;
	unsigned options = 0;
	for (int i = 2; i < argc; i++) {
		bool valued = false, repeats = false;
		int bit = strncmp(argv[i], "--", 2) == 0 ? option_bit(sub->options, argv[i], &valued, &repeats)
							 : -2;
		if (bit == -1 || (valued && i + 1 == argc)) {
			cli_error("%s option %s; usage: estafeta %s %s %s", bit < 0 ? "unknown" : "no value for",
				  argv[i], argv[0], sub->name, sub->usage);
			return 2;
		}
		if (bit >= 0)
			options |= 1u << bit;
		if (valued && repeats && cli->option_values[bit] != NULL) {
			char *joined = xasprintf("%s,%s", cli->option_values[bit], argv[++i]);
			strlist_add_owned(&cli->option_texts, joined);
			cli->option_values[bit] = joined;
		} else if (valued) {
			cli->option_values[bit] = argv[++i];
		}
		else if (bit < 0)
			args[n++] = argv[i];
	}
	if (n < sub->min_args || (sub->max_args >= 0 && n > sub->max_args)) {
		cli_error("usage: estafeta %s %s %s", argv[0], sub->name, sub->usage);
		return 2;
	}
	return sub->fn(cli, n, args, options);
}

char *cli_domain(const char *arg)
{
	char *domain = xstrdup(arg);
	for (char *p = domain; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!address_domain_valid(domain, strlen(domain), false)) {
		cli_error("\"%s\" is not a domain name (letters, digits, hyphens and dots; an "
			  "international name in its xn-- form)", arg);
		xfree(&domain);
	}
	return domain;
}

char *cli_address(const char *arg, bool allow_catchall)
{
	if (allow_catchall && arg[0] == '@') {
		char *domain = cli_domain(arg + 1);
		char *catchall = domain != NULL ? xasprintf("@%s", domain) : NULL;
		free(domain);
		return catchall;
	}
	struct address a;
	/* Room for a local part that needs every octet escaped in quotes. */
	char out[2 * sizeof(a.local) + sizeof(a.domain) + 4];
	enum address_error e = address_parse_mailbox(arg, strlen(arg), true, &a);
	if (e == ADDRESS_OK && address_format(&a, out, sizeof(out)) >= 0)
		return xstrdup(out);
	if (e == ADDRESS_TOO_LONG)
		cli_error("\"%s\" is too long for a mail address (RFC 5321: 64 octets before the @, "
			  "255 after)", arg);
	else
		cli_error("\"%s\" is not a mail address; write it as user@domain%s", arg,
			  allow_catchall ? " (or @domain for a catch-all)" : "");
	return NULL;
}

int cli_addresses(int argc, char **argv, strlist *out)
{
	for (int i = 0; i < argc; i++) {
		char *address = cli_address(argv[i], false);
		if (address == NULL)
			return -1;
		strlist_add_owned(out, address);
	}
	return 0;
}

int cli_local_domain(struct store *st, const char *domain)
{
	char *error = NULL;
	int r = store_domain_exists(st, domain, &error);
	if (r < 0)
		cli_fail(error);
	else if (r == 0)
		cli_error("%s is not a local domain; add it first (estafeta domain add %s)", domain, domain);
	return r;
}

int cli_store_apply(struct cli *cli, char *value, cli_store_fn *fn)
{
	struct store *st = value != NULL ? cli_store(cli) : NULL;
	char *error = NULL;
	int status = 1;
	if (st != NULL)
		status = fn(st, value, &error) < 0 ? cli_fail(error) : 0;
	free(value);
	return status;
}

int cli_store_set(struct cli *cli, int argc, char **argv, bool allow_catchall, cli_store_set_fn *fn)
{
	char *owner = cli_address(argv[0], allow_catchall);
	strlist items;
	strlist_init(&items);
	struct store *st = NULL;
	if (owner != NULL && cli_addresses(argc - 1, argv + 1, &items) == 0)
		st = cli_store(cli);
	char *error = NULL;
	int status = 1;
	if (st != NULL)
		status = fn(st, owner, &items, &error) < 0 ? cli_fail(error) : 0;
	strlist_free(&items);
	free(owner);
	return status;
}

int cli_fail(char *error)
{
	cli_error("%s", error);
	free(error);
	return 1;
}

int cli_print_lines(const strlist *l)
{
	for (size_t i = 0; i < l->count; i++)
		puts(l->items[i]);
	return 0;
}

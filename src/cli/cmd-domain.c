/* estafeta domain add|del DOMAIN, domain list: the domains this server takes mail for as their
 * final destination. Accounts, aliases and lists live only in these. */
#include "cli/admin.h"
#include <stdlib.h>

static int domain_add(struct cli *cli, int argc, char **argv, unsigned options)
{
	return cli_store_apply(cli, cli_domain(argv[0]), store_domain_add);
}

static int domain_del(struct cli *cli, int argc, char **argv, unsigned options)
{
	return cli_store_apply(cli, cli_domain(argv[0]), store_domain_del);
}

static int domain_list(struct cli *cli, int argc, char **argv, unsigned options)
{
	struct store *st = cli_store(cli);
	if (st == NULL)
		return 1;
	strlist domains;
	strlist_init(&domains);
	char *error = NULL;
	int status = store_domain_list(st, &domains, &error) < 0 ? cli_fail(error)
								 : cli_print_lines(&domains);
	strlist_free(&domains);
	return status;
}

static const struct cli_subcommand domain_commands[] = {
	{ "add", "DOMAIN", 1, 1, NULL, domain_add },
	{ "del", "DOMAIN", 1, 1, NULL, domain_del },
	{ "list", "", 0, 0, NULL, domain_list },
};

int cmd_domain(struct cli *cli, int argc, char **argv)
{
	return cli_run_subcommand(cli, argc, argv, domain_commands,
				  sizeof(domain_commands) / sizeof(domain_commands[0]));
}

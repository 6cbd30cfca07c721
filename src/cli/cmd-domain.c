/* estafeta domain add|del DOMAIN, domain list: the domains this server takes mail for as their
 * final destination. Accounts, aliases and lists live only in these; a new domain's
 * postmaster@ and abuse@ go to the administrator (cli/postmaster.h). */
#include "cli/admin.h"
#include "cli/postmaster.h"
#include <stdlib.h>

static int domain_add(struct cli *cli, int argc, char **argv, unsigned options)
{
	char *domain = cli_domain(argv[0]);
	struct store *st = domain != NULL ? cli_store(cli) : NULL;
	char *error = NULL;
	int status = 1, ensured = -1;
	if (st != NULL && (store_domain_add(st, domain, &error) < 0 ||
			   (ensured = postmaster_ensure(st, NULL, &error)) < 0))
		status = cli_fail(error);
	else if (st != NULL)
		status = 0;
	if (ensured == 0)
		cli_error("note: postmaster@%s and abuse@%s will go to the first account you add "
			  "(estafeta user add ADDRESS)", domain, domain);
	free(domain);
	return status;
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

/* domain quota DOMAIN [--storage SIZE|none] [--messages N|none]: the default of its accounts */
static int domain_quota(struct cli *cli, int argc, char **argv, unsigned options)
{
	return cli_quota(cli, argv[0], false);
}

static const struct cli_subcommand domain_commands[] = {
	{ "add", "DOMAIN", 1, 1, NULL, domain_add },
	{ "del", "DOMAIN", 1, 1, NULL, domain_del },
	{ "list", "", 0, 0, NULL, domain_list },
	{ "quota", "DOMAIN [--storage SIZE|none] [--messages N|none]", 1, 1, "--storage= --messages=",
	  domain_quota },
};

int cmd_domain(struct cli *cli, int argc, char **argv)
{
	return cli_run_subcommand(cli, argc, argv, domain_commands,
				  sizeof(domain_commands) / sizeof(domain_commands[0]));
}

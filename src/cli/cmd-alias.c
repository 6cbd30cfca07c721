/* estafeta alias add|del|list: addresses of a local domain that forward to other addresses,
 * local or remote. "@domain" is the domain's catch-all, for addresses that are nothing else. */
#include "cli/admin.h"
#include <stdlib.h>

/* alias add ALIAS TARGET... */
static int alias_add(struct cli *cli, int argc, char **argv, unsigned options)
{
	return cli_store_set(cli, argc, argv, true, store_alias_add);
}

/* alias del ALIAS [TARGET...]: the targets named, or the whole alias. */
static int alias_del(struct cli *cli, int argc, char **argv, unsigned options)
{
	return cli_store_set(cli, argc, argv, true, store_alias_del);
}

/* alias list [ALIAS]: "alias target" lines. */
static int alias_list(struct cli *cli, int argc, char **argv, unsigned options)
{
	char *alias = argc > 0 ? cli_address(argv[0], true) : NULL;
	struct store *st = argc == 0 || alias != NULL ? cli_store(cli) : NULL;
	strlist lines;
	strlist_init(&lines);
	char *error = NULL;
	int status = 1;
	if (st != NULL && store_alias_list(st, alias, &lines, &error) < 0)
		status = cli_fail(error);
	else if (st != NULL && alias != NULL && lines.count == 0)
		cli_error("no alias %s (see: estafeta alias list)", alias);
	else if (st != NULL)
		status = cli_print_lines(&lines);
	strlist_free(&lines);
	free(alias);
	return status;
}

static const struct cli_subcommand alias_commands[] = {
	{ "add", "ALIAS TARGET...", 2, -1, NULL, alias_add },
	{ "del", "ALIAS [TARGET...]", 1, -1, NULL, alias_del },
	{ "list", "[ALIAS]", 0, 1, NULL, alias_list },
};

int cmd_alias(struct cli *cli, int argc, char **argv)
{
	return cli_run_subcommand(cli, argc, argv, alias_commands,
				  sizeof(alias_commands) / sizeof(alias_commands[0]));
}

/* estafeta list add|del|members: distribution lists, addresses of a local domain whose mail goes
 * to each of their members and that have no mailbox of their own. */
#include "cli/admin.h"
#include <stdlib.h>

/* list add LIST MEMBER...: creates the list when it is new. */
static int list_add(struct cli *cli, int argc, char **argv, unsigned options)
{
	return cli_store_set(cli, argc, argv, false, store_list_add);
}

/* list del LIST [MEMBER...]: the members named, or the whole list. */
static int list_del(struct cli *cli, int argc, char **argv, unsigned options)
{
	return cli_store_set(cli, argc, argv, false, store_list_del);
}

/* list members [LIST]: the list's members, or without LIST the lists there are. */
static int list_members(struct cli *cli, int argc, char **argv, unsigned options)
{
	char *list = argc > 0 ? cli_address(argv[0], false) : NULL;
	struct store *st = argc == 0 || list != NULL ? cli_store(cli) : NULL;
	strlist lines;
	strlist_init(&lines);
	char *error = NULL;
	int status = 1, found = 1;
	if (st != NULL)
		found = list != NULL ? store_list_members(st, list, &lines, &error)
				     : store_list_all(st, &lines, &error) < 0 ? -1 : 1;
	if (st != NULL && found < 0)
		status = cli_fail(error);
	else if (st != NULL && found == 0)
		cli_error("no distribution list %s (see: estafeta list members)", list);
	else if (st != NULL)
		status = cli_print_lines(&lines);
	strlist_free(&lines);
	free(list);
	return status;
}

static const struct cli_subcommand list_commands[] = {
	{ "add", "LIST MEMBER...", 2, -1, NULL, list_add },
	{ "del", "LIST [MEMBER...]", 1, -1, NULL, list_del },
	{ "members", "[LIST]", 0, 1, NULL, list_members },
};

int cmd_list(struct cli *cli, int argc, char **argv)
{
	return cli_run_subcommand(cli, argc, argv, list_commands,
				  sizeof(list_commands) / sizeof(list_commands[0]));
}

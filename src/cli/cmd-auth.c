/* estafeta auth blocked, auth unblock ADDRESS|ACCOUNT: the limits on failed logins of the
 * running server (auth/login_limits.h), which holds them in memory, over its control socket. */
#include "cli/admin.h"
#include "cli/control_client.h"
#include "core/xalloc.h"
#include <stdlib.h>

static int auth_blocked(struct cli *cli, int argc, char **argv, unsigned options)
{
	return cli_control(cli, "auth-blocked");
}

static int auth_unblock(struct cli *cli, int argc, char **argv, unsigned options)
{
	char *request = xasprintf("auth-unblock %s", argv[0]);
	int status = cli_control(cli, request);
	free(request);
	return status;
}

static const struct cli_subcommand auth_commands[] = {
	{ "blocked", "", 0, 0, NULL, auth_blocked },
	{ "unblock", "ADDRESS|ACCOUNT", 1, 1, NULL, auth_unblock },
};

int cmd_auth_admin(struct cli *cli, int argc, char **argv)
{
	return cli_run_subcommand(cli, argc, argv, auth_commands,
				  sizeof(auth_commands) / sizeof(auth_commands[0]));
}

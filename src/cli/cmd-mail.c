/* estafeta mail: the command-line mail client (src/mua). With a command it runs that one
 * command and exits (for scripts: status 0, or a one-line error and 1, or 2 for a usage
 * error); alone it starts the interactive mode. */
#include "cli/cli.h"
#include "mua/mail.h"
#include <stdlib.h>
#include <string.h>

int cmd_mail_client(struct cli *cli, int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0)) {
		mail_usage(stdout);
		return 0;
	}
	struct mail_session s = { 0 };
	char *error = NULL;
	if (mail_account_load(&s.acct, &error) < 0) {
		int r = mail_fail("%s", error);
		free(error);
		return r;
	}
	int status = argc > 1 ? mail_command(&s, argc - 1, argv + 1) : mail_shell(&s);
	mail_session_free(&s);
	return status;
}

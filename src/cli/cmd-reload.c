/* `estafeta reload`: the running server re-reads its configuration and certificate, as on
 * SIGHUP, and answers with its report (cli/serve.h) over the control socket. The exit status
 * is not 0 when the config could not be used or something kept its old state (the old
 * certificate), so a certbot deploy hook or a script knows. */
#include "cli/control_client.h"
#include <stdio.h>

int cmd_reload(struct cli *cli, int argc, char **argv)
{
	if (argc != 1) {
		cli_error("usage: estafeta reload");
		return 2;
	}
	return cli_control(cli, "reload");
}

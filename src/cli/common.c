/* Helpers every command uses: errors, lazy config and store, passwords from stdin. */
#include "cli/cli.h"
#include "core/privilege.h"
#include "core/xalloc.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void cli_error(const char *fmt, ...)
{
	va_list ap;
	fputs("estafeta: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

struct config *cli_config(struct cli *cli)
{
	if (cli->cfg != NULL)
		return cli->cfg;
	char *error = NULL;
	cli->cfg = config_load(cli->config_path, &error);
	if (cli->cfg == NULL) {
		cli_error("%s", error);
		free(error);
	}
	return cli->cfg;
}

struct store *cli_store(struct cli *cli)
{
	if (cli->store != NULL)
		return cli->store;
	struct config *cfg = cli_config(cli);
	if (cfg == NULL)
		return NULL;
	char *error = NULL;
	/* the store's files are the server's alone (see instance.h) */
	umask(077);
	bool root = geteuid() == 0;
	if (privilege_drop(config_str(cfg, "run_as"), &error) < 0 ||
	    (cli->store = store_open(config_path(cfg, "data_dir"), &error)) == NULL) {
		if (root)
			cli_error("%s", error);
		else
			cli_error("%s (the store is readable by root and the user %s only: run this command "
				  "as one of them)", error, config_str(cfg, "run_as"));
		free(error);
		return NULL;
	}
	return cli->store;
}

char *cli_read_password_stdin(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, stdin);
	if (n <= 0) {
		free(line);
		cli_error("no password on standard input");
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (n == 0) {
		free(line);
		cli_error("the password is empty");
		return NULL;
	}
	return line;
}

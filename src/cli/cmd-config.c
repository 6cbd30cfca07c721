/* estafeta config get|set|list: reading and changing settings (core/config.h holds the table
 * with every name, type, default and its documentation).
 *   config get NAME                    the value in effect, as written in the file
 *   config set NAME VALUE              checks VALUE and rewrites that one line of the file
 *   config list [--changed] [--docs]   every setting, or those that differ from the default */
#include "cli/admin.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OPT_CHANGED 1u
#define OPT_DOCS 2u

/* The setting named arg; NULL after saying there is none. */
static const struct setting *known_setting(const char *arg)
{
	const struct setting *s = setting_find(arg);
	if (s == NULL)
		cli_error("unknown setting \"%s\" (see: estafeta config list --docs)", arg);
	return s;
}

static int config_get(struct cli *cli, int argc, char **argv, unsigned options)
{
	const struct setting *s = known_setting(argv[0]);
	struct config *cfg = s != NULL ? cli_config(cli) : NULL;
	if (cfg == NULL)
		return 1;
	printf("%s\n", config_str(cfg, s->name));
	return 0;
}

static int config_set(struct cli *cli, int argc, char **argv, unsigned options)
{
	if (known_setting(argv[0]) == NULL)
		return 1;
	/* Only change a file that is there: a mistyped -c must not leave a one-line config. */
	if (access(cli->config_path, F_OK) < 0) {
		cli_error("cannot read config %s: %s (create one with: estafeta init DIR --domain DOMAIN)",
			  cli->config_path, strerror(errno));
		return 1;
	}
	char *error = NULL;
	return config_file_set(cli->config_path, argv[0], argv[1], &error) < 0 ? cli_fail(error) : 0;
}

static int config_list(struct cli *cli, int argc, char **argv, unsigned options)
{
	/* Without a config file the defaults are what is in effect: still worth listing. */
	struct config *cfg = NULL;
	if (access(cli->config_path, F_OK) == 0 || errno != ENOENT) {
		cfg = cli_config(cli);
		if (cfg == NULL)
			return 1;
	}
	config_print(cfg, stdout, (options & OPT_CHANGED) != 0, (options & OPT_DOCS) != 0);
	return 0;
}

static const struct cli_subcommand config_commands[] = {
	{ "get", "NAME", 1, 1, NULL, config_get },
	{ "set", "NAME VALUE", 2, 2, NULL, config_set },
	{ "list", "[--changed] [--docs]", 0, 0, "--changed --docs", config_list },
};

int cmd_config(struct cli *cli, int argc, char **argv)
{
	return cli_run_subcommand(cli, argc, argv, config_commands,
				  sizeof(config_commands) / sizeof(config_commands[0]));
}

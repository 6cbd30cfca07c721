/* Shared pieces of the command-line front end. Each command family has its own file
 * (cli/cmd-user.c, ...) with one entry function registered in main.c's table. */
#ifndef ESTAFETA_CLI_H
#define ESTAFETA_CLI_H
#include "core/config.h"
#include "core/strlist.h"
#include "store/store.h"

struct cli {
	const char *config_path; /* from -c, $ESTAFETA_CONF, or ./estafeta.conf */
	struct config *cfg;      /* loaded by cli_config() */
	struct store *store;     /* opened by cli_store() */
	const char *option_values[32]; /* of a subcommand's valued options (cli/admin.h), NULL when not given */
	strlist option_texts;    /* what option_values point to that is not in argv (joined values) */
};

/* A command: argv[0] is the command word ("user"), the rest its arguments. Returns the
 * process exit status (0 success, 1 failure, 2 usage). */
typedef int cli_command_fn(struct cli *cli, int argc, char **argv);

/* Prints "estafeta: MESSAGE" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Loads the configuration once; NULL after printing the error. */
struct config *cli_config(struct cli *cli);
/* Opens the store once (loading the configuration first); when run as root, first becomes the
 * configured run_as user (never root), so files the server must write are never owned by
 * root; files it creates are private (umask 077). NULL after printing the error. */
struct store *cli_store(struct cli *cli);
/* When running as root: whether user run_as (when it exists) may enter every folder on the
 * way to path, the instance's folder, as the server must once it is that user. Returns 0, or -1
 * after saying which folder is closed to it. */
int cli_check_reachable(const char *run_as, const char *path);
/* Reads a password from standard input (one line, the line end removed). NULL with an error
 * printed when there is none. */
char *cli_read_password_stdin(void);

cli_command_fn cmd_init, cmd_serve, cmd_reload, cmd_auth_admin, cmd_config, cmd_user, cmd_domain, cmd_dkim, cmd_dmarc, cmd_dns, cmd_alias, cmd_list,
	cmd_mailbox, cmd_import, cmd_export, cmd_queue, cmd_backup, cmd_restore, cmd_sendmail, cmd_mailq,
	cmd_mail_client, cmd_spf;
#endif

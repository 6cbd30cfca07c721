/* Helpers every command uses: errors, lazy config and store, passwords from stdin. */
#include "cli/cli.h"
#include "core/fsutil.h"
#include "core/privilege.h"
#include "core/xalloc.h"
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
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
	const char *data_dir = config_path(cfg, "data_dir"), *run_as = config_str(cfg, "run_as");
	if (cli_check_reachable(run_as, data_dir) < 0)
		return NULL;
	if (privilege_drop(run_as, &error) < 0 ||
	    (cli->store = store_open(data_dir, &error)) == NULL) {
		if (root)
			cli_error("%s", error);
		else
			cli_error("%s (the store is readable by root and the user %s only: run this command "
				  "as one of them)", error, run_as);
		free(error);
		return NULL;
	}
	return cli->store;
}

int cli_check_reachable(const char *run_as, const char *path)
{
	if (geteuid() != 0 || getpwnam(run_as) == NULL)
		return 0;
	char *abs = path[0] == '/' ? xstrdup(path) : NULL;
	if (abs == NULL) {
		char *cwd = getcwd(NULL, 0);
		abs = xasprintf("%s/%s", cwd != NULL ? cwd : ".", path);
		free(cwd);
	}
	/* A child takes the user's identity to ask the kernel, which knows every rule (groups,
	 * ACLs); the parent stays root. */
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		char *error = NULL, *blocked = NULL;
		if (privilege_drop(run_as, &error) == 0 && (blocked = fs_unsearchable_folder(abs)) != NULL)
			cli_error("the server's user %s (run_as) cannot enter %s, on the way to %s: allow "
				  "it (chmod o+x %s) or put the instance elsewhere", run_as, blocked, abs,
				  blocked);
		_exit(blocked != NULL ? 1 : 0);
	}
	free(abs);
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return 0; /* not known: the store's own error will tell */
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
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

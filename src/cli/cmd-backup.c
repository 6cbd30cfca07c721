/* `estafeta backup DIR` and `estafeta restore DIR`: the store copied into a folder while the
 * server runs, and put back while it does not. What is copied and how is the store's
 * (store_backup, store_restore in store.h); here are the checks around it: the server's state,
 * the owners, and the one-line summary. */
#include "cli/cli.h"
#include "cli/instance.h"
#include "core/control.h"
#include "core/privilege.h"
#include "core/xalloc.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double seconds_since(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Opens the store as the run_as user when root, so the write-ahead log files SQLite makes when
 * no server runs are the server's, then takes root back to read everything and write dir
 * wherever root may. */
/* "VERB N messages (N queued) in N files, N bytes, in T s PREP DIR", no line end. */
static void print_summary(const char *verb, const struct store_backup_info *info, const struct timespec *start,
			  const char *prep, const char *dir)
{
	printf("%s %llu messages (%llu queued) in %llu files, %llu bytes, in %.2f s %s %s", verb,
	       (unsigned long long)info->messages, (unsigned long long)info->queued,
	       (unsigned long long)info->files, (unsigned long long)info->bytes,
	       seconds_since(start), prep, dir);
}

static struct store *open_store_as_server(const struct config *cfg, char **error_r)
{
	const char *data_dir = config_path(cfg, "data_dir");
	char *db = xasprintf("%s/estafeta.db", data_dir);
	struct stat sb;
	int found = stat(db, &sb);
	free(db);
	if (found < 0) {
		*error_r = xasprintf("there is no store in %s (data_dir) to back up", data_dir);
		return NULL;
	}
	uid_t uid = 0;
	gid_t gid = 0;
	bool root = geteuid() == 0;
	if (root && (privilege_lookup(config_str(cfg, "run_as"), &uid, &gid, error_r) < 0 ||
		     setegid(gid) < 0 || seteuid(uid) < 0)) {
		if (uid != 0)
			*error_r = xasprintf("cannot act as uid %u: %s", (unsigned)uid, strerror(errno));
		return NULL;
	}
	struct store *st = store_open(data_dir, error_r);
	if (root && (seteuid(0) < 0 || setegid(0) < 0)) {
		store_close(&st);
		*error_r = xasprintf("cannot become root again: %s", strerror(errno));
	}
	return st;
}

int cmd_backup(struct cli *cli, int argc, char **argv)
{
	if (argc != 2) {
		cli_error("usage: estafeta backup DIR");
		return 2;
	}
	struct config *cfg = cli_config(cli);
	if (cfg == NULL)
		return 1;
	umask(077); /* a backup holds every user's mail */
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	char *error = NULL;
	struct store_backup_info info;
	struct store *st = open_store_as_server(cfg, &error);
	int r = st != NULL ? store_backup(st, argv[1], &info, &error) : -1;
	store_close(&st);
	if (r < 0) {
		cli_error("%s", error);
		free(error);
		return 1;
	}
	print_summary("backed up", &info, &start, "to", argv[1]);
	printf("\n");
	return 0;
}

/* Restore replaces the data folder whole, so the config must live elsewhere; and no server
 * may be using the folder. 0, or -1 after printing why. */
static int restore_allowed(const struct config *cfg)
{
	char *data = realpath(config_path(cfg, "data_dir"), NULL);
	size_t n = data != NULL ? strlen(data) : 0;
	const char *conf = config_dir(cfg);
	if (data != NULL && strncmp(conf, data, n) == 0 && (conf[n] == '\0' || conf[n] == '/')) {
		cli_error("data_dir %s holds the config's folder, and a restore replaces the data folder "
			  "whole: give the data a folder of its own (README: \"Upgrading an instance\")",
			  data);
		free(data);
		return -1;
	}
	free(data);
	char *socket = control_socket_path(cfg);
	int r = control_probe(socket);
	int e = errno;
	if (r == 1)
		cli_error("the server is running (its control socket %s answers): stop it, then "
			  "restore", socket);
	else if (r == 0 && e == EACCES)
		cli_error("cannot tell whether the server runs (%s: permission denied): restore as root",
			  socket);
	free(socket);
	return r == 1 || (r == 0 && e == EACCES) ? -1 : 0;
}

int cmd_restore(struct cli *cli, int argc, char **argv)
{
	if (argc != 2) {
		cli_error("usage: estafeta restore DIR");
		return 2;
	}
	struct config *cfg = cli_config(cli);
	if (cfg == NULL || restore_allowed(cfg) < 0)
		return 1;
	umask(077);
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	char *error = NULL, *kept = NULL;
	struct store_backup_info info;
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	int r = geteuid() == 0 ? privilege_lookup(config_str(cfg, "run_as"), &uid, &gid, &error) : 0;
	if (r == 0)
		r = store_restore(config_path(cfg, "data_dir"), argv[1], uid, gid, &info, &kept, &error);
	/* the data folder's own mode and the maildrop's, as serve gives them */
	if (r == 0)
		r = instance_prepare(cfg, cli->config_path, false, &error);
	if (r < 0) {
		cli_error("%s", error);
		free(error);
		free(kept);
		return 1;
	}
	print_summary("restored", &info, &start, "from", argv[1]);
	if (kept != NULL)
		printf("; the data folder before it is kept as %s (remove it once the restored store "
		       "is right)", kept);
	printf("\n");
	free(kept);
	return 0;
}

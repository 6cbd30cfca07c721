/* `estafeta init DIR --domain DOMAIN [--hostname HOST] [--port-base N] [--listen ADDR]
 * [--admin ADDRESS]`: creates a ready-to-serve instance: the config file, a self-signed
 * certificate in DIR/tls, the store with the first domain in DIR/data, whose postmaster@ and
 * abuse@ go to the administrator's ADDRESS (else to the first account added:
 * cli/postmaster.h). Run as root, it also makes sure the run_as user exists and can enter
 * DIR; that user owns DIR/data only, while DIR, the config and the key stay root's
 * (instance.h), so the server it drops to cannot rewrite what it reads as root. */
#include "cli/admin.h"
#include "cli/instance.h"
#include "cli/postmaster.h"
#include "core/buf.h"
#include "core/fsutil.h"
#include "core/tls.h"
#include "core/xalloc.h"
#include "mail/address.h"
#include <ctype.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The services with a port, as `--port-base N` moves them: N + (standard port mod 1000). */
static const struct {
	const char *setting;
	int port;
} ports[] = {
	{ "smtp.port", 25 },
	{ "submission.port", 587 },
	{ "submissions.port", 465 },
	{ "pop3.port", 110 },
	{ "pop3s.port", 995 },
	{ "imap.port", 143 },
	{ "imaps.port", 993 },
};

static int ensure_system_user(const char *user)
{
	if (geteuid() != 0 || getpwnam(user) != NULL)
		return 0;
	pid_t pid = fork();
	if (pid == 0) {
		execlp("useradd", "useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
		       "--shell", "/usr/sbin/nologin", user, (char *)NULL);
		_exit(127);
	}
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		cli_error("cannot create the system user %s with useradd; create it, or set run_as", user);
		return -1;
	}
	return 0;
}

static char *config_text(const char *hostname, const char *domain, const char *listen, int port_base)
{
	buf b;
	buf_init(&b);
	buf_puts(&b, "# estafeta configuration: \"name = value\" lines.\n"
		     "# Every setting with its default and meaning: estafeta config list --docs\n"
		     "# Change one: estafeta -c THIS-FILE config set NAME VALUE (then SIGHUP the server)\n\n");
	buf_printf(&b, "hostname = %s\n", hostname);
	buf_printf(&b, "sendmail.origin = %s\n", domain);
	buf_puts(&b, "data_dir = data\n");
	buf_printf(&b, "listen = %s\n", listen);
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
		buf_printf(&b, "%s = %d\n", ports[i].setting,
			   port_base > 0 ? port_base + ports[i].port % 1000 : ports[i].port);
	buf_puts(&b, "tls.cert = tls/cert.pem\ntls.key = tls/key.pem\n");
	return buf_steal(&b);
}

int cmd_init(struct cli *cli, int argc, char **argv)
{
	const char *dir = NULL, *domain_arg = NULL, *hostname = NULL, *listen = "127.0.0.1";
	const char *admin_arg = NULL;
	int port_base = 0;
	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i];
		bool has_value = i + 1 < argc;
		if (strcmp(opt, "--domain") == 0 && has_value)
			domain_arg = argv[++i];
		else if (strcmp(opt, "--hostname") == 0 && has_value)
			hostname = argv[++i];
		else if (strcmp(opt, "--admin") == 0 && has_value)
			admin_arg = argv[++i];
		else if (strcmp(opt, "--listen") == 0 && has_value)
			listen = argv[++i];
		else if (strcmp(opt, "--port-base") == 0 && has_value)
			port_base = atoi(argv[++i]);
		else if (opt[0] != '-' && dir == NULL)
			dir = opt;
		else
			dir = NULL, i = argc; /* fall through to usage */
	}
	if (dir == NULL || domain_arg == NULL) {
		cli_error("usage: estafeta init DIR --domain DOMAIN [--hostname HOST] [--port-base N] "
			  "[--listen ADDR] [--admin ADDRESS]");
		return 2;
	}
	if (port_base < 0 || port_base > 64000) {
		cli_error("--port-base must be between 0 and 64000");
		return 2;
	}
	if (!address_domain_valid(domain_arg, strlen(domain_arg), false)) {
		cli_error("\"%s\" is not a valid domain name", domain_arg);
		return 2;
	}
	char *admin = admin_arg != NULL ? cli_address(admin_arg, false) : NULL;
	if (admin_arg != NULL && admin == NULL)
		return 2;
	char *domain = xstrdup(domain_arg);
	for (char *p = domain; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	char system_name[256] = "localhost";
	if (hostname == NULL) {
		gethostname(system_name, sizeof(system_name) - 1);
		hostname = system_name;
	}

	char *error = NULL, *conf_path = xasprintf("%s/estafeta.conf", dir);
	char *tls_dir = xasprintf("%s/tls", dir);
	char *cert = xasprintf("%s/tls/cert.pem", dir), *key = xasprintf("%s/tls/key.pem", dir);
	char *text = config_text(hostname, domain, listen, port_base);
	const char *run_as = setting_find("run_as")->def;
	int status = 1;
	if (access(conf_path, F_OK) == 0) {
		cli_error("%s already exists: this folder holds an instance already", conf_path);
	} else if (ensure_system_user(run_as) < 0 || cli_check_reachable(run_as, dir) < 0) {
		/* said; nothing written */
	} else if (fs_mkdir_p(dir, 0755, &error) < 0 || fs_mkdir_p(tls_dir, 0750, &error) < 0 ||
		   fs_write_atomic(conf_path, text, strlen(text), 0644, &error) < 0 ||
		   tls_make_self_signed(cert, key, hostname, &error) < 0) {
		cli_error("%s", error);
	} else {
		cli->config_path = conf_path;
		struct config *cfg = cli_config(cli);
		struct store *st = NULL;
		if (cfg != NULL && instance_prepare(cfg, conf_path, false, &error) < 0)
			cli_error("%s", error);
		else if (cfg != NULL)
			st = cli_store(cli);
		if (st != NULL && (store_domain_add(st, domain, &error) < 0 ||
				   (admin != NULL && postmaster_ensure(st, admin, &error) < 0))) {
			cli_error("%s", error);
		} else if (st != NULL) {
			printf("Created an estafeta instance in %s for %s (host name %s).\n", dir, domain, hostname);
			printf("  config: %s\n", conf_path);
			if (admin == NULL)
				printf("  postmaster@%s and abuse@%s go to the first account you add\n",
				       domain, domain);
			if (admin != NULL && strcmp(strrchr(admin, '@') + 1, domain) == 0)
				printf("  next:   estafeta -c %s user add %s\n", conf_path, admin);
			else
				printf("  next:   estafeta -c %s user add you@%s\n", conf_path, domain);
			printf("          estafeta -c %s serve\n", conf_path);
			status = 0;
		}
	}
	free(error);
	free(text);
	free(cert);
	free(key);
	free(tls_dir);
	free(domain);
	free(admin);
	store_close(&cli->store);
	config_free(&cli->cfg);
	free(conf_path);
	return status;
}

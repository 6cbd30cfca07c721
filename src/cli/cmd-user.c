/* estafeta user add|del|passwd|apop|list: accounts, each an address of a local domain with a
 * password and a mailbox, and optionally a POP3 APOP secret. Passwords and secrets come from
 * standard input (--password-stdin), never from the command line where ps would show them;
 * without the option one is made up and printed once. */
#include "cli/admin.h"
#include "cli/postmaster.h"
#include "auth/password.h"
#include "core/xalloc.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define OPT_PASSWORD_STDIN 1u
#define GENERATED_LENGTH 20

/* A random password of letters and digits that are hard to mix up (no 0/o/O, 1/l/I):
 * 20 characters of 56 possible, about 116 bits. NULL after an error. */
static char *random_password(void)
{
	static const char alphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	const size_t n = sizeof(alphabet) - 1;
	char *password = xmalloc(GENERATED_LENGTH + 1);
	size_t len = 0;
	while (len < GENERATED_LENGTH) {
		unsigned char bytes[32];
		if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes)) {
			if (errno == EINTR)
				continue;
			cli_error("cannot get random bytes for a password: %s", strerror(errno));
			free(password);
			return NULL;
		}
		/* Rejection sampling keeps every character equally likely. */
		for (size_t i = 0; i < sizeof(bytes) && len < GENERATED_LENGTH; i++)
			if (bytes[i] < 256 / n * n)
				password[len++] = alphabet[bytes[i] % n];
	}
	password[len] = '\0';
	return password;
}

typedef int store_password_fn(struct store *st, const char *address, const char *password_hash,
			      const char *scram_sha256, char **error_r);

/* Hands password's yescrypt hash and SCRAM keys to fn. Returns the exit status. */
static int apply_password(struct store *st, const char *address, const char *password,
			  store_password_fn *fn)
{
	char *hash = password_hash(password), *scram = scram_sha256_credentials(password);
	char *error = NULL;
	int status = 1;
	if (hash == NULL || scram == NULL)
		cli_error("cannot hash the password: libcrypt or OpenSSL failed (is libcrypt's "
			  "yescrypt available?)");
	else if (fn(st, address, hash, scram, &error) < 0)
		status = cli_fail(error);
	else
		status = 0;
	free(hash);
	free(scram);
	return status;
}

/* Whether password has auth.min_password_length characters (UTF-8 sequences count as one);
 * says so when not. */
static bool long_enough(struct cli *cli, const char *password)
{
	long long min = config_int(cli_config(cli), "auth.min_password_length"), n = 0;
	for (const unsigned char *p = (const unsigned char *)password; *p != '\0'; p++)
		n += (*p & 0xC0) != 0x80;
	if (n >= min)
		return true;
	cli_error("the password has %lld characters, fewer than auth.min_password_length (%lld): "
		  "choose a longer one, or leave out --password-stdin to get one made up", n, min);
	return false;
}

/* user add, user passwd and user apop: the secret from standard input or made up, then
 * handed to fn as a password, or stored as the APOP secret when fn is NULL; a made-up secret
 * is printed once it is stored. */
static int set_password(struct cli *cli, const char *arg, unsigned options, store_password_fn *fn)
{
	bool from_stdin = (options & OPT_PASSWORD_STDIN) != 0;
	char *address = cli_address(arg, false);
	struct store *st = address != NULL ? cli_store(cli) : NULL;
	char *password = NULL;
	if (st != NULL)
		password = from_stdin ? cli_read_password_stdin() : random_password();
	int status = 1;
	if (password != NULL) {
		char *error = NULL;
		if (fn != NULL && !long_enough(cli, password))
			status = 1;
		else if (fn != NULL)
			status = apply_password(st, address, password, fn);
		else if (store_user_set_apop(st, address, password, &error) < 0)
			status = cli_fail(error);
		else
			status = 0;
		if (status == 0 && !from_stdin)
			printf("%s\n", password);
		explicit_bzero(password, strlen(password));
		free(password);
	}
	free(address);
	return status;
}

/* user add ADDRESS [--password-stdin]: the first account of the instance also receives the
 * domains' postmaster@ and abuse@ mail. */
static int user_add(struct cli *cli, int argc, char **argv, unsigned options)
{
	int status = set_password(cli, argv[0], options, store_user_add);
	char *error = NULL;
	if (status == 0 && postmaster_ensure(cli->store, NULL, &error) < 0)
		status = cli_fail(error);
	return status;
}

/* user passwd ADDRESS [--password-stdin] */
static int user_passwd(struct cli *cli, int argc, char **argv, unsigned options)
{
	return set_password(cli, argv[0], options, store_user_set_password);
}

/* user apop ADDRESS [--password-stdin]: turns POP3 APOP on for the account with a secret of
 * its own. APOP needs the secret in clear on the server, so it is never the password. */
static int user_apop(struct cli *cli, int argc, char **argv, unsigned options)
{
	return set_password(cli, argv[0], options, NULL);
}

/* user del ADDRESS: the account with all its mail; not the last one a postmaster@ or abuse@
 * reaches (RFC 5321 4.5.1: postmaster must reach someone). */
static int user_del(struct cli *cli, int argc, char **argv, unsigned options)
{
	char *address = cli_address(argv[0], false);
	struct store *st = address != NULL ? cli_store(cli) : NULL;
	char *alias = NULL, *error = NULL;
	int sole = st != NULL ? postmaster_sole_target(st, address, &alias, &error) : 0;
	if (sole < 0) {
		free(address);
		return cli_fail(error);
	}
	if (sole > 0) {
		cli_error("%s receives %s's mail, which must reach someone: point it elsewhere first "
			  "(estafeta alias add %s ADDRESS, then alias del %s %s)", address, alias, alias,
			  alias, address);
		free(alias);
		free(address);
		return 1;
	}
	return cli_store_apply(cli, address, store_user_del);
}

/* user list [DOMAIN] */
static int user_list(struct cli *cli, int argc, char **argv, unsigned options)
{
	char *domain = argc > 0 ? cli_domain(argv[0]) : NULL;
	struct store *st = argc == 0 || domain != NULL ? cli_store(cli) : NULL;
	strlist users;
	strlist_init(&users);
	char *error = NULL;
	int status = 1, known = 1;
	if (st != NULL && domain != NULL)
		known = store_domain_exists(st, domain, &error);
	if (st != NULL && known == 0)
		cli_error("no domain %s (see: estafeta domain list)", domain);
	else if (st != NULL && (known < 0 || store_user_list(st, domain, &users, &error) < 0))
		status = cli_fail(error);
	else if (st != NULL)
		status = cli_print_lines(&users);
	strlist_free(&users);
	free(domain);
	return status;
}

/* user quota ADDRESS [--storage SIZE|none|default] [--messages N|none|default] */
static int user_quota(struct cli *cli, int argc, char **argv, unsigned options)
{
	return cli_quota(cli, argv[0], true);
}

static const struct cli_subcommand user_commands[] = {
	{ "add", "ADDRESS [--password-stdin]", 1, 1, "--password-stdin", user_add },
	{ "del", "ADDRESS", 1, 1, NULL, user_del },
	{ "passwd", "ADDRESS [--password-stdin]", 1, 1, "--password-stdin", user_passwd },
	{ "list", "[DOMAIN]", 0, 1, NULL, user_list },
	{ "apop", "ADDRESS [--password-stdin]", 1, 1, "--password-stdin", user_apop },
	{ "quota", "ADDRESS [--storage SIZE|none|default] [--messages N|none|default]", 1, 1,
	  "--storage= --messages=", user_quota },
};

int cmd_user(struct cli *cli, int argc, char **argv)
{
	return cli_run_subcommand(cli, argc, argv, user_commands,
				  sizeof(user_commands) / sizeof(user_commands[0]));
}

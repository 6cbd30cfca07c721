/* What the admin command families (cli/cmd-user.c, cmd-domain.c, cmd-alias.c, cmd-list.c,
 * cmd-mailbox.c, cmd-config.c) share: a table of subcommands with their arguments, checked in
 * one place, and the checking and normalising of address and domain arguments. Each helper
 * that fails prints its one-line error itself. */
#ifndef ESTAFETA_CLI_ADMIN_H
#define ESTAFETA_CLI_ADMIN_H
#include "cli/cli.h"
#include "core/strlist.h"
#include <stdbool.h>

/* A handler gets the positional arguments after the subcommand word (argv[0] is the first)
 * and the options given as bits, bit i for the i-th word of the row's options. */
typedef int cli_subcommand_fn(struct cli *cli, int argc, char **argv, unsigned options);

struct cli_subcommand {
	const char *name;     /* "add" */
	const char *usage;    /* what follows it: "ADDRESS [--password-stdin]" */
	int min_args;         /* positional arguments */
	int max_args;         /* -1: no limit */
	const char *options;  /* the options it takes, space-separated ("--changed --docs"), or NULL;
	                         one with a trailing '=' ("--storage=") takes the next word as
	                         its value, found in cli->option_values[bit]; one with a
	                         trailing "=," may be given again, its values joined with
	                         commas */
	cli_subcommand_fn *fn;
};

/* Runs subcommand argv[1] of family argv[0] from table. A missing or unknown subcommand, a
 * wrong number of arguments or an unknown option prints the usage and returns 2. */
int cli_run_subcommand(struct cli *cli, int argc, char **argv, const struct cli_subcommand *table,
		       size_t count);

/* The canonical form of a mailbox argument (address.h: domain lower-cased, local part quoted
 * only when it must be), allocated; with allow_catchall, "@domain" too. NULL after an error. */
char *cli_address(const char *arg, bool allow_catchall);
/* The addresses of args appended to out in canonical form. Returns 0, or -1 after an error. */
int cli_addresses(int argc, char **argv, strlist *out);
/* A domain argument lower-cased and checked, allocated; NULL after an error. */
char *cli_domain(const char *arg);

/* 1 when domain is one of ours, else 0 after saying so and how to add it (or -1 after a
 * store error). */
int cli_local_domain(struct store *st, const char *domain);

/* Runs fn on the store with value (already checked; freed here, NULL means the check failed).
 * Returns the exit status. */
typedef int cli_store_fn(struct store *st, const char *value, char **error_r);
int cli_store_apply(struct cli *cli, char *value, cli_store_fn *fn);
/* Runs fn on the store for the owner argv[0] ("@domain" allowed with allow_catchall) and the
 * addresses argv[1..]: adding to or removing from an alias or a distribution list. Returns the
 * exit status. */
typedef int cli_store_set_fn(struct store *st, const char *owner, const strlist *items,
			     char **error_r);
int cli_store_set(struct cli *cli, int argc, char **argv, bool allow_catchall, cli_store_set_fn *fn);

/* user quota and domain quota (cli/cmd-quota.c): arg an address when account, else a domain;
 * the subcommand's options are --storage= and --messages=, in that order. */
int cli_quota(struct cli *cli, const char *arg, bool account);

/* Prints a store error, frees it, and returns the exit status 1. */
int cli_fail(char *error);
/* Prints each item of l on its own line. Returns 0. */
int cli_print_lines(const strlist *l);
#endif

/* estafeta's entry point: finds the command word and runs its handler. "-c FILE" may stand
 * anywhere on the line and names the configuration (else $ESTAFETA_CONF, else ./estafeta.conf). */
#include "cli/cli.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	cli_command_fn *fn;
	const char *usage;
} commands[] = {
	{ "init", cmd_init, "init DIR --domain DOMAIN [--hostname HOST] [--port-base N] [--listen ADDR] [--admin ADDRESS]" },
	{ "serve", cmd_serve, "serve" },
	{ "reload", cmd_reload, "reload  (the running server re-reads its config and certificate, as on SIGHUP)" },
	{ "config", cmd_config, "config get NAME | set NAME VALUE | list [--changed] [--docs]" },
	{ "user", cmd_user, "user add|del|passwd|apop ADDRESS [--password-stdin] | user list [DOMAIN] | "
			  "user quota ADDRESS [--storage SIZE|none|default] [--messages N|none|default]" },
	{ "domain", cmd_domain, "domain add|del DOMAIN | domain list | "
			      "domain quota DOMAIN [--storage SIZE|none] [--messages N|none]" },
	{ "dkim", cmd_dkim, "dkim keygen DOMAIN [--algorithm ed25519|rsa [--selector S]] | dkim list [DOMAIN] | "
			  "dkim retire DOMAIN SELECTOR  (signing keys; list prints the DNS records) | "
			  "dkim verify [--resolver IP:PORT] < MESSAGE  (checks a message's signatures)" },
	{ "spf", cmd_spf, "spf check --ip IP --sender ADDRESS [--helo NAME] [--resolver IP:PORT]  "
			"(RFC 7208's check of a client address for a sender, as the SMTP server makes it)" },
	{ "dns", cmd_dns, "dns records DOMAIN [--ip ADDRESS]... | dns check DOMAIN [--ip ADDRESS]... [--resolver IP[:PORT]]  "
			"(the DNS records to publish; what the DNS holds of them)" },
	{ "dmarc", cmd_dmarc, "dmarc send-reports | dmarc reports DOMAIN [--since YYYY-MM-DD]  (aggregate reports: "
			    "send ours now; show those received)" },
	{ "alias", cmd_alias, "alias add ALIAS TARGET... | alias del ALIAS [TARGET...] | alias list [ALIAS]" },
	{ "list", cmd_list, "list add LIST MEMBER... | list del LIST [MEMBER...] | list members [LIST]" },
	{ "mailbox", cmd_mailbox, "mailbox list ADDRESS [FOLDER] | mailbox show ADDRESS UID [FOLDER] | mailbox del ADDRESS FOLDER" },
	{ "import", cmd_import, "import maildir ADDRESS DIR | import mbox ADDRESS FILE [--folder F] [--format mboxrd|mboxo]" },
	{ "export", cmd_export, "export ADDRESS DIR  (every folder as Maildir++, with Dovecot's UID and keyword files)" },
	{ "auth", cmd_auth_admin, "auth blocked | auth unblock ADDRESS|ACCOUNT  (the running server's login limits)" },
	{ "queue", cmd_queue, "queue list | queue show ID | queue flush [ID] | queue retry ID | queue delete ID | queue hold | queue hold|release ID | queue hold|release --sender ADDRESS" },
	{ "backup", cmd_backup, "backup DIR  (a copy of the store, taken while the server runs, into a new or empty folder)" },
	{ "restore", cmd_restore, "restore DIR  (puts a backup in the store's place; the server must be stopped)" },
	{ "sendmail", cmd_sendmail, "sendmail [-t] [-i] [-f FROM] [-F NAME] [RECIPIENT...] < MESSAGE" },
	{ "mailq", cmd_mailq, "mailq" },
	{ "mail", cmd_mail_client, "mail [COMMAND ...]  (the mail client: estafeta mail help)" },
};
#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: estafeta [-c FILE] COMMAND ...\n");
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		fprintf(out, "  estafeta %s\n", commands[i].usage);
}

/* Run as "sendmail" or "mailq" (links to estafeta), it is that command. */
static const char *command_from_name(const char *argv0)
{
	const char *base = strrchr(argv0, '/');
	base = base != NULL ? base + 1 : argv0;
	return strcmp(base, "sendmail") == 0 || strcmp(base, "mailq") == 0 ? base : NULL;
}

int main(int argc, char **argv)
{
	struct cli cli = { 0 };
	const char *implied = command_from_name(argv[0]);
	const char *config_option = NULL;
	int n = 0;
	if (implied != NULL)
		argv[n++] = (char *)implied;
	/* Take "-c FILE" out wherever it stands; the rest keeps its order. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0) {
			if (i + 1 >= argc) {
				cli_error("-c needs a file name");
				return 2;
			}
			config_option = argv[++i];
		} else {
			argv[n++] = argv[i];
		}
	}
	argv[n] = NULL;
	cli.config_path = config_default_path(config_option);
	if (n == 0 || strcmp(argv[0], "help") == 0 || strcmp(argv[0], "--help") == 0 ||
	    strcmp(argv[0], "-h") == 0) {
		usage(n == 0 ? stderr : stdout);
		return n == 0 ? 2 : 0;
	}
	for (size_t i = 0; i < COMMAND_COUNT; i++) {
		if (strcmp(argv[0], commands[i].name) == 0) {
			int status = commands[i].fn(&cli, n, argv);
			store_close(&cli.store);
			strlist_free(&cli.option_texts);
			config_free(&cli.cfg);
			return status;
		}
	}
	cli_error("unknown command \"%s\" (see: estafeta help)", argv[0]);
	return 2;
}

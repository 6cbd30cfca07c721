/* estafeta spf check --ip IP --sender ADDRESS [--helo NAME] [--resolver IP:PORT]: RFC 7208's
 * check_host() for a client address and a sender, as the SMTP server runs it, on a loop of
 * its own. Any result it could compute is a success; only bad arguments are not. */
#include "cli/admin.h"
#include "core/dns.h"
#include "core/xalloc.h"
#include "verify/spf.h"
#include <arpa/inet.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { OPT_IP, OPT_SENDER, OPT_HELO, OPT_RESOLVER };

struct spf_run {
	struct event_base *base;
	const char *identity; /* "smtp.mailfrom=..." or "smtp.helo=..." */
};

static void on_done(const struct spf_outcome *o, void *arg)
{
	struct spf_run *run = arg;
	printf("spf=%s (%s) %s\n", spf_result_name(o->result), o->reason, run->identity);
	if (o->explanation != NULL)
		printf("explanation: %s\n", o->explanation);
	event_base_loopbreak(run->base);
}

static int spf_check(struct cli *cli, int argc, char **argv, unsigned options)
{
	const char *ip = cli->option_values[OPT_IP], *sender = cli->option_values[OPT_SENDER];
	const char *helo = cli->option_values[OPT_HELO], *resolver = cli->option_values[OPT_RESOLVER];
	unsigned char bin[16];
	if (ip == NULL || sender == NULL) {
		cli_error("spf check needs --ip IP and --sender ADDRESS (--sender '' checks the HELO name)");
		return 2;
	}
	if (inet_pton(AF_INET, ip, bin) != 1 && inet_pton(AF_INET6, ip, bin) != 1) {
		cli_error("--ip \"%s\" is not an IPv4 or IPv6 address", ip);
		return 2;
	}
	const char *at = strrchr(sender, '@');
	if (sender[0] != '\0' && (at == NULL || at[1] == '\0')) {
		cli_error("--sender \"%s\" is not a mail address; write it as user@domain, or '' for "
			  "the null sender", sender);
		return 2;
	}
	/* RFC 7208 2.3: the null sender's check is the HELO name's, as postmaster@HELO */
	if (sender[0] == '\0' && (helo == NULL || helo[0] == '\0')) {
		cli_error("with the null sender (--sender ''), the HELO name is checked: give --helo NAME");
		return 2;
	}
	char receiver[256] = "";
	if (gethostname(receiver, sizeof(receiver) - 1) < 0)
		strcpy(receiver, "unknown");
	char *error = NULL;
	struct spf_run run = { event_base_new(), NULL };
	struct dns *d = dns_new(run.base, resolver != NULL ? resolver : "", &error);
	if (d == NULL) {
		cli_error("%s (--resolver takes IP or IP:PORT)", error);
		free(error);
		event_base_free(run.base);
		return 2;
	}
	char *identity = sender[0] != '\0' ? xasprintf("smtp.mailfrom=%s", sender)
					    : xasprintf("smtp.helo=%s", helo);
	run.identity = identity;
	struct spf_check *c = spf_check_start(d, ip, NULL, sender, helo, receiver, on_done, &run);
	event_base_dispatch(run.base);
	spf_check_free(&c);
	dns_free(&d);
	event_base_free(run.base);
	free(identity);
	return 0;
}

static const struct cli_subcommand spf_commands[] = {
	{ "check", "--ip IP --sender ADDRESS [--helo NAME] [--resolver IP:PORT]", 0, 0,
	  "--ip= --sender= --helo= --resolver=", spf_check },
};

int cmd_spf(struct cli *cli, int argc, char **argv)
{
	return cli_run_subcommand(cli, argc, argv, spf_commands, sizeof(spf_commands) / sizeof(spf_commands[0]));
}

/* estafeta dns records|check DOMAIN: the DNS records a local domain publishes for this server
 * (cli/dns_records.c) and what the DNS holds of them (cli/dns_check.c). */
#include "cli/admin.h"
#include "cli/dns_check.h"
#include "cli/dns_records.h"
#include "core/tls.h"
#include "core/xalloc.h"
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Loopback and the wildcard are no address the world can reach. */
static bool public_address(const char *ip)
{
	struct in_addr v4;
	struct in6_addr v6;
	if (inet_pton(AF_INET, ip, &v4) == 1)
		return (ntohl(v4.s_addr) >> 24) != 127 && v4.s_addr != INADDR_ANY;
	return inet_pton(AF_INET6, ip, &v6) == 1 && !IN6_IS_ADDR_LOOPBACK(&v6) &&
	       !IN6_IS_ADDR_UNSPECIFIED(&v6) && !IN6_IS_ADDR_V4MAPPED(&v6);
}

/* The server's public addresses: those of --ip (comma-joined), else the listen setting's
 * public ones. -1 after an error (an --ip that is no address). */
static int server_addresses(const struct config *cfg, const char *ip_opt, strlist *out)
{
	char *list = xstrdup(ip_opt != NULL ? ip_opt : config_str(cfg, "listen")), *save = NULL;
	int r = 0;
	for (char *ip = strtok_r(list, ", ", &save); ip != NULL && r == 0; ip = strtok_r(NULL, ", ", &save)) {
		if (ip_opt == NULL && !public_address(ip))
			continue;
		if (!public_address(ip)) {
			cli_error("--ip %s is not a public IPv4 or IPv6 address of this server", ip);
			r = -1;
		} else {
			strlist_add_unique(out, ip);
		}
	}
	free(list);
	return r;
}

/* The records of the domain argument, after checking it is ours. 0, 1 after an error, 2 after
 * a usage error. */
static int build(struct cli *cli, const char *arg, struct dns_records *recs)
{
	char *domain = cli_domain(arg);
	struct store *st = domain != NULL ? cli_store(cli) : NULL;
	strlist addresses;
	strlist_init(&addresses);
	int status = st == NULL || cli_local_domain(st, domain) != 1 ? 1 : 0;
	if (status == 0 && server_addresses(cli->cfg, cli->option_values[0], &addresses) < 0)
		status = 2;
	struct dkim_key_row *keys = NULL;
	size_t key_count = 0;
	char *error = NULL;
	if (status == 0 && store_dkim_list(st, domain, true, &keys, &key_count, &error) < 0)
		status = cli_fail(error);
	if (status == 0) {
		const char *cert = config_path(cli->cfg, "tls.cert");
		char hash[SHA256_HEX_SIZE], *cert_error = NULL, *problem = NULL;
		if (*cert == '\0')
			problem = xstrdup("since no certificate is configured (tls.cert)");
		else if (tls_cert_spki_sha256(cert, hash, &cert_error) < 0)
			problem = xasprintf("since the certificate cannot be read: %s", cert_error);
		dns_records_build(recs, cli->cfg, domain, &addresses, keys, key_count,
				  problem == NULL ? hash : NULL, problem);
		free(cert_error);
		free(problem);
	}
	dkim_key_rows_free(keys, key_count);
	strlist_free(&addresses);
	free(domain);
	return status;
}

/* dns records DOMAIN [--ip ADDRESS]... */
static int dns_records(struct cli *cli, int argc, char **argv, unsigned options)
{
	struct dns_records recs = { 0 };
	int status = build(cli, argv[0], &recs);
	if (status == 0)
		dns_records_print(&recs, stdout);
	dns_records_free(&recs);
	return status;
}

/* dns check DOMAIN [--ip ADDRESS]... [--resolver IP[:PORT]] */
static int dns_check(struct cli *cli, int argc, char **argv, unsigned options)
{
	const char *resolver = cli->option_values[1];
	struct dns_records recs = { 0 };
	int status = build(cli, argv[0], &recs);
	if (resolver == NULL && status == 0)
		resolver = config_str(cli->cfg, "dns.resolvers");
	if (status == 0)
		status = dns_check_records(&recs, resolver, stdout);
	dns_records_free(&recs);
	return status;
}

static const struct cli_subcommand dns_commands[] = {
	{ "records", "DOMAIN [--ip ADDRESS]...", 1, 1, "--ip=,", dns_records },
	{ "check", "DOMAIN [--ip ADDRESS]... [--resolver IP[:PORT]]", 1, 1, "--ip=, --resolver=", dns_check },
};

int cmd_dns(struct cli *cli, int argc, char **argv)
{
	return cli_run_subcommand(cli, argc, argv, dns_commands,
				  sizeof(dns_commands) / sizeof(dns_commands[0]));
}

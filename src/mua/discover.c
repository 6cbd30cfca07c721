/* Server discovery; see discover.h. */
#include "mua/discover.h"
#include "core/xalloc.h"
#include <ares.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

struct srv_result {
	bool done;
	char *host;
	int port;
};

/* The record to use: lowest priority, then highest weight. A target of "." says the
 * service is not offered (RFC 2782). */
static void on_srv(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct srv_result *res = arg;
	res->done = true;
	struct ares_srv_reply *srv = NULL;
	if (status != ARES_SUCCESS || ares_parse_srv_reply(abuf, alen, &srv) != ARES_SUCCESS)
		return;
	struct ares_srv_reply *best = NULL;
	for (struct ares_srv_reply *r = srv; r != NULL; r = r->next)
		if (best == NULL || r->priority < best->priority ||
		    (r->priority == best->priority && r->weight > best->weight))
			best = r;
	if (best != NULL && best->host[0] != '\0' && strcmp(best->host, ".") != 0) {
		res->host = xstrdup(best->host);
		res->port = best->port;
	}
	ares_free_data(srv);
}

static void wait_for(ares_channel ch, const struct srv_result *res)
{
	while (!res->done) {
		fd_set rd, wr;
		FD_ZERO(&rd);
		FD_ZERO(&wr);
		int nfds = ares_fds(ch, &rd, &wr);
		if (nfds == 0)
			break;
		struct timeval tv, *tvp = ares_timeout(ch, NULL, &tv);
		select(nfds, &rd, &wr, NULL, tvp);
		ares_process(ch, &rd, &wr);
	}
}

static bool resolvable(const char *host)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return false;
	freeaddrinfo(res);
	return true;
}

int discover(const char *domain, enum discover_service service, const char *resolvers,
	     char **host_r, int *port_r, bool *implicit_tls_r, char **error_r)
{
	static const char *const srv_names[2][2] = { { "_imaps._tcp", "_imap._tcp" },
						     { "_submissions._tcp", "_submission._tcp" } };
	static const char *const common[2][2] = { { "imap", "mail" }, { "smtp", "mail" } };
	static const int common_port[2] = { 993, 465 };
	ares_library_init(ARES_LIB_INIT_ALL);
	ares_channel ch;
	struct ares_options opts = { .timeout = 3000, .tries = 2 };
	if (ares_init_options(&ch, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES) != ARES_SUCCESS) {
		*error_r = xstrdup("cannot start the DNS resolver");
		return -1;
	}
	if (resolvers != NULL && resolvers[0] != '\0' && ares_set_servers_ports_csv(ch, resolvers) != ARES_SUCCESS) {
		ares_destroy(ch);
		*error_r = xasprintf("resolvers \"%s\" are not ip[:port],...", resolvers);
		return -1;
	}
	int found = -1;
	for (int i = 0; i < 2 && found < 0; i++) {
		char *name = xasprintf("%s.%s", srv_names[service][i], domain);
		struct srv_result res = { 0 };
		ares_query(ch, name, ns_c_in, ns_t_srv, on_srv, &res);
		wait_for(ch, &res);
		free(name);
		if (res.host != NULL) {
			*host_r = res.host;
			*port_r = res.port;
			*implicit_tls_r = i == 0;
			found = 0;
		}
	}
	ares_destroy(ch);
	for (int i = 0; i < 2 && found < 0; i++) {
		char *host = xasprintf("%s.%s", common[service][i], domain);
		if (resolvable(host)) {
			*host_r = host;
			*port_r = common_port[service];
			*implicit_tls_r = true;
			found = 0;
		} else {
			free(host);
		}
	}
	if (found < 0)
		*error_r = xasprintf("cannot find the %s server of %s (no SRV records, no %s.%s): set "
				     "ESTAFETA_MAIL_%s=host:port", service == DISCOVER_IMAP ? "IMAP" : "SMTP",
				     domain, common[service][0], domain, service == DISCOVER_IMAP ? "IMAP" : "SMTP");
	return found;
}

/* ETRN (RFC 1985): a client asks us to start delivering the mail queued for its domain now
 * rather than at the next retry. The pending recipients are made due in the store; the queue
 * runner, which polls the store every second, sends them. */
#include "smtp/smtp.h"
#include "mail/address.h"
#include "core/log.h"
#include <stdlib.h>
#include <string.h>

/* etrn = "ETRN" SP node-name CRLF
 * node-name = [ "@" ] Domain / "#" queue-name
 * "@domain" also releases the mail of its subdomains (RFC 1985 5). Named queues ("#") are
 * not ours to offer: 458. */
void cmd_etrn(struct smtp_session *s, const char *arg, size_t len)
{
	if (len == 0) {
		smtp_reply(s, "501 5.5.4 Syntax: ETRN [@]domain");
		return;
	}
	if (arg[0] == '#') {
		smtp_reply(s, "458 4.5.1 Unable to queue messages for node %.*s", (int)len, arg);
		return;
	}
	bool subdomains = arg[0] == '@';
	const char *d = arg + subdomains;
	size_t dlen = len - subdomains;
	if (dlen == 0 || dlen > ADDRESS_MAX_DOMAIN || !address_domain_valid(d, dlen, false)) {
		smtp_reply(s, "501 5.5.4 Syntax Error in Parameters");
		return;
	}
	char domain[ADDRESS_MAX_DOMAIN + 1];
	memcpy(domain, d, dlen);
	domain[dlen] = '\0';
	char *error = NULL;
	int n = store_queue_flush(s->server->store, NULL, domain, subdomains, &error);
	if (n < 0) {
		log_error("session=%s smtp etrn node=%s failed: %s", conn_id(s->conn), domain, error);
		free(error);
		smtp_reply(s, "458 4.3.0 Unable to queue messages for node %s", domain);
		return;
	}
	log_info("session=%s smtp etrn node=%s%s recipients=%d", conn_id(s->conn),
		 subdomains ? "@" : "", domain, n);
	if (n == 0)
		smtp_reply(s, "251 2.0.0 OK, no messages waiting for node %s", domain);
	else
		smtp_reply(s, "250 2.0.0 OK, queuing for node %s started", domain);
}

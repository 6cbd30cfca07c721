/* ETRN (RFC 1985): a client asks us to start delivering the mail queued for its domain now
 * rather than at the next retry. Only for the domains smtp.etrn_domains names (those we hold
 * mail for, as a backup MX), at most smtp.etrn_max_per_ip requests per client address in each
 * smtp.etrn_window. The pending recipients are made due in the store by a worker (its commit
 * may wait for the write lock, which the loop must never do); the queue runner, which polls
 * the store every second, sends them. The answer is the same whether mail is waiting or not,
 * so ETRN tells no one what is queued. */
#include "smtp/smtp.h"
#include "mail/address.h"
#include "core/log.h"
#include "core/netaddr.h"
#include "core/xalloc.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct etrn_job {
	struct smtp_session *s;
	char *data_dir;
	char domain[ADDRESS_MAX_DOMAIN + 1];
	bool subdomains;
	int made_due;           /* recipients made due, or -1 */
	char *error;
};

/* True when domain is one in the comma-separated list, or a subdomain of one. */
static bool domain_listed(const char *list, const char *domain)
{
	size_t dlen = strlen(domain);
	for (const char *p = list; *p != '\0';) {
		p += strspn(p, ", \t");
		size_t n = strcspn(p, ", \t");
		if (n > 0 && n <= dlen && strncasecmp(domain + dlen - n, p, n) == 0 &&
		    (n == dlen || domain[dlen - n - 1] == '.'))
			return true;
		p += n;
	}
	return false;
}

/* Clients one window counts at most, so its table stays small whatever addresses they come
 * from; a new client past it is refused as one past its limit. */
#define ETRN_MAX_CLIENTS 10000

/* Counts the request; true when the client is past its limit for this window. A client is
 * its address group (an IPv6 client its /64, core/netaddr.h). Windows are fixed and shared:
 * at the start of each one every client's count starts again. */
static bool etrn_limited(struct smtp_server *srv, const char *ip)
{
	time_t now = time(NULL);
	if (now - srv->etrn_window_start >= srv->etrn_window) {
		ip_counts_free(&srv->etrn_requests);
		srv->etrn_requests = ip_counts_new();
		srv->etrn_window_start = now;
	}
	char group[NETADDR_GROUP_MAX];
	const char *client = netaddr_group(ip, group) ? group : ip;
	if (ip_counts_get(srv->etrn_requests, client) == 0 &&
	    ip_counts_size(srv->etrn_requests) >= ETRN_MAX_CLIENTS)
		return true;
	return ip_counts_add(srv->etrn_requests, client) > srv->etrn_max_per_ip;
}

/* On a worker: a store connection of its own, as one belongs to one thread. */
static void etrn_run(void *arg)
{
	struct etrn_job *job = arg;
	struct store *st = store_open(job->data_dir, &job->error);
	job->made_due = st != NULL ? store_queue_flush(st, NULL, job->domain, job->subdomains,
							&job->error)
				   : -1;
	store_close(&st);
}

static void etrn_done(void *arg)
{
	struct etrn_job *job = arg;
	struct smtp_session *s = job->s;
	if (!s->gone) {
		s->state = SMTP_STATE_READY;
		if (job->made_due < 0) {
			log_error("session=%s smtp etrn node=%s failed: %s", conn_id(s->conn),
				  job->domain, job->error);
			smtp_reply(s, "458 4.3.0 Unable to queue messages for node %s", job->domain);
		} else {
			log_info("session=%s smtp etrn node=%s%s recipients=%d", conn_id(s->conn),
				 job->subdomains ? "@" : "", job->domain, job->made_due);
			/* never 251 ("no messages waiting"): that would tell what is queued */
			smtp_reply(s, "250 2.0.0 OK, queuing for node %s started", job->domain);
		}
	}
	free(job->data_dir);
	free(job->error);
	free(job);
	smtp_session_resume(s);
}

/* etrn = "ETRN" SP node-name CRLF
 * node-name = [ "@" ] Domain / "#" queue-name
 * "@domain" also releases the mail of its subdomains (RFC 1985 5.3). Named queues ("#") are
 * not ours to offer: 458. Every request counts toward the client's limit, refused ones too,
 * so that asking which nodes are allowed is limited as well. */
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
	struct etrn_job *job = xcalloc(1, sizeof(*job));
	memcpy(job->domain, d, dlen);
	job->subdomains = subdomains;
	const char *ip = conn_peer_ip(s->conn);
	if (etrn_limited(s->server, ip)) {
		log_info("session=%s smtp etrn refused node=%s ip=%s reason=rate", conn_id(s->conn),
			 job->domain, ip);
		smtp_reply(s, "458 4.7.0 Unable to queue messages for node %s: too many ETRN "
			   "requests, try again later", job->domain);
		free(job);
		return;
	}
	if (!domain_listed(s->server->etrn_domains, job->domain)) {
		log_info("session=%s smtp etrn refused node=%s ip=%s reason=not-ours", conn_id(s->conn),
			 job->domain, ip);
		smtp_reply(s, "459 4.7.1 Node %s not allowed: not a domain this server holds mail for",
			   job->domain);
		free(job);
		return;
	}
	job->s = s;
	job->data_dir = xstrdup(store_data_dir(s->server->store));
	s->state = SMTP_STATE_BUSY;
	conn_pause(s->conn);
	workq_submit(s->server->workq, etrn_run, etrn_done, job);
}

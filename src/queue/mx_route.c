/* MX routing; see mx_route.h. A route is two steps: the MX query, then A and AAAA of every MX
 * host at once; the route is answered when the last of those lookups ends. */
#include "queue/mx_route.h"
#include "core/xalloc.h"
#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct mx_host {
	char name[256];
	unsigned short pref;
	unsigned rank;             /* random, orders hosts of equal preference */
	struct ares_addrinfo *addrs;
	enum dns_status status;    /* of its address lookup */
	struct route *route;
};

struct route {
	struct dns *dns;
	char domain[256];
	int port;
	dns_route_fn *cb;
	void *arg;
	struct mx_host *hosts;
	size_t host_count;
	size_t waiting;            /* address lookups still out */
};

static void route_free(struct route *rt)
{
	for (size_t i = 0; i < rt->host_count; i++)
		if (rt->hosts[i].addrs != NULL)
			ares_freeaddrinfo(rt->hosts[i].addrs);
	free(rt->hosts);
	free(rt);
}

static void route_answer(struct route *rt, enum dns_status status, const char *error)
{
	struct dns_target *targets = NULL;
	size_t n = 0;
	if (status == DNS_OK) {
		for (size_t i = 0; i < rt->host_count; i++) {
			if (rt->hosts[i].addrs == NULL)
				continue;
			for (struct ares_addrinfo_node *a = rt->hosts[i].addrs->nodes; a != NULL; a = a->ai_next) {
				if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) ||
				    a->ai_addrlen > sizeof(targets[0].addr))
					continue;
				targets = xrealloc(targets, (n + 1) * sizeof(*targets));
				struct dns_target *t = &targets[n++];
				memset(t, 0, sizeof(*t));
				memcpy(&t->addr, a->ai_addr, a->ai_addrlen);
				t->addr_len = a->ai_addrlen;
				if (a->ai_family == AF_INET)
					((struct sockaddr_in *)&t->addr)->sin_port = htons((uint16_t)rt->port);
				else
					((struct sockaddr_in6 *)&t->addr)->sin6_port = htons((uint16_t)rt->port);
				snprintf(t->host, sizeof(t->host), "%s", rt->hosts[i].name);
			}
		}
		if (n == 0) {
			status = DNS_TEMPFAIL;
			error = "no address found for any mail exchanger";
		}
	}
	rt->cb(status, targets, n, error, rt->arg);
	free(targets);
	route_free(rt);
}

static void hosts_done(struct route *rt);

static void on_addrinfo(enum dns_status status, struct ares_addrinfo *res, void *arg)
{
	struct mx_host *h = arg;
	h->status = status;
	h->addrs = res;
	hosts_done(h->route);
}

/* One address lookup (or the launching of them all) has ended; the last one answers. */
static void hosts_done(struct route *rt)
{
	if (--rt->waiting > 0)
		return;
	/* The implicit MX of a domain that does not exist is a permanent failure. */
	if (rt->host_count == 1 && rt->hosts[0].status == DNS_NO_DOMAIN &&
	    strcasecmp(rt->hosts[0].name, rt->domain) == 0) {
		route_answer(rt, DNS_NO_DOMAIN, "domain not found");
		return;
	}
	route_answer(rt, DNS_OK, NULL);
}

static void lookup_hosts(struct route *rt)
{
	/* One more than the lookups, so an answer given at once cannot end the route before
	 * every lookup has started. */
	rt->waiting = rt->host_count + 1;
	/* The host array does not move from here on: each lookup carries its host. */
	for (size_t i = 0; i < rt->host_count; i++)
		rt->hosts[i].route = rt;
	for (size_t i = 0; i < rt->host_count; i++)
		dns_addresses(rt->dns, rt->hosts[i].name, on_addrinfo, &rt->hosts[i]);
	hosts_done(rt);
}

static int host_cmp(const void *a, const void *b)
{
	const struct mx_host *x = a, *y = b;
	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	return x->rank < y->rank ? -1 : x->rank > y->rank;
}

static void route_implicit(struct route *rt)
{
	rt->hosts = xcalloc(1, sizeof(*rt->hosts));
	rt->host_count = 1;
	snprintf(rt->hosts[0].name, sizeof(rt->hosts[0].name), "%s", rt->domain);
	lookup_hosts(rt);
}

static void on_mx(enum dns_status status, const unsigned char *abuf, int alen, void *arg)
{
	struct route *rt = arg;
	struct ares_mx_reply *mx = NULL;
	int parsed = ARES_SUCCESS;
	if (status == DNS_OK)
		parsed = ares_parse_mx_reply(abuf, alen, &mx);
	if (status == DNS_NO_DATA || parsed == ARES_ENODATA) {
		/* RFC 5321 5.1: no MX records, so the domain itself is the mail exchanger. */
		route_implicit(rt);
		return;
	}
	if (status == DNS_NO_DOMAIN) {
		route_answer(rt, DNS_NO_DOMAIN, "domain not found");
		return;
	}
	if (status != DNS_OK || parsed != ARES_SUCCESS) {
		char error[128];
		snprintf(error, sizeof(error), "MX lookup failed: %s",
			 parsed != ARES_SUCCESS ? ares_strerror(parsed) : "no answer from the DNS");
		route_answer(rt, DNS_TEMPFAIL, error);
		return;
	}
	for (struct ares_mx_reply *m = mx; m != NULL; m = m->next) {
		/* RFC 7505 3: a single MX of "." (c-ares gives it as "") says no mail. */
		if (m->host[0] == '\0' || strcmp(m->host, ".") == 0) {
			if (rt->host_count == 0 && m->next == NULL) {
				ares_free_data(mx);
				route_answer(rt, DNS_NULL_MX, "the domain accepts no mail (null MX, RFC 7505)");
				return;
			}
			continue;
		}
		rt->hosts = xrealloc(rt->hosts, (rt->host_count + 1) * sizeof(*rt->hosts));
		struct mx_host *h = &rt->hosts[rt->host_count++];
		memset(h, 0, sizeof(*h));
		snprintf(h->name, sizeof(h->name), "%s", m->host);
		h->pref = m->priority;
		h->rank = arc4random();
	}
	ares_free_data(mx);
	if (rt->host_count == 0) {
		route_answer(rt, DNS_TEMPFAIL, "MX records without hosts");
		return;
	}
	qsort(rt->hosts, rt->host_count, sizeof(*rt->hosts), host_cmp);
	lookup_hosts(rt);
}

void dns_route(struct dns *d, const char *domain, int port, int mx, dns_route_fn *cb, void *arg)
{
	struct route *rt = xcalloc(1, sizeof(*rt));
	rt->dns = d;
	snprintf(rt->domain, sizeof(rt->domain), "%s", domain);
	rt->port = port;
	rt->cb = cb;
	rt->arg = arg;
	if (mx)
		dns_query(d, domain, ns_t_mx, on_mx, rt);
	else
		route_implicit(rt);
}

/* MX routing with c-ares on the libevent loop; see dns.h.
 *
 * c-ares tells through its socket-state callback which sockets to watch; each gets a libevent
 * event that hands readiness back with ares_process_fd, and one timer drives c-ares's own
 * timeouts and retransmissions. A route is two steps: the MX query, then A and AAAA of every
 * MX host at once; the route is answered when the last of those lookups ends. */
#include "queue/dns.h"
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

struct dns_watch {
	ares_socket_t fd;
	struct event *ev;
};

struct dns {
	struct event_base *base;
	ares_channel channel;
	struct event *timer;
	struct dns_watch *watches;
	size_t watch_count;
};

struct mx_host {
	char name[256];
	unsigned short pref;
	unsigned rank;             /* random, orders hosts of equal preference */
	struct ares_addrinfo *addrs;
	int status;                /* of its address lookup */
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

static void dns_schedule(struct dns *d)
{
	struct timeval max = { 1, 0 }, tv;
	struct timeval *t = ares_timeout(d->channel, &max, &tv);
	evtimer_add(d->timer, t);
}

static void on_socket(evutil_socket_t fd, short what, void *arg)
{
	struct dns *d = arg;
	ares_process_fd(d->channel, (what & EV_READ) ? fd : ARES_SOCKET_BAD,
			(what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	dns_schedule(d);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct dns *d = arg;
	ares_process_fd(d->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	dns_schedule(d);
}

/* c-ares opens, changes or closes a socket: watch it as asked. */
static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns *d = data;
	size_t i = 0;
	while (i < d->watch_count && d->watches[i].fd != fd)
		i++;
	if (i < d->watch_count)
		event_free(d->watches[i].ev);
	if (!readable && !writable) {
		if (i < d->watch_count)
			d->watches[i] = d->watches[--d->watch_count];
		return;
	}
	if (i == d->watch_count) {
		d->watches = xrealloc(d->watches, (d->watch_count + 1) * sizeof(*d->watches));
		d->watch_count++;
	}
	d->watches[i].fd = fd;
	d->watches[i].ev = event_new(d->base, fd, (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0) |
					     EV_PERSIST, on_socket, d);
	event_add(d->watches[i].ev, NULL);
}

struct dns *dns_new(struct event_base *base, const char *resolvers, char **error_r)
{
	int r = ares_library_init(ARES_LIB_INIT_ALL);
	if (r != ARES_SUCCESS) {
		*error_r = xasprintf("cannot initialise c-ares: %s", ares_strerror(r));
		return NULL;
	}
	struct dns *d = xcalloc(1, sizeof(*d));
	d->base = base;
	struct ares_options opts = { 0 };
	opts.sock_state_cb = on_sock_state;
	opts.sock_state_cb_data = d;
	/* Mail routing follows the DNS only, never /etc/hosts (RFC 5321 5.1). */
	opts.lookups = (char *)"b";
	opts.timeout = 3000;
	opts.tries = 3;
	r = ares_init_options(&d->channel, &opts,
			      ARES_OPT_SOCK_STATE_CB | ARES_OPT_LOOKUPS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
	if (r == ARES_SUCCESS && *resolvers != '\0') {
		r = ares_set_servers_ports_csv(d->channel, resolvers);
		if (r != ARES_SUCCESS) {
			*error_r = xasprintf("dns.resolvers \"%s\": %s", resolvers, ares_strerror(r));
			ares_destroy(d->channel);
			free(d);
			return NULL;
		}
	}
	if (r != ARES_SUCCESS) {
		*error_r = xasprintf("cannot start the DNS resolver: %s", ares_strerror(r));
		free(d);
		return NULL;
	}
	d->timer = evtimer_new(base, on_timer, d);
	return d;
}

void dns_free(struct dns **dp)
{
	struct dns *d = *dp;
	if (d == NULL)
		return;
	ares_destroy(d->channel); /* runs the callbacks of lookups in progress */
	for (size_t i = 0; i < d->watch_count; i++)
		event_free(d->watches[i].ev);
	free(d->watches);
	event_free(d->timer);
	free(d);
	*dp = NULL;
}

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

static void hosts_done(struct route *rt, bool destroyed);

static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct mx_host *h = arg;
	struct route *rt = h->route;
	h->status = status;
	h->addrs = res;
	hosts_done(rt, status == ARES_EDESTRUCTION);
}

/* One address lookup (or the launching of them all) has ended; the last one answers. */
static void hosts_done(struct route *rt, bool destroyed)
{
	if (--rt->waiting > 0)
		return;
	if (destroyed) {
		route_answer(rt, DNS_TEMPFAIL, "resolver shut down");
		return;
	}
	/* The implicit MX of a domain that does not exist is a permanent failure. */
	if (rt->host_count == 1 && rt->hosts[0].status == ARES_ENOTFOUND &&
	    strcasecmp(rt->hosts[0].name, rt->domain) == 0) {
		route_answer(rt, DNS_NO_DOMAIN, "domain not found");
		return;
	}
	route_answer(rt, DNS_OK, NULL);
}

static void lookup_hosts(struct route *rt)
{
	struct ares_addrinfo_hints hints = { 0 };
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	/* One more than the lookups, so an answer given at once cannot end the route before
	 * every lookup has started. */
	rt->waiting = rt->host_count + 1;
	/* The host array does not move from here on: each lookup carries its host. */
	for (size_t i = 0; i < rt->host_count; i++)
		rt->hosts[i].route = rt;
	for (size_t i = 0; i < rt->host_count; i++)
		ares_getaddrinfo(rt->dns->channel, rt->hosts[i].name, NULL, &hints, on_addrinfo,
				 &rt->hosts[i]);
	struct dns *d = rt->dns;
	hosts_done(rt, false);
	dns_schedule(d);
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

static void on_mx(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct route *rt = arg;
	struct ares_mx_reply *mx = NULL;
	if (status == ARES_SUCCESS)
		status = ares_parse_mx_reply(abuf, alen, &mx);
	if (status == ARES_ENODATA) {
		/* RFC 5321 5.1: no MX records, so the domain itself is the mail exchanger. */
		route_implicit(rt);
		return;
	}
	if (status == ARES_ENOTFOUND) {
		route_answer(rt, DNS_NO_DOMAIN, "domain not found");
		return;
	}
	if (status != ARES_SUCCESS) {
		char error[128];
		snprintf(error, sizeof(error), "MX lookup failed: %s", ares_strerror(status));
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
		ares_query(d->channel, domain, ns_c_in, ns_t_mx, on_mx, rt);
	else
		route_implicit(rt);
	dns_schedule(d);
}

/* The shared resolver: c-ares on the libevent loop; see dns.h.
 *
 * c-ares tells through its socket-state callback which sockets to watch; each gets a libevent
 * event that hands readiness back with ares_process_fd, and one timer drives c-ares's own
 * timeouts and retransmissions. */
#include "core/dns.h"
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

struct query {
	dns_answer_fn *answer;
	dns_txt_fn *txt;
	dns_addrinfo_fn *addrinfo;
	dns_names_fn *names;
	unsigned char addr[16]; /* the PTR query's address, for c-ares's parser */
	int addr_len;
	int family; /* an address query's: AF_INET for A, AF_INET6 for AAAA */
	void *arg;
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
	/* Mail routing and sender checks follow the DNS only, never /etc/hosts (RFC 5321 5.1). */
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

struct event_base *dns_base(struct dns *d)
{
	return d->base;
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

static enum dns_status status_of(int status)
{
	switch (status) {
	case ARES_SUCCESS:
		return DNS_OK;
	case ARES_ENOTFOUND:
		return DNS_NO_DOMAIN;
	case ARES_ENODATA:
		return DNS_NO_DATA;
	default:
		return DNS_TEMPFAIL;
	}
}

static struct query *query_new(void *arg)
{
	struct query *q = xcalloc(1, sizeof(*q));
	q->arg = arg;
	return q;
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct query *q = arg;
	enum dns_status st = status_of(status);
	q->answer(st, st == DNS_OK ? abuf : NULL, st == DNS_OK ? alen : 0, q->arg);
	free(q);
}

void dns_query(struct dns *d, const char *name, int type, dns_answer_fn *cb, void *arg)
{
	struct query *q = query_new(arg);
	q->answer = cb;
	ares_query(d->channel, name, ns_c_in, type, on_answer, q);
	dns_schedule(d);
}

/* The length of the (possibly compressed) name at p, or -1. */
static long name_length(const unsigned char *answer, int len, const unsigned char *p)
{
	char *name = NULL;
	long enclen = 0;
	if (ares_expand_name(p, answer, len, &name, &enclen) != ARES_SUCCESS)
		return -1;
	ares_free_string(name);
	return enclen;
}

bool dns_answer_rdata(const unsigned char *answer, int len, int type, size_t index,
		      const unsigned char **rdata, int *rdlen)
{
	if (len < NS_HFIXEDSZ)
		return false;
	unsigned qdcount = answer[4] << 8 | answer[5], ancount = answer[6] << 8 | answer[7];
	const unsigned char *p = answer + NS_HFIXEDSZ, *end = answer + len;
	for (unsigned i = 0; i < qdcount; i++) {
		long n = name_length(answer, len, p);
		if (n < 0 || end - p < n + NS_QFIXEDSZ)
			return false;
		p += n + NS_QFIXEDSZ;
	}
	for (unsigned i = 0; i < ancount; i++) {
		long n = name_length(answer, len, p);
		if (n < 0 || end - p < n + NS_RRFIXEDSZ)
			return false;
		p += n;
		int rr_type = p[0] << 8 | p[1], size = p[8] << 8 | p[9];
		p += NS_RRFIXEDSZ;
		if (end - p < size)
			return false;
		if (rr_type == type && index-- == 0) {
			*rdata = p;
			*rdlen = size;
			return true;
		}
		p += size;
	}
	return false;
}

static void on_txt(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct query *q = arg;
	struct ares_txt_ext *txt = NULL;
	if (status == ARES_SUCCESS)
		status = ares_parse_txt_reply_ext(abuf, alen, &txt);
	enum dns_status st = status_of(status);
	char **records = NULL;
	size_t count = 0, len = 0;
	for (struct ares_txt_ext *t = txt; t != NULL; t = t->next) {
		if (t->record_start || count == 0) {
			records = xrealloc(records, (count + 1) * sizeof(*records));
			records[count++] = xstrdup("");
			len = 0;
		}
		size_t n = strnlen((const char *)t->txt, t->length);
		records[count - 1] = xrealloc(records[count - 1], len + n + 1);
		memcpy(records[count - 1] + len, t->txt, n);
		len += n;
		records[count - 1][len] = '\0';
	}
	if (txt != NULL)
		ares_free_data(txt);
	q->txt(st, records, count, q->arg);
	for (size_t i = 0; i < count; i++)
		free(records[i]);
	free(records);
	free(q);
}

void dns_query_txt(struct dns *d, const char *name, dns_txt_fn *cb, void *arg)
{
	struct query *q = query_new(arg);
	q->txt = cb;
	ares_query(d->channel, name, ns_c_in, ns_t_txt, on_txt, q);
	dns_schedule(d);
}

static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct query *q = arg;
	q->addrinfo(status_of(status), status == ARES_SUCCESS ? res : NULL, q->arg);
	if (status != ARES_SUCCESS && res != NULL)
		ares_freeaddrinfo(res);
	free(q);
}

void dns_addresses(struct dns *d, const char *host, dns_addrinfo_fn *cb, void *arg)
{
	struct query *q = query_new(arg);
	q->addrinfo = cb;
	struct ares_addrinfo_hints hints = { 0 };
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	ares_getaddrinfo(d->channel, host, NULL, &hints, on_addrinfo, q);
	dns_schedule(d);
}

int dns_address_octets(const char *ip, unsigned char out[16])
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (inet_pton(AF_INET, ip, out) == 1)
		return 4;
	if (inet_pton(AF_INET6, ip, out) != 1)
		return 0;
	if (memcmp(out, mapped, sizeof(mapped)) != 0)
		return 16;
	memmove(out, out + 12, 4);
	return 4;
}

bool dns_ptr_name(const char *ip, char out[DNS_PTR_NAME_MAX])
{
	unsigned char a[16];
	int n = dns_address_octets(ip, a);
	if (n == 4) {
		snprintf(out, DNS_PTR_NAME_MAX, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
		return true;
	}
	if (n == 0)
		return false;
	static const char hex[] = "0123456789abcdef";
	char *p = out;
	for (int i = 15; i >= 0; i--) {
		*p++ = hex[a[i] & 0xf];
		*p++ = '.';
		*p++ = hex[a[i] >> 4];
		*p++ = '.';
	}
	strcpy(p, "ip6.arpa");
	return true;
}

bool dns_addrinfo_has(const struct ares_addrinfo *res, const char *ip)
{
	unsigned char want[16], have[16];
	char text[INET6_ADDRSTRLEN];
	int n = dns_address_octets(ip, want);
	for (const struct ares_addrinfo_node *a = res != NULL ? res->nodes : NULL; n > 0 && a != NULL;
	     a = a->ai_next) {
		const void *bin = a->ai_family == AF_INET
					  ? (const void *)&((const struct sockaddr_in *)a->ai_addr)->sin_addr
					  : (const void *)&((const struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
		if ((a->ai_family == AF_INET || a->ai_family == AF_INET6) &&
		    inet_ntop(a->ai_family, bin, text, sizeof(text)) != NULL &&
		    dns_address_octets(text, have) == n && memcmp(want, have, (size_t)n) == 0)
			return true;
	}
	return false;
}

static void add_name(char ***names, size_t *count, const char *name)
{
	for (size_t i = 0; i < *count; i++)
		if (strcasecmp((*names)[i], name) == 0)
			return;
	*names = xrealloc(*names, (*count + 1) * sizeof(**names));
	(*names)[(*count)++] = xstrdup(name);
}

/* The names of a query's answer, handed to q->names (DNS_NO_DATA when there are none) and
 * freed. */
static void give_names(struct query *q, enum dns_status st, char **names, size_t count)
{
	if (st == DNS_OK && count == 0)
		st = DNS_NO_DATA;
	q->names(st, names, count, q->arg);
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
	free(q);
}

static void on_ptr(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct query *q = arg;
	struct hostent *host = NULL;
	if (status == ARES_SUCCESS)
		status = ares_parse_ptr_reply(abuf, alen, q->addr, q->addr_len,
					      q->addr_len == 4 ? AF_INET : AF_INET6, &host);
	char **names = NULL;
	size_t count = 0;
	if (host != NULL) {
		/* c-ares gives one PTR name as h_name and every one among the aliases */
		add_name(&names, &count, host->h_name);
		for (char **a = host->h_aliases; a != NULL && *a != NULL; a++)
			add_name(&names, &count, *a);
		ares_free_hostent(host);
	}
	give_names(q, status_of(status), names, count);
}

void dns_query_ptr(struct dns *d, const char *ip, dns_names_fn *cb, void *arg)
{
	char name[DNS_PTR_NAME_MAX];
	if (!dns_ptr_name(ip, name)) {
		cb(DNS_NO_DOMAIN, NULL, 0, arg);
		return;
	}
	struct query *q = query_new(arg);
	q->names = cb;
	q->addr_len = dns_address_octets(ip, q->addr);
	ares_query(d->channel, name, ns_c_in, ns_t_ptr, on_ptr, q);
	dns_schedule(d);
}

static void on_addrs(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct query *q = arg;
	struct ares_addrttl v4[32];
	struct ares_addr6ttl v6[32];
	int n = 32;
	if (status == ARES_SUCCESS)
		status = q->family == AF_INET ? ares_parse_a_reply(abuf, alen, NULL, v4, &n)
						: ares_parse_aaaa_reply(abuf, alen, NULL, v6, &n);
	char **names = NULL;
	size_t count = 0;
	char text[INET6_ADDRSTRLEN];
	for (int i = 0; status == ARES_SUCCESS && i < n; i++) {
		const void *bin = q->family == AF_INET ? (const void *)&v4[i].ipaddr : (const void *)&v6[i].ip6addr;
		if (inet_ntop(q->family, bin, text, sizeof(text)) != NULL)
			add_name(&names, &count, text);
	}
	give_names(q, status_of(status), names, count);
}

void dns_query_addrs(struct dns *d, const char *name, int family, dns_names_fn *cb, void *arg)
{
	struct query *q = query_new(arg);
	q->names = cb;
	q->family = family;
	ares_query(d->channel, name, ns_c_in, family == AF_INET ? ns_t_a : ns_t_aaaa, on_addrs, q);
	dns_schedule(d);
}

static void on_mx_names(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct query *q = arg;
	struct ares_mx_reply *mx = NULL;
	if (status == ARES_SUCCESS)
		status = ares_parse_mx_reply(abuf, alen, &mx);
	char **names = NULL;
	size_t count = 0;
	bool null_mx = false;
	for (struct ares_mx_reply *m = mx; m != NULL; m = m->next) {
		if (m->host[0] == '\0' || strcmp(m->host, ".") == 0)
			null_mx = true;
		else
			add_name(&names, &count, m->host);
	}
	if (mx != NULL)
		ares_free_data(mx);
	enum dns_status st = status_of(status);
	give_names(q, st == DNS_OK && count == 0 && null_mx ? DNS_NULL_MX : st, names, count);
}

void dns_query_mx_names(struct dns *d, const char *name, dns_names_fn *cb, void *arg)
{
	struct query *q = query_new(arg);
	q->names = cb;
	ares_query(d->channel, name, ns_c_in, ns_t_mx, on_mx_names, q);
	dns_schedule(d);
}


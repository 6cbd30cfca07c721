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

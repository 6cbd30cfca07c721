/* The client's DNS checks; see client_dns.h.
 *
 * Every lookup holds the check (pending counts them), so a session that ends before the
 * answers come frees only its side; the last answer frees the rest. */
#include "smtp/client_dns.h"
#include "core/xalloc.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum iprev_state { IPREV_WAITING, IPREV_PASS, IPREV_FAIL, IPREV_TEMPERROR, IPREV_PERMERROR };
enum helo_state { HELO_NONE, HELO_WAITING, HELO_MATCHES, HELO_ELSEWHERE, HELO_NO_ADDRESS, HELO_TEMPFAIL };

struct client_dns {
	struct dns *dns;          /* the forward lookups of iprev go where the PTR query went */
	char *ip;
	unsigned pending;         /* lookups out */
	bool freed;               /* the session is done with it */
	enum iprev_state iprev;
	unsigned forward_left;    /* forward lookups of PTR names still out */
	bool forward_tempfail;
	char *name;               /* the PTR name that led back to ip */
	char *helo;
	unsigned helo_generation; /* answers for an older HELO are dropped */
	enum helo_state helo_state;
	struct event *timer;
	void (*done)(void *arg);
	void *done_arg;
};

/* One lookup's context: the check, and what the answer is about. */
struct lookup {
	struct client_dns *c;
	char *name;               /* the PTR name whose addresses are asked for */
	unsigned helo_generation;
};

static bool answered(const struct client_dns *c)
{
	return c->iprev != IPREV_WAITING && c->helo_state != HELO_WAITING;
}

static void finish_wait(struct client_dns *c)
{
	void (*done)(void *) = c->done;
	c->done = NULL;
	evtimer_del(c->timer);
	if (done != NULL)
		done(c->done_arg);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	finish_wait(arg);
}

static void client_dns_destroy(struct client_dns *c)
{
	event_free(c->timer);
	free(c->ip);
	free(c->name);
	free(c->helo);
	free(c);
}

static struct lookup *lookup_new(struct client_dns *c)
{
	struct lookup *l = xcalloc(1, sizeof(*l));
	l->c = c;
	c->pending++;
	return l;
}

/* An answer has been taken in: the wait may be over, or the check no longer needed. */
static void lookup_end(struct lookup *l)
{
	struct client_dns *c = l->c;
	free(l->name);
	free(l);
	c->pending--;
	if (c->freed) {
		if (c->pending == 0)
			client_dns_destroy(c);
		return;
	}
	if (c->done != NULL && answered(c))
		finish_wait(c);
}

/* RFC 8601 2.7.3: a name whose forward lookup finds the address passes; when none does,
 * a DNS error in any of them leaves the question open (temperror), else it fails. */
static void on_forward(enum dns_status status, struct ares_addrinfo *res, void *arg)
{
	struct lookup *l = arg;
	struct client_dns *c = l->c;
	if (!c->freed && c->iprev == IPREV_WAITING) {
		if (status == DNS_OK && dns_addrinfo_has(res, c->ip)) {
			c->iprev = IPREV_PASS;
			c->name = l->name;
			l->name = NULL;
		} else {
			c->forward_tempfail |= status == DNS_TEMPFAIL;
			if (--c->forward_left == 0)
				c->iprev = c->forward_tempfail ? IPREV_TEMPERROR : IPREV_FAIL;
		}
	}
	if (res != NULL)
		ares_freeaddrinfo(res);
	lookup_end(l);
}

/* No PTR record at all is permerror (RFC 8601 2.7.3); each name found, up to the bound, gets
 * its A and AAAA lookup. */
static void on_ptr(enum dns_status status, char *const *names, size_t count, void *arg)
{
	struct lookup *l = arg;
	struct client_dns *c = l->c;
	if (!c->freed && c->iprev == IPREV_WAITING) {
		if (status == DNS_OK) {
			size_t n = count < CLIENT_DNS_MAX_NAMES ? count : CLIENT_DNS_MAX_NAMES;
			c->forward_left = (unsigned)n;
			for (size_t i = 0; i < n; i++) {
				struct lookup *f = lookup_new(c);
				f->name = xstrdup(names[i]);
				dns_addresses(c->dns, names[i], on_forward, f);
			}
		} else {
			c->iprev = status == DNS_TEMPFAIL ? IPREV_TEMPERROR : IPREV_PERMERROR;
		}
	}
	lookup_end(l);
}

struct client_dns *client_dns_start(struct dns *d, struct event_base *base, const char *ip)
{
	struct client_dns *c = xcalloc(1, sizeof(*c));
	c->dns = d;
	c->ip = xstrdup(ip);
	c->timer = evtimer_new(base, on_timeout, c);
	dns_query_ptr(d, ip, on_ptr, lookup_new(c));
	return c;
}

static void on_helo(enum dns_status status, struct ares_addrinfo *res, void *arg)
{
	struct lookup *l = arg;
	struct client_dns *c = l->c;
	if (!c->freed && l->helo_generation == c->helo_generation && c->helo_state == HELO_WAITING) {
		if (status == DNS_OK)
			c->helo_state = dns_addrinfo_has(res, c->ip) ? HELO_MATCHES : HELO_ELSEWHERE;
		else
			c->helo_state = status == DNS_TEMPFAIL ? HELO_TEMPFAIL : HELO_NO_ADDRESS;
	}
	if (res != NULL)
		ares_freeaddrinfo(res);
	lookup_end(l);
}

void client_dns_helo(struct client_dns *c, struct dns *d, const char *helo)
{
	if (c->helo != NULL && strcasecmp(c->helo, helo) == 0)
		return; /* the same name again (EHLO after STARTTLS): its answer stands */
	free(c->helo);
	c->helo = xstrdup(helo);
	c->helo_generation++;
	c->helo_state = HELO_WAITING;
	/* An address literal (RFC 5321 4.1.3) is compared as it is: c-ares answers numeric
	 * hosts without asking the DNS. */
	size_t len = strlen(helo);
	char *host = helo[0] == '[' && len > 2 && helo[len - 1] == ']' ? xstrndup(helo + 1, len - 2)
								      : xstrdup(helo);
	const char *h = strncasecmp(host, "IPv6:", 5) == 0 ? host + 5 : host;
	struct lookup *l = lookup_new(c);
	l->helo_generation = c->helo_generation;
	dns_addresses(d, h, on_helo, l);
	free(host);
}

void client_dns_wait(struct client_dns *c, int timeout_ms, void (*done)(void *arg), void *arg)
{
	c->done = done;
	c->done_arg = arg;
	if (answered(c)) {
		finish_wait(c);
		return;
	}
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	evtimer_add(c->timer, &tv);
}

void client_dns_result(struct client_dns *c, struct authres_result *r, buf *comment)
{
	static const char *const results[] = { "temperror", "pass", "fail", "temperror", "permerror" };
	*r = (struct authres_result){ .method = "iprev", .result = results[c->iprev],
				      .props = { { "policy", "iprev", c->ip } }, .prop_count = 1 };
	switch (c->iprev) {
	case IPREV_PASS:
		buf_puts(comment, c->name);
		break;
	case IPREV_FAIL:
		buf_puts(comment, "no PTR name leads back to the address");
		break;
	case IPREV_PERMERROR:
		buf_puts(comment, "no PTR record");
		break;
	default:
		buf_puts(comment, c->iprev == IPREV_WAITING ? "no DNS answer in time" : "DNS error");
	}
	if (c->helo != NULL) {
		static const char *const helo_says[] = {
			"", "unresolved: no DNS answer in time", "resolves to the client",
			"resolves, not to the client", "does not resolve", "unresolved: DNS error",
		};
		buf_printf(comment, "; helo %s %s", c->helo, helo_says[c->helo_state]);
	}
	r->comment = comment->data;
}

void client_dns_free(struct client_dns **cp)
{
	struct client_dns *c = *cp;
	if (c == NULL)
		return;
	*cp = NULL;
	c->done = NULL;
	evtimer_del(c->timer);
	c->freed = true;
	if (c->pending == 0)
		client_dns_destroy(c);
}

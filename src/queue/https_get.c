/* One HTTPS GET: resolve, connect, TLS with the host's name checked, request, read to the
 * end, parse. */
#include "queue/https_get.h"
#include "core/buf.h"
#include "core/conn.h"
#include "core/xalloc.h"
#include "http/http_response.h"
#include <stdlib.h>
#include <string.h>

/* Room for the status line and header fields beside the body. */
#define HEADER_ROOM 16384

struct https_get {
	struct event_base *base;
	SSL_CTX *tls;
	char *host, *path;
	int port, timeout;
	size_t max_body;
	https_get_fn *done;
	void *arg;
	bool resolving;       /* the address lookup is out: it frees a cancelled fetch */
	bool cancelled;
	bool ending;          /* end_ev is on its way */
	struct conn *conn;
	buf in;
	struct event *end_ev;   /* the end is reported from the loop, never in a conn callback */
	char *error;            /* what failed, for end_ev; NULL: parse what came */
};

static void get_free(struct https_get *g)
{
	conn_free(&g->conn);
	event_free(g->end_ev);
	buf_free(&g->in);
	free(g->host);
	free(g->path);
	free(g->error);
	free(g);
}

/* Ends the fetch with what came; done runs last, the fetch gone. */
static void finish(struct https_get *g, const char *error)
{
	struct http_response r;
	int parsed = error == NULL ? http_response_parse(g->in.data, g->in.len, g->max_body, &r) : -1;
	https_get_fn *done = g->done;
	void *arg = g->arg;
	if (parsed == 1) {
		get_free(g);
		done(r.status, r.content_type.data, r.body.data, r.body.len, NULL, arg);
		http_response_free(&r);
		return;
	}
	char *what = xstrdup(error != NULL ? error
			     : parsed == 0 ? "the answer was cut short"
					   : "the answer is no HTTP response, or too large");
	get_free(g);
	done(0, "", NULL, 0, what, arg);
	free(what);
}

static void on_end(evutil_socket_t fd, short what, void *arg)
{
	struct https_get *g = arg;
	finish(g, g->error);
}

/* Ends the fetch from the loop: with error, or (NULL) with what came. The first end counts. */
static void end_later(struct https_get *g, const char *error)
{
	if (g->ending)
		return;
	g->ending = true;
	g->error = error != NULL ? xstrdup(error) : NULL;
	if (g->conn != NULL)
		conn_pause(g->conn);
	event_active(g->end_ev, 0, 0);
}

static void on_input(struct conn *c, void *ctx)
{
	struct https_get *g = ctx;
	struct evbuffer *in = conn_input(c);
	size_t n = evbuffer_get_length(in);
	if (g->in.len + n > g->max_body + HEADER_ROOM) {
		evbuffer_drain(in, n);
		end_later(g, "the answer is too large");
		return;
	}
	buf_reserve(&g->in, n);
	evbuffer_remove(in, g->in.data + g->in.len, n);
	g->in.len += n;
	g->in.data[g->in.len] = '\0';
}

static void on_timeout(struct conn *c, void *ctx)
{
	end_later(ctx, "no answer in time");
}

static void on_close(struct conn *c, void *ctx)
{
	struct https_get *g = ctx;
	if (g->in.len > 0) {
		end_later(g, NULL);
		return;
	}
	const char *why = conn_tls_verify_error(c);
	char *error = xasprintf("no answer from %s:%d%s%s", g->host, g->port,
				why != NULL ? ": certificate " : " (refused, or the TLS handshake failed)",
				why != NULL ? why : "");
	end_later(g, error);
	free(error);
}

static const struct conn_handler handler = { on_input, on_timeout, on_close, NULL };

static void on_address(enum dns_status status, struct ares_addrinfo *res, void *arg)
{
	struct https_get *g = arg;
	g->resolving = false;
	if (g->cancelled) {
		if (res != NULL)
			ares_freeaddrinfo(res);
		get_free(g);
		return;
	}
	if (status != DNS_OK || res->nodes == NULL) {
		if (res != NULL)
			ares_freeaddrinfo(res);
		char *error = xasprintf("%s has no address", g->host);
		end_later(g, error);
		free(error);
		return;
	}
	struct sockaddr_storage ss;
	socklen_t len = (socklen_t)res->nodes->ai_addrlen;
	memcpy(&ss, res->nodes->ai_addr, len);
	ares_freeaddrinfo(res);
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)g->port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)g->port);
	g->conn = conn_connect(g->base, (struct sockaddr *)&ss, len, g->timeout, &handler, g);
	conn_set_deadline(g->conn, g->timeout);
	if (conn_start_tls_client(g->conn, g->tls, g->host) < 0) {
		end_later(g, "cannot start TLS");
		return;
	}
	/* RFC 8461 3.3: no HTTP caching; Connection: close delimits the answer. */
	conn_printf(g->conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: estafeta\r\n"
			     "Accept: text/plain\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n",
		    g->path, g->host);
}

struct https_get *https_get_start(struct event_base *base, struct dns *d, SSL_CTX *tls,
				  const char *host, int port, const char *path, size_t max_body,
				  int timeout, https_get_fn *done, void *arg)
{
	struct https_get *g = xcalloc(1, sizeof(*g));
	g->base = base;
	g->tls = tls;
	g->host = xstrdup(host);
	g->path = xstrdup(path);
	g->port = port;
	g->timeout = timeout;
	g->max_body = max_body;
	g->done = done;
	g->arg = arg;
	buf_init(&g->in);
	g->end_ev = event_new(base, -1, 0, on_end, g);
	/* Every end goes through end_ev, so done never runs inside this call, even when the
	 * lookup fails at once. */
	g->resolving = true;
	dns_addresses(d, host, on_address, g);
	return g;
}

void https_get_cancel(struct https_get **gp)
{
	struct https_get *g = *gp;
	if (g == NULL)
		return;
	*gp = NULL;
	if (g->resolving) {
		g->cancelled = true;
		return;
	}
	get_free(g);
}

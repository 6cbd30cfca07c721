/* Listening sockets and per-address counts; see listener.h. */
#include "core/listener.h"
#include "core/log.h"
#include "core/xalloc.h"
#include <errno.h>
#include <event2/listener.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How long accepting rests after accept() failed for want of descriptors or memory, and how
 * often at most that is logged while it goes on. */
#define LISTENER_REST_MS 500
#define LISTENER_LOG_INTERVAL 60

struct listener {
	struct evconnlistener *evl;
	listener_accept_fn *accept_fn;
	void *arg;
	char *name;               /* address:port, for the log */
	struct event *rest_ev;    /* accepting again after a rest */
	time_t logged_at;         /* when a failure was last logged */
	unsigned unlogged;        /* failures since */
};

static void on_accept(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct listener *l = arg;
	l->accept_fn(fd, sa, l->arg);
}

/* accept() failed with more than a retriable error: out of descriptors (EMFILE, ENFILE) or
 * memory. The connection stays in the backlog, so the socket stays readable and accepting at
 * once would fail again in a loop: rest a moment instead, and log it once a minute at most
 * while it lasts (it comes and goes as sessions end and new ones take their descriptors). */
static void on_accept_error(struct evconnlistener *evl, void *arg)
{
	struct listener *l = arg;
	int err = errno;
	time_t now = time(NULL);
	if (now - l->logged_at >= LISTENER_LOG_INTERVAL) {
		log_warn("listener=%s accept failed: %s; resting %d ms between tries failures_unlogged=%u",
			 l->name, strerror(err), LISTENER_REST_MS, l->unlogged);
		l->logged_at = now;
		l->unlogged = 0;
	} else {
		l->unlogged++;
	}
	evconnlistener_disable(l->evl);
	struct timeval rest = { 0, LISTENER_REST_MS * 1000 };
	event_add(l->rest_ev, &rest);
}

static void on_rest_over(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;
	evconnlistener_enable(l->evl);
}

struct listener *listener_new(struct event_base *base, const char *addr, int port,
			      listener_accept_fn *accept_fn, void *arg, char **error_r)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (parse_ip_address(addr, port, &ss, &len) < 0) {
		*error_r = xasprintf("listen address \"%s\" is no IPv4 or IPv6 address", addr);
		return NULL;
	}
	struct listener *l = xcalloc(1, sizeof(*l));
	l->accept_fn = accept_fn;
	l->arg = arg;
	l->evl = evconnlistener_new_bind(base, on_accept, l,
					 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
					 511, (struct sockaddr *)&ss, (int)len);
	if (l->evl == NULL) {
		*error_r = xasprintf("cannot listen on %s port %d: %s", addr, port, strerror(errno));
		free(l);
		return NULL;
	}
	evconnlistener_set_error_cb(l->evl, on_accept_error);
	l->rest_ev = evtimer_new(base, on_rest_over, l);
	l->name = xasprintf("%s:%d", addr, port);
	return l;
}

void listener_free(struct listener **lp)
{
	struct listener *l = *lp;
	if (l == NULL)
		return;
	evconnlistener_free(l->evl);
	event_free(l->rest_ev);
	free(l->name);
	free(l);
	*lp = NULL;
}

int listeners_bind(struct event_base *base, const char *service, const char *addresses, int port,
		   listener_accept_fn *accept_fn, void *arg, struct listener ***list,
		   size_t *count, char **error_r)
{
	char *copy = xstrdup(addresses), *save = NULL;
	for (char *addr = strtok_r(copy, ", ", &save); addr != NULL; addr = strtok_r(NULL, ", ", &save)) {
		struct listener *l = listener_new(base, addr, port, accept_fn, arg, error_r);
		if (l == NULL) {
			free(copy);
			return -1;
		}
		*list = xrealloc(*list, (*count + 1) * sizeof(**list));
		(*list)[(*count)++] = l;
		log_info("listening service=%s address=%s port=%d", service, addr, port);
	}
	free(copy);
	return 0;
}

int service_listen(struct event_base *base, const struct config *cfg, const char *service,
		   const char *port_setting, bool implicit_tls, const void *tls,
		   listener_accept_fn *accept_fn, void *arg, struct listener ***list,
		   size_t *count, char **error_r)
{
	int port = (int)config_int(cfg, port_setting);
	if (port == 0)
		return 0;
	/* An implicit-TLS port never speaks plaintext: without a certificate it does not start. */
	if (implicit_tls && tls == NULL) {
		*error_r = xasprintf("%s is %d but no TLS certificate is configured: set tls.cert and "
				     "tls.key, or set %s to 0", port_setting, port, port_setting);
		return -1;
	}
	return listeners_bind(base, service, config_str(cfg, "listen"), port, accept_fn, arg, list,
			      count, error_r);
}

void listeners_free(struct listener ***list, size_t *count)
{
	for (size_t i = 0; i < *count; i++)
		listener_free(&(*list)[i]);
	xfree(list);
	*count = 0;
}

/* Listening sockets and per-address counts; see listener.h. */
#include "core/listener.h"
#include "core/log.h"
#include "core/xalloc.h"
#include <errno.h>
#include <event2/listener.h>
#include <stdlib.h>
#include <string.h>

struct listener {
	struct evconnlistener *evl;
	listener_accept_fn *accept_fn;
	void *arg;
};

static void on_accept(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct listener *l = arg;
	l->accept_fn(fd, sa, l->arg);
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
	return l;
}

void listener_free(struct listener **lp)
{
	struct listener *l = *lp;
	if (l == NULL)
		return;
	evconnlistener_free(l->evl);
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
	if (implicit_tls && tls == NULL) {
		log_warn("service=%s not started: no TLS certificate", service);
		return 0;
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

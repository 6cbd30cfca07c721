/* Starting the POP3 services; see pop3_server.h. */
#include "pop3/pop3_server.h"
#include "pop3/pop3.h"
#include "core/xalloc.h"
#include <stdlib.h>

static void on_accept(int fd, const struct sockaddr *sa, void *arg)
{
	const struct service_port *port = arg;
	pop3_session_start(port->server, port, fd, sa);
}

static const struct {
	const char *name;
	const char *port_setting;
	bool implicit_tls;
} service_defs[2] = {
	{ "pop3", "pop3.port", false },
	{ "pop3s", "pop3s.port", true },
};

void pop3_server_configure(struct pop3_server *srv, const struct config *cfg, SSL_CTX *tls)
{
	service_host_configure(&srv->host, cfg, tls);
	login_env_configure(&srv->login, cfg);
}

struct pop3_server *pop3_server_new(struct event_base *base, const struct config *cfg,
				    SSL_CTX *tls, char **error_r)
{
	struct pop3_server *srv = xcalloc(1, sizeof(*srv));
	service_host_init(&srv->host, "pop3", base, pop3_session_free, pop3_session_refuse);
	pop3_server_configure(srv, cfg, tls);
	for (int i = 0; i < 2; i++) {
		struct service_port *port = &srv->ports[i];
		*port = (struct service_port){ .name = service_defs[i].name,
					.implicit_tls = service_defs[i].implicit_tls, .server = srv };
		if (service_port_listen(&srv->host, port, service_defs[i].port_setting, on_accept,
					error_r) < 0) {
			pop3_server_free(&srv);
			return NULL;
		}
	}
	return srv;
}

void pop3_server_attach(struct pop3_server *srv, struct store *st, struct store_workers *sw,
			struct workq *wq, struct login_limits *login_limits)
{
	srv->store = st;
	srv->store_workers = sw;
	srv->workq = wq;
	login_env_attach(&srv->login, srv->host.base, sw, wq, login_limits);
}

void pop3_server_stop(struct pop3_server *srv)
{
	service_host_stop(&srv->host);
}

void pop3_server_free(struct pop3_server **srvp)
{
	struct pop3_server *srv = *srvp;
	if (srv == NULL)
		return;
	pop3_server_stop(srv);
	service_host_free_sessions(&srv->host);
	login_env_clear(&srv->login);
	free(srv);
	*srvp = NULL;
}

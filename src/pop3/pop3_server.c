/* Starting the POP3 services; see pop3_server.h. */
#include "pop3/pop3_server.h"
#include "pop3/pop3.h"
#include "auth/login.h"
#include "core/xalloc.h"
#include <stdlib.h>

static void on_accept(int fd, const struct sockaddr *sa, void *arg)
{
	struct pop3_service *svc = arg;
	pop3_session_start(svc->server, svc, fd, sa);
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
	srv->cfg = cfg;
	srv->tls = tls;
	srv->hostname = config_hostname(cfg);
	srv->timeout = (int)config_int(cfg, "pop3.timeout");
	srv->max_connections = (int)config_int(cfg, "pop3.max_connections");
	srv->max_connections_per_ip = (int)config_int(cfg, "pop3.max_connections_per_ip");
	srv->plaintext_loopback = config_bool(cfg, "auth.allow_plaintext_loopback");
	srv->auth_failure_delay = (int)config_int(cfg, "auth.failure_delay");
	srv->auth_max_failures = (int)config_int(cfg, "auth.max_failures");
}

struct pop3_server *pop3_server_new(struct event_base *base, const struct config *cfg,
				    SSL_CTX *tls, struct ip_counts *ips, char **error_r)
{
	struct pop3_server *srv = xcalloc(1, sizeof(*srv));
	srv->base = base;
	srv->ips = ips;
	pop3_server_configure(srv, cfg, tls);
	for (int i = 0; i < 2; i++) {
		struct pop3_service *svc = &srv->services[i];
		svc->name = service_defs[i].name;
		svc->implicit_tls = service_defs[i].implicit_tls;
		svc->server = srv;
		if (service_listen(base, cfg, svc->name, service_defs[i].port_setting, svc->implicit_tls,
				   tls, on_accept, svc, &svc->listeners, &svc->listener_count, error_r) < 0) {
			pop3_server_free(&srv);
			return NULL;
		}
	}
	return srv;
}

void pop3_server_attach(struct pop3_server *srv, struct store *st, struct workq *wq)
{
	srv->store = st;
	srv->workq = wq;
	srv->dummy_hash = login_dummy_hash();
	srv->login = (struct login_env){ st, wq, srv->dummy_hash };
}

void pop3_server_stop(struct pop3_server *srv)
{
	srv->stopping = true;
	for (int i = 0; i < 2; i++)
		listeners_free(&srv->services[i].listeners, &srv->services[i].listener_count);
}

void pop3_server_free(struct pop3_server **srvp)
{
	struct pop3_server *srv = *srvp;
	if (srv == NULL)
		return;
	pop3_server_stop(srv);
	pop3_sessions_free_all(srv);
	free(srv->dummy_hash);
	free(srv);
	*srvp = NULL;
}

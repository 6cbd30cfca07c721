/* Starting the IMAP services; see imap_server.h. */
#include "imap/imap_server.h"
#include "imap/imap.h"
#include "auth/login.h"
#include "core/log.h"
#include "core/xalloc.h"
#include <stdlib.h>

static void on_accept(int fd, const struct sockaddr *sa, void *arg)
{
	struct imap_service *svc = arg;
	imap_session_start(svc->server, svc, fd, sa);
}

static const struct {
	const char *name;
	const char *port_setting;
	bool implicit_tls;
} service_defs[2] = {
	{ "imap", "imap.port", false },
	{ "imaps", "imaps.port", true },
};

void imap_server_configure(struct imap_server *srv, const struct config *cfg, SSL_CTX *tls)
{
	srv->cfg = cfg;
	srv->tls = tls;
	srv->hostname = config_hostname(cfg);
	srv->timeout = (int)config_int(cfg, "imap.timeout");
	srv->max_connections = (int)config_int(cfg, "imap.max_connections");
	srv->max_connections_per_ip = (int)config_int(cfg, "imap.max_connections_per_ip");
	srv->plaintext_loopback = config_bool(cfg, "auth.allow_plaintext_loopback");
	srv->auth_failure_delay = (int)config_int(cfg, "auth.failure_delay");
	srv->auth_max_failures = (int)config_int(cfg, "auth.max_failures");
	/* Lines as RFC 7162 3 asks servers to take (8192 octets); literals as big as the largest
	 * message SMTP accepts, since APPEND brings whole messages. */
	uint64_t max_message = (uint64_t)config_int(cfg, "smtp.max_message_size");
	srv->limits = (struct imap_limits){ 8192, max_message, max_message + 65536, 16, 4096 };
}

struct imap_server *imap_server_new(struct event_base *base, const struct config *cfg,
				    SSL_CTX *tls, struct ip_counts *ips, char **error_r)
{
	struct imap_server *srv = xcalloc(1, sizeof(*srv));
	srv->base = base;
	srv->ips = ips;
	imap_server_configure(srv, cfg, tls);
	for (int i = 0; i < 2; i++) {
		struct imap_service *svc = &srv->services[i];
		svc->name = service_defs[i].name;
		svc->implicit_tls = service_defs[i].implicit_tls;
		svc->server = srv;
		int port = (int)config_int(cfg, service_defs[i].port_setting);
		if (port == 0)
			continue;
		if (svc->implicit_tls && tls == NULL) {
			log_warn("imap service=%s not started: no TLS certificate", svc->name);
			continue;
		}
		if (listeners_bind(base, svc->name, config_str(cfg, "listen"), port, on_accept, svc,
				   &svc->listeners, &svc->listener_count, error_r) < 0) {
			imap_server_free(&srv);
			return NULL;
		}
	}
	return srv;
}

void imap_server_attach(struct imap_server *srv, struct store *st, struct workq *wq,
			struct committer *cm)
{
	srv->store = st;
	srv->workq = wq;
	srv->committer = cm;
	srv->dummy_hash = login_dummy_hash();
}

void imap_server_stop(struct imap_server *srv)
{
	srv->stopping = true;
	for (int i = 0; i < 2; i++)
		listeners_free(&srv->services[i].listeners, &srv->services[i].listener_count);
}

void imap_server_free(struct imap_server **srvp)
{
	struct imap_server *srv = *srvp;
	if (srv == NULL)
		return;
	imap_server_stop(srv);
	imap_sessions_free_all(srv);
	free(srv->dummy_hash);
	free(srv);
	*srvp = NULL;
}

/* Starting the SMTP services; see smtp_server.h. */
#include "smtp/smtp_server.h"
#include "smtp/smtp.h"
#include "auth/login.h"
#include "core/log.h"
#include "core/xalloc.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_accept(int fd, const struct sockaddr *sa, void *arg)
{
	struct smtp_service *svc = arg;
	smtp_session_start(svc->server, svc, fd, sa);
}

static const struct {
	const char *name;
	const char *port_setting;
	enum smtp_mode mode;
	bool implicit_tls;
} service_defs[3] = {
	{ "smtp", "smtp.port", SMTP_MODE_RELAY, false },
	{ "submission", "submission.port", SMTP_MODE_SUBMISSION, false },
	{ "submissions", "submissions.port", SMTP_MODE_SUBMISSION, true },
};

void smtp_server_configure(struct smtp_server *srv, const struct config *cfg, SSL_CTX *tls)
{
	srv->cfg = cfg;
	srv->tls = tls;
	srv->hostname = config_hostname(cfg);
	srv->max_message_size = (uint64_t)config_int(cfg, "smtp.max_message_size");
	srv->max_recipients = (size_t)config_int(cfg, "smtp.max_recipients");
	srv->max_line = (size_t)config_int(cfg, "smtp.max_line_length");
	srv->max_header = (size_t)config_int(cfg, "smtp.max_header_size");
	srv->timeout = (int)config_int(cfg, "smtp.timeout");
	srv->max_connections = (int)config_int(cfg, "smtp.max_connections");
	srv->max_connections_per_ip = (int)config_int(cfg, "smtp.max_connections_per_ip");
	srv->expn = config_bool(cfg, "smtp.expn");
	srv->plaintext_loopback = config_bool(cfg, "auth.allow_plaintext_loopback");
	srv->auth_failure_delay = (int)config_int(cfg, "auth.failure_delay");
	srv->auth_max_failures = (int)config_int(cfg, "auth.max_failures");
	srv->recipient_delimiter = config_str(cfg, "delivery.recipient_delimiter");
}

struct smtp_server *smtp_server_new(struct event_base *base, const struct config *cfg,
				    SSL_CTX *tls, struct ip_counts *ips, char **error_r)
{
	struct smtp_server *srv = xcalloc(1, sizeof(*srv));
	srv->base = base;
	srv->ips = ips;
	smtp_server_configure(srv, cfg, tls);
	for (int i = 0; i < 3; i++) {
		struct smtp_service *svc = &srv->services[i];
		svc->name = service_defs[i].name;
		svc->mode = service_defs[i].mode;
		svc->implicit_tls = service_defs[i].implicit_tls;
		svc->server = srv;
		if (service_listen(base, cfg, svc->name, service_defs[i].port_setting, svc->implicit_tls,
				   tls, on_accept, svc, &svc->listeners, &svc->listener_count, error_r) < 0) {
			smtp_server_free(&srv);
			return NULL;
		}
	}
	return srv;
}

void smtp_server_attach(struct smtp_server *srv, struct store *st, struct workq *wq,
			struct committer *cm)
{
	srv->store = st;
	srv->workq = wq;
	srv->committer = cm;
	srv->dummy_hash = login_dummy_hash();
	srv->login = (struct login_env){ st, wq, srv->dummy_hash };
}

void smtp_server_stop(struct smtp_server *srv)
{
	srv->stopping = true;
	for (int i = 0; i < 3; i++)
		listeners_free(&srv->services[i].listeners, &srv->services[i].listener_count);
}

void smtp_server_free(struct smtp_server **srvp)
{
	struct smtp_server *srv = *srvp;
	if (srv == NULL)
		return;
	smtp_server_stop(srv);
	smtp_sessions_free_all(srv);
	free(srv->dummy_hash);
	free(srv);
	*srvp = NULL;
}

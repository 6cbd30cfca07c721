/* Starting the SMTP services; see smtp_server.h. */
#include "smtp/smtp_server.h"
#include "smtp/smtp.h"
#include "auth/password.h"
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
	static char system_name[256];
	srv->cfg = cfg;
	srv->tls = tls;
	srv->hostname = config_str(cfg, "hostname");
	if (*srv->hostname == '\0') {
		if (gethostname(system_name, sizeof(system_name) - 1) < 0)
			strcpy(system_name, "localhost");
		srv->hostname = system_name;
	}
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

static int bind_service(struct smtp_server *srv, struct smtp_service *svc, int port,
			const char *addresses, char **error_r)
{
	char *list = xstrdup(addresses), *save = NULL;
	for (char *addr = strtok_r(list, ", ", &save); addr != NULL; addr = strtok_r(NULL, ", ", &save)) {
		struct listener *l = listener_new(srv->base, addr, port, on_accept, svc, error_r);
		if (l == NULL) {
			free(list);
			return -1;
		}
		svc->listeners = xrealloc(svc->listeners, (svc->listener_count + 1) * sizeof(*svc->listeners));
		svc->listeners[svc->listener_count++] = l;
		log_info("smtp listening service=%s address=%s port=%d", svc->name, addr, port);
	}
	free(list);
	return 0;
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
		int port = (int)config_int(cfg, service_defs[i].port_setting);
		if (port == 0)
			continue;
		if (svc->implicit_tls && tls == NULL) {
			log_warn("smtp service=%s not started: no TLS certificate", svc->name);
			continue;
		}
		if (bind_service(srv, svc, port, config_str(cfg, "listen"), error_r) < 0) {
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
	/* Any valid hash will do; it is only there to spend the same time as a real check. */
	srv->dummy_hash = password_hash("estafeta-no-such-user");
}

void smtp_server_stop(struct smtp_server *srv)
{
	srv->stopping = true;
	for (int i = 0; i < 3; i++) {
		for (size_t j = 0; j < srv->services[i].listener_count; j++)
			listener_free(&srv->services[i].listeners[j]);
		free(srv->services[i].listeners);
		srv->services[i].listeners = NULL;
		srv->services[i].listener_count = 0;
	}
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

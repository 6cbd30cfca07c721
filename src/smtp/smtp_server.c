/* Starting the SMTP services; see smtp_server.h. */
#include "smtp/smtp_server.h"
#include "smtp/smtp.h"
#include "auth/login.h"
#include "core/log.h"
#include "core/xalloc.h"
#include <stdlib.h>
#include <string.h>

static void on_accept(int fd, const struct sockaddr *sa, void *arg)
{
	const struct smtp_service *svc = arg; /* its port comes first */
	smtp_session_start(svc->port.server, svc, fd, sa);
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

/* A resolver for the checks of port 25's clients, made anew when dns.resolvers changes. The
 * old one lives on until the server stops: the checks of messages in flight hold it and may
 * still start lookups on it (DKIM keys, DMARC walks, SPF's includes). */
static void configure_dns(struct smtp_server *srv, const struct config *cfg)
{
	const char *resolvers = config_str(cfg, "dns.resolvers");
	if (srv->dns != NULL && strcmp(resolvers, srv->dns_resolvers) == 0)
		return;
	char *error = NULL;
	struct dns *d = dns_new(srv->host.base, resolvers, &error);
	if (d == NULL) {
		log_warn("smtp client checks keep their resolver: %s", error);
		free(error);
		return;
	}
	if (srv->dns != NULL) {
		srv->retired_dns = xrealloc(srv->retired_dns, (srv->retired_count + 1) * sizeof(*srv->retired_dns));
		srv->retired_dns[srv->retired_count++] = srv->dns;
	}
	srv->dns = d;
	free(srv->dns_resolvers);
	srv->dns_resolvers = xstrdup(resolvers);
}

void smtp_server_configure(struct smtp_server *srv, const struct config *cfg, SSL_CTX *tls)
{
	configure_dns(srv, cfg);
	service_host_configure(&srv->host, cfg, tls);
	login_env_configure(&srv->login, cfg);
	srv->max_message_size = (uint64_t)config_int(cfg, "smtp.max_message_size");
	srv->max_recipients = (size_t)config_int(cfg, "smtp.max_recipients");
	srv->max_line = (size_t)config_int(cfg, "smtp.max_line_length");
	srv->max_header = (size_t)config_int(cfg, "smtp.max_header_size");
	srv->expn = config_bool(cfg, "smtp.expn");
	srv->recipient_delimiter = config_str(cfg, "delivery.recipient_delimiter");
	srv->max_messages_per_hour = config_int(cfg, "submission.max_messages_per_hour");
	srv->max_recipients_per_hour = config_int(cfg, "submission.max_recipients_per_hour");
	srv->allow_foreign_from = config_bool(cfg, "submission.allow_foreign_from");
	srv->authenticated_header = config_bool(cfg, "submission.authenticated_header");
	srv->quota_exclude_trash_junk = config_bool(cfg, "quota.exclude_trash_junk");
	srv->quota_permanent = config_bool(cfg, "quota.permanent_failure");
	srv->etrn_domains = config_str(cfg, "smtp.etrn_domains");
	srv->arc_trusted_sealers = config_str(cfg, "arc.trusted_sealers");
	srv->checks = config_bool(cfg, "smtp.checks");
	const char *enforce = config_str(cfg, "dmarc.enforce");
	srv->dmarc_enforce = strcmp(enforce, "reject") == 0       ? DMARC_ENFORCE_REJECT
			     : strcmp(enforce, "quarantine") == 0 ? DMARC_ENFORCE_QUARANTINE
								  : DMARC_ENFORCE_NONE;
	srv->etrn_max_per_ip = (int)config_int(cfg, "smtp.etrn_max_per_ip");
	srv->etrn_window = (time_t)config_int(cfg, "smtp.etrn_window");
}

struct smtp_server *smtp_server_new(struct event_base *base, const struct config *cfg,
				    SSL_CTX *tls, char **error_r)
{
	struct smtp_server *srv = xcalloc(1, sizeof(*srv));
	service_host_init(&srv->host, "smtp", base, smtp_session_free, smtp_session_refuse);
	srv->etrn_requests = ip_counts_new();
	smtp_server_configure(srv, cfg, tls);
	for (int i = 0; i < 3; i++) {
		struct smtp_service *svc = &srv->services[i];
		svc->port = (struct service_port){ .name = service_defs[i].name,
					.implicit_tls = service_defs[i].implicit_tls, .server = srv };
		svc->mode = service_defs[i].mode;
		if (service_port_listen(&srv->host, &svc->port, service_defs[i].port_setting, on_accept,
					error_r) < 0) {
			smtp_server_free(&srv);
			return NULL;
		}
	}
	return srv;
}

void smtp_server_attach(struct smtp_server *srv, struct store *st, struct store_workers *sw,
			struct workq *wq, struct committer *cm, struct login_limits *login_limits)
{
	srv->store = st;
	srv->store_workers = sw;
	srv->workq = wq;
	srv->committer = cm;
	login_env_attach(&srv->login, srv->host.base, sw, wq, login_limits);
}

void smtp_server_stop(struct smtp_server *srv)
{
	service_host_stop(&srv->host);
}

void smtp_server_free(struct smtp_server **srvp)
{
	struct smtp_server *srv = *srvp;
	if (srv == NULL)
		return;
	smtp_server_stop(srv);
	service_host_free_sessions(&srv->host);
	login_env_clear(&srv->login);
	dns_free(&srv->dns);
	for (size_t i = 0; i < srv->retired_count; i++)
		dns_free(&srv->retired_dns[i]);
	free(srv->retired_dns);
	free(srv->dns_resolvers);
	ip_counts_free(&srv->etrn_requests);
	free(srv);
	*srvp = NULL;
}

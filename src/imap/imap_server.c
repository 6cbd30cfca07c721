/* Starting the IMAP services; see imap_server.h. */
#include "imap/imap_server.h"
#include "imap/imap.h"
#include "auth/login.h"
#include "core/xalloc.h"
#include <stdlib.h>

static void on_accept(int fd, const struct sockaddr *sa, void *arg)
{
	const struct service_port *port = arg;
	imap_session_start(port->server, port, fd, sa);
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
	service_host_configure(&srv->host, cfg, tls);
	login_env_configure(&srv->login, cfg);
	/* Lines as long as imap.max_line_length after login (RFC 7162 4 asks servers to take
	 * 8192 octets at least; clients send more, such as long ID values or UID sets), the
	 * command as long as its line; before login 8192 (or less when the setting is). The
	 * framing takes a line as it arrives, so it never waits whole in the connection's
	 * read-ahead. After login, literals as big as the largest message SMTP accepts, since
	 * APPEND brings whole messages; those over 64 KiB go to a spool file as they arrive
	 * (cmd-append.c), so a command in memory stays under 1 MiB or its line. Before login a
	 * literal is a password or an ID value: a few KiB, as Dovecot's login process takes, so a
	 * client that has not logged in holds little memory. */
	uint64_t max_message = (uint64_t)config_int(cfg, "smtp.max_message_size");
	size_t max_line = (size_t)config_int(cfg, "imap.max_line_length");
	size_t max_command = max_line + 2 > 1024 * 1024 ? max_line + 2 : 1024 * 1024;
	srv->limits = (struct imap_limits){ .max_line = max_line, .max_literal = max_message,
					    .max_command = max_command, .max_depth = 16,
					    .max_args = 4096, .max_inline = 64 * 1024 };
	srv->quota_exclude_trash_junk = config_bool(cfg, "quota.exclude_trash_junk");
	srv->login_limits = (struct imap_limits){ .max_line = max_line < 8192 ? max_line : 8192,
						  .max_literal = 4096, .max_command = 64 * 1024,
						  .max_depth = 16, .max_args = 256, .max_inline = 4096 };
}

struct imap_server *imap_server_new(struct event_base *base, const struct config *cfg,
				    SSL_CTX *tls, char **error_r)
{
	struct imap_server *srv = xcalloc(1, sizeof(*srv));
	service_host_init(&srv->host, "imap", base, imap_session_free, imap_session_refuse);
	imap_server_configure(srv, cfg, tls);
	for (int i = 0; i < 2; i++) {
		struct service_port *port = &srv->ports[i];
		*port = (struct service_port){ .name = service_defs[i].name,
					.implicit_tls = service_defs[i].implicit_tls, .server = srv };
		if (service_port_listen(&srv->host, port, service_defs[i].port_setting, on_accept,
					error_r) < 0) {
			imap_server_free(&srv);
			return NULL;
		}
	}
	return srv;
}

void imap_server_attach(struct imap_server *srv, struct store *st, struct store_workers *sw,
			struct workq *wq, struct committer *cm, struct login_limits *login_limits)
{
	srv->store = st;
	srv->store_workers = sw;
	srv->workq = wq;
	srv->committer = cm;
	login_env_attach(&srv->login, srv->host.base, sw, wq, login_limits);
}

void imap_server_stop(struct imap_server *srv)
{
	service_host_stop(&srv->host);
}

void imap_server_free(struct imap_server **srvp)
{
	struct imap_server *srv = *srvp;
	if (srv == NULL)
		return;
	imap_server_stop(srv);
	service_host_free_sessions(&srv->host);
	login_env_clear(&srv->login);
	free(srv);
	*srvp = NULL;
}

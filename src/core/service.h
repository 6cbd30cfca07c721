/* What a protocol server (SMTP, POP3, IMAP) has that does not depend on its protocol: its
 * listening ports, its open sessions and the connection limits, in total and per client
 * address. The settings are "<protocol>.timeout", "<protocol>.max_connections" and
 * "<protocol>.max_connections_per_ip". A server embeds a struct service_host; each session
 * starts with a struct service_link (its first member, so the host's list leads back to it). */
#ifndef ESTAFETA_SERVICE_H
#define ESTAFETA_SERVICE_H
#include "core/config.h"
#include "core/conn.h"
#include "core/ip_counts.h"
#include "core/listener.h"
#include <openssl/ssl.h>
#include <stdbool.h>

struct service_link {
	struct service_link *prev, *next;
};

/* One listening service of a protocol: "pop3" on port 110, "pop3s" with implicit TLS. */
struct service_port {
	const char *name;
	bool implicit_tls;
	void *server;               /* the protocol's server, for its accept function */
	struct listener **listeners;
	size_t listener_count;
};

#define SERVICE_PORTS_MAX 4

struct service_host {
	const char *protocol;       /* "smtp", "pop3", "imap": setting prefix and log word */
	struct event_base *base;
	const struct config *cfg;
	const char *hostname;
	SSL_CTX *tls;               /* NULL only when TLS is off (tls.cert empty) */
	struct ip_counts *ips;      /* this protocol's open connections per client address */
	struct service_port *ports[SERVICE_PORTS_MAX]; /* those given to service_port_listen */
	size_t port_count;
	struct service_link *sessions;
	int connections;
	int timeout;
	int max_connections;
	int max_connections_per_ip;
	bool stopping;              /* shutting down: read no more commands */
	void (*free_session)(struct service_link *l); /* the protocol's, for service_host_free */
};

void service_host_init(struct service_host *h, const char *protocol, struct event_base *base,
		       void (*free_session)(struct service_link *l));
/* (Re)reads the settings; also on SIGHUP. */
void service_host_configure(struct service_host *h, const struct config *cfg, SSL_CTX *tls);
/* Binds the port named by port_setting for p (see service_listen) and keeps p among the
 * host's ports. Returns 0, or -1 with *error_r. */
int service_port_listen(struct service_host *h, struct service_port *p, const char *port_setting,
			listener_accept_fn *accept_fn, char **error_r);
/* Stops accepting on every port and reading commands. */
void service_host_stop(struct service_host *h);
/* Frees every session that is still open, and the counts. */
void service_host_free_sessions(struct service_host *h);

enum service_admission {
	SERVICE_ADMITTED,
	SERVICE_TOO_MANY,         /* over <protocol>.max_connections */
	SERVICE_TOO_MANY_FROM_IP, /* over <protocol>.max_connections_per_ip */
};
/* Makes the session's connection (TLS at once on an implicit-TLS port), links the session,
 * counts it and logs the connect line. Over a limit the caller greets with its protocol's
 * refusal and closes. */
struct conn *service_session_open(struct service_host *h, struct service_link *l,
				  const struct service_port *p, int fd, const struct sockaddr *sa,
				  const struct conn_handler *handler, void *ctx,
				  enum service_admission *admission);
/* Unlinks and uncounts the session and frees its connection. */
void service_session_close(struct service_host *h, struct service_link *l, struct conn **c);
#endif

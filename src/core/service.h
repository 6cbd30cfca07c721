/* What a protocol server (SMTP, POP3, IMAP) has that does not depend on its protocol: its
 * listening ports, its open sessions, the connection limits (in total, per client address,
 * and for sessions that have not logged in yet) and the time bounds. The settings are
 * "<protocol>." + "timeout", "command_timeout", "login_timeout", "max_connections",
 * "max_connections_per_ip" and "max_login_connections". A server embeds a struct
 * service_host; each session starts with a struct service_link (its first member, so the
 * host's list leads back to it).
 *
 * Logging in happens after accept, so a share of the slots cannot be kept by refusing
 * connections at accept. As Dovecot's login processes do when they are full, a new
 * connection past max_login_connections makes room by dropping the oldest session still
 * logging in (with the protocol's temporary error); sessions that logged in are never
 * dropped and may use every slot up to max_connections. Each session must log in within
 * login_timeout, so the oldest are also the ones nearest to it. */
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
	struct conn *conn;          /* the session's connection (the session owns it) */
	bool logging_in;            /* counted in the host's logging_in */
};

enum service_admission {
	SERVICE_ADMITTED,
	SERVICE_TOO_MANY,         /* over <protocol>.max_connections, or dropped to make room */
	SERVICE_TOO_MANY_FROM_IP, /* over <protocol>.max_connections_per_ip */
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
	int logging_in;             /* sessions that have not logged in yet */
	int timeout;
	int command_timeout;
	int login_timeout;
	int max_connections;
	int max_connections_per_ip;
	int max_login_connections;
	bool stopping;              /* shutting down: read no more commands */
	void (*free_session)(struct service_link *l); /* the protocol's, for service_host_free */
	/* The protocol's: answers with its temporary error for why and closes the session. */
	void (*refuse_session)(struct service_link *l, enum service_admission why);
};

void service_host_init(struct service_host *h, const char *protocol, struct event_base *base,
		       void (*free_session)(struct service_link *l),
		       void (*refuse_session)(struct service_link *l, enum service_admission why));
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

/* Makes the session's connection (TLS at once on an implicit-TLS port) with the host's time
 * bounds, links the session, counts it and logs the connect line. Over a limit the caller
 * greets with its protocol's refusal and closes. An admitted session is logging in: it must
 * call service_session_logged_in within login_timeout, or its on_timeout runs; past
 * max_login_connections the oldest session logging in is refused (refuse_session) first. */
struct conn *service_session_open(struct service_host *h, struct service_link *l,
				  const struct service_port *p, int fd, const struct sockaddr *sa,
				  const struct conn_handler *handler, void *ctx,
				  enum service_admission *admission);
/* The session has logged in (SMTP: authenticated, or on port 25 began a mail transaction):
 * no more login deadline, and no more counted against max_login_connections. */
void service_session_logged_in(struct service_host *h, struct service_link *l);
/* Unlinks and uncounts the session and frees its connection. */
void service_session_close(struct service_host *h, struct service_link *l, struct conn **c);
#endif

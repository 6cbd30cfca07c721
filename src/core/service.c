/* The protocol-independent part of a server; see service.h. */
#include "core/service.h"
#include "core/log.h"
#include <stdio.h>

void service_host_init(struct service_host *h, const char *protocol, struct event_base *base,
		       void (*free_session)(struct service_link *l),
		       void (*refuse_session)(struct service_link *l, enum service_admission why))
{
	h->protocol = protocol;
	h->base = base;
	h->ips = ip_counts_new();
	h->free_session = free_session;
	h->refuse_session = refuse_session;
}

static int setting(const struct service_host *h, const char *name)
{
	char key[64];
	snprintf(key, sizeof(key), "%s.%s", h->protocol, name);
	return (int)config_int(h->cfg, key);
}

void service_host_configure(struct service_host *h, const struct config *cfg, SSL_CTX *tls)
{
	h->cfg = cfg;
	h->tls = tls;
	h->hostname = config_hostname(cfg);
	h->timeout = setting(h, "timeout");
	h->command_timeout = setting(h, "command_timeout");
	h->login_timeout = setting(h, "login_timeout");
	h->max_connections = setting(h, "max_connections");
	h->max_connections_per_ip = setting(h, "max_connections_per_ip");
	h->max_login_connections = setting(h, "max_login_connections");
}

int service_port_listen(struct service_host *h, struct service_port *p, const char *port_setting,
			listener_accept_fn *accept_fn, char **error_r)
{
	if (h->port_count < SERVICE_PORTS_MAX)
		h->ports[h->port_count++] = p;
	return service_listen(h->base, h->cfg, p->name, port_setting, p->implicit_tls, h->tls,
			      accept_fn, p, &p->listeners, &p->listener_count, error_r);
}

void service_host_stop(struct service_host *h)
{
	h->stopping = true;
	for (size_t i = 0; i < h->port_count; i++)
		listeners_free(&h->ports[i]->listeners, &h->ports[i]->listener_count);
}

void service_host_free_sessions(struct service_host *h)
{
	while (h->sessions != NULL)
		h->free_session(h->sessions);
	ip_counts_free(&h->ips);
}

static void stop_logging_in(struct service_host *h, struct service_link *l)
{
	if (!l->logging_in)
		return;
	l->logging_in = false;
	h->logging_in--;
}

/* Past the share of sessions logging in: the oldest of them (the list runs newest first)
 * goes, unless it waits for our own work (a password check), which ends its login soon. */
static void make_room(struct service_host *h, struct service_link *keep)
{
	struct service_link *oldest = NULL;
	for (struct service_link *l = h->sessions; l != NULL; l = l->next)
		if (l != keep && l->logging_in && !conn_is_paused(l->conn))
			oldest = l;
	if (oldest == NULL)
		return;
	stop_logging_in(h, oldest);
	log_info("session=%s %s dropped reason=login-share max_login_connections=%d",
		 conn_id(oldest->conn), h->protocol, h->max_login_connections);
	h->refuse_session(oldest, SERVICE_TOO_MANY);
}

struct conn *service_session_open(struct service_host *h, struct service_link *l,
				  const struct service_port *p, int fd, const struct sockaddr *sa,
				  const struct conn_handler *handler, void *ctx,
				  enum service_admission *admission)
{
	l->prev = NULL;
	l->next = h->sessions;
	if (l->next != NULL)
		l->next->prev = l;
	h->sessions = l;
	struct conn *c = conn_new(h->base, fd, sa, p->implicit_tls ? h->tls : NULL, handler, ctx);
	l->conn = c;
	l->logging_in = false;
	conn_set_timeout(c, h->timeout);
	conn_set_command_timeout(c, h->command_timeout);
	h->connections++;
	int from_ip = ip_counts_add(h->ips, conn_peer_ip(c));
	log_info("session=%s %s connect service=%s ip=%s%s", conn_id(c), h->protocol, p->name,
		 conn_peer_ip(c), p->implicit_tls ? " tls=yes" : "");
	if (h->connections > h->max_connections)
		*admission = SERVICE_TOO_MANY;
	else if (from_ip > h->max_connections_per_ip)
		*admission = SERVICE_TOO_MANY_FROM_IP;
	else
		*admission = SERVICE_ADMITTED;
	if (*admission == SERVICE_ADMITTED) {
		l->logging_in = true;
		h->logging_in++;
		conn_set_deadline(c, h->login_timeout);
		if (h->logging_in > h->max_login_connections)
			make_room(h, l);
	}
	return c;
}

void service_session_logged_in(struct service_host *h, struct service_link *l)
{
	stop_logging_in(h, l);
	conn_set_deadline(l->conn, 0);
}

void service_session_close(struct service_host *h, struct service_link *l, struct conn **c)
{
	if (l->prev != NULL)
		l->prev->next = l->next;
	else
		h->sessions = l->next;
	if (l->next != NULL)
		l->next->prev = l->prev;
	ip_counts_remove(h->ips, conn_peer_ip(*c));
	h->connections--;
	stop_logging_in(h, l);
	conn_free(c);
}

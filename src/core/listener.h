/* Listening sockets: bound at start (while still root, for ports below 1024), accepting on the
 * event loop. */
#ifndef ESTAFETA_LISTENER_H
#define ESTAFETA_LISTENER_H
#include "core/config.h"
#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct listener;
typedef void listener_accept_fn(int fd, const struct sockaddr *sa, void *arg);

/* Binds addr:port (IPv4 or IPv6 literal) and calls accept_fn for each connection. NULL with
 * *error_r when the address cannot be bound. */
struct listener *listener_new(struct event_base *base, const char *addr, int port,
			      listener_accept_fn *accept_fn, void *arg, char **error_r);
void listener_free(struct listener **l);

/* A service's listeners: binds port on every address of addresses (separated by commas or
 * spaces, as the "listen" setting is) and appends them to *list, logging each under the
 * service's name. Returns 0, or -1 with *error_r (those bound so far stay in *list). */
int listeners_bind(struct event_base *base, const char *service, const char *addresses, int port,
		   listener_accept_fn *accept_fn, void *arg, struct listener ***list,
		   size_t *count, char **error_r);
/* A service as the settings name it: binds the port of setting port_setting (0: the service
 * is off) on every address of the "listen" setting. A service with implicit TLS and no
 * certificate (tls NULL) is an error: it never serves plaintext. Returns 0, or -1 with
 * *error_r. */
int service_listen(struct event_base *base, const struct config *cfg, const char *service,
		   const char *port_setting, bool implicit_tls, const void *tls,
		   listener_accept_fn *accept_fn, void *arg, struct listener ***list,
		   size_t *count, char **error_r);
/* Frees every listener of *list and the list. */
void listeners_free(struct listener ***list, size_t *count);
#endif

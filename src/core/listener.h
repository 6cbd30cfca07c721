/* Listening sockets: bound at start (while still root, for ports below 1024), accepting on the
 * event loop, and a count of open connections per client address for the services' limits. */
#ifndef ESTAFETA_LISTENER_H
#define ESTAFETA_LISTENER_H
#include <event2/event.h>
#include <sys/socket.h>

struct listener;
typedef void listener_accept_fn(int fd, const struct sockaddr *sa, void *arg);

/* Binds addr:port (IPv4 or IPv6 literal) and calls accept_fn for each connection. NULL with
 * *error_r when the address cannot be bound. */
struct listener *listener_new(struct event_base *base, const char *addr, int port,
			      listener_accept_fn *accept_fn, void *arg, char **error_r);
void listener_free(struct listener **l);

/* Per-address connection counts, shared by every service. */
struct ip_counts;
struct ip_counts *ip_counts_new(void);
void ip_counts_free(struct ip_counts **ic);
/* Adds one for ip and returns the new count. */
int ip_counts_add(struct ip_counts *ic, const char *ip);
void ip_counts_remove(struct ip_counts *ic, const char *ip);
#endif

/* Finding a domain's mail servers when the user names only an address: RFC 6186 SRV records
 * (_imaps._tcp before _imap._tcp, _submissions._tcp before _submission._tcp, as RFC 8314 5.1
 * prefers implicit TLS), then the names providers commonly use (imap.DOMAIN, mail.DOMAIN;
 * smtp.DOMAIN, mail.DOMAIN). SRV lookups go through c-ares, to the system's resolvers or
 * those the user names. */
#ifndef ESTAFETA_MUA_DISCOVER_H
#define ESTAFETA_MUA_DISCOVER_H
#include <stdbool.h>

enum discover_service { DISCOVER_IMAP, DISCOVER_SUBMISSION };

/* Sets *host_r (allocated), *port_r and *implicit_tls_r for the service of domain.
 * resolvers: "ip[:port],..." or NULL/"" for /etc/resolv.conf. 0, or -1 with *error_r. */
int discover(const char *domain, enum discover_service service, const char *resolvers,
	     char **host_r, int *port_r, bool *implicit_tls_r, char **error_r);
#endif

/* Routing for outbound mail: where the mail for a domain goes (RFC 5321 5.1), looked up with
 * the shared resolver (core/dns.h). MX records in order of preference, random order among
 * equal ones; each MX host's A and AAAA; the domain's own A/AAAA when it has no MX (the
 * implicit MX); a null MX (RFC 7505) means the domain accepts no mail. */
#ifndef ESTAFETA_MX_ROUTE_H
#define ESTAFETA_MX_ROUTE_H
#include "core/dns.h"
#include <sys/socket.h>

/* One address to try, in order. */
struct dns_target {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char host[256]; /* the MX host name (or the domain for the implicit MX) */
};

/* Called once on the loop thread with DNS_OK, DNS_NO_DOMAIN (permanent, 5.1.2), DNS_NULL_MX
 * (5.1.10) or DNS_TEMPFAIL (4.4.3, also when no host has an address). targets is valid only
 * during the call; error says what failed when status is not DNS_OK. */
typedef void dns_route_fn(enum dns_status status, const struct dns_target *targets, size_t count,
			  const char *error, void *arg);

/* Finds where mail for domain goes; every target gets the given port. With mx false the
 * domain is taken as the host itself (a relayhost in brackets: A/AAAA only, no MX). */
void dns_route(struct dns *d, const char *domain, int port, int mx, dns_route_fn *cb, void *arg);
#endif

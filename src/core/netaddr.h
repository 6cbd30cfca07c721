/* Client addresses as the login limits see them: networks in CIDR notation (the
 * auth.trusted_networks setting) and the group an address is counted in (an IPv4 address
 * alone, an IPv6 address by its /64, the smallest network a site is given, so that one
 * host cannot escape a limit by hopping through its 2^64 addresses). Pure functions. */
#ifndef ESTAFETA_NETADDR_H
#define ESTAFETA_NETADDR_H
#include <stdbool.h>
#include <stddef.h>

/* A network: IPv4 ones are kept as IPv4-mapped IPv6 (::ffff:a.b.c.d/96+n), so one
 * comparison serves both families and a mapped client address matches an IPv4 network. */
struct netaddr_net {
	unsigned char addr[16];
	int bits;
};

/* Parses a list of networks separated by commas or spaces: "192.0.2.0/24, 2001:db8::/32,
 * 198.51.100.7" (an address alone is a network of one). Returns how many (0 for an empty
 * list) with an allocated *nets_r (NULL when none), or -1 with *error_r naming the entry
 * that is not a network. Host bits set under the prefix are an error, as a likely typo. */
int netaddr_networks_parse(const char *list, struct netaddr_net **nets_r, char **error_r);
/* True when the address text ip lies in one of the n networks. */
bool netaddr_networks_contain(const struct netaddr_net *nets, size_t n, const char *ip);

/* The longest group text: an IPv6 address and "/64". */
#define NETADDR_GROUP_MAX 50
/* The group ip is counted in: "192.0.2.7" for IPv4 (IPv4-mapped IPv6 included),
 * "2001:db8:1:2::/64" for IPv6. Also accepts such a "/64" text itself (what
 * `estafeta auth blocked` prints). False when ip is neither. */
bool netaddr_group(const char *ip, char out[NETADDR_GROUP_MAX]);
#endif

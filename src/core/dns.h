/* The resolver every part shares: c-ares on the event loop, never blocking it. One query
 * answers with the raw DNS message (for the record types a caller parses itself) or, for TXT,
 * with each record's strings joined (RFC 7208 3.3, RFC 6376 3.6.2.2), or with the names of
 * an address's PTR records, with the A or the AAAA addresses of a name, or with the exchanges
 * of its MX records. Routing outbound mail
 * (MX, A, AAAA) is built on it in queue/mx_route.c. */
#ifndef ESTAFETA_DNS_H
#define ESTAFETA_DNS_H
#include <ares.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>

struct dns;

enum dns_status {
	DNS_OK,
	DNS_NO_DOMAIN, /* NXDOMAIN */
	DNS_NO_DATA,   /* the name exists, without records of the type asked */
	DNS_NULL_MX,   /* RFC 7505: the domain accepts no mail (5.1.10) */
	DNS_TEMPFAIL,  /* server failure, timeout, shutdown: try again */
};

/* resolvers: comma-separated IP or IP:port ("[v6]:port"), or "" for /etc/resolv.conf.
 * NULL with *error_r. */
struct dns *dns_new(struct event_base *base, const char *resolvers, char **error_r);
/* The loop d runs on, for callers that run their own callbacks there later. */
struct event_base *dns_base(struct dns *d);
/* Cancels lookups in progress: their callbacks run with DNS_TEMPFAIL. */
void dns_free(struct dns **d);

/* Called once on the loop thread; answer/len (the whole DNS message) only with DNS_OK and
 * valid only during the call. */
typedef void dns_answer_fn(enum dns_status status, const unsigned char *answer, int len, void *arg);
/* type: ns_t_mx, ns_t_txt, ns_t_ptr, ... of class IN. */
void dns_query(struct dns *d, const char *name, int type, dns_answer_fn *cb, void *arg);

/* The data of the index-th record of type in the answer section of a DNS message (for the
 * types c-ares does not parse: TLSA, CNAME); false when there is none or the message is
 * malformed. *rdata points into answer; names in it may be compressed (ares_expand_name). */
bool dns_answer_rdata(const unsigned char *answer, int len, int type, size_t index,
		      const unsigned char **rdata, int *rdlen);

/* records: each TXT record's strings joined into one, NUL-terminated; valid only during the
 * call. A record holding a NUL is given up to it. */
typedef void dns_txt_fn(enum dns_status status, char *const *records, size_t count, void *arg);
void dns_query_txt(struct dns *d, const char *name, dns_txt_fn *cb, void *arg);

/* The address in ip (text) as 4 or 16 octets, an IPv4-mapped IPv6 address as its IPv4
 * octets; the length, or 0 when ip is no address. */
int dns_address_octets(const char *ip, unsigned char out[16]);

/* The name a PTR query asks for an address in text (RFC 1035 3.5, RFC 3596 2.5):
 * "4.3.2.1.in-addr.arpa", or the 32 nibbles of an IPv6 address in reverse then "ip6.arpa"; an
 * IPv4-mapped IPv6 address gets its IPv4 name. false when ip is no address. */
#define DNS_PTR_NAME_MAX 73
bool dns_ptr_name(const char *ip, char out[DNS_PTR_NAME_MAX]);

/* names: the PTR records of ip, each once (case-insensitive); valid only during the call. An
 * answer without any is DNS_NO_DATA; ip that is no address, DNS_NO_DOMAIN. */
typedef void dns_names_fn(enum dns_status status, char *const *names, size_t count, void *arg);
void dns_query_ptr(struct dns *d, const char *ip, dns_names_fn *cb, void *arg);

/* names: the A records (family AF_INET) or the AAAA records (AF_INET6) of name, each address
 * in text; an answer without any is DNS_NO_DATA. For SPF (RFC 7208 5), which asks for one
 * family only and must tell an empty answer from an error. */
void dns_query_addrs(struct dns *d, const char *name, int family, dns_names_fn *cb, void *arg);

/* names: the exchanges of name's MX records, each once, in the answer's order; a null MX
 * (RFC 7505) gives none and DNS_NULL_MX, an answer without any DNS_NO_DATA. */
void dns_query_mx_names(struct dns *d, const char *name, dns_names_fn *cb, void *arg);

/* The A and AAAA addresses of host (ares_freeaddrinfo frees res; NULL unless DNS_OK). */
typedef void dns_addrinfo_fn(enum dns_status status, struct ares_addrinfo *res, void *arg);
void dns_addresses(struct dns *d, const char *host, dns_addrinfo_fn *cb, void *arg);
/* True when one of res's addresses is ip (an address in text; IPv4-mapped IPv6 addresses
 * compare as their IPv4 address). */
bool dns_addrinfo_has(const struct ares_addrinfo *res, const char *ip);
#endif

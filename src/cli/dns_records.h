/* The DNS records a local domain publishes for this server (estafeta dns records) and, for
 * each, what estafeta dns check compares the DNS with (cli/dns_check.c). Built from the
 * settings, the domain's active DKIM keys and the certificate's key hash, with no I/O. */
#ifndef ESTAFETA_CLI_DNS_RECORDS_H
#define ESTAFETA_CLI_DNS_RECORDS_H
#include "core/config.h"
#include "core/strlist.h"
#include "store/store.h"
#include <stdbool.h>
#include <stdio.h>

#define DNS_RECORD_TTL 3600

enum dns_check_kind {
	CHECK_NONE,    /* a comment alone */
	CHECK_MX,      /* value: the host */
	CHECK_ADDRESS, /* A or AAAA; value: the address, NULL for a placeholder (any address does) */
	CHECK_SPF,     /* value: the text; it should authorize the list's addresses */
	CHECK_DKIM,    /* value: the text; its p= must be published */
	CHECK_DMARC,   /* value: the text; any valid DMARC record does */
	CHECK_STS,     /* value: the policy id */
	CHECK_TLSRPT,  /* value: the text; any TLSRPT record with rua= does */
	CHECK_TLSA,    /* value: "3 1 1 HASH" */
	CHECK_SRV,     /* value: the target host ("." when not offered), port */
	CHECK_CNAME,   /* value: the target host */
	CHECK_CAA,     /* value: the CA's domain */
};

struct dns_record {
	char *comment;   /* what it is for: lines, printed each after "; " */
	char *owner;     /* fully qualified with the trailing dot; NULL for a comment alone */
	const char *type;
	char *data;      /* in zone-file form */
	const char *note; /* a comment at the end of the line, or NULL */
	bool commented;  /* printed as a comment: published, but not for this server to serve */
	enum dns_check_kind check;
	char *value;
	int port;
};

struct dns_records {
	char *domain, *hostname;
	strlist addresses; /* the server's public addresses; none known: placeholders */
	struct dns_record *items;
	size_t count;
};

/* The records of domain: the hostname and the ports from cfg, addresses (public ones, maybe
 * none), keys (the domain's active DKIM keys; a key that cannot be read is left out after
 * saying so), tlsa_hash (the SHA-256 of the certificate's public key, NULL when there is no
 * certificate, cert_problem saying why). */
void dns_records_build(struct dns_records *out, const struct config *cfg, const char *domain,
		       const strlist *addresses, const struct dkim_key_row *keys, size_t key_count,
		       const char *tlsa_hash, const char *cert_problem);
void dns_records_free(struct dns_records *r);
/* Zone-file lines, each record after its comment lines. */
void dns_records_print(const struct dns_records *r, FILE *out);
#endif

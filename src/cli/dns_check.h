/* estafeta dns check: each record of cli/dns_records.h looked up through core/dns.c (on an
 * event base of its own), with one line said for each: "ok", "missing" (and what to publish)
 * or "differs" (what is published and what to publish instead); then the PTR records of the
 * server's addresses and whether they lead back (FCrDNS). */
#ifndef ESTAFETA_CLI_DNS_CHECK_H
#define ESTAFETA_CLI_DNS_CHECK_H
#include "cli/dns_records.h"
#include <stdio.h>

/* resolvers: as dns_new takes them ("" for /etc/resolv.conf). Returns 0 when every record is
 * published as it should be, 1 when one is missing, differs or could not be looked up, 2
 * after saying resolvers cannot be used. */
int dns_check_records(const struct dns_records *recs, const char *resolvers, FILE *out);
#endif

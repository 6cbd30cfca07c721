/* Open connections per client address, one table per protocol (service.c), for the limit on
 * connections from one address. */
#ifndef ESTAFETA_IP_COUNTS_H
#define ESTAFETA_IP_COUNTS_H

struct ip_counts;
struct ip_counts *ip_counts_new(void);
void ip_counts_free(struct ip_counts **ic);
/* Adds one for ip and returns the new count. */
int ip_counts_add(struct ip_counts *ic, const char *ip);
/* Takes one away; the entry goes at zero. */
void ip_counts_remove(struct ip_counts *ic, const char *ip);
#endif

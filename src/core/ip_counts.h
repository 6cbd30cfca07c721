/* Counts per client address: open connections, one table per protocol (service.c), for the
 * limit on connections from one address; ETRN requests in a window (smtp/cmd-etrn.c). */
#ifndef ESTAFETA_IP_COUNTS_H
#define ESTAFETA_IP_COUNTS_H
#include <stddef.h>

struct ip_counts;
struct ip_counts *ip_counts_new(void);
void ip_counts_free(struct ip_counts **ic);
/* Adds one for ip and returns the new count. */
int ip_counts_add(struct ip_counts *ic, const char *ip);
/* Takes one away; the entry goes at zero. */
void ip_counts_remove(struct ip_counts *ic, const char *ip);
/* The count for ip; 0 when there is none. */
int ip_counts_get(const struct ip_counts *ic, const char *ip);
/* How many addresses have an entry. */
size_t ip_counts_size(const struct ip_counts *ic);
#endif

/* Counts per client address: open connections (one table per protocol) and recent failed
 * logins. Each entry also remembers when it was last counted up, so old ones can be expired. */
#ifndef ESTAFETA_IP_COUNTS_H
#define ESTAFETA_IP_COUNTS_H
#include <time.h>

struct ip_counts;
struct ip_counts *ip_counts_new(void);
void ip_counts_free(struct ip_counts **ic);
/* Adds one for ip, stamped now, and returns the new count. */
int ip_counts_add(struct ip_counts *ic, const char *ip, time_t now);
/* Takes one away; the entry goes at zero. */
void ip_counts_remove(struct ip_counts *ic, const char *ip);
/* The count for ip; 0 when there is none. */
int ip_counts_get(const struct ip_counts *ic, const char *ip);
/* Forgets ip. */
void ip_counts_clear(struct ip_counts *ic, const char *ip);
/* Forgets every entry last counted up at or before the given time. */
void ip_counts_expire(struct ip_counts *ic, time_t before);
#endif

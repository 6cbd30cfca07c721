/* Connections per client address; see ip_counts.h. A small chained hash table: the number of
 * distinct addresses at once is bounded by the connection limit. */
#include "core/ip_counts.h"
#include "core/xalloc.h"
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#define IP_BUCKETS 1024

struct ip_entry {
	char ip[INET6_ADDRSTRLEN];
	int count;
	struct ip_entry *next;
};

struct ip_counts {
	struct ip_entry *buckets[IP_BUCKETS];
	size_t entries;
};

static unsigned ip_hash(const char *ip)
{
	unsigned h = 2166136261u;
	for (; *ip; ip++)
		h = (h ^ (unsigned char)*ip) * 16777619u;
	return h % IP_BUCKETS;
}

/* The link that points at ip's entry, or at the NULL that ends its bucket. */
static struct ip_entry **find(const struct ip_counts *ic, const char *ip)
{
	struct ip_entry **p = (struct ip_entry **)&ic->buckets[ip_hash(ip)];
	while (*p != NULL && strcmp((*p)->ip, ip) != 0)
		p = &(*p)->next;
	return p;
}

static void unlink_entry(struct ip_counts *ic, struct ip_entry **p)
{
	struct ip_entry *e = *p;
	ic->entries--;
	*p = e->next;
	free(e);
}

struct ip_counts *ip_counts_new(void)
{
	return xcalloc(1, sizeof(struct ip_counts));
}

void ip_counts_free(struct ip_counts **icp)
{
	struct ip_counts *ic = *icp;
	if (ic == NULL)
		return;
	for (int i = 0; i < IP_BUCKETS; i++)
		while (ic->buckets[i] != NULL)
			unlink_entry(ic, &ic->buckets[i]);
	free(ic);
	*icp = NULL;
}

int ip_counts_add(struct ip_counts *ic, const char *ip)
{
	struct ip_entry **p = find(ic, ip);
	if (*p == NULL) {
		*p = xcalloc(1, sizeof(**p));
		strncpy((*p)->ip, ip, sizeof((*p)->ip) - 1);
		ic->entries++;
	}
	return ++(*p)->count;
}

void ip_counts_remove(struct ip_counts *ic, const char *ip)
{
	struct ip_entry **p = find(ic, ip);
	if (*p != NULL && --(*p)->count == 0)
		unlink_entry(ic, p);
}

int ip_counts_get(const struct ip_counts *ic, const char *ip)
{
	struct ip_entry **p = find(ic, ip);
	return *p != NULL ? (*p)->count : 0;
}

size_t ip_counts_size(const struct ip_counts *ic)
{
	return ic->entries;
}
